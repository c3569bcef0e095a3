/* pd.h: the one public header of libpd, the placement driver's logic (TSO,
 * IDs, cluster map, schedulers). What is not declared here is not API.
 * No sockets, threads or clocks inside: time comes in as arguments and every
 * durable change leaves as an encoded command. See libpd/DESIGN.md.
 */
#ifndef PD_H
#define PD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to libpd/VERSION (the build checks it). */
#define PD_VERSION_MAJOR 0
#define PD_VERSION_MINOR 2
#define PD_VERSION_PATCH 0
#define PD_VERSION_NUMBER \
    (PD_VERSION_MAJOR * 1000000 + PD_VERSION_MINOR * 1000 + PD_VERSION_PATCH)

/* The PD_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int pd_version_number(void);

/* Result codes. 0 is success; -1..-999 are negative errno values (-EINVAL
 * for a bad argument, -ENOMEM when the allocator fails); libpd's own codes
 * are -4000..-4999. X(name, value, message). */
#define PD_ERROR_TABLE(X)                                                    \
    X(PD_EINTERNAL, -4000, "internal error in libpd")                        \
    X(PD_ENOTLEADER, -4001, "this replica is not the pd leader")             \
    X(PD_ENOTREADY, -4002,                                                   \
      "waiting for a save-ahead command to be applied; retry after it is")   \
    X(PD_EDECODE, -4003, "malformed command")                                \
    X(PD_ENOTBOOTSTRAPPED, -4004, "cluster is not bootstrapped")             \
    X(PD_EBOOTSTRAPPED, -4005, "cluster is already bootstrapped")            \
    X(PD_ECLUSTER, -4006, "cluster id does not match")                       \
    X(PD_ESTALE, -4007, "stale region epoch: heartbeat ignored")             \
    X(PD_ENOTFOUND, -4008, "no such store, region or operator")              \
    X(PD_ETOMBSTONE, -4009, "store is a tombstone")                          \
    X(PD_EBUSY, -4010, "region already has an operator")                     \
    X(PD_ESAFEPOINT, -4011, "safe point would move backwards")               \
    X(PD_ENOOP, -4012, "nothing to schedule")                                \
    X(PD_ESTATE, -4013, "transition not allowed from the current state")

enum pd_error {
#define PD__ERROR_ENUM(name, value, text) name = (value),
    PD_ERROR_TABLE(PD__ERROR_ENUM)
#undef PD__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *pd_strerror(int rc);

/* ---------------------------------------------------------------------
 * Allocator hook. Every allocation libpd makes goes through it.
 */
struct pd_heap {
    void *ctx;                                     /* passed to each call */
    void *(*malloc)(void *ctx, size_t size);       /* NULL on failure */
    void *(*realloc)(void *ctx, void *p, size_t size); /* NULL on failure */
    void (*free)(void *ctx, void *p);              /* p may be NULL */
};

/* Replace the allocator (copied); NULL restores libc's. Call it only while
 * no libpd object exists. Not thread-safe. */
void pd_heap_set(const struct pd_heap *heap);

/* ---------------------------------------------------------------------
 * Timestamps: physical milliseconds in the high 46 bits, an 18-bit logical
 * counter below. Strictly increasing across the cluster's life.
 */
typedef uint64_t pd_ts;
#define PD_TS_LOGICAL_BITS 18
#define PD_TS_LOGICAL_LIMIT (UINT32_C(1) << PD_TS_LOGICAL_BITS) /* 262144 */
#define PD_TS_COMPOSE(physical_ms, logical) \
    (((uint64_t)(physical_ms) << PD_TS_LOGICAL_BITS) | (uint64_t)(logical))
#define PD_TS_PHYSICAL(ts) ((uint64_t)(ts) >> PD_TS_LOGICAL_BITS)
#define PD_TS_LOGICAL(ts) \
    ((uint32_t)((ts) & (PD_TS_LOGICAL_LIMIT - 1)))

/* ---------------------------------------------------------------------
 * Storage: where commands go. libpd never changes its replicated state
 * directly; it encodes a command and hands it to propose(). The caller
 * makes it durable (pdd: a libraft proposal, RocksDB underneath) and, once
 * committed, passes the same bytes to pd_apply() on every replica, the
 * proposer included, in log order. Commands that are never committed are
 * simply lost; see DESIGN.md "Commands".
 */
struct pd_storage {
    void *ctx; /* passed to propose */
    /* Copy cmd[0..len) into the log; 0 when accepted, negative otherwise
     * (the call that proposed then fails with that code). */
    int (*propose)(void *ctx, const uint8_t *cmd, size_t len);
};

struct pd;

/* An in-memory log for tests and single-process use: propose appends, and
 * pd_memlog_apply() replays entries into any number of replicas. */
struct pd_memlog;
int pd_memlog_create(struct pd_memlog **out);
void pd_memlog_destroy(struct pd_memlog *log);
/* A storage whose propose appends to log (log borrowed: outlive the pd). */
struct pd_storage pd_memlog_storage(struct pd_memlog *log);
/* Number of entries appended so far. */
size_t pd_memlog_count(const struct pd_memlog *log);
/* Entry i (0-based), borrowed until the log is truncated or destroyed. */
int pd_memlog_entry(const struct pd_memlog *log, size_t i,
                    const uint8_t **cmd, size_t *len);
/* Drop entries from index n on (proposals that never committed). */
void pd_memlog_truncate(struct pd_memlog *log, size_t n);
/* Apply entries [*next, count) to pd in order and advance *next. Each
 * entry's apply result is ignored (a refused command is a deterministic
 * no-op on every replica); returns 0 or the first decode error. */
int pd_memlog_apply(const struct pd_memlog *log, struct pd *pd, size_t *next);

/* ---------------------------------------------------------------------
 * Configuration (copied at create).
 */
#define PD_MAX_LABELS 8            /* labels per store */
#define PD_MAX_LOCATION_LABELS 4   /* levels of location labels */
#define PD_MAX_PEERS 16            /* peers per region */
#define PD_MAX_KEY 4096            /* bytes per region boundary key */
#define PD_MAX_STR 256             /* bytes per address, label, service id */

struct pd_config {
    uint64_t tso_save_window_ms;  /* TSO bound saved ahead of use (3000) */
    uint64_t id_block;            /* IDs saved ahead per block (1000) */
    uint32_t max_replicas;        /* voters per region (3) */
    uint64_t max_store_down_ms;   /* no heartbeat that long = down (30 min) */
    /* Location label names, outermost first (e.g. "zone", "host"); the
     * strings are copied. */
    const char *location_labels[PD_MAX_LOCATION_LABELS];
    uint32_t n_location_labels;   /* used entries of location_labels (0) */
    uint64_t operator_timeout_ms; /* an operator not done by then fails (10 min) */
    uint32_t leader_tolerance;    /* balance-leader acts above this gap (1) */
    uint64_t region_tolerance;    /* balance-region acts above this gap in bytes (0: 2 x region_max_size / 16) */
    uint64_t region_max_size;     /* bytes a region may reach (144 MiB) */
    uint64_t merge_max_size;      /* regions below this merge (20 MiB) */
    uint64_t merge_max_keys;      /* ... and below this many keys (200000) */
    uint32_t low_space_percent;   /* no new replicas on a store with less free (20) */
};

/* Fill cfg with the defaults above. */
void pd_config_default(struct pd_config *cfg);

/* ---------------------------------------------------------------------
 * The placement driver state machine. One per pdd replica. Not
 * thread-safe: the caller serialises every call on one pd.
 */
struct pd;

/* Create an empty replica (not leader). cfg NULL means defaults; storage is
 * copied. */
int pd_create(const struct pd_config *cfg, const struct pd_storage *storage,
              struct pd **out);
void pd_destroy(struct pd *pd);
/* The last error's detail, "" when none; borrowed until the next call. */
const char *pd_errmsg(const struct pd *pd);

/* Apply one committed command. Returns 0 when it changed the state, a
 * negative code when it was refused (the same on every replica, e.g.
 * PD_ESTALE, PD_EBOOTSTRAPPED) or PD_EDECODE when malformed; a refused
 * command changes nothing. -ENOMEM leaves the state unchanged. */
int pd_apply(struct pd *pd, const uint8_t *cmd, size_t len);

/* Leadership. Call pd_become_leader only after applying every committed
 * command (pdd: once the entry of the new term has applied). It proposes
 * the first TSO and ID saves; nothing is served until they apply. wall_ms is
 * the wall clock, mono_ms a monotonic clock (both milliseconds). */
int pd_become_leader(struct pd *pd, uint64_t wall_ms, uint64_t mono_ms);
void pd_become_follower(struct pd *pd);
bool pd_is_leader(const struct pd *pd);

/* ---------------------------------------------------------------------
 * TSO (tso.c). count timestamps first, first+1, ..., first+count-1, all of
 * one physical millisecond; 1 <= count <= PD_TS_LOGICAL_LIMIT. PD_ENOTREADY
 * while the saved window does not cover what would be handed out (a save is
 * then in flight: retry after the next apply).
 */
int pd_tso_get(struct pd *pd, uint64_t wall_ms, uint32_t count, pd_ts *first);
/* Call often (pdd: every 50 ms): moves the physical part to the wall clock
 * within the saved window and proposes the next save before it runs out. */
int pd_tso_tick(struct pd *pd, uint64_t wall_ms);
/* The saved upper bound (physical ms) as applied; 0 before the first save. */
uint64_t pd_tso_saved(const struct pd *pd);

/* ---------------------------------------------------------------------
 * IDs (id.c) for stores, regions, peers and tables: count fresh ids first,
 * ..., first+count-1, never handed out before, even across failover.
 * PD_ENOTREADY while the saved block does not cover them.
 */
int pd_id_alloc(struct pd *pd, uint32_t count, uint64_t *first);
/* Highest id that may have been handed out (the saved block end). */
uint64_t pd_id_saved(const struct pd *pd);

#ifdef __cplusplus
}
#endif

#endif /* PD_H */

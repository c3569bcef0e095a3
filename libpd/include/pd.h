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
#define PD_VERSION_MINOR 17
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
    X(PD_ESTATE, -4013, "transition not allowed from the current state")   \
    X(PD_EVERSION, -4014, "store version below the cluster version")

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
/* Physical milliseconds must stay below this (46 bits: year 4199); a wall
 * clock beyond it minus the save window is refused with -EINVAL. */
#define PD_TS_PHYSICAL_LIMIT (UINT64_C(1) << (64 - PD_TS_LOGICAL_BITS))
/* Saved id block ends stay below this. */
#define PD_ID_LIMIT (UINT64_C(1) << 62)

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
     * (the call that proposed then fails with that code). Called from
     * inside libpd calls: it must not call back into the same pd. */
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
 * no-op on every replica); returns 0, or PD_EDECODE / -ENOMEM for the
 * entry at *next (not applied: -ENOMEM may be retried). */
int pd_memlog_apply(const struct pd_memlog *log, struct pd *pd, size_t *next);

/* ---------------------------------------------------------------------
 * Configuration (copied at create).
 */
#define PD_MAX_LABELS 8            /* labels per store */
#define PD_MAX_LOCATION_LABELS 4   /* levels of location labels */
#define PD_MAX_PEERS 16            /* peers per region */
#define PD_MAX_KEY 4096            /* bytes per region boundary key */
#define PD_MAX_STR 256             /* bytes per address, label, service id */

/* Log levels; a message is passed to the logger when its level is at least
 * the configured one. */
enum pd_log_level {
    PD_LOG_DEBUG = 0, /* stale heartbeats, refused commands */
    PD_LOG_INFO = 1,  /* leadership, operators created and finished */
    PD_LOG_WARN = 2,  /* operators timed out */
    PD_LOG_ERROR = 3  /* failed proposals */
};
/* msg is borrowed for the call. Called from inside libpd calls: it must
 * not call back into the same pd. */
typedef void (*pd_logger_fn)(void *ctx, int level, const char *msg);

struct pd_config {
    uint64_t tso_save_window_ms;  /* TSO bound saved ahead of use (3000) */
    uint64_t id_block;            /* IDs saved ahead per block (1000) */
    uint32_t max_replicas;        /* voters per region (3) */
    uint64_t max_store_down_ms;   /* no heartbeat that long = down (30 min) */
    /* Location label names, outermost first (e.g. "zone", "host"); the
     * strings are copied. */
    const char *location_labels[PD_MAX_LOCATION_LABELS];
    uint32_t n_location_labels;   /* used entries of location_labels (0) */
    uint64_t operator_timeout_ms; /* operators fail after this (10 min) */
    uint32_t leader_tolerance;    /* balance-leader acts above this gap (1) */
    uint64_t region_tolerance;    /* balance-region: gap to act, bytes (0) */
    uint64_t region_max_size;     /* bytes a region may reach (144 MiB) */
    uint64_t merge_max_size;      /* regions below this merge (20 MiB,
                                   * as PD; 0: merge off) */
    uint64_t merge_max_keys;      /* ... and below this many keys
                                   * (200000, as PD; 0: merge off) */
    uint32_t low_space_percent;   /* no new replica below this % free (20) */
    /* No merge within this long of a region's split or merge, nor of a
     * leader change (1 h; 0: no wait): stops split/merge ping-pong. */
    uint64_t split_merge_interval_ms;
    uint32_t store_limit;         /* running operators adding a replica
                                   * to one store, at most (8; 0: none) */
    uint32_t leader_schedule_limit; /* balance-leader operators running at
                                     * once, at most (16; 1..1024) */
    pd_logger_fn logger;          /* NULL: no logging (per process) */
    void *logger_ctx;             /* passed to logger */
    int log_level;                /* lowest level logged (PD_LOG_INFO) */
};

/* Fill cfg with the defaults above. */
void pd_config_default(struct pd_config *cfg);

struct pd;
/* Change the scheduling part of the config on every replica (pdctl config
 * set; leader only): every field but tso_save_window_ms and id_block, which
 * stay per process. Proposed as a command; takes effect when it applies and
 * survives failover and snapshots. -EINVAL for a bad value. */
int pd_config_set(struct pd *pd, const struct pd_config *cfg);
/* The config in force (label strings borrowed until the next apply). */
void pd_config_get(const struct pd *pd, struct pd_config *out);

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

/* Snapshots (snapshot.c) for log compaction: the replicated state as a
 * sequence of commands, each prefixed by its length (4 bytes, big-endian).
 * *out is handed over: release it with pd_free. */
int pd_snapshot(const struct pd *pd, uint8_t **out, size_t *len);
/* Replace this replica's replicated state by a snapshot's (it becomes a
 * follower). On error the state is partial: destroy the replica. */
int pd_restore(struct pd *pd, const uint8_t *snap, size_t len);
/* Free memory libpd handed over. */
void pd_free(void *p);

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

/* ---------------------------------------------------------------------
 * Cluster: bootstrap and the store registry (cluster.c). Strings and keys
 * passed in are copied; those handed out in *_info structs are borrowed
 * until the next pd_apply on that replica.
 */
enum pd_store_state {
    PD_STORE_UP = 0,        /* serving (persisted) */
    PD_STORE_OFFLINE = 1,   /* being drained before removal (persisted) */
    PD_STORE_TOMBSTONE = 2, /* removed for good (persisted, terminal) */
    PD_STORE_DOWN = 3       /* derived: up, but silent > max_store_down_ms */
};

struct pd_label {
    const char *key;   /* e.g. "zone"; 1..PD_MAX_STR bytes */
    const char *value; /* e.g. "z1"; 0..PD_MAX_STR bytes */
};

struct pd_store {
    uint64_t id;          /* store id, nonzero */
    const char *address;  /* "host:port", 1..PD_MAX_STR bytes */
    int state;            /* enum pd_store_state (input: ignored) */
    uint32_t n_labels;    /* used entries of labels */
    struct pd_label labels[PD_MAX_LABELS]; /* distinct keys */
    /* The libmvcc version the store runs, as MVCC_VERSION_NUMBER
     * (major * 1000000 + minor * 1000 + patch); 0 unknown (a store
     * registered before versions, or a tool such as pdctl). See
     * DESIGN.md "Store versions". */
    uint32_t version;
    /* The libregion version it runs, REGION_VERSION_NUMBER (same form);
     * 0 unknown. Since libpd 0.17. */
    uint32_t region_version;
};

/* What a store reports in each heartbeat. */
struct pd_store_stats {
    uint64_t capacity;     /* bytes of its disk */
    uint64_t available;    /* bytes free */
    uint32_t region_count; /* regions it holds peers of */
    uint32_t leader_count; /* regions it leads */
    bool update_labels;    /* the labels below replace the stored ones */
    uint32_t n_labels;     /* used entries of labels */
    struct pd_label labels[PD_MAX_LABELS]; /* new labels (update_labels) */
};

struct pd_store_info {
    struct pd_store store;       /* as registered; state as persisted */
    int state;                   /* effective: PD_STORE_DOWN when silent */
    bool has_heartbeat;          /* a heartbeat arrived in this leadership */
    uint64_t last_heartbeat_ms;  /* mono_ms of it (leader only) */
    struct pd_store_stats stats; /* last heartbeat (labels not filled) */
    uint32_t map_regions;        /* regions in the map with a peer here */
    uint32_t map_leaders;        /* regions in the map led from here */
    uint64_t map_size;           /* sum of their approximate sizes */
};

/* Bootstrap (leader only): the cluster id, the first store and the first
 * region, which must span the whole key space with a peer on that store.
 * PD_EBOOTSTRAPPED when done already. */
struct pd_region;
int pd_bootstrap(struct pd *pd, uint64_t cluster_id,
                 const struct pd_store *store, const struct pd_region *region);
bool pd_is_bootstrapped(const struct pd *pd);
uint64_t pd_cluster_id(const struct pd *pd);
/* The cluster version (DESIGN.md "Store versions"): the lowest version of
 * the stores that are not tombstones, as applied; it only rises, and a
 * store below it is refused (PD_EVERSION). 0 before any store has one. */
uint32_t pd_cluster_version(const struct pd *pd);
/* The same of the stores' libregion versions (struct pd_store's
 * region_version): a feature of libregion's log format is safe to use once
 * this is at its version. */
uint32_t pd_cluster_region_version(const struct pd *pd);
/* 0 when cluster_id is this cluster's, else PD_ECLUSTER (or
 * PD_ENOTBOOTSTRAPPED): pdd checks every request header with it. */
int pd_check_cluster(struct pd *pd, uint64_t cluster_id);

/* Register a store or update its address, labels and version (leader
 * only). PD_ETOMBSTONE for a removed store; -EEXIST when another live
 * store has that address; PD_EVERSION when its version is below the
 * cluster version (the store must be upgraded before it may join). */
int pd_store_put(struct pd *pd, const struct pd_store *store);
/* Move a store: UP -> OFFLINE, OFFLINE -> UP, OFFLINE -> TOMBSTONE (only
 * once no region in the map has a peer on it: PD_EBUSY otherwise). Other
 * transitions: PD_ESTATE. Leader only. */
int pd_store_set_state(struct pd *pd, uint64_t store_id, int state);
/* A store heartbeat (leader only); PD_ENOTFOUND for an unknown store,
 * PD_ETOMBSTONE for a removed one. */
int pd_store_heartbeat(struct pd *pd, uint64_t mono_ms, uint64_t store_id,
                       const struct pd_store_stats *stats);
int pd_store_get(struct pd *pd, uint64_t mono_ms, uint64_t store_id,
                 struct pd_store_info *out);
size_t pd_store_count(const struct pd *pd);
/* The i-th store in id order. */
int pd_store_at(struct pd *pd, uint64_t mono_ms, size_t i,
                struct pd_store_info *out);

/* ---------------------------------------------------------------------
 * Regions (region.c): the map of key ranges, kept from heartbeats.
 * Key ranges are [start, end); an empty start is -inf, an empty end +inf.
 */
struct pd_peer {
    uint64_t id;       /* peer id, nonzero */
    uint64_t store_id; /* store holding it, nonzero, distinct per region */
    bool learner;      /* a non-voting learner */
};

struct pd_region {
    uint64_t id;              /* region id, nonzero */
    const uint8_t *start_key; /* first key (0..PD_MAX_KEY bytes) */
    size_t start_len;         /* bytes of start_key */
    const uint8_t *end_key;   /* end, exclusive (0..PD_MAX_KEY bytes) */
    size_t end_len;           /* bytes of end_key */
    uint64_t conf_ver;        /* epoch: bumped by membership changes */
    uint64_t version;         /* epoch: bumped by split and merge */
    uint32_t n_peers;         /* used entries of peers, 1..PD_MAX_PEERS */
    struct pd_peer peers[PD_MAX_PEERS]; /* the replicas */
};

struct pd_region_info {
    struct pd_region region;  /* meta */
    uint64_t leader_peer_id;  /* its leader peer; 0 unknown */
    uint64_t term;            /* the leader's Raft term (heartbeats; 0:
                                 unknown, not checked) */
    uint64_t approx_size;     /* bytes, approximate */
    uint64_t approx_keys;     /* keys, approximate */
    uint32_t n_down_peers;    /* used entries of down_peer_ids */
    uint64_t down_peer_ids[PD_MAX_PEERS]; /* peers the leader has not heard
                                             from for long (kvd's view;
                                             leader memory only) */
};

/* One thing a region leader must do next (operators, see below). */
enum pd_step_kind {
    PD_STEP_NONE = 0,            /* nothing */
    PD_STEP_ADD_PEER = 1,        /* add a voter peer_id on store_id */
    PD_STEP_ADD_LEARNER = 2,     /* add a learner peer_id on store_id */
    PD_STEP_PROMOTE_LEARNER = 3, /* make the learner on store_id a voter */
    PD_STEP_REMOVE_PEER = 4,     /* remove the peer on store_id */
    PD_STEP_TRANSFER_LEADER = 5, /* hand leadership to the peer on store_id */
    PD_STEP_SPLIT = 6,           /* split in two halves (kvd picks the key) */
    PD_STEP_MERGE = 7            /* merge this region into target_region_id */
};

struct pd_step {
    int kind;                   /* enum pd_step_kind */
    uint64_t store_id;          /* the store concerned */
    uint64_t peer_id;           /* the peer concerned (adds: the new one) */
    uint64_t target_region_id;  /* MERGE: the region absorbing this one */
};

/* A region heartbeat from its leader (leader only). A heartbeat whose
 * epoch is older than the map's for that id, or than a region it overlaps,
 * is ignored: PD_ESTALE. A changed region (new, split, merged, membership)
 * is proposed as a PUT_REGION; overlapped regions are removed when it
 * applies. *step (may be NULL) receives what the region must do next for
 * its operator, or PD_STEP_NONE. */
int pd_region_heartbeat(struct pd *pd, uint64_t mono_ms,
                        const struct pd_region_info *hb, struct pd_step *step);
/* Lookups (any replica): PD_ENOTFOUND when no region covers it. */
int pd_region_by_key(const struct pd *pd, const uint8_t *key, size_t len,
                     struct pd_region_info *out);
int pd_region_by_id(const struct pd *pd, uint64_t id,
                    struct pd_region_info *out);
/* Regions meeting [start, end) in key order (empty end: to +inf), at most
 * limit of them (0: no limit) into out[0..*n). */
int pd_region_scan(const struct pd *pd, const uint8_t *start,
                   size_t start_len, const uint8_t *end, size_t end_len,
                   size_t limit, struct pd_region_info *out, size_t *n);
size_t pd_region_count(const struct pd *pd);
/* AskSplit (leader only): fresh ids for the new region of a split of
 * region_id: *new_region_id, and one new peer id per peer of the region, in
 * its peer order, into peer_ids[0..*n_peers) (room for PD_MAX_PEERS).
 * The split itself reaches the map through the two halves' heartbeats
 * (ReportSplit is two pd_region_heartbeat calls). */
int pd_ask_split(struct pd *pd, uint64_t region_id, uint64_t *new_region_id,
                 uint64_t *peer_ids, uint32_t *n_peers);

/* ---------------------------------------------------------------------
 * GC safe points (gc.c). Versions older than the GC safe point may be
 * collected; services (backup, CDC, ...) hold it back with their own safe
 * points, each with a TTL. Neither ever moves backwards. pdd answers these
 * calls once the proposed command has applied.
 */
uint64_t pd_gc_safe_point(const struct pd *pd);
/* Move the GC safe point toward sp, but not past the lowest live service
 * safe point at wall_ms. *result gets the value it will take (the current
 * one, with nothing proposed, when that is not higher). Leader only. */
int pd_gc_safe_point_update(struct pd *pd, uint64_t wall_ms, uint64_t sp,
                            uint64_t *result);
/* Set service's safe point to sp until wall_ms + ttl_ms (ttl_ms 0 removes
 * the service; UINT64_MAX never expires). PD_ESAFEPOINT when sp is below
 * the GC safe point or below the service's current one. *min_out gets the
 * lowest live service safe point once it applies, computed over the
 * applied state plus this update (UINT64_MAX: none). */
int pd_service_safe_point_update(struct pd *pd, uint64_t wall_ms,
                                 const char *service, uint64_t ttl_ms,
                                 uint64_t sp, uint64_t *min_out);
/* The lowest safe point of the services alive at wall_ms, UINT64_MAX when
 * none; *service (may be NULL) gets its id (borrowed until next apply). */
uint64_t pd_service_safe_point_min(const struct pd *pd, uint64_t wall_ms,
                                   const char **service);

/* ---------------------------------------------------------------------
 * Operators (operator.c): what the leader asks one region to do, step by
 * step. At most one per region (a merge occupies both regions). Steps are
 * handed out in region heartbeat replies and checked off when a heartbeat
 * shows them done; an operator not done within operator_timeout_ms fails.
 * Operators are leader memory: a new leader starts with none.
 */
#define PD_MAX_STEPS 4

enum pd_op_status {
    PD_OP_RUNNING = 0,  /* steps remain */
    PD_OP_SUCCESS = 1,  /* every step seen done */
    PD_OP_TIMEOUT = 2,  /* not done in operator_timeout_ms */
    PD_OP_CANCELED = 3  /* removed, or its region vanished */
};

struct pd_operator {
    uint64_t region_id;               /* the region it acts on */
    char desc[32];                    /* what made it, e.g. "balance-leader" */
    uint32_t n_steps;                 /* used entries of steps, 1..4 */
    struct pd_step steps[PD_MAX_STEPS]; /* in order */
    uint32_t current;                 /* index of the step in progress */
    uint64_t created_ms;              /* mono ms when added */
    uint64_t conf_ver;                /* region epoch when added */
    uint64_t version;                 /* region epoch when added */
    int status;                       /* enum pd_op_status */
};

struct pd_operator_stats {
    uint64_t added;     /* operators added */
    uint64_t succeeded; /* finished with every step done */
    uint64_t timed_out; /* failed by timeout */
    uint64_t canceled;  /* removed or region vanished */
};

/* Add op (copied; desc, region_id, n_steps, steps are read, the rest is
 * set). Leader only. PD_ENOTFOUND for an unknown region (or merge target),
 * PD_EBUSY when either already has an operator, -EINVAL for bad steps. */
int pd_operator_add(struct pd *pd, uint64_t mono_ms,
                    const struct pd_operator *op);
int pd_operator_get(const struct pd *pd, uint64_t region_id,
                    struct pd_operator *out);
/* Cancel region_id's operator; PD_ENOTFOUND when it has none. */
int pd_operator_remove(struct pd *pd, uint64_t region_id);
size_t pd_operator_count(const struct pd *pd);
/* The i-th running operator, in the order they were added. */
int pd_operator_at(const struct pd *pd, size_t i, struct pd_operator *out);
/* Fail operators older than operator_timeout_ms (pdd: every second). */
void pd_operators_tick(struct pd *pd, uint64_t mono_ms);
void pd_operator_stats(const struct pd *pd, struct pd_operator_stats *out);

/* ---------------------------------------------------------------------
 * Checkers and schedulers (schedule.c). Each decides from the map, the
 * store heartbeats and the config alone (rules in DESIGN.md "Scheduling"),
 * adds the operator it makes and copies it to *out. PD_ENOOP when there is
 * nothing to do, PD_EBUSY when the region has an operator already,
 * PD_ENOTREADY when a new peer id is not available yet. Leader only.
 */
/* Replica checker (down, offline, missing, extra replicas, location), then
 * merge checker, on one region. */
int pd_check_region(struct pd *pd, uint64_t mono_ms, uint64_t region_id,
                    struct pd_operator *out);
/* Move one leader from the store with the most to one with fewer
 * (PD_ENOOP once leader_schedule_limit balance-leader operators run). */
int pd_balance_leader(struct pd *pd, uint64_t mono_ms,
                      struct pd_operator *out);
/* Move one replica from the store with the most data to one with less. */
int pd_balance_region(struct pd *pd, uint64_t mono_ms,
                      struct pd_operator *out);
/* One scheduling round (pdd: every few seconds): every region without an
 * operator through pd_check_region in key order, then balance-leader until
 * the leaders are even or leader_schedule_limit transfers run, then
 * balance-region until the sizes are even or the targets receive
 * store_limit replicas each; at most max operators, copied to
 * out[0..*n). */
int pd_schedule(struct pd *pd, uint64_t mono_ms, struct pd_operator *out,
                size_t max, size_t *n);

/* ---------------------------------------------------------------------
 * The service (proto/pd.proto, nanopb code generated as pd.pb.h next to
 * this header): method ids, service << 16 | method, service 4. Errors come
 * back as the call's failure code: libpd's codes (PD_ENOTLEADER with the
 * leader's address in the message, PD_ECLUSTER, PD_ENOTBOOTSTRAPPED, ...)
 * or -EINVAL for a malformed request. See DESIGN.md, "Service".
 */
#define PD_METHOD_GET_MEMBERS 0x00040001u       /* GetMembers */
#define PD_METHOD_TSO 0x00040002u               /* Tso */
#define PD_METHOD_ALLOC_ID 0x00040003u          /* AllocID */
#define PD_METHOD_BOOTSTRAP 0x00040004u         /* Bootstrap */
#define PD_METHOD_IS_BOOTSTRAPPED 0x00040005u   /* IsBootstrapped */
#define PD_METHOD_PUT_STORE 0x00040006u         /* PutStore */
#define PD_METHOD_GET_STORE 0x00040007u         /* GetStore */
#define PD_METHOD_GET_ALL_STORES 0x00040008u    /* GetAllStores */
#define PD_METHOD_STORE_HEARTBEAT 0x00040009u   /* StoreHeartbeat */
#define PD_METHOD_REGION_HEARTBEAT 0x0004000au  /* RegionHeartbeat */
#define PD_METHOD_GET_REGION 0x0004000bu        /* GetRegion (by key) */
#define PD_METHOD_GET_REGION_BY_ID 0x0004000cu  /* GetRegionByID */
#define PD_METHOD_SCAN_REGIONS 0x0004000du      /* ScanRegions */
#define PD_METHOD_ASK_SPLIT 0x0004000eu         /* AskSplit */
#define PD_METHOD_REPORT_SPLIT 0x0004000fu      /* ReportSplit */
#define PD_METHOD_GET_GC_SAFE_POINT 0x00040010u /* GetGCSafePoint */
#define PD_METHOD_UPDATE_GC_SAFE_POINT 0x00040011u      /* UpdateGCSafePoint */
#define PD_METHOD_UPDATE_SERVICE_SAFE_POINT 0x00040012u /* ...ServiceSafePoint */
#define PD_METHOD_SET_STORE_STATE 0x00040013u   /* SetStoreState */
#define PD_METHOD_ADD_OPERATOR 0x00040014u      /* AddOperator */
#define PD_METHOD_GET_OPERATORS 0x00040015u     /* GetOperators */
#define PD_METHOD_REMOVE_OPERATOR 0x00040016u   /* RemoveOperator */
#define PD_METHOD_LIST_SCHEDULERS 0x00040017u   /* ListSchedulers */
#define PD_METHOD_GET_CONFIG 0x00040018u        /* GetConfig */
#define PD_METHOD_SET_CONFIG 0x00040019u        /* SetConfig */
#define PD_METHOD_TRANSFER_LEADER 0x0004001au   /* TransferLeader (pdd
                                                   leadership) */
#define PD_METHOD_ADD_MEMBER 0x0004001bu     /* AddMember (pdd group) */
#define PD_METHOD_REMOVE_MEMBER 0x0004001cu  /* RemoveMember (pdd group) */
#define PD_METHOD_TSO_STREAM 0x0004001du     /* bidirectional: TsoRequest
                                                each answered by one
                                                TsoResponse, in order */
#define PD_METHOD_REGION_HEARTBEAT_STREAM 0x0004001eu /* bidirectional:
                                                RegionHeartbeatRequest each
                                                answered by one
                                                RegionHeartbeatResponse (the
                                                operator step), in order */
#define PD_METHOD_GET_CLUSTER_VERSION 0x0004001fu /* GetClusterVersion */
#define PD_METHOD_RAFT 0x00040100u              /* pdd to pdd: one Raft
                                                   message (RaftRequest) */

/* ---------------------------------------------------------------------
 * The PD client (client.c): blocking calls, safe from any number of
 * threads, served by one private thread with a librpc connection per
 * member. It finds the leader (GetMembers, then redirects), follows it
 * across failover, retries what may succeed later (no leader, connection
 * lost, PD_ENOTREADY) with backoff up to timeout_ms, and folds Tso requests
 * made while one is in flight into the next single call. DESIGN.md,
 * "Client".
 */
struct pd_client;
struct pb_msgdesc_s; /* nanopb's message descriptor */
struct rpc_tls_config; /* librpc's TLS configuration */

struct pd_client_options {
    const char *const *endpoints; /* "host:port" of one or more members */
    size_t n_endpoints;           /* used entries (1..16) */
    int timeout_ms;               /* per operation, retries included
                                     (10000) */
    int call_timeout_ms;          /* per attempt (3000) */
    bool no_discovery;            /* skip the GetMembers at create */
    uint64_t cluster_id;          /* the cluster's id, sent in every
                                     request (0: learn it from pdd) */
    const struct rpc_tls_config *tls; /* NULL: plaintext; else mutual TLS
                                         to every member (borrowed: must
                                         outlive the client) */
    bool no_streams;              /* Tso and RegionHeartbeat as unary
                                     calls (the streams are the default;
                                     a pdd without them is detected) */
    /* Hints (DESIGN.md "Client": "Hints"): when set, region heartbeats
     * ask pdd for them, and pdd names on the RegionHeartbeat stream each
     * region led from this client's store that has an operator step
     * waiting; on_hint gets its id, on the client's own thread: it must
     * not block or call the client (queue the id, wake a thread that
     * heartbeats the region). NULL: no hints. */
    void (*on_hint)(void *ud, uint64_t region_id);
    void *hint_ud; /* passed to on_hint */
};

struct pd_client_stats {
    uint64_t tso_requests; /* pd_client_tso calls the loop took in */
    uint64_t tso_calls;    /* Tso RPCs that served them */
    uint64_t retries;      /* attempts repeated */
    uint64_t redirects;    /* PD_ENOTLEADER answers followed */
    uint64_t region_hits;  /* region lookups the cache answered */
    uint64_t region_misses; /* region lookups that asked pdd */
    uint64_t store_hits;   /* store lookups the cache answered */
    uint64_t store_misses; /* store lookups that asked pdd */
    uint64_t member_refreshes; /* GetMembers the client made on its own
                                  (a new or unreachable member seen) */
    uint64_t members;      /* members it knows now (endpoints) */
    uint64_t streams_opened; /* Tso / RegionHeartbeat streams opened */
    uint64_t stream_msgs;  /* requests sent on them (opening included) */
    uint64_t hints;        /* hints received (on_hint calls) */
    uint64_t heartbeats;   /* region heartbeats the loop took in */
};

/* Starts the client and asks the members who leads (unless no_discovery).
 * Returns 0, -EINVAL (bad options), -ENOMEM, or the discovery's failure,
 * with the reason in err. */
int pd_client_create(const struct pd_client_options *opts,
                     struct pd_client **out, char *err, size_t errlen);
/* Stops the thread and closes the connections. No call may be running.
 * NULL is a no-op. */
void pd_client_destroy(struct pd_client *c);
/* One unary call on the leader: method PD_METHOD_*, req a message of
 * req_fields (borrowed for the call), resp a struct of resp_fields of
 * resp_size bytes that receives the reply (release it with
 * pd_client_release). Returns 0 or the call's code (libpd's, librpc's or
 * -errno) with the server's message in err. */
int pd_client_call(struct pd_client *c, uint32_t method,
                   const struct pb_msgdesc_s *req_fields, const void *req,
                   const struct pb_msgdesc_s *resp_fields, void *resp,
                   size_t resp_size, char *err, size_t errlen);
/* Frees what a reply's pointer fields hold (nanopb's pb_release). */
void pd_client_release(const struct pb_msgdesc_s *fields, void *msg);
/* count (1..2^18) timestamps first .. first+count-1, batched with
 * concurrent callers'; strictly above any this client got before. */
int pd_client_tso(struct pd_client *c, uint32_t count, pd_ts *first,
                  char *err, size_t errlen);
/* The same without waiting: done(rc, first, errmsg, ud) runs once on the
 * client's own loop thread when the timestamps arrive (or with the
 * failure; errmsg borrowed for the call). done may call
 * pd_client_tso_async again but no blocking pd_client_* call, and must
 * not block. Requests queued or in flight when the client is destroyed
 * complete with RPC_ECLOSED inside pd_client_destroy (destroy it only when
 * none waits out a retry backoff: those would never complete). Returns 0,
 * -EINVAL or
 * -ENOMEM (done is then never called). */
typedef void (*pd_tso_done_fn)(int rc, pd_ts first, const char *errmsg,
                               void *ud);
int pd_client_tso_async(struct pd_client *c, uint32_t count,
                        pd_tso_done_fn done, void *ud);
/* count fresh ids (0 means 1). */
int pd_client_alloc_id(struct pd_client *c, uint32_t count, uint64_t *first,
                       char *err, size_t errlen);
/* Region lookups through the client's cache: a hit is answered from
 * memory, a miss asks pdd and caches the answer (dropping cached regions
 * it overlaps). A caller that finds the region stale (kvd answers
 * EpochNotMatch or RegionNotFound) invalidates it and looks again. out
 * owns copies of the keys (out->info.region points into out). */
struct pd_client_region {
    struct pd_region_info info; /* keys point at start and end below */
    uint8_t start[PD_MAX_KEY];  /* start key bytes */
    uint8_t end[PD_MAX_KEY];    /* end key bytes */
};
int pd_client_region_by_key(struct pd_client *c, const uint8_t *key,
                            size_t len, struct pd_client_region *out,
                            char *err, size_t errlen);
int pd_client_region_by_id(struct pd_client *c, uint64_t id,
                           struct pd_client_region *out, char *err,
                           size_t errlen);
void pd_client_region_invalidate(struct pd_client *c, uint64_t id);
/* The regions meeting [start, end) in key order (empty end: to +inf), at
 * most limit (1..8192) into out[0..*n), asked from pdd (ScanRegions) and
 * cached: a range scan warms the cache in one call. */
int pd_client_scan_regions(struct pd_client *c, const uint8_t *start,
                           size_t start_len, const uint8_t *end,
                           size_t end_len, size_t limit,
                           struct pd_client_region *out, size_t *n,
                           char *err, size_t errlen);
/* Store lookups through a cache (the address to reach a region's peer):
 * a miss asks pdd (GetStore). A caller that cannot reach the store
 * invalidates it and looks again (it may have moved). */
struct pd_client_store {
    uint64_t id;                   /* store id */
    char address[PD_MAX_STR + 1];  /* host:port, NUL-terminated */
    int state;                     /* enum pd_store_state when fetched */
};
int pd_client_get_store(struct pd_client *c, uint64_t store_id,
                        struct pd_client_store *out, char *err,
                        size_t errlen);
void pd_client_store_invalidate(struct pd_client *c, uint64_t store_id);
/* Typed calls for a store's side (kvd), on the cluster id the client
 * knows (pd_client_bootstrap sets it): each converts with pd_pb_*_out,
 * makes the call and returns its code (PD_ESTALE for a stale region
 * heartbeat: the map has a newer epoch, do not retry). *step receives the
 * region's next operator step (PD_STEP_NONE when none). */
int pd_client_bootstrap(struct pd_client *c, uint64_t cluster_id,
                        const struct pd_store *store,
                        const struct pd_region *region, char *err,
                        size_t errlen);
int pd_client_is_bootstrapped(struct pd_client *c, bool *out, char *err,
                              size_t errlen);
int pd_client_put_store(struct pd_client *c, const struct pd_store *store,
                        char *err, size_t errlen);
int pd_client_store_heartbeat(struct pd_client *c, uint64_t store_id,
                              const struct pd_store_stats *stats, char *err,
                              size_t errlen);
int pd_client_region_heartbeat(struct pd_client *c,
                               const struct pd_region_info *region,
                               struct pd_step *step, char *err,
                               size_t errlen);
/* The heartbeats of n regions (1..PD_CLIENT_MAX_HEARTBEATS) at once: they
 * leave together (back to back on the RegionHeartbeat stream, or as
 * concurrent unary calls) and the call returns once every one is
 * answered, each exactly as pd_client_region_heartbeat would: rcs[i] gets
 * region i's code (0, PD_ESTALE, ...), steps[i] its step (PD_STEP_NONE
 * unless rcs[i] is 0), err the first failure's text. Returns 0 once all
 * were answered, or -EINVAL / -ENOMEM with none sent (rcs and steps then
 * untouched). */
#define PD_CLIENT_MAX_HEARTBEATS 1024
int pd_client_region_heartbeats(struct pd_client *c,
                                const struct pd_region_info *regions,
                                size_t n,
                                struct pd_step *steps,
                                int *rcs,
                                char *err,
                                size_t errlen);
/* New ids for a split of region_id: the new region's, and one peer id per
 * peer into peer_ids (room for PD_MAX_PEERS). */
int pd_client_ask_split(struct pd_client *c, uint64_t region_id,
                        uint64_t *new_region_id, uint64_t *peer_ids,
                        uint32_t *n_peers, char *err, size_t errlen);
int pd_client_report_split(struct pd_client *c,
                           const struct pd_region_info *left,
                           const struct pd_region_info *right, char *err,
                           size_t errlen);
/* The cluster version (pd_cluster_version on the leader; asked with
 * GetClusterVersion each call: cache it, it only rises). */
int pd_client_cluster_version(struct pd_client *c, uint32_t *out, char *err,
                              size_t errlen);
/* Both cluster versions in one GetClusterVersion: libmvcc's into *mvcc and
 * libregion's (pd_cluster_region_version) into *region, either may be
 * NULL. A pdd before libpd 0.17 answers libregion's as 0. */
int pd_client_cluster_versions(struct pd_client *c,
                               uint32_t *mvcc,
                               uint32_t *region,
                               char *err,
                               size_t errlen);
/* GC safe points (DESIGN.md "Safe points"), on the leader. The GC safe
 * point now into *out; pd_client_update_gc_safe_point asks to move it to
 * sp (pdd lowers sp to the lowest live service safe point and never moves
 * it down) and gives the one in force after into *out. A service (a sqld,
 * a backup) holds versions back with its own safe point for ttl_ms (0:
 * remove the service); *min receives the lowest live service safe point
 * once it applies. PD_ESAFEPOINT when sp is below the GC safe point or the
 * service's own. */
int pd_client_gc_safe_point(struct pd_client *c, uint64_t *out, char *err,
                            size_t errlen);
int pd_client_update_gc_safe_point(struct pd_client *c, uint64_t sp,
                                   uint64_t *out, char *err, size_t errlen);
int pd_client_update_service_safe_point(struct pd_client *c,
                                        const char *service, uint64_t ttl_ms,
                                        uint64_t sp, uint64_t *min, char *err,
                                        size_t errlen);
/* A version number as MVCC_VERSION_NUMBER written into buf: "0.10.0"
 * for 10000, "unknown" for 0 (a store that registered none). Returns
 * buf. */
const char *pd_version_str(uint32_t v, char *buf, size_t len);
/* The inverse for a known version: "X.Y.Z", each part 0-999 and not all
 * zero, into *out (10000 for "0.10.0"). Returns 0, or -EINVAL for
 * anything else (nothing written). */
int pd_version_parse(const char *s, uint32_t *out);
/* The cluster id (asks the members again while it is 0). */
uint64_t pd_client_cluster_id(struct pd_client *c);
/* The member that answered last ("" before any answer). */
void pd_client_leader(struct pd_client *c, char *buf, size_t len);
void pd_client_stats(struct pd_client *c, struct pd_client_stats *out);

/* ---------------------------------------------------------------------
 * Service messages to and from the structs above (pbconv.c), for pdd and
 * for pd's clients. The message types are nanopb's, from pd.pb.h.
 * *_in check what libpd's calls assume (nonzero ids, an address, 1..16
 * peers, at most 8 labels with keys) and return -EINVAL with the reason in
 * err otherwise; *out borrows from the message. *_out fill a message whose
 * every pointer field is allocated with malloc: release it with
 * pd_client_release(pd_X_fields, msg); -ENOMEM leaves nothing allocated.
 */
struct _pd_Store;
struct _pd_StoreStats;
struct _pd_StoreInfo;
struct _pd_Region;
struct _pd_RegionInfo;
struct _pd_Step;
struct _pd_Operator;
int pd_pb_store_in(const struct _pd_Store *in, struct pd_store *out,
                   char *err, size_t errlen);
int pd_pb_stats_in(const struct _pd_StoreStats *in,
                   struct pd_store_stats *out, char *err, size_t errlen);
int pd_pb_region_in(const struct _pd_Region *in, struct pd_region *out,
                    char *err, size_t errlen);
int pd_pb_region_info_in(const struct _pd_RegionInfo *in,
                         struct pd_region_info *out, char *err,
                         size_t errlen);
int pd_pb_store_out(const struct pd_store *in, struct _pd_Store *out);
int pd_pb_store_info_out(const struct pd_store_info *in,
                         struct _pd_StoreInfo *out);
int pd_pb_region_out(const struct pd_region *in, struct _pd_Region *out);
int pd_pb_region_info_out(const struct pd_region_info *in,
                          struct _pd_RegionInfo *out);
void pd_pb_step_out(const struct pd_step *in, struct _pd_Step *out);
int pd_pb_operator_out(const struct pd_operator *in,
                       struct _pd_Operator *out);

#ifdef __cplusplus
}
#endif

#endif /* PD_H */

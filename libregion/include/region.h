/* region.h: the one public header of libregion, a multi-Raft store: regions
 * (key ranges replicated by one libraft group each), their Raft state on a
 * libmvcc engine (RocksDB), apply of raw and transactional writes, reads by
 * lease or ReadIndex, region errors. What is not declared here is not API.
 * See libregion/DESIGN.md ("The loop", "Persistence", "Errors").
 */
#ifndef REGION_H
#define REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to libregion/VERSION (the build checks it). */
#define REGION_VERSION_MAJOR 0
#define REGION_VERSION_MINOR 33
#define REGION_VERSION_PATCH 0
#define REGION_VERSION_NUMBER \
    (REGION_VERSION_MAJOR * 1000000 + REGION_VERSION_MINOR * 1000 + REGION_VERSION_PATCH)

/* The REGION_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int region_version_number(void);

/* Result codes. 0 is success; -1..-999 are negative errno values; libregion's
 * own codes are -3000..-3999. Codes of libmvcc (-2000s, e.g. MVCC_NOTFOUND)
 * and libraft (-1000s) pass through untranslated. The region errors
 * (NOT_LEADER .. ENTRY_TOO_LARGE) come with detail in struct region_err.
 * X(name, value, message). */
#define REGION_ERROR_TABLE(X)                                                 \
    X(REGION_EINTERNAL, -3000, "internal error in libregion")                 \
    X(REGION_EINVAL, -3001, "invalid argument")                               \
    X(REGION_ENOT_LEADER, -3002, "not leader")                                \
    X(REGION_EEPOCH_NOT_MATCH, -3003, "epoch not match")                      \
    X(REGION_ENOT_FOUND, -3004, "region not found")                           \
    X(REGION_EKEY_NOT_IN_REGION, -3005, "key not in region")                  \
    X(REGION_ESERVER_BUSY, -3006, "server is busy")                           \
    X(REGION_ESTALE_COMMAND, -3007, "stale command")                          \
    X(REGION_EENTRY_TOO_LARGE, -3008, "raft entry too large")                 \
    X(REGION_EDECODE, -3009, "malformed encoded data")                        \
    X(REGION_EENGINE, -3010, "storage engine error")                          \
    X(REGION_ECLOSED, -3011, "store is closing")                              \
    X(REGION_EEXISTS, -3012, "region already exists")                         \
    X(REGION_ETIMEOUT, -3013, "request timed out")                           \
    X(REGION_EMAX_TS_NOT_SYNCED, -3014,                                      \
      "max_ts not synced from the TSO since this leadership began")         \
    X(REGION_EGC_TOO_EARLY, -3015, "read below the GC safe point")

enum region_error {
#define REGION__ERROR_ENUM(name, value, text) name = (value),
    REGION_ERROR_TABLE(REGION__ERROR_ENUM)
#undef REGION__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *region_strerror(int rc);

/* ---------------------------------------------------------------------
 * Allocator hook and logger.
 */
struct region_heap {
    void *ctx;                                         /* passed to each call */
    void *(*malloc)(void *ctx, size_t size);           /* NULL on failure */
    void *(*realloc)(void *ctx, void *p, size_t size); /* NULL on failure */
    void (*free)(void *ctx, void *p);                  /* p may be NULL */
};
/* Replace the allocator libregion uses for its own objects (copied); NULL
 * restores libc's. Only while no libregion object exists. */
void region_heap_set(const struct region_heap *heap);

enum region_log_level {
    REGION_LOG_DEBUG = 0,
    REGION_LOG_INFO = 1,
    REGION_LOG_WARN = 2,
    REGION_LOG_ERROR = 3,
};
/* msg is borrowed for the call. */
typedef void (*region_log_fn)(void *ctx, int level, const char *msg);

/* ---------------------------------------------------------------------
 * Regions.
 */
#define REGION_MAX_PEERS 8      /* replicas of one region */
#define REGION_MAX_BOUND 256    /* bytes of a region boundary key */

/* A region: the keys [start, end) (start empty = from the first key, end
 * empty = to the last), its epoch and its peers. A peer is named by its
 * store id, which is also its Raft id in the region's group. */
struct region_desc {
    uint64_t id;                     /* region id, non-zero */
    uint64_t conf_ver;               /* bumped by membership changes */
    uint64_t version;                /* bumped by splits and merges */
    uint32_t start_len;              /* bytes of start */
    uint32_t end_len;                /* bytes of end; 0 = unbounded */
    uint8_t start[REGION_MAX_BOUND]; /* first key of the region */
    uint8_t end[REGION_MAX_BOUND];   /* first key past the region */
    uint32_t n_stores;               /* used slots of stores */
    uint64_t stores[REGION_MAX_PEERS]; /* stores holding a replica */
    uint32_t learners;               /* bit i set: stores[i] is a learner
                                        (a non-voting replica) */
};

/* Whether the replica on store_id is a learner (false when it is a voter
 * or not a replica at all). */
bool region_desc_is_learner(const struct region_desc *d, uint64_t store_id);

/* Whether key lies in [d->start, d->end). */
bool region_desc_contains(const struct region_desc *d, const void *key,
                          size_t len);

/* What a request names: the region and the epoch the client believes in.
 * A zero epoch (both 0) skips the epoch check (tools, tests). */
struct region_ctx {
    uint64_t region_id; /* region the request is for */
    uint64_t conf_ver;  /* client's epoch: conf_ver */
    uint64_t version;   /* client's epoch: version */
};

/* Detail of a region error, for the client to update its region cache. */
struct region_err {
    int code;                  /* 0 or a result code */
    uint64_t leader;           /* NOT_LEADER: leader's store id, 0 unknown */
    bool has_region;           /* region below is filled */
    struct region_desc region; /* EPOCH_NOT_MATCH / KEY_NOT_IN_REGION: the
                                  region as this store knows it */
    char msg[160];             /* human-readable detail */
};

/* ---------------------------------------------------------------------
 * The store.
 */
struct mvcc_engine;
struct mvcc_store;
struct mvcc_kvpair;

/* How a store reaches its peers, and how it asks to be run. */
struct region_transport {
    void *ctx; /* passed to each call */
    /* Deliver buf (one encoded batch of messages, borrowed for the call)
     * to store to_store, which passes it to region_store_receive. Best
     * effort: Raft tolerates loss. Called from region_store_process, with
     * the store locked: must not call into this store. */
    void (*send)(void *ctx, uint64_t to_store, const void *buf, size_t len);
    /* New work is queued: run region_store_process soon. Called from any
     * thread, possibly with the store locked: must not call into it. May
     * be NULL when the caller runs the loop anyway. */
    void (*notify)(void *ctx);
};

struct region_store_opts {
    uint64_t store_id;           /* this store, non-zero */
    struct mvcc_engine *engine;  /* Raft state and data; borrowed until
                                    region_store_close */
    struct region_transport transport; /* copied */
    int election_tick;           /* ticks without leader before an
                                    election (10) */
    int heartbeat_tick;          /* ticks between heartbeats (2) */
    uint64_t seed;               /* election randomization (store_id) */
    uint32_t max_entry_bytes;    /* bigger commands: ENTRY_TOO_LARGE
                                    (8 MiB) */
    uint32_t max_pending;        /* proposals waiting per region before
                                    SERVER_BUSY (4096) */
    uint32_t tick_ms;            /* how often region_store_tick is called,
                                    in ms: the Raft lease then runs in
                                    real time (a starved store's ticks
                                    fall behind; libraft "Reads"), with
                                    election_tick >= 3 (below: no lease,
                                    every read confirmed). 0: the lease
                                    counts ticks */
    int read_timeout_ticks;      /* a read waiting this long fails
                                    NOT_LEADER (4 * election_tick) */
    uint64_t split_size;         /* split a region automatically once
                                    it holds this many bytes (measured
                                    as it is written to: DESIGN.md
                                    "Split"; 0: never) */
    uint32_t log_keep_entries;   /* log GC: once 2x this many applied
                                    entries are held, drop all but the
                                    last this many (4096); a follower
                                    further behind gets a snapshot */
    bool no_sync;                /* skip the fsync (tests, benchmarks) */
    bool no_lock_table;          /* libmvcc reads locks from the lock CF,
                                    not from its in-memory copy (DESIGN.md
                                    "Transactions") */
    bool log_on_loop;            /* write and sync every Raft log write
                                    on the loop thread (the 0.2 loop);
                                    default: leaders' log writes go to a
                                    writer thread, pipelined */
    region_log_fn log;           /* NULL: silent */
    void *log_ctx;               /* passed to log */
    int log_level;               /* lowest level passed to log */
    bool no_hibernate;           /* keep idle regions ticking; otherwise
                                    they hibernate when tick_ms is set
                                    (DESIGN "Hibernation") */
    uint64_t (*now_ms)(void *clock_ctx); /* monotonic ms for the lease
                                    (NULL: CLOCK_MONOTONIC; tests give a
                                    simulated clock) */
    void *clock_ctx;             /* passed to now_ms and unix_ms */
    uint64_t (*unix_ms)(void *clock_ctx); /* wall clock in ms since the
                                    epoch for raw TTLs (NULL:
                                    CLOCK_REALTIME) */
    uint32_t snap_chunk_bytes;   /* bytes of a snapshot chunk this store
                                    sends (1 MiB; at least 4096) */
    const struct mvcc_deadlock_detector *detector; /* the lock waits'
                                    deadlock detector, handed to the
                                    libmvcc store (copied; its ctx
                                    borrowed until region_store_close);
                                    NULL: the store's own graph */
};

struct region_store;

/* Open the store on opts->engine: every region found there is loaded with
 * its Raft log, hard state and apply state (recovery). *out handed over. */
int region_store_open(const struct region_store_opts *opts,
                      struct region_store **out);
/* Complete every waiting request with REGION_ECLOSED and refuse new ones
 * (REGION_ECLOSED), keeping the store usable for calls in flight on other
 * threads; then stop those threads and call region_store_close. */
void region_store_shutdown(struct region_store *s);
/* Close: waiting requests complete with REGION_ECLOSED. NULL is a no-op.
 * The engine stays the caller's. */
void region_store_close(struct region_store *s);
/* Detail of the last error of a store-level call (never NULL). */
const char *region_store_errmsg(struct region_store *s);

/* Create a region on this store (copied) as one of its founding peers
 * (its stores must include this one); every founding store does the same
 * with the same desc. Durable before it returns. REGION_EEXISTS if the id
 * is known, REGION_EINVAL if the range overlaps a region of this store. */
int region_store_bootstrap(struct region_store *s,
                           const struct region_desc *d);

/* Advance logical time one tick for every region (elections, heartbeats,
 * leases, read timeouts). Call it at a fixed period (kvd: 100 ms). */
int region_store_tick(struct region_store *s);
/* Feed a batch another store sent (borrowed for the call). REGION_EDECODE
 * on malformed input (nothing of it is used); messages for unknown regions
 * are dropped. */
int region_store_receive(struct region_store *s, const void *buf,
                         size_t len);
/* One loop iteration: for every region with work, persist new log entries
 * and hard states in one engine batch with one sync, send messages (one
 * transport call per destination), apply committed entries, answer
 * requests. Callbacks run inside this call, with the store unlocked. */
int region_store_process(struct region_store *s);
/* Whether region_store_process has anything to do. */
bool region_store_has_work(struct region_store *s);
/* Wait until every log write handed to the writer thread is durable and
 * complete it (what the next region_store_process would do): callbacks
 * run inside, with the store unlocked. For tests and tools that want an
 * iteration finished; the loop itself never needs it (the writer calls
 * transport.notify). */
int region_store_sync_wait(struct region_store *s);
/* Wait until every automatic split check asked so far is done (they read
 * the region on the split checker thread: DESIGN.md "Split") and act on
 * what they found, a split proposed (and the snapshots that thread
 * counts: DESIGN.md "Snapshots and log GC"). For tests and tools that want a
 * check finished; the loop never needs it. */
void region_store_split_checks_wait(struct region_store *s);

/* Start an election for region_id now (tests, leadership moves). */
int region_store_campaign(struct region_store *s, uint64_t region_id);
/* Ask the region's leader to hand leadership to store to. A leader
 * refuses a learner (REGION_EINVAL) and a voter that does not take its
 * appends now (REGION_ESERVER_BUSY: waiting for or receiving a snapshot,
 * behind the compacted log, not heard from lately): ask again later. */
int region_store_transfer_leader(struct region_store *s, uint64_t region_id,
                                 uint64_t to);

/* Copy the region and the leader this store believes in (0 unknown). */
int region_store_region(struct region_store *s, uint64_t region_id,
                        struct region_desc *out, uint64_t *leader);
/* What a region holds on this store (kvd's heartbeats: pdd's split and
 * merge checkers), counted by one pass over its engine ranges: raw keys
 * and the transactional column families alike (DESIGN.md "Region size"). */
struct region_size {
    uint64_t keys;  /* raw keys plus transactional user keys with a write
                       record (each once, whatever its versions) */
    uint64_t bytes; /* key and value bytes in every column family */
    bool capped;    /* the pass stopped after cap engine entries: both
                       figures are lower bounds */
};
/* Count region_id's data as it is applied here, reading at most cap
 * engine entries (0: no cap). REGION_ENOT_FOUND for a region this store
 * does not hold. */
int region_store_region_size(struct region_store *s, uint64_t region_id,
                             uint64_t cap, struct region_size *out);
/* The same count for reports made over and over (kvd's region
 * heartbeats), kept with the region and given again, without reading
 * anything, while nothing was applied to the region since; for a count of
 * REGION_SIZE_KEEP_MIN bytes or more, also while what was applied since
 * is at most a quarter of it, its bytes then raised by those (keys as
 * counted). Otherwise counted again (at most cap entries, on the caller's
 * thread: *counted true), and also when the region was split or merged,
 * had a snapshot installed, versions removed by MVCC GC, or a raw key or
 * range deleted since it was counted. The automatic split's size checks
 * keep theirs too (capped at split_size bytes). counted may be NULL.
 * REGION_ENOT_FOUND as region_store_region_size. */
#define REGION_SIZE_KEEP_MIN (1u << 20)
int region_store_region_size_kept(struct region_store *s,
                                  uint64_t region_id,
                                  uint64_t cap,
                                  struct region_size *out,
                                  bool *counted);
/* Where a split of region_id (as applied here) would cut: the middle of
 * its raw keys or of its committed transactional keys (a SQL table's
 * rows), whichever holds more bytes, as an automatic split chooses. 0
 * with key (REGION_MAX_BOUND bytes) and *key_len, REGION_ENOT_FOUND for
 * a region this store does not hold or one with no key past its start. */
int region_store_split_key(struct region_store *s, uint64_t region_id,
                           uint8_t *key, size_t *key_len);
/* The region of this store holding key (REGION_ENOT_FOUND if none). */
int region_store_locate(struct region_store *s, const void *key, size_t len,
                        struct region_desc *out, uint64_t *leader);
/* Up to cap regions of this store, in key order; *n gets the total. */
int region_store_regions(struct region_store *s, struct region_desc *out,
                         size_t cap, size_t *n);
/* Whether this store leads the region now. */
bool region_store_is_leader(struct region_store *s, uint64_t region_id);
/* The Raft term of this store's leadership of the region (0: it does not
 * lead it, or no such region): what a region heartbeat to pdd carries, so
 * that pdd can tell a leader deposed meanwhile from the one of now. */
uint64_t region_store_leader_term(struct region_store *s, uint64_t region_id);
/* Whether this store's peer of the region hibernates (does not tick). */
bool region_store_is_hibernating(struct region_store *s, uint64_t region_id);
/* Whether store_id, a store this one shares regions with, has been silent
 * past the liveness timeout (an election timeout: no Raft batch or ping
 * from it). False when it is heard, unknown, or hibernation (and so the
 * liveness check) is off. kv.Forward refuses at once to pass a request to
 * such a store rather than wait out the caller's deadline. */
bool region_store_peer_silent(struct region_store *s, uint64_t store_id);

/* Counters for status and metrics. */
struct region_store_stats {
    uint64_t regions;       /* regions on this store */
    uint64_t leaders;       /* regions this store leads */
    uint64_t proposals;     /* commands proposed */
    uint64_t applied;       /* entries applied */
    uint64_t syncs;         /* engine writes with sync */
    uint64_t loop_iters;    /* region_store_process calls with work */
    uint64_t loop_peers;    /* peers those calls looked at (the active
                               list's: DESIGN.md "The loop") */
    uint64_t reads;         /* reads answered */
    uint64_t msgs_sent;     /* Raft messages sent */
    uint64_t msgs_received; /* Raft messages received */
    uint64_t log_gcs;       /* log compactions */
    uint64_t snaps_built;   /* snapshots built for followers */
    uint64_t snaps_applied; /* snapshots installed from a leader */
    uint64_t splits;        /* splits applied */
    uint64_t split_checks;  /* sizes of regions led here measured to
                               decide a split */
    uint64_t split_check_ns; /* time those measurements took (on the
                                split checker thread: the loop goes on) */
    uint64_t max_ts_syncs;  /* region_store_max_ts_synced calls that
                               covered a new leadership */
    uint64_t max_ts_refused; /* async/1PC prewrites refused unsynced */
    uint64_t peers_recreated; /* peers made again for a region this store
                                 had left (it was added back) */
    uint64_t uninit_dropped; /* peers without data dropped after hearing
                                nothing for a long while */
    uint64_t split_replaced_uninit; /* uninitialized peers a split's peer
                                       replaced (its leader's messages
                                       came before the split) */
    uint64_t reads_inline;  /* region_read_now calls served under the
                               lease on the caller's thread */
    uint64_t merges;        /* sources taken in by a merge commit */
    uint64_t merge_catchup; /* source entries a merge commit applied from
                               the source's own log (a lagging replica) */
    uint64_t ticks;         /* raft_node_tick calls (hibernating peers
                               are not ticked) */
    uint64_t hibernated;    /* peers hibernating now */
    uint64_t hib_sleeps;    /* times a peer went to sleep */
    uint64_t hib_wakes;     /* times a peer woke */
    uint64_t stores_down;   /* peer stores silent past the liveness
                               timeout now (hibernation on) */
    uint64_t ttl_expired;   /* raw reads and CAS that found a key expired */
    uint64_t ttl_removed;   /* expired raw keys deleted at apply */
    uint64_t split_campaigns; /* regions born of a split of a region led
                                 here that campaigned at once */
    uint64_t votes_held;    /* votes that arrived before the split making
                               their region here, answered after it */
    uint64_t snap_chunks_sent;     /* snapshot chunks read for followers */
    uint64_t snap_chunks_received; /* snapshot chunks staged from leaders */
    uint64_t snap_chunks_refused;  /* snapshot chunks refused on arrival
                                      (checksum, header, records) */
    uint64_t snap_installs_resumed; /* installs a restart interrupted,
                                       completed at open */
    uint64_t snap_mem;      /* bytes the snapshot code holds now: cursors,
                               a chunk's staged records, an install batch
                               (not libraft's chunks in flight) */
    uint64_t snap_mem_peak; /* the most snap_mem held since open */
    uint64_t snaps_dropped_overlap; /* snapshots dropped on arrival: their
                                       range overlaps another region here */
    uint64_t merged_notices; /* "merged away" notices that dropped a
                                source left behind here */
    /* Where a write's time goes (sums in ns, monotonic clock; divide by
     * the count beside them). A leader times the entries of its raw write
     * batches from the proposal: */
    uint64_t lat_batches;    /* raw batch entries applied here, timed */
    uint64_t lat_durable_n;  /* of them, made durable by this store's
                                own log writer while timed */
    uint64_t lat_durable_ns; /* proposed -> own log write synced and
                                completed on the loop */
    uint64_t lat_commit_ns;  /* proposed -> first seen committed */
    uint64_t lat_apply_ns;   /* proposed -> applied, requests answered */
    /* Log writer jobs (every role): */
    uint64_t wjobs;          /* jobs completed */
    uint64_t wjob_queue_ns;  /* submitted -> the writer took it */
    uint64_t wjob_write_ns;  /* taken -> written and synced */
    uint64_t wjob_done_ns;   /* written -> completed on the loop */
    /* MVCC GC (region_store_gc): */
    uint64_t gc_regions_swept;   /* region ranges swept */
    uint64_t gc_regions_skipped; /* regions skipped: no write record above
                                    the safe point of their last sweep */
    uint64_t gc_records_read;    /* write records the sweeps read */
    /* Snapshot installs (the staged records moved into place: on the
     * split checker thread when the store has one, the peer's ready held
     * meanwhile; else inline): */
    uint64_t snap_install_ns;     /* their time, summed */
    uint64_t snap_install_ns_max; /* the longest */
    /* Received chunks staged (written on the split checker thread): */
    uint64_t snap_stage_waits;   /* times the loop waited for that thread
                                    (four batches out not taken back) */
    uint64_t snap_stage_wait_ns; /* how long, summed */
};
void region_store_stats(struct region_store *s, struct region_store_stats *st);

/* ---------------------------------------------------------------------
 * Requests. Asynchronous ones take a callback that runs once from
 * region_store_process (loop thread); when the call itself fails it never
 * runs. Any thread may start them.
 */

/* What a request completes with; everything is borrowed for the callback. */
struct region_reply {
    int rc;                   /* 0 or a result code */
    const struct region_err *err; /* detail when rc is a region error */
    bool cas_ok;              /* CAS: the swap happened */
    bool prev_exists;         /* CAS: a value was there before */
    const uint8_t *prev;      /* CAS: that value */
    size_t prev_len;          /* its length */
};
typedef void (*region_done_fn)(void *ud, const struct region_reply *r);

enum region_op_type {
    REGION_OP_PUT = 1,          /* key -> value */
    REGION_OP_DELETE = 2,       /* remove key */
    REGION_OP_DELETE_RANGE = 3, /* remove [key, value); empty value: to the
                                   region's end */
};
/* One raw write (borrowed for the call). */
struct region_op {
    int type;          /* enum region_op_type */
    const void *key;   /* key, range start */
    size_t key_len;    /* its length */
    const void *value; /* value, range end */
    size_t value_len;  /* its length */
};

/* Raw writes, applied atomically once committed. Region errors are
 * returned at once (err filled) when they are known at once. */
int region_raw_write(struct region_store *s, const struct region_ctx *ctx,
                     const struct region_op *ops, size_t n,
                     region_done_fn done, void *ud, struct region_err *err);
/* Compare and swap, evaluated when applied: if the key's value is expect
 * (expect_exists false: the key is absent) set it to value (or delete it
 * when del), reporting the previous value. A key whose TTL ran out by this
 * leader's clock is absent, as for reads: the leader deletes it through
 * the log just ahead of the CAS (DESIGN "Raw TTL"). The new value has no
 * TTL. */
int region_raw_cas(struct region_store *s, const struct region_ctx *ctx,
                   const void *key, size_t key_len, bool expect_exists,
                   const void *expect, size_t expect_len, bool del,
                   const void *value, size_t value_len, region_done_fn done,
                   void *ud, struct region_err *err);
/* The first libregion that applies a CAS with a TTL (region_raw_cas_ttl
 * with ttl > 0). An older store cannot decode that command and answers it
 * as malformed without applying it, while the others swap: before calling
 * it the host makes sure every store that may apply the region's log runs
 * this version or later (kvd asks pdd's cluster version for libregion,
 * DESIGN "Raw TTL"). */
#define REGION_VERSION_CAS_TTL 33000u /* 0.33.0 */
/* region_raw_cas where a swapped-in value lives ttl seconds (0: for ever,
 * as region_raw_cas; ignored when del): it expires at this leader's wall
 * clock plus ttl, as a put's with region_raw_write_ttl. A swap without
 * TTL clears the key's. ttl > 0 needs REGION_VERSION_CAS_TTL on every
 * store (above). */
int region_raw_cas_ttl(struct region_store *s,
                       const struct region_ctx *ctx,
                       const void *key,
                       size_t key_len,
                       bool expect_exists,
                       const void *expect,
                       size_t expect_len,
                       bool del,
                       const void *value,
                       size_t value_len,
                       uint64_t ttl,
                       region_done_fn done,
                       void *ud,
                       struct region_err *err);
/* A linearizable read barrier: done runs (rc 0) once this store, the
 * leader, may serve a read reflecting every write acknowledged before the
 * call: at once while its lease holds, else after a ReadIndex round. Then
 * read with region_raw_get/scan or libmvcc's reads. */
int region_read(struct region_store *s, const struct region_ctx *ctx,
                region_done_fn done, void *ud, struct region_err *err);

/* Split the region at key (which must lie strictly inside it) into
 * [start, key), keeping the id, and [key, end) as region new_id (0: this
 * store allocates one: its store id in the top 16 bits, a counter kept in
 * the engine below). Applied on every peer through the region's log: both
 * epochs' version is bumped and the new region's Raft group starts on
 * every peer holding the old one (elected by timeout). done gets rc 0 or
 * an error (KEY_NOT_IN_REGION when the key is no longer inside, EEXISTS
 * when the id is taken). */
int region_split(struct region_store *s, const struct region_ctx *ctx,
                 const void *key, size_t len, uint64_t new_id,
                 region_done_fn done, void *ud, struct region_err *err);

/* Add store_id to the region's peers (add) or remove it, through the
 * region's log (one change at a time: SERVER_BUSY while one is pending).
 * The region's conf_ver is bumped on every peer. An added store needs no
 * preparation: the leader's messages create its peer, and a snapshot
 * brings the data. A removed store deletes the region's data and keeps a
 * tombstone. The leader cannot remove itself (EINVAL: transfer first). */
int region_change_peer(struct region_store *s, const struct region_ctx *ctx,
                       bool add, uint64_t store_id, region_done_fn done,
                       void *ud, struct region_err *err);

/* Membership changes one at a time (DESIGN.md "Membership", "Learners"):
 * region_change_peer is ADD_VOTER / REMOVE. A learner gets the log and
 * the data like a voter but neither votes nor counts in quorums; PROMOTE
 * makes it a voter once it has caught up (the leader sees it taking
 * appends past the snapshot), else SERVER_BUSY: ask again later. A store
 * that once left the region may be added again: its old peer's tombstone
 * gives way to a fresh peer. EINVAL: adding a peer, promoting a store
 * without a learner, removing a non-peer or the leader itself. */
enum region_change_kind {
    REGION_CHANGE_ADD_VOTER = 1,   /* add a voter */
    REGION_CHANGE_ADD_LEARNER = 2, /* add a learner */
    REGION_CHANGE_PROMOTE = 3,     /* make a caught-up learner a voter */
    REGION_CHANGE_REMOVE = 4,      /* remove a replica, any role */
};
int region_change_member(struct region_store *s, const struct region_ctx *ctx,
                         int kind, uint64_t store_id, region_done_fn done,
                         void *ud, struct region_err *err);

/* Merge (DESIGN.md "Merge"): a source region taken into an adjacent
 * target with the same stores (no learners), in three steps through the
 * regions' logs. The caller (kvd's merge driver) runs them in order:
 *
 *   prepare  (source's log, on its leader): the source's version is
 *            bumped and it is marked merging into the target (persisted):
 *            from then on it refuses requests with SERVER_BUSY
 *   commit   (target's log, on a store leading both): once every source
 *            replica holds the source's log up to the prepare (else
 *            SERVER_BUSY: ask again). Every store, when its target
 *            applies it, first applies the source's entries up to the
 *            prepare from its own log, then the target takes the union
 *            (version max + 1) and the source becomes a tombstone; its
 *            data stays (the target's now). Refused at apply when the
 *            target's epoch moved, the two are not adjacent or differ in
 *            stores, or the prepare was rejected (done gets the code)
 *   reject   (target's log, on its leader) after a refused commit: no
 *            commit of that prepare may apply after it (EEXISTS when one
 *            already did: the merge happened)
 *   rollback (source's log, on its leader): the mark dropped, version
 *            bumped, the source serves again. Refused (SERVER_BUSY) until
 *            this store's target replica applied the reject: a rollback
 *            never races a commit still able to apply.
 */
int region_merge_prepare(struct region_store *s, const struct region_ctx *ctx,
                         uint64_t target_id, region_done_fn done, void *ud,
                         struct region_err *err);
int region_merge_commit(struct region_store *s, uint64_t source_id,
                        region_done_fn done, void *ud, struct region_err *err);
int region_merge_reject(struct region_store *s, uint64_t source_id,
                        region_done_fn done, void *ud, struct region_err *err);
int region_merge_rollback(struct region_store *s, uint64_t source_id,
                          region_done_fn done, void *ud,
                          struct region_err *err);
/* A region's merging mark as this store applied it. */
struct region_merge_state {
    uint64_t target;    /* merging into this region (0: not merging) */
    uint64_t index;     /* the prepare's log index */
    uint64_t term;      /* its term */
    bool rejected;      /* this store's target replica applied a reject of
                           that prepare: a rollback may be proposed */
    bool stuck;         /* this store leads the source and a replica short
                           of the prepare cannot reach it by appends now
                           (waits for a snapshot, or silent past the
                           election timeout): the commit would wait for
                           it; the driver may reject at once */
};
/* 0 and *out filled, or REGION_ENOT_FOUND (not a region of this store). */
int region_store_merge_state(struct region_store *s, uint64_t region_id,
                             struct region_merge_state *out);
/* Raw writes as region_raw_write, where ttls[i] (NULL: none) gives the
 * PUT op i a time to live in seconds (0: forever; other ops ignore it):
 * the key expires at this leader's wall clock plus ttl, and reads skip
 * it from then on (DESIGN "Raw TTL"). A PUT without TTL clears one. */
int region_raw_write_ttl(struct region_store *s, const struct region_ctx *ctx,
                         const struct region_op *ops, size_t n,
                         const uint64_t *ttls, region_done_fn done, void *ud,
                         struct region_err *err);
/* A raw key's remaining time to live (call after region_read): 0 with
 * *ttl in seconds rounded up and *has_ttl, or *ttl 0 and !*has_ttl for a
 * key that never expires; MVCC_NOTFOUND when absent or expired. */
int region_raw_ttl(struct region_store *s, const struct region_ctx *ctx,
                   const void *key, size_t key_len, uint64_t *ttl,
                   bool *has_ttl, struct region_err *err);

/* Reads of applied state (call after region_read). The key must lie in
 * the region. Get: 0 with *value handed over (region_free), or
 * MVCC_NOTFOUND (a key whose TTL ran out too). */
int region_raw_get(struct region_store *s, const struct region_ctx *ctx,
                   const void *key, size_t key_len, uint8_t **value,
                   size_t *value_len, struct region_err *err);
struct region_kv {
    uint8_t *key;     /* owned by the array */
    size_t key_len;   /* its length */
    uint8_t *value;   /* owned; NULL when key_only */
    size_t value_len; /* its length */
};
/* Whether [start, end) (end_len 0: unbounded) lies in ctx's region, whose
 * epoch matches: 0 with *d the region as it is now, else the region error
 * in err (DESIGN.md "Range checks"). A range that starts before the
 * region, at or past its end, or ends past it (an unbounded one included)
 * is refused with REGION_EKEY_NOT_IN_REGION and the region, never
 * clipped; a range may start at the region's start and end at its end.
 * A zero epoch (tools, in-process callers that name no bounds) may leave
 * the end empty for "the region's end" (d->end). */
int region_check_range(struct region_store *s, const struct region_ctx *ctx,
                       const void *start, size_t start_len, const void *end,
                       size_t end_len, struct region_desc *d,
                       struct region_err *err);

/* Keys in [start, end) (end_len 0: unbounded), at most limit (0: all),
 * ascending; the range must lie in the region (region_check_range's
 * refusal otherwise). *out handed over: free with
 * region_kvs_free(*out, *n). */
int region_raw_scan(struct region_store *s, const struct region_ctx *ctx,
                    const void *start, size_t start_len, const void *end,
                    size_t end_len, size_t limit, bool key_only,
                    struct region_kv **out, size_t *n,
                    struct region_err *err);
void region_kvs_free(struct region_kv *kvs, size_t n);
void region_free(void *p);

/* Check a key against the region and epoch (for requests whose keys the
 * caller inspects itself). Both checks answer REGION_ESERVER_BUSY while
 * the region's replica here is installing a snapshot (its range holds
 * part of it). */
int region_check_key(struct region_store *s, const struct region_ctx *ctx,
                     const void *key, size_t len, struct region_err *err);

/* Transactional commands: the store's libmvcc store (borrowed for the
 * store's lifetime) runs them; its write batches are proposed to the
 * region named by the current region_txn_run (region_store_gc's go to
 * the engine instead; any other batch fails). */
struct mvcc_store *region_store_mvcc(struct region_store *s);
typedef int (*region_txn_fn)(struct mvcc_store *m, void *arg);
/* Run fn(mvcc, arg) against region ctx, blocking: checks leadership and
 * epoch, waits for a read barrier first when read, and makes every batch
 * fn writes go through the region's Raft group (returning once applied).
 * Must not be called from the thread that runs region_store_process.
 * fn's own codes come back as they are; region errors fill err. */
int region_txn_run(struct region_store *s, const struct region_ctx *ctx,
                   bool read, region_txn_fn fn, void *arg,
                   struct region_err *err);

/* A read without the barrier's round trip (DESIGN.md "Reads"): when this
 * store leads ctx's region, its Raft lease holds now and it has applied up
 * to its commit index, runs fn(mvcc, arg) at once on the calling thread
 * (any thread, the loop's included: nothing waits) and returns fn's code.
 * Otherwise -EAGAIN (fn not run: use region_read / region_txn_run, which
 * wait for a read index and give the precise region error), or the epoch
 * check's region error (REGION_ENOT_FOUND, REGION_EEPOCH_NOT_MATCH,
 * REGION_ECLOSED) in err. fn must only read: a batch it writes fails. */
int region_read_now(struct region_store *s, const struct region_ctx *ctx,
                    region_txn_fn fn, void *arg, struct region_err *err);
/* region_raw_get under the same conditions as region_read_now, with one
 * check of the lease, the epoch and the key's range under one lock: 0
 * with *value handed over (region_free), MVCC_NOTFOUND, -EAGAIN (no
 * lease now: read with region_read, then region_raw_get), or a region
 * error in err (REGION_ENOT_FOUND, REGION_EEPOCH_NOT_MATCH,
 * REGION_EKEY_NOT_IN_REGION, REGION_ECLOSED). Counted in reads_inline. */
int region_raw_get_now(struct region_store *s, const struct region_ctx *ctx,
                       const void *key, size_t key_len, uint8_t **value,
                       size_t *value_len, struct region_err *err);

/* One key of region_raw_get_now_n and its outcome. */
struct region_raw_read {
    const void *key;    /* the key, borrowed for the call */
    size_t key_len;     /* its bytes */
    int rc;             /* out: 0 (value handed over: region_free),
                           MVCC_NOTFOUND, or anything else: not answered
                           here (no lease now, another epoch, a key out of
                           the region, an engine error); region_raw_get_now
                           of that key gives the outcome in full */
    uint8_t *value;     /* out: rc 0 */
    size_t value_len;   /* out: rc 0 */
};
/* Keys held by the lease, checked together: the n reads of one
 * context (kvd's RawGets of one read of a connection) take the lease,
 * epoch and applied-index check of region_raw_get_now once per
 * REGION_READ_CHUNK keys under one hold of the store lock, each key's
 * range with it, and read the engine after the lock is dropped, as
 * region_raw_get_now does. Each key's outcome is its own (r[i].rc): one
 * out of the region does not fail the others. REGION_EINVAL for bad
 * arguments, else 0. Counted in reads_inline, one per key read. */
#define REGION_READ_CHUNK 32
int region_raw_get_now_n(struct region_store *s, const struct region_ctx *ctx,
                         struct region_raw_read *r, size_t n);

/* The protobuf bytes of the kv.TxnResponse a store answers a read that
 * succeeded with (Get, BatchGet, Scan): the n pairs in order and `more`
 * (DESIGN.md "Cluster transport", "Read replies written by hand"). A pair
 * whose value is NULL carries none (key-only); one whose value is over
 * 65,535 bytes carries its length as value_spill and the value goes to
 * the reply's spill blob, in pair order. The bytes are those nanopb
 * writes for the struct a store filled before (test_client
 * `read_reply_by_hand`), so any client reads them. Written into *buf,
 * grown to fit with the library's allocator (*cap its size; free with
 * region_free; *buf NULL and *cap 0 to start); *len gets the length.
 * 0; -E2BIG for a key over 65,535 bytes, n over 65,535 or a reply
 * over 16 MiB less 64 KiB (nothing written: answer with the error
 * instead); -ENOMEM. */
int region_txn_read_reply(const struct mvcc_kvpair *pairs, size_t n,
                          bool more, uint8_t **buf, size_t *cap,
                          size_t *len);

/* max_ts across leader changes (DESIGN.md "max_ts"). Every leadership
 * this store gains (a peer becoming leader, including a region born of a
 * split) takes the next generation. The owner of the store watches
 * region_store_leader_gen (region_store_on_change tells it when it
 * grows): when it grew to g, it asks PD's TSO for a
 * timestamp (a call started after reading g), raises the libmvcc store's
 * max_ts to it (mvcc_store_update_max_ts) and then reports
 * region_store_max_ts_synced(s, g). Async-commit and 1PC prewrites call
 * region_txn_check_max_ts inside region_txn_run (write) first: 0 when
 * this leadership is synced, REGION_EMAX_TS_NOT_SYNCED before (write
 * nothing then), NOT_LEADER when the leadership changed since the
 * command began. A write whose leadership changed between its start and
 * its proposal fails NOT_LEADER at the proposal. */
uint64_t region_store_leader_gen(struct region_store *s);
/* Calls fn(ctx) whenever the generation above grows, and whenever
 * region_store_report_gen does, so the owner can wait for that instead
 * of polling: on the thread that saw the change, with the store's lock
 * held, so fn must only note it (signal a condition variable) and call
 * nothing of this store. NULL fn removes it; once this returns, the old
 * fn is neither running nor called again. */
void region_store_on_change(struct region_store *s,
                            void (*fn)(void *),
                            void *ctx);
void region_store_max_ts_synced(struct region_store *s, uint64_t gen);

/* Changes to report to the placement driver at once (DESIGN.md
 * "Reporting changes"): every change a region heartbeat shows, a
 * leadership beginning here or an epoch change applied here (membership,
 * split, merge prepare, rollback or commit), takes the next report
 * generation (region_store_on_change's fn is called). The owner
 * reads the generation, lists what changed since the one it reported
 * last, and heartbeats those regions without waiting for its round. */
uint64_t region_store_report_gen(struct region_store *s);
/* Ids of the regions this store leads whose last change took a report
 * generation above gen (gen 0: every region it leads), in key order, at
 * most cap of them into ids (NULL when cap is 0); *n gets how many there
 * are. */
int region_store_led_since(struct region_store *s,
                           uint64_t gen,
                           uint64_t *ids,
                           size_t cap,
                           size_t *n);
int region_txn_check_max_ts(struct region_store *s);

/* MVCC GC on this store (DESIGN.md "GC"): libmvcc's mvcc_gc_range over
 * the range of every region here that holds a write record above the
 * safe point of its last sweep (the others have nothing new to remove;
 * store stats gc_regions_*), its deletes written straight to this
 * store's engine, not through Raft: every replica runs it for itself.
 * Removes every version no read at or above safe_point can see;
 * *removed (if not NULL) gets how many write records went (0 unless it
 * returns 0). The caller must have resolved every lock below safe_point
 * first (libmvcc's mvcc_client_resolve_below) and see that no
 * transaction starts below it. Calls are serialised; a safe_point at or
 * below that of the last one that succeeded is a no-op (0, *removed 0).
 * Blocks for the sweep; any thread but the loop's (which it never waits
 * for), and not once region_store_close began. Engine errors pass
 * through; a failed sweep may be run again. */
int region_store_gc(struct region_store *s, uint64_t safe_point,
                    uint64_t *removed);
/* The highest safe point a region_store_gc has started at on this store
 * (0: none; kept in the engine, so a restart keeps it), raised before
 * that sweep removes anything: versions a read below it would see may be
 * gone, so kvd refuses such reads (REGION_EGC_TOO_EARLY). Any thread. */
uint64_t region_store_gc_safe_point(struct region_store *s);

/* ---------------------------------------------------------------------
 * Client-side region cache: key -> region -> leader store, for clients
 * routing requests to stores (kvd ctl, later sqld). Thread-safe.
 */
struct region_cache;
int region_cache_create(struct region_cache **out);
/* NULL is a no-op. */
void region_cache_destroy(struct region_cache *c);
/* Record a region (copied) and its leader (0 unknown). Cached regions it
 * overlaps are dropped; it is ignored if a cached overlapping region has a
 * newer version (or the same region a newer conf_ver). */
int region_cache_update(struct region_cache *c, const struct region_desc *d,
                        uint64_t leader);
/* Whether d is older than what the cache holds (region_cache_update would
 * ignore it): a cached region it overlaps has a newer version, or its own
 * region a newer conf_ver. A router's or a store's answer that is older
 * comes from a map that has not heard of a split (or a membership change)
 * the cache has. */
bool region_cache_older(struct region_cache *c, const struct region_desc *d);
/* The cached region holding key: 0 with *d and *leader (either may be
 * NULL), or REGION_ENOT_FOUND (ask a store, then update). */
int region_cache_lookup(struct region_cache *c, const void *key, size_t len,
                        struct region_desc *d, uint64_t *leader);
/* Forget a region. */
void region_cache_invalidate(struct region_cache *c, uint64_t region_id);
/* Whether err (EpochNotMatch or KeyNotInRegion for region_id) comes from
 * a store behind the cache: the region it sent is older than the cached
 * one (neither epoch part newer, one older). */
bool region_cache_behind(struct region_cache *c, uint64_t region_id,
                         const struct region_err *err);
/* Fix the cache after a region error for region_id: NotLeader sets its
 * leader (0: unknown, try another store); EpochNotMatch and
 * KeyNotInRegion replace it by the region the store sent, with the leader
 * the store named, unless the store is behind (region_cache_behind): then
 * the cache keeps its region and forgets its leader; RegionNotFound
 * forgets it. Other codes change nothing. */
void region_cache_on_error(struct region_cache *c, uint64_t region_id,
                           const struct region_err *err);
/* Regions cached. */
size_t region_cache_count(struct region_cache *c);

/* ---------------------------------------------------------------------
 * Cluster transport (client.c): libmvcc's struct mvcc_transport over
 * librpc to kvd's Txn methods, for a 2PC client (sqld) on the cluster.
 * It routes with a region cache filled from the caller's router (libregion
 * does not know PD), keeps one connection per store on a private thread,
 * and is safe from any number of threads. Region errors and lost
 * connections fix the cache (and tell the router what went stale) and come
 * back as libmvcc's region codes, MVCC_NOT_LEADER .. MVCC_STORE_UNREACHABLE,
 * so that libmvcc's client backs off, locates again and resends. Shards
 * are region ids. DESIGN.md, "Cluster transport".
 */

/* Where regions and stores are: every call may block (it may ask PD), and
 * is made from the threads that use the transport. Codes: 0, or any
 * negative code (a libmvcc region code is passed on as it is; others
 * become MVCC_REGION_NOT_FOUND / MVCC_STORE_UNREACHABLE). */
struct region_router {
    void *ctx; /* passed to each call */
    /* The region holding key and its leader's store (0: unknown). */
    int (*region_by_key)(void *ctx, const void *key, size_t len,
                         struct region_desc *out, uint64_t *leader);
    /* The region holding the keys just below key (key NULL: the last
     * region). Optional: without it reverse scans are refused. */
    int (*region_before)(void *ctx, const void *key, size_t len,
                         struct region_desc *out, uint64_t *leader);
    /* The address "host:port" of a store into buf (NUL-terminated). */
    int (*store_addr)(void *ctx, uint64_t store_id, char *buf, size_t len);
    /* Optional: what the router said of region_id (when non-zero) or of
     * store_id (when non-zero) turned out stale: answer from fresh
     * information next time. */
    void (*invalidate)(void *ctx, uint64_t region_id, uint64_t store_id);
};

struct rpc_tls_config; /* librpc's TLS configuration */
struct region_client_opts {
    struct region_router router; /* copied; ctx borrowed until destroy */
    int call_timeout_ms;         /* one attempt's deadline (5000); a lock
                                    wait's own timeout is added to it */
    int connect_timeout_ms;      /* per connection attempt (1000) */
    region_log_fn log;           /* NULL: silent */
    void *log_ctx;               /* passed to log */
    int log_level;               /* lowest level passed to log */
    const struct rpc_tls_config *tls; /* NULL: plaintext; else (mutual)
                                         TLS to every store, borrowed
                                         until destroy */
};

struct region_client_stats {
    uint64_t calls;          /* commands sent to stores */
    uint64_t direct_calls;   /* of those, Txn calls made on the caller's
                                thread over a pooled blocking connection
                                (the rest went through the client's
                                loop thread) */
    uint64_t region_errors;  /* answered or met with a region code */
    uint64_t store_errors;   /* connections that failed or were lost */
    uint64_t router_lookups; /* cache misses that asked the router */
    uint64_t stale_conns;    /* pooled connections dropped because their
                                store had closed them (it restarted) */
    uint64_t forwarded;      /* calls sent through another store to a
                                leader this client could not reach */
};

struct region_client;
struct mvcc_transport;
/* REGION_EINVAL without region_by_key or store_addr; -ENOMEM. */
int region_client_create(const struct region_client_opts *opts,
                         struct region_client **out);
/* No call may be running. NULL is a no-op. */
void region_client_destroy(struct region_client *c);
/* Fills t with the transport over c (valid until region_client_destroy).
 * Prewrite carries 1PC and async commit (with the secondaries); values
 * over 65,535 bytes travel in the messages' spill blob, and Scan and
 * BatchGet replies kvd cut short by size are continued here. Keys over
 * 65,535 bytes fail -E2BIG, a request over the 16 MiB frame limit
 * RPC_EFRAME_TOO_LARGE, before anything is sent. Reads ignore
 * mvcc_read_opts' isolation and bypass list (kvd reads at SI); reverse
 * and key-only scans are done here over a forward scan. */
void region_client_transport(struct region_client *c,
                             struct mvcc_transport *t);
/* The client's region cache (borrowed): warm it, inspect it. */
struct region_cache *region_client_cache(struct region_client *c);
void region_client_stats(struct region_client *c,
                         struct region_client_stats *out);

/* Point reads on a caller's own event loop (sqld's loop thread):
 * region_loop_create makes a reader for c whose connections (one per
 * store, multiplexed) live on base and are used from base's thread only.
 * region_loop_get sends a BatchGet of key at ts to the region's leader as
 * the cache knows it and returns at once: 0 with *out naming the read,
 * or -EAGAIN (-ENOMEM), with nothing sent, when it cannot (region, leader
 * or the leader's address not cached, the store marked down): the
 * caller then reads through the transport, which routes, connects and
 * retries. fn runs later on the loop, once: rc 0 with res (borrowed for
 * the call: the pair, or no pair: not found), or a libmvcc code
 * (MVCC_LOCKED with the locks, a region error after fixing the cache,
 * MVCC_STORE_UNREACHABLE for a lost connection or the call timeout ...):
 * the caller reads again through the transport, which resolves and
 * retries. The read is freed when fn returns.
 * region_lget_abort ends a read unanswered: fn is not called.
 * region_loop_destroy ends the reads still out with
 * MVCC_STORE_UNREACHABLE (fn runs inside it); destroy the reader before
 * c and base. */
struct region_loop;
struct region_lget;
struct mvcc_result; /* libmvcc's read result */
struct event_base;  /* libevent 2.1 */
typedef void (*region_lget_fn)(int rc, struct mvcc_result *res, void *ud);
int region_loop_create(struct region_client *c, struct event_base *base,
                       struct region_loop **out);
void region_loop_destroy(struct region_loop *l);
int region_loop_get(struct region_loop *l, const void *key, size_t len,
                    uint64_t ts, region_lget_fn fn, void *ud,
                    struct region_lget **out);
void region_lget_abort(struct region_lget *g);

/* ---------------------------------------------------------------------
 * kvd's services (proto/kv.proto, generated into kv.pb.h): method ids,
 * service << 16 | method. Raw methods take kv.RawRequest and answer
 * kv.RawResponse; Txn methods take kv.TxnRequest and answer
 * kv.TxnResponse (DESIGN.md, "Service").
 */
/* A region as kv.proto's RegionInfo carries it (a kv_RegionInfo of
 * kv.pb.h) into *d; bounds longer than REGION_MAX_BOUND are left empty and
 * stores past REGION_MAX_PEERS dropped. For clients decoding Locate
 * answers and region errors. */
struct _kv_RegionInfo;
void region_desc_from_pb(const struct _kv_RegionInfo *ri,
                         struct region_desc *d);

#define REGION_METHOD_RAW_GET 0x00020001u
#define REGION_METHOD_RAW_BATCH_GET 0x00020002u
#define REGION_METHOD_RAW_PUT 0x00020003u
#define REGION_METHOD_RAW_BATCH_PUT 0x00020004u
#define REGION_METHOD_RAW_DELETE 0x00020005u
#define REGION_METHOD_RAW_BATCH_DELETE 0x00020006u
#define REGION_METHOD_RAW_SCAN 0x00020007u
#define REGION_METHOD_RAW_DELETE_RANGE 0x00020008u
#define REGION_METHOD_RAW_CAS 0x00020009u
#define REGION_METHOD_TXN_GET 0x00020010u
#define REGION_METHOD_TXN_BATCH_GET 0x00020011u
#define REGION_METHOD_TXN_SCAN 0x00020012u
#define REGION_METHOD_TXN_PREWRITE 0x00020013u
#define REGION_METHOD_TXN_COMMIT 0x00020014u
#define REGION_METHOD_TXN_BATCH_ROLLBACK 0x00020015u
#define REGION_METHOD_TXN_CLEANUP 0x00020016u
#define REGION_METHOD_TXN_CHECK_TXN_STATUS 0x00020017u
#define REGION_METHOD_TXN_RESOLVE_LOCK 0x00020018u
#define REGION_METHOD_TXN_SCAN_LOCK 0x00020019u
#define REGION_METHOD_TXN_HEARTBEAT 0x0002001au
#define REGION_METHOD_TXN_CHECK_SECONDARY_LOCKS 0x0002001bu
#define REGION_METHOD_TXN_PESSIMISTIC_LOCK 0x0002001cu
#define REGION_METHOD_TXN_PESSIMISTIC_ROLLBACK 0x0002001du
#define REGION_METHOD_TXN_DELETE_RANGE 0x0002001eu
#define REGION_METHOD_TXN_COP 0x0002001fu /* Coprocessor: TxnRequest (ctx,
                                            start, end, version, cop) ->
                                            TxnResponse (one pair: the
                                            answer in its value) */
#define REGION_METHOD_STORE_STATUS 0x00020020u /* StoreStatusRequest ->
                                                  StoreStatusResponse */
#define REGION_METHOD_LOCATE 0x00020021u /* LocateRequest ->
                                           LocateResponse */
#define REGION_METHOD_SPLIT_REGION 0x00020022u /* RawRequest (ctx, key:
                                                 the split key) ->
                                                 RawResponse */
#define REGION_METHOD_CHANGE_PEER 0x00020023u /* ChangePeerRequest ->
                                                RawResponse */
#define REGION_METHOD_RAW_GET_KEY_TTL 0x00020030u /* RawRequest (ctx,
                                        key) -> RawResponse (ttl,
                                        not_found) */
#define REGION_METHOD_FORWARD 0x00020024u /* ForwardRequest (store, method,
                                        request) -> the method's reply
                                        from that store, passed back as
                                        it came (a TxnResponse) */
#define REGION_METHOD_RAFT 0x00030001u /* RaftBatch -> RaftBatchResponse */

/* kv.Forward (DESIGN.md "Forwarding"): a store passes a Txn request on to
 * another store (a region's leader its client cannot reach) and the reply
 * back. Whether method may be forwarded: the kv.Txn methods. */
bool region_forward_method_ok(uint32_t method);
/* Bytes a ForwardRequest header takes at most (region_forward_header). */
#define REGION_FORWARD_HEADER_MAX 32
/* Writes the ForwardRequest fields before the request's bytes: store,
 * method and the request field's tag and length (req_len), into out
 * (REGION_FORWARD_HEADER_MAX bytes); the request's req_len bytes follow.
 * Returns the bytes written. */
size_t region_forward_header(uint8_t *out, uint64_t store, uint32_t method,
                             size_t req_len);
/* Reads a ForwardRequest: true with the store, the method and the
 * request's bytes (inside p), when p is one (fields in any order, the
 * last of each kept, unknown ones skipped) with a store and a method
 * that are not 0; false otherwise. */
bool region_forward_parse(const uint8_t *p, size_t len, uint64_t *store,
                          uint32_t *method, const uint8_t **req,
                          size_t *req_len);

/* ---------------------------------------------------------------------
 * Message batch codec (what transport.send carries), exposed for tools
 * and fuzzing: validates buf; 0 or REGION_EDECODE. *from gets the sender
 * and *n the message count. */
int region_msgs_check(const void *buf, size_t len, uint64_t *from, size_t *n);

#ifdef __cplusplus
}
#endif

#endif /* REGION_H */

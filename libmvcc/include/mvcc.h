/* mvcc.h: the one public header of libmvcc, Percolator transactions
 * (snapshot isolation) over a pluggable key-value engine.
 * What is not declared here is not API. See libmvcc/DESIGN.md: "Engine" for
 * the vtable, "Formats" for the byte layouts, "Commands" for the storage side.
 */
#ifndef MVCC_H
#define MVCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to libmvcc/VERSION (the build checks it). */
#define MVCC_VERSION_MAJOR 0
#define MVCC_VERSION_MINOR 22
#define MVCC_VERSION_PATCH 0
#define MVCC_VERSION_NUMBER \
    (MVCC_VERSION_MAJOR * 1000000 + MVCC_VERSION_MINOR * 1000 + MVCC_VERSION_PATCH)

/* The MVCC_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int mvcc_version_number(void);

/* The first MVCC_VERSION_NUMBER (0.9.0) whose prewrite checks a
 * pessimistic transaction's key it holds no lock on against for_update_ts
 * (DESIGN.md "Prewrite without our lock"): a client whose every store is
 * at least this version need not lock such keys itself (libsql's index
 * keys; kvd registers its version with pdd for that). */
#define MVCC_VERSION_PREWRITE_CHECK 9000

/* Result codes. 0 is success; -1..-999 are negative errno values (-EINVAL for
 * a bad argument, -ENOMEM when the allocator fails); libmvcc's own codes are
 * -2000..-2999. Expected outcomes (not found, locked, conflict) are codes too.
 * X(name, value, message). */
#define MVCC_ERROR_TABLE(X)                                                  \
    X(MVCC_EINTERNAL, -2000, "internal error in libmvcc")                    \
    X(MVCC_NOTFOUND, -2001, "key not found")                                 \
    X(MVCC_LOCKED, -2002, "key is locked by another transaction")            \
    X(MVCC_CONFLICT, -2003, "write conflict: a newer version is committed")  \
    X(MVCC_ALREADY_EXIST, -2004, "key already exists")                       \
    X(MVCC_TXN_NOT_FOUND, -2005, "transaction not found (no lock, no record)") \
    X(MVCC_ROLLED_BACK, -2006, "transaction was rolled back")                \
    X(MVCC_CORRUPT, -2007, "stored record is malformed")                     \
    X(MVCC_EENGINE, -2008, "storage engine error")                           \
    X(MVCC_COMMITTED, -2009, "transaction is already committed")             \
    X(MVCC_COMMIT_TS_EXPIRED, -2010, "commit_ts is below the lock's min_commit_ts") \
    X(MVCC_DEADLOCK, -2011, "deadlock detected")                             \
    X(MVCC_LOCK_WAIT_TIMEOUT, -2012, "lock wait timed out")                  \
    X(MVCC_LOCK_NOT_FOUND, -2013, "expected lock is missing")              \
    X(MVCC_NOT_LEADER, -2014, "region error: not the shard's leader")      \
    X(MVCC_EPOCH_NOT_MATCH, -2015, "region error: shard range changed")    \
    X(MVCC_REGION_NOT_FOUND, -2016, "region error: shard not found")       \
    X(MVCC_KEY_NOT_IN_REGION, -2017, "region error: key not in shard")     \
    X(MVCC_SERVER_BUSY, -2018, "region error: server is busy")             \
    X(MVCC_STALE_COMMAND, -2019, "region error: stale command")            \
    X(MVCC_STORE_UNREACHABLE, -2020, "region error: store unreachable")    \
    X(MVCC_MAX_TS_NOT_SYNCED, -2021,                                         \
      "async commit / 1PC refused: the leader's max_ts is not synced yet")    \
    X(MVCC_INTERRUPTED, -2022, "lock wait interrupted")                   \
    X(MVCC_COMMIT_DEADLINE, -2023,                                           \
      "commit refused: past the transaction's commit deadline")               \
    X(MVCC_UNDETERMINED, -2024,                                              \
      "transaction outcome undetermined: the commit may have applied "       \
      "(a store did not answer); read before running it again")

enum mvcc_error {
#define MVCC__ERROR_ENUM(name, value, text) name = (value),
    MVCC_ERROR_TABLE(MVCC__ERROR_ENUM)
#undef MVCC__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *mvcc_strerror(int rc);

/* ---------------------------------------------------------------------- */
/* Allocator hook and logger                                              */

/* Every allocation libmvcc makes goes through this hook (process-wide).
 * Set it before creating any object; NULL restores libc's allocator. */
struct mvcc_heap
{
    void *ctx;                                      /* passed to each call */
    void *(*malloc)(void *ctx, size_t n);           /* like malloc */
    void *(*realloc)(void *ctx, void *p, size_t n); /* like realloc */
    void (*free)(void *ctx, void *p);               /* like free; p may be NULL */
};
void mvcc_heap_set(const struct mvcc_heap *heap);

enum mvcc_log_level {
    MVCC_LOG_ERROR = 0,
    MVCC_LOG_WARN = 1,
    MVCC_LOG_INFO = 2,
    MVCC_LOG_DEBUG = 3,
};
/* Libraries never print: messages go to this callback, when their level is
 * at or below the configured one. msg is borrowed for the call only. */
typedef void (*mvcc_log_fn)(void *ctx, int level, const char *msg);

/* ---------------------------------------------------------------------- */
/* Engine: an ordered key-value store with column families (DESIGN "Engine") */

enum mvcc_cf {
    MVCC_CF_DEFAULT = 0, /* large values, key = user key + ~start_ts */
    MVCC_CF_LOCK = 1,    /* one lock per user key */
    MVCC_CF_WRITE = 2,   /* commit and rollback records, key + ~commit_ts */
    MVCC_CF_RAFT = 3,    /* the embedder's own log (libregion: Raft log and
                            hard state); libmvcc's commands never touch it */
};
/* The data CFs, 0 .. MVCC_CF_COUNT - 1: the ones libmvcc's commands use and
 * a serialized batch (mvcc_wbatch_encode) may name. */
#define MVCC_CF_COUNT 3
/* Every CF an engine holds: the data CFs and MVCC_CF_RAFT. An embedder's
 * own engine is handed MVCC_CF_RAFT only if its embedder uses it. */
#define MVCC_ENGINE_CF_COUNT 4

enum mvcc_wop_type {
    MVCC_WOP_PUT = 1,          /* put key -> value */
    MVCC_WOP_DELETE = 2,       /* delete key */
    MVCC_WOP_DELETE_RANGE = 3, /* delete keys in [key, value) */
};

/* One operation of a write batch, as engines read it. The pointers are
 * borrowed from the batch until it is cleared or destroyed. */
struct mvcc_wop
{
    int type;             /* enum mvcc_wop_type */
    int cf;               /* enum mvcc_cf, < MVCC_ENGINE_CF_COUNT */
    const uint8_t *key;   /* key (range start for DELETE_RANGE) */
    size_t key_len;       /* its length */
    const uint8_t *value; /* value (range end for DELETE_RANGE) */
    size_t value_len;     /* its length */
};

/* A write batch: ops applied atomically, in order, by mvcc_engine_write. */
struct mvcc_wbatch;
int mvcc_wbatch_create(struct mvcc_wbatch **out);
void mvcc_wbatch_destroy(struct mvcc_wbatch *b);
void mvcc_wbatch_clear(struct mvcc_wbatch *b);
/* Each copies key and value into the batch. */
int mvcc_wbatch_put(struct mvcc_wbatch *b, int cf, const void *key,
                    size_t key_len, const void *value, size_t value_len);
int mvcc_wbatch_delete(struct mvcc_wbatch *b, int cf, const void *key,
                       size_t key_len);
int mvcc_wbatch_delete_range(struct mvcc_wbatch *b, int cf, const void *start,
                             size_t start_len, const void *end, size_t end_len);
size_t mvcc_wbatch_count(const struct mvcc_wbatch *b);
/* Serialized form, for shipping a batch (a Raft log entry): the bytes
 * are handed over in *out (mvcc_free them). Layout in DESIGN "Formats".
 * Data CFs only: -EINVAL for a batch with an MVCC_CF_RAFT op (a shipped
 * batch never writes the log it travels in). */
int mvcc_wbatch_encode(const struct mvcc_wbatch *b, uint8_t **out,
                       size_t *out_len);
/* Appends the ops of an encoded batch to b: MVCC_CORRUPT (b unchanged) if
 * the bytes are malformed. */
int mvcc_wbatch_decode(struct mvcc_wbatch *b, const void *data, size_t len);
/* The i-th op (i < count); its pointers borrowed until the batch changes. */
void mvcc_wbatch_op(const struct mvcc_wbatch *b, size_t i, struct mvcc_wop *op);

struct mvcc_engine;
struct mvcc_snapshot; /* engine-defined; opaque to callers */

/* Iterator bounds: [lower, upper); a NULL bound is unbounded. Copied. */
struct mvcc_iter_opts
{
    const void *lower;    /* inclusive lower bound or NULL */
    size_t lower_len;     /* its length */
    const void *upper;    /* exclusive upper bound or NULL */
    size_t upper_len;     /* its length */
};

/* An iterator's behaviour, supplied by the engine. Positioning calls return
 * 0 or an error; valid() says whether it is on an entry. key/value are
 * borrowed until the next positioning call. */
struct mvcc_iter;
struct mvcc_iter_ops
{
    int (*seek)(struct mvcc_iter *it, const void *key, size_t len); /* first >= key */
    int (*seek_for_prev)(struct mvcc_iter *it, const void *key,
                         size_t len);                  /* last <= key */
    int (*seek_to_first)(struct mvcc_iter *it);        /* first in bounds */
    int (*seek_to_last)(struct mvcc_iter *it);         /* last in bounds */
    int (*next)(struct mvcc_iter *it);                 /* step forward */
    int (*prev)(struct mvcc_iter *it);                 /* step backward */
    bool (*valid)(const struct mvcc_iter *it);         /* on an entry */
    const uint8_t *(*key)(const struct mvcc_iter *it, size_t *len);   /* its key */
    const uint8_t *(*value)(const struct mvcc_iter *it, size_t *len); /* its value */
    void (*destroy)(struct mvcc_iter *it);             /* release */
};
struct mvcc_iter
{
    const struct mvcc_iter_ops *ops; /* engine's implementation */
};

/* The engine vtable. An embedder may supply its own engine: fill this and
 * embed struct mvcc_engine at the start of its handle. Every function is
 * thread-safe. get returns MVCC_NOTFOUND for a missing key and hands the
 * value over in *value (free with mvcc_free). snap NULL reads the latest
 * state. write applies the batch atomically; sync asks for durability
 * before returning. */
struct mvcc_engine_ops
{
    int (*get)(struct mvcc_engine *e, const struct mvcc_snapshot *snap, int cf,
               const void *key, size_t key_len, uint8_t **value,
               size_t *value_len);
    int (*write)(struct mvcc_engine *e, const struct mvcc_wbatch *b, bool sync);
    int (*snapshot)(struct mvcc_engine *e, struct mvcc_snapshot **out);
    void (*snapshot_release)(struct mvcc_engine *e, struct mvcc_snapshot *s);
    int (*iter)(struct mvcc_engine *e, const struct mvcc_snapshot *snap, int cf,
                const struct mvcc_iter_opts *opts, struct mvcc_iter **out);
    void (*destroy)(struct mvcc_engine *e);
    /* Optional (NULL: -ENOTSUP): an integer property of column family cf,
     * named as mvcc_engine_property lists. */
    int (*property)(struct mvcc_engine *e, int cf, const char *name,
                    uint64_t *out);
    /* Optional (NULL: -ENOTSUP): rewrites column family cf's data in
     * [start, end) (NULL: unbounded) so that deleted entries take no
     * space and no reader steps over them (RocksDB: CompactRange, the
     * memtable flushed first when it overlaps). Blocks until done. */
    int (*compact)(struct mvcc_engine *e, int cf, const void *start,
                   size_t start_len, const void *end, size_t end_len);
};
struct mvcc_engine
{
    const struct mvcc_engine_ops *ops; /* the implementation */
    char errmsg[256];                  /* detail of the last engine error */
    uint64_t nwrites; /* batches with a CF-write op written through
                         mvcc_engine_write (and put/delete), counted
                         after each lands (atomic): a store's kept read
                         iterator is current while it is unchanged
                         (DESIGN "Reads") */
};

/* The in-memory ordered engine: a skiplist per column family, versions
 * tagged with sequence numbers so snapshots cost nothing to take. */
int mvcc_memengine_create(struct mvcc_engine **out);

/* The RocksDB engine (RocksDB 7.8.3 through rocksdb/c.h). */
struct mvcc_rocks_opts
{
    const char *path;            /* database directory (created if missing) */
    size_t block_cache_bytes;    /* LRU block cache; 0 = 64 MiB */
    bool disable_wal;            /* no WAL: writes lost on crash (tests) */
    size_t recycle_log_files;    /* WAL files to recycle (see shared DESIGN) */
    const char *wal_dir;         /* WAL directory or NULL for path */
    size_t write_buffer_bytes;   /* memtable size; 0 = RocksDB default */
    /* WAL files together past this make RocksDB flush the column
     * families whose memtables keep the oldest WAL alive, so that it can
     * be deleted (max_total_wal_size): bounds the WAL a restart replays.
     * 0 = RocksDB's default (4 x the memtables of every CF). */
    size_t max_wal_bytes;
    size_t raft_write_buffer_bytes; /* CF raft's memtable; 0 = a quarter
                                       of the data CFs' (of RocksDB's
                                       default 64 MiB when that is 0), but
                                       at least 4 MiB */
    /* The lock CF is written but not read at run time (a store with
     * lock_table): its memtable is an unsorted vector, so writing a lock
     * costs an append instead of a skiplist insert; reading it (an
     * iterator) sorts a copy. Concurrent memtable writes are off. */
    bool lock_cf_write_only;
};
/* On failure *errmsg_out (if not NULL) receives RocksDB's message, truncated
 * to errmsg_len bytes. */
int mvcc_rocksengine_open(const struct mvcc_rocks_opts *opts,
                          struct mvcc_engine **out, char *errmsg_out,
                          size_t errmsg_len);

/* Convenience wrappers over the vtable. */
void mvcc_engine_destroy(struct mvcc_engine *e);
int mvcc_engine_get(struct mvcc_engine *e, const struct mvcc_snapshot *snap,
                    int cf, const void *key, size_t key_len, uint8_t **value,
                    size_t *value_len);
int mvcc_engine_put(struct mvcc_engine *e, int cf, const void *key,
                    size_t key_len, const void *value, size_t value_len);
int mvcc_engine_delete(struct mvcc_engine *e, int cf, const void *key,
                       size_t key_len);
int mvcc_engine_delete_range(struct mvcc_engine *e, int cf, const void *start,
                             size_t start_len, const void *end, size_t end_len);
int mvcc_engine_write(struct mvcc_engine *e, const struct mvcc_wbatch *b,
                      bool sync);
int mvcc_engine_snapshot(struct mvcc_engine *e, struct mvcc_snapshot **out);
void mvcc_engine_snapshot_release(struct mvcc_engine *e,
                                  struct mvcc_snapshot *s);
int mvcc_engine_iter(struct mvcc_engine *e, const struct mvcc_snapshot *snap,
                     int cf, const struct mvcc_iter_opts *opts,
                     struct mvcc_iter **out);
void mvcc_iter_destroy(struct mvcc_iter *it);
const char *mvcc_engine_errmsg(const struct mvcc_engine *e);
/* An integer figure of the engine for monitoring, read from column family
 * cf (MVCC_CF_*). The RocksDB engine answers RocksDB's integer properties:
 * per column family ("rocksdb.estimate-num-keys",
 * "rocksdb.total-sst-files-size", "rocksdb.cur-size-all-mem-tables",
 * "rocksdb.estimate-pending-compaction-bytes", ...) and database-wide ones,
 * the same whichever cf asks ("rocksdb.block-cache-usage",
 * "rocksdb.num-running-compactions", "rocksdb.background-errors"). -EINVAL
 * for a bad cf, -ENOENT for a name the engine does not know, -ENOTSUP from
 * an engine without properties (the in-memory one). */
int mvcc_engine_property(struct mvcc_engine *e, int cf, const char *name,
                         uint64_t *out);
/* Rewrites cf's data in [start, end) (NULL: unbounded) without the
 * entries deleted there (the engine's compact; -ENOTSUP from an engine
 * without one: the in-memory one, which drops a deleted entry once no
 * snapshot can see it). */
int mvcc_engine_compact(struct mvcc_engine *e, int cf, const void *start,
                        size_t start_len, const void *end, size_t end_len);

/* Allocate and free through the hook: engines hand values over allocated
 * with mvcc_malloc; callers release what libmvcc hands over with mvcc_free. */
void *mvcc_malloc(size_t n);
void mvcc_free(void *p);

/* ---------------------------------------------------------------------- */
/* Timestamps and key encoding (DESIGN "Formats")                          */

/* physical_ms << 18 | logical, as the TSO hands them out. */
typedef uint64_t mvcc_ts;
#define MVCC_TS_MAX UINT64_MAX
#define MVCC_TS_LOGICAL_BITS 18
/* A timestamp's physical part (ms), and the first timestamp of ms. */
#define MVCC_TS_PHYSICAL(ts) ((uint64_t)(ts) >> MVCC_TS_LOGICAL_BITS)
#define MVCC_TS_OF_MS(ms) ((mvcc_ts)(ms) << MVCC_TS_LOGICAL_BITS)

/* Bytes needed to encode a user key of len bytes memcomparably. */
size_t mvcc_key_encoded_len(size_t len);
/* Encodes key into out (mvcc_key_encoded_len(len) bytes); returns that size. */
size_t mvcc_key_encode(const void *key, size_t len, uint8_t *out);
/* Decodes a memcomparable key from in[0..in_len): the user key goes to out
 * (at least in_len bytes), its length to *out_len, the bytes consumed to
 * *used. MVCC_CORRUPT for a malformed encoding. */
int mvcc_key_decode(const uint8_t *in, size_t in_len, uint8_t *out,
                    size_t *out_len, size_t *used);

/* ---------------------------------------------------------------------- */
/* Storage side: Percolator commands over an engine (DESIGN "Commands")    */

/* A borrowed byte string (a user key). */
struct mvcc_key
{
    const void *data; /* bytes, borrowed for the call */
    size_t len;       /* length */
};

struct mvcc_store;

/* How a command's batch reaches the engine. NULL: written to the engine
 * directly. A replicated store (libregion) proposes it through Raft and
 * returns once it is applied to this engine (or with an error, and then
 * not applied). Called with the command's latches held; batch borrowed for
 * the call. */
typedef int (*mvcc_apply_fn)(void *ctx, const struct mvcc_wbatch *batch,
                             bool sync);

/* Deadlock detection for pessimistic lock waits (DESIGN "Pessimistic
 * locks"). Before a lock request sleeps waiting for txn holder, the store
 * calls detect(waiter, holder, key): 0 adds the edge waiter -> holder to
 * the wait-for graph, MVCC_DEADLOCK means holder already waits (through
 * the graph) for waiter, so the request fails with MVCC_DEADLOCK; any
 * other code (its host unreachable): the store asks its own graph
 * instead, which finds cycles among its own keys only. When the request
 * stops waiting, clean_up_wait_for(waiter, holder) removes the edge from
 * the detector that took it (never called for an edge it refused).
 * Stores sharing one detector find deadlocks across stores; a cluster
 * hosts one struct mvcc_detector in one place and reaches it from every
 * store (an RPC behind these calls). key is borrowed for the call. */
struct mvcc_deadlock_detector
{
    void *ctx; /* passed to each call */
    int (*detect)(void *ctx, mvcc_ts waiter, mvcc_ts holder, const void *key,
                  size_t key_len);
    void (*clean_up_wait_for)(void *ctx, mvcc_ts waiter, mvcc_ts holder);
};

/* A wait-for graph (thread-safe). Edges are counted: the same edge added
 * by two requests stays until both clean it up. */
struct mvcc_detector;
int mvcc_detector_create(struct mvcc_detector **out);
void mvcc_detector_destroy(struct mvcc_detector *d);
/* 0 (edge added) or MVCC_DEADLOCK (holder reaches waiter; not added). */
int mvcc_detector_detect(struct mvcc_detector *d, mvcc_ts waiter,
                         mvcc_ts holder);
void mvcc_detector_clean_up_wait_for(struct mvcc_detector *d, mvcc_ts waiter,
                                     mvcc_ts holder);
/* Removes every edge from or to txn (it ended). */
void mvcc_detector_clean_up(struct mvcc_detector *d, mvcc_ts txn);
/* Distinct edges now (tests, metrics). */
size_t mvcc_detector_edges(struct mvcc_detector *d);
/* Edges not renewed by a detect for ttl_ms are dropped (0, the default:
 * never). For a detector reached over the network, whose clean-up calls
 * are lost when a store dies: a stale edge would report deadlocks that
 * are not there. A request waiting longer than ttl_ms loses its edge, so
 * a deadlock it is part of is then ended by its wait timeout instead. */
void mvcc_detector_set_ttl(struct mvcc_detector *d, uint64_t ttl_ms);
/* Fills iface with calls straight into d (stores in one process). */
void mvcc_detector_iface(struct mvcc_detector *d,
                         struct mvcc_deadlock_detector *iface);

struct mvcc_store_opts
{
    mvcc_apply_fn apply;  /* batch path; NULL = mvcc_engine_write */
    void *apply_ctx;      /* its context */
    bool sync;            /* every command's batch is written with sync */
    size_t latch_slots;   /* per-key latch slots (power of two); 0 = 4096 */
    mvcc_log_fn log;      /* logger or NULL */
    void *log_ctx;        /* its context */
    int log_level;        /* enum mvcc_log_level: highest level logged */
    /* Shared deadlock detector (copied; its ctx borrowed until
     * mvcc_store_close; both calls required, else -EINVAL), or NULL: the
     * store keeps a graph of its own. */
    const struct mvcc_deadlock_detector *detector;
    /* Keep an exact copy of the lock CF in memory and serve every lock
     * read from it (DESIGN "Lock table"): the lock CF is then written but
     * never read while the store runs. Without an apply hook, only for a
     * store that is the sole writer of its keys' locks: no direct engine
     * writes to the lock CF, and other stores over the same engine only
     * with disjoint keys. With one (a replicated store) the embedder
     * keeps it exact: on every replica, every engine write that may hold
     * applied lock-CF ops goes through mvcc_store_write_applied, and a
     * range of the lock CF replaced otherwise is reloaded with
     * mvcc_store_reload_locks (DESIGN "Lock table"). Loaded from the
     * engine at open. Without an apply hook, the lock of a lone primary
     * (a prewrite of a transaction's primary
     * alone, without async commit or 1PC) is kept in the table only,
     * until mvcc_store_close writes it: a crash loses it, and that
     * transaction's commit then fails with MVCC_TXN_NOT_FOUND (DESIGN
     * "Failure and recovery"). */
    bool lock_table;
};

/* Opens a store over an engine, which stays the caller's (borrowed until
 * mvcc_store_close). Every command is thread-safe. */
int mvcc_store_open(struct mvcc_engine *eng, const struct mvcc_store_opts *opts,
                    struct mvcc_store **out);
/* A replicated store's write of applied commands (opts.apply with
 * opts.lock_table): writes b to eng (the engine under the store's, or the
 * store's own), then applies `locks` (the lock-CF ops of the batches b
 * carries, keyed as the store's engine sees them; NULL: none) to the lock
 * table. Every replica writes every applied batch this way, so the table
 * of the next leader is already exact. A write to CF write is counted on
 * the store's engine (its kept read iterators are then stale) before the
 * table changes; mvcc_store_reload_locks counts one too. Otherwise it is
 * mvcc_engine_write(eng, b, sync). On an error (out of memory before the
 * write, or the write's own) the table did not change. */
int mvcc_store_write_applied(struct mvcc_store *s, struct mvcc_engine *eng,
                             const struct mvcc_wbatch *b,
                             const struct mvcc_wbatch *locks, bool sync);
/* After the lock CF's [start, end) (end_len 0: no upper bound) changed in
 * the store's engine other than through mvcc_store_write_applied (a
 * snapshot installed, a removed replica's data deleted): the table's
 * entries there become the engine's. 0 without a table; -EINVAL for a
 * store without an apply hook (its table is exact by itself). Out of
 * memory leaves the table as it was. */
int mvcc_store_reload_locks(struct mvcc_store *s, const void *start,
                            size_t start_len, const void *end,
                            size_t end_len);
/* Closes the store (no command may run). With a lock table and no apply
 * hook it first writes the locks kept only there to the engine (failures
 * are logged at ERROR: those transactions then fail to commit, as after a
 * crash). */
void mvcc_store_close(struct mvcc_store *s);

/* Lock kinds as reported in struct mvcc_lock_info. */
enum mvcc_lock_type {
    MVCC_LOCK_PUT = 'P',         /* prewritten put */
    MVCC_LOCK_DELETE = 'D',      /* prewritten delete */
    MVCC_LOCK_LOCK = 'L',        /* prewritten read lock (no data change) */
    MVCC_LOCK_PESSIMISTIC = 'S', /* pessimistic lock before prewrite */
};

/* A lock as reported by KeyIsLocked, ScanLock, CheckTxnStatus. */
struct mvcc_lock_info
{
    uint8_t *key;           /* locked user key (owned by the result) */
    size_t key_len;         /* its length */
    uint8_t *primary;       /* the transaction's primary key (owned) */
    size_t primary_len;     /* its length */
    mvcc_ts start_ts;       /* lock_version: the transaction's start_ts */
    uint64_t ttl;           /* ms after start_ts's physical time */
    int type;               /* enum mvcc_lock_type */
    mvcc_ts for_update_ts;  /* pessimistic for_update_ts */
    mvcc_ts min_commit_ts;  /* commit_ts will be >= this */
    uint64_t txn_size;      /* keys in the transaction */
    bool use_async_commit;  /* async commit: secondaries below */
    struct mvcc_key *secondaries; /* async commit secondaries (owned) */
    size_t nsecondaries;    /* how many */
};

struct mvcc_kvpair
{
    uint8_t *key;     /* user key (owned by the result) */
    size_t key_len;   /* its length */
    uint8_t *value;   /* value (owned; NULL for key-only scans) */
    size_t value_len; /* its length */
};

/* Outcome of CheckTxnStatus / CheckSecondaryLocks. */
enum mvcc_txn_status {
    MVCC_TXN_LOCKED = 1,      /* still locked (locks/lock_ttl say more) */
    MVCC_TXN_COMMITTED = 2,   /* committed at commit_ts */
    MVCC_TXN_ROLLED_BACK = 3, /* rolled back (maybe just now) */
};
enum mvcc_txn_action {
    MVCC_ACT_NONE = 0,
    MVCC_ACT_TTL_EXPIRE_ROLLBACK = 1,      /* lock expired: rolled back now */
    MVCC_ACT_LOCK_NOT_EXIST_ROLLBACK = 2,  /* nothing there: rollback written */
    MVCC_ACT_MIN_COMMIT_TS_PUSHED = 3,     /* pushed above the caller's ts */
    MVCC_ACT_TTL_EXPIRE_PESSIMISTIC_ROLLBACK = 4, /* pessimistic lock expired */
};

/* What a command returns besides its code. Initialise with
 * mvcc_result_init; every command resets it first; mvcc_result_reset frees
 * what it holds. Which fields are set, per command and code:
 *   0 from Get/BatchGet/Scan         pairs
 *   MVCC_LOCKED                      locks: reads report the first lock in
 *                                    the way, Prewrite every one of them
 *   MVCC_CONFLICT                    key, conflict_start_ts, conflict_commit_ts
 *   MVCC_ALREADY_EXIST               key
 *   MVCC_COMMITTED (Cleanup/Rollback) commit_ts
 *   MVCC_COMMIT_TS_EXPIRED           min_commit_ts
 *   0 from Prewrite                  min_commit_ts (async), commit_ts (1PC)
 *   0 from CheckTxnStatus            status, action, lock_ttl, commit_ts, locks
 *   0 from CheckSecondaryLocks       status, commit_ts, locks
 *   0 from TxnHeartBeat              lock_ttl
 *   0 from ScanLock                  locks
 *   MVCC_DEADLOCK                    conflict_start_ts (the txn waited for)
 */
struct mvcc_result
{
    struct mvcc_kvpair *pairs;    /* read results */
    size_t npairs;                /* how many */
    struct mvcc_lock_info *locks; /* locks found */
    size_t nlocks;                /* how many */
    uint8_t *key;                 /* the key an error is about (owned) */
    size_t key_len;               /* its length */
    mvcc_ts conflict_start_ts;    /* conflicting txn's start_ts */
    mvcc_ts conflict_commit_ts;   /* its commit_ts */
    mvcc_ts commit_ts;            /* see the table above */
    mvcc_ts min_commit_ts;        /* see the table above */
    int status;                   /* enum mvcc_txn_status */
    int action;                   /* enum mvcc_txn_action */
    uint64_t lock_ttl;            /* lock's TTL */
    char errmsg[256];             /* detail of a failure */
    size_t pairs_cap;             /* allocated pairs */
    size_t locks_cap;             /* allocated locks */
};
void mvcc_result_init(struct mvcc_result *r);
void mvcc_result_reset(struct mvcc_result *r);

enum mvcc_isolation {
    MVCC_ISO_SI = 0, /* snapshot isolation: locks at or below ts block */
    MVCC_ISO_RC = 1, /* read committed: locks are ignored */
};

struct mvcc_read_opts
{
    int isolation;             /* enum mvcc_isolation */
    const mvcc_ts *bypass;     /* txns (start_ts) whose locks reads may skip */
    size_t nbypass;            /* how many */
    size_t limit;              /* Scan: at most this many pairs; 0 = no limit */
    bool key_only;             /* Scan: keys without values */
    bool reverse;              /* Scan: descending from end (exclusive) */
};

/* Reads at ts. Get: 0 and pairs[0], MVCC_NOTFOUND, or MVCC_LOCKED.
 * BatchGet: the pairs found (missing keys are omitted), or MVCC_LOCKED.
 * Scan: [start, end) (end_len 0 and end NULL = unbounded). ro may be NULL. */
int mvcc_get(struct mvcc_store *s, const struct mvcc_read_opts *ro,
             const void *key, size_t key_len, mvcc_ts ts,
             struct mvcc_result *res);
int mvcc_batch_get(struct mvcc_store *s, const struct mvcc_read_opts *ro,
                   const struct mvcc_key *keys, size_t n, mvcc_ts ts,
                   struct mvcc_result *res);
int mvcc_scan(struct mvcc_store *s, const struct mvcc_read_opts *ro,
              const void *start, size_t start_len, const void *end,
              size_t end_len, mvcc_ts ts, struct mvcc_result *res);

enum mvcc_op {
    MVCC_OP_PUT = 1,              /* write value */
    MVCC_OP_DELETE = 2,           /* delete */
    MVCC_OP_LOCK = 3,             /* lock only (SELECT FOR UPDATE) */
    MVCC_OP_INSERT = 4,           /* put; MVCC_ALREADY_EXIST if it exists */
    MVCC_OP_CHECK_NOT_EXISTS = 5, /* no write; MVCC_ALREADY_EXIST if exists */
};

struct mvcc_mutation
{
    int op;                   /* enum mvcc_op */
    const void *key;          /* user key */
    size_t key_len;           /* its length */
    const void *value;        /* value for PUT/INSERT */
    size_t value_len;         /* its length */
    bool pessimistic_lock;    /* pessimistic txn: this key holds our lock
                                 (if it is gone: checked against start_ts,
                                 MVCC_LOCK_NOT_FOUND; DESIGN "Prewrite
                                 without our lock") */
};

struct mvcc_prewrite_req
{
    const struct mvcc_mutation *mutations; /* keys of this request */
    size_t n;                 /* how many */
    const void *primary;      /* the transaction's primary key */
    size_t primary_len;       /* its length */
    mvcc_ts start_ts;         /* transaction start */
    uint64_t lock_ttl;        /* ms */
    uint64_t txn_size;        /* keys in the whole transaction */
    mvcc_ts min_commit_ts;    /* lower bound for commit_ts (0 = start_ts+1) */
    mvcc_ts for_update_ts;    /* pessimistic txns: current for_update_ts
                                 (0: optimistic); keys without our lock
                                 conflict only with Puts and Deletes
                                 after it */
    bool use_async_commit;    /* async commit (primary lists secondaries) */
    const struct mvcc_key *secondaries; /* async: every other key */
    size_t nsecondaries;      /* how many */
    bool try_one_pc;          /* commit now if this is every key */
    uint64_t deadline_ms;     /* 1PC/async: refused (MVCC_COMMIT_DEADLINE,
                                 nothing written) once the store's wall
                                 clock (CLOCK_REALTIME ms) is past it when
                                 it decides the commit_ts; 0 = none */
};

/* Prewrite: all or nothing. On any error nothing is written. */
int mvcc_prewrite(struct mvcc_store *s, const struct mvcc_prewrite_req *req,
                  struct mvcc_result *res);
/* Commit keys of start_ts at commit_ts: idempotent; MVCC_ROLLED_BACK,
 * MVCC_TXN_NOT_FOUND, MVCC_COMMIT_TS_EXPIRED, MVCC_LOCK_NOT_FOUND (only a
 * pessimistic lock is there). */
int mvcc_commit(struct mvcc_store *s, const struct mvcc_key *keys, size_t n,
                mvcc_ts start_ts, mvcc_ts commit_ts, struct mvcc_result *res);
/* Rollback keys of start_ts, leaving rollback records: MVCC_COMMITTED if a
 * key is already committed. */
int mvcc_batch_rollback(struct mvcc_store *s, const struct mvcc_key *keys,
                        size_t n, mvcc_ts start_ts, struct mvcc_result *res);
/* Rollback one key if its lock expired at current_ts (0 = unconditionally):
 * MVCC_LOCKED if alive, MVCC_COMMITTED if committed. */
int mvcc_cleanup(struct mvcc_store *s, const void *key, size_t key_len,
                 mvcc_ts start_ts, mvcc_ts current_ts, struct mvcc_result *res);

struct mvcc_check_txn_req
{
    const void *primary;          /* the primary key */
    size_t primary_len;           /* its length */
    mvcc_ts lock_ts;              /* the transaction's start_ts */
    mvcc_ts caller_start_ts;      /* reader's ts to push above; 0 = none */
    mvcc_ts current_ts;           /* now, for TTL expiry */
    bool rollback_if_not_exist;   /* write a rollback if nothing is there */
    bool force_sync_commit;       /* treat an async lock as a normal one */
};
int mvcc_check_txn_status(struct mvcc_store *s,
                          const struct mvcc_check_txn_req *req,
                          struct mvcc_result *res);
/* Async commit recovery: status LOCKED with every lock, or COMMITTED, or
 * ROLLED_BACK (a missing lock is rolled back so it cannot appear later). */
int mvcc_check_secondary_locks(struct mvcc_store *s,
                               const struct mvcc_key *keys, size_t n,
                               mvcc_ts start_ts, struct mvcc_result *res);
/* Extends the primary lock's TTL to at least advise_ttl: lock_ttl set;
 * MVCC_TXN_NOT_FOUND if the lock is gone. */
int mvcc_txn_heartbeat(struct mvcc_store *s, const void *primary,
                       size_t primary_len, mvcc_ts start_ts,
                       uint64_t advise_ttl, struct mvcc_result *res);
/* Locks with start_ts <= max_ts in [start, end), at most limit (0 = all). */
int mvcc_scan_lock(struct mvcc_store *s, mvcc_ts max_ts, const void *start,
                   size_t start_len, const void *end, size_t end_len,
                   size_t limit, struct mvcc_result *res);
/* Commits (commit_ts != 0) or rolls back (commit_ts == 0) every lock of
 * start_ts in [start, end). */
int mvcc_resolve_lock(struct mvcc_store *s, mvcc_ts start_ts,
                      mvcc_ts commit_ts, const void *start, size_t start_len,
                      const void *end, size_t end_len, struct mvcc_result *res);


/* Pessimistic transactions (DESIGN "Pessimistic locks"). */
struct mvcc_pessimistic_req
{
    const struct mvcc_key *keys; /* keys to lock */
    size_t n;                    /* how many */
    const void *primary;         /* the transaction's primary key */
    size_t primary_len;          /* its length */
    mvcc_ts start_ts;            /* transaction start */
    mvcc_ts for_update_ts;       /* conflicts are checked against this */
    uint64_t lock_ttl;           /* ms */
    int64_t wait_timeout_ms;     /* <= 0: MVCC_LOCKED at once; else wait */
    bool return_values;          /* pairs = current values of the keys */
    const bool *interrupt;       /* optional (NULL: none; in-process
                                    only, not carried over a network):
                                    once it reads true (read atomically)
                                    a wait ends with MVCC_INTERRUPTED;
                                    whoever sets it then calls
                                    mvcc_store_wake_waiters */
};
/* 0 (all keys locked; pairs if asked), MVCC_CONFLICT (a commit after
 * for_update_ts: retry with a newer for_update_ts), MVCC_LOCKED (no wait),
 * MVCC_LOCK_WAIT_TIMEOUT, MVCC_DEADLOCK (conflict_start_ts = the txn waited
 * for), MVCC_ROLLED_BACK (this txn was rolled back). All or nothing. */
int mvcc_acquire_pessimistic_lock(struct mvcc_store *s,
                                  const struct mvcc_pessimistic_req *req,
                                  struct mvcc_result *res);
/* Removes this txn's pessimistic locks with for_update_ts <= the given one
 * (other lock kinds are left alone). */
int mvcc_pessimistic_rollback(struct mvcc_store *s,
                              const struct mvcc_key *keys, size_t n,
                              mvcc_ts start_ts, mvcc_ts for_update_ts,
                              struct mvcc_result *res);

/* A sweep that removed at least this many versions compacts the write CF
 * over what it removed (DESIGN "GC": tombstones); an embedder sweeping
 * ranges with mvcc_gc_range compacts with mvcc_gc_compact past the same
 * count. */
#define MVCC_GC_COMPACT_MIN 1024
/* GC: removes every version no read at or above safe_point can see (keeps
 * the newest Put at or below it); *removed counts records removed. Locks
 * are left alone: resolve them first (ScanLock + ResolveLock). */
int mvcc_gc(struct mvcc_store *s, mvcc_ts safe_point, uint64_t *removed);
/* What one mvcc_gc_range did. */
struct mvcc_gc_result
{
    uint64_t removed; /* write records removed (as mvcc_gc's *removed) */
    uint64_t records; /* write records read: every version in the range */
    mvcc_ts max_ts;   /* the highest ts among them (0: none) */
};
/* mvcc_gc over the user keys [start, end) alone (start_len 0: from the
 * first key; end_len 0: to the last). An embedder that knows which of its
 * ranges gained no write record above the safe point of their last sweep
 * skips them (nothing there became garbage since): out->max_ts is the
 * newest record the sweep read, whatever its ts. Unlike mvcc_gc it
 * compacts nothing: a caller sweeping many small ranges compacts those
 * whose removals add up (mvcc_gc_compact; DESIGN "GC"). out may be NULL;
 * it is filled on errors too (what was done before the error). No log
 * line (the caller says what its sweep did). */
int mvcc_gc_range(struct mvcc_store *s, const void *start, size_t start_len,
                  const void *end, size_t end_len, mvcc_ts safe_point,
                  struct mvcc_gc_result *out);
/* Rewrites the write CF over the user keys [start, end) (start_len 0:
 * from the first key; end_len 0: to the last), so that no scan steps over
 * the tombstones sweeps left there (kept read iterators are renewed, as
 * after a write). The engine's code (-ENOTSUP: it has no compaction); a
 * failure is also logged at WARN. */
int mvcc_gc_compact(struct mvcc_store *s, const void *start,
                    size_t start_len, const void *end, size_t end_len);
/* Deletes every version, lock and value of the user keys in [start, end)
 * (end NULL = unbounded). The caller keeps transactions out of the range. */
int mvcc_delete_range(struct mvcc_store *s, const void *start,
                      size_t start_len, const void *end, size_t end_len);

/* How many pessimistic lock requests are waiting now (tests, metrics):
 * counted once their wait-for edge is registered, until they stop. */
size_t mvcc_store_lock_waiters(struct mvcc_store *s);
/* Wakes every lock wait of the store to look at its interrupt flag (the
 * request's `interrupt`): set the flag first, then call this; a wait
 * whose flag is set ends with MVCC_INTERRUPTED at once, the others sleep
 * on. Thread-safe. */
void mvcc_store_wake_waiters(struct mvcc_store *s);

/* The highest timestamp any read has used (async commit and 1PC pick
 * commit_ts above it). */
mvcc_ts mvcc_store_max_ts(struct mvcc_store *s);
/* Raises max_ts to at least ts: call with a fresh TSO timestamp after
 * opening a store over existing data, before serving async-commit or 1PC
 * prewrites (reads served before a restart are otherwise forgotten). */
void mvcc_store_update_max_ts(struct mvcc_store *s, mvcc_ts ts);

/* ---------------------------------------------------------------------- */
/* Client side: the two-phase-commit coordinator (DESIGN "Client")         */

/* How the client reaches storage. Keys are split into shards (regions):
 * locate names the shard holding a key and where that shard ends (borrowed
 * until the next call; NULL = unbounded). Every command goes to one shard
 * and has the storage command's semantics and codes. Thread-safe.
 * A command the shard could not run (it moved, split, lost its leader, is
 * overloaded, or its store could not be reached) returns a region error
 * (mvcc_is_region_error: MVCC_NOT_LEADER .. MVCC_STORE_UNREACHABLE;
 * a transport translates its own codes to these): the client then backs
 * off, locates the keys again (the shard map may have changed: locate
 * must then answer from fresh information) and resends, split per shard
 * if need be (DESIGN "Client: region errors"). A command that returned a
 * region error must not have run, or must be safe to run again (every
 * command is idempotent). */
struct mvcc_transport
{
    void *ctx; /* passed to every call */
    int (*locate)(void *ctx, const void *key, size_t len, uint64_t *shard,
                  const uint8_t **end, size_t *end_len);
    /* The shard holding the keys just below key (key NULL: the last
     * shard), and where it starts (NULL = it is the first). Borrowed until
     * the next call. Optional: reverse scans need it. */
    int (*locate_prev)(void *ctx, const void *key, size_t len,
                       uint64_t *shard, const uint8_t **start,
                       size_t *start_len);
    int (*batch_get)(void *ctx, uint64_t shard,
                     const struct mvcc_read_opts *ro,
                     const struct mvcc_key *keys, size_t n, mvcc_ts ts,
                     struct mvcc_result *res);
    int (*scan)(void *ctx, uint64_t shard, const struct mvcc_read_opts *ro,
                const void *start, size_t start_len, const void *end,
                size_t end_len, mvcc_ts ts, struct mvcc_result *res);
    int (*prewrite)(void *ctx, uint64_t shard,
                    const struct mvcc_prewrite_req *req,
                    struct mvcc_result *res);
    int (*commit)(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                  size_t n, mvcc_ts start_ts, mvcc_ts commit_ts,
                  struct mvcc_result *res);
    int (*batch_rollback)(void *ctx, uint64_t shard,
                          const struct mvcc_key *keys, size_t n,
                          mvcc_ts start_ts, struct mvcc_result *res);
    int (*check_txn_status)(void *ctx, uint64_t shard,
                            const struct mvcc_check_txn_req *req,
                            struct mvcc_result *res);
    int (*check_secondary_locks)(void *ctx, uint64_t shard,
                                 const struct mvcc_key *keys, size_t n,
                                 mvcc_ts start_ts, struct mvcc_result *res);
    int (*resolve_lock)(void *ctx, uint64_t shard, mvcc_ts start_ts,
                        mvcc_ts commit_ts, const void *start,
                        size_t start_len, const void *end, size_t end_len,
                        struct mvcc_result *res);
    int (*txn_heartbeat)(void *ctx, uint64_t shard, const void *primary,
                         size_t primary_len, mvcc_ts start_ts,
                         uint64_t advise_ttl, struct mvcc_result *res);
    int (*acquire_pessimistic_lock)(void *ctx, uint64_t shard,
                                    const struct mvcc_pessimistic_req *req,
                                    struct mvcc_result *res);
    int (*pessimistic_rollback)(void *ctx, uint64_t shard,
                                const struct mvcc_key *keys, size_t n,
                                mvcc_ts start_ts, mvcc_ts for_update_ts,
                                struct mvcc_result *res);
    /* Optional (NULL: the transport has none): a region-scoped opaque
     * request (a coprocessor request: libsql's pushed-down scans), run
     * next to the data of [start, end) (inside the shard; end NULL = the
     * shard's end) at ts. 0 with *resp (mvcc_malloc'd, the caller
     * mvcc_frees it), a region error, MVCC_LOCKED (res->locks: a lock at
     * or below ts in the range; resolve it and resend), or the handler's
     * own code. Reads only: safe to resend. */
    int (*cop)(void *ctx, uint64_t shard, const void *start,
               size_t start_len, const void *end, size_t end_len,
               mvcc_ts ts, const void *req, size_t req_len, uint8_t **resp,
               size_t *resp_len, struct mvcc_result *res);
    /* Optional (NULL: GC's lock resolution is not offered): ScanLock,
     * locks with start_ts <= max_ts in [start, end) (end NULL = the
     * shard's end), at most limit (0 = all), in res->locks in key order. */
    int (*scan_lock)(void *ctx, uint64_t shard, mvcc_ts max_ts,
                     const void *start, size_t start_len, const void *end,
                     size_t end_len, size_t limit, struct mvcc_result *res);
};

/* What serves cop requests next to a store (the embedder's: libsql's
 * sql_cop_run): the arguments as struct mvcc_transport's cop, the shard
 * resolved to its store, [start, end) clipped to the shard. */
typedef int (*mvcc_cop_handler)(void *ctx, struct mvcc_store *s,
                                const void *start, size_t start_len,
                                const void *end, size_t end_len, mvcc_ts ts,
                                const void *req, size_t req_len,
                                uint8_t **resp, size_t *resp_len,
                                struct mvcc_result *res);

/* The in-process transport: n stores, store i holding keys in
 * [splits[i-1], splits[i]) (n-1 split keys, ascending, copied). Release
 * with mvcc_local_transport_free. */
int mvcc_local_transport_init(struct mvcc_transport *t,
                              struct mvcc_store *const *stores, size_t n,
                              const struct mvcc_key *splits);
void mvcc_local_transport_free(struct mvcc_transport *t);
/* Serve t's cop calls with fn(ctx, ...) (NULL: none; t->cop stays NULL).
 * Call before copying t into a client's options. */
void mvcc_local_transport_set_cop(struct mvcc_transport *t,
                                  mvcc_cop_handler fn, void *ctx);

/* A timestamp oracle: strictly increasing timestamps. */
typedef int (*mvcc_tso_fn)(void *ctx, mvcc_ts *out);
/* An in-process oracle over CLOCK_REALTIME: physical_ms << 18 | logical.
 * ctx must point to a zeroed struct mvcc_local_tso. */
struct mvcc_local_tso
{
    mvcc_ts last; /* last timestamp handed out (updated atomically) */
};
int mvcc_local_tso_next(void *ctx, mvcc_ts *out);

/* Failure-injection points for tests (a "crash" of the coordinator). */
enum mvcc_failpoint {
    MVCC_FP_AFTER_PREWRITE = 1,       /* every key prewritten */
    MVCC_FP_AFTER_PRIMARY_COMMIT = 2, /* primary committed */
};

/* A region error met by the client (see struct mvcc_transport). */
struct mvcc_region_error
{
    int rc;           /* the code: mvcc_is_region_error(rc) */
    uint64_t shard;   /* the shard the command went to */
    const void *key;  /* a key of the command (borrowed for the call;
                         never NULL: "" for the empty key) */
    size_t key_len;   /* its length */
    unsigned attempt; /* region errors this call met before this one */
};
/* Whether rc is a region error (MVCC_NOT_LEADER .. MVCC_STORE_UNREACHABLE). */
bool mvcc_is_region_error(int rc);
/* The default backoff in ms before retry number attempt + 1 after rc:
 * shard moves (not leader, epoch, not found, key not in region, stale)
 * retry at once, then 2, 4, 8 .. 500 ms; a busy server 10, 20, 40 ..
 * 1000 ms; an unreachable store 5, 10, 20 .. 1000 ms. -1 for other codes. */
int64_t mvcc_region_backoff_default(int rc, unsigned attempt);

struct mvcc_client_opts
{
    struct mvcc_transport transport; /* copied */
    mvcc_tso_fn tso;                 /* timestamp oracle */
    void *tso_ctx;                   /* its context */
    uint64_t lock_ttl;               /* ms; 0 = 3000 */
    bool async_commit;               /* use async commit when possible */
    bool one_pc;                     /* use 1PC when all keys are on one shard */
    uint64_t resolve_budget_ms;      /* give up resolving after; 0 = 20000 */
    /* Test seam: return nonzero to stop the commit at that point as if the
     * coordinator died (nothing more is sent, the txn is abandoned). */
    int (*failpoint)(void *ctx, int point);
    void *failpoint_ctx;             /* its context */
    /* Region errors: called (from any thread that sends) on each one
     * before the retry, so a cluster client can drop or refresh its cache
     * entry for e->shard; returns how many ms to back off before locating
     * the keys again and resending (0 = at once), or < 0 to give up (the
     * call then fails with e->rc). NULL = mvcc_region_backoff_default. */
    int64_t (*on_region_error)(void *ctx, const struct mvcc_region_error *e);
    void *region_ctx;                /* its context */
    uint64_t region_budget_ms;       /* stop retrying one call after; 0 = 20000 */
    /* A two-phase or async commit keeps its primary lock alive from the
     * primary's prewrite until it ends (TxnHeartBeat every lock_ttl/3 from
     * a thread of its own, as a pessimistic transaction's locks are): a
     * commit stalled past the TTL (a loaded machine, a leader change) is
     * not rolled back by a reader meanwhile. false: the TTL alone. */
    bool commit_keepalive;
    /* The TTL a heartbeat gives the lock it keeps alive, past the
     * transaction's age (TiDB's ManagedLockTTL, 20 s): a live
     * coordinator's locks outlast a pdd election or a leader move that
     * holds its heartbeats up; a dead one's expire that long after its
     * last heartbeat. 0: lock_ttl. */
    uint64_t managed_lock_ttl;
};

struct mvcc_client;
struct mvcc_txn;
int mvcc_client_create(const struct mvcc_client_opts *opts,
                       struct mvcc_client **out);
void mvcc_client_destroy(struct mvcc_client *c);

/* Begins a transaction at a fresh start_ts. */
int mvcc_txn_begin(struct mvcc_client *c, struct mvcc_txn **out);
/* GC's first step (DESIGN.md "GC"): resolves every lock with start_ts
 * below safe_point, in every shard, through the transport's scan_lock
 * (-ENOTSUP without one): a committed or rolled-back transaction's locks
 * are committed or rolled back, an expired one's rolled back (or
 * recovered, for async commit). 0 when none is left, MVCC_LOCKED when a
 * live transaction still holds some (the safe point must not pass it
 * yet), or an error. *resolved (if not NULL): locks met. */
int mvcc_client_resolve_below(struct mvcc_client *c, mvcc_ts safe_point,
                              uint64_t *resolved);
mvcc_ts mvcc_txn_start_ts(const struct mvcc_txn *t);
/* The transactions (start_ts) whose locks t's reads skip: each was found
 * pushed above t's start_ts, so it cannot commit at or below it (TiKV's
 * resolved_locks). *n of them; the array is t's, valid until t's next
 * read or its end. For a request t's reads do not send themselves (a
 * coprocessor request carries its own copy). */
const mvcc_ts *mvcc_txn_resolved_locks(const struct mvcc_txn *t, size_t *n);
/* Reads see the txn's own buffered writes, then its snapshot; locks in the
 * way are resolved (with backoff). Get: 0 with *value (mvcc_free it),
 * MVCC_NOTFOUND. BatchGet: the pairs found (buffered ones first, then one
 * request per shard). Scan fills res->pairs with [start, end) in order, up
 * to limit (0 = all). */
int mvcc_txn_get(struct mvcc_txn *t, const void *key, size_t key_len,
                 uint8_t **value, size_t *value_len);
int mvcc_txn_batch_get(struct mvcc_txn *t, const struct mvcc_key *keys,
                       size_t n, struct mvcc_result *res);
int mvcc_txn_scan(struct mvcc_txn *t, const void *start, size_t start_len,
                  const void *end, size_t end_len, size_t limit,
                  struct mvcc_result *res);
/* Scan in descending order: [start, end) from end down, up to limit (0 =
 * all); needs the transport's locate_prev. */
int mvcc_txn_scan_reverse(struct mvcc_txn *t, const void *start,
                          size_t start_len, const void *end, size_t end_len,
                          size_t limit, struct mvcc_result *res);
/* Buffer a write (copied). */
int mvcc_txn_set(struct mvcc_txn *t, const void *key, size_t key_len,
                 const void *value, size_t value_len);
int mvcc_txn_delete(struct mvcc_txn *t, const void *key, size_t key_len);
/* Savepoints (SQL's SAVEPOINT / ROLLBACK TO): savepoint returns a mark of
 * the write buffer as it is; rollback_to(mark) undoes every set and
 * delete buffered since, newest first, and invalidates marks taken after
 * it (it stays valid itself). Pessimistic locks taken since stay held (a
 * key locked and written since goes back to lock-only). Marks are only
 * compared with this txn's. Writes after the first savepoint keep the
 * value they replace until the txn ends. 0, or -EINVAL for a mark
 * beyond the buffer's log (a rolled-back-past one). */
int mvcc_txn_savepoint(struct mvcc_txn *t, size_t *mark);
int mvcc_txn_rollback_to(struct mvcc_txn *t, size_t mark);
/* Pessimistic locking (SELECT ... FOR UPDATE): locks the keys at a fresh
 * for_update_ts, waiting up to wait_ms for other transactions' locks (0 =
 * MVCC_LOCKED at once). A commit after an earlier for_update_ts is not a
 * failure here: the lock is retaken at a newer one (the lock, not the
 * snapshot, is what serializes). The first key ever locked becomes the
 * primary. 0, MVCC_LOCKED, MVCC_LOCK_WAIT_TIMEOUT, MVCC_DEADLOCK (the caller
 * should roll back), MVCC_ROLLED_BACK, MVCC_INTERRUPTED. Locked keys are committed with the
 * transaction (as lock-only if not written) and released by rollback. */
int mvcc_txn_lock_keys(struct mvcc_txn *t, const struct mvcc_key *keys,
                       size_t n, int64_t wait_ms);
/* The txn's lock requests carry flag (borrowed for the txn's life; NULL:
 * none) as their `interrupt`: once it reads true a wait, and the client's
 * retries around it, end with MVCC_INTERRUPTED (the caller should then
 * end the statement). With the in-process transport another thread ends
 * a wait at once by setting the flag and calling mvcc_store_wake_waiters;
 * over a network the flag is seen between retries only. */
void mvcc_txn_set_interrupt(struct mvcc_txn *t, const bool *flag);
/* Commit deadline (DESIGN.md "Commit deadline"; a SQL layer bounds a
 * commit by its schema lease): every commit_ts of the txn is decided
 * before deadline_ms (wall clock, CLOCK_REALTIME ms). A 1PC or async
 * prewrite carries it to the store, which refuses it past the deadline
 * writing nothing: a refused primary goes on in two phases, a refused
 * async secondary is sent again under a renewed deadline (which must lie
 * in the future). In two phases, a commit_ts taken past the deadline is
 * renewed once every key is locked, and any successful renewal accepts
 * it. renew(ctx, &deadline_ms) vouches again for what the deadline stood
 * for and answers a later one; anything but 0 ends the commit with that
 * answer, rolled back. renew NULL: MVCC_COMMIT_DEADLINE. 0: no
 * deadline (the default). renew may be called from the commit's prewrite
 * threads at once. */
typedef int (*mvcc_commit_renew_fn)(void *ctx, uint64_t *deadline_ms);
void mvcc_txn_set_commit_deadline(struct mvcc_txn *t, uint64_t deadline_ms,
                                  mvcc_commit_renew_fn renew, void *ctx);
/* A renewal for a request still to be sent that answers a deadline
 * already past (it took longer than what it vouched for) is asked again,
 * up to 4 times in a row, before the commit ends with
 * MVCC_COMMIT_DEADLINE. With a check set, a two-phase commit whose
 * commit_ts was taken past the deadline calls check(ctx, commit_ts)
 * instead of renew, once every key is locked: 0 commits, anything else
 * ends the commit with that answer, rolled back (libsql: a commit_ts is
 * safe if a version read above it shows the tables written unchanged,
 * whatever the clock says). NULL: renew as above. */
typedef int (*mvcc_commit_check_fn)(void *ctx, mvcc_ts commit_ts);
void mvcc_txn_set_commit_check(struct mvcc_txn *t, mvcc_commit_check_fn check,
                               void *ctx);
/* Locks one key as above and reads its latest committed value: 0 with
 * *value (mvcc_free it) or MVCC_NOTFOUND, or a lock_keys error. */
int mvcc_txn_get_for_update(struct mvcc_txn *t, const void *key,
                            size_t key_len, int64_t wait_ms, uint8_t **value,
                            size_t *value_len);
/* The start_ts of the transaction whose lock the txn's last lock request
 * (lock_keys, get_for_update) stopped at when it answered MVCC_LOCKED or
 * MVCC_LOCK_WAIT_TIMEOUT; 0 after any other answer or when the store did
 * not say. A caller whose waits run in stores that do not share a
 * deadlock detector (a cluster) reports the edge txn -> blocker to a
 * wait-for graph of its own before it waits again. */
mvcc_ts mvcc_txn_blocker(const struct mvcc_txn *t);
/* Whether the txn holds a pessimistic lock on key (taken by lock_keys or
 * get_for_update and not given up): a caller doing MySQL's locking reads
 * reads such keys current, not from the snapshot. */
bool mvcc_txn_holds_lock(const struct mvcc_txn *t, const void *key,
                         size_t key_len);
/* Commits and frees the txn: 0 with *commit_ts (if not NULL),
 * MVCC_CONFLICT (nothing committed; never retried blindly: a newer
 * commit, or an older transaction's live lock it gave way to, DESIGN.md
 * "Prewrites that wait on each other"), MVCC_LOCKED (a
 * lock could not be resolved in time), or another error; after an error
 * the txn's prewrites are rolled back. A read-only txn commits at once. */
int mvcc_txn_commit(struct mvcc_txn *t, mvcc_ts *commit_ts);
/* Abandons the txn (buffered writes dropped, pessimistic locks released)
 * and frees it. */
void mvcc_txn_rollback(struct mvcc_txn *t);

#ifdef __cplusplus
}
#endif

#endif /* MVCC_H */

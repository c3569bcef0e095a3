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
#define MVCC_VERSION_MINOR 2
#define MVCC_VERSION_PATCH 0
#define MVCC_VERSION_NUMBER \
    (MVCC_VERSION_MAJOR * 1000000 + MVCC_VERSION_MINOR * 1000 + MVCC_VERSION_PATCH)

/* The MVCC_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int mvcc_version_number(void);

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
    X(MVCC_LOCK_NOT_FOUND, -2013, "expected lock is missing")                \
    X(MVCC_ECLOSED, -2014, "handle is closed")

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
};
#define MVCC_CF_COUNT 3

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
    int cf;               /* enum mvcc_cf */
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
};
struct mvcc_engine
{
    const struct mvcc_engine_ops *ops; /* the implementation */
    char errmsg[256];                  /* detail of the last engine error */
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

/* Allocate and free through the hook: engines hand values over allocated
 * with mvcc_malloc; callers release what libmvcc hands over with mvcc_free. */
void *mvcc_malloc(size_t n);
void mvcc_free(void *p);

/* ---------------------------------------------------------------------- */
/* Timestamps and key encoding (DESIGN "Formats")                          */

/* physical_ms << 18 | logical, as the TSO hands them out. */
typedef uint64_t mvcc_ts;
#define MVCC_TS_MAX UINT64_MAX

/* Bytes needed to encode a user key of len bytes memcomparably. */
size_t mvcc_key_encoded_len(size_t len);
/* Encodes key into out (mvcc_key_encoded_len(len) bytes); returns that size. */
size_t mvcc_key_encode(const void *key, size_t len, uint8_t *out);
/* Decodes a memcomparable key from in[0..in_len): the user key goes to out
 * (at least in_len bytes), its length to *out_len, the bytes consumed to
 * *used. MVCC_CORRUPT for a malformed encoding. */
int mvcc_key_decode(const uint8_t *in, size_t in_len, uint8_t *out,
                    size_t *out_len, size_t *used);

#ifdef __cplusplus
}
#endif

#endif /* MVCC_H */

/* kv.h: the one key-value interface the SQL layer stores through (begin,
 * get, batch get, scan, set, delete, lock, commit, rollback), and its local
 * implementations, both libmvcc's 2PC client: local (libmvcc's store on an
 * in-process engine, the in-process transport and a local TSO) and cluster
 * (a caller-given transport and TSO). DESIGN.md, "Storage mapping" and
 * "Engine".
 */
#ifndef SQL_KV_H
#define SQL_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mvcc.h>

/* Result codes are libmvcc's, untranslated (STYLE.md "Errors"):
 * MVCC_NOTFOUND, MVCC_CONFLICT, MVCC_LOCKED, MVCC_LOCK_WAIT_TIMEOUT,
 * MVCC_DEADLOCK, ...; -ENOMEM. The session maps them to MySQL errors. */

struct sql_kv;
struct sql_kvtxn;

/* Read results: pairs in key order (the scan's order when reversed); the
 * bytes are owned by the result until sql__kvres_reset. Both
 * implementations (local and cluster) run libmvcc's client, so the result
 * is libmvcc's. */
struct sql_kvres
{
    struct mvcc_result r; /* r.pairs, r.npairs */
};

void sql__kvres_init(struct sql_kvres *res);
void sql__kvres_reset(struct sql_kvres *res);

/* The operations a store offers; a struct sql_kv starts with its ops. */
struct sql_kv_ops
{
    int (*begin)(struct sql_kv *kv, struct sql_kvtxn **out);
    void (*close)(struct sql_kv *kv);
};

struct sql_kv
{
    const struct sql_kv_ops *ops; /* the implementation */
    char errmsg[256];             /* detail of the last open/engine error */
};

/* How the local store keeps its data. */
struct sql_kv_local_opts
{
    const char *path; /* RocksDB directory; NULL = in-memory engine */
    bool sync;        /* fsync every commit (RocksDB only) */
    uint64_t resolve_budget_ms; /* how long a write waits for another
                                   transaction's lock before MVCC_LOCKED;
                                   0 = 100 (it waits under the server
                                   mutex: a long wait stalls every
                                   session) */
};

/* Open the local store. On failure errmsg (if not NULL) says why. */
int sql__kv_local_open(const struct sql_kv_local_opts *o, struct sql_kv **out,
                       char *errmsg, size_t errmsg_len);
/* Open a store on the caller's transport and TSO (the cluster): opts as
 * for mvcc_client_create (copied; the transport's and TSO's contexts
 * borrowed until close); async commit and 1PC as the caller's opts say
 * (the transport must carry them: libregion's does). gc: the cluster's
 * safe points (copied, ctx borrowed), or NULL: no GC from here. */
struct sql_gc_cluster;
int sql__kv_cluster_open(const struct mvcc_client_opts *opts,
                         const struct sql_gc_cluster *gc,
                         struct sql_kv **out, char *errmsg,
                         size_t errmsg_len);
void sql__kv_close(struct sql_kv *kv); /* NULL: no-op */
/* The transport coprocessor requests go through (cop_client.c): the
 * cluster's when it serves cop calls, else NULL (the local store reads
 * in process: nothing to push down). Borrowed until close. */
const struct mvcc_transport *sql__kv_cop_transport(struct sql_kv *kv);

int sql__kv_begin(struct sql_kv *kv, struct sql_kvtxn **out);
/* A transaction reading the latest committed versions (start_ts
 * MVCC_TS_MAX, no TSO call): only for a statement that reads one key and
 * writes nothing (pointread.c); locks in the way are resolved as usual. */
int sql__kv_begin_latest(struct sql_kv *kv, struct sql_kvtxn **out);
/* A transaction reading at ts, taken without the TSO (tests: a read at an
 * open transaction's start_ts, as sqld's loop thread makes one). */
int sql__kv_begin_at(struct sql_kv *kv, uint64_t ts, struct sql_kvtxn **out);
uint64_t sql__kvtxn_start_ts(const struct sql_kvtxn *t);
/* sql_server_gc's round on kv (sql.h, DESIGN.md "GC"), *out filled;
 * MVCC_LOCKED where it answers SQL_GC_LIVE_LOCK. */
struct sql_gc_stats;
int sql__kv_gc(struct sql_kv *kv, uint64_t life_ms,
               struct sql_gc_stats *out);
/* The point read in two halves (sqld's loop thread reads the row itself;
 * DESIGN.md "Point reads"): between begin and end, this thread's reads
 * never reach the store: the TSO, scans and every read are refused
 * (-EWOULDBLOCK), except a read of one key by a transaction that has
 * written and locked nothing (one reading the latest versions, or an
 * open transaction at its start_ts): answered from val (found: the key
 * has that value; else no value) when key names that key and ts is the
 * transaction's start_ts, else the key and the start_ts are noted and
 * the read refused. Borrowed until end. end: 0 nothing was refused; 1 a
 * read of one key was refused, the key copied into key and the version
 * it reads into *ts; -1 anything else was refused. */
#define SQL_PREFETCH_KEY_MAX 64
void sql__kv_prefetch_begin(const void *key, size_t klen, uint64_t ts,
                            const void *val, size_t vlen, bool found);
int sql__kv_prefetch_end(uint8_t *key, size_t cap, size_t *klen,
                         uint64_t *ts);
/* Between begin and end: whether a read was refused (the statement's
 * failure is then no answer to give: the caller reads another way). */
bool sql__kv_prefetch_refused(void);
/* The transactions whose locks t's reads skip (mvcc_txn_resolved_locks):
 * *n start_ts, valid until t's next read. */
const uint64_t *sql__kvtxn_resolved_locks(const struct sql_kvtxn *t,
                                          size_t *n);
/* 0 with *value (free with sql__kv_free), or MVCC_NOTFOUND. */
int sql__kvtxn_get(struct sql_kvtxn *t, const void *key, size_t key_len,
                   uint8_t **value, size_t *value_len);
/* The pairs found among keys (any order). Keys this txn locked (lock,
 * get_for_update) read their latest committed value, not the snapshot's
 * (a locking read). */
int sql__kvtxn_batch_get(struct sql_kvtxn *t, const struct mvcc_key *keys,
                         size_t n, struct sql_kvres *res);
/* [start, end) ascending, or descending from end when reverse; at most
 * limit pairs (0 = all). */
int sql__kvtxn_scan(struct sql_kvtxn *t, const void *start, size_t start_len,
                    const void *end, size_t end_len, size_t limit,
                    bool reverse, struct sql_kvres *res);
/* Buffered until commit (copied). */
int sql__kvtxn_set(struct sql_kvtxn *t, const void *key, size_t key_len,
                   const void *value, size_t value_len);
int sql__kvtxn_delete(struct sql_kvtxn *t, const void *key, size_t key_len);
/* Savepoints: a mark of the buffered writes; undo those since a mark
 * (locks stay held; later marks become invalid). 0 or -EINVAL. */
int sql__kvtxn_savepoint(struct sql_kvtxn *t, size_t *mark);
int sql__kvtxn_rollback_to(struct sql_kvtxn *t, size_t mark);
/* SELECT ... FOR UPDATE: lock the keys now, waiting up to wait_ms for
 * another transaction's lock (0: MVCC_LOCKED at once; then
 * MVCC_LOCK_WAIT_TIMEOUT, MVCC_DEADLOCK). */
int sql__kvtxn_lock(struct sql_kvtxn *t, const struct mvcc_key *keys,
                    size_t n, int64_t wait_ms);
/* Pessimistic current read: lock the key (waiting as above) and read its
 * latest committed value, not the snapshot's: 0 with *value (sql__kv_free
 * it) or MVCC_NOTFOUND. */
int sql__kvtxn_get_for_update(struct sql_kvtxn *t, const void *key,
                              size_t key_len, int64_t wait_ms,
                              uint8_t **value, size_t *value_len);
/* Lock waits of t end with MVCC_INTERRUPTED once *flag reads true
 * (borrowed for t's life): set it, then sql__kv_wake_waiters (KILL). */
void sql__kvtxn_set_interrupt(struct sql_kvtxn *t, const bool *flag);
/* t decides its commit_ts before deadline_ms, renew extending it when
 * needed (mvcc_txn_set_commit_deadline). */
void sql__kvtxn_set_commit_deadline(struct sql_kvtxn *t, uint64_t deadline_ms,
                                    mvcc_commit_renew_fn renew, void *ctx);
/* A two-phase commit_ts taken past that deadline is proven by check
 * instead (mvcc_txn_set_commit_check). */
void sql__kvtxn_set_commit_check(struct sql_kvtxn *t,
                                 mvcc_commit_check_fn check, void *ctx);
/* Before t waits (again) for the lock its last lock request stopped at:
 * on the cluster, whose stores each detect deadlocks among their own
 * waits only, the edge t -> that lock's holder goes into this process's
 * wait-for graph; MVCC_DEADLOCK (t should end) if it closes a cycle, else
 * 0 (also for the local store, which detects itself). The edge stays
 * until sql__kvtxn_wait_end, t's next wait_begin for another holder, or
 * t's end. DESIGN.md "Deadlocks across stores". */
int sql__kvtxn_wait_begin(struct sql_kvtxn *t);
void sql__kvtxn_wait_end(struct sql_kvtxn *t);
/* Wakes the lock waits of the store in this process (none for the
 * cluster, whose waits see the flag between their slices). */
void sql__kv_wake_waiters(struct sql_kv *kv);
/* Whether sql__kv_wake_waiters reaches kv's lock waits (the store is in
 * this process). */
bool sql__kv_wakeable(const struct sql_kv *kv);
/* Whether the txn has buffered writes or locks. */
bool sql__kvtxn_dirty(const struct sql_kvtxn *t);
/* Commit and free: 0, MVCC_CONFLICT (nothing committed), MVCC_LOCKED, ... */
int sql__kvtxn_commit(struct sql_kvtxn *t);
/* Abandon and free. NULL: no-op. */
void sql__kvtxn_rollback(struct sql_kvtxn *t);
void sql__kv_free(void *p); /* values handed over by get */
/* Lock requests waiting in this process's store with their wait-for edge
 * registered (libmvcc's count; 0 on the cluster, where kvd waits): tests
 * wait for it before closing a deadlock cycle. */
size_t sql__kv_lock_waiters(struct sql_kv *kv);

#endif /* SQL_KV_H */

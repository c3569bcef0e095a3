/* kv.c: the key-value store under the SQL layer: libmvcc's 2PC client,
 * either over libmvcc's store on a memory or RocksDB engine in this
 * process (one shard, in-process transport, local TSO), or over a
 * caller-given transport and TSO (the cluster: kvd through libregion, PD's
 * TSO). Both are the same struct; the cluster one owns no store.
 * DESIGN.md, "Engine".
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sql.h>

#include "arena.h"
#include "kv.h"

struct kv_local;

struct sql_kvtxn
{
    struct mvcc_txn *t;      /* libmvcc's transaction */
    struct kv_local *kv;     /* the store it runs on */
    mvcc_ts waits_for;       /* the holder of its edge in kv->det, or 0 */
    bool dirty;              /* a write or lock was buffered */
    bool active;             /* in kv->active (a snapshot GC must keep) */
    mvcc_ts floor;           /* its start_ts, or below it while beginning */
    struct sql_kvtxn *prev, *next; /* kv->active */
};

struct kv_local
{
    struct sql_kv base;          /* ops and errmsg */
    struct mvcc_engine *eng;     /* memory or RocksDB; NULL: cluster */
    struct mvcc_store *store;    /* Percolator over eng; NULL: cluster */
    struct mvcc_transport tr;    /* in-process transport, one shard
                                    (zeroed for the cluster) */
    struct mvcc_local_tso tso;   /* timestamps */
    struct mvcc_client *client;  /* 2PC coordinator */
    struct mvcc_transport route; /* the client's transport (a copy), for
                                    coprocessor requests (cop_client.c);
                                    zeroed for the local store */
    mvcc_tso_fn tso_fn;          /* the timestamp oracle kv_tso wraps */
    void *tso_ctx;               /* its context */
    struct mvcc_detector *det;   /* cluster: the wait-for graph of this
                                    process's lock waits (DESIGN.md
                                    "Deadlocks across stores"); NULL:
                                    the local store detects its own */
    /* GC (DESIGN.md "GC"): the open transactions' snapshots, which the
     * safe point stays at or below. */
    pthread_mutex_t amu;         /* guards active, last_ts, safe_point */
    struct sql_kvtxn *active;    /* transactions begun, not yet ended */
    mvcc_ts last_ts;             /* highest timestamp the TSO gave */
    mvcc_ts safe_point;          /* GC's: no read below it */
    struct sql_gc_cluster gcc;   /* cluster: its safe points (hold NULL:
                                    none given) */
};

/* Set around sql__kv_begin_at's begin on this thread (MVCC_TS_MAX for
 * sql__kv_begin_latest; 0: unset): the begin's TSO call answers it
 * (consumed by that one call; later calls, such as a lock resolution's
 * "now", ask the real oracle). */
static _Thread_local mvcc_ts begin_at;

/* The point read in two halves (sql__kv_prefetch_begin/end): this
 * thread's reads answered without the network. */
static _Thread_local struct
{
    bool on;            /* between begin and end */
    bool given;         /* key/val hold a read of key */
    bool found;         /* the key had a value */
    mvcc_ts ts;         /* the version given, or asked for: the reading
                           transaction's start_ts */
    const uint8_t *val; /* borrowed until end */
    size_t vlen;        /* its length */
    uint8_t key[SQL_PREFETCH_KEY_MAX]; /* the key given, or asked for */
    size_t klen;        /* its length */
    int refused;        /* 0; 1: one key's read asked for; -1: other */
} pre;

static int kv_tso(void *ctx, mvcc_ts *out)
{
    struct kv_local *l = ctx;
    if (begin_at != 0) {
        *out = begin_at;
        begin_at = 0;
        return 0;
    }
    if (pre.on) { /* a snapshot needs the oracle: not here */
        pre.refused = -1;
        return -EWOULDBLOCK;
    }
    int rc = l->tso_fn(l->tso_ctx, out);
    if (rc == 0) {
        pthread_mutex_lock(&l->amu);
        if (*out > l->last_ts)
            l->last_ts = *out;
        pthread_mutex_unlock(&l->amu);
    }
    return rc;
}

/* t joins the open transactions before it asks for its start_ts, with a
 * floor the oracle's later answers cannot be below (a timestamp asked
 * for after another was answered is higher): GC never passes a snapshot
 * being taken. A point read at the latest versions (MVCC_TS_MAX) never
 * joins: it reads what GC keeps. */
static void active_add(struct kv_local *l, struct sql_kvtxn *t)
{
    pthread_mutex_lock(&l->amu);
    t->active = true;
    t->floor = l->last_ts;
    t->prev = NULL;
    t->next = l->active;
    if (l->active)
        l->active->prev = t;
    l->active = t;
    pthread_mutex_unlock(&l->amu);
}

static void active_remove(struct sql_kvtxn *t)
{
    if (!t->active)
        return;
    struct kv_local *l = t->kv;
    pthread_mutex_lock(&l->amu);
    if (t->prev)
        t->prev->next = t->next;
    else
        l->active = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->active = false;
    pthread_mutex_unlock(&l->amu);
}

void sql__kv_prefetch_begin(const void *key, size_t klen, uint64_t ts,
                            const void *val, size_t vlen, bool found)
{
    pre.on = true;
    pre.refused = 0;
    pre.given = key != NULL && klen <= sizeof(pre.key);
    pre.klen = pre.given ? klen : 0;
    if (pre.given && klen)
        memcpy(pre.key, key, klen);
    pre.ts = ts;
    pre.found = found;
    pre.val = val;
    pre.vlen = vlen;
}

int sql__kv_prefetch_end(uint8_t *key, size_t cap, size_t *klen,
                         uint64_t *ts)
{
    int r = pre.refused;
    if (r == 1 && key != NULL && cap >= pre.klen) {
        memcpy(key, pre.key, pre.klen);
        *klen = pre.klen;
        *ts = pre.ts;
    } else if (r == 1) {
        r = -1;
    }
    pre.on = false;
    pre.given = false;
    pre.val = NULL;
    return r;
}

bool sql__kv_prefetch_refused(void)
{
    return pre.on && pre.refused != 0;
}

/* A read while pre.on: one key of a transaction that wrote and locked
 * nothing (so its read is the store's version at its start_ts: nothing of
 * its own to merge, no locked key to read current), answered from what
 * was given for it into res (libmvcc's allocator); anything else refused,
 * the first such key noted with the start_ts it is read at. */
static int pre_read(struct sql_kvtxn *t, const struct mvcc_key *keys,
                    size_t n, struct mvcc_result *res)
{
    mvcc_ts ts = mvcc_txn_start_ts(t->t);
    bool one = n == 1 && !t->dirty && pre.refused == 0;
    if (one && pre.given && ts == pre.ts && keys[0].len == pre.klen &&
        (pre.klen == 0 || memcmp(keys[0].data, pre.key, pre.klen) == 0)) {
        pre.given = false; /* answers once */
        if (!pre.found)
            return 0;
        uint8_t *k = mvcc_malloc(pre.klen ? pre.klen : 1);
        uint8_t *v = mvcc_malloc(pre.vlen ? pre.vlen : 1);
        struct mvcc_kvpair *a = mvcc_malloc(sizeof(*a));
        if (!k || !v || !a) {
            mvcc_free(k);
            mvcc_free(v);
            mvcc_free(a);
            return -ENOMEM;
        }
        memcpy(k, pre.key, pre.klen);
        if (pre.vlen)
            memcpy(v, pre.val, pre.vlen);
        mvcc_free(res->pairs); /* cleared by the caller: none held */
        *a = (struct mvcc_kvpair){k, pre.klen, v, pre.vlen};
        res->pairs = a;
        res->npairs = 1;
        res->pairs_cap = 1;
        return 0;
    }
    if (one && !pre.given && keys[0].len <= sizeof(pre.key)) {
        memcpy(pre.key, keys[0].data, keys[0].len);
        pre.klen = keys[0].len;
        pre.ts = ts;
        pre.refused = 1;
    } else {
        pre.refused = -1;
    }
    return -EWOULDBLOCK;
}

void sql__kvres_init(struct sql_kvres *res)
{
    mvcc_result_init(&res->r);
}

void sql__kvres_reset(struct sql_kvres *res)
{
    mvcc_result_reset(&res->r);
}

static int local_begin(struct sql_kv *kv, struct sql_kvtxn **out)
{
    struct kv_local *l = (struct kv_local *)kv;
    struct sql_kvtxn *t = sql__malloc(sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->dirty = false;
    t->kv = l;
    t->waits_for = 0;
    t->active = false;
    if (begin_at != MVCC_TS_MAX)
        active_add(l, t);
    int rc = mvcc_txn_begin(l->client, &t->t);
    if (rc != 0) {
        active_remove(t);
        sql__free(t);
        return rc;
    }
    if (t->active) {
        pthread_mutex_lock(&l->amu);
        t->floor = mvcc_txn_start_ts(t->t);
        pthread_mutex_unlock(&l->amu);
    }
    *out = t;
    return 0;
}

static void local_close(struct sql_kv *kv)
{
    struct kv_local *l = (struct kv_local *)kv;
    mvcc_client_destroy(l->client);
    mvcc_detector_destroy(l->det);
    mvcc_local_transport_free(&l->tr);
    if (l->store)
        mvcc_store_close(l->store);
    if (l->eng)
        mvcc_engine_destroy(l->eng);
    pthread_mutex_destroy(&l->amu);
    sql__free(l);
}

static const struct sql_kv_ops local_ops = {local_begin, local_close};

static void say(char *errmsg, size_t len, const char *what, const char *why)
{
    if (errmsg && len > 0)
        snprintf(errmsg, len, "%s: %s", what, why);
}

int sql__kv_local_open(const struct sql_kv_local_opts *o, struct sql_kv **out,
                       char *errmsg, size_t errmsg_len)
{
    struct kv_local *l = sql__malloc(sizeof(*l));
    if (!l)
        return -ENOMEM;
    memset(l, 0, sizeof(*l));
    l->base.ops = &local_ops;
    l->tso_fn = mvcc_local_tso_next;
    l->tso_ctx = &l->tso;
    pthread_mutex_init(&l->amu, NULL);
    int rc;
    char why[256] = "";
    if (o->path) {
        /* The lock CF is only written: the store serves locks from its
         * lock table (below). */
        struct mvcc_rocks_opts ro = {.path = o->path,
                                     .recycle_log_files = 4,
                                     .lock_cf_write_only = true};
        rc = mvcc_rocksengine_open(&ro, &l->eng, why, sizeof(why));
    } else {
        rc = mvcc_memengine_create(&l->eng);
    }
    if (rc != 0) {
        say(errmsg, errmsg_len, "cannot open the storage engine",
            why[0] ? why : mvcc_strerror(rc));
        goto err_free;
    }
    /* This process is the store's sole writer, so locks are read from
     * libmvcc's in-memory lock table (libmvcc/DESIGN.md "Lock table"). */
    struct mvcc_store_opts so = {.sync = o->sync, .lock_table = true};
    rc = mvcc_store_open(l->eng, &so, &l->store);
    if (rc != 0) {
        say(errmsg, errmsg_len, "cannot open the MVCC store",
            mvcc_strerror(rc));
        goto err_engine;
    }
    rc = mvcc_local_transport_init(&l->tr, &l->store, 1, NULL);
    if (rc != 0) {
        say(errmsg, errmsg_len, "transport", mvcc_strerror(rc));
        goto err_store;
    }
    struct mvcc_client_opts co = {
        .transport = l->tr,
        .tso = kv_tso,
        .tso_ctx = l,
        .one_pc = true,
        .resolve_budget_ms = o->resolve_budget_ms ? o->resolve_budget_ms
                                                  : 100,
    };
    rc = mvcc_client_create(&co, &l->client);
    if (rc != 0) {
        say(errmsg, errmsg_len, "2PC client", mvcc_strerror(rc));
        goto err_transport;
    }
    *out = &l->base;
    return 0;
err_transport:
    mvcc_local_transport_free(&l->tr);
err_store:
    mvcc_store_close(l->store);
err_engine:
    mvcc_engine_destroy(l->eng);
err_free:
    pthread_mutex_destroy(&l->amu);
    sql__free(l);
    return rc;
}

int sql__kv_cluster_open(const struct mvcc_client_opts *co,
                         const struct sql_gc_cluster *gc,
                         struct sql_kv **out, char *errmsg, size_t errmsg_len)
{
    /* kvd serves async commit and 1PC (libregion/DESIGN.md "Cluster
     * transport"); which of them to use is the caller's choice in co. */
    struct kv_local *l = sql__malloc(sizeof(*l));
    if (!l)
        return -ENOMEM;
    memset(l, 0, sizeof(*l));
    l->base.ops = &local_ops;
    l->tso_fn = co->tso;
    l->tso_ctx = co->tso_ctx;
    pthread_mutex_init(&l->amu, NULL);
    struct mvcc_client_opts wrapped = *co;
    wrapped.tso = kv_tso;
    wrapped.tso_ctx = l;
    int rc = mvcc_detector_create(&l->det);
    if (rc == 0)
        rc = mvcc_client_create(&wrapped, &l->client);
    if (rc != 0) {
        say(errmsg, errmsg_len, "2PC client", mvcc_strerror(rc));
        mvcc_detector_destroy(l->det);
        pthread_mutex_destroy(&l->amu);
        sql__free(l);
        return rc;
    }
    l->route = co->transport;
    if (gc)
        l->gcc = *gc;
    *out = &l->base;
    return 0;
}

const struct mvcc_transport *sql__kv_cop_transport(struct sql_kv *kv)
{
    struct kv_local *l = (struct kv_local *)kv;
    return l->route.cop && l->route.locate ? &l->route : NULL;
}

void sql__kv_close(struct sql_kv *kv)
{
    if (kv)
        kv->ops->close(kv);
}

int sql__kv_begin(struct sql_kv *kv, struct sql_kvtxn **out)
{
    return kv->ops->begin(kv, out);
}

int sql__kv_begin_at(struct sql_kv *kv, uint64_t ts, struct sql_kvtxn **out)
{
    begin_at = ts;
    int rc = kv->ops->begin(kv, out);
    begin_at = 0;
    return rc;
}

int sql__kv_begin_latest(struct sql_kv *kv, struct sql_kvtxn **out)
{
    return sql__kv_begin_at(kv, MVCC_TS_MAX, out);
}

uint64_t sql__kvtxn_start_ts(const struct sql_kvtxn *t)
{
    return mvcc_txn_start_ts(t->t);
}

const uint64_t *sql__kvtxn_resolved_locks(const struct sql_kvtxn *t,
                                          size_t *n)
{
    return mvcc_txn_resolved_locks(t->t, n);
}

int sql__kvtxn_get(struct sql_kvtxn *t, const void *key, size_t key_len,
                   uint8_t **value, size_t *value_len)
{
    if (pre.on) {
        struct mvcc_key k = {key, key_len};
        struct mvcc_result r;
        mvcc_result_init(&r);
        int rc = pre_read(t, &k, 1, &r);
        if (rc == 0 && r.npairs == 0)
            rc = MVCC_NOTFOUND;
        if (rc == 0) {
            *value = r.pairs[0].value; /* hand over */
            *value_len = r.pairs[0].value_len;
            r.pairs[0].value = NULL;
        }
        mvcc_result_reset(&r);
        return rc;
    }
    return mvcc_txn_get(t->t, key, key_len, value, value_len);
}

/* ---- locking reads --------------------------------------------------
 * A row read after this txn locked it must be its latest committed
 * version, as MySQL's locking reads are, not the snapshot's: the holder
 * we waited for may have committed after our start_ts (with 2PC its
 * commit_ts is a fresh TSO timestamp). libmvcc's txn knows the keys it
 * holds (mvcc_txn_holds_lock); batch_get re-reads those through
 * get_for_update, which for a key we hold returns at once with its latest
 * value (or our own write). */
static int kcmp(const void *a, size_t al, const void *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (al > bl) - (al < bl);
}

/* Puts key's current value (v handed over; NULL: absent) into res. */
static int res_put(struct mvcc_result *r, const struct mvcc_key *key,
                   uint8_t *v, size_t vl)
{
    for (size_t i = 0; i < r->npairs; i++) {
        struct mvcc_kvpair *p = &r->pairs[i];
        if (kcmp(p->key, p->key_len, key->data, key->len) != 0)
            continue;
        mvcc_free(p->value);
        if (v) {
            p->value = v;
            p->value_len = vl;
        } else { /* gone since the snapshot */
            mvcc_free(p->key);
            memmove(p, p + 1, (r->npairs - i - 1) * sizeof(*p));
            r->npairs--;
        }
        return 0;
    }
    if (!v)
        return 0;
    if (r->npairs == r->pairs_cap) { /* libmvcc's allocator: it frees */
        size_t cap = r->pairs_cap ? 2 * r->pairs_cap : 4;
        struct mvcc_kvpair *a = mvcc_malloc(cap * sizeof(*a));
        if (!a)
            goto nomem;
        if (r->npairs)
            memcpy(a, r->pairs, r->npairs * sizeof(*a));
        mvcc_free(r->pairs);
        r->pairs = a;
        r->pairs_cap = cap;
    }
    uint8_t *k = mvcc_malloc(key->len ? key->len : 1);
    if (!k)
        goto nomem;
    if (key->len)
        memcpy(k, key->data, key->len);
    r->pairs[r->npairs++] = (struct mvcc_kvpair){k, key->len, v, vl};
    return 0;
nomem:
    mvcc_free(v);
    return -ENOMEM;
}

int sql__kvtxn_batch_get(struct sql_kvtxn *t, const struct mvcc_key *keys,
                         size_t n, struct sql_kvres *res)
{
    if (pre.on) {
        mvcc_result_reset(&res->r);
        return pre_read(t, keys, n, &res->r);
    }
    int rc = mvcc_txn_batch_get(t->t, keys, n, &res->r);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!mvcc_txn_holds_lock(t->t, keys[i].data, keys[i].len))
            continue;
        uint8_t *v = NULL;
        size_t vl = 0;
        rc = mvcc_txn_get_for_update(t->t, keys[i].data, keys[i].len, 0, &v,
                                     &vl);
        if (rc == MVCC_NOTFOUND)
            rc = 0;
        if (rc == 0)
            rc = res_put(&res->r, &keys[i], v, vl);
    }
    return rc;
}

int sql__kvtxn_scan(struct sql_kvtxn *t, const void *start, size_t start_len,
                    const void *end, size_t end_len, size_t limit,
                    bool reverse, struct sql_kvres *res)
{
    if (pre.on) {
        pre.refused = -1;
        return -EWOULDBLOCK;
    }
    if (reverse)
        return mvcc_txn_scan_reverse(t->t, start, start_len, end, end_len,
                                     limit, &res->r);
    return mvcc_txn_scan(t->t, start, start_len, end, end_len, limit,
                         &res->r);
}

int sql__kvtxn_set(struct sql_kvtxn *t, const void *key, size_t key_len,
                   const void *value, size_t value_len)
{
    t->dirty = true;
    return mvcc_txn_set(t->t, key, key_len, value, value_len);
}

int sql__kvtxn_delete(struct sql_kvtxn *t, const void *key, size_t key_len)
{
    t->dirty = true;
    return mvcc_txn_delete(t->t, key, key_len);
}

int sql__kvtxn_savepoint(struct sql_kvtxn *t, size_t *mark)
{
    return mvcc_txn_savepoint(t->t, mark);
}

int sql__kvtxn_rollback_to(struct sql_kvtxn *t, size_t mark)
{
    return mvcc_txn_rollback_to(t->t, mark);
}

int sql__kvtxn_lock(struct sql_kvtxn *t, const struct mvcc_key *keys,
                    size_t n, int64_t wait_ms)
{
    t->dirty = true;
    return mvcc_txn_lock_keys(t->t, keys, n, wait_ms);
}

int sql__kvtxn_get_for_update(struct sql_kvtxn *t, const void *key,
                              size_t key_len, int64_t wait_ms,
                              uint8_t **value, size_t *value_len)
{
    t->dirty = true;
    return mvcc_txn_get_for_update(t->t, key, key_len, wait_ms, value,
                                   value_len);
}

void sql__kvtxn_set_interrupt(struct sql_kvtxn *t, const bool *flag)
{
    mvcc_txn_set_interrupt(t->t, flag);
}

void sql__kvtxn_set_commit_deadline(struct sql_kvtxn *t, uint64_t deadline_ms,
                                    mvcc_commit_renew_fn renew, void *ctx)
{
    mvcc_txn_set_commit_deadline(t->t, deadline_ms, renew, ctx);
}

void sql__kvtxn_set_commit_check(struct sql_kvtxn *t,
                                 mvcc_commit_check_fn check, void *ctx)
{
    mvcc_txn_set_commit_check(t->t, check, ctx);
}

int sql__kvtxn_wait_begin(struct sql_kvtxn *t)
{
    struct mvcc_detector *d = t->kv->det;
    mvcc_ts holder = d ? mvcc_txn_blocker(t->t) : 0;
    if (holder == t->waits_for)
        return 0; /* the edge is in already (or none to add) */
    sql__kvtxn_wait_end(t);
    if (holder == 0)
        return 0;
    int rc = mvcc_detector_detect(d, mvcc_txn_start_ts(t->t), holder);
    if (rc == MVCC_DEADLOCK)
        return rc;
    if (rc == 0)
        t->waits_for = holder;
    return 0; /* -ENOMEM: the wait goes on undetected, to its timeout */
}

void sql__kvtxn_wait_end(struct sql_kvtxn *t)
{
    if (t->waits_for == 0)
        return;
    mvcc_detector_clean_up_wait_for(t->kv->det, mvcc_txn_start_ts(t->t),
                                    t->waits_for);
    t->waits_for = 0;
}

void sql__kv_wake_waiters(struct sql_kv *kv)
{
    struct kv_local *l = (struct kv_local *)kv;
    if (l && l->store)
        mvcc_store_wake_waiters(l->store);
}

bool sql__kv_wakeable(const struct sql_kv *kv)
{
    const struct kv_local *l = (const struct kv_local *)kv;
    return l && l->store;
}

bool sql__kvtxn_dirty(const struct sql_kvtxn *t)
{
    return t->dirty;
}

int sql__kvtxn_commit(struct sql_kvtxn *t)
{
    sql__kvtxn_wait_end(t);
    int rc = mvcc_txn_commit(t->t, NULL);
    active_remove(t);
    sql__free(t);
    return rc;
}

void sql__kvtxn_rollback(struct sql_kvtxn *t)
{
    if (!t)
        return;
    sql__kvtxn_wait_end(t);
    mvcc_txn_rollback(t->t);
    active_remove(t);
    sql__free(t);
}

/* The cluster's round: this server's oldest snapshot held with the
 * others' (gcc.hold), the safe point kept at or below the lowest of them,
 * locks below it resolved, then published (gcc.publish): each kvd removes
 * the old versions in its own store when it sees the safe point rise
 * (libregion/DESIGN.md "GC"). */
static int gc_cluster(struct kv_local *l, mvcc_ts now, mvcc_ts sp,
                      mvcc_ts floor, struct sql_gc_stats *out)
{
    if (floor > now)
        floor = now;
    uint64_t min = 0, current = 0;
    int rc = l->gcc.hold(l->gcc.ctx, floor, &min, &current);
    if (rc != 0)
        return rc;
    if (min < sp)
        sp = min;
    out->safe_point = current;
    if (sp <= current)
        return 0; /* nothing new below (another server got there first) */
    rc = mvcc_client_resolve_below(l->client, sp, &out->locks_resolved);
    if (rc != 0)
        return rc;
    return l->gcc.publish(l->gcc.ctx, sp, &out->safe_point);
}

int sql__kv_gc(struct sql_kv *kv, uint64_t life_ms, struct sql_gc_stats *out)
{
    struct kv_local *l = (struct kv_local *)kv;
    memset(out, 0, sizeof *out);
    if (l->store == NULL && l->gcc.hold == NULL)
        return -ENOTSUP; /* a cluster nobody said how to hold */
    mvcc_ts now;
    int rc = kv_tso(l, &now);
    if (rc != 0)
        return rc;
    uint64_t phys = MVCC_TS_PHYSICAL(now);
    mvcc_ts sp = phys > life_ms ? MVCC_TS_OF_MS(phys - life_ms) : 0;
    mvcc_ts floor = MVCC_TS_MAX; /* the oldest open snapshot */
    pthread_mutex_lock(&l->amu);
    for (struct sql_kvtxn *t = l->active; t; t = t->next)
        if (t->floor < floor)
            floor = t->floor;
    if (l->store == NULL) {
        pthread_mutex_unlock(&l->amu);
        return gc_cluster(l, now, sp, floor, out);
    }
    if (floor < sp)
        sp = floor;
    if (sp <= l->safe_point) {
        out->safe_point = l->safe_point;
        pthread_mutex_unlock(&l->amu);
        return 0; /* nothing new below */
    }
    pthread_mutex_unlock(&l->amu);
    /* Locks below sp first: a transaction's status is in its primary's
     * records, which GC may remove (libmvcc/DESIGN.md "GC"). */
    rc = mvcc_client_resolve_below(l->client, sp, &out->locks_resolved);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&l->amu);
    l->safe_point = sp;
    pthread_mutex_unlock(&l->amu);
    out->safe_point = sp;
    return mvcc_gc(l->store, sp, &out->versions_removed);
}

void sql__kv_free(void *p)
{
    mvcc_free(p);
}

size_t sql__kv_lock_waiters(struct sql_kv *kv)
{
    struct kv_local *l = (struct kv_local *)kv;
    return l->store ? mvcc_store_lock_waiters(l->store) : 0;
}

/* client.c: the two-phase-commit coordinator (Percolator's client, with
 * TiKV's async commit and 1PC). A transaction buffers its writes, reads
 * through its start_ts snapshot resolving locks in the way, and commits by
 * prewriting the primary's shard then the other shards in parallel,
 * committing the primary, then the secondaries (DESIGN.md, "Client").
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "txn.h"

#define ASYNC_MAX_KEYS 256

struct mvcc_client
{
    struct mvcc_client_opts o; /* options with defaults filled */
};

struct mut
{
    uint8_t *key;  /* user key (owned) */
    size_t klen;   /* its length */
    uint8_t *val;  /* value (owned; NULL for a delete) */
    size_t vlen;   /* its length */
    int op;        /* MVCC_OP_PUT, MVCC_OP_DELETE, or MVCC_OP_LOCK (lock only) */
    bool plock;    /* we hold a pessimistic lock on it */
    uint64_t shard; /* filled at commit */
};

struct mvcc_txn
{
    struct mvcc_client *c; /* client */
    mvcc_ts start_ts;      /* snapshot and identity */
    struct mut *muts;      /* buffered writes, sorted by key */
    size_t n;              /* how many */
    size_t cap;            /* allocated */
    uint8_t *primary;      /* pessimistic: first key locked (owned) */
    size_t primary_len;    /* its length */
    mvcc_ts for_update_ts; /* pessimistic: newest for_update_ts used */
    mvcc_ts *bypass;       /* txns whose locks our reads may skip */
    size_t nbypass;        /* how many */
    size_t bypass_cap;     /* allocated */
    struct heartbeat *hb;  /* keeps the primary's lock alive, or NULL */
};

/* A pessimistic transaction holds locks between statements, for as long
 * as its user takes: a thread raises the primary lock's TTL every ttl/3
 * until the transaction ends (TiDB's keepalive). */
struct heartbeat
{
    struct mvcc_client *c; /* client */
    uint8_t *primary;      /* primary key (copy) */
    size_t primary_len;    /* its length */
    mvcc_ts start_ts;      /* transaction */
    pthread_t th;          /* the thread */
    pthread_mutex_t mu;    /* guards stop */
    pthread_cond_t cv;     /* signalled to stop */
    bool stop;             /* the transaction ended */
};

static int kcmp(const void *a, size_t al, const void *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : al < bl ? -1 : al > bl;
}

int mvcc_client_create(const struct mvcc_client_opts *o,
                       struct mvcc_client **out)
{
    if (o == NULL || o->tso == NULL || o->transport.locate == NULL)
        return -EINVAL;
    struct mvcc_client *c = mvcc__calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->o = *o;
    if (c->o.lock_ttl == 0)
        c->o.lock_ttl = 3000;
    if (c->o.resolve_budget_ms == 0)
        c->o.resolve_budget_ms = 20000;
    *out = c;
    return 0;
}

void mvcc_client_destroy(struct mvcc_client *c)
{
    mvcc__free(c);
}

int mvcc_txn_begin(struct mvcc_client *c, struct mvcc_txn **out)
{
    struct mvcc_txn *t = mvcc__calloc(1, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    t->c = c;
    int rc = c->o.tso(c->o.tso_ctx, &t->start_ts);
    if (rc != 0) {
        mvcc__free(t);
        return rc;
    }
    *out = t;
    return 0;
}

mvcc_ts mvcc_txn_start_ts(const struct mvcc_txn *t)
{
    return t->start_ts;
}

static void heartbeat_stop(struct heartbeat *hb);

static void txn_free(struct mvcc_txn *t)
{
    heartbeat_stop(t->hb);
    for (size_t i = 0; i < t->n; i++) {
        mvcc__free(t->muts[i].key);
        mvcc__free(t->muts[i].val);
    }
    mvcc__free(t->muts);
    mvcc__free(t->bypass);
    mvcc__free(t->primary);
    mvcc__free(t);
}

static int shard_of(struct mvcc_client *c, const void *k, size_t kl,
                    uint64_t *shard);

/* Releases our pessimistic locks (best effort: what is left expires). */
static void release_plocks(struct mvcc_txn *t)
{
    struct mvcc_client *c = t->c;
    if (t->primary == NULL || c->o.transport.pessimistic_rollback == NULL)
        return;
    struct mvcc_result r;
    mvcc_result_init(&r);
    for (size_t i = 0; i < t->n; i++) {
        if (!t->muts[i].plock)
            continue;
        uint64_t shard;
        struct mvcc_key k = {t->muts[i].key, t->muts[i].klen};
        if (shard_of(c, k.data, k.len, &shard) == 0)
            (void)c->o.transport.pessimistic_rollback(
                c->o.transport.ctx, shard, &k, 1, t->start_ts,
                t->for_update_ts, &r);
    }
    mvcc_result_reset(&r);
}

void mvcc_txn_rollback(struct mvcc_txn *t)
{
    if (t == NULL)
        return;
    release_plocks(t);
    txn_free(t);
}

/* Binary search: index of key, or where it would go (*found false). */
static size_t find_mut(const struct mvcc_txn *t, const void *k, size_t kl,
                       bool *found)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = kcmp(t->muts[mid].key, t->muts[mid].klen, k, kl);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static int buffer(struct mvcc_txn *t, int op, const void *k, size_t kl,
                  const void *v, size_t vl)
{
    if (k == NULL && kl > 0)
        return -EINVAL;
    uint8_t *val = NULL;
    if (op == MVCC_OP_PUT) {
        val = mvcc__memdup(v ? v : "", vl);
        if (val == NULL)
            return -ENOMEM;
    }
    bool found;
    size_t i = find_mut(t, k, kl, &found);
    if (found) {
        if (op == MVCC_OP_LOCK) { /* locking never overrides a write */
            t->muts[i].plock = true;
            return 0;
        }
        mvcc__free(t->muts[i].val);
        t->muts[i].val = val;
        t->muts[i].vlen = vl;
        t->muts[i].op = op;
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct mut *m = mvcc__realloc(t->muts, cap * sizeof *m);
        if (m == NULL) {
            mvcc__free(val);
            return -ENOMEM;
        }
        t->muts = m;
        t->cap = cap;
    }
    uint8_t *kc = mvcc__memdup(k ? k : "", kl);
    if (kc == NULL) {
        mvcc__free(val);
        return -ENOMEM;
    }
    memmove(&t->muts[i + 1], &t->muts[i], (t->n - i) * sizeof *t->muts);
    t->muts[i] = (struct mut){kc, kl, val, vl, op, op == MVCC_OP_LOCK, 0};
    t->n++;
    return 0;
}

int mvcc_txn_set(struct mvcc_txn *t, const void *key, size_t key_len,
                 const void *value, size_t value_len)
{
    return buffer(t, MVCC_OP_PUT, key, key_len, value, value_len);
}

int mvcc_txn_delete(struct mvcc_txn *t, const void *key, size_t key_len)
{
    return buffer(t, MVCC_OP_DELETE, key, key_len, NULL, 0);
}

/* Lock resolution. */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void backoff(unsigned attempt)
{
    unsigned ms = attempt < 7 ? 1u << attempt : 100;
    struct timespec d = {0, (long)ms * 1000000L};
    nanosleep(&d, NULL);
}

static int add_bypass(struct mvcc_txn *t, mvcc_ts ts)
{
    for (size_t i = 0; i < t->nbypass; i++)
        if (t->bypass[i] == ts)
            return 0;
    if (t->nbypass == t->bypass_cap) {
        size_t cap = t->bypass_cap ? t->bypass_cap * 2 : 4;
        mvcc_ts *b = mvcc__realloc(t->bypass, cap * sizeof *b);
        if (b == NULL)
            return -ENOMEM;
        t->bypass = b;
        t->bypass_cap = cap;
    }
    t->bypass[t->nbypass++] = ts;
    return 0;
}

static int shard_of(struct mvcc_client *c, const void *k, size_t kl,
                    uint64_t *shard)
{
    const uint8_t *end;
    size_t el;
    return c->o.transport.locate(c->o.transport.ctx, k, kl, shard, &end, &el);
}

/* Commits (commit_ts != 0) or rolls back one key of txn start_ts. */
static int resolve_key(struct mvcc_client *c, const void *k, size_t kl,
                       mvcc_ts start_ts, mvcc_ts commit_ts)
{
    uint64_t shard;
    int rc = shard_of(c, k, kl, &shard);
    if (rc != 0)
        return rc;
    /* [k, k\0) holds exactly k. */
    uint8_t *end = mvcc__malloc(kl + 1);
    if (end == NULL)
        return -ENOMEM;
    if (kl)
        memcpy(end, k, kl);
    end[kl] = 0;
    struct mvcc_result r;
    mvcc_result_init(&r);
    rc = c->o.transport.resolve_lock(c->o.transport.ctx, shard, start_ts,
                                     commit_ts, k, kl, end, kl + 1, &r);
    mvcc_result_reset(&r);
    mvcc__free(end);
    return rc;
}

/* Async-commit recovery: the txn is committed iff every secondary is
 * locked (commit_ts = the max min_commit_ts) or one is committed. */
static int resolve_async(struct mvcc_client *c,
                         const struct mvcc_lock_info *pl)
{
    mvcc_ts commit_ts = pl->min_commit_ts;
    bool rolled_back = false, committed = false;
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = 0;
    for (size_t i = 0; i < pl->nsecondaries && rc == 0; i++) {
        uint64_t shard;
        const struct mvcc_key *k = &pl->secondaries[i];
        if ((rc = shard_of(c, k->data, k->len, &shard)))
            break;
        rc = c->o.transport.check_secondary_locks(c->o.transport.ctx, shard,
                                                  k, 1, pl->start_ts, &r);
        if (rc != 0)
            break;
        if (r.status == MVCC_TXN_COMMITTED) {
            committed = true;
            commit_ts = r.commit_ts;
            break;
        }
        if (r.status == MVCC_TXN_ROLLED_BACK) {
            rolled_back = true;
            break;
        }
        if (r.nlocks && r.locks[0].min_commit_ts > commit_ts)
            commit_ts = r.locks[0].min_commit_ts;
    }
    mvcc_result_reset(&r);
    if (rc != 0)
        return rc;
    mvcc_ts final = rolled_back && !committed ? 0 : commit_ts;
    rc = resolve_key(c, pl->primary, pl->primary_len, pl->start_ts, final);
    for (size_t i = 0; i < pl->nsecondaries && rc == 0; i++)
        rc = resolve_key(c, pl->secondaries[i].data, pl->secondaries[i].len,
                         pl->start_ts, final);
    return rc;
}

/* Resolves what it can of the locks met at caller_ts. Returns 0 when all
 * of them are out of the way (resolved, or bypassable for a read), or
 * MVCC_LOCKED when some are alive. */
static int resolve_locks(struct mvcc_txn *t, const struct mvcc_lock_info *ls,
                         size_t n, bool for_read)
{
    struct mvcc_client *c = t->c;
    bool pending = false;
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct mvcc_lock_info *li = &ls[i];
        mvcc_ts now;
        uint64_t shard;
        if ((rc = c->o.tso(c->o.tso_ctx, &now)) ||
            (rc = shard_of(c, li->primary, li->primary_len, &shard)))
            break;
        bool expired = (now >> 18) >= (li->start_ts >> 18) + li->ttl;
        struct mvcc_check_txn_req req = {li->primary, li->primary_len,
                                         li->start_ts,
                                         for_read ? t->start_ts : 0,
                                         now, expired, false};
        rc = c->o.transport.check_txn_status(c->o.transport.ctx, shard, &req,
                                             &r);
        if (rc == MVCC_TXN_NOT_FOUND) {
            rc = 0; /* primary not prewritten yet: wait */
            pending = true;
            continue;
        }
        if (rc != 0)
            break;
        if (r.status == MVCC_TXN_COMMITTED) {
            rc = resolve_key(c, li->key, li->key_len, li->start_ts,
                             r.commit_ts);
        } else if (r.status == MVCC_TXN_ROLLED_BACK) {
            rc = resolve_key(c, li->key, li->key_len, li->start_ts, 0);
        } else if (r.nlocks && r.locks[0].use_async_commit && expired) {
            rc = resolve_async(c, &r.locks[0]);
        } else if (for_read && r.nlocks &&
                   r.locks[0].min_commit_ts > t->start_ts &&
                   !r.locks[0].use_async_commit) {
            rc = add_bypass(t, li->start_ts); /* pushed above us */
        } else {
            pending = true;
        }
    }
    mvcc_result_reset(&r);
    if (rc != 0)
        return rc;
    return pending ? MVCC_LOCKED : 0;
}

/* Reads. */

static int read_batch(struct mvcc_txn *t, uint64_t shard,
                      const struct mvcc_key *keys, size_t n,
                      struct mvcc_result *res)
{
    struct mvcc_client *c = t->c;
    uint64_t deadline = now_ms() + c->o.resolve_budget_ms;
    for (unsigned attempt = 0;; attempt++) {
        struct mvcc_read_opts ro;
        memset(&ro, 0, sizeof ro);
        ro.bypass = t->bypass;
        ro.nbypass = t->nbypass;
        int rc = c->o.transport.batch_get(c->o.transport.ctx, shard, &ro, keys,
                                          n, t->start_ts, res);
        if (rc != MVCC_LOCKED)
            return rc;
        rc = resolve_locks(t, res->locks, res->nlocks, true);
        if (rc == MVCC_LOCKED) {
            if (now_ms() > deadline)
                return MVCC_LOCKED;
            backoff(attempt);
        } else if (rc != 0) {
            return rc;
        }
    }
}

int mvcc_txn_get(struct mvcc_txn *t, const void *key, size_t key_len,
                 uint8_t **value, size_t *value_len)
{
    bool found;
    size_t i = find_mut(t, key, key_len, &found);
    if (found && t->muts[i].op != MVCC_OP_LOCK) {
        if (t->muts[i].op == MVCC_OP_DELETE)
            return MVCC_NOTFOUND;
        *value = mvcc__memdup(t->muts[i].val, t->muts[i].vlen);
        *value_len = t->muts[i].vlen;
        return *value ? 0 : -ENOMEM;
    }
    uint64_t shard;
    int rc = shard_of(t->c, key, key_len, &shard);
    if (rc != 0)
        return rc;
    struct mvcc_key k = {key, key_len};
    struct mvcc_result r;
    mvcc_result_init(&r);
    rc = read_batch(t, shard, &k, 1, &r);
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

int mvcc_txn_batch_get(struct mvcc_txn *t, const struct mvcc_key *keys,
                       size_t n, struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (keys == NULL && n > 0)
        return -EINVAL;
    /* Buffered keys answer at once; the rest go one request per shard
     * (the order of res->pairs is by shard, then request order). */
    struct mvcc_key *rest = mvcc__calloc(n ? n : 1, sizeof *rest);
    uint64_t *shard = mvcc__calloc(n ? n : 1, sizeof *shard);
    bool *done = mvcc__calloc(n ? n : 1, sizeof *done);
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = rest && shard && done ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        bool found;
        size_t mi = find_mut(t, keys[i].data, keys[i].len, &found);
        if (!found || t->muts[mi].op == MVCC_OP_LOCK) {
            rc = shard_of(t->c, keys[i].data, keys[i].len, &shard[i]);
            continue;
        }
        done[i] = true;
        if (t->muts[mi].op == MVCC_OP_DELETE)
            continue;
        uint8_t *v = mvcc__memdup(t->muts[mi].val, t->muts[mi].vlen);
        rc = v ? mvcc__res_add_pair(res, keys[i].data, keys[i].len, v,
                                    t->muts[mi].vlen)
               : -ENOMEM;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (done[i])
            continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && shard[j] == shard[i]) {
                rest[m++] = keys[j];
                done[j] = j != i;
            }
        done[i] = true;
        rc = read_batch(t, shard[i], rest, m, &r);
        for (size_t p = 0; rc == 0 && p < r.npairs; p++) {
            rc = mvcc__res_add_pair(res, r.pairs[p].key, r.pairs[p].key_len,
                                    r.pairs[p].value, r.pairs[p].value_len);
            r.pairs[p].value = NULL; /* handed over */
        }
    }
    mvcc_result_reset(&r);
    mvcc__free(rest);
    mvcc__free(shard);
    mvcc__free(done);
    return rc;
}

int mvcc_txn_scan(struct mvcc_txn *t, const void *start, size_t start_len,
                  const void *end, size_t end_len, size_t limit,
                  struct mvcc_result *res)
{
    struct mvcc_client *c = t->c;
    struct mvcc_result all, part;
    mvcc__res_clear(res);
    mvcc_result_init(&all);
    mvcc_result_init(&part);
    struct mvcc__buf cur = {0};
    int rc = mvcc__buf_append(&cur, start ? start : "", start_len);
    uint64_t deadline = now_ms() + c->o.resolve_budget_ms;
    /* With a limit, storage need return at most limit + (buffered writes
     * in range) pairs: each buffered write hides or adds at most one. Once
     * that many are collected, the first `limit` merged pairs are all at or
     * below the last one collected (`trunc`). */
    bool found;
    size_t mfirst = find_mut(t, start ? start : "", start_len, &found);
    size_t nbuf = 0;
    for (size_t i = mfirst; i < t->n; i++) {
        if (end && kcmp(t->muts[i].key, t->muts[i].klen, end, end_len) >= 0)
            break;
        nbuf++;
    }
    size_t want = limit ? limit + nbuf : 0;
    bool trunc = false;
    /* Shard by shard: the storage pairs of [start, end) at start_ts. */
    for (unsigned attempt = 0; rc == 0;) {
        uint64_t shard;
        const uint8_t *se;
        size_t sel;
        if ((rc = c->o.transport.locate(c->o.transport.ctx, cur.data, cur.len,
                                        &shard, &se, &sel)))
            break;
        bool last = se == NULL || (end && kcmp(se, sel, end, end_len) >= 0);
        struct mvcc__buf stop = {0};
        if ((rc = mvcc__buf_append(&stop, last ? end : se,
                                   last ? (end ? end_len : 0) : sel))) {
            mvcc__buf_free(&stop);
            break;
        }
        struct mvcc_read_opts ro;
        memset(&ro, 0, sizeof ro);
        ro.bypass = t->bypass;
        ro.nbypass = t->nbypass;
        ro.limit = want ? want - all.npairs : 0;
        bool unbounded = last && end == NULL;
        rc = c->o.transport.scan(c->o.transport.ctx, shard, &ro, cur.data,
                                 cur.len, unbounded ? NULL : stop.data,
                                 unbounded ? 0 : stop.len, t->start_ts,
                                 &part);
        if (rc == MVCC_LOCKED) {
            rc = resolve_locks(t, part.locks, part.nlocks, true);
            if (rc == MVCC_LOCKED) {
                rc = now_ms() > deadline ? MVCC_LOCKED : 0;
                if (rc == 0)
                    backoff(attempt++);
            }
            mvcc__buf_free(&stop);
            continue; /* retry this shard */
        }
        for (size_t i = 0; rc == 0 && i < part.npairs; i++) {
            rc = mvcc__res_add_pair(&all, part.pairs[i].key,
                                    part.pairs[i].key_len, part.pairs[i].value,
                                    part.pairs[i].value_len);
            part.pairs[i].value = NULL; /* handed over */
        }
        if (want && all.npairs >= want)
            trunc = true;
        if (rc == 0 && !last && !trunc) {
            cur.len = 0;
            rc = mvcc__buf_append(&cur, stop.data, stop.len);
        }
        mvcc__buf_free(&stop);
        if (last || trunc)
            break;
    }
    /* Merge with the buffered writes (both sorted). */
    size_t mi = mfirst;
    size_t si = 0;
    const struct mvcc_kvpair *tl = trunc ? &all.pairs[all.npairs - 1] : NULL;
    while (rc == 0 && (limit == 0 || res->npairs < limit)) {
        const struct mut *m = NULL;
        if (mi < t->n &&
            (end == NULL ||
             kcmp(t->muts[mi].key, t->muts[mi].klen, end, end_len) < 0) &&
            (tl == NULL ||
             kcmp(t->muts[mi].key, t->muts[mi].klen, tl->key, tl->key_len) <=
                 0))
            m = &t->muts[mi];
        const struct mvcc_kvpair *p = si < all.npairs ? &all.pairs[si] : NULL;
        if (m == NULL && p == NULL)
            break;
        int d = m && p ? kcmp(m->key, m->klen, p->key, p->key_len)
                       : (m ? -1 : 1);
        if (d <= 0 && m->op == MVCC_OP_LOCK) {
            mi++; /* lock only: the stored value stands */
            continue;
        }
        if (d <= 0) {
            if (d == 0)
                si++;
            mi++;
            if (m->op == MVCC_OP_DELETE)
                continue;
            uint8_t *v = mvcc__memdup(m->val, m->vlen);
            rc = v ? mvcc__res_add_pair(res, m->key, m->klen, v, m->vlen)
                   : -ENOMEM;
        } else {
            rc = mvcc__res_add_pair(res, p->key, p->key_len, p->value,
                                    p->value_len);
            all.pairs[si].value = NULL;
            si++;
        }
    }
    mvcc__buf_free(&cur);
    mvcc_result_reset(&all);
    mvcc_result_reset(&part);
    return rc;
}

int mvcc_txn_scan_reverse(struct mvcc_txn *t, const void *start,
                          size_t start_len, const void *end, size_t end_len,
                          size_t limit, struct mvcc_result *res)
{
    struct mvcc_client *c = t->c;
    mvcc__res_clear(res);
    if (c->o.transport.locate_prev == NULL)
        return -ENOTSUP;
    if (start == NULL)
        start = "";
    struct mvcc_result all, part;
    mvcc_result_init(&all);
    mvcc_result_init(&part);
    struct mvcc__buf cur = {0}; /* exclusive upper bound of what is left */
    bool unbounded = end == NULL;
    int rc = unbounded ? 0 : mvcc__buf_append(&cur, end, end_len);
    /* Buffered writes in range: [mfirst, mlast). */
    bool found;
    size_t mfirst = find_mut(t, start, start_len, &found);
    size_t mlast = end ? find_mut(t, end, end_len, &found) : t->n;
    if (mlast < mfirst)
        mlast = mfirst;
    size_t want = limit ? limit + (mlast - mfirst) : 0;
    bool trunc = false;
    uint64_t deadline = now_ms() + c->o.resolve_budget_ms;
    for (unsigned attempt = 0; rc == 0;) {
        uint64_t shard;
        const uint8_t *ss;
        size_t ssl;
        if ((rc = c->o.transport.locate_prev(c->o.transport.ctx,
                                             unbounded ? NULL : cur.data,
                                             cur.len, &shard, &ss, &ssl)))
            break;
        bool last = ss == NULL || kcmp(ss, ssl, start, start_len) <= 0;
        const void *lo = last ? start : ss;
        size_t lol = last ? start_len : ssl;
        struct mvcc_read_opts ro;
        memset(&ro, 0, sizeof ro);
        ro.bypass = t->bypass;
        ro.nbypass = t->nbypass;
        ro.reverse = true;
        ro.limit = want ? want - all.npairs : 0;
        rc = c->o.transport.scan(c->o.transport.ctx, shard, &ro, lo, lol,
                                 unbounded ? NULL : cur.data,
                                 unbounded ? 0 : cur.len, t->start_ts, &part);
        if (rc == MVCC_LOCKED) {
            rc = resolve_locks(t, part.locks, part.nlocks, true);
            if (rc == MVCC_LOCKED) {
                rc = now_ms() > deadline ? MVCC_LOCKED : 0;
                if (rc == 0)
                    backoff(attempt++);
            }
            continue;
        }
        for (size_t i = 0; rc == 0 && i < part.npairs; i++) {
            rc = mvcc__res_add_pair(&all, part.pairs[i].key,
                                    part.pairs[i].key_len, part.pairs[i].value,
                                    part.pairs[i].value_len);
            part.pairs[i].value = NULL;
        }
        if (want && all.npairs >= want)
            trunc = true;
        if (last || trunc || rc != 0)
            break;
        cur.len = 0;
        unbounded = false;
        rc = mvcc__buf_append(&cur, lo, lol);
    }
    /* Merge, descending, with the buffered writes. */
    size_t mi = mlast, si = 0;
    const struct mvcc_kvpair *tl = trunc ? &all.pairs[all.npairs - 1] : NULL;
    while (rc == 0 && (limit == 0 || res->npairs < limit)) {
        const struct mut *m = NULL;
        if (mi > mfirst &&
            (tl == NULL || kcmp(t->muts[mi - 1].key, t->muts[mi - 1].klen,
                                tl->key, tl->key_len) >= 0))
            m = &t->muts[mi - 1];
        const struct mvcc_kvpair *p = si < all.npairs ? &all.pairs[si] : NULL;
        if (m == NULL && p == NULL)
            break;
        int d = m && p ? kcmp(p->key, p->key_len, m->key, m->klen)
                       : (m ? -1 : 1);
        if (d <= 0 && m->op == MVCC_OP_LOCK) {
            mi--;
            continue;
        }
        if (d <= 0) {
            if (d == 0)
                si++;
            mi--;
            if (m->op == MVCC_OP_DELETE)
                continue;
            uint8_t *v = mvcc__memdup(m->val, m->vlen);
            rc = v ? mvcc__res_add_pair(res, m->key, m->klen, v, m->vlen)
                   : -ENOMEM;
        } else {
            rc = mvcc__res_add_pair(res, p->key, p->key_len, p->value,
                                    p->value_len);
            all.pairs[si].value = NULL;
            si++;
        }
    }
    mvcc__buf_free(&cur);
    mvcc_result_reset(&all);
    mvcc_result_reset(&part);
    return rc;
}

/* Pessimistic locks. */

static int shard_of(struct mvcc_client *c, const void *k, size_t kl,
                    uint64_t *shard);

static void *heartbeat_main(void *arg)
{
    struct heartbeat *hb = arg;
    struct mvcc_client *c = hb->c;
    uint64_t every = c->o.lock_ttl / 3 ? c->o.lock_ttl / 3 : 1;
    struct mvcc_result r;
    mvcc_result_init(&r);
    pthread_mutex_lock(&hb->mu);
    while (!hb->stop) {
        struct timespec d;
        clock_gettime(CLOCK_MONOTONIC, &d);
        d.tv_sec += (time_t)(every / 1000);
        d.tv_nsec += (long)(every % 1000) * 1000000L;
        if (d.tv_nsec >= 1000000000L) {
            d.tv_sec++;
            d.tv_nsec -= 1000000000L;
        }
        while (!hb->stop &&
               pthread_cond_timedwait(&hb->cv, &hb->mu, &d) == 0)
            ;
        if (hb->stop)
            break;
        pthread_mutex_unlock(&hb->mu);
        mvcc_ts now;
        uint64_t shard;
        int rc = c->o.tso(c->o.tso_ctx, &now);
        if (rc == 0)
            rc = shard_of(c, hb->primary, hb->primary_len, &shard);
        if (rc == 0) {
            uint64_t age = (now >> 18) - (hb->start_ts >> 18);
            rc = c->o.transport.txn_heartbeat(c->o.transport.ctx, shard,
                                              hb->primary, hb->primary_len,
                                              hb->start_ts,
                                              age + c->o.lock_ttl, &r);
        }
        pthread_mutex_lock(&hb->mu);
        if (rc == MVCC_TXN_NOT_FOUND)
            break; /* committed or rolled back: nothing to keep alive */
    }
    pthread_mutex_unlock(&hb->mu);
    mvcc_result_reset(&r);
    return NULL;
}

static void heartbeat_start(struct mvcc_txn *t)
{
    if (t->hb != NULL || t->c->o.transport.txn_heartbeat == NULL)
        return;
    struct heartbeat *hb = mvcc__calloc(1, sizeof *hb);
    if (hb == NULL)
        return; /* best effort: without it the locks just expire sooner */
    hb->c = t->c;
    hb->primary = mvcc__memdup(t->primary, t->primary_len);
    hb->primary_len = t->primary_len;
    hb->start_ts = t->start_ts;
    pthread_mutex_init(&hb->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&hb->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (hb->primary == NULL ||
        pthread_create(&hb->th, NULL, heartbeat_main, hb) != 0) {
        pthread_mutex_destroy(&hb->mu);
        pthread_cond_destroy(&hb->cv);
        mvcc__free(hb->primary);
        mvcc__free(hb);
        return;
    }
    t->hb = hb;
}

static void heartbeat_stop(struct heartbeat *hb)
{
    if (hb == NULL)
        return;
    pthread_mutex_lock(&hb->mu);
    hb->stop = true;
    pthread_cond_signal(&hb->cv);
    pthread_mutex_unlock(&hb->mu);
    pthread_join(hb->th, NULL);
    pthread_mutex_destroy(&hb->mu);
    pthread_cond_destroy(&hb->cv);
    mvcc__free(hb->primary);
    mvcc__free(hb);
}

static int lock_group(struct mvcc_txn *t, uint64_t shard,
                      const struct mvcc_key *keys, size_t n, int64_t wait_ms,
                      bool return_values, struct mvcc_result *res)
{
    struct mvcc_client *c = t->c;
    if (c->o.transport.acquire_pessimistic_lock == NULL)
        return -ENOTSUP;
    uint64_t deadline = now_ms() + c->o.resolve_budget_ms;
    for (unsigned attempt = 0;; attempt++) {
        mvcc_ts fut;
        int rc = c->o.tso(c->o.tso_ctx, &fut);
        if (rc != 0)
            return rc;
        struct mvcc_pessimistic_req req;
        memset(&req, 0, sizeof req);
        req.keys = keys;
        req.n = n;
        req.primary = t->primary;
        req.primary_len = t->primary_len;
        req.start_ts = t->start_ts;
        req.for_update_ts = fut;
        req.lock_ttl = c->o.lock_ttl;
        req.wait_timeout_ms = wait_ms;
        req.return_values = return_values;
        rc = c->o.transport.acquire_pessimistic_lock(c->o.transport.ctx, shard,
                                                     &req, res);
        if (rc == 0) {
            if (fut > t->for_update_ts)
                t->for_update_ts = fut;
            return 0;
        }
        if (now_ms() > deadline)
            return rc;
        if (rc == MVCC_CONFLICT)
            continue; /* committed after fut: take the lock at a newer one */
        if (rc != MVCC_LOCKED && rc != MVCC_LOCK_WAIT_TIMEOUT)
            return rc;
        /* The holder may be dead: resolve what has expired, else give up. */
        int rrc = resolve_locks(t, res->locks, res->nlocks, false);
        if (rrc != 0)
            return rrc == MVCC_LOCKED ? rc : rrc;
        backoff(attempt);
    }
}

static int lock_keys(struct mvcc_txn *t, const struct mvcc_key *keys,
                     size_t n, int64_t wait_ms, bool return_values,
                     struct mvcc_result *res)
{
    if (n == 0)
        return 0;
    if (keys == NULL)
        return -EINVAL;
    if (t->primary == NULL) {
        t->primary = mvcc__memdup(keys[0].data ? keys[0].data : "",
                                  keys[0].len);
        if (t->primary == NULL)
            return -ENOMEM;
        t->primary_len = keys[0].len;
    }
    struct mvcc_key *g = mvcc__calloc(n, sizeof *g);
    uint64_t *shard = mvcc__calloc(n, sizeof *shard);
    bool *done = mvcc__calloc(n, sizeof *done);
    int rc = g && shard && done ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = shard_of(t->c, keys[i].data, keys[i].len, &shard[i]);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (done[i])
            continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && shard[j] == shard[i]) {
                g[m++] = keys[j];
                done[j] = true;
            }
        rc = lock_group(t, shard[i], g, m, wait_ms, return_values, res);
        for (size_t j = 0; j < m && rc == 0; j++)
            rc = buffer(t, MVCC_OP_LOCK, g[j].data, g[j].len, NULL, 0);
    }
    if (rc == 0)
        heartbeat_start(t);
    if (rc != 0) {
        /* The primary is only ours once its lock is: else forget it. */
        bool found;
        size_t i = find_mut(t, t->primary, t->primary_len, &found);
        if (!found || !t->muts[i].plock) {
            mvcc__free(t->primary);
            t->primary = NULL;
            t->primary_len = 0;
        }
    }
    mvcc__free(g);
    mvcc__free(shard);
    mvcc__free(done);
    return rc;
}

int mvcc_txn_lock_keys(struct mvcc_txn *t, const struct mvcc_key *keys,
                       size_t n, int64_t wait_ms)
{
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = lock_keys(t, keys, n, wait_ms, false, &r);
    mvcc_result_reset(&r);
    return rc;
}

int mvcc_txn_get_for_update(struct mvcc_txn *t, const void *key,
                            size_t key_len, int64_t wait_ms, uint8_t **value,
                            size_t *value_len)
{
    struct mvcc_key k = {key, key_len};
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = lock_keys(t, &k, 1, wait_ms, true, &r);
    if (rc == 0) {
        bool found;
        size_t i = find_mut(t, key, key_len, &found);
        if (found && t->muts[i].op != MVCC_OP_LOCK) {
            rc = mvcc_txn_get(t, key, key_len, value, value_len); /* ours */
        } else if (r.npairs == 0) {
            rc = MVCC_NOTFOUND;
        } else {
            *value = r.pairs[0].value; /* hand over */
            *value_len = r.pairs[0].value_len;
            r.pairs[0].value = NULL;
        }
    }
    mvcc_result_reset(&r);
    return rc;
}

/* Commit. */

struct group
{
    struct mvcc_txn *t;            /* txn */
    size_t first;                  /* first mutation index */
    size_t n;                      /* mutations */
    uint64_t shard;                /* where */
    bool one_pc;                   /* try 1PC */
    bool async;                    /* async commit */
    const struct mvcc_key *secs;   /* async: secondaries */
    size_t nsecs;                  /* how many */
    int rc;                        /* prewrite outcome */
    mvcc_ts min_commit_ts;         /* async result */
    mvcc_ts commit_ts;             /* 1PC result */
    bool prewritten;               /* locks may exist (roll back on failure) */
};

static int prewrite_group(struct group *g)
{
    struct mvcc_txn *t = g->t;
    struct mvcc_client *c = t->c;
    struct mvcc_mutation *ms = mvcc__calloc(g->n, sizeof *ms);
    if (ms == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < g->n; i++) {
        const struct mut *m = &t->muts[g->first + i];
        ms[i] = (struct mvcc_mutation){m->op, m->key, m->klen, m->val,
                                       m->vlen, m->plock};
    }
    struct mvcc_prewrite_req req;
    memset(&req, 0, sizeof req);
    req.mutations = ms;
    req.n = g->n;
    req.primary = t->primary ? t->primary : t->muts[0].key;
    req.primary_len = t->primary ? t->primary_len : t->muts[0].klen;
    req.for_update_ts = t->for_update_ts;
    req.start_ts = t->start_ts;
    req.lock_ttl = c->o.lock_ttl;
    req.txn_size = t->n;
    req.min_commit_ts = t->start_ts + 1;
    req.use_async_commit = g->async;
    req.secondaries = g->secs;
    req.nsecondaries = g->nsecs;
    req.try_one_pc = g->one_pc;
    struct mvcc_result r;
    mvcc_result_init(&r);
    uint64_t deadline = now_ms() + c->o.resolve_budget_ms;
    int rc;
    g->prewritten = true;
    for (unsigned attempt = 0;; attempt++) {
        rc = c->o.transport.prewrite(c->o.transport.ctx, g->shard, &req, &r);
        if (rc != MVCC_LOCKED)
            break;
        rc = resolve_locks(t, r.locks, r.nlocks, false);
        if (rc == MVCC_LOCKED) {
            if (now_ms() > deadline)
                break;
            backoff(attempt);
        } else if (rc != 0) {
            break;
        }
    }
    if (rc == 0) {
        g->min_commit_ts = r.min_commit_ts;
        g->commit_ts = r.commit_ts;
    }
    mvcc_result_reset(&r);
    mvcc__free(ms);
    return rc;
}

static void *prewrite_thread(void *arg)
{
    struct group *g = arg;
    g->rc = prewrite_group(g);
    return NULL;
}

static void keys_of(const struct mvcc_txn *t, const struct group *g,
                    struct mvcc_key *out)
{
    for (size_t i = 0; i < g->n; i++) {
        out[i].data = t->muts[g->first + i].key;
        out[i].len = t->muts[g->first + i].klen;
    }
}

static void rollback_groups(struct mvcc_txn *t, struct group *gs, size_t ng,
                            struct mvcc_key *keys)
{
    struct mvcc_client *c = t->c;
    struct mvcc_result r;
    mvcc_result_init(&r);
    for (size_t i = 0; i < ng; i++) {
        if (!gs[i].prewritten)
            continue;
        keys_of(t, &gs[i], keys);
        /* Best effort: what fails here is resolved by readers later. */
        (void)c->o.transport.batch_rollback(c->o.transport.ctx, gs[i].shard,
                                            keys, gs[i].n, t->start_ts, &r);
    }
    mvcc_result_reset(&r);
}

static void heartbeat_if_long(struct mvcc_txn *t, uint64_t shard0)
{
    struct mvcc_client *c = t->c;
    mvcc_ts now;
    if (c->o.tso(c->o.tso_ctx, &now) != 0)
        return;
    uint64_t age = (now >> 18) - (t->start_ts >> 18);
    if (age * 2 < c->o.lock_ttl)
        return;
    struct mvcc_result r;
    mvcc_result_init(&r);
    (void)c->o.transport.txn_heartbeat(c->o.transport.ctx, shard0,
                                       t->primary ? t->primary
                                                  : t->muts[0].key,
                                       t->primary ? t->primary_len
                                                  : t->muts[0].klen,
                                       t->start_ts, age + c->o.lock_ttl, &r);
    mvcc_result_reset(&r);
}

static bool fail_at(struct mvcc_client *c, int point)
{
    return c->o.failpoint && c->o.failpoint(c->o.failpoint_ctx, point) != 0;
}

int mvcc_txn_commit(struct mvcc_txn *t, mvcc_ts *commit_ts_out)
{
    struct mvcc_client *c = t->c;
    struct group *gs = NULL;
    struct mvcc_key *keys = NULL, *secs = NULL;
    size_t ng = 0;
    int rc = 0;
    mvcc_ts commit_ts = 0;
    if (t->n == 0) {
        if (commit_ts_out)
            *commit_ts_out = t->start_ts;
        goto out;
    }
    gs = mvcc__calloc(t->n, sizeof *gs);
    keys = mvcc__calloc(t->n, sizeof *keys);
    if (gs == NULL || keys == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    /* Keys are sorted and shards are ranges: groups are runs. */
    for (size_t i = 0; i < t->n; i++) {
        if ((rc = shard_of(c, t->muts[i].key, t->muts[i].klen,
                           &t->muts[i].shard)))
            goto out;
        if (ng == 0 || gs[ng - 1].shard != t->muts[i].shard)
            gs[ng++] = (struct group){t, i, 0, t->muts[i].shard, false,
                                      false, NULL, 0, 0, 0, 0, false};
        gs[ng - 1].n++;
    }
    /* The primary: the first key locked (pessimistic), else the smallest.
     * Its group goes first. */
    const uint8_t *pk = t->primary ? t->primary : t->muts[0].key;
    size_t pkl = t->primary ? t->primary_len : t->muts[0].klen;
    bool pfound;
    size_t pi = find_mut(t, pk, pkl, &pfound);
    if (!pfound) { /* cannot happen: a primary is a locked key */
        rc = MVCC_EINTERNAL;
        goto out;
    }
    for (size_t i = 1; i < ng; i++)
        if (gs[i].first <= pi && pi < gs[i].first + gs[i].n) {
            struct group g = gs[0];
            gs[0] = gs[i];
            gs[i] = g;
        }
    bool one_pc = c->o.one_pc && ng == 1;
    bool async = !one_pc && c->o.async_commit && t->n <= ASYNC_MAX_KEYS;
    if (async) {
        secs = mvcc__calloc(t->n, sizeof *secs);
        if (secs == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        size_t ns = 0;
        for (size_t i = 0; i < t->n; i++)
            if (i != pi)
                secs[ns++] = (struct mvcc_key){t->muts[i].key, t->muts[i].klen};
    }
    for (size_t i = 0; i < ng; i++) {
        gs[i].one_pc = one_pc;
        gs[i].async = async;
        gs[i].secs = secs;
        gs[i].nsecs = async ? t->n - 1 : 0;
    }
    /* Prewrite: the primary's group first, then the others in parallel. */
    rc = prewrite_group(&gs[0]);
    if (rc == 0 && ng > 1) {
        heartbeat_if_long(t, gs[0].shard);
        pthread_t *th = mvcc__calloc(ng, sizeof *th);
        bool *started = mvcc__calloc(ng, sizeof *started);
        if (th == NULL || started == NULL) {
            rc = -ENOMEM;
        } else {
            for (size_t i = 1; i < ng; i++)
                started[i] =
                    pthread_create(&th[i], NULL, prewrite_thread, &gs[i]) == 0;
            for (size_t i = 1; i < ng; i++) {
                if (started[i])
                    pthread_join(th[i], NULL);
                else
                    gs[i].rc = prewrite_group(&gs[i]);
                if (gs[i].rc != 0 && rc == 0)
                    rc = gs[i].rc;
            }
        }
        mvcc__free(th);
        mvcc__free(started);
    }
    if (rc != 0) {
        rollback_groups(t, gs, ng, keys);
        goto out;
    }
    if (one_pc) {
        commit_ts = gs[0].commit_ts;
        goto done;
    }
    if (fail_at(c, MVCC_FP_AFTER_PREWRITE)) {
        rc = -ECANCELED;
        goto out;
    }
    struct mvcc_result r;
    mvcc_result_init(&r);
    if (async) {
        /* Committed now: commit_ts is the largest min_commit_ts. */
        for (size_t i = 0; i < ng; i++)
            if (gs[i].min_commit_ts > commit_ts)
                commit_ts = gs[i].min_commit_ts;
    } else {
        /* The primary's commit is the commit point. The other keys of its
         * shard commit in the same atomic batch (primary-first ordering
         * only matters across shards), saving a request. A reader may
         * have pushed min_commit_ts meanwhile: take a newer ts, retry. */
        keys_of(t, &gs[0], keys);
        for (int tries = 0;; tries++) {
            if ((rc = c->o.tso(c->o.tso_ctx, &commit_ts)))
                break;
            rc = c->o.transport.commit(c->o.transport.ctx, gs[0].shard, keys,
                                       gs[0].n, t->start_ts, commit_ts, &r);
            if (rc != MVCC_COMMIT_TS_EXPIRED || tries > 16)
                break;
        }
        if (rc != 0) {
            mvcc_result_reset(&r);
            rollback_groups(t, gs, ng, keys);
            goto out;
        }
    }
    if (fail_at(c, MVCC_FP_AFTER_PRIMARY_COMMIT)) {
        mvcc_result_reset(&r);
        if (commit_ts_out)
            *commit_ts_out = commit_ts;
        rc = -ECANCELED;
        goto out;
    }
    /* Secondaries: best effort; a lock left behind is resolved by readers
     * through the primary. */
    for (size_t i = async ? 0 : 1; i < ng; i++) {
        keys_of(t, &gs[i], keys);
        (void)c->o.transport.commit(c->o.transport.ctx, gs[i].shard, keys,
                                    gs[i].n, t->start_ts, commit_ts, &r);
    }
    mvcc_result_reset(&r);
done:
    if (commit_ts_out)
        *commit_ts_out = commit_ts;
out:
    if (rc != 0 && rc != -ECANCELED)
        release_plocks(t); /* locks never prewritten */
    mvcc__free(gs);
    mvcc__free(keys);
    mvcc__free(secs);
    txn_free(t);
    return rc;
}

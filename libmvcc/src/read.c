/* read.c: Get, BatchGet and Scan at a timestamp (DESIGN.md, "Commands:
 * reads"). A read bumps the store's max_ts and takes an engine snapshot
 * under the shared ts_guard; an async-commit or 1PC prewrite reads max_ts
 * and registers its keys under it exclusively, so a read either raised
 * max_ts first (commit_ts lands above it) or waits for those keys.
 */
#include <errno.h>
#include <string.h>

#include "txn.h"

static const struct mvcc_read_opts default_ro;

static int kcmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);

/* Whether an in-flight async/1PC prewrite is writing one of the keys, or a
 * key in [lo, hi) when keys is NULL (hi NULL = unbounded). Under ts_guard. */
static bool in_flight(struct mvcc_store *s, const struct mvcc_key *keys,
                      size_t n, const void *lo, size_t lol, const void *hi,
                      size_t hil)
{
    for (size_t i = 0; i < s->nmlocks; i++) {
        const struct mvcc__mlock *m = &s->mlocks[i];
        if (keys == NULL) {
            if (kcmp(m->key, m->len, lo, lol) >= 0 &&
                (hi == NULL || kcmp(m->key, m->len, hi, hil) < 0))
                return true;
            continue;
        }
        for (size_t j = 0; j < n; j++)
            if (kcmp(m->key, m->len, keys[j].data, keys[j].len) == 0)
                return true;
    }
    return false;
}

/* Raises max_ts to ts and takes the read's snapshot under the shared
 * ts_guard. If an async/1PC prewrite is writing one of the keys right now
 * (it chose its commit_ts before this ts was seen), wait until its batch
 * is in the engine, so the snapshot shows its locks. */
static int begin_read(struct mvcc_store *s, mvcc_ts ts,
                      const struct mvcc_key *keys, size_t n, const void *lo,
                      size_t lol, const void *hi, size_t hil,
                      struct mvcc_snapshot **snap)
{
    for (;;) {
        pthread_rwlock_rdlock(&s->ts_guard);
        if (ts != MVCC_TS_MAX) {
            mvcc_ts cur = __atomic_load_n(&s->max_ts, __ATOMIC_RELAXED);
            while (cur < ts && !__atomic_compare_exchange_n(
                                   &s->max_ts, &cur, ts, false,
                                   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
                ;
        }
        if (s->nmlocks == 0 || !in_flight(s, keys, n, lo, lol, hi, hil)) {
            /* With a lock table the caller reads locks first and takes
             * the snapshot after (snap NULL here). */
            int rc = snap ? mvcc_engine_snapshot(s->eng, snap) : 0;
            pthread_rwlock_unlock(&s->ts_guard);
            return rc;
        }
        /* The generation is read before ts_guard is released: the
         * prewrite bumps it after removing its keys, so no wake-up is
         * lost. */
        pthread_mutex_lock(&s->wait_mu);
        uint64_t gen = s->release_gen;
        pthread_mutex_unlock(&s->wait_mu);
        pthread_rwlock_unlock(&s->ts_guard);
        pthread_mutex_lock(&s->wait_mu);
        while (s->release_gen == gen)
            pthread_cond_wait(&s->wait_cv, &s->wait_mu);
        pthread_mutex_unlock(&s->wait_mu);
    }
}

/* Whether lock l stops a reader at ts (Percolator: a lock at or below the
 * read ts may belong to a transaction committing below it). */
static bool blocks(const struct mvcc_read_opts *ro, const struct mvcc__lock *l,
                   mvcc_ts ts)
{
    if (ro->isolation == MVCC_ISO_RC)
        return false;
    if (l->start_ts > ts || l->type == MVCC__LOCK_LOCK ||
        l->type == MVCC__LOCK_PESSIMISTIC)
        return false;
    if (l->min_commit_ts > ts)
        return false; /* it will commit above ts */
    for (size_t i = 0; i < ro->nbypass; i++)
        if (ro->bypass[i] == l->start_ts)
            return false;
    return true;
}

static int lock_blocks(const struct mvcc_read_opts *ro, const void *k,
                       size_t kl, const struct mvcc__lock *l, mvcc_ts ts,
                       struct mvcc_result *res)
{
    if (!blocks(ro, l, ts))
        return 0;
    int rc = mvcc__res_add_lock(res, k, kl, l);
    return rc ? rc : MVCC_LOCKED;
}

static int check_lock(struct mvcc__cmd *c, const struct mvcc_read_opts *ro,
                      const void *k, size_t kl, mvcc_ts ts,
                      struct mvcc_result *res)
{
    if (ro->isolation == MVCC_ISO_RC)
        return 0;
    struct mvcc__lock l;
    int rc = mvcc__load_lock(c, k, kl, &l);
    if (rc == MVCC_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    return lock_blocks(ro, k, kl, &l, ts, res);
}

static int get_one(struct mvcc__cmd *c, const struct mvcc_read_opts *ro,
                   const void *k, size_t kl, mvcc_ts ts,
                   struct mvcc_result *res)
{
    /* With a lock table the locks were checked before the snapshot. */
    int rc = c->s->lt ? 0 : check_lock(c, ro, k, kl, ts, res);
    if (rc != 0)
        return rc;
    uint8_t *v = NULL;
    size_t vl = 0;
    rc = mvcc__read_value(c, k, kl, ts, true, &v, &vl);
    if (rc != 0)
        return rc;
    return mvcc__res_add_pair(res, k, kl, v, vl);
}

int mvcc_get(struct mvcc_store *s, const struct mvcc_read_opts *ro,
             const void *key, size_t key_len, mvcc_ts ts,
             struct mvcc_result *res)
{
    struct mvcc_key k = {key, key_len};
    mvcc__res_clear(res);
    int rc = mvcc_batch_get(s, ro, &k, 1, ts, res);
    if (rc == 0 && res->npairs == 0)
        rc = MVCC_NOTFOUND;
    return rc;
}

int mvcc_batch_get(struct mvcc_store *s, const struct mvcc_read_opts *ro,
                   const struct mvcc_key *keys, size_t n, mvcc_ts ts,
                   struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || (keys == NULL && n > 0))
        return -EINVAL;
    if (ro == NULL)
        ro = &default_ro;
    struct mvcc_snapshot *snap = NULL;
    struct mvcc__cmd c;
    int rc = begin_read(s, ts, keys, n, NULL, 0, NULL, 0,
                        s->lt ? NULL : &snap);
    if (rc != 0)
        return rc;
    mvcc__cmd_init(&c, s, NULL);
    if (s->lt) {
        /* Locks first (the latest state), then the snapshot: a lock that
         * is gone by now was committed into the snapshot or rolled back,
         * and one that appears later commits above ts (DESIGN "Lock
         * table"). */
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = check_lock(&c, ro, keys[i].data, keys[i].len, ts, res);
        if (rc == 0)
            rc = mvcc_engine_snapshot(s->eng, &snap);
        if (rc != 0) {
            mvcc__cmd_free(&c);
            return rc;
        }
    }
    c.snap = snap;
    for (size_t i = 0; i < n; i++) {
        rc = get_one(&c, ro, keys[i].data, keys[i].len, ts, res);
        if (rc == MVCC_NOTFOUND)
            rc = 0;
        if (rc != 0)
            break;
    }
    mvcc__cmd_free(&c);
    mvcc_engine_snapshot_release(s->eng, snap);
    return rc;
}

/* Scan: merge the write CF (versions) and the lock CF (locks) by encoded
 * user key; for each user key check its lock, then read its value. */

struct cursor
{
    struct mvcc_iter *it; /* over one CF within the scan's bounds */
    size_t strip;         /* bytes of ts suffix on its keys (8 or 0) */
};

static bool cur_key(const struct cursor *cu, const uint8_t **k, size_t *kl)
{
    if (!cu->it->ops->valid(cu->it))
        return false;
    *k = cu->it->ops->key(cu->it, kl);
    if (*kl < cu->strip)
        return false;
    *kl -= cu->strip;
    return true;
}

static int kcmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : al < bl ? -1 : al > bl;
}

/* Steps past every entry of the current encoded user key ek. */
static int skip(struct cursor *cu, const uint8_t *ek, size_t el, bool rev)
{
    const uint8_t *k;
    size_t kl;
    while (cur_key(cu, &k, &kl) && kl == el && memcmp(k, ek, el) == 0) {
        int rc = rev ? cu->it->ops->prev(cu->it) : cu->it->ops->next(cu->it);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int mvcc_scan(struct mvcc_store *s, const struct mvcc_read_opts *ro,
              const void *start, size_t start_len, const void *end,
              size_t end_len, mvcc_ts ts, struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || (start == NULL && start_len > 0))
        return -EINVAL;
    if (ro == NULL)
        ro = &default_ro;
    struct mvcc__buf lo = {0}, hi = {0}, cur = {0}, uk = {0};
    struct cursor w = {NULL, 8}, l = {NULL, 0};
    struct mvcc_snapshot *snap = NULL;
    struct mvcc__cmd c;
    bool rev = ro->reverse;
    int rc = mvcc__key_append(&lo, start ? start : "", start_len);
    if (rc == 0 && end != NULL)
        rc = mvcc__key_append(&hi, end, end_len);
    if (rc != 0)
        goto out_bufs;
    struct mvcc_iter_opts io = {lo.data, lo.len, end ? hi.data : NULL,
                                end ? hi.len : 0};
    mvcc__cmd_init(&c, s, NULL);
    if ((rc = begin_read(s, ts, NULL, 0, start ? start : "", start_len, end,
                         end_len, s->lt ? NULL : &snap)) != 0)
        goto out;
    /* With a lock table: its locks first, then the snapshot (as in
     * BatchGet). Without: both iterators on the snapshot. */
    if ((rc = mvcc__lock_iter(s, snap, &io, &l.it)) ||
        (s->lt && (rc = mvcc_engine_snapshot(s->eng, &snap))))
        goto out;
    c.snap = snap;
    if ((rc = mvcc_engine_iter(s->eng, snap, MVCC_CF_WRITE, &io, &w.it)))
        goto out;
    if (rev) {
        if ((rc = w.it->ops->seek_to_last(w.it)) ||
            (rc = l.it->ops->seek_to_last(l.it)))
            goto out;
    } else {
        if ((rc = w.it->ops->seek_to_first(w.it)) ||
            (rc = l.it->ops->seek_to_first(l.it)))
            goto out;
    }
    for (;;) {
        if (ro->limit && res->npairs >= ro->limit)
            break;
        const uint8_t *wk = NULL, *lk = NULL;
        size_t wkl = 0, lkl = 0;
        bool hw = cur_key(&w, &wk, &wkl), hl = cur_key(&l, &lk, &lkl);
        if (!hw && !hl)
            break;
        bool take_w = hw, take_l = hl;
        if (hw && hl) {
            int d = kcmp(wk, wkl, lk, lkl);
            if (rev)
                d = -d;
            take_w = d <= 0;
            take_l = d >= 0;
        }
        cur.len = 0;
        if ((rc = mvcc__buf_append(&cur, take_w ? wk : lk,
                                   take_w ? wkl : lkl)) != 0)
            goto out;
        /* The user key, for the result and the point lookups. */
        if ((rc = mvcc__buf_reserve(&uk, cur.len + 1)) != 0)
            goto out;
        size_t ul, used;
        if ((rc = mvcc_key_decode(cur.data, cur.len, uk.data, &ul, &used)) !=
                0 ||
            used != cur.len) {
            rc = MVCC_CORRUPT;
            goto out;
        }
        if (take_l && ro->isolation != MVCC_ISO_RC) {
            /* The record under the lock cursor (same view as the scan). */
            size_t vl;
            const uint8_t *v = l.it->ops->value(l.it, &vl);
            struct mvcc__lock lrec;
            if (mvcc__lock_decode(v, vl, &lrec) != 0) {
                mvcc__log(s, MVCC_LOG_ERROR, "malformed lock record");
                rc = MVCC_CORRUPT;
                goto out;
            }
            if ((rc = lock_blocks(ro, uk.data, ul, &lrec, ts, res)) != 0)
                goto out;
        }
        if (take_l) {
            if ((rc = skip(&l, cur.data, cur.len, rev)) != 0)
                goto out;
        }
        if (take_w) {
            if ((rc = skip(&w, cur.data, cur.len, rev)) != 0)
                goto out;
            uint8_t *v = NULL;
            size_t vl = 0;
            rc = mvcc__read_value(&c, uk.data, ul, ts, !ro->key_only, &v, &vl);
            if (rc == MVCC_NOTFOUND)
                continue;
            if (rc != 0 || (rc = mvcc__res_add_pair(res, uk.data, ul, v, vl)))
                goto out;
        }
    }
    rc = 0;
out:
    mvcc_iter_destroy(w.it);
    mvcc_iter_destroy(l.it);
    mvcc__cmd_free(&c);
    if (snap)
        mvcc_engine_snapshot_release(s->eng, snap);
out_bufs:
    mvcc__buf_free(&lo);
    mvcc__buf_free(&hi);
    mvcc__buf_free(&cur);
    mvcc__buf_free(&uk);
    return rc;
}

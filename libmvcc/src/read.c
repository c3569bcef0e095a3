/* read.c: Get, BatchGet and Scan at a timestamp (DESIGN.md, "Commands"
 * and "Reads"). A read bumps the store's max_ts and takes its view under
 * the shared ts_guard; an async-commit or 1PC prewrite reads max_ts and
 * registers its keys under it exclusively, so a read either raised max_ts
 * first (commit_ts lands above it) or waits for those keys. Versions are
 * read by stepping one write-CF iterator, seeking only past a bound; with
 * a lock table that iterator is a kept one (DESIGN "Reads").
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

/* Versions of one user key in the write CF, newest first (DESIGN
 * "Reads", stepping over versions). An iterator is moved with next()/prev()
 * while that is cheaper than a seek, and seeks after MVCC__SEEK_BOUND
 * steps on one key (RocksDB's max_sequential_skip_in_iterations, TiKV's
 * SEEK_BOUND). ek holds enc(user key) in its first el bytes; the bytes
 * after are scratch for a ts suffix. */

/* Whether it is on a version of ek: its commit_ts in *cts (if not
 * NULL). */
static bool on_ukey(const struct mvcc_iter *it, const uint8_t *ek, size_t el,
                    mvcc_ts *cts)
{
    if (!it->ops->valid(it))
        return false;
    size_t kl;
    const uint8_t *k = it->ops->key(it, &kl);
    if (kl != el + MVCC__TS_LEN || memcmp(k, ek, el) != 0)
        return false;
    if (cts)
        *cts = mvcc__key_ts(k, kl);
    return true;
}

/* Seeks it to ek ‖ ~ts. */
static int seek_ts(struct mvcc_iter *it, struct mvcc__buf *ek, size_t el,
                   mvcc_ts ts)
{
    ek->len = el;
    int rc = mvcc__buf_reserve(ek, MVCC__TS_LEN);
    if (rc != 0)
        return rc;
    mvcc__put_u64(ek->data + el, ~ts);
    return it->ops->seek(it, ek->data, el + MVCC__TS_LEN);
}

/* Decodes the write record under it into *w (borrowing its bytes). */
static int decode_here(struct mvcc_store *s, const struct mvcc_iter *it,
                       struct mvcc__write *w)
{
    size_t vl;
    const uint8_t *v = it->ops->value(it, &vl);
    if (mvcc__write_decode(v, vl, w) == 0)
        return 0;
    mvcc__log(s, MVCC_LOG_ERROR, "malformed write record");
    return MVCC_CORRUPT;
}

int mvcc__visible(struct mvcc_store *s, struct mvcc_iter *it,
                  struct mvcc__buf *ek, size_t el, mvcc_ts ts,
                  struct mvcc__write *w)
{
    mvcc_ts cts;
    int rc;
    for (int steps = 0; on_ukey(it, ek->data, el, &cts) && cts > ts;
         steps++) {
        if (steps == MVCC__SEEK_BOUND) {
            if ((rc = seek_ts(it, ek, el, ts)) != 0)
                return rc;
            break;
        }
        if ((rc = it->ops->next(it)) != 0)
            return rc;
    }
    /* Lock and Rollback records are looked through. */
    while (on_ukey(it, ek->data, el, &cts)) {
        if ((rc = decode_here(s, it, w)) != 0)
            return rc;
        if (w->type == MVCC__WRITE_PUT)
            return 1;
        if (w->type == MVCC__WRITE_DELETE)
            return 0;
        if ((rc = it->ops->next(it)) != 0)
            return rc;
    }
    return 0;
}

int mvcc__put_value(struct mvcc__cmd *c, struct mvcc__buf *ek, size_t el,
                    const struct mvcc__write *w, uint8_t **val, size_t *vlen)
{
    if (w->has_value) {
        *val = mvcc__memdup(w->value, w->value_len);
        *vlen = w->value_len;
        return *val ? 0 : -ENOMEM;
    }
    ek->len = el;
    int rc = mvcc__buf_reserve(ek, MVCC__TS_LEN);
    if (rc != 0)
        return rc;
    mvcc__put_u64(ek->data + el, ~w->start_ts);
    rc = mvcc_engine_get(c->s->eng, c->snap, MVCC_CF_DEFAULT, ek->data,
                         el + MVCC__TS_LEN, val, vlen);
    if (rc == MVCC_NOTFOUND) {
        mvcc__log(c->s, MVCC_LOG_ERROR,
                  "write record without its default value");
        rc = MVCC_CORRUPT;
    }
    return rc;
}

/* The forward scan's first look at ek: it is on ek's newest record, whose
 * commit_ts is cts, so that record is read without checking its key
 * again; otherwise as mvcc__visible. */
static int visible_first(struct mvcc_store *s, struct mvcc_iter *it,
                         struct mvcc__buf *ek, size_t el, mvcc_ts cts,
                         mvcc_ts ts, struct mvcc__write *w)
{
    if (cts <= ts) {
        int rc = decode_here(s, it, w);
        if (rc != 0)
            return rc;
        if (w->type == MVCC__WRITE_PUT)
            return 1;
        if (w->type == MVCC__WRITE_DELETE)
            return 0;
    }
    return mvcc__visible(s, it, ek, el, ts, w);
}

/* Moves it past every version of ek; on: it is known to be on one. */
static int next_ukey(struct mvcc_iter *it, struct mvcc__buf *ek, size_t el,
                     bool on)
{
    int rc;
    for (int steps = 0; on || on_ukey(it, ek->data, el, NULL); steps++) {
        on = false;
        if (steps == MVCC__SEEK_BOUND) {
            /* ~0 is ek's last possible version; step past it if there. */
            if ((rc = seek_ts(it, ek, el, 0)) != 0)
                return rc;
            if (on_ukey(it, ek->data, el, NULL))
                return it->ops->next(it);
            return 0;
        }
        if ((rc = it->ops->next(it)) != 0)
            return rc;
    }
    return 0;
}

/* Reverse: it is on ek's oldest version. Walks ek's versions backwards
 * (oldest to newest), keeping in cand the raw write record of the newest
 * Put or Delete at or below ts, and leaves it on the previous user key.
 * Past MVCC__SEEK_BOUND versions it finds the visible one forwards from a
 * seek instead, then seeks back before ek. 1 if the visible record is a
 * Put (in cand), 0 if none. */
static int visible_rev(struct mvcc_store *s, struct mvcc_iter *it,
                       struct mvcc__buf *ek, size_t el, mvcc_ts ts,
                       struct mvcc__buf *cand)
{
    mvcc_ts cts;
    int rc, found = 0;
    struct mvcc__write w;
    for (int steps = 0; on_ukey(it, ek->data, el, &cts); steps++) {
        if (steps == MVCC__SEEK_BOUND)
            goto by_seek;
        if (cts <= ts) {
            if ((rc = decode_here(s, it, &w)) != 0)
                return rc;
            if (w.type == MVCC__WRITE_DELETE)
                found = 0;
            if (w.type == MVCC__WRITE_PUT) {
                size_t vl;
                const uint8_t *v = it->ops->value(it, &vl);
                cand->len = 0;
                if ((rc = mvcc__buf_append(cand, v, vl)) != 0)
                    return rc;
                found = 1;
            }
        }
        if ((rc = it->ops->prev(it)) != 0)
            return rc;
    }
    return found;
by_seek:
    if ((rc = seek_ts(it, ek, el, ts)) != 0 ||
        (rc = found = mvcc__visible(s, it, ek, el, ts, &w)) < 0)
        return rc;
    if (found) {
        size_t vl;
        const uint8_t *v = it->ops->value(it, &vl);
        cand->len = 0;
        if ((rc = mvcc__buf_append(cand, v, vl)) != 0)
            return rc;
    }
    /* Every key of an earlier user key sorts below enc(user key) alone
     * (the encoding is prefix-free). */
    if ((rc = it->ops->seek_for_prev(it, ek->data, el)) != 0)
        return rc;
    return found;
}

/* Adds the pair (user key decoded from ek, value) to res; val handed
 * over. */
static int add_pair(struct mvcc_result *res, const uint8_t *ek, size_t el,
                    uint8_t *val, size_t vl)
{
    uint8_t *k = mvcc__malloc(el);
    size_t kl, used;
    int rc = k ? mvcc_key_decode(ek, el, k, &kl, &used) : -ENOMEM;
    if (rc == 0 && used != el)
        rc = MVCC_CORRUPT;
    if (rc != 0) {
        mvcc__free(k);
        mvcc__free(val);
        return rc;
    }
    return mvcc__res_push_pair(res, k, kl, val, vl);
}

/* A BatchGet's next key is often just after the previous one (an index
 * join fetching a table's rows in key order): a step costs about a fifth
 * of a seek. */
#define NEAR_STEPS 4

/* Moves it to ek‖~ts as seek_ts does. *near is the call's state: 0 for
 * its first key (a seek, then 1), 1 while stepping pays, -1 after a miss.
 * At 1, when it is on a key below the target, it steps forward first, up
 * to NEAR_STEPS times: the first key at or past the target (or the end)
 * is where the seek would land, the iterator being one consistent view.
 * A miss costs one wasted walk per call. */
static int seek_near(struct mvcc_iter *it, struct mvcc__buf *ek, size_t el,
                     mvcc_ts ts, int *near)
{
    size_t kl;
    if (*near == 1 && it->ops->valid(it)) {
        ek->len = el;
        int rc = mvcc__buf_reserve(ek, MVCC__TS_LEN);
        if (rc != 0)
            return rc;
        mvcc__put_u64(ek->data + el, ~ts);
        const uint8_t *k = it->ops->key(it, &kl);
        if (kcmp(k, kl, ek->data, el + MVCC__TS_LEN) < 0) {
            for (int i = 0; i < NEAR_STEPS; i++) {
                if ((rc = it->ops->next(it)) != 0)
                    return rc;
                if (!it->ops->valid(it))
                    return 0;
                k = it->ops->key(it, &kl);
                if (kcmp(k, kl, ek->data, el + MVCC__TS_LEN) >= 0)
                    return 0;
            }
            *near = -1;
        }
    }
    if (*near == 0)
        *near = 1;
    return seek_ts(it, ek, el, ts);
}

/* Reads one key at ts through c's write-CF iterator (a seek, or steps
 * from the previous key: seek_near). */
static int get_one(struct mvcc__cmd *c, const struct mvcc_read_opts *ro,
                   const void *k, size_t kl, mvcc_ts ts, int *near,
                   struct mvcc_result *res)
{
    /* With a lock table the locks were checked before the view was
     * taken. */
    int rc = c->s->lt ? 0 : check_lock(c, ro, k, kl, ts, res);
    if (rc != 0)
        return rc;
    if (c->wit == NULL &&
        (rc = mvcc_engine_iter(c->s->eng, c->snap, MVCC_CF_WRITE, NULL,
                               &c->wit)) != 0)
        return rc;
    c->kb.len = 0;
    if ((rc = mvcc__key_append(&c->kb, k, kl)) != 0)
        return rc;
    size_t el = c->kb.len;
    struct mvcc__write w;
    if ((rc = seek_near(c->wit, &c->kb, el, ts, near)) != 0 ||
        (rc = mvcc__visible(c->s, c->wit, &c->kb, el, ts, &w)) <= 0)
        return rc;
    uint8_t *v = NULL;
    size_t vl = 0;
    if ((rc = mvcc__put_value(c, &c->kb, el, &w, &v, &vl)) != 0)
        return rc;
    uint8_t *kc = mvcc__memdup(k, kl);
    if (kc == NULL) {
        mvcc__free(v);
        return -ENOMEM;
    }
    return mvcc__res_push_pair(res, kc, kl, v, vl);
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
    mvcc__cmd_init(&c, s, snap);
    if (s->lt) {
        /* Locks first (the latest state), then the view: a lock that is
         * gone by now was committed into the view or rolled back, and one
         * that appears later commits above ts (DESIGN "Lock table"). The
         * view is the write-CF iterator's, made after this; no engine
         * snapshot is needed (DESIGN "Reads": no snapshot with a lock
         * table). */
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = check_lock(&c, ro, keys[i].data, keys[i].len, ts, res);
    }
    /* With a lock table the write-CF iterator may be a kept one, taken
     * now that the locks are checked (DESIGN "Reads": kept iterators). */
    struct mvcc__kept_iter *kept = NULL;
    if (rc == 0 && s->lt && n > 0 &&
        (rc = mvcc__kept_iter_take(s, &kept)) == 0)
        c.wit = kept->it;
    int near = 0; /* seek_near's state: the first key seeks */
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = get_one(&c, ro, keys[i].data, keys[i].len, ts, &near, res);
    if (kept) {
        c.wit = NULL;
        mvcc__kept_iter_put(s, kept, rc != MVCC_EENGINE);
    }
    mvcc__cmd_free(&c);
    if (snap)
        mvcc_engine_snapshot_release(s->eng, snap);
    return rc;
}

/* Scan: merge the write CF (versions) and the lock CF (locks) by encoded
 * user key; for each user key check its lock, then find its visible
 * version by stepping the write-CF iterator (DESIGN "Reads"). */

struct cursor
{
    struct mvcc_iter *it; /* over one CF within the scan's bounds */
    size_t strip;         /* bytes of ts suffix on its keys (8 or 0) */
    const struct mvcc_iter_opts *bounds; /* checked here when it is an
                                            unbounded (kept) iterator;
                                            NULL when it has them */
};

static bool cur_key(const struct cursor *cu, const uint8_t **k, size_t *kl)
{
    if (!cu->it->ops->valid(cu->it))
        return false;
    *k = cu->it->ops->key(cu->it, kl);
    const struct mvcc_iter_opts *b = cu->bounds;
    if (b && ((b->upper && kcmp(*k, *kl, b->upper, b->upper_len) >= 0) ||
              kcmp(*k, *kl, b->lower, b->lower_len) < 0))
        return false;
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

/* Positions an unbounded iterator on the last key below b->upper (or the
 * last key), as seek_to_last does on a bounded one. */
static int seek_last_below(struct mvcc_iter *it,
                           const struct mvcc_iter_opts *b)
{
    if (b->upper == NULL)
        return it->ops->seek_to_last(it);
    int rc = it->ops->seek_for_prev(it, b->upper, b->upper_len);
    size_t kl;
    while (rc == 0 && it->ops->valid(it) &&
           kcmp(it->ops->key(it, &kl), kl, b->upper, b->upper_len) >= 0)
        rc = it->ops->prev(it);
    return rc;
}

/* Checks the lock under the lock cursor (encoded key ek) for a reader at
 * ts, then steps past it. */
static int scan_lock(struct mvcc_store *s, const struct mvcc_read_opts *ro,
                     struct cursor *l, const uint8_t *ek, size_t el,
                     mvcc_ts ts, struct mvcc__buf *uk,
                     struct mvcc_result *res)
{
    int rc;
    if (ro->isolation != MVCC_ISO_RC) {
        size_t vl;
        const uint8_t *v = l->it->ops->value(l->it, &vl);
        struct mvcc__lock lrec;
        if (mvcc__lock_decode(v, vl, &lrec) != 0) {
            mvcc__log(s, MVCC_LOG_ERROR, "malformed lock record");
            return MVCC_CORRUPT;
        }
        if (blocks(ro, &lrec, ts)) {
            size_t ul, used;
            if ((rc = mvcc__buf_reserve(uk, el)) != 0)
                return rc;
            if (mvcc_key_decode(ek, el, uk->data, &ul, &used) != 0 ||
                used != el)
                return MVCC_CORRUPT;
            return lock_blocks(ro, uk->data, ul, &lrec, ts, res);
        }
    }
    /* One lock per user key. */
    return ro->reverse ? l->it->ops->prev(l->it) : l->it->ops->next(l->it);
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
    struct mvcc__buf lo = {0}, hi = {0}, ek = {0}, uk = {0}, cand = {0};
    struct cursor w = {NULL, MVCC__TS_LEN, NULL}, l = {NULL, 0, NULL};
    struct mvcc__kept_iter *kept = NULL;
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
    /* With a lock table: its locks first, then the write-CF iterator,
     * whose view is the scan's (as in BatchGet). Without: both iterators
     * on the snapshot. */
    c.snap = snap;
    if ((rc = mvcc__lock_iter(s, snap, &io, &l.it)) != 0)
        goto out;
    if (s->lt) {
        /* A kept unbounded iterator: the bounds are checked in cur_key
         * (DESIGN "Reads": kept iterators). */
        if ((rc = mvcc__kept_iter_take(s, &kept)) != 0)
            goto out;
        w.it = kept->it;
        w.bounds = &io;
    } else if ((rc = mvcc_engine_iter(s->eng, snap, MVCC_CF_WRITE, &io,
                                      &w.it)) != 0)
        goto out;
    if (rev) {
        if ((rc = w.bounds ? seek_last_below(w.it, &io)
                           : w.it->ops->seek_to_last(w.it)) ||
            (rc = l.it->ops->seek_to_last(l.it)))
            goto out;
    } else {
        if ((rc = w.bounds ? w.it->ops->seek(w.it, io.lower, io.lower_len)
                           : w.it->ops->seek_to_first(w.it)) ||
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
        /* The current user key, encoded: the iterators' bytes die at
         * their next step. */
        size_t el = take_w ? wkl : lkl;
        ek.len = 0;
        if ((rc = mvcc__buf_append(&ek, take_w ? wk : lk, el)) != 0)
            goto out;
        if (take_l &&
            (rc = scan_lock(s, ro, &l, ek.data, el, ts, &uk, res)) != 0)
            goto out;
        if (!take_w)
            continue;
        struct mvcc__write wr;
        uint8_t *v = NULL;
        size_t vl = 0;
        if (rev) {
            if ((rc = visible_rev(s, w.it, &ek, el, ts, &cand)) < 0)
                goto out;
            if (rc == 0)
                continue;
            if (mvcc__write_decode(cand.data, cand.len, &wr) != 0) {
                rc = MVCC_CORRUPT;
                goto out;
            }
            if (!ro->key_only &&
                (rc = mvcc__put_value(&c, &ek, el, &wr, &v, &vl)) != 0)
                goto out;
        } else {
            /* wk is still the write cursor's key (only the lock cursor
             * moved since). */
            mvcc_ts cts = mvcc__key_ts(wk, wkl + MVCC__TS_LEN);
            if ((rc = visible_first(s, w.it, &ek, el, cts, ts, &wr)) < 0)
                goto out;
            /* A Put found leaves the cursor on it. */
            bool found = rc == 1;
            if (found && !ro->key_only &&
                (rc = mvcc__put_value(&c, &ek, el, &wr, &v, &vl)) != 0)
                goto out;
            if ((rc = next_ukey(w.it, &ek, el, found)) != 0) {
                mvcc__free(v);
                goto out;
            }
            if (!found)
                continue;
        }
        if ((rc = add_pair(res, ek.data, el, v, vl)) != 0)
            goto out;
    }
    rc = 0;
out:
    if (kept)
        mvcc__kept_iter_put(s, kept, rc != MVCC_EENGINE);
    else
        mvcc_iter_destroy(w.it);
    mvcc_iter_destroy(l.it);
    mvcc__cmd_free(&c);
    if (snap)
        mvcc_engine_snapshot_release(s->eng, snap);
out_bufs:
    mvcc__buf_free(&lo);
    mvcc__buf_free(&hi);
    mvcc__buf_free(&ek);
    mvcc__buf_free(&uk);
    mvcc__buf_free(&cand);
    return rc;
}

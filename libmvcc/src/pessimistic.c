/* pessimistic.c: AcquirePessimisticLock with per-key lock wait queues and
 * deadlock detection through a wait-for graph (the store's own or one
 * shared by stores), and PessimisticRollback (DESIGN.md, "Pessimistic
 * locks"). A request that meets another txn's lock writes nothing, queues
 * on that key, and sleeps until a release of the key picks it (first come,
 * first woken) or its deadline; then it retries from scratch.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "txn.h"

/* Lock wait queues. Every waiter of the store is on one list in arrival
 * order; the first waiter of a key is the first one on the list with that
 * key. Waiters are few, so a list beats a hash of queues. */

static bool same_key(const struct mvcc__waiter *w, const void *k, size_t kl)
{
    return w->key_len == kl && (kl == 0 || memcmp(w->key, k, kl) == 0);
}

static void unlink_waiter(struct mvcc_store *s, struct mvcc__waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        s->whead = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        s->wtail = w->prev;
    w->next = w->prev = NULL;
    __atomic_store_n(&s->nqueued, s->nqueued - 1, __ATOMIC_RELEASE);
}

/* Wakes the first waiter of key that is not awake already. wait_mu held. */
static void wake_first(struct mvcc_store *s, const void *k, size_t kl)
{
    for (struct mvcc__waiter *w = s->whead; w; w = w->next)
        if (!w->woken && same_key(w, k, kl)) {
            w->woken = true;
            pthread_cond_signal(&w->cv);
            return;
        }
}

/* Queues w on key (or re-arms it, keeping its place, when it is queued on
 * key already). Called with the key's latch held, so a release of the
 * key, which takes the latch too, comes after and finds w. */
static int queue_waiter(struct mvcc_store *s, struct mvcc__waiter *w,
                        bool *queued, const void *k, size_t kl)
{
    int rc = 0;
    pthread_mutex_lock(&s->wait_mu);
    if (*queued && same_key(w, k, kl)) {
        w->woken = false;
        goto out;
    }
    if (*queued) {
        /* Woken for its old key, now stopped by another: pass the old
         * key's wake-up on. */
        unlink_waiter(s, w);
        *queued = false;
        if (w->woken)
            wake_first(s, w->key, w->key_len);
    }
    uint8_t *kc = mvcc__memdup(k, kl);
    if (kc == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    mvcc__free(w->key);
    w->key = kc;
    w->key_len = kl;
    w->woken = false;
    w->prev = s->wtail;
    w->next = NULL;
    if (s->wtail)
        s->wtail->next = w;
    else
        s->whead = w;
    s->wtail = w;
    __atomic_store_n(&s->nqueued, s->nqueued + 1, __ATOMIC_RELEASE);
    *queued = true;
out:
    pthread_mutex_unlock(&s->wait_mu);
    return rc;
}

void mvcc__wake_keys(struct mvcc_store *s, const struct mvcc_key *keys,
                     size_t n)
{
    /* Commands release locks all the time and waiters are rare: a waiter
     * queues under the key's latch, which the releasing command took
     * after it, so this read sees it. */
    if (__atomic_load_n(&s->nqueued, __ATOMIC_ACQUIRE) == 0)
        return;
    pthread_mutex_lock(&s->wait_mu);
    for (size_t i = 0; i < n; i++)
        wake_first(s, keys[i].data, keys[i].len);
    pthread_mutex_unlock(&s->wait_mu);
}

static int kcmp(const void *a, size_t al, const void *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : al < bl ? -1 : al > bl;
}

void mvcc__wake_range(struct mvcc_store *s, const void *start, size_t sl,
                      const void *end, size_t el)
{
    if (__atomic_load_n(&s->nqueued, __ATOMIC_ACQUIRE) == 0)
        return;
    pthread_mutex_lock(&s->wait_mu);
    /* Every waiter in range: the range's keys are all gone. */
    for (struct mvcc__waiter *w = s->whead; w; w = w->next)
        if (!w->woken && kcmp(w->key, w->key_len, start, sl) >= 0 &&
            (end == NULL || kcmp(w->key, w->key_len, end, el) < 0)) {
            w->woken = true;
            pthread_cond_signal(&w->cv);
        }
    pthread_mutex_unlock(&s->wait_mu);
}

/* One attempt under latches. *holder is set when MVCC_LOCKED; then, if w
 * is given, w is queued on the locked key before the latches go. */
static int attempt(struct mvcc_store *s, const struct mvcc_pessimistic_req *r,
                   struct mvcc_result *res, mvcc_ts *holder,
                   struct mvcc__waiter *wt, bool *queued)
{
    struct mvcc__latch latch;
    struct mvcc__cmd c;
    struct mvcc__buf enc = {0}, k = {0};
    mvcc__cmd_init(&c, s, NULL);
    int rc = mvcc__latch_acquire(s, &latch, r->keys, r->n);
    if (rc != 0)
        goto out_free;
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        const void *key = r->keys[i].data;
        size_t kl = r->keys[i].len;
        struct mvcc__lock l;
        rc = mvcc__load_lock(&c, key, kl, &l);
        if (rc == 0) {
            if (l.start_ts != r->start_ts) {
                *holder = l.start_ts;
                rc = mvcc__res_add_lock(res, key, kl, &l);
                if (rc == 0 && wt != NULL)
                    rc = queue_waiter(s, wt, queued, key, kl);
                rc = rc ? rc : MVCC_LOCKED;
                break;
            }
            if (l.type == MVCC__LOCK_PESSIMISTIC &&
                l.for_update_ts < r->for_update_ts) {
                l.for_update_ts = r->for_update_ts;
                enc.len = k.len = 0;
                if ((rc = mvcc__lock_encode(&enc, &l, NULL, 0)) ||
                    (rc = mvcc__key_append(&k, key, kl)) ||
                    (rc = mvcc_wbatch_put(&c.wb, MVCC_CF_LOCK, k.data, k.len,
                                          enc.data, enc.len)))
                    break;
            }
        } else if (rc == MVCC_NOTFOUND) {
            int kind;
            mvcc_ts cts;
            if ((rc = mvcc__find_txn_record(&c, key, kl, r->start_ts, &kind,
                                            &cts)))
                break;
            if (kind == MVCC__REC_ROLLED_BACK) {
                rc = MVCC_ROLLED_BACK;
                mvcc__res_set_key(res, key, kl);
                break;
            }
            struct mvcc__write w;
            rc = mvcc__newest_write(&c, key, kl, &cts, &w);
            if (rc == 0 && cts > r->for_update_ts) {
                res->conflict_start_ts = w.start_ts;
                res->conflict_commit_ts = cts;
                mvcc__res_set_key(res, key, kl);
                rc = MVCC_CONFLICT;
                break;
            }
            if (rc != 0 && rc != MVCC_NOTFOUND)
                break;
            memset(&l, 0, sizeof l);
            l.type = MVCC__LOCK_PESSIMISTIC;
            l.start_ts = r->start_ts;
            l.ttl = r->lock_ttl;
            l.for_update_ts = r->for_update_ts;
            l.min_commit_ts = r->for_update_ts + 1;
            l.primary = r->primary;
            l.primary_len = r->primary_len;
            enc.len = k.len = 0;
            if ((rc = mvcc__lock_encode(&enc, &l, NULL, 0)) ||
                (rc = mvcc__key_append(&k, key, kl)) ||
                (rc = mvcc_wbatch_put(&c.wb, MVCC_CF_LOCK, k.data, k.len,
                                      enc.data, enc.len)))
                break;
        } else {
            break;
        }
        if (r->return_values) {
            uint8_t *v = NULL;
            size_t vl = 0;
            rc = mvcc__read_value(&c, key, kl, MVCC_TS_MAX, true, &v, &vl);
            if (rc == 0)
                rc = mvcc__res_add_pair(res, key, kl, v, vl);
            else if (rc == MVCC_NOTFOUND)
                rc = 0;
        }
    }
    if (rc == 0)
        rc = mvcc__cmd_write(&c);
    mvcc__latch_release(s, &latch);
out_free:
    mvcc__buf_free(&enc);
    mvcc__buf_free(&k);
    mvcc__cmd_free(&c);
    return rc;
}

static void deadline_after(struct timespec *d, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, d);
    d->tv_sec += (time_t)(ms / 1000);
    d->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (d->tv_nsec >= 1000000000L) {
        d->tv_sec++;
        d->tv_nsec -= 1000000000L;
    }
}

static bool interrupted(const struct mvcc_pessimistic_req *r)
{
    return r->interrupt && __atomic_load_n(r->interrupt, __ATOMIC_ACQUIRE);
}

int mvcc_acquire_pessimistic_lock(struct mvcc_store *s,
                                  const struct mvcc_pessimistic_req *r,
                                  struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || r == NULL || (r->keys == NULL && r->n > 0) ||
        r->primary == NULL || r->for_update_ts < r->start_ts)
        return -EINVAL;
    if (r->wait_timeout_ms <= 0) {
        mvcc_ts holder = 0;
        return attempt(s, r, res, &holder, NULL, NULL);
    }
    struct timespec deadline;
    deadline_after(&deadline, r->wait_timeout_ms);
    struct mvcc__waiter w;
    memset(&w, 0, sizeof w);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cv, &ca);
    pthread_condattr_destroy(&ca);
    bool queued = false;
    int rc;
    for (;;) {
        mvcc_ts holder = 0;
        rc = attempt(s, r, res, &holder, &w, &queued);
        if (rc != MVCC_LOCKED)
            break;
        /* Queued on the key: a release wakes us from here on. Wait,
         * unless waiting would close a cycle. */
        int drc = s->det.detect(s->det.ctx, r->start_ts, holder, w.key,
                                w.key_len);
        bool own = s->det.ctx == s->own_det;
        if (drc != 0 && drc != MVCC_DEADLOCK && !own) {
            /* The shared detector failed (its host unreachable): this
             * store's own graph still finds cycles among its keys. */
            mvcc__log(s, MVCC_LOG_WARN,
                      "deadlock detector: %s; using this store's graph",
                      mvcc_strerror(drc));
            drc = mvcc_detector_detect(s->own_det, r->start_ts, holder);
            own = true;
        }
        if (drc == MVCC_DEADLOCK) {
            mvcc__res_clear(res);
            res->conflict_start_ts = holder;
            mvcc__log(s, MVCC_LOG_INFO, "deadlock: %llu waits for %llu",
                      (unsigned long long)r->start_ts,
                      (unsigned long long)holder);
            rc = MVCC_DEADLOCK;
            break;
        }
        if (drc != 0)
            mvcc__log(s, MVCC_LOG_WARN,
                      "deadlock detector: %s; waiting undetected",
                      mvcc_strerror(drc));
        /* The flag is read under wait_mu, which mvcc_store_wake_waiters
         * takes after the flag is set: no interruption is missed. */
        pthread_mutex_lock(&s->wait_mu);
        s->nwaiting++;
        w.sleeping = true;
        int wrc = 0;
        bool stop = interrupted(r);
        while (!w.woken && !stop && wrc == 0) {
            wrc = pthread_cond_timedwait(&w.cv, &s->wait_mu, &deadline);
            stop = interrupted(r);
        }
        w.sleeping = false;
        s->nwaiting--;
        bool woken = w.woken;
        pthread_mutex_unlock(&s->wait_mu);
        if (drc == 0 && own)
            mvcc_detector_clean_up_wait_for(s->own_det, r->start_ts, holder);
        else if (drc == 0)
            s->det.clean_up_wait_for(s->det.ctx, r->start_ts, holder);
        if (stop) {
            mvcc__res_clear(res);
            rc = MVCC_INTERRUPTED;
            break;
        }
        if (!woken) {
            rc = MVCC_LOCK_WAIT_TIMEOUT; /* res still holds the lock */
            break;
        }
        mvcc__res_clear(res);
    }
    if (queued) {
        /* Woken but failed (conflict, deadlock, error): the key may be
         * free and this request does not take it, so its wake-up goes on
         * to the next waiter. (Success took the key.) */
        pthread_mutex_lock(&s->wait_mu);
        unlink_waiter(s, &w);
        if (w.woken && rc != 0)
            wake_first(s, w.key, w.key_len);
        pthread_mutex_unlock(&s->wait_mu);
    }
    mvcc__free(w.key);
    pthread_cond_destroy(&w.cv);
    return rc;
}

int mvcc_pessimistic_rollback(struct mvcc_store *s,
                              const struct mvcc_key *keys, size_t n,
                              mvcc_ts start_ts, mvcc_ts for_update_ts,
                              struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || (keys == NULL && n > 0))
        return -EINVAL;
    struct mvcc__latch latch;
    struct mvcc__cmd c;
    struct mvcc__buf k = {0};
    mvcc__cmd_init(&c, s, NULL);
    int rc = mvcc__latch_acquire(s, &latch, keys, n);
    if (rc != 0)
        goto out_free;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct mvcc__lock l;
        rc = mvcc__load_lock(&c, keys[i].data, keys[i].len, &l);
        if (rc == MVCC_NOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc != 0)
            break;
        if (l.start_ts != start_ts || l.type != MVCC__LOCK_PESSIMISTIC ||
            l.for_update_ts > for_update_ts)
            continue;
        k.len = 0;
        if ((rc = mvcc__key_append(&k, keys[i].data, keys[i].len)) == 0)
            rc = mvcc_wbatch_delete(&c.wb, MVCC_CF_LOCK, k.data, k.len);
    }
    if (rc == 0)
        rc = mvcc__cmd_write(&c);
    mvcc__latch_release(s, &latch);
    if (rc == 0)
        mvcc__wake_keys(s, keys, n);
out_free:
    mvcc__buf_free(&k);
    mvcc__cmd_free(&c);
    return rc;
}

void mvcc_store_wake_waiters(struct mvcc_store *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->wait_mu);
    /* Only a look at the flag: woken stays as it is, so a waiter not
     * interrupted sleeps on and keeps its place in its key's queue. */
    for (struct mvcc__waiter *w = s->whead; w; w = w->next)
        if (w->sleeping)
            pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&s->wait_mu);
}

size_t mvcc_store_lock_waiters(struct mvcc_store *s)
{
    pthread_mutex_lock(&s->wait_mu);
    size_t n = s->nwaiting;
    pthread_mutex_unlock(&s->wait_mu);
    return n;
}

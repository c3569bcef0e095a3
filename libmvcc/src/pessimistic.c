/* pessimistic.c: AcquirePessimisticLock with lock waiting and deadlock
 * detection over a wait-for graph, and PessimisticRollback (DESIGN.md,
 * "Pessimistic locks"). A request that meets another txn's lock writes
 * nothing, drops its latches, and waits for any lock release (or its
 * deadline) before retrying from scratch.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "txn.h"

/* Whether holder (transitively) waits for waiter: adding waiter -> holder
 * would close a cycle. Caller holds wait_mu. */
static bool reaches(struct mvcc_store *s, mvcc_ts from, mvcc_ts target,
                    int depth)
{
    if (from == target)
        return true;
    if (depth > 64)
        return false; /* graphs are tiny; bound the walk */
    for (size_t i = 0; i < s->nedges; i++)
        if (s->edges[i].waiter == from &&
            reaches(s, s->edges[i].holder, target, depth + 1))
            return true;
    return false;
}

static int add_edge(struct mvcc_store *s, mvcc_ts waiter, mvcc_ts holder)
{
    if (s->nedges == s->edges_cap) {
        size_t cap = s->edges_cap ? s->edges_cap * 2 : 16;
        struct mvcc__edge *e = mvcc__realloc(s->edges, cap * sizeof *e);
        if (e == NULL)
            return -ENOMEM;
        s->edges = e;
        s->edges_cap = cap;
    }
    s->edges[s->nedges].waiter = waiter;
    s->edges[s->nedges].holder = holder;
    s->nedges++;
    return 0;
}

static void del_edge(struct mvcc_store *s, mvcc_ts waiter, mvcc_ts holder)
{
    for (size_t i = 0; i < s->nedges; i++)
        if (s->edges[i].waiter == waiter && s->edges[i].holder == holder) {
            s->edges[i] = s->edges[--s->nedges];
            return;
        }
}

/* One attempt under latches. *holder is set when MVCC_LOCKED. */
static int attempt(struct mvcc_store *s, const struct mvcc_pessimistic_req *r,
                   struct mvcc_result *res, mvcc_ts *holder)
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

int mvcc_acquire_pessimistic_lock(struct mvcc_store *s,
                                  const struct mvcc_pessimistic_req *r,
                                  struct mvcc_result *res)
{
    mvcc__res_clear(res);
    if (s == NULL || r == NULL || (r->keys == NULL && r->n > 0) ||
        r->primary == NULL || r->for_update_ts < r->start_ts)
        return -EINVAL;
    struct timespec deadline;
    if (r->wait_timeout_ms > 0)
        deadline_after(&deadline, r->wait_timeout_ms);
    for (;;) {
        pthread_mutex_lock(&s->wait_mu);
        uint64_t gen = s->release_gen;
        pthread_mutex_unlock(&s->wait_mu);
        mvcc_ts holder = 0;
        int rc = attempt(s, r, res, &holder);
        if (rc != MVCC_LOCKED || r->wait_timeout_ms <= 0)
            return rc;
        /* Wait for a release, unless waiting would close a cycle. */
        pthread_mutex_lock(&s->wait_mu);
        if (reaches(s, holder, r->start_ts, 0)) {
            pthread_mutex_unlock(&s->wait_mu);
            mvcc__res_clear(res);
            res->conflict_start_ts = holder;
            mvcc__log(s, MVCC_LOG_INFO, "deadlock: %llu waits for %llu",
                      (unsigned long long)r->start_ts,
                      (unsigned long long)holder);
            return MVCC_DEADLOCK;
        }
        if ((rc = add_edge(s, r->start_ts, holder)) != 0) {
            pthread_mutex_unlock(&s->wait_mu);
            return rc;
        }
        int wrc = 0;
        while (s->release_gen == gen && wrc == 0)
            wrc = pthread_cond_timedwait(&s->wait_cv, &s->wait_mu, &deadline);
        del_edge(s, r->start_ts, holder);
        bool released = s->release_gen != gen;
        pthread_mutex_unlock(&s->wait_mu);
        if (!released) {
            return MVCC_LOCK_WAIT_TIMEOUT; /* res still holds the lock */
        }
        mvcc__res_clear(res);
    }
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
        mvcc__notify_release(s);
out_free:
    mvcc__buf_free(&k);
    mvcc__cmd_free(&c);
    return rc;
}

size_t mvcc_store_lock_waiters(struct mvcc_store *s)
{
    pthread_mutex_lock(&s->wait_mu);
    size_t n = s->nedges;
    pthread_mutex_unlock(&s->wait_mu);
    return n;
}

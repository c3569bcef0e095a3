/* test_lockwait.c: per-key lock wait queues (a release wakes the first
 * waiter of the key, in arrival order; a woken waiter that fails passes
 * the wake-up on; every command that removes a lock wakes its waiters) and
 * deadlock detection through a detector shared by two stores, and waits
 * a flag interrupts (KILL) (DESIGN.md, "Pessimistic locks"). Both engines where a store is used.
 * Waiters are threads with a one-minute deadline; the test sees them
 * waiting through mvcc_store_lock_waiters, never by sleeping.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "testutil.h"

#define K(x) (x), strlen(x)
#define TS(ms) TU_TS(ms, 0)

static int plock_i(struct mvcc_store *s, struct mvcc_result *r,
                   const char *k, mvcc_ts start, mvcc_ts fut, int64_t wait_ms,
                   const bool *interrupt)
{
    struct mvcc_key key = {k, strlen(k)};
    struct mvcc_pessimistic_req req;
    memset(&req, 0, sizeof req);
    req.keys = &key;
    req.n = 1;
    req.primary = k;
    req.primary_len = strlen(k);
    req.start_ts = start;
    req.for_update_ts = fut;
    req.lock_ttl = 3000;
    req.wait_timeout_ms = wait_ms;
    req.interrupt = interrupt;
    return mvcc_acquire_pessimistic_lock(s, &req, r);
}

static int plock(struct mvcc_store *s, struct mvcc_result *r, const char *k,
                 mvcc_ts start, mvcc_ts fut, int64_t wait_ms)
{
    return plock_i(s, r, k, start, fut, wait_ms, NULL);
}

static int prollback(struct mvcc_store *s, const char *k, mvcc_ts start)
{
    struct mvcc_key key = {k, strlen(k)};
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = mvcc_pessimistic_rollback(s, &key, 1, start, MVCC_TS_MAX, &r);
    mvcc_result_reset(&r);
    return rc;
}

/* Prewrites k (a put) for start; pessimistic converts our lock; one_pc
 * commits at once. */
static int prewrite(struct mvcc_store *s, const char *k, mvcc_ts start,
                    bool pess, bool one_pc)
{
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = tu_prewrite_put_ex(s, k, start, pess, one_pc, &r);
    mvcc_result_reset(&r);
    return rc;
}

/* Threads that wait, and the order in which they finish. */
struct board
{
    pthread_mutex_t mu;  /* guards the rest */
    pthread_cond_t cv;   /* signalled as each finishes */
    int order[8];        /* ids in finishing order */
    int nfinished;       /* how many */
};

struct waiter
{
    struct board *b;       /* where to report */
    int id;                /* its id */
    struct mvcc_store *s;  /* store */
    const char *key;       /* key to lock */
    mvcc_ts start;         /* txn */
    mvcc_ts fut;           /* for_update_ts */
    int rc;                /* outcome */
    pthread_t th;          /* the thread */
    const bool *interrupt; /* its interrupt flag, or NULL */
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    struct mvcc_result r;
    mvcc_result_init(&r);
    /* a deadline far beyond any machine's slowness */
    w->rc = plock_i(w->s, &r, w->key, w->start, w->fut, 60000, w->interrupt);
    mvcc_result_reset(&r);
    pthread_mutex_lock(&w->b->mu);
    w->b->order[w->b->nfinished++] = w->id;
    pthread_cond_broadcast(&w->b->cv);
    pthread_mutex_unlock(&w->b->mu);
    return NULL;
}

static void board_init(struct board *b)
{
    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
}

static void board_destroy(struct board *b)
{
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
}

/* Waits until n waiters have finished; returns the n-th one's id. */
static int until_finished(struct board *b, int n)
{
    pthread_mutex_lock(&b->mu);
    while (b->nfinished < n)
        pthread_cond_wait(&b->cv, &b->mu);
    int id = b->order[n - 1];
    pthread_mutex_unlock(&b->mu);
    return id;
}

static void until_waiters(struct mvcc_store *s, size_t n)
{
    while (mvcc_store_lock_waiters(s) != n)
        sched_yield();
}

static void start_waiter(struct waiter *w, struct board *b, int id,
                         struct mvcc_store *s, const char *key, mvcc_ts start,
                         mvcc_ts fut)
{
    *w = (struct waiter){b, id, s, key, start, fut, -1, 0, NULL};
    assert_int_equal(pthread_create(&w->th, NULL, wait_thread, w), 0);
}

/* Three waiters queue on one key; each release wakes exactly the next
 * one in arrival order (with one condition variable for all, they raced
 * and any of them could win). */
static void release_wakes_first_in_order(void **state)
{
    struct tu_store *t = *state;
    struct board b;
    board_init(&b);
    assert_int_equal(plock(t->s, &t->r, "k", TS(10), TS(10), 0), 0);
    struct waiter w[3];
    for (int i = 0; i < 3; i++) {
        start_waiter(&w[i], &b, i, t->s, "k", TS(21 + i), TS(21 + i));
        until_waiters(t->s, (size_t)i + 1);
    }
    assert_int_equal(prollback(t->s, "k", TS(10)), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(until_finished(&b, i + 1), i);
        assert_int_equal(w[i].rc, 0);
        /* it holds the key now; the others still wait */
        assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0,
                                        0, &t->r),
                         0);
        assert_int_equal(t->r.nlocks, 1);
        assert_int_equal(t->r.locks[0].start_ts, TS(21 + i));
        until_waiters(t->s, (size_t)(2 - i));
        assert_int_equal(prollback(t->s, "k", TS(21 + i)), 0);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(w[i].th, NULL);
    assert_int_equal(mvcc_store_lock_waiters(t->s), 0);
    board_destroy(&b);
}

/* The first waiter is woken but fails (a commit landed after its
 * for_update_ts): the wake-up goes on to the second, which locks. */
static void failed_waiter_passes_wakeup_on(void **state)
{
    struct tu_store *t = *state;
    struct board b;
    board_init(&b);
    assert_int_equal(plock(t->s, &t->r, "k", TS(5), TS(5), 0), 0);
    struct waiter w1, w2;
    start_waiter(&w1, &b, 1, t->s, "k", TS(10), TS(10));
    until_waiters(t->s, 1);
    start_waiter(&w2, &b, 2, t->s, "k", TS(11), TS(100));
    until_waiters(t->s, 2);
    /* T5 converts its lock and commits at 50: above 10, below 100 */
    assert_int_equal(prewrite(t->s, "k", TS(5), true, false), 0);
    struct mvcc_key key = {"k", 1};
    assert_int_equal(mvcc_commit(t->s, &key, 1, TS(5), TS(50), &t->r), 0);
    /* (W1 hands the wake-up on before it returns, so either may report
     * first; without the hand-on W2 would sleep out its minute.) */
    until_finished(&b, 2);
    pthread_join(w1.th, NULL);
    pthread_join(w2.th, NULL);
    assert_int_equal(w1.rc, MVCC_CONFLICT);
    assert_int_equal(w2.rc, 0);
    board_destroy(&b);
}

static void start_waiter_i(struct waiter *w, struct board *b, int id,
                           struct mvcc_store *s, const char *key,
                           mvcc_ts start, const bool *interrupt)
{
    *w = (struct waiter){b, id, s, key, start, start, -1, 0, interrupt};
    assert_int_equal(pthread_create(&w->th, NULL, wait_thread, w), 0);
}

/* KILL of a waiting statement: its flag set and the store's waiters
 * woken, that wait ends at once with MVCC_INTERRUPTED (the waits have a
 * one-minute deadline, so a return at all shows it); a waiter whose flag
 * is not set sleeps on, keeps its place and gets the key when it is
 * released; a request whose flag is already set does not wait. */
static void interrupt_ends_wait(void **state)
{
    struct tu_store *t = *state;
    struct board b;
    board_init(&b);
    bool flag1 = false, flag2 = false;
    assert_int_equal(plock(t->s, &t->r, "k", TS(10), TS(10), 0), 0);
    struct waiter w1, w2;
    start_waiter_i(&w1, &b, 1, t->s, "k", TS(21), &flag1);
    until_waiters(t->s, 1);
    start_waiter_i(&w2, &b, 2, t->s, "k", TS(22), &flag2);
    until_waiters(t->s, 2);
    mvcc_store_wake_waiters(t->s); /* no flag set: both sleep on */
    __atomic_store_n(&flag2, true, __ATOMIC_RELEASE);
    mvcc_store_wake_waiters(t->s);
    assert_int_equal(until_finished(&b, 1), 2);
    pthread_join(w2.th, NULL);
    assert_int_equal(w2.rc, MVCC_INTERRUPTED);
    until_waiters(t->s, 1);
    pthread_mutex_lock(&b.mu);
    assert_int_equal(b.nfinished, 1);
    pthread_mutex_unlock(&b.mu);
    /* W2 wrote nothing: T10 still holds k alone. */
    assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 1);
    assert_int_equal(t->r.locks[0].start_ts, TS(10));
    assert_int_equal(prollback(t->s, "k", TS(10)), 0);
    assert_int_equal(until_finished(&b, 2), 1);
    pthread_join(w1.th, NULL);
    assert_int_equal(w1.rc, 0);
    /* Set before the request: MVCC_INTERRUPTED, no wait. */
    assert_int_equal(plock_i(t->s, &t->r, "k", TS(30), TS(30), 60000,
                             &flag2),
                     MVCC_INTERRUPTED);
    assert_int_equal(mvcc_store_lock_waiters(t->s), 0);
    assert_int_equal(mvcc_scan_lock(t->s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &t->r),
                     0);
    assert_int_equal(t->r.nlocks, 1);
    assert_int_equal(t->r.locks[0].start_ts, TS(21));
    mvcc_store_wake_waiters(NULL); /* a no-op */
    board_destroy(&b);
}

/* The same through the client: a transaction's lock request carries its
 * flag (mvcc_txn_set_interrupt) and the client gives up with
 * MVCC_INTERRUPTED instead of resolving and retrying. */
struct client_waiter
{
    struct mvcc_txn *t; /* the waiting transaction */
    int rc;             /* mvcc_txn_lock_keys' outcome */
};

static void *client_wait_thread(void *arg)
{
    struct client_waiter *cw = arg;
    struct mvcc_key key = {"k", 1};
    cw->rc = mvcc_txn_lock_keys(cw->t, &key, 1, 60000);
    return NULL;
}

static void client_interrupt(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *a, *b;
    struct mvcc_key key = {"k", 1};
    assert_int_equal(mvcc_txn_begin(k->c, &a), 0);
    assert_int_equal(mvcc_txn_begin(k->c, &b), 0);
    assert_int_equal(mvcc_txn_lock_keys(a, &key, 1, 0), 0);
    bool flag = false;
    mvcc_txn_set_interrupt(b, &flag);
    struct client_waiter cw = {b, -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, client_wait_thread, &cw), 0);
    until_waiters(k->s[1], 1); /* "k" is in the second shard */
    __atomic_store_n(&flag, true, __ATOMIC_RELEASE);
    mvcc_store_wake_waiters(k->s[1]);
    pthread_join(th, NULL);
    assert_int_equal(cw.rc, MVCC_INTERRUPTED);
    assert_int_equal(mvcc_store_lock_waiters(k->s[1]), 0);
    mvcc_txn_rollback(b);
    /* A still holds k and commits a write to it. */
    assert_int_equal(mvcc_txn_set(a, "k", 1, "a", 1), 0);
    mvcc_ts cts;
    assert_int_equal(mvcc_txn_commit(a, &cts), 0);
    assert_string_equal(mvcc_strerror(MVCC_INTERRUPTED),
                        "lock wait interrupted");
}

enum release {
    REL_COMMIT, REL_ROLLBACK, REL_CLEANUP, REL_RESOLVE_COMMIT,
    REL_RESOLVE_ROLLBACK, REL_EXPIRED, REL_ONE_PC, REL_DELETE_RANGE,
    REL_COUNT
};

/* Every command that removes a lock wakes the key's waiter. */
static void every_release_wakes(void **state)
{
    struct tu_store *t = *state;
    static const char *const keys[REL_COUNT] = {"c0", "c1", "c2", "c3",
                                                "c4", "c5", "c6", "c7"};
    for (int i = 0; i < REL_COUNT; i++) {
        const char *k = keys[i];
        struct mvcc_key key = {k, 2};
        mvcc_ts hs = TS(10 + i); /* the holder */
        if (i == REL_ONE_PC)
            assert_int_equal(plock(t->s, &t->r, k, hs, hs, 0), 0);
        else
            assert_int_equal(prewrite(t->s, k, hs, false, false), 0);
        struct board b;
        board_init(&b);
        struct waiter w;
        start_waiter(&w, &b, i, t->s, k, TS(100), TS(100));
        until_waiters(t->s, 1);
        struct mvcc_check_txn_req cr = {k, 2, hs, 0, TS(10 + i + 5000),
                                        false, false};
        switch (i) {
        case REL_COMMIT:
            assert_int_equal(mvcc_commit(t->s, &key, 1, hs, TS(50), &t->r),
                             0);
            break;
        case REL_ROLLBACK:
            assert_int_equal(mvcc_batch_rollback(t->s, &key, 1, hs, &t->r),
                             0);
            break;
        case REL_CLEANUP:
            assert_int_equal(mvcc_cleanup(t->s, K(k), hs, 0, &t->r), 0);
            break;
        case REL_RESOLVE_COMMIT:
        case REL_RESOLVE_ROLLBACK:
            assert_int_equal(
                mvcc_resolve_lock(t->s, hs,
                                  i == REL_RESOLVE_COMMIT ? TS(50) : 0, NULL,
                                  0, NULL, 0, &t->r),
                0);
            break;
        case REL_EXPIRED:
            assert_int_equal(mvcc_check_txn_status(t->s, &cr, &t->r), 0);
            assert_int_equal(t->r.action, MVCC_ACT_TTL_EXPIRE_ROLLBACK);
            break;
        case REL_ONE_PC:
            assert_int_equal(prewrite(t->s, k, hs, true, true), 0);
            break;
        default:
            assert_int_equal(mvcc_delete_range(t->s, K("c"), K("d")), 0);
            break;
        }
        assert_int_equal(until_finished(&b, 1), i);
        pthread_join(w.th, NULL);
        assert_int_equal(w.rc, 0);
        board_destroy(&b);
    }
}

static void detector_graph(void **state)
{
    (void)state;
    struct mvcc_detector *d;
    assert_int_equal(mvcc_detector_create(&d), 0);
    assert_int_equal(mvcc_detector_detect(d, 1, 2), 0);
    assert_int_equal(mvcc_detector_detect(d, 2, 3), 0);
    assert_int_equal(mvcc_detector_detect(d, 3, 1), MVCC_DEADLOCK);
    assert_int_equal(mvcc_detector_edges(d), 2);
    /* counted: two requests along 1 -> 2 */
    assert_int_equal(mvcc_detector_detect(d, 1, 2), 0);
    assert_int_equal(mvcc_detector_edges(d), 2);
    mvcc_detector_clean_up_wait_for(d, 1, 2);
    assert_int_equal(mvcc_detector_detect(d, 2, 1), MVCC_DEADLOCK);
    mvcc_detector_clean_up_wait_for(d, 1, 2);
    assert_int_equal(mvcc_detector_edges(d), 1);
    assert_int_equal(mvcc_detector_detect(d, 2, 1), 0);
    assert_int_equal(mvcc_detector_detect(d, 3, 2), MVCC_DEADLOCK);
    mvcc_detector_clean_up(d, 2);
    assert_int_equal(mvcc_detector_edges(d), 0);
    assert_int_equal(mvcc_detector_detect(d, 5, 5), -EINVAL);
    /* a long chain and a diamond */
    for (mvcc_ts i = 10; i < 40; i++)
        assert_int_equal(mvcc_detector_detect(d, i, i + 1), 0);
    assert_int_equal(mvcc_detector_detect(d, 10, 25), 0);
    assert_int_equal(mvcc_detector_detect(d, 40, 10), MVCC_DEADLOCK);
    assert_int_equal(mvcc_detector_detect(d, 40, 9), 0);
    assert_int_equal(mvcc_detector_edges(d), 32);
    mvcc_detector_destroy(d);
    mvcc_detector_destroy(NULL);
}

static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* An edge whose clean-up never comes expires after the TTL. */
static void detector_edges_expire(void **state)
{
    (void)state;
    struct mvcc_detector *d;
    assert_int_equal(mvcc_detector_create(&d), 0);
    mvcc_detector_set_ttl(d, 1);
    uint64_t t0 = mono_ms();
    assert_int_equal(mvcc_detector_detect(d, 1, 2), 0);
    while (mono_ms() < t0 + 3) /* the clock must pass the TTL */
        sched_yield();
    assert_int_equal(mvcc_detector_detect(d, 2, 1), 0); /* 1 -> 2 expired */
    assert_int_equal(mvcc_detector_edges(d), 1);
    mvcc_detector_set_ttl(d, 0); /* never */
    t0 = mono_ms();
    while (mono_ms() < t0 + 3)
        sched_yield();
    assert_int_equal(mvcc_detector_detect(d, 1, 2), MVCC_DEADLOCK);
    mvcc_detector_destroy(d);
}

/* Two stores sharing one detector: T10 holds a on store A and waits for
 * b on store B; T20 holds b and asks for a on A, closing the cycle across
 * the stores. */
static void deadlock_across_stores(void **state)
{
    struct tu_store *t = *state;
    struct mvcc_detector *d;
    assert_int_equal(mvcc_detector_create(&d), 0);
    struct mvcc_deadlock_detector iface;
    mvcc_detector_iface(d, &iface);
    struct mvcc_store_opts o;
    memset(&o, 0, sizeof o);
    o.detector = &iface;
    struct mvcc_store *a, *bs;
    assert_int_equal(mvcc_store_open(t->f.eng, &o, &a), 0);
    assert_int_equal(mvcc_store_open(t->f.eng, &o, &bs), 0);
    assert_int_equal(plock(a, &t->r, "a", TS(10), TS(10), 0), 0);
    assert_int_equal(plock(bs, &t->r, "b", TS(20), TS(20), 0), 0);
    struct board b;
    board_init(&b);
    struct waiter w;
    start_waiter(&w, &b, 1, bs, "b", TS(10), TS(10));
    until_waiters(bs, 1);
    assert_int_equal(mvcc_detector_edges(d), 1);
    assert_int_equal(plock(a, &t->r, "a", TS(20), TS(20), 60000),
                     MVCC_DEADLOCK);
    assert_int_equal(t->r.conflict_start_ts, TS(10));
    assert_int_equal(mvcc_store_lock_waiters(a), 0);
    /* T20 gives up b: T10 gets it */
    assert_int_equal(prollback(bs, "b", TS(20)), 0);
    assert_int_equal(until_finished(&b, 1), 1);
    pthread_join(w.th, NULL);
    assert_int_equal(w.rc, 0);
    assert_int_equal(mvcc_detector_edges(d), 0);
    board_destroy(&b);
    mvcc_store_close(a);
    mvcc_store_close(bs);
    mvcc_detector_destroy(d);
}

struct broken
{
    int detects;  /* calls */
    int cleanups; /* calls */
};

static int broken_detect(void *ctx, mvcc_ts waiter, mvcc_ts holder,
                         const void *key, size_t key_len)
{
    struct broken *x = ctx;
    /* the tests below: T11 waits for T10 on k, or T10 and T20 for each
     * other on b and a */
    assert_true((waiter == TS(11) && holder == TS(10) && key_len == 1 &&
                 memcmp(key, "k", 1) == 0) ||
                (waiter == TS(10) && holder == TS(20) && key_len == 1 &&
                 memcmp(key, "b", 1) == 0) ||
                (waiter == TS(20) && holder == TS(10) && key_len == 1 &&
                 memcmp(key, "a", 1) == 0));
    __atomic_add_fetch(&x->detects, 1, __ATOMIC_SEQ_CST);
    return -EIO;
}

static void broken_clean_up(void *ctx, mvcc_ts waiter, mvcc_ts holder)
{
    struct broken *x = ctx;
    (void)waiter;
    (void)holder;
    __atomic_add_fetch(&x->cleanups, 1, __ATOMIC_SEQ_CST);
}

/* holder rolls key back: waiter w (the n-th to finish) gets it. */
static void release_to(struct mvcc_store *s, struct board *b,
                       struct waiter *w, int n, const char *key,
                       mvcc_ts holder)
{
    assert_int_equal(prollback(s, key, holder), 0);
    assert_int_equal(until_finished(b, n), n);
    pthread_join(w->th, NULL);
    assert_int_equal(w->rc, 0);
}

/* A detector that cannot answer (a cluster's host down): the request
 * waits, its edge in the store's own graph, and a release still wakes
 * it; that graph still finds a cycle among the store's keys (T10 holds
 * a and waits for b, T20 holds b and asks for a: MVCC_DEADLOCK, not a
 * wait until the timeout). No edge is cleaned up in the detector that
 * refused it. */
static void unreachable_detector_falls_back(void **state)
{
    struct tu_store *t = *state;
    struct broken x = {0, 0};
    struct mvcc_deadlock_detector iface = {&x, broken_detect,
                                           broken_clean_up};
    struct mvcc_store_opts o;
    memset(&o, 0, sizeof o);
    struct mvcc_store *s;
    struct mvcc_deadlock_detector half = {&x, broken_detect, NULL};
    o.detector = &half;
    assert_int_equal(mvcc_store_open(t->f.eng, &o, &s), -EINVAL);
    o.detector = &iface;
    assert_int_equal(mvcc_store_open(t->f.eng, &o, &s), 0);
    assert_int_equal(plock(s, &t->r, "k", TS(10), TS(10), 0), 0);
    struct board b;
    board_init(&b);
    struct waiter w[3];
    start_waiter(&w[0], &b, 1, s, "k", TS(11), TS(11));
    until_waiters(s, 1);
    release_to(s, &b, &w[0], 1, "k", TS(10));
    assert_int_equal(x.detects, 1);
    /* the cycle */
    assert_int_equal(plock(s, &t->r, "a", TS(10), TS(10), 0), 0);
    assert_int_equal(plock(s, &t->r, "b", TS(20), TS(20), 0), 0);
    start_waiter(&w[1], &b, 2, s, "b", TS(10), TS(10));
    until_waiters(s, 1);
    assert_int_equal(plock(s, &t->r, "a", TS(20), TS(20), 60000),
                     MVCC_DEADLOCK);
    assert_int_equal(t->r.conflict_start_ts, TS(10));
    assert_int_equal(x.detects, 3);
    /* T20 gives up b: T10 gets it, and its edge leaves the own graph:
     * T20 then waits for T10's a without a deadlock */
    release_to(s, &b, &w[1], 2, "b", TS(20));
    start_waiter(&w[2], &b, 3, s, "a", TS(20), TS(20));
    until_waiters(s, 1);
    release_to(s, &b, &w[2], 3, "a", TS(10));
    assert_int_equal(x.detects, 4);
    assert_int_equal(x.cleanups, 0);
    board_destroy(&b);
    mvcc_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detector_graph),
        cmocka_unit_test(detector_edges_expire),
        TU_BOTH_STORE(release_wakes_first_in_order),
        TU_BOTH_STORE(failed_waiter_passes_wakeup_on),
        TU_BOTH_STORE(every_release_wakes),
        TU_BOTH_STORE(deadlock_across_stores),
        TU_BOTH_STORE(unreachable_detector_falls_back),
        TU_BOTH_STORE(interrupt_ends_wait),
        TU_BOTH_CLUSTER(client_interrupt),
    };
    return cmocka_run_group_tests_name("libmvcc/lockwait", tests, NULL, NULL);
}

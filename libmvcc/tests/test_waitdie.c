/* test_waitdie.c: two commits whose prewrites wait on each other's locks
 * (DESIGN.md "Client", wait-die). Transactions A (older) and B (younger)
 * write the same two keys h (shard 1) and q (shard 2) beside their own
 * primaries (a, b in shard 0). The transport holds A's prewrite of shard
 * 2 until B's has landed, and B's of shard 1 until A's has, so each meets
 * the other's lock with its own still held; commit keepalive and a long
 * TTL keep both locks alive, as sqld's are. B, the younger, gives way
 * (MVCC_CONFLICT, its locks rolled back) and A commits. Before wait-die
 * both waited out the resolve budget (20 s in sqld) and failed. And a
 * transaction whose group gave way stops its other groups' waits.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mvcc.h"
#include "testutil.h"

#define HOLD_GIVE_UP_MS 30000 /* a hold never waits longer than this */

static struct mvcc_transport real;
static mvcc_ts ts_a, ts_b;      /* the two transactions' start_ts */
static bool a_h_done, b_q_done; /* their first prewrites of h, q landed */
static int a_locked, b_locked;  /* LOCKED answers each one got */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits until *flag (atomic) is set, or the give-up time. */
static void hold_until(const bool *flag)
{
    struct timespec d = {0, 1000000};
    uint64_t give_up = mono_ms() + HOLD_GIVE_UP_MS;
    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE) && mono_ms() < give_up)
        nanosleep(&d, NULL);
}

static int crossed_prewrite(void *ctx, uint64_t shard,
                            const struct mvcc_prewrite_req *req,
                            struct mvcc_result *res)
{
    bool is_a = req->start_ts == __atomic_load_n(&ts_a, __ATOMIC_ACQUIRE);
    bool is_b = req->start_ts == __atomic_load_n(&ts_b, __ATOMIC_ACQUIRE);
    if (is_a && shard == 2)
        hold_until(&b_q_done);
    if (is_b && shard == 1)
        hold_until(&a_h_done);
    int rc = real.prewrite(ctx, shard, req, res);
    if (rc == MVCC_LOCKED)
        __atomic_add_fetch(is_a ? &a_locked : &b_locked, 1, __ATOMIC_ACQ_REL);
    if (rc == 0 && is_a && shard == 1)
        __atomic_store_n(&a_h_done, true, __ATOMIC_RELEASE);
    if (rc == 0 && is_b && shard == 2)
        __atomic_store_n(&b_q_done, true, __ATOMIC_RELEASE);
    return rc;
}

/* A client over k's transport with prewrite replaced, keepalive on as
 * sqld's, and a minute of TTL and of resolve budget: nothing expires or
 * runs out during a test. */
static struct mvcc_client *test_client(
    struct tu_cluster *k,
    int (*prewrite)(void *, uint64_t, const struct mvcc_prewrite_req *,
                    struct mvcc_result *))
{
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.transport = k->tr;
    o.transport.prewrite = prewrite;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &k->tso;
    o.lock_ttl = 60000;
    o.commit_keepalive = true;
    o.resolve_budget_ms = 60000;
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);
    return c;
}

struct committer
{
    struct mvcc_txn *t;
    int rc;
};

static void *commit_main(void *arg)
{
    struct committer *cm = arg;
    cm->rc = mvcc_txn_commit(cm->t, NULL);
    return NULL;
}

static void crossed_prewrites_younger_gives_way(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    real = k.tr;
    a_h_done = b_q_done = false;
    a_locked = b_locked = 0;
    struct mvcc_client *c = test_client(&k, crossed_prewrite);

    struct committer a = {NULL, -1}, b = {NULL, -1};
    assert_int_equal(mvcc_txn_begin(c, &a.t), 0);
    assert_int_equal(mvcc_txn_begin(c, &b.t), 0);
    __atomic_store_n(&ts_a, mvcc_txn_start_ts(a.t), __ATOMIC_RELEASE);
    __atomic_store_n(&ts_b, mvcc_txn_start_ts(b.t), __ATOMIC_RELEASE);
    assert_true(ts_a < ts_b);
    tu_txn_set(a.t, "a", "A"); /* A's primary, shard 0 */
    tu_txn_set(a.t, "h", "A");
    tu_txn_set(a.t, "q", "A");
    tu_txn_set(b.t, "b", "B"); /* B's primary, shard 0 */
    tu_txn_set(b.t, "h", "B");
    tu_txn_set(b.t, "q", "B");

    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, commit_main, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, commit_main, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);

    /* Each met the other's lock: the wait was a cycle. */
    assert_true(__atomic_load_n(&a_locked, __ATOMIC_ACQUIRE) >= 1);
    assert_true(__atomic_load_n(&b_locked, __ATOMIC_ACQUIRE) >= 1);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, MVCC_CONFLICT);
    tu_client_get_is(k.c, "a", "A");
    tu_client_get_is(k.c, "h", "A");
    tu_client_get_is(k.c, "q", "A");
    tu_client_get_is(k.c, "b", NULL);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* stop_siblings: prewrites of shard 2 counted */
static int shard2_calls;

static int counting_prewrite(void *ctx, uint64_t shard,
                             const struct mvcc_prewrite_req *req,
                             struct mvcc_result *res)
{
    if (shard == 2)
        __atomic_add_fetch(&shard2_calls, 1, __ATOMIC_ACQ_REL);
    return real.prewrite(ctx, shard, req, res);
}

/* A lock on k held by a transaction at start_ts that never finishes (TTL
 * a minute: nothing expires during the test). */
static void hold_lock(struct mvcc_store *s, const char *k, mvcc_ts start_ts)
{
    struct mvcc_mutation m = {MVCC_OP_PUT, k, strlen(k), "x", 1, false};
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(tu_prewrite_ttl(s, &m, 1, k, start_ts, 60000, &r), 0);
    mvcc_result_reset(&r);
}

/* The locks of shards 0..2 (each store's ScanLock over its own range:
 * without lock tables the stores share one engine), as "key@O" (O's) or
 * "key@Z" (anyone else's). */
static void locks_are(struct tu_cluster *k, const char *want)
{
    static const char *const bound[4] = {"", "g", "p", NULL};
    char got[256] = "";
    struct mvcc_result r;
    mvcc_result_init(&r);
    for (int i = 0; i < 3; i++) {
        const char *hi = bound[i + 1];
        assert_int_equal(mvcc_scan_lock(k->s[i], MVCC_TS_MAX, bound[i],
                                        strlen(bound[i]), hi,
                                        hi ? strlen(hi) : 0, 0, &r),
                         0);
        for (size_t j = 0; j < r.nlocks; j++) {
            size_t at = strlen(got);
            snprintf(got + at, sizeof got - at, "%s%.*s@%s",
                     at ? "," : "", (int)r.locks[j].key_len,
                     (const char *)r.locks[j].key,
                     r.locks[j].start_ts == ts_a ? "O" : "Z");
        }
    }
    mvcc_result_reset(&r);
    assert_string_equal(got, want);
}

/* Transaction Y writes b (shard 0, its primary), h (shard 1) and q (shard
 * 2). An older transaction O holds h, a younger one Z holds q, and
 * neither ever finishes. Y's group for h gives way; its group for q,
 * waiting behind the younger Z, stops with it instead of waiting out the
 * resolve budget (a minute) with Y's lock on b held: Y answers
 * MVCC_CONFLICT after a few prewrites of q, its lock on b rolled back,
 * O's and Z's locks as they were. */
static void a_group_that_gives_way_stops_the_others(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    real = k.tr;
    shard2_calls = 0;
    struct mvcc_client *c = test_client(&k, counting_prewrite);

    mvcc_ts ts_o, ts_z;
    assert_int_equal(mvcc_local_tso_next(&k.tso, &ts_o), 0);
    struct mvcc_txn *y;
    assert_int_equal(mvcc_txn_begin(c, &y), 0);
    assert_int_equal(mvcc_local_tso_next(&k.tso, &ts_z), 0);
    assert_true(ts_o < mvcc_txn_start_ts(y));
    assert_true(mvcc_txn_start_ts(y) < ts_z);
    ts_a = ts_o; /* locks_are names O's locks by it */
    hold_lock(k.s[1], "h", ts_o);
    hold_lock(k.s[2], "q", ts_z);
    tu_txn_set(y, "b", "Y");
    tu_txn_set(y, "h", "Y");
    tu_txn_set(y, "q", "Y");
    assert_int_equal(mvcc_txn_commit(y, NULL), MVCC_CONFLICT);
    /* a minute of backoffs would be hundreds */
    assert_true(__atomic_load_n(&shard2_calls, __ATOMIC_ACQUIRE) <= 20);
    locks_are(&k, "h@O,q@Z");
    tu_client_get_is(k.c, "b", NULL);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_FOUR_KIND(crossed_prewrites_younger_gives_way),
        TU_FOUR_KIND(a_group_that_gives_way_stops_the_others),
    };
    return cmocka_run_group_tests_name("libmvcc/waitdie", tests, NULL, NULL);
}

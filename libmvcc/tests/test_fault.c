/* test_fault.c: fault injection in the style of SQLite's faultsim. A
 * scenario of storage commands runs once per allocation, failing the i-th
 * allocation libmvcc makes; the failing command must return -ENOMEM (never
 * crash or leak: ASan's leak check runs these), and must leave no trace:
 * run again without faults it succeeds, and the final state is exact.
 * Memory engine (whose batches are all or nothing even out of memory).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

static long fail_at; /* the allocation to fail (1-based); 0 = never */
static long count;   /* allocations so far */
static long failures; /* how many were failed */

static bool should_fail(void)
{
    count++;
    if (fail_at != 0 && count == fail_at) {
        failures++;
        return true;
    }
    return false;
}

static void *f_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return should_fail() ? NULL : malloc(n);
}

static void *f_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return should_fail() ? NULL : realloc(p, n);
}

static void f_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static const struct mvcc_heap faulty = {NULL, f_malloc, f_realloc, f_free};

#define TS(ms) TU_TS(ms, 0)
#define K(x) (x), strlen(x)

/* Runs step; if it ran out of memory, faults stop and it must then work. */
#define STEP(expr, want)                                    \
    do {                                                    \
        int rc_ = (expr);                                   \
        if (rc_ == -ENOMEM) {                               \
            fail_at = 0;                                    \
            rc_ = (expr);                                   \
        }                                                   \
        assert_int_equal(rc_, (want));                      \
    } while (0)

static void scenario(bool lock_table)
{
    struct mvcc_engine *e = NULL;
    struct mvcc_store *s = NULL;
    struct mvcc_store_opts so;
    memset(&so, 0, sizeof so);
    so.lock_table = lock_table;
    STEP(mvcc_memengine_create(&e), 0);
    STEP(mvcc_store_open(e, &so, &s), 0);
    struct mvcc_result r;
    mvcc_result_init(&r);
    char big[600];
    memset(big, 'v', sizeof big);
    struct mvcc_mutation m[] = {
        {MVCC_OP_PUT, "a", 1, "1", 1, false},
        {MVCC_OP_PUT, "b", 1, big, sizeof big, false},
        {MVCC_OP_DELETE, "c", 1, NULL, 0, false},
    };
    struct mvcc_key secs[] = {{"b", 1}, {"c", 1}};
    struct mvcc_prewrite_req req;
    memset(&req, 0, sizeof req);
    req.mutations = m;
    req.n = 3;
    req.primary = "a";
    req.primary_len = 1;
    req.start_ts = TS(10);
    req.lock_ttl = 100;
    req.use_async_commit = true;
    req.secondaries = secs;
    req.nsecondaries = 2;
    STEP(mvcc_prewrite(s, &req, &r), 0);
    STEP(mvcc_get(s, NULL, K("a"), MVCC_TS_MAX - 1, &r), MVCC_LOCKED);
    STEP(mvcc_scan_lock(s, TS(20), NULL, 0, NULL, 0, 0, &r), 0);
    assert_int_equal(r.nlocks, 3);
    STEP(mvcc_check_secondary_locks(s, secs, 2, TS(10), &r), 0);
    struct mvcc_key keys[] = {{"a", 1}, {"b", 1}, {"c", 1}};
    STEP(mvcc_commit(s, keys, 3, TS(10), TS(1500), &r), 0);
    STEP(mvcc_get(s, NULL, K("b"), TS(1500), &r), 0);
    assert_int_equal(r.pairs[0].value_len, sizeof big);
    STEP(mvcc_scan(s, NULL, NULL, 0, NULL, 0, TS(1500), &r), 0);
    assert_int_equal(r.npairs, 2);
    /* "a" gets more versions than the read path steps over before it
     * seeks; reverse, key-only and batch reads over them */
    req.n = 1; /* "a" alone, not async */
    req.use_async_commit = false;
    req.secondaries = NULL;
    req.nsecondaries = 0;
    for (int i = 0; i < 10; i++) {
        req.start_ts = TS(1600 + 20 * (uint64_t)i);
        STEP(mvcc_prewrite(s, &req, &r), 0);
        STEP(mvcc_commit(s, keys, 1, req.start_ts, req.start_ts + TS(10), &r),
             0);
    }
    struct mvcc_read_opts rev = {.reverse = true};
    STEP(mvcc_scan(s, &rev, NULL, 0, NULL, 0, TS(1900), &r), 0);
    assert_int_equal(r.npairs, 2);
    assert_memory_equal(r.pairs[1].key, "a", 1);
    struct mvcc_read_opts ko = {.key_only = true, .limit = 1};
    STEP(mvcc_scan(s, &ko, NULL, 0, NULL, 0, TS(1700), &r), 0);
    assert_int_equal(r.npairs, 1);
    STEP(mvcc_batch_get(s, NULL, keys, 3, TS(1900), &r), 0);
    assert_int_equal(r.npairs, 2);
    /* a second txn: pessimistic lock, then rolled back */
    struct mvcc_key ka = {"a", 1};
    struct mvcc_pessimistic_req pr;
    memset(&pr, 0, sizeof pr);
    pr.keys = &ka;
    pr.n = 1;
    pr.primary = "a";
    pr.primary_len = 1;
    pr.start_ts = TS(2000);
    pr.for_update_ts = TS(2000);
    pr.lock_ttl = 100;
    STEP(mvcc_acquire_pessimistic_lock(s, &pr, &r), 0);
    struct mvcc_check_txn_req cr = {"a", 1, TS(2000), 0, TS(3000), true,
                                    false};
    STEP(mvcc_check_txn_status(s, &cr, &r), 0);
    assert_int_equal(r.status, MVCC_TXN_ROLLED_BACK);
    STEP(mvcc_batch_rollback(s, keys, 3, TS(4000), &r), 0);
    uint64_t removed;
    STEP(mvcc_gc(s, TS(5000), &removed), 0);
    STEP(mvcc_delete_range(s, K("c"), NULL, 0), 0);
    /* exact final state, faults off */
    fail_at = 0;
    assert_int_equal(mvcc_scan(s, NULL, NULL, 0, NULL, 0, TS(6000), &r), 0);
    assert_int_equal(r.npairs, 2);
    assert_memory_equal(r.pairs[0].value, "1", 1);
    assert_int_equal(r.pairs[1].value_len, sizeof big);
    assert_int_equal(mvcc_scan_lock(s, MVCC_TS_MAX, NULL, 0, NULL, 0, 0, &r),
                     0);
    assert_int_equal(r.nlocks, 0);
    mvcc_result_reset(&r);
    mvcc_store_close(s);
    mvcc_engine_destroy(e);
}

static void run_all(bool lock_table)
{
    mvcc_heap_set(&faulty);
    long total = 0;
    for (long i = 1;; i++) {
        fail_at = i;
        count = 0;
        failures = 0;
        scenario(lock_table);
        if (failures == 0) {
            total = count;
            break; /* the scenario needs fewer than i allocations */
        }
    }
    mvcc_heap_set(NULL);
    assert_true(total > 50); /* the loop really covered the commands */
}

static void every_allocation_fails_cleanly(void **state)
{
    (void)state;
    run_all(false);
}

/* The lock table allocates before the engine write: a failure leaves
 * table and engine as they were. */
static void with_lock_table(void **state)
{
    (void)state;
    run_all(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_allocation_fails_cleanly),
        cmocka_unit_test(with_lock_table),
    };
    return cmocka_run_group_tests_name("libmvcc/fault", tests, NULL, NULL);
}

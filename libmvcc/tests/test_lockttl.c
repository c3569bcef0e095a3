/* test_lockttl.c: a lock's TTL counts from its transaction's start_ts, so
 * one written late in a long transaction carries the time already gone
 * on top of the client's lock_ttl: a prewrite 300 ms after BEGIN with a
 * 100 ms lock_ttl must not be born expired (sysbench found transactions
 * older than 3 s rolled back by any reader under the cluster's default),
 * (a reader meeting it would have rolled the transaction back).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mvcc.h"
#include "testutil.h"

static struct mvcc_transport real;
static uint64_t seen_ttl;      /* the last prewrite's lock_ttl */
static uint64_t seen_plock_ttl; /* the last pessimistic lock's */

static int rec_prewrite(void *ctx, uint64_t shard,
                        const struct mvcc_prewrite_req *req,
                        struct mvcc_result *res)
{
    seen_ttl = req->lock_ttl;
    return real.prewrite(ctx, shard, req, res);
}

static int rec_plock(void *ctx, uint64_t shard,
                     const struct mvcc_pessimistic_req *req,
                     struct mvcc_result *res)
{
    seen_plock_ttl = req->lock_ttl;
    return real.acquire_pessimistic_lock(ctx, shard, req, res);
}

static void nap_ms(long ms)
{
    struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&d, &d) != 0)
        ;
}

static void late_locks_carry_the_time_gone(void **state)
{
    (void)state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, TU_MEM, NULL), 0);
    real = k.tr;
    struct mvcc_client_opts o = {0};
    o.transport = k.tr;
    o.transport.prewrite = rec_prewrite;
    o.transport.acquire_pessimistic_lock = rec_plock;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &k.tso;
    o.lock_ttl = 100;
    o.one_pc = false;
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);

    /* a prewrite at once: about the plain TTL */
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    tu_txn_set(t, "a", "1");
    tu_txn_set(t, "z", "1");
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    assert_true(seen_ttl >= 100);

    /* 300 ms after BEGIN: at least 400 (the clock only runs forward) */
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    nap_ms(300);
    tu_txn_set(t, "b", "2");
    tu_txn_set(t, "y", "2");
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    assert_true(seen_ttl >= 400);

    /* a pessimistic lock taken late gets the same */
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    nap_ms(300);
    struct mvcc_key key = {"c", 1};
    assert_int_equal(mvcc_txn_lock_keys(t, &key, 1, 1000), 0);
    assert_true(seen_plock_ttl >= 400);
    mvcc_txn_rollback(t);

    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(late_locks_carry_the_time_gone),
    };
    return cmocka_run_group_tests_name("libmvcc/lockttl", tests, NULL, NULL);
}

/* test_lockslice.c: a pessimistic lock request with a wait ends at its
 * wait's deadline (DESIGN.md "Pessimistic locks", the client's side): a
 * request that timed out waiting for a live holder is answered
 * MVCC_LOCK_WAIT_TIMEOUT at once, not sent again until the resolve budget
 * runs out (libsql waits in 500 ms slices on the cluster; session 11 saw
 * one slice last the whole 5 s budget). The budget stays for resolving
 * a dead holder's lock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mvcc.h"
#include "testutil.h"

static struct mvcc_transport real;
static unsigned plock_calls;     /* lock requests sent */
static int64_t last_wait_ms;     /* the last one's wait_timeout_ms */
static bool drop_locks;          /* answer a timeout without its locks */

static int count_plock(void *ctx, uint64_t shard,
                       const struct mvcc_pessimistic_req *req,
                       struct mvcc_result *res)
{
    plock_calls++;
    last_wait_ms = req->wait_timeout_ms;
    int rc = real.acquire_pessimistic_lock(ctx, shard, req, res);
    /* A transport may carry the code without the lock that caused it. */
    if (rc == MVCC_LOCK_WAIT_TIMEOUT && drop_locks)
        mvcc_result_reset(res);
    return rc;
}

struct fx {
    struct tu_cluster k;     /* three in-process stores */
    struct mvcc_client *c;   /* the client under test */
};

static int setup(void **state)
{
    static struct fx fx;
    memset(&fx, 0, sizeof fx);
    if (tu_cluster_open(&fx.k, TU_MEM, NULL) != 0)
        return -1;
    real = fx.k.tr;
    struct mvcc_client_opts o = {0};
    o.transport = fx.k.tr;
    o.transport.acquire_pessimistic_lock = count_plock;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &fx.k.tso;
    o.lock_ttl = 60000;          /* the holder stays alive */
    o.resolve_budget_ms = 5000;  /* sqld's on the cluster */
    if (mvcc_client_create(&o, &fx.c) != 0)
        return -1;
    plock_calls = 0;
    drop_locks = false;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    mvcc_client_destroy(fx->c);
    tu_cluster_close(&fx->k);
    return 0;
}

/* b waits 50 ms for a's lock, a slice of a longer wait: one request,
 * asked to wait 50 ms at most, answered MVCC_LOCK_WAIT_TIMEOUT, with a
 * as the blocker; the same when the transport drops the lock (nothing
 * to resolve then, which used to send the request again and again). */
static void timed_out_wait_is_not_repeated(void **state)
{
    struct fx *fx = *state;
    struct mvcc_txn *a, *b;
    struct mvcc_key key = {"kiwi", 4};
    assert_int_equal(mvcc_txn_begin(fx->c, &a), 0);
    assert_int_equal(mvcc_txn_lock_keys(a, &key, 1, 0), 0);
    assert_int_equal(mvcc_txn_begin(fx->c, &b), 0);
    for (int drop = 0; drop < 2; drop++) {
        drop_locks = drop == 1;
        plock_calls = 0;
        assert_int_equal(mvcc_txn_lock_keys(b, &key, 1, 50),
                         MVCC_LOCK_WAIT_TIMEOUT);
        assert_int_equal(plock_calls, 1);
        assert_true(last_wait_ms > 0 && last_wait_ms <= 50);
        if (!drop_locks)
            assert_int_equal(mvcc_txn_blocker(b), mvcc_txn_start_ts(a));
    }
    assert_false(mvcc_txn_holds_lock(b, "kiwi", 4));
    /* Once a lets go, b's next slice takes the lock with one request. */
    mvcc_txn_rollback(a);
    drop_locks = false;
    plock_calls = 0;
    assert_int_equal(mvcc_txn_lock_keys(b, &key, 1, 50), 0);
    assert_int_equal(plock_calls, 1);
    assert_true(mvcc_txn_holds_lock(b, "kiwi", 4));
    mvcc_txn_rollback(b);
}

/* A dead holder's lock is still resolved within the request: a's lock
 * outlived its TTL (a client with a 1 ms lock_ttl that never commits),
 * b's wait times out, the lock is rolled back, and b's request is sent
 * once more, without waiting, and takes the key. */
static void dead_holder_is_resolved(void **state)
{
    struct fx *fx = *state;
    struct mvcc_client_opts o = {0};
    o.transport = fx->k.tr;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &fx->k.tso;
    o.lock_ttl = 1;
    o.transport.txn_heartbeat = NULL; /* nothing keeps it alive */
    struct mvcc_client *dead;
    assert_int_equal(mvcc_client_create(&o, &dead), 0);
    struct mvcc_txn *a, *b;
    struct mvcc_key key = {"apple", 5};
    assert_int_equal(mvcc_txn_begin(dead, &a), 0);
    assert_int_equal(mvcc_txn_lock_keys(a, &key, 1, 0), 0);
    assert_int_equal(mvcc_txn_begin(fx->c, &b), 0);
    plock_calls = 0;
    assert_int_equal(mvcc_txn_lock_keys(b, &key, 1, 50), 0);
    assert_int_equal(plock_calls, 2);
    assert_int_equal(last_wait_ms, 0); /* the wait was spent */
    assert_true(mvcc_txn_holds_lock(b, "apple", 5));
    mvcc_txn_rollback(b);
    mvcc_txn_rollback(a);
    mvcc_client_destroy(dead);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(timed_out_wait_is_not_repeated,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(dead_holder_is_resolved, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("libmvcc/lockslice", tests, NULL,
                                       NULL);
}

/* test_keepalive.c: mvcc_client_opts.commit_keepalive (DESIGN.md "Commit
 * keepalive"). A two-phase commit whose secondary's prewrite is held
 * until the primary's lock is past its TTL: with the keepalive, the
 * primary's TTL has been raised meanwhile, so a reader's CheckTxnStatus
 * finds it locked and the commit then succeeds; without it, the reader
 * rolls the transaction back and the commit fails (what sqld answered
 * 1105 "transaction was rolled back" under the rolling restart). The
 * hold waits for conditions (a heartbeat sent after the TTL ran out, or
 * twice the TTL gone), never for a fixed time alone. Heartbeats go on
 * while the client's TSO fails, and give the lock managed_lock_ttl, which
 * a pessimistic transaction's COMMIT keeps (its prewrite carries it).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mvcc.h"
#include "testutil.h"

#define TTL_MS 1500 /* the lock TTL; heartbeats every TTL/3 */
#define MANAGED_MS 60000 /* the TTL a heartbeat gives, past the age */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The test's transport: the real one, with shard 2's prewrite held and
 * heartbeats timed. */
static struct mvcc_transport real;
static struct tu_cluster *kc;    /* the cluster (the reader's store) */
static bool keepalive;           /* the client under test keeps alive */
static bool tso_test;            /* its TSO fails while the prewrite is held */
static uint64_t begun;           /* mono ms when the txn began */
static uint64_t last_beat;       /* mono ms of the last heartbeat (atomic) */
static int beats;                /* heartbeats sent (atomic) */
static int reader_status = -1;   /* what the reader's check found */
static uint64_t reader_ttl;      /* and the lock's TTL it saw */
static bool tso_down;            /* the client's TSO fails (atomic) */
static bool beats_lost;          /* heartbeats fail (atomic) */
static bool pess_test;           /* pessimistic_commit_keeps_managed_ttl */
static uint64_t commit_began;    /* mono ms its COMMIT began */
static int reader_rc = -1;       /* what its reader's get answered */

static int client_tso(void *ctx, mvcc_ts *out)
{
    if (__atomic_load_n(&tso_down, __ATOMIC_ACQUIRE))
        return -EAGAIN;
    return mvcc_local_tso_next(ctx, out);
}

static int beat(void *ctx, uint64_t shard, const void *primary, size_t len,
                mvcc_ts start_ts, uint64_t ttl, struct mvcc_result *res)
{
    if (__atomic_load_n(&beats_lost, __ATOMIC_ACQUIRE))
        return MVCC_STORE_UNREACHABLE; /* its store restarts */
    int rc = real.txn_heartbeat(ctx, shard, primary, len, start_ts, ttl, res);
    __atomic_store_n(&last_beat, mono_ms(), __ATOMIC_RELEASE);
    __atomic_add_fetch(&beats, 1, __ATOMIC_ACQ_REL);
    return rc;
}

/* pessimistic_commit_keeps_managed_ttl's hold: the secondary's prewrite
 * waits until twice the plain TTL has gone since the COMMIT began (the
 * primary's prewrite is done by then), and a reader of another client
 * reads the primary meanwhile, resolving its lock as any reader does. */
static void pess_hold(void)
{
    struct timespec d = {0, 2000000};
    while (mono_ms() < commit_began + 2 * TTL_MS)
        nanosleep(&d, NULL);
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.transport = real;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &kc->tso;
    o.lock_ttl = TTL_MS;
    o.resolve_budget_ms = 200;
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    uint8_t *v = NULL;
    size_t vl = 0;
    reader_rc = mvcc_txn_get(t, "a", 1, &v, &vl);
    mvcc_free(v);
    mvcc_txn_rollback(t);
    mvcc_client_destroy(c);
}

static int held_prewrite(void *ctx, uint64_t shard,
                         const struct mvcc_prewrite_req *req,
                         struct mvcc_result *res)
{
    if (shard == 2 && pess_test) {
        pess_hold();
    } else if (shard == 2) {
        /* Until the lock's first TTL is over: with the keepalive, a beat
         * after that; without, twice the TTL (60 s at most). */
        struct timespec d = {0, 2000000};
        uint64_t give_up = mono_ms() + 60000;
        if (tso_test)
            __atomic_store_n(&tso_down, true, __ATOMIC_RELEASE);
        for (;;) {
            uint64_t lb = __atomic_load_n(&last_beat, __ATOMIC_ACQUIRE);
            if (keepalive ? lb >= begun + TTL_MS
                          : mono_ms() >= begun + 2 * TTL_MS)
                break;
            if (mono_ms() > give_up)
                break;
            nanosleep(&d, NULL);
        }
        __atomic_store_n(&tso_down, false, __ATOMIC_RELEASE);
        /* A reader that met the primary's lock asks for its status. */
        struct mvcc_check_txn_req q;
        memset(&q, 0, sizeof q);
        q.primary = "a";
        q.primary_len = 1;
        q.lock_ts = req->start_ts;
        assert_int_equal(mvcc_local_tso_next(&kc->tso, &q.current_ts), 0);
        struct mvcc_result r;
        mvcc_result_init(&r);
        assert_int_equal(mvcc_check_txn_status(kc->s[0], &q, &r), 0);
        reader_status = (int)r.status;
        reader_ttl = r.lock_ttl;
        mvcc_result_reset(&r);
    }
    return real.prewrite(ctx, shard, req, res);
}

/* The client under test on cluster k: the held prewrite, the counted
 * heartbeats, TTL_MS and MANAGED_MS. */
static struct mvcc_client *test_client(struct tu_cluster *k, mvcc_tso_fn tso,
                                       bool keep, bool async)
{
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.transport = k->tr;
    real = k->tr;
    o.transport.prewrite = held_prewrite;
    o.transport.txn_heartbeat = beat;
    o.tso = tso;
    o.tso_ctx = &k->tso;
    o.lock_ttl = TTL_MS;
    o.managed_lock_ttl = MANAGED_MS;
    o.commit_keepalive = keep;
    o.async_commit = async;
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);
    return c;
}

static void stalled_commit(bool on, bool tso_fails, int want_rc,
                           int want_status)
{
    tso_test = tso_fails;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, tu_kind_mem, NULL), 0);
    kc = &k;
    keepalive = on;
    beats = 0;
    last_beat = 0;
    reader_status = -1;
    struct mvcc_client *c = test_client(&k, client_tso, on, false);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    begun = mono_ms();
    tu_txn_set(t, "a", "1"); /* shard 0: the primary */
    tu_txn_set(t, "z", "2"); /* shard 2: held */
    assert_int_equal(mvcc_txn_commit(t, NULL), want_rc);
    assert_int_equal(reader_status, want_status);
    if (on) /* raised by a heartbeat: the managed TTL past the age */
        assert_true(reader_ttl >= MANAGED_MS);
    int after = __atomic_load_n(&beats, __ATOMIC_ACQUIRE);
    assert_true(on ? after >= 1 : after == 0);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

static void keepalive_outlives_ttl(void **state)
{
    (void)state;
    stalled_commit(true, false, 0, MVCC_TXN_LOCKED);
}

/* The same while the client's TSO fails (a pdd election): the heartbeat
 * takes the lock's age from the host's clock and goes on (it skipped the
 * beat until session 9: a pessimistic COMMIT after a pdd restart found its
 * lock rolled back, 1105 "expected lock is missing"). */
static void keepalive_without_tso(void **state)
{
    (void)state;
    stalled_commit(true, true, 0, MVCC_TXN_LOCKED);
}

static void without_keepalive_rolled_back(void **state)
{
    (void)state;
    stalled_commit(false, false, MVCC_ROLLED_BACK, MVCC_TXN_ROLLED_BACK);
}

/* A pessimistic transaction's heartbeats have raised its primary lock to
 * the managed TTL; its COMMIT's prewrite converts that lock, and then its
 * heartbeats fail (the primary's kvd restarts) for longer than the plain
 * TTL while the secondary's prewrite is held. The prewrite must not have
 * cut the primary back to the plain TTL: a reader would find it expired
 * and roll the transaction back, and the COMMIT would fail. With async
 * commit the reader's CheckSecondaryLocks rolls back the secondary's
 * pessimistic lock, and the held prewrite then answers
 * MVCC_LOCK_NOT_FOUND: sqld's 1105 "expected lock is missing" under the
 * rolling restart (issue 9, session 10); in two phases the reader rolls
 * the primary back and the COMMIT answers MVCC_ROLLED_BACK. */
static void pess_commit(bool async)
{
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, tu_kind_mem, NULL), 0);
    kc = &k;
    pess_test = true;
    beats = 0;
    reader_rc = -1;
    __atomic_store_n(&beats_lost, false, __ATOMIC_RELEASE);
    struct mvcc_client *c = test_client(&k, mvcc_local_tso_next, true, async);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    struct mvcc_key keys[] = {{"a", 1}, {"z", 1}}; /* shards 0 and 2 */
    assert_int_equal(mvcc_txn_lock_keys(t, keys, 2, 0), 0);
    struct timespec d = {0, 2000000};
    while (__atomic_load_n(&beats, __ATOMIC_ACQUIRE) < 1)
        nanosleep(&d, NULL); /* the primary has the managed TTL */
    __atomic_store_n(&beats_lost, true, __ATOMIC_RELEASE);
    tu_txn_set(t, "a", "1");
    tu_txn_set(t, "z", "2");
    commit_began = mono_ms();
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    /* the reader found the lock alive: it read past it (two phases: its
     * CheckTxnStatus pushed the lock's min_commit_ts above the read) or
     * gave up waiting for it (an async commit's lock, which only its
     * secondaries can decide) */
    assert_int_equal(reader_rc, async ? MVCC_LOCKED : MVCC_NOTFOUND);
    tu_client_get_is(k.c, "a", "1");
    tu_client_get_is(k.c, "z", "2");
    pess_test = false;
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

static void pessimistic_commit_keeps_managed_ttl(void **state)
{
    (void)state;
    pess_commit(false);
}

static void pessimistic_async_commit_keeps_managed_ttl(void **state)
{
    (void)state;
    pess_commit(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keepalive_outlives_ttl),
        cmocka_unit_test(keepalive_without_tso),
        cmocka_unit_test(without_keepalive_rolled_back),
        cmocka_unit_test(pessimistic_commit_keeps_managed_ttl),
        cmocka_unit_test(pessimistic_async_commit_keeps_managed_ttl),
    };
    return cmocka_run_group_tests_name("libmvcc/keepalive", tests, NULL,
                                       NULL);
}

/* test_bound.c: bounded commits (mvcc_txn_set_commit_bound, the
 * prewrite's max_commit_ts): a store refuses a 1PC or async commit_ts
 * above the bound writing nothing, the client goes on in two phases and
 * asks the check about a later commit_ts, or rolls back when an async
 * primary may already be written (DESIGN.md "Bounded commit_ts").
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mvcc.h"
#include "testutil.h"

#define K(x) (x), strlen(x)

/* The check: counts its calls, remembers the commit_ts, answers rc. */
struct check
{
    int calls;    /* how many */
    mvcc_ts seen; /* the last commit_ts asked about */
    int rc;       /* the answer */
};

static int check_fn(void *ctx, mvcc_ts commit_ts)
{
    struct check *ck = ctx;
    ck->calls++;
    ck->seen = commit_ts;
    return ck->rc;
}

static struct mvcc_client *client(struct tu_cluster *k, bool one_pc,
                                  bool async)
{
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.one_pc = one_pc;
    o.async_commit = async;
    o.transport = k->tr;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &k->tso;
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);
    return c;
}

/* key on shard s reads as want at ts (NULL: not found). */
static void value_is(struct tu_cluster *k, int s, const char *key,
                     mvcc_ts ts, const char *want)
{
    struct mvcc_result r;
    mvcc_result_init(&r);
    int rc = mvcc_get(k->s[s], NULL, key, strlen(key), ts, &r);
    if (want == NULL) {
        assert_int_equal(rc, MVCC_NOTFOUND);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(r.npairs, 1);
        assert_int_equal(r.pairs[0].value_len, strlen(want));
        assert_memory_equal(r.pairs[0].value, want, strlen(want));
    }
    mvcc_result_reset(&r);
}

static void no_locks(struct tu_cluster *k, int s)
{
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_scan_lock(k->s[s], MVCC_TS_MAX, "", 0, NULL, 0, 0,
                                    &r),
                     0);
    assert_int_equal(r.nlocks, 0);
    mvcc_result_reset(&r);
}

/* A reader at a fresh timestamp on shard s: its max_ts is then above
 * every transaction begun before. */
static void reader(struct tu_cluster *k, int s)
{
    mvcc_ts ts;
    assert_int_equal(mvcc_local_tso_next(&k->tso, &ts), 0);
    value_is(k, s, "q", ts, NULL);
}

/* The store: 1PC and async prewrites above max_commit_ts are refused with
 * nothing written; a plain prewrite ignores the bound; a resend whose keys
 * are written already answers what they hold. */
static void store_refuses_above_bound(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct mvcc_store *s = k.s[0];
    mvcc_store_update_max_ts(s, 1000);
    struct mvcc_mutation m = {MVCC_OP_PUT, "a", 1, "1", 1, false};
    struct mvcc_prewrite_req req;
    memset(&req, 0, sizeof req);
    req.mutations = &m;
    req.n = 1;
    req.primary = "a";
    req.primary_len = 1;
    req.start_ts = 100;
    req.lock_ttl = 3000;
    req.txn_size = 1;
    req.try_one_pc = true;
    req.max_commit_ts = 1000; /* the commit_ts would be 1001 */
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_prewrite(s, &req, &r), MVCC_COMMIT_TS_TOO_LARGE);
    value_is(&k, 0, "a", MVCC_TS_MAX, NULL);
    no_locks(&k, 0);
    req.try_one_pc = false;
    req.use_async_commit = true;
    assert_int_equal(mvcc_prewrite(s, &req, &r), MVCC_COMMIT_TS_TOO_LARGE);
    no_locks(&k, 0);
    /* At the bound it passes. */
    req.max_commit_ts = 1001;
    assert_int_equal(mvcc_prewrite(s, &req, &r), 0);
    assert_int_equal(r.min_commit_ts, 1001);
    /* Resent with a lower bound: its lock answers, nothing new. */
    mvcc_store_update_max_ts(s, 5000);
    req.max_commit_ts = 1001;
    assert_int_equal(mvcc_prewrite(s, &req, &r), 0);
    assert_int_equal(r.min_commit_ts, 1001);
    /* A plain prewrite carries no bound to check. */
    struct mvcc_mutation m2 = {MVCC_OP_PUT, "b", 1, "2", 1, false};
    req.mutations = &m2;
    req.primary = "b";
    req.start_ts = 200;
    req.use_async_commit = false;
    assert_int_equal(mvcc_prewrite(s, &req, &r), 0);
    mvcc_result_reset(&r);
    tu_cluster_close(&k);
}

/* Within the bound 1PC commits and the check is never asked. */
static void one_pc_within_bound(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct mvcc_client *c = client(&k, true, false);
    struct check ck = {0, 0, 0};
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_ts bound = mvcc_txn_start_ts(t) + ((mvcc_ts)60000 << 18);
    mvcc_txn_set_commit_bound(t, bound, check_fn, &ck);
    tu_txn_set(t, "a", "1");
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_int_equal(ck.calls, 0);
    assert_true(cts <= bound);
    value_is(&k, 0, "a", cts, "1");
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* 1PC refused by the bound: two phases, the check accepts the TSO's
 * commit_ts, the write is there at it. */
static void one_pc_refused_goes_two_phase(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct mvcc_client *c = client(&k, true, false);
    struct check ck = {0, 0, 0};
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_ts start = mvcc_txn_start_ts(t);
    mvcc_txn_set_commit_bound(t, start, check_fn, &ck);
    reader(&k, 0); /* a 1PC commit_ts would be above start */
    tu_txn_set(t, "a", "1");
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_int_equal(ck.calls, 1);
    assert_int_equal(ck.seen, cts);
    assert_true(cts > start);
    value_is(&k, 0, "a", cts - 1, NULL);
    value_is(&k, 0, "a", cts, "1");
    no_locks(&k, 0);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* The check refuses: the commit answers its code, nothing is left. */
static void check_refuses_rolls_back(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct mvcc_client *c = client(&k, false, false);
    struct check ck = {0, 0, -ESTALE};
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_txn_set_commit_bound(t, mvcc_txn_start_ts(t), check_fn, &ck);
    tu_txn_set(t, "a", "1");
    tu_txn_set(t, "z", "2");
    assert_int_equal(mvcc_txn_commit(t, NULL), -ESTALE);
    assert_int_equal(ck.calls, 1);
    value_is(&k, 0, "a", MVCC_TS_MAX, NULL);
    value_is(&k, 2, "z", MVCC_TS_MAX, NULL);
    no_locks(&k, 0);
    no_locks(&k, 2);
    /* Without a check the bound alone refuses. */
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_txn_set_commit_bound(t, mvcc_txn_start_ts(t), NULL, NULL);
    tu_txn_set(t, "a", "1");
    assert_int_equal(mvcc_txn_commit(t, NULL), MVCC_COMMIT_TS_TOO_LARGE);
    value_is(&k, 0, "a", MVCC_TS_MAX, NULL);
    no_locks(&k, 0);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* Async commit whose primary is refused: no async primary lock exists, so
 * the commit goes on in two phases; both keys at one commit_ts. */
static void async_primary_refused_goes_two_phase(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct mvcc_client *c = client(&k, false, true);
    struct check ck = {0, 0, 0};
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_ts start = mvcc_txn_start_ts(t);
    mvcc_txn_set_commit_bound(t, start, check_fn, &ck);
    reader(&k, 0);
    tu_txn_set(t, "a", "1"); /* shard 0: the primary */
    tu_txn_set(t, "z", "2"); /* shard 2 */
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_int_equal(ck.calls, 1);
    assert_int_equal(ck.seen, cts);
    value_is(&k, 0, "a", cts - 1, NULL);
    value_is(&k, 2, "z", cts - 1, NULL);
    value_is(&k, 0, "a", cts, "1");
    value_is(&k, 2, "z", cts, "2");
    no_locks(&k, 0);
    no_locks(&k, 2);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* Async commit whose secondary is refused after the primary's async lock
 * was written: rolled back (two phases could commit it at a second
 * timestamp), MVCC_COMMIT_TS_TOO_LARGE; nothing reads. */
static void async_secondary_refused_rolls_back(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct mvcc_client *c = client(&k, false, true);
    struct check ck = {0, 0, 0};
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_ts start = mvcc_txn_start_ts(t);
    /* The primary's shard has seen no read since start: its commit_ts
     * would be start + 1; the secondary's is above a later reader's. */
    mvcc_txn_set_commit_bound(t, start + 1, check_fn, &ck);
    reader(&k, 2);
    tu_txn_set(t, "a", "1");
    tu_txn_set(t, "z", "2");
    assert_int_equal(mvcc_txn_commit(t, NULL), MVCC_COMMIT_TS_TOO_LARGE);
    assert_int_equal(ck.calls, 0);
    no_locks(&k, 0);
    no_locks(&k, 2);
    value_is(&k, 0, "a", MVCC_TS_MAX, NULL);
    value_is(&k, 2, "z", MVCC_TS_MAX, NULL);
    /* The primary's record says rolled back: a late prewrite of the
     * secondary cannot make the transaction whole. */
    struct mvcc_check_txn_req q;
    memset(&q, 0, sizeof q);
    q.primary = "a";
    q.primary_len = 1;
    q.lock_ts = start;
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_check_txn_status(k.s[0], &q, &r), 0);
    assert_int_equal(r.status, MVCC_TXN_ROLLED_BACK);
    mvcc_result_reset(&r);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH_KIND(store_refuses_above_bound),
        TU_BOTH_KIND(one_pc_within_bound),
        TU_BOTH_KIND(one_pc_refused_goes_two_phase),
        TU_BOTH_KIND(check_refuses_rolls_back),
        TU_BOTH_KIND(async_primary_refused_goes_two_phase),
        TU_BOTH_KIND(async_secondary_refused_rolls_back),
    };
    return cmocka_run_group_tests_name("libmvcc/bound", tests, NULL, NULL);
}

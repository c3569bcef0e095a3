/* test_bound.c: commit deadlines (mvcc_txn_set_commit_deadline, the
 * prewrite's deadline_ms): a store refuses a 1PC or async prewrite past
 * the deadline writing nothing; a refused primary goes on in two phases,
 * a refused async secondary is sent again under a renewed deadline; a
 * two-phase commit past the deadline is renewed once every key is locked;
 * a failed renewal ends the commit, rolled back, and so does a ninth
 * refusal of an async secondary after eight renewals (DESIGN.md "Commit
 * deadline"); a renewal answering a deadline already past is asked again
 * (four times at most), and a two-phase commit with a check set asks it,
 * not renew. A transport that holds one shard's first prewrites back
 * plays the stalled request, and counts what each shard was sent.
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

#define K(x) (x), strlen(x)
#define FAR ((uint64_t)1 << 60) /* a deadline that never passes */

/* The renewal: counts its calls and answers rc with deadline to. */
struct check
{
    int calls;   /* how many */
    uint64_t to; /* the deadline it answers */
    int rc;      /* its answer */
};

static int check_fn(void *ctx, uint64_t *deadline_ms)
{
    struct check *ck = ctx;
    ck->calls++;
    *deadline_ms = ck->to;
    return ck->rc;
}

/* A renewal slower than what it vouched for: its first `past` answers
 * are a deadline long past (1), then FAR. */
struct slow
{
    int calls;   /* how many */
    int past;    /* late answers first */
};

static int slow_fn(void *ctx, uint64_t *deadline_ms)
{
    struct slow *sl = ctx;
    *deadline_ms = sl->calls++ < sl->past ? 1 : FAR;
    return 0;
}

/* The two-phase check (mvcc_txn_set_commit_check): counts its calls,
 * keeps the commit_ts it was shown, answers rc. */
struct proof
{
    int calls;   /* how many */
    mvcc_ts ts;  /* the last commit_ts shown */
    int rc;      /* its answer */
};

static int proof_fn(void *ctx, mvcc_ts commit_ts)
{
    struct proof *p = ctx;
    p->calls++;
    p->ts = commit_ts;
    return p->rc;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The in-process transport: the first `hold` prewrites to shard `slow`
 * that carry a deadline arrive late, either held until the deadline has
 * passed (wait) or sent with a deadline long past, as the store sees a
 * request that reached it after its deadline (no waiting, so the test
 * does not depend on how fast the machine is). Every prewrite is
 * counted per shard, and the store's refusals too. */
struct stall
{
    struct mvcc_transport in; /* the real one */
    int slow;                 /* shard to hold, -1 none */
    int hold;                 /* how many of its prewrites to hold */
    bool wait;                /* hold by waiting (else by an old deadline) */
    int held;                 /* prewrites held so far (atomic) */
    int sent[3];              /* prewrites per shard (atomic) */
    int refused[3];           /* of those, MVCC_COMMIT_DEADLINE answers */
};

static struct stall *the_stall; /* the transport's ctx is the real one's */

static int stall_prewrite(void *ctx, uint64_t shard,
                          const struct mvcc_prewrite_req *req,
                          struct mvcc_result *res)
{
    struct stall *st = the_stall;
    struct mvcc_prewrite_req late;
    if ((int)shard == st->slow && req->deadline_ms &&
        __atomic_fetch_add(&st->held, 1, __ATOMIC_ACQ_REL) < st->hold) {
        if (st->wait) {
            struct timespec d = {0, 2000000};
            while (wall_ms() <= req->deadline_ms)
                nanosleep(&d, NULL);
        } else {
            late = *req;
            late.deadline_ms = 1;
            req = &late;
        }
    }
    int rc = st->in.prewrite(ctx, shard, req, res);
    if (shard < 3) { /* the fixture has three */
        __atomic_fetch_add(&st->sent[shard], 1, __ATOMIC_ACQ_REL);
        if (rc == MVCC_COMMIT_DEADLINE)
            __atomic_fetch_add(&st->refused[shard], 1, __ATOMIC_ACQ_REL);
    }
    return rc;
}

/* Count afresh: hold the next n prewrites to the slow shard (by waiting
 * or not). */
static void stall_reset(struct stall *st, int hold, bool wait)
{
    st->hold = hold;
    st->wait = wait;
    st->held = 0;
    memset(st->sent, 0, sizeof st->sent);
    memset(st->refused, 0, sizeof st->refused);
}

/* The prewrites shards 0 and 2 were sent, and how many were refused. */
static void sent_is(const struct stall *st, int sent0, int refused0,
                    int sent2, int refused2)
{
    assert_int_equal(st->sent[0], sent0);
    assert_int_equal(st->refused[0], refused0);
    assert_int_equal(st->sent[2], sent2);
    assert_int_equal(st->refused[2], refused2);
}

static struct mvcc_client *client(struct tu_cluster *k, bool one_pc,
                                  bool async, struct stall *st, int slow)
{
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.one_pc = one_pc;
    o.async_commit = async;
    o.transport = k->tr;
    if (st) {
        st->in = k->tr;
        st->slow = slow;
        stall_reset(st, 1, true);
        the_stall = st;
        o.transport.prewrite = stall_prewrite;
    }
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

static void rolled_back(struct tu_cluster *k, const char *primary,
                        mvcc_ts start)
{
    struct mvcc_check_txn_req q;
    memset(&q, 0, sizeof q);
    q.primary = primary;
    q.primary_len = strlen(primary);
    q.lock_ts = start;
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_check_txn_status(k->s[0], &q, &r), 0);
    assert_int_equal(r.status, MVCC_TXN_ROLLED_BACK);
    mvcc_result_reset(&r);
}

/* The store: 1PC and async prewrites past the deadline are refused with
 * nothing written; a plain prewrite carries none to check; a resend whose
 * keys are written already answers what they hold. */
static void store_refuses_past_deadline(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct mvcc_store *s = k.s[0];
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
    req.deadline_ms = 1; /* long past */
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_prewrite(s, &req, &r), MVCC_COMMIT_DEADLINE);
    value_is(&k, 0, "a", MVCC_TS_MAX, NULL);
    no_locks(&k, 0);
    req.try_one_pc = false;
    req.use_async_commit = true;
    assert_int_equal(mvcc_prewrite(s, &req, &r), MVCC_COMMIT_DEADLINE);
    no_locks(&k, 0);
    req.deadline_ms = FAR;
    assert_int_equal(mvcc_prewrite(s, &req, &r), 0);
    mvcc_ts decided = r.min_commit_ts;
    assert_true(decided > 100);
    /* Resent after the deadline: its lock answers, nothing new. */
    req.deadline_ms = 1;
    assert_int_equal(mvcc_prewrite(s, &req, &r), 0);
    assert_int_equal(r.min_commit_ts, decided);
    /* A plain prewrite carries no deadline to check. */
    struct mvcc_mutation m2 = {MVCC_OP_PUT, "b", 1, "2", 1, false};
    req.mutations = &m2;
    req.primary = "b";
    req.start_ts = 200;
    req.use_async_commit = false;
    assert_int_equal(mvcc_prewrite(s, &req, &r), 0);
    mvcc_result_reset(&r);
    tu_cluster_close(&k);
}

/* Within the deadline 1PC commits and renew is never asked. */
static void one_pc_within_deadline(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct mvcc_client *c = client(&k, true, false, NULL, -1);
    struct check ck = {0, FAR, 0};
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_txn_set_commit_deadline(t, FAR, check_fn, &ck);
    tu_txn_set(t, "a", "1");
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_int_equal(ck.calls, 0);
    value_is(&k, 0, "a", cts, "1");
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* 1PC past the deadline, at the start or in the store (the request held
 * until it passed): two phases, whose commit is past it too and renewed
 * once. */
static void one_pc_late_goes_two_phase(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct stall st;
    struct mvcc_client *c = client(&k, true, false, &st, 0);
    for (int at_start = 0; at_start < 2; at_start++) {
        struct check ck = {0, FAR, 0};
        st.held = 0;
        struct mvcc_txn *t;
        assert_int_equal(mvcc_txn_begin(c, &t), 0);
        mvcc_txn_set_commit_deadline(t, at_start ? 1 : wall_ms() + 5,
                                     check_fn, &ck);
        tu_txn_set(t, at_start ? "b" : "a", "1");
        mvcc_ts cts = 0;
        assert_int_equal(mvcc_txn_commit(t, &cts), 0);
        assert_int_equal(ck.calls, 1); /* the two-phase renewal */
        value_is(&k, 0, at_start ? "b" : "a", cts - 1, NULL);
        value_is(&k, 0, at_start ? "b" : "a", cts, "1");
        no_locks(&k, 0);
    }
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* Two phases past the deadline: renewed and committed, even when the
 * renewal answers a deadline already past (the commit_ts was taken before
 * it vouched again); a renewal that fails, or none, ends the commit with
 * nothing left. */
static void two_phase_renews_or_rolls_back(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct mvcc_client *c = client(&k, false, false, NULL, -1);
    struct check ck = {0, FAR, 0};
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_txn_set_commit_deadline(t, 1, check_fn, &ck);
    tu_txn_set(t, "a", "1");
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_int_equal(ck.calls, 1);
    value_is(&k, 0, "a", cts, "1");
    /* Refused. */
    ck = (struct check){0, FAR, -ESTALE};
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_ts start = mvcc_txn_start_ts(t);
    mvcc_txn_set_commit_deadline(t, 1, check_fn, &ck);
    tu_txn_set(t, "b", "1");
    tu_txn_set(t, "z", "2");
    assert_int_equal(mvcc_txn_commit(t, NULL), -ESTALE);
    assert_int_equal(ck.calls, 1);
    value_is(&k, 0, "b", MVCC_TS_MAX, NULL);
    value_is(&k, 2, "z", MVCC_TS_MAX, NULL);
    no_locks(&k, 0);
    no_locks(&k, 2);
    rolled_back(&k, "b", start);
    /* A renewal whose own deadline is past already (a slow check): the
     * commit_ts was taken before it, so it is accepted all the same. */
    ck = (struct check){0, 1, 0};
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_txn_set_commit_deadline(t, 1, check_fn, &ck);
    tu_txn_set(t, "d", "1");
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_int_equal(ck.calls, 1);
    value_is(&k, 0, "d", cts, "1");
    /* Without renew the deadline alone refuses. */
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_txn_set_commit_deadline(t, 1, NULL, NULL);
    tu_txn_set(t, "c", "1");
    assert_int_equal(mvcc_txn_commit(t, NULL), MVCC_COMMIT_DEADLINE);
    value_is(&k, 0, "c", MVCC_TS_MAX, NULL);
    no_locks(&k, 0);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* An async commit of a = 1 (shard 0, the primary) and z = 2 (shard 2)
 * with a deadline (wall ms), through c whose transport holds one shard's
 * first prewrite past it: committed with one renewal, both keys at one
 * commit_ts, no lock left. */
static void async_pair_commits(struct tu_cluster *k, struct mvcc_client *c,
                               uint64_t deadline_ms)
{
    struct check ck = {0, FAR, 0};
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_txn_set_commit_deadline(t, deadline_ms, check_fn, &ck);
    tu_txn_set(t, "a", "1");
    tu_txn_set(t, "z", "2");
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_int_equal(ck.calls, 1);
    value_is(k, 0, "a", cts - 1, NULL);
    value_is(k, 2, "z", cts - 1, NULL);
    value_is(k, 0, "a", cts, "1");
    value_is(k, 2, "z", cts, "2");
    no_locks(k, 0);
    no_locks(k, 2);
}

/* An async commit of primary = 1 (shard 0) and secondary = 2 (shard 2)
 * under a deadline that never passes, renewed by ck, through c whose
 * transport makes the secondary's requests late: it ends with want,
 * nothing written, no lock left, the primary's record rolled back. */
static void async_pair_fails(struct tu_cluster *k, struct mvcc_client *c,
                             mvcc_commit_renew_fn renew, void *ck,
                             const char *primary, const char *secondary,
                             int want)
{
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_ts start = mvcc_txn_start_ts(t);
    mvcc_txn_set_commit_deadline(t, FAR, renew, ck);
    tu_txn_set(t, primary, "1");
    tu_txn_set(t, secondary, "2");
    assert_int_equal(mvcc_txn_commit(t, NULL), want);
    no_locks(k, 0);
    no_locks(k, 2);
    value_is(k, 0, primary, MVCC_TS_MAX, NULL);
    value_is(k, 2, secondary, MVCC_TS_MAX, NULL);
    rolled_back(k, primary, start);
}

/* Async commit whose primary's request is held past the deadline: no
 * async primary lock exists, so two phases (renewed once); both keys at
 * one commit_ts. */
static void async_primary_late_goes_two_phase(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct stall st;
    struct mvcc_client *c = client(&k, false, true, &st, 0);
    async_pair_commits(&k, c, wall_ms() + 5);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* Async commit whose secondary's request arrives past the deadline (its
 * primary, on time, written with the async flag): the secondary is sent
 * again under the renewed deadline, so the transaction commits at one
 * timestamp, still async (the primary was sent once). A renewal that
 * fails instead rolls everything back: the primary's record says rolled
 * back, so no late lock can make the transaction whole. */
static void async_secondary_late(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct stall st;
    struct mvcc_client *c = client(&k, false, true, &st, 2);
    stall_reset(&st, 1, false);
    async_pair_commits(&k, c, FAR);
    sent_is(&st, 1, 0, 2, 1);
    /* Refused. */
    struct check ck = {0, FAR, -ESTALE};
    stall_reset(&st, 1, false);
    async_pair_fails(&k, c, check_fn, &ck, "b", "y", -ESTALE);
    assert_int_equal(ck.calls, 1);
    sent_is(&st, 1, 0, 1, 1);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* An async secondary refused every time: each refusal is renewed and
 * sent again, eight renewals in all; the ninth refusal ends the commit
 * with MVCC_COMMIT_DEADLINE, everything rolled back. */
static void async_secondary_renewals_run_out(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct stall st;
    struct mvcc_client *c = client(&k, false, true, &st, 2);
    stall_reset(&st, 1000, false);
    struct check ck = {0, FAR, 0};
    async_pair_fails(&k, c, check_fn, &ck, "a", "z",
                     MVCC_COMMIT_DEADLINE);
    assert_int_equal(ck.calls, 8);
    sent_is(&st, 1, 0, 9, 9);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* A renewal for the late async secondary that answers a past deadline
 * (slower than what it vouched for) is asked again: two late answers,
 * then a good one, and the secondary is sent once more and commits
 * async; four late ones in a row end the commit, rolled back. (Until
 * session 9 the first late answer ended it: sqld's 8028 with no DDL.) */
static void async_secondary_slow_renewal(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct stall st;
    struct mvcc_client *c = client(&k, false, true, &st, 2);
    stall_reset(&st, 1, false);
    struct slow sl = {0, 2};
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_txn_set_commit_deadline(t, FAR, slow_fn, &sl);
    tu_txn_set(t, "a", "1");
    tu_txn_set(t, "z", "2");
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_int_equal(sl.calls, 3);
    sent_is(&st, 1, 0, 2, 1);
    value_is(&k, 0, "a", cts, "1");
    value_is(&k, 2, "z", cts, "2");
    no_locks(&k, 0);
    no_locks(&k, 2);
    sl = (struct slow){0, 1000};
    stall_reset(&st, 1, false);
    async_pair_fails(&k, c, slow_fn, &sl, "b", "y", MVCC_COMMIT_DEADLINE);
    assert_int_equal(sl.calls, 4);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* Two phases past the deadline with a check set: the check is shown the
 * commit_ts the keys then carry, renew is not asked; a check that
 * refuses ends the commit with its answer, nothing left. */
static void two_phase_asks_check(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct mvcc_client *c = client(&k, false, false, NULL, -1);
    struct check ck = {0, FAR, 0};
    struct proof pf = {0, 0, 0};
    for (int refuse = 0; refuse < 2; refuse++) {
        pf.rc = refuse ? MVCC_COMMIT_DEADLINE : 0;
        struct mvcc_txn *t;
        assert_int_equal(mvcc_txn_begin(c, &t), 0);
        mvcc_txn_set_commit_deadline(t, 1, check_fn, &ck);
        mvcc_txn_set_commit_check(t, proof_fn, &pf);
        tu_txn_set(t, refuse ? "b" : "a", "1");
        tu_txn_set(t, refuse ? "y" : "z", "2");
        mvcc_ts cts = 0;
        assert_int_equal(mvcc_txn_commit(t, &cts), pf.rc);
        assert_int_equal(pf.calls, refuse + 1);
        value_is(&k, 0, refuse ? "b" : "a", pf.ts, refuse ? NULL : "1");
        value_is(&k, 2, refuse ? "y" : "z", pf.ts, refuse ? NULL : "2");
        if (!refuse)
            assert_int_equal(pf.ts, cts);
    }
    assert_int_equal(ck.calls, 0);
    no_locks(&k, 0);
    no_locks(&k, 2);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH_KIND(store_refuses_past_deadline),
        TU_BOTH_KIND(one_pc_within_deadline),
        TU_BOTH_KIND(one_pc_late_goes_two_phase),
        TU_BOTH_KIND(two_phase_renews_or_rolls_back),
        TU_BOTH_KIND(async_primary_late_goes_two_phase),
        TU_BOTH_KIND(async_secondary_late),
        TU_BOTH_KIND(async_secondary_renewals_run_out),
        TU_BOTH_KIND(async_secondary_slow_renewal),
        TU_BOTH_KIND(two_phase_asks_check),
    };
    return cmocka_run_group_tests_name("libmvcc/bound", tests, NULL, NULL);
}

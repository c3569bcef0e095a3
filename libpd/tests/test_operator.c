/* test_operator.c: operators: each step kind checked off by heartbeats,
 * several steps done at once, one operator per region (merges hold both),
 * timeouts, cancellation, bad operators, and a new leader starting empty.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "pd_int.h"

static const uint64_t S12[] = {1, 2};
static const uint64_t S123[] = {1, 2, 3};

static void setup_fx(struct fx *fx, const struct pd_config *cfg)
{
    fx_init(fx, 2, cfg);
    fx_lead(fx, 0, 1000, 0);
    fx_bootstrap(fx, 0);
    struct pd_region_info r = fx_region(1, NULL, NULL, 2, 1, 1, 1, 2, S12);
    assert_int_equal(fx_hb(fx, 0, 0, &r), 0);
}

static struct pd_operator op1(uint64_t region, const char *desc)
{
    struct pd_operator op;
    memset(&op, 0, sizeof(op));
    op.region_id = region;
    strcpy(op.desc, desc);
    return op;
}

static void add_step(struct pd_operator *op, int kind, uint64_t store,
                     uint64_t peer)
{
    struct pd_step *s = &op->steps[op->n_steps++];
    s->kind = kind;
    s->store_id = store;
    s->peer_id = peer;
}

/* Heartbeat r; returns the step handed back. */
static struct pd_step hb(struct fx *fx, uint64_t mono,
                         const struct pd_region_info *r)
{
    struct pd_step st;
    assert_int_equal(pd_region_heartbeat(fx->pd[0], mono, r, &st), 0);
    fx_commit(fx);
    return st;
}

static void add_peer_until_done(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx, NULL);
    struct pd_operator op = op1(1, "add-peer");
    add_step(&op, PD_STEP_ADD_PEER, 3, 1003);
    assert_int_equal(pd_operator_add(fx.pd[1], 0, &op), PD_ENOTLEADER);
    assert_int_equal(pd_operator_add(fx.pd[0], 5, &op), 0);
    struct pd_operator got;
    assert_int_equal(pd_operator_get(fx.pd[0], 1, &got), 0);
    assert_int_equal(got.created_ms, 5);
    assert_int_equal(got.conf_ver, 2);
    assert_int_equal(got.status, PD_OP_RUNNING);
    struct pd_region_info r = fx_region(1, NULL, NULL, 2, 1, 1, 1, 2, S12);
    struct pd_step st = hb(&fx, 6, &r);
    assert_int_equal(st.kind, PD_STEP_ADD_PEER);
    assert_int_equal(st.store_id, 3);
    assert_int_equal(st.peer_id, 1003);
    /* Same again until kvd reports it done. */
    st = hb(&fx, 7, &r);
    assert_int_equal(st.kind, PD_STEP_ADD_PEER);
    r = fx_region(1, NULL, NULL, 3, 1, 1, 1, 3, S123);
    st = hb(&fx, 8, &r);
    assert_int_equal(st.kind, PD_STEP_NONE);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    struct pd_operator_stats stats;
    pd_operator_stats(fx.pd[0], &stats);
    assert_int_equal(stats.added, 1);
    assert_int_equal(stats.succeeded, 1);
    fx_fini(&fx);
}

static void move_peer_step_by_step(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx, NULL);
    struct pd_region_info r = fx_region(1, NULL, NULL, 3, 1, 1, 1, 3, S123);
    hb(&fx, 0, &r);
    /* Move the leader's replica from store 1 to store 4. */
    struct pd_operator op = op1(1, "move");
    add_step(&op, PD_STEP_ADD_LEARNER, 4, 1004);
    add_step(&op, PD_STEP_PROMOTE_LEARNER, 4, 1004);
    add_step(&op, PD_STEP_TRANSFER_LEADER, 4, 0);
    add_step(&op, PD_STEP_REMOVE_PEER, 1, 0);
    assert_int_equal(pd_operator_add(fx.pd[0], 0, &op), 0);
    assert_int_equal(hb(&fx, 1, &r).kind, PD_STEP_ADD_LEARNER);
    uint64_t s1234[] = {1, 2, 3, 4};
    struct pd_region_info r2 = fx_region(1, NULL, NULL, 4, 1, 1, 1, 4, s1234);
    r2.region.peers[3].learner = true;
    assert_int_equal(hb(&fx, 2, &r2).kind, PD_STEP_PROMOTE_LEARNER);
    r2.region.peers[3].learner = false;
    r2.region.conf_ver = 5;
    struct pd_step st = hb(&fx, 3, &r2);
    assert_int_equal(st.kind, PD_STEP_TRANSFER_LEADER);
    assert_int_equal(st.store_id, 4);
    /* kvd did the transfer and the removal between two heartbeats: both
     * steps are checked off at once. */
    uint64_t s234[] = {2, 3, 4};
    struct pd_region_info r3 = fx_region(1, NULL, NULL, 6, 1, 4, 1, 3, s234);
    assert_int_equal(hb(&fx, 4, &r3).kind, PD_STEP_NONE);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    fx_fini(&fx);
}

static void transfer_leader_and_split(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx, NULL);
    struct pd_operator op = op1(1, "transfer-leader");
    add_step(&op, PD_STEP_TRANSFER_LEADER, 2, 0);
    assert_int_equal(pd_operator_add(fx.pd[0], 0, &op), 0);
    struct pd_region_info r = fx_region(1, NULL, NULL, 2, 1, 1, 1, 2, S12);
    assert_int_equal(hb(&fx, 1, &r).kind, PD_STEP_TRANSFER_LEADER);
    r.leader_peer_id = 1002;
    assert_int_equal(hb(&fx, 2, &r).kind, PD_STEP_NONE);
    op = op1(1, "split");
    add_step(&op, PD_STEP_SPLIT, 0, 0);
    assert_int_equal(pd_operator_add(fx.pd[0], 3, &op), 0);
    assert_int_equal(hb(&fx, 4, &r).kind, PD_STEP_SPLIT);
    struct pd_region_info left = fx_region(1, NULL, "m", 2, 2, 2, 1, 2, S12);
    assert_int_equal(hb(&fx, 5, &left).kind, PD_STEP_NONE);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    fx_fini(&fx);
}

static void merge_holds_both_regions(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx, NULL);
    struct pd_region_info left = fx_region(1, NULL, "m", 2, 2, 1, 1, 2, S12);
    struct pd_region_info right = fx_region(2, "m", NULL, 2, 2, 1, 1, 2, S12);
    struct pd_region_info far = fx_region(3, "x", NULL, 2, 3, 1, 1, 2, S12);
    hb(&fx, 0, &left);
    hb(&fx, 0, &right);
    struct pd_operator op = op1(1, "merge");
    op.n_steps = 1;
    op.steps[0].kind = PD_STEP_MERGE;
    op.steps[0].target_region_id = 2;
    assert_int_equal(pd_operator_add(fx.pd[0], 0, &op), 0);
    struct pd_operator other = op1(2, "transfer-leader");
    add_step(&other, PD_STEP_TRANSFER_LEADER, 2, 0);
    assert_int_equal(pd_operator_add(fx.pd[0], 0, &other), PD_EBUSY);
    struct pd_step st = hb(&fx, 1, &left);
    assert_int_equal(st.kind, PD_STEP_MERGE);
    assert_int_equal(st.target_region_id, 2);
    /* kvd's prepare bumps the source's version: the operator stays */
    struct pd_region_info prepared = fx_region(1, NULL, "m", 2, 3, 1, 1, 2,
                                               S12);
    st = hb(&fx, 1, &prepared);
    assert_int_equal(st.kind, PD_STEP_MERGE);
    assert_int_equal(pd_operator_count(fx.pd[0]), 1);
    /* Region 2 reports the union (libregion: version max + 1): region 1
     * leaves the map, merged. */
    struct pd_region_info all = fx_region(2, NULL, NULL, 2, 4, 1, 2, 2, S12);
    assert_int_equal(hb(&fx, 2, &all).kind, PD_STEP_NONE);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    struct pd_operator_stats stats;
    pd_operator_stats(fx.pd[0], &stats);
    assert_int_equal(stats.succeeded, 1);
    /* Merging with a region that is not a neighbour is refused. */
    right = fx_region(2, NULL, "p", 2, 4, 1, 1, 2, S12);
    hb(&fx, 3, &right);
    hb(&fx, 3, &far);
    op = op1(2, "merge");
    op.n_steps = 1;
    op.steps[0].kind = PD_STEP_MERGE;
    op.steps[0].target_region_id = 3;
    assert_int_equal(pd_operator_add(fx.pd[0], 0, &op), -EINVAL);
    fx_fini(&fx);
}

static void timeouts_and_cancels(void **state)
{
    (void)state;
    struct pd_config cfg;
    pd_config_default(&cfg);
    cfg.operator_timeout_ms = 100;
    struct fx fx;
    setup_fx(&fx, &cfg);
    struct pd_operator op = op1(1, "add-peer");
    add_step(&op, PD_STEP_ADD_PEER, 3, 1003);
    assert_int_equal(pd_operator_add(fx.pd[0], 1000, &op), 0);
    assert_int_equal(pd_operator_add(fx.pd[0], 1000, &op), PD_EBUSY);
    pd_operators_tick(fx.pd[0], 1100);
    assert_int_equal(pd_operator_count(fx.pd[0]), 1);
    pd_operators_tick(fx.pd[0], 1101);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    /* Timed out at a heartbeat too: no step handed out then. */
    assert_int_equal(pd_operator_add(fx.pd[0], 2000, &op), 0);
    struct pd_region_info r = fx_region(1, NULL, NULL, 2, 1, 1, 1, 2, S12);
    assert_int_equal(hb(&fx, 2050, &r).kind, PD_STEP_ADD_PEER);
    assert_int_equal(hb(&fx, 2101, &r).kind, PD_STEP_NONE);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    /* Removal cancels. */
    assert_int_equal(pd_operator_add(fx.pd[0], 3000, &op), 0);
    assert_int_equal(pd_operator_remove(fx.pd[0], 1), 0);
    assert_int_equal(pd_operator_remove(fx.pd[0], 1), PD_ENOTFOUND);
    struct pd_operator got;
    assert_int_equal(pd_operator_get(fx.pd[0], 1, &got), PD_ENOTFOUND);
    /* A region swallowed by a merge nobody ordered: canceled. */
    struct pd_region_info left = fx_region(1, NULL, "m", 2, 2, 1, 1, 2, S12);
    struct pd_region_info right = fx_region(2, "m", NULL, 2, 2, 1, 1, 2, S12);
    hb(&fx, 3000, &left);
    hb(&fx, 3000, &right);
    assert_int_equal(pd_operator_add(fx.pd[0], 3000, &op), 0);
    struct pd_region_info all = fx_region(2, NULL, NULL, 2, 3, 1, 2, 2, S12);
    hb(&fx, 3001, &all);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    /* A split nobody ordered: the plan was for another range. */
    left = fx_region(2, NULL, "m", 2, 4, 1, 1, 2, S12);
    hb(&fx, 3002, &all);
    assert_int_equal(pd_operator_add(fx.pd[0], 3002, &op), PD_ENOTFOUND);
    struct pd_operator op2 = op1(2, "add-peer");
    add_step(&op2, PD_STEP_ADD_PEER, 3, 2003);
    assert_int_equal(pd_operator_add(fx.pd[0], 3002, &op2), 0);
    assert_int_equal(hb(&fx, 3003, &all).kind, PD_STEP_ADD_PEER);
    assert_int_equal(hb(&fx, 3004, &left).kind, PD_STEP_NONE);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    struct pd_operator_stats stats;
    pd_operator_stats(fx.pd[0], &stats);
    assert_int_equal(stats.added, 5);
    assert_int_equal(stats.timed_out, 2);
    assert_int_equal(stats.canceled, 3);
    assert_int_equal(stats.succeeded, 0);
    fx_fini(&fx);
}

static void bad_operators_and_new_leaders(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx, NULL);
    struct pd *pd = fx.pd[0];
    struct pd_operator op = op1(9, "x");
    add_step(&op, PD_STEP_ADD_PEER, 3, 1003);
    assert_int_equal(pd_operator_add(pd, 0, &op), PD_ENOTFOUND);
    op = op1(1, "x");
    assert_int_equal(pd_operator_add(pd, 0, &op), -EINVAL); /* no steps */
    add_step(&op, PD_STEP_ADD_PEER, 3, 0);
    assert_int_equal(pd_operator_add(pd, 0, &op), -EINVAL);
    op = op1(1, "x");
    add_step(&op, 42, 3, 1);
    assert_int_equal(pd_operator_add(pd, 0, &op), -EINVAL);
    op = op1(1, "x");
    add_step(&op, PD_STEP_REMOVE_PEER, 0, 0);
    assert_int_equal(pd_operator_add(pd, 0, &op), -EINVAL);
    op = op1(1, "x");
    op.n_steps = PD_MAX_STEPS + 1;
    assert_int_equal(pd_operator_add(pd, 0, &op), -EINVAL);
    assert_int_equal(pd_operator_add(pd, 0, NULL), -EINVAL);
    op = op1(1, "x");
    add_step(&op, PD_STEP_REMOVE_PEER, 2, 0);
    assert_int_equal(pd_operator_add(pd, 0, &op), 0);
    assert_int_equal(pd_operator_at(pd, 0, &op), 0);
    assert_string_equal(op.desc, "x");
    assert_int_equal(pd_operator_at(pd, 1, &op), PD_ENOTFOUND);
    /* Operators are leader memory. */
    pd_become_follower(pd);
    assert_int_equal(pd_operator_count(pd), 0);
    assert_int_equal(pd_become_leader(fx.pd[1], 1000, 0), 0);
    assert_int_equal(pd_operator_count(fx.pd[1]), 0);
    fx_fini(&fx);
}

static char logbuf[2048];

static void logger(void *ctx, int level, const char *msg)
{
    (void)ctx;
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof(logbuf) - n, "%d %s\n", level, msg);
}

static void lifecycle_is_logged(void **state)
{
    (void)state;
    struct pd_config cfg;
    pd_config_default(&cfg);
    cfg.logger = logger;
    cfg.operator_timeout_ms = 100;
    struct fx fx;
    setup_fx(&fx, &cfg);
    logbuf[0] = '\0';
    struct pd_operator op = op1(1, "add-peer");
    add_step(&op, PD_STEP_ADD_PEER, 3, 1003);
    assert_int_equal(pd_operator_add(fx.pd[0], 0, &op), 0);
    pd_operators_tick(fx.pd[0], 101);
    struct pd_region_info old = fx_region(1, NULL, NULL, 1, 1, 1, 1, 2, S12);
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 0, &old, NULL), PD_ESTALE);
    pd_become_follower(fx.pd[0]);
    assert_string_equal(logbuf,
                        "1 operator add-peer on region 1 added, 1 steps\n"
                        "2 operator add-peer on region 1 timed out after 0 of "
                        "1 steps\n"
                        "1 follower: 0 operators dropped\n");
    /* Debug messages when asked for. */
    fx.pd[0]->cfg.log_level = PD_LOG_DEBUG;
    logbuf[0] = '\0';
    assert_int_equal(pd_become_leader(fx.pd[0], 5000, 0), 0);
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 0, &old, NULL), PD_ESTALE);
    assert_string_equal(logbuf,
                        "1 leader: tso resumes above 4000, ids above 1000\n"
                        "0 stale heartbeat of region 1\n");
    fx_fini(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_peer_until_done),
        cmocka_unit_test(move_peer_step_by_step),
        cmocka_unit_test(transfer_leader_and_split),
        cmocka_unit_test(merge_holds_both_regions),
        cmocka_unit_test(timeouts_and_cancels),
        cmocka_unit_test(bad_operators_and_new_leaders),
        cmocka_unit_test(lifecycle_is_logged),
    };
    return cmocka_run_group_tests_name("libpd/operator", tests, NULL, NULL);
}

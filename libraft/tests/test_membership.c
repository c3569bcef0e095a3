/* test_membership.c: configuration changes (thesis chapter 4): single
 * add/remove, joint consensus entered and left automatically or
 * explicitly, learners and their promotion, removing the leader, one change
 * at a time; and leadership transfer (thesis 3.10).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "sim.h"

static struct raft_status status(struct raft_node *n)
{
    struct raft_status st;
    raft_node_status(n, &st);
    return st;
}

static void start(struct sim *s, int voters, int learners, int spare)
{
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = voters;
    o.n_learners = learners;
    o.n_spare = spare;
    o.seed = 21;
    sim_init(s, &o);
    raft_node_campaign(sim_node(s, 1));
    sim_settle(s);
    assert_int_equal(sim_leader(s), 1);
}

static void run(struct sim *s, raft_id lead, int ticks)
{
    for (int i = 0; i < ticks; i++) {
        sim_tick(s, lead);
        sim_settle(s);
    }
}

static struct raft_conf_change change(uint32_t tr, int n, const uint32_t *types,
                                      const raft_id *ids)
{
    struct raft_conf_change cc;
    memset(&cc, 0, sizeof(cc));
    cc.transition = tr;
    cc.n_changes = (uint32_t)n;
    for (int i = 0; i < n; i++) {
        cc.changes[i].type = types[i];
        cc.changes[i].id = ids[i];
    }
    return cc;
}

static bool has(const raft_id *ids, uint8_t n, raft_id id)
{
    for (uint8_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* Adding a voter: it catches up, and the quorum grows to 3 of 4. */
static void add_voter(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 1);
    uint32_t t[] = {RAFT_CHANGE_ADD_VOTER};
    raft_id id[] = {4};
    struct raft_conf_change cc = change(RAFT_TRANSITION_AUTO, 1, t, id);
    raft_index idx;
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, &idx),
                     0);
    assert_int_equal(idx, 3);
    run(&s, 1, 5);
    for (raft_id i = 1; i <= 4; i++) {
        struct raft_status st = status(sim_node(&s, i));
        assert_int_equal(st.conf.n_voters, 4);
        assert_int_equal(st.conf.n_voters_outgoing, 0);
        assert_true(has(st.conf.voters, st.conf.n_voters, 4));
        assert_int_equal(st.commit, 3);
    }
    /* Two of four is no longer a quorum. */
    sim_isolate(&s, 3);
    sim_isolate(&s, 4);
    raft_node_propose(sim_node(&s, 1), "x", 1, NULL);
    run(&s, 1, 3);
    assert_int_equal(status(sim_node(&s, 1)).commit, 3);
    sim_heal(&s);
    run(&s, 1, 3);
    assert_int_equal(status(sim_node(&s, 1)).commit, 4);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* Removing a follower: the rest commit without it. */
static void remove_follower(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 0);
    uint32_t t[] = {RAFT_CHANGE_REMOVE};
    raft_id id[] = {3};
    struct raft_conf_change cc = change(RAFT_TRANSITION_AUTO, 1, t, id);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, NULL),
                     0);
    run(&s, 1, 3);
    struct raft_status st = status(sim_node(&s, 1));
    assert_int_equal(st.conf.n_voters, 2);
    assert_false(has(st.conf.voters, 2, 3));
    assert_int_equal(st.n_peers, 2);
    sim_isolate(&s, 3);
    raft_node_propose(sim_node(&s, 1), "y", 1, NULL);
    run(&s, 1, 2);
    assert_int_equal(status(sim_node(&s, 1)).commit, 4);
    sim_close(&s);
}

/* Replacing a voter is two voter changes: it goes through a joint
 * configuration, which the leader leaves by itself. */
static void joint_swap_auto_leave(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 1);
    uint32_t t[] = {RAFT_CHANGE_ADD_VOTER, RAFT_CHANGE_REMOVE};
    raft_id id[] = {4, 3};
    struct raft_conf_change cc = change(RAFT_TRANSITION_AUTO, 2, t, id);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, NULL),
                     0);
    /* Apply the joint entry only. */
    run(&s, 1, 1);
    run(&s, 1, 5);
    for (raft_id i = 1; i <= 2; i++) {
        struct raft_status st = status(sim_node(&s, i));
        assert_int_equal(st.conf.n_voters_outgoing, 0);
        assert_int_equal(st.conf.n_voters, 3);
        assert_true(has(st.conf.voters, 3, 4));
        assert_false(has(st.conf.voters, 3, 3));
        assert_int_equal(st.commit, 4); /* empty, joint, leave */
    }
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* While joint, decisions need both majorities. */
static void joint_needs_both_majorities(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 2);
    uint32_t t[] = {RAFT_CHANGE_ADD_VOTER, RAFT_CHANGE_ADD_VOTER,
                    RAFT_CHANGE_REMOVE, RAFT_CHANGE_REMOVE};
    raft_id id[] = {4, 5, 2, 3};
    struct raft_conf_change cc =
        change(RAFT_TRANSITION_JOINT_EXPLICIT, 4, t, id);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, NULL),
                     0);
    run(&s, 1, 5);
    struct raft_status st = status(sim_node(&s, 1));
    assert_int_equal(st.conf.n_voters_outgoing, 3); /* explicit: stays */
    assert_int_equal(st.conf.n_voters, 3);          /* {1,4,5} */
    /* Old side {1,2,3} without 2,3: no majority there, no commit. */
    sim_isolate(&s, 2);
    sim_isolate(&s, 3);
    raft_index c0 = st.commit;
    raft_node_propose(sim_node(&s, 1), "z", 1, NULL);
    run(&s, 1, 3);
    assert_int_equal(status(sim_node(&s, 1)).commit, c0);
    sim_heal(&s);
    run(&s, 1, 3);
    assert_int_equal(status(sim_node(&s, 1)).commit, c0 + 1);
    /* Leave explicitly. */
    struct raft_conf_change leave = change(RAFT_TRANSITION_AUTO, 0, t, id);
    assert_int_equal(
        raft_node_propose_conf_change(sim_node(&s, 1), &leave, NULL), 0);
    run(&s, 1, 3);
    st = status(sim_node(&s, 1));
    assert_int_equal(st.conf.n_voters_outgoing, 0);
    assert_true(has(st.conf.voters, 3, 5));
    /* Now the old members do not matter. */
    sim_isolate(&s, 2);
    sim_isolate(&s, 3);
    raft_node_propose(sim_node(&s, 1), "w", 1, NULL);
    run(&s, 1, 3);
    assert_int_equal(status(sim_node(&s, 1)).commit, st.commit + 1);
    sim_close(&s);
}

/* While joint, an election needs both majorities too. */
static void joint_election_needs_both(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 2);
    uint32_t t[] = {RAFT_CHANGE_ADD_VOTER, RAFT_CHANGE_ADD_VOTER,
                    RAFT_CHANGE_REMOVE, RAFT_CHANGE_REMOVE};
    raft_id id[] = {4, 5, 2, 3};
    struct raft_conf_change cc =
        change(RAFT_TRANSITION_JOINT_EXPLICIT, 4, t, id);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, NULL),
                     0);
    run(&s, 1, 5);
    assert_int_equal(status(sim_node(&s, 4)).conf.n_voters_outgoing, 3);
    /* Leader gone; 4 and 5 (a new majority {1,4,5} without 1) cannot win
     * without a majority of the old side {1,2,3}. */
    sim_crash(&s, 1);
    sim_isolate(&s, 2);
    sim_isolate(&s, 3);
    raft_node_campaign(sim_node(&s, 4));
    sim_settle(&s);
    assert_int_equal(status(sim_node(&s, 4)).role, RAFT_CANDIDATE);
    assert_int_equal(sim_leader(&s), 0);
    /* With 2 and 3 back the old side has its majority too: it wins. */
    sim_heal(&s);
    sim_isolate(&s, 1);
    raft_node_campaign(sim_node(&s, 4));
    sim_settle(&s);
    assert_int_equal(sim_leader(&s), 4);
    sim_close(&s);
}

/* Demoting a voter in a joint change makes it a learner only on leaving. */
static void demotion_through_learners_next(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 1);
    uint32_t t[] = {RAFT_CHANGE_ADD_VOTER, RAFT_CHANGE_ADD_LEARNER};
    raft_id id[] = {4, 3};
    struct raft_conf_change cc =
        change(RAFT_TRANSITION_JOINT_EXPLICIT, 2, t, id);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, NULL),
                     0);
    run(&s, 1, 5);
    struct raft_status st = status(sim_node(&s, 1));
    assert_int_equal(st.conf.n_learners_next, 1);
    assert_int_equal(st.conf.learners_next[0], 3);
    assert_int_equal(st.conf.n_learners, 0);
    assert_true(has(st.conf.voters_outgoing, st.conf.n_voters_outgoing, 3));
    struct raft_conf_change leave = change(RAFT_TRANSITION_AUTO, 0, t, id);
    assert_int_equal(
        raft_node_propose_conf_change(sim_node(&s, 1), &leave, NULL), 0);
    run(&s, 1, 5);
    st = status(sim_node(&s, 1));
    assert_int_equal(st.conf.n_learners_next, 0);
    assert_int_equal(st.conf.n_learners, 1);
    assert_int_equal(st.conf.learners[0], 3);
    assert_int_equal(st.conf.n_voters, 3); /* 1, 2, 4 */
    assert_false(has(st.conf.voters, 3, 3));
    sim_close(&s);
}

/* A learner gets the log but does not count; once promoted it does. */
static void learner_then_promotion(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 1);
    uint32_t t[] = {RAFT_CHANGE_ADD_LEARNER};
    raft_id id[] = {4};
    struct raft_conf_change cc = change(RAFT_TRANSITION_AUTO, 1, t, id);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, NULL),
                     0);
    run(&s, 1, 4);
    struct raft_status st = status(sim_node(&s, 1));
    assert_int_equal(st.conf.n_learners, 1);
    assert_int_equal(st.conf.n_voters, 3);
    assert_int_equal(status(sim_node(&s, 4)).commit, 3);
    sim_isolate(&s, 2);
    sim_isolate(&s, 3);
    raft_node_propose(sim_node(&s, 1), "l", 1, NULL);
    run(&s, 1, 3);
    assert_int_equal(status(sim_node(&s, 1)).commit, 3); /* 1+learner: no */
    assert_int_equal(status(sim_node(&s, 4)).last_index, 4);
    sim_heal(&s);
    run(&s, 1, 3);
    t[0] = RAFT_CHANGE_ADD_VOTER;
    cc = change(RAFT_TRANSITION_AUTO, 1, t, id);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, NULL),
                     0);
    run(&s, 1, 3);
    st = status(sim_node(&s, 1));
    assert_int_equal(st.conf.n_learners, 0);
    assert_int_equal(st.conf.n_voters, 4);
    sim_close(&s);
}

/* A leader removed from the configuration steps down; the others elect a
 * new leader. */
static void removed_leader_steps_down(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 0);
    uint32_t t[] = {RAFT_CHANGE_REMOVE};
    raft_id id[] = {1};
    struct raft_conf_change cc = change(RAFT_TRANSITION_AUTO, 1, t, id);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, NULL),
                     0);
    sim_settle(&s);
    /* Applied at the leader: it keeps leading (without counting itself,
     * taking no proposals) until a quorum of the new configuration reports
     * the change committed. */
    assert_int_equal(status(sim_node(&s, 1)).conf.n_voters, 2);
    assert_int_equal(status(sim_node(&s, 1)).role, RAFT_LEADER);
    assert_int_equal(raft_node_propose(sim_node(&s, 1), "r", 1, NULL),
                     RAFT_EDROPPED);
    run(&s, 1, 2);
    assert_int_equal(status(sim_node(&s, 2)).conf.n_voters, 2);
    assert_int_equal(status(sim_node(&s, 3)).conf.n_voters, 2);
    assert_int_not_equal(status(sim_node(&s, 1)).role, RAFT_LEADER);
    /* It handed over (TIMEOUT_NOW) as it stepped down: a voter of the new
     * configuration leads already, without an election timeout. */
    assert_int_equal(s.sent[2][RAFT_MSG_TIMEOUT_NOW] +
                         s.sent[3][RAFT_MSG_TIMEOUT_NOW],
                     1);
    raft_id l = sim_leader(&s);
    assert_true(l == 2 || l == 3);
    assert_int_equal(status(sim_node(&s, l)).conf.n_voters, 2);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* One change at a time; invalid changes are refused up front. */
static void one_change_at_a_time(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 2);
    uint32_t t[] = {RAFT_CHANGE_ADD_VOTER};
    raft_id id[] = {4};
    struct raft_conf_change cc = change(RAFT_TRANSITION_AUTO, 1, t, id);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, NULL),
                     0);
    id[0] = 5;
    cc = change(RAFT_TRANSITION_AUTO, 1, t, id);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, NULL),
                     RAFT_ECONFPENDING);
    run(&s, 1, 3);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, NULL),
                     0);
    run(&s, 1, 3);
    /* Leaving a joint state that does not exist, or removing every voter. */
    struct raft_conf_change leave = change(RAFT_TRANSITION_AUTO, 0, t, id);
    assert_int_equal(
        raft_node_propose_conf_change(sim_node(&s, 1), &leave, NULL),
        RAFT_ECONF);
    uint32_t rt[] = {RAFT_CHANGE_REMOVE, RAFT_CHANGE_REMOVE, RAFT_CHANGE_REMOVE,
                     RAFT_CHANGE_REMOVE, RAFT_CHANGE_REMOVE};
    raft_id rid[] = {1, 2, 3, 4, 5};
    struct raft_conf_change all = change(RAFT_TRANSITION_AUTO, 5, rt, rid);
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &all, NULL),
                     RAFT_ECONF);
    sim_close(&s);
}

/* Leadership transfer to an up-to-date follower: it campaigns at once. */
static void transfer_leadership(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 0);
    raft_term t0 = status(sim_node(&s, 1)).term;
    assert_int_equal(raft_node_transfer_leader(sim_node(&s, 1), 3), 0);
    assert_int_equal(status(sim_node(&s, 1)).transferee, 3);
    assert_int_equal(raft_node_propose(sim_node(&s, 1), "n", 1, NULL),
                     RAFT_EDROPPED);
    sim_settle(&s);
    assert_int_equal(sim_leader(&s), 3);
    assert_int_equal(status(sim_node(&s, 3)).term, t0 + 1);
    assert_int_equal(status(sim_node(&s, 1)).leader, 3);
    sim_close(&s);
}

/* A lagging transferee is caught up first; a follower can ask too. */
static void transfer_to_lagging_via_follower(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 0);
    sim_isolate(&s, 3);
    for (int i = 0; i < 5; i++)
        raft_node_propose(sim_node(&s, 1), "m", 1, NULL);
    sim_settle(&s);
    sim_heal(&s);
    assert_int_equal(raft_node_transfer_leader(sim_node(&s, 2), 3), 0);
    sim_settle(&s);
    sim_tick(&s, 1);
    sim_settle(&s);
    sim_tick(&s, 1);
    sim_settle(&s);
    assert_int_equal(sim_leader(&s), 3);
    assert_int_equal(status(sim_node(&s, 3)).commit, 8);
    sim_close(&s);
}

/* The hazard of DESIGN.md "Membership": leader 1 of {1,2} removes itself;
 * the change commits, but 2 never hears the commit, and 1 (with a longer
 * log: one more entry) crashes. After the restart 1 may not campaign (its
 * configuration is {2}) and refuses 2 its vote (shorter log); 2 still
 * needs 1's vote under {1,2}. 1's vote response carries its commit index,
 * so 2 learns the change committed, applies it and wins alone. */
static void removed_leader_with_longer_log_lets_others_elect(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 2, 0, 0);
    uint32_t t[] = {RAFT_CHANGE_REMOVE};
    raft_id ids[] = {1};
    struct raft_conf_change cc = change(RAFT_TRANSITION_AUTO, 1, t, ids);
    raft_index ci = 0;
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, &ci),
                     0);
    sim_process_ready(&s, 1); /* append of ci goes out */
    sim_deliver_all(&s);
    sim_process_ready(&s, 2); /* 2 holds ci and answers */
    sim_deliver_all(&s);      /* ci commits at 1 */
    assert_int_equal(raft_node_propose(sim_node(&s, 1), "x", 1, NULL), 0);
    sim_cut(&s, 1, 2);        /* neither the commit nor ci + 1 arrive */
    sim_process_ready(&s, 1); /* 1 applies the removal */
    sim_process_ready(&s, 1);
    struct raft_status st1 = status(sim_node(&s, 1));
    assert_int_equal(st1.commit, ci);
    assert_int_equal(st1.applied, ci);
    assert_int_equal(st1.last_index, ci + 1);
    assert_int_equal(st1.conf.n_voters, 1);
    assert_int_equal(st1.conf.voters[0], 2);
    struct raft_status st2 = status(sim_node(&s, 2));
    assert_true(st2.commit < ci);
    assert_int_equal(st2.last_index, ci);
    sim_drop_all(&s);
    sim_crash(&s, 1);
    sim_restart(&s, 1);
    sim_heal(&s);
    raft_id l = 0;
    for (int i = 0; i < 200 && l == 0; i++) {
        sim_round(&s);
        l = sim_leader(&s);
    }
    assert_int_equal(l, 2);
    for (int i = 0; i < 5; i++)
        sim_round(&s);
    st2 = status(sim_node(&s, 2));
    assert_int_equal(st2.conf.n_voters, 1);
    assert_int_equal(st2.commit, ci + 1); /* its own entry replaced x */
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* Leader 1 of {1,2,3} removes itself; the change commits (2 holds it) and
 * 1 crashes for good before anyone heard of the commit. 2 and 3 are a
 * majority of the old configuration: they elect, commit the change in
 * the new term and end up as {2,3}. */
static void removed_leader_gone_others_elect(void **state)
{
    (void)state;
    struct sim s;
    start(&s, 3, 0, 0);
    uint32_t t[] = {RAFT_CHANGE_REMOVE};
    raft_id ids[] = {1};
    struct raft_conf_change cc = change(RAFT_TRANSITION_AUTO, 1, t, ids);
    raft_index ci = 0;
    assert_int_equal(raft_node_propose_conf_change(sim_node(&s, 1), &cc, &ci),
                     0);
    sim_cut(&s, 1, 3);        /* 3 never gets the change from 1 */
    sim_process_ready(&s, 1);
    sim_deliver_all(&s);
    sim_process_ready(&s, 2); /* 2 holds ci and answers */
    sim_deliver_all(&s);      /* ci commits at 1 */
    assert_int_equal(status(sim_node(&s, 1)).commit, ci);
    assert_true(status(sim_node(&s, 2)).commit < ci);
    sim_drop_all(&s);
    sim_crash(&s, 1);
    sim_heal(&s);
    raft_id l = 0;
    for (int i = 0; i < 200 && l == 0; i++) {
        sim_round(&s);
        l = sim_leader(&s);
    }
    assert_int_equal(l, 2); /* 3 lacks ci: only 2 can win */
    for (int i = 0; i < 10; i++)
        sim_round(&s);
    for (raft_id i = 2; i <= 3; i++) {
        struct raft_status st = status(sim_node(&s, i));
        assert_true(st.applied > ci);
        assert_int_equal(st.conf.n_voters, 2);
        assert_false(has(st.conf.voters, st.conf.n_voters, 1));
    }
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_voter),
        cmocka_unit_test(remove_follower),
        cmocka_unit_test(joint_swap_auto_leave),
        cmocka_unit_test(joint_needs_both_majorities),
        cmocka_unit_test(joint_election_needs_both),
        cmocka_unit_test(demotion_through_learners_next),
        cmocka_unit_test(learner_then_promotion),
        cmocka_unit_test(removed_leader_steps_down),
        cmocka_unit_test(removed_leader_with_longer_log_lets_others_elect),
        cmocka_unit_test(removed_leader_gone_others_elect),
        cmocka_unit_test(one_change_at_a_time),
        cmocka_unit_test(transfer_leadership),
        cmocka_unit_test(transfer_to_lagging_via_follower),
    };
    return cmocka_run_group_tests_name("libraft/membership", tests, NULL,
                                       NULL);
}

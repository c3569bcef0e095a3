/* test_election.c: leader election, one rule per test: Raft paper 5.1-5.2
 * and 5.4.1, PreVote (thesis 9.6) and CheckQuorum (thesis 6.2).
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

static void quiet_sim(struct sim *s, int voters, bool pre_vote, bool cq)
{
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = voters;
    o.pre_vote = pre_vote;
    o.check_quorum = cq;
    o.seed = 7;
    sim_init(s, &o);
}

/* 5.2: a follower that hears nothing for an election timeout becomes a
 * candidate, increments its term and votes for itself. */
static void follower_times_out_into_candidate(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 1, 3, false, false);
    assert_int_equal(status(t.n).role, RAFT_FOLLOWER);
    for (int i = 0; i < 9; i++)
        assert_int_equal(raft_node_tick(t.n), 0);
    assert_int_equal(status(t.n).role, RAFT_FOLLOWER); /* < election_tick */
    for (int i = 0; i < 11; i++)
        assert_int_equal(raft_node_tick(t.n), 0);
    struct raft_status st = status(t.n);
    assert_int_equal(st.role, RAFT_CANDIDATE);
    assert_int_equal(st.term, 1);
    assert_int_equal(st.vote, 1);
    tnode_drain(&t);
    /* It asked both other voters, after persisting its vote. */
    size_t votes = 0;
    for (size_t i = 0; i < t.n_out; i++)
        if (t.out[i].type == RAFT_MSG_VOTE && t.out[i].term == 1)
            votes++;
    assert_int_equal(votes, 2);
    tnode_close(&t);
}

/* 5.2: randomized timeouts lie in [election_tick, 2 * election_tick). */
static void election_timeout_is_randomized(void **state)
{
    (void)state;
    int seen[20] = {0};
    for (uint64_t seed = 1; seed <= 40; seed++) {
        struct raft_memstore *ms;
        assert_int_equal(raft_memstore_create(&ms), 0);
        struct raft_conf_state cs;
        memset(&cs, 0, sizeof(cs));
        cs.voters[0] = 1;
        cs.voters[1] = 2;
        cs.n_voters = 2;
        assert_int_equal(raft_memstore_bootstrap(ms, &cs), 0);
        struct raft_config c;
        memset(&c, 0, sizeof(c));
        c.id = 1;
        c.storage = raft_memstore_storage(ms);
        c.election_tick = 10;
        c.seed = seed;
        struct raft_node *n;
        assert_int_equal(raft_node_create(&c, &n), 0);
        int ticks = 0;
        while (status(n).role == RAFT_FOLLOWER && ticks < 100) {
            raft_node_tick(n);
            ticks++;
        }
        assert_true(ticks >= 10 && ticks < 20);
        seen[ticks]++;
        raft_node_destroy(n);
        raft_memstore_destroy(ms);
    }
    int distinct = 0;
    for (int i = 0; i < 20; i++)
        distinct += seen[i] > 0;
    assert_true(distinct >= 5);
}

/* 5.2: a candidate with votes from a majority becomes leader; the others
 * follow it. */
static void majority_elects_leader(void **state)
{
    (void)state;
    struct sim s;
    quiet_sim(&s, 3, false, false);
    assert_int_equal(raft_node_campaign(sim_node(&s, 1)), 0);
    sim_settle(&s);
    assert_string_equal(s.failure, "");
    assert_int_equal(sim_leader(&s), 1);
    for (raft_id i = 2; i <= 3; i++) {
        struct raft_status st = status(sim_node(&s, i));
        assert_int_equal(st.role, RAFT_FOLLOWER);
        assert_int_equal(st.leader, 1);
        assert_int_equal(st.term, 1);
    }
    sim_close(&s);
}

/* 5.2: a candidate without a majority does not become leader. */
static void minority_cannot_elect(void **state)
{
    (void)state;
    struct sim s;
    quiet_sim(&s, 5, false, false);
    sim_cut(&s, 1, 3);
    sim_cut(&s, 1, 4);
    sim_cut(&s, 1, 5);
    assert_int_equal(raft_node_campaign(sim_node(&s, 1)), 0);
    sim_settle(&s);
    assert_int_equal(status(sim_node(&s, 1)).role, RAFT_CANDIDATE);
    assert_int_equal(sim_leader(&s), 0);
    sim_close(&s);
}

/* 5.2: each server votes for at most one candidate per term. */
static void one_vote_per_term(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 3, 3, false, false);
    struct raft_message m = tmsg(RAFT_MSG_VOTE, 1, 3, 1);
    m.index = m.log_term = 1; /* the bootstrap snapshot */
    assert_int_equal(raft_node_step(t.n, &m), 0);
    tnode_drain(&t);
    const struct raft_message *r = tnode_find(&t, RAFT_MSG_VOTE_RESP);
    assert_non_null(r);
    assert_false(r->reject);
    assert_int_equal(r->to, 1);
    m = tmsg(RAFT_MSG_VOTE, 2, 3, 1);
    m.index = m.log_term = 1;
    assert_int_equal(raft_node_step(t.n, &m), 0);
    tnode_drain(&t);
    r = tnode_find(&t, RAFT_MSG_VOTE_RESP);
    assert_non_null(r);
    assert_true(r->reject);
    /* The same candidate asking again gets the vote again (idempotent). */
    m = tmsg(RAFT_MSG_VOTE, 1, 3, 1);
    m.index = m.log_term = 1;
    assert_int_equal(raft_node_step(t.n, &m), 0);
    tnode_drain(&t);
    r = tnode_find(&t, RAFT_MSG_VOTE_RESP);
    assert_false(r->reject);
    assert_int_equal(status(t.n).vote, 1);
    tnode_close(&t);
}

/* 5.2/figure 2: the vote is persisted before the response leaves. */
static void vote_persisted_before_response(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 3, 3, false, false);
    struct raft_message m = tmsg(RAFT_MSG_VOTE, 1, 3, 1);
    m.index = m.log_term = 1;
    assert_int_equal(raft_node_step(t.n, &m), 0);
    struct raft_ready rd;
    assert_int_equal(raft_node_ready(t.n, &rd), 0);
    assert_true(rd.hard_changed);
    assert_true(rd.must_sync);
    assert_int_equal(rd.hs.vote, 1);
    assert_int_equal(rd.hs.term, 1);
    assert_int_equal(rd.n_messages, 0);
    assert_int_equal(rd.n_after, 1);
    assert_int_equal(rd.after[0].type, RAFT_MSG_VOTE_RESP);
    assert_int_equal(raft_node_advance(t.n, &rd), 0);
    tnode_close(&t);
}

/* 5.1: a server seeing a higher term adopts it and becomes follower. */
static void higher_term_makes_follower(void **state)
{
    (void)state;
    struct sim s;
    quiet_sim(&s, 3, false, false);
    raft_node_campaign(sim_node(&s, 1));
    sim_settle(&s);
    assert_int_equal(sim_leader(&s), 1);
    struct raft_message m = tmsg(RAFT_MSG_HEARTBEAT, 2, 1, 5);
    assert_int_equal(raft_node_step(sim_node(&s, 1), &m), 0);
    struct raft_status st = status(sim_node(&s, 1));
    assert_int_equal(st.role, RAFT_FOLLOWER);
    assert_int_equal(st.term, 5);
    assert_int_equal(st.leader, 2);
    sim_close(&s);
}

/* 5.1: a request with a stale term is rejected. */
static void stale_term_ignored(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 3, 3, false, false);
    struct raft_message m = tmsg(RAFT_MSG_HEARTBEAT, 1, 3, 4);
    raft_node_step(t.n, &m);
    tnode_drain(&t);
    m = tmsg(RAFT_MSG_VOTE, 2, 3, 3);
    assert_int_equal(raft_node_step(t.n, &m), 0);
    tnode_drain(&t);
    assert_null(tnode_find(&t, RAFT_MSG_VOTE_RESP));
    m = tmsg(RAFT_MSG_APPEND, 2, 3, 3);
    assert_int_equal(raft_node_step(t.n, &m), 0);
    struct raft_status st = status(t.n);
    assert_int_equal(st.term, 4);
    assert_int_equal(st.leader, 1);
    tnode_close(&t);
}

/* 5.2: a candidate receiving an append from a leader of its term steps
 * down. */
static void candidate_yields_to_leader_of_term(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 3, 3, false, false);
    raft_node_campaign(t.n);
    assert_int_equal(status(t.n).role, RAFT_CANDIDATE);
    tnode_drain(&t);
    struct raft_message m = tmsg(RAFT_MSG_APPEND, 2, 3, 1);
    assert_int_equal(raft_node_step(t.n, &m), 0);
    struct raft_status st = status(t.n);
    assert_int_equal(st.role, RAFT_FOLLOWER);
    assert_int_equal(st.leader, 2);
    assert_int_equal(st.term, 1);
    tnode_close(&t);
}

/* 5.4.1: a vote is granted only to a candidate whose log is at least as
 * up-to-date (last term, then length). */
static void vote_requires_up_to_date_log(void **state)
{
    (void)state;
    struct {
        raft_term last_term;
        raft_index last_index;
        bool granted;
    } cases[] = {
        {1, 10, false}, /* lower last term, longer: refused */
        {2, 3, false},  /* same last term, shorter: refused */
        {2, 4, true},   /* same term, same length */
        {2, 5, true},   /* same term, longer */
        {3, 1, true},   /* higher last term, shorter */
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct tnode t;
        tnode_init(&t, 3, 3, false, false);
        raft_term terms[] = {1, 2, 2};
        tnode_seed_log(&t, terms, 3, 2);
        struct raft_message m = tmsg(RAFT_MSG_VOTE, 1, 3, 5);
        m.log_term = cases[k].last_term;
        m.index = cases[k].last_index;
        assert_int_equal(raft_node_step(t.n, &m), 0);
        tnode_drain(&t);
        const struct raft_message *r = tnode_find(&t, RAFT_MSG_VOTE_RESP);
        assert_non_null(r);
        assert_int_equal(r->reject, !cases[k].granted);
        tnode_close(&t);
    }
}

/* PreVote: a partitioned node keeps its term, so it cannot disrupt the
 * leader when it comes back. */
static void prevote_keeps_term_of_partitioned_node(void **state)
{
    (void)state;
    struct sim s;
    quiet_sim(&s, 3, true, false);
    raft_node_campaign(sim_node(&s, 1));
    sim_settle(&s);
    assert_int_equal(sim_leader(&s), 1);
    raft_term t0 = status(sim_node(&s, 1)).term;
    sim_isolate(&s, 3);
    for (int i = 0; i < 100; i++) {
        sim_tick(&s, 3);
        sim_settle(&s);
    }
    assert_int_equal(status(sim_node(&s, 3)).term, t0);
    assert_int_equal(status(sim_node(&s, 3)).role, RAFT_PRE_CANDIDATE);
    sim_heal(&s);
    for (int i = 0; i < 30; i++)
        sim_round(&s);
    assert_int_equal(sim_leader(&s), 1);
    assert_int_equal(status(sim_node(&s, 1)).term, t0);
    assert_int_equal(status(sim_node(&s, 3)).leader, 1);
    sim_close(&s);
}

/* Without PreVote the same partition does bump the term. */
static void without_prevote_term_grows(void **state)
{
    (void)state;
    struct sim s;
    quiet_sim(&s, 3, false, false);
    raft_node_campaign(sim_node(&s, 1));
    sim_settle(&s);
    sim_isolate(&s, 3);
    for (int i = 0; i < 100; i++) {
        sim_tick(&s, 3);
        sim_settle(&s);
    }
    assert_true(status(sim_node(&s, 3)).term > 2);
    sim_close(&s);
}

/* PreVote: a pre-candidate that wins the pre-vote runs a real election. */
static void prevote_then_election(void **state)
{
    (void)state;
    struct sim s;
    quiet_sim(&s, 3, true, false);
    raft_node_campaign(sim_node(&s, 2));
    assert_int_equal(status(sim_node(&s, 2)).role, RAFT_PRE_CANDIDATE);
    assert_int_equal(status(sim_node(&s, 2)).term, 0);
    sim_settle(&s);
    assert_int_equal(sim_leader(&s), 2);
    assert_int_equal(status(sim_node(&s, 2)).term, 1);
    sim_close(&s);
}

/* CheckQuorum: a leader that has not heard from a quorum within an
 * election timeout steps down. */
static void check_quorum_leader_steps_down(void **state)
{
    (void)state;
    struct sim s;
    quiet_sim(&s, 3, false, true);
    raft_node_campaign(sim_node(&s, 1));
    sim_settle(&s);
    assert_int_equal(sim_leader(&s), 1);
    sim_isolate(&s, 1);
    for (int i = 0; i < 25; i++) {
        sim_tick(&s, 1);
        sim_settle(&s);
    }
    assert_int_equal(status(sim_node(&s, 1)).role, RAFT_FOLLOWER);
    sim_close(&s);
}

/* CheckQuorum: while a follower hears from its leader, it ignores vote
 * requests of higher terms (no disruption by a rejoining node). */
static void check_quorum_ignores_votes_under_lease(void **state)
{
    (void)state;
    struct sim s;
    quiet_sim(&s, 3, false, true);
    raft_node_campaign(sim_node(&s, 1));
    sim_settle(&s);
    struct raft_message m = tmsg(RAFT_MSG_VOTE, 3, 2, 9);
    m.index = 100;
    m.log_term = 9;
    assert_int_equal(raft_node_step(sim_node(&s, 2), &m), 0);
    struct raft_status st = status(sim_node(&s, 2));
    assert_int_equal(st.term, 1);
    assert_int_equal(st.leader, 1);
    sim_close(&s);
}

/* A learner never campaigns. */
static void learner_does_not_campaign(void **state)
{
    (void)state;
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 1;
    o.n_learners = 1;
    o.seed = 3;
    struct sim s;
    sim_init(&s, &o);
    sim_crash(&s, 1);
    for (int i = 0; i < 100; i++)
        sim_round(&s);
    assert_int_equal(status(sim_node(&s, 2)).role, RAFT_FOLLOWER);
    assert_int_equal(status(sim_node(&s, 2)).term, 0);
    sim_close(&s);
}

/* A single voter wins its election without a message, so nothing made its
 * new term durable: its first appends (to a learner) wait until the ready
 * carrying the term is written (rd.after), or a crash before that write
 * could let it lead the same term again with another log (found by the
 * soak: two different entries at the same index and term). */
static void single_voter_leads_once_term_durable(void **state)
{
    (void)state;
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 1;
    o.n_learners = 1;
    o.seed = 3;
    struct sim s;
    sim_init(&s, &o);
    struct raft_node *n = sim_node(&s, 1);
    assert_int_equal(raft_node_campaign(n), 0);
    assert_int_equal(raft_node_tick(n), 0); /* a heartbeat to the learner */
    struct raft_ready rd;
    assert_int_equal(raft_node_ready(n, &rd), 0);
    assert_int_equal(rd.role, RAFT_LEADER);
    assert_int_equal(rd.hs.term, 1);
    assert_true(rd.must_sync);
    assert_int_equal(rd.n_messages, 0);
    assert_int_equal(rd.n_after, 1);
    assert_int_equal(rd.after[0].type, RAFT_MSG_HEARTBEAT);
    assert_int_equal(rd.after[0].to, 2);
    /* Once that ready is released, appends of the term go early. */
    assert_int_equal(raft_memstore_append(s.nodes[0].ms, rd.entries,
                                          rd.n_entries), 0);
    raft_memstore_set_hard_state(s.nodes[0].ms, &rd.hs);
    assert_int_equal(raft_node_advance(n, &rd), 0);
    assert_int_equal(raft_node_propose(n, "a", 1, NULL), 0);
    assert_int_equal(raft_node_ready(n, &rd), 0);
    assert_true(rd.n_messages >= 1);
    assert_int_equal(rd.messages[0].type, RAFT_MSG_APPEND);
    assert_int_equal(raft_node_advance(n, &rd), 0);
    sim_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_voter_leads_once_term_durable),
        cmocka_unit_test(follower_times_out_into_candidate),
        cmocka_unit_test(election_timeout_is_randomized),
        cmocka_unit_test(majority_elects_leader),
        cmocka_unit_test(minority_cannot_elect),
        cmocka_unit_test(one_vote_per_term),
        cmocka_unit_test(vote_persisted_before_response),
        cmocka_unit_test(higher_term_makes_follower),
        cmocka_unit_test(stale_term_ignored),
        cmocka_unit_test(candidate_yields_to_leader_of_term),
        cmocka_unit_test(vote_requires_up_to_date_log),
        cmocka_unit_test(prevote_keeps_term_of_partitioned_node),
        cmocka_unit_test(without_prevote_term_grows),
        cmocka_unit_test(prevote_then_election),
        cmocka_unit_test(check_quorum_leader_steps_down),
        cmocka_unit_test(check_quorum_ignores_votes_under_lease),
        cmocka_unit_test(learner_does_not_campaign),
    };
    return cmocka_run_group_tests_name("libraft/election", tests, NULL, NULL);
}

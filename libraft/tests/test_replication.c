/* test_replication.c: log replication, one rule per test: Raft paper 5.3
 * (append, consistency check, conflicts), 5.4.2 (commit by counting only
 * the current term), the leader's durability rule for its own log, flow
 * control, fast backtracking, forwarding and the uncommitted cap.
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

static void elect(struct sim *s, int voters, raft_id who,
                  const struct sim_opts *extra)
{
    struct sim_opts o;
    if (extra)
        o = *extra;
    else
        memset(&o, 0, sizeof(o));
    o.n_voters = voters;
    o.seed = 11;
    sim_init(s, &o);
    assert_int_equal(raft_node_campaign(sim_node(s, who)), 0);
    sim_settle(s);
    assert_int_equal(sim_leader(s), who);
}

/* 5.3: the leader appends, replicates, and an entry on a majority is
 * committed and applied everywhere. */
static void entry_committed_by_majority(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3, 1, NULL);
    raft_index idx = 0;
    assert_int_equal(raft_node_propose(sim_node(&s, 1), "abc", 3, &idx), 0);
    assert_int_equal(idx, 3); /* after bootstrap and the empty entry */
    sim_settle(&s);
    for (raft_id i = 1; i <= 3; i++) {
        assert_int_equal(status(sim_node(&s, i)).commit, 3);
        assert_int_equal(s.nodes[i - 1].applied, 3);
    }
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* 5.3: without a majority nothing commits. */
static void no_commit_without_majority(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3, 1, NULL);
    sim_isolate(&s, 1);
    raft_node_propose(sim_node(&s, 1), "x", 1, NULL);
    sim_settle(&s);
    assert_int_equal(status(sim_node(&s, 1)).commit, 2);
    assert_int_equal(status(sim_node(&s, 1)).last_index, 3);
    sim_close(&s);
}

/* The leader sends before its own append is durable and counts itself only
 * once raft_node_advance acknowledges it. */
static void leader_counts_itself_when_durable(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 1, 1, false, false);
    raft_node_campaign(t.n);
    tnode_drain(&t);
    assert_int_equal(status(t.n).commit, 2);
    raft_index idx;
    assert_int_equal(raft_node_propose(t.n, "y", 1, &idx), 0);
    assert_int_equal(idx, 3);
    struct raft_ready rd;
    assert_int_equal(raft_node_ready(t.n, &rd), 0);
    assert_int_equal(rd.n_entries, 1);
    assert_int_equal(rd.hs.commit, 2); /* not yet: not durable */
    assert_int_equal(status(t.n).peers[0].match, 2);
    assert_int_equal(raft_memstore_append(t.ms, rd.entries, 1), 0);
    assert_int_equal(raft_node_advance(t.n, &rd), 0);
    assert_int_equal(status(t.n).peers[0].match, 3);
    assert_int_equal(status(t.n).commit, 3);
    tnode_close(&t);

    /* In a group, the leader's appends go out before its own write. */
    struct sim s;
    elect(&s, 3, 1, NULL);
    raft_node_propose(sim_node(&s, 1), "z", 1, NULL);
    assert_int_equal(raft_node_ready(sim_node(&s, 1), &rd), 0);
    assert_int_equal(rd.n_entries, 1);
    assert_int_equal(rd.n_messages, 2);
    assert_int_equal(rd.messages[0].type, RAFT_MSG_APPEND);
    assert_int_equal(rd.messages[0].n_entries, 1);
    assert_int_equal(raft_memstore_append(s.nodes[0].ms, rd.entries, 1), 0);
    assert_int_equal(raft_node_advance(sim_node(&s, 1), &rd), 0);
    sim_close(&s);
}

/* One ready at a time; the node keeps working while it is outstanding. */
static void one_ready_at_a_time(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 1, 1, false, false);
    raft_node_campaign(t.n);
    struct raft_ready rd;
    assert_int_equal(raft_node_ready(t.n, &rd), 0);
    assert_int_equal(raft_node_tick(t.n), 0);
    assert_int_equal(raft_node_propose(t.n, "a", 1, NULL), 0);
    struct raft_ready rd2;
    assert_int_equal(raft_node_ready(t.n, &rd2), RAFT_ESTATE);
    assert_false(raft_node_has_ready(t.n));
    assert_int_equal(rd.n_entries, 1); /* the proposal is not in it */
    assert_int_equal(raft_memstore_append(t.ms, rd.entries, rd.n_entries), 0);
    raft_memstore_set_hard_state(t.ms, &rd.hs);
    assert_int_equal(raft_node_advance(t.n, &rd), 0);
    assert_int_equal(raft_node_advance(t.n, &rd), RAFT_ESTATE);
    assert_true(raft_node_has_ready(t.n));
    tnode_drain(&t);
    assert_int_equal(status(t.n).commit, 3);
    assert_int_equal(t.applied, 3);
    /* Destroying a node with a ready outstanding frees it all (a crash
     * before persisting, as the simulator does). */
    assert_int_equal(raft_node_propose(t.n, "b", 1, NULL), 0);
    assert_int_equal(raft_node_ready(t.n, &rd), 0);
    assert_int_equal(raft_memstore_append(t.ms, rd.entries, rd.n_entries), 0);
    assert_int_equal(raft_node_advance(t.n, &rd), 0);
    assert_int_equal(raft_node_ready(t.n, &rd), 0);
    assert_int_equal(rd.n_committed, 1);
    tnode_close(&t);
}

/* Asynchronous writes: while the leader's own write is in flight it keeps
 * taking acknowledgements, and a quorum of followers commits without it. */
static void followers_commit_while_leader_writes(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3, 1, NULL);
    raft_index idx;
    assert_int_equal(raft_node_propose(sim_node(&s, 1), "w", 1, &idx), 0);
    struct raft_ready rd;
    assert_int_equal(raft_node_ready(sim_node(&s, 1), &rd), 0);
    assert_int_equal(rd.n_entries, 1);
    for (size_t i = 0; i < rd.n_messages; i++) {
        struct raft_message m = rd.messages[i];
        assert_int_equal(raft_node_step(sim_node(&s, m.to), &m), 0);
    }
    sim_process_ready(&s, 2);
    sim_process_ready(&s, 3);
    sim_deliver_all(&s); /* their acks reach the leader mid-write */
    assert_int_equal(status(sim_node(&s, 1)).commit, idx);
    struct raft_status st = status(sim_node(&s, 1));
    assert_int_equal(st.peers[0].id, 1);
    assert_int_equal(st.peers[0].match, idx - 1); /* itself: not durable */
    assert_int_equal(raft_memstore_append(s.nodes[0].ms, rd.entries, 1), 0);
    assert_int_equal(raft_node_advance(sim_node(&s, 1), &rd), 0);
    assert_int_equal(status(sim_node(&s, 1)).peers[0].match, idx);
    sim_settle(&s);
    assert_int_equal(s.nodes[0].applied, idx);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* 5.3: a follower refuses an append whose previous entry it lacks, and
 * hints where to retry. */
static void follower_rejects_gap(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 2, 3, false, false);
    raft_term terms[] = {1, 1};
    tnode_seed_log(&t, terms, 2, 1);
    struct raft_message m = tmsg(RAFT_MSG_APPEND, 1, 2, 1);
    m.index = 5;
    m.log_term = 1;
    assert_int_equal(raft_node_step(t.n, &m), 0);
    tnode_drain(&t);
    const struct raft_message *r = tnode_find(&t, RAFT_MSG_APPEND_RESP);
    assert_non_null(r);
    assert_true(r->reject);
    assert_int_equal(r->index, 5);
    assert_int_equal(r->reject_hint, 3);
    assert_int_equal(r->log_term, 1);
    tnode_close(&t);
}

/* 5.3: a follower deletes a conflicting entry and everything after it,
 * then appends the leader's. */
static void conflicting_entries_replaced(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 2, 3, false, false);
    raft_term terms[] = {1, 1, 2, 2};
    tnode_seed_log(&t, terms, 4, 2);
    struct raft_entry e[2];
    memset(e, 0, sizeof(e));
    e[0].term = 3;
    e[0].index = 4;
    e[1].term = 3;
    e[1].index = 5;
    struct raft_message m = tmsg(RAFT_MSG_APPEND, 1, 2, 3);
    m.index = 3;
    m.log_term = 1;
    m.entries = e;
    m.n_entries = 2;
    m.commit = 5;
    assert_int_equal(raft_node_step(t.n, &m), 0);
    tnode_drain(&t);
    const struct raft_message *r = tnode_find(&t, RAFT_MSG_APPEND_RESP);
    assert_false(r->reject);
    assert_int_equal(r->index, 5);
    struct raft_storage *st = raft_memstore_storage(t.ms);
    raft_term term;
    assert_int_equal(st->ops->term(st, 4, &term), 0);
    assert_int_equal(term, 3);
    assert_int_equal(st->ops->term(st, 5, &term), 0);
    assert_int_equal(term, 3);
    assert_int_equal(status(t.n).commit, 5);
    assert_int_equal(t.applied, 5);
    tnode_close(&t);
}

/* 5.3: an append of entries already present changes nothing (duplicates
 * and reordering are harmless), and a stale append cannot truncate. */
static void duplicate_append_is_harmless(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 2, 3, false, false);
    raft_term terms[] = {1, 1, 1};
    tnode_seed_log(&t, terms, 3, 1);
    struct raft_entry e;
    memset(&e, 0, sizeof(e));
    e.term = 1;
    e.index = 3;
    struct raft_message m = tmsg(RAFT_MSG_APPEND, 1, 2, 1);
    m.index = 2;
    m.log_term = 1;
    m.entries = &e;
    m.n_entries = 1;
    assert_int_equal(raft_node_step(t.n, &m), 0);
    tnode_drain(&t);
    assert_int_equal(status(t.n).last_index, 4);
    assert_int_equal(tnode_find(&t, RAFT_MSG_APPEND_RESP)->index, 3);
    tnode_close(&t);
}

/* 5.4.2: the leader commits an entry of an earlier term only by committing
 * one of its own term after it (figure 8). */
static void commit_only_current_term_by_counting(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 1, 3, false, false);
    raft_term terms[] = {1, 2};
    tnode_seed_log(&t, terms, 2, 2);
    raft_node_campaign(t.n); /* term 3 */
    tnode_drain(&t);
    struct raft_message v = tmsg(RAFT_MSG_VOTE_RESP, 2, 1, 3);
    assert_int_equal(raft_node_step(t.n, &v), 0);
    assert_int_equal(status(t.n).role, RAFT_LEADER);
    tnode_drain(&t); /* persists the term-3 empty entry at 4 */
    struct raft_message r = tmsg(RAFT_MSG_APPEND_RESP, 2, 1, 3);
    r.index = 3; /* follower has the term-2 entry: a majority has it */
    assert_int_equal(raft_node_step(t.n, &r), 0);
    assert_int_equal(status(t.n).commit, 1);
    r.index = 4;
    assert_int_equal(raft_node_step(t.n, &r), 0);
    assert_int_equal(status(t.n).commit, 4);
    tnode_close(&t);
}

/* 5.3: the leader never deletes or overwrites its own entries. */
static void leader_is_append_only(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3, 1, NULL);
    sim_isolate(&s, 1);
    for (int i = 0; i < 5; i++)
        raft_node_propose(sim_node(&s, 1), "q", 1, NULL);
    sim_settle(&s);
    /* A follower with a shorter log cannot make the leader truncate. */
    struct raft_message r = tmsg(RAFT_MSG_APPEND_RESP, 2, 1, 1);
    r.reject = true;
    r.index = 7;
    r.reject_hint = 1;
    raft_node_step(sim_node(&s, 1), &r);
    assert_int_equal(status(sim_node(&s, 1)).last_index, 7);
    sim_close(&s);
}

/* Fast backtracking: a follower far behind is found in one round trip,
 * not one per missing entry. */
static void fast_backtracking(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3, 1, NULL);
    raft_node_propose(sim_node(&s, 1), "a", 1, NULL);
    sim_settle(&s);
    sim_isolate(&s, 3);
    for (int i = 0; i < 50; i++) {
        raft_node_propose(sim_node(&s, 1), "b", 1, NULL);
        sim_settle(&s);
    }
    assert_int_equal(status(sim_node(&s, 1)).commit, 53);
    sim_heal(&s);
    s.rejects = 0;
    for (int i = 0; i < 3; i++) {
        sim_tick(&s, 1);
        sim_settle(&s);
    }
    assert_int_equal(s.rejects, 1);
    assert_int_equal(status(sim_node(&s, 3)).commit, 53);
    sim_check_logs(&s);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* Fast backtracking across terms: the follower's hint names the last entry
 * whose term is <= the probed term, skipping a whole term at once. */
static void reject_hint_skips_a_term(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 2, 3, false, false);
    raft_term terms[] = {1, 1, 1, 4, 4, 4, 4};
    tnode_seed_log(&t, terms, 7, 4);
    struct raft_message m = tmsg(RAFT_MSG_APPEND, 1, 2, 5);
    m.index = 8;
    m.log_term = 2;
    assert_int_equal(raft_node_step(t.n, &m), 0);
    tnode_drain(&t);
    const struct raft_message *r = tnode_find(&t, RAFT_MSG_APPEND_RESP);
    assert_true(r->reject);
    assert_int_equal(r->reject_hint, 4);
    assert_int_equal(r->log_term, 1);
    tnode_close(&t);
}

/* Flow control: a replicating follower gets at most max_inflight_msgs
 * unacknowledged appends. */
static void inflight_limit(void **state)
{
    (void)state;
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.max_inflight = 2;
    struct sim s;
    elect(&s, 3, 1, &o);
    raft_node_propose(sim_node(&s, 1), "w", 1, NULL);
    sim_settle(&s); /* followers now in replicate */
    sim_cut(&s, 1, 3);
    uint64_t before = s.sent_ents[3];
    for (int i = 0; i < 10; i++) {
        raft_node_propose(sim_node(&s, 1), "w", 1, NULL);
        sim_settle(&s);
    }
    assert_int_equal(s.sent_ents[3] - before, 2);
    assert_int_equal(status(sim_node(&s, 1)).commit, 13);
    struct raft_status st = status(sim_node(&s, 1));
    for (uint32_t i = 0; i < st.n_peers; i++)
        if (st.peers[i].id == 3) {
            assert_int_equal(st.peers[i].inflight, 2);
            assert_int_equal(st.peers[i].state, RAFT_PROGRESS_REPLICATE);
        }
    sim_close(&s);
}

/* Flow control by bytes: max_size_per_msg splits appends. */
static void max_size_per_msg_splits(void **state)
{
    (void)state;
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.max_size_per_msg = 8;
    struct sim s;
    elect(&s, 3, 1, &o);
    sim_isolate(&s, 2);
    sim_isolate(&s, 3);
    struct raft_buf b[4] = {{"aaaa", 4}, {"bbbb", 4}, {"cccc", 4}, {"dddd", 4}};
    assert_int_equal(raft_node_propose_batch(sim_node(&s, 1), b, 4, NULL), 0);
    sim_settle(&s);
    sim_heal(&s);
    uint64_t before = s.sent[2][RAFT_MSG_APPEND];
    for (int i = 0; i < 3; i++) {
        sim_tick(&s, 1);
        sim_settle(&s);
    }
    assert_int_equal(status(sim_node(&s, 2)).last_index, 6);
    assert_true(s.sent[2][RAFT_MSG_APPEND] - before >= 2);
    sim_close(&s);
}

/* Proposals at a follower reach the leader, unless forwarding is off. */
static void proposal_forwarding(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3, 1, NULL);
    assert_int_equal(raft_node_propose(sim_node(&s, 2), "f", 1, NULL), 0);
    sim_settle(&s);
    assert_int_equal(status(sim_node(&s, 1)).commit, 3);
    sim_close(&s);

    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.disable_forwarding = true;
    elect(&s, 3, 1, &o);
    assert_int_equal(raft_node_propose(sim_node(&s, 2), "f", 1, NULL),
                     RAFT_EDROPPED);
    sim_settle(&s);
    assert_int_equal(status(sim_node(&s, 1)).commit, 2);
    sim_close(&s);

    /* Without any leader a proposal is refused. */
    struct tnode t;
    tnode_init(&t, 1, 3, false, false);
    assert_int_equal(raft_node_propose(t.n, "f", 1, NULL), RAFT_EDROPPED);
    tnode_close(&t);
}

/* The leader refuses proposals past max_uncommitted_bytes (one always
 * fits), and takes them again once entries commit. */
static void uncommitted_cap(void **state)
{
    (void)state;
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.max_uncommitted = 64;
    struct sim s;
    elect(&s, 3, 1, &o);
    sim_isolate(&s, 1);
    int ok = 0;
    for (int i = 0; i < 20; i++) {
        int rc = raft_node_propose(sim_node(&s, 1), "12345678", 8, NULL);
        if (rc == 0)
            ok++;
        else
            assert_int_equal(rc, RAFT_ETOOBIG);
    }
    assert_int_equal(ok, 8);
    sim_heal(&s);
    for (int i = 0; i < 3; i++) {
        sim_tick(&s, 1);
        sim_settle(&s);
    }
    assert_int_equal(status(sim_node(&s, 1)).commit, 10);
    assert_int_equal(raft_node_propose(sim_node(&s, 1), "12345678", 8, NULL),
                     0);
    sim_close(&s);
}

/* A lost append is repaired: the heartbeat response shows the gap. */
static void lost_appends_are_resent(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3, 1, NULL);
    raft_node_propose(sim_node(&s, 1), "a", 1, NULL);
    sim_process_ready(&s, 1);
    sim_drop_all(&s);
    sim_settle(&s);
    assert_int_equal(status(sim_node(&s, 1)).commit, 2);
    sim_tick(&s, 1);
    sim_settle(&s);
    sim_tick(&s, 1);
    sim_settle(&s);
    for (raft_id i = 1; i <= 3; i++)
        assert_int_equal(status(sim_node(&s, i)).commit, 3);
    sim_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entry_committed_by_majority),
        cmocka_unit_test(no_commit_without_majority),
        cmocka_unit_test(leader_counts_itself_when_durable),
        cmocka_unit_test(one_ready_at_a_time),
        cmocka_unit_test(followers_commit_while_leader_writes),
        cmocka_unit_test(follower_rejects_gap),
        cmocka_unit_test(conflicting_entries_replaced),
        cmocka_unit_test(duplicate_append_is_harmless),
        cmocka_unit_test(commit_only_current_term_by_counting),
        cmocka_unit_test(leader_is_append_only),
        cmocka_unit_test(fast_backtracking),
        cmocka_unit_test(reject_hint_skips_a_term),
        cmocka_unit_test(inflight_limit),
        cmocka_unit_test(max_size_per_msg_splits),
        cmocka_unit_test(proposal_forwarding),
        cmocka_unit_test(uncommitted_cap),
        cmocka_unit_test(lost_appends_are_resent),
    };
    return cmocka_run_group_tests_name("libraft/replication", tests, NULL,
                                       NULL);
}

/* test_batch_appends.c: the leader's deferred appends (DESIGN.md "The
 * ready cycle", deferred appends): proposals and commit steps between two
 * readies leave as one append per follower carrying every new entry and
 * the newest commit index, each answered once; large batches still split
 * at max_size_per_msg, and a deposed leader owes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "sim.h"

static void elect3(struct sim *s, uint64_t max_size_per_msg)
{
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 3;
    o.seed = 5;
    o.max_size_per_msg = max_size_per_msg;
    sim_init(s, &o);
    assert_int_equal(raft_node_campaign(sim_node(s, 1)), 0);
    sim_settle(s);
    assert_int_equal(sim_leader(s), 1);
}

/* Messages of rd of type to `to`, and the entries they carry. */
static size_t count_to(const struct raft_ready *rd, uint32_t type, raft_id to,
                       size_t *entries)
{
    size_t n = 0;
    *entries = 0;
    for (size_t i = 0; i < rd->n_messages; i++)
        if (rd->messages[i].type == type && rd->messages[i].to == to) {
            n++;
            *entries += rd->messages[i].n_entries;
        }
    return n;
}

/* Hand rd's messages to their nodes (the leader's ready, sent at once). */
static void deliver(struct sim *s, const struct raft_ready *rd)
{
    for (size_t i = 0; i < rd->n_messages; i++) {
        struct raft_message m = rd->messages[i];
        assert_int_equal(raft_node_step(sim_node(s, m.to), &m), 0);
    }
}

/* Run the group until quiet: every node knows idx committed, no safety
 * check failed; then close it. */
static void settle_at(struct sim *s, raft_index idx)
{
    sim_settle(s);
    for (raft_id i = 1; i <= 3; i++) {
        struct raft_status st;
        raft_node_status(sim_node(s, i), &st);
        assert_int_equal(st.commit, idx);
    }
    assert_string_equal(s->failure, "");
    sim_close(s);
}

/* Five proposals before a ready: one append per follower with all five
 * (one per proposal before); the followers answer once each. */
static void proposals_share_one_append(void **state)
{
    (void)state;
    struct sim s;
    elect3(&s, 0);
    struct raft_node *l = sim_node(&s, 1);
    raft_index idx = 0;
    for (int i = 0; i < 5; i++)
        assert_int_equal(raft_node_propose(l, "abcd", 4, &idx), 0);
    struct raft_ready rd;
    assert_true(raft_node_has_ready(l));
    assert_int_equal(raft_node_ready(l, &rd), 0);
    assert_int_equal(rd.n_entries, 5);
    assert_int_equal(rd.n_messages, 2);
    for (raft_id to = 2; to <= 3; to++) {
        size_t ents;
        assert_int_equal(count_to(&rd, RAFT_MSG_APPEND, to, &ents), 1);
        assert_int_equal(ents, 5);
    }
    deliver(&s, &rd);
    for (raft_id f = 2; f <= 3; f++) {
        struct raft_ready fr;
        assert_int_equal(raft_node_ready(sim_node(&s, f), &fr), 0);
        assert_int_equal(fr.n_entries, 5);
        size_t ents;
        assert_int_equal(count_to(&fr, RAFT_MSG_APPEND_RESP, 1, &ents) +
                             fr.n_after,
                         1);
        assert_int_equal(raft_memstore_append(s.nodes[f - 1].ms, fr.entries,
                                              fr.n_entries),
                         0);
        raft_memstore_set_hard_state(s.nodes[f - 1].ms, &fr.hs);
        assert_int_equal(fr.n_after, 1);
        assert_int_equal(fr.after[0].type, RAFT_MSG_APPEND_RESP);
        assert_int_equal(fr.after[0].index, idx);
        struct raft_message resp = fr.after[0];
        assert_int_equal(raft_node_advance(sim_node(&s, f), &fr), 0);
        assert_int_equal(raft_node_step(l, &resp), 0);
    }
    /* Both answers committed idx; the commit goes out once per follower,
     * with the next ready, in one (empty) append. */
    struct raft_status st;
    raft_node_status(l, &st);
    assert_int_equal(st.commit, idx);
    assert_int_equal(raft_memstore_append(s.nodes[0].ms, rd.entries, 5), 0);
    assert_int_equal(raft_node_advance(l, &rd), 0);
    assert_int_equal(raft_node_ready(l, &rd), 0);
    assert_int_equal(rd.n_committed, 5);
    for (raft_id to = 2; to <= 3; to++) {
        size_t ents;
        assert_int_equal(count_to(&rd, RAFT_MSG_APPEND, to, &ents), 1);
        assert_int_equal(ents, 0);
    }
    for (size_t i = 0; i < rd.n_messages; i++)
        assert_int_equal(rd.messages[i].commit, idx);
    deliver(&s, &rd);
    assert_int_equal(raft_node_advance(l, &rd), 0);
    settle_at(&s, idx);
}

/* Over max_size_per_msg the owed entries split into several appends in
 * one ready, in order, none above the limit (unless one entry is). */
static void split_at_max_size(void **state)
{
    (void)state;
    struct sim s;
    elect3(&s, 10);
    struct raft_node *l = sim_node(&s, 1);
    raft_index idx = 0;
    for (int i = 0; i < 6; i++)
        assert_int_equal(raft_node_propose(l, "abcd", 4, &idx), 0);
    struct raft_ready rd;
    assert_int_equal(raft_node_ready(l, &rd), 0);
    for (raft_id to = 2; to <= 3; to++) {
        size_t ents;
        size_t n = count_to(&rd, RAFT_MSG_APPEND, to, &ents);
        assert_int_equal(ents, 6);
        assert_int_equal(n, 3); /* 2 entries of 4 bytes fit in 10 */
    }
    raft_index next = 0;
    for (size_t i = 0; i < rd.n_messages; i++) {
        const struct raft_message *m = &rd.messages[i];
        if (m->to != 2)
            continue;
        if (next != 0)
            assert_int_equal(m->index, next - 1);
        next = m->entries[m->n_entries - 1].index + 1;
    }
    assert_int_equal(next, idx + 1);
    deliver(&s, &rd);
    assert_int_equal(raft_memstore_append(s.nodes[0].ms, rd.entries,
                                          rd.n_entries),
                     0);
    assert_int_equal(raft_node_advance(l, &rd), 0);
    settle_at(&s, idx);
}

/* A leader deposed between its proposals and its ready sends no append
 * for them: it owes nothing once it is a follower. */
static void deposed_leader_owes_nothing(void **state)
{
    (void)state;
    struct sim s;
    elect3(&s, 0);
    struct raft_node *l = sim_node(&s, 1);
    assert_int_equal(raft_node_propose(l, "x", 1, NULL), 0);
    struct raft_status st;
    raft_node_status(l, &st);
    struct raft_message v = tmsg(RAFT_MSG_APPEND, 2, 1, st.term + 1);
    v.index = st.last_index - 1; /* the new leader's log lacks the proposal */
    v.log_term = st.term;
    assert_int_equal(raft_node_step(l, &v), 0);
    raft_node_status(l, &st);
    assert_int_equal(st.role, RAFT_FOLLOWER);
    struct raft_ready rd;
    assert_int_equal(raft_node_ready(l, &rd), 0);
    for (size_t i = 0; i < rd.n_messages; i++)
        assert_int_not_equal(rd.messages[i].type, RAFT_MSG_APPEND);
    for (size_t i = 0; i < rd.n_after; i++)
        assert_int_not_equal(rd.after[i].type, RAFT_MSG_APPEND);
    raft_memstore_append(s.nodes[0].ms, rd.entries, rd.n_entries);
    raft_memstore_set_hard_state(s.nodes[0].ms, &rd.hs);
    assert_int_equal(raft_node_advance(l, &rd), 0);
    sim_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(proposals_share_one_append),
        cmocka_unit_test(split_at_max_size),
        cmocka_unit_test(deposed_leader_owes_nothing),
    };
    return cmocka_run_group_tests_name("libraft/batch_appends", tests, NULL,
                                       NULL);
}

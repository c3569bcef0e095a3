/* common.c: helpers declared in common.h (linked into every suite). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"

void tnode_init(struct tnode *t, raft_id id, int n_voters, bool pre_vote,
                bool check_quorum)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(raft_memstore_create(&t->ms), 0);
    struct raft_conf_state cs;
    memset(&cs, 0, sizeof(cs));
    for (int i = 0; i < n_voters; i++)
        cs.voters[cs.n_voters++] = (raft_id)(i + 1);
    assert_int_equal(raft_memstore_bootstrap(t->ms, &cs), 0);
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.id = id;
    c.storage = raft_memstore_storage(t->ms);
    c.election_tick = 10;
    c.heartbeat_tick = 1;
    c.seed = 42;
    c.pre_vote = pre_vote;
    c.check_quorum = check_quorum;
    assert_int_equal(raft_node_create(&c, &t->n), 0);
}

void tnode_seed_log(struct tnode *t, const raft_term *terms, size_t n,
                    raft_term hs_term)
{
    /* Recreate the node over a disk holding this log. */
    raft_id id;
    struct raft_status st;
    raft_node_status(t->n, &st);
    id = st.id;
    struct raft_entry e[64];
    memset(e, 0, sizeof(e));
    for (size_t i = 0; i < n; i++) {
        e[i].term = terms[i];
        e[i].index = i + 2; /* after the bootstrap snapshot */
    }
    if (n > 0)
        assert_int_equal(raft_memstore_append(t->ms, e, n), 0);
    struct raft_hard_state hs = {hs_term, 0, 1};
    raft_memstore_set_hard_state(t->ms, &hs);
    raft_node_destroy(t->n);
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.id = id;
    c.storage = raft_memstore_storage(t->ms);
    c.election_tick = 10;
    c.heartbeat_tick = 1;
    c.seed = 42;
    assert_int_equal(raft_node_create(&c, &t->n), 0);
}

void tnode_close(struct tnode *t)
{
    raft_node_destroy(t->n);
    raft_memstore_destroy(t->ms);
}

void tnode_drain(struct tnode *t)
{
    t->n_out = 0;
    while (raft_node_has_ready(t->n)) {
        struct raft_ready rd;
        assert_int_equal(raft_node_ready(t->n, &rd), 0);
        if (rd.snapshot)
            assert_int_equal(raft_memstore_apply_snapshot(t->ms, rd.snapshot),
                             0);
        if (rd.n_entries)
            assert_int_equal(
                raft_memstore_append(t->ms, rd.entries, rd.n_entries), 0);
        if (rd.hard_changed)
            raft_memstore_set_hard_state(t->ms, &rd.hs);
        for (size_t i = 0; i < rd.n_messages && t->n_out < 64; i++) {
            t->out[t->n_out] = rd.messages[i];
            t->out[t->n_out].entries = NULL;
            t->out[t->n_out].snapshot = NULL;
            t->n_out++;
        }
        for (size_t i = 0; i < rd.n_after && t->n_out < 64; i++) {
            t->out[t->n_out] = rd.after[i];
            t->out[t->n_out].entries = NULL;
            t->out[t->n_out].snapshot = NULL;
            t->n_out++;
        }
        if (rd.n_committed)
            t->applied = rd.committed[rd.n_committed - 1].index;
        assert_int_equal(raft_node_advance(t->n, &rd), 0);
    }
}

const struct raft_message *tnode_find(struct tnode *t, uint32_t type)
{
    for (size_t i = t->n_out; i > 0; i--)
        if (t->out[i - 1].type == type)
            return &t->out[i - 1];
    return NULL;
}

struct raft_message tmsg(uint32_t type, raft_id from, raft_id to,
                         raft_term term)
{
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.from = from;
    m.to = to;
    m.term = term;
    return m;
}

/* test_pipeline.c: pipelined storage writes (cfg.max_inflight_readies > 1):
 * several readies out at once, the leader sending while its own appends
 * are in flight, acknowledgements out of order and several at once, and
 * entries replaced while the write that carried them is in flight.
 * DESIGN.md "Pipelined writes". White-box checks read src/raft_int.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "raft_int.h"
#include "sim.h"

static struct raft_status status(struct raft_node *n)
{
    struct raft_status st;
    raft_node_status(n, &st);
    return st;
}

static raft_index self_match(struct raft_node *n)
{
    struct raft_status st = status(n);
    for (uint32_t i = 0; i < st.n_peers; i++)
        if (st.peers[i].id == st.id)
            return st.peers[i].match;
    fail_msg("no self progress");
    return 0;
}

/* A 3-voter simulated cluster with node 1 leading and quiet. */
static void elect(struct sim *s, int depth)
{
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 3;
    o.seed = 5;
    o.pipeline = depth;
    sim_init(s, &o);
    assert_int_equal(raft_node_campaign(sim_node(s, 1)), 0);
    sim_settle(s);
    assert_int_equal(sim_leader(s), 1);
    assert_false(raft_node_has_ready(sim_node(s, 1)));
}

/* Deliver msgs addressed to a follower, then run that follower's readies
 * synchronously, stepping the leader with everything it answers. */
static void follower_takes(struct sim *s, raft_id f,
                           const struct raft_message *msgs, size_t cnt)
{
    struct raft_node *n = sim_node(s, f);
    struct raft_memstore *ms = s->nodes[f - 1].ms;
    for (size_t i = 0; i < cnt; i++)
        if (msgs[i].to == f)
            assert_int_equal(raft_node_step(n, &msgs[i]), 0);
    while (raft_node_has_ready(n)) {
        struct raft_ready rd;
        assert_int_equal(raft_node_ready(n, &rd), 0);
        if (rd.n_entries)
            assert_int_equal(
                raft_memstore_append(ms, rd.entries, rd.n_entries), 0);
        if (rd.hard_changed)
            raft_memstore_set_hard_state(ms, &rd.hs);
        for (size_t i = 0; i < rd.n_after; i++)
            if (rd.after[i].to == 1)
                assert_int_equal(raft_node_step(sim_node(s, 1), &rd.after[i]),
                                 0);
        assert_int_equal(raft_node_advance(n, &rd), 0);
    }
}

static void persist(struct raft_memstore *ms, const struct raft_ready *rd)
{
    if (rd->snapshot)
        assert_int_equal(raft_memstore_apply_snapshot(ms, rd->snapshot), 0);
    if (rd->n_entries)
        assert_int_equal(raft_memstore_append(ms, rd->entries, rd->n_entries),
                         0);
    if (rd->hard_changed)
        raft_memstore_set_hard_state(ms, &rd->hs);
}

static size_t count_appends(const struct raft_ready *rd, raft_index idx)
{
    size_t k = 0;
    for (size_t i = 0; i < rd->n_messages; i++) {
        const struct raft_message *m = &rd->messages[i];
        if (m->type == RAFT_MSG_APPEND && m->n_entries == 1 &&
            m->entries[0].index == idx)
            k++;
    }
    return k;
}

/* The leader hands out a second ready (with the appends of a new entry)
 * while its first write is in flight; followers commit both entries
 * before the leader acknowledges anything; acknowledging the second
 * write first does not count the leader's log, acknowledging the first
 * then counts both. */
static void leader_sends_while_writes_in_flight(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 4);
    struct raft_node *l = sim_node(&s, 1);
    raft_index base = status(l).last_index;
    raft_index i1 = 0, i2 = 0;
    assert_int_equal(raft_node_propose(l, "a", 1, &i1), 0);
    assert_int_equal(i1, base + 1);
    struct raft_ready r1, r2;
    assert_int_equal(raft_node_ready(l, &r1), 0);
    assert_int_equal(r1.n_entries, 1);
    assert_int_equal(r1.entries[0].index, i1);
    assert_int_equal(count_appends(&r1, i1), 2);
    assert_false(raft_node_has_ready(l));
    assert_int_equal(raft_node_propose(l, "b", 1, &i2), 0);
    assert_true(raft_node_has_ready(l));
    assert_int_equal(raft_node_ready(l, &r2), 0);
    assert_int_equal(r2.seq, r1.seq + 1);
    assert_int_equal(r2.n_entries, 1); /* only what r1 did not carry */
    assert_int_equal(r2.entries[0].index, i2);
    assert_int_equal(count_appends(&r2, i2), 2);
    /* Followers get both appends and answer; the leader's own writes
     * are still in flight. */
    follower_takes(&s, 2, r1.messages, r1.n_messages);
    follower_takes(&s, 2, r2.messages, r2.n_messages);
    follower_takes(&s, 3, r1.messages, r1.n_messages);
    follower_takes(&s, 3, r2.messages, r2.n_messages);
    assert_int_equal(status(l).commit, i2);
    assert_int_equal(self_match(l), base);
    /* The writes finish in order; the acknowledgements come reversed. */
    persist(s.nodes[0].ms, &r1);
    persist(s.nodes[0].ms, &r2);
    uint64_t seq1 = r1.seq;
    assert_int_equal(raft_node_advance(l, &r2), 0);
    assert_int_equal(self_match(l), base); /* r1 not yet acknowledged */
    assert_int_equal(status(l).applied, base);
    r1.seq = seq1;
    assert_int_equal(raft_node_advance(l, &r1), 0);
    assert_int_equal(self_match(l), i2);
    /* The committed entries come once, in the next ready. */
    struct raft_ready r3;
    assert_int_equal(raft_node_ready(l, &r3), 0);
    assert_int_equal(r3.n_committed, 2);
    assert_int_equal(r3.committed[0].index, i1);
    assert_int_equal(r3.committed[1].index, i2);
    assert_int_equal(r3.n_entries, 0);
    assert_int_equal(raft_node_advance(l, &r3), 0);
    assert_int_equal(status(l).applied, i2);
    assert_false(raft_node_has_ready(l));
    sim_close(&s);
}

/* At most max_inflight_readies readies are out: then has_ready is false
 * and raft_node_ready refuses with RAFT_ESTATE; one acknowledgement makes
 * room. */
static void ready_limit(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3);
    struct raft_node *l = sim_node(&s, 1);
    struct raft_ready rd[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(raft_node_propose(l, "x", 1, NULL), 0);
        assert_int_equal(raft_node_ready(l, &rd[i]), 0);
        if (i > 0)
            assert_int_equal(rd[i].seq, rd[i - 1].seq + 1);
    }
    assert_int_equal(raft_node_propose(l, "y", 1, NULL), 0);
    assert_false(raft_node_has_ready(l));
    struct raft_ready extra;
    assert_int_equal(raft_node_ready(l, &extra), RAFT_ESTATE);
    for (int i = 0; i < 3; i++)
        persist(s.nodes[0].ms, &rd[i]);
    assert_int_equal(raft_node_advance(l, &rd[1]), 0);
    assert_false(raft_node_has_ready(l)); /* rd[1] waits for rd[0] */
    assert_int_equal(raft_node_advance(l, &rd[0]), 0);
    assert_true(raft_node_has_ready(l));
    assert_int_equal(raft_node_ready(l, &extra), 0);
    assert_int_equal(extra.seq, rd[2].seq + 1);
    assert_int_equal(extra.n_entries, 1);
    persist(s.nodes[0].ms, &extra);
    assert_int_equal(raft_node_advance_to(l, extra.seq), 0);
    assert_int_equal(self_match(l), status(l).last_index);
    sim_close(&s);
}

/* raft_node_advance_to acknowledges every ready up to a sequence number;
 * acknowledging one of them again, or one never handed out, is
 * RAFT_ESTATE. */
static void advance_to_acks_several(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 4);
    struct raft_node *l = sim_node(&s, 1);
    struct raft_ready rd[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(raft_node_propose(l, "z", 1, NULL), 0);
        assert_int_equal(raft_node_ready(l, &rd[i]), 0);
        persist(s.nodes[0].ms, &rd[i]);
    }
    assert_int_equal(self_match(l), status(l).last_index - 3);
    assert_int_equal(raft_node_advance_to(l, rd[1].seq), 0);
    assert_int_equal(self_match(l), status(l).last_index - 1);
    assert_int_equal(raft_node_advance(l, &rd[0]), RAFT_ESTATE);
    assert_int_equal(raft_node_advance_to(l, rd[2].seq + 1), RAFT_ESTATE);
    assert_int_equal(raft_node_advance_to(l, rd[2].seq), 0);
    assert_int_equal(self_match(l), status(l).last_index);
    assert_int_equal(raft_node_advance_to(l, rd[2].seq), RAFT_ESTATE);
    sim_close(&s);
}

static struct raft_message append(raft_id from, raft_term term,
                                  raft_index prev, raft_term prev_term,
                                  struct raft_entry *ents, uint32_t cnt)
{
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND;
    m.from = from;
    m.to = 2;
    m.term = term;
    m.index = prev;
    m.log_term = prev_term;
    m.commit = 1;
    m.entries = ents;
    m.n_entries = cnt;
    return m;
}

/* A follower's entries are replaced while the write carrying them is in
 * flight, and replaced back by identical ones (same index and term) in a
 * third ready. The first acknowledgement must make durable only what
 * precedes the replacement: the second write, not yet acknowledged, will
 * overwrite the rest on disk. */
static void replaced_while_in_flight(void **state)
{
    (void)state;
    struct raft_memstore *ms;
    assert_int_equal(raft_memstore_create(&ms), 0);
    struct raft_conf_state cs;
    memset(&cs, 0, sizeof(cs));
    cs.n_voters = 3;
    cs.voters[0] = 1;
    cs.voters[1] = 2;
    cs.voters[2] = 3;
    assert_int_equal(raft_memstore_bootstrap(ms, &cs), 0);
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.id = 2;
    c.storage = raft_memstore_storage(ms);
    c.applied = 1;
    c.max_inflight_readies = 4;
    struct raft_node *n;
    assert_int_equal(raft_node_create(&c, &n), 0);
    struct raft_entry e[4];
    memset(e, 0, sizeof(e));
    for (int i = 0; i < 4; i++) {
        e[i].term = 2;
        e[i].index = (raft_index)i + 2;
    }
    struct raft_message m = append(1, 2, 1, 1, e, 4); /* 2..5, term 2 */
    assert_int_equal(raft_node_step(n, &m), 0);
    struct raft_ready ra, rb, rc;
    assert_int_equal(raft_node_ready(n, &ra), 0);
    assert_int_equal(ra.n_entries, 4);
    struct raft_entry x[2];
    memset(x, 0, sizeof(x));
    x[0].term = x[1].term = 3;
    x[0].index = 4;
    x[1].index = 5;
    m = append(3, 3, 3, 2, x, 2); /* 4..5 replaced by term 3 */
    assert_int_equal(raft_node_step(n, &m), 0);
    assert_int_equal(raft_node_ready(n, &rb), 0);
    assert_int_equal(rb.n_entries, 2);
    assert_int_equal(rb.entries[0].index, 4);
    m = append(1, 4, 3, 2, e + 2, 2); /* 4..5 of term 2 again */
    assert_int_equal(raft_node_step(n, &m), 0);
    assert_int_equal(raft_node_ready(n, &rc), 0);
    assert_int_equal(rc.n_entries, 2);
    assert_int_equal(rc.entries[1].term, 2);
    assert_int_equal(n->log.u.offset, 2);
    persist(ms, &ra);
    assert_int_equal(raft_node_advance(n, &ra), 0);
    assert_int_equal(n->log.u.offset, 4); /* 2..3 durable, not 4..5 */
    persist(ms, &rb);
    assert_int_equal(raft_node_advance(n, &rb), 0);
    assert_int_equal(n->log.u.offset, 4);
    persist(ms, &rc);
    assert_int_equal(raft_node_advance(n, &rc), 0);
    assert_int_equal(n->log.u.offset, 6);
    raft_term t = 0;
    struct raft_storage *st = raft_memstore_storage(ms);
    assert_int_equal(st->ops->term(st, 5, &t), 0);
    assert_int_equal(t, 2);
    raft_node_destroy(n);
    raft_memstore_destroy(ms);
}

/* With max_inflight_readies 1 (the default) a second ready is refused
 * while one is out, as before pipelining. */
static void default_is_one(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 1);
    struct raft_node *l = sim_node(&s, 1);
    struct raft_ready rd, rd2;
    assert_int_equal(raft_node_propose(l, "q", 1, NULL), 0);
    assert_int_equal(raft_node_ready(l, &rd), 0);
    assert_int_equal(raft_node_propose(l, "r", 1, NULL), 0);
    assert_false(raft_node_has_ready(l));
    assert_int_equal(raft_node_ready(l, &rd2), RAFT_ESTATE);
    persist(s.nodes[0].ms, &rd);
    assert_int_equal(raft_node_advance(l, &rd), 0);
    assert_true(raft_node_has_ready(l));
    sim_close(&s);
}

/* Mean rounds from proposal to commit (first apply anywhere) with every
 * write taking `delay` rounds to become durable, `depth` readies out. */
static double latency(int depth, int delay)
{
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 3;
    o.seed = 5;
    o.pipeline = depth > 1 ? depth : 2; /* the pipelined simulator path */
    o.write_delay = delay;
    struct sim s;
    sim_init(&s, &o);
    if (depth == 1) {
        /* Same path, one ready out at a time. */
        for (int i = 0; i < s.n; i++) {
            raft_node_destroy(s.nodes[i].node);
            struct raft_config c;
            memset(&c, 0, sizeof(c));
            c.id = (raft_id)i + 1;
            c.storage = raft_memstore_storage(s.nodes[i].ms);
            c.applied = 1;
            c.seed = 5;
            assert_int_equal(raft_node_create(&c, &s.nodes[i].node), 0);
        }
    }
    assert_int_equal(raft_node_campaign(sim_node(&s, 1)), 0);
    sim_settle(&s);
    assert_int_equal(sim_leader(&s), 1);
    s.lat_sum = s.lat_n = 0;
    for (int r = 0; r < 200; r++) {
        assert_int_equal(sim_propose(&s, 1, s.next_val++), 0);
        sim_round(&s);
    }
    for (int r = 0; r < 50; r++)
        sim_round(&s);
    assert_string_equal(s.failure, "");
    assert_int_equal(s.lat_n, 200);
    double mean = (double)s.lat_sum / (double)s.lat_n;
    sim_close(&s);
    return mean;
}

/* Delayed persistence: writes take 3 rounds. One ready at a time, a new
 * proposal's appends wait for the write in flight before they go out;
 * pipelined, they leave at once, so commits come sooner. */
static void pipelining_cuts_commit_latency(void **state)
{
    (void)state;
    double one = latency(1, 3), four = latency(4, 3);
    print_message("commit latency with 3-round writes: %.2f rounds one "
                  "ready out, %.2f with 4\n", one, four);
    assert_true(four + 1.0 < one);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leader_sends_while_writes_in_flight),
        cmocka_unit_test(ready_limit),
        cmocka_unit_test(advance_to_acks_several),
        cmocka_unit_test(replaced_while_in_flight),
        cmocka_unit_test(default_is_one),
        cmocka_unit_test(pipelining_cuts_commit_latency),
    };
    return cmocka_run_group_tests_name("libraft/pipeline", tests, NULL, NULL);
}

/* test_reads.c: linearizable reads (thesis 6.4): ReadIndex on the leader and
 * through a follower, confirmation by a quorum, waiting for a commit in the
 * leader's term, refusal by a deposed leader, and lease reads (6.4.1).
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

static void elect(struct sim *s, int voters, int read_only, bool cq)
{
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = voters;
    o.seed = 5;
    o.read_only = read_only;
    o.check_quorum = cq;
    sim_init(s, &o);
    raft_node_campaign(sim_node(s, 1));
    sim_settle(s);
    assert_int_equal(sim_leader(s), 1);
}

/* The leader answers with its commit index after a heartbeat round. */
static void read_index_on_leader(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3, RAFT_READ_SAFE, false);
    raft_node_propose(sim_node(&s, 1), "v", 1, NULL);
    sim_settle(&s);
    uint64_t hb = s.sent[2][RAFT_MSG_HEARTBEAT];
    int r = sim_read(&s, 1);
    assert_true(r >= 0);
    assert_false(s.reads[r].done);
    sim_settle(&s);
    assert_true(s.reads[r].done);
    assert_int_equal(s.reads[r].index, 3);
    assert_int_equal(s.sent[2][RAFT_MSG_HEARTBEAT] - hb, 1);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* A follower's read goes through the leader and comes back with an index
 * covering everything committed before it. */
static void read_index_through_follower(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3, RAFT_READ_SAFE, false);
    raft_node_propose(sim_node(&s, 1), "v", 1, NULL);
    raft_node_propose(sim_node(&s, 1), "w", 1, NULL);
    sim_settle(&s);
    int r = sim_read(&s, 3);
    sim_settle(&s);
    assert_true(s.reads[r].done);
    assert_int_equal(s.reads[r].index, 4);
    assert_true(s.nodes[2].applied >= 4);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* A leader cut off from the quorum never confirms a read. */
static void isolated_leader_cannot_read(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3, RAFT_READ_SAFE, false);
    sim_isolate(&s, 1);
    int r = sim_read(&s, 1);
    for (int i = 0; i < 5; i++) {
        sim_tick(&s, 1);
        sim_settle(&s);
    }
    assert_false(s.reads[r].done);
    sim_close(&s);
}

/* One reply from a quorum confirms every read queued before it. */
static void reads_confirmed_in_order(void **state)
{
    (void)state;
    struct sim s;
    elect(&s, 3, RAFT_READ_SAFE, false);
    sim_isolate(&s, 1);
    int a = sim_read(&s, 1);
    int b = sim_read(&s, 1);
    sim_settle(&s);
    assert_false(s.reads[a].done);
    sim_heal(&s);
    sim_tick(&s, 1); /* the heartbeat carries the newest read's context */
    sim_settle(&s);
    assert_true(s.reads[a].done);
    assert_true(s.reads[b].done);
    sim_close(&s);
}

/* A new leader holds reads until an entry of its term commits. */
static void read_waits_for_term_commit(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 1, 3, false, false);
    tnode_seed_log(&t, NULL, 0, 1); /* term 1 done: elections are at 2 */
    raft_node_campaign(t.n);
    tnode_drain(&t);
    struct raft_message v = tmsg(RAFT_MSG_VOTE_RESP, 2, 1, 2);
    raft_node_step(t.n, &v);
    assert_int_equal(status(t.n).role, RAFT_LEADER);
    assert_int_equal(raft_node_read_index(t.n, 77), 0);
    tnode_drain(&t);
    assert_null(tnode_find(&t, RAFT_MSG_HEARTBEAT));
    struct raft_message r = tmsg(RAFT_MSG_APPEND_RESP, 2, 1, 2);
    r.index = 2;
    raft_node_step(t.n, &r);
    assert_int_equal(status(t.n).commit, 2);
    tnode_drain(&t);
    const struct raft_message *hb = tnode_find(&t, RAFT_MSG_HEARTBEAT);
    assert_non_null(hb);
    assert_int_equal(hb->context, 77);
    struct raft_message h = tmsg(RAFT_MSG_HEARTBEAT_RESP, 3, 1, 2);
    h.context = 77;
    raft_node_step(t.n, &h);
    struct raft_ready rd;
    assert_int_equal(raft_node_ready(t.n, &rd), 0);
    assert_int_equal(rd.n_reads, 1);
    assert_int_equal(rd.reads[0].context, 77);
    assert_int_equal(rd.reads[0].index, 2);
    raft_node_advance(t.n, &rd);
    assert_int_equal(raft_node_read_index(t.n, 0), RAFT_EINVAL);
    tnode_close(&t);
}

/* Lease reads answer at once, without a heartbeat round, while a quorum
 * acked a heartbeat sent less than an election timeout ago; after that
 * they fall back to a ReadIndex round. */
/* Three voters reading under the lease (check_quorum on). */
static struct sim_opts lease_opts(void)
{
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 3;
    o.seed = 5;
    o.read_only = RAFT_READ_LEASE;
    o.check_quorum = true;
    return o;
}

static void lease_read_needs_no_round_trip(void **state)
{
    (void)state;
    struct sim_opts o = lease_opts();
    struct sim s;
    sim_init(&s, &o);
    /* Fresh nodes refuse votes for an election timeout (lease hold), so a
     * campaign right away fails; a timeout-driven one succeeds. */
    raft_node_campaign(sim_node(&s, 1));
    sim_settle(&s);
    assert_int_equal(sim_leader(&s), 0);
    raft_id l = sim_wait_leader(&s, 100);
    assert_int_not_equal(l, 0);
    sim_tick(&s, l); /* one heartbeat round: the lease starts */
    sim_settle(&s);
    raft_id f = l == 1 ? 2 : 1;
    uint64_t hb = s.sent[f][RAFT_MSG_HEARTBEAT];
    sim_isolate(&s, l);
    int r = sim_read(&s, l);
    sim_process_ready(&s, l);
    assert_true(s.reads[r].done);
    assert_int_equal(s.reads[r].index, status(sim_node(&s, l)).commit);
    assert_int_equal(s.sent[f][RAFT_MSG_HEARTBEAT], hb);
    for (int i = 0; i < 9; i++)
        sim_tick(&s, l);
    sim_settle(&s);
    r = sim_read(&s, l);
    sim_settle(&s);
    assert_false(s.reads[r].done); /* lease over, no quorum to confirm */
    sim_close(&s);
}

/* A fresh group (raft_config.fresh: first start, never a restart) has
 * no lease hold: a campaign right away wins with pre-vote on. Restarted,
 * the same nodes hold off again for an election timeout. */
static void fresh_nodes_vote_at_once(void **state)
{
    (void)state;
    struct sim_opts o = lease_opts();
    o.pre_vote = true;
    o.fresh = true;
    struct sim s;
    sim_init(&s, &o);
    raft_node_campaign(sim_node(&s, 1));
    sim_settle(&s);
    assert_int_equal(sim_leader(&s), 1);
    assert_int_equal(status(sim_node(&s, 1)).term, 1);
    for (raft_id i = 1; i <= 3; i++)
        sim_crash(&s, i);
    for (raft_id i = 1; i <= 3; i++)
        sim_restart(&s, i);
    raft_node_campaign(sim_node(&s, 2));
    sim_settle(&s);
    assert_int_equal(sim_leader(&s), 0); /* held off, as after a restart */
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* With a clock the lease runs in real time: a leader whose ticks stop (a
 * starved process) still sees its lease end once election_tick - 2
 * ticks' worth of milliseconds passed since the acknowledged heartbeat
 * was sent, while the followers, ticking on, may elect another leader
 * after election_tick of their own ticks. Counted in the leader's ticks,
 * that lease would still look valid. */
static uint64_t fake_ms;
static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_ms;
}

static void lease_runs_in_real_time(void **state)
{
    (void)state;
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 3;
    o.seed = 5;
    o.read_only = RAFT_READ_LEASE;
    o.check_quorum = true;
    o.now_ms = fake_clock;
    o.tick_ms = 50;
    fake_ms = 1000;
    struct sim s;
    sim_init(&s, &o);
    raft_id l = sim_wait_leader(&s, 100);
    assert_int_not_equal(l, 0);
    sim_tick(&s, l); /* one heartbeat round at 1000 ms: the lease starts */
    sim_settle(&s);
    sim_isolate(&s, l);
    fake_ms += 7 * 50 - 1; /* within (10 - 2) * 50 ms, no tick */
    int r = sim_read(&s, l);
    sim_process_ready(&s, l);
    assert_true(s.reads[r].done);
    fake_ms += 50 + 1; /* 400 ms after the heartbeat: over, still no tick */
    r = sim_read(&s, l);
    sim_settle(&s);
    assert_false(s.reads[r].done); /* no quorum to confirm it */
    sim_close(&s);
    /* a clock needs a tick length, and room for the margin */
    struct raft_memstore *ms;
    raft_memstore_create(&ms);
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.id = 1;
    c.storage = raft_memstore_storage(ms);
    c.read_only = RAFT_READ_LEASE;
    c.check_quorum = true;
    c.now_ms = fake_clock;
    struct raft_node *n = (void *)1;
    assert_int_equal(raft_node_create(&c, &n), RAFT_EINVAL);
    c.tick_ms = 50;
    c.election_tick = 2;
    c.heartbeat_tick = 1;
    assert_int_equal(raft_node_create(&c, &n), RAFT_EINVAL);
    c.election_tick = 3;
    assert_int_equal(raft_node_create(&c, &n), 0);
    raft_node_destroy(n);
    raft_memstore_destroy(ms);
}

/* A 3-voter lease cluster with a leader whose lease has started. */
static raft_id lease_cluster(struct sim *s)
{
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 3;
    o.seed = 5;
    o.read_only = RAFT_READ_LEASE;
    o.check_quorum = true;
    sim_init(s, &o);
    raft_id l = sim_wait_leader(s, 100);
    assert_int_not_equal(l, 0);
    sim_tick(s, l); /* one heartbeat round: the lease starts */
    sim_settle(s);
    return l;
}

/* A read asked at id: answered within id's own ready (no round trip)? */
static bool read_at_once(struct sim *s, raft_id id)
{
    int r = sim_read(s, id);
    assert_true(r >= 0);
    sim_process_ready(s, id);
    return s->reads[r].done;
}

/* raft_node_lease_valid: true on a lease leader with the commit index,
 * false on followers and in ReadIndex mode; it ends exactly election_tick
 * - 1 ticks after the last heartbeat a quorum acked. */
static void lease_valid_call(void **state)
{
    (void)state;
    struct sim s;
    raft_id l = lease_cluster(&s);
    raft_index idx = 0;
    assert_true(raft_node_lease_valid(sim_node(&s, l), &idx));
    assert_int_equal(idx, status(sim_node(&s, l)).commit);
    assert_true(raft_node_lease_valid(sim_node(&s, l), NULL));
    for (raft_id f = 1; f <= 3; f++)
        if (f != l)
            assert_false(raft_node_lease_valid(sim_node(&s, f), &idx));
    sim_isolate(&s, l); /* its heartbeats go nowhere from here */
    for (int i = 0; i < 8; i++) {
        sim_tick(&s, l);
        sim_settle(&s);
        assert_true(raft_node_lease_valid(sim_node(&s, l), NULL));
    }
    sim_tick(&s, l); /* the 9th tick: acked at t, t + 10 - 1 > t + 9 fails */
    assert_false(raft_node_lease_valid(sim_node(&s, l), NULL));
    sim_close(&s);

    elect(&s, 3, RAFT_READ_SAFE, false);
    assert_false(raft_node_lease_valid(sim_node(&s, 1), NULL));
    sim_close(&s);
}

/* A leader cut off while the others elect: from the round the new leader
 * exists until the old one steps down, its lease never holds (and its
 * reads are never answered); before that it held for a while. */
static void deposed_leader_lease_never_serves(void **state)
{
    (void)state;
    struct sim s;
    raft_id l = lease_cluster(&s);
    struct raft_node *old = sim_node(&s, l);
    raft_term old_term = status(old).term;
    sim_isolate(&s, l);
    assert_true(read_at_once(&s, l)); /* under the lease */
    int valid_rounds = 0, deposed_rounds = 0;
    bool new_leader = false;
    for (int round = 0; round < 100 && status(old).role == RAFT_LEADER;
         round++) {
        sim_round(&s);
        for (raft_id id = 1; id <= 3; id++) {
            struct raft_status st = status(sim_node(&s, id));
            if (id != l && st.role == RAFT_LEADER && st.term > old_term)
                new_leader = true;
        }
        bool v = raft_node_lease_valid(old, NULL);
        valid_rounds += v;
        if (new_leader && status(old).role == RAFT_LEADER) {
            deposed_rounds++;
            assert_false(v);
            assert_false(read_at_once(&s, l));
        }
    }
    assert_int_equal(valid_rounds, 8); /* as in lease_valid_call */
    assert_int_equal(status(old).role, RAFT_FOLLOWER); /* check_quorum */
    /* this seed's run has rounds where both lead (the old one's quorum
     * check comes up to 2 election timeouts after the cut): the case */
    assert_true(deposed_rounds > 0);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* The lease ends when TIMEOUT_NOW is sent: the transferee's forced
 * campaign wins votes the lease would refuse. Here the old leader is cut
 * off right after the transferee got TIMEOUT_NOW and won: the old one
 * still thinks it leads, but neither its lease call nor a read answers
 * until it steps down. */
static void lease_ends_at_timeout_now(void **state)
{
    (void)state;
    struct sim s;
    raft_id l = lease_cluster(&s);
    raft_id t = l == 1 ? 2 : 1;
    struct raft_node *old = sim_node(&s, l);
    assert_true(raft_node_lease_valid(old, NULL));
    assert_int_equal(raft_node_transfer_leader(old, t), 0);
    assert_false(raft_node_lease_valid(old, NULL));
    sim_process_ready(&s, l);
    sim_deliver_all(&s); /* TIMEOUT_NOW reaches t */
    sim_isolate(&s, l);
    sim_settle(&s); /* t campaigns, forced: the third grants */
    assert_int_equal(sim_leader(&s), t);
    assert_int_equal(status(old).role, RAFT_LEADER); /* it does not know */
    for (int i = 0; i < 20 && status(old).role == RAFT_LEADER; i++) {
        assert_false(raft_node_lease_valid(old, NULL));
        assert_false(read_at_once(&s, l));
        sim_tick(&s, l);
        sim_settle(&s);
    }
    assert_int_equal(status(old).role, RAFT_FOLLOWER);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* A transfer whose TIMEOUT_NOW was lost is abandoned after an election
 * timeout; the lease stays void until election_tick ticks after the
 * TIMEOUT_NOW and comes back with the first heartbeat acked after that. */
static void lease_returns_after_abandoned_transfer(void **state)
{
    (void)state;
    struct sim s;
    raft_id l = lease_cluster(&s);
    raft_id t = l == 1 ? 2 : 1;
    struct raft_node *old = sim_node(&s, l);
    sim_cut(&s, l, t); /* TIMEOUT_NOW and heartbeats to t are lost */
    assert_int_equal(raft_node_transfer_leader(old, t), 0);
    assert_int_not_equal(status(old).transferee, 0);
    int ticks = 0; /* since the TIMEOUT_NOW */
    while (!raft_node_lease_valid(old, NULL)) {
        assert_true(ticks < 30);
        sim_tick(&s, l);
        ticks++;
        sim_settle(&s);
        if (ticks == 10)
            assert_int_equal(status(old).transferee, 0); /* abandoned */
    }
    /* fence = T + 10: a heartbeat sent at T + 11 is the first counted */
    assert_int_equal(ticks, 11);
    assert_int_equal(status(old).role, RAFT_LEADER);
    assert_true(read_at_once(&s, l));
    sim_close(&s);
}

/* Lease reads are refused without CheckQuorum: the lease would not hold. */
static void lease_requires_check_quorum(void **state)
{
    (void)state;
    struct raft_memstore *ms;
    raft_memstore_create(&ms);
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.id = 1;
    c.storage = raft_memstore_storage(ms);
    c.read_only = RAFT_READ_LEASE;
    struct raft_node *n = (void *)1;
    assert_int_equal(raft_node_create(&c, &n), RAFT_EINVAL);
    assert_null(n);
    c.check_quorum = true;
    assert_int_equal(raft_node_create(&c, &n), 0);
    raft_node_destroy(n);
    raft_memstore_destroy(ms);
}

/* A lone voter restarted with a lagging commit index waits too: its commit
 * index is current only after an entry of its term commits. */
static void single_voter_read_waits_for_term_commit(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 1, 1, false, false);
    raft_term terms[] = {1, 1};
    tnode_seed_log(&t, terms, 2, 1); /* entries 2, 3; commit 1 on disk */
    assert_int_equal(raft_node_campaign(t.n), 0);
    assert_int_equal(status(t.n).role, RAFT_LEADER);
    assert_int_equal(raft_node_read_index(t.n, 7), 0);
    struct raft_ready rd;
    assert_int_equal(raft_node_ready(t.n, &rd), 0);
    assert_int_equal(rd.n_reads, 0);
    assert_int_equal(rd.hs.commit, 1);
    assert_int_equal(raft_memstore_append(t.ms, rd.entries, rd.n_entries), 0);
    raft_memstore_set_hard_state(t.ms, &rd.hs);
    assert_int_equal(raft_node_advance(t.n, &rd), 0);
    assert_int_equal(raft_node_ready(t.n, &rd), 0);
    assert_int_equal(rd.n_reads, 1);
    assert_int_equal(rd.reads[0].context, 7);
    assert_int_equal(rd.reads[0].index, 4);
    assert_int_equal(raft_node_advance(t.n, &rd), 0);
    tnode_close(&t);
}

/* A follower without a leader refuses a read. */
static void read_without_leader_refused(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 2, 3, false, false);
    assert_int_equal(raft_node_read_index(t.n, 5), RAFT_EDROPPED);
    tnode_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_index_on_leader),
        cmocka_unit_test(read_index_through_follower),
        cmocka_unit_test(isolated_leader_cannot_read),
        cmocka_unit_test(reads_confirmed_in_order),
        cmocka_unit_test(read_waits_for_term_commit),
        cmocka_unit_test(lease_read_needs_no_round_trip),
        cmocka_unit_test(lease_runs_in_real_time),
        cmocka_unit_test(fresh_nodes_vote_at_once),
        cmocka_unit_test(lease_requires_check_quorum),
        cmocka_unit_test(lease_valid_call),
        cmocka_unit_test(deposed_leader_lease_never_serves),
        cmocka_unit_test(lease_ends_at_timeout_now),
        cmocka_unit_test(lease_returns_after_abandoned_transfer),
        cmocka_unit_test(single_voter_read_waits_for_term_commit),
        cmocka_unit_test(read_without_leader_refused),
    };
    return cmocka_run_group_tests_name("libraft/reads", tests, NULL, NULL);
}

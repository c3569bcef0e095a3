/* test_api.c: the API's edges: configuration checks, malformed and
 * misrouted messages, the logger callback and its level, status and
 * role, reports of unreachable members and the snapshot timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
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

static void config_checked(void **state)
{
    (void)state;
    struct raft_memstore *ms;
    raft_memstore_create(&ms);
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.storage = raft_memstore_storage(ms);
    struct raft_node *n = NULL;
    assert_int_equal(raft_node_create(&c, &n), RAFT_EINVAL); /* id 0 */
    c.id = 1;
    c.election_tick = 5;
    c.heartbeat_tick = 5;
    assert_int_equal(raft_node_create(&c, &n), RAFT_EINVAL);
    c.heartbeat_tick = 1;
    c.storage = NULL;
    assert_int_equal(raft_node_create(&c, &n), RAFT_EINVAL);
    c.storage = raft_memstore_storage(ms);
    c.applied = 5; /* beyond the commit index */
    assert_int_equal(raft_node_create(&c, &n), RAFT_EINVAL);
    c.applied = 0;
    assert_int_equal(raft_node_create(&c, &n), 0);
    assert_non_null(n);
    raft_node_destroy(n);
    raft_node_destroy(NULL);
    /* Bootstrapping twice, or with no voter, is refused. */
    struct raft_conf_state cs;
    memset(&cs, 0, sizeof(cs));
    assert_int_equal(raft_memstore_bootstrap(ms, &cs), RAFT_EINVAL);
    cs.voters[0] = 1;
    cs.n_voters = 1;
    assert_int_equal(raft_memstore_bootstrap(ms, &cs), 0);
    assert_int_equal(raft_memstore_bootstrap(ms, &cs), RAFT_ESTATE);
    cs.voters[1] = 1;
    cs.n_voters = 2; /* duplicate id */
    struct raft_memstore *ms2;
    raft_memstore_create(&ms2);
    assert_int_equal(raft_memstore_bootstrap(ms2, &cs), RAFT_EINVAL);
    raft_memstore_destroy(ms2);
    raft_memstore_destroy(ms);
}

static void malformed_and_misrouted_messages(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 2, 3, false, false);
    struct raft_message m = tmsg(RAFT_MSG_APPEND, 0, 2, 1);
    assert_int_equal(raft_node_step(t.n, &m), RAFT_EINVAL); /* from 0 */
    assert_string_equal(raft_node_errmsg(t.n), "malformed message");
    m = tmsg(RAFT_MSG_APPEND, 1, 2, 1);
    m.n_entries = 2; /* no entries pointer */
    assert_int_equal(raft_node_step(t.n, &m), RAFT_EINVAL);
    m = tmsg(RAFT_MSG_SNAPSHOT, 1, 2, 1);
    assert_int_equal(raft_node_step(t.n, &m), RAFT_EINVAL);
    m = tmsg(99, 1, 2, 1);
    assert_int_equal(raft_node_step(t.n, &m), RAFT_EINVAL);
    m = tmsg(RAFT_MSG_HEARTBEAT, 1, 2, 0);
    assert_int_equal(raft_node_step(t.n, &m), RAFT_EINVAL); /* no term */
    /* Addressed to someone else, or from ourselves: ignored. */
    m = tmsg(RAFT_MSG_HEARTBEAT, 1, 3, 7);
    assert_int_equal(raft_node_step(t.n, &m), 0);
    m = tmsg(RAFT_MSG_HEARTBEAT, 2, 2, 7);
    assert_int_equal(raft_node_step(t.n, &m), 0);
    assert_int_equal(status(t.n).term, 0);
    /* An append whose entries are not contiguous is refused. */
    struct raft_entry e[2];
    memset(e, 0, sizeof(e));
    e[0].term = 1;
    e[0].index = 2;
    e[1].term = 1;
    e[1].index = 4;
    m = tmsg(RAFT_MSG_APPEND, 1, 2, 1);
    m.index = 1;
    m.log_term = 1;
    m.entries = e;
    m.n_entries = 2;
    assert_int_equal(raft_node_step(t.n, &m), RAFT_EINVAL);
    assert_int_equal(status(t.n).last_index, 1);
    tnode_close(&t);
}

struct logbuf {
    int calls;       /* messages received */
    int min_level;   /* lowest level seen */
    char last[256];  /* last message */
};

static void logger(void *ctx, int level, raft_id node, const char *msg)
{
    struct logbuf *b = ctx;
    (void)node;
    b->calls++;
    if (level < b->min_level)
        b->min_level = level;
    snprintf(b->last, sizeof(b->last), "%s", msg);
}

static void logger_called_above_level(void **state)
{
    (void)state;
    for (int lvl = RAFT_LOG_DEBUG; lvl <= RAFT_LOG_ERROR; lvl++) {
        struct logbuf b = {0, 99, ""};
        struct raft_memstore *ms;
        raft_memstore_create(&ms);
        struct raft_conf_state cs;
        memset(&cs, 0, sizeof(cs));
        cs.voters[0] = 1;
        cs.n_voters = 1;
        raft_memstore_bootstrap(ms, &cs);
        struct raft_config c;
        memset(&c, 0, sizeof(c));
        c.id = 1;
        c.storage = raft_memstore_storage(ms);
        c.logger = logger;
        c.logger_ctx = &b;
        c.log_level = lvl;
        struct raft_node *n;
        assert_int_equal(raft_node_create(&c, &n), 0);
        raft_node_campaign(n);
        if (lvl <= RAFT_LOG_INFO) {
            assert_true(b.calls >= 2);
            assert_true(b.min_level >= lvl);
            assert_string_equal(b.last, "leader at term 1");
        } else {
            assert_int_equal(b.calls, 0);
        }
        raft_node_destroy(n);
        raft_memstore_destroy(ms);
    }
}

static void status_reports_progress(void **state)
{
    (void)state;
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 3;
    o.n_learners = 1;
    o.seed = 2;
    struct sim s;
    sim_init(&s, &o);
    raft_node_campaign(sim_node(&s, 1));
    sim_settle(&s);
    raft_node_propose(sim_node(&s, 1), "s", 1, NULL);
    sim_settle(&s);
    struct raft_status st = status(sim_node(&s, 1));
    assert_int_equal(st.id, 1);
    assert_int_equal(st.role, RAFT_LEADER);
    assert_int_equal(st.term, 1);
    assert_int_equal(st.vote, 1);
    assert_int_equal(st.leader, 1);
    assert_int_equal(st.commit, 3);
    assert_int_equal(st.applied, 3);
    assert_int_equal(st.last_index, 3);
    assert_int_equal(st.n_peers, 4);
    for (uint32_t i = 0; i < st.n_peers; i++) {
        assert_int_equal(st.peers[i].match, 3);
        assert_int_equal(st.peers[i].learner, st.peers[i].id == 4);
        if (st.peers[i].id != 1)
            assert_int_equal(st.peers[i].state, RAFT_PROGRESS_REPLICATE);
    }
    struct raft_status f = status(sim_node(&s, 2));
    assert_int_equal(f.n_peers, 0);
    assert_int_equal(f.leader, 1);
    /* raft_node_role: the same role and leader, alone */
    raft_id lead = 9;
    assert_int_equal(raft_node_role(sim_node(&s, 1), &lead), RAFT_LEADER);
    assert_int_equal(lead, 1);
    lead = 9;
    assert_int_equal(raft_node_role(sim_node(&s, 2), &lead), RAFT_FOLLOWER);
    assert_int_equal(lead, 1);
    assert_int_equal(raft_node_role(sim_node(&s, 4), NULL), f.role);
    raft_node_campaign(sim_node(&s, 2)); /* no settle: campaigning */
    lead = 9;
    int role = raft_node_role(sim_node(&s, 2), &lead);
    assert_true(role == RAFT_PRE_CANDIDATE || role == RAFT_CANDIDATE);
    assert_int_equal(role, status(sim_node(&s, 2)).role);
    assert_int_equal(lead, status(sim_node(&s, 2)).leader);
    sim_close(&s);
}

static uint32_t peer_state(struct raft_node *n, raft_id id)
{
    struct raft_status st = status(n);
    for (uint32_t i = 0; i < st.n_peers; i++)
        if (st.peers[i].id == id)
            return (uint32_t)st.peers[i].state;
    return 99;
}

static void unreachable_and_snapshot_timeout(void **state)
{
    (void)state;
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 3;
    o.seed = 2;
    o.snap_every = 5;
    struct sim s;
    sim_init(&s, &o);
    raft_node_campaign(sim_node(&s, 1));
    sim_settle(&s);
    raft_node_propose(sim_node(&s, 1), "u", 1, NULL);
    sim_settle(&s);
    assert_int_equal(peer_state(sim_node(&s, 1), 2), RAFT_PROGRESS_REPLICATE);
    assert_int_equal(raft_node_report_unreachable(sim_node(&s, 1), 2), 0);
    assert_int_equal(peer_state(sim_node(&s, 1), 2), RAFT_PROGRESS_PROBE);
    /* Put 3 into the snapshot state, then lose everything it is sent. */
    sim_isolate(&s, 3);
    for (int i = 0; i < 12; i++) {
        raft_node_propose(sim_node(&s, 1), "u", 1, NULL);
        sim_settle(&s);
    }
    sim_heal(&s);
    for (int i = 0; i < 10 && peer_state(sim_node(&s, 1), 3) !=
                                  RAFT_PROGRESS_SNAPSHOT; i++) {
        sim_tick(&s, 1);
        sim_process_ready(&s, 1);
        sim_deliver_all(&s);
        sim_process_ready(&s, 3);
        sim_deliver_all(&s);
    }
    assert_int_equal(peer_state(sim_node(&s, 1), 3), RAFT_PROGRESS_SNAPSHOT);
    sim_isolate(&s, 3);
    for (int i = 0; i < 2 * 10; i++) {
        sim_tick(&s, 1);
        sim_settle(&s);
    }
    assert_int_equal(peer_state(sim_node(&s, 1), 3), RAFT_PROGRESS_SNAPSHOT);
    sim_tick(&s, 1);
    assert_int_equal(peer_state(sim_node(&s, 1), 3), RAFT_PROGRESS_PROBE);
    sim_heal(&s);
    for (int i = 0; i < 5; i++) {
        sim_tick(&s, 1);
        sim_settle(&s);
    }
    assert_int_equal(s.nodes[2].applied, status(sim_node(&s, 1)).commit);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_checked),
        cmocka_unit_test(malformed_and_misrouted_messages),
        cmocka_unit_test(logger_called_above_level),
        cmocka_unit_test(status_reports_progress),
        cmocka_unit_test(unreachable_and_snapshot_timeout),
    };
    return cmocka_run_group_tests_name("libraft/api", tests, NULL, NULL);
}

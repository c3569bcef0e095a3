/* test_alloc.c: allocation-failure tests (SQLite faultsim style): a
 * scenario touching every part of the library runs once per allocation,
 * with that allocation failing. Each call must return 0 or a clean error,
 * nothing may crash, and after teardown nothing may be left allocated.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raft.h"

static long fail_at = -1; /* allocation number to fail, -1 none */
static long count;        /* allocations so far */
static long live;         /* allocated and not freed */
static bool failed;       /* the failure was injected */
static bool dead;         /* a write failed: the node is abandoned (crash) */
static bool pipelined;    /* scenario runs with two readies out */
static const char stream_data[] = "abcdefghijkl"; /* streamed snapshot */

static void *t_malloc(void *ctx, size_t size)
{
    (void)ctx;
    if (count++ == fail_at) {
        failed = true;
        return NULL;
    }
    void *p = malloc(size);
    if (p)
        live++;
    return p;
}

static void *t_realloc(void *ctx, void *p, size_t size)
{
    (void)ctx;
    if (count++ == fail_at) {
        failed = true;
        return NULL;
    }
    void *q = realloc(p, size);
    if (q && !p)
        live++;
    return q;
}

static void t_free(void *ctx, void *p)
{
    (void)ctx;
    if (p) {
        live--;
        free(p);
    }
}

static void ok(int rc)
{
    if (rc == 0 || rc == -ENOMEM || rc == RAFT_EDROPPED ||
        rc == RAFT_ECONFPENDING || rc == RAFT_ESTATE)
        return;
    fail_msg("unexpected result %d (%s) at allocation %ld", rc,
             raft_strerror(rc), fail_at);
}

/* A failed write means the process cannot go on with this node: never
 * advance over it (that would claim durability it does not have). */
static bool persist(struct raft_memstore *ms, const struct raft_ready *rd)
{
    int rc = 0;
    if (rd->snapshot && rd->snapshot->len < rd->snapshot->total) {
        /* Streamed: the chunks the scenario sent are the data. */
        struct raft_snapshot whole = *rd->snapshot;
        whole.data = (void *)(uintptr_t)stream_data;
        whole.len = whole.total;
        rc = raft_memstore_apply_snapshot(ms, &whole);
    } else if (rd->snapshot) {
        rc = raft_memstore_apply_snapshot(ms, rd->snapshot);
    }
    if (rc == 0 && rd->n_entries)
        rc = raft_memstore_append(ms, rd->entries, rd->n_entries);
    ok(rc);
    if (rc != 0) {
        dead = true;
        return false;
    }
    if (rd->hard_changed)
        raft_memstore_set_hard_state(ms, &rd->hs);
    return true;
}

static void drain(struct raft_node *n, struct raft_memstore *ms)
{
    for (int k = 0; k < 10 && raft_node_has_ready(n); k++) {
        struct raft_ready rd;
        int rc = raft_node_ready(n, &rd);
        ok(rc);
        if (rc != 0)
            return;
        if (!persist(ms, &rd))
            return;
        ok(raft_node_advance(n, &rd));
    }
}

static struct raft_message msg(uint32_t type, raft_id from, raft_term term)
{
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.from = from;
    m.to = 1;
    m.term = term;
    return m;
}

static void scenario(void)
{
    struct raft_memstore *ms = NULL;
    struct raft_node *n = NULL;
    int rc = raft_memstore_create(&ms);
    ok(rc);
    if (rc != 0)
        return;
    struct raft_conf_state cs;
    memset(&cs, 0, sizeof(cs));
    cs.voters[0] = 1;
    cs.voters[1] = 2;
    cs.voters[2] = 3;
    cs.n_voters = 3;
    ok(raft_memstore_bootstrap(ms, &cs));
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.id = 1;
    c.storage = raft_memstore_storage(ms);
    c.applied = 1;
    c.max_inflight_readies = pipelined ? 3 : 1;
    rc = raft_node_create(&c, &n);
    ok(rc);
    if (rc != 0)
        goto out;
    ok(raft_node_campaign(n));
    drain(n, ms);
    if (dead)
        goto out;
    struct raft_message v = msg(RAFT_MSG_VOTE_RESP, 2, 1);
    ok(raft_node_step(n, &v));
    drain(n, ms);
    if (dead)
        goto out;
    struct raft_buf bufs[20];
    for (int i = 0; i < 20; i++) {
        bufs[i].data = "payload!";
        bufs[i].len = 8;
    }
    ok(raft_node_propose_batch(n, bufs, 20, NULL));
    ok(raft_node_propose(n, "one", 3, NULL));
    {
        /* Keep working while a write is in flight. */
        struct raft_ready rd;
        rc = raft_node_ready(n, &rd);
        ok(rc);
        if (rc == 0) {
            struct raft_message early = msg(RAFT_MSG_APPEND_RESP, 3, 1);
            early.index = 2;
            ok(raft_node_step(n, &early));
            ok(raft_node_propose(n, "two", 3, NULL));
            ok(raft_node_tick(n));
            struct raft_ready rd2;
            int rc2 = pipelined ? raft_node_ready(n, &rd2) : -1;
            if (pipelined)
                ok(rc2);
            if (pipelined && fail_at < 0)
                assert_int_equal(rc2, 0);
            if (persist(ms, &rd) && (rc2 != 0 || persist(ms, &rd2))) {
                /* Acknowledged newest first: released together. */
                if (rc2 == 0)
                    ok(raft_node_advance(n, &rd2));
                ok(raft_node_advance(n, &rd));
            }
        }
    }
    drain(n, ms);
    if (dead)
        goto out;
    struct raft_status st;
    raft_node_status(n, &st);
    struct raft_message r = msg(RAFT_MSG_APPEND_RESP, 2, 1);
    r.index = st.last_index;
    ok(raft_node_step(n, &r));
    drain(n, ms);
    if (dead)
        goto out;
    ok(raft_node_read_index(n, 9));
    struct raft_message h = msg(RAFT_MSG_HEARTBEAT_RESP, 3, 1);
    h.context = 9;
    ok(raft_node_step(n, &h));
    drain(n, ms);
    if (dead)
        goto out;
    struct raft_conf_change cc;
    memset(&cc, 0, sizeof(cc));
    cc.n_changes = 1;
    cc.changes[0].type = RAFT_CHANGE_ADD_LEARNER;
    cc.changes[0].id = 4;
    ok(raft_node_propose_conf_change(n, &cc, NULL));
    drain(n, ms);
    if (dead)
        goto out;
    raft_node_status(n, &st);
    r.index = st.last_index;
    ok(raft_node_step(n, &r));
    drain(n, ms);
    if (dead)
        goto out;
    raft_node_status(n, &st);
    if (st.applied > 2) {
        ok(raft_memstore_create_snapshot(ms, st.applied, &st.conf, "snap", 4));
        ok(raft_memstore_compact(ms, st.applied));
    }
    /* The learner needs the compacted log: a snapshot goes out. */
    struct raft_message lr = msg(RAFT_MSG_HEARTBEAT_RESP, 4, 1);
    ok(raft_node_step(n, &lr));
    struct raft_message rj = msg(RAFT_MSG_APPEND_RESP, 4, 1);
    rj.reject = true;
    raft_node_status(n, &st);
    for (uint32_t i = 0; i < st.n_peers; i++)
        if (st.peers[i].id == 4)
            rj.index = st.peers[i].next - 1;
    ok(raft_node_step(n, &rj));
    drain(n, ms);
    if (dead)
        goto out;
    /* Encode and decode a message with entries and a snapshot chunk. */
    struct raft_entry e = {1, 5, 0, 3, "abc"};
    struct raft_snapshot sn;
    memset(&sn, 0, sizeof(sn));
    sn.meta.index = 40;
    sn.meta.term = 1;
    sn.meta.conf = cs;
    sn.total = 2;
    sn.len = 2;
    sn.data = "zz";
    struct raft_message big = msg(RAFT_MSG_SNAPSHOT, 2, 5);
    big.entries = &e;
    big.n_entries = 1;
    big.snapshot = &sn;
    uint8_t buf[1024];
    size_t len;
    ok(raft_msg_encode(&big, buf, sizeof(buf), &len));
    struct raft_message *d = NULL;
    rc = raft_msg_decode(buf, len, &d);
    ok(rc);
    if (rc == 0) {
        /* A newer leader's snapshot: the node steps down and restores. */
        d->entries = NULL;
        d->n_entries = 0;
        ok(raft_node_step(n, d));
        drain(n, ms);
    }
    raft_msg_free(d);
    if (dead)
        goto out;
    if (fail_at < 0) {
        /* The clean run went all the way: it restored the snapshot. */
        raft_node_status(n, &st);
        assert_int_equal(st.term, 5);
        assert_int_equal(st.commit, 40);
        assert_int_equal(st.applied, 40);
    }
    for (int i = 0; i < 30; i++)
        ok(raft_node_tick(n));
    drain(n, ms);
    if (dead)
        goto out;
out:
    raft_node_destroy(n);
    raft_memstore_destroy(ms);
}

/* A streaming follower (stream_snapshots) takes a snapshot in chunks,
 * one early, one duplicated, with readies pipelined, then a newer
 * snapshot replaces a partial one. */
static void stream_scenario(void)
{
    struct raft_memstore *ms = NULL;
    struct raft_node *n = NULL;
    int rc = raft_memstore_create(&ms);
    ok(rc);
    if (rc != 0)
        return;
    struct raft_conf_state cs;
    memset(&cs, 0, sizeof(cs));
    cs.voters[0] = 1;
    cs.voters[1] = 2;
    cs.voters[2] = 3;
    cs.n_voters = 3;
    ok(raft_memstore_bootstrap(ms, &cs));
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.id = 2;
    c.storage = raft_memstore_storage(ms);
    c.applied = 1;
    c.stream_snapshots = true;
    c.max_inflight_readies = 2;
    rc = raft_node_create(&c, &n);
    ok(rc);
    if (rc != 0)
        goto out;
    struct raft_snapshot sn;
    memset(&sn, 0, sizeof(sn));
    sn.meta.index = 30;
    sn.meta.term = 2;
    sn.meta.conf = cs;
    sn.total = 12;
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_SNAPSHOT;
    m.from = 1;
    m.to = 2;
    m.term = 2;
    m.snapshot = &sn;
    const char *data = stream_data;
    const uint64_t offs[] = {4, 0, 0, 8};
    struct raft_ready rd[2];
    int out = 0;
    for (int i = 0; i < 4; i++) {
        sn.offset = offs[i];
        sn.len = 4;
        sn.data = (void *)(uintptr_t)(data + offs[i]);
        ok(raft_node_step(n, &m));
        if (out < 2 && raft_node_has_ready(n)) {
            rc = raft_node_ready(n, &rd[out]);
            ok(rc);
            if (rc == 0)
                out++;
        }
    }
    /* Out of order acknowledgements. */
    for (int i = out - 1; i >= 0; i--) {
        if (!persist(ms, &rd[i]))
            goto out;
    }
    for (int i = out - 1; i >= 0; i--)
        ok(raft_node_advance(n, &rd[i]));
    drain(n, ms);
    if (dead)
        goto out;
    if (fail_at < 0) {
        /* The clean run installed the first snapshot. */
        struct raft_status st;
        raft_node_status(n, &st);
        assert_int_equal(out, 2);
        assert_int_equal(st.applied, 30);
    }
    /* A newer snapshot starts over (its first chunk only). */
    sn.meta.index = 40;
    sn.offset = 0;
    sn.data = (void *)(uintptr_t)data;
    ok(raft_node_step(n, &m));
    drain(n, ms);
out:
    raft_node_destroy(n);
    raft_memstore_destroy(ms);
}

/* A clean run counts the allocations, then each one fails in turn. */
static void sweep(void (*fn)(void))
{
    struct raft_heap h = {NULL, t_malloc, t_realloc, t_free};
    raft_heap_set(&h);
    fail_at = -1;
    count = 0;
    live = 0;
    dead = false;
    fn();
    assert_false(dead);
    assert_int_equal(live, 0);
    long total = count;
    assert_true(total > 10);
    print_message("%ld allocations in the scenario\n", total);
    for (long i = 0; i < total; i++) {
        fail_at = i;
        count = 0;
        live = 0;
        failed = false;
        dead = false;
        fn();
        assert_true(failed);
        if (live != 0)
            fail_msg("leak of %ld blocks when allocation %ld fails", live, i);
    }
    raft_heap_set(NULL);
}

static void fail_each_allocation(void **state)
{
    (void)state;
    pipelined = false;
    sweep(scenario);
}

static void fail_each_allocation_streaming(void **state)
{
    (void)state;
    sweep(stream_scenario);
}

/* The same with pipelined writes: two readies out, acknowledged out of
 * order. */
static void fail_each_allocation_pipelined(void **state)
{
    (void)state;
    pipelined = true;
    sweep(scenario);
    pipelined = false;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fail_each_allocation),
        cmocka_unit_test(fail_each_allocation_pipelined),
        cmocka_unit_test(fail_each_allocation_streaming),
    };
    return cmocka_run_group_tests_name("libraft/alloc", tests, NULL, NULL);
}

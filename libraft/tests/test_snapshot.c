/* test_snapshot.c: snapshots and log compaction: the memory store's rules,
 * a follower behind the compacted log gets a snapshot in chunks and
 * restores it, out-of-order chunks are dropped, a lost snapshot is retried.
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

static void memstore_rules(void **state)
{
    (void)state;
    struct raft_memstore *ms;
    assert_int_equal(raft_memstore_create(&ms), 0);
    struct raft_storage *s = raft_memstore_storage(ms);
    struct raft_entry e[5];
    memset(e, 0, sizeof(e));
    for (int i = 0; i < 5; i++) {
        e[i].term = 1;
        e[i].index = (raft_index)i + 1;
        e[i].data = "d";
        e[i].len = 1;
    }
    assert_int_equal(raft_memstore_append(ms, e, 5), 0);
    raft_index fi, li;
    s->ops->first_index(s, &fi);
    s->ops->last_index(s, &li);
    assert_int_equal(fi, 1);
    assert_int_equal(li, 5);
    /* A gap is refused. */
    e[0].index = 7;
    assert_int_equal(raft_memstore_append(ms, e, 1), RAFT_EINVAL);
    e[0].index = 1;
    struct raft_conf_state cs;
    memset(&cs, 0, sizeof(cs));
    cs.voters[0] = 1;
    cs.n_voters = 1;
    assert_int_equal(raft_memstore_create_snapshot(ms, 3, &cs, "abc", 3), 0);
    assert_int_equal(raft_memstore_create_snapshot(ms, 2, &cs, "ab", 2),
                     RAFT_ESNAPOLD);
    assert_int_equal(raft_memstore_create_snapshot(ms, 9, &cs, "ab", 2),
                     RAFT_EUNAVAILABLE);
    assert_int_equal(raft_memstore_compact(ms, 3), 0);
    assert_int_equal(raft_memstore_compact(ms, 3), RAFT_ECOMPACTED);
    assert_int_equal(raft_memstore_compact(ms, 6), RAFT_EUNAVAILABLE);
    s->ops->first_index(s, &fi);
    assert_int_equal(fi, 4);
    raft_term t;
    assert_int_equal(s->ops->term(s, 3, &t), 0); /* the kept boundary */
    assert_int_equal(t, 1);
    assert_int_equal(s->ops->term(s, 2, &t), RAFT_ECOMPACTED);
    assert_int_equal(s->ops->term(s, 6, &t), RAFT_EUNAVAILABLE);
    const struct raft_entry *got;
    size_t n;
    assert_int_equal(s->ops->entries(s, 3, 5, 100, &got, &n),
                     RAFT_ECOMPACTED);
    assert_int_equal(s->ops->entries(s, 4, 6, 100, &got, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(s->ops->entries(s, 4, 6, 0, &got, &n), 0);
    assert_int_equal(n, 1); /* at least one entry even over max_bytes */
    assert_int_equal(s->ops->entries(s, 4, 7, 100, &got, &n),
                     RAFT_EUNAVAILABLE);
    /* Appending all-compacted entries is refused; overlapping is fine. */
    assert_int_equal(raft_memstore_append(ms, e, 2), RAFT_ECOMPACTED);
    assert_int_equal(raft_memstore_append(ms, e, 5), 0);
    const struct raft_snapshot *snap;
    s->ops->snapshot(s, &snap);
    assert_int_equal(snap->meta.index, 3);
    assert_int_equal(snap->len, 3);
    raft_memstore_destroy(ms);
    raft_memstore_destroy(NULL);
}

/* A follower that missed entries now compacted away gets the snapshot, in
 * chunks of snapshot_chunk_bytes, restores it and then catches up. */
static void lagging_follower_gets_snapshot(void **state)
{
    (void)state;
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 3;
    o.seed = 9;
    o.snap_every = 10;
    o.chunk = 5; /* 24 bytes of sim state: 5 chunks */
    struct sim s;
    sim_init(&s, &o);
    raft_node_campaign(sim_node(&s, 1));
    sim_settle(&s);
    sim_isolate(&s, 3);
    for (int i = 0; i < 30; i++) {
        raft_node_propose(sim_node(&s, 1), "p", 1, NULL);
        sim_settle(&s);
    }
    struct raft_storage *st = raft_memstore_storage(s.nodes[0].ms);
    raft_index first;
    st->ops->first_index(st, &first);
    assert_true(first > 2); /* the leader compacted */
    sim_heal(&s);
    uint64_t before = s.sent[3][RAFT_MSG_SNAPSHOT];
    for (int i = 0; i < 5; i++) {
        sim_tick(&s, 1);
        sim_settle(&s);
    }
    assert_int_equal(s.sent[3][RAFT_MSG_SNAPSHOT] - before, 5);
    assert_int_equal(status(sim_node(&s, 3)).commit, 32);
    assert_int_equal(s.nodes[2].applied, 32);
    assert_string_equal(s.failure, "");
    struct raft_storage *s3 = raft_memstore_storage(s.nodes[2].ms);
    const struct raft_snapshot *snap;
    s3->ops->snapshot(s3, &snap);
    assert_true(snap->meta.index >= first - 1);
    sim_check_logs(&s);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* A chunk that arrives early waits for its predecessors; duplicates are
 * ignored; the assembled snapshot is handed over whole. */
static void chunks_reassembled_in_order(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 2, 3, false, false);
    struct raft_snapshot c;
    memset(&c, 0, sizeof(c));
    c.meta.index = 10;
    c.meta.term = 2;
    c.meta.conf.voters[0] = 1;
    c.meta.conf.voters[1] = 2;
    c.meta.conf.voters[2] = 3;
    c.meta.conf.n_voters = 3;
    c.total = 6;
    struct raft_message m = tmsg(RAFT_MSG_SNAPSHOT, 1, 2, 2);
    m.snapshot = &c;
    c.offset = 3; /* second chunk first: held */
    c.len = 3;
    c.data = "def";
    assert_int_equal(raft_node_step(t.n, &m), 0);
    tnode_drain(&t);
    assert_null(tnode_find(&t, RAFT_MSG_APPEND_RESP));
    c.offset = 0;
    c.data = "abc";
    assert_int_equal(raft_node_step(t.n, &m), 0);
    assert_int_equal(raft_node_step(t.n, &m), 0); /* duplicate */
    struct raft_ready rd;
    assert_int_equal(raft_node_ready(t.n, &rd), 0);
    assert_non_null(rd.snapshot);
    assert_int_equal(rd.snapshot->meta.index, 10);
    assert_int_equal(rd.snapshot->len, 6);
    assert_memory_equal(rd.snapshot->data, "abcdef", 6);
    assert_int_equal(rd.n_after, 1);
    assert_int_equal(rd.after[0].type, RAFT_MSG_APPEND_RESP);
    assert_int_equal(rd.after[0].index, 10);
    assert_int_equal(raft_memstore_apply_snapshot(t.ms, rd.snapshot), 0);
    assert_int_equal(raft_node_advance(t.n, &rd), 0);
    struct raft_status st = status(t.n);
    assert_int_equal(st.commit, 10);
    assert_int_equal(st.applied, 10);
    assert_int_equal(st.last_index, 10);
    /* A chunk claiming bytes beyond its total is refused. */
    c.offset = 4;
    c.len = 3;
    assert_int_equal(raft_node_step(t.n, &m), RAFT_EINVAL);
    tnode_close(&t);
}

/* A partial snapshot from an earlier leader gives way to a new leader's,
 * even an older one; the same leader's older chunks are ignored. */
static void new_leader_snapshot_replaces_partial(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 2, 3, false, false);
    struct raft_snapshot c;
    memset(&c, 0, sizeof(c));
    c.meta.index = 20;
    c.meta.term = 2;
    c.meta.conf.voters[0] = 1;
    c.meta.conf.voters[1] = 2;
    c.meta.conf.voters[2] = 3;
    c.meta.conf.n_voters = 3;
    c.total = 4;
    c.len = 2;
    c.data = "ab";
    struct raft_message m = tmsg(RAFT_MSG_SNAPSHOT, 1, 2, 2);
    m.snapshot = &c;
    assert_int_equal(raft_node_step(t.n, &m), 0); /* half of 20 */
    c.meta.index = 15;
    c.total = 2;
    assert_int_equal(raft_node_step(t.n, &m), 0); /* same leader: ignored */
    assert_int_equal(status(t.n).commit, 1);
    m = tmsg(RAFT_MSG_SNAPSHOT, 3, 2, 3);
    m.snapshot = &c;
    assert_int_equal(raft_node_step(t.n, &m), 0); /* new leader: taken */
    assert_int_equal(status(t.n).commit, 15);
    tnode_drain(&t);
    assert_int_equal(t.applied, 0); /* restored, nothing to apply */
    assert_int_equal(status(t.n).applied, 15);
    tnode_close(&t);
}

/* A snapshot older than the commit index is not installed. */
static void stale_snapshot_ignored(void **state)
{
    (void)state;
    struct tnode t;
    tnode_init(&t, 2, 3, false, false);
    raft_term terms[] = {1, 1, 1, 1};
    tnode_seed_log(&t, terms, 4, 1);
    struct raft_message h = tmsg(RAFT_MSG_HEARTBEAT, 1, 2, 1);
    h.commit = 5;
    raft_node_step(t.n, &h);
    tnode_drain(&t);
    struct raft_snapshot c;
    memset(&c, 0, sizeof(c));
    c.meta.index = 4;
    c.meta.term = 1;
    c.meta.conf.voters[0] = 1;
    c.meta.conf.n_voters = 1;
    struct raft_message m = tmsg(RAFT_MSG_SNAPSHOT, 1, 2, 1);
    m.snapshot = &c;
    raft_node_step(t.n, &m);
    struct raft_ready rd;
    raft_node_ready(t.n, &rd);
    assert_null(rd.snapshot);
    assert_int_equal(rd.n_after, 1);
    assert_int_equal(rd.after[0].index, 5);
    raft_node_advance(t.n, &rd);
    tnode_close(&t);
}

/* A snapshot lost on the way is sent again (timeout or report). */
static void lost_snapshot_retried(void **state)
{
    (void)state;
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 3;
    o.seed = 9;
    o.snap_every = 10;
    struct sim s;
    sim_init(&s, &o);
    raft_node_campaign(sim_node(&s, 1));
    sim_settle(&s);
    sim_isolate(&s, 3);
    for (int i = 0; i < 30; i++) {
        raft_node_propose(sim_node(&s, 1), "p", 1, NULL);
        sim_settle(&s);
    }
    /* Let the leader hear from 3 (heartbeat) but lose the snapshot. */
    sim_heal(&s);
    sim_tick(&s, 1);
    uint64_t sent = s.sent[3][RAFT_MSG_SNAPSHOT];
    for (int i = 0; i < 10 && s.sent[3][RAFT_MSG_SNAPSHOT] == sent; i++) {
        sim_process_ready(&s, 1);
        if (s.sent[3][RAFT_MSG_SNAPSHOT] != sent)
            break;
        sim_deliver_all(&s);
        sim_process_ready(&s, 3);
        sim_deliver_all(&s);
    }
    assert_int_equal(s.sent[3][RAFT_MSG_SNAPSHOT], sent + 1);
    sim_drop_all(&s);
    /* The application reports the failure; the next heartbeat response
     * brings a new snapshot. */
    assert_int_equal(raft_node_report_snapshot(sim_node(&s, 1), 3, false), 0);
    sim_tick(&s, 1);
    sim_settle(&s);
    assert_int_equal(s.sent[3][RAFT_MSG_SNAPSHOT], sent + 2);
    assert_int_equal(s.nodes[2].applied, 32);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* Snapshot messages to `to` waiting in the simulated network. */
static int queued_chunks(struct sim *s, raft_id to)
{
    int k = 0;
    for (size_t i = 0; i < s->n_net; i++)
        if (s->net[i].to == to && s->net[i].buf[1] == RAFT_MSG_SNAPSHOT)
            k++;
    return k;
}

/* Leader 1 of 3 compacts past what isolated node 3 has; then 3 is healed.
 * Snapshot data: 24 bytes of state + pad. */
static void lagging_setup(struct sim *s, bool stream, uint32_t window,
                          int pad)
{
    struct sim_opts o;
    memset(&o, 0, sizeof(o));
    o.n_voters = 3;
    o.seed = 9;
    o.snap_every = 10;
    o.chunk = 5;
    o.stream = stream;
    o.snap_window = window;
    o.snap_pad = pad;
    sim_init(s, &o);
    raft_node_campaign(sim_node(s, 1));
    sim_settle(s);
    sim_isolate(s, 3);
    for (int i = 0; i < 30; i++) {
        raft_node_propose(sim_node(s, 1), "p", 1, NULL);
        sim_settle(s);
    }
    sim_heal(s);
}

/* Streaming on both sides: the leader reads the snapshot chunk by chunk
 * (snapshot_read) with at most snapshot_window chunks unacknowledged, the
 * follower hands each chunk to the application as it comes and the
 * snapshot itself without data. */
static void streamed_with_window(void **state)
{
    (void)state;
    struct sim s;
    lagging_setup(&s, true, 2, 40); /* 64 bytes: 13 chunks of 5 */
    uint64_t before = s.sent[3][RAFT_MSG_SNAPSHOT];
    uint64_t reads = s.nodes[0].store.reads;
    sim_tick(&s, 1);
    int most = 0;
    for (int i = 0; i < 100 && s.nodes[2].applied < 32; i++) {
        for (raft_id id = 1; id <= 3; id++)
            sim_process_ready(&s, id);
        int q = queued_chunks(&s, 3);
        if (q > most)
            most = q;
        sim_deliver_all(&s);
    }
    assert_string_equal(s.failure, "");
    assert_int_equal(most, 2);
    assert_int_equal(s.sent[3][RAFT_MSG_SNAPSHOT] - before, 13);
    assert_int_equal(s.nodes[0].store.reads - reads, 13);
    assert_int_equal(s.nodes[2].chunks_in, 13);
    assert_true(s.sent[1][RAFT_MSG_SNAPSHOT_RESP] >= 6);
    assert_int_equal(status(sim_node(&s, 3)).commit, 32);
    assert_int_equal(s.nodes[2].applied, 32);
    sim_check_logs(&s);
    assert_string_equal(s.failure, "");
    sim_close(&s);
}

/* Chunks lost in the middle of a transfer are sent again from what the
 * follower acknowledged, not from the start. */
static void lost_chunks_resent_from_ack(void **state)
{
    (void)state;
    struct sim s;
    lagging_setup(&s, true, 3, 40); /* 13 chunks, window 3 */
    uint64_t before = s.sent[3][RAFT_MSG_SNAPSHOT];
    sim_tick(&s, 1);
    /* Let 6 chunks through, then lose the network once. */
    for (int i = 0; i < 100 && s.nodes[2].chunks_in < 6; i++) {
        for (raft_id id = 1; id <= 3; id++)
            sim_process_ready(&s, id);
        sim_deliver_all(&s);
    }
    assert_int_equal(s.nodes[2].chunks_in, 6);
    for (raft_id id = 1; id <= 3; id++)
        sim_process_ready(&s, id);
    sim_deliver_all(&s); /* the acknowledgements reach the leader */
    struct raft_status ls = status(sim_node(&s, 1));
    for (uint32_t i = 0; i < ls.n_peers; i++) {
        if (ls.peers[i].id != 3)
            continue;
        assert_int_equal(ls.peers[i].state, RAFT_PROGRESS_SNAPSHOT);
        assert_int_equal(ls.peers[i].snapshot_total, 64);
        assert_int_equal(ls.peers[i].snapshot_acked, 30);
    }
    for (raft_id id = 1; id <= 3; id++)
        sim_process_ready(&s, id);
    uint64_t sent_at_loss = s.sent[3][RAFT_MSG_SNAPSHOT] - before;
    sim_drop_all(&s);
    for (int i = 0; i < 30 && s.nodes[2].applied < 32; i++) {
        sim_tick(&s, 1);
        sim_settle(&s);
    }
    assert_string_equal(s.failure, "");
    assert_int_equal(s.nodes[2].applied, 32);
    /* Every chunk reached the application once; only the lost ones
     * (those past the 6 held) were sent twice. */
    assert_int_equal(s.nodes[2].chunks_in, 13);
    assert_int_equal(s.sent[3][RAFT_MSG_SNAPSHOT] - before,
                     13 + (sent_at_loss - 6));
    sim_close(&s);
}

/* With snapshot_read the leader keeps sending the snapshot it started
 * with after the storage made a newer one, as long as it can read it: the
 * transfer does not start over. */
static void transfer_survives_newer_snapshot(void **state)
{
    (void)state;
    struct sim s;
    lagging_setup(&s, true, 2, 40);
    uint64_t before = s.sent[3][RAFT_MSG_SNAPSHOT];
    sim_tick(&s, 1);
    for (int i = 0; i < 100 && s.nodes[2].chunks_in < 4; i++) {
        for (raft_id id = 1; id <= 3; id++)
            sim_process_ready(&s, id);
        sim_deliver_all(&s);
    }
    assert_int_equal(s.nodes[2].chunks_in, 4);
    struct raft_storage *st = raft_memstore_storage(s.nodes[0].ms);
    const struct raft_snapshot *old = NULL;
    st->ops->snapshot(st, &old);
    raft_index old_index = old->meta.index;
    struct raft_conf_state conf = old->meta.conf;
    uint8_t data[64];
    memset(data, 0, sizeof(data));
    assert_int_equal(raft_memstore_create_snapshot(s.nodes[0].ms,
                                                   old_index + 1, &conf,
                                                   data, sizeof(data)),
                     0);
    for (int i = 0; i < 100 && s.nodes[2].applied < 32; i++) {
        for (raft_id id = 1; id <= 3; id++)
            sim_process_ready(&s, id);
        sim_deliver_all(&s);
    }
    assert_string_equal(s.failure, "");
    assert_int_equal(s.nodes[2].applied, 32);
    assert_int_equal(s.nodes[2].chunks_in, 13); /* one transfer */
    assert_int_equal(s.sent[3][RAFT_MSG_SNAPSHOT] - before, 13);
    struct raft_storage *s3 = raft_memstore_storage(s.nodes[2].ms);
    const struct raft_snapshot *got = NULL;
    s3->ops->snapshot(s3, &got);
    assert_int_equal(got->meta.index, old_index);
    sim_close(&s);
}

/* A chunk the storage fails to read is tried again at the next resend
 * tick; the transfer then completes. */
static void failed_read_retried(void **state)
{
    (void)state;
    struct sim s;
    lagging_setup(&s, true, 2, 40);
    s.nodes[0].store.fail_reads = 1;
    uint64_t before = s.sent[3][RAFT_MSG_SNAPSHOT];
    sim_tick(&s, 1);
    sim_settle(&s);
    assert_int_equal(s.nodes[0].store.fail_reads, 0);
    assert_int_equal(s.sent[3][RAFT_MSG_SNAPSHOT], before); /* nothing */
    for (int i = 0; i < 10 && s.nodes[2].applied < 32; i++) {
        sim_tick(&s, 1);
        sim_settle(&s);
    }
    assert_string_equal(s.failure, "");
    assert_int_equal(s.nodes[2].applied, 32);
    assert_int_equal(s.nodes[2].chunks_in, 13);
    sim_close(&s);
}

/* A storage reading ahead answers "not yet" (RAFT_ESNAPTEMP): the
 * transfer waits where it is, neither failing nor resending, until
 * raft_node_snapshot_resume, which sends the window at once, no tick
 * needed. */
static void unready_read_resumed(void **state)
{
    (void)state;
    struct sim s;
    lagging_setup(&s, true, 2, 40);
    struct sim_store *ss = &s.nodes[0].store;
    ss->hold_reads = true;
    uint64_t before = s.sent[3][RAFT_MSG_SNAPSHOT];
    sim_tick(&s, 1);
    sim_settle(&s);
    assert_true(ss->held_reads >= 1);
    assert_int_equal(s.sent[3][RAFT_MSG_SNAPSHOT], before);
    assert_int_equal(raft_node_snapshot_resume(sim_node(&s, 1)), 0);
    sim_settle(&s); /* held still: nothing, and no harm */
    assert_int_equal(s.sent[3][RAFT_MSG_SNAPSHOT], before);
    ss->hold_reads = false;
    assert_int_equal(raft_node_snapshot_resume(sim_node(&s, 3)), 0);
    sim_settle(&s); /* a follower's resume does nothing */
    assert_int_equal(s.sent[3][RAFT_MSG_SNAPSHOT], before);
    uint64_t held = ss->held_reads;
    assert_int_equal(raft_node_snapshot_resume(sim_node(&s, 1)), 0);
    sim_settle(&s); /* the window, then the rest as acknowledged */
    assert_string_equal(s.failure, "");
    assert_int_equal(ss->held_reads, held);
    assert_int_equal(s.sent[3][RAFT_MSG_SNAPSHOT] - before, 13);
    assert_int_equal(s.nodes[2].chunks_in, 13);
    assert_int_equal(s.nodes[2].applied, 32);
    sim_close(&s);
}

static struct raft_node *stream_follower(struct raft_memstore **ms)
{
    assert_int_equal(raft_memstore_create(ms), 0);
    struct raft_conf_state cs;
    memset(&cs, 0, sizeof(cs));
    cs.n_voters = 3;
    cs.voters[0] = 1;
    cs.voters[1] = 2;
    cs.voters[2] = 3;
    assert_int_equal(raft_memstore_bootstrap(*ms, &cs), 0);
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.id = 2;
    c.storage = raft_memstore_storage(*ms);
    c.applied = 1;
    c.stream_snapshots = true;
    struct raft_node *n;
    assert_int_equal(raft_node_create(&c, &n), 0);
    return n;
}

/* The follower side of streaming, exactly: early chunks wait, in-order
 * ones go to the application at once (copied), progress is acknowledged
 * once per ready, and the installed snapshot carries no data. */
static void stream_follower_hands_chunks(void **state)
{
    (void)state;
    struct raft_memstore *ms;
    struct raft_node *n = stream_follower(&ms);
    struct raft_snapshot c;
    memset(&c, 0, sizeof(c));
    c.meta.index = 10;
    c.meta.term = 2;
    c.meta.conf.n_voters = 3;
    c.meta.conf.voters[0] = 1;
    c.meta.conf.voters[1] = 2;
    c.meta.conf.voters[2] = 3;
    c.total = 9;
    struct raft_message m = tmsg(RAFT_MSG_SNAPSHOT, 1, 2, 2);
    m.snapshot = &c;
    c.offset = 3; /* early: waits, and says "nothing held" */
    c.len = 3;
    c.data = "def";
    assert_int_equal(raft_node_step(n, &m), 0);
    c.offset = 0;
    c.data = "abc";
    assert_int_equal(raft_node_step(n, &m), 0);
    struct raft_ready rd;
    assert_int_equal(raft_node_ready(n, &rd), 0);
    assert_null(rd.snapshot);
    assert_int_equal(rd.n_snapshot_chunks, 2);
    assert_int_equal(rd.snapshot_chunks[0].offset, 0);
    assert_int_equal(rd.snapshot_chunks[0].len, 3);
    assert_memory_equal(rd.snapshot_chunks[0].data, "abc", 3);
    assert_int_equal(rd.snapshot_chunks[1].offset, 3);
    assert_memory_equal(rd.snapshot_chunks[1].data, "def", 3);
    assert_int_equal(rd.snapshot_chunks[1].total, 9);
    assert_int_equal(rd.snapshot_chunks[1].meta.index, 10);
    assert_int_equal(rd.n_after, 1); /* one answer: the newest count */
    assert_int_equal(rd.after[0].type, RAFT_MSG_SNAPSHOT_RESP);
    assert_int_equal(rd.after[0].context, 6);
    assert_int_equal(rd.after[0].index, 10);
    assert_int_equal(rd.after[0].log_term, 2);
    assert_int_equal(raft_node_advance(n, &rd), 0);
    /* A duplicate is answered with what is held. */
    assert_int_equal(raft_node_step(n, &m), 0);
    assert_int_equal(raft_node_ready(n, &rd), 0);
    assert_int_equal(rd.n_snapshot_chunks, 0);
    assert_int_equal(rd.n_after, 1);
    assert_int_equal(rd.after[0].context, 6);
    assert_int_equal(raft_node_advance(n, &rd), 0);
    c.offset = 6;
    c.data = "ghi";
    assert_int_equal(raft_node_step(n, &m), 0);
    assert_int_equal(raft_node_ready(n, &rd), 0);
    assert_int_equal(rd.n_snapshot_chunks, 1);
    assert_memory_equal(rd.snapshot_chunks[0].data, "ghi", 3);
    assert_non_null(rd.snapshot);
    assert_int_equal(rd.snapshot->meta.index, 10);
    assert_int_equal(rd.snapshot->total, 9);
    assert_int_equal(rd.snapshot->len, 0);
    assert_null(rd.snapshot->data);
    assert_int_equal(rd.n_after, 1);
    assert_int_equal(rd.after[0].type, RAFT_MSG_APPEND_RESP);
    assert_int_equal(rd.after[0].index, 10);
    struct raft_snapshot whole = *rd.snapshot;
    whole.data = "abcdefghi";
    whole.len = 9;
    assert_int_equal(raft_memstore_apply_snapshot(ms, &whole), 0);
    assert_int_equal(raft_node_advance(n, &rd), 0);
    assert_int_equal(status(n).applied, 10);
    raft_node_destroy(n);
    raft_memstore_destroy(ms);
}

/* A follower that restarted mid-transfer holds nothing: its answer (0)
 * makes the leader start over from the first chunk. */
static void restarted_follower_restarts_transfer(void **state)
{
    (void)state;
    struct sim s;
    lagging_setup(&s, true, 2, 40);
    uint64_t before = s.sent[3][RAFT_MSG_SNAPSHOT];
    sim_tick(&s, 1);
    for (int i = 0; i < 100 && s.nodes[2].chunks_in < 4; i++) {
        for (raft_id id = 1; id <= 3; id++)
            sim_process_ready(&s, id);
        sim_deliver_all(&s);
    }
    assert_int_equal(s.nodes[2].chunks_in, 4);
    sim_crash(&s, 3);
    sim_restart(&s, 3);
    for (int i = 0; i < 30 && s.nodes[2].applied < 32; i++) {
        sim_tick(&s, 1);
        sim_settle(&s);
    }
    assert_string_equal(s.failure, "");
    assert_int_equal(s.nodes[2].applied, 32);
    /* 4 before the restart, then all 13 again from offset 0. */
    assert_int_equal(s.nodes[2].chunks_in, 17);
    assert_true(s.sent[3][RAFT_MSG_SNAPSHOT] - before >= 17);
    sim_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memstore_rules),
        cmocka_unit_test(lagging_follower_gets_snapshot),
        cmocka_unit_test(chunks_reassembled_in_order),
        cmocka_unit_test(new_leader_snapshot_replaces_partial),
        cmocka_unit_test(stale_snapshot_ignored),
        cmocka_unit_test(lost_snapshot_retried),
        cmocka_unit_test(streamed_with_window),
        cmocka_unit_test(lost_chunks_resent_from_ack),
        cmocka_unit_test(stream_follower_hands_chunks),
        cmocka_unit_test(restarted_follower_restarts_transfer),
        cmocka_unit_test(transfer_survives_newer_snapshot),
        cmocka_unit_test(failed_read_retried),
        cmocka_unit_test(unready_read_resumed),
    };
    return cmocka_run_group_tests_name("libraft/snapshot", tests, NULL, NULL);
}

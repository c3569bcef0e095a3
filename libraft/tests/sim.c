/* sim.c: the deterministic cluster simulator declared in sim.h. Every
 * message goes through raft_msg_encode/decode, so the codec is exercised
 * too. Safety violations are recorded in s->failure (first one wins).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static void fail(struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void fail(struct sim *s, const char *fmt, ...)
{
    if (s->failure[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->failure, sizeof(s->failure), fmt, ap);
    va_end(ap);
}

static size_t hist_add(struct sim *s, int kind, uint64_t arg)
{
    if (s->n_hist == s->cap_hist) {
        s->cap_hist = s->cap_hist ? s->cap_hist * 2 : 256;
        s->hist = realloc(s->hist, s->cap_hist * sizeof(*s->hist));
    }
    struct linz_op *o = &s->hist[s->n_hist];
    o->call = ++s->clock;
    o->ret = LINZ_PENDING;
    o->kind = kind;
    o->arg = arg;
    o->out = 0;
    return s->n_hist++;
}

/* A read is answered with the node's state: the number of values. */
static void read_answer(struct sim *s, struct sim_read *r,
                        const struct sim_node *sn)
{
    if (r->waiting) {
        r->waiting = false;
        s->n_waiting--;
    }
    s->hist[r->op].out = sn->n_values;
    s->hist[r->op].ret = ++s->clock;
}

uint64_t sim_rand(struct sim *s)
{
    uint64_t z = (s->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t mix(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    h ^= 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

struct raft_node *sim_node(struct sim *s, raft_id id)
{
    return s->nodes[id - 1].node;
}

static struct sim_store *store_of(struct raft_storage *st)
{
    return (struct sim_store *)st;
}

static struct raft_storage *inner(struct raft_storage *st)
{
    return raft_memstore_storage(store_of(st)->ms);
}

static int ss_initial_state(struct raft_storage *st, struct raft_hard_state *hs,
                            struct raft_conf_state *cs)
{
    return inner(st)->ops->initial_state(inner(st), hs, cs);
}

static int ss_entries(struct raft_storage *st, raft_index lo, raft_index hi,
                      uint64_t max_bytes, const struct raft_entry **ents,
                      size_t *n)
{
    return inner(st)->ops->entries(inner(st), lo, hi, max_bytes, ents, n);
}

static int ss_term(struct raft_storage *st, raft_index i, raft_term *t)
{
    return inner(st)->ops->term(inner(st), i, t);
}

static int ss_first_index(struct raft_storage *st, raft_index *i)
{
    return inner(st)->ops->first_index(inner(st), i);
}

static int ss_last_index(struct raft_storage *st, raft_index *i)
{
    return inner(st)->ops->last_index(inner(st), i);
}

/* Metadata and size only: the data goes through ss_snapshot_read. */
static int ss_snapshot(struct raft_storage *st,
                       const struct raft_snapshot **snap)
{
    const struct raft_snapshot *whole = NULL;
    int rc = inner(st)->ops->snapshot(inner(st), &whole);
    if (rc != 0)
        return rc;
    struct sim_store *ss = store_of(st);
    /* Like an application keeping a snapshot file while it is sent. */
    if (whole->len <= sizeof(ss->kept)) {
        ss->kept_index = whole->meta.index;
        ss->kept_len = whole->len;
        if (whole->len > 0)
            memcpy(ss->kept, whole->data, (size_t)whole->len);
    }
    ss->meta = *whole;
    ss->meta.offset = 0;
    ss->meta.total = whole->len;
    ss->meta.len = 0;
    ss->meta.data = NULL;
    *snap = &ss->meta;
    return 0;
}

static int ss_snapshot_read(struct raft_storage *st, raft_index index,
                            uint64_t offset, void *buf, uint64_t len)
{
    const struct raft_snapshot *whole = NULL;
    int rc = inner(st)->ops->snapshot(inner(st), &whole);
    if (rc != 0)
        return rc;
    struct sim_store *ss = store_of(st);
    if (ss->hold_reads) {
        ss->held_reads++;
        return RAFT_ESNAPTEMP;
    }
    if (ss->fail_reads > 0) {
        ss->fail_reads--;
        return -EIO;
    }
    const uint8_t *data = whole->data;
    uint64_t size = whole->len;
    if (whole->meta.index != index) {
        if (ss->kept_index != index)
            return RAFT_ESNAPOLD;
        data = ss->kept;
        size = ss->kept_len;
    }
    if (offset > size || len > size - offset)
        return RAFT_EINVAL;
    memcpy(buf, data + offset, (size_t)len);
    store_of(st)->reads++;
    return 0;
}

static const struct raft_storage_ops ss_ops = {
    .initial_state = ss_initial_state,
    .entries = ss_entries,
    .term = ss_term,
    .first_index = ss_first_index,
    .last_index = ss_last_index,
    .snapshot = ss_snapshot,
    .snapshot_read = ss_snapshot_read,
};

/* The state machine as snapshot data: applied, hash, values, then
 * opts.snap_pad bytes of a pattern derived from applied. */
static size_t snap_encode(struct sim *s, struct sim_node *sn, uint8_t *buf)
{
    memcpy(buf, &sn->applied, 8);
    memcpy(buf + 8, &sn->hash, 8);
    memcpy(buf + 16, &sn->n_values, 8);
    for (int i = 0; i < s->o.snap_pad; i++)
        buf[SIM_SNAP_HDR + i] = (uint8_t)(sn->applied + (uint64_t)i * 7);
    return SIM_SNAP_HDR + (size_t)s->o.snap_pad;
}

/* Rebuild the state machine from snapshot data; false if malformed. A
 * snapshot without data is the bootstrap one (empty state). */
static bool snap_decode(struct sim *s, struct sim_node *sn,
                        const struct raft_snapshot *snap)
{
    if (snap->len == 0) {
        sn->applied = snap->meta.index;
        sn->hash = 0;
        sn->n_values = 0;
        return true;
    }
    if (snap->len != SIM_SNAP_HDR + (uint64_t)s->o.snap_pad)
        return false;
    const uint8_t *d = snap->data;
    memcpy(&sn->applied, d, 8);
    memcpy(&sn->hash, d + 8, 8);
    memcpy(&sn->n_values, d + 16, 8);
    for (int i = 0; i < s->o.snap_pad; i++)
        if (d[SIM_SNAP_HDR + i] != (uint8_t)(sn->applied + (uint64_t)i * 7))
            return false;
    return true;
}

static void start(struct sim *s, struct sim_node *sn, bool first)
{
    struct raft_config c;
    memset(&c, 0, sizeof(c));
    c.id = sn->id;
    c.storage = raft_memstore_storage(sn->ms);
    if (s->o.stream) {
        sn->store.base.ops = &ss_ops;
        sn->store.ms = sn->ms;
        c.storage = &sn->store.base;
    }
    c.stream_snapshots = s->o.stream;
    c.snapshot_window = s->o.snap_window;
    c.applied = sn->applied;
    c.election_tick = s->o.election_tick ? s->o.election_tick : 10;
    c.heartbeat_tick = 1;
    c.seed = s->o.seed * 131 + sn->id + s->now;
    c.pre_vote = s->o.pre_vote;
    c.fresh = s->o.fresh && first;
    c.check_quorum = s->o.check_quorum;
    c.read_only = s->o.read_only;
    c.now_ms = s->o.now_ms;
    c.clock_ctx = s->o.clock_ctx;
    c.tick_ms = s->o.tick_ms;
    c.max_inflight_msgs = s->o.max_inflight;
    c.max_size_per_msg = s->o.max_size_per_msg;
    c.max_uncommitted_bytes = s->o.max_uncommitted;
    c.snapshot_chunk_bytes = s->o.chunk;
    c.disable_proposal_forwarding = s->o.disable_forwarding;
    c.max_inflight_readies = s->o.pipeline > 1 ? (uint32_t)s->o.pipeline : 1;
    int rc = raft_node_create(&c, &sn->node);
    if (rc != 0) {
        fail(s, "node %llu create: %s", (unsigned long long)sn->id,
             raft_strerror(rc));
        sn->node = NULL;
    }
}

void sim_init(struct sim *s, const struct sim_opts *o)
{
    memset(s, 0, sizeof(*s));
    s->o = *o;
    s->n = o->n_voters + o->n_learners + o->n_spare;
    s->rng = o->seed;
    s->next_ctx = 1;
    s->next_val = 1;
    struct raft_conf_state cs;
    memset(&cs, 0, sizeof(cs));
    for (int i = 0; i < o->n_voters; i++)
        cs.voters[cs.n_voters++] = (raft_id)(i + 1);
    for (int i = 0; i < o->n_learners; i++)
        cs.learners[cs.n_learners++] = (raft_id)(o->n_voters + i + 1);
    for (int i = 0; i < s->n; i++) {
        struct sim_node *sn = &s->nodes[i];
        sn->id = (raft_id)(i + 1);
        if (raft_memstore_create(&sn->ms) != 0 ||
            (i < o->n_voters + o->n_learners &&
             raft_memstore_bootstrap(sn->ms, &cs) != 0))
            fail(s, "memstore");
        if (i < o->n_voters + o->n_learners)
            sn->applied = 1;
        start(s, sn, true);
    }
}

void sim_drop_all(struct sim *s)
{
    for (size_t i = 0; i < s->n_net; i++)
        free(s->net[i].buf);
    s->n_net = 0;
}

void sim_close(struct sim *s)
{
    for (int i = 0; i < s->n; i++) {
        raft_node_destroy(s->nodes[i].node);
        raft_memstore_destroy(s->nodes[i].ms);
    }
    sim_drop_all(s);
    free(s->net);
    free(s->hist);
    free(s->write_op);
    free(s->prop_round);
    free(s->ents_term);
    free(s->ents_hash);
    free(s->ents_known);
}

static void enqueue(struct sim *s, const struct raft_message *m, int copies)
{
    size_t len = raft_msg_encoded_size(m);
    for (int c = 0; c < copies; c++) {
        uint8_t *buf = malloc(len);
        size_t got;
        if (buf == NULL || raft_msg_encode(m, buf, len, &got) != 0 ||
            got != len) {
            fail(s, "encode failed");
            free(buf);
            return;
        }
        if (s->n_net == s->cap_net) {
            s->cap_net = s->cap_net ? s->cap_net * 2 : 64;
            s->net = realloc(s->net, s->cap_net * sizeof(*s->net));
        }
        struct sim_msg *q = &s->net[s->n_net++];
        q->from = m->from;
        q->to = m->to;
        q->buf = buf;
        q->len = len;
        q->at = s->now + (s->o.max_delay > 0
                              ? sim_rand(s) % (uint64_t)(s->o.max_delay + 1)
                              : 0);
    }
}

static void send(struct sim *s, const struct raft_message *m)
{
    if (m->to < 1 || m->to > (raft_id)s->n) {
        s->dropped++;
        return;
    }
    if (m->type <= RAFT_MSG_TYPE_MAX)
        s->sent[m->to][m->type]++;
    if (m->type == RAFT_MSG_APPEND && m->n_entries > 0)
        s->sent_ents[m->to]++;
    if (s->o.loss_pm > 0 && (int)(sim_rand(s) % 1000) < s->o.loss_pm) {
        s->dropped++;
        return;
    }
    int copies = 1;
    if (s->o.dup_pm > 0 && (int)(sim_rand(s) % 1000) < s->o.dup_pm &&
        m->type != RAFT_MSG_PROPOSE)
        copies = 2; /* a proposal twice would be two appends of a value */
    enqueue(s, m, copies);
}

/* Highest term of any live node: a leader of a later term was elected after
 * this moment. */
static raft_term max_term(struct sim *s)
{
    raft_term t = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->nodes[i].node == NULL)
            continue;
        struct raft_status st;
        raft_node_status(s->nodes[i].node, &st);
        if (st.term > t)
            t = st.term;
    }
    return t;
}

static void record_apply(struct sim *s, struct sim_node *sn,
                         const struct raft_entry *e)
{
    if (e->index != sn->applied + 1) {
        fail(s, "node %llu applied %llu after %llu",
             (unsigned long long)sn->id, (unsigned long long)e->index,
             (unsigned long long)sn->applied);
        return;
    }
    uint8_t hdr[9];
    memcpy(hdr, &e->term, 8);
    hdr[8] = (uint8_t)e->type;
    sn->hash = mix(sn->hash, hdr, sizeof(hdr));
    if (e->len > 0)
        sn->hash = mix(sn->hash, e->data, e->len);
    sn->applied = e->index;
    sn->n_applied++;
    if (e->type == RAFT_ENTRY_NORMAL && e->len > 0) {
        sn->n_values++;
        /* The append's answer: the first time any node applies it. */
        uint64_t v = 0;
        if (e->len == 8)
            memcpy(&v, e->data, 8);
        size_t op = v < s->cap_vals ? s->write_op[v] : 0;
        if (op == 0) {
            s->hist_incomplete = true;
        } else if (s->hist[op - 1].ret == LINZ_PENDING) {
            s->hist[op - 1].ret = ++s->clock;
            s->hist[op - 1].arg = sn->n_values;
            s->lat_sum += s->now - s->prop_round[v];
            s->lat_n++;
        } else if (s->hist[op - 1].arg != sn->n_values) {
            fail(s, "value %llu at position %llu on node %llu, %llu before",
                 (unsigned long long)v, (unsigned long long)sn->n_values,
                 (unsigned long long)sn->id,
                 (unsigned long long)s->hist[op - 1].arg);
        }
    }
    for (int k = 0; s->n_waiting > 0 && k < s->n_reads; k++) {
        struct sim_read *r = &s->reads[k];
        if (r->waiting && r->node == sn->id && r->index <= sn->applied)
            read_answer(s, r, sn);
    }
    if (e->index > s->cap_ents) {
        size_t cap = s->cap_ents ? s->cap_ents * 2 : 1024;
        while (cap < e->index)
            cap *= 2;
        s->ents_term = realloc(s->ents_term, (cap + 1) * sizeof(raft_term));
        s->ents_hash = realloc(s->ents_hash, (cap + 1) * sizeof(uint64_t));
        s->ents_known = realloc(s->ents_known, (cap + 1) * sizeof(raft_term));
        s->cap_ents = cap;
    }
    if (e->index > s->n_ents) {
        /* First node to apply this index defines it. */
        for (raft_index i = s->n_ents + 1; i < e->index; i++) {
            s->ents_term[i] = 0;
            s->ents_hash[i] = 0;
            s->ents_known[i] = 0;
        }
        s->ents_term[e->index] = e->term;
        s->ents_hash[e->index] = sn->hash;
        s->ents_known[e->index] = max_term(s);
        s->n_ents = e->index;
    } else if (s->ents_term[e->index] != 0 &&
               (s->ents_term[e->index] != e->term ||
                s->ents_hash[e->index] != sn->hash)) {
        fail(s, "state machine safety: node %llu applied a different entry "
                "at %llu",
             (unsigned long long)sn->id, (unsigned long long)e->index);
    } else if (s->ents_term[e->index] == 0) {
        s->ents_term[e->index] = e->term;
        s->ents_hash[e->index] = sn->hash;
        s->ents_known[e->index] = max_term(s);
    }
}

static void maybe_snapshot(struct sim *s, struct sim_node *sn)
{
    if (s->o.snap_every <= 0 || sn->applied == 0 ||
        sn->n_applied % (uint64_t)s->o.snap_every != 0)
        return;
    struct raft_status st;
    raft_node_status(sn->node, &st);
    if (st.applied != sn->applied)
        return; /* acknowledgements pending: st.conf is not as of applied */
    uint8_t data[SIM_SNAP_HDR + 256];
    size_t len = snap_encode(s, sn, data);
    if (raft_memstore_create_snapshot(sn->ms, sn->applied, &st.conf, data,
                                      len) != 0)
        return;
    raft_index keep = 5;
    if (sn->applied > keep)
        (void)raft_memstore_compact(sn->ms, sn->applied - keep);
}

static void finish_ready(struct sim *s, struct sim_node *sn,
                         struct raft_ready *rdp);
static void finish_write(struct sim *s, struct sim_node *sn,
                         const struct raft_ready *rdp);

/* Pipelined writes: readies are taken while there is room; writes finish
 * in the order handed out, a random number per call; finished ones are
 * acknowledged one by one in random order, or all at once. */
static void pipe_process(struct sim *s, struct sim_node *sn)
{
    int k = (int)(sim_rand(s) % (uint64_t)(sn->n_wq + 1));
    if (s->draining) {
        k = sn->n_wq;
    } else if (s->o.write_delay > 0) {
        /* Exactly write_delay rounds after the ready was handed out. */
        k = 0;
        while (k < sn->n_wq &&
               sn->wq_at[k] + (uint64_t)s->o.write_delay <= s->now)
            k++;
    }
    for (int i = 0; i < k; i++) {
        if (sn->crash_in_ready) {
            /* Crash with writes in flight: they are lost. */
            sn->crash_in_ready = false;
            sim_crash(s, sn->id);
            return;
        }
        struct raft_ready rd = sn->wq[0];
        memmove(sn->wq, sn->wq + 1, (size_t)(sn->n_wq - 1) * sizeof(rd));
        memmove(sn->wq_at, sn->wq_at + 1,
                (size_t)(sn->n_wq - 1) * sizeof(uint64_t));
        sn->n_wq--;
        finish_write(s, sn, &rd);
        sn->aq[sn->n_aq++] = rd;
    }
    int how = s->draining || s->o.write_delay > 0 ? 2
                                                  : (int)(sim_rand(s) % 4);
    if (sn->n_aq > 0 && how == 1) {
        int j = (int)(sim_rand(s) % (uint64_t)sn->n_aq);
        int rc = raft_node_advance(sn->node, &sn->aq[j]);
        if (rc != 0)
            fail(s, "advance: %s", raft_strerror(rc));
        sn->aq[j] = sn->aq[--sn->n_aq];
    } else if (sn->n_aq > 0 && how == 2) {
        uint64_t top = 0;
        for (int j = 0; j < sn->n_aq; j++)
            if (sn->aq[j].seq > top)
                top = sn->aq[j].seq;
        int rc = raft_node_advance_to(sn->node, top);
        if (rc != 0)
            fail(s, "advance_to: %s", raft_strerror(rc));
        sn->n_aq = 0;
    } else if (sn->n_aq > 0 && how == 3) {
        while (sn->n_aq > 0) { /* newest first */
            int rc = raft_node_advance(sn->node, &sn->aq[--sn->n_aq]);
            if (rc != 0)
                fail(s, "advance: %s", raft_strerror(rc));
        }
    }
    maybe_snapshot(s, sn);
    while (sn->n_wq + sn->n_aq < SIM_PIPE && raft_node_has_ready(sn->node)) {
        struct raft_ready rd;
        int rc = raft_node_ready(sn->node, &rd);
        if (rc != 0) {
            fail(s, "ready: %s", raft_strerror(rc));
            return;
        }
        for (size_t i = 0; i < rd.n_messages; i++)
            send(s, &rd.messages[i]);
        sn->wq_at[sn->n_wq] = s->now;
        sn->wq[sn->n_wq++] = rd;
        if (sn->n_wq + sn->n_aq > sn->max_out)
            sn->max_out = sn->n_wq + sn->n_aq;
    }
}

void sim_process_ready(struct sim *s, raft_id id)
{
    struct sim_node *sn = &s->nodes[id - 1];
    if (s->o.pipeline > 1) {
        if (sn->node != NULL)
            pipe_process(s, sn);
        return;
    }
    if (sn->node != NULL && sn->has_pending) {
        /* The write in flight completes now. */
        struct raft_ready done = sn->pending;
        sn->has_pending = false;
        if (sn->crash_in_ready) {
            sn->crash_in_ready = false;
            sim_crash(s, id);
            return;
        }
        finish_ready(s, sn, &done);
    }
    if (sn->node == NULL || !raft_node_has_ready(sn->node))
        return;
    struct raft_ready rd;
    int rc = raft_node_ready(sn->node, &rd);
    if (rc != 0) {
        fail(s, "ready: %s", raft_strerror(rc));
        return;
    }
    for (size_t i = 0; i < rd.n_messages; i++)
        send(s, &rd.messages[i]);
    if (sn->crash_in_ready) {
        /* Crash before the write is durable: it is lost, and so are the
         * messages that had to wait for it. */
        sn->crash_in_ready = false;
        sim_crash(s, id);
        return;
    }
    if (s->o.async && sim_rand(s) % 2 == 0) {
        /* Leave the write in flight: the node keeps stepping meanwhile. */
        sn->pending = rd;
        sn->has_pending = true;
        return;
    }
    finish_ready(s, sn, &rd);
}

static void finish_ready(struct sim *s, struct sim_node *sn,
                         struct raft_ready *rdp)
{
    struct raft_ready rd = *rdp;
    finish_write(s, sn, &rd);
    int rc = raft_node_advance(sn->node, &rd);
    if (rc != 0)
        fail(s, "advance: %s", raft_strerror(rc));
    maybe_snapshot(s, sn);
}

/* Persist a ready, send what waited for it, apply, answer reads. */
static void finish_write(struct sim *s, struct sim_node *sn,
                         const struct raft_ready *rdp)
{
    struct raft_ready rd = *rdp;
    int rc;
    /* Streamed chunks go to the staging area, in order. */
    for (size_t i = 0; i < rd.n_snapshot_chunks; i++) {
        const struct raft_snapshot *c = &rd.snapshot_chunks[i];
        if (!s->o.stream) {
            fail(s, "chunks without stream_snapshots");
            break;
        }
        if (c->offset == 0) {
            sn->staging = true;
            sn->stage_meta = c->meta;
            sn->stage_len = 0;
        } else if (!sn->staging || c->offset != sn->stage_len ||
                   c->meta.index != sn->stage_meta.index ||
                   c->meta.term != sn->stage_meta.term) {
            fail(s, "node %llu: chunk at %llu of %llu out of order",
                 (unsigned long long)sn->id, (unsigned long long)c->offset,
                 (unsigned long long)c->meta.index);
            break;
        }
        if (c->len > sizeof(sn->stage) - sn->stage_len) {
            fail(s, "chunk too big");
            break;
        }
        if (c->len > 0)
            memcpy(sn->stage + sn->stage_len, c->data, (size_t)c->len);
        sn->stage_len += c->len;
        sn->chunks_in++;
    }
    if (rd.snapshot != NULL) {
        struct raft_snapshot whole = *rd.snapshot;
        if (s->o.stream) {
            /* The data is what the chunks of this meta brought. */
            if (rd.snapshot->len != 0 || rd.snapshot->data != NULL)
                fail(s, "streamed snapshot carries data");
            if (whole.total > 0 &&
                (!sn->staging || sn->stage_len != whole.total ||
                 sn->stage_meta.index != whole.meta.index ||
                 sn->stage_meta.term != whole.meta.term))
                fail(s, "node %llu: snapshot %llu not staged",
                     (unsigned long long)sn->id,
                     (unsigned long long)whole.meta.index);
            whole.data = whole.total > 0 ? sn->stage : NULL;
            whole.len = whole.total;
            sn->staging = false;
        }
        rc = raft_memstore_apply_snapshot(sn->ms, &whole);
        if (rc != 0)
            fail(s, "apply snapshot: %s", raft_strerror(rc));
        if (!snap_decode(s, sn, &whole))
            fail(s, "unexpected snapshot data");
        raft_index idx = sn->applied;
        if (idx != whole.meta.index)
            fail(s, "snapshot data/meta mismatch");
        if (idx <= s->n_ents && s->ents_term[idx] != 0 &&
            s->ents_hash[idx] != sn->hash)
            fail(s, "snapshot at %llu has a different state",
                 (unsigned long long)idx);
    }
    if (rd.n_entries > 0) {
        rc = raft_memstore_append(sn->ms, rd.entries, rd.n_entries);
        if (rc != 0)
            fail(s, "append: %s", raft_strerror(rc));
    }
    if (rd.hard_changed)
        raft_memstore_set_hard_state(sn->ms, &rd.hs);
    for (size_t i = 0; i < rd.n_after; i++)
        send(s, &rd.after[i]);
    for (size_t i = 0; i < rd.n_committed; i++)
        record_apply(s, sn, &rd.committed[i]);
    for (size_t i = 0; i < rd.n_reads; i++) {
        for (int k = 0; k < s->n_reads; k++) {
            struct sim_read *r = &s->reads[k];
            if (r->ctx == rd.reads[i].context && !r->done) {
                r->done = true;
                r->index = rd.reads[i].index;
                if (r->index <= sn->applied) {
                    read_answer(s, r, sn);
                } else {
                    r->waiting = true;
                    s->n_waiting++;
                }
                if (r->index < r->min)
                    fail(s, "read %llu at index %llu misses commit %llu",
                         (unsigned long long)r->ctx,
                         (unsigned long long)r->index,
                         (unsigned long long)r->min);
            }
        }
    }
}

static void check_leaders(struct sim *s)
{
    for (int i = 0; i < s->n; i++) {
        struct sim_node *sn = &s->nodes[i];
        if (sn->node == NULL)
            continue;
        struct raft_status st;
        raft_node_status(sn->node, &st);
        if (st.role != RAFT_LEADER || st.term >= 4096)
            continue;
        if (s->leader_of[st.term] == 0)
            s->leader_of[st.term] = sn->id;
        else if (s->leader_of[st.term] != sn->id)
            fail(s, "election safety: %llu and %llu lead term %llu",
                 (unsigned long long)s->leader_of[st.term],
                 (unsigned long long)sn->id, (unsigned long long)st.term);
    }
}

static void deliver(struct sim *s, bool all)
{
    size_t k = 0;
    size_t n = s->n_net;
    /* Take a snapshot of the queue: messages sent while delivering wait. */
    struct sim_msg *due = malloc((n ? n : 1) * sizeof(*due));
    size_t n_due = 0;
    for (size_t i = 0; i < n; i++) {
        if (all || s->net[i].at <= s->now)
            due[n_due++] = s->net[i];
        else
            s->net[k++] = s->net[i];
    }
    s->n_net = k;
    for (size_t i = 0; i < n_due; i++) {
        struct sim_msg *q = &due[i];
        struct sim_node *dst = &s->nodes[q->to - 1];
        if (dst->node == NULL || s->cut[q->from - 1][q->to - 1]) {
            s->dropped++;
            free(q->buf);
            continue;
        }
        struct raft_message *m = NULL;
        int rc = raft_msg_decode(q->buf, q->len, &m);
        free(q->buf);
        if (rc != 0) {
            fail(s, "decode: %s", raft_strerror(rc));
            continue;
        }
        if (m->type == RAFT_MSG_APPEND_RESP && m->reject)
            s->rejects++;
        rc = raft_node_step(dst->node, m);
        if (rc != 0 && rc != RAFT_EDROPPED && rc != RAFT_ECONFPENDING &&
            rc != RAFT_ETOOBIG && rc != RAFT_ECONF)
            fail(s, "step type %u at %llu: %s", m->type,
                 (unsigned long long)dst->id, raft_strerror(rc));
        raft_msg_free(m);
        s->delivered++;
        check_leaders(s);
    }
    free(due);
}

void sim_tick(struct sim *s, raft_id id)
{
    struct sim_node *sn = &s->nodes[id - 1];
    if (sn->node != NULL) {
        int rc = raft_node_tick(sn->node);
        if (rc != 0)
            fail(s, "tick: %s", raft_strerror(rc));
    }
}

void sim_round(struct sim *s)
{
    deliver(s, false);
    for (int i = 0; i < s->n; i++)
        sim_process_ready(s, (raft_id)(i + 1));
    for (int i = 0; i < s->n; i++)
        sim_tick(s, (raft_id)(i + 1));
    check_leaders(s);
    s->now++;
}

void sim_settle(struct sim *s)
{
    for (int iter = 0; iter < 10000; iter++) {
        bool any = s->n_net > 0;
        s->draining = true;
        for (int i = 0; i < s->n; i++) {
            struct sim_node *sn = &s->nodes[i];
            if (sn->node && (sn->has_pending || sn->n_wq > 0 ||
                             sn->n_aq > 0 || raft_node_has_ready(sn->node))) {
                any = true;
                sim_process_ready(s, (raft_id)(i + 1));
            }
        }
        s->draining = false;
        if (!any)
            return;
        deliver(s, true);
        check_leaders(s);
    }
    fail(s, "settle did not converge");
}

raft_id sim_leader(struct sim *s)
{
    raft_id lead = 0;
    raft_term best = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->nodes[i].node == NULL)
            continue;
        struct raft_status st;
        raft_node_status(s->nodes[i].node, &st);
        if (st.role == RAFT_LEADER && st.term >= best) {
            best = st.term;
            lead = st.id;
        }
    }
    return lead;
}

raft_id sim_wait_leader(struct sim *s, int max)
{
    for (int i = 0; i < max; i++) {
        raft_id l = sim_leader(s);
        if (l != 0)
            return l;
        sim_round(s);
    }
    return sim_leader(s);
}

int sim_propose(struct sim *s, raft_id id, uint64_t value)
{
    struct sim_node *sn = &s->nodes[id - 1];
    if (sn->node == NULL)
        return RAFT_EDROPPED;
    uint8_t buf[8];
    memcpy(buf, &value, 8);
    int rc = raft_node_propose(sn->node, buf, sizeof(buf), NULL);
    if (rc == 0) {
        if (value >= s->cap_vals) {
            size_t cap = s->cap_vals ? s->cap_vals : 1024;
            while (cap <= value)
                cap *= 2;
            s->write_op = realloc(s->write_op, cap * sizeof(size_t));
            memset(s->write_op + s->cap_vals, 0,
                   (cap - s->cap_vals) * sizeof(size_t));
            s->prop_round = realloc(s->prop_round, cap * sizeof(uint64_t));
            s->cap_vals = cap;
        }
        s->write_op[value] = hist_add(s, LINZ_WRITE, 0) + 1;
        s->prop_round[value] = s->now;
    }
    return rc;
}

void sim_isolate(struct sim *s, raft_id id)
{
    for (int i = 0; i < s->n; i++) {
        s->cut[id - 1][i] = true;
        s->cut[i][id - 1] = true;
    }
}

void sim_cut(struct sim *s, raft_id a, raft_id b)
{
    s->cut[a - 1][b - 1] = true;
    s->cut[b - 1][a - 1] = true;
}

void sim_heal(struct sim *s)
{
    memset(s->cut, 0, sizeof(s->cut));
}

void sim_crash(struct sim *s, raft_id id)
{
    struct sim_node *sn = &s->nodes[id - 1];
    raft_node_destroy(sn->node);
    sn->node = NULL;
    sn->has_pending = false;
    for (int k = 0; s->n_waiting > 0 && k < s->n_reads; k++) {
        struct sim_read *r = &s->reads[k];
        if (r->waiting && r->node == id) { /* never answered */
            r->waiting = false;
            s->n_waiting--;
        }
    }
    sn->n_wq = 0;
    sn->n_aq = 0;
}

/* On restart the state machine is rebuilt from the disk's snapshot; the
 * log after it is applied again. */
void sim_restart(struct sim *s, raft_id id)
{
    struct sim_node *sn = &s->nodes[id - 1];
    sn->crash_in_ready = false;
    if (sn->node != NULL)
        return;
    const struct raft_snapshot *snap = NULL;
    struct raft_storage *st = raft_memstore_storage(sn->ms);
    st->ops->snapshot(st, &snap);
    if (!snap_decode(s, sn, snap))
        fail(s, "node %llu: bad snapshot on disk", (unsigned long long)id);
    start(s, sn, false);
}

int sim_read(struct sim *s, raft_id id)
{
    struct sim_node *sn = &s->nodes[id - 1];
    if (sn->node == NULL || s->n_reads >= SIM_MAX_READS)
        return -1;
    raft_index min = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->nodes[i].node == NULL)
            continue;
        struct raft_status st;
        raft_node_status(s->nodes[i].node, &st);
        if (st.commit > min)
            min = st.commit;
    }
    uint64_t ctx = (id << 32) | s->next_ctx++;
    if (!s->o.stale_reads && raft_node_read_index(sn->node, ctx) != 0)
        return -1;
    struct sim_read *r = &s->reads[s->n_reads];
    r->node = id;
    r->ctx = ctx;
    r->min = min;
    r->done = false;
    r->index = 0;
    r->waiting = false;
    r->op = hist_add(s, LINZ_READ, 0);
    if (s->o.stale_reads) {
        /* Broken on purpose: the node's state now, whatever it is. */
        r->done = true;
        r->index = min;
        read_answer(s, r, sn);
    }
    return s->n_reads++;
}

static int disk_term(struct sim_node *sn, raft_index i, raft_term *t)
{
    struct raft_storage *st = raft_memstore_storage(sn->ms);
    return st->ops->term(st, i, t);
}

void sim_check_logs(struct sim *s)
{
    /* Log matching: same index and term on two disks => same prefix. */
    for (int a = 0; a < s->n; a++) {
        for (int b = a + 1; b < s->n; b++) {
            struct raft_storage *sa = raft_memstore_storage(s->nodes[a].ms);
            struct raft_storage *sb = raft_memstore_storage(s->nodes[b].ms);
            raft_index fa, fb, la, lb;
            sa->ops->first_index(sa, &fa);
            sb->ops->first_index(sb, &fb);
            sa->ops->last_index(sa, &la);
            sb->ops->last_index(sb, &lb);
            raft_index lo = fa > fb ? fa : fb, hi = la < lb ? la : lb;
            bool matched = false;
            for (raft_index i = hi; i >= lo && i > 0; i--) {
                raft_term ta, tb;
                if (disk_term(&s->nodes[a], i, &ta) != 0 ||
                    disk_term(&s->nodes[b], i, &tb) != 0)
                    break;
                if (ta == tb)
                    matched = true;
                else if (matched) {
                    fail(s, "log matching: nodes %d,%d differ at %llu", a + 1,
                         b + 1, (unsigned long long)i);
                    return;
                }
            }
        }
    }
    /* Leader completeness: an entry committed before a leader's term
     * began is in that leader's durable log. An entry counts as committed
     * by the highest term a live node knew when it was first applied: a
     * leader of a higher term was elected after the commit. */
    for (int i = 0; i < s->n; i++) {
        struct sim_node *sn = &s->nodes[i];
        if (sn->node == NULL)
            continue;
        struct raft_status st;
        raft_node_status(sn->node, &st);
        if (st.role != RAFT_LEADER)
            continue;
        struct raft_storage *sto = raft_memstore_storage(sn->ms);
        raft_index first;
        sto->ops->first_index(sto, &first);
        for (raft_index k = first; k <= s->n_ents; k++) {
            if (s->ents_term[k] == 0 || s->ents_known[k] >= st.term)
                continue;
            raft_term t;
            if (disk_term(sn, k, &t) != 0 || t != s->ents_term[k]) {
                fail(s, "leader completeness: leader %d of term %llu lacks "
                        "committed %llu",
                     i + 1, (unsigned long long)st.term,
                     (unsigned long long)k);
                return;
            }
        }
    }
}

size_t sim_check_linearizable(struct sim *s)
{
    if (s->hist_incomplete || s->failure[0] != '\0')
        return 0;
    /* Unanswered reads said nothing; appends never applied took no
     * effect that anyone saw (a read after them would have to see them,
     * and reads see applied state). */
    struct linz_op *ops = malloc((s->n_hist ? s->n_hist : 1) * sizeof(*ops));
    size_t n = 0;
    for (size_t i = 0; i < s->n_hist; i++)
        if (s->hist[i].ret != LINZ_PENDING)
            ops[n++] = s->hist[i];
    uint64_t steps = 0;
    int rc = linz_check(&linz_log, ops, n, 100000000, &steps);
    free(ops);
    if (rc == LINZ_VIOLATION)
        fail(s, "linearizability: no order of %zu appends and reads fits",
             n);
    else if (rc != LINZ_OK)
        fail(s, "linearizability: search gave up after %llu steps",
             (unsigned long long)steps);
    s->linz_ops += n;
    return n;
}

void sim_deliver_all(struct sim *s)
{
    deliver(s, true);
}

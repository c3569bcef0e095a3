/* node.c: the Raft state machine: roles, terms and votes (Raft paper 5.1-5.2,
 * thesis 9.6 PreVote, 6.2 CheckQuorum), replication (5.3, 5.4), reads
 * (thesis 6.4), snapshots (5.1 of chapter 5), membership (chapter 4) and
 * leadership transfer (3.10). DESIGN.md "Roles" and "Invariants".
 */
#include <stdio.h>
#include <string.h>

#include "raft_int.h"

#define CAMPAIGN_TRANSFER 1 /* context of a vote forced by a transfer */

/* ------------------------------------------------------------------ */
/* Errors, logging */

void raft__log_msg(struct raft_node *n, int level, const char *fmt, ...)
{
    if (n->cfg.logger == NULL || level < n->cfg.log_level)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    n->cfg.logger(n->cfg.logger_ctx, level, n->id, buf);
}

int raft__err(struct raft_node *n, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->errmsg, sizeof(n->errmsg), fmt, ap);
    va_end(ap);
    return rc;
}

const char *raft_node_errmsg(const struct raft_node *n)
{
    return n->errmsg;
}

/* ------------------------------------------------------------------ */
/* Outgoing messages */

static void free_msg_payload(struct raft_message *m)
{
    raft__free(m->entries);
    raft__free(m->snapshot);
    m->entries = NULL;
    m->snapshot = NULL;
}

void raft__msgvec_clear(struct raft__msgvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        free_msg_payload(&v->v[i]);
    v->n = 0;
}

void raft__msgvec_free(struct raft__msgvec *v)
{
    raft__msgvec_clear(v);
    raft__free(v->v);
    v->v = NULL;
    v->cap = 0;
}

/* Messages a leader sends may leave before its own writes are durable;
 * every other message depends on persisted state (a vote, an append). */
static bool send_early(uint32_t type)
{
    return type == RAFT_MSG_APPEND || type == RAFT_MSG_HEARTBEAT ||
           type == RAFT_MSG_SNAPSHOT || type == RAFT_MSG_TIMEOUT_NOW ||
           type == RAFT_MSG_READ_INDEX_RESP;
}

void raft__send(struct raft_node *n, const struct raft_message *m)
{
    /* Early only once this term is durable: a single voter becomes leader
     * without any message, and if its new term were lost in a crash it
     * could lead the same term again with a different log. */
    struct raft__msgvec *v =
        send_early(m->type) && n->term <= n->term_durable ? &n->msgs
                                                          : &n->after;
    struct raft_message c = *m;
    c.from = n->id;
    c.entries = NULL;
    c.snapshot = NULL;
    if (m->n_entries > 0) {
        size_t bytes = (size_t)m->n_entries * sizeof(struct raft_entry);
        for (uint32_t i = 0; i < m->n_entries; i++)
            bytes += m->entries[i].len;
        struct raft_entry *e = raft__malloc(bytes);
        if (e == NULL)
            goto drop;
        uint8_t *data = (uint8_t *)(e + m->n_entries);
        for (uint32_t i = 0; i < m->n_entries; i++) {
            e[i] = m->entries[i];
            if (e[i].len > 0) {
                memcpy(data, m->entries[i].data, e[i].len);
                e[i].data = data;
                data += e[i].len;
            } else {
                e[i].data = NULL;
            }
        }
        c.entries = e;
    }
    if (m->snapshot != NULL) {
        struct raft_snapshot *s =
            raft__malloc(sizeof(*s) + (size_t)m->snapshot->len);
        if (s == NULL)
            goto drop;
        *s = *m->snapshot;
        s->data = s + 1;
        if (s->len > 0)
            memcpy(s->data, m->snapshot->data, (size_t)s->len);
        c.snapshot = s;
    }
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        struct raft_message *nv = raft__realloc(v->v, cap * sizeof(*nv));
        if (nv == NULL)
            goto drop;
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = c;
    return;
drop:
    /* Losing a message is always safe in Raft; it is counted. */
    free_msg_payload(&c);
    n->dropped_msgs++;
}

static void send_simple(struct raft_node *n, uint32_t type, raft_id to,
                        raft_term term)
{
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    m.to = to;
    m.term = term;
    raft__send(n, &m);
}

/* ------------------------------------------------------------------ */
/* Randomness and roles */

static uint64_t rng_next(struct raft_node *n)
{
    uint64_t z = (n->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void reset_timeout(struct raft_node *n)
{
    int e = n->cfg.election_tick;
    n->randomized_timeout = e + (int)(rng_next(n) % (uint64_t)e);
}

static bool promotable(struct raft_node *n)
{
    return raft__conf_is_voter(&n->trk.conf, n->id);
}

/* Index up to which this node's own log is durable. */
static raft_index durable_index(struct raft_node *n)
{
    if (n->log.u.snap != NULL)
        return 0;
    raft_index d = n->log.u.offset - 1;
    raft_index last = raft__log_last(&n->log);
    return d < last ? d : last;
}

static void clear_reads(struct raft_node *n)
{
    n->n_reads_pending = 0;
    n->n_reads_wait = 0;
}

static void reset(struct raft_node *n, raft_term term)
{
    if (n->term != term) {
        n->term = term;
        n->vote = 0;
    }
    n->lead = 0;
    n->election_elapsed = 0;
    n->heartbeat_elapsed = 0;
    reset_timeout(n);
    n->transferee = 0;
    n->bcast_due = false;
    n->n_granted = 0;
    n->n_rejected = 0;
    n->pending_conf_index = 0;
    n->uncommitted = 0;
    n->removed_at = 0;
    clear_reads(n);
    raft_index last = raft__log_last(&n->log);
    for (uint32_t i = 0; i < n->trk.n; i++) {
        struct raft__progress *p = &n->trk.prs[i];
        raft__progress_reset(p, last + 1);
        if (p->id == n->id)
            p->match = durable_index(n);
    }
}

static void become_follower(struct raft_node *n, raft_term term, raft_id lead)
{
    reset(n, term);
    n->role = RAFT_FOLLOWER;
    n->lead = lead;
    raft__log_msg(n, RAFT_LOG_INFO, "follower at term %llu, leader %llu",
                  (unsigned long long)term, (unsigned long long)lead);
}

static void become_candidate(struct raft_node *n)
{
    reset(n, n->term + 1);
    n->vote = n->id;
    n->role = RAFT_CANDIDATE;
    raft__log_msg(n, RAFT_LOG_INFO, "candidate at term %llu",
                  (unsigned long long)n->term);
}

static void become_pre_candidate(struct raft_node *n)
{
    /* No term or vote change: a partitioned node cannot disrupt. */
    n->n_granted = 0;
    n->n_rejected = 0;
    n->role = RAFT_PRE_CANDIDATE;
    n->lead = 0;
    raft__log_msg(n, RAFT_LOG_INFO, "pre-candidate at term %llu",
                  (unsigned long long)n->term);
}

static int append_entries(struct raft_node *n, struct raft_entry *ents,
                          size_t cnt);

static int become_leader(struct raft_node *n)
{
    reset(n, n->term);
    n->lead = n->id;
    n->role = RAFT_LEADER;
    struct raft__progress *self = raft__tracker_get(&n->trk, n->id);
    if (self != NULL) {
        self->match = durable_index(n);
        self->next = raft__log_last(&n->log) + 1;
    }
    /* Conf changes in the uncommitted tail may still be pending. */
    n->pending_conf_index = raft__log_last(&n->log);
    raft__log_msg(n, RAFT_LOG_INFO, "leader at term %llu",
                  (unsigned long long)n->term);
    /* An empty entry of the new term commits the previous terms' entries
     * (5.4.2) and lets reads start (thesis 6.4). */
    struct raft_entry e;
    memset(&e, 0, sizeof(e));
    return append_entries(n, &e, 1);
}

/* ------------------------------------------------------------------ */
/* Replication, leader side */

/* The storage's snapshot and the size of its data. */
static int snap_source(struct raft_node *n, const struct raft_snapshot **s,
                       uint64_t *size)
{
    struct raft_storage *st = n->log.storage;
    int rc = st->ops->snapshot(st, s);
    if (rc != 0)
        return rc;
    if (*s == NULL || (*s)->meta.index == 0)
        return RAFT_ESNAPTEMP;
    *size = st->ops->snapshot_read != NULL ? (*s)->total : (*s)->len;
    return 0;
}

/* Send the snapshot chunks p's window allows (snapshot_window chunks
 * unacknowledged). Data comes from snapshot_read one chunk at a time, or
 * is sliced from the storage's snapshot. If the storage's snapshot is no
 * longer the one being sent, the member goes back to probing and gets the
 * new one at the next contact. */
static void snap_pump(struct raft_node *n, struct raft__progress *p)
{
    struct raft_storage *st = n->log.storage;
    uint64_t chunk = n->cfg.snapshot_chunk_bytes;
    uint64_t win = n->cfg.snapshot_window;
    win = win > UINT64_MAX / chunk ? UINT64_MAX : win * chunk;
    while (p->state == RAFT_PROGRESS_SNAPSHOT &&
           (!p->snap_begun || p->snap_sent < p->snap_total) &&
           p->snap_sent - p->snap_acked < win) {
        uint64_t off = p->snap_sent, size = p->snap_total;
        struct raft_snapshot c;
        int rc;
        if (st->ops->snapshot_read != NULL) {
            /* The snapshot being sent, even if the storage has a newer one
             * by now, as long as it can still read it. */
            memset(&c, 0, sizeof(c));
            c.meta = p->snap_meta;
        } else {
            const struct raft_snapshot *s = NULL;
            rc = snap_source(n, &s, &size);
            if (rc == RAFT_ESNAPTEMP)
                return; /* retried at the next tick or acknowledgement */
            if (rc != 0 || s->meta.index != p->pending_snapshot ||
                s->meta.term != p->snap_term || size != p->snap_total) {
                raft__progress_become_probe(p);
                return;
            }
            c = *s;
        }
        c.offset = off;
        c.total = size;
        c.len = size - off < chunk ? size - off : chunk;
        void *buf = NULL;
        if (st->ops->snapshot_read != NULL) {
            c.data = NULL;
            if (c.len > 0) {
                if (c.len > SIZE_MAX || (buf = raft__malloc((size_t)c.len)) ==
                                            NULL)
                    return; /* retried at the next tick */
                rc = st->ops->snapshot_read(st, c.meta.index, off, buf,
                                            c.len);
                if (rc != 0) { /* RAFT_ESNAPTEMP: until resumed; any
                                   other: retried at a tick */
                    raft__free(buf);
                    if (rc == RAFT_ESNAPOLD)
                        raft__progress_become_probe(p);
                    return;
                }
            }
            c.data = buf;
        } else if (c.len > 0) {
            c.data = (uint8_t *)c.data + off;
        } else {
            c.data = NULL;
        }
        struct raft_message m;
        memset(&m, 0, sizeof(m));
        m.type = RAFT_MSG_SNAPSHOT;
        m.to = p->id;
        m.term = n->term;
        m.snapshot = &c;
        raft__send(n, &m);
        raft__free(buf);
        p->snap_sent += c.len;
        p->snap_begun = true;
    }
}

static bool send_snapshot(struct raft_node *n, struct raft__progress *p)
{
    if (!p->recent_active)
        return false;
    const struct raft_snapshot *s = NULL;
    uint64_t size = 0;
    if (snap_source(n, &s, &size) != 0)
        return false;
    raft__progress_become_snapshot(p, s->meta.index);
    p->snap_meta = s->meta;
    p->snap_term = s->meta.term;
    p->snap_total = size;
    p->snap_sent = 0;
    p->snap_acked = 0;
    p->snap_begun = false;
    raft__log_msg(n, RAFT_LOG_INFO, "sending snapshot at %llu to %llu",
                  (unsigned long long)s->meta.index,
                  (unsigned long long)p->id);
    snap_pump(n, p);
    return true;
}

static bool send_append(struct raft_node *n, struct raft__progress *p,
                        bool send_if_empty)
{
    if (raft__progress_paused(p, n->cfg.max_inflight_msgs,
                              n->cfg.max_inflight_bytes))
        return false;
    raft_index prev = p->next - 1;
    raft_term pt;
    int rc = raft__log_term(&n->log, prev, &pt);
    if (rc != 0)
        return send_snapshot(n, p);
    struct raft_entry *ents = NULL;
    size_t cnt = 0;
    rc = raft__log_entries(&n->log, p->next, raft__log_last(&n->log) + 1,
                           n->cfg.max_size_per_msg, &ents, &cnt);
    if (rc == RAFT_ECOMPACTED)
        return send_snapshot(n, p);
    if (rc != 0)
        return false;
    if (cnt == 0 && !send_if_empty) {
        raft__free(ents);
        return false;
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < cnt; i++)
        bytes += ents[i].len;
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND;
    m.to = p->id;
    m.term = n->term;
    m.index = prev;
    m.log_term = pt;
    m.commit = n->log.committed;
    m.entries = ents;
    m.n_entries = (uint32_t)cnt;
    raft__send(n, &m);
    raft__free(ents);
    raft__progress_sent(p, (uint32_t)cnt, bytes, n->cfg.max_inflight_msgs);
    return true;
}

void raft__bcast_append(struct raft_node *n)
{
    for (uint32_t i = 0; i < n->trk.n; i++)
        if (n->trk.prs[i].id != n->id)
            send_append(n, &n->trk.prs[i], true);
}

/* The appends owed since the last ready (proposals, commits): one message
 * per follower carrying every new entry and the commit index, instead of
 * one per proposal and one per commit step, each answered on its own
 * (DESIGN.md "The ready cycle", deferred appends). A follower whose
 * inflight window is open gets the rest in further messages of at most
 * max_size_per_msg. */
void raft__flush_appends(struct raft_node *n)
{
    if (!n->bcast_due)
        return;
    n->bcast_due = false;
    if (n->role != RAFT_LEADER)
        return;
    for (uint32_t i = 0; i < n->trk.n; i++) {
        struct raft__progress *p = &n->trk.prs[i];
        if (p->id == n->id)
            continue;
        if (send_append(n, p, true))
            while (p->state == RAFT_PROGRESS_REPLICATE &&
                   send_append(n, p, false)) {
            }
    }
}

/* The lease's clock: the application's milliseconds if it gave a clock,
 * else the node's ticks. */
static uint64_t lease_now(const struct raft_node *n)
{
    return n->cfg.now_ms ? n->cfg.now_ms(n->cfg.clock_ctx) : n->ticks;
}

static void bcast_heartbeat(struct raft_node *n, uint64_t ctx)
{
    for (uint32_t i = 0; i < n->trk.n; i++) {
        struct raft__progress *p = &n->trk.prs[i];
        if (p->id == n->id)
            continue;
        struct raft_message m;
        memset(&m, 0, sizeof(m));
        m.type = RAFT_MSG_HEARTBEAT;
        m.to = p->id;
        m.term = n->term;
        m.commit = p->match < n->log.committed ? p->match : n->log.committed;
        m.context = ctx;
        m.index = lease_now(n); /* echoed back: dates the follower's lease */
        raft__send(n, &m);
    }
}

static bool self_quorum(struct raft_node *n)
{
    raft_id self = n->id;
    return raft__tally(&n->trk.conf, &self, 1, NULL, 0) == RAFT__VOTE_WON;
}

static void read_respond(struct raft_node *n, raft_id from, uint64_t ctx,
                         raft_index index)
{
    if (from == n->id || from == 0) {
        if (n->n_reads_done == n->cap_reads_done) {
            size_t cap = n->cap_reads_done ? n->cap_reads_done * 2 : 8;
            struct raft_read_state *r =
                raft__realloc(n->reads_done, cap * sizeof(*r));
            if (r == NULL) {
                n->dropped_msgs++;
                return;
            }
            n->reads_done = r;
            n->cap_reads_done = cap;
        }
        n->reads_done[n->n_reads_done].context = ctx;
        n->reads_done[n->n_reads_done].index = index;
        n->n_reads_done++;
        return;
    }
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_READ_INDEX_RESP;
    m.to = from;
    m.term = n->term;
    m.index = index;
    m.context = ctx;
    raft__send(n, &m);
}

static int push_read(struct raft__read_req **v, size_t *cnt, size_t *cap,
                     const struct raft__read_req *r)
{
    if (*cnt == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        struct raft__read_req *nv = raft__realloc(*v, c * sizeof(*nv));
        if (nv == NULL)
            return -ENOMEM;
        *v = nv;
        *cap = c;
    }
    (*v)[(*cnt)++] = *r;
    return 0;
}

static bool committed_in_term(struct raft_node *n)
{
    return raft__log_term0(&n->log, n->log.committed) == n->term;
}

/* Thesis 6.4.1: a follower that acked a heartbeat the leader sent at tick t
 * refuses votes until at least t + election_tick (same tick rate assumed),
 * so no other leader can exist before then. One tick of margin covers
 * unaligned ticks. With a clock the same holds in real time: the follower
 * got the heartbeat after the leader sent it at time t and refuses votes
 * for election_tick of its own ticks, each at least tick_ms long, the
 * first of which may come at once: so for more than (election_tick - 1)
 * * tick_ms after t. One more tick of margin covers timers firing a
 * little early. */
static bool lease_valid(const struct raft_node *n)
{
    raft_id ok[RAFT_MAX_MEMBERS];
    size_t cnt = 0;
    uint64_t e = (uint64_t)n->cfg.election_tick;
    uint64_t now = lease_now(n);
    uint64_t span = n->cfg.now_ms ? (e - 2) * n->cfg.tick_ms : e - 1;
    /* A TIMEOUT_NOW lets its transferee win votes its followers would
     * refuse under the lease (the forced campaign overrides it), so the
     * lease ends when one is sent, stays void while a transfer is under
     * way, and restarts only from heartbeats sent after lease_fence
     * (DESIGN.md "Reads"). */
    if (n->transferee != 0 || now <= n->lease_fence)
        return false;
    for (uint32_t i = 0; i < n->trk.n; i++) {
        const struct raft__progress *p = &n->trk.prs[i];
        if (p->learner)
            continue;
        if (p->id == n->id ||
            (p->lease_tick > n->lease_fence && p->lease_tick + span > now))
            ok[cnt++] = p->id;
    }
    return raft__tally(&n->trk.conf, ok, cnt, NULL, 0) == RAFT__VOTE_WON;
}

/* Thesis 6.4: record the commit index, confirm leadership with a heartbeat
 * round, then the index is safe to read at. */
static int leader_read(struct raft_node *n, raft_id from, uint64_t ctx)
{
    struct raft__read_req r;
    memset(&r, 0, sizeof(r));
    r.context = ctx;
    r.from = from;
    /* First: the commit index is only known to be current once an entry
     * of this term is committed (a single voter too: after a restart its
     * commit index can lag what it had told others). */
    if (!committed_in_term(n))
        return push_read(&n->reads_wait, &n->n_reads_wait,
                         &n->cap_reads_wait, &r);
    if (self_quorum(n)) {
        read_respond(n, from, ctx, n->log.committed);
        return 0;
    }
    if (n->cfg.read_only == RAFT_READ_LEASE && lease_valid(n)) {
        /* Lease (thesis 6.4.1): no round trip; otherwise fall back to the
         * heartbeat round below. */
        read_respond(n, from, ctx, n->log.committed);
        return 0;
    }
    r.index = n->log.committed;
    r.acks[0] = n->id;
    r.n_acks = 1;
    int rc = push_read(&n->reads_pending, &n->n_reads_pending,
                       &n->cap_reads_pending, &r);
    if (rc != 0)
        return rc;
    bcast_heartbeat(n, ctx);
    return 0;
}

static void read_ack(struct raft_node *n, uint64_t ctx, raft_id from)
{
    size_t k;
    for (k = 0; k < n->n_reads_pending; k++)
        if (n->reads_pending[k].context == ctx)
            break;
    if (k == n->n_reads_pending)
        return;
    struct raft__read_req *r = &n->reads_pending[k];
    if (!raft__ids_has(r->acks, (uint8_t)r->n_acks, from) &&
        r->n_acks < RAFT_MAX_MEMBERS)
        r->acks[r->n_acks++] = from;
    if (raft__tally(&n->trk.conf, r->acks, r->n_acks, NULL, 0) !=
        RAFT__VOTE_WON)
        return;
    /* Confirmed: so is every earlier request (they were sent before). */
    for (size_t i = 0; i <= k; i++) {
        struct raft__read_req *q = &n->reads_pending[i];
        read_respond(n, q->from, q->context, q->index);
    }
    memmove(n->reads_pending, n->reads_pending + k + 1,
            (n->n_reads_pending - k - 1) * sizeof(*n->reads_pending));
    n->n_reads_pending -= k + 1;
}

int raft__maybe_commit(struct raft_node *n)
{
    raft_index c = raft__tracker_committed(&n->trk);
    bool was_in_term = committed_in_term(n);
    if (!raft__log_maybe_commit(&n->log, c, n->term))
        return 0;
    if (!was_in_term && n->n_reads_wait > 0) {
        size_t w = n->n_reads_wait;
        n->n_reads_wait = 0;
        for (size_t i = 0; i < w; i++)
            leader_read(n, n->reads_wait[i].from, n->reads_wait[i].context);
    }
    n->bcast_due = true; /* the commit index goes out with the next ready */
    return 1;
}

static int append_entries(struct raft_node *n, struct raft_entry *ents,
                          size_t cnt)
{
    raft_index last = raft__log_last(&n->log);
    for (size_t i = 0; i < cnt; i++) {
        ents[i].term = n->term;
        ents[i].index = last + 1 + i;
    }
    int rc = raft__log_append(&n->log, ents, cnt);
    if (rc != 0)
        return rc;
    /* Our own entries count only once durable (raft_node_advance). */
    return 0;
}

/* ------------------------------------------------------------------ */
/* Elections */

static bool pending_conf_unapplied(struct raft_node *n)
{
    if (n->log.committed <= n->log.applied)
        return false;
    struct raft_entry *e = NULL;
    size_t cnt = 0;
    raft_index lo = n->log.applied + 1;
    if (lo < raft__log_first(&n->log))
        lo = raft__log_first(&n->log);
    if (raft__log_entries(&n->log, lo, n->log.committed + 1, UINT64_MAX, &e,
                          &cnt) != 0)
        return true; /* cannot tell: be safe */
    bool found = false;
    for (size_t i = 0; i < cnt; i++)
        if (e[i].type == RAFT_ENTRY_CONF_CHANGE)
            found = true;
    raft__free(e);
    return found;
}

static int record_vote(struct raft_node *n, raft_id from, bool granted)
{
    if (raft__ids_has(n->granted, (uint8_t)n->n_granted, from) ||
        raft__ids_has(n->rejected, (uint8_t)n->n_rejected, from))
        return raft__tally(&n->trk.conf, n->granted, n->n_granted,
                           n->rejected, n->n_rejected);
    if (granted && n->n_granted < RAFT_MAX_MEMBERS)
        n->granted[n->n_granted++] = from;
    else if (!granted && n->n_rejected < RAFT_MAX_MEMBERS)
        n->rejected[n->n_rejected++] = from;
    return raft__tally(&n->trk.conf, n->granted, n->n_granted, n->rejected,
                       n->n_rejected);
}

static int campaign(struct raft_node *n, bool pre, bool transfer)
{
    raft_term vterm;
    uint32_t type;
    if (pre) {
        become_pre_candidate(n);
        vterm = n->term + 1;
        type = RAFT_MSG_PREVOTE;
    } else {
        become_candidate(n);
        vterm = n->term;
        type = RAFT_MSG_VOTE;
    }
    if (record_vote(n, n->id, true) == RAFT__VOTE_WON) {
        if (pre)
            return campaign(n, false, transfer);
        return become_leader(n);
    }
    raft_id ids[2 * RAFT_MAX_MEMBERS];
    size_t cnt = 0;
    const struct raft_conf_state *c = &n->trk.conf;
    for (uint8_t i = 0; i < c->n_voters; i++)
        ids[cnt++] = c->voters[i];
    for (uint8_t i = 0; i < c->n_voters_outgoing; i++)
        if (!raft__ids_has(c->voters, c->n_voters, c->voters_outgoing[i]))
            ids[cnt++] = c->voters_outgoing[i];
    for (size_t i = 0; i < cnt; i++) {
        if (ids[i] == n->id)
            continue;
        struct raft_message m;
        memset(&m, 0, sizeof(m));
        m.type = type;
        m.to = ids[i];
        m.term = vterm;
        m.index = raft__log_last(&n->log);
        m.log_term = raft__log_last_term(&n->log);
        m.context = transfer ? CAMPAIGN_TRANSFER : 0;
        raft__send(n, &m);
    }
    return 0;
}

static int hup(struct raft_node *n, bool transfer)
{
    if (n->role == RAFT_LEADER || !promotable(n))
        return 0;
    if (pending_conf_unapplied(n)) {
        raft__log_msg(n, RAFT_LOG_INFO,
                      "not campaigning: conf change committed, not applied");
        return 0;
    }
    return campaign(n, n->cfg.pre_vote && !transfer, transfer);
}

/* ------------------------------------------------------------------ */
/* Follower handlers */

static void respond_append(struct raft_node *n, raft_id to, raft_index index,
                           bool reject, raft_index hint, raft_term hint_term)
{
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_APPEND_RESP;
    m.to = to;
    m.term = n->term;
    m.index = index;
    m.reject = reject;
    m.reject_hint = hint;
    m.log_term = hint_term;
    m.commit = n->log.committed; /* lets a removed leader know we know */
    raft__send(n, &m);
}

static int handle_append(struct raft_node *n, const struct raft_message *m)
{
    if (m->index < n->log.committed) {
        respond_append(n, m->from, n->log.committed, false, 0, 0);
        return 0;
    }
    raft_index lastnew;
    bool ok;
    int rc = raft__log_maybe_append(&n->log, m->index, m->log_term, m->commit,
                                    m->entries, m->n_entries, &lastnew, &ok);
    if (rc != 0)
        return raft__err(n, rc, "append from %llu at %llu refused",
                         (unsigned long long)m->from,
                         (unsigned long long)m->index);
    if (ok) {
        respond_append(n, m->from, lastnew, false, 0, 0);
        return 0;
    }
    /* Fast backtracking: point the leader at the last entry whose term is
     * <= the term it probed with, skipping a whole term per round trip. */
    raft_index last = raft__log_last(&n->log);
    raft_index hint = m->index < last ? m->index : last;
    raft_term ht;
    hint = raft__log_conflict_by_term(&n->log, hint, m->log_term, &ht);
    respond_append(n, m->from, m->index, true, hint, ht);
    return 0;
}

static void handle_heartbeat(struct raft_node *n, const struct raft_message *m)
{
    raft__log_commit_to(&n->log, m->commit);
    struct raft_message r;
    memset(&r, 0, sizeof(r));
    r.type = RAFT_MSG_HEARTBEAT_RESP;
    r.to = m->from;
    r.term = n->term;
    r.context = m->context;
    r.index = m->index;
    r.commit = n->log.committed;
    raft__send(n, &r);
}

static bool restore(struct raft_node *n, struct raft_snapshot *s)
{
    if (s->meta.index <= n->log.committed)
        return false;
    if (raft__log_match_term(&n->log, s->meta.index, s->meta.term)) {
        raft__log_commit_to(&n->log, s->meta.index);
        return false;
    }
    if (raft__conf_validate(&s->meta.conf) != 0 ||
        raft__log_reserve_garbage(&n->log, n->log.u.n + 2) != 0)
        return false;
    raft__log_restore(&n->log, s);
    raft__tracker_set_conf(&n->trk, &s->meta.conf,
                           raft__log_last(&n->log) + 1);
    raft__log_msg(n, RAFT_LOG_INFO, "restored snapshot at %llu term %llu",
                  (unsigned long long)s->meta.index,
                  (unsigned long long)s->meta.term);
    return true;
}

static void free_snap(struct raft_snapshot *s)
{
    if (s != NULL) {
        raft__free(s->data);
        raft__free(s);
    }
}

static void drop_rx(struct raft_node *n)
{
    free_snap(n->snap_rx);
    n->snap_rx = NULL;
    for (uint32_t i = 0; i < n->n_early; i++)
        raft__free(n->early[i].data);
    n->n_early = 0;
}

/* In-order data of the snapshot being received (copied): appended to the
 * assembly, or queued for the application as a chunk (stream_snapshots;
 * data handed over when owned is true). */
static int rx_take(struct raft_node *n, struct raft_snapshot *s, void *data,
                   uint64_t len, bool owned)
{
    if (!n->cfg.stream_snapshots) {
        if (len > 0) {
            /* Grow with the data received, never by the claimed total. */
            void *d = raft__realloc(s->data, (size_t)(s->len + len));
            if (d == NULL)
                return -ENOMEM;
            s->data = d;
            memcpy((uint8_t *)s->data + s->len, data, (size_t)len);
        }
        if (owned)
            raft__free(data);
        s->len += len;
        return 0;
    }
    if (n->n_rx_chunks == n->cap_rx_chunks) {
        size_t cap = n->cap_rx_chunks ? n->cap_rx_chunks * 2 : 4;
        struct raft_snapshot *v =
            raft__realloc(n->rx_chunks, cap * sizeof(*v));
        if (v == NULL)
            return -ENOMEM;
        n->rx_chunks = v;
        n->cap_rx_chunks = cap;
    }
    void *d = NULL;
    if (owned) {
        d = data;
    } else if (len > 0) {
        d = raft__malloc((size_t)len);
        if (d == NULL)
            return -ENOMEM;
        memcpy(d, data, (size_t)len);
    }
    struct raft_snapshot *c = &n->rx_chunks[n->n_rx_chunks++];
    *c = *s;
    c->offset = s->len;
    c->len = len;
    c->data = d;
    s->len += len;
    return 0;
}

/* Tell the leader how much of the snapshot we hold, once durable; one
 * answer per ready per snapshot (the newest count wins). */
static void snap_ack(struct raft_node *n, raft_id to,
                     const struct raft_snapshot *s)
{
    for (size_t i = 0; i < n->after.n; i++) {
        struct raft_message *q = &n->after.v[i];
        if (q->type == RAFT_MSG_SNAPSHOT_RESP && q->to == to &&
            q->index == s->meta.index && q->log_term == s->meta.term) {
            q->context = s->len;
            q->term = n->term;
            return;
        }
    }
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_SNAPSHOT_RESP;
    m.to = to;
    m.term = n->term;
    m.index = s->meta.index;
    m.log_term = s->meta.term;
    m.context = s->len;
    raft__send(n, &m);
}

/* Chunks are taken in order; ones that arrive early (reordering) wait in a
 * small set, duplicates are ignored. A chunk of a newer snapshot starts
 * over. Progress is acknowledged (SNAPSHOT_RESP) for the leader's window;
 * the whole snapshot is answered with an append response. */
static int handle_snapshot(struct raft_node *n, const struct raft_message *m)
{
    const struct raft_snapshot *c = m->snapshot;
    if (c == NULL || c->offset > c->total || c->len > c->total - c->offset ||
        (c->len > 0 && c->data == NULL))
        return raft__err(n, RAFT_EINVAL, "malformed snapshot chunk");
    if (c->meta.index <= n->log.committed) {
        /* Nothing we need. The chunk ending it gets our commit index, so
         * that the leader moves on. */
        if (c->offset + c->len == c->total)
            respond_append(n, m->from, n->log.committed, false, 0, 0);
        return 0;
    }
    if (n->cfg.stream_snapshots && n->log.u.snap != NULL &&
        !n->log.u.snap_handed)
        return 0; /* its chunks and the next one's must not share a ready:
                   * the leader resends */
    struct raft_snapshot *s = n->snap_rx;
    bool same = s != NULL && s->meta.index == c->meta.index &&
                s->meta.term == c->meta.term && s->total == c->total;
    if (!same) {
        if (s != NULL && c->meta.index < s->meta.index &&
            m->term == n->snap_rx_term)
            return 0; /* a late chunk of this leader's older transfer */
        if (c->total > SIZE_MAX)
            return -ENOMEM;
        drop_rx(n);
        s = raft__calloc(1, sizeof(*s));
        if (s == NULL)
            return -ENOMEM;
        s->meta = c->meta;
        s->total = c->total;
        n->snap_rx = s;
        n->snap_rx_term = m->term;
        if (c->offset > 0)
            snap_ack(n, m->from, s); /* we hold nothing: from the start */
    }
    if (c->offset < s->len || (c->offset == s->len && c->len == 0 &&
                               s->len != s->total && c->total != 0)) {
        snap_ack(n, m->from, s); /* duplicate: say what we hold */
        return 0;
    }
    if (c->offset > s->len) {
        for (uint32_t i = 0; i < n->n_early; i++)
            if (n->early[i].offset == c->offset)
                return 0;
        if (n->n_early == RAFT__MAX_EARLY_CHUNKS)
            return 0; /* the leader will retry */
        void *d = NULL;
        if (c->len > 0) {
            d = raft__malloc((size_t)c->len);
            if (d == NULL)
                return -ENOMEM;
            memcpy(d, c->data, (size_t)c->len);
        }
        n->early[n->n_early].offset = c->offset;
        n->early[n->n_early].len = c->len;
        n->early[n->n_early].data = d;
        n->n_early++;
        return 0;
    }
    int rc = rx_take(n, s, c->data, c->len, false);
    if (rc != 0)
        return rc;
    for (bool more = true; more;) {
        more = false;
        for (uint32_t i = 0; i < n->n_early; i++) {
            struct raft__chunk *e = &n->early[i];
            if (e->offset != s->len || e->len > s->total - s->len)
                continue;
            rc = rx_take(n, s, e->data, e->len, true);
            if (rc != 0)
                return rc;
            *e = n->early[--n->n_early];
            more = true;
            break;
        }
    }
    if (s->len < s->total) {
        snap_ack(n, m->from, s);
        return 0;
    }
    n->snap_rx = NULL;
    drop_rx(n);
    if (n->cfg.stream_snapshots)
        s->len = 0; /* the data went to the application in chunks */
    if (restore(n, s)) {
        respond_append(n, m->from, raft__log_last(&n->log), false, 0, 0);
    } else {
        free_snap(s);
        respond_append(n, m->from, n->log.committed, false, 0, 0);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Leader handlers */

static bool conf_entry_ok(struct raft_node *n, const struct raft_entry *e)
{
    struct raft_conf_change cc;
    struct raft_conf_state out;
    if (raft_conf_change_decode(e->data, e->len, &cc) != 0)
        return false;
    return raft__conf_apply(&n->trk.conf, &cc, &out) == 0;
}

static int leader_propose(struct raft_node *n, const struct raft_message *m,
                          raft_index *index)
{
    if (!promotable(n))
        return raft__err(n, RAFT_EDROPPED, "leader is no longer a voter");
    if (n->transferee != 0)
        return raft__err(n, RAFT_EDROPPED, "leadership transfer under way");
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < m->n_entries; i++) {
        const struct raft_entry *e = &m->entries[i];
        if (e->type == RAFT_ENTRY_CONF_CHANGE) {
            if (n->pending_conf_index > n->log.applied)
                return raft__err(n, RAFT_ECONFPENDING,
                                 "conf change at %llu not yet applied",
                                 (unsigned long long)n->pending_conf_index);
            if (!conf_entry_ok(n, e) || m->n_entries != 1)
                return raft__err(n, RAFT_ECONF, "invalid conf change");
        }
        bytes += e->len;
    }
    uint64_t cap = n->cfg.max_uncommitted_bytes;
    if (cap > 0 && n->uncommitted > 0 && n->uncommitted + bytes > cap)
        return raft__err(n, RAFT_ETOOBIG, "uncommitted bytes over %llu",
                         (unsigned long long)cap);
    struct raft_entry stack[16];
    struct raft_entry *ents = stack;
    if (m->n_entries > 16) {
        ents = raft__malloc(m->n_entries * sizeof(*ents));
        if (ents == NULL)
            return -ENOMEM;
    }
    memcpy(ents, m->entries, m->n_entries * sizeof(*ents));
    int rc = append_entries(n, ents, m->n_entries);
    if (ents != stack)
        raft__free(ents);
    if (rc != 0)
        return rc;
    n->uncommitted += bytes;
    raft_index last = raft__log_last(&n->log);
    for (uint32_t i = 0; i < m->n_entries; i++)
        if (m->entries[i].type == RAFT_ENTRY_CONF_CHANGE)
            n->pending_conf_index = last - m->n_entries + 1 + i;
    if (index != NULL)
        *index = last;
    n->bcast_due = true; /* sent with the next ready, with others' */
    return 0;
}

static void send_timeout_now(struct raft_node *n, raft_id to)
{
    /* The lease ends here: see lease_valid. A forced vote request sent
     * on this message's account is taken to arrive within an election
     * timeout (the lease's own bound, on messages instead of clocks). */
    n->lease_fence = lease_now(n) + (n->cfg.now_ms
                                         ? (uint64_t)n->cfg.election_tick *
                                               n->cfg.tick_ms
                                         : (uint64_t)n->cfg.election_tick);
    send_simple(n, RAFT_MSG_TIMEOUT_NOW, to, n->term);
}

static int leader_step(struct raft_node *n, const struct raft_message *m,
                       raft_index *index)
{
    struct raft__progress *p;
    switch (m->type) {
    case RAFT_MSG_PROPOSE:
        return leader_propose(n, m, index);
    case RAFT_MSG_READ_INDEX:
        return leader_read(n, m->from, m->context);
    case RAFT_MSG_TRANSFER_LEADER: {
        raft_id to = (raft_id)m->context;
        p = raft__tracker_get(&n->trk, to);
        if (p == NULL || p->learner || to == n->id)
            return 0;
        if (n->transferee == to)
            return 0;
        n->transferee = to;
        n->election_elapsed = 0; /* give up after an election timeout */
        if (p->match == raft__log_last(&n->log))
            send_timeout_now(n, to);
        else
            send_append(n, p, true);
        return 0;
    }
    default:
        break;
    }
    p = raft__tracker_get(&n->trk, m->from);
    if (p == NULL)
        return 0;
    switch (m->type) {
    case RAFT_MSG_APPEND_RESP:
        p->recent_active = true;
        if (m->commit > p->commit_known && m->commit <= n->log.committed)
            p->commit_known = m->commit;
        if (m->index > raft__log_last(&n->log))
            return 0; /* claims entries we never had: ignore */
        if (m->reject) {
            raft_index hint = m->reject_hint;
            if (m->log_term > 0) {
                raft_term found;
                hint = raft__log_conflict_by_term(&n->log, hint, m->log_term,
                                                  &found);
            }
            if (raft__progress_maybe_decr(p, m->index, hint)) {
                if (p->state == RAFT_PROGRESS_REPLICATE)
                    raft__progress_become_probe(p);
                send_append(n, p, true);
            }
            return 0;
        }
        {
            bool was_paused = raft__progress_paused(
                p, n->cfg.max_inflight_msgs, n->cfg.max_inflight_bytes);
            if (!raft__progress_maybe_update(p, m->index))
                return 0;
            if (p->state == RAFT_PROGRESS_PROBE) {
                raft__progress_become_replicate(p, n->cfg.max_inflight_msgs);
            } else if (p->state == RAFT_PROGRESS_SNAPSHOT) {
                if (p->match >= p->pending_snapshot) {
                    raft__progress_become_probe(p);
                    raft__progress_become_replicate(p,
                                                    n->cfg.max_inflight_msgs);
                }
            } else {
                raft__progress_free_le(p, m->index, n->cfg.max_inflight_msgs);
            }
            if (!raft__maybe_commit(n) && was_paused && !n->bcast_due)
                send_append(n, p, false);
            /* new entries: the next ready's flush sends them, with the
             * commit index, in one message */
            while (!n->bcast_due && send_append(n, p, false)) {
            }
            if (m->from == n->transferee &&
                p->match == raft__log_last(&n->log))
                send_timeout_now(n, m->from);
        }
        return 0;
    case RAFT_MSG_SNAPSHOT_RESP:
        p->recent_active = true;
        if (p->state != RAFT_PROGRESS_SNAPSHOT ||
            m->index != p->pending_snapshot || m->log_term != p->snap_term ||
            m->context > p->snap_total)
            return 0;
        if (m->context > p->snap_acked) {
            p->snap_acked = m->context;
            p->snap_ticks = 0;
            if (p->snap_sent < p->snap_acked)
                p->snap_sent = p->snap_acked;
        } else if (m->context == 0 && p->snap_acked > 0) {
            /* The member lost what it held (a restart): from the start. */
            p->snap_acked = p->snap_sent = 0;
            p->snap_begun = false;
        }
        snap_pump(n, p);
        return 0;
    case RAFT_MSG_HEARTBEAT_RESP:
        p->recent_active = true;
        p->paused = false;
        if (m->index <= lease_now(n) && m->index > p->lease_tick)
            p->lease_tick = m->index;
        if (m->commit > p->commit_known && m->commit <= n->log.committed)
            p->commit_known = m->commit;
        /* Appends may have been lost: let one more out so that a gap is
         * detected (the follower rejects, the leader probes). */
        if (p->state == RAFT_PROGRESS_REPLICATE &&
            raft__progress_paused(p, n->cfg.max_inflight_msgs,
                                  n->cfg.max_inflight_bytes))
            raft__progress_free_first(p, n->cfg.max_inflight_msgs);
        /* Behind: send even an empty append, so that lost appends show
         * up as a rejection and the leader backs up. */
        if (p->state != RAFT_PROGRESS_SNAPSHOT &&
            p->match < raft__log_last(&n->log))
            send_append(n, p, true);
        if (m->context != 0)
            read_ack(n, m->context, m->from);
        return 0;
    default:
        return 0; /* late votes and the like */
    }
}

/* ------------------------------------------------------------------ */
/* Step */

static bool valid_msg(const struct raft_message *m)
{
    if (m->type < 1 || m->type > RAFT_MSG_TYPE_MAX || m->from == 0)
        return false;
    if (m->n_entries > 0 && m->entries == NULL)
        return false;
    for (uint32_t i = 0; i < m->n_entries; i++)
        if (m->entries[i].len > 0 && m->entries[i].data == NULL)
            return false;
    if (m->type == RAFT_MSG_SNAPSHOT && m->snapshot == NULL)
        return false;
    return true;
}

/* A vote response carries the voter's commit index and its term (see the
 * vote handling in step). Same index and term: the same prefix (log
 * matching), which the voter knows committed. */
static void learn_commit(struct raft_node *n, const struct raft_message *m)
{
    if (m->commit > n->log.committed && m->log_term != 0 &&
        raft__log_match_term(&n->log, m->commit, m->log_term))
        raft__log_commit_to(&n->log, m->commit);
}

static int step(struct raft_node *n, const struct raft_message *m,
                raft_index *index)
{
    bool is_vote = m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PREVOTE;
    if (m->term > n->term) {
        if (is_vote) {
            bool force = m->context == CAMPAIGN_TRANSFER;
            bool lease = n->cfg.check_quorum &&
                         (n->lead != 0 || n->lease_hold) &&
                         n->election_elapsed < n->cfg.election_tick;
            if (!force && lease)
                return 0; /* a live leader exists: ignore (thesis 4.2.3) */
        }
        if (m->type == RAFT_MSG_PREVOTE ||
            (m->type == RAFT_MSG_PREVOTE_RESP && !m->reject)) {
            /* no term change for pre-votes */
        } else if (m->type == RAFT_MSG_APPEND ||
                   m->type == RAFT_MSG_HEARTBEAT ||
                   m->type == RAFT_MSG_SNAPSHOT) {
            become_follower(n, m->term, m->from);
        } else {
            become_follower(n, m->term, 0);
        }
    } else if (m->term != 0 && m->term < n->term) {
        if ((n->cfg.check_quorum || n->cfg.pre_vote) &&
            (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT)) {
            /* Tell a stale leader about the newer term so it steps down. */
            send_simple(n, RAFT_MSG_APPEND_RESP, m->from, n->term);
        } else if (m->type == RAFT_MSG_PREVOTE) {
            struct raft_message r;
            memset(&r, 0, sizeof(r));
            r.type = RAFT_MSG_PREVOTE_RESP;
            r.to = m->from;
            r.term = n->term;
            r.reject = true;
            raft__send(n, &r);
        }
        return 0;
    }

    if (is_vote) {
        bool can = n->vote == m->from || (n->vote == 0 && n->lead == 0) ||
                   (m->type == RAFT_MSG_PREVOTE && m->term > n->term);
        struct raft_message r;
        memset(&r, 0, sizeof(r));
        r.type = m->type == RAFT_MSG_VOTE ? RAFT_MSG_VOTE_RESP
                                          : RAFT_MSG_PREVOTE_RESP;
        r.to = m->from;
        /* Our commit index and its term go with the answer: a candidate
         * whose log holds that entry learns it is committed. Without it,
         * a committed configuration change known only to members that
         * cannot campaign (a removed leader, a demoted voter) could keep
         * the others in the old configuration, needing their votes, which
         * their longer logs deny, forever (DESIGN.md "Membership"). */
        r.commit = n->log.committed;
        r.log_term = raft__log_term0(&n->log, n->log.committed);
        if (can && raft__log_up_to_date(&n->log, m->index, m->log_term)) {
            r.term = m->term;
            if (m->type == RAFT_MSG_VOTE) {
                n->election_elapsed = 0;
                n->vote = m->from;
            }
        } else {
            r.term = n->term;
            r.reject = true;
        }
        raft__send(n, &r);
        return 0;
    }

    switch (n->role) {
    case RAFT_LEADER:
        return leader_step(n, m, index);
    case RAFT_CANDIDATE:
    case RAFT_PRE_CANDIDATE:
        switch (m->type) {
        case RAFT_MSG_PROPOSE:
            return raft__err(n, RAFT_EDROPPED, "no leader");
        case RAFT_MSG_READ_INDEX:
            return raft__err(n, RAFT_EDROPPED, "no leader");
        case RAFT_MSG_APPEND:
            become_follower(n, m->term, m->from);
            return handle_append(n, m);
        case RAFT_MSG_HEARTBEAT:
            become_follower(n, m->term, m->from);
            handle_heartbeat(n, m);
            return 0;
        case RAFT_MSG_SNAPSHOT:
            become_follower(n, m->term, m->from);
            return handle_snapshot(n, m);
        case RAFT_MSG_VOTE_RESP:
        case RAFT_MSG_PREVOTE_RESP: {
            learn_commit(n, m);
            bool mine = (m->type == RAFT_MSG_PREVOTE_RESP) ==
                        (n->role == RAFT_PRE_CANDIDATE);
            if (!mine)
                return 0;
            int r = record_vote(n, m->from, !m->reject);
            if (r == RAFT__VOTE_WON) {
                if (n->role == RAFT_PRE_CANDIDATE)
                    return campaign(n, false, false);
                int rc = become_leader(n);
                if (rc != 0)
                    return rc;
                raft__bcast_append(n);
            } else if (r == RAFT__VOTE_LOST) {
                become_follower(n, n->term, 0);
            }
            return 0;
        }
        default:
            return 0;
        }
    default: /* follower */
        switch (m->type) {
        case RAFT_MSG_PROPOSE:
            if (n->lead == 0)
                return raft__err(n, RAFT_EDROPPED, "no leader");
            if (n->cfg.disable_proposal_forwarding)
                return raft__err(n, RAFT_EDROPPED,
                                 "not the leader; forwarding disabled");
            {
                struct raft_message f = *m;
                f.to = n->lead;
                f.term = 0;
                raft__send(n, &f);
            }
            return 0;
        case RAFT_MSG_READ_INDEX:
        case RAFT_MSG_TRANSFER_LEADER:
            if (n->lead == 0)
                return raft__err(n, RAFT_EDROPPED, "no leader");
            {
                struct raft_message f = *m;
                f.to = n->lead;
                f.term = 0;
                raft__send(n, &f);
            }
            return 0;
        case RAFT_MSG_APPEND:
            n->election_elapsed = 0;
            n->lead = m->from;
            return handle_append(n, m);
        case RAFT_MSG_HEARTBEAT:
            n->election_elapsed = 0;
            n->lead = m->from;
            handle_heartbeat(n, m);
            return 0;
        case RAFT_MSG_SNAPSHOT:
            n->election_elapsed = 0;
            n->lead = m->from;
            return handle_snapshot(n, m);
        case RAFT_MSG_TIMEOUT_NOW:
            return hup(n, true);
        case RAFT_MSG_READ_INDEX_RESP:
            read_respond(n, n->id, m->context, m->index);
            return 0;
        case RAFT_MSG_VOTE_RESP:
        case RAFT_MSG_PREVOTE_RESP:
            learn_commit(n, m); /* late answers to our campaign */
            return 0;
        default:
            return 0;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Public calls */

int raft_node_create(const struct raft_config *cfg, struct raft_node **out)
{
    *out = NULL;
    if (cfg == NULL || cfg->id == 0 || cfg->storage == NULL ||
        cfg->storage->ops == NULL || cfg->election_tick < 0 ||
        cfg->heartbeat_tick < 0)
        return RAFT_EINVAL;
    struct raft_node *n = raft__calloc(1, sizeof(*n));
    if (n == NULL)
        return -ENOMEM;
    n->cfg = *cfg;
    struct raft_config *c = &n->cfg;
    if (c->election_tick == 0)
        c->election_tick = 10;
    if (c->heartbeat_tick == 0)
        c->heartbeat_tick = 1;
    if (c->max_size_per_msg == 0)
        c->max_size_per_msg = 1 << 20;
    if (c->max_inflight_msgs == 0)
        c->max_inflight_msgs = 256;
    if (c->max_committed_per_ready == 0)
        c->max_committed_per_ready = 64u << 20;
    if (c->snapshot_chunk_bytes == 0)
        c->snapshot_chunk_bytes = 1 << 20;
    if (c->snapshot_window == 0)
        c->snapshot_window = 8;
    if (c->max_inflight_readies == 0)
        c->max_inflight_readies = 1;
    int rc;
    if (c->heartbeat_tick >= c->election_tick ||
        c->max_inflight_readies > RAFT_MAX_INFLIGHT_READIES ||
        (c->read_only == RAFT_READ_LEASE && !c->check_quorum) ||
        (c->now_ms != NULL && (c->tick_ms == 0 || c->election_tick < 3)) ||
        c->max_inflight_msgs > (1u << 20)) {
        rc = RAFT_EINVAL;
        goto err_free;
    }
    n->rds = raft__calloc(c->max_inflight_readies, sizeof(*n->rds));
    if (n->rds == NULL) {
        rc = -ENOMEM;
        goto err_free;
    }
    n->rd_first = n->rd_next = 1;
    n->id = c->id;
    n->rng = c->seed ^ (c->id * 0xD1B54A32D192ED03ULL);
    n->ticks = 1;
    /* After a restart this node may have acked a leader's heartbeat just
     * before; with lease reads it must not vote for an election timeout.
     * A fresh member never acked one. */
    n->lease_hold = c->read_only == RAFT_READ_LEASE && !c->fresh;
    rc = raft__log_init(&n->log, c->storage);
    if (rc != 0)
        goto err_free;
    struct raft_hard_state hs;
    struct raft_conf_state cs;
    rc = c->storage->ops->initial_state(c->storage, &hs, &cs);
    if (rc != 0)
        goto err_log;
    rc = raft__tracker_set_conf(&n->trk, &cs, raft__log_last(&n->log) + 1);
    if (rc != 0)
        goto err_log;
    if (hs.commit > raft__log_last(&n->log) ||
        hs.commit < n->log.committed) {
        rc = RAFT_EINVAL;
        goto err_trk;
    }
    n->log.committed = hs.commit;
    if (c->applied > n->log.committed) {
        rc = RAFT_EINVAL;
        goto err_trk;
    }
    if (c->applied > n->log.applied)
        n->log.applied = c->applied;
    n->log.applying = n->log.applied;
    become_follower(n, hs.term, 0);
    n->vote = hs.vote;
    n->term_durable = hs.term;
    n->prev_hs.term = n->term;
    n->prev_hs.vote = n->vote;
    n->prev_hs.commit = n->log.committed;
    n->prev_role = RAFT_FOLLOWER;
    *out = n;
    return 0;
err_trk:
    raft__tracker_close(&n->trk);
err_log:
    raft__log_close(&n->log);
err_free:
    raft__free(n->rds);
    raft__free(n);
    return rc;
}

void raft_node_destroy(struct raft_node *n)
{
    if (n == NULL)
        return;
    raft__log_close(&n->log);
    raft__tracker_close(&n->trk);
    raft__msgvec_free(&n->msgs);
    raft__msgvec_free(&n->after);
    raft__free(n->reads_pending);
    raft__free(n->reads_wait);
    raft__free(n->reads_done);
    drop_rx(n);
    raft__chunks_free(n->rx_chunks, n->n_rx_chunks);
    raft__rd_free_all(n);
    raft__free(n);
}

/* Calls may come while a ready is outstanding: the ready owns its own
 * copies (see raft_node_ready), and log data it points to is pinned. */
#define CHECK_NOT_IN_READY(n) ((void)(n))

static int snap_retry_ticks(struct raft_node *n)
{
    return n->cfg.election_tick / 2 > 0 ? n->cfg.election_tick / 2 : 1;
}

/* A removed leader may go once a quorum of the configuration knows the
 * removal committed. */
static bool removal_known(struct raft_node *n)
{
    raft_id ok[RAFT_MAX_MEMBERS];
    size_t cnt = 0;
    for (uint32_t i = 0; i < n->trk.n; i++) {
        struct raft__progress *p = &n->trk.prs[i];
        if (!p->learner && p->commit_known >= n->removed_at)
            ok[cnt++] = p->id;
    }
    return raft__tally(&n->trk.conf, ok, cnt, NULL, 0) == RAFT__VOTE_WON;
}

int raft_node_tick(struct raft_node *n)
{
    CHECK_NOT_IN_READY(n);
    n->ticks++;
    if (n->role != RAFT_LEADER) {
        n->election_elapsed++;
        if (n->election_elapsed >= n->cfg.election_tick)
            n->lease_hold = false;
        if (promotable(n) && n->election_elapsed >= n->randomized_timeout) {
            n->election_elapsed = 0;
            return hup(n, false);
        }
        return 0;
    }
    n->heartbeat_elapsed++;
    n->election_elapsed++;
    if (!promotable(n) && removal_known(n)) {
        /* Hand over to the most up-to-date voter so that the new
         * configuration has a leader without waiting for a timeout (a
         * transfer, thesis 3.10; any voter may still win instead). */
        struct raft__progress *best = NULL;
        for (uint32_t i = 0; i < n->trk.n; i++) {
            struct raft__progress *p = &n->trk.prs[i];
            if (p->id != n->id && raft__conf_is_voter(&n->trk.conf, p->id) &&
                (best == NULL || p->match > best->match))
                best = p;
        }
        if (best != NULL)
            send_timeout_now(n, best->id);
        raft__log_msg(n, RAFT_LOG_INFO, "removed: stepping down");
        become_follower(n, n->term, 0);
        return 0;
    }
    for (uint32_t i = 0; i < n->trk.n; i++) {
        struct raft__progress *p = &n->trk.prs[i];
        if (p->state != RAFT_PROGRESS_SNAPSHOT)
            continue;
        /* snap_ticks counts ticks without progress. */
        if (++p->snap_ticks > 2 * n->cfg.election_tick) {
            raft__progress_become_probe(p); /* snapshot lost: retry */
        } else if (p->snap_ticks % snap_retry_ticks(n) == 0 &&
                   (p->snap_acked < p->snap_total || !p->snap_begun)) {
            /* Chunks or acknowledgements lost, or a chunk could not be
             * read: resend from what the member acknowledged (go-back-N;
             * it ignores what it holds). */
            p->snap_sent = p->snap_acked;
            p->snap_begun = p->snap_acked > 0;
            snap_pump(n, p);
        }
    }
    if (n->election_elapsed >= n->cfg.election_tick) {
        n->election_elapsed = 0;
        /* A removed leader stays until the members know (see
         * raft__apply_conf_change): it serves no proposals, and lease reads
         * need the new quorum anyway. */
        if (n->cfg.check_quorum && promotable(n) &&
            !raft__tracker_quorum_active(&n->trk, n->id)) {
            raft__log_msg(n, RAFT_LOG_WARN, "lost quorum contact");
            become_follower(n, n->term, 0);
            return 0;
        }
        n->transferee = 0; /* a transfer that took too long is abandoned */
    }
    if (n->heartbeat_elapsed >= n->cfg.heartbeat_tick) {
        n->heartbeat_elapsed = 0;
        uint64_t ctx = n->n_reads_pending > 0
                           ? n->reads_pending[n->n_reads_pending - 1].context
                           : 0;
        bcast_heartbeat(n, ctx);
    }
    return 0;
}

int raft_node_campaign(struct raft_node *n)
{
    CHECK_NOT_IN_READY(n);
    return hup(n, false);
}

int raft_node_step(struct raft_node *n, const struct raft_message *m)
{
    CHECK_NOT_IN_READY(n);
    if (m == NULL || !valid_msg(m))
        return raft__err(n, RAFT_EINVAL, "malformed message");
    if (m->term == 0 && m->type != RAFT_MSG_PROPOSE &&
        m->type != RAFT_MSG_READ_INDEX && m->type != RAFT_MSG_TRANSFER_LEADER)
        return raft__err(n, RAFT_EINVAL, "message without a term");
    if ((m->to != 0 && m->to != n->id) || m->from == n->id)
        return 0; /* misrouted or looped back: not for us */
    return step(n, m, NULL);
}

int raft_node_propose_batch(struct raft_node *n, const struct raft_buf *bufs,
                            size_t n_bufs, raft_index *last_index)
{
    CHECK_NOT_IN_READY(n);
    if (last_index != NULL)
        *last_index = 0;
    if (n_bufs == 0 || n_bufs > UINT32_MAX)
        return raft__err(n, RAFT_EINVAL, "no entries");
    struct raft_entry stack[16];
    struct raft_entry *e = stack;
    if (n_bufs > 16) {
        e = raft__calloc(n_bufs, sizeof(*e));
        if (e == NULL)
            return -ENOMEM;
    } else {
        memset(stack, 0, sizeof(stack));
    }
    for (size_t i = 0; i < n_bufs; i++) {
        e[i].type = RAFT_ENTRY_NORMAL;
        e[i].len = bufs[i].len;
        e[i].data = (void *)(uintptr_t)bufs[i].data;
        if (e[i].len > 0 && e[i].data == NULL) {
            if (e != stack)
                raft__free(e);
            return raft__err(n, RAFT_EINVAL, "entry without data");
        }
    }
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_PROPOSE;
    m.from = n->id;
    m.entries = e;
    m.n_entries = (uint32_t)n_bufs;
    int rc = step(n, &m, last_index);
    if (e != stack)
        raft__free(e);
    return rc;
}

int raft_node_propose(struct raft_node *n, const void *data, uint32_t len,
                      raft_index *index)
{
    struct raft_buf b = {data, len};
    return raft_node_propose_batch(n, &b, 1, index);
}

int raft_node_propose_conf_change(struct raft_node *n,
                                  const struct raft_conf_change *cc,
                                  raft_index *index)
{
    CHECK_NOT_IN_READY(n);
    if (index != NULL)
        *index = 0;
    uint8_t buf[3 + 9 * RAFT_MAX_MEMBERS];
    size_t len;
    int rc = raft_conf_change_encode(cc, buf, sizeof(buf), &len);
    if (rc != 0)
        return raft__err(n, rc, "bad conf change");
    struct raft_entry e;
    memset(&e, 0, sizeof(e));
    e.type = RAFT_ENTRY_CONF_CHANGE;
    e.len = (uint32_t)len;
    e.data = buf;
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_PROPOSE;
    m.from = n->id;
    m.entries = &e;
    m.n_entries = 1;
    return step(n, &m, index);
}

int raft_node_read_index(struct raft_node *n, uint64_t context)
{
    CHECK_NOT_IN_READY(n);
    if (context == 0)
        return raft__err(n, RAFT_EINVAL, "read context must be non-zero");
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_READ_INDEX;
    m.from = n->id;
    m.context = context;
    return step(n, &m, NULL);
}

bool raft_node_lease_valid(struct raft_node *n, raft_index *index)
{
    if (n->role != RAFT_LEADER || n->cfg.read_only != RAFT_READ_LEASE ||
        !committed_in_term(n))
        return false;
    if (!self_quorum(n) && !lease_valid(n))
        return false;
    if (index != NULL)
        *index = n->log.committed;
    return true;
}

int raft_node_transfer_leader(struct raft_node *n, raft_id transferee)
{
    CHECK_NOT_IN_READY(n);
    if (transferee == 0)
        return raft__err(n, RAFT_EINVAL, "no transferee");
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_TRANSFER_LEADER;
    m.from = n->id;
    m.context = transferee;
    return step(n, &m, NULL);
}

int raft_node_report_snapshot(struct raft_node *n, raft_id id, bool ok)
{
    CHECK_NOT_IN_READY(n);
    struct raft__progress *p = raft__tracker_get(&n->trk, id);
    if (n->role != RAFT_LEADER || p == NULL ||
        p->state != RAFT_PROGRESS_SNAPSHOT)
        return 0;
    if (!ok)
        p->pending_snapshot = 0;
    raft__progress_become_probe(p);
    p->paused = true; /* wait for a heartbeat response before probing */
    return 0;
}

int raft_node_snapshot_resume(struct raft_node *n)
{
    CHECK_NOT_IN_READY(n);
    if (n->role != RAFT_LEADER)
        return 0;
    for (uint32_t i = 0; i < n->trk.n; i++)
        snap_pump(n, &n->trk.prs[i]); /* only members in SNAPSHOT state */
    return 0;
}

int raft_node_report_unreachable(struct raft_node *n, raft_id id)
{
    CHECK_NOT_IN_READY(n);
    struct raft__progress *p = raft__tracker_get(&n->trk, id);
    if (n->role == RAFT_LEADER && p != NULL &&
        p->state == RAFT_PROGRESS_REPLICATE)
        raft__progress_become_probe(p);
    return 0;
}

int raft__apply_conf_change(struct raft_node *n,
                            const struct raft_conf_change *cc)
{
    struct raft_conf_state next;
    int rc = raft__conf_apply(&n->trk.conf, cc, &next);
    if (rc != 0) {
        /* Every member skips the same committed entry: still consistent. */
        raft__log_msg(n, RAFT_LOG_WARN, "ignoring invalid conf change");
        return 0;
    }
    rc = raft__tracker_set_conf(&n->trk, &next, raft__log_last(&n->log) + 1);
    if (rc != 0)
        return rc;
    if (n->role != RAFT_LEADER)
        return 0;
    if (!raft__conf_is_voter(&next, n->id)) {
        /* Removed or demoted (thesis 4.2.2): keep leading, without counting
         * itself and taking no proposals, until a quorum of the new
         * configuration reports the change committed (they need it applied
         * to campaign without us), then step down (raft_node_tick). */
        n->removed_at = n->log.applied;
        raft__maybe_commit(n);
        raft__bcast_append(n);
        return 0;
    }
    raft__maybe_commit(n);
    raft__bcast_append(n);
    return 0;
}

int raft_node_role(const struct raft_node *n, raft_id *leader)
{
    if (leader != NULL)
        *leader = n->lead;
    return n->role;
}

void raft_node_status(const struct raft_node *n, struct raft_status *st)
{
    memset(st, 0, sizeof(*st));
    struct raft_node *m = (struct raft_node *)(uintptr_t)n;
    st->id = n->id;
    st->role = n->role;
    st->term = n->term;
    st->vote = n->vote;
    st->leader = n->lead;
    st->commit = n->log.committed;
    st->applied = n->log.applied;
    st->last_index = raft__log_last(&m->log);
    st->transferee = n->transferee;
    st->dropped_msgs = n->dropped_msgs;
    st->conf = n->trk.conf;
    if (n->role != RAFT_LEADER)
        return;
    for (uint32_t i = 0; i < n->trk.n; i++) {
        const struct raft__progress *p = &n->trk.prs[i];
        struct raft_peer_status *ps = &st->peers[st->n_peers++];
        ps->id = p->id;
        ps->match = p->match;
        ps->next = p->next;
        ps->state = p->state;
        ps->learner = p->learner;
        ps->recent_active = p->recent_active;
        ps->inflight = p->infl_count;
        if (p->state == RAFT_PROGRESS_SNAPSHOT) {
            ps->snapshot_acked = p->snap_acked;
            ps->snapshot_total = p->snap_total;
        }
    }
}

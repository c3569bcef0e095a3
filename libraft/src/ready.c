/* ready.c: the ready cycle: collect what to persist, send and apply into a
 * struct raft_ready, and take the acknowledgements (raft_node_advance,
 * raft_node_advance_to), which is when the leader counts its own log and
 * committed configuration changes take effect. Several readies may be out
 * at once (cfg.max_inflight_readies); they are released in order.
 * DESIGN.md "The ready cycle" and "Pipelined writes".
 */
#include <string.h>

#include "raft_int.h"

static bool hs_equal(const struct raft_hard_state *a,
                     const struct raft_hard_state *b)
{
    return a->term == b->term && a->vote == b->vote && a->commit == b->commit;
}

static uint64_t outstanding(const struct raft_node *n)
{
    return n->rd_next - n->rd_first;
}

static struct raft__rd *slot(struct raft_node *n, uint64_t seq)
{
    uint32_t cap = n->cfg.max_inflight_readies;
    return cap == 1 ? n->rds : &n->rds[seq % cap];
}

/* First committed index not yet handed out, and whether there is one. */
static bool next_committed(const struct raft_node *n, raft_index *lo)
{
    struct raft__log *l = (struct raft__log *)(uintptr_t)&n->log;
    if (l->committed <= l->applying)
        return false;
    *lo = l->applying + 1;
    /* Below the storage's first index only when a snapshot not yet handed
     * out covers it (the application compacts only what it applied). */
    if (l->u.snap != NULL && *lo <= l->u.snap->meta.index)
        *lo = l->u.snap->meta.index + 1;
    return *lo <= l->committed;
}

static size_t unhanded(const struct raft__unstable *u)
{
    raft_index from = u->hand > u->offset ? u->hand : u->offset;
    return from < u->offset + u->n ? (size_t)(u->offset + u->n - from) : 0;
}

/* Give a released ready's emptied message list back to the node if it has
 * none, so that steady traffic does not allocate a list per ready. */
static void recycle(struct raft__msgvec *from, struct raft__msgvec *to)
{
    raft__msgvec_clear(from);
    if (to->v == NULL) {
        *to = *from;
        to->n = 0;
    } else {
        raft__free(from->v);
    }
    memset(from, 0, sizeof(*from));
}

void raft__chunks_free(struct raft_snapshot *c, size_t cnt)
{
    for (size_t i = 0; i < cnt; i++)
        raft__free(c[i].data);
    raft__free(c);
}

static void rd_free(struct raft__rd *r)
{
    raft__chunks_free(r->chunks, r->n_chunks);
    raft__free(r->committed);
    raft__free(r->ccs);
    raft__free(r->ents);
    raft__msgvec_free(&r->msgs);
    raft__msgvec_free(&r->after);
    raft__free(r->reads);
    memset(r, 0, sizeof(*r));
}

void raft__rd_free_all(struct raft_node *n)
{
    if (n->rds == NULL)
        return;
    for (uint64_t s = n->rd_first; s < n->rd_next; s++)
        rd_free(slot(n, s));
    raft__free(n->rds);
    n->rds = NULL;
}

/* Entries replaced since the readies out were handed out are not theirs
 * to make durable any more: they stop just before the replacement (the
 * entries before it are unchanged since, so their term still matches). */
static void apply_cut(struct raft_node *n)
{
    struct raft__log *l = &n->log;
    raft_index c = l->cut;
    l->cut = 0;
    for (uint64_t s = n->rd_first; s < n->rd_next; s++) {
        struct raft__rd *r = slot(n, s);
        if (r->last >= c) {
            r->last = c - 1;
            r->last_term = raft__log_term0(l, c - 1);
            if (r->last_term == 0)
                r->last = 0;
        }
    }
}

bool raft_node_has_ready(const struct raft_node *n)
{
    if (outstanding(n) >= (uint64_t)n->cfg.max_inflight_readies)
        return false;
    struct raft_hard_state hs = {n->term, n->vote, n->log.committed};
    raft_index lo;
    return n->role != n->prev_role || n->lead != n->prev_lead ||
           !hs_equal(&hs, &n->prev_hs) ||
           n->log.u.hand < n->log.u.offset + n->log.u.n ||
           (n->log.u.snap != NULL && !n->log.u.snap_handed) ||
           n->msgs.n > 0 || n->after.n > 0 || n->n_reads_done > 0 ||
           n->n_rx_chunks > 0 || (n->bcast_due && n->role == RAFT_LEADER) ||
           next_committed(n, &lo);
}

/* Sum the committed entries' payload and decode the conf changes among
 * them into r->ccs. */
static int scan_committed(struct raft__rd *r, const struct raft_entry *e,
                          size_t cnt)
{
    size_t k = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < cnt; i++) {
        bytes += e[i].len;
        if (e[i].type == RAFT_ENTRY_CONF_CHANGE)
            k++;
    }
    r->committed_bytes = bytes;
    if (k == 0)
        return 0;
    r->ccs = raft__calloc(k, sizeof(*r->ccs));
    if (r->ccs == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        if (e[i].type != RAFT_ENTRY_CONF_CHANGE)
            continue;
        struct raft__rd_cc *c = &r->ccs[r->n_ccs++];
        c->index = e[i].index;
        c->bad = raft_conf_change_decode(e[i].data, e[i].len, &c->cc) != 0;
    }
    return 0;
}

int raft_node_ready(struct raft_node *n, struct raft_ready *rd)
{
    if (outstanding(n) >= (uint64_t)n->cfg.max_inflight_readies) {
        memset(rd, 0, sizeof(*rd));
        return raft__err(n, RAFT_ESTATE, "%llu readies outstanding",
                         (unsigned long long)outstanding(n));
    }
    raft__flush_appends(n);
    struct raft__log *l = &n->log;
    struct raft__unstable *u = &l->u;
    if (l->cut != 0)
        apply_cut(n);
    if (l->n_garbage > 0)
        raft__log_free_garbage(l);
    /* Built in its ring slot (free: fewer than max are out). */
    struct raft__rd *r = slot(n, n->rd_next);
    r->acked = false;
    r->committed = NULL;
    r->committed_bytes = 0;
    r->ccs = NULL;
    r->n_ccs = 0;
    r->ents = NULL;
    r->last = r->last_term = r->snap = 0;
    r->chunks = n->rx_chunks;
    r->n_chunks = n->n_rx_chunks;
    size_t n_committed = 0;
    raft_index lo;
    int rc;
    if (next_committed(n, &lo)) {
        rc = raft__log_entries(l, lo, l->committed + 1,
                               n->cfg.max_committed_per_ready, &r->committed,
                               &n_committed);
        if (rc != 0) {
            memset(rd, 0, sizeof(*rd));
            return raft__err(n, rc, "reading committed entries");
        }
        rc = scan_committed(r, r->committed, n_committed);
        if (rc != 0)
            goto err;
    }
    /* The ready gets its own copies of the entry headers and the message
     * lists, so that the node can go on stepping while it is outstanding;
     * the data they point to is pinned until it is released. */
    size_t n_ents = unhanded(u);
    if (n_ents > 0) {
        r->ents = raft__malloc(n_ents * sizeof(*r->ents));
        if (r->ents == NULL) {
            rc = -ENOMEM;
            goto err;
        }
        memcpy(r->ents, u->ents + (u->n - n_ents), n_ents * sizeof(*r->ents));
        r->last = r->ents[n_ents - 1].index;
        r->last_term = r->ents[n_ents - 1].term;
    }
    r->applied_to = n_committed ? r->committed[n_committed - 1].index : 0;
    r->seq = n->rd_next;
    rd->seq = r->seq;
    rd->committed = r->committed;
    rd->n_committed = n_committed;
    rd->role = n->role;
    rd->leader = n->lead;
    rd->soft_changed = n->role != n->prev_role || n->lead != n->prev_lead;
    rd->hs.term = n->term;
    r->hs_term = n->term;
    rd->hs.vote = n->vote;
    rd->hs.commit = l->committed;
    rd->hard_changed = !hs_equal(&rd->hs, &n->prev_hs);
    /* Every field of *rd is set below (no memset on this path). */
    rd->snapshot = NULL;
    if (u->snap != NULL && !u->snap_handed) {
        rd->snapshot = u->snap;
        r->snap = u->snap->meta.index;
        u->snap_handed = true;
    }
    rd->entries = r->ents;
    rd->n_entries = n_ents;
    r->msgs = n->msgs;
    memset(&n->msgs, 0, sizeof(n->msgs));
    r->after = n->after;
    memset(&n->after, 0, sizeof(n->after));
    rd->messages = r->msgs.v;
    rd->n_messages = r->msgs.n;
    rd->after = r->after.v;
    rd->n_after = r->after.n;
    rd->snapshot_chunks = n->rx_chunks;
    rd->n_snapshot_chunks = n->n_rx_chunks;
    n->rx_chunks = NULL;
    n->n_rx_chunks = 0;
    n->cap_rx_chunks = 0;
    r->reads = n->reads_done;
    rd->reads = n->reads_done;
    rd->n_reads = n->n_reads_done;
    n->reads_done = NULL;
    n->n_reads_done = 0;
    n->cap_reads_done = 0;
    rd->must_sync = rd->n_entries > 0 || rd->snapshot != NULL ||
                    rd->hs.term != n->prev_hs.term ||
                    rd->hs.vote != n->prev_hs.vote;
    /* What the next ready is compared with: this one's state. */
    n->prev_hs = rd->hs;
    n->prev_role = rd->role;
    n->prev_lead = rd->leader;
    if (u->hand < u->offset + u->n)
        u->hand = u->offset + u->n;
    if (r->applied_to > l->applying)
        l->applying = r->applied_to;
    if (r->snap > l->applying)
        l->applying = r->snap;
    n->rd_next++;
    l->pinned = true;
    l->pin_newest = r->seq;
    l->pin_oldest = n->rd_first;
    return 0;
err:
    raft__free(r->committed);
    raft__free(r->ccs);
    memset(r, 0, sizeof(*r)); /* the chunks stay with the node */
    memset(rd, 0, sizeof(*rd));
    return rc;
}

/* The effects of one acknowledged ready, all earlier ones released. */
static int release(struct raft_node *n, struct raft__rd *r)
{
    struct raft__log *l = &n->log;
    int rc = 0;
    if (r->snap != 0 && l->applied < r->snap)
        l->applied = r->snap;
    for (size_t i = 0; i < r->n_ccs; i++) {
        struct raft__rd_cc *c = &r->ccs[i];
        if (c->index > l->applied)
            l->applied = c->index;
        if (c->bad) {
            raft__log_msg(n, RAFT_LOG_WARN, "undecodable conf change");
            continue;
        }
        if (rc == 0)
            rc = raft__apply_conf_change(n, &c->cc);
    }
    if (r->applied_to > l->applied)
        l->applied = r->applied_to;
    if (r->hs_term > n->term_durable)
        n->term_durable = r->hs_term;
    if (n->role == RAFT_LEADER)
        n->uncommitted = n->uncommitted > r->committed_bytes
                             ? n->uncommitted - r->committed_bytes
                             : 0;
    raft_index snap = r->snap, last = r->last;
    raft_term last_term = r->last_term;
    raft__free(r->committed);
    if (r->ccs != NULL)
        raft__free(r->ccs);
    raft__free(r->ents);
    recycle(&r->msgs, &n->msgs);
    recycle(&r->after, &n->after);
    if (r->reads != NULL)
        raft__free(r->reads);
    if (r->chunks != NULL)
        raft__chunks_free(r->chunks, r->n_chunks);
    n->rd_first++; /* the slot is cleared when reused */
    l->pin_oldest = n->rd_first;
    l->pinned = n->rd_first < n->rd_next;
    if (l->n_garbage > 0)
        raft__log_free_garbage(l);
    /* While later readies are out, stabilizing drops data into the
     * garbage list: without room, leave the entries unstable (a later
     * release stabilizes them). */
    if (l->pinned && raft__log_reserve_garbage(l, l->u.n + 2) != 0)
        snap = last = 0;
    if (snap != 0)
        raft__log_stable_snap_to(l, snap);
    if (last != 0)
        raft__log_stable_to(l, last, last_term);
    if (n->role == RAFT_LEADER) {
        struct raft__progress *self = raft__tracker_get(&n->trk, n->id);
        raft_index d = raft__log_last(l);
        if (l->u.snap == NULL && l->u.offset - 1 < d)
            d = l->u.offset - 1;
        if (self != NULL && raft__progress_maybe_update(self, d))
            raft__maybe_commit(n);
        /* Thesis 4.3: once the joint configuration is applied, the leader
         * proposes leaving it. */
        const struct raft_conf_state *c = &n->trk.conf;
        if (rc == 0 && raft__conf_joint(c) && c->auto_leave &&
            n->pending_conf_index <= l->applied && n->transferee == 0) {
            struct raft_conf_change leave;
            memset(&leave, 0, sizeof(leave));
            int r2 = raft_node_propose_conf_change(n, &leave, NULL);
            if (r2 != 0 && r2 != RAFT_ECONFPENDING)
                raft__log_msg(n, RAFT_LOG_WARN, "auto-leave failed: %s",
                              raft_strerror(r2));
        }
    }
    return rc;
}

/* Mark [rd_first, through] acknowledged (seq alone when !through) and
 * release the acknowledged prefix in order. */
static int ack(struct raft_node *n, uint64_t seq, bool through)
{
    if (seq < n->rd_first || seq >= n->rd_next)
        return raft__err(n, RAFT_ESTATE, "no ready %llu outstanding",
                         (unsigned long long)seq);
    if (through) {
        for (uint64_t s = n->rd_first; s <= seq; s++)
            slot(n, s)->acked = true;
    } else {
        slot(n, seq)->acked = true;
    }
    if (n->log.cut != 0)
        apply_cut(n);
    int rc = 0;
    while (n->rd_first < n->rd_next && slot(n, n->rd_first)->acked) {
        int r2 = release(n, slot(n, n->rd_first));
        if (rc == 0)
            rc = r2;
    }
    return rc;
}

int raft_node_advance(struct raft_node *n, struct raft_ready *rd)
{
    if (rd == NULL)
        return raft__err(n, RAFT_EINVAL, "no ready");
    /* seq 0 (a struct the caller filled itself): the oldest. */
    uint64_t seq = rd->seq != 0 ? rd->seq : n->rd_first;
    int rc;
    if (seq == n->rd_first && n->rd_next - seq == 1 && n->log.cut == 0)
        rc = release(n, slot(n, seq)); /* the only one out */
    else
        rc = ack(n, seq, false);
    if (rc == RAFT_ESTATE)
        return rc;
    memset(rd, 0, sizeof(*rd));
    return rc;
}

int raft_node_advance_to(struct raft_node *n, uint64_t seq)
{
    return ack(n, seq, true);
}

/* ready.c: the ready cycle: collect what to persist, send and apply into a
 * struct raft_ready, and take the acknowledgement (raft_node_advance),
 * which is when the leader counts its own log and committed configuration
 * changes take effect. DESIGN.md "The ready cycle".
 */
#include <string.h>

#include "raft_int.h"

static bool hs_equal(const struct raft_hard_state *a,
                     const struct raft_hard_state *b)
{
    return a->term == b->term && a->vote == b->vote && a->commit == b->commit;
}

static bool has_committed(const struct raft_node *n)
{
    struct raft__log *l = (struct raft__log *)(uintptr_t)&n->log;
    if (l->committed <= l->applied)
        return false;
    raft_index lo = l->applied + 1;
    raft_index first = raft__log_first(l);
    if (lo < first)
        lo = first;
    return lo <= l->committed;
}

/* Give a ready's emptied message list back to the node if it has none, so
 * that steady traffic does not allocate a list per ready. */
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

bool raft_node_has_ready(const struct raft_node *n)
{
    if (n->in_ready)
        return false;
    struct raft_hard_state hs = {n->term, n->vote, n->log.committed};
    return n->role != n->prev_role || n->lead != n->prev_lead ||
           !hs_equal(&hs, &n->prev_hs) || n->log.u.n > 0 ||
           n->log.u.snap != NULL || n->msgs.n > 0 || n->after.n > 0 ||
           n->n_reads_done > 0 || has_committed(n);
}

int raft_node_ready(struct raft_node *n, struct raft_ready *rd)
{
    memset(rd, 0, sizeof(*rd));
    if (n->in_ready)
        return raft__err(n, RAFT_ESTATE, "ready outstanding");
    raft__log_free_garbage(&n->log);
    struct raft__log *l = &n->log;
    struct raft_entry *committed = NULL, *ents = NULL;
    size_t n_committed = 0;
    if (l->committed > l->applied) {
        raft_index lo = l->applied + 1;
        raft_index first = raft__log_first(l);
        if (lo < first)
            lo = first;
        if (lo <= l->committed) {
            int rc = raft__log_entries(l, lo, l->committed + 1,
                                       n->cfg.max_committed_per_ready,
                                       &committed, &n_committed);
            if (rc != 0)
                return raft__err(n, rc, "reading committed entries");
        }
    }
    /* The ready gets its own copies of the entry headers and the message
     * lists, so that the node can go on stepping while it is outstanding;
     * the data they point to is pinned until advance. */
    if (l->u.n > 0) {
        ents = raft__malloc(l->u.n * sizeof(*ents));
        if (ents == NULL) {
            raft__free(committed);
            return -ENOMEM;
        }
        memcpy(ents, l->u.ents, l->u.n * sizeof(*ents));
    }
    rd->committed = committed;
    rd->n_committed = n_committed;
    rd->role = n->role;
    rd->leader = n->lead;
    rd->soft_changed = n->role != n->prev_role || n->lead != n->prev_lead;
    rd->hs.term = n->term;
    rd->hs.vote = n->vote;
    rd->hs.commit = l->committed;
    rd->hard_changed = !hs_equal(&rd->hs, &n->prev_hs);
    rd->snapshot = l->u.snap;
    rd->entries = ents;
    rd->n_entries = l->u.n;
    n->rd_msgs = n->msgs;
    memset(&n->msgs, 0, sizeof(n->msgs));
    n->rd_after = n->after;
    memset(&n->after, 0, sizeof(n->after));
    rd->messages = n->rd_msgs.v;
    rd->n_messages = n->rd_msgs.n;
    rd->after = n->rd_after.v;
    rd->n_after = n->rd_after.n;
    n->rd_reads = n->reads_done;
    rd->reads = n->reads_done;
    rd->n_reads = n->n_reads_done;
    n->reads_done = NULL;
    n->n_reads_done = 0;
    n->cap_reads_done = 0;
    rd->must_sync = rd->n_entries > 0 || rd->snapshot != NULL ||
                    rd->hs.term != n->prev_hs.term ||
                    rd->hs.vote != n->prev_hs.vote;
    n->ready_last = rd->n_entries ? ents[rd->n_entries - 1].index : 0;
    n->ready_last_term = rd->n_entries ? ents[rd->n_entries - 1].term : 0;
    n->ready_snap = rd->snapshot ? rd->snapshot->meta.index : 0;
    n->rd_committed = committed;
    n->rd_ents = ents;
    l->pinned = true;
    n->in_ready = true;
    return 0;
}

int raft_node_advance(struct raft_node *n, struct raft_ready *rd)
{
    if (!n->in_ready)
        return raft__err(n, RAFT_ESTATE, "no ready outstanding");
    struct raft__log *l = &n->log;
    n->in_ready = false;
    n->prev_hs = rd->hs;
    n->prev_role = rd->role;
    n->prev_lead = rd->leader;
    if (n->ready_snap != 0 && l->applied < n->ready_snap)
        l->applied = n->ready_snap;
    /* Committed entries first: their data may be unstable entries that
     * stabilizing frees. */
    int rc = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < rd->n_committed && rc == 0; i++) {
        const struct raft_entry *e = &rd->committed[i];
        bytes += e->len;
        if (e->index > l->applied)
            l->applied = e->index;
        if (e->type != RAFT_ENTRY_CONF_CHANGE)
            continue;
        struct raft_conf_change cc;
        if (raft_conf_change_decode(e->data, e->len, &cc) != 0) {
            raft__log_msg(n, RAFT_LOG_WARN, "undecodable conf change");
            continue;
        }
        rc = raft__apply_conf_change(n, &cc);
    }
    if (n->role == RAFT_LEADER)
        n->uncommitted = n->uncommitted > bytes ? n->uncommitted - bytes : 0;
    raft__free(n->rd_committed);
    n->rd_committed = NULL;
    raft__free(n->rd_ents);
    n->rd_ents = NULL;
    recycle(&n->rd_msgs, &n->msgs);
    recycle(&n->rd_after, &n->after);
    raft__free(n->rd_reads);
    n->rd_reads = NULL;
    memset(rd, 0, sizeof(*rd));
    l->pinned = false;
    raft__log_free_garbage(l);
    if (n->ready_snap != 0)
        raft__log_stable_snap_to(l, n->ready_snap);
    if (n->ready_last != 0)
        raft__log_stable_to(l, n->ready_last, n->ready_last_term);
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

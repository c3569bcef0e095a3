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
    if (l->committed > l->applied) {
        raft_index lo = l->applied + 1;
        raft_index first = raft__log_first(l);
        if (lo < first)
            lo = first;
        if (lo <= l->committed) {
            int rc = raft__log_entries(l, lo, l->committed + 1,
                                       n->cfg.max_committed_per_ready,
                                       &rd->committed, &rd->n_committed);
            if (rc != 0)
                return raft__err(n, rc, "reading committed entries");
        }
    }
    rd->role = n->role;
    rd->leader = n->lead;
    rd->soft_changed = n->role != n->prev_role || n->lead != n->prev_lead;
    rd->hs.term = n->term;
    rd->hs.vote = n->vote;
    rd->hs.commit = l->committed;
    rd->hard_changed = !hs_equal(&rd->hs, &n->prev_hs);
    rd->snapshot = l->u.snap;
    rd->entries = l->u.ents;
    rd->n_entries = l->u.n;
    rd->messages = n->msgs.v;
    rd->n_messages = n->msgs.n;
    rd->after = n->after.v;
    rd->n_after = n->after.n;
    rd->reads = n->reads_done;
    rd->n_reads = n->n_reads_done;
    rd->must_sync = rd->n_entries > 0 || rd->snapshot != NULL ||
                    rd->hs.term != n->prev_hs.term ||
                    rd->hs.vote != n->prev_hs.vote;
    n->ready_last = rd->n_entries ? rd->entries[rd->n_entries - 1].index : 0;
    n->ready_last_term =
        rd->n_entries ? rd->entries[rd->n_entries - 1].term : 0;
    n->ready_snap = rd->snapshot ? rd->snapshot->meta.index : 0;
    n->rd_committed = rd->committed;
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
    raft__msgvec_clear(&n->msgs);
    raft__msgvec_clear(&n->after);
    n->n_reads_done = 0;
    if (n->ready_snap != 0) {
        raft__log_stable_snap_to(l, n->ready_snap);
        if (l->applied < n->ready_snap)
            l->applied = n->ready_snap;
    }
    if (n->ready_last != 0)
        raft__log_stable_to(l, n->ready_last, n->ready_last_term);
    int rc = 0;
    if (rd->n_committed > 0) {
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
            n->uncommitted = n->uncommitted > bytes ? n->uncommitted - bytes
                                                    : 0;
    }
    raft__free(n->rd_committed);
    n->rd_committed = NULL;
    memset(rd, 0, sizeof(*rd));
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
    raft__log_free_garbage(l);
    return rc;
}

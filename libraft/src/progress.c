/* progress.c: the leader's per-member progress (probe, replicate, snapshot
 * states and the in-flight window) and the quorum rules, including joint
 * majorities (thesis 4.3). DESIGN.md "Progress".
 */
#include <stdlib.h>
#include <string.h>

#include "raft_int.h"

bool raft__ids_has(const raft_id *ids, uint8_t n, raft_id id)
{
    for (uint8_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

bool raft__conf_is_voter(const struct raft_conf_state *c, raft_id id)
{
    return raft__ids_has(c->voters, c->n_voters, id) ||
           raft__ids_has(c->voters_outgoing, c->n_voters_outgoing, id);
}

bool raft__conf_is_member(const struct raft_conf_state *c, raft_id id)
{
    return raft__conf_is_voter(c, id) ||
           raft__ids_has(c->learners, c->n_learners, id) ||
           raft__ids_has(c->learners_next, c->n_learners_next, id);
}

bool raft__conf_joint(const struct raft_conf_state *c)
{
    return c->n_voters_outgoing > 0;
}

/* Distinct members fit, no id is 0, no id repeats within a list, and a
 * learner is not also an incoming voter. */
int raft__conf_validate(const struct raft_conf_state *c)
{
    if (c->n_voters > RAFT_MAX_MEMBERS || c->n_learners > RAFT_MAX_MEMBERS ||
        c->n_voters_outgoing > RAFT_MAX_MEMBERS ||
        c->n_learners_next > RAFT_MAX_MEMBERS)
        return RAFT_EINVAL;
    const raft_id *lists[4] = {c->voters, c->learners, c->voters_outgoing,
                               c->learners_next};
    uint8_t ns[4] = {c->n_voters, c->n_learners, c->n_voters_outgoing,
                     c->n_learners_next};
    raft_id all[4 * RAFT_MAX_MEMBERS];
    uint8_t n_all = 0;
    for (int k = 0; k < 4; k++) {
        for (uint8_t i = 0; i < ns[k]; i++) {
            raft_id id = lists[k][i];
            if (id == 0 || raft__ids_has(lists[k], i, id))
                return RAFT_EINVAL;
            if (!raft__ids_has(all, n_all, id))
                all[n_all++] = id;
        }
    }
    if (n_all > RAFT_MAX_MEMBERS)
        return RAFT_EINVAL;
    for (uint8_t i = 0; i < c->n_learners; i++)
        if (raft__ids_has(c->voters, c->n_voters, c->learners[i]) ||
            raft__ids_has(c->voters_outgoing, c->n_voters_outgoing,
                          c->learners[i]))
            return RAFT_EINVAL;
    return 0;
}

struct raft__progress *raft__tracker_get(struct raft__tracker *t, raft_id id)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->prs[i].id == id)
            return &t->prs[i];
    return NULL;
}

static int tally_one(const raft_id *voters, uint8_t nv, const raft_id *granted,
                     size_t ng, const raft_id *rejected, size_t nr)
{
    if (nv == 0)
        return RAFT__VOTE_WON; /* an empty side agrees with anything */
    size_t yes = 0, no = 0;
    for (uint8_t i = 0; i < nv; i++) {
        for (size_t k = 0; k < ng; k++)
            if (granted[k] == voters[i])
                yes++;
        for (size_t k = 0; k < nr; k++)
            if (rejected[k] == voters[i])
                no++;
    }
    size_t q = (size_t)nv / 2 + 1;
    if (yes >= q)
        return RAFT__VOTE_WON;
    if (nv - no < q)
        return RAFT__VOTE_LOST;
    return RAFT__VOTE_PENDING;
}

int raft__tally(const struct raft_conf_state *c, const raft_id *granted,
                size_t n_granted, const raft_id *rejected, size_t n_rejected)
{
    int a = tally_one(c->voters, c->n_voters, granted, n_granted, rejected,
                      n_rejected);
    int b = tally_one(c->voters_outgoing, c->n_voters_outgoing, granted,
                      n_granted, rejected, n_rejected);
    if (a == RAFT__VOTE_LOST || b == RAFT__VOTE_LOST)
        return RAFT__VOTE_LOST;
    if (a == RAFT__VOTE_WON && b == RAFT__VOTE_WON)
        return RAFT__VOTE_WON;
    return RAFT__VOTE_PENDING;
}

static int cmp_desc(const void *a, const void *b)
{
    raft_index x = *(const raft_index *)a, y = *(const raft_index *)b;
    return x < y ? 1 : (x > y ? -1 : 0);
}

static raft_index committed_one(struct raft__tracker *t, const raft_id *voters,
                                uint8_t nv)
{
    if (nv == 0)
        return UINT64_MAX;
    raft_index m[RAFT_MAX_MEMBERS];
    for (uint8_t i = 0; i < nv; i++) {
        struct raft__progress *p = raft__tracker_get(t, voters[i]);
        m[i] = p ? p->match : 0;
    }
    qsort(m, nv, sizeof(m[0]), cmp_desc);
    return m[nv / 2]; /* the highest index a majority has reached */
}

raft_index raft__tracker_committed(struct raft__tracker *t)
{
    raft_index a = committed_one(t, t->conf.voters, t->conf.n_voters);
    raft_index b = committed_one(t, t->conf.voters_outgoing,
                                 t->conf.n_voters_outgoing);
    raft_index c = a < b ? a : b;
    return c == UINT64_MAX ? 0 : c;
}

bool raft__tracker_quorum_active(struct raft__tracker *t, raft_id self)
{
    raft_id act[RAFT_MAX_MEMBERS], inact[RAFT_MAX_MEMBERS];
    size_t na = 0, ni = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        struct raft__progress *p = &t->prs[i];
        if (p->learner)
            continue;
        if (p->id == self || p->recent_active)
            act[na++] = p->id;
        else
            inact[ni++] = p->id;
        if (p->id != self)
            p->recent_active = false;
    }
    return raft__tally(&t->conf, act, na, inact, ni) == RAFT__VOTE_WON;
}

static void infl_reset(struct raft__progress *p)
{
    p->infl_start = 0;
    p->infl_count = 0;
    p->infl_bytes = 0;
}

void raft__progress_reset(struct raft__progress *p, raft_index next)
{
    p->match = 0;
    p->next = next;
    p->state = RAFT_PROGRESS_PROBE;
    p->pending_snapshot = 0;
    p->recent_active = false;
    p->paused = false;
    p->snap_ticks = 0;
    p->lease_tick = 0;
    p->commit_known = 0;
    infl_reset(p);
}

bool raft__progress_paused(const struct raft__progress *p, uint64_t max_msgs,
                           uint64_t max_bytes)
{
    switch (p->state) {
    case RAFT_PROGRESS_PROBE:
        return p->paused;
    case RAFT_PROGRESS_REPLICATE:
        return p->infl_count >= max_msgs ||
               (max_bytes > 0 && p->infl_bytes >= max_bytes);
    default:
        return true;
    }
}

void raft__progress_become_probe(struct raft__progress *p)
{
    if (p->state == RAFT_PROGRESS_SNAPSHOT) {
        raft_index ps = p->pending_snapshot;
        p->next = (p->match + 1 > ps + 1) ? p->match + 1 : ps + 1;
    } else {
        p->next = p->match + 1;
    }
    p->state = RAFT_PROGRESS_PROBE;
    p->pending_snapshot = 0;
    p->paused = false;
    p->snap_ticks = 0;
    infl_reset(p);
}

/* The ring is allocated on first use; without memory the member stays in
 * probe (slower, still correct). */
void raft__progress_become_replicate(struct raft__progress *p,
                                     uint64_t max_msgs)
{
    if (p->infl == NULL) {
        p->infl = raft__malloc((size_t)max_msgs * sizeof(*p->infl));
        if (p->infl == NULL)
            return;
    }
    p->state = RAFT_PROGRESS_REPLICATE;
    p->next = p->match + 1;
    p->paused = false;
    p->pending_snapshot = 0;
    infl_reset(p);
}

void raft__progress_become_snapshot(struct raft__progress *p, raft_index snap)
{
    p->state = RAFT_PROGRESS_SNAPSHOT;
    p->pending_snapshot = snap;
    p->paused = false;
    p->snap_ticks = 0;
    infl_reset(p);
}

bool raft__progress_maybe_update(struct raft__progress *p, raft_index n)
{
    bool updated = false;
    if (p->match < n) {
        p->match = n;
        updated = true;
        p->paused = false;
    }
    if (p->next < n + 1)
        p->next = n + 1;
    return updated;
}

/* A rejection of an append at index rejected, with the follower's hint of
 * where its log may match (thesis 3.5's fast backtracking). */
bool raft__progress_maybe_decr(struct raft__progress *p, raft_index rejected,
                               raft_index hint)
{
    if (p->state == RAFT_PROGRESS_REPLICATE) {
        if (rejected <= p->match)
            return false; /* stale */
        p->next = p->match + 1;
        return true;
    }
    if (p->next - 1 != rejected)
        return false; /* stale: not the probe we last sent */
    raft_index n = rejected < hint + 1 ? rejected : hint + 1;
    p->next = n > p->match + 1 ? n : p->match + 1;
    if (p->next < 1)
        p->next = 1;
    p->paused = false;
    return true;
}

void raft__progress_sent(struct raft__progress *p, uint32_t n_ents,
                         uint64_t bytes, uint64_t max_msgs)
{
    if (p->state == RAFT_PROGRESS_REPLICATE) {
        if (n_ents > 0) {
            p->next += n_ents;
            if (p->infl_count < max_msgs) {
                uint32_t slot = (uint32_t)((p->infl_start + p->infl_count) %
                                           max_msgs);
                p->infl[slot].index = p->next - 1;
                p->infl[slot].bytes = bytes;
                p->infl_count++;
                p->infl_bytes += bytes;
            }
        }
    } else if (p->state == RAFT_PROGRESS_PROBE) {
        p->paused = true;
    }
}

void raft__progress_free_le(struct raft__progress *p, raft_index i,
                            uint64_t max_msgs)
{
    while (p->infl_count > 0 && p->infl[p->infl_start].index <= i) {
        p->infl_bytes -= p->infl[p->infl_start].bytes;
        p->infl_start = (uint32_t)((p->infl_start + 1) % max_msgs);
        p->infl_count--;
    }
    if (p->infl_count == 0)
        p->infl_start = 0;
}

int raft__tracker_set_conf(struct raft__tracker *t,
                           const struct raft_conf_state *conf,
                           raft_index next)
{
    int rc = raft__conf_validate(conf);
    if (rc != 0)
        return rc;
    struct raft__progress old[RAFT_MAX_MEMBERS];
    uint32_t n_old = t->n;
    memcpy(old, t->prs, sizeof(old));
    raft_id ids[RAFT_MAX_MEMBERS];
    uint32_t n = 0;
    const raft_id *lists[4] = {conf->voters, conf->voters_outgoing,
                               conf->learners, conf->learners_next};
    uint8_t ns[4] = {conf->n_voters, conf->n_voters_outgoing,
                     conf->n_learners, conf->n_learners_next};
    for (int k = 0; k < 4; k++)
        for (uint8_t i = 0; i < ns[k]; i++)
            if (!raft__ids_has(ids, (uint8_t)n, lists[k][i]))
                ids[n++] = lists[k][i];
    bool used[RAFT_MAX_MEMBERS] = {false};
    for (uint32_t i = 0; i < n; i++) {
        struct raft__progress *p = &t->prs[i];
        bool found = false;
        for (uint32_t k = 0; k < n_old; k++) {
            if (old[k].id == ids[i]) {
                *p = old[k];
                used[k] = true;
                found = true;
                break;
            }
        }
        if (!found) {
            memset(p, 0, sizeof(*p));
            p->id = ids[i];
            raft__progress_reset(p, next);
            /* A new member counts as active so that adding it cannot make
             * a CheckQuorum leader step down at once. */
            p->recent_active = true;
        }
        p->learner = !raft__conf_is_voter(conf, ids[i]);
    }
    for (uint32_t k = 0; k < n_old; k++)
        if (!used[k])
            raft__free(old[k].infl);
    t->n = n;
    t->conf = *conf;
    return 0;
}

void raft__tracker_close(struct raft__tracker *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        raft__free(t->prs[i].infl);
    t->n = 0;
}

void raft__progress_free_first(struct raft__progress *p, uint64_t max_msgs)
{
    if (p->infl_count > 0)
        raft__progress_free_le(p, p->infl[p->infl_start].index, max_msgs);
}

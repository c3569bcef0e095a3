/* member.c: a region's membership as its peers apply it: voters and
 * learners in the region state (a learner bit per store), the
 * configuration libraft is given, and which stores joined while a peer
 * ran (messages from an incarnation of a store older than its latest add
 * are refused). DESIGN.md, "Membership" and "Learners".
 */
#include <string.h>

#include "region_int.h"

static uint32_t at_of(const struct region_desc *d, uint64_t store_id)
{
    for (uint32_t i = 0; i < d->n_stores; i++)
        if (d->stores[i] == store_id)
            return i;
    return d->n_stores;
}

bool region_desc_is_learner(const struct region_desc *d, uint64_t store_id)
{
    uint32_t at = at_of(d, store_id);
    return at < d->n_stores && (d->learners >> at & 1u) != 0;
}

int region__desc_change(struct region_desc *d, uint32_t type,
                        uint64_t store_id)
{
    uint32_t at = at_of(d, store_id);
    uint32_t bit = 1u << at;
    if (type == RAFT_CHANGE_REMOVE) {
        if (at == d->n_stores)
            return 0;
        uint32_t last = d->n_stores - 1;
        bool last_learner = (d->learners >> last & 1u) != 0;
        d->learners &= ~bit;
        d->stores[at] = d->stores[last];
        if (last_learner)
            d->learners |= bit;
        d->learners &= ~(1u << last);
        d->stores[last] = 0;
        d->n_stores = last;
        return 0;
    }
    if (at == d->n_stores) {
        if (d->n_stores == REGION_MAX_PEERS)
            return REGION_EINVAL;
        d->stores[d->n_stores++] = store_id;
    }
    if (type == RAFT_CHANGE_ADD_LEARNER)
        d->learners |= bit;
    else
        d->learners &= ~bit;
    return 0;
}

void region__conf_of(const struct region_desc *d, struct raft_conf_state *cs)
{
    memset(cs, 0, sizeof *cs);
    for (uint32_t i = 0; i < d->n_stores; i++) {
        if (d->learners >> i & 1u)
            cs->learners[cs->n_learners++] = d->stores[i];
        else
            cs->voters[cs->n_voters++] = d->stores[i];
    }
}

uint64_t region__joined_at(const struct region_peer *p, uint64_t store_id)
{
    for (uint32_t i = 0; i < p->n_joined; i++)
        if (p->joined[i].store == store_id)
            return p->joined[i].conf_ver;
    return 0;
}

void region__joined_note(struct region_peer *p, uint64_t store_id,
                         uint64_t conf_ver)
{
    uint32_t i = 0;
    while (i < p->n_joined && p->joined[i].store != store_id)
        i++;
    if (i == p->n_joined) {
        if (p->n_joined == REGION_MAX_PEERS)
            return; /* more adds than replicas: only the newest matter */
        p->n_joined++;
    }
    p->joined[i] = (struct region_joined){store_id, conf_ver};
}

void region__joined_drop(struct region_peer *p, uint64_t store_id)
{
    for (uint32_t i = 0; i < p->n_joined; i++)
        if (p->joined[i].store == store_id) {
            p->joined[i] = p->joined[--p->n_joined];
            return;
        }
}

bool region__peer_caught_up(const struct raft_status *st, uint64_t store_id,
                            raft_index compacted)
{
    for (uint32_t i = 0; i < st->n_peers; i++) {
        const struct raft_peer_status *ps = &st->peers[i];
        if (ps->id == store_id)
            return ps->state == RAFT_PROGRESS_REPLICATE && ps->recent_active &&
                   ps->match >= compacted && ps->match > 0;
    }
    return false;
}

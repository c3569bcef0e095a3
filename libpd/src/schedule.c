/* schedule.c: the checkers (replica, location, merge) and the schedulers
 * (balance-leader, balance-region). Pure functions of the map, the store
 * heartbeats and the config; the rules and their tie-breaks are in
 * DESIGN.md "Scheduling" and every choice is deterministic.
 */
#include <stdio.h>
#include <string.h>

#include "pd_int.h"

/* One store as the schedulers see it this round. */
struct sstat {
    const struct pd__store *s; /* the store */
    int state;                 /* effective state */
    bool usable;               /* up, heard from this leadership */
    bool space_ok;             /* enough free space for a new replica */
    uint32_t leaders;          /* regions in the map it leads */
    uint32_t regions;          /* regions in the map with a peer on it */
    uint64_t size;             /* sum of those regions' sizes */
    uint32_t incoming;         /* running operators adding a replica here */
};

struct ctx {
    struct pd *pd;     /* the replica */
    uint64_t now;      /* mono ms */
    struct sstat *st;  /* one per store, in id order */
    size_t n;          /* stores */
};

static struct sstat *stat_of(const struct ctx *c, uint64_t store_id);

/* A region's weight for balancing: its approximate size, but at least
 * 1 MiB, as PD counts an empty region. A store that cannot measure its
 * regions (size 0: kvd counts key bytes of raw data only, and none for
 * transactional data) is then balanced by region count. */
#define MIN_REGION_SIZE (UINT64_C(1) << 20)
static uint64_t weight(const struct pd__region *r)
{
    return r->size > MIN_REGION_SIZE ? r->size : MIN_REGION_SIZE;
}

/* Count an operator's remaining steps as done, so the rest of the round
 * (and later rounds, while it runs) does not pile more work onto a store
 * already receiving it. */
static void influence_op(struct ctx *c, const struct pd_operator *op)
{
    const struct pd__region *r = pd__region_find(c->pd, op->region_id);
    if (r == NULL)
        return;
    for (uint32_t k = op->current; k < op->n_steps; k++) {
        const struct pd_step *s = &op->steps[k];
        struct sstat *t = stat_of(c, s->store_id);
        if (t == NULL)
            continue;
        switch (s->kind) {
        case PD_STEP_ADD_PEER:
        case PD_STEP_ADD_LEARNER:
            t->regions++;
            t->size += weight(r);
            t->incoming++;
            break;
        case PD_STEP_REMOVE_PEER:
            t->regions -= t->regions > 0 ? 1 : 0;
            t->size -= t->size >= weight(r) ? weight(r) : t->size;
            break;
        case PD_STEP_TRANSFER_LEADER:
            for (uint32_t p = 0; p < r->n_peers; p++)
                if (r->peers[p].id == r->leader_peer) {
                    struct sstat *f = stat_of(c, r->peers[p].store_id);
                    if (f != NULL && f->leaders > 0)
                        f->leaders--;
                }
            t->leaders++;
            break;
        default:
            break;
        }
    }
}

static void influence(struct ctx *c)
{
    for (size_t i = 0; i < c->pd->n_ops; i++)
        influence_op(c, &c->pd->ops[i]);
}

static int ctx_init(struct ctx *c, struct pd *pd, uint64_t mono_ms)
{
    c->pd = pd;
    c->now = mono_ms;
    c->n = pd->n_stores;
    c->st = pd__calloc(c->n == 0 ? 1 : c->n, sizeof(c->st[0]));
    if (c->st == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < c->n; i++) {
        struct sstat *t = &c->st[i];
        const struct pd__store *s = pd->stores[i];
        t->s = s;
        t->state = pd__store_state(pd, s, mono_ms);
        t->usable = t->state == PD_STORE_UP && s->has_hb;
        t->space_ok = s->stats.capacity == 0 ||
                      s->stats.available * 100 >=
                          s->stats.capacity * pd->cfg.low_space_percent;
    }
    for (size_t k = 0; k < pd->n_regions; k++) {
        const struct pd__region *r = pd->by_key[k];
        for (uint32_t p = 0; p < r->n_peers; p++) {
            for (size_t i = 0; i < c->n; i++)
                if (c->st[i].s->id == r->peers[p].store_id) {
                    c->st[i].regions++;
                    c->st[i].size += weight(r);
                    if (r->peers[p].id == r->leader_peer)
                        c->st[i].leaders++;
                    break;
                }
        }
    }
    influence(c);
    return 0;
}

static void ctx_fini(struct ctx *c)
{
    pd__free(c->st);
}

static struct sstat *stat_of(const struct ctx *c, uint64_t store_id)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->st[i].s->id == store_id)
            return &c->st[i];
    return NULL;
}

/* A peer on a missing, tombstone or down store. */
static bool store_down(const struct ctx *c, const struct pd_peer *p)
{
    const struct sstat *t = stat_of(c, p->store_id);
    return t == NULL || t->state == PD_STORE_TOMBSTONE ||
           t->state == PD_STORE_DOWN;
}

/* ... or one its region's leader reports down. */
static bool peer_down_in(const struct ctx *c, const struct pd__region *r,
                         const struct pd_peer *p)
{
    if (store_down(c, p))
        return true;
    for (uint32_t i = 0; i < r->n_down; i++)
        if (r->down[i] == p->id)
            return true;
    return false;
}

static bool peer_offline(const struct ctx *c, const struct pd_peer *p)
{
    const struct sstat *t = stat_of(c, p->store_id);
    return t != NULL && t->state == PD_STORE_OFFLINE;
}

/* How far apart two stores are in the location hierarchy: the number of
 * levels from the first differing label to the bottom (zone differs: all
 * levels; same zone, other host: 1 of 2; same everything: 0). */
static uint32_t distance(const struct pd *pd, const struct pd__store *a,
                         const struct pd__store *b)
{
    uint32_t n = pd->cfg.n_location_labels;
    for (uint32_t i = 0; i < n; i++) {
        const char *va = pd__store_label(a, pd->cfg.location_labels[i]);
        const char *vb = pd__store_label(b, pd->cfg.location_labels[i]);
        if (strcmp(va == NULL ? "" : va, vb == NULL ? "" : vb) != 0)
            return n - i;
    }
    return 0;
}

/* A store's isolation from the stores of peers (skipping store skip): the
 * smallest distance to any of them; the full depth when alone. */
static uint32_t isolation(const struct ctx *c, const struct pd__store *s,
                          const struct pd__region *r, uint64_t skip)
{
    uint32_t best = c->pd->cfg.n_location_labels;
    for (uint32_t i = 0; i < r->n_peers; i++) {
        const struct pd_peer *p = &r->peers[i];
        if (p->learner || p->store_id == skip || p->store_id == s->id)
            continue;
        const struct sstat *t = stat_of(c, p->store_id);
        if (t == NULL || peer_down_in(c, r, p))
            continue;
        uint32_t d = distance(c->pd, s, t->s);
        if (d < best)
            best = d;
    }
    return best;
}

/* The store already receives store_limit replicas. */
static bool at_limit(const struct ctx *c, const struct sstat *t)
{
    uint32_t lim = c->pd->cfg.store_limit;
    return lim > 0 && t->incoming >= lim;
}

/* Whether a beats b as a place for a new replica: more isolated, then less
 * data, then fewer regions, then the lower id. */
static bool better_target(uint32_t ia, const struct sstat *a, uint32_t ib,
                          const struct sstat *b)
{
    if (ia != ib)
        return ia > ib;
    if (a->size != b->size)
        return a->size < b->size;
    if (a->regions != b->regions)
        return a->regions < b->regions;
    return a->s->id < b->s->id;
}

/* The best store for a new replica of r, ignoring the peer on skip when
 * judging isolation; NULL when none qualifies. */
static const struct sstat *best_target(const struct ctx *c,
                                       const struct pd__region *r,
                                       uint64_t skip, uint32_t *iso)
{
    const struct sstat *best = NULL;
    uint32_t best_iso = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct sstat *t = &c->st[i];
        if (!t->usable || !t->space_ok || at_limit(c, t) ||
            pd__region_peer(r, t->s->id) != NULL)
            continue;
        uint32_t is = isolation(c, t->s, r, skip);
        if (best == NULL || better_target(is, t, best_iso, best)) {
            best = t;
            best_iso = is;
        }
    }
    if (iso != NULL)
        *iso = best_iso;
    return best;
}

/* The voter whose loss hurts least: least isolated from the others, then
 * on the store with more data, then the higher store id. */
static const struct pd_peer *worst_voter(const struct ctx *c,
                                         const struct pd__region *r,
                                         uint32_t *iso)
{
    const struct pd_peer *worst = NULL;
    uint32_t wi = 0;
    uint64_t wsize = 0;
    for (uint32_t i = 0; i < r->n_peers; i++) {
        const struct pd_peer *p = &r->peers[i];
        const struct sstat *t = stat_of(c, p->store_id);
        if (p->learner || t == NULL)
            continue;
        uint32_t is = isolation(c, t->s, r, 0);
        bool take = worst == NULL || is < wi ||
                    (is == wi && (t->size > wsize ||
                                  (t->size == wsize &&
                                   p->store_id > worst->store_id)));
        if (take) {
            worst = p;
            wi = is;
            wsize = t->size;
        }
    }
    if (iso != NULL)
        *iso = wi;
    return worst;
}

static const struct pd_peer *leader_of(const struct pd__region *r)
{
    for (uint32_t i = 0; i < r->n_peers; i++)
        if (r->peers[i].id == r->leader_peer)
            return &r->peers[i];
    return NULL;
}

/* The voter (other than on store skip) best placed to take leadership:
 * healthy store with the fewest leaders, then the lower id. */
static const struct pd_peer *leader_target(const struct ctx *c,
                                           const struct pd__region *r,
                                           uint64_t skip)
{
    const struct pd_peer *best = NULL;
    uint32_t bl = 0;
    for (uint32_t i = 0; i < r->n_peers; i++) {
        const struct pd_peer *p = &r->peers[i];
        const struct sstat *t = stat_of(c, p->store_id);
        if (p->learner || p->store_id == skip || t == NULL || !t->usable)
            continue;
        if (best == NULL || t->leaders < bl ||
            (t->leaders == bl && p->store_id < best->store_id)) {
            best = p;
            bl = t->leaders;
        }
    }
    return best;
}

/* Every peer on a healthy store, voters == max_replicas, no learner, a
 * known leader and a heartbeat in this leadership. */
static bool healthy(const struct ctx *c, const struct pd__region *r)
{
    if (!r->has_hb || leader_of(r) == NULL || r->n_down > 0 ||
        r->n_peers != c->pd->cfg.max_replicas)
        return false;
    for (uint32_t i = 0; i < r->n_peers; i++) {
        const struct sstat *t = stat_of(c, r->peers[i].store_id);
        if (r->peers[i].learner || t == NULL || t->state != PD_STORE_UP)
            return false;
    }
    return true;
}

static void init_op(struct pd_operator *op, uint64_t region,
                    const char *desc)
{
    memset(op, 0, sizeof(*op));
    op->region_id = region;
    snprintf(op->desc, sizeof(op->desc), "%s", desc);
}

static void step(struct pd_operator *op, int kind, uint64_t store,
                 uint64_t peer)
{
    assert(op->n_steps < PD_MAX_STEPS);
    struct pd_step *s = &op->steps[op->n_steps++];
    s->kind = kind;
    s->store_id = store;
    s->peer_id = peer;
}

/* Add op, count it in this round's view, and copy it out. */
static int emit(struct ctx *c, struct pd_operator *op, struct pd_operator *out)
{
    int rc = pd__op_add(c->pd, c->now, op);
    if (rc != 0)
        return rc;
    influence_op(c, op);
    return pd_operator_get(c->pd, op->region_id, out);
}

/* learner on target, promote, (leader away from src), remove src. */
static int move_peer(struct ctx *c, const struct pd__region *r,
                     const char *desc, uint64_t src, uint64_t dst,
                     struct pd_operator *out)
{
    uint64_t peer;
    int rc = pd_id_alloc(c->pd, 1, &peer);
    if (rc != 0)
        return rc;
    struct pd_operator op;
    init_op(&op, r->id, desc);
    step(&op, PD_STEP_ADD_LEARNER, dst, peer);
    step(&op, PD_STEP_PROMOTE_LEARNER, dst, peer);
    const struct pd_peer *l = leader_of(r);
    if (l != NULL && l->store_id == src)
        step(&op, PD_STEP_TRANSFER_LEADER, dst, peer);
    step(&op, PD_STEP_REMOVE_PEER, src, 0);
    return emit(c, &op, out);
}

static uint32_t voters(const struct pd__region *r)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < r->n_peers; i++)
        if (!r->peers[i].learner)
            n++;
    return n;
}

static int replica_check(struct ctx *c, const struct pd__region *r,
                         struct pd_operator *out)
{
    uint32_t max = c->pd->cfg.max_replicas;
    uint32_t nv = voters(r);
    /* 0: a learner no operator looks after (its operator timed out or was
     * removed between adding and promoting it): promoted when voters are
     * short and its store is fine, else removed. */
    for (uint32_t i = 0; i < r->n_peers; i++) {
        const struct pd_peer *p = &r->peers[i];
        if (!p->learner)
            continue;
        const struct sstat *ls = stat_of(c, p->store_id);
        bool fine = ls != NULL && ls->usable && !peer_down_in(c, r, p) &&
                    !peer_offline(c, p);
        struct pd_operator op;
        init_op(&op, r->id,
                fine && nv < max ? "promote-orphan-learner"
                                 : "remove-orphan-learner");
        step(&op, fine && nv < max ? PD_STEP_PROMOTE_LEARNER
                                   : PD_STEP_REMOVE_PEER,
             p->store_id, fine && nv < max ? p->id : 0);
        return emit(c, &op, out);
    }
    /* 1-2: replicas on down (or gone) stores, then on offline ones. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < r->n_peers; i++) {
            const struct pd_peer *p = &r->peers[i];
            bool bad = pass == 0 ? peer_down_in(c, r, p) : peer_offline(c, p);
            if (p->learner || !bad)
                continue;
            const char *what = pass == 0 ? "down" : "offline";
            char desc[32];
            if (nv > max) {
                struct pd_operator op;
                snprintf(desc, sizeof(desc), "remove-%s-replica", what);
                init_op(&op, r->id, desc);
                step(&op, PD_STEP_REMOVE_PEER, p->store_id, 0);
                return emit(c, &op, out);
            }
            const struct sstat *t = best_target(c, r, p->store_id, NULL);
            if (t == NULL)
                continue;
            snprintf(desc, sizeof(desc), "replace-%s-replica", what);
            return move_peer(c, r, desc, p->store_id, t->s->id, out);
        }
    }
    /* 3: too few voters. */
    if (nv < max) {
        const struct sstat *t = best_target(c, r, 0, NULL);
        if (t == NULL)
            return PD_ENOOP;
        uint64_t peer;
        int rc = pd_id_alloc(c->pd, 1, &peer);
        if (rc != 0)
            return rc;
        /* as PD: a learner first, a voter once it caught up (kvd
         * promotes only then), so a quorum never waits on a snapshot */
        struct pd_operator op;
        init_op(&op, r->id, "make-up-replica");
        step(&op, PD_STEP_ADD_LEARNER, t->s->id, peer);
        step(&op, PD_STEP_PROMOTE_LEARNER, t->s->id, peer);
        return emit(c, &op, out);
    }
    /* 4: too many. */
    uint32_t wi;
    const struct pd_peer *w = worst_voter(c, r, &wi);
    if (nv > max && w != NULL) {
        struct pd_operator op;
        init_op(&op, r->id, "remove-extra-replica");
        const struct pd_peer *l = leader_of(r);
        if (l != NULL && l->store_id == w->store_id) {
            const struct pd_peer *to = leader_target(c, r, w->store_id);
            if (to == NULL)
                return PD_ENOOP;
            step(&op, PD_STEP_TRANSFER_LEADER, to->store_id, to->id);
        }
        step(&op, PD_STEP_REMOVE_PEER, w->store_id, 0);
        return emit(c, &op, out);
    }
    /* 5: a strictly better location for the least isolated voter. */
    if (c->pd->cfg.n_location_labels > 0 && w != NULL) {
        uint32_t ti;
        const struct sstat *t = best_target(c, r, w->store_id, &ti);
        if (t != NULL && ti > wi)
            return move_peer(c, r, "move-to-better-location", w->store_id,
                             t->s->id, out);
    }
    return PD_ENOOP;
}

static bool small(const struct pd *pd, const struct pd__region *r)
{
    return r->size < pd->cfg.merge_max_size &&
           r->keys < pd->cfg.merge_max_keys;
}

/* Same voter stores (merge needs the peers aligned). */
static bool same_stores(const struct pd__region *a, const struct pd__region *b)
{
    if (voters(a) != voters(b))
        return false;
    for (uint32_t i = 0; i < a->n_peers; i++) {
        const struct pd_peer *p = pd__region_peer(b, a->peers[i].store_id);
        if (p == NULL || p->learner != a->peers[i].learner)
            return false;
    }
    return true;
}

/* Split or merged less than split_merge_interval_ms ago. */
static bool reshaped_lately(const struct ctx *c, const struct pd__region *r)
{
    uint64_t iv = c->pd->cfg.split_merge_interval_ms;
    return iv > 0 && r->reshaped && c->now < r->reshaped_mono + iv;
}

/* Every store of r usable and not silent (pd__store_silent). A merge prepared
 * over a replica on a store killed a moment ago (still UP) cannot commit
 * until that replica has the source's log to the prepare: kvd waits for
 * it (60 s) with the source refusing every request, then rolls back. */
static bool stores_live(const struct ctx *c, const struct pd__region *r)
{
    for (uint32_t i = 0; i < r->n_peers; i++) {
        const struct sstat *t = stat_of(c, r->peers[i].store_id);
        if (t == NULL || !t->usable || pd__store_silent(t->s, c->now))
            return false;
    }
    return true;
}

/* A neighbour r may merge into, once their peers are aligned. */
static bool merge_ok(const struct ctx *c, const struct pd__region *r,
                     const struct pd__region *t)
{
    return t != NULL && healthy(c, t) && stores_live(c, t) &&
           !pd__op_busy(c->pd, t->id) &&
           !reshaped_lately(c, t) &&
           r->size + t->size <= c->pd->cfg.region_max_size;
}

/* Move one of r's replicas onto a store of t's that r lacks (lowest store
 * ids first), so that a later round can merge them. */
static int align(struct ctx *c, const struct pd__region *r,
                 const struct pd__region *t, struct pd_operator *out)
{
    const struct pd_peer *src = NULL, *dst = NULL;
    for (uint32_t i = 0; i < r->n_peers; i++)
        if (pd__region_peer(t, r->peers[i].store_id) == NULL &&
            (src == NULL || r->peers[i].store_id < src->store_id))
            src = &r->peers[i];
    for (uint32_t i = 0; i < t->n_peers; i++)
        if (pd__region_peer(r, t->peers[i].store_id) == NULL &&
            (dst == NULL || t->peers[i].store_id < dst->store_id))
            dst = &t->peers[i];
    if (src == NULL || dst == NULL)
        return PD_ENOOP;
    const struct sstat *d = stat_of(c, dst->store_id);
    if (d == NULL || !d->usable || !d->space_ok || at_limit(c, d))
        return PD_ENOOP;
    return move_peer(c, r, "merge-align", src->store_id, dst->store_id, out);
}

static int merge_check(struct ctx *c, const struct pd__region *r,
                       struct pd_operator *out)
{
    struct pd *pd = c->pd;
    if (!healthy(c, r) || !stores_live(c, r) || !small(pd, r) ||
        reshaped_lately(c, r))
        return PD_ENOOP;
    /* A new leader does not know when regions last split: wait. */
    uint64_t iv = pd->cfg.split_merge_interval_ms;
    if (iv > 0 && c->now < pd->leader_mono + iv)
        return PD_ENOOP;
    long i = pd__region_index(pd, r->start, r->start_len);
    assert(i >= 0 && pd->by_key[i] == r);
    const struct pd__region *prev = NULL, *next = NULL;
    if (i > 0 && pd->by_key[i - 1]->end_len != 0 &&
        pd__keycmp(pd->by_key[i - 1]->end, pd->by_key[i - 1]->end_len,
                   r->start, r->start_len) == 0)
        prev = pd->by_key[i - 1];
    if ((size_t)i + 1 < pd->n_regions && r->end_len != 0 &&
        pd__keycmp(r->end, r->end_len, pd->by_key[i + 1]->start,
                   pd->by_key[i + 1]->start_len) == 0)
        next = pd->by_key[i + 1];
    if (!merge_ok(c, r, prev))
        prev = NULL;
    if (!merge_ok(c, r, next))
        next = NULL;
    const struct pd__region *t = next;
    if (prev != NULL && (next == NULL || prev->size < next->size))
        t = prev;
    if (t == NULL)
        return PD_ENOOP;
    if (!same_stores(r, t))
        return align(c, r, t, out);
    struct pd_operator op;
    init_op(&op, r->id, "merge-region");
    op.n_steps = 1;
    op.steps[0].kind = PD_STEP_MERGE;
    op.steps[0].target_region_id = t->id;
    return emit(c, &op, out);
}

static int check_one(struct ctx *c, const struct pd__region *r,
                     struct pd_operator *out)
{
    if (pd__op_busy(c->pd, r->id))
        return pd__err(c->pd, PD_EBUSY, "region %llu has an operator",
                       (unsigned long long)r->id);
    if (!r->has_hb)
        return PD_ENOOP; /* wait for a fresh report in this leadership */
    int rc = replica_check(c, r, out);
    if (rc == PD_ENOOP)
        rc = merge_check(c, r, out);
    return rc;
}

static int need_leader(struct pd *pd)
{
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "scheduling on a follower");
    return 0;
}

int pd_check_region(struct pd *pd, uint64_t mono_ms, uint64_t region_id,
                    struct pd_operator *out)
{
    int rc = need_leader(pd);
    if (rc != 0)
        return rc;
    const struct pd__region *r = pd__region_find(pd, region_id);
    if (r == NULL)
        return pd__err(pd, PD_ENOTFOUND, "no region %llu",
                       (unsigned long long)region_id);
    struct ctx c;
    rc = ctx_init(&c, pd, mono_ms);
    if (rc != 0)
        return rc;
    rc = check_one(&c, r, out);
    ctx_fini(&c);
    return rc;
}

/* Stores usable for balancing, sorted by key ascending (then id). */
static size_t ranked(const struct ctx *c, const struct sstat **out,
                     bool by_leaders)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->st[i].usable)
            out[n++] = &c->st[i];
    for (size_t i = 1; i < n; i++) {
        const struct sstat *x = out[i];
        size_t j = i;
        while (j > 0) {
            const struct sstat *y = out[j - 1];
            uint64_t kx = by_leaders ? x->leaders : x->size;
            uint64_t ky = by_leaders ? y->leaders : y->size;
            if (ky < kx || (ky == kx && y->s->id < x->s->id))
                break;
            out[j] = y;
            j--;
        }
        out[j] = x;
    }
    return n;
}

/* The most loaded store: the last of the ranking, lowest id on a tie. */
static const struct sstat *most(const struct sstat **rk, size_t n,
                                bool by_leaders)
{
    const struct sstat *m = rk[n - 1];
    for (size_t i = n - 1; i-- > 0;) {
        uint64_t k = by_leaders ? rk[i]->leaders : rk[i]->size;
        uint64_t km = by_leaders ? m->leaders : m->size;
        if (k != km)
            break;
        m = rk[i];
    }
    return m;
}

/* A transfer of a healthy idle region's leadership from src to dst (the
 * first in key order), or PD_ENOOP. */
static int transfer_one(struct ctx *c, const struct sstat *src,
                        const struct sstat *dst, struct pd_operator *out)
{
    struct pd *pd = c->pd;
    if (src->leaders <= dst->leaders ||
        src->leaders - dst->leaders <= pd->cfg.leader_tolerance ||
        pd__store_silent(dst->s, c->now))
        return PD_ENOOP;
    for (size_t i = 0; i < pd->n_regions; i++) {
        const struct pd__region *r = pd->by_key[i];
        const struct pd_peer *l = leader_of(r);
        const struct pd_peer *p = pd__region_peer(r, dst->s->id);
        if (l == NULL || l->store_id != src->s->id || p == NULL ||
            p->learner || !healthy(c, r) || pd__op_busy(pd, r->id))
            continue;
        struct pd_operator op;
        init_op(&op, r->id, "balance-leader");
        step(&op, PD_STEP_TRANSFER_LEADER, dst->s->id, p->id);
        return emit(c, &op, out);
    }
    return PD_ENOOP;
}

/* balance-leader operators running (leader_schedule_limit caps them). */
static uint32_t leader_ops(const struct pd *pd)
{
    uint32_t k = 0;
    for (size_t i = 0; i < pd->n_ops; i++)
        k += strcmp(pd->ops[i].desc, "balance-leader") == 0;
    return k;
}

static int balance_leader(struct ctx *c, struct pd_operator *out)
{
    if (leader_ops(c->pd) >= c->pd->cfg.leader_schedule_limit)
        return PD_ENOOP;
    const struct sstat **rk = pd__calloc(c->n + 1, sizeof(*rk));
    if (rk == NULL)
        return -ENOMEM;
    int rc = PD_ENOOP;
    size_t n = ranked(c, rk, true);
    if (n < 2)
        goto done;
    /* From the store with the most leaders to the emptiest that shares a
     * region with it; failing that, into the store with the fewest from
     * the fullest that shares one. */
    const struct sstat *src = most(rk, n, true);
    for (size_t k = 0; k < n && rc == PD_ENOOP; k++)
        if (rk[k] != src)
            rc = transfer_one(c, src, rk[k], out);
    const struct sstat *dst = rk[0];
    for (size_t k = n; k-- > 0 && rc == PD_ENOOP;)
        if (rk[k] != dst)
            rc = transfer_one(c, rk[k], dst, out);
done:
    pd__free(rk);
    return rc;
}

static int balance_region(struct ctx *c, struct pd_operator *out)
{
    struct pd *pd = c->pd;
    const struct sstat **rk = pd__calloc(c->n + 1, sizeof(*rk));
    if (rk == NULL)
        return -ENOMEM;
    int rc = PD_ENOOP;
    size_t n = ranked(c, rk, false);
    if (n < 2)
        goto done;
    const struct sstat *src = most(rk, n, false);
    for (size_t k = 0; k < n && rc == PD_ENOOP; k++) {
        const struct sstat *dst = rk[k];
        if (dst == src || src->size <= dst->size ||
            src->size - dst->size <= pd->cfg.region_tolerance)
            break;
        if (!dst->space_ok || at_limit(c, dst))
            continue;
        uint64_t gap = src->size - dst->size;
        /* Followers first: moving them needs no leader transfer. */
        for (int pass = 0; pass < 2 && rc == PD_ENOOP; pass++) {
            for (size_t i = 0; i < pd->n_regions; i++) {
                const struct pd__region *r = pd->by_key[i];
                const struct pd_peer *p = pd__region_peer(r, src->s->id);
                const struct pd_peer *l = leader_of(r);
                bool is_leader = l != NULL && p == l;
                if (p == NULL || is_leader != (pass == 1) ||
                    !healthy(c, r) || pd__op_busy(pd, r->id) ||
                    weight(r) > gap / 2 ||
                    pd__region_peer(r, dst->s->id) != NULL)
                    continue;
                /* Never trade isolation for balance. */
                if (isolation(c, dst->s, r, src->s->id) <
                    isolation(c, src->s, r, src->s->id))
                    continue;
                rc = move_peer(c, r, "balance-region", src->s->id,
                               dst->s->id, out);
                break;
            }
        }
    }
done:
    pd__free(rk);
    return rc;
}

int pd_balance_leader(struct pd *pd, uint64_t mono_ms,
                      struct pd_operator *out)
{
    int rc = need_leader(pd);
    if (rc != 0)
        return rc;
    struct ctx c;
    rc = ctx_init(&c, pd, mono_ms);
    if (rc != 0)
        return rc;
    rc = balance_leader(&c, out);
    ctx_fini(&c);
    return rc;
}

int pd_balance_region(struct pd *pd, uint64_t mono_ms,
                      struct pd_operator *out)
{
    int rc = need_leader(pd);
    if (rc != 0)
        return rc;
    struct ctx c;
    rc = ctx_init(&c, pd, mono_ms);
    if (rc != 0)
        return rc;
    rc = balance_region(&c, out);
    ctx_fini(&c);
    return rc;
}

/* Store checker: an OFFLINE store that no region in the map has a peer
 * on any more, and whose own last heartbeat (this leadership) counted no
 * region, is drained: propose TOMBSTONE (PD's "bury"). A store that does
 * not report (dead, or never started) is left for the operator's `pdctl
 * store state N tombstone`. A proposal still in flight is proposed again
 * next round and refused at apply. */
static int bury_drained(struct pd *pd)
{
    for (size_t i = 0; i < pd->n_stores; i++) {
        const struct pd__store *s = pd->stores[i];
        if (s->state != PD_STORE_OFFLINE || !s->has_hb ||
            s->stats.region_count > 0)
            continue;
        bool empty = true;
        for (size_t k = 0; k < pd->n_regions && empty; k++)
            empty = pd__region_peer(pd->by_key[k], s->id) == NULL;
        if (!empty)
            continue;
        int rc = pd_store_set_state(pd, s->id, PD_STORE_TOMBSTONE);
        if (rc != 0)
            return rc;
        pd__log(pd, PD_LOG_INFO, "store %llu is offline and holds no "
                "region: tombstone", (unsigned long long)s->id);
    }
    return 0;
}

int pd_schedule(struct pd *pd, uint64_t mono_ms, struct pd_operator *out,
                size_t max, size_t *n)
{
    *n = 0;
    int rc = need_leader(pd);
    if (rc != 0)
        return rc;
    struct ctx c;
    rc = ctx_init(&c, pd, mono_ms);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < pd->n_regions && *n < max; i++) {
        const struct pd__region *r = pd->by_key[i];
        if (pd__op_busy(pd, r->id))
            continue;
        rc = check_one(&c, r, &out[*n]);
        if (rc == 0)
            (*n)++;
        else if (rc != PD_ENOOP)
            goto out;
    }
    /* transfers up to leader_schedule_limit running at once (each
     * counted as done for the next: influence_op) */
    rc = 0;
    while (*n < max && (rc = balance_leader(&c, &out[*n])) == 0)
        (*n)++;
    if (rc != 0 && rc != PD_ENOOP)
        goto out;
    /* moves until the stores are even or every candidate target receives
     * store_limit replicas (each counted as done for the next) */
    rc = 0;
    while (*n < max && (rc = balance_region(&c, &out[*n])) == 0)
        (*n)++;
    if (rc != 0 && rc != PD_ENOOP)
        goto out;
    rc = bury_drained(pd);
out:
    ctx_fini(&c);
    return rc;
}

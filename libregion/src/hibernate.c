/* hibernate.c: idle regions stop ticking. An idle leader tells its
 * followers and stops; followers stop on its notice; any activity wakes
 * the group; a store-level liveness check (one empty batch per peer store
 * every heartbeat) wakes the groups of a store that went silent or came
 * back, so a dead leader is still replaced. DESIGN.md, "Hibernation".
 */
#include <errno.h>
#include <string.h>

#include "region_int.h"

/* A store this store shares regions with, as liveness sees it. */
struct region_hib_store {
    uint64_t id;    /* store id */
    uint64_t heard; /* hib->ticks when a batch from it last arrived */
    bool down;      /* silent past the timeout (edge already acted on) */
    bool want;      /* shares a region with this store (last ping scan) */
};

struct region_hib {
    uint64_t ticks;                /* region_store_tick calls so far */
    struct region_hib_store *st;   /* stores tracked */
    size_t n;                      /* used */
    size_t cap;                    /* allocated */
    size_t scanned_peers;          /* s->n_peers at the last want scan */
};

/* A leader idle this many ticks in a row goes to sleep. */
static int idle_ticks(const struct region_store *s)
{
    return 2 * s->opts.election_tick;
}

/* A store silent this many ticks is down: its hibernating groups wake
 * (pings go every heartbeat_tick, so a few are lost in a row first). */
static uint64_t down_ticks(const struct region_store *s)
{
    return (uint64_t)s->opts.election_tick;
}

bool region__hib_enabled(const struct region_store *s)
{
    return s->opts.tick_ms > 0 && !s->opts.no_hibernate;
}

static struct region_hib *hib_get(struct region_store *s)
{
    if (s->hib == NULL)
        s->hib = region__calloc(1, sizeof *s->hib);
    return s->hib;
}

static struct region_hib_store *store_find(struct region_hib *h, uint64_t id)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->st[i].id == id)
            return &h->st[i];
    return NULL;
}

/* The entry of id, made (heard now) when missing; NULL on OOM. */
static struct region_hib_store *store_get(struct region_hib *h, uint64_t id)
{
    struct region_hib_store *e = store_find(h, id);
    if (e != NULL)
        return e;
    struct region_hib_store *st =
        region__grow(h->st, &h->cap, h->n + 1, sizeof *st, 8);
    if (st == NULL)
        return NULL;
    h->st = st;
    e = &h->st[h->n++];
    memset(e, 0, sizeof *e);
    e->id = id;
    e->heard = h->ticks;
    return e;
}

void region__hib_wake(struct region_store *s, struct region_peer *p)
{
    if (!p->hib)
        return;
    p->hib = false;
    p->hib_idle = 0;
    s->stats.hib_wakes++;
    region__activate(s, p);
}

static void sleep_peer(struct region_store *s, struct region_peer *p)
{
    p->hib = true;
    s->stats.hib_sleeps++;
}

bool region__hib_wakes(int msg_type)
{
    return msg_type != RAFT_MSG_HEARTBEAT_RESP &&
           msg_type != RAFT_MSG_APPEND_RESP;
}

/* Nothing in flight: no request waits, no ready is out, the log is
 * committed and applied in this term, every member holds all of it. */
static bool leader_idle(struct region_store *s, struct region_peer *p)
{
    if (p->reads || p->n_props || p->n_out || p->inst || p->split_pending ||
        p->removed || !p->initialized || raft_node_has_ready(p->node))
        return false;
    struct raft_status st;
    raft_node_status(p->node, &st);
    if (st.role != RAFT_LEADER || st.transferee != 0 ||
        st.commit != st.last_index || p->applied != st.commit ||
        p->applied_term != st.term)
        return false;
    for (uint32_t i = 0; i < st.n_peers; i++)
        if (st.peers[i].id != s->opts.store_id &&
            st.peers[i].match != st.last_index)
            return false;
    bool same = p->hib_seen == st.last_index; /* no write since last tick */
    p->hib_seen = st.last_index;
    return same;
}

bool region__hib_idle_check(struct region_store *s, struct region_peer *p)
{
    if (!region__hib_enabled(s) || p->role != RAFT_LEADER) {
        p->hib_idle = 0;
        return false;
    }
    if (!leader_idle(s, p)) {
        p->hib_idle = 0;
        return false;
    }
    struct region_hib *h = hib_get(s);
    if (h == NULL)
        return false;
    /* A member store gone silent keeps the leader awake: asleep, a leader
     * cut off from its followers would never run CheckQuorum again, and
     * would name itself leader (to pdd) until the cut heals. */
    for (uint32_t i = 0; i < p->desc.n_stores; i++) {
        const struct region_hib_store *e = store_find(h, p->desc.stores[i]);
        if (e != NULL && e->down) {
            p->hib_idle = 0;
            return false;
        }
    }
    if (++p->hib_idle < idle_ticks(s))
        return false;
    for (uint32_t i = 0; i < p->desc.n_stores; i++)
        if (p->desc.stores[i] != s->opts.store_id)
            region__queue_ctl(s, p->desc.stores[i], p->desc.id, 0, p->term);
    sleep_peer(s, p);
    region__log(s, REGION_LOG_DEBUG, "region %llu: leader hibernates",
                (unsigned long long)p->desc.id);
    return true;
}

void region__hib_notice(struct region_store *s, struct region_peer *p,
                        uint64_t from, uint64_t term)
{
    if (!region__hib_enabled(s) || p->hib || !p->initialized || p->removed ||
        p->reads || p->n_props || p->n_out || p->inst ||
        raft_node_has_ready(p->node))
        return;
    /* Only for the leader this peer follows, in its term: anything else
     * (a deposed leader's late notice) keeps the election timer going. A
     * follower whose leader's store liveness cannot be tracked (no
     * memory) keeps ticking too: it must notice that leader's death. */
    struct raft_status st;
    raft_node_status(p->node, &st);
    struct region_hib *h = hib_get(s);
    if (st.role != RAFT_FOLLOWER || st.leader != from || st.term != term ||
        h == NULL ||
        store_get(h, from) == NULL)
        return;
    sleep_peer(s, p);
}

/* Wake every hibernating peer of a region store is a member of. */
static void wake_member_of(struct region_store *s, uint64_t store)
{
    for (size_t i = 0; i < s->n_peers; i++) {
        struct region_peer *p = s->peers[i];
        if (!p->hib)
            continue;
        for (uint32_t j = 0; j < p->desc.n_stores; j++)
            if (p->desc.stores[j] == store) {
                region__hib_wake(s, p);
                break;
            }
    }
}

void region__hib_heard(struct region_store *s, uint64_t from)
{
    if (!region__hib_enabled(s) || hib_get(s) == NULL)
        return;
    struct region_hib_store *e = store_get(s->hib, from);
    if (e == NULL)
        return;
    e->heard = s->hib->ticks;
    if (e->down) { /* back: its peers may have restarted, wake the groups */
        e->down = false;
        region__log(s, REGION_LOG_INFO, "store %llu heard again",
                    (unsigned long long)from);
        wake_member_of(s, from);
    }
}

/* Mark the stores sharing a region with this one (want). */
static void want_scan(struct region_store *s, struct region_hib *h)
{
    h->scanned_peers = s->n_peers;
    for (size_t i = 0; i < h->n; i++)
        h->st[i].want = false;
    for (size_t i = 0; i < s->n_peers; i++) {
        const struct region_desc *d = &s->peers[i]->desc;
        for (uint32_t j = 0; j < d->n_stores; j++) {
            if (d->stores[j] == s->opts.store_id)
                continue;
            struct region_hib_store *e = store_get(h, d->stores[j]);
            if (e != NULL)
                e->want = true;
        }
    }
}

/* Every heartbeat_tick: send every store sharing a region with this one
 * an empty batch (a ping: older stores ignore it). The stores are scanned
 * again when the number of regions changed and every 8th ping (a
 * membership change), not at every ping: that scan visits every peer. */
static void ping(struct region_store *s, struct region_hib *h)
{
    if (h->scanned_peers != s->n_peers ||
        h->ticks % (8u * (uint64_t)s->opts.heartbeat_tick) == 0)
        want_scan(s, h);
    struct region_buf b = {0};
    region__msgs_begin(&b, s->opts.store_id);
    region__msgs_finish(&b, 0);
    for (size_t i = 0; i < h->n && !b.oom; i++)
        if (h->st[i].want && s->opts.transport.send)
            s->opts.transport.send(s->opts.transport.ctx, h->st[i].id,
                                   b.data, b.len);
    region__buf_free(&b);
}

void region__hib_tick(struct region_store *s)
{
    if (!region__hib_enabled(s) || hib_get(s) == NULL)
        return;
    struct region_hib *h = s->hib;
    h->ticks++;
    if (h->ticks % (uint64_t)s->opts.heartbeat_tick == 0)
        ping(s, h);
    for (size_t i = 0; i < h->n; i++) {
        struct region_hib_store *e = &h->st[i];
        if (e->down || h->ticks - e->heard <= down_ticks(s))
            continue;
        /* silent: its leaders are gone (followers here must elect), its
         * followers may come back empty (leaders here must notice) */
        e->down = true;
        region__log(s, REGION_LOG_INFO, "store %llu silent for %llu ticks: "
                    "waking its regions", (unsigned long long)e->id,
                    (unsigned long long)(h->ticks - e->heard));
        wake_member_of(s, e->id);
    }
}

uint64_t region__hib_count(const struct region_store *s, uint64_t *down)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n_peers; i++)
        n += s->peers[i]->hib;
    *down = 0;
    for (size_t i = 0; s->hib && i < s->hib->n; i++)
        *down += s->hib->st[i].down && s->hib->st[i].want;
    return n;
}

void region__hib_free(struct region_store *s)
{
    if (s->hib == NULL)
        return;
    region__free(s->hib->st);
    region__free(s->hib);
    s->hib = NULL;
}

bool region_store_is_hibernating(struct region_store *s, uint64_t region_id)
{
    if (s == NULL)
        return false;
    pthread_mutex_lock(&s->mu);
    bool hib = false;
    for (size_t i = 0; i < s->n_peers && !hib; i++)
        hib = s->peers[i]->desc.id == region_id && s->peers[i]->hib;
    pthread_mutex_unlock(&s->mu);
    return hib;
}

bool region_store_peer_silent(struct region_store *s, uint64_t store_id)
{
    if (s == NULL)
        return false;
    pthread_mutex_lock(&s->mu);
    bool down = false;
    if (region__hib_enabled(s) && s->hib != NULL) {
        const struct region_hib_store *e = store_find(s->hib, store_id);
        down = e != NULL && e->down;
    }
    pthread_mutex_unlock(&s->mu);
    return down;
}

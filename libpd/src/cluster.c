/* cluster.c: bootstrap and the store registry (DESIGN.md "Stores"):
 * persisted store metadata and states, applied from commands, plus the
 * leader's volatile view of store heartbeats from which DOWN is derived.
 */
#include <stdio.h>
#include <string.h>

#include "pd_int.h"

struct pd__store *pd__store_find(const struct pd *pd, uint64_t id)
{
    size_t lo = 0, hi = pd->n_stores;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pd->stores[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < pd->n_stores && pd->stores[lo]->id == id)
        return pd->stores[lo];
    return NULL;
}

int pd__store_state(const struct pd *pd, const struct pd__store *s,
                    uint64_t mono_ms)
{
    if (s->state != PD_STORE_UP || !pd->leader)
        return s->state;
    /* A store silent since this leadership began is given the whole
     * max_store_down_ms from then: the new leader has not heard anyone. */
    uint64_t last = s->has_hb ? s->hb_mono : pd->leader_mono;
    if (mono_ms > last && mono_ms - last > pd->cfg.max_store_down_ms)
        return PD_STORE_DOWN;
    return PD_STORE_UP;
}

bool pd__store_silent(const struct pd__store *s, uint64_t mono_ms)
{
    if (s == NULL || !s->has_hb)
        return false;
    /* After one heartbeat its period is not known: taken as kvd's
     * default, not 0, or every store would be silent from a second after
     * its first heartbeat in a leadership until its second */
    uint64_t gap = s->hb_gap ? s->hb_gap : PD__FIRST_HB_GAP_MS;
    return mono_ms > s->hb_mono + 3 * gap + 1000;
}

const char *pd__store_label(const struct pd__store *s, const char *key)
{
    for (uint32_t i = 0; i < s->n_labels; i++)
        if (strcmp(s->lkey[i], key) == 0)
            return s->lval[i];
    return NULL;
}

void pd__store_free(struct pd__store *s)
{
    if (s == NULL)
        return;
    pd__free(s->address);
    for (uint32_t i = 0; i < s->n_labels; i++) {
        pd__free(s->lkey[i]);
        pd__free(s->lval[i]);
    }
    pd__free(s);
}

void pd__store_remove(struct pd *pd, uint64_t id)
{
    for (size_t i = 0; i < pd->n_stores; i++)
        if (pd->stores[i]->id == id) {
            pd__store_free(pd->stores[i]);
            memmove(&pd->stores[i], &pd->stores[i + 1],
                    (pd->n_stores - i - 1) * sizeof(pd->stores[0]));
            pd->n_stores--;
            return;
        }
}

static struct pd__store *store_copy(const struct pd__store_v *v)
{
    struct pd__store *s = pd__calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->id = v->id;
    s->state = v->state;
    s->version = v->version;
    s->region_version = v->region_version;
    s->address = pd__strndup((const char *)v->address.p, v->address.n);
    if (s->address == NULL)
        goto err;
    for (uint32_t i = 0; i < v->n_labels; i++) {
        s->lkey[i] = pd__strndup((const char *)v->lkey[i].p, v->lkey[i].n);
        s->lval[i] = pd__strndup((const char *)v->lval[i].p, v->lval[i].n);
        s->n_labels++;
        if (s->lkey[i] == NULL || s->lval[i] == NULL)
            goto err;
    }
    return s;
err:
    pd__store_free(s);
    return NULL;
}

/* Regions in the map with a peer on store id. */
static uint32_t regions_on(const struct pd *pd, uint64_t id)
{
    uint32_t n = 0;
    for (size_t i = 0; i < pd->n_regions; i++)
        if (pd__region_peer(pd->by_key[i], id) != NULL)
            n++;
    return n;
}

const char *pd_version_str(uint32_t v, char *buf, size_t len)
{
    if (v == 0)
        snprintf(buf, len, "unknown");
    else
        snprintf(buf, len, "%u.%u.%u", v / 1000000u, v / 1000u % 1000u,
                 v % 1000u);
    return buf;
}

int pd_version_parse(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int part = 0; part < 3; part++) {
        uint32_t n = 0;
        int digits = 0;
        for (; *s >= '0' && *s <= '9'; s++)
            if (++digits > 3)
                return -EINVAL;
            else
                n = n * 10u + (uint32_t)(*s - '0');
        if (digits == 0 || *s != (part < 2 ? '.' : '\0'))
            return -EINVAL;
        if (part < 2)
            s++;
        v = v * 1000u + n;
    }
    if (v == 0)
        return -EINVAL;
    *out = v;
    return 0;
}

/* The refusal of a store below the cluster version (of libmvcc, or of
 * libregion when region), the same words from the leader's check and from
 * apply (DESIGN.md "Store versions"). */
static int version_refused(struct pd *pd,
                           uint64_t id,
                           bool region,
                           uint32_t version)
{
    char a[32], b[32];
    pd_version_str(region ? pd->cluster_region_version : pd->cluster_version, b,
                   sizeof b);
    const char *lib = region ? "libregion" : "libmvcc";
    const char *of = region ? "cluster's libregion version" : "cluster version";
    if (version == 0) /* a tool, or a store from before versions */
        return pd__err(pd, PD_EVERSION,
                       "store %llu names no %s version and the %s is %s: "
                       "register it with version %s or later",
                       (unsigned long long)id, lib, of, b, b);
    return pd__err(pd, PD_EVERSION,
                   "store %llu runs %s %s, below the %s %s: start it from a "
                   "build with %s %s or later",
                   (unsigned long long)id, lib,
                   pd_version_str(version, a, sizeof a), of, b, lib, b);
}

/* Why a store that is not a tombstone, with these versions, may not take
 * part (the refusal), or 0. */
static int version_check(struct pd *pd,
                         uint64_t id,
                         uint32_t version,
                         uint32_t region_version)
{
    if (version < pd->cluster_version)
        return version_refused(pd, id, false, version);
    if (region_version < pd->cluster_region_version)
        return version_refused(pd, id, true, region_version);
    return 0;
}

/* Raise the cluster versions to the lowest of the stores that are not
 * tombstones (none: they stay). They never go down. Not while a snapshot
 * is restored: it names them (CLUSTER_VERSION, CLUSTER_REGION_VERSION),
 * and a store restored first may be above a later one. */
static void raise_cluster_version(struct pd *pd)
{
    bool any = false;
    uint32_t low = 0, rlow = 0;
    if (pd->restoring)
        return;
    for (size_t i = 0; i < pd->n_stores; i++) {
        const struct pd__store *s = pd->stores[i];
        if (s->state == PD_STORE_TOMBSTONE)
            continue;
        if (!any || s->version < low)
            low = s->version;
        if (!any || s->region_version < rlow)
            rlow = s->region_version;
        any = true;
    }
    char buf[32];
    if (any && low > pd->cluster_version) {
        pd__log(pd, PD_LOG_INFO, "cluster version %s",
                pd_version_str(low, buf, sizeof buf));
        pd->cluster_version = low;
    }
    if (any && rlow > pd->cluster_region_version) {
        pd__log(pd, PD_LOG_INFO, "cluster's libregion version %s",
                pd_version_str(rlow, buf, sizeof buf));
        pd->cluster_region_version = rlow;
    }
}

uint32_t pd_cluster_version(const struct pd *pd)
{
    return pd->cluster_version;
}

uint32_t pd_cluster_region_version(const struct pd *pd)
{
    return pd->cluster_region_version;
}

int pd__apply_cluster_version(struct pd *pd, bool region, uint32_t version)
{
    uint32_t *cur = region ? &pd->cluster_region_version : &pd->cluster_version;
    const char *what = region ? "cluster libregion version" : "cluster version";
    if (version < *cur)
        return pd__err(pd, PD_ESTATE, "%s %u below %u", what, version, *cur);
    for (size_t i = 0; i < pd->n_stores; i++) {
        const struct pd__store *s = pd->stores[i];
        uint32_t v = region ? s->region_version : s->version;
        if (s->state != PD_STORE_TOMBSTONE && v < version)
            return pd__err(pd, PD_ESTATE, "%s %u above store %llu's %u", what,
                           version, (unsigned long long)s->id, v);
    }
    *cur = version;
    return 0;
}


/* Replace or insert the store; keeps the leader's heartbeat view. A live
 * store below the cluster version is refused here too, not only by the
 * leader's check: a store's upgrade can raise the cluster version while
 * another's registration is in the log behind it. */
int pd__apply_store(struct pd *pd, const struct pd__store_v *v)
{
    struct pd__store *old = pd__store_find(pd, v->id);
    if (old != NULL && old->state == PD_STORE_TOMBSTONE)
        return pd__err(pd, PD_ETOMBSTONE, "store %llu is a tombstone",
                       (unsigned long long)v->id);
    if (v->state != PD_STORE_TOMBSTONE) {
        int rc = version_check(pd, v->id, v->version, v->region_version);
        if (rc != 0)
            return rc;
    }
    if (v->state == PD_STORE_TOMBSTONE && regions_on(pd, v->id) > 0)
        return pd__err(pd, PD_EBUSY, "store %llu still holds regions",
                       (unsigned long long)v->id);
    if (old == NULL && pd->n_stores == pd->cap_stores) {
        size_t cap = pd->cap_stores == 0 ? 8 : pd->cap_stores * 2;
        struct pd__store **a = pd__realloc(pd->stores, cap * sizeof(*a));
        if (a == NULL)
            return -ENOMEM;
        pd->stores = a;
        pd->cap_stores = cap;
    }
    struct pd__store *s = store_copy(v);
    if (s == NULL)
        return -ENOMEM;
    size_t i = 0;
    while (i < pd->n_stores && pd->stores[i]->id < v->id)
        i++;
    if (old != NULL) {
        s->has_hb = old->has_hb;
        s->hb_mono = old->hb_mono;
        s->hb_gap = old->hb_gap;
        s->stats = old->stats;
        pd__store_free(old);
    } else {
        memmove(&pd->stores[i + 1], &pd->stores[i],
                (pd->n_stores - i) * sizeof(pd->stores[0]));
        pd->n_stores++;
    }
    pd->stores[i] = s;
    raise_cluster_version(pd);
    return 0;
}

static int need_leader(struct pd *pd, const char *what)
{
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "%s on a follower", what);
    if (pd->cluster_id == 0)
        return pd__err(pd, PD_ENOTBOOTSTRAPPED, "%s before bootstrap", what);
    return 0;
}

int pd_bootstrap(struct pd *pd, uint64_t cluster_id,
                 const struct pd_store *store, const struct pd_region *region)
{
    const char *why = NULL;
    struct pd__cmd c;
    memset(&c, 0, sizeof(c));
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "bootstrap on a follower");
    if (pd->cluster_id != 0)
        return pd__err(pd, PD_EBOOTSTRAPPED, "cluster %llu exists",
                       (unsigned long long)pd->cluster_id);
    if (cluster_id == 0 || region == NULL)
        return pd__err(pd, -EINVAL, "bootstrap: cluster id 0 or no region");
    if (pd__store_view(store, &c.store, &why) != 0)
        return pd__err(pd, -EINVAL, "bootstrap: %s", why);
    struct pd_region_info ri;
    memset(&ri, 0, sizeof(ri));
    ri.region = *region;
    pd__region_view(&ri, &c.region);
    if (!pd__region_valid(&c.region, &why))
        return pd__err(pd, -EINVAL, "bootstrap: %s", why);
    if (c.region.start.n != 0 || c.region.end.n != 0 ||
        c.region.n_peers != 1 || c.region.peers[0].store_id != store->id ||
        c.region.peers[0].learner)
        return pd__err(pd, -EINVAL,
                       "bootstrap: the first region spans all keys with one "
                       "voter on the first store");
    c.region.leader_peer = c.region.peers[0].id; /* its only voter */
    c.type = PD__CMD_BOOTSTRAP;
    c.u = cluster_id;
    return pd__propose(pd, &c);
}

bool pd_is_bootstrapped(const struct pd *pd)
{
    return pd->cluster_id != 0;
}

uint64_t pd_cluster_id(const struct pd *pd)
{
    return pd->cluster_id;
}

int pd_check_cluster(struct pd *pd, uint64_t cluster_id)
{
    if (pd->cluster_id == 0)
        return pd__err(pd, PD_ENOTBOOTSTRAPPED, "cluster not bootstrapped");
    if (cluster_id != pd->cluster_id)
        return pd__err(pd, PD_ECLUSTER, "cluster id %llu, this is %llu",
                       (unsigned long long)cluster_id,
                       (unsigned long long)pd->cluster_id);
    return 0;
}

int pd_store_put(struct pd *pd, const struct pd_store *store)
{
    const char *why = NULL;
    struct pd__cmd c;
    memset(&c, 0, sizeof(c));
    int rc = need_leader(pd, "put store");
    if (rc != 0)
        return rc;
    if (pd__store_view(store, &c.store, &why) != 0)
        return pd__err(pd, -EINVAL, "put store: %s", why);
    const struct pd__store *old = pd__store_find(pd, store->id);
    if (old != NULL && old->state == PD_STORE_TOMBSTONE)
        return pd__err(pd, PD_ETOMBSTONE, "store %llu is a tombstone",
                       (unsigned long long)store->id);
    for (size_t i = 0; i < pd->n_stores; i++) {
        const struct pd__store *o = pd->stores[i];
        if (o->id != store->id && o->state != PD_STORE_TOMBSTONE &&
            strcmp(o->address, store->address) == 0)
            return pd__err(pd, -EEXIST, "address %s is store %llu's",
                           store->address, (unsigned long long)o->id);
    }
    rc = version_check(pd, store->id, store->version, store->region_version);
    if (rc != 0) {
        pd__log(pd, PD_LOG_WARN, "put store refused: %s", pd->errmsg);
        return rc;
    }
    if (old != NULL)
        c.store.state = (uint8_t)old->state;
    c.type = PD__CMD_PUT_STORE;
    return pd__propose(pd, &c);
}

/* The command re-registering s as it is, with state. */
static void store_cmd(const struct pd__store *s, int state, struct pd__cmd *c)
{
    memset(c, 0, sizeof(*c));
    c->type = PD__CMD_PUT_STORE;
    c->store.id = s->id;
    c->store.address.p = (const uint8_t *)s->address;
    c->store.address.n = strlen(s->address);
    c->store.state = (uint8_t)state;
    c->store.version = s->version;
    c->store.region_version = s->region_version;
    c->store.n_labels = s->n_labels;
    for (uint32_t i = 0; i < s->n_labels; i++) {
        c->store.lkey[i].p = (const uint8_t *)s->lkey[i];
        c->store.lkey[i].n = strlen(s->lkey[i]);
        c->store.lval[i].p = (const uint8_t *)s->lval[i];
        c->store.lval[i].n = strlen(s->lval[i]);
    }
}

int pd_store_set_state(struct pd *pd, uint64_t store_id, int state)
{
    int rc = need_leader(pd, "set store state");
    if (rc != 0)
        return rc;
    const struct pd__store *s = pd__store_find(pd, store_id);
    if (s == NULL)
        return pd__err(pd, PD_ENOTFOUND, "no store %llu",
                       (unsigned long long)store_id);
    bool ok = (s->state == PD_STORE_UP && state == PD_STORE_OFFLINE) ||
              (s->state == PD_STORE_OFFLINE && state == PD_STORE_UP) ||
              (s->state == PD_STORE_OFFLINE && state == PD_STORE_TOMBSTONE);
    if (!ok)
        return pd__err(pd, PD_ESTATE, "store %llu: state %d to %d",
                       (unsigned long long)store_id, s->state, state);
    if (state == PD_STORE_TOMBSTONE && regions_on(pd, store_id) > 0)
        return pd__err(pd, PD_EBUSY, "store %llu still holds %u regions",
                       (unsigned long long)store_id,
                       regions_on(pd, store_id));
    struct pd__cmd c;
    store_cmd(s, state, &c);
    return pd__propose(pd, &c);
}

int pd_store_heartbeat(struct pd *pd, uint64_t mono_ms, uint64_t store_id,
                       const struct pd_store_stats *stats)
{
    int rc = need_leader(pd, "store heartbeat");
    if (rc != 0)
        return rc;
    if (stats == NULL || stats->n_labels > PD_MAX_LABELS)
        return pd__err(pd, -EINVAL, "store heartbeat: bad stats");
    struct pd__store *s = pd__store_find(pd, store_id);
    if (s == NULL)
        return pd__err(pd, PD_ENOTFOUND, "heartbeat from unknown store %llu",
                       (unsigned long long)store_id);
    if (s->state == PD_STORE_TOMBSTONE)
        return pd__err(pd, PD_ETOMBSTONE, "heartbeat from tombstone %llu",
                       (unsigned long long)store_id);
    if (stats->update_labels) {
        struct pd_store in;
        struct pd__cmd c;
        const char *why = NULL;
        memset(&in, 0, sizeof(in));
        in.id = s->id;
        in.address = s->address;
        in.version = s->version;
        in.region_version = s->region_version;
        in.n_labels = stats->n_labels;
        memcpy(in.labels, stats->labels,
               stats->n_labels * sizeof(stats->labels[0]));
        memset(&c, 0, sizeof(c));
        if (pd__store_view(&in, &c.store, &why) != 0)
            return pd__err(pd, -EINVAL, "store heartbeat labels: %s", why);
        bool same = s->n_labels == stats->n_labels;
        for (uint32_t i = 0; same && i < s->n_labels; i++) {
            const char *v = pd__store_label(s, stats->labels[i].key);
            same = v != NULL && strcmp(v, stats->labels[i].value) == 0;
        }
        if (!same) {
            c.type = PD__CMD_PUT_STORE;
            c.store.state = (uint8_t)s->state;
            rc = pd__propose(pd, &c);
            if (rc != 0)
                return rc;
        }
    }
    s->hb_gap = s->has_hb && mono_ms > s->hb_mono ? mono_ms - s->hb_mono : 0;
    s->has_hb = true;
    s->hb_mono = mono_ms;
    s->stats = *stats;
    s->stats.update_labels = false;
    s->stats.n_labels = 0;
    memset(s->stats.labels, 0, sizeof(s->stats.labels));
    return 0;
}

static void fill_info(struct pd *pd, const struct pd__store *s,
                      uint64_t mono_ms, struct pd_store_info *out)
{
    memset(out, 0, sizeof(*out));
    out->store.id = s->id;
    out->store.address = s->address;
    out->store.state = s->state;
    out->store.version = s->version;
    out->store.region_version = s->region_version;
    out->store.n_labels = s->n_labels;
    for (uint32_t i = 0; i < s->n_labels; i++) {
        out->store.labels[i].key = s->lkey[i];
        out->store.labels[i].value = s->lval[i];
    }
    out->state = pd__store_state(pd, s, mono_ms);
    out->has_heartbeat = pd->leader && s->has_hb;
    out->last_heartbeat_ms = out->has_heartbeat ? s->hb_mono : 0;
    if (out->has_heartbeat)
        out->stats = s->stats;
    for (size_t i = 0; i < pd->n_regions; i++) {
        const struct pd__region *r = pd->by_key[i];
        const struct pd_peer *p = pd__region_peer(r, s->id);
        if (p == NULL)
            continue;
        out->map_regions++;
        out->map_size += r->size;
        if (r->leader_peer == p->id)
            out->map_leaders++;
    }
}

int pd_store_get(struct pd *pd, uint64_t mono_ms, uint64_t store_id,
                 struct pd_store_info *out)
{
    const struct pd__store *s = pd__store_find(pd, store_id);
    if (s == NULL)
        return pd__err(pd, PD_ENOTFOUND, "no store %llu",
                       (unsigned long long)store_id);
    fill_info(pd, s, mono_ms, out);
    return 0;
}

size_t pd_store_count(const struct pd *pd)
{
    return pd->n_stores;
}

int pd_store_at(struct pd *pd, uint64_t mono_ms, size_t i,
                struct pd_store_info *out)
{
    if (i >= pd->n_stores)
        return PD_ENOTFOUND;
    fill_info(pd, pd->stores[i], mono_ms, out);
    return 0;
}

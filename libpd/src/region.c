/* region.c: the region map (DESIGN.md "Regions"): regions sorted by start
 * key and by id, never overlapping; heartbeats checked against epochs, and
 * PUT_REGION applied by replacing every region the new one overlaps.
 */
#include <string.h>

#include "pd_int.h"

int pd__keycmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n == 0 ? 0 : memcmp(a, b, n);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

/* Whether region r ends after key (an empty end is +inf). */
static bool ends_after(const struct pd__region *r, const uint8_t *key,
                       size_t len)
{
    return r->end_len == 0 || pd__keycmp(r->end, r->end_len, key, len) > 0;
}

/* Number of regions whose start is <= key. */
static size_t upper_start(const struct pd *pd, const uint8_t *key, size_t len)
{
    size_t lo = 0, hi = pd->n_regions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct pd__region *r = pd->by_key[mid];
        if (pd__keycmp(r->start, r->start_len, key, len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

long pd__region_index(const struct pd *pd, const uint8_t *key, size_t len)
{
    size_t i = upper_start(pd, key, len);
    if (i == 0 || !ends_after(pd->by_key[i - 1], key, len))
        return -1;
    return (long)(i - 1);
}

/* Position of id in by_id[0, n). */
static size_t id_pos_n(const struct pd *pd, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pd->by_id[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void id_remove(struct pd *pd, size_t *n, uint64_t id)
{
    size_t i = id_pos_n(pd, *n, id);
    assert(i < *n && pd->by_id[i]->id == id);
    memmove(&pd->by_id[i], &pd->by_id[i + 1],
            (*n - i - 1) * sizeof(pd->by_id[0]));
    (*n)--;
}

struct pd__region *pd__region_find(const struct pd *pd, uint64_t id)
{
    size_t i = id_pos_n(pd, pd->n_regions, id);
    if (i < pd->n_regions && pd->by_id[i]->id == id)
        return pd->by_id[i];
    return NULL;
}

const struct pd_peer *pd__region_peer(const struct pd__region *r,
                                      uint64_t store_id)
{
    for (uint32_t i = 0; i < r->n_peers; i++)
        if (r->peers[i].store_id == store_id)
            return &r->peers[i];
    return NULL;
}

void pd__region_info(const struct pd__region *r, struct pd_region_info *out)
{
    memset(out, 0, sizeof(*out));
    out->region.id = r->id;
    out->region.start_key = r->start;
    out->region.start_len = r->start_len;
    out->region.end_key = r->end;
    out->region.end_len = r->end_len;
    out->region.conf_ver = r->conf_ver;
    out->region.version = r->version;
    out->region.n_peers = r->n_peers;
    memcpy(out->region.peers, r->peers, r->n_peers * sizeof(r->peers[0]));
    out->leader_peer_id = r->leader_peer;
    out->term = r->leader_term;
    out->approx_size = r->size;
    out->approx_keys = r->keys;
    out->n_down_peers = r->n_down;
    memcpy(out->down_peer_ids, r->down, r->n_down * sizeof(r->down[0]));
}

void pd__region_free(struct pd__region *r)
{
    if (r == NULL)
        return;
    pd__free(r->start);
    pd__free(r->end);
    pd__free(r);
}

void pd__regions_clear(struct pd *pd)
{
    for (size_t i = 0; i < pd->n_regions; i++)
        pd__region_free(pd->by_key[i]);
    pd__free(pd->by_key);
    pd__free(pd->by_id);
    pd->by_key = pd->by_id = NULL;
    pd->n_regions = pd->cap_regions = 0;
}

/* [*lo, *hi) of by_key: the regions meeting [v->start, v->end). */
static void overlaps(const struct pd *pd, const struct pd__region_v *v,
                     size_t *lo, size_t *hi)
{
    size_t i = upper_start(pd, v->start.p, v->start.n);
    if (i > 0 && ends_after(pd->by_key[i - 1], v->start.p, v->start.n))
        i--;
    *lo = i;
    while (i < pd->n_regions &&
           (v->end.n == 0 || pd__keycmp(pd->by_key[i]->start,
                                        pd->by_key[i]->start_len, v->end.p,
                                        v->end.n) < 0))
        i++;
    *hi = i;
}

int pd__region_stale(const struct pd *pd, const struct pd__region_v *v)
{
    const struct pd__region *cur = pd__region_find(pd, v->id);
    if (cur != NULL &&
        (v->version < cur->version || v->conf_ver < cur->conf_ver))
        return PD_ESTALE;
    size_t lo, hi;
    overlaps(pd, v, &lo, &hi);
    for (size_t i = lo; i < hi; i++) {
        const struct pd__region *o = pd->by_key[i];
        if (o->id != v->id && o->version > v->version)
            return PD_ESTALE;
    }
    return 0;
}

static uint8_t *dup_key(struct pd__str k, bool *fail)
{
    if (k.n == 0)
        return NULL;
    uint8_t *p = pd__malloc(k.n);
    if (p == NULL)
        *fail = true;
    else
        memcpy(p, k.p, k.n);
    return p;
}

int pd__apply_region(struct pd *pd, const struct pd__region_v *v)
{
    if (pd__region_stale(pd, v) != 0)
        return pd__err(pd, PD_ESTALE, "region %llu epoch %llu/%llu is stale",
                       (unsigned long long)v->id,
                       (unsigned long long)v->conf_ver,
                       (unsigned long long)v->version);
    if (pd->n_regions == pd->cap_regions) {
        size_t cap = pd->cap_regions == 0 ? 16 : pd->cap_regions * 2;
        struct pd__region **a = pd__realloc(pd->by_key, cap * sizeof(*a));
        if (a == NULL)
            return -ENOMEM;
        pd->by_key = a;
        a = pd__realloc(pd->by_id, cap * sizeof(*a));
        if (a == NULL)
            return -ENOMEM;
        pd->by_id = a;
        pd->cap_regions = cap;
    }
    bool fail = false;
    struct pd__region *r = pd__calloc(1, sizeof(*r));
    if (r == NULL)
        return -ENOMEM;
    r->start = dup_key(v->start, &fail);
    r->start_len = v->start.n;
    r->end = dup_key(v->end, &fail);
    r->end_len = v->end.n;
    if (fail) {
        pd__region_free(r);
        return -ENOMEM;
    }
    r->id = v->id;
    r->conf_ver = v->conf_ver;
    r->version = v->version;
    r->n_peers = v->n_peers;
    memcpy(r->peers, v->peers, v->n_peers * sizeof(v->peers[0]));
    r->leader_peer = v->leader_peer;
    r->size = v->size;
    r->keys = v->keys;

    /* Remove the old version of this region and every region the new one
     * overlaps (split and merge results replace their parents). The
     * overlapped ones are by_key[lo, hi); the old version is usually among
     * them, and r takes their place, so a split or an append moves no more
     * than the tail after it. */
    struct pd__region *cur = pd__region_find(pd, v->id);
    /* On the leader, a PUT_REGION applying now was proposed from a
     * heartbeat of this leadership (every older command applied before
     * pd_become_leader): the region counts as heard from. */
    r->has_hb = pd->leader;
    /* A new region or a new range (version) was reshaped just now, as far
     * as the merge checker's split_merge_interval is concerned. */
    r->reshaped = pd->leader;
    r->reshaped_mono = pd->now_mono;
    size_t nk = pd->n_regions, ni = pd->n_regions;
    size_t lo, hi;
    overlaps(pd, v, &lo, &hi);
    if (cur != NULL) {
        r->has_hb = cur->has_hb || pd->leader;
        r->hb_mono = cur->hb_mono;
        r->leader_term = cur->leader_term;
        if (cur->version == v->version) {
            r->reshaped = cur->reshaped;
            r->reshaped_mono = cur->reshaped_mono;
        }
        r->n_down = cur->n_down;
        memcpy(r->down, cur->down, cur->n_down * sizeof(r->down[0]));
        long ck = pd__region_index(pd, cur->start, cur->start_len);
        assert(ck >= 0 && pd->by_key[ck] == cur);
        size_t k = (size_t)ck;
        if (k < lo || k >= hi) {
            memmove(&pd->by_key[k], &pd->by_key[k + 1],
                    (nk - k - 1) * sizeof(pd->by_key[0]));
            nk--;
            if (k < lo) {
                lo--;
                hi--;
            }
        }
        id_remove(pd, &ni, cur->id);
    }
    for (size_t i = lo; i < hi; i++) {
        struct pd__region *o = pd->by_key[i];
        if (o == cur)
            continue;
        pd__region_gone(pd, o->id, v->id);
        id_remove(pd, &ni, o->id);
        pd__region_free(o);
    }
    pd__region_free(cur);
    /* by_key[lo, hi) becomes the single slot of r. */
    memmove(&pd->by_key[lo + 1], &pd->by_key[hi],
            (nk - hi) * sizeof(pd->by_key[0]));
    pd->by_key[lo] = r;
    nk = nk - (hi - lo) + 1;
    size_t at = id_pos_n(pd, ni, r->id);
    memmove(&pd->by_id[at + 1], &pd->by_id[at],
            (ni - at) * sizeof(pd->by_id[0]));
    pd->by_id[at] = r;
    ni++;
    assert(nk == ni);
    pd->n_regions = nk;
    return 0;
}

/* Same range, epoch and peers (peers as a set). */
static bool same_meta(const struct pd__region *r, const struct pd__region_v *v)
{
    if (r->conf_ver != v->conf_ver || r->version != v->version ||
        r->n_peers != v->n_peers ||
        pd__keycmp(r->start, r->start_len, v->start.p, v->start.n) != 0 ||
        pd__keycmp(r->end, r->end_len, v->end.p, v->end.n) != 0)
        return false;
    for (uint32_t i = 0; i < v->n_peers; i++) {
        const struct pd_peer *p = pd__region_peer(r, v->peers[i].store_id);
        if (p == NULL || p->id != v->peers[i].id ||
            p->learner != v->peers[i].learner)
            return false;
    }
    return true;
}

int pd_region_heartbeat(struct pd *pd, uint64_t mono_ms,
                        const struct pd_region_info *hb, struct pd_step *step)
{
    struct pd__cmd c;
    const char *why = NULL;
    if (step != NULL)
        memset(step, 0, sizeof(*step));
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "region heartbeat on a follower");
    if (pd->cluster_id == 0)
        return pd__err(pd, PD_ENOTBOOTSTRAPPED, "region heartbeat before "
                                                "bootstrap");
    if (mono_ms > pd->now_mono)
        pd->now_mono = mono_ms;
    if (hb == NULL || hb->n_down_peers > PD_MAX_PEERS)
        return pd__err(pd, -EINVAL, "region heartbeat: NULL or bad down "
                                    "peers");
    memset(&c, 0, sizeof(c));
    pd__region_view(hb, &c.region);
    if (!pd__region_valid(&c.region, &why))
        return pd__err(pd, -EINVAL, "region heartbeat: %s", why);
    if (pd__region_stale(pd, &c.region) != 0) {
        pd__log(pd, PD_LOG_DEBUG, "stale heartbeat of region %llu",
                (unsigned long long)c.region.id);
        return pd__err(pd, PD_ESTALE,
                       "region %llu epoch %llu/%llu is stale: ignored",
                       (unsigned long long)c.region.id,
                       (unsigned long long)c.region.conf_ver,
                       (unsigned long long)c.region.version);
    }
    struct pd__region *cur = pd__region_find(pd, c.region.id);
    if (cur != NULL && hb->term != 0 && hb->term < cur->leader_term) {
        /* A leader deposed meanwhile (cut off, paused) that does not know
         * it yet: its region's Raft group has a leader of a later term,
         * which heartbeats too. Taken, it would point clients at a store
         * that refuses them until the next heartbeat of the real one. A
         * term is its group's own and only rises (a region id is never
         * reused), whatever the epoch says. */
        pd__log(pd, PD_LOG_DEBUG, "region %llu: heartbeat of term %llu, "
                "leader's is %llu",
                (unsigned long long)c.region.id,
                (unsigned long long)hb->term,
                (unsigned long long)cur->leader_term);
        return pd__err(pd, PD_ESTALE,
                       "region %llu: a deposed leader's heartbeat (term "
                       "%llu, the leader's is %llu): ignored",
                       (unsigned long long)c.region.id,
                       (unsigned long long)hb->term,
                       (unsigned long long)cur->leader_term);
    }
    if (cur != NULL) {
        if (hb->term != 0)
            cur->leader_term = hb->term;
        cur->leader_peer = c.region.leader_peer;
        cur->size = c.region.size;
        cur->keys = c.region.keys;
        cur->has_hb = true;
        cur->hb_mono = mono_ms;
        cur->n_down = hb->n_down_peers;
        memcpy(cur->down, hb->down_peer_ids,
               hb->n_down_peers * sizeof(cur->down[0]));
    }
    if (cur == NULL || !same_meta(cur, &c.region)) {
        c.type = PD__CMD_PUT_REGION;
        int rc = pd__propose(pd, &c);
        if (rc != 0)
            return rc;
    }
    return pd__op_heartbeat(pd, mono_ms, &c.region, step);
}

int pd_region_by_key(const struct pd *pd, const uint8_t *key, size_t len,
                     struct pd_region_info *out)
{
    long i = pd__region_index(pd, key, key == NULL ? 0 : len);
    if (i < 0)
        return PD_ENOTFOUND;
    pd__region_info(pd->by_key[i], out);
    return 0;
}

int pd_region_by_id(const struct pd *pd, uint64_t id,
                    struct pd_region_info *out)
{
    const struct pd__region *r = pd__region_find(pd, id);
    if (r == NULL)
        return PD_ENOTFOUND;
    pd__region_info(r, out);
    return 0;
}

int pd_region_scan(const struct pd *pd, const uint8_t *start,
                   size_t start_len, const uint8_t *end, size_t end_len,
                   size_t limit, struct pd_region_info *out, size_t *n)
{
    struct pd__region_v v;
    memset(&v, 0, sizeof(v));
    v.start.p = start;
    v.start.n = start == NULL ? 0 : start_len;
    v.end.p = end;
    v.end.n = end == NULL ? 0 : end_len;
    *n = 0;
    if (v.end.n > 0 && pd__keycmp(v.start.p, v.start.n, v.end.p, v.end.n) >= 0)
        return 0;
    size_t lo, hi;
    overlaps(pd, &v, &lo, &hi);
    for (size_t i = lo; i < hi && (limit == 0 || *n < limit); i++)
        pd__region_info(pd->by_key[i], &out[(*n)++]);
    return 0;
}

size_t pd_region_count(const struct pd *pd)
{
    return pd->n_regions;
}

int pd_ask_split(struct pd *pd, uint64_t region_id, uint64_t *new_region_id,
                 uint64_t *peer_ids, uint32_t *n_peers)
{
    *n_peers = 0;
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "ask split on a follower");
    const struct pd__region *r = pd__region_find(pd, region_id);
    if (r == NULL)
        return pd__err(pd, PD_ENOTFOUND, "ask split: no region %llu",
                       (unsigned long long)region_id);
    uint64_t first;
    int rc = pd_id_alloc(pd, r->n_peers + 1, &first);
    if (rc != 0)
        return rc;
    *new_region_id = first;
    for (uint32_t i = 0; i < r->n_peers; i++)
        peer_ids[i] = first + 1 + i;
    *n_peers = r->n_peers;
    return 0;
}

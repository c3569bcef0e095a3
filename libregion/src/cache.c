/* cache.c: the client-side region cache: key -> region -> leader store,
 * kept sorted by start key, fixed up by the region errors the stores
 * return (DESIGN.md, "Region cache"). Thread-safe.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "region_int.h"

struct region_cache_ent {
    struct region_desc d; /* the region */
    uint64_t leader;      /* its leader's store, 0 unknown */
};

struct region_cache {
    pthread_mutex_t mu;              /* guards the array */
    struct region_cache_ent *ents;   /* sorted by start key, disjoint */
    size_t n;                        /* used */
    size_t cap;                      /* allocated */
};

int region_cache_create(struct region_cache **out)
{
    struct region_cache *c = region__calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return 0;
}

void region_cache_destroy(struct region_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    region__free(c->ents);
    region__free(c);
}

static bool overlap(const struct region_desc *a, const struct region_desc *b)
{
    bool a_before =
        a->end_len != 0 &&
        region__cmp_bytes(a->end, a->end_len, b->start, b->start_len) <= 0;
    bool b_before =
        b->end_len != 0 &&
        region__cmp_bytes(b->end, b->end_len, a->start, a->start_len) <= 0;
    return !a_before && !b_before;
}

/* Whether a cached region is newer than d: one d overlaps at a later
 * version, or d's own at a later conf_ver. Under c->mu. */
static bool newer_cached(const struct region_cache *c,
                         const struct region_desc *d)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct region_desc *e = &c->ents[i].d;
        if (overlap(e, d) && (e->version > d->version ||
                              (e->id == d->id && e->conf_ver > d->conf_ver)))
            return true;
    }
    return false;
}

bool region_cache_older(struct region_cache *c, const struct region_desc *d)
{
    if (d == NULL)
        return false;
    pthread_mutex_lock(&c->mu);
    bool older = newer_cached(c, d);
    pthread_mutex_unlock(&c->mu);
    return older;
}

int region_cache_update(struct region_cache *c, const struct region_desc *d,
                        uint64_t leader)
{
    if (d == NULL || d->id == 0)
        return REGION_EINVAL;
    pthread_mutex_lock(&c->mu);
    if (newer_cached(c, d)) { /* a newer view wins; an older one is ignored */
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++) /* drop what it overlaps */
        if (!overlap(&c->ents[i].d, d) && c->ents[i].d.id != d->id)
            c->ents[w++] = c->ents[i];
    c->n = w;
    struct region_cache_ent *e =
        region__grow(c->ents, &c->cap, c->n + 1, sizeof *e, 16);
    if (e == NULL) {
        pthread_mutex_unlock(&c->mu);
        return -ENOMEM;
    }
    c->ents = e;
    size_t i = c->n;
    while (i > 0 &&
           region__cmp_bytes(c->ents[i - 1].d.start, c->ents[i - 1].d.start_len,
                             d->start, d->start_len) > 0) {
        c->ents[i] = c->ents[i - 1];
        i--;
    }
    c->ents[i].d = *d;
    c->ents[i].leader = leader;
    c->n++;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int region_cache_lookup(struct region_cache *c, const void *key, size_t len,
                        struct region_desc *d, uint64_t *leader)
{
    pthread_mutex_lock(&c->mu);
    size_t lo = 0, hi = c->n;
    while (lo < hi) { /* last entry whose start <= key */
        size_t mid = (lo + hi) / 2;
        if (region__cmp_bytes(c->ents[mid].d.start, c->ents[mid].d.start_len,
                              key, len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    int rc = REGION_ENOT_FOUND;
    if (lo > 0 && region_desc_contains(&c->ents[lo - 1].d, key, len)) {
        if (d)
            *d = c->ents[lo - 1].d;
        if (leader)
            *leader = c->ents[lo - 1].leader;
        rc = 0;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void region_cache_invalidate(struct region_cache *c, uint64_t region_id)
{
    pthread_mutex_lock(&c->mu);
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->ents[i].d.id != region_id)
            c->ents[w++] = c->ents[i];
    c->n = w;
    pthread_mutex_unlock(&c->mu);
}

bool region_cache_behind(struct region_cache *c, uint64_t region_id,
                         const struct region_err *err)
{
    if (err == NULL || !err->has_region || err->region.id != region_id)
        return false;
    const struct region_desc *r = &err->region;
    bool behind = false;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        const struct region_desc *d = &c->ents[i].d;
        if (d->id == region_id && r->conf_ver <= d->conf_ver &&
            r->version <= d->version &&
            (r->conf_ver < d->conf_ver || r->version < d->version))
            behind = true;
    }
    pthread_mutex_unlock(&c->mu);
    return behind;
}

void region_cache_on_error(struct region_cache *c, uint64_t region_id,
                           const struct region_err *err)
{
    if (err == NULL)
        return;
    switch (err->code) {
    case REGION_ENOT_LEADER:
        pthread_mutex_lock(&c->mu);
        for (size_t i = 0; i < c->n; i++)
            if (c->ents[i].d.id == region_id)
                c->ents[i].leader = err->leader;
        pthread_mutex_unlock(&c->mu);
        break;
    case REGION_EEPOCH_NOT_MATCH:
    case REGION_EKEY_NOT_IN_REGION:
        if (region_cache_behind(c, region_id, err)) {
            /* The store that answered is behind (it missed a split or a
             * membership change, e.g. cut off meanwhile): what it holds
             * is older than what the cache has. Keep the cache, and send
             * the next try elsewhere than the leader it had. Adopting its
             * region instead had the cache swing between the old and the
             * new epoch, each refused by the other side, for as long as
             * the store stayed behind (test_sql_partition.sh). */
            pthread_mutex_lock(&c->mu);
            for (size_t i = 0; i < c->n; i++)
                if (c->ents[i].d.id == region_id)
                    c->ents[i].leader = 0;
            pthread_mutex_unlock(&c->mu);
            break;
        }
        region_cache_invalidate(c, region_id);
        if (err->has_region)
            (void)region_cache_update(c, &err->region, err->leader);
        break;
    case REGION_ENOT_FOUND:
        region_cache_invalidate(c, region_id);
        break;
    default:
        break;
    }
}

size_t region_cache_count(struct region_cache *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

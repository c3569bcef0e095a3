/* snapshot.c: the replicated state as a sequence of commands (DESIGN.md
 * "Snapshots"), so restoring is replaying them through pd_apply: no second
 * format and no second apply path.
 */
#include <stdlib.h>
#include <string.h>

#include "pd_int.h"

void pd_free(void *p)
{
    pd__free(p);
}

/* Append c to b with its 4-byte big-endian length. */
static void put(struct pd__buf *b, const struct pd__cmd *c)
{
    struct pd__buf one = {0};
    pd__cmd_encode(c, &one);
    if (one.err != 0) {
        if (b->err == 0)
            b->err = one.err;
        return;
    }
    uint8_t hdr[4] = {(uint8_t)(one.n >> 24), (uint8_t)(one.n >> 16),
                      (uint8_t)(one.n >> 8), (uint8_t)one.n};
    for (int i = 0; i < 4; i++)
        pd__buf_u8(b, hdr[i]);
    for (size_t i = 0; i < one.n; i++)
        pd__buf_u8(b, one.p[i]);
    pd__buf_free(&one);
}

static void store_v(const struct pd__store *s, struct pd__store_v *v)
{
    memset(v, 0, sizeof(*v));
    v->id = s->id;
    v->address.p = (const uint8_t *)s->address;
    v->address.n = strlen(s->address);
    v->state = (uint8_t)s->state;
    v->version = s->version;
    v->region_version = s->region_version;
    v->n_labels = s->n_labels;
    for (uint32_t i = 0; i < s->n_labels; i++) {
        v->lkey[i].p = (const uint8_t *)s->lkey[i];
        v->lkey[i].n = strlen(s->lkey[i]);
        v->lval[i].p = (const uint8_t *)s->lval[i];
        v->lval[i].n = strlen(s->lval[i]);
    }
}

/* Stores by version, then id. This libpd restores the cluster versions
 * as the snapshot names them, whatever the order; a libpd before 0.17
 * raises its cluster version at each store restored, so the first live
 * store must be the lowest, or a lower one after it would be refused
 * (DESIGN.md "Store versions"). */
static int by_version(const void *a, const void *b)
{
    const struct pd__store *x = *(const struct pd__store *const *)a;
    const struct pd__store *y = *(const struct pd__store *const *)b;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int pd_snapshot(const struct pd *pd, uint8_t **out, size_t *len)
{
    struct pd__buf b = {0};
    struct pd__cmd c;
    memset(&c, 0, sizeof(c));
    *out = NULL;
    *len = 0;
    if (pd->tso_saved != 0) {
        c.type = PD__CMD_TSO_SAVE;
        c.u = pd->tso_saved;
        put(&b, &c);
    }
    if (pd->id_saved != 0) {
        c.type = PD__CMD_ID_SAVE;
        c.u = pd->id_saved;
        put(&b, &c);
    }
    if (pd->cluster_id != 0) {
        c.type = PD__CMD_CLUSTER;
        c.u = pd->cluster_id;
        put(&b, &c);
    }
    if (pd->cfg_set) {
        memset(&c, 0, sizeof(c));
        c.type = PD__CMD_CONFIG;
        pd__config_view(&pd->cfg, &c.cfg);
        put(&b, &c);
    }
    if (pd->cluster_version != 0) {
        memset(&c, 0, sizeof(c));
        c.type = PD__CMD_CLUSTER_VERSION;
        c.u = pd->cluster_version;
        put(&b, &c);
    }
    if (pd->cluster_region_version != 0) {
        memset(&c, 0, sizeof(c));
        c.type = PD__CMD_CLUSTER_REGION_VERSION;
        c.u = pd->cluster_region_version;
        put(&b, &c);
    }
    /* Stores before regions: a tombstone needs an empty map to apply. */
    struct pd__store **order = NULL;
    if (pd->n_stores > 0) {
        order = pd__malloc(pd->n_stores * sizeof(*order));
        if (order == NULL) {
            pd__buf_free(&b);
            return -ENOMEM;
        }
        memcpy(order, pd->stores, pd->n_stores * sizeof(*order));
        qsort(order, pd->n_stores, sizeof(*order), by_version);
    }
    for (size_t i = 0; i < pd->n_stores; i++) {
        memset(&c, 0, sizeof(c));
        c.type = PD__CMD_PUT_STORE;
        store_v(order[i], &c.store);
        put(&b, &c);
    }
    pd__free(order);
    for (size_t i = 0; i < pd->n_regions; i++) {
        const struct pd__region *r = pd->by_key[i];
        struct pd_region_info info;
        pd__region_info(r, &info);
        memset(&c, 0, sizeof(c));
        c.type = PD__CMD_PUT_REGION;
        pd__region_view(&info, &c.region);
        put(&b, &c);
    }
    /* Services at time 0 (none dropped), then the GC safe point at the end
     * of time (no service clamps it): the values come back unchanged. */
    for (size_t i = 0; i < pd->n_svc; i++) {
        memset(&c, 0, sizeof(c));
        c.type = PD__CMD_SERVICE_SAFE_POINT;
        c.service.p = (const uint8_t *)pd->svc[i].id;
        c.service.n = strlen(pd->svc[i].id);
        c.u = pd->svc[i].sp;
        c.expire = pd->svc[i].expire;
        c.now = 0;
        put(&b, &c);
    }
    if (pd->gc_safe_point != 0) {
        memset(&c, 0, sizeof(c));
        c.type = PD__CMD_GC_SAFE_POINT;
        c.u = pd->gc_safe_point;
        c.now = UINT64_MAX;
        put(&b, &c);
    }
    if (b.err != 0) {
        pd__buf_free(&b);
        return -ENOMEM;
    }
    *out = b.p;
    *len = b.n;
    return 0;
}

int pd_restore(struct pd *pd, const uint8_t *snap, size_t len)
{
    pd_become_follower(pd);
    pd__regions_clear(pd);
    for (size_t i = 0; i < pd->n_stores; i++)
        pd__store_free(pd->stores[i]);
    pd->n_stores = 0;
    pd__services_clear(pd);
    pd->tso_saved = pd->id_saved = pd->cluster_id = 0;
    pd->cluster_version = pd->cluster_region_version = 0;
    pd->gc_safe_point = 0;
    pd->cfg_set = false; /* the process config stays until a CONFIG */
    size_t off = 0;
    while (off < len) {
        if (len - off < 4)
            return pd__err(pd, PD_EDECODE, "snapshot: cut length");
        size_t n = (size_t)snap[off] << 24 | (size_t)snap[off + 1] << 16 |
                   (size_t)snap[off + 2] << 8 | snap[off + 3];
        off += 4;
        if (n > len - off)
            return pd__err(pd, PD_EDECODE, "snapshot: cut command");
        pd->restoring = true;
        int rc = pd_apply(pd, snap + off, n);
        pd->restoring = false;
        if (rc != 0)
            return rc;
        off += n;
    }
    return 0;
}

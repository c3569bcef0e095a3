/* clusterinfo.c: libsql's struct sql_cluster_info for --store=cluster:
 * the stores and regions PD knows, asked through the PD client
 * (GetAllStores, ScanRegions) each time a statement reads
 * information_schema.TIKV_* or runs SHOW TABLE t REGIONS
 * (docs/operators-guide.md, "Inspect"), and the cluster version, cached
 * (libsql DESIGN "When it is skipped", libpd DESIGN "Store versions").
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mvcc.h>
#include <pd.h>
#include <pd.pb.h>
#include <sql.h>

#include "sqld.h"

static int ci_stores(void *ctx, sql_cluster_store_fn emit, void *arg,
                     char *err, size_t errlen)
{
    struct pd_client *pd = ctx;
    static const char *const names[] = {"Up", "Offline", "Tombstone",
                                        "Down"};
    pd_GetAllStoresRequest req = {.cluster_id = pd_client_cluster_id(pd)};
    pd_GetAllStoresResponse resp;
    int rc = pd_client_call(pd, PD_METHOD_GET_ALL_STORES,
                            pd_GetAllStoresRequest_fields, &req,
                            pd_GetAllStoresResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    if (rc != 0)
        return rc;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    for (pb_size_t i = 0; rc == 0 && i < resp.stores_count; i++) {
        const pd_StoreInfo *s = &resp.stores[i];
        struct sql_cluster_store st = {
            .id = s->store.id,
            .address = s->store.address ? s->store.address : "",
            .state = s->state < 4 ? names[s->state] : "Unknown",
            .leader_count = s->map_leaders,
            .region_count = s->map_regions,
            .capacity = s->has_heartbeat ? s->stats.capacity : 0,
            .available = s->has_heartbeat ? s->stats.available : 0,
            .region_size = s->map_size,
            .heartbeat_age_ms = -1};
        /* pdd sends the wall-clock time of the last heartbeat */
        if (s->has_heartbeat && s->last_heartbeat_ms > 0 &&
            s->last_heartbeat_ms <= now)
            st.heartbeat_age_ms = (int64_t)(now - s->last_heartbeat_ms);
        rc = emit(arg, &st);
    }
    pd_client_release(pd_GetAllStoresResponse_fields, &resp);
    return rc;
}

/* A copy of [p, p + n) as nanopb bytes (NULL for none); -ENOMEM. */
static int pb_bytes(const uint8_t *p, size_t n, pb_bytes_array_t **out)
{
    *out = NULL;
    if (n == 0)
        return 0;
    *out = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(n));
    if (!*out)
        return -ENOMEM;
    (*out)->size = (pb_size_t)n;
    memcpy((*out)->bytes, p, n);
    return 0;
}

/* a < b as keys (bytes, then the shorter first). */
static bool key_before(const uint8_t *a, size_t an, const uint8_t *b,
                       size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c < 0 || (c == 0 && an < bn);
}

static int emit_region(const pd_RegionInfo *ri, sql_cluster_region_fn emit,
                       void *arg)
{
    struct sql_cluster_peer peers[PD_MAX_PEERS];
    const pd_Region *g = &ri->region;
    uint32_t n = 0;
    for (pb_size_t i = 0; i < g->peers_count && n < PD_MAX_PEERS; i++) {
        struct sql_cluster_peer *p = &peers[n++];
        memset(p, 0, sizeof(*p));
        p->id = g->peers[i].id;
        p->store_id = g->peers[i].store_id;
        p->learner = g->peers[i].learner;
        p->leader = p->id == ri->leader_peer_id;
        for (pb_size_t k = 0; k < ri->down_peer_ids_count; k++)
            p->down = p->down || ri->down_peer_ids[k] == p->id;
    }
    struct sql_cluster_region r = {
        .id = g->id,
        .start_key = g->start_key ? g->start_key->bytes : NULL,
        .start_len = g->start_key ? g->start_key->size : 0,
        .end_key = g->end_key ? g->end_key->bytes : NULL,
        .end_len = g->end_key ? g->end_key->size : 0,
        .conf_ver = g->conf_ver,
        .version = g->version,
        .approx_size = ri->approx_size,
        .approx_keys = ri->approx_keys,
        .n_peers = n,
        .peers = peers};
    return emit(arg, &r);
}

/* ScanRegions from start on, one page (1024 regions) per call, each page
 * going on from the last region's end until end (or +inf) is passed. */
static int ci_regions(void *ctx, const uint8_t *start, size_t start_len,
                      const uint8_t *end, size_t end_len,
                      sql_cluster_region_fn emit, void *arg, char *err,
                      size_t errlen)
{
    struct pd_client *pd = ctx;
    pd_ScanRegionsRequest req = {.cluster_id = pd_client_cluster_id(pd),
                                 .limit = 1024};
    int rc = pb_bytes(start, start_len, &req.start_key);
    if (rc == 0)
        rc = pb_bytes(end, end_len, &req.end_key);
    while (rc == 0) {
        pd_ScanRegionsResponse resp;
        rc = pd_client_call(pd, PD_METHOD_SCAN_REGIONS,
                            pd_ScanRegionsRequest_fields, &req,
                            pd_ScanRegionsResponse_fields, &resp,
                            sizeof(resp), err, errlen);
        if (rc != 0)
            break;
        const pb_bytes_array_t *last = NULL;
        for (pb_size_t i = 0; rc == 0 && i < resp.regions_count; i++) {
            rc = emit_region(&resp.regions[i], emit, arg);
            last = resp.regions[i].region.end_key;
        }
        bool more = rc == 0 && resp.regions_count > 0 && last != NULL &&
                    last->size > 0 &&
                    (end_len == 0 ||
                     key_before(last->bytes, last->size, end, end_len));
        if (more) {
            free(req.start_key);
            rc = pb_bytes(last->bytes, last->size, &req.start_key);
        }
        pd_client_release(pd_ScanRegionsResponse_fields, &resp);
        if (!more)
            break;
    }
    free(req.start_key);
    free(req.end_key);
    if (rc == -ENOMEM && !err[0])
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* The cluster version as last heard, and when pdd was last asked (mono
 * ms): one per process, as the cluster is. */
static uint32_t version_seen;
static uint64_t version_asked_ms;

#define VERSION_ASK_MS 1000 /* below the check's version: ask this often */

uint32_t sqld_clusterinfo_version(void)
{
    return __atomic_load_n(&version_seen, __ATOMIC_RELAXED);
}

/* Asked by libsql on a pessimistic write of an index key until it is
 * high enough (then never again). It only rises, so a cached value is
 * safe to act on: while it is below the check's version pdd is asked
 * at most once a VERSION_ASK_MS, by one statement thread, the others
 * answering from the cache. */
static uint32_t ci_cluster_version(void *ctx)
{
    struct pd_client *pd = ctx;
    uint32_t v = __atomic_load_n(&version_seen, __ATOMIC_ACQUIRE);
    if (v >= MVCC_VERSION_PREWRITE_CHECK)
        return v;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now =
        (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    uint64_t last = __atomic_load_n(&version_asked_ms, __ATOMIC_RELAXED);
    if (last != 0 && now - last < VERSION_ASK_MS)
        return v;
    if (!__atomic_compare_exchange_n(&version_asked_ms, &last, now, false,
                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return v; /* another thread asks */
    char err[256] = "";
    uint32_t got = 0;
    if (pd_client_cluster_version(pd, &got, err, sizeof(err)) != 0)
        return v; /* unknown now: the lock stays */
    uint32_t cur = v;
    while (got > cur &&
           !__atomic_compare_exchange_n(&version_seen, &cur, got, false,
                                        __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
        ;
    return got > cur ? got : cur;
}

void sqld_clusterinfo_init(struct sql_cluster_info *ci, struct pd_client *pd)
{
    memset(ci, 0, sizeof(*ci));
    ci->ctx = pd;
    ci->stores = ci_stores;
    ci->regions = ci_regions;
    ci->cluster_version = ci_cluster_version;
}

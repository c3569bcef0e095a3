/* service.c: pdd's RPC methods (PD_METHOD_*, proto/pd.proto in libpd):
 * decode, check the leader and the cluster id, convert, call libpd, answer
 * (at once, or once the proposed command applied). libpd/DESIGN.md,
 * "Service", lists every call with its errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pd.pb.h>
#include <rpc.h>

#include "log.h"
#include "pdd.h"

/* Memory for one reply's pointer fields, freed once it is encoded. */
struct arena
{
    void *p[256]; /* blocks */
    size_t n;     /* used entries */
    bool oom;     /* an allocation failed */
};

static void *aalloc(struct arena *a, size_t size)
{
    if (a->n == sizeof(a->p) / sizeof(a->p[0])) {
        a->oom = true;
        return NULL;
    }
    void *q = calloc(1, size ? size : 1);
    if (!q) {
        a->oom = true;
        return NULL;
    }
    a->p[a->n++] = q;
    return q;
}

static void afree(struct arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->p[i]);
    a->n = 0;
}

static pb_bytes_array_t *abytes(struct arena *a, const uint8_t *d, size_t n)
{
    if (n == 0)
        return NULL;
    pb_bytes_array_t *b = aalloc(a, PB_BYTES_ARRAY_T_ALLOCSIZE(n));
    if (b) {
        b->size = (pb_size_t)n;
        memcpy(b->bytes, d, n);
    }
    return b;
}

static void failf(struct rpc_call *call, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void failf(struct rpc_call *call, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rpc_call_fail(call, code, msg);
}

/* Fails with libpd's code and detail. */
static void fail_pd(struct pdd_node *n, struct rpc_call *call, int rc)
{
    const char *d = pd_errmsg(pdd_node_pd(n));
    failf(call, rc, "%s%s%s", pd_strerror(rc), *d ? ": " : "", d);
}

/* The cluster id rule (DESIGN "Service"): strict calls need the
 * bootstrapped cluster's id; the others accept 0 ("not known yet"). */
static int check_cluster(struct pdd_node *n, struct rpc_call *call,
                         uint64_t cid, bool strict)
{
    struct pd *pd = pdd_node_pd(n);
    if (!strict && cid == 0)
        return 0;
    if (!pd_is_bootstrapped(pd)) {
        failf(call, PD_ENOTBOOTSTRAPPED,
              "cluster is not bootstrapped (request names cluster %" PRIu64
              ")", cid);
        return -1;
    }
    if (pd_check_cluster(pd, cid) != 0) {
        failf(call, PD_ECLUSTER,
              "cluster id %" PRIu64 " does not match this cluster's %" PRIu64,
              cid, pd_cluster_id(pd));
        return -1;
    }
    return 0;
}

/* Leader first (a follower's view may lag), then the cluster id. */
static int admit(struct pdd_node *n, struct rpc_call *call, uint64_t cid,
                 bool strict)
{
    if (pdd_node_check_leader(n, call) != 0)
        return -1;
    return check_cluster(n, call, cid, strict);
}

/* ---- conversions ---------------------------------------------------------- */

static int labels_from_pb(const pd_Label *in, pb_size_t count,
                          struct pd_label *out, uint32_t *n, char *err,
                          size_t errlen)
{
    if (count > PD_MAX_LABELS) {
        snprintf(err, errlen, "%u labels, at most %d", (unsigned)count,
                 PD_MAX_LABELS);
        return -EINVAL;
    }
    for (pb_size_t i = 0; i < count; i++) {
        if (!in[i].key || !*in[i].key) {
            snprintf(err, errlen, "label %u has no key", (unsigned)i);
            return -EINVAL;
        }
        out[i].key = in[i].key;
        out[i].value = in[i].value ? in[i].value : "";
    }
    *n = count;
    return 0;
}

static int store_from_pb(const pd_Store *in, struct pd_store *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (in->id == 0) {
        snprintf(err, errlen, "store id must be nonzero");
        return -EINVAL;
    }
    if (!in->address || !*in->address) {
        snprintf(err, errlen, "store %" PRIu64 " has no address", in->id);
        return -EINVAL;
    }
    out->id = in->id;
    out->address = in->address;
    out->state = (int)in->state;
    return labels_from_pb(in->labels, in->labels_count, out->labels,
                          &out->n_labels, err, errlen);
}

static int region_from_pb(const pd_Region *in, struct pd_region *out,
                          char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (in->id == 0) {
        snprintf(err, errlen, "region id must be nonzero");
        return -EINVAL;
    }
    if (in->peers_count < 1 || in->peers_count > PD_MAX_PEERS) {
        snprintf(err, errlen, "region %" PRIu64 " has %u peers (1..%d)",
                 in->id, (unsigned)in->peers_count, PD_MAX_PEERS);
        return -EINVAL;
    }
    out->id = in->id;
    if (in->start_key) {
        out->start_key = in->start_key->bytes;
        out->start_len = in->start_key->size;
    }
    if (in->end_key) {
        out->end_key = in->end_key->bytes;
        out->end_len = in->end_key->size;
    }
    out->conf_ver = in->conf_ver;
    out->version = in->version;
    out->n_peers = in->peers_count;
    for (pb_size_t i = 0; i < in->peers_count; i++) {
        out->peers[i].id = in->peers[i].id;
        out->peers[i].store_id = in->peers[i].store_id;
        out->peers[i].learner = in->peers[i].learner;
    }
    return 0;
}

static int info_from_pb(const pd_RegionInfo *in, struct pd_region_info *out,
                        char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!in->has_region) {
        snprintf(err, errlen, "no region in the request");
        return -EINVAL;
    }
    int rc = region_from_pb(&in->region, &out->region, err, errlen);
    if (rc)
        return rc;
    if (in->down_peer_ids_count > PD_MAX_PEERS) {
        snprintf(err, errlen, "too many down peers");
        return -EINVAL;
    }
    out->leader_peer_id = in->leader_peer_id;
    out->approx_size = in->approx_size;
    out->approx_keys = in->approx_keys;
    out->n_down_peers = in->down_peer_ids_count;
    for (pb_size_t i = 0; i < in->down_peer_ids_count; i++)
        out->down_peer_ids[i] = in->down_peer_ids[i];
    return 0;
}

static void labels_to_pb(struct arena *a, const struct pd_label *in,
                         uint32_t n, pd_Label **out, pb_size_t *count)
{
    *count = 0;
    *out = NULL;
    if (n == 0)
        return;
    pd_Label *l = aalloc(a, n * sizeof(*l));
    if (!l)
        return;
    for (uint32_t i = 0; i < n; i++) {
        l[i].key = (char *)in[i].key;
        l[i].value = (char *)in[i].value;
    }
    *out = l;
    *count = (pb_size_t)n;
}

static void store_info_to_pb(struct arena *a, const struct pd_store_info *in,
                             pd_StoreInfo *out)
{
    memset(out, 0, sizeof(*out));
    out->has_store = true;
    out->store.id = in->store.id;
    out->store.address = (char *)in->store.address;
    out->store.state = (uint32_t)in->store.state;
    labels_to_pb(a, in->store.labels, in->store.n_labels, &out->store.labels,
                 &out->store.labels_count);
    out->state = (uint32_t)in->state;
    out->has_heartbeat = in->has_heartbeat;
    out->last_heartbeat_ms = in->last_heartbeat_ms;
    out->has_stats = true;
    out->stats.capacity = in->stats.capacity;
    out->stats.available = in->stats.available;
    out->stats.region_count = in->stats.region_count;
    out->stats.leader_count = in->stats.leader_count;
    out->map_regions = in->map_regions;
    out->map_leaders = in->map_leaders;
    out->map_size = in->map_size;
}

static void info_to_pb(struct arena *a, const struct pd_region_info *in,
                       pd_RegionInfo *out)
{
    memset(out, 0, sizeof(*out));
    const struct pd_region *r = &in->region;
    out->has_region = true;
    out->region.id = r->id;
    out->region.start_key = abytes(a, r->start_key, r->start_len);
    out->region.end_key = abytes(a, r->end_key, r->end_len);
    out->region.conf_ver = r->conf_ver;
    out->region.version = r->version;
    pd_Peer *p = aalloc(a, r->n_peers * sizeof(*p));
    if (p) {
        for (uint32_t i = 0; i < r->n_peers; i++) {
            p[i].id = r->peers[i].id;
            p[i].store_id = r->peers[i].store_id;
            p[i].learner = r->peers[i].learner;
        }
        out->region.peers = p;
        out->region.peers_count = (pb_size_t)r->n_peers;
    }
    out->leader_peer_id = in->leader_peer_id;
    out->approx_size = in->approx_size;
    out->approx_keys = in->approx_keys;
    if (in->n_down_peers) {
        uint64_t *d = aalloc(a, in->n_down_peers * sizeof(*d));
        if (d) {
            memcpy(d, in->down_peer_ids, in->n_down_peers * sizeof(*d));
            out->down_peer_ids = d;
            out->down_peer_ids_count = (pb_size_t)in->n_down_peers;
        }
    }
}

static void step_to_pb(const struct pd_step *s, pd_Step *out)
{
    out->kind = (uint32_t)s->kind;
    out->store_id = s->store_id;
    out->peer_id = s->peer_id;
    out->target_region_id = s->target_region_id;
}

static void op_to_pb(struct arena *a, const struct pd_operator *op,
                     pd_Operator *out)
{
    memset(out, 0, sizeof(*out));
    out->region_id = op->region_id;
    char *d = aalloc(a, sizeof(op->desc) + 1);
    if (d)
        memcpy(d, op->desc, sizeof(op->desc));
    out->desc = d;
    pd_Step *s = aalloc(a, op->n_steps * sizeof(*s));
    if (s) {
        for (uint32_t i = 0; i < op->n_steps; i++)
            step_to_pb(&op->steps[i], &s[i]);
        out->steps = s;
        out->steps_count = (pb_size_t)op->n_steps;
    }
    out->current = op->current;
    out->created_ms = op->created_ms;
    out->status = (uint32_t)op->status;
}

/* ---- replies after apply ----------------------------------------------------- */

static void reply_empty(struct rpc_call *call, int rc, void *ud)
{
    (void)ud;
    if (rc != 0) {
        failf(call, rc, "%s", pd_strerror(rc));
        return;
    }
    pd_PutStoreResponse out = {0};
    rpc_call_reply(call, &out);
}

/* Replies with one uint64 (the UpdateGC / UpdateServiceSafePoint shape). */
static void reply_u64(struct rpc_call *call, int rc, void *ud)
{
    if (rc != 0) {
        failf(call, rc, "%s", pd_strerror(rc));
        return;
    }
    pd_UpdateGCSafePointResponse out = {.new_safe_point = *(uint64_t *)ud};
    rpc_call_reply(call, &out);
}

/* After a libpd call that may have proposed: wait for its apply, or answer
 * now when it proposed nothing. */
static void finish(struct pdd_node *n, struct rpc_call *call,
                   uint64_t before, pdd_reply_fn reply, uint64_t *val)
{
    if (pdd_node_proposals(n) == before) {
        reply(call, 0, val);
        free(val);
        return;
    }
    pdd_node_wait_apply(n, call, reply, val);
}

/* ---- handlers --------------------------------------------------------------- */

static void h_get_members(struct rpc_call *call, const void *req, void *ud)
{
    (void)req;
    struct pdd_node *n = ud;
    const struct pdd_options *o = pdd_node_options(n);
    pd_Member ms[PDD_MAX_MEMBERS];
    for (size_t i = 0; i < o->n_members; i++) {
        ms[i].id = o->members[i].id;
        ms[i].name = (char *)o->members[i].name;
        ms[i].address = (char *)o->members[i].address;
    }
    pd_GetMembersResponse out = {
        .members = ms,
        .members_count = (pb_size_t)o->n_members,
        .leader_id = pdd_node_leader(n),
        .cluster_id = pd_cluster_id(pdd_node_pd(n)),
        .self_id = o->self_id,
        .term = pdd_node_term(n),
    };
    rpc_call_reply(call, &out);
}

static void h_tso(struct rpc_call *call, const void *req, void *ud)
{
    const pd_TsoRequest *in = req;
    struct pdd_node *n = ud;
    if (in->count < 1 || in->count > PD_TS_LOGICAL_LIMIT) {
        failf(call, -EINVAL, "tso count %u out of range 1..%u",
              (unsigned)in->count, (unsigned)PD_TS_LOGICAL_LIMIT);
        return;
    }
    if (admit(n, call, in->cluster_id, false) != 0)
        return;
    pdd_node_tso(n, call, in->count);
}

static void h_alloc_id(struct rpc_call *call, const void *req, void *ud)
{
    const pd_AllocIDRequest *in = req;
    struct pdd_node *n = ud;
    uint32_t count = in->count ? in->count : 1;
    if (count > 100000) {
        failf(call, -EINVAL, "alloc id count %u above 100000", count);
        return;
    }
    if (admit(n, call, in->cluster_id, false) != 0)
        return;
    uint64_t first = 0;
    int rc = pd_id_alloc(pdd_node_pd(n), count, &first);
    if (rc != 0) {
        fail_pd(n, call, rc);
        return;
    }
    pd_AllocIDResponse out = {.first = first, .count = count};
    rpc_call_reply(call, &out);
}

static void h_bootstrap(struct rpc_call *call, const void *req, void *ud)
{
    const pd_BootstrapRequest *in = req;
    struct pdd_node *n = ud;
    char err[256];
    struct pd_store st;
    struct pd_region rg;
    if (pdd_node_check_leader(n, call) != 0)
        return;
    if (in->cluster_id == 0) {
        failf(call, -EINVAL, "bootstrap: cluster id must be nonzero");
        return;
    }
    if (!in->has_store || !in->has_region) {
        failf(call, -EINVAL, "bootstrap needs a store and a region");
        return;
    }
    if (store_from_pb(&in->store, &st, err, sizeof(err)) != 0 ||
        region_from_pb(&in->region, &rg, err, sizeof(err)) != 0) {
        failf(call, -EINVAL, "bootstrap: %s", err);
        return;
    }
    uint64_t before = pdd_node_proposals(n);
    int rc = pd_bootstrap(pdd_node_pd(n), in->cluster_id, &st, &rg);
    if (rc != 0) {
        fail_pd(n, call, rc);
        return;
    }
    finish(n, call, before, reply_empty, NULL);
}

static void h_is_bootstrapped(struct rpc_call *call, const void *req,
                              void *ud)
{
    const pd_IsBootstrappedRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, false) != 0)
        return;
    pd_IsBootstrappedResponse out = {
        .bootstrapped = pd_is_bootstrapped(pdd_node_pd(n)),
        .cluster_id = pd_cluster_id(pdd_node_pd(n)),
    };
    rpc_call_reply(call, &out);
}

static void h_put_store(struct rpc_call *call, const void *req, void *ud)
{
    const pd_PutStoreRequest *in = req;
    struct pdd_node *n = ud;
    char err[256];
    struct pd_store st;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    if (!in->has_store || store_from_pb(&in->store, &st, err, sizeof(err))) {
        failf(call, -EINVAL, "put store: %s",
              in->has_store ? err : "no store in the request");
        return;
    }
    uint64_t before = pdd_node_proposals(n);
    int rc = pd_store_put(pdd_node_pd(n), &st);
    if (rc != 0) {
        fail_pd(n, call, rc);
        return;
    }
    finish(n, call, before, reply_empty, NULL);
}

static void h_get_store(struct rpc_call *call, const void *req, void *ud)
{
    const pd_GetStoreRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    struct pd_store_info info;
    int rc = pd_store_get(pdd_node_pd(n), pdd_mono_ms(), in->store_id, &info);
    if (rc != 0) {
        failf(call, rc, "store %" PRIu64 ": %s", in->store_id,
              pd_strerror(rc));
        return;
    }
    struct arena a = {0};
    pd_GetStoreResponse out = {.has_store = true};
    store_info_to_pb(&a, &info, &out.store);
    if (a.oom)
        rpc_call_fail(call, -ENOMEM, "out of memory");
    else
        rpc_call_reply(call, &out);
    afree(&a);
}

static void h_get_all_stores(struct rpc_call *call, const void *req, void *ud)
{
    const pd_GetAllStoresRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    struct pd *pd = pdd_node_pd(n);
    size_t count = pd_store_count(pd);
    if (count > 60000)
        count = 60000;
    struct pd_store_info *infos = calloc(count + 1, sizeof(*infos));
    pd_StoreInfo *pbs = calloc(count + 1, sizeof(*pbs));
    struct arena *a = calloc(1, sizeof(*a));
    if (!infos || !pbs || !a) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        goto out;
    }
    uint64_t now = pdd_mono_ms();
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        if (pd_store_at(pd, now, i, &infos[k]) != 0)
            continue;
        if (in->exclude_tombstone && infos[k].state == PD_STORE_TOMBSTONE)
            continue;
        k++;
    }
    /* Labels of many stores: arrays in one block rather than the arena. */
    pd_Label *labels = calloc(k * PD_MAX_LABELS + 1, sizeof(*labels));
    if (!labels) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < k; i++) {
        struct arena none = {0};
        store_info_to_pb(&none, &infos[i], &pbs[i]);
        afree(&none);
        pd_Label *l = labels + i * PD_MAX_LABELS;
        for (uint32_t j = 0; j < infos[i].store.n_labels; j++) {
            l[j].key = (char *)infos[i].store.labels[j].key;
            l[j].value = (char *)infos[i].store.labels[j].value;
        }
        pbs[i].store.labels = infos[i].store.n_labels ? l : NULL;
        pbs[i].store.labels_count = (pb_size_t)infos[i].store.n_labels;
    }
    pd_GetAllStoresResponse out = {.stores = pbs, .stores_count = (pb_size_t)k};
    rpc_call_reply(call, &out);
    free(labels);
out:
    free(a);
    free(pbs);
    free(infos);
}

static void h_set_store_state(struct rpc_call *call, const void *req,
                              void *ud)
{
    const pd_SetStoreStateRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    uint64_t before = pdd_node_proposals(n);
    int rc = pd_store_set_state(pdd_node_pd(n), in->store_id, (int)in->state);
    if (rc != 0) {
        fail_pd(n, call, rc);
        return;
    }
    finish(n, call, before, reply_empty, NULL);
}

static void h_store_heartbeat(struct rpc_call *call, const void *req,
                              void *ud)
{
    const pd_StoreHeartbeatRequest *in = req;
    struct pdd_node *n = ud;
    char err[256];
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    struct pd_store_stats st;
    memset(&st, 0, sizeof(st));
    if (in->has_stats) {
        st.capacity = in->stats.capacity;
        st.available = in->stats.available;
        st.region_count = in->stats.region_count;
        st.leader_count = in->stats.leader_count;
        st.update_labels = in->stats.update_labels;
        if (labels_from_pb(in->stats.labels, in->stats.labels_count,
                           st.labels, &st.n_labels, err, sizeof(err))) {
            failf(call, -EINVAL, "store heartbeat: %s", err);
            return;
        }
    }
    int rc = pd_store_heartbeat(pdd_node_pd(n), pdd_mono_ms(), in->store_id,
                                &st);
    if (rc != 0) {
        failf(call, rc, "store %" PRIu64 ": %s", in->store_id,
              pd_strerror(rc));
        return;
    }
    pd_StoreHeartbeatResponse out = {0};
    rpc_call_reply(call, &out);
}

/* One region heartbeat; 0 or the failure already sent. */
static int heartbeat(struct pdd_node *n, struct rpc_call *call,
                     const pd_RegionInfo *in, struct pd_step *step)
{
    char err[256];
    struct pd_region_info info;
    if (info_from_pb(in, &info, err, sizeof(err)) != 0) {
        failf(call, -EINVAL, "region heartbeat: %s", err);
        return -1;
    }
    int rc = pd_region_heartbeat(pdd_node_pd(n), pdd_mono_ms(), &info, step);
    if (rc == PD_ESTALE) {
        failf(call, rc,
              "stale heartbeat for region %" PRIu64 " (conf_ver %" PRIu64
              ", version %" PRIu64 "): the map has a newer epoch; ignored",
              info.region.id, info.region.conf_ver, info.region.version);
        return -1;
    }
    if (rc != 0) {
        fail_pd(n, call, rc);
        return -1;
    }
    return 0;
}

static void h_region_heartbeat(struct rpc_call *call, const void *req,
                               void *ud)
{
    const pd_RegionHeartbeatRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    if (!in->has_region) {
        failf(call, -EINVAL, "region heartbeat: no region in the request");
        return;
    }
    struct pd_step step = {0};
    if (heartbeat(n, call, &in->region, &step) != 0)
        return;
    pd_RegionHeartbeatResponse out = {.has_step = true};
    step_to_pb(&step, &out.step);
    rpc_call_reply(call, &out);
}

static void reply_region(struct rpc_call *call,
                         const struct pd_region_info *info)
{
    struct arena a = {0};
    pd_GetRegionResponse out = {.has_region = true};
    info_to_pb(&a, info, &out.region);
    if (a.oom)
        rpc_call_fail(call, -ENOMEM, "out of memory");
    else
        rpc_call_reply(call, &out);
    afree(&a);
}

static void h_get_region(struct rpc_call *call, const void *req, void *ud)
{
    const pd_GetRegionRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    struct pd_region_info info;
    int rc = pd_region_by_key(pdd_node_pd(n), in->key ? in->key->bytes : NULL,
                              in->key ? in->key->size : 0, &info);
    if (rc != 0) {
        failf(call, rc, "no region covers that key (%s)", pd_strerror(rc));
        return;
    }
    reply_region(call, &info);
}

static void h_get_region_by_id(struct rpc_call *call, const void *req,
                               void *ud)
{
    const pd_GetRegionByIDRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    struct pd_region_info info;
    int rc = pd_region_by_id(pdd_node_pd(n), in->region_id, &info);
    if (rc != 0) {
        failf(call, rc, "region %" PRIu64 ": %s", in->region_id,
              pd_strerror(rc));
        return;
    }
    reply_region(call, &info);
}

static void h_scan_regions(struct rpc_call *call, const void *req, void *ud)
{
    const pd_ScanRegionsRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    size_t limit = in->limit ? in->limit : 1024;
    if (limit > 8192)
        limit = 8192;
    struct pd_region_info *infos = calloc(limit, sizeof(*infos));
    pd_RegionInfo *pbs = calloc(limit, sizeof(*pbs));
    /* Four blocks per region at most: keys, peers, down peers. */
    struct arena *arenas = calloc(limit / 60 + 1, sizeof(*arenas));
    size_t k = 0;
    if (!infos || !pbs || !arenas) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        goto out;
    }
    int rc = pd_region_scan(pdd_node_pd(n),
                            in->start_key ? in->start_key->bytes : NULL,
                            in->start_key ? in->start_key->size : 0,
                            in->end_key ? in->end_key->bytes : NULL,
                            in->end_key ? in->end_key->size : 0, limit, infos,
                            &k);
    if (rc != 0) {
        fail_pd(n, call, rc);
        goto out;
    }
    bool oom = false;
    for (size_t i = 0; i < k; i++) {
        info_to_pb(&arenas[i / 60], &infos[i], &pbs[i]);
        oom |= arenas[i / 60].oom;
    }
    pd_ScanRegionsResponse outm = {.regions = pbs,
                                   .regions_count = (pb_size_t)k};
    if (oom)
        rpc_call_fail(call, -ENOMEM, "out of memory");
    else
        rpc_call_reply(call, &outm);
out:
    if (arenas)
        for (size_t i = 0; i < limit / 60 + 1; i++)
            afree(&arenas[i]);
    free(arenas);
    free(pbs);
    free(infos);
}

static void h_ask_split(struct rpc_call *call, const void *req, void *ud)
{
    const pd_AskSplitRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    uint64_t rid = 0, peers[PD_MAX_PEERS];
    uint32_t np = 0;
    int rc = pd_ask_split(pdd_node_pd(n), in->region_id, &rid, peers, &np);
    if (rc != 0) {
        fail_pd(n, call, rc);
        return;
    }
    pd_AskSplitResponse out = {.new_region_id = rid,
                               .new_peer_ids = peers,
                               .new_peer_ids_count = (pb_size_t)np};
    rpc_call_reply(call, &out);
}

static void h_report_split(struct rpc_call *call, const void *req, void *ud)
{
    const pd_ReportSplitRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    if (!in->has_left || !in->has_right) {
        failf(call, -EINVAL, "report split needs both halves");
        return;
    }
    if (heartbeat(n, call, &in->left, NULL) != 0 ||
        heartbeat(n, call, &in->right, NULL) != 0)
        return;
    pd_ReportSplitResponse out = {0};
    rpc_call_reply(call, &out);
}

static void h_get_gc(struct rpc_call *call, const void *req, void *ud)
{
    const pd_GetGCSafePointRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    pd_GetGCSafePointResponse out = {
        .safe_point = pd_gc_safe_point(pdd_node_pd(n))};
    rpc_call_reply(call, &out);
}

static void h_update_gc(struct rpc_call *call, const void *req, void *ud)
{
    const pd_UpdateGCSafePointRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    uint64_t *val = calloc(1, sizeof(*val));
    if (!val) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    uint64_t before = pdd_node_proposals(n);
    int rc = pd_gc_safe_point_update(pdd_node_pd(n), pdd_wall_ms(n),
                                     in->safe_point, val);
    if (rc != 0) {
        free(val);
        fail_pd(n, call, rc);
        return;
    }
    finish(n, call, before, reply_u64, val);
}

static void h_update_service(struct rpc_call *call, const void *req,
                             void *ud)
{
    const pd_UpdateServiceSafePointRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    if (!in->service_id || !*in->service_id) {
        failf(call, -EINVAL, "service safe point: no service id");
        return;
    }
    uint64_t *val = calloc(1, sizeof(*val));
    if (!val) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    uint64_t before = pdd_node_proposals(n);
    int rc = pd_service_safe_point_update(pdd_node_pd(n), pdd_wall_ms(n),
                                          in->service_id, in->ttl_ms,
                                          in->safe_point, val);
    if (rc != 0) {
        free(val);
        fail_pd(n, call, rc);
        return;
    }
    finish(n, call, before, reply_u64, val);
}

static void h_add_operator(struct rpc_call *call, const void *req, void *ud)
{
    const pd_AddOperatorRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    if (!in->has_op || in->op.steps_count < 1 ||
        in->op.steps_count > PD_MAX_STEPS) {
        failf(call, -EINVAL, "add operator: 1..%d steps needed",
              PD_MAX_STEPS);
        return;
    }
    struct pd_operator op;
    memset(&op, 0, sizeof(op));
    op.region_id = in->op.region_id;
    snprintf(op.desc, sizeof(op.desc), "%s",
             in->op.desc && *in->op.desc ? in->op.desc : "admin");
    op.n_steps = in->op.steps_count;
    for (pb_size_t i = 0; i < in->op.steps_count; i++) {
        op.steps[i].kind = (int)in->op.steps[i].kind;
        op.steps[i].store_id = in->op.steps[i].store_id;
        op.steps[i].peer_id = in->op.steps[i].peer_id;
        op.steps[i].target_region_id = in->op.steps[i].target_region_id;
    }
    int rc = pd_operator_add(pdd_node_pd(n), pdd_mono_ms(), &op);
    if (rc != 0) {
        fail_pd(n, call, rc);
        return;
    }
    pd_AddOperatorResponse out = {0};
    rpc_call_reply(call, &out);
}

static void h_get_operators(struct rpc_call *call, const void *req, void *ud)
{
    const pd_GetOperatorsRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    struct pd *pd = pdd_node_pd(n);
    size_t count = in->region_id ? 1 : pd_operator_count(pd);
    if (count > 60)
        count = 60; /* a page: the arena holds two blocks per operator */
    pd_Operator ops[60];
    struct arena a = {0};
    size_t k = 0;
    struct pd_operator op;
    if (in->region_id) {
        int rc = pd_operator_get(pd, in->region_id, &op);
        if (rc != 0) {
            failf(call, rc, "region %" PRIu64 " has no operator",
                  in->region_id);
            return;
        }
        op_to_pb(&a, &op, &ops[k++]);
    } else {
        for (size_t i = 0; i < count; i++)
            if (pd_operator_at(pd, i, &op) == 0)
                op_to_pb(&a, &op, &ops[k++]);
    }
    pd_GetOperatorsResponse out = {.ops = ops, .ops_count = (pb_size_t)k};
    if (a.oom)
        rpc_call_fail(call, -ENOMEM, "out of memory");
    else
        rpc_call_reply(call, &out);
    afree(&a);
}

static void h_remove_operator(struct rpc_call *call, const void *req,
                              void *ud)
{
    const pd_RemoveOperatorRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    int rc = pd_operator_remove(pdd_node_pd(n), in->region_id);
    if (rc != 0) {
        failf(call, rc, "region %" PRIu64 " has no operator", in->region_id);
        return;
    }
    pd_RemoveOperatorResponse out = {0};
    rpc_call_reply(call, &out);
}

/* The checkers and schedulers pd_schedule runs (DESIGN "Scheduling"). */
static char *const scheduler_names[] = {
    "replica-checker", "merge-checker", "balance-leader-scheduler",
    "balance-region-scheduler"};

static void h_list_schedulers(struct rpc_call *call, const void *req,
                              void *ud)
{
    const pd_ListSchedulersRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, false) != 0)
        return;
    pd_ListSchedulersResponse out = {
        .names = (char **)scheduler_names,
        .names_count = sizeof(scheduler_names) / sizeof(scheduler_names[0])};
    rpc_call_reply(call, &out);
}

static void h_get_config(struct rpc_call *call, const void *req, void *ud)
{
    const pd_GetConfigRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, false) != 0)
        return;
    struct pd_config c;
    pd_config_get(pdd_node_pd(n), &c);
    char *labels[PD_MAX_LOCATION_LABELS];
    for (uint32_t i = 0; i < c.n_location_labels; i++)
        labels[i] = (char *)c.location_labels[i];
    pd_GetConfigResponse out = {
        .has_config = true,
        .config = {
            .max_replicas = c.max_replicas,
            .max_store_down_ms = c.max_store_down_ms,
            .operator_timeout_ms = c.operator_timeout_ms,
            .leader_tolerance = c.leader_tolerance,
            .region_tolerance = c.region_tolerance,
            .region_max_size = c.region_max_size,
            .merge_max_size = c.merge_max_size,
            .merge_max_keys = c.merge_max_keys,
            .low_space_percent = c.low_space_percent,
            .split_merge_interval_ms = c.split_merge_interval_ms,
            .store_limit = c.store_limit,
            .location_labels = c.n_location_labels ? labels : NULL,
            .location_labels_count = (pb_size_t)c.n_location_labels,
            .tso_save_window_ms = c.tso_save_window_ms,
            .id_block = c.id_block,
        }};
    rpc_call_reply(call, &out);
}

static void h_set_config(struct rpc_call *call, const void *req, void *ud)
{
    const pd_SetConfigRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, false) != 0)
        return;
    if (!in->has_config ||
        in->config.location_labels_count > PD_MAX_LOCATION_LABELS) {
        failf(call, -EINVAL, "set config: no config, or more than %d "
                             "location labels", PD_MAX_LOCATION_LABELS);
        return;
    }
    struct pd_config c;
    pd_config_get(pdd_node_pd(n), &c);
    const pd_Config *s = &in->config;
    c.max_replicas = s->max_replicas;
    c.max_store_down_ms = s->max_store_down_ms;
    c.operator_timeout_ms = s->operator_timeout_ms;
    c.leader_tolerance = s->leader_tolerance;
    c.region_tolerance = s->region_tolerance;
    c.region_max_size = s->region_max_size;
    c.merge_max_size = s->merge_max_size;
    c.merge_max_keys = s->merge_max_keys;
    c.low_space_percent = s->low_space_percent;
    c.split_merge_interval_ms = s->split_merge_interval_ms;
    c.store_limit = s->store_limit;
    c.n_location_labels = s->location_labels_count;
    for (pb_size_t i = 0; i < s->location_labels_count; i++) {
        if (!s->location_labels[i] || !*s->location_labels[i]) {
            failf(call, -EINVAL, "set config: empty location label");
            return;
        }
        c.location_labels[i] = s->location_labels[i];
    }
    uint64_t before = pdd_node_proposals(n);
    int rc = pd_config_set(pdd_node_pd(n), &c);
    if (rc != 0) {
        failf(call, rc, "set config: %s%s%s", pd_strerror(rc),
              *pd_errmsg(pdd_node_pd(n)) ? ": " : "",
              pd_errmsg(pdd_node_pd(n)));
        return;
    }
    finish(n, call, before, reply_empty, NULL);
}

static void h_raft(struct rpc_call *call, const void *req, void *ud)
{
    const pd_RaftRequest *in = req;
    struct pdd_node *n = ud;
    int rc = pdd_node_step(n, in->msg.data, in->msg.len);
    if (rc != 0) {
        failf(call, rc == RAFT_EDECODE || rc == RAFT_EVERSION ? -EINVAL : rc,
              "raft message from %" PRIu64 " refused: %s", in->from,
              rc < -999 ? raft_strerror(rc) : strerror(-rc));
        return;
    }
    pd_RaftResponse out = {0};
    rpc_call_reply(call, &out);
}

#define M(idv, nm, req, resp, fn)                                          \
    {                                                                      \
        .id = idv, .name = nm, .req_fields = pd_##req##_fields,            \
        .req_size = sizeof(pd_##req), .resp_fields = pd_##resp##_fields,   \
        .handler = fn                                                      \
    }

int pdd_service_register(struct rpc_server *srv, struct pdd_node *n)
{
    static const struct rpc_method methods[] = {
        M(PD_METHOD_GET_MEMBERS, "pd.GetMembers", GetMembersRequest,
          GetMembersResponse, h_get_members),
        M(PD_METHOD_TSO, "pd.Tso", TsoRequest, TsoResponse, h_tso),
        M(PD_METHOD_ALLOC_ID, "pd.AllocID", AllocIDRequest, AllocIDResponse,
          h_alloc_id),
        M(PD_METHOD_BOOTSTRAP, "pd.Bootstrap", BootstrapRequest,
          BootstrapResponse, h_bootstrap),
        M(PD_METHOD_IS_BOOTSTRAPPED, "pd.IsBootstrapped",
          IsBootstrappedRequest, IsBootstrappedResponse, h_is_bootstrapped),
        M(PD_METHOD_PUT_STORE, "pd.PutStore", PutStoreRequest,
          PutStoreResponse, h_put_store),
        M(PD_METHOD_GET_STORE, "pd.GetStore", GetStoreRequest,
          GetStoreResponse, h_get_store),
        M(PD_METHOD_GET_ALL_STORES, "pd.GetAllStores", GetAllStoresRequest,
          GetAllStoresResponse, h_get_all_stores),
        M(PD_METHOD_SET_STORE_STATE, "pd.SetStoreState",
          SetStoreStateRequest, SetStoreStateResponse, h_set_store_state),
        M(PD_METHOD_STORE_HEARTBEAT, "pd.StoreHeartbeat",
          StoreHeartbeatRequest, StoreHeartbeatResponse, h_store_heartbeat),
        M(PD_METHOD_REGION_HEARTBEAT, "pd.RegionHeartbeat",
          RegionHeartbeatRequest, RegionHeartbeatResponse,
          h_region_heartbeat),
        M(PD_METHOD_GET_REGION, "pd.GetRegion", GetRegionRequest,
          GetRegionResponse, h_get_region),
        M(PD_METHOD_GET_REGION_BY_ID, "pd.GetRegionByID",
          GetRegionByIDRequest, GetRegionResponse, h_get_region_by_id),
        M(PD_METHOD_SCAN_REGIONS, "pd.ScanRegions", ScanRegionsRequest,
          ScanRegionsResponse, h_scan_regions),
        M(PD_METHOD_ASK_SPLIT, "pd.AskSplit", AskSplitRequest,
          AskSplitResponse, h_ask_split),
        M(PD_METHOD_REPORT_SPLIT, "pd.ReportSplit", ReportSplitRequest,
          ReportSplitResponse, h_report_split),
        M(PD_METHOD_GET_GC_SAFE_POINT, "pd.GetGCSafePoint",
          GetGCSafePointRequest, GetGCSafePointResponse, h_get_gc),
        M(PD_METHOD_UPDATE_GC_SAFE_POINT, "pd.UpdateGCSafePoint",
          UpdateGCSafePointRequest, UpdateGCSafePointResponse, h_update_gc),
        M(PD_METHOD_UPDATE_SERVICE_SAFE_POINT, "pd.UpdateServiceSafePoint",
          UpdateServiceSafePointRequest, UpdateServiceSafePointResponse,
          h_update_service),
        M(PD_METHOD_ADD_OPERATOR, "pd.AddOperator", AddOperatorRequest,
          AddOperatorResponse, h_add_operator),
        M(PD_METHOD_GET_OPERATORS, "pd.GetOperators", GetOperatorsRequest,
          GetOperatorsResponse, h_get_operators),
        M(PD_METHOD_REMOVE_OPERATOR, "pd.RemoveOperator",
          RemoveOperatorRequest, RemoveOperatorResponse, h_remove_operator),
        M(PD_METHOD_LIST_SCHEDULERS, "pd.ListSchedulers",
          ListSchedulersRequest, ListSchedulersResponse, h_list_schedulers),
        M(PD_METHOD_GET_CONFIG, "pd.GetConfig", GetConfigRequest,
          GetConfigResponse, h_get_config),
        M(PD_METHOD_SET_CONFIG, "pd.SetConfig", SetConfigRequest,
          SetConfigResponse, h_set_config),
        M(PD_METHOD_RAFT, "pd.Raft", RaftRequest, RaftResponse, h_raft),
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        struct rpc_method m = methods[i];
        m.ud = n;
        int rc = rpc_server_register(srv, &m);
        if (rc != 0)
            return rc;
    }
    return 0;
}

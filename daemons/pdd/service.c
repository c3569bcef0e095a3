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
#include <pb_decode.h>
#include <rpc.h>

#include "log.h"
#include "pdd.h"

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
/* The end of a handler that built out: reply with it when rc is 0, else
 * fail with out-of-memory (the only way building fails); free out's
 * allocations either way. */
static void reply_built(struct rpc_call *call, int rc,
                        const pb_msgdesc_t *fields, void *out)
{
    if (rc != 0)
        rpc_call_fail(call, -ENOMEM, "out of memory");
    else
        rpc_call_reply(call, out);
    pb_release(fields, out);
}

static int admit(struct pdd_node *n, struct rpc_call *call, uint64_t cid,
                 bool strict)
{
    if (pdd_node_check_leader(n, call) != 0)
        return -1;
    return check_cluster(n, call, cid, strict);
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
    const struct pdd_members *t = pdd_node_members(n);
    pd_Member ms[PDD_MAX_MEMBERS];
    for (size_t i = 0; i < t->n; i++) {
        ms[i].id = t->m[i].id;
        ms[i].name = (char *)t->m[i].name;
        ms[i].address = (char *)t->m[i].address;
        ms[i].peer_address = (char *)t->m[i].peer;
        ms[i].learner = pdd_node_is_learner(n, t->m[i].id);
    }
    pd_GetMembersResponse out = {
        .members = ms,
        .members_count = (pb_size_t)t->n,
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
    if (pd_pb_store_in(&in->store, &st, err, sizeof(err)) != 0 ||
        pd_pb_region_in(&in->region, &rg, err, sizeof(err)) != 0) {
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
    if (!in->has_store || pd_pb_store_in(&in->store, &st, err, sizeof(err))) {
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

/* StoreInfo.last_heartbeat_ms on the wire is this leader's wall clock
 * (ms since the epoch) at the store's last heartbeat, 0 when none this
 * leadership: libpd keeps it on the monotonic clock, which means nothing
 * to another process (sqld's TIKV_STORE_STATUS shows its age). */
static void hb_to_wall(const struct pdd_node *n, pd_StoreInfo *si)
{
    uint64_t mono = pdd_mono_ms(), wall = pdd_wall_ms(n);
    if (!si->has_heartbeat || si->last_heartbeat_ms > mono ||
        mono - si->last_heartbeat_ms > wall)
        si->last_heartbeat_ms = 0;
    else
        si->last_heartbeat_ms = wall - (mono - si->last_heartbeat_ms);
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
    pd_GetStoreResponse out = {.has_store = true};
    rc = pd_pb_store_info_out(&info, &out.store);
    if (rc == 0)
        hb_to_wall(n, &out.store);
    reply_built(call, rc, pd_GetStoreResponse_fields, &out);
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
    pd_GetAllStoresResponse out = {0};
    out.stores = calloc(count + 1, sizeof(*out.stores));
    if (!out.stores) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    uint64_t now = pdd_mono_ms();
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        struct pd_store_info info;
        if (pd_store_at(pd, now, i, &info) != 0)
            continue;
        if (in->exclude_tombstone && info.state == PD_STORE_TOMBSTONE)
            continue;
        rc = pd_pb_store_info_out(&info, &out.stores[out.stores_count]);
        if (rc == 0)
            hb_to_wall(n, &out.stores[out.stores_count++]);
    }
    reply_built(call, rc, pd_GetAllStoresResponse_fields, &out);
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
    if (in->has_stats &&
        pd_pb_stats_in(&in->stats, &st, err, sizeof(err)) != 0) {
        failf(call, -EINVAL, "store heartbeat: %s", err);
        return;
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

/* One region heartbeat: 0, or its failure code with the text in msg (the
 * unary call fails with it, a stream answers the code). */
static int heartbeat(struct pdd_node *n, const pd_RegionInfo *in,
                     struct pd_step *step, char *msg, size_t len)
{
    char err[256];
    struct pd_region_info info;
    if (pd_pb_region_info_in(in, &info, err, sizeof(err)) != 0) {
        snprintf(msg, len, "region heartbeat: %s", err);
        return -EINVAL;
    }
    int rc = pd_region_heartbeat(pdd_node_pd(n), pdd_mono_ms(), &info, step);
    if (rc == PD_ESTALE)
        snprintf(msg, len,
                 "stale heartbeat for region %" PRIu64 " (conf_ver %" PRIu64
                 ", version %" PRIu64 "): the map has a newer epoch; ignored",
                 info.region.id, info.region.conf_ver, info.region.version);
    else if (rc != 0)
        snprintf(msg, len, "%s%s%s", pd_strerror(rc),
                 *pd_errmsg(pdd_node_pd(n)) ? ": " : "",
                 pd_errmsg(pdd_node_pd(n)));
    return rc;
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
    char msg[512];
    int rc = heartbeat(n, &in->region, &step, msg, sizeof(msg));
    if (rc != 0) {
        rpc_call_fail(call, rc, msg);
        return;
    }
    pd_RegionHeartbeatResponse out = {.has_step = true};
    pd_pb_step_out(&step, &out.step);
    rpc_call_reply(call, &out);
}

static void reply_region(struct rpc_call *call,
                         const struct pd_region_info *info)
{
    pd_GetRegionResponse out = {.has_region = true};
    int rc = pd_pb_region_info_out(info, &out.region);
    reply_built(call, rc, pd_GetRegionResponse_fields, &out);
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
    pd_ScanRegionsResponse out = {0};
    out.regions = calloc(limit, sizeof(*out.regions));
    size_t k = 0;
    if (!infos || !out.regions) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        goto done;
    }
    int rc = pd_region_scan(pdd_node_pd(n),
                            in->start_key ? in->start_key->bytes : NULL,
                            in->start_key ? in->start_key->size : 0,
                            in->end_key ? in->end_key->bytes : NULL,
                            in->end_key ? in->end_key->size : 0, limit, infos,
                            &k);
    if (rc != 0) {
        fail_pd(n, call, rc);
        goto done;
    }
    /* Keys may be 4 KiB each: stop well below librpc's 16 MiB frame; the
     * caller scans on from the last region's end. */
    size_t bytes = 0;
    for (size_t i = 0; i < k && rc == 0 && bytes < (8u << 20); i++) {
        rc = pd_pb_region_info_out(&infos[i], &out.regions[i]);
        if (rc == 0) {
            out.regions_count++;
            bytes += 64 + infos[i].region.start_len + infos[i].region.end_len +
                     infos[i].region.n_peers * 24u;
        }
    }
    reply_built(call, rc, pd_ScanRegionsResponse_fields, &out);
    free(infos);
    return;
done:
    pb_release(pd_ScanRegionsResponse_fields, &out);
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
    char msg[512];
    int rc = heartbeat(n, &in->left, NULL, msg, sizeof(msg));
    if (rc == 0)
        rc = heartbeat(n, &in->right, NULL, msg, sizeof(msg));
    if (rc != 0) {
        rpc_call_fail(call, rc, msg);
        return;
    }
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

static void h_get_cluster_version(struct rpc_call *call, const void *req,
                                  void *ud)
{
    const pd_GetClusterVersionRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, true) != 0)
        return;
    pd_GetClusterVersionResponse out = {
        .version = pd_cluster_version(pdd_node_pd(n)),
        .region_version = pd_cluster_region_version(pdd_node_pd(n))};
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
    pdd_hint_region(n, op.region_id);
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
    if (count > 60000)
        count = 60000;
    pd_GetOperatorsResponse out = {0};
    out.ops = calloc(count + 1, sizeof(*out.ops));
    if (!out.ops) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    struct pd_operator op;
    int rc = 0;
    if (in->region_id) {
        rc = pd_operator_get(pd, in->region_id, &op);
        if (rc != 0) {
            failf(call, rc, "region %" PRIu64 " has no operator",
                  in->region_id);
            pb_release(pd_GetOperatorsResponse_fields, &out);
            return;
        }
        rc = pd_pb_operator_out(&op, &out.ops[0]);
        out.ops_count = rc == 0 ? 1 : 0;
    } else {
        for (size_t i = 0; i < count && rc == 0; i++) {
            if (pd_operator_at(pd, i, &op) != 0)
                continue;
            rc = pd_pb_operator_out(&op, &out.ops[out.ops_count]);
            if (rc == 0)
                out.ops_count++;
        }
    }
    reply_built(call, rc, pd_GetOperatorsResponse_fields, &out);
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
            .leader_schedule_limit = c.leader_schedule_limit,
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
    c.leader_schedule_limit = s->leader_schedule_limit;
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

static void h_transfer_leader(struct rpc_call *call, const void *req,
                              void *ud)
{
    const pd_TransferLeaderRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, false) != 0)
        return;
    if (in->member_id == pdd_node_options(n)->self_id) {
        pd_TransferLeaderResponse out = {0};
        rpc_call_reply(call, &out); /* already leads */
        return;
    }
    int rc = pdd_node_transfer_leader(n, in->member_id);
    if (rc == -EINVAL) {
        failf(call, -EINVAL, "transfer leader: no member %" PRIu64,
              in->member_id);
        return;
    }
    if (rc != 0) {
        failf(call, rc, "transfer leader: %s", raft_strerror(rc));
        return;
    }
    pd_TransferLeaderResponse out = {0};
    rpc_call_reply(call, &out);
}

static void h_add_member(struct rpc_call *call, const void *req, void *ud)
{
    const pd_AddMemberRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, false) != 0)
        return;
    pdd_node_add_member(n, call, in->name, in->peer_address,
                        in->client_address);
}

static void h_remove_member(struct rpc_call *call, const void *req, void *ud)
{
    const pd_RemoveMemberRequest *in = req;
    struct pdd_node *n = ud;
    if (admit(n, call, in->cluster_id, false) != 0)
        return;
    pdd_node_remove_member(n, call, in->name);
}

static void h_raft(struct rpc_call *call, const void *req, void *ud)
{
    const pd_RaftRequest *in = req;
    struct pdd_node *n = ud;
    int rc = pdd_node_step(n, in->msg.data, in->msg.len);
    if (rc == -EPERM) {
        failf(call, rc, "raft message from %" PRIu64 " refused: it is not a "
              "member of this group", in->from);
        return;
    }
    if (rc != 0) {
        failf(call, rc == RAFT_EDECODE || rc == RAFT_EVERSION ? -EINVAL : rc,
              "raft message from %" PRIu64 " refused: %s", in->from,
              rc < -999 ? raft_strerror(rc) : strerror(-rc));
        return;
    }
    pd_RaftResponse out = {0};
    rpc_call_reply(call, &out);
}

/* ---- streams (libpd/DESIGN.md "Service": Tso and RegionHeartbeat) ------
 * A Tso stream's requests queue in the node with the unary ones and are
 * answered on the stream in order; when a stream has many queued it holds
 * back the client's credit, which bounds the queue. A request while this
 * pdd does not lead (or a failed batch) fails the whole stream with the
 * code and "leader: ADDR": the client moves its stream there. */

#define TSO_STREAM_HOLD 32 /* queued requests of one stream: hold credit */

/* Streams not freed yet: the server's destroy finishes their calls
 * without a word, so pdd_service_stop frees what is left. */
static struct pdd_tso_stream *open_streams;

static void tso_stream_release(struct pdd_tso_stream *st)
{
    if (st->call || st->pending > 0)
        return;
    if (st->prev)
        st->prev->next = st->next;
    else
        open_streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    free(st);
}

static void hint_streams_free(void);

void pdd_service_stop(void)
{
    while (open_streams) {
        struct pdd_tso_stream *st = open_streams;
        open_streams = st->next;
        free(st);
    }
    hint_streams_free();
}

static void tso_stream_cancel(struct rpc_call *call, void *ud)
{
    struct pdd_tso_stream *st = ud;
    rpc_call_stream_end(call, RPC_ECANCELED);
    st->call = NULL;
    tso_stream_release(st);
}

void pdd_tso_stream_answer(struct pdd_tso_stream *st, int rc, uint64_t first,
                           uint32_t count, const char *msg)
{
    st->pending--;
    if (st->call && rc == 0) {
        pd_TsoResponse out = {.first = first, .count = count};
        rpc_call_stream_send(st->call, &out);
        if (st->held && st->pending < TSO_STREAM_HOLD / 2) {
            st->held = false;
            rpc_call_recv_hold(st->call, false);
        }
        if (st->closing && st->pending == 0) {
            rpc_call_stream_end(st->call, 0);
            st->call = NULL;
        }
    } else if (st->call) {
        rpc_call_fail(st->call, rc, msg && *msg ? msg : pd_strerror(rc));
        st->call = NULL;
    }
    tso_stream_release(st);
}

/* One request of a Tso stream: queued, or the stream failed. */
static void tso_stream_request(struct pdd_node *n, struct pdd_tso_stream *st,
                               const pd_TsoRequest *in)
{
    if (in->count < 1 || in->count > PD_TS_LOGICAL_LIMIT) {
        failf(st->call, -EINVAL, "tso count %u out of range 1..%u",
              (unsigned)in->count, (unsigned)PD_TS_LOGICAL_LIMIT);
        st->call = NULL;
        return;
    }
    if (admit(n, st->call, in->cluster_id, false) != 0) {
        st->call = NULL; /* failed: PD_ENOTLEADER names the leader */
        return;
    }
    pdd_node_tso_stream(n, st, in->count);
    if (st->call && !st->held && st->pending >= TSO_STREAM_HOLD) {
        st->held = true;
        rpc_call_recv_hold(st->call, true);
    }
}

static void h_tso_stream(struct rpc_call *call, const void *req, void *ud)
{
    struct pdd_node *n = ud;
    struct pdd_tso_stream *st = calloc(1, sizeof(*st));
    if (!st) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    st->call = call;
    st->pending = 1; /* this handler's own reference */
    st->next = open_streams;
    if (open_streams)
        open_streams->prev = st;
    open_streams = st;
    rpc_call_set_ud(call, st);
    rpc_call_on_cancel(call, tso_stream_cancel, st);
    pdd_node_count_stream(n, 0);
    tso_stream_request(n, st, req);
    st->pending--;
    tso_stream_release(st);
}

static void r_tso_stream(struct rpc_call *call, const void *msg, void *ud)
{
    struct pdd_node *n = ud;
    struct pdd_tso_stream *st = rpc_call_get_ud(call);
    st->pending++;
    if (!msg) {
        st->closing = true;
        if (st->pending == 1) {
            rpc_call_stream_end(call, 0);
            st->call = NULL;
        }
    } else {
        tso_stream_request(n, st, msg);
    }
    st->pending--;
    tso_stream_release(st);
}

/* A RegionHeartbeat stream answers each heartbeat at once, in order, with
 * its operator step (or its error code: a stale heartbeat does not end
 * the stream); not leading, or another cluster's id, ends it.
 * A stream whose heartbeats set hints is listed with the store they come
 * from (their leader's), and pdd_hint_region sends on it, unasked, the
 * id of a region that store leads when an operator is made for it: the
 * store heartbeats it at once and gets the step (libpd DESIGN "Hints"),
 * instead of at its next round. */
struct hint_stream
{
    struct rpc_call *call;    /* the stream */
    uint64_t store_id;        /* its last heartbeat's leader store */
    struct hint_stream *prev; /* list links */
    struct hint_stream *next;
};
static struct hint_stream *hint_streams;

/* Its call is finished, or about to be: st (may be NULL) leaves the list
 * (read it with rpc_call_get_ud before the call ends). */
static void hint_stream_drop(struct hint_stream *st)
{
    if (!st)
        return;
    if (st->prev)
        st->prev->next = st->next;
    else
        hint_streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    free(st);
}

void pdd_hint_region(struct pdd_node *n, uint64_t region_id)
{
    struct pd_region_info info;
    if (!hint_streams || pd_region_by_id(pdd_node_pd(n), region_id, &info) != 0)
        return;
    uint64_t store = 0;
    for (uint32_t i = 0; i < info.region.n_peers; i++)
        if (info.region.peers[i].id == info.leader_peer_id)
            store = info.region.peers[i].store_id;
    pd_RegionHeartbeatResponse out = {.hint = true, .region_id = region_id};
    for (struct hint_stream *st = hint_streams; st && store; st = st->next)
        if (st->store_id == store && rpc_call_stream_send(st->call, &out) == 0)
            pdd_node_count_stream(n, 3);
}

static void hint_streams_free(void)
{
    while (hint_streams)
        hint_stream_drop(hint_streams);
}

static void hb_stream_cancel(struct rpc_call *call, void *ud)
{
    (void)ud;
    hint_stream_drop(rpc_call_get_ud(call));
    rpc_call_stream_end(call, RPC_ECANCELED);
}

/* Lists the stream under the store of in's leader (a heartbeat that sets
 * hints; out of memory, the stream gets none). */
static void hint_stream_note(struct rpc_call *call,
                             const pd_RegionHeartbeatRequest *in)
{
    struct hint_stream *st = rpc_call_get_ud(call);
    if (!st) {
        if (!(st = calloc(1, sizeof(*st))))
            return;
        st->call = call;
        st->next = hint_streams;
        if (hint_streams)
            hint_streams->prev = st;
        hint_streams = st;
        rpc_call_set_ud(call, st);
    }
    for (pb_size_t i = 0; i < in->region.region.peers_count; i++)
        if (in->region.region.peers[i].id == in->region.leader_peer_id)
            st->store_id = in->region.region.peers[i].store_id;
}

static void hb_stream_request(struct pdd_node *n, struct rpc_call *call,
                              const pd_RegionHeartbeatRequest *in)
{
    struct hint_stream *st = rpc_call_get_ud(call);
    if (admit(n, call, in->cluster_id, true) != 0) {
        hint_stream_drop(st); /* admit ended the call */
        return;
    }
    if (in->hints && in->has_region)
        hint_stream_note(call, in);
    pd_RegionHeartbeatResponse out = {.has_step = true};
    struct pd_step step = {0};
    char msg[512];
    if (!in->has_region) {
        out.error = -EINVAL;
        snprintf(msg, sizeof(msg),
                 "region heartbeat: no region in the request");
    } else {
        out.region_id = in->region.region.id;
        out.error = heartbeat(n, &in->region, &step, msg, sizeof(msg));
    }
    if (out.error == 0)
        pd_pb_step_out(&step, &out.step);
    else
        out.error_text = msg;
    pdd_node_count_stream(n, 2);
    rpc_call_stream_send(call, &out);
}

static void h_hb_stream(struct rpc_call *call, const void *req, void *ud)
{
    struct pdd_node *n = ud;
    rpc_call_on_cancel(call, hb_stream_cancel, NULL);
    pdd_node_count_stream(n, 1);
    hb_stream_request(n, call, req);
}

static void r_hb_stream(struct rpc_call *call, const void *msg, void *ud)
{
    if (!msg) {
        hint_stream_drop(rpc_call_get_ud(call));
        rpc_call_stream_end(call, 0);
    } else
        hb_stream_request(ud, call, msg);
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
        M(PD_METHOD_GET_CLUSTER_VERSION, "pd.GetClusterVersion",
          GetClusterVersionRequest, GetClusterVersionResponse,
          h_get_cluster_version),
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
        M(PD_METHOD_TRANSFER_LEADER, "pd.TransferLeader",
          TransferLeaderRequest, TransferLeaderResponse, h_transfer_leader),
        M(PD_METHOD_ADD_MEMBER, "pd.AddMember", AddMemberRequest,
          AddMemberResponse, h_add_member),
        M(PD_METHOD_REMOVE_MEMBER, "pd.RemoveMember", RemoveMemberRequest,
          RemoveMemberResponse, h_remove_member),
        M(PD_METHOD_RAFT, "pd.Raft", RaftRequest, RaftResponse, h_raft),
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        struct rpc_method m = methods[i];
        m.ud = n;
        int rc = rpc_server_register(srv, &m);
        if (rc != 0)
            return rc;
    }
    static const struct rpc_method tso_stream =
        M(PD_METHOD_TSO_STREAM, "pd.TsoStream", TsoRequest, TsoResponse,
          h_tso_stream);
    static const struct rpc_method hb_stream =
        M(PD_METHOD_REGION_HEARTBEAT_STREAM, "pd.RegionHeartbeatStream",
          RegionHeartbeatRequest, RegionHeartbeatResponse, h_hb_stream);
    struct rpc_method m = tso_stream;
    m.ud = n;
    int rc = rpc_server_register_bidi(srv, &m, r_tso_stream);
    if (rc != 0)
        return rc;
    m = hb_stream;
    m.ud = n;
    return rpc_server_register_bidi(srv, &m, r_hb_stream);
}

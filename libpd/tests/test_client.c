/* test_client.c: libpd's client against three fake pd members served by
 * librpc in this process: discovery, redirects, failover to a live member,
 * the retry deadline, errors that pass through, and Tso batching (a held
 * reply makes the batch size exact). DESIGN.md, "Client".
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "pd.h"
#include "pd.pb.h"
#include "rpc.h"

#define N 3

/* The fake cluster, served on one loop thread. Fields the test thread
 * changes are guarded by lock. */
static struct
{
    struct event_base *base;          /* the servers' loop */
    pthread_t thread;                 /* runs it */
    struct rpc_server *srv[N];        /* member i+1 */
    char addr[N][32];                 /* "127.0.0.1:port" */
    struct event *poll;               /* releases a held Tso call */
    pthread_mutex_t lock;             /* guards the fields below */
    uint64_t leader;                  /* member id that serves, 0 none */
    int fail_code;                    /* nonzero: the leader fails Tso */
    uint64_t next_ts;                 /* next timestamp handed out */
    uint32_t tso_counts[64];          /* count of each Tso call served */
    size_t n_tso;                     /* calls served */
    bool hold_first;                  /* hold the next Tso reply */
    struct rpc_call *held;            /* ... that call */
    uint32_t held_count;              /* ... its count */
    struct pd_client *watch;          /* release held once watch has ... */
    uint64_t release_at;              /* ... this many tso_requests */
    int kill;                         /* member to take down (loop) */
    unsigned listed;                  /* bit i-1: GetMembers lists member
                                         i (0: all) */
    struct pd_region_info map[4];     /* the fake region map */
    uint8_t keys[4][2][4];            /* its keys */
    size_t n_map;                     /* used entries */
    size_t n_lookups;                 /* GetRegion(ByID) calls served */
    bool streams;                     /* the stream methods are served */
    bool mute;                        /* streams: leave requests unanswered */
    size_t n_heartbeats;              /* region heartbeats received */
    size_t n_hint_reqs;               /* ... of them setting hints (each
                                         hinted region id + 1000 first) */
    size_t hb_hold;                   /* hold heartbeats until this many */
    size_t n_held;                    /* ... held so far */
    uint64_t gc_sp;                   /* the GC safe point */
    uint64_t svc_sp;                  /* the one service's safe point */
    char svc_id[32];                  /* its id, as last sent */
    uint64_t svc_ttl;                 /* its ttl, as last sent */
    uint64_t gc_cluster_id;           /* cluster id of the last GC call */
    bool stop;                        /* end the loop */
} fk;

static uint64_t member_of(void *ud)
{
    return (uint64_t)(uintptr_t)ud;
}

static void get_members(struct rpc_call *call, const void *req, void *ud)
{
    (void)req;
    pd_Member ms[N];
    memset(ms, 0, sizeof(ms));
    pb_size_t k = 0;
    pthread_mutex_lock(&fk.lock);
    for (int i = 0; i < N; i++) {
        if (fk.listed && !(fk.listed & 1u << i))
            continue;
        ms[k].id = (uint64_t)i + 1;
        ms[k].name = (char *)"m";
        ms[k].address = fk.addr[i];
        k++;
    }
    pd_GetMembersResponse out = {.members = ms, .members_count = k,
                                 .leader_id = fk.leader, .cluster_id = 42,
                                 .self_id = member_of(ud)};
    pthread_mutex_unlock(&fk.lock);
    rpc_call_reply(call, &out);
}

/* Tso, unary or one message of a Tso stream (stream: answers go out as
 * stream messages; a failure ends the stream, as pdd's does). */
static void tso_answer(struct rpc_call *call, const pd_TsoRequest *in,
                       void *ud, bool stream)
{
    pthread_mutex_lock(&fk.lock);
    uint64_t leader = fk.leader;
    int fail = fk.fail_code;
    if (leader != member_of(ud)) {
        pthread_mutex_unlock(&fk.lock);
        char msg[128];
        if (leader)
            snprintf(msg, sizeof(msg), "not the leader; leader: %s",
                     fk.addr[leader - 1]);
        else
            snprintf(msg, sizeof(msg), "not the leader; no leader known");
        rpc_call_fail(call, PD_ENOTLEADER, msg);
        return;
    }
    if (fail) {
        pthread_mutex_unlock(&fk.lock);
        rpc_call_fail(call, fail, "cluster id 7 does not match");
        return;
    }
    if (fk.n_tso < 64)
        fk.tso_counts[fk.n_tso] = in->count;
    fk.n_tso++;
    if (stream && fk.mute) {
        pthread_mutex_unlock(&fk.lock);
        return;
    }
    if (fk.hold_first && !stream) {
        fk.hold_first = false;
        fk.held = call;
        fk.held_count = in->count;
        pthread_mutex_unlock(&fk.lock);
        return;
    }
    pd_TsoResponse out = {.first = fk.next_ts, .count = in->count};
    fk.next_ts += in->count;
    pthread_mutex_unlock(&fk.lock);
    if (stream)
        rpc_call_stream_send(call, &out);
    else
        rpc_call_reply(call, &out);
}

static void tso(struct rpc_call *call, const void *req, void *ud)
{
    tso_answer(call, req, ud, false);
}

static void stream_cancel(struct rpc_call *call, void *ud)
{
    (void)ud;
    rpc_call_stream_end(call, RPC_ECANCELED);
}

static void tso_stream(struct rpc_call *call, const void *req, void *ud)
{
    rpc_call_on_cancel(call, stream_cancel, NULL);
    tso_answer(call, req, ud, true);
}

static void tso_stream_recv(struct rpc_call *call, const void *msg, void *ud)
{
    if (!msg)
        rpc_call_stream_end(call, 0);
    else
        tso_answer(call, msg, ud, true);
}

/* A region heartbeat, unary or on the stream: the step names the region
 * (store id = region id, kind transfer-leader) so the test sees answers
 * matched to their requests; region 99 is stale. With hb_hold set,
 * heartbeats are held until that many arrived, then answered in order:
 * only heartbeats in flight together get through. */
struct held_hb
{
    struct rpc_call *call;
    uint64_t id;
    bool stream;
};
static struct held_hb held_hbs[1024];

static void hb_reply(struct rpc_call *call, uint64_t id, bool stream)
{
    pd_RegionHeartbeatResponse out = {.has_step = true, .region_id = id};
    if (id == 99 && !stream) {
        rpc_call_fail(call, PD_ESTALE, "stale heartbeat for region 99");
        return;
    }
    if (id == 99)
        out.error = PD_ESTALE;
    else
        out.step = (pd_Step){.kind = PD_STEP_TRANSFER_LEADER, .store_id = id};
    if (stream)
        rpc_call_stream_send(call, &out);
    else
        rpc_call_reply(call, &out);
}

static void hb_answer(struct rpc_call *call, const void *msg, bool stream)
{
    const pd_RegionHeartbeatRequest *in = msg;
    uint64_t id = in->region.region.id;
    if (stream && in->hints) { /* pushed ahead of the answer */
        pd_RegionHeartbeatResponse hint = {.hint = true,
                                           .region_id = id + 1000};
        rpc_call_stream_send(call, &hint);
    }
    pthread_mutex_lock(&fk.lock);
    fk.n_heartbeats++;
    fk.n_hint_reqs += in->hints;
    size_t hold = fk.hb_hold, n = fk.n_held;
    if (hold && n < hold && n < 1024) {
        held_hbs[n] = (struct held_hb){call, id, stream};
        fk.n_held = ++n;
    }
    pthread_mutex_unlock(&fk.lock);
    if (!hold) {
        hb_reply(call, id, stream);
    } else if (n == hold) {
        for (size_t i = 0; i < n; i++)
            hb_reply(held_hbs[i].call, held_hbs[i].id, held_hbs[i].stream);
        pthread_mutex_lock(&fk.lock);
        fk.hb_hold = fk.n_held = 0;
        pthread_mutex_unlock(&fk.lock);
    }
}

static void hb_unary(struct rpc_call *call, const void *req, void *ud)
{
    (void)ud;
    hb_answer(call, req, false);
}

static void hb_stream(struct rpc_call *call, const void *req, void *ud)
{
    (void)ud;
    rpc_call_on_cancel(call, stream_cancel, NULL);
    hb_answer(call, req, true);
}

static void hb_stream_recv(struct rpc_call *call, const void *msg, void *ud)
{
    (void)ud;
    if (!msg)
        rpc_call_stream_end(call, 0);
    else
        hb_answer(call, msg, true);
}

static void reply_region(struct rpc_call *call, const struct pd_region_info *r)
{
    pd_GetRegionResponse out = {.has_region = true};
    assert_int_equal(pd_pb_region_info_out(r, &out.region), 0);
    rpc_call_reply(call, &out);
    pd_client_release(pd_GetRegionResponse_fields, &out);
}

static bool in_range(const struct pd_region *r, const uint8_t *k, size_t n)
{
    size_t sl = r->start_len, el = r->end_len;
    size_t m1 = sl < n ? sl : n, m2 = n < el ? n : el;
    int c1 = m1 ? memcmp(r->start_key, k, m1) : 0;
    bool after_start = c1 < 0 || (c1 == 0 && sl <= n);
    if (el == 0)
        return after_start;
    int c2 = m2 ? memcmp(k, r->end_key, m2) : 0;
    return after_start && (c2 < 0 || (c2 == 0 && n < el));
}

static void get_region(struct rpc_call *call, const void *req, void *ud)
{
    (void)ud;
    const pd_GetRegionRequest *in = req;
    pthread_mutex_lock(&fk.lock);
    fk.n_lookups++;
    for (size_t i = 0; i < fk.n_map; i++)
        if (in_range(&fk.map[i].region, in->key ? in->key->bytes : NULL,
                     in->key ? in->key->size : 0)) {
            struct pd_region_info r = fk.map[i];
            pthread_mutex_unlock(&fk.lock);
            reply_region(call, &r);
            return;
        }
    pthread_mutex_unlock(&fk.lock);
    rpc_call_fail(call, PD_ENOTFOUND, "no region");
}

static void get_region_by_id(struct rpc_call *call, const void *req, void *ud)
{
    (void)ud;
    const pd_GetRegionByIDRequest *in = req;
    pthread_mutex_lock(&fk.lock);
    fk.n_lookups++;
    for (size_t i = 0; i < fk.n_map; i++)
        if (fk.map[i].region.id == in->region_id) {
            struct pd_region_info r = fk.map[i];
            pthread_mutex_unlock(&fk.lock);
            reply_region(call, &r);
            return;
        }
    pthread_mutex_unlock(&fk.lock);
    rpc_call_fail(call, PD_ENOTFOUND, "no region");
}

/* ScanRegions: every fake region in map order (the test keeps it sorted). */
static void scan_regions(struct rpc_call *call, const void *req, void *ud)
{
    (void)ud;
    (void)req;
    pd_ScanRegionsResponse out = {0};
    pd_RegionInfo rs[4];
    pthread_mutex_lock(&fk.lock);
    fk.n_lookups++;
    for (size_t i = 0; i < fk.n_map; i++)
        assert_int_equal(pd_pb_region_info_out(&fk.map[i], &rs[i]), 0);
    out.regions = rs;
    out.regions_count = (pb_size_t)fk.n_map;
    pthread_mutex_unlock(&fk.lock);
    rpc_call_reply(call, &out);
    for (pb_size_t i = 0; i < out.regions_count; i++)
        pd_client_release(pd_RegionInfo_fields, &rs[i]);
}

static void get_store(struct rpc_call *call, const void *req, void *ud)
{
    (void)ud;
    const pd_GetStoreRequest *in = req;
    pthread_mutex_lock(&fk.lock);
    fk.n_lookups++;
    pthread_mutex_unlock(&fk.lock);
    if (in->store_id != 7) {
        rpc_call_fail(call, PD_ENOTFOUND, "store: no such store");
        return;
    }
    pd_GetStoreResponse out = {
        .has_store = true,
        .store = {.has_store = true,
                  .store = {.id = 7, .address = (char *)"10.0.0.7:20160"},
                  .state = PD_STORE_OFFLINE}};
    rpc_call_reply(call, &out);
}

/* Sets map entry i to region id over [start, end) at version ver. */
static void fake_region(size_t i, uint64_t id, const char *start,
                        const char *end, uint64_t ver)
{
    pthread_mutex_lock(&fk.lock);
    struct pd_region_info *r = &fk.map[i];
    memset(r, 0, sizeof(*r));
    memcpy(fk.keys[i][0], start, strlen(start));
    memcpy(fk.keys[i][1], end, strlen(end));
    r->region.id = id;
    r->region.start_key = fk.keys[i][0];
    r->region.start_len = strlen(start);
    r->region.end_key = fk.keys[i][1];
    r->region.end_len = strlen(end);
    r->region.conf_ver = 1;
    r->region.version = ver;
    r->region.n_peers = 1;
    r->region.peers[0] = (struct pd_peer){id * 10, 1, false};
    if (i + 1 > fk.n_map)
        fk.n_map = i + 1;
    pthread_mutex_unlock(&fk.lock);
}

/* The safe points, as pdd keeps them (libpd/src/gc.c) for one service. */
static void get_gc(struct rpc_call *call, const void *req, void *ud)
{
    (void)ud;
    pthread_mutex_lock(&fk.lock);
    fk.gc_cluster_id = ((const pd_GetGCSafePointRequest *)req)->cluster_id;
    pd_GetGCSafePointResponse out = {.safe_point = fk.gc_sp};
    pthread_mutex_unlock(&fk.lock);
    rpc_call_reply(call, &out);
}

static void update_gc(struct rpc_call *call, const void *req, void *ud)
{
    (void)ud;
    const pd_UpdateGCSafePointRequest *in = req;
    pthread_mutex_lock(&fk.lock);
    fk.gc_cluster_id = in->cluster_id;
    uint64_t sp = in->safe_point < fk.svc_sp ? in->safe_point : fk.svc_sp;
    if (sp > fk.gc_sp)
        fk.gc_sp = sp;
    pd_UpdateGCSafePointResponse out = {.new_safe_point = fk.gc_sp};
    pthread_mutex_unlock(&fk.lock);
    rpc_call_reply(call, &out);
}

static void update_service(struct rpc_call *call, const void *req, void *ud)
{
    (void)ud;
    const pd_UpdateServiceSafePointRequest *in = req;
    pthread_mutex_lock(&fk.lock);
    fk.gc_cluster_id = in->cluster_id;
    snprintf(fk.svc_id, sizeof(fk.svc_id), "%s",
             in->service_id ? in->service_id : "");
    fk.svc_ttl = in->ttl_ms;
    if (in->safe_point < fk.gc_sp) {
        pthread_mutex_unlock(&fk.lock);
        rpc_call_fail(call, PD_ESAFEPOINT, "below the gc safe point");
        return;
    }
    fk.svc_sp = in->safe_point;
    pd_UpdateServiceSafePointResponse out = {.min_safe_point = fk.svc_sp};
    pthread_mutex_unlock(&fk.lock);
    rpc_call_reply(call, &out);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    pthread_mutex_lock(&fk.lock);
    if (fk.stop) {
        pthread_mutex_unlock(&fk.lock);
        event_base_loopbreak(fk.base);
        return;
    }
    if (fk.kill) {
        rpc_server_destroy(fk.srv[fk.kill - 1]);
        fk.srv[fk.kill - 1] = NULL;
        fk.kill = 0;
    }
    struct pd_client_stats st = {0};
    if (fk.held && fk.watch)
        pd_client_stats(fk.watch, &st);
    if (fk.held && st.tso_requests >= fk.release_at) {
        pd_TsoResponse out = {.first = fk.next_ts, .count = fk.held_count};
        fk.next_ts += fk.held_count;
        struct rpc_call *c = fk.held;
        fk.held = NULL;
        pthread_mutex_unlock(&fk.lock);
        rpc_call_reply(c, &out);
        return;
    }
    pthread_mutex_unlock(&fk.lock);
}

static void *serve(void *arg)
{
    (void)arg;
    event_base_loop(fk.base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int setup_fake(bool streams)
{
    memset(&fk, 0, sizeof(fk));
    fk.streams = streams;
    pthread_mutex_init(&fk.lock, NULL);
    fk.base = event_base_new();
    assert_non_null(fk.base);
    for (int i = 0; i < N; i++) {
        struct rpc_server_options so = {.host = "127.0.0.1", .port = 0};
        char err[256];
        assert_int_equal(rpc_server_create(fk.base, &so, &fk.srv[i], err,
                                           sizeof(err)), 0);
        snprintf(fk.addr[i], sizeof(fk.addr[i]), "127.0.0.1:%u",
                 (unsigned)rpc_server_port(fk.srv[i]));
        struct rpc_method gm = {
            .id = PD_METHOD_GET_MEMBERS, .name = "GetMembers",
            .req_fields = pd_GetMembersRequest_fields,
            .req_size = sizeof(pd_GetMembersRequest),
            .resp_fields = pd_GetMembersResponse_fields,
            .handler = get_members, .ud = (void *)(uintptr_t)(i + 1)};
        struct rpc_method ts = {
            .id = PD_METHOD_TSO, .name = "Tso",
            .req_fields = pd_TsoRequest_fields,
            .req_size = sizeof(pd_TsoRequest),
            .resp_fields = pd_TsoResponse_fields,
            .handler = tso, .ud = (void *)(uintptr_t)(i + 1)};
        assert_int_equal(rpc_server_register(fk.srv[i], &gm), 0);
        assert_int_equal(rpc_server_register(fk.srv[i], &ts), 0);
        struct rpc_method gr = {
            .id = PD_METHOD_GET_REGION, .name = "GetRegion",
            .req_fields = pd_GetRegionRequest_fields,
            .req_size = sizeof(pd_GetRegionRequest),
            .resp_fields = pd_GetRegionResponse_fields,
            .handler = get_region};
        struct rpc_method gi = {
            .id = PD_METHOD_GET_REGION_BY_ID, .name = "GetRegionByID",
            .req_fields = pd_GetRegionByIDRequest_fields,
            .req_size = sizeof(pd_GetRegionByIDRequest),
            .resp_fields = pd_GetRegionResponse_fields,
            .handler = get_region_by_id};
        assert_int_equal(rpc_server_register(fk.srv[i], &gr), 0);
        struct rpc_method gs = {
            .id = PD_METHOD_GET_STORE, .name = "GetStore",
            .req_fields = pd_GetStoreRequest_fields,
            .req_size = sizeof(pd_GetStoreRequest),
            .resp_fields = pd_GetStoreResponse_fields,
            .handler = get_store};
        assert_int_equal(rpc_server_register(fk.srv[i], &gs), 0);
        struct rpc_method sr = {
            .id = PD_METHOD_SCAN_REGIONS, .name = "ScanRegions",
            .req_fields = pd_ScanRegionsRequest_fields,
            .req_size = sizeof(pd_ScanRegionsRequest),
            .resp_fields = pd_ScanRegionsResponse_fields,
            .handler = scan_regions};
        assert_int_equal(rpc_server_register(fk.srv[i], &sr), 0);
        assert_int_equal(rpc_server_register(fk.srv[i], &gi), 0);
        struct rpc_method gc[] = {
            {.id = PD_METHOD_GET_GC_SAFE_POINT, .name = "GetGCSafePoint",
             .req_fields = pd_GetGCSafePointRequest_fields,
             .req_size = sizeof(pd_GetGCSafePointRequest),
             .resp_fields = pd_GetGCSafePointResponse_fields,
             .handler = get_gc},
            {.id = PD_METHOD_UPDATE_GC_SAFE_POINT,
             .name = "UpdateGCSafePoint",
             .req_fields = pd_UpdateGCSafePointRequest_fields,
             .req_size = sizeof(pd_UpdateGCSafePointRequest),
             .resp_fields = pd_UpdateGCSafePointResponse_fields,
             .handler = update_gc},
            {.id = PD_METHOD_UPDATE_SERVICE_SAFE_POINT,
             .name = "UpdateServiceSafePoint",
             .req_fields = pd_UpdateServiceSafePointRequest_fields,
             .req_size = sizeof(pd_UpdateServiceSafePointRequest),
             .resp_fields = pd_UpdateServiceSafePointResponse_fields,
             .handler = update_service}};
        for (size_t g = 0; g < sizeof(gc) / sizeof(gc[0]); g++)
            assert_int_equal(rpc_server_register(fk.srv[i], &gc[g]), 0);
        struct rpc_method rh = {
            .id = PD_METHOD_REGION_HEARTBEAT,
            .name = "RegionHeartbeat",
            .req_fields = pd_RegionHeartbeatRequest_fields,
            .req_size = sizeof(pd_RegionHeartbeatRequest),
            .resp_fields = pd_RegionHeartbeatResponse_fields,
            .handler = hb_unary};
        assert_int_equal(rpc_server_register(fk.srv[i], &rh), 0);
        if (!fk.streams)
            continue;
        struct rpc_method tst = ts;
        tst.id = PD_METHOD_TSO_STREAM;
        tst.handler = tso_stream;
        assert_int_equal(
            rpc_server_register_bidi(fk.srv[i], &tst, tso_stream_recv), 0);
        struct rpc_method hb = {
            .id = PD_METHOD_REGION_HEARTBEAT_STREAM, .name = "HbStream",
            .req_fields = pd_RegionHeartbeatRequest_fields,
            .req_size = sizeof(pd_RegionHeartbeatRequest),
            .resp_fields = pd_RegionHeartbeatResponse_fields,
            .handler = hb_stream};
        assert_int_equal(
            rpc_server_register_bidi(fk.srv[i], &hb, hb_stream_recv), 0);
    }
    fk.leader = 3;
    fk.next_ts = 1000;
    fk.svc_sp = UINT64_MAX;
    fk.poll = event_new(fk.base, -1, EV_PERSIST, on_poll, NULL);
    struct timeval tv = {0, 1000};
    assert_int_equal(event_add(fk.poll, &tv), 0);
    assert_int_equal(pthread_create(&fk.thread, NULL, serve, NULL), 0);
    return 0;
}

/* Members as a pdd before the streams: unary calls only. */
static int setup(void **state)
{
    (void)state;
    return setup_fake(false);
}

static int setup_streams(void **state)
{
    (void)state;
    return setup_fake(true);
}

static int teardown(void **state)
{
    (void)state;
    pthread_mutex_lock(&fk.lock);
    fk.stop = true;
    pthread_mutex_unlock(&fk.lock);
    pthread_join(fk.thread, NULL);
    for (int i = 0; i < N; i++)
        rpc_server_destroy(fk.srv[i]);
    event_free(fk.poll);
    event_base_free(fk.base);
    pthread_mutex_destroy(&fk.lock);
    return 0;
}

static void set_leader(uint64_t id)
{
    pthread_mutex_lock(&fk.lock);
    fk.leader = id;
    pthread_mutex_unlock(&fk.lock);
}

static struct pd_client *client(int first_member, int timeout_ms)
{
    const char *eps[] = {fk.addr[first_member - 1]};
    struct pd_client_options co = {.endpoints = eps, .n_endpoints = 1,
                                   .timeout_ms = timeout_ms,
                                   .call_timeout_ms = 1000,
                                   .no_streams = !fk.streams};
    struct pd_client *c = NULL;
    char err[256];
    assert_int_equal(pd_client_create(&co, &c, err, sizeof(err)), 0);
    return c;
}

static void discovery_then_redirect(void **state)
{
    (void)state;
    /* Asked through member 1, GetMembers names 3: no redirect needed. */
    struct pd_client *c = client(1, 10000);
    assert_int_equal(pd_client_cluster_id(c), 42);
    pd_ts first = 0;
    char err[256];
    assert_int_equal(pd_client_tso(c, 5, &first, err, sizeof(err)), 0);
    assert_int_equal(first, 1000);
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.redirects, 0);
    char leader[64];
    pd_client_leader(c, leader, sizeof(leader));
    assert_string_equal(leader, fk.addr[2]);
    /* Leadership moves to 2: member 3 redirects, the client follows. */
    set_leader(2);
    assert_int_equal(pd_client_tso(c, 1, &first, err, sizeof(err)), 0);
    assert_int_equal(first, 1005);
    pd_client_stats(c, &st);
    assert_int_equal(st.redirects, 1);
    pd_client_leader(c, leader, sizeof(leader));
    assert_string_equal(leader, fk.addr[1]);
    pd_client_destroy(c);
}

/* Member `gone` is taken down by the servers' loop and `leader` leads
 * from then on; returns once the member is gone. */
static void take_down(int gone, uint64_t leader)
{
    pthread_mutex_lock(&fk.lock);
    fk.leader = leader;
    fk.kill = gone;
    pthread_mutex_unlock(&fk.lock);
    for (;;) {
        pthread_mutex_lock(&fk.lock);
        bool done = fk.srv[gone - 1] == NULL;
        pthread_mutex_unlock(&fk.lock);
        if (done)
            break;
        usleep(1000);
    }
}

/* The client's next timestamp is the fake's second one, from member
 * `leader`, which the client now names as its leader. */
static void tso_from(struct pd_client *c, int leader)
{
    pd_ts first = 0;
    char err[256];
    assert_int_equal(pd_client_tso(c, 1, &first, err, sizeof(err)), 0);
    assert_int_equal(first, 1001);
    char addr[64];
    pd_client_leader(c, addr, sizeof(addr));
    assert_string_equal(addr, fk.addr[leader - 1]);
}

static void failover_to_a_live_member(void **state)
{
    (void)state;
    struct pd_client *c = client(2, 10000);
    pd_ts first = 0;
    char err[256];
    assert_int_equal(pd_client_tso(c, 1, &first, err, sizeof(err)), 0);
    /* Member 3 goes away; 1 leads now. The client finds it. */
    take_down(3, 1);
    tso_from(c, 1);
    pd_client_destroy(c);
}

/* The group changes under a client (pdd membership): member 3 joins and
 * leads, member 1 (the only address the client was given) leaves. The
 * client reaches the new leader, learns the new member list on its own
 * and drops the member that left. */
static void follows_membership_changes(void **state)
{
    (void)state;
    pthread_mutex_lock(&fk.lock);
    fk.listed = 0x3;
    fk.leader = 1;
    pthread_mutex_unlock(&fk.lock);
    struct pd_client *c = client(1, 10000);
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.members, 2);
    pd_ts first = 0;
    char err[256];
    assert_int_equal(pd_client_tso(c, 1, &first, err, sizeof(err)), 0);
    pthread_mutex_lock(&fk.lock);
    fk.listed = 0x6;
    pthread_mutex_unlock(&fk.lock);
    take_down(1, 3);
    tso_from(c, 3);
    /* The refresh may still be out when the Tso call returns: wait for
     * it (bounded by the client's own timeout, not a speed). */
    for (int i = 0; i < 10000; i++) {
        pd_client_stats(c, &st);
        if (st.member_refreshes >= 1 && st.members == 2)
            break;
        usleep(1000);
    }
    assert_true(st.member_refreshes >= 1);
    assert_int_equal(st.members, 2);
    pd_client_destroy(c);
}

static void gives_up_at_the_deadline(void **state)
{
    (void)state;
    struct pd_client *c = client(1, 10000);
    pd_client_destroy(c);
    set_leader(0);
    const char *eps[] = {fk.addr[0], fk.addr[1]};
    struct pd_client_options co = {.endpoints = eps, .n_endpoints = 2,
                                   .timeout_ms = 300, .no_discovery = true};
    char err[256];
    assert_int_equal(pd_client_create(&co, &c, err, sizeof(err)), 0);
    pd_ts first = 0;
    assert_int_equal(pd_client_tso(c, 1, &first, err, sizeof(err)),
                     PD_ENOTLEADER);
    assert_non_null(strstr(err, "gave up after retries"));
    assert_non_null(strstr(err, "no leader known"));
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_true(st.retries >= 1);
    pd_client_destroy(c);
}

/* Run twice: unary calls (setup) and over the Tso stream (setup_streams),
 * where the failure also ends the stream. */
static void errors_pass_through_at_once(void **state)
{
    (void)state;
    struct pd_client *c = client(3, 10000);
    pthread_mutex_lock(&fk.lock);
    fk.fail_code = PD_ECLUSTER;
    pthread_mutex_unlock(&fk.lock);
    pd_ts first = 0;
    char err[256];
    assert_int_equal(pd_client_tso(c, 1, &first, err, sizeof(err)),
                     PD_ECLUSTER);
    assert_string_equal(err, "cluster id 7 does not match");
    /* On a stream the failure ended it: the next call opens another. */
    pthread_mutex_lock(&fk.lock);
    fk.fail_code = 0;
    pthread_mutex_unlock(&fk.lock);
    assert_int_equal(pd_client_tso(c, 1, &first, err, sizeof(err)), 0);
    assert_int_equal(first, 1000);
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.streams_opened, fk.streams ? 2 : 0);
    pd_client_destroy(c);
}

struct worker
{
    struct pd_client *c; /* shared client */
    pd_ts got;           /* its timestamp */
    int rc;              /* its result */
};

static void *one_tso(void *arg)
{
    struct worker *w = arg;
    char err[256];
    w->rc = pd_client_tso(w->c, 2, &w->got, err, sizeof(err));
    return NULL;
}

static void concurrent_requests_share_one_call(void **state)
{
    (void)state;
    struct pd_client *c = client(3, 10000);
    /* The first call is held until 9 requests are in: the 8 behind it
     * must then go out as exactly one call of 16 timestamps. */
    pthread_mutex_lock(&fk.lock);
    fk.hold_first = true;
    fk.watch = c;
    fk.release_at = 9;
    size_t calls_before = fk.n_tso;
    pthread_mutex_unlock(&fk.lock);
    struct worker w[9];
    pthread_t th[9];
    for (int i = 0; i < 9; i++) {
        w[i].c = c;
        w[i].rc = -1;
        assert_int_equal(pthread_create(&th[i], NULL, one_tso, &w[i]), 0);
        if (i == 0) {
            /* Let the first reach the server before the others start. */
            for (;;) {
                pthread_mutex_lock(&fk.lock);
                bool held = fk.held != NULL;
                pthread_mutex_unlock(&fk.lock);
                if (held)
                    break;
                usleep(1000);
            }
        }
    }
    for (int i = 0; i < 9; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].rc, 0);
    }
    pthread_mutex_lock(&fk.lock);
    assert_int_equal(fk.n_tso - calls_before, 2);
    assert_int_equal(fk.tso_counts[calls_before], 2);
    assert_int_equal(fk.tso_counts[calls_before + 1], 16);
    uint64_t base = fk.next_ts - 18;
    fk.watch = NULL;
    pthread_mutex_unlock(&fk.lock);
    /* Every worker got its own two timestamps: 18 distinct, contiguous. */
    bool seen[9] = {0};
    for (int i = 0; i < 9; i++) {
        uint64_t k = w[i].got - base;
        assert_true(k % 2 == 0 && k < 18);
        assert_false(seen[k / 2]);
        seen[k / 2] = true;
    }
    assert_int_equal(w[0].got, base);
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.tso_requests, 9);
    assert_int_equal(st.tso_calls, 2);
    pd_client_destroy(c);
}

static uint64_t lookup(struct pd_client *c, const char *key)
{
    static struct pd_client_region r; /* 8 KiB: not on the stack */
    char err[256];
    assert_int_equal(pd_client_region_by_key(c, (const uint8_t *)key,
                                             strlen(key), &r, err,
                                             sizeof(err)),
                     0);
    assert_true(r.info.region.start_key == r.start);
    return r.info.region.id * 100 + r.info.region.version;
}

static void region_cache(void **state)
{
    (void)state;
    fake_region(0, 1, "", "m", 1);
    fake_region(1, 2, "m", "", 1);
    struct pd_client *c = client(3, 10000);
    assert_int_equal(lookup(c, "a"), 101);
    assert_int_equal(lookup(c, "b"), 101); /* hit */
    assert_int_equal(lookup(c, "z"), 201);
    static struct pd_client_region r;
    char err[256];
    assert_int_equal(pd_client_region_by_id(c, 1, &r, err, sizeof(err)), 0);
    assert_int_equal(r.info.region.end_len, 1);
    assert_int_equal(r.end[0], 'm');
    assert_int_equal(fk.n_lookups, 2);
    /* Region 2 splits at "t"; the cache serves its old view until the
     * caller invalidates it. */
    fake_region(1, 2, "m", "t", 2);
    fake_region(2, 3, "t", "", 2);
    assert_int_equal(lookup(c, "z"), 201);
    pd_client_region_invalidate(c, 2);
    assert_int_equal(lookup(c, "z"), 302);
    assert_int_equal(lookup(c, "n"), 202);
    assert_int_equal(fk.n_lookups, 4);
    /* Everything merges into 1: its new view replaces those it covers. */
    pthread_mutex_lock(&fk.lock);
    fk.n_map = 0;
    pthread_mutex_unlock(&fk.lock);
    fake_region(0, 1, "", "", 3);
    pd_client_region_invalidate(c, 1);
    assert_int_equal(lookup(c, "a"), 103);
    assert_int_equal(lookup(c, "z"), 103); /* 3 was dropped: a hit on 1 */
    assert_int_equal(lookup(c, "n"), 103);
    assert_int_equal(fk.n_lookups, 5);
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.region_misses, 5);
    assert_int_equal(st.region_hits, 5);
    /* Unknown region: the error passes through, nothing is cached. */
    assert_int_equal(pd_client_region_by_id(c, 99, &r, err, sizeof(err)),
                     PD_ENOTFOUND);
    assert_string_equal(err, "no region");
    pd_client_destroy(c);
}

static void scan_warms_the_cache(void **state)
{
    (void)state;
    fake_region(0, 1, "", "g", 1);
    fake_region(1, 2, "g", "p", 1);
    fake_region(2, 3, "p", "", 1);
    struct pd_client *c = client(3, 10000);
    static struct pd_client_region out[4];
    size_t n = 0;
    char err[256];
    assert_int_equal(pd_client_scan_regions(c, NULL, 0, NULL, 0, 4, out, &n,
                                            err, sizeof(err)),
                     0);
    assert_int_equal(n, 3);
    assert_int_equal(out[1].info.region.id, 2);
    assert_true(out[1].info.region.start_key == out[1].start);
    assert_int_equal(out[1].start[0], 'g');
    assert_int_equal(fk.n_lookups, 1);
    /* Every key now hits the cache. */
    assert_int_equal(lookup(c, "a"), 101);
    assert_int_equal(lookup(c, "h"), 201);
    assert_int_equal(lookup(c, "zz"), 301);
    assert_int_equal(fk.n_lookups, 1);
    assert_int_equal(pd_client_scan_regions(c, NULL, 0, NULL, 0, 0, out, &n,
                                            err, sizeof(err)),
                     -EINVAL);
    pd_client_destroy(c);
}

static void store_cache(void **state)
{
    (void)state;
    struct pd_client *c = client(3, 10000);
    struct pd_client_store st;
    char err[256];
    for (int k = 0; k < 3; k++) {
        assert_int_equal(pd_client_get_store(c, 7, &st, err, sizeof(err)), 0);
        assert_string_equal(st.address, "10.0.0.7:20160");
        assert_int_equal(st.state, PD_STORE_OFFLINE);
    }
    assert_int_equal(fk.n_lookups, 1);
    pd_client_store_invalidate(c, 7);
    assert_int_equal(pd_client_get_store(c, 7, &st, err, sizeof(err)), 0);
    assert_int_equal(fk.n_lookups, 2);
    assert_int_equal(pd_client_get_store(c, 8, &st, err, sizeof(err)),
                     PD_ENOTFOUND);
    assert_string_equal(err, "store: no such store");
    struct pd_client_stats s;
    pd_client_stats(c, &s);
    assert_int_equal(s.store_hits, 2);
    assert_int_equal(s.store_misses, 2);
    pd_client_destroy(c);
}

/* The typed safe point calls send the cluster id, the service's id and
 * TTL, and give back what pdd answered, its refusals included. */
static void safe_points(void **state)
{
    (void)state;
    struct pd_client *c = client(3, 10000);
    char err[256];
    uint64_t v = 1;
    assert_int_equal(pd_client_gc_safe_point(c, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 0);
    assert_int_equal(fk.gc_cluster_id, 42);
    assert_int_equal(pd_client_update_service_safe_point(
                         c, "sqld-127.0.0.1:4000", 30000, 500, &v, err,
                         sizeof(err)),
                     0);
    assert_int_equal(v, 500);
    assert_string_equal(fk.svc_id, "sqld-127.0.0.1:4000");
    assert_int_equal(fk.svc_ttl, 30000);
    /* held back to the service's 500 */
    assert_int_equal(pd_client_update_gc_safe_point(c, 800, &v, err,
                                                    sizeof(err)),
                     0);
    assert_int_equal(v, 500);
    assert_int_equal(pd_client_gc_safe_point(c, &v, err, sizeof(err)), 0);
    assert_int_equal(v, 500);
    assert_int_equal(pd_client_update_service_safe_point(
                         c, "sqld-127.0.0.1:4000", 30000, 400, &v, err,
                         sizeof(err)),
                     PD_ESAFEPOINT);
    assert_string_equal(err, "below the gc safe point");
    assert_int_equal(pd_client_update_gc_safe_point(NULL, 1, &v, err,
                                                    sizeof(err)),
                     -EINVAL);
    assert_int_equal(pd_client_update_service_safe_point(c, NULL, 1, 1, &v,
                                                         err, sizeof(err)),
                     -EINVAL);
    pd_client_destroy(c);
}

static void malformed_request_is_not_retried(void **state)
{
    (void)state;
    struct pd_client *c = client(3, 10000);
    /* A GetRegion request sent as Tso: field 2 arrives as bytes where Tso
     * has a varint, so the server cannot decode it. */
    PB_BYTES_ARRAY_T(3) key = {3, {'a', 'b', 'c'}};
    pd_GetRegionRequest req = {.cluster_id = 42,
                               .key = (pb_bytes_array_t *)(void *)&key};
    pd_TsoResponse resp;
    char err[256];
    int rc = pd_client_call(c, PD_METHOD_TSO, pd_GetRegionRequest_fields,
                            &req, pd_TsoResponse_fields, &resp, sizeof(resp),
                            err, sizeof(err));
    assert_int_equal(rc, RPC_EDECODE);
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.retries, 0);
    /* The connection is gone, the client is not: the next call works. */
    pd_ts first;
    assert_int_equal(pd_client_tso(c, 1, &first, err, sizeof(err)), 0);
    pd_client_destroy(c);
}

/* ---- streams (DESIGN.md "Client": Tso and RegionHeartbeat streams) ---- */

/* Tso over one stream per leader: reused call after call, moved to the new
 * leader on a redirect (the old one failed it with PD_ENOTLEADER). */
static void stream_tso_follows_the_leader(void **state)
{
    (void)state;
    struct pd_client *c = client(1, 10000);
    pd_ts first = 0;
    char err[256];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pd_client_tso(c, 5, &first, err, sizeof(err)), 0);
        assert_int_equal(first, 1000 + 5 * (uint64_t)i);
    }
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.streams_opened, 1);
    assert_int_equal(st.stream_msgs, 3);
    assert_int_equal(st.tso_calls, 3);
    set_leader(2);
    assert_int_equal(pd_client_tso(c, 1, &first, err, sizeof(err)), 0);
    assert_int_equal(first, 1015);
    pd_client_stats(c, &st);
    assert_int_equal(st.redirects, 1);
    assert_int_equal(st.streams_opened, 2);
    char leader[64];
    pd_client_leader(c, leader, sizeof(leader));
    assert_string_equal(leader, fk.addr[1]);
    pd_client_destroy(c);
}

/* The leader's process dies with the stream open: the client finds the
 * next leader and opens a stream there. */
static void stream_tso_failover(void **state)
{
    (void)state;
    struct pd_client *c = client(2, 10000);
    pd_ts first = 0;
    char err[256];
    assert_int_equal(pd_client_tso(c, 1, &first, err, sizeof(err)), 0);
    take_down(3, 1);
    tso_from(c, 1);
    /* A stream on 3, then one on 1 at least (whether the client went
     * there by a redirect from 2 or by the GetMembers it started when 3
     * was lost depends on which answered first). */
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_true(st.streams_opened >= 2);
    pd_client_destroy(c);
}

/* A pdd without the stream methods: the client notices (unknown method)
 * and goes on with unary calls. */
static void stream_falls_back_to_unary(void **state)
{
    (void)state;
    const char *eps[] = {fk.addr[2]};
    struct pd_client_options co = {.endpoints = eps, .n_endpoints = 1,
                                   .call_timeout_ms = 1000};
    struct pd_client *c = NULL;
    char err[256];
    assert_int_equal(pd_client_create(&co, &c, err, sizeof(err)), 0);
    pd_ts first = 0;
    assert_int_equal(pd_client_tso(c, 2, &first, err, sizeof(err)), 0);
    assert_int_equal(first, 1000);
    assert_int_equal(pd_client_tso(c, 2, &first, err, sizeof(err)), 0);
    assert_int_equal(first, 1002);
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.streams_opened, 1); /* tried once, never again */
    assert_int_equal(fk.n_tso, 2);
    pd_client_destroy(c);
}

/* A leader that leaves a stream's request unanswered: after the attempt's
 * deadline (call_timeout_ms) the client drops the stream and retries on a
 * new one, where the answer comes. */
static void stream_request_deadline(void **state)
{
    (void)state;
    struct pd_client *c = client(3, 30000);
    pthread_mutex_lock(&fk.lock);
    fk.mute = true;
    pthread_mutex_unlock(&fk.lock);
    struct worker w = {.c = c, .rc = -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, one_tso, &w), 0);
    struct pd_client_stats st;
    for (int i = 0; i < 30000; i++) { /* the retry, however slow */
        pd_client_stats(c, &st);
        if (st.retries >= 1)
            break;
        usleep(1000);
    }
    assert_true(st.retries >= 1);
    pthread_mutex_lock(&fk.lock);
    fk.mute = false;
    pthread_mutex_unlock(&fk.lock);
    pthread_join(th, NULL);
    assert_int_equal(w.rc, 0);
    assert_int_equal(w.got, 1000);
    pd_client_stats(c, &st);
    assert_true(st.streams_opened >= 2);
    pd_client_destroy(c);
}

/* One logical caller of pd_client_tso_async: each answer starts its next
 * request until it has `want`. Callbacks run on the client's loop. */
struct async_caller
{
    struct pd_client *c;  /* shared client */
    pd_ts got[20];        /* its timestamps, in order */
    int n;                /* answers so far */
    int want;             /* answers to collect */
    int rc;               /* first failure, 0 */
    int calls;            /* done callbacks (for the destroy case) */
};

static pthread_mutex_t async_mu = PTHREAD_MUTEX_INITIALIZER;

static void async_done(int rc, pd_ts first, const char *errmsg, void *ud)
{
    struct async_caller *a = ud;
    (void)errmsg;
    pthread_mutex_lock(&async_mu);
    a->calls++;
    if (rc != 0 && a->rc == 0)
        a->rc = rc;
    if (rc == 0 && a->n < 20)
        a->got[a->n++] = first;
    bool more = rc == 0 && a->n < a->want;
    pthread_mutex_unlock(&async_mu);
    if (more)
        assert_int_equal(pd_client_tso_async(a->c, 1, async_done, a), 0);
}

/* 64 callers without a thread each: all timestamps distinct, each
 * caller's increasing, batched onto the stream. */
static void stream_async_callers(void **state)
{
    (void)state;
    struct pd_client *c = client(3, 10000);
    static struct async_caller a[64];
    memset(a, 0, sizeof(a));
    for (int i = 0; i < 64; i++) {
        a[i].c = c;
        a[i].want = 20;
        assert_int_equal(pd_client_tso_async(c, 1, async_done, &a[i]), 0);
    }
    for (int spin = 0;; spin++) { /* bounded by the client's timeouts */
        int done = 0;
        pthread_mutex_lock(&async_mu);
        for (int i = 0; i < 64; i++)
            done += a[i].n == 20 || a[i].rc != 0;
        pthread_mutex_unlock(&async_mu);
        if (done == 64)
            break;
        assert_true(spin < 600000);
        usleep(100);
    }
    static bool seen[1280];
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < 64; i++) {
        assert_int_equal(a[i].rc, 0);
        for (int k = 0; k < 20; k++) {
            uint64_t off = a[i].got[k] - 1000;
            assert_true(off < 1280);
            assert_false(seen[off]);
            seen[off] = true;
            if (k > 0)
                assert_true(a[i].got[k] > a[i].got[k - 1]);
        }
    }
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.tso_requests, 1280);
    assert_true(st.stream_msgs < 1280); /* batched */
    assert_int_equal(pd_client_tso_async(c, 0, async_done, &a[0]), -EINVAL);
    assert_int_equal(pd_client_tso_async(c, 1, NULL, &a[0]), -EINVAL);
    /* Requests in flight when the client goes: each hears exactly once. */
    for (int i = 0; i < 8; i++) {
        a[i].calls = 0;
        a[i].n = 0;
        a[i].want = 1;
        a[i].rc = 0;
        assert_int_equal(pd_client_tso_async(c, 1, async_done, &a[i]), 0);
    }
    pd_client_destroy(c);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(a[i].calls, 1);
        assert_true(a[i].rc == 0 || a[i].rc == RPC_ECLOSED);
    }
}

struct tso_runner
{
    struct pd_client *c; /* shared client */
    pd_ts got[200];      /* its timestamps, in call order */
    int rc;              /* first failure, 0 */
};

static void *tso_many(void *arg)
{
    struct tso_runner *r = arg;
    char err[256];
    for (int i = 0; i < 200 && r->rc == 0; i++)
        r->rc = pd_client_tso(r->c, 1, &r->got[i], err, sizeof(err));
    return NULL;
}

/* Eight threads, 200 timestamps each, through the stream: every one
 * distinct, each thread's strictly increasing, fewer stream messages than
 * requests (batching). */
static void stream_concurrent_callers(void **state)
{
    (void)state;
    struct pd_client *c = client(3, 10000);
    static struct tso_runner r[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        r[i].c = c;
        r[i].rc = 0;
        assert_int_equal(pthread_create(&th[i], NULL, tso_many, &r[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    static bool seen[1600];
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < 8; i++) {
        assert_int_equal(r[i].rc, 0);
        for (int k = 0; k < 200; k++) {
            uint64_t off = r[i].got[k] - 1000;
            assert_true(off < 1600);
            assert_false(seen[off]);
            seen[off] = true;
            if (k > 0)
                assert_true(r[i].got[k] > r[i].got[k - 1]);
        }
    }
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.tso_requests, 1600);
    assert_int_equal(st.streams_opened, 1);
    assert_true(st.stream_msgs <= 1600);
    assert_int_equal(st.stream_msgs, fk.n_tso);
    pd_client_destroy(c);
}

/* Region heartbeats over their stream: each gets its own region's step
 * back (answers in order), a stale one its code without ending the
 * stream. */
static void stream_region_heartbeats(void **state)
{
    (void)state;
    struct pd_client *c = client(3, 10000);
    char err[256];
    for (uint64_t id = 1; id <= 100; id++) {
        struct pd_region_info ri;
        memset(&ri, 0, sizeof(ri));
        ri.region.id = id;
        ri.region.conf_ver = 1;
        ri.region.version = 1;
        ri.region.n_peers = 1;
        ri.region.peers[0] = (struct pd_peer){id * 10, 1, false};
        ri.leader_peer_id = id * 10;
        struct pd_step step = {0};
        int rc = pd_client_region_heartbeat(c, &ri, &step, err, sizeof(err));
        if (id == 99) {
            assert_int_equal(rc, PD_ESTALE);
            assert_non_null(strstr(err, "region heartbeat 99"));
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(step.kind, PD_STEP_TRANSFER_LEADER);
        assert_int_equal(step.store_id, id);
    }
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.streams_opened, 1);
    assert_int_equal(st.stream_msgs, 100);
    assert_int_equal(fk.n_heartbeats, 100);
    pd_client_destroy(c);
}

static uint64_t hinted[200];
static size_t n_hinted;

static void on_hint(void *ud, uint64_t id)
{
    if (ud == hinted && n_hinted < 200) /* else the count is short */
        hinted[n_hinted++] = id;        /* the client's thread: read after */
}

/* A client with on_hint asks for hints in every heartbeat; a hint pushed
 * on the stream goes to on_hint and is not taken for the answer the
 * heartbeat waits for (each still gets its own step). A client without
 * on_hint does not ask. */
static void stream_hints(void **state)
{
    (void)state;
    const char *eps[] = {fk.addr[2]};
    struct pd_client_options co = {.endpoints = eps,
                                   .n_endpoints = 1,
                                   .call_timeout_ms = 1000,
                                   .on_hint = on_hint,
                                   .hint_ud = hinted};
    struct pd_client *c = NULL;
    char err[256];
    assert_int_equal(pd_client_create(&co, &c, err, sizeof(err)), 0);
    n_hinted = 0;
    struct pd_region_info ri[3];
    memset(ri, 0, sizeof(ri));
    for (int round = 0; round < 2; round++) {
        for (uint64_t id = 1; id <= 3; id++) {
            ri[id - 1].region.id = id;
            ri[id - 1].region.conf_ver = ri[id - 1].region.version = 1;
            ri[id - 1].region.n_peers = 1;
            ri[id - 1].region.peers[0] = (struct pd_peer){id * 10, 1, false};
        }
        struct pd_step steps[3];
        int rcs[3];
        assert_int_equal(
            pd_client_region_heartbeats(c, ri, 3, steps, rcs, err, sizeof(err)),
            0);
        for (uint64_t id = 1; id <= 3; id++) {
            assert_int_equal(rcs[id - 1], 0);
            assert_int_equal(steps[id - 1].kind, PD_STEP_TRANSFER_LEADER);
            assert_int_equal(steps[id - 1].store_id, id);
        }
    }
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.hints, 6);
    pd_client_destroy(c); /* its thread is gone: hinted is settled */
    assert_int_equal(n_hinted, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(hinted[i], 1001 + i % 3);
    assert_int_equal(fk.n_hint_reqs, 6);

    c = client(3, 10000); /* no on_hint: asks for none */
    struct pd_step step;
    assert_int_equal(
        pd_client_region_heartbeat(c, &ri[0], &step, err, sizeof(err)), 0);
    assert_int_equal(step.store_id, 1);
    pd_client_stats(c, &st);
    assert_int_equal(st.hints, 0);
    assert_int_equal(fk.n_heartbeats, 7);
    assert_int_equal(fk.n_hint_reqs, 6);
    pd_client_destroy(c);
}

/* An allocator that fails the countdown-th allocation from now (negative:
 * none) and counts what is live, for the client's error paths. */
static long hb_live, hb_countdown = -1;

static void *hb_malloc(void *ctx, size_t n)
{
    (void)ctx;
    if (__atomic_load_n(&hb_countdown, __ATOMIC_SEQ_CST) >= 0 &&
        __atomic_fetch_sub(&hb_countdown, 1, __ATOMIC_SEQ_CST) == 0)
        return NULL;
    void *p = malloc(n);
    if (p)
        __atomic_add_fetch(&hb_live, 1, __ATOMIC_SEQ_CST);
    return p;
}

static void *hb_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    void *q = realloc(p, n);
    if (q && !p)
        __atomic_add_fetch(&hb_live, 1, __ATOMIC_SEQ_CST);
    return q;
}

static void hb_free(void *ctx, void *p)
{
    (void)ctx;
    if (p)
        __atomic_sub_fetch(&hb_live, 1, __ATOMIC_SEQ_CST);
    free(p);
}

/* 300 regions' heartbeats in one call (unary calls, then the stream):
 * the fake answers none until all 300 arrived, so they were in flight
 * together; each region gets its own step, the stale one its code, and
 * the call's text names it. One at a time, the first would wait out its
 * attempt's deadline (1 s) and be sent again, and the counts would
 * differ. */
static void region_heartbeats_in_one_batch(void **state)
{
    (void)state;
    static const struct pd_heap heap = {NULL, hb_malloc, hb_realloc, hb_free};
    pd_heap_set(&heap); /* before the client: its allocations go here */
    struct pd_client *c = client(3, 10000);
    enum { n = 300 };
    static struct pd_region_info ri[n];
    struct pd_step steps[n];
    int rcs[n];
    for (size_t i = 0; i < n; i++) {
        uint64_t id = i + 1;
        memset(&ri[i], 0, sizeof(ri[i]));
        ri[i].region.id = id;
        ri[i].region.conf_ver = 1;
        ri[i].region.version = 1;
        ri[i].region.n_peers = 1;
        ri[i].region.peers[0] = (struct pd_peer){id * 10, 1, false};
        ri[i].leader_peer_id = id * 10;
    }
    pthread_mutex_lock(&fk.lock);
    fk.hb_hold = n;
    pthread_mutex_unlock(&fk.lock);
    char err[256] = "";
    assert_int_equal(
        pd_client_region_heartbeats(c, ri, n, steps, rcs, err, sizeof(err)), 0);
    for (size_t i = 0; i < n; i++) {
        if (i + 1 == 99) {
            assert_int_equal(rcs[i], PD_ESTALE);
            assert_int_equal(steps[i].kind, PD_STEP_NONE);
            continue;
        }
        assert_int_equal(rcs[i], 0);
        assert_int_equal(steps[i].kind, PD_STEP_TRANSFER_LEADER);
        assert_int_equal(steps[i].store_id, i + 1);
    }
    assert_non_null(strstr(err, "99"));
    pthread_mutex_lock(&fk.lock);
    assert_int_equal(fk.n_heartbeats, n);
    assert_int_equal(fk.n_held, 0);
    pthread_mutex_unlock(&fk.lock);
    struct pd_client_stats st;
    pd_client_stats(c, &st);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.streams_opened, fk.streams ? 1 : 0);
    assert_int_equal(st.stream_msgs, fk.streams ? n : 0);
    /* the single call is a batch of one */
    struct pd_step one;
    assert_int_equal(
        pd_client_region_heartbeat(c, &ri[98], &one, err, sizeof(err)),
        PD_ESTALE);
    assert_int_equal(
        pd_client_region_heartbeat(c, &ri[6], &one, err, sizeof(err)), 0);
    assert_int_equal(one.store_id, 7);
    /* bad arguments: nothing sent */
    assert_int_equal(
        pd_client_region_heartbeats(c, ri, 0, steps, rcs, err, sizeof(err)),
        -EINVAL);
    assert_int_equal(
        pd_client_region_heartbeats(c, ri, PD_CLIENT_MAX_HEARTBEATS + 1, steps,
                                    rcs, err, sizeof(err)),
        -EINVAL);
    assert_int_equal(
        pd_client_region_heartbeats(c, ri, 1, NULL, rcs, err, sizeof(err)),
        -EINVAL);
    assert_int_equal(
        pd_client_region_heartbeats(c, ri, 1, steps, NULL, err, sizeof(err)),
        -EINVAL);
    assert_int_equal(
        pd_client_region_heartbeats(NULL, ri, 1, steps, rcs, err, sizeof(err)),
        -EINVAL);
    /* out of memory at each allocation before anything is sent (the two
     * arrays, then an op per region): -ENOMEM, nothing sent, nothing
     * kept, rcs untouched */
    for (long k = 0; k < 2 + 3; k++) {
        rcs[0] = rcs[1] = rcs[2] = 12345;
        __atomic_store_n(&hb_countdown, k, __ATOMIC_SEQ_CST);
        long live = __atomic_load_n(&hb_live, __ATOMIC_SEQ_CST);
        assert_int_equal(
            pd_client_region_heartbeats(c, ri, 3, steps, rcs, err, sizeof(err)),
            -ENOMEM);
        assert_int_equal(__atomic_load_n(&hb_countdown, __ATOMIC_SEQ_CST),
                         -1); /* the k-th was the one failed */
        assert_int_equal(__atomic_load_n(&hb_live, __ATOMIC_SEQ_CST), live);
        assert_int_equal(rcs[0] + rcs[1] + rcs[2], 3 * 12345);
        assert_non_null(strstr(err, "memory"));
    }
    pthread_mutex_lock(&fk.lock);
    assert_int_equal(fk.n_heartbeats, n + 2);
    pthread_mutex_unlock(&fk.lock);
    pd_client_destroy(c);
    assert_int_equal(__atomic_load_n(&hb_live, __ATOMIC_SEQ_CST), 0);
    pd_heap_set(NULL);
}

static void bad_options(void **state)
{
    (void)state;
    struct pd_client *c = NULL;
    char err[256];
    struct pd_client_options co = {0};
    assert_int_equal(pd_client_create(&co, &c, err, sizeof(err)), -EINVAL);
    const char *eps[] = {"no-port"};
    co.endpoints = eps;
    co.n_endpoints = 1;
    assert_int_equal(pd_client_create(&co, &c, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "bad endpoint 'no-port' (want host:port)");
    assert_null(c);
    pd_ts first;
    assert_int_equal(pd_client_tso(NULL, 1, &first, err, sizeof(err)),
                     -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(discovery_then_redirect, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(failover_to_a_live_member, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(follows_membership_changes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(gives_up_at_the_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(errors_pass_through_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(concurrent_requests_share_one_call,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(stream_tso_follows_the_leader,
                                        setup_streams, teardown),
        cmocka_unit_test_setup_teardown(stream_tso_failover, setup_streams,
                                        teardown),
        cmocka_unit_test_setup_teardown(errors_pass_through_at_once,
                                        setup_streams, teardown),
        cmocka_unit_test_setup_teardown(stream_falls_back_to_unary, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_request_deadline, setup_streams,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_async_callers, setup_streams,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_concurrent_callers,
                                        setup_streams, teardown),
        cmocka_unit_test_setup_teardown(stream_region_heartbeats, setup_streams,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_hints, setup_streams, teardown),
        cmocka_unit_test_setup_teardown(region_heartbeats_in_one_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(region_heartbeats_in_one_batch,
                                        setup_streams, teardown),
        cmocka_unit_test_setup_teardown(region_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(store_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(safe_points, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_warms_the_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_request_is_not_retried, setup,
                                        teardown),
        cmocka_unit_test(bad_options),
    };
    return cmocka_run_group_tests_name("libpd/client", tests, NULL, NULL);
}

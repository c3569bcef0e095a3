/* forward.c: kv.Forward (libregion/DESIGN.md "Forwarding"). A client that
 * cannot reach a region's leader (the network between them is cut while
 * the stores still reach each other) sends its Txn request to a follower
 * it can reach, wrapped in a ForwardRequest naming the leader's store;
 * this store passes the request's bytes on to that store over its peer
 * connection and the reply's bytes back, without decoding either. When it
 * cannot reach that store either, it answers NotLeader with the leader
 * unknown, so the client looks for the leader again. All on the loop
 * thread: the peek takes the call, the peer's reply finishes it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kv.pb.h"
#include "kvd.h"
#include "log.h"

#define FWD_DEADLINE_MS 5000 /* when the caller set none */

/* One forwarded call, from the peek until the peer's reply. */
struct fwd {
    struct kvd *k;        /* the daemon */
    struct rpc_call *call; /* the caller's call, finished in done */
    uint64_t to;          /* the store it went to */
    uint64_t t0;          /* arrival, for the metrics */
};

/* Answers call with NotLeader (leader unknown) saying why: what the
 * client takes as "look for the leader again". */
static void answer_unreachable(struct kvd *k, struct rpc_call *call,
                               uint64_t to, uint64_t t0, const char *why)
{
    kv_TxnResponse resp;
    memset(&resp, 0, sizeof resp);
    char msg[256];
    snprintf(msg, sizeof msg, "store %llu cannot forward to store %llu: %s",
             (unsigned long long)k->store_id, (unsigned long long)to, why);
    resp.code = REGION_ENOT_LEADER;
    resp.has_region_error = true;
    resp.region_error.code = REGION_ENOT_LEADER;
    resp.region_error.leader = 0;
    resp.region_error.message = msg; /* borrowed: encoded in the reply */
    kvd_observe(k, REGION_METHOD_FORWARD, t0, REGION_ENOT_LEADER);
    rpc_call_reply(call, &resp);
    if (dmn_log_enabled(DMN_LOG_DEBUG))
        dmn_debug("forward: %s", msg);
}

static void done(int rc, const uint8_t *payload, size_t len,
                 const char *errmsg, void *ud)
{
    struct fwd *f = ud;
    if (rc == 0) {
        kvd_observe(f->k, REGION_METHOD_FORWARD, f->t0, 0);
        rpc_call_reply_encoded(f->call, payload, len);
    } else {
        answer_unreachable(f->k, f->call, f->to, f->t0,
                           errmsg && errmsg[0] ? errmsg : rpc_strerror(rc));
    }
    free(f);
}

static bool forward_peek(struct rpc_call *call, const uint8_t *payload,
                         size_t len, void *ud)
{
    struct kvd *k = ud;
    uint64_t t0 = kvd_now_us(), to = 0;
    uint32_t method = 0;
    const uint8_t *req = NULL;
    size_t req_len = 0;
    if (!region_forward_parse(payload, len, &to, &method, &req, &req_len) ||
        !region_forward_method_ok(method) || to == k->store_id) {
        kvd_observe(k, REGION_METHOD_FORWARD, t0, REGION_EINVAL);
        rpc_call_fail(call, REGION_EINVAL,
                      to == k->store_id && to != 0
                          ? "forward request names this store"
                          : "malformed forward request (store, a kv.Txn "
                            "method and its request expected)");
        return true;
    }
    if (region_store_peer_silent(k->store, to)) {
        answer_unreachable(k, call, to, t0, "not heard from lately");
        return true;
    }
    struct rpc_client *cli = kvd_peer_client(k, to);
    if (cli == NULL) { /* asked of pdd meanwhile: the client tries again */
        answer_unreachable(k, call, to, t0, "no address for it yet");
        return true;
    }
    struct fwd *f = calloc(1, sizeof *f);
    if (f == NULL) {
        answer_unreachable(k, call, to, t0, "out of memory");
        return true;
    }
    *f = (struct fwd){k, call, to, t0};
    /* Less than the caller has left, so that a NotLeader of ours reaches
     * it before its own deadline: a caller that times out takes this
     * store for unreachable. */
    uint32_t left = rpc_call_deadline_ms(call);
    int deadline = left ? (int)(left - left / 4) : FWD_DEADLINE_MS;
    struct rpc_call_spec cs = {.method = method,
                               .req_encoded = req,
                               .req_len = req_len,
                               .deadline_ms = deadline > 0 ? deadline : 1,
                               .done_raw = done,
                               .ud = f};
    int rc = rpc_client_call(cli, &cs, NULL);
    if (rc != 0) { /* done is never called */
        answer_unreachable(k, call, to, t0, rpc_strerror(rc));
        free(f);
    }
    return true;
}

/* The handler behind the peek: the peek takes every call, so this never
 * runs; registering needs one. */
static void forward_handler(struct rpc_call *call, const void *reqp,
                            void *ud)
{
    (void)reqp;
    (void)ud;
    rpc_call_fail(call, REGION_EINVAL, "malformed forward request");
}

int kvd_forward_register(struct kvd *k, struct rpc_server *srv)
{
    struct rpc_method m = {REGION_METHOD_FORWARD, "kv.Forward",
                           kv_ForwardRequest_fields,
                           sizeof(kv_ForwardRequest), kv_TxnResponse_fields,
                           forward_handler, k};
    int rc = rpc_server_register(srv, &m);
    if (rc == 0)
        rc = rpc_server_set_peek(srv, REGION_METHOD_FORWARD, forward_peek);
    return rc;
}

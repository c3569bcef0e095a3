/* kvd.c: kvbench's kvd target: each client thread has its own libevent
 * base and one librpc connection per store (opened when first used), and
 * sends kv.RawPut / kv.RawGet (linearizable: the read barrier runs) to the
 * leader, found with kv.Locate and followed on NotLeader as `kvd ctl`
 * does (libregion/DESIGN.md, "kvd"); with --conns a thread drives many
 * clients on its connection (kvd_run_many).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <pb.h>

#include "../kvd/codec.h"
#include "kv.pb.h"
#include "kvbench.h"
#include "region.h"
#include "rpc.h"
#include "rpc_echo.pb.h"

#define KVB_MAX_PEERS 16

struct kvb_peer {
    uint64_t id;             /* store id */
    char host[128];          /* address */
    uint16_t port;           /* port */
    struct rpc_client *cli;  /* connection, NULL until used */
};

/* The outcome of one call, copied out of the done callback. */
struct wait {
    bool done;               /* the callback ran */
    int rc;                  /* librpc code */
    char err[256];           /* librpc's or the server's message */
    bool region_error;       /* Raw: region_error set */
    int re_code;             /* its code */
    uint64_t leader;         /* NotLeader: the leader, or Locate's leader */
    int code;                /* Raw: code; Locate: code */
    bool not_found;          /* Get */
    size_t value_len;        /* Get: bytes of the value */
    bool has_region;         /* Locate: region present */
    kv_Context ctx;          /* Locate: the region's id and epoch */
};

struct kvb_conn {
    struct event_base *base;           /* this thread's loop */
    struct kvb_peer peers[KVB_MAX_PEERS]; /* every store */
    int n;                             /* how many */
    int cur;                           /* the one believed leader */
    bool located;                      /* ctx is valid */
    kv_Context ctx;                    /* the region of every key */
    int timeout_ms;                    /* give up a request after */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void raw_done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct wait *w = ud;
    const kv_RawResponse *r = resp;
    w->done = true;
    w->rc = rc;
    snprintf(w->err, sizeof w->err, "%s", errmsg);
    if (rc != 0)
        return;
    w->region_error = r->has_region_error;
    w->re_code = r->region_error.code;
    w->leader = r->region_error.leader;
    w->code = r->code;
    w->not_found = r->not_found;
    w->value_len = r->value.len;
    if (r->error != NULL)
        snprintf(w->err, sizeof w->err, "%s", r->error);
}

static void locate_done(int rc, const void *resp, const char *errmsg,
                        void *ud)
{
    struct wait *w = ud;
    const kv_LocateResponse *r = resp;
    w->done = true;
    w->rc = rc;
    snprintf(w->err, sizeof w->err, "%s", errmsg);
    if (rc != 0)
        return;
    w->code = r->code;
    w->has_region = r->has_region;
    w->leader = r->leader;
    w->ctx.region_id = r->region.id;
    w->ctx.conf_ver = r->region.conf_ver;
    w->ctx.version = r->region.version;
}

/* The current store's client, created when first used; 0 or the librpc
 * code. */
static int cur_client(struct kvb_conn *c, struct rpc_client **out)
{
    struct kvb_peer *p = &c->peers[c->cur];
    if (p->cli == NULL) {
        struct rpc_client_options co = {.host = p->host,
                                        .port = p->port,
                                        .connect_timeout_ms = 2000,
                                        .default_deadline_ms = c->timeout_ms};
        int rc = rpc_client_create(c->base, &co, &p->cli);
        if (rc != 0)
            return rc;
    }
    *out = p->cli;
    return 0;
}

/* One unary call to the current store, run to completion on this
 * thread's loop. 0 with w filled, or the librpc code. */
static int call(struct kvb_conn *c, uint32_t method,
                const pb_msgdesc_t *req_f, const void *req,
                const pb_msgdesc_t *resp_f, size_t resp_size, rpc_done_fn fn,
                struct wait *w)
{
    struct kvb_peer *p = &c->peers[c->cur];
    memset(w, 0, sizeof *w);
    int crc = cur_client(c, &p->cli);
    if (crc != 0) {
        snprintf(w->err, sizeof w->err, "%s", rpc_strerror(crc));
        return crc;
    }
    struct rpc_call_spec spec = {.method = method,
                                 .req_fields = req_f,
                                 .req = req,
                                 .resp_fields = resp_f,
                                 .resp_size = resp_size,
                                 .deadline_ms = c->timeout_ms,
                                 .done = fn,
                                 .ud = w};
    int rc = rpc_client_call(p->cli, &spec, NULL);
    if (rc != 0) {
        snprintf(w->err, sizeof w->err, "%s", rpc_strerror(rc));
        return rc;
    }
    while (!w->done)
        event_base_loop(c->base, EVLOOP_ONCE);
    return w->rc;
}

static int peer_index(const struct kvb_conn *c, uint64_t id)
{
    for (int i = 0; i < c->n; i++)
        if (c->peers[i].id == id)
            return i;
    return -1;
}

static int locate(struct kvb_conn *c, const uint8_t *k, size_t kl,
                  struct wait *w)
{
    uint8_t buf[sizeof(pb_bytes_array_t) + 1024];
    pb_bytes_array_t *key = (pb_bytes_array_t *)(void *)buf;
    if (kl > 1024)
        return -EINVAL;
    key->size = (pb_size_t)kl;
    memcpy(key->bytes, k, kl);
    kv_LocateRequest req;
    memset(&req, 0, sizeof req);
    req.key = key;
    int rc = call(c, REGION_METHOD_LOCATE, kv_LocateRequest_fields, &req,
                  kv_LocateResponse_fields, sizeof(kv_LocateResponse),
                  locate_done, w);
    if (rc != 0)
        return rc;
    if (w->code != 0 || !w->has_region) {
        snprintf(w->err, sizeof w->err, "store %llu holds no region",
                 (unsigned long long)c->peers[c->cur].id);
        return REGION_ENOT_FOUND;
    }
    c->ctx = w->ctx;
    c->located = true;
    int li = peer_index(c, w->leader);
    if (li >= 0)
        c->cur = li;
    return 0;
}

/* A Raw request routed to the leader with retries until the deadline. */
static int raw(struct kvb_conn *c, uint32_t method, const uint8_t *k,
               size_t kl, const uint8_t *v, size_t vl, struct wait *w,
               char *err, size_t errlen)
{
    double deadline = now_s() + c->timeout_ms / 1000.0;
    uint8_t buf[sizeof(pb_bytes_array_t) + 1024];
    pb_bytes_array_t *key = (pb_bytes_array_t *)(void *)buf;
    if (kl > 1024) {
        snprintf(err, errlen, "key too long");
        return -1;
    }
    key->size = (pb_size_t)kl;
    memcpy(key->bytes, k, kl);
    for (int attempt = 0;; attempt++) {
        int rc = 0;
        if (!c->located)
            rc = locate(c, k, kl, w);
        if (rc == 0) {
            kv_RawRequest req;
            memset(&req, 0, sizeof req);
            req.has_ctx = true;
            req.ctx = c->ctx;
            req.key = key;
            req.value.data = (uint8_t *)(uintptr_t)v;
            req.value.len = vl;
            rc = call(c, method, kv_RawRequest_fields, &req,
                      kv_RawResponse_fields, sizeof(kv_RawResponse),
                      raw_done, w);
        }
        if (rc == 0 && !w->region_error) {
            if (w->code != 0) {
                snprintf(err, errlen, "%s", w->err);
                return -1;
            }
            return 0;
        }
        if (rc == 0 && w->re_code == REGION_ENOT_LEADER &&
            peer_index(c, w->leader) >= 0) {
            c->cur = peer_index(c, w->leader);
        } else if (rc == 0 && w->re_code == REGION_ESERVER_BUSY) {
            /* same store again after the nap */
        } else {
            /* unreachable, no leader known, or the region changed */
            c->located = false;
            if (rc != 0 || w->re_code == REGION_ENOT_LEADER ||
                w->re_code == REGION_ENOT_FOUND)
                c->cur = (c->cur + 1) % c->n;
        }
        if (now_s() > deadline) {
            snprintf(err, errlen, "gave up after %d attempts: %s",
                     attempt + 1, w->err);
            return -1;
        }
        if (rc != 0 || (w->region_error && attempt > 0))
            nap_ms(attempt > 3 ? 100 : 10);
    }
}

static int kvd_open(const struct kvb_opts *o, int idx, struct kvb_conn **out,
                    char *err, size_t errlen)
{
    struct kvb_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->timeout_ms = o->timeout_ms;
    for (int i = 0; i < o->n_addrs && c->n < KVB_MAX_PEERS; i++) {
        struct kvb_peer *p = &c->peers[c->n];
        const char *a = o->addrs[i];
        const char *at = strchr(a, '@');
        const char *colon = strrchr(a, ':');
        if (at == NULL || colon == NULL || colon < at ||
            (size_t)(colon - at - 1) >= sizeof p->host) {
            snprintf(err, errlen, "bad peer %s (want id@host:port)", a);
            goto err_conn;
        }
        p->id = strtoull(a, NULL, 10);
        memcpy(p->host, at + 1, (size_t)(colon - at - 1));
        p->host[colon - at - 1] = '\0';
        long port = atol(colon + 1);
        if (p->id == 0 || port <= 0 || port > 65535) {
            snprintf(err, errlen, "bad peer %s", a);
            goto err_conn;
        }
        p->port = (uint16_t)port;
        c->n++;
    }
    if (c->n == 0) {
        snprintf(err, errlen, "no peers");
        goto err_conn;
    }
    c->cur = idx % c->n;
    c->base = event_base_new();
    if (c->base == NULL) {
        snprintf(err, errlen, "event_base_new failed");
        goto err_conn;
    }
    *out = c;
    return 0;
err_conn:
    free(c);
    return -1;
}

static int kvd_put(struct kvb_conn *c, const uint8_t *k, size_t kl,
                   const uint8_t *v, size_t vl, char *err, size_t errlen)
{
    struct wait w;
    return raw(c, REGION_METHOD_RAW_PUT, k, kl, v, vl, &w, err, errlen);
}

static int kvd_get(struct kvb_conn *c, const uint8_t *k, size_t kl,
                   size_t *vl_out, char *err, size_t errlen)
{
    struct wait w;
    if (raw(c, REGION_METHOD_RAW_GET, k, kl, NULL, 0, &w, err, errlen) != 0)
        return -1;
    if (w.not_found)
        return 1;
    *vl_out = w.value_len;
    return 0;
}

static void echo_done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct wait *w = ud;
    const rpc_EchoResponse *r = resp;
    w->done = true;
    w->rc = rc;
    snprintf(w->err, sizeof w->err, "%s", errmsg);
    if (rc == 0)
        w->value_len = r->payload ? r->payload->size : 0;
}

/* librpc's echo on the store gets go to (the leader): the same
 * connection, framing and loop as a get, without the store. */
static int kvd_echo(struct kvb_conn *c, const uint8_t *v, size_t vl,
                    char *err, size_t errlen)
{
    struct wait w;
    memset(&w, 0, sizeof w);
    if (!c->located && locate(c, (const uint8_t *)"", 0, &w) != 0) {
        snprintf(err, errlen, "locate: %s", w.err);
        return -1;
    }
    pb_bytes_array_t *p = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(vl));
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->size = (pb_size_t)vl;
    memcpy(p->bytes, v, vl);
    rpc_EchoRequest req;
    memset(&req, 0, sizeof req);
    req.payload = p;
    int rc = call(c, RPC_METHOD_ECHO, rpc_EchoRequest_fields, &req,
                  rpc_EchoResponse_fields, sizeof(rpc_EchoResponse), echo_done,
                  &w);
    free(p);
    if (rc != 0) {
        c->located = false;
        snprintf(err, errlen, "%s", w.err);
        return -1;
    }
    if (w.value_len != vl) {
        snprintf(err, errlen, "echo returned %zu bytes", w.value_len);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * --conns: m->n logical clients on this thread's connection, each with one
 * request in flight, all started from done callbacks so that librpc sends
 * the requests a read's replies started in one writev, and the leader
 * (reply batching on, see service.c) answers a Raft batch's in one. Gets
 * are written and read with kvd's own RawGet codec (as kvd's leader reads
 * and answers them), nanopb only for a reply of another shape (a region
 * error): the client shares the cores with the server it measures.
 */
struct slot {
    struct many_run *run;    /* owner */
    int i;                   /* logical client number */
    double t0;               /* its request's start (retries included) */
    int attempts;            /* sends of this request */
    struct event *retry_ev;  /* ServerIsBusy: send again after 1 ms */
    union {
        pb_bytes_array_t hdr;                     /* the key, as nanopb */
        uint8_t buf[sizeof(pb_bytes_array_t) + 1024]; /* its room */
    } key;                   /* the request's key */
    uint8_t req[1024 + 48];  /* a get's request bytes (kvd_raw_get_request) */
};

struct many_run {
    struct kvb_conn *c;      /* connection and leader */
    const struct kvb_many *m; /* the phase */
    struct slot *slots;      /* one per logical client */
    int active;              /* slots with a request in flight or due */
    pb_bytes_array_t *payload; /* echo's payload */
};

static void slot_send(struct slot *sl);

static void slot_finish(struct slot *sl, int rc, size_t vl, const char *err)
{
    struct many_run *run = sl->run;
    const struct kvb_many *m = run->m;
    double t = now_s();
    m->done(m->ud, sl->i, t - sl->t0, rc, vl, err);
    uint64_t k = t < m->deadline ? m->next_key(m->ud, sl->i) : KVB_NO_MORE;
    if (k != KVB_NO_MORE) {
        sl->t0 = t;
        sl->attempts = 0;
        kvb_key(k, sl->key.hdr.bytes, m->key_size);
        slot_send(sl);
    } else {
        run->active--;
    }
}

static void slot_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    slot_send(arg);
}

/* A Raw reply r to sl's request: finished, or sent again. */
static void many_raw_reply(struct slot *sl, const kv_RawResponse *r)
{
    struct kvb_conn *c = sl->run->c;
    if (r->has_region_error) {
        int li = peer_index(c, r->region_error.leader);
        int code = r->region_error.code;
        bool in_time = now_s() < sl->t0 + c->timeout_ms / 1000.0;
        if (code == REGION_ENOT_LEADER && li >= 0 && li != c->cur &&
            in_time) {
            /* the leader moved: every later request goes to it too */
            c->cur = li;
            slot_send(sl);
        } else if ((code == REGION_ENOT_LEADER ||
                    code == REGION_ESERVER_BUSY ||
                    code == REGION_ESTALE_COMMAND) && in_time) {
            /* an election under way (no leader named, or the named one
             * not leading yet), a full proposal queue, or a proposal a
             * new leader's entries replaced (a raw put is idempotent, so
             * sending it again is safe): again in 10 ms, a store without
             * a leader hint tried after the next */
            if (code == REGION_ENOT_LEADER && li < 0)
                c->cur = (c->cur + 1) % c->n;
            struct timeval tv = {0, 10000};
            evtimer_add(sl->retry_ev, &tv);
        } else {
            char e[300];
            snprintf(e, sizeof e, "region error %d: %s",
                     (int)r->region_error.code,
                     r->region_error.message ? r->region_error.message : "");
            slot_finish(sl, -1, 0, e);
        }
        return;
    }
    if (r->code != 0) {
        slot_finish(sl, -1, 0, r->error ? r->error : "error");
        return;
    }
    slot_finish(sl, r->not_found ? 1 : 0, r->value.len, "");
}

static void many_raw_done(int rc, const void *resp, const char *errmsg,
                          void *ud)
{
    if (rc != 0)
        slot_finish(ud, -1, 0, errmsg);
    else
        many_raw_reply(ud, resp);
}

/* A get's reply as bytes: a value or not_found read by kvd's codec,
 * anything else decoded by nanopb. */
static void many_get_done(int rc, const uint8_t *payload, size_t len,
                          const char *errmsg, void *ud)
{
    struct slot *sl = ud;
    if (rc != 0) {
        slot_finish(sl, -1, 0, errmsg);
        return;
    }
    const uint8_t *v;
    size_t vl;
    int found = kvd_raw_get_reply_parse(payload, len, &v, &vl);
    if (found >= 0) {
        slot_finish(sl, found ? 0 : 1, vl, "");
        return;
    }
    kv_RawResponse r;
    if (rpc_msg_decode(kv_RawResponse_fields, payload, len, &r) != 0) {
        slot_finish(sl, -1, 0, "a RawGet reply that does not decode");
        return;
    }
    many_raw_reply(sl, &r);
    rpc_msg_release(kv_RawResponse_fields, &r);
}

static void many_echo_done(int rc, const void *resp, const char *errmsg,
                           void *ud)
{
    struct slot *sl = ud;
    const rpc_EchoResponse *r = resp;
    if (rc != 0)
        slot_finish(sl, -1, 0, errmsg);
    else
        slot_finish(sl, 0, r->payload ? r->payload->size : 0, "");
}

static void slot_send(struct slot *sl)
{
    struct many_run *run = sl->run;
    struct kvb_conn *c = run->c;
    const struct kvb_many *m = run->m;
    struct rpc_client *cli = NULL;
    int rc = cur_client(c, &cli);
    sl->attempts++;
    if (rc == 0 && m->op == KVB_ECHO) {
        rpc_EchoRequest req;
        memset(&req, 0, sizeof req);
        req.payload = run->payload;
        struct rpc_call_spec spec = {.method = RPC_METHOD_ECHO,
                                     .req_fields = rpc_EchoRequest_fields,
                                     .req = &req,
                                     .resp_fields = rpc_EchoResponse_fields,
                                     .resp_size = sizeof(rpc_EchoResponse),
                                     .deadline_ms = c->timeout_ms,
                                     .done = many_echo_done,
                                     .ud = sl};
        rc = rpc_client_call(cli, &spec, NULL);
    } else if (rc == 0 && m->op == KVB_GET) {
        struct region_ctx ctx = {c->ctx.region_id, c->ctx.conf_ver,
                                 c->ctx.version};
        size_t n = kvd_raw_get_request(sl->req, &ctx, sl->key.hdr.bytes,
                                       sl->key.hdr.size);
        struct rpc_call_spec spec = {.method = REGION_METHOD_RAW_GET,
                                     .req_encoded = sl->req,
                                     .req_len = n,
                                     .deadline_ms = c->timeout_ms,
                                     .done_raw = many_get_done,
                                     .ud = sl};
        rc = rpc_client_call(cli, &spec, NULL);
    } else if (rc == 0) {
        kv_RawRequest req;
        memset(&req, 0, sizeof req);
        req.has_ctx = true;
        req.ctx = c->ctx;
        req.key = &sl->key.hdr;
        req.value.data = (uint8_t *)(uintptr_t)m->value;
        req.value.len = m->value_size;
        struct rpc_call_spec spec = {
            .method = REGION_METHOD_RAW_PUT,
            .req_fields = kv_RawRequest_fields,
            .req = &req,
            .resp_fields = kv_RawResponse_fields,
            .resp_size = sizeof(kv_RawResponse),
            .deadline_ms = c->timeout_ms,
            .done = many_raw_done,
            .ud = sl};
        rc = rpc_client_call(cli, &spec, NULL);
    }
    if (rc != 0)
        slot_finish(sl, -1, 0, rpc_strerror(rc));
}

static int kvd_run_many(struct kvb_conn *c, const struct kvb_many *m,
                        char *err, size_t errlen)
{
    struct wait w;
    memset(&w, 0, sizeof w);
    int ret = -1;
    struct many_run run = {c, m, NULL, 0, NULL};
    if (m->key_size > 1024 || m->n < 1) {
        snprintf(err, errlen, "bad key size or client count");
        return -1;
    }
    /* one blocking Locate first (the region and its leader), as
     * kvd_put does on its first request: a store that does not answer
     * (not listening yet, down) is passed over for the next until the
     * request deadline */
    double give_up = now_s() + c->timeout_ms / 1000.0;
    while (!c->located && locate(c, (const uint8_t *)"", 0, &w) != 0) {
        if (now_s() > give_up) {
            snprintf(err, errlen, "locate: %s", w.err);
            return -1;
        }
        c->cur = (c->cur + 1) % c->n;
        nap_ms(10);
    }
    run.slots = calloc((size_t)m->n, sizeof *run.slots);
    run.payload = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(m->value_size));
    if (run.slots == NULL || run.payload == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    run.payload->size = (pb_size_t)m->value_size;
    memcpy(run.payload->bytes, m->value, m->value_size);
    for (int i = 0; i < m->n; i++) {
        struct slot *sl = &run.slots[i];
        sl->run = &run;
        sl->i = i;
        sl->key.hdr.size = (pb_size_t)m->key_size;
        sl->retry_ev = evtimer_new(c->base, slot_retry_cb, sl);
        if (sl->retry_ev == NULL) {
            snprintf(err, errlen, "evtimer_new failed");
            goto out;
        }
    }
    double t0 = now_s();
    run.active = 0;
    for (int i = 0; i < m->n; i++) {
        struct slot *sl = &run.slots[i];
        uint64_t k = m->next_key(m->ud, i);
        if (k == KVB_NO_MORE)
            break;
        sl->t0 = t0;
        kvb_key(k, sl->key.hdr.bytes, m->key_size);
        run.active++;
        slot_send(sl);
    }
    while (run.active > 0)
        event_base_loop(c->base, EVLOOP_ONCE);
    ret = 0;
out:
    for (int i = 0; run.slots != NULL && i < m->n; i++)
        if (run.slots[i].retry_ev != NULL)
            event_free(run.slots[i].retry_ev);
    free(run.slots);
    free(run.payload);
    return ret;
}

static void kvd_close(struct kvb_conn *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->n; i++)
        rpc_client_destroy(c->peers[i].cli);
    event_base_free(c->base);
    free(c);
}

const struct kvb_target kvb_kvd_target = {
    "kvd", kvd_open, kvd_put, kvd_get, kvd_close, kvd_echo, kvd_run_many};

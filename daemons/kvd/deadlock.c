/* deadlock.c: the cluster's deadlock detector (README.md "Deadlock
 * detection"; libmvcc/DESIGN.md "Pessimistic locks"). The kvd leading the
 * region that holds the first key hosts one wait-for graph; every store's
 * lock waits report their edges to it through the DeadlockDetect method,
 * so a cycle whose waits sit on different kvd is found (TiKV's detector
 * leader). A store that cannot reach the host falls back to its own graph
 * (libmvcc does that when detect fails).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "helpers.h"
#include "kv.pb.h"
#include "kvd.h"
#include "log.h"

#define DL_RPC_DEADLINE_MS 1000 /* a call to the host */
#define DL_HANDOFF_MS 3000      /* a worker's own bound on a call (the RPC
                                   deadline ends it first) */
#define DL_DOWN_MS 1000         /* after a failed call, stores use their own
                                   graphs this long without trying */

/* DeadlockResponse.result */
enum { DL_OK = 0, DL_DEADLOCK = 1, DL_NOT_HOST = 2, DL_FAILED = 3 };

/* One call to the host, handed from a worker to the loop thread. */
struct dl_call {
    struct dl_call *next;  /* queue link */
    struct kvd_dl *dl;     /* owner */
    struct kvd_dl_msg m;   /* the request */
    uint64_t to;           /* store asked */
    bool wait;             /* a worker waits for the answer (detect); else
                              the loop frees the call (clean-up) */
    bool done;             /* answered (under dl->mu) */
    bool abandoned;        /* the worker stopped waiting: the loop frees */
    uint32_t result;       /* DL_*: the answer, DL_FAILED if none came */
    uint64_t host;         /* DL_NOT_HOST: the store named as host */
};

struct kvd_dl {
    struct kvd *k;                  /* the daemon */
    uint64_t ttl_ms;                /* edge TTL in the hosted graph */
    struct mvcc_deadlock_detector iface; /* what the store calls */
    struct event *send_ev;          /* sends the queued calls (loop) */
    pthread_mutex_t mu;             /* guards everything below */
    pthread_cond_t cv;              /* a call was answered, or stopping */
    struct mvcc_detector *graph;    /* the hosted graph (NULL: none yet) */
    bool hosting;                   /* this store hosted at the last look */
    uint64_t host_gen;              /* leader generation the graph began at */
    uint64_t host_hint;             /* the store last named as host */
    uint64_t down_until;            /* monotonic ms: no calls before */
    struct dl_call *queue;          /* calls for the loop thread */
    struct dl_call *tail;           /* last of queue */
    bool stopping;                  /* workers stop waiting */
    struct kvd_dl_counters c;       /* figures for the status */
};

static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* FNV-1a 64: names the key in the host's log without sending it. */
static uint64_t key_hash(const void *key, size_t len)
{
    const uint8_t *p = key;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* The host's side (any thread): answers m if this store leads the region
 * of the first key, else DL_NOT_HOST with *host the leader it believes in.
 * Any leadership this store gained since the graph began (this region's
 * or another's: the generation counts them all) starts an empty graph, so
 * edges from before a lost and regained leadership, whose clean-ups went
 * to another host, are never used: a deadlock may be missed (its waits
 * end by timeout), none is reported falsely. */
static uint32_t serve(struct kvd_dl *dl, const struct kvd_dl_msg *m,
                      uint64_t *host)
{
    struct region_store *st = dl->k->store;
    struct region_desc d;
    uint64_t leader = 0;
    *host = 0;
    if (region_store_locate(st, "", 0, &d, &leader) != 0 ||
        !region_store_is_leader(st, d.id)) {
        pthread_mutex_lock(&dl->mu);
        dl->hosting = false;
        pthread_mutex_unlock(&dl->mu);
        *host = leader == dl->k->store_id ? 0 : leader;
        return DL_NOT_HOST;
    }
    uint64_t gen = region_store_leader_gen(st);
    uint32_t res = DL_OK;
    pthread_mutex_lock(&dl->mu);
    if (!dl->hosting || dl->host_gen != gen || dl->graph == NULL) {
        struct mvcc_detector *g = NULL;
        if (mvcc_detector_create(&g) != 0) {
            pthread_mutex_unlock(&dl->mu);
            return DL_FAILED;
        }
        mvcc_detector_set_ttl(g, dl->ttl_ms);
        mvcc_detector_destroy(dl->graph);
        dl->graph = g;
        dl->hosting = true;
        dl->host_gen = gen;
        dl->c.host_starts++;
        dmn_info("deadlock detector: hosted here (region %llu), empty graph",
                 (unsigned long long)d.id);
    }
    if (m->op == KVD_DL_DETECT) {
        int rc = mvcc_detector_detect(dl->graph, m->waiter, m->holder);
        res = rc == 0 ? DL_OK : rc == MVCC_DEADLOCK ? DL_DEADLOCK : DL_FAILED;
        dl->c.served++;
        if (res == DL_DEADLOCK) {
            dl->c.host_deadlocks++;
            dmn_info("deadlock: txn %llu waits for %llu on key %016llx, "
                     "which waits for it",
                     (unsigned long long)m->waiter,
                     (unsigned long long)m->holder,
                     (unsigned long long)m->key_hash);
        }
    } else if (m->op == KVD_DL_CLEAN_UP) {
        mvcc_detector_clean_up_wait_for(dl->graph, m->waiter, m->holder);
    } else {
        res = DL_FAILED;
    }
    pthread_mutex_unlock(&dl->mu);
    return res;
}

/* Loop thread: the call's answer (or DL_FAILED) to its worker, or the
 * call freed when nobody waits. */
static void finish(struct dl_call *c, uint32_t result, uint64_t host)
{
    struct kvd_dl *dl = c->dl;
    pthread_mutex_lock(&dl->mu);
    if (result == DL_FAILED)
        dl->down_until = mono_ms() + DL_DOWN_MS;
    if (c->wait && !c->abandoned) {
        c->result = result;
        c->host = host;
        c->done = true;
        pthread_cond_broadcast(&dl->cv);
        c = NULL;
    }
    pthread_mutex_unlock(&dl->mu);
    free(c);
}

static void on_answer(int rc, const void *resp, const char *errmsg,
                      void *ud)
{
    struct dl_call *c = ud;
    const kv_DeadlockResponse *r = resp;
    if (rc != 0) {
        dmn_warn("deadlock detector on store %llu unreachable (%s): stores "
                 "use their own graphs for %d ms",
                 (unsigned long long)c->to, errmsg, DL_DOWN_MS);
        finish(c, DL_FAILED, 0);
    } else {
        finish(c, r->result <= DL_FAILED ? r->result : DL_FAILED, r->host);
    }
}

static void on_send(evutil_socket_t fd, short what, void *arg)
{
    struct kvd_dl *dl = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&dl->mu);
    struct dl_call *c = dl->queue;
    dl->queue = dl->tail = NULL;
    pthread_mutex_unlock(&dl->mu);
    while (c) {
        struct dl_call *next = c->next;
        struct rpc_client *cli = kvd_peer_client(dl->k, c->to);
        kv_DeadlockRequest req = {c->m.op, c->m.waiter, c->m.holder,
                                  c->m.key_hash};
        struct rpc_call_spec cs = {
            .method = KVD_METHOD_DEADLOCK,
            .req_fields = kv_DeadlockRequest_fields,
            .req = &req,
            .resp_fields = kv_DeadlockResponse_fields,
            .resp_size = sizeof(kv_DeadlockResponse),
            .deadline_ms = DL_RPC_DEADLINE_MS,
            .done = on_answer,
            .ud = c};
        if (cli == NULL || rpc_client_call(cli, &cs, NULL) != 0)
            finish(c, DL_FAILED, 0);
        c = next;
    }
}

/* Any thread but the loop's: m to store `to` through the loop thread.
 * With wait, the answer (DL_FAILED when none came in time); without, the
 * call is queued and DL_OK returned. */
static uint32_t call_host(struct kvd_dl *dl, const struct kvd_dl_msg *m,
                          uint64_t to, bool wait, uint64_t *host)
{
    struct dl_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        return DL_FAILED;
    c->dl = dl;
    c->m = *m;
    c->to = to;
    c->wait = wait;
    struct timespec dl_at = dmn_monotonic_after(DL_HANDOFF_MS);
    pthread_mutex_lock(&dl->mu);
    if (dl->tail)
        dl->tail->next = c;
    else
        dl->queue = c;
    dl->tail = c;
    dl->c.calls++;
    pthread_mutex_unlock(&dl->mu);
    event_active(dl->send_ev, 0, 0);
    if (!wait)
        return DL_OK;
    pthread_mutex_lock(&dl->mu);
    int rc = 0;
    while (!c->done && !dl->stopping && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&dl->cv, &dl->mu, &dl_at);
    uint32_t res = DL_FAILED;
    if (c->done) {
        res = c->result;
        *host = c->host;
    } else {
        c->abandoned = true; /* the loop frees it */
        c = NULL;
    }
    pthread_mutex_unlock(&dl->mu);
    free(c);
    return res;
}

/* m answered here if this store hosts, else by the host: the one named
 * by this store's replica of the first region, or the last one named to
 * us; one redirect followed. DL_NOT_HOST when no host is known. */
static uint32_t route(struct kvd_dl *dl, const struct kvd_dl_msg *m,
                      bool wait)
{
    uint64_t host = 0;
    uint32_t res = serve(dl, m, &host);
    for (int tries = 0; res == DL_NOT_HOST && tries < 2; tries++) {
        pthread_mutex_lock(&dl->mu);
        if (host == 0)
            host = dl->host_hint;
        bool down = mono_ms() < dl->down_until;
        if (down)
            dl->c.skipped++;
        pthread_mutex_unlock(&dl->mu);
        if (host == 0 || host == dl->k->store_id || down)
            return down ? DL_FAILED : DL_NOT_HOST;
        uint64_t to = host;
        host = 0;
        res = call_host(dl, m, to, wait, &host);
        pthread_mutex_lock(&dl->mu);
        dl->host_hint = res == DL_NOT_HOST ? host : to;
        pthread_mutex_unlock(&dl->mu);
    }
    return res;
}

static int iface_detect(void *ctx, mvcc_ts waiter, mvcc_ts holder,
                        const void *key, size_t key_len)
{
    struct kvd_dl *dl = ctx;
    struct kvd_dl_msg m = {KVD_DL_DETECT, waiter, holder,
                           key_hash(key, key_len)};
    uint32_t res = route(dl, &m, true);
    pthread_mutex_lock(&dl->mu);
    dl->c.detects++;
    if (res == DL_DEADLOCK)
        dl->c.deadlocks++;
    else if (res != DL_OK)
        dl->c.fallbacks++;
    pthread_mutex_unlock(&dl->mu);
    /* any failure: libmvcc asks the store's own graph instead */
    return res == DL_OK         ? 0
           : res == DL_DEADLOCK ? MVCC_DEADLOCK
                                : -EHOSTUNREACH;
}

static void iface_clean_up(void *ctx, mvcc_ts waiter, mvcc_ts holder)
{
    struct kvd_dl_msg m = {KVD_DL_CLEAN_UP, waiter, holder, 0};
    (void)route(ctx, &m, false); /* lost: the edge expires (ttl) */
}

/* codec.c writes and reads these fields by hand */
_Static_assert(kv_DeadlockRequest_op_tag == 1 &&
                   kv_DeadlockRequest_waiter_tag == 2 &&
                   kv_DeadlockRequest_holder_tag == 3 &&
                   kv_DeadlockRequest_key_hash_tag == 4 &&
                   kv_DeadlockResponse_result_tag == 1 &&
                   kv_DeadlockResponse_host_tag == 2,
               "kv.proto's Deadlock messages differ from codec.c's");

/* The method, on the loop thread: from the bytes (codec.c) or, for a
 * shape the codec leaves to nanopb, from the decoded message. */
static void answer(struct rpc_call *call, struct kvd_dl *dl,
                   const struct kvd_dl_msg *m)
{
    uint64_t t0 = kvd_now_us(), host = 0;
    uint32_t res = serve(dl, m, &host);
    uint8_t buf[KVD_DL_REPLY_MAX];
    size_t n = kvd_dl_reply(buf, res, host);
    kvd_observe(dl->k, KVD_METHOD_DEADLOCK, t0, res == DL_FAILED);
    rpc_call_reply_encoded(call, buf, n);
}

static bool dl_peek(struct rpc_call *call, const uint8_t *payload,
                    size_t len, void *ud)
{
    struct kvd *k = ud;
    struct kvd_dl_msg m;
    if (!kvd_dl_parse(payload, len, &m))
        return false;
    answer(call, k->dl, &m);
    return true;
}

static void dl_handler(struct rpc_call *call, const void *reqp, void *ud)
{
    struct kvd *k = ud;
    const kv_DeadlockRequest *r = reqp;
    struct kvd_dl_msg m = {r->op, r->waiter, r->holder, r->key_hash};
    answer(call, k->dl, &m);
}

int kvd_dl_register(struct kvd *k, struct rpc_server *srv)
{
    struct rpc_method m = {KVD_METHOD_DEADLOCK, "kv.DeadlockDetect",
                           kv_DeadlockRequest_fields,
                           sizeof(kv_DeadlockRequest),
                           kv_DeadlockResponse_fields, dl_handler, k};
    int rc = rpc_server_register(srv, &m);
    if (rc == 0)
        rc = rpc_server_set_peek(srv, KVD_METHOD_DEADLOCK, dl_peek);
    return rc;
}

int kvd_dl_create(struct kvd *k, uint64_t ttl_ms)
{
    struct kvd_dl *dl = calloc(1, sizeof *dl);
    if (dl == NULL)
        return -ENOMEM;
    dl->k = k;
    dl->ttl_ms = ttl_ms;
    dl->iface = (struct mvcc_deadlock_detector){dl, iface_detect,
                                                iface_clean_up};
    dl->send_ev = event_new(k->base, -1, 0, on_send, dl);
    if (dl->send_ev == NULL) {
        free(dl);
        return -ENOMEM;
    }
    pthread_mutex_init(&dl->mu, NULL);
    dmn_cond_init_monotonic(&dl->cv);
    k->dl = dl;
    return 0;
}

const struct mvcc_deadlock_detector *kvd_dl_iface(struct kvd *k)
{
    return &k->dl->iface;
}

void kvd_dl_stop(struct kvd *k)
{
    if (k->dl == NULL)
        return;
    pthread_mutex_lock(&k->dl->mu);
    k->dl->stopping = true;
    pthread_cond_broadcast(&k->dl->cv);
    pthread_mutex_unlock(&k->dl->mu);
}

void kvd_dl_destroy(struct kvd *k)
{
    struct kvd_dl *dl = k->dl;
    if (dl == NULL)
        return;
    for (struct dl_call *c = dl->queue, *next; c; c = next) {
        next = c->next; /* never sent; their workers are gone */
        free(c);
    }
    event_free(dl->send_ev);
    mvcc_detector_destroy(dl->graph);
    pthread_cond_destroy(&dl->cv);
    pthread_mutex_destroy(&dl->mu);
    free(dl);
    k->dl = NULL;
}

void kvd_dl_counters(struct kvd *k, struct kvd_dl_counters *out)
{
    struct kvd_dl *dl = k->dl;
    memset(out, 0, sizeof *out);
    if (dl == NULL)
        return;
    pthread_mutex_lock(&dl->mu);
    *out = dl->c;
    out->hosting = dl->hosting;
    out->edges = dl->hosting && dl->graph ? mvcc_detector_edges(dl->graph)
                                          : 0;
    pthread_mutex_unlock(&dl->mu);
}

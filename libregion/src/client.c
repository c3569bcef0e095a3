/* client.c: the cluster transport, libmvcc's struct mvcc_transport over
 * librpc to kvd's Txn methods. Routing: the region cache, filled from a
 * caller-supplied router (PD in sqld); one librpc connection per store,
 * all served by one private libevent thread; callers block on their
 * call. Region errors and lost connections fix the cache and come back as
 * libmvcc's region codes, so libmvcc's client backs off, locates again
 * and resends. DESIGN.md, "Cluster transport".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <pb_encode.h>
#include <rpc.h>

#include "client_int.h"

#define MAX_STORES 64    /* stores one client talks to */
#define DOWN_MS 1000     /* an unreachable store is tried last for this, */
#define DOWN_MAX_MS 8000 /* doubled after each failure in a row, up to this */
#define SYNC_IDLE 16     /* blocking connections kept per store */

struct cstore {
    uint64_t id;                 /* store id; 0: free slot */
    char host[128];              /* its address */
    uint16_t port;               /* its port */
    unsigned gen;                /* bumped when the address changes */
    bool stale;                  /* ask the router for the address again */
    uint64_t down_until;         /* monotonic ms: tried last until then */
    unsigned fails;              /* failed calls in a row (down_until's
                                    backoff); atomic: read without mu */
    struct rpc_client *cli;      /* loop thread only; NULL until used */
    unsigned cli_gen;            /* loop thread only: gen cli was made for */
    struct rpc_sync *idle[SYNC_IDLE]; /* blocking connections not in use
                                    (point reads on callers' threads) */
    int n_idle;                  /* used slots of idle */
    unsigned idle_gen;           /* gen the idle ones were made for */
};

/* One call handed to the loop thread; lives on the caller's stack. */
struct op {
    struct region_client *c;     /* the client */
    size_t store;                /* index into c->stores */
    uint32_t method;             /* REGION_METHOD_TXN_* or _LOCATE */
    const void *req;             /* kv.TxnRequest or kv.LocateRequest,
                                    borrowed until done */
    const uint8_t *req_enc;      /* or the TxnRequest's bytes (req then
                                    unused), borrowed until done */
    size_t req_len;              /* their count */
    int deadline_ms;             /* for this call */
    struct mvcc_result *res;     /* Txn: the reply's result */
    struct region_err *err;      /* Txn: the reply's region error */
    struct region_desc *loc;     /* Locate: the region answered */
    uint64_t *loc_leader;        /* Locate: its leader */
    bool more;                   /* Txn: the reply was cut short */
    int rc;                      /* outcome */
    bool done;                   /* finished */
    pthread_mutex_t mu;          /* guards done */
    pthread_cond_t cv;           /* signals done */
    struct op *next;             /* in the queue */
};

struct region_client {
    struct region_client_opts o;     /* copied options */
    struct region_cache *cache;      /* key -> region -> leader */
    pthread_mutex_t mu;              /* guards stores' ids and addresses,
                                        queue, stopping, stats, rr */
    struct cstore stores[MAX_STORES]; /* stores met so far */
    struct op *queue;                /* calls waiting for the loop */
    struct op *queue_tail;           /* newest */
    bool stopping;                   /* the loop ends */
    struct region_client_stats stats; /* counters */
    unsigned rr;                     /* round robin over unknown leaders */
    struct event_base *base;         /* the private loop */
    struct event *wake_ev;           /* reads wake_fds[0] */
    int wake_fds[2];                 /* pipe: callers wake the loop */
    pthread_t thread;                /* runs the loop */
    bool started;                    /* thread is running */
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void client_log(struct region_client *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void client_log(struct region_client *c, int level, const char *fmt, ...)
{
    if (c->o.log == NULL || level < c->o.log_level)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->o.log(c->o.log_ctx, level, msg);
}

/* ---------------------------------------------------------------------
 * The loop thread.
 */
static void finish(struct op *op, int rc)
{
    pthread_mutex_lock(&op->mu);
    op->rc = rc;
    op->done = true;
    pthread_cond_signal(&op->cv);
    pthread_mutex_unlock(&op->mu);
}

static void call_done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct op *op = ud;
    if (op->method == REGION_METHOD_LOCATE) {
        if (rc == 0)
            rc = region__locresp_result(resp, op->loc, op->loc_leader);
    } else if (rc == 0) {
        rc = region__txnresp_result(resp, op->res, op->err);
        op->more = ((const kv_TxnResponse *)resp)->more;
    } else {
        mvcc_result_reset(op->res);
        snprintf(op->res->errmsg, sizeof op->res->errmsg, "%s", errmsg);
    }
    finish(op, rc);
}

/* The event-loop connection to store slot kept in *cli, made on base for
 * the store's current address (*cli_gen: the generation it was made for;
 * made again when the store moved). 0, or rpc_client_create's code. */
static int store_conn(struct region_client *c, size_t slot,
                      struct event_base *base, struct rpc_client **cli,
                      unsigned *cli_gen)
{
    struct cstore *st = &c->stores[slot];
    char host[sizeof st->host];
    pthread_mutex_lock(&c->mu);
    memcpy(host, st->host, sizeof host);
    uint16_t port = st->port;
    unsigned gen = st->gen;
    pthread_mutex_unlock(&c->mu);
    if (*cli != NULL && *cli_gen != gen) { /* the store moved */
        rpc_client_destroy(*cli);
        *cli = NULL;
    }
    if (*cli == NULL) {
        struct rpc_client_options co = {
            .host = host,
            .port = port,
            .tls = c->o.tls,
            .connect_timeout_ms = c->o.connect_timeout_ms,
            .max_in_flight = 4096,
            .default_deadline_ms = c->o.call_timeout_ms,
        };
        int rc = rpc_client_create(base, &co, cli);
        if (rc != 0)
            return rc;
        *cli_gen = gen;
    }
    return 0;
}

static void start_call(struct region_client *c, struct op *op)
{
    struct cstore *st = &c->stores[op->store];
    int rc = store_conn(c, op->store, c->base, &st->cli, &st->cli_gen);
    if (rc != 0) {
        finish(op, rc);
        return;
    }
    bool loc = op->method == REGION_METHOD_LOCATE;
    struct rpc_call_spec cs = {.method = op->method,
                               .req_fields = loc ? kv_LocateRequest_fields
                                                 : kv_TxnRequest_fields,
                               .req = op->req,
                               .req_encoded = op->req_enc,
                               .req_len = op->req_len,
                               .resp_fields = loc ? kv_LocateResponse_fields
                                                  : kv_TxnResponse_fields,
                               .resp_size = loc ? sizeof(kv_LocateResponse)
                                                : sizeof(kv_TxnResponse),
                               .deadline_ms = op->deadline_ms,
                               .done = call_done,
                               .ud = op};
    rc = rpc_client_call(st->cli, &cs, NULL);
    if (rc != 0)
        finish(op, rc);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct region_client *c = arg;
    char buf[256];
    while (read(fd, buf, sizeof buf) > 0)
        ;
    pthread_mutex_lock(&c->mu);
    struct op *q = c->queue;
    c->queue = c->queue_tail = NULL;
    bool stop = c->stopping;
    pthread_mutex_unlock(&c->mu);
    while (q) {
        struct op *next = q->next;
        if (stop)
            finish(q, RPC_ECLOSED);
        else
            start_call(c, q);
        q = next;
    }
    if (stop)
        event_base_loopbreak(c->base);
}

static void *loop_main(void *arg)
{
    struct region_client *c = arg;
    event_base_loop(c->base, EVLOOP_NO_EXIT_ON_EMPTY);
    /* Connections belong to this thread: close them here (their pending
     * calls finish with RPC_ECLOSED). */
    for (size_t i = 0; i < MAX_STORES; i++) {
        rpc_client_destroy(c->stores[i].cli);
        c->stores[i].cli = NULL;
    }
    return NULL;
}

static void pool_put(struct region_client *c, size_t slot, unsigned gen,
                     struct rpc_sync *s);

/* A direct call's reply, as bytes: read by hand when it is one of the
 * usual shapes, else decoded by nanopb as before (txncodec.c). */
struct direct_reply
{
    struct op *op;  /* whose result it fills */
    int rc;         /* the reply's code */
    bool undecoded; /* nanopb refused it: the connection is closed */
};

static void on_direct_reply(int rc, const uint8_t *payload, size_t len,
                            const char *errmsg, void *ud)
{
    (void)rc; /* 0: called for replies only */
    (void)errmsg;
    struct direct_reply *dr = ud;
    struct op *op = dr->op;
    dr->rc = region__txnresp_decode(payload, len, op->res, op->err,
                                    &op->more);
    if (dr->rc != 1)
        return;
    kv_TxnResponse resp;
    memset(&resp, 0, sizeof resp);
    dr->rc = rpc_msg_decode(kv_TxnResponse_fields, payload, len, &resp);
    if (dr->rc != 0) {
        dr->undecoded = true;
        return;
    }
    dr->rc = region__txnresp_result(&resp, op->res, op->err);
    op->more = resp.more;
    rpc_msg_release(kv_TxnResponse_fields, &resp);
}

/* What a blocking call that ended with rc (rpc_sync_call's, made
 * with spec.done_raw, err its text in errlen bytes) comes to: the
 * reply's code, with *keep (the connection may serve again); or the
 * failure, the result reset with err as its message. */
static int direct_outcome(int rc, const struct direct_reply *dr, char *err,
                          size_t errlen, bool *keep)
{
    *keep = rc == 0 && !dr->undecoded;
    if (*keep)
        return dr->rc;
    if (rc == 0) { /* a reply nanopb refused, as rpc_sync_call would */
        rc = dr->rc;
        snprintf(err, errlen, "reply does not decode");
    }
    mvcc_result_reset(dr->op->res);
    snprintf(dr->op->res->errmsg, sizeof dr->op->res->errmsg, "%s", err);
    return rc;
}

/* Moves every idle connection of st to drop (*nd of them), for the
 * caller to close after unlocking (drop_close); with c->mu held. */
static void pool_empty(struct cstore *st, struct rpc_sync **drop, int *nd)
{
    while (st->n_idle > 0)
        drop[(*nd)++] = st->idle[--st->n_idle];
}

static void drop_close(struct rpc_sync **drop, int nd)
{
    while (nd > 0)
        rpc_sync_close(drop[--nd]);
}

/* An idle connection of st made for its current address, or NULL; with
 * c->mu held. An idle connection the store closed (its end shut: the
 * peer's FIN or a reset, which a poll of no wait shows) means the store's
 * process went away since (a kvd restart), and every idle one was made to
 * that process, so they all go (*drop, *nd: closed by the caller after
 * unlocking). Bytes alone are no sign (with TLS, a record the server sent
 * after the handshake may wait there). Met one at a time, each dead
 * connection cost a failed call and the store marked down for DOWN_MS
 * while the followers answered NotLeader: up to
 * SYNC_IDLE seconds before a restarted store that leads again was reached
 * (commits ran out of their 20 s region budget in the rolling restart,
 * issue 9). */
static struct rpc_sync *pool_take(struct region_client *c, struct cstore *st,
                                  struct rpc_sync **drop, int *nd)
{
    if (st->n_idle == 0 || st->idle_gen != st->gen)
        return NULL;
    struct rpc_sync *s = st->idle[--st->n_idle];
    struct pollfd p = {.fd = rpc_sync_fd(s), .events = POLLRDHUP};
    if (p.fd >= 0 && (poll(&p, 1, 0) == 0 ||
                      !(p.revents & (POLLRDHUP | POLLHUP | POLLERR))))
        return s;
    drop[(*nd)++] = s;
    pool_empty(st, drop, nd);
    c->stats.stale_conns += (uint64_t)*nd;
    return NULL;
}

/* Closes every idle connection of store slot: one of them failed under a
 * call (the store's process went away), so the rest were made to it too. */
static void pool_flush(struct region_client *c, size_t slot)
{
    struct rpc_sync *drop[SYNC_IDLE];
    int nd = 0;
    pthread_mutex_lock(&c->mu);
    pool_empty(&c->stores[slot], drop, &nd);
    c->stats.stale_conns += (uint64_t)nd;
    pthread_mutex_unlock(&c->mu);
    drop_close(drop, nd);
}

/* A Txn call (reads, scans, prewrites, commits ...) on the caller's own
 * thread over a blocking connection from the store's pool: one send and
 * one receive, no hand-off to the loop thread and back (DESIGN.md
 * "Cluster transport"). -EAGAIN when no connection can be had (the loop
 * path then makes the call and reports the failure as usual). */
static int direct_op(struct region_client *c, struct op *op)
{
    struct cstore *st = &c->stores[op->store];
    struct rpc_sync *s = NULL;
    char host[sizeof st->host];
    pthread_mutex_lock(&c->mu);
    if (c->stopping) {
        pthread_mutex_unlock(&c->mu);
        return -EAGAIN;
    }
    unsigned gen = st->gen;
    struct rpc_sync *drop[SYNC_IDLE];
    int nd = 0;
    s = pool_take(c, st, drop, &nd);
    memcpy(host, st->host, sizeof host);
    uint16_t port = st->port;
    pthread_mutex_unlock(&c->mu);
    drop_close(drop, nd);
    char err[256] = "";
    struct rpc_client_options co = {.host = host,
                                    .port = port,
                                    .tls = c->o.tls,
                                    .connect_timeout_ms =
                                        c->o.connect_timeout_ms};
    if (s == NULL && rpc_sync_open(&co, &s, err, sizeof err) != 0)
        return -EAGAIN;
    pthread_mutex_lock(&c->mu);
    c->stats.calls++;
    c->stats.direct_calls++;
    pthread_mutex_unlock(&c->mu);
    struct direct_reply dr = {.op = op};
    struct rpc_call_spec cs = {.method = op->method,
                               .req_fields = kv_TxnRequest_fields,
                               .req = op->req,
                               .req_encoded = op->req_enc,
                               .req_len = op->req_len,
                               .deadline_ms = op->deadline_ms,
                               .done_raw = on_direct_reply,
                               .ud = &dr};
    bool keep;
    int rc = direct_outcome(rpc_sync_call(s, &cs, NULL, err, sizeof err),
                            &dr, err, sizeof err, &keep);
    if (keep) {
        pool_put(c, op->store, gen, s);
    } else {
        rpc_sync_close(s); /* whatever failed, start afresh */
        if (region__client_code(rc) == MVCC_STORE_UNREACHABLE)
            pool_flush(c, op->store);
    }
    return rc;
}

/* Returns s to the idle pool of store slot, made for generation gen
 * (closed instead when the store moved or the pool is full). */
static void pool_put(struct region_client *c, size_t slot, unsigned gen,
                     struct rpc_sync *s)
{
    struct cstore *st = &c->stores[slot];
    struct rpc_sync *drop[SYNC_IDLE + 1];
    int nd = 0;
    pthread_mutex_lock(&c->mu);
    if (st->idle_gen != st->gen) { /* the store moved */
        pool_empty(st, drop, &nd);
        st->idle_gen = st->gen;
    }
    if (gen == st->gen && st->n_idle < SYNC_IDLE && !c->stopping)
        st->idle[st->n_idle++] = s;
    else
        drop[nd++] = s;
    pthread_mutex_unlock(&c->mu);
    drop_close(drop, nd);
}

/* Hands op to the loop and waits until it is finished. */
static int run_op(struct region_client *c, struct op *op)
{
    if (op->method != REGION_METHOD_LOCATE) {
        int rc = direct_op(c, op);
        if (rc != -EAGAIN)
            return rc;
    }
    pthread_mutex_init(&op->mu, NULL);
    pthread_cond_init(&op->cv, NULL);
    op->done = false;
    op->next = NULL;
    pthread_mutex_lock(&c->mu);
    bool stopping = c->stopping;
    if (!stopping) {
        if (c->queue_tail)
            c->queue_tail->next = op;
        else
            c->queue = op;
        c->queue_tail = op;
        c->stats.calls++;
    }
    pthread_mutex_unlock(&c->mu);
    if (stopping) {
        op->rc = RPC_ECLOSED;
    } else {
        char b = 1;
        ssize_t w = write(c->wake_fds[1], &b, 1); /* full pipe: a wake is
                                                     pending anyway */
        (void)w;
        pthread_mutex_lock(&op->mu);
        while (!op->done)
            pthread_cond_wait(&op->cv, &op->mu);
        pthread_mutex_unlock(&op->mu);
    }
    pthread_cond_destroy(&op->cv);
    pthread_mutex_destroy(&op->mu);
    return op->rc;
}

/* ---------------------------------------------------------------------
 * Create and destroy.
 */
int region_client_create(const struct region_client_opts *o,
                         struct region_client **out)
{
    if (o == NULL || out == NULL || o->router.region_by_key == NULL ||
        o->router.store_addr == NULL)
        return REGION_EINVAL;
    struct region_client *c = region__calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->o = *o;
    if (c->o.call_timeout_ms <= 0)
        c->o.call_timeout_ms = 5000;
    if (c->o.connect_timeout_ms <= 0)
        c->o.connect_timeout_ms = 1000;
    c->wake_fds[0] = c->wake_fds[1] = -1;
    pthread_mutex_init(&c->mu, NULL);
    int rc = region_cache_create(&c->cache);
    if (rc != 0)
        goto fail;
    rc = -ENOMEM;
    if (pipe2(c->wake_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        rc = -errno;
        goto fail;
    }
    c->base = event_base_new();
    if (c->base == NULL)
        goto fail;
    c->wake_ev = event_new(c->base, c->wake_fds[0], EV_READ | EV_PERSIST,
                           on_wake, c);
    if (c->wake_ev == NULL || event_add(c->wake_ev, NULL) != 0)
        goto fail;
    if (pthread_create(&c->thread, NULL, loop_main, c) != 0)
        goto fail;
    c->started = true;
    *out = c;
    return 0;
fail:
    region_client_destroy(c);
    return rc;
}

void region_client_destroy(struct region_client *c)
{
    if (c == NULL)
        return;
    if (c->started) {
        pthread_mutex_lock(&c->mu);
        c->stopping = true;
        pthread_mutex_unlock(&c->mu);
        char b = 1;
        ssize_t w = write(c->wake_fds[1], &b, 1);
        (void)w;
        pthread_join(c->thread, NULL);
    }
    if (c->wake_ev)
        event_free(c->wake_ev);
    if (c->base)
        event_base_free(c->base);
    for (int i = 0; i < 2; i++)
        if (c->wake_fds[i] >= 0)
            close(c->wake_fds[i]);
    for (size_t i = 0; i < MAX_STORES; i++)
        while (c->stores[i].n_idle > 0)
            rpc_sync_close(c->stores[i].idle[--c->stores[i].n_idle]);
    region_cache_destroy(c->cache);
    pthread_mutex_destroy(&c->mu);
    region__free(c);
}

struct region_cache *region_client_cache(struct region_client *c)
{
    return c->cache;
}

void region_client_stats(struct region_client *c,
                         struct region_client_stats *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->stats;
    pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------------
 * Routing.
 */
static void count(struct region_client *c, uint64_t *field)
{
    pthread_mutex_lock(&c->mu);
    (*field)++;
    pthread_mutex_unlock(&c->mu);
}

/* Index of store id in c->stores, its address asked from the router the
 * first time (and again after a failure made it stale). A slot, once
 * given to a store, stays its own. Caller holds nothing. */
static int store_slot(struct region_client *c, uint64_t id, size_t *out)
{
    pthread_mutex_lock(&c->mu);
    size_t slot = MAX_STORES;
    for (size_t i = 0; i < MAX_STORES && slot == MAX_STORES; i++)
        if (c->stores[i].id == id)
            slot = i;
    bool ask = slot == MAX_STORES || c->stores[slot].stale;
    pthread_mutex_unlock(&c->mu);
    if (!ask) {
        *out = slot;
        return 0;
    }
    char addr[256];
    int rc = c->o.router.store_addr(c->o.router.ctx, id, addr, sizeof addr);
    if (rc != 0 && slot != MAX_STORES) {
        *out = slot; /* the router cannot say: the address we know (still
                        stale, so asked again next time) */
        return 0;
    }
    if (rc != 0)
        return rc;
    char *colon = strrchr(addr, ':');
    long port = colon ? strtol(colon + 1, NULL, 10) : 0;
    if (colon == NULL || port <= 0 || port > 65535 ||
        (size_t)(colon - addr) >= sizeof c->stores[0].host)
        return REGION_EINVAL;
    *colon = '\0';
    pthread_mutex_lock(&c->mu);
    slot = MAX_STORES;
    for (size_t i = 0; i < MAX_STORES && slot == MAX_STORES; i++)
        if (c->stores[i].id == id) /* ours, or made by a racing caller */
            slot = i;
    for (size_t i = 0; i < MAX_STORES && slot == MAX_STORES; i++)
        if (c->stores[i].id == 0)
            slot = i;
    if (slot == MAX_STORES) {
        pthread_mutex_unlock(&c->mu);
        return -ENOSPC;
    }
    struct cstore *st = &c->stores[slot];
    if (st->id != id || strcmp(st->host, addr) != 0 ||
        st->port != (uint16_t)port) {
        st->id = id;
        memcpy(st->host, addr, (size_t)(colon - addr) + 1);
        st->port = (uint16_t)port;
        st->gen++;
    }
    st->stale = false;
    *out = slot;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static bool store_down(struct region_client *c, uint64_t id, uint64_t now)
{
    bool down = false;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < MAX_STORES; i++)
        if (c->stores[i].id == id)
            down = c->stores[i].down_until > now;
    pthread_mutex_unlock(&c->mu);
    return down;
}

static void mark_down(struct region_client *c, size_t slot)
{
    pthread_mutex_lock(&c->mu);
    struct cstore *st = &c->stores[slot];
    unsigned fails = __atomic_load_n(&st->fails, __ATOMIC_RELAXED);
    uint64_t ms = (uint64_t)DOWN_MS << (fails < 3 ? fails : 3);
    st->down_until = mono_ms() + (ms < DOWN_MAX_MS ? ms : DOWN_MAX_MS);
    if (fails < 16)
        __atomic_store_n(&st->fails, fails + 1, __ATOMIC_RELAXED);
    c->stats.store_errors++;
    pthread_mutex_unlock(&c->mu);
}

/* A store answered: its next failure is marked down for DOWN_MS again.
 * Every call that gets an answer comes here: no lock (a failure counted
 * meanwhile may be lost, which only shortens a down mark). */
static void mark_up(struct region_client *c, size_t slot)
{
    unsigned *f = &c->stores[slot].fails;
    if (__atomic_load_n(f, __ATOMIC_RELAXED) != 0)
        __atomic_store_n(f, 0, __ATOMIC_RELAXED);
}

/* Asks stores which region holds key (kv.Locate): the stores of hint,
 * then every store this client has reached. pdd's map lags behind the
 * stores' for a moment after a split (a gap, or the region before it). */
static int locate_by_stores(struct region_client *c, const void *key,
                            size_t len, const struct region_desc *hint,
                            struct region_desc *d, uint64_t *leader)
{
    uint64_t ids[MAX_STORES + REGION_MAX_PEERS];
    size_t n = 0;
    for (uint32_t i = 0; hint && i < hint->n_stores; i++)
        ids[n++] = hint->stores[i];
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < MAX_STORES; i++) {
        bool dup = c->stores[i].id == 0;
        for (size_t j = 0; j < n && !dup; j++)
            dup = ids[j] == c->stores[i].id;
        if (!dup)
            ids[n++] = c->stores[i].id;
    }
    pthread_mutex_unlock(&c->mu);
    kv_LocateRequest req;
    int rc = region__locreq_build(&req, key, len);
    if (rc != 0)
        return rc;
    rc = REGION_ENOT_FOUND;
    uint64_t now = mono_ms();
    for (int pass = 0; pass < 2 && rc != 0; pass++) /* up stores first */
        for (size_t i = 0; i < n && rc != 0; i++) {
            size_t slot;
            if ((pass == 0) == store_down(c, ids[i], now) ||
                store_slot(c, ids[i], &slot) != 0)
                continue;
            struct op op = {.c = c,
                            .store = slot,
                            .method = REGION_METHOD_LOCATE,
                            .req = &req,
                            .deadline_ms = c->o.call_timeout_ms,
                            .loc = d,
                            .loc_leader = leader};
            *leader = 0;
            int lrc = run_op(c, &op);
            if (lrc == 0 && region_desc_contains(d, key, len)) {
                if (!region_cache_older(c->cache, d))
                    rc = 0;
                else /* a store behind the cache (it missed a split, cut
                      * off meanwhile): its region would be refused by the
                      * others (EpochNotMatch) and it does not lead it */
                    client_log(c, REGION_LOG_DEBUG,
                               "store %llu is behind: its region %llu epoch "
                               "%llu/%llu is older than the cache's",
                               (unsigned long long)ids[i],
                               (unsigned long long)d->id,
                               (unsigned long long)d->conf_ver,
                               (unsigned long long)d->version);
            } else if (region__client_code(lrc) == MVCC_STORE_UNREACHABLE)
                mark_down(c, slot);
        }
    region__locreq_free(&req);
    return rc;
}

/* The region holding key: the cache; else the router (asked a second
 * time, after it is told to forget the region, when its first answer is
 * older than what the cache holds); else, when it is still older or the
 * router has none, the stores, passing over those behind the cache.
 * Cached on the way. */
static int route(struct region_client *c, const void *key, size_t len,
                 struct region_desc *d, uint64_t *leader)
{
    if (region_cache_lookup(c->cache, key, len, d, leader) == 0)
        return 0;
    count(c, &c->stats.router_lookups);
    struct region_desc rd;
    uint64_t rl = 0;
    int rc = c->o.router.region_by_key(c->o.router.ctx, key, len, &rd, &rl);
    bool ok = rc == 0 && rd.id != 0 && region_desc_contains(&rd, key, len);
    if (ok && c->o.router.invalidate && region_cache_older(c->cache, &rd)) {
        /* The router's answer is older than the cache (its own cache, or
         * pdd, has not heard of a split the stores told us of): have it
         * forget that region and ask once more. Left in place, it named
         * the old region for as long as nothing invalidated that id, and
         * every try went to the stores (test_sql_partition.sh). */
        client_log(c, REGION_LOG_DEBUG,
                   "router's region %llu epoch %llu/%llu is older than the "
                   "cache's: asking again",
                   (unsigned long long)rd.id, (unsigned long long)rd.conf_ver,
                   (unsigned long long)rd.version);
        c->o.router.invalidate(c->o.router.ctx, rd.id, 0);
        count(c, &c->stats.router_lookups);
        rc = c->o.router.region_by_key(c->o.router.ctx, key, len, &rd, &rl);
        ok = rc == 0 && rd.id != 0 && region_desc_contains(&rd, key, len);
    }
    if (ok) {
        region_cache_update(c->cache, &rd, rl);
        if (region_cache_lookup(c->cache, key, len, d, leader) == 0)
            return 0;
        /* ignored: a newer region overlaps it (a split the router has
         * not seen yet) */
    } else if (rc == 0) {
        rc = REGION_EINTERNAL; /* the router broke its promise */
    }
    int src = locate_by_stores(c, key, len, ok ? &rd : NULL, d, leader);
    if (src == 0) {
        region_cache_update(c->cache, d, *leader);
        return 0;
    }
    client_log(c, REGION_LOG_WARN, "no region for a key: router %s",
               rc == 0 ? "stale" : region_strerror(rc));
    return rc != 0 ? rc : REGION_ENOT_FOUND;
}

/* The store to send to: the leader when known and not down, else the
 * peers in turn (those not down first). */
static uint64_t pick_store(struct region_client *c,
                           const struct region_desc *d, uint64_t leader)
{
    uint64_t now = mono_ms();
    if (leader != 0 && !store_down(c, leader, now))
        return leader;
    if (d->n_stores == 0)
        return leader;
    pthread_mutex_lock(&c->mu);
    unsigned start = c->rr++;
    pthread_mutex_unlock(&c->mu);
    for (uint32_t i = 0; i < d->n_stores; i++) {
        uint64_t s = d->stores[(start + i) % d->n_stores];
        if (!store_down(c, s, now))
            return s;
    }
    return d->stores[start % d->n_stores];
}

/* ---------------------------------------------------------------------
 * One command to the region `shard`, routed by key.
 */
/* Whether a range ending at end (end_len 0: unbounded) ends inside d. */
static bool ends_inside(const struct region_desc *d, const void *end,
                        size_t end_len)
{
    if (d->end_len == 0)
        return true;
    return end_len != 0 &&
           region__cmp_bytes(d->end, d->end_len, end, end_len) >= 0;
}

/* The request (its bytes *enc, or req for nanopb when *enc is NULL) for
 * method in a ForwardRequest to store `to` (DESIGN.md "Forwarding"):
 * *enc (freed and replaced) and *enc_len. 0, or -ENOMEM / RPC_EENCODE
 * with *enc as it was. */
static int forward_wrap(uint64_t to, uint32_t method,
                        const kv_TxnRequest *req, uint8_t **enc,
                        size_t *enc_len)
{
    size_t n = *enc_len;
    if (*enc == NULL && !pb_get_encoded_size(&n, kv_TxnRequest_fields, req))
        return RPC_EENCODE;
    uint8_t *b = region__malloc(REGION_FORWARD_HEADER_MAX + n);
    if (b == NULL)
        return -ENOMEM;
    size_t h = region_forward_header(b, to, method, n);
    if (*enc != NULL) {
        if (n)
            memcpy(b + h, *enc, n);
    } else {
        pb_ostream_t os = pb_ostream_from_buffer(b + h, n);
        if (!pb_encode(&os, kv_TxnRequest_fields, req)) {
            region__free(b);
            return RPC_EENCODE;
        }
    }
    region__free(*enc);
    *enc = b;
    *enc_len = h + n;
    return 0;
}

/* send_cmd for a read: ro's bypass list goes along as the request's
 * resolved_locks (kvd's read skips those transactions' locks). */
static int send_read(struct region_client *c, uint64_t shard, const void *key,
                     size_t key_len, struct region__txn_args *a,
                     const struct mvcc_read_opts *ro, struct mvcc_result *res,
                     bool *more)
{
    if (more)
        *more = false;
    struct region_desc d;
    uint64_t leader = 0;
    int rc = route(c, key, key_len, &d, &leader);
    if (rc != 0) {
        mvcc_result_reset(res);
        snprintf(res->errmsg, sizeof res->errmsg,
                 "no region for the key: %s", region_strerror(rc));
        /* the map may be mid-change: libmvcc locates again */
        return mvcc_is_region_error(rc) ? rc : MVCC_REGION_NOT_FOUND;
    }
    if (d.id != shard) {
        /* the region was located before it changed: locate again */
        mvcc_result_reset(res);
        snprintf(res->errmsg, sizeof res->errmsg,
                 "region %llu no longer holds the key (region %llu does)",
                 (unsigned long long)shard, (unsigned long long)d.id);
        return MVCC_EPOCH_NOT_MATCH;
    }
    if ((a->method == REGION_METHOD_TXN_SCAN ||
         a->method == REGION_METHOD_TXN_RESOLVE_LOCK ||
         a->method == REGION_METHOD_TXN_SCAN_LOCK ||
         a->method == REGION_METHOD_TXN_COP) &&
        !ends_inside(&d, a->end, a->end_len)) {
        /* The region shrank (a split) since the caller located it and
         * the cache heard of it first. Sent with the epoch the cache has
         * now, the range would run past the region: kvd refuses that
         * (KeyNotInRegion, DESIGN.md "Range checks"); a kvd that clipped
         * it instead would answer for less than was asked without saying
         * so, and the caller, going on from the end it located (a forward
         * Scan) or below the start it asked for (a reverse Scan, a
         * descending Coprocessor scan), would skip the keys in between.
         * Locate again, without the round trip. */
        mvcc_result_reset(res);
        snprintf(res->errmsg, sizeof res->errmsg,
                 "region %llu ends before the range (it split since it "
                 "was located)",
                 (unsigned long long)shard);
        return MVCC_EPOCH_NOT_MATCH;
    }
    uint64_t store = pick_store(c, &d, leader);
    /* The leader is known, but a call to it failed lately (it is marked
     * down) while another replica's store answers: send through that one,
     * which passes it on (DESIGN.md "Forwarding"). When the network
     * between this client and the leader is cut and the stores still
     * reach each other, the leader keeps its leadership and nothing else
     * reaches it. */
    uint64_t fwd = 0;
    if (leader != 0 && store != leader) {
        uint64_t now = mono_ms();
        if (store_down(c, leader, now) && !store_down(c, store, now))
            fwd = leader;
    }
    size_t slot;
    rc = store_slot(c, store, &slot);
    if (rc != 0) {
        mvcc_result_reset(res);
        snprintf(res->errmsg, sizeof res->errmsg,
                 "no address for store %llu: %s", (unsigned long long)store,
                 region_strerror(rc));
        if (c->o.router.invalidate)
            c->o.router.invalidate(c->o.router.ctx, 0, store);
        struct region_err e = {.code = REGION_ENOT_LEADER};
        region_cache_on_error(c->cache, d.id, &e);
        return MVCC_STORE_UNREACHABLE;
    }
    a->ctx.region_id = d.id;
    a->ctx.conf_ver = d.conf_ver;
    a->ctx.version = d.version;
    kv_TxnRequest req;
    memset(&req, 0, sizeof req);
    uint8_t *enc = NULL; /* the request's bytes, written by hand */
    size_t enc_len = 0;
    size_t nbypass = ro && ro->nbypass ? (ro->nbypass < 65535 ? ro->nbypass
                                                              : 65535)
                                       : 0;
    rc = region__txnreq_encode(a, nbypass ? ro->bypass : NULL, nbypass, &enc,
                               &enc_len);
    if (rc == 1) /* past nanopb's limits, or big: nanopb's, which says */
        rc = region__txnreq_build(&req, a);
    if (rc != 0) {
        mvcc_result_reset(res);
        if (rc == -E2BIG)
            snprintf(res->errmsg, sizeof res->errmsg,
                     "a key over %u bytes or a list over 65535 entries",
                     REGION_BYTES_MAX);
        else if (rc == RPC_EFRAME_TOO_LARGE)
            snprintf(res->errmsg, sizeof res->errmsg,
                     "a request of more than %u bytes of keys and values",
                     REGION_TXN_MAX_BYTES);
        else
            snprintf(res->errmsg, sizeof res->errmsg, "out of memory");
        return region__client_code(rc);
    }
    if (enc == NULL && nbypass) { /* borrowed for the call */
        req.resolved_locks = (uint64_t *)ro->bypass;
        req.resolved_locks_count = (pb_size_t)nbypass;
    }
    struct region_err err;
    memset(&err, 0, sizeof err);
    int deadline = c->o.call_timeout_ms;
    if (a->wait_timeout_ms > 0) /* the store holds a lock wait open */
        deadline += (int)(a->wait_timeout_ms > 600000 ? 600000
                                                      : a->wait_timeout_ms);
    if (fwd != 0 &&
        (rc = forward_wrap(fwd, a->method, &req, &enc, &enc_len)) != 0) {
        mvcc_result_reset(res);
        snprintf(res->errmsg, sizeof res->errmsg, "forward request: %s",
                 rpc_strerror(rc));
    }
    struct op op = {.c = c,
                    .store = slot,
                    .method = fwd ? REGION_METHOD_FORWARD : a->method,
                    .req = &req,
                    .req_enc = enc,
                    .req_len = enc_len,
                    .deadline_ms = deadline,
                    .res = res,
                    .err = &err};
    if (rc == 0 && fwd != 0)
        count(c, &c->stats.forwarded);
    if (rc == 0)
        rc = run_op(c, &op);
    region__free(enc);
    req.resolved_locks = NULL; /* ro's */
    req.resolved_locks_count = 0;
    region__txnreq_free(&req);
    if (more && rc == 0)
        *more = op.more;
    int mrc = region__client_code(rc);
    /* the store whose answer it is (a forwarded call's: the leader's, or
     * the forwarding store's NotLeader when it could not reach it) */
    uint64_t at = fwd ? fwd : store;
    if (mrc != MVCC_STORE_UNREACHABLE)
        mark_up(c, slot);
    if (mrc == MVCC_STORE_UNREACHABLE && rc != REGION_ECLOSED &&
        err.code == 0) {
        /* the connection failed: the store may be gone, or moved */
        client_log(c, REGION_LOG_INFO, "store %llu unreachable: %s",
                   (unsigned long long)store, res->errmsg);
        mark_down(c, slot);
        if (c->o.router.invalidate)
            c->o.router.invalidate(c->o.router.ctx, 0, store);
        pthread_mutex_lock(&c->mu);
        c->stores[slot].stale = true; /* ask its address again */
        pthread_mutex_unlock(&c->mu);
    }
    if (mvcc_is_region_error(mrc)) {
        count(c, &c->stats.region_errors);
        char via[40] = "";
        if (fwd)
            snprintf(via, sizeof via, " via store %llu",
                     (unsigned long long)store);
        client_log(c, REGION_LOG_DEBUG,
                   "region %llu epoch %llu/%llu at store %llu%s: %s (leader "
                   "%llu; its region %llu epoch %llu/%llu)",
                   (unsigned long long)d.id, (unsigned long long)d.conf_ver,
                   (unsigned long long)d.version, (unsigned long long)at, via,
                   err.msg[0] ? err.msg : res->errmsg,
                   (unsigned long long)err.leader,
                   (unsigned long long)(err.has_region ? err.region.id : 0),
                   (unsigned long long)(err.has_region ? err.region.conf_ver
                                                       : 0),
                   (unsigned long long)(err.has_region ? err.region.version
                                                       : 0));
        if (err.code == 0 || mrc == MVCC_STORE_UNREACHABLE) {
            /* no detail: whoever leads, it is not reachable there */
            memset(&err, 0, sizeof err);
            err.code = REGION_ENOT_LEADER;
        } else if (err.code == REGION_ENOT_LEADER && err.leader == at) {
            err.leader = 0; /* a store naming itself: do not loop on it */
        }
        /* a store behind the cache: the router is not wrong */
        bool behind = region_cache_behind(c->cache, d.id, &err);
        region_cache_on_error(c->cache, d.id, &err);
        if (c->o.router.invalidate && !behind &&
            (mrc == MVCC_EPOCH_NOT_MATCH || mrc == MVCC_REGION_NOT_FOUND ||
             mrc == MVCC_KEY_NOT_IN_REGION))
            c->o.router.invalidate(c->o.router.ctx, d.id, 0);
        if (mrc == MVCC_STORE_UNREACHABLE && d.n_stores < 2) {
            /* nobody else to try in what we hold (a router's first answer
             * for a new region may list its leader alone): forget the
             * region, so the next attempt asks the router again */
            struct region_err nf = {.code = REGION_ENOT_FOUND};
            region_cache_on_error(c->cache, d.id, &nf);
            if (c->o.router.invalidate)
                c->o.router.invalidate(c->o.router.ctx, d.id, 0);
        }
    }
    return mrc;
}

static int send_cmd(struct region_client *c, uint64_t shard, const void *key,
                    size_t key_len, struct region__txn_args *a,
                    struct mvcc_result *res, bool *more)
{
    return send_read(c, shard, key, key_len, a, NULL, res, more);
}

/* ---------------------------------------------------------------------
 * struct mvcc_transport.
 */
static __thread uint8_t tl_bound[REGION_MAX_BOUND]; /* locate's answer */

static int t_locate(void *ctx, const void *key, size_t len, uint64_t *shard,
                    const uint8_t **end, size_t *end_len)
{
    struct region_client *c = ctx;
    struct region_desc d;
    uint64_t leader;
    /* libmvcc does not retry a failed locate: the map may be catching up
     * (a split, a dead pdd leader), so keep asking for a while */
    uint64_t deadline = mono_ms() + (uint64_t)c->o.call_timeout_ms;
    int rc;
    for (unsigned attempt = 0;; attempt++) {
        rc = route(c, key, len, &d, &leader);
        if (rc == 0 || mono_ms() >= deadline)
            break;
        unsigned ms = attempt < 6 ? 10u << attempt : 500u;
        struct timespec ts = {0, (long)ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc != 0)
        return mvcc_is_region_error(rc) ? rc : MVCC_REGION_NOT_FOUND;
    *shard = d.id;
    memcpy(tl_bound, d.end, d.end_len);
    *end = d.end_len ? tl_bound : NULL;
    *end_len = d.end_len;
    return 0;
}

/* Whether d holds the keys just below key (key NULL: d is the last
 * region): d starts below key and ends at or past it. */
static bool holds_below(const struct region_desc *d, const void *key,
                        size_t len)
{
    if (key == NULL)
        return d->end_len == 0;
    if (d->start_len != 0 &&
        region__cmp_bytes(d->start, d->start_len, key, len) >= 0)
        return false;
    return d->end_len == 0 ||
           region__cmp_bytes(d->end, d->end_len, key, len) >= 0;
}

/* From d, the router's region holding the keys just below key, to the
 * one that holds them now: the router may not have heard of a split the
 * cache has (the left half keeps the id and ends short of key; sent its
 * range, kvd refuses it, see send_cmd). So go region by region (route:
 * the cache, else the router, else the stores) from d's start up to the
 * region that holds the keys below key. */
static int walk_below(struct region_client *c, const void *key, size_t len,
                      struct region_desc *d, uint64_t *leader)
{
    uint8_t at[REGION_MAX_BOUND];
    size_t al = d->start_len;
    memcpy(at, d->start, al);
    for (int i = 0; i < 64; i++) { /* a bound, not a limit met in use */
        struct region_desc r;
        uint64_t l = 0;
        int rc = route(c, at, al, &r, &l);
        if (rc != 0)
            return rc;
        if (holds_below(&r, key, len)) {
            *d = r;
            *leader = l;
            return 0;
        }
        if (r.end_len == 0) /* holds at (below key) yet not below key */
            return REGION_ENOT_FOUND;
        al = r.end_len; /* r ends below key: the next one */
        memcpy(at, r.end, al);
    }
    return REGION_ENOT_FOUND;
}

static int t_locate_prev(void *ctx, const void *key, size_t len,
                         uint64_t *shard, const uint8_t **start,
                         size_t *start_len)
{
    struct region_client *c = ctx;
    struct region_desc d;
    uint64_t leader = 0;
    /* Right after a split the router's map may have a gap: the region it
     * names then ends below key, and scanning it would skip the keys in
     * the gap. Ask again (libmvcc does not retry a failed locate). */
    uint64_t deadline = mono_ms() + (uint64_t)c->o.call_timeout_ms;
    int rc;
    for (unsigned attempt = 0;; attempt++) {
        count(c, &c->stats.router_lookups);
        rc = c->o.router.region_before(c->o.router.ctx, key, len, &d,
                                       &leader);
        if (rc == 0 && (d.id == 0 || !holds_below(&d, key, len)))
            rc = MVCC_REGION_NOT_FOUND;
        if (rc == 0) {
            region_cache_update(c->cache, &d, leader);
            rc = walk_below(c, key, len, &d, &leader);
        }
        if (rc == 0 || mono_ms() >= deadline)
            break;
        unsigned ms = attempt < 6 ? 10u << attempt : 500u;
        struct timespec ts = {0, (long)ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc != 0)
        return mvcc_is_region_error(rc) ? rc : MVCC_REGION_NOT_FOUND;
    *shard = d.id;
    memcpy(tl_bound, d.start, d.start_len);
    *start = d.start_len ? tl_bound : NULL;
    *start_len = d.start_len;
    return 0;
}

static const void *first_key(const struct mvcc_key *keys, size_t n,
                             size_t *len)
{
    *len = n ? keys[0].len : 0;
    return n ? keys[0].data : "";
}

/* A command on keys, routed by its first one. */
static int send_keyed(void *ctx, uint64_t shard, struct region__txn_args *a,
                      struct mvcc_result *res)
{
    size_t kl;
    const void *k = first_key(a->keys, a->nkeys, &kl);
    return send_cmd(ctx, shard, k, kl, a, res, NULL);
}

/* Appends the n entries of src (elem bytes each) to the *dn entries of
 * dst (room for *dcap): *out is dst, or a larger copy (dst freed). */
static int take_entries(void *dst, size_t *dn, size_t *dcap,
                        const void *src, size_t n, size_t elem, void **out)
{
    size_t total = *dn + n;
    *out = dst;
    if (total > *dcap) {
        uint8_t *p = mvcc_malloc(total * elem);
        if (p == NULL)
            return -ENOMEM;
        if (*dn)
            memcpy(p, dst, *dn * elem);
        mvcc_free(dst);
        *out = p;
        *dcap = total;
    }
    if (n)
        memcpy((uint8_t *)*out + *dn * elem, src, n * elem);
    *dn = total;
    return 0;
}

/* Moves the pairs of part to the end of res (part is left without them:
 * res owns their bytes now). */
static int take_pairs(struct mvcc_result *res, struct mvcc_result *part)
{
    void *p;
    int rc = take_entries(res->pairs, &res->npairs, &res->pairs_cap,
                          part->pairs, part->npairs, sizeof *part->pairs, &p);
    res->pairs = p;
    if (rc == 0)
        part->npairs = 0;
    return rc;
}

/* The same for locks. */
static int take_locks(struct mvcc_result *res, struct mvcc_result *part)
{
    void *p;
    int rc = take_entries(res->locks, &res->nlocks, &res->locks_cap,
                          part->locks, part->nlocks, sizeof *part->locks, &p);
    res->locks = p;
    if (rc == 0)
        part->nlocks = 0;
    return rc;
}

/* A ranged read kvd may cut (`more`: a reply grown too big; Scan's
 * pairs, or locks: ScanLock's): asked again from just past the last key
 * (its successor: the key with a 0 byte appended) until kvd has no more
 * or a->limit entries are in (0: any number), into res in order. a's
 * start and limit are the cursor (a->start is freed memory after). */
static int read_continued(void *ctx, uint64_t shard,
                          struct region__txn_args *a,
                          const struct mvcc_read_opts *ro, bool locks,
                          struct mvcc_result *res)
{
    struct mvcc_result part;
    mvcc_result_init(&part);
    mvcc_result_reset(res);
    uint8_t *from = NULL;
    int rc;
    for (;;) {
        bool more;
        rc = send_read(ctx, shard, a->start, a->start_len, a, ro, &part,
                       &more);
        if (rc != 0) {
            mvcc_result_reset(res);
            *res = part; /* the failure's detail */
            mvcc_result_init(&part);
            break;
        }
        size_t got = locks ? part.nlocks : part.npairs;
        uint8_t *next = NULL;
        if (more && got) {
            const void *lk = locks ? (const void *)part.locks[got - 1].key
                                   : (const void *)part.pairs[got - 1].key;
            size_t ll = locks ? part.locks[got - 1].key_len
                              : part.pairs[got - 1].key_len;
            next = mvcc_malloc(ll + 1);
            if (next == NULL) {
                rc = -ENOMEM;
                break;
            }
            memcpy(next, lk, ll);
            next[ll] = 0;
            a->start_len = ll + 1;
        }
        rc = locks ? take_locks(res, &part) : take_pairs(res, &part);
        if (rc != 0) {
            mvcc_free(next);
            break;
        }
        mvcc_free(from);
        from = next;
        if (!more)
            break;
        if (got == 0) {
            rc = REGION_EDECODE;
            snprintf(res->errmsg, sizeof res->errmsg,
                     locks ? "kvd cut a ScanLock reply without a lock"
                           : "kvd cut a Scan reply without a pair");
            break;
        }
        if (a->limit && got >= a->limit)
            break;
        a->start = from;
        if (a->limit)
            a->limit -= (uint32_t)got;
    }
    mvcc_free(from);
    mvcc_result_reset(&part);
    return rc;
}

static int t_batch_get(void *ctx, uint64_t shard,
                       const struct mvcc_read_opts *ro,
                       const struct mvcc_key *keys, size_t n, mvcc_ts ts,
                       struct mvcc_result *res)
{
    /* kvd reads at SI, skipping the locks of ro's bypass list (DESIGN.md
     * "Cluster transport") */
    /* kvd answers the keys in order and cuts a reply that grows too big
     * (`more`): ask again for the keys after the last one answered */
    struct mvcc_result part;
    mvcc_result_init(&part);
    mvcc_result_reset(res);
    size_t from = 0;
    int rc = 0;
    for (;;) {
        size_t kl;
        const void *k = first_key(keys + from, n - from, &kl);
        struct region__txn_args a = {.method = REGION_METHOD_TXN_BATCH_GET,
                                     .keys = keys + from,
                                     .nkeys = n - from,
                                     .version = ts};
        bool more;
        rc = send_read(ctx, shard, k, kl, &a, ro, &part, &more);
        if (rc != 0) {
            mvcc_result_reset(res);
            *res = part; /* the failure's detail */
            return rc;
        }
        size_t next = from;
        for (size_t i = 0; i < part.npairs; i++) {
            const struct mvcc_kvpair *p = &part.pairs[i];
            while (next < n && (keys[next].len != p->key_len ||
                                memcmp(keys[next].data, p->key,
                                       p->key_len) != 0))
                next++;
            if (next < n)
                next++; /* past the key answered */
        }
        if ((rc = take_pairs(res, &part)) != 0)
            break;
        if (!more || next >= n)
            break;
        if (next == from) { /* a cut reply must answer something */
            rc = REGION_EDECODE;
            snprintf(res->errmsg, sizeof res->errmsg,
                     "kvd cut a BatchGet reply without answering a key");
            break;
        }
        from = next;
    }
    mvcc_result_reset(&part);
    return rc;
}

static int t_scan(void *ctx, uint64_t shard, const struct mvcc_read_opts *ro,
                  const void *start, size_t sl, const void *end, size_t el,
                  mvcc_ts ts, struct mvcc_result *res)
{
    bool reverse = ro && ro->reverse;
    size_t limit = ro ? ro->limit : 0;
    struct region__txn_args a = {.method = REGION_METHOD_TXN_SCAN,
                                 .start = start ? start : "",
                                 .start_len = sl,
                                 .end = end,
                                 .end_len = el,
                                 /* kvd scans forward: a reverse scan
                                    reads the whole range, then cuts */
                                 .limit = reverse || limit > UINT32_MAX
                                              ? 0
                                              : (uint32_t)limit,
                                 .version = ts};
    int rc = read_continued(ctx, shard, &a, ro, false, res);
    if (rc == 0)
        region__scan_adjust(res, ro && ro->key_only, reverse, limit);
    return rc;
}

static int t_prewrite(void *ctx, uint64_t shard,
                      const struct mvcc_prewrite_req *req,
                      struct mvcc_result *res)
{
    const void *k = req->n ? req->mutations[0].key : "";
    size_t kl = req->n ? req->mutations[0].key_len : 0;
    struct region__txn_args a = {.method = REGION_METHOD_TXN_PREWRITE,
                                 .muts = req->mutations,
                                 .nmuts = req->n,
                                 .primary = req->primary,
                                 .primary_len = req->primary_len,
                                 .version = req->start_ts,
                                 .lock_ttl = req->lock_ttl,
                                 .txn_size = req->txn_size,
                                 .min_commit_ts = req->min_commit_ts,
                                 .deadline_ms = req->deadline_ms,
                                 .for_update_ts = req->for_update_ts,
                                 .try_one_pc = req->try_one_pc,
                                 .use_async_commit = req->use_async_commit,
                                 .secondaries = req->secondaries,
                                 .nsecondaries = req->nsecondaries};
    int rc = send_cmd(ctx, shard, k, kl, &a, res, NULL);
    /* A kvd from before these fields ignores them and only prewrites:
     * then commit_ts (1PC) or min_commit_ts (async) is 0, never so when
     * it served them. Taking that as committed would lose the write (its
     * locks would be rolled back by the next reader): fail instead, and
     * libmvcc's client rolls the prewrite back. */
    if (rc == 0 && ((req->try_one_pc && res->commit_ts == 0) ||
                    (req->use_async_commit && res->min_commit_ts == 0))) {
        mvcc_result_reset(res);
        snprintf(res->errmsg, sizeof res->errmsg,
                 "kvd did not serve %s (an older kvd?)",
                 req->try_one_pc ? "1PC" : "async commit");
        rc = -ENOTSUP;
    }
    return rc;
}

static int t_commit(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                    size_t n, mvcc_ts start_ts, mvcc_ts commit_ts,
                    struct mvcc_result *res)
{
    struct region__txn_args a = {.method = REGION_METHOD_TXN_COMMIT,
                                 .keys = keys,
                                 .nkeys = n,
                                 .version = start_ts,
                                 .commit_version = commit_ts};
    return send_keyed(ctx, shard, &a, res);
}

static int t_rollback(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                      size_t n, mvcc_ts start_ts, struct mvcc_result *res)
{
    struct region__txn_args a = {.method = REGION_METHOD_TXN_BATCH_ROLLBACK,
                                 .keys = keys,
                                 .nkeys = n,
                                 .version = start_ts};
    return send_keyed(ctx, shard, &a, res);
}

static int t_check(void *ctx, uint64_t shard,
                   const struct mvcc_check_txn_req *req,
                   struct mvcc_result *res)
{
    struct region__txn_args a = {
        .method = REGION_METHOD_TXN_CHECK_TXN_STATUS,
        .key = req->primary,
        .key_len = req->primary_len,
        .version = req->lock_ts,
        .caller_start_ts = req->caller_start_ts,
        .current_ts = req->current_ts,
        .rollback_if_not_exist = req->rollback_if_not_exist};
    return send_cmd(ctx, shard, req->primary, req->primary_len, &a, res, NULL);
}

static int t_check_sec(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                       size_t n, mvcc_ts start_ts, struct mvcc_result *res)
{
    struct region__txn_args a = {
        .method = REGION_METHOD_TXN_CHECK_SECONDARY_LOCKS,
        .keys = keys,
        .nkeys = n,
        .version = start_ts};
    return send_keyed(ctx, shard, &a, res);
}

static int t_resolve(void *ctx, uint64_t shard, mvcc_ts start_ts,
                     mvcc_ts commit_ts, const void *start, size_t sl,
                     const void *end, size_t el, struct mvcc_result *res)
{
    struct region__txn_args a = {.method = REGION_METHOD_TXN_RESOLVE_LOCK,
                                 .start = start ? start : "",
                                 .start_len = sl,
                                 .end = end,
                                 .end_len = el,
                                 .version = start_ts,
                                 .commit_version = commit_ts};
    return send_cmd(ctx, shard, start ? start : "", sl, &a, res, NULL);
}

/* ScanLock, GC's first step (mvcc_client_resolve_below): the locks with
 * start_ts <= max_ts in [start, end) of the region, at most limit (0:
 * all), in key order. The range is checked against the region as the
 * cache has it, as a Scan's (send_read). kvd answers at most 65,535
 * locks a reply and says `more` (DESIGN.md "Cluster transport"): ask
 * again from just past the last lock's key until limit locks are in or
 * kvd has no more. */
static int t_scan_lock(void *ctx, uint64_t shard, mvcc_ts max_ts,
                       const void *start, size_t sl, const void *end,
                       size_t el, size_t limit, struct mvcc_result *res)
{
    struct region__txn_args a = {.method = REGION_METHOD_TXN_SCAN_LOCK,
                                 .start = start ? start : "",
                                 .start_len = sl,
                                 .end = end,
                                 .end_len = el,
                                 .limit = limit > UINT32_MAX
                                              ? UINT32_MAX
                                              : (uint32_t)limit,
                                 .max_ts = max_ts};
    return read_continued(ctx, shard, &a, NULL, true, res);
}

static int t_heartbeat(void *ctx, uint64_t shard, const void *primary,
                       size_t pl, mvcc_ts start_ts, uint64_t ttl,
                       struct mvcc_result *res)
{
    struct region__txn_args a = {.method = REGION_METHOD_TXN_HEARTBEAT,
                                 .key = primary,
                                 .key_len = pl,
                                 .version = start_ts,
                                 .lock_ttl = ttl};
    return send_cmd(ctx, shard, primary, pl, &a, res, NULL);
}

static int t_plock(void *ctx, uint64_t shard,
                   const struct mvcc_pessimistic_req *req,
                   struct mvcc_result *res)
{
    struct region__txn_args a = {
        .method = REGION_METHOD_TXN_PESSIMISTIC_LOCK,
        .keys = req->keys,
        .nkeys = req->n,
        .primary = req->primary,
        .primary_len = req->primary_len,
        .version = req->start_ts,
        .for_update_ts = req->for_update_ts,
        .lock_ttl = req->lock_ttl,
        .wait_timeout_ms = req->wait_timeout_ms,
        .return_values = req->return_values};
    return send_keyed(ctx, shard, &a, res);
}

static int t_prollback(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                       size_t n, mvcc_ts start_ts, mvcc_ts for_update_ts,
                       struct mvcc_result *res)
{
    struct region__txn_args a = {
        .method = REGION_METHOD_TXN_PESSIMISTIC_ROLLBACK,
        .keys = keys,
        .nkeys = n,
        .version = start_ts,
        .for_update_ts = for_update_ts};
    return send_keyed(ctx, shard, &a, res);
}

/* Coprocessor: the request travels as opaque bytes (libsql's); kvd
 * answers with one pair whose value is the answer (DESIGN.md "Cluster
 * transport"). The range is the caller's, inside the region it located:
 * the epoch sent along makes kvd refuse it if the region changed. */
static int t_cop(void *ctx, uint64_t shard, const void *start, size_t sl,
                 const void *end, size_t el, mvcc_ts ts, const void *req,
                 size_t req_len, uint8_t **resp, size_t *resp_len,
                 struct mvcc_result *res)
{
    struct region__txn_args a = {.method = REGION_METHOD_TXN_COP,
                                 .start = start ? start : "",
                                 .start_len = sl,
                                 .end = end,
                                 .end_len = el,
                                 .version = ts,
                                 .cop = req,
                                 .cop_len = req_len};
    *resp = NULL;
    *resp_len = 0;
    int rc = send_cmd(ctx, shard, a.start, a.start_len, &a, res, NULL);
    if (rc != 0)
        return rc;
    if (res->npairs != 1 || res->pairs[0].value == NULL) {
        mvcc_result_reset(res);
        snprintf(res->errmsg, sizeof res->errmsg,
                 "kvd's coprocessor reply carries no answer");
        return REGION_EDECODE;
    }
    /* hand the value over: the result no longer owns it */
    *resp = res->pairs[0].value;
    *resp_len = res->pairs[0].value_len;
    res->pairs[0].value = NULL;
    mvcc_result_reset(res);
    return 0;
}

void region_client_transport(struct region_client *c,
                             struct mvcc_transport *t)
{
    memset(t, 0, sizeof *t);
    t->ctx = c;
    t->locate = t_locate;
    t->locate_prev = c->o.router.region_before ? t_locate_prev : NULL;
    t->batch_get = t_batch_get;
    t->scan = t_scan;
    t->prewrite = t_prewrite;
    t->commit = t_commit;
    t->batch_rollback = t_rollback;
    t->check_txn_status = t_check;
    t->check_secondary_locks = t_check_sec;
    t->resolve_lock = t_resolve;
    t->scan_lock = t_scan_lock;
    t->txn_heartbeat = t_heartbeat;
    t->acquire_pessimistic_lock = t_plock;
    t->pessimistic_rollback = t_prollback;
    t->cop = t_cop;
}

/* ---------------------------------------------------------------------
 * Point reads on a caller's own event loop (region_loop_*): one
 * multiplexed connection per store, made on that loop and watched by it
 * for as long as it lives (no descriptor added to and removed from epoll
 * per read, no blocking connection taken from the pool and checked).
 * Nothing here waits: no routing round trip (the slow path, the
 * transport, routes and warms the cache), and the connect is the loop's
 * own. The loop's connections are the caller's thread's alone;
 * the store table (addresses, generations) is read under c->mu.
 */
struct region_loop {
    struct region_client *c;           /* the client */
    struct event_base *base;           /* the caller's loop */
    struct rpc_client *cli[MAX_STORES]; /* per store slot; NULL unused */
    unsigned cli_gen[MAX_STORES];      /* the slot's gen cli was made for */
};

struct region_lget {
    struct region_loop *l;   /* the reader */
    size_t store;            /* slot of the store asked */
    uint64_t region;         /* the region asked */
    uint64_t id;             /* the call's id on the store's connection */
    region_lget_fn fn;       /* the caller's callback */
    void *ud;                /* its argument */
    bool aborted;            /* fn is not called */
};

int region_loop_create(struct region_client *c, struct event_base *base,
                       struct region_loop **out)
{
    *out = NULL;
    struct region_loop *l = region__calloc(1, sizeof *l);
    if (l == NULL)
        return -ENOMEM;
    l->c = c;
    l->base = base;
    *out = l;
    return 0;
}

void region_loop_destroy(struct region_loop *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < MAX_STORES; i++)
        rpc_client_destroy(l->cli[i]); /* pending reads end, unreachable */
    region__free(l);
}

static void lget_done(int rc, const uint8_t *payload, size_t len,
                      const char *errmsg, void *ud)
{
    struct region_lget *g = ud;
    if (g->aborted) {
        region__free(g);
        return;
    }
    struct region_client *c = g->l->c;
    struct mvcc_result res;
    mvcc_result_init(&res);
    struct region_err e;
    memset(&e, 0, sizeof e);
    struct op op = {.res = &res, .err = &e};
    struct direct_reply dr = {.op = &op};
    if (rc == 0)
        on_direct_reply(rc, payload, len, errmsg, &dr);
    char err[256];
    snprintf(err, sizeof err, "%s", errmsg);
    bool keep;
    int mrc = region__client_code(direct_outcome(rc, &dr, err, sizeof err,
                                                 &keep));
    if (mvcc_is_region_error(mrc) && e.code != 0) {
        /* what the transport would learn from it, so the next read goes
         * where the region is now */
        count(c, &c->stats.region_errors);
        region_cache_on_error(c->cache, g->region, &e);
    }
    g->fn(mrc, &res, g->ud);
    mvcc_result_reset(&res);
    region__free(g);
}

int region_loop_get(struct region_loop *l, const void *key, size_t len,
                    uint64_t ts, region_lget_fn fn, void *ud,
                    struct region_lget **out)
{
    struct region_client *c = l->c;
    *out = NULL;
    struct region_desc d;
    uint64_t leader = 0;
    if (region_cache_lookup(c->cache, key, len, &d, &leader) != 0 ||
        leader == 0 || store_down(c, leader, mono_ms()))
        return -EAGAIN;
    pthread_mutex_lock(&c->mu);
    size_t slot = MAX_STORES;
    for (size_t i = 0; i < MAX_STORES && slot == MAX_STORES; i++)
        if (c->stores[i].id == leader && !c->stores[i].stale)
            slot = i;
    bool stopping = c->stopping;
    pthread_mutex_unlock(&c->mu);
    if (slot == MAX_STORES || stopping)
        return -EAGAIN; /* the store's address is the transport's to find */
    if (store_conn(c, slot, l->base, &l->cli[slot], &l->cli_gen[slot]) != 0)
        return -EAGAIN;
    struct rpc_client *cli = l->cli[slot];
    struct region_lget *g = region__calloc(1, sizeof *g);
    if (g == NULL)
        return -ENOMEM;
    *g = (struct region_lget){l, slot, d.id, 0, fn, ud, false};
    struct mvcc_key k = {key, len};
    struct region__txn_args a = {.method = REGION_METHOD_TXN_BATCH_GET,
                                 .ctx = {.region_id = d.id,
                                         .conf_ver = d.conf_ver,
                                         .version = d.version},
                                 .keys = &k,
                                 .nkeys = 1,
                                 .version = ts};
    uint8_t *enc = NULL;
    size_t enc_len = 0;
    int rc = region__txnreq_encode(&a, NULL, 0, &enc, &enc_len);
    if (rc != 0) { /* a key over nanopb's limit, or -ENOMEM */
        region__free(g);
        return rc == -ENOMEM ? rc : -EAGAIN;
    }
    struct rpc_call_spec cs = {.method = REGION_METHOD_TXN_BATCH_GET,
                               .req_encoded = enc,
                               .req_len = enc_len,
                               .done_raw = lget_done,
                               .ud = g};
    rc = rpc_client_call(cli, &cs, &g->id);
    region__free(enc);
    if (rc != 0) { /* done is not called */
        region__free(g);
        return rc == -ENOMEM ? rc : -EAGAIN;
    }
    pthread_mutex_lock(&c->mu);
    c->stats.calls++;
    c->stats.direct_calls++;
    pthread_mutex_unlock(&c->mu);
    *out = g;
    return 0;
}

void region_lget_abort(struct region_lget *g)
{
    if (g == NULL)
        return;
    g->aborted = true;
    /* lget_done runs inside (RPC_ECANCELED) and frees g */
    (void)rpc_client_cancel(g->l->cli[g->store], g->id);
}

/* client.c: the PD client (DESIGN.md "Client"): blocking calls from any
 * thread, served by one private loop thread that holds a librpc connection
 * per member, follows the leader (redirects, failover), retries with
 * backoff, and folds concurrent Tso requests into one call per round trip.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "pd.pb.h"
#include "pd.h"
#include "pd_int.h"
#include "rpc.h"

#define MAX_ENDPOINTS 16
#define CACHE_MAX 65536 /* regions cached at most; beyond, all dropped */

/* A cached region: its info with keys owned here. */
struct cached
{
    struct pd_region_info info; /* keys point into start/end below */
    uint8_t *start;             /* start key copy (malloc) */
    uint8_t *end;               /* end key copy (malloc) */
};

enum op_kind {
    OP_CALL = 0,  /* one unary call for a caller */
    OP_TSO = 1,   /* a caller's Tso request, served by a batch */
    OP_BATCH = 2, /* the loop's Tso call covering several OP_TSO */
    OP_REFRESH = 3, /* the loop's own GetMembers: learn the member list */
};

struct op
{
    int kind;                              /* enum op_kind */
    uint32_t method;                       /* method id */
    const struct pb_msgdesc_s *req_fields; /* request message */
    const void *req;                       /* caller's (borrowed) */
    const struct pb_msgdesc_s *resp_fields; /* reply message */
    size_t resp_size;                      /* sizeof the reply struct */
    uint8_t *resp_bytes;                   /* the reply, re-encoded */
    size_t resp_len;                       /* its length */
    uint32_t count;                        /* TSO: timestamps */
    pd_ts first;                           /* TSO: the first one */
    pd_TsoRequest tso_req;                 /* BATCH: its request */
    pd_GetMembersRequest gm_req;           /* REFRESH: its request */
    struct rpc_client *cli;                /* connection of the attempt out */
    struct op *members;                    /* BATCH: the OP_TSO served */
    uint64_t deadline_ms;                  /* give up after (mono) */
    uint64_t backoff_ms;                   /* next retry delay */
    struct event *retry_ev;                /* backoff timer */
    int rc;                                /* result */
    char err[256];                         /* its detail */
    uint64_t sent_ms;                      /* stream: mono ms it was sent */
    pd_tso_done_fn tso_done;               /* async TSO: called instead of
                                              waking a waiter */
    void *tso_ud;                          /* passed to tso_done */
    bool done;                             /* finished: the waiter goes */
    pthread_mutex_t mu;                    /* guards done, rc, err */
    pthread_cond_t cond;                   /* signals done to its waiter */
    struct op *next;                       /* queue link */
};

/* A bidirectional stream to the leader carrying one kind of request
 * (Tso batches, region heartbeats), answered in order (DESIGN.md
 * "Client"). Loop thread only. */
struct chan
{
    struct pd_client *c;        /* owner */
    uint32_t method;            /* PD_METHOD_*_STREAM */
    struct rpc_client *cli;     /* connection the stream is on; NULL none */
    uint64_t id;                /* its stream id */
    struct op *sent;            /* ops sent, answered in this order */
    struct op *sent_tail;       /* last of them */
    struct op *wait;            /* ops waiting for credit */
    struct op *wait_tail;       /* last of them */
    struct event *timer;        /* the oldest sent op's attempt deadline */
};

struct endpoint
{
    char addr[128];          /* host:port */
    struct rpc_client *cli;  /* connection, made on first use */
};

struct pd_client
{
    struct event_base *base;        /* the private loop */
    pthread_t thread;               /* runs it */
    bool thread_started;            /* thread is running */
    int wake_fds[2];                /* pipe: other threads wake the loop */
    struct event *wake_ev;          /* reads wake_fds[0] */
    pthread_mutex_t lock;           /* guards queue, stopping, done flags */
    struct op *queue;               /* submitted, not yet taken */
    bool stopping;                  /* destroy asked the loop to end */
    /* Loop thread only: */
    struct endpoint eps[MAX_ENDPOINTS]; /* members known */
    size_t n_eps;                   /* used entries */
    size_t leader;                  /* index of the endpoint called */
    struct op *tso_wait;            /* OP_TSO not in a batch yet */
    struct op *tso_wait_tail;       /* last of them */
    bool batch_in_flight;           /* a BATCH call is out */
    bool closing;                   /* destroy: start nothing more */
    int timeout_ms;                 /* per operation */
    int call_timeout_ms;            /* per attempt */
    const struct rpc_tls_config *tls; /* options' TLS, NULL: plaintext */
    struct op *refresh;             /* the OP_REFRESH out, NULL none */
    struct chan tso_ch;             /* Tso stream */
    struct chan hb_ch;              /* RegionHeartbeat stream */
    bool streams_off;               /* unary calls only (option, or a pdd
                                       without the stream methods) */
    void (*on_hint)(void *, uint64_t); /* options' hint callback */
    void *hint_ud;                     /* its argument */
    uint64_t refresh_ms;            /* mono ms the last one started */
    /* Read by any thread (under lock): */
    uint64_t cluster_id;            /* given, or learned from GetMembers */
    bool cluster_id_given;          /* options named it: never relearn */
    struct pd_client_store *stores; /* store cache, unsorted */
    size_t n_stores;                /* used entries */
    size_t stores_cap;              /* allocated entries */
    struct cached **cache;          /* regions by start key, disjoint */
    size_t n_cache;                 /* used entries */
    size_t cache_cap;               /* allocated entries */
    char leader_addr[128];          /* for pd_client_leader */
    struct pd_client_stats stats;   /* counters */
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Each op has its own mutex: finishing one does not contend with the
 * client's lock, which 64 threads queueing requests hold often. */
static void op_free(struct op *op);

static void finish(struct pd_client *c, struct op *op, int rc,
                   const char *err)
{
    (void)c;
    if (op->tso_done) { /* pd_client_tso_async: nobody waits; op is ours */
        op->tso_done(rc, rc == 0 ? op->first : 0,
                     rc == 0 ? "" : err ? err : pd_strerror(rc), op->tso_ud);
        op_free(op);
        return;
    }
    pthread_mutex_lock(&op->mu);
    op->rc = rc;
    if (err && err != op->err)
        snprintf(op->err, sizeof(op->err), "%s", err);
    op->done = true;
    pthread_cond_signal(&op->cond);
    pthread_mutex_unlock(&op->mu);
}

static size_t endpoint_find_or_add(struct pd_client *c, const char *addr)
{
    for (size_t i = 0; i < c->n_eps; i++)
        if (strcmp(c->eps[i].addr, addr) == 0)
            return i;
    if (c->n_eps == MAX_ENDPOINTS || strlen(addr) >= sizeof(c->eps[0].addr))
        return c->leader;
    snprintf(c->eps[c->n_eps].addr, sizeof(c->eps[0].addr), "%s", addr);
    c->eps[c->n_eps].cli = NULL;
    pthread_mutex_lock(&c->lock);
    c->stats.members = c->n_eps + 1;
    pthread_mutex_unlock(&c->lock);
    return c->n_eps++;
}

/* Splits host:port ("[v6]:port" too); 0 or -1. */
static int split_addr(const char *addr, char *host, size_t hl, uint16_t *port)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr)
        return -1;
    const char *h = addr;
    size_t n = (size_t)(colon - addr);
    if (h[0] == '[' && n >= 2 && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n == 0 || n >= hl)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p <= 0 || p > 65535 || colon[1] == '\0')
        return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static struct rpc_client *endpoint_client(struct pd_client *c, size_t i)
{
    struct endpoint *e = &c->eps[i];
    if (e->cli)
        return e->cli;
    char host[128];
    uint16_t port;
    if (split_addr(e->addr, host, sizeof(host), &port) != 0)
        return NULL;
    struct rpc_client_options co = {
        .host = host,
        .port = port,
        .tls = c->tls,
        .connect_timeout_ms = c->call_timeout_ms,
        .default_deadline_ms = c->call_timeout_ms,
    };
    if (rpc_client_create(c->base, &co, &e->cli) != 0)
        return NULL;
    return e->cli;
}

static void start_call(struct pd_client *c, struct op *op);

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct op *op = arg;
    struct pd_client *c = *(struct pd_client **)(op + 1);
    start_call(c, op);
}

static void tso_pump(struct pd_client *c);

/* Finishes a batch's callers with rc (first: the batch's first ts). */
static void batch_finish(struct pd_client *c, struct op *b, int rc,
                         pd_ts first)
{
    struct op *m = b->members;
    while (m) {
        struct op *next = m->next;
        if (rc == 0) {
            m->first = first;
            first += m->count;
        }
        finish(c, m, rc, b->err);
        m = next;
    }
    if (b->retry_ev)
        event_free(b->retry_ev);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->mu);
    pd__free(b);
    c->batch_in_flight = false;
    tso_pump(c);
}

static void refresh_end(struct pd_client *c, struct op *op);

static void op_fail(struct pd_client *c, struct op *op, int rc,
                    const char *err)
{
    if (op->kind == OP_REFRESH) {
        refresh_end(c, op);
        return;
    }
    if (op->kind == OP_BATCH) {
        snprintf(op->err, sizeof(op->err), "%s", err);
        batch_finish(c, op, rc, 0);
    } else {
        finish(c, op, rc, err);
    }
}

static bool retryable(int rc)
{
    return rc == PD_ENOTLEADER || rc == PD_ENOTREADY || rc == RPC_ECONNECT ||
           rc == RPC_ECONNLOST || rc == RPC_EDEADLINE || rc == RPC_EBUSY ||
           rc == RPC_ESTALLED || rc == -ENOMEM;
}

static void refresh_start(struct pd_client *c);

/* A failed attempt: follow a redirect, or try another member, after a
 * backoff; give up when the operation's deadline would pass. */
static void attempt_failed(struct pd_client *c, struct op *op, int rc,
                           const char *errmsg)
{
    if (!retryable(rc)) {
        op_fail(c, op, rc, errmsg);
        return;
    }
    uint64_t delay = op->backoff_ms;
    const char *l = strstr(errmsg, "leader: ");
    if (rc == PD_ENOTLEADER && l) {
        char addr[128];
        size_t k = 0;
        for (l += 8; *l && *l != ' ' && *l != ')' && k + 1 < sizeof(addr); l++)
            addr[k++] = *l;
        addr[k] = '\0';
        size_t known = c->n_eps;
        size_t i = endpoint_find_or_add(c, addr);
        if (i != c->leader) {
            c->leader = i;
            delay = 0; /* a redirect to another member: go at once */
        }
        if (c->n_eps > known)
            refresh_start(c); /* a member we did not know: the group
                                 changed, learn all of it */
        pthread_mutex_lock(&c->lock);
        c->stats.redirects++;
        pthread_mutex_unlock(&c->lock);
    } else if (rc != PD_ENOTREADY && !(rc == PD_ENOTLEADER) && c->n_eps > 1) {
        c->leader = (c->leader + 1) % c->n_eps;
        if (op->kind != OP_REFRESH)
            refresh_start(c); /* a member unreachable: it may be gone */
    } else if (rc == PD_ENOTLEADER && c->n_eps > 1) {
        /* No leader known there: ask another member. */
        c->leader = (c->leader + 1) % c->n_eps;
    }
    uint64_t now = mono_ms();
    if (now + delay >= op->deadline_ms) {
        char m[256];
        snprintf(m, sizeof(m), "gave up after retries: %s", errmsg);
        op_fail(c, op, rc, m);
        return;
    }
    pthread_mutex_lock(&c->lock);
    c->stats.retries++;
    pthread_mutex_unlock(&c->lock);
    if (delay)
        op->backoff_ms = op->backoff_ms * 2 > 1000 ? 1000 : op->backoff_ms * 2;
    if (!op->retry_ev) {
        op->retry_ev = evtimer_new(c->base, on_retry, op);
        if (!op->retry_ev) {
            op_fail(c, op, -ENOMEM, "out of memory");
            return;
        }
    }
    struct timeval tv = {(time_t)(delay / 1000),
                         (suseconds_t)(delay % 1000) * 1000};
    evtimer_add(op->retry_ev, &tv);
}

static bool is_member(const pd_GetMembersResponse *r, const char *addr)
{
    for (pb_size_t i = 0; i < r->members_count; i++)
        if (r->members[i].address && strcmp(r->members[i].address, addr) == 0)
            return true;
    return false;
}

/* A GetMembers reply (loop thread): every member becomes an endpoint, the
 * leader the one called next, and the cluster id is remembered. Endpoints
 * that are no longer members (removed from the group) are dropped once no
 * call is out on them, so a client that lives through several membership
 * changes keeps room for the members that remain. */
static void learn_members(struct pd_client *c, const pd_GetMembersResponse *r,
                          const struct rpc_client *replying)
{
    for (size_t i = 0; r->members_count > 0 && i < c->n_eps;) {
        struct endpoint *e = &c->eps[i];
        if (i == c->leader || is_member(r, e->addr) || e->cli == replying ||
            (e->cli && rpc_client_in_flight(e->cli) > 0)) {
            i++;
            continue;
        }
        rpc_client_destroy(e->cli);
        e->cli = NULL;
        c->n_eps--;
        if (i != c->n_eps) {
            c->eps[i] = c->eps[c->n_eps];
            c->eps[c->n_eps].cli = NULL;
        }
        if (c->leader == c->n_eps)
            c->leader = i;
    }
    for (pb_size_t i = 0; i < r->members_count; i++) {
        if (!r->members[i].address)
            continue;
        size_t k = endpoint_find_or_add(c, r->members[i].address);
        if (r->members[i].id == r->leader_id)
            c->leader = k;
    }
    pthread_mutex_lock(&c->lock);
    if (r->cluster_id && !c->cluster_id_given)
        c->cluster_id = r->cluster_id;
    c->stats.members = c->n_eps;
    pthread_mutex_unlock(&c->lock);
}

static void call_done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct op *op = ud;
    struct pd_client *c = *(struct pd_client **)(op + 1);
    if (rc != 0) {
        attempt_failed(c, op, rc, errmsg);
        return;
    }
    pthread_mutex_lock(&c->lock);
    snprintf(c->leader_addr, sizeof(c->leader_addr), "%s",
             c->eps[c->leader].addr);
    pthread_mutex_unlock(&c->lock);
    if (op->method == PD_METHOD_GET_MEMBERS && op->kind == OP_CALL)
        learn_members(c, resp, op->cli);
    if (op->kind == OP_REFRESH) {
        learn_members(c, resp, op->cli);
        refresh_end(c, op);
        return;
    }
    if (op->kind == OP_BATCH) {
        const pd_TsoResponse *r = resp;
        if (r->count != op->count) {
            op_fail(c, op, PD_EINTERNAL, "tso reply count differs");
            return;
        }
        batch_finish(c, op, 0, r->first);
        return;
    }
    /* The reply is borrowed for this callback: hand it over re-encoded. */
    size_t len = 0;
    if (!pb_get_encoded_size(&len, op->resp_fields, resp)) {
        finish(c, op, PD_EINTERNAL, "reply does not encode");
        return;
    }
    op->resp_bytes = pd__malloc(len + 1);
    if (!op->resp_bytes) {
        finish(c, op, -ENOMEM, "out of memory");
        return;
    }
    pb_ostream_t os = pb_ostream_from_buffer(op->resp_bytes, len);
    if (!pb_encode(&os, op->resp_fields, resp)) {
        finish(c, op, PD_EINTERNAL, "reply does not encode");
        return;
    }
    op->resp_len = os.bytes_written;
    finish(c, op, 0, NULL);
}

/* ---- streams ------------------------------------------------------------ */

static void op_push(struct op **head, struct op **tail, struct op *op)
{
    op->next = NULL;
    if (*tail)
        (*tail)->next = op;
    else
        *head = op;
    *tail = op;
}

static struct chan *chan_of(struct pd_client *c, const struct op *op)
{
    if (c->streams_off)
        return NULL;
    if (op->kind == OP_BATCH)
        return &c->tso_ch;
    if (op->kind == OP_CALL && op->method == PD_METHOD_REGION_HEARTBEAT)
        return &c->hb_ch;
    return NULL;
}

/* Arms the timer for the oldest op sent, if any and not armed. */
static void chan_arm(struct chan *ch)
{
    if (!ch->sent || evtimer_pending(ch->timer, NULL))
        return;
    uint64_t now = mono_ms();
    uint64_t due = ch->sent->sent_ms + (uint64_t)ch->c->call_timeout_ms;
    uint64_t ms = due > now ? due - now : 0;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(ch->timer, &tv);
}

/* Drops ch's stream (canceling it when cancel) and hands every op that was
 * on it back to attempt_failed with rc, as a failed unary attempt. */
static void chan_reset(struct chan *ch, int rc, const char *msg, bool cancel)
{
    struct pd_client *c = ch->c;
    struct rpc_client *cli = ch->cli;
    uint64_t id = ch->id;
    struct op *ops = ch->sent;
    if (ch->sent_tail)
        ch->sent_tail->next = ch->wait;
    else
        ops = ch->wait;
    ch->sent = ch->sent_tail = ch->wait = ch->wait_tail = NULL;
    ch->cli = NULL;
    ch->id = 0;
    evtimer_del(ch->timer);
    if (cli && cancel)
        rpc_client_cancel(cli, id); /* its done sees ch->cli NULL */
    while (ops) {
        struct op *op = ops;
        ops = op->next;
        op->next = NULL;
        attempt_failed(c, op, rc, msg);
    }
}

static void chan_done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct chan *ch = ud;
    (void)resp;
    if (!ch->cli)
        return; /* a stream chan_reset dropped */
    if (rc == RPC_EUNKNOWN_METHOD) {
        /* A pdd from before the streams: unary calls from now on. */
        ch->c->streams_off = true;
        rc = RPC_ECONNLOST;
    }
    if (rc == 0 || rc == RPC_ECANCELED || rc == RPC_ECLOSED) {
        if (rc != RPC_ECLOSED)
            rc = RPC_ECONNLOST; /* ended under us: try again */
        if (!errmsg[0])
            errmsg = "pdd ended the stream";
    }
    chan_reset(ch, rc, errmsg, false);
}

static void chan_msg(const void *msg, void *ud)
{
    struct chan *ch = ud;
    struct pd_client *c = ch->c;
    if (ch == &c->hb_ch && ((const pd_RegionHeartbeatResponse *)msg)->hint) {
        /* pushed, not an answer: the ops sent wait on */
        uint64_t id = ((const pd_RegionHeartbeatResponse *)msg)->region_id;
        pthread_mutex_lock(&c->lock);
        c->stats.hints++;
        pthread_mutex_unlock(&c->lock);
        if (c->on_hint && id != 0)
            c->on_hint(c->hint_ud, id);
        return;
    }
    struct op *op = ch->sent;
    if (!op)
        return; /* nothing asked: not an answer of ours */
    ch->sent = op->next;
    if (!ch->sent)
        ch->sent_tail = NULL;
    op->next = NULL;
    evtimer_del(ch->timer);
    chan_arm(ch);
    if (ch == &ch->c->hb_ch) {
        const pd_RegionHeartbeatResponse *r = msg;
        if (r->error != 0) {
            char m[256];
            if (r->error_text)
                snprintf(m, sizeof(m), "%s", r->error_text);
            else
                snprintf(m, sizeof(m), "region heartbeat %" PRIu64 ": %s",
                         r->region_id, pd_strerror(r->error));
            call_done(r->error, NULL, m, op);
            return;
        }
    }
    call_done(0, msg, "", op);
}

/* Sends op on the stream (opened first if needed). 0, or an error for
 * which op was not sent. */
static int chan_put(struct chan *ch, struct op *op)
{
    int rc = rpc_client_stream_send(ch->cli, ch->id, op->req);
    if (rc == 0) {
        op->sent_ms = mono_ms();
        op_push(&ch->sent, &ch->sent_tail, op);
        chan_arm(ch);
        pthread_mutex_lock(&ch->c->lock);
        ch->c->stats.stream_msgs++;
        pthread_mutex_unlock(&ch->c->lock);
    }
    return rc;
}

static void chan_window(void *ud)
{
    struct chan *ch = ud;
    while (ch->wait) {
        struct op *op = ch->wait;
        struct op *next = op->next;
        int rc = chan_put(ch, op);
        if (rc == RPC_EBUSY)
            return;
        if (rc != 0) { /* op is still first in wait: reset takes all */
            chan_reset(ch, rc, rpc_strerror(rc), true);
            return;
        }
        ch->wait = next;
        if (!next)
            ch->wait_tail = NULL;
    }
}

static void chan_send(struct pd_client *c, struct chan *ch, struct op *op,
                      struct rpc_client *cli)
{
    if (ch->cli && ch->cli != cli)
        chan_reset(ch, RPC_ECONNLOST, "the stream moves to the leader", true);
    op->cli = cli;
    if (ch->cli) {
        if (ch->wait) {
            op_push(&ch->wait, &ch->wait_tail, op);
            return;
        }
        int rc = chan_put(ch, op);
        if (rc == RPC_EBUSY)
            op_push(&ch->wait, &ch->wait_tail, op);
        else if (rc != 0)
            attempt_failed(c, op, rc, rpc_strerror(rc));
        return;
    }
    struct rpc_call_spec cs = {
        .method = ch->method,
        .req_fields = op->req_fields,
        .req = op->req,
        .resp_fields = op->resp_fields,
        .resp_size = op->resp_size,
        .done = chan_done,
        .on_msg = chan_msg,
        .ud = ch,
        .bidi = true,
        .on_window = chan_window,
    };
    int rc = rpc_client_call(cli, &cs, &ch->id);
    if (rc != 0) {
        attempt_failed(c, op, rc, rpc_strerror(rc));
        return;
    }
    ch->cli = cli;
    op->sent_ms = mono_ms();
    op_push(&ch->sent, &ch->sent_tail, op);
    chan_arm(ch);
    pthread_mutex_lock(&c->lock);
    c->stats.streams_opened++;
    c->stats.stream_msgs++;
    pthread_mutex_unlock(&c->lock);
}

static void chan_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct chan *ch = arg;
    if (!ch->sent)
        return;
    if (ch->sent->sent_ms + (uint64_t)ch->c->call_timeout_ms > mono_ms()) {
        chan_arm(ch);
        return;
    }
    chan_reset(ch, RPC_EDEADLINE, "no answer on the stream in time", true);
}

static int chan_init(struct pd_client *c, struct chan *ch, uint32_t method)
{
    ch->c = c;
    ch->method = method;
    ch->timer = evtimer_new(c->base, chan_timeout, ch);
    return ch->timer ? 0 : -ENOMEM;
}

static void start_call(struct pd_client *c, struct op *op)
{
    if (c->closing) {
        op_fail(c, op, RPC_ECLOSED, "client is being destroyed");
        return;
    }
    struct rpc_client *cli = endpoint_client(c, c->leader);
    struct chan *ch = cli ? chan_of(c, op) : NULL;
    if (ch) {
        chan_send(c, ch, op, cli);
        return;
    }
    if (!cli) {
        op_fail(c, op, -EINVAL, "bad member address");
        return;
    }
    uint64_t now = mono_ms();
    int dl = c->call_timeout_ms;
    if (op->deadline_ms > now && op->deadline_ms - now < (uint64_t)dl)
        dl = (int)(op->deadline_ms - now);
    if (dl < 1)
        dl = 1;
    struct rpc_call_spec cs = {
        .method = op->method,
        .req_fields = op->req_fields,
        .req = op->req,
        .resp_fields = op->resp_fields,
        .resp_size = op->resp_size,
        .deadline_ms = dl,
        .done = call_done,
        .ud = op,
    };
    op->cli = cli;
    int rc = rpc_client_call(cli, &cs, NULL);
    if (rc != 0)
        attempt_failed(c, op, rc, rpc_strerror(rc));
}

/* Ops carry their client right after them (one allocation). */
static struct op *op_new(struct pd_client *c)
{
    struct op *op = pd__calloc(1, sizeof(*op) + sizeof(struct pd_client *));
    if (op) {
        *(struct pd_client **)(op + 1) = c;
        pthread_mutex_init(&op->mu, NULL);
        pthread_cond_init(&op->cond, NULL);
    }
    return op;
}

/* Starts one Tso call for every waiting request (up to 2^18 timestamps). */
static void tso_pump(struct pd_client *c)
{
    if (c->batch_in_flight || !c->tso_wait)
        return;
    struct op *b = op_new(c);
    if (!b) {
        while (c->tso_wait) {
            struct op *m = c->tso_wait;
            c->tso_wait = m->next;
            finish(c, m, -ENOMEM, "out of memory");
        }
        c->tso_wait_tail = NULL;
        return;
    }
    b->kind = OP_BATCH;
    b->deadline_ms = UINT64_MAX;
    struct op **tail = &b->members;
    while (c->tso_wait &&
           (uint64_t)b->count + c->tso_wait->count <= PD_TS_LOGICAL_LIMIT) {
        struct op *m = c->tso_wait;
        c->tso_wait = m->next;
        m->next = NULL;
        *tail = m;
        tail = &m->next;
        b->count += m->count;
        if (m->deadline_ms < b->deadline_ms)
            b->deadline_ms = m->deadline_ms;
    }
    if (!c->tso_wait)
        c->tso_wait_tail = NULL;
    b->method = PD_METHOD_TSO;
    pthread_mutex_lock(&c->lock);
    b->tso_req.cluster_id = c->cluster_id;
    pthread_mutex_unlock(&c->lock);
    b->tso_req.count = b->count;
    b->req_fields = pd_TsoRequest_fields;
    b->req = &b->tso_req;
    b->resp_fields = pd_TsoResponse_fields;
    b->resp_size = sizeof(pd_TsoResponse);
    b->backoff_ms = 10;
    c->batch_in_flight = true;
    pthread_mutex_lock(&c->lock);
    c->stats.tso_calls++;
    pthread_mutex_unlock(&c->lock);
    start_call(c, b);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct pd_client *c = arg;
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&c->lock);
    bool stop = c->stopping;
    struct op *q = stop ? NULL : c->queue; /* stopping: destroy fails them */
    if (!stop)
        c->queue = NULL;
    pthread_mutex_unlock(&c->lock);
    if (stop) {
        event_base_loopbreak(c->base);
        return;
    }
    /* The queue is newest first: reverse it to keep arrival order. */
    struct op *rev = NULL;
    while (q) {
        struct op *next = q->next;
        q->next = rev;
        rev = q;
        q = next;
    }
    uint64_t n_tso = 0;
    while (rev) {
        struct op *op = rev;
        rev = op->next;
        op->next = NULL;
        if (op->kind == OP_TSO) {
            n_tso++;
            if (c->tso_wait_tail)
                c->tso_wait_tail->next = op;
            else
                c->tso_wait = op;
            c->tso_wait_tail = op;
        } else {
            start_call(c, op);
        }
    }
    if (n_tso) {
        pthread_mutex_lock(&c->lock);
        c->stats.tso_requests += n_tso;
        pthread_mutex_unlock(&c->lock);
    }
    tso_pump(c);
}

static void *loop_main(void *arg)
{
    struct pd_client *c = arg;
    event_base_loop(c->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

/* Hands ops[0..n) to the loop together (one wake: the loop starts them
 * in this order in one turn). */
static void submit_n(struct pd_client *c, struct op **ops, size_t n)
{
    uint64_t deadline = mono_ms() + (uint64_t)c->timeout_ms;
    pthread_mutex_lock(&c->lock);
    bool wake = c->queue == NULL; /* else a wake is already on its way */
    for (size_t i = 0; i < n; i++) { /* the queue is newest first */
        ops[i]->deadline_ms = deadline;
        ops[i]->backoff_ms = 10;
        ops[i]->next = c->queue;
        c->queue = ops[i];
    }
    pthread_mutex_unlock(&c->lock);
    if (wake) {
        ssize_t w = write(c->wake_fds[1], "w", 1);
        (void)w; /* a full pipe already wakes the loop */
    }
}

/* Hands op to the loop. */
static void submit(struct pd_client *c, struct op *op)
{
    submit_n(c, &op, 1);
}

/* Waits until op is finished: its code, its text into err. */
static int op_wait(struct op *op, char *err, size_t errlen)
{
    pthread_mutex_lock(&op->mu);
    while (!op->done)
        pthread_cond_wait(&op->cond, &op->mu);
    pthread_mutex_unlock(&op->mu);
    if (op->rc != 0 && err && errlen)
        snprintf(err, errlen, "%s", op->err[0] ? op->err : pd_strerror(op->rc));
    return op->rc;
}

/* A finished call's reply (kept re-encoded) decoded into resp, a struct
 * of op->resp_fields: 0, or PD_EINTERNAL with resp released. */
static int op_decode(struct op *op, void *resp, char *err, size_t errlen)
{
    pb_istream_t is = pb_istream_from_buffer(op->resp_bytes, op->resp_len);
    memset(resp, 0, op->resp_size);
    if (pb_decode(&is, op->resp_fields, resp))
        return 0;
    pb_release(op->resp_fields, resp);
    if (err && errlen)
        snprintf(err, errlen, "reply does not decode");
    return PD_EINTERNAL;
}

/* Hands op to the loop and waits until it is finished. */
static int run_op(struct pd_client *c, struct op *op, char *err, size_t errlen)
{
    submit(c, op);
    return op_wait(op, err, errlen);
}

/* Retry timers belong to the loop: an op is freed only once finished, and
 * a finished op has no pending timer. */
static void op_free(struct op *op)
{
    if (!op)
        return;
    if (op->retry_ev)
        event_free(op->retry_ev);
    pthread_cond_destroy(&op->cond);
    pthread_mutex_destroy(&op->mu);
    pd__free(op->resp_bytes);
    pd__free(op);
}

/* The loop's own GetMembers, at most one out and one a second: started
 * when a redirect names a member this client did not know or a member
 * cannot be reached, so the endpoint list follows membership changes
 * (DESIGN.md "Client"). Its failure is nobody's: it just ends. */
static void refresh_start(struct pd_client *c)
{
    uint64_t now = mono_ms();
    if (c->closing || c->refresh || now - c->refresh_ms < 1000)
        return;
    struct op *op = op_new(c);
    if (!op)
        return;
    op->kind = OP_REFRESH;
    op->method = PD_METHOD_GET_MEMBERS;
    op->req_fields = pd_GetMembersRequest_fields;
    op->req = &op->gm_req;
    op->resp_fields = pd_GetMembersResponse_fields;
    op->resp_size = sizeof(pd_GetMembersResponse);
    op->deadline_ms = now + (uint64_t)c->timeout_ms;
    op->backoff_ms = 10;
    c->refresh = op;
    c->refresh_ms = now;
    pthread_mutex_lock(&c->lock);
    c->stats.member_refreshes++;
    pthread_mutex_unlock(&c->lock);
    start_call(c, op);
}

static void refresh_end(struct pd_client *c, struct op *op)
{
    if (c->refresh == op)
        c->refresh = NULL;
    op_free(op);
}

int pd_client_call(struct pd_client *c, uint32_t method,
                   const struct pb_msgdesc_s *req_fields, const void *req,
                   const struct pb_msgdesc_s *resp_fields, void *resp,
                   size_t resp_size, char *err, size_t errlen)
{
    if (!c || !req_fields || !req || !resp_fields || !resp || !resp_size)
        return -EINVAL;
    struct op *op = op_new(c);
    if (!op)
        return -ENOMEM;
    op->kind = OP_CALL;
    op->method = method;
    op->req_fields = req_fields;
    op->req = req;
    op->resp_fields = resp_fields;
    op->resp_size = resp_size;
    int rc = run_op(c, op, err, errlen);
    if (rc == 0)
        rc = op_decode(op, resp, err, errlen);
    op_free(op);
    return rc;
}

void pd_client_release(const struct pb_msgdesc_s *fields, void *msg)
{
    pb_release(fields, msg);
}

int pd_client_tso(struct pd_client *c, uint32_t count, pd_ts *first,
                  char *err, size_t errlen)
{
    if (!c || !first || count < 1 || count > PD_TS_LOGICAL_LIMIT)
        return -EINVAL;
    struct op *op = op_new(c);
    if (!op)
        return -ENOMEM;
    op->kind = OP_TSO;
    op->count = count;
    int rc = run_op(c, op, err, errlen);
    if (rc == 0)
        *first = op->first;
    op_free(op);
    return rc;
}

int pd_client_tso_async(struct pd_client *c, uint32_t count,
                        pd_tso_done_fn done, void *ud)
{
    if (!c || !done || count < 1 || count > PD_TS_LOGICAL_LIMIT)
        return -EINVAL;
    struct op *op = op_new(c);
    if (!op)
        return -ENOMEM;
    op->kind = OP_TSO;
    op->count = count;
    op->tso_done = done;
    op->tso_ud = ud;
    submit(c, op);
    return 0;
}

int pd_client_alloc_id(struct pd_client *c, uint32_t count, uint64_t *first,
                       char *err, size_t errlen)
{
    if (!first)
        return -EINVAL;
    pd_AllocIDRequest req = {.cluster_id = pd_client_cluster_id(c),
                             .count = count};
    pd_AllocIDResponse resp;
    int rc = pd_client_call(c, PD_METHOD_ALLOC_ID, pd_AllocIDRequest_fields,
                            &req, pd_AllocIDResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    if (rc == 0)
        *first = resp.first;
    return rc;
}

/* Asks the members who leads and which cluster this is. */
static int discover(struct pd_client *c, char *err, size_t errlen)
{
    pd_GetMembersRequest req = {0};
    pd_GetMembersResponse resp;
    int rc = pd_client_call(c, PD_METHOD_GET_MEMBERS,
                            pd_GetMembersRequest_fields, &req,
                            pd_GetMembersResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    if (rc != 0)
        return rc;
    uint64_t cid = resp.cluster_id;
    pb_release(pd_GetMembersResponse_fields, &resp);
    if (cid == 0) {
        /* A member that is behind may not know the bootstrap yet: the
         * leader does (IsBootstrapped is served by the leader only). */
        pd_IsBootstrappedRequest ireq = {0};
        pd_IsBootstrappedResponse iresp;
        if (pd_client_call(c, PD_METHOD_IS_BOOTSTRAPPED,
                           pd_IsBootstrappedRequest_fields, &ireq,
                           pd_IsBootstrappedResponse_fields, &iresp,
                           sizeof(iresp), NULL, 0) == 0 &&
            iresp.cluster_id) {
            pthread_mutex_lock(&c->lock);
            if (!c->cluster_id_given)
                c->cluster_id = iresp.cluster_id;
            pthread_mutex_unlock(&c->lock);
        }
    }
    return 0;
}

uint64_t pd_client_cluster_id(struct pd_client *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t id = c->cluster_id;
    pthread_mutex_unlock(&c->lock);
    if (id == 0 && discover(c, NULL, 0) == 0) {
        pthread_mutex_lock(&c->lock);
        id = c->cluster_id;
        pthread_mutex_unlock(&c->lock);
    }
    return id;
}

void pd_client_leader(struct pd_client *c, char *buf, size_t len)
{
    pthread_mutex_lock(&c->lock);
    snprintf(buf, len, "%s", c->leader_addr);
    pthread_mutex_unlock(&c->lock);
}

void pd_client_stats(struct pd_client *c, struct pd_client_stats *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->lock);
}

/* ---- region cache (DESIGN.md "Client") ----------------------------------
 * Regions by start key, never overlapping: inserting one drops those it
 * overlaps (an older view of a split or merge). Guarded by c->lock. */

static void cached_free(struct cached *e)
{
    if (!e)
        return;
    pd__free(e->start);
    pd__free(e->end);
    pd__free(e);
}

/* Index of the last cached region starting at or before key, or -1. */
static long cache_floor(const struct pd_client *c, const uint8_t *key,
                        size_t len)
{
    size_t lo = 0, hi = c->n_cache;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct pd_region *r = &c->cache[mid]->info.region;
        if (pd__keycmp(r->start_key, r->start_len, key, len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

static bool covers(const struct pd_region *r, const uint8_t *key, size_t len)
{
    return pd__keycmp(r->start_key, r->start_len, key, len) <= 0 &&
           (r->end_len == 0 ||
            pd__keycmp(key, len, r->end_key, r->end_len) < 0);
}

static void cache_out(const struct cached *e, struct pd_client_region *out)
{
    out->info = e->info;
    if (e->info.region.start_len)
        memcpy(out->start, e->start, e->info.region.start_len);
    if (e->info.region.end_len)
        memcpy(out->end, e->end, e->info.region.end_len);
    out->info.region.start_key = out->start;
    out->info.region.end_key = out->end;
}

static void cache_remove_at(struct pd_client *c, size_t i)
{
    cached_free(c->cache[i]);
    memmove(&c->cache[i], &c->cache[i + 1],
            (c->n_cache - i - 1) * sizeof(c->cache[0]));
    c->n_cache--;
}

/* Inserts a copy of ri (lock held); on failure the cache just lacks it. */
static void cache_insert(struct pd_client *c, const struct pd_region_info *ri)
{
    const struct pd_region *r = &ri->region;
    struct cached *e = pd__calloc(1, sizeof(*e));
    if (!e)
        return;
    e->info = *ri;
    e->start = pd__malloc(r->start_len + 1);
    e->end = pd__malloc(r->end_len + 1);
    if (!e->start || !e->end) {
        cached_free(e);
        return;
    }
    if (r->start_len)
        memcpy(e->start, r->start_key, r->start_len);
    if (r->end_len)
        memcpy(e->end, r->end_key, r->end_len);
    e->info.region.start_key = e->start;
    e->info.region.end_key = e->end;
    /* Drop the same id anywhere, and whatever overlaps [start, end). */
    for (size_t i = 0; i < c->n_cache;) {
        const struct pd_region *o = &c->cache[i]->info.region;
        bool overlap =
            (r->end_len == 0 ||
             pd__keycmp(o->start_key, o->start_len, r->end_key, r->end_len) <
                 0) &&
            (o->end_len == 0 ||
             pd__keycmp(r->start_key, r->start_len, o->end_key, o->end_len) <
                 0);
        if (overlap || o->id == r->id)
            cache_remove_at(c, i);
        else
            i++;
    }
    if (c->n_cache >= CACHE_MAX) {
        for (size_t i = 0; i < c->n_cache; i++)
            cached_free(c->cache[i]);
        c->n_cache = 0;
    }
    if (c->n_cache == c->cache_cap) {
        size_t cap = c->cache_cap ? c->cache_cap * 2 : 64;
        struct cached **g = pd__realloc(c->cache, cap * sizeof(*g));
        if (!g) {
            cached_free(e);
            return;
        }
        c->cache = g;
        c->cache_cap = cap;
    }
    size_t at = (size_t)(cache_floor(c, r->start_key, r->start_len) + 1);
    memmove(&c->cache[at + 1], &c->cache[at],
            (c->n_cache - at) * sizeof(c->cache[0]));
    c->cache[at] = e;
    c->n_cache++;
}

/* Asks pdd (GetRegion or GetRegionByID) and caches the answer. */
static int region_fetch(struct pd_client *c, const uint8_t *key, size_t len,
                        uint64_t id, struct pd_client_region *out, char *err,
                        size_t errlen)
{
    pd_GetRegionResponse resp;
    int rc;
    if (id) {
        pd_GetRegionByIDRequest req = {.cluster_id = pd_client_cluster_id(c),
                                       .region_id = id};
        rc = pd_client_call(c, PD_METHOD_GET_REGION_BY_ID,
                            pd_GetRegionByIDRequest_fields, &req,
                            pd_GetRegionResponse_fields, &resp, sizeof(resp),
                            err, errlen);
    } else {
        pb_bytes_array_t *k = pd__malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(len) + 1);
        if (!k)
            return -ENOMEM;
        k->size = (pb_size_t)len;
        if (len)
            memcpy(k->bytes, key, len);
        pd_GetRegionRequest req = {.cluster_id = pd_client_cluster_id(c),
                                   .key = len ? k : NULL};
        rc = pd_client_call(c, PD_METHOD_GET_REGION,
                            pd_GetRegionRequest_fields, &req,
                            pd_GetRegionResponse_fields, &resp, sizeof(resp),
                            err, errlen);
        pd__free(k);
    }
    if (rc != 0)
        return rc;
    struct pd_region_info ri;
    rc = pd_pb_region_info_in(&resp.region, &ri, err, errlen);
    if (rc == 0 && (ri.region.start_len > PD_MAX_KEY ||
                    ri.region.end_len > PD_MAX_KEY)) {
        if (err && errlen)
            snprintf(err, errlen, "region key longer than %d", PD_MAX_KEY);
        rc = -EINVAL;
    }
    if (rc == 0) {
        pthread_mutex_lock(&c->lock);
        cache_insert(c, &ri);
        c->stats.region_misses++;
        pthread_mutex_unlock(&c->lock);
        struct cached tmp = {.info = ri,
                             .start = (uint8_t *)ri.region.start_key,
                             .end = (uint8_t *)ri.region.end_key};
        cache_out(&tmp, out);
    }
    pb_release(pd_GetRegionResponse_fields, &resp);
    return rc;
}

int pd_client_region_by_key(struct pd_client *c, const uint8_t *key,
                            size_t len, struct pd_client_region *out,
                            char *err, size_t errlen)
{
    if (!c || !out || (len && !key) || len > PD_MAX_KEY)
        return -EINVAL;
    pthread_mutex_lock(&c->lock);
    long i = cache_floor(c, key, len);
    if (i >= 0 && covers(&c->cache[i]->info.region, key, len)) {
        cache_out(c->cache[i], out);
        c->stats.region_hits++;
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    pthread_mutex_unlock(&c->lock);
    return region_fetch(c, key, len, 0, out, err, errlen);
}

int pd_client_region_by_id(struct pd_client *c, uint64_t id,
                           struct pd_client_region *out, char *err,
                           size_t errlen)
{
    if (!c || !out || id == 0)
        return -EINVAL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_cache; i++)
        if (c->cache[i]->info.region.id == id) {
            cache_out(c->cache[i], out);
            c->stats.region_hits++;
            pthread_mutex_unlock(&c->lock);
            return 0;
        }
    pthread_mutex_unlock(&c->lock);
    return region_fetch(c, NULL, 0, id, out, err, errlen);
}

void pd_client_region_invalidate(struct pd_client *c, uint64_t id)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_cache; i++)
        if (c->cache[i]->info.region.id == id) {
            cache_remove_at(c, i);
            break;
        }
    pthread_mutex_unlock(&c->lock);
}

int pd_client_create(const struct pd_client_options *opts,
                     struct pd_client **out, char *err, size_t errlen)
{
    if (!opts || !opts->endpoints || opts->n_endpoints == 0 ||
        opts->n_endpoints > MAX_ENDPOINTS) {
        snprintf(err, errlen, "1..%d endpoints needed", MAX_ENDPOINTS);
        return -EINVAL;
    }
    struct pd_client *c = pd__calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    c->wake_fds[0] = c->wake_fds[1] = -1;
    pthread_mutex_init(&c->lock, NULL);
    c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 10000;
    c->cluster_id = opts->cluster_id;
    c->cluster_id_given = opts->cluster_id != 0;
    c->call_timeout_ms = opts->call_timeout_ms > 0 ? opts->call_timeout_ms
                                                   : 3000;
    c->tls = opts->tls;
    c->on_hint = opts->on_hint;
    c->hint_ud = opts->hint_ud;
    int rc = -EINVAL;
    for (size_t i = 0; i < opts->n_endpoints; i++) {
        char host[128];
        uint16_t port;
        if (!opts->endpoints[i] ||
            strlen(opts->endpoints[i]) >= sizeof(c->eps[0].addr) ||
            split_addr(opts->endpoints[i], host, sizeof(host), &port) != 0) {
            snprintf(err, errlen, "bad endpoint '%s' (want host:port)",
                     opts->endpoints[i] ? opts->endpoints[i] : "(null)");
            goto err_free;
        }
        endpoint_find_or_add(c, opts->endpoints[i]);
    }
    rc = -ENOMEM;
    if (pipe2(c->wake_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        rc = -errno;
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto err_free;
    }
    c->base = event_base_new();
    if (!c->base)
        goto err_oom;
    c->wake_ev = event_new(c->base, c->wake_fds[0], EV_READ | EV_PERSIST,
                           on_wake, c);
    if (!c->wake_ev || event_add(c->wake_ev, NULL) != 0)
        goto err_oom;
    c->streams_off = opts->no_streams;
    if (chan_init(c, &c->tso_ch, PD_METHOD_TSO_STREAM) != 0 ||
        chan_init(c, &c->hb_ch, PD_METHOD_REGION_HEARTBEAT_STREAM) != 0)
        goto err_oom;
    if (pthread_create(&c->thread, NULL, loop_main, c) != 0)
        goto err_oom;
    c->thread_started = true;
    if (opts->no_discovery) {
        *out = c;
        return 0;
    }
    rc = discover(c, err, errlen);
    if (rc != 0)
        goto err_free;
    *out = c;
    return 0;
err_oom:
    snprintf(err, errlen, "out of memory");
err_free:
    pd_client_destroy(c);
    return rc;
}

void pd_client_destroy(struct pd_client *c)
{
    if (!c)
        return;
    if (c->thread_started) {
        pthread_mutex_lock(&c->lock);
        c->stopping = true;
        pthread_mutex_unlock(&c->lock);
        ssize_t w = write(c->wake_fds[1], "s", 1);
        (void)w;
        pthread_join(c->thread, NULL);
    }
    /* The loop no longer runs: this thread may close its connections
     * (a call still pending fails inside rpc_client_destroy). */
    c->closing = true;
    for (size_t i = 0; i < c->n_eps; i++)
        rpc_client_destroy(c->eps[i].cli);
    /* Asynchronous requests the loop never took (blocking callers cannot
     * be waiting: no call may run during destroy). */
    while (c->queue) {
        struct op *op = c->queue;
        c->queue = op->next;
        finish(c, op, RPC_ECLOSED, "client is being destroyed");
    }
    if (c->refresh) /* waiting out a backoff (a call out ended above) */
        refresh_end(c, c->refresh);
    if (c->tso_ch.timer)
        event_free(c->tso_ch.timer);
    if (c->hb_ch.timer)
        event_free(c->hb_ch.timer);
    for (size_t i = 0; i < c->n_cache; i++)
        cached_free(c->cache[i]);
    pd__free(c->cache);
    pd__free(c->stores);
    if (c->wake_ev)
        event_free(c->wake_ev);
    if (c->base)
        event_base_free(c->base);
    if (c->wake_fds[0] >= 0)
        close(c->wake_fds[0]);
    if (c->wake_fds[1] >= 0)
        close(c->wake_fds[1]);
    pthread_mutex_destroy(&c->lock);
    pd__free(c);
}

/* ---- typed calls for stores (kvd's side, DESIGN.md "Service") ------------ */

int pd_client_bootstrap(struct pd_client *c, uint64_t cluster_id,
                        const struct pd_store *store,
                        const struct pd_region *region, char *err,
                        size_t errlen)
{
    if (!c || !store || !region)
        return -EINVAL;
    pd_BootstrapRequest req = {.cluster_id = cluster_id,
                               .has_store = true,
                               .has_region = true};
    pd_BootstrapResponse resp;
    int rc = pd_pb_store_out(store, &req.store);
    if (rc == 0 && (rc = pd_pb_region_out(region, &req.region)) == 0)
        rc = pd_client_call(c, PD_METHOD_BOOTSTRAP, pd_BootstrapRequest_fields,
                            &req, pd_BootstrapResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    pb_release(pd_BootstrapRequest_fields, &req);
    if (rc == 0) {
        pthread_mutex_lock(&c->lock);
        if (!c->cluster_id_given)
            c->cluster_id = cluster_id;
        pthread_mutex_unlock(&c->lock);
    }
    return rc;
}

int pd_client_is_bootstrapped(struct pd_client *c, bool *out, char *err,
                              size_t errlen)
{
    if (!c || !out)
        return -EINVAL;
    pd_IsBootstrappedRequest req = {0};
    pd_IsBootstrappedResponse resp;
    int rc = pd_client_call(c, PD_METHOD_IS_BOOTSTRAPPED,
                            pd_IsBootstrappedRequest_fields, &req,
                            pd_IsBootstrappedResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    if (rc == 0) {
        *out = resp.bootstrapped;
        if (resp.cluster_id) {
            pthread_mutex_lock(&c->lock);
            if (!c->cluster_id_given)
                c->cluster_id = resp.cluster_id;
            pthread_mutex_unlock(&c->lock);
        }
    }
    return rc;
}

int pd_client_put_store(struct pd_client *c, const struct pd_store *store,
                        char *err, size_t errlen)
{
    if (!c || !store)
        return -EINVAL;
    pd_PutStoreRequest req = {.cluster_id = pd_client_cluster_id(c),
                              .has_store = true};
    pd_PutStoreResponse resp;
    int rc = pd_pb_store_out(store, &req.store);
    if (rc == 0)
        rc = pd_client_call(c, PD_METHOD_PUT_STORE, pd_PutStoreRequest_fields,
                            &req, pd_PutStoreResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    pb_release(pd_PutStoreRequest_fields, &req);
    return rc;
}

int pd_client_cluster_version(struct pd_client *c, uint32_t *out, char *err,
                              size_t errlen)
{
    if (!out)
        return -EINVAL;
    return pd_client_cluster_versions(c, out, NULL, err, errlen);
}

int pd_client_cluster_versions(struct pd_client *c,
                               uint32_t *mvcc,
                               uint32_t *region,
                               char *err,
                               size_t errlen)
{
    if (!c)
        return -EINVAL;
    pd_GetClusterVersionRequest req = {.cluster_id = pd_client_cluster_id(c)};
    pd_GetClusterVersionResponse resp;
    int rc = pd_client_call(c, PD_METHOD_GET_CLUSTER_VERSION,
                            pd_GetClusterVersionRequest_fields, &req,
                            pd_GetClusterVersionResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    if (rc == 0 && mvcc)
        *mvcc = resp.version;
    if (rc == 0 && region)
        *region = resp.region_version;
    return rc;
}

int pd_client_gc_safe_point(struct pd_client *c, uint64_t *out, char *err,
                            size_t errlen)
{
    if (!c || !out)
        return -EINVAL;
    pd_GetGCSafePointRequest req = {.cluster_id = pd_client_cluster_id(c)};
    pd_GetGCSafePointResponse resp;
    int rc = pd_client_call(c, PD_METHOD_GET_GC_SAFE_POINT,
                            pd_GetGCSafePointRequest_fields, &req,
                            pd_GetGCSafePointResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    if (rc == 0)
        *out = resp.safe_point;
    return rc;
}

int pd_client_update_gc_safe_point(struct pd_client *c, uint64_t sp,
                                   uint64_t *out, char *err, size_t errlen)
{
    if (!c || !out)
        return -EINVAL;
    pd_UpdateGCSafePointRequest req = {.cluster_id = pd_client_cluster_id(c),
                                       .safe_point = sp};
    pd_UpdateGCSafePointResponse resp;
    int rc = pd_client_call(c, PD_METHOD_UPDATE_GC_SAFE_POINT,
                            pd_UpdateGCSafePointRequest_fields, &req,
                            pd_UpdateGCSafePointResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    if (rc == 0)
        *out = resp.new_safe_point;
    return rc;
}

int pd_client_update_service_safe_point(struct pd_client *c,
                                        const char *service, uint64_t ttl_ms,
                                        uint64_t sp, uint64_t *min, char *err,
                                        size_t errlen)
{
    if (!c || !service || !min)
        return -EINVAL;
    pd_UpdateServiceSafePointRequest req = {
        .cluster_id = pd_client_cluster_id(c),
        .service_id = (char *)service,
        .ttl_ms = ttl_ms,
        .safe_point = sp};
    pd_UpdateServiceSafePointResponse resp;
    int rc = pd_client_call(c, PD_METHOD_UPDATE_SERVICE_SAFE_POINT,
                            pd_UpdateServiceSafePointRequest_fields, &req,
                            pd_UpdateServiceSafePointResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    if (rc == 0)
        *min = resp.min_safe_point;
    return rc;
}

int pd_client_store_heartbeat(struct pd_client *c, uint64_t store_id,
                              const struct pd_store_stats *stats, char *err,
                              size_t errlen)
{
    if (!c || !stats || stats->n_labels > PD_MAX_LABELS)
        return -EINVAL;
    pd_Label labels[PD_MAX_LABELS];
    for (uint32_t i = 0; i < stats->n_labels; i++) {
        labels[i].key = (char *)stats->labels[i].key;
        labels[i].value = (char *)stats->labels[i].value;
    }
    pd_StoreHeartbeatRequest req = {
        .cluster_id = pd_client_cluster_id(c),
        .store_id = store_id,
        .has_stats = true,
        .stats = {.capacity = stats->capacity,
                  .available = stats->available,
                  .region_count = stats->region_count,
                  .leader_count = stats->leader_count,
                  .update_labels = stats->update_labels,
                  .labels = stats->n_labels ? labels : NULL,
                  .labels_count = (pb_size_t)stats->n_labels}};
    pd_StoreHeartbeatResponse resp;
    return pd_client_call(c, PD_METHOD_STORE_HEARTBEAT,
                          pd_StoreHeartbeatRequest_fields, &req,
                          pd_StoreHeartbeatResponse_fields, &resp,
                          sizeof(resp), err, errlen);
}

int pd_client_region_heartbeat(struct pd_client *c,
                               const struct pd_region_info *region,
                               struct pd_step *step, char *err, size_t errlen)
{
    struct pd_step st;
    int rc = 0;
    int brc = pd_client_region_heartbeats(c, region, 1, step ? step : &st, &rc,
                                          err, errlen);
    return brc != 0 ? brc : rc;
}

/* One op per region, all submitted at once: on the stream they leave
 * back to back and pdd answers them in one read (DESIGN.md "Client":
 * "Region heartbeats in batches"). */
int pd_client_region_heartbeats(struct pd_client *c,
                                const struct pd_region_info *regions,
                                size_t n,
                                struct pd_step *steps,
                                int *rcs,
                                char *err,
                                size_t errlen)
{
    if (!c || !regions || !steps || !rcs || n == 0 ||
        n > PD_CLIENT_MAX_HEARTBEATS)
        return -EINVAL;
    pd_RegionHeartbeatRequest *reqs = pd__calloc(n, sizeof(*reqs));
    struct op **ops = pd__calloc(n, sizeof(*ops));
    int rc = reqs && ops ? 0 : -ENOMEM;
    uint64_t cid = pd_client_cluster_id(c);
    for (size_t i = 0; i < n && rc == 0; i++) {
        reqs[i].cluster_id = cid;
        reqs[i].has_region = true;
        reqs[i].hints = c->on_hint != NULL;
        rc = pd_pb_region_info_out(&regions[i], &reqs[i].region);
        if (rc == 0 && !(ops[i] = op_new(c)))
            rc = -ENOMEM;
        if (rc == 0) {
            ops[i]->kind = OP_CALL;
            ops[i]->method = PD_METHOD_REGION_HEARTBEAT;
            ops[i]->req_fields = pd_RegionHeartbeatRequest_fields;
            ops[i]->req = &reqs[i];
            ops[i]->resp_fields = pd_RegionHeartbeatResponse_fields;
            ops[i]->resp_size = sizeof(pd_RegionHeartbeatResponse);
        }
    }
    if (rc == 0)
        submit_n(c, ops, n);
    else if (err && errlen)
        snprintf(err, errlen, "%s", pd_strerror(rc));
    bool failed = false;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char e[256] = "";
        pd_RegionHeartbeatResponse resp;
        rcs[i] = op_wait(ops[i], e, sizeof(e));
        if (rcs[i] == 0)
            rcs[i] = op_decode(ops[i], &resp, e, sizeof(e));
        steps[i] = (struct pd_step){.kind = PD_STEP_NONE};
        if (rcs[i] == 0) {
            steps[i].kind = (int)resp.step.kind;
            steps[i].store_id = resp.step.store_id;
            steps[i].peer_id = resp.step.peer_id;
            steps[i].target_region_id = resp.step.target_region_id;
            pb_release(pd_RegionHeartbeatResponse_fields, &resp);
        } else if (!failed && err && errlen) {
            snprintf(err, errlen, "%s", e);
        }
        failed |= rcs[i] != 0;
    }
    for (size_t i = 0; i < n && reqs && ops; i++) {
        op_free(ops[i]);
        pb_release(pd_RegionHeartbeatRequest_fields, &reqs[i]);
    }
    pd__free(ops);
    pd__free(reqs);
    return rc;
}

int pd_client_ask_split(struct pd_client *c, uint64_t region_id,
                        uint64_t *new_region_id, uint64_t *peer_ids,
                        uint32_t *n_peers, char *err, size_t errlen)
{
    if (!c || !new_region_id || !peer_ids || !n_peers)
        return -EINVAL;
    pd_AskSplitRequest req = {.cluster_id = pd_client_cluster_id(c),
                              .region_id = region_id};
    pd_AskSplitResponse resp;
    int rc = pd_client_call(c, PD_METHOD_ASK_SPLIT, pd_AskSplitRequest_fields,
                            &req, pd_AskSplitResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    if (rc != 0)
        return rc;
    if (resp.new_peer_ids_count > PD_MAX_PEERS) {
        rc = PD_EINTERNAL;
    } else {
        *new_region_id = resp.new_region_id;
        *n_peers = resp.new_peer_ids_count;
        for (pb_size_t i = 0; i < resp.new_peer_ids_count; i++)
            peer_ids[i] = resp.new_peer_ids[i];
    }
    pb_release(pd_AskSplitResponse_fields, &resp);
    return rc;
}

int pd_client_report_split(struct pd_client *c,
                           const struct pd_region_info *left,
                           const struct pd_region_info *right, char *err,
                           size_t errlen)
{
    if (!c || !left || !right)
        return -EINVAL;
    pd_ReportSplitRequest req = {.cluster_id = pd_client_cluster_id(c),
                                 .has_left = true,
                                 .has_right = true};
    pd_ReportSplitResponse resp;
    int rc = pd_pb_region_info_out(left, &req.left);
    if (rc == 0 && (rc = pd_pb_region_info_out(right, &req.right)) == 0)
        rc = pd_client_call(c, PD_METHOD_REPORT_SPLIT,
                            pd_ReportSplitRequest_fields, &req,
                            pd_ReportSplitResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    pb_release(pd_ReportSplitRequest_fields, &req);
    return rc;
}

/* ---- store cache: addresses for the regions' peers ------------------------ */

int pd_client_get_store(struct pd_client *c, uint64_t store_id,
                        struct pd_client_store *out, char *err,
                        size_t errlen)
{
    if (!c || !out || store_id == 0)
        return -EINVAL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_stores; i++)
        if (c->stores[i].id == store_id) {
            *out = c->stores[i];
            c->stats.store_hits++;
            pthread_mutex_unlock(&c->lock);
            return 0;
        }
    pthread_mutex_unlock(&c->lock);
    pd_GetStoreRequest req = {.cluster_id = pd_client_cluster_id(c),
                              .store_id = store_id};
    pd_GetStoreResponse resp;
    int rc = pd_client_call(c, PD_METHOD_GET_STORE, pd_GetStoreRequest_fields,
                            &req, pd_GetStoreResponse_fields, &resp,
                            sizeof(resp), err, errlen);
    if (rc != 0)
        return rc;
    const char *addr = resp.store.store.address ? resp.store.store.address
                                                : "";
    if (strlen(addr) > PD_MAX_STR) {
        pb_release(pd_GetStoreResponse_fields, &resp);
        if (err && errlen)
            snprintf(err, errlen, "store address longer than %d", PD_MAX_STR);
        return -EINVAL;
    }
    memset(out, 0, sizeof(*out));
    out->id = store_id;
    snprintf(out->address, sizeof(out->address), "%s", addr);
    out->state = (int)resp.store.state;
    pb_release(pd_GetStoreResponse_fields, &resp);
    pthread_mutex_lock(&c->lock);
    c->stats.store_misses++;
    if (c->n_stores == c->stores_cap && c->stores_cap < 65536) {
        size_t cap = c->stores_cap ? c->stores_cap * 2 : 16;
        struct pd_client_store *g =
            pd__realloc(c->stores, cap * sizeof(*g));
        if (g) {
            c->stores = g;
            c->stores_cap = cap;
        }
    }
    if (c->n_stores < c->stores_cap)
        c->stores[c->n_stores++] = *out;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

void pd_client_store_invalidate(struct pd_client *c, uint64_t store_id)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n_stores; i++)
        if (c->stores[i].id == store_id) {
            c->stores[i] = c->stores[--c->n_stores];
            break;
        }
    pthread_mutex_unlock(&c->lock);
}

int pd_client_scan_regions(struct pd_client *c, const uint8_t *start,
                           size_t start_len, const uint8_t *end,
                           size_t end_len, size_t limit,
                           struct pd_client_region *out, size_t *n,
                           char *err, size_t errlen)
{
    if (!c || !out || !n || limit == 0 || limit > 8192 ||
        start_len > PD_MAX_KEY || end_len > PD_MAX_KEY ||
        (start_len && !start) || (end_len && !end))
        return -EINVAL;
    *n = 0;
    pb_bytes_array_t *s = pd__malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(start_len) + 1);
    pb_bytes_array_t *e = pd__malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(end_len) + 1);
    int rc = -ENOMEM;
    if (!s || !e)
        goto out;
    s->size = (pb_size_t)start_len;
    e->size = (pb_size_t)end_len;
    if (start_len)
        memcpy(s->bytes, start, start_len);
    if (end_len)
        memcpy(e->bytes, end, end_len);
    pd_ScanRegionsRequest req = {.cluster_id = pd_client_cluster_id(c),
                                 .start_key = start_len ? s : NULL,
                                 .end_key = end_len ? e : NULL,
                                 .limit = (uint32_t)limit};
    pd_ScanRegionsResponse resp;
    rc = pd_client_call(c, PD_METHOD_SCAN_REGIONS, pd_ScanRegionsRequest_fields,
                        &req, pd_ScanRegionsResponse_fields, &resp,
                        sizeof(resp), err, errlen);
    if (rc != 0)
        goto out;
    for (pb_size_t i = 0; i < resp.regions_count && *n < limit; i++) {
        struct pd_region_info ri;
        rc = pd_pb_region_info_in(&resp.regions[i], &ri, err, errlen);
        if (rc == 0 && (ri.region.start_len > PD_MAX_KEY ||
                        ri.region.end_len > PD_MAX_KEY))
            rc = -EINVAL;
        if (rc != 0)
            break;
        pthread_mutex_lock(&c->lock);
        cache_insert(c, &ri);
        pthread_mutex_unlock(&c->lock);
        struct cached tmp = {.info = ri,
                             .start = (uint8_t *)ri.region.start_key,
                             .end = (uint8_t *)ri.region.end_key};
        cache_out(&tmp, &out[(*n)++]);
    }
    pb_release(pd_ScanRegionsResponse_fields, &resp);
out:
    pd__free(s);
    pd__free(e);
    return rc;
}

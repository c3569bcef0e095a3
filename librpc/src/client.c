/* client.c: the librpc client: one connection to one server, opened on
 * demand and reopened after a loss, many calls in flight matched by request
 * id, deadlines (one timer per client over its calls in deadline order),
 * cancellation, the in-flight bound and the blocking helper.
 * librpc/DESIGN.md, "Client".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <pb.h>

#include "rpc_int.h"

#define DEFAULT_CONNECT_MS 3000
#define DEFAULT_MAX_IN_FLIGHT 1024u
#define DEFAULT_STALL_MS 10000
#define DEFAULT_DEADLINE_MS 10000

struct cl_call
{
    struct rpc_client *cli; /* owner */
    struct rpc__list link;  /* node in cli->calls, issue order */
    struct cl_call *hnext;  /* chain in cli->tab */
    uint32_t id;            /* request id */
    uint32_t method;        /* method id */
    uint32_t gen;           /* connection generation it was sent on */
    int deadline_ms;        /* budget given */
    uint64_t due_us;        /* deadline (mono_us), if deadline_ms > 0 */
    struct rpc__list dlink; /* node in cli->due; self-linked when none */
    const struct pb_msgdesc_s *resp_fields; /* reply message */
    size_t resp_size;                       /* sizeof reply struct */
    rpc_done_fn done;                       /* completion, or NULL */
    rpc_done_raw_fn done_raw;               /* completion undecoded, or
                                               NULL */
    rpc_stream_fn on_msg;                   /* stream messages, or NULL */
    void *ud;                               /* passed to done / on_msg */
    /* Bidirectional streams only: */
    bool bidi;                              /* spec.bidi */
    bool send_closed;                       /* close_send was called */
    uint32_t credit;                        /* messages it may still send */
    const struct pb_msgdesc_s *req_fields;  /* its messages */
    void (*on_window)(void *ud);            /* credit arrived */
};

struct rpc_client
{
    struct event_base *base;          /* caller's loop */
    char *host;                       /* copied */
    uint16_t port;                    /* server port */
    const struct rpc_tls_config *tls; /* borrowed */
    int connect_ms;                   /* connect timeout */
    unsigned max_in_flight;           /* call bound */
    uint32_t max_frame;               /* reply payload limit */
    int stall_ms;                     /* mid-frame silence limit */
    int default_deadline_ms;          /* when a call gives 0 */
    struct rpc__log log;              /* caller's logger */
    struct rpc__conn *conn;           /* current connection or NULL */
    bool conn_open;                   /* it finished connecting */
    uint32_t gen;                     /* bumped per connection */
    struct rpc__list calls;           /* pending struct cl_call */
    struct rpc__list due;             /* those with a deadline, soonest
                                         first (cl_call.dlink) */
    struct event *due_ev;             /* fires at or after due's first */
    uint64_t armed_us;                /* when due_ev fires; 0 unarmed */
    struct cl_call **tab;             /* pending by id */
    uint32_t mask;                    /* tab size - 1 */
    unsigned n_calls;                 /* pending */
    uint32_t next_id;                 /* next request id (never 0) */
    struct rpc__list lingering;       /* conns flushing a GOAWAY */
    int busy;                         /* entry points on the stack */
    bool destroying;                  /* free when busy drops to 0 */
    char errmsg[256];                 /* last connection failure */
};

static void client_free(struct rpc_client *cli)
{
    if (cli->conn != NULL)
        rpc__conn_close(cli->conn, 0, NULL, 0, false);
    rpc__conn_free_lingering(&cli->lingering);
    if (cli->due_ev != NULL)
        event_free(cli->due_ev);
    rpc__free(cli->tab);
    rpc__free(cli->host);
    rpc__free(cli);
}

static void enter(struct rpc_client *cli)
{
    cli->busy++;
}

static void leave(struct rpc_client *cli)
{
    if (--cli->busy == 0 && cli->destroying)
        client_free(cli);
}

static struct cl_call **slot(struct rpc_client *cli, uint32_t id)
{
    return &cli->tab[id & cli->mask];
}

static struct cl_call *call_find(struct rpc_client *cli, uint32_t id)
{
    struct cl_call *k = *slot(cli, id);
    while (k != NULL && k->id != id)
        k = k->hnext;
    return k;
}

/* Takes call out of the client's table, lists and count; the caller
 * frees call. Its deadline leaves with it: the client's timer is not
 * moved (it finds nothing due, or a later call, when it fires). */
static void unlink_call(struct cl_call *call)
{
    struct rpc_client *cli = call->cli;
    struct cl_call **pp = slot(cli, call->id);
    while (*pp != call)
        pp = &(*pp)->hnext;
    *pp = call->hnext;
    rpc__list_remove(&call->link);
    rpc__list_remove(&call->dlink);
    cli->n_calls--;
}

/* Removes call from the client and fires done (or, failures only, with
 * resp NULL, done_raw) once; the caller holds enter(). */
static void complete(struct cl_call *call,
                     int rc,
                     const void *resp,
                     const char *errmsg)
{
    unlink_call(call);
    if (call->done_raw != NULL)
        call->done_raw(rc, NULL, 0, errmsg != NULL ? errmsg : "", call->ud);
    else
        call->done(rc, resp, errmsg != NULL ? errmsg : "", call->ud);
    rpc__free(call);
}

/* complete() of a raw call's reply: its payload as it came. */
static void complete_raw(struct cl_call *call, const uint8_t *payload,
                         size_t len)
{
    unlink_call(call);
    call->done_raw(0, payload, len, "", call->ud);
    rpc__free(call);
}

/* Tells the server to stop call. While connecting the CANCEL queues
 * behind the request, so the handler hears of it as soon as it starts. */
static void send_cancel(struct rpc_client *cli, const struct cl_call *call)
{
    if (cli->conn == NULL || call->gen != cli->gen)
        return;
    struct rpc__frame f = {
        .flags = RPC_F_CANCEL, .method = call->method, .id = call->id};
    if (rpc__frame_append_raw(rpc__conn_out(cli->conn), &f, NULL, 0) == 0)
        rpc__conn_flush(cli->conn);
}

/* The connection of generation gen is gone: fail its calls. Calls started
 * from done callbacks go to a new connection and are left alone. */
static void fail_gen(struct rpc_client *cli,
                     uint32_t gen,
                     int rc,
                     const char *msg,
                     uint32_t blamed_id,
                     int blamed_rc)
{
    while (!cli->destroying && !rpc__list_empty(&cli->calls)) {
        struct cl_call *call =
            RPC__CONTAINER(cli->calls.next, struct cl_call, link);
        if (call->gen != gen)
            break;
        if (blamed_id != 0 && call->id == blamed_id)
            complete(call, blamed_rc, NULL, msg);
        else
            complete(call, rc, NULL, msg);
    }
}

static void cl_on_open(void *owner)
{
    struct rpc_client *cli = owner;
    cli->conn_open = true;
    cli->errmsg[0] = '\0';
}

static void cl_on_close(void *owner,
                        int rc,
                        const char *reason,
                        uint32_t blamed_id)
{
    struct rpc_client *cli = owner;
    enter(cli);
    snprintf(cli->errmsg, sizeof cli->errmsg, "%s", reason);
    uint32_t gen = cli->gen;
    if (!cli->conn_open && rc == RPC_ECONNLOST)
        rc = RPC_ECONNECT;
    cli->conn = NULL;
    cli->conn_open = false;
    rpc__logf(&cli->log, RPC_LOG_WARN, "librpc: %s", reason);
    /* A frame of one call (a reply that does not decode) broke the
     * connection: that call gets the code, the others lost theirs. */
    if (blamed_id != 0)
        fail_gen(cli, gen, RPC_ECONNLOST, cli->errmsg, blamed_id, rc);
    else
        fail_gen(cli, gen, rc, cli->errmsg, 0, 0);
    leave(cli);
}

/* Decodes a reply or stream message and hands it over. */
static int deliver(struct rpc_client *cli,
                   struct cl_call *call,
                   const struct rpc__frame *f,
                   const uint8_t *payload)
{
    uint64_t small[64];
    void *msg = small;
    if (call->resp_size > sizeof small) {
        msg = rpc__malloc(call->resp_size);
        if (msg == NULL) {
            complete(call, -ENOMEM, NULL, "out of memory for a reply");
            return 0;
        }
    }
    int rc = rpc__payload_decode_sized(payload, f->length, call->resp_fields,
                                       msg, call->resp_size);
    if (rc != 0) {
        if (msg != small)
            rpc__free(msg);
        if (rc == -ENOMEM) { /* the frame was whole: the stream is fine */
            if (f->flags == RPC_F_STREAM)
                send_cancel(cli, call);
            complete(call, rc, NULL, "out of memory for a reply's blob");
            return 0;
        }
        rpc__conn_set_reason(cli->conn, "reply to request %u does not decode",
                             f->id);
        return RPC_EDECODE;
    }
    const struct pb_msgdesc_s *fields = call->resp_fields;
    if (f->flags == RPC_F_STREAM)
        call->on_msg(msg, call->ud);
    else
        complete(call, 0, msg, "");
    /* The blocking helper zeroes msg after moving it out, so this release
     * then frees nothing. */
    rpc__payload_release(fields, msg);
    if (msg != small)
        rpc__free(msg);
    return 0;
}

static int cl_on_frame(void *owner,
                       const struct rpc__frame *f,
                       const uint8_t *payload)
{
    struct rpc_client *cli = owner;
    int rc = 0;
    enter(cli);
    if (f->flags == RPC_F_GOAWAY) {
        char why[256];
        snprintf(why, sizeof why, "server closed the connection: %.*s",
                 (int)(f->length > 200 ? 200 : f->length),
                 (const char *)payload);
        snprintf(cli->errmsg, sizeof cli->errmsg, "%s", why);
        rpc__logf(&cli->log, RPC_LOG_WARN, "librpc: %s (%s)", why,
                  rpc_strerror(f->aux));
        uint32_t gen = cli->gen;
        rpc__conn_close(cli->conn, 0, NULL, 0, false);
        cli->conn = NULL;
        cli->conn_open = false;
        fail_gen(cli, gen, RPC_ECONNLOST, why, f->id,
                 f->aux < 0 ? f->aux : RPC_ECONNLOST);
        goto out;
    }
    if (f->flags != RPC_F_REPLY && f->flags != RPC_F_STREAM &&
        f->flags != RPC_F_END && f->flags != RPC_F_WINDOW) {
        rpc__conn_set_reason(
            cli->conn, "server sent a request frame (flags 0x%02x)", f->flags);
        rc = RPC_EPROTO;
        goto out;
    }
    struct cl_call *call = call_find(cli, f->id);
    if (call == NULL || call->gen != cli->gen) {
        rpc__logf(&cli->log, RPC_LOG_DEBUG,
                  "librpc: ignoring frame for request %u (done already)",
                  f->id);
        goto out;
    }
    if (f->flags == RPC_F_WINDOW) {
        if (!call->bidi || (uint64_t)call->credit + (uint32_t)f->aux >
                               (uint64_t)RPC_BIDI_WINDOW * 1024u) {
            rpc__conn_set_reason(cli->conn,
                                 "window of %d for request %u, which %s",
                                 f->aux, f->id,
                                 call->bidi ? "has too much credit already"
                                            : "is no bidirectional stream");
            rc = RPC_EPROTO;
            goto out;
        }
        call->credit += (uint32_t)f->aux;
        if (call->on_window != NULL && !call->send_closed)
            call->on_window(call->ud);
        goto out;
    }
    if (f->aux != 0 && f->flags != RPC_F_STREAM) {
        char text[256];
        snprintf(text, sizeof text, "%.*s",
                 (int)(f->length > 255 ? 255 : f->length),
                 (const char *)payload);
        complete(call, f->aux < 0 ? f->aux : RPC_EPROTO, NULL, text);
        goto out;
    }
    if (f->flags == RPC_F_END ||
        (f->flags == RPC_F_REPLY && call->on_msg != NULL)) {
        complete(call, 0, NULL, "");
        goto out;
    }
    if (f->flags == RPC_F_STREAM && call->on_msg == NULL) {
        rpc__conn_set_reason(cli->conn, "stream message for unary request %u",
                             f->id);
        rc = RPC_EPROTO;
        goto out;
    }
    if (call->done_raw != NULL) /* unary: a REPLY, status 0 */
        complete_raw(call, payload, f->length);
    else
        rc = deliver(cli, call, f, payload);
out:
    leave(cli);
    return rc;
}

static const struct rpc__conn_ops cl_ops = {
    .on_frame = cl_on_frame,
    .on_open = cl_on_open,
    .on_close = cl_on_close,
};

static int ensure_conn(struct rpc_client *cli)
{
    if (cli->conn != NULL)
        return 0;
    char port[8];
    snprintf(port, sizeof port, "%u", cli->port);
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC,
                                    .ai_socktype = SOCK_STREAM};
    struct evutil_addrinfo *ai = NULL;
    int gai = evutil_getaddrinfo(cli->host, port, &hints, &ai);
    if (gai != 0) {
        snprintf(cli->errmsg, sizeof cli->errmsg, "cannot resolve %s: %s",
                 cli->host, evutil_gai_strerror(gai));
        return RPC_ECONNECT;
    }
    char peer[80];
    snprintf(peer, sizeof peer, "%s:%s", cli->host, port);
    struct rpc__conn_params p = {
        .base = cli->base,
        .tls = cli->tls,
        .is_server = false,
        .max_frame = cli->max_frame,
        .stall_timeout_ms = cli->stall_ms,
        .max_out = 0,
        .log = &cli->log,
        .ops = &cl_ops,
        .owner = cli,
        .lingering = &cli->lingering,
    };
    int rc = rpc__conn_connect(&p, ai->ai_addr, (int)ai->ai_addrlen, peer,
                               cli->connect_ms, &cli->conn);
    evutil_freeaddrinfo(ai);
    if (rc != 0) {
        cli->conn = NULL;
        snprintf(cli->errmsg, sizeof cli->errmsg, "connect to %s: %s", peer,
                 rpc_strerror(rc));
        return rc;
    }
    cli->gen++;
    cli->conn_open = false;
    return 0;
}

/* Microseconds of CLOCK_MONOTONIC: deadlines do not move with the
 * wall clock. */
static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Arms due_ev for the first deadline unless it already fires no later.
 * A call's deadline is a list insertion, not a libevent timer of its own
 * (an event_new, a heap insert and removal, an event_free per call: a
 * fifth of a client's instructions per call with 64 calls in flight);
 * the one timer fires for the soonest and is moved on from there. */
static void arm(struct rpc_client *cli, uint64_t now)
{
    if (rpc__list_empty(&cli->due))
        return; /* a timer still armed finds nothing due */
    const struct cl_call *first =
        RPC__CONTAINER(cli->due.next, struct cl_call, dlink);
    if (cli->armed_us != 0 && cli->armed_us <= first->due_us)
        return;
    uint64_t wait = first->due_us > now ? first->due_us - now : 0;
    struct timeval tv = {(time_t)(wait / 1000000u),
                         (suseconds_t)(wait % 1000000u)};
    evtimer_add(cli->due_ev, &tv);
    cli->armed_us = first->due_us;
}

/* Puts call in cli->due by its deadline: after every call due no later,
 * so calls with one budget (the usual case) go to the end in O(1). */
static void due_insert(struct rpc_client *cli, struct cl_call *call,
                       uint64_t now)
{
    call->due_us = now + (uint64_t)call->deadline_ms * 1000u;
    struct rpc__list *at = &cli->due;
    while (at->prev != &cli->due &&
           RPC__CONTAINER(at->prev, struct cl_call, dlink)->due_us >
               call->due_us)
        at = at->prev;
    rpc__list_push(at, &call->dlink); /* before at */
    arm(cli, now);
}

/* due_ev: every call whose deadline has come gets CANCEL sent and
 * done(RPC_EDEADLINE), soonest first; then the timer is moved to the next
 * deadline. A done callback may start, cancel or complete calls or
 * destroy the client: the first of the list is taken afresh each time. */
static void due_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rpc_client *cli = arg;
    (void)fd;
    (void)what;
    enter(cli);
    cli->armed_us = 0;
    uint64_t now = mono_us();
    while (!cli->destroying && !rpc__list_empty(&cli->due)) {
        struct cl_call *call =
            RPC__CONTAINER(cli->due.next, struct cl_call, dlink);
        if (call->due_us > now)
            break;
        char msg[96];
        snprintf(msg, sizeof msg, "deadline of %d ms exceeded",
                 call->deadline_ms);
        send_cancel(cli, call);
        complete(call, RPC_EDEADLINE, NULL, msg);
    }
    if (!cli->destroying)
        arm(cli, now);
    leave(cli);
}

int rpc_client_create(struct event_base *base,
                      const struct rpc_client_options *opts,
                      struct rpc_client **out)
{
    if (base == NULL || opts == NULL || out == NULL || opts->host == NULL ||
        opts->connect_timeout_ms < 0 || opts->stall_timeout_ms < 0 ||
        opts->default_deadline_ms < 0 || opts->max_frame > UINT32_MAX)
        return RPC_ECONFIG;
    struct rpc_client *cli = rpc__calloc(1, sizeof *cli);
    if (cli == NULL)
        return -ENOMEM;
    cli->base = base;
    cli->host = rpc__strdup(opts->host);
    cli->port = opts->port;
    cli->tls = opts->tls;
    cli->connect_ms = opts->connect_timeout_ms != 0 ? opts->connect_timeout_ms
                                                    : DEFAULT_CONNECT_MS;
    cli->max_in_flight =
        opts->max_in_flight != 0 ? opts->max_in_flight : DEFAULT_MAX_IN_FLIGHT;
    cli->max_frame = opts->max_frame != 0 ? (uint32_t)opts->max_frame
                                          : RPC_DEFAULT_MAX_FRAME;
    cli->stall_ms =
        opts->stall_timeout_ms != 0 ? opts->stall_timeout_ms : DEFAULT_STALL_MS;
    cli->default_deadline_ms = opts->default_deadline_ms != 0
                                   ? opts->default_deadline_ms
                                   : DEFAULT_DEADLINE_MS;
    cli->log.fn = opts->log;
    cli->log.ud = opts->log_ud;
    cli->log.level = opts->log_level;
    cli->next_id = 1;
    rpc__list_init(&cli->calls);
    rpc__list_init(&cli->due);
    rpc__list_init(&cli->lingering);
    cli->due_ev = evtimer_new(base, due_cb, cli);
    uint32_t size = 16;
    while (size < cli->max_in_flight && size < (1u << 16))
        size <<= 1;
    cli->mask = size - 1;
    cli->tab = rpc__calloc(size, sizeof *cli->tab);
    if (cli->host == NULL || cli->tab == NULL || cli->due_ev == NULL) {
        client_free(cli);
        return -ENOMEM;
    }
    *out = cli;
    return 0;
}

void rpc_client_destroy(struct rpc_client *cli)
{
    if (cli == NULL || cli->destroying)
        return;
    enter(cli);
    cli->destroying = true; /* done callbacks below can start no call */
    if (cli->conn != NULL) {
        rpc__conn_close(cli->conn, 0, NULL, 0, false);
        cli->conn = NULL;
    }
    while (!rpc__list_empty(&cli->calls)) {
        struct cl_call *call =
            RPC__CONTAINER(cli->calls.next, struct cl_call, link);
        complete(call, RPC_ECLOSED, NULL, "client destroyed");
    }
    leave(cli);
}

const char *rpc_client_errmsg(const struct rpc_client *cli)
{
    return cli->errmsg;
}

unsigned rpc_client_in_flight(const struct rpc_client *cli)
{
    return cli->n_calls;
}

/* A request over the frame limit is refused here rather than sent: the
 * server (16 MiB by default, as the client) would answer it by closing
 * the connection, failing every other call on it. The text says why. */
static void too_large_msg(struct rpc_client *cli, int rc)
{
    if (rc == RPC_EFRAME_TOO_LARGE)
        snprintf(cli->errmsg, sizeof cli->errmsg,
                 "request not sent: over the frame limit of %u bytes",
                 (unsigned)cli->max_frame);
}

int rpc_client_call(struct rpc_client *cli,
                    const struct rpc_call_spec *spec,
                    uint64_t *id_out)
{
    bool raw_req = spec != NULL && spec->req_encoded != NULL;
    bool raw_reply = spec != NULL && spec->done_raw != NULL;
    if (cli == NULL || spec == NULL ||
        (spec->done == NULL) == !raw_reply ||
        (!raw_req && (spec->req_fields == NULL || spec->req == NULL)) ||
        (!raw_reply && spec->resp_fields == NULL) ||
        spec->deadline_ms < 0 || (spec->bidi && spec->on_msg == NULL) ||
        (raw_reply && (spec->on_msg != NULL || spec->bidi)) ||
        (raw_req && spec->bidi))
        return RPC_ECONFIG;
    if (cli->destroying)
        return RPC_ECLOSED;
    if (cli->n_calls >= cli->max_in_flight)
        return RPC_EBUSY;
    struct cl_call *call = rpc__calloc(1, sizeof *call);
    if (call == NULL)
        return -ENOMEM;
    rpc__list_init(&call->dlink);
    int rc = ensure_conn(cli);
    if (rc != 0)
        goto err;
    uint32_t id = cli->next_id++;
    if (cli->next_id == 0)
        cli->next_id = 1;
    while (call_find(cli, id) != NULL) { /* wrapped onto a slow call */
        id = cli->next_id++;
        if (cli->next_id == 0)
            cli->next_id = 1;
    }
    /* A bidirectional stream without a deadline lives until it ends. */
    int deadline = spec->deadline_ms != 0 || spec->bidi
                       ? spec->deadline_ms
                       : cli->default_deadline_ms;
    struct rpc__frame f = {.flags = RPC_F_REQUEST,
                           .method = spec->method,
                           .id = id,
                           .aux = deadline};
    if (raw_req && spec->req_len > cli->max_frame)
        rc = RPC_EFRAME_TOO_LARGE;
    else if (raw_req)
        rc = rpc__frame_append_raw(rpc__conn_out(cli->conn), &f,
                                   spec->req_encoded, spec->req_len);
    else
        rc = rpc__frame_append(rpc__conn_out(cli->conn), &f,
                               spec->req_fields, spec->req, cli->max_frame);
    if (rc != 0) {
        too_large_msg(cli, rc);
        goto err;
    }
    call->cli = cli;
    call->id = id;
    call->method = spec->method;
    call->gen = cli->gen;
    call->deadline_ms = deadline;
    call->resp_fields = spec->resp_fields;
    call->resp_size = spec->resp_size;
    call->done = spec->done;
    call->done_raw = spec->done_raw;
    call->on_msg = spec->on_msg;
    call->ud = spec->ud;
    if (spec->bidi) {
        call->bidi = true;
        call->credit = RPC_BIDI_WINDOW;
        call->req_fields = spec->req_fields;
        call->on_window = spec->on_window;
    }
    rpc__list_push(&cli->calls, &call->link);
    call->hnext = *slot(cli, id);
    *slot(cli, id) = call;
    cli->n_calls++;
    if (deadline > 0)
        due_insert(cli, call, mono_us());
    rpc__conn_flush_now(cli->conn);
    if (id_out != NULL)
        *id_out = id;
    return 0;
err:
    rpc__free(call);
    return rc;
}

int rpc_client_cancel(struct rpc_client *cli, uint64_t id)
{
    if (id == 0 || id > UINT32_MAX)
        return RPC_EINTERNAL;
    struct cl_call *call = call_find(cli, (uint32_t)id);
    if (call == NULL)
        return RPC_EINTERNAL;
    enter(cli);
    send_cancel(cli, call);
    complete(call, RPC_ECANCELED, NULL, "call canceled");
    leave(cli);
    return 0;
}

/* ---- bidirectional streams ---- */

/* The open stream id names on the current connection, or NULL. */
static struct cl_call *stream_find(const struct rpc_client *cli, uint64_t id)
{
    if (id == 0 || id > UINT32_MAX)
        return NULL;
    struct cl_call *call =
        call_find((struct rpc_client *)(uintptr_t)cli, (uint32_t)id);
    if (call == NULL || !call->bidi)
        return NULL;
    return call;
}

/* Appends a SEND (msg) or CLOSE_SEND (msg NULL) frame for call. */
static int stream_frame(struct rpc_client *cli, struct cl_call *call,
                        const void *msg)
{
    if (cli->conn == NULL || call->gen != cli->gen)
        return RPC_ECLOSED; /* its connection is gone; done is coming */
    struct rpc__frame f = {.flags = msg != NULL ? RPC_F_SEND
                                                : RPC_F_CLOSE_SEND,
                           .method = call->method,
                           .id = call->id};
    int rc;
    if (msg != NULL)
        rc = rpc__frame_append(rpc__conn_out(cli->conn), &f, call->req_fields,
                               msg, cli->max_frame);
    else
        rc = rpc__frame_append_raw(rpc__conn_out(cli->conn), &f, NULL, 0);
    if (rc != 0)
        return rc;
    rpc__conn_flush_now(cli->conn);
    return 0;
}

int rpc_client_stream_send(struct rpc_client *cli, uint64_t id,
                           const void *msg)
{
    if (cli == NULL || msg == NULL)
        return RPC_ECONFIG;
    struct cl_call *call = stream_find(cli, id);
    if (call == NULL || call->send_closed)
        return RPC_ECLOSED;
    if (call->credit == 0)
        return RPC_EBUSY;
    int rc = stream_frame(cli, call, msg);
    if (rc == 0)
        call->credit--;
    return rc;
}

int rpc_client_stream_close_send(struct rpc_client *cli, uint64_t id)
{
    struct cl_call *call = cli != NULL ? stream_find(cli, id) : NULL;
    if (call == NULL || call->send_closed)
        return RPC_ECLOSED;
    call->send_closed = true;
    return stream_frame(cli, call, NULL);
}

unsigned rpc_client_stream_credit(const struct rpc_client *cli, uint64_t id)
{
    const struct cl_call *call = cli != NULL ? stream_find(cli, id) : NULL;
    return call == NULL || call->send_closed ? 0u : call->credit;
}

/* ---- blocking helper ---- */

struct blocking
{
    bool finished;    /* done fired */
    int rc;           /* its code */
    void *resp;       /* caller's reply struct */
    size_t resp_size; /* its size */
    char *errbuf;     /* caller's message buffer */
    size_t errlen;    /* its size */
};

static void blocking_done(int rc,
                          const void *resp,
                          const char *errmsg,
                          void *ud)
{
    struct blocking *b = ud;
    b->finished = true;
    b->rc = rc;
    if (rc == 0 && resp != NULL) {
        /* Move the decoded reply (and what its pointers own) out; the
         * zeroed original then releases nothing. */
        memcpy(b->resp, resp, b->resp_size);
        memset((void *)(uintptr_t)resp, 0, b->resp_size);
    }
    if (b->errlen > 0)
        snprintf(b->errbuf, b->errlen, "%s", errmsg);
}

int rpc_call_blocking(const struct rpc_client_options *opts,
                      uint32_t method,
                      const struct pb_msgdesc_s *req_fields,
                      const void *req,
                      const struct pb_msgdesc_s *resp_fields,
                      void *resp,
                      size_t resp_size,
                      int deadline_ms,
                      char *errbuf,
                      size_t errlen)
{
    if (errlen > 0)
        errbuf[0] = '\0';
    if (resp_fields == NULL || resp == NULL)
        return RPC_ECONFIG;
    struct event_base *base = event_base_new();
    if (base == NULL)
        return -ENOMEM;
    struct rpc_client *cli = NULL;
    int rc = rpc_client_create(base, opts, &cli);
    if (rc != 0) {
        if (errlen > 0)
            snprintf(errbuf, errlen, "%s", rpc_strerror(rc));
        goto out;
    }
    struct blocking b = {.resp = resp,
                         .resp_size = resp_size,
                         .errbuf = errbuf,
                         .errlen = errlen};
    struct rpc_call_spec spec = {
        .method = method,
        .req_fields = req_fields,
        .req = req,
        .resp_fields = resp_fields,
        .resp_size = resp_size,
        .deadline_ms = deadline_ms,
        .done = blocking_done,
        .ud = &b,
    };
    rc = rpc_client_call(cli, &spec, NULL);
    if (rc != 0) {
        if (errlen > 0)
            snprintf(errbuf, errlen, "%s",
                     rpc_client_errmsg(cli)[0] != '\0' ? rpc_client_errmsg(cli)
                                                       : rpc_strerror(rc));
        goto out;
    }
    while (!b.finished)
        event_base_loop(base, EVLOOP_ONCE);
    rc = b.rc;
out:
    rpc_client_destroy(cli);
    event_base_free(base);
    return rc;
}

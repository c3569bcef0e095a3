/* server.c: the librpc server: a listener on the caller's event_base,
 * per-connection state, dispatch by method id to registered handlers that
 * finish calls now or later, streams, and cancellation. librpc/DESIGN.md,
 * "Server".
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/listener.h>
#include <pb.h>

#include "rpc_int.h"

#define DEFAULT_MAX_IN_FLIGHT 1024u
#define DEFAULT_MAX_OUT (8u << 20)
#define DEFAULT_STALL_MS 10000

struct srv_method
{
    struct rpc_method m; /* registered copy (name borrowed, static) */
    rpc_recv_fn on_recv; /* bidirectional stream: later messages; or NULL */
    rpc_peek_fn peek;    /* unary: sees the payload before decoding (it
                            may answer the call itself); or NULL */
};

struct rpc_server
{
    struct event_base *base;          /* caller's loop */
    struct rpc__listener *lev;        /* listening socket (pauses
                                         on accept failures) */
    uint16_t port;                    /* bound port */
    const struct rpc_tls_config *tls; /* borrowed; NULL plaintext */
    uint32_t max_frame;               /* payload limit */
    unsigned max_in_flight;           /* per connection */
    size_t max_out;                   /* per connection */
    int stall_ms;                     /* stall / flood timeout */
    struct rpc__log log;              /* caller's logger */
    struct srv_method *methods;       /* registered methods */
    size_t n_methods;                 /* used entries */
    size_t cap_methods;               /* allocated entries */
    struct rpc__list conns;           /* struct srv_conn.link */
    unsigned n_conns;                 /* length of conns */
    struct rpc__list orphans;         /* calls whose connection closed */
    struct rpc__list lingering;       /* conns flushing a GOAWAY */
    struct rpc__status *status;       /* rpc_server_add_status's state */
    bool batch_replies;               /* rpc_server_set_reply_batching */
};

struct srv_conn
{
    struct rpc_server *srv; /* owner */
    struct rpc__conn *conn; /* socket; NULL once closed */
    struct rpc__list link;  /* node in srv->conns */
    struct rpc__list calls; /* unfinished calls (struct rpc_call.link) */
    struct rpc_call **tab;  /* calls by request id, chained */
    uint32_t mask;          /* tab size - 1 */
    unsigned n_calls;       /* unfinished calls, bidi streams aside */
    unsigned n_streams;     /* open bidirectional streams */
    bool paused;            /* reading stopped at max_in_flight */
};

struct rpc_call
{
    struct rpc_server *srv;                /* server */
    struct srv_conn *sc;                   /* connection; NULL once it closed */
    struct rpc__list link;                 /* sc->calls or srv->orphans */
    struct rpc_call *hnext;                /* chain in sc->tab */
    uint32_t id;                           /* request id */
    uint32_t method;                       /* method id */
    uint32_t deadline_ms;                  /* caller's budget at arrival */
    const struct pb_msgdesc_s *req_fields; /* request message */
    const struct pb_msgdesc_s *resp_fields;       /* reply message */
    bool alive;                                   /* the caller still waits */
    bool flush_reply;                             /* rpc_call_flush_reply */
    void (*cancel_fn)(struct rpc_call *, void *); /* on_cancel */
    void *cancel_ud;                              /* passed to cancel_fn */
    void *ud;                                     /* rpc_call_set_ud's */
    /* Bidirectional streams only (on_recv non-NULL): */
    rpc_recv_fn on_recv;    /* the method's */
    void *recv_ud;          /* the method's ud */
    size_t req_size;        /* sizeof the message struct */
    uint32_t recv_left;     /* messages the client may still send */
    uint32_t consumed;      /* delivered, credit not yet granted */
    bool recv_closed;       /* CLOSE_SEND seen */
    bool hold;              /* rpc_call_recv_hold: keep credit back */
    void *req; /* decoded request (after struct) */
};

/* ---- call table ---- */

static struct rpc_call **slot(struct srv_conn *sc, uint32_t id)
{
    return &sc->tab[id & sc->mask];
}

static struct rpc_call *call_find(struct srv_conn *sc, uint32_t id)
{
    struct rpc_call *k = *slot(sc, id);
    while (k != NULL && k->id != id)
        k = k->hnext;
    return k;
}

static void call_unhash(struct srv_conn *sc, struct rpc_call *call)
{
    struct rpc_call **pp = slot(sc, call->id);
    while (*pp != call)
        pp = &(*pp)->hnext;
    *pp = call->hnext;
}

static void call_free(struct rpc_call *call)
{
    rpc__list_remove(&call->link);
    rpc__payload_release(call->req_fields, call->req);
    rpc__free(call);
}

static void conn_unpause_check(struct srv_conn *sc)
{
    if (sc->paused && sc->n_calls < sc->srv->max_in_flight) {
        sc->paused = false;
        if (sc->conn != NULL)
            rpc__conn_pause(sc->conn, false);
    }
}

/* Removes call from its connection (if any) and frees it. */
static void call_finish(struct rpc_call *call)
{
    struct srv_conn *sc = call->sc;
    if (sc != NULL && call->on_recv != NULL) {
        call_unhash(sc, call);
        sc->n_streams--;
    } else if (sc != NULL) {
        call_unhash(sc, call);
        sc->n_calls--;
        conn_unpause_check(sc);
    }
    call_free(call);
}

static int dead_code(const struct rpc_call *call)
{
    return call->sc == NULL ? RPC_ECONNLOST : RPC_ECANCELED;
}

/* Appends a frame for call: msg encoded with the method's reply type or,
 * when raw is not NULL, raw_len bytes as they are (an error's text, or a
 * reply the handler encoded); returns 0 or the code saying why not. */
static int call_send(struct rpc_call *call,
                     uint8_t flags,
                     int32_t aux,
                     const void *msg,
                     const void *raw,
                     size_t raw_len)
{
    if (!call->alive || call->sc == NULL || call->sc->conn == NULL)
        return dead_code(call);
    struct rpc__frame f = {
        .flags = flags, .method = call->method, .id = call->id, .aux = aux};
    struct evbuffer *out = rpc__conn_out(call->sc->conn);
    int rc;
    if (raw != NULL && raw_len > call->srv->max_frame)
        rc = RPC_EFRAME_TOO_LARGE; /* the client would close on it */
    else if (raw != NULL)
        rc = rpc__frame_append_raw(out, &f, raw, raw_len);
    else
        rc = rpc__frame_append(out, &f, call->resp_fields, msg,
                               call->srv->max_frame);
    /* A bidirectional stream's message answers a client message as a
     * reply does: written at once too when that is possible. With reply
     * batching, a reply while other unary calls of its connection are
     * unfinished waits for the end of this loop iteration's callbacks
     * (rpc_server_set_reply_batching), so that replies made together
     * (one Raft batch applied) leave in one writev. */
    bool batch = flags == RPC_F_REPLY && call->srv->batch_replies &&
                 call->on_recv == NULL && call->sc->n_calls > 1;
    if (rc == 0 && flags == RPC_F_REPLY && call->flush_reply)
        rpc__conn_flush_force(call->sc->conn);
    else if (rc == 0 && !batch &&
        (flags == RPC_F_REPLY ||
         (flags == RPC_F_STREAM && call->on_recv != NULL)))
        rpc__conn_flush_now(call->sc->conn);
    else if (rc == 0)
        rpc__conn_flush(call->sc->conn);
    return rc;
}

/* call_send of an error's text. */
static int send_text(struct rpc_call *call, uint8_t flags, int32_t aux,
                     const char *text)
{
    return call_send(call, flags, aux, NULL, text, strlen(text));
}

/* A reply over the frame limit is not sent (the client, with the same
 * limit by default, would drop the connection and every call on it): the
 * call fails with RPC_EFRAME_TOO_LARGE and a text saying so. */
static void fail_too_large(struct rpc_call *call)
{
    char text[96];
    snprintf(text, sizeof text,
             "server's reply is over the frame limit of %u bytes",
             (unsigned)call->srv->max_frame);
    rpc__logf(&call->srv->log, RPC_LOG_WARN, "librpc: method 0x%08x: %s",
              call->method, text);
    send_text(call, RPC_F_REPLY, RPC_EFRAME_TOO_LARGE, text);
}

int rpc_call_reply(struct rpc_call *call, const void *resp)
{
    int rc = call_send(call, RPC_F_REPLY, 0, resp, NULL, 0);
    if (rc == RPC_EFRAME_TOO_LARGE)
        fail_too_large(call);
    if (rc == RPC_EENCODE) {
        rpc__logf(&call->srv->log, RPC_LOG_ERROR,
                  "librpc: reply to method 0x%08x does not encode",
                  call->method);
        send_text(call, RPC_F_REPLY, RPC_EENCODE,
                  "server could not encode the reply");
    }
    call_finish(call);
    return rc;
}

int rpc_call_reply_encoded(struct rpc_call *call, const void *payload,
                           size_t len)
{
    int rc = call_send(call, RPC_F_REPLY, 0, NULL,
                       payload != NULL ? payload : "", len);
    if (rc == RPC_EFRAME_TOO_LARGE)
        fail_too_large(call);
    if (rc == RPC_EENCODE) /* over the frame's 32-bit length */
        send_text(call, RPC_F_REPLY, RPC_EENCODE,
                  "server could not encode the reply");
    call_finish(call);
    return rc;
}

int rpc_call_fail(struct rpc_call *call, int code, const char *msg)
{
    if (code >= 0)
        code = RPC_EINTERNAL;
    int rc = send_text(call, RPC_F_REPLY, code,
                       msg != NULL ? msg : rpc_strerror(code));
    call_finish(call);
    return rc;
}

int rpc_call_stream_send(struct rpc_call *call, const void *msg)
{
    return call_send(call, RPC_F_STREAM, 0, msg, NULL, 0);
}

int rpc_call_stream_end(struct rpc_call *call, int status)
{
    int rc = send_text(call, RPC_F_END, status > 0 ? RPC_EINTERNAL : status,
                       status != 0 ? rpc_strerror(status) : "");
    call_finish(call);
    return rc;
}

bool rpc_call_alive(const struct rpc_call *call)
{
    return call->alive;
}

void rpc_call_on_cancel(struct rpc_call *call,
                        void (*fn)(struct rpc_call *call, void *ud),
                        void *ud)
{
    call->cancel_fn = fn;
    call->cancel_ud = ud;
}

size_t rpc_call_queued_bytes(const struct rpc_call *call)
{
    if (call->sc == NULL || call->sc->conn == NULL)
        return 0;
    return rpc__conn_queued(call->sc->conn);
}

uint32_t rpc_call_deadline_ms(const struct rpc_call *call)
{
    return call->deadline_ms;
}

uint32_t rpc_call_method(const struct rpc_call *call)
{
    return call->method;
}

const char *rpc_call_peer_cn(const struct rpc_call *call)
{
    if (call->sc == NULL || call->sc->conn == NULL)
        return "";
    return rpc__conn_peer_cn(call->sc->conn);
}

void rpc_call_flush_reply(struct rpc_call *call)
{
    if (call != NULL)
        call->flush_reply = true;
}

void rpc_call_set_ud(struct rpc_call *call, void *ud)
{
    call->ud = ud;
}

void *rpc_call_get_ud(const struct rpc_call *call)
{
    return call->ud;
}

/* Grants the client what was consumed, as one WINDOW frame. */
static void grant(struct rpc_call *call)
{
    if (call->consumed == 0 || call->sc == NULL || call->sc->conn == NULL)
        return;
    struct rpc__frame f = {.flags = RPC_F_WINDOW,
                           .method = call->method,
                           .id = call->id,
                           .aux = (int32_t)call->consumed};
    if (rpc__frame_append_raw(rpc__conn_out(call->sc->conn), &f, NULL, 0) !=
        0)
        return; /* out of memory: the client stalls, and may cancel */
    call->recv_left += call->consumed;
    call->consumed = 0;
    rpc__conn_flush(call->sc->conn);
}

void rpc_call_recv_hold(struct rpc_call *call, bool hold)
{
    call->hold = hold;
    if (!hold)
        grant(call);
}

/* Marks call dead and tells its handler once. */
static void call_kill(struct rpc_call *call)
{
    if (!call->alive)
        return;
    call->alive = false;
    void (*fn)(struct rpc_call *, void *) = call->cancel_fn;
    call->cancel_fn = NULL;
    if (fn != NULL)
        fn(call, call->cancel_ud);
}

/* ---- connections ---- */

/* The connection is gone: its calls become orphans (their handlers still
 * finish them) and are told, unless notify is false (server destroy). */
static void sc_drop(struct srv_conn *sc, bool notify)
{
    struct rpc_server *srv = sc->srv;
    struct rpc__list tmp;
    rpc__list_init(&tmp);
    sc->conn = NULL;
    while (!rpc__list_empty(&sc->calls)) {
        struct rpc__list *n = sc->calls.next;
        rpc__list_remove(n);
        rpc__list_push(&tmp, n);
        RPC__CONTAINER(n, struct rpc_call, link)->sc = NULL;
    }
    rpc__list_remove(&sc->link);
    srv->n_conns--;
    rpc__free(sc->tab);
    rpc__free(sc);
    /* Pop one at a time: a cancel callback may finish any call. */
    while (!rpc__list_empty(&tmp)) {
        struct rpc__list *n = tmp.next;
        struct rpc_call *call = RPC__CONTAINER(n, struct rpc_call, link);
        rpc__list_remove(n);
        rpc__list_push(&srv->orphans, n);
        if (notify)
            call_kill(call);
        else
            call->alive = false;
    }
}

static const struct srv_method *method_find(const struct rpc_server *srv,
                                            uint32_t id)
{
    for (size_t i = 0; i < srv->n_methods; i++)
        if (srv->methods[i].m.id == id)
            return &srv->methods[i];
    return NULL;
}

static int on_request(struct srv_conn *sc,
                      const struct rpc__frame *f,
                      const uint8_t *payload)
{
    struct rpc_server *srv = sc->srv;
    const struct srv_method *sm = method_find(srv, f->method);
    if (sm == NULL) {
        rpc__conn_set_reason(sc->conn, "unknown method 0x%08x", f->method);
        return RPC_EUNKNOWN_METHOD;
    }
    if (f->id == 0 || call_find(sc, f->id) != NULL) {
        rpc__conn_set_reason(
            sc->conn, "request id %u is zero or already in flight", f->id);
        return RPC_EPROTO;
    }
    /* An open stream waits on its client, so streams do not count towards
     * the read pause (the client could never close them): past
     * max_in_flight a new one is refused instead. */
    if (sm->on_recv != NULL && sc->n_streams >= srv->max_in_flight) {
        char text[96];
        int tl = snprintf(text, sizeof text,
                          "too many streams open on this connection (%u)",
                          sc->n_streams);
        struct rpc__frame rf = {.flags = RPC_F_REPLY, .method = f->method,
                                .id = f->id, .aux = RPC_EBUSY};
        if (rpc__frame_append_raw(rpc__conn_out(sc->conn), &rf, text,
                                  (size_t)tl) != 0) {
            rpc__conn_set_reason(sc->conn, "out of memory");
            return -ENOMEM;
        }
        rpc__conn_flush(sc->conn);
        return 0;
    }
    size_t head = (sizeof(struct rpc_call) + 15) & ~(size_t)15;
    struct rpc_call *call = rpc__malloc(head + sm->m.req_size);
    if (call == NULL) {
        rpc__conn_set_reason(sc->conn, "out of memory for a call");
        return -ENOMEM;
    }
    memset(call, 0, sizeof *call);
    call->req = (char *)call + head;
    /* A method with a peek is decoded only if the peek leaves the call
     * (below); the call is set up first so that the peek can answer it. */
    int drc = sm->peek != NULL
                  ? 0
                  : rpc__payload_decode_sized(payload, f->length,
                                              sm->m.req_fields, call->req,
                                              sm->m.req_size);
    if (drc == -ENOMEM) {
        /* A blob did not fit in memory; the frame was whole, so only this
         * call fails and the connection stays (DESIGN.md, "Large
         * payloads"). */
        rpc__free(call);
        static const char text[] = "out of memory for the request's blob";
        struct rpc__frame rf = {.flags = RPC_F_REPLY, .method = f->method,
                                .id = f->id, .aux = -ENOMEM};
        if (rpc__frame_append_raw(rpc__conn_out(sc->conn), &rf, text,
                                  sizeof text - 1) != 0) {
            rpc__conn_set_reason(sc->conn, "%s", text);
            return -ENOMEM;
        }
        rpc__conn_flush(sc->conn);
        return 0;
    }
    if (drc != 0) {
        rpc__free(call);
        rpc__conn_set_reason(sc->conn,
                             "payload of method %s (0x%08x) does not decode",
                             sm->m.name != NULL ? sm->m.name : "?", f->method);
        return RPC_EDECODE;
    }
    call->srv = srv;
    call->sc = sc;
    call->id = f->id;
    call->method = f->method;
    call->deadline_ms = (uint32_t)f->aux;
    /* nothing to release until decoded */
    call->req_fields = sm->peek != NULL ? NULL : sm->m.req_fields;
    call->resp_fields = sm->m.resp_fields;
    call->alive = true;
    if (sm->on_recv != NULL) {
        call->on_recv = sm->on_recv;
        call->recv_ud = sm->m.ud;
        call->req_size = sm->m.req_size;
        call->recv_left = RPC_BIDI_WINDOW;
    }
    rpc__list_push(&sc->calls, &call->link);
    call->hnext = *slot(sc, f->id);
    *slot(sc, f->id) = call;
    if (call->on_recv != NULL)
        sc->n_streams++;
    else
        sc->n_calls++;
    if (sc->n_calls >= srv->max_in_flight && !sc->paused) {
        sc->paused = true;
        rpc__conn_pause(sc->conn, true);
    }
    rpc_handler_fn fn = sm->m.handler;
    void *ud = sm->m.ud;
    if (sm->peek != NULL) {
        if (sm->peek(call, payload, f->length, ud))
            return 0; /* answered (and freed) */
        drc = rpc__payload_decode_sized(payload, f->length, sm->m.req_fields,
                                        call->req, sm->m.req_size);
        if (drc == -ENOMEM) {
            rpc_call_fail(call, -ENOMEM,
                          "out of memory for the request's blob");
            return 0;
        }
        if (drc != 0) { /* as without a peek: the connection goes */
            call_finish(call);
            rpc__conn_set_reason(
                sc->conn, "payload of method %s (0x%08x) does not decode",
                sm->m.name != NULL ? sm->m.name : "?", f->method);
            return RPC_EDECODE;
        }
        call->req_fields = sm->m.req_fields;
    }
    fn(call, call->req, ud);
    return 0;
}

/* SEND or CLOSE_SEND on a bidirectional stream: credit is checked and
 * granted before on_recv runs, so that the callback (which may finish the
 * call or destroy the server) is the last thing done here. */
static int on_stream_frame(struct srv_conn *sc,
                           const struct rpc__frame *f,
                           const uint8_t *payload)
{
    struct rpc_call *call = call_find(sc, f->id);
    if (call == NULL)
        return 0; /* finished already: the client will hear of it */
    if (call->on_recv == NULL || call->recv_closed) {
        rpc__conn_set_reason(sc->conn,
                             "stream frame (flags 0x%02x) for request %u, "
                             "which %s",
                             f->flags, f->id,
                             call->on_recv == NULL
                                 ? "is no bidirectional stream"
                                 : "closed its sending side");
        return RPC_EPROTO;
    }
    if (f->flags == RPC_F_CLOSE_SEND) {
        call->recv_closed = true;
        if (call->alive)
            call->on_recv(call, NULL, call->recv_ud);
        return 0;
    }
    if (call->recv_left == 0) {
        rpc__conn_set_reason(sc->conn,
                             "request %u sent beyond its stream window of %u",
                             f->id, RPC_BIDI_WINDOW);
        return RPC_EPROTO;
    }
    call->recv_left--;
    call->consumed++;
    if (!call->alive)
        return 0; /* canceled: the message has nobody to go to */
    uint64_t small[64];
    void *msg = small;
    if (call->req_size > sizeof small) {
        msg = rpc__malloc(call->req_size);
        if (msg == NULL) {
            rpc__conn_set_reason(sc->conn, "out of memory for a message");
            return -ENOMEM;
        }
    }
    const struct pb_msgdesc_s *fields = call->req_fields;
    int rc = rpc__payload_decode(payload, f->length, fields, msg);
    if (rc != 0) {
        if (msg != small)
            rpc__free(msg);
        rpc__conn_set_reason(sc->conn,
                             "stream message of request %u does not decode",
                             f->id);
        return rc == -ENOMEM ? rc : RPC_EDECODE;
    }
    if (!call->hold && call->consumed >= RPC_BIDI_WINDOW / 2)
        grant(call);
    call->on_recv(call, msg, call->recv_ud);
    rpc__payload_release(fields, msg);
    if (msg != small)
        rpc__free(msg);
    return 0;
}

static int sc_on_frame(void *owner,
                       const struct rpc__frame *f,
                       const uint8_t *payload)
{
    struct srv_conn *sc = owner;
    switch (f->flags) {
        case RPC_F_REQUEST:
            return on_request(sc, f, payload);
        case RPC_F_CANCEL: {
            struct rpc_call *call = call_find(sc, f->id);
            if (call != NULL)
                call_kill(call); /* the handler still finishes it */
            return 0;
        }
        case RPC_F_SEND:
        case RPC_F_CLOSE_SEND:
            return on_stream_frame(sc, f, payload);
        case RPC_F_GOAWAY:
            rpc__logf(&sc->srv->log, RPC_LOG_INFO,
                      "librpc: client %s went away: %.*s",
                      rpc__conn_peer(sc->conn),
                      (int)(f->length > 200 ? 200 : f->length),
                      (const char *)payload);
            rpc__conn_close(sc->conn, 0, NULL, 0, false);
            sc_drop(sc, true);
            return 0;
        default:
            rpc__conn_set_reason(sc->conn,
                                 "a client sent a reply frame (flags 0x%02x)",
                                 f->flags);
            return RPC_EPROTO;
    }
}

static void sc_on_close(void *owner,
                        int rc,
                        const char *reason,
                        uint32_t blamed_id)
{
    struct srv_conn *sc = owner;
    (void)rc;
    (void)reason;
    (void)blamed_id;
    sc_drop(sc, true);
}

static const struct rpc__conn_ops sc_ops = {
    .on_frame = sc_on_frame,
    .on_close = sc_on_close,
};

static void accept_cb(struct evconnlistener *lev,
                      evutil_socket_t fd,
                      struct sockaddr *sa,
                      int salen,
                      void *arg)
{
    struct rpc_server *srv = arg;
    (void)lev;
    char host[64] = "?";
    char peer[80];
    uint16_t port = 0;
    if (sa->sa_family == AF_INET && salen >= (int)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    snprintf(peer, sizeof peer, "%s:%u", host, port);
    rpc__server_adopt(srv, fd, peer);
}

int rpc__server_adopt(struct rpc_server *srv,
                      evutil_socket_t fd,
                      const char *peer)
{
    struct srv_conn *sc = rpc__calloc(1, sizeof *sc);
    uint32_t size = 16;
    while (size < srv->max_in_flight && size < (1u << 16))
        size <<= 1;
    if (sc != NULL)
        sc->tab = rpc__calloc(size, sizeof *sc->tab);
    if (sc == NULL || sc->tab == NULL) {
        rpc__free(sc);
        evutil_closesocket(fd);
        rpc__logf(&srv->log, RPC_LOG_ERROR,
                  "librpc: out of memory accepting %s", peer);
        return -ENOMEM;
    }
    sc->srv = srv;
    sc->mask = size - 1;
    rpc__list_init(&sc->calls);
    struct rpc__conn_params p = {
        .base = srv->base,
        .tls = srv->tls,
        .is_server = true,
        .max_frame = srv->max_frame,
        .stall_timeout_ms = srv->stall_ms,
        .max_out = srv->max_out,
        .log = &srv->log,
        .ops = &sc_ops,
        .owner = sc,
        .lingering = &srv->lingering,
    };
    int rc = rpc__conn_accept(&p, fd, peer, &sc->conn);
    if (rc != 0) {
        rpc__free(sc->tab);
        rpc__free(sc);
        evutil_closesocket(fd);
        rpc__logf(&srv->log, RPC_LOG_ERROR, "librpc: cannot accept %s: %s",
                  peer, rpc_strerror(rc));
        return rc;
    }
    rpc__list_push(&srv->conns, &sc->link);
    srv->n_conns++;
    rpc__logf(&srv->log, RPC_LOG_INFO, "librpc: accepted %s", peer);
    return 0;
}

int rpc_server_create(struct event_base *base,
                      const struct rpc_server_options *opts,
                      struct rpc_server **out,
                      char *errbuf,
                      size_t errlen)
{
    int rc;
    if (errlen > 0)
        errbuf[0] = '\0';
    if (base == NULL || opts == NULL || out == NULL) {
        snprintf(errbuf, errlen, "base, opts and out are required");
        return RPC_ECONFIG;
    }
    if (opts->max_frame > UINT32_MAX || opts->stall_timeout_ms < 0) {
        snprintf(errbuf, errlen, "max_frame or stall_timeout_ms invalid");
        return RPC_ECONFIG;
    }
    struct rpc_server *srv = rpc__calloc(1, sizeof *srv);
    if (srv == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    srv->base = base;
    srv->tls = opts->tls;
    srv->max_frame = opts->max_frame != 0 ? (uint32_t)opts->max_frame
                                          : RPC_DEFAULT_MAX_FRAME;
    srv->max_in_flight =
        opts->max_in_flight != 0 ? opts->max_in_flight : DEFAULT_MAX_IN_FLIGHT;
    srv->max_out =
        opts->max_out_buffered != 0 ? opts->max_out_buffered : DEFAULT_MAX_OUT;
    srv->stall_ms =
        opts->stall_timeout_ms != 0 ? opts->stall_timeout_ms : DEFAULT_STALL_MS;
    srv->log.fn = opts->log;
    srv->log.ud = opts->log_ud;
    srv->log.level = opts->log_level;
    rpc__list_init(&srv->conns);
    rpc__list_init(&srv->orphans);
    rpc__list_init(&srv->lingering);

    rc = rpc__listen(base, opts->host, opts->port, accept_cb, srv, &srv->log,
                     "accept", &srv->lev, &srv->port, errbuf, errlen);
    if (rc != 0)
        goto err_srv;
    *out = srv;
    return 0;

err_srv:
    rpc__free(srv);
    return rc;
}

void rpc_server_destroy(struct rpc_server *srv)
{
    if (srv == NULL)
        return;
    rpc__listener_free(srv->lev);
    while (!rpc__list_empty(&srv->conns)) {
        struct srv_conn *sc =
            RPC__CONTAINER(srv->conns.next, struct srv_conn, link);
        rpc__conn_close(sc->conn, RPC_ECLOSED, "server shutting down", 0,
                        false);
        sc_drop(sc, false);
    }
    while (!rpc__list_empty(&srv->orphans))
        call_free(RPC__CONTAINER(srv->orphans.next, struct rpc_call, link));
    rpc__conn_free_lingering(&srv->lingering);
    rpc__free(srv->methods);
    rpc__status_free(srv->status);
    rpc__free(srv);
}

void rpc__server_set_status(struct rpc_server *srv, struct rpc__status *st)
{
    rpc__status_free(srv->status);
    srv->status = st;
}

uint16_t rpc_server_port(const struct rpc_server *srv)
{
    return srv->port;
}

void rpc_server_set_reply_batching(struct rpc_server *srv, bool on)
{
    srv->batch_replies = on;
}

unsigned rpc_server_connection_count(const struct rpc_server *srv)
{
    return srv->n_conns;
}

int rpc_server_register(struct rpc_server *srv, const struct rpc_method *m)
{
    return rpc_server_register_bidi(srv, m, NULL);
}

int rpc_server_register_bidi(struct rpc_server *srv,
                             const struct rpc_method *m,
                             rpc_recv_fn on_recv)
{
    if (srv == NULL || m == NULL || m->handler == NULL ||
        m->req_fields == NULL || m->resp_fields == NULL || m->id == 0)
        return RPC_ECONFIG;
    for (size_t i = 0; i < srv->n_methods; i++) {
        if (srv->methods[i].m.id == m->id) {
            srv->methods[i].m = *m;
            srv->methods[i].on_recv = on_recv;
            srv->methods[i].peek = NULL;
            return 0;
        }
    }
    if (srv->n_methods == srv->cap_methods) {
        size_t cap = srv->cap_methods != 0 ? srv->cap_methods * 2 : 8;
        struct srv_method *nm = rpc__calloc(cap, sizeof *nm);
        if (nm == NULL)
            return -ENOMEM;
        if (srv->n_methods > 0)
            memcpy(nm, srv->methods, srv->n_methods * sizeof *nm);
        rpc__free(srv->methods);
        srv->methods = nm;
        srv->cap_methods = cap;
    }
    srv->methods[srv->n_methods].m = *m;
    srv->methods[srv->n_methods].peek = NULL;
    srv->methods[srv->n_methods++].on_recv = on_recv;
    return 0;
}

int rpc_server_set_peek(struct rpc_server *srv, uint32_t method,
                        rpc_peek_fn peek)
{
    if (srv == NULL)
        return RPC_ECONFIG;
    for (size_t i = 0; i < srv->n_methods; i++) {
        if (srv->methods[i].m.id == method) {
            if (srv->methods[i].on_recv != NULL)
                return RPC_ECONFIG; /* unary methods only */
            srv->methods[i].peek = peek;
            return 0;
        }
    }
    return RPC_ECONFIG;
}

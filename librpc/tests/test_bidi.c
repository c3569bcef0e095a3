/* test_bidi.c: bidirectional streams (librpc/DESIGN.md, "Bidirectional
 * streams"): many messages each way in order, message credit and the
 * hold on it, half-close, cancel, a peer closing mid-stream on either side,
 * and the bad frames of the new kinds from a raw socket.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pb_encode.h>

#include "rpc_echo.pb.h"
#include "rpc_int.h"
#include "rpcutil.h"

#define HELD_BIDI 0x00ff0301u
#define HELD_UNARY 0x00ff0302u

/* A bidirectional method that counts what it gets and may hold credit. */
struct holder
{
    struct rpc_call *call; /* the open stream, NULL once finished */
    int opened;            /* handler calls */
    int msgs;              /* on_recv messages */
    int closes;            /* on_recv(NULL) */
    int canceled;          /* cancel callbacks */
    bool hold;             /* hold credit from the start */
    bool end_on_close;     /* end the stream when the client closes */
};

static void held_cancel(struct rpc_call *call, void *ud)
{
    struct holder *h = ud;
    h->canceled++;
    rpc_call_stream_end(call, RPC_ECANCELED);
    h->call = NULL;
}

static void held_open(struct rpc_call *call, const void *req, void *ud)
{
    struct holder *h = ud;
    (void)req;
    h->opened++;
    h->call = call;
    rpc_call_on_cancel(call, held_cancel, h);
    if (h->hold)
        rpc_call_recv_hold(call, true);
}

static void held_recv(struct rpc_call *call, const void *msg, void *ud)
{
    struct holder *h = ud;
    if (msg == NULL) {
        h->closes++;
        if (h->end_on_close) {
            rpc_call_stream_end(call, 0);
            h->call = NULL;
        }
        return;
    }
    h->msgs++;
}

static void register_held(struct rpc_server *srv, struct holder *h)
{
    struct rpc_method m = {
        .id = HELD_BIDI,
        .name = "held_bidi",
        .req_fields = rpc_EchoRequest_fields,
        .req_size = sizeof(rpc_EchoRequest),
        .resp_fields = rpc_EchoResponse_fields,
        .handler = held_open,
        .ud = h,
    };
    assert_int_equal(rpc_server_register_bidi(srv, &m, held_recv), 0);
}

struct fixture
{
    struct event_base *base; /* one loop for server and client */
    struct rpc_server *srv;  /* server on 127.0.0.1:0 */
    struct rpc_client *cli;  /* client of it */
    struct holder h;         /* HELD_BIDI's state */
    struct rpcutil_log log;  /* server log */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    signal(SIGPIPE, SIG_IGN);
    rpcutil_log_init(&f->log);
    f->base = event_base_new();
    struct rpc_server_options so = {.host = "127.0.0.1",
                                    .log = rpcutil_log_fn,
                                    .log_ud = &f->log,
                                    .log_level = RPC_LOG_DEBUG};
    char err[256];
    if (rpc_server_create(f->base, &so, &f->srv, err, sizeof err) != 0 ||
        rpc_server_add_echo(f->srv) != 0)
        return -1;
    register_held(f->srv, &f->h);
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = rpc_server_port(f->srv),
                                    .default_deadline_ms = 30000};
    if (rpc_client_create(f->base, &co, &f->cli) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rpc_client_destroy(f->cli);
    rpc_server_destroy(f->srv);
    event_base_free(f->base);
    rpcutil_log_destroy(&f->log);
    free(f);
    return 0;
}

/* The client's view of one stream. */
struct stream
{
    struct rpc_client *cli; /* its client */
    uint64_t id;            /* stream id */
    int done;               /* done calls */
    int rc;                 /* done's code */
    char err[256];          /* done's text */
    int msgs;               /* messages received */
    bool in_order;          /* every seq equal to its position */
    int windows;            /* on_window calls */
    int to_send;            /* messages still to send from on_window */
    int sent;               /* messages sent after the opening one */
};

static void s_done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct stream *s = ud;
    (void)resp;
    s->done++;
    s->rc = rc;
    snprintf(s->err, sizeof s->err, "%s", errmsg);
}

static void s_msg(const void *msg, void *ud)
{
    struct stream *s = ud;
    const rpc_EchoResponse *m = msg;
    if (m->seq != (uint32_t)s->msgs)
        s->in_order = false;
    s->msgs++;
}

/* Sends what credit allows of s->to_send. */
static void s_pump(struct stream *s)
{
    rpc_EchoRequest req = {.count = 0};
    while (s->to_send > 0) {
        int rc = rpc_client_stream_send(s->cli, s->id, &req);
        if (rc == RPC_EBUSY)
            return;
        assert_int_equal(rc, 0);
        s->to_send--;
        s->sent++;
    }
}

static void s_window(void *ud)
{
    struct stream *s = ud;
    s->windows++;
    s_pump(s);
}

static int open_stream(struct fixture *f, uint32_t method, struct stream *s)
{
    memset(s, 0, sizeof *s);
    s->cli = f->cli;
    s->in_order = true;
    rpc_EchoRequest req = {.count = 0};
    struct rpc_call_spec cs = {
        .method = method,
        .req_fields = rpc_EchoRequest_fields,
        .req = &req,
        .resp_fields = rpc_EchoResponse_fields,
        .resp_size = sizeof(rpc_EchoResponse),
        .done = s_done,
        .on_msg = s_msg,
        .ud = s,
        .bidi = true,
        .on_window = s_window,
    };
    return rpc_client_call(f->cli, &cs, &s->id);
}

/* 1000 messages (many windows' worth) echoed in order, then the client's
 * close ends the stream with status 0. */
static void echo_many_in_order(void **state)
{
    struct fixture *f = *state;
    struct stream s;
    assert_int_equal(open_stream(f, RPC_METHOD_ECHO_BIDI, &s), 0);
    assert_int_equal(rpc_client_stream_credit(f->cli, s.id), RPC_BIDI_WINDOW);
    s.to_send = 1000;
    s_pump(&s);
    assert_int_equal(s.sent, RPC_BIDI_WINDOW); /* the rest waits for credit */
    assert_true(rpcutil_loop_until_count(f->base, &s.msgs, 1001));
    assert_int_equal(s.sent, 1000);
    assert_true(s.windows > 0);
    assert_true(s.in_order);
    assert_int_equal(s.done, 0);
    assert_int_equal(rpc_client_stream_close_send(f->cli, s.id), 0);
    assert_true(rpcutil_loop_until_count(f->base, &s.done, 1));
    assert_int_equal(s.rc, 0);
    assert_int_equal(s.msgs, 1001);
    /* The stream is gone: sends are refused, and never call done again. */
    rpc_EchoRequest req = {.count = 0};
    assert_int_equal(rpc_client_stream_send(f->cli, s.id, &req), RPC_ECLOSED);
    assert_int_equal(rpc_client_stream_close_send(f->cli, s.id), RPC_ECLOSED);
    assert_int_equal(rpc_client_in_flight(f->cli), 0);
}

/* A server holding credit: the client gets exactly one window's worth,
 * then RPC_EBUSY; releasing the hold grants all that was consumed. */
static void held_credit_bounds_the_client(void **state)
{
    struct fixture *f = *state;
    f->h.hold = true;
    struct stream s;
    assert_int_equal(open_stream(f, HELD_BIDI, &s), 0);
    s.to_send = 200;
    s_pump(&s);
    assert_int_equal(s.sent, RPC_BIDI_WINDOW);
    assert_int_equal(rpc_client_stream_credit(f->cli, s.id), 0);
    assert_true(rpcutil_loop_until_count(f->base, &f->h.msgs,
                                         (int)RPC_BIDI_WINDOW));
    /* The server consumed them all but granted nothing. */
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    assert_int_equal(s.windows, 0);
    assert_int_equal(s.sent, RPC_BIDI_WINDOW);
    rpc_call_recv_hold(f->h.call, false);
    assert_true(rpcutil_loop_until_count(f->base, &f->h.msgs, 200));
    assert_int_equal(s.sent, 200);
    assert_int_equal(f->h.msgs, 200);
    assert_int_equal(f->h.opened, 1);
    /* Half-close reaches the handler; here it ends the stream itself. */
    f->h.end_on_close = true;
    assert_int_equal(rpc_client_stream_close_send(f->cli, s.id), 0);
    assert_true(rpcutil_loop_until_count(f->base, &s.done, 1));
    assert_int_equal(f->h.closes, 1);
    assert_int_equal(s.rc, 0);
    assert_int_equal(f->h.canceled, 0);
}

/* rpc_client_cancel: done(RPC_ECANCELED) at once, the handler hears of it,
 * later sends are refused. */
static void cancel_reaches_the_handler(void **state)
{
    struct fixture *f = *state;
    struct stream s;
    assert_int_equal(open_stream(f, HELD_BIDI, &s), 0);
    s.to_send = 3;
    s_pump(&s);
    assert_true(rpcutil_loop_until_count(f->base, &f->h.msgs, 3));
    assert_int_equal(rpc_client_cancel(f->cli, s.id), 0);
    assert_int_equal(s.done, 1);
    assert_int_equal(s.rc, RPC_ECANCELED);
    rpc_EchoRequest req = {.count = 0};
    assert_int_equal(rpc_client_stream_send(f->cli, s.id, &req), RPC_ECLOSED);
    assert_true(rpcutil_loop_until_count(f->base, &f->h.canceled, 1));
    assert_null(f->h.call);
}

/* The client goes away mid-stream: the server's cancel callback fires. */
static void client_closes_mid_stream(void **state)
{
    struct fixture *f = *state;
    struct stream s;
    assert_int_equal(open_stream(f, HELD_BIDI, &s), 0);
    s.to_send = 5;
    s_pump(&s);
    assert_true(rpcutil_loop_until_count(f->base, &f->h.msgs, 5));
    rpc_client_destroy(f->cli);
    f->cli = NULL;
    assert_int_equal(s.done, 1);
    assert_int_equal(s.rc, RPC_ECLOSED);
    assert_true(rpcutil_loop_until_count(f->base, &f->h.canceled, 1));
}

/* The server goes away mid-stream: the client's done gets
 * RPC_ECONNLOST. */
static void server_closes_mid_stream(void **state)
{
    struct fixture *f = *state;
    struct stream s;
    assert_int_equal(open_stream(f, HELD_BIDI, &s), 0);
    assert_true(rpcutil_loop_until_count(f->base, &f->h.opened, 1));
    rpc_server_destroy(f->srv);
    f->srv = NULL;
    assert_true(rpcutil_loop_until_count(f->base, &s.done, 1));
    assert_int_equal(s.rc, RPC_ECONNLOST);
    assert_int_equal(rpc_client_stream_credit(f->cli, s.id), 0);
}

/* The server fails the stream with a code and text: the client's done gets
 * both (how pdd says "not leader" on a stream). */
static void fail_carries_code_and_text(void **state)
{
    struct fixture *f = *state;
    struct stream s;
    assert_int_equal(open_stream(f, HELD_BIDI, &s), 0);
    assert_true(rpcutil_loop_until_count(f->base, &f->h.opened, 1));
    rpc_call_fail(f->h.call, -4001, "not leader (leader: 127.0.0.1:1)");
    f->h.call = NULL;
    assert_true(rpcutil_loop_until_count(f->base, &s.done, 1));
    assert_int_equal(s.rc, -4001);
    assert_string_equal(s.err, "not leader (leader: 127.0.0.1:1)");
}

/* Misuse the API refuses without calling done. */
static void api_refusals(void **state)
{
    struct fixture *f = *state;
    rpc_EchoRequest req = {.count = 0};
    struct rpc_call_spec cs = {
        .method = RPC_METHOD_ECHO_BIDI,
        .req_fields = rpc_EchoRequest_fields,
        .req = &req,
        .resp_fields = rpc_EchoResponse_fields,
        .resp_size = sizeof(rpc_EchoResponse),
        .done = s_done,
        .bidi = true, /* without on_msg */
    };
    assert_int_equal(rpc_client_call(f->cli, &cs, NULL), RPC_ECONFIG);
    assert_int_equal(rpc_client_stream_send(f->cli, 12345, &req), RPC_ECLOSED);
    assert_int_equal(rpc_client_stream_credit(f->cli, 0), 0);
    /* A unary call is no stream. */
    struct stream s = {.cli = f->cli};
    cs.method = RPC_METHOD_ECHO;
    cs.bidi = false;
    cs.ud = &s;
    uint64_t id = 0;
    assert_int_equal(rpc_client_call(f->cli, &cs, &id), 0);
    assert_int_equal(rpc_client_stream_send(f->cli, id, &req), RPC_ECLOSED);
    assert_true(rpcutil_loop_until_count(f->base, &s.done, 1));
    assert_int_equal(s.rc, 0);
}

/* Streams do not pause reading at max_in_flight (their client could never
 * close them): beyond it a new one is refused with RPC_EBUSY, and the
 * open ones keep working. */
static void stream_limit_refuses(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct rpc_server_options so = {.host = "127.0.0.1", .max_in_flight = 2};
    struct rpc_server *srv = NULL;
    char err[256];
    assert_int_equal(rpc_server_create(base, &so, &srv, err, sizeof err), 0);
    assert_int_equal(rpc_server_add_echo(srv), 0);
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = rpc_server_port(srv)};
    struct fixture f = {.base = base, .srv = srv};
    assert_int_equal(rpc_client_create(base, &co, &f.cli), 0);
    struct stream s[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(open_stream(&f, RPC_METHOD_ECHO_BIDI, &s[i]), 0);
    assert_true(rpcutil_loop_until_count(base, &s[2].done, 1));
    assert_int_equal(s[2].rc, RPC_EBUSY);
    assert_non_null(strstr(s[2].err, "too many streams"));
    for (int i = 0; i < 2; i++) {
        s[i].to_send = 10;
        s_pump(&s[i]);
        assert_true(rpcutil_loop_until_count(base, &s[i].msgs, 11));
        assert_int_equal(rpc_client_stream_close_send(f.cli, s[i].id), 0);
        assert_true(rpcutil_loop_until_count(base, &s[i].done, 1));
        assert_int_equal(s[i].rc, 0);
    }
    /* Both ended: a new stream is accepted again. */
    assert_int_equal(open_stream(&f, RPC_METHOD_ECHO_BIDI, &s[2]), 0);
    assert_true(rpcutil_loop_until_count(base, &s[2].msgs, 1));
    rpc_client_destroy(f.cli);
    assert_int_equal(s[2].rc, RPC_ECLOSED);
    rpc_server_destroy(srv);
    event_base_free(base);
}

/* ---- the codec ---- */

static int decode(uint8_t flags, uint32_t len, int32_t aux)
{
    uint8_t b[RPC_HEADER_SIZE];
    rpcutil_header(b, RPC_MAGIC, RPC_PROTO_VERSION, flags, 1, 7, len, aux);
    struct rpc__frame fr;
    return rpc__frame_decode(b, sizeof b, 1000, &fr);
}

static void codec_new_kinds(void **state)
{
    (void)state;
    assert_int_equal(decode(RPC_F_SEND, 10, 0), 0);
    assert_int_equal(decode(RPC_F_SEND, 0, 0), 0);
    assert_int_equal(decode(RPC_F_SEND, 10, 5), RPC_EPROTO);
    assert_int_equal(decode(RPC_F_SEND, 1001, 0), RPC_EFRAME_TOO_LARGE);
    assert_int_equal(decode(RPC_F_CLOSE_SEND, 0, 0), 0);
    assert_int_equal(decode(RPC_F_CLOSE_SEND, 1, 0), RPC_EPROTO);
    assert_int_equal(decode(RPC_F_CLOSE_SEND, 0, -1), RPC_EPROTO);
    assert_int_equal(decode(RPC_F_WINDOW, 0, 32), 0);
    assert_int_equal(decode(RPC_F_WINDOW, 0, 0), RPC_EPROTO);
    assert_int_equal(decode(RPC_F_WINDOW, 0, -3), RPC_EPROTO);
    assert_int_equal(decode(RPC_F_WINDOW, 4, 1), RPC_EPROTO);
    assert_int_equal(decode(0x23, 0, 0), RPC_EPROTO);
}

/* ---- raw peers against a server on its own thread ---- */

/* Never answers: the call stays open until the server is destroyed. */
static void never_handler(struct rpc_call *call, const void *req, void *ud)
{
    (void)call;
    (void)req;
    (void)ud;
}

static struct holder raw_holder; /* HELD_BIDI on the server thread */

static int raw_setup(void **state)
{
    struct rpcutil_server *s = calloc(1, sizeof *s);
    signal(SIGPIPE, SIG_IGN);
    rpcutil_server_init(s, NULL);
    memset(&raw_holder, 0, sizeof raw_holder);
    raw_holder.hold = true; /* credit is never granted: the window is exact */
    register_held(s->srv, &raw_holder);
    struct rpc_method m = {
        .id = HELD_UNARY,
        .name = "never",
        .req_fields = rpc_EchoRequest_fields,
        .req_size = sizeof(rpc_EchoRequest),
        .resp_fields = rpc_EchoResponse_fields,
        .handler = never_handler,
    };
    assert_int_equal(rpc_server_register(s->srv, &m), 0);
    rpcutil_server_run(s);
    state[0] = s;
    return 0;
}

static int raw_teardown(void **state)
{
    struct rpcutil_server *s = *state;
    rpcutil_server_stop(s);
    free(s);
    return 0;
}

/* Writes one frame with an encoded EchoRequest (or raw bytes). */
static void raw_send(int fd, uint8_t flags, uint32_t method, uint32_t id,
                     const uint8_t *payload, uint32_t len)
{
    uint8_t b[RPC_HEADER_SIZE + 64];
    assert_true(len <= 64);
    rpcutil_header(b, RPC_MAGIC, RPC_PROTO_VERSION, flags, method, id, len, 0);
    if (len > 0)
        memcpy(b + RPC_HEADER_SIZE, payload, len);
    assert_int_equal(rpcutil_write_all(fd, b, RPC_HEADER_SIZE + len), 0);
}

/* Reads frames until a GOAWAY; returns its status and copies its text. */
static int32_t raw_goaway(int fd, char *text, size_t cap)
{
    for (;;) {
        uint8_t flags;
        uint32_t id;
        int32_t aux;
        if (rpcutil_read_frame(fd, &flags, &id, &aux, text, cap) != 0)
            return 1; /* closed without one */
        if (flags == RPC_F_GOAWAY)
            return aux;
    }
}

static void expect_goaway(int fd, int32_t code, const char *needle)
{
    char text[256];
    assert_int_equal(raw_goaway(fd, text, sizeof text), code);
    if (strstr(text, needle) == NULL)
        fail_msg("GOAWAY text \"%s\" lacks \"%s\"", text, needle);
    assert_true(rpcutil_wait_closed(fd));
    close(fd);
}

static void beyond_window_is_a_protocol_error(void **state)
{
    struct rpcutil_server *s = *state;
    int fd = rpcutil_raw_connect(s->port);
    assert_true(fd >= 0);
    raw_send(fd, RPC_F_REQUEST, HELD_BIDI, 1, NULL, 0);
    for (unsigned i = 0; i <= RPC_BIDI_WINDOW; i++)
        raw_send(fd, RPC_F_SEND, HELD_BIDI, 1, NULL, 0);
    expect_goaway(fd, RPC_EPROTO, "beyond its stream window");
}

static void send_after_close_send(void **state)
{
    struct rpcutil_server *s = *state;
    int fd = rpcutil_raw_connect(s->port);
    raw_send(fd, RPC_F_REQUEST, HELD_BIDI, 1, NULL, 0);
    raw_send(fd, RPC_F_SEND, HELD_BIDI, 1, NULL, 0);
    raw_send(fd, RPC_F_CLOSE_SEND, HELD_BIDI, 1, NULL, 0);
    raw_send(fd, RPC_F_SEND, HELD_BIDI, 1, NULL, 0);
    expect_goaway(fd, RPC_EPROTO, "closed its sending side");
}

static void send_to_a_unary_call(void **state)
{
    struct rpcutil_server *s = *state;
    int fd = rpcutil_raw_connect(s->port);
    raw_send(fd, RPC_F_REQUEST, HELD_UNARY, 9, NULL, 0);
    raw_send(fd, RPC_F_SEND, HELD_UNARY, 9, NULL, 0);
    expect_goaway(fd, RPC_EPROTO, "is no bidirectional stream");
    /* A SEND to an id with no call is dropped (the stream may have just
     * ended); the connection stays usable. */
    fd = rpcutil_raw_connect(s->port);
    raw_send(fd, RPC_F_SEND, HELD_BIDI, 77, NULL, 0);
    raw_send(fd, RPC_F_CLOSE_SEND, HELD_BIDI, 77, NULL, 0);
    raw_send(fd, RPC_F_REQUEST, RPC_METHOD_ECHO, 78, NULL, 0);
    uint8_t flags;
    uint32_t id;
    int32_t aux;
    char text[64];
    assert_int_equal(rpcutil_read_frame(fd, &flags, &id, &aux, text, sizeof text),
                     0);
    assert_int_equal(flags, RPC_F_REPLY);
    assert_int_equal(id, 78);
    assert_int_equal(aux, 0);
    close(fd);
}

static void undecodable_message(void **state)
{
    struct rpcutil_server *s = *state;
    int fd = rpcutil_raw_connect(s->port);
    raw_send(fd, RPC_F_REQUEST, HELD_BIDI, 3, NULL, 0);
    static const uint8_t junk[] = {0x0a, 0x7f, 0x01}; /* bytes past the end */
    raw_send(fd, RPC_F_SEND, HELD_BIDI, 3, junk, sizeof junk);
    expect_goaway(fd, RPC_EDECODE, "does not decode");
}

static void window_from_a_client(void **state)
{
    struct rpcutil_server *s = *state;
    int fd = rpcutil_raw_connect(s->port);
    uint8_t b[RPC_HEADER_SIZE];
    rpcutil_header(b, RPC_MAGIC, RPC_PROTO_VERSION, RPC_F_WINDOW, HELD_BIDI, 1,
                   0, 4);
    assert_int_equal(rpcutil_write_all(fd, b, sizeof b), 0);
    expect_goaway(fd, RPC_EPROTO, "reply frame");
}

/* A client stream whose server sends it a WINDOW for a unary call (a
 * broken server, here a raw socket): the client closes the connection
 * and the call fails. */
static void client_refuses_window_for_unary(void **state)
{
    (void)state;
    uint16_t port = 0;
    int lfd = rpcutil_listen(&port);
    assert_true(lfd >= 0);
    struct event_base *base = event_base_new();
    struct rpc_client_options co = {.host = "127.0.0.1", .port = port};
    struct rpc_client *cli = NULL;
    assert_int_equal(rpc_client_create(base, &co, &cli), 0);
    struct stream s = {.cli = cli};
    rpc_EchoRequest req = {.count = 0};
    struct rpc_call_spec cs = {
        .method = RPC_METHOD_ECHO,
        .req_fields = rpc_EchoRequest_fields,
        .req = &req,
        .resp_fields = rpc_EchoResponse_fields,
        .resp_size = sizeof(rpc_EchoResponse),
        .deadline_ms = 30000,
        .done = s_done,
        .ud = &s,
    };
    uint64_t id = 0;
    assert_int_equal(rpc_client_call(cli, &cs, &id), 0);
    event_base_loop(base, EVLOOP_NONBLOCK);
    int fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    uint8_t flags;
    uint32_t rid;
    int32_t aux;
    assert_int_equal(rpcutil_pump_frame(base, fd, &flags, &rid, &aux), 0);
    assert_int_equal(rid, (uint32_t)id);
    uint8_t b[RPC_HEADER_SIZE];
    rpcutil_header(b, RPC_MAGIC, RPC_PROTO_VERSION, RPC_F_WINDOW,
                   RPC_METHOD_ECHO, rid, 0, 8);
    assert_int_equal(rpcutil_write_all(fd, b, sizeof b), 0);
    assert_true(rpcutil_loop_until_count(base, &s.done, 1));
    assert_int_equal(s.rc, RPC_EPROTO);
    assert_non_null(strstr(s.err, "no bidirectional stream"));
    rpc_client_destroy(cli);
    event_base_free(base);
    close(fd);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(echo_many_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(held_credit_bounds_the_client, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cancel_reaches_the_handler, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(client_closes_mid_stream, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(server_closes_mid_stream, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fail_carries_code_and_text, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(api_refusals, setup, teardown),
        cmocka_unit_test(stream_limit_refuses),
        cmocka_unit_test(codec_new_kinds),
        cmocka_unit_test_setup_teardown(beyond_window_is_a_protocol_error,
                                        raw_setup, raw_teardown),
        cmocka_unit_test_setup_teardown(send_after_close_send, raw_setup,
                                        raw_teardown),
        cmocka_unit_test_setup_teardown(send_to_a_unary_call, raw_setup,
                                        raw_teardown),
        cmocka_unit_test_setup_teardown(undecodable_message, raw_setup,
                                        raw_teardown),
        cmocka_unit_test_setup_teardown(window_from_a_client, raw_setup,
                                        raw_teardown),
        cmocka_unit_test(client_refuses_window_for_unary),
    };
    return cmocka_run_group_tests_name("librpc/bidi", tests, NULL, NULL);
}

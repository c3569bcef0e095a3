/* test_sync.c: blocking connections (sync.c): calls on the caller's
 * thread against a server on its own thread: replies, many calls on one
 * connection, a server error that keeps the connection, a request over
 * the frame limit refused before it is sent, an unknown method (GOAWAY),
 * a deadline, a refused connect, a server gone; requests sent and
 * replies taken as bytes (spec.req_encoded, spec.done_raw,
 * rpc_sync_poll_raw); split calls
 * (rpc_sync_send, rpc_sync_poll): replies, a reply not yet there, a reply
 * arriving in pieces, a server error, a server gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc_echo.pb.h"
#include "rpcutil.h"

#define FAILING 0x00ff0020u
#define SILENT 0x00ff0021u

static void failing(struct rpc_call *call, const void *req, void *ud)
{
    (void)req;
    (void)ud;
    rpc_call_fail(call, -EIO, "it failed");
}

static struct rpc_call *held;
static void silent(struct rpc_call *call, const void *req, void *ud)
{
    (void)req;
    (void)ud;
    held = call; /* answered when the server stops (destroy frees it) */
}

struct echo_buf
{
    pb_size_t size;      /* as nanopb's bytes field */
    pb_byte_t bytes[64]; /* the text */
};

/* The spec of an echo call of text (b and req hold the request). */
static struct rpc_call_spec echo_spec(uint32_t method, const char *text,
                                      int deadline_ms, struct echo_buf *b,
                                      rpc_EchoRequest *req)
{
    b->size = (pb_size_t)strlen(text);
    memcpy(b->bytes, text, b->size);
    req->payload = (pb_bytes_array_t *)b;
    struct rpc_call_spec cs = {.method = method,
                               .req_fields = rpc_EchoRequest_fields,
                               .req = req,
                               .resp_fields = rpc_EchoResponse_fields,
                               .resp_size = sizeof(rpc_EchoResponse),
                               .deadline_ms = deadline_ms};
    return cs;
}

/* The text of an echo reply into got; releases the reply. */
static void echo_text(rpc_EchoResponse *resp, char *got, size_t gotlen)
{
    snprintf(got, gotlen, "%.*s", resp->payload ? (int)resp->payload->size : 0,
             resp->payload ? (const char *)resp->payload->bytes : "");
    rpc_msg_release(rpc_EchoResponse_fields, resp);
}

static int echo(struct rpc_sync *s, uint32_t method, const char *text,
                int deadline_ms, char *got, size_t gotlen, char *err,
                size_t errlen)
{
    struct echo_buf b;
    rpc_EchoRequest req;
    struct rpc_call_spec cs = echo_spec(method, text, deadline_ms, &b, &req);
    rpc_EchoResponse resp;
    memset(&resp, 0, sizeof resp);
    err[0] = '\0';
    int rc = rpc_sync_call(s, &cs, &resp, err, errlen);
    if (rc == 0)
        echo_text(&resp, got, gotlen);
    return rc;
}

/* A server on its own thread with echo, FAILING and SILENT. */
static void server_start(struct rpcutil_server *srv)
{
    rpcutil_server_init(srv, NULL);
    struct rpc_method fm = {FAILING, "test.Failing", rpc_EchoRequest_fields,
                            sizeof(rpc_EchoRequest), rpc_EchoResponse_fields,
                            failing, NULL};
    struct rpc_method sm = {SILENT, "test.Silent", rpc_EchoRequest_fields,
                            sizeof(rpc_EchoRequest), rpc_EchoResponse_fields,
                            silent, NULL};
    assert_int_equal(rpc_server_register(srv->srv, &fm), 0);
    assert_int_equal(rpc_server_register(srv->srv, &sm), 0);
    rpcutil_server_run(srv);
}

/* server_start, and a connection to it. */
static struct rpc_sync *started(struct rpcutil_server *srv)
{
    server_start(srv);
    struct rpc_sync *s = NULL;
    char err[256];
    assert_int_equal(
        rpc_sync_connect("127.0.0.1", srv->port, 5000, &s, err, sizeof err),
        0);
    return s;
}

static void calls_and_errors(void **state)
{
    (void)state;
    struct rpcutil_server srv;
    struct rpc_sync *s = started(&srv);
    char err[256], got[64];
    for (int i = 0; i < 100; i++) {
        char t[16];
        snprintf(t, sizeof t, "m%d", i);
        assert_int_equal(echo(s, RPC_METHOD_ECHO, t, 30000, got, sizeof got,
                              err, sizeof err),
                         0);
        assert_string_equal(got, t);
    }
    /* a failure answered by the server: the connection goes on */
    assert_int_equal(echo(s, FAILING, "x", 30000, got, sizeof got, err,
                          sizeof err),
                     -EIO);
    assert_string_equal(err, "it failed");
    assert_int_equal(echo(s, RPC_METHOD_ECHO, "after", 30000, got,
                          sizeof got, err, sizeof err),
                     0);
    assert_string_equal(got, "after");
    /* no answer within the deadline */
    assert_int_equal(echo(s, SILENT, "x", 200, got, sizeof got, err,
                          sizeof err),
                     RPC_EDEADLINE);
    rpc_sync_close(s);
    /* a request over the connection's own frame limit is not sent; the
     * connection goes on */
    struct rpc_client_options so = {.host = "127.0.0.1", .port = srv.port,
                                    .max_frame = 32};
    assert_int_equal(rpc_sync_open(&so, &s, err, sizeof err), 0);
    assert_int_equal(echo(s, RPC_METHOD_ECHO,
                          "0123456789012345678901234567890123456789", 30000,
                          got, sizeof got, err, sizeof err),
                     RPC_EFRAME_TOO_LARGE);
    assert_string_equal(err, "request not sent: over the frame limit of 32 "
                             "bytes");
    assert_int_equal(echo(s, RPC_METHOD_ECHO, "short", 30000, got,
                          sizeof got, err, sizeof err),
                     0);
    assert_string_equal(got, "short");
    rpc_sync_close(s);
    /* an unknown method: the server closes with a GOAWAY naming it */
    assert_int_equal(
        rpc_sync_connect("127.0.0.1", srv.port, 5000, &s, err, sizeof err), 0);
    assert_int_equal(echo(s, 0x00ff00eeu, "x", 30000, got, sizeof got, err,
                          sizeof err),
                     RPC_EUNKNOWN_METHOD);
    rpc_sync_close(s);
    /* the server goes away under an open connection */
    assert_int_equal(
        rpc_sync_connect("127.0.0.1", srv.port, 5000, &s, err, sizeof err), 0);
    uint16_t port = srv.port;
    rpcutil_server_stop(&srv);
    assert_int_equal(echo(s, RPC_METHOD_ECHO, "x", 30000, got, sizeof got,
                          err, sizeof err),
                     RPC_ECONNLOST);
    rpc_sync_close(s);
    assert_int_equal(
        rpc_sync_connect("127.0.0.1", port, 5000, &s, err, sizeof err),
        RPC_ECONNECT);
    assert_null(s);
    rpc_sync_close(NULL);
}

/* What a raw call's done_raw got. */
struct raw_got
{
    int calls;        /* times called */
    int rc;           /* its rc */
    uint8_t buf[64];  /* the payload's bytes */
    size_t len;       /* their count */
};

static void on_raw(int rc, const uint8_t *payload, size_t len,
                   const char *errmsg, void *ud)
{
    (void)errmsg;
    struct raw_got *g = ud;
    g->calls++;
    g->rc = rc;
    g->len = len;
    assert_true(len <= sizeof g->buf);
    memcpy(g->buf, payload, len);
}

/* spec.done_raw: the reply's bytes as the server encoded them, resp
 * untouched; a server error is the return code, done_raw not called; the
 * connection goes on with decoded calls. */
static void raw_replies(void **state)
{
    (void)state;
    struct rpcutil_server srv;
    struct rpc_sync *s = started(&srv);
    char err[256], got[64];
    struct echo_buf b;
    rpc_EchoRequest req;
    struct rpc_call_spec cs = echo_spec(RPC_METHOD_ECHO, "hi", 30000, &b, &req);
    struct raw_got g = {0};
    cs.done_raw = on_raw;
    cs.ud = &g;
    assert_int_equal(rpc_sync_call(s, &cs, NULL, err, sizeof err), 0);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.rc, 0);
    /* EchoResponse: payload (field 1, bytes) "hi" */
    const uint8_t want[] = {0x0a, 0x02, 'h', 'i'};
    assert_int_equal(g.len, sizeof want);
    assert_memory_equal(g.buf, want, sizeof want);
    rpc_EchoResponse resp;
    memset(&resp, 0, sizeof resp);
    assert_int_equal(rpc_msg_decode(rpc_EchoResponse_fields, g.buf, g.len,
                                    &resp),
                     0);
    echo_text(&resp, got, sizeof got);
    assert_string_equal(got, "hi");
    cs.method = FAILING;
    g.calls = 0;
    assert_int_equal(rpc_sync_call(s, &cs, NULL, err, sizeof err), -EIO);
    assert_string_equal(err, "it failed");
    assert_int_equal(g.calls, 0);
    assert_int_equal(echo(s, RPC_METHOD_ECHO, "after", 30000, got,
                          sizeof got, err, sizeof err),
                     0);
    assert_string_equal(got, "after");
    /* a request the caller encoded goes as its bytes */
    const uint8_t enc[] = {0x0a, 0x03, 'r', 'a', 'w'}; /* payload "raw" */
    struct rpc_call_spec ce = {.method = RPC_METHOD_ECHO,
                               .req_encoded = enc,
                               .req_len = sizeof enc,
                               .deadline_ms = 30000,
                               .done_raw = on_raw,
                               .ud = &g};
    memset(&g, 0, sizeof g);
    assert_int_equal(rpc_sync_call(s, &ce, NULL, err, sizeof err), 0);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.len, sizeof enc);
    assert_memory_equal(g.buf, enc, sizeof enc);
    /* a split call's reply as bytes (rpc_sync_poll_raw) */
    uint32_t id;
    cs.method = RPC_METHOD_ECHO;
    assert_int_equal(rpc_sync_send(s, &cs, &id, err, sizeof err), 0);
    memset(&g, 0, sizeof g);
    int rc = -EAGAIN;
    for (int i = 0; i < 3000 && rc == -EAGAIN; i++) {
        struct pollfd p = {.fd = rpc_sync_fd(s), .events = POLLIN};
        (void)poll(&p, 1, 10);
        rc = rpc_sync_poll_raw(s, id, on_raw, &g, err, sizeof err);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.len, sizeof want);
    assert_memory_equal(g.buf, want, sizeof want);
    rpc_sync_close(s);
    rpcutil_server_stop(&srv);
}

/* Sends an echo of text as a split call: 0 with its id. */
static int split_send(struct rpc_sync *s, uint32_t method, const char *text,
                      uint32_t *id, char *err, size_t errlen)
{
    struct echo_buf b;
    rpc_EchoRequest req;
    struct rpc_call_spec cs = echo_spec(method, text, 30000, &b, &req);
    return rpc_sync_send(s, &cs, id, err, errlen);
}

/* Polls for reply id, waiting for the socket between tries (30 s). */
static int split_wait(struct rpc_sync *s, uint32_t id, char *got,
                      size_t gotlen, char *err, size_t errlen)
{
    rpc_EchoResponse resp;
    memset(&resp, 0, sizeof resp);
    int rc = -EAGAIN;
    for (int i = 0; i < 3000 && rc == -EAGAIN; i++) {
        struct pollfd p = {.fd = rpc_sync_fd(s), .events = POLLIN};
        (void)poll(&p, 1, 10);
        rc = rpc_sync_poll(s, id, rpc_EchoResponse_fields, &resp, err,
                           errlen);
    }
    if (rc == 0)
        echo_text(&resp, got, gotlen);
    return rc;
}

static void split_calls(void **state)
{
    (void)state;
    struct rpcutil_server srv;
    server_start(&srv);
    struct rpc_sync *s = NULL;
    char err[256], got[64];
    uint32_t id;
    assert_int_equal(
        rpc_sync_connect("127.0.0.1", srv.port, 5000, &s, err, sizeof err), 0);
    /* split and whole calls take turns on one connection */
    for (int i = 0; i < 50; i++) {
        char t[16];
        snprintf(t, sizeof t, "s%d", i);
        assert_int_equal(split_send(s, RPC_METHOD_ECHO, t, &id, err,
                                    sizeof err),
                         0);
        assert_int_equal(split_wait(s, id, got, sizeof got, err, sizeof err),
                         0);
        assert_string_equal(got, t);
        assert_int_equal(echo(s, RPC_METHOD_ECHO, "whole", 30000, got,
                              sizeof got, err, sizeof err),
                         0);
        assert_string_equal(got, "whole");
    }
    /* a server error: the connection goes on */
    assert_int_equal(split_send(s, FAILING, "x", &id, err, sizeof err), 0);
    assert_int_equal(split_wait(s, id, got, sizeof got, err, sizeof err),
                     -EIO);
    assert_string_equal(err, "it failed");
    assert_int_equal(split_send(s, RPC_METHOD_ECHO, "on", &id, err,
                                sizeof err),
                     0);
    assert_int_equal(split_wait(s, id, got, sizeof got, err, sizeof err), 0);
    assert_string_equal(got, "on");
    /* no answer yet: -EAGAIN, as often as asked */
    assert_int_equal(split_send(s, SILENT, "x", &id, err, sizeof err), 0);
    rpc_EchoResponse resp;
    memset(&resp, 0, sizeof resp);
    for (int i = 0; i < 3; i++)
        assert_int_equal(rpc_sync_poll(s, id, rpc_EchoResponse_fields, &resp,
                                       err, sizeof err),
                         -EAGAIN);
    rpc_sync_close(s);
    /* the server goes away while a call waits */
    assert_int_equal(
        rpc_sync_connect("127.0.0.1", srv.port, 5000, &s, err, sizeof err), 0);
    assert_int_equal(split_send(s, SILENT, "x", &id, err, sizeof err), 0);
    rpcutil_server_stop(&srv);
    assert_int_equal(split_wait(s, id, got, sizeof got, err, sizeof err),
                     RPC_ECONNLOST);
    rpc_sync_close(s);
}

/* A fake server writes a reply in pieces: the header alone, then a frame
 * for another request and the reply's payload; rpc_sync_poll waits for
 * the whole reply and skips the stranger. */
static void split_reply_in_pieces(void **state)
{
    (void)state;
    uint16_t port;
    int lfd = rpcutil_listen(&port);
    assert_true(lfd >= 0);
    struct rpc_sync *s = NULL;
    char err[256], got[64];
    assert_int_equal(
        rpc_sync_connect("127.0.0.1", port, 5000, &s, err, sizeof err), 0);
    int fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    uint32_t id;
    assert_int_equal(split_send(s, RPC_METHOD_ECHO, "hi", &id, err,
                                sizeof err),
                     0);
    uint8_t flags;
    uint32_t rid;
    int32_t aux;
    char payload[64];
    assert_int_equal(rpcutil_read_frame(fd, &flags, &rid, &aux, payload,
                                        sizeof payload),
                     0);
    assert_int_equal(rid, id);
    const uint8_t body[] = {0x0a, 0x02, 'h', 'i'}; /* payload: "hi" */
    uint8_t hdr[24];
    rpcutil_header(hdr, 0x4C525043u, 1, 0x02, RPC_METHOD_ECHO, id + 7,
                   sizeof body, 0);
    assert_int_equal(rpcutil_write_all(fd, hdr, sizeof hdr), 0);
    assert_int_equal(rpcutil_write_all(fd, body, sizeof body), 0);
    rpcutil_header(hdr, 0x4C525043u, 1, 0x02, RPC_METHOD_ECHO, id,
                   sizeof body, 0);
    assert_int_equal(rpcutil_write_all(fd, hdr, sizeof hdr), 0);
    rpc_EchoResponse resp;
    memset(&resp, 0, sizeof resp);
    int rc = -EAGAIN;
    /* the stranger and our header: not whole yet, however often asked */
    for (int i = 0; i < 20 && rc == -EAGAIN; i++) {
        struct pollfd p = {.fd = rpc_sync_fd(s), .events = POLLIN};
        (void)poll(&p, 1, 10);
        rc = rpc_sync_poll(s, id, rpc_EchoResponse_fields, &resp, err,
                           sizeof err);
    }
    assert_int_equal(rc, -EAGAIN);
    assert_int_equal(rpcutil_write_all(fd, body, sizeof body), 0);
    assert_int_equal(split_wait(s, id, got, sizeof got, err, sizeof err), 0);
    assert_string_equal(got, "hi");
    rpc_sync_close(s);
    close(fd);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calls_and_errors),
        cmocka_unit_test(raw_replies),
        cmocka_unit_test(split_calls),
        cmocka_unit_test(split_reply_in_pieces),
    };
    return cmocka_run_group_tests_name("librpc/sync", tests, NULL, NULL);
}

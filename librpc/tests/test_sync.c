/* test_sync.c: blocking connections (sync.c): calls on the caller's
 * thread against a server on its own thread: replies, many calls on one
 * connection, a server error that keeps the connection, a request over
 * the frame limit refused before it is sent, an unknown method (GOAWAY),
 * a deadline, a refused connect, a server gone (its hang-up seen on
 * rpc_sync_fd before any call); requests sent and replies taken as bytes
 * (spec.req_encoded, spec.done_raw).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <poll.h>

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
    struct pollfd pf = {.fd = rpc_sync_fd(s), .events = POLLRDHUP};
    assert_int_equal(poll(&pf, 1, 0), 0); /* idle, the server there */
    rpcutil_server_stop(&srv);
    pf.revents = 0;
    assert_int_equal(poll(&pf, 1, 30000), 1);
    assert_true(pf.revents & POLLRDHUP);
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
    rpc_sync_close(s);
    rpcutil_server_stop(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calls_and_errors),
        cmocka_unit_test(raw_replies),
    };
    return cmocka_run_group_tests_name("librpc/sync", tests, NULL, NULL);
}

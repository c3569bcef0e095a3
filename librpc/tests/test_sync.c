/* test_sync.c: blocking connections (sync.c): calls on the caller's
 * thread against a server on its own thread: replies, many calls on one
 * connection, a server error that keeps the connection, a request over
 * the frame limit refused before it is sent, an unknown method (GOAWAY),
 * a deadline, a refused connect, a server gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

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

static int echo(struct rpc_sync *s, uint32_t method, const char *text,
                int deadline_ms, char *got, size_t gotlen, char *err,
                size_t errlen)
{
    struct {
        pb_size_t size;
        pb_byte_t bytes[64];
    } b;
    b.size = (pb_size_t)strlen(text);
    memcpy(b.bytes, text, b.size);
    rpc_EchoRequest req = {.payload = (pb_bytes_array_t *)&b};
    rpc_EchoResponse resp;
    memset(&resp, 0, sizeof resp);
    struct rpc_call_spec cs = {.method = method,
                               .req_fields = rpc_EchoRequest_fields,
                               .req = &req,
                               .resp_fields = rpc_EchoResponse_fields,
                               .resp_size = sizeof resp,
                               .deadline_ms = deadline_ms};
    err[0] = '\0';
    int rc = rpc_sync_call(s, &cs, &resp, err, errlen);
    if (rc == 0) {
        snprintf(got, gotlen, "%.*s", resp.payload ? (int)resp.payload->size : 0,
                 resp.payload ? (const char *)resp.payload->bytes : "");
        rpc_msg_release(rpc_EchoResponse_fields, &resp);
    }
    return rc;
}

static void calls_and_errors(void **state)
{
    (void)state;
    struct rpcutil_server srv;
    rpcutil_server_init(&srv, NULL);
    struct rpc_method fm = {FAILING, "test.Failing", rpc_EchoRequest_fields,
                            sizeof(rpc_EchoRequest), rpc_EchoResponse_fields,
                            failing, NULL};
    struct rpc_method sm = {SILENT, "test.Silent", rpc_EchoRequest_fields,
                            sizeof(rpc_EchoRequest), rpc_EchoResponse_fields,
                            silent, NULL};
    assert_int_equal(rpc_server_register(srv.srv, &fm), 0);
    assert_int_equal(rpc_server_register(srv.srv, &sm), 0);
    rpcutil_server_run(&srv);
    struct rpc_sync *s = NULL;
    char err[256], got[64];
    assert_int_equal(
        rpc_sync_connect("127.0.0.1", srv.port, 5000, &s, err, sizeof err), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(calls_and_errors),
    };
    return cmocka_run_group_tests_name("librpc/sync", tests, NULL, NULL);
}

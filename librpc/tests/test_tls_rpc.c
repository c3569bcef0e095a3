/* test_tls_rpc.c: TLS end to end over loopback through librpc's public API:
 * a TLS server (on its own thread) and TLS clients making echo calls,
 * mutual TLS with the peer's CN seen by handlers, and the rejections a
 * caller must see clearly while the server keeps serving.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pb_decode.h>

#include "callutil.h"
#include "rpc_echo.pb.h"
#include "rpcutil.h"
#include "tlsutil.h"

/* A test method: replies with the caller's certificate CN as payload. */
#define METHOD_PEER_CN 0x7f000001u

static void peer_cn_handler(struct rpc_call *call, const void *req, void *ud)
{
    const char *cn = rpc_call_peer_cn(call);
    size_t len = strlen(cn);
    pb_bytes_array_t *b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(len));
    rpc_EchoResponse resp = rpc_EchoResponse_init_zero;
    (void)req;
    (void)ud;
    if (b == NULL) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    b->size = (pb_size_t)len;
    memcpy(b->bytes, cn, len);
    resp.payload = b;
    rpc_call_reply(call, &resp);
    free(b);
}

static struct rpc_tls_config *make_cfg(const struct rpc_tls_options *o)
{
    struct rpc_tls_config *cfg = NULL;
    char err[256];
    int rc = rpc_tls_config_create(o, &cfg, err, sizeof err);
    if (rc != 0)
        fail_msg("rpc_tls_config_create: %d %s", rc, err);
    return cfg;
}

/* Server "kvd-1" of the main CA; mTLS limited to allowed when require. */
static struct rpc_tls_config *server_cfg(bool require,
                                         const char *const *allowed)
{
    struct rpc_tls_options o = {.is_server = true};
    tlsutil_leaf("kvd-1", TLSUTIL_CA_MAIN, &o.cert_pem, &o.key_pem);
    o.ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN);
    o.require_peer_cert = require;
    o.allowed_cn = allowed;
    return make_cfg(&o);
}

/* Client trusting the main CA and expecting "kvd-1"; presents cn signed by
 * ca unless cn is NULL. */
static struct rpc_tls_config *client_cfg(const char *cn, enum tlsutil_ca ca)
{
    struct rpc_tls_options o = {.is_server = false, .server_name = "kvd-1"};
    o.ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN);
    if (cn != NULL)
        tlsutil_leaf(cn, ca, &o.cert_pem, &o.key_pem);
    return make_cfg(&o);
}

struct fixture
{
    struct rpc_tls_config *scfg;  /* the server's TLS */
    struct rpcutil_server server; /* TLS server on its own thread */
};

static int start_opts(void **state, bool require, const char *const *allowed,
                      int stall_ms)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct rpc_server_options so = {.host = "127.0.0.1",
                                    .stall_timeout_ms = stall_ms};
    struct rpc_method m = {.id = METHOD_PEER_CN,
                           .name = "test.PeerCn",
                           .req_fields = rpc_EchoRequest_fields,
                           .req_size = sizeof(rpc_EchoRequest),
                           .resp_fields = rpc_EchoResponse_fields,
                           .handler = peer_cn_handler};
    if (f == NULL)
        return -1;
    f->scfg = server_cfg(require, allowed);
    so.tls = f->scfg;
    rpcutil_server_init(&f->server, &so);
    if (rpc_server_register(f->server.srv, &m) != 0)
        return -1;
    rpcutil_server_run(&f->server);
    *state = f;
    return 0;
}

static int start(void **state, bool require, const char *const *allowed)
{
    return start_opts(state, require, allowed, 0);
}

static int setup_tls(void **state)
{
    return start(state, false, NULL);
}

static int setup_tls_stall(void **state)
{
    return start_opts(state, false, NULL, 200);
}

static const char *const mtls_allowed[] = {"pd", "sqld", NULL};

static int setup_mtls(void **state)
{
    return start(state, true, mtls_allowed);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rpcutil_server_stop(&f->server);
    rpc_tls_config_destroy(f->scfg);
    free(f);
    return 0;
}

/* One blocking call of method with payload text over tls (NULL: plain).
 * Returns the code; on success the reply's payload goes to reply. */
static int call(uint16_t port, const struct rpc_tls_config *tls,
                uint32_t method, const char *text, size_t len, char *reply,
                size_t replycap, char *err, size_t errlen)
{
    pb_bytes_array_t *b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(len));
    rpc_EchoRequest req = rpc_EchoRequest_init_zero;
    rpc_EchoResponse resp = rpc_EchoResponse_init_zero;
    struct rpc_client_options co = {.host = "127.0.0.1", .port = port,
                                    .tls = tls,
                                    .connect_timeout_ms = 30000};
    int rc;

    assert_non_null(b);
    b->size = (pb_size_t)len;
    memcpy(b->bytes, text, len);
    req.payload = b;
    err[0] = '\0';
    rc = rpc_call_blocking(&co, method, rpc_EchoRequest_fields, &req,
                           rpc_EchoResponse_fields, &resp, sizeof resp, 30000,
                           err, errlen);
    if (rc == 0) {
        size_t n = resp.payload != NULL ? resp.payload->size : 0;
        size_t keep = n < replycap ? n : replycap - 1;
        if (keep > 0)
            memcpy(reply, resp.payload->bytes, keep);
        reply[keep] = '\0';
        if (method == RPC_METHOD_ECHO) {
            assert_int_equal(n, len);
            assert_memory_equal(resp.payload->bytes, text, len);
        }
    }
    pb_release(rpc_EchoResponse_fields, &resp);
    free(b);
    return rc;
}

static int echo(uint16_t port, const struct rpc_tls_config *tls,
                const char *text, char *err, size_t errlen)
{
    char reply[64];
    return call(port, tls, RPC_METHOD_ECHO, text, strlen(text), reply,
                sizeof reply, err, errlen);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("\"%s\" lacks \"%s\"", hay, needle);
}

/* A client whose certificate the server refused: the server's TLS layer
 * queues an alert naming the refusal and the connection lingers to flush
 * it, so the client fails with want_rc and a message naming want. One
 * outcome is allowed besides: if the server closed with part of our flight
 * still unread in its socket, the kernel answers with a reset that can
 * discard the alert, and the client sees a bare RPC_ETLS "closed" or
 * "failed" for the connection. */
static void assert_rejected(int rc, const char *err, int want_rc,
                            const char *want)
{
    if (strstr(err, "TLS alert") == NULL &&
        (strstr(err, "closed the connection") != NULL ||
         strstr(err, "failed: Connection reset") != NULL)) {
        assert_int_equal(rc, RPC_ETLS);
    } else {
        assert_int_equal(rc, want_rc);
        assert_contains(err, want);
    }
}

/* ---- server TLS ---------------------------------------------------------- */

static void tls_echo(void **state)
{
    struct fixture *f = *state;
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN);
    char err[256], reply[64];
    enum { BIG = 60000 }; /* pb_size_t is 16 bits; still 4 records */
    char *big = malloc(BIG + 1);
    size_t i;

    assert_int_equal(echo(f->server.port, ccfg, "over tls", err, sizeof err),
                     0);
    /* No client certificate: the handler sees no CN. */
    assert_int_equal(call(f->server.port, ccfg, METHOD_PEER_CN, "", 0, reply,
                          sizeof reply, err, sizeof err),
                     0);
    assert_string_equal(reply, "");
    /* A payload of many records. */
    assert_non_null(big);
    for (i = 0; i < BIG; i++)
        big[i] = (char)('a' + i % 26);
    big[BIG] = '\0';
    assert_int_equal(call(f->server.port, ccfg, RPC_METHOD_ECHO, big, BIG,
                          reply, sizeof reply, err, sizeof err),
                     0);
    free(big);
    rpc_tls_config_destroy(ccfg);
}

/* A stream of many replies over TLS, next to unary calls on the same
 * connection: every message arrives, in one loop run. */
static void tls_stream_and_calls(void **state)
{
    enum { COUNT = 300, UNARY = 50 };
    struct fixture *f = *state;
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN);
    struct event_base *base = event_base_new();
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = f->server.port,
                                    .tls = ccfg,
                                    .connect_timeout_ms = 30000,
                                    .default_deadline_ms = 30000};
    struct rpc_client *cli = NULL;
    static struct cu_result stream, unary[UNARY];
    char text[512];
    int done = 0, i;

    assert_non_null(base);
    memset(&stream, 0, sizeof stream);
    memset(unary, 0, sizeof unary);
    memset(text, 'z', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    assert_int_equal(rpc_client_create(base, &co, &cli), 0);
    stream.counter = &done;
    assert_int_equal(cu_start(cli, RPC_METHOD_ECHO_STREAM, text, COUNT, 0,
                              &stream, true, NULL),
                     0);
    for (i = 0; i < UNARY; i++) {
        char t[16];
        snprintf(t, sizeof t, "u%d", i);
        unary[i].counter = &done;
        assert_int_equal(
            cu_start(cli, RPC_METHOD_ECHO, t, 0, 0, &unary[i], false, NULL), 0);
    }
    assert_true(rpcutil_loop_until_count(base, &done, UNARY + 1));
    assert_int_equal(stream.calls, 1);
    assert_int_equal(stream.rc, 0);
    assert_int_equal(stream.msgs, COUNT);
    for (i = 0; i < UNARY; i++) {
        char t[16];
        snprintf(t, sizeof t, "u%d", i);
        assert_int_equal(unary[i].rc, 0);
        assert_string_equal(unary[i].text, t);
    }
    rpc_client_destroy(cli);
    event_base_free(base);
    rpc_tls_config_destroy(ccfg);
}

static void plain_client_fails_cleanly(void **state)
{
    struct fixture *f = *state;
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN);
    char err[256];
    int rc;

    rc = echo(f->server.port, NULL, "no tls", err, sizeof err);
    /* The server answers a librpc frame header with a close. */
    assert_int_equal(rc, RPC_ECONNLOST);
    assert_contains(err, "closed the connection");
    assert_true(rpcutil_log_wait(
        &f->server.log, "the peer does not speak TLS: its first byte 0x4c "
                        "starts no TLS record (during the handshake)"));
    /* The server keeps serving. */
    assert_int_equal(echo(f->server.port, ccfg, "still here", err, sizeof err),
                     0);
    rpc_tls_config_destroy(ccfg);
}

static void server_name_checked(void **state)
{
    struct fixture *f = *state;
    struct rpc_tls_options o = {.is_server = false, .server_name = "kvd-2"};
    struct rpc_tls_config *ccfg;
    char err[256];
    int rc;

    o.ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN);
    ccfg = make_cfg(&o);
    rc = echo(f->server.port, ccfg, "x", err, sizeof err);
    assert_int_equal(rc, RPC_ETLS_VERIFY);
    assert_contains(err, "Common Name (CN) does not match");
    rpc_tls_config_destroy(ccfg);
}

/* A peer that stops in the middle of its ClientHello is closed by the
 * stall guard like one that stops mid-frame. (The short stall timeout of
 * this fixture also bounds whole handshakes, so no real client is run
 * against it: a slow machine could take longer than that.) */
static void half_client_hello_is_dropped(void **state)
{
    struct fixture *f = *state;
    /* handshake record of 0x100 bytes, ClientHello header, 4 bytes of it */
    static const unsigned char part[] = {0x16, 0x03, 0x01, 0x01, 0x00, 0x01,
                                         0x00, 0x00, 0xfc, 0x03, 0x03};
    int fd = rpcutil_raw_connect(f->server.port);

    assert_true(fd >= 0);
    assert_int_equal(rpcutil_write_all(fd, part, sizeof part), 0);
    assert_true(rpcutil_wait_closed(fd));
    assert_true(rpcutil_log_wait(&f->server.log, "stalled"));
    close(fd);
}

/* ---- mutual TLS --------------------------------------------------------- */

static void mtls_accepted(void **state)
{
    struct fixture *f = *state;
    struct rpc_tls_config *ccfg = client_cfg("sqld", TLSUTIL_CA_MAIN);
    char err[256], reply[64];

    assert_int_equal(echo(f->server.port, ccfg, "mutual", err, sizeof err), 0);
    assert_int_equal(call(f->server.port, ccfg, METHOD_PEER_CN, "", 0, reply,
                          sizeof reply, err, sizeof err),
                     0);
    assert_string_equal(reply, "sqld");
    rpc_tls_config_destroy(ccfg);
}

static void untrusted_client_rejected(void **state)
{
    struct fixture *f = *state;
    struct rpc_tls_config *bad = client_cfg("sqld", TLSUTIL_CA_OTHER);
    struct rpc_tls_config *good = client_cfg("sqld", TLSUTIL_CA_MAIN);
    char err[256];
    int rc;

    rc = echo(f->server.port, bad, "let me in", err, sizeof err);
    assert_rejected(rc, err, RPC_ETLS_VERIFY, "(TLS alert unknown_ca)");
    assert_true(rpcutil_log_wait(&f->server.log, "not correctly signed"));
    assert_int_equal(echo(f->server.port, good, "ok", err, sizeof err), 0);
    rpc_tls_config_destroy(bad);
    rpc_tls_config_destroy(good);
}

static void client_without_cert_rejected(void **state)
{
    struct fixture *f = *state;
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN);
    char err[256];
    int rc;

    rc = echo(f->server.port, ccfg, "anonymous", err, sizeof err);
    assert_rejected(rc, err, RPC_ETLS,
                    "may require a client certificate, and this client "
                    "has none");
    assert_true(rpcutil_log_wait(&f->server.log, "the client sent none"));
    rpc_tls_config_destroy(ccfg);
}

static void cn_outside_allowed_rejected(void **state)
{
    struct fixture *f = *state;
    struct rpc_tls_config *ccfg = client_cfg("intruder", TLSUTIL_CA_MAIN);
    char err[256];
    int rc;

    rc = echo(f->server.port, ccfg, "let me in", err, sizeof err);
    assert_rejected(rc, err, RPC_ETLS_VERIFY, "(TLS alert access_denied)");
    assert_true(rpcutil_log_wait(&f->server.log, "\"intruder\""));
    rpc_tls_config_destroy(ccfg);
}

/* Many mTLS clients with calls in flight on one loop, and an intruder among
 * them: every good call returns its own text, every intruder call fails. */
static void many_clients_one_intruder(void **state)
{
    enum { CLIENTS = 6, CALLS = 20 };
    struct fixture *f = *state;
    struct rpc_tls_config *good = client_cfg("sqld", TLSUTIL_CA_MAIN);
    struct rpc_tls_config *bad = client_cfg("intruder", TLSUTIL_CA_MAIN);
    struct event_base *base = event_base_new();
    struct rpc_client *cli[CLIENTS + 1];
    static struct cu_result res[CLIENTS + 1][CALLS];
    int done = 0, i, j;

    assert_non_null(base);
    memset(res, 0, sizeof res);
    for (i = 0; i <= CLIENTS; i++) {
        struct rpc_client_options co = {.host = "127.0.0.1",
                                        .port = f->server.port,
                                        .tls = i < CLIENTS ? good : bad,
                                        .connect_timeout_ms = 30000,
                                        .default_deadline_ms = 30000};
        assert_int_equal(rpc_client_create(base, &co, &cli[i]), 0);
        for (j = 0; j < CALLS; j++) {
            char text[32];
            snprintf(text, sizeof text, "c%d-%d", i, j);
            res[i][j].counter = &done;
            assert_int_equal(cu_start(cli[i], RPC_METHOD_ECHO, text, 0, 0,
                                      &res[i][j], false, NULL),
                             0);
        }
    }
    assert_true(rpcutil_loop_until_count(base, &done, (CLIENTS + 1) * CALLS));
    for (i = 0; i <= CLIENTS; i++) {
        for (j = 0; j < CALLS; j++) {
            char text[32];
            snprintf(text, sizeof text, "c%d-%d", i, j);
            assert_int_equal(res[i][j].calls, 1);
            if (i < CLIENTS) {
                assert_int_equal(res[i][j].rc, 0);
                assert_string_equal(res[i][j].text, text);
            } else {
                assert_rejected(res[i][j].rc, res[i][j].err, RPC_ETLS_VERIFY,
                                "(TLS alert access_denied)");
            }
        }
        rpc_client_destroy(cli[i]);
    }
    event_base_free(base);
    rpc_tls_config_destroy(good);
    rpc_tls_config_destroy(bad);
}

/* ---- TLS client, plaintext server --------------------------------------- */

static void tls_client_to_plain_server(void **state)
{
    struct rpcutil_server plain;
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN);
    char err[256];
    int rc;
    (void)state;

    rpcutil_server_init(&plain, NULL);
    rpcutil_server_run(&plain);
    rc = echo(plain.port, ccfg, "hello?", err, sizeof err);
    assert_int_equal(rc, RPC_ETLS);
    assert_contains(err, "the peer does not speak TLS: its first byte 0x4c");
    assert_int_equal(rpcutil_echo_blocking(plain.port, "plain ok"), 0);
    rpcutil_server_stop(&plain);
    rpc_tls_config_destroy(ccfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(tls_echo, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(tls_stream_and_calls, setup_tls,
                                        teardown),
        cmocka_unit_test_setup_teardown(plain_client_fails_cleanly, setup_tls,
                                        teardown),
        cmocka_unit_test_setup_teardown(server_name_checked, setup_tls,
                                        teardown),
        cmocka_unit_test_setup_teardown(half_client_hello_is_dropped,
                                        setup_tls_stall, teardown),
        cmocka_unit_test_setup_teardown(mtls_accepted, setup_mtls, teardown),
        cmocka_unit_test_setup_teardown(untrusted_client_rejected, setup_mtls,
                                        teardown),
        cmocka_unit_test_setup_teardown(client_without_cert_rejected,
                                        setup_mtls, teardown),
        cmocka_unit_test_setup_teardown(cn_outside_allowed_rejected,
                                        setup_mtls, teardown),
        cmocka_unit_test_setup_teardown(many_clients_one_intruder, setup_mtls,
                                        teardown),
        cmocka_unit_test(tls_client_to_plain_server),
    };
    return cmocka_run_group_tests_name("librpc/tls_rpc", tests, NULL, NULL);
}

/* test_sync_tls.c: blocking connections over TLS (sync.c with the tls.c
 * seam): calls against a TLS server, mutual TLS, and the clean failures of
 * every mismatch: plaintext to a TLS server, TLS to a plaintext server, a
 * client certificate refused, no certificate, a server that never answers
 * the handshake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc_echo.pb.h"
#include "rpcutil.h"
#include "tlsutil.h"

static struct rpc_tls_config *make_cfg(const struct rpc_tls_options *o)
{
    struct rpc_tls_config *cfg = NULL;
    char err[256];
    int rc = rpc_tls_config_create(o, &cfg, err, sizeof err);
    if (rc != 0)
        fail_msg("rpc_tls_config_create: %d %s", rc, err);
    return cfg;
}

/* Server "kvd-1"; with require, mutual TLS limited to allowed. */
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

/* Client expecting "kvd-1"; presents cn (NULL: none) signed by the CA. */
static struct rpc_tls_config *client_cfg(const char *cn)
{
    struct rpc_tls_options o = {.is_server = false, .server_name = "kvd-1"};
    o.ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN);
    if (cn != NULL)
        tlsutil_leaf(cn, TLSUTIL_CA_MAIN, &o.cert_pem, &o.key_pem);
    return make_cfg(&o);
}

struct fixture
{
    struct rpc_tls_config *scfg;  /* the server's TLS, or NULL */
    struct rpcutil_server server; /* on its own thread */
};

static const char *const allowed[] = {"sqld", NULL};

static int start(void **state, bool tls, bool require)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct rpc_server_options so = {.host = "127.0.0.1"};
    if (f == NULL)
        return -1;
    if (tls)
        f->scfg = server_cfg(require, require ? allowed : NULL);
    so.tls = f->scfg;
    rpcutil_server_init(&f->server, &so);
    rpcutil_server_run(&f->server);
    *state = f;
    return 0;
}

static int setup_tls(void **state)
{
    return start(state, true, false);
}

static int setup_mtls(void **state)
{
    return start(state, true, true);
}

static int setup_plain(void **state)
{
    return start(state, false, false);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rpcutil_server_stop(&f->server);
    rpc_tls_config_destroy(f->scfg);
    free(f);
    return 0;
}

static int echo(struct rpc_sync *s, const char *text, char *got,
                size_t gotlen, char *err, size_t errlen)
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
    struct rpc_call_spec cs = {.method = RPC_METHOD_ECHO,
                               .req_fields = rpc_EchoRequest_fields,
                               .req = &req,
                               .resp_fields = rpc_EchoResponse_fields,
                               .resp_size = sizeof resp,
                               .deadline_ms = 30000};
    got[0] = '\0';
    int rc = rpc_sync_call(s, &cs, &resp, err, errlen);
    if (rc == 0) {
        snprintf(got, gotlen, "%.*s",
                 resp.payload ? (int)resp.payload->size : 0,
                 resp.payload ? (const char *)resp.payload->bytes : "");
        rpc_msg_release(rpc_EchoResponse_fields, &resp);
    }
    return rc;
}

static int open_sync(uint16_t port, const struct rpc_tls_config *tls,
                     struct rpc_sync **s, char *err, size_t errlen)
{
    struct rpc_client_options o = {.host = "127.0.0.1",
                                   .port = port,
                                   .tls = tls,
                                   .connect_timeout_ms = 30000};
    err[0] = '\0';
    return rpc_sync_open(&o, s, err, errlen);
}

/* Many calls on one TLS connection; it reports what it negotiated. */
static void calls_over_tls(void **state)
{
    struct fixture *f = *state;
    struct rpc_tls_config *ccfg = client_cfg(NULL);
    struct rpc_sync *s = NULL;
    struct rpc_tls_info info;
    char err[256], got[64], t[16];

    assert_int_equal(open_sync(f->server.port, ccfg, &s, err, sizeof err), 0);
    for (int i = 0; i < 50; i++) {
        snprintf(t, sizeof t, "tls%d", i);
        assert_int_equal(echo(s, t, got, sizeof got, err, sizeof err), 0);
        assert_string_equal(got, t);
    }
    assert_true(rpc_sync_tls_info(s, &info));
    assert_string_equal(info.version, "TLSv1.2");
    assert_string_equal(info.suite,
                        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    assert_int_equal(info.suite_id, 0xCCA9);
    rpc_sync_close(s);
    rpc_tls_config_destroy(ccfg);
}

/* A plaintext sync connection has no TLS to report. */
static void plain_has_no_tls_info(void **state)
{
    struct fixture *f = *state;
    struct rpc_sync *s = NULL;
    struct rpc_tls_info info;
    char err[256], got[64];

    assert_int_equal(open_sync(f->server.port, NULL, &s, err, sizeof err), 0);
    assert_int_equal(echo(s, "plain", got, sizeof got, err, sizeof err), 0);
    assert_string_equal(got, "plain");
    assert_false(rpc_sync_tls_info(s, &info));
    rpc_sync_close(s);
}

/* A plaintext call to a TLS server: the server takes the frame for a bad
 * ClientHello and hangs up; the call fails at once, no hang. */
static void plaintext_to_tls_server_fails(void **state)
{
    struct fixture *f = *state;
    struct rpc_sync *s = NULL;
    char err[256], got[64];

    assert_int_equal(rpc_sync_connect("127.0.0.1", f->server.port, 30000, &s,
                                      err, sizeof err),
                     0);
    assert_int_equal(echo(s, "x", got, sizeof got, err, sizeof err),
                     RPC_ECONNLOST);
    assert_string_equal(err, rpc_strerror(RPC_ECONNLOST));
    rpc_sync_close(s);
    assert_true(rpcutil_log_wait(&f->server.log, "does not speak TLS"));
}

/* TLS to a plaintext server: its GOAWAY is no TLS record. */
static void tls_to_plain_server_fails(void **state)
{
    struct fixture *f = *state;
    struct rpc_tls_config *ccfg = client_cfg(NULL);
    struct rpc_sync *s = NULL;
    char err[256];

    assert_int_equal(open_sync(f->server.port, ccfg, &s, err, sizeof err),
                     RPC_ETLS);
    assert_null(s);
    assert_non_null(strstr(err, "does not speak TLS"));
    rpc_tls_config_destroy(ccfg);
}

/* Mutual TLS: an allowed name gets through; another is refused during the
 * handshake, and so is a client without a certificate. */
static void mutual_tls(void **state)
{
    struct fixture *f = *state;
    struct rpc_tls_config *ok = client_cfg("sqld");
    struct rpc_tls_config *other = client_cfg("intruder");
    struct rpc_tls_config *none = client_cfg(NULL);
    struct rpc_sync *s = NULL;
    char err[256], got[64];

    assert_int_equal(open_sync(f->server.port, ok, &s, err, sizeof err), 0);
    assert_int_equal(echo(s, "mtls", got, sizeof got, err, sizeof err), 0);
    assert_string_equal(got, "mtls");
    rpc_sync_close(s);

    s = NULL;
    assert_int_equal(open_sync(f->server.port, other, &s, err, sizeof err),
                     RPC_ETLS_VERIFY);
    assert_null(s);
    assert_non_null(strstr(err, "access_denied"));

    assert_int_equal(open_sync(f->server.port, none, &s, err, sizeof err),
                     RPC_ETLS);
    assert_null(s);
    assert_non_null(strstr(err, "handshake_failure"));
    rpc_tls_config_destroy(ok);
    rpc_tls_config_destroy(other);
    rpc_tls_config_destroy(none);
}

/* A listener that never answers: the handshake gives up at the connect
 * timeout with RPC_EDEADLINE. */
static void silent_server_times_out(void **state)
{
    (void)state;
    struct rpc_tls_config *ccfg = client_cfg(NULL);
    struct rpc_sync *s = NULL;
    struct rpc_client_options o = {.host = "127.0.0.1",
                                   .tls = ccfg,
                                   .connect_timeout_ms = 100};
    char err[256];
    int fd = rpcutil_listen(&o.port);
    assert_true(fd >= 0);
    assert_int_equal(rpc_sync_open(&o, &s, err, sizeof err), RPC_EDEADLINE);
    assert_null(s);
    assert_string_equal(err, "TLS handshake: no answer in time");
    close(fd);
    rpc_tls_config_destroy(ccfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(calls_over_tls, setup_tls, teardown),
        cmocka_unit_test_setup_teardown(plain_has_no_tls_info, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(plaintext_to_tls_server_fails,
                                        setup_tls, teardown),
        cmocka_unit_test_setup_teardown(tls_to_plain_server_fails,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(mutual_tls, setup_mtls, teardown),
        cmocka_unit_test(silent_server_times_out),
    };
    return cmocka_run_group_tests_name("librpc/sync_tls", tests, NULL, NULL);
}

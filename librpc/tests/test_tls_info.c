/* test_tls_info.c: what a TLS session reports it negotiated
 * (rpc_stream_tls_info, through rpc__tls_info in tls.c): a byte-stream
 * server with implicit TLS answers each client with the version and suite
 * it sees, and plain mbedtls clients offering one suite each check that
 * the answer names exactly the suite they negotiated.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "rpc.h"
#include "rpcutil.h"
#include "tlsutil.h"

struct fx
{
    struct event_base *base;          /* the server's loop (this thread) */
    struct rpc_tls_config *tls;       /* server TLS: "sqld", P-256 */
    struct rpc_stream_server *srv;    /* implicit-TLS stream server */
    bool info_at_open;                /* rpc_stream_tls_info in on_open */
    bool closed;                      /* on_close ran */
    struct rpcutil_log log;           /* server log lines */
};

static void on_open(struct rpc_stream_conn *c, void *ud)
{
    struct fx *f = ud;
    struct rpc_tls_info info;
    f->info_at_open = rpc_stream_tls_info(c, &info); /* plaintext yet */
    assert_int_equal(rpc_stream_start_tls(c), 0);
    f->info_at_open |= rpc_stream_tls_info(c, &info); /* not done yet */
}

/* Answers the first line with "version suite id\n". */
static size_t on_data(struct rpc_stream_conn *c, const uint8_t *d, size_t len,
                      void *ud)
{
    (void)ud;
    if (memchr(d, '\n', len) == NULL)
        return 0;
    struct rpc_tls_info info;
    char line[128];
    if (rpc_stream_tls_info(c, &info))
        snprintf(line, sizeof line, "%s %s 0x%04X\n", info.version,
                 info.suite, (unsigned)info.suite_id);
    else
        snprintf(line, sizeof line, "none\n");
    assert_int_equal(rpc_stream_write(c, line, strlen(line)), 0);
    return len;
}

static void on_close(struct rpc_stream_conn *c, int rc, const char *reason,
                     void *ud)
{
    (void)c;
    (void)rc;
    (void)reason;
    struct fx *f = ud;
    f->closed = true;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->base = event_base_new();
    assert_non_null(f->base);
    rpcutil_log_init(&f->log);
    struct rpc_tls_options so = {.is_server = true};
    tlsutil_leaf("sqld", TLSUTIL_CA_MAIN, &so.cert_pem, &so.key_pem);
    char err[256];
    assert_int_equal(rpc_tls_config_create(&so, &f->tls, err, sizeof err), 0);
    struct rpc_stream_server_options o = {
        .host = "127.0.0.1",
        .tls = f->tls,
        .cb = {.on_open = on_open, .on_data = on_data, .on_close = on_close},
        .ud = f,
        .log = rpcutil_log_fn,
        .log_ud = &f->log,
        .log_level = RPC_LOG_DEBUG,
    };
    assert_int_equal(
        rpc_stream_server_create(f->base, &o, &f->srv, err, sizeof err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    rpc_stream_server_destroy(f->srv);
    rpc_tls_config_destroy(f->tls);
    event_base_free(f->base);
    rpcutil_log_destroy(&f->log);
    free(f);
    return 0;
}

/* A blocking mbedtls client on its own thread: offers only suite, sends a
 * line, keeps the answer. */
struct client
{
    uint16_t port;      /* the server's */
    int suite;          /* the one suite offered (mbedtls/IANA id) */
    int rc;             /* 0, or the mbedtls error that stopped it */
    char negotiated[64]; /* mbedtls_ssl_get_ciphersuite, as it saw it */
    char answer[128];   /* the server's line, without the newline */
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    static const char pers[] = "test_tls_info client";
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    int suites[2] = {c->suite, 0};
    char port[8];
    size_t got = 0;
    int ret;

    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    snprintf(port, sizeof port, "%u", (unsigned)c->port);
    ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
                                (const unsigned char *)pers, sizeof pers - 1);
    if (ret == 0)
        ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0)
        goto out;
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    mbedtls_ssl_conf_ciphersuites(&conf, suites);
    mbedtls_ssl_conf_read_timeout(&conf, 30000);
    if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0 ||
        (ret = mbedtls_net_connect(&net, "127.0.0.1", port,
                                   MBEDTLS_NET_PROTO_TCP)) != 0)
        goto out;
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, NULL,
                        mbedtls_net_recv_timeout);
    while ((ret = mbedtls_ssl_handshake(&ssl)) != 0)
        if (ret != MBEDTLS_ERR_SSL_WANT_READ &&
            ret != MBEDTLS_ERR_SSL_WANT_WRITE)
            goto out;
    snprintf(c->negotiated, sizeof c->negotiated, "%s",
             mbedtls_ssl_get_ciphersuite(&ssl));
    while ((ret = mbedtls_ssl_write(&ssl, (const unsigned char *)"?\n", 2)) <
           0)
        if (ret != MBEDTLS_ERR_SSL_WANT_WRITE)
            goto out;
    while (got + 1 < sizeof c->answer &&
           memchr(c->answer, '\n', got) == NULL) {
        ret = mbedtls_ssl_read(&ssl, (unsigned char *)c->answer + got,
                               sizeof c->answer - 1 - got);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ)
            continue;
        if (ret <= 0)
            goto out;
        got += (size_t)ret;
    }
    c->answer[got] = '\0';
    c->answer[strcspn(c->answer, "\n")] = '\0';
    mbedtls_ssl_close_notify(&ssl);
    ret = 0;
out:
    c->rc = ret;
    mbedtls_net_free(&net);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
    return NULL;
}

/* Runs one client offering suite against the server; its answer. */
static void run_client(struct fx *f, int suite, struct client *c)
{
    pthread_t th;
    memset(c, 0, sizeof *c);
    c->port = rpc_stream_server_port(f->srv);
    c->suite = suite;
    f->closed = false;
    assert_int_equal(pthread_create(&th, NULL, client_main, c), 0);
    assert_true(rpcutil_loop_until(f->base, &f->closed));
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(c->rc, 0);
}

static void reports_each_suite(void **state)
{
    static const struct {
        int id;            /* offered */
        const char *want;  /* the server's answer */
    } cases[] = {
        {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
         "TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 0xC02B"},
        {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
         "TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 0xC02C"},
        {MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
         "TLSv1.2 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 0xCCA9"},
    };
    struct fx *f = *state;
    struct client c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_client(f, cases[i].id, &c);
        assert_string_equal(c.answer, cases[i].want);
        /* the client's own view: the same suite, in mbedtls' spelling */
        char dashed[64];
        snprintf(dashed, sizeof dashed, "%s", cases[i].want + 8);
        dashed[strcspn(dashed, " ")] = '\0';
        for (char *p = dashed; *p != '\0'; p++)
            if (*p == '_')
                *p = '-';
        assert_string_equal(c.negotiated, dashed);
    }
    assert_false(f->info_at_open);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reports_each_suite, setup, teardown),
    };
    return cmocka_run_group_tests_name("librpc/tls_info", tests, NULL, NULL);
}

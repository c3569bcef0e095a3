/* test_tls_seam.c: the TLS seam (src/tls.h) without sockets: a server and a
 * client session pumped against each other through evbuffers in memory.
 * Handshakes, record round trips, every verification rule of
 * librpc/DESIGN.md "TLS", hostile input and configuration errors.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "rpc.h"
#include "tls.h"
#include "tlsutil.h"

/* ---- fixture: one end of an in-memory TLS connection ------------------- */

struct end
{
    struct rpc__tls *t;          /* the session */
    struct evbuffer *raw_in;     /* ciphertext received */
    struct evbuffer *raw_out;    /* ciphertext to send */
    struct evbuffer *plain_in;   /* decrypted bytes */
    struct evbuffer *plain_out;  /* bytes to encrypt */
    int rc;                      /* first failure of the session, or 0 */
};

static void end_init(struct end *e, const struct rpc_tls_config *cfg)
{
    memset(e, 0, sizeof *e);
    assert_int_equal(rpc__tls_new(cfg, &e->t), 0);
    e->raw_in = evbuffer_new();
    e->raw_out = evbuffer_new();
    e->plain_in = evbuffer_new();
    e->plain_out = evbuffer_new();
    assert_non_null(e->raw_in);
    assert_non_null(e->raw_out);
    assert_non_null(e->plain_in);
    assert_non_null(e->plain_out);
}

static void end_free(struct end *e)
{
    rpc__tls_free(e->t);
    evbuffer_free(e->raw_in);
    evbuffer_free(e->raw_out);
    evbuffer_free(e->plain_in);
    evbuffer_free(e->plain_out);
}

/* Moves ciphertext both ways until nobody has anything to send. A failed
 * side stops reading, but its last records (the alert) still travel. */
static void pump(struct end *a, struct end *b)
{
    struct end *s[2] = {a, b};
    int round, k;

    for (round = 0; round < 1000; round++) {
        bool moved = false;
        for (k = 0; k < 2; k++) {
            struct end *x = s[k], *y = s[1 - k];
            if (x->rc == 0)
                x->rc = rpc__tls_on_write(x->t, x->plain_out, x->raw_out);
            if (evbuffer_get_length(x->raw_out) > 0) {
                evbuffer_add_buffer(y->raw_in, x->raw_out);
                moved = true;
            }
            if (y->rc == 0 && evbuffer_get_length(y->raw_in) > 0)
                y->rc = rpc__tls_on_read(y->t, y->raw_in, y->plain_in,
                                         y->raw_out);
        }
        if (!moved)
            return;
    }
    fail_msg("pump did not settle");
}

/* Starts both sessions (server first, as a server would on accept) and
 * pumps until the handshake settles. */
static void connect_ends(struct end *srv, struct end *cli)
{
    srv->rc = rpc__tls_start(srv->t, srv->raw_out);
    cli->rc = rpc__tls_start(cli->t, cli->raw_out);
    assert_int_equal(evbuffer_get_length(srv->raw_out), 0);
    assert_true(evbuffer_get_length(cli->raw_out) > 0); /* ClientHello */
    pump(srv, cli);
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

/* Server "kvd-1" from the main CA; mTLS when require is set. */
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

/* Client trusting the main CA, presenting cn from ca (cn NULL: none). */
static struct rpc_tls_config *client_cfg(const char *cn, enum tlsutil_ca ca,
                                         const char *server_name)
{
    struct rpc_tls_options o = {.is_server = false};
    o.ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN);
    if (cn != NULL)
        tlsutil_leaf(cn, ca, &o.cert_pem, &o.key_pem);
    o.server_name = server_name;
    return make_cfg(&o);
}

static void assert_plain(struct end *e, const void *want, size_t len)
{
    assert_int_equal(evbuffer_get_length(e->plain_in), len);
    assert_memory_equal(evbuffer_pullup(e->plain_in, -1), want, len);
    evbuffer_drain(e->plain_in, len);
}

/* Runs one handshake between fresh sessions of the two configs. */
static void handshake_pair(const struct rpc_tls_config *scfg,
                           const struct rpc_tls_config *ccfg,
                           struct end *srv, struct end *cli)
{
    end_init(srv, scfg);
    end_init(cli, ccfg);
    connect_ends(srv, cli);
}

/* ---- handshakes that succeed -------------------------------------------- */

static void server_tls_round_trip(void **state)
{
    struct rpc_tls_config *scfg = server_cfg(false, NULL);
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN, "kvd-1");
    struct end srv, cli;
    (void)state;

    handshake_pair(scfg, ccfg, &srv, &cli);
    assert_int_equal(srv.rc, 0);
    assert_int_equal(cli.rc, 0);
    assert_true(rpc__tls_established(srv.t));
    assert_true(rpc__tls_established(cli.t));
    assert_string_equal(rpc__tls_peer_cn(cli.t), "kvd-1");
    assert_string_equal(rpc__tls_peer_cn(srv.t), ""); /* no client cert */

    evbuffer_add(cli.plain_out, "ping", 4);
    pump(&srv, &cli);
    assert_plain(&srv, "ping", 4);
    evbuffer_add(srv.plain_out, "pong!", 5);
    pump(&srv, &cli);
    assert_plain(&cli, "pong!", 5);
    assert_int_equal(srv.rc, 0);
    assert_int_equal(cli.rc, 0);

    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

/* The server's first flight on the wire: TLS 1.2, the first suite of our
 * list for an ECDSA certificate (ECDHE-ECDSA-CHACHA20-POLY1305-SHA256,
 * 0xCCA9) and our first ECDHE group, x25519. */
static void negotiates_tls12_ecdhe_aead(void **state)
{
    struct rpc_tls_config *scfg = server_cfg(false, NULL);
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN, NULL);
    struct end srv, cli;
    const unsigned char *p;
    size_t sid;
    (void)state;

    end_init(&srv, scfg);
    end_init(&cli, ccfg);
    assert_int_equal(rpc__tls_start(cli.t, cli.raw_out), 0);
    evbuffer_add_buffer(srv.raw_in, cli.raw_out);
    assert_int_equal(
        rpc__tls_on_read(srv.t, srv.raw_in, srv.plain_in, srv.raw_out), 0);
    assert_true(evbuffer_get_length(srv.raw_out) > 46);
    p = evbuffer_pullup(srv.raw_out, -1);
    assert_int_equal(p[0], 22); /* handshake record */
    assert_int_equal(p[5], 2);  /* ServerHello */
    assert_int_equal(p[9], 3);
    assert_int_equal(p[10], 3); /* server_version TLS 1.2 */
    sid = p[43];
    assert_true(44 + sid + 2 <= evbuffer_get_length(srv.raw_out));
    assert_int_equal(p[44 + sid] << 8 | p[45 + sid], 0xCCA9);
    /* ServerKeyExchange: a named curve, x25519 (29). */
    {
        size_t len = evbuffer_get_length(srv.raw_out), off = 0;
        bool seen = false;
        while (off + 11 <= len) {
            if (p[off] == 22 && p[off + 5] == 12) {
                assert_int_equal(p[off + 9], 3); /* named_curve */
                assert_int_equal(p[off + 10] << 8 | p[off + 11], 29);
                seen = true;
            }
            off += 5 + ((size_t)p[off + 3] << 8 | p[off + 4]);
        }
        assert_true(seen);
    }
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

/* Counts whole TLS records in buf (which holds nothing else). */
static size_t count_records(struct evbuffer *buf)
{
    size_t len = evbuffer_get_length(buf), off = 0, n = 0;
    const unsigned char *p = evbuffer_pullup(buf, -1);
    while (off + 5 <= len) {
        off += 5 + (((size_t)p[off + 3] << 8) | p[off + 4]);
        n++;
    }
    assert_int_equal(off, len);
    return n;
}

/* Counts whole TLS records in buf and checks they are application data. */
static size_t count_app_records(struct evbuffer *buf)
{
    size_t len = evbuffer_get_length(buf), off = 0, n = 0;
    const unsigned char *p = evbuffer_pullup(buf, -1);
    while (off + 5 <= len) {
        assert_int_equal(p[off], 23); /* application_data */
        assert_int_equal(p[off + 1], 3);
        assert_int_equal(p[off + 2], 3); /* TLS 1.2 */
        off += 5 + (((size_t)p[off + 3] << 8) | p[off + 4]);
        n++;
    }
    assert_int_equal(off, len);
    return n;
}

static void large_data_spans_records(void **state)
{
    enum { SIZE = 100000 }; /* 7 records of at most 16 KiB */
    struct rpc_tls_config *scfg = server_cfg(false, NULL);
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN, NULL);
    unsigned char *data = malloc(SIZE);
    struct end srv, cli;
    size_t i;
    (void)state;

    assert_non_null(data);
    for (i = 0; i < SIZE; i++)
        data[i] = (unsigned char)(i * 7u + (i >> 8));
    handshake_pair(scfg, ccfg, &srv, &cli);
    assert_true(rpc__tls_established(cli.t));

    /* Client to server, record by record. */
    evbuffer_add(cli.plain_out, data, SIZE);
    assert_int_equal(rpc__tls_on_write(cli.t, cli.plain_out, cli.raw_out), 0);
    assert_int_equal(evbuffer_get_length(cli.plain_out), 0);
    assert_int_equal(count_app_records(cli.raw_out), 7);
    /* Feed the server one byte short of everything, then the rest. */
    evbuffer_remove_buffer(cli.raw_out, srv.raw_in,
                           evbuffer_get_length(cli.raw_out) - 1);
    assert_int_equal(
        rpc__tls_on_read(srv.t, srv.raw_in, srv.plain_in, srv.raw_out), 0);
    assert_int_equal(evbuffer_get_length(srv.plain_in), 6 * 16384);
    pump(&srv, &cli);
    assert_plain(&srv, data, SIZE);

    /* And back, through the pump, in one go. */
    evbuffer_add(srv.plain_out, data, SIZE);
    pump(&srv, &cli);
    assert_plain(&cli, data, SIZE);
    assert_int_equal(srv.rc, 0);
    assert_int_equal(cli.rc, 0);

    free(data);
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

/* Ciphertext short of a whole record stays in raw_in (the connection's
 * stall guard watches it there), byte by byte, in the handshake and after. */
static void partial_record_stays_in_raw_in(void **state)
{
    struct rpc_tls_config *scfg = server_cfg(false, NULL);
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN, NULL);
    struct evbuffer *flight = evbuffer_new();
    struct end srv, cli;
    size_t len, k;
    int pass;
    (void)state;

    end_init(&srv, scfg);
    end_init(&cli, ccfg);
    assert_non_null(flight);
    assert_int_equal(rpc__tls_start(srv.t, srv.raw_out), 0);
    assert_int_equal(rpc__tls_start(cli.t, cli.raw_out), 0);
    for (pass = 0; pass < 2; pass++) {
        /* pass 0: the ClientHello; pass 1: one application record */
        if (pass == 1) {
            pump(&srv, &cli);
            assert_true(rpc__tls_established(srv.t));
            evbuffer_add(cli.plain_out, "hello", 5);
            assert_int_equal(
                rpc__tls_on_write(cli.t, cli.plain_out, cli.raw_out), 0);
        }
        evbuffer_add_buffer(flight, cli.raw_out);
        len = evbuffer_get_length(flight);
        assert_int_equal(count_records(flight), 1);
        for (k = 1; k < len; k++) {
            evbuffer_remove_buffer(flight, srv.raw_in, 1);
            assert_int_equal(rpc__tls_on_read(srv.t, srv.raw_in, srv.plain_in,
                                              srv.raw_out),
                             0);
            assert_int_equal(evbuffer_get_length(srv.raw_in), k);
            assert_int_equal(evbuffer_get_length(srv.raw_out), 0);
            assert_int_equal(evbuffer_get_length(srv.plain_in), 0);
        }
        evbuffer_remove_buffer(flight, srv.raw_in, 1);
        assert_int_equal(
            rpc__tls_on_read(srv.t, srv.raw_in, srv.plain_in, srv.raw_out),
            0);
        assert_int_equal(evbuffer_get_length(srv.raw_in), 0);
        if (pass == 0)
            assert_true(evbuffer_get_length(srv.raw_out) > 0); /* answered */
        else
            assert_plain(&srv, "hello", 5);
    }
    evbuffer_free(flight);
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

/* Frames queued as many small chains share records: 200 chains of 100
 * bytes make two records (16384 + 3616 bytes), not 200. */
static void small_chains_share_records(void **state)
{
    static char data[200 * 100];
    struct rpc_tls_config *scfg = server_cfg(false, NULL);
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN, NULL);
    struct end srv, cli;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof data; i++)
        data[i] = (char)(i % 251);
    handshake_pair(scfg, ccfg, &srv, &cli);
    assert_true(rpc__tls_established(cli.t));
    for (i = 0; i < 200; i++)
        assert_int_equal(
            evbuffer_add_reference(cli.plain_out, data + i * 100, 100, NULL,
                                   NULL),
            0);
    assert_true(evbuffer_peek(cli.plain_out, -1, NULL, NULL, 0) >= 200);
    assert_int_equal(rpc__tls_on_write(cli.t, cli.plain_out, cli.raw_out), 0);
    assert_int_equal(count_app_records(cli.raw_out), 2);
    pump(&srv, &cli);
    assert_plain(&srv, data, sizeof data);
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

static void client_without_ca_is_unauthenticated(void **state)
{
    struct rpc_tls_options co = {.is_server = false};
    struct rpc_tls_config *scfg = server_cfg(false, NULL);
    struct rpc_tls_config *ccfg = make_cfg(&co);
    struct end srv, cli;
    (void)state;

    handshake_pair(scfg, ccfg, &srv, &cli);
    assert_int_equal(cli.rc, 0);
    assert_int_equal(srv.rc, 0);
    assert_true(rpc__tls_established(cli.t));
    /* The server's certificate was not checked: its CN is not reported. */
    assert_string_equal(rpc__tls_peer_cn(cli.t), "");
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

static void plaintext_waits_for_handshake(void **state)
{
    struct rpc_tls_config *scfg = server_cfg(false, NULL);
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN, NULL);
    struct end srv, cli;
    (void)state;

    end_init(&srv, scfg);
    end_init(&cli, ccfg);
    evbuffer_add(cli.plain_out, "early", 5);
    assert_int_equal(rpc__tls_on_write(cli.t, cli.plain_out, cli.raw_out), 0);
    assert_int_equal(evbuffer_get_length(cli.plain_out), 5);
    assert_int_equal(evbuffer_get_length(cli.raw_out), 0);
    assert_false(rpc__tls_established(cli.t));
    connect_ends(&srv, &cli); /* the pump writes once established */
    assert_int_equal(evbuffer_get_length(cli.plain_out), 0);
    assert_plain(&srv, "early", 5);
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

static void mutual_tls_accepted(void **state)
{
    static const char *const allowed[] = {"pd", "sqld", NULL};
    static const char *const srv_allowed[] = {"kvd-1", NULL};
    struct rpc_tls_config *scfg = server_cfg(true, allowed);
    struct rpc_tls_options co = {.is_server = false};
    struct rpc_tls_config *ccfg;
    struct end srv, cli;
    (void)state;

    co.ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN);
    tlsutil_leaf("sqld", TLSUTIL_CA_MAIN, &co.cert_pem, &co.key_pem);
    co.allowed_cn = srv_allowed;
    ccfg = make_cfg(&co);
    handshake_pair(scfg, ccfg, &srv, &cli);
    assert_int_equal(srv.rc, 0);
    assert_int_equal(cli.rc, 0);
    assert_string_equal(rpc__tls_peer_cn(srv.t), "sqld");
    assert_string_equal(rpc__tls_peer_cn(cli.t), "kvd-1");
    evbuffer_add(cli.plain_out, "hi", 2);
    pump(&srv, &cli);
    assert_plain(&srv, "hi", 2);
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

static void config_files_load(void **state)
{
    char ca[64], cert[64], key[64];
    const char *cert_pem, *key_pem;
    struct rpc_tls_options so = {.is_server = true};
    struct rpc_tls_config *scfg, *ccfg;
    struct end srv, cli;
    (void)state;

    tlsutil_leaf("kvd-1", TLSUTIL_CA_MAIN, &cert_pem, &key_pem);
    assert_int_equal(tlsutil_write_temp(cert_pem, cert, sizeof cert), 0);
    assert_int_equal(tlsutil_write_temp(key_pem, key, sizeof key), 0);
    assert_int_equal(
        tlsutil_write_temp(tlsutil_ca_pem(TLSUTIL_CA_MAIN), ca, sizeof ca), 0);
    so.cert_file = cert;
    so.key_file = key;
    scfg = make_cfg(&so);
    {
        struct rpc_tls_options co = {.is_server = false, .ca_file = ca,
                                     .server_name = "kvd-1"};
        ccfg = make_cfg(&co);
    }
    handshake_pair(scfg, ccfg, &srv, &cli);
    assert_int_equal(cli.rc, 0);
    assert_true(rpc__tls_established(cli.t));
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
    unlink(ca);
    unlink(cert);
    unlink(key);
}

/* ---- handshakes that must fail ------------------------------------------ */

/* Handshake between the configs; returns with both ends for inspection. */
static void expect_failure(struct rpc_tls_config *scfg,
                           struct rpc_tls_config *ccfg, int srv_rc,
                           const char *srv_msg, int cli_rc,
                           const char *cli_msg)
{
    struct end srv, cli;
    handshake_pair(scfg, ccfg, &srv, &cli);
    assert_false(rpc__tls_established(srv.t) && rpc__tls_established(cli.t));
    assert_int_equal(srv.rc, srv_rc);
    assert_int_equal(cli.rc, cli_rc);
    if (srv_msg != NULL && strstr(rpc__tls_errmsg(srv.t), srv_msg) == NULL)
        fail_msg("server message \"%s\" lacks \"%s\"", rpc__tls_errmsg(srv.t),
                 srv_msg);
    if (cli_msg != NULL && strstr(rpc__tls_errmsg(cli.t), cli_msg) == NULL)
        fail_msg("client message \"%s\" lacks \"%s\"", rpc__tls_errmsg(cli.t),
                 cli_msg);
    /* A failed session stays failed, with the same code. */
    if (srv.rc != 0) {
        evbuffer_add(srv.raw_in, "x", 1);
        assert_int_equal(
            rpc__tls_on_read(srv.t, srv.raw_in, srv.plain_in, srv.raw_out),
            srv_rc);
        assert_int_equal(
            rpc__tls_on_write(srv.t, srv.plain_out, srv.raw_out), srv_rc);
    }
    assert_int_equal(evbuffer_get_length(srv.plain_in), 0);
    assert_int_equal(evbuffer_get_length(cli.plain_in), 0);
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

static void client_cert_from_other_ca_rejected(void **state)
{
    (void)state;
    expect_failure(server_cfg(true, NULL),
                   client_cfg("sqld", TLSUTIL_CA_OTHER, NULL),
                   RPC_ETLS_VERIFY, "not correctly signed by the trusted CA",
                   RPC_ETLS_VERIFY, "unknown_ca");
}

static void client_cn_not_allowed(void **state)
{
    static const char *const allowed[] = {"pd", "sqld", NULL};
    (void)state;
    expect_failure(server_cfg(true, allowed),
                   client_cfg("intruder", TLSUTIL_CA_MAIN, NULL),
                   RPC_ETLS_VERIFY,
                   "peer certificate CN \"intruder\" is not in allowed_cn",
                   RPC_ETLS_VERIFY, "access_denied");
}

static void client_without_cert_when_required(void **state)
{
    (void)state;
    expect_failure(server_cfg(true, NULL),
                   client_cfg(NULL, TLSUTIL_CA_MAIN, NULL), RPC_ETLS_VERIFY,
                   "the client sent none", RPC_ETLS,
                   "may require a client certificate, and this client has "
                   "none");
}

static void server_name_mismatch(void **state)
{
    (void)state;
    expect_failure(server_cfg(false, NULL),
                   client_cfg(NULL, TLSUTIL_CA_MAIN, "kvd-2"), RPC_ETLS_VERIFY,
                   "bad_certificate", RPC_ETLS_VERIFY,
                   "Common Name (CN) does not match");
}

static void server_cn_not_allowed_by_client(void **state)
{
    static const char *const allowed[] = {"pd", NULL};
    struct rpc_tls_options co = {.is_server = false};
    (void)state;
    co.ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN);
    co.allowed_cn = allowed;
    expect_failure(server_cfg(false, NULL), make_cfg(&co), RPC_ETLS_VERIFY,
                   "access_denied", RPC_ETLS_VERIFY,
                   "CN \"kvd-1\" is not in allowed_cn");
}

static void server_from_other_ca_untrusted(void **state)
{
    struct rpc_tls_options so = {.is_server = true};
    (void)state;
    tlsutil_leaf("kvd-1", TLSUTIL_CA_OTHER, &so.cert_pem, &so.key_pem);
    expect_failure(make_cfg(&so), client_cfg(NULL, TLSUTIL_CA_MAIN, NULL),
                   RPC_ETLS_VERIFY, "unknown_ca", RPC_ETLS_VERIFY,
                   "not correctly signed by the trusted CA");
}

static void expired_server_cert_rejected(void **state)
{
    struct rpc_tls_options so = {.is_server = true};
    (void)state;
    tlsutil_leaf_dated("kvd-1", TLSUTIL_CA_MAIN, "20010101000000",
                       "20021231235959", &so.cert_pem, &so.key_pem);
    expect_failure(make_cfg(&so), client_cfg(NULL, TLSUTIL_CA_MAIN, "kvd-1"),
                   RPC_ETLS_VERIFY, "certificate_expired", RPC_ETLS_VERIFY,
                   "The certificate validity has expired");
}

static void future_client_cert_rejected(void **state)
{
    struct rpc_tls_options co = {.is_server = false};
    (void)state;
    co.ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN);
    tlsutil_leaf_dated("sqld", TLSUTIL_CA_MAIN, "20980101000000",
                       "20991231235959", &co.cert_pem, &co.key_pem);
    expect_failure(server_cfg(true, NULL), make_cfg(&co), RPC_ETLS_VERIFY,
                   "The certificate validity starts in the future",
                   RPC_ETLS_VERIFY, "TLS alert");
}

/* A CA bundle (two PEM certificates in one input) trusts both. */
static void ca_bundle_trusts_each_ca(void **state)
{
    struct rpc_tls_options so = {.is_server = true};
    struct rpc_tls_options co = {.is_server = false, .server_name = "kvd-1"};
    struct rpc_tls_config *scfg, *ccfg;
    const char *a = tlsutil_ca_pem(TLSUTIL_CA_MAIN);
    const char *b = tlsutil_ca_pem(TLSUTIL_CA_OTHER);
    char *bundle = malloc(strlen(a) + strlen(b) + 1);
    struct end srv, cli;
    (void)state;

    assert_non_null(bundle);
    strcpy(bundle, a);
    strcat(bundle, b);
    co.ca_pem = bundle;
    tlsutil_leaf("kvd-1", TLSUTIL_CA_OTHER, &so.cert_pem, &so.key_pem);
    scfg = make_cfg(&so);
    ccfg = make_cfg(&co);
    free(bundle); /* the configuration keeps its own copy */
    handshake_pair(scfg, ccfg, &srv, &cli);
    assert_int_equal(cli.rc, 0);
    assert_true(rpc__tls_established(cli.t));
    assert_string_equal(rpc__tls_peer_cn(cli.t), "kvd-1");
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

/* server_name against a certificate with a DNS subjectAltName: the SAN
 * matches; once a SAN is present mbedtls no longer looks at the CN. */
static void server_name_matches_san(void **state)
{
    struct rpc_tls_options so = {.is_server = true};
    struct rpc_tls_config *scfg, *ccfg;
    struct end srv, cli;
    (void)state;

    tlsutil_leaf_san("kvd-1", TLSUTIL_CA_MAIN, "kvd-1.cluster.local",
                     &so.cert_pem, &so.key_pem);
    scfg = make_cfg(&so);
    ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN, "kvd-1.cluster.local");
    handshake_pair(scfg, ccfg, &srv, &cli);
    assert_int_equal(cli.rc, 0);
    assert_true(rpc__tls_established(cli.t));
    assert_string_equal(rpc__tls_peer_cn(cli.t), "kvd-1");
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);

    ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN, "kvd-1"); /* the CN */
    expect_failure(scfg, ccfg, RPC_ETLS_VERIFY, "bad_certificate",
                   RPC_ETLS_VERIFY, "Common Name (CN) does not match");
}

/* ---- hostile bytes ------------------------------------------------------- */

static void garbage_instead_of_client_hello(void **state)
{
    static const char *const inputs[] = {
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "\x16\x03\x03\x00\x05\x01\x00\x00\x01\x00", /* truncated hello */
        "\x17\x03\x03\x00\x04" "abcd", /* app data before any handshake */
        "\x16\x03\x03\xff\xff",     /* record longer than allowed */
    };
    struct rpc_tls_config *scfg = server_cfg(false, NULL);
    size_t i;
    (void)state;

    for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct end srv;
        size_t len = i == 1 ? 10 : i == 2 ? 9 : strlen(inputs[i]);
        end_init(&srv, scfg);
        assert_int_equal(rpc__tls_start(srv.t, srv.raw_out), 0);
        evbuffer_add(srv.raw_in, inputs[i], len);
        if (i == 3) /* the header alone is refused, not waited on */
            evbuffer_add(srv.raw_in, "\0\0\0\0\0\0\0\0", 8);
        assert_int_equal(
            rpc__tls_on_read(srv.t, srv.raw_in, srv.plain_in, srv.raw_out),
            RPC_ETLS);
        assert_true(strstr(rpc__tls_errmsg(srv.t), "during the handshake") !=
                    NULL);
        /* Bytes that start no TLS record are named as such. */
        assert_int_equal(strstr(rpc__tls_errmsg(srv.t),
                                "the peer does not speak TLS: its first byte "
                                "0x47") != NULL,
                         i == 0);
        assert_false(rpc__tls_established(srv.t));
        assert_int_equal(evbuffer_get_length(srv.plain_in), 0);
        end_free(&srv);
    }
    rpc_tls_config_destroy(scfg);
}

static void tampered_record_fails(void **state)
{
    struct rpc_tls_config *scfg = server_cfg(false, NULL);
    struct rpc_tls_config *ccfg = client_cfg(NULL, TLSUTIL_CA_MAIN, NULL);
    struct end srv, cli;
    unsigned char *p;
    (void)state;

    handshake_pair(scfg, ccfg, &srv, &cli);
    assert_true(rpc__tls_established(srv.t));
    evbuffer_add(cli.plain_out, "secret", 6);
    assert_int_equal(rpc__tls_on_write(cli.t, cli.plain_out, cli.raw_out), 0);
    p = evbuffer_pullup(cli.raw_out, -1);
    p[evbuffer_get_length(cli.raw_out) - 1] ^= 0x01; /* flip a tag bit */
    evbuffer_add_buffer(srv.raw_in, cli.raw_out);
    assert_int_equal(
        rpc__tls_on_read(srv.t, srv.raw_in, srv.plain_in, srv.raw_out),
        RPC_ETLS);
    assert_true(strstr(rpc__tls_errmsg(srv.t), "reading a record") != NULL);
    assert_int_equal(evbuffer_get_length(srv.plain_in), 0);
    end_free(&srv);
    end_free(&cli);
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

/* ---- configuration errors ------------------------------------------------ */

static void expect_config_error(const struct rpc_tls_options *o, int want,
                                const char *msg)
{
    struct rpc_tls_config *cfg = (struct rpc_tls_config *)&cfg;
    struct rpc_tls_config *const sentinel = cfg;
    char err[256];
    int rc = rpc_tls_config_create(o, &cfg, err, sizeof err);
    assert_int_equal(rc, want);
    assert_ptr_equal(cfg, sentinel); /* *out untouched on failure */
    if (strstr(err, msg) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err, msg);
}

static void config_errors_are_named(void **state)
{
    const char *cert, *key, *other_cert, *other_key;
    static const char *const none[] = {NULL};
    (void)state;

    tlsutil_leaf("kvd-1", TLSUTIL_CA_MAIN, &cert, &key);
    tlsutil_leaf("sqld", TLSUTIL_CA_MAIN, &other_cert, &other_key);
    {
        struct rpc_tls_options o = {.is_server = true,
                                    .cert_file = "/nonexistent/kvd.crt",
                                    .key_pem = key};
        expect_config_error(&o, RPC_ECONFIG,
                            "cannot open /nonexistent/kvd.crt: No such file");
    }
    {
        struct rpc_tls_options o = {.is_server = true, .cert_pem = cert,
                                    .key_pem = key,
                                    .ca_pem = "-----BEGIN CERTIFICATE-----\n"
                                              "bm90IGEgY2VydA==\n"
                                              "-----END CERTIFICATE-----\n"};
        expect_config_error(&o, RPC_ECONFIG, "ca (memory): bad PEM");
    }
    {
        struct rpc_tls_options o = {.is_server = true, .cert_pem = cert,
                                    .key_pem = "garbage"};
        expect_config_error(&o, RPC_ECONFIG, "key (memory): bad PEM");
    }
    {
        struct rpc_tls_options o = {.is_server = true, .cert_pem = cert,
                                    .key_pem = other_key};
        expect_config_error(&o, RPC_ECONFIG,
                            "key does not match the certificate");
    }
    {
        struct rpc_tls_options o = {.is_server = true};
        expect_config_error(&o, RPC_ECONFIG, "needs cert and key");
    }
    {
        struct rpc_tls_options o = {.is_server = false, .cert_pem = cert};
        expect_config_error(&o, RPC_ECONFIG, "cert given without key");
    }
    {
        struct rpc_tls_options o = {.is_server = true, .cert_pem = cert,
                                    .key_pem = key,
                                    .require_peer_cert = true};
        expect_config_error(&o, RPC_ECONFIG, "require_peer_cert needs a ca");
    }
    {
        struct rpc_tls_options o = {.is_server = false,
                                    .server_name = "kvd-1"};
        expect_config_error(&o, RPC_ECONFIG, "server_name needs a ca");
    }
    {
        struct rpc_tls_options o = {
            .is_server = true, .cert_pem = cert, .key_pem = key,
            .ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN),
            .require_peer_cert = true, .allowed_cn = none};
        expect_config_error(&o, RPC_ECONFIG, "allowed_cn is empty");
    }
    /* Memory wins over a (missing) file. */
    {
        struct rpc_tls_options o = {.is_server = true, .cert_pem = cert,
                                    .cert_file = "/nonexistent",
                                    .key_pem = key};
        struct rpc_tls_config *cfg = NULL;
        assert_int_equal(rpc_tls_config_create(&o, &cfg, NULL, 0), 0);
        rpc_tls_config_destroy(cfg);
    }
    rpc_tls_config_destroy(NULL);
}

/* ---- allocation failures ------------------------------------------------ */

static int fault_at;  /* index of the allocation that fails */
static int fault_n;   /* allocations so far */

static void *fault_malloc(size_t n)
{
    return fault_n++ == fault_at ? NULL : malloc(n);
}

static void *fault_realloc(void *p, size_t n)
{
    return fault_n++ == fault_at ? NULL : realloc(p, n);
}

/* Creates cfg with the i-th allocation failing, for every i: each fails
 * with -ENOMEM, leaves *out alone and leaks nothing (ASan checks). The
 * creation makes exactly n allocations of its own. */
static void create_under_faults(const struct rpc_tls_options *o, int n)
{
    int points = -1;
    for (fault_at = 0;; fault_at++) {
        struct rpc_tls_config *cfg = NULL;
        char err[256];
        int rc;
        fault_n = 0;
        rpc_heap_set(fault_malloc, fault_realloc, free);
        rc = rpc_tls_config_create(o, &cfg, err, sizeof err);
        rpc_heap_set(NULL, NULL, NULL);
        if (rc == 0) {
            struct rpc__tls *t = NULL;
            points = fault_at;
            assert_int_equal(fault_n, n);
            fault_at = 0;
            fault_n = 0;
            rpc_heap_set(fault_malloc, fault_realloc, free);
            assert_int_equal(rpc__tls_new(cfg, &t), -ENOMEM);
            rpc_heap_set(NULL, NULL, NULL);
            assert_null(t);
            rpc_tls_config_destroy(cfg);
            break;
        }
        assert_int_equal(rc, -ENOMEM);
        assert_null(cfg);
        assert_non_null(strstr(err, "out of memory"));
    }
    assert_int_equal(points, n);
}

static void allocation_failures_are_clean(void **state)
{
    static const char *const allowed[] = {"pd", "sqld", NULL};
    const char *cert_pem, *key_pem;
    char cert[64];
    (void)state;

    tlsutil_leaf("kvd-1", TLSUTIL_CA_MAIN, &cert_pem, &key_pem);
    assert_int_equal(tlsutil_write_temp(cert_pem, cert, sizeof cert), 0);
    {
        /* config, file buffer, allowed_cn array and its two strings */
        struct rpc_tls_options o = {
            .is_server = true, .cert_file = cert, .key_pem = key_pem,
            .ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN),
            .require_peer_cert = true, .allowed_cn = allowed};
        create_under_faults(&o, 5);
    }
    {
        /* config and server_name */
        struct rpc_tls_options o = {
            .is_server = false, .ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN),
            .server_name = "kvd-1"};
        create_under_faults(&o, 2);
    }
    unlink(cert);
}

/* ---- one config, several threads ---------------------------------------- */

struct worker
{
    const struct rpc_tls_config *scfg; /* shared server config */
    const struct rpc_tls_config *ccfg; /* shared client config */
    int ok;                            /* handshakes that succeeded */
};

static void *worker_main(void *p)
{
    struct worker *w = p;
    int i;
    for (i = 0; i < 3; i++) {
        struct end srv, cli;
        /* no cmocka asserts off the main thread: count instead */
        if (rpc__tls_new(w->scfg, &srv.t) != 0)
            continue;
        if (rpc__tls_new(w->ccfg, &cli.t) != 0) {
            rpc__tls_free(srv.t);
            continue;
        }
        srv.raw_in = evbuffer_new();
        srv.raw_out = evbuffer_new();
        srv.plain_in = evbuffer_new();
        srv.plain_out = evbuffer_new();
        cli.raw_in = evbuffer_new();
        cli.raw_out = evbuffer_new();
        cli.plain_in = evbuffer_new();
        cli.plain_out = evbuffer_new();
        srv.rc = rpc__tls_start(srv.t, srv.raw_out);
        cli.rc = rpc__tls_start(cli.t, cli.raw_out);
        evbuffer_add(cli.plain_out, "abc", 3);
        pump(&srv, &cli);
        if (srv.rc == 0 && cli.rc == 0 &&
            evbuffer_get_length(srv.plain_in) == 3)
            w->ok++;
        end_free(&srv);
        end_free(&cli);
    }
    return NULL;
}

static void config_shared_by_threads(void **state)
{
    static const char *const allowed[] = {"sqld", NULL};
    struct rpc_tls_config *scfg = server_cfg(true, allowed);
    struct rpc_tls_config *ccfg = client_cfg("sqld", TLSUTIL_CA_MAIN, "kvd-1");
    struct worker w[4];
    pthread_t th[4];
    int i;
    (void)state;

    for (i = 0; i < 4; i++) {
        w[i] = (struct worker){.scfg = scfg, .ccfg = ccfg};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].ok, 3);
    }
    rpc_tls_config_destroy(ccfg);
    rpc_tls_config_destroy(scfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(server_tls_round_trip),
        cmocka_unit_test(negotiates_tls12_ecdhe_aead),
        cmocka_unit_test(large_data_spans_records),
        cmocka_unit_test(partial_record_stays_in_raw_in),
        cmocka_unit_test(small_chains_share_records),
        cmocka_unit_test(client_without_ca_is_unauthenticated),
        cmocka_unit_test(plaintext_waits_for_handshake),
        cmocka_unit_test(mutual_tls_accepted),
        cmocka_unit_test(config_files_load),
        cmocka_unit_test(client_cert_from_other_ca_rejected),
        cmocka_unit_test(client_cn_not_allowed),
        cmocka_unit_test(client_without_cert_when_required),
        cmocka_unit_test(server_name_mismatch),
        cmocka_unit_test(server_cn_not_allowed_by_client),
        cmocka_unit_test(server_from_other_ca_untrusted),
        cmocka_unit_test(server_name_matches_san),
        cmocka_unit_test(expired_server_cert_rejected),
        cmocka_unit_test(future_client_cert_rejected),
        cmocka_unit_test(ca_bundle_trusts_each_ca),
        cmocka_unit_test(garbage_instead_of_client_hello),
        cmocka_unit_test(tampered_record_fails),
        cmocka_unit_test(config_errors_are_named),
        cmocka_unit_test(allocation_failures_are_clean),
        cmocka_unit_test(config_shared_by_threads),
    };
    return cmocka_run_group_tests_name("librpc/tls_seam", tests, NULL, NULL);
}

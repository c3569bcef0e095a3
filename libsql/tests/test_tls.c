/* test_tls.c: the engine's side of TLS and caching_sha2 full
 * authentication (DESIGN.md "TLS and full authentication"): logins
 * through the protocol engine with a session's auth provider, the TLS
 * upgrade simulated (the caller's job), against a server opened with
 * have_ssl, require_secure_transport and sha2_cache.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "myclient.h"
#include "sql.h"
#include "sqlfx.h"

#define CLIENT_SSL 0x800u

struct tlsfx {
    struct sqlfx fx;        /* the server (fx.srv) */
    struct sqlfx_conn root; /* a root session for SQL */
    bool rsa;               /* offer the RSA exchange (a stand-in) */
    int decrypts;           /* rsa_decrypt calls */
};

#define FAKE_PEM "-----BEGIN PUBLIC KEY-----\nfake\n-----END PUBLIC KEY-----\n"

/* A stand-in for RSA: the "ciphertext" is the plaintext reversed, so the
 * engine's framing and XOR with the nonce are what is checked. */
static int fake_decrypt(void *ctx, const uint8_t *in, size_t len,
                        uint8_t *out, size_t *out_len)
{
    struct tlsfx *t = ctx;
    t->decrypts++;
    if (len > *out_len || len == 3) /* 3 bytes: "cannot decrypt" */
        return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = in[len - 1 - i];
    *out_len = len;
    return 0;
}

static void tls_info(void *ctx, const char **version, const char **cipher)
{
    (void)ctx;
    *version = "TLSv1.2";
    *cipher = "TEST-CIPHER";
}

static void open_srv(struct tlsfx *t, bool sha2_cache, bool require)
{
    memset(t, 0, sizeof(*t));
    struct sql_server_options o = {.have_ssl = true,
                                   .require_secure_transport = require,
                                   .sha2_cache = sha2_cache};
    char err[256];
    assert_int_equal(sql_server_open(&o, &t->fx.srv, err, sizeof(err)), 0);
    sqlfx_connect(&t->fx, &t->root, 1);
}

static void close_srv(struct tlsfx *t)
{
    sqlfx_disconnect(&t->root);
    sql_server_close(t->fx.srv);
}

static void take(struct sql_proto_conn *c, struct mc_buf *into)
{
    size_t n;
    const uint8_t *p = sql_proto_conn_output(c, &n);
    into->len = 0;
    mc_put(into, p, n);
    sql_proto_conn_consume(c, n);
}

static void send_pkt(struct sql_proto_conn *c, const void *p, size_t n,
                     uint8_t *seq)
{
    struct mc_buf fr = {0};
    mc_frame(&fr, p, n, seq);
    size_t used;
    assert_int_equal(sql_proto_conn_feed(c, fr.p, fr.len, &used), 0);
    assert_int_equal(used, fr.len);
    mc_free(&fr);
}

/* Log in as user with password, over (simulated) TLS or not, with
 * caching_sha2_password: 0 when it succeeded, else the ERR code; *full
 * says whether the server asked for full authentication. With query,
 * runs it afterwards and copies the rendered answer into out. */
static int login(struct tlsfx *t, const char *user, const char *pw,
                 bool tls, bool *full, const char *query, char *out,
                 size_t outlen)
{
    struct sql_session *s;
    assert_int_equal(sql_session_create(t->fx.srv, 2, &s), 0);
    struct sql_proto_options o = {
        .server_version = "8.0.11-test",
        .connection_id = 2,
        .client_host = "127.0.0.1",
        .auth = sql_session_auth(s),
        .exec = sql_session_executor(s),
        .tls_available = true,
        .default_plugin = SQL_AUTH_CACHING_SHA2,
        .tls_info = tls_info,
        .rsa_public_pem = t->rsa ? FAKE_PEM : NULL,
        .rsa_decrypt = fake_decrypt,
        .rsa_ctx = t,
    };
    struct sql_proto_conn *c = sql_proto_conn_create(&o);
    assert_non_null(c);
    assert_int_equal(sql_proto_conn_start(c), 0);
    struct mc_buf out_b = {0}, pl = {0};
    struct mc_pkt pk[4];
    take(c, &out_b);
    assert_int_equal(mc_split(out_b.p, out_b.len, pk, 4), 1);
    /* HandshakeV10: the nonce after version, id (8 bytes), then 12 more
     * after the fixed fields. */
    const uint8_t *g = pk[0].p;
    size_t vlen = strlen((const char *)g + 1);
    uint8_t scramble[20];
    memcpy(scramble, g + 1 + vlen + 1 + 4, 8);
    memcpy(scramble + 8, g + 1 + vlen + 1 + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10,
           12);
    uint8_t seq = 1;
    if (tls) {
        mc_u32(&pl, MC_CAPS_BASE | CLIENT_SSL);
        mc_u32(&pl, 16u << 20);
        mc_u8(&pl, 45);
        static const uint8_t zero[23];
        mc_put(&pl, zero, 23);
        send_pkt(c, pl.p, pl.len, &seq);
        assert_true(sql_proto_conn_want_tls(c));
        assert_int_equal(sql_proto_conn_tls_started(c), 0);
        pl.len = 0;
    }
    uint8_t tok[32];
    mc_sha2_token(pw, scramble, tok);
    struct mc_login l = {.caps = MC_CAPS_BASE | (tls ? CLIENT_SSL : 0),
                         .user = user,
                         .auth = tok,
                         .auth_len = pw[0] ? 32 : 0,
                         .plugin = "caching_sha2_password"};
    mc_login_payload(&pl, &l);
    send_pkt(c, pl.p, pl.len, &seq);
    take(c, &out_b);
    int n = mc_split(out_b.p, out_b.len, pk, 4);
    assert_true(n >= 1);
    *full = false;
    if (pk[0].len == 2 && pk[0].p[0] == 0x01 && pk[0].p[1] == 0x04) {
        *full = true;
        assert_int_equal(n, 1);
        seq = (uint8_t)(pk[0].seq + 1);
        if (tls) {
            send_pkt(c, pw, strlen(pw) + 1, &seq);
        } else {
            /* RSA exchange: ask for the key, then "encrypt" (reverse)
             * the password and its NUL XOR the nonce. */
            static const uint8_t ask = 0x02;
            send_pkt(c, &ask, 1, &seq);
            take(c, &out_b);
            assert_int_equal(mc_split(out_b.p, out_b.len, pk, 4), 1);
            assert_int_equal(pk[0].len, 1 + strlen(FAKE_PEM));
            assert_int_equal(pk[0].p[0], 0x01);
            assert_memory_equal(pk[0].p + 1, FAKE_PEM, strlen(FAKE_PEM));
            seq = (uint8_t)(pk[0].seq + 1);
            uint8_t enc[64];
            size_t m = strlen(pw) + 1;
            for (size_t i = 0; i < m; i++)
                enc[m - 1 - i] = (uint8_t)(pw[i] ^ scramble[i % 20]);
            send_pkt(c, enc, m, &seq);
        }
        take(c, &out_b);
        n = mc_split(out_b.p, out_b.len, pk, 4);
    } else if (pk[0].len == 2 && pk[0].p[0] == 0x01 && pk[0].p[1] == 0x03) {
        memmove(pk, pk + 1, sizeof(pk[0]) * (size_t)(--n));
    }
    assert_int_equal(n, 1);
    int rc = pk[0].p[0] == 0x00 ? 0 : pk[0].p[0] == 0xFF
                                          ? pk[0].p[1] | pk[0].p[2] << 8
                                          : -1;
    assert_int_equal(rc == 0, sql_proto_conn_authenticated(c));
    if (rc == 0 && query) {
        /* Borrow sqlfx's renderer for this connection. */
        struct sqlfx_conn fc = {.fx = &t->fx, .s = s, .c = c};
        snprintf(out, outlen, "%s", sqlfx_q(&fc, query));
        free(fc.pk);
    }
    mc_free(&out_b);
    mc_free(&pl);
    sql_proto_conn_destroy(c);
    sql_session_destroy(s);
    return rc;
}

/* sha2_cache: full authentication over TLS first, then the fast path;
 * a new password or FLUSH PRIVILEGES empties the entry, a GRANT keeps
 * it. */
static void test_sha2_cache(void **state)
{
    (void)state;
    struct tlsfx t;
    bool full;
    open_srv(&t, true, false);
    assert_string_equal(
        sqlfx_q(&t.root, "CREATE USER u IDENTIFIED WITH "
                         "caching_sha2_password BY 'p1'"),
        "OK 0 0 0");
    assert_int_equal(login(&t, "u", "p1", false, &full, NULL, NULL, 0),
                     1251);
    assert_int_equal(login(&t, "u", "bad", true, &full, NULL, NULL, 0),
                     1045);
    assert_true(full);
    assert_int_equal(login(&t, "u", "p1", false, &full, NULL, NULL, 0),
                     1251); /* a failed full auth fills nothing */
    assert_int_equal(login(&t, "u", "p1", true, &full, NULL, NULL, 0), 0);
    assert_true(full);
    assert_int_equal(login(&t, "u", "p1", false, &full, NULL, NULL, 0), 0);
    assert_false(full);
    assert_int_equal(login(&t, "u", "p2", false, &full, NULL, NULL, 0),
                     1045);
    assert_int_equal(login(&t, "u", "p1", true, &full, NULL, NULL, 0), 0);
    assert_false(full); /* cached: the fast path over TLS too */
    assert_string_equal(sqlfx_q(&t.root, "GRANT SELECT ON *.* TO u"),
                        "OK 0 0 0");
    assert_int_equal(login(&t, "u", "p1", false, &full, NULL, NULL, 0), 0);
    assert_string_equal(sqlfx_q(&t.root, "ALTER USER u IDENTIFIED BY 'p2'"),
                        "OK 0 0 0");
    assert_int_equal(login(&t, "u", "p2", false, &full, NULL, NULL, 0),
                     1251);
    assert_int_equal(login(&t, "u", "p2", true, &full, NULL, NULL, 0), 0);
    assert_int_equal(login(&t, "u", "p2", false, &full, NULL, NULL, 0), 0);
    assert_string_equal(sqlfx_q(&t.root, "FLUSH PRIVILEGES"), "OK 0 0 0");
    assert_int_equal(login(&t, "u", "p2", false, &full, NULL, NULL, 0),
                     1251);
    close_srv(&t);
}

/* Without sha2_cache the stored verifier always allows the fast path. */
static void test_sha2_no_cache(void **state)
{
    (void)state;
    struct tlsfx t;
    bool full;
    open_srv(&t, false, false);
    sqlfx_q(&t.root, "CREATE USER u IDENTIFIED WITH caching_sha2_password "
                     "BY 'p1'");
    assert_int_equal(login(&t, "u", "p1", false, &full, NULL, NULL, 0), 0);
    assert_false(full);
    assert_int_equal(login(&t, "u", "p0", false, &full, NULL, NULL, 0),
                     1045);
    close_srv(&t);
}

/* require_secure_transport from the options and from SET GLOBAL;
 * @@have_ssl; Ssl_version and Ssl_cipher of a TLS session and of a
 * plain one. */
static void test_require_and_status(void **state)
{
    (void)state;
    struct tlsfx t;
    bool full;
    char out[512];
    open_srv(&t, false, true);
    sqlfx_q(&t.root, "CREATE USER u IDENTIFIED WITH caching_sha2_password "
                     "BY 'p1'");
    assert_string_equal(sqlfx_q(&t.root, "SELECT @@have_ssl, "
                                         "@@require_secure_transport"),
                        "YES|1");
    assert_int_equal(login(&t, "u", "p1", false, &full, NULL, NULL, 0),
                     3159);
    assert_int_equal(login(&t, "u", "p1", true, &full,
                           "SHOW STATUS LIKE 'Ssl%'", out, sizeof(out)),
                     0);
    assert_string_equal(out, "Ssl_cipher|TEST-CIPHER\nSsl_version|TLSv1.2");
    assert_string_equal(
        sqlfx_q(&t.root, "SET GLOBAL require_secure_transport = OFF"),
        "OK 0 0 0");
    assert_int_equal(login(&t, "u", "p1", false, &full,
                           "SHOW SESSION STATUS LIKE 'Ssl%'", out,
                           sizeof(out)),
                     0);
    assert_string_equal(out, "Ssl_cipher|\nSsl_version|");
    assert_string_equal(
        sqlfx_q(&t.root, "SET require_secure_transport = ON"),
        "ERR 1229 Variable 'require_secure_transport' is a GLOBAL variable "
        "and should be set with SET GLOBAL");
    close_srv(&t);
}

/* Without TLS, the RSA exchange (when the caller offers it) is a full
 * authentication too: it fills the cache, and a bad password or an
 * undecryptable answer is 1045. */
static void test_sha2_rsa(void **state)
{
    (void)state;
    struct tlsfx t;
    bool full;
    open_srv(&t, true, false);
    t.rsa = true;
    sqlfx_q(&t.root, "CREATE USER u IDENTIFIED WITH caching_sha2_password "
                     "BY 'p1'");
    assert_int_equal(login(&t, "u", "bad", false, &full, NULL, NULL, 0),
                     1045);
    assert_true(full);
    /* The right password, but the stand-in cannot decrypt 3 bytes. */
    assert_int_equal(login(&t, "u", "p1", false, &full, NULL, NULL, 0),
                     1045);
    assert_int_equal(t.decrypts, 2);
    assert_int_equal(login(&t, "u", "p1x", false, &full, NULL, NULL, 0),
                     1045);
    sqlfx_q(&t.root, "ALTER USER u IDENTIFIED BY 'pass'");
    assert_int_equal(login(&t, "u", "pass", false, &full, NULL, NULL, 0), 0);
    assert_true(full);
    assert_int_equal(login(&t, "u", "pass", false, &full, NULL, NULL, 0), 0);
    assert_false(full); /* cached */
    assert_int_equal(t.decrypts, 4);
    close_srv(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha2_cache),
        cmocka_unit_test(test_sha2_no_cache),
        cmocka_unit_test(test_sha2_rsa),
        cmocka_unit_test(test_require_and_status),
    };
    return cmocka_run_group_tests_name("libsql/tls", tests, NULL, NULL);
}

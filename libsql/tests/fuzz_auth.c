/* fuzz_auth.c: libFuzzer target for caching_sha2_password's full
 * authentication (DESIGN.md "TLS and full authentication"): a login as an
 * uncached caching_sha2 account, then the fuzzer's bytes as the client's
 * next packets: over a simulated TLS upgrade (cleartext password) or
 * plain with the RSA exchange offered (key request, "ciphertext" through
 * a stand-in decrypt that reverses the bytes and refuses some lengths).
 * The first byte picks TLS (bit 0), whether require_tls is asked (bit 1)
 * and the fragment size the rest is fed in.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *ctx, const char *user, const char *host,
                  struct sql_account *a)
{
    (void)ctx;
    (void)user;
    (void)host;
    static uint8_t hash[32];
    static bool hashed;
    if (!hashed) { /* once: the target runs many times a second */
        sql_auth_sha2_hash("pw", 2, hash);
        hashed = true;
    }
    a->plugin = SQL_AUTH_CACHING_SHA2;
    a->has_password = true;
    memcpy(a->sha2_hash, hash, 32);
    a->sha2_cached = false;
    return 0;
}

static bool require_tls(void *ctx)
{
    return *(const bool *)ctx;
}

static void authenticated(void *ctx, bool full)
{
    (void)ctx;
    (void)full;
}

static int decrypt(void *ctx, const uint8_t *in, size_t len, uint8_t *out,
                   size_t *out_len)
{
    (void)ctx;
    if (len > *out_len || len % 7 == 3)
        return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = in[len - 1 - i];
    *out_len = len;
    return 0;
}

static int execute(void *ctx, struct sql_proto_conn *c,
                   const struct sql_command *cmd)
{
    (void)ctx;
    (void)cmd;
    struct sql_ok ok = {.status = SQL_SERVER_STATUS_AUTOCOMMIT};
    return sql_reply_ok(c, &ok);
}

/* Client packet: 3-byte length, sequence id, payload. */
static size_t frame(uint8_t *out, uint8_t seq, const uint8_t *p, size_t n)
{
    out[0] = (uint8_t)n;
    out[1] = (uint8_t)(n >> 8);
    out[2] = 0;
    out[3] = seq;
    memcpy(out + 4, p, n);
    return n + 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool tls = data[0] & 1;
    bool require = (data[0] & 2) != 0;
    size_t chunk = (size_t)(data[0] >> 2) % 13 + 1;
    data++;
    size--;
    struct sql_proto_options o;
    memset(&o, 0, sizeof o);
    o.connection_id = 1;
    o.tls_available = true;
    o.default_plugin = SQL_AUTH_CACHING_SHA2;
    o.auth.lookup = lookup;
    o.auth.ctx = &require;
    o.auth.require_tls = require_tls;
    o.auth.authenticated = authenticated;
    o.exec.execute = execute;
    o.rsa_public_pem = "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n";
    o.rsa_decrypt = decrypt;
    struct sql_proto_conn *c = sql_proto_conn_create(&o);
    if (c == NULL)
        return 0;
    uint8_t pkt[128], body[96];
    size_t n, used;
    uint8_t seq = 1;
    uint32_t caps = SQL_CLIENT_PROTOCOL_41 | SQL_CLIENT_SECURE_CONNECTION |
                    SQL_CLIENT_PLUGIN_AUTH;
    if (sql_proto_conn_start(c) != 0)
        goto out;
    (void)sql_proto_conn_output(c, &n);
    sql_proto_conn_consume(c, n);
    memset(body, 0, sizeof body);
    if (tls) {
        uint32_t ssl = caps | SQL_CLIENT_SSL;
        for (int i = 0; i < 4; i++)
            body[i] = (uint8_t)(ssl >> (8 * i));
        n = frame(pkt, seq++, body, 32);
        if (sql_proto_conn_feed(c, pkt, n, &used) != 0 ||
            !sql_proto_conn_want_tls(c) ||
            sql_proto_conn_tls_started(c) != 0)
            goto out;
    }
    /* HandshakeResponse41 as "u" with a 32-byte (wrong) scramble answer:
     * the account is uncached, so full authentication follows. */
    for (int i = 0; i < 4; i++)
        body[i] = (uint8_t)(caps >> (8 * i));
    size_t off = 32;
    memcpy(body + off, "u", 2);
    off += 2;
    body[off++] = 32;
    memset(body + off, 0x5A, 32);
    off += 32;
    memcpy(body + off, "caching_sha2_password", 22);
    off += 22;
    n = frame(pkt, seq, body, off);
    if (sql_proto_conn_feed(c, pkt, n, &used) != 0)
        goto out;
    while (size > 0 && !sql_proto_conn_want_close(c)) {
        size_t take = size < chunk ? size : chunk;
        used = 0;
        if (sql_proto_conn_feed(c, data, take, &used) != 0 || used == 0)
            break;
        (void)sql_proto_conn_output(c, &n);
        sql_proto_conn_consume(c, n);
        data += used;
        size -= used;
    }
out:
    sql_proto_conn_destroy(c);
    return 0;
}

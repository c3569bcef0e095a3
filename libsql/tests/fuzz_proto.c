/* fuzz_proto.c: libFuzzer target for the MySQL protocol engine. The first
 * input byte picks the phase: even = arbitrary bytes from the handshake on,
 * odd = after a valid login as root. The next byte sets the fragment size
 * the rest is fed in. A small executor answers every command with a fixed
 * shape (result sets in both protocols, prepares with parameters), so the
 * decoders of every command run. Any crash, leak or sanitizer report fails.
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
    (void)host;
    if (strcmp(user, "root") == 0) {
        a->plugin = SQL_AUTH_NATIVE;
        a->has_password = false;
        return 0;
    }
    a->plugin = user[0] == 'b' ? SQL_AUTH_CACHING_SHA2 : SQL_AUTH_NATIVE;
    a->has_password = true;
    sql_auth_native_hash("pw", 2, a->native_hash);
    sql_auth_sha2_hash("pw", 2, a->sha2_hash);
    a->sha2_cached = user[0] != 'c';
    return 0;
}

static int execute(void *ctx, struct sql_proto_conn *c,
                   const struct sql_command *cmd)
{
    (void)ctx;
    struct sql_ok ok = {.status = SQL_SERVER_STATUS_AUTOCOMMIT};
    struct sql_column cols[3];
    memset(cols, 0, sizeof cols);
    cols[0].name = "a";
    cols[0].type = SQL_TYPE_LONGLONG;
    cols[1].name = "b";
    cols[1].type = SQL_TYPE_DATETIME;
    cols[2].name = "c";
    cols[2].type = SQL_TYPE_VAR_STRING;
    struct sql_value v[3];
    memset(v, 0, sizeof v);
    switch (cmd->kind) {
    case SQL_CMD_STMT_CLOSE:
        return 0;
    case SQL_CMD_STATISTICS:
        return sql_reply_text(c, "ok", 2);
    case SQL_CMD_FIELD_LIST:
        (void)sql_reply_column(c, &cols[0]);
        return sql_reply_end(c, &ok);
    case SQL_CMD_STMT_PREPARE: {
        uint16_t np = (uint16_t)(cmd->text_len % 5);
        int rc = sql_reply_prepared(c, np, 1, 0);
        for (uint16_t i = 0; rc == 0 && i <= np; i++)
            rc = sql_reply_column(c, &cols[2]);
        return rc;
    }
    case SQL_CMD_QUERY:
    case SQL_CMD_STMT_EXECUTE:
        if (cmd->text_len % 3 == 1)
            return sql_reply_error(c, 1064, "42000", "no");
        if (sql_reply_columns(c, 3) != 0)
            return -1;
        for (int i = 0; i < 3; i++)
            (void)sql_reply_column(c, &cols[i]);
        /* Echo the first parameters back as values. */
        for (size_t i = 0; i < 3; i++) {
            if (i < cmd->nparams)
                v[i] = cmd->params[i].value;
            else
                v[i].kind = SQL_VALUE_NULL;
        }
        if (sql_reply_row(c, v, 3) == SQL_ETYPE) {
            v[0].kind = SQL_VALUE_INT;
            v[1].kind = SQL_VALUE_NULL;
            v[2].kind = SQL_VALUE_NULL;
            (void)sql_reply_row(c, v, 3);
        }
        if (cmd->multi_statements && cmd->text_len % 2 == 0) {
            ok.status |= SQL_SERVER_MORE_RESULTS_EXISTS;
            (void)sql_reply_end(c, &ok);
            ok.status = SQL_SERVER_STATUS_AUTOCOMMIT;
            return sql_reply_ok(c, &ok);
        }
        return sql_reply_end(c, &ok);
    default:
        return sql_reply_ok(c, &ok);
    }
}

/* A HandshakeResponse41 for root without a password, framed (seq 1). */
static size_t login_packet(uint8_t *out)
{
    uint8_t *p = out + 4;
    uint32_t caps = SQL_CLIENT_PROTOCOL_41 | SQL_CLIENT_SECURE_CONNECTION |
                    SQL_CLIENT_PLUGIN_AUTH | SQL_CLIENT_MULTI_STATEMENTS |
                    SQL_CLIENT_MULTI_RESULTS | SQL_CLIENT_DEPRECATE_EOF;
    for (int i = 0; i < 4; i++)
        *p++ = (uint8_t)(caps >> (8 * i));
    memset(p, 0, 4 + 1 + 23);
    p += 28;
    memcpy(p, "root", 5);
    p += 5;
    *p++ = 0; /* empty auth response */
    memcpy(p, "mysql_native_password", 22);
    p += 22;
    size_t len = (size_t)(p - out - 4);
    out[0] = (uint8_t)len;
    out[1] = 0;
    out[2] = 0;
    out[3] = 1;
    return len + 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct sql_proto_options o;
    memset(&o, 0, sizeof o);
    o.server_version = "8.0.11-fuzz";
    o.connection_id = 1;
    o.tls_available = true;
    o.max_allowed_packet = 1u << 20;
    o.default_plugin = data[0] & 2 ? SQL_AUTH_CACHING_SHA2 : SQL_AUTH_NATIVE;
    o.auth.lookup = lookup;
    o.exec.execute = execute;
    struct sql_proto_conn *c = sql_proto_conn_create(&o);
    if (c == NULL)
        return 0;
    size_t chunk = (size_t)data[1] % 17 + 1;
    size_t n;
    if (sql_proto_conn_start(c) != 0)
        goto out;
    if (data[0] & 1) {
        uint8_t login[64];
        size_t len = login_packet(login);
        if (sql_proto_conn_feed(c, login, len, NULL) != 0)
            goto out;
    }
    data += 2;
    size -= 2;
    while (size > 0 && !sql_proto_conn_want_close(c)) {
        size_t take = size < chunk ? size : chunk;
        size_t used = 0;
        if (sql_proto_conn_feed(c, data, take, &used) != 0)
            break;
        if (sql_proto_conn_want_tls(c))
            (void)sql_proto_conn_tls_started(c);
        else if (used == 0)
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

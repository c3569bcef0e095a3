/* proto.c: the MySQL protocol engine: packet framing and joining, the
 * handshake, authentication (native, caching_sha2, auth switch, TLS
 * upgrade) and command dispatch. Bytes in, bytes out; no I/O.
 * DESIGN.md "MySQL protocol" has the states and the byte tables; the
 * sources are the MySQL client/server protocol pages (Connection Phase,
 * Command Phase, Binary Protocol).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/platform_util.h>

#include "proto_int.h"

#define COM_QUIT 0x01
#define COM_INIT_DB 0x02
#define COM_QUERY 0x03
#define COM_FIELD_LIST 0x04
#define COM_STATISTICS 0x09
#define COM_PROCESS_KILL 0x0C
#define COM_PING 0x0E
#define COM_STMT_PREPARE 0x16
#define COM_STMT_EXECUTE 0x17
#define COM_STMT_SEND_LONG_DATA 0x18
#define COM_STMT_CLOSE 0x19
#define COM_STMT_RESET 0x1A
#define COM_SET_OPTION 0x1B
#define COM_RESET_CONNECTION 0x1F

#define SHA2_NEEDS_TLS                                                  \
    "caching_sha2_password full authentication needs a TLS connection " \
    "(RSA key exchange is not supported)"

static const char *const plugin_names[] = {
    "", "mysql_native_password", "caching_sha2_password"};

static char *dup_str(const char *s, size_t n)
{
    char *d = sql__malloc(n + 1);
    if (d != NULL) {
        if (n > 0)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

struct sql_proto_conn *sql_proto_conn_create(
    const struct sql_proto_options *opts)
{
    if (opts == NULL || opts->auth.lookup == NULL ||
        opts->exec.execute == NULL)
        return NULL;
    struct sql_proto_conn *c = sql__calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->opts = *opts;
    const char *ver = opts->server_version ? opts->server_version : "8.0.11";
    const char *host = opts->client_host ? opts->client_host : "localhost";
    c->server_version = dup_str(ver, strlen(ver));
    c->client_host = dup_str(host, strlen(host));
    c->user = dup_str("", 0);
    if (c->server_version == NULL || c->client_host == NULL ||
        c->user == NULL)
        goto err;
    c->opts.server_version = c->server_version;
    c->opts.client_host = c->client_host;
    if (c->opts.max_allowed_packet == 0)
        c->opts.max_allowed_packet = 64u << 20;
    /* utf8mb4_general_ci rather than MySQL 8's 255: every client library
     * knows 45, while some older ones refuse a greeting naming 255. */
    if (c->opts.charset == 0)
        c->opts.charset = SQL_CHARSET_UTF8MB4_GENERAL_CI;
    if (c->opts.default_plugin != SQL_AUTH_CACHING_SHA2)
        c->opts.default_plugin = SQL_AUTH_NATIVE;
    uint32_t caps = opts->capabilities ? opts->capabilities
                                       : SQL_PROTO_DEFAULT_CAPS;
    caps &= SQL_PROTO_DEFAULT_CAPS;
    if (!opts->tls_available)
        caps &= ~SQL_CLIENT_SSL;
    /* The engine speaks only protocol 4.1 with plugin-aware auth data. */
    caps |= SQL_CLIENT_PROTOCOL_41 | SQL_CLIENT_SECURE_CONNECTION;
    c->server_caps = caps;
    /* MySQL's nonce is 20 bytes in 1..127 without '$' (a NUL would end
     * the C string some clients read it as). */
    for (size_t i = 0; i < 20; i++) {
        uint8_t b = (uint8_t)(opts->scramble[i] & 0x7F);
        if (b == 0 || b == '$')
            b = (uint8_t)(b + 1);
        c->scramble[i] = b;
    }
    c->next_stmt_id = 1;
    c->status = SQL_SERVER_STATUS_AUTOCOMMIT;
    c->state = SQL__ST_NEW;
    return c;
err:
    sql__free(c->user);
    sql__free(c->client_host);
    sql__free(c->server_version);
    sql__free(c);
    return NULL;
}

static void stmt_clear(struct sql__stmt *s)
{
    if (s->longs != NULL)
        for (size_t i = 0; i < s->nparams; i++)
            sql__buf_free(&s->longs[i]);
    sql__free(s->longs);
    sql__free(s->has_long);
    sql__free(s->types);
    memset(s, 0, sizeof *s);
}

void sql_proto_conn_destroy(struct sql_proto_conn *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nstmts; i++)
        stmt_clear(&c->stmts[i]);
    sql__free(c->stmts);
    sql__free(c->params);
    sql__free(c->cols);
    sql__buf_free(&c->in);
    sql__buf_free(&c->pkt);
    sql__buf_free(&c->out);
    sql__free(c->user);
    sql__free(c->db);
    sql__free(c->pending_db);
    sql__free(c->client_host);
    sql__free(c->server_version);
    sql__free(c);
}

/* ------------------------------------------------------------------ */
/* Errors that end the connection. */

static int fail(struct sql_proto_conn *c, uint16_t code, const char *sqlstate,
                const char *msg)
{
    snprintf(c->errmsg, sizeof c->errmsg, "%u: %.240s", (unsigned)code, msg);
    int rc = sql__send_err(c, code, sqlstate, msg);
    c->state = SQL__ST_CLOSED;
    c->want_close = true;
    c->reply = SQL__R_NONE;
    return rc;
}

static int fail_malformed(struct sql_proto_conn *c)
{
    if (c->state < SQL__ST_AUTH_DB)
        return fail(c, 1043, "08S01", "Bad handshake");
    return fail(c, 1835, "HY000", "Malformed communication packet.");
}

static int deny(struct sql_proto_conn *c, bool used_password)
{
    char msg[512];
    snprintf(msg, sizeof msg,
             "Access denied for user '%s'@'%s' (using password: %s)",
             c->user, c->client_host, used_password ? "YES" : "NO");
    return fail(c, 1045, "28000", msg);
}

/* ------------------------------------------------------------------ */
/* Handshake. */

int sql_proto_conn_start(struct sql_proto_conn *c)
{
    if (c->state != SQL__ST_NEW)
        return SQL_ESTATE;
    size_t start;
    int rc = sql__pkt_begin(c, &start);
    if (rc != 0)
        return rc;
    struct sql__buf *b = &c->out;
    const char *plugin = plugin_names[c->opts.default_plugin];
    /* Protocol::HandshakeV10 (DESIGN.md has the byte table). */
    rc = sql__buf_u8(b, 10);
    rc = rc ? rc : sql__buf_cstr(b, c->server_version);
    rc = rc ? rc : sql__buf_u32(b, c->opts.connection_id);
    rc = rc ? rc : sql__buf_put(b, c->scramble, 8);
    rc = rc ? rc : sql__buf_u8(b, 0);
    rc = rc ? rc : sql__buf_u16(b, (uint16_t)(c->server_caps & 0xFFFF));
    rc = rc ? rc : sql__buf_u8(b, c->opts.charset);
    rc = rc ? rc : sql__buf_u16(b, c->status);
    rc = rc ? rc : sql__buf_u16(b, (uint16_t)(c->server_caps >> 16));
    rc = rc ? rc : sql__buf_u8(b, 21);
    static const uint8_t zeros[10];
    rc = rc ? rc : sql__buf_put(b, zeros, 10);
    rc = rc ? rc : sql__buf_put(b, c->scramble + 8, 12);
    rc = rc ? rc : sql__buf_u8(b, 0);
    rc = rc ? rc : sql__buf_cstr(b, plugin);
    c->out_seq = 0;
    rc = rc ? rc : sql__pkt_end(c, start);
    if (rc != 0) {
        c->out.len = start;
        return rc;
    }
    c->seq = 1;
    c->state = SQL__ST_GREETED;
    return 0;
}

int sql_proto_conn_reject(struct sql_proto_conn *c, uint16_t code,
                          const char *sqlstate, const char *msg)
{
    if (c->state != SQL__ST_NEW)
        return SQL_ESTATE;
    c->out_seq = 0;
    return fail(c, code, sqlstate, msg);
}

static int plugin_by_name(const char *name, size_t len)
{
    for (int i = SQL_AUTH_NATIVE; i <= SQL_AUTH_CACHING_SHA2; i++)
        if (strlen(plugin_names[i]) == len &&
            memcmp(plugin_names[i], name, len) == 0)
            return i;
    return 0;
}

static int send_raw(struct sql_proto_conn *c, const void *p1, size_t n1,
                    const void *p2, size_t n2)
{
    size_t start;
    int rc = sql__pkt_begin(c, &start);
    rc = rc ? rc : sql__buf_put(&c->out, p1, n1);
    rc = rc ? rc : sql__buf_put(&c->out, p2, n2);
    rc = rc ? rc : sql__pkt_end(c, start);
    if (rc != 0)
        c->out.len = start;
    /* The client's answer continues the exchange's numbering. */
    c->seq = c->out_seq;
    return rc;
}

/* Authentication succeeded: OK, or first switch to the handshake's db
 * (c->pending_db) through the executor. */
static int auth_ok(struct sql_proto_conn *c);

/* The caller does MySQL's RSA key exchange for caching_sha2. */
static bool rsa_ok(const struct sql_proto_conn *c)
{
    return c->opts.rsa_public_pem != NULL && c->opts.rsa_decrypt != NULL;
}

/* Check an auth response for the plugin in use. */
static int auth_check(struct sql_proto_conn *c, const uint8_t *tok,
                      size_t len)
{
    bool used = len > 0;
    if (!c->acct_found)
        return deny(c, used);
    if (!c->acct.has_password)
        return len == 0 ? auth_ok(c) : deny(c, used);
    if (len == 0)
        return deny(c, used);
    if (c->plugin == SQL_AUTH_NATIVE)
        return sql__auth_native_check(c->scramble, c->acct.native_hash, tok,
                                      len)
                   ? auth_ok(c)
                   : deny(c, used);
    if (!c->acct.sha2_cached) {
        /* Full authentication needs the password in clear, so TLS or the
         * RSA exchange. Without either say so now: after 0x04 a client
         * without TLS asks for an RSA key and reports its own error about
         * that instead of this one. */
        if (!c->tls && !rsa_ok(c))
            return fail(c, 1251, "08004", SHA2_NEEDS_TLS);
        /* AuthMoreData perform_full_authentication (0x04). */
        static const uint8_t more[2] = {0x01, 0x04};
        int rc = send_raw(c, more, 2, NULL, 0);
        if (rc == 0)
            c->state = SQL__ST_SHA2_FULL;
        return rc;
    }
    if (!sql__auth_sha2_check(c->scramble, c->acct.sha2_hash, tok, len))
        return deny(c, used);
    /* AuthMoreData fast_auth_success (0x03), then OK. */
    static const uint8_t fast[2] = {0x01, 0x03};
    int rc = send_raw(c, fast, 2, NULL, 0);
    return rc ? rc : auth_ok(c);
}

static int run_command(struct sql_proto_conn *c, struct sql_command *cmd);

static int auth_ok(struct sql_proto_conn *c)
{
    if (c->opts.auth.authenticated != NULL)
        c->opts.auth.authenticated(c->opts.auth.ctx, c->full_auth);
    if (c->pending_db != NULL) {
        struct sql_command cmd;
        memset(&cmd, 0, sizeof cmd);
        cmd.kind = SQL_CMD_INIT_DB;
        cmd.text = c->pending_db;
        cmd.text_len = strlen(c->pending_db);
        cmd.user = c->user;
        c->state = SQL__ST_AUTH_DB;
        return run_command(c, &cmd);
    }
    struct sql_ok ok;
    memset(&ok, 0, sizeof ok);
    ok.status = c->status;
    int rc = sql__send_ok(c, 0x00, &ok);
    if (rc == 0) {
        c->state = SQL__ST_IDLE;
        c->seq = 0;
    }
    return rc;
}

/* Protocol::HandshakeResponse41, or the 32-byte SSLRequest prefix. */
static int on_handshake_response(struct sql_proto_conn *c, const uint8_t *p,
                                 size_t len)
{
    struct sql__rd r;
    sql__rd_init(&r, p, len);
    uint32_t caps = sql__rd_u32(&r);
    (void)sql__rd_u32(&r); /* client's max packet size: informational */
    uint8_t charset = sql__rd_u8(&r); /* for the executor's session */
    (void)sql__rd_bytes(&r, 23);
    if (r.bad || !(caps & SQL_CLIENT_PROTOCOL_41))
        return fail_malformed(c);
    if (sql__rd_left(&r) == 0 && (caps & SQL_CLIENT_SSL)) {
        if (!(c->server_caps & SQL_CLIENT_SSL) || c->tls)
            return fail_malformed(c);
        c->state = SQL__ST_TLS_WAIT;
        return 0;
    }
    bool require = c->opts.require_tls ||
                   (c->opts.auth.require_tls != NULL &&
                    c->opts.auth.require_tls(c->opts.auth.ctx));
    if (require && !c->tls)
        return fail(c, 3159, "HY000",
                    "Connections using insecure transport are prohibited "
                    "while --require_secure_transport=ON.");
    caps &= c->server_caps;
    if (!c->tls)
        caps &= ~SQL_CLIENT_SSL;
    c->caps = caps;
    c->client_charset = charset;
    c->multi_statements = (caps & SQL_CLIENT_MULTI_STATEMENTS) != 0;
    size_t ulen, alen = 0, dlen = 0, plen = 0;
    const char *user = sql__rd_cstr(&r, &ulen);
    const uint8_t *auth = NULL;
    if (caps & SQL_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
        auth = sql__rd_lenenc_str(&r, &alen);
    } else if (caps & SQL_CLIENT_SECURE_CONNECTION) {
        alen = sql__rd_u8(&r);
        auth = sql__rd_bytes(&r, alen);
    } else {
        auth = (const uint8_t *)sql__rd_cstr(&r, &alen);
    }
    const char *db = NULL;
    if ((caps & SQL_CLIENT_CONNECT_WITH_DB) && sql__rd_left(&r) > 0)
        db = sql__rd_cstr(&r, &dlen);
    const char *plugin = NULL;
    if ((caps & SQL_CLIENT_PLUGIN_AUTH) && sql__rd_left(&r) > 0)
        plugin = sql__rd_cstr(&r, &plen);
    if ((caps & SQL_CLIENT_CONNECT_ATTRS) && sql__rd_left(&r) > 0) {
        /* Key/value pairs of length-encoded strings; checked, not kept. */
        size_t alen2;
        const uint8_t *attrs = sql__rd_lenenc_str(&r, &alen2);
        struct sql__rd ar;
        sql__rd_init(&ar, attrs, attrs ? alen2 : 0);
        while (!r.bad && !ar.bad && sql__rd_left(&ar) > 0) {
            size_t n;
            (void)sql__rd_lenenc_str(&ar, &n);
            (void)sql__rd_lenenc_str(&ar, &n);
        }
        if (ar.bad)
            r.bad = true;
    }
    if (r.bad || ulen > 255 || dlen > 255 || memchr(user, 0, ulen) != NULL)
        return fail_malformed(c);
    char *u = dup_str(user, ulen);
    if (u == NULL)
        return -ENOMEM;
    sql__free(c->user);
    c->user = u;
    if (db != NULL && dlen > 0) {
        c->pending_db = dup_str(db, dlen);
        if (c->pending_db == NULL)
            return -ENOMEM;
    }
    int client_plugin = SQL_AUTH_NATIVE;
    if (plugin != NULL)
        client_plugin = plugin_by_name(plugin, plen);

    memset(&c->acct, 0, sizeof c->acct);
    int rc = c->opts.auth.lookup(c->opts.auth.ctx, c->user, c->client_host,
                                 &c->acct);
    c->acct_found = rc == 0;
    if (c->acct_found && c->acct.plugin != SQL_AUTH_NATIVE &&
        c->acct.plugin != SQL_AUTH_CACHING_SHA2)
        c->acct.plugin = c->opts.default_plugin;
    if (c->acct_found)
        c->plugin = c->acct.plugin;
    else
        c->plugin = client_plugin ? client_plugin : c->opts.default_plugin;

    if (client_plugin != c->plugin) {
        /* Protocol::AuthSwitchRequest: 0xFE, plugin name, nonce + NUL. */
        if (!(caps & SQL_CLIENT_PLUGIN_AUTH))
            return fail(c, 1251, "08004",
                        "Client does not support authentication protocol "
                        "requested by server; consider upgrading MySQL "
                        "client");
        size_t start;
        rc = sql__pkt_begin(c, &start);
        rc = rc ? rc : sql__buf_u8(&c->out, 0xFE);
        rc = rc ? rc : sql__buf_cstr(&c->out, plugin_names[c->plugin]);
        rc = rc ? rc : sql__buf_put(&c->out, c->scramble, 20);
        rc = rc ? rc : sql__buf_u8(&c->out, 0);
        rc = rc ? rc : sql__pkt_end(c, start);
        if (rc != 0) {
            c->out.len = start;
            return rc;
        }
        c->state = SQL__ST_AUTH_SWITCH;
        c->seq = c->out_seq;
        return 0;
    }
    return auth_check(c, auth, alen);
}

/* caching_sha2_password full authentication: over TLS the client sends
 * its password in clear, NUL-terminated; without TLS it asks for the
 * server's RSA public key (0x02, answered with AuthMoreData and the PEM)
 * and sends RSA-OAEP(password NUL XOR nonce repeated), which the caller's
 * rsa_decrypt opens (DESIGN.md "TLS and full authentication"). */
static int on_sha2_full(struct sql_proto_conn *c, const uint8_t *p,
                        size_t len)
{
    uint8_t clear[512];
    if (!c->tls) {
        if (!rsa_ok(c)) /* not reached: auth_check refuses first */
            return fail(c, 1251, "08004", SHA2_NEEDS_TLS);
        if (len == 1 && p[0] == 0x02) {
            static const uint8_t more = 0x01;
            return send_raw(c, &more, 1, c->opts.rsa_public_pem,
                            strlen(c->opts.rsa_public_pem));
        }
        size_t n = sizeof(clear);
        if (len == 0 ||
            c->opts.rsa_decrypt(c->opts.rsa_ctx, p, len, clear, &n) != 0 ||
            n > sizeof(clear))
            return deny(c, len > 0);
        for (size_t i = 0; i < n; i++)
            clear[i] ^= c->scramble[i % 20];
        p = clear;
        len = n;
    }
    if (len > 0 && p[len - 1] == 0)
        len--;
    bool good = len > 0 && c->acct_found && c->acct.has_password &&
                sql__auth_sha2_check_clear(c->acct.sha2_hash,
                                           (const char *)p, len);
    mbedtls_platform_zeroize(clear, sizeof(clear));
    if (!good)
        return deny(c, len > 0);
    c->full_auth = true;
    return auth_ok(c);
}

/* ------------------------------------------------------------------ */
/* Packet input. */

/* Take the next whole (joined) packet into c->pkt: 1 when there is one, 0
 * when more input is needed, or after a protocol error (then the state is
 * CLOSED), <0 on -ENOMEM. */
static int next_packet(struct sql_proto_conn *c)
{
    bool preauth = c->state < SQL__ST_AUTH_DB;
    size_t limit = preauth ? SQL__PREAUTH_MAX : c->opts.max_allowed_packet;
    for (;;) {
        size_t avail = c->in.len - c->in_off;
        if (avail < 4)
            return 0;
        const uint8_t *h = c->in.p + c->in_off;
        size_t len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
        uint8_t seq = h[3];
        if (!c->joining) {
            c->pkt.len = 0;
            if (c->state == SQL__ST_IDLE)
                c->seq = 0; /* every command starts a new exchange */
        }
        if (seq != c->seq) {
            c->out_seq = c->seq;
            int rc = fail(c, 1156, "08S01", "Got packets out of order");
            return rc < 0 ? rc : 0;
        }
        if (len > limit || c->pkt.len + len > limit) {
            c->out_seq = (uint8_t)(seq + 1);
            int rc = preauth ? fail(c, 1043, "08S01", "Bad handshake")
                             : fail(c, 1153, "08S01",
                                    "Got a packet bigger than "
                                    "'max_allowed_packet' bytes");
            return rc < 0 ? rc : 0;
        }
        if (avail - 4 < len)
            return 0;
        int rc = sql__buf_put(&c->pkt, h + 4, len);
        if (rc != 0)
            return rc;
        c->in_off += 4 + len;
        c->seq++;
        if (len == SQL__PKT_MAX) {
            c->joining = true;
            continue;
        }
        c->joining = false;
        c->out_seq = c->seq;
        return 1;
    }
}

/* How many more bytes complete the packet at c->in_off (at least 1). */
static size_t bytes_to_packet_end(const struct sql_proto_conn *c)
{
    size_t avail = c->in.len - c->in_off;
    if (avail < 4)
        return 4 - avail;
    const uint8_t *h = c->in.p + c->in_off;
    size_t len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16;
    return avail - 4 < len ? 4 + len - avail : 1;
}

/* ------------------------------------------------------------------ */
/* Prepared statements. */

struct sql__stmt *sql__stmt_find(struct sql_proto_conn *c, uint32_t id)
{
    for (size_t i = 0; i < c->nstmts; i++)
        if (c->stmts[i].id == id && id != 0)
            return &c->stmts[i];
    return NULL;
}

static size_t stmt_count(const struct sql_proto_conn *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nstmts; i++)
        n += c->stmts[i].id != 0;
    return n;
}

int sql__stmt_add(struct sql_proto_conn *c, uint32_t id, uint16_t nparams,
                  uint16_t ncolumns)
{
    struct sql__stmt *s = NULL;
    for (size_t i = 0; s == NULL && i < c->nstmts; i++)
        if (c->stmts[i].id == 0)
            s = &c->stmts[i];
    if (s == NULL) {
        size_t n = c->nstmts ? c->nstmts * 2 : 8;
        struct sql__stmt *a = sql__realloc(c->stmts, n * sizeof *a);
        if (a == NULL)
            return -ENOMEM;
        memset(a + c->nstmts, 0, (n - c->nstmts) * sizeof *a);
        s = &a[c->nstmts];
        c->stmts = a;
        c->nstmts = n;
    }
    if (nparams > 0) {
        s->types = sql__calloc(nparams, 2);
        s->longs = sql__calloc(nparams, sizeof *s->longs);
        s->has_long = sql__calloc(nparams, sizeof *s->has_long);
        if (s->types == NULL || s->longs == NULL || s->has_long == NULL) {
            stmt_clear(s);
            return -ENOMEM;
        }
    }
    s->id = id;
    s->nparams = nparams;
    s->ncolumns = ncolumns;
    return 0;
}

void sql__stmt_forget(struct sql_proto_conn *c, uint32_t id)
{
    struct sql__stmt *s = sql__stmt_find(c, id);
    if (s != NULL)
        stmt_clear(s);
}

static void stmt_reset_longs(struct sql__stmt *s)
{
    for (size_t i = 0; i < s->nparams; i++) {
        sql__buf_free(&s->longs[i]);
        s->has_long[i] = false;
    }
    s->long_error = false;
}

/* Drop a statement and tell the executor (a notification, no answer). */
static void stmt_close(struct sql_proto_conn *c, struct sql__stmt *s)
{
    struct sql_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.kind = SQL_CMD_STMT_CLOSE;
    cmd.stmt_id = s->id;
    cmd.user = c->user;
    stmt_clear(s);
    (void)c->opts.exec.execute(c->opts.exec.ctx, c, &cmd);
}

/* ------------------------------------------------------------------ */
/* Command dispatch. */

static int run_command(struct sql_proto_conn *c, struct sql_command *cmd)
{
    if (c->state != SQL__ST_AUTH_DB)
        c->state = SQL__ST_BUSY;
    c->reply = SQL__R_START;
    c->cmd_kind = cmd->kind;
    c->binary_rows = cmd->kind == SQL_CMD_STMT_EXECUTE;
    c->prep_id = cmd->stmt_id;
    cmd->user = c->user;
    size_t before = c->out.len;
    int rc = c->opts.exec.execute(c->opts.exec.ctx, c, cmd);
    if (rc == 0 || c->reply == SQL__R_NONE)
        return 0;
    if (c->reply == SQL__R_START && c->out.len == before) {
        /* Nothing written: answer for the executor. */
        int rc2 = sql_reply_error(c, 1105, "HY000", sql_strerror(rc));
        return rc2 == -ENOMEM ? rc2 : 0;
    }
    /* A half-written answer: end it with an ERR (clients read one in
     * place of any packet of an answer); if even that fails, the client
     * would hang waiting, so close. */
    snprintf(c->errmsg, sizeof c->errmsg,
             "executor failed mid-answer: %s", sql_strerror(rc));
    int rc2 = sql_reply_error(c, 1105, "HY000", sql_strerror(rc));
    if (rc2 != 0) {
        c->state = SQL__ST_CLOSED;
        c->want_close = true;
        c->reply = SQL__R_NONE;
    }
    return 0;
}

void sql__reply_done(struct sql_proto_conn *c, bool ok)
{
    c->reply = SQL__R_NONE;
    if (c->cmd_kind == SQL_CMD_INIT_DB && ok && c->pending_db != NULL) {
        sql__free(c->db);
        c->db = c->pending_db;
        c->pending_db = NULL;
    }
    sql__free(c->pending_db);
    c->pending_db = NULL;
    if (c->cmd_kind == SQL_CMD_STMT_EXECUTE) {
        struct sql__stmt *s = sql__stmt_find(c, c->prep_id);
        if (s != NULL)
            stmt_reset_longs(s);
    }
    if (c->state == SQL__ST_AUTH_DB && !ok) {
        c->state = SQL__ST_CLOSED;
        c->want_close = true;
        return;
    }
    if (c->state == SQL__ST_BUSY || c->state == SQL__ST_AUTH_DB) {
        c->state = SQL__ST_IDLE;
        c->seq = 0;
    }
}

static int decode_param(struct sql__rd *r, struct sql_param *p)
{
    struct sql_value *v = &p->value;
    bool u = p->is_unsigned;
    switch (p->type) {
    case SQL_TYPE_NULL:
        v->kind = SQL_VALUE_NULL;
        return 0;
    case SQL_TYPE_TINY: {
        uint8_t x = sql__rd_u8(r);
        v->kind = u ? SQL_VALUE_UINT : SQL_VALUE_INT;
        if (u)
            v->v.u = x;
        else
            v->v.i = (int8_t)x;
        return 0;
    }
    case SQL_TYPE_SHORT:
    case SQL_TYPE_YEAR: {
        uint16_t x = sql__rd_u16(r);
        v->kind = u ? SQL_VALUE_UINT : SQL_VALUE_INT;
        if (u)
            v->v.u = x;
        else
            v->v.i = (int16_t)x;
        return 0;
    }
    case SQL_TYPE_LONG:
    case SQL_TYPE_INT24: {
        uint32_t x = sql__rd_u32(r);
        v->kind = u ? SQL_VALUE_UINT : SQL_VALUE_INT;
        if (u)
            v->v.u = x;
        else
            v->v.i = (int32_t)x;
        return 0;
    }
    case SQL_TYPE_LONGLONG: {
        uint64_t x = sql__rd_u64(r);
        v->kind = u ? SQL_VALUE_UINT : SQL_VALUE_INT;
        if (u)
            v->v.u = x;
        else
            v->v.i = (int64_t)x;
        return 0;
    }
    case SQL_TYPE_FLOAT: {
        uint32_t x = sql__rd_u32(r);
        float f;
        memcpy(&f, &x, 4);
        v->kind = SQL_VALUE_DOUBLE;
        v->v.d = f;
        return 0;
    }
    case SQL_TYPE_DOUBLE: {
        uint64_t x = sql__rd_u64(r);
        v->kind = SQL_VALUE_DOUBLE;
        memcpy(&v->v.d, &x, 8);
        return 0;
    }
    case SQL_TYPE_DATE:
    case SQL_TYPE_DATETIME:
    case SQL_TYPE_TIMESTAMP:
    case SQL_TYPE_NEWDATE: {
        uint8_t n = sql__rd_u8(r);
        v->kind = SQL_VALUE_DATETIME;
        memset(&v->v.t, 0, sizeof v->v.t);
        if (n != 0 && n != 4 && n != 7 && n != 11)
            return -1;
        if (n >= 4) {
            v->v.t.year = sql__rd_u16(r);
            v->v.t.month = sql__rd_u8(r);
            v->v.t.day = sql__rd_u8(r);
        }
        if (n >= 7) {
            v->v.t.hour = sql__rd_u8(r);
            v->v.t.minute = sql__rd_u8(r);
            v->v.t.second = sql__rd_u8(r);
        }
        if (n == 11)
            v->v.t.micro = sql__rd_u32(r);
        return 0;
    }
    case SQL_TYPE_TIME: {
        uint8_t n = sql__rd_u8(r);
        v->kind = SQL_VALUE_TIME;
        memset(&v->v.t, 0, sizeof v->v.t);
        if (n != 0 && n != 8 && n != 12)
            return -1;
        if (n >= 8) {
            v->v.t.negative = sql__rd_u8(r) != 0;
            uint32_t days = sql__rd_u32(r);
            uint8_t h = sql__rd_u8(r);
            if (days > 1000000)
                return -1;
            v->v.t.hour = days * 24 + h;
            v->v.t.minute = sql__rd_u8(r);
            v->v.t.second = sql__rd_u8(r);
        }
        if (n == 12)
            v->v.t.micro = sql__rd_u32(r);
        return 0;
    }
    case SQL_TYPE_DECIMAL:
    case SQL_TYPE_NEWDECIMAL:
    case SQL_TYPE_VARCHAR:
    case SQL_TYPE_BIT:
    case SQL_TYPE_JSON:
    case SQL_TYPE_ENUM:
    case SQL_TYPE_SET:
    case SQL_TYPE_TINY_BLOB:
    case SQL_TYPE_MEDIUM_BLOB:
    case SQL_TYPE_LONG_BLOB:
    case SQL_TYPE_BLOB:
    case SQL_TYPE_VAR_STRING:
    case SQL_TYPE_STRING:
    case SQL_TYPE_GEOMETRY: {
        size_t n = 0;
        const uint8_t *s = sql__rd_lenenc_str(r, &n);
        v->kind = SQL_VALUE_BYTES;
        v->v.s.p = (const char *)s;
        v->v.s.len = s ? n : 0;
        return 0;
    }
    default:
        return -1;
    }
}

static int unknown_stmt(struct sql_proto_conn *c, uint32_t id,
                        const char *where)
{
    char msg[128];
    snprintf(msg, sizeof msg,
             "Unknown prepared statement handler (%u) given to %s",
             (unsigned)id, where);
    return sql__send_err(c, 1243, "HY000", msg);
}

/* COM_STMT_EXECUTE: stmt_id(4) flags(1) iterations(4) [null bitmap,
 * new_params_bound(1), types(2 each) if bound, values]. */
static int on_execute(struct sql_proto_conn *c, struct sql__rd *r)
{
    uint32_t id = sql__rd_u32(r);
    uint8_t flags = sql__rd_u8(r);
    (void)sql__rd_u32(r); /* iteration count: always 1 */
    if (r->bad)
        return fail_malformed(c);
    struct sql__stmt *s = sql__stmt_find(c, id);
    if (s == NULL)
        return unknown_stmt(c, id, "mysqld_stmt_execute");
    size_t n = s->nparams;
    if (n > c->params_cap) {
        struct sql_param *a = sql__realloc(c->params, n * sizeof *a);
        if (a == NULL)
            return -ENOMEM;
        c->params = a;
        c->params_cap = n;
    }
    if (n > 0) {
        const uint8_t *nulls = sql__rd_bytes(r, (n + 7) / 8);
        uint8_t bound = sql__rd_u8(r);
        if (r->bad)
            return fail_malformed(c);
        if (bound) {
            const uint8_t *types = sql__rd_bytes(r, 2 * n);
            if (types == NULL)
                return fail_malformed(c);
            memcpy(s->types, types, 2 * n);
            s->types_bound = true;
        }
        if (!s->types_bound || s->long_error) {
            stmt_reset_longs(s);
            return sql__send_err(c, 1210, "HY000",
                                 "Incorrect arguments to mysqld_stmt_execute");
        }
        for (size_t i = 0; i < n; i++) {
            struct sql_param *p = &c->params[i];
            memset(p, 0, sizeof *p);
            p->type = s->types[2 * i];
            p->is_unsigned = (s->types[2 * i + 1] & 0x80) != 0;
            if (nulls[i / 8] & (1u << (i % 8))) {
                p->value.kind = SQL_VALUE_NULL;
            } else if (s->has_long[i]) {
                p->value.kind = SQL_VALUE_BYTES;
                p->value.v.s.p = (const char *)s->longs[i].p;
                p->value.v.s.len = s->longs[i].len;
            } else if (decode_param(r, p) != 0 || r->bad) {
                stmt_reset_longs(s);
                return fail_malformed(c);
            }
        }
    }
    struct sql_command cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.kind = SQL_CMD_STMT_EXECUTE;
    cmd.stmt_id = id;
    cmd.params = n ? c->params : NULL;
    cmd.nparams = n;
    cmd.cursor_flags = flags;
    return run_command(c, &cmd);
}

static int on_command(struct sql_proto_conn *c)
{
    if (c->pkt.len == 0)
        return fail_malformed(c);
    struct sql__rd r;
    sql__rd_init(&r, c->pkt.p + 1, c->pkt.len - 1);
    const char *rest = (const char *)c->pkt.p + 1;
    size_t rest_len = c->pkt.len - 1;
    struct sql_command cmd;
    memset(&cmd, 0, sizeof cmd);
    struct sql_ok ok;
    memset(&ok, 0, sizeof ok);
    ok.status = c->status;

    switch (c->pkt.p[0]) {
    case COM_QUIT:
        c->state = SQL__ST_CLOSED;
        c->want_close = true;
        return 0;
    case COM_PING:
        return sql__send_ok(c, 0x00, &ok);
    case COM_INIT_DB:
        if (memchr(rest, 0, rest_len) != NULL)
            return fail_malformed(c);
        sql__free(c->pending_db);
        c->pending_db = dup_str(rest, rest_len);
        if (c->pending_db == NULL)
            return -ENOMEM;
        cmd.kind = SQL_CMD_INIT_DB;
        cmd.text = c->pending_db;
        cmd.text_len = rest_len;
        return run_command(c, &cmd);
    case COM_QUERY:
        cmd.kind = SQL_CMD_QUERY;
        cmd.text = rest;
        cmd.text_len = rest_len;
        cmd.multi_statements = c->multi_statements;
        return run_command(c, &cmd);
    case COM_FIELD_LIST: {
        cmd.kind = SQL_CMD_FIELD_LIST;
        cmd.text = sql__rd_cstr(&r, &cmd.text_len);
        if (r.bad)
            return fail_malformed(c);
        cmd.wildcard = rest + r.off;
        cmd.wildcard_len = sql__rd_left(&r);
        return run_command(c, &cmd);
    }
    case COM_STATISTICS:
        cmd.kind = SQL_CMD_STATISTICS;
        return run_command(c, &cmd);
    case COM_PROCESS_KILL:
        cmd.kind = SQL_CMD_PROCESS_KILL;
        cmd.kill_id = sql__rd_u32(&r);
        if (r.bad)
            return fail_malformed(c);
        return run_command(c, &cmd);
    case COM_STMT_PREPARE:
        if (stmt_count(c) >= SQL__MAX_STMTS)
            return sql__send_err(c, 1461, "42000",
                                 "Can't create more than "
                                 "max_prepared_stmt_count statements "
                                 "(current value: 16382)");
        cmd.kind = SQL_CMD_STMT_PREPARE;
        cmd.text = rest;
        cmd.text_len = rest_len;
        cmd.stmt_id = c->next_stmt_id++;
        if (c->next_stmt_id == 0)
            c->next_stmt_id = 1;
        return run_command(c, &cmd);
    case COM_STMT_EXECUTE:
        return on_execute(c, &r);
    case COM_STMT_SEND_LONG_DATA: {
        /* stmt_id(4) param_id(2) data: no answer, errors show at
         * execute (as in MySQL). */
        uint32_t id = sql__rd_u32(&r);
        uint16_t param = sql__rd_u16(&r);
        if (r.bad)
            return fail_malformed(c);
        struct sql__stmt *s = sql__stmt_find(c, id);
        if (s == NULL)
            return 0;
        if (param >= s->nparams) {
            s->long_error = true;
            return 0;
        }
        size_t n = sql__rd_left(&r);
        if (s->longs[param].len + n > c->opts.max_allowed_packet) {
            s->long_error = true;
            return 0;
        }
        s->has_long[param] = true;
        return sql__buf_put(&s->longs[param], rest + r.off, n);
    }
    case COM_STMT_CLOSE: {
        uint32_t id = sql__rd_u32(&r);
        if (r.bad)
            return fail_malformed(c);
        struct sql__stmt *s = sql__stmt_find(c, id);
        if (s != NULL)
            stmt_close(c, s);
        return 0;
    }
    case COM_STMT_RESET: {
        uint32_t id = sql__rd_u32(&r);
        if (r.bad)
            return fail_malformed(c);
        struct sql__stmt *s = sql__stmt_find(c, id);
        if (s == NULL)
            return unknown_stmt(c, id, "mysqld_stmt_reset");
        stmt_reset_longs(s);
        return sql__send_ok(c, 0x00, &ok);
    }
    case COM_SET_OPTION: {
        uint16_t opt = sql__rd_u16(&r);
        if (r.bad)
            return fail_malformed(c);
        if (opt > 1)
            return sql__send_err(c, 1047, "08S01", "Unknown command");
        c->multi_statements = opt == 0;
        if (c->multi_statements)
            c->caps |= SQL_CLIENT_MULTI_STATEMENTS;
        else
            c->caps &= ~SQL_CLIENT_MULTI_STATEMENTS;
        return sql__send_end(c, &ok);
    }
    case COM_RESET_CONNECTION:
        for (size_t i = 0; i < c->nstmts; i++)
            if (c->stmts[i].id != 0)
                stmt_close(c, &c->stmts[i]);
        cmd.kind = SQL_CMD_RESET_CONNECTION;
        return run_command(c, &cmd);
    default:
        return sql__send_err(c, 1047, "08S01", "Unknown command");
    }
}

/* Run every whole packet the state allows. */
static int process(struct sql_proto_conn *c)
{
    int rc = 0;
    for (;;) {
        int st = c->state;
        if (st != SQL__ST_GREETED && st != SQL__ST_AUTH_SWITCH &&
            st != SQL__ST_SHA2_FULL && st != SQL__ST_IDLE)
            break;
        rc = next_packet(c);
        if (rc <= 0)
            break;
        const uint8_t *p = c->pkt.p;
        size_t len = c->pkt.len;
        if (st == SQL__ST_GREETED)
            rc = on_handshake_response(c, p, len);
        else if (st == SQL__ST_AUTH_SWITCH)
            rc = auth_check(c, p, len);
        else if (st == SQL__ST_SHA2_FULL)
            rc = on_sha2_full(c, p, len);
        else
            rc = on_command(c);
        if (rc != 0)
            break;
    }
    /* Compact the input once most of it is parsed. */
    if (c->in_off > 0 && (c->in_off == c->in.len || c->in_off > 4096)) {
        sql__buf_drop(&c->in, c->in_off);
        c->in_off = 0;
    }
    if (rc < 0) {
        c->state = SQL__ST_CLOSED;
        c->want_close = true;
        snprintf(c->errmsg, sizeof c->errmsg, "%s", sql_strerror(rc));
        return rc;
    }
    return 0;
}

int sql_proto_conn_feed(struct sql_proto_conn *c, const void *data,
                        size_t len, size_t *consumed)
{
    const uint8_t *p = data;
    size_t used = 0;
    int rc = 0;
    if (consumed != NULL)
        *consumed = 0;
    if (c->state == SQL__ST_NEW)
        return SQL_ESTATE;
    if (c->state == SQL__ST_CLOSED) {
        if (consumed != NULL)
            *consumed = len;
        return 0;
    }
    if (len == 0)
        return process(c);
    while (used < len && c->state != SQL__ST_TLS_WAIT &&
           c->state != SQL__ST_CLOSED) {
        /* Before authentication, take no byte past the packet being
         * read: the bytes after an SSL request belong to TLS. */
        size_t n = len - used;
        if (c->state == SQL__ST_GREETED) {
            size_t need = bytes_to_packet_end(c);
            if (need < n)
                n = need;
        }
        rc = sql__buf_put(&c->in, p + used, n);
        if (rc != 0) {
            c->state = SQL__ST_CLOSED;
            c->want_close = true;
            break;
        }
        used += n;
        rc = process(c);
        if (rc != 0)
            break;
    }
    if (c->state == SQL__ST_CLOSED && rc == 0)
        used = len;
    if (consumed != NULL)
        *consumed = used;
    return rc;
}

int sql_proto_conn_tls_started(struct sql_proto_conn *c)
{
    if (c->state != SQL__ST_TLS_WAIT)
        return SQL_ESTATE;
    c->tls = true;
    c->state = SQL__ST_GREETED;
    return process(c);
}

const uint8_t *sql_proto_conn_output(const struct sql_proto_conn *c,
                                     size_t *len)
{
    *len = c->out.len - c->out_off;
    return *len ? c->out.p + c->out_off : NULL;
}

void sql_proto_conn_consume(struct sql_proto_conn *c, size_t n)
{
    size_t avail = c->out.len - c->out_off;
    c->out_off += n < avail ? n : avail;
    if (c->out_off == c->out.len) {
        c->out.len = 0;
        c->out_off = 0;
    } else if (c->out_off > 65536 && c->out_off > c->out.len / 2) {
        sql__buf_drop(&c->out, c->out_off);
        c->out_off = 0;
    }
}

bool sql_proto_conn_want_close(const struct sql_proto_conn *c)
{
    return c->want_close;
}

bool sql_proto_conn_want_tls(const struct sql_proto_conn *c)
{
    return c->state == SQL__ST_TLS_WAIT;
}

bool sql_proto_conn_busy(const struct sql_proto_conn *c)
{
    return c->state == SQL__ST_BUSY || c->state == SQL__ST_AUTH_DB;
}

bool sql_proto_conn_authenticated(const struct sql_proto_conn *c)
{
    return c->state == SQL__ST_IDLE || c->state == SQL__ST_BUSY;
}

const char *sql_proto_conn_user(const struct sql_proto_conn *c)
{
    return sql_proto_conn_authenticated(c) ? c->user : "";
}

const char *sql_proto_conn_db(const struct sql_proto_conn *c)
{
    return c->db;
}

uint32_t sql_proto_conn_capabilities(const struct sql_proto_conn *c)
{
    return c->caps;
}

uint8_t sql_proto_conn_client_charset(const struct sql_proto_conn *c)
{
    return c->client_charset;
}

const char *sql_proto_conn_errmsg(const struct sql_proto_conn *c)
{
    return c->errmsg;
}

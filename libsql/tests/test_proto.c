/* test_proto.c: the MySQL protocol engine driven as a client would, in
 * memory: handshake bytes, native and caching_sha2 authentication, auth
 * switch, TLS upgrade, the command phase, OK/ERR/EOF layouts, result sets
 * in the text and binary protocols, prepared statements, packets over
 * 16 MiB, malformed input and one-byte-at-a-time fragmentation.
 * DESIGN.md "MySQL protocol" is the specification checked here.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "myclient.h"
#include "sql.h"

#define CAPS MC_CAPS_BASE
#define DEPRECATE_EOF (1u << 24)

/* ------------------------------------------------------------------ */
/* Fixture: one connection, a test executor and an account table. */

struct fx {
    struct sql_proto_conn *c;    /* the engine */
    struct sql_proto_options o;  /* its options */
    uint8_t scramble[20];        /* nonce from the handshake */
    struct mc_buf out;           /* output taken by the last take() */
    struct mc_pkt pk[64];        /* out cut into packets */
    int npk;                     /* their count */
    int calls;                   /* executor calls */
    int kind;                    /* kind of the last command */
    char text[256];              /* its text (truncated copy) */
    size_t text_len;             /* its full text length */
    char wild[64];               /* FIELD_LIST wildcard */
    uint32_t stmt_id;            /* its statement id */
    uint32_t kill_id;            /* PROCESS_KILL id */
    bool multi;                  /* multi_statements flag */
    uint8_t cursor;              /* cursor flags */
    struct sql_param params[16]; /* EXECUTE parameters (bytes copied) */
    char pbytes[16][128];        /* their BYTES */
    size_t nparams;              /* their count */
    uint32_t closed[8];          /* STMT_CLOSE notifications */
    int nclosed;                 /* their count */
    bool async;                  /* leave commands unanswered */
    int exec_rc;                 /* return this without answering */
    char *big;                   /* a large value for "big" */
    size_t big_len;              /* its length */
};

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
    if (strcmp(user, "alice") == 0) {
        a->plugin = SQL_AUTH_NATIVE;
        a->has_password = true;
        sql_auth_native_hash("secret", 6, a->native_hash);
        return 0;
    }
    if (strcmp(user, "bob") == 0 || strcmp(user, "carol") == 0) {
        a->plugin = SQL_AUTH_CACHING_SHA2;
        a->has_password = true;
        sql_auth_sha2_hash("s3cret", 6, a->sha2_hash);
        a->sha2_cached = strcmp(user, "bob") == 0;
        return 0;
    }
    return SQL_ENOTFOUND;
}

static struct sql_column col(const char *name, uint8_t type, uint16_t flags,
                             uint8_t decimals)
{
    struct sql_column c;
    memset(&c, 0, sizeof c);
    c.db = "test";
    c.table = "t";
    c.org_table = "t";
    c.name = name;
    c.org_name = name;
    c.charset = SQL_CHARSET_BINARY;
    c.length = 11;
    c.type = type;
    c.flags = flags;
    c.decimals = decimals;
    return c;
}

static struct sql_value vint(int64_t i)
{
    struct sql_value v = {.kind = SQL_VALUE_INT};
    v.v.i = i;
    return v;
}

static struct sql_value vbytes(const char *s)
{
    struct sql_value v = {.kind = SQL_VALUE_BYTES};
    v.v.s.p = s;
    v.v.s.len = strlen(s);
    return v;
}

/* The "types" result: one column per wire type and a row of values. */
#define NTYPES 12
static void types_result(struct sql_proto_conn *c, uint16_t status)
{
    struct sql_column cols[NTYPES] = {
        col("ti", SQL_TYPE_TINY, 0, 0),
        col("si", SQL_TYPE_SHORT, SQL_COLFLAG_UNSIGNED, 0),
        col("i", SQL_TYPE_LONG, 0, 0),
        col("bi", SQL_TYPE_LONGLONG, SQL_COLFLAG_UNSIGNED, 0),
        col("f", SQL_TYPE_FLOAT, 0, 31),
        col("d", SQL_TYPE_DOUBLE, 0, 31),
        col("dt", SQL_TYPE_DATETIME, 0, 6),
        col("da", SQL_TYPE_DATE, 0, 0),
        col("tm", SQL_TYPE_TIME, 0, 0),
        col("s", SQL_TYPE_VAR_STRING, 0, 0),
        col("dec", SQL_TYPE_NEWDECIMAL, 0, 2),
        col("n", SQL_TYPE_LONG, 0, 0),
    };
    struct sql_value v[NTYPES];
    v[0] = vint(-2);
    v[1].kind = SQL_VALUE_UINT;
    v[1].v.u = 65535;
    v[2] = vint(-70000);
    v[3].kind = SQL_VALUE_UINT;
    v[3].v.u = UINT64_MAX;
    v[4].kind = SQL_VALUE_DOUBLE;
    v[4].v.d = 1.5;
    v[5].kind = SQL_VALUE_DOUBLE;
    v[5].v.d = 0.1;
    v[6].kind = SQL_VALUE_DATETIME;
    v[6].v.t = (struct sql_time){.year = 2024, .month = 2, .day = 29,
                                 .hour = 13, .minute = 5, .second = 9,
                                 .micro = 1234};
    v[7].kind = SQL_VALUE_DATETIME;
    v[7].v.t = (struct sql_time){.year = 1999, .month = 12, .day = 31};
    v[8].kind = SQL_VALUE_TIME;
    v[8].v.t = (struct sql_time){.negative = true, .hour = 50, .minute = 1,
                                 .second = 2};
    v[9] = vbytes("hi");
    v[10] = vbytes("3.14");
    v[11].kind = SQL_VALUE_NULL;
    assert_int_equal(sql_reply_columns(c, NTYPES), 0);
    for (int i = 0; i < NTYPES; i++)
        assert_int_equal(sql_reply_column(c, &cols[i]), 0);
    assert_int_equal(sql_reply_row(c, v, NTYPES), 0);
    struct sql_ok end = {.status = status};
    assert_int_equal(sql_reply_end(c, &end), 0);
}

static void answer_query(struct fx *f, struct sql_proto_conn *c,
                         const struct sql_command *cmd)
{
    struct sql_ok ok = {.status = SQL_SERVER_STATUS_AUTOCOMMIT};
    const char *t = f->text;
    if (strcmp(t, "select 1") == 0) {
        struct sql_column c1 = col("1", SQL_TYPE_LONGLONG,
                                   SQL_COLFLAG_NOT_NULL | SQL_COLFLAG_NUM, 0);
        c1.db = c1.table = c1.org_table = c1.org_name = NULL;
        c1.length = 1;
        struct sql_value one = vint(1);
        assert_int_equal(sql_reply_columns(c, 1), 0);
        assert_int_equal(sql_reply_column(c, &c1), 0);
        assert_int_equal(sql_reply_row(c, &one, 1), 0);
        assert_int_equal(sql_reply_end(c, &ok), 0);
    } else if (strcmp(t, "insert") == 0) {
        ok.affected_rows = 3;
        ok.last_insert_id = 300;
        ok.status |= SQL_SERVER_STATUS_IN_TRANS;
        ok.warnings = 2;
        ok.info = "Records: 3  Duplicates: 0  Warnings: 2";
        assert_int_equal(sql_reply_ok(c, &ok), 0);
    } else if (strcmp(t, "err") == 0) {
        assert_int_equal(sql_reply_error(c, 1064, "42000", "near 'x'"), 0);
    } else if (strcmp(t, "err0") == 0) { /* a defect's error: no number */
        assert_int_equal(sql_reply_error(c, 0, "", ""), 0);
    } else if (strcmp(t, "multi") == 0) {
        /* OK(more), a result set (more), then a final OK. */
        assert_true(cmd->multi_statements);
        ok.status |= SQL_SERVER_MORE_RESULTS_EXISTS;
        ok.affected_rows = 1;
        assert_int_equal(sql_reply_ok(c, &ok), 0);
        types_result(c, ok.status);
        ok.status &= (uint16_t)~SQL_SERVER_MORE_RESULTS_EXISTS;
        assert_int_equal(sql_reply_ok(c, &ok), 0);
    } else if (strcmp(t, "types") == 0) {
        types_result(c, SQL_SERVER_STATUS_AUTOCOMMIT);
    } else if (strcmp(t, "big") == 0) {
        struct sql_column cb = col("b", SQL_TYPE_LONG_BLOB, 0, 0);
        struct sql_value v = {.kind = SQL_VALUE_BYTES};
        v.v.s.p = f->big;
        v.v.s.len = f->big_len;
        assert_int_equal(sql_reply_columns(c, 1), 0);
        assert_int_equal(sql_reply_column(c, &cb), 0);
        assert_int_equal(sql_reply_row(c, &v, 1), 0);
        assert_int_equal(sql_reply_end(c, &ok), 0);
    } else {
        assert_int_equal(sql_reply_ok(c, &ok), 0);
    }
}

static int execute(void *ctx, struct sql_proto_conn *c,
                   const struct sql_command *cmd)
{
    struct fx *f = ctx;
    f->calls++;
    f->kind = cmd->kind;
    f->text_len = cmd->text_len;
    size_t n = cmd->text_len < sizeof f->text - 1 ? cmd->text_len
                                                  : sizeof f->text - 1;
    if (n > 0)
        memcpy(f->text, cmd->text, n);
    f->text[n] = '\0';
    f->stmt_id = cmd->stmt_id;
    f->kill_id = cmd->kill_id;
    f->multi = cmd->multi_statements;
    f->cursor = cmd->cursor_flags;
    if (cmd->kind == SQL_CMD_STMT_CLOSE) {
        if (f->nclosed < 8)
            f->closed[f->nclosed++] = cmd->stmt_id;
        return 0;
    }
    if (f->exec_rc != 0)
        return f->exec_rc;
    if (f->async)
        return 0;
    struct sql_ok ok = {.status = SQL_SERVER_STATUS_AUTOCOMMIT};
    switch (cmd->kind) {
    case SQL_CMD_QUERY:
        answer_query(f, c, cmd);
        break;
    case SQL_CMD_INIT_DB:
        if (strcmp(f->text, "nodb") == 0)
            assert_int_equal(sql_reply_error(c, 1049, "42000",
                                             "Unknown database 'nodb'"),
                             0);
        else
            assert_int_equal(sql_reply_ok(c, &ok), 0);
        break;
    case SQL_CMD_FIELD_LIST: {
        snprintf(f->wild, sizeof f->wild, "%.*s", (int)cmd->wildcard_len,
                 cmd->wildcard);
        struct sql_column a = col("id", SQL_TYPE_LONG, SQL_COLFLAG_PRI_KEY, 0);
        struct sql_column b = col("v", SQL_TYPE_VAR_STRING, 0, 0);
        b.default_value = "dflt";
        assert_int_equal(sql_reply_column(c, &a), 0);
        assert_int_equal(sql_reply_column(c, &b), 0);
        assert_int_equal(sql_reply_end(c, &ok), 0);
        break;
    }
    case SQL_CMD_STATISTICS:
        assert_int_equal(sql_reply_text(c, "Uptime: 1  Threads: 1", 21), 0);
        break;
    case SQL_CMD_PROCESS_KILL:
    case SQL_CMD_RESET_CONNECTION:
        assert_int_equal(sql_reply_ok(c, &ok), 0);
        break;
    case SQL_CMD_STMT_PREPARE: {
        /* "p2": two parameters, one column; "p0": none, none. */
        if (strcmp(f->text, "p0") == 0) {
            assert_int_equal(sql_reply_prepared(c, 0, 0, 0), 0);
            break;
        }
        if (strcmp(f->text, "bad") == 0) {
            assert_int_equal(sql_reply_error(c, 1064, "42000", "syntax"), 0);
            break;
        }
        uint16_t np = strcmp(f->text, "p12") == 0 ? 12 : 2;
        assert_int_equal(sql_reply_prepared(c, np, 1, 0), 0);
        struct sql_column q = col("?", SQL_TYPE_VAR_STRING, 0, 0);
        for (uint16_t i = 0; i < np; i++)
            assert_int_equal(sql_reply_column(c, &q), 0);
        struct sql_column r = col("r", SQL_TYPE_LONG, 0, 0);
        assert_int_equal(sql_reply_column(c, &r), 0);
        break;
    }
    case SQL_CMD_STMT_EXECUTE:
        f->nparams = cmd->nparams;
        for (size_t i = 0; i < cmd->nparams && i < 16; i++) {
            f->params[i] = cmd->params[i];
            if (cmd->params[i].value.kind == SQL_VALUE_BYTES) {
                size_t len = cmd->params[i].value.v.s.len;
                if (len > 127)
                    len = 127;
                memcpy(f->pbytes[i], cmd->params[i].value.v.s.p, len);
                f->pbytes[i][len] = '\0';
                f->params[i].value.v.s.p = f->pbytes[i];
            }
        }
        if (f->stmt_id == 1)
            types_result(c, SQL_SERVER_STATUS_AUTOCOMMIT);
        else
            assert_int_equal(sql_reply_ok(c, &ok), 0);
        break;
    default:
        fail();
    }
    return 0;
}

static struct fx *fx_make(int plugin, bool tls, uint32_t max_packet)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->o.server_version = "8.0.11-sqld";
    f->o.connection_id = 0x01020304;
    f->o.tls_available = tls;
    f->o.max_allowed_packet = max_packet;
    for (int i = 0; i < 20; i++)
        f->o.scramble[i] = (uint8_t)(i * 37 + 5); /* includes 0x24, 0x80+ */
    f->o.default_plugin = plugin;
    f->o.client_host = "10.0.0.1";
    f->o.auth.lookup = lookup;
    f->o.exec.ctx = f;
    f->o.exec.execute = execute;
    f->c = sql_proto_conn_create(&f->o);
    assert_non_null(f->c);
    return f;
}

static void fx_free(struct fx *f)
{
    sql_proto_conn_destroy(f->c);
    mc_free(&f->out);
    free(f->big);
    free(f);
}

/* Take all pending output and cut it into packets. */
static int take(struct fx *f)
{
    size_t n;
    const uint8_t *p = sql_proto_conn_output(f->c, &n);
    f->out.len = 0;
    mc_put(&f->out, p, n);
    sql_proto_conn_consume(f->c, n);
    f->npk = mc_split(f->out.p, f->out.len, f->pk, 64);
    assert_true(f->npk >= 0);
    return f->npk;
}

static void feed(struct fx *f, const void *p, size_t n)
{
    size_t used = 0;
    assert_int_equal(sql_proto_conn_feed(f->c, p, n, &used), 0);
    assert_int_equal(used, n);
}

static void send_pkt(struct fx *f, const void *payload, size_t len,
                     uint8_t seq)
{
    struct mc_buf b = {0};
    mc_frame(&b, payload, len, &seq);
    feed(f, b.p, b.len);
    mc_free(&b);
}

static void send_cmd(struct fx *f, uint8_t com, const void *arg, size_t len)
{
    struct mc_buf b = {0};
    mc_u8(&b, com);
    mc_put(&b, arg, len);
    send_pkt(f, b.p, b.len, 0);
    mc_free(&b);
}

static void query(struct fx *f, const char *sql)
{
    send_cmd(f, 0x03, sql, strlen(sql));
}

/* Start and parse the greeting's nonce. */
static void greet(struct fx *f)
{
    assert_int_equal(sql_proto_conn_start(f->c), 0);
    assert_int_equal(take(f), 1);
    const uint8_t *p = f->pk[0].p;
    size_t vlen = strlen((const char *)p + 1);
    const uint8_t *s1 = p + 1 + vlen + 1 + 4;
    memcpy(f->scramble, s1, 8);
    memcpy(f->scramble + 8, s1 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10, 12);
}

static void send_login(struct fx *f, uint32_t caps, const char *user,
                       const char *pw, const char *plugin, const char *db,
                       uint8_t seq)
{
    uint8_t tok[32];
    size_t toklen = 0;
    if (pw != NULL && *pw != '\0') {
        if (plugin != NULL && strcmp(plugin, "caching_sha2_password") == 0) {
            mc_sha2_token(pw, f->scramble, tok);
            toklen = 32;
        } else {
            mc_native_token(pw, f->scramble, tok);
            toklen = 20;
        }
    }
    struct mc_login l = {.caps = caps, .user = user, .auth = tok,
                         .auth_len = toklen, .db = db, .plugin = plugin};
    struct mc_buf b = {0};
    mc_login_payload(&b, &l);
    send_pkt(f, b.p, b.len, seq);
    mc_free(&b);
}

static const uint8_t ok_autocommit[7] = {0x00, 0x00, 0x00, 0x02,
                                         0x00, 0x00, 0x00};

static void expect_ok_pkt(const struct mc_pkt *p, uint8_t seq)
{
    assert_int_equal(p->seq, seq);
    assert_int_equal(p->len, 7);
    assert_memory_equal(p->p, ok_autocommit, 7);
}

static void expect_err(const struct mc_pkt *p, uint8_t seq, uint16_t code,
                       const char *state, const char *msg)
{
    assert_int_equal(p->seq, seq);
    assert_true(p->len >= 9);
    assert_int_equal(p->p[0], 0xFF);
    assert_int_equal(p->p[1] | p->p[2] << 8, code);
    assert_int_equal(p->p[3], '#');
    assert_memory_equal(p->p + 4, state, 5);
    assert_int_equal(p->len - 9, strlen(msg));
    assert_memory_equal(p->p + 9, msg, strlen(msg));
}

/* A connection logged in as root with the given capabilities. */
static struct fx *logged_in(uint32_t caps)
{
    struct fx *f = fx_make(0, false, 0);
    greet(f);
    send_login(f, caps, "root", "", "mysql_native_password", NULL, 1);
    assert_int_equal(take(f), 1);
    expect_ok_pkt(&f->pk[0], 2);
    assert_true(sql_proto_conn_authenticated(f->c));
    return f;
}

/* ------------------------------------------------------------------ */
/* Handshake and authentication. */

static void handshake_bytes(void **state)
{
    (void)state;
    struct fx *f = fx_make(0, true, 0);
    assert_int_equal(sql_proto_conn_start(f->c), 0);
    assert_int_equal(sql_proto_conn_start(f->c), SQL_ESTATE);
    assert_int_equal(take(f), 1);
    const struct mc_pkt *p = &f->pk[0];
    assert_int_equal(p->seq, 0);
    /* Build the expected HandshakeV10 by hand. */
    uint8_t nonce[20];
    for (int i = 0; i < 20; i++) {
        uint8_t b = (uint8_t)((i * 37 + 5) & 0x7F);
        if (b == 0 || b == '$')
            b++;
        nonce[i] = b;
    }
    uint32_t caps = SQL_PROTO_DEFAULT_CAPS;
    struct mc_buf e = {0};
    mc_u8(&e, 10);
    mc_cstr(&e, "8.0.11-sqld");
    mc_u32(&e, 0x01020304);
    mc_put(&e, nonce, 8);
    mc_u8(&e, 0);
    mc_u16(&e, (uint16_t)caps);
    mc_u8(&e, 45);
    mc_u16(&e, SQL_SERVER_STATUS_AUTOCOMMIT);
    mc_u16(&e, (uint16_t)(caps >> 16));
    mc_u8(&e, 21);
    for (int i = 0; i < 10; i++)
        mc_u8(&e, 0);
    mc_put(&e, nonce + 8, 12);
    mc_u8(&e, 0);
    mc_cstr(&e, "mysql_native_password");
    assert_int_equal(p->len, e.len);
    assert_memory_equal(p->p, e.p, e.len);
    /* CLIENT_SSL offered only with tls_available; no '$' or NUL nonce. */
    assert_true(caps & SQL_CLIENT_SSL);
    for (int i = 0; i < 20; i++)
        assert_true(nonce[i] != 0 && nonce[i] != '$' && nonce[i] < 0x80);
    mc_free(&e);
    fx_free(f);

    f = fx_make(SQL_AUTH_CACHING_SHA2, false, 0);
    assert_int_equal(sql_proto_conn_start(f->c), 0);
    assert_int_equal(take(f), 1);
    p = &f->pk[0];
    size_t off = 1 + strlen("8.0.11-sqld") + 1 + 4 + 8 + 1;
    uint32_t got = (uint32_t)(p->p[off] | p->p[off + 1] << 8 |
                              p->p[off + 5] << 16 | p->p[off + 6] << 24);
    assert_int_equal(got, SQL_PROTO_DEFAULT_CAPS & ~SQL_CLIENT_SSL);
    assert_string_equal((const char *)p->p + p->len - 22,
                        "caching_sha2_password");
    fx_free(f);
}

static void native_password(void **state)
{
    (void)state;
    /* Right password: OK with sequence id 2. */
    struct fx *f = fx_make(0, false, 0);
    greet(f);
    send_login(f, CAPS, "alice", "secret", "mysql_native_password", NULL, 1);
    assert_int_equal(take(f), 1);
    expect_ok_pkt(&f->pk[0], 2);
    assert_string_equal(sql_proto_conn_user(f->c), "alice");
    assert_int_equal(sql_proto_conn_client_charset(f->c), 255);
    assert_false(sql_proto_conn_want_close(f->c));
    fx_free(f);

    /* Without CLIENT_PLUGIN_AUTH at all (a pre-plugin 4.1 client). */
    f = fx_make(0, false, 0);
    greet(f);
    send_login(f, CAPS, "alice", "secret", NULL, NULL, 1);
    assert_int_equal(take(f), 1);
    expect_ok_pkt(&f->pk[0], 2);
    fx_free(f);

    /* Wrong password. */
    f = fx_make(0, false, 0);
    greet(f);
    send_login(f, CAPS, "alice", "Secret", "mysql_native_password", NULL, 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 1045, "28000",
               "Access denied for user 'alice'@'10.0.0.1' (using password: "
               "YES)");
    assert_true(sql_proto_conn_want_close(f->c));
    assert_false(sql_proto_conn_authenticated(f->c));
    /* Input after the close is swallowed. */
    feed(f, "xxxx", 4);
    assert_int_equal(take(f), 0);
    fx_free(f);

    /* No password for an account that has one. */
    f = fx_make(0, false, 0);
    greet(f);
    send_login(f, CAPS, "alice", "", "mysql_native_password", NULL, 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 1045, "28000",
               "Access denied for user 'alice'@'10.0.0.1' (using password: "
               "NO)");
    fx_free(f);

    /* A password for an account without one; an unknown user. */
    f = fx_make(0, false, 0);
    greet(f);
    send_login(f, CAPS, "root", "x", "mysql_native_password", NULL, 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 1045, "28000",
               "Access denied for user 'root'@'10.0.0.1' (using password: "
               "YES)");
    fx_free(f);
    f = fx_make(0, false, 0);
    greet(f);
    send_login(f, CAPS, "mallory", "secret", "mysql_native_password", NULL, 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 1045, "28000",
               "Access denied for user 'mallory'@'10.0.0.1' (using "
               "password: YES)");
    fx_free(f);
}

static void sha2_fast_path(void **state)
{
    (void)state;
    struct fx *f = fx_make(SQL_AUTH_CACHING_SHA2, false, 0);
    greet(f);
    send_login(f, CAPS, "bob", "s3cret", "caching_sha2_password", NULL, 1);
    assert_int_equal(take(f), 2);
    /* AuthMoreData fast_auth_success, then OK. */
    assert_int_equal(f->pk[0].seq, 2);
    assert_int_equal(f->pk[0].len, 2);
    assert_memory_equal(f->pk[0].p, "\x01\x03", 2);
    expect_ok_pkt(&f->pk[1], 3);
    assert_true(sql_proto_conn_authenticated(f->c));
    fx_free(f);

    f = fx_make(SQL_AUTH_CACHING_SHA2, false, 0);
    greet(f);
    send_login(f, CAPS, "bob", "wrong", "caching_sha2_password", NULL, 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 1045, "28000",
               "Access denied for user 'bob'@'10.0.0.1' (using password: "
               "YES)");
    fx_free(f);
}

static void sha2_full_needs_tls(void **state)
{
    (void)state;
    struct fx *f = fx_make(SQL_AUTH_CACHING_SHA2, false, 0);
    greet(f);
    send_login(f, CAPS, "carol", "s3cret", "caching_sha2_password", NULL, 1);
    /* No 0x04 (full authentication) without TLS: the refusal at once. */
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 1251, "08004",
               "caching_sha2_password full authentication needs a TLS "
               "connection (RSA key exchange is not supported)");
    assert_true(sql_proto_conn_want_close(f->c));
    fx_free(f);
}

/* SSL request, TLS upgrade, then full authentication in clear text. */
static void tls_upgrade_and_full_auth(void **state)
{
    (void)state;
    for (int good = 0; good <= 1; good++) {
        struct fx *f = fx_make(SQL_AUTH_CACHING_SHA2, true, 0);
        greet(f);
        struct mc_buf b = {0};
        static const uint8_t filler[23];
        mc_u32(&b, CAPS | SQL_CLIENT_SSL | SQL_CLIENT_PLUGIN_AUTH);
        mc_u32(&b, 1u << 24);
        mc_u8(&b, 255);
        mc_put(&b, filler, 23);
        struct mc_buf wire = {0};
        uint8_t seq = 1;
        mc_frame(&wire, b.p, b.len, &seq);
        mc_put(&wire, "\x16\x03\x01", 3); /* a TLS ClientHello begins */
        size_t used = 0;
        assert_int_equal(sql_proto_conn_feed(f->c, wire.p, wire.len, &used),
                         0);
        assert_int_equal(used, 36);
        assert_true(sql_proto_conn_want_tls(f->c));
        assert_int_equal(take(f), 0);
        /* While TLS is pending nothing is consumed. */
        assert_int_equal(sql_proto_conn_feed(f->c, "\x16", 1, &used), 0);
        assert_int_equal(used, 0);
        assert_int_equal(sql_proto_conn_tls_started(f->c), 0);
        assert_false(sql_proto_conn_want_tls(f->c));
        assert_int_equal(sql_proto_conn_tls_started(f->c), SQL_ESTATE);
        send_login(f, CAPS | SQL_CLIENT_SSL, "carol", "s3cret",
                   "caching_sha2_password", NULL, 2);
        assert_int_equal(take(f), 1);
        assert_int_equal(f->pk[0].seq, 3);
        assert_memory_equal(f->pk[0].p, "\x01\x04", 2);
        assert_true(sql_proto_conn_capabilities(f->c) & SQL_CLIENT_SSL);
        send_pkt(f, good ? "s3cret" : "nope", good ? 7 : 5, 4);
        assert_int_equal(take(f), 1);
        if (good) {
            expect_ok_pkt(&f->pk[0], 5);
        } else {
            expect_err(&f->pk[0], 5, 1045, "28000",
                       "Access denied for user 'carol'@'10.0.0.1' (using "
                       "password: YES)");
        }
        mc_free(&b);
        mc_free(&wire);
        fx_free(f);
    }
}

static void ssl_request_without_tls_offer(void **state)
{
    (void)state;
    struct fx *f = fx_make(0, false, 0);
    greet(f);
    struct mc_buf b = {0};
    static const uint8_t filler[23];
    mc_u32(&b, CAPS | SQL_CLIENT_SSL);
    mc_u32(&b, 0);
    mc_u8(&b, 255);
    mc_put(&b, filler, 23);
    send_pkt(f, b.p, b.len, 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 1043, "08S01", "Bad handshake");
    mc_free(&b);
    fx_free(f);
}

/* require_tls: a login without TLS is refused, one after it succeeds. */
static void require_tls(void **state)
{
    (void)state;
    struct fx *f = fx_make(0, true, 0);
    sql_proto_conn_destroy(f->c);
    f->o.require_tls = true;
    f->c = sql_proto_conn_create(&f->o);
    greet(f);
    send_login(f, CAPS, "alice", "secret", NULL, NULL, 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 3159, "HY000",
               "Connections using insecure transport are prohibited while "
               "--require_secure_transport=ON.");
    assert_true(sql_proto_conn_want_close(f->c));
    fx_free(f);

    f = fx_make(0, true, 0);
    sql_proto_conn_destroy(f->c);
    f->o.require_tls = true;
    f->c = sql_proto_conn_create(&f->o);
    greet(f);
    struct mc_buf b = {0};
    static const uint8_t filler[23];
    mc_u32(&b, CAPS | SQL_CLIENT_SSL);
    mc_u32(&b, 0);
    mc_u8(&b, 255);
    mc_put(&b, filler, 23);
    send_pkt(f, b.p, b.len, 1);
    assert_true(sql_proto_conn_want_tls(f->c));
    assert_int_equal(sql_proto_conn_tls_started(f->c), 0);
    send_login(f, CAPS | SQL_CLIENT_SSL, "alice", "secret", NULL, NULL, 2);
    assert_int_equal(take(f), 1);
    expect_ok_pkt(&f->pk[0], 3);
    mc_free(&b);
    fx_free(f);
}

static void auth_switch(void **state)
{
    (void)state;
    /* bob uses caching_sha2; the client starts with native. */
    struct fx *f = fx_make(0, false, 0);
    greet(f);
    send_login(f, CAPS, "bob", "s3cret", "mysql_native_password", NULL, 1);
    assert_int_equal(take(f), 1);
    struct mc_buf e = {0};
    mc_u8(&e, 0xFE);
    mc_cstr(&e, "caching_sha2_password");
    mc_put(&e, f->scramble, 20);
    mc_u8(&e, 0);
    assert_int_equal(f->pk[0].seq, 2);
    assert_int_equal(f->pk[0].len, e.len);
    assert_memory_equal(f->pk[0].p, e.p, e.len);
    uint8_t tok[32];
    mc_sha2_token("s3cret", f->scramble, tok);
    send_pkt(f, tok, 32, 3);
    assert_int_equal(take(f), 2);
    assert_memory_equal(f->pk[0].p, "\x01\x03", 2);
    assert_int_equal(f->pk[0].seq, 4);
    expect_ok_pkt(&f->pk[1], 5);
    mc_free(&e);
    fx_free(f);

    /* alice uses native; the client starts with caching_sha2 and then
     * answers the switch with a wrong token. */
    f = fx_make(SQL_AUTH_CACHING_SHA2, false, 0);
    greet(f);
    send_login(f, CAPS, "alice", "secret", "caching_sha2_password", NULL, 1);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].p[0], 0xFE);
    assert_string_equal((const char *)f->pk[0].p + 1,
                        "mysql_native_password");
    uint8_t ntok[20];
    mc_native_token("secret", f->scramble, ntok);
    send_pkt(f, ntok, 20, 3);
    assert_int_equal(take(f), 1);
    expect_ok_pkt(&f->pk[0], 4);
    fx_free(f);

    f = fx_make(SQL_AUTH_CACHING_SHA2, false, 0);
    greet(f);
    send_login(f, CAPS, "alice", "secret", "caching_sha2_password", NULL, 1);
    assert_int_equal(take(f), 1);
    mc_native_token("other", f->scramble, ntok);
    send_pkt(f, ntok, 20, 3);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 4, 1045, "28000",
               "Access denied for user 'alice'@'10.0.0.1' (using password: "
               "YES)");
    fx_free(f);

    /* An unknown plugin name: switched to the account's. */
    f = fx_make(0, false, 0);
    greet(f);
    send_login(f, CAPS, "alice", "secret", "auth_gssapi_client", NULL, 1);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].p[0], 0xFE);
    fx_free(f);
}

static void connect_with_db_and_attrs(void **state)
{
    (void)state;
    struct fx *f = fx_make(0, false, 0);
    greet(f);
    struct mc_login l = {.caps = CAPS, .user = "root", .db = "test",
                         .plugin = "mysql_native_password", .attrs = true};
    struct mc_buf b = {0};
    mc_login_payload(&b, &l);
    send_pkt(f, b.p, b.len, 1);
    assert_int_equal(f->kind, SQL_CMD_INIT_DB);
    assert_string_equal(f->text, "test");
    assert_int_equal(take(f), 1);
    expect_ok_pkt(&f->pk[0], 2);
    assert_string_equal(sql_proto_conn_db(f->c), "test");
    mc_free(&b);
    fx_free(f);

    /* An unknown database fails the connection. */
    f = fx_make(0, false, 0);
    greet(f);
    send_login(f, CAPS, "root", "", "mysql_native_password", "nodb", 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 1049, "42000", "Unknown database 'nodb'");
    assert_true(sql_proto_conn_want_close(f->c));
    assert_null(sql_proto_conn_db(f->c));
    fx_free(f);
}

/* Every truncation of a valid response is a clean "Bad handshake". */
static void handshake_truncated(void **state)
{
    (void)state;
    struct mc_login l = {.caps = CAPS, .user = "alice", .db = "test",
                         .plugin = "mysql_native_password", .attrs = true};
    uint8_t tok[20] = {1, 2, 3};
    l.auth = tok;
    l.auth_len = 20;
    struct mc_buf b = {0};
    mc_login_payload(&b, &l);
    int bad = 0;
    for (size_t cut = 0; cut < b.len; cut++) {
        struct fx *f = fx_make(0, false, 0);
        greet(f);
        send_pkt(f, b.p, cut, 1);
        take(f);
        if (f->npk == 1 && f->pk[0].p[0] == 0xFF) {
            uint16_t code = (uint16_t)(f->pk[0].p[1] | f->pk[0].p[2] << 8);
            /* Cuts inside optional trailing fields may parse and fail
             * authentication instead. */
            assert_true(code == 1043 || code == 1045);
            bad += code == 1043;
        } else {
            /* A cut that leaves only whole optional fields: an auth
             * switch or a denial, never a crash or silence. */
            assert_int_equal(f->npk, 1);
        }
        assert_true(sql_proto_conn_want_close(f->c) ||
                    !sql_proto_conn_authenticated(f->c));
        fx_free(f);
    }
    assert_true(bad > 40);
    mc_free(&b);

    /* Not protocol 4.1. */
    struct fx *f = fx_make(0, false, 0);
    greet(f);
    l.caps = CAPS & ~SQL_CLIENT_PROTOCOL_41;
    mc_login_payload(&b, &l);
    send_pkt(f, b.p, b.len, 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 1043, "08S01", "Bad handshake");
    mc_free(&b);
    fx_free(f);

    /* Connect attributes whose pairs run past their total. */
    f = fx_make(0, false, 0);
    greet(f);
    l.caps = CAPS;
    l.attrs = false;
    l.db = NULL;
    mc_login_payload(&b, &l);
    b.p[0] |= 0; /* caps byte 2 gets CONNECT_ATTRS below */
    b.p[2] |= 0x10;
    mc_lenenc(&b, 3);
    mc_put(&b, "\x05" "ab", 3);
    send_pkt(f, b.p, b.len, 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 1043, "08S01", "Bad handshake");
    mc_free(&b);
    fx_free(f);
}

static void bad_sequence_and_sizes(void **state)
{
    (void)state;
    /* Handshake response with sequence id 0 instead of 1. */
    struct fx *f = fx_make(0, false, 0);
    greet(f);
    send_login(f, CAPS, "root", "", NULL, NULL, 0);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1156, "08S01", "Got packets out of order");
    fx_free(f);

    /* A command with sequence id 1. */
    f = logged_in(CAPS);
    send_pkt(f, "\x0e", 1, 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 0, 1156, "08S01", "Got packets out of order");
    assert_true(sql_proto_conn_want_close(f->c));
    fx_free(f);

    /* A pre-auth packet over 64 KiB: refused from its header alone. */
    f = fx_make(0, false, 0);
    greet(f);
    feed(f, "\x01\x00\x01\x01", 4);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 2, 1043, "08S01", "Bad handshake");
    fx_free(f);

    /* A command over max_allowed_packet (1 KiB here). */
    f = fx_make(0, false, 1024);
    greet(f);
    send_login(f, CAPS, "root", "", NULL, NULL, 1);
    take(f);
    feed(f, "\x01\x04\x00\x00", 4);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1153, "08S01",
               "Got a packet bigger than 'max_allowed_packet' bytes");
    assert_true(sql_proto_conn_want_close(f->c));
    fx_free(f);

    /* Exactly max_allowed_packet is fine. */
    f = fx_make(0, false, 1024);
    greet(f);
    send_login(f, CAPS, "root", "", NULL, NULL, 1);
    take(f);
    char q[1024];
    memset(q, ' ', sizeof q);
    q[0] = 0x03;
    send_pkt(f, q, sizeof q, 0);
    assert_int_equal(f->kind, SQL_CMD_QUERY);
    assert_int_equal(f->text_len, 1023);
    assert_int_equal(take(f), 1);
    fx_free(f);

    /* An empty command packet is malformed. */
    f = logged_in(CAPS);
    send_pkt(f, "", 0, 0);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1835, "HY000", "Malformed communication packet.");
    fx_free(f);
}

/* ------------------------------------------------------------------ */
/* Command phase. */

static void query_text_result_eof(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS);
    query(f, "select 1");
    assert_int_equal(f->kind, SQL_CMD_QUERY);
    assert_int_equal(take(f), 5);
    /* column count */
    assert_int_equal(f->pk[0].seq, 1);
    assert_int_equal(f->pk[0].len, 1);
    assert_int_equal(f->pk[0].p[0], 1);
    /* ColumnDefinition41 */
    static const uint8_t coldef[] = {
        3,    'd', 'e', 'f', 0, 0, 0, 1, '1', 0, 0x0C, 63, 0, 1, 0, 0, 0,
        0x08, 0x01, 0x80, 0, 0, 0};
    assert_int_equal(f->pk[1].seq, 2);
    assert_int_equal(f->pk[1].len, sizeof coldef);
    assert_memory_equal(f->pk[1].p, coldef, sizeof coldef);
    /* EOF after the definitions */
    assert_int_equal(f->pk[2].seq, 3);
    assert_int_equal(f->pk[2].len, 5);
    assert_memory_equal(f->pk[2].p, "\xFE\x00\x00\x02\x00", 5);
    /* the row: "1" */
    assert_int_equal(f->pk[3].seq, 4);
    assert_int_equal(f->pk[3].len, 2);
    assert_memory_equal(f->pk[3].p, "\x01" "1", 2);
    /* final EOF */
    assert_int_equal(f->pk[4].seq, 5);
    assert_memory_equal(f->pk[4].p, "\xFE\x00\x00\x02\x00", 5);
    assert_false(sql_proto_conn_busy(f->c));
    fx_free(f);
}

static void query_deprecate_eof(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    query(f, "select 1");
    assert_int_equal(take(f), 4);
    assert_int_equal(f->pk[2].len, 2);
    assert_memory_equal(f->pk[2].p, "\x01" "1", 2);
    /* OK with the 0xFE header ends the result set. */
    assert_int_equal(f->pk[3].seq, 4);
    assert_int_equal(f->pk[3].len, 7);
    assert_memory_equal(f->pk[3].p, "\xFE\x00\x00\x02\x00\x00\x00", 7);
    fx_free(f);
}

static void ok_and_err_layout(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS);
    query(f, "insert");
    assert_int_equal(take(f), 1);
    const char *info = "Records: 3  Duplicates: 0  Warnings: 2";
    struct mc_buf e = {0};
    mc_u8(&e, 0x00);
    mc_u8(&e, 3);
    mc_put(&e, "\xFC\x2C\x01", 3); /* 300 as a lenenc integer */
    mc_u16(&e, SQL_SERVER_STATUS_AUTOCOMMIT | SQL_SERVER_STATUS_IN_TRANS);
    mc_u16(&e, 2);
    mc_lenenc_str(&e, info);
    assert_int_equal(f->pk[0].len, e.len);
    assert_memory_equal(f->pk[0].p, e.p, e.len);
    mc_free(&e);
    /* Engine-made OKs carry the last status the executor reported. */
    send_cmd(f, 0x0E, NULL, 0);
    assert_int_equal(take(f), 1);
    assert_memory_equal(f->pk[0].p, "\x00\x00\x00\x03\x00\x00\x00", 7);

    query(f, "err");
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1064, "42000", "near 'x'");
    assert_false(sql_proto_conn_want_close(f->c));
    /* never an error packet without a number (libmariadb: 5026 "Server
     * returned an error packet without further information") */
    query(f, "err0");
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1105, "HY000",
               "internal error: a statement failed without a message");
    fx_free(f);
}

static void multi_statements(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    query(f, "multi");
    assert_true(f->multi);
    int n = take(f);
    /* OK(more), count, 12 defs, row, end(more), OK */
    assert_int_equal(n, 1 + 1 + NTYPES + 1 + 1 + 1);
    assert_int_equal(f->pk[0].p[0], 0x00);
    assert_int_equal(f->pk[0].p[3], 0x0A); /* AUTOCOMMIT | MORE */
    const struct mc_pkt *end = &f->pk[n - 2];
    assert_int_equal(end->p[0], 0xFE);
    assert_int_equal(end->p[3], 0x0A);
    assert_int_equal(f->pk[n - 1].p[0], 0x00);
    assert_int_equal(f->pk[n - 1].p[3], 0x02);
    for (int i = 0; i < n; i++)
        assert_int_equal(f->pk[i].seq, (uint8_t)(i + 1));

    /* COM_SET_OPTION off: answered with the end marker, flag passed on. */
    send_cmd(f, 0x1B, "\x01\x00", 2);
    assert_int_equal(take(f), 1);
    assert_memory_equal(f->pk[0].p, "\xFE\x00\x00\x02\x00\x00\x00", 7);
    query(f, "x");
    assert_false(f->multi);
    take(f);
    send_cmd(f, 0x1B, "\x00\x00", 2);
    take(f);
    query(f, "x");
    assert_true(f->multi);
    take(f);
    send_cmd(f, 0x1B, "\x05\x00", 2);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1047, "08S01", "Unknown command");
    fx_free(f);

    /* Without DEPRECATE_EOF, SET_OPTION answers a plain EOF. */
    f = logged_in(CAPS);
    send_cmd(f, 0x1B, "\x01\x00", 2);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].len, 5);
    assert_memory_equal(f->pk[0].p, "\xFE\x00\x00\x02\x00", 5);
    fx_free(f);
}

static void text_row_of_every_type(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    query(f, "types");
    int n = take(f);
    assert_int_equal(n, 1 + NTYPES + 1 + 1);
    const struct mc_pkt *row = &f->pk[1 + NTYPES];
    struct mc_buf e = {0};
    mc_lenenc_str(&e, "-2");
    mc_lenenc_str(&e, "65535");
    mc_lenenc_str(&e, "-70000");
    mc_lenenc_str(&e, "18446744073709551615");
    mc_lenenc_str(&e, "1.5");
    mc_lenenc_str(&e, "0.1");
    mc_lenenc_str(&e, "2024-02-29 13:05:09.001234");
    mc_lenenc_str(&e, "1999-12-31");
    mc_lenenc_str(&e, "-50:01:02");
    mc_lenenc_str(&e, "hi");
    mc_lenenc_str(&e, "3.14");
    mc_u8(&e, 0xFB);
    assert_int_equal(row->len, e.len);
    assert_memory_equal(row->p, e.p, e.len);
    mc_free(&e);
    fx_free(f);
}

static void simple_commands(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS);
    /* PING */
    send_cmd(f, 0x0E, NULL, 0);
    assert_int_equal(take(f), 1);
    expect_ok_pkt(&f->pk[0], 1);
    int calls = f->calls;
    /* Unknown command: ERR 1047, connection stays. */
    send_cmd(f, 0x7F, NULL, 0);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1047, "08S01", "Unknown command");
    assert_false(sql_proto_conn_want_close(f->c));
    assert_int_equal(f->calls, calls);
    /* INIT_DB */
    send_cmd(f, 0x02, "shop", 4);
    assert_int_equal(f->kind, SQL_CMD_INIT_DB);
    assert_int_equal(take(f), 1);
    assert_string_equal(sql_proto_conn_db(f->c), "shop");
    send_cmd(f, 0x02, "nodb", 4);
    take(f);
    assert_string_equal(sql_proto_conn_db(f->c), "shop");
    assert_false(sql_proto_conn_want_close(f->c));
    /* FIELD_LIST: definitions with defaults, then EOF. */
    send_cmd(f, 0x04, "t\0v%", 4);
    assert_int_equal(f->kind, SQL_CMD_FIELD_LIST);
    assert_string_equal(f->text, "t");
    assert_string_equal(f->wild, "v%");
    assert_int_equal(take(f), 3);
    assert_int_equal(f->pk[0].p[f->pk[0].len - 1], 0xFB); /* no default */
    assert_memory_equal(f->pk[1].p + f->pk[1].len - 5, "\x04" "dflt", 5);
    assert_memory_equal(f->pk[2].p, "\xFE\x00\x00\x02\x00", 5);
    send_cmd(f, 0x04, "t", 1); /* table without its NUL */
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1835, "HY000", "Malformed communication packet.");
    fx_free(f);

    f = logged_in(CAPS);
    /* STATISTICS: a bare string packet. */
    send_cmd(f, 0x09, NULL, 0);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].len, 21);
    assert_memory_equal(f->pk[0].p, "Uptime: 1  Threads: 1", 21);
    /* PROCESS_KILL */
    send_cmd(f, 0x0C, "\x07\x00\x00\x00", 4);
    assert_int_equal(f->kind, SQL_CMD_PROCESS_KILL);
    assert_int_equal(f->kill_id, 7);
    assert_int_equal(take(f), 1);
    send_cmd(f, 0x0C, "\x07", 1);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1835, "HY000", "Malformed communication packet.");
    fx_free(f);

    /* QUIT: no answer, close. */
    f = logged_in(CAPS);
    send_cmd(f, 0x01, NULL, 0);
    assert_int_equal(take(f), 0);
    assert_true(sql_proto_conn_want_close(f->c));
    fx_free(f);

    /* An executor failing without answering: ERR 1105. */
    f = logged_in(CAPS);
    f->exec_rc = SQL_EINTERNAL;
    query(f, "x");
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1105, "HY000", "internal error in libsql");
    assert_false(sql_proto_conn_busy(f->c));
    fx_free(f);
}

static void async_answer_queues_input(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    f->async = true;
    /* The query and a ping arrive together; only the query runs. */
    struct mc_buf b = {0};
    uint8_t seq = 0;
    mc_frame(&b, "\x03select 1", 9, &seq);
    seq = 0;
    mc_frame(&b, "\x0e", 1, &seq);
    feed(f, b.p, b.len);
    assert_int_equal(f->calls, 1);
    assert_true(sql_proto_conn_busy(f->c));
    assert_int_equal(take(f), 0);
    /* Writer calls out of shape are refused without output. */
    struct sql_value one = vint(1);
    assert_int_equal(sql_reply_row(f->c, &one, 1), SQL_ESTATE);
    assert_int_equal(sql_reply_text(f->c, "x", 1), SQL_ESTATE);
    assert_int_equal(sql_reply_prepared(f->c, 0, 0, 0), SQL_ESTATE);
    assert_int_equal(take(f), 0);
    /* The answer comes later. */
    f->async = false;
    struct sql_command cmd = {.kind = SQL_CMD_QUERY};
    answer_query(f, f->c, &cmd);
    assert_false(sql_proto_conn_busy(f->c));
    assert_int_equal(take(f), 4);
    /* The queued ping runs when the caller resumes. */
    assert_int_equal(sql_proto_conn_feed(f->c, NULL, 0, NULL), 0);
    assert_int_equal(take(f), 1);
    expect_ok_pkt(&f->pk[0], 1);
    /* Nothing in flight: the writer refuses. */
    struct sql_ok ok = {0};
    assert_int_equal(sql_reply_ok(f->c, &ok), SQL_ESTATE);
    assert_int_equal(sql_reply_error(f->c, 1, "HY000", "x"), SQL_ESTATE);
    mc_free(&b);
    fx_free(f);
}

static void writer_type_checks(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    f->async = true;
    query(f, "x");
    struct sql_proto_conn *c = f->c;
    assert_int_equal(sql_reply_columns(c, 0), SQL_ESTATE);
    assert_int_equal(sql_reply_columns(c, 2), 0);
    struct sql_column a = col("a", SQL_TYPE_TINY, 0, 0);
    struct sql_column d = col("d", SQL_TYPE_DATE, 0, 0);
    struct sql_value v[2] = {vint(1), vint(2)};
    assert_int_equal(sql_reply_row(c, v, 2), SQL_ESTATE); /* defs first */
    assert_int_equal(sql_reply_end(c, &(struct sql_ok){0}), SQL_ESTATE);
    assert_int_equal(sql_reply_column(c, &a), 0);
    assert_int_equal(sql_reply_column(c, &d), 0);
    assert_int_equal(sql_reply_row(c, v, 1), SQL_ESTATE); /* count */
    take(f);
    /* Text rows take any value; an unknown kind is refused. */
    v[1].kind = 99;
    assert_int_equal(sql_reply_row(c, v, 2), SQL_ETYPE);
    assert_int_equal(take(f), 0);
    v[1] = vint(2);
    assert_int_equal(sql_reply_row(c, v, 2), 0);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].seq, 4);
    /* An error may end a result set after rows. */
    assert_int_equal(sql_reply_error(c, 1317, "70100",
                                     "Query execution was interrupted"),
                     0);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 5, 1317, "70100",
               "Query execution was interrupted");
    fx_free(f);
}

/* The same session fed whole and one byte at a time gives the same bytes. */
static void run_session(struct fx *f, bool bytewise, struct mc_buf *all)
{
    struct mc_buf in = {0};
    greet(f);
    mc_put(all, f->out.p, f->out.len);
    uint8_t tok[20];
    mc_native_token("secret", f->scramble, tok);
    struct mc_login l = {.caps = CAPS | DEPRECATE_EOF, .user = "alice",
                         .auth = tok, .auth_len = 20, .db = "test",
                         .plugin = "mysql_native_password", .attrs = true};
    struct mc_buf p = {0};
    mc_login_payload(&p, &l);
    uint8_t seq = 1;
    mc_frame(&in, p.p, p.len, &seq);
    const char *cmds[] = {"\x03select 1", "\x03types", "\x0e",
                          "\x16p2", "\x03multi"};
    for (size_t i = 0; i < 5; i++) {
        seq = 0;
        mc_frame(&in, cmds[i], strlen(cmds[i]), &seq);
    }
    if (bytewise) {
        for (size_t i = 0; i < in.len; i++) {
            feed(f, in.p + i, 1);
            take(f);
            mc_put(all, f->out.p, f->out.len);
        }
    } else {
        feed(f, in.p, in.len);
        take(f);
        mc_put(all, f->out.p, f->out.len);
    }
    mc_free(&p);
    mc_free(&in);
}

static void fragmentation(void **state)
{
    (void)state;
    struct mc_buf whole = {0}, bytes = {0};
    struct fx *f = fx_make(0, false, 0);
    run_session(f, false, &whole);
    assert_true(sql_proto_conn_authenticated(f->c));
    fx_free(f);
    f = fx_make(0, false, 0);
    run_session(f, true, &bytes);
    fx_free(f);
    assert_true(whole.len > 500);
    assert_int_equal(whole.len, bytes.len);
    assert_memory_equal(whole.p, bytes.p, whole.len);
    mc_free(&whole);
    mc_free(&bytes);
}

/* ------------------------------------------------------------------ */
/* Prepared statements. */

static void prepare_layout(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS);
    send_cmd(f, 0x16, "p2", 2);
    assert_int_equal(f->kind, SQL_CMD_STMT_PREPARE);
    assert_int_equal(f->stmt_id, 1);
    /* PREPARE_OK, 2 params, EOF, 1 column, EOF */
    assert_int_equal(take(f), 6);
    static const uint8_t pok[] = {0x00, 1, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0};
    assert_int_equal(f->pk[0].len, sizeof pok);
    assert_memory_equal(f->pk[0].p, pok, sizeof pok);
    assert_memory_equal(f->pk[3].p, "\xFE\x00\x00\x02\x00", 5);
    assert_memory_equal(f->pk[5].p, "\xFE\x00\x00\x02\x00", 5);
    for (int i = 0; i < 6; i++)
        assert_int_equal(f->pk[i].seq, i + 1);
    /* No parameters, no columns: just PREPARE_OK. */
    send_cmd(f, 0x16, "p0", 2);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].p[1], 2);
    /* A failed prepare leaves no statement. */
    send_cmd(f, 0x16, "bad", 3);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1064, "42000", "syntax");
    send_cmd(f, 0x17, "\x03\x00\x00\x00\x00\x01\x00\x00\x00", 9);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1243, "HY000",
               "Unknown prepared statement handler (3) given to "
               "mysqld_stmt_execute");
    fx_free(f);

    f = logged_in(CAPS | DEPRECATE_EOF);
    send_cmd(f, 0x16, "p2", 2);
    assert_int_equal(take(f), 4); /* no EOFs */
    fx_free(f);
}

/* Execute with one parameter of each type, then check the binary row. */
static void execute_binary(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    send_cmd(f, 0x16, "p12", 3);
    take(f);
    struct mc_buf b = {0};
    mc_u32(&b, 1);     /* statement */
    mc_u8(&b, 0);      /* no cursor */
    mc_u32(&b, 1);     /* iterations */
    mc_u8(&b, 0x00);   /* null bitmap: param 11 is NULL */
    mc_u8(&b, 0x08);
    mc_u8(&b, 1);      /* types follow */
    static const uint8_t types[12][2] = {
        {SQL_TYPE_TINY, 0},     {SQL_TYPE_SHORT, 0x80},
        {SQL_TYPE_LONG, 0},     {SQL_TYPE_LONGLONG, 0x80},
        {SQL_TYPE_FLOAT, 0},    {SQL_TYPE_DOUBLE, 0},
        {SQL_TYPE_DATETIME, 0}, {SQL_TYPE_DATE, 0},
        {SQL_TYPE_TIME, 0},     {SQL_TYPE_VAR_STRING, 0},
        {SQL_TYPE_NEWDECIMAL, 0}, {SQL_TYPE_LONG, 0}};
    mc_put(&b, types, sizeof types);
    mc_u8(&b, 0xFE);                 /* -2 */
    mc_u16(&b, 65535);
    mc_u32(&b, (uint32_t)-70000);
    mc_u64(&b, UINT64_MAX);
    float fl = 1.5f;
    uint32_t fb;
    memcpy(&fb, &fl, 4);
    mc_u32(&b, fb);
    double db = 0.1;
    uint64_t dbits;
    memcpy(&dbits, &db, 8);
    mc_u64(&b, dbits);
    mc_put(&b, "\x0b\xe8\x07\x02\x1d\x0d\x05\x09\xd2\x04\x00\x00", 12);
    mc_put(&b, "\x04\xcf\x07\x0c\x1f", 5);
    mc_put(&b, "\x08\x01\x02\x00\x00\x00\x02\x01\x02", 9);
    mc_lenenc_str(&b, "hi");
    mc_lenenc_str(&b, "3.14");
    send_cmd(f, 0x17, b.p, b.len);
    assert_int_equal(f->kind, SQL_CMD_STMT_EXECUTE);
    assert_int_equal(f->nparams, 12);
    const struct sql_param *p = f->params;
    assert_int_equal(p[0].value.kind, SQL_VALUE_INT);
    assert_int_equal(p[0].value.v.i, -2);
    assert_int_equal(p[1].value.kind, SQL_VALUE_UINT);
    assert_int_equal(p[1].value.v.u, 65535);
    assert_int_equal(p[2].value.v.i, -70000);
    assert_true(p[3].value.v.u == UINT64_MAX);
    assert_true(p[3].is_unsigned);
    assert_int_equal(p[4].value.kind, SQL_VALUE_DOUBLE);
    assert_true(p[4].value.v.d == 1.5);
    assert_true(p[5].value.v.d == 0.1);
    assert_int_equal(p[6].value.kind, SQL_VALUE_DATETIME);
    assert_int_equal(p[6].value.v.t.year, 2024);
    assert_int_equal(p[6].value.v.t.micro, 1234);
    assert_int_equal(p[7].value.v.t.day, 31);
    assert_int_equal(p[8].value.kind, SQL_VALUE_TIME);
    assert_true(p[8].value.v.t.negative);
    assert_int_equal(p[8].value.v.t.hour, 50);
    assert_int_equal(p[9].value.kind, SQL_VALUE_BYTES);
    assert_string_equal(f->pbytes[9], "hi");
    assert_string_equal(f->pbytes[10], "3.14");
    assert_int_equal(p[11].value.kind, SQL_VALUE_NULL);
    assert_int_equal(p[11].type, SQL_TYPE_LONG);

    /* The binary row of types_result(). */
    int n = take(f);
    assert_int_equal(n, 1 + NTYPES + 1 + 1);
    const struct mc_pkt *row = &f->pk[1 + NTYPES];
    struct mc_buf e = {0};
    mc_u8(&e, 0x00);
    mc_u8(&e, 0x00); /* bitmap: column 11 at bit 13 */
    mc_u8(&e, 0x20);
    mc_u8(&e, 0xFE);
    mc_u16(&e, 65535);
    mc_u32(&e, (uint32_t)-70000);
    mc_u64(&e, UINT64_MAX);
    mc_u32(&e, fb);
    mc_u64(&e, dbits);
    mc_put(&e, "\x0b\xe8\x07\x02\x1d\x0d\x05\x09\xd2\x04\x00\x00", 12);
    mc_put(&e, "\x04\xcf\x07\x0c\x1f", 5);
    mc_put(&e, "\x08\x01\x02\x00\x00\x00\x02\x01\x02", 9);
    mc_lenenc_str(&e, "hi");
    mc_lenenc_str(&e, "3.14");
    assert_int_equal(row->len, e.len);
    assert_memory_equal(row->p, e.p, e.len);

    /* Types are remembered: execute again without them. */
    b.len = 0;
    mc_u32(&b, 1);
    mc_u8(&b, 0);
    mc_u32(&b, 1);
    mc_u8(&b, 0xFF); /* all NULL */
    mc_u8(&b, 0x0F);
    mc_u8(&b, 0);
    send_cmd(f, 0x17, b.p, b.len);
    assert_int_equal(f->params[0].type, SQL_TYPE_TINY);
    assert_int_equal(f->params[0].value.kind, SQL_VALUE_NULL);
    take(f);
    mc_free(&b);
    mc_free(&e);
    fx_free(f);
}

static void binary_datetime_lengths(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    send_cmd(f, 0x16, "p0", 2);
    take(f);
    f->async = true;
    send_cmd(f, 0x17, "\x01\x00\x00\x00\x00\x01\x00\x00\x00", 9);
    struct sql_proto_conn *c = f->c;
    assert_int_equal(sql_reply_columns(c, 4), 0);
    struct sql_column dt = col("dt", SQL_TYPE_DATETIME, 0, 0);
    struct sql_column tm = col("tm", SQL_TYPE_TIME, 0, 0);
    struct sql_column ti = col("ti", SQL_TYPE_TINY, 0, 0);
    struct sql_column yr = col("yr", SQL_TYPE_YEAR, 0, 0);
    assert_int_equal(sql_reply_column(c, &dt), 0);
    assert_int_equal(sql_reply_column(c, &tm), 0);
    assert_int_equal(sql_reply_column(c, &ti), 0);
    assert_int_equal(sql_reply_column(c, &yr), 0);
    take(f);
    struct sql_value v[4];
    memset(v, 0, sizeof v);
    v[0].kind = SQL_VALUE_DATETIME; /* all zero: length 0 */
    v[1].kind = SQL_VALUE_TIME;
    v[2] = vbytes("-128");          /* decimal text into TINY */
    v[3] = vint(2024);
    assert_int_equal(sql_reply_row(c, v, 4), 0);
    v[0].v.t = (struct sql_time){.year = 2000, .month = 1, .day = 2};
    v[1].v.t = (struct sql_time){.hour = 1, .micro = 5};
    v[2] = vint(127);
    assert_int_equal(sql_reply_row(c, v, 4), 0);
    v[0].v.t.second = 1;
    v[1].v.t.micro = 0;
    assert_int_equal(sql_reply_row(c, v, 4), 0);
    assert_int_equal(take(f), 3);
    assert_int_equal(f->pk[0].len, 2 + 1 + 1 + 1 + 2);
    assert_memory_equal(f->pk[0].p, "\x00\x00\x00\x00\x80\xe8\x07", 7);
    static const uint8_t r2[] = {0, 0, 4, 0xD0, 0x07, 1, 2,
                                 12, 0, 0, 0, 0, 0, 1, 0, 0, 5, 0, 0, 0,
                                 0x7F, 0xE8, 0x07};
    assert_int_equal(f->pk[1].len, sizeof r2);
    assert_memory_equal(f->pk[1].p, r2, sizeof r2);
    static const uint8_t r3[] = {0, 0, 7, 0xD0, 0x07, 1, 2, 0, 0, 1,
                                 8, 0, 0, 0, 0, 0, 1, 0, 0,
                                 0x7F, 0xE8, 0x07};
    assert_int_equal(f->pk[2].len, sizeof r3);
    assert_memory_equal(f->pk[2].p, r3, sizeof r3);
    /* Values that do not fit their column are refused, nothing written. */
    v[2] = vint(128);
    assert_int_equal(sql_reply_row(c, v, 4), SQL_ETYPE);
    v[2] = vbytes("12x");
    assert_int_equal(sql_reply_row(c, v, 4), SQL_ETYPE);
    v[2] = vint(1);
    v[0] = vint(1);
    assert_int_equal(sql_reply_row(c, v, 4), SQL_ETYPE);
    assert_int_equal(take(f), 0);
    struct sql_ok ok = {.status = 2};
    assert_int_equal(sql_reply_end(c, &ok), 0);
    assert_int_equal(take(f), 1);
    assert_false(sql_proto_conn_busy(c));
    fx_free(f);
}

static void long_data_close_reset(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    send_cmd(f, 0x16, "p2", 2); /* id 1 */
    take(f);
    send_cmd(f, 0x16, "p2", 2); /* id 2 */
    take(f);
    /* Long data for parameter 1 of statement 2, in two pieces. */
    send_cmd(f, 0x18, "\x02\x00\x00\x00\x01\x00" "abc", 9);
    send_cmd(f, 0x18, "\x02\x00\x00\x00\x01\x00" "def", 9);
    assert_int_equal(take(f), 0); /* no answer */
    struct mc_buf b = {0};
    mc_u32(&b, 2);
    mc_u8(&b, 0);
    mc_u32(&b, 1);
    mc_u8(&b, 0);
    mc_u8(&b, 1);
    mc_put(&b, "\xfd\x00\xfc\x00", 4);
    mc_lenenc_str(&b, "x");
    send_cmd(f, 0x17, b.p, b.len);
    assert_int_equal(f->nparams, 2);
    assert_string_equal(f->pbytes[0], "x");
    assert_string_equal(f->pbytes[1], "abcdef");
    take(f);
    /* Long data is gone after the execute: parameter 1 now needs bytes. */
    send_cmd(f, 0x17, b.p, b.len);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1835, "HY000", "Malformed communication packet.");
    fx_free(f);

    f = logged_in(CAPS | DEPRECATE_EOF);
    send_cmd(f, 0x16, "p2", 2);
    take(f);
    /* First execute without types: 1210. */
    send_cmd(f, 0x17, "\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00", 11);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1210, "HY000",
               "Incorrect arguments to mysqld_stmt_execute");
    /* Long data for a parameter that does not exist: 1210 at execute. */
    send_cmd(f, 0x18, "\x01\x00\x00\x00\x09\x00" "z", 7);
    b.len = 0;
    mc_u32(&b, 1);
    mc_u8(&b, 0);
    mc_u32(&b, 1);
    mc_u8(&b, 3);
    mc_u8(&b, 1);
    mc_put(&b, "\x03\x00\x03\x00", 4);
    send_cmd(f, 0x17, b.p, b.len);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1210, "HY000",
               "Incorrect arguments to mysqld_stmt_execute");
    /* STMT_RESET: OK; unknown id: 1243. */
    send_cmd(f, 0x1A, "\x01\x00\x00\x00", 4);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].p[0], 0x00);
    send_cmd(f, 0x1A, "\x09\x00\x00\x00", 4);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 1, 1243, "HY000",
               "Unknown prepared statement handler (9) given to "
               "mysqld_stmt_reset");
    /* CLOSE: no answer, the executor is told; then the id is unknown. */
    send_cmd(f, 0x19, "\x01\x00\x00\x00", 4);
    assert_int_equal(take(f), 0);
    assert_int_equal(f->nclosed, 1);
    assert_int_equal(f->closed[0], 1);
    send_cmd(f, 0x19, "\x01\x00\x00\x00", 4); /* twice: ignored */
    assert_int_equal(f->nclosed, 1);
    send_cmd(f, 0x17, b.p, b.len);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].p[0], 0xFF);
    /* RESET_CONNECTION closes every statement. */
    send_cmd(f, 0x16, "p0", 2);
    send_cmd(f, 0x16, "p0", 2);
    take(f);
    send_cmd(f, 0x1F, NULL, 0);
    assert_int_equal(f->kind, SQL_CMD_RESET_CONNECTION);
    assert_int_equal(f->nclosed, 3);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].p[0], 0x00);
    mc_free(&b);
    fx_free(f);
}

/* Every wire type in a binary row: one column each, with its bytes. */
struct bin_case {
    uint8_t type;           /* column type */
    uint16_t flags;         /* column flags */
    struct sql_value v;     /* value */
    const char *bytes;      /* expected encoding */
    size_t n;               /* its length */
};

static void binary_every_type(void **state)
{
    (void)state;
    struct sql_value i7 = vint(7), neg = vint(-1), s = vbytes("ab");
    struct sql_value d = {.kind = SQL_VALUE_DOUBLE, .v.d = -2.0};
    struct sql_value ts = {.kind = SQL_VALUE_DATETIME};
    ts.v.t = (struct sql_time){.year = 2001, .month = 2, .day = 3,
                               .hour = 4, .minute = 5, .second = 6};
    struct sql_value tm = {.kind = SQL_VALUE_TIME};
    tm.v.t = (struct sql_time){.hour = 30, .minute = 1, .second = 2,
                               .micro = 7};
    const struct bin_case cases[] = {
        {SQL_TYPE_TINY, 0, neg, "\xff", 1},
        {SQL_TYPE_TINY, SQL_COLFLAG_UNSIGNED, vint(255), "\xff", 1},
        {SQL_TYPE_SHORT, 0, neg, "\xff\xff", 2},
        {SQL_TYPE_YEAR, 0, vint(1999), "\xcf\x07", 2},
        {SQL_TYPE_INT24, 0, i7, "\x07\x00\x00\x00", 4},
        {SQL_TYPE_LONG, SQL_COLFLAG_UNSIGNED, vbytes("4294967295"),
         "\xff\xff\xff\xff", 4},
        {SQL_TYPE_LONGLONG, 0, neg, "\xff\xff\xff\xff\xff\xff\xff\xff", 8},
        {SQL_TYPE_FLOAT, 0, d, "\x00\x00\x00\xc0", 4},
        {SQL_TYPE_DOUBLE, 0, i7, "\x00\x00\x00\x00\x00\x00\x1c\x40", 8},
        {SQL_TYPE_TIMESTAMP, 0, ts, "\x07\xd1\x07\x02\x03\x04\x05\x06", 8},
        {SQL_TYPE_NEWDATE, 0, ts, "\x04\xd1\x07\x02\x03", 5},
        {SQL_TYPE_TIME, 0, tm,
         "\x0c\x00\x01\x00\x00\x00\x06\x01\x02\x07\x00\x00\x00", 13},
        {SQL_TYPE_VARCHAR, 0, s, "\x02" "ab", 3},
        {SQL_TYPE_BIT, 0, s, "\x02" "ab", 3},
        {SQL_TYPE_JSON, 0, vbytes("{}"), "\x02{}", 3},
        {SQL_TYPE_NEWDECIMAL, 0, vbytes("-1.50"), "\x05-1.50", 6},
        {SQL_TYPE_DECIMAL, 0, vbytes("1"), "\x01" "1", 2},
        {SQL_TYPE_ENUM, 0, s, "\x02" "ab", 3},
        {SQL_TYPE_SET, 0, s, "\x02" "ab", 3},
        {SQL_TYPE_TINY_BLOB, 0, s, "\x02" "ab", 3},
        {SQL_TYPE_MEDIUM_BLOB, 0, s, "\x02" "ab", 3},
        {SQL_TYPE_LONG_BLOB, 0, s, "\x02" "ab", 3},
        {SQL_TYPE_BLOB, 0, s, "\x02" "ab", 3},
        {SQL_TYPE_VAR_STRING, 0, i7, "\x01" "7", 2},
        {SQL_TYPE_STRING, 0, ts, "\x13" "2001-02-03 04:05:06", 20},
        {SQL_TYPE_GEOMETRY, 0, s, "\x02" "ab", 3},
    };
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    send_cmd(f, 0x16, "p0", 2);
    take(f);
    f->async = true;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bin_case *bc = &cases[i];
        send_cmd(f, 0x17, "\x01\x00\x00\x00\x00\x01\x00\x00\x00", 9);
        struct sql_column cd = col("c", bc->type, bc->flags, 31);
        assert_int_equal(sql_reply_columns(f->c, 1), 0);
        assert_int_equal(sql_reply_column(f->c, &cd), 0);
        take(f);
        assert_int_equal(sql_reply_row(f->c, &bc->v, 1), 0);
        assert_int_equal(take(f), 1);
        assert_int_equal(f->pk[0].len, 2 + bc->n);
        assert_memory_equal(f->pk[0].p, "\x00\x00", 2);
        assert_memory_equal(f->pk[0].p + 2, bc->bytes, bc->n);
        /* NULL: bitmap bit 2, no value. */
        struct sql_value null = {.kind = SQL_VALUE_NULL};
        assert_int_equal(sql_reply_row(f->c, &null, 1), 0);
        assert_int_equal(take(f), 1);
        assert_int_equal(f->pk[0].len, 2);
        assert_memory_equal(f->pk[0].p, "\x00\x04", 2);
        struct sql_ok ok = {.status = 2};
        assert_int_equal(sql_reply_end(f->c, &ok), 0);
        take(f);
    }
    fx_free(f);
}

/* Every parameter type the binary protocol sends, decoded. */
static void params_every_type(void **state)
{
    (void)state;
    /* Statement 2 (statement 1 answers with a result set). */
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    send_cmd(f, 0x16, "p0", 2);
    send_cmd(f, 0x16, "p2", 2);
    take(f);
    static const struct {
        uint8_t type;      /* parameter type */
        uint8_t uns;       /* 0x80 when unsigned */
        const char *bytes; /* its value on the wire */
        size_t n;          /* length */
        int kind;          /* decoded kind */
    } cases[] = {
        {SQL_TYPE_TINY, 0x80, "\xff", 1, SQL_VALUE_UINT},
        {SQL_TYPE_YEAR, 0, "\xcf\x07", 2, SQL_VALUE_INT},
        {SQL_TYPE_INT24, 0, "\xff\xff\xff\xff", 4, SQL_VALUE_INT},
        {SQL_TYPE_LONGLONG, 0, "\xff\xff\xff\xff\xff\xff\xff\xff", 8,
         SQL_VALUE_INT},
        {SQL_TYPE_TIMESTAMP, 0, "\x00", 1, SQL_VALUE_DATETIME},
        {SQL_TYPE_DATE, 0, "\x04\xd1\x07\x02\x03", 5, SQL_VALUE_DATETIME},
        {SQL_TYPE_DATETIME, 0, "\x07\xd1\x07\x02\x03\x04\x05\x06", 8,
         SQL_VALUE_DATETIME},
        {SQL_TYPE_TIME, 0, "\x00", 1, SQL_VALUE_TIME},
        {SQL_TYPE_NULL, 0, "", 0, SQL_VALUE_NULL},
        {SQL_TYPE_DECIMAL, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
        {SQL_TYPE_NEWDECIMAL, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
        {SQL_TYPE_VARCHAR, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
        {SQL_TYPE_BIT, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
        {SQL_TYPE_JSON, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
        {SQL_TYPE_ENUM, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
        {SQL_TYPE_SET, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
        {SQL_TYPE_TINY_BLOB, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
        {SQL_TYPE_MEDIUM_BLOB, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
        {SQL_TYPE_LONG_BLOB, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
        {SQL_TYPE_BLOB, 0, "\xfc\x01\x00" "5", 4, SQL_VALUE_BYTES},
        {SQL_TYPE_STRING, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
        {SQL_TYPE_GEOMETRY, 0, "\x01" "5", 2, SQL_VALUE_BYTES},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mc_buf b = {0};
        mc_u32(&b, 2);
        mc_u8(&b, 0);
        mc_u32(&b, 1);
        mc_u8(&b, 0x02); /* parameter 1 is NULL */
        mc_u8(&b, 1);
        mc_u8(&b, cases[i].type);
        mc_u8(&b, cases[i].uns);
        mc_put(&b, "\x06\x00", 2);
        mc_put(&b, cases[i].bytes, cases[i].n);
        send_cmd(f, 0x17, b.p, b.len);
        assert_int_equal(take(f), 1);
        assert_int_equal(f->pk[0].p[0], 0x00); /* the executor's OK */
        assert_int_equal(f->params[0].type, cases[i].type);
        assert_int_equal(f->params[0].value.kind, cases[i].kind);
        assert_int_equal(f->params[1].value.kind, SQL_VALUE_NULL);
        if (cases[i].kind == SQL_VALUE_BYTES)
            assert_string_equal(f->pbytes[0], "5");
        /* One byte short is malformed (except the empty NULL value). */
        if (cases[i].n > 0) {
            b.len--;
            send_cmd(f, 0x17, b.p, b.len);
            assert_int_equal(take(f), 1);
            expect_err(&f->pk[0], 1, 1835, "HY000",
                       "Malformed communication packet.");
            mc_free(&b);
            fx_free(f);
            f = logged_in(CAPS | DEPRECATE_EOF);
            send_cmd(f, 0x16, "p0", 2);
            send_cmd(f, 0x16, "p2", 2);
            take(f);
        }
        mc_free(&b);
    }
    fx_free(f);
}

/* The SSL request and the login fed one byte at a time. */
static void tls_upgrade_bytewise(void **state)
{
    (void)state;
    struct fx *f = fx_make(0, true, 0);
    greet(f);
    struct mc_buf b = {0}, wire = {0};
    static const uint8_t filler[23];
    mc_u32(&b, CAPS | SQL_CLIENT_SSL);
    mc_u32(&b, 1u << 24);
    mc_u8(&b, 255);
    mc_put(&b, filler, 23);
    uint8_t seq = 1;
    mc_frame(&wire, b.p, b.len, &seq);
    mc_put(&wire, "\x16\x03", 2);
    size_t i = 0, used;
    while (!sql_proto_conn_want_tls(f->c)) {
        assert_int_equal(sql_proto_conn_feed(f->c, wire.p + i, 1, &used), 0);
        assert_int_equal(used, 1);
        i++;
    }
    assert_int_equal(i, 36);
    assert_int_equal(sql_proto_conn_feed(f->c, wire.p + i, 1, &used), 0);
    assert_int_equal(used, 0);
    assert_int_equal(sql_proto_conn_tls_started(f->c), 0);
    b.len = 0;
    wire.len = 0;
    uint8_t tok[20];
    mc_native_token("secret", f->scramble, tok);
    struct mc_login l = {.caps = CAPS | SQL_CLIENT_SSL, .user = "alice",
                         .auth = tok, .auth_len = 20};
    mc_login_payload(&b, &l);
    seq = 2;
    mc_frame(&wire, b.p, b.len, &seq);
    for (i = 0; i < wire.len; i++)
        feed(f, wire.p + i, 1);
    assert_int_equal(take(f), 1);
    expect_ok_pkt(&f->pk[0], 3);
    mc_free(&b);
    mc_free(&wire);
    fx_free(f);
}

/* Commands whose fixed fields are cut short: ERR 1835 and close, for
 * every cut; and pipelined commands behind an asynchronous answer. */
static void truncated_commands(void **state)
{
    (void)state;
    static const struct {
        const char *pkt; /* a valid command */
        size_t n;        /* its length */
    } cmds[] = {
        {"\x0c\x01\x00\x00\x00", 5},                 /* PROCESS_KILL */
        {"\x17\x02\x00\x00\x00\x00\x01\x00\x00\x00", 10}, /* EXECUTE */
        {"\x18\x02\x00\x00\x00\x00\x00", 7},         /* SEND_LONG_DATA */
        {"\x19\x02\x00\x00\x00", 5},                 /* STMT_CLOSE */
        {"\x1a\x02\x00\x00\x00", 5},                 /* STMT_RESET */
        {"\x1b\x00\x00", 3},                         /* SET_OPTION */
        {"\x04t\x00", 3},                             /* FIELD_LIST */
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        for (size_t cut = 1; cut < cmds[i].n; cut++) {
            struct fx *f = logged_in(CAPS);
            send_cmd(f, 0x16, "p2", 2); /* statement 1 */
            take(f);
            send_pkt(f, cmds[i].pkt, cut, 0);
            assert_int_equal(take(f), 1);
            expect_err(&f->pk[0], 1, 1835, "HY000",
                       "Malformed communication packet.");
            assert_true(sql_proto_conn_want_close(f->c));
            fx_free(f);
        }
    }
    /* The statement's execute with its parameter block cut anywhere. */
    struct mc_buf b = {0};
    mc_u32(&b, 1);
    mc_u8(&b, 0);
    mc_u32(&b, 1);
    mc_u8(&b, 0);
    mc_u8(&b, 1);
    mc_put(&b, "\x08\x00\xfe\x00", 4);
    mc_u64(&b, 5);
    mc_lenenc_str(&b, "xyz");
    for (size_t cut = 9; cut < b.len; cut++) {
        struct fx *f = logged_in(CAPS);
        send_cmd(f, 0x16, "p2", 2);
        take(f);
        send_cmd(f, 0x17, b.p, cut);
        assert_int_equal(take(f), 1);
        expect_err(&f->pk[0], 1, 1835, "HY000",
                   "Malformed communication packet.");
        fx_free(f);
    }
    mc_free(&b);
}

static void pipelined_async(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    f->async = true;
    struct mc_buf in = {0};
    for (int i = 0; i < 3; i++) {
        uint8_t seq = 0;
        mc_frame(&in, "\x03insert", 7, &seq);
    }
    uint8_t seq = 0;
    mc_frame(&in, "\x01", 1, &seq); /* then QUIT */
    feed(f, in.p, in.len);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(f->calls, i);
        assert_true(sql_proto_conn_busy(f->c));
        assert_int_equal(take(f), 0);
        struct sql_ok ok = {.status = 2, .affected_rows = (uint64_t)i};
        assert_int_equal(sql_reply_ok(f->c, &ok), 0);
        assert_false(sql_proto_conn_busy(f->c));
        assert_int_equal(take(f), 1);
        assert_int_equal(f->pk[0].seq, 1);
        assert_int_equal(f->pk[0].p[1], i);
        assert_false(sql_proto_conn_want_close(f->c));
        assert_int_equal(sql_proto_conn_feed(f->c, NULL, 0, NULL), 0);
    }
    /* The QUIT ran after the third answer. */
    assert_int_equal(f->calls, 3);
    assert_true(sql_proto_conn_want_close(f->c));
    mc_free(&in);
    fx_free(f);
}

/* An answer cut short by the executor ends with an ERR, and a prepare cut
 * short leaves no statement behind. */
static void errors_mid_answer(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    f->async = true;
    query(f, "x");
    assert_int_equal(sql_reply_columns(f->c, 2), 0);
    struct sql_column a = col("a", SQL_TYPE_LONG, 0, 0);
    assert_int_equal(sql_reply_column(f->c, &a), 0);
    assert_int_equal(sql_reply_error(f->c, 1317, "70100",
                                     "Query execution was interrupted"),
                     0);
    assert_int_equal(take(f), 3);
    expect_err(&f->pk[2], 3, 1317, "70100",
               "Query execution was interrupted");
    assert_false(sql_proto_conn_busy(f->c));
    /* Prepare: OK header and one definition, then an error. */
    send_cmd(f, 0x16, "p2", 2);
    assert_int_equal(sql_reply_prepared(f->c, 2, 0, 0), 0);
    assert_int_equal(sql_reply_column(f->c, &a), 0);
    assert_int_equal(sql_reply_error(f->c, 1105, "HY000", "oops"), 0);
    take(f);
    f->async = false;
    send_cmd(f, 0x19, "\x01\x00\x00\x00", 4); /* unknown now: ignored */
    assert_int_equal(f->nclosed, 0);
    send_cmd(f, 0x1A, "\x01\x00\x00\x00", 4);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].p[0], 0xFF);
    fx_free(f);
}

/* An executor that fails after writing part of its answer. */
static int failing_execute(void *ctx, struct sql_proto_conn *c,
                           const struct sql_command *cmd)
{
    (void)ctx;
    if (cmd->kind != SQL_CMD_QUERY)
        return 0;
    struct sql_column a = col("a", SQL_TYPE_LONG, 0, 0);
    assert_int_equal(sql_reply_columns(c, 1), 0);
    assert_int_equal(sql_reply_column(c, &a), 0);
    return -EIO;
}

static void executor_fails_mid_answer(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    sql_proto_conn_destroy(f->c);
    f->o.exec.execute = failing_execute;
    f->c = sql_proto_conn_create(&f->o);
    greet(f);
    send_login(f, CAPS | DEPRECATE_EOF, "root", "", NULL, NULL, 1);
    take(f);
    query(f, "x");
    assert_int_equal(take(f), 3);
    expect_err(&f->pk[2], 3, 1105, "HY000", strerror(EIO));
    assert_false(sql_proto_conn_want_close(f->c));
    assert_false(sql_proto_conn_busy(f->c));
    fx_free(f);
}

/* Doubles in text rows look as MySQL prints them. */
static void double_text_format(void **state)
{
    (void)state;
    static const struct {
        double d;         /* value */
        const char *text; /* MySQL's text */
    } cases[] = {
        {1e14, "100000000000000"}, {1e15, "1e15"},
        {2.3e14, "230000000000000"}, {2.3e15, "2.3e15"},
        {1e-15, "0.000000000000001"}, {1e-16, "1e-16"},
        {3.4e-15, "0.0000000000000034"}, {3.4e-16, "3.4e-16"},
        {0.1, "0.1"}, {0.1 + 0.2, "0.30000000000000004"}, {-2.0, "-2"},
        {100.0, "100"}, {123.456, "123.456"}, {0.0, "0"},
        {1.2345678901234568e17, "1.2345678901234568e17"},
        {-1.5e-300, "-1.5e-300"}, {1e100, "1e100"},
    };
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    f->async = true;
    query(f, "x");
    struct sql_column d = col("d", SQL_TYPE_DOUBLE, 0, 31);
    assert_int_equal(sql_reply_columns(f->c, 1), 0);
    assert_int_equal(sql_reply_column(f->c, &d), 0);
    take(f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sql_value v = {.kind = SQL_VALUE_DOUBLE, .v.d = cases[i].d};
        assert_int_equal(sql_reply_row(f->c, &v, 1), 0);
        assert_int_equal(take(f), 1);
        struct mc_buf e = {0};
        mc_lenenc_str(&e, cases[i].text);
        assert_int_equal(f->pk[0].len, e.len);
        assert_memory_equal(f->pk[0].p, e.p, e.len);
        mc_free(&e);
    }
    fx_free(f);
}

/* ------------------------------------------------------------------ */
/* Packets over 16 MiB. */

static void big_packets(void **state)
{
    (void)state;
    struct fx *f = logged_in(CAPS | DEPRECATE_EOF);
    /* A query of 16 MiB + 10 bytes arrives in two packets. */
    size_t qlen = 0xFFFFFF + 10;
    char *q = malloc(qlen);
    assert_non_null(q);
    memset(q, 'a', qlen);
    q[0] = 0x03;
    memcpy(q + 1, "SELECT", 6);
    q[qlen - 1] = 'z';
    send_pkt(f, q, qlen, 0);
    assert_int_equal(f->kind, SQL_CMD_QUERY);
    assert_int_equal(f->text_len, qlen - 1);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].seq, 2); /* after client seqs 0 and 1 */
    /* Exactly 0xFFFFFF bytes: a full packet and an empty one. */
    send_pkt(f, q, 0xFFFFFF, 0);
    assert_int_equal(f->text_len, 0xFFFFFF - 1);
    assert_int_equal(take(f), 1);
    assert_int_equal(f->pk[0].seq, 2);
    free(q);

    /* A row of 17 MiB is split on the way out. */
    f->big_len = 17u << 20;
    f->big = malloc(f->big_len);
    assert_non_null(f->big);
    for (size_t i = 0; i < f->big_len; i++)
        f->big[i] = (char)('a' + i % 26);
    query(f, "big");
    assert_int_equal(take(f), 5); /* count, def, row x2, end */
    assert_int_equal(f->pk[2].len, 0xFFFFFF);
    assert_int_equal(f->pk[2].seq, 3);
    assert_int_equal(f->pk[3].seq, 4);
    assert_int_equal(f->pk[2].len + f->pk[3].len, 1 + 8 + f->big_len);
    assert_int_equal(f->pk[2].p[0], 0xFE); /* 8-byte lenenc length */
    assert_int_equal(f->pk[4].seq, 5);
    /* Joined, the value is intact. */
    assert_memory_equal(f->pk[2].p + 9, f->big, 0xFFFFFF - 9);
    assert_memory_equal(f->pk[3].p, f->big + 0xFFFFFF - 9, f->pk[3].len);

    /* Drained in uneven pieces (the output compacts as it goes) while a
     * ping is answered in between: the bytes come out whole and in
     * order. */
    struct mc_buf whole = {0};
    mc_put(&whole, f->out.p, f->out.len);
    query(f, "big");
    size_t got = 0, n, step = 1;
    while (got < whole.len) {
        const uint8_t *p = sql_proto_conn_output(f->c, &n);
        assert_true(n > 0);
        size_t k = n < step ? n : step;
        if (k > whole.len - got)
            k = whole.len - got;
        assert_memory_equal(p, whole.p + got, k);
        sql_proto_conn_consume(f->c, k);
        got += k;
        step = step * 3 + 7;
        if (got > whole.len / 2 && got - k <= whole.len / 2)
            send_cmd(f, 0x0E, NULL, 0);
    }
    assert_int_equal(take(f), 1);
    expect_ok_pkt(&f->pk[0], 1);
    mc_free(&whole);
    fx_free(f);
}

static void reject_and_misuse(void **state)
{
    (void)state;
    struct fx *f = fx_make(0, false, 0);
    assert_int_equal(sql_proto_conn_feed(f->c, "x", 1, NULL), SQL_ESTATE);
    assert_int_equal(sql_proto_conn_reject(f->c, 1040, "08004",
                                           "Too many connections"),
                     0);
    assert_int_equal(take(f), 1);
    expect_err(&f->pk[0], 0, 1040, "08004", "Too many connections");
    assert_true(sql_proto_conn_want_close(f->c));
    assert_int_equal(sql_proto_conn_start(f->c), SQL_ESTATE);
    fx_free(f);
    sql_proto_conn_destroy(NULL);
    struct sql_proto_options o;
    memset(&o, 0, sizeof o);
    assert_null(sql_proto_conn_create(&o));
    assert_null(sql_proto_conn_create(NULL));
}

static void stored_hashes(void **state)
{
    (void)state;
    /* SHA1(SHA1("secret")), as MySQL shows it: *14E65567ABDB5135... */
    uint8_t h[20];
    sql_auth_native_hash("secret", 6, h);
    static const uint8_t want[20] = {
        0x14, 0xE6, 0x55, 0x67, 0xAB, 0xDB, 0x51, 0x35, 0xD0, 0xCF,
        0xD9, 0xA7, 0x0B, 0x30, 0x32, 0xC1, 0x79, 0xA4, 0x9E, 0xE7};
    assert_memory_equal(h, want, 20);
}


/* ------------------------------------------------------------------ */
/* Allocation failures: fail the i-th allocation of a whole session for
 * every i; each run ends cleanly (a code, never a crash) and leaks
 * nothing. */

struct faultsim {
    long countdown; /* allocations left before failing; <0: never */
    long live;      /* blocks allocated and not freed */
    bool hit;       /* a failure was injected */
};

static struct faultsim fsim;

static void *fs_malloc(void *ctx, size_t n)
{
    (void)ctx;
    if (fsim.countdown >= 0 && fsim.countdown-- == 0) {
        fsim.hit = true;
        return NULL;
    }
    void *p = malloc(n);
    if (p != NULL)
        fsim.live++;
    return p;
}

static void *fs_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (fsim.countdown >= 0 && fsim.countdown-- == 0) {
        fsim.hit = true;
        return NULL;
    }
    void *q = realloc(p, n);
    if (q != NULL && p == NULL)
        fsim.live++;
    return q;
}

static void fs_free(void *ctx, void *p)
{
    (void)ctx;
    if (p != NULL)
        fsim.live--;
    free(p);
}

/* An executor that tolerates failing writer calls. */
static int tolerant_calls; /* commands seen by tolerant_execute */

static int tolerant_execute(void *ctx, struct sql_proto_conn *c,
                            const struct sql_command *cmd)
{
    (void)ctx;
    tolerant_calls++;
    struct sql_ok ok = {.status = SQL_SERVER_STATUS_AUTOCOMMIT};
    struct sql_column a = col("a", SQL_TYPE_LONG, 0, 0);
    struct sql_value v = vint(5);
    int rc;
    switch (cmd->kind) {
    case SQL_CMD_STMT_CLOSE:
        return 0;
    case SQL_CMD_QUERY:
    case SQL_CMD_STMT_EXECUTE:
        rc = sql_reply_columns(c, 1);
        rc = rc ? rc : sql_reply_column(c, &a);
        rc = rc ? rc : sql_reply_row(c, &v, 1);
        rc = rc ? rc : sql_reply_end(c, &ok);
        return rc;
    case SQL_CMD_STMT_PREPARE:
        rc = sql_reply_prepared(c, 1, 1, 0);
        rc = rc ? rc : sql_reply_column(c, &a);
        rc = rc ? rc : sql_reply_column(c, &a);
        return rc;
    default:
        return sql_reply_ok(c, &ok);
    }
}

static void allocation_failures(void **state)
{
    (void)state;
    struct sql_heap h = {NULL, fs_malloc, fs_realloc, fs_free};
    /* The client's bytes, computed once with the fixed nonce. */
    struct mc_buf in = {0};
    uint8_t seq = 1;
    struct mc_login l = {.caps = CAPS, .user = "root", .db = "test",
                         .plugin = "mysql_native_password", .attrs = true};
    struct mc_buf p = {0};
    mc_login_payload(&p, &l);
    mc_frame(&in, p.p, p.len, &seq);
    static const char *const cmds[] = {"\x03select", "\x16prep", "\x0e"};
    for (size_t i = 0; i < 3; i++) {
        seq = 0;
        mc_frame(&in, cmds[i], strlen(cmds[i]), &seq);
    }
    seq = 0;
    mc_frame(&in, "\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01"
                  "\xfd\x00\x01z",
             16, &seq);
    seq = 0;
    mc_frame(&in, "\x19\x01\x00\x00\x00", 5, &seq);
    bool completed = false;
    long i;
    for (i = 0; !completed && i < 1000; i++) {
        tolerant_calls = 0;
        memset(&fsim, 0, sizeof fsim);
        fsim.countdown = i;
        sql_heap_set(&h);
        struct sql_proto_options o;
        memset(&o, 0, sizeof o);
        o.auth.lookup = lookup;
        o.exec.execute = tolerant_execute;
        struct sql_proto_conn *c = sql_proto_conn_create(&o);
        if (c != NULL) {
            int rc = sql_proto_conn_start(c);
            assert_true(rc == 0 || rc == -ENOMEM);
            if (rc == 0) {
                rc = sql_proto_conn_feed(c, in.p, in.len, NULL);
                assert_true(rc == 0 || rc == -ENOMEM);
                if (rc == -ENOMEM)
                    assert_true(sql_proto_conn_want_close(c));
            }
            sql_proto_conn_destroy(c);
        }
        assert_int_equal(fsim.live, 0);
        completed = !fsim.hit;
        sql_heap_set(NULL);
    }
    assert_true(completed);
    /* The clean run saw INIT_DB, QUERY, PREPARE, EXECUTE and CLOSE, and
     * there were many allocations to fail before it. */
    assert_int_equal(tolerant_calls, 5);
    assert_true(i > 12); /* 16 when written */
    mc_free(&p);
    mc_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_bytes),
        cmocka_unit_test(native_password),
        cmocka_unit_test(sha2_fast_path),
        cmocka_unit_test(sha2_full_needs_tls),
        cmocka_unit_test(tls_upgrade_and_full_auth),
        cmocka_unit_test(ssl_request_without_tls_offer),
        cmocka_unit_test(auth_switch),
        cmocka_unit_test(require_tls),
        cmocka_unit_test(connect_with_db_and_attrs),
        cmocka_unit_test(handshake_truncated),
        cmocka_unit_test(bad_sequence_and_sizes),
        cmocka_unit_test(query_text_result_eof),
        cmocka_unit_test(query_deprecate_eof),
        cmocka_unit_test(ok_and_err_layout),
        cmocka_unit_test(multi_statements),
        cmocka_unit_test(text_row_of_every_type),
        cmocka_unit_test(double_text_format),
        cmocka_unit_test(simple_commands),
        cmocka_unit_test(async_answer_queues_input),
        cmocka_unit_test(writer_type_checks),
        cmocka_unit_test(fragmentation),
        cmocka_unit_test(prepare_layout),
        cmocka_unit_test(execute_binary),
        cmocka_unit_test(binary_datetime_lengths),
        cmocka_unit_test(long_data_close_reset),
        cmocka_unit_test(binary_every_type),
        cmocka_unit_test(params_every_type),
        cmocka_unit_test(tls_upgrade_bytewise),
        cmocka_unit_test(truncated_commands),
        cmocka_unit_test(pipelined_async),
        cmocka_unit_test(errors_mid_answer),
        cmocka_unit_test(executor_fails_mid_answer),
        cmocka_unit_test(big_packets),
        cmocka_unit_test(reject_and_misuse),
        cmocka_unit_test(stored_hashes),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests_name("libsql/proto", tests, NULL, NULL);
}

/* test_acct.c: accounts, privileges and KILL through the protocol engine
 * with the server's own auth provider (sql_session_auth): root's
 * bootstrap password, logins with both plugins (and the auth switch
 * between them), host matching, CREATE/DROP/ALTER USER and SET PASSWORD,
 * GRANT/REVOKE taking effect on live sessions, the exact error of every
 * statement kind without its privilege, what SHOW and information_schema
 * show, persistence across a restart, and KILL (a lock wait interrupted).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "acct.h"
#include "kv.h"
#include "myclient.h"
#include "parse.h"
#include "session.h"
#include "sqlfx.h"
#include "wire.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)

static uint32_t killed_id; /* what on_kill saw last */

static void on_kill(void *ctx, uint32_t id)
{
    (void)ctx;
    killed_id = id;
}

static void open_server(struct sqlfx *f, bool rocks, bool concurrent,
                        const char *root_pw)
{
    memset(f, 0, sizeof(*f));
    if (rocks) {
        snprintf(f->dir, sizeof(f->dir), "/tmp/acctfx.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
    }
    struct sql_server_options o = {.data_dir = rocks ? f->dir : NULL,
                                   .concurrent = concurrent,
                                   .root_password = root_pw,
                                   .on_kill = on_kill};
    char err[256] = "";
    int rc = sql_server_open(&o, &f->srv, err, sizeof(err));
    if (rc != 0)
        fail_msg("sql_server_open: %d %s", rc, err);
}

static void reopen(struct sqlfx *f)
{
    sql_server_close(f->srv);
    /* A root password given now is ignored: root exists. */
    struct sql_server_options o = {.data_dir = f->dir,
                                   .root_password = "ignored"};
    char err[256] = "";
    assert_int_equal(sql_server_open(&o, &f->srv, err, sizeof(err)), 0);
}

static size_t take(struct sqlfx_conn *c, struct mc_pkt *pk, size_t max,
                   struct mc_buf *keep)
{
    size_t n;
    const uint8_t *p = sql_proto_conn_output(c->c, &n);
    keep->len = 0;
    mc_put(keep, p, n);
    sql_proto_conn_consume(c->c, n);
    int np = mc_split(keep->p, keep->len, pk, max);
    assert_true(np >= 0);
    return (size_t)np;
}

static void send_pkt(struct sqlfx_conn *c, const void *payload, size_t len,
                     uint8_t seq)
{
    struct mc_buf fr = {0};
    mc_frame(&fr, payload, len, &seq);
    size_t used;
    assert_int_equal(sql_proto_conn_feed(c->c, fr.p, fr.len, &used), 0);
    mc_free(&fr);
}

/* The token a plugin's client sends for pw ("" sends nothing). */
static size_t token(const char *plugin, const char *pw, const uint8_t *nonce,
                    uint8_t *out)
{
    if (!pw[0])
        return 0;
    if (strcmp(plugin, "caching_sha2_password") == 0) {
        mc_sha2_token(pw, nonce, out);
        return 32;
    }
    mc_native_token(pw, nonce, out);
    return 20;
}

/* Log in as user with pw from host, the client starting with plugin
 * (NULL: mysql_native_password). Returns "OK" or "ERR code message"; on
 * "OK" c is connected (sqlfx_q works, sqlfx_disconnect frees it), else
 * it is already freed. */
static const char *login(struct sqlfx *f, struct sqlfx_conn *c, unsigned id,
                         const char *user, const char *pw, const char *host,
                         const char *plugin)
{
    static char res[300];
    memset(c, 0, sizeof(*c));
    c->fx = f;
    assert_int_equal(sql_session_create(f->srv, id, &c->s), 0);
    struct sql_proto_options o = {
        .server_version = "8.0.11-test",
        .connection_id = id,
        .client_host = host,
        .auth = sql_session_auth(c->s),
        .exec = sql_session_executor(c->s),
    };
    for (int i = 0; i < 20; i++)
        o.scramble[i] = (uint8_t)((unsigned)i * 37u + id);
    c->c = sql_proto_conn_create(&o);
    assert_non_null(c->c);
    assert_int_equal(sql_proto_conn_start(c->c), 0);
    struct mc_pkt pk[8];
    struct mc_buf keep = {0};
    assert_int_equal(take(c, pk, 8, &keep), 1);
    /* Handshake v10: version NUL, id(4), nonce 8, 0, caps(2), charset,
     * status(2), caps(2), 21, zeros(10), nonce 12. */
    const uint8_t *h = pk[0].p + 1;
    h += strlen((const char *)h) + 1 + 4;
    uint8_t nonce[20];
    memcpy(nonce, h, 8);
    memcpy(nonce + 8, h + 8 + 19, 12);
    if (!plugin)
        plugin = "mysql_native_password";
    uint8_t tok[32];
    size_t tl = token(plugin, pw, nonce, tok);
    struct mc_buf pl = {0};
    struct mc_login l = {.caps = MC_CAPS_BASE | SQL_CLIENT_PLUGIN_AUTH,
                         .user = user,
                         .auth = tok,
                         .auth_len = tl,
                         .plugin = plugin};
    mc_login_payload(&pl, &l);
    send_pkt(c, pl.p, pl.len, 1);
    mc_free(&pl);
    size_t np = take(c, pk, 8, &keep);
    assert_true(np >= 1);
    if (pk[0].p[0] == 0xFE && pk[0].len > 1) {
        /* AuthSwitchRequest: plugin NUL nonce(20) NUL. */
        const char *np_name = (const char *)pk[0].p + 1;
        size_t nl = strlen(np_name);
        memcpy(nonce, pk[0].p + 1 + nl + 1, 20);
        tl = token(np_name, pw, nonce, tok);
        send_pkt(c, tok, tl, (uint8_t)(pk[0].seq + 1));
        np = take(c, pk, 8, &keep);
        assert_true(np >= 1);
    }
    const struct mc_pkt *last = &pk[np - 1];
    if (last->p[0] == 0x00 && sql_proto_conn_authenticated(c->c)) {
        snprintf(res, sizeof(res), "OK");
    } else {
        assert_int_equal(last->p[0], 0xFF);
        snprintf(res, sizeof(res), "ERR %u %.*s",
                 (unsigned)(last->p[1] | last->p[2] << 8),
                 (int)(last->len - 9), (const char *)last->p + 9);
        sqlfx_disconnect(c);
    }
    mc_free(&keep);
    return res;
}

/* COM_FIELD_LIST of table: the first packet's header byte, and for an
 * ERR its "code message" in err. */
static uint8_t field_list(struct sqlfx_conn *c, const char *table, char *err,
                          size_t errlen)
{
    struct mc_buf pl = {0}, keep = {0};
    mc_u8(&pl, 0x04);
    mc_cstr(&pl, table);
    send_pkt(c, pl.p, pl.len, 0);
    struct mc_pkt pk[16];
    size_t np = take(c, pk, 16, &keep);
    assert_true(np >= 1);
    uint8_t h = pk[0].p[0];
    if (h == 0xFF)
        snprintf(err, errlen, "%u %.*s",
                 (unsigned)(pk[0].p[1] | pk[0].p[2] << 8),
                 (int)(pk[0].len - 9), (const char *)pk[0].p + 9);
    mc_free(&pl);
    mc_free(&keep);
    return h;
}

#define LOGIN_OK(f, c, id, user, pw, host, plugin)                        \
    assert_string_equal(login(f, c, id, user, pw, host, plugin), "OK")

static void root_password_from_options(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    open_server(&f, false, false, "rootpw");
    assert_string_equal(login(&f, &c, 1, "root", "", "127.0.0.1", NULL),
                        "ERR 1045 Access denied for user 'root'@'127.0.0.1' "
                        "(using password: NO)");
    assert_string_equal(login(&f, &c, 1, "root", "bad", "127.0.0.1", NULL),
                        "ERR 1045 Access denied for user 'root'@'127.0.0.1' "
                        "(using password: YES)");
    assert_string_equal(login(&f, &c, 1, "nobody", "x", "127.0.0.1", NULL),
                        "ERR 1045 Access denied for user 'nobody'@'127.0.0.1' "
                        "(using password: YES)");
    /* Either plugin logs root in: the sha2 client is switched. */
    LOGIN_OK(&f, &c, 1, "root", "rootpw", "10.1.2.3",
             "caching_sha2_password");
    sqlfx_disconnect(&c);
    LOGIN_OK(&f, &c, 1, "root", "rootpw", "127.0.0.1", NULL);
    Q(&c, "SELECT USER(), CURRENT_USER()",
      "root@127.0.0.1|root@%");
    Q(&c, "SHOW GRANTS",
      "GRANT ALL PRIVILEGES ON *.* TO `root`@`%` WITH GRANT OPTION");
    const char *privs = sqlfx_q(&c, "SHOW PRIVILEGES");
    assert_int_equal(strncmp(privs, "Select|Tables|To retrieve rows from "
                                    "table\nInsert|Tables|",
                             51),
                     0);
    assert_non_null(strstr(privs, "\nShow databases|Server Admin|"));
    assert_non_null(strstr(privs, "\nGrant option|Databases,Tables|"));
    c.headers = true;
    Q(&c, "SHOW GRANTS FOR root",
      "Grants for root@%\n"
      "GRANT ALL PRIVILEGES ON *.* TO `root`@`%` WITH GRANT OPTION");
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

static void users_and_plugins(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c, u;
    open_server(&f, false, false, NULL);
    LOGIN_OK(&f, &c, 1, "root", "", "127.0.0.1", NULL);
    Q(&c, "CREATE USER 'n'@'%' IDENTIFIED BY 'pn', "
          "s IDENTIFIED WITH caching_sha2_password BY 'ps'",
      "OK 0 0 0");
    Q(&c, "CREATE USER n IDENTIFIED BY 'x'",
      "ERR 1396 Operation CREATE USER failed for 'n'@'%'");
    Q(&c, "CREATE USER n, s, t",
      "ERR 1396 Operation CREATE USER failed for 'n'@'%','s'@'%'");
    Q(&c, "SELECT 1", "1"); /* t was not created either */
    assert_string_equal(login(&f, &u, 2, "t", "", "127.0.0.1", NULL),
                        "ERR 1045 Access denied for user 't'@'127.0.0.1' "
                        "(using password: NO)");
    Q(&c, "CREATE USER IF NOT EXISTS n", "OK 0 0 1");
    Q(&c, "SHOW WARNINGS",
      "Note|3163|Authorization ID 'n'@'%' already exists.");
    Q(&c, "CREATE USER x IDENTIFIED WITH sha256_password BY 'a'",
      "ERR 1524 Plugin 'sha256_password' is not loaded");
    Q(&c, "CREATE USER 'abcdefghijklmnopqrstuvwxyz0123456'",
      "ERR 1470 String 'abcdefghijklmnopqrstuvwxyz0123456' is too long for "
      "user name (should be no longer than 32)");
    /* Native client and account. */
    LOGIN_OK(&f, &u, 2, "n", "pn", "127.0.0.1", NULL);
    Q(&u, "SELECT CURRENT_USER()", "n@%");
    sqlfx_disconnect(&u);
    /* A sha2 account: the native client is switched; a sha2 client takes
     * the fast path at once. */
    LOGIN_OK(&f, &u, 2, "s", "ps", "127.0.0.1", NULL);
    sqlfx_disconnect(&u);
    LOGIN_OK(&f, &u, 2, "s", "ps", "127.0.0.1", "caching_sha2_password");
    sqlfx_disconnect(&u);
    assert_string_equal(
        login(&f, &u, 2, "s", "pn", "127.0.0.1", "caching_sha2_password"),
        "ERR 1045 Access denied for user 's'@'127.0.0.1' (using password: "
        "YES)");
    /* ALTER USER, and a plugin change with it. */
    Q(&c, "ALTER USER n IDENTIFIED BY 'pn2'", "OK 0 0 0");
    assert_string_equal(login(&f, &u, 2, "n", "pn", "127.0.0.1", NULL),
                        "ERR 1045 Access denied for user 'n'@'127.0.0.1' "
                        "(using password: YES)");
    LOGIN_OK(&f, &u, 2, "n", "pn2", "127.0.0.1", NULL);
    /* SET PASSWORD for oneself needs no privilege; for others it does. */
    Q(&u, "SET PASSWORD = 'pn3'", "OK 0 0 0");
    Q(&u, "SET PASSWORD FOR s = 'zz'",
      "ERR 1227 Access denied; you need (at least one of) the CREATE USER "
      "privilege(s) for this operation");
    Q(&u, "ALTER USER s IDENTIFIED BY 'zz'",
      "ERR 1227 Access denied; you need (at least one of) the CREATE USER "
      "privilege(s) for this operation");
    Q(&u, "CREATE USER z",
      "ERR 1227 Access denied; you need (at least one of) the CREATE USER "
      "privilege(s) for this operation");
    Q(&u, "DROP USER s",
      "ERR 1227 Access denied; you need (at least one of) the CREATE USER "
      "privilege(s) for this operation");
    sqlfx_disconnect(&u);
    LOGIN_OK(&f, &u, 2, "n", "pn3", "127.0.0.1", "caching_sha2_password");
    sqlfx_disconnect(&u);
    Q(&c, "ALTER USER n IDENTIFIED WITH caching_sha2_password BY 'q'",
      "OK 0 0 0");
    Q(&c, "SHOW CREATE USER n",
      "CREATE USER `n`@`%` IDENTIFIED WITH 'caching_sha2_password' AS "
      "'E77CCDE69F3DE782CBBCE0821EF06D864303648BD0740524F4603D7D54ACA410'");
    LOGIN_OK(&f, &u, 2, "n", "q", "127.0.0.1", NULL);
    sqlfx_disconnect(&u);
    Q(&c, "SET PASSWORD FOR nosuch = 'a'",
      "ERR 1133 Can't find any matching row in the user table");
    Q(&c, "ALTER USER nosuch IDENTIFIED BY 'a'",
      "ERR 1396 Operation ALTER USER failed for 'nosuch'@'%'");
    Q(&c, "ALTER USER IF EXISTS nosuch IDENTIFIED BY 'a'", "OK 0 0 1");
    /* DROP USER: the login goes at once. */
    Q(&c, "DROP USER n, nosuch",
      "ERR 1396 Operation DROP USER failed for 'nosuch'@'%'");
    LOGIN_OK(&f, &u, 2, "n", "q", "127.0.0.1", NULL);
    sqlfx_disconnect(&u);
    Q(&c, "DROP USER IF EXISTS n, nosuch", "OK 0 0 1");
    Q(&c, "SHOW WARNINGS",
      "Note|3162|Authorization ID 'nosuch'@'%' does not exist.");
    assert_string_equal(login(&f, &u, 2, "n", "q", "127.0.0.1", NULL),
                        "ERR 1045 Access denied for user 'n'@'127.0.0.1' "
                        "(using password: YES)");
    /* An empty password matches only an empty response. */
    Q(&c, "CREATE USER e", "OK 0 0 0");
    LOGIN_OK(&f, &u, 2, "e", "", "127.0.0.1", NULL);
    sqlfx_disconnect(&u);
    assert_string_equal(login(&f, &u, 2, "e", "x", "127.0.0.1", NULL),
                        "ERR 1045 Access denied for user 'e'@'127.0.0.1' "
                        "(using password: YES)");
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

static void host_matching(void **state)
{
    (void)state;
    assert_true(sql__acct_host_match("%", "1.2.3.4"));
    assert_true(sql__acct_host_match("", "1.2.3.4"));
    assert_true(sql__acct_host_match("10.0.0.%", "10.0.0.77"));
    assert_false(sql__acct_host_match("10.0.0.%", "10.0.1.7"));
    assert_true(sql__acct_host_match("10.0.0._", "10.0.0.7"));
    assert_false(sql__acct_host_match("10.0.0._", "10.0.0.77"));
    assert_true(sql__acct_host_match("localhost", "127.0.0.1"));
    assert_true(sql__acct_host_match("localhost", "::1"));
    assert_false(sql__acct_host_match("localhost", "10.0.0.1"));
    assert_true(sql__acct_host_match("Db.Example.COM", "db.example.com"));

    struct sqlfx f;
    struct sqlfx_conn c, u;
    open_server(&f, false, false, NULL);
    LOGIN_OK(&f, &c, 1, "root", "", "127.0.0.1", NULL);
    Q(&c, "CREATE USER h@localhost IDENTIFIED BY 'a', h IDENTIFIED BY 'b', "
          "'h'@'10.0.0.%' IDENTIFIED BY 'c', 'h'@'10.0.0.5' IDENTIFIED BY "
          "'d', ''@'10.9.%' IDENTIFIED BY 'anon'",
      "OK 0 0 0");
    static const struct
    {
        const char *host, *good, *bad;
    } cases[] = {
        {"127.0.0.1", "a", "b"},    {"10.0.0.5", "d", "c"},
        {"10.0.0.7", "c", "b"},     {"192.168.1.1", "b", "a"},
        {"10.9.1.1", "anon", "b"}, /* ''@'10.9.%' beats 'h'@'%' */
        {"[::1]", "a", "b"},        /* IPv6 loopback is localhost */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        LOGIN_OK(&f, &u, 2, "h", cases[i].good, cases[i].host, NULL);
        sqlfx_disconnect(&u);
        char want[200];
        snprintf(want, sizeof(want),
                 "ERR 1045 Access denied for user 'h'@'%s' (using password: "
                 "YES)",
                 cases[i].host);
        assert_string_equal(
            login(&f, &u, 2, "h", cases[i].bad, cases[i].host, NULL), want);
    }
    /* Anyone from 10.9.x is the anonymous account. */
    LOGIN_OK(&f, &u, 2, "whoever", "anon", "10.9.0.1", NULL);
    Q(&u, "SHOW GRANTS", "GRANT USAGE ON *.* TO ``@`10.9.%`");
    sqlfx_disconnect(&u);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

#define DENIED(cmd, t)                                                     \
    "ERR 1142 " cmd " command denied to user 'u'@'127.0.0.1' for table '" t \
    "'"
#define DB_DENIED(d)                                                       \
    "ERR 1044 Access denied for user 'u'@'%' to database '" d "'"

static void privilege_checks(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c, u;
    open_server(&f, false, false, NULL);
    LOGIN_OK(&f, &c, 1, "root", "", "127.0.0.1", NULL);
    Q(&c, "CREATE DATABASE d; CREATE DATABASE e; "
          "CREATE TABLE d.t (id INT PRIMARY KEY, v INT); "
          "CREATE TABLE d.t2 (id INT PRIMARY KEY); "
          "INSERT INTO d.t VALUES (1, 10); CREATE USER u IDENTIFIED BY 'p'",
      "OK 1 0 0\n--\nOK 1 0 0\n--\nOK 0 0 0\n--\nOK 0 0 0\n--\nOK 1 0 0\n"
      "--\nOK 0 0 0");
    LOGIN_OK(&f, &u, 2, "u", "p", "127.0.0.1", NULL);
    Q(&u, "SHOW GRANTS", "GRANT USAGE ON *.* TO `u`@`%`");
    Q(&u, "SHOW DATABASES", "information_schema");
    Q(&u, "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
          "TABLE_SCHEMA = 'd'",
      "0");
    /* Every statement kind without its privilege. */
    Q(&u, "USE d", DB_DENIED("d"));
    Q(&u, "SELECT * FROM d.t", DENIED("SELECT", "t"));
    Q(&u, "SELECT * FROM d.nosuch", DENIED("SELECT", "nosuch"));
    Q(&u, "INSERT INTO d.t VALUES (2, 2)", DENIED("INSERT", "t"));
    Q(&u, "REPLACE INTO d.t VALUES (2, 2)", DENIED("INSERT", "t"));
    Q(&u, "UPDATE d.t SET v = 1", DENIED("UPDATE", "t"));
    Q(&u, "DELETE FROM d.t", DENIED("DELETE", "t"));
    Q(&u, "CREATE TABLE d.x (a INT)", DENIED("CREATE", "x"));
    Q(&u, "DROP TABLE d.t", DENIED("DROP", "t"));
    Q(&u, "TRUNCATE TABLE d.t", DENIED("DROP", "t"));
    Q(&u, "ALTER TABLE d.t ADD COLUMN w INT", DENIED("ALTER", "t"));
    Q(&u, "CREATE INDEX iv ON d.t (v)", DENIED("INDEX", "t"));
    Q(&u, "RENAME TABLE d.t TO d.t9", DENIED("DROP", "t"));
    Q(&u, "DESCRIBE d.t", DENIED("SELECT", "t"));
    Q(&u, "SHOW CREATE TABLE d.t", DENIED("SHOW", "t"));
    Q(&u, "SHOW TABLES FROM d", DB_DENIED("d"));
    Q(&u, "EXPLAIN SELECT * FROM d.t", DENIED("SELECT", "t"));
    Q(&u, "CREATE DATABASE x", DB_DENIED("x"));
    Q(&u, "DROP DATABASE e", DB_DENIED("e"));
    Q(&u, "SET GLOBAL wait_timeout = 10",
      "ERR 1227 Access denied; you need (at least one of) the SUPER or "
      "SYSTEM_VARIABLES_ADMIN privilege(s) for this operation");
    Q(&u, "SHOW GRANTS FOR root", DB_DENIED("mysql"));
    Q(&u, "GRANT SELECT ON d.* TO u", DB_DENIED("d"));
    Q(&u, "GRANT SELECT ON d.t TO u", DENIED("GRANT", "t"));
    Q(&u, "GRANT SELECT ON *.* TO u",
      "ERR 1045 Access denied for user 'u'@'127.0.0.1' (using password: "
      "YES)");
    Q(&u, "SELECT 1 + 1", "2"); /* no table, no privilege needed */
    /* Tables anywhere in the tree are checked (before the executor
     * would say it cannot run subqueries yet). */
    Q(&u, "SELECT COALESCE(1, (SELECT id FROM d.t2))", DENIED("SELECT", "t2"));
    Q(&u, "SELECT 1 IN (2, 3, (SELECT id FROM d.t2))", DENIED("SELECT", "t2"));
    Q(&u, "SELECT CASE WHEN 1 THEN 2 ELSE (SELECT 1 FROM d.t2) END",
      DENIED("SELECT", "t2"));
    Q(&u, "DO 1, (SELECT 1 FROM d.t2)", DENIED("SELECT", "t2"));
    Q(&u, "SELECT 1 FROM (SELECT 1 FROM d.t2) AS x", DENIED("SELECT", "t2"));
    Q(&u, "SELECT 1 UNION SELECT id FROM d.t2", DENIED("SELECT", "t2"));
    /* A multi-table DELETE's target alias is its table, wherever it
     * stands in the join (u may delete from e.n, not from d.t). */
    Q(&c, "CREATE TABLE e.n (id INT PRIMARY KEY); "
          "GRANT SELECT, DELETE ON e.n TO u; GRANT SELECT ON d.t TO u",
      "OK 0 0 0\n--\nOK 0 0 0\n--\nOK 0 0 0");
    Q(&u, "DELETE n FROM e.n AS x JOIN d.t AS n ON x.id = n.id",
      DENIED("DELETE", "t"));
    Q(&c, "REVOKE SELECT, DELETE ON e.n FROM u; REVOKE SELECT ON d.t FROM u;"
          " DROP TABLE e.n",
      "OK 0 0 0\n--\nOK 0 0 0\n--\nOK 0 0 0");
    /* Prepared statements are checked when prepared and executed. */
    unsigned np, nc;
    assert_int_equal(sqlfx_prepare(&u, "SELECT v FROM d.t WHERE id = ?",
                                   &np, &nc),
                     -1);
    assert_string_equal(u.out, DENIED("SELECT", "t"));

    /* Database grant: the live session sees it at its next statement. */
    Q(&c, "GRANT SELECT ON d.* TO u", "OK 0 0 0");
    Q(&u, "SELECT v FROM d.t", "10");
    int ps = sqlfx_prepare(&u, "SELECT v FROM d.t WHERE id = ?", &np, &nc);
    assert_true(ps >= 0);
    const char *one[] = {"1"};
    assert_string_equal(sqlfx_execute(&u, ps, 1, one), "10");
    Q(&u, "USE d", "OK 0 0 0");
    char ferr[200] = "";
    assert_int_not_equal(field_list(&u, "t", ferr, sizeof(ferr)), 0xFF);
    Q(&u, "SELECT * FROM e.nosuch", DENIED("SELECT", "nosuch"));
    Q(&u, "SHOW DATABASES", "d\ninformation_schema");
    Q(&u, "SHOW TABLES", "t\nt2");
    Q(&u, "DESCRIBE t", "id|int|NO|PRI|NULL|\nv|int|YES||NULL|");
    Q(&u, "INSERT INTO t VALUES (2, 2)", DENIED("INSERT", "t"));
    Q(&u, "UPDATE t SET v = 1", DENIED("UPDATE", "t"));
    Q(&u, "INSERT INTO d.t2 SELECT id FROM t", DENIED("INSERT", "t2"));
    /* Table grant. */
    Q(&c, "GRANT INSERT, UPDATE ON d.t TO u", "OK 0 0 0");
    Q(&u, "INSERT INTO t VALUES (2, 20)", "OK 1 0 0");
    Q(&u, "UPDATE t SET v = v + 1 WHERE id = 2", "OK 1 0 0");
    Q(&u, "INSERT INTO t VALUES (2, 0) ON DUPLICATE KEY UPDATE v = 5",
      "OK 2 0 0");
    Q(&u, "DELETE FROM t WHERE id = 2", DENIED("DELETE", "t"));
    Q(&u, "REPLACE INTO t VALUES (2, 2)", DENIED("DELETE", "t"));
    Q(&u, "SHOW GRANTS",
      "GRANT USAGE ON *.* TO `u`@`%`\n"
      "GRANT SELECT ON `d`.* TO `u`@`%`\n"
      "GRANT INSERT, UPDATE ON `d`.`t` TO `u`@`%`");
    /* Revoke takes effect on the live session too. */
    Q(&c, "REVOKE SELECT ON d.* FROM u", "OK 0 0 0");
    Q(&u, "SELECT v FROM t", DENIED("SELECT", "t"));
    assert_int_equal(field_list(&u, "t2", ferr, sizeof(ferr)), 0xFF);
    assert_string_equal(ferr, DENIED("SELECT", "t2") + 4);
    assert_string_equal(sqlfx_execute(&u, ps, 1, one),
                        DENIED("SELECT", "t"));
    sqlfx_close_stmt(&u, ps);
    Q(&u, "SHOW TABLES", "t");
    Q(&u, "SHOW DATABASES", "d\ninformation_schema");
    Q(&u, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
          "TABLE_SCHEMA = 'd'",
      "t");
    Q(&u, "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE "
          "TABLE_SCHEMA = 'd'",
      "2");
    Q(&c, "REVOKE SELECT ON d.* FROM u",
      "ERR 1141 There is no such grant defined for user 'u' on host '%'");
    Q(&c, "REVOKE SELECT ON d.t2 FROM u",
      "ERR 1147 There is no such grant defined for user 'u' on host '%' on "
      "table 't2'");
    Q(&c, "GRANT SELECT ON d.* TO nosuch",
      "ERR 1410 You are not allowed to create a user with GRANT");
    Q(&c, "GRANT SUPER ON d.* TO u",
      "ERR 1221 Incorrect usage of DB GRANT and GLOBAL PRIVILEGES");
    Q(&c, "GRANT SUPER ON d.t TO u",
      "ERR 1144 Illegal GRANT/REVOKE command; please consult the manual to "
      "see which privileges can be used");
    Q(&c, "GRANT SELECT ON d.nosuch TO u",
      "ERR 1146 Table 'd.nosuch' doesn't exist");
    Q(&c, "GRANT SELECT (v) ON d.t TO u",
      "ERR 1235 This version of sqld doesn't yet support 'column "
      "privileges'");
    /* Creating and dropping needs CREATE/DROP at the database level. */
    Q(&c, "GRANT CREATE, DROP, SELECT ON e.* TO u WITH GRANT OPTION",
      "OK 0 0 0");
    Q(&u, "CREATE TABLE e.n (a INT)", "OK 0 0 0");
    Q(&u, "INSERT INTO e.n VALUES (1)", DENIED("INSERT", "n"));
    Q(&u, "DROP TABLE e.n", "OK 0 0 0");
    /* WITH GRANT OPTION lets u pass on what it holds, and only that. */
    Q(&c, "CREATE USER v", "OK 0 0 0");
    Q(&u, "GRANT SELECT ON e.* TO v", "OK 0 0 0");
    Q(&u, "GRANT INSERT ON e.* TO v", DB_DENIED("e"));
    Q(&c, "SHOW GRANTS FOR v",
      "GRANT USAGE ON *.* TO `v`@`%`\nGRANT SELECT ON `e`.* TO `v`@`%`");
    Q(&c, "SHOW GRANTS FOR u@'%'",
      "GRANT USAGE ON *.* TO `u`@`%`\n"
      "GRANT SELECT, CREATE, DROP ON `e`.* TO `u`@`%` WITH GRANT OPTION\n"
      "GRANT INSERT, UPDATE ON `d`.`t` TO `u`@`%`");
    /* information_schema's privilege tables: u sees its own rows. */
    Q(&u, "SELECT * FROM information_schema.USER_PRIVILEGES",
      "'u'@'%'|def|USAGE|NO");
    Q(&u, "SELECT * FROM information_schema.SCHEMA_PRIVILEGES",
      "'u'@'%'|def|e|SELECT|YES\n'u'@'%'|def|e|CREATE|YES\n"
      "'u'@'%'|def|e|DROP|YES");
    Q(&u, "SELECT GRANTEE, TABLE_NAME, PRIVILEGE_TYPE FROM "
          "information_schema.TABLE_PRIVILEGES",
      "'u'@'%'|t|INSERT\n'u'@'%'|t|UPDATE");
    Q(&c, "SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE "
          "GRANTEE = '''root''@''%'''",
      "12");
    Q(&c, "SELECT GRANTEE FROM information_schema.SCHEMA_PRIVILEGES WHERE "
          "PRIVILEGE_TYPE = 'SELECT' ORDER BY GRANTEE",
      "'u'@'%'\n'v'@'%'");
    Q(&c, "SHOW GRANTS FOR nosuch",
      "ERR 1141 There is no such grant defined for user 'nosuch' on host "
      "'%'");
    /* Global grants, ALL, and REVOKE ALL. */
    Q(&c, "GRANT ALL ON *.* TO u", "OK 0 0 0");
    Q(&u, "DELETE FROM d.t WHERE id = 2", "OK 1 0 0");
    Q(&u, "CREATE DATABASE x", "OK 1 0 0");
    Q(&u, "SET GLOBAL wait_timeout = 100", "OK 0 0 0");
    Q(&u, "SHOW GRANTS FOR root",
      "GRANT ALL PRIVILEGES ON *.* TO `root`@`%` WITH GRANT OPTION");
    Q(&c, "REVOKE ALL PRIVILEGES, GRANT OPTION FROM u", "OK 0 0 0");
    Q(&u, "SHOW GRANTS", "GRANT USAGE ON *.* TO `u`@`%`");
    Q(&u, "SELECT * FROM d.t", DENIED("SELECT", "t"));
    /* A dropped account keeps its session but loses every privilege. */
    Q(&c, "GRANT SELECT ON d.* TO u", "OK 0 0 0");
    Q(&u, "SELECT COUNT(*) FROM d.t", "1");
    Q(&c, "DROP USER u", "OK 0 0 0");
    Q(&u, "SELECT COUNT(*) FROM d.t", DENIED("SELECT", "t"));
    sqlfx_disconnect(&u);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

static void kept_across_restart(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c, u;
    open_server(&f, true, false, "r00t");
    LOGIN_OK(&f, &c, 1, "root", "r00t", "127.0.0.1", NULL);
    Q(&c, "CREATE DATABASE d; CREATE TABLE d.t (a INT); "
          "CREATE USER u IDENTIFIED BY 'p', "
          "s IDENTIFIED WITH caching_sha2_password BY 'q'; "
          "GRANT SELECT ON d.* TO u; GRANT INSERT ON d.t TO s",
      "OK 1 0 0\n--\nOK 0 0 0\n--\nOK 0 0 0\n--\nOK 0 0 0\n--\nOK 0 0 0");
    sqlfx_disconnect(&c);
    reopen(&f);
    assert_string_equal(login(&f, &c, 1, "root", "ignored", "127.0.0.1",
                              NULL),
                        "ERR 1045 Access denied for user 'root'@'127.0.0.1' "
                        "(using password: YES)");
    LOGIN_OK(&f, &c, 1, "root", "r00t", "127.0.0.1", NULL);
    LOGIN_OK(&f, &u, 2, "u", "p", "127.0.0.1", NULL);
    Q(&u, "SELECT COUNT(*) FROM d.t", "0");
    Q(&u, "SHOW GRANTS",
      "GRANT USAGE ON *.* TO `u`@`%`\nGRANT SELECT ON `d`.* TO `u`@`%`");
    sqlfx_disconnect(&u);
    LOGIN_OK(&f, &u, 2, "s", "q", "127.0.0.1", "caching_sha2_password");
    Q(&u, "INSERT INTO d.t VALUES (1)", "OK 1 0 0");
    sqlfx_disconnect(&u);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

static void kill_statements(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c, u, v;
    open_server(&f, false, false, NULL);
    LOGIN_OK(&f, &c, 1, "root", "", "127.0.0.1", NULL);
    Q(&c, "CREATE USER u, v", "OK 0 0 0");
    LOGIN_OK(&f, &u, 2, "u", "", "127.0.0.1", NULL);
    LOGIN_OK(&f, &v, 3, "v", "", "127.0.0.1", NULL);
    Q(&c, "KILL 99", "ERR 1094 Unknown thread id: 99");
    Q(&u, "KILL 3", "ERR 1095 You are not owner of thread 3");
    Q(&u, "KILL QUERY 1", "ERR 1095 You are not owner of thread 1");
    /* u sees only its own thread (one row; Time left out). */
    const char *pl = sqlfx_q(&u, "SHOW PROCESSLIST");
    assert_int_equal(strncmp(pl, "2|u|127.0.0.1|NULL|Query|", 25), 0);
    assert_null(strchr(pl, '\n'));
    assert_non_null(strstr(pl, "|executing|SHOW PROCESSLIST"));
    /* root (PROCESS) sees all three. */
    size_t rows = 1;
    for (const char *p = sqlfx_q(&c, "SHOW PROCESSLIST"); *p; p++)
        rows += *p == '\n';
    assert_int_equal(rows, 3);
    Q(&c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE 0", "0");
    /* KILL QUERY of an idle session does nothing. */
    Q(&c, "KILL QUERY 3", "OK 0 0 0");
    Q(&v, "SELECT 1", "1");
    /* KILL QUERY of oneself interrupts the KILL. */
    Q(&v, "KILL QUERY CONNECTION_ID()",
      "ERR 1317 Query execution was interrupted");
    Q(&v, "KILL 1 + 'x'", "ERR 1094 Unknown thread id: ?");
    Q(&v, "SELECT 2", "2");
    /* KILL CONNECTION: the caller is told, the session answers only 1317. */
    killed_id = 0;
    Q(&c, "KILL 3", "OK 0 0 0");
    assert_int_equal(killed_id, 3);
    assert_true(sql_session_killed(v.s));
    assert_false(sql_session_killed(u.s));
    Q(&v, "SELECT 1", "ERR 1317 Query execution was interrupted");
    /* One's own connection, with KILL CONNECTION. */
    Q(&u, "KILL CONNECTION 2", "ERR 1317 Query execution was interrupted");
    assert_true(sql_session_killed(u.s));
    assert_int_equal(killed_id, 2);
    sqlfx_disconnect(&v);
    sqlfx_disconnect(&u);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

/* Another server's change, written straight into the store: the account
 * record and a newer "mPrivVer", as that server's statement would. */
static void external_change(struct sqlfx *f, const char *user,
                            uint32_t global, uint64_t ver)
{
    struct sql_acct a = {.user = (char *)user, .host = (char *)"%",
                         .plugin = SQL_AUTH_NATIVE, .global = global};
    struct sql__buf k = {0}, v = {0};
    assert_int_equal(sql__buf_put(&k, "mAcct", 5), 0);
    assert_int_equal(sql__buf_put(&k, user, strlen(user) + 1), 0);
    assert_int_equal(sql__buf_put(&k, "%", 1), 0);
    assert_int_equal(sql__acct_encode(&a, &v), 0);
    struct sql_kvtxn *t;
    assert_int_equal(sql__kv_begin(f->srv->kv, &t), 0);
    assert_int_equal(sql__kvtxn_set(t, k.p, k.len, v.p, v.len), 0);
    uint8_t vb[8];
    for (int i = 0; i < 8; i++)
        vb[i] = (uint8_t)(ver >> (8 * i));
    assert_int_equal(sql__kvtxn_set(t, "mPrivVer", 8, vb, 8), 0);
    assert_int_equal(sql__kvtxn_commit(t), 0);
    sql__buf_free(&k);
    sql__buf_free(&v);
}

static void changes_from_another_server(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c, u;
    open_server(&f, false, false, NULL);
    LOGIN_OK(&f, &c, 1, "root", "", "127.0.0.1", NULL);
    Q(&c, "CREATE USER plain", "OK 0 0 0");
    external_change(&f, "ext", SQL_PRIV_SELECT, 100);
    /* This server has not looked yet. */
    assert_string_equal(login(&f, &u, 2, "ext", "", "127.0.0.1", NULL),
                        "ERR 1045 Access denied for user 'ext'@'127.0.0.1' "
                        "(using password: NO)");
    LOGIN_OK(&f, &u, 2, "plain", "", "127.0.0.1", NULL);
    Q(&u, "FLUSH PRIVILEGES",
      "ERR 1227 Access denied; you need (at least one of) the RELOAD "
      "privilege(s) for this operation");
    sqlfx_disconnect(&u);
    Q(&c, "FLUSH PRIVILEGES", "OK 0 0 0");
    LOGIN_OK(&f, &u, 2, "ext", "", "127.0.0.1", NULL);
    Q(&u, "SHOW GRANTS", "GRANT SELECT ON *.* TO `ext`@`%`");
    /* An account statement reads the store's accounts first when they
     * moved, so it keeps the other server's change (INSERT). */
    external_change(&f, "ext", SQL_PRIV_SELECT | SQL_PRIV_INSERT, 101);
    Q(&c, "GRANT UPDATE ON *.* TO ext", "OK 0 0 0");
    Q(&u, "SHOW GRANTS", "GRANT SELECT, INSERT, UPDATE ON *.* TO `ext`@`%`");
    sqlfx_disconnect(&u);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

struct blocked
{
    struct sqlfx_conn *c; /* the session that waits */
    const char *sql;      /* its statement */
    char answer[256];     /* what it got */
};

static void *run_blocked(void *arg)
{
    struct blocked *b = arg;
    snprintf(b->answer, sizeof(b->answer), "%s", sqlfx_q(b->c, b->sql));
    return NULL;
}

/* Wait until session id shows state in PROCESSLIST (asked through c).
 * The deadline is generous: a loaded machine only makes it slower. */
static void wait_state(struct sqlfx_conn *c, unsigned id, const char *state)
{
    char want[160];
    snprintf(want, sizeof(want), "\n%u|", id);
    for (int i = 0; i < 6000; i++) {
        const char *got = sqlfx_q(c, "SELECT 0; SHOW PROCESSLIST");
        const char *row = strstr(got, want);
        const char *end = row ? strchr(row + 1, '\n') : NULL;
        const char *st = row ? strstr(row, state) : NULL;
        if (st && (!end || st < end))
            return;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fail_msg("session %u never showed '%s': %s", id, state,
             sqlfx_q(c, "SHOW PROCESSLIST"));
}

static void kill_query_in_lock_wait(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn a, b, c;
    open_server(&f, false, true, NULL);
    LOGIN_OK(&f, &a, 1, "root", "", "127.0.0.1", NULL);
    LOGIN_OK(&f, &b, 2, "root", "", "127.0.0.1", NULL);
    LOGIN_OK(&f, &c, 3, "root", "", "127.0.0.1", NULL);
    Q(&a, "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v INT);"
          " INSERT INTO d.t VALUES (1, 1)",
      "OK 1 0 0\n--\nOK 0 0 0\n--\nOK 1 0 0");
    Q(&a, "BEGIN; SELECT v FROM d.t WHERE id = 1 FOR UPDATE",
      "OK 0 0 0\n--\n1");
    /* b waits for a's row lock (a long timeout: only KILL ends it). */
    Q(&b, "SET innodb_lock_wait_timeout = 1000; BEGIN",
      "OK 0 0 0\n--\nOK 0 0 0");
    struct blocked bl = {&b, "SELECT v FROM d.t WHERE id = 1 FOR UPDATE", ""};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_blocked, &bl), 0);
    wait_state(&c, 2, "Waiting for row lock");
    Q(&c, "KILL QUERY 2", "OK 0 0 0");
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_string_equal(bl.answer, "ERR 1317 Query execution was interrupted");
    /* The session goes on: its transaction is still open. */
    Q(&b, "SELECT 5", "5");
    Q(&a, "COMMIT", "OK 0 0 0");
    Q(&b, "SELECT v FROM d.t WHERE id = 1 FOR UPDATE", "1");
    /* A pessimistic UPDATE waiting for b's lock (the current-read path):
     * killed the same way, and a's statement leaves nothing behind. */
    Q(&a, "SET txn_mode = 'PESSIMISTIC', innodb_lock_wait_timeout = 1000; "
          "BEGIN",
      "OK 0 0 0\n--\nOK 0 0 0");
    struct blocked up = {&a, "UPDATE d.t SET v = v + 10 WHERE id = 1", ""};
    assert_int_equal(pthread_create(&th, NULL, run_blocked, &up), 0);
    wait_state(&c, 1, "Waiting for row lock");
    Q(&c, "KILL QUERY 1", "OK 0 0 0");
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_string_equal(up.answer, "ERR 1317 Query execution was interrupted");
    Q(&a, "ROLLBACK", "OK 0 0 0");
    Q(&b, "COMMIT", "OK 0 0 0");
    Q(&c, "SELECT v FROM d.t", "1");
    sqlfx_disconnect(&c);
    sqlfx_disconnect(&b);
    sqlfx_disconnect(&a);
    sqlfx_close(&f);
}

/* SET PASSWORD parses as ALTER USER .. IDENTIFIED BY, whose printed form
 * parses back to itself. */
static void set_password_parses(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"set password = 'x'", "ALTER USER CURRENT_USER IDENTIFIED BY 'x'"},
        {"SET PASSWORD FOR 'a'@'h' = 'y'",
         "ALTER USER 'a'@'h' IDENTIFIED BY 'y'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sql_arena *a = sql__arena_create(0);
        struct sql_parse_result r, r2;
        assert_int_equal(
            sql__parse_one(a, cases[i][0], strlen(cases[i][0]), &r), 0);
        assert_int_equal(r.stmt->kind, AST_ALTER_USER);
        assert_true(r.stmt->flag2);
        const char *p = sql__ast_print(a, r.stmt);
        assert_string_equal(p, cases[i][1]);
        assert_int_equal(sql__parse_one(a, p, strlen(p), &r2), 0);
        assert_string_equal(sql__ast_print(a, r2.stmt), p);
        sql__arena_destroy(a);
    }
    struct sql_arena *a = sql__arena_create(0);
    struct sql_parse_result r;
    const char *bad = "SET PASSWORD FOR u 'x'";
    assert_int_equal(sql__parse_one(a, bad, strlen(bad), &r), SQL_ESYNTAX);
    sql__arena_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_password_parses),
        cmocka_unit_test(root_password_from_options),
        cmocka_unit_test(users_and_plugins),
        cmocka_unit_test(host_matching),
        cmocka_unit_test(privilege_checks),
        cmocka_unit_test(kept_across_restart),
        cmocka_unit_test(changes_from_another_server),
        cmocka_unit_test(kill_statements),
        cmocka_unit_test(kill_query_in_lock_wait),
    };
    return cmocka_run_group_tests_name("libsql/acct", tests, NULL, NULL);
}

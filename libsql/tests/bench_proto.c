/* bench_proto.c: the protocol engine's own cost, with no socket: logins
 * per second (native password: two SHA-1 per check), COM_QUERY round trips
 * per second for a one-row answer, and rows per second encoded in the text
 * and binary protocols. Prints "BENCH <name> <value> <unit>" lines.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "myclient.h"
#include "sql.h"

static int lookup(void *ctx, const char *user, const char *host,
                  struct sql_account *a)
{
    (void)ctx;
    (void)user;
    (void)host;
    a->plugin = SQL_AUTH_NATIVE;
    a->has_password = true;
    sql_auth_native_hash("secret", 6, a->native_hash);
    return 0;
}

static size_t rows_per_query = 1; /* rows each query answers */

static int execute(void *ctx, struct sql_proto_conn *c,
                   const struct sql_command *cmd)
{
    (void)ctx;
    if (cmd->kind == SQL_CMD_STMT_CLOSE)
        return 0;
    struct sql_ok ok = {.status = SQL_SERVER_STATUS_AUTOCOMMIT};
    if (cmd->kind == SQL_CMD_STMT_PREPARE) {
        return sql_reply_prepared(c, 0, 0, 0);
    }
    static const uint8_t types[8] = {
        SQL_TYPE_LONGLONG, SQL_TYPE_LONG,     SQL_TYPE_VAR_STRING,
        SQL_TYPE_DOUBLE,   SQL_TYPE_DATETIME, SQL_TYPE_NEWDECIMAL,
        SQL_TYPE_TINY,     SQL_TYPE_VAR_STRING};
    struct sql_column col;
    memset(&col, 0, sizeof col);
    col.name = "c";
    col.db = "sbtest";
    col.table = "sbtest1";
    col.decimals = 31;
    int rc = sql_reply_columns(c, 8);
    for (int i = 0; rc == 0 && i < 8; i++) {
        col.type = types[i];
        rc = sql_reply_column(c, &col);
    }
    struct sql_value v[8];
    memset(v, 0, sizeof v);
    v[0].kind = SQL_VALUE_INT;
    v[0].v.i = 123456;
    v[1].kind = SQL_VALUE_INT;
    v[1].v.i = 42;
    v[2].kind = SQL_VALUE_BYTES;
    v[2].v.s.p = "68487932199-96439406143-93774651418-41631865787-96406072701";
    v[2].v.s.len = 59;
    v[3].kind = SQL_VALUE_DOUBLE;
    v[3].v.d = 3.25;
    v[4].kind = SQL_VALUE_DATETIME;
    v[4].v.t = (struct sql_time){.year = 2024, .month = 5, .day = 6,
                                 .hour = 7, .minute = 8, .second = 9};
    v[5].kind = SQL_VALUE_BYTES;
    v[5].v.s.p = "1234.50";
    v[5].v.s.len = 7;
    v[6].kind = SQL_VALUE_INT;
    v[6].v.i = 1;
    v[7].kind = SQL_VALUE_NULL;
    for (size_t r = 0; rc == 0 && r < rows_per_query; r++)
        rc = sql_reply_row(c, v, 8);
    return rc ? rc : sql_reply_end(c, &ok);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sql_proto_conn *connect_one(bool *ok)
{
    struct sql_proto_options o;
    memset(&o, 0, sizeof o);
    o.auth.lookup = lookup;
    o.exec.execute = execute;
    struct sql_proto_conn *c = sql_proto_conn_create(&o);
    if (c == NULL || sql_proto_conn_start(c) != 0) {
        *ok = false;
        return c;
    }
    size_t n;
    const uint8_t *p = sql_proto_conn_output(c, &n);
    uint8_t nonce[20];
    size_t vlen = strlen((const char *)p + 5);
    memcpy(nonce, p + 4 + 1 + vlen + 1 + 4, 8);
    memcpy(nonce + 8, p + 4 + 1 + vlen + 1 + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10,
           12);
    sql_proto_conn_consume(c, n);
    uint8_t tok[20];
    mc_native_token("secret", nonce, tok);
    struct mc_login l = {.caps = MC_CAPS_BASE | (1u << 24), .user = "sb",
                         .auth = tok, .auth_len = 20,
                         .plugin = "mysql_native_password"};
    struct mc_buf b = {0}, w = {0};
    mc_login_payload(&b, &l);
    uint8_t seq = 1;
    mc_frame(&w, b.p, b.len, &seq);
    *ok = sql_proto_conn_feed(c, w.p, w.len, NULL) == 0 &&
          sql_proto_conn_authenticated(c);
    p = sql_proto_conn_output(c, &n);
    sql_proto_conn_consume(c, n);
    mc_free(&b);
    mc_free(&w);
    return c;
}

int main(void)
{
    bool ok = true;
    /* Logins. */
    int logins = 20000;
    double t0 = now();
    for (int i = 0; i < logins && ok; i++)
        sql_proto_conn_destroy(connect_one(&ok));
    double t1 = now();
    if (!ok) {
        fprintf(stderr, "bench_proto: login failed\n");
        return 1;
    }
    printf("BENCH proto_login %.0f logins/s\n", logins / (t1 - t0));

    /* Query round trips, text and binary, one row each; then 100 rows. */
    struct sql_proto_conn *c = connect_one(&ok);
    struct mc_buf q = {0}, e = {0};
    uint8_t seq = 0;
    mc_frame(&q, "\x03SELECT c FROM sbtest1 WHERE id=1", 33, &seq);
    seq = 0;
    mc_frame(&e, "\x16p", 2, &seq);
    sql_proto_conn_feed(c, e.p, e.len, NULL);
    e.len = 0;
    seq = 0;
    mc_frame(&e, "\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00", 10, &seq);
    size_t n;
    const struct {
        const char *name;        /* BENCH name */
        struct mc_buf *pkt;      /* command */
        size_t rows;             /* rows per answer */
        int iters;               /* commands */
    } runs[] = {{"proto_query_text_1row", &q, 1, 300000},
                {"proto_query_binary_1row", &e, 1, 300000},
                {"proto_rows_text", &q, 100, 20000},
                {"proto_rows_binary", &e, 100, 20000}};
    for (size_t r = 0; r < 4; r++) {
        rows_per_query = runs[r].rows;
        t0 = now();
        for (int i = 0; i < runs[r].iters; i++) {
            if (sql_proto_conn_feed(c, runs[r].pkt->p, runs[r].pkt->len,
                                    NULL) != 0)
                return 1;
            sql_proto_conn_output(c, &n);
            sql_proto_conn_consume(c, n);
        }
        t1 = now();
        double per = runs[r].iters / (t1 - t0);
        if (runs[r].rows == 1)
            printf("BENCH %s %.0f queries/s\n", runs[r].name, per);
        else
            printf("BENCH %s %.0f rows/s\n", runs[r].name,
                   per * (double)runs[r].rows);
    }
    sql_proto_conn_destroy(c);
    mc_free(&q);
    mc_free(&e);
    return 0;
}

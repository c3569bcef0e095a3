/* test_cop.c: the coprocessor. The request and response codec (round
 * trip; every truncation and a corrupted byte refused), the evaluator next
 * to the data (sql_cop_run on a store: exact rows, NULLs, a lock in the
 * way), and whole queries on a server whose store is three shards of an
 * in-process transport serving cop calls: answers equal with the
 * coprocessor on and off, rows shipped counted, EXPLAIN, a partly pushed
 * filter, a lock resolved, region errors retried; aggregates, top-N and
 * index scans next to the data (partial rows counted, a fallback, an
 * aggregate answer resumed).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mvcc.h>

#include "catalog.h"
#include "codec.h"
#include "cop.h"
#include "decimal.h"
#include "session.h"
#include "sql_int.h"
#include "sqlfx.h"
#include "tablecodec.h"

#define NROWS 300

/* ---- codec ------------------------------------------------------------- */

static void test_req_roundtrip(void **state)
{
    (void)state;
    const char *conds[] = {"(a = 1)", "(b IS NULL)"};
    size_t lens[] = {7, 11};
    const uint8_t table[] = {1, 2, 3, 4};
    struct sql_cop_req q = {.sql_mode = 0x33, .tz_offset_s = -3600,
                            .max_rows = 77, .table = table,
                            .table_len = sizeof(table), .conds = conds,
                            .cond_lens = lens, .nconds = 2};
    struct sql__buf b = {0};
    assert_int_equal(sql__cop_req_encode(&q, &b), 0);
    struct sql_arena *a = sql__arena_create(0);
    struct sql_cop_req d;
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), 0);
    assert_int_equal(d.sql_mode, 0x33);
    assert_int_equal(d.tz_offset_s, -3600);
    assert_int_equal(d.max_rows, 77);
    assert_int_equal(d.table_len, 4);
    assert_memory_equal(d.table, table, 4);
    assert_int_equal(d.nconds, 2);
    assert_int_equal(d.cond_lens[1], 11);
    assert_memory_equal(d.conds[1], "(b IS NULL)", 11);
    /* every truncation and one extra byte are refused */
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(sql__cop_req_decode(b.p, n, a, &d), SQL_EPROTO);
    uint8_t *longer = malloc(b.len + 1);
    memcpy(longer, b.p, b.len);
    longer[b.len] = 0;
    assert_int_equal(sql__cop_req_decode(longer, b.len + 1, a, &d),
                     SQL_EPROTO);
    longer[1] = 4; /* an unknown version */
    assert_int_equal(sql__cop_req_decode(longer, b.len, a, &d), SQL_EPROTO);
    free(longer);
    /* the encoder refuses what the decoder would */
    q.max_rows = 0;
    assert_int_equal(sql__cop_req_encode(&q, &b), -EINVAL);
    sql__arena_destroy(a);
    sql__buf_free(&b);
}

static void test_resp_decode(void **state)
{
    (void)state;
    /* more, bounded, 9 keys read, resume "k2", end "k9", two rows
     * (k1,v1) (k2,"") */
    const uint8_t ok[] = {0xC1, 3, 9, 2, 'k', '2', 2, 'k', '9', 2, 2, 'k',
                          '1', 2, 'v', '1', 2, 'k', '2', 0};
    struct sql_cop_resp r;
    assert_int_equal(sql__cop_resp_decode(ok, sizeof(ok), &r), 0);
    assert_true(r.more);
    assert_int_equal(r.nread, 9);
    assert_int_equal(r.nrows, 2);
    assert_memory_equal(r.resume, "k2", 2);
    assert_true(r.bounded);
    assert_memory_equal(r.end, "k9", 2);
    size_t off = 0, kl, vl;
    const uint8_t *k, *v;
    assert_int_equal(sql__cop_resp_row(&r, &off, &k, &kl, &v, &vl), 1);
    assert_memory_equal(k, "k1", 2);
    assert_memory_equal(v, "v1", 2);
    assert_int_equal(sql__cop_resp_row(&r, &off, &k, &kl, &v, &vl), 1);
    assert_int_equal(vl, 0);
    assert_int_equal(sql__cop_resp_row(&r, &off, &k, &kl, &v, &vl), 0);
    for (size_t n = 0; n < sizeof(ok); n++)
        assert_int_equal(sql__cop_resp_decode(ok, n, &r), SQL_EPROTO);
    /* more without a resume key; an end without bounded, and the reverse */
    const uint8_t bad[] = {0xC1, 1, 0, 0, 0, 0};
    assert_int_equal(sql__cop_resp_decode(bad, sizeof(bad), &r), SQL_EPROTO);
    const uint8_t bad2[] = {0xC1, 0, 0, 0, 1, 'k', 0};
    assert_int_equal(sql__cop_resp_decode(bad2, sizeof(bad2), &r),
                     SQL_EPROTO);
    const uint8_t bad3[] = {0xC1, 2, 0, 0, 0, 0};
    assert_int_equal(sql__cop_resp_decode(bad3, sizeof(bad3), &r),
                     SQL_EPROTO);
}

/* ---- a server on three shards ----------------------------------------- */

struct cluster
{
    struct mvcc_engine *eng[3];     /* memory engines */
    struct mvcc_store *st[3];       /* their stores */
    struct mvcc_transport tr;       /* three shards, cop served */
    struct mvcc_local_tso tso;      /* timestamps */
    struct sqlfx fx;                /* the server */
    struct sqlfx_conn c;            /* one connection */
    int64_t tid;                    /* table d.t's id */
    unsigned calls;                 /* cop calls answered */
    unsigned rows;                  /* rows they carried */
    unsigned vbytes;                /* bytes of those rows' values */
    unsigned fail;                  /* calls still to fail */
    int fail_rc;                    /* with this code */
    unsigned shrink;                /* calls still to serve less: */
    int64_t shrink_at;              /* up to this handle, as a region
                                       that split under the caller */
    bool shrink_low;                /* ... or from it (the lower half
                                       moved: a descending caller's) */
};

/* sql_cop_run, counted, failing the next `fail` calls with fail_rc. */
static int counted_cop(void *ctx, struct mvcc_store *s, const void *start,
                       size_t sl, const void *end, size_t el, mvcc_ts ts,
                       const void *req, size_t req_len, uint8_t **resp,
                       size_t *resp_len, struct mvcc_result *res)
{
    struct cluster *cl = ctx;
    unsigned f = __atomic_load_n(&cl->fail, __ATOMIC_SEQ_CST);
    while (f > 0 && !__atomic_compare_exchange_n(&cl->fail, &f, f - 1, false,
                                                 __ATOMIC_SEQ_CST,
                                                 __ATOMIC_SEQ_CST))
        ;
    if (f > 0)
        return cl->fail_rc;
    uint8_t mid[SQL_TC_ROW_KEY_LEN];
    sql__tc_row_key(mid, cl->tid, cl->shrink_at);
    if (end && memcmp(start, mid, sl < sizeof(mid) ? sl : sizeof(mid)) <= 0 &&
        memcmp(mid, end, el < sizeof(mid) ? el : sizeof(mid)) < 0) {
        /* Pieces run on several threads: take one shrink atomically. */
        unsigned sh = __atomic_load_n(&cl->shrink, __ATOMIC_SEQ_CST);
        while (sh > 0 &&
               !__atomic_compare_exchange_n(&cl->shrink, &sh, sh - 1, false,
                                            __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST))
            ;
        if (sh > 0 && cl->shrink_low) {
            start = mid;
            sl = sizeof(mid);
        } else if (sh > 0) {
            end = mid;
            el = sizeof(mid);
        }
    }
    int rc = sql_cop_run(NULL, s, start, sl, end, el, ts, req, req_len, resp,
                         resp_len, res);
    if (rc == 0) {
        struct sql_cop_resp r;
        if (sql__cop_resp_decode(*resp, *resp_len, &r) != 0)
            return SQL_EPROTO;
        __atomic_add_fetch(&cl->calls, 1, __ATOMIC_SEQ_CST);
        __atomic_add_fetch(&cl->rows, (unsigned)r.nrows, __ATOMIC_SEQ_CST);
        size_t off = 0, kl, vl;
        const uint8_t *k, *v;
        while (sql__cop_resp_row(&r, &off, &k, &kl, &v, &vl) == 1)
            __atomic_add_fetch(&cl->vbytes, (unsigned)vl, __ATOMIC_SEQ_CST);
    }
    return rc;
}

static const char *const ddl[] = {
    "CREATE DATABASE d", "USE d",
    "CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(10), c DOUBLE)",
    NULL};

/* The id the DDL above gives d.t on a fresh store (found on a throwaway
 * in-memory server: ids come from the same meta counter). */
static int64_t predict_table_id(void)
{
    struct sqlfx fx;
    struct sqlfx_conn c;
    sqlfx_open(&fx, false);
    sqlfx_connect(&fx, &c, 1);
    for (size_t i = 0; ddl[i]; i++)
        sqlfx_q(&c, ddl[i]);
    struct sql_dbinfo *db = sql__catalog_db(fx.srv->cat, "d");
    assert_non_null(db);
    struct sql_tableinfo *t = sql__catalog_table(fx.srv->cat, db->id, "t");
    assert_non_null(t);
    int64_t id = t->id;
    sqlfx_disconnect(&c);
    sqlfx_close(&fx);
    return id;
}

/* Row i of the sample: a NULL every 10th, b NULL every 13th. */
static void row_text(int i, char *buf, size_t n)
{
    char a[16], b[16];
    if (i % 10 == 0)
        snprintf(a, sizeof(a), "NULL");
    else
        snprintf(a, sizeof(a), "%d", i % 7);
    if (i % 13 == 0)
        snprintf(b, sizeof(b), "NULL");
    else
        snprintf(b, sizeof(b), "'s%d'", i % 5);
    snprintf(buf, n, "(%d, %s, %s, %d.5)", i, a, b, i % 11);
}

static int setup(void **state)
{
    struct cluster *cl = calloc(1, sizeof(*cl));
    cl->tid = predict_table_id();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mvcc_memengine_create(&cl->eng[i]), 0);
        struct mvcc_store_opts so = {.lock_table = true};
        assert_int_equal(mvcc_store_open(cl->eng[i], &so, &cl->st[i]), 0);
    }
    /* shard 0: the catalog and rows below 100, shard 1: 100..199,
     * shard 2: 200 and up */
    uint8_t k1[SQL_TC_ROW_KEY_LEN], k2[SQL_TC_ROW_KEY_LEN];
    sql__tc_row_key(k1, cl->tid, 100);
    sql__tc_row_key(k2, cl->tid, 200);
    struct mvcc_key splits[2] = {{k1, sizeof(k1)}, {k2, sizeof(k2)}};
    assert_int_equal(mvcc_local_transport_init(&cl->tr, cl->st, 3, splits),
                     0);
    mvcc_local_transport_set_cop(&cl->tr, counted_cop, cl);
    struct mvcc_client_opts co = {.transport = cl->tr,
                                  .tso = mvcc_local_tso_next,
                                  .tso_ctx = &cl->tso,
                                  .resolve_budget_ms = 5000};
    struct sql_server_options o = {.cluster = &co};
    char err[256] = "";
    if (sql_server_open(&o, &cl->fx.srv, err, sizeof(err)) != 0)
        fail_msg("sql_server_open: %s", err);
    sqlfx_connect(&cl->fx, &cl->c, 1);
    for (size_t i = 0; ddl[i]; i++)
        assert_memory_equal(sqlfx_q(&cl->c, ddl[i]), "OK ", 3);
    struct sql_dbinfo *db = sql__catalog_db(cl->fx.srv->cat, "d");
    assert_int_equal(sql__catalog_table(cl->fx.srv->cat, db->id, "t")->id,
                     cl->tid);
    char sql[65536];
    size_t k = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO t VALUES ");
    for (int i = 1; i <= NROWS; i++) {
        char row[64];
        row_text(i, row, sizeof(row));
        k += (size_t)snprintf(sql + k, sizeof(sql) - k, "%s%s",
                              i > 1 ? ", " : "", row);
    }
    assert_string_equal(sqlfx_q(&cl->c, sql), "OK 300 0 0");
    *state = cl;
    return 0;
}

static int teardown(void **state)
{
    struct cluster *cl = *state;
    sqlfx_disconnect(&cl->c);
    sqlfx_close(&cl->fx);
    mvcc_local_transport_free(&cl->tr);
    for (int i = 0; i < 3; i++) {
        mvcc_store_close(cl->st[i]);
        mvcc_engine_destroy(cl->eng[i]);
    }
    free(cl);
    return 0;
}

/* The answer to sql with the coprocessor off (a copy). */
static char *answer_off(struct cluster *cl, const char *sql)
{
    assert_string_equal(sqlfx_q(&cl->c, "SET tidb_allow_coprocessor = 0"),
                        "OK 0 0 0");
    char *off = strdup(sqlfx_q(&cl->c, sql));
    assert_string_equal(sqlfx_q(&cl->c, "SET tidb_allow_coprocessor = 1"),
                        "OK 0 0 0");
    return off;
}

/* sql's answer with the coprocessor on equals the one with it off; the
 * cop calls and rows shipped of the "on" run come back. */
static const char *same(struct cluster *cl, const char *sql, unsigned *calls,
                        unsigned *rows)
{
    char *off = answer_off(cl, sql);
    cl->calls = cl->rows = cl->vbytes = 0;
    const char *on = sqlfx_q(&cl->c, sql);
    if (strcmp(on, off) != 0)
        fail_msg("%s\n-- on:\n%s\n-- off:\n%s", sql, on, off);
    free(off);
    if (calls)
        *calls = cl->calls;
    if (rows)
        *rows = cl->rows;
    return on;
}

/* ids i in [1, NROWS] where keep(i), one per line. */
static char *ids_where(bool (*keep)(int))
{
    static char buf[8192];
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 1; i <= NROWS; i++)
        if (keep(i))
            k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%s%d",
                                  k ? "\n" : "", i);
    return buf;
}

static bool a_is_3(int i) { return i % 10 != 0 && i % 7 == 3; }
static bool a_is_3_above_150(int i) { return a_is_3(i) && i > 150; }
static bool a_is_3_95_205(int i) { return a_is_3(i) && i >= 95 && i <= 205; }
static bool a_null_b_not(int i) { return i % 10 == 0 && i % 13 != 0; }
static bool not_in_like(int i)
{
    return i % 10 != 0 && i % 7 > 3 && i % 13 != 0 && i % 5 == 2;
}

static void test_filters(void **state)
{
    struct cluster *cl = *state;
    unsigned calls, rows;
    const char *on = same(cl, "SELECT id FROM t WHERE a = 3", &calls, &rows);
    assert_string_equal(on, ids_where(a_is_3));
    assert_int_equal(calls, 3); /* one per shard */
    unsigned n = 0;
    for (int i = 1; i <= NROWS; i++)
        n += a_is_3(i);
    assert_int_equal(rows, n); /* only the matching rows travel */
    on = same(cl, "SELECT id FROM t WHERE a IS NULL AND b IS NOT NULL",
              &calls, &rows);
    assert_string_equal(on, ids_where(a_null_b_not));
    /* NULL compared is not TRUE: rows with a NULL a never pass */
    on = same(cl, "SELECT id FROM t WHERE a NOT IN (1, 2, 3) AND a <> 0 "
                  "AND b LIKE 's2'", NULL, &rows);
    assert_string_equal(on, ids_where(not_in_like));
    same(cl, "SELECT COUNT(*), SUM(a), MIN(c), MAX(b) FROM t WHERE "
             "id BETWEEN 50 AND 250 AND a <> 2", NULL, NULL);
    same(cl, "SELECT id, a, b, c FROM t WHERE a > 4 OR b = 's1'", NULL,
         NULL);
    same(cl, "SELECT id FROM t WHERE NOT (a <=> NULL) AND a + 1 = 2", NULL,
         NULL);
    same(cl, "SELECT id FROM t WHERE CASE WHEN a IS NULL THEN 1 ELSE 0 END "
             "= 1 AND LENGTH(b) = 2", NULL, NULL);
    /* a LIMIT over a filter pushed whole: one piece, each request asking
     * for offset + count rows */
    on = same(cl, "SELECT id FROM t WHERE a = 1 LIMIT 3", &calls, &rows);
    assert_string_equal(on, "1\n8\n15");
    assert_int_equal(calls, 1);
    assert_int_equal(rows, 3);
    on = same(cl, "SELECT id, b FROM t WHERE a = 1 LIMIT 2, 3", &calls,
              &rows);
    assert_string_equal(on, "15|s0\n22|s2\n29|s4");
    assert_int_equal(rows, 5);
    /* ... also across shards, and never when sqld still filters */
    on = same(cl, "SELECT id FROM t WHERE a = 1 AND id BETWEEN 90 AND 300 "
                  "LIMIT 4", &calls, &rows);
    assert_string_equal(on, "92\n99\n106\n113");
    assert_int_equal(calls, 2);
    assert_int_equal(rows, 4); /* 2 from shard 0, then the 2 missing */
    assert_string_equal(sqlfx_q(&cl->c, "SET @v = 0"), "OK 0 0 0");
    on = same(cl, "SELECT id FROM t WHERE a = 1 AND id > @v LIMIT 3", NULL,
              &rows);
    assert_string_equal(on, "1\n8\n15");
    assert_true(rows > 3);
    same(cl, "SELECT b, COUNT(*) FROM t WHERE a >= 5 GROUP BY b "
             "ORDER BY b", NULL, NULL);
    /* nothing matches */
    on = same(cl, "SELECT id FROM t WHERE a = 99", &calls, &rows);
    assert_string_equal(on, "");
    assert_int_equal(rows, 0);
}

static void test_partial(void **state)
{
    struct cluster *cl = *state;
    unsigned rows;
    /* @v cannot run next to the data: a = 3 goes, id > @v stays */
    assert_string_equal(sqlfx_q(&cl->c, "SET @v = 150"), "OK 0 0 0");
    const char *on = same(cl, "SELECT id FROM t WHERE a = 3 AND id > @v",
                          NULL, &rows);
    assert_string_equal(on, ids_where(a_is_3_above_150));
    unsigned n = 0;
    for (int i = 1; i <= NROWS; i++)
        n += a_is_3(i);
    assert_int_equal(rows, n); /* every a = 3 row; sqld drops id <= @v */
    /* a subquery never goes down */
    same(cl, "SELECT id FROM t WHERE a = 3 AND b IN (SELECT b FROM t "
             "WHERE id = 5)", NULL, NULL);
    /* nothing pushable: no coprocessor call */
    unsigned calls;
    same(cl, "SELECT COUNT(*) FROM t WHERE id > @v", &calls, NULL);
    assert_int_equal(calls, 0);
}

static void test_explain(void **state)
{
    struct cluster *cl = *state;
    const char *e = sqlfx_q(&cl->c, "EXPLAIN SELECT id FROM t WHERE a = 3 "
                                    "AND id > @v");
    if (!strstr(e, "cop[kvd]") || !strstr(e, "pushed:(a = 3)") ||
        strstr(e, "pushed:(a = 3) AND"))
        fail_msg("%s", e);
    /* the handle range the access path reads is not pushed again */
    e = sqlfx_q(&cl->c, "EXPLAIN SELECT id FROM t WHERE id BETWEEN 10 AND "
                        "20 AND a = 3");
    if (!strstr(e, "TableRangeScan") || !strstr(e, "pushed:(a = 3)") ||
        strstr(e, "pushed:(a = 3) AND"))
        fail_msg("%s", e);
    e = sqlfx_q(&cl->c, "EXPLAIN SELECT id FROM t WHERE id BETWEEN 10 AND 20");
    if (strstr(e, "cop[kvd]"))
        fail_msg("%s", e);
    unsigned calls;
    const char *on = same(cl, "SELECT id FROM t WHERE id BETWEEN 95 AND 205 "
                              "AND a = 3", &calls, NULL);
    assert_string_equal(on, ids_where(a_is_3_95_205));
    assert_int_equal(calls, 3); /* the range spans the three shards */
    assert_string_equal(sqlfx_q(&cl->c, "SET tidb_allow_coprocessor = 0"),
                        "OK 0 0 0");
    e = sqlfx_q(&cl->c, "EXPLAIN SELECT id FROM t WHERE a = 3");
    if (strstr(e, "cop[kvd]") || strstr(e, "pushed"))
        fail_msg("%s", e);
    assert_string_equal(sqlfx_q(&cl->c, "SET tidb_allow_coprocessor = 1"),
                        "OK 0 0 0");
}

static void test_region_errors(void **state)
{
    struct cluster *cl = *state;
    unsigned rows;
    cl->fail_rc = MVCC_EPOCH_NOT_MATCH;
    cl->fail = 5;
    const char *on = same(cl, "SELECT id FROM t WHERE a = 3", NULL, &rows);
    assert_string_equal(on, ids_where(a_is_3));
    assert_int_equal(cl->fail, 0);
    unsigned n = 0;
    for (int i = 1; i <= NROWS; i++)
        n += a_is_3(i);
    assert_int_equal(rows, n); /* retried, nothing twice */
    cl->fail_rc = MVCC_SERVER_BUSY;
    cl->fail = 2;
    on = same(cl, "SELECT id FROM t WHERE a = 3", NULL, NULL);
    assert_string_equal(on, ids_where(a_is_3));
    /* the region the caller located serves less (it split meanwhile):
     * the scan goes on from where it ended */
    cl->shrink_at = 150;
    cl->shrink = 1;
    unsigned calls;
    on = same(cl, "SELECT id FROM t WHERE a = 3", &calls, &rows);
    assert_string_equal(on, ids_where(a_is_3));
    assert_int_equal(cl->shrink, 0);
    assert_int_equal(calls, 4);
    assert_int_equal(rows, n);
    /* an error that is not a region error reaches the client */
    cl->fail_rc = MVCC_CORRUPT;
    cl->fail = 1;
    on = sqlfx_q(&cl->c, "SELECT id FROM t WHERE a = 3");
    assert_non_null(strstr(on, "ERR 1105"));
    cl->fail = 0;
}

/* A lock left by a transaction that died after prewrite (long expired)
 * sits on row 1000 (none committed there): sql_cop_run reports it, the query resolves it (rolls
 * it back) and answers. */
static void test_lock(void **state)
{
    struct cluster *cl = *state;
    uint8_t k[SQL_TC_ROW_KEY_LEN];
    sql__tc_row_key(k, cl->tid, 1000);
    struct mvcc_mutation m = {.op = MVCC_OP_PUT, .key = k,
                              .key_len = sizeof(k), .value = "x",
                              .value_len = 1};
    mvcc_ts old = (mvcc_ts)1000 << 18; /* one second after the epoch */
    struct mvcc_prewrite_req pw = {.mutations = &m, .n = 1, .primary = k,
                                   .primary_len = sizeof(k),
                                   .start_ts = old, .lock_ttl = 10};
    struct mvcc_result res;
    mvcc_result_init(&res);
    assert_int_equal(mvcc_prewrite(cl->st[2], &pw, &res), 0);
    mvcc_result_reset(&res);
    /* next to the data: MVCC_LOCKED with the lock */
    struct sql_tableinfo *t = sql__catalog_table(
        cl->fx.srv->cat, sql__catalog_db(cl->fx.srv->cat, "d")->id, "t");
    struct sql__buf tb = {0}, rb = {0};
    assert_int_equal(sql__table_encode(t, &tb), 0);
    const char *conds[] = {"(a = 3)"};
    size_t lens[] = {7};
    struct sql_cop_req q = {.max_rows = 100, .table = tb.p,
                            .table_len = tb.len, .conds = conds,
                            .cond_lens = lens, .nconds = 1};
    assert_int_equal(sql__cop_req_encode(&q, &rb), 0);
    uint8_t s[SQL_TC_ROW_KEY_LEN], e[SQL_TC_ROW_KEY_LEN];
    sql__tc_row_key(s, cl->tid, 200);
    sql__tc_row_key(e, cl->tid, 2000);
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    mvcc_ts now;
    mvcc_local_tso_next(&cl->tso, &now);
    assert_int_equal(sql_cop_run(NULL, cl->st[2], s, sizeof(s), e, sizeof(e),
                                 now, rb.p, rb.len, &resp, &resp_len, &res),
                     MVCC_LOCKED);
    assert_int_equal(res.nlocks, 1);
    assert_memory_equal(res.locks[0].key, k, sizeof(k));
    assert_null(resp);
    mvcc_result_reset(&res);
    /* below the lock's ts it is not in the way (and nothing is there) */
    assert_int_equal(sql_cop_run(NULL, cl->st[2], s, sizeof(s), e, sizeof(e),
                                 old - 1, rb.p, rb.len, &resp, &resp_len,
                                 &res),
                     0);
    struct sql_cop_resp r;
    assert_int_equal(sql__cop_resp_decode(resp, resp_len, &r), 0);
    assert_int_equal(r.nrows, 0); /* nothing was committed that early */
    assert_false(r.more);
    mvcc_free(resp);
    /* a malformed request is refused, never a crash */
    assert_int_equal(sql_cop_run(NULL, cl->st[2], s, sizeof(s), e, sizeof(e),
                                 now, rb.p, rb.len - 1, &resp, &resp_len,
                                 &res),
                     SQL_EPROTO);
    mvcc_result_reset(&res);
    /* the query resolves it: the dead transaction is rolled back */
    const char *on = sqlfx_q(&cl->c, "SELECT id FROM t WHERE a = 3");
    assert_string_equal(on, ids_where(a_is_3));
    mvcc_local_tso_next(&cl->tso, &now);
    assert_int_equal(sql_cop_run(NULL, cl->st[2], s, sizeof(s), e, sizeof(e),
                                 now, rb.p, rb.len, &resp, &resp_len, &res),
                     0);
    assert_int_equal(sql__cop_resp_decode(resp, resp_len, &r), 0);
    unsigned n = 0;
    for (int i = 200; i <= NROWS; i++)
        n += a_is_3(i);
    assert_int_equal(r.nrows, n);
    mvcc_free(resp);
    sql__buf_free(&tb);
    sql__buf_free(&rb);
}

/* ---- aggregation and top-N next to the data ------------------------- */

static void test_req_v2(void **state)
{
    (void)state;
    const char *exprs[] = {"`b`", "COUNT(*)", "SUM(`a`)"};
    size_t lens[] = {3, 8, 8};
    const uint8_t desc[] = {0, 1, 0};
    const uint8_t table[] = {9};
    struct sql_cop_req q = {.max_rows = 5, .table = table, .table_len = 1,
                            .mode = SQL_COP_AGG, .exprs = exprs,
                            .expr_lens = lens, .nkeys = 1, .naggs = 2};
    struct sql__buf b = {0};
    struct sql_arena *a = sql__arena_create(0);
    struct sql_cop_req d;
    assert_int_equal(sql__cop_req_encode(&q, &b), 0);
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), 0);
    assert_int_equal(d.mode, SQL_COP_AGG);
    assert_int_equal(d.nkeys, 1);
    assert_int_equal(d.naggs, 2);
    assert_int_equal(d.expr_lens[2], 8);
    assert_memory_equal(d.exprs[2], "SUM(`a`)", 8);
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(sql__cop_req_decode(b.p, n, a, &d), SQL_EPROTO);
    /* TOPN: keys with their direction */
    q.mode = SQL_COP_TOPN;
    q.nkeys = 3;
    q.naggs = 0;
    q.desc = desc;
    b.len = 0;
    assert_int_equal(sql__cop_req_encode(&q, &b), 0);
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), 0);
    assert_int_equal(d.mode, SQL_COP_TOPN);
    assert_int_equal(d.nkeys, 3);
    assert_int_equal(d.desc[1], 1);
    assert_int_equal(d.desc[2], 0);
    b.p[b.len - 1] = 2; /* a direction that is neither */
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), SQL_EPROTO);
    /* TOPN carries no aggregates; AGG needs something to compute */
    q.naggs = 1;
    assert_int_equal(sql__cop_req_encode(&q, &b), -EINVAL);
    q.mode = SQL_COP_AGG;
    q.nkeys = q.naggs = 0;
    assert_int_equal(sql__cop_req_encode(&q, &b), -EINVAL);
    /* over an index: ROWS, and TOPN too */
    q.mode = SQL_COP_ROWS;
    q.index = 3;
    b.len = 0;
    assert_int_equal(sql__cop_req_encode(&q, &b), 0);
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), 0);
    assert_int_equal(d.index, 3);
    q.mode = SQL_COP_TOPN;
    q.nkeys = 1;
    b.len = 0;
    assert_int_equal(sql__cop_req_encode(&q, &b), 0);
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), 0);
    assert_int_equal(d.index, 3);
    assert_int_equal(d.mode, SQL_COP_TOPN);
    /* a version 1 request (no mode) still reads as ROWS */
    const uint8_t v1[] = {0xC0, 1, 0, 0, 1, 1, 9, 0};
    assert_int_equal(sql__cop_req_decode(v1, sizeof(v1), a, &d), 0);
    assert_int_equal(d.mode, SQL_COP_ROWS);
    /* a fallback answer carries no rows */
    struct sql_cop_resp r;
    const uint8_t fb[] = {0xC1, 4, 7, 0, 0, 0};
    assert_int_equal(sql__cop_resp_decode(fb, sizeof(fb), &r), 0);
    assert_true(r.fallback);
    const uint8_t fb_rows[] = {0xC1, 4, 7, 0, 0, 1, 0, 0};
    assert_int_equal(sql__cop_resp_decode(fb_rows, sizeof(fb_rows), &r),
                     SQL_EPROTO);
    sql__arena_destroy(a);
    sql__buf_free(&b);
}

/* sql is answered next to the data (calls cop calls) shipping rows rows,
 * the same as with the coprocessor off. */
static const char *pushed(struct cluster *cl, const char *sql,
                          unsigned calls, unsigned rows)
{
    unsigned c, r;
    const char *on = same(cl, sql, &c, &r);
    if (c != calls || r != rows)
        fail_msg("%s: %u calls, %u rows (want %u, %u)", sql, c, r, calls,
                 rows);
    return on;
}

/* EXPLAIN sql marks a scan cop[kvd] and says want. */
static void explain_has(struct cluster *cl, const char *sql, const char *want)
{
    char q[1024];
    snprintf(q, sizeof(q), "EXPLAIN %s", sql);
    const char *e = sqlfx_q(&cl->c, q);
    if (!strstr(e, "cop[kvd]") || !strstr(e, want))
        fail_msg("%s", e);
}

static void test_agg(void **state)
{
    struct cluster *cl = *state;
    /* no GROUP BY: one partial row per shard */
    const char *on = pushed(cl, "SELECT COUNT(*), COUNT(a), SUM(a), MIN(b), "
                                "MAX(c), AVG(a), AVG(c), SUM(c), MIN(id) "
                                "FROM t", 3, 3);
    assert_string_equal(on, "300|270|810|s0|10.5|3.0000|5.47|1641|1");
    /* b has 6 values (NULL one of them) in every shard */
    pushed(cl, "SELECT b, COUNT(*), SUM(a), AVG(a), MIN(id), MAX(c) FROM t "
               "GROUP BY b", 3, 18);
    pushed(cl, "SELECT b, COUNT(*) FROM t GROUP BY b ORDER BY b DESC", 3, 18);
    pushed(cl, "SELECT a % 3, b, COUNT(*) FROM t WHERE a > 2 AND b <> 's1' "
               "GROUP BY a % 3, b HAVING COUNT(*) > 3", 3, 36);
    pushed(cl, "SELECT UPPER(b) AS u, SUM(a + id) FROM t WHERE id BETWEEN 50 "
               "AND 250 GROUP BY u", 3, 18);
    /* nothing matches: no partial rows; COUNT is 0, SUM NULL */
    on = pushed(cl, "SELECT COUNT(*), SUM(a) FROM t WHERE a = 99", 3, 0);
    assert_string_equal(on, "0|NULL");
    on = pushed(cl, "SELECT b, COUNT(*) FROM t WHERE a = 99 GROUP BY b", 3,
                0);
    assert_string_equal(on, "");
    /* a handle range: only the shards it spans */
    on = pushed(cl, "SELECT COUNT(*), MAX(a) FROM t WHERE id < 150", 2, 2);
    assert_string_equal(on, "149|6");
    /* EXPLAIN says what runs where */
    explain_has(cl, "SELECT b, COUNT(*), SUM(a) FROM t WHERE a > 2 GROUP BY b",
                "pushed:(a > 2); agg: COUNT(*), SUM(a) group by b");
    /* not pushed: DISTINCT, GROUP_CONCAT, a filter sqld finishes, a
     * non-aggregated column (rows travel instead) */
    unsigned calls, rows;
    same(cl, "SELECT COUNT(DISTINCT a) FROM t", &calls, NULL);
    assert_int_equal(calls, 0);
    same(cl, "SELECT a, GROUP_CONCAT(id) FROM t WHERE a = 1 GROUP BY a",
         &calls, &rows);
    assert_int_equal(rows, 39);
    assert_string_equal(sqlfx_q(&cl->c, "SET @v = 150"), "OK 0 0 0");
    same(cl, "SELECT COUNT(*) FROM t WHERE a = 3 AND id > @v", NULL, &rows);
    assert_int_equal(rows, 38);
    assert_string_equal(sqlfx_q(&cl->c, "SET sql_mode = ''"), "OK 0 0 0");
    same(cl, "SELECT a, b, COUNT(*) FROM t WHERE a = 3 GROUP BY a", NULL,
         &rows);
    assert_int_equal(rows, 38);
    /* a transaction that wrote reads its own writes: no coprocessor */
    assert_string_equal(sqlfx_q(&cl->c, "BEGIN"), "OK 0 0 0");
    assert_string_equal(sqlfx_q(&cl->c, "INSERT INTO t VALUES "
                                        "(1000, 3, 'x', 1)"),
                        "OK 1 0 0");
    cl->calls = 0;
    assert_string_equal(sqlfx_q(&cl->c, "SELECT COUNT(*), SUM(a) FROM t"),
                        "301|813");
    assert_int_equal(cl->calls, 0);
    assert_string_equal(sqlfx_q(&cl->c, "ROLLBACK"), "OK 0 0 0");
}

/* Rows kvd cannot aggregate the way sqld would (an evaluation that warns,
 * an error) make the answer fall back: sqld aggregates the rows. */
static void test_agg_fallback(void **state)
{
    struct cluster *cl = *state;
    unsigned calls, rows;
    /* division by zero: NULL and a warning per row */
    const char *on = same(cl, "SELECT SUM(a / 0), COUNT(*) FROM t", &calls,
                          &rows);
    assert_string_equal(on, "NULL|300");
    assert_int_equal(rows, 0); /* the answers fell back, then rows were
                                  read without the coprocessor */
    assert_true(calls >= 1);
    on = sqlfx_q(&cl->c, "SHOW COUNT(*) WARNINGS");
    assert_string_equal(on, "270"); /* a NULL a divides nothing */
    /* one bad group key in shard 2 only: every answer merged before it is
     * forgotten, the rows read again */
    assert_string_equal(sqlfx_q(&cl->c, "CREATE TABLE w (id INT PRIMARY "
                                        "KEY, s VARCHAR(10))"),
                        "OK 0 0 0");
    assert_string_equal(sqlfx_q(&cl->c, "INSERT INTO w VALUES (1, '1'), "
                                        "(2, '2'), (3, 'x'), (4, '4')"),
                        "OK 4 0 0");
    on = same(cl, "SELECT s + 0 AS k, COUNT(*) FROM w GROUP BY k", NULL,
              NULL);
    assert_string_equal(on, "1|1\n2|1\n0|1\n4|1");
    on = same(cl, "SELECT COUNT(*), SUM(id) FROM w WHERE s < 'x'", &calls,
              &rows);
    assert_string_equal(on, "3|7");
    assert_int_equal(calls, 1);
    assert_int_equal(rows, 1);
}

static bool topn_row(int i) { return i % 10 != 0 && i % 7 == 6; }

static void test_topn(void **state)
{
    struct cluster *cl = *state;
    /* each shard keeps its top 5: 15 rows travel, not 300 */
    const char *on = pushed(cl, "SELECT id, a, c FROM t ORDER BY c DESC, id "
                                "LIMIT 5", 3, 15);
    assert_string_equal(on, "10|NULL|10.5\n21|0|10.5\n32|4|10.5\n"
                            "43|1|10.5\n54|5|10.5");
    /* ties on a: the rows earlier in key order win, as in sqld's sort */
    on = pushed(cl, "SELECT id FROM t WHERE a = 6 ORDER BY a LIMIT 4", 3, 12);
    unsigned n = 0;
    char want[256] = "";
    size_t k = 0;
    for (int i = 1; i <= NROWS && n < 4; i++)
        if (topn_row(i)) {
            k += (size_t)snprintf(want + k, sizeof(want) - k, "%s%d",
                                  n ? "\n" : "", i);
            n++;
        }
    assert_string_equal(on, want);
    /* offset + count per shard; NULLs first ascending */
    pushed(cl, "SELECT id, b FROM t ORDER BY b, id DESC LIMIT 3, 4", 3, 21);
    pushed(cl, "SELECT id, a * 2 AS x FROM t WHERE b LIKE 's%' ORDER BY x, "
               "LENGTH(b), id LIMIT 7", 3, 21);
    pushed(cl, "SELECT id FROM t WHERE id > 150 ORDER BY c, id LIMIT 2", 2,
           4);
    /* fewer rows than the limit in a shard: all of them */
    on = pushed(cl, "SELECT id FROM t WHERE a = 4 AND id < 12 ORDER BY b "
                    "LIMIT 10", 1, 2);
    assert_string_equal(on, "11\n4");
    explain_has(cl, "SELECT id FROM t WHERE a = 1 ORDER BY c DESC LIMIT 3",
                "pushed:(a = 1); topN: c:desc, count per region");
    /* not pushed: a key sqld computes (a variable), a filter it finishes */
    unsigned rows;
    same(cl, "SELECT id FROM t ORDER BY a + @v LIMIT 3", NULL, &rows);
    assert_int_equal(rows, 0);
    same(cl, "SELECT id FROM t WHERE a = 1 AND id > @v ORDER BY c LIMIT 3",
         NULL, &rows);
    assert_int_equal(rows, 39);
}

static bool a_2_to_4_not_3(int i)
{
    return i % 10 != 0 && i % 7 >= 2 && i % 7 <= 4 && i % 7 != 3;
}
static bool a_3_even(int i) { return a_is_3(i) && i % 2 == 0; }

/* An index range scan: conditions on the index's columns (and the handle)
 * go down with it; sqld reads the rows of the entries they accept. */
static void test_index(void **state)
{
    struct cluster *cl = *state;
    assert_string_equal(sqlfx_q(&cl->c, "CREATE INDEX ia ON t (a)"),
                        "OK 0 0 0");
    unsigned n = 0;
    for (int i = 1; i <= NROWS; i++)
        n += a_2_to_4_not_3(i);
    const char *on = pushed(cl, "SELECT id FROM t FORCE INDEX (ia) WHERE a "
                                "BETWEEN 2 AND 4 AND a <> 3 ORDER BY id",
                            1, n);
    assert_string_equal(on, ids_where(a_2_to_4_not_3));
    n = 0;
    for (int i = 1; i <= NROWS; i++)
        n += a_3_even(i);
    on = pushed(cl, "SELECT id FROM t FORCE INDEX (ia) WHERE a = 3 AND "
                    "id % 2 = 0 ORDER BY id", 1, n);
    assert_string_equal(on, ids_where(a_3_even));
    /* b is not in the index: it stays in sqld, the rest goes down */
    same(cl, "SELECT id, b FROM t FORCE INDEX (ia) WHERE a > 4 AND b = 's1' "
             "AND a <> 5", NULL, NULL);
    unsigned calls;
    same(cl, "SELECT id FROM t FORCE INDEX (ia) WHERE a = 2 AND b = 's1'",
         &calls, NULL);
    assert_int_equal(calls, 0);
    explain_has(cl, "SELECT id FROM t FORCE INDEX (ia) WHERE a > 1 AND id < 50",
                "index:ia(a)|range: 1 key; filter:((a > 1) AND (id < 50)); "
                "pushed:(id < 50)");
    /* aggregates over the index's columns: entries counted next to the
     * data, no row read; every condition goes down (a range may hold
     * entries, NULLs, a condition rejects) */
    on = pushed(cl, "SELECT COUNT(*), SUM(a), MAX(id) FROM t FORCE INDEX "
                    "(ia) WHERE a < 3", 1, 1);
    assert_string_equal(on, "116|117|296");
    pushed(cl, "SELECT a, COUNT(*), MIN(id) FROM t FORCE INDEX (ia) WHERE "
               "a >= 0 AND id % 2 = 1 GROUP BY a", 1, 7);
    explain_has(cl, "SELECT COUNT(*) FROM t FORCE INDEX (ia) WHERE a < 3",
                "pushed:(a < 3); agg: COUNT(*)");
    /* a column outside the index: the rows are aggregated in sqld */
    unsigned rows;
    same(cl, "SELECT COUNT(*), MAX(b) FROM t FORCE INDEX (ia) WHERE a < 3",
         NULL, &rows);
    assert_int_equal(rows, 0);
    /* top-N by the index's columns: each answer's top entries, then
     * their rows */
    on = pushed(cl, "SELECT id, b FROM t FORCE INDEX (ia) WHERE a > 4 "
                    "ORDER BY a DESC, id LIMIT 3", 1, 3);
    assert_string_equal(on, "6|s1\n13|NULL\n27|s2");
}

/* Next to the data: an AGG answer that is full (max_rows groups) stops
 * after the row that filled it and says where to go on; the parts of
 * all answers add up to the shard's rows. */
static void test_agg_resume(void **state)
{
    struct cluster *cl = *state;
    struct sql_tableinfo *t = sql__catalog_table(
        cl->fx.srv->cat, sql__catalog_db(cl->fx.srv->cat, "d")->id, "t");
    struct sql__buf tb = {0}, rb = {0};
    assert_int_equal(sql__table_encode(t, &tb), 0);
    const char *exprs[] = {"`a`", "COUNT(*)", "SUM(`id`)"};
    size_t lens[] = {3, 8, 9};
    struct sql_cop_req q = {.max_rows = 3, .table = tb.p,
                            .table_len = tb.len, .mode = SQL_COP_AGG,
                            .exprs = exprs, .expr_lens = lens, .nkeys = 1,
                            .naggs = 2};
    assert_int_equal(sql__cop_req_encode(&q, &rb), 0);
    uint8_t s[SQL_TC_ROW_KEY_LEN + 1], e[SQL_TC_ROW_KEY_LEN];
    size_t sl = SQL_TC_ROW_KEY_LEN;
    sql__tc_row_key(s, cl->tid, 100);
    sql__tc_row_key(e, cl->tid, 200);
    mvcc_ts now;
    mvcc_local_tso_next(&cl->tso, &now);
    struct sql_arena *a = sql__arena_create(0);
    int64_t count = 0, sum = 0;
    unsigned answers = 0, groups = 0;
    for (bool more = true; more; answers++) {
        struct mvcc_result res;
        mvcc_result_init(&res);
        uint8_t *resp = NULL;
        size_t resp_len = 0;
        assert_int_equal(sql_cop_run(NULL, cl->st[1], s, sl, e, sizeof(e),
                                     now, rb.p, rb.len, &resp, &resp_len,
                                     &res),
                         0);
        struct sql_cop_resp r;
        assert_int_equal(sql__cop_resp_decode(resp, resp_len, &r), 0);
        assert_false(r.fallback);
        assert_true(r.nrows <= 3);
        size_t off = 0, kl, vl;
        const uint8_t *k, *v;
        const uint32_t ids[] = {0, 1, 2, 3, 4};
        struct sql_datum d[5];
        bool found[5];
        while (sql__cop_resp_row(&r, &off, &k, &kl, &v, &vl) == 1) {
            assert_int_equal(kl, 0);
            assert_int_equal(sql__row_decode(v, vl, ids, 5, d, found, a), 0);
            assert_int_equal(d[1].vt, SQL_VT_INT); /* COUNT(*)'s rows */
            assert_int_equal(d[3].vt, SQL_VT_INT); /* SUM's rows */
            assert_int_equal(d[4].vt, SQL_VT_DECIMAL); /* its exact part */
            count += d[1].v.i;
            char buf[SQL_DEC_STR_MAX];
            sql__dec_print(&d[4].v.dec, buf);
            sum += strtoll(buf, NULL, 10);
            groups++;
        }
        more = r.more;
        if (more) { /* go on after the last row read */
            assert_true(r.resume_len == SQL_TC_ROW_KEY_LEN);
            memcpy(s, r.resume, r.resume_len);
            s[r.resume_len] = 0;
            sl = r.resume_len + 1;
        }
        mvcc_free(resp);
        mvcc_result_reset(&res);
    }
    assert_int_equal(count, 100); /* rows 100..199, each counted once */
    assert_int_equal(sum, (100 + 199) * 100 / 2);
    assert_true(answers > 2);
    assert_true(groups > 8); /* a's 8 values (NULL one), again per answer */
    sql__arena_destroy(a);
    sql__buf_free(&tb);
    sql__buf_free(&rb);
}

/* Version 3: the desc flag; a request without flags is still version 2
 * (a kvd of the last version serves it). */
static void test_req_v3(void **state)
{
    (void)state;
    const uint8_t table[] = {9};
    const char *conds[] = {"(a = 1)"};
    size_t lens[] = {7};
    struct sql_cop_req q = {.max_rows = 5, .table = table, .table_len = 1,
                            .conds = conds, .cond_lens = lens, .nconds = 1};
    struct sql__buf b = {0};
    struct sql_arena *a = sql__arena_create(0);
    struct sql_cop_req d;
    assert_int_equal(sql__cop_req_encode(&q, &b), 0);
    assert_int_equal(b.p[1], 2);
    q.flags = SQL_COP_FLAG_DESC;
    b.len = 0;
    assert_int_equal(sql__cop_req_encode(&q, &b), 0);
    assert_int_equal(b.p[1], 3);
    assert_int_equal(b.p[b.len - 1], 1); /* the flags, last */
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), 0);
    assert_int_equal(d.flags, SQL_COP_FLAG_DESC);
    assert_int_equal(d.mode, SQL_COP_ROWS);
    assert_int_equal(d.nconds, 1);
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(sql__cop_req_decode(b.p, n, a, &d), SQL_EPROTO);
    b.p[b.len - 1] = 2; /* an unknown flag */
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), SQL_EPROTO);
    /* descending is for rows only */
    const char *exprs[] = {"COUNT(*)"};
    size_t elens[] = {8};
    q.mode = SQL_COP_AGG;
    q.exprs = exprs;
    q.expr_lens = elens;
    q.naggs = 1;
    assert_int_equal(sql__cop_req_encode(&q, &b), -EINVAL);
    q.flags = 0;
    b.len = 0;
    assert_int_equal(sql__cop_req_encode(&q, &b), 0);
    b.p[1] = 3; /* as version 3 with the desc flag appended */
    uint8_t one = 1;
    assert_int_equal(sql__buf_put(&b, &one, 1), 0);
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), SQL_EPROTO);
    b.p[b.len - 1] = 0; /* no flag: fine */
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), 0);
    assert_int_equal(d.mode, SQL_COP_AGG);
    q.flags = 4;
    q.mode = SQL_COP_ROWS;
    assert_int_equal(sql__cop_req_encode(&q, &b), -EINVAL);
    sql__arena_destroy(a);
    sql__buf_free(&b);
}

/* Version 4: resolved locks, in every mode, after the flags. */
static void test_req_v4(void **state)
{
    (void)state;
    const uint8_t table[] = {9};
    const char *exprs[] = {"COUNT(*)"};
    size_t elens[] = {8};
    const uint64_t resolved[] = {7, 300};
    struct sql_cop_req q = {.max_rows = 5, .table = table, .table_len = 1,
                            .mode = SQL_COP_AGG, .exprs = exprs,
                            .expr_lens = elens, .naggs = 1,
                            .resolved = resolved, .nresolved = 2};
    struct sql__buf b = {0};
    struct sql_arena *a = sql__arena_create(0);
    struct sql_cop_req d;
    assert_int_equal(sql__cop_req_encode(&q, &b), 0);
    assert_int_equal(b.p[1], 4);
    /* the tail: flags 0, 2 resolved, 7, 300 (LEB128 0xac 0x02) */
    const uint8_t tail[] = {0, 2, 7, 0xac, 0x02};
    assert_true(b.len > sizeof(tail));
    assert_memory_equal(b.p + b.len - sizeof(tail), tail, sizeof(tail));
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), 0);
    assert_int_equal(d.mode, SQL_COP_AGG);
    assert_int_equal(d.naggs, 1);
    assert_int_equal(d.flags, 0);
    assert_int_equal(d.nresolved, 2);
    assert_int_equal(d.resolved[0], 7);
    assert_int_equal(d.resolved[1], 300);
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(sql__cop_req_decode(b.p, n, a, &d), SQL_EPROTO);
    b.p[b.len - 4] = 0; /* version 4 naming no resolved lock */
    b.len -= 3;
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), SQL_EPROTO);
    /* rows, descending and projected: flags, projection, then the locks */
    const uint32_t proj[] = {1};
    q.mode = SQL_COP_ROWS;
    q.naggs = 0;
    q.exprs = NULL;
    q.expr_lens = NULL;
    q.flags = SQL_COP_FLAG_DESC | SQL_COP_FLAG_PROJECT;
    q.proj = proj;
    q.nproj = 1;
    q.nresolved = 1;
    b.len = 0;
    assert_int_equal(sql__cop_req_encode(&q, &b), 0);
    assert_int_equal(b.p[1], 4);
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), 0);
    assert_int_equal(d.flags, SQL_COP_FLAG_DESC | SQL_COP_FLAG_PROJECT);
    assert_int_equal(d.nproj, 1);
    assert_int_equal(d.proj[0], 1);
    assert_int_equal(d.nresolved, 1);
    assert_int_equal(d.resolved[0], 7);
    /* none: the version the flags need */
    q.nresolved = 0;
    b.len = 0;
    assert_int_equal(sql__cop_req_encode(&q, &b), 0);
    assert_int_equal(b.p[1], 3);
    assert_int_equal(sql__cop_req_decode(b.p, b.len, a, &d), 0);
    assert_int_equal(d.nresolved, 0);
    assert_null(d.resolved);
    q.nresolved = SQL_COP_MAX_RESOLVED + 1;
    assert_int_equal(sql__cop_req_encode(&q, &b), -EINVAL);
    sql__arena_destroy(a);
    sql__buf_free(&b);
}

/* Rows 1001..4000 (row_text's pattern) join the sample: shard 2 then
 * holds 3,101 rows, several answers' worth. */
#define BIG_FROM 1001
#define BIG_TO 4000

static void add_big(struct cluster *cl)
{
    static char sql[65536];
    for (int from = BIG_FROM; from <= BIG_TO; from += 500) {
        size_t k = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO t VALUES ");
        for (int i = from; i < from + 500; i++) {
            char row[64];
            row_text(i, row, sizeof(row));
            k += (size_t)snprintf(sql + k, sizeof(sql) - k, "%s%s",
                                  i > from ? ", " : "", row);
        }
        assert_string_equal(sqlfx_q(&cl->c, sql), "OK 500 0 0");
    }
}

/* ids of the sample and the big rows where keep(i), descending when
 * desc, at most max of them, one per line. */
static char *ids_big(bool (*keep)(int), bool desc, int max)
{
    static char buf[65536];
    size_t k = 0;
    int n = 0;
    buf[0] = '\0';
    for (int j = 0; j < NROWS + (BIG_TO - BIG_FROM + 1) && n < max; j++) {
        int i = j < NROWS ? j + 1 : BIG_FROM + j - NROWS;
        if (desc)
            i = j < BIG_TO - BIG_FROM + 1 ? BIG_TO - j
                                          : NROWS - (j - (BIG_TO -
                                                          BIG_FROM + 1));
        if (!keep(i))
            continue;
        k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%s%d", k ? "\n" : "",
                              i);
        n++;
    }
    return buf;
}

static bool any_row(int i) { (void)i; return true; }
static bool a_is_1_below_150(int i)
{
    return i % 10 != 0 && i % 7 == 1 && i < 150;
}

/* Answers are chunks: a region of many rows is several bounded answers,
 * each asked for when the one before it is taken; nothing read is thrown
 * away; a consumer that stops early stops the asking. */
static void test_stream(void **state)
{
    struct cluster *cl = *state;
    add_big(cl);
    unsigned calls, rows;
    /* every row passes: shard 0 has 99, shard 1 100, shard 2 3,101 rows
     * (answers of 1,024 rows: 4) */
    const char *on = same(cl, "SELECT id FROM t WHERE c >= 0", &calls,
                          &rows);
    assert_string_equal(on, ids_big(any_row, false, 1 << 20));
    assert_int_equal(calls, 6);
    assert_int_equal(rows, 3300);
    /* sqld still filters (no LIMIT hint): the first round asks each
     * region once; each chunk taken starts the next round (pieces with
     * fewer than 2 answers waiting), which reads while sqld works: shard
     * 0's chunk -> shard 2's second answer; shard 1's -> nothing (shard 2
     * holds 2); shard 2's first -> its third, and the Limit is served:
     * its fourth is never asked for */
    assert_string_equal(sqlfx_q(&cl->c, "SET @v = 250"), "OK 0 0 0");
    on = same(cl, "SELECT id FROM t WHERE c >= 0 AND id > @v LIMIT 5", &calls,
              &rows);
    assert_string_equal(on, "251\n252\n253\n254\n255");
    assert_int_equal(calls, 5);
    assert_int_equal(rows, 99 + 100 + 3 * 1024);
    /* a LIMIT the pushed filter serves alone: each request asks for what
     * is still missing, and exactly offset + count rows travel */
    on = same(cl, "SELECT id FROM t WHERE c >= 0 LIMIT 1000, 500", &calls,
              &rows);
    assert_int_equal(calls, 4); /* 99, 100, 1,024, then the 277 missing */
    assert_int_equal(rows, 1500);
    /* aggregates merge answer by answer */
    same(cl, "SELECT a, COUNT(*), SUM(id), MAX(b) FROM t WHERE c > 3 "
             "GROUP BY a", &calls, NULL);
    assert_int_equal(calls, 3);
}

/* ORDER BY the handle DESC: regions walked from the top (locate_prev),
 * each read downwards next to the data. */
static void test_desc(void **state)
{
    struct cluster *cl = *state;
    add_big(cl);
    unsigned calls, rows;
    const char *e = sqlfx_q(&cl->c, "EXPLAIN SELECT id FROM t WHERE a = 3 "
                                    "ORDER BY id DESC LIMIT 4");
    if (!strstr(e, "cop[kvd]") || !strstr(e, "pushed:(a = 3)"))
        fail_msg("%s", e);
    const char *on = same(cl, "SELECT id FROM t WHERE a = 3 ORDER BY id "
                              "DESC LIMIT 4", &calls, &rows);
    assert_string_equal(on, ids_big(a_is_3, true, 4));
    assert_int_equal(calls, 1);
    assert_int_equal(rows, 4);
    /* all of it: shard 2's 3,101 rows in 4 answers, then 1 each */
    on = same(cl, "SELECT id FROM t WHERE c >= 0 ORDER BY id DESC", &calls,
              &rows);
    assert_string_equal(on, ids_big(any_row, true, 1 << 20));
    assert_int_equal(calls, 6);
    assert_int_equal(rows, 3300);
    /* a handle range, and a LIMIT that crosses from shard 1 to shard 0:
     * 6 rows there, then the 4 missing */
    on = same(cl, "SELECT id FROM t WHERE a = 1 AND id < 150 ORDER BY id "
                  "DESC LIMIT 10", &calls, &rows);
    assert_string_equal(on, ids_big(a_is_1_below_150, true, 10));
    assert_int_equal(calls, 2);
    assert_int_equal(rows, 10);
    on = same(cl, "SELECT id, b FROM t WHERE a = 1 ORDER BY id DESC "
                  "LIMIT 2, 3", &calls, &rows);
    assert_int_equal(rows, 5);
    /* several handle ranges, read from the highest */
    on = same(cl, "SELECT id FROM t WHERE (id < 30 OR id BETWEEN 120 AND "
                  "130 OR id > 3990) AND a = 2 ORDER BY id DESC", &calls,
              &rows);
    assert_string_equal(on, "3999\n3992\n128\n121\n23\n16\n9\n2");
    assert_int_equal(rows, 8);
    /* the lower half of shard 1 moved away under the caller's map: the
     * answer says where the range it served starts, and the scan goes on
     * below it */
    cl->shrink_at = 150;
    cl->shrink_low = true;
    cl->shrink = 1;
    on = same(cl, "SELECT id FROM t WHERE a = 3 ORDER BY id DESC", &calls,
              &rows);
    assert_string_equal(on, ids_big(a_is_3, true, 1 << 20));
    assert_int_equal(cl->shrink, 0);
    assert_int_equal(calls, 4);
    unsigned n = 0;
    for (int i = 1; i <= BIG_TO; i++)
        n += (i <= NROWS || i >= BIG_FROM) && a_is_3(i);
    assert_int_equal(rows, n);
    /* region errors on the way down are retried */
    cl->fail_rc = MVCC_EPOCH_NOT_MATCH;
    cl->fail = 3;
    on = same(cl, "SELECT id FROM t WHERE a = 3 ORDER BY id DESC", NULL,
              &rows);
    assert_string_equal(on, ids_big(a_is_3, true, 1 << 20));
    assert_int_equal(cl->fail, 0);
    assert_int_equal(rows, n);
}

static bool a_is_6(int i) { return i % 10 != 0 && i % 7 == 6; }

/* Covering projections: rows come back with only the columns the
 * projection and sqld's filter read. */
static void test_project(void **state)
{
    struct cluster *cl = *state;
    unsigned calls, rows, n = 0;
    for (int i = 1; i <= NROWS; i++)
        n += a_is_3(i);
    explain_has(cl, "SELECT b FROM t WHERE a = 3",
                "pushed:(a = 3); columns: a, b");
    /* sqld evaluates its whole filter again: a travels too */
    explain_has(cl, "SELECT id FROM t WHERE a = 3",
                "pushed:(a = 3); columns: a");
    const char *on = same(cl, "SELECT id FROM t WHERE a = 3", &calls, &rows);
    assert_string_equal(on, ids_where(a_is_3));
    assert_int_equal(rows, n);
    unsigned only_a = cl->vbytes;
    /* whole rows: a, b and c travel */
    same(cl, "SELECT * FROM t WHERE a = 3", NULL, &rows);
    unsigned whole = cl->vbytes;
    assert_int_equal(rows, n);
    if (strstr(sqlfx_q(&cl->c, "EXPLAIN SELECT * FROM t WHERE a = 3"),
               "columns"))
        fail_msg("every column read: nothing left out");
    /* a and b: c's double (column id, class, 8 bytes) stays behind */
    same(cl, "SELECT b FROM t WHERE a = 3", NULL, &rows);
    assert_int_equal(rows, n);
    assert_int_equal(cl->vbytes, whole - 10 * n);
    assert_true(only_a < cl->vbytes);
    /* results as without the coprocessor, whatever reads the columns */
    same(cl, "SELECT UPPER(b), c + 1 FROM t WHERE a > 4 ORDER BY c, id",
         NULL, NULL);
    same(cl, "SELECT id, b FROM t WHERE a = 3 AND c > 5 LIMIT 2, 4", NULL,
         NULL);
    assert_string_equal(sqlfx_q(&cl->c, "SET @v = 100"), "OK 0 0 0");
    same(cl, "SELECT b FROM t WHERE a = 3 AND c > @v - 95", NULL, NULL);
    same(cl, "SELECT id, (SELECT COUNT(*) FROM t t2 WHERE t2.a = t.a) "
             "FROM t WHERE a = 3 AND id < 40", NULL, NULL);
    same(cl, "SELECT id FROM t WHERE a = 1 ORDER BY id DESC LIMIT 3", NULL,
         NULL);
    /* a column the stored rows predate: they travel whole, sqld fills
     * the default */
    assert_string_equal(
        sqlfx_q(&cl->c, "ALTER TABLE t ADD COLUMN d INT DEFAULT 7"),
        "OK 0 0 0");
    on = same(cl, "SELECT d, COUNT(*) FROM t WHERE a = 3 GROUP BY d", NULL,
              NULL);
    char want[32];
    snprintf(want, sizeof(want), "7|%u", n);
    assert_string_equal(on, want);
    on = same(cl, "SELECT id, d FROM t WHERE a = 3 AND id < 20", NULL, NULL);
    assert_string_equal(on, "3|7\n17|7");
    /* writes read whole rows: an UPDATE keeps every column */
    unsigned n6 = 0, b6 = 0;
    for (int i = 1; i <= NROWS; i++) {
        n6 += a_is_6(i);
        b6 += a_is_6(i) && i % 13 != 0;
    }
    char sql[128], got[32];
    snprintf(got, sizeof(got), "OK %u 0 0", n6);
    assert_string_equal(sqlfx_q(&cl->c, "UPDATE t SET c = 100 WHERE a = 6"),
                        got);
    snprintf(sql, sizeof(sql), "SELECT COUNT(*), COUNT(b), SUM(c) FROM t "
                               "WHERE a = 6");
    on = same(cl, sql, NULL, NULL);
    snprintf(want, sizeof(want), "%u|%u|%u", n6, b6, 100 * n6);
    assert_string_equal(on, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_req_roundtrip),
        cmocka_unit_test(test_resp_decode),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_region_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
        cmocka_unit_test(test_req_v2),
        cmocka_unit_test_setup_teardown(test_agg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agg_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_topn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agg_resume, setup, teardown),
        cmocka_unit_test(test_req_v3),
        cmocka_unit_test(test_req_v4),
        cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_desc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_project, setup, teardown),
    };
    return cmocka_run_group_tests_name("libsql/cop", tests, NULL, NULL);
}

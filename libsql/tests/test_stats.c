/* test_stats.c: ANALYZE TABLE and what it keeps: row count, per column
 * distinct and NULL counts, equi-depth buckets and most common values,
 * per index distinct keys (SHOW STATS_*); kept across a restart, dropped
 * by DROP, TRUNCATE and ALTER; the record's decoder against bad bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mvcc.h>

#include "session.h"
#include "sqlfx.h"
#include "stats.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)

/* Insert rows lo..hi-1 into d.t as (i, i % mod, 'v<i % 7>' or NULL every
 * tenth row). */
static void fill(struct sqlfx_conn *c, int lo, int hi, int mod)
{
    static char sql[65536];
    for (int i = lo; i < hi;) {
        int n = snprintf(sql, sizeof(sql), "INSERT INTO t VALUES ");
        for (int k = 0; k < 500 && i < hi; k++, i++) {
            char v[32];
            if (i % 10 == 9)
                snprintf(v, sizeof(v), "NULL");
            else
                snprintf(v, sizeof(v), "'v%d'", i % 7);
            n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s(%d, %d, %s)",
                          k ? ", " : "", i, i % mod, v);
        }
        const char *r = sqlfx_q(c, sql);
        assert_true(strncmp(r, "OK ", 3) == 0);
    }
}

/* The rows of a SHOW answer with cell col (the analysis time; 0-based)
 * cut out. */
static void strip_time(const char *in, int col, char *out, size_t len)
{
    size_t n = 0;
    int k = 0;
    for (const char *p = in; *p && n + 1 < len; p++) {
        if (*p == '\n')
            k = 0;
        else if (*p == '|' && ++k == col) {
            while (p[1] && p[1] != '|' && p[1] != '\n')
                p++; /* the time; its '|' goes on */
            continue;
        }
        out[n++] = *p;
    }
    out[n] = 0;
}

static void analyze_and_show(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, a INT, s VARCHAR(10), "
          "KEY ka (a), KEY ks (s, a))",
      "OK 0 0 0");
    fill(&c, 0, 1000, 100);
    Q(&c, "ANALYZE TABLE t", "d.t|analyze|status|OK");
    /* Columns, then indexes: distinct, NULL rows, average key bytes. */
    Q(&c, "SELECT 1 FROM dual", "1");
    const char *h = sqlfx_q(&c, "SHOW STATS_HISTOGRAMS");
    char got[4096];
    strip_time(h, 4, got, sizeof(got));
    assert_string_equal(got, "d|t|id|0|1000|0|9\n"
                             "d|t|a|0|100|0|9\n"
                             "d|t|s|0|7|100|10\n"
                             "d|t|ka|1|100|0|0\n"
                             "d|t|ks|1|630|100|0");
    /* a: 100 values of 10 rows, 16 rows a bucket: two values each. */
    Q(&c, "SHOW STATS_BUCKETS WHERE Column_name = 'a' AND (Bucket_id < 2 "
          "OR Bucket_id > 48)",
      "d|t|a|0|0|20|10|0|1\n"
      "d|t|a|0|1|40|10|2|3\n"
      "d|t|a|0|49|1000|10|98|99");
    Q(&c, "SHOW STATS_BUCKETS WHERE Column_name = 'id' AND Bucket_id >= 62",
      "d|t|id|0|62|1000|1|992|999");
    /* Most common values: only repeated ones, most rows first. */
    Q(&c, "SHOW STATS_TOPN WHERE Column_name = 's'",
      "d|t|s|0|v0|129\nd|t|s|0|v1|129\nd|t|s|0|v3|129\n"
      "d|t|s|0|v4|129\nd|t|s|0|v2|128");
    Q(&c, "SHOW STATS_TOPN WHERE Column_name = 'id'", "");
    Q(&c, "SHOW STATS_META LIKE 'x%'", "");
    strip_time(sqlfx_q(&c, "SHOW STATS_META LIKE 't'"), 2, got, sizeof(got));
    assert_string_equal(got, "d|t|1000");
    sqlfx_close_db(&f, &c);
}

/* The access line of EXPLAIN (its last row). */
static const char *access_of(struct sqlfx_conn *c, const char *sql)
{
    const char *out = sqlfx_q(c, sql);
    const char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    while (*last == ' ')
        last++;
    if (strncmp(last, "\xe2\x94\x94\xe2\x94\x80", 6) == 0)
        last += 6;
    return last;
}

/* u(id, a: 100 values, b: 2 values), keys on b first, then a. */
static void make_u(struct sqlfx_conn *c)
{
    static char sql[65536];
    Q(c, "CREATE TABLE u (id INT PRIMARY KEY, a INT, b INT, KEY kb (b), "
         "KEY ka (a))",
      "OK 0 0 0");
    int n = snprintf(sql, sizeof(sql), "INSERT INTO u VALUES ");
    for (int i = 0; i < 1000; i++)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s(%d, %d, %d)",
                      i ? ", " : "", i, i % 100, i % 2);
    Q(c, sql, "OK 1000 0 0");
}

static void index_choice(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    make_u(&c);
    /* Without statistics the first index with an equal column wins. */
    assert_string_equal(
        access_of(&c, "EXPLAIN SELECT * FROM u WHERE b = 1 AND a = 5"),
        "IndexRangeScan_2|root|table:u, index:kb(b)|range: 1 key; "
        "filter:((b = 1) AND (a = 5))");
    Q(&c, "ANALYZE TABLE u", "d.u|analyze|status|OK");
    /* With them the selective one: a = 5 is 10 rows, b = 1 is 500. */
    assert_string_equal(
        access_of(&c, "EXPLAIN SELECT * FROM u WHERE b = 1 AND a = 5"),
        "IndexRangeScan_2|root|table:u, index:ka(a)|range: 1 key; "
        "filter:((b = 1) AND (a = 5))");
    /* A range on a (40 rows) beats an equality on b. */
    assert_string_equal(
        access_of(&c, "EXPLAIN SELECT * FROM u WHERE b = 0 AND a > 95"),
        "IndexRangeScan_2|root|table:u, index:ka(a)|range: 1 key; "
        "filter:((b = 0) AND (a > 95))");
    assert_string_equal(
        access_of(&c, "EXPLAIN SELECT * FROM u WHERE b = 0 AND a IN (1, 2)"),
        "IndexRangeScan_2|root|table:u, index:ka(a)|range: 2 keys; "
        "filter:((b = 0) AND (a IN (1, 2)))");
    /* Half the table through an index costs more than reading it all. */
    assert_string_equal(
        access_of(&c, "EXPLAIN SELECT * FROM u WHERE b = 1"),
        "TableFullScan_2|root|table:u|keep order:false; filter:(b = 1)");
    /* ... unless a hint asks for the index. */
    assert_string_equal(
        access_of(&c, "EXPLAIN SELECT * FROM u FORCE INDEX (kb) WHERE b = 1"),
        "IndexRangeScan_2|root|table:u, index:kb(b)|range: 1 key; "
        "filter:(b = 1)");
    /* Point gets still come first. */
    assert_string_equal(
        access_of(&c, "EXPLAIN SELECT * FROM u WHERE id = 3 AND a = 3"),
        "Point_Get_2|root|table:u|handle: 1 key; filter:((id = 3) AND (a = "
        "3))");
    /* The answers do not change. */
    Q(&c, "SELECT count(*), sum(id) FROM u WHERE b = 0 AND a > 95", "20|10940");
    sqlfx_close_db(&f, &c);
}

/* Rows i = 0..n-1 of table name as (i, i % m1, i % m2). */
static void fill3(struct sqlfx_conn *c, const char *name, int n, int m1,
                  int m2)
{
    static char sql[65536];
    int k = snprintf(sql, sizeof(sql), "INSERT INTO %s VALUES ", name);
    for (int i = 0; i < n; i++)
        k += snprintf(sql + k, sizeof(sql) - (size_t)k, "%s(%d, %d, %d)",
                      i ? ", " : "", i, i % m1, i % m2);
    const char *r = sqlfx_q(c, sql);
    assert_true(strncmp(r, "OK ", 3) == 0);
}

static void join_order(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    Q(&c, "CREATE TABLE big (id INT PRIMARY KEY, x INT, y INT)", "OK 0 0 0");
    Q(&c, "CREATE TABLE mid (id INT PRIMARY KEY, v INT, w INT)", "OK 0 0 0");
    Q(&c, "CREATE TABLE small (id INT PRIMARY KEY, w INT, z INT)",
      "OK 0 0 0");
    fill3(&c, "big", 2000, 100, 10);
    fill3(&c, "mid", 100, 10, 5);
    fill3(&c, "small", 10, 5, 2);
    /* Without statistics big's filter looks like half of 10000 rows,
     * small unfiltered like 10000: big comes first, small looked up by
     * its key. */
    const char *two = "EXPLAIN FORMAT='row' SELECT count(*) FROM big, small "
                      "WHERE big.y = small.id AND big.x < 99";
    Q(&c, two,
      "Projection_1|1.00|root||COUNT(*)\n"
      "└─HashAgg_2|1.00|root||funcs:COUNT(*)\n"
      "  └─IndexJoin_3|5000.00|root||inner join, cond:(big.y = small.id)\n"
      "    ├─TableFullScan_4|5000.00|root|table:big|keep order:false; "
      "filter:(big.x < 99)\n"
      "    └─Point_Get_5|1.00|root|table:small|lookup: 1 key");
    Q(&c, "ANALYZE TABLE big, mid, small",
      "d.big|analyze|status|OK\nd.mid|analyze|status|OK\n"
      "d.small|analyze|status|OK");
    /* With them: small has 10 rows, the filter keeps 99% of big. */
    Q(&c, two,
      "Projection_1|1.00|root||COUNT(*)\n"
      "└─HashAgg_2|1.00|root||funcs:COUNT(*)\n"
      "  └─HashJoin_3|1980.00|root||inner join, build:left, cond:(big.y = "
      "small.id)\n"
      "    ├─TableFullScan_4|10.00|root|table:small|keep order:false\n"
      "    └─TableFullScan_5|1980.00|root|table:big|keep order:false; "
      "filter:(big.x < 99)");
    /* Three tables: the filtered one first (20 rows of mid), big by the
     * hash join (400 rows), small looked up by its key last. */
    Q(&c, "EXPLAIN FORMAT='row' SELECT count(*) FROM small, big, mid WHERE "
          "big.x = mid.id AND big.y = small.id AND mid.w = 1",
      "Projection_1|1.00|root||COUNT(*)\n"
      "└─HashAgg_2|1.00|root||funcs:COUNT(*)\n"
      "  └─IndexJoin_3|400.00|root||inner join, cond:(big.y = small.id)\n"
      "    ├─HashJoin_4|400.00|root||inner join, build:left, cond:(big.x = "
      "mid.id)\n"
      "    │ ├─TableFullScan_5|20.00|root|table:mid|keep order:false; "
      "filter:(mid.w = 1)\n"
      "    │ └─TableFullScan_6|2000.00|root|table:big|keep order:false\n"
      "    └─Point_Get_7|1.00|root|table:small|lookup: 1 key");
    Q(&c, "SELECT count(*) FROM big, mid, small WHERE big.x = mid.id AND "
          "big.y = small.id AND mid.w = 1",
      "400");
    /* Where greedy and dynamic programming part: greedy starts from the
     * smallest (a, 10 rows), whose only neighbour c gives 5000 rows on
     * x's two values; the whole search starts from b, whose join with c
     * keeps 100, and brings a in last. */
    Q(&c, "CREATE TABLE a (id INT PRIMARY KEY, x INT, z INT)", "OK 0 0 0");
    Q(&c, "CREATE TABLE b (id INT PRIMARY KEY, y INT, z INT)", "OK 0 0 0");
    Q(&c, "CREATE TABLE c (id INT PRIMARY KEY, x INT, y INT)", "OK 0 0 0");
    fill3(&c, "a", 10, 2, 1);
    fill3(&c, "b", 100, 1000, 1);
    fill3(&c, "c", 1000, 2, 1000);
    Q(&c, "ANALYZE TABLE a, b, c",
      "d.a|analyze|status|OK\nd.b|analyze|status|OK\n"
      "d.c|analyze|status|OK");
    Q(&c, "EXPLAIN FORMAT='row' SELECT count(*) FROM a, b, c WHERE a.x = "
          "c.x AND b.y = c.y",
      "Projection_1|1.00|root||COUNT(*)\n"
      "└─HashAgg_2|1.00|root||funcs:COUNT(*)\n"
      "  └─HashJoin_3|500.00|root||inner join, build:right, cond:(a.x = "
      "c.x)\n"
      "    ├─HashJoin_4|100.00|root||inner join, build:left, cond:(b.y = "
      "c.y)\n"
      "    │ ├─TableFullScan_5|100.00|root|table:b|keep order:false\n"
      "    │ └─TableFullScan_6|1000.00|root|table:c|keep order:false\n"
      "    └─TableFullScan_7|10.00|root|table:a|keep order:false");
    Q(&c, "SELECT count(*) FROM a, b, c WHERE a.x = c.x AND b.y = c.y",
      "500");
    Q(&c, "SELECT count(*) FROM big, small WHERE big.y = small.id AND "
          "big.x < 99",
      "1980");
    sqlfx_close_db(&f, &c);
}

/* Kept across a restart; DROP, TRUNCATE and ALTER drop them. */
static void lifetime(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    char got[4096];
    sqlfx_open(&f, true);
    sqlfx_connect(&f, &c, 1);
    Q(&c, "CREATE DATABASE d", "OK 1 0 0");
    Q(&c, "USE d", "OK 0 0 0");
    make_u(&c);
    Q(&c, "CREATE TABLE v (x INT)", "OK 0 0 0");
    Q(&c, "INSERT INTO v VALUES (1), (2), (NULL)", "OK 3 0 0");
    Q(&c, "CREATE TABLE w (x INT)", "OK 0 0 0");
    /* Long values (SHOW keeps their first 256 bytes) and NUL bytes. */
    Q(&c, "CREATE TABLE z (s VARCHAR(1000), b VARBINARY(10))", "OK 0 0 0");
    Q(&c, "INSERT INTO z VALUES (REPEAT('y', 600), X'00'), "
          "(REPEAT('y', 601), X'0001'), ('a', NULL)",
      "OK 3 0 0");
    Q(&c, "ANALYZE TABLE u, v, w, z",
      "d.u|analyze|status|OK\nd.v|analyze|status|OK\n"
      "d.w|analyze|status|OK\nd.z|analyze|status|OK");
    sqlfx_disconnect(&c);
    sqlfx_reopen(&f);
    sqlfx_connect(&f, &c, 2);
    strip_time(sqlfx_q(&c, "SHOW STATS_META"), 2, got, sizeof(got));
    assert_string_equal(got, "d|u|1000\nd|v|3\nd|w|0\nd|z|3");
    /* The long values' bounds show 256 of their bytes. */
    const char *bk = sqlfx_q(&c, "SHOW STATS_BUCKETS WHERE Column_name = "
                                 "'s' AND Bucket_id = 2");
    char ys[258];
    memset(ys, 'y', 257);
    ys[257] = 0;
    assert_null(strstr(bk, ys));
    ys[256] = 0;
    assert_non_null(strstr(bk, ys));
    strip_time(sqlfx_q(&c, "SHOW STATS_HISTOGRAMS LIKE 'v'"), 4, got,
               sizeof(got));
    assert_string_equal(got, "d|v|x|0|2|1|9");
    assert_string_equal(
        access_of(&c, "EXPLAIN SELECT * FROM d.u WHERE b = 1 AND a = 5"),
        "IndexRangeScan_2|root|table:u, index:ka(a)|range: 1 key; "
        "filter:((b = 1) AND (a = 5))");
    strip_time(sqlfx_q(&c, "SHOW STATS_HISTOGRAMS LIKE 'z'"), 4, got,
               sizeof(got));
    assert_string_equal(got, "d|z|s|0|3|0|910\nd|z|b|0|2|1|10");
    Q(&c, "TRUNCATE TABLE d.z", "OK 0 0 0");
    Q(&c, "TRUNCATE TABLE d.v", "OK 0 0 0");
    Q(&c, "DROP TABLE d.w", "OK 0 0 0");
    Q(&c, "ALTER TABLE d.u ADD COLUMN z INT", "OK 0 0 0");
    Q(&c, "SHOW STATS_META", "");
    sqlfx_disconnect(&c);
    sqlfx_reopen(&f);
    sqlfx_connect(&f, &c, 3);
    Q(&c, "SHOW STATS_META", "");
    Q(&c, "ANALYZE TABLE d.nope", "ERR 1146 Table 'd.nope' doesn't exist");
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

/* Two servers on one store as on the cluster (the schema lease kept
 * short): ANALYZE on one reaches the other's planner; TRUNCATE on the
 * other drops it for both. */
static void two_servers(void **state)
{
    (void)state;
    struct sqlfx_two w;
    char got[4096];
    sqlfx_two_open(&w, 50);
    make_u(&w.ca);
    assert_string_equal(
        access_of(&w.cb, "EXPLAIN SELECT * FROM u WHERE b = 1 AND a = 5"),
        "IndexRangeScan_2|root|table:u, index:kb(b)|range: 1 key; "
        "filter:((b = 1) AND (a = 5))");
    Q(&w.ca, "ANALYZE TABLE u", "d.u|analyze|status|OK");
    strip_time(sqlfx_q(&w.cb, "SHOW STATS_META"), 2, got, sizeof(got));
    assert_string_equal(got, "d|u|1000");
    assert_string_equal(
        access_of(&w.cb, "EXPLAIN SELECT * FROM u WHERE b = 1 AND a = 5"),
        "IndexRangeScan_2|root|table:u, index:ka(a)|range: 1 key; "
        "filter:((b = 1) AND (a = 5))");
    Q(&w.cb, "TRUNCATE TABLE u", "OK 0 0 0");
    Q(&w.ca, "SHOW STATS_META", "");
    Q(&w.cb, "SHOW STATS_META", "");
    sqlfx_two_close(&w);
}

/* The record: what encodes decodes to the same bytes; every shorter
 * prefix, a longer record, a bad version and buckets out of order are
 * SQL_EPROTO. */
static void record(void **state)
{
    (void)state;
    struct sql_bucket b[2] = {
        {{(const uint8_t *)"\x01", 1, "1"}, {(const uint8_t *)"\x03", 1, "3"},
         5, 2},
        {{(const uint8_t *)"\x04", 1, "4"}, {(const uint8_t *)"\x09", 1, "9"},
         9, 1}};
    struct sql_topn top = {{(const uint8_t *)"\x03", 1, "3"}, 2};
    struct sql_colstats col = {.col_id = 7, .ndv = 6, .nulls = 1,
                               .avg_size = 1, .b = b, .nb = 2, .top = &top,
                               .ntop = 1};
    struct sql_idxstats ix = {.idx_id = 3, .ndv = 6, .nulls = 1};
    struct sql_tstats st = {.table_id = 42, .rows = 10, .sampled = 10,
                            .time_ms = 5, .cols = &col, .ncols = 1,
                            .idx = &ix, .nidx = 1};
    struct sql__buf enc = {0}, again = {0};
    assert_int_equal(sql__stats_encode(&st, &enc), 0);
    struct sql_tstats *got;
    assert_int_equal(sql__stats_decode(enc.p, enc.len, &got), 0);
    assert_int_equal(sql__stats_encode(got, &again), 0);
    assert_int_equal(again.len, enc.len);
    assert_memory_equal(again.p, enc.p, enc.len);
    /* Estimates: 3 is a common value (2 of 10 rows), 9 a bucket's upper
     * bound (1), 5 one of the others (7 rows over 5 values), 0 outside;
     * NULL 1 of 10; up to 3 inclusive 5 of 10. */
    const struct sql_colstats *c = sql__stats_col(got, 7);
    assert_non_null(c);
    assert_null(sql__stats_col(got, 8));
    assert_true(sql__stats_sel_eq(got, c, (const uint8_t *)"\x03", 1) == 0.2);
    assert_true(sql__stats_sel_eq(got, c, (const uint8_t *)"\x09", 1) == 0.1);
    assert_true(sql__stats_sel_eq(got, c, (const uint8_t *)"\x05", 1) ==
                7.0 / 5 / 10);
    assert_true(sql__stats_sel_eq(got, c, (const uint8_t *)"\x00", 1) == 0.05);
    assert_true(sql__stats_sel_null(got, c) == 0.1);
    assert_true(sql__stats_sel_range(got, c, NULL, 0, false,
                                     (const uint8_t *)"\x03", 1, true) == 0.5);
    assert_true(sql__stats_sel_range(got, c, (const uint8_t *)"\x04", 1, true,
                                     NULL, 0, false) == 0.4);
    assert_int_equal(sql__stats_idx(got, 3)->ndv, 6);
    sql__stats_free(got);
    for (size_t n = 0; n < enc.len; n++)
        assert_int_equal(sql__stats_decode(enc.p, n, &got), SQL_EPROTO);
    uint8_t *bad = malloc(enc.len + 1);
    assert_non_null(bad);
    memcpy(bad, enc.p, enc.len);
    bad[enc.len] = 0;
    assert_int_equal(sql__stats_decode(bad, enc.len + 1, &got), SQL_EPROTO);
    bad[0] = 2;
    assert_int_equal(sql__stats_decode(bad, enc.len, &got), SQL_EPROTO);
    /* A text holding a NUL byte (the first bucket's lower text "1"). */
    memcpy(bad, enc.p, enc.len);
    uint8_t *one = memchr(bad + 45, '1', enc.len - 45);
    assert_non_null(one);
    *one = 0;
    assert_int_equal(sql__stats_decode(bad, enc.len, &got), SQL_EPROTO);
    free(bad);
    b[1].lo.key = (const uint8_t *)"\x02"; /* overlaps the first bucket */
    sql__buf_free(&enc);
    enc = (struct sql__buf){0};
    assert_int_equal(sql__stats_encode(&st, &enc), 0);
    assert_int_equal(sql__stats_decode(enc.p, enc.len, &got), SQL_EPROTO);
    sql__buf_free(&enc);
    sql__buf_free(&again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(analyze_and_show),
        cmocka_unit_test(index_choice),
        cmocka_unit_test(lifetime),
        cmocka_unit_test(join_order),
        cmocka_unit_test(two_servers),
        cmocka_unit_test(record),
    };
    return cmocka_run_group_tests_name("libsql/stats", tests, NULL, NULL);
}

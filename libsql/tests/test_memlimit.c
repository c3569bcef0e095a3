/* test_memlimit.c: per-query memory limits (DESIGN.md "Memory limits"):
 * operators that hold rows charge the query's tracker; past
 * @@tidb_mem_quota_query the statement fails with 8175, the session and
 * its transaction stay as after any failed statement, and EXPLAIN ANALYZE
 * shows each operator's peak.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)
#define E8175                                                             \
    "ERR 8175 Your query has been cancelled due to exceeding the allowed " \
    "memory limit for a single SQL query. Please try narrowing your "     \
    "query scope or increase the tidb_mem_quota_query limit and try "     \
    "again.[conn=1]"

static struct sqlfx f;
static struct sqlfx_conn c;

static int setup(void **state)
{
    (void)state;
    static char sql[1 << 17];
    sqlfx_open_db(&f, &c);
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, a INT, s VARCHAR(64))",
      "OK 0 0 0");
    int n = snprintf(sql, sizeof(sql), "INSERT INTO t VALUES ");
    for (int i = 0; i < 2000; i++)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n,
                      "%s(%d, %d, 'row-%d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')",
                      i ? ", " : "", i, (i * 7919) % 2000, i);
    Q(&c, sql, "OK 2000 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

static void test_default_and_scope(void **state)
{
    (void)state;
    Q(&c, "SELECT @@tidb_mem_quota_query, @@global.tidb_mem_quota_query",
      "1073741824|1073741824");
    Q(&c, "SET tidb_mem_quota_query = 262144", "OK 0 0 0");
    Q(&c, "SELECT @@session.tidb_mem_quota_query", "262144");
    Q(&c, "SET tidb_mem_quota_query = DEFAULT", "OK 0 0 0");
    Q(&c, "SELECT @@tidb_mem_quota_query", "1073741824");
}

/* Each row-holding operator, past a 256 KiB limit: the exact error; with
 * no limit (0) the same query runs. */
static void test_operators_fail(void **state)
{
    (void)state;
    static const char *const qs[] = {
        "SELECT * FROM t ORDER BY s DESC",                    /* sort */
        "SELECT * FROM t ORDER BY s LIMIT 1990, 1",           /* top-N */
        "SELECT s, COUNT(*) FROM t GROUP BY s ORDER BY NULL LIMIT 1",
        "SELECT DISTINCT s FROM t LIMIT 1 OFFSET 1999",       /* distinct */
        "SELECT COUNT(*) FROM t x JOIN t y ON x.s = y.s",     /* hash join */
        "SELECT ROW_NUMBER() OVER (ORDER BY s) FROM t LIMIT 1", /* window */
        "SELECT LENGTH(GROUP_CONCAT(s)) FROM t",              /* concat */
        "WITH w AS (SELECT * FROM t) SELECT COUNT(*) FROM w x, w y "
        "WHERE x.id = y.id",                                  /* CTE */
    };
    static const char *const ok[] = {
        "999|1081|row-999-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        NULL, NULL, NULL, "2000", "1", NULL, "2000",
    };
    Q(&c, "SET group_concat_max_len = 1000000", "OK 0 0 0");
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        Q(&c, "SET tidb_mem_quota_query = 262144", "OK 0 0 0");
        const char *got = sqlfx_q(&c, qs[i]);
        if (strcmp(got, E8175) != 0)
            fail_msg("query %zu: %s", i, got);
        Q(&c, "SET tidb_mem_quota_query = 0", "OK 0 0 0");
        got = sqlfx_q(&c, qs[i]);
        if (strncmp(got, "ERR", 3) == 0)
            fail_msg("query %zu unlimited: %s", i, got);
        if (ok[i] && strncmp(got, ok[i], strlen(ok[i])) != 0)
            fail_msg("query %zu unlimited: %s", i, got);
    }
    Q(&c, "SET tidb_mem_quota_query = DEFAULT", "OK 0 0 0");
    Q(&c, "SET group_concat_max_len = DEFAULT", "OK 0 0 0");
}

/* A failed statement inside a transaction leaves its earlier writes and
 * the transaction open; the session keeps working. */
static void test_txn_after_failure(void **state)
{
    (void)state;
    Q(&c, "CREATE TABLE k (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    Q(&c, "BEGIN", "OK 0 0 0");
    Q(&c, "INSERT INTO k VALUES (1, 10)", "OK 1 0 0");
    Q(&c, "SET tidb_mem_quota_query = 262144", "OK 0 0 0");
    Q(&c, "INSERT INTO k SELECT id + 10, a FROM t ORDER BY s", E8175);
    Q(&c, "SELECT * FROM k", "1|10");
    Q(&c, "SELECT id FROM t ORDER BY id LIMIT 2", "0\n1");
    Q(&c, "COMMIT", "OK 0 0 0");
    Q(&c, "SET tidb_mem_quota_query = DEFAULT", "OK 0 0 0");
    Q(&c, "SELECT * FROM k", "1|10");
    Q(&c, "INSERT INTO k SELECT id + 10, a FROM t ORDER BY s LIMIT 3",
      "OK 3 0 0");
    Q(&c, "SELECT COUNT(*) FROM k", "4");
    Q(&c, "DROP TABLE k", "OK 0 0 0");
}

/* A query that keeps no rows runs under a tiny limit: only held rows
 * count, not rows streamed through. */
static void test_streaming_fits(void **state)
{
    (void)state;
    Q(&c, "SET tidb_mem_quota_query = 262144", "OK 0 0 0");
    Q(&c, "SELECT COUNT(*), SUM(a) FROM t WHERE s LIKE 'row-1%'",
      "1111|1103724");
    Q(&c, "SELECT id FROM t WHERE id > 1997", "1998\n1999");
    Q(&c, "SET tidb_mem_quota_query = DEFAULT", "OK 0 0 0");
}

/* EXPLAIN ANALYZE: the sort's peak covers its rows (2000 rows of about
 * 40 bytes each: more than 80,000), the scan's does not. */
static void test_explain_analyze_peak(void **state)
{
    (void)state;
    const char *out = sqlfx_q(&c, "EXPLAIN ANALYZE SELECT * FROM t ORDER BY s");
    const char *sort = strstr(out, "Sort_");
    if (!sort)
        fail_msg("%s", out);
    const char *line_end = strchr(sort, '\n');
    assert_non_null(line_end);
    const char *bar = line_end;
    while (bar > sort && bar[-1] != '|')
        bar--;
    unsigned long long bytes = 0;
    assert_int_equal(sscanf(bar, "%llu Bytes", &bytes), 1);
    assert_true(bytes > 80000);
    /* Its limit refuses the same query. */
    char set[64];
    snprintf(set, sizeof(set), "SET tidb_mem_quota_query = %llu", bytes / 2);
    Q(&c, set, "OK 0 0 0");
    Q(&c, "EXPLAIN ANALYZE SELECT * FROM t ORDER BY s", E8175);
    Q(&c, "SET tidb_mem_quota_query = DEFAULT", "OK 0 0 0");
}

/* Every limit from small to past what the statement needs, in steps:
 * each answer is exactly the unlimited one or exactly 8175 (and both
 * occur below `to`), and the
 * session answers the next statement (a fault sweep over the tracker:
 * each step refuses a different block). */
static void sweep(const char *sql, const char *after, const char *undo,
                  size_t to)
{
    static char want[65536];
    Q(&c, "SET tidb_mem_quota_query = 0", "OK 0 0 0");
    snprintf(want, sizeof(want), "%s", sqlfx_q(&c, sql));
    if (undo)
        sqlfx_q(&c, undo);
    size_t failed = 0, ok = 0;
    for (size_t lim = 4096; lim <= to; lim += lim / 8 + 4093) {
        char set[64];
        snprintf(set, sizeof(set), "SET tidb_mem_quota_query = %zu", lim);
        Q(&c, set, "OK 0 0 0");
        const char *got = sqlfx_q(&c, sql);
        if (strcmp(got, E8175) == 0)
            failed++;
        else if (strcmp(got, want) == 0)
            ok++;
        else
            fail_msg("limit %zu: %s", lim, got);
        if (undo)
            sqlfx_q(&c, undo);
        Q(&c, "SET tidb_mem_quota_query = 0", "OK 0 0 0");
        Q(&c, after, "2000");
    }
    assert_true(failed > 0);
    assert_true(ok > 0);
}

static void test_sweep(void **state)
{
    (void)state;
    Q(&c, "CREATE TABLE k (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    sweep("INSERT INTO k SELECT id + 10, a FROM t ORDER BY s", 
          "SELECT COUNT(*) FROM t", "DELETE FROM k", 8u << 20);
    sweep("SELECT COUNT(*) FROM (SELECT s, COUNT(*) FROM t GROUP BY s) d",
          "SELECT COUNT(*) FROM t", NULL, 8u << 20);
    sweep("SELECT MAX(r) FROM (SELECT ROW_NUMBER() OVER (PARTITION BY a % 7 "
          "ORDER BY s) r FROM t) w",
          "SELECT COUNT(*) FROM t", NULL, 8u << 20);
    sweep("WITH w AS (SELECT DISTINCT s FROM t) SELECT COUNT(*), "
          "LENGTH(GROUP_CONCAT(x.s ORDER BY x.s)) FROM w x JOIN t y "
          "ON x.s = y.s",
          "SELECT COUNT(*) FROM t", NULL, 8u << 20);
    sweep("SELECT COUNT(*) FROM t, JSON_TABLE(CONCAT('[', t.a, ',', t.id, "
          "']'), '$[*]' COLUMNS (v INT PATH '$')) j WHERE j.v > 10",
          "SELECT COUNT(*) FROM t", NULL, 8u << 20);
    Q(&c, "DROP TABLE k", "OK 0 0 0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_and_scope),
        cmocka_unit_test(test_operators_fail),
        cmocka_unit_test(test_txn_after_failure),
        cmocka_unit_test(test_streaming_fits),
        cmocka_unit_test(test_explain_analyze_peak),
        cmocka_unit_test(test_sweep),
    };
    return cmocka_run_group_tests_name("libsql/memlimit", tests, setup,
                                       teardown);
}

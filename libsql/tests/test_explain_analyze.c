/* test_explain_analyze.c: EXPLAIN FORMAT='row' (estRows per operator, from
 * statistics when the tables have them) and EXPLAIN ANALYZE (the query
 * runs; actual rows per operator exactly, calls, time and memory shown).
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

static struct sqlfx f;
static struct sqlfx_conn c;

static int setup(void **state)
{
    (void)state;
    static char sql[65536];
    sqlfx_open_db(&f, &c);
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, a INT, s VARCHAR(10), "
          "KEY ka (a))",
      "OK 0 0 0");
    int n = snprintf(sql, sizeof(sql), "INSERT INTO t VALUES ");
    for (int i = 0; i < 1000; i++)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s(%d, %d, %s)",
                      i ? ", " : "", i, i % 100,
                      i % 10 == 9 ? "NULL" : i % 2 ? "'apple'" : "'banana'");
    Q(&c, sql, "OK 1000 0 0");
    Q(&c, "CREATE TABLE u (id INT PRIMARY KEY, tid INT)", "OK 0 0 0");
    n = snprintf(sql, sizeof(sql), "INSERT INTO u VALUES ");
    for (int i = 0; i < 50; i++)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, "%s(%d, %d)",
                      i ? ", " : "", i, i * 7);
    Q(&c, sql, "OK 50 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

/* EXPLAIN ANALYZE's rows with the measured time and memory cut: id,
 * estRows, actRows, loops, operator info; and a check that each time
 * reads "time:<n>.<nnn>ms" and each memory "<n> Bytes". */
static const char *figures(const char *sql)
{
    static char out[8192];
    const char *in = sqlfx_q(&c, sql);
    size_t n = 0;
    while (*in) {
        const char *cell[8];
        size_t len[8];
        int k = 0;
        const char *p = in;
        while (k < 8) {
            const char *e = p;
            while (*e && *e != '|' && *e != '\n')
                e++;
            cell[k] = p;
            len[k++] = (size_t)(e - p);
            p = *e == '|' ? e + 1 : e;
            if (*e != '|')
                break;
        }
        if (k != 8)
            return in; /* not EXPLAIN ANALYZE's shape: shown whole */
        unsigned us = 0, ms = 0, loops = 0;
        unsigned long long bytes = 0;
        if (sscanf(cell[5], "time:%u.%3ums, loops:%u", &ms, &us, &loops) !=
                3 ||
            sscanf(cell[7], "%llu Bytes", &bytes) != 1)
            return in;
        n += (size_t)snprintf(out + n, sizeof(out) - n,
                              "%s%.*s|%.*s|%.*s|%u|%.*s", n ? "\n" : "",
                              (int)len[0], cell[0], (int)len[1], cell[1],
                              (int)len[2], cell[2], loops, (int)len[6],
                              cell[6]);
        in = *p == '\n' ? p + 1 : p;
    }
    return out;
}

static void estimates(void **state)
{
    (void)state;
    /* Without statistics: the constants (10000 rows, /10 per equal index
     * column, x0.5 per conjunct). */
    Q(&c, "EXPLAIN FORMAT='row' SELECT * FROM t WHERE a = 5",
      "Projection_1|500.00|root||id, a, s\n"
      "└─IndexRangeScan_2|500.00|root|table:t, index:ka(a)|range: 1 key; "
      "filter:(a = 5)");
    Q(&c, "ANALYZE TABLE t, u",
      "d.t|analyze|status|OK\nd.u|analyze|status|OK");
    /* With them: =, IN, ranges, IS NULL, LIKE 'prefix%', <>. */
    Q(&c, "EXPLAIN FORMAT='row' SELECT * FROM t WHERE a = 5",
      "Projection_1|10.00|root||id, a, s\n"
      "└─IndexRangeScan_2|10.00|root|table:t, index:ka(a)|range: 1 key; "
      "filter:(a = 5)");
    Q(&c, "EXPLAIN FORMAT='brief' SELECT * FROM t WHERE a IN (1, 2, 3) AND "
          "id < 500",
      "Projection_1|15.00|root||id, a, s\n"
      "└─IndexRangeScan_2|15.00|root|table:t, index:ka(a)|range: 3 keys; "
      "filter:((a IN (1, 2, 3)) AND (id < 500))");
    Q(&c, "EXPLAIN FORMAT='row' SELECT id FROM t WHERE s IS NULL",
      "Projection_1|100.00|root||id\n"
      "└─TableFullScan_2|100.00|root|table:t|keep order:false; filter:(s "
      "IS NULL)");
    Q(&c, "EXPLAIN FORMAT='row' SELECT id FROM t WHERE s = 'apple'",
      "Projection_1|400.00|root||id\n"
      "└─TableFullScan_2|400.00|root|table:t|keep order:false; filter:(s "
      "= 'apple')");
    Q(&c, "EXPLAIN FORMAT='row' SELECT id FROM t WHERE s <> 'apple'",
      "Projection_1|500.00|root||id\n"
      "└─TableFullScan_2|500.00|root|table:t|keep order:false; filter:(s "
      "<> 'apple')");
    Q(&c, "EXPLAIN FORMAT='row' SELECT id FROM t WHERE id BETWEEN 100 AND "
          "199",
      "Projection_1|99.00|root||id\n" /* 100: interpolated in buckets */
      "└─TableRangeScan_2|99.00|root|table:t|range: 1 key; filter:(id "
      "BETWEEN 100 AND 199)");
    Q(&c, "EXPLAIN FORMAT='row' SELECT id FROM t WHERE a >= 90",
      "Projection_1|100.00|root||id\n"
      "└─IndexRangeScan_2|100.00|root|table:t, index:ka(a)|range: 1 key; "
      "filter:(a >= 90)");
    /* A value past the histogram: under a row, shown as 1. */
    Q(&c, "EXPLAIN FORMAT='row' SELECT id FROM t WHERE a = 1000",
      "Projection_1|1.00|root||id\n"
      "└─IndexRangeScan_2|1.00|root|table:t, index:ka(a)|range: 1 key; "
      "filter:(a = 1000)");
    /* LIKE 'prefix%': the strings in [prefix, prefix + the last code
     * point), from the histogram. */
    const char *like = sqlfx_q(&c, "EXPLAIN FORMAT='row' SELECT id FROM t "
                                   "WHERE s LIKE 'ba%'");
    double e = 0;
    const char *l = strstr(like, "TableFullScan_2|");
    assert_non_null(l);
    assert_int_equal(sscanf(l, "TableFullScan_2|%lf|", &e), 1);
    assert_true(e >= 400 && e <= 600); /* 500 banana rows */
    /* Groups: the product of the plain keys' distinct counts, at most
     * the rows in; 1 without GROUP BY. */
    Q(&c, "EXPLAIN FORMAT='row' SELECT a, s, count(*) FROM t WHERE id < 500 "
          "GROUP BY a, s",
      "Projection_1|200.00|root||a, s, COUNT(*)\n"
      "└─HashAgg_2|200.00|root||group by:a, s; funcs:COUNT(*)\n"
      "  └─TableRangeScan_3|500.00|root|table:t|range: 1 key; filter:(id < "
      "500)");
    Q(&c, "EXPLAIN FORMAT='row' SELECT u.tid, count(*) FROM t, u WHERE "
          "t.id = u.tid GROUP BY u.tid",
      "Projection_1|50.00|root||u.tid, COUNT(*)\n"
      "└─HashAgg_2|50.00|root||group by:u.tid; funcs:COUNT(*)\n"
      "  └─IndexJoin_3|50.00|root||inner join, cond:(t.id = u.tid)\n"
      "    ├─TableFullScan_4|50.00|root|table:u|keep order:false\n"
      "    └─Point_Get_5|1.00|root|table:t|lookup: 1 key");
    Q(&c, "EXPLAIN FORMAT=json SELECT 1",
      "ERR 1235 This version of sqld doesn't yet support 'EXPLAIN "
      "FORMAT=json'");
    Q(&c, "EXPLAIN FORMAT=traditional SELECT 1",
      "Projection_1|root||1\n└─TableDual_2|root||");
}

static void analyze(void **state)
{
    (void)state;
    /* Each operator's actual rows and calls (the last call says "no
     * more"); an index join's inner side runs once per outer row. */
    assert_string_equal(
        figures("EXPLAIN ANALYZE SELECT count(*) FROM t, u WHERE t.id = "
                "u.tid AND t.a < 50"),
        "Projection_1|1.00|1|2|COUNT(*)\n"
        "└─HashAgg_2|1.00|1|2|funcs:COUNT(*)\n"
        "  └─IndexJoin_3|50.00|29|2|inner join, cond:(t.id = u.tid)\n"
        "    ├─TableFullScan_4|50.00|50|2|keep order:false\n"
        "    └─Point_Get_5|1.00|29|79|lookup: 1 key; filter:(t.a < 50)");
    assert_string_equal(
        figures("EXPLAIN ANALYZE SELECT id FROM t WHERE a = 7 ORDER BY id "
                "DESC LIMIT 3"),
        "TopN_1|3.00|3|2|id:desc, count\n"
        "└─Projection_2|10.00|10|2|id\n"
        "  └─IndexRangeScan_3|10.00|10|2|range: 1 key; filter:(a = 7)");
    /* The query really ran: its errors are the answer. */
    Q(&c, "EXPLAIN ANALYZE SELECT 1 FROM t WHERE (SELECT a FROM t) = 1",
      "ERR 1242 Subquery returns more than 1 row");
    Q(&c, "EXPLAIN ANALYZE DELETE FROM t",
      "ERR 1064 You have an error in your SQL syntax; check the manual that "
      "corresponds to your MySQL server version for the right syntax to use "
      "near 'DELETE FROM t' at line 1");
    Q(&c, "SELECT count(*) FROM t", "1000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(estimates),
        cmocka_unit_test(analyze),
    };
    return cmocka_run_group_tests_name("libsql/explain_analyze", tests, setup,
                                       teardown);
}

/* test_setop.c: set operations end to end on the in-memory store: UNION,
 * INTERSECT and EXCEPT with ALL and DISTINCT, their precedence, ORDER BY
 * and LIMIT on the whole and inside parenthesized blocks, result types,
 * errors, set operations as subqueries, derived tables and INSERT ...
 * SELECT sources, correlated, and EXPLAIN; the parser's tree and
 * canonical print of the new syntax (set operations, views).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"
#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)

static struct sqlfx f;
static struct sqlfx_conn c;

static int setup(void **state)
{
    (void)state;
    sqlfx_open_db(&f, &c);
    Q(&c, "CREATE TABLE a (id INT PRIMARY KEY, x INT, s VARCHAR(10))",
      "OK 0 0 0");
    Q(&c, "CREATE TABLE b (id INT PRIMARY KEY, y INT, d DECIMAL(6,2))",
      "OK 0 0 0");
    Q(&c,
      "INSERT INTO a VALUES (1, 1, 'p'), (2, 2, 'q'), (3, 2, 'Q'), "
      "(4, NULL, 'r'), (5, 3, NULL)",
      "OK 5 0 0");
    Q(&c,
      "INSERT INTO b VALUES (1, 2, 1.50), (2, 2, 2.00), (3, 4, NULL), "
      "(4, NULL, 3.25)",
      "OK 4 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

static void unions(void **state)
{
    (void)state;
    Q(&c, "SELECT 1 UNION SELECT 2", "1\n2");
    Q(&c, "SELECT 1 UNION SELECT 1", "1");
    Q(&c, "SELECT 1 UNION ALL SELECT 1", "1\n1");
    Q(&c, "SELECT 1 UNION DISTINCT SELECT 1 UNION ALL SELECT 1", "1\n1");
    /* A DISTINCT union dedups everything on its left. */
    Q(&c, "SELECT 1 UNION ALL SELECT 1 UNION SELECT 1", "1");
    Q(&c, "SELECT x FROM a UNION SELECT y FROM b ORDER BY x",
      "NULL\n1\n2\n3\n4");
    Q(&c, "SELECT x FROM a UNION ALL SELECT y FROM b ORDER BY 1 DESC",
      "4\n3\n2\n2\n2\n2\n1\nNULL\nNULL");
    /* Strings dedup under the column's collation: 'q' and 'Q' are one. */
    Q(&c, "SELECT s FROM a WHERE id IN (2, 3) UNION SELECT 'q'", "q");
    Q(&c, "SELECT x FROM a UNION SELECT y FROM b ORDER BY x LIMIT 2",
      "NULL\n1");
    Q(&c, "SELECT x FROM a UNION SELECT y FROM b ORDER BY x LIMIT 1, 2",
      "1\n2");
    Q(&c, "SELECT x FROM a UNION SELECT y FROM b ORDER BY x + 0 DESC LIMIT 2",
      "4\n3");
    Q(&c, "SELECT x FROM a UNION ALL SELECT y FROM b LIMIT 3", "1\n2\n2");
    /* Parenthesized blocks keep their own ORDER BY / LIMIT. */
    Q(&c,
      "(SELECT x FROM a ORDER BY x DESC LIMIT 1) UNION ALL "
      "(SELECT y FROM b ORDER BY y LIMIT 1) ORDER BY 1",
      "NULL\n3");
    Q(&c, "(SELECT 1 UNION SELECT 2) UNION ALL (SELECT 2 UNION SELECT 3) "
          "ORDER BY 1",
      "1\n2\n2\n3");
    Q(&c, "(SELECT 3 AS n UNION SELECT 1) ORDER BY n", "1\n3");
}

static void intersect_except(void **state)
{
    (void)state;
    Q(&c, "SELECT x FROM a INTERSECT SELECT y FROM b ORDER BY 1", "NULL\n2");
    Q(&c, "SELECT x FROM a INTERSECT ALL SELECT y FROM b ORDER BY 1",
      "NULL\n2\n2");
    Q(&c, "SELECT x FROM a EXCEPT SELECT y FROM b ORDER BY 1", "1\n3");
    Q(&c, "SELECT y FROM b EXCEPT ALL SELECT x FROM a ORDER BY 1", "4");
    Q(&c, "SELECT 2 UNION ALL SELECT 2 UNION ALL SELECT 2 EXCEPT ALL "
          "SELECT 2",
      "2\n2");
    Q(&c, "SELECT 2 UNION ALL SELECT 2 EXCEPT SELECT 3", "2");
    /* INTERSECT binds tighter than UNION and EXCEPT. */
    Q(&c, "SELECT 1 UNION SELECT 2 INTERSECT SELECT 3", "1");
    Q(&c, "(SELECT 1 UNION SELECT 2) INTERSECT SELECT 2", "2");
    Q(&c, "SELECT 1 EXCEPT SELECT 1 INTERSECT SELECT 2", "1");
    Q(&c, "SELECT 1 INTERSECT SELECT 2 UNION SELECT 3", "3");
    Q(&c, "SELECT 'a' INTERSECT SELECT 'A'", "a");
    Q(&c, "SELECT 1, 2 EXCEPT SELECT 1, 3", "1|2");
}

static void types(void **state)
{
    (void)state;
    c.headers = true;
    Q(&c, "SELECT 1 AS one UNION SELECT 2.5 AS two", "one\n1.0\n2.5");
    Q(&c, "SELECT x FROM a WHERE id = 1 UNION SELECT d FROM b WHERE id = 1",
      "x\n1.00\n1.50");
    Q(&c, "SELECT 1 AS n UNION SELECT 'abc'", "n\n1\nabc");
    Q(&c, "SELECT NULL AS n UNION SELECT 7", "n\nNULL\n7");
    Q(&c, "SELECT 1e0 AS n UNION SELECT 2", "n\n1\n2");
    c.headers = false;
    Q(&c, "SELECT 1 UNION SELECT 1, 2",
      "ERR 1222 The used SELECT statements have a different number of "
      "columns");
    Q(&c, "SELECT 1 INTERSECT SELECT 1, 2",
      "ERR 1222 The used SELECT statements have a different number of "
      "columns");
    Q(&c, "SELECT x FROM a UNION SELECT y FROM b ORDER BY y",
      "ERR 1054 Unknown column 'y' in 'order clause'");
    Q(&c, "SELECT x FROM a UNION SELECT y FROM b ORDER BY a.x",
      "ERR 1250 Table 'a' from one of the SELECTs cannot be used in global "
      "ORDER clause");
    Q(&c, "SELECT 1 UNION SELECT 2 ORDER BY 3",
      "ERR 1054 Unknown column '3' in 'order clause'");
}

static void as_subqueries(void **state)
{
    (void)state;
    Q(&c, "SELECT id FROM a WHERE x IN (SELECT 1 UNION SELECT 3) ORDER BY id",
      "1\n5");
    Q(&c, "SELECT id FROM a WHERE x NOT IN (SELECT 1 UNION SELECT 3) "
          "ORDER BY id",
      "2\n3");
    Q(&c, "SELECT EXISTS (SELECT 1 INTERSECT SELECT 2), "
          "EXISTS (SELECT 1 EXCEPT SELECT 2)",
      "0|1");
    Q(&c, "SELECT (SELECT 5 UNION SELECT 5)", "5");
    Q(&c, "SELECT (SELECT 5 UNION SELECT 6)",
      "ERR 1242 Subquery returns more than 1 row");
    Q(&c, "SELECT t.n, COUNT(*) FROM (SELECT x AS n FROM a UNION ALL "
          "SELECT y FROM b) AS t GROUP BY t.n ORDER BY t.n",
      "NULL|2\n1|1\n2|4\n3|1\n4|1");
    /* Correlated: each block reads the outer row. */
    Q(&c, "SELECT id, (SELECT COUNT(*) FROM (SELECT 1 AS k) AS z WHERE "
          "a.x IN (SELECT y FROM b WHERE b.y = a.x UNION SELECT a.id)) "
          "FROM a ORDER BY id",
      "1|1\n2|1\n3|1\n4|0\n5|0");
    Q(&c, "SELECT id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.y = a.x "
          "UNION ALL SELECT 1 FROM b WHERE b.id = a.id + 10) ORDER BY id",
      "2\n3");
    Q(&c, "SELECT id FROM a WHERE x = ANY (SELECT y FROM b UNION "
          "SELECT a.id + 1) ORDER BY id",
      "2\n3");
    Q(&c, "CREATE TABLE u (v INT)", "OK 0 0 0");
    Q(&c, "INSERT INTO u SELECT x FROM a UNION SELECT y FROM b", "OK 5 0 0");
    Q(&c, "SELECT v FROM u ORDER BY v", "NULL\n1\n2\n3\n4");
    Q(&c, "INSERT INTO u (SELECT 10 EXCEPT SELECT 11)", "OK 1 0 0");
    Q(&c, "SELECT COUNT(*) FROM u", "6");
    Q(&c, "DROP TABLE u", "OK 0 0 0");
}

static void edges(void **state)
{
    (void)state;
    Q(&c, "SELECT NULL UNION SELECT 'a'", "NULL\na");
    Q(&c, "SELECT 1 UNION SELECT NULL", "1\nNULL");
    Q(&c, "SELECT 1 FROM dual UNION ALL SELECT 2 FROM dual ORDER BY 1 DESC",
      "2\n1");
    Q(&c, "(SELECT 1) UNION ALL (SELECT 2) LIMIT 1", "1");
    Q(&c, "SELECT * FROM (SELECT 1 AS a UNION SELECT 2) x ORDER BY a DESC",
      "2\n1");
    Q(&c, "SELECT DATE '2020-01-02' UNION SELECT '2020-01-03 10:00:00'",
      "2020-01-02\n2020-01-03 10:00:00");
    Q(&c, "SELECT DATE '2020-01-02' UNION SELECT TIMESTAMP '2020-01-03 "
          "10:00:00'",
      "2020-01-02 00:00:00\n2020-01-03 10:00:00");
    Q(&c, "SELECT 18446744073709551615 UNION SELECT -1",
      "18446744073709551615\n-1");
    /* A long chain: 300 blocks. */
    char sql[8192];
    size_t n = 0;
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%sSELECT %d",
                              i ? " UNION ALL " : "", i % 3);
    char want[1024];
    size_t w = 0;
    for (int i = 0; i < 300; i++)
        w += (size_t)snprintf(want + w, sizeof want - w, "%s%d", i ? "\n" : "",
                              i % 3);
    Q(&c, sql, want);
    unsigned np, nc;
    int id = sqlfx_prepare(&c, "SELECT x FROM a WHERE id = ? UNION "
                               "SELECT y FROM b WHERE id = ? ORDER BY 1",
                           &np, &nc);
    assert_true(id >= 0);
    assert_int_equal(np, 2);
    assert_int_equal(nc, 1);
    const char *p[] = {"2", "3"};
    assert_string_equal(sqlfx_execute(&c, id, 2, p), "2\n4");
    sqlfx_close_stmt(&c, id);
    id = sqlfx_prepare(&c, "SELECT x FROM a UNION SELECT y FROM b ORDER BY 1 "
                           "LIMIT ? OFFSET ?",
                       &np, &nc);
    assert_true(id >= 0);
    const char *lp[] = {"2", "1"};
    assert_string_equal(sqlfx_execute(&c, id, 2, lp), "1\n2");
    sqlfx_close_stmt(&c, id);
    Q(&c, "SELECT 1 UNION SELECT 2 FOR UPDATE",
      "ERR 1235 This version of sqld doesn't yet support 'FOR UPDATE / FOR "
      "SHARE on a set operation'");
}

static void explain(void **state)
{
    (void)state;
    Q(&c, "EXPLAIN SELECT x FROM a UNION SELECT y FROM b ORDER BY x LIMIT 2",
      "TopN_1|root||x, count\n"
      "└─Projection_2|root||\n"
      "  └─Union_3|root||distinct\n"
      "    ├─Projection_4|root||x\n"
      "    │ └─TableFullScan_5|root|table:a|keep order:false\n"
      "    └─Projection_6|root||y\n"
      "      └─TableFullScan_7|root|table:b|keep order:false");
    Q(&c, "EXPLAIN SELECT 1 INTERSECT ALL SELECT 2 EXCEPT SELECT 3",
      "Except_1|root||distinct\n"
      "├─Intersect_2|root||all\n"
      "│ ├─Projection_3|root||1\n"
      "│ │ └─TableDual_4|root||\n"
      "│ └─Projection_5|root||2\n"
      "│   └─TableDual_6|root||\n"
      "└─Projection_7|root||3\n"
      "  └─TableDual_8|root||");
}

/* Each statement prints as want, and want parses to the same print. */
static void printed(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"select 1 union select 2 intersect select 3",
         "SELECT 1 UNION (SELECT 2 INTERSECT SELECT 3)"},
        {"(select 1 union select 2) intersect all select 3",
         "(SELECT 1 UNION SELECT 2) INTERSECT ALL SELECT 3"},
        {"select 1 intersect select 2 except distinct select 3",
         "SELECT 1 INTERSECT SELECT 2 EXCEPT SELECT 3"},
        {"select 1 except all (select 2 union all select 3) order by 1 limit 1",
         "SELECT 1 EXCEPT ALL (SELECT 2 UNION ALL SELECT 3) ORDER BY 1 LIMIT 1"},
        {"(select a from t order by a limit 1) union (select b from u)",
         "(SELECT a FROM t ORDER BY a LIMIT 1) UNION SELECT b FROM u"},
        {"create or replace algorithm = merge definer = current_user sql "
         "security invoker view d.v (a, b) as select 1, 2 with local check "
         "option",
         "CREATE OR REPLACE VIEW d.v (a, b) AS SELECT 1, 2"},
        {"create definer = 'u'@'%' view v as with c as (select 1) select * "
         "from c",
         "CREATE VIEW v AS WITH c AS (SELECT 1) SELECT * FROM c"},
        {"alter view v as select 1 union select 2",
         "ALTER VIEW v AS SELECT 1 UNION SELECT 2"},
        {"drop view if exists a, d.b cascade", "DROP VIEW IF EXISTS a, d.b"},
        {"show create view d.v", "SHOW CREATE VIEW d.v"},
    };
    struct sql_arena *a = sql__arena_create(0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sql_parse_result r;
        assert_int_equal(sql__parse_one(a, cases[i][0], strlen(cases[i][0]),
                                        &r),
                         0);
        assert_string_equal(sql__ast_print(a, r.stmt), cases[i][1]);
        assert_int_equal(sql__parse_one(a, cases[i][1], strlen(cases[i][1]),
                                        &r),
                         0);
        assert_string_equal(sql__ast_print(a, r.stmt), cases[i][1]);
    }
    /* INTERSECT and EXCEPT are reserved: not aliases. */
    struct sql_parse_result r;
    assert_int_equal(sql__parse_one(a, "select 1 except", 15, &r),
                     SQL_ESYNTAX);
    assert_int_equal(sql__parse_one(a, "create view v as select 1 with check",
                                    36, &r),
                     SQL_ESYNTAX);
    sql__arena_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unions),
        cmocka_unit_test(intersect_except),
        cmocka_unit_test(types),
        cmocka_unit_test(as_subqueries),
        cmocka_unit_test(edges),
        cmocka_unit_test(explain),
        cmocka_unit_test(printed),
    };
    return cmocka_run_group_tests_name("libsql/setop", tests, setup,
                                       teardown);
}

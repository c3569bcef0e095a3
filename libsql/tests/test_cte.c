/* test_cte.c: common table expressions end to end on the in-memory
 * store: WITH lists (column lists, a CTE read twice, one reading an
 * earlier one, in subqueries, derived tables and INSERT ... SELECT),
 * WITH RECURSIVE (UNION ALL and DISTINCT, anchor types, the recursion
 * depth limit) and the errors MySQL gives for bad definitions.
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
    sqlfx_open_db(&f, &c);
    Q(&c, "CREATE TABLE e (id INT PRIMARY KEY, boss INT, name VARCHAR(10))",
      "OK 0 0 0");
    Q(&c,
      "INSERT INTO e VALUES (1, NULL, 'ann'), (2, 1, 'bob'), (3, 1, 'cy'), "
      "(4, 2, 'di'), (5, 4, 'ed')",
      "OK 5 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

static void plain(void **state)
{
    (void)state;
    Q(&c, "WITH t AS (SELECT 1 AS a) SELECT a FROM t", "1");
    Q(&c, "WITH t (x, y) AS (SELECT id, name FROM e WHERE id < 3) "
          "SELECT y, x FROM t ORDER BY x",
      "ann|1\nbob|2");
    /* Read twice (a self-join), and one CTE reading an earlier one. */
    Q(&c, "WITH t AS (SELECT id, boss FROM e) SELECT a.id, b.id FROM t a "
          "JOIN t b ON a.boss = b.id WHERE a.id > 3 ORDER BY a.id",
      "4|2\n5|4");
    Q(&c, "WITH t1 AS (SELECT id FROM e WHERE id > 2), t2 AS (SELECT id * 10 "
          "AS v FROM t1) SELECT SUM(v) FROM t2",
      "120");
    /* In subqueries, derived tables, set operations, INSERT ... SELECT. */
    Q(&c, "WITH t AS (SELECT 2 AS v UNION SELECT 4) SELECT name FROM e WHERE "
          "id IN (SELECT v FROM t) ORDER BY name",
      "bob\ndi");
    Q(&c, "SELECT * FROM (WITH t AS (SELECT 7 AS v) SELECT v + 1 AS w FROM "
          "t) AS z",
      "8");
    Q(&c, "SELECT (WITH t AS (SELECT 3 AS v) SELECT v FROM t)", "3");
    Q(&c, "WITH t AS (SELECT id FROM e) SELECT id FROM t WHERE id < 2 UNION "
          "SELECT id FROM t WHERE id > 4",
      "1\n5");
    Q(&c, "CREATE TABLE g (v INT)", "OK 0 0 0");
    Q(&c, "INSERT INTO g WITH t AS (SELECT id FROM e WHERE id <= 2) "
          "SELECT id FROM t",
      "OK 2 0 0");
    Q(&c, "SELECT v FROM g ORDER BY v", "1\n2");
    Q(&c, "DROP TABLE g", "OK 0 0 0");
    /* A CTE hides a table of the same name; a nested WITH hides an
     * outer CTE. */
    Q(&c, "WITH e AS (SELECT 42 AS id) SELECT id FROM e", "42");
    Q(&c, "WITH t AS (SELECT 1 AS v) SELECT (WITH t AS (SELECT 2 AS v) "
          "SELECT v FROM t), v FROM t",
      "2|1");
    /* Without RECURSIVE a CTE does not see itself: the name is the
     * table's. */
    Q(&c, "WITH e AS (SELECT COUNT(*) AS id FROM e) SELECT id FROM e", "5");
}

static void errors(void **state)
{
    (void)state;
    Q(&c, "WITH t (a, b) AS (SELECT 1) SELECT * FROM t",
      "ERR 1353 In definition of view, derived table or common table "
      "expression, SELECT list and column names list have different column "
      "counts");
    Q(&c, "WITH t AS (SELECT 1 AS a, 2 AS a) SELECT * FROM t",
      "ERR 1060 Duplicate column name 'a'");
    Q(&c, "WITH t AS (SELECT 1), t AS (SELECT 2) SELECT * FROM t",
      "ERR 1066 Not unique table/alias: 't'");
    Q(&c, "WITH t1 AS (SELECT * FROM t2), t2 AS (SELECT 1) SELECT * FROM t1",
      "ERR 1146 Table 'd.t2' doesn't exist");
    Q(&c, "WITH RECURSIVE t AS (SELECT n + 1 FROM t) SELECT * FROM t",
      "ERR 3573 Recursive Common Table Expression 't' should contain a "
      "UNION");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT n + 1 FROM t UNION ALL SELECT 1) "
          "SELECT * FROM t",
      "ERR 3577 Recursive Common Table Expression 't' should have one or "
      "more non-recursive query blocks followed by one or more recursive "
      "ones");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT MAX(n) + 1 "
          "FROM t) SELECT * FROM t",
      "ERR 3575 Recursive Common Table Expression 't' can contain neither "
      "aggregation nor window functions in recursive query block");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t "
          "ORDER BY n LIMIT 3) SELECT * FROM t",
      "ERR 1235 This version of sqld doesn't yet support 'ORDER BY / LIMIT "
      "over UNION in recursive Common Table Expression'");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL (SELECT n + 1 FROM t "
          "ORDER BY n LIMIT 3)) SELECT * FROM t",
      "ERR 1235 This version of sqld doesn't yet support 'ORDER BY / LIMIT "
      "/ SELECT DISTINCT in recursive query block of Common Table "
      "Expression'");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT a.n FROM t a, "
          "t b) SELECT * FROM t",
      "ERR 3574 In recursive query block of Recursive Common Table "
      "Expression 't', the recursive table must be referenced only once, "
      "and not in any subquery");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT id FROM e "
          "WHERE id IN (SELECT n FROM t)) SELECT * FROM t",
      "ERR 3574 In recursive query block of Recursive Common Table "
      "Expression 't', the recursive table must be referenced only once, "
      "and not in any subquery");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT e.id FROM e "
          "LEFT JOIN t ON t.n = e.boss) SELECT * FROM t",
      "ERR 3576 In recursive query block of Recursive Common Table "
      "Expression 't', the recursive table must neither be in the right "
      "argument of a LEFT JOIN, nor be forced to be non-first with join "
      "order hints");
}

static void recursive(void **state)
{
    (void)state;
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t "
          "WHERE n < 5) SELECT * FROM t",
      "1\n2\n3\n4\n5");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t "
          "WHERE n < 1000) SELECT COUNT(*), SUM(n) FROM t",
      "1000|500500");
    /* The org chart below ann, with depth and path. */
    Q(&c, "WITH RECURSIVE r (id, lvl, path) AS (SELECT id, 0, "
          "CAST(name AS CHAR(100)) FROM e WHERE boss IS NULL UNION ALL "
          "SELECT e.id, r.lvl + 1, CONCAT(r.path, '/', e.name) FROM r JOIN e "
          "ON e.boss = r.id) SELECT * FROM r ORDER BY id",
      "1|0|ann\n2|1|ann/bob\n3|1|ann/cy\n4|2|ann/bob/di\n5|3|ann/bob/di/ed");
    /* UNION DISTINCT stops a cycle; UNION ALL would run to the limit. */
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION SELECT (n + 1) % 3 FROM t) "
          "SELECT n FROM t ORDER BY n",
      "0\n1\n2");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT (n + 1) % 3 "
          "FROM t) SELECT n FROM t",
      "ERR 3636 Recursive query aborted after 1001 iterations. Try "
      "increasing @@cte_max_recursion_depth to a larger value.");
    Q(&c, "SET cte_max_recursion_depth = 10", "OK 0 0 0");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t "
          "WHERE n < 11) SELECT COUNT(*) FROM t",
      "11");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t "
          "WHERE n < 12) SELECT COUNT(*) FROM t",
      "ERR 3636 Recursive query aborted after 11 iterations. Try increasing "
      "@@cte_max_recursion_depth to a larger value.");
    Q(&c, "SELECT @@cte_max_recursion_depth", "10");
    Q(&c, "SET cte_max_recursion_depth = DEFAULT", "OK 0 0 0");
    /* Two anchors and two recursive blocks; types from the anchors
     * (1.5 makes the column DECIMAL(2,1)). */
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT 1.5 UNION ALL "
          "SELECT n + 10 FROM t WHERE n < 10 UNION ALL SELECT n + 20 FROM t "
          "WHERE n < 10) SELECT n FROM t ORDER BY n",
      "1.0\n1.5\n11.0\n11.5\n21.0\n21.5");
    /* A recursive CTE read twice and joined with a plain one. */
    Q(&c, "WITH RECURSIVE s AS (SELECT 3 AS k), t (n) AS (SELECT 1 UNION ALL "
          "SELECT n + 1 FROM t, s WHERE n < s.k) SELECT a.n, b.n FROM t a "
          "JOIN t b ON b.n = a.n + 1 ORDER BY a.n",
      "1|2\n2|3");
    /* Many rounds of one row each, under a 64 MiB memory quota: the
     * recursive member is planned once, not every round (each plan took
     * about 7.5 KB of the statement's arena until the statement ended:
     * these 20,000 rounds needed 150 MB, and a counter of 140,000 rounds
     * went past the default 1 GiB quota; now under 1 KB a round). */
    Q(&c, "SET cte_max_recursion_depth = 1000000", "OK 0 0 0");
    Q(&c, "SET tidb_mem_quota_query = 67108864", "OK 0 0 0");
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t "
          "WHERE n < 20000) SELECT COUNT(*), SUM(n) FROM t",
      "20000|200010000");
    Q(&c, "SET tidb_mem_quota_query = DEFAULT", "OK 0 0 0");
    Q(&c, "SET cte_max_recursion_depth = DEFAULT", "OK 0 0 0");
    /* An empty anchor: no rows, no rounds. */
    Q(&c, "WITH RECURSIVE t (n) AS (SELECT id FROM e WHERE id > 99 UNION ALL "
          "SELECT n + 1 FROM t) SELECT COUNT(*) FROM t",
      "0");
}

static void explain(void **state)
{
    (void)state;
    Q(&c, "EXPLAIN WITH t AS (SELECT id FROM e WHERE id < 3) SELECT id FROM "
          "t WHERE id > 1",
      "Projection_1|root||id\n"
      "└─MemTableScan_2|root|table:t|derived; filter:(id > 1)");
}

static void prepared(void **state)
{
    (void)state;
    unsigned np, nc;
    int id = sqlfx_prepare(&c, "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL "
                               "SELECT n + 1 FROM t WHERE n < ?) SELECT "
                               "COUNT(*) FROM t",
                           &np, &nc);
    assert_true(id >= 0);
    assert_int_equal(np, 1);
    assert_int_equal(nc, 1);
    const char *p1[] = {"4"};
    assert_string_equal(sqlfx_execute(&c, id, 1, p1), "4");
    const char *p2[] = {"7"};
    assert_string_equal(sqlfx_execute(&c, id, 1, p2), "7");
    sqlfx_close_stmt(&c, id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain),
        cmocka_unit_test(errors),
        cmocka_unit_test(recursive),
        cmocka_unit_test(explain),
        cmocka_unit_test(prepared),
    };
    return cmocka_run_group_tests_name("libsql/cte", tests, setup, teardown);
}

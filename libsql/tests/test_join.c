/* test_join.c: SELECT over several tables, end to end on the in-memory
 * store: comma, INNER, CROSS, LEFT/RIGHT, USING and NATURAL joins, names
 * (aliases, qualified columns, stars, 1052/1054/1066), the plan chosen
 * (join order, hash/index/nested-loop joins, pushdown into scans, read
 * back through EXPLAIN) and aggregation, DISTINCT, ORDER BY and LIMIT
 * over joins; subqueries (scalar, IN, EXISTS, ANY/ALL; as semi- and
 * anti-joins, or run per row) and derived tables.
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
    Q(&c,
      "CREATE TABLE t1 (id INT PRIMARY KEY, a INT, b VARCHAR(10), "
      "KEY ka (a))",
      "OK 0 0 0");
    Q(&c,
      "CREATE TABLE t2 (id INT PRIMARY KEY, t1id INT, c VARCHAR(10), "
      "UNIQUE KEY uc (c), KEY kt (t1id))",
      "OK 0 0 0");
    Q(&c, "CREATE TABLE t3 (x INT, y INT)", "OK 0 0 0");
    Q(&c,
      "INSERT INTO t1 VALUES (1, 10, 'one'), (2, 20, 'two'), "
      "(3, NULL, 'three'), (4, 10, 'four')",
      "OK 4 0 0");
    Q(&c,
      "INSERT INTO t2 VALUES (1, 1, 'p'), (2, 1, 'q'), (3, 2, 'r'), "
      "(4, 9, 's'), (5, NULL, 't')",
      "OK 5 0 0");
    Q(&c, "INSERT INTO t3 VALUES (10, 1), (20, 2), (NULL, 3), (10, 4)",
      "OK 4 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

static void inner_joins(void **state)
{
    (void)state;
    const char *want = "1|10|one|1|1|p\n1|10|one|2|1|q\n2|20|two|3|2|r";
    Q(&c, "SELECT * FROM t1, t2 WHERE t1.id = t2.t1id ORDER BY t2.id", want);
    Q(&c, "SELECT * FROM t1 JOIN t2 ON t1.id = t2.t1id ORDER BY t2.id",
      want);
    Q(&c, "SELECT * FROM t1 INNER JOIN t2 ON t2.t1id = t1.id ORDER BY t2.id",
      want);
    Q(&c, "SELECT * FROM t2 STRAIGHT_JOIN t1 ON t1.id = t2.t1id "
          "ORDER BY t2.id",
      "1|1|p|1|10|one\n2|1|q|1|10|one\n3|2|r|2|20|two");
    /* Without a condition: every pair. */
    Q(&c, "SELECT t1.id, t3.y FROM t1 CROSS JOIN t3 WHERE t1.id = 1",
      "1|1\n1|2\n1|3\n1|4");
    Q(&c, "SELECT count(*) FROM t1 a, t1 b, t1 c", "64");
    Q(&c, "SELECT count(*) FROM t1 JOIN t2", "20");
    /* Non-equal conditions, conditions on expressions. */
    Q(&c, "SELECT t1.id, t3.x FROM t1, t3 WHERE t1.a < t3.x ORDER BY 1, 2",
      "1|20\n4|20");
    Q(&c, "SELECT t1.id, t2.id FROM t1 JOIN t2 ON t1.id = t2.id + 0 "
          "ORDER BY 1",
      "1|1\n2|2\n3|3\n4|4");
    /* A string against a number compares as numbers (no hash keys). */
    Q(&c, "SELECT t1.id, t3.y FROM t1 JOIN t3 ON t1.b = t3.x", "");
    /* NULL keys never match. */
    Q(&c, "SELECT count(*) FROM t1 JOIN t3 ON t1.a = t3.x", "5");
    Q(&c, "SELECT count(*) FROM t1 JOIN t2 ON t1.a <=> t2.t1id", "1");
    /* Three tables, conditions in ON and WHERE. */
    Q(&c,
      "SELECT t1.b, t2.c, t3.x FROM t1 JOIN t2 ON t1.id = t2.t1id JOIN t3 "
      "ON t3.y = t2.id WHERE t3.x > 5 ORDER BY t2.id",
      "one|p|10\none|q|20");
    /* A self-join through aliases. */
    Q(&c, "SELECT a.id, b.id FROM t1 a JOIN t1 b ON a.a = b.a "
          "WHERE a.id < b.id",
      "1|4");
}

static void outer_joins(void **state)
{
    (void)state;
    Q(&c, "SELECT t1.b, t2.c FROM t1 LEFT JOIN t2 ON t1.id = t2.t1id "
          "ORDER BY t1.id, t2.c",
      "one|p\none|q\ntwo|r\nthree|NULL\nfour|NULL");
    Q(&c, "SELECT t1.b, t2.c FROM t1 RIGHT OUTER JOIN t2 ON t1.id = "
          "t2.t1id ORDER BY t2.id",
      "one|p\none|q\ntwo|r\nNULL|s\nNULL|t");
    /* WHERE after the join: the anti-join idiom. */
    Q(&c, "SELECT t1.id FROM t1 LEFT JOIN t2 ON t1.id = t2.t1id "
          "WHERE t2.id IS NULL ORDER BY t1.id",
      "3\n4");
    /* ON conditions on either side decide matches, not rows. */
    Q(&c, "SELECT t1.id, t3.x FROM t1 LEFT JOIN t3 ON t1.a = t3.x AND "
          "t1.id > 1 ORDER BY 1, 2",
      "1|NULL\n2|20\n3|NULL\n4|10\n4|10");
    Q(&c, "SELECT t1.id, t2.id FROM t1 LEFT JOIN t2 ON t1.id = t2.t1id AND "
          "t2.c > 'p' ORDER BY 1, 2",
      "1|2\n2|3\n3|NULL\n4|NULL");
    Q(&c, "SELECT t1.id, t3.x FROM t3 RIGHT JOIN t1 ON t1.a = t3.x AND "
          "t1.id > 1 ORDER BY 1, 2",
      "1|NULL\n2|20\n3|NULL\n4|10\n4|10");
    /* Chained: the second join pads what the first padded. */
    Q(&c, "SELECT t1.id, t2.id, t3.y FROM t1 LEFT JOIN t2 ON t1.id = "
          "t2.t1id AND t2.c > 'p' LEFT JOIN t3 ON t3.y = t2.id ORDER BY "
          "t1.id",
      "1|2|2\n2|3|3\n3|NULL|NULL\n4|NULL|NULL");
    /* An inner join inside the NULL-supplying side. */
    Q(&c, "SELECT t3.y, t1.id, t2.id FROM t3 LEFT JOIN (t1 JOIN t2 ON "
          "t1.id = t2.t1id) ON t3.y = t1.id ORDER BY 1, 3",
      "1|1|1\n1|1|2\n2|2|3\n3|NULL|NULL\n4|NULL|NULL");
    Q(&c, "SELECT count(*), count(t2.id) FROM t1 LEFT JOIN t2 ON 1 = 0",
      "4|0");
    /* A null-rejecting WHERE makes the join inner; one that is not keeps
     * the padded rows. */
    Q(&c, "SELECT t1.id, t2.c FROM t1 LEFT JOIN t2 ON t1.id = t2.t1id WHERE "
          "t2.c <> 'q' ORDER BY 1",
      "1|p\n2|r");
    Q(&c, "SELECT t1.id, t2.c FROM t1 LEFT JOIN t2 ON t1.id = t2.t1id WHERE "
          "t2.c <> 'q' OR t2.c IS NULL ORDER BY 1",
      "1|p\n2|r\n3|NULL\n4|NULL");
    Q(&c, "SELECT t1.id, t3.y FROM t1 LEFT JOIN (t2 LEFT JOIN t3 ON t3.y = "
          "t2.id) ON t2.t1id = t1.id WHERE t3.x = 10 ORDER BY 1, 2",
      "1|1");
    /* WHERE on a table an inner outer join preserves but an outer one
     * does not: above the join, never into the preserved side's scan
     * (found by the differential tester). */
    Q(&c, "SELECT t2.id FROM t1 RIGHT JOIN t2 ON t1.id = t2.t1id LEFT JOIN "
          "t3 ON t3.y = t2.id WHERE t1.b = 'one' ORDER BY 1",
      "1\n2");
    Q(&c, "SELECT t2.id FROM t1 RIGHT JOIN t2 ON t1.id = t2.t1id LEFT JOIN "
          "t3 ON t3.y = t2.id WHERE t1.b IS NULL ORDER BY 1",
      "4\n5");
}

static void using_and_natural(void **state)
{
    (void)state;
    Q(&c, "SELECT * FROM t1 JOIN t2 USING (id) ORDER BY id",
      "1|10|one|1|p\n2|20|two|1|q\n3|NULL|three|2|r\n4|10|four|9|s");
    Q(&c, "SELECT * FROM t1 NATURAL JOIN t2 WHERE id < 3 ORDER BY id",
      "1|10|one|1|p\n2|20|two|1|q");
    /* The preserved side's columns first; its key stands for both. */
    Q(&c, "SELECT * FROM t1 RIGHT JOIN t2 USING (id) ORDER BY id",
      "1|1|p|10|one\n2|1|q|20|two\n3|2|r|NULL|three\n4|9|s|10|four\n"
      "5|NULL|t|NULL|NULL");
    Q(&c, "SELECT id, t1.id FROM t1 RIGHT JOIN t2 USING (id) WHERE id = 5",
      "5|NULL");
    Q(&c, "SELECT * FROM t1 JOIN t2 USING (nosuch)",
      "ERR 1054 Unknown column 'nosuch' in 'from clause'");
    sqlfx_q(&c, "CREATE TABLE u (id INT, a INT)");
    sqlfx_q(&c, "INSERT INTO u VALUES (1, 10), (2, 21)");
    Q(&c, "SELECT * FROM t1 NATURAL JOIN u", "1|10|one");
    Q(&c, "SELECT * FROM u NATURAL LEFT JOIN t1 ORDER BY id",
      "1|10|one\n2|21|NULL");
    c.headers = true;
    Q(&c, "SELECT * FROM u JOIN t1 USING (a) WHERE u.id = 1",
      "a|id|id|b\n10|1|1|one\n10|1|4|four");
    c.headers = false;
    sqlfx_q(&c, "DROP TABLE u");
}

static void names(void **state)
{
    (void)state;
    Q(&c, "SELECT id FROM t1, t2",
      "ERR 1052 Column 'id' in field list is ambiguous");
    Q(&c, "SELECT t1.id FROM t1 JOIN t2 ON t1.id = t2.t1id WHERE id > 1",
      "ERR 1052 Column 'id' in where clause is ambiguous");
    Q(&c, "SELECT 1 FROM t1 JOIN t2 ON id = 1",
      "ERR 1052 Column 'id' in on clause is ambiguous");
    Q(&c, "SELECT nosuch FROM t1, t2",
      "ERR 1054 Unknown column 'nosuch' in 'field list'");
    Q(&c, "SELECT x.a FROM t1, t2",
      "ERR 1054 Unknown column 'x.a' in 'field list'");
    Q(&c, "SELECT 1 FROM t1, t2 ORDER BY t9.a",
      "ERR 1054 Unknown column 't9.a' in 'order clause'");
    /* ON sees only the tables joined so far. */
    Q(&c, "SELECT * FROM t1 JOIN t2 ON t2.id = t3.x JOIN t3 ON 1",
      "ERR 1054 Unknown column 't3.x' in 'on clause'");
    Q(&c, "SELECT * FROM t1, t1",
      "ERR 1066 Not unique table/alias: 't1'");
    Q(&c, "SELECT * FROM t1 x JOIN t2 x ON 1",
      "ERR 1066 Not unique table/alias: 'x'");
    Q(&c, "SELECT t9.* FROM t1, t3", "ERR 1051 Unknown table 't9'");
    Q(&c, "SELECT * FROM t1, nosuch",
      "ERR 1146 Table 'd.nosuch' doesn't exist");
    /* Unambiguous unqualified names, db.table.column, t.* and aliases. */
    Q(&c, "SELECT a, c FROM t1 JOIN t2 ON t1.id = t2.t1id WHERE x IS NULL",
      "ERR 1054 Unknown column 'x' in 'where clause'");
    Q(&c, "SELECT d.t1.b, t2.c FROM d.t1, t2 WHERE t2.id = 1 AND t1.id = 1",
      "one|p");
    Q(&c, "SELECT t3.*, t1.b FROM t1, t3 WHERE t1.id = 1 AND t3.y < 3",
      "10|1|one\n20|2|one");
    Q(&c, "SELECT q.b FROM t1 AS q, t3 WHERE q.id = t3.y AND t3.x = 20",
      "two");
    Q(&c, "SELECT t1.b FROM t1 q", "ERR 1054 Unknown column 't1.b' in "
                                     "'field list'");
    c.headers = true;
    Q(&c, "SELECT t1.id, t2.id AS i2 FROM t1 JOIN t2 ON t1.id = t2.id "
          "WHERE t1.id = 1",
      "id|i2\n1|1");
    c.headers = false;
}

static void aggregates_and_order(void **state)
{
    (void)state;
    Q(&c, "SELECT count(*), sum(t3.y) FROM t1 JOIN t3 ON t1.a = t3.x",
      "5|12");
    Q(&c, "SELECT t1.a, count(*) FROM t1 JOIN t3 ON t1.a = t3.x "
          "GROUP BY t1.a ORDER BY t1.a",
      "10|4\n20|1");
    /* A table's columns depend on its grouped primary key. */
    Q(&c, "SELECT t1.id, t1.b, count(*) FROM t1, t2 WHERE t1.id = t2.t1id "
          "GROUP BY t1.id ORDER BY 1",
      "1|one|2\n2|two|1");
    Q(&c, "SELECT t1.a, t2.c FROM t1, t2 WHERE t1.id = t2.t1id "
          "GROUP BY t1.a",
      "ERR 1055 Expression #2 of SELECT list is not in GROUP BY clause and "
      "contains nonaggregated column 'd.t2.c' which is not functionally "
      "dependent on columns in GROUP BY clause; this is incompatible with "
      "sql_mode=only_full_group_by");
    Q(&c, "SELECT DISTINCT t1.a FROM t1 JOIN t2 ON t1.id = t2.t1id "
          "ORDER BY 1",
      "10\n20");
    Q(&c, "SELECT t1.b FROM t1 JOIN t2 ON t1.id = t2.t1id ORDER BY t2.id "
          "DESC LIMIT 2",
      "two\none");
    Q(&c, "SELECT t1.b, t2.c FROM t1 JOIN t2 ON t1.id = t2.t1id ORDER BY "
          "t2.c DESC LIMIT 1, 1",
      "one|q");
    Q(&c, "SELECT t1.a + t3.y AS s FROM t1 JOIN t3 ON t1.a = t3.x "
          "HAVING s > 12 ORDER BY s",
      "14\n14\n22");
    Q(&c, "SELECT max(t2.c) FROM t1 JOIN t2 ON t1.id = t2.t1id GROUP BY "
          "t1.b HAVING count(*) > 1",
      "q");
}

/* The lines of EXPLAIN for sql, as text. */
static const char *plan(const char *sql)
{
    static char buf[16384];
    char q[9000];
    snprintf(q, sizeof(q), "EXPLAIN %s", sql);
    snprintf(buf, sizeof(buf), "%s", sqlfx_q(&c, q));
    return buf;
}

static void plans(void **state)
{
    (void)state;
    /* Equal keys, no index to look up by: hash join, the smaller side
     * (the one a filter narrows) built. */
    assert_string_equal(
        plan("SELECT t1.b FROM t1, t3 WHERE t1.a = t3.x"),
        "Projection_1|root||t1.b\n"
        "└─HashJoin_2|root||inner join, build:right, cond:(t1.a = t3.x)\n"
        "  ├─TableFullScan_3|root|table:t1|keep order:false\n"
        "  └─TableFullScan_4|root|table:t3|keep order:false");
    assert_string_equal(
        plan("SELECT 1 FROM t3 a, t3 b WHERE a.x = b.x AND b.y > 1"),
        "Projection_1|root||1\n"
        "└─HashJoin_2|root||inner join, build:left, cond:(a.x = b.x)\n"
        "  ├─TableFullScan_3|root|table:t3|keep order:false; filter:(b.y "
        "> 1)\n"
        "  └─TableFullScan_4|root|table:t3|keep order:false");
    /* With an index on the key and a smaller left side: index join. */
    assert_string_equal(
        plan("SELECT t1.b FROM t3, t1 WHERE t1.a = t3.x AND t3.y > 1"),
        "Projection_1|root||t1.b\n"
        "└─IndexJoin_2|root||inner join, cond:(t1.a = t3.x)\n"
        "  ├─TableFullScan_3|root|table:t3|keep order:false; filter:(t3.y "
        "> 1)\n"
        "  └─IndexRangeScan_4|root|table:t1, index:ka(a)|lookup: 1 key");
    /* A point get first, then the other table by its primary key: every
     * condition on one table goes down into its scan. */
    assert_string_equal(
        plan("SELECT * FROM t1 JOIN t2 ON t1.id = t2.t1id WHERE t2.c = 'p' "
             "AND t1.b <> 'x'"),
        "Projection_1|root||t1.id, t1.a, t1.b, t2.id, t2.t1id, t2.c\n"
        "└─IndexJoin_2|root||inner join, cond:(t1.id = t2.t1id)\n"
        "  ├─Point_Get_3|root|table:t2, index:uc(c)|range: 1 key; "
        "filter:(t2.c = 'p')\n"
        "  └─Point_Get_4|root|table:t1|lookup: 1 key; filter:(t1.b <> "
        "'x')");
    /* By a secondary index when the left side is small. */
    assert_string_equal(
        plan("SELECT t2.c FROM t1, t2 WHERE t2.t1id = t1.id AND t1.id IN "
             "(1, 2)"),
        "Projection_1|root||t2.c\n"
        "└─IndexJoin_2|root||inner join, cond:(t2.t1id = t1.id)\n"
        "  ├─Batch_Point_Get_3|root|table:t1|handle: 2 keys; filter:(t1.id "
        "IN (1, 2))\n"
        "  └─IndexRangeScan_4|root|table:t2, index:kt(t1id)|lookup: 1 key");
    /* Outer joins keep their sides; a non-equal condition loops. */
    assert_string_equal(
        plan("SELECT 1 FROM t3 LEFT JOIN t1 ON t1.id = t3.y"),
        "Projection_1|root||1\n"
        "└─IndexJoin_2|root||left outer join, cond:(t1.id = t3.y)\n"
        "  ├─TableFullScan_3|root|table:t3|keep order:false\n"
        "  └─Point_Get_4|root|table:t1|lookup: 1 key");
    assert_string_equal(
        plan("SELECT 1 FROM t1 LEFT JOIN t3 ON t1.a < t3.x WHERE t3.y IS "
             "NULL"),
        "Projection_1|root||1\n"
        "└─Selection_2|root||(t3.y IS NULL)\n"
        "  └─NestedLoopJoin_3|root||left outer join, cond:(t1.a < t3.x)\n"
        "    ├─TableFullScan_4|root|table:t1|keep order:false\n"
        "    └─TableFullScan_5|root|table:t3|keep order:false");
    /* WHERE rejects the padded rows: an inner join, reordered, the
     * condition pushed into t3's scan. */
    assert_string_equal(
        plan("SELECT 1 FROM t1 LEFT JOIN t3 ON t1.a < t3.x WHERE t3.y > 1"),
        "Projection_1|root||1\n"
        "└─NestedLoopJoin_2|root||inner join, cond:(t1.a < t3.x)\n"
        "  ├─TableFullScan_3|root|table:t3|keep order:false; filter:(t3.y "
        "> 1)\n"
        "  └─TableFullScan_4|root|table:t1|keep order:false");
    assert_string_equal(
        plan("SELECT 1 FROM t1 LEFT JOIN t2 ON t1.id = t2.t1id WHERE t2.c = "
             "'p'"),
        "Projection_1|root||1\n"
        "└─IndexJoin_2|root||inner join, cond:(t1.id = t2.t1id)\n"
        "  ├─Point_Get_3|root|table:t2, index:uc(c)|range: 1 key; "
        "filter:(t2.c = 'p')\n"
        "  └─Point_Get_4|root|table:t1|lookup: 1 key");
    /* The order follows the join graph, not the FROM list: t3 has no
     * condition with t1, so t2 comes between them. */
    assert_string_equal(
        plan("SELECT 1 FROM t1, t3, t2 WHERE t2.c = 's' AND t2.t1id = t1.id "
             "AND t3.y = t2.id"),
        "Projection_1|root||1\n"
        "└─HashJoin_2|root||inner join, build:left, cond:(t3.y = t2.id)\n"
        "  ├─IndexJoin_3|root||inner join, cond:(t2.t1id = t1.id)\n"
        "  │ ├─Point_Get_4|root|table:t2, index:uc(c)|range: 1 key; "
        "filter:(t2.c = 's')\n"
        "  │ └─Point_Get_5|root|table:t1|lookup: 1 key\n"
        "  └─TableFullScan_6|root|table:t3|keep order:false");
}

/* A chain of many tables plans as a chain (no cross product) and runs. */
static void many_tables(void **state)
{
    (void)state;
    char sql[8192];
    for (int i = 0; i < 12; i++) {
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE c%d (id INT PRIMARY KEY, nx INT)", i);
        Q(&c, sql, "OK 0 0 0");
        snprintf(sql, sizeof(sql),
                 "INSERT INTO c%d VALUES (1, 2), (2, 3), (3, 1)", i);
        Q(&c, sql, "OK 3 0 0");
    }
    int n = snprintf(sql, sizeof(sql), "SELECT count(*) FROM ");
    for (int i = 11; i >= 0; i--)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, "c%d%s", i,
                      i ? ", " : " WHERE ");
    for (int i = 0; i < 11; i++)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n,
                      "c%d.nx = c%d.id AND ", i, i + 1);
    snprintf(sql + n, sizeof(sql) - (size_t)n, "c0.id = 1");
    Q(&c, sql, "1");
    const char *p = plan(sql);
    assert_null(strstr(p, "NestedLoopJoin"));
    /* Each step looks the next table up by its key. */
    int joins = 0;
    for (const char *q = p; (q = strstr(q, "IndexJoin")); q++)
        joins++;
    assert_int_equal(joins, 11);
    Q(&c, "SELECT count(*) FROM c0 a, c1 b, c2 c", "27");
}

static void subqueries(void **state)
{
    (void)state;
    Q(&c, "SELECT id FROM t1 WHERE id = (SELECT max(t1id) FROM t2)", "");
    Q(&c, "SELECT id FROM t1 WHERE id = (SELECT min(t1id) FROM t2)", "1");
    Q(&c, "SELECT id, (SELECT count(*) FROM t2) FROM t1 WHERE id < 3",
      "1|5\n2|5");
    Q(&c, "SELECT (SELECT b FROM t1 WHERE id = 2) = 'two', "
          "(SELECT b FROM t1 WHERE id = 9)",
      "1|NULL");
    Q(&c, "SELECT id FROM t1 WHERE id IN (SELECT t1id FROM t2) ORDER BY id",
      "1\n2");
    Q(&c, "SELECT id FROM t1 WHERE a IN (SELECT x FROM t3) ORDER BY id",
      "1\n2\n4");
    /* NOT IN with a NULL in the subquery is never TRUE (MySQL's NULL
     * semantics); an empty subquery is FALSE for IN even for NULL. */
    Q(&c, "SELECT id FROM t1 WHERE id NOT IN (SELECT t1id FROM t2)", "");
    Q(&c, "SELECT id FROM t1 WHERE id NOT IN (SELECT t1id FROM t2 WHERE "
          "t1id IS NOT NULL) ORDER BY id",
      "3\n4");
    Q(&c, "SELECT NULL IN (SELECT x FROM t3 WHERE x > 100), NULL NOT IN "
          "(SELECT x FROM t3 WHERE x > 100), NULL IN (SELECT x FROM t3)",
      "0|1|NULL");
    Q(&c, "SELECT 5 IN (SELECT x FROM t3), 10 IN (SELECT x FROM t3), "
          "5 NOT IN (SELECT x FROM t3)",
      "NULL|1|NULL");
    Q(&c, "SELECT count(*) FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE c = "
          "'p')",
      "4");
    Q(&c, "SELECT count(*) FROM t1 WHERE NOT EXISTS (SELECT * FROM t2)",
      "0");
    Q(&c, "SELECT t1.b, t2.c FROM t1 JOIN t2 ON t1.id = t2.t1id WHERE t2.id "
          "IN (SELECT y FROM t3 WHERE x = 10) ORDER BY 1, 2",
      "one|p");
    Q(&c, "SELECT a, count(*) FROM t1 GROUP BY a HAVING count(*) > (SELECT "
          "count(*) FROM t3 WHERE x = 20)",
      "10|2");
    Q(&c, "SELECT id FROM t1 WHERE id IN (SELECT t1id FROM t2 WHERE t1id IN "
          "(SELECT y FROM t3 WHERE x = 20))",
      "2");
    Q(&c, "SELECT (SELECT id FROM t2)",
      "ERR 1242 Subquery returns more than 1 row");
    Q(&c, "SELECT (SELECT id, c FROM t2 WHERE id = 1)",
      "ERR 1241 Operand should contain 1 column(s)");
    Q(&c, "SELECT 1 IN (SELECT id, c FROM t2)",
      "ERR 1241 Operand should contain 1 column(s)");
    Q(&c, "SELECT id FROM t1 WHERE id = (SELECT nosuch FROM t2)",
      "ERR 1054 Unknown column 'nosuch' in 'where clause'");
    /* ANY/SOME/ALL: uncorrelated (literals) and correlated (per row). */
    Q(&c, "SELECT id FROM t1 WHERE a > ANY (SELECT x FROM t3) ORDER BY id",
      "2");
    Q(&c, "SELECT id FROM t1 WHERE a >= ALL (SELECT x FROM t3 WHERE x IS NOT "
          "NULL) ORDER BY id",
      "2");
    Q(&c, "SELECT id, a = ANY (SELECT x FROM t3), a <> ALL (SELECT x FROM "
          "t3), a < SOME (SELECT x FROM t3 WHERE y < 3) FROM t1 ORDER BY id",
      "1|1|0|1\n2|1|0|0\n3|NULL|NULL|NULL\n4|1|0|1");
    Q(&c, "SELECT id, a > ALL (SELECT x FROM t3 WHERE x > 100), a > ANY "
          "(SELECT x FROM t3 WHERE x > 100) FROM t1 WHERE id = 3",
      "3|1|0");
    Q(&c, "SELECT id, a >= ALL (SELECT x FROM t3 WHERE t3.y >= t1.id) FROM "
          "t1 ORDER BY id",
      "1|0\n2|NULL\n3|NULL\n4|1");
    Q(&c, "SELECT id, b < ANY (SELECT c FROM t2 WHERE t2.t1id = t1.id) FROM "
          "t1 ORDER BY id",
      "1|1\n2|0\n3|0\n4|0");
    /* UPDATE and DELETE take them too (tests/test_dml_subq.c). */
    Q(&c, "DELETE FROM t3 WHERE y IN (SELECT id FROM t2) AND x > 100",
      "OK 0 0 0");
    Q(&c, "UPDATE t3 SET x = x WHERE y = (SELECT MIN(id) FROM t2)",
      "OK 0 0 0");
}

/* Prepared statements: parameters in join keys, pushed conditions and
 * subqueries (each execution plans again with their values). */
static void prepared(void **state)
{
    (void)state;
    unsigned np, nc;
    int id = sqlfx_prepare(&c,
                           "SELECT t2.c FROM t1 JOIN t2 ON t1.id = t2.t1id "
                           "WHERE t1.id = ? AND t2.c <> ? ORDER BY t2.c",
                           &np, &nc);
    assert_true(id >= 0);
    assert_int_equal(np, 2);
    assert_int_equal(nc, 1);
    const char *a1[] = {"1", "q"};
    assert_string_equal(sqlfx_execute(&c, id, 2, a1), "p");
    const char *a2[] = {"2", "x"};
    assert_string_equal(sqlfx_execute(&c, id, 2, a2), "r");
    sqlfx_close_stmt(&c, id);
    id = sqlfx_prepare(&c,
                       "SELECT id, (SELECT count(*) FROM t2 WHERE t2.t1id = "
                       "t1.id AND t2.id > ?) FROM t1 WHERE EXISTS (SELECT 1 "
                       "FROM t3 WHERE t3.y = t1.id AND t3.x = ?) ORDER BY id",
                       &np, &nc);
    assert_true(id >= 0);
    assert_int_equal(np, 2);
    assert_int_equal(nc, 2);
    const char *a3[] = {"1", "10"};
    assert_string_equal(sqlfx_execute(&c, id, 2, a3), "1|1\n4|0");
    const char *a4[] = {"0", "20"};
    assert_string_equal(sqlfx_execute(&c, id, 2, a4), "2|1");
    sqlfx_close_stmt(&c, id);
}

/* Derived tables: run when planned, scanned from memory, joined like
 * tables. */
static void derived_tables(void **state)
{
    (void)state;
    Q(&c, "SELECT * FROM (SELECT id, a FROM t1 WHERE a IS NOT NULL) AS d "
          "ORDER BY id",
      "1|10\n2|20\n4|10");
    Q(&c, "SELECT d.n, t2.c FROM (SELECT t1id, count(*) AS n FROM t2 GROUP BY "
          "t1id) d JOIN t2 ON t2.t1id = d.t1id ORDER BY 2",
      "2|p\n2|q\n1|r\n1|s");
    Q(&c, "SELECT max(n) FROM (SELECT t1id, count(*) AS n FROM t2 GROUP BY "
          "t1id) x",
      "2");
    Q(&c, "SELECT x.id, y.id FROM (SELECT id FROM t1 WHERE id < 3) x LEFT "
          "JOIN (SELECT t1id AS id FROM t2) y USING (id) ORDER BY 1, 2",
      "1|1\n1|1\n2|2");
    Q(&c, "SELECT * FROM (SELECT * FROM (SELECT id, b FROM t1 WHERE id > 2) "
          "a) b ORDER BY id",
      "3|three\n4|four");
    Q(&c, "SELECT * FROM (SELECT 1 AS a, 2 AS a) z",
      "ERR 1060 Duplicate column name 'a'");
    Q(&c, "SELECT * FROM (SELECT id FROM t1) z WHERE z.nosuch = 1",
      "ERR 1054 Unknown column 'z.nosuch' in 'where clause'");
    /* Its rows are made when first read (after every name is resolved):
     * its query's estimate stands for their count, so the one-row side
     * goes first, then a point get; a LIMIT bounds the estimate. */
    assert_string_equal(
        plan("SELECT t1.b FROM t1, (SELECT max(id) AS m FROM t1) mx WHERE "
             "t1.id = mx.m"),
        "Projection_1|root||t1.b\n"
        "└─IndexJoin_2|root||inner join, cond:(t1.id = mx.m)\n"
        "  ├─MemTableScan_3|root|table:mx|derived\n"
        "  └─Point_Get_4|root|table:t1|lookup: 1 key");
    Q(&c, "EXPLAIN FORMAT='row' SELECT * FROM (SELECT id FROM t1 LIMIT 2) x",
      "Projection_1|2.00|root||x.id\n"
      "└─MemTableScan_2|2.00|root|table:x|derived");
}

/* Correlated subqueries the planner cannot join: run per outer row, with
 * the outer columns they read. */
static void correlated(void **state)
{
    (void)state;
    Q(&c, "SELECT id, (SELECT count(*) FROM t2 WHERE t2.t1id = t1.id) FROM "
          "t1 ORDER BY id",
      "1|2\n2|1\n3|0\n4|0");
    Q(&c, "SELECT id, (SELECT max(c) FROM t2 WHERE t2.t1id = t1.id) AS m "
          "FROM t1 ORDER BY id",
      "1|q\n2|r\n3|NULL\n4|NULL");
    Q(&c, "SELECT id FROM t1 WHERE id < (SELECT max(t1id) FROM t2 WHERE "
          "t2.c > t1.b) ORDER BY id",
      "1\n4");
    Q(&c, "SELECT id FROM t1 WHERE 1 < (SELECT count(*) FROM t2 WHERE "
          "t2.t1id = t1.id)",
      "1");
    Q(&c, "SELECT id, (SELECT c FROM t2 WHERE t2.t1id = t1.id) FROM t1",
      "ERR 1242 Subquery returns more than 1 row");
    Q(&c, "SELECT id, EXISTS (SELECT 1 FROM t2 WHERE t2.t1id = t1.id), a IN "
          "(SELECT x FROM t3 WHERE t3.y > t1.id) FROM t1 ORDER BY id",
      "1|1|1\n2|1|NULL\n3|0|NULL\n4|0|0");
    /* Under OR: not a join, a subquery per row. */
    Q(&c, "SELECT id FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE t2.t1id = "
          "t1.id) OR id = 4 ORDER BY id",
      "1\n2\n4");
    /* Over a join: the subquery waits until every table it may read is
     * joined (never pushed into one table's scan). */
    Q(&c, "SELECT t1.id, t2.id FROM t1 JOIN t2 ON t1.id = t2.t1id WHERE "
          "t2.id = (SELECT max(id) FROM t2 x WHERE x.t1id = t1.id) ORDER BY 1",
      "1|2\n2|3");
    /* Grouped outer query; outer columns inside an aggregate; nested. */
    Q(&c, "SELECT a, count(*), (SELECT count(*) FROM t3 WHERE t3.x = t1.a) "
          "FROM t1 GROUP BY a ORDER BY a",
      "NULL|1|0\n10|2|2\n20|1|1");
    Q(&c, "SELECT id, (SELECT sum(x * t1.id) FROM t3) FROM t1 ORDER BY id",
      "1|40\n2|80\n3|120\n4|160");
    /* An outer column in the select list, GROUP BY and ORDER BY of a
     * subquery over a join (it once read a column past the joined row). */
    Q(&c, "SELECT id, (SELECT t1.b FROM t2 JOIN t3 ON t3.y = t2.id WHERE "
          "t2.t1id = t1.id LIMIT 1) FROM t1 ORDER BY id",
      "1|one\n2|two\n3|NULL\n4|NULL");
    Q(&c, "SELECT id FROM t1 WHERE EXISTS (SELECT t1.a FROM t2 JOIN t3 ON "
          "t3.y = t2.id WHERE t2.t1id = t1.id GROUP BY t1.a ORDER BY t1.a) "
          "ORDER BY id",
      "1\n2");
    Q(&c, "SELECT id FROM t1 WHERE (SELECT count(*) FROM t2 WHERE t2.t1id = "
          "t1.id AND EXISTS (SELECT 1 FROM t3 WHERE t3.y = t2.id AND t3.x = "
          "t1.a)) > 0 ORDER BY id",
      "1");
}

/* WHERE's [NOT] EXISTS and IN over tables, correlated or not: semi- and
 * anti-joins. */
static void semi_joins(void **state)
{
    (void)state;
    Q(&c, "SELECT id FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE t2.t1id = "
          "t1.id) ORDER BY id",
      "1\n2");
    Q(&c, "SELECT id FROM t1 WHERE NOT EXISTS (SELECT 1 FROM t2 WHERE "
          "t2.t1id = t1.id) ORDER BY id",
      "3\n4");
    Q(&c, "SELECT id FROM t1 WHERE id IN (SELECT t1id FROM t2 WHERE t2.c > "
          "t1.b) ORDER BY id",
      "1");
    Q(&c, "SELECT id FROM t1 WHERE a IN (SELECT x FROM t3 WHERE t3.y <> "
          "t1.id) ORDER BY id",
      "1\n4");
    /* A join inside the subquery; a subquery over a join. */
    Q(&c, "SELECT b FROM t1 WHERE EXISTS (SELECT * FROM t2 JOIN t3 ON t3.y = "
          "t2.id WHERE t2.t1id = t1.id AND t3.x > 10) ORDER BY 1",
      "one");
    Q(&c, "SELECT t1.id, t2.id FROM t1 JOIN t2 ON t1.id = t2.t1id WHERE NOT "
          "EXISTS (SELECT 1 FROM t3 WHERE t3.y = t2.id) ORDER BY 1, 2",
      "");
    /* The subquery's own names come first (t1 inside is its own). */
    Q(&c, "SELECT id FROM t1 WHERE EXISTS (SELECT 1 FROM t1 WHERE t1.id = 9)",
      "");
    Q(&c, "SELECT id FROM t1 WHERE EXISTS (SELECT 1 FROM t1 AS x WHERE x.a = "
          "t1.a AND x.id <> t1.id) ORDER BY id",
      "1\n4");
    Q(&c, "SELECT count(*) FROM t1 WHERE id IN (SELECT t1id FROM t2) AND NOT "
          "EXISTS (SELECT 1 FROM t3 WHERE x = t1.a)",
      "0");
    /* NOT IN: an anti-join whose rows match when x = item is TRUE or
     * NULL (a NULL in q, or a NULL x over a non-empty q, keeps nothing;
     * an empty q keeps everything). */
    Q(&c, "SELECT id FROM t1 WHERE id NOT IN (SELECT t1id FROM t2 WHERE "
          "t2.c > t1.b) ORDER BY id",
      "2\n3");
    Q(&c, "SELECT id FROM t1 WHERE id NOT IN (SELECT t1id FROM t2)", "");
    Q(&c, "SELECT id FROM t1 WHERE NOT (id IN (SELECT t1id FROM t2 WHERE "
          "t1id IS NOT NULL)) ORDER BY id",
      "3\n4");
    Q(&c, "SELECT id FROM t1 WHERE a NOT IN (SELECT x FROM t3 WHERE y > 2)",
      "");
    Q(&c, "SELECT id FROM t1 WHERE a NOT IN (SELECT x FROM t3 WHERE y > 100) "
          "ORDER BY id",
      "1\n2\n3\n4");
    assert_string_equal(
        plan("SELECT id FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE "
             "t2.t1id = t1.id)"),
        "Projection_1|root||id\n"
        "└─IndexJoin_2|root||semi join, cond:(t2.t1id = t1.id)\n"
        "  ├─TableFullScan_3|root|table:t1|keep order:false\n"
        "  └─IndexRangeScan_4|root|table:t2, index:kt(t1id)|lookup: 1 key");
    assert_string_equal(
        plan("SELECT id FROM t1 WHERE NOT EXISTS (SELECT 1 FROM t3 WHERE "
             "t3.x = t1.a)"),
        "Projection_1|root||id\n"
        "└─HashJoin_2|root||anti semi join, build:right, cond:(t3.x = "
        "t1.a)\n"
        "  ├─TableFullScan_3|root|table:t1|keep order:false\n"
        "  └─TableFullScan_4|root|table:t3|keep order:false");
    /* Aggregates in the subquery: not a join but a subquery run per row
     * (an aggregate without GROUP BY always has its row). */
    Q(&c, "SELECT id FROM t1 WHERE EXISTS (SELECT count(*) FROM t2 WHERE "
          "t2.t1id = t1.id) ORDER BY id",
      "1\n2\n3\n4");
    Q(&c, "SELECT id FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE t2.nosuch "
          "= t1.id)",
      "ERR 1054 Unknown column 't2.nosuch' in 'where clause'");
}

/* An OR over several tables implies a condition on each alone (every
 * disjunct must give one): it filters that table's scan, and the OR still
 * decides after the join (TPC-H q19; MariaDB's make_cond_for_table). */
static void or_per_table(void **state)
{
    (void)state;
    const char *q = "SELECT t1.id, t2.id FROM t1, t2 WHERE t1.id = t2.t1id "
                    "AND ((t1.a = 10 AND t2.c = 'p') OR (t1.a = 20 AND "
                    "t2.c = 'r'))";
    assert_string_equal(
        plan(q),
        "Projection_1|root||t1.id, t2.id\n"
        "└─IndexJoin_2|root||inner join, cond:(t1.id = t2.t1id) AND "
        "(((t1.a = 10) AND (t2.c = 'p')) OR ((t1.a = 20) AND (t2.c = "
        "'r')))\n"
        "  ├─IndexRangeScan_3|root|table:t2, index:uc(c)|range: 2 keys; "
        "filter:((t2.c = 'p') OR (t2.c = 'r'))\n"
        "  └─Point_Get_4|root|table:t1|lookup: 1 key; filter:((t1.a = 10) "
        "OR (t1.a = 20))");
    char sql[512];
    snprintf(sql, sizeof(sql), "%s ORDER BY 1", q);
    Q(&c, sql, "1|1\n2|3");
    /* A disjunct with nothing on t1: nothing for t1, t2 still filtered. */
    assert_string_equal(
        plan("SELECT 1 FROM t1, t2 WHERE t1.id = t2.t1id AND ((t1.a = 10 "
             "AND t2.c = 'p') OR t2.c = 'q')"),
        "Projection_1|root||1\n"
        "└─IndexJoin_2|root||inner join, cond:(t1.id = t2.t1id) AND "
        "(((t1.a = 10) AND (t2.c = 'p')) OR (t2.c = 'q'))\n"
        "  ├─IndexRangeScan_3|root|table:t2, index:uc(c)|range: 2 keys; "
        "filter:((t2.c = 'p') OR (t2.c = 'q'))\n"
        "  └─Point_Get_4|root|table:t1|lookup: 1 key");
    Q(&c, "SELECT t1.id, t2.id FROM t1, t2 WHERE t1.id = t2.t1id AND "
          "((t1.a = 10 AND t2.c = 'p') OR t2.c = 'q') ORDER BY 2",
      "1|1\n1|2");
    /* NULLs: the implied condition keeps every row the OR keeps. */
    Q(&c, "SELECT t1.id, t2.id FROM t1, t2 WHERE t1.id = t2.t1id AND "
          "((t1.a IS NULL AND t2.c = 't') OR (t1.a = 10 AND t2.c = 'q') OR "
          "(t1.a IS NULL AND t2.id > 3)) ORDER BY 1, 2",
      "1|2");
    /* A function is not evaluated on more rows than the query reads: the
     * conjunct with RAND() stays in the OR only. */
    assert_string_equal(
        plan("SELECT 1 FROM t1, t3 WHERE (t1.a = 10 AND RAND() < 2 AND "
             "t3.x = 10) OR (t1.a = 20 AND t3.x = 20)"),
        "Projection_1|root||1\n"
        "└─NestedLoopJoin_2|root||inner join, cond:(((t1.a = 10) AND "
        "(RAND() < 2) AND (t3.x = 10)) OR ((t1.a = 20) AND (t3.x = 20)))\n"
        "  ├─IndexRangeScan_3|root|table:t1, index:ka(a)|range: 2 keys; "
        "filter:((t1.a = 10) OR (t1.a = 20))\n"
        "  └─TableFullScan_4|root|table:t3|keep order:false; filter:((t3.x "
        "= 10) OR (t3.x = 20))");
    /* An OR of equalities on one column reads its points, as IN does. */
    assert_string_equal(
        plan("SELECT id FROM t1 WHERE a = 20 OR 10 = a OR a = 30"),
        "Projection_1|root||id\n"
        "└─IndexRangeScan_2|root|table:t1, index:ka(a)|range: 3 keys; "
        "filter:((a = 20) OR (10 = a) OR (a = 30))");
    Q(&c, "SELECT id FROM t1 WHERE a = 20 OR 10 = a OR a = 30 ORDER BY id",
      "1\n2\n4");
    Q(&c, "SELECT id FROM t1 WHERE a = 20 OR a IS NULL ORDER BY id",
      "2\n3");
}

/* A subquery that names only its own tables reads nothing of the query:
 * a conjunct holding it filters the one table its other operand reads
 * (TPC-H q18); one that names the query's columns still waits for them. */
static void uncorrelated_subquery_filters_early(void **state)
{
    (void)state;
    const char *q = "SELECT t1.id, t2.id FROM t1, t2 WHERE t1.id = t2.t1id "
                    "AND t1.a IN (SELECT x FROM t3 GROUP BY x HAVING "
                    "COUNT(*) > 1)";
    assert_string_equal(
        plan(q),
        "Projection_1|root||t1.id, t2.id\n"
        "└─IndexJoin_2|root||inner join, cond:(t1.id = t2.t1id)\n"
        "  ├─TableFullScan_3|root|table:t1|keep order:false; filter:(t1.a "
        "IN (SELECT x FROM t3 GROUP BY x HAVING (COUNT(*) > 1)))\n"
        "  └─IndexRangeScan_4|root|table:t2, index:kt(t1id)|lookup: 1 key");
    char sql[512];
    snprintf(sql, sizeof(sql), "%s ORDER BY 1, 2", q);
    Q(&c, sql, "1|1\n1|2");
    const char *corr = "SELECT t1.id, t2.id FROM t1, t2 WHERE t1.id = "
                       "t2.t1id AND t1.a IN (SELECT x FROM t3 WHERE t3.y = "
                       "t2.id GROUP BY x)";
    assert_string_equal(
        plan(corr),
        "Projection_1|root||t1.id, t2.id\n"
        "└─IndexJoin_2|root||inner join, cond:(t1.id = t2.t1id) AND (t1.a "
        "IN (SELECT x FROM t3 WHERE (t3.y = t2.id) GROUP BY x))\n"
        "  ├─TableFullScan_3|root|table:t1|keep order:false\n"
        "  └─IndexRangeScan_4|root|table:t2, index:kt(t1id)|lookup: 1 key");
    snprintf(sql, sizeof(sql), "%s ORDER BY 1, 2", corr);
    Q(&c, sql, "1|1");
    /* an unqualified name only the query has is the query's (t1.b):
     * the subquery waits for t1 */
    const char *outer_name = "SELECT t1.id FROM t1, t2 WHERE t1.id = "
                             "t2.t1id AND t2.c IN (SELECT b FROM t3 GROUP BY x)";
    assert_string_equal(
        plan(outer_name),
        "Projection_1|root||t1.id\n"
        "└─IndexJoin_2|root||inner join, cond:(t1.id = t2.t1id) AND (t2.c "
        "IN (SELECT b FROM t3 GROUP BY x))\n"
        "  ├─TableFullScan_3|root|table:t1|keep order:false\n"
        "  └─IndexRangeScan_4|root|table:t2, index:kt(t1id)|lookup: 1 key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inner_joins),
        cmocka_unit_test(outer_joins),
        cmocka_unit_test(using_and_natural),
        cmocka_unit_test(names),
        cmocka_unit_test(aggregates_and_order),
        cmocka_unit_test(plans),
        cmocka_unit_test(or_per_table),
        cmocka_unit_test(uncorrelated_subquery_filters_early),
        cmocka_unit_test(many_tables),
        cmocka_unit_test(subqueries),
        cmocka_unit_test(semi_joins),
        cmocka_unit_test(correlated),
        cmocka_unit_test(derived_tables),
        cmocka_unit_test(prepared),
    };
    return cmocka_run_group_tests_name("libsql/join", tests, setup,
                                       teardown);
}

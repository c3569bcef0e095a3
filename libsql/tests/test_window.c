/* test_window.c: window functions end to end on the in-memory store:
 * ranking (ROW_NUMBER, RANK, DENSE_RANK, PERCENT_RANK, CUME_DIST, NTILE),
 * values (LAG, LEAD, FIRST/LAST/NTH_VALUE), aggregates over ROWS and RANGE
 * frames (partition edges, empty frames, NULL order keys, DESC), named
 * windows, windows over GROUP BY, joins and in ORDER BY, EXPLAIN's
 * Window operator, and MySQL's errors (DESIGN.md "Window functions").
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
      "CREATE TABLE t (id INT PRIMARY KEY, g INT, v INT, s VARCHAR(10), "
      "d DECIMAL(6,2))",
      "OK 0 0 0");
    Q(&c,
      "INSERT INTO t VALUES (1,1,10,'a',1.5),(2,1,20,'b',2.25),"
      "(3,1,20,'c',NULL),(4,2,5,'d',4.00),(5,2,NULL,'e',1.10),"
      "(6,3,7,'f',0.01)",
      "OK 6 0 0");
    Q(&c, "CREATE TABLE e (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

static void ranking(void **state)
{
    (void)state;
    Q(&c,
      "SELECT id, ROW_NUMBER() OVER (PARTITION BY g ORDER BY v) FROM t"
      " ORDER BY id",
      "1|1\n"
      "2|2\n"
      "3|3\n"
      "4|2\n"
      "5|1\n"
      "6|1");
    Q(&c,
      "SELECT id, g, v, RANK() OVER w, DENSE_RANK() OVER w,"
      " PERCENT_RANK() OVER w, CUME_DIST() OVER w FROM t WINDOW w AS"
      " (PARTITION BY g ORDER BY v) ORDER BY id",
      "1|1|10|1|1|0|0.3333333333333333\n"
      "2|1|20|2|2|0.5|1\n"
      "3|1|20|2|2|0.5|1\n"
      "4|2|5|2|2|1|1\n"
      "5|2|NULL|1|1|0|0.5\n"
      "6|3|7|1|1|0|1");
    Q(&c,
      "SELECT id, v, RANK() OVER (ORDER BY v DESC), SUM(v) OVER (ORDER"
      " BY v DESC) FROM t ORDER BY id",
      "1|10|3|50\n"
      "2|20|1|40\n"
      "3|20|1|40\n"
      "4|5|5|62\n"
      "5|NULL|6|62\n"
      "6|7|4|57");
    Q(&c,
      "SELECT id, NTILE(4) OVER (ORDER BY id), NTILE(2) OVER (PARTITION"
      " BY g ORDER BY id), NTILE(10) OVER (PARTITION BY g) FROM t ORDER"
      " BY id",
      "1|1|1|1\n"
      "2|1|1|2\n"
      "3|2|2|3\n"
      "4|2|1|1\n"
      "5|3|2|2\n"
      "6|4|1|1");
    Q(&c,
      "SELECT id, ROW_NUMBER() OVER (ORDER BY id DESC) AS rn FROM t"
      " ORDER BY rn",
      "6|1\n"
      "5|2\n"
      "4|3\n"
      "3|4\n"
      "2|5\n"
      "1|6");
    Q(&c,
      "SELECT id FROM t ORDER BY ROW_NUMBER() OVER (ORDER BY id DESC)",
      "6\n"
      "5\n"
      "4\n"
      "3\n"
      "2\n"
      "1");
    Q(&c,
      "SELECT id, ROW_NUMBER() OVER (PARTITION BY s IN ('a','d') ORDER"
      " BY id) r FROM t ORDER BY id LIMIT 3",
      "1|1\n"
      "2|1\n"
      "3|2");
}

static void values(void **state)
{
    (void)state;
    Q(&c,
      "SELECT id, LAG(v) OVER (ORDER BY id), LEAD(v, 2, -1) OVER (ORDER"
      " BY id), FIRST_VALUE(s) OVER (ORDER BY id), LAST_VALUE(s) OVER"
      " (ORDER BY id), NTH_VALUE(s, 2) OVER (ORDER BY id) FROM t",
      "1|NULL|20|a|a|NULL\n"
      "2|10|5|a|b|b\n"
      "3|20|NULL|a|c|b\n"
      "4|20|7|a|d|b\n"
      "5|5|-1|a|e|b\n"
      "6|NULL|-1|a|f|b");
    Q(&c,
      "SELECT id, LAG(s, 1, 'none') OVER (PARTITION BY g ORDER BY id),"
      " LEAD(id, 0) OVER (), FIRST_VALUE(v) OVER (PARTITION BY g ORDER"
      " BY v DESC) FROM t ORDER BY id",
      "1|none|1|20\n"
      "2|a|2|20\n"
      "3|b|3|20\n"
      "4|none|4|5\n"
      "5|d|5|5\n"
      "6|none|6|7");
    Q(&c,
      "SELECT id, LAST_VALUE(v) OVER (PARTITION BY g ORDER BY id ROWS"
      " BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING), NTH_VALUE(v, 3)"
      " OVER (PARTITION BY g) FROM t ORDER BY id",
      "1|20|20\n"
      "2|20|20\n"
      "3|20|20\n"
      "4|NULL|NULL\n"
      "5|NULL|NULL\n"
      "6|7|NULL");
}

static void aggregates(void **state)
{
    (void)state;
    Q(&c,
      "SELECT id, SUM(v) OVER (PARTITION BY g ORDER BY id), SUM(d) OVER"
      " (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), AVG(d)"
      " OVER (), COUNT(*) OVER (PARTITION BY g) FROM t ORDER BY id",
      "1|10|3.75|1.772000|3\n"
      "2|30|3.75|1.772000|3\n"
      "3|50|6.25|1.772000|3\n"
      "4|5|5.10|1.772000|2\n"
      "5|5|5.11|1.772000|2\n"
      "6|7|1.11|1.772000|1");
    Q(&c,
      "SELECT id, v, MIN(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING"
      " AND 1 FOLLOWING), MAX(v) OVER (ORDER BY v RANGE BETWEEN 5"
      " PRECEDING AND 5 FOLLOWING), COUNT(v) OVER (ORDER BY v RANGE"
      " BETWEEN 5 PRECEDING AND CURRENT ROW) FROM t ORDER BY id",
      "1|10|10|10|3\n"
      "2|20|10|20|2\n"
      "3|20|5|20|2\n"
      "4|5|5|10|1\n"
      "5|NULL|5|NULL|0\n"
      "6|7|7|10|2");
    Q(&c,
      "SELECT id, SUM(v) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 1"
      " FOLLOWING AND UNBOUNDED FOLLOWING), AVG(v) OVER (PARTITION BY g"
      " ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t"
      " ORDER BY id",
      "1|40|10.0000\n"
      "2|20|15.0000\n"
      "3|NULL|20.0000\n"
      "4|NULL|5.0000\n"
      "5|NULL|5.0000\n"
      "6|NULL|7.0000");
    Q(&c,
      "SELECT id, SUM(v) OVER (ORDER BY id ROWS BETWEEN 2 FOLLOWING AND"
      " 1 FOLLOWING) FROM t ORDER BY id",
      "1|NULL\n"
      "2|NULL\n"
      "3|NULL\n"
      "4|NULL\n"
      "5|NULL\n"
      "6|NULL");
    Q(&c,
      "SELECT id, SUM(v) OVER (ORDER BY v RANGE BETWEEN 10 FOLLOWING AND"
      " 20 FOLLOWING), SUM(v) OVER (ORDER BY v DESC RANGE BETWEEN 3"
      " PRECEDING AND 3 FOLLOWING) FROM t ORDER BY id",
      "1|40|17\n"
      "2|NULL|40\n"
      "3|NULL|40\n"
      "4|40|12\n"
      "5|NULL|NULL\n"
      "6|40|22");
    Q(&c,
      "SELECT id, COUNT(d) OVER (ORDER BY id ROWS 2 PRECEDING), AVG(d)"
      " OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING) FROM"
      " t ORDER BY id",
      "1|1|NULL\n"
      "2|2|1.500000\n"
      "3|2|1.875000\n"
      "4|2|2.250000\n"
      "5|2|4.000000\n"
      "6|3|2.550000");
    Q(&c,
      "SELECT id, STD(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND"
      " 1 FOLLOWING), BIT_OR(v) OVER (PARTITION BY g) FROM t ORDER BY id",
      "1|5|30\n"
      "2|4.714045207910316|30\n"
      "3|7.0710678118654755|30\n"
      "4|7.5|5\n"
      "5|1|5\n"
      "6|0|7");
    Q(&c,
      "SELECT id, ROW_NUMBER() OVER (), SUM(v) OVER () FROM e",
      "");
    Q(&c,
      "SELECT COUNT(*) OVER (), SUM(v) FROM e",
      "1|NULL");
}

/* RANGE offsets that are not integers, INTERVALs, and bad ones. */
static void range_offsets(void **state)
{
    (void)state;
    Q(&c,
      "SELECT id, SUM(v) OVER (ORDER BY v RANGE BETWEEN 2.5 PRECEDING AND "
      "0.5 FOLLOWING) FROM t ORDER BY id",
      "1|10\n"
      "2|40\n"
      "3|40\n"
      "4|5\n"
      "5|NULL\n"
      "6|12");
    Q(&c,
      "SELECT id, COUNT(*) OVER (ORDER BY d DESC RANGE BETWEEN 1 PRECEDING "
      "AND CURRENT ROW) FROM t ORDER BY id",
      "1|2\n"
      "2|1\n"
      "3|1\n"
      "4|1\n"
      "5|2\n"
      "6|1");
    /* INTERVAL bounds over a temporal key (a NULL key: its NULL peers;
     * past the calendar's end: every later row) */
    Q(&c, "CREATE TABLE te (id INT PRIMARY KEY, dt DATE, ts DATETIME, n INT)",
      "OK 0 0 0");
    Q(&c,
      "INSERT INTO te VALUES (1, '2024-01-01', '2024-01-01 10:00:00', 1), "
      "(2, '2024-01-02', '2024-01-01 10:30:00', 2), (3, '2024-01-05', "
      "'2024-01-01 12:00:00', 3), (4, NULL, NULL, 4), (5, '2024-01-03', "
      "'2024-01-01 11:00:00', 5)",
      "OK 5 0 0");
    Q(&c,
      "SELECT id, SUM(n) OVER (ORDER BY dt RANGE BETWEEN INTERVAL 1 DAY "
      "PRECEDING AND CURRENT ROW) FROM te ORDER BY id",
      "1|1\n2|3\n3|3\n4|4\n5|7");
    Q(&c,
      "SELECT id, COUNT(*) OVER (ORDER BY ts DESC RANGE BETWEEN INTERVAL 1 "
      "HOUR PRECEDING AND INTERVAL 30 MINUTE FOLLOWING) FROM te ORDER BY id",
      "1|3\n2|3\n3|1\n4|1\n5|3");
    Q(&c,
      "SELECT id, SUM(n) OVER (ORDER BY dt RANGE BETWEEN CURRENT ROW AND "
      "INTERVAL 10000 YEAR FOLLOWING) FROM te ORDER BY id",
      "1|11\n2|10\n3|3\n4|4\n5|8");
    Q(&c, "SELECT SUM(n) OVER (ORDER BY n RANGE INTERVAL 1 DAY PRECEDING) "
          "FROM te",
      "ERR 3589 Window '<unnamed window>' with RANGE frame has ORDER BY "
      "expression of numeric type, INTERVAL bound value not allowed.");
    Q(&c, "SELECT SUM(n) OVER (ORDER BY dt RANGE 1 PRECEDING) FROM te",
      "ERR 3588 Window '<unnamed window>' with RANGE frame has ORDER BY "
      "expression of datetime type. Only INTERVAL bound value allowed.");
    Q(&c, "SELECT SUM(n) OVER (ORDER BY dt ROWS INTERVAL 1 DAY PRECEDING) "
          "FROM te",
      "ERR 3596 Window '<unnamed window>': INTERVAL can only be used with "
      "RANGE frames.");
    Q(&c, "SELECT SUM(v) OVER (ORDER BY v RANGE -1 PRECEDING) FROM t",
      "ERR 3586 Window '<unnamed window>': frame start or end is negative, "
      "NULL or of non-integral type");
}

static void grouped(void **state)
{
    (void)state;
    Q(&c,
      "SELECT g, SUM(v), RANK() OVER (ORDER BY SUM(v) DESC) FROM t GROUP"
      " BY g ORDER BY g",
      "1|50|1\n"
      "2|5|3\n"
      "3|7|2");
    Q(&c,
      "SELECT g, SUM(SUM(v)) OVER (ORDER BY g) FROM t GROUP BY g ORDER"
      " BY g",
      "1|50\n"
      "2|55\n"
      "3|62");
    Q(&c,
      "SELECT DISTINCT g, COUNT(*) OVER (PARTITION BY g) FROM t ORDER BY"
      " g",
      "1|3\n"
      "2|2\n"
      "3|1");
    Q(&c,
      "SELECT x.id, ROW_NUMBER() OVER (ORDER BY y.id DESC) FROM t x JOIN"
      " t y ON x.id = y.g ORDER BY 1, 2",
      "1|4\n"
      "1|5\n"
      "1|6\n"
      "2|2\n"
      "2|3\n"
      "3|1");
    Q(&c,
      "SELECT id, (SELECT MAX(v) FROM t) - SUM(v) OVER (ORDER BY id)"
      " FROM t ORDER BY id",
      "1|10\n"
      "2|-10\n"
      "3|-30\n"
      "4|-35\n"
      "5|-35\n"
      "6|-42");
    Q(&c,
      "SELECT id, SUM(v) OVER (w ORDER BY id) FROM t WINDOW w AS"
      " (PARTITION BY g) ORDER BY id",
      "1|10\n"
      "2|30\n"
      "3|50\n"
      "4|5\n"
      "5|5\n"
      "6|7");
    Q(&c,
      "EXPLAIN SELECT id, ROW_NUMBER() OVER (ORDER BY v) FROM t",
      "Projection_1|root||id, ROW_NUMBER() OVER (ORDER BY v)\n"
      "└─Window_2|root||ROW_NUMBER() OVER (ORDER BY v)\n"
      "  └─TableFullScan_3|root|table:t|keep order:false");
}

static void errors(void **state)
{
    (void)state;
    Q(&c,
      "SELECT id FROM t WHERE ROW_NUMBER() OVER () > 1",
      "ERR 3593 You cannot use the window function 'row_number' in this"
      " context.'");
    Q(&c,
      "SELECT id FROM t GROUP BY ROW_NUMBER() OVER ()",
      "ERR 3593 You cannot use the window function 'row_number' in this"
      " context.'");
    Q(&c,
      "SELECT g, COUNT(*) FROM t GROUP BY g HAVING ROW_NUMBER() OVER ()"
      " > 0",
      "ERR 3593 You cannot use the window function 'row_number' in this"
      " context.'");
    Q(&c,
      "SELECT id, SUM(ROW_NUMBER() OVER ()) OVER () FROM t",
      "ERR 3593 You cannot use the window function 'row_number' in this"
      " context.'");
    Q(&c,
      "SELECT id, ROW_NUMBER() OVER w2 FROM t",
      "ERR 3579 Window name 'w2' is not defined.");
    Q(&c,
      "SELECT id, SUM(v) OVER w FROM t WINDOW w AS (PARTITION BY g), w"
      " AS (ORDER BY id)",
      "ERR 3591 Window 'w' is defined twice.");
    Q(&c,
      "SELECT id, SUM(v) OVER (w PARTITION BY g) FROM t WINDOW w AS"
      " (ORDER BY id)",
      "ERR 3581 A window which depends on another cannot define"
      " partitioning.");
    Q(&c,
      "SELECT id, SUM(v) OVER (w ORDER BY id) FROM t WINDOW w AS (ORDER"
      " BY g)",
      "ERR 3583 Window '<unnamed window>' cannot inherit 'w' since both"
      " contain an ORDER BY clause.");
    Q(&c,
      "SELECT id, SUM(v) OVER (w ORDER BY id) FROM t WINDOW w AS"
      " (PARTITION BY g ROWS UNBOUNDED PRECEDING)",
      "ERR 3582 Window 'w' has a frame definition, so cannot be"
      " referenced by another window.");
    Q(&c,
      "SELECT id, SUM(v) OVER (ROWS BETWEEN UNBOUNDED FOLLOWING AND"
      " CURRENT ROW) FROM t",
      "ERR 3584 Window '<unnamed window>': frame start cannot be"
      " UNBOUNDED FOLLOWING.");
    Q(&c,
      "SELECT id, SUM(v) OVER (ROWS BETWEEN CURRENT ROW AND UNBOUNDED"
      " PRECEDING) FROM t",
      "ERR 3585 Window '<unnamed window>': frame end cannot be UNBOUNDED"
      " PRECEDING.");
    Q(&c,
      "SELECT id, NTILE(0) OVER () FROM t",
      "ERR 1210 Incorrect arguments to ntile");
    Q(&c,
      "SELECT id, NTILE(v) OVER () FROM t",
      "ERR 1210 Incorrect arguments to ntile");
    Q(&c,
      "SELECT id, LAG(v, -1) OVER () FROM t",
      "ERR 1210 Incorrect arguments to lag");
    Q(&c,
      "SELECT id, SUM(v) OVER (ORDER BY s RANGE 1 PRECEDING) FROM t",
      "ERR 3587 Window '<unnamed window>' with RANGE N"
      " PRECEDING/FOLLOWING frame requires exactly one ORDER BY"
      " expression, of numeric or temporal type");
    Q(&c,
      "SELECT id, SUM(v) OVER (ORDER BY v ROWS v PRECEDING) FROM t",
      "ERR 3590 Window '<unnamed window>' has a non-constant frame bound.");
    Q(&c,
      "SELECT ROW_NUMBER() FROM t",
      "ERR 1064 You have an error in your SQL syntax; check the manual"
      " that corresponds to your MySQL server version for the right"
      " syntax to use near 'FROM t' at line 1");
    Q(&c,
      "SELECT ABS(v) OVER () FROM t",
      "ERR 1064 You have an error in your SQL syntax; check the manual"
      " that corresponds to your MySQL server version for the right"
      " syntax to use near 'OVER () FROM t' at line 1");
    Q(&c,
      "SELECT SUM(DISTINCT v) OVER () FROM t",
      "ERR 1235 This version of MySQL doesn't yet support '<window"
      " function>(DISTINCT ..)'");
    Q(&c,
      "SELECT id, SUM(v) OVER (ORDER BY id GROUPS 1 PRECEDING) FROM t",
      "ERR 1235 This version of MySQL doesn't yet support 'GROUPS frames'");
    Q(&c,
      "SELECT id, RANK(v) OVER () FROM t",
      "ERR 1582 Incorrect parameter count in the call to native function"
      " 'RANK'");
}
/* A prepared statement runs its window again with new parameters. */
static void prepared(void **state)
{
    (void)state;
    unsigned np, nc;
    int id = sqlfx_prepare(&c,
                           "SELECT id, LAG(v, ?) OVER (ORDER BY id) FROM t "
                           "WHERE id <= ? ORDER BY id",
                           &np, &nc);
    assert_true(id > 0);
    assert_int_equal(np, 2);
    const char *p1[] = {"1", "3"};
    assert_string_equal(sqlfx_execute(&c, id, 2, p1),
                        "1|NULL\n2|10\n3|20");
    const char *p2[] = {"2", "3"};
    assert_string_equal(sqlfx_execute(&c, id, 2, p2),
                        "1|NULL\n2|NULL\n3|10");
    sqlfx_close_stmt(&c, id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ranking),    cmocka_unit_test(values),
        cmocka_unit_test(aggregates), cmocka_unit_test(grouped),
        cmocka_unit_test(errors),     cmocka_unit_test(prepared),
        cmocka_unit_test(range_offsets),
    };
    return cmocka_run_group_tests_name("libsql/window", tests, setup,
                                       teardown);
}

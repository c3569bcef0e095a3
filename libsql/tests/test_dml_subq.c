/* test_dml_subq.c: subqueries in INSERT, UPDATE and DELETE (issue 8;
 * DESIGN.md "Subqueries"), uncorrelated and correlated, single- and
 * multi-table, the target table read in its own subquery. Every answer
 * was first taken from MariaDB 10.11 on this machine (rows, affected
 * counts, error codes). Run through the protocol engine on the
 * in-memory store.
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

/* t and u afresh: t (id, c, k) 4 rows, one c NULL; u (id, x, k) 3 rows,
 * one x NULL. */
static void tables(void)
{
    (void)sqlfx_q(&c, "DROP TABLE IF EXISTS t, u");
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, c INT, k INT)", "OK 0 0 0");
    Q(&c, "CREATE TABLE u (id INT PRIMARY KEY, x INT, k INT)", "OK 0 0 0");
    Q(&c, "INSERT INTO t VALUES (1,10,1),(2,20,2),(3,30,3),(4,NULL,4)",
      "OK 4 0 0");
    Q(&c, "INSERT INTO u VALUES (1,100,1),(2,200,1),(3,NULL,3)", "OK 3 0 0");
}

static int setup(void **state)
{
    (void)state;
    sqlfx_open_db(&f, &c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

static int each(void **state)
{
    (void)state;
    tables();
    return 0;
}

/* SET c = (subquery), correlated or not; the target table in its own
 * subquery reads the rows as they were before the statement. */
static void update_set(void **state)
{
    (void)state;
    Q(&c, "UPDATE t SET c = (SELECT MAX(x) FROM u WHERE u.id = t.id)",
      "OK 3 0 0");
    Q(&c, "SELECT * FROM t ORDER BY id",
      "1|100|1\n2|200|2\n3|NULL|3\n4|NULL|4");
    Q(&c, "UPDATE t SET c = (SELECT MAX(c) FROM t AS t2 WHERE t2.id < t.id) "
          "+ 1",
      "OK 4 0 0");
    Q(&c, "SELECT c FROM t ORDER BY id", "NULL\n101\n201\n201");
    Q(&c, "UPDATE t SET c = (SELECT SUM(c) FROM t)", "OK 4 0 0");
    Q(&c, "SELECT c FROM t ORDER BY id", "503\n503\n503\n503");
    Q(&c, "UPDATE t SET c = id", "OK 4 0 0");
    Q(&c, "UPDATE t SET c = (SELECT SUM(c) FROM t t2 WHERE t2.id <= t.id)",
      "OK 3 0 0");
    Q(&c, "SELECT c FROM t ORDER BY id", "1\n3\n6\n10");
    /* Left to right: the second value reads the first's new c. */
    Q(&c, "UPDATE t SET c = id, k = (SELECT COUNT(*) FROM u WHERE u.id <= "
          "t.c)",
      "OK 3 0 0");
    Q(&c, "SELECT k FROM t ORDER BY id", "1\n2\n3\n3");
    Q(&c, "UPDATE t SET c = (SELECT c FROM t AS t5 WHERE t5.id = t.id + 1) "
          "ORDER BY id DESC LIMIT 2",
      "OK 2 0 0");
    Q(&c, "SELECT c FROM t ORDER BY id", "1\n2\n4\nNULL");
}

/* WHERE and ORDER BY with subqueries: IN, NOT IN and ANY/ALL with their
 * NULL semantics, EXISTS, a scalar of the target table. */
static void update_where(void **state)
{
    (void)state;
    Q(&c, "UPDATE t SET c = c + 1 WHERE c = (SELECT MAX(c) FROM t)",
      "OK 1 0 0");
    Q(&c, "SELECT c FROM t ORDER BY id", "10\n20\n31\nNULL");
    /* u.x holds a NULL: NOT IN is NULL for every k, no row. */
    Q(&c, "UPDATE t SET c = 7 WHERE k NOT IN (SELECT x FROM u)", "OK 0 0 0");
    Q(&c, "UPDATE t SET c = 7 WHERE k NOT IN (SELECT x FROM u WHERE x IS "
          "NOT NULL)",
      "OK 4 0 0");
    Q(&c, "UPDATE t SET c = 8 WHERE k > ALL (SELECT k FROM u)", "OK 1 0 0");
    Q(&c, "UPDATE t SET c = 9 WHERE EXISTS (SELECT 1 FROM u WHERE u.k = "
          "t.k)",
      "OK 2 0 0");
    Q(&c, "UPDATE t SET c = 6 WHERE k IN (SELECT k FROM u WHERE u.x > 150) "
          "OR id = 4",
      "OK 2 0 0");
    Q(&c, "SELECT c FROM t ORDER BY id", "6\n7\n9\n6");
    Q(&c, "UPDATE t SET c = 5 WHERE k = ANY (SELECT id FROM u WHERE x IS "
          "NULL)",
      "OK 1 0 0");
    Q(&c, "SELECT id FROM t WHERE c = 5", "3");
}

static void delete_where(void **state)
{
    (void)state;
    Q(&c, "UPDATE t SET c = id", "OK 4 0 0");
    Q(&c, "UPDATE t SET c = 5 WHERE id = 4", "OK 1 0 0");
    Q(&c, "DELETE FROM t WHERE c > (SELECT AVG(c) FROM t)", "OK 2 0 0");
    Q(&c, "SELECT id FROM t ORDER BY id", "1\n2");
    Q(&c, "INSERT INTO t VALUES (3, 3, 3), (4, 5, 4)", "OK 2 0 0");
    Q(&c, "DELETE FROM t WHERE c > (SELECT AVG(c) FROM t) LIMIT 1",
      "OK 1 0 0");
    Q(&c, "DELETE FROM t WHERE c > (SELECT AVG(c) FROM t) ORDER BY id LIMIT "
          "1",
      "OK 1 0 0");
    Q(&c, "SELECT id FROM t ORDER BY id", "1\n2");
    Q(&c, "DELETE FROM t WHERE id IN (SELECT x FROM u)", "OK 0 0 0");
    Q(&c, "DELETE FROM t WHERE id = (SELECT id FROM u WHERE id > 100)",
      "OK 0 0 0");
    Q(&c, "INSERT INTO t VALUES (3, 3, 3), (4, 5, 4)", "OK 2 0 0");
    Q(&c, "DELETE FROM t WHERE id = ANY (SELECT id FROM u WHERE x IS NOT "
          "NULL) LIMIT 1",
      "OK 1 0 0");
    Q(&c, "SELECT id FROM t ORDER BY id", "2\n3\n4");
    Q(&c, "DELETE FROM t WHERE NOT EXISTS (SELECT * FROM u WHERE u.id = "
          "t.id)",
      "OK 1 0 0");
    Q(&c, "DELETE FROM t ORDER BY (SELECT x FROM u WHERE u.id = t.id) DESC, "
          "id LIMIT 1",
      "OK 1 0 0");
    Q(&c, "SELECT id FROM t ORDER BY id", "3");
}

/* VALUES and SET rows with subqueries read the table as it was before
 * the statement: the second row's MAX(id) is not the first row's. */
static void insert_values(void **state)
{
    (void)state;
    Q(&c, "INSERT INTO t VALUES ((SELECT MAX(id) FROM t) + 1, 5, 5), "
          "((SELECT MAX(id) FROM t) + 2, 6, 6)",
      "OK 2 0 0");
    Q(&c, "SELECT id, c FROM t WHERE id > 4 ORDER BY id", "5|5\n6|6");
    Q(&c, "INSERT INTO t SET id = (SELECT MAX(id) + 10 FROM u), c = (SELECT "
          "COUNT(*) FROM t)",
      "OK 1 0 0");
    Q(&c, "SELECT id, c, k FROM t WHERE id = 13", "13|6|NULL");
    /* Inside the subquery, id is u's own. */
    Q(&c, "INSERT INTO t (id, c) VALUES (101, (SELECT x FROM u WHERE u.id "
          "= id))",
      "ERR 1242 Subquery returns more than 1 row");
    Q(&c, "INSERT INTO t VALUES (1, 0, 0) ON DUPLICATE KEY UPDATE c = "
          "(SELECT MAX(x) FROM u)",
      "OK 2 0 0");
    Q(&c, "INSERT INTO t VALUES (2, 0, 0) ON DUPLICATE KEY UPDATE c = "
          "(SELECT MAX(x) FROM u WHERE u.k = t.k)",
      "OK 2 0 0");
    Q(&c, "SELECT c FROM t WHERE id <= 2 ORDER BY id", "200\nNULL");
}

/* Multi-table UPDATE and DELETE: subqueries in SET and WHERE. */
static void multi_table(void **state)
{
    (void)state;
    Q(&c, "UPDATE t JOIN u ON t.id = u.id SET t.c = (SELECT COUNT(*) FROM u "
          "AS u3 WHERE u3.x > u.x)",
      "OK 3 0 0");
    Q(&c, "SELECT c FROM t ORDER BY id", "1\n0\n0\nNULL");
    Q(&c, "UPDATE t JOIN u ON t.id = u.id SET t.c = 5 WHERE t.k IN (SELECT "
          "k FROM t AS t4 WHERE t4.c = 1)",
      "OK 1 0 0");
    Q(&c, "UPDATE t JOIN u ON t.id = u.id SET u.x = 5 WHERE t.k IN (SELECT "
          "k FROM t AS t4 WHERE t4.c = 1)",
      "OK 0 0 0");
    Q(&c, "DELETE u FROM t JOIN u ON t.id = u.id WHERE t.c IN (SELECT c "
          "FROM t WHERE c = 5)",
      "OK 1 0 0");
    Q(&c, "SELECT id FROM u ORDER BY id", "2\n3");
}

/* A statement reading its own table in a subquery is MariaDB's
 * multi-table UPDATE: every value reads the row as it was, not the
 * assignments before it, and the WHERE's warnings are strict mode's
 * errors even under ORDER BY. Reading another table changes neither. */
static void self_read_is_multi_table(void **state)
{
    (void)state;
    Q(&c, "UPDATE t SET c = c + 100, k = c", "OK 4 0 0");
    Q(&c, "SELECT c, k FROM t ORDER BY id",
      "110|110\n120|120\n130|130\nNULL|NULL");
    Q(&c, "UPDATE t SET c = c + 100, k = c + (SELECT 0 FROM u LIMIT 1)",
      "OK 3 0 0");
    Q(&c, "SELECT c, k FROM t ORDER BY id",
      "210|210\n220|220\n230|230\nNULL|NULL");
    Q(&c, "UPDATE t SET c = c + 100, k = c + (SELECT COUNT(*) * 0 FROM t "
          "t2)",
      "OK 3 0 0");
    Q(&c, "SELECT c, k FROM t ORDER BY id",
      "310|210\n320|220\n330|230\nNULL|NULL");
    Q(&c, "UPDATE t SET c = c + 100, k = c + 0 WHERE id IN (SELECT id FROM "
          "t t3)",
      "OK 3 0 0");
    Q(&c, "SELECT c, k FROM t ORDER BY id",
      "410|310\n420|320\n430|330\nNULL|NULL");
    Q(&c, "UPDATE t SET k = 0 WHERE id = 2", "OK 1 0 0");
    Q(&c, "UPDATE t SET c = 1 WHERE c >= (100 DIV k) ORDER BY id",
      "OK 2 0 1");
    Q(&c, "UPDATE t SET c = 2 WHERE c >= (100 DIV k) AND id IN (SELECT id "
          "FROM t t3) ORDER BY id",
      "ERR 1365 Division by 0");
    Q(&c, "UPDATE t SET c = 2 WHERE c >= (100 DIV k) AND id IN (SELECT id "
          "FROM u) ORDER BY id",
      "OK 2 0 1");
    Q(&c, "DELETE t FROM t JOIN u ON t.id = u.id WHERE t.k IN (SELECT k "
          "FROM t AS t4 WHERE t4.c = 0)",
      "ERR 1093 Table 't' is specified twice, both as a target for "
      "'DELETE' and as a separate source for data");
}

/* SET @v = (subquery), and a system variable so. */
static void set_variable(void **state)
{
    (void)state;
    Q(&c, "SET @x = (SELECT MAX(id) FROM t)", "OK 0 0 0");
    Q(&c, "SET @y = (SELECT x FROM u WHERE id = 9), @z = (SELECT COUNT(*) "
          "FROM u)",
      "OK 0 0 0");
    Q(&c, "SELECT @x, @y, @z", "4|NULL|3");
    Q(&c, "SET @x = (SELECT id FROM u)",
      "ERR 1242 Subquery returns more than 1 row");
    Q(&c, "SET @w = (SELECT id, x FROM u LIMIT 1)",
      "ERR 1241 Operand should contain 1 column(s)");
    Q(&c, "SET SESSION sql_mode = (SELECT @@sql_mode)", "OK 0 0 0");
}

/* DO: an error while evaluating is a warning of level Error (MariaDB),
 * the next expression runs; a name or shape error is the statement's. */
static void do_statement(void **state)
{
    (void)state;
    Q(&c, "DO (SELECT MAX(id) FROM u)", "OK 0 0 0");
    Q(&c, "DO 9223372036854775807 + 1", "OK 0 0 1");
    Q(&c, "DO (SELECT id FROM u), 9223372036854775807 + 1", "OK 0 0 2");
    Q(&c, "SHOW WARNINGS",
      "Error|1242|Subquery returns more than 1 row\n"
      "Error|1690|BIGINT value is out of range in '(9223372036854775807 + "
      "1)'");
    Q(&c, "DO (SELECT nosuch FROM u)",
      "ERR 1054 Unknown column 'nosuch' in 'field list'");
    Q(&c, "DO (SELECT id, x FROM u LIMIT 1)",
      "ERR 1241 Operand should contain 1 column(s)");
}

/* Bad input: clear errors, nothing written. */
static void errors(void **state)
{
    (void)state;
    Q(&c, "UPDATE t SET c = (SELECT id FROM u)",
      "ERR 1242 Subquery returns more than 1 row");
    Q(&c, "UPDATE t SET c = (SELECT id, x FROM u LIMIT 1)",
      "ERR 1241 Operand should contain 1 column(s)");
    Q(&c, "UPDATE t SET c = (SELECT nosuch FROM u LIMIT 1)",
      "ERR 1054 Unknown column 'nosuch' in 'field list'");
    Q(&c, "DELETE FROM t WHERE id = (SELECT id FROM u)",
      "ERR 1242 Subquery returns more than 1 row");
    Q(&c, "DELETE FROM t WHERE c IN (SELECT id, x FROM u)",
      "ERR 1241 Operand should contain 1 column(s)");
    Q(&c, "INSERT INTO t VALUES ((SELECT id FROM u), 1, 1)",
      "ERR 1242 Subquery returns more than 1 row");
    Q(&c, "INSERT INTO t VALUES (100, (SELECT id, x FROM u LIMIT 1), 1)",
      "ERR 1241 Operand should contain 1 column(s)");
    Q(&c, "SELECT * FROM t ORDER BY id",
      "1|10|1\n2|20|2\n3|30|3\n4|NULL|4");
}

/* An uncorrelated subquery runs at its first evaluation, after every
 * name of the statement was resolved (MariaDB's order; FINDINGS.md
 * "Left", session 12): a wrong name is 1054 before the subquery's own
 * 1690 or 1242, and a subquery no row reaches never runs. */
static void runs_after_names(void **state)
{
    (void)state;
    Q(&c, "SELECT (SELECT 9223372036854775807 + id FROM t), nosuch FROM t",
      "ERR 1054 Unknown column 'nosuch' in 'field list'");
    Q(&c, "SELECT (SELECT 9223372036854775807 + id FROM t LIMIT 1) FROM t",
      "ERR 1690 BIGINT value is out of range in '(9223372036854775807 + "
      "id)'");
    Q(&c, "SELECT (SELECT 9223372036854775807 + id FROM t LIMIT 1) FROM t "
          "WHERE id > 100",
      "");
    Q(&c, "SELECT id FROM t WHERE id > 100 AND c < (SELECT "
          "9223372036854775807 + id FROM u LIMIT 1)",
      "");
    Q(&c, "SELECT id FROM t WHERE c < (SELECT 9223372036854775807 + id FROM "
          "u LIMIT 1) AND nosuch = 1",
      "ERR 1054 Unknown column 'nosuch' in 'where clause'");
    Q(&c, "SELECT id FROM t WHERE id IN (SELECT 9223372036854775807 + id "
          "FROM u) OR nosuch = 1",
      "ERR 1054 Unknown column 'nosuch' in 'where clause'");
    Q(&c, "SELECT (SELECT id FROM u), nosuch FROM t",
      "ERR 1054 Unknown column 'nosuch' in 'field list'");
    Q(&c, "SELECT (SELECT id FROM u) FROM t WHERE id > 100", "");
    Q(&c, "SELECT id FROM t WHERE c > ALL (SELECT 9223372036854775807 + id "
          "FROM u) ORDER BY nosuch",
      "ERR 1054 Unknown column 'nosuch' in 'order clause'");
    Q(&c, "SELECT id, (SELECT id FROM u LIMIT 1) FROM t GROUP BY id HAVING "
          "nosuch > 0",
      "ERR 1054 Unknown column 'nosuch' in 'having clause'");
    Q(&c, "UPDATE t SET c = (SELECT 9223372036854775807 + id FROM u LIMIT "
          "1), k = nosuch",
      "ERR 1054 Unknown column 'nosuch' in 'field list'");
    Q(&c, "UPDATE t SET c = (SELECT 9223372036854775807 + id FROM u LIMIT "
          "1) WHERE id > 100",
      "OK 0 0 0");
    Q(&c, "DELETE FROM t WHERE id > 100 AND c = (SELECT id FROM u)",
      "OK 0 0 0");
    /* Once per statement, its value the same on every row. */
    Q(&c, "SELECT COUNT(*), (SELECT MAX(x) FROM u) FROM t", "4|200");
    Q(&c, "SELECT id FROM t WHERE id = (SELECT MAX(id) FROM u)", "3");
    Q(&c, "SELECT id, (SELECT x FROM u WHERE u.id = 2) + c FROM t ORDER BY "
          "(SELECT 1), id",
      "1|210\n2|220\n3|230\n4|NULL");
}

/* A prepared statement's uncorrelated subquery runs at every execution,
 * reading the rows as they are then. */
static void prepared_runs_each_time(void **state)
{
    (void)state;
    unsigned np, nc;
    int id = sqlfx_prepare(&c,
                           "SELECT id FROM t WHERE c >= (SELECT MAX(c) FROM "
                           "t) - ? ORDER BY id",
                           &np, &nc);
    assert_true(id >= 0);
    const char *zero[] = {"0"}, *twenty[] = {"20"};
    assert_string_equal(sqlfx_execute(&c, id, 1, zero), "3");
    Q(&c, "UPDATE t SET c = 40 WHERE id = 1", "OK 1 0 0");
    assert_string_equal(sqlfx_execute(&c, id, 1, zero), "1");
    assert_string_equal(sqlfx_execute(&c, id, 1, twenty), "1\n2\n3");
    sqlfx_close_stmt(&c, id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(update_set, each),
        cmocka_unit_test_setup(update_where, each),
        cmocka_unit_test_setup(delete_where, each),
        cmocka_unit_test_setup(insert_values, each),
        cmocka_unit_test_setup(multi_table, each),
        cmocka_unit_test_setup(self_read_is_multi_table, each),
        cmocka_unit_test_setup(set_variable, each),
        cmocka_unit_test_setup(do_statement, each),
        cmocka_unit_test_setup(errors, each),
        cmocka_unit_test_setup(runs_after_names, each),
        cmocka_unit_test_setup(prepared_runs_each_time, each),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

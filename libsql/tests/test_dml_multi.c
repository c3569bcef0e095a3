/* test_dml_multi.c: multi-table UPDATE and DELETE end to end on the
 * in-memory store: each target row written once however often the join
 * matches it, values read from the joined row as read, LEFT JOIN's NULL
 * rows left alone, secondary and unique indexes kept (1062, IGNORE), the
 * handle changing, affected-row counts, DELETE's three forms, and the
 * errors (1221 ORDER BY/LIMIT, 1109, 1288, 1054, 1052, 1048, 1235 for what
 * is not done) (DESIGN.md "Multi-table UPDATE and DELETE").
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
      "UNIQUE KEY ub (b), KEY ka (a))",
      "OK 0 0 0");
    Q(&c, "CREATE TABLE t2 (id INT PRIMARY KEY, t1id INT, c INT)",
      "OK 0 0 0");
    Q(&c, "CREATE TABLE np (x INT, y INT)", "OK 0 0 0");
    Q(&c,
      "INSERT INTO t1 VALUES (1, 10, 'one'), (2, 20, 'two'), "
      "(3, NULL, 'three'), (4, 10, 'four')",
      "OK 4 0 0");
    Q(&c,
      "INSERT INTO t2 VALUES (1, 1, 100), (2, 1, 200), (3, 2, 300), "
      "(4, 9, 400), (5, NULL, 500)",
      "OK 5 0 0");
    Q(&c, "INSERT INTO np VALUES (1, 1)", "OK 1 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

static void update_once(void **state)
{
    (void)state;
    Q(&c,
      "UPDATE t1 JOIN t2 ON t1.id = t2.t1id SET t1.a = t2.c",
      "OK 2 0 0");
    Q(&c,
      "SELECT * FROM t1 ORDER BY id",
      "1|100|one\n"
      "2|300|two\n"
      "3|NULL|three\n"
      "4|10|four");
    Q(&c,
      "SELECT id FROM t1 WHERE a = 100",
      "1");
    Q(&c,
      "SELECT id FROM t1 WHERE a = 10",
      "4");
    Q(&c,
      "UPDATE t1, t2 SET t1.a = t1.a + 1, t2.c = t1.a WHERE t1.id ="
      " t2.t1id",
      "OK 3 0 0");
    Q(&c,
      "SELECT * FROM t1 ORDER BY id",
      "1|101|one\n"
      "2|301|two\n"
      "3|NULL|three\n"
      "4|10|four");
    Q(&c,
      "SELECT * FROM t2 ORDER BY id",
      "1|1|100\n"
      "2|1|100\n"
      "3|2|300\n"
      "4|9|400\n"
      "5|NULL|500");
    Q(&c,
      "UPDATE t1 LEFT JOIN t2 ON t1.id = t2.t1id SET t1.a = 0, t2.c = 7"
      " WHERE t2.id IS NULL",
      "OK 2 0 0");
    Q(&c,
      "SELECT * FROM t1 ORDER BY id",
      "1|101|one\n"
      "2|301|two\n"
      "3|0|three\n"
      "4|0|four");
    Q(&c,
      "SELECT * FROM t2 ORDER BY id",
      "1|1|100\n"
      "2|1|100\n"
      "3|2|300\n"
      "4|9|400\n"
      "5|NULL|500");
    Q(&c,
      "UPDATE t1 JOIN t2 ON t1.id = t2.t1id SET t1.id = t1.id + 100,"
      " t1.b = CONCAT(t1.b, '!') WHERE t2.c > 250",
      "OK 1 0 0");
    Q(&c,
      "SELECT * FROM t1 ORDER BY id",
      "1|101|one\n"
      "3|0|three\n"
      "4|0|four\n"
      "102|301|two!");
    Q(&c,
      "SELECT id, b FROM t1 WHERE b = 'two!'",
      "102|two!");
    Q(&c,
      "SELECT id FROM t1 WHERE b = 'two'",
      "");
    Q(&c,
      "UPDATE t1 JOIN t2 ON t1.id = t2.t1id SET t1.a = t1.a WHERE t1.id"
      " = 1",
      "OK 0 0 0");
}

static void update_errors(void **state)
{
    (void)state;
    Q(&c,
      "UPDATE t1 JOIN t2 ON t1.id = t2.t1id SET t1.b = 'four' WHERE"
      " t1.id = 1",
      "ERR 1062 Duplicate entry 'four' for key 't1.ub'");
    Q(&c,
      "UPDATE IGNORE t1 JOIN t2 ON t1.id = t2.t1id SET t1.b = 'four'"
      " WHERE t1.id = 1",
      "OK 0 0 1");
    Q(&c,
      "SELECT b FROM t1 WHERE id = 1",
      "one");
    Q(&c,
      "UPDATE t1 JOIN t2 ON t1.id = t2.t1id SET t1.a = 5 ORDER BY t1.id",
      "ERR 1221 Incorrect usage of UPDATE and ORDER BY");
    Q(&c,
      "UPDATE t1 JOIN t2 ON t1.id = t2.t1id SET t1.a = 5 LIMIT 1",
      "ERR 1221 Incorrect usage of UPDATE and LIMIT");
    Q(&c,
      "UPDATE t1 JOIN t2 ON t1.id = t2.t1id SET nosuch = 1",
      "ERR 1054 Unknown column 'nosuch' in 'field list'");
    Q(&c,
      "UPDATE t1 JOIN t2 ON t1.id = t2.t1id SET id = 1",
      "ERR 1052 Column 'id' in field list is ambiguous");
    Q(&c,
      "UPDATE t1 JOIN t2 ON t1.id = t2.t1id SET t1.a = NULL, t2.id = NULL",
      "ERR 1048 Column 'id' cannot be null");
    Q(&c,
      "UPDATE np JOIN t1 ON np.x = t1.id SET np.y = 2",
      "ERR 1235 This version of sqld doesn't yet support 'multi-table"
      " UPDATE of a table without a primary key'");
    Q(&c,
      "UPDATE t1 JOIN (SELECT 4 AS k) dt ON t1.id = dt.k SET dt.k = 1",
      "ERR 1288 The target table dt of the UPDATE is not updatable");
    Q(&c,
      "UPDATE t1 a JOIN t1 b ON a.id = b.a SET a.a = 1, b.a = 2",
      "ERR 1235 This version of sqld doesn't yet support 'UPDATE of table"
      " t1 under two names'");
    Q(&c,
      "EXPLAIN UPDATE t1 JOIN t2 ON t1.id = t2.t1id SET t1.a = 1",
      "ERR 1235 This version of sqld doesn't yet support 'EXPLAIN of"
      " multi-table UPDATE/DELETE'");
}

static void deletes(void **state)
{
    (void)state;
    Q(&c,
      "DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.t1id WHERE t2.c > 250",
      "OK 0 0 0");
    Q(&c,
      "SELECT id FROM t1 ORDER BY id",
      "1\n"
      "3\n"
      "4\n"
      "102");
    Q(&c,
      "DELETE t1, t2 FROM t1 JOIN t2 ON t1.id = t2.t1id",
      "OK 3 0 0");
    Q(&c,
      "SELECT id FROM t1 ORDER BY id",
      "3\n"
      "4\n"
      "102");
    Q(&c,
      "SELECT id FROM t2 ORDER BY id",
      "3\n"
      "4\n"
      "5");
    Q(&c,
      "SELECT id FROM t1 WHERE b = 'one'",
      "");
    Q(&c,
      "DELETE FROM x USING t1 AS x, t2 WHERE x.id = 3",
      "OK 1 0 0");
    Q(&c,
      "DELETE FROM t2 USING t1, t2 WHERE t2.t1id IS NULL",
      "OK 1 0 0");
    Q(&c,
      "SELECT id FROM t1 ORDER BY id",
      "4\n"
      "102");
    Q(&c,
      "SELECT id FROM t2 ORDER BY id",
      "3\n"
      "4");
    Q(&c,
      "DELETE nosuch FROM t1 JOIN t2 ON t1.id = t2.t1id",
      "ERR 1109 Unknown table 'nosuch' in MULTI DELETE");
    Q(&c,
      "DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.t1id ORDER BY t1.id",
      "ERR 1221 Incorrect usage of DELETE and ORDER BY");
    Q(&c,
      "DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.t1id LIMIT 1",
      "ERR 1221 Incorrect usage of DELETE and LIMIT");
    Q(&c,
      "DELETE np FROM np JOIN t1 ON np.x = t1.id",
      "ERR 1235 This version of sqld doesn't yet support 'multi-table"
      " DELETE of a table without a primary key'");
    Q(&c,
      "DELETE dt FROM t1 JOIN (SELECT 1 AS k) dt ON t1.id = dt.k",
      "ERR 1288 The target table dt of the DELETE is not updatable");
    Q(&c,
      "DELETE t1.* FROM t1 WHERE id = 4",
      "OK 1 0 0");
    Q(&c,
      "SELECT id FROM t1 ORDER BY id",
      "102");
}
/* A target whose primary key is not an integer: its rows are found
 * through the primary key index, which moves with them. */
static void composite_key(void **state)
{
    (void)state;
    Q(&c,
      "CREATE TABLE k (a VARCHAR(5), b INT, v INT, PRIMARY KEY (a, b), "
      "KEY kv (v))",
      "OK 0 0 0");
    Q(&c, "CREATE TABLE t3 (id INT PRIMARY KEY, a VARCHAR(5), c INT)",
      "OK 0 0 0");
    Q(&c, "INSERT INTO k VALUES ('x', 1, 0), ('x', 2, 0), ('y', 1, 0)",
      "OK 3 0 0");
    Q(&c, "INSERT INTO t3 VALUES (1, 'x', 5), (2, 'x', 6), (3, 'z', 7)",
      "OK 3 0 0");
    Q(&c,
      "UPDATE k JOIN t3 ON k.a = t3.a SET k.v = t3.c, k.b = k.b + 10",
      "OK 2 0 0");
    Q(&c, "SELECT * FROM k ORDER BY a, b", "x|11|5\nx|12|5\ny|1|0");
    Q(&c, "SELECT a, b FROM k WHERE v = 5", "x|11\nx|12");
    Q(&c,
      "UPDATE k LEFT JOIN t3 ON k.a = t3.a SET k.v = 9 WHERE t3.id IS NULL",
      "OK 1 0 0");
    Q(&c, "DELETE k, t3 FROM k JOIN t3 ON k.a = t3.a WHERE k.b = 11",
      "OK 3 0 0");
    Q(&c, "SELECT * FROM k ORDER BY a, b", "x|12|5\ny|1|9");
    Q(&c, "SELECT id FROM t3", "3");
    Q(&c, "INSERT INTO k VALUES ('x', 11, 1)", "OK 1 0 0");
    Q(&c, "INSERT INTO k VALUES ('x', 12, 1)",
      "ERR 1062 Duplicate entry 'x-12' for key 'k.PRIMARY'");
}

int main(void)
{
    /* In order: each group goes on from the rows the one before left. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(update_once),
        cmocka_unit_test(update_errors),
        cmocka_unit_test(deletes),
        cmocka_unit_test(composite_key),
    };
    return cmocka_run_group_tests_name("libsql/dml_multi", tests, setup,
                                       teardown);
}

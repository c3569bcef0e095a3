/* test_exec.c: statements executed end to end on the in-memory store:
 * INSERT in its forms, unique checks, AUTO_INCREMENT, UPDATE, DELETE,
 * SELECT over every access path, transactions and conflicts between
 * sessions, statement atomicity, ALTER TABLE, data across a restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

static void insert_forms(void **state)
{
    (void)state;
    Q(&c,
      "CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(10) "
      "NOT NULL DEFAULT 'none', n INT, UNIQUE KEY un (name))",
      "OK 0 0 0");
    Q(&c, "INSERT INTO t (name, n) VALUES ('a', 1), ('b', 2)", "OK 2 1 0");
    Q(&c, "SELECT @@last_insert_id", "1");
    Q(&c, "INSERT INTO t (n) VALUES (3)", "OK 1 3 0");
    Q(&c, "INSERT INTO t SET name = 'c', n = 4", "OK 1 4 0");
    Q(&c, "INSERT INTO t VALUES (10, 'x', NULL)", "OK 1 0 0");
    Q(&c, "INSERT INTO t (name) VALUES ('after10')", "OK 1 11 0");
    Q(&c, "INSERT INTO t VALUES (0, 'zero', DEFAULT)", "OK 1 12 0");
    Q(&c, "SELECT * FROM t",
      "1|a|1\n2|b|2\n3|none|3\n4|c|4\n10|x|NULL\n11|after10|NULL\n"
      "12|zero|NULL");
    /* Unique keys: the primary key, then a case-insensitive unique one. */
    Q(&c, "INSERT INTO t VALUES (1, 'q', 0)",
      "ERR 1062 Duplicate entry '1' for key 't.PRIMARY'");
    Q(&c, "INSERT INTO t (name) VALUES ('A')",
      "ERR 1062 Duplicate entry 'A' for key 't.un'");
    Q(&c, "INSERT INTO t (name) VALUES ('p'), ('p')",
      "ERR 1062 Duplicate entry 'p' for key 't.un'");
    Q(&c, "SELECT id FROM t WHERE name = 'p'", "");
    Q(&c, "INSERT IGNORE INTO t (id, name) VALUES (1, 'q'), (20, 'r')",
      "OK 1 0 1");
    Q(&c, "SHOW WARNINGS",
      "Warning|1062|Duplicate entry '1' for key 't.PRIMARY'");
    Q(&c, "INSERT INTO t (name, n) VALUES ('a', 5) ON DUPLICATE KEY UPDATE "
          "n = n + VALUES(n)",
      "OK 2 1 0");
    Q(&c, "SELECT n FROM t WHERE name = 'a'", "6");
    Q(&c, "REPLACE INTO t VALUES (2, 'B2', 7)", "OK 2 0 0");
    Q(&c, "SELECT * FROM t WHERE id = 2", "2|B2|7");
    Q(&c, "INSERT INTO t (id, name) VALUES (30, NULL)",
      "ERR 1048 Column 'name' cannot be null");
    Q(&c, "INSERT INTO t (id, nosuch) VALUES (30, 1)",
      "ERR 1054 Unknown column 'nosuch' in 'field list'");
    Q(&c, "INSERT INTO t (id, name) VALUES (30)",
      "ERR 1136 Column count doesn't match value count at row 1");
    Q(&c, "CREATE TABLE t2 (id INT PRIMARY KEY, name VARCHAR(10))",
      "OK 0 0 0");
    Q(&c, "INSERT INTO t2 SELECT id, name FROM t WHERE id < 4", "OK 3 0 0");
    Q(&c, "SELECT * FROM t2", "1|a\n2|B2\n3|none");
}

static void select_paths(void **state)
{
    (void)state;
    Q(&c, "CREATE TABLE s (id BIGINT PRIMARY KEY, k INT, c CHAR(3), KEY (k))",
      "OK 0 0 0");
    Q(&c,
      "INSERT INTO s VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 10, 'c'), "
      "(4, NULL, 'd'), (5, 30, 'e'), (-1, 5, 'z')",
      "OK 6 0 0");
    Q(&c, "SELECT c FROM s WHERE id = 3", "c");
    Q(&c, "SELECT c FROM s WHERE id = 99", "");
    Q(&c, "SELECT c FROM s WHERE id IN (5, 1, 99, 1)", "a\ne");
    Q(&c, "SELECT id FROM s WHERE id BETWEEN 2 AND 4", "2\n3\n4");
    Q(&c, "SELECT id FROM s WHERE id > 3", "4\n5");
    Q(&c, "SELECT id FROM s WHERE id < 2", "-1\n1");
    Q(&c, "SELECT id FROM s WHERE k = 10", "1\n3");
    Q(&c, "SELECT id FROM s WHERE k >= 20", "2\n5");
    Q(&c, "SELECT id FROM s WHERE k < 20", "-1\n1\n3");
    Q(&c, "SELECT id FROM s WHERE k IS NULL", "4");
    Q(&c, "SELECT id FROM s WHERE k <=> NULL", "4");
    Q(&c, "SELECT id FROM s WHERE k <=> 20", "2");
    Q(&c, "SELECT id FROM s WHERE k = NULL", "");
    Q(&c, "CREATE TABLE un (id INT PRIMARY KEY, u INT, UNIQUE KEY (u))",
      "OK 0 0 0");
    Q(&c, "INSERT INTO un VALUES (1, NULL), (2, NULL), (3, 5)", "OK 3 0 0");
    Q(&c, "SELECT id FROM un WHERE u IS NULL", "1\n2");
    Q(&c, "SELECT id FROM un WHERE u <=> NULL", "1\n2");
    Q(&c, "SELECT id FROM un WHERE u <=> 5", "3");
    Q(&c, "SELECT id FROM s WHERE c = 'B'", "2");
    Q(&c, "SELECT id FROM s ORDER BY id DESC LIMIT 2", "5\n4");
    Q(&c, "SELECT id, k FROM s ORDER BY k DESC, id LIMIT 3 OFFSET 1",
      "2|20\n1|10\n3|10");
    Q(&c, "SELECT DISTINCT k FROM s WHERE k > 5 ORDER BY k", "10\n20\n30");
    Q(&c, "SELECT id AS x FROM s ORDER BY x DESC LIMIT 1", "5");
    Q(&c, "SELECT id FROM s ORDER BY 1 LIMIT 1", "-1");
    Q(&c, "SELECT k + 1, c FROM s WHERE id = 1", "11|a");
    Q(&c, "SELECT * FROM s WHERE id = '2'", "2|20|b");
    Q(&c, "SELECT id FROM s WHERE k = 10.5", "");
    Q(&c, "SELECT nosuch FROM s",
      "ERR 1054 Unknown column 'nosuch' in 'field list'");
    Q(&c, "SELECT * FROM nosuch", "ERR 1146 Table 'd.nosuch' doesn't exist");
    Q(&c, "SELECT id FROM s WHERE nosuch = 1",
      "ERR 1054 Unknown column 'nosuch' in 'where clause'");
    Q(&c, "SELECT id FROM s ORDER BY nosuch",
      "ERR 1054 Unknown column 'nosuch' in 'order clause'");
    Q(&c, "SELECT id FROM s UNION SELECT id FROM s ORDER BY id",
      "-1\n1\n2\n3\n4\n5"); /* test_setop.c has the rest */
    Q(&c, "SELECT 1 + 1, 'x', NULL", "2|x|NULL");
    /* Each matching row once, however often the IN list names its key. */
    Q(&c, "SELECT id FROM s WHERE id IN (2, 2, 1)", "1\n2");
    Q(&c, "SELECT id FROM s WHERE k IN (10, 10)", "1\n3");
    Q(&c, "CREATE TABLE ci (c CHAR(3) PRIMARY KEY, n INT)", "OK 0 0 0");
    Q(&c, "INSERT INTO ci VALUES ('a', 1), ('b', 2)", "OK 2 0 0");
    Q(&c, "SELECT n FROM ci WHERE c IN ('a', 'A', 'a ', 'b')", "1\n2");
    Q(&c, "DELETE FROM ci WHERE c IN ('A', 'a')", "OK 1 0 0");
    /* Without an integer primary key rows still come in key order. */
    Q(&c, "INSERT INTO ci VALUES ('c', 3), ('a', 1)", "OK 2 0 0");
    Q(&c, "SELECT c FROM ci", "a\nb\nc");
    Q(&c, "UPDATE ci SET n = 0 LIMIT 1", "OK 1 0 0");
    Q(&c, "SELECT c, n FROM ci WHERE n = 0", "a|0");
    /* The select list is not computed for rows past LIMIT/OFFSET. */
    Q(&c, "SELECT 9223372036854775807 + id FROM s ORDER BY id LIMIT 1",
      "9223372036854775806");
    Q(&c, "SELECT 9223372036854775807 + id FROM s LIMIT 0", "");
}

static void update_and_delete(void **state)
{
    (void)state;
    Q(&c, "CREATE TABLE u (id INT PRIMARY KEY, k INT, v VARCHAR(5), "
          "UNIQUE KEY (v))",
      "OK 0 0 0");
    Q(&c, "INSERT INTO u VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c')",
      "OK 3 0 0");
    Q(&c, "UPDATE u SET k = k * 10 WHERE id >= 2", "OK 2 0 0");
    Q(&c, "SELECT k FROM u", "1\n20\n30");
    Q(&c, "UPDATE u SET k = 1 WHERE id = 1", "OK 0 0 0");
    Q(&c, "UPDATE u SET v = 'a' WHERE id = 2",
      "ERR 1062 Duplicate entry 'a' for key 'u.v'");
    Q(&c, "UPDATE u SET k = k + 1, v = k ORDER BY id DESC LIMIT 1",
      "OK 1 0 0");
    Q(&c, "SELECT * FROM u WHERE id = 3", "3|31|31");
    Q(&c, "UPDATE u SET id = id + 10 WHERE id = 1", "OK 1 0 0");
    Q(&c, "SELECT id, v FROM u WHERE v = 'a'", "11|a");
    Q(&c, "UPDATE u SET id = 2 WHERE id = 11",
      "ERR 1062 Duplicate entry '2' for key 'u.PRIMARY'");
    Q(&c, "DELETE FROM u WHERE k > 100", "OK 0 0 0");
    Q(&c, "DELETE FROM u ORDER BY id LIMIT 1", "OK 1 0 0");
    Q(&c, "SELECT id FROM u", "3\n11");
    Q(&c, "INSERT INTO u VALUES (4, 4, 'b')", "OK 1 0 0");
    Q(&c, "DELETE FROM u", "OK 3 0 0");
    Q(&c, "SELECT * FROM u", "");
}

static void transactions(void **state)
{
    (void)state;
    struct sqlfx_conn c2;
    sqlfx_connect(&f, &c2, 2);
    Q(&c2, "USE d", "OK 0 0 0");
    Q(&c, "CREATE TABLE a (id INT PRIMARY KEY, n INT)", "OK 0 0 0");
    Q(&c, "INSERT INTO a VALUES (1, 0), (2, 0)", "OK 2 0 0");
    Q(&c, "BEGIN", "OK 0 0 0");
    Q(&c, "UPDATE a SET n = 1 WHERE id = 1", "OK 1 0 0");
    Q(&c2, "SELECT n FROM a WHERE id = 1", "0");
    Q(&c, "ROLLBACK", "OK 0 0 0");
    Q(&c, "SELECT n FROM a WHERE id = 1", "0");
    /* Statement atomicity: the failing statement leaves nothing. */
    Q(&c, "BEGIN", "OK 0 0 0");
    Q(&c, "INSERT INTO a VALUES (3, 3)", "OK 1 0 0");
    Q(&c, "INSERT INTO a VALUES (4, 4), (1, 1)",
      "ERR 1062 Duplicate entry '1' for key 'a.PRIMARY'");
    Q(&c, "COMMIT", "OK 0 0 0");
    Q(&c, "SELECT id FROM a", "1\n2\n3");
    /* Write conflict: the later commit fails, nothing of it is applied. */
    Q(&c, "BEGIN", "OK 0 0 0");
    Q(&c2, "BEGIN", "OK 0 0 0");
    Q(&c, "UPDATE a SET n = n + 1 WHERE id = 2", "OK 1 0 0");
    Q(&c2, "UPDATE a SET n = n + 10 WHERE id = 2", "OK 1 0 0");
    Q(&c, "COMMIT", "OK 0 0 0");
    Q(&c2, "COMMIT",
      "ERR 1213 Deadlock found when trying to get lock; try restarting "
      "transaction");
    Q(&c2, "SELECT n FROM a WHERE id = 2", "1");
    /* SELECT ... FOR UPDATE takes locks another one cannot. */
    Q(&c, "BEGIN", "OK 0 0 0");
    Q(&c, "SELECT n FROM a WHERE id = 2 FOR UPDATE", "1");
    Q(&c2, "BEGIN", "OK 0 0 0");
    Q(&c2, "SELECT n FROM a WHERE id = 2 FOR UPDATE",
      "ERR 1205 Lock wait timeout exceeded; try restarting transaction");
    Q(&c2, "SELECT n FROM a WHERE id = 2", "1");
    Q(&c, "UPDATE a SET n = 5 WHERE id = 2", "OK 1 0 0");
    Q(&c, "COMMIT", "OK 0 0 0");
    Q(&c2, "SELECT n FROM a WHERE id = 2 FOR UPDATE", "5");
    Q(&c2, "ROLLBACK", "OK 0 0 0");
    /* Pessimistic: the second writer is refused at once (1205), and one
     * that read an older snapshot updates the latest value (a current
     * read), so no update is lost and its commit succeeds. */
    Q(&c, "SET txn_mode = 'PESSIMISTIC'", "OK 0 0 0");
    Q(&c2, "SET txn_mode = 'PESSIMISTIC'", "OK 0 0 0");
    Q(&c2, "BEGIN", "OK 0 0 0");
    Q(&c2, "SELECT n FROM a WHERE id = 2", "5"); /* its snapshot */
    Q(&c, "BEGIN", "OK 0 0 0");
    Q(&c, "UPDATE a SET n = n + 1 WHERE id = 2", "OK 1 0 0");
    Q(&c2, "UPDATE a SET n = n + 10 WHERE id = 2",
      "ERR 1205 Lock wait timeout exceeded; try restarting transaction");
    Q(&c, "COMMIT", "OK 0 0 0");
    Q(&c2, "BEGIN", "OK 0 0 0");
    Q(&c2, "SELECT n FROM a WHERE id = 2", "6");
    Q(&c, "UPDATE a SET n = 100 WHERE id = 2", "OK 1 0 0"); /* autocommit */
    Q(&c2, "UPDATE a SET n = n + 10 WHERE id = 2", "OK 1 0 0");
    Q(&c2, "COMMIT", "OK 0 0 0");
    Q(&c, "SELECT n FROM a WHERE id = 2", "110");
    Q(&c2, "BEGIN", "OK 0 0 0");
    Q(&c, "INSERT INTO a VALUES (9, 9)", "OK 1 0 0");
    Q(&c2, "INSERT INTO a VALUES (9, 10)",
      "ERR 1062 Duplicate entry '9' for key 'a.PRIMARY'");
    Q(&c2, "ROLLBACK", "OK 0 0 0");
    Q(&c, "DELETE FROM a WHERE id = 9", "OK 1 0 0");
    Q(&c, "SET txn_mode = DEFAULT", "OK 0 0 0");
    Q(&c2, "SET txn_mode = DEFAULT", "OK 0 0 0");
    Q(&c, "UPDATE a SET n = 5 WHERE id = 2", "OK 1 0 0");
    /* autocommit=0 keeps a transaction open across statements. */
    Q(&c2, "SET autocommit = 0", "OK 0 0 0");
    Q(&c2, "DELETE FROM a WHERE id = 3", "OK 1 0 0");
    Q(&c, "SELECT id FROM a", "1\n2\n3");
    Q(&c2, "COMMIT", "OK 0 0 0");
    Q(&c, "SELECT id FROM a", "1\n2");
    sqlfx_disconnect(&c2);
}

static void alter_table(void **state)
{
    (void)state;
    Q(&c, "CREATE TABLE al (id INT PRIMARY KEY, a INT)", "OK 0 0 0");
    Q(&c, "INSERT INTO al VALUES (1, 10), (2, 20), (3, 20)", "OK 3 0 0");
    Q(&c, "ALTER TABLE al ADD COLUMN b VARCHAR(5) NOT NULL DEFAULT 'x' "
          "AFTER id",
      "OK 0 0 0");
    Q(&c, "SELECT * FROM al WHERE id = 1", "1|x|10");
    Q(&c, "CREATE UNIQUE INDEX ua ON al (a)",
      "ERR 1062 Duplicate entry '20' for key 'al.ua'");
    Q(&c, "CREATE INDEX ia ON al (a)", "OK 0 0 0");
    Q(&c, "SELECT id FROM al WHERE a = 20", "2\n3");
    Q(&c, "ALTER TABLE al MODIFY a BIGINT NOT NULL", "OK 0 0 0");
    Q(&c, "SELECT id FROM al WHERE a = 20", "2\n3");
    Q(&c, "ALTER TABLE al DROP INDEX ia, DROP COLUMN b", "OK 0 0 0");
    Q(&c, "SELECT * FROM al WHERE a = 10", "1|10");
    Q(&c, "ALTER TABLE al RENAME TO al2", "OK 0 0 0");
    Q(&c, "SHOW CREATE TABLE al2",
      "al2|CREATE TABLE `al2` (\n"
      "  `id` int NOT NULL,\n"
      "  `a` bigint NOT NULL,\n"
      "  PRIMARY KEY (`id`)\n"
      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci");
    Q(&c, "DROP INDEX nosuch ON al2",
      "ERR 1091 Can't DROP 'nosuch'; check that column/key exists");
    Q(&c, "TRUNCATE al2", "OK 0 0 0");
    Q(&c, "SELECT * FROM al2", "");
}

static void aggregates(void **state)
{
    (void)state;
    Q(&c, "CREATE TABLE g (id INT PRIMARY KEY, cat VARCHAR(5), n INT, "
          "price DECIMAL(6,2))",
      "OK 0 0 0");
    Q(&c, "SELECT COUNT(*), SUM(n), MAX(n) FROM g", "0|NULL|NULL");
    Q(&c,
      "INSERT INTO g VALUES (1, 'a', 1, 1.50), (2, 'A', 2, 2.50), "
      "(3, 'b', NULL, 3.00), (4, 'b', 4, 4.25), (5, 'c', 4, NULL)",
      "OK 5 0 0");
    Q(&c, "SELECT COUNT(*), COUNT(n), COUNT(DISTINCT n), SUM(price) FROM g",
      "5|4|3|11.25");
    /* 'a' and 'A' are one group under the case-insensitive collation. */
    Q(&c, "SELECT cat, COUNT(*), SUM(n) FROM g GROUP BY cat ORDER BY cat",
      "a|2|3\nb|2|4\nc|1|4");
    Q(&c, "SELECT cat, COUNT(*) AS k FROM g GROUP BY cat HAVING k > 1 "
          "ORDER BY cat DESC",
      "b|2\na|2");
    Q(&c, "SELECT n, MIN(id) FROM g WHERE n IS NOT NULL GROUP BY 1 "
          "ORDER BY 2 DESC LIMIT 1",
      "4|4");
    Q(&c, "SELECT cat, n FROM g GROUP BY cat",
      "ERR 1055 Expression #2 of SELECT list is not in GROUP BY clause and "
      "contains nonaggregated column 'd.g.n' which is not functionally "
      "dependent on columns in GROUP BY clause; this is incompatible with "
      "sql_mode=only_full_group_by");
    Q(&c, "SELECT id, n FROM g GROUP BY id HAVING n > 3", "4|4\n5|4");
    Q(&c, "SELECT COUNT(*) FROM g WHERE SUM(n) > 1",
      "ERR 1111 Invalid use of group function");
    Q(&c, "SELECT MAX(price) - MIN(price) FROM g WHERE id <= 4", "2.75");
}

static void prepared_statements(void **state)
{
    (void)state;
    Q(&c, "CREATE TABLE ps (id BIGINT PRIMARY KEY, name VARCHAR(10), "
          "k INT, KEY (k))",
      "OK 0 0 0");
    unsigned np, nc;
    int ins = sqlfx_prepare(&c, "INSERT INTO ps VALUES (?, ?, ?)", &np, &nc);
    assert_true(ins >= 0);
    assert_int_equal(np, 3);
    assert_int_equal(nc, 0);
    const char *r1[] = {"1", "one", "10"}, *r2[] = {"2", "two", "NULL"},
               *r3[] = {"3", "three", "10"};
    assert_string_equal(sqlfx_execute(&c, ins, 3, r1), "OK 1 0");
    assert_string_equal(sqlfx_execute(&c, ins, 3, r2), "OK 1 0");
    assert_string_equal(sqlfx_execute(&c, ins, 3, r3), "OK 1 0");
    assert_string_equal(sqlfx_execute(&c, ins, 3, r1),
                        "ERR 1062 Duplicate entry '1' for key 'ps.PRIMARY'");
    int sel = sqlfx_prepare(&c, "SELECT id, name FROM ps WHERE id = ?", &np,
                            &nc);
    assert_true(sel >= 0);
    assert_int_equal(np, 1);
    assert_int_equal(nc, 2);
    const char *p2[] = {"2"}, *p9[] = {"9"};
    assert_string_equal(sqlfx_execute(&c, sel, 1, p2), "2|two");
    assert_string_equal(sqlfx_execute(&c, sel, 1, p9), "");
    int rng = sqlfx_prepare(&c, "SELECT id, k FROM ps WHERE k = ? ORDER BY "
                                "id DESC LIMIT ?",
                            &np, &nc);
    assert_true(rng >= 0);
    const char *pk[] = {"10", "5"}, *pk1[] = {"10", "1"};
    assert_string_equal(sqlfx_execute(&c, rng, 2, pk), "3|10\n1|10");
    assert_string_equal(sqlfx_execute(&c, rng, 2, pk1), "3|10");
    sqlfx_close_stmt(&c, sel);
    assert_string_equal(sqlfx_execute(&c, sel, 1, p2),
                        "ERR 1243 Unknown prepared statement handler (2) "
                        "given to mysqld_stmt_execute");
    assert_int_equal(sqlfx_prepare(&c, "SELECT nosuch FROM ps", &np, &nc),
                     -1);
    assert_string_equal(c.out,
                        "ERR 1054 Unknown column 'nosuch' in 'field list'");
}

static void data_survives_restart(void **state)
{
    (void)state;
    struct sqlfx g;
    struct sqlfx_conn k;
    sqlfx_open(&g, true);
    sqlfx_connect(&g, &k, 1);
    Q(&k, "CREATE DATABASE p", "OK 1 0 0");
    Q(&k, "CREATE TABLE p.t (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)",
      "OK 0 0 0");
    Q(&k, "INSERT INTO p.t (v) VALUES ('one'), ('two')", "OK 2 1 0");
    sqlfx_disconnect(&k);
    sqlfx_reopen(&g);
    sqlfx_connect(&g, &k, 2);
    Q(&k, "SELECT * FROM p.t", "1|one\n2|two");
    Q(&k, "INSERT INTO p.t (v) VALUES ('three')", "OK 1 1001 0");
    sqlfx_disconnect(&k);
    sqlfx_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(insert_forms),
        cmocka_unit_test(select_paths),
        cmocka_unit_test(update_and_delete),
        cmocka_unit_test(transactions),
        cmocka_unit_test(alter_table),
        cmocka_unit_test(aggregates),
        cmocka_unit_test(prepared_statements),
        cmocka_unit_test(data_survives_restart),
    };
    return cmocka_run_group_tests_name("libsql/exec", tests, setup, teardown);
}

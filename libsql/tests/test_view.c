/* test_view.c: views end to end on the in-memory store (and one reopen of
 * a RocksDB store): CREATE [OR REPLACE] / ALTER / DROP VIEW, querying a
 * view like a table (joins, aggregates, filters, views over views),
 * DESCRIBE, SHOW CREATE VIEW, SHOW FULL TABLES, information_schema, the
 * errors (1050, 1347, 1353, 1356, 1462, writes through a view);
 * privileges are in tests/integration/test_sql_setops.py.
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
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, g INT, s VARCHAR(8))",
      "OK 0 0 0");
    Q(&c, "CREATE TABLE u (id INT PRIMARY KEY, name VARCHAR(8))", "OK 0 0 0");
    Q(&c,
      "INSERT INTO t VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c'), "
      "(4, NULL, 'd')",
      "OK 4 0 0");
    Q(&c, "INSERT INTO u VALUES (1, 'one'), (2, 'two')", "OK 2 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

static void basics(void **state)
{
    (void)state;
    Q(&c, "CREATE VIEW v1 AS SELECT id, s FROM t WHERE id > 1", "OK 0 0 0");
    Q(&c, "SELECT * FROM v1 ORDER BY id", "2|b\n3|c\n4|d");
    Q(&c, "SELECT s FROM v1 WHERE id = 3", "c");
    Q(&c, "SELECT v.s, u.name FROM v1 v JOIN u ON u.id = v.id", "b|two");
    Q(&c, "CREATE VIEW v2 (grp, n, total) AS SELECT g, COUNT(*), SUM(id) FROM "
          "t GROUP BY g",
      "OK 0 0 0");
    Q(&c, "SELECT * FROM v2 ORDER BY grp", "NULL|1|4\n1|2|3\n2|1|3");
    Q(&c, "SELECT grp FROM v2 WHERE n > 1", "1");
    /* A view over a join, and a view over views. */
    Q(&c, "CREATE VIEW v3 AS SELECT t.id, u.name FROM t JOIN u USING (id)",
      "OK 0 0 0");
    Q(&c, "CREATE VIEW v4 AS SELECT a.id, a.s, b.name FROM v1 a JOIN v3 b ON "
          "a.id = b.id",
      "OK 0 0 0");
    Q(&c, "SELECT * FROM v4", "2|b|two");
    Q(&c, "SELECT COUNT(*) FROM v1 WHERE id IN (SELECT id FROM v3)", "1");
    /* Views read from another database keep their own tables. */
    Q(&c, "CREATE DATABASE d2", "OK 1 0 0");
    Q(&c, "USE d2", "OK 0 0 0");
    Q(&c, "CREATE TABLE t (x INT)", "OK 0 0 0");
    Q(&c, "SELECT COUNT(*) FROM d.v1", "3");
    Q(&c, "USE d", "OK 0 0 0");
    Q(&c, "DROP DATABASE d2", "OK 1 0 0");
    c.headers = true;
    Q(&c, "DESCRIBE v2",
      "Field|Type|Null|Key|Default|Extra\n"
      "grp|int|YES||NULL|\n"
      "n|bigint|NO||NULL|\n"
      "total|decimal(65,0)|YES||NULL|"); /* MySQL: decimal(32,0) */
    Q(&c, "SHOW CREATE VIEW v1",
      "View|Create View|character_set_client|collation_connection\n"
      "v1|CREATE VIEW `v1` (`id`, `s`) AS SELECT id, s FROM d.t WHERE (id > "
      "1)|utf8mb4|utf8mb4_general_ci");
    Q(&c, "SHOW FULL TABLES",
      "Tables_in_d|Table_type\nt|BASE TABLE\nu|BASE TABLE\nv1|VIEW\n"
      "v2|VIEW\nv3|VIEW\nv4|VIEW");
    c.headers = false;
    Q(&c, "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
          "WHERE TABLE_SCHEMA = 'd' AND TABLE_NAME LIKE 'v%' ORDER BY 1",
      "v1|VIEW\nv2|VIEW\nv3|VIEW\nv4|VIEW");
    Q(&c, "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS "
          "WHERE TABLE_NAME = 'v3'",
      "v3|SELECT t.id, u.name FROM d.t JOIN d.u USING (id)");
    /* OR REPLACE and ALTER VIEW change the definition in place. */
    Q(&c, "CREATE OR REPLACE VIEW v1 AS SELECT id FROM t WHERE id < 3",
      "OK 0 0 0");
    Q(&c, "SELECT * FROM v1", "1\n2");
    Q(&c, "ALTER VIEW v1 AS SELECT s FROM t WHERE id = 4", "OK 0 0 0");
    Q(&c, "SELECT * FROM v1", "d");
    Q(&c, "DROP VIEW v4, v3", "OK 0 0 0");
    Q(&c, "DROP VIEW IF EXISTS v3, v2", "OK 0 0 1");
    Q(&c, "SHOW WARNINGS", "Note|1051|Unknown table 'd.v3'");
    Q(&c, "DROP VIEW v1", "OK 0 0 0");
    Q(&c, "SELECT * FROM v1", "ERR 1146 Table 'd.v1' doesn't exist");
}

static void errors(void **state)
{
    (void)state;
    Q(&c, "CREATE VIEW w AS SELECT id FROM t", "OK 0 0 0");
    Q(&c, "CREATE VIEW w AS SELECT 1", "ERR 1050 Table 'w' already exists");
    Q(&c, "CREATE VIEW t AS SELECT 1", "ERR 1050 Table 't' already exists");
    Q(&c, "CREATE OR REPLACE VIEW t AS SELECT 1",
      "ERR 1050 Table 't' already exists");
    Q(&c, "ALTER VIEW nosuch AS SELECT 1",
      "ERR 1146 Table 'd.nosuch' doesn't exist");
    Q(&c, "CREATE VIEW w2 (a, b) AS SELECT 1",
      "ERR 1353 In definition of view, derived table or common table "
      "expression, SELECT list and column names list have different column "
      "counts");
    Q(&c, "CREATE VIEW w2 AS SELECT 1 AS a, 2 AS a",
      "ERR 1060 Duplicate column name 'a'");
    Q(&c, "CREATE VIEW w2 AS SELECT nosuch FROM t",
      "ERR 1054 Unknown column 'nosuch' in 'field list'");
    Q(&c, "DROP VIEW t", "ERR 1347 'd.t' is not VIEW");
    Q(&c, "DROP TABLE w", "ERR 1051 Unknown table 'd.w'");
    Q(&c, "TRUNCATE TABLE w", "ERR 1347 'd.w' is not BASE TABLE");
    Q(&c, "ALTER TABLE w ADD COLUMN z INT", "ERR 1347 'd.w' is not BASE TABLE");
    Q(&c, "INSERT INTO w VALUES (9)",
      "ERR 1235 This version of sqld doesn't yet support 'INSERT through a "
      "view'");
    Q(&c, "UPDATE w SET id = 1",
      "ERR 1235 This version of sqld doesn't yet support 'UPDATE or DELETE "
      "through a view'");
    Q(&c, "DELETE FROM w",
      "ERR 1235 This version of sqld doesn't yet support 'UPDATE or DELETE "
      "through a view'");
    /* The base table goes: the view stays and fails when read. */
    Q(&c, "CREATE TABLE tmp (a INT)", "OK 0 0 0");
    Q(&c, "CREATE VIEW wt AS SELECT a FROM tmp", "OK 0 0 0");
    Q(&c, "DROP TABLE tmp", "OK 0 0 0");
    Q(&c, "SELECT * FROM wt",
      "ERR 1356 View 'd.wt' references invalid table(s) or column(s) or "
      "function(s) or definer/invoker of view lack rights to use them");
    Q(&c, "CREATE TABLE tmp (a INT)", "OK 0 0 0");
    Q(&c, "INSERT INTO tmp VALUES (5)", "OK 1 0 0");
    Q(&c, "SELECT * FROM wt", "5");
    /* A view made to read itself through another. */
    Q(&c, "CREATE VIEW r1 AS SELECT 1 AS x", "OK 0 0 0");
    Q(&c, "CREATE VIEW r2 AS SELECT x FROM r1", "OK 0 0 0");
    Q(&c, "CREATE OR REPLACE VIEW r1 AS SELECT x FROM r2",
      "OK 0 0 0");
    Q(&c, "SELECT * FROM r1", "ERR 1462 `r1` contains view recursion");
    Q(&c, "DROP VIEW r1, r2, wt, w", "OK 0 0 0");
    Q(&c, "DROP TABLE tmp", "OK 0 0 0");
}

static void with_ctes(void **state)
{
    (void)state;
    Q(&c, "CREATE VIEW wc AS WITH RECURSIVE n (k) AS (SELECT 1 UNION ALL "
          "SELECT k + 1 FROM n WHERE k < 4) SELECT k FROM n",
      "OK 0 0 0");
    Q(&c, "SELECT SUM(k) FROM wc", "10");
    /* The statement's own CTE named like the view's does not leak in. */
    Q(&c, "WITH n AS (SELECT 100 AS k) SELECT SUM(k) FROM wc", "10");
    Q(&c, "CREATE VIEW wu AS SELECT id FROM t UNION SELECT id + 10 FROM t",
      "OK 0 0 0");
    Q(&c, "SELECT COUNT(*), MAX(id) FROM wu", "8|14");
    Q(&c, "DROP VIEW wc, wu", "OK 0 0 0");
}

/* The reading block's simple conjuncts go into a plain view's WHERE:
 * EXPLAIN's row count of the view shows it. */
static void pushdown(void **state)
{
    (void)state;
    Q(&c, "CREATE VIEW vp (k, grp, str) AS SELECT id, g, s FROM t WHERE g "
          "IS NOT NULL",
      "OK 0 0 0");
    Q(&c, "SELECT str FROM vp WHERE k = 2", "b");
    Q(&c, "EXPLAIN SELECT str FROM vp WHERE k = 2",
      "Projection_1|root||str\n"
      "└─MemTableScan_2|root|table:vp|derived; filter:(k = 2)");
    Q(&c, "SELECT x.str FROM vp x WHERE x.k IN (1, 3) AND x.str LIKE 'c%' "
          "ORDER BY 1",
      "c");
    Q(&c, "EXPLAIN SELECT x.str FROM vp x WHERE x.k IN (1, 3) AND x.grp = 2",
      "Projection_1|root||x.str\n"
      "└─MemTableScan_2|root|table:vp|derived; filter:(x.k IN (1, "
      "3)) AND (x.grp = 2)");
    /* Not pushed: arithmetic (it could fail on rows the view drops), a
     * function, a column of another name; the answers stay right. */
    Q(&c, "SELECT str FROM vp WHERE k + 0 = 3", "c");
    Q(&c, "EXPLAIN SELECT str FROM vp WHERE k + 0 = 3",
      "Projection_1|root||str\n"
      "└─MemTableScan_2|root|table:vp|derived; filter:((k + 0) = 3)");
    Q(&c, "SELECT str FROM vp WHERE UPPER(str) = 'A' OR k > 2 ORDER BY 1",
      "a\nc");
    Q(&c, "SELECT str FROM vp WHERE nosuch = 1",
      "ERR 1054 Unknown column 'nosuch' in 'where clause'");
    Q(&c, "SELECT COUNT(*) FROM vp WHERE grp = 1 AND NOT (k = 1)", "1");
    /* A view with GROUP BY takes nothing in. */
    Q(&c, "CREATE VIEW vg AS SELECT g, COUNT(*) AS n FROM t GROUP BY g",
      "OK 0 0 0");
    Q(&c, "SELECT n FROM vg WHERE g = 1", "2");
    Q(&c, "DROP VIEW vp, vg", "OK 0 0 0");
}

static void persisted(void **state)
{
    (void)state;
    struct sqlfx rf;
    struct sqlfx_conn rc;
    sqlfx_open(&rf, true);
    sqlfx_connect(&rf, &rc, 1);
    Q(&rc, "CREATE DATABASE p", "OK 1 0 0");
    Q(&rc, "CREATE TABLE p.t (a INT)", "OK 0 0 0");
    Q(&rc, "INSERT INTO p.t VALUES (1), (2)", "OK 2 0 0");
    Q(&rc, "CREATE VIEW p.v (total) AS SELECT SUM(a) FROM p.t", "OK 0 0 0");
    sqlfx_disconnect(&rc);
    sqlfx_reopen(&rf);
    sqlfx_connect(&rf, &rc, 1);
    Q(&rc, "SELECT total FROM p.v", "3");
    Q(&rc, "SHOW FULL TABLES FROM p", "t|BASE TABLE\nv|VIEW");
    sqlfx_disconnect(&rc);
    sqlfx_close(&rf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basics),
        cmocka_unit_test(errors),
        cmocka_unit_test(with_ctes),
        cmocka_unit_test(pushdown),
        cmocka_unit_test(persisted),
    };
    return cmocka_run_group_tests_name("libsql/view", tests, setup, teardown);
}

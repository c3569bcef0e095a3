/* test_ixonly.c: index-only reads in joins (exec_ixonly.c): an index
 * lookup whose index holds every column the statement names of its table
 * builds rows from the entries (sql__plan_index_only of the planned scan).
 * Each answer below is MariaDB 10.11's for the same statements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"
#include "plan.h"
#include "session.h"
#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)

static struct sqlfx f;
static struct sqlfx_conn c;

static int count_index_only(const struct plan *p)
{
    if (!p)
        return 0;
    return (sql__plan_index_only(p) ? 1 : 0) + count_index_only(p->child) +
           count_index_only(p->right);
}

/* How many scans of SELECT sql's physical plan read their index alone
 * (planned in the connection's session, as the engine plans it). */
static int index_only(const char *sql)
{
    struct sql_session *s = c.s;
    struct sql_parse_result pr;
    assert_int_equal(sql__parse_one(s->arena, sql, strlen(sql), &pr), 0);
    struct plan *p;
    assert_int_equal(sql__plan_select(s, pr.stmt->select, &p), 0);
    assert_int_equal(sql__plan_physical(s, &p), 0);
    return count_index_only(p);
}

static int setup(void **state)
{
    (void)state;
    sqlfx_open_db(&f, &c);
    Q(&c, "CREATE TABLE ia (id INT PRIMARY KEY, k INT, s VARCHAR(5))",
      "OK 0 0 0");
    Q(&c, "CREATE TABLE ib (id INT PRIMARY KEY, k INT, u BIGINT UNSIGNED, "
          "w INT, s VARCHAR(5), UNIQUE KEY ku (k, u), KEY kw (w))",
      "OK 0 0 0");
    Q(&c, "INSERT INTO ia VALUES (1, 1, 'a'), (2, 2, 'b'), (3, NULL, 'c'), "
          "(4, 9, 'd')",
      "OK 4 0 0");
    Q(&c, "INSERT INTO ib VALUES (10, 1, 18446744073709551615, 5, 'x'), "
          "(11, 1, NULL, 6, 'y'), (12, 1, NULL, NULL, 'z'), (13, 2, 0, 7, "
          "'w'), (14, -5, 3, 8, 'v')",
      "OK 5 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

/* The index's columns and the handle: values from the entries, NULLs
 * of a unique index (whose entries then carry the handle in the key),
 * the unsigned maximum. */
static void covered_lookup(void **state)
{
    (void)state;
    const char *q = "SELECT ia.id, ib.k, ib.u, ib.id FROM ia JOIN ib "
                    "ON ib.k = ia.k ORDER BY ib.id";
    assert_int_equal(index_only(q), 1);
    Q(&c, q,
      "1|1|18446744073709551615|10\n1|1|NULL|11\n1|1|NULL|12\n2|2|0|13");
    q = "SELECT ia.id, COUNT(DISTINCT ib.u), SUM(ib.id) FROM ia JOIN ib "
        "ON ib.k = ia.k GROUP BY ia.id ORDER BY ia.id";
    assert_int_equal(index_only(q), 1);
    Q(&c, q, "1|1|33\n2|1|13");
}

/* LEFT JOIN: an outer row without entries is padded with NULLs. */
static void covered_left_join(void **state)
{
    (void)state;
    const char *q = "SELECT ia.id, ib.id, ib.u FROM ia LEFT JOIN ib "
                    "ON ib.k = ia.k ORDER BY ia.id, ib.id";
    assert_int_equal(index_only(q), 1);
    Q(&c, q,
      "1|10|18446744073709551615\n1|11|NULL\n1|12|NULL\n2|13|0\n"
      "3|NULL|NULL\n4|NULL|NULL");
}

/* A column outside the index, named anywhere (select list, `*`, a
 * correlated subquery), or a string column: the rows are read. */
static void uncovered_reads_rows(void **state)
{
    (void)state;
    const char *q = "SELECT ia.s, ib.w FROM ia JOIN ib ON ib.k = ia.k "
                    "ORDER BY ib.id";
    assert_int_equal(index_only(q), 0);
    Q(&c, q, "a|5\na|6\na|NULL\nb|7");
    q = "SELECT ib.* FROM ia JOIN ib ON ib.k = ia.k ORDER BY ib.id";
    assert_int_equal(index_only(q), 0);
    Q(&c, q,
      "10|1|18446744073709551615|5|x\n11|1|NULL|6|y\n12|1|NULL|NULL|z\n"
      "13|2|0|7|w");
    q = "SELECT ia.id, ib.id FROM ia JOIN ib ON ib.k = ia.k WHERE EXISTS "
        "(SELECT 1 FROM ia x WHERE x.id + 4 = ib.w) ORDER BY ib.id";
    assert_int_equal(index_only(q), 0);
    Q(&c, q, "1|10\n1|11\n2|13");
    Q(&c, "CREATE TABLE ic (id INT PRIMARY KEY, t VARCHAR(5), KEY kt (t))",
      "OK 0 0 0");
    Q(&c, "INSERT INTO ic VALUES (1, 'A'), (2, 'b ')", "OK 2 0 0");
    q = "SELECT ic.t, ic.id FROM ia JOIN ic FORCE INDEX (kt) ON ic.t = ia.s "
        "ORDER BY ic.id";
    assert_int_equal(index_only(q), 0);
    Q(&c, q, "A|1\nb |2");
    Q(&c, "DROP TABLE ic", "OK 0 0 0");
}

/* FOR UPDATE locks rows: it reads them. */
static void locking_read_reads_rows(void **state)
{
    (void)state;
    const char *q = "SELECT ia.id, ib.id FROM ia JOIN ib ON ib.k = ia.k "
                    "ORDER BY ib.id FOR UPDATE";
    assert_int_equal(index_only(q), 0);
    Q(&c, "BEGIN", "OK 0 0 0");
    Q(&c, q, "1|10\n1|11\n1|12\n2|13");
    Q(&c, "COMMIT", "OK 0 0 0");
}

/* The transaction's own writes, entries included, are what it reads. */
static void own_writes(void **state)
{
    (void)state;
    const char *q = "SELECT ia.id, ib.id, ib.u FROM ia JOIN ib "
                    "ON ib.k = ia.k WHERE ia.id = 2 ORDER BY ib.id";
    assert_int_equal(index_only(q), 1);
    Q(&c, "BEGIN", "OK 0 0 0");
    Q(&c, "INSERT INTO ib VALUES (15, 2, 4, 0, 'n')", "OK 1 0 0");
    Q(&c, "UPDATE ib SET u = 1 WHERE id = 13", "OK 1 0 0");
    Q(&c, q, "2|13|1\n2|15|4");
    Q(&c, "DELETE FROM ib WHERE id = 15", "OK 1 0 0");
    Q(&c, q, "2|13|1");
    Q(&c, "ROLLBACK", "OK 0 0 0");
    Q(&c, q, "2|13|0");
}

/* A multi-table UPDATE through the same join writes whole rows. */
static void multi_table_update_keeps_rows(void **state)
{
    (void)state;
    Q(&c, "UPDATE ia JOIN ib ON ib.k = ia.k SET ib.w = ib.w + 100 "
          "WHERE ia.id = 2",
      "OK 1 0 0");
    Q(&c, "SELECT * FROM ib WHERE w > 100", "13|2|0|107|w");
    Q(&c, "UPDATE ib SET w = 7 WHERE id = 13", "OK 1 0 0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(covered_lookup),
        cmocka_unit_test(covered_left_join),
        cmocka_unit_test(uncovered_reads_rows),
        cmocka_unit_test(locking_read_reads_rows),
        cmocka_unit_test(own_writes),
        cmocka_unit_test(multi_table_update_keeps_rows),
    };
    return cmocka_run_group_tests_name("libsql/ixonly", tests, setup,
                                       teardown);
}

/* test_window_fault.c: window queries and multi-table UPDATE/DELETE with
 * the i-th libsql allocation failing, for every i: a clean answer, the
 * session still serving, no leaked block (faultsweep.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "faultsweep.h"

static const char *const setup_sql[] = {
    "CREATE DATABASE d", "USE d",
    "CREATE TABLE t (id INT PRIMARY KEY, g INT, v DECIMAL(5,1), "
    "s VARCHAR(5), UNIQUE KEY (s), KEY (g))",
    "CREATE TABLE u (id INT PRIMARY KEY, tid INT, w INT)",
    "INSERT INTO t VALUES (1, 1, 1.5, 'a'), (2, 1, NULL, 'b'), "
    "(3, 2, 3.0, 'c'), (4, 2, 4.5, 'd')",
    "INSERT INTO u VALUES (1, 1, 10), (2, 1, 20), (3, 3, 30)",
};
static const char *const work[] = {
    "SELECT id, ROW_NUMBER() OVER w, RANK() OVER w, LAG(s, 1, 'z') OVER w "
    "FROM t WINDOW w AS (PARTITION BY g ORDER BY v DESC)",
    "SELECT id, SUM(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 "
    "FOLLOWING), MAX(s) OVER (ORDER BY v RANGE BETWEEN 2 PRECEDING AND "
    "CURRENT ROW) FROM t ORDER BY id",
    "SELECT g, SUM(SUM(v)) OVER (ORDER BY g) FROM t GROUP BY g",
    "UPDATE t JOIN u ON t.id = u.tid SET t.g = u.w, u.w = t.g",
    "DELETE t, u FROM t JOIN u ON t.id = u.tid WHERE u.w > 15",
};

static void sweep(void **state)
{
    (void)state;
    fh_sweep(setup_sql, sizeof(setup_sql) / sizeof(setup_sql[0]), work,
             sizeof(work) / sizeof(work[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(sweep)};
    return cmocka_run_group_tests_name("libsql/window_fault", tests, NULL,
                                       NULL);
}

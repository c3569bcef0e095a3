/* test_stats_fault.c: ANALYZE TABLE, SHOW STATS_*, planning from
 * statistics and EXPLAIN ANALYZE with the i-th libsql allocation failing,
 * for every i: a clean answer, the session still serving, no leaked block
 * (faultsweep.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "faultsweep.h"

static const char *const setup_sql[] = {
    "CREATE DATABASE d", "USE d",
    "CREATE TABLE t (id INT PRIMARY KEY, g INT, s VARCHAR(5), KEY (g))",
    "CREATE TABLE u (id INT PRIMARY KEY, tid INT)",
    "INSERT INTO t VALUES (1, 1, 'a'), (2, 1, NULL), (3, 2, 'c'), "
    "(4, 2, 'a'), (5, 3, 'e')",
    "INSERT INTO u VALUES (1, 1), (2, 1), (3, 3)",
    "ANALYZE TABLE u",
};
static const char *const work[] = {
    "ANALYZE TABLE t, u",
    "SHOW STATS_BUCKETS",
    "EXPLAIN FORMAT='row' SELECT * FROM t, u WHERE t.id = u.tid AND "
    "t.g IN (1, 2) AND t.s LIKE 'a%'",
    "EXPLAIN ANALYZE SELECT g, count(*) FROM t JOIN u ON t.id = u.tid "
    "GROUP BY g",
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
    return cmocka_run_group_tests_name("libsql/stats_fault", tests, NULL,
                                       NULL);
}

/* test_engine_fault.c: every statement of a small workload with the i-th
 * libsql allocation failing, for every i: a clean answer (an error or
 * success), no crash, no leaked block once everything is closed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "faultheap.h"

#include "sqlfx.h"

static const char *const setup_sql[] = {
    "CREATE DATABASE d", "USE d",
    "CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(10), k INT, UNIQUE KEY (v), KEY (k))",
    "INSERT INTO t (v, k) VALUES ('a', 1), ('b', 2), ('c', 2)",
};
static const char *const work[] = {
    "SELECT * FROM t WHERE id = 2",
    "SELECT k, COUNT(*) FROM t GROUP BY k ORDER BY k",
    "SELECT v FROM t WHERE k = 2 ORDER BY v DESC LIMIT 1",
    "INSERT INTO t (v, k) VALUES ('d', 3) ON DUPLICATE KEY UPDATE k = k + 1",
    "UPDATE t SET k = k + 1 WHERE id > 1",
    "DELETE FROM t WHERE v = 'd'",
    "ALTER TABLE t ADD COLUMN z INT DEFAULT 5",
    "CREATE INDEX iz ON t (z)",
    "SHOW CREATE TABLE t",
    "SELECT table_name FROM information_schema.tables",
    "SET @a = 1, sql_mode = ''",
    "BEGIN", "INSERT INTO t (v) VALUES ('e')", "ROLLBACK",
    "EXPLAIN SELECT * FROM t WHERE k IN (1, 2)",
    /* Joins: hash, index and nested-loop; subqueries: uncorrelated, run
     * per row, as an anti-join; a derived table. */
    "SELECT a.v, b.v FROM t a JOIN t b ON a.k = b.k WHERE a.id < 3",
    "SELECT a.v, b.id FROM t a LEFT JOIN t b ON b.id = a.k",
    "SELECT COUNT(*) FROM t a JOIN t b USING (k) WHERE a.id < b.id",
    "SELECT v FROM t WHERE k IN (SELECT k FROM t WHERE id > 1)",
    "SELECT v, (SELECT COUNT(*) FROM t b WHERE b.k = a.k) FROM t a",
    "SELECT v FROM t a WHERE NOT EXISTS (SELECT 1 FROM t b WHERE b.k > a.k)",
    "SELECT d.k, d.n FROM (SELECT k, COUNT(*) AS n FROM t GROUP BY k) d "
    "JOIN t ON t.k = d.k",
};

static void sweep(void **state)
{
    (void)state;
    struct sql_heap h = {NULL, fh_malloc, fh_realloc, fh_free};
    for (size_t w = 0; w < sizeof(work) / sizeof(work[0]); w++) {
        for (long i = 0;; i++) {
            fh_fail_at = -1;
            fh_calls = 0;
            fh_live = 0;
            sql_heap_set(&h);
            struct sqlfx f;
            struct sqlfx_conn c;
            sqlfx_open(&f, false);
            sqlfx_connect(&f, &c, 1);
            for (size_t k = 0; k < sizeof(setup_sql) / sizeof(setup_sql[0]); k++)
                sqlfx_q(&c, setup_sql[k]);
            fh_fail_at = i;
            fh_calls = 0;
            const char *out = sqlfx_q(&c, work[w]);
            bool failed = fh_calls > i;
            fh_fail_at = -1;
            /* The session still answers afterwards. */
            sqlfx_q(&c, "SELECT 1");
            if (strcmp(c.out, "1") != 0)
                fail_msg("after failing alloc %ld of '%s' (answer '%s'): SELECT 1 gave '%s'", i, work[w], out, c.out);
            sqlfx_disconnect(&c);
            sqlfx_close(&f);
            sql_heap_set(NULL);
            if (fh_live != 0)
                fail_msg("leak: %ld blocks after failing alloc %ld of '%s'", fh_live, i, work[w]);
            if (!failed) {
                printf("# %-60.60s %ld allocations swept\n", work[w], i);
                break;
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(sweep)};
    return cmocka_run_group_tests_name("libsql/engine_fault", tests, NULL, NULL);
}

/* bench_plan.c: planning time of a query that lists 30 tables in FROM
 * with its join conditions in WHERE (a chain, written in reverse order),
 * through EXPLAIN (parse + plan + a 31-row answer), and the time to run
 * it over 3 rows per table; and a correlated subquery run per row of a
 * 5000-row table, one point get each. Prints "BENCH <name> <value>
 * <unit>" lines (DESIGN.md "Joins", "Subqueries"); no threshold is
 * checked here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sqlfx.h"

#define NTAB 30

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(void)
{
    static struct sqlfx f;
    static struct sqlfx_conn c;
    static char sql[16384], q[16400];
    sqlfx_open(&f, false);
    sqlfx_connect(&f, &c, 1);
    sqlfx_q(&c, "CREATE DATABASE b");
    sqlfx_q(&c, "USE b");
    for (int i = 0; i < NTAB; i++) {
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE j%d (id INT PRIMARY KEY, nx INT, v INT, "
                 "KEY (v))",
                 i);
        sqlfx_q(&c, sql);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO j%d VALUES (1, 2, 1), (2, 3, 2), (3, 1, 3)",
                 i);
        sqlfx_q(&c, sql);
    }
    int n = snprintf(sql, sizeof(sql), "SELECT count(*) FROM ");
    for (int i = NTAB - 1; i >= 0; i--)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n, "j%d%s", i,
                      i ? ", " : " WHERE ");
    for (int i = 0; i + 1 < NTAB; i++)
        n += snprintf(sql + n, sizeof(sql) - (size_t)n,
                      "j%d.nx = j%d.id AND j%d.v > 0 AND ", i, i + 1, i);
    snprintf(sql + n, sizeof(sql) - (size_t)n, "j0.id = 1");
    snprintf(q, sizeof(q), "EXPLAIN %s", sql);

    const char *out = sqlfx_q(&c, q);
    if (strstr(out, "NestedLoopJoin") || strncmp(out, "ERR", 3) == 0) {
        fprintf(stderr, "unexpected plan:\n%s\n", out);
        return 1;
    }
    int runs = 200;
    double t0 = now_ms();
    for (int r = 0; r < runs; r++)
        sqlfx_q(&c, q);
    double plan_ms = (now_ms() - t0) / runs;
    printf("BENCH plan_join%d %.3f ms\n", NTAB, plan_ms);

    runs = 50;
    t0 = now_ms();
    for (int r = 0; r < runs; r++)
        out = sqlfx_q(&c, sql);
    printf("BENCH run_join%d %.3f ms\n", NTAB, (now_ms() - t0) / runs);
    if (strcmp(out, "1") != 0) {
        fprintf(stderr, "unexpected answer: %s\n", out);
        return 1;
    }

    /* A correlated subquery: 5000 outer rows, a point get each. */
    sqlfx_q(&c, "CREATE TABLE co (id INT PRIMARY KEY, k INT)");
    for (int b = 0; b < 50; b++) {
        int m = snprintf(sql, sizeof(sql), "INSERT INTO co VALUES ");
        for (int i = 0; i < 100; i++)
            m += snprintf(sql + m, sizeof(sql) - (size_t)m, "%s(%d, %d)",
                          i ? ", " : "", b * 100 + i, (b * 100 + i + 7) % 5000);
        sqlfx_q(&c, sql);
    }
    const char *cq = "SELECT COUNT(*) FROM co a WHERE (SELECT COUNT(*) FROM "
                     "co b WHERE b.id = a.k) > 0";
    t0 = now_ms();
    out = sqlfx_q(&c, cq);
    double ms = now_ms() - t0;
    if (strcmp(out, "5000") != 0) {
        fprintf(stderr, "unexpected answer: %s\n", out);
        return 1;
    }
    printf("BENCH correlated_5000_rows %.1f ms\n", ms);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
    return 0;
}

/* bench_window.c: window functions over a 20,000-row table (in memory):
 * a ranking over 100 partitions, a running SUM, a sliding ROWS SUM of 50
 * rows (added and removed), a sliding MAX (recomputed per row), and a
 * numeric RANGE frame, each answered as one aggregate over the window's
 * result so the client reads one row. Prints "BENCH <name> <value> <unit>"
 * (DESIGN.md "Window functions"); no threshold is checked here.
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

#define NROWS 20000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const struct
{
    const char *name; /* BENCH name */
    const char *sql;  /* the query */
} cases[] = {
    {"window_rank_100_partitions",
     "SELECT MAX(r) FROM (SELECT RANK() OVER (PARTITION BY g ORDER BY v) r "
     "FROM w) x"},
    {"window_running_sum",
     "SELECT MAX(s) FROM (SELECT SUM(v) OVER (ORDER BY id) s FROM w) x"},
    {"window_sliding_sum_50",
     "SELECT MAX(s) FROM (SELECT SUM(d) OVER (ORDER BY id ROWS BETWEEN 49 "
     "PRECEDING AND CURRENT ROW) s FROM w) x"},
    {"window_sliding_max_50",
     "SELECT MAX(s) FROM (SELECT MAX(v) OVER (ORDER BY id ROWS BETWEEN 49 "
     "PRECEDING AND CURRENT ROW) s FROM w) x"},
    {"window_range_10",
     "SELECT MAX(s) FROM (SELECT COUNT(*) OVER (ORDER BY v RANGE BETWEEN "
     "10 PRECEDING AND 10 FOLLOWING) s FROM w) x"},
};

int main(void)
{
    static struct sqlfx f;
    static struct sqlfx_conn c;
    static char sql[65536];
    sqlfx_open(&f, false);
    sqlfx_connect(&f, &c, 1);
    sqlfx_q(&c, "CREATE DATABASE b");
    sqlfx_q(&c, "USE b");
    sqlfx_q(&c, "CREATE TABLE w (id INT PRIMARY KEY, g INT, v INT, "
                "d DECIMAL(10,2))");
    for (int base = 0; base < NROWS; base += 1000) {
        int n = snprintf(sql, sizeof(sql), "INSERT INTO w VALUES ");
        for (int i = base; i < base + 1000; i++)
            n += snprintf(sql + n, sizeof(sql) - (size_t)n,
                          "(%d, %d, %d, %d.%02d)%s", i, i % 100,
                          (i * 7919) % 10007, i % 1000, i % 100,
                          i + 1 < base + 1000 ? ", " : "");
        const char *out = sqlfx_q(&c, sql);
        if (strncmp(out, "OK", 2) != 0) {
            fprintf(stderr, "insert: %s\n", out);
            return 1;
        }
    }
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        int runs = 5;
        const char *out = NULL;
        double t0 = now_ms();
        for (int r = 0; r < runs; r++)
            out = sqlfx_q(&c, cases[k].sql);
        double ms = (now_ms() - t0) / runs;
        if (strncmp(out, "ERR", 3) == 0) {
            fprintf(stderr, "%s: %s\n", cases[k].name, out);
            return 1;
        }
        printf("BENCH %s %.1f ms\n", cases[k].name, ms);
    }
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
    return 0;
}

/* bench_asleep.c: what sleeping regions cost a busy one (DESIGN.md "The
 * loop": the active list): 3 stores in one process, region 1 taking
 * 20,000 raw puts (64 in flight, no fsync) while N other regions
 * hibernate; CPU of the whole process per put, with no other region and
 * with 5,000 (argv[1]: that N alone). Prints BENCH lines:
 *   region_busy_cpu_per_put_asleep<N> <us> us, and
 *   region_busy_cpu_asleep5000_vs_none <ratio> x
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"

static long inflight, acked, failed;
static void on_done(void *ud, const struct region_reply *r)
{
    (void)ud;
    inflight--;
    if (r->rc == 0)
        acked++;
    else
        failed++;
}
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU microseconds per put with idle sleeping regions (-1: failed). */
static double run(int idle)
{
    inflight = acked = failed = 0;
    struct cluster c;
    memset(&c, 0, sizeof c);
    c.tick_ms = 100;
    cl_init(&c, 3, false);
    char lo[16], hi[16];
    cl_bootstrap(&c, 1, NULL, "b");
    for (int r = 0; r < idle; r++) {
        snprintf(lo, sizeof lo, "i%05d", r);
        snprintf(hi, sizeof hi, "i%05d", r + 1);
        cl_bootstrap(&c, (uint64_t)r + 2, r == 0 ? "b" : lo,
                     r == idle - 1 ? NULL : hi);
    }
    for (int t = 0; t < 400; t++) {
        cl_tick(&c);
        uint64_t leaders = 0;
        for (int i = 1; i <= 3; i++) {
            struct region_store_stats st;
            region_store_stats(c.st[i].s, &st);
            leaders += st.leaders;
        }
        if (leaders == (uint64_t)idle + 1)
            break;
    }
    for (int t = 0; t < 60; t++)
        cl_tick(&c);
    int l = 0;
    for (int i = 1; i <= 3; i++)
        if (region_store_is_leader(c.st[i].s, 1))
            l = i;
    if (!l) {
        fprintf(stderr, "bench_asleep: no leader\n");
        cl_destroy(&c);
        return -1;
    }
    uint64_t asleep = 0, iters0 = 0;
    for (int i = 1; i <= 3; i++) {
        struct region_store_stats st;
        region_store_stats(c.st[i].s, &st);
        asleep += st.hibernated;
        iters0 += st.loop_iters;
    }
    char key[32], val[100];
    memset(val, 'v', sizeof val);
    long total = 20000, issued = 0;
    double c0 = cpu_s();
    while (acked + failed < total) {
        while (inflight < 64 && issued < total) {
            snprintf(key, sizeof key, "akey%08ld", issued);
            struct region_ctx ctx = {1, 0, 0};
            struct region_op op = {REGION_OP_PUT, key, strlen(key), val,
                                   sizeof val};
            if (region_raw_write(c.st[l].s, &ctx, &op, 1, on_done, NULL,
                                 NULL) != 0) {
                fprintf(stderr, "bench_asleep: propose failed\n");
                exit(1);
            }
            inflight++;
            issued++;
        }
        cl_pump(&c, 1);
    }
    double dt = cpu_s() - c0;
    uint64_t iters1 = 0;
    for (int i = 1; i <= 3; i++) {
        struct region_store_stats st;
        region_store_stats(c.st[i].s, &st);
        iters1 += st.loop_iters;
    }
    printf("INFO region_busy_asleep%d asleep_peers=%llu failed=%ld "
           "loop_iters_per_put=%.3f\n",
           idle, (unsigned long long)asleep, failed,
           (double)(iters1 - iters0) / (double)total);
    cl_destroy(&c);
    return failed ? -1 : dt / (double)total * 1e6;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        int n = atoi(argv[1]);
        double us = run(n);
        printf("BENCH region_busy_cpu_per_put_asleep%d %.2f us\n", n, us);
        return us < 0;
    }
    double none = run(0), many = run(5000);
    if (none < 0 || many < 0)
        return 1;
    printf("BENCH region_busy_cpu_per_put_asleep0 %.2f us\n", none);
    printf("BENCH region_busy_cpu_per_put_asleep5000 %.2f us\n", many);
    printf("BENCH region_busy_cpu_asleep5000_vs_none %.2f x\n", many / none);
    return 0;
}

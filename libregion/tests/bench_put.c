/* bench_put.c: replicated raw put throughput through 3 stores in one
 * process (in-memory router, each store on its own RocksDB with real
 * fsyncs unless said otherwise): one put at a time, and 64 in flight,
 * which group commit turns into one sync per loop iteration. Prints BENCH
 * lines (`make -C libregion bench`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"

static long inflight;
static long acked;
static long failed;

static void on_done(void *ud, const struct region_reply *r)
{
    (void)ud;
    inflight--;
    if (r->rc == 0)
        acked++;
    else
        failed++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Puts per second with depth puts in flight, total puts. */
static double run(bool sync, int depth, long total, uint64_t *syncs)
{
    struct cluster c = {0};
    cl_init(&c, 3, sync);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    if (l == 0) {
        fprintf(stderr, "no leader\n");
        exit(1);
    }
    struct region_ctx ctx = {1, 0, 0};
    char key[32], val[100];
    memset(val, 'v', sizeof val);
    inflight = acked = failed = 0;
    long issued = 0;
    struct region_store_stats before, after;
    region_store_stats(c.st[l].s, &before);
    double t0 = now_s();
    while (acked + failed < total) {
        while (inflight < depth && issued < total) {
            snprintf(key, sizeof key, "key%08ld", issued);
            struct region_op op = {REGION_OP_PUT, key, strlen(key), val,
                                   sizeof val};
            if (region_raw_write(c.st[l].s, &ctx, &op, 1, on_done, NULL,
                                 NULL) != 0) {
                fprintf(stderr, "propose failed\n");
                exit(1);
            }
            inflight++;
            issued++;
        }
        cl_pump(&c, 1);
    }
    double dt = now_s() - t0;
    region_store_stats(c.st[l].s, &after);
    *syncs = after.syncs - before.syncs;
    if (failed) {
        fprintf(stderr, "%ld puts failed\n", failed);
        exit(1);
    }
    cl_destroy(&c);
    return (double)total / dt;
}

int main(void)
{
    uint64_t s1, s64, n64;
    double one = run(true, 1, 1000, &s1);
    double many = run(true, 64, 20000, &s64);
    double nosync = run(false, 64, 20000, &n64);
    printf("BENCH region_put_sync_depth1 %.0f puts/s\n", one);
    printf("BENCH region_put_sync_depth64 %.0f puts/s\n", many);
    printf("BENCH region_put_sync_depth64_puts_per_sync %.1f puts\n",
           20000.0 / (double)(s64 ? s64 : 1));
    printf("BENCH region_put_nosync_depth64 %.0f puts/s\n", nosync);
    printf("BENCH region_put_sync_depth64_vs_depth1 %.2f x\n", many / one);
    return 0;
}

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

/* Puts per second with depth puts in flight, total puts, spread over
 * nregions regions (keys "<r>/...", region r = [r, r+1)), all led by
 * store 1 (the others never campaign first: it is told to). */
enum mode {
    M_LOOP = 0,    /* every log write and fsync on the loop (0.2) */
    M_WRITER = 1,  /* leaders' writes on the writer thread, each round
                      waiting for them (region_store_sync_wait) */
    M_OVERLAP = 2, /* writer thread, rounds never wait (as kvd runs) */
};

static double run(bool sync, int depth, long total, int nregions,
                  uint64_t *syncs, enum mode m)
{
    struct cluster c = {0};
    c.log_on_loop = m == M_LOOP;
    cl_init(&c, 3, sync);
    char lo[8], hi[8];
    for (int r = 0; r < nregions; r++) {
        snprintf(lo, sizeof lo, "%c", 'A' + r);
        snprintf(hi, sizeof hi, "%c", 'A' + r + 1);
        cl_bootstrap(&c, (uint64_t)r + 1, nregions == 1 ? NULL : lo,
                     nregions == 1 ? NULL : hi);
    }
    int l = 0;
    for (int r = 0; r < nregions; r++) {
        int lr = (int)cl_wait_leader(&c, (uint64_t)r + 1);
        if (lr != 1) { /* move it to store 1: one leader for all */
            region_store_transfer_leader(c.st[lr].s, (uint64_t)r + 1, 1);
            for (int t = 0; t < 200 &&
                            !region_store_is_leader(c.st[1].s, (uint64_t)r + 1);
                 t++)
                cl_tick(&c);
        }
        l = 1;
        if (!region_store_is_leader(c.st[1].s, (uint64_t)r + 1)) {
            fprintf(stderr, "no leader on store 1 for region %d\n", r + 1);
            exit(1);
        }
    }
    c.overlap = m == M_OVERLAP; /* after the elections (ticks are not
                                   time: a candidate must not time out
                                   before its vote is durable) */
    char key[32], val[100];
    memset(val, 'v', sizeof val);
    inflight = acked = failed = 0;
    long issued = 0;
    struct region_store_stats before, after;
    region_store_stats(c.st[l].s, &before);
    double t0 = now_s();
    while (acked + failed < total) {
        while (inflight < depth && issued < total) {
            int r = (int)(issued % nregions);
            snprintf(key, sizeof key, "%ckey%08ld", 'A' + r, issued);
            struct region_ctx ctx = {(uint64_t)r + 1, 0, 0};
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
    uint64_t s1, s64, n64, s16r, sl, so, so16;
    double one = run(true, 1, 1000, 1, &s1, M_OVERLAP);
    double loop = run(true, 64, 20000, 1, &sl, M_LOOP);
    double many = run(true, 64, 20000, 1, &s64, M_WRITER);
    double over = run(true, 64, 20000, 1, &so, M_OVERLAP);
    double nosync = run(false, 64, 20000, 1, &n64, M_OVERLAP);
    double regions = run(true, 64, 20000, 16, &s16r, M_LOOP);
    double regions_o = run(true, 64, 20000, 16, &so16, M_OVERLAP);
    printf("BENCH region_put_sync_depth1 %.0f puts/s\n", one);
    printf("BENCH region_put_sync_depth64_loop %.0f puts/s\n", loop);
    printf("BENCH region_put_sync_depth64_loop_puts_per_sync %.1f puts\n",
           20000.0 / (double)(sl ? sl : 1));
    printf("BENCH region_put_sync_depth64_writer %.0f puts/s\n", many);
    printf("BENCH region_put_sync_depth64 %.0f puts/s\n", over);
    printf("BENCH region_put_sync_depth64_puts_per_sync %.1f puts\n",
           20000.0 / (double)(so ? so : 1));
    printf("BENCH region_put_nosync_depth64 %.0f puts/s\n", nosync);
    printf("BENCH region_put_sync_depth64_16regions_loop %.0f puts/s\n",
           regions);
    printf("BENCH region_put_sync_depth64_16regions %.0f puts/s\n",
           regions_o);
    printf("BENCH region_put_sync_depth64_16regions_puts_per_sync %.1f puts\n",
           20000.0 / (double)(so16 ? so16 : 1));
    printf("BENCH region_put_sync_depth64_vs_loop %.2f x\n", over / loop);
    printf("BENCH region_put_sync_depth64_16regions_vs_loop %.2f x\n",
           regions_o / regions);
    printf("BENCH region_put_sync_depth64_vs_depth1 %.2f x\n", over / one);
    return 0;
}

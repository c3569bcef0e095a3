/* bench_put_cost.c: the CPU work of one replicated raw put in libregion,
 * libraft and RocksDB, without the network: 3 stores in one process (the
 * cluster fixture's in-memory router), 64 puts in flight, every round
 * waiting for the log writers so the batching is the same on every run.
 * Made to be counted, not timed: `scripts/region-put-instr.sh` runs it
 * twice under callgrind (N and 3N puts) and divides the difference by 2N,
 * which cancels start-up. `make -C libregion bench` runs it once with
 * 2000 puts and prints the exact work counts (DESIGN.md "Benchmark").
 * Usage: bench_put_cost [puts] (2000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"

static long inflight; /* puts proposed, not answered */
static long acked;    /* answered 0 */
static long failed;   /* answered an error */

static void on_done(void *ud, const struct region_reply *r)
{
    (void)ud;
    inflight--;
    if (r->rc == 0)
        acked++;
    else
        failed++;
}

int main(int argc, char **argv)
{
    long total = argc > 1 ? atol(argv[1]) : 2000;
    if (total <= 0) {
        fprintf(stderr, "usage: bench_put_cost [puts]\n");
        return 2;
    }
    struct cluster c = {0};
    cl_init(&c, 3, false); /* no fsync: the sync is the kernel's work */
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    if (l <= 0) {
        fprintf(stderr, "no leader\n");
        return 1;
    }
    char key[32], val[100];
    memset(val, 'v', sizeof val);
    struct region_store_stats b[4], a[4];
    for (int i = 1; i <= 3; i++)
        region_store_stats(c.st[i].s, &b[i]);
    long issued = 0, rounds = 0;
    while (acked + failed < total) {
        while (inflight < 64 && issued < total) {
            snprintf(key, sizeof key, "key%08ld", issued);
            struct region_ctx ctx = {1, 0, 0};
            struct region_op op = {REGION_OP_PUT, key, strlen(key), val,
                                   sizeof val};
            if (region_raw_write(c.st[l].s, &ctx, &op, 1, on_done, NULL,
                                 NULL) != 0) {
                fprintf(stderr, "propose failed\n");
                return 1;
            }
            inflight++;
            issued++;
        }
        cl_pump(&c, 1);
        rounds++;
    }
    if (failed) {
        fprintf(stderr, "%ld puts failed\n", failed);
        return 1;
    }
    for (int i = 1; i <= 3; i++)
        region_store_stats(c.st[i].s, &a[i]);
    uint64_t msgs = 0, iters = 0, syncs = 0;
    for (int i = 1; i <= 3; i++) {
        msgs += a[i].msgs_sent - b[i].msgs_sent;
        iters += a[i].loop_iters - b[i].loop_iters;
        syncs += a[i].syncs - b[i].syncs;
    }
    printf("BENCH region_put_cost_raft_msgs_per_put %.3f msgs\n",
           (double)msgs / (double)total);
    printf("BENCH region_put_cost_loop_iters_per_put %.3f iters\n",
           (double)iters / (double)total);
    printf("BENCH region_put_cost_syncs_per_put %.3f syncs\n",
           (double)syncs / (double)total);
    printf("INFO region_put_cost puts=%ld rounds=%ld\n", total, rounds);
    cl_destroy(&c);
    return 0;
}

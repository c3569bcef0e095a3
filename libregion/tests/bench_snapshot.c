/* bench_snapshot.c: a region sent by a streamed snapshot to a learner
 * added on a second store (in-process cluster, RocksDB without fsync):
 * 20 MiB in 5,000 raw keys, then 200,000 keys of 100 bytes. For each,
 * the time from the add to every key readable there, the exact work
 * (chunks sent and received, the snapshot code's peak bytes on each
 * side: DESIGN "Snapshots and log GC"), and the longest call of the
 * leader's store and of the learner's (region_store_receive or _process:
 * the store's lock held that long, every region on it waiting). Prints BENCH
 * lines
 * (`make -C libregion bench`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cluster.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int run(const char *name, const struct cl_bulk *d)
{
    struct cluster c = {0};
    c.log_keep_entries = 16;
    cl_init(&c, 2, false);
    cl_bootstrap_on(&c, 1, NULL, NULL, 1);
    if (cl_wait_leader(&c, 1) != 1) {
        fprintf(stderr, "bench_snapshot: no leader\n");
        return 1;
    }
    int rc = cl_bulk_load(&c, 1, 1, d, 0, d->n);
    c.max_call_ns[1] = c.max_call_ns[2] = 0; /* the snapshot's from here */
    if (rc == 0)
        rc = cl_change_member(&c, 1, 1, REGION_CHANGE_ADD_LEARNER, 2, NULL);
    if (rc != 0) {
        fprintf(stderr, "bench_snapshot: %s\n", region_strerror(rc));
        return 1;
    }
    double t0 = now_ms();
    int t;
    for (t = 0; t < 3000; t++) {
        if (cl_bulk_holds(&c, 2, 1, d, d->n - 1, d->n))
            break;
        cl_tick(&c);
    }
    double ms = now_ms() - t0;
    if (t == 3000 || !cl_bulk_holds(&c, 2, 1, d, 0, d->n)) {
        fprintf(stderr, "bench_snapshot: the learner never caught up\n");
        return 1;
    }
    struct region_store_stats l, f;
    region_store_stats(c.st[1].s, &l);
    region_store_stats(c.st[2].s, &f);
    uint64_t bytes = 0;
    uint8_t *v = malloc(cl_bulk_cap(d));
    for (int i = 0; i < d->n; i++)
        bytes += cl_bulk_value(d, i, v);
    free(v);
    printf("BENCH region_snapshot_%s %.0f ms\n", name, ms);
    printf("BENCH region_snapshot_%s_rate %.1f MB/s\n", name,
           (double)bytes / 1e6 / (ms / 1e3));
    printf("BENCH region_snapshot_%s_chunks %llu chunks\n", name,
           (unsigned long long)f.snap_chunks_received);
    printf("BENCH region_snapshot_%s_leader_peak %llu bytes\n", name,
           (unsigned long long)l.snap_mem_peak);
    printf("BENCH region_snapshot_%s_follower_peak %llu bytes\n", name,
           (unsigned long long)f.snap_mem_peak);
    printf("BENCH region_snapshot_%s_leader_longest_call %.1f ms\n", name,
           (double)c.max_call_ns[1] / 1e6);
    printf("BENCH region_snapshot_%s_follower_longest_call %.1f ms\n", name,
           (double)c.max_call_ns[2] / 1e6);
    printf(
        "# %d keys, %llu value bytes; %llu chunks sent, %llu received, "
        "%llu ticks\n",
        d->n, (unsigned long long)bytes, (unsigned long long)l.snap_chunks_sent,
        (unsigned long long)f.snap_chunks_received, (unsigned long long)t);
    cl_destroy(&c);
    return 0;
}

int main(void)
{
    struct cl_bulk big = {.n = 5000, .gen = 1};
    struct cl_bulk small = {.n = 200000, .gen = 1, .small = 100};
    return run("20mib", &big) || run("200k_keys", &small);
}

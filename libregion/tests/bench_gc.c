/* bench_gc.c: what an MVCC GC sweep of a store costs when one region of
 * many is written to (DESIGN.md "GC"): 3 stores on RocksDB in one
 * process, 64 regions of 500 keys, each key written twice; the first
 * sweep after open reads every region (what every sweep cost before
 * libregion 0.22.0), then a third version of one region's keys and a
 * sweep that skips the 63 others. Prints per sweep the records read and
 * the wall time (the sweeps of the three stores together):
 *   BENCH gc_first_sweep_records / _ms, gc_hot_sweep_records / _ms
 *   BENCH gc_hot_vs_first <ratio> x (time)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"

#define N_REGIONS 64
#define N_KEYS 500

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct txn_arg {
    int region;        /* 0-based */
    const char *value; /* every key's */
    mvcc_ts start_ts, commit_ts;
};

static void key_of(char *k, size_t cap, int region, int i)
{
    snprintf(k, cap, "k%03d-%04d", region, i);
}

/* One transaction writing every key of a region. */
static int write_region(struct mvcc_store *m, void *arg)
{
    struct txn_arg *a = arg;
    static char keys[N_KEYS][16];
    struct mvcc_mutation mu[N_KEYS];
    struct mvcc_key ks[N_KEYS];
    for (int i = 0; i < N_KEYS; i++) {
        key_of(keys[i], sizeof keys[i], a->region, i);
        size_t kl = strlen(keys[i]);
        mu[i] = (struct mvcc_mutation){MVCC_OP_PUT, keys[i], kl, a->value,
                                       strlen(a->value), false};
        ks[i] = (struct mvcc_key){keys[i], kl};
    }
    struct mvcc_prewrite_req req = {.mutations = mu, .n = N_KEYS,
                                    .primary = keys[0],
                                    .primary_len = strlen(keys[0]),
                                    .start_ts = a->start_ts,
                                    .lock_ttl = 3000, .txn_size = N_KEYS};
    struct mvcc_result res;
    mvcc_result_init(&res);
    int rc = mvcc_prewrite(m, &req, &res);
    if (rc == 0)
        rc = mvcc_commit(m, ks, N_KEYS, a->start_ts, a->commit_ts, &res);
    mvcc_result_reset(&res);
    return rc;
}

/* The store leading region (0: none after a while); a write there may
 * still answer busy (its term's first entry not applied): retried. */
static int leader_of(struct cluster *c, uint64_t region)
{
    for (int t = 0; t < 20000; t++) {
        for (int i = 1; i <= c->n; i++)
            if (region_store_is_leader(c->st[i].s, region))
                return i;
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
    }
    return 0;
}

static void write_all(struct cluster *c, int region, const char *value,
                      mvcc_ts start_ts, mvcc_ts commit_ts)
{
    struct txn_arg a = {region, value, start_ts, commit_ts};
    for (int attempt = 0; attempt < 100; attempt++) {
        int l = leader_of(c, (uint64_t)region + 1);
        struct region_ctx ctx = {(uint64_t)region + 1, 1, 1};
        struct region_err err;
        if (l > 0 && region_txn_run(c->st[l].s, &ctx, false, write_region,
                                    &a, &err) == 0)
            return;
        struct timespec nap = {0, 10000000};
        nanosleep(&nap, NULL);
    }
    fprintf(stderr, "bench_gc: cannot write region %d\n", region + 1);
    exit(1);
}

/* Until every store reads value for the region's last key. */
static void await_all(struct cluster *c, int region, const char *value)
{
    char k[16];
    key_of(k, sizeof k, region, N_KEYS - 1);
    for (int i = 1; i <= c->n; i++) {
        for (int t = 0;; t++) {
            struct mvcc_result r;
            mvcc_result_init(&r);
            int rc = mvcc_get(region_store_mvcc(c->st[i].s), NULL, k,
                              strlen(k), MVCC_TS_MAX - 1, &r);
            bool ok = rc == 0 && r.npairs == 1 &&
                      r.pairs[0].value_len == strlen(value) &&
                      memcmp(r.pairs[0].value, value, strlen(value)) == 0;
            mvcc_result_reset(&r);
            if (ok)
                break;
            if (t == 20000) {
                fprintf(stderr, "bench_gc: store %d never applied\n", i);
                exit(1);
            }
            struct timespec nap = {0, 1000000};
            nanosleep(&nap, NULL);
        }
    }
}

/* A sweep of every store at sp: wall ms, records read (all stores). */
static double sweep(struct cluster *c, uint64_t sp, uint64_t *records,
                    uint64_t *swept)
{
    uint64_t r0 = 0, r1 = 0, s0 = 0, s1 = 0;
    struct region_store_stats st;
    for (int i = 1; i <= c->n; i++) {
        region_store_stats(c->st[i].s, &st);
        r0 += st.gc_records_read;
        s0 += st.gc_regions_swept;
    }
    double t0 = now_ms();
    for (int i = 1; i <= c->n; i++) {
        uint64_t removed;
        if (region_store_gc(c->st[i].s, sp, &removed) != 0) {
            fprintf(stderr, "bench_gc: sweep failed on store %d\n", i);
            exit(1);
        }
    }
    double ms = now_ms() - t0;
    for (int i = 1; i <= c->n; i++) {
        region_store_stats(c->st[i].s, &st);
        r1 += st.gc_records_read;
        s1 += st.gc_regions_swept;
    }
    *records = r1 - r0;
    *swept = s1 - s0;
    return ms;
}

int main(void)
{
    struct cluster c;
    memset(&c, 0, sizeof c);
    cl_init(&c, 3, false);
    char lo[16], hi[16];
    for (int r = 0; r < N_REGIONS; r++) {
        snprintf(lo, sizeof lo, "k%03d", r);
        snprintf(hi, sizeof hi, "k%03d", r + 1);
        cl_bootstrap(&c, (uint64_t)r + 1, r == 0 ? NULL : lo,
                     r == N_REGIONS - 1 ? NULL : hi);
    }
    cl_thread_start(&c);
    for (int r = 0; r < N_REGIONS; r++) {
        write_all(&c, r, "first", 10, 11);
        write_all(&c, r, "second", 20, 21);
    }
    for (int r = 0; r < N_REGIONS; r++)
        await_all(&c, r, "second");
    uint64_t rec_first, rec_hot, sw_first, sw_hot;
    double first = sweep(&c, 30, &rec_first, &sw_first);
    write_all(&c, 0, "third", 40, 41);
    await_all(&c, 0, "third");
    double hot = sweep(&c, 50, &rec_hot, &sw_hot);
    printf("INFO gc_first_sweep regions=%llu gc_hot_sweep regions=%llu "
           "(3 stores x %d regions of %d keys)\n",
           (unsigned long long)sw_first, (unsigned long long)sw_hot,
           N_REGIONS, N_KEYS);
    printf("BENCH gc_first_sweep_records %llu records\n",
           (unsigned long long)rec_first);
    printf("BENCH gc_first_sweep_ms %.2f ms\n", first);
    printf("BENCH gc_hot_sweep_records %llu records\n",
           (unsigned long long)rec_hot);
    printf("BENCH gc_hot_sweep_ms %.2f ms\n", hot);
    printf("BENCH gc_hot_vs_first %.3f x\n", first > 0 ? hot / first : 0);
    cl_thread_stop(&c);
    cl_destroy(&c);
    return 0;
}

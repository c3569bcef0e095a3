/* bench_split_check.c: how long an automatic split's size check and split
 * key search hold up the store loop. Three stores in one process (RocksDB,
 * no fsync: the figure is reading, not syncing); region 1 is filled with
 * 100-byte values through store 1 in batches of 256 puts until it splits
 * (split_size: 96 MiB, or argv[1] MiB). Every loop round (the three
 * stores processed once each) is timed. The same writes are then made
 * again into a fresh cluster that never splits: its longest round is
 * what the workload costs without any check (RocksDB's flushes, log GC).
 * A size check run on the loop makes the split run's longest round as
 * long as reading split_size bytes (libregion before 0.25).
 * Prints BENCH lines (`make -C libregion bench`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"

static long inflight;
static long failed;

static void on_done(void *ud, const struct region_reply *r)
{
    (void)ud;
    inflight--;
    if (r->rc != 0)
        failed++; /* the batch in flight at the split: EpochNotMatch */
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { BATCH = 256, VAL = 100 };

struct result
{
    long keys;         /* keys written */
    double secs;       /* time it took */
    double worst_ms;   /* longest round */
    double p99_ms;     /* 99th percentile round */
    uint64_t checks;   /* size checks */
    uint64_t check_ns; /* time they read */
};

/* Write until region 1 splits (split_size > 0) or until `keys` keys
 * were written (split_size 0). */
static void run(uint64_t split_size, long keys, struct result *out)
{
    struct cluster c = {0};
    c.split_size = split_size;
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    cl_lead(&c, 1, 1);
    struct region_store *s = c.st[1].s;
    size_t cap = 1 << 16, n = 0;
    double *rounds = malloc(cap * sizeof *rounds);
    static char kbuf[BATCH][24];
    struct region_op ops[BATCH];
    char val[VAL];
    memset(val, 'v', sizeof val);
    long next = 0;
    double worst = 0, t0 = now_ms();
    struct region_store_stats st;
    inflight = failed = 0;
    for (;;) {
        region_store_stats(s, &st);
        bool done = split_size ? st.splits > 0 : next >= keys;
        if (done && inflight == 0)
            break;
        if (!done && inflight == 0) {
            for (int i = 0; i < BATCH; i++, next++) {
                snprintf(kbuf[i], sizeof kbuf[i], "k%08ld", next);
                ops[i] = (struct region_op){REGION_OP_PUT, kbuf[i],
                                            strlen(kbuf[i]), val, VAL};
            }
            struct region_ctx ctx = {1, 0, 0};
            inflight++;
            if (region_raw_write(s, &ctx, ops, BATCH, on_done, NULL, NULL) !=
                0) {
                fprintf(stderr, "bench_split_check: write refused\n");
                exit(1);
            }
        }
        double a = now_ms();
        cl_pump(&c, 1);
        cl_drain(&c);
        double d = now_ms() - a;
        if (d > worst)
            worst = d;
        if (n == cap) {
            cap *= 2;
            rounds = realloc(rounds, cap * sizeof *rounds);
        }
        if (rounds == NULL) {
            fprintf(stderr, "bench_split_check: out of memory\n");
            exit(1);
        }
        rounds[n++] = d;
        if (now_ms() - t0 > 600e3) {
            fprintf(stderr, "bench_split_check: no split in 10 minutes\n");
            exit(1);
        }
    }
    qsort(rounds, n, sizeof *rounds, cmp_double);
    *out = (struct result){next,
                           (now_ms() - t0) / 1e3,
                           worst,
                           rounds[n * 99 / 100],
                           st.split_checks,
                           st.split_check_ns};
    free(rounds);
    cl_destroy(&c);
}

int main(int argc, char **argv)
{
    unsigned long long mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 96;
    if (mib == 0)
        mib = 96;
    struct result sp, base;
    run(mib << 20, 0, &sp);
    long sp_failed = failed;
    run(0, sp.keys, &base);
    printf(
        "INFO split run: %ld keys (%.1f MiB of keys and values) in "
        "%.1f s, %llu size checks reading %.0f ms in all, %ld batch "
        "failed (EpochNotMatch at the split); same writes unsplit in "
        "%.1f s\n",
        sp.keys, (double)sp.keys * (9 + VAL) / (1 << 20), sp.secs,
        (unsigned long long)sp.checks, (double)sp.check_ns / 1e6, sp_failed,
        base.secs);
    printf("BENCH region_split_%llumib_worst_round %.1f ms\n", mib,
           sp.worst_ms);
    printf("BENCH region_split_%llumib_p99_round %.2f ms\n", mib, sp.p99_ms);
    printf("BENCH region_nosplit_%llumib_worst_round %.1f ms\n", mib,
           base.worst_ms);
    printf("BENCH region_nosplit_%llumib_p99_round %.2f ms\n", mib,
           base.p99_ms);
    return sp_failed > 1 || failed != 0;
}

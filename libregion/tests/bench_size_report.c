/* bench_size_report.c: what kvd's region heartbeats cost to size their
 * regions. One store (RocksDB, no fsync) holding R regions of K raw keys
 * with 100-byte values (16 x 100,000, or argv[1] x argv[2]); a heartbeat
 * round sizes every region, as kvd's pd thread does each
 * pd.heartbeat-interval. Timed: a round that counts each region
 * (region_store_region_size, capped at kvd's 200,000 entries: libregion
 * before 0.25), then rounds of region_store_region_size_kept: the first
 * (nothing kept yet: it counts), the next (kept), and one after a put to
 * every region (kept, raised by the put). Prints BENCH lines
 * (`make -C libregion bench`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"

enum { BATCH = 256, VAL = 100, CAP = 200000 };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One heartbeat round over regions 1..r: ms it took; *counted gets how
 * many regions were read. */
static double round_ms(struct region_store *s,
                       int r,
                       bool kept,
                       int *counted,
                       uint64_t *bytes)
{
    *counted = 0;
    *bytes = 0;
    double t0 = now_ms();
    for (int i = 1; i <= r; i++) {
        struct region_size z;
        bool c = true;
        int rc =
            kept ? region_store_region_size_kept(s, (uint64_t)i, CAP, &z, &c)
                 : region_store_region_size(s, (uint64_t)i, CAP, &z);
        if (rc != 0) {
            fprintf(stderr, "bench_size_report: region %d: %d\n", i, rc);
            exit(1);
        }
        *counted += c;
        *bytes += z.bytes;
    }
    return now_ms() - t0;
}

int main(int argc, char **argv)
{
    int r = argc > 1 ? atoi(argv[1]) : 16;
    long k = argc > 2 ? atol(argv[2]) : 100000;
    if (r < 1 || r > 26 || k < 1) {
        fprintf(stderr, "usage: bench_size_report [regions 1-26] [keys]\n");
        return 2;
    }
    struct cluster c = {0};
    cl_init(&c, 1, false);
    char lo[2] = "a", hi[2] = "b";
    for (int i = 0; i < r; i++) {
        lo[0] = (char)('a' + i);
        hi[0] = (char)('a' + i + 1);
        cl_bootstrap(&c, (uint64_t)i + 1, i == 0 ? NULL : lo,
                     i == r - 1 ? NULL : hi);
        cl_wait_leader(&c, (uint64_t)i + 1);
    }
    static char keys[BATCH][24];
    struct region_op ops[BATCH];
    char val[VAL];
    memset(val, 'v', sizeof val);
    double t0 = now_ms();
    for (int i = 0; i < r; i++)
        for (long n = 0; n < k;) {
            int b = 0;
            for (; b < BATCH && n < k; b++, n++) {
                snprintf(keys[b], sizeof keys[b], "%c%08ld", 'a' + i, n);
                ops[b] = (struct region_op){REGION_OP_PUT, keys[b],
                                            strlen(keys[b]), val, VAL};
            }
            if (cl_write(&c, 1, (uint64_t)i + 1, ops, (size_t)b, NULL) != 0) {
                fprintf(stderr, "bench_size_report: write failed\n");
                return 1;
            }
        }
    double load = now_ms() - t0;
    struct region_store *s = c.st[1].s;
    int n_count, n_first, n_kept, n_put;
    uint64_t b_count, b_first, b_kept, b_put;
    double count = round_ms(s, r, false, &n_count, &b_count);
    double first = round_ms(s, r, true, &n_first, &b_first);
    double kept = round_ms(s, r, true, &n_kept, &b_kept);
    for (int i = 0; i < r; i++) {
        char key[16];
        snprintf(key, sizeof key, "%c-put", 'a' + i);
        if (cl_put(&c, 1, (uint64_t)i + 1, key, "v", NULL) != 0)
            return 1;
    }
    double put = round_ms(s, r, true, &n_put, &b_put);
    printf(
        "INFO %d regions x %ld keys loaded in %.1f s; MiB reported: "
        "counted %.1f, first kept round %.1f, kept %.1f, after a put "
        "each %.1f; regions read: %d, %d, %d, %d\n",
        r, k, load / 1e3, (double)b_count / (1 << 20),
        (double)b_first / (1 << 20), (double)b_kept / (1 << 20),
        (double)b_put / (1 << 20), n_count, n_first, n_kept, n_put);
    printf("BENCH region_size_report_%dx%ld_count_round %.1f ms\n", r, k,
           count);
    printf("BENCH region_size_report_%dx%ld_kept_first_round %.1f ms\n", r, k,
           first);
    printf("BENCH region_size_report_%dx%ld_kept_round %.3f ms\n", r, k, kept);
    printf("BENCH region_size_report_%dx%ld_kept_round_after_puts %.3f ms\n", r,
           k, put);
    cl_destroy(&c);
    return n_kept != 0 || n_put != 0 || n_first != r || b_kept != b_first;
}

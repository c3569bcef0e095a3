/* bench_pd.c: libpd's hot paths in one thread, no network: timestamps per
 * second one at a time and in batches of 64 (what pdd hands one batched RPC),
 * region lookups by key and by id over 100k regions, and stats-only region
 * heartbeats. Prints "BENCH <name> <value> <unit>" lines.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "pd.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct pd_memlog *log_;
static size_t applied;

static void tso(struct pd *pd, uint32_t batch, const char *name)
{
    uint64_t n = 0;
    pd_ts last = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 1000; i++) {
            pd_ts ts;
            int rc = pd_tso_get(pd, wall_ms(), batch, &ts);
            if (rc == PD_ENOTREADY) {
                pd_memlog_apply(log_, pd, &applied);
                continue;
            }
            if (rc != 0 || ts <= last) {
                fprintf(stderr, "tso failed: %d\n", rc);
                return;
            }
            last = ts + batch - 1;
            n += batch;
        }
        pd_memlog_apply(log_, pd, &applied);
        t = now_s() - t0;
    } while (t < 0.5);
    printf("BENCH %s %.0f ts/s\n", name, (double)n / t);
}

int main(void)
{
    struct pd *pd;
    pd_memlog_create(&log_);
    struct pd_storage st = pd_memlog_storage(log_);
    pd_create(NULL, &st, &pd);
    pd_become_leader(pd, wall_ms(), 0);
    pd_memlog_apply(log_, pd, &applied);
    tso(pd, 1, "tso_single");
    tso(pd, 64, "tso_batch64");

    /* 100k regions [k%08d, k%08d+1), 3 peers each. */
    struct pd_store s1 = fx_store(1, NULL, NULL);
    uint64_t one = 1, three[] = {1, 2, 3};
    struct pd_region_info r = fx_region(1, NULL, NULL, 1, 1, 1, 0, 1, &one);
    pd_bootstrap(pd, 42, &s1, &r.region);
    pd_memlog_apply(log_, pd, &applied);
    enum { N = 100000 };
    static char keys[N + 1][12];
    for (int i = 0; i <= N; i++)
        snprintf(keys[i], sizeof(keys[0]), "k%08d", i);
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        r = fx_region((uint64_t)i + 10, i == 0 ? NULL : keys[i],
                      i == N - 1 ? NULL : keys[i + 1], 1, 2, 1, 1, 3, three);
        pd_region_heartbeat(pd, 0, &r, NULL);
        pd_memlog_apply(log_, pd, &applied);
    }
    double t = now_s() - t0;
    printf("BENCH region_insert_100k %.0f regions/s\n", N / t);
    printf("BENCH region_count %zu regions\n", pd_region_count(pd));

    uint64_t n = 0, found = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 10000; i++) {
            struct pd_region_info out;
            int k = (int)((n * 7919) % N);
            const uint8_t *key = (const uint8_t *)keys[k];
            found += pd_region_by_key(pd, key, 9, &out) == 0;
            n++;
        }
        t = now_s() - t0;
    } while (t < 0.5);
    printf("BENCH region_by_key %.0f lookups/s\n", (double)n / t);
    if (found != n)
        fprintf(stderr, "lookup misses: %llu\n",
                (unsigned long long)(n - found));
    n = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 10000; i++) {
            struct pd_region_info out;
            pd_region_by_id(pd, (n * 7919) % N + 10, &out);
            n++;
        }
        t = now_s() - t0;
    } while (t < 0.5);
    printf("BENCH region_by_id %.0f lookups/s\n", (double)n / t);
    n = 0;
    t0 = now_s();
    do {
        for (int i = 0; i < 1000; i++) {
            int k = (int)((n * 7919) % N);
            r = fx_region((uint64_t)k + 10, k == 0 ? NULL : keys[k],
                          k == N - 1 ? NULL : keys[k + 1], 1, 2, 2, 3, 3,
                          three);
            struct pd_step step;
            pd_region_heartbeat(pd, 1, &r, &step);
            n++;
        }
        t = now_s() - t0;
    } while (t < 0.5);
    printf("BENCH region_heartbeat %.0f heartbeats/s\n", (double)n / t);
    if (pd_memlog_count(log_) != applied)
        fprintf(stderr, "stats-only heartbeats proposed commands\n");

    /* One scheduling round over the 100k regions (one store: nothing to
     * balance, every region short of replicas but no target): the cost of
     * looking. */
    t0 = now_s();
    struct pd_operator ops[8];
    size_t nops;
    pd_schedule(pd, 1, ops, 8, &nops);
    t = now_s() - t0;
    printf("BENCH schedule_round_100k %.1f ms\n", t * 1000);
    pd_destroy(pd);
    pd_memlog_destroy(log_);
    return 0;
}

/* bench_idle.c: what idle regions cost, without and with hibernation
 * (DESIGN.md "Hibernation"): 3 stores in one process holding 2000
 * regions, every one with a leader; per loop tick of all three stores:
 * CPU time, Raft ticks fed and Raft messages sent. Prints BENCH lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"

static int n_regions = 2000; /* regions (argv[2] for callgrind runs) */

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void totals(struct cluster *c, uint64_t *ticks, uint64_t *msgs,
                   uint64_t *leaders, uint64_t *asleep)
{
    *ticks = *msgs = *leaders = *asleep = 0;
    for (int i = 1; i <= 3; i++) {
        struct region_store_stats st;
        region_store_stats(c->st[i].s, &st);
        *ticks += st.ticks;
        *msgs += st.msgs_sent;
        *leaders += st.leaders;
        *asleep += st.hibernated;
    }
}

/* The measured ticks, a function of their own so that callgrind can
 * count them alone (--toggle-collect=idle_ticks). */
__attribute__((noinline)) static void idle_ticks(struct cluster *c, int n);
static void idle_ticks(struct cluster *c, int n)
{
    for (int t = 0; t < n; t++)
        cl_tick(c);
}

/* One run; hibernate: the lease on the (simulated) clock, regions sleep. */
static int run(bool hibernate, double *cpu_per_tick)
{
    struct cluster c;
    memset(&c, 0, sizeof c);
    c.tick_ms = 100;
    c.no_hibernate = !hibernate;
    cl_init(&c, 3, false);
    char lo[16], hi[16];
    for (int r = 0; r < n_regions; r++) {
        snprintf(lo, sizeof lo, "k%05d", r);
        snprintf(hi, sizeof hi, "k%05d", r + 1);
        cl_bootstrap(&c, (uint64_t)r + 1, r == 0 ? NULL : lo,
                     r == n_regions - 1 ? NULL : hi);
    }
    uint64_t ticks, msgs, leaders = 0, asleep;
    for (int t = 0; t < 400 && leaders < (uint64_t)n_regions; t++) {
        cl_tick(&c);
        totals(&c, &ticks, &msgs, &leaders, &asleep);
    }
    if (leaders < (uint64_t)n_regions) {
        fprintf(stderr, "only %llu leaders\n", (unsigned long long)leaders);
        cl_destroy(&c);
        return 1;
    }
    for (int t = 0; t < 60; t++) /* settle (and fall asleep) */
        cl_tick(&c);
    const char *sfx = hibernate ? "hib" : "nohib";
    totals(&c, &ticks, &msgs, &leaders, &asleep);
    printf("BENCH region_idle_%s_asleep %llu peers (of %d)\n", sfx,
           (unsigned long long)asleep, 3 * n_regions);
    uint64_t t0 = ticks, m0 = msgs;
    int n = 100;
    double c0 = cpu_s();
    idle_ticks(&c, n);
    double dt = cpu_s() - c0;
    totals(&c, &ticks, &msgs, &leaders, &asleep);
    printf("BENCH region_idle_%s_cpu_per_tick %.3f ms (3 stores, %d "
           "regions)\n", sfx, dt / n * 1e3, n_regions);
    printf("BENCH region_idle_%s_cpu_per_region_tick %.3f us\n", sfx,
           dt / n / n_regions * 1e6);
    printf("BENCH region_idle_%s_raft_ticks_per_tick %.1f ticks\n", sfx,
           (double)(ticks - t0) / n);
    printf("BENCH region_idle_%s_msgs_per_tick %.1f msgs\n", sfx,
           (double)(msgs - m0) / n);
    *cpu_per_tick = dt / n;
    cl_destroy(&c);
    return 0;
}

int main(int argc, char **argv)
{
    /* "hib" or "nohib" runs one mode alone (for callgrind), with
     * argv[2] regions */
    const char *only = argc > 1 ? argv[1] : NULL;
    if (argc > 2 && atoi(argv[2]) > 0)
        n_regions = atoi(argv[2]);
    double off = 0, on = 0;
    if ((only == NULL || strcmp(only, "nohib") == 0) && run(false, &off))
        return 1;
    if ((only == NULL || strcmp(only, "hib") == 0) && run(true, &on))
        return 1;
    if (only == NULL && on > 0)
        printf("BENCH region_idle_cpu_nohib_vs_hib %.1f x\n", off / on);
    return 0;
}

/* bench_idle.c: what idle regions cost without hibernation: 3 stores in
 * one process holding 2000 regions, every one with a leader; CPU time per
 * tick of all three stores (ticks, heartbeats batched per destination,
 * their persistence and delivery), per region. Prints BENCH lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cluster.h"

#define NREG 2000

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    struct cluster c = {0};
    cl_init(&c, 3, false);
    char lo[16], hi[16];
    for (int r = 0; r < NREG; r++) {
        snprintf(lo, sizeof lo, "k%05d", r);
        snprintf(hi, sizeof hi, "k%05d", r + 1);
        cl_bootstrap(&c, (uint64_t)r + 1, r == 0 ? NULL : lo,
                     r == NREG - 1 ? NULL : hi);
    }
    uint64_t leaders = 0;
    for (int t = 0; t < 400 && leaders < NREG; t++) {
        cl_tick(&c);
        leaders = 0;
        for (int i = 1; i <= 3; i++) {
            struct region_store_stats st;
            region_store_stats(c.st[i].s, &st);
            leaders += st.leaders;
        }
    }
    if (leaders < NREG) {
        fprintf(stderr, "only %llu leaders\n", (unsigned long long)leaders);
        return 1;
    }
    for (int t = 0; t < 20; t++) /* settle */
        cl_tick(&c);
    int ticks = 100;
    double t0 = cpu_s();
    for (int t = 0; t < ticks; t++)
        cl_tick(&c);
    double dt = cpu_s() - t0;
    printf("BENCH region_idle_cpu_per_tick %.1f ms (3 stores, %d regions)\n",
           dt / ticks * 1e3, NREG);
    printf("BENCH region_idle_cpu_per_region_tick %.2f us\n",
           dt / ticks / NREG * 1e6);
    cl_destroy(&c);
    return 0;
}

/* bench_release.c: what releasing a decoded reply costs, rpc_msg_release
 * (blob.c: its pointer fields freed directly, by-value submessages
 * included) against nanopb's pb_release walk, on a message shaped like
 * kvd's Raw reply (a by-value error submessage with pointers two levels
 * down, a string and a value set). Counted with callgrind:
 *   BENCH_RELEASE=fast|walk scripts/instr-per-op.sh rpc_release_instr \
 *       build/default/librpc/bench/bench_release 20000
 * Run alone (`make -C librpc bench`) it times both and prints
 * BENCH rpc_release_<fast|walk>_ns and rpc_release_fast_vs_walk.
 * Usage: bench_release [releases] (200000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pb_decode.h>

#include "rpc.h"
#include "rpc_test.pb.h"

static void fill(rpc_ReleaseMsg *m)
{
    memset(m, 0, sizeof *m);
    m->top = malloc(sizeof *m->top + 100);
    m->inner.text = malloc(16);
    if (m->top == NULL || m->inner.text == NULL)
        abort();
    m->top->size = 100;
    memset(m->top->bytes, 'v', 100);
    strcpy(m->inner.text, "not leader");
    m->n = 1;
}

static double run(long n, bool walk)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        rpc_ReleaseMsg m;
        fill(&m);
        if (walk)
            pb_release(rpc_ReleaseMsg_fields, &m);
        else
            rpc_msg_release(rpc_ReleaseMsg_fields, &m);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    return ((double)(b.tv_sec - a.tv_sec) * 1e9 +
            (double)(b.tv_nsec - a.tv_nsec)) / (double)n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    const char *mode = getenv("BENCH_RELEASE");
    if (n <= 0) {
        fprintf(stderr, "usage: bench_release [releases]\n");
        return 2;
    }
    if (mode != NULL) { /* one mode, for callgrind */
        run(n, strcmp(mode, "walk") == 0);
        return 0;
    }
    double fast = run(n, false), walk = run(n, true);
    printf("BENCH rpc_release_fast_ns %.1f ns\n", fast);
    printf("BENCH rpc_release_walk_ns %.1f ns\n", walk);
    printf("BENCH rpc_release_fast_vs_walk %.2f x\n",
           fast > 0 ? walk / fast : 0);
    return 0;
}

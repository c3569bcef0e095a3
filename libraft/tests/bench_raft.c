/* bench_raft.c: a 3-voter cluster in one process on memory storage,
 * messages passed as structs. Prints committed entries per second and CPU
 * time per entry for 64-byte entries proposed one at a time and in
 * batches (BENCH lines). BENCH_ENTRIES scales the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raft.h"

#define N 3

static struct raft_memstore *ms[N];
static struct raft_node *nodes[N];
static raft_index applied[N];

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_raft: %s: %s\n", what, raft_strerror(rc));
    exit(1);
}

static void setup(void)
{
    struct raft_conf_state cs;
    memset(&cs, 0, sizeof(cs));
    for (int i = 0; i < N; i++)
        cs.voters[cs.n_voters++] = (raft_id)(i + 1);
    for (int i = 0; i < N; i++) {
        int rc = raft_memstore_create(&ms[i]);
        if (rc == 0)
            rc = raft_memstore_bootstrap(ms[i], &cs);
        if (rc != 0)
            die("memstore", rc);
        struct raft_config c;
        memset(&c, 0, sizeof(c));
        c.id = (raft_id)(i + 1);
        c.storage = raft_memstore_storage(ms[i]);
        c.applied = 1;
        c.seed = 1;
        c.max_inflight_msgs = 1024;
        c.max_size_per_msg = 4 << 20;
        rc = raft_node_create(&c, &nodes[i]);
        if (rc != 0)
            die("node", rc);
        applied[i] = 1;
    }
}

static void teardown(void)
{
    for (int i = 0; i < N; i++) {
        raft_node_destroy(nodes[i]);
        raft_memstore_destroy(ms[i]);
    }
}

static void deliver(const struct raft_message *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = raft_node_step(nodes[m[i].to - 1], &m[i]);
        if (rc != 0 && rc != RAFT_EDROPPED)
            die("step", rc);
    }
}

/* Process every node's ready until the cluster is quiet. */
static void pump(void)
{
    bool any = true;
    while (any) {
        any = false;
        for (int i = 0; i < N; i++) {
            if (!raft_node_has_ready(nodes[i]))
                continue;
            any = true;
            struct raft_ready rd;
            int rc = raft_node_ready(nodes[i], &rd);
            if (rc != 0)
                die("ready", rc);
            deliver(rd.messages, rd.n_messages);
            if (rd.n_entries > 0 &&
                (rc = raft_memstore_append(ms[i], rd.entries, rd.n_entries)))
                die("append", rc);
            if (rd.hard_changed)
                raft_memstore_set_hard_state(ms[i], &rd.hs);
            deliver(rd.after, rd.n_after);
            if (rd.n_committed > 0)
                applied[i] = rd.committed[rd.n_committed - 1].index;
            if ((rc = raft_node_advance(nodes[i], &rd)) != 0)
                die("advance", rc);
            if (applied[i] > 20000 && applied[i] % 8192 < 64) {
                /* Keep memory bounded: drop most of the applied log. */
                struct raft_storage *s = raft_memstore_storage(ms[i]);
                raft_index first;
                s->ops->first_index(s, &first);
                if (applied[i] - 10000 > first)
                    raft_memstore_compact(ms[i], applied[i] - 10000);
            }
        }
    }
}

/* The measured part; `make -C libraft callgrind` counts instructions
 * inside this function only (--toggle-collect). */
__attribute__((noinline)) static uint64_t
measured_loop(const struct raft_buf *bufs, uint32_t batch, uint64_t total)
{
    raft_index start = applied[0];
    uint64_t done = 0;
    while (done < total) {
        int rc = raft_node_propose_batch(nodes[0], bufs, batch, NULL);
        if (rc != 0)
            die("propose", rc);
        pump();
        done = applied[0] - start;
    }
    return done;
}

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(const char *name, uint64_t total, uint32_t batch)
{
    setup();
    raft_node_campaign(nodes[0]);
    pump();
    uint8_t payload[64];
    memset(payload, 'x', sizeof(payload));
    struct raft_buf *bufs = malloc(batch * sizeof(*bufs));
    for (uint32_t i = 0; i < batch; i++) {
        bufs[i].data = payload;
        bufs[i].len = sizeof(payload);
    }
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t done = measured_loop(bufs, batch, total);
    double w = now(CLOCK_MONOTONIC) - w0;
    double c = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (getenv("BENCH_MODE") != NULL) {
        printf("entries %llu\n", (unsigned long long)done);
        free(bufs);
        teardown();
        return;
    }
    printf("BENCH raft_%s_entries_per_sec %.0f entries/s\n", name,
           (double)done / w);
    printf("BENCH raft_%s_cpu_per_entry %.3f us\n", name,
           c * 1e6 / (double)done);
    free(bufs);
    teardown();
}

int main(void)
{
    const char *e = getenv("BENCH_ENTRIES");
    uint64_t total = e ? strtoull(e, NULL, 10) : 2000000;
    const char *mode = getenv("BENCH_MODE");
    if (mode != NULL) {
        /* One fixed workload, for callgrind. */
        if (strcmp(mode, "single") == 0)
            run("single", total, 1);
        else
            run("batch1024", total, 1024);
        return 0;
    }
    run("single", total / 10, 1);
    run("batch64", total, 64);
    run("batch1024", total, 1024);
    return 0;
}

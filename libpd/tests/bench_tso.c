/* bench_tso.c: `make -C libpd bench`: timestamps and region lookups per
 * second through libpd's client against three real pdd on loopback (ports
 * 22201-22203), with 1 and 64 client threads, over the Tso stream and
 * (a second client, no_streams) unary Tso calls side by side; p99 latency
 * at 64; lookups
 * through the client's region cache. Prints
 * BENCH lines (DESIGN.md, "Benchmark"). Needs build/<variant>/daemons/
 * bin/pdd (the bench target builds it); says so and exits 0 without it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pd.h"
#include "pd.pb.h"

#define SECONDS_PER_RUN (getenv("BENCH_TSO_ONLY") ? 4.0 : 2.0)

static const char *addrs[3] = {"127.0.0.1:22201", "127.0.0.1:22202",
                               "127.0.0.1:22203"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct run
{
    struct pd_client *c; /* shared */
    int kind;            /* 0 tso, 1 region lookup, 2 cached lookup */
    uint32_t count;      /* timestamps per call */
    double end;          /* stop time */
    double *lat;         /* latencies (s), room for max_lat */
    size_t max_lat;      /* capacity */
    size_t n;            /* calls done */
    int rc;              /* first failure */
};

static void *worker(void *arg)
{
    struct run *r = arg;
    char err[256];
    pd_ts prev = 0;
    while (now_s() < r->end) {
        double t0 = now_s();
        int rc;
        if (r->kind == 0) {
            pd_ts first = 0;
            rc = pd_client_tso(r->c, r->count, &first, err, sizeof(err));
            if (rc == 0 && first <= prev) {
                fprintf(stderr, "bench: timestamps went back\n");
                rc = PD_EINTERNAL;
            }
            prev = first;
        } else if (r->kind == 2) {
            static __thread struct pd_client_region reg;
            rc = pd_client_region_by_key(r->c, (const uint8_t *)"k", 1, &reg,
                                         err, sizeof(err));
        } else {
            PB_BYTES_ARRAY_T(1) kb = {1, {'k'}};
            pb_bytes_array_t *k = (pb_bytes_array_t *)(void *)&kb;
            pd_GetRegionRequest req = {.cluster_id = 42, .key = k};
            pd_GetRegionResponse resp;
            rc = pd_client_call(r->c, PD_METHOD_GET_REGION,
                                pd_GetRegionRequest_fields, &req,
                                pd_GetRegionResponse_fields, &resp,
                                sizeof(resp), err, sizeof(err));
            if (rc == 0)
                pd_client_release(pd_GetRegionResponse_fields, &resp);
        }
        if (rc != 0) {
            fprintf(stderr, "bench: call failed: %s\n", err);
            r->rc = rc;
            return NULL;
        }
        if (r->n < r->max_lat)
            r->lat[r->n] = now_s() - t0;
        r->n++;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs threads workers; returns calls per second and the p99 (us). */
static int measure(struct pd_client *c, int kind, int threads, uint32_t count,
                   double *per_s, double *p99_us)
{
    struct run *runs = calloc((size_t)threads, sizeof(*runs));
    pthread_t *th = calloc((size_t)threads, sizeof(*th));
    size_t cap = 2000000 / (size_t)threads + 1;
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        runs[i] = (struct run){.c = c, .kind = kind, .count = count,
                               .end = t0 + SECONDS_PER_RUN,
                               .lat = calloc(cap, sizeof(double)),
                               .max_lat = cap};
        pthread_create(&th[i], NULL, worker, &runs[i]);
    }
    size_t total = 0, nl = 0;
    int rc = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += runs[i].n;
        nl += runs[i].n < cap ? runs[i].n : cap;
        if (runs[i].rc)
            rc = runs[i].rc;
    }
    double el = now_s() - t0;
    double *all = calloc(nl + 1, sizeof(double));
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        size_t m = runs[i].n < cap ? runs[i].n : cap;
        memcpy(all + k, runs[i].lat, m * sizeof(double));
        k += m;
        free(runs[i].lat);
    }
    qsort(all, nl, sizeof(double), cmp_double);
    *per_s = (double)total / el;
    *p99_us = nl ? all[(size_t)((double)(nl - 1) * 0.99)] * 1e6 : 0;
    free(all);
    free(runs);
    free(th);
    return rc;
}

static pid_t pids[3];

static double proc_cpu_s(pid_t pid);
static double pdd_cpu_s(void);

/* One path's Tso figures (the stream, or unary calls). */
struct tso_fig
{
    double calls1;     /* calls/s, one thread */
    double calls64;    /* calls/s, 64 threads */
    double client_cpu; /* us of client CPU per request at 64 */
    double pdd_cpu;    /* us of CPU in the three pdd per request at 64 */
    double async64;    /* timestamps/s, 64 async callers, one each */
};

/* Asynchronous callers (pd_client_tso_async): `slots` requests kept in
 * flight, each answer starting the next, all on the client's loop thread:
 * no thread per caller, so no wake-up per timestamp. */
struct async_bench
{
    struct pd_client *c; /* client */
    double end;          /* stop starting requests after this */
    double *lat;         /* latencies (s) */
    size_t cap;          /* room in lat */
    size_t n;            /* answers */
    int live;            /* requests in flight */
    int rc;              /* first failure */
};

struct async_slot
{
    struct async_bench *b; /* shared state */
    double t0;             /* when its request started */
    pd_ts prev;            /* its last timestamp */
};

static void async_bench_done(int rc, pd_ts first, const char *errmsg,
                             void *ud)
{
    struct async_slot *s = ud;
    struct async_bench *b = s->b;
    double t = now_s();
    if (rc != 0 || first <= s->prev) {
        if (b->rc == 0)
            fprintf(stderr, "bench: async tso: %s\n",
                    rc ? errmsg : "timestamps went back");
        b->rc = rc ? rc : PD_EINTERNAL;
    }
    s->prev = first;
    if (b->n < b->cap)
        b->lat[b->n] = t - s->t0;
    b->n++;
    if (b->rc == 0 && t < b->end) {
        s->t0 = t;
        if (pd_client_tso_async(b->c, 1, async_bench_done, s) == 0)
            return;
    }
    __atomic_sub_fetch(&b->live, 1, __ATOMIC_RELEASE);
}

/* One timestamp per request, `slots` in flight: per second and p99 (us). */
static int measure_async(struct pd_client *c, int slots, double *per_s,
                         double *p99_us)
{
    struct async_bench b = {.c = c, .cap = 4000000, .live = slots};
    b.lat = calloc(b.cap, sizeof(double));
    struct async_slot *s = calloc((size_t)slots, sizeof(*s));
    if (!b.lat || !s)
        return -ENOMEM;
    double t0 = now_s();
    b.end = t0 + SECONDS_PER_RUN;
    for (int i = 0; i < slots; i++) {
        s[i] = (struct async_slot){.b = &b, .t0 = now_s()};
        if (pd_client_tso_async(c, 1, async_bench_done, &s[i]) != 0)
            __atomic_sub_fetch(&b.live, 1, __ATOMIC_RELEASE);
    }
    while (__atomic_load_n(&b.live, __ATOMIC_ACQUIRE) > 0)
        usleep(1000);
    double el = now_s() - t0;
    size_t nl = b.n < b.cap ? b.n : b.cap;
    qsort(b.lat, nl, sizeof(double), cmp_double);
    *per_s = (double)b.n / el;
    *p99_us = nl ? b.lat[(size_t)((double)(nl - 1) * 0.99)] * 1e6 : 0;
    free(b.lat);
    free(s);
    return b.rc;
}

/* BENCH_TSO_ONLY=stream|unary: a profiling run (DESIGN.md "Benchmark"):
 * prints the pids, waits 2 s (attach perf stat -p now), then 64 threads
 * take one timestamp per call on that path for 4 s; prints the requests,
 * the RPCs or stream messages that carried them, and the batches pdd
 * served, so counts taken from outside divide exactly. */
static int tso_profile(struct pd_client *c, const struct pd_client_options *co,
                       const char *path)
{
    struct pd_client *cu = NULL;
    char err[256];
    if (strcmp(path, "unary") == 0) {
        struct pd_client_options o = *co;
        o.no_streams = true;
        int rc = pd_client_create(&o, &cu, err, sizeof(err));
        if (rc)
            return rc;
        c = cu;
    }
    printf("PIDS %d %d %d %d\n", (int)getpid(), (int)pids[0], (int)pids[1],
           (int)pids[2]);
    fflush(stdout);
    sleep(2);
    struct pd_client_stats s0, s1;
    pd_client_stats(c, &s0);
    double per_s, p99;
    int rc = measure(c, 0, 64, 1, &per_s, &p99);
    pd_client_stats(c, &s1);
    printf("PROFILE %s requests %" PRIu64 " rpcs %" PRIu64
           " stream_msgs %" PRIu64 " calls/s %.0f p99_us %.0f\n",
           path, s1.tso_requests - s0.tso_requests,
           s1.tso_calls - s0.tso_calls, s1.stream_msgs - s0.stream_msgs,
           per_s, p99);
    pd_client_destroy(cu);
    return rc;
}

/* Tso with 1 and 64 threads (one timestamp per call) and 64 threads
 * asking 1000 each, through client c; BENCH names start tso_<label>. */
static int tso_figures(struct pd_client *c, const char *label,
                       struct tso_fig *out)
{
    double per_s, p99;
    struct pd_client_stats s0, s1;
    int rc = measure(c, 0, 1, 1, &per_s, &p99);
    if (rc)
        return rc;
    out->calls1 = per_s;
    printf("BENCH tso_%s1client_calls %.0f calls/s\n", label, per_s);
    printf("BENCH tso_%s1client_p99 %.0f us\n", label, p99);
    pd_client_stats(c, &s0);
    double pdd0 = pdd_cpu_s(), self0 = proc_cpu_s(getpid());
    if ((rc = measure(c, 0, 64, 1, &per_s, &p99)))
        return rc;
    double pdd1 = pdd_cpu_s(), self1 = proc_cpu_s(getpid());
    pd_client_stats(c, &s1);
    double calls = (double)(s1.tso_requests - s0.tso_requests);
    out->calls64 = per_s;
    out->client_cpu = (self1 - self0) * 1e6 / calls;
    out->pdd_cpu = (pdd1 - pdd0) * 1e6 / calls;
    printf("BENCH tso_%s64clients_calls %.0f calls/s\n", label, per_s);
    printf("BENCH tso_%s64clients_p99 %.0f us\n", label, p99);
    printf("BENCH tso_%s64clients_requests_per_rpc %.1f x\n", label,
           calls / (double)(s1.tso_calls - s0.tso_calls));
    printf("BENCH tso_%s64clients_pdd_cpu_per_request %.2f us\n", label,
           out->pdd_cpu);
    printf("BENCH tso_%s64clients_client_cpu_per_request %.2f us\n", label,
           out->client_cpu);
    if ((rc = measure(c, 0, 64, 1000, &per_s, &p99)))
        return rc;
    printf("BENCH tso_%s64clients_batch1000_timestamps %.0f ts/s\n", label,
           per_s * 1000);
    printf("BENCH tso_%s64clients_batch1000_p99 %.0f us\n", label, p99);
    pd_client_stats(c, &s0);
    pdd0 = pdd_cpu_s();
    self0 = proc_cpu_s(getpid());
    if ((rc = measure_async(c, 64, &per_s, &p99)))
        return rc;
    pdd1 = pdd_cpu_s();
    self1 = proc_cpu_s(getpid());
    pd_client_stats(c, &s1);
    calls = (double)(s1.tso_requests - s0.tso_requests);
    out->async64 = per_s;
    printf("BENCH tso_%s64async_timestamps %.0f ts/s\n", label, per_s);
    printf("BENCH tso_%s64async_p99 %.0f us\n", label, p99);
    printf("BENCH tso_%s64async_requests_per_rpc %.1f x\n", label,
           calls / (double)(s1.tso_calls - s0.tso_calls));
    printf("BENCH tso_%s64async_client_cpu_per_request %.2f us\n", label,
           (self1 - self0) * 1e6 / calls);
    printf("BENCH tso_%s64async_pdd_cpu_per_request %.2f us\n", label,
           (pdd1 - pdd0) * 1e6 / calls);
    return 0;
}

/* CPU seconds (user + system) used so far by process pid, from
 * /proc/<pid>/stat; the figures below divide it by calls, which moves
 * far less with the machine's load than calls per second do. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    /* After ") ": state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime. */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                            "%lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double pdd_cpu_s(void)
{
    double t = 0;
    for (int i = 0; i < 3; i++)
        t += proc_cpu_s(pids[i]);
    return t;
}

static void stop_all(void)
{
    for (int i = 0; i < 3; i++)
        if (pids[i] > 0) {
            kill(pids[i], SIGTERM);
            waitpid(pids[i], NULL, 0);
            pids[i] = 0;
        }
}

int main(void)
{
    char exe[PATH_MAX], pdd[PATH_MAX + 64], dir[] = "/tmp/pd-bench-XXXXXX";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return 1;
    exe[n] = '\0';
    /* build/<variant>/libpd/bench/bench_tso -> build/<variant>/daemons */
    for (int up = 0; up < 3; up++) {
        char *s = strrchr(exe, '/');
        if (s)
            *s = '\0';
    }
    snprintf(pdd, sizeof(pdd), "%s/daemons/bin/pdd", exe);
    if (access(pdd, X_OK) != 0) {
        printf("bench_tso: %s not built: skipped\n", pdd);
        return 0;
    }
    if (!mkdtemp(dir))
        return 1;
    for (int i = 0; i < 3; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            char name[32], listen[64], data[128], logf[128];
            snprintf(name, sizeof(name), "--name=b%d", i + 1);
            snprintf(listen, sizeof(listen), "--listen=%s", addrs[i]);
            snprintf(data, sizeof(data), "--data-dir=%s/d%d", dir, i + 1);
            snprintf(logf, sizeof(logf), "--log.file=%s/l%d", dir, i + 1);
            char members[256];
            snprintf(members, sizeof(members),
                     "--initial-members=b1=%s,b2=%s,b3=%s", addrs[0],
                     addrs[1], addrs[2]);
            execl(pdd, "pdd", name, listen, data, logf, members,
                  "--log.level=warn", (char *)NULL);
            _exit(127);
        }
    }
    struct pd_client_options co = {.endpoints = addrs, .n_endpoints = 3,
                                   .timeout_ms = 30000};
    struct pd_client *c = NULL, *cu = NULL;
    char err[256];
    int rc = -1;
    for (int tries = 0; tries < 300 && rc != 0; tries++) {
        rc = pd_client_create(&co, &c, err, sizeof(err));
        if (rc != 0)
            usleep(100000);
    }
    if (rc != 0) {
        fprintf(stderr, "bench_tso: pdd did not answer: %s\n", err);
        stop_all();
        return 1;
    }
    pd_ts t;
    if ((rc = pd_client_tso(c, 1, &t, err, sizeof(err))) != 0) {
        fprintf(stderr, "bench_tso: %s\n", err);
        goto out;
    }
    /* A bootstrapped cluster with one region for the lookups. */
    pd_Peer peer = {.id = 3, .store_id = 1};
    pd_BootstrapRequest breq = {
        .cluster_id = 42, .has_store = true,
        .store = {.id = 1, .address = (char *)"127.0.0.1:20160"},
        .has_region = true,
        .region = {.id = 2, .conf_ver = 1, .version = 1, .peers = &peer,
                   .peers_count = 1}};
    pd_BootstrapResponse bresp;
    if ((rc = pd_client_call(c, PD_METHOD_BOOTSTRAP, pd_BootstrapRequest_fields,
                             &breq, pd_BootstrapResponse_fields, &bresp,
                             sizeof(bresp), err, sizeof(err))) != 0) {
        fprintf(stderr, "bench_tso: bootstrap: %s\n", err);
        goto out;
    }
    double per_s, p99;
    struct tso_fig fs, fu;
    const char *only = getenv("BENCH_TSO_ONLY");
    if (only) {
        rc = tso_profile(c, &co, only);
        goto out;
    }
    if ((rc = tso_figures(c, "", &fs)) != 0)
        goto out;
    struct pd_client_options cou = co;
    cou.no_streams = true;
    if ((rc = pd_client_create(&cou, &cu, err, sizeof(err))) != 0) {
        fprintf(stderr, "bench_tso: unary client: %s\n", err);
        goto out;
    }
    if ((rc = tso_figures(cu, "unary_", &fu)) != 0)
        goto out;
    printf("BENCH tso_1client_vs_unary %.2f x\n", fs.calls1 / fu.calls1);
    printf("BENCH tso_64clients_vs_unary %.2f x\n", fs.calls64 / fu.calls64);
    printf("BENCH tso_64clients_client_cpu_vs_unary %.2f x\n",
           fs.client_cpu / fu.client_cpu);
    printf("BENCH tso_64clients_pdd_cpu_vs_unary %.2f x\n",
           fs.pdd_cpu / fu.pdd_cpu);
    printf("BENCH tso_64async_vs_unary %.2f x\n", fs.async64 / fu.async64);
    if ((rc = measure(c, 1, 1, 0, &per_s, &p99)))
        goto out;
    printf("BENCH region_lookup_1client %.0f lookups/s\n", per_s);
    if ((rc = measure(c, 1, 64, 0, &per_s, &p99)))
        goto out;
    printf("BENCH region_lookup_64clients %.0f lookups/s\n", per_s);
    printf("BENCH region_lookup_64clients_p99 %.0f us\n", p99);
    if ((rc = measure(c, 2, 64, 0, &per_s, &p99)))
        goto out;
    printf("BENCH region_lookup_cached_64clients %.0f lookups/s\n", per_s);
out:
    pd_client_destroy(cu);
    pd_client_destroy(c);
    stop_all();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_tso: could not remove %s\n", dir);
    return rc ? 1 : 0;
}

/* bench_echo.c: echo round trips per second and MB/s on loopback, librpc
 * against a plain blocking TCP echo (a thread per connection, one client
 * thread per caller blocking on write/read), with 1 and 64 concurrent
 * callers. librpc's 64 callers share one connection, so frames batch many
 * to a syscall. Prints BENCH lines; each case runs BENCH_SECONDS (2);
 * BENCH_ONLY=rpc:_16k_1 (or plain:_64, ...) runs one side of one case.
 * Linked with jemalloc, as the daemons are. The _cpu lines give CPU time
 * per round trip for the whole process (both ends), steadier than rates
 * on a loaded machine.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rpc_echo.pb.h"
#include "rpcutil.h"

static double seconds = 2.0;

/* CPU seconds used by the whole process (both ends, every thread). */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- librpc ---- */

struct rpc_bench
{
    struct rpc_client *cli; /* one connection */
    rpc_EchoRequest req;    /* the request every caller sends */
    bool stop;              /* the time is up */
    long done;              /* round trips completed in time */
    int outstanding;        /* calls in flight */
    int errors;             /* failed calls */
};

static void rpc_done(int rc, const void *resp, const char *errmsg, void *ud);

static void rpc_issue(struct rpc_bench *b)
{
    struct rpc_call_spec cs = {
        .method = RPC_METHOD_ECHO,
        .req_fields = rpc_EchoRequest_fields,
        .req = &b->req,
        .resp_fields = rpc_EchoResponse_fields,
        .resp_size = sizeof(rpc_EchoResponse),
        .deadline_ms = 30000,
        .done = rpc_done,
        .ud = b,
    };
    if (rpc_client_call(b->cli, &cs, NULL) == 0)
        b->outstanding++;
    else
        b->errors++;
}

static void rpc_done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct rpc_bench *b = ud;
    (void)resp;
    (void)errmsg;
    b->outstanding--;
    if (rc != 0) {
        b->errors++;
        return;
    }
    if (b->stop)
        return;
    b->done++;
    rpc_issue(b);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rpc_bench *b = arg;
    (void)fd;
    (void)what;
    b->stop = true;
}

static double bench_rpc(uint16_t port,
                        int callers,
                        size_t payload,
                        double *cpu_us)
{
    struct event_base *base = event_base_new();
    struct rpc_bench b = {0};
    struct rpc_client_options co = {.host = "127.0.0.1", .port = port};
    if (rpc_client_create(base, &co, &b.cli) != 0)
        abort();
    pb_bytes_array_t *p = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(payload));
    p->size = (pb_size_t)payload;
    memset(p->bytes, 'r', payload);
    b.req.payload = p;
    /* Warm up: connect with one call. */
    rpc_issue(&b);
    b.stop = true;
    while (b.outstanding > 0)
        event_base_loop(base, EVLOOP_ONCE);
    b.stop = false;
    b.done = 0;
    struct event *stop = evtimer_new(base, stop_cb, &b);
    struct timeval tv = {
        (time_t)seconds,
        (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6)};
    double t0 = now_s();
    double c0 = cpu_s();
    evtimer_add(stop, &tv);
    for (int i = 0; i < callers; i++)
        rpc_issue(&b);
    while (!b.stop)
        event_base_loop(base, EVLOOP_ONCE);
    double t1 = now_s();
    *cpu_us = b.done > 0 ? (cpu_s() - c0) * 1e6 / (double)b.done : 0;
    while (b.outstanding > 0)
        event_base_loop(base, EVLOOP_ONCE);
    if (b.errors != 0)
        fprintf(stderr, "bench_echo: %d rpc errors\n", b.errors);
    event_free(stop);
    rpc_client_destroy(b.cli);
    event_base_free(base);
    free(p);
    return (double)b.done / (t1 - t0);
}

/* ---- plain blocking echo: 4-byte length, payload ---- */

static int read_full(int fd, void *buf, size_t len)
{
    uint8_t *q = buf;
    while (len > 0) {
        ssize_t n = read(fd, q, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        q += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *q = buf;
    while (len > 0) {
        ssize_t n = send(fd, q, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        q += n;
        len -= (size_t)n;
    }
    return 0;
}

static void *plain_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    uint8_t *buf = malloc(1 << 20);
    for (;;) {
        uint32_t len;
        if (read_full(fd, &len, 4) != 0)
            break;
        uint32_t n = ntohl(len);
        if (n > (1u << 20) - 4 || read_full(fd, buf + 4, n) != 0)
            break;
        memcpy(buf, &len, 4);
        if (write_full(fd, buf, 4 + n) != 0)
            break;
    }
    free(buf);
    close(fd);
    return NULL;
}

static void *plain_accept(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            break;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        pthread_create(&t, NULL, plain_conn, (void *)(intptr_t)fd);
        pthread_detach(t);
    }
    return NULL;
}

struct plain_caller
{
    uint16_t port;         /* server */
    size_t payload;        /* bytes per echo */
    double until;          /* stop time */
    long done;             /* round trips */
    pthread_barrier_t *go; /* start together */
};

static void *plain_caller_main(void *arg)
{
    struct plain_caller *c = arg;
    int fd = rpcutil_raw_connect(c->port);
    uint8_t *out = malloc(4 + c->payload);
    uint8_t *in = malloc(4 + c->payload);
    uint32_t len = htonl((uint32_t)c->payload);
    memcpy(out, &len, 4);
    memset(out + 4, 'p', c->payload);
    pthread_barrier_wait(c->go);
    while (now_s() < c->until) {
        if (write_full(fd, out, 4 + c->payload) != 0 ||
            read_full(fd, in, 4 + c->payload) != 0)
            break;
        c->done++;
    }
    close(fd);
    free(out);
    free(in);
    return NULL;
}

static double bench_plain(uint16_t port,
                          int callers,
                          size_t payload,
                          double *cpu_us)
{
    pthread_t th[64];
    struct plain_caller cs[64];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, (unsigned)callers + 1);
    for (int i = 0; i < callers; i++) {
        cs[i] = (struct plain_caller){
            .port = port, .payload = payload, .until = 1e300, .go = &go};
        pthread_create(&th[i], NULL, plain_caller_main, &cs[i]);
    }
    double t0 = now_s();
    double c0 = cpu_s();
    for (int i = 0; i < callers; i++)
        cs[i].until = t0 + seconds; /* set before the barrier releases */
    pthread_barrier_wait(&go);
    long total = 0;
    for (int i = 0; i < callers; i++) {
        pthread_join(th[i], NULL);
        total += cs[i].done;
    }
    double t1 = now_s();
    *cpu_us = total > 0 ? (cpu_s() - c0) * 1e6 / (double)total : 0;
    pthread_barrier_destroy(&go);
    return (double)total / (t1 - t0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const char *env = getenv("BENCH_SECONDS");
    if (env != NULL && atof(env) > 0)
        seconds = atof(env);
    struct rpcutil_server s;
    rpcutil_server_init(&s, NULL);
    rpcutil_server_run(&s);

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(lfd, 128) != 0)
        abort();
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    uint16_t plain_port = ntohs(sa.sin_port);
    pthread_t acc;
    pthread_create(&acc, NULL, plain_accept, (void *)(intptr_t)lfd);

    const size_t sizes[] = {256, 16384};
    const int callers[] = {1, 64};
    for (size_t si = 0; si < 2; si++) {
        for (size_t ci = 0; ci < 2; ci++) {
            size_t sz = sizes[si];
            int n = callers[ci];
            const char *tag = sz == 256 ? "" : "_16k";
            char name[32];
            snprintf(name, sizeof name, "%s_%d", tag, n);
            /* BENCH_ONLY=rpc:_16k_1 runs one side of one case (profiling) */
            const char *only = getenv("BENCH_ONLY");
            bool want_rpc = true, want_plain = true;
            if (only != NULL) {
                const char *colon = strchr(only, ':');
                if (colon == NULL || strcmp(colon + 1, name) != 0)
                    continue;
                want_rpc = strncmp(only, "rpc", 3) == 0;
                want_plain = !want_rpc;
            }
            double rc = 0, pc = 0;
            double r = want_rpc ? bench_rpc(s.port, n, sz, &rc) : 0;
            double p = want_plain ? bench_plain(plain_port, n, sz, &pc) : 0;
            printf("BENCH rpc_echo%s_%d %.0f ops/s\n", tag, n, r);
            printf("BENCH rpc_echo%s_%d_mb %.1f MB/s\n", tag, n,
                   r * (double)sz / 1e6);
            printf("BENCH plain_echo%s_%d %.0f ops/s\n", tag, n, p);
            printf("BENCH plain_echo%s_%d_mb %.1f MB/s\n", tag, n,
                   p * (double)sz / 1e6);
            printf("BENCH rpc_echo%s_%d_cpu %.2f us/op\n", tag, n, rc);
            printf("BENCH plain_echo%s_%d_cpu %.2f us/op\n", tag, n, pc);
            printf("BENCH rpc_echo%s_%d_vs_plain %.2f x\n", tag, n,
                   p > 0 ? r / p : 0.0);
            fflush(stdout);
        }
    }
    shutdown(lfd, SHUT_RDWR);
    close(lfd);
    pthread_join(acc, NULL);
    rpcutil_server_stop(&s);
    return 0;
}

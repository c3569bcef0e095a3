/* bench_stream.c: the byte-stream server's echo rate on loopback: a client
 * thread writes a block and reads it back, the server echoes through
 * on_data / rpc_stream_write on its loop thread. Blocks of 128 bytes
 * (MySQL-sized requests: round trips/s) and 64 KiB (MB/s). Prints BENCH
 * lines; each case runs BENCH_SECONDS (2).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "rpc.h"
#include "rpcutil.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t echo_data(struct rpc_stream_conn *c, const uint8_t *d,
                        size_t len, void *ud)
{
    (void)ud;
    if (rpc_stream_write(c, d, len) < 0)
        return 0;
    return len;
}

struct srv_thread
{
    struct event_base *base;        /* the server loop */
    struct rpc_stream_server *srv;  /* the server */
    atomic_bool stop;               /* ends the loop */
};

static void *run(void *arg)
{
    struct srv_thread *s = arg;
    while (!atomic_load(&s->stop))
        event_base_loop(s->base, EVLOOP_ONCE);
    return NULL;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg; /* wakes the loop so it sees stop */
}

static int read_all(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Round trips per second of size-byte blocks for seconds. */
static double measure(uint16_t port, size_t size, double seconds)
{
    int fd = rpcutil_raw_connect(port);
    uint8_t *out = malloc(size), *in = malloc(size);
    if (fd < 0 || out == NULL || in == NULL)
        return -1;
    memset(out, 'q', size);
    long n = 0;
    double t0 = now_s(), t = t0;
    while (t - t0 < seconds) {
        if (rpcutil_write_all(fd, out, size) != 0 || read_all(fd, in, size))
            return -1;
        n++;
        if ((n & 63) == 0)
            t = now_s();
    }
    t = now_s();
    close(fd);
    free(out);
    free(in);
    return (double)n / (t - t0);
}

int main(void)
{
    double seconds = 2.0;
    const char *env = getenv("BENCH_SECONDS");
    if (env != NULL && atof(env) > 0)
        seconds = atof(env);
    struct srv_thread s = {0};
    s.base = event_base_new();
    struct rpc_stream_server_options o = {.host = "127.0.0.1",
                                          .cb = {.on_data = echo_data}};
    char err[256];
    if (s.base == NULL ||
        rpc_stream_server_create(s.base, &o, &s.srv, err, sizeof err) != 0) {
        fprintf(stderr, "bench_stream: %s\n", err);
        return 1;
    }
    struct event *tk = event_new(s.base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, 50000};
    event_add(tk, &tv);
    pthread_t th;
    pthread_create(&th, NULL, run, &s);
    uint16_t port = rpc_stream_server_port(s.srv);
    double small = measure(port, 128, seconds);
    double big = measure(port, 64 * 1024, seconds);
    atomic_store(&s.stop, true);
    pthread_join(th, NULL);
    printf("BENCH stream_echo_128 %.0f ops/s\n", small);
    printf("BENCH stream_echo_64k_mb %.1f MB/s\n",
           big * 64.0 * 1024.0 / 1e6);
    event_free(tk);
    rpc_stream_server_destroy(s.srv);
    event_base_free(s.base);
    return small > 0 && big > 0 ? 0 : 1;
}

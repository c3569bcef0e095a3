/* rpcutil.c: helpers shared by librpc's suites (see rpcutil.h). A test
 * that needs time waits for an event with a generous cap; it never sleeps
 * as synchronization.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <pb_decode.h>

#include "rpc_echo.pb.h"
#include "rpcutil.h"

#define WAIT_MS 30000

void rpcutil_log_init(struct rpcutil_log *l)
{
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->n = 0;
}

void rpcutil_log_destroy(struct rpcutil_log *l)
{
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
}

void rpcutil_log_fn(void *ud, int level, const char *msg)
{
    struct rpcutil_log *l = ud;
    (void)level;
    pthread_mutex_lock(&l->mu);
    if (l->n < 256)
        snprintf(l->lines[l->n++], sizeof l->lines[0], "%s", msg);
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static bool has_locked(struct rpcutil_log *l, const char *needle)
{
    for (int i = 0; i < l->n; i++)
        if (strstr(l->lines[i], needle) != NULL)
            return true;
    return false;
}

bool rpcutil_log_has(struct rpcutil_log *l, const char *needle)
{
    pthread_mutex_lock(&l->mu);
    bool r = has_locked(l, needle);
    pthread_mutex_unlock(&l->mu);
    return r;
}

bool rpcutil_log_wait(struct rpcutil_log *l, const char *needle)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&l->mu);
    bool r;
    while (!(r = has_locked(l, needle))) {
        if (pthread_cond_timedwait(&l->cv, &l->mu, &until) == ETIMEDOUT) {
            r = has_locked(l, needle);
            break;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return r;
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rpcutil_server *s = arg;
    char b;
    (void)what;
    if (read(fd, &b, 1) != 1)
        return;
    rpc_server_destroy(s->srv);
    s->srv = NULL;
    event_base_loopbreak(s->base);
}

void rpcutil_server_init(struct rpcutil_server *s,
                         const struct rpc_server_options *opts)
{
    signal(SIGPIPE, SIG_IGN); /* as a daemon using librpc must */
    memset(s, 0, sizeof *s);
    rpcutil_log_init(&s->log);
    struct rpc_server_options o = {.host = "127.0.0.1"};
    if (opts != NULL)
        o = *opts;
    if (o.log == NULL) {
        o.log = rpcutil_log_fn;
        o.log_ud = &s->log;
        o.log_level = RPC_LOG_DEBUG;
    }
    s->base = event_base_new();
    if (s->base == NULL)
        abort();
    char err[256];
    int rc = rpc_server_create(s->base, &o, &s->srv, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "rpc_server_create: %d %s\n", rc, err);
        abort();
    }
    if (rpc_server_add_echo(s->srv) != 0)
        abort();
    s->port = rpc_server_port(s->srv);
    if (pipe(s->pipefd) != 0)
        abort();
    s->stop_ev = event_new(s->base, s->pipefd[0], EV_READ, stop_cb, s);
    event_add(s->stop_ev, NULL);
}

static void *server_main(void *arg)
{
    struct rpcutil_server *s = arg;
    event_base_loop(s->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

void rpcutil_server_run(struct rpcutil_server *s)
{
    if (pthread_create(&s->thread, NULL, server_main, s) != 0)
        abort();
}

void rpcutil_server_stop(struct rpcutil_server *s)
{
    char b = 'x';
    if (write(s->pipefd[1], &b, 1) != 1)
        abort();
    pthread_join(s->thread, NULL);
    event_free(s->stop_ev);
    close(s->pipefd[0]);
    close(s->pipefd[1]);
    rpc_server_destroy(s->srv); /* NULL unless the thread never ran */
    event_base_free(s->base);
    rpcutil_log_destroy(&s->log);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static bool loop_until(struct event_base *base,
                       const bool *flag,
                       const int *count,
                       int want)
{
    int64_t end = now_ms() + WAIT_MS;
    /* A periodic no-op keeps EVLOOP_ONCE from blocking past the cap. */
    struct event *tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
    struct timeval tv = {0, 100000};
    event_add(tick, &tv);
    bool ok;
    for (;;) {
        ok = flag != NULL ? *flag : *count >= want;
        if (ok || now_ms() > end)
            break;
        event_base_loop(base, EVLOOP_ONCE);
    }
    event_free(tick);
    return ok;
}

bool rpcutil_loop_until(struct event_base *base, const bool *flag)
{
    return loop_until(base, flag, NULL, 0);
}

bool rpcutil_loop_until_count(struct event_base *base,
                              const int *count,
                              int want)
{
    return loop_until(base, NULL, count, want);
}

int rpcutil_raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

void rpcutil_header(uint8_t *buf,
                    uint32_t magic,
                    uint8_t version,
                    uint8_t flags,
                    uint32_t method,
                    uint32_t id,
                    uint32_t length,
                    int32_t aux)
{
    put32(buf, magic);
    buf[4] = version;
    buf[5] = flags;
    buf[6] = 0;
    buf[7] = 0;
    put32(buf + 8, method);
    put32(buf + 12, id);
    put32(buf + 16, length);
    put32(buf + 20, (uint32_t)aux);
}

int rpcutil_write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads exactly len bytes within the deadline. */
static int read_exact(int fd, void *buf, size_t len, int64_t end)
{
    uint8_t *p = buf;
    while (len > 0) {
        int64_t left = end - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return -1;
        ssize_t n = recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int rpcutil_read_frame(int fd,
                       uint8_t *flags,
                       uint32_t *id,
                       int32_t *aux,
                       char *payload,
                       size_t cap)
{
    int64_t end = now_ms() + WAIT_MS;
    uint8_t h[24];
    if (read_exact(fd, h, sizeof h, end) != 0)
        return -1;
    *flags = h[5];
    *id = get32(h + 12);
    *aux = (int32_t)get32(h + 20);
    uint32_t len = get32(h + 16);
    size_t got = 0;
    while (got < len) {
        char tmp[512];
        size_t want = len - got < sizeof tmp ? len - got : sizeof tmp;
        if (read_exact(fd, tmp, want, end) != 0)
            return -1;
        for (size_t i = 0; i < want; i++)
            if (got + i + 1 < cap)
                payload[got + i] = tmp[i];
        got += want;
    }
    if (cap > 0)
        payload[len < cap ? len : cap - 1] = '\0';
    return 0;
}

int rpcutil_pump_frame(struct event_base *base,
                       int fd,
                       uint8_t *flags,
                       uint32_t *id,
                       int32_t *aux)
{
    uint8_t buf[256];
    size_t have = 0;
    int64_t end = now_ms() + WAIT_MS;
    while (now_ms() < end) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 1) == 1) {
            ssize_t n = recv(fd, buf + have, have < 24 ? 24 - have : 1, 0);
            if (n <= 0)
                return -1;
            have += (size_t)n;
        }
        if (have >= 24) {
            uint32_t len = get32(buf + 16);
            if (len > 200)
                return -1;
            if (have < 24 + len &&
                read_exact(fd, buf + have, 24 + len - have, end) != 0)
                return -1;
            *flags = buf[5];
            *id = get32(buf + 12);
            *aux = (int32_t)get32(buf + 20);
            return 0;
        }
    }
    return -1;
}

int rpcutil_listen(uint16_t *port)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(lfd, 16) != 0)
        abort();
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    *port = ntohs(sa.sin_port);
    return lfd;
}

bool rpcutil_wait_closed(int fd)
{
    int64_t end = now_ms() + WAIT_MS;
    for (;;) {
        int64_t left = end - now_ms();
        if (left <= 0)
            return false;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return false;
        char buf[65536];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return true;
    }
}

int rpcutil_echo_blocking(uint16_t port, const char *text)
{
    size_t len = strlen(text);
    pb_bytes_array_t *b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(len));
    b->size = (pb_size_t)len;
    memcpy(b->bytes, text, len);
    rpc_EchoRequest req = {.payload = b};
    rpc_EchoResponse resp = rpc_EchoResponse_init_zero;
    struct rpc_client_options co = {.host = "127.0.0.1", .port = port};
    char err[256];
    int rc = rpc_call_blocking(&co, RPC_METHOD_ECHO, rpc_EchoRequest_fields,
                               &req, rpc_EchoResponse_fields, &resp,
                               sizeof resp, 30000, err, sizeof err);
    if (rc == 0 && (resp.payload == NULL || resp.payload->size != len ||
                    memcmp(resp.payload->bytes, text, len) != 0))
        rc = RPC_EINTERNAL;
    pb_release(rpc_EchoResponse_fields, &resp);
    free(b);
    return rc;
}

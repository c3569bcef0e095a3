/* sync.c: a blocking connection for one caller thread at a time
 * (rpc_sync_*): a unary call is one write and one read on the caller's own
 * thread, with no event loop and no hand-off to a loop thread. Plaintext
 * only. DESIGN.md, "Blocking connections".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "rpc_int.h"

struct rpc_sync
{
    int fd;              /* the socket (blocking calls use poll) */
    uint32_t next_id;    /* request ids: 1, 2, ... */
    uint32_t max_frame;  /* largest reply payload accepted */
    uint8_t *buf;        /* reply payload buffer */
    size_t cap;          /* its size */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Waits for events on fd until deadline (monotonic ms): 0, or
 * RPC_EDEADLINE. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            return RPC_EDEADLINE;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)(deadline - now));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return RPC_ECONNLOST;
    }
}

int rpc_sync_connect(const char *host, uint16_t port, int timeout_ms,
                     struct rpc_sync **out, char *err, size_t errlen)
{
    *out = NULL;
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", (unsigned)port);
    if (getaddrinfo(host, ps, &hints, &ai) != 0 || ai == NULL) {
        snprintf(err, errlen, "cannot resolve %s", host);
        return RPC_ECONNECT;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);
    int rc = fd < 0 ? RPC_ECONNECT : 0;
    if (rc == 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            rc = RPC_ECONNECT;
        } else {
            rc = wait_fd(fd, POLLOUT, now_ms() + (uint64_t)timeout_ms);
            int e = 0;
            socklen_t el = sizeof e;
            if (rc == 0 &&
                (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e))
                rc = RPC_ECONNECT;
            if (rc == RPC_EDEADLINE)
                rc = RPC_ECONNECT;
        }
    }
    freeaddrinfo(ai);
    if (rc != 0) {
        snprintf(err, errlen, "connect to %s:%u failed: %s", host,
                 (unsigned)port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct rpc_sync *s = rpc__calloc(1, sizeof *s);
    if (s == NULL) {
        close(fd);
        return -ENOMEM;
    }
    s->fd = fd;
    s->max_frame = 16u << 20;
    *out = s;
    return 0;
}

void rpc_sync_close(struct rpc_sync *s)
{
    if (s == NULL)
        return;
    close(s->fd);
    rpc__free(s->buf);
    rpc__free(s);
}

/* Reads exactly len bytes by deadline: 0, RPC_EDEADLINE, RPC_ECONNLOST. */
static int read_full(int fd, uint8_t *p, size_t len, uint64_t deadline)
{
    while (len > 0) {
        ssize_t r = recv(fd, p, len, 0);
        if (r > 0) {
            p += r;
            len -= (size_t)r;
            continue;
        }
        if (r == 0)
            return RPC_ECONNLOST;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return RPC_ECONNLOST;
        int rc = wait_fd(fd, POLLIN, deadline);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int rpc_sync_call(struct rpc_sync *s, const struct rpc_call_spec *spec,
                  void *resp, char *err, size_t errlen)
{
    int deadline_ms = spec->deadline_ms > 0 ? spec->deadline_ms : 10000;
    uint64_t deadline = now_ms() + (uint64_t)deadline_ms;
    uint32_t id = ++s->next_id;
    if (id == 0)
        id = ++s->next_id;
    struct evbuffer *out = evbuffer_new();
    if (out == NULL)
        return -ENOMEM;
    struct rpc__frame f = {.flags = RPC_F_REQUEST, .method = spec->method,
                           .id = id, .aux = deadline_ms};
    int rc = rpc__frame_append(out, &f, spec->req_fields, spec->req);
    size_t left = evbuffer_get_length(out);
    const uint8_t *p = rc == 0 ? evbuffer_pullup(out, -1) : NULL;
    if (rc == 0 && p == NULL)
        rc = -ENOMEM;
    while (rc == 0 && left > 0) {
        ssize_t w = send(s->fd, p, left, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            left -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            rc = wait_fd(s->fd, POLLOUT, deadline);
        } else {
            rc = RPC_ECONNLOST;
        }
    }
    evbuffer_free(out);
    if (rc != 0) {
        snprintf(err, errlen, "%s", rc == RPC_EENCODE
                                        ? "request does not encode"
                                        : rpc_strerror(rc));
        return rc;
    }
    for (;;) { /* our reply; nothing else is in flight on s */
        uint8_t hdr[RPC_HEADER_SIZE];
        if ((rc = read_full(s->fd, hdr, sizeof hdr, deadline)) != 0)
            break;
        struct rpc__frame rf;
        rc = rpc__frame_decode(hdr, sizeof hdr, s->max_frame, &rf);
        if (rc != 0) {
            rc = rc == 1 ? RPC_EPROTO : rc;
            break;
        }
        if (rf.length > s->cap) {
            uint8_t *b = rpc__malloc(rf.length);
            if (b == NULL) {
                rc = -ENOMEM;
                break;
            }
            rpc__free(s->buf);
            s->buf = b;
            s->cap = rf.length;
        }
        if ((rc = read_full(s->fd, s->buf, rf.length, deadline)) != 0)
            break;
        if (rf.flags == RPC_F_GOAWAY) {
            snprintf(err, errlen, "server closed the connection: %.*s",
                     (int)(rf.length < 200 ? rf.length : 200),
                     (const char *)s->buf);
            rc = rf.aux < 0 && rf.id == id ? rf.aux : RPC_ECONNLOST;
            break;
        }
        if (rf.flags != RPC_F_REPLY || rf.id != id)
            continue; /* not ours (nothing else is expected) */
        if (rf.aux != 0) {
            snprintf(err, errlen, "%.*s",
                     (int)(rf.length < 200 ? rf.length : 200),
                     (const char *)s->buf);
            return rf.aux; /* the connection stays usable */
        }
        rc = rpc__payload_decode(s->buf, rf.length, spec->resp_fields, resp);
        if (rc != 0)
            snprintf(err, errlen, "reply does not decode");
        return rc;
    }
    if (err[0] == '\0' || rc != RPC_ECONNLOST)
        snprintf(err, errlen, "%s", rpc_strerror(rc));
    return rc;
}

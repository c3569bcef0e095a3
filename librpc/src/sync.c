/* sync.c: a blocking connection for one caller thread at a time
 * (rpc_sync_*): a unary call is one write and one read on the caller's own
 * thread, with no event loop and no hand-off to a loop thread. Plaintext,
 * or TLS through the same seam (tls.h) as every other connection.
 * DESIGN.md, "Blocking connections".
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
#include "tls.h"

struct rpc_sync
{
    int fd;              /* the socket (blocking calls use poll) */
    uint32_t next_id;    /* request ids: 1, 2, ... */
    uint32_t max_frame;  /* largest reply payload accepted */
    uint8_t *buf;        /* reply payload buffer */
    size_t cap;          /* its size */
    struct rpc__tls *tls; /* the TLS session, or NULL: plaintext */
    struct evbuffer *rx; /* TLS: ciphertext received, not yet decrypted */
    struct evbuffer *in; /* TLS: plaintext decrypted, not yet read */
    struct evbuffer *tx; /* TLS: ciphertext not yet sent */
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

/* Receives 1 to len bytes by deadline: their count, or RPC_EDEADLINE,
 * RPC_ECONNLOST (the peer closed, or a socket error). */
static ssize_t recv_some(int fd, void *p, size_t len, uint64_t deadline)
{
    for (;;) {
        ssize_t r = recv(fd, p, len, 0);
        if (r > 0)
            return r;
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
}

/* Sends all of p by deadline: 0, RPC_EDEADLINE or RPC_ECONNLOST. */
static int send_all(int fd, const uint8_t *p, size_t len, uint64_t deadline)
{
    int rc = 0;
    while (rc == 0 && len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            len -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            rc = wait_fd(fd, POLLOUT, deadline);
        } else {
            rc = RPC_ECONNLOST;
        }
    }
    return rc;
}

/* Sends and drains everything in b (TLS records). */
static int send_buf(int fd, struct evbuffer *b, uint64_t deadline)
{
    size_t len = evbuffer_get_length(b);
    if (len == 0)
        return 0;
    const uint8_t *p = evbuffer_pullup(b, -1);
    if (p == NULL)
        return -ENOMEM;
    int rc = send_all(fd, p, len, deadline);
    evbuffer_drain(b, len);
    return rc;
}

/* TLS: waits for ciphertext, hands it to the session (plaintext to s->in)
 * and sends whatever TLS answers (handshake records, alerts). 0, or
 * RPC_EDEADLINE, RPC_ECONNLOST, RPC_ETLS, RPC_ETLS_VERIFY (the session's
 * reason in err), -ENOMEM. */
static int tls_pump(struct rpc_sync *s, uint64_t deadline, char *err,
                    size_t errlen)
{
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(s->rx, 16384, &v, 1) < 1)
        return -ENOMEM;
    ssize_t r = recv_some(s->fd, v.iov_base, v.iov_len, deadline);
    v.iov_len = r > 0 ? (size_t)r : 0;
    evbuffer_commit_space(s->rx, &v, 1);
    if (r < 0)
        return (int)r;
    int rc = rpc__tls_on_read(s->tls, s->rx, s->in, s->tx);
    /* An alert explaining a failure goes out too (best effort). */
    int src = send_buf(s->fd, s->tx, deadline);
    if (rc != 0) {
        snprintf(err, errlen, "%s", rpc__tls_errmsg(s->tls));
        return rc;
    }
    return src;
}

/* TLS handshake as a client, by deadline. */
static int tls_handshake(struct rpc_sync *s, const struct rpc_tls_config *tls,
                         uint64_t deadline, char *err, size_t errlen)
{
    int rc = rpc__tls_new(tls, &s->tls);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start a TLS session: %s",
                 rpc_strerror(rc));
        return rc;
    }
    s->rx = evbuffer_new();
    s->in = evbuffer_new();
    s->tx = evbuffer_new();
    if (s->rx == NULL || s->in == NULL || s->tx == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    rc = rpc__tls_start(s->tls, s->tx);
    if (rc != 0) {
        snprintf(err, errlen, "%s", rpc__tls_errmsg(s->tls));
        return rc;
    }
    rc = send_buf(s->fd, s->tx, deadline);
    while (rc == 0 && !rpc__tls_established(s->tls))
        rc = tls_pump(s, deadline, err, errlen);
    if (rc == RPC_EDEADLINE || rc == RPC_ECONNLOST)
        snprintf(err, errlen, "TLS handshake: %s",
                 rc == RPC_EDEADLINE ? "no answer in time"
                                     : "the server closed the connection");
    return rc;
}

int rpc_sync_open(const struct rpc_client_options *opts, struct rpc_sync **out,
                  char *err, size_t errlen)
{
    *out = NULL;
    if (opts == NULL || opts->host == NULL) {
        snprintf(err, errlen, "no options or no host");
        return RPC_ECONFIG;
    }
    const char *host = opts->host;
    uint16_t port = opts->port;
    int timeout_ms =
        opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 3000;
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
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
            rc = wait_fd(fd, POLLOUT, deadline);
            int e = 0;
            socklen_t el = sizeof e;
            if (rc == 0 &&
                (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e)) {
                rc = RPC_ECONNECT;
                errno = e;
            }
            if (rc == RPC_EDEADLINE) {
                rc = RPC_ECONNECT;
                errno = ETIMEDOUT;
            }
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
    s->max_frame = opts->max_frame > 0 && opts->max_frame <= UINT32_MAX
                       ? (uint32_t)opts->max_frame
                       : 16u << 20;
    if (opts->tls != NULL) {
        rc = tls_handshake(s, opts->tls, deadline, err, errlen);
        if (rc != 0) {
            rpc_sync_close(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

int rpc_sync_connect(const char *host, uint16_t port, int timeout_ms,
                     struct rpc_sync **out, char *err, size_t errlen)
{
    struct rpc_client_options o = {.host = host,
                                   .port = port,
                                   .connect_timeout_ms = timeout_ms};
    return rpc_sync_open(&o, out, err, errlen);
}

void rpc_sync_close(struct rpc_sync *s)
{
    if (s == NULL)
        return;
    close(s->fd);
    rpc__tls_free(s->tls);
    if (s->rx != NULL)
        evbuffer_free(s->rx);
    if (s->in != NULL)
        evbuffer_free(s->in);
    if (s->tx != NULL)
        evbuffer_free(s->tx);
    rpc__free(s->buf);
    rpc__free(s);
}

bool rpc_sync_tls_info(const struct rpc_sync *s, struct rpc_tls_info *out)
{
    return rpc__tls_info(s->tls, out);
}

/* Reads exactly len bytes by deadline: 0, RPC_EDEADLINE, RPC_ECONNLOST. */
static int read_full(int fd, uint8_t *p, size_t len, uint64_t deadline)
{
    while (len > 0) {
        ssize_t r = recv_some(fd, p, len, deadline);
        if (r < 0)
            return (int)r;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* read_full on s: from the socket, or through TLS from s->in. */
static int read_exact(struct rpc_sync *s, uint8_t *p, size_t len,
                      uint64_t deadline, char *err, size_t errlen)
{
    if (s->tls == NULL)
        return read_full(s->fd, p, len, deadline);
    while (evbuffer_get_length(s->in) < len) {
        int rc = tls_pump(s, deadline, err, errlen);
        if (rc != 0)
            return rc;
    }
    evbuffer_remove(s->in, p, len);
    return 0;
}

/* Encodes the request frame for spec and sends it: 0 with its id. */
static int send_request(struct rpc_sync *s, const struct rpc_call_spec *spec,
                        int deadline_ms, uint64_t deadline, uint32_t *idp,
                        char *err, size_t errlen)
{
    uint32_t id = ++s->next_id;
    if (id == 0)
        id = ++s->next_id;
    struct evbuffer *out = evbuffer_new();
    if (out == NULL)
        return -ENOMEM;
    struct rpc__frame f = {.flags = RPC_F_REQUEST, .method = spec->method,
                           .id = id, .aux = deadline_ms};
    int rc;
    if (spec->req_encoded == NULL)
        rc = rpc__frame_append(out, &f, spec->req_fields, spec->req,
                               s->max_frame);
    else if (spec->req_len > s->max_frame)
        rc = RPC_EFRAME_TOO_LARGE;
    else
        rc = rpc__frame_append_raw(out, &f, spec->req_encoded, spec->req_len);
    if (rc == 0 && s->tls != NULL) {
        rc = rpc__tls_on_write(s->tls, out, s->tx);
        if (rc == 0)
            rc = send_buf(s->fd, s->tx, deadline);
        else
            snprintf(err, errlen, "%s", rpc__tls_errmsg(s->tls));
    } else if (rc == 0) {
        rc = send_buf(s->fd, out, deadline);
    }
    evbuffer_free(out);
    if (rc != 0) {
        if (rc == RPC_EFRAME_TOO_LARGE)
            snprintf(err, errlen,
                     "request not sent: over the frame limit of %u bytes",
                     (unsigned)s->max_frame);
        else if (rc == RPC_EENCODE || err[0] == '\0')
            snprintf(err, errlen, "%s", rc == RPC_EENCODE
                                            ? "request does not encode"
                                            : rpc_strerror(rc));
        return rc;
    }
    *idp = id;
    return 0;
}

/* One whole frame (rf, payload) read while waiting for reply id: 1 when
 * it is not that reply (skip it), else the call's outcome, resp filled
 * on 0 (or, with raw, the payload handed to raw->done_raw undecoded). */
static int take_frame(const struct rpc__frame *rf, const uint8_t *payload,
                      uint32_t id, const struct pb_msgdesc_s *fields,
                      void *resp, const struct rpc_call_spec *raw, char *err,
                      size_t errlen)
{
    if (rf->flags == RPC_F_GOAWAY) {
        snprintf(err, errlen, "server closed the connection: %.*s",
                 (int)(rf->length < 200 ? rf->length : 200),
                 (const char *)payload);
        return rf->aux < 0 && rf->id == id ? rf->aux : RPC_ECONNLOST;
    }
    if (rf->flags != RPC_F_REPLY || rf->id != id)
        return 1; /* not ours (nothing else is expected) */
    if (rf->aux != 0) {
        snprintf(err, errlen, "%.*s",
                 (int)(rf->length < 200 ? rf->length : 200),
                 (const char *)payload);
        return rf->aux; /* the connection stays usable */
    }
    if (raw != NULL) {
        raw->done_raw(0, payload, rf->length, "", raw->ud);
        return 0;
    }
    int rc = rpc__payload_decode(payload, rf->length, fields, resp);
    if (rc != 0)
        snprintf(err, errlen, "reply does not decode");
    return rc;
}

int rpc_sync_call(struct rpc_sync *s, const struct rpc_call_spec *spec,
                  void *resp, char *err, size_t errlen)
{
    int deadline_ms = spec->deadline_ms > 0 ? spec->deadline_ms : 10000;
    uint64_t deadline = now_ms() + (uint64_t)deadline_ms;
    if (errlen > 0)
        err[0] = '\0';
    uint32_t id;
    int rc = send_request(s, spec, deadline_ms, deadline, &id, err, errlen);
    if (rc != 0)
        return rc;
    for (;;) { /* our reply; nothing else is in flight on s */
        uint8_t hdr[RPC_HEADER_SIZE];
        if ((rc = read_exact(s, hdr, sizeof hdr, deadline, err, errlen)) != 0)
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
        if ((rc = read_exact(s, s->buf, rf.length, deadline, err,
                             errlen)) != 0)
            break;
        rc = take_frame(&rf, s->buf, id, spec->resp_fields, resp,
                        spec->done_raw != NULL ? spec : NULL, err, errlen);
        if (rc == 1)
            continue;
        return rc;
    }
    /* Keep a message already given: the session's TLS failure, or a
     * GOAWAY's reason for a lost connection. */
    if (err[0] == '\0' || (rc != RPC_ECONNLOST && rc != RPC_ETLS &&
                           rc != RPC_ETLS_VERIFY))
        snprintf(err, errlen, "%s", rpc_strerror(rc));
    return rc;
}

int rpc_sync_fd(const struct rpc_sync *s)
{
    return s->fd;
}

/* etcdgrpc.c: kvbench's etcd target over etcd's native gRPC API
 * (etcdserverpb.KV/Put and /Range) on plaintext HTTP/2. One connection
 * carries any number of concurrent streams: a client thread's blocking
 * call is one stream at a time, and --conns (eg_run_many) runs many
 * logical clients' calls as concurrent streams on one connection, as
 * etcd's Go client (clientv3: one gRPC connection) does. Only what unary
 * calls need is spoken: the preface, SETTINGS/PING acknowledgements,
 * flow-control window updates, literal HPACK request headers; response
 * headers are skipped (a reply is the call's DATA message; no message
 * means a gRPC error). RFC 9113 (HTTP/2), RFC 7541 (HPACK), gRPC's
 * PROTOCOL-HTTP2.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kvbench.h"

#define H2_DATA 0
#define H2_HEADERS 1
#define H2_RST_STREAM 3
#define H2_SETTINGS 4
#define H2_PING 6
#define H2_GOAWAY 7
#define H2_WINDOW_UPDATE 8
#define H2_END_STREAM 0x1
#define H2_ACK 0x1
#define H2_END_HEADERS 0x4
#define H2_PADDED 0x8
#define H2_SET_MAX_STREAMS 3   /* SETTINGS_MAX_CONCURRENT_STREAMS */
#define H2_SET_INIT_WINDOW 4   /* SETTINGS_INITIAL_WINDOW_SIZE */
#define MAX_FRAME 16384        /* the peer's default SETTINGS_MAX_FRAME_SIZE */
#define MSG_CAP 65536          /* largest reply message taken */
#define RBUF_CAP (4 * (MAX_FRAME + 9))
#define BODY_CAP (MAX_FRAME - 5) /* a request body: one DATA frame */

/* One unary call: its request body, and its reply as it arrives. */
struct call {
    const char *path;        /* gRPC method path */
    uint8_t body[BODY_CAP];  /* protobuf request */
    size_t blen;             /* its bytes */
    uint32_t sid;            /* its stream while in flight, else 0 */
    uint8_t *msg;            /* DATA bytes of the reply so far */
    size_t len, cap;         /* used, allocated */
    bool done;               /* finished (rc set) */
    int rc;                  /* 0 a message, 1 none (gRPC error), -1 lost */
    char err[160];           /* why, when rc != 0 */
    void *ud;                /* eg_run_many: the logical client */
};

struct kvb_conn {
    char host[128];           /* endpoint host */
    char port[16];            /* endpoint port */
    char authority[160];      /* host:port, the :authority header */
    int fd;                   /* connection (non-blocking), -1 when closed */
    int timeout_ms;           /* longest wait for any frame */
    uint32_t next_stream;     /* next odd stream id */
    int64_t send_window;      /* connection send window (DATA we may send) */
    int64_t stream_window;    /* a new stream's send window (peer setting) */
    uint32_t max_streams;     /* peer's concurrent stream limit */
    struct call **fl;         /* calls in flight (unordered) */
    uint32_t n_fl;            /* how many */
    struct call **wq;         /* calls waiting for window or a stream slot */
    uint32_t n_wq;            /* how many (FIFO) */
    uint32_t cap_q;           /* room in fl and in wq */
    void (*on_done)(struct kvb_conn *c, struct call *k); /* a call ended */
    void *ud;                 /* eg_run_many's run */
    uint8_t *out;             /* frames not yet written */
    size_t out_len, out_cap;  /* used, allocated */
    uint8_t in[RBUF_CAP];     /* bytes read, a partial frame at the end */
    size_t in_len;            /* used */
    struct call single;       /* the blocking call of eg_put / eg_get */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t frame_head(uint8_t *p, size_t len, int type, int flags,
                         uint32_t stream)
{
    p[0] = (uint8_t)(len >> 16);
    p[1] = (uint8_t)(len >> 8);
    p[2] = (uint8_t)len;
    p[3] = (uint8_t)type;
    p[4] = (uint8_t)flags;
    p[5] = (uint8_t)(stream >> 24);
    p[6] = (uint8_t)(stream >> 16);
    p[7] = (uint8_t)(stream >> 8);
    p[8] = (uint8_t)stream;
    return 9;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get31(const uint8_t *p)
{
    return (((uint32_t)p[0] & 0x7f) << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

/* Room for n more bytes in c->out; a pointer to it, NULL out of memory. */
static uint8_t *out_room(struct kvb_conn *c, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        uint8_t *p = realloc(c->out, cap);
        if (p == NULL)
            return NULL;
        c->out = p;
        c->out_cap = cap;
    }
    return c->out + c->out_len;
}

/* Appends a frame with payload p (n bytes); 0 or -1 out of memory. */
static int out_frame(struct kvb_conn *c, int type, int flags, uint32_t sid,
                     const uint8_t *p, size_t n)
{
    uint8_t *o = out_room(c, 9 + n);
    if (o == NULL)
        return -1;
    frame_head(o, n, type, flags, sid);
    if (n > 0)
        memcpy(o + 9, p, n);
    c->out_len += 9 + n;
    return 0;
}

/* Writes what c->out holds, as far as the socket takes it; 0 or -1. */
static int flush_out(struct kvb_conn *c)
{
    size_t off = 0;
    while (off < c->out_len) {
        ssize_t w = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    memmove(c->out, c->out + off, c->out_len - off);
    c->out_len -= off;
    return 0;
}

static void conn_close(struct kvb_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->out_len = 0;
    c->in_len = 0;
}

/* Ends call k with rc and err, and tells the owner. */
static void call_end(struct kvb_conn *c, struct call *k, int rc,
                     const char *err)
{
    k->sid = 0;
    k->done = true;
    k->rc = rc;
    snprintf(k->err, sizeof k->err, "%s", err);
    if (c->on_done != NULL)
        c->on_done(c, k);
}

/* The connection failed: every call in flight or waiting ends with err. */
static void fail_all(struct kvb_conn *c, const char *err)
{
    conn_close(c);
    while (c->n_fl > 0)
        call_end(c, c->fl[--c->n_fl], -1, err);
    while (c->n_wq > 0)
        call_end(c, c->wq[--c->n_wq], -1, err);
}

static int conn_open(struct kvb_conn *c, char *err, size_t errlen)
{
    if (kvb_dial(c->host, c->port, &c->fd, err, errlen) != 0)
        return -1;
    int fl = fcntl(c->fd, F_GETFL);
    if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "fcntl: %s", strerror(errno));
        conn_close(c);
        return -1;
    }
    c->next_stream = 1;
    c->send_window = 65535;
    c->stream_window = 65535;
    c->max_streams = UINT32_MAX;
    /* preface, empty SETTINGS, and a large connection receive window */
    uint8_t win[4];
    put32(win, 1u << 30);
    uint8_t *o = out_room(c, 24);
    if (o != NULL) {
        memcpy(o, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
        c->out_len += 24;
    }
    if (o == NULL || out_frame(c, H2_SETTINGS, 0, 0, NULL, 0) != 0 ||
        out_frame(c, H2_WINDOW_UPDATE, 0, 0, win, 4) != 0 ||
        flush_out(c) != 0) {
        snprintf(err, errlen, "send preface: %s", strerror(errno));
        conn_close(c);
        return -1;
    }
    return 0;
}

/* HPACK string literal without Huffman, length < 127. */
static size_t hstr(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (uint8_t)n;
    memcpy(p + 1, s, n);
    return n + 1;
}

/* Sends call k's HEADERS and DATA on a new stream; 0 or -1. The caller
 * checked the windows and the stream limit. */
static int emit(struct kvb_conn *c, struct call *k)
{
    uint8_t h[512];
    size_t n = 0;
    if (strlen(k->path) + strlen(c->authority) + 64 > sizeof h)
        return -1;
    h[n++] = 0x83; /* :method POST (static 3) */
    h[n++] = 0x86; /* :scheme http (static 6) */
    h[n++] = 0x04; /* :path, literal without indexing, name static 4 */
    n += hstr(h + n, k->path);
    h[n++] = 0x01; /* :authority, name static 1 */
    n += hstr(h + n, c->authority);
    h[n++] = 0x0f; /* content-type, name static 31 = 15 + 16 */
    h[n++] = 0x10;
    n += hstr(h + n, "application/grpc");
    h[n++] = 0x00; /* te: trailers, literal name */
    n += hstr(h + n, "te");
    n += hstr(h + n, "trailers");
    k->sid = c->next_stream;
    c->next_stream += 2;
    if (out_frame(c, H2_HEADERS, H2_END_HEADERS, k->sid, h, n) != 0)
        return -1;
    size_t dl = 5 + k->blen;
    uint8_t *o = out_room(c, 9 + dl);
    if (o == NULL)
        return -1;
    frame_head(o, dl, H2_DATA, H2_END_STREAM, k->sid);
    o[9] = 0; /* gRPC message: not compressed, 4-byte length */
    put32(o + 10, (uint32_t)k->blen);
    memcpy(o + 14, k->body, k->blen);
    c->out_len += 9 + dl;
    c->send_window -= (int64_t)dl;
    k->len = 0;
    c->fl[c->n_fl++] = k;
    return 0;
}

/* Starts the waiting calls the windows and the stream limit allow, in
 * order; -1 when the connection could not take one. */
static int start_waiting(struct kvb_conn *c)
{
    uint32_t started = 0;
    while (started < c->n_wq) {
        struct call *k = c->wq[started];
        int64_t dl = (int64_t)(5 + k->blen);
        if (c->send_window < dl || c->n_fl >= c->max_streams)
            break;
        if (emit(c, k) != 0)
            return -1;
        started++;
    }
    memmove(c->wq, c->wq + started, (c->n_wq - started) * sizeof *c->wq);
    c->n_wq -= started;
    return 0;
}

/* Queues call k (path and body filled); it ends through call_end. */
static int call_start(struct kvb_conn *c, struct call *k, char *err,
                      size_t errlen)
{
    if ((int64_t)(5 + k->blen) > c->stream_window) {
        snprintf(err, errlen, "request above the stream window");
        return -1;
    }
    if (c->n_fl + c->n_wq >= c->cap_q) {
        snprintf(err, errlen, "too many calls");
        return -1;
    }
    k->done = false;
    k->sid = 0;
    c->wq[c->n_wq++] = k;
    if (start_waiting(c) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static struct call *in_flight(struct kvb_conn *c, uint32_t sid, uint32_t *at)
{
    for (uint32_t i = 0; i < c->n_fl; i++)
        if (c->fl[i]->sid == sid) {
            *at = i;
            return c->fl[i];
        }
    return NULL;
}

/* Stream of the call at fl[at] ended: its reply is complete, or it ended
 * without one. */
static void stream_end(struct kvb_conn *c, uint32_t at)
{
    struct call *k = c->fl[at];
    c->fl[at] = c->fl[--c->n_fl];
    if (k->len < 5) {
        call_end(c, k, 1, "gRPC call failed (no reply message)");
        return;
    }
    size_t ml = ((size_t)k->msg[1] << 24) | ((size_t)k->msg[2] << 16) |
                ((size_t)k->msg[3] << 8) | k->msg[4];
    if (k->msg[0] != 0 || ml + 5 != k->len) {
        call_end(c, k, -1, "bad gRPC reply framing");
        return;
    }
    memmove(k->msg, k->msg + 5, ml);
    k->len = ml;
    call_end(c, k, 0, "");
}

/* Appends DATA bytes to call k's reply; 0 or -1. */
static int take_data(struct call *k, const uint8_t *p, size_t n)
{
    if (k->len + n > MSG_CAP)
        return -1;
    if (k->len + n > k->cap) {
        size_t cap = k->cap ? k->cap : 512;
        while (cap < k->len + n)
            cap *= 2;
        uint8_t *m = realloc(k->msg, cap);
        if (m == NULL)
            return -1;
        k->msg = m;
        k->cap = cap;
    }
    memcpy(k->msg + k->len, p, n);
    k->len += n;
    return 0;
}

static void settings(struct kvb_conn *c, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i += 6) {
        uint32_t id = ((uint32_t)p[i] << 8) | p[i + 1];
        uint32_t v = ((uint32_t)p[i + 2] << 24) | ((uint32_t)p[i + 3] << 16) |
                     ((uint32_t)p[i + 4] << 8) | p[i + 5];
        if (id == H2_SET_MAX_STREAMS)
            c->max_streams = v;
        else if (id == H2_SET_INIT_WINDOW)
            c->stream_window = v;
    }
}

/* One frame from the server; 0, or -1 with err (connection unusable). */
static int frame(struct kvb_conn *c, int type, int flags, uint32_t sid,
                 const uint8_t *p, size_t len, char *err, size_t errlen)
{
    uint32_t at = 0;
    struct call *k = sid != 0 ? in_flight(c, sid, &at) : NULL;
    uint8_t win[4];
    switch (type) {
    case H2_SETTINGS:
        if (!(flags & H2_ACK)) {
            settings(c, p, len);
            if (out_frame(c, H2_SETTINGS, H2_ACK, 0, NULL, 0) != 0)
                goto oom;
        }
        break;
    case H2_PING:
        if (!(flags & H2_ACK) && len == 8 &&
            out_frame(c, H2_PING, H2_ACK, 0, p, 8) != 0)
            goto oom;
        break;
    case H2_WINDOW_UPDATE:
        if (sid == 0 && len == 4)
            c->send_window += get31(p);
        break;
    case H2_GOAWAY:
        snprintf(err, errlen, "server sent GOAWAY");
        return -1;
    case H2_RST_STREAM:
        if (k != NULL) {
            c->fl[at] = c->fl[--c->n_fl];
            call_end(c, k, -1, "stream reset by the server");
        }
        return 0;
    case H2_DATA: {
        size_t pad = 0, off = 0;
        if (flags & H2_PADDED) {
            if (len < 1)
                goto bad;
            pad = p[0];
            off = 1;
        }
        if (off + pad > len)
            goto bad;
        if (k != NULL && take_data(k, p + off, len - off - pad) != 0) {
            snprintf(err, errlen, "reply above %d bytes", MSG_CAP);
            return -1;
        }
        /* give the connection window back at once */
        if (len > 0) {
            put32(win, (uint32_t)len);
            if (out_frame(c, H2_WINDOW_UPDATE, 0, 0, win, 4) != 0)
                goto oom;
        }
        break;
    }
    default: /* HEADERS, CONTINUATION, PRIORITY... skipped */
        break;
    }
    if (k != NULL && (flags & H2_END_STREAM) &&
        (type == H2_DATA || type == H2_HEADERS))
        stream_end(c, at);
    return 0;
bad:
    snprintf(err, errlen, "malformed frame from the server");
    return -1;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* Parses the whole frames c->in holds; 0 or -1 with err. */
static int parse_in(struct kvb_conn *c, char *err, size_t errlen)
{
    size_t off = 0;
    while (c->in_len - off >= 9) {
        const uint8_t *h = c->in + off;
        size_t len = ((size_t)h[0] << 16) | ((size_t)h[1] << 8) | h[2];
        if (len > MAX_FRAME) {
            snprintf(err, errlen, "frame of %zu bytes", len);
            return -1;
        }
        if (c->in_len - off < 9 + len)
            break;
        if (frame(c, h[3], h[4], get31(h + 5), h + 9, len, err, errlen) != 0)
            return -1;
        off += 9 + len;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return 0;
}

/* One turn of the connection: writes what is queued, waits up to the
 * timeout for the server, reads and handles every whole frame. On a
 * failure every call ends and the connection is closed; -1 with err. */
static int pump(struct kvb_conn *c, char *err, size_t errlen)
{
    if (c->fd < 0) {
        snprintf(err, errlen, "not connected");
        goto fail;
    }
    if (start_waiting(c) != 0 || flush_out(c) != 0) {
        snprintf(err, errlen, "send: %s", strerror(errno));
        goto fail;
    }
    struct pollfd p = {c->fd, (short)(POLLIN | (c->out_len ? POLLOUT : 0)),
                       0};
    int rc = poll(&p, 1, c->timeout_ms);
    if (rc < 0 && errno == EINTR)
        return 0;
    if (rc <= 0) {
        snprintf(err, errlen, "connection timed out");
        goto fail;
    }
    if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
        return 0;
    ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
    if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (r <= 0) {
        snprintf(err, errlen, "connection lost");
        goto fail;
    }
    c->in_len += (size_t)r;
    if (parse_in(c, err, errlen) != 0)
        goto fail;
    return 0;
fail:
    fail_all(c, err);
    return -1;
}

static size_t varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Reads a varint; 0 on success. */
static int rd_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return -1;
        uint8_t b = p[(*pos)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

/* Finds length-delimited field `field` in a message; -1 none or bad. */
static int find_bytes(const uint8_t *p, size_t len, uint64_t field,
                      size_t *off, size_t *flen)
{
    size_t pos = 0;
    while (pos < len) {
        uint64_t tag, v;
        if (rd_varint(p, len, &pos, &tag) != 0)
            return -1;
        switch (tag & 7) {
        case 0:
            if (rd_varint(p, len, &pos, &v) != 0)
                return -1;
            break;
        case 1:
            pos += 8;
            break;
        case 5:
            pos += 4;
            break;
        case 2:
            if (rd_varint(p, len, &pos, &v) != 0 || v > len - pos)
                return -1;
            if ((tag >> 3) == field) {
                *off = pos;
                *flen = (size_t)v;
                return 0;
            }
            pos += (size_t)v;
            break;
        default:
            return -1;
        }
    }
    return -1;
}

/* Fills k with a Put (v != NULL) or a linearizable Range of key k;
 * 0 or -1 with err. */
static int call_prepare(struct call *k, const uint8_t *key, size_t kl,
                        const uint8_t *v, size_t vl, char *err, size_t errlen)
{
    if (kl + vl + 24 > sizeof k->body) {
        snprintf(err, errlen, "key and value above %d bytes: not supported "
                 "by this client (one DATA frame)", BODY_CAP - 24);
        return -1;
    }
    size_t n = 0;
    k->body[n++] = 0x0a; /* PutRequest.key = 1, RangeRequest.key = 1 */
    n += varint(k->body + n, kl);
    memcpy(k->body + n, key, kl);
    n += kl;
    if (v != NULL) {
        k->body[n++] = 0x12; /* PutRequest.value = 2 */
        n += varint(k->body + n, vl);
        memcpy(k->body + n, v, vl);
        n += vl;
    }
    k->blen = n;
    k->path = v != NULL ? "/etcdserverpb.KV/Put" : "/etcdserverpb.KV/Range";
    return 0;
}

/* A Range reply: 0 found with *vl the value's bytes, 1 no key. */
static int range_value(const struct call *k, size_t *vl)
{
    size_t off, len, voff;
    /* RangeResponse.kvs = 2 (KeyValue), KeyValue.value = 5 */
    if (find_bytes(k->msg, k->len, 2, &off, &len) != 0)
        return 1;
    if (find_bytes(k->msg + off, len, 5, &voff, vl) != 0)
        *vl = 0; /* an empty value is not encoded */
    return 0;
}

/* The blocking call in c->single (prepared), on a new connection if the
 * current one fails; 0, or -1 with err. */
static int unary(struct kvb_conn *c, char *err, size_t errlen)
{
    struct call *k = &c->single;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0 && conn_open(c, err, errlen) != 0)
            return -1;
        if (call_start(c, k, err, errlen) != 0)
            return -1;
        while (!k->done && pump(c, err, errlen) == 0)
            ;
        if (k->rc >= 0) {
            snprintf(err, errlen, "%s", k->err);
            return k->rc == 0 ? 0 : -1;
        }
    }
    snprintf(err, errlen, "%s", k->err);
    return -1;
}

static int eg_open(const struct kvb_opts *o, int idx, struct kvb_conn **out,
                   char *err, size_t errlen)
{
    struct kvb_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->fd = -1;
    c->timeout_ms = o->timeout_ms;
    if (kvb_endpoint(o->addrs[idx % o->n_addrs], c->host, sizeof c->host,
                     c->port, sizeof c->port, err, errlen) != 0)
        goto err_conn;
    /* hstr writes a literal's length in HPACK's 7-bit prefix */
    if (snprintf(c->authority, sizeof c->authority, "%s:%s", c->host,
                 c->port) >= 127) {
        snprintf(err, errlen, "endpoint %s: host:port over 126 bytes",
                 o->addrs[idx % o->n_addrs]);
        goto err_conn;
    }
    c->cap_q = 1;
    c->fl = calloc(1, sizeof *c->fl);
    c->wq = calloc(1, sizeof *c->wq);
    if (c->fl == NULL || c->wq == NULL) {
        snprintf(err, errlen, "out of memory");
        goto err_conn;
    }
    if (conn_open(c, err, errlen) != 0)
        goto err_conn;
    *out = c;
    return 0;
err_conn:
    free(c->fl);
    free(c->wq);
    free(c->out);
    free(c);
    return -1;
}

static int eg_put(struct kvb_conn *c, const uint8_t *k, size_t kl,
                  const uint8_t *v, size_t vl, char *err, size_t errlen)
{
    if (call_prepare(&c->single, k, kl, v, vl, err, errlen) != 0)
        return -1;
    return unary(c, err, errlen);
}

static int eg_get(struct kvb_conn *c, const uint8_t *k, size_t kl,
                  size_t *vl_out, char *err, size_t errlen)
{
    if (call_prepare(&c->single, k, kl, NULL, 0, err, errlen) != 0 ||
        unary(c, err, errlen) != 0)
        return -1;
    return range_value(&c->single, vl_out);
}

/* ---------------------------------------------------------------------
 * --conns: m->n logical clients on this connection, each with one call in
 * flight (the next one starts from the previous one's reply), all as
 * concurrent streams; the calls a read's replies started leave in one
 * send.
 */
struct eslot {
    struct call k;           /* its call (k.ud points back here) */
    int i;                   /* logical client number */
    double t0;               /* its call's start */
};

struct erun {
    const struct kvb_many *m; /* the phase */
    int active;               /* clients with a call in flight */
    uint8_t key[1024];        /* the next key */
};

static int slot_start(struct kvb_conn *c, struct eslot *s)
{
    struct erun *run = c->ud;
    const struct kvb_many *m = run->m;
    char err[160];
    uint64_t key = m->next_key(m->ud, s->i);
    if (key == KVB_NO_MORE)
        return 1;
    kvb_key(key, run->key, m->key_size);
    s->t0 = now_s();
    if (call_prepare(&s->k, run->key, m->key_size,
                     m->op == KVB_PUT ? m->value : NULL, m->value_size, err,
                     sizeof err) != 0 ||
        call_start(c, &s->k, err, sizeof err) != 0) {
        m->done(m->ud, s->i, 0, -1, 0, err);
        return -1;
    }
    run->active++;
    return 0;
}

static void many_done(struct kvb_conn *c, struct call *k)
{
    struct erun *run = c->ud;
    const struct kvb_many *m = run->m;
    struct eslot *s = k->ud;
    double t = now_s();
    size_t vl = 0;
    /* a gRPC error or a lost stream fails the call; a Range without the
     * key is "not found" */
    int rc = k->rc != 0 ? -1 : m->op == KVB_GET ? range_value(k, &vl) : 0;
    run->active--;
    m->done(m->ud, s->i, t - s->t0, rc, vl, k->err);
    if (t < m->deadline && c->fd >= 0)
        slot_start(c, s);
}

static int eg_run_many(struct kvb_conn *c, const struct kvb_many *m,
                       char *err, size_t errlen)
{
    if (m->n < 1 || m->key_size > 1024 || m->op == KVB_ECHO) {
        snprintf(err, errlen, "bad client count, key size or phase");
        return -1;
    }
    struct erun run = {m, 0, {0}};
    struct eslot *slots = calloc((size_t)m->n, sizeof *slots);
    struct call **fl = calloc((size_t)m->n, sizeof *fl);
    struct call **wq = calloc((size_t)m->n, sizeof *wq);
    int ret = -1;
    if (slots == NULL || fl == NULL || wq == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (c->fd < 0 && conn_open(c, err, errlen) != 0)
        goto out;
    struct call **fl0 = c->fl, **wq0 = c->wq;
    uint32_t cap0 = c->cap_q;
    c->fl = fl;
    c->wq = wq;
    c->cap_q = (uint32_t)m->n;
    c->on_done = many_done;
    c->ud = &run;
    for (int i = 0; i < m->n; i++) {
        slots[i].i = i;
        slots[i].k.ud = &slots[i];
        slot_start(c, &slots[i]);
    }
    ret = 0;
    while (run.active > 0)
        if (pump(c, err, errlen) != 0)
            ret = -1; /* every call ended (counted failed); stop */
    c->fl = fl0;
    c->wq = wq0;
    c->cap_q = cap0;
    c->on_done = NULL;
    c->ud = NULL;
out:
    for (int i = 0; slots != NULL && i < m->n; i++)
        free(slots[i].k.msg);
    free(slots);
    free(fl);
    free(wq);
    return ret;
}

static void eg_close(struct kvb_conn *c)
{
    if (c == NULL)
        return;
    conn_close(c);
    free(c->single.msg);
    free(c->fl);
    free(c->wq);
    free(c->out);
    free(c);
}

const struct kvb_target kvb_etcd_grpc_target = {
    "etcd", eg_open, eg_put, eg_get, eg_close, NULL, eg_run_many};

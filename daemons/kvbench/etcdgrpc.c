/* etcdgrpc.c: kvbench's etcd target over etcd's native gRPC API
 * (etcdserverpb.KV/Put and /Range) on plaintext HTTP/2, one connection and
 * one stream at a time per client thread. Only what a unary call needs is
 * spoken: the preface, SETTINGS/PING acknowledgements, flow-control window
 * updates, literal HPACK request headers; response headers are skipped
 * (a reply is the call's DATA message; no message means a gRPC error).
 * RFC 9113 (HTTP/2), RFC 7541 (HPACK), gRPC's PROTOCOL-HTTP2.md.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
#define MAX_FRAME 16384
#define MSG_CAP 65536

struct kvb_conn {
    char host[128];           /* endpoint host */
    char port[16];            /* endpoint port */
    int fd;                   /* connection, -1 when closed */
    int timeout_ms;           /* per read wait */
    uint32_t next_stream;     /* next odd stream id */
    int64_t send_window;      /* connection send window (DATA we may send) */
    uint8_t msg[MSG_CAP];     /* the reply's gRPC message */
    size_t msg_len;           /* bytes of it */
    uint8_t frame[MAX_FRAME + 9]; /* one frame read */
    uint8_t out[MAX_FRAME + 1024]; /* request frames */
};

static int send_all(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int recv_all(struct kvb_conn *c, uint8_t *buf, size_t n)
{
    while (n > 0) {
        struct pollfd p = {c->fd, POLLIN, 0};
        int rc = poll(&p, 1, c->timeout_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return -1;
        ssize_t r = recv(c->fd, buf, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        buf += r;
        n -= (size_t)r;
    }
    return 0;
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

static void conn_close(struct kvb_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int conn_open(struct kvb_conn *c, char *err, size_t errlen)
{
    if (kvb_dial(c->host, c->port, &c->fd, err, errlen) != 0)
        return -1;
    c->next_stream = 1;
    c->send_window = 65535;
    /* preface, empty SETTINGS, and a large connection receive window */
    uint8_t buf[64];
    size_t n = 24;
    memcpy(buf, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    n += frame_head(buf + n, 0, H2_SETTINGS, 0, 0);
    n += frame_head(buf + n, 4, H2_WINDOW_UPDATE, 0, 0);
    put32(buf + n, (1u << 30));
    n += 4;
    if (send_all(c->fd, buf, n) != 0) {
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

/* Reads frames until stream sid ends; the reply message lands in msg.
 * 0 with a message, 1 ended without one (a gRPC error), -1 connection. */
static int read_reply(struct kvb_conn *c, uint32_t sid, char *err,
                      size_t errlen)
{
    size_t data_len = 0; /* gRPC-framed bytes of sid seen */
    for (;;) {
        uint8_t *h = c->frame;
        if (recv_all(c, h, 9) != 0) {
            snprintf(err, errlen, "connection lost or timed out");
            return -1;
        }
        size_t len = ((size_t)h[0] << 16) | ((size_t)h[1] << 8) | h[2];
        int type = h[3], flags = h[4];
        uint32_t stream = (((uint32_t)h[5] & 0x7f) << 24) |
                          ((uint32_t)h[6] << 16) | ((uint32_t)h[7] << 8) |
                          h[8];
        if (len > MAX_FRAME) {
            snprintf(err, errlen, "frame of %zu bytes", len);
            return -1;
        }
        uint8_t *p = c->frame + 9;
        if (recv_all(c, p, len) != 0) {
            snprintf(err, errlen, "connection lost mid-frame");
            return -1;
        }
        uint8_t ack[32];
        switch (type) {
        case H2_SETTINGS:
            if (!(flags & H2_ACK)) {
                frame_head(ack, 0, H2_SETTINGS, H2_ACK, 0);
                if (send_all(c->fd, ack, 9) != 0)
                    return -1;
            }
            break;
        case H2_PING:
            if (!(flags & H2_ACK) && len == 8) {
                frame_head(ack, 8, H2_PING, H2_ACK, 0);
                memcpy(ack + 9, p, 8);
                if (send_all(c->fd, ack, 17) != 0)
                    return -1;
            }
            break;
        case H2_WINDOW_UPDATE:
            if (stream == 0 && len == 4)
                c->send_window += (((int64_t)p[0] & 0x7f) << 24) |
                                  ((int64_t)p[1] << 16) | ((int64_t)p[2] << 8) |
                                  p[3];
            break;
        case H2_GOAWAY:
            snprintf(err, errlen, "server sent GOAWAY");
            return -1;
        case H2_RST_STREAM:
            if (stream == sid) {
                snprintf(err, errlen, "stream reset by the server");
                return -1;
            }
            break;
        case H2_DATA: {
            size_t pad = 0, off = 0;
            if (flags & H2_PADDED) {
                if (len < 1)
                    return -1;
                pad = p[0];
                off = 1;
            }
            if (off + pad > len)
                return -1;
            size_t dl = len - off - pad;
            if (stream == sid) {
                if (data_len + dl > MSG_CAP) {
                    snprintf(err, errlen, "reply too large");
                    return -1;
                }
                memcpy(c->msg + data_len, p + off, dl);
                data_len += dl;
            }
            /* give the connection window back at once */
            if (len > 0) {
                frame_head(ack, 4, H2_WINDOW_UPDATE, 0, 0);
                put32(ack + 9, (uint32_t)len);
                if (send_all(c->fd, ack, 13) != 0)
                    return -1;
            }
            break;
        }
        default: /* HEADERS, CONTINUATION, PRIORITY... skipped */
            break;
        }
        if (stream == sid && (flags & H2_END_STREAM) &&
            (type == H2_DATA || type == H2_HEADERS)) {
            if (data_len < 5) {
                snprintf(err, errlen, "gRPC call failed (no reply message)");
                return 1;
            }
            size_t ml = ((size_t)c->msg[1] << 24) | ((size_t)c->msg[2] << 16) |
                        ((size_t)c->msg[3] << 8) | c->msg[4];
            if (c->msg[0] != 0 || ml + 5 != data_len) {
                snprintf(err, errlen, "bad gRPC reply framing");
                return -1;
            }
            memmove(c->msg, c->msg + 5, ml);
            c->msg_len = ml;
            return 0;
        }
    }
}

/* One unary call: path, protobuf request body. */
static int unary(struct kvb_conn *c, const char *path, const uint8_t *body,
                 size_t blen, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0 && conn_open(c, err, errlen) != 0)
            return -1;
        char authority[160];
        snprintf(authority, sizeof authority, "%s:%s", c->host, c->port);
        uint32_t sid = c->next_stream;
        c->next_stream += 2;
        uint8_t *o = c->out;
        size_t n = 9; /* HEADERS frame header filled below */
        o[n++] = 0x83; /* :method POST (static 3) */
        o[n++] = 0x86; /* :scheme http (static 6) */
        o[n++] = 0x04; /* :path, literal without indexing, name static 4 */
        n += hstr(o + n, path);
        o[n++] = 0x01; /* :authority, name static 1 */
        n += hstr(o + n, authority);
        o[n++] = 0x0f; /* content-type, name static 31 = 15 + 16 */
        o[n++] = 0x10;
        n += hstr(o + n, "application/grpc");
        o[n++] = 0x00; /* te: trailers, literal name */
        n += hstr(o + n, "te");
        n += hstr(o + n, "trailers");
        frame_head(o, n - 9, H2_HEADERS, H2_END_HEADERS, sid);
        size_t dl = 5 + blen;
        if (n + 9 + dl > sizeof c->out) {
            snprintf(err, errlen, "request too large");
            return -1;
        }
        n += frame_head(o + n, dl, H2_DATA, H2_END_STREAM, sid);
        o[n++] = 0;
        put32(o + n, (uint32_t)blen);
        n += 4;
        memcpy(o + n, body, blen);
        n += blen;
        int rc = -1;
        /* the server refills the window as it reads; the wait is short */
        if (c->send_window < (int64_t)dl)
            snprintf(err, errlen, "connection send window exhausted");
        else if (send_all(c->fd, o, n) != 0)
            snprintf(err, errlen, "send: %s", strerror(errno));
        else {
            c->send_window -= (int64_t)dl;
            rc = read_reply(c, sid, err, errlen);
        }
        if (rc >= 0)
            return rc == 0 ? 0 : -1;
        conn_close(c);
    }
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
                     c->port, sizeof c->port, err, errlen) != 0) {
        free(c);
        return -1;
    }
    if (conn_open(c, err, errlen) != 0) {
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

static int eg_put(struct kvb_conn *c, const uint8_t *k, size_t kl,
                  const uint8_t *v, size_t vl, char *err, size_t errlen)
{
    /* one DATA frame of at most MAX_FRAME (the peer's default limit) */
    uint8_t body[MAX_FRAME - 5];
    if (kl + vl + 24 > sizeof body) {
        snprintf(err, errlen, "key and value above %d bytes: not supported "
                 "by this client (one DATA frame)", MAX_FRAME - 32);
        return -1;
    }
    size_t n = 0;
    body[n++] = 0x0a; /* PutRequest.key = 1 */
    n += varint(body + n, kl);
    memcpy(body + n, k, kl);
    n += kl;
    body[n++] = 0x12; /* PutRequest.value = 2 */
    n += varint(body + n, vl);
    memcpy(body + n, v, vl);
    n += vl;
    return unary(c, "/etcdserverpb.KV/Put", body, n, err, errlen);
}

static int eg_get(struct kvb_conn *c, const uint8_t *k, size_t kl,
                  size_t *vl_out, char *err, size_t errlen)
{
    uint8_t body[1100];
    if (kl + 8 > sizeof body) {
        snprintf(err, errlen, "key too long");
        return -1;
    }
    size_t n = 0;
    body[n++] = 0x0a; /* RangeRequest.key = 1 (linearizable by default) */
    n += varint(body + n, kl);
    memcpy(body + n, k, kl);
    n += kl;
    if (unary(c, "/etcdserverpb.KV/Range", body, n, err, errlen) != 0)
        return -1;
    size_t off, len;
    /* RangeResponse.kvs = 2 (KeyValue), KeyValue.value = 5 */
    if (find_bytes(c->msg, c->msg_len, 2, &off, &len) != 0)
        return 1;
    size_t voff, vlen;
    if (find_bytes(c->msg + off, len, 5, &voff, &vlen) != 0)
        vlen = 0; /* an empty value is not encoded */
    *vl_out = vlen;
    return 0;
}

static void eg_close(struct kvb_conn *c)
{
    if (c == NULL)
        return;
    conn_close(c);
    free(c);
}

const struct kvb_target kvb_etcd_grpc_target = {
    "etcd", eg_open, eg_put, eg_get, eg_close, NULL, NULL};

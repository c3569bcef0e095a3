/* etcd.c: kvbench's etcd target: etcd 3.4's HTTP/JSON gateway (the gRPC
 * KV service behind grpc-gateway): POST /v3/kv/put and /v3/kv/range with
 * base64 keys and values, over one keep-alive HTTP/1.1 connection per
 * client thread. Ranges are etcd's default, linearizable reads.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kvbench.h"

#define RBUF 65536

struct kvb_conn {
    char host[128];          /* endpoint host */
    char port[16];           /* endpoint port */
    int fd;                  /* connection, -1 when closed */
    int timeout_ms;          /* per read/write wait */
    char *req;               /* request buffer */
    size_t req_cap;          /* its size */
    char rbuf[RBUF];         /* response bytes read */
    size_t rlen;             /* bytes in rbuf */
    char *body;              /* the last response's body (in rbuf) */
    size_t body_len;         /* its length */
    int status;              /* the last response's HTTP status */
};

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    return o;
}

static void conn_close(struct kvb_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->rlen = 0;
}

static int conn_open(struct kvb_conn *c, char *err, size_t errlen)
{
    if (kvb_dial(c->host, c->port, &c->fd, err, errlen) != 0)
        return -1;
    c->rlen = 0;
    return 0;
}

static int wait_fd(struct kvb_conn *c, short ev)
{
    struct pollfd p = {c->fd, ev, 0};
    int rc;
    do
        rc = poll(&p, 1, c->timeout_ms);
    while (rc < 0 && errno == EINTR);
    return rc > 0 ? 0 : -1;
}

static int send_all(struct kvb_conn *c, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, buf, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN) && wait_fd(c, POLLOUT) == 0)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more bytes into rbuf; -1 on EOF, error or timeout. */
static int fill(struct kvb_conn *c)
{
    if (c->rlen == RBUF || wait_fd(c, POLLIN) != 0)
        return -1;
    ssize_t r;
    do
        r = recv(c->fd, c->rbuf + c->rlen, RBUF - c->rlen, 0);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return -1;
    c->rlen += (size_t)r;
    return 0;
}

static char *find(char *hay, size_t n, const char *needle)
{
    return memmem(hay, n, needle, strlen(needle));
}

/* Reads one response: status, body (Content-Length or chunked, the
 * chunks joined in place). The bytes stay in rbuf until the next call. */
static int read_response(struct kvb_conn *c, char *err, size_t errlen)
{
    char *hend;
    while ((hend = find(c->rbuf, c->rlen, "\r\n\r\n")) == NULL)
        if (fill(c) != 0)
            goto lost;
    size_t hlen = (size_t)(hend - c->rbuf) + 4;
    if (c->rlen < 12 || strncmp(c->rbuf, "HTTP/1.", 7) != 0) {
        snprintf(err, errlen, "not an HTTP response");
        return -1;
    }
    c->status = atoi(c->rbuf + 9);
    long clen = -1;
    bool chunked = false;
    for (char *l = c->rbuf; l < hend;) {
        char *e = find(l, (size_t)(hend - l) + 2, "\r\n");
        if (e == NULL)
            break;
        if ((size_t)(e - l) > 15 && strncasecmp(l, "Content-Length:", 15) == 0)
            clen = atol(l + 15);
        if ((size_t)(e - l) > 18 &&
            strncasecmp(l, "Transfer-Encoding:", 18) == 0 &&
            find(l, (size_t)(e - l), "chunked") != NULL)
            chunked = true;
        l = e + 2;
    }
    size_t used;
    if (!chunked) {
        if (clen < 0 || (size_t)clen > RBUF - hlen) {
            snprintf(err, errlen, "response without a usable length");
            return -1;
        }
        while (c->rlen < hlen + (size_t)clen)
            if (fill(c) != 0)
                goto lost;
        c->body = c->rbuf + hlen;
        c->body_len = (size_t)clen;
        used = hlen + (size_t)clen;
    } else {
        size_t pos = hlen, out = hlen;
        for (;;) {
            char *e;
            while ((e = find(c->rbuf + pos, c->rlen - pos, "\r\n")) == NULL)
                if (fill(c) != 0)
                    goto lost;
            size_t n = strtoul(c->rbuf + pos, NULL, 16);
            size_t data = (size_t)(e - c->rbuf) + 2;
            if (n > RBUF) {
                snprintf(err, errlen, "chunk too large");
                return -1;
            }
            while (c->rlen < data + n + 2)
                if (fill(c) != 0)
                    goto lost;
            memmove(c->rbuf + out, c->rbuf + data, n);
            out += n;
            pos = data + n + 2;
            if (n == 0)
                break;
        }
        c->body = c->rbuf + hlen;
        c->body_len = out - hlen;
        used = pos;
    }
    /* keep-alive: nothing is pipelined, so the buffer restarts empty */
    (void)used;
    c->rlen = 0;
    return 0;
lost:
    snprintf(err, errlen, "connection lost or timed out");
    return -1;
}

/* POSTs a JSON body; 0 with status and body, or -1 (connection closed). */
static int post(struct kvb_conn *c, const char *path, const char *json,
                size_t jlen, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0 && conn_open(c, err, errlen) != 0)
            return -1;
        char head[256];
        int hl = snprintf(head, sizeof head,
                          "POST %s HTTP/1.1\r\nHost: %s:%s\r\n"
                          "Content-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          path, c->host, c->port, jlen);
        size_t need = (size_t)hl + jlen;
        if (need > c->req_cap) {
            char *nr = realloc(c->req, need);
            if (nr == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            c->req = nr;
            c->req_cap = need;
        }
        memcpy(c->req, head, (size_t)hl);
        memcpy(c->req + hl, json, jlen);
        if (send_all(c, c->req, need) == 0 &&
            read_response(c, err, errlen) == 0)
            return 0;
        conn_close(c);
        if (attempt == 0 && c->rlen == 0)
            snprintf(err, errlen, "connection lost");
    }
    return -1;
}

static int etcd_open(const struct kvb_opts *o, int idx, struct kvb_conn **out,
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

static int etcd_put(struct kvb_conn *c, const uint8_t *k, size_t kl,
                    const uint8_t *v, size_t vl, char *err, size_t errlen)
{
    size_t cap = 32 + (kl + 2) / 3 * 4 + (vl + 2) / 3 * 4;
    char *json = malloc(cap);
    if (json == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = 0;
    memcpy(json + n, "{\"key\":\"", 8);
    n += 8;
    n += b64_encode(k, kl, json + n);
    memcpy(json + n, "\",\"value\":\"", 11);
    n += 11;
    n += b64_encode(v, vl, json + n);
    memcpy(json + n, "\"}", 2);
    n += 2;
    int rc = post(c, "/v3/kv/put", json, n, err, errlen);
    free(json);
    if (rc != 0)
        return -1;
    if (c->status != 200) {
        snprintf(err, errlen, "HTTP %d: %.*s", c->status,
                 (int)(c->body_len < 200 ? c->body_len : 200), c->body);
        return -1;
    }
    return 0;
}

static int etcd_get(struct kvb_conn *c, const uint8_t *k, size_t kl,
                    size_t *vl_out, char *err, size_t errlen)
{
    char json[32 + 1400];
    if (kl > 1024) {
        snprintf(err, errlen, "key too long");
        return -1;
    }
    size_t n = 0;
    memcpy(json + n, "{\"key\":\"", 8);
    n += 8;
    n += b64_encode(k, kl, json + n);
    memcpy(json + n, "\"}", 2);
    n += 2;
    if (post(c, "/v3/kv/range", json, n, err, errlen) != 0)
        return -1;
    if (c->status != 200) {
        snprintf(err, errlen, "HTTP %d: %.*s", c->status,
                 (int)(c->body_len < 200 ? c->body_len : 200), c->body);
        return -1;
    }
    char *kvs = find(c->body, c->body_len, "\"kvs\"");
    if (kvs == NULL)
        return 1;
    size_t rest = c->body_len - (size_t)(kvs - c->body);
    char *val = find(kvs, rest, "\"value\":\"");
    if (val == NULL) {
        *vl_out = 0; /* an empty value is left out of the JSON */
        return 0;
    }
    val += 9;
    char *end = memchr(val, '"', c->body_len - (size_t)(val - c->body));
    if (end == NULL) {
        snprintf(err, errlen, "bad range response");
        return -1;
    }
    size_t el = (size_t)(end - val);
    size_t pad = 0;
    if (el >= 1 && val[el - 1] == '=')
        pad++;
    if (el >= 2 && val[el - 2] == '=')
        pad++;
    *vl_out = el / 4 * 3 - pad;
    return 0;
}

static void etcd_close(struct kvb_conn *c)
{
    if (c == NULL)
        return;
    conn_close(c);
    free(c->req);
    free(c);
}

const struct kvb_target kvb_etcd_target = {
    "etcdhttp", etcd_open, etcd_put, etcd_get, etcd_close, NULL, NULL};

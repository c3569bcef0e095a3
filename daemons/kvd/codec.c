/* codec.c: kvd's own byte formats, without I/O: the RawGet and RawPut
 * requests and the RawGet reply written and read by hand on the leader's
 * fast paths (service.c's raw_get_peek and raw_put_peek; libregion/DESIGN.md
 * "Gets under the lease in one check", "Where a put goes").
 * Protobuf's wire format (protobuf.dev, "Encoding"); the field numbers are
 * kv.proto's, checked against the generated code in service.c.
 *
 *   kv.RawRequest:  0x0a len Context   (field 1, length-delimited)
 *                   0x12 len key bytes (field 2, length-delimited)
 *                   0x1a len value     (field 3, length-delimited; Put)
 *   kv.Context:     0x08 varint region_id, 0x10 conf_ver, 0x18 version
 *   kv.RawResponse: 0x20 0x01          (field 4 not_found, varint)
 *                   0x2a len value     (field 5 value, length-delimited)
 *
 * Also the check of a region error's lengths before kvd copies it into a
 * reply (kvd_region_err_check).
 *
 * The DeadlockDetect method's messages (deadlock.c), every field a varint:
 *
 *   kv.DeadlockRequest:  0x08 op, 0x10 waiter, 0x18 holder, 0x20 key_hash
 *   kv.DeadlockResponse: 0x08 result, 0x10 host (each left out when 0)
 */
#include <string.h>

#include "codec.h"

#define WT_VARINT 0
#define WT_LEN 2
#define F_REQ_CTX 1
#define F_REQ_KEY 2
#define F_REQ_VALUE 3
#define F_CTX_REGION 1
#define F_CTX_CONF_VER 2
#define F_CTX_VERSION 3
#define F_RESP_NOT_FOUND 4
#define F_RESP_VALUE 5
#define F_DL_OP 1
#define F_DL_WAITER 2
#define F_DL_HOLDER 3
#define F_DL_KEY_HASH 4
#define F_DL_RESULT 1
#define F_DL_HOST 2
#define KEY_MAX 65535u /* nanopb's pb_size_t cap on a bytes field */

/* Reads a varint at *pos of p (len bytes); false when cut or over 10
 * bytes. */
static bool get_varint(const uint8_t *p, size_t len, size_t *pos,
                       uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 70 && *pos < len; shift += 7) {
        uint8_t b = p[(*pos)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

size_t kvd_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* ctx's fields from p[pos, end); false on any other field or bad bytes. */
static bool parse_ctx(const uint8_t *p, size_t pos, size_t end,
                      struct region_ctx *ctx)
{
    while (pos < end) {
        uint64_t t, v;
        if (!get_varint(p, end, &pos, &t) || (t & 7) != WT_VARINT ||
            !get_varint(p, end, &pos, &v))
            return false;
        if (t >> 3 == F_CTX_REGION)
            ctx->region_id = v;
        else if (t >> 3 == F_CTX_CONF_VER)
            ctx->conf_ver = v;
        else if (t >> 3 == F_CTX_VERSION)
            ctx->version = v;
        else
            return false;
    }
    return true;
}

/* A kv.RawRequest of ctx, key and (val not NULL) value fields only. */
static bool parse_raw(const uint8_t *p, size_t len, struct region_ctx *ctx,
                      const uint8_t **key, size_t *kl, const uint8_t **val,
                      size_t *vl)
{
    size_t pos = 0;
    memset(ctx, 0, sizeof *ctx);
    *key = (const uint8_t *)"";
    *kl = 0;
    if (val) {
        *val = (const uint8_t *)"";
        *vl = 0;
    }
    while (pos < len) {
        uint64_t tag, n;
        if (!get_varint(p, len, &pos, &tag) || (tag & 7) != WT_LEN ||
            !get_varint(p, len, &pos, &n) || n > len - pos)
            return false;
        if (tag >> 3 == F_REQ_KEY && n <= KEY_MAX) {
            *key = p + pos;
            *kl = (size_t)n;
        } else if (tag >> 3 == F_REQ_VALUE && val) {
            *val = p + pos;
            *vl = (size_t)n;
        } else if (tag >> 3 != F_REQ_CTX ||
                   !parse_ctx(p, pos, pos + (size_t)n, ctx)) {
            return false;
        }
        pos += (size_t)n;
    }
    return true;
}

size_t kvd_raw_get_request(uint8_t *p, const struct region_ctx *ctx,
                           const uint8_t *key, size_t kl)
{
    uint8_t sub[33]; /* three tags and three varints of up to 10 bytes */
    size_t s = 0, n = 0;
    sub[s++] = F_CTX_REGION << 3 | WT_VARINT;
    s += kvd_put_varint(sub + s, ctx->region_id);
    sub[s++] = F_CTX_CONF_VER << 3 | WT_VARINT;
    s += kvd_put_varint(sub + s, ctx->conf_ver);
    sub[s++] = F_CTX_VERSION << 3 | WT_VARINT;
    s += kvd_put_varint(sub + s, ctx->version);
    p[n++] = F_REQ_CTX << 3 | WT_LEN;
    n += kvd_put_varint(p + n, s);
    memcpy(p + n, sub, s);
    n += s;
    p[n++] = F_REQ_KEY << 3 | WT_LEN;
    n += kvd_put_varint(p + n, kl);
    if (kl > 0)
        memcpy(p + n, key, kl);
    return n + kl;
}

int kvd_raw_get_reply_parse(const uint8_t *p, size_t len, const uint8_t **v,
                            size_t *vl)
{
    size_t pos = 1;
    uint64_t n;
    *v = (const uint8_t *)"";
    *vl = 0;
    if (len == 0)
        return 1; /* every field at its default: found, empty */
    if (len == 2 && p[0] == (F_RESP_NOT_FOUND << 3 | WT_VARINT) && p[1] == 1)
        return 0;
    if (p[0] != (F_RESP_VALUE << 3 | WT_LEN) ||
        !get_varint(p, len, &pos, &n) || n != len - pos)
        return -1;
    *v = p + pos;
    *vl = (size_t)n;
    return 1;
}

bool kvd_region_err_check(struct region_err *err)
{
    err->msg[sizeof err->msg - 1] = '\0';
    const struct region_desc *d = &err->region;
    if (!err->has_region ||
        (d->start_len <= REGION_MAX_BOUND && d->end_len <= REGION_MAX_BOUND &&
         d->n_stores <= REGION_MAX_PEERS))
        return true;
    err->has_region = false;
    return false;
}

bool kvd_raw_get_parse(const uint8_t *p, size_t len, struct region_ctx *ctx,
                       const uint8_t **key, size_t *kl)
{
    return parse_raw(p, len, ctx, key, kl, NULL, NULL);
}

bool kvd_raw_put_parse(const uint8_t *p, size_t len, struct region_ctx *ctx,
                       const uint8_t **key, size_t *kl, const uint8_t **val,
                       size_t *vl)
{
    return parse_raw(p, len, ctx, key, kl, val, vl);
}

bool kvd_raw_get_reply(uint8_t *buf, size_t cap, bool found,
                       const uint8_t *v, size_t vl, size_t *n)
{
    *n = 0;
    if (!found) {
        if (cap < 2)
            return false;
        buf[0] = F_RESP_NOT_FOUND << 3 | WT_VARINT;
        buf[1] = 1;
        *n = 2;
        return true;
    }
    if (vl == 0)
        return true;
    if (cap < 11 || vl > cap - 11)
        return false;
    buf[0] = F_RESP_VALUE << 3 | WT_LEN;
    *n = 1 + kvd_put_varint(buf + 1, vl);
    memcpy(buf + *n, v, vl);
    *n += vl;
    return true;
}

bool kvd_dl_parse(const uint8_t *p, size_t len, struct kvd_dl_msg *m)
{
    size_t pos = 0;
    memset(m, 0, sizeof *m);
    while (pos < len) {
        uint64_t tag, v;
        if (!get_varint(p, len, &pos, &tag) || (tag & 7) != WT_VARINT ||
            tag >> 3 < F_DL_OP || tag >> 3 > F_DL_KEY_HASH ||
            !get_varint(p, len, &pos, &v))
            return false;
        switch (tag >> 3) {
        case F_DL_OP:
            if (v > UINT32_MAX)
                return false;
            m->op = (uint32_t)v;
            break;
        case F_DL_WAITER:
            m->waiter = v;
            break;
        case F_DL_HOLDER:
            m->holder = v;
            break;
        default:
            m->key_hash = v;
            break;
        }
    }
    return true;
}

size_t kvd_dl_reply(uint8_t *buf, uint32_t result, uint64_t host)
{
    size_t n = 0;
    if (result != 0) {
        buf[n++] = F_DL_RESULT << 3 | WT_VARINT;
        n += kvd_put_varint(buf + n, result);
    }
    if (host != 0) {
        buf[n++] = F_DL_HOST << 3 | WT_VARINT;
        n += kvd_put_varint(buf + n, host);
    }
    return n;
}

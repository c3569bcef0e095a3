/* codec.c: memcomparable key encoding and the lock and write record
 * encoders/decoders; byte tables in codec.h and DESIGN.md "Formats".
 */
#include <errno.h>
#include <string.h>

#include "codec.h"

#define GROUP 8

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

size_t mvcc_key_encoded_len(size_t len)
{
    return (len / GROUP + 1) * (GROUP + 1);
}

size_t mvcc_key_encode(const void *key, size_t len, uint8_t *out)
{
    const uint8_t *k = key;
    size_t o = 0;
    for (size_t i = 0;; i += GROUP) {
        size_t rem = len - i;
        if (rem >= GROUP) {
            memcpy(out + o, k + i, GROUP);
            out[o + GROUP] = 0xFF;
            o += GROUP + 1;
            continue;
        }
        /* The last group: rem bytes, then zero padding. */
        if (rem)
            memcpy(out + o, k + i, rem);
        memset(out + o + rem, 0, GROUP - rem);
        out[o + GROUP] = (uint8_t)(0xFF - (GROUP - rem));
        return o + GROUP + 1;
    }
}

int mvcc_key_decode(const uint8_t *in, size_t in_len, uint8_t *out,
                    size_t *out_len, size_t *used)
{
    size_t o = 0;
    for (size_t i = 0;; i += GROUP + 1) {
        if (i > in_len || in_len - i < GROUP + 1)
            return MVCC_CORRUPT;
        uint8_t m = in[i + GROUP];
        if (m == 0xFF) {
            memcpy(out + o, in + i, GROUP);
            o += GROUP;
            continue;
        }
        if (m < 0xFF - GROUP)
            return MVCC_CORRUPT;
        size_t pad = (size_t)(0xFF - m);
        for (size_t j = GROUP - pad; j < GROUP; j++)
            if (in[i + j] != 0)
                return MVCC_CORRUPT; /* padding must be zeros */
        memcpy(out + o, in + i, GROUP - pad);
        *out_len = o + GROUP - pad;
        *used = i + GROUP + 1;
        return 0;
    }
}

int mvcc__key_append(struct mvcc__buf *b, const void *key, size_t len)
{
    int rc = mvcc__buf_reserve(b, mvcc_key_encoded_len(len));
    if (rc != 0)
        return rc;
    b->len += mvcc_key_encode(key, len, b->data + b->len);
    return 0;
}

int mvcc__key_ts_append(struct mvcc__buf *b, const void *key, size_t len,
                        mvcc_ts ts)
{
    int rc = mvcc__buf_reserve(b, mvcc_key_encoded_len(len) + 8);
    if (rc != 0)
        return rc;
    b->len += mvcc_key_encode(key, len, b->data + b->len);
    mvcc__put_u64(b->data + b->len, ~ts);
    b->len += 8;
    return 0;
}

static bool lock_type_ok(int t)
{
    return t == MVCC__LOCK_PUT || t == MVCC__LOCK_DELETE ||
           t == MVCC__LOCK_LOCK || t == MVCC__LOCK_PESSIMISTIC;
}

static bool write_type_ok(int t)
{
    return t == MVCC__WRITE_PUT || t == MVCC__WRITE_DELETE ||
           t == MVCC__WRITE_LOCK || t == MVCC__WRITE_ROLLBACK;
}

int mvcc__lock_encode(struct mvcc__buf *b, const struct mvcc__lock *l,
                      const struct mvcc_key *secs, size_t nsecs)
{
    size_t need = 47 + l->primary_len + (l->has_value ? 4 + l->value_len : 0);
    if (l->async) {
        need += 4;
        if (secs == NULL)
            need += l->secs_len;
        for (size_t i = 0; secs && i < nsecs; i++)
            need += 4 + secs[i].len;
    }
    if (l->primary_len > UINT32_MAX || l->value_len > UINT32_MAX ||
        nsecs > UINT32_MAX)
        return -EINVAL;
    int rc = mvcc__buf_reserve(b, need);
    if (rc != 0)
        return rc;
    uint8_t *p = b->data + b->len;
    p[0] = MVCC__FORMAT_VERSION;
    p[1] = (uint8_t)l->type;
    mvcc__put_u64(p + 2, l->start_ts);
    mvcc__put_u64(p + 10, l->ttl);
    mvcc__put_u64(p + 18, l->for_update_ts);
    mvcc__put_u64(p + 26, l->min_commit_ts);
    mvcc__put_u64(p + 34, l->txn_size);
    p[42] = (uint8_t)((l->async ? MVCC__LOCKF_ASYNC : 0) |
                      (l->has_value ? MVCC__LOCKF_SHORT : 0));
    put_u32(p + 43, (uint32_t)l->primary_len);
    if (l->primary_len)
        memcpy(p + 47, l->primary, l->primary_len);
    size_t o = 47 + l->primary_len;
    if (l->has_value) {
        put_u32(p + o, (uint32_t)l->value_len);
        if (l->value_len)
            memcpy(p + o + 4, l->value, l->value_len);
        o += 4 + l->value_len;
    }
    if (l->async) {
        if (secs == NULL) {
            /* Re-encoding a decoded lock: copy its secondaries region. */
            put_u32(p + o, (uint32_t)l->nsecs);
            if (l->secs_len)
                memcpy(p + o + 4, l->secs, l->secs_len);
            o += 4 + l->secs_len;
        } else {
            put_u32(p + o, (uint32_t)nsecs);
            o += 4;
            for (size_t i = 0; i < nsecs; i++) {
                if (secs[i].len > UINT32_MAX)
                    return -EINVAL;
                put_u32(p + o, (uint32_t)secs[i].len);
                if (secs[i].len)
                    memcpy(p + o + 4, secs[i].data, secs[i].len);
                o += 4 + secs[i].len;
            }
        }
    }
    b->len += o;
    return 0;
}

int mvcc__lock_decode(const uint8_t *p, size_t n, struct mvcc__lock *l)
{
    memset(l, 0, sizeof *l);
    if (n < 47 || p[0] != MVCC__FORMAT_VERSION || !lock_type_ok(p[1]))
        return MVCC_CORRUPT;
    l->type = p[1];
    l->start_ts = mvcc__get_u64(p + 2);
    l->ttl = mvcc__get_u64(p + 10);
    l->for_update_ts = mvcc__get_u64(p + 18);
    l->min_commit_ts = mvcc__get_u64(p + 26);
    l->txn_size = mvcc__get_u64(p + 34);
    uint8_t f = p[42];
    if (f & ~(MVCC__LOCKF_ASYNC | MVCC__LOCKF_SHORT))
        return MVCC_CORRUPT;
    l->async = (f & MVCC__LOCKF_ASYNC) != 0;
    l->has_value = (f & MVCC__LOCKF_SHORT) != 0;
    size_t plen = get_u32(p + 43);
    size_t o = 47;
    if (plen > n - o)
        return MVCC_CORRUPT;
    l->primary = p + o;
    l->primary_len = plen;
    o += plen;
    if (l->has_value) {
        if (n - o < 4)
            return MVCC_CORRUPT;
        size_t vl = get_u32(p + o);
        o += 4;
        if (vl > n - o)
            return MVCC_CORRUPT;
        l->value = p + o;
        l->value_len = vl;
        o += vl;
    }
    if (l->async) {
        if (n - o < 4)
            return MVCC_CORRUPT;
        size_t cnt = get_u32(p + o);
        o += 4;
        l->secs = p + o;
        for (size_t i = 0; i < cnt; i++) {
            if (n - o < 4)
                return MVCC_CORRUPT;
            size_t sl = get_u32(p + o);
            o += 4;
            if (sl > n - o)
                return MVCC_CORRUPT;
            o += sl;
        }
        l->nsecs = cnt;
        l->secs_len = (size_t)(p + o - l->secs);
    }
    if (o != n)
        return MVCC_CORRUPT;
    return 0;
}

void mvcc__lock_secondary(const struct mvcc__lock *l, size_t i,
                          const uint8_t **key, size_t *len)
{
    const uint8_t *p = l->secs;
    for (size_t j = 0;; j++) {
        size_t sl = get_u32(p);
        if (j == i) {
            *key = p + 4;
            *len = sl;
            return;
        }
        p += 4 + sl;
    }
}

int mvcc__write_encode(struct mvcc__buf *b, const struct mvcc__write *w)
{
    if (w->value_len > UINT32_MAX)
        return -EINVAL;
    int rc = mvcc__buf_reserve(b, 15 + w->value_len);
    if (rc != 0)
        return rc;
    uint8_t *p = b->data + b->len;
    p[0] = MVCC__FORMAT_VERSION;
    p[1] = (uint8_t)w->type;
    mvcc__put_u64(p + 2, w->start_ts);
    p[10] = (uint8_t)((w->has_value ? MVCC__WRITEF_SHORT : 0) |
                      (w->overlap ? MVCC__WRITEF_OVERLAP : 0));
    size_t o = 11;
    if (w->has_value) {
        put_u32(p + o, (uint32_t)w->value_len);
        if (w->value_len)
            memcpy(p + o + 4, w->value, w->value_len);
        o += 4 + w->value_len;
    }
    b->len += o;
    return 0;
}

int mvcc__write_decode(const uint8_t *p, size_t n, struct mvcc__write *w)
{
    memset(w, 0, sizeof *w);
    if (n < 11 || p[0] != MVCC__FORMAT_VERSION || !write_type_ok(p[1]))
        return MVCC_CORRUPT;
    w->type = p[1];
    w->start_ts = mvcc__get_u64(p + 2);
    uint8_t f = p[10];
    if (f & ~(MVCC__WRITEF_SHORT | MVCC__WRITEF_OVERLAP))
        return MVCC_CORRUPT;
    w->has_value = (f & MVCC__WRITEF_SHORT) != 0;
    w->overlap = (f & MVCC__WRITEF_OVERLAP) != 0;
    size_t o = 11;
    if (w->has_value) {
        if (n - o < 4)
            return MVCC_CORRUPT;
        size_t vl = get_u32(p + o);
        o += 4;
        if (vl > n - o)
            return MVCC_CORRUPT;
        w->value = p + o;
        w->value_len = vl;
        o += vl;
    }
    if (o != n)
        return MVCC_CORRUPT;
    return 0;
}

/* wire.c: byte buffer, bounds-checked reader, length-encoded values and
 * packet framing for the MySQL protocol (format table in wire.h).
 */
#include <errno.h>
#include <string.h>

#include "sql_int.h"
#include "wire.h"

void sql__buf_free(struct sql__buf *b)
{
    sql__free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

int sql__buf_grow(struct sql__buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return -ENOMEM;
    size_t need = b->len + extra;
    size_t cap = b->cap < 256 ? 256 : b->cap;
    while (cap < need)
        cap *= 2;
    uint8_t *p = sql__realloc(b->p, cap);
    if (p == NULL)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int sql__buf_cstr(struct sql__buf *b, const char *s)
{
    return sql__buf_put(b, s, strlen(s) + 1);
}

void sql__buf_drop(struct sql__buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

int sql__buf_frame(struct sql__buf *b, size_t start, uint8_t *seq)
{
    size_t payload = b->len - start - 4;
    size_t npkt = payload / SQL__PKT_MAX + 1;
    if (npkt > 1) {
        int rc = sql__buf_reserve(b, 4 * (npkt - 1));
        if (rc != 0)
            return rc;
        /* Move chunks from the last to the first so none is overwritten
         * before it moves: chunk i goes from start+4+i*MAX to
         * start+i*(MAX+4)+4. */
        for (size_t i = npkt - 1; i >= 1; i--) {
            size_t src = start + 4 + i * SQL__PKT_MAX;
            size_t dst = start + i * (SQL__PKT_MAX + 4) + 4;
            size_t n = i == npkt - 1 ? payload - i * SQL__PKT_MAX
                                     : SQL__PKT_MAX;
            memmove(b->p + dst, b->p + src, n);
        }
        b->len += 4 * (npkt - 1);
    }
    for (size_t i = 0; i < npkt; i++) {
        size_t h = start + i * (SQL__PKT_MAX + 4);
        size_t n = i == npkt - 1 ? payload - i * SQL__PKT_MAX : SQL__PKT_MAX;
        b->p[h] = (uint8_t)n;
        b->p[h + 1] = (uint8_t)(n >> 8);
        b->p[h + 2] = (uint8_t)(n >> 16);
        b->p[h + 3] = (*seq)++;
    }
    return 0;
}

void sql__rd_init(struct sql__rd *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->bad = false;
}

size_t sql__rd_left(const struct sql__rd *r)
{
    return r->len - r->off;
}

static uint64_t get_le(struct sql__rd *r, size_t n)
{
    if (r->bad || sql__rd_left(r) < n) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[r->off + i] << (8 * i);
    r->off += n;
    return v;
}

uint8_t sql__rd_u8(struct sql__rd *r)
{
    return (uint8_t)get_le(r, 1);
}

uint16_t sql__rd_u16(struct sql__rd *r)
{
    return (uint16_t)get_le(r, 2);
}

uint32_t sql__rd_u24(struct sql__rd *r)
{
    return (uint32_t)get_le(r, 3);
}

uint32_t sql__rd_u32(struct sql__rd *r)
{
    return (uint32_t)get_le(r, 4);
}

uint64_t sql__rd_u64(struct sql__rd *r)
{
    return get_le(r, 8);
}

uint64_t sql__rd_lenenc(struct sql__rd *r, bool *is_null)
{
    if (is_null != NULL)
        *is_null = false;
    uint8_t first = sql__rd_u8(r);
    if (r->bad)
        return 0;
    if (first < 0xFB)
        return first;
    switch (first) {
    case 0xFB:
        if (is_null == NULL)
            r->bad = true;
        else
            *is_null = true;
        return 0;
    case 0xFC:
        return get_le(r, 2);
    case 0xFD:
        return get_le(r, 3);
    case 0xFE:
        return get_le(r, 8);
    default:
        r->bad = true;
        return 0;
    }
}

const uint8_t *sql__rd_bytes(struct sql__rd *r, size_t n)
{
    if (r->bad || sql__rd_left(r) < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

const char *sql__rd_cstr(struct sql__rd *r, size_t *len)
{
    if (r->bad || sql__rd_left(r) == 0) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *start = r->p + r->off;
    const uint8_t *nul = memchr(start, 0, sql__rd_left(r));
    if (nul == NULL) {
        r->bad = true;
        return NULL;
    }
    *len = (size_t)(nul - start);
    r->off += *len + 1;
    return (const char *)start;
}

const uint8_t *sql__rd_lenenc_str(struct sql__rd *r, size_t *len)
{
    uint64_t n = sql__rd_lenenc(r, NULL);
    if (r->bad || n > sql__rd_left(r)) {
        r->bad = true;
        return NULL;
    }
    *len = (size_t)n;
    return sql__rd_bytes(r, (size_t)n);
}

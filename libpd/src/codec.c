/* codec.c: the byte primitives of the command format (DESIGN.md
 * "Commands"): unsigned LEB128 varints in their shortest form, single
 * bytes and varint-length-prefixed byte strings.
 */
#include <string.h>

#include "pd_int.h"

static bool reserve(struct pd__buf *b, size_t more)
{
    if (b->err != 0)
        return false;
    if (b->n + more <= b->cap)
        return true;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < b->n + more)
        cap *= 2;
    uint8_t *p = pd__realloc(b->p, cap);
    if (p == NULL) {
        b->err = -ENOMEM;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void pd__buf_u8(struct pd__buf *b, uint8_t v)
{
    if (reserve(b, 1))
        b->p[b->n++] = v;
}

void pd__buf_uvarint(struct pd__buf *b, uint64_t v)
{
    if (!reserve(b, 10))
        return;
    while (v >= 0x80) {
        b->p[b->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b->p[b->n++] = (uint8_t)v;
}

void pd__buf_bytes(struct pd__buf *b, const void *p, size_t n)
{
    pd__buf_uvarint(b, n);
    if (n > 0 && reserve(b, n)) {
        memcpy(b->p + b->n, p, n);
        b->n += n;
    }
}

void pd__buf_free(struct pd__buf *b)
{
    pd__free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

uint8_t pd__rd_u8(struct pd__rd *r)
{
    if (r->bad || r->off >= r->n) {
        r->bad = true;
        return 0;
    }
    return r->p[r->off++];
}

/* Only the shortest encoding is accepted, so decode-then-encode gives back
 * the same bytes (the fuzz target checks it). */
uint64_t pd__rd_uvarint(struct pd__rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->bad || r->off >= r->n) {
            r->bad = true;
            return 0;
        }
        uint8_t c = r->p[r->off++];
        if (shift == 63 && c > 1) {
            r->bad = true;
            return 0;
        }
        v |= (uint64_t)(c & 0x7f) << shift;
        if ((c & 0x80) == 0) {
            if (c == 0 && shift > 0)
                r->bad = true; /* overlong */
            return v;
        }
    }
    r->bad = true;
    return 0;
}

const uint8_t *pd__rd_bytes(struct pd__rd *r, size_t max, size_t *len)
{
    uint64_t n = pd__rd_uvarint(r);
    *len = 0;
    if (r->bad || n > max || n > r->n - r->off) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += (size_t)n;
    *len = (size_t)n;
    return p;
}

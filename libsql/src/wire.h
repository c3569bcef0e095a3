/* wire.h: MySQL protocol primitives: a growable byte buffer, a bounds-
 * checked reader, length-encoded integers and strings, packet framing.
 * DESIGN.md "MySQL protocol" has the byte tables.
 *
 * Length-encoded integer (Protocol::LengthEncodedInteger):
 *   value < 251            1 byte: the value
 *   value < 2^16           0xFC + 2 bytes little-endian
 *   value < 2^24           0xFD + 3 bytes little-endian
 *   otherwise              0xFE + 8 bytes little-endian
 *   0xFB is NULL in a text row; 0xFF is never a length.
 * Packet: 3-byte little-endian payload length, 1-byte sequence id, payload.
 * A payload of 0xFFFFFF bytes or more is cut into 0xFFFFFF-byte packets and
 * a last shorter one (empty if the size is a multiple of 0xFFFFFF).
 */
#ifndef SQL_WIRE_H
#define SQL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SQL__PKT_MAX 0xFFFFFFu /* largest payload of one packet */

struct sql__buf {
    uint8_t *p; /* bytes, NULL while cap is 0 */
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
};

void sql__buf_free(struct sql__buf *b);
/* Make room for extra more bytes: 0 or -ENOMEM. The slow path of the
 * inline writers below, which run on every byte of every answer. */
int sql__buf_grow(struct sql__buf *b, size_t extra);

static inline int sql__buf_reserve(struct sql__buf *b, size_t extra)
{
    return extra <= b->cap - b->len ? 0 : sql__buf_grow(b, extra);
}

static inline int sql__buf_put(struct sql__buf *b, const void *data,
                               size_t n)
{
    if (n == 0)
        return 0;
    int rc = sql__buf_reserve(b, n);
    if (rc != 0)
        return rc;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

/* n (<= 8) bytes of v, little-endian. */
static inline int sql__buf_le(struct sql__buf *b, uint64_t v, size_t n)
{
    int rc = sql__buf_reserve(b, n);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        b->p[b->len + i] = (uint8_t)(v >> (8 * i));
    b->len += n;
    return 0;
}

static inline int sql__buf_u8(struct sql__buf *b, uint8_t v)
{
    return sql__buf_le(b, v, 1);
}

static inline int sql__buf_u16(struct sql__buf *b, uint16_t v)
{
    return sql__buf_le(b, v, 2);
}

static inline int sql__buf_u24(struct sql__buf *b, uint32_t v)
{
    return sql__buf_le(b, v, 3);
}

static inline int sql__buf_u32(struct sql__buf *b, uint32_t v)
{
    return sql__buf_le(b, v, 4);
}

static inline int sql__buf_u64(struct sql__buf *b, uint64_t v)
{
    return sql__buf_le(b, v, 8);
}

/* Bytes a length-encoded integer takes. */
static inline size_t sql__lenenc_size(uint64_t v)
{
    if (v < 251)
        return 1;
    if (v < (1u << 16))
        return 3;
    if (v < (1u << 24))
        return 4;
    return 9;
}

static inline int sql__buf_lenenc(struct sql__buf *b, uint64_t v)
{
    if (v < 251)
        return sql__buf_u8(b, (uint8_t)v);
    size_t n = sql__lenenc_size(v);
    int rc = sql__buf_u8(b, n == 3 ? 0xFC : n == 4 ? 0xFD : 0xFE);
    return rc ? rc : sql__buf_le(b, v, n - 1);
}

static inline int sql__buf_lenenc_str(struct sql__buf *b, const void *s,
                                      size_t n)
{
    int rc = sql__buf_reserve(b, n + 9);
    if (rc != 0)
        return rc;
    rc = sql__buf_lenenc(b, n);
    return rc ? rc : sql__buf_put(b, s, n);
}

int sql__buf_cstr(struct sql__buf *b, const char *s); /* with its NUL */
/* Drop the first n bytes. */
void sql__buf_drop(struct sql__buf *b, size_t n);

/* Frame the payload that starts at b->p[start + 4] and runs to b->len (4
 * bytes were reserved at start for the header): write the header(s),
 * splitting at 0xFFFFFF; each packet takes *seq, which is incremented. */
int sql__buf_frame(struct sql__buf *b, size_t start, uint8_t *seq);

struct sql__rd {
    const uint8_t *p; /* the bytes */
    size_t len;       /* their count */
    size_t off;       /* read position */
    bool bad;         /* a read ran past the end or met a bad encoding */
};

void sql__rd_init(struct sql__rd *r, const void *p, size_t len);
size_t sql__rd_left(const struct sql__rd *r);
uint8_t sql__rd_u8(struct sql__rd *r);
uint16_t sql__rd_u16(struct sql__rd *r);
uint32_t sql__rd_u24(struct sql__rd *r);
uint32_t sql__rd_u32(struct sql__rd *r);
uint64_t sql__rd_u64(struct sql__rd *r);
/* A length-encoded integer; *is_null (may be NULL) is set for 0xFB, which
 * is bad when is_null is NULL. 0xFF is always bad. */
uint64_t sql__rd_lenenc(struct sql__rd *r, bool *is_null);
/* n bytes in place, or NULL (and bad) if fewer are left. */
const uint8_t *sql__rd_bytes(struct sql__rd *r, size_t n);
/* A NUL-terminated string in place (*len without the NUL), or NULL and bad
 * if no NUL is left. */
const char *sql__rd_cstr(struct sql__rd *r, size_t *len);
/* A length-encoded string in place. */
const uint8_t *sql__rd_lenenc_str(struct sql__rd *r, size_t *len);

#endif /* SQL_WIRE_H */

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

#define SQL__PKT_MAX 0xFFFFFFu /* largest payload of one packet */

struct sql__buf {
    uint8_t *p; /* bytes, NULL while cap is 0 */
    size_t len; /* bytes in use */
    size_t cap; /* bytes allocated */
};

void sql__buf_free(struct sql__buf *b);
int sql__buf_reserve(struct sql__buf *b, size_t extra); /* 0 or -ENOMEM */
int sql__buf_put(struct sql__buf *b, const void *data, size_t n);
int sql__buf_u8(struct sql__buf *b, uint8_t v);
int sql__buf_u16(struct sql__buf *b, uint16_t v);
int sql__buf_u24(struct sql__buf *b, uint32_t v);
int sql__buf_u32(struct sql__buf *b, uint32_t v);
int sql__buf_u64(struct sql__buf *b, uint64_t v);
int sql__buf_lenenc(struct sql__buf *b, uint64_t v);
int sql__buf_lenenc_str(struct sql__buf *b, const void *s, size_t n);
int sql__buf_cstr(struct sql__buf *b, const char *s); /* with its NUL */
/* Drop the first n bytes. */
void sql__buf_drop(struct sql__buf *b, size_t n);

/* Bytes a length-encoded integer takes. */
size_t sql__lenenc_size(uint64_t v);

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

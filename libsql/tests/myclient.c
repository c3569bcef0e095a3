/* myclient.c: the tests' MySQL client-side encoder (see myclient.h). */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>

#include "myclient.h"

void mc_free(struct mc_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void mc_put(struct mc_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            abort(); /* test helper: out of memory ends the test run */
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_le(struct mc_buf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t x = (uint8_t)(v >> (8 * i));
        mc_put(b, &x, 1);
    }
}

void mc_u8(struct mc_buf *b, uint8_t v)
{
    mc_put(b, &v, 1);
}

void mc_u16(struct mc_buf *b, uint16_t v)
{
    put_le(b, v, 2);
}

void mc_u32(struct mc_buf *b, uint32_t v)
{
    put_le(b, v, 4);
}

void mc_u64(struct mc_buf *b, uint64_t v)
{
    put_le(b, v, 8);
}

void mc_lenenc(struct mc_buf *b, uint64_t v)
{
    if (v <= 250) {
        mc_u8(b, (uint8_t)v);
    } else if (v <= 0xFFFF) {
        mc_u8(b, 0xFC);
        put_le(b, v, 2);
    } else if (v <= 0xFFFFFF) {
        mc_u8(b, 0xFD);
        put_le(b, v, 3);
    } else {
        mc_u8(b, 0xFE);
        put_le(b, v, 8);
    }
}

void mc_lenenc_str(struct mc_buf *b, const char *s)
{
    mc_lenenc(b, strlen(s));
    mc_put(b, s, strlen(s));
}

void mc_cstr(struct mc_buf *b, const char *s)
{
    mc_put(b, s, strlen(s) + 1);
}

void mc_frame(struct mc_buf *out, const void *payload, size_t len,
              uint8_t *seq)
{
    const uint8_t *p = payload;
    for (;;) {
        size_t n = len > 0xFFFFFF ? 0xFFFFFF : len;
        put_le(out, n, 3);
        mc_u8(out, (*seq)++);
        mc_put(out, p, n);
        p += n;
        len -= n;
        if (n < 0xFFFFFF)
            return;
    }
}

int mc_split(const uint8_t *bytes, size_t len, struct mc_pkt *pkts,
             size_t max)
{
    size_t off = 0;
    int n = 0;
    while (off < len) {
        if (len - off < 4 || (size_t)n >= max)
            return -1;
        size_t plen = (size_t)bytes[off] | (size_t)bytes[off + 1] << 8 |
                      (size_t)bytes[off + 2] << 16;
        if (len - off - 4 < plen)
            return -1;
        pkts[n].seq = bytes[off + 3];
        pkts[n].p = bytes + off + 4;
        pkts[n].len = plen;
        n++;
        off += 4 + plen;
    }
    return n;
}

bool mc_read_lenenc(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
    if (*off >= len)
        return false;
    uint8_t f = p[(*off)++];
    int n = f < 0xFB ? 0 : f == 0xFC ? 2 : f == 0xFD ? 3 : f == 0xFE ? 8 : -1;
    if (n < 0 || len - *off < (size_t)n)
        return false;
    if (n == 0) {
        *v = f;
        return true;
    }
    *v = 0;
    for (int i = 0; i < n; i++)
        *v |= (uint64_t)p[*off + (size_t)i] << (8 * i);
    *off += (size_t)n;
    return true;
}

void mc_native_token(const char *password, const uint8_t scramble[20],
                     uint8_t out[20])
{
    uint8_t h1[20], h2[20], h3[20];
    unsigned char cat[40];
    mbedtls_sha1_ret((const unsigned char *)password, strlen(password), h1);
    mbedtls_sha1_ret(h1, 20, h2);
    memcpy(cat, scramble, 20);
    memcpy(cat + 20, h2, 20);
    mbedtls_sha1_ret(cat, 40, h3);
    for (int i = 0; i < 20; i++)
        out[i] = (uint8_t)(h1[i] ^ h3[i]);
}

void mc_sha2_token(const char *password, const uint8_t scramble[20],
                   uint8_t out[32])
{
    uint8_t h1[32], h2[32], h3[32];
    unsigned char cat[52];
    mbedtls_sha256_ret((const unsigned char *)password, strlen(password), h1,
                       0);
    mbedtls_sha256_ret(h1, 32, h2, 0);
    memcpy(cat, h2, 32);
    memcpy(cat + 32, scramble, 20);
    mbedtls_sha256_ret(cat, 52, h3, 0);
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(h1[i] ^ h3[i]);
}

void mc_login_payload(struct mc_buf *out, const struct mc_login *l)
{
    static const uint8_t filler[23];
    uint32_t caps = l->caps;
    if (l->db)
        caps |= 0x8;
    if (l->plugin)
        caps |= 1u << 19;
    if (l->attrs)
        caps |= 1u << 20;
    mc_u32(out, caps);
    mc_u32(out, 16u << 20);
    mc_u8(out, 255);
    mc_put(out, filler, 23);
    mc_cstr(out, l->user);
    if (caps & (1u << 21)) {
        mc_lenenc(out, l->auth_len);
    } else {
        mc_u8(out, (uint8_t)l->auth_len);
    }
    mc_put(out, l->auth, l->auth_len);
    if (l->db)
        mc_cstr(out, l->db);
    if (l->plugin)
        mc_cstr(out, l->plugin);
    if (l->attrs) {
        struct mc_buf a = {0};
        mc_lenenc_str(&a, "_client_name");
        mc_lenenc_str(&a, "myclient");
        mc_lenenc_str(&a, "_pid");
        mc_lenenc_str(&a, "42");
        mc_lenenc(out, a.len);
        mc_put(out, a.p, a.len);
        mc_free(&a);
    }
}

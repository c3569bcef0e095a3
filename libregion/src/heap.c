/* heap.c: the allocator hook every libregion allocation goes through, the
 * arrays' growth, the growable byte buffer and the bounds-checked reader
 * the codecs share
 * (DESIGN.md, "Conventions").
 */
#include <stdlib.h>
#include <string.h>

#include "region_int.h"

static struct region_heap heap; /* all NULL: libc */

void region_heap_set(const struct region_heap *h)
{
    if (h == NULL)
        memset(&heap, 0, sizeof heap);
    else
        heap = *h;
}

void *region__malloc(size_t n)
{
    if (n == 0)
        n = 1;
    return heap.malloc ? heap.malloc(heap.ctx, n) : malloc(n);
}

void *region__calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = region__malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *region__realloc(void *p, size_t n)
{
    if (n == 0)
        n = 1;
    return heap.realloc ? heap.realloc(heap.ctx, p, n) : realloc(p, n);
}

void *region__grow(void *a, size_t *cap, size_t need, size_t elem,
                   size_t first)
{
    if (need <= *cap)
        return a;
    size_t n = *cap ? 2 * *cap : first ? first : 1;
    while (n < need && n <= SIZE_MAX / 2)
        n *= 2;
    if (n < need || (elem != 0 && n > SIZE_MAX / elem))
        return NULL;
    void *b = region__realloc(a, n * elem);
    if (b != NULL)
        *cap = n;
    return b;
}

void region__free(void *p)
{
    if (p == NULL)
        return;
    if (heap.free)
        heap.free(heap.ctx, p);
    else
        free(p);
}

void region_free(void *p)
{
    region__free(p);
}

void *region__memdup(const void *p, size_t n)
{
    void *q = region__malloc(n);
    if (q != NULL && n > 0)
        memcpy(q, p, n);
    return q;
}

int region__cmp_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (al < bl ? -1 : al > bl);
}

uint8_t *region__buf_reserve(struct region_buf *b, size_t n)
{
    if (b->oom)
        return NULL;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *d = region__realloc(b->data, cap);
        if (d == NULL) {
            b->oom = true;
            return NULL;
        }
        b->data = d;
        b->cap = cap;
    }
    return b->data + b->len;
}

void region__buf_put(struct region_buf *b, const void *p, size_t n)
{
    uint8_t *d = region__buf_reserve(b, n);
    if (d == NULL)
        return;
    if (n > 0)
        memcpy(d, p, n);
    b->len += n;
}

void region__buf_u8(struct region_buf *b, uint8_t v)
{
    region__buf_put(b, &v, 1);
}

void region__buf_u32(struct region_buf *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    region__buf_put(b, p, 4);
}

void region__buf_u64(struct region_buf *b, uint64_t v)
{
    uint8_t p[8];
    region__put_u64(p, v);
    region__buf_put(b, p, 8);
}

void region__buf_bytes(struct region_buf *b, const void *p, size_t n)
{
    region__buf_u32(b, (uint32_t)n);
    region__buf_put(b, p, n);
}

void region__buf_free(struct region_buf *b)
{
    region__free(b->data);
    memset(b, 0, sizeof *b);
}

void region__put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t region__get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

uint8_t region__rd_u8(struct region_rd *r)
{
    if (r->bad || r->left < 1) {
        r->bad = true;
        return 0;
    }
    r->left--;
    return *r->p++;
}

uint32_t region__rd_u32(struct region_rd *r)
{
    if (r->bad || r->left < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
                 (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->left -= 4;
    return v;
}

uint64_t region__rd_u64(struct region_rd *r)
{
    if (r->bad || r->left < 8) {
        r->bad = true;
        return 0;
    }
    uint64_t v = region__get_u64(r->p);
    r->p += 8;
    r->left -= 8;
    return v;
}

const uint8_t *region__rd_bytes(struct region_rd *r, size_t *len)
{
    uint32_t n = region__rd_u32(r);
    if (r->bad || r->left < n) {
        r->bad = true;
        *len = 0;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    *len = n;
    return p;
}

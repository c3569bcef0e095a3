/* heap.c: the allocator hook every libmvcc allocation goes through, and the
 * growable byte buffer built on it (DESIGN.md, "Conventions").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mvcc_int.h"

static struct mvcc_heap heap; /* all NULL: libc */

void mvcc_heap_set(const struct mvcc_heap *h)
{
    if (h == NULL)
        memset(&heap, 0, sizeof heap);
    else
        heap = *h;
}

void *mvcc__malloc(size_t n)
{
    if (n == 0)
        n = 1;
    return heap.malloc ? heap.malloc(heap.ctx, n) : malloc(n);
}

void *mvcc__calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = mvcc__malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *mvcc__realloc(void *p, size_t n)
{
    if (n == 0)
        n = 1;
    return heap.realloc ? heap.realloc(heap.ctx, p, n) : realloc(p, n);
}

void mvcc__free(void *p)
{
    if (p == NULL)
        return;
    if (heap.free)
        heap.free(heap.ctx, p);
    else
        free(p);
}

void *mvcc__memdup(const void *p, size_t n)
{
    void *q = mvcc__malloc(n);
    if (q != NULL && n > 0)
        memcpy(q, p, n);
    return q;
}

void *mvcc_malloc(size_t n)
{
    return mvcc__malloc(n);
}

void mvcc_free(void *p)
{
    mvcc__free(p);
}

int mvcc__buf_reserve(struct mvcc__buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    uint8_t *d = mvcc__realloc(b->data, cap);
    if (d == NULL)
        return -ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int mvcc__buf_append(struct mvcc__buf *b, const void *p, size_t n)
{
    int rc = mvcc__buf_reserve(b, n);
    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void mvcc__buf_free(struct mvcc__buf *b)
{
    mvcc__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

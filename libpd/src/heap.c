/* heap.c: the allocator hook (pd_heap_set); every allocation in libpd goes
 * through pd__malloc and friends.
 */
#include <stdlib.h>
#include <string.h>

#include "pd_int.h"

static void *libc_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void *libc_realloc(void *ctx, void *p, size_t size)
{
    (void)ctx;
    return realloc(p, size);
}

static void libc_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static struct pd_heap heap = {NULL, libc_malloc, libc_realloc, libc_free};

void pd_heap_set(const struct pd_heap *h)
{
    if (h == NULL) {
        heap.ctx = NULL;
        heap.malloc = libc_malloc;
        heap.realloc = libc_realloc;
        heap.free = libc_free;
        return;
    }
    heap = *h;
}

void *pd__malloc(size_t size)
{
    return heap.malloc(heap.ctx, size == 0 ? 1 : size);
}

void *pd__calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = pd__malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *pd__realloc(void *p, size_t size)
{
    return heap.realloc(heap.ctx, p, size == 0 ? 1 : size);
}

void pd__free(void *p)
{
    if (p != NULL)
        heap.free(heap.ctx, p);
}

char *pd__strndup(const char *s, size_t n)
{
    char *d = pd__malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

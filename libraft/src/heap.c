/* heap.c: the allocator hook (raft_heap_set); every allocation in libraft
 * goes through raft__malloc/raft__realloc/raft__free.
 */
#include <stdlib.h>
#include <string.h>

#include "raft_int.h"

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

static struct raft_heap heap = {NULL, libc_malloc, libc_realloc, libc_free};

void raft_heap_set(const struct raft_heap *h)
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

void *raft__malloc(size_t size)
{
    return heap.malloc(heap.ctx, size == 0 ? 1 : size);
}

void *raft__calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = raft__malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *raft__realloc(void *p, size_t size)
{
    return heap.realloc(heap.ctx, p, size == 0 ? 1 : size);
}

void raft__free(void *p)
{
    if (p != NULL)
        heap.free(heap.ctx, p);
}

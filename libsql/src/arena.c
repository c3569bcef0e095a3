/* arena.c: the allocator hook of libsql and the per-statement arena (a
 * chain of bump-allocated blocks freed together, like PostgreSQL memory
 * contexts or nginx pools). See DESIGN.md, "Parser".
 */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "memtrack.h"

static struct sql__heap heap; /* all NULL: libc */

void sql__heap_set(const struct sql__heap *h)
{
    if (h == NULL)
        memset(&heap, 0, sizeof heap);
    else
        heap = *h;
}

void *sql__malloc(size_t n)
{
    if (n == 0)
        n = 1;
    return heap.malloc ? heap.malloc(heap.ctx, n) : malloc(n);
}

void *sql__realloc(void *p, size_t n)
{
    if (n == 0)
        n = 1;
    return heap.realloc ? heap.realloc(heap.ctx, p, n) : realloc(p, n);
}

void sql__free(void *p)
{
    if (p == NULL)
        return;
    if (heap.free)
        heap.free(heap.ctx, p);
    else
        free(p);
}

#define ARENA_ALIGN alignof(max_align_t)
#define ARENA_DEFAULT_BLOCK 4096
/* The block header is padded so the first allocation is aligned. */
#define ARENA_HDR                                                       \
    ((sizeof(struct sql_arena_block) + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1))

struct sql_arena *sql__arena_create(size_t block_size)
{
    struct sql_arena *a = sql__malloc(sizeof *a);
    if (a == NULL)
        return NULL;
    memset(a, 0, sizeof *a);
    a->block_size = block_size ? block_size : ARENA_DEFAULT_BLOCK;
    return a;
}

static void free_blocks(struct sql_arena *a, struct sql_arena_block *b,
                        struct sql_arena_block *stop)
{
    while (b != stop) {
        struct sql_arena_block *next = b->next;
        sql__memtrack_release(a->track, ARENA_HDR + b->size);
        sql__free(b);
        b = next;
    }
}

void sql__arena_init(struct sql_arena *a, size_t block_size)
{
    memset(a, 0, sizeof *a);
    a->block_size = block_size ? block_size : ARENA_DEFAULT_BLOCK;
}

void sql__arena_fini(struct sql_arena *a)
{
    free_blocks(a, a->head, NULL);
    a->head = NULL;
    a->cur = a->end = NULL;
    a->total = 0;
}

void sql__arena_destroy(struct sql_arena *a)
{
    if (a == NULL)
        return;
    free_blocks(a, a->head, NULL);
    sql__free(a);
}

void sql__arena_reset(struct sql_arena *a)
{
    struct sql_arena_block *first = a->head;
    if (first == NULL)
        return;
    while (first->next != NULL)
        first = first->next;
    free_blocks(a, a->head, first);
    a->head = first;
    a->cur = (char *)first + ARENA_HDR;
    a->end = a->cur + first->size;
    a->total = ARENA_HDR + first->size;
}

void *sql__arena_alloc(struct sql_arena *a, size_t n)
{
    n = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    if (n == 0)
        n = ARENA_ALIGN;
    if (a->head == NULL || (size_t)(a->end - a->cur) < n) {
        size_t size = a->block_size;
        if (n > size / 4) /* a big request gets a block of its own size */
            size = n > size ? n : size;
        if (size > SIZE_MAX - ARENA_HDR)
            return NULL;
        if (!sql__memtrack_charge(a->track, ARENA_HDR + size))
            return NULL; /* past the query's memory limit */
        struct sql_arena_block *b = sql__malloc(ARENA_HDR + size);
        if (b == NULL) {
            sql__memtrack_release(a->track, ARENA_HDR + size);
            return NULL;
        }
        b->size = size;
        a->total += ARENA_HDR + size;
        if (a->head != NULL && size == n && a->cur != a->end) {
            /* Keep bump-allocating from the current block: link the big
             * one behind it. */
            b->next = a->head->next;
            a->head->next = b;
            return (char *)b + ARENA_HDR;
        }
        b->next = a->head;
        a->head = b;
        a->cur = (char *)b + ARENA_HDR;
        a->end = a->cur + size;
    }
    void *p = a->cur;
    a->cur += n;
    return p;
}

void *sql__arena_zalloc(struct sql_arena *a, size_t n)
{
    void *p = sql__arena_alloc(a, n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

char *sql__arena_strndup(struct sql_arena *a, const char *s, size_t n)
{
    char *p = sql__arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

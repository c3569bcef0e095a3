/* heap.c: the public allocator hook, sql_heap_set(), which forwards to the
 * internal hook sql__heap_set() of src/arena.c (DESIGN.md "Parser").
 *
 * Transitional: until arena.c is committed, the weak definitions below
 * stand in for its four hook functions so the library links on its own;
 * arena.c's strong definitions replace all four together once it is
 * linked. Delete them when arena.c is in the tree.
 */
#include <stdlib.h>
#include <string.h>

#include "sql_int.h"

void sql_heap_set(const struct sql_heap *heap)
{
    if (heap == NULL) {
        sql__heap_set(NULL);
        return;
    }
    struct sql__heap h = {heap->ctx, heap->malloc, heap->realloc,
                          heap->free};
    sql__heap_set(&h);
}

static struct sql__heap fallback; /* all NULL: libc */

__attribute__((weak)) void sql__heap_set(const struct sql__heap *h)
{
    if (h == NULL)
        memset(&fallback, 0, sizeof fallback);
    else
        fallback = *h;
}

__attribute__((weak)) void *sql__malloc(size_t n)
{
    if (n == 0)
        n = 1;
    return fallback.malloc ? fallback.malloc(fallback.ctx, n) : malloc(n);
}

__attribute__((weak)) void *sql__realloc(void *p, size_t n)
{
    if (n == 0)
        n = 1;
    return fallback.realloc ? fallback.realloc(fallback.ctx, p, n)
                            : realloc(p, n);
}

__attribute__((weak)) void sql__free(void *p)
{
    if (p == NULL)
        return;
    if (fallback.free)
        fallback.free(fallback.ctx, p);
    else
        free(p);
}

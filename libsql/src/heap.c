/* heap.c: the public allocator hook, sql_heap_set(), which forwards to the
 * internal hook of src/arena.c (sql__heap_set) that every libsql
 * allocation goes through.
 */
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

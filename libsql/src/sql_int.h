/* sql_int.h: what the protocol engine's sources share and no caller sees:
 * the allocator hook's internal entry points. Their one definition is in
 * src/arena.c (the parser's file); this header repeats the declarations so
 * the protocol code does not depend on the arena.
 */
#ifndef SQL_INT_H
#define SQL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sql.h"

/* Must match src/arena.h. */
struct sql__heap {
    void *ctx;                                      /* passed to each call */
    void *(*malloc)(void *ctx, size_t n);           /* like malloc */
    void *(*realloc)(void *ctx, void *p, size_t n); /* like realloc */
    void (*free)(void *ctx, void *p);               /* like free */
};
void sql__heap_set(const struct sql__heap *heap);
void *sql__malloc(size_t n);
void *sql__realloc(void *p, size_t n);
void sql__free(void *p);

/* Zeroed n * size bytes, NULL on overflow or when out of memory. */
static inline void *sql__calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = sql__malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

#endif /* SQL_INT_H */

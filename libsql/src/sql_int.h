/* sql_int.h: what the protocol engine's sources share and no caller sees:
 * the allocator hook (declared with the arena in src/arena.h) and a zeroing
 * allocation on top of it.
 */
#ifndef SQL_INT_H
#define SQL_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "sql.h"

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

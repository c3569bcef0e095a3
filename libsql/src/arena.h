/* arena.h: libsql's internal allocator hook (sql__malloc and friends) and
 * the per-statement arena every parse tree lives in (DESIGN.md, "Parser").
 * An arena is freed at once; nothing inside it is freed on its own.
 */
#ifndef SQL_ARENA_H
#define SQL_ARENA_H

#include <stddef.h>

struct sql_memtrack;

/* The allocator every libsql allocation goes through (process-wide). All
 * NULL means libc. The public sql.h may expose a setter that forwards here. */
struct sql__heap
{
    void *ctx;                                      /* passed back to each call */
    void *(*malloc)(void *ctx, size_t n);           /* like malloc */
    void *(*realloc)(void *ctx, void *p, size_t n); /* like realloc */
    void (*free)(void *ctx, void *p);               /* like free */
};

/* Install a heap; NULL restores libc. Set it before creating any object. */
void sql__heap_set(const struct sql__heap *heap);
void *sql__malloc(size_t n);
void *sql__realloc(void *p, size_t n);
void sql__free(void *p);

/* A chain of blocks; allocation bumps a pointer in the newest block. */
struct sql_arena_block
{
    struct sql_arena_block *next; /* older block, or NULL */
    size_t size;                  /* usable bytes after the header */
};

struct sql_arena
{
    struct sql_arena_block *head; /* newest block (allocations come from it) */
    char *cur;                    /* next free byte in head */
    char *end;                    /* one past head's last byte */
    size_t block_size;            /* default size of a new block */
    size_t total;                 /* bytes obtained from the heap */
    struct sql_memtrack *track;   /* charged for every block (set before
                                     the first allocation), or NULL */
};

/* Create an arena whose blocks are block_size bytes (0: a default); NULL
 * when the heap fails. No memory is taken until the first allocation. */
struct sql_arena *sql__arena_create(size_t block_size);
/* An arena in storage the caller owns (a struct held inline: no
 * allocation until the first block); sql__arena_fini frees its blocks,
 * not a. Both may be mixed with nothing else: never destroy such an
 * arena. */
void sql__arena_init(struct sql_arena *a, size_t block_size);
void sql__arena_fini(struct sql_arena *a);
/* Free the arena and everything allocated in it; NULL is a no-op. */
void sql__arena_destroy(struct sql_arena *a);
/* Free everything allocated so far but keep the arena (and its first
 * block) for the next statement. */
void sql__arena_reset(struct sql_arena *a);
/* n bytes aligned for any type; NULL when the heap fails. */
void *sql__arena_alloc(struct sql_arena *a, size_t n);
/* n zeroed bytes; NULL when the heap fails. */
void *sql__arena_zalloc(struct sql_arena *a, size_t n);
/* A NUL-terminated copy of n bytes of s; NULL when the heap fails. */
char *sql__arena_strndup(struct sql_arena *a, const char *s, size_t n);

#endif /* SQL_ARENA_H */

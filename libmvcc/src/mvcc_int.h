/* mvcc_int.h: libmvcc's private declarations shared between its source
 * files: the allocator hook, growable buffers, write batches, the record
 * codec and the store's internals. See DESIGN.md.
 */
#ifndef MVCC_INT_H
#define MVCC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mvcc.h"

/* heap.c */
void *mvcc__malloc(size_t n);
void *mvcc__calloc(size_t n, size_t size);
void *mvcc__realloc(void *p, size_t n);
void mvcc__free(void *p);
void *mvcc__memdup(const void *p, size_t n);

/* A growable byte buffer. */
struct mvcc__buf
{
    uint8_t *data; /* bytes, owned; NULL while empty */
    size_t len;    /* bytes in use */
    size_t cap;    /* bytes allocated */
};
int mvcc__buf_reserve(struct mvcc__buf *b, size_t extra);
int mvcc__buf_append(struct mvcc__buf *b, const void *p, size_t n);
void mvcc__buf_free(struct mvcc__buf *b);

/* wbatch.c: one op as stored (offsets into the arena, so it may grow). */
struct mvcc__wop
{
    int type;         /* enum mvcc_wop_type */
    int cf;           /* enum mvcc_cf */
    size_t key_off;   /* key offset in arena */
    size_t key_len;   /* key length */
    size_t val_off;   /* value offset in arena */
    size_t val_len;   /* value length */
};
struct mvcc_wbatch
{
    struct mvcc__wop *ops; /* ops in order */
    size_t nops;           /* ops in use */
    size_t cap;            /* ops allocated */
    struct mvcc__buf arena; /* keys and values */
};

void mvcc__engine_seterr(struct mvcc_engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* MVCC_INT_H */

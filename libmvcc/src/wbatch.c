/* wbatch.c: write batches (ops copied into one arena, applied atomically by
 * an engine) and the thin wrappers over the engine vtable
 * (DESIGN.md, "Engine").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mvcc_int.h"

int mvcc_wbatch_create(struct mvcc_wbatch **out)
{
    struct mvcc_wbatch *b = mvcc__calloc(1, sizeof *b);
    if (b == NULL)
        return -ENOMEM;
    *out = b;
    return 0;
}

void mvcc_wbatch_destroy(struct mvcc_wbatch *b)
{
    if (b == NULL)
        return;
    mvcc__free(b->ops);
    mvcc__buf_free(&b->arena);
    mvcc__free(b);
}

void mvcc_wbatch_clear(struct mvcc_wbatch *b)
{
    b->nops = 0;
    b->arena.len = 0;
}

static int add(struct mvcc_wbatch *b, int type, int cf, const void *k,
               size_t klen, const void *v, size_t vlen)
{
    if (cf < 0 || cf >= MVCC_CF_COUNT || (k == NULL && klen > 0) ||
        (v == NULL && vlen > 0))
        return -EINVAL;
    if (b->nops == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        struct mvcc__wop *ops = mvcc__realloc(b->ops, cap * sizeof *ops);
        if (ops == NULL)
            return -ENOMEM;
        b->ops = ops;
        b->cap = cap;
    }
    int rc = mvcc__buf_reserve(&b->arena, klen + vlen);
    if (rc != 0)
        return rc;
    struct mvcc__wop *op = &b->ops[b->nops];
    op->type = type;
    op->cf = cf;
    op->key_off = b->arena.len;
    op->key_len = klen;
    mvcc__buf_append(&b->arena, k, klen);
    op->val_off = b->arena.len;
    op->val_len = vlen;
    mvcc__buf_append(&b->arena, v, vlen);
    b->nops++;
    return 0;
}

int mvcc_wbatch_put(struct mvcc_wbatch *b, int cf, const void *key,
                    size_t key_len, const void *value, size_t value_len)
{
    return add(b, MVCC_WOP_PUT, cf, key, key_len, value, value_len);
}

int mvcc_wbatch_delete(struct mvcc_wbatch *b, int cf, const void *key,
                       size_t key_len)
{
    return add(b, MVCC_WOP_DELETE, cf, key, key_len, NULL, 0);
}

int mvcc_wbatch_delete_range(struct mvcc_wbatch *b, int cf, const void *start,
                             size_t start_len, const void *end, size_t end_len)
{
    return add(b, MVCC_WOP_DELETE_RANGE, cf, start, start_len, end, end_len);
}

size_t mvcc_wbatch_count(const struct mvcc_wbatch *b)
{
    return b->nops;
}

void mvcc_wbatch_op(const struct mvcc_wbatch *b, size_t i, struct mvcc_wop *op)
{
    const struct mvcc__wop *w = &b->ops[i];
    static const uint8_t empty[1];
    const uint8_t *base = b->arena.data ? b->arena.data : empty;
    op->type = w->type;
    op->cf = w->cf;
    op->key = base + w->key_off;
    op->key_len = w->key_len;
    op->value = base + w->val_off;
    op->value_len = w->val_len;
}

/* Engine wrappers. */

void mvcc__engine_seterr(struct mvcc_engine *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->errmsg, sizeof e->errmsg, fmt, ap);
    va_end(ap);
}

void mvcc_engine_destroy(struct mvcc_engine *e)
{
    if (e != NULL)
        e->ops->destroy(e);
}

int mvcc_engine_get(struct mvcc_engine *e, const struct mvcc_snapshot *snap,
                    int cf, const void *key, size_t key_len, uint8_t **value,
                    size_t *value_len)
{
    if (cf < 0 || cf >= MVCC_CF_COUNT)
        return -EINVAL;
    return e->ops->get(e, snap, cf, key, key_len, value, value_len);
}

static int write1(struct mvcc_engine *e, int type, int cf, const void *k,
                  size_t klen, const void *v, size_t vlen)
{
    struct mvcc_wbatch b;
    memset(&b, 0, sizeof b);
    int rc = add(&b, type, cf, k, klen, v, vlen);
    if (rc == 0)
        rc = e->ops->write(e, &b, false);
    mvcc__free(b.ops);
    mvcc__buf_free(&b.arena);
    return rc;
}

int mvcc_engine_put(struct mvcc_engine *e, int cf, const void *key,
                    size_t key_len, const void *value, size_t value_len)
{
    return write1(e, MVCC_WOP_PUT, cf, key, key_len, value, value_len);
}

int mvcc_engine_delete(struct mvcc_engine *e, int cf, const void *key,
                       size_t key_len)
{
    return write1(e, MVCC_WOP_DELETE, cf, key, key_len, NULL, 0);
}

int mvcc_engine_delete_range(struct mvcc_engine *e, int cf, const void *start,
                             size_t start_len, const void *end, size_t end_len)
{
    return write1(e, MVCC_WOP_DELETE_RANGE, cf, start, start_len, end,
                  end_len);
}

int mvcc_engine_write(struct mvcc_engine *e, const struct mvcc_wbatch *b,
                      bool sync)
{
    if (b->nops == 0)
        return 0;
    return e->ops->write(e, b, sync);
}

int mvcc_engine_snapshot(struct mvcc_engine *e, struct mvcc_snapshot **out)
{
    return e->ops->snapshot(e, out);
}

void mvcc_engine_snapshot_release(struct mvcc_engine *e,
                                  struct mvcc_snapshot *s)
{
    if (s != NULL)
        e->ops->snapshot_release(e, s);
}

int mvcc_engine_iter(struct mvcc_engine *e, const struct mvcc_snapshot *snap,
                     int cf, const struct mvcc_iter_opts *opts,
                     struct mvcc_iter **out)
{
    if (cf < 0 || cf >= MVCC_CF_COUNT)
        return -EINVAL;
    return e->ops->iter(e, snap, cf, opts, out);
}

void mvcc_iter_destroy(struct mvcc_iter *it)
{
    if (it != NULL)
        it->ops->destroy(it);
}

const char *mvcc_engine_errmsg(const struct mvcc_engine *e)
{
    return e->errmsg;
}

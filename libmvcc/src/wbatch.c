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
    b->no_wal = false;
}

static int add(struct mvcc_wbatch *b, int type, int cf, const void *k,
               size_t klen, const void *v, size_t vlen)
{
    if (cf < 0 || cf >= MVCC_ENGINE_CF_COUNT || (k == NULL && klen > 0) ||
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

/* Serialized batch (DESIGN "Formats: write batch"):
 *   off  size  field
 *   0    1     format version (1)
 *   1    4     N = ops
 *   then N times:
 *        1     type (enum mvcc_wop_type)
 *        1     cf (enum mvcc_cf)
 *        4+K   key length, key
 *        4+V   value length, value (DELETE: 0; DELETE_RANGE: the end key)
 */
static void put32(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static size_t get32(const uint8_t *p)
{
    return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

int mvcc_wbatch_encode(const struct mvcc_wbatch *b, uint8_t **out,
                       size_t *out_len)
{
    size_t n = 5;
    if (b->nops > UINT32_MAX)
        return -EINVAL;
    for (size_t i = 0; i < b->nops; i++) {
        if (b->ops[i].key_len > UINT32_MAX || b->ops[i].val_len > UINT32_MAX)
            return -EINVAL;
        if (b->ops[i].cf >= MVCC_CF_COUNT) /* data CFs only (mvcc.h) */
            return -EINVAL;
        n += 10 + b->ops[i].key_len + b->ops[i].val_len;
    }
    uint8_t *p = mvcc__malloc(n);
    if (p == NULL)
        return -ENOMEM;
    p[0] = 1;
    put32(p + 1, b->nops);
    size_t o = 5;
    for (size_t i = 0; i < b->nops; i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(b, i, &op);
        p[o] = (uint8_t)op.type;
        p[o + 1] = (uint8_t)op.cf;
        put32(p + o + 2, op.key_len);
        if (op.key_len)
            memcpy(p + o + 6, op.key, op.key_len);
        o += 6 + op.key_len;
        put32(p + o, op.value_len);
        if (op.value_len)
            memcpy(p + o + 4, op.value, op.value_len);
        o += 4 + op.value_len;
    }
    *out = p;
    *out_len = n;
    return 0;
}

int mvcc_wbatch_decode(struct mvcc_wbatch *b, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len < 5 || p[0] != 1)
        return MVCC_CORRUPT;
    size_t n = get32(p + 1), o = 5;
    /* Validate everything first, so a bad input leaves b unchanged. */
    for (size_t i = 0; i < n; i++) {
        if (len - o < 6)
            return MVCC_CORRUPT;
        int type = p[o], cf = p[o + 1];
        if (type < MVCC_WOP_PUT || type > MVCC_WOP_DELETE_RANGE || cf < 0 ||
            cf >= MVCC_CF_COUNT)
            return MVCC_CORRUPT;
        size_t kl = get32(p + o + 2);
        o += 6;
        if (kl > len - o || len - o - kl < 4)
            return MVCC_CORRUPT;
        o += kl;
        size_t vl = get32(p + o);
        o += 4;
        if (vl > len - o || (type == MVCC_WOP_DELETE && vl != 0))
            return MVCC_CORRUPT;
        o += vl;
    }
    if (o != len)
        return MVCC_CORRUPT;
    size_t before = b->nops, arena_before = b->arena.len;
    o = 5;
    for (size_t i = 0; i < n; i++) {
        int type = p[o], cf = p[o + 1];
        size_t kl = get32(p + o + 2);
        const uint8_t *k = p + o + 6;
        o += 6 + kl;
        size_t vl = get32(p + o);
        const uint8_t *v = p + o + 4;
        o += 4 + vl;
        int rc = add(b, type, cf, k, kl, v, vl);
        if (rc != 0) {
            b->nops = before;
            b->arena.len = arena_before;
            return rc;
        }
    }
    return 0;
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
    if (cf < 0 || cf >= MVCC_ENGINE_CF_COUNT)
        return -EINVAL;
    return e->ops->get(e, snap, cf, key, key_len, value, value_len);
}

static int write1(struct mvcc_engine *e, int type, int cf, const void *k,
                  size_t klen, const void *v, size_t vlen)
{
    struct mvcc_wbatch b;
    memset(&b, 0, sizeof b);
    int rc = add(&b, type, cf, k, klen, v, vlen);
    if (rc == 0) {
        rc = e->ops->write(e, &b, false);
        if (cf == MVCC_CF_WRITE)
            __atomic_add_fetch(&e->nwrites, 1, __ATOMIC_RELEASE);
    }
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
    int rc = e->ops->write(e, b, sync);
    /* Counted even on failure (a failed write may have landed). */
    mvcc__count_write(e, b);
    return rc;
}

void mvcc__count_write(struct mvcc_engine *e, const struct mvcc_wbatch *b)
{
    /* only when CF write changed: a kept iterator reads nothing else */
    bool cf_write = b == NULL;
    for (size_t i = 0; !cf_write && i < b->nops; i++)
        cf_write = b->ops[i].cf == MVCC_CF_WRITE;
    if (cf_write)
        __atomic_add_fetch(&e->nwrites, 1, __ATOMIC_RELEASE);
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
    if (cf < 0 || cf >= MVCC_ENGINE_CF_COUNT)
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

int mvcc_engine_property(struct mvcc_engine *e, int cf, const char *name,
                         uint64_t *out)
{
    if (e == NULL || name == NULL || out == NULL || cf < 0 ||
        cf >= MVCC_ENGINE_CF_COUNT)
        return -EINVAL;
    if (e->ops->property == NULL)
        return -ENOTSUP;
    return e->ops->property(e, cf, name, out);
}

int mvcc_engine_compact(struct mvcc_engine *e, int cf, const void *start,
                        size_t start_len, const void *end, size_t end_len)
{
    if (e == NULL || cf < 0 || cf >= MVCC_ENGINE_CF_COUNT ||
        (start == NULL && start_len > 0) || (end == NULL && end_len > 0))
        return -EINVAL;
    if (e->ops->compact == NULL)
        return -ENOTSUP;
    return e->ops->compact(e, cf, start, start_len, end, end_len);
}

/* zengine.c: the engine view libmvcc's store runs on: every key, in every
 * data column family, carries the one-byte prefix 'z', so transactional
 * data, raw data ('r') and the store's Raft state (0x01) share one RocksDB
 * (DESIGN.md, "Persistence"). The raft CF (the Raft log) is not in the
 * view: any call naming it fails with -EINVAL. Snapshots are the base
 * engine's.
 */
#include <errno.h>
#include <string.h>

#include "region_int.h"

struct zengine {
    struct mvcc_engine e;     /* must be first: the vtable handle */
    struct mvcc_engine *base; /* borrowed: the store's engine */
};

struct ziter {
    struct mvcc_iter it;    /* must be first */
    struct mvcc_iter *base; /* iterator of the base engine */
};

/* 'z' + key into buf (cap bytes) or a fresh allocation; NULL on OOM. */
static uint8_t *zkey(const void *key, size_t len, uint8_t *buf, size_t cap,
                     uint8_t **heap)
{
    uint8_t *k = buf;
    *heap = NULL;
    if (len + 1 > cap) {
        k = *heap = region__malloc(len + 1);
        if (k == NULL)
            return NULL;
    }
    k[0] = REGION__TXN;
    if (len > 0)
        memcpy(k + 1, key, len);
    return k;
}

static int z_get(struct mvcc_engine *e, const struct mvcc_snapshot *snap,
                 int cf, const void *key, size_t key_len, uint8_t **value,
                 size_t *value_len)
{
    struct zengine *z = (struct zengine *)e;
    if (cf < 0 || cf >= MVCC_CF_COUNT)
        return -EINVAL; /* the raft CF is not libmvcc's */
    uint8_t buf[256], *heap;
    uint8_t *k = zkey(key, key_len, buf, sizeof buf, &heap);
    if (k == NULL)
        return -ENOMEM;
    int rc = mvcc_engine_get(z->base, snap, cf, k, key_len + 1, value,
                             value_len);
    region__free(heap);
    return rc;
}

static int prefixed(struct mvcc_wbatch *dst, const struct mvcc_wbatch *b,
                    uint8_t p, bool no_lock_deletes)
{
    size_t n = mvcc_wbatch_count(b);
    uint8_t buf[256], buf2[256], *h1, *h2;
    uint8_t endp = (uint8_t)(p + 1);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(b, i, &op);
        if (op.cf >= MVCC_CF_COUNT)
            return -EINVAL; /* the raft CF is not libmvcc's */
        if (no_lock_deletes && op.type == MVCC_WOP_DELETE &&
            op.cf == MVCC_CF_LOCK)
            continue;
        uint8_t *k = zkey(op.key, op.key_len, buf, sizeof buf, &h1);
        if (k == NULL)
            return -ENOMEM;
        k[0] = p;
        switch (op.type) {
        case MVCC_WOP_PUT:
            rc = mvcc_wbatch_put(dst, op.cf, k, op.key_len + 1, op.value,
                                 op.value_len);
            break;
        case MVCC_WOP_DELETE:
            rc = mvcc_wbatch_delete(dst, op.cf, k, op.key_len + 1);
            break;
        case MVCC_WOP_DELETE_RANGE:
            if (op.value_len == 0) {
                rc = mvcc_wbatch_delete_range(dst, op.cf, k, op.key_len + 1,
                                              &endp, 1);
            } else {
                uint8_t *v = zkey(op.value, op.value_len, buf2, sizeof buf2,
                                  &h2);
                if (v == NULL) {
                    rc = -ENOMEM;
                } else {
                    v[0] = p;
                    rc = mvcc_wbatch_delete_range(dst, op.cf, k,
                                                  op.key_len + 1, v,
                                                  op.value_len + 1);
                    region__free(h2);
                }
            }
            break;
        default:
            rc = REGION_EDECODE;
        }
        region__free(h1);
    }
    return rc;
}

int region__wbatch_prefixed(struct mvcc_wbatch *dst,
                            const struct mvcc_wbatch *b, uint8_t p)
{
    return prefixed(dst, b, p, false);
}

int region__wbatch_prefixed_nolockdel(struct mvcc_wbatch *dst,
                                      const struct mvcc_wbatch *b, uint8_t p)
{
    return prefixed(dst, b, p, true);
}

static int z_write(struct mvcc_engine *e, const struct mvcc_wbatch *b,
                   bool sync)
{
    struct zengine *z = (struct zengine *)e;
    struct mvcc_wbatch *pb;
    int rc = mvcc_wbatch_create(&pb);
    if (rc != 0)
        return rc;
    rc = region__wbatch_prefixed(pb, b, REGION__TXN);
    if (rc == 0)
        rc = mvcc_engine_write(z->base, pb, sync);
    mvcc_wbatch_destroy(pb);
    return rc;
}

static int z_snapshot(struct mvcc_engine *e, struct mvcc_snapshot **out)
{
    return mvcc_engine_snapshot(((struct zengine *)e)->base, out);
}

static void z_snapshot_release(struct mvcc_engine *e, struct mvcc_snapshot *s)
{
    mvcc_engine_snapshot_release(((struct zengine *)e)->base, s);
}

static int zi_seek(struct mvcc_iter *it, const void *key, size_t len)
{
    struct ziter *zi = (struct ziter *)it;
    uint8_t buf[256], *heap;
    uint8_t *k = zkey(key, len, buf, sizeof buf, &heap);
    if (k == NULL)
        return -ENOMEM;
    int rc = zi->base->ops->seek(zi->base, k, len + 1);
    region__free(heap);
    return rc;
}

static int zi_seek_for_prev(struct mvcc_iter *it, const void *key, size_t len)
{
    struct ziter *zi = (struct ziter *)it;
    uint8_t buf[256], *heap;
    uint8_t *k = zkey(key, len, buf, sizeof buf, &heap);
    if (k == NULL)
        return -ENOMEM;
    int rc = zi->base->ops->seek_for_prev(zi->base, k, len + 1);
    region__free(heap);
    return rc;
}

static int zi_first(struct mvcc_iter *it)
{
    struct ziter *zi = (struct ziter *)it;
    return zi->base->ops->seek_to_first(zi->base);
}

static int zi_last(struct mvcc_iter *it)
{
    struct ziter *zi = (struct ziter *)it;
    return zi->base->ops->seek_to_last(zi->base);
}

static int zi_next(struct mvcc_iter *it)
{
    struct ziter *zi = (struct ziter *)it;
    return zi->base->ops->next(zi->base);
}

static int zi_prev(struct mvcc_iter *it)
{
    struct ziter *zi = (struct ziter *)it;
    return zi->base->ops->prev(zi->base);
}

static bool zi_valid(const struct mvcc_iter *it)
{
    const struct ziter *zi = (const struct ziter *)it;
    return zi->base->ops->valid(zi->base);
}

static const uint8_t *zi_key(const struct mvcc_iter *it, size_t *len)
{
    const struct ziter *zi = (const struct ziter *)it;
    size_t l = 0;
    const uint8_t *k = zi->base->ops->key(zi->base, &l);
    /* bounds keep the iterator inside the prefix, so l >= 1 */
    *len = l > 0 ? l - 1 : 0;
    return l > 0 ? k + 1 : k;
}

static const uint8_t *zi_value(const struct mvcc_iter *it, size_t *len)
{
    const struct ziter *zi = (const struct ziter *)it;
    return zi->base->ops->value(zi->base, len);
}

static void zi_destroy(struct mvcc_iter *it)
{
    struct ziter *zi = (struct ziter *)it;
    mvcc_iter_destroy(zi->base);
    region__free(zi);
}

static const struct mvcc_iter_ops ziter_ops = {
    .seek = zi_seek,
    .seek_for_prev = zi_seek_for_prev,
    .seek_to_first = zi_first,
    .seek_to_last = zi_last,
    .next = zi_next,
    .prev = zi_prev,
    .valid = zi_valid,
    .key = zi_key,
    .value = zi_value,
    .destroy = zi_destroy,
};

static int z_iter(struct mvcc_engine *e, const struct mvcc_snapshot *snap,
                  int cf, const struct mvcc_iter_opts *opts,
                  struct mvcc_iter **out)
{
    struct zengine *z = (struct zengine *)e;
    if (cf < 0 || cf >= MVCC_CF_COUNT)
        return -EINVAL; /* the raft CF is not libmvcc's */
    uint8_t lb[256], ub[256], *lh = NULL, *uh = NULL;
    uint8_t lo1 = REGION__TXN, hi1 = REGION__TXN + 1;
    struct mvcc_iter_opts o = {&lo1, 1, &hi1, 1};
    int rc = -ENOMEM;
    struct ziter *zi = region__calloc(1, sizeof *zi);
    if (zi == NULL)
        goto err;
    if (opts && opts->lower) {
        o.lower = zkey(opts->lower, opts->lower_len, lb, sizeof lb, &lh);
        o.lower_len = opts->lower_len + 1;
        if (o.lower == NULL)
            goto err;
    }
    if (opts && opts->upper) {
        o.upper = zkey(opts->upper, opts->upper_len, ub, sizeof ub, &uh);
        o.upper_len = opts->upper_len + 1;
        if (o.upper == NULL)
            goto err;
    }
    rc = mvcc_engine_iter(z->base, snap, cf, &o, &zi->base);
    if (rc != 0)
        goto err;
    zi->it.ops = &ziter_ops;
    *out = &zi->it;
    region__free(lh);
    region__free(uh);
    return 0;
err:
    region__free(lh);
    region__free(uh);
    region__free(zi);
    return rc;
}

static void z_destroy(struct mvcc_engine *e)
{
    region__free(e);
}

/* The prefixed view shares the base engine's RocksDB: its figures are the
 * base's (Raft state and raw data included). */
static int z_property(struct mvcc_engine *e, int cf, const char *name,
                      uint64_t *out)
{
    if (cf < 0 || cf >= MVCC_CF_COUNT)
        return -EINVAL;
    return mvcc_engine_property(((struct zengine *)e)->base, cf, name, out);
}

/* The base engine's compaction over the prefixed range (unbounded ends:
 * the transactional key space's own). */
static int z_compact(struct mvcc_engine *e, int cf, const void *start,
                     size_t start_len, const void *end, size_t end_len)
{
    if (cf < 0 || cf >= MVCC_CF_COUNT)
        return -EINVAL;
    uint8_t lb[256], ub[256], *lh = NULL, *uh = NULL;
    uint8_t lo1 = REGION__TXN, hi1 = REGION__TXN + 1;
    const uint8_t *lo = &lo1, *hi = &hi1;
    size_t lol = 1, hil = 1;
    int rc = -ENOMEM;
    if (start && (lo = zkey(start, start_len, lb, sizeof lb, &lh)) == NULL)
        goto out;
    if (start)
        lol = start_len + 1;
    if (end && (hi = zkey(end, end_len, ub, sizeof ub, &uh)) == NULL)
        goto out;
    if (end)
        hil = end_len + 1;
    rc = mvcc_engine_compact(((struct zengine *)e)->base, cf, lo, lol, hi,
                             hil);
out:
    region__free(lh);
    region__free(uh);
    return rc;
}

static const struct mvcc_engine_ops zengine_ops = {
    .get = z_get,
    .write = z_write,
    .snapshot = z_snapshot,
    .snapshot_release = z_snapshot_release,
    .iter = z_iter,
    .destroy = z_destroy,
    .property = z_property,
    .compact = z_compact,
};

int region__zengine_create(struct mvcc_engine *base, struct mvcc_engine **out)
{
    struct zengine *z = region__calloc(1, sizeof *z);
    if (z == NULL)
        return -ENOMEM;
    z->e.ops = &zengine_ops;
    z->base = base;
    *out = &z->e;
    return 0;
}

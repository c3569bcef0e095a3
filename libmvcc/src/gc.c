/* gc.c: garbage collection of old versions below a safe point, and
 * DeleteRange (DESIGN.md, "GC"). GC takes no latches: it only removes
 * versions no read at or above the safe point can see, and no live
 * transaction starts below the safe point (the caller's contract).
 */
#include <errno.h>
#include <string.h>

#include "txn.h"

#define GC_BATCH 256

/* Rewrites the write CF over the encoded keys [lo, hi) (NULL: unbounded)
 * so that no scan steps over the tombstones a sweep left there. A
 * failure is logged (the versions are gone either way) and returned. */
static int compact_write(struct mvcc_store *s, const void *lo, size_t lo_len,
                         const void *hi, size_t hi_len)
{
    int rc = mvcc_engine_compact(s->eng, MVCC_CF_WRITE, lo, lo_len, hi,
                                 hi_len);
    if (rc == 0) /* a kept read iterator would still see the tombstones */
        mvcc__count_write(s->eng, NULL);
    if (rc != 0 && rc != -ENOTSUP)
        mvcc__log(s, MVCC_LOG_WARN, "gc: compacting the removed versions "
                                    "failed (%d): %s",
                  rc, mvcc_engine_errmsg(s->eng));
    return rc;
}

/* Over [first, last] (the first and last write-CF keys the sweep
 * deleted): the end is exclusive, so just past the last key. */
static void compact_removed(struct mvcc_store *s, const struct mvcc__buf *first,
                            struct mvcc__buf *last)
{
    if (mvcc__buf_append(last, "", 1) == 0)
        (void)compact_write(s, first->data, first->len, last->data,
                            last->len);
}

/* The write CF's bounds of the user keys [start, end) into lo and hi
 * (left empty: no bound). Every version of a user key in range lies in
 * [enc(start), enc(end)): the encoding keeps order and no encoded key is
 * a prefix of another. An empty start is no lower bound, an empty end no
 * upper one. */
static int write_bounds(struct mvcc__buf *lo, struct mvcc__buf *hi,
                        const void *start, size_t start_len, const void *end,
                        size_t end_len)
{
    int rc = 0;
    if (start_len > 0)
        rc = mvcc__key_append(lo, start, start_len);
    if (rc == 0 && end_len > 0)
        rc = mvcc__key_append(hi, end, end_len);
    return rc;
}

/* One sweep over the write CF's [io->lower, io->upper) (NULL io: all);
 * compact: compact what it removed if that is much. */
static int gc_sweep(struct mvcc_store *s, const struct mvcc_iter_opts *io,
                    mvcc_ts safe_point, bool compact,
                    struct mvcc_gc_result *res)
{
    struct mvcc_iter *it = NULL;
    struct mvcc_wbatch b;
    struct mvcc__buf cur = {0}, dk = {0};
    struct mvcc__buf first = {0}, last = {0}; /* write-CF keys deleted */
    uint64_t n = 0;
    bool base_found = false;
    bool base_dropped = false; /* the key's base was a Delete, removed */
    memset(&b, 0, sizeof b);
    uint64_t seen = 0;
    mvcc_ts max_ts = 0;
    int rc = mvcc_engine_iter(s->eng, NULL, MVCC_CF_WRITE, io, &it);
    if (rc != 0)
        return rc;
    for (rc = it->ops->seek_to_first(it); rc == 0 && it->ops->valid(it);
         rc = it->ops->next(it)) {
        size_t kl, vl;
        const uint8_t *k = it->ops->key(it, &kl);
        const uint8_t *v = it->ops->value(it, &vl);
        if (kl < 8) {
            rc = MVCC_CORRUPT;
            break;
        }
        size_t ul = kl - 8;
        if (cur.len != ul || memcmp(cur.data, k, ul) != 0) {
            /* a new user key: what is held back for the last goes now */
            if (b.nops >= GC_BATCH) {
                if ((rc = mvcc__store_apply(s, &b)))
                    break;
                mvcc_wbatch_clear(&b);
            }
            cur.len = 0; /* versions come newest first */
            if ((rc = mvcc__buf_append(&cur, k, ul)))
                break;
            base_found = false;
            base_dropped = false;
        }
        mvcc_ts cts = mvcc__key_ts(k, kl);
        seen++;
        if (cts > max_ts)
            max_ts = cts;
        if (cts > safe_point)
            continue;
        struct mvcc__write w;
        if ((rc = mvcc__write_decode(v, vl, &w)))
            break;
        bool drop;
        if (!base_found) {
            /* The version a read at safe_point sees: a Put stays, a Delete
             * goes (absent either way); Lock/Rollback are looked through. */
            if (w.type == MVCC__WRITE_PUT || w.type == MVCC__WRITE_DELETE)
                base_found = true;
            base_dropped = w.type == MVCC__WRITE_DELETE;
            drop = w.type != MVCC__WRITE_PUT;
        } else {
            drop = true;
        }
        if (!drop)
            continue;
        if ((rc = mvcc_wbatch_delete(&b, MVCC_CF_WRITE, k, kl)))
            break;
        if (first.len == 0 && (rc = mvcc__buf_append(&first, k, kl)))
            break;
        last.len = 0;
        if ((rc = mvcc__buf_append(&last, k, kl)))
            break;
        if (w.type == MVCC__WRITE_PUT && !w.has_value) {
            dk.len = 0;
            if ((rc = mvcc__buf_append(&dk, k, ul)))
                break;
            uint8_t ts[8];
            mvcc__put_u64(ts, ~w.start_ts);
            if ((rc = mvcc__buf_append(&dk, ts, 8)) ||
                (rc = mvcc_wbatch_delete(&b, MVCC_CF_DEFAULT, dk.data,
                                         dk.len)))
                break;
        }
        n++;
        /* A Delete base goes in the same batch as the versions below it:
         * applied alone, it would let a read at the safe point see the
         * Put under it until the next batch. */
        if (b.nops >= GC_BATCH && !base_dropped) {
            if ((rc = mvcc__store_apply(s, &b)))
                break;
            mvcc_wbatch_clear(&b);
        }
    }
    if (rc == 0)
        rc = mvcc__store_apply(s, &b);
    mvcc_iter_destroy(it);
    if (rc == 0 && compact && n >= MVCC_GC_COMPACT_MIN)
        compact_removed(s, &first, &last);
    mvcc__free(b.ops);
    mvcc__buf_free(&b.arena);
    mvcc__buf_free(&cur);
    mvcc__buf_free(&dk);
    mvcc__buf_free(&first);
    mvcc__buf_free(&last);
    res->removed = n;
    res->records = seen;
    res->max_ts = max_ts;
    return rc;
}

int mvcc_gc(struct mvcc_store *s, mvcc_ts safe_point, uint64_t *removed)
{
    if (removed)
        *removed = 0;
    if (s == NULL)
        return -EINVAL;
    struct mvcc_gc_result res = {0, 0, 0};
    int rc = gc_sweep(s, NULL, safe_point, true, &res);
    if (removed)
        *removed = res.removed;
    if (rc == 0)
        mvcc__log(s, MVCC_LOG_INFO, "gc at %llu removed %llu versions",
                  (unsigned long long)safe_point,
                  (unsigned long long)res.removed);
    return rc;
}

int mvcc_gc_range(struct mvcc_store *s, const void *start, size_t start_len,
                  const void *end, size_t end_len, mvcc_ts safe_point,
                  struct mvcc_gc_result *out)
{
    struct mvcc_gc_result res = {0, 0, 0};
    if (out)
        *out = res;
    if (s == NULL || (start == NULL && start_len > 0) ||
        (end == NULL && end_len > 0))
        return -EINVAL;
    struct mvcc__buf lo = {0}, hi = {0};
    int rc = write_bounds(&lo, &hi, start, start_len, end, end_len);
    if (rc == 0) {
        struct mvcc_iter_opts io = {lo.len ? lo.data : NULL, lo.len,
                                    hi.len ? hi.data : NULL, hi.len};
        rc = gc_sweep(s, &io, safe_point, false, &res);
    }
    mvcc__buf_free(&lo);
    mvcc__buf_free(&hi);
    if (out)
        *out = res;
    return rc;
}

int mvcc_gc_compact(struct mvcc_store *s, const void *start,
                    size_t start_len, const void *end, size_t end_len)
{
    if (s == NULL || (start == NULL && start_len > 0) ||
        (end == NULL && end_len > 0))
        return -EINVAL;
    struct mvcc__buf lo = {0}, hi = {0};
    int rc = write_bounds(&lo, &hi, start, start_len, end, end_len);
    if (rc == 0)
        rc = compact_write(s, lo.len ? lo.data : NULL, lo.len,
                           hi.len ? hi.data : NULL, hi.len);
    mvcc__buf_free(&lo);
    mvcc__buf_free(&hi);
    return rc;
}

int mvcc_delete_range(struct mvcc_store *s, const void *start,
                      size_t start_len, const void *end, size_t end_len)
{
    if (s == NULL || (start == NULL && start_len > 0))
        return -EINVAL;
    struct mvcc__buf lo = {0}, hi = {0};
    struct mvcc_wbatch b;
    memset(&b, 0, sizeof b);
    int rc = mvcc__key_append(&lo, start ? start : "", start_len);
    if (rc == 0 && end)
        rc = mvcc__key_append(&hi, end, end_len);
    /* Unbounded above: a run of 0xFF bounds almost every key; the rest
     * are deleted one by one below. */
    if (rc == 0 && !end) {
        uint8_t ff[16];
        memset(ff, 0xFF, sizeof ff);
        rc = mvcc__buf_append(&hi, ff, sizeof ff);
    }
    for (int cf = 0; cf < MVCC_CF_COUNT && rc == 0; cf++) {
        rc = mvcc_wbatch_delete_range(&b, cf, lo.data, lo.len, hi.data,
                                      hi.len);
        if (rc != 0 || end)
            continue;
        /* Keys of 16+ leading 0xFF bytes sort above that bound: delete
         * whatever is there one by one (almost always nothing). Locks
         * from the lock table when there is one: a lone primary's lock
         * is only there. */
        struct mvcc_iter_opts io = {hi.data, hi.len, NULL, 0};
        struct mvcc_iter *it;
        rc = cf == MVCC_CF_LOCK ? mvcc__lock_iter(s, NULL, &io, &it)
                                : mvcc_engine_iter(s->eng, NULL, cf, &io, &it);
        if (rc != 0)
            break;
        for (rc = it->ops->seek_to_first(it); rc == 0 && it->ops->valid(it);
             rc = it->ops->next(it)) {
            size_t kl;
            const uint8_t *k = it->ops->key(it, &kl);
            if ((rc = mvcc_wbatch_delete(&b, cf, k, kl)))
                break;
        }
        mvcc_iter_destroy(it);
    }
    if (rc == 0)
        rc = mvcc__store_apply(s, &b);
    mvcc__free(b.ops);
    mvcc__buf_free(&b.arena);
    mvcc__buf_free(&lo);
    mvcc__buf_free(&hi);
    if (rc == 0)
        mvcc__wake_range(s, start ? start : "", start_len, end, end_len);
    return rc;
}

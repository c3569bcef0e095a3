/* stats.c: the statistics record (encode, checked decode), its meta key, and
 * the selectivity estimates the planner asks of it: = (most common values,
 * a bucket's upper bound, else uniform over the other distinct values),
 * ranges (the histogram, interpolated inside a bucket), IS NULL.
 * DESIGN.md "Statistics".
 */
#include <errno.h>
#include <string.h>

#include "sql_int.h"
#include "stats.h"
#include "tablecodec.h"

/* Past these a record is malformed (ANALYZE writes far fewer). */
#define MAX_COLS 4096
#define MAX_BUCKETS 1024
#define MAX_TOPN 256

const char sql__stats_prefix[] = "mStats";

size_t sql__stats_key(uint8_t *k, int64_t table_id)
{
    memcpy(k, sql__stats_prefix, 6);
    sql__tc_put_i64(k + 6, table_id);
    return 14;
}

void sql__stats_free(struct sql_tstats *st)
{
    if (st)
        sql__arena_destroy(st->arena);
}

/* ---- record ------------------------------------------------------------- */

static int put_val(struct sql__buf *b, const struct sql_statval *v)
{
    int rc = sql__buf_lenenc_str(b, v->key, v->klen);
    const char *t = v->text ? v->text : "";
    return rc ? rc : sql__buf_lenenc_str(b, t, strlen(t));
}

int sql__stats_encode(const struct sql_tstats *st, struct sql__buf *b)
{
    int rc = sql__buf_u8(b, SQL_STATS_VERSION);
    rc = rc ? rc : sql__buf_u64(b, (uint64_t)st->table_id);
    rc = rc ? rc : sql__buf_u64(b, st->rows);
    rc = rc ? rc : sql__buf_u64(b, st->sampled);
    rc = rc ? rc : sql__buf_u64(b, (uint64_t)st->time_ms);
    rc = rc ? rc : sql__buf_u32(b, st->ncols);
    for (uint32_t i = 0; rc == 0 && i < st->ncols; i++) {
        const struct sql_colstats *c = &st->cols[i];
        rc = sql__buf_u32(b, c->col_id);
        rc = rc ? rc : sql__buf_u64(b, c->ndv);
        rc = rc ? rc : sql__buf_u64(b, c->nulls);
        rc = rc ? rc : sql__buf_u64(b, c->avg_size);
        rc = rc ? rc : sql__buf_u32(b, c->nb);
        for (uint32_t k = 0; rc == 0 && k < c->nb; k++) {
            rc = put_val(b, &c->b[k].lo);
            rc = rc ? rc : put_val(b, &c->b[k].hi);
            rc = rc ? rc : sql__buf_u64(b, c->b[k].count);
            rc = rc ? rc : sql__buf_u64(b, c->b[k].repeats);
        }
        rc = rc ? rc : sql__buf_u32(b, c->ntop);
        for (uint32_t k = 0; rc == 0 && k < c->ntop; k++) {
            rc = put_val(b, &c->top[k].v);
            rc = rc ? rc : sql__buf_u64(b, c->top[k].count);
        }
    }
    rc = rc ? rc : sql__buf_u32(b, st->nidx);
    for (uint32_t i = 0; rc == 0 && i < st->nidx; i++) {
        rc = sql__buf_u64(b, (uint64_t)st->idx[i].idx_id);
        rc = rc ? rc : sql__buf_u64(b, st->idx[i].ndv);
        rc = rc ? rc : sql__buf_u64(b, st->idx[i].nulls);
    }
    return rc;
}

static void get_val(struct sql__rd *r, struct sql_arena *a,
                    struct sql_statval *v)
{
    size_t n = 0;
    const uint8_t *p = sql__rd_lenenc_str(r, &n);
    if (!p) {
        r->bad = true;
        return;
    }
    uint8_t *k = sql__arena_alloc(a, n ? n : 1);
    if (!k) {
        r->bad = true;
        return;
    }
    memcpy(k, p, n);
    v->key = k;
    v->klen = n;
    p = sql__rd_lenenc_str(r, &n);
    /* A text is a C string: one holding a NUL byte is not a record's. */
    if (!p || (n && memchr(p, 0, n)) ||
        !(v->text = sql__arena_strndup(a, (const char *)p, n)))
        r->bad = true;
}

/* Whether a before b in key order (shorter first on a common prefix). */
static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0)
        return c;
    return an < bn ? -1 : an > bn ? 1 : 0;
}

int sql__stats_decode(const uint8_t *p, size_t n, struct sql_tstats **out)
{
    struct sql_arena *a = sql__arena_create(0);
    if (!a)
        return -ENOMEM;
    struct sql_tstats *st = sql__arena_zalloc(a, sizeof(*st));
    if (!st) {
        sql__arena_destroy(a);
        return -ENOMEM;
    }
    st->arena = a;
    struct sql__rd r;
    sql__rd_init(&r, p, n);
    if (sql__rd_u8(&r) != SQL_STATS_VERSION)
        goto bad;
    st->table_id = (int64_t)sql__rd_u64(&r);
    st->rows = sql__rd_u64(&r);
    st->sampled = sql__rd_u64(&r);
    st->time_ms = (int64_t)sql__rd_u64(&r);
    st->ncols = sql__rd_u32(&r);
    if (r.bad || st->ncols > MAX_COLS ||
        !(st->cols = sql__arena_zalloc(a, sizeof(*st->cols) *
                                              (st->ncols + 1))))
        goto bad;
    for (uint32_t i = 0; !r.bad && i < st->ncols; i++) {
        struct sql_colstats *c = &st->cols[i];
        c->col_id = sql__rd_u32(&r);
        c->ndv = sql__rd_u64(&r);
        c->nulls = sql__rd_u64(&r);
        c->avg_size = sql__rd_u64(&r);
        c->nb = sql__rd_u32(&r);
        if (r.bad || c->nb > MAX_BUCKETS ||
            !(c->b = sql__arena_zalloc(a, sizeof(*c->b) * (c->nb + 1))))
            goto bad;
        for (uint32_t k = 0; !r.bad && k < c->nb; k++) {
            struct sql_bucket *bk = &c->b[k];
            get_val(&r, a, &bk->lo);
            get_val(&r, a, &bk->hi);
            bk->count = sql__rd_u64(&r);
            bk->repeats = sql__rd_u64(&r);
            /* Estimates rely on the order: ascending bounds, cumulative
             * counts that never fall, repeats inside the bucket. */
            if (r.bad ||
                key_cmp(bk->lo.key, bk->lo.klen, bk->hi.key, bk->hi.klen) >
                    0 ||
                (k > 0 && (bk->count < c->b[k - 1].count ||
                           key_cmp(c->b[k - 1].hi.key, c->b[k - 1].hi.klen,
                                   bk->lo.key, bk->lo.klen) >= 0)) ||
                bk->repeats > bk->count - (k ? c->b[k - 1].count : 0))
                goto bad;
        }
        c->ntop = sql__rd_u32(&r);
        if (r.bad || c->ntop > MAX_TOPN ||
            !(c->top = sql__arena_zalloc(a, sizeof(*c->top) *
                                                (c->ntop + 1))))
            goto bad;
        for (uint32_t k = 0; !r.bad && k < c->ntop; k++) {
            get_val(&r, a, &c->top[k].v);
            c->top[k].count = sql__rd_u64(&r);
        }
    }
    st->nidx = sql__rd_u32(&r);
    if (r.bad || st->nidx > MAX_COLS ||
        !(st->idx = sql__arena_zalloc(a, sizeof(*st->idx) * (st->nidx + 1))))
        goto bad;
    for (uint32_t i = 0; !r.bad && i < st->nidx; i++) {
        st->idx[i].idx_id = (int64_t)sql__rd_u64(&r);
        st->idx[i].ndv = sql__rd_u64(&r);
        st->idx[i].nulls = sql__rd_u64(&r);
    }
    if (r.bad || sql__rd_left(&r) != 0)
        goto bad;
    *out = st;
    return 0;
bad:
    sql__arena_destroy(a);
    return SQL_EPROTO;
}

int sql__meta_put_stats(struct sql_kvtxn *t, const struct sql_tstats *st)
{
    struct sql__buf b = {0};
    uint8_t k[16];
    size_t kn = sql__stats_key(k, st->table_id);
    int rc = sql__stats_encode(st, &b);
    rc = rc ? rc : sql__kvtxn_set(t, k, kn, b.p, b.len);
    sql__buf_free(&b);
    return rc;
}

int sql__meta_del_stats(struct sql_kvtxn *t, int64_t table_id)
{
    uint8_t k[16];
    size_t kn = sql__stats_key(k, table_id);
    return sql__kvtxn_delete(t, k, kn);
}

const struct sql_colstats *sql__stats_col(const struct sql_tstats *st,
                                          uint32_t col_id)
{
    for (uint32_t i = 0; st && i < st->ncols; i++)
        if (st->cols[i].col_id == col_id)
            return &st->cols[i];
    return NULL;
}

const struct sql_idxstats *sql__stats_idx(const struct sql_tstats *st,
                                          int64_t idx_id)
{
    for (uint32_t i = 0; st && i < st->nidx; i++)
        if (st->idx[i].idx_id == idx_id)
            return &st->idx[i];
    return NULL;
}

/* ---- estimates ------------------------------------------------------------
 * Counts in the record are scaled to st->rows; every answer is clamped to
 * [0, 1]. */

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

double sql__stats_sel_null(const struct sql_tstats *st,
                           const struct sql_colstats *c)
{
    if (st->rows == 0)
        return 0;
    return clamp01((double)c->nulls / (double)st->rows);
}

static uint64_t nonnull(const struct sql_colstats *c)
{
    return c->nb ? c->b[c->nb - 1].count : 0;
}

double sql__stats_sel_eq(const struct sql_tstats *st,
                         const struct sql_colstats *c, const uint8_t *key,
                         size_t klen)
{
    if (st->rows == 0)
        return 0;
    double rows = (double)st->rows;
    uint64_t topsum = 0;
    for (uint32_t i = 0; i < c->ntop; i++) {
        if (key_cmp(c->top[i].v.key, c->top[i].v.klen, key, klen) == 0)
            return clamp01((double)c->top[i].count / rows);
        topsum += c->top[i].count;
    }
    /* Outside the histogram's span: no row (the value was not there when
     * analyzed), said as a fraction of one row so estimates stay >= 1. */
    if (c->nb == 0 || key_cmp(key, klen, c->b[0].lo.key, c->b[0].lo.klen) < 0 ||
        key_cmp(key, klen, c->b[c->nb - 1].hi.key, c->b[c->nb - 1].hi.klen) >
            0)
        return clamp01(0.5 / rows);
    for (uint32_t i = 0; i < c->nb; i++)
        if (key_cmp(c->b[i].hi.key, c->b[i].hi.klen, key, klen) == 0)
            return clamp01((double)c->b[i].repeats / rows);
    uint64_t nn = nonnull(c);
    uint64_t others = nn > topsum ? nn - topsum : 0;
    uint64_t ndv = c->ndv > c->ntop ? c->ndv - c->ntop : 1;
    return clamp01((double)others / (double)ndv / rows);
}

/* Where k falls between a and b (a < b), from the first 8 bytes after
 * their common prefix read as a big-endian number: 0..1. */
static double interp(const uint8_t *a, size_t an, const uint8_t *b,
                     size_t bn, const uint8_t *k, size_t kn)
{
    size_t p = 0;
    while (p < an && p < bn && a[p] == b[p])
        p++;
    uint64_t va = 0, vb = 0, vk = 0;
    for (size_t i = p; i < p + 8; i++) {
        va = va << 8 | (i < an ? a[i] : 0);
        vb = vb << 8 | (i < bn ? b[i] : 0);
        vk = vk << 8 | (i < kn ? k[i] : 0);
    }
    if (vb <= va)
        return 0.5;
    if (vk <= va)
        return 0;
    if (vk >= vb)
        return 1;
    return (double)(vk - va) / (double)(vb - va);
}

/* Non-NULL rows whose value is below k (or at most k with incl). */
static double rows_below(const struct sql_colstats *c, const uint8_t *k,
                         size_t kn, bool incl)
{
    uint64_t prev = 0;
    for (uint32_t i = 0; i < c->nb; i++) {
        const struct sql_bucket *b = &c->b[i];
        if (key_cmp(k, kn, b->lo.key, b->lo.klen) < 0)
            return (double)prev; /* before this bucket */
        int h = key_cmp(k, kn, b->hi.key, b->hi.klen);
        if (h == 0)
            return (double)(incl ? b->count : b->count - b->repeats);
        if (h < 0) {
            double inside = (double)(b->count - prev - b->repeats);
            return (double)prev +
                   inside * interp(b->lo.key, b->lo.klen, b->hi.key,
                                   b->hi.klen, k, kn);
        }
        prev = b->count;
    }
    return (double)prev;
}

double sql__stats_sel_range(const struct sql_tstats *st,
                            const struct sql_colstats *c, const uint8_t *lo,
                            size_t lolen, bool lo_incl, const uint8_t *hi,
                            size_t hilen, bool hi_incl)
{
    if (st->rows == 0)
        return 0;
    double top = hi ? rows_below(c, hi, hilen, hi_incl) : (double)nonnull(c);
    double bottom = lo ? rows_below(c, lo, lolen, !lo_incl) : 0;
    double r = top - bottom;
    /* A range inside one value's span still holds some row. */
    if (r < 0.5)
        r = 0.5;
    return clamp01(r / (double)st->rows);
}

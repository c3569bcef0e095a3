/* analyze.c: ANALYZE TABLE (read every row in one snapshot, keep a uniform
 * sample, build each column's distinct count, nulls, equi-depth histogram
 * and most common values and each index's distinct keys, store them as a
 * DDL does) and SHOW STATS_META / STATS_HISTOGRAMS / STATS_BUCKETS /
 * STATS_TOPN. DESIGN.md "Statistics".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acct.h"
#include "codec.h"
#include "exec.h"
#include "schema_sync.h"
#include "sql_int.h"
#include "stats.h"
#include "tablecodec.h"
#include "view.h"

#define SCAN_BATCH 512
#define MAX_TEXT 256 /* bytes of a value SHOW STATS_* keeps */

bool sql__like(const char *p, size_t pn, const char *s, size_t sn, bool ci);

/* A sampled row: its handle and row bytes (malloc'd). */
struct srow
{
    int64_t h;     /* handle */
    uint8_t *v;    /* row form */
    size_t n;      /* its length */
};

/* One sampled value of a column (or an index's whole key). */
struct sval
{
    const uint8_t *k; /* key form */
    size_t kn;        /* its length */
    const char *text; /* its text, or NULL (index keys) */
};

static int sval_cmp(const void *a, const void *b)
{
    const struct sval *x = a, *y = b;
    int c = memcmp(x->k, y->k, x->kn < y->kn ? x->kn : y->kn);
    if (c != 0)
        return c;
    return x->kn < y->kn ? -1 : x->kn > y->kn ? 1 : 0;
}

static bool sval_eq(const struct sval *x, const struct sval *y)
{
    return x->kn == y->kn && memcmp(x->k, y->k, x->kn) == 0;
}

static uint64_t next_rand(uint64_t *st)
{
    uint64_t x = *st; /* xorshift64* (Marsaglia; Vigna's multiplier) */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Every row of t in one snapshot: the count in *rows, a uniform sample
 * (reservoir, Vitter's algorithm R) of at most SQL_STATS_SAMPLE rows. */
static int scan_rows(struct sql_session *s, const struct sql_tableinfo *t,
                     struct srow *samp, size_t *nsamp, uint64_t *rows)
{
    uint8_t start[SQL_TC_PREFIX_LEN], end[SQL_TC_PREFIX_LEN];
    sql__tc_prefix(start, t->id, 'r');
    sql__tc_prefix_next(start, sizeof(start), end);
    struct sql_kvtxn *txn;
    struct sql__buf cur = {0};
    struct sql_kvres res;
    uint64_t rnd = (uint64_t)t->id * 0x9E3779B97F4A7C15ull | 1;
    int rc = sql__kv_begin(s->srv->kv, &txn);
    if (rc != 0)
        return sql__kverr(s, rc);
    sql__kvres_init(&res);
    rc = sql__buf_put(&cur, start, sizeof(start));
    while (rc == 0) {
        rc = sql__kvtxn_scan(txn, cur.p, cur.len, end, sizeof(end),
                             SCAN_BATCH, false, &res);
        if (rc != 0) {
            rc = sql__kverr(s, rc);
            break;
        }
        if (res.r.npairs == 0)
            break;
        for (size_t i = 0; rc == 0 && i < res.r.npairs; i++) {
            const struct mvcc_kvpair *p = &res.r.pairs[i];
            int64_t h;
            if (!sql__tc_row_handle(p->key, p->key_len, t->id, &h))
                continue;
            (*rows)++;
            size_t slot = *nsamp;
            if (slot == SQL_STATS_SAMPLE) {
                slot = (size_t)(next_rand(&rnd) % *rows);
                if (slot >= SQL_STATS_SAMPLE)
                    continue;
            }
            uint8_t *v = sql__malloc(p->value_len ? p->value_len : 1);
            if (!v) {
                rc = -ENOMEM;
                break;
            }
            memcpy(v, p->value, p->value_len);
            if (slot == *nsamp)
                (*nsamp)++;
            else
                sql__free(samp[slot].v);
            samp[slot] = (struct srow){h, v, p->value_len};
        }
        const struct mvcc_kvpair *last = &res.r.pairs[res.r.npairs - 1];
        cur.len = 0;
        if (rc == 0)
            rc = sql__buf_put(&cur, last->key, last->key_len);
        rc = rc ? rc : sql__buf_u8(&cur, 0);
    }
    sql__kvres_reset(&res);
    sql__buf_free(&cur);
    sql__kvtxn_rollback(txn);
    return rc;
}

static uint64_t scaled(uint64_t n, double f)
{
    return (uint64_t)((double)n * f + 0.5);
}

/* Distinct values of the whole column from a sample of n values holding
 * d distinct, f1 of them once, out of total (Haas and Stokes' Duj1
 * estimator, "Estimating the number of classes in a finite population",
 * 1998); exact when the sample is everything. */
static uint64_t est_ndv(uint64_t n, uint64_t d, uint64_t f1, uint64_t total)
{
    if (n == 0)
        return 0;
    if (n >= total)
        return d;
    double dn = (double)n, big = (double)total;
    double den = dn - (double)f1 + (double)f1 * dn / big;
    double e = den > 0 ? dn * (double)d / den : (double)d;
    if (e < (double)d)
        e = (double)d;
    if (e > big)
        e = big;
    return (uint64_t)(e + 0.5);
}

static int copy_val(struct sql_arena *a, const struct sval *v,
                    struct sql_statval *out)
{
    uint8_t *k = sql__arena_alloc(a, v->kn ? v->kn : 1);
    const char *t = v->text ? v->text : "";
    if (!k || !(out->text = sql__arena_strndup(a, t, strlen(t))))
        return -ENOMEM;
    memcpy(k, v->k, v->kn);
    out->key = k;
    out->klen = v->kn;
    return 0;
}

/* A column's figures from its sampled non-NULL values v[0..n) (sorted
 * here); f scales sample counts to the table. */
static int build_col(struct sql_arena *a, struct sval *v, size_t n,
                     uint64_t nnull, double f, struct sql_colstats *c)
{
    qsort(v, n, sizeof(*v), sval_cmp);
    uint64_t d = 0, f1 = 0, bytes = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && sval_eq(&v[i], &v[j]))
            j++;
        d++;
        f1 += j - i == 1;
        i = j;
    }
    for (size_t i = 0; i < n; i++)
        bytes += v[i].kn;
    c->nulls = scaled(nnull, f);
    c->ndv = est_ndv(n, d, f1, scaled(n, f));
    c->avg_size = n ? bytes / n : 0;
    /* Most common values: repeated ones, most rows first. */
    struct sql_topn *top = sql__arena_zalloc(a, sizeof(*top) * SQL_STATS_TOPN);
    size_t tcnt[SQL_STATS_TOPN];
    size_t tpos[SQL_STATS_TOPN];
    uint32_t ntop = 0;
    if (!top)
        return -ENOMEM;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && sval_eq(&v[i], &v[j]))
            j++;
        size_t cnt = j - i;
        if (cnt >= 2 && (ntop < SQL_STATS_TOPN || cnt > tcnt[ntop - 1])) {
            uint32_t k = ntop < SQL_STATS_TOPN ? ntop++ : ntop - 1;
            while (k > 0 && tcnt[k - 1] < cnt) {
                tcnt[k] = tcnt[k - 1];
                tpos[k] = tpos[k - 1];
                k--;
            }
            tcnt[k] = cnt;
            tpos[k] = i;
        }
        i = j;
    }
    for (uint32_t k = 0; k < ntop; k++) {
        if (copy_val(a, &v[tpos[k]], &top[k].v) != 0)
            return -ENOMEM;
        top[k].count = scaled(tcnt[k], f);
    }
    c->top = top;
    c->ntop = ntop;
    /* Equi-depth buckets; a value never spans two. */
    size_t depth = (n + SQL_STATS_BUCKETS - 1) / SQL_STATS_BUCKETS;
    c->b = sql__arena_zalloc(a, sizeof(*c->b) * (SQL_STATS_BUCKETS + 1));
    if (!c->b)
        return -ENOMEM;
    size_t in = 0, lo = 0, cum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && sval_eq(&v[i], &v[j]))
            j++;
        if (in == 0)
            lo = i;
        in += j - i;
        cum += j - i;
        if (in >= depth || j == n) {
            struct sql_bucket *b = &c->b[c->nb++];
            if (copy_val(a, &v[lo], &b->lo) != 0 ||
                copy_val(a, &v[i], &b->hi) != 0)
                return -ENOMEM;
            b->count = scaled(cum, f);
            b->repeats = scaled(j - i, f);
            if (c->nb > 1 && b->count < c->b[c->nb - 2].count + b->repeats)
                b->count = c->b[c->nb - 2].count + b->repeats;
            in = 0;
        }
        i = j;
    }
    return 0;
}

/* Count distinct whole keys among v[0..n) (sorted here). */
static void key_ndv(struct sval *v, size_t n, uint64_t *d, uint64_t *f1)
{
    qsort(v, n, sizeof(*v), sval_cmp);
    *d = *f1 = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && sval_eq(&v[i], &v[j]))
            j++;
        (*d)++;
        *f1 += j - i == 1;
        i = j;
    }
}

/* The statistics of t from its sample. */
static int build(struct sql_session *s, const struct sql_tableinfo *t,
                 const struct srow *samp, size_t nsamp, uint64_t rows,
                 struct sql_tstats **out)
{
    struct sql_arena *a = sql__arena_create(0);
    struct sql_arena *work = sql__arena_create(0);
    struct sql_tstats *st = a ? sql__arena_zalloc(a, sizeof(*st)) : NULL;
    struct sql_datum *vals = NULL;
    struct sval *col = NULL;
    struct sql__buf kb = {0};
    struct sql_xctx x;
    int rc = -ENOMEM;
    if (!st || !work)
        goto err;
    st->arena = a;
    st->table_id = t->id;
    st->rows = rows;
    st->sampled = nsamp;
    st->time_ms = sql__now_us() / 1000;
    size_t nc = t->ncols ? t->ncols : 1;
    vals = sql__malloc(sizeof(*vals) * nc * (nsamp ? nsamp : 1));
    col = sql__malloc(sizeof(*col) * (nsamp ? nsamp : 1));
    st->cols = sql__arena_zalloc(a, sizeof(*st->cols) * nc);
    st->idx = sql__arena_zalloc(a, sizeof(*st->idx) * (t->nidx + 1));
    if (!vals || !col || !st->cols || !st->idx)
        goto err;
    if ((rc = sql__xctx_init(&x, s, false)) != 0)
        goto err;
    x.ev.arena = work;
    for (size_t r = 0; r < nsamp; r++)
        if ((rc = sql__exec_decode_row(&x, t, samp[r].h, samp[r].v,
                                       samp[r].n, vals + r * nc, work)) != 0) {
            rc = sql__xerr(&x, rc);
            goto err;
        }
    double f = nsamp ? (double)rows / (double)nsamp : 1;
    /* Per column: key forms and texts of the non-NULL values. */
    for (uint32_t ci = 0; ci < t->ncols; ci++) {
        const struct sql_ftype *ty = &t->cols[ci].type;
        size_t n = 0;
        uint64_t nnull = 0;
        for (size_t r = 0; r < nsamp; r++) {
            const struct sql_datum *d = &vals[r * nc + ci];
            if (d->vt == SQL_VT_NULL) {
                nnull++;
                continue;
            }
            kb.len = 0;
            size_t tn;
            if ((rc = sql__key_append(&kb, d, ty)) != 0 ||
                (rc = sql__datum_text(d, ty, work, &col[n].text, &tn)) != 0)
                goto err;
            /* SHOW's text of a long value: its first 256 bytes, cut at a
             * character's start. */
            if (tn > MAX_TEXT) {
                tn = MAX_TEXT;
                while (tn > 0 && ((uint8_t)col[n].text[tn] & 0xC0) == 0x80)
                    tn--;
            }
            uint8_t *k = sql__arena_alloc(work, kb.len ? kb.len : 1);
            char *tx = sql__arena_strndup(work, col[n].text, tn);
            if (!k || !tx) {
                rc = -ENOMEM;
                goto err;
            }
            memcpy(k, kb.p, kb.len);
            col[n++] = (struct sval){k, kb.len, tx};
        }
        st->cols[ci].col_id = t->cols[ci].id;
        if ((rc = build_col(a, col, n, nnull, f, &st->cols[ci])) != 0)
            goto err;
    }
    st->ncols = t->ncols;
    /* Per index: distinct whole keys (a NULL part counts apart). */
    for (uint32_t i = 0; i < t->nidx; i++) {
        const struct sql_idxinfo *ix = &t->idx[i];
        if ((int32_t)i == t->pk_handle_idx || ix->state != SQL_IDX_PUBLIC)
            continue;
        size_t n = 0;
        uint64_t nnull = 0;
        for (size_t r = 0; r < nsamp; r++) {
            kb.len = 0;
            bool null = false;
            for (uint32_t k = 0; k < ix->ncols; k++) {
                const struct sql_datum *d = &vals[r * nc + ix->cols[k]];
                null = null || d->vt == SQL_VT_NULL;
                if ((rc = sql__key_append(&kb, d,
                                          &t->cols[ix->cols[k]].type)) != 0)
                    goto err;
            }
            if (null) {
                nnull++;
                continue;
            }
            uint8_t *k = sql__arena_alloc(work, kb.len ? kb.len : 1);
            if (!k) {
                rc = -ENOMEM;
                goto err;
            }
            memcpy(k, kb.p, kb.len);
            col[n++] = (struct sval){k, kb.len, NULL};
        }
        uint64_t d, f1;
        key_ndv(col, n, &d, &f1);
        struct sql_idxstats *is = &st->idx[st->nidx++];
        is->idx_id = ix->id;
        is->ndv = est_ndv(n, d, f1, scaled(n, f));
        is->nulls = scaled(nnull, f);
    }
    rc = 0;
    *out = st;
    st = NULL;
err:
    sql__buf_free(&kb);
    sql__free(col);
    sql__free(vals);
    sql__arena_destroy(work);
    if (rc != 0)
        sql__arena_destroy(a);
    return rc;
}

static int analyze_one(struct sql_session *s, const struct sql_tableinfo *t,
                       struct sql_tstats **out)
{
    struct srow *samp = sql__malloc(sizeof(*samp) * SQL_STATS_SAMPLE);
    size_t nsamp = 0;
    uint64_t rows = 0;
    if (!samp)
        return -ENOMEM;
    int rc = scan_rows(s, t, samp, &nsamp, &rows);
    if (rc == 0)
        rc = build(s, t, samp, nsamp, rows, out);
    for (size_t i = 0; i < nsamp; i++)
        sql__free(samp[i].v);
    sql__free(samp);
    return rc;
}

/* Store the statistics as a DDL does (the schema version bumped, so other
 * servers reload them), then put them in the cache. */
static int store(struct sql_session *s, struct sql_tstats **st, size_t n)
{
    int rc = sql__sync_ddl_begin(s);
    if (rc != 0)
        return rc;
    sql__sess_excl_begin(s);
    struct sql_kvtxn *txn;
    struct sql_catalog *cat = s->srv->cat;
    if ((rc = sql__ddl_begin(s, &txn)) == 0) {
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (sql__catalog_table_by_id(cat, st[i]->table_id) &&
                (rc = sql__meta_put_stats(txn, st[i])) != 0)
                rc = sql__kverr(s, rc);
        if (rc != 0)
            sql__kvtxn_rollback(txn);
        else
            rc = sql__ddl_commit(s, txn);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* A table dropped meanwhile takes nothing. */
        struct sql_tableinfo *t = sql__catalog_table_by_id(cat,
                                                          st[i]->table_id);
        if (t) {
            sql__stats_free(t->stats);
            t->stats = st[i];
            st[i] = NULL;
        }
    }
    uint64_t ver = cat->version;
    sql__sess_excl_end(s);
    if (rc == 0)
        rc = sql__sync_wait(s, ver);
    sql__sync_ddl_end(s);
    return rc;
}

int sql__analyze_run(struct sql_session *s, const struct ast_stmt *st)
{
    static const struct sql_rscol cols[] = {
        {"Table", SQL_TYPE_VAR_STRING},
        {"Op", SQL_TYPE_VAR_STRING},
        {"Msg_type", SQL_TYPE_VAR_STRING},
        {"Msg_text", SQL_TYPE_VAR_STRING},
    };
    size_t n = 0;
    int rc = 0;
    for (const struct ast_tname *tn = st->tables; tn; tn = tn->next) {
        struct sql_tableinfo *t;
        if ((rc = sql__sess_table(s, tn->db, tn->name, &t)) != 0 ||
            (rc = sql__view_not_base(s, t)) != 0)
            return rc;
        n++;
    }
    struct sql_tstats **sts = sql__calloc(n ? n : 1, sizeof(*sts));
    if (!sts)
        return -ENOMEM;
    size_t i = 0;
    for (const struct ast_tname *tn = st->tables; rc == 0 && tn;
         tn = tn->next) {
        struct sql_tableinfo *t;
        if ((rc = sql__sess_table(s, tn->db, tn->name, &t)) == 0)
            rc = analyze_one(s, t, &sts[i++]);
    }
    if (rc == 0)
        rc = store(s, sts, n);
    for (i = 0; i < n; i++)
        sql__stats_free(sts[i]);
    sql__free(sts);
    if (rc == 0)
        rc = sql__rs_begin(s, cols, 4);
    for (const struct ast_tname *tn = st->tables; rc == 0 && tn;
         tn = tn->next) {
        char full[200];
        snprintf(full, sizeof(full), "%s.%s", tn->db ? tn->db : s->db,
                 tn->name);
        struct sql_value v[4] = {sql__v_str(full), sql__v_str("analyze"),
                                 sql__v_str("status"), sql__v_str("OK")};
        rc = sql__rs_row(s, v, 4);
    }
    return rc ? rc : sql__rs_end(s);
}

/* ---- SHOW STATS_* --------------------------------------------------------- */

static const char *db_name(const struct sql_catalog *c, int64_t id)
{
    for (size_t i = 0; i < c->ndbs; i++)
        if (c->dbs[i]->id == id)
            return c->dbs[i]->name;
    return "";
}

static const char *time_text(struct sql_session *s, int64_t ms)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    char *buf = sql__arena_alloc(s->arena, 32);
    if (!buf || !gmtime_r(&sec, &tm))
        return "";
    strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

static const char *col_name(const struct sql_tableinfo *t, uint32_t id)
{
    for (uint32_t i = 0; i < t->ncols; i++)
        if (t->cols[i].id == id)
            return t->cols[i].name;
    return "";
}

static const char *idx_name(const struct sql_tableinfo *t, int64_t id)
{
    for (uint32_t i = 0; i < t->nidx; i++)
        if (t->idx[i].id == id)
            return t->idx[i].name;
    return "";
}

int sql__show_stats(struct sql_session *s, const struct ast_show *sh)
{
    static const struct sql_rscol meta[] = {
        {"Db_name", SQL_TYPE_VAR_STRING}, {"Table_name", SQL_TYPE_VAR_STRING},
        {"Update_time", SQL_TYPE_VAR_STRING},
        {"Row_count", SQL_TYPE_LONGLONG}};
    static const struct sql_rscol hist[] = {
        {"Db_name", SQL_TYPE_VAR_STRING}, {"Table_name", SQL_TYPE_VAR_STRING},
        {"Column_name", SQL_TYPE_VAR_STRING}, {"Is_index", SQL_TYPE_LONGLONG},
        {"Update_time", SQL_TYPE_VAR_STRING},
        {"Distinct_count", SQL_TYPE_LONGLONG},
        {"Null_count", SQL_TYPE_LONGLONG}, {"Avg_col_size", SQL_TYPE_LONGLONG}};
    static const struct sql_rscol buck[] = {
        {"Db_name", SQL_TYPE_VAR_STRING}, {"Table_name", SQL_TYPE_VAR_STRING},
        {"Column_name", SQL_TYPE_VAR_STRING}, {"Is_index", SQL_TYPE_LONGLONG},
        {"Bucket_id", SQL_TYPE_LONGLONG}, {"Count", SQL_TYPE_LONGLONG},
        {"Repeats", SQL_TYPE_LONGLONG}, {"Lower_Bound", SQL_TYPE_VAR_STRING},
        {"Upper_Bound", SQL_TYPE_VAR_STRING}};
    static const struct sql_rscol topn[] = {
        {"Db_name", SQL_TYPE_VAR_STRING}, {"Table_name", SQL_TYPE_VAR_STRING},
        {"Column_name", SQL_TYPE_VAR_STRING}, {"Is_index", SQL_TYPE_LONGLONG},
        {"Value", SQL_TYPE_VAR_STRING}, {"Count", SQL_TYPE_LONGLONG}};
    int rc;
    switch (sh->kind) {
    case AST_SHOW_STATS_META:
        rc = sql__rs_begin(s, meta, 4);
        break;
    case AST_SHOW_STATS_HISTOGRAMS:
        rc = sql__rs_begin(s, hist, 8);
        break;
    case AST_SHOW_STATS_BUCKETS:
        rc = sql__rs_begin(s, buck, 9);
        break;
    default:
        rc = sql__rs_begin(s, topn, 6);
        break;
    }
    const struct sql_catalog *c = s->srv->cat;
    for (size_t i = 0; rc == 0 && i < c->ntables; i++) {
        const struct sql_tableinfo *t = c->tables[i];
        const struct sql_tstats *st = t->stats;
        if (!st)
            continue;
        const char *db = db_name(c, t->db_id);
        if (!sql__priv_table_visible(s, db, t->name))
            continue;
        if (sh->like && sh->like->kind == AST_E_STRING &&
            !sql__like(sh->like->str.s, sh->like->str.n, t->name,
                       strlen(t->name), true))
            continue;
        const char *when = time_text(s, st->time_ms);
        if (sh->kind == AST_SHOW_STATS_META) {
            struct sql_value v[4] = {sql__v_str(db), sql__v_str(t->name),
                                     sql__v_str(when),
                                     sql__v_int((int64_t)st->rows)};
            rc = sql__rs_row(s, v, 4);
            continue;
        }
        for (uint32_t k = 0; rc == 0 && k < st->ncols; k++) {
            const struct sql_colstats *cs = &st->cols[k];
            const char *cn = col_name(t, cs->col_id);
            if (sh->kind == AST_SHOW_STATS_HISTOGRAMS) {
                struct sql_value v[8] = {
                    sql__v_str(db), sql__v_str(t->name), sql__v_str(cn),
                    sql__v_int(0), sql__v_str(when),
                    sql__v_int((int64_t)cs->ndv),
                    sql__v_int((int64_t)cs->nulls),
                    sql__v_int((int64_t)cs->avg_size)};
                rc = sql__rs_row(s, v, 8);
            } else if (sh->kind == AST_SHOW_STATS_BUCKETS) {
                for (uint32_t b = 0; rc == 0 && b < cs->nb; b++) {
                    struct sql_value v[9] = {
                        sql__v_str(db), sql__v_str(t->name), sql__v_str(cn),
                        sql__v_int(0), sql__v_int((int64_t)b),
                        sql__v_int((int64_t)cs->b[b].count),
                        sql__v_int((int64_t)cs->b[b].repeats),
                        sql__v_str(cs->b[b].lo.text),
                        sql__v_str(cs->b[b].hi.text)};
                    rc = sql__rs_row(s, v, 9);
                }
            } else {
                for (uint32_t b = 0; rc == 0 && b < cs->ntop; b++) {
                    struct sql_value v[6] = {
                        sql__v_str(db), sql__v_str(t->name), sql__v_str(cn),
                        sql__v_int(0), sql__v_str(cs->top[b].v.text),
                        sql__v_int((int64_t)cs->top[b].count)};
                    rc = sql__rs_row(s, v, 6);
                }
            }
        }
        for (uint32_t k = 0; rc == 0 && k < st->nidx &&
                             sh->kind == AST_SHOW_STATS_HISTOGRAMS;
             k++) {
            const struct sql_idxstats *is = &st->idx[k];
            struct sql_value v[8] = {
                sql__v_str(db), sql__v_str(t->name),
                sql__v_str(idx_name(t, is->idx_id)), sql__v_int(1),
                sql__v_str(when), sql__v_int((int64_t)is->ndv),
                sql__v_int((int64_t)is->nulls), sql__v_int(0)};
            rc = sql__rs_row(s, v, 8);
        }
    }
    return rc ? rc : sql__rs_end(s);
}

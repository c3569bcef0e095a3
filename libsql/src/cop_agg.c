/* cop_agg.c: aggregation and top-N next to the data. The planner's choice
 * (an aggregation or a TopN over a table scan whose every condition,
 * key and aggregate runs the same anywhere), what kvd computes per
 * answer (partial groups; the top max_rows rows), and the merge of
 * partial groups into sqld's aggregation. DESIGN.md, "Coprocessor".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "codec.h"
#include "cop.h"
#include "exec_int.h"
#include "plan.h"
#include "sql_int.h"
#include "tablecodec.h"

/* ---- the planner's choice ---------------------------------------------- */

/* Canonical SQL of n expressions into pc (exprs, expr_lens). */
static int put_exprs(struct sql_session *s, struct plan_cop *pc,
                     const struct ast_expr *const *e, size_t n, size_t at)
{
    for (size_t i = 0; i < n; i++) {
        char *text = sql__ast_print_expr(s->arena, e[i]);
        if (!text)
            return -ENOMEM;
        pc->exprs[at + i] = text;
        pc->expr_lens[at + i] = strlen(text);
    }
    return 0;
}

/* EXPLAIN: the scan's info, then "; " and what, then n texts joined. */
static int add_info(struct sql_session *s, struct plan_cop *pc,
                    const char *what, const struct ast_expr *const *e,
                    const bool *desc, size_t n, const char *tail)
{
    struct sql__buf b = {0};
    int rc = 0;
    if (pc->info[0])
        rc = sql__buf_put(&b, pc->info, strlen(pc->info));
    if (rc == 0 && pc->info[0])
        rc = sql__buf_put(&b, "; ", 2);
    rc = rc ? rc : sql__buf_put(&b, what, strlen(what));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *t = sql__plan_text(s, e[i]);
        if (i)
            rc = sql__buf_put(&b, ", ", 2);
        rc = rc ? rc : sql__buf_put(&b, t, strlen(t));
        if (rc == 0 && desc && desc[i])
            rc = sql__buf_put(&b, ":desc", 5);
    }
    if (rc == 0 && tail)
        rc = sql__buf_put(&b, tail, strlen(tail));
    char *info = rc ? NULL : sql__arena_strndup(s->arena, (const char *)b.p,
                                                b.len);
    sql__buf_free(&b);
    if (!info)
        return -ENOMEM;
    pc->info = info;
    return 0;
}

static int alloc_exprs(struct sql_session *s, struct plan_cop *pc, size_t n)
{
    pc->exprs = sql__arena_zalloc(s->arena, sizeof(*pc->exprs) * n);
    pc->expr_lens = sql__arena_zalloc(s->arena, sizeof(*pc->expr_lens) * n);
    pc->desc = sql__arena_zalloc(s->arena, n);
    return pc->exprs && pc->expr_lens && pc->desc ? 0 : -ENOMEM;
}

int sql__cop_agg_plan(struct sql_session *s, struct plan *p)
{
    struct plan *sc = p->child;
    size_t nx = p->nkeys + p->naggs;
    if (!sc || !p->key_asts || p->naggs == 0 || nx > SQL_COP_MAX_EXPRS ||
        !sql__cop_scan_ok(s, sc) || sc->row_off != 0)
        return 0;
    for (size_t k = 0; k < p->nkeys; k++)
        if (!sql__cop_pushable(sc, p->key_asts[k]))
            return 0;
    const struct ast_expr **calls =
        sql__arena_zalloc(s->arena, sizeof(*calls) * p->naggs);
    if (!calls)
        return -ENOMEM;
    for (size_t a = 0; a < p->naggs; a++) {
        /* a non-aggregated column (a group's first row) stays in sqld */
        const struct ast_expr *call =
            p->aggs[a] ? sql__agg_partial_call(p->aggs[a]) : NULL;
        if (!call)
            return 0;
        for (const struct ast_expr *x = call->args; x; x = x->next)
            if (!(x->kind == AST_E_STAR && x == call->args && !x->next) &&
                !sql__cop_pushable(sc, x))
                return 0;
        calls[a] = call;
    }
    int rc = sql__cop_plan_all(s, sc);
    if (rc != 0)
        return rc < 0 ? rc : 0; /* 1: sqld filters some rows itself */
    struct plan_cop *pc = sc->cop;
    if ((rc = alloc_exprs(s, pc, nx)) != 0 ||
        (rc = put_exprs(s, pc, p->key_asts, p->nkeys, 0)) != 0 ||
        (rc = put_exprs(s, pc, calls, p->naggs, p->nkeys)) != 0)
        return rc;
    rc = add_info(s, pc, "agg: ", calls, NULL, p->naggs, NULL);
    if (rc == 0 && p->nkeys)
        rc = add_info(s, pc, "group by ", p->key_asts, NULL, p->nkeys,
                      NULL);
    if (rc != 0)
        return rc;
    /* "...; agg: COUNT(*); group by a" reads better without the "; " */
    char *g = strstr(pc->info, "; group by ");
    if (g)
        memmove(g, g + 1, strlen(g + 1) + 1);
    pc->mode = SQL_COP_AGG;
    pc->nkeys = p->nkeys;
    pc->naggs = p->naggs;
    pc->agg = p;
    return 0;
}

int sql__cop_topn_plan(struct sql_session *s, struct plan *p)
{
    struct plan *pr = p->child;
    struct plan *sc = pr ? pr->child : NULL;
    if (p->kind != PL_TOPN || !p->sort_asts || !p->limit || !pr ||
        pr->kind != PL_PROJECT || !sc || p->nsort == 0 ||
        p->nsort > SQL_COP_MAX_EXPRS || !sql__cop_scan_ok(s, sc) ||
        sc->row_off != 0 || sc->acc.desc)
        return 0;
    for (size_t k = 0; k < p->nsort; k++)
        if (!p->sort_asts[k] || !sql__cop_pushable(sc, p->sort_asts[k]))
            return 0;
    int rc = sql__cop_plan_all(s, sc);
    if (rc != 0)
        return rc < 0 ? rc : 0; /* 1: sqld filters some rows itself */
    struct plan_cop *pc = sc->cop;
    if (pc->proj) { /* ranked rows travel whole (cop_proj.c) */
        pc->info = pc->info_rows;
        pc->proj = NULL;
        pc->nproj = 0;
    }
    if ((rc = alloc_exprs(s, pc, p->nsort)) != 0 ||
        (rc = put_exprs(s, pc, p->sort_asts, p->nsort, 0)) != 0 ||
        (rc = add_info(s, pc, "topN: ", p->sort_asts, p->sort_desc, p->nsort,
                       p->offset ? ", offset + count per region"
                                 : ", count per region")) != 0)
        return rc;
    for (size_t k = 0; k < p->nsort; k++)
        pc->desc[k] = p->sort_desc[k] ? 1 : 0;
    pc->mode = SQL_COP_TOPN;
    pc->nkeys = p->nsort;
    pc->topn = p;
    return 0;
}

/* ---- next to the data ------------------------------------------------- */

/* A row a TOPN answer may carry. */
struct trow
{
    uint64_t seq;             /* arrival (key) order */
    const uint8_t *key;       /* its key */
    size_t key_len;           /* its length */
    const uint8_t *value;     /* its stored value */
    size_t value_len;         /* its length */
    struct sql_datum *keys;   /* sort key values (NULL: always sent) */
};

struct sql_cop_sink
{
    int mode;                 /* SQL_COP_AGG or SQL_COP_TOPN */
    struct sql_arena *a;      /* the request's: groups, kept rows */
    const bool *warned;       /* the evaluation warned */
    size_t nkeys;             /* group or sort keys */
    struct sql_expr **keys;   /* them, compiled */
    uint16_t *colls;          /* TOPN: each key's collation */
    const uint8_t *desc;      /* TOPN: descending, per key */
    size_t naggs;             /* AGG: aggregate calls */
    struct sql_agg **aggs;    /* them, compiled */
    struct sql_datum *kv;     /* one row's key values */
    struct sql__buf kb;       /* AGG: one row's group key bytes */
    struct sql_xnode groups;  /* AGG: the group table (exec.c's) */
    size_t bytes;             /* AGG: group key bytes held */
    uint32_t limit;           /* TOPN: rows kept */
    struct trow **heap;       /* TOPN: the best rows, the worst on top */
    size_t nheap;             /* their count */
    struct trow **always;     /* TOPN: rows sent whatever their keys */
    size_t nalways, capalways; /* their count and allocation */
    uint64_t seq;             /* TOPN: rows seen */
    bool broken;              /* TOPN: keys failed to compare: keep all */
};

/* A group's first key values and fresh aggregate states, in arena a. */
static int group_init(struct sql_arena *a, struct group *g,
                      const struct sql_datum *kv, size_t nkeys,
                      struct sql_agg *const *aggs, size_t naggs)
{
    g->keys = sql__arena_alloc(a, sizeof(*g->keys) * (nkeys + 1));
    g->firsts = sql__arena_zalloc(a, sizeof(*g->firsts) * (naggs + 1));
    g->st = sql__arena_zalloc(a, sizeof(*g->st) * (naggs + 1));
    if (!g->keys || !g->firsts || !g->st)
        return -ENOMEM;
    int rc = 0;
    for (size_t k = 0; k < nkeys && rc == 0; k++) {
        g->keys[k] = kv[k];
        rc = sql__datum_copy(a, &g->keys[k]);
    }
    for (size_t i = 0; i < naggs && rc == 0; i++)
        rc = sql__agg_init(aggs[i], a, &g->st[i]);
    return rc;
}

int sql__cop_sink_create(const struct sql_cop_req *q,
                         const struct sql_tableinfo *t, struct sql_arena *a,
                         const bool *warned, struct sql_cop_sink **out)
{
    struct sql_cop_sink *k = sql__arena_zalloc(a, sizeof(*k));
    size_t nx = q->nkeys + q->naggs;
    if (!k)
        return -ENOMEM;
    k->mode = q->mode;
    k->a = a;
    k->warned = warned;
    k->nkeys = q->nkeys;
    k->naggs = q->naggs;
    k->desc = q->desc;
    k->limit = q->max_rows;
    k->groups.keep = a;
    k->keys = sql__arena_zalloc(a, sizeof(*k->keys) * (nx + 1));
    k->colls = sql__arena_zalloc(a, sizeof(*k->colls) * (nx + 1));
    k->aggs = sql__arena_zalloc(a, sizeof(*k->aggs) * (nx + 1));
    k->kv = sql__arena_zalloc(a, sizeof(*k->kv) * (nx + 1));
    k->heap = sql__arena_zalloc(a, sizeof(*k->heap) * (k->limit + 1));
    if (!k->keys || !k->colls || !k->aggs || !k->kv || !k->heap)
        return -ENOMEM;
    struct sql_expr_scope scope;
    sql__cop_scope(t, &scope);
    struct sql_err err;
    for (size_t i = 0; i < nx; i++) {
        const struct ast_expr *e;
        int rc = sql__cop_parse(a, q->exprs[i], q->expr_lens[i], &e);
        if (rc != 0)
            return rc;
        struct sql_ftype type;
        if (i < q->nkeys) {
            rc = sql__expr_compile(a, e, &scope, &k->keys[i], &type, &err);
            k->colls[i] = type.coll;
        } else if (e->kind == AST_E_FUNC && e->name &&
                   sql__agg_is_aggregate(e->name) && !e->over) {
            struct sql_agg **g = &k->aggs[i - q->nkeys];
            rc = sql__agg_compile(a, e, &scope, g, &type, &err);
            if (rc == 0 && !sql__agg_partial_call(*g))
                rc = SQL_EPROTO;
        } else {
            rc = SQL_EPROTO;
        }
        if (rc == -ENOMEM)
            return rc;
        if (rc != 0)
            return SQL_EPROTO;
    }
    *out = k;
    return 0;
}

static int agg_add(struct sql_cop_sink *k, struct sql_eval *ev,
                   const struct sql_datum *row, bool *unsure)
{
    int rc = 0;
    k->kb.len = 0;
    for (size_t i = 0; i < k->nkeys && rc == 0; i++) {
        rc = sql__expr_eval(k->keys[i], ev, row, &k->kv[i]);
        if (rc == 0)
            rc = sql__xgroup_key(&k->kb, &k->kv[i]);
    }
    if (rc != 0) {
        *unsure = rc != -ENOMEM; /* an error is sqld's to report */
        return rc == -ENOMEM ? rc : 0;
    }
    bool created;
    struct group *g;
    rc = sql__xgroup_find(&k->groups, k->kb.p ? k->kb.p : (const uint8_t *)"",
                          k->kb.len, &created, &g);
    if (rc == 0 && created) {
        k->bytes += k->kb.len + 64;
        rc = group_init(k->a, g, k->kv, k->nkeys, k->aggs, k->naggs);
    }
    for (size_t i = 0; i < k->naggs && rc == 0; i++)
        rc = sql__agg_update(k->aggs[i], g->st[i], ev, row);
    if (rc != 0 && rc != -ENOMEM) {
        *unsure = true;
        rc = 0;
    }
    return rc;
}

/* Sort order of two TOPN rows: their keys as sqld's Sort compares them
 * (NULL first, each key's collation, DESC reversed), then arrival. */
static int trow_cmp(struct sql_cop_sink *k, const struct trow *x,
                    const struct trow *y)
{
    for (size_t i = 0; i < k->nkeys; i++) {
        const struct sql_datum *a = &x->keys[i], *b = &y->keys[i];
        int r;
        if (a->vt == SQL_VT_NULL || b->vt == SQL_VT_NULL) {
            r = (a->vt != SQL_VT_NULL) - (b->vt != SQL_VT_NULL);
        } else {
            struct sql_err err;
            uint16_t coll = k->colls[i] ? k->colls[i] : SQL_COLL_BINARY;
            if (sql__datum_cmp(a, b, coll, &r, &err) != 0) {
                k->broken = true;
                r = 0;
            }
        }
        if (r != 0)
            return k->desc[i] ? -r : r;
    }
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The heap holds the limit best rows with the worst at [0]. */
static void sift_down(struct sql_cop_sink *k, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < k->nheap && trow_cmp(k, k->heap[l], k->heap[w]) > 0)
            w = l;
        if (r < k->nheap && trow_cmp(k, k->heap[r], k->heap[w]) > 0)
            w = r;
        if (w == i)
            return;
        struct trow *t = k->heap[i];
        k->heap[i] = k->heap[w];
        k->heap[w] = t;
        i = w;
    }
}

static void sift_up(struct sql_cop_sink *k, size_t i)
{
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (trow_cmp(k, k->heap[i], k->heap[up]) <= 0)
            return;
        struct trow *t = k->heap[i];
        k->heap[i] = k->heap[up];
        k->heap[up] = t;
        i = up;
    }
}

/* A copy of the row in the sink's arena; keys: its sort keys or NULL. */
static struct trow *trow_make(struct sql_cop_sink *k, const uint8_t *key,
                              size_t key_len, const uint8_t *value,
                              size_t value_len, uint64_t seq,
                              const struct sql_datum *keys)
{
    struct trow *t = sql__arena_alloc(k->a, sizeof(*t));
    uint8_t *kc = sql__arena_alloc(k->a, key_len + value_len + 1);
    if (!t || !kc)
        return NULL;
    memcpy(kc, key, key_len);
    if (value_len)
        memcpy(kc + key_len, value, value_len);
    *t = (struct trow){.seq = seq, .key = kc, .key_len = key_len,
                       .value = kc + key_len, .value_len = value_len};
    if (keys) {
        t->keys = sql__arena_alloc(k->a, sizeof(*t->keys) * k->nkeys);
        if (!t->keys)
            return NULL;
        for (size_t i = 0; i < k->nkeys; i++) {
            t->keys[i] = keys[i];
            if (sql__datum_copy(k->a, &t->keys[i]) != 0)
                return NULL;
        }
    }
    return t;
}

static int topn_always(struct sql_cop_sink *k, struct trow *t)
{
    if (!t)
        return -ENOMEM;
    if (k->nalways == k->capalways) {
        size_t cap = k->capalways ? k->capalways * 2 : 16;
        struct trow **n = sql__arena_alloc(k->a, sizeof(*n) * cap);
        if (!n)
            return -ENOMEM;
        if (k->nalways)
            memcpy(n, k->always, sizeof(*n) * k->nalways);
        k->always = n;
        k->capalways = cap;
    }
    k->always[k->nalways++] = t;
    return 0;
}

static int topn_add(struct sql_cop_sink *k, struct sql_eval *ev,
                    const struct sql_datum *row, const uint8_t *key,
                    size_t key_len, const uint8_t *value, size_t value_len)
{
    uint64_t seq = k->seq++;
    int rc = 0;
    for (size_t i = 0; row && i < k->nkeys && rc == 0; i++)
        rc = sql__expr_eval(k->keys[i], ev, row, &k->kv[i]);
    if (rc == -ENOMEM)
        return rc;
    if (!row || rc != 0 || *k->warned || k->broken)
        /* sqld evaluates its keys (errors, warnings are its to show) */
        return topn_always(k, trow_make(k, key, key_len, value, value_len,
                                        seq, NULL));
    if (k->nheap == k->limit) {
        struct trow probe = {.seq = seq, .keys = k->kv};
        if (trow_cmp(k, &probe, k->heap[0]) >= 0 && !k->broken)
            return 0; /* not among the best */
        if (k->broken)
            return topn_always(k, trow_make(k, key, key_len, value,
                                            value_len, seq, NULL));
    }
    struct trow *t = trow_make(k, key, key_len, value, value_len, seq, k->kv);
    if (!t)
        return -ENOMEM;
    if (k->nheap == k->limit) {
        k->heap[0] = t;
        sift_down(k, 0);
    } else {
        k->heap[k->nheap++] = t;
        sift_up(k, k->nheap - 1);
    }
    return 0;
}

int sql__cop_sink_add(struct sql_cop_sink *k, struct sql_eval *ev,
                      const struct sql_datum *row, const uint8_t *key,
                      size_t key_len, const uint8_t *value,
                      size_t value_len, bool *unsure)
{
    *unsure = false;
    if (k->mode == SQL_COP_AGG) {
        if (!row) {
            *unsure = true;
            return 0;
        }
        return agg_add(k, ev, row, unsure);
    }
    return topn_add(k, ev, row, key, key_len, value, value_len);
}

bool sql__cop_sink_full(const struct sql_cop_sink *k, uint32_t max_rows)
{
    return k->mode == SQL_COP_AGG &&
           (k->groups.ngroups >= max_rows || k->bytes >= SQL_COP_MAX_BYTES);
}

static int by_seq(const void *a, const void *b)
{
    const struct trow *x = *(struct trow *const *)a;
    const struct trow *y = *(struct trow *const *)b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int agg_flush(struct sql_cop_sink *k, struct sql__buf *b,
                     uint64_t *nrows)
{
    size_t w = k->nkeys + 2 * k->naggs;
    struct sql_rowcol *cols = sql__arena_alloc(k->a, sizeof(*cols) * w);
    struct sql__buf v = {0};
    int rc = cols ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < w; i++)
        cols[i].id = (uint32_t)i;
    for (size_t gi = 0; rc == 0 && gi < k->groups.ngroups; gi++) {
        const struct group *g = &k->groups.groups[gi];
        for (size_t i = 0; i < k->nkeys; i++)
            cols[i].d = g->keys[i];
        for (size_t i = 0; i < k->naggs; i++) {
            uint64_t count;
            struct sql_datum *c = &cols[k->nkeys + 2 * i].d;
            sql__agg_partial(k->aggs[i], g->st[i], &count,
                             &cols[k->nkeys + 2 * i + 1].d);
            sql__datum_int(c, (int64_t)count);
        }
        v.len = 0;
        rc = sql__row_encode(&v, cols, w);
        rc = rc ? rc : sql__cop_put_row(b, "", 0, v.p, v.len);
        ++*nrows;
    }
    sql__buf_free(&v);
    return rc;
}

int sql__cop_sink_flush(struct sql_cop_sink *k, struct sql__buf *b,
                        uint64_t *nrows)
{
    int rc = 0;
    *nrows = 0;
    if (k->mode == SQL_COP_AGG)
        return agg_flush(k, b, nrows);
    /* the heap's rows and the ones always sent, in key order */
    for (size_t i = 0; i < k->nheap && rc == 0; i++)
        rc = topn_always(k, k->heap[i]);
    if (rc != 0)
        return rc;
    if (k->nalways > 1)
        qsort(k->always, k->nalways, sizeof(*k->always), by_seq);
    for (size_t i = 0; i < k->nalways && rc == 0; i++) {
        const struct trow *t = k->always[i];
        rc = sql__cop_put_row(b, t->key, t->key_len, t->value, t->value_len);
    }
    *nrows = k->nalways;
    return rc;
}

void sql__cop_sink_free(struct sql_cop_sink *k)
{
    if (k)
        sql__buf_free(&k->kb);
}

/* ---- the merge in sqld ------------------------------------------------ */

/* One partial group (row form) into aggregation node n. */
static int merge_group(struct sql_xctx *x, struct sql_xnode *n,
                       const uint8_t *v, size_t vl, struct sql_arena *a,
                       struct sql__buf *kb)
{
    const struct plan *p = n->p;
    size_t w = p->nkeys + 2 * p->naggs;
    uint32_t *ids = sql__arena_alloc(a, sizeof(*ids) * w);
    struct sql_datum *d = sql__arena_alloc(a, sizeof(*d) * w);
    bool *found = sql__arena_alloc(a, sizeof(*found) * w);
    if (!ids || !d || !found)
        return -ENOMEM;
    for (size_t i = 0; i < w; i++)
        ids[i] = (uint32_t)i;
    int rc = sql__row_decode(v, vl, ids, w, d, found, a);
    for (size_t i = 0; rc == 0 && i < w; i++)
        if (!found[i] ||
            (i >= p->nkeys && (i - p->nkeys) % 2 == 0 &&
             (d[i].vt != SQL_VT_INT || d[i].v.i < 0)))
            rc = SQL_EPROTO;
    if (rc == SQL_EPROTO)
        return sql__serr(x->s, 1105, "HY000",
                         "malformed coprocessor answer");
    kb->len = 0;
    for (size_t k = 0; k < p->nkeys && rc == 0; k++)
        rc = sql__xgroup_key(kb, &d[k]);
    bool created;
    struct group *g;
    if (rc == 0)
        rc = sql__xgroup_find(n, kb->p ? kb->p : (const uint8_t *)"",
                              kb->len, &created, &g);
    if (rc == 0 && created)
        rc = group_init(n->keep, g, d, p->nkeys, p->aggs, p->naggs);
    for (size_t i = 0; i < p->naggs && rc == 0; i++) {
        const struct sql_datum *c = &d[p->nkeys + 2 * i];
        rc = sql__agg_merge(p->aggs[i], g->st[i], &x->ev, (uint64_t)c->v.i,
                            c + 1);
    }
    return rc == SQL_EQUERY ? sql__xerr(x, rc) : rc;
}

/* Every range of scan node cn through AGG calls, merged into n; *fallback
 * when an answer said to aggregate the rows in sqld. */
static int agg_read(struct sql_xctx *x, struct sql_xnode *n,
                    struct sql_xnode *cn, struct sql_arena *a,
                    bool *fallback)
{
    struct sql__buf kb = {0};
    int rc = 0;
    for (size_t r = 0; rc == 0 && !cn->done && r < cn->nranges; r++) {
        const struct range_keys *rk = &cn->ranges[r];
        struct sql_cop_iter *it = NULL;
        bool done = false;
        /* each answer merged as it comes: sqld holds one at a time */
        while (rc == 0 && !done) {
            struct sql_kvres res;
            sql__arena_reset(a);
            rc = sql__cop_agg_call(x, cn->p, &it, a, rk->start, rk->slen,
                                   rk->end, rk->elen, &res, &done, fallback);
            if (rc != 0 || *fallback)
                break;
            for (size_t i = 0; rc == 0 && i < res.r.npairs; i++)
                rc = merge_group(x, n, res.r.pairs[i].value,
                                 res.r.pairs[i].value_len, a, &kb);
        }
        sql__cop_iter_free(it);
        if (*fallback)
            break;
    }
    sql__buf_free(&kb);
    return rc;
}

int sql__cop_agg_consume(struct sql_xctx *x, struct sql_xnode *n)
{
    struct sql_xnode *cn = n->child;
    const struct plan *sp = cn ? cn->p : NULL;
    if (!sp || sp->kind != PL_SCAN || !sp->cop ||
        sp->cop->mode != SQL_COP_AGG || sp->cop->agg != n->p ||
        !sql__cop_ready(x))
        return 1;
    int rc = sql__xscan_open(x, cn);
    if (rc != 0)
        return rc;
    if (sp->cop->index && cn->nranges > 0 &&
        (cn->ranges[0].slen < SQL_TC_INDEX_PREFIX_LEN ||
         cn->ranges[0].start[10] != 'i')) {
        /* the index's ranges fell back to the table's rows */
        sql__xscan_rescan(cn, cn->outer);
        return 1;
    }
    struct sql_arena *a = sql__arena_create(0);
    if (!a)
        return -ENOMEM;
    bool fallback = false;
    rc = agg_read(x, n, cn, a, &fallback);
    sql__arena_destroy(a);
    if (rc != 0)
        return rc;
    if (!fallback)
        return 0;
    /* a row kvd could not aggregate: forget the parts, read the rows */
    n->ngroups = 0;
    n->nslots = 0;
    n->slots = NULL;
    sql__xscan_rescan(cn, cn->outer);
    return 1;
}

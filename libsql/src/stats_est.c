/* stats_est.c: row estimates from ANALYZE's statistics for the planner: an
 * access path's rows (index choice), a scan's rows after all its conjuncts
 * (=, <>, IN, ranges, BETWEEN, IS [NOT] NULL, LIKE 'prefix%', OR, NOT), an
 * index join's rows per lookup, an equi join's rows from distinct counts.
 * Each answers -1 when the table has no statistics, and the planner then
 * keeps its constants. DESIGN.md "Statistics".
 */
#include <errno.h>
#include <string.h>

#include "codec.h"
#include "datetime.h"
#include "decimal.h"
#include "expr_int.h"
#include "plan.h"
#include "sql_int.h"
#include "stats.h"

#define SEL_UNKNOWN 0.8   /* a conjunct statistics cannot judge (TiDB's
                             default selectivity) */
#define SEL_RANGE 0.3333  /* a range whose bound is not a literal */

/* The key form of constant e as a value of column c, in b; false when e
 * is not a literal or its class would need a conversion the comparison
 * might not make the same way. */
static bool lit_key(const struct sql_expr *e, const struct sql_colinfo *c,
                    struct sql__buf *b)
{
    if (!e || e->op != EX_LIT || e->lit.vt == SQL_VT_NULL)
        return false;
    struct sql_datum d = e->lit;
    int cv = sql__ftype_vt(&c->type);
    switch (cv) {
    case SQL_VT_INT:
        if (d.vt == SQL_VT_UINT && d.v.u <= INT64_MAX)
            sql__datum_int(&d, (int64_t)d.v.u);
        if (d.vt != SQL_VT_INT)
            return false;
        break;
    case SQL_VT_UINT:
        if (d.vt == SQL_VT_INT && d.v.i >= 0)
            sql__datum_uint(&d, (uint64_t)d.v.i);
        if (d.vt != SQL_VT_UINT)
            return false;
        break;
    case SQL_VT_DOUBLE:
        if (d.vt == SQL_VT_INT)
            sql__datum_double(&d, (double)d.v.i);
        else if (d.vt == SQL_VT_UINT)
            sql__datum_double(&d, (double)d.v.u);
        if (d.vt != SQL_VT_DOUBLE)
            return false;
        break;
    case SQL_VT_DECIMAL:
        if (d.vt == SQL_VT_INT) {
            int64_t v = d.v.i;
            d.vt = SQL_VT_DECIMAL;
            sql__dec_from_i64(&d.v.dec, v);
        } else if (d.vt == SQL_VT_UINT) {
            uint64_t v = d.v.u;
            d.vt = SQL_VT_DECIMAL;
            sql__dec_from_u64(&d.v.dec, v);
        }
        if (d.vt != SQL_VT_DECIMAL)
            return false;
        break;
    case SQL_VT_STRING:
        if (d.vt != SQL_VT_STRING)
            return false;
        break;
    case SQL_VT_DATE:
    case SQL_VT_DATETIME:
        if (d.vt == SQL_VT_STRING) {
            struct sql_time t;
            if (sql__time_parse_datetime(d.v.s.p, d.v.s.n, &t, NULL) != 0)
                return false;
            d.vt = (uint8_t)cv;
            d.v.t = t;
        }
        if (d.vt != SQL_VT_DATE && d.vt != SQL_VT_DATETIME)
            return false;
        d.vt = (uint8_t)cv;
        break;
    default:
        return false;
    }
    b->len = 0;
    return sql__key_append(b, &d, &c->type) == 0;
}

/* The column of t at position ci and its statistics, or NULL. */
static const struct sql_colstats *col_stats(const struct sql_tableinfo *t,
                                            int ci)
{
    if (ci < 0 || (uint32_t)ci >= t->ncols)
        return NULL;
    return sql__stats_col(t->stats, t->cols[ci].id);
}

/* Fraction of rows equal to one distinct value, when the value is not
 * known at planning time (a parameter, the left row of a join). */
static double per_value(const struct sql_tstats *st,
                        const struct sql_colstats *c)
{
    if (st->rows == 0)
        return 0;
    uint64_t nn = st->rows > c->nulls ? st->rows - c->nulls : 0;
    double ndv = c->ndv ? (double)c->ndv : 1;
    return (double)nn / ndv / (double)st->rows;
}

static double sel_eq(const struct sql_tableinfo *t, int ci,
                     const struct sql_expr *v, bool nullsafe,
                     struct sql__buf *b)
{
    const struct sql_colstats *c = col_stats(t, ci);
    if (!c)
        return -1;
    if (v && v->op == EX_LIT && v->lit.vt == SQL_VT_NULL)
        return nullsafe ? sql__stats_sel_null(t->stats, c) : 0;
    if (lit_key(v, &t->cols[ci], b))
        return sql__stats_sel_eq(t->stats, c, b->p, b->len);
    return per_value(t->stats, c);
}

static double sel_range(const struct sql_tableinfo *t, int ci,
                        const struct sql_expr *lo, bool lo_incl,
                        const struct sql_expr *hi, bool hi_incl)
{
    const struct sql_colstats *c = col_stats(t, ci);
    if (!c)
        return -1;
    struct sql__buf lb = {0}, hb = {0};
    double r;
    bool lk = lo && lit_key(lo, &t->cols[ci], &lb);
    bool hk = hi && lit_key(hi, &t->cols[ci], &hb);
    if ((lo && !lk) || (hi && !hk))
        r = SEL_RANGE;
    else
        r = sql__stats_sel_range(t->stats, c, lk ? lb.p : NULL, lb.len,
                                 lo_incl, hk ? hb.p : NULL, hb.len, hi_incl);
    sql__buf_free(&lb);
    sql__buf_free(&hb);
    return r;
}

double sql__stats_access_rows(const struct sql_tableinfo *t,
                              const struct plan_access *a)
{
    const struct sql_tstats *st = t->stats;
    if (!st)
        return -1;
    double rows = (double)st->rows;
    switch (a->kind) {
    case ACC_POINT:
    case ACC_UNIQUE_POINT:
        return 1;
    case ACC_BATCH_POINT:
        return (double)a->nranges;
    case ACC_FULL:
        return rows;
    case ACC_HANDLE_RANGE:
    case ACC_INDEX_RANGE:
        break;
    default:
        return -1;
    }
    uint32_t hc = t->handle_col >= 0 ? (uint32_t)t->handle_col : 0;
    const uint32_t *cols = a->idx < 0 ? &hc : t->idx[a->idx].cols;
    uint32_t ncols = a->idx < 0 ? 1 : t->idx[a->idx].ncols;
    const struct sql_idxstats *is =
        a->idx < 0 ? NULL : sql__stats_idx(st, t->idx[a->idx].id);
    struct sql__buf b = {0};
    double sum = 0;
    for (size_t i = 0; i < a->nranges; i++) {
        const struct plan_range *r = &a->ranges[i];
        double sel = 1;
        for (uint32_t k = 0; k < r->neq && k < ncols; k++) {
            double e = sel_eq(t, (int)cols[k], r->eq[k], r->eq_nullsafe[k],
                              &b);
            sel *= e < 0 ? 0.1 : e;
        }
        /* The whole key equal: the index's own distinct count knows
         * how its columns go together, where the product does not. */
        if (is && r->neq == ncols && is->ndv > 0 && st->rows > 0) {
            double whole = (double)(st->rows - is->nulls) /
                           (double)is->ndv / (double)st->rows;
            if (whole > sel)
                sel = whole;
        }
        if ((r->lo || r->hi) && r->neq < ncols) {
            double e = sel_range(t, (int)cols[r->neq], r->lo, r->lo_incl,
                                 r->hi, r->hi_incl);
            sel *= e < 0 ? SEL_RANGE : e;
        }
        sum += sel;
    }
    sql__buf_free(&b);
    double e = rows * (sum > 1 ? 1 : sum);
    return e < 1 ? 1 : e;
}

/* ---- a scan's conjuncts ----------------------------------------------- */

static int col_of(struct plan_tscope *ts, const struct ast_expr *e)
{
    return sql__plan_col_of(ts, e);
}

/* Literals, parameters and operators and functions over them: nothing
 * that reads a column, a variable or a subquery. */
static bool plain_const(const struct ast_expr *e, int depth)
{
    if (!e)
        return true;
    if (depth > 16 || e->sub || e->over)
        return false;
    switch (e->kind) {
    case AST_E_NULL:
    case AST_E_BOOL:
    case AST_E_INT:
    case AST_E_DECIMAL:
    case AST_E_FLOAT:
    case AST_E_STRING:
    case AST_E_PARAM:
        return true;
    case AST_E_UNARY:
    case AST_E_BINARY:
    case AST_E_FUNC:
    case AST_E_INTERVAL:
        break;
    default:
        return false;
    }
    if (!plain_const(e->a, depth + 1) || !plain_const(e->b, depth + 1) ||
        !plain_const(e->c, depth + 1))
        return false;
    for (const struct ast_expr *x = e->args; x; x = x->next)
        if (!plain_const(x, depth + 1))
            return false;
    return true;
}

/* e compiled alone (no columns), or NULL. */
static const struct sql_expr *lit_of(struct sql_session *s,
                                     const struct ast_expr *e)
{
    struct sql_expr_scope sc = {0};
    struct sql_err err;
    struct sql_ftype t;
    struct sql_expr *out;
    if (!e || !plain_const(e, 0) ||
        sql__expr_compile(s->arena, e, &sc, &out, &t, &err) != 0)
        return NULL;
    return out;
}

/* The prefix of a LIKE pattern before its first wildcard. */
static size_t like_prefix(const struct sql_expr *p)
{
    if (!p || p->op != EX_LIT || p->lit.vt != SQL_VT_STRING)
        return (size_t)-1;
    size_t n = 0;
    while (n < p->lit.v.s.n && p->lit.v.s.p[n] != '%' &&
           p->lit.v.s.p[n] != '_' && p->lit.v.s.p[n] != '\\')
        n++;
    return n;
}

static double sel_of(struct sql_session *s, struct plan_tscope *ts,
                     const struct sql_tableinfo *t, const struct ast_expr *e,
                     int depth)
{
    if (depth > 8)
        return SEL_UNKNOWN;
    double a, b;
    int c;
    switch (e->kind) {
    case AST_E_LOGIC:
        if (e->op != AST_OP_AND && e->op != AST_OP_OR)
            return SEL_UNKNOWN;
        a = e->op == AST_OP_AND ? 1 : 0;
        for (const struct ast_expr *x = e->args; x; x = x->next) {
            b = sel_of(s, ts, t, x, depth + 1);
            a = e->op == AST_OP_AND ? a * b : a + b - a * b;
        }
        return a;
    case AST_E_UNARY:
        if (e->op == AST_OP_NOT)
            return 1 - sel_of(s, ts, t, e->a, depth + 1);
        return SEL_UNKNOWN;
    default:
        break;
    }
    struct sql__buf kb = {0};
    double r = -1;
    if (e->kind == AST_E_IS && e->op == AST_OP_ISNULL &&
        (c = col_of(ts, e->a)) >= 0 && col_stats(t, c)) {
        r = sql__stats_sel_null(t->stats, col_stats(t, c));
        if (e->neg)
            r = 1 - r;
    } else if (e->kind == AST_E_BINARY) {
        const struct ast_expr *other = e->b;
        int op = e->op;
        if ((c = col_of(ts, e->a)) < 0) {
            c = col_of(ts, e->b);
            other = e->a;
            op = op == AST_OP_LT   ? AST_OP_GT
                 : op == AST_OP_LE ? AST_OP_GE
                 : op == AST_OP_GT ? AST_OP_LT
                 : op == AST_OP_GE ? AST_OP_LE
                                   : op;
        }
        const struct sql_expr *v = c >= 0 ? lit_of(s, other) : NULL;
        if (v && col_stats(t, c)) {
            switch (op) {
            case AST_OP_EQ:
            case AST_OP_NULLEQ:
                r = sel_eq(t, c, v, op == AST_OP_NULLEQ, &kb);
                break;
            case AST_OP_NE:
                r = 1 - sel_eq(t, c, v, false, &kb) -
                    sql__stats_sel_null(t->stats, col_stats(t, c));
                break;
            case AST_OP_LT:
            case AST_OP_LE:
                r = sel_range(t, c, NULL, false, v, op == AST_OP_LE);
                break;
            case AST_OP_GT:
            case AST_OP_GE:
                r = sel_range(t, c, v, op == AST_OP_GE, NULL, false);
                break;
            default:
                break;
            }
        }
    } else if (e->kind == AST_E_IN && !e->sub &&
               (c = col_of(ts, e->a)) >= 0 && col_stats(t, c)) {
        r = 0;
        for (const struct ast_expr *x = e->args; x && r >= 0; x = x->next) {
            const struct sql_expr *v = lit_of(s, x);
            double q = v ? sel_eq(t, c, v, false, &kb) : -1;
            r = q < 0 ? -1 : r + q;
        }
        if (r >= 0 && e->neg)
            r = 1 - r - sql__stats_sel_null(t->stats, col_stats(t, c));
    } else if (e->kind == AST_E_BETWEEN && (c = col_of(ts, e->a)) >= 0 &&
               col_stats(t, c)) {
        const struct sql_expr *lo = lit_of(s, e->b), *hi = lit_of(s, e->c);
        if (lo && hi) {
            r = sel_range(t, c, lo, true, hi, true);
            if (e->neg)
                r = 1 - r - sql__stats_sel_null(t->stats, col_stats(t, c));
        }
    } else if (e->kind == AST_E_LIKE && !e->neg && !e->c &&
               (c = col_of(ts, e->a)) >= 0 && col_stats(t, c) &&
               sql__ftype_vt(&t->cols[c].type) == SQL_VT_STRING) {
        const struct sql_expr *p = lit_of(s, e->b);
        size_t n = like_prefix(p);
        if (n != (size_t)-1 && n > 0) {
            /* [prefix, prefix U+10FFFF): every string that starts so. */
            struct sql_expr lo = *p, hi = *p;
            char *top = sql__arena_alloc(s->arena, n + 4);
            if (top) {
                memcpy(top, p->lit.v.s.p, n);
                memcpy(top + n, "\xf4\x8f\xbf\xbf", 4);
                lo.lit.v.s.n = n;
                hi.lit.v.s.p = top;
                hi.lit.v.s.n = n + 4;
                r = sel_range(t, c, &lo, true, &hi, false);
            }
        }
    }
    sql__buf_free(&kb);
    if (r < 0)
        return SEL_UNKNOWN;
    return r < 0 ? 0 : r > 1 ? 1 : r;
}

double sql__stats_scan_rows(struct sql_session *s, const struct plan *p)
{
    const struct sql_tableinfo *t = p->table;
    if (!t || !t->stats || p->acc.kind == ACC_VIRTUAL)
        return -1;
    if (p->acc.kind == ACC_POINT || p->acc.kind == ACC_UNIQUE_POINT)
        return 1;
    struct plan_tscope ts = {.s = s, .t = t, .alias = p->alias,
                             .outer_ts = p->scope};
    for (size_t i = 0; i < s->srv->cat->ndbs; i++)
        if (s->srv->cat->dbs[i]->id == t->db_id)
            ts.db = s->srv->cat->dbs[i]->name;
    double sel = 1;
    for (size_t i = 0; i < p->nconj; i++)
        sel *= sel_of(s, &ts, t, p->conj[i], 0);
    double r = (double)t->stats->rows * sel;
    /* Never more than the access path reads. */
    double acc = sql__stats_access_rows(t, &p->acc);
    if (acc >= 0 && r > acc)
        r = acc;
    return r < 1 ? 1 : r;
}

double sql__stats_col_ndv(const struct sql_tableinfo *t, int ci)
{
    const struct sql_colstats *c = t->stats ? col_stats(t, ci) : NULL;
    if (!c)
        return -1;
    return c->ndv ? (double)c->ndv : 1;
}

double sql__stats_table_rows(const struct sql_tableinfo *t)
{
    return t->stats ? (double)t->stats->rows : -1;
}

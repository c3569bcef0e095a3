/* plan_phys.c: logical to physical plan: the access path of the table scan
 * from WHERE's conjuncts (point get, batch point get, handle ranges,
 * unique-index point, index ranges, full scan), TopN, ORDER BY on the
 * handle served by the scan order; and EXPLAIN (DESIGN.md "Planner").
 *
 * Every conjunct stays in the scan's filter, so an access path only has
 * to cover the rows that can match, never to decide them: a range that
 * cannot be built exactly at run time falls back to the full scan.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan.h"
#include "sql_int.h"
#include "stats.h"

#define MAX_RANGES 256

enum pred_op
{
    P_EQ,
    P_IN,
    P_LT,
    P_LE,
    P_GT,
    P_GE,
};

/* The pred_op of a comparison's AST operator (=, <, <=, >, >=); false
 * for any other. */
static bool cmp_pred_op(int ast_op, int *op)
{
    switch (ast_op) {
    case AST_OP_EQ:
        *op = P_EQ;
        return true;
    case AST_OP_LT:
        *op = P_LT;
        return true;
    case AST_OP_LE:
        *op = P_LE;
        return true;
    case AST_OP_GT:
        *op = P_GT;
        return true;
    case AST_OP_GE:
        *op = P_GE;
        return true;
    default:
        return false;
    }
}

/* col op values, from one conjunct. */
struct pred
{
    int col;                /* table column */
    int op;                 /* enum pred_op */
    struct sql_expr **vals; /* constant expressions */
    size_t nvals;           /* their count (IN lists) */
    bool nullsafe;          /* <=> or IS NULL: NULL matches NULL */
};

/* Constant for one run of the scan: a literal, a parameter, a constant
 * expression, or a column of the query enclosing a correlated subquery
 * (its value is fixed for the run: ts->parent resolves it). */
static bool is_const_ast(struct sql_session *s, struct plan_tscope *ts,
                         const struct ast_expr *e, struct sql_expr **out)
{
    struct sql_expr_scope sc = {0};
    struct sql_err err;
    struct sql_ftype t;
    if (e->kind == AST_E_COLUMN && ts && ts->outer_ts &&
        ts->outer_ts->parent) {
        struct sql_colref ref;
        sc.ctx = ts->outer_ts;
        sc.column = sql__tscope_outer_column;
        if (sql__tscope_column(ts, e, &ref, &err) != SQL_ENOTFOUND)
            return false; /* a column of the scan's own table */
        return sql__expr_compile(s->arena, e, &sc, out, &t, &err) == 0;
    }
    if (e->kind == AST_E_COLUMN || e->kind == AST_E_USERVAR ||
        e->kind == AST_E_SYSVAR)
        return false;
    if (sql__expr_compile(s->arena, e, &sc, out, &t, &err) != 0)
        return false;
    if (e->kind == AST_E_PARAM)
        return true;
    return sql__expr_is_const(*out);
}

static int col_of(struct plan_tscope *ts, const struct ast_expr *e)
{
    if (!e || e->kind != AST_E_COLUMN || !e->name)
        return -1;
    struct sql_colref ref;
    struct sql_err err;
    if (sql__tscope_column(ts, e, &ref, &err) != 0)
        return -1;
    return (int)ref.index;
}

int sql__plan_col_of(struct plan_tscope *ts, const struct ast_expr *e)
{
    return col_of(ts, e);
}

static int flip(int op)
{
    switch (op) {
    case P_LT:
        return P_GT;
    case P_LE:
        return P_GE;
    case P_GT:
        return P_LT;
    case P_GE:
        return P_LE;
    default:
        return op;
    }
}

/* added (enumset.c): an ENUM/SET column's index is in member order, not
 * the text order its comparisons with strings use: no ranges on it. */
static bool enumset_col(struct plan_tscope *ts, const struct ast_expr *e)
{
    struct sql_colref ref;
    struct sql_err err;
    return e && e->kind == AST_E_COLUMN && e->name &&
           sql__tscope_column(ts, e, &ref, &err) == 0 &&
           sql__type_is_enumset(&ref.type);
}

/* The predicates a conjunct gives (0, 1 or 2: BETWEEN gives two). */
static int extract(struct sql_session *s, struct plan_tscope *ts,
                   const struct ast_expr *e, struct pred *out)
{
    struct sql_expr *v;
    if (e->kind == AST_E_IS && e->op == AST_OP_ISNULL && !e->neg) {
        int c = col_of(ts, e->a);
        struct ast_expr null = {.kind = AST_E_NULL, .height = 1};
        if (c < 0 || !is_const_ast(s, NULL, &null, &v))
            return 0;
        out[0] = (struct pred){c, P_EQ, NULL, 1, true};
        out[0].vals = sql__arena_alloc(s->arena, sizeof(v));
        if (!out[0].vals)
            return 0;
        out[0].vals[0] = v;
        return 1;
    }
    if (e->kind == AST_E_BINARY) {
        int op;
        bool nullsafe = e->op == AST_OP_NULLEQ;
        if (!cmp_pred_op(nullsafe ? AST_OP_EQ : e->op, &op))
            return 0;
        int c = col_of(ts, e->a);
        const struct ast_expr *other = e->b;
        if (c < 0) {
            c = col_of(ts, e->b);
            other = e->a;
            op = flip(op);
        }
        if (c < 0 || !is_const_ast(s, ts, other, &v) ||
            (op != P_EQ && enumset_col(ts, other == e->b ? e->a : e->b)))
            return 0;
        out[0].col = c;
        out[0].op = op;
        out[0].nullsafe = nullsafe;
        out[0].vals = sql__arena_alloc(s->arena, sizeof(v));
        if (!out[0].vals)
            return 0;
        out[0].vals[0] = v;
        out[0].nvals = 1;
        return 1;
    }
    if (e->kind == AST_E_IN && !e->neg && !e->sub) {
        int c = col_of(ts, e->a);
        if (c < 0)
            return 0;
        size_t n = 0;
        for (const struct ast_expr *x = e->args; x; x = x->next)
            n++;
        if (n == 0 || n > MAX_RANGES)
            return 0;
        struct sql_expr **vals = sql__arena_alloc(s->arena, sizeof(v) * n);
        if (!vals)
            return 0;
        size_t k = 0;
        for (const struct ast_expr *x = e->args; x; x = x->next)
            if (!is_const_ast(s, ts, x, &vals[k++]))
                return 0;
        out[0] = (struct pred){c, n == 1 ? P_EQ : P_IN, vals, n, false};
        return 1;
    }
    if (e->kind == AST_E_LOGIC && e->op == AST_OP_OR) {
        /* c = v1 OR c = v2 ...: the points of c IN (v1, v2, ...) (an
         * OR a table's scan gets from a join's OR, plan_join.c) */
        struct pred one[2];
        int c = -1;
        size_t n = 0;
        for (const struct ast_expr *x = e->args; x; x = x->next, n++)
            if (n == MAX_RANGES || extract(s, ts, x, one) != 1 ||
                one[0].op != P_EQ || one[0].nullsafe ||
                (c >= 0 && one[0].col != c))
                return 0;
            else
                c = one[0].col;
        struct sql_expr **vals = sql__arena_alloc(s->arena, sizeof(v) * n);
        if (!vals || c < 0)
            return 0;
        n = 0;
        for (const struct ast_expr *x = e->args; x; x = x->next)
            if (extract(s, ts, x, one) == 1)
                vals[n++] = one[0].vals[0];
        out[0] = (struct pred){c, P_IN, vals, n, false};
        return 1;
    }
    if (e->kind == AST_E_BETWEEN && !e->neg) {
        int c = col_of(ts, e->a);
        struct sql_expr *lo, *hi;
        if (c < 0 || !is_const_ast(s, ts, e->b, &lo) ||
            !is_const_ast(s, ts, e->c, &hi) || enumset_col(ts, e->a))
            return 0;
        struct sql_expr **a = sql__arena_alloc(s->arena, sizeof(v) * 2);
        if (!a)
            return 0;
        a[0] = lo;
        a[1] = hi;
        out[0] = (struct pred){c, P_GE, a, 1, false};
        out[1] = (struct pred){c, P_LE, a + 1, 1, false};
        return 2;
    }
    return 0;
}

/* Whether index i (or the handle, i == -1) may be used under the hints. */
bool sql__plan_hint_allows(const struct plan *p, int i)
{
    const char *name = i < 0 ? "PRIMARY" : p->table->idx[i].name;
    bool restricted = false, listed = false;
    for (const struct ast_index_hint *h = p->hints; h; h = h->next) {
        bool in = false;
        for (const struct ast_name *n = h->indexes; n; n = n->next)
            if (strcasecmp(n->name, name) == 0)
                in = true;
        if (h->kind == AST_HINT_IGNORE && in)
            return false;
        if (h->kind != AST_HINT_IGNORE && h->indexes) {
            restricted = true;
            listed = listed || in;
        }
    }
    return !restricted || listed;
}

static const struct pred *find(const struct pred *ps, size_t n, int col,
                               int op)
{
    for (size_t i = 0; i < n; i++)
        if (ps[i].col == col && ps[i].op == op)
            return &ps[i];
    return NULL;
}

/* Ranges for key columns cols[0..ncols) from the predicates: the equal
 * prefix (IN lists multiply), then bounds on the next column. Returns the
 * number of equal columns, -1 when nothing applies or on no memory. */
static int build_ranges(struct sql_session *s, const struct pred *ps,
                        size_t np, const uint32_t *cols, uint32_t ncols,
                        struct plan_access *acc)
{
    size_t nr = 1;
    uint32_t neq = 0;
    const struct pred *eqs[16];
    for (; neq < ncols && neq < 16; neq++) {
        const struct pred *q = find(ps, np, (int)cols[neq], P_EQ);
        if (!q)
            q = find(ps, np, (int)cols[neq], P_IN);
        if (!q || nr * q->nvals > MAX_RANGES)
            break;
        eqs[neq] = q;
        nr *= q->nvals;
    }
    const struct pred *lo = NULL, *hi = NULL;
    if (neq < ncols) {
        lo = find(ps, np, (int)cols[neq], P_GE);
        if (!lo)
            lo = find(ps, np, (int)cols[neq], P_GT);
        hi = find(ps, np, (int)cols[neq], P_LE);
        if (!hi)
            hi = find(ps, np, (int)cols[neq], P_LT);
    }
    if (neq == 0 && !lo && !hi)
        return -1;
    acc->ranges = sql__arena_zalloc(s->arena, sizeof(*acc->ranges) * nr);
    if (!acc->ranges)
        return -1;
    acc->nranges = nr;
    for (size_t r = 0; r < nr; r++) {
        struct plan_range *pr = &acc->ranges[r];
        pr->neq = neq;
        pr->eq = sql__arena_alloc(s->arena, sizeof(*pr->eq) * (neq + 1));
        pr->eq_nullsafe =
            sql__arena_zalloc(s->arena, sizeof(bool) * (neq + 1));
        if (!pr->eq || !pr->eq_nullsafe)
            return -1;
        size_t rest = r;
        for (uint32_t k = neq; k > 0; k--) {
            const struct pred *q = eqs[k - 1];
            pr->eq_nullsafe[k - 1] = q->nullsafe;
            pr->eq[k - 1] = q->vals[rest % q->nvals];
            rest /= q->nvals;
        }
        if (lo) {
            pr->lo = lo->vals[0];
            pr->lo_incl = lo->op == P_GE;
        }
        if (hi) {
            pr->hi = hi->vals[0];
            pr->hi_incl = hi->op == P_LE;
        }
    }
    return (int)neq;
}

/* Whether path a (score) beats the best so far: by score without
 * statistics; with them point gets still by score, the other paths by
 * cost, the rows read (an index's twice: the entry, then the row), a
 * full scan included unless a hint names indexes (DESIGN.md
 * "Statistics"). */
static bool better(const struct plan *p, const struct plan_access *a,
                   int score, int *best, double *best_cost)
{
    const struct sql_tableinfo *t = p->table;
    if (!t->stats || score >= 80 || *best >= 80) {
        if (score <= *best)
            return false;
    } else {
        double rows = sql__stats_access_rows(t, a);
        double cost = a->kind == ACC_INDEX_RANGE ? rows * 2 : rows;
        if (*best_cost >= 0 && cost >= *best_cost)
            return false;
        *best_cost = cost;
    }
    *best = score;
    return true;
}

static double full_cost(const struct plan *p)
{
    for (const struct ast_index_hint *h = p->hints; h; h = h->next)
        if (h->kind != AST_HINT_IGNORE && h->indexes)
            return -1; /* any listed index beats reading everything */
    return p->table->stats ? (double)p->table->stats->rows : -1;
}

/* A signed integer literal (no conversion between it and a handle). */
static bool int_literal(const struct ast_expr *e)
{
    return e && e->kind == AST_E_INT && !e->is_unsigned;
}

/* Whether the handle access p->acc (one range or point) is exactly what
 * the conjuncts say, so that the rows it reads satisfy them all and the
 * filter need not run per row (sysbench's `id BETWEEN a AND b`): every
 * conjunct compares the (signed) handle with an integer literal, at most
 * one bounds it from below and one from above, or one alone fixes it.
 * Integer literals are exact handles (scan_ranges' as_handle); a second
 * bound on one side would not be in the range (build_ranges takes the
 * first), hence the counts. */
static bool handle_exact(struct plan_tscope *ts, const struct plan *p)
{
    const struct sql_tableinfo *t = p->table;
    if (p->acc.idx >= 0 || p->acc.nranges != 1 || t->handle_col < 0 ||
        (t->cols[t->handle_col].type.flags & SQL_COLFLAG_UNSIGNED) ||
        (p->acc.kind != ACC_POINT && p->acc.kind != ACC_HANDLE_RANGE))
        return false;
    int h = t->handle_col, neq = 0, nlo = 0, nhi = 0;
    for (size_t i = 0; i < p->nconj; i++) {
        const struct ast_expr *e = p->conj[i];
        if (e->kind == AST_E_BETWEEN) {
            if (e->neg || col_of(ts, e->a) != h || !int_literal(e->b) ||
                !int_literal(e->c))
                return false;
            nlo++;
            nhi++;
            continue;
        }
        if (e->kind != AST_E_BINARY)
            return false;
        int op;
        if (!cmp_pred_op(e->op, &op))
            return false;
        if (col_of(ts, e->a) == h && int_literal(e->b))
            ;
        else if (col_of(ts, e->b) == h && int_literal(e->a))
            op = flip(op);
        else
            return false;
        if (op == P_EQ)
            neq++;
        else if (op == P_GT || op == P_GE)
            nlo++;
        else
            nhi++;
    }
    if (p->acc.kind == ACC_POINT)
        return neq == 1 && nlo == 0 && nhi == 0;
    return neq == 0 && nlo <= 1 && nhi <= 1 && nlo + nhi > 0;
}

int sql__plan_access(struct sql_session *s, struct plan *p)
{
    const struct sql_tableinfo *t = p->table;
    p->kind = PL_SCAN;
    if (sql__is_virtual(t)) {
        p->acc = (struct plan_access){.kind = ACC_VIRTUAL, .t = t, .idx = -1};
        return 0;
    }
    struct plan_tscope ts = {.s = s, .t = t, .alias = p->alias,
                             .outer_ts = p->scope};
    for (size_t i = 0; i < s->srv->cat->ndbs; i++)
        if (s->srv->cat->dbs[i]->id == t->db_id)
            ts.db = s->srv->cat->dbs[i]->name;
    struct pred *ps = sql__arena_alloc(s->arena,
                                       sizeof(*ps) * (2 * p->nconj + 1));
    if (!ps)
        return -ENOMEM;
    size_t np = 0;
    for (size_t i = 0; i < p->nconj; i++)
        np += (size_t)extract(s, &ts, p->conj[i], ps + np);
    p->acc = (struct plan_access){.kind = ACC_FULL, .t = t, .idx = -1};
    int best = 0;
    double best_cost = full_cost(p);
    /* The handle. */
    if (t->handle_col >= 0 && sql__plan_hint_allows(p, -1)) {
        uint32_t hc = (uint32_t)t->handle_col;
        struct plan_access a = {.t = t, .idx = -1};
        int neq = build_ranges(s, ps, np, &hc, 1, &a);
        if (neq == 1) {
            a.kind = a.nranges == 1 ? ACC_POINT : ACC_BATCH_POINT;
            if (better(p, &a, a.nranges == 1 ? 100 : 80, &best, &best_cost))
                p->acc = a;
        } else if (neq == 0) {
            a.kind = ACC_HANDLE_RANGE;
            if (better(p, &a, 15, &best, &best_cost))
                p->acc = a;
        }
    }
    for (uint32_t i = 0; i < t->nidx; i++) {
        if ((int)i == t->pk_handle_idx || !sql__plan_hint_allows(p, (int)i) ||
            t->idx[i].state != SQL_IDX_PUBLIC) /* online DDL: not read */
            continue;
        const struct sql_idxinfo *x = &t->idx[i];
        struct plan_access a = {.t = t, .idx = (int)i};
        int neq = build_ranges(s, ps, np, x->cols, x->ncols, &a);
        if (neq < 0)
            continue;
        int score;
        bool nullsafe = false;
        for (uint32_t k = 0; k < (uint32_t)neq; k++)
            nullsafe = nullsafe || a.ranges[0].eq_nullsafe[k];
        if (x->unique && (uint32_t)neq == x->ncols && a.nranges == 1 &&
            !nullsafe) {
            a.kind = ACC_UNIQUE_POINT;
            score = 90;
        } else {
            a.kind = ACC_INDEX_RANGE;
            score = 20 * neq + (a.ranges[0].lo || a.ranges[0].hi ? 5 : 0);
            if (x->unique && (uint32_t)neq == x->ncols)
                score = 70;
        }
        if (better(p, &a, score, &best, &best_cost))
            p->acc = a;
    }
    /* No key helps: read in primary key order all the same, as InnoDB's
     * clustered index does (UPDATE/DELETE ... LIMIT without ORDER BY
     * then touch the rows MySQL would). With an integer primary key that
     * is the row order itself; otherwise it is the primary key index. */
    if (p->acc.kind == ACC_FULL && t->handle_col < 0) {
        int pk = sql__table_index(t, "PRIMARY");
        if (pk >= 0 && sql__plan_hint_allows(p, pk)) {
            struct plan_range *r =
                sql__arena_zalloc(s->arena, sizeof(*r));
            if (!r)
                return -ENOMEM;
            p->acc = (struct plan_access){.kind = ACC_INDEX_RANGE, .t = t,
                                          .idx = pk, .ranges = r,
                                          .nranges = 1};
        }
    }
    if (p->cond && handle_exact(&ts, p))
        p->cond = NULL;
    return 0;
}

/* The scan below a chain of PROJECT/FILTER nodes, or NULL. */
static struct plan *scan_below(struct plan *p)
{
    while (p && (p->kind == PL_PROJECT || p->kind == PL_FILTER))
        p = p->child;
    return p && p->kind == PL_SCAN ? p : NULL;
}

static int phys(struct sql_session *s, struct plan **pp)
{
    struct plan *p = *pp;
    if (!p)
        return 0;
    int rc = phys(s, &p->child);
    if (rc == 0)
        rc = phys(s, &p->right);
    if (rc != 0)
        return rc;
    switch (p->kind) {
    case PL_SOURCE:
        rc = sql__plan_access(s, p);
        return rc ? rc : sql__cop_plan(s, p);
    case PL_SORT: {
        struct plan *sc = scan_below(p->child);
        if (p->order_handle && sc &&
            (sc->acc.kind == ACC_FULL || sc->acc.kind == ACC_HANDLE_RANGE)) {
            sc->acc.desc = p->order_handle == 2;
            *pp = p->child; /* the scan reads in that order already */
        }
        return 0;
    }
    case PL_LIMIT:
        if (p->child->kind == PL_PROJECT) {
            /* Limit below the projection: the select list is computed
             * only for the rows returned (MySQL does not evaluate it for
             * rows skipped by OFFSET or past the limit). */
            struct plan *pr = p->child;
            p->child = pr->child;
            p->ncols = p->nvisible = pr->child->ncols;
            p->cols = pr->child->cols;
            pr->child = p;
            *pp = pr;
            sql__cop_limit(p);
            return 0;
        }
        sql__cop_limit(p);
        if (p->child->kind == PL_SORT) {
            struct plan *so = p->child, *items = so->child;
            int late = sql__plan_late_project(s, p); /* plan_late.c */
            if (late < 0)
                return late;
            so->kind = PL_TOPN;
            so->limit = p->limit;
            so->offset = p->offset;
            so->nvisible = p->nvisible;
            *pp = so;
            if (late) { /* the select list over the top-N's rows */
                so->nvisible = so->ncols;
                items->child = so;
                *pp = items;
            }
            return sql__cop_topn_plan(s, so); /* cop_agg.c */
        }
        return 0;
    case PL_AGG:
        return sql__cop_agg_plan(s, p); /* cop_agg.c */
    case PL_PROJECT:
        return sql__cop_project(s, p); /* cop_proj.c */
    default:
        return 0;
    }
}

int sql__plan_physical(struct sql_session *s, struct plan **p)
{
    return phys(s, p);
}

/* ---- EXPLAIN ------------------------------------------------------------- */

static const char *kind_name(const struct plan *p)
{
    switch (p->kind) {
    case PL_DUAL:
        return "TableDual";
    case PL_FILTER:
        return "Selection";
    case PL_AGG:
        return "HashAgg";
    case PL_PROJECT:
        return "Projection";
    case PL_DISTINCT:
        return "Distinct";
    case PL_SORT:
        return "Sort";
    case PL_TOPN:
        return "TopN";
    case PL_LIMIT:
        return "Limit";
    case PL_WINDOW:
        return "Window";
    case PL_SETOP:
        return p->setop == AST_SETOP_INTERSECT ? "Intersect"
               : p->setop == AST_SETOP_EXCEPT ? "Except"
               : p->setop_all                  ? "UnionAll"
                                               : "Union";
    case PL_JOIN:
        return p->join_algo == JA_HASH    ? "HashJoin"
               : p->join_algo == JA_INDEX ? "IndexJoin"
                                          : "NestedLoopJoin";
    default:
        switch (p->acc.kind) {
        case ACC_POINT:
            return "Point_Get";
        case ACC_BATCH_POINT:
            return "Batch_Point_Get";
        case ACC_HANDLE_RANGE:
            return "TableRangeScan";
        case ACC_UNIQUE_POINT:
            return "Point_Get";
        case ACC_INDEX_RANGE:
            return "IndexRangeScan";
        case ACC_VIRTUAL:
            return "MemTableScan";
        default:
            return "TableFullScan";
        }
    }
}

static void index_desc(char *buf, size_t len, const struct sql_tableinfo *t,
                       int idx)
{
    const struct sql_idxinfo *x = &t->idx[idx];
    int n = snprintf(buf, len, "table:%s, index:%s(", t->name, x->name);
    for (uint32_t k = 0; k < x->ncols && n > 0 && (size_t)n < len; k++)
        n += snprintf(buf + n, len - (size_t)n, "%s%s", k ? ", " : "",
                      t->cols[x->cols[k]].name);
    if (n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ")");
}

/* One row per node, children below it: pre is the tree drawn so far
 * ("│ " where an earlier sibling's subtree goes on), last whether p is its
 * parent's last child. */
static int explain_node(struct sql_session *s, const struct plan *p,
                        const char *pre, bool root, bool last, int *id,
                        const struct plan_explain_opts *xo)
{
    char ident[512], object[400] = "", info[1024] = "";
    snprintf(ident, sizeof(ident), "%s%s%s_%d", pre,
             root ? "" : last ? "└─" : "├─", kind_name(p), (*id)++);
    if (p->kind == PL_SCAN) {
        const struct plan_access *a = &p->acc;
        if (a->idx >= 0)
            index_desc(object, sizeof(object), a->t, a->idx);
        else
            snprintf(object, sizeof(object), "table:%s", a->t->name);
        if (a->kind == ACC_VIRTUAL)
            snprintf(object, sizeof(object), "table:%s", a->t->name);
        const char *what = a->kind == ACC_POINT || a->kind == ACC_BATCH_POINT
                               ? "handle"
                           : a->kind == ACC_FULL ? "keep order"
                                                 : "range";
        int k = snprintf(info, sizeof(info), "%s", what);
        if (a->kind == ACC_VIRTUAL && p->vrows && p->vrows->p)
            k = snprintf(info, sizeof(info), "derived");
        else if (a->kind == ACC_VIRTUAL && p->vrows)
            k = snprintf(info, sizeof(info), "derived: %zu rows",
                         p->vrows->nrows);
        else if (a->kind == ACC_VIRTUAL)
            k = snprintf(info, sizeof(info), "information_schema");
        else if (p->lookup)
            k = snprintf(info, sizeof(info), "lookup: %zu %s",
                         (size_t)a->ranges[0].neq,
                         a->ranges[0].neq == 1 ? "key" : "keys");
        else if (a->kind == ACC_FULL)
            k = snprintf(info, sizeof(info), "keep order:%s",
                         a->desc ? "true, desc" : "false");
        else if (a->nranges)
            k += snprintf(info + k, sizeof(info) - (size_t)k, ": %zu %s",
                          a->nranges, a->nranges == 1 ? "key" : "keys");
        if (a->desc && a->kind != ACC_FULL)
            k += snprintf(info + k, sizeof(info) - (size_t)k, ", desc");
        if (p->info && p->info[0] && k > 0 && (size_t)k < sizeof(info))
            k += snprintf(info + k, sizeof(info) - (size_t)k, "; filter:%s",
                          p->info);
        if (p->cop && p->cop->info[0] && k > 0 && (size_t)k < sizeof(info))
            k += snprintf(info + k, sizeof(info) - (size_t)k, "; %s",
                          p->cop->info);
        if (p->lock && k > 0 && (size_t)k < sizeof(info))
            snprintf(info + k, sizeof(info) - (size_t)k, "; lock");
    } else if (p->kind == PL_LIMIT || p->kind == PL_TOPN) {
        const char *keys = p->kind == PL_TOPN && p->info ? p->info : "";
        snprintf(info, sizeof(info), "%s%s%s", keys, keys[0] ? ", " : "",
                 p->offset ? "offset, count" : "count");
    } else if (p->kind == PL_JOIN) {
        snprintf(info, sizeof(info), "%s%s%s%s",
                 p->join_type == JT_LEFT   ? "left outer join"
                 : p->join_type == JT_SEMI ? "semi join"
                 : p->join_type == JT_ANTI ? "anti semi join"
                                           : "inner join",
                 p->join_algo != JA_HASH ? ""
                 : p->build_left         ? ", build:left"
                                         : ", build:right",
                 p->info && p->info[0] ? ", cond:" : "",
                 p->info ? p->info : "");
    } else if (p->info)
        snprintf(info, sizeof(info), "%s", p->info);
    struct sql_value v[8] = {sql__v_str(ident),
                             sql__v_str(p->kind == PL_SCAN && p->cop
                                            ? "cop[kvd]"
                                            : "root"),
                             sql__v_str(object), sql__v_str(info)};
    size_t nv = 4;
    char est[32], act[32], exec[96], mem[32];
    if (xo) { /* id, estRows, [actRows], task, object, [execution info],
                 operator info, [memory] */
        uint64_t rows = 0, loops = 0;
        int64_t ns = 0;
        size_t bytes = 0;
        bool ran = xo->an && sql__xa_figures(xo->an, p, &rows, &loops, &ns,
                                             &bytes);
        snprintf(est, sizeof(est), "%.2f", p->est_rows);
        snprintf(act, sizeof(act), "%llu", (unsigned long long)rows);
        exec[0] = 0;
        snprintf(mem, sizeof(mem), "N/A");
        if (ran) {
            snprintf(exec, sizeof(exec), "time:%.3fms, loops:%llu",
                     (double)ns / 1e6, (unsigned long long)loops);
            snprintf(mem, sizeof(mem), "%zu Bytes", bytes);
        }
        nv = 0;
        v[nv++] = sql__v_str(ident);
        v[nv++] = sql__v_str(est);
        if (xo->an)
            v[nv++] = sql__v_str(act);
        v[nv++] = sql__v_str(p->kind == PL_SCAN && p->cop ? "cop[kvd]"
                                                          : "root");
        v[nv++] = sql__v_str(object);
        if (xo->an)
            v[nv++] = sql__v_str(exec);
        v[nv++] = sql__v_str(info);
        if (xo->an)
            v[nv++] = sql__v_str(mem);
    }
    int rc = sql__rs_row(s, v, nv);
    char sub[512];
    snprintf(sub, sizeof(sub), "%s%s", pre, root ? "" : last ? "  " : "│ ");
    if (rc == 0 && p->child)
        rc = explain_node(s, p->child, sub, false, !p->right, id, xo);
    if (rc == 0 && p->right)
        rc = explain_node(s, p->right, sub, false, true, id, xo);
    return rc;
}

int sql__plan_explain(struct sql_session *s, const struct plan *p)
{
    static const struct sql_rscol cols[] = {
        {"id", SQL_TYPE_VAR_STRING},
        {"task", SQL_TYPE_VAR_STRING},
        {"access object", SQL_TYPE_VAR_STRING},
        {"operator info", SQL_TYPE_VAR_STRING}};
    int id = 1;
    int rc = sql__rs_begin(s, cols, 4);
    rc = rc ? rc : explain_node(s, p, "", true, true, &id, NULL);
    return rc ? rc : sql__rs_end(s);
}

int sql__plan_explain_opts(struct sql_session *s, const struct plan *p,
                           const struct plan_explain_opts *o)
{
    static const struct sql_rscol est[] = {
        {"id", SQL_TYPE_VAR_STRING},
        {"estRows", SQL_TYPE_VAR_STRING},
        {"task", SQL_TYPE_VAR_STRING},
        {"access object", SQL_TYPE_VAR_STRING},
        {"operator info", SQL_TYPE_VAR_STRING}};
    static const struct sql_rscol an[] = {
        {"id", SQL_TYPE_VAR_STRING},
        {"estRows", SQL_TYPE_VAR_STRING},
        {"actRows", SQL_TYPE_VAR_STRING},
        {"task", SQL_TYPE_VAR_STRING},
        {"access object", SQL_TYPE_VAR_STRING},
        {"execution info", SQL_TYPE_VAR_STRING},
        {"operator info", SQL_TYPE_VAR_STRING},
        {"memory", SQL_TYPE_VAR_STRING}};
    int id = 1;
    int rc = o->an ? sql__rs_begin(s, an, 8) : sql__rs_begin(s, est, 5);
    rc = rc ? rc : explain_node(s, p, "", true, true, &id, o);
    return rc ? rc : sql__rs_end(s);
}

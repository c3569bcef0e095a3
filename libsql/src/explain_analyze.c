/* explain_analyze.c: EXPLAIN FORMAT='row'|'brief'|'verbose' (TiDB's layout
 * with estRows) and EXPLAIN ANALYZE (the query runs, its rows are counted
 * and dropped, and every operator shows its actual rows, calls, inclusive
 * time and the most arena bytes it held at once); the estimate pass that gives
 * every plan node its estRows. DESIGN.md "Statistics" (EXPLAIN).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "exec_int.h"
#include "expr_int.h"
#include "plan.h"
#include "sql_int.h"
#include "stats.h"

/* One plan node's figures. */
struct xa_node
{
    const struct plan *p; /* the node */
    uint64_t rows;        /* rows it gave */
    uint64_t loops;       /* calls of next */
    int64_t ns;           /* time inside them, its inputs included */
    size_t mem;           /* most arena bytes it held after a call */
};

struct sql_xanalyze
{
    struct xa_node *v;    /* one per plan node, filled as they run */
    size_t n, cap;        /* count, room (the plan's node count) */
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sql__xa_enter(struct sql_xanalyze *an)
{
    (void)an;
    return mono_ns();
}

static struct xa_node *slot(struct sql_xanalyze *an, const struct plan *p)
{
    for (size_t i = 0; i < an->n; i++)
        if (an->v[i].p == p)
            return &an->v[i];
    if (an->n == an->cap)
        return NULL; /* a node outside the tree explained: not shown */
    an->v[an->n] = (struct xa_node){.p = p};
    return &an->v[an->n++];
}

void sql__xa_leave(struct sql_xanalyze *an, const struct sql_xnode *n,
                   int64_t t0, size_t rows)
{
    struct xa_node *x = slot(an, n->p);
    if (!x)
        return;
    x->rows += rows;
    x->loops++;
    x->ns += mono_ns() - t0;
    if (n->mem.peak > x->mem) /* its arenas' most bytes (memtrack.c) */
        x->mem = n->mem.peak;
}

bool sql__xa_figures(const struct sql_xanalyze *an, const struct plan *p,
                     uint64_t *rows, uint64_t *loops, int64_t *ns,
                     size_t *mem)
{
    for (size_t i = 0; i < an->n; i++)
        if (an->v[i].p == p) {
            *rows = an->v[i].rows;
            *loops = an->v[i].loops;
            *ns = an->v[i].ns;
            *mem = an->v[i].mem;
            return true;
        }
    return false;
}

/* ---- estimates -------------------------------------------------------- */

static bool lit_count(const struct sql_expr *e, double *out)
{
    if (!e || e->op != EX_LIT)
        return false;
    if (e->lit.vt == SQL_VT_INT && e->lit.v.i >= 0)
        *out = (double)e->lit.v.i;
    else if (e->lit.vt == SQL_VT_UINT)
        *out = (double)e->lit.v.u;
    else
        return false;
    return true;
}

/* The distinct values of row column col, from the statistics of the
 * table a scan under p lays there; -1 when none knows. */
static double col_ndv_below(const struct plan *p, uint32_t col)
{
    for (; p; p = p->right ? NULL : p->child) {
        if (p->kind == PL_SCAN && p->table && !p->lookup) {
            uint32_t off = p->row_off;
            if (col < off || col - off >= p->table->ncols)
                return -1;
            return sql__stats_col_ndv(p->table, (int)(col - off));
        }
        if (p->kind == PL_JOIN) {
            double l = col_ndv_below(p->child, col);
            return l >= 0 ? l : col_ndv_below(p->right, col);
        }
        if (p->kind != PL_FILTER && p->kind != PL_SORT)
            return -1; /* the row changes shape above here */
    }
    return -1;
}

/* Groups of aggregation p over in rows: the product of its plain column
 * keys' distinct counts, at most in; in when a key is not one. */
static double groups(const struct plan *p, double in)
{
    double g = 1;
    for (size_t i = 0; i < p->nkeys; i++) {
        const struct sql_expr *k = p->keys[i];
        double n = k->op == EX_COL ? col_ndv_below(p->child, k->idx) : -1;
        if (n < 0)
            return in;
        g *= n;
        if (g >= in)
            return in;
    }
    return g;
}

void sql__plan_estimate(struct sql_session *s, struct plan *p)
{
    if (!p)
        return;
    sql__plan_estimate(s, p->child);
    sql__plan_estimate(s, p->right);
    if (p->est_rows > 0)
        return; /* the join planner's */
    double in = p->child ? p->child->est_rows : 1;
    double lim, off = 0;
    switch (p->kind) {
    case PL_SCAN:
        p->est_rows = sql__plan_scan_rows(s, p);
        break;
    case PL_AGG:
        p->est_rows = p->scalar || p->nkeys == 0 ? 1 : groups(p, in);
        break;
    case PL_LIMIT:
    case PL_TOPN:
        p->est_rows = in;
        if (lit_count(p->limit, &lim)) {
            lit_count(p->offset, &off);
            p->est_rows = in - off < lim ? in - off : lim;
        }
        break;
    case PL_SETOP:
        p->est_rows = p->setop == AST_SETOP_UNION
                          ? in + (p->right ? p->right->est_rows : 0)
                      : p->setop == AST_SETOP_INTERSECT && p->right &&
                              p->right->est_rows < in
                          ? p->right->est_rows
                          : in;
        break;
    case PL_JOIN:
        p->est_rows = in * (p->right ? p->right->est_rows : 1);
        break;
    default:
        p->est_rows = in;
        break;
    }
    if (p->est_rows < 0)
        p->est_rows = 0;
}

/* ---- the statement ---------------------------------------------------- */

static size_t count_nodes(const struct plan *p)
{
    return p ? 1 + count_nodes(p->child) + count_nodes(p->right) : 0;
}

/* Run p to its end, rows dropped, with every operator measured. */
static int run(struct sql_session *s, const struct plan *p,
               struct sql_xanalyze *an)
{
    struct sql_xctx x;
    struct sql_xnode *root;
    struct sql_chunk *c;
    int rc = sql__xctx_init(&x, s, false);
    if (rc != 0)
        return rc;
    x.an = an;
    if ((rc = sql__exec_open(&x, p, &root)) != 0)
        return rc;
    do
        rc = sql__exec_next(&x, root, &c);
    while (rc == 0 && c->n > 0);
    sql__exec_close(root);
    return rc == SQL_EINTERNAL ? sql__serr(s, 1105, "HY000",
                                           "a value does not fit its "
                                           "column type")
                               : rc;
}

int sql__explain_run(struct sql_session *s, const struct ast_stmt *st,
                     struct plan *p)
{
    const char *f = st->explain_format;
    if (f && strcasecmp(f, "traditional") == 0 && !st->flag)
        return sql__plan_explain(s, p);
    if (f && strcasecmp(f, "row") != 0 && strcasecmp(f, "brief") != 0 &&
        strcasecmp(f, "verbose") != 0 && strcasecmp(f, "traditional") != 0)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'EXPLAIN "
                         "FORMAT=%.32s'",
                         f);
    sql__plan_estimate(s, p);
    struct plan_explain_opts o = {.est = true};
    if (!st->flag)
        return sql__plan_explain_opts(s, p, &o);
    struct sql_xanalyze *an = sql__arena_zalloc(s->arena, sizeof(*an));
    size_t cap = count_nodes(p);
    if (!an || !(an->v = sql__arena_zalloc(s->arena, sizeof(*an->v) * cap)))
        return -ENOMEM;
    an->cap = cap;
    int rc = run(s, p, an);
    if (rc != 0)
        return rc;
    o.an = an;
    return sql__plan_explain_opts(s, p, &o);
}

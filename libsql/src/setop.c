/* setop.c: set operations: UNION, INTERSECT and EXCEPT [ALL | DISTINCT]
 * and the ORDER BY / LIMIT of their whole result, planned into a tree of
 * SetOp nodes over the query blocks, and the SetOp operator
 * (DESIGN.md "Set operations and CTEs").
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "exec_int.h"
#include "expr_int.h"
#include "plan.h"
#include "sql_int.h"

/* ---- planning ------------------------------------------------------------ */

/* The query blocks (leaves) of one set-operation tree, in order. */
struct leaves
{
    struct plan **p;   /* planned blocks */
    size_t n, cap;     /* count and allocation */
};

/* A set operation whose members flatten into its parent's tree: no ORDER
 * BY, LIMIT or WITH of its own. */
static bool plain_setop(const struct ast_select *q)
{
    return q->kind == AST_SEL_UNION && !q->order && !q->limit && !q->with &&
           q->lock == AST_LOCK_NONE;
}

static int add_leaf(struct sql_session *s, struct leaves *lv, struct plan *p)
{
    if (lv->n == lv->cap) {
        size_t cap = lv->cap ? lv->cap * 2 : 8;
        struct plan **np = sql__arena_alloc(s->arena, sizeof(*np) * cap);
        if (!np)
            return -ENOMEM;
        if (lv->n)
            memcpy(np, lv->p, sizeof(*np) * lv->n);
        lv->p = np;
        lv->cap = cap;
    }
    lv->p[lv->n++] = p;
    return 0;
}

/* Correlated outer values of the whole tree: each block's, one after the
 * other (a SetOp shifts its right input's by outer_off). */
struct capset
{
    struct sql_colref *c; /* the parent's columns read */
    size_t n, cap;        /* count and allocation */
};

static int caps_add(struct sql_session *s, struct capset *cs,
                    const struct sql_colref *c, size_t n)
{
    if (cs->n + n > cs->cap) {
        size_t cap = (cs->n + n) * 2;
        struct sql_colref *nc = sql__arena_alloc(s->arena, sizeof(*nc) * cap);
        if (!nc)
            return -ENOMEM;
        if (cs->n)
            memcpy(nc, cs->c, sizeof(*nc) * cs->n);
        cs->c = nc;
        cs->cap = cap;
    }
    if (n)
        memcpy(cs->c + cs->n, c, sizeof(*c) * n);
    cs->n += n;
    return 0;
}

static int build(struct sql_session *s, const struct ast_select *q,
                 const struct sql_expr_scope *parent, struct leaves *lv,
                 struct capset *cs, struct plan **out)
{
    if (!plain_setop(q)) {
        struct sql_colref *c = NULL;
        size_t nc = 0;
        struct plan *p;
        int rc = sql__plan_select_in(s, q, parent, &c, &nc, &p);
        if (rc == 0)
            rc = caps_add(s, cs, c, nc);
        if (rc == 0)
            rc = add_leaf(s, lv, p);
        if (rc == 0 && lv->p[0]->nvisible != p->nvisible)
            rc = sql__serr(s, 1222, "21000",
                           "The used SELECT statements have a different "
                           "number of columns");
        *out = p;
        return rc;
    }
    struct plan *n = sql__arena_zalloc(s->arena, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->kind = PL_SETOP;
    n->setop = q->setop;
    n->setop_all = q->union_all;
    n->info = q->union_all ? "all" : "distinct";
    int rc = build(s, q->left, parent, lv, cs, &n->child);
    n->outer_off = cs->n;
    if (rc == 0)
        rc = build(s, q->right, parent, lv, cs, &n->right);
    *out = n;
    return rc;
}

/* The result type of column i over every block (MySQL's type merge, as
 * CASE and COALESCE merge their branches): identical types stay, with the
 * longest length; anything else merges by class (integer and decimal to
 * DECIMAL, a string with anything to a string, ...). NOT NULL only when
 * every block's column is. */
static int merge_column(struct sql_session *s, const struct leaves *lv,
                        size_t i, struct sql_expr **out)
{
    struct sql_expr *e = sql__arena_zalloc(s->arena, sizeof(*e));
    struct sql_expr *args = sql__arena_zalloc(s->arena, sizeof(*args) * lv->n);
    struct sql_expr **argv = sql__arena_zalloc(s->arena,
                                               sizeof(*argv) * lv->n);
    if (!e || !args || !argv)
        return -ENOMEM;
    const struct sql_ftype *t0 = &lv->p[0]->cols[i].type;
    bool same = true, notnull = true;
    uint32_t len = 0;
    for (size_t k = 0; k < lv->n; k++) {
        const struct sql_ftype *t = &lv->p[k]->cols[i].type;
        args[k].type = *t;
        if (t->merge_tp == SQL_TYPE_FLOAT) { /* agg.c: FLOAT here */
            args[k].type.tp = SQL_TYPE_FLOAT;
            args[k].type.len = 12;
            t = &args[k].type;
        }
        args[k].vt = (uint8_t)sql__ftype_vt(t);
        args[k].coerc = 2;
        argv[k] = &args[k];
        if (t->tp != t0->tp || t->dec != t0->dec || t->coll != t0->coll ||
            (t->flags & SQL_COLFLAG_UNSIGNED) !=
                (t0->flags & SQL_COLFLAG_UNSIGNED))
            same = false;
        if (!(t->flags & SQL_COLFLAG_NOT_NULL))
            notnull = false;
        if (t->len > len)
            len = t->len;
    }
    e->nargs = (uint16_t)lv->n;
    e->args = argv;
    sql__merge_result(e, 0, 1, -1);
    if (same && args[0].vt != SQL_VT_NULL) {
        e->type = *t0;
        e->type.len = len;
        e->type.flags &= (uint16_t)~SQL_COLFLAG_NOT_NULL;
        if (notnull)
            e->type.flags |= SQL_COLFLAG_NOT_NULL;
    }
    e->op = EX_COL;
    e->idx = (uint32_t)i;
    *out = e;
    return 0;
}

/* Give every SetOp node of the tree the merged columns. */
static void set_cols(struct plan *p, struct plan_col *cols,
                     struct sql_expr **ex, size_t ncols)
{
    if (!p || p->kind != PL_SETOP)
        return;
    p->cols = cols;
    p->exprs = ex;
    p->ncols = p->nvisible = ncols;
    set_cols(p->child, cols, ex, ncols);
    set_cols(p->right, cols, ex, ncols);
}

/* ORDER BY over the result: names are result column names. */
struct rscope
{
    struct sql_session *s;        /* for errors */
    const struct plan_col *cols;  /* the result's columns */
    size_t ncols;                 /* their count */
    int identity;                 /* >= 0: every name is this column */
};

static int result_column(void *ctx, const struct ast_expr *col,
                         struct sql_colref *out, struct sql_err *err)
{
    struct rscope *rs = ctx;
    size_t i = 0;
    if (rs->identity >= 0) {
        i = (size_t)rs->identity;
    } else {
        if (col->table)
            return sql__err(err, 1250, "42000",
                            "Table '%.64s' from one of the SELECTs cannot "
                            "be used in global ORDER clause", col->table);
        while (i < rs->ncols && strcasecmp(rs->cols[i].name, col->name) != 0)
            i++;
        if (i == rs->ncols)
            return SQL_ENOTFOUND;
    }
    out->index = (uint32_t)i;
    out->type = rs->cols[i].type;
    return 0;
}

static int order_limit(struct sql_session *s, const struct ast_select *sel,
                       struct plan **pp)
{
    struct plan *p = *pp;
    size_t ncols = p->ncols, norder = 0;
    for (const struct ast_order *o = sel->order; o; o = o->next)
        norder++;
    struct plan *top = p;
    if (norder) {
        struct plan *pr = sql__arena_zalloc(s->arena, sizeof(*pr));
        struct plan *so = sql__arena_zalloc(s->arena, sizeof(*so));
        struct rscope rs = {.s = s, .cols = p->cols, .ncols = ncols,
                            .identity = -1};
        struct sql_expr_scope scope = {.ctx = &rs, .column = result_column,
                                       .subquery = sql__subquery_run,
                                       .sub_ctx = s};
        if (!pr || !so)
            return -ENOMEM;
        pr->kind = PL_PROJECT;
        pr->child = p;
        pr->cols = sql__arena_zalloc(s->arena,
                                     sizeof(*pr->cols) * (ncols + norder));
        pr->exprs = sql__arena_zalloc(s->arena,
                                      sizeof(*pr->exprs) * (ncols + norder));
        so->sort_cols = sql__arena_zalloc(s->arena, sizeof(uint32_t) * norder);
        so->sort_desc = sql__arena_zalloc(s->arena, sizeof(bool) * norder);
        if (!pr->cols || !pr->exprs || !so->sort_cols || !so->sort_desc)
            return -ENOMEM;
        struct ast_expr id = {.kind = AST_E_COLUMN, .name = "", .height = 1};
        for (size_t i = 0; i < ncols; i++) {
            struct sql_err err = {0};
            rs.identity = (int)i;
            pr->cols[i] = p->cols[i];
            int rc = sql__expr_compile(s->arena, &id, &scope, &pr->exprs[i],
                                       NULL, &err);
            if (rc != 0)
                return rc == SQL_EQUERY ? (s->err = err, rc) : rc;
        }
        rs.identity = -1;
        pr->ncols = ncols;
        size_t k = 0;
        for (const struct ast_order *o = sel->order; o; o = o->next, k++) {
            size_t col = SIZE_MAX;
            const struct ast_expr *e = o->expr;
            if (e->kind == AST_E_INT) {
                if (e->ival < 1 || (uint64_t)e->ival > ncols || e->is_unsigned)
                    return sql__serr(s, 1054, "42S22",
                                     "Unknown column '%lld' in 'order "
                                     "clause'", (long long)e->ival);
                col = (size_t)e->ival - 1;
            } else if (e->kind == AST_E_COLUMN && !e->table) {
                for (size_t i = 0; i < ncols && col == SIZE_MAX; i++)
                    if (strcasecmp(p->cols[i].name, e->name) == 0)
                        col = i;
            }
            if (col == SIZE_MAX) {
                struct sql_err err = {0};
                col = pr->ncols++;
                pr->cols[col].name = "";
                int rc = sql__expr_compile(s->arena, e, &scope,
                                           &pr->exprs[col],
                                           &pr->cols[col].type, &err);
                if (rc == SQL_EQUERY) {
                    sql__err_clause(&err, "order clause");
                    s->err = err;
                }
                if (rc != 0)
                    return rc;
            }
            so->sort_cols[k] = (uint32_t)col;
            so->sort_desc[k] = o->desc;
        }
        pr->nvisible = ncols;
        pr->info = "";
        so->kind = PL_SORT;
        so->child = pr;
        so->nsort = norder;
        so->ncols = pr->ncols;
        so->nvisible = ncols;
        so->cols = pr->cols;
        so->info = "";
        top = so;
    }
    if (sel->limit) {
        struct plan *l = top->kind == PL_SORT ? top
                                              : sql__arena_zalloc(s->arena,
                                                                  sizeof(*l));
        if (!l)
            return -ENOMEM;
        struct sql_expr *lim = NULL, *off = NULL;
        int rc = sql__plan_limit(s, sel->limit, &lim);
        if (rc == 0)
            rc = sql__plan_limit(s, sel->offset, &off);
        if (rc != 0)
            return rc;
        if (l == top) {
            l->kind = PL_TOPN; /* Sort + Limit */
        } else {
            l->kind = PL_LIMIT;
            l->child = top;
            l->ncols = l->nvisible = ncols;
            l->cols = top->cols;
        }
        l->limit = lim;
        l->offset = off;
        top = l;
    }
    if (top->kind == PL_SORT || top->kind == PL_TOPN) {
        /* EXPLAIN's keys: the result columns' names, or their number. */
        struct sql__buf b = {0};
        for (size_t k = 0; k < top->nsort; k++) {
            uint32_t c = top->sort_cols[k];
            const char *nm = c < ncols ? p->cols[c].name : "expr";
            sql__buf_put(&b, nm, strlen(nm));
            if (top->sort_desc[k])
                sql__buf_put(&b, ":desc", 5);
            if (k + 1 < top->nsort)
                sql__buf_put(&b, ", ", 2);
        }
        top->info = b.p ? sql__arena_strndup(s->arena, (const char *)b.p,
                                             b.len)
                        : "";
        sql__buf_free(&b);
        if (!top->info)
            return -ENOMEM;
    }
    *pp = top;
    return 0;
}

int sql__plan_setop(struct sql_session *s, const struct ast_select *sel,
                    const struct sql_expr_scope *parent,
                    struct sql_colref **caps, size_t *ncaps,
                    struct plan **out)
{
    struct leaves lv = {0};
    struct capset cs = {0};
    struct ast_select top = *sel;
    top.order = NULL; /* the tree itself; ORDER BY / LIMIT go above */
    top.limit = top.offset = NULL;
    top.lock = AST_LOCK_NONE;
    struct plan *p;
    int rc = build(s, &top, parent, &lv, &cs, &p);
    if (rc != 0)
        return rc;
    size_t ncols = lv.p[0]->nvisible;
    struct plan_col *cols = sql__arena_zalloc(s->arena, sizeof(*cols) * ncols);
    struct sql_expr **ex = sql__arena_zalloc(s->arena, sizeof(*ex) * ncols);
    if (!cols || !ex)
        return -ENOMEM;
    for (size_t i = 0; i < ncols; i++) {
        if ((rc = merge_column(s, &lv, i, &ex[i])) != 0)
            return rc;
        cols[i].name = lv.p[0]->cols[i].name; /* the first block's names */
        cols[i].org_name = cols[i].table = cols[i].org_table = "";
        cols[i].db = "";
        cols[i].type = ex[i]->type;
    }
    set_cols(p, cols, ex, ncols);
    if ((rc = order_limit(s, sel, &p)) != 0)
        return rc;
    if (sel->lock != AST_LOCK_NONE)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'FOR "
                         "UPDATE / FOR SHARE on a set operation'");
    if (caps) {
        *caps = cs.c;
        *ncaps = cs.n;
    }
    *out = p;
    return 0;
}

/* ---- execution ------------------------------------------------------------- */

/* One distinct key: a row's converted values in key form. */
struct entry
{
    const uint8_t *key; /* key bytes (in the node's keep arena) */
    size_t klen;        /* their length */
    uint64_t hash;      /* of the key */
    uint64_t right;     /* INTERSECT/EXCEPT: the right input's rows left */
    bool emitted;       /* DISTINCT: sent once already */
};

struct sql_setop_state
{
    struct entry *tab;   /* open addressing, power of two slots */
    size_t nslots;       /* slots */
    size_t used;         /* filled */
    int phase;           /* 0: left input, 1: right (UNION), 2: done */
    struct sql_datum *conv; /* one converted row */
};

static int tab_grow(struct sql_xnode *n, struct sql_setop_state *st)
{
    size_t ns = st->nslots ? st->nslots * 2 : 64;
    struct entry *t = sql__arena_zalloc(n->keep, sizeof(*t) * ns);
    if (!t)
        return -ENOMEM;
    for (size_t i = 0; i < st->nslots; i++) {
        struct entry *e = &st->tab[i];
        if (!e->key)
            continue;
        size_t j = (size_t)e->hash & (ns - 1);
        while (t[j].key)
            j = (j + 1) & (ns - 1);
        t[j] = *e;
    }
    st->tab = t;
    st->nslots = ns;
    return 0;
}

/* The entry of the key in n->kb, added (zeroed) when absent and add. */
static int tab_find(struct sql_xnode *n, struct sql_setop_state *st, bool add,
                    struct entry **out)
{
    const uint8_t *k = n->kb.p ? n->kb.p : (const uint8_t *)"";
    size_t kl = n->kb.len;
    uint64_t h = sql__xhash(k, kl);
    *out = NULL;
    if (st->nslots) {
        size_t j = (size_t)h & (st->nslots - 1);
        for (; st->tab[j].key; j = (j + 1) & (st->nslots - 1))
            if (st->tab[j].hash == h && st->tab[j].klen == kl &&
                memcmp(st->tab[j].key, k, kl) == 0) {
                *out = &st->tab[j];
                return 0;
            }
    }
    if (!add)
        return 0;
    if ((st->used + 1) * 2 > st->nslots && tab_grow(n, st) != 0)
        return -ENOMEM;
    uint8_t *kc = sql__arena_alloc(n->keep, kl ? kl : 1);
    if (!kc)
        return -ENOMEM;
    if (kl)
        memcpy(kc, k, kl);
    size_t j = (size_t)h & (st->nslots - 1);
    while (st->tab[j].key)
        j = (j + 1) & (st->nslots - 1);
    st->tab[j] = (struct entry){.key = kc, .klen = kl, .hash = h};
    st->used++;
    *out = &st->tab[j];
    return 0;
}

/* Convert row in (an input's, at least p->ncols wide) to the result's
 * columns in st->conv, and its key into n->kb when key. */
static int convert(struct sql_xctx *x, struct sql_xnode *n,
                   const struct sql_datum *in, bool key)
{
    const struct plan *p = n->p;
    struct sql_setop_state *st = n->so;
    n->kb.len = 0;
    for (size_t k = 0; k < p->ncols; k++) {
        st->conv[k] = in[k];
        int rc = sql__to_result(p->exprs[k], &x->ev, &st->conv[k]);
        if (rc == 0 && key)
            rc = sql__key_append(&n->kb, &st->conv[k], &p->cols[k].type);
        if (rc != 0)
            return sql__xerr(x, rc);
    }
    return 0;
}

/* The next chunk of input `right` (0 left, 1 right), outer values shifted
 * to that input's (a correlated set operation). */
static int input_next(struct sql_xctx *x, struct sql_xnode *n, int right,
                      struct sql_chunk **c)
{
    const struct sql_datum *outer = x->env.outer;
    size_t nouter = x->env.nouter;
    size_t off = right ? n->p->outer_off : 0;
    if (off > nouter)
        off = nouter;
    x->env.outer = outer ? outer + off : NULL;
    x->env.nouter = nouter - off;
    int rc = sql__exec_next(x, right ? n->right : n->child, c);
    x->env.outer = outer;
    x->env.nouter = nouter;
    x->ev.arena = n->arena;
    return rc;
}

/* INTERSECT / EXCEPT: count the right input's rows by key. */
static int consume_right(struct sql_xctx *x, struct sql_xnode *n)
{
    struct sql_setop_state *st = n->so;
    struct sql_chunk *c;
    int rc;
    while ((rc = input_next(x, n, 1, &c)) == 0 && c->n > 0) {
        for (size_t i = 0; i < c->n; i++) {
            struct entry *e;
            if ((rc = convert(x, n, sql__xrow(c, i), true)) != 0)
                return rc;
            if ((rc = tab_find(n, st, true, &e)) != 0)
                return sql__xerr(x, rc);
            e->right++;
        }
        sql__arena_reset(n->arena);
    }
    return rc;
}

/* Whether the converted row in st goes out (and the bookkeeping). */
static int keep_row(struct sql_xnode *n, bool *keep)
{
    const struct plan *p = n->p;
    struct sql_setop_state *st = n->so;
    struct entry *e;
    bool all = p->setop_all;
    *keep = false;
    if (p->setop == AST_SETOP_UNION && all) {
        *keep = true;
        return 0;
    }
    bool add = p->setop != AST_SETOP_INTERSECT && !all;
    int rc = tab_find(n, st, add, &e);
    if (rc == 0 && !e) /* a key the right input lacks */
        *keep = p->setop == AST_SETOP_EXCEPT;
    if (rc != 0 || !e)
        return rc;
    switch (p->setop) {
    case AST_SETOP_INTERSECT:
        if (all && e->right > 0) {
            e->right--;
            *keep = true;
        } else if (!all && e->right > 0 && !e->emitted) {
            e->emitted = true;
            *keep = true;
        }
        break;
    case AST_SETOP_EXCEPT:
        if (all)
            e->right > 0 ? (void)e->right-- : (void)(*keep = true);
        else if (e->right == 0 && !e->emitted)
            *keep = e->emitted = true;
        break;
    default: /* UNION DISTINCT */
        if (!e->emitted)
            *keep = e->emitted = true;
        break;
    }
    return 0;
}

int sql__xsetop_next(struct sql_xctx *x, struct sql_xnode *n, bool first)
{
    const struct plan *p = n->p;
    int rc;
    if (first) {
        n->so = sql__arena_zalloc(n->keep, sizeof(*n->so));
        if (!n->so || !(n->so->conv = sql__arena_alloc(
                            n->keep, sizeof(struct sql_datum) *
                                         (p->ncols ? p->ncols : 1))))
            return -ENOMEM;
        if (p->setop != AST_SETOP_UNION &&
            (rc = consume_right(x, n)) != 0)
            return rc; /* n->kb goes at close */
    }
    struct sql_setop_state *st = n->so;
    bool key = p->setop != AST_SETOP_UNION || !p->setop_all;
    rc = 0;
    while (n->out.n == 0 && st->phase < 2) {
        struct sql_chunk *c;
        if ((rc = input_next(x, n, st->phase, &c)) != 0)
            break;
        if (c->n == 0) {
            /* UNION reads the right input after the left; INTERSECT and
             * EXCEPT read it first (consume_right). */
            st->phase = st->phase == 0 && p->setop == AST_SETOP_UNION ? 1 : 2;
            continue;
        }
        if ((rc = sql__xchunk_room(n, c->n)) != 0)
            break;
        for (size_t i = 0; i < c->n && rc == 0; i++) {
            bool keep;
            if ((rc = convert(x, n, sql__xrow(c, i), key)) != 0)
                break;
            if ((rc = keep_row(n, &keep)) != 0) {
                rc = sql__xerr(x, rc);
                break;
            }
            if (!keep)
                continue;
            memcpy(sql__xrow(&n->out, n->out.n), st->conv,
                   sizeof(struct sql_datum) * p->ncols);
            n->out.handles[n->out.n++] = 0;
        }
    }
    if (st->phase == 2 && n->out.n == 0)
        n->done = true;
    return rc;
}

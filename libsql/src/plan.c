/* plan.c: the planner for single-table statements: the logical plan from
 * the parse tree, then the physical plan (access path, TopN), and EXPLAIN
 * (plan.h; DESIGN.md "Planner").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json_table.h"
#include "plan.h"
#include "sql_int.h"

#define MAX_RANGES 256 /* IN lists and their products beyond this scan */

static void *zalloc(struct sql_session *s, size_t n)
{
    return sql__arena_zalloc(s->arena, n ? n : 1);
}

const char *sql__plan_text(struct sql_session *s, const struct ast_expr *e)
{
    const char *t = sql__ast_print_expr(s->arena, e);
    return t ? t : "";
}

/* EXPLAIN's operator text, made only when EXPLAIN asks (s->plan_text):
 * printing the WHERE and the select list was 3% of a point select. */
static const char *info_text(struct sql_session *s, const struct ast_expr *e)
{
    return e && s->plan_text ? sql__plan_text(s, e) : "";
}

static struct plan *node(struct sql_session *s, int kind, struct plan *child)
{
    struct plan *p = zalloc(s, sizeof(*p));
    if (p) {
        p->kind = kind;
        p->child = child;
    }
    return p;
}

/* ---- name resolution -------------------------------------------------- */

static int own_column(struct plan_tscope *ts, const struct ast_expr *col,
                      struct sql_colref *out, struct sql_err *err);

/* A name the subquery's tables lack, from the enclosing query: outer
 * value i of each run (DESIGN.md "Subqueries"). */
static int parent_column(struct plan_tscope *ts, const struct ast_expr *col,
                         struct sql_colref *out, struct sql_err *err)
{
    const struct sql_expr_scope *p = ts->parent;
    struct sql_colref ref;
    int rc = p->column ? p->column(p->ctx, col, &ref, err) : SQL_ENOTFOUND;
    if (rc != 0)
        return rc;
    size_t i = 0;
    while (i < ts->ncaps && ts->caps[i].index != ref.index)
        i++;
    if (i == ts->ncaps) {
        if (ts->ncaps == ts->capcaps) {
            size_t cap = ts->capcaps ? ts->capcaps * 2 : 4;
            struct sql_colref *c = zalloc(ts->s, sizeof(*c) * cap);
            if (!c)
                return -ENOMEM;
            if (ts->ncaps)
                memcpy(c, ts->caps, sizeof(*c) * ts->ncaps);
            ts->caps = c;
            ts->capcaps = cap;
        }
        ts->caps[ts->ncaps++] = ref;
    }
    out->index = SQL_EXPR_OUTER + (uint32_t)i;
    out->type = ref.type;
    return 0;
}

int sql__tscope_column(void *ctx, const struct ast_expr *col,
                       struct sql_colref *out, struct sql_err *err)
{
    struct plan_tscope *ts = ctx;
    int rc = own_column(ts, col, out, err);
    if (rc == SQL_ENOTFOUND && ts->parent)
        rc = parent_column(ts, col, out, err);
    return rc;
}

int sql__tscope_outer_column(void *ctx, const struct ast_expr *col,
                             struct sql_colref *out, struct sql_err *err)
{
    struct plan_tscope *ts = ctx;
    return ts->parent ? parent_column(ts, col, out, err) : SQL_ENOTFOUND;
}

static int own_column(struct plan_tscope *ts, const struct ast_expr *col,
                      struct sql_colref *out, struct sql_err *err)
{
    (void)err;
    if (ts->from)
        return sql__from_column(ts, col, out, err);
    if (!ts->t)
        return SQL_ENOTFOUND;
    if (col->db && (!ts->db || strcmp(col->db, ts->db) != 0))
        return SQL_ENOTFOUND;
    if (col->table && strcmp(col->table, ts->alias) != 0)
        return SQL_ENOTFOUND;
    int ci = sql__table_col(ts->t, col->name);
    if (ci < 0)
        return SQL_ENOTFOUND;
    out->index = ts->offset + (uint32_t)ci;
    out->type = ts->t->cols[ci].type;
    return 0;
}

static int copy_err(struct sql_session *s, int rc, const struct sql_err *e)
{
    if (rc == SQL_EQUERY)
        s->err = *e;
    return rc;
}

static bool has_tables(const struct plan_tscope *ts)
{
    return ts->t || ts->from;
}

/* The row column an unqualified name resolves to, or -1 (none, or
 * ambiguous). */
static int unq_col(const struct plan_tscope *ts, const char *name)
{
    struct ast_expr c = {.kind = AST_E_COLUMN, .name = name, .height = 1};
    struct sql_colref ref;
    struct sql_err err;
    if (!has_tables(ts) ||
        own_column((struct plan_tscope *)ts, &c, &ref, &err) != 0)
        return -1;
    return (int)ref.index;
}

int sql__plan_compile(struct sql_session *s, struct plan_tscope *ts,
                      const struct ast_expr *e, struct sql_expr **out,
                      struct sql_ftype *type)
{
    struct sql_expr_scope sc = {.ctx = ts, .column = sql__tscope_column};
    struct sql_err err = {0};
    if (ts->subqueries) {
        sc.subquery = sql__subquery_run;
        sc.sub_ctx = s;
    }
    struct sql_ftype t;
    int rc = sql__expr_compile(s->arena, e, &sc, out, type ? type : &t, &err);
    return copy_err(s, rc, &err);
}

/* An expression that is the same for every row: a literal, a parameter,
 * or a constant expression of them. Compiled into *out. */
static bool const_expr(struct sql_session *s, const struct ast_expr *e,
                       struct sql_expr **out)
{
    struct sql_expr_scope sc = {0};
    struct sql_err err;
    struct sql_ftype t;
    if (sql__expr_compile(s->arena, e, &sc, out, &t, &err) != 0)
        return false;
    if (e->kind == AST_E_PARAM)
        return true;
    if (e->kind == AST_E_UNARY && e->a && e->a->kind == AST_E_PARAM)
        return true;
    return sql__expr_is_const(*out);
}

/* ---- WHERE -> conjuncts -------------------------------------------------- */

static size_t count_conj(const struct ast_expr *e)
{
    if (!e)
        return 0;
    if (e->kind == AST_E_LOGIC && e->op == AST_OP_AND) {
        size_t n = 0;
        for (const struct ast_expr *a = e->args; a; a = a->next)
            n += count_conj(a);
        return n;
    }
    return 1;
}

static void fill_conj(const struct ast_expr *e, const struct ast_expr **out,
                      size_t *n)
{
    if (!e)
        return;
    if (e->kind == AST_E_LOGIC && e->op == AST_OP_AND) {
        for (const struct ast_expr *a = e->args; a; a = a->next)
            fill_conj(a, out, n);
        return;
    }
    out[(*n)++] = e;
}

/* ---- the table ------------------------------------------------------------ */

static int resolve_from(struct sql_session *s, const struct ast_table_ref *f,
                        struct plan_tscope *ts)
{
    memset(ts, 0, sizeof(*ts));
    ts->s = s;
    if (!f)
        return 0;
    if (f->kind == AST_T_JOIN || f->next)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'joins'");
    if (f->kind == AST_T_DERIVED)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'derived "
                         "tables'");
    struct sql_tableinfo *t;
    if (sql__is_schema(f->db ? f->db : s->db)) {
        if (!(t = sql__is_table(s, f->name)))
            return sql__serr(s, 1109, "42S02",
                             "Unknown table '%.64s' in information_schema",
                             f->name);
        ts->t = t;
        ts->alias = f->alias ? f->alias : f->name;
        ts->db = "information_schema";
        return 0;
    }
    int rc = sql__sess_table(s, f->db, f->name, &t);
    if (rc != 0)
        return rc;
    ts->t = t;
    ts->alias = f->alias ? f->alias : f->name;
    for (size_t i = 0; i < s->srv->cat->ndbs; i++)
        if (s->srv->cat->dbs[i]->id == t->db_id)
            ts->db = s->srv->cat->dbs[i]->name;
    return 0;
}

static void table_col(struct plan_col *pc, const struct plan_tscope *ts,
                      uint32_t ci, const char *name)
{
    if (ts->from) {
        *pc = ts->from->cols[ci];
        if (name)
            pc->name = name;
        return;
    }
    pc->name = name ? name : ts->t->cols[ci].name;
    pc->org_name = ts->t->cols[ci].name;
    pc->table = ts->alias;
    pc->org_table = ts->t->name;
    pc->db = ts->db ? ts->db : "";
    pc->type = ts->t->cols[ci].type;
}

/* The data source: every column of the table, the conjuncts kept. */
static int source(struct sql_session *s, struct plan_tscope *ts,
                  const struct ast_table_ref *f, const struct ast_expr *where,
                  struct plan **out)
{
    struct plan *p = node(s, ts->t ? PL_SOURCE : PL_DUAL, NULL);
    if (!p)
        return -ENOMEM;
    if (!ts->t) {
        if (where) {
            /* SELECT ... WHERE without FROM: a filter over the one row. */
            struct plan *fl = node(s, PL_FILTER, p);
            if (!fl)
                return -ENOMEM;
            int rc = sql__plan_compile(s, ts, where, &fl->cond, NULL);
            if (rc != 0) {
                sql__err_clause(&s->err, "where clause");
                return rc;
            }
            p = fl;
        }
        *out = p;
        return 0;
    }
    p->table = ts->t;
    p->alias = ts->alias;
    p->scope = ts;
    p->hints = f ? f->hints : NULL;
    p->ncols = p->nvisible = ts->t->ncols;
    p->cols = zalloc(s, sizeof(*p->cols) * p->ncols);
    p->nconj = count_conj(where);
    p->conj = zalloc(s, sizeof(*p->conj) * p->nconj);
    if (!p->cols || !p->conj)
        return -ENOMEM;
    for (uint32_t i = 0; i < ts->t->ncols; i++)
        table_col(&p->cols[i], ts, i, NULL);
    size_t n = 0;
    fill_conj(where, p->conj, &n);
    p->info = info_text(s, where);
    if (where) {
        int rc = sql__plan_compile(s, ts, where, &p->cond, NULL);
        if (rc != 0) {
            sql__err_clause(&s->err, "where clause");
            return rc;
        }
    }
    *out = p;
    return 0;
}

/* ---- aggregation --------------------------------------------------------- */

bool sql__plan_has_agg(const struct ast_expr *e)
{
    if (!e)
        return false;
    if (e->kind == AST_E_FUNC && e->name && sql__agg_is_aggregate(e->name) &&
        !e->over)
        return true;
    if (e->kind == AST_E_SUBQUERY || e->kind == AST_E_EXISTS)
        return false;
    if (sql__plan_has_agg(e->a) || sql__plan_has_agg(e->b) ||
        sql__plan_has_agg(e->c))
        return true;
    for (const struct ast_expr *x = e->args; x; x = x->next)
        if (sql__plan_has_agg(x))
            return true;
    for (const struct ast_when *w = e->whens; w; w = w->next)
        if (sql__plan_has_agg(w->cond) || sql__plan_has_agg(w->then))
            return true;
    return false;
}

struct agg_scope
{
    struct sql_session *s;       /* errors, arena */
    struct plan_tscope *ts;      /* the input's columns */
    struct plan *agg;            /* the aggregation being built */
    const struct ast_expr **gexpr; /* group key expressions */
    const char **gtext;          /* their canonical text */
    int *gcol;                   /* table column a key is, or -1 */
    const char **slot_text;      /* text of each aggregate slot */
    size_t cap;                  /* allocated slots */
    bool strict_group;           /* ONLY_FULL_GROUP_BY and not all of the
                                    primary key is grouped */
    bool *pk_grouped;            /* joins: per table, its whole primary
                                    key is grouped (its columns depend on
                                    the keys) */
    const char *clause;          /* for 1055: "SELECT list", ... */
    int item;                    /* 1-based item number for 1055 */
};

static int agg_slot(struct agg_scope *as, struct sql_agg *g, uint32_t first,
                    const char *text, uint32_t *slot)
{
    struct plan *p = as->agg;
    for (size_t i = 0; i < p->naggs; i++)
        if (as->slot_text[i] && text && strcmp(as->slot_text[i], text) == 0) {
            *slot = (uint32_t)i;
            return 0;
        }
    if (p->naggs == as->cap) {
        size_t cap = as->cap ? as->cap * 2 : 8;
        struct sql_agg **a = zalloc(as->s, sizeof(*a) * cap);
        uint32_t *f = zalloc(as->s, sizeof(*f) * cap);
        const char **t = zalloc(as->s, sizeof(*t) * cap);
        if (!a || !f || !t)
            return -ENOMEM;
        if (p->naggs) {
            memcpy(a, p->aggs, sizeof(*a) * p->naggs);
            memcpy(f, p->firsts, sizeof(*f) * p->naggs);
            memcpy(t, as->slot_text, sizeof(*t) * p->naggs);
        }
        p->aggs = a;
        p->firsts = f;
        as->slot_text = t;
        as->cap = cap;
    }
    p->aggs[p->naggs] = g;
    p->firsts[p->naggs] = first;
    as->slot_text[p->naggs] = text;
    *slot = (uint32_t)p->naggs++;
    return 0;
}

static int agg_subtree(void *ctx, const struct ast_expr *e,
                       struct sql_colref *out, struct sql_err *err)
{
    struct agg_scope *as = ctx;
    struct plan *p = as->agg;
    bool is_agg = e->kind == AST_E_FUNC && e->name &&
                  sql__agg_is_aggregate(e->name) && !e->over;
    if (!is_agg && (e->kind == AST_E_INT || e->kind == AST_E_STRING ||
                    e->kind == AST_E_NULL || e->kind == AST_E_PARAM))
        return SQL_ENOTFOUND;
    const char *text = sql__plan_text(as->s, e);
    for (size_t i = 0; i < p->nkeys; i++)
        if (strcmp(as->gtext[i], text) == 0) {
            out->index = (uint32_t)i;
            sql__expr_compile(as->s->arena, as->gexpr[i],
                              &(struct sql_expr_scope){
                                  .ctx = as->ts,
                                  .column = sql__tscope_column,
                                  .subquery = sql__subquery_run,
                                  .sub_ctx = as->s},
                              &(struct sql_expr *){NULL}, &out->type, err);
            return 0;
        }
    if (!is_agg)
        return SQL_ENOTFOUND;
    struct sql_expr_scope in = {.ctx = as->ts, .column = sql__tscope_column,
                                .subquery = sql__subquery_run,
                                .sub_ctx = as->s};
    struct sql_agg *g;
    struct sql_ftype type;
    int rc = sql__agg_compile(as->s->arena, e, &in, &g, &type, err);
    if (rc != 0)
        return rc;
    uint32_t slot;
    rc = agg_slot(as, g, 0, text, &slot);
    if (rc != 0)
        return rc;
    out->index = (uint32_t)p->nkeys + slot;
    out->type = type;
    return 0;
}

static int agg_column(void *ctx, const struct ast_expr *col,
                      struct sql_colref *out, struct sql_err *err)
{
    struct agg_scope *as = ctx;
    struct sql_colref in;
    int rc = sql__tscope_column(as->ts, col, &in, err);
    if (rc != 0)
        return rc;
    if (in.index >= SQL_EXPR_OUTER) {
        *out = in; /* the enclosing query's: one value per run */
        return 0;
    }
    for (size_t i = 0; i < as->agg->nkeys; i++)
        if (as->gcol[i] == (int)in.index) {
            out->index = (uint32_t)i;
            out->type = in.type;
            return 0;
        }
    const struct plan_tscope *ts = as->ts;
    const struct sql_tableinfo *ct = ts->t;
    const char *cdb = ts->db;
    uint32_t cci = in.index;
    bool strict = as->strict_group;
    if (ts->from) {
        const struct plan_ftable *ft = sql__from_col(ts->from, in.index, &cci);
        ct = ft->t;
        cdb = ft->db;
        if (as->pk_grouped && as->pk_grouped[ft - ts->from->tabs])
            strict = false;
    }
    if (strict) {
        if (as->agg->scalar)
            return sql__err(err, 1140, "42000",
                            "In aggregated query without GROUP BY, "
                            "expression #%d of %s contains nonaggregated "
                            "column '%s.%s.%s'; this is incompatible with "
                            "sql_mode=only_full_group_by",
                            as->item, as->clause, cdb ? cdb : "",
                            ct->name, ct->cols[cci].name);
        return sql__err(err, 1055, "42000",
                        "Expression #%d of %s is not in GROUP BY clause "
                        "and contains nonaggregated column '%s.%s.%s' which "
                        "is not functionally dependent on columns in GROUP "
                        "BY clause; this is incompatible with "
                        "sql_mode=only_full_group_by",
                        as->item, as->clause, cdb ? cdb : "",
                        ct->name, ct->cols[cci].name);
    }
    char text[32];
    snprintf(text, sizeof(text), "#first %u", (unsigned)in.index);
    const char *t = sql__arena_strndup(as->s->arena, text, strlen(text));
    if (!t)
        return -ENOMEM;
    uint32_t slot;
    rc = agg_slot(as, NULL, in.index, t, &slot);
    if (rc != 0)
        return rc;
    out->index = (uint32_t)as->agg->nkeys + slot;
    out->type = in.type;
    return 0;
}

/* ---- select items --------------------------------------------------------- */

struct item
{
    const struct ast_expr *expr; /* the value (stars expanded) */
    const char *name;            /* column name shown */
    int table_col;               /* a plain table column, or -1 */
};

static int expand_items(struct sql_session *s, const struct ast_select *sel,
                        const struct plan_tscope *ts, struct item **out,
                        size_t *n)
{
    size_t cap = 0;
    for (const struct ast_item *it = sel->items; it; it = it->next)
        cap += (it->expr->kind == AST_E_STAR ||
                (it->expr->kind == AST_E_COLUMN && !it->expr->name))
                   ? (ts->from ? ts->from->width : ts->t ? ts->t->ncols : 0)
                   : 1;
    struct item *items = zalloc(s, sizeof(*items) * (cap + 1));
    if (!items)
        return -ENOMEM;
    size_t k = 0;
    for (const struct ast_item *it = sel->items; it; it = it->next) {
        const struct ast_expr *e = it->expr;
        bool star = e->kind == AST_E_STAR ||
                    (e->kind == AST_E_COLUMN && !e->name);
        if (star && ts->from) {
            const struct plan_from *f = ts->from;
            bool any = false, bare = !e->table;
            for (size_t ti = 0; ti < f->ntabs && !bare; ti++) {
                const struct plan_ftable *ft = &f->tabs[ti];
                if (strcmp(e->table, ft->alias) != 0 ||
                    (e->db && (!ft->db || strcmp(e->db, ft->db) != 0)))
                    continue;
                any = true;
                for (uint32_t i = 0; i < ft->t->ncols; i++) {
                    if (sql__json_table_doc_col(ft->t, i))
                        continue; /* lateral JSON_TABLE's document */
                    items[k].table_col = (int)(ft->offset + i);
                    items[k++].name = ft->t->cols[i].name;
                }
            }
            if (bare) {
                any = true;
                for (size_t i = 0; i < f->nstar; i++) {
                    items[k].table_col = (int)f->star[i];
                    items[k++].name = f->cols[f->star[i]].name;
                }
            }
            if (!any)
                return sql__serr(s, 1051, "42S02", "Unknown table '%.64s'",
                                 e->table);
            continue;
        }
        if (star) {
            if (!ts->t)
                return sql__serr(s, 1096, "HY000", "No tables used");
            if (e->table && strcmp(e->table, ts->alias) != 0)
                return sql__serr(s, 1051, "42S02", "Unknown table '%.64s'",
                                 e->table);
            for (uint32_t i = 0; i < ts->t->ncols; i++) {
                struct ast_expr *c = zalloc(s, sizeof(*c));
                if (!c)
                    return -ENOMEM;
                c->kind = AST_E_COLUMN;
                c->name = ts->t->cols[i].name;
                c->height = 1;
                items[k].expr = c;
                items[k].name = ts->t->cols[i].name;
                items[k++].table_col = (int)i;
            }
            continue;
        }
        items[k].expr = e;
        items[k].table_col = -1;
        if (it->alias)
            items[k].name = it->alias;
        else if (e->kind == AST_E_COLUMN)
            items[k].name = e->name;
        else if (e->kind == AST_E_STRING && !e->name && !e->charset)
            items[k].name = sql__arena_strndup(s->arena, e->str.s, e->str.n);
        else
            items[k].name =
                sql__arena_strndup(s->arena, it->text, it->text_len);
        if (!items[k].name)
            return -ENOMEM;
        if (e->kind == AST_E_COLUMN && ts->from) {
            struct sql_colref ref;
            struct sql_err err;
            /* A table column of this query (not the enclosing one's). */
            if (sql__from_column(ts, e, &ref, &err) == 0)
                items[k].table_col = (int)ref.index;
        } else if (e->kind == AST_E_COLUMN && ts->t) {
            int ci = sql__table_col(ts->t, e->name);
            if (ci >= 0 && (!e->table || strcmp(e->table, ts->alias) == 0))
                items[k].table_col = ci;
        }
        k++;
    }
    /* Stars over a join: each column qualified by its table (another
     * table may have a column of the same name). */
    for (size_t i = 0; ts->from && i < k; i++) {
        if (items[i].expr)
            continue;
        uint32_t ci;
        const struct plan_ftable *ft =
            sql__from_col(ts->from, (uint32_t)items[i].table_col, &ci);
        struct ast_expr *c = zalloc(s, sizeof(*c));
        if (!c)
            return -ENOMEM;
        c->kind = AST_E_COLUMN;
        c->table = ft->alias;
        c->name = ft->t->cols[ci].name;
        c->height = 1;
        items[i].expr = c;
    }
    *out = items;
    *n = k;
    return 0;
}

/* An ORDER BY / GROUP BY key that names a select item: by position or by
 * alias. NULL when it does not. */
static const struct item *item_ref(const struct ast_expr *e,
                                   const struct item *items, size_t n,
                                   const struct plan_tscope *ts, bool *bad)
{
    *bad = false;
    if (e->kind == AST_E_INT && !e->is_unsigned && e->ival < 0)
        return NULL; /* -1 is a negation folded by the parser: MySQL
                        sorts by it as an expression, not a position */
    if (e->kind == AST_E_INT) {
        if (e->ival < 1 || (size_t)e->ival > n) {
            *bad = true;
            return NULL;
        }
        return &items[e->ival - 1];
    }
    if (e->kind == AST_E_COLUMN && !e->table && e->name) {
        for (size_t i = 0; i < n; i++)
            if (items[i].name && strcasecmp(items[i].name, e->name) == 0 &&
                (items[i].table_col < 0 || unq_col(ts, e->name) < 0 ||
                 items[i].table_col == unq_col(ts, e->name)))
                return &items[i];
    }
    return NULL;
}

/* HAVING may name select items by alias: substitute their expressions. */
static const struct ast_expr *subst_alias(struct sql_session *s,
                                          const struct ast_expr *e,
                                          const struct item *items, size_t n,
                                          const struct plan_tscope *ts)
{
    if (!e)
        return NULL;
    if (e->kind == AST_E_COLUMN && !e->table && e->name &&
        unq_col(ts, e->name) < 0) {
        for (size_t i = 0; i < n; i++)
            if (items[i].name && strcasecmp(items[i].name, e->name) == 0)
                return items[i].expr;
        return e;
    }
    struct ast_expr *c = sql__arena_alloc(s->arena, sizeof(*c));
    if (!c)
        return e;
    *c = *e;
    c->a = (struct ast_expr *)subst_alias(s, e->a, items, n, ts);
    c->b = (struct ast_expr *)subst_alias(s, e->b, items, n, ts);
    c->c = (struct ast_expr *)subst_alias(s, e->c, items, n, ts);
    struct ast_expr **tail = &c->args;
    *tail = NULL;
    for (const struct ast_expr *a = e->args; a; a = a->next) {
        const struct ast_expr *x = subst_alias(s, a, items, n, ts);
        struct ast_expr *cp = sql__arena_alloc(s->arena, sizeof(*cp));
        if (!cp)
            return e;
        *cp = *x;
        cp->next = NULL;
        *tail = cp;
        tail = &cp->next;
    }
    return c;
}

/* ---- SELECT ------------------------------------------------------------------ */

/* Whether every column of t's primary key (t's columns from row column
 * off) is among the group keys gcol[0..ng). */
static bool pk_grouped(const struct sql_tableinfo *t, uint32_t off,
                       const int *gcol, size_t ng)
{
    const struct sql_idxinfo *pk = NULL;
    for (uint32_t i = 0; i < t->nidx; i++)
        if (t->idx[i].primary)
            pk = &t->idx[i];
    bool all = pk != NULL;
    for (uint32_t k = 0; pk && k < pk->ncols; k++) {
        bool found = false;
        for (size_t i = 0; i < ng; i++)
            found = found || gcol[i] == (int)(off + pk->cols[k]);
        all = all && found;
    }
    return all;
}

/* @@name's result type: numeric variables are BIGINT (UNSIGNED), as
 * MySQL sends them; the others strings. */
static void sysvar_type(const char *name, struct sql_ftype *t)
{
    int i = sql__sysvar_find(name);
    bool num = strcasecmp(name, "last_insert_id") == 0 ||
               strcasecmp(name, "identity") == 0 ||
               strcasecmp(name, "warning_count") == 0 ||
               strcasecmp(name, "error_count") == 0 ||
               strcasecmp(name, "last_plan_from_cache") == 0;
    if (i >= 0) {
        int kind = sql__sysvar_def((size_t)i)->kind;
        num = kind == SYSVAR_BOOL || kind == SYSVAR_UINT;
    }
    if (!num)
        return;
    memset(t, 0, sizeof(*t));
    t->tp = SQL_TYPE_LONGLONG;
    t->len = 21;
    t->flags = SQL_COLFLAG_NUM | SQL_COLFLAG_UNSIGNED;
    t->coll = SQL_COLL_BINARY;
}

static const char *order_text(struct sql_session *s, const struct ast_order *o)
{
    struct sql__buf b = {0};
    for (; o; o = o->next) {
        const char *t = sql__plan_text(s, o->expr);
        sql__buf_put(&b, t, strlen(t));
        if (o->desc)
            sql__buf_put(&b, ":desc", 5);
        if (o->next)
            sql__buf_put(&b, ", ", 2);
    }
    const char *r = b.p ? sql__arena_strndup(s->arena, (const char *)b.p,
                                             b.len)
                        : "";
    sql__buf_free(&b);
    return r ? r : "";
}

static const char *list_text(struct sql_session *s, const struct item *items,
                             size_t n)
{
    struct sql__buf b = {0};
    for (size_t i = 0; i < n; i++) {
        const char *t = sql__plan_text(s, items[i].expr);
        sql__buf_put(&b, t, strlen(t));
        if (i + 1 < n)
            sql__buf_put(&b, ", ", 2);
    }
    const char *r = b.p ? sql__arena_strndup(s->arena, (const char *)b.p,
                                             b.len)
                        : "";
    sql__buf_free(&b);
    return r ? r : "";
}

static int compile_limit(struct sql_session *s, const struct ast_expr *e,
                         struct sql_expr **out)
{
    if (!e)
        return 0;
    if (!const_expr(s, e, out))
        return sql__serr(s, 1210, "HY000",
                         "Incorrect arguments to LIMIT");
    return 0;
}

int sql__plan_limit(struct sql_session *s, const struct ast_expr *e,
                    struct sql_expr **out)
{
    return compile_limit(s, e, out);
}

int sql__plan_select(struct sql_session *s, const struct ast_select *sel,
                     struct plan **out)
{
    return sql__plan_select_in(s, sel, NULL, NULL, NULL, out);
}

int sql__plan_select_in(struct sql_session *s, const struct ast_select *sel,
                        const struct sql_expr_scope *parent,
                        struct sql_colref **caps, size_t *ncaps,
                        struct plan **out)
{
    if (sel->with)
        return sql__plan_with(s, sel, parent, caps, ncaps, out);
    if (sel->kind == AST_SEL_UNION)
        return sql__plan_setop(s, sel, parent, caps, ncaps, out);
    if (sel->lock_wait == AST_LOCK_SKIP_LOCKED)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'SKIP "
                         "LOCKED'");
    struct plan_tscope *ts = zalloc(s, sizeof(*ts));
    if (!ts)
        return -ENOMEM;
    /* WHERE's [NOT] EXISTS and IN subqueries over tables become semi- and
     * anti-joins (plan_join.c): such a query takes the join path even
     * with one table. */
    size_t nw = count_conj(sel->where), nsemi = 0;
    const struct ast_expr **wc = zalloc(s, sizeof(*wc) * (nw + 1));
    if (!wc)
        return -ENOMEM;
    size_t k0 = 0;
    fill_conj(sel->where, wc, &k0);
    for (size_t i = 0; i < nw && sel->from; i++)
        if (sql__plan_semi_ok(wc[i]))
            wc[nsemi++] = wc[i];
    bool join = sel->from && (sel->from->kind != AST_T_TABLE || nsemi > 0 ||
                              sql__query_named(s, sel->from));
    s->view_where = join && sel->from->kind == AST_T_TABLE ? sel->where
                                                             : NULL;
    int rc = join ? sql__plan_from(s, sel->from, ts)
                  : resolve_from(s, sel->from, ts);
    s->view_where = NULL;
    ts->select = join; /* its index scans may read the index alone */
    for (size_t i = 0; rc == 0 && i < nsemi; i++)
        rc = sql__plan_add_semi(s, ts, wc[i]);
    if (rc != 0)
        return rc;
    ts->subqueries = true;
    ts->parent = parent;
    struct item *items = NULL;
    size_t nitems = 0;
    if ((rc = expand_items(s, sel, ts, &items, &nitems)) != 0)
        return rc;
    struct plan *p;
    if (join && sel->where && sql__plan_has_agg(sel->where))
        return sql__serr(s, 1111, "HY000", "Invalid use of group function");
    if (join)
        rc = sql__plan_joins(s, ts, sel->where, sel->lock == AST_LOCK_UPDATE,
                             &p);
    else
        rc = source(s, ts, sel->from, sel->where, &p);
    if (rc != 0)
        return rc;
    if (p->kind == PL_SOURCE)
        p->lock = sel->lock == AST_LOCK_UPDATE && !sql__is_virtual(ts->t);

    /* Aggregation: GROUP BY, or an aggregate anywhere above WHERE. */
    bool agg = sel->group != NULL || sql__plan_has_agg(sel->having);
    for (size_t i = 0; i < nitems && !agg; i++)
        agg = sql__plan_has_agg(items[i].expr);
    for (const struct ast_order *o = sel->order; o && !agg; o = o->next)
        agg = sql__plan_has_agg(o->expr);
    if (sel->where && sql__plan_has_agg(sel->where))
        return sql__serr(s, 1111, "HY000", "Invalid use of group function");
    struct agg_scope *as = NULL;
    struct sql_expr_scope scope = {.ctx = ts, .column = sql__tscope_column,
                                   .subquery = sql__subquery_run,
                                   .sub_ctx = s};
    if (agg) {
        struct plan *g = node(s, PL_AGG, p);
        as = zalloc(s, sizeof(*as));
        if (!g || !as)
            return -ENOMEM;
        as->s = s;
        as->ts = ts;
        as->agg = g;
        size_t ng = 0;
        for (const struct ast_order *o = sel->group; o; o = o->next)
            ng++;
        g->scalar = ng == 0;
        g->keys = zalloc(s, sizeof(*g->keys) * ng);
        as->gexpr = zalloc(s, sizeof(*as->gexpr) * ng);
        as->gtext = zalloc(s, sizeof(*as->gtext) * ng);
        as->gcol = zalloc(s, sizeof(*as->gcol) * ng);
        if (!g->keys || !as->gexpr || !as->gtext || !as->gcol)
            return -ENOMEM;
        g->key_asts = as->gexpr; /* the coprocessor's (cop_agg.c) */
        for (const struct ast_order *o = sel->group; o; o = o->next) {
            bool bad;
            const struct item *it = item_ref(o->expr, items, nitems, ts, &bad);
            if (bad)
                return sql__serr(s, 1054, "42S22",
                                 "Unknown column '%lld' in 'group statement'",
                                 (long long)o->expr->ival);
            const struct ast_expr *e = it ? it->expr : o->expr;
            if (sql__plan_has_agg(e))
                return sql__serr(s, 1056, "42000",
                                 "Can't group on '%.64s'",
                                 it ? it->name : sql__plan_text(s, e));
            size_t k = g->nkeys++;
            as->gexpr[k] = e;
            as->gtext[k] = sql__plan_text(s, e);
            as->gcol[k] = -1;
            if (e->kind == AST_E_COLUMN) {
                struct sql_colref ref;
                struct sql_err err;
                if (sql__tscope_column(ts, e, &ref, &err) == 0)
                    as->gcol[k] = (int)ref.index;
            }
            if ((rc = sql__plan_compile(s, ts, e, &g->keys[k], NULL)) != 0) {
                sql__err_clause(&s->err, "group statement");
                return rc;
            }
        }
        /* ONLY_FULL_GROUP_BY, unless the whole primary key is grouped
         * (every column then depends on the keys). */
        as->strict_group =
            (sql__sess_sql_mode(s) & SQL_MODE_ONLY_FULL_GROUP_BY) != 0;
        if (ts->from && ng > 0) {
            const struct plan_from *f = ts->from;
            as->pk_grouped = zalloc(s, sizeof(bool) * f->ntabs);
            if (!as->pk_grouped)
                return -ENOMEM;
            for (size_t ti = 0; ti < f->ntabs; ti++)
                as->pk_grouped[ti] = pk_grouped(f->tabs[ti].t,
                                                f->tabs[ti].offset, as->gcol,
                                                ng);
        }
        if (ts->t && ng > 0 && pk_grouped(ts->t, 0, as->gcol, ng))
            as->strict_group = false;
        scope.ctx = as;
        scope.column = agg_column;
        scope.subtree = agg_subtree;
        scope.allow_aggregates = true;
        p = g;
    }
    /* HAVING */
    const struct ast_expr *having = NULL;
    if (sel->having)
        having = subst_alias(s, sel->having, items, nitems, ts);
    struct sql_expr *having_c = NULL;
    if (having) {
        if (!as) {
            /* HAVING without aggregation filters the rows like WHERE. */
            if ((rc = sql__plan_compile(s, ts, having, &having_c, NULL)) != 0)
                return rc;
        } else {
            struct sql_err err = {0};
            struct sql_ftype t;
            as->clause = "HAVING clause";
            as->item = 1;
            rc = sql__expr_compile(s->arena, having, &scope, &having_c, &t,
                                   &err);
            if (rc != 0) {
                sql__err_clause(&err, "having clause");
                return copy_err(s, rc, &err);
            }
        }
    }
    /* Window functions in the items or ORDER BY (window.c). */
    struct plan_wbuild *wb = NULL;
    if ((rc = sql__plan_window_begin(s, sel, &scope, &wb)) != 0)
        return rc;
    /* Projection: the items, then hidden ORDER BY keys. */
    size_t norder = 0;
    for (const struct ast_order *o = sel->order; o; o = o->next)
        norder++;
    struct plan *pr = node(s, PL_PROJECT, p);
    if (!pr)
        return -ENOMEM;
    pr->cols = zalloc(s, sizeof(*pr->cols) * (nitems + norder));
    pr->exprs = zalloc(s, sizeof(*pr->exprs) * (nitems + norder));
    if (!pr->cols || !pr->exprs)
        return -ENOMEM;
    for (size_t i = 0; i < nitems; i++) {
        struct sql_err err = {0};
        struct plan_col *pc = &pr->cols[i];
        if (as) {
            as->clause = "SELECT list";
            as->item = (int)i + 1;
        }
        rc = sql__expr_compile(s->arena, items[i].expr, &scope,
                               &pr->exprs[i], &pc->type, &err);
        if (rc != 0)
            return copy_err(s, rc, &err);
        if (items[i].expr->kind == AST_E_SYSVAR)
            sysvar_type(items[i].expr->name, &pc->type);
        if (items[i].table_col >= 0) {
            table_col(pc, ts, (uint32_t)items[i].table_col, items[i].name);
        } else {
            pc->name = items[i].name;
            pc->org_name = pc->table = pc->org_table = pc->db = "";
        }
    }
    pr->ncols = pr->nvisible = nitems;
    pr->info = s->plan_text ? list_text(s, items, nitems) : "";
    struct plan *sortp = NULL;
    if (norder) {
        sortp = node(s, PL_SORT, NULL);
        if (!sortp)
            return -ENOMEM;
        sortp->sort_cols = zalloc(s, sizeof(uint32_t) * norder);
        sortp->sort_desc = zalloc(s, sizeof(bool) * norder);
        if (!sortp->sort_cols || !sortp->sort_desc)
            return -ENOMEM;
        /* each key as written, for the coprocessor's top-N (cop_agg.c) */
        sortp->sort_asts = zalloc(s, sizeof(*sortp->sort_asts) * norder);
        size_t k = 0;
        for (const struct ast_order *o = sel->order; o; o = o->next, k++) {
            bool bad;
            const struct item *it = item_ref(o->expr, items, nitems, ts, &bad);
            if (bad)
                return sql__serr(s, 1054, "42S22",
                                 "Unknown column '%lld' in 'order clause'",
                                 (long long)o->expr->ival);
            size_t col = SIZE_MAX;
            if (it)
                col = (size_t)(it - items);
            else {
                const char *text = sql__plan_text(s, o->expr);
                for (size_t i = 0; i < nitems && col == SIZE_MAX; i++)
                    if (strcmp(sql__plan_text(s, items[i].expr), text) == 0)
                        col = i;
            }
            if (col == SIZE_MAX) {
                if (sel->distinct)
                    return sql__serr(s, 3065, "HY000",
                                     "Expression #%zu of ORDER BY clause is "
                                     "not in SELECT list, references column "
                                     "'%s' which is not in SELECT list; this "
                                     "is incompatible with DISTINCT",
                                     k + 1, sql__plan_text(s, o->expr));
                struct sql_err err = {0};
                col = pr->ncols++;
                if (as) {
                    as->clause = "ORDER BY clause";
                    as->item = (int)k + 1;
                }
                rc = sql__expr_compile(s->arena, o->expr, &scope,
                                       &pr->exprs[col], &pr->cols[col].type,
                                       &err);
                if (rc != 0) {
                    sql__err_clause(&err, "order clause");
                    return copy_err(s, rc, &err);
                }
                pr->cols[col].name = "";
            }
            sortp->sort_cols[k] = (uint32_t)col;
            sortp->sort_desc[k] = o->desc;
            if (sortp->sort_asts)
                sortp->sort_asts[k] = it ? it->expr : o->expr;
            if (norder == 1 && !as && ts->t && ts->t->handle_col >= 0 &&
                o->expr->kind == AST_E_COLUMN) {
                struct sql_colref ref;
                struct sql_err err;
                if (sql__tscope_column(ts, o->expr, &ref, &err) == 0 &&
                    (int)ref.index == ts->t->handle_col)
                    sortp->order_handle = o->desc ? 2 : 1;
            }
        }
        sortp->nsort = norder;
        sortp->info = s->plan_text ? order_text(s, sel->order) : "";
    }
    if (as) {
        struct plan *g = as->agg;
        g->ncols = g->nvisible = g->nkeys + g->naggs;
        g->cols = zalloc(s, sizeof(*g->cols) * g->ncols);
        if (!g->cols)
            return -ENOMEM;
        for (size_t i = 0; i < g->ncols; i++)
            g->cols[i].name = g->cols[i].org_name = g->cols[i].table =
                g->cols[i].org_table = g->cols[i].db = "";
        struct sql__buf b = {0};
        if (g->nkeys)
            sql__buf_put(&b, "group by:", 9);
        for (size_t i = 0; i < g->nkeys; i++) {
            sql__buf_put(&b, as->gtext[i], strlen(as->gtext[i]));
            if (i + 1 < g->nkeys)
                sql__buf_put(&b, ", ", 2);
        }
        bool first = true;
        for (size_t i = 0; i < g->naggs; i++) {
            if (!g->aggs[i])
                continue;
            sql__buf_put(&b, first ? (g->nkeys ? "; funcs:" : "funcs:")
                                   : ", ",
                         first ? (g->nkeys ? 8 : 6) : 2);
            first = false;
            sql__buf_put(&b, as->slot_text[i], strlen(as->slot_text[i]));
        }
        g->info = b.p ? sql__arena_strndup(s->arena, (const char *)b.p, b.len)
                      : "";
        sql__buf_free(&b);
    }
    if (having_c) {
        struct plan *f = node(s, PL_FILTER, pr->child);
        if (!f)
            return -ENOMEM;
        f->cond = having_c;
        f->info = info_text(s, having);
        f->ncols = f->nvisible = pr->child->ncols;
        f->cols = pr->child->cols;
        pr->child = f;
    }
    if (wb && (rc = sql__plan_window_end(s, wb, pr)) != 0)
        return rc;
    p = pr;
    if (sel->distinct) {
        struct plan *d = node(s, PL_DISTINCT, p);
        if (!d)
            return -ENOMEM;
        d->ncols = p->ncols;
        d->nvisible = nitems;
        d->cols = p->cols;
        p = d;
    }
    if (sortp) {
        sortp->child = p;
        sortp->ncols = p->ncols;
        sortp->nvisible = nitems;
        sortp->cols = p->cols;
        p = sortp;
    }
    if (sel->limit) {
        struct plan *l = node(s, PL_LIMIT, p);
        if (!l)
            return -ENOMEM;
        if ((rc = compile_limit(s, sel->limit, &l->limit)) != 0 ||
            (rc = compile_limit(s, sel->offset, &l->offset)) != 0)
            return rc;
        l->ncols = p->ncols;
        l->nvisible = nitems;
        l->cols = p->cols;
        p = l;
    }
    p->nvisible = nitems;
    rc = sql__plan_physical(s, &p);
    if (rc != 0)
        return rc;
    if (caps) {
        *caps = ts->caps;
        *ncaps = ts->ncaps;
    }
    *out = p;
    return 0;
}

int sql__plan_rows(struct sql_session *s, const struct sql_tableinfo *t,
                   const char *alias, const struct ast_expr *where,
                   const struct ast_order *order, const struct ast_expr *limit,
                   struct plan **out)
{
    struct plan_tscope *ts = zalloc(s, sizeof(*ts));
    if (!ts)
        return -ENOMEM;
    ts->s = s;
    ts->t = t;
    ts->alias = alias ? alias : t->name;
    ts->subqueries = true; /* WHERE and ORDER BY of UPDATE and DELETE */
    for (size_t i = 0; i < s->srv->cat->ndbs; i++)
        if (s->srv->cat->dbs[i]->id == t->db_id)
            ts->db = s->srv->cat->dbs[i]->name;
    struct plan *p;
    int rc = source(s, ts, NULL, where, &p);
    if (rc != 0)
        return rc;
    size_t norder = 0;
    for (const struct ast_order *o = order; o; o = o->next)
        norder++;
    if (norder) {
        /* Sort keys computed as hidden columns after the row. */
        struct plan *pr = node(s, PL_PROJECT, p);
        struct plan *so = node(s, PL_SORT, pr);
        if (!pr || !so)
            return -ENOMEM;
        pr->ncols = t->ncols + norder;
        pr->nvisible = t->ncols;
        pr->cols = zalloc(s, sizeof(*pr->cols) * pr->ncols);
        pr->exprs = zalloc(s, sizeof(*pr->exprs) * pr->ncols);
        so->sort_cols = zalloc(s, sizeof(uint32_t) * norder);
        so->sort_desc = zalloc(s, sizeof(bool) * norder);
        if (!pr->cols || !pr->exprs || !so->sort_cols || !so->sort_desc)
            return -ENOMEM;
        for (uint32_t i = 0; i < t->ncols; i++) {
            struct ast_expr c = {.kind = AST_E_COLUMN,
                                 .name = t->cols[i].name,
                                 .height = 1};
            table_col(&pr->cols[i], ts, i, NULL);
            if ((rc = sql__plan_compile(s, ts, &c, &pr->exprs[i], NULL)) != 0)
                return rc;
        }
        size_t k = 0;
        for (const struct ast_order *o = order; o; o = o->next, k++) {
            size_t col = t->ncols + k;
            pr->cols[col].name = "";
            if ((rc = sql__plan_compile(s, ts, o->expr, &pr->exprs[col],
                                        &pr->cols[col].type)) != 0)
                return rc;
            so->sort_cols[k] = (uint32_t)col;
            so->sort_desc[k] = o->desc;
        }
        so->nsort = norder;
        so->info = s->plan_text ? order_text(s, order) : "";
        so->ncols = pr->ncols;
        so->nvisible = t->ncols;
        so->cols = pr->cols;
        p = so;
    }
    if (limit) {
        struct plan *l = node(s, PL_LIMIT, p);
        if (!l)
            return -ENOMEM;
        if ((rc = compile_limit(s, limit, &l->limit)) != 0)
            return rc;
        l->ncols = p->ncols;
        l->nvisible = t->ncols;
        l->cols = p->cols;
        p = l;
    }
    rc = sql__plan_physical(s, &p);
    if (rc != 0)
        return rc;
    *out = p;
    return 0;
}

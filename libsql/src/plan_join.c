/* plan_join.c: FROM with several tables (DESIGN.md "Joins"): the joined
 * row and name resolution over it (USING/NATURAL merge columns), WHERE and
 * ON conjuncts pushed into each table's scan, the join order (greedy over
 * the join graph by estimated rows, never a cross product while the graph
 * is connected) and each step's algorithm: index join, hash join (build
 * on the smaller side) or nested loop.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json_table.h"
#include "plan.h"
#include "sql_int.h"
#include "stats.h"

#define MAX_TABLES 61        /* MySQL's limit (1116) */
#define BASE_ROWS 10000.0    /* a table's rows when nothing is known */
#define DP_MAX_ITEMS 10      /* join order by dynamic programming up to
                                this many items, greedy beyond */

enum jn_kind
{
    JN_LEAF,  /* one table */
    JN_INNER, /* comma, [INNER|CROSS] JOIN, STRAIGHT_JOIN */
    JN_LEFT,  /* LEFT JOIN, or RIGHT JOIN with its sides swapped */
};

struct plan_jnode
{
    int kind;                  /* enum jn_kind */
    int tab;                   /* JN_LEAF: table index */
    struct plan_jnode *l;      /* left input (JN_LEFT: the preserved side) */
    struct plan_jnode *r;      /* right input (JN_LEFT: NULL-supplying) */
    const struct ast_expr *on; /* ON, or USING/NATURAL's equalities */
    uint64_t mask;             /* tables below (bit per table index) */
    uint32_t *vis;             /* columns `*` shows, in order */
    size_t nvis;               /* their count */
};

static void *zalloc(struct sql_session *s, size_t n)
{
    return sql__arena_zalloc(s->arena, n ? n : 1);
}

/* ---- the FROM tree and names -------------------------------------------- */

const struct plan_ftable *sql__from_col(const struct plan_from *f, uint32_t i,
                                        uint32_t *ci)
{
    size_t lo = 0, hi = f->ntabs;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (f->tabs[mid].offset <= i)
            lo = mid;
        else
            hi = mid;
    }
    *ci = i - f->tabs[lo].offset;
    return &f->tabs[lo];
}

static int tab_of(const struct plan_from *f, uint32_t i)
{
    uint32_t ci;
    return (int)(sql__from_col(f, i, &ci) - f->tabs);
}

/* Whether table i is in resolution pass `pass`: a subquery's own tables
 * first (pass 0, when ts->inner), then the query's (pass 1). */
static bool in_pass(const struct plan_tscope *ts, size_t i, int pass)
{
    if (ts->allowed && !(ts->allowed >> i & 1))
        return false;
    if (pass == 0)
        return ts->inner >> i & 1;
    return ts->allowed || i < ts->from->nouter;
}

int sql__from_column(const struct plan_tscope *ts, const struct ast_expr *col,
                     struct sql_colref *out, struct sql_err *err)
{
    const struct plan_from *f = ts->from;
    int found = -1;
    for (int pass = ts->inner ? 0 : 1; pass < 2 && found < 0; pass++)
    for (size_t i = 0; i < f->ntabs; i++) {
        const struct plan_ftable *ft = &f->tabs[i];
        if (!in_pass(ts, i, pass))
            continue;
        if (col->db && (!ft->db || strcmp(col->db, ft->db) != 0))
            continue;
        if (col->table && strcmp(col->table, ft->alias) != 0)
            continue;
        int ci = sql__table_col(ft->t, col->name);
        if (ci < 0 || (!col->table && ft->hidden && ft->hidden[ci]))
            continue;
        if (found >= 0)
            return sql__err(err, 1052, "23000",
                            "Column '%s' in field list is ambiguous",
                            col->name);
        found = (int)(ft->offset + (uint32_t)ci);
        if (ft->used)
            ft->used[ci] = true;
        out->index = (uint32_t)found;
        out->type = ft->t->cols[ci].type;
        if (ft->nullable)
            out->type.flags &= (uint16_t)~SQL_COLFLAG_NOT_NULL;
    }
    return found >= 0 ? 0 : SQL_ENOTFOUND;
}

static struct ast_expr *colref(struct sql_session *s,
                               const struct plan_ftable *ft, uint32_t ci)
{
    struct ast_expr *c = zalloc(s, sizeof(*c));
    if (c) {
        c->kind = AST_E_COLUMN;
        c->table = ft->alias;
        c->name = ft->t->cols[ci].name;
        c->height = 1;
    }
    return c;
}

/* The AND or OR (op) of n operands (copies of the nodes, linked anew),
 * NULL for none. */
static const struct ast_expr *logic_of(struct sql_session *s, int op,
                                       const struct ast_expr **c, size_t n)
{
    if (n == 0)
        return NULL;
    if (n == 1)
        return c[0];
    struct ast_expr *a = zalloc(s, sizeof(*a));
    if (!a)
        return NULL;
    a->kind = AST_E_LOGIC;
    a->op = op;
    struct ast_expr **tail = &a->args;
    for (size_t i = 0; i < n; i++) {
        struct ast_expr *x = zalloc(s, sizeof(*x));
        if (!x)
            return NULL;
        *x = *c[i];
        x->next = NULL;
        *tail = x;
        tail = &x->next;
        if (x->height + 1 > a->height)
            a->height = x->height + 1;
    }
    return a;
}

/* The AND of n conjuncts, as logic_of. */
static const struct ast_expr *and_of(struct sql_session *s,
                                     const struct ast_expr **c, size_t n)
{
    return logic_of(s, AST_OP_AND, c, n);
}

/* The visible column of node n named name: its joined-row index, -1 when
 * none, -2 when more than one. */
static int vis_find(const struct plan_from *f, const struct plan_jnode *n,
                    const char *name)
{
    int found = -1;
    for (size_t i = 0; i < n->nvis; i++) {
        uint32_t ci;
        const struct plan_ftable *ft = sql__from_col(f, n->vis[i], &ci);
        if (strcasecmp(ft->t->cols[ci].name, name) == 0) {
            if (found >= 0)
                return -2;
            found = (int)n->vis[i];
        }
    }
    return found;
}

/* USING (names) or NATURAL: the equalities, the other side's columns
 * hidden, `*` order: the merged columns, then the rest of each side, the
 * preserved side first (as MySQL and MariaDB list them). */
static int merge_columns(struct sql_session *s, struct plan_from *f,
                         struct plan_jnode *j, const struct ast_table_ref *t,
                         bool right_dominant)
{
    const struct plan_jnode *l = right_dominant ? j->r : j->l;
    const struct plan_jnode *r = right_dominant ? j->l : j->r;
    /* l/r here: the sides as written. */
    size_t cap = l->nvis + r->nvis;
    uint32_t *lc = zalloc(s, sizeof(*lc) * (cap + 1));
    uint32_t *rc = zalloc(s, sizeof(*rc) * (cap + 1));
    const struct ast_expr **eq = zalloc(s, sizeof(*eq) * (cap + 1));
    j->vis = zalloc(s, sizeof(*j->vis) * (cap + 1));
    if (!lc || !rc || !eq || !j->vis)
        return -ENOMEM;
    size_t nc = 0;
    if (t->natural) {
        for (size_t i = 0; i < l->nvis; i++) {
            uint32_t ci;
            const struct plan_ftable *ft = sql__from_col(f, l->vis[i], &ci);
            const char *name = ft->t->cols[ci].name;
            int x = vis_find(f, r, name);
            if (x == -1)
                continue;
            if (x == -2 || vis_find(f, l, name) == -2)
                return sql__serr(s, 1052, "23000",
                                 "Column '%s' in from clause is ambiguous",
                                 name);
            lc[nc] = l->vis[i];
            rc[nc++] = (uint32_t)x;
        }
    } else {
        for (const struct ast_name *u = t->using_cols; u; u = u->next) {
            int a = vis_find(f, l, u->name), b = vis_find(f, r, u->name);
            if (a == -1 || b == -1)
                return sql__serr(s, 1054, "42S22",
                                 "Unknown column '%s' in 'from clause'",
                                 u->name);
            if (a == -2 || b == -2)
                return sql__serr(s, 1052, "23000",
                                 "Column '%s' in from clause is ambiguous",
                                 u->name);
            bool dup = false;
            for (size_t k = 0; k < nc; k++)
                dup = dup || lc[k] == (uint32_t)a;
            if (dup)
                return sql__serr(s, 1060, "42S21",
                                 "Duplicate column name '%s'", u->name);
            lc[nc] = (uint32_t)a;
            rc[nc++] = (uint32_t)b;
        }
    }
    size_t nv = 0;
    for (size_t k = 0; k < nc; k++) {
        uint32_t lci, rci;
        struct plan_ftable *lt =
            (struct plan_ftable *)sql__from_col(f, lc[k], &lci);
        struct plan_ftable *rt =
            (struct plan_ftable *)sql__from_col(f, rc[k], &rci);
        struct ast_expr *e = zalloc(s, sizeof(*e));
        if (!e || !(e->a = colref(s, lt, lci)) || !(e->b = colref(s, rt, rci)))
            return -ENOMEM;
        e->kind = AST_E_BINARY;
        e->op = AST_OP_EQ;
        e->height = 2;
        eq[k] = e;
        /* The preserved side's column stands for both. */
        struct plan_ftable *hide = right_dominant ? lt : rt;
        uint32_t hci = right_dominant ? lci : rci;
        hide->hidden[hci] = true;
        j->vis[nv++] = right_dominant ? rc[k] : lc[k];
    }
    /* The preserved side's columns first (a RIGHT JOIN's right table). */
    for (int side = 0; side < 2; side++) {
        bool second = right_dominant ? side == 0 : side == 1;
        const struct plan_jnode *n = second ? r : l;
        const uint32_t *used = second ? rc : lc;
        for (size_t i = 0; i < n->nvis; i++) {
            bool merged = false;
            for (size_t k = 0; k < nc; k++)
                merged = merged || used[k] == n->vis[i];
            if (!merged)
                j->vis[nv++] = n->vis[i];
        }
    }
    j->nvis = nv;
    j->on = and_of(s, eq, nc);
    return nc && !j->on ? -ENOMEM : 0;
}

static int add_ftable(struct sql_session *s, struct plan_from *f,
                      struct plan_ftable *ft, struct plan_jnode *j);

/* Room for one more table (1116 past MySQL's 61). */
static int room(struct sql_session *s, const struct plan_from *f)
{
    if (f->ntabs < MAX_TABLES)
        return 0;
    return sql__serr(s, 1116, "HY000",
                     "Too many tables; MySQL can only use 61 tables in a "
                     "join");
}

static int add_table(struct sql_session *s, struct plan_from *f,
                     const struct ast_table_ref *t, struct plan_jnode *j)
{
    int rc = room(s, f);
    if (rc != 0)
        return rc;
    struct plan_ftable *ft = &f->tabs[f->ntabs];
    memset(ft, 0, sizeof(*ft));
    struct sql_tableinfo *ti;
    if (sql__is_schema(t->db ? t->db : s->db)) {
        if (!(ti = sql__is_table(s, t->name)))
            return sql__serr(s, 1109, "42S02",
                             "Unknown table '%.64s' in information_schema",
                             t->name);
        ft->db = "information_schema";
    } else {
        if ((rc = sql__sess_table(s, t->db, t->name, &ti)) != 0)
            return rc;
        for (size_t i = 0; i < s->srv->cat->ndbs; i++)
            if (s->srv->cat->dbs[i]->id == ti->db_id)
                ft->db = s->srv->cat->dbs[i]->name;
    }
    ft->t = ti;
    ft->alias = t->alias ? t->alias : t->name;
    ft->hints = t->hints;
    return add_ftable(s, f, ft, j);
}

/* Table f->tabs[f->ntabs] (t, alias, db set) joins the FROM as leaf j. */
static int add_ftable(struct sql_session *s, struct plan_from *f,
                      struct plan_ftable *ft, struct plan_jnode *j)
{
    const struct sql_tableinfo *ti = ft->t;
    ft->offset = f->width;
    ft->hidden = zalloc(s, sizeof(bool) * ti->ncols);
    ft->used = zalloc(s, sizeof(bool) * ti->ncols);
    j->vis = zalloc(s, sizeof(*j->vis) * ti->ncols);
    if (!ft->hidden || !ft->used || !j->vis)
        return -ENOMEM;
    for (size_t i = f->block; i < f->ntabs; i++)
        if (strcmp(f->tabs[i].alias, ft->alias) == 0)
            return sql__serr(s, 1066, "42000",
                             "Not unique table/alias: '%.64s'", ft->alias);
    for (uint32_t i = 0; i < ti->ncols; i++)
        j->vis[i] = f->width + i;
    j->nvis = ti->ncols;
    j->kind = JN_LEAF;
    j->tab = (int)f->ntabs;
    j->mask = 1ull << f->ntabs;
    f->width += ti->ncols;
    f->ntabs++;
    return 0;
}

/* A virtual table of rows a query makes (a derived table, a CTE, a
 * view, JSON_TABLE). */
static int add_rows(struct sql_session *s, struct plan_from *f,
                    const char *alias, const struct sql_tableinfo *ti,
                    struct plan_vrows *v, struct plan_jnode *j)
{
    int rc = room(s, f);
    if (rc != 0)
        return rc;
    struct plan_ftable *ft = &f->tabs[f->ntabs];
    memset(ft, 0, sizeof(*ft));
    ft->t = ti;
    ft->alias = alias;
    ft->db = NULL;
    ft->vrows = v;
    return add_ftable(s, f, ft, j);
}

/* (SELECT ...) AS alias: a virtual table named alias whose columns are
 * the query's result columns. The query is planned now (it cannot read
 * the enclosing query) and runs when the table is first read, after the
 * whole statement is planned (plan_vrows). */
static int add_derived(struct sql_session *s, struct plan_from *f,
                       const struct ast_table_ref *t, struct plan_jnode *j)
{
    struct plan *p;
    int rc = sql__plan_select_in(s, t->sub, NULL, NULL, NULL, &p);
    if (rc != 0)
        return rc;
    struct sql_tableinfo *ti = zalloc(s, sizeof(*ti));
    if (!ti || !(ti->cols = zalloc(s, sizeof(*ti->cols) * p->nvisible)))
        return -ENOMEM;
    ti->id = SQL_DERIVED_ID;
    ti->name = t->alias;
    ti->handle_col = -1;
    ti->pk_handle_idx = -1;
    ti->ncols = (uint32_t)p->nvisible;
    for (uint32_t i = 0; i < ti->ncols; i++) {
        for (uint32_t k = 0; k < i; k++)
            if (strcasecmp(ti->cols[k].name, p->cols[i].name) == 0)
                return sql__serr(s, 1060, "42S21",
                                 "Duplicate column name '%.64s'",
                                 p->cols[i].name);
        ti->cols[i].id = i + 1;
        ti->cols[i].name = p->cols[i].name;
        ti->cols[i].type = p->cols[i].type;
    }
    struct plan_vrows *v = sql__vrows_defer(s, p);
    return v ? add_rows(s, f, t->alias, ti, v, j) : -ENOMEM;
}

/* JSON_TABLE t as a table of rows made now (json_table.c); lateral: the
 * FROM items before it that its document reads (its last column, the
 * document, is then hidden from `*` and unqualified names). */
static int add_json_table(struct sql_session *s, struct plan_from *f,
                          const struct ast_table_ref *t,
                          const struct ast_table_ref *lateral,
                          struct plan_jnode *j)
{
    struct sql_tableinfo *ti;
    struct sql_datum *rows;
    size_t nrows;
    int rc = sql__json_table_rows(s, t, lateral, &ti, &rows, &nrows);
    struct plan_vrows *v = rc ? NULL : sql__vrows_of(s, rows, nrows);
    if (rc == 0)
        rc = v ? add_rows(s, f, t->alias, ti, v, j) : -ENOMEM;
    if (rc == 0 && lateral) {
        f->tabs[f->ntabs - 1].hidden[ti->ncols - 1] = true;
        j->nvis--;
    }
    return rc;
}

static int build_tree(struct sql_session *s, struct plan_from *f,
                      const struct ast_table_ref *t, struct plan_jnode **out)
{
    struct plan_jnode *j = zalloc(s, sizeof(*j));
    if (!j)
        return -ENOMEM;
    *out = j;
    if (t->kind == AST_T_DERIVED)
        return add_derived(s, f, t, j);
    if (t->kind == AST_T_TABLE && sql__query_named(s, t)) {
        const struct sql_tableinfo *ti; /* a CTE (cte.c) or a view */
        struct plan_vrows *v;
        int rc = sql__query_rows(s, t, &ti, &v);
        return rc ? rc : add_rows(s, f, t->alias ? t->alias : t->name, ti,
                                  v, j);
    }
    if (t->kind == AST_T_TABLE)
        return add_table(s, f, t, j);
    if (t->kind == AST_T_JSON_TABLE)
        return add_json_table(s, f, t, NULL, j);
    struct plan_jnode *a, *b;
    int rc = build_tree(s, f, t->left, &a);
    /* JSON_TABLE reading the columns before it (json_table.c): its rows
     * for every document they give, joined on the document. */
    bool lateral = t->right->kind == AST_T_JSON_TABLE &&
                   sql__json_table_reads_cols(t->right);
    if (rc == 0 && lateral) {
        if (!(b = zalloc(s, sizeof(*b))))
            return -ENOMEM;
        rc = add_json_table(s, f, t->right, t->left, b);
    } else if (rc == 0) {
        rc = build_tree(s, f, t->right, &b);
    }
    if (rc != 0)
        return rc;
    bool right = t->join == AST_J_RIGHT;
    j->kind = t->join == AST_J_LEFT || right ? JN_LEFT : JN_INNER;
    j->l = right ? b : a;
    j->r = right ? a : b;
    j->mask = a->mask | b->mask;
    if (j->kind == JN_LEFT) /* MySQL: those columns are nullable */
        for (size_t i = 0; i < f->ntabs; i++)
            if (j->r->mask >> i & 1)
                f->tabs[i].nullable = true;
    if (t->natural || t->using_cols)
        return merge_columns(s, f, j, t, right);
    j->on = t->on;
    if (lateral && !(j->on = sql__json_table_on(s, t->right, t->on)))
        return -ENOMEM;
    j->vis = zalloc(s, sizeof(*j->vis) * (a->nvis + b->nvis));
    if (!j->vis)
        return -ENOMEM;
    memcpy(j->vis, a->vis, sizeof(*j->vis) * a->nvis);
    memcpy(j->vis + a->nvis, b->vis, sizeof(*j->vis) * b->nvis);
    j->nvis = a->nvis + b->nvis;
    return 0;
}

static int fill_cols(struct sql_session *s, struct plan_from *pf);

int sql__plan_from(struct sql_session *s, const struct ast_table_ref *f,
                   struct plan_tscope *ts)
{
    struct plan_from *pf = zalloc(s, sizeof(*pf));
    if (!pf || !(pf->tabs = zalloc(s, sizeof(*pf->tabs) * MAX_TABLES)))
        return -ENOMEM;
    int rc = build_tree(s, pf, f, &pf->root);
    if (rc != 0)
        return rc;
    pf->star = pf->root->vis;
    pf->nstar = pf->root->nvis;
    pf->nouter = pf->ntabs;
    if ((rc = fill_cols(s, pf)) != 0)
        return rc;
    memset(ts, 0, sizeof(*ts));
    ts->s = s;
    ts->from = pf;
    return 0;
}

/* Every column's metadata (again, after a subquery's tables joined). */
static int fill_cols(struct sql_session *s, struct plan_from *pf)
{
    pf->cols = zalloc(s, sizeof(*pf->cols) * pf->width);
    if (!pf->cols)
        return -ENOMEM;
    for (uint32_t i = 0; i < pf->width; i++) {
        uint32_t ci;
        const struct plan_ftable *ft = sql__from_col(pf, i, &ci);
        struct plan_col *pc = &pf->cols[i];
        pc->name = pc->org_name = ft->t->cols[ci].name;
        pc->table = ft->alias;
        pc->org_table = ft->t->name;
        pc->db = ft->db ? ft->db : "";
        pc->type = ft->t->cols[ci].type;
        if (ft->nullable)
            pc->type.flags &= (uint16_t)~SQL_COLFLAG_NOT_NULL;
    }
    return 0;
}

/* ---- subqueries as semi- and anti-joins ---------------------------------- */

/* A WHERE conjunct [NOT] EXISTS (q) or x IN (q) run as a join of the
 * query with q's tables: each row of the query is kept when q has a row
 * (semi) or none (anti) under q's WHERE (and x = q's item). In a WHERE
 * conjunct, FALSE and NULL both drop the row, so x IN (q) is exactly
 * "some row of q equals x"; x NOT IN (q) is "no row of q where x = item
 * is TRUE or NULL" (MySQL's NULL semantics: a NULL in q, or a NULL x over
 * a non-empty q, makes it never true). */
struct plan_semi
{
    const struct ast_expr *conj;  /* the WHERE conjunct */
    int type;                     /* JT_SEMI or JT_ANTI */
    struct plan_jnode *node;      /* q's FROM (its tables) */
    const struct ast_expr *where; /* q's WHERE, or NULL */
    const struct ast_expr *eq;    /* IN: x = item (x's names qualified
                                     by the query's tables), or NULL */
};

/* The subquery of a conjunct the planner can join, with its type. */
static const struct ast_expr *semi_of(const struct ast_expr *e, int *type,
                                     bool *not_in)
{
    bool neg = false;
    if (e->kind == AST_E_UNARY && e->op == AST_OP_NOT && e->a &&
        (e->a->kind == AST_E_EXISTS ||
         (e->a->kind == AST_E_IN && e->a->sub))) {
        neg = true;
        e = e->a;
    }
    neg = neg != e->neg;
    if (!(e->kind == AST_E_EXISTS ||
          (e->kind == AST_E_IN && e->sub && e->a &&
           e->a->kind != AST_E_ROW)))
        return NULL;
    *not_in = e->kind == AST_E_IN && neg;
    const struct ast_select *q = e->sub;
    if (q->kind != AST_SEL_SIMPLE || !q->from || q->group || q->having ||
        q->limit || q->with || q->lock != AST_LOCK_NONE || !q->items)
        return NULL;
    for (const struct ast_item *it = q->items; it; it = it->next)
        if (sql__plan_has_agg(it->expr))
            return NULL;
    if (e->kind == AST_E_IN &&
        (q->items->next || q->items->expr->kind == AST_E_STAR))
        return NULL;
    *type = neg ? JT_ANTI : JT_SEMI;
    return e;
}

bool sql__plan_semi_ok(const struct ast_expr *e)
{
    int type;
    bool not_in;
    return semi_of(e, &type, &not_in) != NULL;
}

/* A copy of e with every column qualified by the query table it resolves
 * to (so the subquery's tables, whose names come first there, cannot
 * take it); *clash when such a table's alias is also one of the
 * subquery's. */
static struct ast_expr *qualify(struct sql_session *s, struct plan_tscope *ts,
                                const struct ast_expr *e, int *rc)
{
    if (!e || *rc)
        return NULL;
    struct ast_expr *c = zalloc(s, sizeof(*c));
    if (!c) {
        *rc = -ENOMEM;
        return NULL;
    }
    *c = *e;
    if (e->kind == AST_E_COLUMN && e->name) {
        struct sql_colref ref;
        struct sql_err err = {0};
        int r = sql__from_column(ts, e, &ref, &err);
        if (r == 0) {
            uint32_t ci;
            c->table = sql__from_col(ts->from, ref.index, &ci)->alias;
            c->db = NULL;
        }
        return c;
    }
    c->a = qualify(s, ts, e->a, rc);
    c->b = qualify(s, ts, e->b, rc);
    c->c = qualify(s, ts, e->c, rc);
    struct ast_expr **tail = &c->args;
    *tail = NULL;
    for (const struct ast_expr *x = e->args; x && !*rc; x = x->next) {
        *tail = qualify(s, ts, x, rc);
        if (*tail) {
            (*tail)->next = NULL;
            tail = &(*tail)->next;
        }
    }
    return c;
}

static bool alias_used(const struct ast_expr *e, const struct plan_from *f,
                       size_t from)
{
    if (!e)
        return false;
    if (e->kind == AST_E_COLUMN && e->table)
        for (size_t i = from; i < f->ntabs; i++)
            if (strcmp(f->tabs[i].alias, e->table) == 0)
                return true;
    if (alias_used(e->a, f, from) || alias_used(e->b, f, from) ||
        alias_used(e->c, f, from))
        return true;
    for (const struct ast_expr *x = e->args; x; x = x->next)
        if (alias_used(x, f, from))
            return true;
    return false;
}

int sql__plan_add_semi(struct sql_session *s, struct plan_tscope *ts,
                       const struct ast_expr *e)
{
    struct plan_from *f = (struct plan_from *)ts->from;
    int type, rc = 0;
    bool not_in;
    const struct ast_expr *x = semi_of(e, &type, &not_in);
    assert(x != NULL);
    const struct ast_select *q = x->sub;
    struct plan_semi *sm = zalloc(s, sizeof(*sm) * (f->nsemis + 1));
    if (!sm)
        return -ENOMEM;
    if (f->nsemis)
        memcpy(sm, f->semis, sizeof(*sm) * f->nsemis);
    f->semis = sm;
    sm = &f->semis[f->nsemis];
    memset(sm, 0, sizeof(*sm));
    sm->conj = e;
    sm->type = type;
    sm->where = q->where;
    struct ast_expr *left = NULL;
    if (x->kind == AST_E_IN && !(left = qualify(s, ts, x->a, &rc)))
        return rc ? rc : -ENOMEM;
    size_t first = f->ntabs;
    f->block = first;
    rc = build_tree(s, f, q->from, &sm->node);
    f->block = 0;
    if (rc != 0)
        return rc;
    if (left) {
        if (alias_used(left, f, first))
            return sql__serr(s, 1235, "42000",
                             "This version of sqld doesn't yet support 'IN "
                             "subqueries naming a table of the outer query "
                             "again'");
        struct ast_expr *eq = zalloc(s, sizeof(*eq));
        if (!eq)
            return -ENOMEM;
        eq->kind = AST_E_BINARY;
        eq->op = AST_OP_EQ;
        eq->a = left;
        eq->b = q->items->expr;
        eq->height = (left->height > eq->b->height ? left->height
                                                   : eq->b->height) + 1;
        sm->eq = eq;
        if (not_in) {
            /* x NOT IN (q) is true when every row of q compares FALSE
             * with x: a row whose comparison is TRUE or NULL (a NULL on
             * either side) is a match of the anti-join. */
            struct ast_expr *is = zalloc(s, sizeof(*is));
            if (!is)
                return -ENOMEM;
            is->kind = AST_E_IS;
            is->op = AST_OP_ISFALSE;
            is->neg = true;
            is->a = eq;
            is->height = eq->height + 1;
            sm->eq = is;
        }
    }
    f->nsemis++;
    return fill_cols(s, f);
}

/* ---- conjuncts ----------------------------------------------------------- */

/* One conjunct of WHERE or ON, with the tables it reads. */
struct conj
{
    const struct ast_expr *e;  /* the conjunct */
    uint64_t mask;             /* tables it reads */
    uint64_t amask, bmask;     /* `a = b`: each side's tables, else 0 */
    int acol, bcol;            /* each side as a plain column, or -1 */
    bool used;                 /* applied already */
};

struct conjs
{
    struct conj *v;            /* the conjuncts */
    size_t n, cap;             /* count, allocation */
};

/* ---- subqueries that read nothing of the query ------------------------------ */

/* The base tables of a subquery's FROM, by the names its columns may use. */
struct uc
{
    struct sql_tableinfo *t[16]; /* the tables */
    const char *alias[16];       /* their names in the subquery */
    size_t n;                    /* count */
};

static bool uc_expr(const struct ast_expr *e, const struct uc *u);

static bool uc_from(struct sql_session *s, const struct ast_table_ref *t,
                    struct uc *u)
{
    for (; t; t = t->next) {
        if (t->kind == AST_T_JOIN) {
            if (!uc_from(s, t->left, u) || !uc_from(s, t->right, u))
                return false;
            continue;
        }
        if (t->kind != AST_T_TABLE || u->n == 16 || sql__query_named(s, t) ||
            sql__is_schema(t->db ? t->db : s->db))
            return false;
        struct sql_err saved = s->err;
        if (sql__sess_table(s, t->db, t->name, &u->t[u->n]) != 0) {
            s->err = saved; /* the subquery's own planning says why */
            return false;
        }
        u->alias[u->n++] = t->alias ? t->alias : t->name;
    }
    return true;
}

static bool uc_on(const struct ast_table_ref *t, const struct uc *u)
{
    for (; t; t = t->next)
        if (t->kind == AST_T_JOIN &&
            (!uc_expr(t->on, u) || !uc_on(t->left, u) || !uc_on(t->right, u)))
            return false;
    return true;
}

/* Whether every column e names is one of u's tables' (nothing of an
 * enclosing query): a nested subquery, a window or an ordered aggregate
 * counts as no, as does a name of the select list (HAVING total > 1). */
static bool uc_expr(const struct ast_expr *e, const struct uc *u)
{
    if (!e)
        return true;
    if (e->sub || e->over || e->order)
        return false;
    if (e->kind == AST_E_COLUMN) {
        if (!e->name)
            return false;
        for (size_t i = 0; i < u->n; i++) {
            if (e->table) {
                if (strcmp(u->alias[i], e->table) == 0)
                    return true;
                continue;
            }
            for (uint32_t c = 0; c < u->t[i]->ncols; c++)
                if (strcasecmp(u->t[i]->cols[c].name, e->name) == 0)
                    return true;
        }
        return false;
    }
    if (!uc_expr(e->a, u) || !uc_expr(e->b, u) || !uc_expr(e->c, u))
        return false;
    for (const struct ast_expr *x = e->args; x; x = x->next)
        if (!uc_expr(x, u))
            return false;
    for (const struct ast_when *w = e->whens; w; w = w->next)
        if (!uc_expr(w->cond, u) || !uc_expr(w->then, u))
            return false;
    return true;
}

/* Whether subquery q surely reads nothing of the query around it (its
 * columns all name its own base tables), so a conjunct holding it reads
 * only the tables of its other operands: TPC-H q18's
 * `o_orderkey IN (SELECT l_orderkey ... GROUP BY ... HAVING ...)` then
 * filters orders' scan instead of waiting for the last join. Anything
 * it cannot tell counts as correlated (the old, safe placement). */
static bool uncorrelated(struct sql_session *s, const struct ast_select *q)
{
    if (q->kind != AST_SEL_SIMPLE || q->with || !q->from)
        return false;
    struct uc u = {.n = 0};
    if (!uc_from(s, q->from, &u) || !uc_on(q->from, &u) ||
        !uc_expr(q->where, &u) || !uc_expr(q->having, &u))
        return false;
    for (const struct ast_item *it = q->items; it; it = it->next)
        if (it->expr->kind != AST_E_STAR && !uc_expr(it->expr, &u))
            return false;
    for (const struct ast_order *o = q->group; o; o = o->next)
        if (!uc_expr(o->expr, &u))
            return false;
    for (const struct ast_order *o = q->order; o; o = o->next)
        if (!uc_expr(o->expr, &u))
            return false;
    return true;
}

/* uncorrelated(q), judged once per subquery of the statement: a
 * conjunct's mask is taken again at every join level it passes, and
 * judging looks q's tables up in the catalog. */
struct plan_ucmemo
{
    const struct ast_select *q;  /* the subquery */
    bool yes;                    /* uncorrelated(q) */
    struct plan_ucmemo *next;    /* the next one judged */
};

static bool uncorrelated_once(struct plan_tscope *ts,
                              const struct ast_select *q)
{
    for (const struct plan_ucmemo *m = ts->ucs; m; m = m->next)
        if (m->q == q)
            return m->yes;
    bool yes = uncorrelated(ts->s, q);
    struct plan_ucmemo *m = zalloc(ts->s, sizeof(*m));
    if (m) { /* out of memory: judged again next time */
        m->q = q;
        m->yes = yes;
        m->next = ts->ucs;
        ts->ucs = m;
    }
    return yes;
}

/* The tables e reads; false when a name does not resolve (the compiler
 * then says why). */
static bool mask_of(struct plan_tscope *ts, const struct ast_expr *e,
                    uint64_t *m, int *col)
{
    if (!e)
        return true;
    if (e->kind == AST_E_COLUMN) {
        struct sql_colref ref;
        struct sql_err err;
        if (e->name && ts->parent &&
            sql__from_column(ts, e, &ref, &err) == SQL_ENOTFOUND &&
            sql__tscope_column(ts, e, &ref, &err) == 0)
            return true; /* the enclosing query's: constant here */
        if (!e->name || sql__from_column(ts, e, &ref, &err) != 0)
            return false;
        *m |= 1ull << tab_of(ts->from, ref.index);
        if (col)
            *col = (int)ref.index;
        return true;
    }
    if (col)
        *col = -1;
    if (e->sub && !uncorrelated_once(ts, e->sub)) {
        /* A subquery may read any table in scope (correlated): it waits
         * until all are joined. */
        uint64_t all = ts->from->nouter >= 64
                           ? ~0ull
                           : (1ull << ts->from->nouter) - 1;
        *m |= ts->allowed ? ts->allowed : all | ts->inner;
    }
    if (!mask_of(ts, e->a, m, NULL) || !mask_of(ts, e->b, m, NULL) ||
        !mask_of(ts, e->c, m, NULL))
        return false;
    for (const struct ast_expr *x = e->args; x; x = x->next)
        if (!mask_of(ts, x, m, NULL))
            return false;
    for (const struct ast_when *w = e->whens; w; w = w->next)
        if (!mask_of(ts, w->cond, m, NULL) || !mask_of(ts, w->then, m, NULL))
            return false;
    return true;
}

static int conj_add(struct sql_session *s, struct plan_tscope *ts,
                    struct conjs *cs, const struct ast_expr *e,
                    uint64_t allowed, const char *clause)
{
    if (!e)
        return 0;
    if (e->kind == AST_E_LOGIC && e->op == AST_OP_AND) {
        for (const struct ast_expr *a = e->args; a; a = a->next) {
            int rc = conj_add(s, ts, cs, a, allowed, clause);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 16;
        struct conj *v = zalloc(s, sizeof(*v) * cap);
        if (!v)
            return -ENOMEM;
        if (cs->n)
            memcpy(v, cs->v, sizeof(*v) * cs->n);
        cs->v = v;
        cs->cap = cap;
    }
    struct conj *c = &cs->v[cs->n];
    memset(c, 0, sizeof(*c));
    c->e = e;
    c->acol = c->bcol = -1;
    uint64_t save = ts->allowed;
    ts->allowed = allowed;
    bool ok = mask_of(ts, e, &c->mask, NULL);
    if (ok && e->kind == AST_E_BINARY && e->op == AST_OP_EQ) {
        mask_of(ts, e->a, &c->amask, &c->acol);
        mask_of(ts, e->b, &c->bmask, &c->bcol);
    }
    if (!ok) {
        /* Compile it for the error (1054, 1052) in this clause. */
        struct sql_expr *x;
        int rc = sql__plan_compile(s, ts, e, &x, NULL);
        ts->allowed = save;
        if (rc == 0)
            rc = sql__serr(s, 1054, "42S22", "Unknown column in '%s'",
                           clause);
        sql__err_clause(&s->err, clause);
        return rc;
    }
    ts->allowed = save;
    cs->n++;
    return 0;
}

/* ---- conditions on one table implied by an OR ------------------------------ */

/* Whether evaluating e on more rows than the query would is harmless: no
 * subquery, no function (RAND, SLEEP, a stored one), no assignment. */
static bool or_pure(const struct ast_expr *e)
{
    if (!e)
        return true;
    switch (e->kind) {
    case AST_E_NULL: case AST_E_BOOL: case AST_E_INT: case AST_E_DECIMAL:
    case AST_E_FLOAT: case AST_E_STRING: case AST_E_HEX: case AST_E_BIT:
    case AST_E_PARAM: case AST_E_COLUMN: case AST_E_UNARY: case AST_E_BINARY:
    case AST_E_LOGIC: case AST_E_IS: case AST_E_LIKE: case AST_E_BETWEEN:
    case AST_E_IN: case AST_E_ROW: case AST_E_INTERVAL: case AST_E_COLLATE:
        break;
    default:
        return false;
    }
    if (e->sub || !or_pure(e->a) || !or_pure(e->b) || !or_pure(e->c))
        return false;
    for (const struct ast_expr *x = e->args; x; x = x->next)
        if (!or_pure(x))
            return false;
    return true;
}

/* The part of e that reads no table but those in tb, implied by e (true
 * wherever e is): an AND keeps its operands that have such a part, an OR
 * needs one from every operand. NULL when there is none; *err on an
 * allocation failure. */
static const struct ast_expr *or_part(struct plan_tscope *ts,
                                      const struct ast_expr *e, uint64_t tb,
                                      int depth, bool *err)
{
    if (e->kind == AST_E_LOGIC &&
        (e->op == AST_OP_AND || e->op == AST_OP_OR) && depth < 8) {
        const struct ast_expr *v[16];
        size_t n = 0;
        for (const struct ast_expr *a = e->args; a; a = a->next) {
            const struct ast_expr *p = or_part(ts, a, tb, depth + 1, err);
            if (!p && e->op == AST_OP_OR)
                return NULL;
            if (p && n == 16)
                return NULL; /* wide: not worth it */
            if (p)
                v[n++] = p;
        }
        const struct ast_expr *r = logic_of(ts->s, e->op, v, n);
        if (n && !r)
            *err = true;
        return r;
    }
    uint64_t m = 0;
    if (!or_pure(e) || !mask_of(ts, e, &m, NULL) || (m & ~tb))
        return NULL;
    return e;
}

/* For each conjunct among the first n of cs that is an OR reading several
 * tables, the condition it implies on each one alone becomes a conjunct
 * too, so a scan filters early, as MariaDB's make_cond_for_table does:
 * TPC-H q19's (brand AND size AND quantity) OR ... gives part
 * (brand AND size) OR ... and lineitem (quantity) OR ...; the OR itself
 * still decides after the join. */
static int or_derive(struct sql_session *s, struct plan_tscope *ts,
                     struct conjs *cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct ast_expr *e = cs->v[i].e;
        uint64_t mask = cs->v[i].mask;
        if (e->kind != AST_E_LOGIC || e->op != AST_OP_OR ||
            __builtin_popcountll(mask) < 2)
            continue;
        for (int t = 0; t < 64; t++) {
            if (!(mask >> t & 1))
                continue;
            bool err = false;
            const struct ast_expr *d = or_part(ts, e, 1ull << t, 0, &err);
            if (err)
                return -ENOMEM;
            uint64_t dm = 0;
            if (!d || !mask_of(ts, d, &dm, NULL) || dm != 1ull << t)
                continue;
            int rc = conj_add(s, ts, cs, d, 0, "where clause");
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* ---- estimates ------------------------------------------------------------- */

static double scan_rows(const struct plan *p)
{
    const struct plan_access *a = &p->acc;
    double r = BASE_ROWS;
    double st = p->scope ? sql__stats_scan_rows(p->scope->s, p) : -1;
    if (st >= 0)
        return st; /* ANALYZE's statistics (stats_est.c) */
    switch (a->kind) {
    case ACC_POINT:
    case ACC_UNIQUE_POINT:
        return 1;
    case ACC_BATCH_POINT:
        return (double)a->nranges;
    case ACC_VIRTUAL:
        r = p->vrows ? p->vrows->est : 100;
        break;
    case ACC_HANDLE_RANGE:
        r = BASE_ROWS / 3;
        break;
    case ACC_INDEX_RANGE: {
        const struct plan_range *pr = &a->ranges[0];
        const struct sql_idxinfo *x = &a->t->idx[a->idx];
        if (x->unique && pr->neq == x->ncols)
            return (double)a->nranges;
        for (uint32_t k = 0; k < pr->neq; k++)
            r /= 10;
        if (pr->lo || pr->hi)
            r /= 3;
        r *= (double)a->nranges;
        break;
    }
    default:
        break;
    }
    for (size_t i = 0; i < p->nconj && r > 1; i++)
        r *= 0.5;
    return r < 1 ? 1 : r;
}

double sql__plan_scan_rows(struct sql_session *s, const struct plan *p)
{
    if (p->lookup)
        return p->est_rows;
    double st = sql__stats_scan_rows(s, p);
    return st >= 0 ? st : scan_rows(p);
}

/* ---- planning ------------------------------------------------------------------ */

struct jctx
{
    struct sql_session *s;     /* errors, arena */
    struct plan_tscope *ts;    /* the joined row's names */
    const struct plan_from *f; /* the tables */
    bool lock;                 /* FOR UPDATE */
};

/* One input of an inner-join group. */
struct jitem
{
    const struct plan_jnode *n; /* a table or an outer join */
    struct plan *p;             /* its plan */
    double rows;                /* estimated rows */
    const struct ast_expr **down; /* conjuncts pushed into it */
    size_t ndown, capdown;      /* their count, allocation */
};

static int node_plan(struct jctx *j, const struct plan_jnode *n,
                     const struct ast_expr **down, size_t ndown,
                     struct plan **out, double *rows);

static int compile(struct jctx *j, const struct ast_expr *e,
                   struct sql_expr **out, struct sql_ftype *t)
{
    return sql__plan_compile(j->s, j->ts, e, out, t);
}

static const char *conj_text(struct sql_session *s,
                             const struct ast_expr *const *c, size_t n)
{
    struct sql__buf b = {0};
    for (size_t i = 0; i < n; i++) {
        const char *t = sql__plan_text(s, c[i]);
        if (i)
            sql__buf_put(&b, " AND ", 5);
        sql__buf_put(&b, t, strlen(t));
    }
    const char *r = b.p ? sql__arena_strndup(s->arena, (const char *)b.p,
                                             b.len)
                        : "";
    sql__buf_free(&b);
    return r ? r : "";
}

/* A table's scan with its conjuncts. */
static int leaf_plan(struct jctx *j, int tab, const struct ast_expr **down,
                     size_t ndown, struct plan **out)
{
    const struct plan_ftable *ft = &j->f->tabs[tab];
    struct plan *p = zalloc(j->s, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->kind = PL_SOURCE;
    p->table = ft->t;
    p->alias = ft->alias;
    p->hints = ft->hints;
    p->ncols = p->nvisible = j->f->width;
    p->cols = j->f->cols;
    p->row_off = ft->offset;
    p->vrows = ft->vrows;
    p->scope = j->ts;
    p->conj = down;
    p->nconj = ndown;
    p->lock = j->lock && !sql__is_virtual(ft->t);
    p->used = j->ts->select ? ft->used : NULL;
    p->info = conj_text(j->s, down, ndown);
    const struct ast_expr *w = and_of(j->s, down, ndown);
    if (ndown && !w)
        return -ENOMEM;
    int rc;
    if (w && (rc = compile(j, w, &p->cond, NULL)) != 0)
        return rc;
    if ((rc = sql__plan_access(j->s, p)) != 0)
        return rc;
    p->est_rows = scan_rows(p);
    *out = p;
    return 0;
}

static int filter(struct jctx *j, struct plan **in,
                  const struct ast_expr **c, size_t n)
{
    if (n == 0)
        return 0;
    struct plan *f = zalloc(j->s, sizeof(*f));
    const struct ast_expr *w = and_of(j->s, c, n);
    if (!f || !w)
        return -ENOMEM;
    f->kind = PL_FILTER;
    f->child = *in;
    f->ncols = f->nvisible = (*in)->ncols;
    f->cols = (*in)->cols;
    f->est_rows = (*in)->est_rows;
    f->info = conj_text(j->s, c, n);
    int rc = compile(j, w, &f->cond, NULL);
    if (rc != 0) {
        sql__err_clause(&j->s->err, "where clause");
        return rc;
    }
    *in = f;
    return 0;
}

/* The class both sides of an equal key are hashed in, so that values the
 * comparison finds equal hash equal; false when no such class is simple
 * (a string against a number: the join tests pairs instead). */
static bool hash_type(const struct sql_ftype *a, const struct sql_ftype *b,
                      struct sql_ftype *out)
{
    int va = sql__ftype_vt(a), vb = sql__ftype_vt(b);
    memset(out, 0, sizeof(*out));
    out->coll = SQL_COLL_BINARY;
    bool na = va == SQL_VT_INT || va == SQL_VT_UINT || va == SQL_VT_DECIMAL;
    bool nb = vb == SQL_VT_INT || vb == SQL_VT_UINT || vb == SQL_VT_DECIMAL;
    if (va == SQL_VT_INT && vb == SQL_VT_INT) {
        out->tp = SQL_TYPE_LONGLONG;
        return true;
    }
    if (na && nb) {
        out->tp = SQL_TYPE_NEWDECIMAL;
        out->len = 65;
        out->dec = 30;
        return true;
    }
    if ((na || va == SQL_VT_DOUBLE) && (nb || vb == SQL_VT_DOUBLE)) {
        out->tp = SQL_TYPE_DOUBLE;
        out->dec = -1;
        return true;
    }
    if (va == SQL_VT_STRING && vb == SQL_VT_STRING) {
        out->tp = SQL_TYPE_VAR_STRING;
        if (a->coll == b->coll || b->coll == SQL_COLL_BINARY)
            out->coll = a->coll;
        else if (a->coll == SQL_COLL_BINARY)
            out->coll = b->coll;
        else
            return false;
        return true;
    }
    if ((va == SQL_VT_DATE || va == SQL_VT_DATETIME) &&
        (vb == SQL_VT_DATE || vb == SQL_VT_DATETIME)) {
        out->tp = SQL_TYPE_DATETIME;
        out->dec = 6;
        return true;
    }
    if (va == SQL_VT_TIME && vb == SQL_VT_TIME) {
        out->tp = SQL_TYPE_TIME;
        out->dec = 6;
        return true;
    }
    return false;
}

/* An equal conjunct between the sides: which operand reads the left. */
static int equi_side(const struct conj *c, uint64_t lmask, uint64_t rmask)
{
    if (!c->amask || !c->bmask)
        return 0;
    if ((c->amask & ~lmask) == 0 && (c->bmask & ~rmask) == 0)
        return 1; /* a over left, b over right */
    if ((c->bmask & ~lmask) == 0 && (c->amask & ~rmask) == 0)
        return 2;
    return 0;
}

/* Whether the right table's columns set by equal conjuncts cover its
 * handle or a unique index (at most one row per left row). */
static bool covers_unique(const struct jctx *j, int tab, const bool *eqcol)
{
    const struct sql_tableinfo *t = j->f->tabs[tab].t;
    if (t->handle_col >= 0 && eqcol[t->handle_col])
        return true;
    for (uint32_t i = 0; i < t->nidx; i++) {
        const struct sql_idxinfo *x = &t->idx[i];
        if (!x->unique || x->state != SQL_IDX_PUBLIC)
            continue;
        bool all = true;
        for (uint32_t k = 0; k < x->ncols && all; k++)
            all = eqcol[x->cols[k]] && x->prefix[k] <= 0;
        if (all)
            return true;
    }
    return false;
}

/* The plain columns of table tab that equal conjuncts with the left side
 * set (eqcol per column, the conjunct per column in which). */
static bool equal_cols(const struct jctx *j, const struct conjs *cs,
                       uint64_t lmask, int tab, bool *eqcol, size_t *which)
{
    const struct plan_ftable *ft = &j->f->tabs[tab];
    bool any = false;
    memset(eqcol, 0, sizeof(bool) * ft->t->ncols);
    for (size_t i = 0; i < cs->n; i++) {
        const struct conj *c = &cs->v[i];
        if (c->used)
            continue;
        int side = equi_side(c, lmask, 1ull << tab);
        int col = side == 1 ? c->bcol : side == 2 ? c->acol : -1;
        if (col < 0)
            continue;
        uint32_t ci = (uint32_t)col - ft->offset;
        if (!eqcol[ci] && which)
            which[ci] = i;
        eqcol[ci] = true;
        any = true;
    }
    return any;
}

/* Whether c joins the left (tables lmask) with an item (rmask) now:
 * unused, every table it reads there, some on each side. */
static bool joins_now(const struct conj *c, uint64_t lmask, uint64_t rmask)
{
    return !c->used && !(c->mask & ~(lmask | rmask)) && (c->mask & rmask) &&
           (c->mask & lmask);
}

/* The distinct values of joined-row column col, at most rows; -1 when its
 * table has no statistics. */
static double col_ndv(const struct jctx *j, int col, double rows)
{
    if (col < 0)
        return -1;
    int tab = tab_of(j->f, (uint32_t)col);
    double n = sql__stats_col_ndv(j->f->tabs[tab].t,
                                  col - (int)j->f->tabs[tab].offset);
    return n < 0 ? -1 : n > rows ? rows : n < 1 ? 1 : n;
}

/* Rows of an equi join from distinct counts: |L| |R| / max(V(L,a),
 * V(R,b)) per equal pair of plain columns (Selinger et al., "Access path
 * selection in a relational database management system", 1979); -1 unless
 * every equal pair has statistics on both sides. */
static double stats_join_rows(const struct jctx *j, const struct conjs *cs,
                              uint64_t lmask, double lrows,
                              const struct jitem *r)
{
    if (r->n->kind == JN_LEAF && !j->f->tabs[r->n->tab].t->stats)
        return -1; /* the common case without ANALYZE: no second pass */
    double rows = lrows * r->rows;
    for (size_t i = 0; i < cs->n; i++) {
        const struct conj *c = &cs->v[i];
        if (!joins_now(c, lmask, r->n->mask))
            continue;
        int side = equi_side(c, lmask, r->n->mask);
        if (!side)
            continue;
        double nl = col_ndv(j, side == 1 ? c->acol : c->bcol, lrows);
        double nr = col_ndv(j, side == 1 ? c->bcol : c->acol, r->rows);
        if (nl < 0 || nr < 0)
            return -1;
        rows /= nl > nr ? nl : nr;
    }
    return rows < 1 ? 1 : rows;
}

/* Estimated rows of joining the left (lrows, tables lmask) with item r. */
static double join_rows(const struct jctx *j, const struct conjs *cs,
                        uint64_t lmask, double lrows, const struct jitem *r,
                        bool *connected)
{
    bool equi = false, other = false;
    for (size_t i = 0; i < cs->n; i++) {
        const struct conj *c = &cs->v[i];
        if (!joins_now(c, lmask, r->n->mask))
            continue;
        if (equi_side(c, lmask, r->n->mask))
            equi = true;
        else
            other = true;
    }
    *connected = equi || other;
    double rows = lrows * r->rows;
    double st = equi ? stats_join_rows(j, cs, lmask, lrows, r) : -1;
    if (st >= 0) {
        rows = st;
        if (other)
            rows *= 0.3;
    } else if (equi) {
        rows = lrows > r->rows ? lrows : r->rows;
        if (r->n->kind == JN_LEAF) {
            const struct sql_tableinfo *t = j->f->tabs[r->n->tab].t;
            bool eqcol[t->ncols ? t->ncols : 1];
            equal_cols(j, cs, lmask, r->n->tab, eqcol, NULL);
            if (covers_unique(j, r->n->tab, eqcol))
                rows = lrows;
        }
    } else if (other)
        rows *= 0.3;
    return rows < 1 ? 1 : rows;
}

/* An index join's access: the right table's handle or index whose
 * leading columns the left row sets. Returns false when none fits. */
static bool lookup_access(struct jctx *j, const struct conjs *cs,
                          uint64_t lmask, const struct plan *rp, int tab,
                          struct plan_access *acc, bool *unique, int *rc)
{
    const struct plan_ftable *ft = &j->f->tabs[tab];
    const struct sql_tableinfo *t = ft->t;
    bool eqcol[t->ncols ? t->ncols : 1];
    size_t which[t->ncols ? t->ncols : 1];
    *rc = 0;
    if (sql__is_virtual(t) || !equal_cols(j, cs, lmask, tab, eqcol, which))
        return false;
    int best = -2, bestn = 0, bests = 0;
    for (int i = -1; i < (int)t->nidx; i++) {
        const uint32_t *cols;
        uint32_t ncols;
        uint32_t hc;
        bool uniq;
        if (i < 0) {
            if (t->handle_col < 0)
                continue;
            hc = (uint32_t)t->handle_col;
            cols = &hc;
            ncols = 1;
            uniq = true;
        } else {
            if (i == t->pk_handle_idx || t->idx[i].state != SQL_IDX_PUBLIC)
                continue;
            cols = t->idx[i].cols;
            ncols = t->idx[i].ncols;
            uniq = t->idx[i].unique;
        }
        if (!sql__plan_hint_allows(rp, i))
            continue;
        uint32_t n = 0;
        while (n < ncols && eqcol[cols[n]] &&
               (i < 0 || t->idx[i].prefix[n] <= 0)) {
            /* The left value must encode as the column's key. */
            const struct conj *c = &cs->v[which[cols[n]]];
            const struct ast_expr *le =
                equi_side(c, lmask, 1ull << tab) == 1 ? c->e->a : c->e->b;
            struct sql_expr *x;
            struct sql_ftype lt;
            if (compile(j, le, &x, &lt) != 0)
                break;
            const struct sql_ftype *ct = &t->cols[cols[n]].type;
            int lv = sql__ftype_vt(&lt), cv = sql__ftype_vt(ct);
            bool ints = (lv == SQL_VT_INT || lv == SQL_VT_UINT) &&
                        (cv == SQL_VT_INT || cv == SQL_VT_UINT);
            if (!ints && (lv != cv || (lv == SQL_VT_STRING &&
                                       lt.coll != ct->coll)))
                break;
            n++;
        }
        if (n == 0)
            continue;
        int score = uniq && n == ncols ? (i < 0 ? 1000 : 900) : (int)n * 10;
        if (score > bests) {
            bests = score;
            best = i;
            bestn = (int)n;
        }
    }
    if (best == -2)
        return false;
    const uint32_t *cols;
    uint32_t hc = (uint32_t)t->handle_col;
    cols = best < 0 ? &hc : t->idx[best].cols;
    struct plan_range *r = zalloc(j->s, sizeof(*r));
    if (!r || !(r->eq = zalloc(j->s, sizeof(*r->eq) * (size_t)bestn)) ||
        !(r->eq_nullsafe = zalloc(j->s, sizeof(bool) * (size_t)bestn))) {
        *rc = -ENOMEM;
        return false;
    }
    r->neq = (uint32_t)bestn;
    for (int k = 0; k < bestn; k++) {
        const struct conj *c = &cs->v[which[cols[k]]];
        const struct ast_expr *le =
            equi_side(c, lmask, 1ull << tab) == 1 ? c->e->a : c->e->b;
        if ((*rc = compile(j, le, &r->eq[k], NULL)) != 0)
            return false;
    }
    *unique = bests >= 900;
    memset(acc, 0, sizeof(*acc));
    acc->t = t;
    acc->idx = best;
    acc->ranges = r;
    acc->nranges = 1;
    acc->kind = best < 0 ? ACC_POINT
                : *unique ? ACC_UNIQUE_POINT
                          : ACC_INDEX_RANGE;
    return true;
}

static void add_spans(struct jctx *j, struct plan *jp, uint64_t mask)
{
    size_t n = 0;
    for (size_t i = 0; i < j->f->ntabs; i++)
        if (mask >> i & 1) {
            jp->rspans[n].off = j->f->tabs[i].offset;
            jp->rspans[n++].n = j->f->tabs[i].t->ncols;
        }
    jp->nrspans = n;
}

/* Join left (tables lmask) with the item r by the unused conjuncts whose
 * tables are all there now; type JT_INNER or JT_LEFT. */
static int join_step(struct jctx *j, struct conjs *cs, struct plan *left,
                     uint64_t lmask, struct jitem *r, int type,
                     struct plan **out)
{
    struct sql_session *s = j->s;
    uint64_t rmask = r->n->mask, both = lmask | rmask;
    struct plan *jp = zalloc(s, sizeof(*jp));
    const struct ast_expr **cond = zalloc(s, sizeof(*cond) * (cs->n + 1));
    size_t *eqs = zalloc(s, sizeof(*eqs) * (cs->n + 1));
    size_t ntab = 0;
    for (size_t i = 0; i < j->f->ntabs; i++)
        ntab += rmask >> i & 1;
    if (!jp || !cond || !eqs ||
        !(jp->rspans = zalloc(s, sizeof(*jp->rspans) * ntab)))
        return -ENOMEM;
    jp->kind = PL_JOIN;
    jp->join_type = type;
    jp->child = left;
    jp->ncols = jp->nvisible = j->f->width;
    jp->cols = j->f->cols;
    add_spans(j, jp, rmask);
    bool connected;
    jp->est_rows = join_rows(j, cs, lmask, left->est_rows, r, &connected);
    if (type == JT_LEFT && jp->est_rows < left->est_rows)
        jp->est_rows = left->est_rows;
    if (type == JT_SEMI || type == JT_ANTI)
        jp->est_rows = left->est_rows / 2 < 1 ? 1 : left->est_rows / 2;
    /* The algorithm: an index join when the right table can be looked up
     * by the left row (always for a unique key, else when the left is not
     * bigger), a hash join on the equal keys, else nested loops. */
    struct plan *rp = r->p;
    int rc = 0;
    bool unique = false;
    struct plan_access acc;
    if (r->n->kind == JN_LEAF && rp->kind == PL_SCAN &&
        lookup_access(j, cs, lmask, rp, r->n->tab, &acc, &unique, &rc) &&
        (unique || left->est_rows <= r->rows)) {
        struct plan *lk = zalloc(s, sizeof(*lk));
        if (!lk)
            return -ENOMEM;
        *lk = *rp;
        lk->acc = acc;
        lk->lookup = true;
        lk->est_rows = unique ? 1 : r->rows / 10 < 1 ? 1 : r->rows / 10;
        if (!unique && r->n->kind == JN_LEAF) {
            /* With statistics: the right's rows per distinct key. */
            uint32_t hc = (uint32_t)(acc.t->handle_col < 0 ? 0
                                                           : acc.t->handle_col);
            const uint32_t *kc = acc.idx < 0 ? &hc : acc.t->idx[acc.idx].cols;
            double per = r->rows;
            for (uint32_t k = 0; k < acc.ranges[0].neq && per >= 0; k++) {
                double n = col_ndv(j, (int)(j->f->tabs[r->n->tab].offset +
                                            kc[k]),
                                   r->rows);
                per = n < 0 ? -1 : per / n;
            }
            if (per >= 0)
                lk->est_rows = per < 1 ? 1 : per;
        }
        rp = lk;
        jp->join_algo = JA_INDEX;
    } else if (rc != 0)
        return rc;
    else
        jp->join_algo = JA_NESTED;
    jp->right = rp;
    size_t ncond = 0, neq = 0;
    for (size_t i = 0; i < cs->n; i++) {
        struct conj *c = &cs->v[i];
        if (c->used || (c->mask & ~both))
            continue;
        c->used = true;
        cond[ncond++] = c->e;
        if (equi_side(c, lmask, rmask))
            eqs[neq++] = i;
    }
    if (jp->join_algo == JA_NESTED && neq > 0) {
        jp->lkeys = zalloc(s, sizeof(*jp->lkeys) * neq);
        jp->rkeys = zalloc(s, sizeof(*jp->rkeys) * neq);
        jp->ktypes = zalloc(s, sizeof(*jp->ktypes) * neq);
        if (!jp->lkeys || !jp->rkeys || !jp->ktypes)
            return -ENOMEM;
        for (size_t k = 0; k < neq; k++) {
            const struct conj *c = &cs->v[eqs[k]];
            bool lfirst = equi_side(c, lmask, rmask) == 1;
            struct sql_ftype lt, rt;
            if ((rc = compile(j, lfirst ? c->e->a : c->e->b,
                              &jp->lkeys[jp->njkeys], &lt)) != 0 ||
                (rc = compile(j, lfirst ? c->e->b : c->e->a,
                              &jp->rkeys[jp->njkeys], &rt)) != 0)
                return rc;
            if (hash_type(&lt, &rt, &jp->ktypes[jp->njkeys]))
                jp->njkeys++;
        }
        if (jp->njkeys > 0) {
            jp->join_algo = JA_HASH;
            jp->build_left = type == JT_INNER && left->est_rows < r->rows;
        }
    }
    const struct ast_expr *w = and_of(s, cond, ncond);
    if (ncond && !w)
        return -ENOMEM;
    if (w && (rc = compile(j, w, &jp->cond, NULL)) != 0)
        return rc;
    jp->info = conj_text(s, cond, ncond);
    *out = jp;
    return 0;
}

static int item_down(struct jctx *j, struct jitem *it,
                     const struct ast_expr *e)
{
    if (it->ndown == it->capdown) {
        size_t cap = it->capdown ? it->capdown * 2 : 8;
        const struct ast_expr **d = zalloc(j->s, sizeof(*d) * cap);
        if (!d)
            return -ENOMEM;
        if (it->ndown)
            memcpy(d, it->down, sizeof(*d) * it->ndown);
        it->down = d;
        it->capdown = cap;
    }
    it->down[it->ndown++] = e;
    return 0;
}

/* The items of an inner-join group and its ON conjuncts. */
static int flatten(struct jctx *j, const struct plan_jnode *n,
                   struct jitem *items, size_t *nitems, struct conjs *cs)
{
    if (n->kind != JN_INNER) {
        memset(&items[*nitems], 0, sizeof(items[0]));
        items[(*nitems)++].n = n;
        return 0;
    }
    int rc = flatten(j, n->l, items, nitems, cs);
    if (rc == 0)
        rc = flatten(j, n->r, items, nitems, cs);
    if (rc == 0)
        rc = conj_add(j->s, j->ts, cs, n->on, n->mask, "on clause");
    return rc;
}

/* An outer join: the preserved side with the conjuncts given, the other
 * side with ON's conjuncts that read only it; the rest of ON decides the
 * matches. */
static int left_join_plan(struct jctx *j, const struct plan_jnode *n,
                          const struct ast_expr **down, size_t ndown,
                          struct plan **out, double *rows)
{
    /* The conjuncts given that read the NULL-supplying side (or no
     * table) filter the join's result; the others go down the preserved
     * side. */
    struct conjs given = {0}, on = {0};
    int rc;
    for (size_t i = 0; i < ndown; i++)
        if ((rc = conj_add(j->s, j->ts, &given, down[i], 0,
                           "where clause")) != 0)
            return rc;
    const struct ast_expr **keep = zalloc(j->s, sizeof(*keep) * (ndown + 1));
    const struct ast_expr **above = zalloc(j->s, sizeof(*above) * (ndown + 1));
    if (!keep || !above)
        return -ENOMEM;
    size_t nkeep = 0, nabove = 0;
    for (size_t i = 0; i < given.n; i++) {
        if (given.v[i].mask && (given.v[i].mask & ~n->l->mask) == 0)
            keep[nkeep++] = given.v[i].e;
        else
            above[nabove++] = given.v[i].e;
    }
    down = keep;
    ndown = nkeep;
    if ((rc = conj_add(j->s, j->ts, &on, n->on, n->mask, "on clause")) != 0)
        return rc;
    const struct ast_expr **inner = zalloc(j->s, sizeof(*inner) * (on.n + 1));
    if (!inner)
        return -ENOMEM;
    size_t ninner = 0;
    for (size_t i = 0; i < on.n; i++)
        if (on.v[i].mask && (on.v[i].mask & ~n->r->mask) == 0) {
            inner[ninner++] = on.v[i].e;
            on.v[i].used = true;
        }
    struct plan *lp;
    struct jitem r = {.n = n->r};
    double lrows;
    if ((rc = node_plan(j, n->l, down, ndown, &lp, &lrows)) != 0 ||
        (rc = node_plan(j, n->r, inner, ninner, &r.p, &r.rows)) != 0)
        return rc;
    /* Conjuncts of ON that read no table, or only the preserved side,
     * decide matches too: join conditions like the others. */
    for (size_t i = 0; i < on.n; i++)
        if (!on.v[i].used)
            on.v[i].mask |= n->r->mask;
    if ((rc = join_step(j, &on, lp, n->l->mask, &r, JT_LEFT, out)) != 0 ||
        (rc = filter(j, out, above, nabove)) != 0)
        return rc;
    *rows = (*out)->est_rows;
    return 0;
}

/* Greedy order: the smallest item first, then each time the item
 * connected to what is joined that gives the fewest rows (an unconnected
 * one only when none is connected). O(n^2) estimates. */
static int greedy_order(struct jctx *j, const struct conjs *cs,
                        const struct jitem *items, size_t nitems,
                        size_t *order)
{
    bool *done = zalloc(j->s, sizeof(bool) * (nitems + 1));
    if (!done)
        return -ENOMEM;
    size_t first = 0;
    for (size_t k = 1; k < nitems; k++)
        if (items[k].rows < items[first].rows)
            first = k;
    order[0] = first;
    done[first] = true;
    double rows = items[first].rows;
    uint64_t mask = items[first].n->mask;
    for (size_t step = 1; step < nitems; step++) {
        size_t best = SIZE_MAX;
        double best_rows = 0;
        bool best_conn = false;
        for (size_t k = 0; k < nitems; k++) {
            if (done[k])
                continue;
            bool conn;
            double r = join_rows(j, cs, mask, rows, &items[k], &conn);
            if (best == SIZE_MAX || (conn && !best_conn) ||
                (conn == best_conn && r < best_rows)) {
                best = k;
                best_rows = r;
                best_conn = conn;
            }
        }
        done[best] = true;
        order[step] = best;
        rows = best_rows;
        mask |= items[best].n->mask;
    }
    return 0;
}

/* The rows the scan of item it reads before its filters, by its access path
 * and the statistics; -1 without them (the cost is then the rows of the
 * intermediate results alone, as without statistics at all). */
static double item_read(const struct jctx *j, const struct jitem *it)
{
    if (it->n->kind != JN_LEAF || it->p->kind != PL_SCAN)
        return -1;
    return sql__stats_access_rows(j->f->tabs[it->n->tab].t, &it->p->acc);
}

/* Rows an index join reads of leaf item r per left row (tables lmask):
 * 1 by the handle or a unique key, else an index entry and its row per
 * row of the key's value (statistics' distinct count, all the table's
 * rows, not only those its filters keep); -1 when no equal conjunct
 * meets the handle or an index's first column, or without statistics. */
static double lookup_read(const struct jctx *j, const struct conjs *cs,
                          uint64_t lmask, const struct jitem *r, bool *unique)
{
    *unique = false;
    if (r->n->kind != JN_LEAF)
        return -1;
    const struct plan_ftable *ft = &j->f->tabs[r->n->tab];
    const struct sql_tableinfo *t = ft->t;
    double trows = sql__stats_table_rows(t);
    if (trows < 0 || sql__is_virtual(t))
        return -1;
    double best = -1;
    for (size_t i = 0; i < cs->n; i++) {
        const struct conj *c = &cs->v[i];
        int side = c->used ? 0 : equi_side(c, lmask, r->n->mask);
        int col = side == 1 ? c->bcol : side == 2 ? c->acol : -1;
        if (col < 0)
            continue;
        int tc = col - (int)ft->offset;
        double per = -1;
        if (tc == t->handle_col) {
            per = 1;
            *unique = true;
        }
        for (uint32_t x = 0; per != 1 && x < t->nidx; x++) {
            const struct sql_idxinfo *ix = &t->idx[x];
            if ((int32_t)x == t->pk_handle_idx ||
                ix->state != SQL_IDX_PUBLIC || ix->cols[0] != (uint32_t)tc)
                continue;
            if (ix->unique && ix->ncols == 1) {
                per = 1;
                *unique = true;
            } else {
                double ndv = sql__stats_col_ndv(t, tc);
                double p2 = 2 * trows / (ndv < 1 ? 1 : ndv);
                if (per < 0 || p2 < per)
                    per = p2;
            }
        }
        if (per >= 0 && (best < 0 || per < best))
            best = per;
    }
    return best;
}

/* Left-deep order by dynamic programming over the connected subsets of
 * the items (Selinger's; cost: the rows of every intermediate result plus
 * the rows each step reads of its new item, the first item's scan
 * included): each subset's cheapest plan extends the cheapest plan of
 * the subset without one item connected to it by a condition, so no cross product is considered. False when the items are
 * not all connected (the greedy order then brings the cross product in
 * last). 2^n subsets times n: n <= DP_MAX_ITEMS. */
static bool dp_order(struct jctx *j, const struct conjs *cs,
                     const struct jitem *items, size_t nitems, size_t *order)
{
    size_t nsets = (size_t)1 << nitems;
    double *read = zalloc(j->s, sizeof(double) * (nitems + 1));
    double *cost = zalloc(j->s, sizeof(double) * nsets);
    double *rows = zalloc(j->s, sizeof(double) * nsets);
    uint64_t *mask = zalloc(j->s, sizeof(uint64_t) * nsets);
    uint8_t *last = zalloc(j->s, nsets);
    uint32_t adj[DP_MAX_ITEMS] = {0}; /* items a condition links to k */
    if (!read || !cost || !rows || !mask || !last)
        return false;
    for (size_t k = 0; k < nitems; k++)
        read[k] = item_read(j, &items[k]);
    for (size_t i = 0; i < cs->n; i++) {
        uint32_t touched = 0;
        for (size_t k = 0; k < nitems; k++)
            if (!cs->v[i].used && (cs->v[i].mask & items[k].n->mask))
                touched |= 1u << k;
        for (size_t k = 0; k < nitems; k++)
            if (touched >> k & 1)
                adj[k] |= touched & ~(1u << k);
    }
    for (size_t set = 1; set < nsets; set++) {
        cost[set] = -1; /* not reachable (yet) */
        for (size_t k = 0; k < nitems; k++)
            if (set >> k & 1)
                mask[set] |= items[k].n->mask;
    }
    for (size_t k = 0; k < nitems; k++) {
        cost[(size_t)1 << k] = read[k] >= 0 ? read[k] : items[k].rows;
        rows[(size_t)1 << k] = items[k].rows;
        last[(size_t)1 << k] = (uint8_t)k;
    }
    /* Subsets in increasing order: every proper subset comes first. */
    for (size_t set = 1; set < nsets; set++) {
        if ((set & (set - 1)) == 0)
            continue;
        /* Last items first: on a tie the earlier items stay in front,
         * as the greedy order keeps them. */
        for (size_t k = nitems; k-- > 0;) {
            size_t prev = set & ~((size_t)1 << k);
            if (!(set >> k & 1) || cost[prev] < 0 || !(adj[k] & prev))
                continue;
            bool conn;
            double r = join_rows(j, cs, mask[prev], rows[prev], &items[k],
                                 &conn);
            if (!conn)
                continue;
            /* What the step reads of item k: by its key per left row
             * when join_step will choose an index join, else its scan. */
            bool unique;
            double per = lookup_read(j, cs, mask[prev], &items[k], &unique);
            double rd = read[k] < 0 ? 0
                        : per >= 0 && (unique || rows[prev] <= items[k].rows)
                            ? rows[prev] * per
                            : read[k];
            double c = cost[prev] + r + rd;
            if (cost[set] < 0 || c < cost[set]) {
                cost[set] = c;
                rows[set] = r;
                last[set] = (uint8_t)k;
            }
        }
    }
    size_t set = nsets - 1;
    if (cost[set] < 0)
        return false;
    for (size_t step = nitems; step > 0; step--) {
        order[step - 1] = last[set];
        set &= ~((size_t)1 << last[set]);
    }
    return true;
}

static int node_plan(struct jctx *j, const struct plan_jnode *n,
                     const struct ast_expr **down, size_t ndown,
                     struct plan **out, double *rows)
{
    struct sql_session *s = j->s;
    int rc;
    if (n->kind == JN_LEAF) {
        if ((rc = leaf_plan(j, n->tab, down, ndown, out)) != 0)
            return rc;
        *rows = (*out)->est_rows;
        return 0;
    }
    if (n->kind == JN_LEFT)
        return left_join_plan(j, n, down, ndown, out, rows);
    /* An inner group: its items, its conjuncts (the ones given and ON's). */
    size_t cap = 0;
    for (size_t i = 0; i < j->f->ntabs; i++)
        cap += n->mask >> i & 1;
    struct jitem *items = zalloc(s, sizeof(*items) * cap);
    struct conjs cs = {0};
    if (!items)
        return -ENOMEM;
    size_t nitems = 0;
    for (size_t i = 0; i < ndown; i++)
        if ((rc = conj_add(s, j->ts, &cs, down[i], 0, "where clause")) != 0)
            return rc;
    if ((rc = flatten(j, n, items, &nitems, &cs)) != 0)
        return rc;
    if ((rc = or_derive(s, j->ts, &cs, cs.n)) != 0)
        return rc;
    /* Conjuncts of one item go down into it (an outer join takes those of
     * its preserved side; the others wait above it), constant ones above
     * the group. */
    const struct ast_expr **top = zalloc(s, sizeof(*top) * (cs.n + 1));
    const struct ast_expr **above = zalloc(s, sizeof(*above) * (cs.n + 1));
    size_t *above_item = zalloc(s, sizeof(*above_item) * (cs.n + 1));
    if (!top || !above || !above_item)
        return -ENOMEM;
    size_t ntop = 0, nabove = 0;
    for (size_t i = 0; i < cs.n; i++) {
        struct conj *c = &cs.v[i];
        if (c->mask == 0) {
            top[ntop++] = c->e;
            c->used = true;
            continue;
        }
        for (size_t k = 0; k < nitems; k++) {
            const struct plan_jnode *in = items[k].n;
            if (c->mask & ~in->mask)
                continue;
            c->used = true;
            if (in->kind == JN_LEFT && (c->mask & ~in->l->mask)) {
                above_item[nabove] = k;
                above[nabove++] = c->e;
            } else if ((rc = item_down(j, &items[k], c->e)) != 0)
                return rc;
        }
    }
    for (size_t k = 0; k < nitems; k++) {
        struct jitem *it = &items[k];
        if ((rc = node_plan(j, it->n, it->down, it->ndown, &it->p,
                            &it->rows)) != 0)
            return rc;
        size_t na = 0;
        const struct ast_expr **mine = zalloc(s, sizeof(*mine) * (nabove + 1));
        if (!mine)
            return -ENOMEM;
        for (size_t i = 0; i < nabove; i++)
            if (above_item[i] == k)
                mine[na++] = above[i];
        if ((rc = filter(j, &it->p, mine, na)) != 0)
            return rc;
    }
    /* The order: dynamic programming for a small group, greedy for a
     * big one; then the steps in that order. */
    size_t *order = zalloc(s, sizeof(*order) * (nitems + 1));
    if (!order)
        return -ENOMEM;
    if (nitems > DP_MAX_ITEMS || !dp_order(j, &cs, items, nitems, order)) {
        if ((rc = greedy_order(j, &cs, items, nitems, order)) != 0)
            return rc;
    }
    struct plan *cur = items[order[0]].p;
    uint64_t mask = items[order[0]].n->mask;
    for (size_t step = 1; step < nitems; step++) {
        struct jitem *it = &items[order[step]];
        if ((rc = join_step(j, &cs, cur, mask, it, JT_INNER, &cur)) != 0)
            return rc;
        mask |= it->n->mask;
    }
    /* Conjuncts no step took (none should remain) and constant ones. */
    for (size_t i = 0; i < cs.n; i++)
        if (!cs.v[i].used)
            top[ntop++] = cs.v[i].e;
    if ((rc = filter(j, &cur, top, ntop)) != 0)
        return rc;
    *out = cur;
    *rows = cur->est_rows;
    return 0;
}

/* Join the query's plan *cur (tables mask) with semi-join sm's
 * subquery: its WHERE's conjuncts on its own tables go into its scans,
 * the others (reading the query's tables too) and x = item decide the
 * matches. Names resolve in the subquery's tables first. */
static int semi_step(struct jctx *j, const struct plan_semi *sm,
                     struct plan **cur, uint64_t mask)
{
    struct sql_session *s = j->s;
    struct conjs cs = {0};
    j->ts->inner = sm->node->mask;
    int rc = conj_add(s, j->ts, &cs, sm->where, 0, "where clause");
    if (rc == 0 && sm->eq)
        rc = conj_add(s, j->ts, &cs, sm->eq, 0, "where clause");
    const struct ast_expr **down = zalloc(s, sizeof(*down) * (cs.n + 1));
    if (rc == 0 && !down)
        rc = -ENOMEM;
    size_t ndown = 0;
    for (size_t i = 0; rc == 0 && i < cs.n; i++) {
        struct conj *c = &cs.v[i];
        if (c->mask && (c->mask & ~sm->node->mask) == 0) {
            down[ndown++] = c->e;
            c->used = true;
        } else
            c->mask |= sm->node->mask; /* decided at the join */
    }
    struct jitem r = {.n = sm->node};
    if (rc == 0)
        rc = node_plan(j, sm->node, down, ndown, &r.p, &r.rows);
    if (rc == 0)
        rc = join_step(j, &cs, *cur, mask, &r, sm->type, cur);
    j->ts->inner = 0;
    return rc;
}

/* The table whose NULL makes conjunct e not TRUE, through a plain column
 * operand (a comparison other than <=>, [NOT] IN a list, [NOT] BETWEEN,
 * [NOT] LIKE, IS NOT NULL), as a mask of such tables (0: none known). */
static uint64_t null_rejects(struct plan_tscope *ts, const struct ast_expr *e)
{
    const struct ast_expr *ops[2] = {NULL, NULL};
    switch (e->kind) {
    case AST_E_BINARY:
        if (e->op == AST_OP_EQ || e->op == AST_OP_NE || e->op == AST_OP_LT ||
            e->op == AST_OP_LE || e->op == AST_OP_GT || e->op == AST_OP_GE) {
            ops[0] = e->a;
            ops[1] = e->b;
        }
        break;
    case AST_E_IN:
        if (!e->sub)
            ops[0] = e->a;
        break;
    case AST_E_BETWEEN:
    case AST_E_LIKE:
        ops[0] = e->a;
        break;
    case AST_E_IS:
        if (e->op == AST_OP_ISNULL && e->neg)
            ops[0] = e->a;
        break;
    default:
        break;
    }
    uint64_t m = 0;
    for (int i = 0; i < 2; i++) {
        struct sql_colref ref;
        struct sql_err err;
        if (ops[i] && ops[i]->kind == AST_E_COLUMN && ops[i]->name &&
            sql__from_column(ts, ops[i], &ref, &err) == 0)
            m |= 1ull << tab_of(ts->from, ref.index);
    }
    return m;
}

/* Outer-join simplification: a LEFT JOIN below which WHERE rejects the
 * rows whose NULL-supplying side is NULL (a null-rejecting conjunct on
 * one of its tables) is an inner join, which the greedy order may then
 * reorder and push into. WHERE's conjuncts apply to every table reached
 * through inner joins and, once a LEFT JOIN is inner, through both its
 * sides. */
static void simplify(struct plan_jnode *n, const uint64_t *rej, size_t nrej)
{
    if (n->kind == JN_LEAF)
        return;
    if (n->kind == JN_LEFT)
        for (size_t i = 0; i < nrej; i++)
            if (rej[i] & n->r->mask) {
                n->kind = JN_INNER;
                break;
            }
    simplify(n->l, rej, nrej);
    if (n->kind == JN_INNER)
        simplify(n->r, rej, nrej);
}

int sql__plan_joins(struct sql_session *s, struct plan_tscope *ts,
                    const struct ast_expr *where, bool lock,
                    struct plan **out)
{
    struct jctx j = {.s = s, .ts = ts, .f = ts->from, .lock = lock};
    struct conjs w = {0};
    int rc = conj_add(s, ts, &w, where, 0, "where clause");
    if (rc != 0)
        return rc;
    const struct ast_expr **down = zalloc(s, sizeof(*down) * (w.n + 1));
    if (!down)
        return -ENOMEM;
    uint64_t *rej = zalloc(s, sizeof(*rej) * (w.n + 1));
    if (!rej)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < w.n; i++) {
        bool semi = false;
        for (size_t k = 0; k < j.f->nsemis; k++)
            semi = semi || j.f->semis[k].conj == w.v[i].e;
        if (!semi) {
            rej[n] = null_rejects(ts, w.v[i].e);
            down[n++] = w.v[i].e;
        }
    }
    simplify(j.f->root, rej, n);
    double rows;
    if ((rc = node_plan(&j, j.f->root, down, n, out, &rows)) != 0)
        return rc;
    uint64_t mask = j.f->root->mask;
    for (size_t k = 0; k < j.f->nsemis && rc == 0; k++) {
        rc = semi_step(&j, &j.f->semis[k], out, mask);
        mask |= j.f->semis[k].node->mask;
    }
    return rc;
}

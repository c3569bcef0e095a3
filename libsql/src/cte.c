/* cte.c: common table expressions (WITH [RECURSIVE]): a CTE is planned
 * the first time the statement names it and becomes a derived table whose
 * rows are made when first read (plan_vrows); a recursive one iterates
 * its recursive blocks over a worktable (the previous round's new rows)
 * until a round adds none, while it is planned (DESIGN.md "Set
 * operations and CTEs").
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "exec_int.h"
#include "expr_int.h"
#include "plan.h"
#include "sql_int.h"
#include "sysvar.h"
#include "view.h"

/* One CTE of a WITH list. */
struct cte
{
    const struct ast_cte *def;         /* its definition */
    int state;                         /* 0 not planned, 1 being planned,
                                          2 planned */
    bool recursing;                    /* names resolve to the worktable */
    struct sql_tableinfo *ti;          /* its columns (virtual table) */
    struct plan_vrows *v;              /* its rows, ti->ncols each (made
                                          when first read, unless
                                          recursive) */
    struct plan_vrows *work;           /* the worktable, while recursing:
                                          one object the members' plans
                                          read, its rows those of the
                                          round (plans are made once) */
};

/* A WITH list in scope while its query is planned; scopes nest. */
struct sql_cte_scope
{
    struct cte *c;                     /* the list */
    size_t n;                          /* its length */
    size_t visible;                    /* c[0..visible) can be named (a
                                          CTE sees the earlier ones, and
                                          itself when recursive) */
    bool recursive;                    /* WITH RECURSIVE */
    int view_depth;                    /* views being expanded around */
    struct sql_cte_scope *up;          /* the enclosing query's */
};

int sql__plan_with(struct sql_session *s, const struct ast_select *sel,
                   const struct sql_expr_scope *parent,
                   struct sql_colref **caps, size_t *ncaps,
                   struct plan **out)
{
    struct sql_cte_scope *sc = sql__arena_zalloc(s->arena, sizeof(*sc));
    struct ast_select *q = sql__arena_alloc(s->arena, sizeof(*q));
    if (!sc || !q)
        return -ENOMEM;
    for (const struct ast_cte *c = sel->with; c; c = c->next)
        sc->n++;
    if (!(sc->c = sql__arena_zalloc(s->arena, sizeof(*sc->c) * sc->n)))
        return -ENOMEM;
    size_t i = 0;
    for (const struct ast_cte *c = sel->with; c; c = c->next, i++) {
        for (size_t k = 0; k < i; k++)
            if (strcmp(sc->c[k].def->name, c->name) == 0)
                return sql__serr(s, 1066, "42000",
                                 "Not unique table/alias: '%.64s'", c->name);
        sc->c[i].def = c;
    }
    sc->visible = sc->n;
    sc->recursive = sel->recursive;
    sc->up = s->ctes;
    sc->view_depth = sc->up ? sc->up->view_depth : 0;
    *q = *sel;
    q->with = NULL;
    q->recursive = false;
    s->ctes = sc;
    int rc = sql__plan_select_in(s, q, parent, caps, ncaps, out);
    s->ctes = sc->up;
    return rc;
}

/* The CTE t names, and its scope, or NULL. */
static struct cte *find(struct sql_session *s, const struct ast_table_ref *t,
                        struct sql_cte_scope **scope)
{
    if (t->kind != AST_T_TABLE || t->db)
        return NULL;
    for (struct sql_cte_scope *sc = s->ctes; sc; sc = sc->up)
        for (size_t i = 0; i < sc->visible; i++)
            if (strcmp(sc->c[i].def->name, t->name) == 0) {
                *scope = sc;
                return &sc->c[i];
            }
    return NULL;
}

bool sql__query_named(struct sql_session *s, const struct ast_table_ref *t)
{
    struct sql_cte_scope *sc;
    return find(s, t, &sc) != NULL || sql__view_named(s, t);
}

/* ---- references to a CTE inside a query -------------------------------- */

/* Where a query names the CTE: in FROM lists (count), in the NULL-
 * supplying side of an outer join, in subqueries and derived tables. */
struct refs
{
    const char *name;  /* the CTE */
    int from;          /* in the block's own FROM */
    int nested;        /* in a subquery or derived table */
    bool outer;        /* on the NULL-supplying side of an outer join */
};

static void refs_select(const struct ast_select *q, struct refs *r,
                        bool nested);

static void refs_expr(const struct ast_expr *e, struct refs *r)
{
    for (; e; e = e->next) {
        if (e->sub)
            refs_select(e->sub, r, true);
        refs_expr(e->a, r);
        refs_expr(e->b, r);
        refs_expr(e->c, r);
        refs_expr(e->args, r);
        for (const struct ast_when *w = e->whens; w; w = w->next) {
            refs_expr(w->cond, r);
            refs_expr(w->then, r);
        }
    }
}

static void refs_table(const struct ast_table_ref *t, struct refs *r,
                       bool nested, bool nullable)
{
    for (; t; t = t->next) {
        if (t->kind == AST_T_TABLE && !t->db && strcmp(t->name, r->name) == 0) {
            if (nested)
                r->nested++;
            else
                r->from++;
            if (nullable)
                r->outer = true;
        } else if (t->kind == AST_T_DERIVED) {
            refs_select(t->sub, r, true);
        } else if (t->kind == AST_T_JOIN) {
            refs_table(t->left, r, nested,
                       nullable || t->join == AST_J_RIGHT);
            refs_table(t->right, r, nested,
                       nullable || t->join == AST_J_LEFT);
            refs_expr(t->on, r);
        }
    }
}

static void refs_select(const struct ast_select *q, struct refs *r,
                        bool nested)
{
    if (!q)
        return;
    for (const struct ast_cte *c = q->with; c; c = c->next) {
        if (strcmp(c->name, r->name) == 0)
            return; /* shadowed below (a simplification: all of q) */
        refs_select(c->query, r, true);
    }
    if (q->kind == AST_SEL_UNION) {
        refs_select(q->left, r, nested);
        refs_select(q->right, r, nested);
        return;
    }
    refs_table(q->from, r, nested, false);
    for (const struct ast_item *it = q->items; it; it = it->next)
        refs_expr(it->expr, r);
    refs_expr(q->where, r);
    refs_expr(q->having, r);
    for (const struct ast_order *o = q->group; o; o = o->next)
        refs_expr(o->expr, r);
    for (const struct ast_order *o = q->order; o; o = o->next)
        refs_expr(o->expr, r);
}

static bool refers(const struct ast_select *q, const char *name)
{
    struct refs r = {.name = name};
    refs_select(q, &r, false);
    return r.from + r.nested > 0;
}

/* ---- materializing ------------------------------------------------------ */

/* The virtual table of a CTE: its column names (the list, else the
 * query's), types from plan p (a recursive CTE's anchor). */
static int make_table(struct sql_session *s, struct cte *e,
                      const struct plan *p, bool recursive)
{
    const struct ast_cte *d = e->def;
    size_t n = p->nvisible, nn = 0;
    for (const struct ast_name *c = d->columns; c; c = c->next)
        nn++;
    if (d->columns && nn != n)
        return sql__serr(s, 1353, "HY000",
                         "In definition of view, derived table or common "
                         "table expression, SELECT list and column names "
                         "list have different column counts");
    struct sql_tableinfo *ti = sql__arena_zalloc(s->arena, sizeof(*ti));
    if (!ti || !(ti->cols = sql__arena_zalloc(s->arena,
                                              sizeof(*ti->cols) * (n + 1))))
        return -ENOMEM;
    ti->id = SQL_DERIVED_ID;
    ti->name = d->name;
    ti->handle_col = -1;
    ti->pk_handle_idx = -1;
    ti->ncols = (uint32_t)n;
    const struct ast_name *cn = d->columns;
    for (uint32_t i = 0; i < n; i++, cn = cn ? cn->next : NULL) {
        const char *name = cn ? cn->name : p->cols[i].name;
        for (uint32_t k = 0; k < i; k++)
            if (strcasecmp(ti->cols[k].name, name) == 0)
                return sql__serr(s, 1060, "42S21",
                                 "Duplicate column name '%.64s'", name);
        ti->cols[i].id = i + 1;
        ti->cols[i].name = name;
        ti->cols[i].type = p->cols[i].type;
        if (recursive) /* later rounds may bring NULLs */
            ti->cols[i].type.flags &= (uint16_t)~SQL_COLFLAG_NOT_NULL;
    }
    e->ti = ti;
    return 0;
}

/* The rows seen so far of a recursive CTE with UNION DISTINCT: their key
 * forms in an open-addressing set. */
struct seen
{
    struct sql__buf kb;   /* the row being tested */
    uint8_t **key;        /* per slot: the key (length-prefixed) or NULL */
    size_t nslots, used;  /* power of two; filled */
};

/* Whether the key in sn->kb is new (then it is added). */
static int seen_add(struct sql_session *s, struct seen *sn, bool *fresh)
{
    const uint8_t *k = sn->kb.p ? sn->kb.p : (const uint8_t *)"";
    size_t kl = sn->kb.len;
    if ((sn->used + 1) * 2 > sn->nslots) {
        size_t ns = sn->nslots ? sn->nslots * 2 : 256;
        uint8_t **t = sql__arena_zalloc(s->arena, sizeof(*t) * ns);
        if (!t)
            return -ENOMEM;
        for (size_t i = 0; i < sn->nslots; i++) {
            if (!sn->key[i])
                continue;
            size_t len;
            memcpy(&len, sn->key[i], sizeof(len));
            size_t j = (size_t)sql__xhash(sn->key[i] + sizeof(len), len) &
                       (ns - 1);
            while (t[j])
                j = (j + 1) & (ns - 1);
            t[j] = sn->key[i];
        }
        sn->key = t;
        sn->nslots = ns;
    }
    size_t j = (size_t)sql__xhash(k, kl) & (sn->nslots - 1);
    for (; sn->key[j]; j = (j + 1) & (sn->nslots - 1)) {
        size_t len;
        memcpy(&len, sn->key[j], sizeof(len));
        if (len == kl && memcmp(sn->key[j] + sizeof(len), k, kl) == 0) {
            *fresh = false;
            return 0;
        }
    }
    uint8_t *c = sql__arena_alloc(s->arena, sizeof(kl) + kl);
    if (!c)
        return -ENOMEM;
    memcpy(c, &kl, sizeof(kl));
    if (kl)
        memcpy(c + sizeof(kl), k, kl);
    sn->key[j] = c;
    sn->used++;
    *fresh = true;
    return 0;
}

/* Append rows[0..n) (ncols wide, from a block of another type) to
 * *all, converted to the CTE's column types; with sn only those not seen
 * before. The new ones are (*all)[*nall - *nnew ..). */
static int append_rows(struct sql_session *s, struct sql_xctx *x,
                       const struct sql_tableinfo *ti, struct sql_expr *conv,
                       const struct sql_datum *rows, size_t n, size_t width,
                       struct seen *sn, struct sql_datum **all, size_t *nall,
                       size_t *cap, size_t *nnew)
{
    size_t nc = ti->ncols;
    *nnew = 0;
    for (size_t r = 0; r < n; r++) {
        if (*nall == *cap) {
            size_t ncap = *cap ? *cap * 2 : 64;
            struct sql_datum *a = sql__arena_alloc(s->arena,
                                                   sizeof(*a) * ncap * nc);
            if (!a)
                return -ENOMEM;
            if (*nall)
                memcpy(a, *all, sizeof(*a) * *nall * nc);
            *all = a;
            *cap = ncap;
        }
        struct sql_datum *d = *all + *nall * nc;
        if (sn)
            sn->kb.len = 0;
        for (size_t k = 0; k < nc; k++) {
            d[k] = rows[r * width + k];
            int rc = sql__to_result(&conv[k], &x->ev, &d[k]);
            if (rc == 0)
                rc = sql__datum_copy(s->arena, &d[k]);
            if (rc == 0 && sn)
                rc = sql__key_append(&sn->kb, &d[k], &ti->cols[k].type);
            if (rc != 0)
                return sql__xerr(x, rc);
        }
        bool fresh = true;
        if (sn) {
            int rc = seen_add(s, sn, &fresh);
            if (rc != 0)
                return rc;
        }
        if (fresh) {
            ++*nall;
            ++*nnew;
        }
    }
    return 0;
}

/* The members of a recursive CTE's UNION chain, in order. */
static int members(struct sql_session *s, const struct ast_select *q,
                   const struct ast_select ***out, size_t *n, bool *distinct)
{
    if (q->kind == AST_SEL_UNION && q->setop == AST_SETOP_UNION &&
        !q->order && !q->limit && !q->with) {
        if (!q->union_all)
            *distinct = true;
        int rc = members(s, q->left, out, n, distinct);
        return rc ? rc : members(s, q->right, out, n, distinct);
    }
    const struct ast_select **m = sql__arena_alloc(s->arena,
                                                   sizeof(*m) * (*n + 1));
    if (!m)
        return -ENOMEM;
    if (*n)
        memcpy(m, *out, sizeof(*m) * *n);
    m[(*n)++] = q;
    *out = m;
    return 0;
}

static int check_recursive_block(struct sql_session *s, const char *name,
                                 const struct ast_select *q)
{
    struct refs r = {.name = name};
    refs_select(q, &r, false);
    if (r.from != 1 || r.nested)
        return sql__serr(s, 3574, "HY000",
                         "In recursive query block of Recursive Common "
                         "Table Expression '%.64s', the recursive table must "
                         "be referenced only once, and not in any subquery",
                         name);
    if (r.outer)
        return sql__serr(s, 3576, "HY000",
                         "In recursive query block of Recursive Common "
                         "Table Expression '%.64s', the recursive table must "
                         "neither be in the right argument of a LEFT JOIN, "
                         "nor be forced to be non-first with join order "
                         "hints", name);
    bool agg = q->group || sql__plan_has_agg(q->having);
    for (const struct ast_item *it = q->items; it && !agg; it = it->next)
        agg = sql__plan_has_agg(it->expr);
    if (agg)
        return sql__serr(s, 3575, "HY000",
                         "Recursive Common Table Expression '%.64s' can "
                         "contain neither aggregation nor window functions "
                         "in recursive query block", name);
    if (q->order || q->limit || q->distinct)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'ORDER "
                         "BY / LIMIT / SELECT DISTINCT in recursive query "
                         "block of Common Table Expression'");
    return 0;
}

static uint64_t max_depth(struct sql_session *s)
{
    int i = sql__sysvar_find("cte_max_recursion_depth");
    return i < 0 ? 1000 : sql__sess_var(s, i)->u;
}

/* WITH RECURSIVE e AS (anchor UNION [ALL] recursive ...): the anchor
 * blocks once, then every recursive block over the worktable (the rows
 * the round before added) until a round adds none. */
static int make_recursive(struct sql_session *s, struct sql_cte_scope *sc,
                          size_t k)
{
    struct cte *e = &sc->c[k];
    const char *name = e->def->name;
    const struct ast_select *q = e->def->query;
    const struct ast_select **m = NULL;
    size_t nm = 0, na = 0;
    bool distinct = false;
    if (q->kind != AST_SEL_UNION || q->setop != AST_SETOP_UNION)
        return sql__serr(s, 3573, "HY000",
                         "Recursive Common Table Expression '%.64s' should "
                         "contain a UNION", name);
    if (q->order || q->limit)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'ORDER "
                         "BY / LIMIT over UNION in recursive Common Table "
                         "Expression'");
    int rc = members(s, q, &m, &nm, &distinct);
    if (rc != 0)
        return rc;
    while (na < nm && !refers(m[na], name))
        na++;
    for (size_t i = na; i < nm; i++)
        if (!refers(m[i], name) || na == 0)
            return sql__serr(s, 3577, "HY000",
                             "Recursive Common Table Expression '%.64s' "
                             "should have one or more non-recursive query "
                             "blocks followed by one or more recursive ones",
                             name);
    for (size_t i = na; i < nm; i++)
        if ((rc = check_recursive_block(s, name, m[i])) != 0)
            return rc;
    /* The anchor: the chain's left part that holds the first na blocks. */
    const struct ast_select *anchor = q;
    for (size_t i = nm; i > na; i--)
        anchor = anchor->left;
    struct plan *p;
    sc->visible = k; /* the anchor cannot see the CTE */
    if ((rc = sql__plan_select_in(s, anchor, NULL, NULL, NULL, &p)) != 0)
        return rc;
    if ((rc = make_table(s, e, p, true)) != 0)
        return rc;
    struct sql_datum *rows, *all = NULL;
    size_t nrows, nall = 0, cap = 0, nnew;
    if ((rc = sql__plan_rows_now(s, p, &rows, &nrows)) != 0)
        return rc;
    struct sql_xctx x;
    if ((rc = sql__xctx_init(&x, s, false)) != 0)
        return rc;
    size_t nc = e->ti->ncols;
    struct sql_expr *conv = sql__arena_zalloc(s->arena,
                                              sizeof(*conv) * (nc + 1));
    if (!conv)
        return -ENOMEM;
    for (size_t i = 0; i < nc; i++) {
        conv[i].type = e->ti->cols[i].type;
        conv[i].vt = (uint8_t)sql__ftype_vt(&conv[i].type);
    }
    struct seen sn = {0};
    struct seen *snp = distinct ? &sn : NULL;
    rc = append_rows(s, &x, e->ti, conv, rows, nrows, p->nvisible, snp, &all,
                     &nall, &cap, &nnew);
    uint64_t limit = max_depth(s), round = 0;
    sc->visible = k + 1;
    e->recursing = true;
    /* The recursive members are planned once, in the first round, over
     * the worktable object; each round gives it that round's rows and
     * runs them. (Planning them every round cost each round several KB
     * of the statement's arena: a counter CTE of 140,000 rounds went
     * past tidb_mem_quota_query's 1 GiB.) */
    struct plan **rps = sql__arena_zalloc(s->arena, sizeof(*rps) * nm);
    e->work = sql__vrows_of(s, NULL, 0);
    if (!rps || !e->work)
        rc = -ENOMEM;
    while (rc == 0 && nnew > 0) {
        /* The worktable is the slice of `all` the last round added:
         * copy it, since appending may move `all`. */
        struct sql_datum *w = sql__arena_alloc(s->arena,
                                               sizeof(*w) * nnew * nc + 1);
        if (!w) {
            rc = -ENOMEM;
            break;
        }
        memcpy(w, all + (nall - nnew) * nc, sizeof(*w) * nnew * nc);
        e->work->rows = w;
        e->work->nrows = nnew;
        e->work->est = (double)nnew;
        size_t added = 0;
        for (size_t i = na; i < nm && rc == 0; i++) {
            struct plan *rp = rps[i];
            size_t got;
            if (!rp) {
                rc = sql__plan_select_in(s, m[i], NULL, NULL, NULL, &rp);
                if (rc != 0)
                    break;
                if (rp->nvisible != nc) {
                    rc = sql__serr(s, 1222, "21000",
                                   "The used SELECT statements have a "
                                   "different number of columns");
                    break;
                }
                rps[i] = rp;
            }
            if ((rc = sql__plan_rows_now(s, rp, &rows, &nrows)) != 0)
                break;
            rc = append_rows(s, &x, e->ti, conv, rows, nrows, rp->nvisible,
                             snp, &all, &nall, &cap, &got);
            added += got;
        }
        nnew = added;
        if (rc == 0 && nnew > 0 && ++round > limit)
            rc = sql__serr(s, 3636, "HY000",
                           "Recursive query aborted after %llu iterations. "
                           "Try increasing @@cte_max_recursion_depth to a "
                           "larger value.", (unsigned long long)round);
    }
    e->recursing = false;
    sql__buf_free(&sn.kb);
    if (rc == 0 && !(e->v = sql__vrows_of(s, all, nall)))
        rc = -ENOMEM;
    return rc;
}

/* Plan c[k] of scope sc with the scope as it was at its definition (the
 * earlier CTEs, and itself when recursive), whichever query block first
 * names it; a recursive one runs now. */
static int materialize(struct sql_session *s, struct sql_cte_scope *sc,
                       size_t k)
{
    struct cte *e = &sc->c[k];
    struct sql_cte_scope *top = s->ctes;
    size_t vis = sc->visible;
    int rc;
    e->state = 1;
    s->ctes = sc;
    if (sc->recursive && refers(e->def->query, e->def->name)) {
        rc = make_recursive(s, sc, k);
    } else {
        struct plan *p;
        sc->visible = k;
        rc = sql__plan_select_in(s, e->def->query, NULL, NULL, NULL, &p);
        if (rc == 0)
            rc = make_table(s, e, p, false);
        if (rc == 0 && !(e->v = sql__vrows_defer(s, p)))
            rc = -ENOMEM;
    }
    s->ctes = top;
    sc->visible = vis;
    e->state = rc == 0 ? 2 : 0;
    return rc;
}

int sql__query_rows(struct sql_session *s, const struct ast_table_ref *t,
                    const struct sql_tableinfo **ti, struct plan_vrows **v)
{
    struct sql_cte_scope *sc;
    const struct ast_expr *where = s->view_where;
    s->view_where = NULL; /* for this name only, not names inside it */
    struct cte *e = find(s, t, &sc);
    if (!e)
        return sql__view_rows(s, t, where, ti, v);
    if (e->state == 1 && e->recursing) {
        *ti = e->ti;
        *v = e->work;
        return 0;
    }
    if (e->state == 1) /* not reachable: a CTE sees itself only so */
        return sql__serr(s, 1146, "42S02", "Table '%.64s' doesn't exist",
                         t->name);
    if (e->state == 0) {
        int rc = materialize(s, sc, (size_t)(e - sc->c));
        if (rc != 0)
            return rc;
    }
    *ti = e->ti;
    *v = e->v;
    return 0;
}

int sql__plan_view_body(struct sql_session *s, const struct ast_select *sel,
                        int max_depth, struct plan **out, bool *too_deep)
{
    /* An empty scope without an enclosing one: the statement's CTEs are
     * not the view's; it counts the views being expanded. */
    struct sql_cte_scope *mark = sql__arena_zalloc(s->arena, sizeof(*mark));
    if (!mark)
        return -ENOMEM;
    mark->view_depth = (s->ctes ? s->ctes->view_depth : 0) + 1;
    *too_deep = mark->view_depth > max_depth;
    if (*too_deep)
        return SQL_EQUERY;
    struct sql_cte_scope *top = s->ctes;
    s->ctes = mark;
    int rc = sql__plan_select_in(s, sel, NULL, NULL, NULL, out);
    s->ctes = top;
    return rc;
}

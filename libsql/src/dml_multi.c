/* dml_multi.c: multi-table UPDATE and DELETE (MySQL 8.0's UPDATE and
 * DELETE pages, "Multiple-table syntax"): the FROM tree is planned as a
 * join (plan_join.c), every joined row is read before any write, and each
 * target row is written once, through its table's single-table write path
 * (dml.c, dml_int.h). DESIGN.md "Multi-table UPDATE and DELETE".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acct.h"
#include "dml_int.h"
#include "exec.h"
#include "sql_int.h"

/* One table rows are written to. */
struct target
{
    size_t ti;                 /* its index in the FROM's tables */
    const struct plan_ftable *ft; /* the table */
    struct dml *d;             /* its write path */
    bool *assigned;            /* UPDATE: per column, SET names it */
    int64_t *seen;             /* handles written: an open-addressing set */
    bool *used;                /* its slots in use */
    size_t nseen, capseen;     /* its fill and size (a power of two) */
};

static size_t slot_of(int64_t h, size_t cap)
{
    return (size_t)(((uint64_t)h * 0x9E3779B97F4A7C15u) >> 32) & (cap - 1);
}

/* Whether handle h is new to t (and now seen). */
static int seen_add(struct sql_session *s, struct target *t, int64_t h,
                    bool *fresh)
{
    if (2 * (t->nseen + 1) > t->capseen) {
        size_t cap = t->capseen ? t->capseen * 2 : 64;
        int64_t *hs = sql__arena_alloc(s->arena, sizeof(*hs) * cap);
        bool *used = sql__arena_zalloc(s->arena, sizeof(*used) * cap);
        if (!hs || !used)
            return -ENOMEM;
        for (size_t i = 0; i < t->capseen; i++) {
            if (!t->used[i])
                continue;
            size_t k = slot_of(t->seen[i], cap);
            while (used[k])
                k = (k + 1) & (cap - 1);
            used[k] = true;
            hs[k] = t->seen[i];
        }
        t->seen = hs;
        t->used = used;
        t->capseen = cap;
    }
    size_t k = slot_of(h, t->capseen);
    for (; t->used[k]; k = (k + 1) & (t->capseen - 1))
        if (t->seen[k] == h) {
            *fresh = false;
            return 0;
        }
    t->used[k] = true;
    t->seen[k] = h;
    t->nseen++;
    *fresh = true;
    return 0;
}

/* The FROM tree of a multi-table statement, resolved into *out; ORDER BY
 * and LIMIT are MySQL's 1221 there. */
static int multi_from(struct sql_session *s, const char *stmt,
                      const struct ast_table_ref *from,
                      const struct ast_order *order,
                      const struct ast_expr *limit, struct plan_tscope **out)
{
    if (order || limit)
        return sql__serr(s, 1221, "HY000", "Incorrect usage of %s and %s",
                         stmt, order ? "ORDER BY" : "LIMIT");
    struct plan_tscope *ts = sql__arena_zalloc(s->arena, sizeof(*ts));
    if (!ts)
        return -ENOMEM;
    *out = ts;
    int rc = sql__plan_from(s, from, ts);
    ts->subqueries = true;
    return rc;
}

/* A target's table must be a base table with a primary key: its
 * handle is the integer key column in the joined row, or what the primary
 * key index maps the row's key to. */
static int writable(struct sql_session *s, const struct plan_ftable *ft,
                    const char *stmt, const struct target *tg, size_t nt)
{
    for (size_t j = 0; j < nt; j++)
        if (tg[j].ft->t == ft->t)
            return sql__serr(s, 1235, "42000",
                             "This version of sqld doesn't yet support "
                             "'%s of table %s under two names'", stmt,
                             ft->t->name);
    if (ft->vrows || sql__is_virtual(ft->t))
        return sql__serr(s, 1288, "HY000",
                         "The target table %s of the %s is not updatable",
                         ft->alias, stmt);
    bool pk = ft->t->handle_col >= 0;
    for (uint32_t i = 0; i < ft->t->nidx; i++)
        pk = pk || ft->t->idx[i].primary;
    if (!pk)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support "
                         "'multi-table %s of a table without a primary "
                         "key'", stmt);
    return 0;
}

/* Every joined row of the FROM tree under WHERE, read now. */
static int joined_rows(struct sql_session *s, struct sql_xctx *x,
                       struct plan_tscope *ts, const struct ast_expr *where,
                       struct sql_datum **rows, size_t *n)
{
    struct plan *p;
    int rc = sql__plan_joins(s, ts, where, false, &p);
    if (rc == 0)
        rc = sql__plan_physical(s, &p);
    if (rc != 0)
        return rc;
    size_t w = ts->from->width, cap = 0;
    struct sql_xnode *root;
    if ((rc = sql__exec_open(x, p, &root)) != 0)
        return rc;
    *rows = NULL;
    *n = 0;
    struct sql_chunk *c;
    while ((rc = sql__exec_next(x, root, &c)) == 0 && c->n > 0) {
        for (size_t i = 0; i < c->n && rc == 0; i++) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                struct sql_datum *nr =
                    sql__arena_alloc(s->arena, sizeof(*nr) * cap * w + 1);
                if (!nr) {
                    rc = -ENOMEM;
                    break;
                }
                if (*n)
                    memcpy(nr, *rows, sizeof(*nr) * *n * w);
                *rows = nr;
            }
            struct sql_datum *dst = *rows + *n * w;
            memcpy(dst, c->rows + i * c->ncols, sizeof(*dst) * w);
            for (size_t k = 0; k < w && rc == 0; k++)
                rc = sql__datum_copy(s->arena, &dst[k]);
            ++*n;
        }
    }
    sql__exec_close(root);
    x->ev.arena = s->arena;
    return rc;
}

/* Each target's handle in each joined row (hs[r * nt + j]), found
 * before any write; has[..] false where the target's columns are a LEFT
 * JOIN's NULLs (or its row is gone). */
static int handles(struct sql_session *s, struct target *tg, size_t nt,
                   const struct sql_datum *rows, size_t n, size_t w,
                   int64_t **hs, bool **has)
{
    *hs = sql__arena_alloc(s->arena, sizeof(int64_t) * n * nt + 1);
    *has = sql__arena_zalloc(s->arena, sizeof(bool) * n * nt + 1);
    if (!*hs || !*has)
        return -ENOMEM;
    int rc = 0;
    for (size_t r = 0; r < n && rc == 0; r++)
        for (size_t j = 0; j < nt && rc == 0; j++) {
            const struct sql_tableinfo *t = tg[j].ft->t;
            const struct sql_datum *seg = rows + r * w + tg[j].ft->offset;
            int64_t *h = &(*hs)[r * nt + j];
            bool *ok = &(*has)[r * nt + j];
            if (t->handle_col < 0) {
                rc = sql__dml_handle_of(tg[j].d, seg, h, ok);
                continue;
            }
            const struct sql_datum *d = &seg[t->handle_col];
            *ok = d->vt == SQL_VT_INT || d->vt == SQL_VT_UINT;
            *h = d->vt == SQL_VT_UINT ? (int64_t)d->v.u : d->v.i;
        }
    return rc;
}

/* The writes of joined row r (as read: row; its new values: wk) to the
 * targets whose row it is first to reach (live). */
static int write_joined(struct target *tg, size_t nt,
                        const struct sql_datum *row, struct sql_datum *wk,
                        const bool *live, const int64_t *hs, size_t r,
                        uint64_t *changed)
{
    int rc = 0;
    for (size_t j = 0; j < nt && rc == 0; j++) {
        bool ch = false;
        if (live[j])
            rc = sql__dml_finish_update(tg[j].d, row + tg[j].ft->offset,
                                        hs[j], wk + tg[j].ft->offset,
                                        tg[j].assigned, r + 1, &ch);
        *changed += ch;
    }
    return rc;
}

static void close_targets(struct target *tg, size_t n)
{
    for (size_t i = 0; tg && i < n; i++)
        sql__dml_close(tg[i].d);
}

int sql__dml_update_multi(struct sql_session *s, const struct ast_stmt *st)
{
    const struct ast_update *up = st->update;
    struct plan_tscope *ts;
    int rc = multi_from(s, "UPDATE", up->table, up->order, up->limit, &ts);
    if (rc != 0)
        return rc;
    const struct plan_from *f = ts->from;
    size_t na = 0;
    for (const struct ast_assign *a = up->set; a; a = a->next)
        na++;
    struct sql_expr **vals = sql__arena_zalloc(s->arena, sizeof(*vals) * na);
    uint32_t *cols = sql__arena_zalloc(s->arena, sizeof(*cols) * na);
    size_t *which = sql__arena_zalloc(s->arena, sizeof(*which) * na);
    struct target *tg = sql__arena_zalloc(s->arena, sizeof(*tg) * f->ntabs);
    int *tix = sql__arena_alloc(s->arena, sizeof(int) * f->ntabs);
    if (!vals || !cols || !which || !tg || !tix)
        return -ENOMEM;
    for (size_t i = 0; i < f->ntabs; i++)
        tix[i] = -1;
    size_t nt = 0, k = 0;
    struct sql_xctx x;
    for (const struct ast_assign *a = up->set; a; a = a->next, k++) {
        struct sql_colref ref;
        struct sql_err err = {0};
        rc = sql__from_column(ts, a->col, &ref, &err);
        if (rc == SQL_ENOTFOUND)
            rc = sql__serr(s, 1054, "42S22",
                           "Unknown column '%s' in 'field list'",
                           a->col->name);
        else if (rc == SQL_EQUERY)
            s->err = err;
        if (rc != 0)
            goto out;
        const struct plan_ftable *ft = sql__from_col(f, ref.index, &cols[k]);
        size_t ti = (size_t)(ft - f->tabs);
        if (tix[ti] < 0) {
            if ((rc = writable(s, ft, "UPDATE", tg, nt)) != 0)
                goto out;
            if ((rc = sql__priv_check_table(s, ft->db, ft->t->name,
                                            SQL_PRIV_UPDATE)) != 0)
                goto out;
            tg[nt].ti = ti;
            tg[nt].ft = ft;
            tg[nt].assigned =
                sql__arena_zalloc(s->arena, sizeof(bool) * ft->t->ncols);
            if (!tg[nt].assigned) {
                rc = -ENOMEM;
                goto out;
            }
            if ((rc = sql__dml_open(s, ft->t, up->ignore, &tg[nt].d)) != 0)
                goto out;
            tix[ti] = (int)nt++;
        }
        which[k] = (size_t)tix[ti];
        tg[which[k]].assigned[cols[k]] = true;
        if (a->value->kind == AST_E_DEFAULT && !a->value->a)
            continue; /* the column's default, per row */
        if ((rc = sql__plan_compile(s, ts, a->value, &vals[k], NULL)) != 0)
            goto out;
    }
    struct sql_datum *rows;
    size_t n;
    size_t nw0 = s->nwarns;
    if ((rc = sql__xctx_init(&x, s, true)) != 0)
        goto out;
    x.env.flags &= ~SQL_EVAL_DML; /* see sql__dml_where_strict */
    rc = joined_rows(s, &x, ts, up->where, &rows, &n);
    x.env.flags |= SQL_EVAL_DML;
    if ((rc = sql__dml_where_strict(s, nw0, up->ignore, rc)) != 0)
        goto out;
    size_t w = f->width;
    /* A SET reading a target table in a subquery reads it as it was
     * before the statement: every joined row's new values are made
     * before the first write (MariaDB 10.3+). */
    bool before = false;
    for (const struct ast_assign *a = up->set; a && !before; a = a->next)
        for (size_t j = 0; j < nt && !before; j++)
            before = sql__dml_reads_table(s, a->value, tg[j].ft->db,
                                          tg[j].ft->t->name);
    size_t nbuf = before ? n : 1;
    struct sql_datum *work =
        sql__arena_alloc(s->arena, sizeof(*work) * w * nbuf + 1);
    bool *live = sql__arena_alloc(s->arena, sizeof(bool) * nt * nbuf + 1);
    int64_t *hs;
    bool *has;
    if (!work || !live) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = handles(s, tg, nt, rows, n, w, &hs, &has)) != 0)
        goto out;
    uint64_t matched = 0, changed = 0;
    for (size_t r = 0; r < n && rc == 0; r++) {
        struct sql_datum *row = rows + r * w;
        struct sql_datum *wk = work + (before ? r : 0) * w;
        bool *lv = live + (before ? r : 0) * nt;
        /* Each target row once: its first joined row writes it. */
        for (size_t j = 0; j < nt && rc == 0; j++) {
            bool fresh = false;
            int64_t h = hs[r * nt + j];
            lv[j] = has[r * nt + j];
            if (lv[j] && (rc = seen_add(s, &tg[j], h, &fresh)) == 0 &&
                fresh) {
                bool found;
                rc = sql__dml_current(tg[j].d, h, row + tg[j].ft->offset,
                                      &found);
                lv[j] = found;
            } else {
                lv[j] = false;
            }
            matched += lv[j];
        }
        memcpy(wk, row, sizeof(*wk) * w);
        /* Every value reads the joined row as read, before any of this
         * statement's assignments (MariaDB's multi-table rule; a single
         * table's SET sees the ones before it). */
        for (size_t i = 0; i < na && rc == 0; i++) {
            struct target *t = &tg[which[i]];
            if (!lv[which[i]])
                continue;
            struct sql_datum v;
            if (!vals[i])
                rc = sql__dml_default(t->d, cols[i], &v);
            else if ((rc = sql__expr_eval(vals[i], &x.ev, row, &v)) != 0)
                rc = sql__xerr(&x, rc);
            if (rc == 0)
                rc = sql__dml_store(t->d, cols[i], &v, r + 1,
                                    &wk[t->ft->offset + cols[i]]);
        }
        if (!before && rc == 0)
            rc = write_joined(tg, nt, row, wk, lv, hs + r * nt, r, &changed);
    }
    for (size_t r = 0; before && r < n && rc == 0; r++)
        rc = write_joined(tg, nt, rows + r * w, work + r * w, live + r * nt,
                          hs + r * nt, r, &changed);
    if (rc == 0)
        rc = sql__dml_update_ok(s, matched, changed);
out:
    close_targets(tg, nt);
    return rc;
}

/* The FROM table a DELETE target names: its alias, or its table name
 * (qualified by db when given). 1109 when none. */
static int delete_target(struct sql_session *s, const struct plan_from *f,
                         const struct ast_tname *n, size_t *out)
{
    for (size_t i = 0; i < f->ntabs; i++) {
        const struct plan_ftable *ft = &f->tabs[i];
        if (n->db ? (ft->db && strcasecmp(ft->db, n->db) == 0 &&
                     strcmp(ft->t->name, n->name) == 0 &&
                     strcmp(ft->alias, n->name) == 0)
                  : strcmp(ft->alias, n->name) == 0) {
            *out = i;
            return 0;
        }
    }
    return sql__serr(s, 1109, "42S02", "Unknown table '%.64s' in MULTI DELETE",
                     n->name);
}

int sql__dml_delete_multi(struct sql_session *s, const struct ast_stmt *st)
{
    const struct ast_delete *de = st->del;
    struct plan_tscope *ts;
    int rc = multi_from(s, "DELETE", de->table, de->order, de->limit, &ts);
    if (rc != 0)
        return rc;
    const struct plan_from *f = ts->from;
    size_t nn = 0;
    for (const struct ast_tname *n = de->targets; n; n = n->next)
        nn++;
    struct target *tg = sql__arena_zalloc(s->arena, sizeof(*tg) * nn);
    if (!tg)
        return -ENOMEM;
    size_t nt = 0;
    struct sql_xctx x;
    for (const struct ast_tname *n = de->targets; n; n = n->next) {
        size_t ti = 0;
        if ((rc = delete_target(s, f, n, &ti)) != 0)
            goto out;
        bool dup = false;
        for (size_t j = 0; j < nt; j++)
            dup = dup || tg[j].ti == ti;
        if (dup)
            continue; /* DELETE a, a FROM ...: once */
        const struct plan_ftable *ft = &f->tabs[ti];
        if ((rc = writable(s, ft, "DELETE", tg, nt)) != 0)
            goto out;
        if (sql__dml_reads_table(s, de->where, ft->db, ft->t->name)) {
            rc = sql__serr(s, 1093, "HY000",
                           "Table '%s' is specified twice, both as a target "
                           "for 'DELETE' and as a separate source for data",
                           ft->alias);
            goto out;
        }
        tg[nt].ti = ti;
        tg[nt].ft = ft;
        if ((rc = sql__dml_open(s, ft->t, de->ignore, &tg[nt].d)) != 0)
            goto out;
        nt++;
    }
    struct sql_datum *rows;
    size_t n;
    if ((rc = sql__xctx_init(&x, s, true)) != 0)
        goto out;
    x.env.flags &= ~SQL_EVAL_DML; /* see sql__dml_where_strict */
    rc = joined_rows(s, &x, ts, de->where, &rows, &n);
    x.env.flags |= SQL_EVAL_DML;
    if (rc != 0)
        goto out;
    int64_t *hs;
    bool *has;
    if ((rc = handles(s, tg, nt, rows, n, f->width, &hs, &has)) != 0)
        goto out;
    uint64_t deleted = 0;
    for (size_t r = 0; r < n && rc == 0; r++) {
        struct sql_datum *row = rows + r * f->width;
        for (size_t j = 0; j < nt && rc == 0; j++) {
            int64_t h = hs[r * nt + j];
            bool fresh = false, found = false;
            if (!has[r * nt + j] ||
                (rc = seen_add(s, &tg[j], h, &fresh)) != 0 || !fresh)
                continue;
            struct sql_datum *seg = row + tg[j].ft->offset;
            if ((rc = sql__dml_current(tg[j].d, h, seg, &found)) != 0 ||
                !found)
                continue;
            if ((rc = sql__dml_delete_row(tg[j].d, seg, h)) == 0)
                deleted++;
        }
    }
    if (rc == 0)
        rc = sql__sess_ok(s, deleted, 0);
out:
    close_targets(tg, nt);
    return rc;
}

/* pointread.c: the autocommit point read's fast path. A statement that
 * reads exactly one row key (SELECT by primary handle, autocommit, no
 * locking, no subquery) needs no snapshot shared with other keys, so its
 * transaction starts at MVCC_TS_MAX ("the latest committed version")
 * instead of asking the TSO. DESIGN.md, "Point reads".
 */
#include "exec_int.h"
#include "expr_int.h"
#include "tablecodec.h"

/* No subquery anywhere under e (a subquery would read other keys at the
 * same timestamp, which MVCC_TS_MAX does not make a snapshot of). */
static bool expr_plain(const struct ast_expr *e)
{
    for (; e != NULL; e = e->next) {
        if (e->sub != NULL || e->over != NULL)
            return false;
        if (!expr_plain(e->a) || !expr_plain(e->b) || !expr_plain(e->c) ||
            !expr_plain(e->args))
            return false;
        for (const struct ast_when *w = e->whens; w != NULL; w = w->next)
            if (!expr_plain(w->cond) || !expr_plain(w->then))
                return false;
        for (const struct ast_order *o = e->order; o != NULL; o = o->next)
            if (!expr_plain(o->expr))
                return false;
    }
    return true;
}

bool sql__point_read_latest(const struct sql_session *s,
                            const struct ast_select *sel,
                            const struct plan *p)
{
    if (s->txn != NULL || s->explicit_txn || !sql__sess_autocommit(s))
        return false;
    if (sel->kind != AST_SEL_SIMPLE || sel->lock != AST_LOCK_NONE ||
        sel->with != NULL || sel->from == NULL ||
        sel->from->kind != AST_T_TABLE || sel->from->next != NULL ||
        sel->having != NULL || sel->group != NULL || sel->windows != NULL)
        return false;
    if (!expr_plain(sel->where) || !expr_plain(sel->limit) ||
        !expr_plain(sel->offset))
        return false;
    for (const struct ast_item *it = sel->items; it != NULL; it = it->next)
        if (!expr_plain(it->expr))
            return false;
    /* projections, filters and limits over one scan of one handle */
    while (p != NULL && (p->kind == PL_PROJECT || p->kind == PL_FILTER ||
                         p->kind == PL_LIMIT))
        p = p->child;
    return p != NULL && p->kind == PL_SCAN && p->acc.kind == ACC_POINT &&
           p->acc.idx < 0;
}

bool sql__point_read_key(const struct plan *p, uint8_t *out)
{
    while (p != NULL && (p->kind == PL_PROJECT || p->kind == PL_FILTER ||
                         p->kind == PL_LIMIT))
        p = p->child;
    if (p == NULL || p->kind != PL_SCAN || p->acc.kind != ACC_POINT ||
        p->acc.idx >= 0 || p->acc.nranges != 1 || p->lock || p->lookup ||
        p->vrows || p->acc.t == NULL)
        return false;
    const struct plan_range *r = &p->acc.ranges[0];
    if (r->neq != 1 || r->lo != NULL || r->hi != NULL ||
        r->eq[0]->op != EX_LIT)
        return false;
    /* as the scan takes a handle (exec.c as_handle); anything else (NULL,
     * a string, a decimal) the statement's own run decides */
    const struct sql_datum *d = &r->eq[0]->lit;
    int64_t h;
    if (d->vt == SQL_VT_INT)
        h = d->v.i;
    else if (d->vt == SQL_VT_UINT && d->v.u <= (uint64_t)INT64_MAX)
        h = (int64_t)d->v.u;
    else
        return false;
    sql__tc_row_key(out, p->acc.t->id, h);
    return true;
}

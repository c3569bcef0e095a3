/* pointread.c: the autocommit point read's fast path. A statement that
 * reads exactly one row key (SELECT by primary handle, autocommit, no
 * locking, no subquery) needs no snapshot shared with other keys, so its
 * transaction starts at MVCC_TS_MAX ("the latest committed version")
 * instead of asking the TSO. DESIGN.md, "Point reads".
 */
#include "exec_int.h"

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

/* plan_late.c: a select list computed after its top-N. MariaDB and MySQL
 * sort the rows by the ORDER BY keys and compute the select list only for
 * the rows LIMIT/OFFSET return, so an item's error (an overflow) on a row
 * the top-N drops is never raised (tests/difftest F8/F12). Here the
 * projection under LIMIT(SORT(..)) is split: the one under the sort
 * passes the input row through and computes the keys, the one over the
 * limit computes the items.
 */
#include <errno.h>
#include <string.h>

#include "expr_int.h"
#include "plan.h"
#include "sql_int.h"

static struct sql_expr *col_ref(struct sql_session *s, uint32_t idx,
                                const struct sql_ftype *t)
{
    struct sql_expr *e = sql__arena_zalloc(s->arena, sizeof(*e));
    if (e) {
        e->op = EX_COL;
        e->idx = idx;
        e->type = *t;
        e->vt = (uint8_t)sql__ftype_vt(t);
        e->coll = t->coll;
        e->coerc = 2;
    }
    return e;
}

/* Whether an item costs (or may fail) to compute: not a column. */
static bool computed(const struct sql_expr *e)
{
    return e->op != EX_COL && e->op != EX_LIT;
}

int sql__plan_late_project(struct sql_session *s, struct plan *lim)
{
    struct plan *so = lim->child;
    struct plan *pr = so ? so->child : NULL;
    if (!so || so->kind != PL_SORT || !pr || pr->kind != PL_PROJECT ||
        !pr->child || !pr->exprs || pr->child->kind == PL_AGG ||
        pr->child->kind == PL_WINDOW || pr->child->kind == PL_SETOP)
        return 0;
    size_t nkeys = so->nsort, w = pr->child->ncols;
    /* key k is column sort_cols[k] of pr; an item that is no key and is
     * computed makes the split worth it */
    bool worth = false;
    for (size_t i = 0; i < pr->nvisible && !worth; i++) {
        bool key = false;
        for (size_t k = 0; k < nkeys; k++)
            key |= so->sort_cols[k] == i;
        worth = !key && computed(pr->exprs[i]);
    }
    if (!worth)
        return 0;
    struct plan *low = sql__arena_zalloc(s->arena, sizeof(*low));
    struct plan_col *lcols =
        sql__arena_zalloc(s->arena, sizeof(*lcols) * (w + nkeys));
    struct sql_expr **lex =
        sql__arena_zalloc(s->arena, sizeof(*lex) * (w + nkeys));
    struct sql_expr **hex =
        sql__arena_zalloc(s->arena, sizeof(*hex) * (pr->ncols + 1));
    uint32_t *keys = sql__arena_zalloc(s->arena, sizeof(*keys) * nkeys);
    if (!low || !lcols || !lex || !hex || !keys)
        return -ENOMEM;
    for (size_t i = 0; i < w; i++) {
        lcols[i] = pr->child->cols[i];
        if (!(lex[i] = col_ref(s, (uint32_t)i, &lcols[i].type)))
            return -ENOMEM;
    }
    for (size_t k = 0; k < nkeys; k++) {
        lcols[w + k] = pr->cols[so->sort_cols[k]];
        lex[w + k] = pr->exprs[so->sort_cols[k]];
        keys[k] = (uint32_t)(w + k);
    }
    /* the items over the limit's rows; a key item is read, not computed
     * again (RAND() shows the value it was sorted by) */
    for (size_t j = 0; j < pr->ncols; j++) {
        hex[j] = pr->exprs[j];
        for (size_t k = 0; k < nkeys; k++)
            if (so->sort_cols[k] == j &&
                !(hex[j] = col_ref(s, (uint32_t)(w + k), &pr->cols[j].type)))
                return -ENOMEM;
    }
    *low = *pr;
    low->exprs = lex;
    low->cols = lcols;
    low->ncols = (uint32_t)(w + nkeys);
    low->nvisible = low->ncols;
    low->info = "";
    so->child = low;
    so->sort_cols = keys;
    so->cols = lcols;
    so->ncols = low->ncols;
    lim->cols = lcols;
    lim->ncols = low->ncols;
    /* pr now reads the limit's rows: lim is spliced under it by the
     * caller */
    pr->exprs = hex;
    return 1;
}

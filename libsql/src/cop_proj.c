/* cop_proj.c: covering projections for the coprocessor: a projection
 * right above a table scan whose conditions run next to the data names
 * the columns it and the scan's own filter read, and kvd sends only those
 * in each row's value (cop.h's `project` flag). DESIGN.md, "Coprocessor".
 */
#include <errno.h>
#include <string.h>

#include "catalog.h"
#include "cop.h"
#include "expr_int.h"
#include "plan.h"
#include "sql_int.h"

/* Mark in need the table columns e reads (row index off + i is column
 * i); false when it reads anything else of the row (a correlated
 * subquery reads the row where no column shows). */
static bool mark_cols(const struct sql_expr *e, uint32_t off, size_t ncols,
                      bool *need)
{
    if (!e)
        return true;
    if (e->op == EX_SUBQ)
        return false;
    if (e->op == EX_COL) {
        if (e->idx < off || e->idx - off >= ncols)
            return false;
        need[e->idx - off] = true;
    }
    for (uint16_t i = 0; i < e->nargs; i++)
        if (!mark_cols(e->args[i], off, ncols, need))
            return false;
    return true;
}

int sql__cop_project(struct sql_session *s, struct plan *p)
{
    struct plan *sc = p->child;
    if (!sc || sc->kind != PL_SCAN || !sc->cop || sc->cop->index ||
        sc->acc.idx >= 0 || !sc->table || sc->table->ncols == 0)
        return 0;
    const struct sql_tableinfo *t = sc->table;
    bool *need = sql__arena_zalloc(s->arena, t->ncols);
    if (!need)
        return -ENOMEM;
    if (!mark_cols(sc->cond, sc->row_off, t->ncols, need))
        return 0;
    for (size_t i = 0; i < p->ncols; i++)
        if (!mark_cols(p->exprs[i], sc->row_off, t->ncols, need))
            return 0;
    size_t n = 0, all = 0;
    for (uint32_t i = 0; i < t->ncols; i++) {
        n += need[i] && (int32_t)i != t->handle_col;
        all += (int32_t)i != t->handle_col;
    }
    if (n == all)
        return 0; /* every column is read: nothing to leave out */
    /* the handle goes too when read (kvd takes it from the key); a list
     * of none names the handle alone */
    size_t m = 0;
    uint32_t *proj = sql__arena_alloc(s->arena, sizeof(*proj) * (n + 1));
    if (!proj)
        return -ENOMEM;
    for (uint32_t i = 0; i < t->ncols; i++)
        if (need[i] && (int32_t)i != t->handle_col)
            proj[m++] = i;
    if (m == 0)
        proj[m++] = t->handle_col >= 0 ? (uint32_t)t->handle_col : 0;
    /* EXPLAIN: "; columns: a, c" */
    struct sql__buf b = {0};
    int rc = sql__buf_put(&b, sc->cop->info, strlen(sc->cop->info));
    rc = rc ? rc : sql__buf_put(&b, "; columns: ", 11);
    for (size_t i = 0; rc == 0 && i < m; i++) {
        const char *name = t->cols[proj[i]].name;
        if (i)
            rc = sql__buf_put(&b, ", ", 2);
        rc = rc ? rc : sql__buf_put(&b, name, strlen(name));
    }
    char *info = rc ? NULL : sql__arena_strndup(s->arena, (const char *)b.p,
                                                b.len);
    sql__buf_free(&b);
    if (!info)
        return -ENOMEM;
    sc->cop->info_rows = sc->cop->info;
    sc->cop->info = info;
    sc->cop->proj = proj;
    sc->cop->nproj = m;
    return 0;
}

/* cte.c: common table expressions (WITH [RECURSIVE]): a CTE's rows are
 * materialized the first time the statement's plan reads it, a recursive
 * one by iterating its recursive blocks over a worktable
 * (DESIGN.md "Set operations and CTEs").
 */
#include <errno.h>
#include <string.h>

#include "plan.h"
#include "sql_int.h"

int sql__plan_with(struct sql_session *s, const struct ast_select *sel,
                   const struct sql_expr_scope *parent,
                   struct sql_colref **caps, size_t *ncaps,
                   struct plan **out)
{
    (void)sel;
    (void)parent;
    (void)caps;
    (void)ncaps;
    (void)out;
    return sql__serr(s, 1235, "42000",
                     "This version of sqld doesn't yet support 'WITH'");
}

int sql__cte_lookup(struct sql_session *s, const struct ast_table_ref *t,
                    const struct sql_tableinfo **ti,
                    const struct sql_datum **rows, size_t *nrows)
{
    (void)s;
    (void)t;
    (void)ti;
    (void)rows;
    (void)nrows;
    return SQL_ENOTFOUND;
}

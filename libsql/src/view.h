/* view.h: views (view.c): stored in the catalog as table records whose
 * view_sql holds the definition, expanded at plan time into a derived
 * table (DESIGN.md "Views").
 */
#ifndef SQL_VIEW_H
#define SQL_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "ast.h"
#include "catalog.h"
#include "session.h"

/* CREATE [OR REPLACE] VIEW / ALTER VIEW (DROP VIEW is ddl.c's DROP
 * TABLE for views). */
int sql__view_create(struct sql_session *s, const struct ast_stmt *st);
/* SHOW CREATE VIEW (and SHOW CREATE TABLE of a view). */
int sql__view_show_create(struct sql_session *s, const struct ast_show *sh);
/* Whether table reference t names a view. */
bool sql__view_named(struct sql_session *s, const struct ast_table_ref *t);
/* The view t names as a virtual table: its columns and its rows, planned
 * now and made when first read (plan_vrows): 0, SQL_ENOTFOUND (not a
 * view), or an error (1356 when its definition no longer plans). where
 * (or NULL): the reading block's WHERE when the view is its only table;
 * its simple conjuncts go into the view's WHERE. */
struct plan_vrows;
int sql__view_rows(struct sql_session *s, const struct ast_table_ref *t,
                   const struct ast_expr *where,
                   const struct sql_tableinfo **ti, struct plan_vrows **out);
/* 1347 "'db.v' is not BASE TABLE" when t is a view, else 0. */
int sql__view_not_base(struct sql_session *s, const struct sql_tableinfo *t);
/* 1235 for a write (what) into a view. */
int sql__view_no_write(struct sql_session *s, const char *what);

/* ddl.c: a DDL transaction (schema version bumped) and its commit. */
int sql__ddl_begin(struct sql_session *s, struct sql_kvtxn **t);
int sql__ddl_commit(struct sql_session *s, struct sql_kvtxn *t);

#endif /* SQL_VIEW_H */

/* dml_int.h: one table's write path (dml.c: SET conversions, unique and
 * index maintenance, ON UPDATE columns, IGNORE) as multi-table UPDATE and
 * DELETE (dml_multi.c) drive it, one handle per target table. DESIGN.md
 * "Multi-table UPDATE and DELETE".
 */
#ifndef SQL_DML_INT_H
#define SQL_DML_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "ast.h"
#include "catalog.h"
#include "session.h"
#include "value.h"

struct dml;

/* The writer of table t for this statement (in the statement arena);
 * close it when the statement ends. */
int sql__dml_open(struct sql_session *s, const struct sql_tableinfo *t,
                  bool ignore, struct dml **out);
void sql__dml_close(struct dml *d);
/* Value v converted for column ci as SET stores it (1048, strict mode). */
int sql__dml_store(struct dml *d, uint32_t ci, const struct sql_datum *v,
                   uint64_t rownum, struct sql_datum *out);
/* Row old (handle h) becomes nw (old's copy with SET's values stored):
 * *changed false when no value differs; assigned flags the SET columns. */
int sql__dml_finish_update(struct dml *d, const struct sql_datum *old,
                           int64_t h, struct sql_datum *nw,
                           const bool *assigned, uint64_t rownum,
                           bool *changed);
/* Delete row (handle h) and its index entries. */
int sql__dml_delete_row(struct dml *d, const struct sql_datum *row,
                        int64_t h);
/* Pessimistic transactions: lock row h and read its latest committed
 * version into row (*found false when it is gone); otherwise row is left
 * as read and *found is true. */
int sql__dml_current(struct dml *d, int64_t h, struct sql_datum *row,
                     bool *found);
/* The handle of the row whose values are row, through the table's
 * primary key index (a table whose primary key is not its integer handle);
 * *found false when there is no such row or no such index. */
int sql__dml_handle_of(struct dml *d, const struct sql_datum *row,
                       int64_t *h, bool *found);
/* The DEFAULT of column ci (SET c = DEFAULT). */
int sql__dml_default(struct dml *d, uint32_t ci, struct sql_datum *out);

/* UPDATE's OK: "Rows matched: N  Changed: M  Warnings: W"; affected is
 * changed, or matched for a CLIENT_FOUND_ROWS client. */
int sql__dml_update_ok(struct sql_session *s, uint64_t matched,
                       uint64_t changed);

/* Strict mode makes a warning raised while an UPDATE's WHERE was read
 * (since the warnings counted before) the statement's error, as MariaDB
 * and MySQL do ("1292 Truncated incorrect DOUBLE value" of `UPDATE ...
 * WHERE varchar_col = 0`); notes stay notes, IGNORE keeps warnings, and
 * DELETE keeps them too (MariaDB 10.11), as does an UPDATE that MariaDB
 * reads in a pass before it writes (ORDER BY, a primary key column set:
 * the caller passes ignore then). A division by zero in the WHERE is
 * one of those warnings (the callers read the WHERE without
 * SQL_EVAL_DML): MySQL's strict mode makes it an error for what INSERT
 * and UPDATE store, and MariaDB's DELETE keeps it a warning. rc is how
 * the read ended: when it failed (SQL_EQUERY) after such a warning, the
 * warning is the error, as MariaDB stops at it first (`d DIV i` past
 * BIGINT warns 1916 before its 1690). Returns rc, or SQL_EQUERY. */
int sql__dml_where_strict(struct sql_session *s, size_t before, bool ignore,
                          int rc);

/* Whether a subquery in e reads table db.name (named in a FROM at any
 * depth; a view or a CTE of that name aside): MariaDB 10.3+ lets an
 * INSERT, UPDATE or DELETE read its own table there, as it was before
 * the statement (DESIGN.md "Subqueries", in INSERT, UPDATE and DELETE). */
bool sql__dml_reads_table(struct sql_session *s, const struct ast_expr *e,
                          const char *db, const char *name);

/* Multi-table UPDATE / DELETE (dml_multi.c); sql__dml_update/_delete
 * hand those forms over. */
int sql__dml_update_multi(struct sql_session *s, const struct ast_stmt *st);
int sql__dml_delete_multi(struct sql_session *s, const struct ast_stmt *st);

#endif /* SQL_DML_INT_H */

/* exec.h: the executor: a tree of operators, one per physical plan node,
 * pulled chunk by chunk (DESIGN.md "Executor"). A chunk's rows stay valid
 * until the next call on the operator that produced it; operators that
 * keep rows (sort, aggregation) copy them into their own arena.
 */
#ifndef SQL_EXEC_H
#define SQL_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

#define SQL_CHUNK_ROWS 256

struct sql_chunk
{
    size_t ncols;             /* row width */
    size_t n;                 /* rows held */
    size_t cap;               /* rows it has room for (<= SQL_CHUNK_ROWS) */
    struct sql_datum *rows;   /* n * ncols datums, row-major */
    int64_t *handles;         /* each row's handle (table rows), or 0 */
};

/* What a statement's evaluation needs. */
struct sql_xctx
{
    struct sql_session *s;     /* the session */
    struct sql_eval_env env;   /* NOW(), variables, parameters, warnings */
    struct sql_err err;        /* evaluation errors */
    struct sql_eval ev;        /* env + arena + err */
    struct sql_kvtxn *txn;     /* the statement's transaction */
    struct sql_xanalyze *an;   /* EXPLAIN ANALYZE's per-operator figures
                                  (explain_analyze.c), or NULL */
};

/* Fill x for a statement of session s (ev.arena: the statement arena). */
int sql__xctx_init(struct sql_xctx *x, struct sql_session *s, bool dml);

struct sql_xnode;

/* Build the operators for plan p. */
int sql__exec_open(struct sql_xctx *x, const struct plan *p,
                   struct sql_xnode **out);
/* The next chunk; (*out)->n == 0 at the end. SQL_EQUERY: s->err. */
int sql__exec_next(struct sql_xctx *x, struct sql_xnode *n,
                   struct sql_chunk **out);
void sql__exec_close(struct sql_xnode *n);

/* An evaluation error into the session's error. */
int sql__xerr(struct sql_xctx *x, int rc);

/* Decode the row value of table t (handle h) into out[0..ncols). */
int sql__exec_decode_row(struct sql_xctx *x, const struct sql_tableinfo *t,
                         int64_t h, const uint8_t *v, size_t vlen,
                         struct sql_datum *out, struct sql_arena *a);
/* The default value of column ci (DEFAULT clause, NULL, or none: *none
 * set). */
int sql__exec_default(struct sql_xctx *x, const struct sql_tableinfo *t,
                      uint32_t ci, struct sql_datum *out, bool *none);
/* The statement's NOW(6). */
int sql__exec_now(struct sql_xctx *x, struct sql_datum *out);
/* A deep copy of a datum's bytes into a. */
int sql__datum_copy(struct sql_arena *a, struct sql_datum *d);

/* The rows of information_schema table t, made now (show_is.c). */
int sql__is_rows(struct sql_xctx *x, const struct sql_tableinfo *t,
                 struct sql_arena *a, struct sql_datum **out, size_t *n);

/* A virtual table (id, name, ncols zeroed columns) in the statement's
 * arena; NULL when out of memory (show_is.c). */
struct sql_tableinfo *sql__is_vtable(struct sql_session *s, int64_t id,
                                     const char *name, size_t ncols);
/* An information_schema column's type: BIGINT UNSIGNED (num) or
 * VARCHAR(512) (show_is.c). */
void sql__is_col_type(struct sql_colinfo *c, bool num);
/* information_schema's cluster tables and SHOW TABLE t REGIONS, from the
 * server's cluster_info callbacks (show_cluster.c). */
struct ast_show;
bool sql__cluster_is_id(int64_t id);
struct sql_tableinfo *sql__cluster_is_table(struct sql_session *s,
                                            const char *name);
int sql__cluster_is_rows(struct sql_xctx *x, const struct sql_tableinfo *t,
                         struct sql_arena *a, struct sql_datum **out,
                         size_t *n);
int sql__show_table_regions(struct sql_session *s, const struct ast_show *sh);

/* DML (dml.c). */
int sql__dml_insert(struct sql_session *s, const struct ast_stmt *st);
int sql__dml_update(struct sql_session *s, const struct ast_stmt *st);
int sql__dml_delete(struct sql_session *s, const struct ast_stmt *st);

/* ALTER TABLE's data step, inside the DDL transaction txn: delete the
 * entries of the index ids in drop; then, when rows or any build[i] (per
 * index of nw), read every row of old and write it in nw's layout (rows)
 * and/or its entries of the indexes to build (1062 on a unique clash). */
int sql__table_rewrite(struct sql_session *s, struct sql_kvtxn *txn,
                       const struct sql_tableinfo *old,
                       const struct sql_tableinfo *nw, bool rows,
                       const bool *build, const int64_t *drop, size_t ndrop);

/* pointread.c: whether select sel, planned as p, reads one row key in
 * autocommit and may begin its transaction at the latest versions; and
 * the row key p reads when it is projections, filters and limits over
 * one unlocked point read of a handle given as an integer literal (the
 * key is then known without running it): true with the key in out
 * (SQL_TC_ROW_KEY_LEN bytes). */
bool sql__point_read_latest(const struct sql_session *s,
                            const struct ast_select *sel,
                            const struct plan *p);
bool sql__point_read_key(const struct plan *p, uint8_t *out);

#endif /* SQL_EXEC_H */

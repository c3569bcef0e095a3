/* json_table.h: JSON_TABLE (DESIGN.md "JSON_TABLE and MEMBER OF"): its
 * parse tree (parse_json_table.c) and the rows it makes while the FROM
 * clause is planned (json_table.c, called from plan_join.c).
 */
#ifndef SQL_JSON_TABLE_H
#define SQL_JSON_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"

enum ast_jt_kind
{
    AST_JT_ORDINALITY, /* name FOR ORDINALITY */
    AST_JT_PATH,       /* name type PATH 'p' [on empty] [on error] */
    AST_JT_EXISTS,     /* name type EXISTS PATH 'p' */
    AST_JT_NESTED,     /* NESTED [PATH] 'p' COLUMNS (...) */
};

enum ast_jt_on
{
    AST_JT_ON_NULL = 0, /* NULL ON EMPTY/ERROR (the default) */
    AST_JT_ON_DEFAULT,  /* DEFAULT 'json' ON ... */
    AST_JT_ON_ERROR,    /* ERROR ON ... */
};

struct ast_jt_col
{
    int kind;                  /* enum ast_jt_kind */
    const char *name;          /* column name (not NESTED) */
    struct ast_type type;      /* PATH / EXISTS: its type */
    struct ast_str path;       /* path text (not ORDINALITY) */
    int on_empty;              /* enum ast_jt_on */
    struct ast_str def_empty;  /* its DEFAULT text */
    int on_error;              /* enum ast_jt_on */
    struct ast_str def_error;  /* its DEFAULT text */
    struct ast_jt_col *nested; /* NESTED: its columns */
    struct ast_jt_col *next;   /* next column */
};

struct ast_json_table
{
    struct ast_expr *doc;      /* the document expression */
    struct ast_str path;       /* the row path */
    struct ast_jt_col *cols;   /* COLUMNS */
};

struct parser;
/* JSON_TABLE(...) [AS] alias into t (the current token is JSON_TABLE);
 * t, or NULL on a parse error (parse_json_table.c). */
struct ast_table_ref *sql__p_json_table(struct parser *p,
                                        struct ast_table_ref *t);

struct sql_session;
struct sql_tableinfo;
struct sql_datum;
/* The table JSON_TABLE t makes: its columns (*ti) and rows. lateral: the
 * FROM items before it when its document reads their columns: the rows
 * are made for each distinct document those tables give, and a last,
 * hidden column holds the document (the caller joins on it; see
 * sql__json_table_on). 0, SQL_EQUERY (s->err) or -ENOMEM. */
int sql__json_table_rows(struct sql_session *s, const struct ast_table_ref *t,
                         const struct ast_table_ref *lateral,
                         struct sql_tableinfo **ti, struct sql_datum **rows,
                         size_t *nrows);
/* Whether t's document reads a column (it is lateral when it follows
 * other FROM items). */
bool sql__json_table_reads_cols(const struct ast_table_ref *t);
/* Whether column i of t is a lateral JSON_TABLE's hidden document (left
 * out of `alias.*`). */
bool sql__json_table_doc_col(const struct sql_tableinfo *t, uint32_t i);
/* The join condition of lateral JSON_TABLE t: `alias.<hidden> = doc`
 * AND on (on may be NULL); NULL when out of memory. */
struct ast_expr *sql__json_table_on(struct sql_session *s,
                                    const struct ast_table_ref *t,
                                    struct ast_expr *on);

/* A column's type from its parsed type, as CREATE TABLE makes it
 * (ddl.c); SQL_EQUERY for a type not supported. */
struct ast_coldef;
struct sql_colinfo;
int sql__ddl_column_type(struct sql_session *s, const struct ast_coldef *cd,
                         struct sql_colinfo *col);

#endif /* SQL_JSON_TABLE_H */

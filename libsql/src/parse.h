/* parse.h: the recursive-descent parser of the MySQL dialect: one
 * statement at a time into an AST (ast.h) in a per-statement arena, errors
 * as MySQL's 1064, and splitting a multi-statement string
 * (DESIGN.md, "Parser").
 */
#ifndef SQL_PARSE_H
#define SQL_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "ast.h"

/* MySQL error numbers the parser answers with. */
#define SQL_ER_OUTOFMEMORY 1037      /* HY001 */
#define SQL_ER_PARSE_ERROR 1064      /* 42000 */
#define SQL_ER_EMPTY_QUERY 1065      /* 42000 */
#define SQL_ER_NOT_SUPPORTED_YET 1235 /* 42000 */

/* Deepest nesting of expressions, subqueries and parentheses. */
#define SQL_PARSE_MAX_DEPTH 200
/* Tallest expression tree (chains like a + b + c grow it without
 * recursion); code walking a tree may recurse this deep. */
#define SQL_PARSE_MAX_HEIGHT 1000

struct sql_parse_result
{
    int rc;               /* 0, SQL_ESYNTAX, SQL_ETOO_DEEP or -ENOMEM */
    int errcode;          /* MySQL error number when rc != 0 */
    char errmsg[320];     /* MySQL's message when rc != 0 */
    struct ast_stmt *stmt; /* the statement; NULL when rc != 0 or when the
                             input held only whitespace and comments */
    size_t next;          /* offset where the next statement begins (after
                             the ';' and whitespace); the input length when
                             nothing follows */
    size_t stmt_end;      /* offset one past the statement's last token */
};

/* Parse the first statement of sql[0..len) into arena a. The tree points
 * into a and into sql (borrowed: keep sql alive as long as the tree).
 * Returns res->rc. */
int sql__parse_one(struct sql_arena *a, const char *sql, size_t len,
                   struct sql_parse_result *res);

/* What sql__parse_one_rec notes (stmtcache.c): for each integer or
 * string literal token that became an expression node of its own (a
 * primary, LIMIT's value, the first piece of 'a' 'b'), the token's
 * offset and the node; at most cap of them (then overflow). */
struct sql_parse_rec
{
    size_t *starts;           /* token offsets in the input */
    struct ast_expr **nodes;  /* the node each became */
    size_t n;                 /* entries used */
    size_t cap;               /* room in both arrays */
    bool overflow;            /* more literals than cap */
};

/* sql__parse_one, noting literal nodes in rec (NULL: none). */
int sql__parse_one_rec(struct sql_arena *a, const char *sql, size_t len,
                       struct sql_parse_result *res,
                       struct sql_parse_rec *rec);

/* One statement's span in a multi-statement string. */
struct sql_span
{
    size_t start; /* offset of its first byte (whitespace skipped) */
    size_t end;   /* offset one past its last byte (before the ';') */
};

/* Split sql into statements at top-level ';' (quotes and comments
 * respected; statements holding only comments are dropped). Writes up to
 * max spans and returns how many there are (may exceed max). An
 * unterminated quote or comment makes the rest one span (its parse then
 * reports the error). Allocates nothing. */
int sql__split(const char *sql, size_t len, struct sql_span *spans,
               size_t max);

#endif /* SQL_PARSE_H */

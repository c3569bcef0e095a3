/* parse_int.h: the parser's private state and the helpers shared by
 * parse.c (tokens, errors, expressions), parse_stmt.c (queries and DML)
 * and parse_ddl.c (DDL and administration). See DESIGN.md, "Parser".
 */
#ifndef SQL_PARSE_INT_H
#define SQL_PARSE_INT_H

#include <stdbool.h>

#include "ast.h"
#include "lex.h"
#include "parse.h"

#define PARSER_LOOKAHEAD 4

struct parser
{
    struct sql_lexer lx;                  /* token source */
    struct sql_token buf[PARSER_LOOKAHEAD]; /* lexed, unconsumed tokens */
    int nbuf;                             /* valid entries of buf */
    struct sql_token last;                /* the last consumed token */
    struct sql_arena *a;                  /* where the tree goes */
    struct sql_parse_result *res;         /* errors go here */
    const char *src;                      /* input */
    size_t len;                           /* input length */
    int depth;                            /* current nesting */
    int nparams;                          /* ? seen so far */
    int maxh;                             /* greatest expression height
                                             since the enclosing query began */
    bool failed;                          /* an error is recorded */
    struct sql_parse_rec *rec;            /* literal nodes noted, or NULL */
};

/* Note literal node e made from the token at offset start (p->rec). */
void sql__p_note_literal(struct parser *p, size_t start, struct ast_expr *e);

/* Tokens. */
struct sql_token *sql__p_peek(struct parser *p, int n);
void sql__p_advance(struct parser *p);
bool sql__p_is(struct parser *p, int type);
bool sql__p_is_kw(struct parser *p, int kw);
bool sql__p_peek_kw(struct parser *p, int n, int kw);
bool sql__p_accept(struct parser *p, int type);
bool sql__p_accept_kw(struct parser *p, int kw);
bool sql__p_expect(struct parser *p, int type);
bool sql__p_expect_kw(struct parser *p, int kw);

/* Errors: each records the first error and returns false. */
bool sql__p_error(struct parser *p);              /* 1064 at the current token */
bool sql__p_oom(struct parser *p);
bool sql__p_unsupported(struct parser *p, const char *what); /* 1235 */
bool sql__p_enter(struct parser *p);              /* depth + 1, or 1064 */
bool sql__p_too_deep(struct parser *p);
void sql__p_leave(struct parser *p);

/* Allocation in the statement's arena (NULL: out of memory recorded). */
void *sql__p_new(struct parser *p, size_t n);
char *sql__p_strdup(struct parser *p, const char *s, size_t n);
struct ast_expr *sql__p_expr_new(struct parser *p, int kind);
/* Set a finished node's height (NULL when too tall; passes NULL on). */
struct ast_expr *sql__p_finish(struct parser *p, struct ast_expr *e);

/* Names. */
bool sql__p_is_ident(struct parser *p);           /* usable as identifier */
const char *sql__p_ident(struct parser *p);       /* identifier or NULL */
const char *sql__p_ident_any(struct parser *p);   /* any word (after '.') */
const char *sql__p_ident_or_string(struct parser *p); /* name or 'name' */
bool sql__p_table_name(struct parser *p, const char **db, const char **name);
struct ast_name *sql__p_name_list(struct parser *p); /* (a, b, ...) */

/* Expressions. */
struct ast_expr *sql__p_expr(struct parser *p);
struct ast_expr *sql__p_expr_list(struct parser *p); /* e, e, ... */
struct ast_expr *sql__p_unary_expr(struct parser *p); /* no binary operators */
bool sql__p_type(struct parser *p, struct ast_type *t, bool cast);
const char *sql__p_charset_name(struct parser *p); /* name, 'name' or BINARY */
struct ast_order *sql__p_order_list(struct parser *p);

/* Queries and statements. */
struct ast_select *sql__p_query(struct parser *p);   /* [WITH] SELECT ... [UNION] */
bool sql__p_starts_query(struct parser *p);         /* SELECT or WITH next */
struct ast_stmt *sql__p_statement(struct parser *p);
struct ast_user *sql__p_user(struct parser *p);

/* Window syntax (parse_window.c): OVER after call f (checks that a
 * window-only function has one); the WINDOW clause, WINDOW consumed. */
bool sql__p_over(struct parser *p, struct ast_expr *f);
struct ast_window *sql__p_window_clause(struct parser *p);
bool sql__window_only(const char *name);
/* The n-th token is the bare word w (any case), keyword or not. */
bool sql__p_word_is(struct parser *p, int n, const char *w);

#endif /* SQL_PARSE_INT_H */

/* parse_json_table.c: the JSON_TABLE table factor (MySQL 8.0.4's
 * syntax; DESIGN.md "JSON_TABLE and MEMBER OF"):
 *   JSON_TABLE(expr, 'path' COLUMNS (col, ...)) [AS] alias
 *   col: name FOR ORDINALITY | name type [EXISTS] PATH 'path'
 *        [{NULL | ERROR | DEFAULT 'json'} ON EMPTY] [... ON ERROR]
 *      | NESTED [PATH] 'path' COLUMNS (col, ...)
 */
#include <string.h>

#include "json_table.h"
#include "lex.h"
#include "parse_int.h"

/* A string literal (adjacent ones joined) into *out. */
static bool string_lit(struct parser *p, struct ast_str *out)
{
    if (!sql__p_is(p, TK_STRING))
        return sql__p_error(p);
    struct ast_expr *e = sql__p_unary_expr(p);
    if (e == NULL)
        return false;
    if (e->kind != AST_E_STRING)
        return sql__p_error(p);
    *out = e->str;
    return true;
}

/* {NULL | ERROR | DEFAULT 'json'} ON {EMPTY | ERROR}, either order, each
 * at most once. */
static bool on_clauses(struct parser *p, struct ast_jt_col *c)
{
    bool seen_empty = false, seen_error = false;
    for (;;) {
        int how;
        struct ast_str def = {0};
        if (sql__p_is_kw(p, KW_NULL))
            how = AST_JT_ON_NULL;
        else if (sql__p_word_is(p, 0, "ERROR"))
            how = AST_JT_ON_ERROR;
        else if (sql__p_is_kw(p, KW_DEFAULT))
            how = AST_JT_ON_DEFAULT;
        else
            return true;
        sql__p_advance(p);
        if (how == AST_JT_ON_DEFAULT && !string_lit(p, &def))
            return false;
        if (!sql__p_expect_kw(p, KW_ON))
            return false;
        if (sql__p_word_is(p, 0, "EMPTY") && !seen_empty && !seen_error) {
            seen_empty = true;
            c->on_empty = how;
            c->def_empty = def;
        } else if (sql__p_word_is(p, 0, "ERROR") && !seen_error) {
            seen_error = true;
            c->on_error = how;
            c->def_error = def;
        } else {
            return sql__p_error(p);
        }
        sql__p_advance(p);
    }
}

static bool columns(struct parser *p, struct ast_jt_col **out);

static struct ast_jt_col *column(struct parser *p)
{
    struct ast_jt_col *c = sql__p_new(p, sizeof *c);
    if (c == NULL)
        return NULL;
    if (sql__p_word_is(p, 0, "NESTED")) {
        sql__p_advance(p);
        c->kind = AST_JT_NESTED;
        if (sql__p_word_is(p, 0, "PATH"))
            sql__p_advance(p);
        if (!string_lit(p, &c->path) || !sql__p_enter(p))
            return NULL;
        bool ok = columns(p, &c->nested);
        sql__p_leave(p);
        return ok ? c : NULL;
    }
    if ((c->name = sql__p_ident(p)) == NULL)
        return NULL;
    if (sql__p_accept_kw(p, KW_FOR)) {
        if (!sql__p_word_is(p, 0, "ORDINALITY")) {
            sql__p_error(p);
            return NULL;
        }
        sql__p_advance(p);
        c->kind = AST_JT_ORDINALITY;
        return c;
    }
    if (!sql__p_type(p, &c->type, false))
        return NULL;
    c->kind = sql__p_accept_kw(p, KW_EXISTS) ? AST_JT_EXISTS : AST_JT_PATH;
    if (!sql__p_word_is(p, 0, "PATH")) {
        sql__p_error(p);
        return NULL;
    }
    sql__p_advance(p);
    if (!string_lit(p, &c->path))
        return NULL;
    if (c->kind == AST_JT_PATH && !on_clauses(p, c))
        return NULL;
    return c;
}

/* COLUMNS (col, ...) */
static bool columns(struct parser *p, struct ast_jt_col **out)
{
    if (!sql__p_word_is(p, 0, "COLUMNS"))
        return sql__p_error(p);
    sql__p_advance(p);
    if (!sql__p_expect(p, TK_LPAREN))
        return false;
    do {
        if ((*out = column(p)) == NULL)
            return false;
        out = &(*out)->next;
    } while (sql__p_accept(p, TK_COMMA));
    return sql__p_expect(p, TK_RPAREN);
}

struct ast_table_ref *sql__p_json_table(struct parser *p,
                                        struct ast_table_ref *t)
{
    struct ast_json_table *jt = sql__p_new(p, sizeof *jt);
    if (jt == NULL)
        return NULL;
    t->kind = AST_T_JSON_TABLE;
    t->jt = jt;
    t->name = "JSON_TABLE";
    sql__p_advance(p); /* JSON_TABLE */
    sql__p_advance(p); /* ( */
    if ((jt->doc = sql__p_expr(p)) == NULL || !sql__p_expect(p, TK_COMMA) ||
        !string_lit(p, &jt->path) || !columns(p, &jt->cols) ||
        !sql__p_expect(p, TK_RPAREN))
        return NULL;
    /* The alias is required (MySQL: 3667 "Every table function must
     * have an alias"; here the parse error at the missing name). */
    sql__p_accept_kw(p, KW_AS);
    if ((t->alias = sql__p_ident(p)) == NULL)
        return NULL;
    return t;
}

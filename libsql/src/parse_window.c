/* parse_window.c: the window syntax of MySQL 8.0's "Window Function
 * Concepts and Syntax" page: `OVER (...)` / `OVER name` after a function
 * call, and a query's `WINDOW name AS (...)` clause. Semantic checks
 * (names, frames against types) are the planner's (window.c).
 * See DESIGN.md, "Window functions".
 */
#include <string.h>
#include <strings.h>

#include "parse_int.h"

/* Functions that exist only as window functions: OVER is required. */
static const char *const window_only[] = {
    "ROW_NUMBER", "RANK", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST",
    "NTILE", "LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE", "NTH_VALUE",
};

/* Aggregates that may also be window functions. */
static const char *const window_aggs[] = {
    "COUNT", "SUM", "AVG", "MIN", "MAX", "STD", "STDDEV", "STDDEV_POP",
    "STDDEV_SAMP", "VARIANCE", "VAR_POP", "VAR_SAMP", "BIT_AND", "BIT_OR",
    "BIT_XOR",
};

bool sql__window_only(const char *name)
{
    for (size_t i = 0; i < sizeof window_only / sizeof window_only[0]; i++)
        if (strcasecmp(name, window_only[i]) == 0)
            return true;
    return false;
}

static bool window_agg(const char *name)
{
    for (size_t i = 0; i < sizeof window_aggs / sizeof window_aggs[0]; i++)
        if (strcasecmp(name, window_aggs[i]) == 0)
            return true;
    return false;
}

bool sql__p_word_is(struct parser *p, int n, const char *w)
{
    struct sql_token *t = sql__p_peek(p, n);
    return t->type == TK_IDENT && t->len == strlen(w) &&
           strncasecmp(t->str, w, t->len) == 0;
}

/* UNBOUNDED PRECEDING | UNBOUNDED FOLLOWING | CURRENT ROW
 * | expr PRECEDING | expr FOLLOWING */
static bool frame_bound(struct parser *p, struct ast_bound *b)
{
    if (sql__p_accept_kw(p, KW_UNBOUNDED)) {
        if (sql__p_accept_kw(p, KW_PRECEDING))
            b->kind = AST_B_UNBOUNDED_PRECEDING;
        else if (sql__p_accept_kw(p, KW_FOLLOWING))
            b->kind = AST_B_UNBOUNDED_FOLLOWING;
        else
            return sql__p_error(p);
        return true;
    }
    if (sql__p_is_kw(p, KW_CURRENT) && sql__p_word_is(p, 1, "ROW")) {
        sql__p_advance(p);
        sql__p_advance(p);
        b->kind = AST_B_CURRENT;
        return true;
    }
    if ((b->n = sql__p_unary_expr(p)) == NULL)
        return false;
    if (sql__p_accept_kw(p, KW_PRECEDING))
        b->kind = AST_B_PRECEDING;
    else if (sql__p_accept_kw(p, KW_FOLLOWING))
        b->kind = AST_B_FOLLOWING;
    else
        return sql__p_error(p);
    return true;
}

/* ( [name] [PARTITION BY ..] [ORDER BY ..] [frame] ), the '(' next. */
static struct ast_window *window_spec(struct parser *p)
{
    struct ast_window *w = sql__p_new(p, sizeof *w);
    if (w == NULL || !sql__p_expect(p, TK_LPAREN))
        return NULL;
    if (sql__p_is_ident(p) && !sql__p_is_kw(p, KW_PARTITION) &&
        !sql__p_is_kw(p, KW_ROWS) && !sql__p_is_kw(p, KW_RANGE) &&
        (w->ref = sql__p_ident(p)) == NULL)
        return NULL;
    if (sql__p_accept_kw(p, KW_PARTITION)) {
        if (!sql__p_expect_kw(p, KW_BY) ||
            (w->partition = sql__p_order_list(p)) == NULL)
            return NULL;
    }
    if (sql__p_accept_kw(p, KW_ORDER)) {
        if (!sql__p_expect_kw(p, KW_BY) ||
            (w->order = sql__p_order_list(p)) == NULL)
            return NULL;
    }
    if (sql__p_is_kw(p, KW_ROWS) || sql__p_is_kw(p, KW_RANGE)) {
        w->unit = sql__p_is_kw(p, KW_ROWS) ? AST_FRAME_ROWS : AST_FRAME_RANGE;
        sql__p_advance(p);
        if (sql__p_accept_kw(p, KW_BETWEEN)) {
            if (!frame_bound(p, &w->start) || !sql__p_expect_kw(p, KW_AND) ||
                !frame_bound(p, &w->end))
                return NULL;
        } else {
            if (!frame_bound(p, &w->start))
                return NULL;
            w->end.kind = AST_B_CURRENT;
        }
    }
    if (sql__p_word_is(p, 0, "GROUPS") || sql__p_word_is(p, 0, "EXCLUDE")) {
        sql__p_unsupported(p, sql__p_word_is(p, 0, "GROUPS") ? "GROUPS frames"
                                                      : "EXCLUDE in frames");
        return NULL;
    }
    return sql__p_expect(p, TK_RPAREN) ? w : NULL;
}

/* After the call f's ')': NTH_VALUE's FROM FIRST, RESPECT NULLS, then
 * OVER. A window-only function without OVER is a syntax error (they are
 * keywords in MySQL 8). */
bool sql__p_over(struct parser *p, struct ast_expr *f)
{
    if (f->kind != AST_E_FUNC || f->name == NULL)
        return true; /* a call the parser rewrote (no OVER follows it) */
    bool only = sql__window_only(f->name);
    if (strcmp(f->name, "NTH_VALUE") == 0 && sql__p_is_kw(p, KW_FROM)) {
        if (sql__p_peek_kw(p, 1, KW_LAST))
            return sql__p_unsupported(p, "FROM LAST");
        if (!sql__p_peek_kw(p, 1, KW_FIRST))
            return sql__p_error(p);
        sql__p_advance(p);
        sql__p_advance(p);
    }
    bool valued = strcmp(f->name, "LAG") == 0 ||
                  strcmp(f->name, "LEAD") == 0 ||
                  strcmp(f->name, "FIRST_VALUE") == 0 ||
                  strcmp(f->name, "LAST_VALUE") == 0 ||
                  strcmp(f->name, "NTH_VALUE") == 0;
    if (valued && sql__p_word_is(p, 0, "RESPECT") && sql__p_word_is(p, 1, "NULLS")) {
        sql__p_advance(p);
        sql__p_advance(p);
    } else if (valued && sql__p_is_kw(p, KW_IGNORE) && sql__p_word_is(p, 1, "NULLS")) {
        return sql__p_unsupported(p, "IGNORE NULLS");
    }
    if (!sql__p_is_kw(p, KW_OVER))
        return only ? sql__p_error(p) : true;
    if (!only && !window_agg(f->name))
        return sql__p_error(p); /* ABS(x) OVER (): not a window function */
    if (f->distinct)
        return sql__p_unsupported(p, "<window function>(DISTINCT ..)");
    sql__p_advance(p);
    if (sql__p_is(p, TK_LPAREN)) {
        f->over = window_spec(p);
        return f->over != NULL;
    }
    struct ast_window *w = sql__p_new(p, sizeof *w);
    if (w == NULL || (w->ref = sql__p_ident(p)) == NULL)
        return false;
    w->bare = true;
    f->over = w;
    return true;
}

/* WINDOW name AS (spec) [, name AS (spec)]..., WINDOW consumed. */
struct ast_window *sql__p_window_clause(struct parser *p)
{
    struct ast_window *head = NULL, **tail = &head;
    do {
        const char *name = sql__p_ident(p);
        if (name == NULL || !sql__p_expect_kw(p, KW_AS))
            return NULL;
        struct ast_window *w = window_spec(p);
        if (w == NULL)
            return NULL;
        w->name = name;
        *tail = w;
        tail = &w->next;
    } while (sql__p_accept(p, TK_COMMA));
    return head;
}

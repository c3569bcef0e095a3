/* parse.c: the parser's entry points (one statement, splitting), its token
 * and error helpers, and the expression grammar with MySQL's operator
 * precedence (MySQL 8.0 manual, "Operator Precedence"; the levels follow
 * sql_yacc.yy's expr / bool_pri / predicate / bit_expr / simple_expr).
 * See DESIGN.md, "Parser".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sql.h"
#include "parse_int.h"

/* ---- tokens ---- */

struct sql_token *sql__p_peek(struct parser *p, int n)
{
    while (p->nbuf <= n) {
        sql__lex_next(&p->lx, &p->buf[p->nbuf]);
        p->nbuf++;
    }
    return &p->buf[n];
}

void sql__p_advance(struct parser *p)
{
    sql__p_peek(p, 0);
    p->last = p->buf[0];
    memmove(&p->buf[0], &p->buf[1], sizeof p->buf[0] * (size_t)(p->nbuf - 1));
    p->nbuf--;
}

bool sql__p_is(struct parser *p, int type)
{
    return sql__p_peek(p, 0)->type == type;
}

bool sql__p_peek_kw(struct parser *p, int n, int kw)
{
    struct sql_token *t = sql__p_peek(p, n);
    return t->type == TK_IDENT && t->kw == kw;
}

bool sql__p_is_kw(struct parser *p, int kw)
{
    return sql__p_peek_kw(p, 0, kw);
}

bool sql__p_accept(struct parser *p, int type)
{
    if (!sql__p_is(p, type))
        return false;
    sql__p_advance(p);
    return true;
}

bool sql__p_accept_kw(struct parser *p, int kw)
{
    if (!sql__p_is_kw(p, kw))
        return false;
    sql__p_advance(p);
    return true;
}

bool sql__p_expect(struct parser *p, int type)
{
    return sql__p_accept(p, type) || sql__p_error(p);
}

bool sql__p_expect_kw(struct parser *p, int kw)
{
    return sql__p_accept_kw(p, kw) || sql__p_error(p);
}

/* ---- errors ---- */

static void set_error(struct parser *p, int rc, int errcode, const char *what,
                      const struct sql_token *t)
{
    if (p->failed)
        return;
    p->failed = true;
    p->res->rc = rc;
    p->res->errcode = errcode;
    size_t start = t->type == TK_EOF ? p->len : t->start;
    size_t n = p->len - start;
    if (n > 80) {
        n = 80;
        /* Do not cut a UTF-8 sequence in half. */
        while (n > 0 && ((unsigned char)p->src[start + n] & 0xC0) == 0x80)
            n--;
    }
    snprintf(p->res->errmsg, sizeof p->res->errmsg,
             "%s near '%.*s' at line %d", what, (int)n, p->src + start,
             t->line);
}

#define SYNTAX_MSG                                                        \
    "You have an error in your SQL syntax; check the manual that "        \
    "corresponds to your MySQL server version for the right syntax to use"

bool sql__p_error(struct parser *p)
{
    if (p->lx.oom)
        return sql__p_oom(p);
    set_error(p, SQL_ESYNTAX, SQL_ER_PARSE_ERROR, SYNTAX_MSG,
              sql__p_peek(p, 0));
    return false;
}

bool sql__p_oom(struct parser *p)
{
    if (!p->failed) {
        p->failed = true;
        p->res->rc = -ENOMEM;
        p->res->errcode = SQL_ER_OUTOFMEMORY;
        snprintf(p->res->errmsg, sizeof p->res->errmsg,
                 "Out of memory while parsing the statement");
    }
    return false;
}

bool sql__p_unsupported(struct parser *p, const char *what)
{
    if (!p->failed) {
        p->failed = true;
        p->res->rc = SQL_ESYNTAX;
        p->res->errcode = SQL_ER_NOT_SUPPORTED_YET;
        snprintf(p->res->errmsg, sizeof p->res->errmsg,
                 "This version of MySQL doesn't yet support '%s'", what);
    }
    return false;
}

bool sql__p_too_deep(struct parser *p)
{
    char what[128];
    snprintf(what, sizeof what,
             "Statement nests deeper than %d levels or its expression "
             "is taller than %d; simplify it",
             SQL_PARSE_MAX_DEPTH, SQL_PARSE_MAX_HEIGHT);
    set_error(p, SQL_ETOO_DEEP, SQL_ER_PARSE_ERROR, what, sql__p_peek(p, 0));
    return false;
}

bool sql__p_enter(struct parser *p)
{
    if (p->depth >= SQL_PARSE_MAX_DEPTH)
        return sql__p_too_deep(p);
    p->depth++;
    return true;
}

void sql__p_leave(struct parser *p)
{
    p->depth--;
}

/* ---- allocation ---- */

void *sql__p_new(struct parser *p, size_t n)
{
    void *x = sql__arena_zalloc(p->a, n);
    if (x == NULL)
        sql__p_oom(p);
    return x;
}

char *sql__p_strdup(struct parser *p, const char *s, size_t n)
{
    char *x = sql__arena_strndup(p->a, s, n);
    if (x == NULL)
        sql__p_oom(p);
    return x;
}

struct ast_expr *sql__p_expr_new(struct parser *p, int kind)
{
    struct ast_expr *e = sql__p_new(p, sizeof *e);
    if (e != NULL)
        e->kind = kind;
    return e;
}

static int hmax(int h, const struct ast_expr *e)
{
    return (e != NULL && e->height > h) ? e->height : h;
}

/* Set e's height from its children; an error when it grows too tall. */
struct ast_expr *sql__p_finish(struct parser *p, struct ast_expr *e)
{
    if (e == NULL)
        return NULL;
    int h = hmax(hmax(hmax(0, e->a), e->b), e->c);
    for (const struct ast_expr *x = e->args; x != NULL; x = x->next)
        h = hmax(h, x);
    for (const struct ast_when *w = e->whens; w != NULL; w = w->next)
        h = hmax(hmax(h, w->cond), w->then);
    for (const struct ast_order *o = e->order; o != NULL; o = o->next)
        h = hmax(h, o->expr);
    if (e->sub != NULL && e->sub->height > h)
        h = e->sub->height;
    e->height = h + 1;
    if (e->height > SQL_PARSE_MAX_HEIGHT) {
        sql__p_too_deep(p);
        return NULL;
    }
    if (e->height > p->maxh)
        p->maxh = e->height;
    return e;
}

/* ---- names ---- */

bool sql__p_is_ident(struct parser *p)
{
    struct sql_token *t = sql__p_peek(p, 0);
    return t->type == TK_QIDENT ||
           (t->type == TK_IDENT && sql__keyword_class(t->kw) == 0);
}

static const char *take_name(struct parser *p)
{
    struct sql_token *t = sql__p_peek(p, 0);
    if (memchr(t->str, '\0', t->len) != NULL) {
        sql__p_error(p); /* names are C strings from here on */
        return NULL;
    }
    const char *s = sql__p_strdup(p, t->str, t->len);
    if (s != NULL)
        sql__p_advance(p);
    return s;
}

const char *sql__p_ident(struct parser *p)
{
    if (!sql__p_is_ident(p)) {
        sql__p_error(p);
        return NULL;
    }
    return take_name(p);
}

const char *sql__p_ident_any(struct parser *p)
{
    if (!sql__p_is(p, TK_IDENT) && !sql__p_is(p, TK_QIDENT)) {
        sql__p_error(p);
        return NULL;
    }
    return take_name(p);
}

const char *sql__p_ident_or_string(struct parser *p)
{
    if (sql__p_is(p, TK_STRING))
        return take_name(p);
    return sql__p_ident(p);
}

bool sql__p_table_name(struct parser *p, const char **db, const char **name)
{
    *db = NULL;
    const char *n = sql__p_ident(p);
    if (n == NULL)
        return false;
    if (sql__p_is(p, TK_DOT)) {
        sql__p_advance(p);
        *db = n;
        n = sql__p_ident_any(p);
        if (n == NULL)
            return false;
    }
    *name = n;
    return true;
}

struct ast_name *sql__p_name_list(struct parser *p)
{
    struct ast_name *head = NULL, **tail = &head;
    if (!sql__p_expect(p, TK_LPAREN))
        return NULL;
    do {
        struct ast_name *n = sql__p_new(p, sizeof *n);
        if (n == NULL || (n->name = sql__p_ident(p)) == NULL)
            return NULL;
        *tail = n;
        tail = &n->next;
    } while (sql__p_accept(p, TK_COMMA));
    if (!sql__p_expect(p, TK_RPAREN))
        return NULL;
    return head;
}

const char *sql__p_charset_name(struct parser *p)
{
    if (sql__p_is_kw(p, KW_BINARY) || sql__p_is_kw(p, KW_DEFAULT)) {
        const char *s = sql__keyword_name(sql__p_peek(p, 0)->kw);
        sql__p_advance(p);
        return s;
    }
    return sql__p_ident_or_string(p);
}

/* ---- expressions ---- */

static struct ast_expr *parse_bit_expr(struct parser *p);
static struct ast_expr *parse_unary(struct parser *p);
static struct ast_expr *negate(struct parser *p, struct ast_expr *a);
static struct ast_expr *parse_predicate(struct parser *p);

static struct ast_expr *binary(struct parser *p, int op, struct ast_expr *a,
                               struct ast_expr *b)
{
    struct ast_expr *e = sql__p_expr_new(p, AST_E_BINARY);
    if (e != NULL) {
        e->op = op;
        e->a = a;
        e->b = b;
    }
    return sql__p_finish(p, e);
}

struct ast_expr *sql__p_expr_list(struct parser *p)
{
    struct ast_expr *head = NULL, **tail = &head;
    do {
        struct ast_expr *e = sql__p_expr(p);
        if (e == NULL)
            return NULL;
        *tail = e;
        tail = &e->next;
    } while (sql__p_accept(p, TK_COMMA));
    return head;
}

struct ast_order *sql__p_order_list(struct parser *p)
{
    struct ast_order *head = NULL, **tail = &head;
    do {
        struct ast_order *o = sql__p_new(p, sizeof *o);
        if (o == NULL || (o->expr = sql__p_expr(p)) == NULL)
            return NULL;
        if (sql__p_accept_kw(p, KW_DESC))
            o->desc = true;
        else
            sql__p_accept_kw(p, KW_ASC);
        *tail = o;
        tail = &o->next;
    } while (sql__p_accept(p, TK_COMMA));
    return head;
}

/* Interval units, including the compound ones (DAY_HOUR, ...). */
static const char *const units[] = {
    "MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH",
    "QUARTER", "YEAR", "SECOND_MICROSECOND", "MINUTE_MICROSECOND",
    "MINUTE_SECOND", "HOUR_MICROSECOND", "HOUR_SECOND", "HOUR_MINUTE",
    "DAY_MICROSECOND", "DAY_SECOND", "DAY_MINUTE", "DAY_HOUR", "YEAR_MONTH",
};

static const char *unit_name(struct parser *p)
{
    struct sql_token *t = sql__p_peek(p, 0);
    if (t->type != TK_IDENT || t->kw == KW_NONE)
        return NULL;
    const char *name = sql__keyword_name(t->kw);
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(units[i], name) == 0)
            return units[i];
    return NULL;
}

static const char *parse_unit(struct parser *p)
{
    const char *u = unit_name(p);
    if (u == NULL) {
        sql__p_error(p);
        return NULL;
    }
    sql__p_advance(p);
    return u;
}

static bool parse_len(struct parser *p, struct ast_type *t, bool scale)
{
    if (!sql__p_accept(p, TK_LPAREN))
        return true;
    if (!sql__p_is(p, TK_INT) || sql__p_peek(p, 0)->ival > INT32_MAX)
        return sql__p_error(p);
    t->len = (int64_t)sql__p_peek(p, 0)->ival;
    sql__p_advance(p);
    if (scale && sql__p_accept(p, TK_COMMA)) {
        if (!sql__p_is(p, TK_INT) || sql__p_peek(p, 0)->ival > INT32_MAX)
            return sql__p_error(p);
        t->scale = (int64_t)sql__p_peek(p, 0)->ival;
        sql__p_advance(p);
    }
    return sql__p_expect(p, TK_RPAREN);
}

static bool parse_charset_attrs(struct parser *p, struct ast_type *t)
{
    for (;;) {
        if (sql__p_is_kw(p, KW_CHARACTER) && sql__p_peek_kw(p, 1, KW_SET)) {
            sql__p_advance(p);
            sql__p_advance(p);
        } else if (sql__p_is_kw(p, KW_CHARSET)) {
            sql__p_advance(p);
        } else if (sql__p_accept_kw(p, KW_COLLATE)) {
            if ((t->collate = sql__p_ident_or_string(p)) == NULL)
                return false;
            continue;
        } else if (sql__p_is_kw(p, KW_BINARY) && t->collate == NULL) {
            sql__p_advance(p); /* VARCHAR(10) BINARY: the _bin collation */
            t->collate = "binary";
            continue;
        } else {
            return true;
        }
        if ((t->charset = sql__p_charset_name(p)) == NULL)
            return false;
    }
}

struct type_alias
{
    int kw;           /* keyword that starts the type */
    const char *name; /* canonical name */
    int form;         /* 0 plain, 1 (len), 2 (len, scale), 3 string (len) */
};

static const struct type_alias type_aliases[] = {
    {KW_TINYINT, "TINYINT", 1},     {KW_INT1, "TINYINT", 1},
    {KW_SMALLINT, "SMALLINT", 1},   {KW_INT2, "SMALLINT", 1},
    {KW_MEDIUMINT, "MEDIUMINT", 1}, {KW_INT3, "MEDIUMINT", 1},
    {KW_MIDDLEINT, "MEDIUMINT", 1}, {KW_INT, "INT", 1},
    {KW_INTEGER, "INT", 1},         {KW_INT4, "INT", 1},
    {KW_BIGINT, "BIGINT", 1},       {KW_INT8, "BIGINT", 1},
    {KW_DECIMAL, "DECIMAL", 2},     {KW_DEC, "DECIMAL", 2},
    {KW_NUMERIC, "DECIMAL", 2},     {KW_FIXED, "DECIMAL", 2},
    {KW_FLOAT, "FLOAT", 2},         {KW_FLOAT4, "FLOAT", 2},
    {KW_DOUBLE, "DOUBLE", 2},       {KW_FLOAT8, "DOUBLE", 2},
    {KW_REAL, "DOUBLE", 2},         {KW_BIT, "BIT", 1},
    {KW_BOOL, "BOOL", 0},           {KW_BOOLEAN, "BOOL", 0},
    {KW_CHAR, "CHAR", 3},           {KW_CHARACTER, "CHAR", 3},
    {KW_NCHAR, "CHAR", 3},          {KW_VARCHAR, "VARCHAR", 3},
    {KW_VARCHARACTER, "VARCHAR", 3}, {KW_NVARCHAR, "VARCHAR", 3},
    {KW_BINARY, "BINARY", 1},       {KW_VARBINARY, "VARBINARY", 1},
    {KW_TINYTEXT, "TINYTEXT", 3},   {KW_TEXT, "TEXT", 3},
    {KW_MEDIUMTEXT, "MEDIUMTEXT", 3}, {KW_LONGTEXT, "LONGTEXT", 3},
    {KW_TINYBLOB, "TINYBLOB", 0},   {KW_BLOB, "BLOB", 1},
    {KW_MEDIUMBLOB, "MEDIUMBLOB", 0}, {KW_LONGBLOB, "LONGBLOB", 0},
    {KW_DATE, "DATE", 0},           {KW_TIME, "TIME", 1},
    {KW_DATETIME, "DATETIME", 1},   {KW_TIMESTAMP, "TIMESTAMP", 1},
    {KW_YEAR, "YEAR", 1},           {KW_JSON, "JSON", 0},
    {KW_SIGNED, "SIGNED", 0},       {KW_UNSIGNED, "UNSIGNED", 0},
    {KW_ENUM, "ENUM", 4},           {KW_SET, "SET", 4},
};

bool sql__p_type(struct parser *p, struct ast_type *t, bool cast)
{
    memset(t, 0, sizeof *t);
    t->len = -1;
    t->scale = -1;
    struct sql_token *tok = sql__p_peek(p, 0);
    const struct type_alias *ta = NULL;
    if (tok->type == TK_IDENT)
        for (size_t i = 0; i < sizeof type_aliases / sizeof type_aliases[0]; i++)
            if (type_aliases[i].kw == tok->kw)
                ta = &type_aliases[i];
    if (ta == NULL && tok->type == TK_IDENT && tok->kw == KW_NATIONAL &&
        (sql__p_peek_kw(p, 1, KW_CHAR) || sql__p_peek_kw(p, 1, KW_CHARACTER) ||
         sql__p_peek_kw(p, 1, KW_VARCHAR))) {
        sql__p_advance(p); /* NATIONAL CHAR: utf8 in MySQL; same here */
        return sql__p_type(p, t, cast);
    }
    if (ta == NULL)
        return sql__p_error(p);
    if (!cast && (ta->kw == KW_SIGNED || ta->kw == KW_UNSIGNED))
        return sql__p_error(p);
    t->name = ta->name;
    sql__p_advance(p);
    if (ta->kw == KW_LONG) {
        t->name = "MEDIUMTEXT";
    }
    if (ta->kw == KW_DOUBLE)
        sql__p_accept_kw(p, KW_PRECISION);
    if ((ta->kw == KW_CHARACTER || ta->kw == KW_CHAR) &&
        sql__p_is(p, TK_IDENT) && sql__p_peek(p, 0)->len == 7 &&
        strncasecmp(sql__p_peek(p, 0)->str, "varying", 7) == 0) {
        sql__p_advance(p);
        t->name = "VARCHAR";
    }
    if (ta->kw == KW_SIGNED || ta->kw == KW_UNSIGNED) {
        if (!sql__p_accept_kw(p, KW_INTEGER))
            sql__p_accept_kw(p, KW_INT);
        return true;
    }
    if (ta->form == 4) {
        struct ast_expr **tail = &t->values;
        if (!sql__p_expect(p, TK_LPAREN))
            return false;
        do {
            if (!sql__p_is(p, TK_STRING))
                return sql__p_error(p);
            struct ast_expr *v = sql__p_expr_new(p, AST_E_STRING);
            if (v == NULL)
                return false;
            v->str.s = sql__p_peek(p, 0)->str;
            v->str.n = sql__p_peek(p, 0)->len;
            sql__p_advance(p);
            *tail = v;
            tail = &v->next;
        } while (sql__p_accept(p, TK_COMMA));
        if (!sql__p_expect(p, TK_RPAREN))
            return false;
        return parse_charset_attrs(p, t);
    }
    if (ta->form != 0 && !parse_len(p, t, ta->form == 2))
        return false;
    if (ta->form == 1 || ta->form == 2) {
        for (;;) {
            if (sql__p_accept_kw(p, KW_UNSIGNED))
                t->is_unsigned = true;
            else if (sql__p_accept_kw(p, KW_SIGNED))
                t->is_unsigned = false;
            else if (sql__p_accept_kw(p, KW_ZEROFILL))
                t->zerofill = t->is_unsigned = true;
            else
                break;
        }
    }
    if (ta->form == 3 || ta->kw == KW_BINARY)
        return parse_charset_attrs(p, t);
    return true;
}

static const char *const charsets[] = {
    "utf8mb4", "utf8mb3", "utf8", "latin1", "binary", "ascii", "utf16",
    "utf32", "ucs2", "gbk", "big5", "cp1251", "koi8r", "greek",
};

/* _utf8mb4 before a string literal: the charset name, else NULL. */
static const char *introducer(struct parser *p)
{
    struct sql_token *t = sql__p_peek(p, 0);
    if (t->type != TK_IDENT || t->len < 2 || t->str[0] != '_')
        return NULL;
    int nt = sql__p_peek(p, 1)->type;
    if (nt != TK_STRING && nt != TK_HEX && nt != TK_BIT)
        return NULL;
    for (size_t i = 0; i < sizeof charsets / sizeof charsets[0]; i++)
        if (strlen(charsets[i]) == t->len - 1 &&
            strncasecmp(charsets[i], t->str + 1, t->len - 1) == 0)
            return charsets[i];
    return NULL;
}

/* 'a' 'b' ... concatenated. */
static struct ast_expr *parse_string(struct parser *p, const char *charset)
{
    struct ast_expr *e = sql__p_expr_new(p, AST_E_STRING);
    if (e == NULL)
        return NULL;
    e->charset = charset;
    struct sql_token *t = sql__p_peek(p, 0);
    sql__p_note_literal(p, t->start, e);
    e->str.s = t->str;
    e->str.n = t->len;
    sql__p_advance(p);
    /* Adjacent literals: grow one buffer geometrically (linear in the
     * total, however many pieces). */
    char *buf = NULL;
    size_t cap = 0;
    while (sql__p_peek(p, 0)->type == TK_STRING) {
        struct sql_token *u = sql__p_peek(p, 0);
        size_t n = e->str.n + u->len;
        if (n + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 64;
            while (ncap < n + 1)
                ncap *= 2;
            char *nb = sql__arena_alloc(p->a, ncap);
            if (nb == NULL) {
                sql__p_oom(p);
                return NULL;
            }
            memcpy(nb, e->str.s, e->str.n);
            buf = nb;
            cap = ncap;
        }
        memcpy(buf + e->str.n, u->str, u->len);
        buf[n] = '\0';
        e->str.s = buf;
        e->str.n = n;
        sql__p_advance(p);
    }
    return e;
}

static struct ast_expr *parse_func_args(struct parser *p, struct ast_expr *f)
{
    if (sql__p_accept(p, TK_RPAREN))
        return f;
    if ((f->args = sql__p_expr_list(p)) == NULL)
        return NULL;
    if (!sql__p_expect(p, TK_RPAREN))
        return NULL;
    return f;
}

static bool name_is(const struct sql_token *t, const char *name)
{
    return strlen(name) == t->len && strncasecmp(t->str, name, t->len) == 0;
}

static const char *const aggregates[] = {
    "COUNT", "SUM", "AVG", "MIN", "MAX", "STD", "STDDEV", "STDDEV_POP",
    "STDDEV_SAMP", "VARIANCE", "VAR_POP", "VAR_SAMP", "BIT_AND", "BIT_OR",
    "BIT_XOR",
};

static char *upper_dup(struct parser *p, const char *s, size_t n)
{
    char *u = sql__p_strdup(p, s, n);
    if (u != NULL)
        for (size_t i = 0; i < n; i++)
            if (u[i] >= 'a' && u[i] <= 'z')
                u[i] = (char)(u[i] - 'a' + 'A');
    return u;
}

static struct ast_expr *parse_call_body(struct parser *p);

/* A function call, then its OVER clause if any (parse_window.c). */
static struct ast_expr *parse_call(struct parser *p)
{
    struct ast_expr *f = parse_call_body(p);
    return f != NULL && sql__p_over(p, f) ? f : NULL;
}

/* A function call; the name is the current token, '(' follows. */
static struct ast_expr *parse_call_body(struct parser *p)
{
    struct sql_token name = *sql__p_peek(p, 0);
    struct ast_expr *f = sql__p_expr_new(p, AST_E_FUNC);
    if (f == NULL || (f->name = upper_dup(p, name.str, name.len)) == NULL)
        return NULL;
    sql__p_advance(p); /* name */
    sql__p_advance(p); /* ( */
    bool agg = false;
    for (size_t i = 0; i < sizeof aggregates / sizeof aggregates[0]; i++)
        if (strcmp(f->name, aggregates[i]) == 0)
            agg = true;
    if (agg) {
        if (strcmp(f->name, "COUNT") == 0 && sql__p_is(p, TK_STAR)) {
            sql__p_advance(p);
            if ((f->args = sql__p_expr_new(p, AST_E_STAR)) == NULL)
                return NULL;
            return sql__p_expect(p, TK_RPAREN) ? f : NULL;
        }
        if (sql__p_accept_kw(p, KW_DISTINCT) ||
            sql__p_accept_kw(p, KW_DISTINCTROW))
            f->distinct = true;
        else
            sql__p_accept_kw(p, KW_ALL);
        if ((f->args = sql__p_expr_list(p)) == NULL)
            return NULL;
        if (f->args->next != NULL && !(f->distinct &&
                                       strcmp(f->name, "COUNT") == 0)) {
            sql__p_error(p);
            return NULL;
        }
        return sql__p_expect(p, TK_RPAREN) ? f : NULL;
    }
    if (strcmp(f->name, "GROUP_CONCAT") == 0) {
        if (sql__p_accept_kw(p, KW_DISTINCT))
            f->distinct = true;
        if ((f->args = sql__p_expr_list(p)) == NULL)
            return NULL;
        if (sql__p_accept_kw(p, KW_ORDER)) {
            if (!sql__p_expect_kw(p, KW_BY) ||
                (f->order = sql__p_order_list(p)) == NULL)
                return NULL;
        }
        if (sql__p_accept_kw(p, KW_SEPARATOR)) {
            if (!sql__p_is(p, TK_STRING)) {
                sql__p_error(p);
                return NULL;
            }
            if ((f->b = parse_string(p, NULL)) == NULL)
                return NULL;
        }
        return sql__p_expect(p, TK_RPAREN) ? f : NULL;
    }
    if (strcmp(f->name, "CAST") == 0) {
        f->name = "CAST";
        if ((f->a = sql__p_expr(p)) == NULL || !sql__p_expect_kw(p, KW_AS))
            return NULL;
        if ((f->type = sql__p_new(p, sizeof *f->type)) == NULL ||
            !sql__p_type(p, f->type, true))
            return NULL;
        return sql__p_expect(p, TK_RPAREN) ? f : NULL;
    }
    if (name.kw == KW_CONVERT) {
        if ((f->a = sql__p_expr(p)) == NULL)
            return NULL;
        if (sql__p_accept_kw(p, KW_USING)) {
            if ((f->unit = sql__p_charset_name(p)) == NULL)
                return NULL;
        } else {
            if (!sql__p_expect(p, TK_COMMA) ||
                (f->type = sql__p_new(p, sizeof *f->type)) == NULL ||
                !sql__p_type(p, f->type, true))
                return NULL;
        }
        return sql__p_expect(p, TK_RPAREN) ? f : NULL;
    }
    if (name.kw == KW_EXTRACT) {
        if ((f->unit = parse_unit(p)) == NULL || !sql__p_expect_kw(p, KW_FROM) ||
            (f->args = sql__p_expr(p)) == NULL)
            return NULL;
        return sql__p_expect(p, TK_RPAREN) ? f : NULL;
    }
    if (name.kw == KW_TIMESTAMPDIFF || name.kw == KW_TIMESTAMPADD) {
        if ((f->unit = parse_unit(p)) == NULL || !sql__p_expect(p, TK_COMMA))
            return NULL;
        return parse_func_args(p, f);
    }
    if (strcmp(f->name, "TRIM") == 0) {
        const char *spec = NULL;
        if (sql__p_accept_kw(p, KW_BOTH))
            spec = "BOTH";
        else if (sql__p_accept_kw(p, KW_LEADING))
            spec = "LEADING";
        else if (sql__p_accept_kw(p, KW_TRAILING))
            spec = "TRAILING";
        struct ast_expr *rem = NULL;
        if (spec == NULL || !sql__p_is_kw(p, KW_FROM))
            if ((rem = sql__p_expr(p)) == NULL)
                return NULL;
        if (sql__p_accept_kw(p, KW_FROM)) {
            f->unit = spec ? spec : "BOTH";
            if ((f->args = sql__p_expr(p)) == NULL)
                return NULL;
            f->args->next = rem;
        } else {
            if (spec != NULL || rem == NULL) {
                sql__p_error(p);
                return NULL;
            }
            f->args = rem;
        }
        return sql__p_expect(p, TK_RPAREN) ? f : NULL;
    }
    if (strcmp(f->name, "SUBSTRING") == 0 || strcmp(f->name, "SUBSTR") == 0) {
        if ((f->args = sql__p_expr(p)) == NULL)
            return NULL;
        if (sql__p_accept_kw(p, KW_FROM)) {
            if ((f->args->next = sql__p_expr(p)) == NULL)
                return NULL;
            if (sql__p_accept_kw(p, KW_FOR) &&
                (f->args->next->next = sql__p_expr(p)) == NULL)
                return NULL;
        } else if (sql__p_accept(p, TK_COMMA)) {
            if ((f->args->next = sql__p_expr_list(p)) == NULL)
                return NULL;
        }
        return sql__p_expect(p, TK_RPAREN) ? f : NULL;
    }
    if (strcmp(f->name, "POSITION") == 0) {
        f->name = "LOCATE";
        if ((f->args = parse_bit_expr(p)) == NULL || !sql__p_expect_kw(p, KW_IN) ||
            (f->args->next = sql__p_expr(p)) == NULL)
            return NULL;
        return sql__p_expect(p, TK_RPAREN) ? f : NULL;
    }
    if (name.kw == KW_CHAR) {
        if ((f->args = sql__p_expr_list(p)) == NULL)
            return NULL;
        if (sql__p_accept_kw(p, KW_USING) &&
            (f->unit = sql__p_charset_name(p)) == NULL)
            return NULL;
        return sql__p_expect(p, TK_RPAREN) ? f : NULL;
    }
    if (name.kw == KW_DEFAULT) {
        f->kind = AST_E_DEFAULT;
        f->name = NULL;
        if ((f->a = sql__p_expr(p)) == NULL)
            return NULL;
        return sql__p_expect(p, TK_RPAREN) ? f : NULL;
    }
    if (strcmp(f->name, "ROW") == 0) {
        f->kind = AST_E_ROW;
        f->name = NULL;
        if ((f->args = sql__p_expr_list(p)) == NULL)
            return NULL;
        return sql__p_expect(p, TK_RPAREN) ? f : NULL;
    }
    return parse_func_args(p, f);
}

static struct ast_expr *parse_case(struct parser *p)
{
    struct ast_expr *e = sql__p_expr_new(p, AST_E_CASE);
    if (e == NULL)
        return NULL;
    if (sql__p_is_kw(p, KW_END)) {
        sql__p_error(p);
        return NULL;
    }
    if (!sql__p_is_kw(p, KW_WHEN) && (e->a = sql__p_expr(p)) == NULL)
        return NULL;
    struct ast_when **tail = &e->whens;
    while (sql__p_accept_kw(p, KW_WHEN)) {
        struct ast_when *w = sql__p_new(p, sizeof *w);
        if (w == NULL || (w->cond = sql__p_expr(p)) == NULL ||
            !sql__p_expect_kw(p, KW_THEN) || (w->then = sql__p_expr(p)) == NULL)
            return NULL;
        *tail = w;
        tail = &w->next;
    }
    if (e->whens == NULL) {
        sql__p_error(p);
        return NULL;
    }
    if (sql__p_accept_kw(p, KW_ELSE) && (e->c = sql__p_expr(p)) == NULL)
        return NULL;
    if (!sql__p_expect_kw(p, KW_END))
        return NULL;
    return e;
}

/* Keywords that, without parentheses, call a function. */
static bool bare_function(int kw)
{
    return kw == KW_CURRENT_TIMESTAMP || kw == KW_CURRENT_DATE ||
           kw == KW_CURRENT_TIME || kw == KW_CURRENT_USER ||
           kw == KW_LOCALTIME || kw == KW_LOCALTIMESTAMP ||
           kw == KW_UTC_DATE || kw == KW_UTC_TIME || kw == KW_UTC_TIMESTAMP;
}

static struct ast_expr *parse_column(struct parser *p)
{
    struct ast_expr *e = sql__p_expr_new(p, AST_E_COLUMN);
    if (e == NULL || (e->name = sql__p_ident(p)) == NULL)
        return NULL;
    for (int parts = 1; parts < 3 && sql__p_is(p, TK_DOT); parts++) {
        sql__p_advance(p);
        e->db = e->table;
        e->table = e->name;
        if (sql__p_accept(p, TK_STAR)) {
            e->kind = AST_E_STAR;
            e->name = NULL;
            return e;
        }
        if ((e->name = sql__p_ident_any(p)) == NULL)
            return NULL;
    }
    return e;
}

static struct ast_expr *primary(struct parser *p);

/* col->'path' is JSON_EXTRACT(col, 'path'); col->>'path' is
 * JSON_UNQUOTE(JSON_EXTRACT(col, 'path')) (MySQL 8.0 manual, "JSON
 * Functions"). */
static struct ast_expr *json_path(struct parser *p, struct ast_expr *col)
{
    if (col == NULL || (!sql__p_is(p, TK_ARROW) && !sql__p_is(p, TK_ARROW2)))
        return col;
    bool unquote = sql__p_is(p, TK_ARROW2);
    sql__p_advance(p);
    if (!sql__p_is(p, TK_STRING)) {
        sql__p_error(p);
        return NULL;
    }
    struct ast_expr *f = sql__p_expr_new(p, AST_E_FUNC);
    if (f == NULL || (col->next = parse_string(p, NULL)) == NULL ||
        (col = sql__p_finish(p, col)) == NULL)
        return NULL;
    f->name = "JSON_EXTRACT";
    f->args = col;
    if (!unquote)
        return f;
    struct ast_expr *u = sql__p_expr_new(p, AST_E_FUNC);
    if (u == NULL || sql__p_finish(p, f) == NULL)
        return NULL;
    u->name = "JSON_UNQUOTE";
    u->args = f;
    return u;
}

static struct ast_expr *parse_primary(struct parser *p)
{
    return sql__p_finish(p, primary(p));
}

static struct ast_expr *primary(struct parser *p)
{
    struct sql_token *t = sql__p_peek(p, 0);
    struct ast_expr *e;
    switch (t->type) {
    case TK_INT:
        if ((e = sql__p_expr_new(p, AST_E_INT)) == NULL)
            return NULL;
        sql__p_note_literal(p, t->start, e);
        if (t->ival > (uint64_t)INT64_MAX) {
            e->is_unsigned = true;
            e->uval = t->ival;
        } else {
            e->ival = (int64_t)t->ival;
        }
        e->str.s = t->str;
        e->str.n = t->len;
        sql__p_advance(p);
        return e;
    case TK_DECIMAL:
    case TK_FLOAT:
        if ((e = sql__p_expr_new(p, t->type == TK_FLOAT ? AST_E_FLOAT
                                                         : AST_E_DECIMAL)) == NULL)
            return NULL;
        e->str.s = t->str;
        e->str.n = t->len;
        sql__p_advance(p);
        return e;
    case TK_STRING:
        return parse_string(p, NULL);
    case TK_NSTRING:
        if ((e = parse_string(p, NULL)) != NULL)
            e->charset = "utf8mb4";
        return e;
    case TK_HEX:
    case TK_BIT:
        if ((e = sql__p_expr_new(p, t->type == TK_HEX ? AST_E_HEX : AST_E_BIT)) == NULL)
            return NULL;
        e->str.s = t->str;
        e->str.n = t->len;
        sql__p_advance(p);
        return e;
    case TK_PARAM:
        if ((e = sql__p_expr_new(p, AST_E_PARAM)) == NULL)
            return NULL;
        e->ival = p->nparams++;
        sql__p_advance(p);
        return e;
    case TK_USERVAR:
    case TK_SYSVAR:
        if ((e = sql__p_expr_new(p, t->type == TK_USERVAR ? AST_E_USERVAR
                                                           : AST_E_SYSVAR)) == NULL ||
            (e->name = sql__p_strdup(p, t->str, t->len)) == NULL)
            return NULL;
        e->scope = (int)t->ival;
        sql__p_advance(p);
        if (e->kind == AST_E_USERVAR && sql__p_is(p, TK_ASSIGN)) {
            /* @v := expr binds loosest of all and to the right. */
            sql__p_advance(p);
            e->kind = AST_E_ASSIGN;
            if ((e->a = sql__p_expr(p)) == NULL)
                return NULL;
        }
        return e;
    case TK_LPAREN: {
        sql__p_advance(p);
        if (sql__p_starts_query(p)) {
            if ((e = sql__p_expr_new(p, AST_E_SUBQUERY)) == NULL ||
                (e->sub = sql__p_query(p)) == NULL)
                return NULL;
            return sql__p_expect(p, TK_RPAREN) ? e : NULL;
        }
        struct ast_expr *first = sql__p_expr(p);
        if (first == NULL)
            return NULL;
        if (sql__p_is(p, TK_COMMA)) {
            sql__p_advance(p);
            if ((e = sql__p_expr_new(p, AST_E_ROW)) == NULL ||
                (first->next = sql__p_expr_list(p)) == NULL)
                return NULL;
            e->args = first;
        } else {
            e = first;
        }
        return sql__p_expect(p, TK_RPAREN) ? e : NULL;
    }
    case TK_LBRACE: {
        /* ODBC escapes {d '...'}, {ts '...'}: the string is the value. */
        sql__p_advance(p);
        if (!sql__p_is(p, TK_IDENT) && !sql__p_is(p, TK_QIDENT)) {
            sql__p_error(p);
            return NULL;
        }
        sql__p_advance(p);
        if ((e = sql__p_expr(p)) == NULL)
            return NULL;
        return sql__p_expect(p, TK_RBRACE) ? e : NULL;
    }
    case TK_IDENT:
        break;
    case TK_QIDENT:
        return json_path(p, parse_column(p));
    default:
        sql__p_error(p);
        return NULL;
    }
    /* A word. */
    const char *cs = introducer(p);
    if (cs != NULL) {
        sql__p_advance(p);
        if (sql__p_is(p, TK_STRING))
            return parse_string(p, cs);
        if ((e = primary(p)) != NULL)
            e->charset = cs;
        return e;
    }
    int kw = t->kw;
    bool call = sql__p_peek(p, 1)->type == TK_LPAREN;
    switch (kw) {
    case KW_NULL:
        sql__p_advance(p);
        return sql__p_expr_new(p, AST_E_NULL);
    case KW_TRUE:
    case KW_FALSE:
        sql__p_advance(p);
        if ((e = sql__p_expr_new(p, AST_E_BOOL)) != NULL)
            e->ival = kw == KW_TRUE;
        return e;
    case KW_CASE:
        sql__p_advance(p);
        return parse_case(p);
    case KW_EXISTS:
        sql__p_advance(p);
        if (!sql__p_expect(p, TK_LPAREN) ||
            (e = sql__p_expr_new(p, AST_E_EXISTS)) == NULL ||
            (e->sub = sql__p_query(p)) == NULL)
            return NULL;
        return sql__p_expect(p, TK_RPAREN) ? e : NULL;
    case KW_INTERVAL:
        sql__p_advance(p);
        if ((e = sql__p_expr_new(p, AST_E_INTERVAL)) == NULL ||
            (e->a = sql__p_expr(p)) == NULL || (e->name = parse_unit(p)) == NULL)
            return NULL;
        return e;
    case KW_DEFAULT:
        if (call)
            return parse_call(p);
        sql__p_advance(p);
        return sql__p_expr_new(p, AST_E_DEFAULT);
    case KW_DATE:
    case KW_TIME:
    case KW_TIMESTAMP:
        if (sql__p_peek(p, 1)->type == TK_STRING) {
            sql__p_advance(p);
            if ((e = parse_string(p, NULL)) != NULL)
                e->name = sql__keyword_name(kw);
            return e;
        }
        break;
    case KW_MATCH:
        sql__p_unsupported(p, "MATCH ... AGAINST");
        return NULL;
    default:
        break;
    }
    if (bare_function(kw) && !call) {
        sql__p_advance(p);
        if ((e = sql__p_expr_new(p, AST_E_FUNC)) != NULL) {
            e->name = sql__keyword_name(kw);
            e->noparen = true;
        }
        return e;
    }
    if (call && sql__keyword_class(kw) != 1)
        return parse_call(p);
    return json_path(p, parse_column(p));
}

/* simple_expr [COLLATE name] */
static struct ast_expr *parse_collate(struct parser *p)
{
    struct ast_expr *e = parse_primary(p);
    while (e != NULL && sql__p_accept_kw(p, KW_COLLATE)) {
        struct ast_expr *c = sql__p_expr_new(p, AST_E_COLLATE);
        if (c == NULL || (c->name = sql__p_ident_or_string(p)) == NULL)
            return NULL;
        c->a = e;
        e = sql__p_finish(p, c);
    }
    return e;
}

static struct ast_expr *unary(struct parser *p, int op, struct ast_expr *a)
{
    struct ast_expr *e = sql__p_expr_new(p, AST_E_UNARY);
    if (e != NULL) {
        e->op = op;
        e->a = a;
    }
    return sql__p_finish(p, e);
}

struct ast_expr *sql__p_unary_expr(struct parser *p)
{
    return parse_unary(p);
}

static struct ast_expr *parse_unary(struct parser *p)
{
    struct sql_token *t = sql__p_peek(p, 0);
    int op = AST_OP_NONE;
    if (t->type == TK_MINUS)
        op = AST_OP_NEG;
    else if (t->type == TK_TILDE)
        op = AST_OP_BITNOT;
    else if (t->type == TK_BANG)
        op = AST_OP_NOT;
    else if (t->type == TK_PLUS)
        op = AST_OP_NONE;
    else if (t->kw == KW_BINARY && t->type == TK_IDENT)
        op = AST_OP_BINARY; /* BINARY x, BINARY(x) */
    else
        return parse_collate(p);
    sql__p_advance(p);
    if (!sql__p_enter(p))
        return NULL;
    struct ast_expr *a;
    if (op == AST_OP_NEG && (sql__p_is(p, TK_INT) || sql__p_is(p, TK_DECIMAL) ||
                             sql__p_is(p, TK_FLOAT))) {
        /* -5 is a literal (MySQL folds it in the grammar). */
        a = parse_collate(p);
        if (a != NULL && a->kind == AST_E_INT && !a->is_unsigned && a->ival != 0) {
            a->ival = -a->ival; /* (-0 stays a negation: it prints as one) */
        } else if (a != NULL && a->kind == AST_E_INT &&
                   a->uval == (uint64_t)INT64_MAX + 1) {
            a->is_unsigned = false;
            a->ival = INT64_MIN;
        } else if (a != NULL && a->kind == AST_E_INT && a->is_unsigned) {
            /* Below the BIGINT minimum: MySQL negates it as a DECIMAL
             * (F20), so -9999999999999999999 is a value, not 1690. */
            a->kind = AST_E_DECIMAL;
            a = unary(p, op, a);
        } else if (a != NULL) {
            a = unary(p, op, a);
        }
    } else {
        a = parse_unary(p);
        if (a != NULL && op == AST_OP_NOT)
            a = negate(p, a); /* ! as NOT: MariaDB negates both alike, and
                                 the print, NOT, must parse back the same */
        else if (a != NULL && op != AST_OP_NONE)
            a = unary(p, op, a);
    }
    sql__p_leave(p);
    return a;
}

static struct ast_expr *parse_xor_bits(struct parser *p)
{
    struct ast_expr *e = parse_unary(p);
    while (e != NULL && sql__p_accept(p, TK_CARET)) {
        struct ast_expr *b = parse_unary(p);
        if (b == NULL)
            return NULL;
        e = binary(p, AST_OP_BITXOR, e, b);
    }
    return e;
}

static struct ast_expr *parse_mul(struct parser *p)
{
    struct ast_expr *e = parse_xor_bits(p);
    while (e != NULL) {
        struct sql_token *t = sql__p_peek(p, 0);
        int op;
        if (t->type == TK_STAR)
            op = AST_OP_MUL;
        else if (t->type == TK_SLASH)
            op = AST_OP_DIV;
        else if (t->type == TK_PERCENT || (t->type == TK_IDENT && t->kw == KW_MOD))
            op = AST_OP_MOD;
        else if (t->type == TK_IDENT && t->kw == KW_DIV)
            op = AST_OP_INTDIV;
        else
            break;
        sql__p_advance(p);
        struct ast_expr *b = parse_xor_bits(p);
        if (b == NULL)
            return NULL;
        e = binary(p, op, e, b);
    }
    return e;
}

static struct ast_expr *parse_add(struct parser *p)
{
    struct ast_expr *e = parse_mul(p);
    while (e != NULL) {
        int op;
        if (sql__p_is(p, TK_PLUS))
            op = AST_OP_ADD;
        else if (sql__p_is(p, TK_MINUS))
            op = AST_OP_SUB;
        else
            break;
        sql__p_advance(p);
        struct ast_expr *b = parse_mul(p);
        if (b == NULL)
            return NULL;
        e = binary(p, op, e, b);
    }
    return e;
}

static struct ast_expr *parse_shift(struct parser *p)
{
    struct ast_expr *e = parse_add(p);
    while (e != NULL) {
        int op;
        if (sql__p_is(p, TK_SHL))
            op = AST_OP_SHL;
        else if (sql__p_is(p, TK_SHR))
            op = AST_OP_SHR;
        else
            break;
        sql__p_advance(p);
        struct ast_expr *b = parse_add(p);
        if (b == NULL)
            return NULL;
        e = binary(p, op, e, b);
    }
    return e;
}

static struct ast_expr *parse_bitand(struct parser *p)
{
    struct ast_expr *e = parse_shift(p);
    while (e != NULL && sql__p_accept(p, TK_AMP)) {
        struct ast_expr *b = parse_shift(p);
        if (b == NULL)
            return NULL;
        e = binary(p, AST_OP_BITAND, e, b);
    }
    return e;
}

static struct ast_expr *parse_bit_expr(struct parser *p)
{
    struct ast_expr *e = parse_bitand(p);
    while (e != NULL && sql__p_accept(p, TK_PIPE)) {
        struct ast_expr *b = parse_bitand(p);
        if (b == NULL)
            return NULL;
        e = binary(p, AST_OP_BITOR, e, b);
    }
    return e;
}

/* bit_expr [NOT] IN / BETWEEN / LIKE / REGEXP ... */
static struct ast_expr *parse_predicate(struct parser *p)
{
    struct ast_expr *a = parse_bit_expr(p);
    if (a == NULL)
        return NULL;
    bool neg = false;
    if (sql__p_word_is(p, 0, "MEMBER") && sql__p_word_is(p, 1, "OF") &&
        sql__p_peek(p, 2)->type == TK_LPAREN) {
        /* v MEMBER OF (json_array) (MySQL 8.0.17): the function
         * "MEMBER OF" (json_table.c), not callable by that name. */
        struct ast_expr *f = sql__p_expr_new(p, AST_E_FUNC);
        if (f == NULL)
            return NULL;
        f->name = "MEMBER OF";
        sql__p_advance(p);
        sql__p_advance(p);
        sql__p_advance(p);
        f->args = a;
        if ((a->next = sql__p_expr(p)) == NULL || !sql__p_expect(p, TK_RPAREN))
            return NULL;
        return sql__p_finish(p, f);
    }
    if (sql__p_is_kw(p, KW_NOT)) {
        /* Only [NOT] IN/BETWEEN/LIKE/REGEXP follow an operand; like
         * MySQL's grammar, an error is reported after the NOT. */
        sql__p_advance(p);
        neg = true;
    }
    struct ast_expr *e;
    if (sql__p_accept_kw(p, KW_IN)) {
        if (!sql__p_expect(p, TK_LPAREN) || (e = sql__p_expr_new(p, AST_E_IN)) == NULL)
            return NULL;
        e->a = a;
        e->neg = neg;
        if (sql__p_starts_query(p)) {
            if ((e->sub = sql__p_query(p)) == NULL)
                return NULL;
        } else if ((e->args = sql__p_expr_list(p)) == NULL) {
            return NULL;
        }
        return sql__p_expect(p, TK_RPAREN) ? sql__p_finish(p, e) : NULL;
    }
    if (sql__p_accept_kw(p, KW_BETWEEN)) {
        if ((e = sql__p_expr_new(p, AST_E_BETWEEN)) == NULL)
            return NULL;
        e->a = a;
        e->neg = neg;
        if ((e->b = parse_bit_expr(p)) == NULL || !sql__p_expect_kw(p, KW_AND))
            return NULL;
        if (!sql__p_enter(p))
            return NULL;
        e->c = parse_predicate(p);
        sql__p_leave(p);
        return e->c ? sql__p_finish(p, e) : NULL;
    }
    if (sql__p_accept_kw(p, KW_LIKE)) {
        if ((e = sql__p_expr_new(p, AST_E_LIKE)) == NULL)
            return NULL;
        e->a = a;
        e->neg = neg;
        if ((e->b = parse_bit_expr(p)) == NULL)
            return NULL;
        if (sql__p_accept_kw(p, KW_ESCAPE) && (e->c = parse_collate(p)) == NULL)
            return NULL;
        return sql__p_finish(p, e);
    }
    if (sql__p_accept_kw(p, KW_REGEXP) || sql__p_accept_kw(p, KW_RLIKE)) {
        if ((e = sql__p_expr_new(p, AST_E_REGEXP)) == NULL)
            return NULL;
        e->a = a;
        e->neg = neg;
        return (e->b = parse_bit_expr(p)) ? sql__p_finish(p, e) : NULL;
    }
    if (neg) {
        sql__p_error(p);
        return NULL;
    }
    return a;
}

static int comp_op(int type)
{
    switch (type) {
    case TK_EQ: return AST_OP_EQ;
    case TK_NULLEQ: return AST_OP_NULLEQ;
    case TK_NE: return AST_OP_NE;
    case TK_LT: return AST_OP_LT;
    case TK_LE: return AST_OP_LE;
    case TK_GT: return AST_OP_GT;
    case TK_GE: return AST_OP_GE;
    default: return AST_OP_NONE;
    }
}

/* predicate { IS [NOT] NULL|TRUE|FALSE|UNKNOWN | comp predicate
 * | comp ANY|ALL (subquery) } */
static struct ast_expr *parse_bool_pri(struct parser *p)
{
    struct ast_expr *e = parse_predicate(p);
    while (e != NULL) {
        if (sql__p_accept_kw(p, KW_IS)) {
            struct ast_expr *is = sql__p_expr_new(p, AST_E_IS);
            if (is == NULL)
                return NULL;
            is->a = e;
            is->neg = sql__p_accept_kw(p, KW_NOT);
            if (sql__p_accept_kw(p, KW_NULL))
                is->op = AST_OP_ISNULL;
            else if (sql__p_accept_kw(p, KW_TRUE))
                is->op = AST_OP_ISTRUE;
            else if (sql__p_accept_kw(p, KW_FALSE))
                is->op = AST_OP_ISFALSE;
            else if (sql__p_accept_kw(p, KW_UNKNOWN))
                is->op = AST_OP_ISUNKNOWN;
            else {
                sql__p_error(p);
                return NULL;
            }
            if ((e = sql__p_finish(p, is)) == NULL)
                return NULL;
            continue;
        }
        int op = comp_op(sql__p_peek(p, 0)->type);
        if (op == AST_OP_NONE)
            break;
        sql__p_advance(p);
        if ((sql__p_is_kw(p, KW_ANY) || sql__p_is_kw(p, KW_ALL) ||
             (sql__p_is(p, TK_IDENT) && name_is(sql__p_peek(p, 0), "SOME"))) &&
            sql__p_peek(p, 1)->type == TK_LPAREN) {
            struct ast_expr *q = sql__p_expr_new(p, AST_E_CMP_SUBQ);
            if (q == NULL)
                return NULL;
            q->op = op;
            q->ival = sql__p_is_kw(p, KW_ALL) ? AST_OP_ALL : AST_OP_ANY;
            sql__p_advance(p);
            sql__p_advance(p);
            q->a = e;
            if ((q->sub = sql__p_query(p)) == NULL || !sql__p_expect(p, TK_RPAREN))
                return NULL;
            if ((e = sql__p_finish(p, q)) == NULL)
                return NULL;
            continue;
        }
        struct ast_expr *b = parse_predicate(p);
        if (b == NULL)
            return NULL;
        e = binary(p, op, e, b);
    }
    return e;
}

/* Whether x is a condition (a truth value), so NOT NOT x may be x. */
static bool is_condition(const struct ast_expr *x)
{
    switch (x->kind) {
    case AST_E_BINARY:
        return x->op == AST_OP_EQ || x->op == AST_OP_NE ||
               x->op == AST_OP_LT || x->op == AST_OP_LE ||
               x->op == AST_OP_GT || x->op == AST_OP_GE ||
               x->op == AST_OP_NULLEQ;
    case AST_E_UNARY:
        return x->op == AST_OP_NOT;
    case AST_E_LOGIC:
    case AST_E_IS:
    case AST_E_LIKE:
    case AST_E_REGEXP:
    case AST_E_BETWEEN:
    case AST_E_IN:
    case AST_E_EXISTS:
    case AST_E_CMP_SUBQ:
        return true;
    default:
        return false;
    }
}

/* NOT a as MariaDB's parser writes it (negate_expression and the items'
 * neg_transformer): NOT NOT x is x for a condition; a comparison flips
 * (= <>, < >=, > <=; not <=>); IS [NOT] NULL, [NOT] LIKE, [NOT] BETWEEN
 * and [NOT] IN of a list flip; an AND or OR becomes the other with each
 * member negated so (De Morgan); anything else stays NOT a. The same in
 * SQL's three-valued logic; what changes is what the planner and the
 * condition's reading order see: `NOT (c <> 5 OR x)` is `c = 5 AND NOT
 * x`, a key range and an equality read first, as in MariaDB. */
static struct ast_expr *negate(struct parser *p, struct ast_expr *a)
{
    switch (a->kind) {
    case AST_E_UNARY:
        if (a->op == AST_OP_NOT && is_condition(a->a))
            return a->a;
        break;
    case AST_E_BINARY:
        switch (a->op) {
        case AST_OP_EQ:
            a->op = AST_OP_NE;
            return a;
        case AST_OP_NE:
            a->op = AST_OP_EQ;
            return a;
        case AST_OP_LT:
            a->op = AST_OP_GE;
            return a;
        case AST_OP_GE:
            a->op = AST_OP_LT;
            return a;
        case AST_OP_GT:
            a->op = AST_OP_LE;
            return a;
        case AST_OP_LE:
            a->op = AST_OP_GT;
            return a;
        default:
            break;
        }
        break;
    case AST_E_IS:
        if (a->op != AST_OP_ISNULL)
            break;
        a->neg = !a->neg;
        return a;
    case AST_E_IN:
        if (a->sub)
            break;
        a->neg = !a->neg;
        return a;
    case AST_E_LIKE:
    case AST_E_BETWEEN:
        a->neg = !a->neg;
        return a;
    case AST_E_LOGIC:
        if (a->op != AST_OP_AND && a->op != AST_OP_OR)
            break;
        for (struct ast_expr **pp = &a->args; *pp != NULL;) {
            struct ast_expr *x = *pp, *next = x->next;
            x->next = NULL;
            struct ast_expr *n = negate(p, x);
            if (n == NULL)
                return NULL;
            n->next = next;
            *pp = n;
            pp = &n->next;
        }
        a->op = a->op == AST_OP_AND ? AST_OP_OR : AST_OP_AND;
        return sql__p_finish(p, a);
    default:
        break;
    }
    return unary(p, AST_OP_NOT, a);
}

static struct ast_expr *parse_not(struct parser *p)
{
    if (!sql__p_is_kw(p, KW_NOT))
        return parse_bool_pri(p);
    sql__p_advance(p);
    if (!sql__p_enter(p))
        return NULL;
    struct ast_expr *a = parse_not(p);
    sql__p_leave(p);
    return a ? negate(p, a) : NULL;
}

/* One n-ary node for a chain a op b op c (AND, OR or XOR). */
static struct ast_expr *logic_chain(struct parser *p, int op,
                                    struct ast_expr *(*next)(struct parser *),
                                    int kw, int tk)
{
    struct ast_expr *first = next(p);
    if (first == NULL)
        return NULL;
    struct ast_expr *e = NULL, **tail = NULL;
    while (sql__p_accept_kw(p, kw) || (tk != 0 && sql__p_accept(p, tk))) {
        if (e == NULL) {
            if ((e = sql__p_expr_new(p, AST_E_LOGIC)) == NULL)
                return NULL;
            e->op = op;
            e->args = first;
            tail = &first->next;
        }
        struct ast_expr *b = next(p);
        if (b == NULL)
            return NULL;
        *tail = b;
        tail = &b->next;
    }
    return e ? sql__p_finish(p, e) : first;
}

static struct ast_expr *parse_and(struct parser *p)
{
    return logic_chain(p, AST_OP_AND, parse_not, KW_AND, TK_ANDAND);
}

static struct ast_expr *parse_xor(struct parser *p)
{
    return logic_chain(p, AST_OP_XOR, parse_and, KW_XOR, 0);
}

struct ast_expr *sql__p_expr(struct parser *p)
{
    if (!sql__p_enter(p))
        return NULL;
    struct ast_expr *e = logic_chain(p, AST_OP_OR, parse_xor, KW_OR, TK_OROR);
    sql__p_leave(p);
    return e;
}

/* ---- entry points ---- */

static void skip_ws(const char *s, size_t len, size_t *pos)
{
    while (*pos < len && (s[*pos] == ' ' || s[*pos] == '\t' || s[*pos] == '\n' ||
                          s[*pos] == '\r' || s[*pos] == '\f' || s[*pos] == '\v'))
        (*pos)++;
}

void sql__p_note_literal(struct parser *p, size_t start, struct ast_expr *e)
{
    struct sql_parse_rec *r = p->rec;
    if (r == NULL)
        return;
    if (r->n == r->cap) {
        r->overflow = true;
        return;
    }
    r->starts[r->n] = start;
    r->nodes[r->n++] = e;
}

int sql__parse_one(struct sql_arena *a, const char *sql, size_t len,
                   struct sql_parse_result *res)
{
    return sql__parse_one_rec(a, sql, len, res, NULL);
}

int sql__parse_one_rec(struct sql_arena *a, const char *sql, size_t len,
                       struct sql_parse_result *res,
                       struct sql_parse_rec *rec)
{
    memset(res, 0, sizeof *res);
    struct parser p;
    memset(&p, 0, sizeof p);
    p.rec = rec;
    p.a = a;
    p.res = res;
    p.src = sql;
    p.len = len;
    sql__lex_init(&p.lx, a, sql, len);
    res->next = len;
    /* Empty statements (only ';', whitespace, comments) parse to NULL. */
    if (sql__p_is(&p, TK_EOF) || sql__p_is(&p, TK_SEMI)) {
        res->stmt_end = sql__p_peek(&p, 0)->start;
        if (sql__p_is(&p, TK_SEMI)) {
            size_t next = sql__p_peek(&p, 0)->end;
            skip_ws(sql, len, &next);
            res->next = next;
        }
        return 0;
    }
    struct ast_stmt *st = sql__p_statement(&p);
    if (st != NULL && !p.failed) {
        res->stmt_end = p.last.end;
        if (sql__p_is(&p, TK_SEMI)) {
            size_t next = sql__p_peek(&p, 0)->end;
            skip_ws(sql, len, &next);
            res->next = next;
        } else if (!sql__p_is(&p, TK_EOF)) {
            sql__p_error(&p);
        }
    }
    if (p.failed) {
        res->stmt = NULL;
        return res->rc;
    }
    if (st == NULL) {
        sql__p_error(&p);
        return res->rc;
    }
    st->nparams = p.nparams;
    res->stmt = st;
    return 0;
}

int sql__split(const char *sql, size_t len, struct sql_span *spans, size_t max)
{
    struct sql_lexer lx;
    struct sql_token t;
    size_t count = 0;
    size_t start = 0; /* after the previous ';' and whitespace: a leading
                         comment (an executable one's opening) belongs to
                         the statement */
    bool any = false; /* the current statement has a token */
    /* Without an arena the lexer finds each token's extent only. */
    sql__lex_init(&lx, NULL, sql, len);
    skip_ws(sql, len, &start);
    for (;;) {
        sql__lex_next(&lx, &t);
        bool last = t.type == TK_EOF || t.type == TK_ERROR;
        if (t.type == TK_ERROR)
            any = true;
        if (last || t.type == TK_SEMI) {
            size_t end = t.type == TK_ERROR ? len : t.start;
            while (end > start && (sql[end - 1] == ' ' || sql[end - 1] == '\t' ||
                                   sql[end - 1] == '\n' || sql[end - 1] == '\r'))
                end--;
            if (any) {
                if (count < max) {
                    spans[count].start = start;
                    spans[count].end = end;
                }
                count++;
            }
            any = false;
            if (last)
                return count > INT32_MAX ? INT32_MAX : (int)count;
            start = t.end;
            skip_ws(sql, len, &start);
            continue;
        }
        any = true;
    }
}

/* parse_ddl.c: DDL (CREATE/DROP/ALTER/TRUNCATE/RENAME) and the
 * administrative statements (USE, SHOW, DESCRIBE/EXPLAIN, SET,
 * transactions, users and privileges, KILL, LOCK TABLES). Grammar after
 * the MySQL 8.0 manual's statement pages. See DESIGN.md, "Parser".
 */
#include <string.h>
#include <strings.h>

#include "parse_ddl.h"

static struct ast_stmt *stmt_new(struct parser *p, int kind)
{
    struct ast_stmt *st = sql__p_new(p, sizeof *st);
    if (st != NULL)
        st->kind = kind;
    return st;
}

static bool if_not_exists(struct parser *p)
{
    if (sql__p_is_kw(p, KW_IF) && sql__p_peek_kw(p, 1, KW_NOT) &&
        sql__p_peek_kw(p, 2, KW_EXISTS)) {
        sql__p_advance(p);
        sql__p_advance(p);
        sql__p_advance(p);
        return true;
    }
    return false;
}

static bool if_exists(struct parser *p)
{
    if (sql__p_is_kw(p, KW_IF) && sql__p_peek_kw(p, 1, KW_EXISTS)) {
        sql__p_advance(p);
        sql__p_advance(p);
        return true;
    }
    return false;
}

/* The n-th token is the bare word w (any case), keyword or not. */
static bool word_is(struct parser *p, int n, const char *w)
{
    return sql__p_word_is(p, n, w);
}

static const char *kwname(struct parser *p)
{
    return sql__keyword_name(sql__p_peek(p, 0)->kw);
}

/* A string literal's bytes (COMMENT 'x'). */
static bool string_lit(struct parser *p, const char **s, size_t *n)
{
    if (!sql__p_is(p, TK_STRING))
        return sql__p_error(p);
    struct sql_token *t = sql__p_peek(p, 0);
    *s = t->str;
    *n = t->len;
    sql__p_advance(p);
    return true;
}

/* ---- users ---- */

struct ast_user *sql__p_user(struct parser *p)
{
    struct ast_user *u = sql__p_new(p, sizeof *u);
    if (u == NULL)
        return NULL;
    if (sql__p_is_kw(p, KW_CURRENT_USER)) {
        sql__p_advance(p);
        if (sql__p_accept(p, TK_LPAREN) && !sql__p_expect(p, TK_RPAREN))
            return NULL;
        u->name = "CURRENT_USER";
        return u;
    }
    if ((u->name = sql__p_ident_or_string(p)) == NULL)
        return NULL;
    /* 'u'@'h' lexes as a string and a user variable. */
    if (sql__p_is(p, TK_USERVAR) && !sql__p_peek(p, 0)->space_before) {
        struct sql_token *t = sql__p_peek(p, 0);
        if ((u->host = sql__p_strdup(p, t->str, t->len)) == NULL)
            return NULL;
        sql__p_advance(p);
    } else if (sql__p_accept(p, TK_AT)) {
        if ((u->host = sql__p_ident_or_string(p)) == NULL)
            return NULL;
    }
    return u;
}

static bool user_auth(struct parser *p, struct ast_user *u)
{
    if (!sql__p_accept_kw(p, KW_IDENTIFIED))
        return true;
    if (sql__p_accept_kw(p, KW_WITH)) {
        if ((u->plugin = sql__p_ident_or_string(p)) == NULL)
            return false;
        if (sql__p_accept_kw(p, KW_BY)) {
        } else if (sql__p_accept_kw(p, KW_AS)) {
            return sql__p_unsupported(p, "IDENTIFIED WITH ... AS");
        } else {
            return true;
        }
    } else if (!sql__p_expect_kw(p, KW_BY)) {
        return false;
    }
    if (sql__p_is_kw(p, KW_PASSWORD))
        return sql__p_unsupported(p, "IDENTIFIED BY PASSWORD");
    u->has_password = true;
    return string_lit(p, &u->password.s, &u->password.n);
}

static struct ast_user *user_list(struct parser *p, bool auth)
{
    struct ast_user *head = NULL, **tail = &head;
    do {
        struct ast_user *u = sql__p_user(p);
        if (u == NULL || (auth && !user_auth(p, u)))
            return NULL;
        *tail = u;
        tail = &u->next;
    } while (sql__p_accept(p, TK_COMMA));
    return head;
}

/* ---- CREATE TABLE pieces ---- */

static bool index_cols(struct parser *p, struct ast_index_col **out)
{
    struct ast_index_col **tail = out;
    if (!sql__p_expect(p, TK_LPAREN))
        return false;
    do {
        struct ast_index_col *c = sql__p_new(p, sizeof *c);
        if (c == NULL)
            return false;
        if (sql__p_is(p, TK_LPAREN))
            return sql__p_unsupported(p, "functional key parts");
        if ((c->name = sql__p_ident(p)) == NULL)
            return false;
        c->prefix = -1;
        if (sql__p_accept(p, TK_LPAREN)) {
            if (!sql__p_is(p, TK_INT) || sql__p_peek(p, 0)->ival > INT32_MAX)
                return sql__p_error(p);
            c->prefix = (int64_t)sql__p_peek(p, 0)->ival;
            sql__p_advance(p);
            if (!sql__p_expect(p, TK_RPAREN))
                return false;
        }
        if (sql__p_accept_kw(p, KW_DESC))
            c->desc = true;
        else
            sql__p_accept_kw(p, KW_ASC);
        *tail = c;
        tail = &c->next;
    } while (sql__p_accept(p, TK_COMMA));
    return sql__p_expect(p, TK_RPAREN);
}

static bool index_using(struct parser *p, struct ast_indexdef *ix)
{
    if (!sql__p_is_kw(p, KW_USING) && !sql__p_is_kw(p, KW_TYPE))
        return true;
    sql__p_advance(p);
    if (sql__p_accept_kw(p, KW_BTREE))
        ix->using_ = "BTREE";
    else if (sql__p_accept_kw(p, KW_HASH))
        ix->using_ = "HASH";
    else
        return sql__p_error(p);
    return true;
}

static bool index_options(struct parser *p, struct ast_indexdef *ix)
{
    for (;;) {
        if (sql__p_is_kw(p, KW_USING) || sql__p_is_kw(p, KW_TYPE)) {
            if (!index_using(p, ix))
                return false;
        } else if (sql__p_accept_kw(p, KW_COMMENT)) {
            if (!string_lit(p, &ix->comment, &ix->comment_len))
                return false;
        } else if (sql__p_accept_kw(p, KW_KEY_BLOCK_SIZE)) {
            sql__p_accept(p, TK_EQ);
            if (!sql__p_expect(p, TK_INT))
                return false;
        } else if (sql__p_is(p, TK_IDENT) &&
                   ((sql__p_peek(p, 0)->len == 7 &&
                     strncasecmp(sql__p_peek(p, 0)->str, "VISIBLE", 7) == 0) ||
                    (sql__p_peek(p, 0)->len == 9 &&
                     strncasecmp(sql__p_peek(p, 0)->str, "INVISIBLE", 9) == 0))) {
            sql__p_advance(p);
        } else {
            return true;
        }
    }
}

static const char *fk_action(struct parser *p)
{
    if (sql__p_accept_kw(p, KW_CASCADE))
        return "CASCADE";
    if (sql__p_accept_kw(p, KW_RESTRICT))
        return "RESTRICT";
    if (sql__p_accept_kw(p, KW_SET)) {
        if (sql__p_accept_kw(p, KW_NULL))
            return "SET NULL";
        if (sql__p_accept_kw(p, KW_DEFAULT))
            return "SET DEFAULT";
    } else if (sql__p_accept_kw(p, KW_NO)) {
        if (sql__p_accept_kw(p, KW_ACTION))
            return "NO ACTION";
    }
    sql__p_error(p);
    return NULL;
}

/* Does the current token start a table constraint (not a column)? */
static bool is_index_start(struct parser *p)
{
    return sql__p_is_kw(p, KW_PRIMARY) || sql__p_is_kw(p, KW_UNIQUE) ||
           sql__p_is_kw(p, KW_INDEX) || sql__p_is_kw(p, KW_KEY) ||
           sql__p_is_kw(p, KW_FULLTEXT) || sql__p_is_kw(p, KW_SPATIAL) ||
           sql__p_is_kw(p, KW_FOREIGN) || sql__p_is_kw(p, KW_CONSTRAINT) ||
           sql__p_is_kw(p, KW_CHECK);
}

/* A table constraint; *ix is NULL for a CHECK (parsed and dropped:
 * MySQL before 8.0.16 ignores them too). */
static bool index_def(struct parser *p, struct ast_indexdef **out)
{
    *out = NULL;
    struct ast_indexdef *ix = sql__p_new(p, sizeof *ix);
    if (ix == NULL)
        return false;
    if (sql__p_accept_kw(p, KW_CONSTRAINT)) {
        if (sql__p_is_ident(p) && (ix->constraint = sql__p_ident(p)) == NULL)
            return false;
    }
    if (sql__p_accept_kw(p, KW_CHECK)) {
        if (!sql__p_expect(p, TK_LPAREN) || sql__p_expr(p) == NULL ||
            !sql__p_expect(p, TK_RPAREN))
            return false;
        return true;
    }
    if (sql__p_accept_kw(p, KW_PRIMARY)) {
        ix->kind = AST_IDX_PRIMARY;
        if (!sql__p_expect_kw(p, KW_KEY))
            return false;
    } else if (sql__p_accept_kw(p, KW_UNIQUE)) {
        ix->kind = AST_IDX_UNIQUE;
        if (!sql__p_accept_kw(p, KW_INDEX))
            sql__p_accept_kw(p, KW_KEY);
    } else if (sql__p_accept_kw(p, KW_FOREIGN)) {
        ix->kind = AST_IDX_FOREIGN;
        if (!sql__p_expect_kw(p, KW_KEY))
            return false;
    } else if (!ix->constraint && (sql__p_accept_kw(p, KW_FULLTEXT) ||
                                   sql__p_accept_kw(p, KW_SPATIAL))) {
        ix->kind = p->last.kw == KW_FULLTEXT ? AST_IDX_FULLTEXT : AST_IDX_SPATIAL;
        if (!sql__p_accept_kw(p, KW_INDEX))
            sql__p_accept_kw(p, KW_KEY);
    } else if (!ix->constraint &&
               (sql__p_accept_kw(p, KW_INDEX) || sql__p_accept_kw(p, KW_KEY))) {
        ix->kind = AST_IDX_INDEX;
    } else {
        return sql__p_error(p);
    }
    if (ix->kind != AST_IDX_PRIMARY && sql__p_is_ident(p) &&
        (ix->name = sql__p_ident(p)) == NULL)
        return false;
    if (!index_using(p, ix) || !index_cols(p, &ix->cols))
        return false;
    if (ix->kind == AST_IDX_FOREIGN) {
        if (!sql__p_expect_kw(p, KW_REFERENCES) ||
            !sql__p_table_name(p, &ix->ref_db, &ix->ref_table) ||
            (ix->ref_cols = sql__p_name_list(p)) == NULL)
            return false;
        while (sql__p_is_kw(p, KW_ON)) {
            sql__p_advance(p);
            if (sql__p_accept_kw(p, KW_DELETE)) {
                if ((ix->on_delete = fk_action(p)) == NULL)
                    return false;
            } else if (sql__p_accept_kw(p, KW_UPDATE)) {
                if ((ix->on_update = fk_action(p)) == NULL)
                    return false;
            } else {
                return sql__p_error(p);
            }
        }
    } else if (!index_options(p, ix)) {
        return false;
    }
    *out = ix;
    return true;
}

static bool column_def(struct parser *p, struct ast_coldef **out)
{
    struct ast_coldef *c = sql__p_new(p, sizeof *c);
    if (c == NULL || (c->name = sql__p_ident(p)) == NULL ||
        !sql__p_type(p, &c->type, false))
        return false;
    for (;;) {
        if (sql__p_is_kw(p, KW_NOT) && sql__p_peek_kw(p, 1, KW_NULL)) {
            sql__p_advance(p);
            sql__p_advance(p);
            c->nullable = 2;
        } else if (sql__p_accept_kw(p, KW_NULL)) {
            c->nullable = 1;
        } else if (sql__p_accept_kw(p, KW_DEFAULT)) {
            if ((c->def = sql__p_unary_expr(p)) == NULL)
                return false;
        } else if (sql__p_is_kw(p, KW_ON) && sql__p_peek_kw(p, 1, KW_UPDATE)) {
            sql__p_advance(p);
            sql__p_advance(p);
            if ((c->on_update = sql__p_unary_expr(p)) == NULL)
                return false;
        } else if (sql__p_accept_kw(p, KW_AUTO_INCREMENT)) {
            c->auto_increment = true;
        } else if (sql__p_accept_kw(p, KW_UNIQUE)) {
            c->unique = true;
            sql__p_accept_kw(p, KW_KEY);
        } else if (sql__p_accept_kw(p, KW_PRIMARY)) {
            c->primary = true;
            if (!sql__p_expect_kw(p, KW_KEY))
                return false;
        } else if (sql__p_accept_kw(p, KW_KEY)) {
            c->primary = true;
        } else if (sql__p_accept_kw(p, KW_COMMENT)) {
            if (!string_lit(p, &c->comment, &c->comment_len))
                return false;
        } else if (sql__p_accept_kw(p, KW_COLLATE)) {
            if ((c->type.collate = sql__p_ident_or_string(p)) == NULL)
                return false;
        } else if ((sql__p_is_kw(p, KW_CHARACTER) && sql__p_peek_kw(p, 1, KW_SET)) ||
                   sql__p_is_kw(p, KW_CHARSET)) {
            if (sql__p_accept_kw(p, KW_CHARACTER))
                sql__p_advance(p);
            else
                sql__p_advance(p);
            if ((c->type.charset = sql__p_charset_name(p)) == NULL)
                return false;
        } else if (sql__p_is(p, TK_IDENT) && sql__p_peek(p, 0)->len == 9 &&
                   strncasecmp(sql__p_peek(p, 0)->str, "GENERATED", 9) == 0) {
            return sql__p_unsupported(p, "generated columns");
        } else if (sql__p_is_kw(p, KW_AS)) {
            return sql__p_unsupported(p, "generated columns");
        } else if (sql__p_is_kw(p, KW_REFERENCES)) {
            return sql__p_unsupported(p, "REFERENCES in a column definition");
        } else if (sql__p_is_kw(p, KW_CHECK)) {
            sql__p_advance(p);
            if (!sql__p_expect(p, TK_LPAREN) || sql__p_expr(p) == NULL ||
                !sql__p_expect(p, TK_RPAREN))
                return false;
        } else {
            break;
        }
    }
    *out = c;
    return true;
}

/* One table option, or false with nothing consumed when none starts. */
static bool table_option(struct parser *p, struct ast_option **out, bool *any)
{
    *any = false;
    const char *name = NULL;
    if (sql__p_is_kw(p, KW_DEFAULT) &&
        (sql__p_peek_kw(p, 1, KW_CHARSET) || sql__p_peek_kw(p, 1, KW_CHARACTER) ||
         sql__p_peek_kw(p, 1, KW_COLLATE)))
        sql__p_advance(p);
    if (sql__p_is_kw(p, KW_CHARACTER) && sql__p_peek_kw(p, 1, KW_SET)) {
        sql__p_advance(p);
        sql__p_advance(p);
        name = "CHARSET";
    } else if (sql__p_accept_kw(p, KW_CHARSET)) {
        name = "CHARSET";
    } else if (sql__p_accept_kw(p, KW_COLLATE)) {
        name = "COLLATE";
    } else if (sql__p_is(p, TK_IDENT) && sql__p_peek(p, 0)->kw != KW_NONE &&
               (sql__p_peek(p, 1)->type == TK_EQ ||
                sql__p_is_kw(p, KW_ENGINE) || sql__p_is_kw(p, KW_COMMENT) ||
                sql__p_is_kw(p, KW_AUTO_INCREMENT) ||
                sql__p_is_kw(p, KW_ROW_FORMAT))) {
        name = kwname(p);
        sql__p_advance(p);
    } else if (sql__p_is(p, TK_IDENT) && sql__p_peek(p, 1)->type == TK_EQ) {
        /* Other NAME=value options (STATS_PERSISTENT, ...). */
        struct sql_token *t = sql__p_peek(p, 0);
        char *u = sql__p_strdup(p, t->str, t->len);
        if (u == NULL)
            return false;
        for (char *q = u; *q; q++)
            if (*q >= 'a' && *q <= 'z')
                *q = (char)(*q - 'a' + 'A');
        name = u;
        sql__p_advance(p);
    } else {
        return true;
    }
    *any = true;
    sql__p_accept(p, TK_EQ);
    struct ast_option *o = sql__p_new(p, sizeof *o);
    if (o == NULL)
        return false;
    o->name = name;
    struct sql_token *t = sql__p_peek(p, 0);
    if (t->type == TK_STRING || t->type == TK_INT || t->type == TK_DECIMAL) {
        if ((o->value = sql__p_unary_expr(p)) == NULL)
            return false;
    } else if (t->type == TK_IDENT || t->type == TK_QIDENT) {
        if ((o->value = sql__p_expr_new(p, AST_E_STRING)) == NULL ||
            (o->value->str.s = sql__p_strdup(p, t->str, t->len)) == NULL)
            return false;
        o->value->str.n = t->len;
        o->ident = true;
        sql__p_advance(p);
    } else {
        return sql__p_error(p);
    }
    *out = o;
    return true;
}

/* Options, optionally comma-separated (CREATE TABLE; not ALTER TABLE,
 * where commas separate specifications). */
static bool table_options(struct parser *p, struct ast_option **head, bool commas)
{
    struct ast_option **tail = head;
    while (*tail != NULL)
        tail = &(*tail)->next;
    for (;;) {
        bool any;
        struct ast_option *o = NULL;
        if (!table_option(p, &o, &any))
            return false;
        if (!any)
            return true;
        *tail = o;
        tail = &o->next;
        if (commas && sql__p_is(p, TK_COMMA) && sql__p_peek(p, 1)->type == TK_IDENT)
            sql__p_advance(p);
    }
}

static struct ast_stmt *create_table(struct parser *p, bool temporary)
{
    struct ast_stmt *st = stmt_new(p, AST_CREATE_TABLE);
    struct ast_create_table *ct = sql__p_new(p, sizeof *ct);
    if (st == NULL || ct == NULL)
        return NULL;
    st->create = ct;
    ct->temporary = temporary;
    ct->if_not_exists = st->if_exists = if_not_exists(p);
    if (!sql__p_table_name(p, &ct->db, &ct->table))
        return NULL;
    st->db = ct->db;
    st->name = ct->table;
    bool paren_like = sql__p_is(p, TK_LPAREN) && sql__p_peek_kw(p, 1, KW_LIKE);
    if (paren_like)
        sql__p_advance(p);
    if (sql__p_accept_kw(p, KW_LIKE)) {
        if (!sql__p_table_name(p, &ct->like_db, &ct->like_table))
            return NULL;
        if (paren_like && !sql__p_expect(p, TK_RPAREN))
            return NULL;
        return st;
    }
    if (sql__p_is_kw(p, KW_SELECT) || sql__p_is_kw(p, KW_AS) ||
        (sql__p_is(p, TK_LPAREN) && sql__p_peek_kw(p, 1, KW_SELECT))) {
        sql__p_unsupported(p, "CREATE TABLE ... SELECT");
        return NULL;
    }
    if (!sql__p_expect(p, TK_LPAREN))
        return NULL;
    struct ast_coldef **ctail = &ct->columns;
    struct ast_indexdef **itail = &ct->indexes;
    do {
        if (is_index_start(p)) {
            struct ast_indexdef *ix;
            if (!index_def(p, &ix))
                return NULL;
            if (ix != NULL) {
                *itail = ix;
                itail = &ix->next;
            }
        } else {
            struct ast_coldef *c;
            if (!column_def(p, &c))
                return NULL;
            *ctail = c;
            ctail = &c->next;
        }
    } while (sql__p_accept(p, TK_COMMA));
    if (!sql__p_expect(p, TK_RPAREN) || !table_options(p, &ct->options, true))
        return NULL;
    if (sql__p_is(p, TK_IDENT) && sql__p_peek(p, 0)->len == 9 &&
        strncasecmp(sql__p_peek(p, 0)->str, "PARTITION", 9) == 0) {
        sql__p_unsupported(p, "PARTITION BY");
        return NULL;
    }
    if (sql__p_is_kw(p, KW_SELECT) || sql__p_is_kw(p, KW_AS)) {
        sql__p_unsupported(p, "CREATE TABLE ... SELECT");
        return NULL;
    }
    return st;
}

static bool charset_opts(struct parser *p, struct ast_stmt *st)
{
    for (;;) {
        sql__p_accept_kw(p, KW_DEFAULT);
        if ((sql__p_is_kw(p, KW_CHARACTER) && sql__p_peek_kw(p, 1, KW_SET)) ||
            sql__p_is_kw(p, KW_CHARSET)) {
            if (sql__p_accept_kw(p, KW_CHARACTER))
                sql__p_advance(p);
            else
                sql__p_advance(p);
            sql__p_accept(p, TK_EQ);
            if ((st->charset = sql__p_charset_name(p)) == NULL)
                return false;
        } else if (sql__p_accept_kw(p, KW_COLLATE)) {
            sql__p_accept(p, TK_EQ);
            if ((st->collate = sql__p_ident_or_string(p)) == NULL)
                return false;
        } else if (sql__p_accept_kw(p, KW_ENCRYPTION)) {
            /* MySQL 8 dumps write DEFAULT ENCRYPTION='N'; only 'N' fits. */
            sql__p_accept(p, TK_EQ);
            if (!sql__p_is(p, TK_STRING) || sql__p_peek(p, 0)->len != 1 ||
                (sql__p_peek(p, 0)->str[0] != 'N' && sql__p_peek(p, 0)->str[0] != 'n'))
                return sql__p_unsupported(p, "ENCRYPTION");
            sql__p_advance(p);
        } else {
            return true;
        }
    }
}

static struct ast_stmt *create_index(struct parser *p, int kind)
{
    struct ast_stmt *st = stmt_new(p, AST_CREATE_INDEX);
    struct ast_indexdef *ix = sql__p_new(p, sizeof *ix);
    if (st == NULL || ix == NULL)
        return NULL;
    st->index = ix;
    ix->kind = kind;
    st->flag = kind == AST_IDX_UNIQUE;
    if ((ix->name = sql__p_ident(p)) == NULL || !index_using(p, ix) ||
        !sql__p_expect_kw(p, KW_ON) || !sql__p_table_name(p, &st->db, &st->name) ||
        !index_cols(p, &ix->cols) || !index_options(p, ix))
        return NULL;
    /* ALGORITHM [=] x, LOCK [=] x: how to build, not what; dropped. */
    for (;;) {
        if (!word_is(p, 0, "ALGORITHM") && !sql__p_is_kw(p, KW_LOCK))
            return st;
        sql__p_advance(p);
        sql__p_accept(p, TK_EQ);
        if (!sql__p_is(p, TK_IDENT) && !sql__p_is_kw(p, KW_DEFAULT)) {
            sql__p_error(p);
            return NULL;
        }
        sql__p_advance(p);
    }
}

static bool is_word(struct parser *p, int i, const char *w)
{
    struct sql_token *t = sql__p_peek(p, i);
    size_t n = strlen(w);
    return t->type == TK_IDENT && t->len == n && strncasecmp(t->str, w, n) == 0;
}

/* [ALGORITHM = x] [DEFINER = user | CURRENT_USER] [SQL SECURITY x] VIEW
 * name [(cols)] AS query [WITH [CASCADED | LOCAL] CHECK OPTION]: the
 * options are accepted and dropped (views are read only and run with the
 * invoker's reads of the definition's tables; view.c). */
static struct ast_stmt *create_view(struct parser *p, bool alter, bool replace)
{
    struct ast_stmt *st = stmt_new(p, AST_CREATE_VIEW);
    if (st == NULL)
        return NULL;
    st->flag = replace;
    st->flag2 = alter;
    if (is_word(p, 0, "ALGORITHM")) {
        sql__p_advance(p);
        if (!sql__p_expect(p, TK_EQ) || sql__p_ident(p) == NULL)
            return NULL;
    }
    if (is_word(p, 0, "DEFINER")) {
        sql__p_advance(p);
        if (!sql__p_expect(p, TK_EQ))
            return NULL;
        if (sql__p_accept_kw(p, KW_CURRENT_USER)) {
            if (sql__p_accept(p, TK_LPAREN) && !sql__p_expect(p, TK_RPAREN))
                return NULL;
        } else if (sql__p_user(p) == NULL) {
            return NULL;
        }
    }
    if (is_word(p, 0, "SQL") && is_word(p, 1, "SECURITY")) {
        sql__p_advance(p);
        sql__p_advance(p);
        if (sql__p_ident(p) == NULL)
            return NULL;
    }
    if (!is_word(p, 0, "VIEW")) {
        sql__p_error(p);
        return NULL;
    }
    sql__p_advance(p);
    if (!sql__p_table_name(p, &st->db, &st->name))
        return NULL;
    if (sql__p_is(p, TK_LPAREN) && (st->view_cols = sql__p_name_list(p)) == NULL)
        return NULL;
    if (!sql__p_expect_kw(p, KW_AS) || (st->select = sql__p_query(p)) == NULL)
        return NULL;
    if (sql__p_is_kw(p, KW_WITH)) {
        sql__p_advance(p);
        if (is_word(p, 0, "CASCADED") || sql__p_is_kw(p, KW_LOCAL))
            sql__p_advance(p);
        if (!sql__p_expect_kw(p, KW_CHECK) || !sql__p_expect_kw(p, KW_OPTION))
            return NULL;
    }
    return st;
}

static bool view_start(struct parser *p)
{
    return is_word(p, 0, "VIEW") || is_word(p, 0, "ALGORITHM") ||
           is_word(p, 0, "DEFINER") ||
           (is_word(p, 0, "SQL") && is_word(p, 1, "SECURITY"));
}

static struct ast_stmt *parse_create(struct parser *p)
{
    sql__p_advance(p);
    if (sql__p_is_kw(p, KW_OR) && sql__p_peek_kw(p, 1, KW_REPLACE)) {
        sql__p_advance(p);
        sql__p_advance(p);
        return create_view(p, false, true);
    }
    if (view_start(p))
        return create_view(p, false, false);
    if (sql__p_accept_kw(p, KW_DATABASE) || sql__p_accept_kw(p, KW_SCHEMA)) {
        struct ast_stmt *st = stmt_new(p, AST_CREATE_DATABASE);
        if (st == NULL)
            return NULL;
        st->if_exists = if_not_exists(p);
        if ((st->name = sql__p_ident(p)) == NULL || !charset_opts(p, st))
            return NULL;
        return st;
    }
    bool temporary = sql__p_accept_kw(p, KW_TEMPORARY);
    if (sql__p_accept_kw(p, KW_TABLE))
        return create_table(p, temporary);
    if (temporary) {
        sql__p_error(p);
        return NULL;
    }
    if (sql__p_accept_kw(p, KW_UNIQUE)) {
        if (!sql__p_expect_kw(p, KW_INDEX))
            return NULL;
        return create_index(p, AST_IDX_UNIQUE);
    }
    if (sql__p_accept_kw(p, KW_FULLTEXT) || sql__p_accept_kw(p, KW_SPATIAL)) {
        int kind = p->last.kw == KW_FULLTEXT ? AST_IDX_FULLTEXT : AST_IDX_SPATIAL;
        if (!sql__p_expect_kw(p, KW_INDEX))
            return NULL;
        return create_index(p, kind);
    }
    if (sql__p_accept_kw(p, KW_INDEX))
        return create_index(p, AST_IDX_INDEX);
    if (sql__p_accept_kw(p, KW_USER)) {
        struct ast_stmt *st = stmt_new(p, AST_CREATE_USER);
        if (st == NULL)
            return NULL;
        st->if_exists = if_not_exists(p);
        if ((st->users = user_list(p, true)) == NULL)
            return NULL;
        return st;
    }
    sql__p_error(p);
    return NULL;
}

static struct ast_tname *table_list(struct parser *p)
{
    struct ast_tname *head = NULL, **tail = &head;
    do {
        struct ast_tname *t = sql__p_new(p, sizeof *t);
        if (t == NULL || !sql__p_table_name(p, &t->db, &t->name))
            return NULL;
        *tail = t;
        tail = &t->next;
    } while (sql__p_accept(p, TK_COMMA));
    return head;
}

static struct ast_stmt *parse_drop(struct parser *p)
{
    sql__p_advance(p);
    struct ast_stmt *st;
    if (sql__p_accept_kw(p, KW_DATABASE) || sql__p_accept_kw(p, KW_SCHEMA)) {
        if ((st = stmt_new(p, AST_DROP_DATABASE)) == NULL)
            return NULL;
        st->if_exists = if_exists(p);
        return (st->name = sql__p_ident(p)) ? st : NULL;
    }
    bool temporary = sql__p_accept_kw(p, KW_TEMPORARY);
    bool view = !temporary && is_word(p, 0, "VIEW");
    if (view)
        sql__p_advance(p);
    if (view || sql__p_accept_kw(p, KW_TABLE) || sql__p_accept_kw(p, KW_TABLES)) {
        if ((st = stmt_new(p, view ? AST_DROP_VIEW : AST_DROP_TABLE)) == NULL)
            return NULL;
        st->flag = temporary;
        st->if_exists = if_exists(p);
        if ((st->tables = table_list(p)) == NULL)
            return NULL;
        if (!sql__p_accept_kw(p, KW_RESTRICT))
            sql__p_accept_kw(p, KW_CASCADE);
        return st;
    }
    if (temporary) {
        sql__p_error(p);
        return NULL;
    }
    if (sql__p_accept_kw(p, KW_INDEX)) {
        if ((st = stmt_new(p, AST_DROP_INDEX)) == NULL)
            return NULL;
        if (sql__p_accept_kw(p, KW_PRIMARY))
            st->column = "PRIMARY";
        else if ((st->column = sql__p_ident(p)) == NULL)
            return NULL;
        if (!sql__p_expect_kw(p, KW_ON) || !sql__p_table_name(p, &st->db, &st->name))
            return NULL;
        return st;
    }
    if (sql__p_accept_kw(p, KW_USER)) {
        if ((st = stmt_new(p, AST_DROP_USER)) == NULL)
            return NULL;
        st->if_exists = if_exists(p);
        return (st->users = user_list(p, false)) ? st : NULL;
    }
    if (sql__p_accept_kw(p, KW_PREPARE)) {
        if ((st = stmt_new(p, AST_DEALLOCATE)) == NULL)
            return NULL;
        return (st->name = sql__p_ident(p)) ? st : NULL;
    }
    sql__p_error(p);
    return NULL;
}

static bool column_position(struct parser *p, struct ast_alter *al)
{
    if (sql__p_accept_kw(p, KW_FIRST)) {
        al->first = true;
    } else if (sql__p_accept_kw(p, KW_AFTER)) {
        if ((al->after = sql__p_ident(p)) == NULL)
            return false;
    }
    return true;
}

static bool alter_spec(struct parser *p, struct ast_alter ***tailp)
{
    struct ast_alter *al = sql__p_new(p, sizeof *al);
    if (al == NULL)
        return false;
    if (sql__p_accept_kw(p, KW_ADD)) {
        if (is_index_start(p)) {
            al->kind = AST_ALTER_ADD_INDEX;
            if (!index_def(p, &al->index))
                return false;
            if (al->index == NULL)
                return true; /* CHECK: dropped */
        } else {
            sql__p_accept_kw(p, KW_COLUMN);
            if (sql__p_accept(p, TK_LPAREN)) {
                /* ADD (a INT, b INT): one spec per column. */
                do {
                    struct ast_alter *c = sql__p_new(p, sizeof *c);
                    if (c == NULL)
                        return false;
                    c->kind = AST_ALTER_ADD_COLUMN;
                    if (!column_def(p, &c->col))
                        return false;
                    **tailp = c;
                    *tailp = &c->next;
                } while (sql__p_accept(p, TK_COMMA));
                return sql__p_expect(p, TK_RPAREN);
            }
            al->kind = AST_ALTER_ADD_COLUMN;
            if (!column_def(p, &al->col) || !column_position(p, al))
                return false;
        }
    } else if (sql__p_accept_kw(p, KW_DROP)) {
        if (sql__p_accept_kw(p, KW_PRIMARY)) {
            al->kind = AST_ALTER_DROP_PRIMARY;
            if (!sql__p_expect_kw(p, KW_KEY))
                return false;
        } else if (sql__p_accept_kw(p, KW_INDEX) || sql__p_accept_kw(p, KW_KEY)) {
            al->kind = AST_ALTER_DROP_INDEX;
            if ((al->name = sql__p_ident(p)) == NULL)
                return false;
        } else if (sql__p_accept_kw(p, KW_FOREIGN)) {
            al->kind = AST_ALTER_DROP_FOREIGN;
            if (!sql__p_expect_kw(p, KW_KEY) || (al->name = sql__p_ident(p)) == NULL)
                return false;
        } else {
            al->kind = AST_ALTER_DROP_COLUMN;
            sql__p_accept_kw(p, KW_COLUMN);
            if ((al->name = sql__p_ident(p)) == NULL)
                return false;
        }
    } else if (sql__p_accept_kw(p, KW_MODIFY)) {
        al->kind = AST_ALTER_MODIFY_COLUMN;
        sql__p_accept_kw(p, KW_COLUMN);
        if (!column_def(p, &al->col) || !column_position(p, al))
            return false;
    } else if (sql__p_accept_kw(p, KW_CHANGE)) {
        al->kind = AST_ALTER_CHANGE_COLUMN;
        sql__p_accept_kw(p, KW_COLUMN);
        if ((al->name = sql__p_ident(p)) == NULL || !column_def(p, &al->col) ||
            !column_position(p, al))
            return false;
    } else if (sql__p_accept_kw(p, KW_ALTER)) {
        sql__p_accept_kw(p, KW_COLUMN);
        if ((al->name = sql__p_ident(p)) == NULL)
            return false;
        if (sql__p_accept_kw(p, KW_SET)) {
            al->kind = AST_ALTER_SET_DEFAULT;
            if (!sql__p_expect_kw(p, KW_DEFAULT) ||
                (al->def = sql__p_unary_expr(p)) == NULL)
                return false;
        } else if (sql__p_accept_kw(p, KW_DROP)) {
            al->kind = AST_ALTER_DROP_DEFAULT;
            if (!sql__p_expect_kw(p, KW_DEFAULT))
                return false;
        } else {
            return sql__p_error(p);
        }
    } else if (sql__p_accept_kw(p, KW_RENAME)) {
        if (sql__p_accept_kw(p, KW_COLUMN)) {
            al->kind = AST_ALTER_RENAME_COLUMN;
            if ((al->name = sql__p_ident(p)) == NULL || !sql__p_expect_kw(p, KW_TO) ||
                (al->new_name = sql__p_ident(p)) == NULL)
                return false;
        } else if (sql__p_accept_kw(p, KW_INDEX) || sql__p_accept_kw(p, KW_KEY)) {
            al->kind = AST_ALTER_RENAME_INDEX;
            if ((al->name = sql__p_ident(p)) == NULL || !sql__p_expect_kw(p, KW_TO) ||
                (al->new_name = sql__p_ident(p)) == NULL)
                return false;
        } else {
            al->kind = AST_ALTER_RENAME;
            if (!sql__p_accept_kw(p, KW_TO))
                sql__p_accept_kw(p, KW_AS);
            if (!sql__p_table_name(p, &al->new_db, &al->new_name))
                return false;
        }
    } else if (sql__p_accept_kw(p, KW_DISABLE) || sql__p_accept_kw(p, KW_ENABLE)) {
        al->kind = p->last.kw == KW_DISABLE ? AST_ALTER_DISABLE_KEYS
                                            : AST_ALTER_ENABLE_KEYS;
        if (!sql__p_expect_kw(p, KW_KEYS))
            return false;
    } else if (sql__p_is_kw(p, KW_CONVERT)) {
        return sql__p_unsupported(p, "ALTER TABLE ... CONVERT TO");
    } else {
        al->kind = AST_ALTER_OPTIONS;
        if (!table_options(p, &al->options, false))
            return false;
        if (al->options == NULL)
            return sql__p_error(p);
    }
    **tailp = al;
    *tailp = &al->next;
    return true;
}

static struct ast_stmt *parse_alter(struct parser *p)
{
    sql__p_advance(p);
    struct ast_stmt *st;
    if (sql__p_accept_kw(p, KW_USER)) {
        if ((st = stmt_new(p, AST_ALTER_USER)) == NULL)
            return NULL;
        st->if_exists = if_exists(p);
        return (st->users = user_list(p, true)) ? st : NULL;
    }
    if (view_start(p))
        return create_view(p, true, false);
    if ((st = stmt_new(p, AST_ALTER_TABLE)) == NULL || !sql__p_expect_kw(p, KW_TABLE) ||
        !sql__p_table_name(p, &st->db, &st->name))
        return NULL;
    struct ast_alter **tail = &st->alter;
    do {
        if (!alter_spec(p, &tail))
            return NULL;
    } while (sql__p_accept(p, TK_COMMA));
    return st;
}

/* [LIKE 'pat' | WHERE expr] */
static bool like_or_where(struct parser *p, struct ast_show *s, bool where)
{
    if (sql__p_accept_kw(p, KW_LIKE)) {
        if (!sql__p_is(p, TK_STRING))
            return sql__p_error(p);
        return (s->like = sql__p_unary_expr(p)) != NULL;
    }
    if (where && sql__p_accept_kw(p, KW_WHERE))
        return (s->where = sql__p_expr(p)) != NULL;
    return true;
}

static bool from_db(struct parser *p, const char **db)
{
    if (sql__p_accept_kw(p, KW_FROM) || sql__p_accept_kw(p, KW_IN))
        return (*db = sql__p_ident(p)) != NULL;
    return true;
}

/* SHOW TABLE t [INDEX i] REGIONS [WHERE expr], TABLE already read
 * (TiDB's statement; show_cluster.c answers it). */
static bool show_regions(struct parser *p, struct ast_show *s)
{
    if (!sql__p_table_name(p, &s->db, &s->table))
        return false;
    if (sql__p_accept_kw(p, KW_INDEX) &&
        (s->index = sql__p_ident(p)) == NULL)
        return false;
    if (!word_is(p, 0, "REGIONS"))
        return sql__p_error(p);
    sql__p_advance(p);
    return like_or_where(p, s, true) && (s->like == NULL || sql__p_error(p));
}

static struct ast_stmt *parse_show(struct parser *p)
{
    sql__p_advance(p);
    struct ast_stmt *st = stmt_new(p, AST_SHOW);
    struct ast_show *s = sql__p_new(p, sizeof *s);
    if (st == NULL || s == NULL)
        return NULL;
    st->show = s;
    if (sql__p_accept_kw(p, KW_FULL))
        s->full = true;
    else if (sql__p_accept_kw(p, KW_GLOBAL))
        s->scope = SQL_SCOPE_GLOBAL;
    else if (sql__p_accept_kw(p, KW_SESSION) || sql__p_accept_kw(p, KW_LOCAL))
        s->scope = SQL_SCOPE_SESSION;
    bool ok = true;
    if (sql__p_accept_kw(p, KW_DATABASES) || sql__p_accept_kw(p, KW_SCHEMAS)) {
        s->kind = AST_SHOW_DATABASES;
        ok = like_or_where(p, s, true);
    } else if (sql__p_accept_kw(p, KW_TABLES)) {
        s->kind = AST_SHOW_TABLES;
        ok = from_db(p, &s->db) && like_or_where(p, s, true);
    } else if (!s->full && !s->scope && sql__p_is_kw(p, KW_TABLE) &&
               !sql__p_peek_kw(p, 1, KW_STATUS)) {
        sql__p_advance(p);
        s->kind = AST_SHOW_TABLE_REGIONS;
        ok = show_regions(p, s);
    } else if (!s->full && sql__p_accept_kw(p, KW_TABLE)) {
        s->kind = AST_SHOW_TABLE_STATUS;
        ok = sql__p_expect_kw(p, KW_STATUS) && from_db(p, &s->db) &&
             like_or_where(p, s, true);
    } else if (sql__p_accept_kw(p, KW_COLUMNS) || sql__p_accept_kw(p, KW_FIELDS)) {
        s->kind = AST_SHOW_COLUMNS;
        ok = (sql__p_accept_kw(p, KW_FROM) || sql__p_expect_kw(p, KW_IN)) &&
             sql__p_table_name(p, &s->db, &s->table) && from_db(p, &s->db) &&
             like_or_where(p, s, true);
    } else if (sql__p_accept_kw(p, KW_INDEX) || sql__p_accept_kw(p, KW_INDEXES) ||
               sql__p_accept_kw(p, KW_KEYS)) {
        s->kind = AST_SHOW_INDEX;
        ok = (sql__p_accept_kw(p, KW_FROM) || sql__p_expect_kw(p, KW_IN)) &&
             sql__p_table_name(p, &s->db, &s->table) && from_db(p, &s->db) &&
             like_or_where(p, s, true) && s->like == NULL;
        if (!ok && !p->failed)
            sql__p_error(p);
    } else if (!s->full && sql__p_accept_kw(p, KW_CREATE)) {
        if (sql__p_accept_kw(p, KW_TABLE)) {
            s->kind = AST_SHOW_CREATE_TABLE;
            ok = sql__p_table_name(p, &s->db, &s->table);
        } else if (sql__p_accept_kw(p, KW_DATABASE) || sql__p_accept_kw(p, KW_SCHEMA)) {
            s->kind = AST_SHOW_CREATE_DATABASE;
            st->if_exists = if_not_exists(p);
            ok = (s->db = sql__p_ident(p)) != NULL;
        } else if (is_word(p, 0, "VIEW")) {
            sql__p_advance(p);
            s->kind = AST_SHOW_CREATE_VIEW;
            ok = sql__p_table_name(p, &s->db, &s->table);
        } else if (sql__p_accept_kw(p, KW_USER)) {
            s->kind = AST_SHOW_CREATE_USER;
            ok = (s->user = sql__p_user(p)) != NULL;
        } else {
            ok = sql__p_error(p);
        }
    } else if (sql__p_accept_kw(p, KW_VARIABLES)) {
        s->kind = AST_SHOW_VARIABLES;
        ok = like_or_where(p, s, true);
    } else if (sql__p_accept_kw(p, KW_STATUS)) {
        s->kind = AST_SHOW_STATUS;
        ok = like_or_where(p, s, true);
    } else if (!s->full && !s->scope &&
               (sql__p_accept_kw(p, KW_WARNINGS) || sql__p_accept_kw(p, KW_ERRORS))) {
        s->kind = p->last.kw == KW_WARNINGS ? AST_SHOW_WARNINGS : AST_SHOW_ERRORS;
        if (sql__p_accept_kw(p, KW_LIMIT)) {
            if ((s->limit = sql__p_unary_expr(p)) == NULL)
                return NULL;
            if (sql__p_accept(p, TK_COMMA)) {
                s->offset = s->limit;
                if ((s->limit = sql__p_unary_expr(p)) == NULL)
                    return NULL;
            }
        }
    } else if (!s->full && !s->scope && sql__p_is(p, TK_IDENT) &&
               sql__p_peek(p, 0)->len == 5 &&
               strncasecmp(sql__p_peek(p, 0)->str, "COUNT", 5) == 0) {
        sql__p_advance(p);
        s->count = true;
        ok = sql__p_expect(p, TK_LPAREN) && sql__p_expect(p, TK_STAR) &&
             sql__p_expect(p, TK_RPAREN) &&
             (sql__p_accept_kw(p, KW_WARNINGS) || sql__p_expect_kw(p, KW_ERRORS));
        s->kind = p->last.kw == KW_WARNINGS ? AST_SHOW_WARNINGS : AST_SHOW_ERRORS;
    } else if (!s->scope && sql__p_accept_kw(p, KW_PROCESSLIST)) {
        s->kind = AST_SHOW_PROCESSLIST;
    } else if (!s->full && !s->scope && sql__p_accept_kw(p, KW_GRANTS)) {
        s->kind = AST_SHOW_GRANTS;
        if (sql__p_accept_kw(p, KW_FOR))
            ok = (s->user = sql__p_user(p)) != NULL;
    } else if (!s->full && !s->scope && sql__p_accept_kw(p, KW_ENGINES)) {
        s->kind = AST_SHOW_ENGINES;
    } else if (!s->full && !s->scope &&
               (sql__p_accept_kw(p, KW_CHARSET) ||
                (sql__p_is_kw(p, KW_CHARACTER) && sql__p_peek_kw(p, 1, KW_SET)))) {
        if (p->last.kw != KW_CHARSET) {
            sql__p_advance(p);
            sql__p_advance(p);
        }
        s->kind = AST_SHOW_CHARSET;
        ok = like_or_where(p, s, true);
    } else if (!s->full && !s->scope && sql__p_accept_kw(p, KW_COLLATION)) {
        s->kind = AST_SHOW_COLLATION;
        ok = like_or_where(p, s, true);
    } else if (!s->full && !s->scope && word_is(p, 0, "FUNCTION") &&
               sql__p_peek_kw(p, 1, KW_STATUS)) {
        sql__p_advance(p);
        sql__p_advance(p);
        s->kind = AST_SHOW_FUNCTION_STATUS;
        ok = like_or_where(p, s, true);
    } else if (!s->full && !s->scope && word_is(p, 0, "PROCEDURE") &&
               sql__p_peek_kw(p, 1, KW_STATUS)) {
        sql__p_advance(p);
        sql__p_advance(p);
        s->kind = AST_SHOW_PROCEDURE_STATUS;
        ok = like_or_where(p, s, true);
    } else if (!s->full && !s->scope && word_is(p, 0, "EVENTS")) {
        sql__p_advance(p);
        s->kind = AST_SHOW_EVENTS;
        ok = from_db(p, &s->db) && like_or_where(p, s, true);
    } else if (!s->full && !s->scope && word_is(p, 0, "PLUGINS")) {
        sql__p_advance(p);
        s->kind = AST_SHOW_PLUGINS;
    } else if (!s->full && !s->scope && word_is(p, 0, "MASTER") &&
               sql__p_peek_kw(p, 1, KW_STATUS)) {
        sql__p_advance(p);
        sql__p_advance(p);
        s->kind = AST_SHOW_MASTER_STATUS;
    } else if (!s->full && !s->scope && sql__p_is_kw(p, KW_BINARY) &&
               word_is(p, 1, "LOGS")) {
        sql__p_advance(p);
        sql__p_advance(p);
        s->kind = AST_SHOW_BINARY_LOGS;
    } else if (!s->full && !s->scope && word_is(p, 0, "OPEN") &&
               sql__p_peek_kw(p, 1, KW_TABLES)) {
        sql__p_advance(p);
        sql__p_advance(p);
        s->kind = AST_SHOW_OPEN_TABLES;
        ok = from_db(p, &s->db) && like_or_where(p, s, true);
    } else if (!s->full && !s->scope &&
               (word_is(p, 0, "STATS_META") || word_is(p, 0, "STATS_HISTOGRAMS") ||
                word_is(p, 0, "STATS_BUCKETS") || word_is(p, 0, "STATS_TOPN"))) {
        s->kind = word_is(p, 0, "STATS_META")         ? AST_SHOW_STATS_META
                  : word_is(p, 0, "STATS_HISTOGRAMS") ? AST_SHOW_STATS_HISTOGRAMS
                  : word_is(p, 0, "STATS_BUCKETS")    ? AST_SHOW_STATS_BUCKETS
                                                      : AST_SHOW_STATS_TOPN;
        sql__p_advance(p);
        ok = like_or_where(p, s, true);
    } else if (!s->full && !s->scope && sql__p_accept_kw(p, KW_PRIVILEGES)) {
        s->kind = AST_SHOW_PRIVILEGES;
    } else if (!s->full && !s->scope && sql__p_accept_kw(p, KW_TRIGGERS)) {
        s->kind = AST_SHOW_TRIGGERS;
        ok = from_db(p, &s->db) && like_or_where(p, s, true);
    } else {
        ok = sql__p_error(p);
    }
    return ok ? st : NULL;
}

static struct ast_stmt *parse_describe(struct parser *p)
{
    sql__p_advance(p);
    struct ast_stmt *st;
    const char *format = NULL;
    bool analyze = false;
    if (sql__p_is_kw(p, KW_ANALYZE)) {
        sql__p_advance(p); /* EXPLAIN ANALYZE: run it, show the plan's figures */
        analyze = true;
        if (!sql__p_starts_query(p)) {
            sql__p_error(p);
            return NULL;
        }
    }
    if (sql__p_is(p, TK_IDENT) && sql__p_peek(p, 0)->len == 6 &&
        strncasecmp(sql__p_peek(p, 0)->str, "FORMAT", 6) == 0 &&
        sql__p_peek(p, 1)->type == TK_EQ) {
        sql__p_advance(p);
        sql__p_advance(p);
        if ((format = sql__p_ident_or_string(p)) == NULL)
            return NULL;
    }
    if (sql__p_starts_query(p) || sql__p_is_kw(p, KW_INSERT) ||
        sql__p_is_kw(p, KW_REPLACE) || sql__p_is_kw(p, KW_UPDATE) ||
        sql__p_is_kw(p, KW_DELETE) || sql__p_is(p, TK_LPAREN) || format != NULL) {
        if ((st = stmt_new(p, AST_EXPLAIN)) == NULL)
            return NULL;
        st->explain_format = format;
        st->flag = analyze;
        if ((st->explain = sql__p_statement(p)) == NULL)
            return NULL;
        int k = st->explain->kind;
        if (k != AST_SELECT && k != AST_INSERT && k != AST_UPDATE && k != AST_DELETE) {
            sql__p_error(p);
            return NULL;
        }
        return st;
    }
    if ((st = stmt_new(p, AST_DESCRIBE)) == NULL ||
        !sql__p_table_name(p, &st->db, &st->name))
        return NULL;
    if (sql__p_is_ident(p) || sql__p_is(p, TK_STRING))
        if ((st->column = sql__p_ident_or_string(p)) == NULL)
            return NULL;
    return st;
}

static const char *isolation_level(struct parser *p)
{
    if (sql__p_accept_kw(p, KW_READ)) {
        if (sql__p_accept_kw(p, KW_UNCOMMITTED))
            return "READ UNCOMMITTED";
        if (sql__p_accept_kw(p, KW_COMMITTED))
            return "READ COMMITTED";
    } else if (sql__p_accept_kw(p, KW_REPEATABLE)) {
        if (sql__p_accept_kw(p, KW_READ))
            return "REPEATABLE READ";
    } else if (sql__p_accept_kw(p, KW_SERIALIZABLE)) {
        return "SERIALIZABLE";
    }
    sql__p_error(p);
    return NULL;
}

/* SET TRANSACTION characteristics, after TRANSACTION. */
static bool set_transaction(struct parser *p, struct ast_setvar ***tailp, int scope)
{
    do {
        struct ast_setvar *v = sql__p_new(p, sizeof *v);
        if (v == NULL)
            return false;
        v->scope = scope;
        if (sql__p_accept_kw(p, KW_ISOLATION)) {
            v->kind = AST_SET_ISOLATION;
            if (!sql__p_expect_kw(p, KW_LEVEL) || (v->name = isolation_level(p)) == NULL)
                return false;
        } else if (sql__p_accept_kw(p, KW_READ)) {
            v->kind = AST_SET_TX_ACCESS;
            if (sql__p_accept_kw(p, KW_ONLY))
                v->read_only = true;
            else if (!sql__p_expect_kw(p, KW_WRITE))
                return false;
        } else {
            return sql__p_error(p);
        }
        **tailp = v;
        *tailp = &v->next;
    } while (sql__p_accept(p, TK_COMMA));
    return true;
}

/* A system variable's value: ON and bare words are strings. */
static struct ast_expr *set_value(struct parser *p, bool sysvar)
{
    if (sysvar && (sql__p_is_kw(p, KW_ON) || sql__p_is_kw(p, KW_ALL) ||
                   sql__p_is_kw(p, KW_BINARY)) &&
        (sql__p_peek(p, 1)->type == TK_COMMA || sql__p_peek(p, 1)->type == TK_EOF ||
         sql__p_peek(p, 1)->type == TK_SEMI)) {
        struct ast_expr *e = sql__p_expr_new(p, AST_E_STRING);
        if (e == NULL)
            return NULL;
        e->str.s = kwname(p);
        e->str.n = strlen(e->str.s);
        sql__p_advance(p);
        return e;
    }
    struct ast_expr *e = sql__p_expr(p);
    if (e != NULL && sysvar && e->kind == AST_E_COLUMN && e->table == NULL) {
        e->kind = AST_E_STRING;
        e->str.s = e->name;
        e->str.n = strlen(e->name);
        e->name = NULL;
    }
    return e;
}

static struct ast_stmt *parse_set(struct parser *p)
{
    sql__p_advance(p);
    struct ast_stmt *st = stmt_new(p, AST_SET);
    if (st == NULL)
        return NULL;
    struct ast_setvar **tail = &st->set;
    if ((sql__p_is_kw(p, KW_GLOBAL) || sql__p_is_kw(p, KW_SESSION) ||
         sql__p_is_kw(p, KW_LOCAL)) && sql__p_peek_kw(p, 1, KW_TRANSACTION)) {
        int scope = sql__p_is_kw(p, KW_GLOBAL) ? SQL_SCOPE_GLOBAL : SQL_SCOPE_SESSION;
        sql__p_advance(p);
        sql__p_advance(p);
        return set_transaction(p, &tail, scope) ? st : NULL;
    }
    if (sql__p_accept_kw(p, KW_TRANSACTION))
        return set_transaction(p, &tail, SQL_SCOPE_NONE) ? st : NULL;
    if (sql__p_accept_kw(p, KW_PASSWORD)) {
        /* SET PASSWORD [FOR u] = 'pw': ALTER USER u IDENTIFIED BY 'pw'
         * (flag2 says it was written so, for its errors). */
        struct ast_user *u = sql__p_accept_kw(p, KW_FOR) ? sql__p_user(p)
                                                         : sql__p_new(p, sizeof *u);
        if (u == NULL || !sql__p_expect(p, TK_EQ))
            return NULL;
        if (!u->name)
            u->name = "CURRENT_USER";
        if (!sql__p_is(p, TK_STRING)) {
            sql__p_unsupported(p, "SET PASSWORD with PASSWORD()");
            return NULL;
        }
        st->kind = AST_ALTER_USER;
        st->flag2 = true;
        st->users = u;
        u->has_password = true;
        return string_lit(p, &u->password.s, &u->password.n) ? st : NULL;
    }
    do {
        struct ast_setvar *v = sql__p_new(p, sizeof *v);
        if (v == NULL)
            return NULL;
        struct sql_token *t = sql__p_peek(p, 0);
        if (t->type == TK_USERVAR) {
            v->user = true;
            if ((v->name = sql__p_strdup(p, t->str, t->len)) == NULL)
                return NULL;
            sql__p_advance(p);
        } else if (t->type == TK_SYSVAR) {
            v->sys = true;
            v->scope = (int)t->ival;
            if ((v->name = sql__p_strdup(p, t->str, t->len)) == NULL)
                return NULL;
            sql__p_advance(p);
        } else if (sql__p_accept_kw(p, KW_NAMES)) {
            v->kind = AST_SET_NAMES;
            if (!sql__p_accept_kw(p, KW_DEFAULT)) {
                if ((v->name = sql__p_charset_name(p)) == NULL)
                    return NULL;
                if (sql__p_accept_kw(p, KW_COLLATE) &&
                    (v->collate = sql__p_ident_or_string(p)) == NULL)
                    return NULL;
            }
            goto next;
        } else if ((sql__p_is_kw(p, KW_CHARACTER) && sql__p_peek_kw(p, 1, KW_SET)) ||
                   (sql__p_is_kw(p, KW_CHARSET) && sql__p_peek(p, 1)->type != TK_EQ)) {
            if (sql__p_accept_kw(p, KW_CHARACTER))
                sql__p_advance(p);
            else
                sql__p_advance(p);
            v->kind = AST_SET_CHARSET;
            if (!sql__p_accept_kw(p, KW_DEFAULT) &&
                (v->name = sql__p_charset_name(p)) == NULL)
                return NULL;
            goto next;
        } else {
            if ((sql__p_is_kw(p, KW_GLOBAL) || sql__p_is_kw(p, KW_SESSION) ||
                 sql__p_is_kw(p, KW_LOCAL)) &&
                sql__p_peek(p, 1)->type != TK_EQ && sql__p_peek(p, 1)->type != TK_ASSIGN) {
                v->scope = sql__p_is_kw(p, KW_GLOBAL) ? SQL_SCOPE_GLOBAL
                                                      : SQL_SCOPE_SESSION;
                sql__p_advance(p);
            }
            if ((v->name = sql__p_ident_any(p)) == NULL)
                return NULL;
            if (sql__p_accept(p, TK_DOT)) {
                /* SET session.x is not MySQL; a dotted component name is. */
                const char *rest = sql__p_ident_any(p);
                if (rest == NULL)
                    return NULL;
                size_t a = strlen(v->name), b = strlen(rest);
                char *n = sql__p_new(p, a + b + 2);
                if (n == NULL)
                    return NULL;
                memcpy(n, v->name, a);
                n[a] = '.';
                memcpy(n + a + 1, rest, b + 1);
                v->name = n;
            }
            v->sys = false;
        }
        if (!sql__p_accept(p, TK_ASSIGN) && !sql__p_expect(p, TK_EQ))
            return NULL;
        if ((v->value = set_value(p, !v->user)) == NULL)
            return NULL;
    next:
        *tail = v;
        tail = &v->next;
    } while (sql__p_accept(p, TK_COMMA));
    return st;
}

static struct ast_stmt *parse_grant(struct parser *p, bool grant)
{
    sql__p_advance(p);
    struct ast_stmt *st = stmt_new(p, grant ? AST_GRANT : AST_REVOKE);
    if (st == NULL)
        return NULL;
    struct ast_priv **tail = &st->privs;
    do {
        struct ast_priv *pv = sql__p_new(p, sizeof *pv);
        if (pv == NULL)
            return NULL;
        /* Words up to ',', '(' or ON: "SELECT", "CREATE TEMPORARY TABLES". */
        char name[64];
        size_t n = 0;
        while (sql__p_is(p, TK_IDENT) && !sql__p_is_kw(p, KW_ON) &&
               !sql__p_is_kw(p, KW_FROM) && !sql__p_is_kw(p, KW_TO)) {
            struct sql_token *t = sql__p_peek(p, 0);
            if (t->kw == KW_PRIVILEGES && n > 0) {
                sql__p_advance(p);
                continue;
            }
            if (n + t->len + 2 > sizeof name)
                return sql__p_error(p), NULL;
            if (n > 0)
                name[n++] = ' ';
            for (size_t i = 0; i < t->len; i++) {
                char c = t->str[i];
                name[n++] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
            }
            sql__p_advance(p);
        }
        if (n == 0) {
            sql__p_error(p);
            return NULL;
        }
        if ((pv->name = sql__p_strdup(p, name, n)) == NULL)
            return NULL;
        if (sql__p_is(p, TK_LPAREN) && (pv->columns = sql__p_name_list(p)) == NULL)
            return NULL;
        *tail = pv;
        tail = &pv->next;
    } while (sql__p_accept(p, TK_COMMA));
    if (!grant && st->privs->next != NULL && strcmp(st->privs->name, "ALL") == 0 &&
        strcmp(st->privs->next->name, "GRANT OPTION") == 0 && sql__p_is_kw(p, KW_FROM)) {
        /* REVOKE ALL PRIVILEGES, GRANT OPTION FROM user */
    } else {
        if (!sql__p_expect_kw(p, KW_ON))
            return NULL;
        sql__p_accept_kw(p, KW_TABLE);
        if (sql__p_accept(p, TK_STAR)) {
            st->priv_db = NULL;
            st->priv_table = "*";
            if (sql__p_accept(p, TK_DOT)) {
                st->priv_db = "*";
                if (!sql__p_expect(p, TK_STAR))
                    return NULL;
            }
        } else {
            const char *a = sql__p_ident(p);
            if (a == NULL)
                return NULL;
            if (sql__p_accept(p, TK_DOT)) {
                st->priv_db = a;
                if (sql__p_accept(p, TK_STAR))
                    st->priv_table = "*";
                else if ((st->priv_table = sql__p_ident_any(p)) == NULL)
                    return NULL;
            } else {
                st->priv_table = a;
            }
        }
    }
    if (!sql__p_expect_kw(p, grant ? KW_TO : KW_FROM) ||
        (st->users = user_list(p, grant)) == NULL)
        return NULL;
    if (grant && sql__p_accept_kw(p, KW_WITH)) {
        if (!sql__p_expect_kw(p, KW_GRANT) || !sql__p_expect_kw(p, KW_OPTION))
            return NULL;
        st->flag = true;
    }
    return st;
}

static struct ast_stmt *parse_lock(struct parser *p)
{
    sql__p_advance(p);
    struct ast_stmt *st = stmt_new(p, AST_LOCK_TABLES);
    if (st == NULL)
        return NULL;
    if (!sql__p_accept_kw(p, KW_TABLES) && !sql__p_expect_kw(p, KW_TABLE))
        return NULL;
    struct ast_tname **tail = &st->tables;
    do {
        struct ast_tname *t = sql__p_new(p, sizeof *t);
        if (t == NULL || !sql__p_table_name(p, &t->db, &t->name))
            return NULL;
        if (sql__p_accept_kw(p, KW_AS) || sql__p_is_ident(p))
            if ((t->to_name = sql__p_ident(p)) == NULL)
                return NULL;
        if (sql__p_accept_kw(p, KW_READ)) {
            t->lock = KW_READ;
            sql__p_accept_kw(p, KW_LOCAL);
        } else {
            sql__p_accept_kw(p, KW_LOW_PRIORITY);
            if (!sql__p_expect_kw(p, KW_WRITE))
                return NULL;
            t->lock = KW_WRITE;
        }
        *tail = t;
        tail = &t->next;
    } while (sql__p_accept(p, TK_COMMA));
    return st;
}

/* Words that are not keywords here (SAVEPOINT, RELEASE): taken when the
 * next token is that identifier. */
static bool accept_word(struct parser *p, const char *w)
{
    const struct sql_token *t = sql__p_peek(p, 0);
    size_t n = strlen(w);
    if (t->type != TK_IDENT || t->len != n || strncasecmp(t->str, w, n) != 0)
        return false;
    sql__p_advance(p);
    return true;
}

struct ast_stmt *sql__p_admin(struct parser *p)
{
    struct ast_stmt *st;
    bool release = false;
    switch (sql__p_peek(p, 0)->kw) {
    case KW_CREATE:
        return parse_create(p);
    case KW_DROP:
        return parse_drop(p);
    case KW_ALTER:
        return parse_alter(p);
    case KW_TRUNCATE:
        sql__p_advance(p);
        sql__p_accept_kw(p, KW_TABLE);
        if ((st = stmt_new(p, AST_TRUNCATE)) == NULL ||
            !sql__p_table_name(p, &st->db, &st->name))
            return NULL;
        return st;
    case KW_RENAME: {
        sql__p_advance(p);
        if (sql__p_is_kw(p, KW_USER)) {
            sql__p_unsupported(p, "RENAME USER");
            return NULL;
        }
        if (!sql__p_accept_kw(p, KW_TABLES) && !sql__p_expect_kw(p, KW_TABLE))
            return NULL;
        if ((st = stmt_new(p, AST_RENAME_TABLE)) == NULL)
            return NULL;
        struct ast_tname **tail = &st->tables;
        do {
            struct ast_tname *t = sql__p_new(p, sizeof *t);
            if (t == NULL || !sql__p_table_name(p, &t->db, &t->name) ||
                !sql__p_expect_kw(p, KW_TO) ||
                !sql__p_table_name(p, &t->to_db, &t->to_name))
                return NULL;
            *tail = t;
            tail = &t->next;
        } while (sql__p_accept(p, TK_COMMA));
        return st;
    }
    case KW_USE:
        sql__p_advance(p);
        if ((st = stmt_new(p, AST_USE)) == NULL || (st->name = sql__p_ident(p)) == NULL)
            return NULL;
        return st;
    case KW_SHOW:
        return parse_show(p);
    case KW_DESCRIBE:
    case KW_DESC:
    case KW_EXPLAIN:
        return parse_describe(p);
    case KW_SET:
        return parse_set(p);
    case KW_BEGIN:
        sql__p_advance(p);
        sql__p_accept_kw(p, KW_WORK);
        return stmt_new(p, AST_BEGIN);
    case KW_START:
        sql__p_advance(p);
        if ((st = stmt_new(p, AST_BEGIN)) == NULL || !sql__p_expect_kw(p, KW_TRANSACTION))
            return NULL;
        if (sql__p_is(p, TK_EOF) || sql__p_is(p, TK_SEMI))
            return st;
        do {
            if (sql__p_accept_kw(p, KW_READ)) {
                if (sql__p_accept_kw(p, KW_ONLY))
                    st->flag = true;
                else if (!sql__p_expect_kw(p, KW_WRITE))
                    return NULL;
            } else if (sql__p_accept_kw(p, KW_WITH)) {
                if (!sql__p_expect_kw(p, KW_CONSISTENT) ||
                    !sql__p_expect_kw(p, KW_SNAPSHOT))
                    return NULL;
                st->flag2 = true;
            } else {
                sql__p_error(p);
                return NULL;
            }
        } while (sql__p_accept(p, TK_COMMA));
        return st;
    case KW_COMMIT:
    case KW_ROLLBACK: {
        int kind = sql__p_is_kw(p, KW_COMMIT) ? AST_COMMIT : AST_ROLLBACK;
        sql__p_advance(p);
        sql__p_accept_kw(p, KW_WORK);
        if ((st = stmt_new(p, kind)) == NULL)
            return NULL;
        if (kind == AST_ROLLBACK && sql__p_accept_kw(p, KW_TO)) {
            /* ROLLBACK [WORK] TO [SAVEPOINT] name */
            accept_word(p, "SAVEPOINT");
            if ((st->name = sql__p_ident(p)) == NULL)
                return NULL;
        }
        return st;
    }
    case KW_GRANT:
        return parse_grant(p, true);
    case KW_REVOKE:
        return parse_grant(p, false);
    case KW_KILL:
        sql__p_advance(p);
        if ((st = stmt_new(p, AST_KILL)) == NULL)
            return NULL;
        if (sql__p_accept_kw(p, KW_QUERY))
            st->flag = true;
        else
            sql__p_accept_kw(p, KW_CONNECTION);
        return (st->expr = sql__p_expr(p)) ? st : NULL;
    case KW_LOCK:
        return parse_lock(p);
    case KW_UNLOCK:
        sql__p_advance(p);
        if (!sql__p_accept_kw(p, KW_TABLES) && !sql__p_expect_kw(p, KW_TABLE))
            return NULL;
        return stmt_new(p, AST_UNLOCK_TABLES);
    case KW_DO:
        sql__p_advance(p);
        if ((st = stmt_new(p, AST_DO)) == NULL || (st->expr = sql__p_expr_list(p)) == NULL)
            return NULL;
        return st;
    case KW_PREPARE:
        sql__p_advance(p);
        if ((st = stmt_new(p, AST_PREPARE)) == NULL ||
            (st->name = sql__p_ident(p)) == NULL || !sql__p_expect_kw(p, KW_FROM))
            return NULL;
        if (!sql__p_is(p, TK_STRING) && !sql__p_is(p, TK_USERVAR)) {
            sql__p_error(p);
            return NULL;
        }
        return (st->expr = sql__p_unary_expr(p)) ? st : NULL;
    case KW_EXECUTE:
        sql__p_advance(p);
        if ((st = stmt_new(p, AST_EXECUTE)) == NULL ||
            (st->name = sql__p_ident(p)) == NULL)
            return NULL;
        if (sql__p_accept_kw(p, KW_USING)) {
            struct ast_expr **tail = &st->expr;
            do {
                if (!sql__p_is(p, TK_USERVAR)) {
                    sql__p_error(p);
                    return NULL;
                }
                struct ast_expr *v = sql__p_unary_expr(p);
                if (v == NULL)
                    return NULL;
                *tail = v;
                tail = &v->next;
            } while (sql__p_accept(p, TK_COMMA));
        }
        return st;
    case KW_DEALLOCATE:
        sql__p_advance(p);
        if (!sql__p_expect_kw(p, KW_PREPARE) ||
            (st = stmt_new(p, AST_DEALLOCATE)) == NULL ||
            (st->name = sql__p_ident(p)) == NULL)
            return NULL;
        return st;
    case KW_ANALYZE:
    case KW_OPTIMIZE:
    case KW_CHECK:
        if ((st = stmt_new(p, AST_TABLE_MAINT)) == NULL)
            return NULL;
        st->name = kwname(p);
        sql__p_advance(p);
        if (st->name[0] != 'C' && !sql__p_accept_kw(p, KW_NO_WRITE_TO_BINLOG))
            sql__p_accept_kw(p, KW_LOCAL);
        if (!sql__p_accept_kw(p, KW_TABLES) && !sql__p_expect_kw(p, KW_TABLE))
            return NULL;
        return (st->tables = table_list(p)) ? st : NULL;
    case KW_FLUSH:
        sql__p_advance(p);
        if ((st = stmt_new(p, AST_FLUSH)) == NULL)
            return NULL;
        if (!sql__p_accept_kw(p, KW_NO_WRITE_TO_BINLOG))
            sql__p_accept_kw(p, KW_LOCAL);
        if (sql__p_accept_kw(p, KW_TABLES) || sql__p_accept_kw(p, KW_TABLE)) {
            st->name = "TABLES";
            if (sql__p_is_ident(p) && (st->tables = table_list(p)) == NULL)
                return NULL;
            if (sql__p_accept_kw(p, KW_WITH)) {
                if (!sql__p_expect_kw(p, KW_READ) || !sql__p_expect_kw(p, KW_LOCK))
                    return NULL;
                st->flag = true;
            }
        } else if (sql__p_accept_kw(p, KW_PRIVILEGES)) {
            st->name = "PRIVILEGES";
        } else if (sql__p_accept_kw(p, KW_LOGS)) {
            st->name = "LOGS";
        } else if (sql__p_accept_kw(p, KW_STATUS)) {
            st->name = "STATUS";
        } else {
            sql__p_error(p);
            return NULL;
        }
        return st;
    default: {
        /* ADMIN CHECK TABLE t, ... (TiDB's): ADMIN is no keyword. */
        struct sql_token *w = sql__p_peek(p, 0);
        if (w->type == TK_IDENT && w->kw == 0 && w->len == 5 &&
            strncasecmp(w->str, "ADMIN", 5) == 0 &&
            sql__p_peek_kw(p, 1, KW_CHECK)) {
            sql__p_advance(p);
            sql__p_advance(p);
            if ((st = stmt_new(p, AST_TABLE_MAINT)) == NULL ||
                !sql__p_expect_kw(p, KW_TABLE))
                return NULL;
            st->name = "ADMIN CHECK";
            return (st->tables = table_list(p)) ? st : NULL;
        }
        /* SAVEPOINT name | RELEASE SAVEPOINT name */
        release = accept_word(p, "RELEASE");
        if (!accept_word(p, "SAVEPOINT")) {
            sql__p_error(p);
            return NULL;
        }
        if ((st = stmt_new(p, AST_SAVEPOINT)) == NULL ||
            (st->name = sql__p_ident(p)) == NULL)
            return NULL;
        st->flag = release;
        return st;
    }
    }
}

/* parse_stmt.c: queries (SELECT, joins, UNION) and DML (INSERT, REPLACE,
 * UPDATE, DELETE), and the statement dispatcher. Grammar after the MySQL
 * 8.0 manual's SELECT / INSERT / UPDATE / DELETE pages.
 * See DESIGN.md, "Parser".
 */
#include <string.h>

#include "parse_int.h"
#include "parse_ddl.h"
#include "json_table.h"

static struct ast_stmt *stmt_new(struct parser *p, int kind)
{
    struct ast_stmt *st = sql__p_new(p, sizeof *st);
    if (st != NULL)
        st->kind = kind;
    return st;
}

/* LIMIT values: an integer literal or a ? placeholder. */
static struct ast_expr *limit_value(struct parser *p)
{
    if (!sql__p_is(p, TK_INT) && !sql__p_is(p, TK_PARAM)) {
        sql__p_error(p);
        return NULL;
    }
    struct sql_token *t = sql__p_peek(p, 0);
    struct ast_expr *e = sql__p_expr_new(p, t->type == TK_INT ? AST_E_INT
                                                               : AST_E_PARAM);
    if (e == NULL)
        return NULL;
    if (t->type == TK_INT) {
        sql__p_note_literal(p, t->start, e);
        if (t->ival > (uint64_t)INT64_MAX) {
            e->is_unsigned = true;
            e->uval = t->ival;
        } else {
            e->ival = (int64_t)t->ival;
        }
    } else {
        e->ival = p->nparams++;
    }
    sql__p_advance(p);
    return e;
}

static bool parse_limit(struct parser *p, struct ast_expr **limit,
                        struct ast_expr **offset, bool allow_offset)
{
    if (!sql__p_accept_kw(p, KW_LIMIT))
        return true;
    if ((*limit = limit_value(p)) == NULL)
        return false;
    if (!allow_offset)
        return true;
    if (sql__p_accept(p, TK_COMMA)) {
        *offset = *limit;
        return (*limit = limit_value(p)) != NULL;
    }
    if (sql__p_accept_kw(p, KW_OFFSET))
        return (*offset = limit_value(p)) != NULL;
    return true;
}

static bool is_alias_start(struct parser *p, bool strings)
{
    return sql__p_is_ident(p) || (strings && sql__p_is(p, TK_STRING));
}

static const char *parse_alias(struct parser *p, bool strings)
{
    if (sql__p_accept_kw(p, KW_AS))
        return strings ? sql__p_ident_or_string(p) : sql__p_ident(p);
    if (is_alias_start(p, strings))
        return strings ? sql__p_ident_or_string(p) : sql__p_ident(p);
    return "";
}

static struct ast_table_ref *table_refs(struct parser *p);

static bool index_hints(struct parser *p, struct ast_table_ref *t)
{
    struct ast_index_hint **tail = &t->hints;
    for (;;) {
        int kind;
        if (sql__p_is_kw(p, KW_USE))
            kind = AST_HINT_USE;
        else if (sql__p_is_kw(p, KW_FORCE))
            kind = AST_HINT_FORCE;
        else if (sql__p_is_kw(p, KW_IGNORE))
            kind = AST_HINT_IGNORE;
        else
            return true;
        if (!sql__p_peek_kw(p, 1, KW_INDEX) && !sql__p_peek_kw(p, 1, KW_KEY))
            return true;
        sql__p_advance(p);
        sql__p_advance(p);
        struct ast_index_hint *h = sql__p_new(p, sizeof *h);
        if (h == NULL)
            return false;
        h->kind = kind;
        if (sql__p_accept_kw(p, KW_FOR)) {
            if (sql__p_accept_kw(p, KW_JOIN)) {
            } else if (sql__p_accept_kw(p, KW_ORDER) || sql__p_accept_kw(p, KW_GROUP)) {
                if (!sql__p_expect_kw(p, KW_BY))
                    return false;
            } else {
                return sql__p_error(p);
            }
        }
        if (!sql__p_expect(p, TK_LPAREN))
            return false;
        struct ast_name **nt = &h->indexes;
        while (!sql__p_is(p, TK_RPAREN)) {
            struct ast_name *n = sql__p_new(p, sizeof *n);
            if (n == NULL)
                return false;
            if (sql__p_accept_kw(p, KW_PRIMARY))
                n->name = "PRIMARY";
            else if ((n->name = sql__p_ident(p)) == NULL)
                return false;
            *nt = n;
            nt = &n->next;
            if (!sql__p_accept(p, TK_COMMA))
                break;
        }
        if (!sql__p_expect(p, TK_RPAREN))
            return false;
        if (kind != AST_HINT_USE && h->indexes == NULL)
            return sql__p_error(p);
        *tail = h;
        tail = &h->next;
    }
}

static struct ast_table_ref *table_factor(struct parser *p)
{
    struct ast_table_ref *t = sql__p_new(p, sizeof *t);
    if (t == NULL)
        return NULL;
    if (sql__p_accept(p, TK_LPAREN)) {
        if (sql__p_starts_query(p)) {
            t->kind = AST_T_DERIVED;
            if ((t->sub = sql__p_query(p)) == NULL || !sql__p_expect(p, TK_RPAREN))
                return NULL;
            /* A derived table needs a name (MySQL error 1248 otherwise). */
            sql__p_accept_kw(p, KW_AS);
            if ((t->alias = sql__p_ident(p)) == NULL)
                return NULL;
            return t;
        }
        if (!sql__p_enter(p))
            return NULL;
        struct ast_table_ref *inner = table_refs(p);
        sql__p_leave(p);
        if (inner == NULL || !sql__p_expect(p, TK_RPAREN))
            return NULL;
        return inner;
    }
    if (sql__p_word_is(p, 0, "JSON_TABLE") &&
        sql__p_peek(p, 1)->type == TK_LPAREN)
        return sql__p_json_table(p, t); /* parse_json_table.c */
    t->kind = AST_T_TABLE;
    if (!sql__p_table_name(p, &t->db, &t->name))
        return NULL;
    const char *alias = parse_alias(p, false);
    if (alias == NULL)
        return NULL;
    t->alias = *alias ? alias : NULL;
    if (!index_hints(p, t))
        return NULL;
    return t;
}

static struct ast_table_ref *join_new(struct parser *p, int kind,
                                      struct ast_table_ref *l)
{
    struct ast_table_ref *j = sql__p_new(p, sizeof *j);
    if (j != NULL) {
        j->kind = AST_T_JOIN;
        j->join = kind;
        j->left = l;
    }
    return j;
}

static struct ast_table_ref *table_join(struct parser *p)
{
    struct ast_table_ref *t = table_factor(p);
    while (t != NULL) {
        int kind;
        bool natural = false, cross = false;
        if (sql__p_accept_kw(p, KW_NATURAL))
            natural = true;
        if (sql__p_is_kw(p, KW_JOIN) || sql__p_is_kw(p, KW_INNER) ||
            sql__p_is_kw(p, KW_CROSS)) {
            kind = AST_J_INNER;
            cross = sql__p_is_kw(p, KW_CROSS);
            if (!sql__p_is_kw(p, KW_JOIN))
                sql__p_advance(p);
        } else if (sql__p_is_kw(p, KW_LEFT) || sql__p_is_kw(p, KW_RIGHT)) {
            kind = sql__p_is_kw(p, KW_LEFT) ? AST_J_LEFT : AST_J_RIGHT;
            sql__p_advance(p);
            sql__p_accept_kw(p, KW_OUTER);
        } else if (sql__p_is_kw(p, KW_STRAIGHT_JOIN)) {
            kind = AST_J_STRAIGHT;
        } else {
            if (natural) {
                sql__p_error(p);
                return NULL;
            }
            break;
        }
        if (kind != AST_J_STRAIGHT && !sql__p_expect_kw(p, KW_JOIN))
            return NULL;
        if (kind == AST_J_STRAIGHT)
            sql__p_advance(p);
        struct ast_table_ref *j = join_new(p, kind, t);
        if (j == NULL || (j->right = table_factor(p)) == NULL)
            return NULL;
        j->natural = natural;
        j->cross = cross;
        if (!natural) {
            if (sql__p_accept_kw(p, KW_ON)) {
                if ((j->on = sql__p_expr(p)) == NULL)
                    return NULL;
            } else if (sql__p_accept_kw(p, KW_USING)) {
                if ((j->using_cols = sql__p_name_list(p)) == NULL)
                    return NULL;
            } else if (kind == AST_J_LEFT || kind == AST_J_RIGHT) {
                sql__p_error(p); /* outer joins need a condition */
                return NULL;
            }
        }
        t = j;
    }
    return t;
}

static struct ast_table_ref *table_refs(struct parser *p)
{
    struct ast_table_ref *t = table_join(p);
    while (t != NULL && sql__p_accept(p, TK_COMMA)) {
        struct ast_table_ref *j = join_new(p, AST_J_COMMA, t);
        if (j == NULL || (j->right = table_join(p)) == NULL)
            return NULL;
        t = j;
    }
    return t;
}

static bool select_options(struct parser *p, struct ast_select *s)
{
    for (;;) {
        if (sql__p_accept_kw(p, KW_DISTINCT) || sql__p_accept_kw(p, KW_DISTINCTROW))
            s->distinct = true;
        else if (sql__p_accept_kw(p, KW_ALL) ||
                 sql__p_accept_kw(p, KW_HIGH_PRIORITY) ||
                 sql__p_accept_kw(p, KW_STRAIGHT_JOIN) ||
                 sql__p_accept_kw(p, KW_SQL_SMALL_RESULT) ||
                 sql__p_accept_kw(p, KW_SQL_BIG_RESULT) ||
                 sql__p_accept_kw(p, KW_SQL_BUFFER_RESULT) ||
                 sql__p_accept_kw(p, KW_SQL_CACHE) ||
                 sql__p_accept_kw(p, KW_SQL_NO_CACHE)) {
        } else if (sql__p_accept_kw(p, KW_SQL_CALC_FOUND_ROWS))
            s->calc_found_rows = true;
        else
            return true;
    }
}

static struct ast_select *select_core(struct parser *p)
{
    if (!sql__p_expect_kw(p, KW_SELECT))
        return NULL;
    struct ast_select *s = sql__p_new(p, sizeof *s);
    if (s == NULL || !select_options(p, s))
        return NULL;
    s->kind = AST_SEL_SIMPLE;
    struct ast_item **tail = &s->items;
    do {
        struct ast_item *it = sql__p_new(p, sizeof *it);
        if (it == NULL)
            return NULL;
        size_t start = sql__p_peek(p, 0)->start;
        if (sql__p_is(p, TK_STAR)) {
            sql__p_advance(p);
            if ((it->expr = sql__p_expr_new(p, AST_E_STAR)) == NULL)
                return NULL;
            it->text = p->src + start;
            it->text_len = 1;
        } else {
            if ((it->expr = sql__p_expr(p)) == NULL)
                return NULL;
            it->text = p->src + start;
            it->text_len = p->last.end - start;
            if (it->expr->kind != AST_E_STAR) {
                const char *alias = parse_alias(p, true);
                if (alias == NULL)
                    return NULL;
                it->alias = *alias ? alias : NULL;
            }
        }
        *tail = it;
        tail = &it->next;
    } while (sql__p_accept(p, TK_COMMA));
    if (sql__p_accept_kw(p, KW_FROM)) {
        if (sql__p_accept_kw(p, KW_DUAL)) {
        } else if ((s->from = table_refs(p)) == NULL) {
            return NULL;
        }
    }
    if (sql__p_accept_kw(p, KW_WHERE) && (s->where = sql__p_expr(p)) == NULL)
        return NULL;
    if (sql__p_accept_kw(p, KW_GROUP)) {
        if (!sql__p_expect_kw(p, KW_BY) || (s->group = sql__p_order_list(p)) == NULL)
            return NULL;
        if (sql__p_is_kw(p, KW_WITH) && sql__p_peek_kw(p, 1, KW_ROLLUP)) {
            sql__p_unsupported(p, "WITH ROLLUP");
            return NULL;
        }
    }
    if (sql__p_accept_kw(p, KW_HAVING) && (s->having = sql__p_expr(p)) == NULL)
        return NULL;
    if (sql__p_accept_kw(p, KW_WINDOW) &&
        (s->windows = sql__p_window_clause(p)) == NULL)
        return NULL;
    return s;
}

static struct ast_select *setop_chain(struct parser *p, bool outer);

static struct ast_select *query_term(struct parser *p)
{
    if (sql__p_accept(p, TK_LPAREN)) {
        struct ast_select *s = sql__p_query(p);
        if (s == NULL || !sql__p_expect(p, TK_RPAREN))
            return NULL;
        s->parens = true;
        return s;
    }
    return select_core(p);
}

/* One set operation: left op [ALL|DISTINCT] right (setop.c plans it). */
static struct ast_select *setop_node(struct parser *p, int op,
                                     struct ast_select *left, bool outer)
{
    struct ast_select *u = sql__p_new(p, sizeof *u);
    if (u == NULL)
        return NULL;
    u->kind = AST_SEL_UNION;
    u->setop = op;
    if (sql__p_accept_kw(p, KW_ALL))
        u->union_all = true;
    else
        sql__p_accept_kw(p, KW_DISTINCT);
    u->left = left;
    u->right = outer ? setop_chain(p, false) : query_term(p);
    return u->right != NULL ? u : NULL;
}

/* query_term {INTERSECT query_term} when !outer, else those terms joined
 * by UNION / EXCEPT: INTERSECT binds tighter (MariaDB 10.11, MySQL 8.0.31);
 * both chains associate left. At most SQL_PARSE_MAX_HEIGHT members, so the
 * walkers of the tree may recurse over it. */
static struct ast_select *setop_chain(struct parser *p, bool outer)
{
    struct ast_select *s = outer ? setop_chain(p, false) : query_term(p);
    int members = 1;
    for (;;) {
        int op;
        if (s == NULL)
            return NULL;
        if (!outer && sql__p_is_kw(p, KW_INTERSECT))
            op = AST_SETOP_INTERSECT;
        else if (outer && sql__p_is_kw(p, KW_UNION))
            op = AST_SETOP_UNION;
        else if (outer && sql__p_is_kw(p, KW_EXCEPT))
            op = AST_SETOP_EXCEPT;
        else
            return s;
        if (++members > SQL_PARSE_MAX_HEIGHT) {
            sql__p_too_deep(p);
            return NULL;
        }
        sql__p_advance(p);
        s = setop_node(p, op, s, outer);
    }
}

static bool order_limit_lock(struct parser *p, struct ast_select *s)
{
    if (sql__p_accept_kw(p, KW_ORDER)) {
        if (!sql__p_expect_kw(p, KW_BY) || (s->order = sql__p_order_list(p)) == NULL)
            return false;
    }
    if (!parse_limit(p, &s->limit, &s->offset, true))
        return false;
    if (sql__p_is_kw(p, KW_FOR) && sql__p_peek_kw(p, 1, KW_UPDATE)) {
        sql__p_advance(p);
        sql__p_advance(p);
        s->lock = AST_LOCK_UPDATE;
    } else if (sql__p_is_kw(p, KW_FOR) && sql__p_peek_kw(p, 1, KW_SHARE)) {
        sql__p_advance(p);
        sql__p_advance(p);
        s->lock = AST_LOCK_SHARE;
    } else if (sql__p_is_kw(p, KW_LOCK)) {
        sql__p_advance(p);
        if (!sql__p_expect_kw(p, KW_IN) || !sql__p_expect_kw(p, KW_SHARE) ||
            !sql__p_expect_kw(p, KW_MODE))
            return false;
        s->lock = AST_LOCK_SHARE;
        return true;
    }
    if (s->lock != AST_LOCK_NONE) {
        struct sql_token *t = sql__p_peek(p, 0);
        if (t->type == TK_IDENT && t->len == 6 && strncasecmp(t->str, "NOWAIT", 6) == 0) {
            sql__p_advance(p);
            s->lock_wait = AST_LOCK_NOWAIT;
        } else if (t->type == TK_IDENT && t->len == 4 &&
                   strncasecmp(t->str, "SKIP", 4) == 0) {
            struct sql_token *u = sql__p_peek(p, 1);
            if (u->type != TK_IDENT || u->len != 6 || strncasecmp(u->str, "LOCKED", 6) != 0) {
                sql__p_advance(p);
                return sql__p_error(p);
            }
            sql__p_advance(p);
            sql__p_advance(p);
            s->lock_wait = AST_LOCK_SKIP_LOCKED;
        } else if (t->type == TK_IDENT && t->len == 2 && strncasecmp(t->str, "OF", 2) == 0) {
            return sql__p_unsupported(p, "FOR UPDATE OF");
        }
    }
    return true;
}

bool sql__p_starts_query(struct parser *p)
{
    return sql__p_is_kw(p, KW_SELECT) || sql__p_is_kw(p, KW_WITH);
}

/* WITH [RECURSIVE] name [(cols)] AS (query), ... */
static bool with_clause(struct parser *p, struct ast_cte **out, bool *recursive)
{
    struct ast_cte **tail = out;
    struct sql_token *t = sql__p_peek(p, 0);
    if (t->type == TK_IDENT && t->len == 9 && strncasecmp(t->str, "RECURSIVE", 9) == 0) {
        sql__p_advance(p);
        *recursive = true;
    }
    do {
        struct ast_cte *c = sql__p_new(p, sizeof *c);
        if (c == NULL || (c->name = sql__p_ident(p)) == NULL)
            return false;
        if (sql__p_is(p, TK_LPAREN) && (c->columns = sql__p_name_list(p)) == NULL)
            return false;
        if (!sql__p_expect_kw(p, KW_AS) || !sql__p_expect(p, TK_LPAREN) ||
            (c->query = sql__p_query(p)) == NULL || !sql__p_expect(p, TK_RPAREN))
            return false;
        *tail = c;
        tail = &c->next;
    } while (sql__p_accept(p, TK_COMMA));
    return true;
}

struct ast_select *sql__p_query(struct parser *p)
{
    if (!sql__p_enter(p))
        return NULL;
    int outer = p->maxh;
    p->maxh = 0;
    struct ast_cte *with = NULL;
    bool recursive = false;
    if (sql__p_accept_kw(p, KW_WITH) && !with_clause(p, &with, &recursive)) {
        sql__p_leave(p);
        return NULL;
    }
    struct ast_select *s = setop_chain(p, true);
    if (s != NULL) {
        if (s->parens && (sql__p_is_kw(p, KW_ORDER) || sql__p_is_kw(p, KW_LIMIT) ||
                          sql__p_is_kw(p, KW_FOR) || sql__p_is_kw(p, KW_LOCK))) {
            /* (SELECT ...) ORDER BY ...: the outer clauses become its own
             * unless it has some already. */
            if (s->order != NULL || s->limit != NULL || s->lock != AST_LOCK_NONE) {
                sql__p_unsupported(p, "ORDER BY or LIMIT on a parenthesized query");
                sql__p_leave(p);
                return NULL;
            }
            s->parens = false;
        }
        if (!order_limit_lock(p, s))
            s = NULL;
    }
    if (s != NULL && with != NULL) {
        if (s->with != NULL) {
            /* WITH a AS (..) (WITH b AS (..) SELECT ..): two lists on one
             * query; MySQL refuses it too. */
            sql__p_unsupported(p, "nested WITH clauses");
            sql__p_leave(p);
            return NULL;
        }
        s->with = with;
        s->recursive = recursive;
    }
    if (s != NULL)
        s->height = p->maxh;
    if (outer > p->maxh)
        p->maxh = outer;
    sql__p_leave(p);
    return s;
}

static struct ast_assign *assignments(struct parser *p)
{
    struct ast_assign *head = NULL, **tail = &head;
    do {
        struct ast_assign *a = sql__p_new(p, sizeof *a);
        if (a == NULL)
            return NULL;
        if ((a->col = sql__p_expr_new(p, AST_E_COLUMN)) == NULL ||
            (a->col->name = sql__p_ident(p)) == NULL)
            return NULL;
        for (int parts = 1; parts < 3 && sql__p_accept(p, TK_DOT); parts++) {
            a->col->db = a->col->table;
            a->col->table = a->col->name;
            if ((a->col->name = sql__p_ident_any(p)) == NULL)
                return NULL;
        }
        if (!sql__p_accept(p, TK_ASSIGN) && !sql__p_expect(p, TK_EQ))
            return NULL;
        if ((a->value = sql__p_expr(p)) == NULL)
            return NULL;
        *tail = a;
        tail = &a->next;
    } while (sql__p_accept(p, TK_COMMA));
    return head;
}

static struct ast_stmt *parse_insert(struct parser *p)
{
    struct ast_stmt *st = stmt_new(p, AST_INSERT);
    struct ast_insert *in = sql__p_new(p, sizeof *in);
    if (st == NULL || in == NULL)
        return NULL;
    st->insert = in;
    in->replace = sql__p_is_kw(p, KW_REPLACE);
    sql__p_advance(p);
    if (sql__p_is_kw(p, KW_LOW_PRIORITY) || sql__p_is_kw(p, KW_DELAYED) ||
        (!in->replace && sql__p_is_kw(p, KW_HIGH_PRIORITY))) {
        in->priority = sql__p_peek(p, 0)->kw;
        sql__p_advance(p);
    }
    if (!in->replace && sql__p_accept_kw(p, KW_IGNORE))
        in->ignore = true;
    sql__p_accept_kw(p, KW_INTO);
    if (!sql__p_table_name(p, &in->db, &in->table))
        return NULL;
    if (sql__p_is(p, TK_LPAREN) && !sql__p_peek_kw(p, 1, KW_SELECT) &&
        !sql__p_peek_kw(p, 1, KW_WITH) &&
        sql__p_peek(p, 1)->type != TK_LPAREN) {
        if (sql__p_peek(p, 1)->type == TK_RPAREN) {
            sql__p_advance(p);
            sql__p_advance(p);
        } else if ((in->columns = sql__p_name_list(p)) == NULL) {
            return NULL;
        }
    }
    if (sql__p_accept_kw(p, KW_VALUES) || sql__p_accept_kw(p, KW_VALUE)) {
        struct ast_row **tail = &in->rows;
        do {
            struct ast_row *r = sql__p_new(p, sizeof *r);
            if (r == NULL || !sql__p_expect(p, TK_LPAREN))
                return NULL;
            if (!sql__p_is(p, TK_RPAREN) && (r->values = sql__p_expr_list(p)) == NULL)
                return NULL;
            if (!sql__p_expect(p, TK_RPAREN))
                return NULL;
            *tail = r;
            tail = &r->next;
        } while (sql__p_accept(p, TK_COMMA));
    } else if (sql__p_accept_kw(p, KW_SET)) {
        if (in->columns != NULL) {
            sql__p_error(p);
            return NULL;
        }
        if ((in->set = assignments(p)) == NULL)
            return NULL;
    } else if (sql__p_starts_query(p) || sql__p_is(p, TK_LPAREN)) {
        if ((in->select = sql__p_query(p)) == NULL)
            return NULL;
    } else {
        sql__p_error(p);
        return NULL;
    }
    if (in->select == NULL && sql__p_accept_kw(p, KW_AS)) {
        if ((in->row_alias = sql__p_ident(p)) == NULL)
            return NULL;
        if (sql__p_is(p, TK_LPAREN) &&
            (in->row_alias_cols = sql__p_name_list(p)) == NULL)
            return NULL;
    }
    if (sql__p_accept_kw(p, KW_ON)) {
        if (!sql__p_expect_kw(p, KW_DUPLICATE) || !sql__p_expect_kw(p, KW_KEY) ||
            !sql__p_expect_kw(p, KW_UPDATE) || (in->on_dup = assignments(p)) == NULL)
            return NULL;
    }
    return st;
}

static struct ast_stmt *parse_update(struct parser *p)
{
    struct ast_stmt *st = stmt_new(p, AST_UPDATE);
    struct ast_update *u = sql__p_new(p, sizeof *u);
    if (st == NULL || u == NULL)
        return NULL;
    st->update = u;
    sql__p_advance(p);
    if (sql__p_accept_kw(p, KW_LOW_PRIORITY))
        u->low_priority = true;
    if (sql__p_accept_kw(p, KW_IGNORE))
        u->ignore = true;
    if ((u->table = table_refs(p)) == NULL || !sql__p_expect_kw(p, KW_SET) ||
        (u->set = assignments(p)) == NULL)
        return NULL;
    if (sql__p_accept_kw(p, KW_WHERE) && (u->where = sql__p_expr(p)) == NULL)
        return NULL;
    /* multi-table: parsed too, refused with MySQL's 1221 (dml_multi.c) */
    if (sql__p_accept_kw(p, KW_ORDER)) {
        if (!sql__p_expect_kw(p, KW_BY) || (u->order = sql__p_order_list(p)) == NULL)
            return NULL;
    }
    if (!parse_limit(p, &u->limit, NULL, false))
        return NULL;
    return st;
}

/* A DELETE target: [db.]tbl[.*] (a table or an alias of the join). */
static bool delete_target(struct parser *p, const char **db, const char **name,
                          bool *star)
{
    *db = NULL;
    *star = false;
    if ((*name = sql__p_ident(p)) == NULL)
        return false;
    if (!sql__p_accept(p, TK_DOT))
        return true;
    if (sql__p_accept(p, TK_STAR))
        return *star = true;
    *db = *name;
    if ((*name = sql__p_ident_any(p)) == NULL)
        return false;
    if (!sql__p_accept(p, TK_DOT))
        return true;
    return (*star = sql__p_expect(p, TK_STAR));
}

static struct ast_stmt *parse_delete(struct parser *p)
{
    struct ast_stmt *st = stmt_new(p, AST_DELETE);
    struct ast_delete *d = sql__p_new(p, sizeof *d);
    if (st == NULL || d == NULL)
        return NULL;
    st->del = d;
    sql__p_advance(p);
    for (;;) {
        if (sql__p_accept_kw(p, KW_LOW_PRIORITY))
            d->low_priority = true;
        else if (sql__p_accept_kw(p, KW_QUICK))
            d->quick = true;
        else if (sql__p_accept_kw(p, KW_IGNORE))
            d->ignore = true;
        else
            break;
    }
    bool from = sql__p_accept_kw(p, KW_FROM);
    struct ast_table_ref *t = sql__p_new(p, sizeof *t);
    bool star = false;
    if (t == NULL || !delete_target(p, &t->db, &t->name, &star))
        return NULL;
    t->kind = AST_T_TABLE;
    d->table = t;
    if (!from || star || sql__p_is(p, TK_COMMA) || sql__p_is_kw(p, KW_USING)) {
        /* DELETE t1[.*], t2 FROM refs | DELETE FROM t1, t2 USING refs */
        struct ast_tname **tail = &d->targets;
        for (;;) {
            struct ast_tname *n = sql__p_new(p, sizeof *n);
            if (n == NULL)
                return NULL;
            n->db = t->db;
            n->name = t->name;
            *tail = n;
            tail = &n->next;
            if (!sql__p_accept(p, TK_COMMA))
                break;
            if (!delete_target(p, &t->db, &t->name, &star))
                return NULL;
        }
        if (!sql__p_expect_kw(p, from ? KW_USING : KW_FROM) ||
            (d->table = table_refs(p)) == NULL)
            return NULL;
        if (sql__p_accept_kw(p, KW_WHERE) && (d->where = sql__p_expr(p)) == NULL)
            return NULL;
        /* parsed, refused with MySQL's 1221 (dml_multi.c) */
        if (sql__p_accept_kw(p, KW_ORDER) &&
            (!sql__p_expect_kw(p, KW_BY) || (d->order = sql__p_order_list(p)) == NULL))
            return NULL;
        if (!parse_limit(p, &d->limit, NULL, false))
            return NULL;
        return st;
    }
    const char *alias = parse_alias(p, false);
    if (alias == NULL)
        return NULL;
    t->alias = *alias ? alias : NULL;
    if (sql__p_accept_kw(p, KW_WHERE) && (d->where = sql__p_expr(p)) == NULL)
        return NULL;
    if (sql__p_accept_kw(p, KW_ORDER)) {
        if (!sql__p_expect_kw(p, KW_BY) || (d->order = sql__p_order_list(p)) == NULL)
            return NULL;
    }
    if (!parse_limit(p, &d->limit, NULL, false))
        return NULL;
    return st;
}

struct ast_stmt *sql__p_statement(struct parser *p)
{
    struct sql_token *t = sql__p_peek(p, 0);
    if (t->type == TK_LPAREN) {
        struct ast_stmt *st = stmt_new(p, AST_SELECT);
        if (st == NULL || (st->select = sql__p_query(p)) == NULL)
            return NULL;
        return st;
    }
    if (t->type != TK_IDENT) {
        sql__p_error(p);
        return NULL;
    }
    switch (t->kw) {
    case KW_SELECT:
    case KW_WITH: {
        struct ast_stmt *st = stmt_new(p, AST_SELECT);
        if (st == NULL || (st->select = sql__p_query(p)) == NULL)
            return NULL;
        return st;
    }
    case KW_INSERT:
    case KW_REPLACE:
        return parse_insert(p);
    case KW_UPDATE:
        return parse_update(p);
    case KW_DELETE:
        return parse_delete(p);
    default:
        return sql__p_admin(p);
    }
}

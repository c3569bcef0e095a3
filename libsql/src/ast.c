/* ast.c: prints a parse tree back as canonical SQL: upper-case keywords,
 * every binary operator in parentheses, identifiers back-quoted when they
 * would not lex as one. Parsing the output gives the same tree (the
 * fuzz_parse target checks it). See DESIGN.md, "Parser".
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ast.h"
#include "json_table.h"
#include "lex.h"

struct sb
{
    struct sql_arena *a; /* where the text grows */
    char *s;             /* text so far */
    size_t n;            /* bytes used */
    size_t cap;          /* bytes available */
    bool oom;            /* an allocation failed */
};

static void put(struct sb *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *ns = sql__arena_alloc(b->a, cap);
        if (ns == NULL) {
            b->oom = true;
            return;
        }
        if (b->n > 0)
            memcpy(ns, b->s, b->n);
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void puts_(struct sb *b, const char *s)
{
    put(b, s, strlen(s));
}

static void ident(struct sb *b, const char *s)
{
    size_t n = strlen(s);
    bool bare = n > 0 && !(s[0] >= '0' && s[0] <= '9') &&
                sql__keyword(s, n) == KW_NONE;
    for (size_t i = 0; bare && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bare = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '_' || c == '$';
    }
    if (bare) {
        put(b, s, n);
        return;
    }
    put(b, "`", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '`')
            put(b, "`", 1);
        put(b, s + i, 1);
    }
    put(b, "`", 1);
}

static void qualified(struct sb *b, const char *db, const char *name)
{
    if (db != NULL) {
        ident(b, db);
        put(b, ".", 1);
    }
    ident(b, name);
}

static void string(struct sb *b, const char *s, size_t n)
{
    put(b, "'", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *esc = NULL;
        switch (s[i]) {
        case '\0': esc = "\\0"; break;
        case '\'': esc = "\\'"; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\032': esc = "\\Z"; break;
        default: break;
        }
        if (esc != NULL) {
            put(b, s + run, i - run);
            puts_(b, esc);
            run = i + 1;
        }
    }
    put(b, s + run, n - run);
    put(b, "'", 1);
}

static void fmt_i64(struct sb *b, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    puts_(b, buf);
}

static void fmt_u64(struct sb *b, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    puts_(b, buf);
}

static void expr(struct sb *b, const struct ast_expr *e);
static void select_(struct sb *b, const struct ast_select *s);

static void expr_list(struct sb *b, const struct ast_expr *e)
{
    for (; e != NULL; e = e->next) {
        expr(b, e);
        if (e->next != NULL)
            puts_(b, ", ");
    }
}

static void order_list(struct sb *b, const struct ast_order *o)
{
    for (; o != NULL; o = o->next) {
        expr(b, o->expr);
        if (o->desc)
            puts_(b, " DESC");
        if (o->next != NULL)
            puts_(b, ", ");
    }
}

static void bound_(struct sb *b, const struct ast_bound *x)
{
    static const char *const kinds[] = {
        "UNBOUNDED PRECEDING", " PRECEDING", "CURRENT ROW", " FOLLOWING",
        "UNBOUNDED FOLLOWING",
    };
    if (x->n != NULL)
        expr(b, x->n);
    puts_(b, kinds[x->kind]);
}

/* OVER's window: `w` or `([w] [PARTITION BY ..] [ORDER BY ..] [frame])`. */
static void window_(struct sb *b, const struct ast_window *w)
{
    if (w->bare) {
        ident(b, w->ref);
        return;
    }
    const char *sep = "";
    put(b, "(", 1);
    if (w->ref != NULL) {
        ident(b, w->ref);
        sep = " ";
    }
    if (w->partition != NULL) {
        puts_(b, sep);
        puts_(b, "PARTITION BY ");
        order_list(b, w->partition);
        sep = " ";
    }
    if (w->order != NULL) {
        puts_(b, sep);
        puts_(b, "ORDER BY ");
        order_list(b, w->order);
        sep = " ";
    }
    if (w->unit != AST_FRAME_NONE) {
        puts_(b, sep);
        puts_(b, w->unit == AST_FRAME_ROWS ? "ROWS BETWEEN " : "RANGE BETWEEN ");
        bound_(b, &w->start);
        puts_(b, " AND ");
        bound_(b, &w->end);
    }
    put(b, ")", 1);
}

static void name_list(struct sb *b, const struct ast_name *n)
{
    put(b, "(", 1);
    for (; n != NULL; n = n->next) {
        ident(b, n->name);
        if (n->next != NULL)
            puts_(b, ", ");
    }
    put(b, ")", 1);
}

static const char *op_text(int op)
{
    switch (op) {
    case AST_OP_OR: return "OR";
    case AST_OP_XOR: return "XOR";
    case AST_OP_AND: return "AND";
    case AST_OP_EQ: return "=";
    case AST_OP_NULLEQ: return "<=>";
    case AST_OP_NE: return "<>";
    case AST_OP_LT: return "<";
    case AST_OP_LE: return "<=";
    case AST_OP_GT: return ">";
    case AST_OP_GE: return ">=";
    case AST_OP_BITOR: return "|";
    case AST_OP_BITAND: return "&";
    case AST_OP_SHL: return "<<";
    case AST_OP_SHR: return ">>";
    case AST_OP_ADD: return "+";
    case AST_OP_SUB: return "-";
    case AST_OP_MUL: return "*";
    case AST_OP_DIV: return "/";
    case AST_OP_INTDIV: return "DIV";
    case AST_OP_MOD: return "%";
    case AST_OP_BITXOR: return "^";
    default: return "?";
    }
}

/* Operators of one precedence level associate to the left, so a chain
 * a - b + c prints as one parenthesis, and parses back to the same tree
 * (and no deeper than it was written). */
static int op_group(int op)
{
    switch (op) {
    case AST_OP_EQ: case AST_OP_NULLEQ: case AST_OP_NE: case AST_OP_LT:
    case AST_OP_LE: case AST_OP_GT: case AST_OP_GE:
        return 1;
    case AST_OP_BITOR: return 2;
    case AST_OP_BITAND: return 3;
    case AST_OP_SHL: case AST_OP_SHR: return 4;
    case AST_OP_ADD: case AST_OP_SUB: return 5;
    case AST_OP_MUL: case AST_OP_DIV: case AST_OP_INTDIV: case AST_OP_MOD:
        return 6;
    case AST_OP_BITXOR: return 7;
    default: return 0;
    }
}

static void bool_pri(struct sb *b, const struct ast_expr *e);

/* IS, comparisons and ANY/ALL share one left-associative loop in the
 * grammar (bool_pri), so a chain of them prints inside one parenthesis. */
static bool is_bool_pri(const struct ast_expr *e)
{
    return e->kind == AST_E_IS || e->kind == AST_E_CMP_SUBQ ||
           (e->kind == AST_E_BINARY && op_group(e->op) == 1);
}

static void binary_chain(struct sb *b, const struct ast_expr *e)
{
    if (op_group(e->op) == 1 && is_bool_pri(e->a))
        bool_pri(b, e->a);
    else if (e->a->kind == AST_E_BINARY && op_group(e->a->op) == op_group(e->op))
        binary_chain(b, e->a);
    else
        expr(b, e->a);
    put(b, " ", 1);
    puts_(b, op_text(e->op));
    put(b, " ", 1);
    expr(b, e->b);
}

static void bool_pri(struct sb *b, const struct ast_expr *e)
{
    if (e->kind == AST_E_BINARY) {
        binary_chain(b, e);
        return;
    }
    if (is_bool_pri(e->a))
        bool_pri(b, e->a);
    else
        expr(b, e->a);
    if (e->kind == AST_E_IS) {
        puts_(b, e->neg ? " IS NOT " : " IS ");
        puts_(b, e->op == AST_OP_ISNULL   ? "NULL"
                 : e->op == AST_OP_ISTRUE ? "TRUE"
                 : e->op == AST_OP_ISFALSE ? "FALSE"
                                           : "UNKNOWN");
        return;
    }
    put(b, " ", 1);
    puts_(b, op_text(e->op));
    puts_(b, e->ival == AST_OP_ALL ? " ALL (" : " ANY (");
    select_(b, e->sub);
    put(b, ")", 1);
}

/* a COLLATE x COLLATE y: one loop in the grammar, one parenthesis. */
static void collate_chain(struct sb *b, const struct ast_expr *e)
{
    if (e->a->kind == AST_E_COLLATE)
        collate_chain(b, e->a);
    else
        expr(b, e->a);
    puts_(b, " COLLATE ");
    ident(b, e->name);
}

static void type_(struct sb *b, const struct ast_type *t)
{
    puts_(b, t->name);
    if (t->values != NULL) {
        put(b, "(", 1);
        for (const struct ast_expr *v = t->values; v != NULL; v = v->next) {
            string(b, v->str.s, v->str.n);
            if (v->next != NULL)
                puts_(b, ", ");
        }
        put(b, ")", 1);
    } else if (t->len >= 0) {
        put(b, "(", 1);
        fmt_i64(b, t->len);
        if (t->scale >= 0) {
            put(b, ",", 1);
            fmt_i64(b, t->scale);
        }
        put(b, ")", 1);
    }
    if (t->zerofill)
        puts_(b, " UNSIGNED ZEROFILL");
    else if (t->is_unsigned)
        puts_(b, " UNSIGNED");
    if (t->charset != NULL) {
        puts_(b, " CHARACTER SET ");
        ident(b, t->charset);
    }
    if (t->collate != NULL) {
        puts_(b, " COLLATE ");
        ident(b, t->collate);
    }
}

static void func(struct sb *b, const struct ast_expr *e)
{
    if (e->noparen) {
        puts_(b, e->name);
        return;
    }
    if (strcmp(e->name, "MEMBER OF") == 0) { /* v MEMBER OF (array) */
        put(b, "(", 1);
        expr(b, e->args);
        puts_(b, " MEMBER OF (");
        expr(b, e->args->next);
        puts_(b, "))");
        return;
    }
    puts_(b, e->name);
    put(b, "(", 1);
    if (strcmp(e->name, "CAST") == 0) {
        expr(b, e->a);
        puts_(b, " AS ");
        type_(b, e->type);
    } else if (strcmp(e->name, "CONVERT") == 0) {
        expr(b, e->a);
        if (e->unit != NULL) {
            puts_(b, " USING ");
            ident(b, e->unit);
        } else {
            puts_(b, ", ");
            type_(b, e->type);
        }
    } else if (strcmp(e->name, "EXTRACT") == 0) {
        puts_(b, e->unit);
        puts_(b, " FROM ");
        expr(b, e->args);
    } else if (strcmp(e->name, "TRIM") == 0 && e->unit != NULL) {
        puts_(b, e->unit);
        put(b, " ", 1);
        if (e->args->next != NULL) {
            expr(b, e->args->next);
            put(b, " ", 1);
        }
        puts_(b, "FROM ");
        expr(b, e->args);
    } else if (strcmp(e->name, "CHAR") == 0 && e->unit != NULL) {
        expr_list(b, e->args);
        puts_(b, " USING ");
        ident(b, e->unit);
    } else if (e->unit != NULL) { /* TIMESTAMPDIFF / TIMESTAMPADD */
        puts_(b, e->unit);
        puts_(b, ", ");
        expr_list(b, e->args);
    } else {
        if (e->distinct)
            puts_(b, "DISTINCT ");
        if (e->args != NULL && e->args->kind == AST_E_STAR && e->args->table == NULL)
            put(b, "*", 1);
        else
            expr_list(b, e->args);
        if (e->order != NULL) {
            puts_(b, " ORDER BY ");
            order_list(b, e->order);
        }
        if (e->b != NULL) {
            puts_(b, " SEPARATOR ");
            expr(b, e->b);
        }
    }
    put(b, ")", 1);
}

static void expr(struct sb *b, const struct ast_expr *e)
{
    static const char hexd[] = "0123456789ABCDEF";
    switch (e->kind) {
    case AST_E_NULL:
        puts_(b, "NULL");
        break;
    case AST_E_BOOL:
        puts_(b, e->ival ? "TRUE" : "FALSE");
        break;
    case AST_E_INT:
        if (e->is_unsigned)
            fmt_u64(b, e->uval);
        else
            fmt_i64(b, e->ival);
        break;
    case AST_E_DECIMAL:
    case AST_E_FLOAT:
        if (e->str.n > 0 && e->str.s[0] == '.')
            put(b, "0", 1);
        put(b, e->str.s, e->str.n);
        break;
    case AST_E_STRING:
        if (e->name != NULL) { /* DATE '...' */
            puts_(b, e->name);
            put(b, " ", 1);
        } else if (e->charset != NULL) {
            put(b, "_", 1);
            puts_(b, e->charset);
        }
        string(b, e->str.s, e->str.n);
        break;
    case AST_E_HEX:
    case AST_E_BIT:
        if (e->charset != NULL) {
            put(b, "_", 1);
            puts_(b, e->charset);
            put(b, " ", 1);
        }
        if (e->kind == AST_E_BIT) {
            puts_(b, "b'");
            put(b, e->str.s, e->str.n);
        } else {
            puts_(b, "X'");
            for (size_t i = 0; i < e->str.n; i++) {
                unsigned char c = (unsigned char)e->str.s[i];
                put(b, &hexd[c >> 4], 1);
                put(b, &hexd[c & 15], 1);
            }
        }
        put(b, "'", 1);
        break;
    case AST_E_PARAM:
        put(b, "?", 1);
        break;
    case AST_E_COLUMN:
    case AST_E_STAR:
        if (e->db != NULL) {
            ident(b, e->db);
            put(b, ".", 1);
        }
        if (e->table != NULL) {
            ident(b, e->table);
            put(b, ".", 1);
        }
        if (e->kind == AST_E_STAR)
            put(b, "*", 1);
        else
            ident(b, e->name);
        break;
    case AST_E_USERVAR:
        put(b, "@", 1);
        ident(b, e->name);
        break;
    case AST_E_SYSVAR:
        puts_(b, "@@");
        if (e->scope == SQL_SCOPE_GLOBAL)
            puts_(b, "global.");
        else if (e->scope == SQL_SCOPE_SESSION)
            puts_(b, "session.");
        ident(b, e->name);
        break;
    case AST_E_UNARY:
        if (e->op == AST_OP_NOT) {
            /* NOT NOT a needs no inner parentheses. */
            puts_(b, "(NOT");
            while (e->a->kind == AST_E_UNARY && e->a->op == AST_OP_NOT) {
                puts_(b, " NOT");
                e = e->a;
            }
            put(b, " ", 1);
            expr(b, e->a);
            put(b, ")", 1);
            break;
        }
        puts_(b, e->op == AST_OP_NEG ? "-" : e->op == AST_OP_BITNOT ? "~" : "BINARY ");
        if (e->op == AST_OP_NEG &&
            ((e->a->kind == AST_E_INT && !e->a->is_unsigned && e->a->ival < 0) ||
             (e->a->kind == AST_E_UNARY && e->a->op == AST_OP_NEG)))
            put(b, " ", 1); /* "- -1", never "--" */
        expr(b, e->a);
        break;
    case AST_E_BINARY:
        put(b, "(", 1);
        binary_chain(b, e);
        put(b, ")", 1);
        break;
    case AST_E_LOGIC:
        put(b, "(", 1);
        for (const struct ast_expr *x = e->args; x != NULL; x = x->next) {
            expr(b, x);
            if (x->next != NULL) {
                put(b, " ", 1);
                puts_(b, op_text(e->op));
                put(b, " ", 1);
            }
        }
        put(b, ")", 1);
        break;
    case AST_E_IS:
    case AST_E_CMP_SUBQ:
        put(b, "(", 1);
        bool_pri(b, e);
        put(b, ")", 1);
        break;
    case AST_E_LIKE:
    case AST_E_REGEXP:
        put(b, "(", 1);
        expr(b, e->a);
        if (e->neg)
            puts_(b, " NOT");
        puts_(b, e->kind == AST_E_LIKE ? " LIKE " : " REGEXP ");
        expr(b, e->b);
        if (e->c != NULL) {
            puts_(b, " ESCAPE ");
            expr(b, e->c);
        }
        put(b, ")", 1);
        break;
    case AST_E_BETWEEN:
        put(b, "(", 1);
        expr(b, e->a);
        puts_(b, e->neg ? " NOT BETWEEN " : " BETWEEN ");
        expr(b, e->b);
        puts_(b, " AND ");
        /* a BETWEEN b AND c BETWEEN d AND e: the upper bound is itself a
         * predicate, printed bare as it was written. */
        while (e->c->kind == AST_E_BETWEEN) {
            e = e->c;
            expr(b, e->a);
            puts_(b, e->neg ? " NOT BETWEEN " : " BETWEEN ");
            expr(b, e->b);
            puts_(b, " AND ");
        }
        expr(b, e->c);
        put(b, ")", 1);
        break;
    case AST_E_IN:
        put(b, "(", 1);
        expr(b, e->a);
        puts_(b, e->neg ? " NOT IN (" : " IN (");
        if (e->sub != NULL)
            select_(b, e->sub);
        else
            expr_list(b, e->args);
        puts_(b, "))");
        break;
    case AST_E_EXISTS:
        puts_(b, "EXISTS (");
        select_(b, e->sub);
        put(b, ")", 1);
        break;
    case AST_E_SUBQUERY:
        put(b, "(", 1);
        select_(b, e->sub);
        put(b, ")", 1);
        break;
    case AST_E_ROW:
        puts_(b, e->args != NULL && e->args->next != NULL ? "(" : "ROW(");
        expr_list(b, e->args);
        put(b, ")", 1);
        break;
    case AST_E_FUNC:
        func(b, e);
        if (e->over != NULL) {
            puts_(b, " OVER ");
            window_(b, e->over);
        }
        break;
    case AST_E_CASE:
        puts_(b, "CASE ");
        if (e->a != NULL) {
            expr(b, e->a);
            put(b, " ", 1);
        }
        for (const struct ast_when *w = e->whens; w != NULL; w = w->next) {
            puts_(b, "WHEN ");
            expr(b, w->cond);
            puts_(b, " THEN ");
            expr(b, w->then);
            put(b, " ", 1);
        }
        if (e->c != NULL) {
            puts_(b, "ELSE ");
            expr(b, e->c);
            put(b, " ", 1);
        }
        puts_(b, "END");
        break;
    case AST_E_INTERVAL:
        puts_(b, "INTERVAL ");
        expr(b, e->a);
        put(b, " ", 1);
        puts_(b, e->name);
        break;
    case AST_E_COLLATE:
        put(b, "(", 1);
        collate_chain(b, e);
        put(b, ")", 1);
        break;
    case AST_E_ASSIGN:
        puts_(b, "(@");
        ident(b, e->name);
        puts_(b, " := ");
        expr(b, e->a);
        put(b, ")", 1);
        break;
    case AST_E_DEFAULT:
        puts_(b, "DEFAULT");
        if (e->a != NULL) {
            put(b, "(", 1);
            expr(b, e->a);
            put(b, ")", 1);
        }
        break;
    default:
        puts_(b, "?");
        break;
    }
}

/* JSON_TABLE's COLUMNS (...) (json_table.h). */
static void jt_on(struct sb *b, int how, const struct ast_str *def,
                  const char *what)
{
    if (how == AST_JT_ON_NULL)
        return;
    if (how == AST_JT_ON_ERROR) {
        puts_(b, " ERROR");
    } else {
        puts_(b, " DEFAULT ");
        string(b, def->s, def->n);
    }
    puts_(b, what);
}

static void jt_columns(struct sb *b, const struct ast_jt_col *c)
{
    puts_(b, " COLUMNS (");
    for (; c != NULL; c = c->next) {
        if (c->kind == AST_JT_NESTED) {
            puts_(b, "NESTED PATH ");
            string(b, c->path.s, c->path.n);
            jt_columns(b, c->nested);
        } else {
            ident(b, c->name);
            if (c->kind == AST_JT_ORDINALITY) {
                puts_(b, " FOR ORDINALITY");
            } else {
                put(b, " ", 1);
                type_(b, &c->type);
                puts_(b, c->kind == AST_JT_EXISTS ? " EXISTS PATH "
                                                  : " PATH ");
                string(b, c->path.s, c->path.n);
                jt_on(b, c->on_empty, &c->def_empty, " ON EMPTY");
                jt_on(b, c->on_error, &c->def_error, " ON ERROR");
            }
        }
        if (c->next != NULL)
            puts_(b, ", ");
    }
    put(b, ")", 1);
}

static void table_ref(struct sb *b, const struct ast_table_ref *t)
{
    switch (t->kind) {
    case AST_T_JSON_TABLE:
        puts_(b, "JSON_TABLE(");
        expr(b, t->jt->doc);
        puts_(b, ", ");
        string(b, t->jt->path.s, t->jt->path.n);
        jt_columns(b, t->jt->cols);
        puts_(b, ") AS ");
        ident(b, t->alias);
        break;
    case AST_T_TABLE:
        qualified(b, t->db, t->name);
        if (t->alias != NULL) {
            puts_(b, " AS ");
            ident(b, t->alias);
        }
        for (const struct ast_index_hint *h = t->hints; h != NULL; h = h->next) {
            puts_(b, h->kind == AST_HINT_USE     ? " USE INDEX "
                     : h->kind == AST_HINT_FORCE ? " FORCE INDEX "
                                                 : " IGNORE INDEX ");
            if (h->indexes == NULL)
                puts_(b, "()");
            else
                name_list(b, h->indexes);
        }
        break;
    case AST_T_DERIVED:
        put(b, "(", 1);
        select_(b, t->sub);
        puts_(b, ") AS ");
        ident(b, t->alias);
        break;
    case AST_T_JOIN: {
        bool lp = t->left->kind == AST_T_JOIN && t->left->join == AST_J_COMMA &&
                  t->join != AST_J_COMMA;
        if (lp)
            put(b, "(", 1);
        table_ref(b, t->left);
        if (lp)
            put(b, ")", 1);
        if (t->natural)
            puts_(b, " NATURAL");
        switch (t->join) {
        case AST_J_COMMA: puts_(b, ", "); break;
        case AST_J_INNER: puts_(b, t->cross ? " CROSS JOIN " : " JOIN "); break;
        case AST_J_LEFT: puts_(b, " LEFT JOIN "); break;
        case AST_J_RIGHT: puts_(b, " RIGHT JOIN "); break;
        default: puts_(b, " STRAIGHT_JOIN "); break;
        }
        bool rp = t->right->kind == AST_T_JOIN;
        if (rp)
            put(b, "(", 1);
        table_ref(b, t->right);
        if (rp)
            put(b, ")", 1);
        if (t->on != NULL) {
            puts_(b, " ON ");
            expr(b, t->on);
        } else if (t->using_cols != NULL) {
            puts_(b, " USING ");
            name_list(b, t->using_cols);
        }
        break;
    }
    }
}

static void limit_(struct sb *b, const struct ast_expr *limit,
                   const struct ast_expr *offset)
{
    if (limit == NULL)
        return;
    puts_(b, " LIMIT ");
    expr(b, limit);
    if (offset != NULL) {
        puts_(b, " OFFSET ");
        expr(b, offset);
    }
}

static bool select_needs_parens(const struct ast_select *s)
{
    return s->order != NULL || s->limit != NULL || s->lock != AST_LOCK_NONE ||
           s->with != NULL;
}

static void select_(struct sb *b, const struct ast_select *s)
{
    if (s->with != NULL) {
        puts_(b, s->recursive ? "WITH RECURSIVE " : "WITH ");
        for (const struct ast_cte *c = s->with; c != NULL; c = c->next) {
            ident(b, c->name);
            if (c->columns != NULL) {
                put(b, " ", 1);
                name_list(b, c->columns);
            }
            puts_(b, " AS (");
            select_(b, c->query);
            put(b, ")", 1);
            puts_(b, c->next != NULL ? ", " : " ");
        }
    }
    if (s->kind == AST_SEL_UNION) {
        /* INTERSECT binds tighter: a UNION or EXCEPT on its left needs
         * parentheses; any set operation on the right does (left
         * association). */
        bool lp = select_needs_parens(s->left) ||
                  (s->setop == AST_SETOP_INTERSECT &&
                   s->left->kind == AST_SEL_UNION &&
                   s->left->setop != AST_SETOP_INTERSECT);
        bool rp = s->right->kind == AST_SEL_UNION || select_needs_parens(s->right);
        static const char *const ops[] = {" UNION", " INTERSECT", " EXCEPT"};
        if (lp)
            put(b, "(", 1);
        select_(b, s->left);
        if (lp)
            put(b, ")", 1);
        puts_(b, ops[s->setop >= 0 && s->setop <= 2 ? s->setop : 0]);
        puts_(b, s->union_all ? " ALL " : " ");
        if (rp)
            put(b, "(", 1);
        select_(b, s->right);
        if (rp)
            put(b, ")", 1);
    } else {
        puts_(b, "SELECT ");
        if (s->distinct)
            puts_(b, "DISTINCT ");
        if (s->calc_found_rows)
            puts_(b, "SQL_CALC_FOUND_ROWS ");
        for (const struct ast_item *it = s->items; it != NULL; it = it->next) {
            expr(b, it->expr);
            if (it->alias != NULL) {
                puts_(b, " AS ");
                ident(b, it->alias);
            }
            if (it->next != NULL)
                puts_(b, ", ");
        }
        if (s->from != NULL) {
            puts_(b, " FROM ");
            table_ref(b, s->from);
        }
        if (s->where != NULL) {
            puts_(b, " WHERE ");
            expr(b, s->where);
        }
        if (s->group != NULL) {
            puts_(b, " GROUP BY ");
            order_list(b, s->group);
        }
        if (s->having != NULL) {
            puts_(b, " HAVING ");
            expr(b, s->having);
        }
        for (const struct ast_window *w = s->windows; w != NULL; w = w->next) {
            puts_(b, w == s->windows ? " WINDOW " : ", ");
            ident(b, w->name);
            puts_(b, " AS ");
            window_(b, w);
        }
    }
    if (s->order != NULL) {
        puts_(b, " ORDER BY ");
        order_list(b, s->order);
    }
    limit_(b, s->limit, s->offset);
    if (s->lock == AST_LOCK_UPDATE)
        puts_(b, " FOR UPDATE");
    else if (s->lock == AST_LOCK_SHARE && s->lock_wait != AST_LOCK_WAIT)
        puts_(b, " FOR SHARE"); /* LOCK IN SHARE MODE takes no modifier */
    else if (s->lock == AST_LOCK_SHARE)
        puts_(b, " LOCK IN SHARE MODE");
    if (s->lock_wait == AST_LOCK_NOWAIT)
        puts_(b, " NOWAIT");
    else if (s->lock_wait == AST_LOCK_SKIP_LOCKED)
        puts_(b, " SKIP LOCKED");
}

static void assigns(struct sb *b, const struct ast_assign *a)
{
    for (; a != NULL; a = a->next) {
        expr(b, a->col);
        puts_(b, " = ");
        expr(b, a->value);
        if (a->next != NULL)
            puts_(b, ", ");
    }
}

static void insert_(struct sb *b, const struct ast_insert *in)
{
    puts_(b, in->replace ? "REPLACE " : "INSERT ");
    if (in->priority != 0) {
        puts_(b, sql__keyword_name(in->priority));
        put(b, " ", 1);
    }
    if (in->ignore)
        puts_(b, "IGNORE ");
    puts_(b, "INTO ");
    qualified(b, in->db, in->table);
    if (in->columns != NULL) {
        put(b, " ", 1);
        name_list(b, in->columns);
    }
    if (in->rows != NULL) {
        puts_(b, " VALUES ");
        for (const struct ast_row *r = in->rows; r != NULL; r = r->next) {
            put(b, "(", 1);
            expr_list(b, r->values);
            put(b, ")", 1);
            if (r->next != NULL)
                puts_(b, ", ");
        }
    } else if (in->set != NULL) {
        puts_(b, " SET ");
        assigns(b, in->set);
    } else if (in->select != NULL) {
        put(b, " ", 1);
        select_(b, in->select);
    }
    if (in->row_alias != NULL) {
        puts_(b, " AS ");
        ident(b, in->row_alias);
        if (in->row_alias_cols != NULL) {
            put(b, " ", 1);
            name_list(b, in->row_alias_cols);
        }
    }
    if (in->on_dup != NULL) {
        puts_(b, " ON DUPLICATE KEY UPDATE ");
        assigns(b, in->on_dup);
    }
}

static void comment_(struct sb *b, const char *s, size_t n)
{
    if (s == NULL)
        return;
    puts_(b, " COMMENT ");
    string(b, s, n);
}

static void coldef(struct sb *b, const struct ast_coldef *c)
{
    ident(b, c->name);
    put(b, " ", 1);
    type_(b, &c->type);
    if (c->nullable == 2)
        puts_(b, " NOT NULL");
    else if (c->nullable == 1)
        puts_(b, " NULL");
    if (c->def != NULL) {
        puts_(b, " DEFAULT ");
        expr(b, c->def);
    }
    if (c->on_update != NULL) {
        puts_(b, " ON UPDATE ");
        expr(b, c->on_update);
    }
    if (c->auto_increment)
        puts_(b, " AUTO_INCREMENT");
    if (c->unique)
        puts_(b, " UNIQUE KEY");
    if (c->primary)
        puts_(b, " PRIMARY KEY");
    comment_(b, c->comment, c->comment_len);
}

/* "(a, b(10) DESC)": an index's key parts. */
static void index_cols(struct sb *b, const struct ast_index_col *cols)
{
    put(b, "(", 1);
    for (const struct ast_index_col *c = cols; c != NULL; c = c->next) {
        ident(b, c->name);
        if (c->prefix >= 0) {
            put(b, "(", 1);
            fmt_i64(b, c->prefix);
            put(b, ")", 1);
        }
        if (c->desc)
            puts_(b, " DESC");
        if (c->next != NULL)
            puts_(b, ", ");
    }
    put(b, ")", 1);
}

static void indexdef(struct sb *b, const struct ast_indexdef *ix)
{
    if (ix->constraint != NULL) {
        puts_(b, "CONSTRAINT ");
        ident(b, ix->constraint);
        put(b, " ", 1);
    }
    static const char *const kinds[] = {"PRIMARY KEY", "UNIQUE KEY", "KEY",
                                        "FULLTEXT KEY", "SPATIAL KEY",
                                        "FOREIGN KEY"};
    puts_(b, kinds[ix->kind]);
    if (ix->name != NULL) {
        put(b, " ", 1);
        ident(b, ix->name);
    }
    puts_(b, " ");
    index_cols(b, ix->cols);
    if (ix->kind == AST_IDX_FOREIGN) {
        puts_(b, " REFERENCES ");
        qualified(b, ix->ref_db, ix->ref_table);
        put(b, " ", 1);
        name_list(b, ix->ref_cols);
        if (ix->on_delete != NULL) {
            puts_(b, " ON DELETE ");
            puts_(b, ix->on_delete);
        }
        if (ix->on_update != NULL) {
            puts_(b, " ON UPDATE ");
            puts_(b, ix->on_update);
        }
    }
    if (ix->using_ != NULL) {
        puts_(b, " USING ");
        puts_(b, ix->using_);
    }
    comment_(b, ix->comment, ix->comment_len);
}

static void options_(struct sb *b, const struct ast_option *o)
{
    for (; o != NULL; o = o->next) {
        put(b, " ", 1);
        if (strcmp(o->name, "CHARSET") == 0)
            puts_(b, "DEFAULT ");
        puts_(b, o->name);
        put(b, "=", 1);
        if (o->ident)
            ident(b, o->value->str.s);
        else
            expr(b, o->value);
    }
}

static void create_table(struct sb *b, const struct ast_create_table *ct)
{
    puts_(b, ct->temporary ? "CREATE TEMPORARY TABLE " : "CREATE TABLE ");
    if (ct->if_not_exists)
        puts_(b, "IF NOT EXISTS ");
    qualified(b, ct->db, ct->table);
    if (ct->like_table != NULL) {
        puts_(b, " LIKE ");
        qualified(b, ct->like_db, ct->like_table);
        return;
    }
    puts_(b, " (");
    for (const struct ast_coldef *c = ct->columns; c != NULL; c = c->next) {
        coldef(b, c);
        if (c->next != NULL || ct->indexes != NULL)
            puts_(b, ", ");
    }
    for (const struct ast_indexdef *ix = ct->indexes; ix != NULL; ix = ix->next) {
        indexdef(b, ix);
        if (ix->next != NULL)
            puts_(b, ", ");
    }
    put(b, ")", 1);
    options_(b, ct->options);
}

static void position(struct sb *b, const struct ast_alter *al)
{
    if (al->first)
        puts_(b, " FIRST");
    else if (al->after != NULL) {
        puts_(b, " AFTER ");
        ident(b, al->after);
    }
}

static void alter_(struct sb *b, const struct ast_alter *al)
{
    switch (al->kind) {
    case AST_ALTER_ADD_COLUMN:
        puts_(b, "ADD COLUMN ");
        coldef(b, al->col);
        position(b, al);
        break;
    case AST_ALTER_DROP_COLUMN:
        puts_(b, "DROP COLUMN ");
        ident(b, al->name);
        break;
    case AST_ALTER_MODIFY_COLUMN:
        puts_(b, "MODIFY COLUMN ");
        coldef(b, al->col);
        position(b, al);
        break;
    case AST_ALTER_CHANGE_COLUMN:
        puts_(b, "CHANGE COLUMN ");
        ident(b, al->name);
        put(b, " ", 1);
        coldef(b, al->col);
        position(b, al);
        break;
    case AST_ALTER_ADD_INDEX:
        puts_(b, "ADD ");
        indexdef(b, al->index);
        break;
    case AST_ALTER_DROP_INDEX:
        puts_(b, "DROP INDEX ");
        ident(b, al->name);
        break;
    case AST_ALTER_DROP_PRIMARY:
        puts_(b, "DROP PRIMARY KEY");
        break;
    case AST_ALTER_DROP_FOREIGN:
        puts_(b, "DROP FOREIGN KEY ");
        ident(b, al->name);
        break;
    case AST_ALTER_RENAME:
        puts_(b, "RENAME TO ");
        qualified(b, al->new_db, al->new_name);
        break;
    case AST_ALTER_RENAME_COLUMN:
    case AST_ALTER_RENAME_INDEX:
        puts_(b, al->kind == AST_ALTER_RENAME_COLUMN ? "RENAME COLUMN " : "RENAME INDEX ");
        ident(b, al->name);
        puts_(b, " TO ");
        ident(b, al->new_name);
        break;
    case AST_ALTER_OPTIONS:
        options_(b, al->options);
        break;
    case AST_ALTER_SET_DEFAULT:
        puts_(b, "ALTER COLUMN ");
        ident(b, al->name);
        puts_(b, " SET DEFAULT ");
        expr(b, al->def);
        break;
    case AST_ALTER_DROP_DEFAULT:
        puts_(b, "ALTER COLUMN ");
        ident(b, al->name);
        puts_(b, " DROP DEFAULT");
        break;
    case AST_ALTER_DISABLE_KEYS:
        puts_(b, "DISABLE KEYS");
        break;
    case AST_ALTER_ENABLE_KEYS:
        puts_(b, "ENABLE KEYS");
        break;
    }
}

static void like_where(struct sb *b, const struct ast_show *s)
{
    if (s->like != NULL) {
        puts_(b, " LIKE ");
        expr(b, s->like);
    } else if (s->where != NULL) {
        puts_(b, " WHERE ");
        expr(b, s->where);
    }
}

static void from_db(struct sb *b, const char *db)
{
    if (db != NULL) {
        puts_(b, " FROM ");
        ident(b, db);
    }
}

static void user_(struct sb *b, const struct ast_user *u, bool auth)
{
    if (strcmp(u->name, "CURRENT_USER") == 0 && u->host == NULL) {
        puts_(b, "CURRENT_USER");
    } else {
        string(b, u->name, strlen(u->name));
        if (u->host != NULL) {
            put(b, "@", 1);
            string(b, u->host, strlen(u->host));
        }
    }
    if (!auth)
        return;
    if (u->plugin != NULL) {
        puts_(b, " IDENTIFIED WITH ");
        string(b, u->plugin, strlen(u->plugin));
        if (u->has_password) {
            puts_(b, " BY ");
            string(b, u->password.s, u->password.n);
        }
    } else if (u->has_password) {
        puts_(b, " IDENTIFIED BY ");
        string(b, u->password.s, u->password.n);
    }
}

static void users_(struct sb *b, const struct ast_user *u, bool auth)
{
    for (; u != NULL; u = u->next) {
        user_(b, u, auth);
        if (u->next != NULL)
            puts_(b, ", ");
    }
}

static void show_(struct sb *b, const struct ast_stmt *st)
{
    const struct ast_show *s = st->show;
    puts_(b, "SHOW ");
    if (s->full)
        puts_(b, "FULL ");
    if (s->scope == SQL_SCOPE_GLOBAL)
        puts_(b, "GLOBAL ");
    else if (s->scope == SQL_SCOPE_SESSION)
        puts_(b, "SESSION ");
    switch (s->kind) {
    case AST_SHOW_DATABASES:
        puts_(b, "DATABASES");
        like_where(b, s);
        break;
    case AST_SHOW_TABLES:
        puts_(b, "TABLES");
        from_db(b, s->db);
        like_where(b, s);
        break;
    case AST_SHOW_TABLE_STATUS:
        puts_(b, "TABLE STATUS");
        from_db(b, s->db);
        like_where(b, s);
        break;
    case AST_SHOW_COLUMNS:
    case AST_SHOW_INDEX:
        puts_(b, s->kind == AST_SHOW_COLUMNS ? "COLUMNS FROM " : "INDEX FROM ");
        qualified(b, s->db, s->table);
        like_where(b, s);
        break;
    case AST_SHOW_CREATE_TABLE:
    case AST_SHOW_CREATE_VIEW:
        puts_(b, s->kind == AST_SHOW_CREATE_VIEW ? "CREATE VIEW "
                                                 : "CREATE TABLE ");
        qualified(b, s->db, s->table);
        break;
    case AST_SHOW_CREATE_DATABASE:
        puts_(b, st->if_exists ? "CREATE DATABASE IF NOT EXISTS " : "CREATE DATABASE ");
        ident(b, s->db);
        break;
    case AST_SHOW_CREATE_USER:
        puts_(b, "CREATE USER ");
        user_(b, s->user, false);
        break;
    case AST_SHOW_VARIABLES:
        puts_(b, "VARIABLES");
        like_where(b, s);
        break;
    case AST_SHOW_STATUS:
        puts_(b, "STATUS");
        like_where(b, s);
        break;
    case AST_SHOW_WARNINGS:
    case AST_SHOW_ERRORS:
        if (s->count)
            puts_(b, "COUNT(*) ");
        puts_(b, s->kind == AST_SHOW_WARNINGS ? "WARNINGS" : "ERRORS");
        if (s->limit != NULL) {
            puts_(b, " LIMIT ");
            if (s->offset != NULL) {
                expr(b, s->offset);
                puts_(b, ", ");
            }
            expr(b, s->limit);
        }
        break;
    case AST_SHOW_PROCESSLIST:
        puts_(b, "PROCESSLIST");
        break;
    case AST_SHOW_GRANTS:
        puts_(b, "GRANTS");
        if (s->user != NULL) {
            puts_(b, " FOR ");
            user_(b, s->user, false);
        }
        break;
    case AST_SHOW_ENGINES:
        puts_(b, "ENGINES");
        break;
    case AST_SHOW_CHARSET:
        puts_(b, "CHARACTER SET");
        like_where(b, s);
        break;
    case AST_SHOW_COLLATION:
        puts_(b, "COLLATION");
        like_where(b, s);
        break;
    case AST_SHOW_FUNCTION_STATUS:
    case AST_SHOW_PROCEDURE_STATUS:
        puts_(b, s->kind == AST_SHOW_FUNCTION_STATUS ? "FUNCTION STATUS"
                                                     : "PROCEDURE STATUS");
        like_where(b, s);
        break;
    case AST_SHOW_EVENTS:
    case AST_SHOW_OPEN_TABLES:
        puts_(b, s->kind == AST_SHOW_EVENTS ? "EVENTS" : "OPEN TABLES");
        from_db(b, s->db);
        like_where(b, s);
        break;
    case AST_SHOW_PLUGINS:
        puts_(b, "PLUGINS");
        break;
    case AST_SHOW_MASTER_STATUS:
        puts_(b, "MASTER STATUS");
        break;
    case AST_SHOW_BINARY_LOGS:
        puts_(b, "BINARY LOGS");
        break;
    case AST_SHOW_PRIVILEGES:
        puts_(b, "PRIVILEGES");
        break;
    case AST_SHOW_TRIGGERS:
        puts_(b, "TRIGGERS");
        from_db(b, s->db);
        like_where(b, s);
        break;
    case AST_SHOW_STATS_META:
    case AST_SHOW_STATS_HISTOGRAMS:
    case AST_SHOW_STATS_BUCKETS:
    case AST_SHOW_STATS_TOPN:
        puts_(b, s->kind == AST_SHOW_STATS_META         ? "STATS_META"
                 : s->kind == AST_SHOW_STATS_HISTOGRAMS ? "STATS_HISTOGRAMS"
                 : s->kind == AST_SHOW_STATS_BUCKETS    ? "STATS_BUCKETS"
                                                        : "STATS_TOPN");
        like_where(b, s);
        break;
    }
}

static void scope_(struct sb *b, int scope)
{
    if (scope == SQL_SCOPE_GLOBAL)
        puts_(b, "GLOBAL ");
    else if (scope == SQL_SCOPE_SESSION)
        puts_(b, "SESSION ");
}

static void set_(struct sb *b, const struct ast_setvar *v)
{
    puts_(b, "SET ");
    if (v->kind == AST_SET_ISOLATION || v->kind == AST_SET_TX_ACCESS) {
        scope_(b, v->scope);
        puts_(b, "TRANSACTION ");
    }
    for (; v != NULL; v = v->next) {
        switch (v->kind) {
        case AST_SET_VAR:
            if (v->user) {
                put(b, "@", 1);
            } else if (v->sys) {
                puts_(b, "@@");
                if (v->scope == SQL_SCOPE_GLOBAL)
                    puts_(b, "global.");
                else if (v->scope == SQL_SCOPE_SESSION)
                    puts_(b, "session.");
            } else {
                scope_(b, v->scope);
            }
            ident(b, v->name);
            puts_(b, " = ");
            expr(b, v->value);
            break;
        case AST_SET_NAMES:
        case AST_SET_CHARSET:
            puts_(b, v->kind == AST_SET_NAMES ? "NAMES " : "CHARACTER SET ");
            if (v->name == NULL) {
                puts_(b, "DEFAULT");
            } else {
                ident(b, v->name);
                if (v->collate != NULL) {
                    puts_(b, " COLLATE ");
                    ident(b, v->collate);
                }
            }
            break;
        case AST_SET_ISOLATION:
            puts_(b, "ISOLATION LEVEL ");
            puts_(b, v->name);
            break;
        case AST_SET_TX_ACCESS:
            puts_(b, v->read_only ? "READ ONLY" : "READ WRITE");
            break;
        }
        if (v->next != NULL)
            puts_(b, ", ");
    }
}

static void grant_(struct sb *b, const struct ast_stmt *st)
{
    puts_(b, st->kind == AST_GRANT ? "GRANT " : "REVOKE ");
    for (const struct ast_priv *pv = st->privs; pv != NULL; pv = pv->next) {
        puts_(b, pv->name);
        if (pv->columns != NULL) {
            put(b, " ", 1);
            name_list(b, pv->columns);
        }
        if (pv->next != NULL)
            puts_(b, ", ");
    }
    if (st->priv_table != NULL) {
        puts_(b, " ON ");
        if (st->priv_db != NULL) {
            if (strcmp(st->priv_db, "*") == 0 && strcmp(st->priv_table, "*") == 0) {
                puts_(b, "*.*");
            } else {
                ident(b, st->priv_db);
                put(b, ".", 1);
                if (strcmp(st->priv_table, "*") == 0)
                    put(b, "*", 1);
                else
                    ident(b, st->priv_table);
            }
        } else if (strcmp(st->priv_table, "*") == 0) {
            put(b, "*", 1);
        } else {
            ident(b, st->priv_table);
        }
    }
    puts_(b, st->kind == AST_GRANT ? " TO " : " FROM ");
    users_(b, st->users, st->kind == AST_GRANT);
    if (st->flag)
        puts_(b, " WITH GRANT OPTION");
}

static void stmt(struct sb *b, const struct ast_stmt *st)
{
    switch (st->kind) {
    case AST_SELECT:
        select_(b, st->select);
        break;
    case AST_INSERT:
        insert_(b, st->insert);
        break;
    case AST_UPDATE: {
        const struct ast_update *u = st->update;
        puts_(b, "UPDATE ");
        if (u->low_priority)
            puts_(b, "LOW_PRIORITY ");
        if (u->ignore)
            puts_(b, "IGNORE ");
        table_ref(b, u->table);
        puts_(b, " SET ");
        assigns(b, u->set);
        if (u->where != NULL) {
            puts_(b, " WHERE ");
            expr(b, u->where);
        }
        if (u->order != NULL) {
            puts_(b, " ORDER BY ");
            order_list(b, u->order);
        }
        limit_(b, u->limit, NULL);
        break;
    }
    case AST_DELETE: {
        const struct ast_delete *d = st->del;
        puts_(b, "DELETE ");
        if (d->low_priority)
            puts_(b, "LOW_PRIORITY ");
        if (d->quick)
            puts_(b, "QUICK ");
        if (d->ignore)
            puts_(b, "IGNORE ");
        if (d->targets != NULL) {
            for (const struct ast_tname *t = d->targets; t != NULL; t = t->next) {
                qualified(b, t->db, t->name);
                puts_(b, t->next != NULL ? ", " : " ");
            }
        }
        puts_(b, "FROM ");
        table_ref(b, d->table);
        if (d->where != NULL) {
            puts_(b, " WHERE ");
            expr(b, d->where);
        }
        if (d->order != NULL) {
            puts_(b, " ORDER BY ");
            order_list(b, d->order);
        }
        limit_(b, d->limit, NULL);
        break;
    }
    case AST_CREATE_DATABASE:
        puts_(b, st->if_exists ? "CREATE DATABASE IF NOT EXISTS " : "CREATE DATABASE ");
        ident(b, st->name);
        if (st->charset != NULL) {
            puts_(b, " CHARACTER SET ");
            ident(b, st->charset);
        }
        if (st->collate != NULL) {
            puts_(b, " COLLATE ");
            ident(b, st->collate);
        }
        break;
    case AST_DROP_DATABASE:
        puts_(b, st->if_exists ? "DROP DATABASE IF EXISTS " : "DROP DATABASE ");
        ident(b, st->name);
        break;
    case AST_CREATE_TABLE:
        create_table(b, st->create);
        break;
    case AST_CREATE_VIEW:
        puts_(b, st->flag2  ? "ALTER VIEW "
                 : st->flag ? "CREATE OR REPLACE VIEW "
                            : "CREATE VIEW ");
        qualified(b, st->db, st->name);
        if (st->view_cols != NULL) {
            put(b, " ", 1);
            name_list(b, st->view_cols);
        }
        puts_(b, " AS ");
        select_(b, st->select);
        break;
    case AST_DROP_TABLE:
    case AST_DROP_VIEW:
    case AST_RENAME_TABLE:
    case AST_LOCK_TABLES:
        if (st->kind == AST_DROP_VIEW) {
            puts_(b, st->if_exists ? "DROP VIEW IF EXISTS " : "DROP VIEW ");
        } else if (st->kind == AST_DROP_TABLE) {
            puts_(b, st->flag ? "DROP TEMPORARY TABLE " : "DROP TABLE ");
            if (st->if_exists)
                puts_(b, "IF EXISTS ");
        } else {
            puts_(b, st->kind == AST_RENAME_TABLE ? "RENAME TABLE " : "LOCK TABLES ");
        }
        for (const struct ast_tname *t = st->tables; t != NULL; t = t->next) {
            qualified(b, t->db, t->name);
            if (st->kind == AST_RENAME_TABLE) {
                puts_(b, " TO ");
                qualified(b, t->to_db, t->to_name);
            } else if (st->kind == AST_LOCK_TABLES) {
                if (t->to_name != NULL) {
                    puts_(b, " AS ");
                    ident(b, t->to_name);
                }
                puts_(b, t->lock == KW_READ ? " READ" : " WRITE");
            }
            if (t->next != NULL)
                puts_(b, ", ");
        }
        break;
    case AST_CREATE_INDEX: {
        const struct ast_indexdef *ix = st->index;
        puts_(b, ix->kind == AST_IDX_UNIQUE     ? "CREATE UNIQUE INDEX "
                 : ix->kind == AST_IDX_FULLTEXT ? "CREATE FULLTEXT INDEX "
                 : ix->kind == AST_IDX_SPATIAL  ? "CREATE SPATIAL INDEX "
                                                : "CREATE INDEX ");
        ident(b, ix->name);
        puts_(b, " ON ");
        qualified(b, st->db, st->name);
        puts_(b, " ");
        index_cols(b, ix->cols);
        if (ix->using_ != NULL) {
            puts_(b, " USING ");
            puts_(b, ix->using_);
        }
        comment_(b, ix->comment, ix->comment_len);
        break;
    }
    case AST_DROP_INDEX:
        puts_(b, "DROP INDEX ");
        ident(b, st->column);
        puts_(b, " ON ");
        qualified(b, st->db, st->name);
        break;
    case AST_ALTER_TABLE:
        puts_(b, "ALTER TABLE ");
        qualified(b, st->db, st->name);
        for (const struct ast_alter *al = st->alter; al != NULL; al = al->next) {
            if (al->kind != AST_ALTER_OPTIONS)
                put(b, " ", 1);
            alter_(b, al);
            if (al->next != NULL)
                put(b, ",", 1);
        }
        break;
    case AST_TRUNCATE:
        puts_(b, "TRUNCATE TABLE ");
        qualified(b, st->db, st->name);
        break;
    case AST_USE:
        puts_(b, "USE ");
        ident(b, st->name);
        break;
    case AST_SHOW:
        show_(b, st);
        break;
    case AST_DESCRIBE:
        puts_(b, "DESCRIBE ");
        qualified(b, st->db, st->name);
        if (st->column != NULL) {
            put(b, " ", 1);
            ident(b, st->column);
        }
        break;
    case AST_EXPLAIN:
        puts_(b, st->flag ? "EXPLAIN ANALYZE " : "EXPLAIN ");
        if (st->explain_format != NULL) {
            puts_(b, "FORMAT=");
            ident(b, st->explain_format);
            put(b, " ", 1);
        }
        stmt(b, st->explain);
        break;
    case AST_SET:
        set_(b, st->set);
        break;
    case AST_BEGIN:
        if (!st->flag && !st->flag2) {
            puts_(b, "BEGIN");
        } else {
            puts_(b, "START TRANSACTION ");
            if (st->flag)
                puts_(b, st->flag2 ? "READ ONLY, " : "READ ONLY");
            if (st->flag2)
                puts_(b, "WITH CONSISTENT SNAPSHOT");
        }
        break;
    case AST_COMMIT:
        puts_(b, "COMMIT");
        break;
    case AST_ROLLBACK:
        puts_(b, "ROLLBACK");
        if (st->name != NULL) {
            puts_(b, " TO SAVEPOINT ");
            ident(b, st->name);
        }
        break;
    case AST_SAVEPOINT:
        puts_(b, st->flag ? "RELEASE SAVEPOINT " : "SAVEPOINT ");
        ident(b, st->name);
        break;
    case AST_CREATE_USER:
    case AST_DROP_USER:
    case AST_ALTER_USER:
        puts_(b, st->kind == AST_CREATE_USER ? "CREATE USER "
                 : st->kind == AST_DROP_USER ? "DROP USER "
                                             : "ALTER USER ");
        if (st->if_exists)
            puts_(b, st->kind == AST_CREATE_USER ? "IF NOT EXISTS " : "IF EXISTS ");
        users_(b, st->users, st->kind != AST_DROP_USER);
        break;
    case AST_GRANT:
    case AST_REVOKE:
        grant_(b, st);
        break;
    case AST_KILL:
        puts_(b, st->flag ? "KILL QUERY " : "KILL ");
        expr(b, st->expr);
        break;
    case AST_UNLOCK_TABLES:
        puts_(b, "UNLOCK TABLES");
        break;
    case AST_DO:
        puts_(b, "DO ");
        expr_list(b, st->expr);
        break;
    case AST_TABLE_MAINT:
        puts_(b, st->name);
        puts_(b, " TABLE ");
        for (const struct ast_tname *t = st->tables; t != NULL; t = t->next) {
            qualified(b, t->db, t->name);
            if (t->next != NULL)
                puts_(b, ", ");
        }
        break;
    case AST_FLUSH:
        puts_(b, "FLUSH ");
        puts_(b, st->name);
        for (const struct ast_tname *t = st->tables; t != NULL; t = t->next) {
            put(b, " ", 1);
            qualified(b, t->db, t->name);
            if (t->next != NULL)
                put(b, ",", 1);
        }
        if (st->flag)
            puts_(b, " WITH READ LOCK");
        break;
    case AST_PREPARE:
        puts_(b, "PREPARE ");
        ident(b, st->name);
        puts_(b, " FROM ");
        expr(b, st->expr);
        break;
    case AST_EXECUTE:
        puts_(b, "EXECUTE ");
        ident(b, st->name);
        if (st->expr != NULL) {
            puts_(b, " USING ");
            expr_list(b, st->expr);
        }
        break;
    case AST_DEALLOCATE:
        puts_(b, "DEALLOCATE PREPARE ");
        ident(b, st->name);
        break;
    }
}

char *sql__ast_print(struct sql_arena *a, const struct ast_stmt *st)
{
    struct sb b = {.a = a};
    stmt(&b, st);
    put(&b, "", 0);
    return b.oom ? NULL : b.s;
}

char *sql__ast_print_expr(struct sql_arena *a, const struct ast_expr *e)
{
    struct sb b = {.a = a};
    expr(&b, e);
    put(&b, "", 0);
    return b.oom ? NULL : b.s;
}

/* view.c: views. A view is a table record in the catalog whose view_sql
 * holds its SELECT (canonical SQL, every table qualified by its database
 * at creation) and whose columns are the SELECT's; a query naming it
 * plans that SELECT again and reads its rows as a derived table
 * (DESIGN.md "Views"). Views are read only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "plan.h"
#include "sql_int.h"
#include "view.h"

#define MAX_NAME 64
#define MAX_VIEW_DEPTH 16 /* views over views, deeper is 1462 */

/* ---- creating --------------------------------------------------------- */

/* Names of WITH lists around a table reference (not tables). */
struct qual
{
    const char *db;          /* the database unqualified tables get */
    const char *ctes[64];    /* WITH names in scope */
    size_t nctes;            /* their count */
};

static void qual_select(struct qual *q, struct ast_select *sel);

static void qual_expr(struct qual *q, struct ast_expr *e)
{
    for (; e; e = e->next) {
        if (e->sub)
            qual_select(q, e->sub);
        qual_expr(q, e->a);
        qual_expr(q, e->b);
        qual_expr(q, e->c);
        qual_expr(q, e->args);
        for (struct ast_when *w = e->whens; w; w = w->next) {
            qual_expr(q, w->cond);
            qual_expr(q, w->then);
        }
    }
}

static void qual_table(struct qual *q, struct ast_table_ref *t)
{
    for (; t; t = t->next) {
        if (t->kind == AST_T_TABLE && !t->db) {
            bool cte = false;
            for (size_t i = 0; i < q->nctes && !cte; i++)
                cte = strcmp(q->ctes[i], t->name) == 0;
            if (!cte)
                t->db = q->db;
        } else if (t->kind == AST_T_DERIVED) {
            qual_select(q, t->sub);
        } else if (t->kind == AST_T_JOIN) {
            qual_table(q, t->left);
            qual_table(q, t->right);
            qual_expr(q, t->on);
        }
    }
}

/* Qualify every table of sel with q->db (the current database when the
 * view is made, as MySQL resolves a view's names), so the stored text
 * means the same whatever database is current when it is read. */
static void qual_select(struct qual *q, struct ast_select *sel)
{
    if (!sel)
        return;
    size_t saved = q->nctes;
    for (struct ast_cte *c = sel->with; c; c = c->next) {
        if (q->nctes < 64)
            q->ctes[q->nctes++] = c->name;
        qual_select(q, c->query);
    }
    if (sel->kind == AST_SEL_UNION) {
        qual_select(q, sel->left);
        qual_select(q, sel->right);
    }
    qual_table(q, sel->from);
    for (struct ast_item *it = sel->items; it; it = it->next)
        qual_expr(q, it->expr);
    qual_expr(q, sel->where);
    qual_expr(q, sel->having);
    for (struct ast_order *o = sel->group; o; o = o->next)
        qual_expr(q, o->expr);
    for (struct ast_order *o = sel->order; o; o = o->next)
        qual_expr(q, o->expr);
    q->nctes = saved;
}

/* A column type as SHOW COLUMNS prints it. */
static int type_sql(struct sql_arena *a, const struct sql_ftype *t,
                    const char **out)
{
    char buf[64];
    const char *u = t->flags & SQL_COLFLAG_UNSIGNED ? " unsigned" : "";
    switch (t->tp) {
    case SQL_TYPE_TINY: snprintf(buf, sizeof(buf), "tinyint%s", u); break;
    case SQL_TYPE_SHORT: snprintf(buf, sizeof(buf), "smallint%s", u); break;
    case SQL_TYPE_INT24: snprintf(buf, sizeof(buf), "mediumint%s", u); break;
    case SQL_TYPE_LONG: snprintf(buf, sizeof(buf), "int%s", u); break;
    case SQL_TYPE_LONGLONG: snprintf(buf, sizeof(buf), "bigint%s", u); break;
    case SQL_TYPE_FLOAT: snprintf(buf, sizeof(buf), "float"); break;
    case SQL_TYPE_DOUBLE: snprintf(buf, sizeof(buf), "double"); break;
    case SQL_TYPE_DECIMAL:
    case SQL_TYPE_NEWDECIMAL: {
        unsigned d = t->dec > 0 ? (unsigned)t->dec : 0;
        unsigned m = t->len > d + 2 ? t->len - (d ? 1 : 0) -
                                          (t->flags & SQL_COLFLAG_UNSIGNED ? 0 : 1)
                                    : d + 1;
        if (m > 65)
            m = 65; /* DECIMAL's most digits (an aggregate's length) */
        snprintf(buf, sizeof(buf), "decimal(%u,%u)%s", m, d, u);
        break;
    }
    case SQL_TYPE_DATE: snprintf(buf, sizeof(buf), "date"); break;
    case SQL_TYPE_YEAR: snprintf(buf, sizeof(buf), "year"); break;
    case SQL_TYPE_TIME:
    case SQL_TYPE_DATETIME:
    case SQL_TYPE_TIMESTAMP: {
        const char *n = t->tp == SQL_TYPE_TIME       ? "time"
                        : t->tp == SQL_TYPE_DATETIME ? "datetime"
                                                     : "timestamp";
        if (t->dec > 0)
            snprintf(buf, sizeof(buf), "%s(%d)", n, t->dec);
        else
            snprintf(buf, sizeof(buf), "%s", n);
        break;
    }
    case SQL_TYPE_JSON: snprintf(buf, sizeof(buf), "json"); break;
    case SQL_TYPE_NULL: snprintf(buf, sizeof(buf), "binary(0)"); break;
    case SQL_TYPE_BLOB:
    case SQL_TYPE_TINY_BLOB:
    case SQL_TYPE_MEDIUM_BLOB:
    case SQL_TYPE_LONG_BLOB:
        snprintf(buf, sizeof(buf), "%s",
                 t->coll == SQL_COLL_BINARY ? "longblob" : "longtext");
        break;
    default: { /* strings */
        bool bin = t->coll == SQL_COLL_BINARY;
        uint32_t n = bin ? t->len : t->len / 4;
        snprintf(buf, sizeof(buf), "%s(%u)",
                 t->tp == SQL_TYPE_STRING ? (bin ? "binary" : "char")
                                          : (bin ? "varbinary" : "varchar"),
                 n);
        break;
    }
    }
    *out = sql__arena_strndup(a, buf, strlen(buf));
    return *out ? 0 : -ENOMEM;
}

/* The view's table record: columns from plan p, names from the list. */
static int build(struct sql_session *s, const struct ast_stmt *st,
                 const struct sql_dbinfo *db, const struct plan *p,
                 const char *text, struct sql_tableinfo **out)
{
    size_t n = p->nvisible, nn = 0;
    for (const struct ast_name *c = st->view_cols; c; c = c->next)
        nn++;
    if (st->view_cols && nn != n)
        return sql__serr(s, 1353, "HY000",
                         "In definition of view, derived table or common "
                         "table expression, SELECT list and column names "
                         "list have different column counts");
    struct sql_tableinfo *t = sql__tableinfo_new();
    if (!t)
        return -ENOMEM;
    struct sql_arena *a = t->arena;
    int rc = 0;
    t->db_id = db->id;
    t->name = sql__arena_strndup(a, st->name, strlen(st->name));
    t->view_sql = sql__arena_strndup(a, text, strlen(text));
    t->cols = sql__arena_zalloc(a, sizeof(*t->cols) * (n + 1));
    t->idx = sql__arena_zalloc(a, sizeof(*t->idx));
    t->handle_col = -1;
    t->pk_handle_idx = -1;
    t->ncols = (uint32_t)n;
    t->next_col_id = (uint32_t)n + 1;
    t->charset = "utf8mb4";
    t->collate = "utf8mb4_general_ci";
    if (!t->name || !t->view_sql || !t->cols || !t->idx)
        rc = -ENOMEM;
    const struct ast_name *cn = st->view_cols;
    for (uint32_t i = 0; rc == 0 && i < n; i++, cn = cn ? cn->next : NULL) {
        struct sql_colinfo *c = &t->cols[i];
        const char *name = cn ? cn->name : p->cols[i].name;
        for (uint32_t k = 0; k < i && rc == 0; k++)
            if (strcasecmp(t->cols[k].name, name) == 0)
                rc = sql__serr(s, 1060, "42S21",
                               "Duplicate column name '%.64s'", name);
        if (rc == 0 && strlen(name) > MAX_NAME)
            rc = sql__serr(s, 1166, "42000", "Incorrect column name '%.100s'",
                           name);
        if (rc != 0)
            break;
        c->id = i + 1;
        c->name = sql__arena_strndup(a, name, strlen(name));
        c->type = p->cols[i].type;
        c->type.elems = NULL; /* members are not kept for a view */
        c->type.nelems = 0;
        if (c->type.tp == SQL_TYPE_ENUM || c->type.tp == SQL_TYPE_SET)
            c->type.tp = SQL_TYPE_VAR_STRING;
        c->not_null = (c->type.flags & SQL_COLFLAG_NOT_NULL) != 0;
        rc = c->name ? type_sql(a, &c->type, &c->type_sql) : -ENOMEM;
    }
    if (rc != 0) {
        sql__tableinfo_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int sql__view_create(struct sql_session *s, const struct ast_stmt *st)
{
    struct sql_dbinfo *db;
    int rc = sql__sess_db(s, st->db, &db);
    if (rc != 0)
        return rc;
    if (strlen(st->name) > MAX_NAME)
        return sql__serr(s, 1059, "42000",
                         "Identifier name '%.100s' is too long", st->name);
    struct sql_tableinfo *old = sql__catalog_table(s->srv->cat, db->id,
                                                   st->name);
    if (old && (!old->view_sql || !(st->flag || st->flag2)))
        return sql__serr(s, 1050, "42S01", "Table '%.64s' already exists",
                         st->name);
    if (!old && st->flag2)
        return sql__serr(s, 1146, "42S02", "Table '%.64s.%.64s' doesn't exist",
                         db->name, st->name);
    /* The definition as stored: tables qualified (this statement's tree
     * is ours to change), then checked by planning it. */
    struct qual q = {.db = s->db};
    qual_select(&q, (struct ast_select *)st->select);
    struct ast_stmt sel = {.kind = AST_SELECT, .select = st->select};
    const char *text = sql__ast_print(s->arena, &sel);
    if (!text)
        return -ENOMEM;
    struct plan *p;
    if ((rc = sql__plan_select(s, st->select, &p)) != 0)
        return rc;
    struct sql_tableinfo *t = NULL;
    if ((rc = build(s, st, db, p, text, &t)) != 0)
        return rc;
    struct sql_kvtxn *txn;
    if ((rc = sql__ddl_begin(s, &txn)) != 0) {
        sql__tableinfo_free(t);
        return rc;
    }
    int r2 = 0;
    if (old)
        t->id = old->id; /* OR REPLACE / ALTER: the same record */
    else
        r2 = sql__meta_next_id(txn, &t->id);
    r2 = r2 ? r2 : sql__meta_put_table(txn, t);
    if (r2 != 0) {
        sql__kvtxn_rollback(txn);
        sql__tableinfo_free(t);
        return sql__kverr(s, r2);
    }
    if ((rc = sql__ddl_commit(s, txn)) != 0) {
        sql__tableinfo_free(t);
        return rc;
    }
    if (old)
        sql__catalog_drop_table(s->srv->cat, old->id);
    if (sql__catalog_put_table(s->srv->cat, t) != 0) {
        sql__tableinfo_free(t);
        return -ENOMEM;
    }
    return sql__sess_ok(s, 0, 0);
}

int sql__view_show_create(struct sql_session *s, const struct ast_show *sh)
{
    struct sql_tableinfo *t;
    int rc = sql__sess_table(s, sh->db, sh->table, &t);
    if (rc != 0)
        return rc;
    if (!t->view_sql)
        return sql__serr(s, 1347, "HY000", "'%.64s.%.64s' is not VIEW",
                         sh->db ? sh->db : s->db, sh->table);
    struct sql__buf b = {0};
    static const char head[] = "CREATE VIEW `";
    rc = sql__buf_put(&b, head, sizeof(head) - 1);
    rc = rc ? rc : sql__buf_put(&b, t->name, strlen(t->name));
    rc = rc ? rc : sql__buf_put(&b, "` (", 3);
    for (uint32_t i = 0; rc == 0 && i < t->ncols; i++) {
        rc = sql__buf_put(&b, i ? ", `" : "`", i ? 3 : 1);
        rc = rc ? rc : sql__buf_put(&b, t->cols[i].name,
                                    strlen(t->cols[i].name));
        rc = rc ? rc : sql__buf_put(&b, "`", 1);
    }
    rc = rc ? rc : sql__buf_put(&b, ") AS ", 5);
    rc = rc ? rc : sql__buf_put(&b, t->view_sql, strlen(t->view_sql));
    static const struct sql_rscol cols[] = {
        {"View", SQL_TYPE_VAR_STRING},
        {"Create View", SQL_TYPE_VAR_STRING},
        {"character_set_client", SQL_TYPE_VAR_STRING},
        {"collation_connection", SQL_TYPE_VAR_STRING}};
    rc = rc ? rc : sql__rs_begin(s, cols, 4);
    if (rc == 0) {
        struct sql_value v[4] = {sql__v_str(t->name), {0},
                                 sql__v_str("utf8mb4"),
                                 sql__v_str("utf8mb4_general_ci")};
        v[1].kind = SQL_VALUE_BYTES;
        v[1].v.s.p = (const char *)b.p;
        v[1].v.s.len = b.len;
        rc = sql__rs_row(s, v, 4);
    }
    sql__buf_free(&b);
    return rc ? rc : sql__rs_end(s);
}

/* ---- reading ------------------------------------------------------------ */

static struct sql_tableinfo *view_of(struct sql_session *s,
                                     const struct ast_table_ref *t)
{
    if (t->kind != AST_T_TABLE || (!t->db && !s->db))
        return NULL;
    struct sql_dbinfo *d = sql__catalog_db(s->srv->cat, t->db ? t->db : s->db);
    struct sql_tableinfo *v =
        d ? sql__catalog_table(s->srv->cat, d->id, t->name) : NULL;
    return v && v->view_sql ? v : NULL;
}

bool sql__view_named(struct sql_session *s, const struct ast_table_ref *t)
{
    return view_of(s, t) != NULL;
}

static int invalid(struct sql_session *s, const struct sql_tableinfo *v)
{
    const char *db = "";
    for (size_t i = 0; i < s->srv->cat->ndbs; i++)
        if (s->srv->cat->dbs[i]->id == v->db_id)
            db = s->srv->cat->dbs[i]->name;
    return sql__serr(s, 1356, "HY000",
                     "View '%.64s.%.64s' references invalid table(s) or "
                     "column(s) or function(s) or definer/invoker of view "
                     "lack rights to use them",
                     db, v->name);
}

/* ---- the reading block's WHERE into the view ----------------------------
 * For `SELECT .. FROM v WHERE c1 AND c2 ..` with v a plain SELECT (no
 * GROUP BY, HAVING, DISTINCT, ORDER BY, LIMIT, WITH) whose items are
 * plain columns, each conjunct made only of columns of v, literals,
 * comparisons, IS, LIKE, BETWEEN, IN lists and logic (nothing that can
 * fail or warn differently on the rows v's own WHERE rejects: no
 * arithmetic, function or subquery) is rewritten over v's columns and
 * added to v's WHERE, so v's scans use it for their access path; the
 * reading block still applies it to v's rows (a no-op filter then). */

static bool pure(const struct ast_expr *e)
{
    for (; e; e = e->next) {
        switch (e->kind) {
        case AST_E_NULL: case AST_E_BOOL: case AST_E_INT: case AST_E_DECIMAL:
        case AST_E_FLOAT: case AST_E_STRING: case AST_E_HEX: case AST_E_BIT:
        case AST_E_PARAM: case AST_E_COLUMN: case AST_E_LOGIC: case AST_E_IS:
        case AST_E_LIKE: case AST_E_BETWEEN: case AST_E_IN: case AST_E_COLLATE:
        case AST_E_ROW:
            break;
        case AST_E_UNARY: /* NOT only: a negation can overflow */
            if (e->op != AST_OP_NOT)
                return false;
            break;
        case AST_E_BINARY: /* comparisons only: arithmetic can fail */
            if (e->op < AST_OP_EQ || e->op > AST_OP_GE)
                return false;
            break;
        default:
            return false;
        }
        if (e->sub || e->whens || !pure(e->a) || !pure(e->b) ||
            !pure(e->c) || !pure(e->args))
            return false;
    }
    return true;
}

/* e with v's column names replaced by its items' expressions, in the
 * arena; NULL (and *ok false) when e names anything else. */
static struct ast_expr *subst(struct sql_session *s, const struct ast_expr *e,
                              const struct sql_tableinfo *v,
                              const struct ast_select *body,
                              const char *alias, bool *ok)
{
    if (!e || !*ok)
        return NULL;
    struct ast_expr *c = sql__arena_alloc(s->arena, sizeof(*c));
    if (!c) {
        *ok = false;
        return NULL;
    }
    if (e->kind == AST_E_COLUMN) {
        const struct ast_item *it = body->items;
        uint32_t i = 0;
        while (i < v->ncols && strcasecmp(v->cols[i].name, e->name) != 0)
            i++;
        for (uint32_t k = 0; it && k < i; k++)
            it = it->next;
        if (e->db || (e->table && strcmp(e->table, alias) != 0) ||
            i == v->ncols || !it) {
            *ok = false;
            return NULL;
        }
        *c = *it->expr;
    } else {
        *c = *e;
        c->a = subst(s, e->a, v, body, alias, ok);
        c->b = subst(s, e->b, v, body, alias, ok);
        c->c = subst(s, e->c, v, body, alias, ok);
        struct ast_expr **tail = &c->args;
        for (const struct ast_expr *x = e->args; x && *ok; x = x->next) {
            *tail = subst(s, x, v, body, alias, ok);
            tail = *tail ? &(*tail)->next : tail;
        }
    }
    c->next = NULL;
    return *ok ? c : NULL;
}

static void push_conj(struct sql_session *s, const struct ast_expr *e,
                      const struct sql_tableinfo *v,
                      const struct ast_select *body, const char *alias,
                      struct ast_expr ***tail)
{
    if (e->kind == AST_E_LOGIC && e->op == AST_OP_AND) {
        for (const struct ast_expr *x = e->args; x; x = x->next)
            push_conj(s, x, v, body, alias, tail);
        return;
    }
    bool ok = pure(e) && e->kind != AST_E_COLUMN;
    struct ast_expr *c = ok ? subst(s, e, v, body, alias, &ok) : NULL;
    if (ok && c) {
        **tail = c;
        *tail = &c->next;
    }
}

/* body with where's simple conjuncts added to its WHERE, or body. */
static const struct ast_select *push_where(struct sql_session *s,
                                           const struct ast_select *body,
                                           const struct sql_tableinfo *v,
                                           const char *alias,
                                           const struct ast_expr *where)
{
    if (!where || body->kind != AST_SEL_SIMPLE || body->distinct ||
        body->group || body->having || body->order || body->limit ||
        body->with || body->lock != AST_LOCK_NONE || !body->from)
        return body;
    uint32_t n = 0;
    for (const struct ast_item *it = body->items; it; it = it->next, n++)
        if (it->expr->kind != AST_E_COLUMN)
            return body;
    if (n != v->ncols)
        return body;
    struct ast_expr *pushed = NULL, **tail = &pushed;
    push_conj(s, where, v, body, alias, &tail);
    struct ast_select *nb = sql__arena_alloc(s->arena, sizeof(*nb));
    struct ast_expr *and = sql__arena_zalloc(s->arena, sizeof(*and));
    struct ast_expr *own = body->where ? sql__arena_alloc(s->arena,
                                                          sizeof(*own))
                                       : NULL;
    if (!pushed || !nb || !and || (body->where && !own))
        return body;
    and->kind = AST_E_LOGIC;
    and->op = AST_OP_AND;
    and->args = pushed;
    if (own) { /* the view's own WHERE first */
        *own = *body->where;
        own->next = pushed;
        and->args = own;
    }
    int h = 0;
    for (const struct ast_expr *x = and->args; x; x = x->next)
        if (x->height > h)
            h = x->height;
    and->height = h + 1;
    *nb = *body;
    nb->where = and;
    return nb;
}

int sql__view_rows(struct sql_session *s, const struct ast_table_ref *t,
                   const struct ast_expr *where,
                   const struct sql_tableinfo **ti, struct plan_vrows **out)
{
    struct sql_tableinfo *v = view_of(s, t);
    if (!v)
        return SQL_ENOTFOUND;
    struct sql_parse_result pr;
    int rc = sql__parse_one(s->arena, v->view_sql, strlen(v->view_sql), &pr);
    if (rc == -ENOMEM)
        return rc;
    if (rc != 0 || !pr.stmt || pr.stmt->kind != AST_SELECT)
        return invalid(s, v);
    struct plan *p;
    bool deep = false;
    const struct ast_select *body =
        push_where(s, pr.stmt->select, v, t->alias ? t->alias : t->name,
                   where);
    rc = sql__plan_view_body(s, body, MAX_VIEW_DEPTH, &p, &deep);
    if (deep)
        return sql__serr(s, 1462, "HY000",
                         "`%.64s` contains view recursion", v->name);
    if (rc == SQL_EQUERY) {
        uint16_t c = s->err.code;
        if (c == 1146 || c == 1054 || c == 1049 || c == 1305 || c == 1356 ||
            c == 1046 || c == 1052)
            return invalid(s, v);
    }
    if (rc != 0)
        return rc;
    if (p->nvisible != v->ncols)
        return invalid(s, v);
    /* The columns now: the view's names, the definition's types as it
     * plans today (a base table's column may have changed). */
    struct sql_tableinfo *vt = sql__arena_zalloc(s->arena, sizeof(*vt));
    struct sql_colinfo *cols = sql__arena_zalloc(s->arena,
                                                 sizeof(*cols) * (v->ncols + 1));
    if (!vt || !cols)
        return -ENOMEM;
    *vt = *v;
    vt->id = SQL_DERIVED_ID;
    vt->idx = NULL;
    vt->nidx = 0;
    vt->cols = cols;
    for (uint32_t i = 0; i < v->ncols; i++) {
        cols[i] = v->cols[i];
        cols[i].type = p->cols[i].type;
    }
    *ti = vt;
    *out = sql__vrows_defer(s, p);
    return *out ? 0 : -ENOMEM;
}

int sql__view_not_base(struct sql_session *s, const struct sql_tableinfo *t)
{
    if (!t->view_sql)
        return 0;
    const char *db = "";
    for (size_t i = 0; i < s->srv->cat->ndbs; i++)
        if (s->srv->cat->dbs[i]->id == t->db_id)
            db = s->srv->cat->dbs[i]->name;
    return sql__serr(s, 1347, "HY000", "'%.64s.%.64s' is not BASE TABLE", db,
                     t->name);
}

int sql__view_no_write(struct sql_session *s, const char *what)
{
    return sql__serr(s, 1235, "42000",
                     "This version of sqld doesn't yet support '%s through "
                     "a view'", what);
}

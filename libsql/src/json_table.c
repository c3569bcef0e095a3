/* json_table.c: MySQL 8's `v MEMBER OF (json_array)` (the function
 * "MEMBER OF" the parser makes; not callable by that name) and JSON_TABLE
 * (DESIGN.md "JSON_TABLE and MEMBER OF").
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "ast.h"
#include "exec.h"
#include "expr_int.h"
#include "json.h"
#include "json_table.h"
#include "plan.h"
#include "session.h"

/* ---- MEMBER OF ---------------------------------------------------------- */

static int check_member(struct sql_expr *e, struct sql_arena *a,
                        struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_INT, 0);
    return 0;
}

/* 1 when v (an SQL value made a JSON scalar, or a JSON value) equals an
 * element of the array (a non-array counts as an array of itself); NULL
 * when either side is NULL. */
static int eval_member(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v, d;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc == 0)
        rc = sql__arg(e, 1, ev, row, &d);
    if (rc != 0)
        return rc;
    if (v.vt == SQL_VT_NULL || d.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return 0;
    }
    const uint8_t *doc, *val;
    size_t n;
    if (d.vt == SQL_VT_JSON) {
        doc = (const uint8_t *)d.v.s.p;
    } else if (d.vt == SQL_VT_STRING) {
        if ((rc = sql__json_text_arg(ev, d.v.s.p, d.v.s.n, 2, "member of",
                                     &doc, &n)) != 0)
            return rc;
    } else {
        return sql__err(ev->err, 3146, "22032",
                        "Invalid data type for JSON data in argument 2 to "
                        "function member of; a JSON string or JSON type is "
                        "required.");
    }
    if (v.vt == SQL_VT_JSON) {
        val = (const uint8_t *)v.v.s.p;
    } else {
        struct sql_json *j;
        if ((rc = sql__json_from_datum(&v, ev->arena, &j)) != 0 ||
            (rc = sql__json_encode(j, ev->arena, &val, &n)) != 0)
            return rc;
    }
    bool found = false;
    if (doc[0] != SQL_JSON_ARRAY) {
        found = sql__json_bin_cmp(doc, val) == 0;
    } else {
        uint32_t cnt = sql__json_bin_count(doc);
        for (uint32_t i = 0; i < cnt && !found; i++)
            found = sql__json_bin_cmp(sql__json_bin_item(doc, i), val) == 0;
    }
    sql__datum_int(out, found);
    return 0;
}

const struct sql__func sql__funcs_json_table[] = {
    {"MEMBER OF", 2, 2, check_member, eval_member, false},
    {NULL, 0, 0, NULL, NULL, false},
};

/* ---- JSON_TABLE ----------------------------------------------------------- */

/* A column set (the top COLUMNS or a NESTED one), compiled. */
struct jt_set
{
    struct sql_json_path path;  /* its row path */
    struct jt_col *cols;        /* its columns */
    size_t ncols;               /* their count */
    uint32_t first, end;        /* output columns it and its nested sets
                                   fill: [first, end) */
};

struct jt_col
{
    const struct ast_jt_col *a; /* as written */
    uint32_t out;               /* output column (not NESTED) */
    struct sql_json_path path;  /* PATH / EXISTS / NESTED path */
    struct jt_set *nested;      /* NESTED: its set */
};

/* One JSON_TABLE's run: the output being built. */
struct jtx
{
    struct sql_session *s;      /* the session (errors, arena) */
    struct sql_xctx *x;         /* evaluation (conversions, warnings) */
    struct sql_tableinfo *ti;   /* the output table */
    uint32_t width;             /* its columns (the hidden key included) */
    struct sql_datum *row;      /* the row being filled */
    struct sql_datum *rows;     /* rows made */
    size_t nrows, cap;          /* count and room */
};

static int path_of(struct sql_session *s, struct sql_xctx *x,
                   const struct ast_str *text, struct sql_json_path *out)
{
    int rc = sql__json_path_parse(text->s, text->n, s->arena, out, &x->err);
    return rc ? sql__xerr(x, rc) : 0;
}

static int compile_set(struct jtx *j, const struct ast_str *path,
                       const struct ast_jt_col *cols, struct jt_set **out);

/* Columns of one set: output columns numbered in written order. */
static int compile_cols(struct jtx *j, struct jt_set *set,
                        const struct ast_jt_col *cols)
{
    struct sql_session *s = j->s;
    for (const struct ast_jt_col *c = cols; c; c = c->next)
        set->ncols++;
    set->cols = sql__arena_zalloc(s->arena, sizeof(*set->cols) * set->ncols);
    if (!set->cols)
        return -ENOMEM;
    set->first = j->width;
    size_t i = 0;
    int rc = 0;
    for (const struct ast_jt_col *c = cols; c && rc == 0; c = c->next, i++) {
        struct jt_col *k = &set->cols[i];
        k->a = c;
        if (c->kind == AST_JT_NESTED) {
            rc = compile_set(j, &c->path, c->nested, &k->nested);
            continue;
        }
        if (c->kind != AST_JT_ORDINALITY)
            rc = path_of(s, j->x, &c->path, &k->path);
        k->out = j->width++;
    }
    set->end = j->width;
    return rc;
}

static int compile_set(struct jtx *j, const struct ast_str *path,
                       const struct ast_jt_col *cols, struct jt_set **out)
{
    struct jt_set *set = sql__arena_zalloc(j->s->arena, sizeof(*set));
    if (!set)
        return -ENOMEM;
    *out = set;
    int rc = path_of(j->s, j->x, path, &set->path);
    return rc ? rc : compile_cols(j, set, cols);
}

/* Output column metadata of set (recursively) into j->ti. */
static int set_types(struct jtx *j, const struct jt_set *set)
{
    for (size_t i = 0; i < set->ncols; i++) {
        const struct jt_col *k = &set->cols[i];
        const struct ast_jt_col *c = k->a;
        if (c->kind == AST_JT_NESTED) {
            int rc = set_types(j, k->nested);
            if (rc != 0)
                return rc;
            continue;
        }
        struct sql_colinfo *ci = &j->ti->cols[k->out];
        for (uint32_t o = 0; o < k->out; o++)
            if (strcasecmp(j->ti->cols[o].name, c->name) == 0)
                return sql__serr(j->s, 1060, "42S21",
                                 "Duplicate column name '%.64s'", c->name);
        if (c->kind == AST_JT_ORDINALITY) {
            struct ast_coldef cd = {.name = c->name,
                                    .type = {.name = "INT", .len = -1,
                                             .scale = -1,
                                             .is_unsigned = true}};
            int rc = sql__ddl_column_type(j->s, &cd, ci);
            if (rc != 0)
                return rc;
        } else {
            struct ast_coldef cd = {.name = c->name, .type = c->type};
            int rc = sql__ddl_column_type(j->s, &cd, ci);
            if (rc != 0)
                return rc;
        }
        ci->id = k->out + 1;
        ci->name = c->name;
    }
    return 0;
}

/* ON EMPTY / ON ERROR for column k: NULL, the DEFAULT (JSON text made
 * the column's type), or the error. */
static int on_clause(struct jtx *j, const struct jt_col *k, bool empty,
                     struct sql_datum *out)
{
    const struct ast_jt_col *c = k->a;
    int how = empty ? c->on_empty : c->on_error;
    if (how == AST_JT_ON_ERROR)
        return empty ? sql__serr(j->s, 3665, "22035",
                                 "Missing value for JSON_TABLE column "
                                 "'%.64s'",
                                 c->name)
                     : sql__serr(j->s, 3666, "22035",
                                 "Can't store an array or an object in the "
                                 "scalar column '%.64s' of JSON_TABLE "
                                 "'%.64s'.",
                                 c->name, j->ti->name);
    if (how == AST_JT_ON_NULL) {
        sql__datum_null(out);
        return 0;
    }
    const struct ast_str *d = empty ? &c->def_empty : &c->def_error;
    struct sql_datum v;
    const uint8_t *b;
    size_t n;
    int rc = sql__json_text_arg(&j->x->ev, d->s, d->n, 1, "JSON_TABLE", &b,
                                &n);
    if (rc == SQL_EQUERY) { /* not JSON text: the string itself */
        memset(&j->x->err, 0, sizeof(j->x->err));
        sql__datum_str(&v, d->s, d->n, SQL_COLL_UTF8MB4_BIN);
    } else if (rc != 0) {
        return rc;
    } else {
        sql__datum_json(&v, b, n);
        if (j->ti->cols[k->out].type.tp != SQL_TYPE_JSON &&
            (rc = sql__json_scalar(&v, j->s->arena, &v)) != 0)
            return rc;
    }
    rc = sql__datum_store(&v, &j->ti->cols[k->out].type, c->name,
                          j->nrows + 1, &j->x->ev, out);
    return rc ? sql__xerr(j->x, rc) : 0;
}

/* Column k's value in the row context m. */
static int col_value(struct jtx *j, const struct jt_col *k, const uint8_t *m,
                     uint64_t ord, struct sql_datum *out)
{
    const struct ast_jt_col *c = k->a;
    const struct sql_colinfo *ci = &j->ti->cols[k->out];
    if (c->kind == AST_JT_ORDINALITY) {
        sql__datum_uint(out, ord);
        return 0;
    }
    const uint8_t **hits;
    size_t nhits;
    int rc = sql__json_path_find(m, &k->path, j->s->arena, &hits, &nhits);
    if (rc != 0)
        return rc;
    if (c->kind == AST_JT_EXISTS) {
        struct sql_datum v;
        sql__datum_int(&v, nhits > 0);
        rc = sql__datum_store(&v, &ci->type, c->name, j->nrows + 1,
                              &j->x->ev, out);
        return rc ? sql__xerr(j->x, rc) : 0;
    }
    if (nhits == 0)
        return on_clause(j, k, true, out);
    const uint8_t *h = hits[0];
    bool json = ci->type.tp == SQL_TYPE_JSON;
    if (nhits > 1 ||
        (!json && (h[0] == SQL_JSON_ARRAY || h[0] == SQL_JSON_OBJECT)))
        return on_clause(j, k, false, out);
    if (h[0] == SQL_JSON_NULL && !json) {
        sql__datum_null(out);
        return 0;
    }
    struct sql_datum v;
    sql__datum_json(&v, h, sql__json_bin_len(h));
    if (json) {
        *out = v;
        return 0;
    }
    if ((rc = sql__json_scalar(&v, j->s->arena, &v)) != 0)
        return rc;
    /* A value the column refuses (strict sql_mode: out of range, not a
     * number, too long) takes ON ERROR; a non-strict mode's warning and
     * clamped value stand. */
    rc = sql__datum_store(&v, &ci->type, c->name, j->nrows + 1, &j->x->ev,
                          out);
    if (rc == SQL_EQUERY) {
        memset(&j->x->err, 0, sizeof(j->x->err));
        return on_clause(j, k, false, out);
    }
    return rc;
}

static int emit(struct jtx *j)
{
    if (j->nrows == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 16;
        struct sql_datum *r =
            sql__arena_alloc(j->s->arena, sizeof(*r) * cap * j->width);
        if (!r)
            return -ENOMEM;
        if (j->nrows)
            memcpy(r, j->rows, sizeof(*r) * j->nrows * j->width);
        j->rows = r;
        j->cap = cap;
    }
    memcpy(j->rows + j->nrows * j->width, j->row,
           sizeof(*j->row) * j->width);
    j->nrows++;
    return 0;
}

static void null_cols(struct jtx *j, uint32_t from, uint32_t end)
{
    for (uint32_t i = from; i < end; i++)
        sql__datum_null(&j->row[i]);
}

/* The rows of set in context ctx (MySQL's order: each match of the path,
 * then for it each NESTED set's rows in turn, the other nested sets'
 * columns NULL; a match no nested set gives rows to is one row with them
 * all NULL). *made: rows emitted. */
static int run_set(struct jtx *j, const struct jt_set *set, const uint8_t *ctx,
                   size_t *made)
{
    const uint8_t **hits;
    size_t nhits;
    int rc = sql__json_path_find(ctx, &set->path, j->s->arena, &hits, &nhits);
    *made = 0;
    for (size_t h = 0; h < nhits && rc == 0; h++) {
        bool has_nested = false;
        for (size_t i = 0; i < set->ncols && rc == 0; i++) {
            const struct jt_col *k = &set->cols[i];
            if (k->a->kind == AST_JT_NESTED)
                has_nested = true;
            else
                rc = col_value(j, k, hits[h], h + 1, &j->row[k->out]);
        }
        size_t got = 0;
        for (size_t i = 0; i < set->ncols && rc == 0 && has_nested; i++) {
            const struct jt_set *n = set->cols[i].nested;
            if (!n)
                continue;
            for (size_t o = 0; o < set->ncols; o++)
                if (set->cols[o].nested)
                    null_cols(j, set->cols[o].nested->first,
                              set->cols[o].nested->end);
            size_t one;
            rc = run_set(j, n, hits[h], &one);
            got += one;
        }
        if (rc == 0 && got == 0) {
            for (size_t o = 0; o < set->ncols; o++)
                if (set->cols[o].nested)
                    null_cols(j, set->cols[o].nested->first,
                              set->cols[o].nested->end);
            rc = emit(j);
            got = 1;
        }
        *made += got;
    }
    return rc;
}

/* The document of datum d: JSON bytes, or NULL (*b NULL) for SQL NULL. */
static int doc_of(struct jtx *j, const struct sql_datum *d, const uint8_t **b)
{
    size_t n;
    *b = NULL;
    switch (d->vt) {
    case SQL_VT_NULL:
        return 0;
    case SQL_VT_JSON:
        *b = (const uint8_t *)d->v.s.p;
        return 0;
    case SQL_VT_STRING: {
        int rc = sql__json_text_arg(&j->x->ev, d->v.s.p, d->v.s.n, 1,
                                    "JSON_TABLE", b, &n);
        return rc ? sql__xerr(j->x, rc) : 0;
    }
    default:
        return sql__serr(j->s, 3146, "22032",
                         "Invalid data type for JSON data in argument 1 to "
                         "function JSON_TABLE; a JSON string or JSON type "
                         "is required.");
    }
}

static bool expr_reads_cols(const struct ast_expr *e)
{
    for (; e; e = e->next) {
        if (e->kind == AST_E_COLUMN)
            return true;
        if (expr_reads_cols(e->a) || expr_reads_cols(e->b) ||
            expr_reads_cols(e->c) || expr_reads_cols(e->args))
            return true;
        for (const struct ast_when *w = e->whens; w; w = w->next)
            if (expr_reads_cols(w->cond) || expr_reads_cols(w->then))
                return true;
    }
    return false;
}

bool sql__json_table_reads_cols(const struct ast_table_ref *t)
{
    return expr_reads_cols(t->jt->doc);
}

/* The hidden column lateral rows carry their document in (known by this
 * pointer, so no user column can pass for it). */
static const char jt_key_col[] = "__json_table_doc";

bool sql__json_table_doc_col(const struct sql_tableinfo *t, uint32_t i)
{
    return t->id == SQL_DERIVED_ID && t->cols[i].name == jt_key_col;
}

int sql__json_table_rows(struct sql_session *s, const struct ast_table_ref *t,
                         const struct ast_table_ref *lateral,
                         struct sql_tableinfo **tio, struct sql_datum **rows,
                         size_t *nrows)
{
    const struct ast_json_table *a = t->jt;
    struct sql_xctx x;
    int rc = sql__xctx_init(&x, s, false);
    if (rc != 0)
        return sql__xerr(&x, rc);
    struct jtx j = {.s = s, .x = &x};
    struct jt_set *top;
    if ((rc = compile_set(&j, &a->path, a->cols, &top)) != 0)
        return rc;
    uint32_t ncols = j.width;
    if (lateral)
        j.width++; /* the document, last */
    struct sql_tableinfo *ti = sql__arena_zalloc(s->arena, sizeof(*ti));
    if (!ti || !(ti->cols = sql__arena_zalloc(s->arena,
                                              sizeof(*ti->cols) * j.width)) ||
        !(j.row = sql__arena_zalloc(s->arena, sizeof(*j.row) * j.width)))
        return -ENOMEM;
    ti->id = SQL_DERIVED_ID;
    ti->name = t->alias;
    ti->handle_col = -1;
    ti->pk_handle_idx = -1;
    ti->ncols = j.width;
    j.ti = ti;
    if ((rc = set_types(&j, top)) != 0)
        return rc;
    /* The documents: the one constant, or each distinct one the FROM
     * items before it give (a query over them, run now). */
    struct sql_datum *docs = NULL, one;
    size_t ndocs = 1;
    if (!lateral) {
        if ((rc = sql__eval_const(s, a->doc, &one, NULL, 0)) != 0)
            return rc;
        docs = &one;
    } else {
        struct ast_item *it = sql__arena_zalloc(s->arena, sizeof(*it));
        struct ast_select *q = sql__arena_zalloc(s->arena, sizeof(*q));
        if (!it || !q)
            return -ENOMEM;
        it->expr = a->doc;
        q->kind = AST_SEL_SIMPLE;
        q->distinct = true;
        q->items = it;
        q->from = (struct ast_table_ref *)lateral;
        q->height = a->doc->height;
        struct plan *p;
        if ((rc = sql__plan_select_in(s, q, NULL, NULL, NULL, &p)) != 0 ||
            (rc = sql__plan_rows_now(s, p, &docs, &ndocs)) != 0)
            return rc;
        struct sql_colinfo *kc = &ti->cols[ncols];
        kc->id = ncols + 1;
        kc->name = jt_key_col;
        kc->type = p->cols[0].type;
    }
    for (size_t d = 0; d < ndocs && rc == 0; d++) {
        const uint8_t *b;
        if ((rc = doc_of(&j, &docs[d], &b)) != 0 || !b)
            continue;
        if (lateral)
            j.row[ncols] = docs[d];
        size_t made;
        rc = run_set(&j, top, b, &made);
    }
    if (rc != 0)
        return rc;
    *tio = ti;
    *rows = j.rows;
    *nrows = j.nrows;
    return 0;
}

struct ast_expr *sql__json_table_on(struct sql_session *s,
                                    const struct ast_table_ref *t,
                                    struct ast_expr *on)
{
    struct ast_expr *col = sql__arena_zalloc(s->arena, sizeof(*col));
    struct ast_expr *eq = sql__arena_zalloc(s->arena, sizeof(*eq));
    struct ast_expr *doc = sql__arena_zalloc(s->arena, sizeof(*doc));
    if (!col || !eq || !doc)
        return NULL;
    *doc = *t->jt->doc;
    doc->next = NULL;
    col->kind = AST_E_COLUMN;
    col->table = t->alias;
    col->name = jt_key_col;
    col->height = 1;
    eq->kind = AST_E_BINARY;
    eq->op = AST_OP_EQ;
    eq->a = col;
    eq->b = doc;
    eq->height = doc->height + 1;
    if (!on)
        return eq;
    struct ast_expr *and = sql__arena_zalloc(s->arena, sizeof(*and));
    struct ast_expr *on1 = sql__arena_zalloc(s->arena, sizeof(*on1));
    if (!and || !on1)
        return NULL;
    *on1 = *on;
    on1->next = NULL;
    eq->next = on1;
    and->kind = AST_E_LOGIC;
    and->op = AST_OP_AND;
    and->args = eq;
    and->height = (eq->height > on1->height ? eq->height : on1->height) + 1;
    return and;
}

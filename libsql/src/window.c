/* window.c: window functions (MySQL 8.0 "Window Functions"): planning the
 * calls of a query's select list and ORDER BY into one Window operator
 * below the projection, and that operator, which keeps its input, sorts
 * it once per distinct (PARTITION BY, ORDER BY) and computes every
 * function per partition. DESIGN.md "Window functions".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decimal.h"
#include "exec_int.h"
#include "expr_int.h"
#include "sql_int.h"

enum wf_kind
{
    WF_NONE,         /* a call the query never compiled: NULL */
    WF_ROW_NUMBER,   /* ROW_NUMBER() */
    WF_RANK,         /* RANK() */
    WF_DENSE_RANK,   /* DENSE_RANK() */
    WF_PERCENT_RANK, /* PERCENT_RANK() */
    WF_CUME_DIST,    /* CUME_DIST() */
    WF_NTILE,        /* NTILE(n) */
    WF_LAG,          /* LAG(x [, n [, default]]) */
    WF_LEAD,         /* LEAD(x [, n [, default]]) */
    WF_FIRST_VALUE,  /* FIRST_VALUE(x) */
    WF_LAST_VALUE,   /* LAST_VALUE(x) */
    WF_NTH_VALUE,    /* NTH_VALUE(x, n) */
    WF_AGG,          /* an aggregate over the frame */
};

static const struct
{
    const char *name; /* upper case */
    int kind;         /* enum wf_kind */
    int min, max;     /* argument counts */
} wf_names[] = {
    {"ROW_NUMBER", WF_ROW_NUMBER, 0, 0},
    {"RANK", WF_RANK, 0, 0},
    {"DENSE_RANK", WF_DENSE_RANK, 0, 0},
    {"PERCENT_RANK", WF_PERCENT_RANK, 0, 0},
    {"CUME_DIST", WF_CUME_DIST, 0, 0},
    {"NTILE", WF_NTILE, 1, 1},
    {"LAG", WF_LAG, 1, 3},
    {"LEAD", WF_LEAD, 1, 3},
    {"FIRST_VALUE", WF_FIRST_VALUE, 1, 1},
    {"LAST_VALUE", WF_LAST_VALUE, 1, 1},
    {"NTH_VALUE", WF_NTH_VALUE, 2, 2},
};

/* One frame bound, compiled: the offset a constant expression. */
struct win_bound
{
    int kind;              /* enum ast_bound_kind */
    struct sql_expr *n;    /* n PRECEDING / FOLLOWING, else NULL */
    struct sql_expr *add;  /* RANGE INTERVAL bounds: key + INTERVAL .. */
    struct sql_expr *sub;  /* ... and key - INTERVAL .. (row: the key) */
};

/* One distinct (PARTITION BY, ORDER BY): one sort of the rows. */
struct win_spec
{
    const char *text;        /* canonical text of both lists */
    struct sql_expr **keys;  /* partition keys, then order keys */
    struct sql_ftype *ktypes; /* their static types */
    bool *desc;              /* DESC per key */
    size_t npart;            /* partition keys */
    size_t nkeys;            /* all keys */
};

struct win_func
{
    int kind;                /* enum wf_kind */
    const char *name;        /* lower case, for messages */
    const char *wname;       /* its window's name for messages */
    size_t spec;             /* index of its win_spec */
    struct sql_agg *agg;     /* WF_AGG: the aggregate */
    struct sql_expr *arg;    /* the value argument (LAG ... NTH_VALUE) */
    struct sql_expr *def;    /* LAG/LEAD default, or NULL */
    struct sql_expr *num;    /* NTILE n, LAG/LEAD offset, NTH_VALUE n */
    int unit;                /* enum ast_frame_unit (NONE: the default) */
    struct win_bound start;  /* frame start */
    struct win_bound end;    /* frame end */
    struct sql_ftype type;   /* result type */
    int vt;                  /* LAG/LEAD: the class values convert to when
                                the default's class differs, else -1 */
};

struct plan_window
{
    struct win_func *f;      /* one per result column */
    size_t nf;               /* their count (the first nf output columns) */
    struct win_spec *sp;     /* distinct windows */
    size_t nsp, capsp;       /* their count and allocation */
    size_t nin;              /* input columns (output nf..nf+nin) */
};

struct plan_wbuild
{
    struct sql_session *s;          /* errors, arena */
    const struct ast_select *sel;   /* its WINDOW clause */
    struct sql_expr_scope inner;    /* the rows below the operator */
    struct plan_window *w;          /* what is built */
    const char **texts;             /* each call's canonical text */
    bool *done;                     /* each call compiled */
};

/* ---- finding the calls -------------------------------------------------- */

static bool is_window_call(const struct ast_expr *e)
{
    return e->kind == AST_E_FUNC && e->over != NULL;
}

static int collect(struct plan_wbuild *b, const struct ast_expr *e,
                   size_t *n, bool count_only)
{
    if (!e || e->kind == AST_E_SUBQUERY || e->kind == AST_E_EXISTS)
        return 0;
    if (is_window_call(e)) {
        if (count_only) { /* an upper bound: repeated calls count */
            ++*n;
            return 0;
        }
        const char *t = sql__ast_print_expr(b->s->arena, e);
        if (!t)
            return -ENOMEM; /* not "": no call would match it */
        for (size_t i = 0; i < *n; i++)
            if (strcmp(b->texts[i], t) == 0)
                return 0;
        b->texts[(*n)++] = t;
        return 0;
    }
    int rc = collect(b, e->a, n, count_only);
    if (rc == 0)
        rc = collect(b, e->b, n, count_only);
    if (rc == 0)
        rc = collect(b, e->c, n, count_only);
    for (const struct ast_expr *x = e->args; x && rc == 0; x = x->next)
        rc = collect(b, x, n, count_only);
    for (const struct ast_when *w = e->whens; w && rc == 0; w = w->next) {
        rc = collect(b, w->cond, n, count_only);
        if (rc == 0)
            rc = collect(b, w->then, n, count_only);
    }
    return rc;
}

static size_t walk_query(struct plan_wbuild *b, bool count_only)
{
    size_t n = 0;
    for (const struct ast_item *it = b->sel->items; it; it = it->next)
        collect(b, it->expr, &n, count_only);
    for (const struct ast_order *o = b->sel->order; o; o = o->next)
        collect(b, o->expr, &n, count_only);
    return n;
}

bool sql__ast_has_window(const struct ast_expr *e)
{
    if (!e || e->kind == AST_E_SUBQUERY || e->kind == AST_E_EXISTS)
        return false;
    if (is_window_call(e))
        return true;
    if (sql__ast_has_window(e->a) || sql__ast_has_window(e->b) ||
        sql__ast_has_window(e->c))
        return true;
    for (const struct ast_expr *x = e->args; x; x = x->next)
        if (sql__ast_has_window(x))
            return true;
    for (const struct ast_when *w = e->whens; w; w = w->next)
        if (sql__ast_has_window(w->cond) || sql__ast_has_window(w->then))
            return true;
    return false;
}

int sql__window_misuse(const char *name, struct sql_err *err)
{
    char low[64];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof low; i++)
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32
                                                          : name[i]);
    low[i] = '\0';
    return sql__err(err, 3593, "HY000",
                    "You cannot use the window function '%s' in this "
                    "context.'", low);
}

/* ---- named windows -------------------------------------------------------- */

static const struct ast_window *named(const struct ast_select *sel,
                                      const char *name)
{
    for (const struct ast_window *w = sel->windows; w; w = w->next)
        if (strcasecmp(w->name, name) == 0)
            return w;
    return NULL;
}

/* w merged with the windows it builds on into *out, checked as MySQL
 * does (3579-3583). */
static int resolve(struct plan_wbuild *b, const struct ast_window *w,
                   struct ast_window *out, int depth)
{
    struct sql_session *s = b->s;
    const char *wname = w->name ? w->name : "<unnamed window>";
    memset(out, 0, sizeof(*out));
    if (depth > 64)
        return sql__serr(s, 3580, "HY000", "There is a circularity in the "
                                           "window dependency graph.");
    if (w->ref) {
        const struct ast_window *r = named(b->sel, w->ref);
        if (!r)
            return sql__serr(s, 3579, "HY000",
                             "Window name '%.64s' is not defined.", w->ref);
        int rc = resolve(b, r, out, depth + 1);
        if (rc != 0)
            return rc;
        if (w->bare)
            return 0;
        if (w->partition)
            return sql__serr(s, 3581, "HY000",
                             "A window which depends on another cannot "
                             "define partitioning.");
        if (out->unit != AST_FRAME_NONE)
            return sql__serr(s, 3582, "HY000",
                             "Window '%.64s' has a frame definition, so "
                             "cannot be referenced by another window.",
                             w->ref);
        if (w->order && out->order)
            return sql__serr(s, 3583, "HY000",
                             "Window '%.64s' cannot inherit '%.64s' since "
                             "both contain an ORDER BY clause.",
                             wname, w->ref);
    }
    if (w->partition)
        out->partition = w->partition;
    if (w->order)
        out->order = w->order;
    if (w->unit != AST_FRAME_NONE) {
        out->unit = w->unit;
        out->start = w->start;
        out->end = w->end;
    }
    out->name = w->name;
    return 0;
}

/* ---- compiling one call ------------------------------------------------- */

static int compile_in(struct plan_wbuild *b, const struct ast_expr *e,
                      struct sql_expr **out, struct sql_ftype *type)
{
    struct sql_err err = {0};
    struct sql_ftype t;
    int rc = sql__expr_compile(b->s->arena, e, &b->inner, out,
                               type ? type : &t, &err);
    if (rc == SQL_EQUERY)
        b->s->err = err;
    return rc;
}

static bool const_ast(struct plan_wbuild *b, const struct ast_expr *e,
                      struct sql_expr **out)
{
    struct sql_expr_scope none = {0};
    struct sql_err err;
    struct sql_ftype t;
    if (sql__expr_compile(b->s->arena, e, &none, out, &t, &err) != 0)
        return false;
    return e->kind == AST_E_PARAM || sql__expr_is_const(*out);
}

static int spec_of(struct plan_wbuild *b, const struct ast_window *w,
                   size_t *out)
{
    struct sql_session *s = b->s;
    struct plan_window *pw = b->w;
    struct sql__buf t = {0};
    size_t np = 0, no = 0;
    for (const struct ast_order *o = w->partition; o; o = o->next, np++) {
        const char *x = sql__plan_text(s, o->expr);
        sql__buf_put(&t, x, strlen(x));
        sql__buf_put(&t, ",", 1);
    }
    sql__buf_put(&t, "|", 1);
    for (const struct ast_order *o = w->order; o; o = o->next, no++) {
        const char *x = sql__plan_text(s, o->expr);
        sql__buf_put(&t, x, strlen(x));
        sql__buf_put(&t, o->desc ? " desc," : ",", o->desc ? 6 : 1);
    }
    const char *text =
        t.p ? sql__arena_strndup(s->arena, (const char *)t.p, t.len) : NULL;
    sql__buf_free(&t);
    if (!text)
        return -ENOMEM;
    for (size_t i = 0; i < pw->nsp; i++)
        if (strcmp(pw->sp[i].text, text) == 0) {
            *out = i;
            return 0;
        }
    if (pw->nsp == pw->capsp) {
        size_t cap = pw->capsp ? pw->capsp * 2 : 4;
        struct win_spec *n = sql__arena_zalloc(s->arena, sizeof(*n) * cap);
        if (!n)
            return -ENOMEM;
        if (pw->nsp)
            memcpy(n, pw->sp, sizeof(*n) * pw->nsp);
        pw->sp = n;
        pw->capsp = cap;
    }
    struct win_spec *sp = &pw->sp[pw->nsp];
    memset(sp, 0, sizeof(*sp));
    sp->text = text;
    sp->npart = np;
    sp->nkeys = np + no;
    sp->keys = sql__arena_zalloc(s->arena, sizeof(*sp->keys) * (np + no + 1));
    sp->ktypes =
        sql__arena_zalloc(s->arena, sizeof(*sp->ktypes) * (np + no + 1));
    sp->desc = sql__arena_zalloc(s->arena, sizeof(bool) * (np + no + 1));
    if (!sp->keys || !sp->ktypes || !sp->desc)
        return -ENOMEM;
    size_t k = 0;
    int rc = 0;
    for (const struct ast_order *o = w->partition; o && rc == 0; o = o->next)
        rc = compile_in(b, o->expr, &sp->keys[k], &sp->ktypes[k]), k++;
    for (const struct ast_order *o = w->order; o && rc == 0; o = o->next) {
        sp->desc[k] = o->desc;
        rc = compile_in(b, o->expr, &sp->keys[k], &sp->ktypes[k]);
        k++;
    }
    if (rc != 0)
        return rc;
    *out = pw->nsp++;
    return 0;
}

/* The window's one ORDER BY key as the only column of a row (INTERVAL
 * bounds compute key +/- INTERVAL over it). */
static int key_column(void *ctx, const struct ast_expr *col,
                      struct sql_colref *out, struct sql_err *err)
{
    (void)err;
    if (strcmp(col->name, "#window key") != 0)
        return SQL_ENOTFOUND;
    out->index = 0;
    out->type = *(const struct sql_ftype *)ctx;
    return 0;
}

static int interval_bound(struct plan_wbuild *b, const struct ast_expr *iv,
                          const struct sql_ftype *kt, struct win_bound *out,
                          const char *wname)
{
    struct sql_expr *c;
    if (!const_ast(b, iv->a, &c))
        return sql__serr(b->s, 3590, "HY000",
                         "Window '%.64s' has a non-constant frame bound.",
                         wname);
    struct ast_expr col = {.kind = AST_E_COLUMN, .name = "#window key",
                           .height = 1};
    struct ast_expr e = {.kind = AST_E_BINARY, .a = &col,
                         .b = (struct ast_expr *)iv, .height = iv->height + 1};
    struct sql_expr_scope sc = {.ctx = (void *)kt, .column = key_column};
    struct sql_err err = {0};
    struct sql_ftype t;
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        e.op = k ? AST_OP_SUB : AST_OP_ADD;
        rc = sql__expr_compile(b->s->arena, &e, &sc, k ? &out->sub : &out->add,
                               &t, &err);
    }
    if (rc == SQL_EQUERY)
        b->s->err = err;
    return rc;
}

static int frame_bound(struct plan_wbuild *b, const struct ast_window *w,
                       const struct ast_bound *ab, struct win_bound *out,
                       const char *wname, const struct win_spec *sp)
{
    out->kind = ab->kind;
    if (!ab->n)
        return 0;
    if (ab->n->kind == AST_E_INTERVAL) {
        if (w->unit == AST_FRAME_ROWS)
            return sql__serr(b->s, 3596, "HY000",
                             "Window '%.64s': INTERVAL can only be used "
                             "with RANGE frames.", wname);
        size_t no = sp->nkeys - sp->npart;
        int vt = no == 1 ? sql__ftype_vt(&sp->ktypes[sp->npart]) : -1;
        if (vt != SQL_VT_DATE && vt != SQL_VT_DATETIME && vt != SQL_VT_TIME)
            return no == 1 && vt != SQL_VT_STRING
                       ? sql__serr(b->s, 3589, "HY000",
                                   "Window '%.64s' with RANGE frame has "
                                   "ORDER BY expression of numeric type, "
                                   "INTERVAL bound value not allowed.", wname)
                       : sql__serr(b->s, 3587, "HY000",
                                   "Window '%.64s' with RANGE N "
                                   "PRECEDING/FOLLOWING frame requires "
                                   "exactly one ORDER BY expression, of "
                                   "numeric or temporal type", wname);
        return interval_bound(b, ab->n, &sp->ktypes[sp->npart], out, wname);
    }
    if (!const_ast(b, ab->n, &out->n))
        return sql__serr(b->s, 3590, "HY000",
                         "Window '%.64s' has a non-constant frame bound.",
                         wname);
    return 0;
}

static int check_frame(struct plan_wbuild *b, const struct ast_window *w,
                       struct win_func *f, const struct win_spec *sp)
{
    const char *wname = f->wname;
    struct sql_session *s = b->s;
    f->unit = w->unit;
    if (w->unit == AST_FRAME_NONE) {
        f->start.kind = AST_B_UNBOUNDED_PRECEDING;
        f->end.kind = AST_B_CURRENT;
        f->unit = AST_FRAME_RANGE;
        return 0;
    }
    if (w->start.kind == AST_B_UNBOUNDED_FOLLOWING)
        return sql__serr(s, 3584, "HY000",
                         "Window '%.64s': frame start cannot be UNBOUNDED "
                         "FOLLOWING.", wname);
    if (w->end.kind == AST_B_UNBOUNDED_PRECEDING)
        return sql__serr(s, 3585, "HY000",
                         "Window '%.64s': frame end cannot be UNBOUNDED "
                         "PRECEDING.", wname);
    int rc = frame_bound(b, w, &w->start, &f->start, wname, sp);
    if (rc == 0)
        rc = frame_bound(b, w, &w->end, &f->end, wname, sp);
    if (rc != 0)
        return rc;
    if (w->unit == AST_FRAME_RANGE && (f->start.n || f->end.n)) {
        size_t no = sp->nkeys - sp->npart;
        int vt = no == 1 ? sql__ftype_vt(&sp->ktypes[sp->npart]) : -1;
        if (vt == SQL_VT_DATE || vt == SQL_VT_DATETIME || vt == SQL_VT_TIME)
            return sql__serr(s, 3588, "HY000",
                             "Window '%.64s' with RANGE frame has ORDER BY "
                             "expression of datetime type. Only INTERVAL "
                             "bound value allowed.", wname);
        if (vt != SQL_VT_INT && vt != SQL_VT_UINT && vt != SQL_VT_DECIMAL &&
            vt != SQL_VT_DOUBLE)
            return sql__serr(s, 3587, "HY000",
                             "Window '%.64s' with RANGE N PRECEDING/FOLLOWING "
                             "frame requires exactly one ORDER BY expression, "
                             "of numeric or temporal type", wname);
    }
    return 0;
}

static int compile_call(struct plan_wbuild *b, const struct ast_expr *e,
                        struct win_func *f)
{
    struct sql_session *s = b->s;
    struct ast_window w;
    int rc = resolve(b, e->over, &w, 0);
    if (rc != 0)
        return rc;
    f->wname = e->over->bare && e->over->ref ? e->over->ref
               : w.name                      ? w.name
                                             : "<unnamed window>";
    f->vt = -1;
    int nargs = 0;
    for (const struct ast_expr *a = e->args; a; a = a->next)
        nargs++;
    const char *lname = e->name;
    char low[32];
    size_t i = 0;
    for (; lname[i] && i + 1 < sizeof low; i++)
        low[i] = (char)(lname[i] >= 'A' && lname[i] <= 'Z' ? lname[i] + 32
                                                            : lname[i]);
    low[i] = '\0';
    if (!(f->name = sql__arena_strndup(s->arena, low, i)))
        return -ENOMEM;
    f->kind = WF_AGG;
    for (size_t k = 0; k < sizeof wf_names / sizeof wf_names[0]; k++) {
        if (strcmp(wf_names[k].name, e->name) != 0)
            continue;
        f->kind = wf_names[k].kind;
        if (nargs < wf_names[k].min || nargs > wf_names[k].max)
            return sql__serr(s, 1582, "42000",
                             "Incorrect parameter count in the call to "
                             "native function '%s'", e->name);
    }
    if ((rc = spec_of(b, &w, &f->spec)) != 0 ||
        (rc = check_frame(b, &w, f, &b->w->sp[f->spec])) != 0)
        return rc;
    const struct ast_expr *a1 = e->args, *a2 = a1 ? a1->next : NULL;
    const struct ast_expr *a3 = a2 ? a2->next : NULL;
    switch (f->kind) {
    case WF_AGG: {
        struct sql_err err = {0};
        rc = sql__agg_compile(s->arena, e, &b->inner, &f->agg, &f->type,
                              &err);
        if (rc == SQL_EQUERY)
            s->err = err;
        return rc;
    }
    case WF_ROW_NUMBER:
    case WF_RANK:
    case WF_DENSE_RANK:
        sql__ftype_of_vt(&f->type, SQL_VT_INT, 0, 0);
        return 0;
    case WF_PERCENT_RANK:
    case WF_CUME_DIST:
        sql__ftype_of_vt(&f->type, SQL_VT_DOUBLE, 0, -1);
        return 0;
    case WF_NTILE:
        sql__ftype_of_vt(&f->type, SQL_VT_INT, 0, 0);
        if (!const_ast(b, a1, &f->num))
            return sql__serr(s, 1210, "HY000",
                             "Incorrect arguments to ntile");
        return 0;
    default:
        break;
    }
    if ((rc = compile_in(b, a1, &f->arg, &f->type)) != 0)
        return rc;
    if (a2 && !const_ast(b, a2, &f->num))
        return sql__serr(s, 1210, "HY000", "Incorrect arguments to %s",
                         f->name);
    if (a3) {
        struct sql_ftype dt;
        if ((rc = compile_in(b, a3, &f->def, &dt)) != 0)
            return rc;
        int av = sql__ftype_vt(&f->type), dv = sql__ftype_vt(&dt);
        if (dv != SQL_VT_NULL && av != dv) {
            f->vt = sql__vt_merge(av, dv);
            sql__ftype_of_vt(&f->type, f->vt, f->type.coll, -1);
        }
    }
    f->type.flags &= (uint16_t)~SQL_COLFLAG_NOT_NULL;
    return 0;
}

/* ---- the scope around the rows below ------------------------------------- */

static int wcolumn(void *ctx, const struct ast_expr *col,
                   struct sql_colref *out, struct sql_err *err)
{
    struct plan_wbuild *b = ctx;
    int rc = b->inner.column(b->inner.ctx, col, out, err);
    if (rc == 0 && out->index < SQL_EXPR_OUTER)
        out->index += (uint32_t)b->w->nf;
    return rc;
}

static int wsubtree(void *ctx, const struct ast_expr *e,
                    struct sql_colref *out, struct sql_err *err)
{
    struct plan_wbuild *b = ctx;
    if (!is_window_call(e)) {
        if (!b->inner.subtree)
            return SQL_ENOTFOUND;
        int rc = b->inner.subtree(b->inner.ctx, e, out, err);
        if (rc == 0 && out->index < SQL_EXPR_OUTER)
            out->index += (uint32_t)b->w->nf;
        return rc;
    }
    const char *t = sql__ast_print_expr(b->s->arena, e);
    if (!t)
        return -ENOMEM; /* "" would read as a misused window function */
    size_t k = 0;
    while (k < b->w->nf && strcmp(b->texts[k], t) != 0)
        k++;
    if (k == b->w->nf) /* not in the select list or ORDER BY: HAVING */
        return sql__window_misuse(e->name, err);
    if (!b->done[k]) {
        int rc = compile_call(b, e, &b->w->f[k]);
        if (rc != 0) {
            if (rc == SQL_EQUERY)
                *err = b->s->err;
            return rc;
        }
        b->done[k] = true;
    }
    out->index = (uint32_t)k;
    out->type = b->w->f[k].type;
    return 0;
}

int sql__plan_window_begin(struct sql_session *s,
                           const struct ast_select *sel,
                           struct sql_expr_scope *scope,
                           struct plan_wbuild **out)
{
    *out = NULL;
    struct plan_wbuild probe = {.s = s, .sel = sel};
    for (const struct ast_window *w = sel->windows; w; w = w->next) {
        for (const struct ast_window *v = sel->windows; v != w; v = v->next)
            if (strcasecmp(v->name, w->name) == 0)
                return sql__serr(s, 3591, "HY000",
                                 "Window '%.64s' is defined twice.", w->name);
        struct ast_window m;
        int rc = resolve(&probe, w, &m, 0);
        if (rc != 0)
            return rc;
    }
    size_t n = walk_query(&probe, true);
    if (n == 0)
        return 0;
    struct plan_wbuild *b = sql__arena_zalloc(s->arena, sizeof(*b));
    if (!b)
        return -ENOMEM;
    *b = probe;
    b->inner = *scope;
    b->w = sql__arena_zalloc(s->arena, sizeof(*b->w));
    b->texts = sql__arena_zalloc(s->arena, sizeof(*b->texts) * n);
    b->done = sql__arena_zalloc(s->arena, sizeof(bool) * n);
    if (!b->w || !b->texts || !b->done)
        return -ENOMEM;
    b->w->f = sql__arena_zalloc(s->arena, sizeof(*b->w->f) * n);
    if (!b->w->f)
        return -ENOMEM;
    b->w->nf = walk_query(b, false);
    scope->ctx = b;
    scope->column = wcolumn;
    scope->subtree = wsubtree;
    *out = b;
    return 0;
}

int sql__plan_window_end(struct sql_session *s, struct plan_wbuild *b,
                         struct plan *pr)
{
    struct plan_window *w = b->w;
    struct plan *in = pr->child;
    struct plan *p = sql__arena_zalloc(s->arena, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->kind = PL_WINDOW;
    p->child = in;
    p->win = w;
    w->nin = in->ncols;
    p->ncols = p->nvisible = w->nf + in->ncols;
    p->cols = sql__arena_zalloc(s->arena, sizeof(*p->cols) * p->ncols);
    if (!p->cols)
        return -ENOMEM;
    struct sql__buf t = {0};
    for (size_t i = 0; i < w->nf; i++) {
        struct plan_col *c = &p->cols[i];
        c->name = c->org_name = c->table = c->org_table = c->db = "";
        c->type = w->f[i].type;
        sql__buf_put(&t, b->texts[i], strlen(b->texts[i]));
        if (i + 1 < w->nf)
            sql__buf_put(&t, ", ", 2);
    }
    if (in->ncols)
        memcpy(p->cols + w->nf, in->cols, sizeof(*p->cols) * in->ncols);
    p->info = t.p ? sql__arena_strndup(s->arena, (const char *)t.p, t.len)
                  : "";
    sql__buf_free(&t);
    if (!p->info)
        return -ENOMEM;
    pr->child = p;
    return 0;
}

/* ---- the operator ----------------------------------------------------------- */

/* What computing one window needs. */
struct wrun
{
    struct sql_xctx *x;          /* evaluation, errors */
    const struct plan_window *w; /* the functions */
    struct sql_datum *in;        /* input rows, nin wide */
    size_t nin;                  /* their width */
    size_t nrows;                /* their count */
    struct sql_datum *res;       /* results, nf per input row */
    struct sql_arena *keep;      /* where results' bytes go */
    struct sql_arena *tmp;       /* per spec: keys, order */
    struct sql_arena *sa;        /* aggregate states */
    struct sql_arena *ea;        /* evaluation bytes of one row */
    const struct win_spec *sp;   /* the window being computed */
    struct sql_datum *kv;        /* its key values, nkeys per input row */
    size_t *idx;                 /* input rows in its order */
    size_t *pstart, *pend;       /* per position: its peers' range */
    struct sql_datum roff[2];    /* the function's RANGE offsets (start,
                                    end) */
    int rc;                      /* first comparison error */
};

static int key_cmp(struct wrun *r, size_t i, size_t j, size_t from,
                   size_t to, bool use_desc)
{
    const struct win_spec *sp = r->sp;
    for (size_t k = from; k < to; k++) {
        const struct sql_datum *a = &r->kv[i * sp->nkeys + k];
        const struct sql_datum *b = &r->kv[j * sp->nkeys + k];
        int c;
        if (a->vt == SQL_VT_NULL || b->vt == SQL_VT_NULL)
            c = (a->vt != SQL_VT_NULL) - (b->vt != SQL_VT_NULL);
        else {
            struct sql_err err;
            uint16_t coll = sp->ktypes[k].coll;
            if (sql__datum_cmp(a, b, coll ? coll : SQL_COLL_BINARY, &c,
                               &err) != 0) {
                if (r->rc == 0) {
                    r->rc = SQL_EQUERY;
                    r->x->err = err;
                }
                c = 0;
            }
        }
        if (c != 0)
            return use_desc && sp->desc[k] ? -c : c;
    }
    return 0;
}

static int sort_cmp(const void *a, const void *b, void *arg)
{
    struct wrun *r = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = key_cmp(r, i, j, 0, r->sp->nkeys, true);
    return c ? c : (i > j) - (i < j); /* stable */
}

static int eval_keep(struct wrun *r, const struct sql_expr *e, size_t row,
                     struct sql_datum *out)
{
    int rc = sql__expr_eval(e, &r->x->ev, r->in + row * r->nin, out);
    if (rc == 0 && sql__datum_copy(r->keep, out) != 0)
        rc = -ENOMEM;
    return rc;
}

/* A constant argument as a non-negative integer (min 0 or 1). */
static int const_count(struct wrun *r, const struct sql_expr *e, int64_t min,
                       const char *what, int64_t *out)
{
    struct sql_datum d;
    int rc = sql__expr_eval(e, &r->x->ev, NULL, &d);
    if (rc != 0)
        return rc;
    bool ok = d.vt == SQL_VT_INT || d.vt == SQL_VT_UINT;
    if (d.vt == SQL_VT_DECIMAL || d.vt == SQL_VT_DOUBLE ||
        d.vt == SQL_VT_STRING) {
        int64_t v;
        (void)sql__to_int(&r->x->ev, &d, &v);
        struct sql_datum back;
        sql__datum_int(&back, v);
        int c = 1;
        struct sql_err err;
        ok = sql__datum_cmp(&d, &back, SQL_COLL_BINARY, &c, &err) == 0 &&
             c == 0;
        d = back;
    }
    if (d.vt == SQL_VT_UINT && d.v.u > INT64_MAX) {
        d.vt = SQL_VT_INT;
        d.v.i = INT64_MAX;
    }
    if (!ok || d.v.i < min)
        return sql__err(&r->x->err, 1210, "HY000",
                        "Incorrect arguments to %s", what);
    *out = d.v.i;
    return 0;
}

/* A RANGE offset: a number, not negative (else non-zero). */
static int range_offset(struct wrun *r, const struct sql_expr *e,
                        struct sql_datum *out)
{
    int rc = sql__expr_eval(e, &r->x->ev, NULL, out);
    if (rc != 0)
        return rc;
    struct sql_datum zero;
    sql__datum_int(&zero, 0);
    int c = -1;
    struct sql_err err;
    if ((out->vt != SQL_VT_INT && out->vt != SQL_VT_UINT &&
         out->vt != SQL_VT_DECIMAL && out->vt != SQL_VT_DOUBLE) ||
        sql__datum_cmp(out, &zero, SQL_COLL_BINARY, &c, &err) != 0 || c < 0)
        return SQL_EQUERY;
    return 0;
}

/* The row of a RANGE bound: v +/- the offset, compared with the keys. */
static int range_target(struct wrun *r, const struct sql_datum *v,
                        const struct sql_datum *off, bool add,
                        struct sql_datum *out)
{
    struct sql_eval *ev = &r->x->ev;
    int64_t sum;
    if (v->vt == SQL_VT_INT && off->vt == SQL_VT_INT &&
        !(add ? __builtin_add_overflow(v->v.i, off->v.i, &sum)
              : __builtin_sub_overflow(v->v.i, off->v.i, &sum))) {
        sql__datum_int(out, sum); /* the common case, without DECIMAL */
        return 0;
    }
    if (v->vt == SQL_VT_DOUBLE || off->vt == SQL_VT_DOUBLE) {
        double a, b;
        sql__to_double(ev, v, &a);
        sql__to_double(ev, off, &b);
        sql__datum_double(out, add ? a + b : a - b);
        return 0;
    }
    struct sql_dec a, b;
    sql__to_dec(ev, v, &a);
    sql__to_dec(ev, off, &b);
    out->vt = SQL_VT_DECIMAL;
    (void)(add ? sql__dec_add(&a, &b, &out->v.dec)
               : sql__dec_sub(&a, &b, &out->v.dec));
    return 0;
}

/* For a RANGE offset bound: the first position q in [lo, hi) (sorted,
 * non-NULL keys) where key(q) passes `past` against t (ascending order
 * key: key > t or key >= t; descending: key < t or key <= t). */
static size_t range_seek(struct wrun *r, size_t lo, size_t hi,
                         const struct sql_datum *t, bool strict)
{
    size_t ok = r->sp->npart;
    bool desc = r->sp->desc[ok];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct sql_datum *k = &r->kv[r->idx[mid] * r->sp->nkeys + ok];
        int c = 0;
        struct sql_err err;
        if (sql__datum_cmp(k, t, SQL_COLL_BINARY, &c, &err) != 0)
            c = 0;
        if (desc)
            c = -c;
        bool pass = strict ? c > 0 : c >= 0;
        if (pass)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The frame [*fs, *fe) of position i in partition [ps, pe). */
static void frame(struct wrun *r, const struct win_func *f,
                  const int64_t *offs, size_t ps, size_t pe, size_t i,
                  size_t *fs, size_t *fe)
{
    for (int side = 0; side < 2; side++) {
        const struct win_bound *bd = side == 0 ? &f->start : &f->end;
        int64_t off = offs[side];
        size_t pos;
        switch (bd->kind) {
        case AST_B_UNBOUNDED_PRECEDING:
            pos = ps;
            break;
        case AST_B_UNBOUNDED_FOLLOWING:
            pos = pe;
            break;
        case AST_B_CURRENT:
            if (f->unit == AST_FRAME_ROWS)
                pos = side == 0 ? i : i + 1;
            else
                pos = side == 0 ? r->pstart[i] : r->pend[i];
            break;
        default: {
            bool prec = bd->kind == AST_B_PRECEDING;
            if (f->unit == AST_FRAME_ROWS) {
                int64_t q = (int64_t)i + (prec ? -off : off) + side;
                pos = q < (int64_t)ps   ? ps
                      : q > (int64_t)pe ? pe
                                        : (size_t)q;
                break;
            }
            size_t ok = r->sp->npart;
            const struct sql_datum *v =
                &r->kv[r->idx[i] * r->sp->nkeys + ok];
            if (v->vt == SQL_VT_NULL) { /* NULLs are each other's range */
                pos = side == 0 ? r->pstart[i] : r->pend[i];
                break;
            }
            /* the non-NULL keys: after the NULLs ascending, before them
             * descending */
            size_t lo = ps, hi = pe;
            bool desc = r->sp->desc[ok];
            while (!desc && lo < hi &&
                   r->kv[r->idx[lo] * r->sp->nkeys + ok].vt == SQL_VT_NULL)
                lo++;
            while (desc && hi > lo &&
                   r->kv[r->idx[hi - 1] * r->sp->nkeys + ok].vt ==
                       SQL_VT_NULL)
                hi--;
            struct sql_datum t;
            /* PRECEDING moves against the order, FOLLOWING with it */
            if (bd->add) {
                struct sql_datum k = *v;
                if (sql__expr_eval(prec == desc ? bd->add : bd->sub,
                                   &r->x->ev, &k, &t) != 0 ||
                    t.vt == SQL_VT_NULL) {
                    /* past the calendar's end (start) or before its
                     * beginning: beyond every key that way */
                    pos = (prec == desc) != desc ? hi : lo;
                    break;
                }
            } else {
                (void)range_target(r, v, &r->roff[side], prec == desc, &t);
            }
            pos = range_seek(r, lo, hi, &t, side == 1);
            break;
        }
        }
        if (side == 0)
            *fs = pos;
        else
            *fe = pos;
    }
    if (*fe < *fs)
        *fe = *fs;
}

/* Aggregate f over each row's frame in partition [ps, pe). */
static int agg_part(struct wrun *r, const struct win_func *f, size_t col,
                    const int64_t *offs, size_t ps, size_t pe)
{
    struct sql_eval *ev = &r->x->ev;
    struct sql_agg_state *st = NULL;
    size_t ws = ps, we = ps;
    bool growing = f->start.kind == AST_B_UNBOUNDED_PRECEDING;
    bool sliding = !growing && sql__agg_removable(f->agg);
    int rc = 0;
    sql__arena_reset(r->sa);
    for (size_t i = ps; i < pe && rc == 0; i++) {
        size_t fs, fe;
        frame(r, f, offs, ps, pe, i, &fs, &fe);
        if (growing || sliding) {
            if (!st || fs >= we) {
                if (!st || !growing)
                    sql__arena_reset(r->sa);
                if ((rc = sql__agg_init(f->agg, r->sa, &st)) != 0)
                    break;
                ws = we = fs;
            }
            while (rc == 0 && we < fe)
                rc = sql__agg_update(f->agg, st, ev,
                                     r->in + r->idx[we++] * r->nin);
            while (rc == 0 && sliding && ws < fs)
                rc = sql__agg_remove(f->agg, st, ev,
                                     r->in + r->idx[ws++] * r->nin);
        } else {
            sql__arena_reset(r->sa);
            rc = sql__agg_init(f->agg, r->sa, &st);
            for (size_t q = fs; q < fe && rc == 0; q++)
                rc = sql__agg_update(f->agg, st, ev,
                                     r->in + r->idx[q] * r->nin);
        }
        struct sql_datum *out = &r->res[r->idx[i] * r->w->nf + col];
        if (rc == 0)
            rc = sql__agg_final(f->agg, st, ev, out);
        if (rc == 0 && sql__datum_copy(r->keep, out) != 0)
            rc = -ENOMEM;
        sql__arena_reset(r->ea);
    }
    return rc;
}

static int convert_to(struct wrun *r, const struct win_func *f,
                      struct sql_datum *d)
{
    if (f->vt < 0 || d->vt == SQL_VT_NULL)
        return 0;
    struct sql_datum c;
    int rc = sql__datum_convert(&r->x->ev, d, f->vt, f->type.coll, &c);
    if (rc == 0) {
        *d = c;
        rc = sql__datum_copy(r->keep, d) != 0 ? -ENOMEM : 0;
    }
    return rc;
}

/* Function f (result column col) over partition [ps, pe). */
static int func_part(struct wrun *r, const struct win_func *f, size_t col,
                     const int64_t *offs, int64_t num, size_t ps, size_t pe)
{
    if (f->kind == WF_AGG)
        return agg_part(r, f, col, offs, ps, pe);
    size_t n = pe - ps;
    int64_t dense = 0;
    int rc = 0;
    for (size_t i = ps; i < pe && rc == 0; i++) {
        struct sql_datum *out = &r->res[r->idx[i] * r->w->nf + col];
        size_t fs, fe;
        sql__datum_null(out);
        if (i == r->pstart[i])
            dense++;
        switch (f->kind) {
        case WF_ROW_NUMBER:
            sql__datum_int(out, (int64_t)(i - ps + 1));
            break;
        case WF_RANK:
            sql__datum_int(out, (int64_t)(r->pstart[i] - ps + 1));
            break;
        case WF_DENSE_RANK:
            sql__datum_int(out, dense);
            break;
        case WF_PERCENT_RANK:
            sql__datum_double(out, n > 1 ? (double)(r->pstart[i] - ps) /
                                               (double)(n - 1)
                                         : 0.0);
            break;
        case WF_CUME_DIST:
            sql__datum_double(out, (double)(r->pend[i] - ps) / (double)n);
            break;
        case WF_NTILE: {
            /* the first n % num buckets hold one row more */
            uint64_t q = n / (uint64_t)num, rem = n % (uint64_t)num;
            uint64_t k = i - ps, big = rem * (q + 1);
            sql__datum_int(out, (int64_t)(k < big ? k / (q + 1)
                                                  : rem + (k - big) / q) + 1);
            break;
        }
        case WF_LAG:
        case WF_LEAD: {
            bool in = f->kind == WF_LAG ? (uint64_t)num <= i - ps
                                        : (uint64_t)num < pe - i;
            if (in)
                rc = eval_keep(r, f->arg,
                               r->idx[f->kind == WF_LAG ? i - (size_t)num
                                                        : i + (size_t)num],
                               out);
            else if (f->def)
                rc = eval_keep(r, f->def, r->idx[i], out);
            if (rc == 0)
                rc = convert_to(r, f, out);
            break;
        }
        case WF_FIRST_VALUE:
        case WF_LAST_VALUE:
        case WF_NTH_VALUE:
            frame(r, f, offs, ps, pe, i, &fs, &fe);
            if (f->kind == WF_NTH_VALUE && fs + (size_t)num - 1 < fe)
                rc = eval_keep(r, f->arg, r->idx[fs + (size_t)num - 1], out);
            else if (f->kind == WF_FIRST_VALUE && fs < fe)
                rc = eval_keep(r, f->arg, r->idx[fs], out);
            else if (f->kind == WF_LAST_VALUE && fs < fe)
                rc = eval_keep(r, f->arg, r->idx[fe - 1], out);
            break;
        default:
            break;
        }
        sql__arena_reset(r->ea);
    }
    return rc;
}

/* The functions of window spec si. */
static int run_spec(struct wrun *r, size_t si)
{
    const struct win_spec *sp = &r->w->sp[si];
    struct sql_eval *ev = &r->x->ev;
    int rc = 0;
    r->sp = sp;
    sql__arena_reset(r->tmp);
    r->kv = sql__arena_alloc(r->tmp, sizeof(*r->kv) *
                                         (r->nrows * sp->nkeys + 1));
    r->idx = sql__arena_alloc(r->tmp, sizeof(size_t) * (r->nrows + 1));
    r->pstart = sql__arena_alloc(r->tmp, sizeof(size_t) * (r->nrows + 1));
    r->pend = sql__arena_alloc(r->tmp, sizeof(size_t) * (r->nrows + 1));
    if (!r->kv || !r->idx || !r->pstart || !r->pend)
        return -ENOMEM;
    for (size_t i = 0; i < r->nrows; i++) {
        r->idx[i] = i;
        for (size_t k = 0; k < sp->nkeys && rc == 0; k++) {
            struct sql_datum *d = &r->kv[i * sp->nkeys + k];
            ev->arena = r->tmp;
            rc = sql__expr_eval(sp->keys[k], ev, r->in + i * r->nin, d);
            ev->arena = r->ea;
        }
        if (rc != 0)
            return rc;
    }
    qsort_r(r->idx, r->nrows, sizeof(size_t), sort_cmp, r);
    if (r->rc != 0)
        return r->rc;
    /* per position, the range of its peers (equal on every key) */
    for (size_t i = 0; i < r->nrows;) {
        size_t j = i + 1;
        while (j < r->nrows &&
               key_cmp(r, r->idx[i], r->idx[j], 0, sp->nkeys, false) == 0)
            j++;
        for (size_t q = i; q < j; q++) {
            r->pstart[q] = i;
            r->pend[q] = j;
        }
        i = j;
    }
    for (size_t fi = 0; fi < r->w->nf && rc == 0; fi++) {
        const struct win_func *f = &r->w->f[fi];
        if (f->kind == WF_NONE || f->spec != si)
            continue;
        int64_t offs[2] = {0, 0}, num = 1;
        for (int side = 0; side < 2 && rc == 0; side++) {
            const struct win_bound *bd = side ? &f->end : &f->start;
            if (!bd->n || bd->add)
                continue;
            if (f->unit == AST_FRAME_ROWS)
                rc = const_count(r, bd->n, 0, "", &offs[side]);
            else
                rc = range_offset(r, bd->n, &r->roff[side]);
            if (rc != 0)
                rc = sql__err(&r->x->err, 3586, "HY000",
                              "Window '%s': frame start or end is negative, "
                              "NULL or of non-integral type", f->wname);
        }
        if (rc == 0 && f->num)
            rc = const_count(r, f->num, f->kind == WF_NTILE ||
                                                f->kind == WF_NTH_VALUE,
                             f->name, &num);
        for (size_t ps = 0; ps < r->nrows && rc == 0;) {
            size_t pe = ps + 1;
            while (pe < r->nrows &&
                   key_cmp(r, r->idx[ps], r->idx[pe], 0, sp->npart, false) ==
                       0)
                pe++;
            rc = func_part(r, f, fi, offs, num, ps, pe);
            ps = pe;
        }
    }
    return rc != 0 ? rc : r->rc;
}

static int window_consume(struct sql_xctx *x, struct sql_xnode *n)
{
    const struct plan_window *w = n->p->win;
    struct sql_chunk *c;
    int rc;
    while ((rc = sql__exec_next(x, n->child, &c)) == 0 && c->n > 0)
        for (size_t i = 0; i < c->n; i++)
            if ((rc = sql__xkeep_row(n, sql__xrow(c, i), w->nin,
                                     c->handles[i])) != 0)
                return rc;
    if (rc != 0)
        return rc;
    struct wrun r = {.x = x, .w = w, .in = n->rows, .nin = w->nin,
                     .nrows = n->nrows, .keep = n->keep};
    r.res = sql__arena_zalloc(n->keep, sizeof(*r.res) *
                                           (n->nrows * w->nf + 1));
    r.tmp = sql__arena_create(0);
    r.sa = sql__arena_create(0);
    r.ea = sql__arena_create(0);
    if (r.tmp && r.sa && r.ea) /* the operator's memory (memtrack.c) */
        r.tmp->track = r.sa->track = r.ea->track = &n->mem;
    if (!r.res || !r.tmp || !r.sa || !r.ea) {
        rc = -ENOMEM;
        goto out;
    }
    struct sql_arena *saved = x->ev.arena;
    x->ev.arena = r.ea;
    for (size_t i = 0; i < n->nrows * w->nf; i++)
        sql__datum_null(&r.res[i]);
    for (size_t si = 0; si < w->nsp && rc == 0; si++)
        rc = run_spec(&r, si);
    x->ev.arena = saved;
    if (rc != 0)
        goto out;
    /* the output: results then input, in the last window's order */
    size_t wide = w->nf + w->nin;
    struct sql_datum *rows =
        sql__arena_alloc(n->keep, sizeof(*rows) * (n->nrows * wide + 1));
    int64_t *hs = sql__arena_alloc(n->keep, sizeof(*hs) * (n->nrows + 1));
    if (!rows || !hs) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t q = 0; q < n->nrows; q++) {
        size_t i = w->nsp ? r.idx[q] : q;
        memcpy(rows + q * wide, r.res + i * w->nf, sizeof(*rows) * w->nf);
        memcpy(rows + q * wide + w->nf, n->rows + i * w->nin,
               sizeof(*rows) * w->nin);
        hs[q] = n->rhandles[i];
    }
    n->rows = rows;
    n->rhandles = hs;
out:
    sql__arena_destroy(r.tmp);
    sql__arena_destroy(r.sa);
    sql__arena_destroy(r.ea);
    return rc == 0 ? 0 : sql__xerr(x, rc);
}

int sql__xwindow_next(struct sql_xctx *x, struct sql_xnode *n, bool first)
{
    int rc;
    if (first && (rc = window_consume(x, n)) != 0)
        return rc;
    size_t nc = n->out.ncols;
    while (n->pos < n->nrows && n->out.n < n->out.cap) {
        memcpy(sql__xrow(&n->out, n->out.n), n->rows + n->pos * nc,
               sizeof(struct sql_datum) * nc);
        n->out.handles[n->out.n++] = n->rhandles[n->pos++];
    }
    if (n->pos == n->nrows)
        n->done = n->out.n == 0;
    return 0;
}

/* agg.c: aggregate functions (COUNT, SUM, AVG, MIN, MAX, GROUP_CONCAT,
 * BIT_AND/OR/XOR, STD/VARIANCE families, ANY_VALUE) with MySQL's result
 * types: SUM of exact numbers is DECIMAL, AVG adds 4 to the scale, an
 * empty group gives COUNT 0 and NULL elsewhere. DISTINCT compares key
 * forms (codec.c), so it follows the argument's collation.
 * DESIGN.md, "Expressions".
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "decimal.h"
#include "expr_int.h"

enum agg_kind
{
    AG_COUNT,
    AG_SUM,
    AG_AVG,
    AG_MIN,
    AG_MAX,
    AG_GROUP_CONCAT,
    AG_BIT_AND,
    AG_BIT_OR,
    AG_BIT_XOR,
    AG_STD_POP,
    AG_STD_SAMP,
    AG_VAR_POP,
    AG_VAR_SAMP,
    AG_ANY_VALUE,
    AG_JSON_ARRAYAGG,  /* added: func_json.c builds the value */
    AG_JSON_OBJECTAGG, /* added */
};

static const struct
{
    const char *name; /* upper case */
    int kind;         /* enum agg_kind */
} agg_names[] = {
    {"COUNT", AG_COUNT},         {"SUM", AG_SUM},
    {"AVG", AG_AVG},             {"MIN", AG_MIN},
    {"MAX", AG_MAX},             {"GROUP_CONCAT", AG_GROUP_CONCAT},
    {"BIT_AND", AG_BIT_AND},     {"BIT_OR", AG_BIT_OR},
    {"BIT_XOR", AG_BIT_XOR},     {"STD", AG_STD_POP},
    {"STDDEV", AG_STD_POP},      {"STDDEV_POP", AG_STD_POP},
    {"STDDEV_SAMP", AG_STD_SAMP}, {"VARIANCE", AG_VAR_POP},
    {"VAR_POP", AG_VAR_POP},     {"VAR_SAMP", AG_VAR_SAMP},
    {"ANY_VALUE", AG_ANY_VALUE},
    {"JSON_ARRAYAGG", AG_JSON_ARRAYAGG}, {"JSON_OBJECTAGG", AG_JSON_OBJECTAGG},
};
#define NAGG (sizeof agg_names / sizeof agg_names[0])

bool sql__agg_is_aggregate(const char *name)
{
    for (size_t i = 0; i < NAGG; i++)
        if (strcasecmp(agg_names[i].name, name) == 0)
            return true;
    return false;
}

struct sql_agg
{
    int kind;                 /* enum agg_kind */
    bool distinct;            /* agg(DISTINCT ...) */
    bool star;                /* COUNT(*) */
    int nargs;                /* arguments */
    struct sql_expr **args;   /* them */
    int norder;               /* GROUP_CONCAT ORDER BY keys */
    struct sql_expr **order;  /* them */
    bool *desc;               /* DESC per key */
    const char *sep;          /* GROUP_CONCAT separator */
    size_t seplen;            /* its bytes */
    bool exact;               /* SUM/AVG in DECIMAL (else DOUBLE) */
    struct sql_ftype type;    /* result type */
    struct sql_ftype *atypes; /* argument types (DISTINCT keys) */
    const struct ast_expr *call; /* the call compiled (the coprocessor
                                    sends it next to the data) */
};

/* One GROUP_CONCAT row: its text and its ORDER BY values. */
struct gc_row
{
    const char *text;         /* concatenated arguments */
    size_t len;               /* bytes */
    struct sql_datum *keys;   /* norder values */
    size_t seq;               /* arrival order (stable sort) */
};

struct sql_agg_state
{
    struct sql_arena *a;      /* the group's arena */
    uint64_t count;           /* rows counted */
    bool any;                 /* a non-NULL value was seen */
    struct sql_dec dsum;      /* exact sum */
    double fsum;              /* approximate sum */
    double mean, m2;          /* Welford's running mean and squares */
    uint64_t bits;            /* BIT_* accumulator */
    struct sql_datum best;    /* MIN/MAX/ANY_VALUE */
    /* DISTINCT: open-addressing set of key forms */
    uint64_t *hashes;         /* hash per slot (0 = empty) */
    const uint8_t **keys;     /* key bytes per slot */
    size_t *keylens;          /* their lengths */
    size_t cap;               /* slots (power of two) */
    size_t used;              /* filled slots */
    /* GROUP_CONCAT rows */
    struct gc_row *rows;      /* collected rows */
    size_t nrows, rowcap;     /* count and capacity */
    struct sql_json_agg *json; /* JSON_ARRAYAGG/OBJECTAGG (func_json.c) */
};

static int kind_of(const char *name)
{
    for (size_t i = 0; i < NAGG; i++)
        if (strcasecmp(agg_names[i].name, name) == 0)
            return agg_names[i].kind;
    return -1;
}

int sql__agg_compile(struct sql_arena *a, const struct ast_expr *e,
                     const struct sql_expr_scope *scope, struct sql_agg **out,
                     struct sql_ftype *type, struct sql_err *err)
{
    int kind = kind_of(e->name ? e->name : "");
    if (kind < 0)
        return SQL_EINTERNAL;
    struct sql_agg *g = sql__arena_zalloc(a, sizeof *g);
    if (g == NULL)
        return -ENOMEM;
    g->kind = kind;
    g->distinct = e->distinct;
    g->call = e;
    int n = 0;
    for (const struct ast_expr *x = e->args; x; x = x->next)
        n++;
    if (kind == AG_COUNT && n == 1 && e->args->kind == AST_E_STAR) {
        g->star = true;
        n = 0;
    } else if (n == 0 || (n > 1 && !(kind == AG_GROUP_CONCAT ||
                                     kind == AG_JSON_OBJECTAGG ||
                                     (kind == AG_COUNT && g->distinct))) ||
               (kind == AG_JSON_OBJECTAGG && n != 2)) {
        return sql__err(err, SQL_ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT, "42000",
                        "Incorrect parameter count in the call to native "
                        "function '%s'",
                        e->name);
    }
    struct sql_expr_scope inner;
    if (scope)
        inner = *scope;
    else
        memset(&inner, 0, sizeof inner);
    if (!e->over) { /* a window aggregate's arguments read the window's
                       input rows through the scope as given (window.c) */
        inner.allow_aggregates = false;
        inner.subtree = NULL; /* arguments read the input rows */
    }
    g->nargs = n;
    if (n > 0) {
        g->args = sql__arena_zalloc(a, sizeof *g->args * (size_t)n);
        g->atypes = sql__arena_zalloc(a, sizeof *g->atypes * (size_t)n);
        if (g->args == NULL || g->atypes == NULL)
            return -ENOMEM;
    }
    int i = 0;
    for (const struct ast_expr *x = e->args; x && !g->star; x = x->next, i++) {
        int rc = sql__expr_compile_node(a, x, &inner, &g->args[i], err);
        if (rc != 0)
            return rc;
        g->atypes[i] = g->args[i]->type;
        if (g->args[i]->vt == EX_VT_ANY)
            sql__ftype_of_vt(&g->atypes[i], SQL_VT_STRING, 0, 0);
    }
    for (const struct ast_order *o = e->order; o; o = o->next)
        g->norder++;
    if (g->norder > 0) {
        g->order = sql__arena_zalloc(a, sizeof *g->order * (size_t)g->norder);
        g->desc = sql__arena_zalloc(a, sizeof *g->desc * (size_t)g->norder);
        if (g->order == NULL || g->desc == NULL)
            return -ENOMEM;
        i = 0;
        for (const struct ast_order *o = e->order; o; o = o->next, i++) {
            int rc = sql__expr_compile_node(a, o->expr, &inner, &g->order[i],
                                            err);
            if (rc != 0)
                return rc;
            g->desc[i] = o->desc;
        }
    }
    g->sep = ",";
    g->seplen = 1;
    if (e->b && e->b->kind == AST_E_STRING) {
        g->sep = e->b->str.s ? e->b->str.s : "";
        g->seplen = e->b->str.n;
    }
    /* Result types. */
    const struct sql_expr *a0 = n > 0 ? g->args[0] : NULL;
    int avt = a0 ? a0->vt : SQL_VT_INT;
    int adec = a0 && a0->type.dec >= 0 && a0->type.dec < 31 ? a0->type.dec
                                                             : 0;
    switch (kind) {
    case AG_COUNT:
        sql__ftype_of_vt(&g->type, SQL_VT_INT, 0, 0);
        g->type.flags |= SQL_COLFLAG_NOT_NULL;
        break;
    case AG_JSON_ARRAYAGG:
    case AG_JSON_OBJECTAGG:
        sql__ftype_of_vt(&g->type, SQL_VT_JSON, 0, 0);
        break;
    case AG_SUM:
    case AG_AVG:
        g->exact = avt == SQL_VT_INT || avt == SQL_VT_UINT ||
                   avt == SQL_VT_DECIMAL || avt == SQL_VT_NULL;
        /* Temporals are numbers here (20240101...), DECIMAL with their
         * fraction digits. */
        if (avt == SQL_VT_DATE || avt == SQL_VT_DATETIME ||
            avt == SQL_VT_TIME)
            g->exact = true;
        if (g->exact) {
            int dec = (avt == SQL_VT_DECIMAL || avt == SQL_VT_DATETIME ||
                               avt == SQL_VT_TIME
                           ? adec
                           : 0) +
                      (kind == AG_AVG ? 4 : 0);
            if (dec > SQL_DEC_MAX_SCALE)
                dec = SQL_DEC_MAX_SCALE;
            sql__ftype_of_vt(&g->type, SQL_VT_DECIMAL, 0, dec);
        } else {
            sql__ftype_of_vt(&g->type, SQL_VT_DOUBLE, 0,
                             kind == AG_AVG && a0->type.dec >= 0 &&
                                     a0->type.dec < 27
                                 ? -1
                                 : -1);
        }
        break;
    case AG_MIN:
    case AG_MAX:
    case AG_ANY_VALUE:
        g->type = g->atypes[0];
        g->type.flags &= (uint16_t) ~(SQL_COLFLAG_NOT_NULL |
                                      SQL_COLFLAG_PRI_KEY |
                                      SQL_COLFLAG_UNIQUE_KEY |
                                      SQL_COLFLAG_MULTIPLE_KEY |
                                      SQL_COLFLAG_AUTO_INCREMENT);
        if (kind == AG_ANY_VALUE && (a0->type.flags & SQL_COLFLAG_NOT_NULL))
            g->type.flags |= SQL_COLFLAG_NOT_NULL;
        if (kind != AG_ANY_VALUE && g->type.tp == SQL_TYPE_FLOAT &&
            a0->op != EX_COL) {
            /* MariaDB keeps a FLOAT expression's MIN/MAX in a DOUBLE
             * (difftest F10), but a UNION merges it as the FLOAT it is */
            sql__ftype_of_vt(&g->type, SQL_VT_DOUBLE, 0, -1);
            g->type.merge_tp = SQL_TYPE_FLOAT;
        }
        break;
    case AG_GROUP_CONCAT: {
        uint16_t coll = SQL_COLL_UTF8MB4_GENERAL_CI;
        for (int k = 0; k < n; k++)
            if (g->args[k]->vt == SQL_VT_STRING &&
                g->args[k]->type.coll == SQL_COLL_BINARY)
                coll = SQL_COLL_BINARY;
        sql__ftype_of_vt(&g->type, SQL_VT_STRING, coll, 0);
        g->type.tp = SQL_TYPE_BLOB; /* group_concat_max_len > 512 */
        g->type.len = 1024 * (coll == SQL_COLL_BINARY ? 1 : 4);
        g->type.flags |= SQL_COLFLAG_BLOB;
        break;
    }
    case AG_BIT_AND:
    case AG_BIT_OR:
    case AG_BIT_XOR:
        sql__ftype_of_vt(&g->type, SQL_VT_UINT, 0, 0);
        g->type.flags |= SQL_COLFLAG_NOT_NULL;
        break;
    default: /* STD / VARIANCE */
        sql__ftype_of_vt(&g->type, SQL_VT_DOUBLE, 0, -1);
        break;
    }
    if (type)
        *type = g->type;
    *out = g;
    return 0;
}

int sql__agg_init(const struct sql_agg *g, struct sql_arena *a,
                  struct sql_agg_state **out)
{
    struct sql_agg_state *st = sql__arena_zalloc(a, sizeof *st);
    if (st == NULL)
        return -ENOMEM;
    st->a = a;
    if (g->kind == AG_BIT_AND)
        st->bits = UINT64_MAX;
    *out = st;
    return 0;
}

/* ---- DISTINCT ---------------------------------------------------------- */

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

static int set_grow(struct sql_agg_state *st)
{
    size_t cap = st->cap ? st->cap * 2 : 16;
    uint64_t *h = sql__arena_zalloc(st->a, sizeof *h * cap);
    const uint8_t **k = sql__arena_zalloc(st->a, sizeof *k * cap);
    size_t *l = sql__arena_zalloc(st->a, sizeof *l * cap);
    if (h == NULL || k == NULL || l == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < st->cap; i++) {
        if (st->hashes[i] == 0)
            continue;
        size_t j = st->hashes[i] & (cap - 1);
        while (h[j] != 0)
            j = (j + 1) & (cap - 1);
        h[j] = st->hashes[i];
        k[j] = st->keys[i];
        l[j] = st->keylens[i];
    }
    st->hashes = h;
    st->keys = k;
    st->keylens = l;
    st->cap = cap;
    return 0;
}

/* Add the key to the set; *fresh says whether it was new. */
static int set_add(struct sql_agg_state *st, const uint8_t *key, size_t n,
                   bool *fresh)
{
    int rc;
    if ((st->used + 1) * 2 > st->cap && (rc = set_grow(st)) != 0)
        return rc;
    uint64_t h = fnv(key, n);
    size_t j = h & (st->cap - 1);
    while (st->hashes[j] != 0) {
        if (st->hashes[j] == h && st->keylens[j] == n &&
            memcmp(st->keys[j], key, n) == 0) {
            *fresh = false;
            return 0;
        }
        j = (j + 1) & (st->cap - 1);
    }
    uint8_t *copy = sql__arena_alloc(st->a, n ? n : 1);
    if (copy == NULL)
        return -ENOMEM;
    memcpy(copy, key, n);
    st->hashes[j] = h;
    st->keys[j] = copy;
    st->keylens[j] = n;
    st->used++;
    *fresh = true;
    return 0;
}

/* Copy a datum's bytes into the group's arena. */
static int keep(struct sql_agg_state *st, struct sql_datum *d)
{
    if ((d->vt != SQL_VT_STRING && d->vt != SQL_VT_JSON) || d->v.s.n == 0)
        return 0;
    char *p = sql__arena_alloc(st->a, d->v.s.n);
    if (p == NULL)
        return -ENOMEM;
    memcpy(p, d->v.s.p, d->v.s.n);
    d->v.s.p = p;
    return 0;
}

static int gc_add(const struct sql_agg *g, struct sql_agg_state *st,
                  struct sql_eval *ev, const struct sql_datum *vals,
                  const struct sql_datum *row)
{
    int rc;
    struct sql__buf b = {0};
    for (int i = 0; i < g->nargs; i++) {
        const char *p;
        size_t n;
        /* as a string function reads it: a FLOAT's 6 digits (F22) */
        if ((rc = sql__text_of(g->args[i], ev, &vals[i], &p, &n)) != 0)
            goto out;
        if ((rc = sql__buf_put(&b, p, n)) != 0)
            goto out;
    }
    if (st->nrows == st->rowcap) {
        size_t cap = st->rowcap ? st->rowcap * 2 : 16;
        struct gc_row *r = sql__arena_alloc(st->a, sizeof *r * cap);
        if (r == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        if (st->nrows)
            memcpy(r, st->rows, sizeof *r * st->nrows);
        st->rows = r;
        st->rowcap = cap;
    }
    struct gc_row *r = &st->rows[st->nrows];
    char *text = sql__arena_alloc(st->a, b.len ? b.len : 1);
    if (text == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    if (b.len)
        memcpy(text, b.p, b.len);
    r->text = text;
    r->len = b.len;
    r->seq = st->nrows;
    r->keys = NULL;
    if (g->norder > 0) {
        r->keys = sql__arena_alloc(st->a, sizeof *r->keys * (size_t)g->norder);
        if (r->keys == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        for (int i = 0; i < g->norder; i++) {
            if ((rc = sql__expr_eval(g->order[i], ev, row, &r->keys[i])) != 0 ||
                (rc = keep(st, &r->keys[i])) != 0)
                goto out;
        }
    }
    st->nrows++;
    rc = 0;
out:
    sql__buf_free(&b);
    return rc;
}

int sql__agg_update(const struct sql_agg *g, struct sql_agg_state *st,
                    struct sql_eval *ev, const struct sql_datum *row)
{
    struct sql_datum vals[16];
    struct sql_datum *v = vals;
    int rc = 0;
    if (g->star || (g->kind == AG_COUNT && !g->distinct && g->nargs == 1 &&
                    (g->args[0]->type.flags & SQL_COLFLAG_NOT_NULL))) {
        /* COUNT of what cannot be NULL counts the row unread (MariaDB's
         * Item_sum_count::add: COUNT(bigint_col * bigint_col) raises no
         * overflow, difftest F12) */
        st->count++;
        return 0;
    }
    if (g->nargs > 16) {
        v = sql__malloc(sizeof *v * (size_t)g->nargs);
        if (v == NULL)
            return -ENOMEM;
    }
    for (int i = 0; i < g->nargs; i++) {
        if ((rc = sql__expr_eval(g->args[i], ev, row, &v[i])) != 0)
            goto out;
        if (v[i].vt == SQL_VT_NULL && g->kind != AG_JSON_ARRAYAGG &&
            g->kind != AG_JSON_OBJECTAGG)
            goto out; /* a NULL argument: the row does not count */
    }
    if (g->distinct) {
        struct sql__buf key = {0};
        for (int i = 0; i < g->nargs && rc == 0; i++)
            rc = sql__key_append(&key, &v[i], &g->atypes[i]);
        bool fresh = false;
        if (rc == 0)
            rc = set_add(st, key.p, key.len, &fresh);
        sql__buf_free(&key);
        if (rc != 0 || !fresh)
            goto out;
    }
    st->count++;
    switch (g->kind) {
    case AG_COUNT:
        break;
    case AG_SUM:
    case AG_AVG:
        if (g->exact) {
            struct sql_dec d;
            sql__to_dec(ev, &v[0], &d);
            if (sql__dec_add(&st->dsum, &d, &st->dsum) == SQL_DEC_OVERFLOW) {
                rc = sql__err(ev->err, SQL_ER_DATA_OUT_OF_RANGE, "22003",
                              "DECIMAL value is out of range in 'sum'");
                goto out;
            }
        } else {
            double d;
            sql__to_double(ev, &v[0], &d);
            st->fsum += d;
        }
        break;
    case AG_MIN:
    case AG_MAX:
    case AG_ANY_VALUE: {
        bool take = !st->any;
        if (!take && g->kind != AG_ANY_VALUE) {
            int c;
            uint16_t coll = g->atypes[0].coll;
            if (v[0].vt != SQL_VT_STRING)
                coll = 0;
            if ((rc = sql__datum_cmp_ev(ev, &v[0], &st->best, coll, &c)) != 0)
                goto out;
            take = g->kind == AG_MIN ? c < 0 : c > 0;
        }
        if (take) {
            st->best = v[0];
            if ((rc = keep(st, &st->best)) != 0)
                goto out;
        }
        break;
    }
    case AG_GROUP_CONCAT:
        rc = gc_add(g, st, ev, v, row);
        break;
    case AG_JSON_ARRAYAGG:
    case AG_JSON_OBJECTAGG:
        rc = sql__json_agg_add(st->a, &st->json, v, g->nargs, ev->err);
        break;
    case AG_BIT_AND:
    case AG_BIT_OR:
    case AG_BIT_XOR: {
        uint64_t u;
        sql__to_uint(ev, &v[0], &u);
        if (g->kind == AG_BIT_AND)
            st->bits &= u;
        else if (g->kind == AG_BIT_OR)
            st->bits |= u;
        else
            st->bits ^= u;
        break;
    }
    default: { /* Welford (Knuth TAOCP vol. 2, 4.2.2) */
        double x;
        sql__to_double(ev, &v[0], &x);
        double delta = x - st->mean;
        st->mean += delta / (double)st->count;
        st->m2 += delta * (x - st->mean);
        break;
    }
    }
    st->any = true;
out:
    if (v != vals)
        sql__free(v);
    return rc;
}

/* GROUP_CONCAT ORDER BY comparison (qsort_r: g is the context). */
static int gc_cmp(const void *x, const void *y, void *ctx)
{
    const struct sql_agg *sort_g = ctx;
    const struct gc_row *a = x, *b = y;
    for (int i = 0; i < sort_g->norder; i++) {
        const struct sql_datum *ka = &a->keys[i], *kb = &b->keys[i];
        int c;
        if (ka->vt == SQL_VT_NULL || kb->vt == SQL_VT_NULL)
            c = (ka->vt != SQL_VT_NULL) - (kb->vt != SQL_VT_NULL);
        else if (sql__datum_cmp(ka, kb, sort_g->order[i]->coll, &c, NULL) != 0)
            c = 0;
        if (c != 0)
            return sort_g->desc[i] ? -c : c;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static uint64_t gc_max_len(struct sql_eval *ev)
{
    uint64_t max = 1024;
    if (ev->env && ev->env->sysvar_get) {
        struct sql_datum d;
        struct sql_err e;
        if (ev->env->sysvar_get(ev->env->ctx, "group_concat_max_len", 0, &d,
                                ev->arena, &e) == 0 &&
            (d.vt == SQL_VT_INT || d.vt == SQL_VT_UINT) && d.v.u > 0)
            max = d.v.u;
    }
    return max;
}

static int gc_final(const struct sql_agg *g, struct sql_agg_state *st,
                    struct sql_eval *ev, struct sql_datum *out)
{
    if (g->norder > 0 && st->nrows > 1) {
        qsort_r(st->rows, st->nrows, sizeof *st->rows, gc_cmp, (void *)g);
    }
    uint64_t max = gc_max_len(ev);
    size_t total = 0;
    for (size_t i = 0; i < st->nrows; i++)
        total += st->rows[i].len + (i ? g->seplen : 0);
    if (total > max)
        total = (size_t)max;
    char *buf = sql__arena_alloc(ev->arena, total + 1);
    if (buf == NULL)
        return -ENOMEM;
    size_t o = 0;
    size_t cut_row = 0;
    bool cut = false;
    for (size_t i = 0; i < st->nrows && !cut; i++) {
        const char *parts[2] = {g->sep, st->rows[i].text};
        size_t lens[2] = {i ? g->seplen : 0, st->rows[i].len};
        for (int k = 0; k < 2; k++) {
            size_t take = lens[k];
            if (o + take > total) {
                take = total - o;
                cut = true;
                cut_row = i + 1;
            }
            memcpy(buf + o, parts[k], take);
            o += take;
            if (cut)
                break;
        }
    }
    if (cut) {
        /* Never end inside a UTF-8 character. */
        if (g->type.coll != SQL_COLL_BINARY)
            while (o > 0 && ((uint8_t)buf[o] & 0xC0) == 0x80 && o < total)
                o--;
        sql__warn(ev, 1260, "Row %zu was cut by GROUP_CONCAT()", cut_row);
    }
    buf[o] = '\0';
    sql__datum_str(out, buf, o, g->type.coll);
    return 0;
}

bool sql__agg_removable(const struct sql_agg *g)
{
    return !g->distinct &&
           (g->kind == AG_COUNT ||
            ((g->kind == AG_SUM || g->kind == AG_AVG) && g->exact));
}

int sql__agg_remove(const struct sql_agg *g, struct sql_agg_state *st,
                    struct sql_eval *ev, const struct sql_datum *row)
{
    assert(sql__agg_removable(g));
    if (g->star) {
        st->count--;
        return 0;
    }
    struct sql_datum v;
    int rc = sql__expr_eval(g->args[0], ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL)
        return rc; /* a NULL argument never counted */
    st->count--;
    st->any = st->count > 0;
    if (g->kind != AG_COUNT) {
        struct sql_dec d;
        sql__to_dec(ev, &v, &d);
        (void)sql__dec_sub(&st->dsum, &d, &st->dsum); /* was added: fits */
    }
    return 0;
}

int sql__agg_final(const struct sql_agg *g, struct sql_agg_state *st,
                   struct sql_eval *ev, struct sql_datum *out)
{
    sql__datum_null(out);
    switch (g->kind) {
    case AG_COUNT:
        sql__datum_int(out, (int64_t)st->count);
        return 0;
    case AG_BIT_AND:
    case AG_BIT_OR:
    case AG_BIT_XOR:
        sql__datum_uint(out, st->bits);
        return 0;
    default:
        break;
    }
    if (!st->any)
        return 0;
    switch (g->kind) {
    case AG_SUM:
        if (g->exact) {
            out->vt = SQL_VT_DECIMAL;
            out->v.dec = st->dsum;
        } else {
            sql__datum_double(out, st->fsum);
        }
        return 0;
    case AG_AVG:
        if (g->exact) {
            struct sql_dec n;
            sql__dec_from_u64(&n, st->count);
            out->vt = SQL_VT_DECIMAL;
            (void)sql__dec_div(&st->dsum, &n, 4, &out->v.dec);
            if (g->type.dec >= 0)
                (void)sql__dec_rescale(&out->v.dec, g->type.dec,
                                       &out->v.dec);
        } else {
            sql__datum_double(out, st->fsum / (double)st->count);
        }
        return 0;
    case AG_MIN:
    case AG_MAX:
    case AG_ANY_VALUE:
        *out = st->best;
        return 0;
    case AG_GROUP_CONCAT:
        return gc_final(g, st, ev, out);
    case AG_JSON_ARRAYAGG:
    case AG_JSON_OBJECTAGG:
        return sql__json_agg_final(st->json, g->kind == AG_JSON_OBJECTAGG,
                                   ev, out);
    case AG_STD_POP:
    case AG_VAR_POP: {
        double var = st->m2 / (double)st->count;
        sql__datum_double(out, g->kind == AG_STD_POP ? sqrt(var) : var);
        return 0;
    }
    default: { /* samples: NULL for one row */
        if (st->count < 2)
            return 0;
        double var = st->m2 / (double)(st->count - 1);
        sql__datum_double(out, g->kind == AG_STD_SAMP ? sqrt(var) : var);
        return 0;
    }
    }
}

/* ---- partial aggregation (the coprocessor, cop_agg.c) ------------------ */

const struct ast_expr *sql__agg_partial_call(const struct sql_agg *g)
{
    if (g->distinct || g->norder > 0 || g->nargs > 1)
        return NULL;
    switch (g->kind) {
    case AG_COUNT:
    case AG_MIN:
    case AG_MAX:
        return g->call;
    case AG_SUM:
    case AG_AVG: {
        /* numbers only: a string argument converts with warnings */
        int vt = g->args[0]->vt;
        return vt == SQL_VT_INT || vt == SQL_VT_UINT ||
                       vt == SQL_VT_DECIMAL || vt == SQL_VT_DOUBLE
                   ? g->call
                   : NULL;
    }
    default:
        return NULL;
    }
}

void sql__agg_partial(const struct sql_agg *g, const struct sql_agg_state *st,
                      uint64_t *count, struct sql_datum *value)
{
    *count = st->count;
    sql__datum_null(value);
    if (!st->any)
        return;
    if (g->kind == AG_SUM || g->kind == AG_AVG) {
        if (g->exact) {
            value->vt = SQL_VT_DECIMAL;
            value->v.dec = st->dsum;
        } else {
            sql__datum_double(value, st->fsum);
        }
    } else if (g->kind == AG_MIN || g->kind == AG_MAX) {
        *value = st->best;
    }
}

int sql__agg_merge(const struct sql_agg *g, struct sql_agg_state *st,
                   struct sql_eval *ev, uint64_t count,
                   const struct sql_datum *value)
{
    assert(sql__agg_partial_call(g) != NULL);
    if (g->kind == AG_COUNT) {
        st->count += count;
        return 0;
    }
    if (count == 0 || value->vt == SQL_VT_NULL)
        return 0;
    if (g->kind == AG_MIN || g->kind == AG_MAX) {
        bool take = !st->any;
        if (!take) {
            int c;
            uint16_t coll = value->vt == SQL_VT_STRING ? g->atypes[0].coll
                                                        : 0;
            int rc = sql__datum_cmp_ev(ev, value, &st->best, coll, &c);
            if (rc != 0)
                return rc;
            take = g->kind == AG_MIN ? c < 0 : c > 0;
        }
        if (take) {
            st->best = *value;
            int rc = keep(st, &st->best);
            if (rc != 0)
                return rc;
        }
    } else if (g->exact) {
        struct sql_dec d;
        sql__to_dec(ev, value, &d);
        if (sql__dec_add(&st->dsum, &d, &st->dsum) == SQL_DEC_OVERFLOW)
            return sql__err(ev->err, SQL_ER_DATA_OUT_OF_RANGE, "22003",
                            "DECIMAL value is out of range in 'sum'");
    } else {
        double d;
        sql__to_double(ev, value, &d);
        st->fsum += d;
    }
    st->count += count;
    st->any = true;
    return 0;
}

/* func_json.c: the JSON functions (JSON_EXTRACT and ->, JSON_UNQUOTE and
 * ->>, JSON_OBJECT, JSON_ARRAY, JSON_SET and the other modifiers, the
 * merges, JSON_CONTAINS, JSON_SEARCH ...), CAST(x AS JSON) and storing
 * into a JSON column (3140), as MySQL 8.0's manual, "JSON Functions",
 * describes them. DESIGN.md, "Values and types" / "JSON".
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "expr_int.h"
#include "json.h"
#include "wire.h"

/* ---- arguments ----------------------------------------------------------- */

/* The function's name as MySQL writes it in messages (lower case). */
static const char *fname(const struct sql_expr *e, char *buf, size_t cap)
{
    const char *n = e->fn && strcmp(e->fn->name, "CAST") != 0
                        ? e->fn->name
                        : "cast_as_json";
    size_t i = 0;
    for (; n[i] && i + 1 < cap; i++)
        buf[i] = (char)tolower((unsigned char)n[i]);
    buf[i] = '\0';
    return buf;
}

static int parse_err(struct sql_eval *ev, const struct sql_json_perr *pe,
                     int argno, const char *fn)
{
    if (pe->msg == NULL)
        return sql__err(ev->err, 3157, "22032",
                        "The JSON document exceeds the maximum depth of %d.",
                        SQL_JSON_MAX_DEPTH);
    return sql__err(ev->err, 3141, "22032",
                    "Invalid JSON text in argument %d to function %s: "
                    "\"%s\" at position %zu.",
                    argno, fn, pe->msg, pe->pos);
}

/* JSON text s into an encoded document in the eval arena. */
static int from_text(struct sql_eval *ev, const char *s, size_t n,
                     int argno, const char *fn, const uint8_t **b,
                     size_t *bn)
{
    struct sql_json *j;
    struct sql_json_perr pe;
    int rc = sql__json_parse(s, n, ev->arena, &j, &pe);
    if (rc == SQL_EQUERY)
        return parse_err(ev, &pe, argno, fn);
    if (rc != 0)
        return rc;
    return sql__json_encode(j, ev->arena, b, bn);
}

int sql__json_text_arg(struct sql_eval *ev, const char *s, size_t n,
                       int argno, const char *fn, const uint8_t **b,
                       size_t *bn)
{
    return from_text(ev, s, n, argno, fn, b, bn);
}

/* A document argument: a JSON value, or a string holding JSON text;
 * *null for SQL NULL. */
static int doc_value(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *v, int i, const uint8_t **b,
                     size_t *bn, bool *null)
{
    char fn[40];
    *null = false;
    switch (v->vt) {
    case SQL_VT_NULL:
        *null = true;
        return 0;
    case SQL_VT_JSON:
        *b = (const uint8_t *)v->v.s.p;
        *bn = v->v.s.n;
        return 0;
    case SQL_VT_STRING:
        return from_text(ev, v->v.s.p, v->v.s.n, i + 1,
                         fname(e, fn, sizeof fn), b, bn);
    default:
        return sql__err(ev->err, 3146, "22032",
                        "Invalid data type for JSON data in argument %d to "
                        "function %s; a JSON string or JSON type is "
                        "required.",
                        i + 1, fname(e, fn, sizeof fn));
    }
}

static int doc_arg(const struct sql_expr *e, int i, struct sql_eval *ev,
                   const struct sql_datum *row, const uint8_t **b,
                   size_t *bn, bool *null)
{
    struct sql_datum v;
    int rc = sql__arg(e, i, ev, row, &v);
    return rc ? rc : doc_value(e, ev, &v, i, b, bn, null);
}

/* A path argument; wild false: 3149 when it has *, ** or a range. */
static int path_arg(const struct sql_expr *e, int i, struct sql_eval *ev,
                    const struct sql_datum *row, bool wild_ok,
                    struct sql_json_path *p, bool *null)
{
    struct sql_datum v;
    const char *s;
    size_t n;
    int rc = sql__arg(e, i, ev, row, &v);
    *null = false;
    if (rc != 0)
        return rc;
    if (v.vt == SQL_VT_NULL) {
        *null = true;
        return 0;
    }
    if ((rc = sql__to_str(ev, &v, &s, &n)) != 0 ||
        (rc = sql__json_path_parse(s, n, ev->arena, p, ev->err)) != 0)
        return rc;
    if (p->wild && !wild_ok)
        return sql__err(ev->err, 3149, "42000",
                        "In this situation, path expressions may not "
                        "contain the * and ** tokens or an array range.");
    return 0;
}

/* A value argument (JSON_OBJECT, JSON_ARRAY, JSON_SET ...): SQL values
 * become JSON scalars, JSON stays JSON. */
static int value_arg(const struct sql_expr *e, int i, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_json **out)
{
    struct sql_datum v;
    int rc = sql__arg(e, i, ev, row, &v);
    return rc ? rc : sql__json_from_datum(&v, ev->arena, out);
}

static int ret_tree(struct sql_eval *ev, const struct sql_json *j,
                    struct sql_datum *out)
{
    const uint8_t *b;
    size_t n;
    int rc = sql__json_encode(j, ev->arena, &b, &n);
    if (rc == 0)
        sql__datum_json(out, b, n);
    return rc;
}

static int ret_text(struct sql_eval *ev, struct sql_datum *out,
                    const char *p, size_t n)
{
    return sql__ret_str(ev, out, p, n, SQL_COLL_UTF8MB4_BIN);
}

/* ---- result types ----------------------------------------------------- */

static int check_json(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_JSON, 0);
    return 0;
}

static int check_text(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__ftype_of_vt(&e->type, SQL_VT_STRING, SQL_COLL_UTF8MB4_BIN, 0);
    e->vt = SQL_VT_STRING;
    e->type.tp = SQL_TYPE_LONG_BLOB;
    e->type.len = 4294967295u;
    e->coll = SQL_COLL_UTF8MB4_BIN;
    e->coerc = 4;
    return 0;
}

static int check_int(struct sql_expr *e, struct sql_arena *a,
                     struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_INT, 0);
    return 0;
}

static int param_count(const struct sql_expr *e, struct sql_err *err)
{
    return sql__err(err, SQL_ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT, "42000",
                    "Incorrect parameter count in the call to native "
                    "function '%s'",
                    e->fn->name);
}

/* JSON_OBJECT: pairs. */
static int check_pairs(struct sql_expr *e, struct sql_arena *a,
                       struct sql_err *err)
{
    if (e->nargs % 2 != 0)
        return param_count(e, err);
    return check_json(e, a, err);
}

/* JSON_SET and friends: a document, then (path, value) pairs. */
static int check_doc_pairs(struct sql_expr *e, struct sql_arena *a,
                           struct sql_err *err)
{
    if (e->nargs % 2 != 1)
        return param_count(e, err);
    return check_json(e, a, err);
}

/* ---- extraction ----------------------------------------------------------- */

/* Build an array of encoded values. */
static int array_of(struct sql_eval *ev, const uint8_t *const *v, size_t n,
                    struct sql_datum *out)
{
    struct sql_json *arr = sql__json_new(ev->arena, SQL_JSON_ARRAY);
    if (arr == NULL ||
        (arr->v.a = sql__arena_alloc(ev->arena,
                                     sizeof *arr->v.a * (n ? n : 1))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if ((arr->v.a[i] = sql__json_raw(ev->arena, v[i])) == NULL)
            return -ENOMEM;
    arr->n = (uint32_t)n;
    return ret_tree(ev, arr, out);
}

static int eval_extract(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    const uint8_t *doc;
    size_t dn;
    bool null, wrap = e->nargs > 2;
    int rc = doc_arg(e, 0, ev, row, &doc, &dn, &null);
    if (rc != 0 || null)
        goto out_null;
    const uint8_t **all = NULL;
    size_t nall = 0, cap = 0;
    for (int i = 1; i < e->nargs; i++) {
        struct sql_json_path p;
        const uint8_t **f;
        size_t nf;
        if ((rc = path_arg(e, i, ev, row, true, &p, &null)) != 0 || null)
            goto out_null;
        if ((rc = sql__json_path_find(doc, &p, ev->arena, &f, &nf)) != 0)
            return rc;
        if (p.wild)
            wrap = true;
        if (nall + nf > cap) {
            size_t nc = (nall + nf) * 2;
            const uint8_t **na = sql__arena_alloc(ev->arena, sizeof *na * nc);
            if (na == NULL)
                return -ENOMEM;
            if (nall)
                memcpy(na, all, sizeof *na * nall);
            all = na;
            cap = nc;
        }
        if (nf)
            memcpy(all + nall, f, sizeof *f * nf);
        nall += nf;
    }
    if (nall == 0) {
        sql__datum_null(out);
        return 0;
    }
    if (!wrap) {
        sql__datum_json(out, all[0], sql__json_bin_len(all[0]));
        return 0;
    }
    return array_of(ev, all, nall, out);
out_null:
    sql__datum_null(out);
    return rc;
}

static int eval_unquote(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return rc;
    }
    if (v.vt == SQL_VT_JSON) {
        const uint8_t *b = (const uint8_t *)v.v.s.p;
        if (b[0] == SQL_JSON_STRING) {
            struct sql_datum s;
            if ((rc = sql__json_scalar(&v, ev->arena, &s)) != 0)
                return rc;
            return ret_text(ev, out, s.v.s.p, s.v.s.n);
        }
        const char *p;
        size_t n;
        if ((rc = sql__json_print(b, ev->arena, &p, &n)) != 0)
            return rc;
        return ret_text(ev, out, p, n);
    }
    const char *p;
    size_t n;
    if ((rc = sql__to_str(ev, &v, &p, &n)) != 0)
        return rc;
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
        /* A quoted JSON string: its characters. */
        struct sql_json *j;
        struct sql_json_perr pe;
        char fn[40];
        rc = sql__json_parse(p, n, ev->arena, &j, &pe);
        if (rc == SQL_EQUERY)
            return parse_err(ev, &pe, 1, fname(e, fn, sizeof fn));
        if (rc != 0)
            return rc;
        return ret_text(ev, out, j->v.s.p, j->v.s.n);
    }
    return ret_text(ev, out, p, n);
}

/* ---- construction -------------------------------------------------------- */

static int eval_array(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_json *arr = sql__json_new(ev->arena, SQL_JSON_ARRAY);
    if (arr == NULL ||
        (arr->v.a = sql__arena_alloc(
             ev->arena, sizeof *arr->v.a * (e->nargs ? e->nargs : 1))) ==
            NULL)
        return -ENOMEM;
    for (int i = 0; i < e->nargs; i++) {
        int rc = value_arg(e, i, ev, row, &arr->v.a[i]);
        if (rc != 0)
            return rc;
    }
    arr->n = e->nargs;
    return ret_tree(ev, arr, out);
}

static int eval_object(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_json *obj = sql__json_new(ev->arena, SQL_JSON_OBJECT);
    uint32_t n = (uint32_t)e->nargs / 2;
    if (obj == NULL ||
        (obj->v.m = sql__arena_alloc(ev->arena,
                                     sizeof *obj->v.m * (n ? n : 1))) == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        struct sql_datum k;
        int rc = sql__arg(e, (int)(2 * i), ev, row, &k);
        if (rc != 0)
            return rc;
        if (k.vt == SQL_VT_NULL)
            return sql__err(ev->err, 3158, "22032",
                            "JSON documents may not contain NULL member "
                            "names.");
        if ((rc = sql__to_str(ev, &k, &obj->v.m[i].k, &obj->v.m[i].kn)) !=
                0 ||
            (rc = value_arg(e, (int)(2 * i + 1), ev, row,
                            &obj->v.m[i].val)) != 0)
            return rc;
        if (!sql__json_utf8(obj->v.m[i].k, obj->v.m[i].kn))
            return sql__err(ev->err, 3144, "22032",
                            "Cannot create a JSON value from a string with "
                            "CHARACTER SET 'binary'.");
    }
    obj->n = n;
    sql__json_normalize(obj);
    return ret_tree(ev, obj, out);
}

static int eval_quote(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return rc;
    }
    if (v.vt != SQL_VT_STRING) {
        char fn[40];
        return sql__err(ev->err, 3146, "22032",
                        "Invalid data type for JSON data in argument 1 to "
                        "function %s; a JSON string or JSON type is "
                        "required.",
                        fname(e, fn, sizeof fn));
    }
    struct sql_json *j = sql__json_str(ev->arena, v.v.s.p, v.v.s.n);
    const uint8_t *b;
    size_t n;
    const char *p;
    if (j == NULL)
        return -ENOMEM;
    if ((rc = sql__json_encode(j, ev->arena, &b, &n)) != 0 ||
        (rc = sql__json_print(b, ev->arena, &p, &n)) != 0)
        return rc;
    return ret_text(ev, out, p, n);
}

static int eval_pretty(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    const uint8_t *doc;
    size_t dn;
    const char *p;
    bool null;
    int rc = doc_arg(e, 0, ev, row, &doc, &dn, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    if ((rc = sql__json_print_ex(doc, true, ev->arena, &p, &dn)) != 0)
        return rc;
    return ret_text(ev, out, p, dn);
}

/* ---- inspection ------------------------------------------------------------ */

/* The single value a path (no wildcards) selects in doc, or NULL. */
static int at_path(const struct sql_expr *e, int i, struct sql_eval *ev,
                   const struct sql_datum *row, const uint8_t *doc,
                   const uint8_t **out, bool *null)
{
    struct sql_json_path p;
    const uint8_t **f;
    size_t nf;
    int rc = path_arg(e, i, ev, row, false, &p, null);
    if (rc != 0 || *null)
        return rc;
    if ((rc = sql__json_path_find(doc, &p, ev->arena, &f, &nf)) != 0)
        return rc;
    *null = nf == 0;
    *out = nf ? f[0] : NULL;
    return 0;
}

/* The document of argument 0, or the value the path of argument 1 (when
 * given) selects in it (JSON_LENGTH, JSON_KEYS). */
static int doc_at(const struct sql_expr *e, struct sql_eval *ev,
                  const struct sql_datum *row, const uint8_t **doc,
                  bool *null)
{
    size_t dn;
    int rc = doc_arg(e, 0, ev, row, doc, &dn, null);
    if (rc == 0 && !*null && e->nargs > 1)
        rc = at_path(e, 1, ev, row, *doc, doc, null);
    return rc;
}

static int eval_length(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    const uint8_t *doc;
    bool null;
    int rc = doc_at(e, ev, row, &doc, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    uint8_t t = doc[0];
    sql__datum_int(out, t == SQL_JSON_ARRAY || t == SQL_JSON_OBJECT
                            ? (int64_t)sql__json_bin_count(doc)
                            : 1);
    return 0;
}

static int depth(const uint8_t *b)
{
    uint32_t n = sql__json_bin_count(b);
    int d = 0;
    for (uint32_t i = 0; i < n; i++) {
        int c = depth(sql__json_bin_item(b, i));
        if (c > d)
            d = c;
    }
    return d + 1;
}

static int eval_depth(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    const uint8_t *doc;
    size_t dn;
    bool null;
    int rc = doc_arg(e, 0, ev, row, &doc, &dn, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    sql__datum_int(out, depth(doc));
    return 0;
}

static const char *type_name(const uint8_t *b)
{
    switch (b[0]) {
    case SQL_JSON_NULL: return "NULL";
    case SQL_JSON_FALSE:
    case SQL_JSON_TRUE: return "BOOLEAN";
    case SQL_JSON_INT: return "INTEGER";
    case SQL_JSON_UINT: return "UNSIGNED INTEGER";
    case SQL_JSON_DOUBLE: return "DOUBLE";
    case SQL_JSON_DECIMAL: return "DECIMAL";
    case SQL_JSON_STRING: return "STRING";
    case SQL_JSON_ARRAY: return "ARRAY";
    default: return "OBJECT";
    }
}

static int eval_type(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    const uint8_t *doc;
    size_t dn;
    bool null;
    int rc = doc_arg(e, 0, ev, row, &doc, &dn, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    const char *t = type_name(doc);
    return ret_text(ev, out, t, strlen(t));
}

static int eval_valid(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return rc;
    }
    bool ok = v.vt == SQL_VT_JSON;
    if (v.vt == SQL_VT_STRING) {
        struct sql_json *j;
        struct sql_json_perr pe;
        rc = sql__json_parse(v.v.s.p, v.v.s.n, ev->arena, &j, &pe);
        if (rc == -ENOMEM)
            return rc;
        ok = rc == 0;
    }
    sql__datum_int(out, ok);
    return 0;
}

static int eval_keys(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    const uint8_t *doc;
    bool null;
    int rc = doc_at(e, ev, row, &doc, &null);
    if (rc != 0 || null || doc[0] != SQL_JSON_OBJECT) {
        sql__datum_null(out);
        return rc;
    }
    uint32_t n = sql__json_bin_count(doc);
    struct sql_json *arr = sql__json_new(ev->arena, SQL_JSON_ARRAY);
    if (arr == NULL ||
        (arr->v.a = sql__arena_alloc(ev->arena,
                                     sizeof *arr->v.a * (n ? n : 1))) == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        size_t kn;
        const char *k = sql__json_bin_key(doc, i, &kn);
        if ((arr->v.a[i] = sql__json_str(ev->arena, k, kn)) == NULL)
            return -ENOMEM;
    }
    arr->n = n;
    return ret_tree(ev, arr, out);
}

/* MySQL's containment (manual, JSON_CONTAINS). */
static bool contains(const uint8_t *t, const uint8_t *c)
{
    uint32_t tn = sql__json_bin_count(t), cn = sql__json_bin_count(c);
    if (t[0] == SQL_JSON_ARRAY) {
        if (c[0] == SQL_JSON_ARRAY) {
            for (uint32_t i = 0; i < cn; i++)
                if (!contains(t, sql__json_bin_item(c, i)))
                    return false;
            return true;
        }
        for (uint32_t i = 0; i < tn; i++)
            if (contains(sql__json_bin_item(t, i), c))
                return true;
        return false;
    }
    if (t[0] == SQL_JSON_OBJECT) {
        if (c[0] != SQL_JSON_OBJECT)
            return false;
        uint32_t j = 0;
        for (uint32_t i = 0; i < cn; i++) {
            size_t ckn, tkn = 0;
            const char *ck = sql__json_bin_key(c, i, &ckn), *tk = NULL;
            /* Both key lists are sorted: merge. */
            for (; j < tn; j++) {
                tk = sql__json_bin_key(t, j, &tkn);
                if (tkn > ckn || (tkn == ckn && memcmp(tk, ck, ckn) >= 0))
                    break;
            }
            if (j == tn || tkn != ckn || memcmp(tk, ck, ckn) != 0 ||
                !contains(sql__json_bin_item(t, j), sql__json_bin_item(c, i)))
                return false;
        }
        return true;
    }
    if (c[0] == SQL_JSON_ARRAY || c[0] == SQL_JSON_OBJECT)
        return false;
    return sql__json_bin_cmp(t, c) == 0;
}

/* The first two arguments as documents (JSON_CONTAINS, JSON_OVERLAPS). */
static int two_docs(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, const uint8_t **a,
                    const uint8_t **b, bool *null)
{
    size_t an, bn;
    int rc = doc_arg(e, 0, ev, row, a, &an, null);
    if (rc == 0 && !*null)
        rc = doc_arg(e, 1, ev, row, b, &bn, null);
    return rc;
}

static int eval_contains(const struct sql_expr *e, struct sql_eval *ev,
                         const struct sql_datum *row, struct sql_datum *out)
{
    const uint8_t *t, *c;
    bool null;
    int rc = two_docs(e, ev, row, &t, &c, &null);
    if (rc == 0 && !null && e->nargs > 2)
        rc = at_path(e, 2, ev, row, t, &t, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    sql__datum_int(out, contains(t, c));
    return 0;
}

/* JSON_OVERLAPS (MySQL 8.0.17): a shared array element, a shared
 * key/value pair, or equal scalars; a scalar against an array counts as
 * one of its elements. */
static bool overlaps(const uint8_t *a, const uint8_t *b)
{
    if (a[0] != SQL_JSON_ARRAY && b[0] == SQL_JSON_ARRAY)
        return overlaps(b, a);
    uint32_t an = sql__json_bin_count(a), bn = sql__json_bin_count(b);
    if (a[0] == SQL_JSON_ARRAY) {
        for (uint32_t i = 0; i < an; i++) {
            const uint8_t *x = sql__json_bin_item(a, i);
            if (b[0] != SQL_JSON_ARRAY) {
                if (sql__json_bin_cmp(x, b) == 0)
                    return true;
                continue;
            }
            for (uint32_t k = 0; k < bn; k++)
                if (sql__json_bin_cmp(x, sql__json_bin_item(b, k)) == 0)
                    return true;
        }
        return false;
    }
    if (a[0] == SQL_JSON_OBJECT && b[0] == SQL_JSON_OBJECT) {
        for (uint32_t i = 0; i < an; i++) {
            size_t akn;
            const char *ak = sql__json_bin_key(a, i, &akn);
            for (uint32_t k = 0; k < bn; k++) {
                size_t bkn;
                const char *bk = sql__json_bin_key(b, k, &bkn);
                if (akn == bkn && memcmp(ak, bk, akn) == 0 &&
                    sql__json_bin_cmp(sql__json_bin_item(a, i),
                                      sql__json_bin_item(b, k)) == 0)
                    return true;
            }
        }
        return false;
    }
    return sql__json_bin_cmp(a, b) == 0;
}

static int eval_overlaps(const struct sql_expr *e, struct sql_eval *ev,
                         const struct sql_datum *row, struct sql_datum *out)
{
    const uint8_t *a, *b;
    bool null;
    int rc = two_docs(e, ev, row, &a, &b, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    sql__datum_int(out, overlaps(a, b));
    return 0;
}

/* 'one' or 'all' (3150 otherwise); *all. */
static int one_or_all(const struct sql_expr *e, int i, struct sql_eval *ev,
                      const struct sql_datum *row, bool *all, bool *null)
{
    struct sql_datum v;
    const char *s;
    size_t n;
    int rc = sql__arg(e, i, ev, row, &v);
    *null = false;
    if (rc != 0)
        return rc;
    if (v.vt == SQL_VT_NULL) {
        *null = true;
        return 0;
    }
    if ((rc = sql__to_str(ev, &v, &s, &n)) != 0)
        return rc;
    if (n == 3 && strncasecmp(s, "all", 3) == 0)
        *all = true;
    else if (n == 3 && strncasecmp(s, "one", 3) == 0)
        *all = false;
    else {
        char fn[40];
        return sql__err(ev->err, 3150, "42000",
                        "The oneOrAll argument to %s may take these "
                        "values: 'one' or 'all'.",
                        fname(e, fn, sizeof fn));
    }
    return 0;
}

static int eval_contains_path(const struct sql_expr *e, struct sql_eval *ev,
                              const struct sql_datum *row,
                              struct sql_datum *out)
{
    const uint8_t *doc;
    size_t dn;
    bool null, all = false;
    int rc = doc_arg(e, 0, ev, row, &doc, &dn, &null);
    if (rc == 0 && !null)
        rc = one_or_all(e, 1, ev, row, &all, &null);
    if (rc != 0 || null)
        goto out_null;
    int64_t res = all ? 1 : 0;
    for (int i = 2; i < e->nargs; i++) {
        struct sql_json_path p;
        const uint8_t **f;
        size_t nf;
        if ((rc = path_arg(e, i, ev, row, true, &p, &null)) != 0 || null)
            goto out_null;
        if ((rc = sql__json_path_find(doc, &p, ev->arena, &f, &nf)) != 0)
            return rc;
        if (all && nf == 0) {
            res = 0;
            break;
        }
        if (!all && nf > 0) {
            res = 1;
            break;
        }
    }
    sql__datum_int(out, res);
    return 0;
out_null:
    sql__datum_null(out);
    return rc;
}

/* ---- JSON_SEARCH --------------------------------------------------------- */

/* LIKE on bytes with % and _ (characters for _) and an escape. */
static bool like(const char *s, size_t n, const char *p, size_t pn, char esc)
{
    size_t si = 0, pi = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < n) {
        if (pi < pn && p[pi] == '%') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi < pn) {
            char pc = p[pi];
            size_t plen = 1;
            if (pc == esc && pi + 1 < pn) {
                pc = p[pi + 1];
                plen = 2;
            } else if (pc == '_') {
                uint32_t cp;
                si += sql__utf8_decode(s + si, n - si, &cp);
                pi++;
                continue;
            }
            if (tolower((unsigned char)pc) == tolower((unsigned char)s[si])) {
                si++;
                pi += plen;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < pn && p[pi] == '%')
        pi++;
    return pi == pn;
}

struct search
{
    struct sql__buf path;   /* the path of the current value */
    const char *pat;        /* the pattern */
    size_t pn;              /* its bytes */
    char esc;               /* escape character */
    bool all;               /* every match, not the first */
    struct sql_json *hits;  /* ARRAY of the matching paths */
    size_t cap;             /* room in hits */
    struct sql_arena *a;    /* where they go */
};

static bool plain_key(const char *k, size_t n)
{
    if (n == 0 || (k[0] >= '0' && k[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)k[i]) || k[i] == '_' || k[i] == '$' ||
              (unsigned char)k[i] >= 0x80))
            return false;
    return true;
}

static int search(struct search *s, const uint8_t *b)
{
    int rc = 0;
    if (!s->all && s->hits->n > 0)
        return 0;
    if (b[0] == SQL_JSON_STRING) {
        struct sql_datum d, str;
        sql__datum_json(&d, b, sql__json_bin_len(b));
        sql__json_scalar(&d, NULL, &str);
        if (!like(str.v.s.p, str.v.s.n, s->pat, s->pn, s->esc))
            return 0;
        if ((rc = sql__json_grow(s->a, &s->hits->v.a, &s->cap, s->hits->n,
                                 sizeof *s->hits->v.a)) != 0)
            return rc;
        char *p = sql__arena_strndup(s->a, (const char *)s->path.p,
                                     s->path.len);
        if (p == NULL ||
            (s->hits->v.a[s->hits->n] = sql__json_str(s->a, p,
                                                      s->path.len)) == NULL)
            return -ENOMEM;
        s->hits->n++;
        return 0;
    }
    uint32_t n = sql__json_bin_count(b);
    size_t mark = s->path.len;
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        char buf[32];
        s->path.len = mark;
        if (b[0] == SQL_JSON_ARRAY) {
            int k = snprintf(buf, sizeof buf, "[%u]", i);
            rc = sql__buf_put(&s->path, buf, (size_t)k);
        } else {
            size_t kn;
            const char *key = sql__json_bin_key(b, i, &kn);
            rc = sql__buf_u8(&s->path, '.');
            if (rc == 0 && plain_key(key, kn))
                rc = sql__buf_put(&s->path, key, kn);
            else if (rc == 0) {
                /* A quoted key: its JSON text. */
                struct sql_json *j = sql__json_str(s->a, key, kn);
                const uint8_t *eb;
                size_t en;
                const char *t;
                size_t tn;
                if (j == NULL)
                    rc = -ENOMEM;
                if (rc == 0 &&
                    (rc = sql__json_encode(j, s->a, &eb, &en)) == 0 &&
                    (rc = sql__json_print(eb, s->a, &t, &tn)) == 0)
                    rc = sql__buf_put(&s->path, t, tn);
            }
        }
        if (rc == 0)
            rc = search(s, sql__json_bin_item(b, i));
    }
    s->path.len = mark;
    return rc;
}

static int eval_search(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    const uint8_t *doc;
    size_t dn;
    bool null, all = false;
    struct sql_datum pat, escd;
    struct search s;
    memset(&s, 0, sizeof s);
    s.esc = '\\';
    int rc = doc_arg(e, 0, ev, row, &doc, &dn, &null);
    if (rc == 0 && !null)
        rc = one_or_all(e, 1, ev, row, &all, &null);
    if (rc == 0 && !null)
        rc = sql__arg(e, 2, ev, row, &pat);
    if (rc != 0 || null || pat.vt == SQL_VT_NULL)
        goto out_null;
    if ((rc = sql__to_str(ev, &pat, &s.pat, &s.pn)) != 0)
        return rc;
    if (e->nargs > 3) {
        if ((rc = sql__arg(e, 3, ev, row, &escd)) != 0)
            return rc;
        if (escd.vt != SQL_VT_NULL) {
            const char *ep;
            size_t en;
            if ((rc = sql__to_str(ev, &escd, &ep, &en)) != 0)
                return rc;
            if (en > 1)
                return sql__err(ev->err, SQL_ER_WRONG_ARGUMENTS, "HY000",
                                "Incorrect arguments to ESCAPE");
            if (en == 1)
                s.esc = ep[0];
        }
    }
    s.all = all;
    s.a = ev->arena;
    if ((s.hits = sql__json_new(ev->arena, SQL_JSON_ARRAY)) == NULL)
        return -ENOMEM;
    if (e->nargs > 4) {
        /* Only under the given paths. */
        for (int i = 4; rc == 0 && i < e->nargs; i++) {
            struct sql_json_path p;
            const uint8_t **f;
            size_t nf;
            if ((rc = path_arg(e, i, ev, row, true, &p, &null)) != 0 || null)
                goto out_free;
            if ((rc = sql__json_path_find(doc, &p, ev->arena, &f, &nf)) != 0)
                goto out_free;
            /* The path text of a match is only known for plain paths:
             * print the path as written, then the rest. */
            struct sql_datum pv;
            const char *ps;
            size_t pn;
            if ((rc = sql__arg(e, i, ev, row, &pv)) != 0 ||
                (rc = sql__to_str(ev, &pv, &ps, &pn)) != 0)
                goto out_free;
            for (size_t k = 0; rc == 0 && k < nf; k++) {
                s.path.len = 0;
                if ((rc = sql__buf_put(&s.path, ps, pn)) == 0)
                    rc = search(&s, f[k]);
            }
        }
    } else {
        if ((rc = sql__buf_u8(&s.path, '$')) == 0)
            rc = search(&s, doc);
    }
    if (rc != 0)
        goto out_free;
    sql__buf_free(&s.path);
    if (s.hits->n == 0)
        goto out_null;
    if (s.hits->n == 1)
        return ret_tree(ev, s.hits->v.a[0], out);
    return ret_tree(ev, s.hits, out);
out_free:
    sql__buf_free(&s.path);
out_null:
    sql__datum_null(out);
    return rc;
}

/* ---- modification --------------------------------------------------------- */

enum mod
{
    MOD_SET,
    MOD_INSERT,
    MOD_REPLACE,
};

/* Index of key k in an opened object, or where it would go (*found). */
static uint32_t obj_find(const struct sql_json *o, const char *k, size_t kn,
                         bool *found)
{
    uint32_t lo = 0, hi = o->n;
    *found = false;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct sql_json_member *m = &o->v.m[mid];
        int c = m->kn != kn ? (m->kn < kn ? -1 : 1) : memcmp(m->k, k, kn);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int obj_insert(struct sql_arena *a, struct sql_json *o, uint32_t at,
                      const char *k, size_t kn, struct sql_json *v)
{
    struct sql_json_member *m = sql__arena_alloc(a, sizeof *m * (o->n + 1));
    if (m == NULL)
        return -ENOMEM;
    if (at)
        memcpy(m, o->v.m, sizeof *m * at);
    m[at].k = k;
    m[at].kn = kn;
    m[at].val = v;
    if (o->n > at)
        memcpy(m + at + 1, o->v.m + at, sizeof *m * (o->n - at));
    o->v.m = m;
    o->n++;
    return 0;
}

static int arr_insert(struct sql_arena *a, struct sql_json *arr, uint32_t at,
                      struct sql_json *v)
{
    struct sql_json **it = sql__arena_alloc(a, sizeof *it * (arr->n + 1));
    if (it == NULL)
        return -ENOMEM;
    if (at)
        memcpy(it, arr->v.a, sizeof *it * at);
    it[at] = v;
    if (arr->n > at)
        memcpy(it + at + 1, arr->v.a + at, sizeof *it * (arr->n - at));
    arr->v.a = it;
    arr->n++;
    return 0;
}

/* An array of two values (auto-wrapping a non-array). */
static struct sql_json *pair(struct sql_arena *a, struct sql_json *x,
                             struct sql_json *y)
{
    struct sql_json *arr = sql__json_new(a, SQL_JSON_ARRAY);
    if (arr == NULL || (arr->v.a = sql__arena_alloc(a, 2 * sizeof *arr->v.a)) ==
                           NULL)
        return NULL;
    arr->v.a[0] = x;
    arr->v.a[1] = y;
    arr->n = 2;
    return arr;
}

/* The slot legs [0, upto) of p name in the tree at *root (opening nodes
 * on the way), or NULL. */
static int locate(struct sql_arena *a, struct sql_json **root,
                  const struct sql_json_path *p, size_t upto,
                  struct sql_json ***out)
{
    struct sql_json **slot = root;
    int rc;
    for (size_t k = 0; k < upto; k++) {
        const struct sql_json_leg *l = &p->legs[k];
        struct sql_json *nd = *slot;
        if ((rc = sql__json_open(nd, a)) != 0)
            return rc;
        if (l->kind == SQL_JSON_LEG_KEY) {
            bool found;
            uint32_t at;
            if (nd->tag != SQL_JSON_OBJECT ||
                (at = obj_find(nd, l->key, l->kn, &found), !found)) {
                *out = NULL;
                return 0;
            }
            slot = &nd->v.m[at].val;
        } else {
            uint32_t cnt = nd->tag == SQL_JSON_ARRAY ? nd->n : 1;
            uint32_t at = l->idx;
            if (l->last0) {
                if (l->idx >= cnt) {
                    *out = NULL;
                    return 0;
                }
                at = cnt - 1 - l->idx;
            }
            if (at >= cnt) {
                *out = NULL;
                return 0;
            }
            if (nd->tag == SQL_JSON_ARRAY)
                slot = &nd->v.a[at];
        }
    }
    *out = slot;
    return 0;
}

/* One edit at one path of the tree at *root: v is the value (NULL for
 * JSON_REMOVE). 0, SQL_EQUERY with err, or -ENOMEM. */
typedef int (*edit_fn)(struct sql_arena *a, struct sql_json **root,
                       const struct sql_json_path *p, struct sql_json *v,
                       int mode, struct sql_err *err);

/* JSON_SET / JSON_INSERT / JSON_REPLACE (mode). */
static int edit_modify(struct sql_arena *a, struct sql_json **root,
                       const struct sql_json_path *p, struct sql_json *v,
                       int mode, struct sql_err *err)
{
    (void)err;
    if (p->n == 0) {
        if (mode != MOD_INSERT)
            *root = v;
        return 0;
    }
    struct sql_json **ps;
    int rc = locate(a, root, p, p->n - 1, &ps);
    if (rc != 0 || ps == NULL)
        return rc;
    struct sql_json *par = *ps;
    if ((rc = sql__json_open(par, a)) != 0)
        return rc;
    const struct sql_json_leg *l = &p->legs[p->n - 1];
    if (l->kind == SQL_JSON_LEG_KEY) {
        if (par->tag != SQL_JSON_OBJECT)
            return 0;
        bool found;
        uint32_t at = obj_find(par, l->key, l->kn, &found);
        if (found) {
            if (mode != MOD_INSERT)
                par->v.m[at].val = v;
            return 0;
        }
        return mode == MOD_REPLACE ? 0
                                   : obj_insert(a, par, at, l->key, l->kn, v);
    }
    uint32_t cnt = par->tag == SQL_JSON_ARRAY ? par->n : 1;
    bool inside = l->idx < cnt;
    uint32_t at = l->last0 ? (inside ? cnt - 1 - l->idx : 0) : l->idx;
    if (inside) {
        if (mode == MOD_INSERT)
            return 0;
        if (par->tag == SQL_JSON_ARRAY)
            par->v.a[at] = v;
        else
            *ps = v;
        return 0;
    }
    if (mode == MOD_REPLACE || l->last0)
        return 0;
    if (par->tag == SQL_JSON_ARRAY)
        return arr_insert(a, par, par->n, v);
    struct sql_json *w = pair(a, par, v);
    if (w == NULL)
        return -ENOMEM;
    *ps = w;
    return 0;
}

static int edit_remove(struct sql_arena *a, struct sql_json **root,
                       const struct sql_json_path *p, struct sql_json *v,
                       int mode, struct sql_err *err)
{
    (void)v;
    (void)mode;
    if (p->n == 0)
        return sql__err(err, 3153, "42000",
                        "The path expression '$' is not allowed in this "
                        "context.");
    struct sql_json **ps;
    int rc = locate(a, root, p, p->n - 1, &ps);
    if (rc != 0 || ps == NULL)
        return rc;
    struct sql_json *par = *ps;
    if ((rc = sql__json_open(par, a)) != 0)
        return rc;
    const struct sql_json_leg *l = &p->legs[p->n - 1];
    if (l->kind == SQL_JSON_LEG_KEY && par->tag == SQL_JSON_OBJECT) {
        bool found;
        uint32_t at = obj_find(par, l->key, l->kn, &found);
        if (found) {
            memmove(par->v.m + at, par->v.m + at + 1,
                    sizeof *par->v.m * (par->n - at - 1));
            par->n--;
        }
    } else if (l->kind == SQL_JSON_LEG_IDX && par->tag == SQL_JSON_ARRAY &&
               l->idx < par->n) {
        uint32_t at = l->last0 ? par->n - 1 - l->idx : l->idx;
        memmove(par->v.a + at, par->v.a + at + 1,
                sizeof *par->v.a * (par->n - at - 1));
        par->n--;
    }
    return 0;
}

static int edit_append(struct sql_arena *a, struct sql_json **root,
                       const struct sql_json_path *p, struct sql_json *v,
                       int mode, struct sql_err *err)
{
    (void)mode;
    (void)err;
    struct sql_json **ps;
    int rc = locate(a, root, p, p->n, &ps);
    if (rc != 0 || ps == NULL)
        return rc;
    if ((rc = sql__json_open(*ps, a)) != 0)
        return rc;
    if ((*ps)->tag == SQL_JSON_ARRAY)
        return arr_insert(a, *ps, (*ps)->n, v);
    return (*ps = pair(a, *ps, v)) == NULL ? -ENOMEM : 0;
}

static int edit_array_insert(struct sql_arena *a, struct sql_json **root,
                             const struct sql_json_path *p, struct sql_json *v,
                             int mode, struct sql_err *err)
{
    (void)mode;
    if (p->n == 0 || p->legs[p->n - 1].kind != SQL_JSON_LEG_IDX)
        return sql__err(err, 3165, "42000",
                        "A path expression is not a path to a cell in an "
                        "array.");
    struct sql_json **ps;
    int rc = locate(a, root, p, p->n - 1, &ps);
    if (rc != 0 || ps == NULL)
        return rc;
    struct sql_json *par = *ps;
    if ((rc = sql__json_open(par, a)) != 0 || par->tag != SQL_JSON_ARRAY)
        return rc;
    const struct sql_json_leg *l = &p->legs[p->n - 1];
    uint32_t at = l->last0 ? (l->idx < par->n ? par->n - 1 - l->idx : 0)
                           : (l->idx < par->n ? l->idx : par->n);
    return arr_insert(a, par, at, v);
}

/* The modifiers: a document, then paths (step 1) or (path, value) pairs
 * (step 2), each edited in turn; SQL NULL document or path is NULL. */
static int eval_edit(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out,
                     int step, edit_fn op, int mode)
{
    const uint8_t *doc;
    size_t dn;
    bool null;
    int rc = doc_arg(e, 0, ev, row, &doc, &dn, &null);
    if (rc != 0 || null)
        goto out_null;
    struct sql_json *root = sql__json_raw(ev->arena, doc);
    if (root == NULL)
        return -ENOMEM;
    for (int i = 1; i + step - 1 < e->nargs; i += step) {
        struct sql_json_path p;
        struct sql_json *v = NULL;
        if ((rc = path_arg(e, i, ev, row, false, &p, &null)) != 0 || null)
            goto out_null;
        if ((step == 2 && (rc = value_arg(e, i + 1, ev, row, &v)) != 0) ||
            (rc = op(ev->arena, &root, &p, v, mode, ev->err)) != 0)
            return rc;
    }
    return ret_tree(ev, root, out);
out_null:
    sql__datum_null(out);
    return rc;
}

static int eval_set(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, struct sql_datum *out)
{
    return eval_edit(e, ev, row, out, 2, edit_modify, MOD_SET);
}

static int eval_insert(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    return eval_edit(e, ev, row, out, 2, edit_modify, MOD_INSERT);
}

static int eval_replace(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    return eval_edit(e, ev, row, out, 2, edit_modify, MOD_REPLACE);
}

static int eval_remove(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    return eval_edit(e, ev, row, out, 1, edit_remove, 0);
}

static int eval_array_append(const struct sql_expr *e, struct sql_eval *ev,
                             const struct sql_datum *row,
                             struct sql_datum *out)
{
    return eval_edit(e, ev, row, out, 2, edit_append, 0);
}

static int eval_array_insert(const struct sql_expr *e, struct sql_eval *ev,
                             const struct sql_datum *row,
                             struct sql_datum *out)
{
    return eval_edit(e, ev, row, out, 2, edit_array_insert, 0);
}

/* ---- merging ------------------------------------------------------------- */

/* JSON_MERGE_PRESERVE of x and y (both opened as needed). */
static int merge_preserve(struct sql_arena *a, struct sql_json *x,
                          struct sql_json *y, struct sql_json **out)
{
    int rc;
    if ((rc = sql__json_open(x, a)) != 0 || (rc = sql__json_open(y, a)) != 0)
        return rc;
    if (x->tag == SQL_JSON_OBJECT && y->tag == SQL_JSON_OBJECT) {
        for (uint32_t i = 0; i < y->n; i++) {
            const struct sql_json_member *m = &y->v.m[i];
            bool found;
            uint32_t at = obj_find(x, m->k, m->kn, &found);
            if (found)
                rc = merge_preserve(a, x->v.m[at].val, m->val,
                                    &x->v.m[at].val);
            else
                rc = obj_insert(a, x, at, m->k, m->kn, m->val);
            if (rc != 0)
                return rc;
        }
        *out = x;
        return 0;
    }
    struct sql_json *arr = sql__json_new(a, SQL_JSON_ARRAY);
    uint32_t xn = x->tag == SQL_JSON_ARRAY ? x->n : 1;
    uint32_t yn = y->tag == SQL_JSON_ARRAY ? y->n : 1;
    if (arr == NULL ||
        (arr->v.a = sql__arena_alloc(a, sizeof *arr->v.a * (xn + yn))) == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < xn; i++)
        arr->v.a[i] = x->tag == SQL_JSON_ARRAY ? x->v.a[i] : x;
    for (uint32_t i = 0; i < yn; i++)
        arr->v.a[xn + i] = y->tag == SQL_JSON_ARRAY ? y->v.a[i] : y;
    arr->n = xn + yn;
    *out = arr;
    return 0;
}

/* RFC 7396 merge patch of x (may be NULL: absent) by y. */
static int merge_patch(struct sql_arena *a, struct sql_json *x,
                       struct sql_json *y, struct sql_json **out)
{
    int rc;
    if ((rc = sql__json_open(y, a)) != 0)
        return rc;
    if (y->tag != SQL_JSON_OBJECT) {
        *out = y;
        return 0;
    }
    if (x && (rc = sql__json_open(x, a)) != 0)
        return rc;
    if (x == NULL || x->tag != SQL_JSON_OBJECT)
        if ((x = sql__json_new(a, SQL_JSON_OBJECT)) == NULL)
            return -ENOMEM;
    for (uint32_t i = 0; i < y->n; i++) {
        const struct sql_json_member *m = &y->v.m[i];
        bool found;
        uint32_t at = obj_find(x, m->k, m->kn, &found);
        if ((rc = sql__json_open(m->val, a)) != 0)
            return rc;
        if (m->val->tag == SQL_JSON_NULL) {
            if (found) {
                memmove(x->v.m + at, x->v.m + at + 1,
                        sizeof *x->v.m * (x->n - at - 1));
                x->n--;
            }
            continue;
        }
        struct sql_json *nv;
        if ((rc = merge_patch(a, found ? x->v.m[at].val : NULL, m->val,
                              &nv)) != 0)
            return rc;
        if (found)
            x->v.m[at].val = nv;
        else if ((rc = obj_insert(a, x, at, m->k, m->kn, nv)) != 0)
            return rc;
    }
    *out = x;
    return 0;
}

static int eval_merge(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out,
                      bool patch)
{
    struct sql_json *acc = NULL;
    for (int i = 0; i < e->nargs; i++) {
        const uint8_t *doc;
        size_t dn;
        bool null;
        int rc = doc_arg(e, i, ev, row, &doc, &dn, &null);
        if (rc != 0 || null) {
            sql__datum_null(out);
            return rc;
        }
        struct sql_json *j = sql__json_raw(ev->arena, doc);
        if (j == NULL)
            return -ENOMEM;
        if (acc == NULL)
            acc = j;
        else if ((rc = patch ? merge_patch(ev->arena, acc, j, &acc)
                             : merge_preserve(ev->arena, acc, j, &acc)) != 0)
            return rc;
    }
    return ret_tree(ev, acc, out);
}

static int eval_merge_patch(const struct sql_expr *e, struct sql_eval *ev,
                            const struct sql_datum *row,
                            struct sql_datum *out)
{
    return eval_merge(e, ev, row, out, true);
}

static int eval_merge_preserve(const struct sql_expr *e, struct sql_eval *ev,
                               const struct sql_datum *row,
                               struct sql_datum *out)
{
    return eval_merge(e, ev, row, out, false);
}

/* ---- CAST and storing ---------------------------------------------------- */

int sql__json_cast(const struct sql_expr *e, struct sql_eval *ev,
                   const struct sql_datum *v, struct sql_datum *out)
{
    if (v->vt == SQL_VT_STRING) {
        const uint8_t *b;
        size_t n;
        bool null;
        int rc = doc_value(e, ev, v, 0, &b, &n, &null);
        if (rc == 0)
            sql__datum_json(out, b, n);
        return rc;
    }
    return sql__datum_convert(ev, v, SQL_VT_JSON, 0, out);
}

int sql__json_store(struct sql_eval *ev, const struct sql_datum *v,
                    const char *col, struct sql_datum *out)
{
    if (v->vt == SQL_VT_JSON) {
        *out = *v;
        return 0;
    }
    const char *msg = "not a JSON text, may need CAST";
    size_t pos = 0;
    if (v->vt == SQL_VT_STRING) {
        struct sql_json *j;
        struct sql_json_perr pe;
        const uint8_t *b;
        size_t n;
        int rc = sql__json_parse(v->v.s.p, v->v.s.n, ev->arena, &j, &pe);
        if (rc == 0 && (rc = sql__json_encode(j, ev->arena, &b, &n)) == 0)
            sql__datum_json(out, b, n);
        if (rc != SQL_EQUERY)
            return rc;
        if (pe.msg == NULL)
            return sql__err(ev->err, 3157, "22032",
                            "The JSON document exceeds the maximum depth of "
                            "%d.",
                            SQL_JSON_MAX_DEPTH);
        msg = pe.msg;
        pos = pe.pos;
    }
    return sql__err(ev->err, 3140, "22032",
                    "Invalid JSON text: \"%s\" at position %zu in value for "
                    "column '%s'.",
                    msg, pos, col);
}

/* ---- JSON_ARRAYAGG, JSON_OBJECTAGG ---------------------------------------- */

struct sql_json_agg
{
    struct sql_json_member *m; /* rows: key (OBJECTAGG) and encoded value,
                                  all copied into the group's arena */
    size_t n;                  /* rows */
    size_t cap;                /* room */
};

int sql__json_agg_add(struct sql_arena *ga, struct sql_json_agg **acc,
                      const struct sql_datum *v, int nargs,
                      struct sql_err *err)
{
    struct sql_json_agg *g = *acc;
    struct sql_json *j;
    const uint8_t *b;
    size_t bn;
    int rc;
    if (g == NULL && (g = *acc = sql__arena_zalloc(ga, sizeof *g)) == NULL)
        return -ENOMEM;
    if ((rc = sql__json_grow(ga, &g->m, &g->cap, g->n, sizeof *g->m)) != 0)
        return rc;
    struct sql_json_member *m = &g->m[g->n];
    memset(m, 0, sizeof *m);
    if (nargs == 2) {
        if (v[0].vt == SQL_VT_NULL)
            return sql__err(err, 3158, "22032",
                            "JSON documents may not contain NULL member "
                            "names.");
        /* The key's text (a number's digits) into the group's arena. */
        struct sql_eval kev = {NULL, ga, err};
        const char *k;
        if ((rc = sql__to_str(&kev, &v[0], &k, &m->kn)) != 0)
            return rc;
        if (!sql__json_utf8(k, m->kn))
            return sql__err(err, 3144, "22032",
                            "Cannot create a JSON value from a string with "
                            "CHARACTER SET 'binary'.");
        if ((m->k = sql__arena_strndup(ga, k, m->kn)) == NULL)
            return -ENOMEM;
    }
    /* Encoded at once: the row's bytes do not outlive the row. */
    if ((rc = sql__json_from_datum(&v[nargs - 1], ga, &j)) != 0 ||
        (rc = sql__json_encode(j, ga, &b, &bn)) != 0 ||
        (m->val = sql__json_raw(ga, b)) == NULL)
        return rc ? rc : -ENOMEM;
    g->n++;
    return 0;
}

int sql__json_agg_final(const struct sql_json_agg *acc, bool object,
                        struct sql_eval *ev, struct sql_datum *out)
{
    if (acc == NULL || acc->n == 0) {
        sql__datum_null(out);
        return 0;
    }
    struct sql_json *j = sql__json_new(ev->arena, object ? SQL_JSON_OBJECT
                                                         : SQL_JSON_ARRAY);
    if (j == NULL)
        return -ENOMEM;
    j->n = (uint32_t)acc->n;
    if (object) {
        /* A copy: sorting must not disturb the group's rows. */
        if ((j->v.m = sql__arena_alloc(ev->arena, sizeof *j->v.m * acc->n)) ==
            NULL)
            return -ENOMEM;
        memcpy(j->v.m, acc->m, sizeof *j->v.m * acc->n);
        sql__json_normalize(j);
    } else {
        if ((j->v.a = sql__arena_alloc(ev->arena, sizeof *j->v.a * acc->n)) ==
            NULL)
            return -ENOMEM;
        for (size_t i = 0; i < acc->n; i++)
            j->v.a[i] = acc->m[i].val;
    }
    return ret_tree(ev, j, out);
}

/* ---- the table -------------------------------------------------------------- */

const struct sql__func sql__funcs_json[] = {
    {"JSON_EXTRACT", 2, -1, check_json, eval_extract, false},
    {"JSON_UNQUOTE", 1, 1, check_text, eval_unquote, false},
    {"JSON_ARRAY", 0, -1, check_json, eval_array, false},
    {"JSON_OBJECT", 0, -1, check_pairs, eval_object, false},
    {"JSON_QUOTE", 1, 1, check_text, eval_quote, false},
    {"JSON_CONTAINS", 2, 3, check_int, eval_contains, false},
    {"JSON_CONTAINS_PATH", 3, -1, check_int, eval_contains_path, false},
    {"JSON_KEYS", 1, 2, check_json, eval_keys, false},
    {"JSON_LENGTH", 1, 2, check_int, eval_length, false},
    {"JSON_DEPTH", 1, 1, check_int, eval_depth, false},
    {"JSON_TYPE", 1, 1, check_text, eval_type, false},
    {"JSON_VALID", 1, 1, check_int, eval_valid, false},
    {"JSON_SET", 3, -1, check_doc_pairs, eval_set, false},
    {"JSON_INSERT", 3, -1, check_doc_pairs, eval_insert, false},
    {"JSON_REPLACE", 3, -1, check_doc_pairs, eval_replace, false},
    {"JSON_REMOVE", 2, -1, check_json, eval_remove, false},
    {"JSON_ARRAY_APPEND", 3, -1, check_doc_pairs, eval_array_append, false},
    {"JSON_ARRAY_INSERT", 3, -1, check_doc_pairs, eval_array_insert, false},
    {"JSON_MERGE_PATCH", 2, -1, check_json, eval_merge_patch, false},
    {"JSON_MERGE_PRESERVE", 2, -1, check_json, eval_merge_preserve, false},
    {"JSON_MERGE", 2, -1, check_json, eval_merge_preserve, false},
    {"JSON_SEARCH", 3, -1, check_json, eval_search, false},
    {"JSON_PRETTY", 1, 1, check_text, eval_pretty, false},
    {"JSON_OVERLAPS", 2, 2, check_int, eval_overlaps, false},
    {NULL, 0, 0, NULL, NULL, false},
};

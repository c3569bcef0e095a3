/* func.c: the native function table (lookup by name) and the control
 * functions IF, IFNULL, NULLIF, COALESCE. String, numeric, date and
 * information functions live in func_*.c. DESIGN.md, "Expressions".
 */
#include <strings.h>

#include "expr_int.h"

int sql__args(const struct sql_expr *e, struct sql_eval *ev,
              const struct sql_datum *row, struct sql_datum *v, bool *null)
{
    *null = false;
    for (int i = 0; i < e->nargs; i++) {
        int rc = sql__arg(e, i, ev, row, &v[i]);
        if (rc != 0)
            return rc;
        if (v[i].vt == SQL_VT_NULL) {
            *null = true;
            return 0;
        }
    }
    return 0;
}

void sql__set_type(struct sql_expr *e, int vt, int dec)
{
    e->vt = (uint8_t)vt;
    sql__ftype_of_vt(&e->type, vt, 0, dec);
}

void sql__set_str_type(struct sql_expr *e)
{
    uint16_t coll = 0;
    uint8_t coerc = 6;
    for (int i = 0; i < e->nargs; i++) {
        const struct sql_expr *x = e->args[i];
        if (x->vt != SQL_VT_STRING)
            continue;
        if (x->type.coll == SQL_COLL_BINARY) {
            coll = SQL_COLL_BINARY;
            coerc = 0;
            break;
        }
        if (coll == 0 || x->coerc < coerc) {
            coll = x->type.coll;
            coerc = x->coerc;
        }
    }
    e->vt = SQL_VT_STRING;
    sql__ftype_of_vt(&e->type, SQL_VT_STRING, coll, 0);
    e->coll = e->type.coll;
    e->coerc = coerc < 4 ? coerc : 4;
}

static int check_if(struct sql_expr *e, struct sql_arena *a,
                    struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__merge_result(e, 1, 1, -1);
    /* IF passes a NULL literal over (IF(c, tu, NULL) keeps TINYINT
     * UNSIGNED), not a NULL-typed expression: IF(c, NULLIF(NULL, x), tu)
     * is DECIMAL (F23). */
    sql__merge_null_unsigned(e, 1, 1, -1, false);
    return 0;
}

static int eval_if(const struct sql_expr *e, struct sql_eval *ev,
                   const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum c;
    int rc = sql__arg(e, 0, ev, row, &c);
    if (rc != 0)
        return rc;
    bool t = false;
    if (c.vt != SQL_VT_NULL && (rc = sql__datum_truth(ev, &c, &t)) != 0)
        return rc;
    if ((rc = sql__arg(e, t ? 1 : 2, ev, row, out)) != 0)
        return rc;
    return sql__to_result(e, ev, out);
}

static int check_merge_all(struct sql_expr *e, struct sql_arena *a,
                           struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__merge_result(e, 0, 1, -1);
    sql__merge_null_unsigned(e, 0, 1, -1, true);
    /* IFNULL/COALESCE: NULL only when every argument may be. */
    bool nn = false;
    for (int i = 0; i < e->nargs; i++)
        if (e->args[i]->type.flags & SQL_COLFLAG_NOT_NULL)
            nn = true;
    if (nn)
        e->type.flags |= SQL_COLFLAG_NOT_NULL;
    else
        e->type.flags &= (uint16_t)~SQL_COLFLAG_NOT_NULL;
    return 0;
}

static int eval_coalesce(const struct sql_expr *e, struct sql_eval *ev,
                         const struct sql_datum *row, struct sql_datum *out)
{
    for (int i = 0; i < e->nargs; i++) {
        int rc = sql__arg(e, i, ev, row, out);
        if (rc != 0)
            return rc;
        if (out->vt != SQL_VT_NULL)
            return sql__to_result(e, ev, out);
    }
    sql__datum_null(out);
    return 0;
}

static int check_nullif(struct sql_expr *e, struct sql_arena *a,
                        struct sql_err *err)
{
    (void)a;
    (void)err;
    e->vt = e->args[0]->vt;
    e->type = e->args[0]->type;
    e->type.flags &= (uint16_t)~SQL_COLFLAG_NOT_NULL;
    e->coll = sql__coll_pick(e->args[0], e->args[1]);
    e->coerc = e->args[0]->coerc;
    return 0;
}

static int eval_nullif(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum b;
    int rc;
    if ((rc = sql__arg(e, 0, ev, row, out)) != 0 ||
        (rc = sql__arg(e, 1, ev, row, &b)) != 0)
        return rc;
    if (out->vt == SQL_VT_NULL || b.vt == SQL_VT_NULL)
        return 0;
    int c;
    if ((rc = sql__datum_cmp_ev(ev, out, &b, e->coll, &c)) != 0)
        return rc;
    if (c == 0)
        sql__datum_null(out);
    return 0;
}

static const struct sql__func control[] = {
    {"IF", 3, 3, check_if, eval_if, false},
    {"IFNULL", 2, 2, check_merge_all, eval_coalesce, false},
    {"NULLIF", 2, 2, check_nullif, eval_nullif, false},
    {"COALESCE", 1, -1, check_merge_all, eval_coalesce, false},
    {NULL, 0, 0, NULL, NULL, false},
};

static const struct sql__func *const tables[] = {
    control,
    sql__funcs_string,
    sql__funcs_math,
    sql__funcs_date,
    sql__funcs_misc,
    sql__funcs_json,
    sql__funcs_json_table,
};

const struct sql__func *sql__func_find(const char *name)
{
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const struct sql__func *f = tables[t]; f->name; f++)
            if (strcasecmp(f->name, name) == 0)
                return f;
    return NULL;
}

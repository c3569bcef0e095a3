/* expr.c: compiles parse-tree expressions (ast.h) into sql_expr trees and
 * evaluates them row by row: literals, parameters, columns, variables,
 * arithmetic with MySQL's integer/decimal/double rules and overflow
 * errors, comparisons, three-valued logic, IS, LIKE, BETWEEN, IN, CASE.
 * Functions live in func*.c. DESIGN.md, "Expressions".
 */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "datetime.h"
#include "decimal.h"
#include "expr_int.h"

#define ST_42000 "42000"
#define ST_22003 "22003"

/* ---- static types ------------------------------------------------------- */

void sql__ftype_of_vt(struct sql_ftype *t, int vt, uint16_t coll, int dec)
{
    memset(t, 0, sizeof *t);
    t->coll = SQL_COLL_BINARY;
    t->dec = -1;
    switch (vt) {
    case SQL_VT_NULL:
        t->tp = SQL_TYPE_NULL;
        t->flags = SQL_COLFLAG_BINARY;
        break;
    case SQL_VT_INT:
        t->tp = SQL_TYPE_LONGLONG;
        t->len = 21;
        t->dec = 0;
        t->flags = SQL_COLFLAG_BINARY | SQL_COLFLAG_NUM;
        break;
    case SQL_VT_UINT:
        t->tp = SQL_TYPE_LONGLONG;
        t->len = 20;
        t->dec = 0;
        t->flags = SQL_COLFLAG_BINARY | SQL_COLFLAG_NUM | SQL_COLFLAG_UNSIGNED;
        break;
    case SQL_VT_DOUBLE:
        t->tp = SQL_TYPE_DOUBLE;
        t->len = 22;
        t->dec = (int8_t)(dec >= 0 && dec < 31 ? dec : -1);
        t->flags = SQL_COLFLAG_BINARY | SQL_COLFLAG_NUM;
        break;
    case SQL_VT_DECIMAL:
        t->tp = SQL_TYPE_NEWDECIMAL;
        t->dec = (int8_t)(dec >= 0 ? dec : 0);
        t->len = 67;
        t->flags = SQL_COLFLAG_BINARY | SQL_COLFLAG_NUM;
        break;
    case SQL_VT_DATE:
        t->tp = SQL_TYPE_DATE;
        t->len = 10;
        t->dec = 0;
        t->flags = SQL_COLFLAG_BINARY;
        break;
    case SQL_VT_DATETIME:
        t->tp = SQL_TYPE_DATETIME;
        t->dec = (int8_t)(dec > 0 ? dec : 0);
        t->len = (uint32_t)(19 + (dec > 0 ? dec + 1 : 0));
        t->flags = SQL_COLFLAG_BINARY;
        break;
    case SQL_VT_TIME:
        t->tp = SQL_TYPE_TIME;
        t->dec = (int8_t)(dec > 0 ? dec : 0);
        t->len = (uint32_t)(10 + (dec > 0 ? dec + 1 : 0));
        t->flags = SQL_COLFLAG_BINARY;
        break;
    case SQL_VT_JSON:
        t->tp = SQL_TYPE_JSON;
        t->len = 4294967295u;
        t->dec = 31;
        t->flags = SQL_COLFLAG_BINARY | SQL_COLFLAG_BLOB;
        break;
    default: /* strings and unknown classes */
        t->tp = SQL_TYPE_VAR_STRING;
        t->coll = coll ? coll : SQL_COLL_UTF8MB4_GENERAL_CI;
        t->len = 255;
        t->dec = 31;
        if (t->coll == SQL_COLL_BINARY)
            t->flags = SQL_COLFLAG_BINARY;
        break;
    }
}

static bool vt_is_temporal(int vt)
{
    return vt == SQL_VT_DATE || vt == SQL_VT_DATETIME || vt == SQL_VT_TIME;
}

int sql__vt_merge(int a, int b)
{
    if (a == EX_VT_ANY || b == EX_VT_ANY)
        return EX_VT_ANY;
    if (a == SQL_VT_NULL)
        return b;
    if (b == SQL_VT_NULL || a == b)
        return a;
    if (a == SQL_VT_STRING || b == SQL_VT_STRING || a == SQL_VT_JSON ||
        b == SQL_VT_JSON)
        return SQL_VT_STRING;
    if (vt_is_temporal(a) && vt_is_temporal(b))
        return SQL_VT_DATETIME;
    if (vt_is_temporal(a) || vt_is_temporal(b))
        return SQL_VT_STRING;
    if (a == SQL_VT_DOUBLE || b == SQL_VT_DOUBLE)
        return SQL_VT_DOUBLE;
    return SQL_VT_DECIMAL; /* int with decimal, or signed with unsigned */
}

void sql__merge_result(struct sql_expr *e, int from, int step, int extra)
{
    int vt = SQL_VT_NULL;
    int dec = 0, fsp = 0;
    uint16_t coll = 0;
    uint8_t coerc = 6;
    /* MariaDB's aggregate_for_result keeps FLOAT with a FLOAT and
     * TINYINT, SMALLINT or MEDIUMINT (IF(ti, f), CASE, COALESCE, a
     * UNION); INT, BIGINT, DECIMAL or DOUBLE make it DOUBLE. */
    bool nullable = false, unfixed = false, any_float = false,
         float_ok = true;
    int same_tp = -1; /* the arguments' one type, 256 for several */
    uint16_t same_flags = 0;
    int limit = extra >= 0 ? extra : e->nargs;
    for (int i = from;; i += step) {
        if (i >= limit) {
            if (extra < 0 || limit == -1)
                break;
            i = extra;
            limit = -1; /* the extra branch, then stop */
        }
        const struct sql_expr *x = e->args[i];
        vt = sql__vt_merge(vt, x->vt);
        if (x->vt == SQL_VT_DOUBLE && (x->type.dec < 0 || x->type.dec >= 31))
            unfixed = true;
        if (x->vt != SQL_VT_NULL && (same_tp < 0 ||
                                     (same_tp == x->type.tp &&
                                      same_flags == (x->type.flags &
                                                     SQL_COLFLAG_UNSIGNED)))) {
            same_tp = x->type.tp;
            same_flags = x->type.flags & SQL_COLFLAG_UNSIGNED;
        } else if (x->vt != SQL_VT_NULL) {
            same_tp = 256; /* two types */
        }
        if (x->vt != SQL_VT_NULL && x->type.tp == SQL_TYPE_FLOAT)
            any_float = true;
        else if (x->vt != SQL_VT_NULL && x->type.tp != SQL_TYPE_TINY &&
                 x->type.tp != SQL_TYPE_SHORT && x->type.tp != SQL_TYPE_INT24)
            float_ok = false;
        if (x->type.dec > dec && x->type.dec < 31)
            dec = x->type.dec;
        if ((x->vt == SQL_VT_DATETIME || x->vt == SQL_VT_TIME) &&
            x->type.dec > fsp)
            fsp = x->type.dec;
        if (x->vt == SQL_VT_STRING && (x->coerc < coerc || coll == 0)) {
            coll = x->type.coll;
            coerc = x->coerc;
        } else if (x->vt == SQL_VT_STRING &&
                   x->type.coll == SQL_COLL_BINARY)
            coll = SQL_COLL_BINARY;
        if (!(x->type.flags & SQL_COLFLAG_NOT_NULL))
            nullable = true;
        if (limit == -1)
            break;
    }
    e->vt = (uint8_t)vt;
    sql__ftype_of_vt(&e->type, vt, coll,
                     vt == SQL_VT_DATETIME || vt == SQL_VT_TIME ? fsp
                     : vt == SQL_VT_DOUBLE && unfixed          ? -1
                                                               : dec);
    if (vt == SQL_VT_STRING)
        e->coll = e->type.coll;
    /* Integers of one small type keep it (LEAST(smallint, smallint) is
     * a SMALLINT, which a FLOAT then merges with as FLOAT). */
    if ((vt == SQL_VT_INT || vt == SQL_VT_UINT) &&
        (same_tp == SQL_TYPE_TINY || same_tp == SQL_TYPE_SHORT ||
         same_tp == SQL_TYPE_INT24))
        e->type.tp = (uint8_t)same_tp;
    if (vt == SQL_VT_DOUBLE && any_float && float_ok) {
        e->type.tp = SQL_TYPE_FLOAT;
        e->type.len = 12;
    }
    if (!nullable)
        e->type.flags |= SQL_COLFLAG_NOT_NULL;
    e->coerc = coerc;
}

void sql__merge_null_unsigned(struct sql_expr *e, int from, int step,
                              int extra, bool null_lit)
{
    if (e->vt != SQL_VT_UINT)
        return;
    bool any_null = false;
    int limit = extra >= 0 ? extra : e->nargs;
    for (int i = from; i < limit && !any_null; i += step)
        any_null = e->args[i]->vt == SQL_VT_NULL &&
                   (null_lit || e->args[i]->op != EX_LIT);
    if (extra >= 0 && extra < e->nargs && e->args[extra]->vt == SQL_VT_NULL &&
        (null_lit || e->args[extra]->op != EX_LIT))
        any_null = true;
    if (!any_null)
        return;
    uint16_t nn = e->type.flags & SQL_COLFLAG_NOT_NULL;
    e->vt = SQL_VT_DECIMAL;
    sql__ftype_of_vt(&e->type, SQL_VT_DECIMAL, 0, 0);
    e->type.flags |= nn;
}

int sql__to_result(const struct sql_expr *e, struct sql_eval *ev,
                   struct sql_datum *v)
{
    if (v->vt == SQL_VT_NULL || e->vt == EX_VT_ANY)
        return 0;
    if (v->vt != e->vt) {
        int rc = sql__datum_convert(ev, v, e->vt, e->type.coll, v);
        if (rc != 0)
            return rc;
    }
    /* A DECIMAL result has the merged scale (GREATEST(1, 2.50) is 2.50,
     * and a quotient of it is sized by that scale). */
    if (v->vt == SQL_VT_DECIMAL && e->type.dec >= 0 &&
        e->type.dec <= SQL_DEC_MAX_SCALE && v->v.dec.scale != e->type.dec)
        (void)sql__dec_rescale(&v->v.dec, e->type.dec, &v->v.dec);
    return 0;
}

uint16_t sql__coll_pick(const struct sql_expr *a, const struct sql_expr *b)
{
    if (a->vt != SQL_VT_STRING || b->vt != SQL_VT_STRING)
        return 0;
    if (a->type.coll == SQL_COLL_BINARY || b->type.coll == SQL_COLL_BINARY)
        return SQL_COLL_BINARY;
    if (b->coerc < a->coerc)
        return b->type.coll;
    return a->type.coll;
}

static const char *coerc_name(uint8_t c)
{
    static const char *const names[] = {"EXPLICIT",  "NONE",     "IMPLICIT",
                                        "SYSCONST",  "COERCIBLE", "NUMERIC",
                                        "IGNORABLE"};
    return c < 7 ? names[c] : "IGNORABLE";
}

/* MySQL's 1267: two strings of different collations with the same
 * coercibility (two columns, or two COLLATE clauses) cannot be compared;
 * binary strings always win, and a lower coercibility wins. */
static int coll_conflict(const struct sql_expr *a, const struct sql_expr *b,
                         const char *op, struct sql_err *err)
{
    if (a->vt != SQL_VT_STRING || b->vt != SQL_VT_STRING)
        return 0;
    uint16_t ca = a->type.coll, cb = b->type.coll;
    if (ca == cb || ca == SQL_COLL_BINARY || cb == SQL_COLL_BINARY ||
        a->coerc != b->coerc || a->coerc > 2)
        return 0;
    return sql__err(err, 1267, "HY000",
                    "Illegal mix of collations (%s,%s) and (%s,%s) for "
                    "operation '%s'",
                    sql__coll_name(ca), coerc_name(a->coerc),
                    sql__coll_name(cb), coerc_name(b->coerc), op);
}

int sql__div_zero(struct sql_eval *ev, struct sql_datum *out)
{
    sql__datum_null(out);
    uint32_t mode = ev->env ? ev->env->sql_mode : 0;
    if (!(mode & SQL_MODE_ERROR_FOR_DIVISION_BY_ZERO))
        return 0;
    if (sql__strict(ev) && (ev->env->flags & SQL_EVAL_DML))
        return sql__err(ev->err, SQL_ER_DIVISION_BY_ZERO, "22012",
                        "Division by 0");
    sql__warn(ev, SQL_ER_DIVISION_BY_ZERO, "Division by 0");
    return 0;
}

int sql__ret_str(struct sql_eval *ev, struct sql_datum *out, const char *p,
                 size_t n, uint16_t coll)
{
    char *c = sql__arena_alloc(ev->arena, n + 1);
    if (c == NULL)
        return -ENOMEM;
    if (n)
        memcpy(c, p, n);
    c[n] = '\0';
    sql__datum_str(out, c, n, coll);
    return 0;
}

/* ---- compiler --------------------------------------------------------- */

static struct sql_expr *node(struct sql_arena *a, int op, int nargs)
{
    struct sql_expr *e = sql__arena_zalloc(a, sizeof *e);
    if (e == NULL)
        return NULL;
    e->op = (uint8_t)op;
    e->is_const = true;
    e->coerc = 5; /* numeric */
    if (nargs > 0) {
        e->args = sql__arena_zalloc(a, sizeof *e->args * (size_t)nargs);
        if (e->args == NULL)
            return NULL;
    }
    e->nargs = (uint16_t)nargs;
    return e;
}

static int compile(struct sql_arena *a, const struct ast_expr *x,
                   const struct sql_expr_scope *scope, struct sql_expr **out,
                   struct sql_err *err);

static int compile_args(struct sql_arena *a, struct sql_expr *e, int from,
                        const struct ast_expr *list,
                        const struct sql_expr_scope *scope,
                        struct sql_err *err)
{
    int i = from;
    for (const struct ast_expr *x = list; x; x = x->next, i++) {
        int rc = compile(a, x, scope, &e->args[i], err);
        if (rc != 0)
            return rc;
        if (!e->args[i]->is_const)
            e->is_const = false;
    }
    return 0;
}

static int count_list(const struct ast_expr *x)
{
    int n = 0;
    for (; x; x = x->next)
        n++;
    return n;
}

static void type_bool(struct sql_expr *e)
{
    e->vt = SQL_VT_INT;
    sql__ftype_of_vt(&e->type, SQL_VT_INT, 0, 0);
    e->type.len = 1;
}

static int lit_string(struct sql_arena *a, struct sql_expr *e,
                      const char *s, size_t n, uint16_t coll)
{
    char *p = sql__arena_strndup(a, s ? s : "", n);
    if (p == NULL)
        return -ENOMEM;
    sql__datum_str(&e->lit, p, n, coll);
    e->vt = SQL_VT_STRING;
    sql__ftype_of_vt(&e->type, SQL_VT_STRING, coll, 0);
    e->type.len = (uint32_t)(coll == SQL_COLL_BINARY ? n : n * 4);
    e->type.flags |= SQL_COLFLAG_NOT_NULL;
    e->coll = coll;
    e->coerc = 4; /* coercible */
    return 0;
}

static int compile_literal(struct sql_arena *a, const struct ast_expr *x,
                           struct sql_expr *e, struct sql_err *err)
{
    switch (x->kind) {
    case AST_E_NULL:
        e->vt = SQL_VT_NULL;
        sql__ftype_of_vt(&e->type, SQL_VT_NULL, 0, 0);
        e->coerc = 6;
        return 0;
    case AST_E_BOOL:
        sql__datum_int(&e->lit, x->ival);
        type_bool(e);
        e->type.flags |= SQL_COLFLAG_NOT_NULL;
        return 0;
    case AST_E_INT:
        if (x->is_unsigned) {
            sql__datum_uint(&e->lit, x->uval);
            e->vt = SQL_VT_UINT;
        } else {
            sql__datum_int(&e->lit, x->ival);
            e->vt = SQL_VT_INT;
        }
        sql__ftype_of_vt(&e->type, e->vt, 0, 0);
        e->type.len = (uint32_t)(x->str.n ? x->str.n : 1) +
                      (x->ival < 0 && !x->is_unsigned);
        e->type.flags |= SQL_COLFLAG_NOT_NULL;
        return 0;
    case AST_E_DECIMAL: {
        e->lit.vt = SQL_VT_DECIMAL;
        int rc = sql__dec_parse(x->str.s, x->str.n, &e->lit.v.dec, NULL);
        if (rc == SQL_DEC_OVERFLOW) {
            /* Beyond DECIMAL(65): MySQL reads it as a DOUBLE. */
            double d;
            bool clean;
            sql__str_to_double(x->str.s, x->str.n, &d, &clean);
            sql__datum_double(&e->lit, d);
            e->vt = SQL_VT_DOUBLE;
            sql__ftype_of_vt(&e->type, SQL_VT_DOUBLE, 0, -1);
        } else {
            e->vt = SQL_VT_DECIMAL;
            sql__ftype_of_vt(&e->type, SQL_VT_DECIMAL, 0,
                             e->lit.v.dec.scale);
            e->type.len = (uint32_t)x->str.n + 1;
        }
        e->type.flags |= SQL_COLFLAG_NOT_NULL;
        return 0;
    }
    case AST_E_FLOAT: {
        double d;
        bool clean;
        sql__str_to_double(x->str.s, x->str.n, &d, &clean);
        if (isinf(d) || fabs(d) > 1.7976931348623157e308)
            return sql__err(err, 1367, ST_22003,
                            "Illegal double '%.*s' value found during "
                            "parsing",
                            (int)x->str.n, x->str.s);
        sql__datum_double(&e->lit, d);
        e->vt = SQL_VT_DOUBLE;
        sql__ftype_of_vt(&e->type, SQL_VT_DOUBLE, 0, -1);
        e->type.flags |= SQL_COLFLAG_NOT_NULL;
        return 0;
    }
    case AST_E_HEX:
        /* x'..': a binary string that reads as an unsigned number in
         * numeric context (handled where numbers are needed). */
        e->iarg = 1;
        return lit_string(a, e, x->str.s, x->str.n, SQL_COLL_BINARY);
    case AST_E_BIT: {
        uint64_t v = 0;
        for (size_t i = 0; i < x->str.n; i++)
            v = (v << 1) | (uint64_t)(x->str.s[i] == '1');
        size_t nb = (x->str.n + 7) / 8;
        char bytes[8];
        if (nb > 8)
            nb = 8;
        if (nb == 0)
            nb = 1;
        for (size_t i = 0; i < nb; i++)
            bytes[i] = (char)(v >> (8 * (nb - 1 - i)));
        e->iarg = 1;
        return lit_string(a, e, bytes, nb, SQL_COLL_BINARY);
    }
    case AST_E_STRING: {
        if (x->name != NULL) { /* DATE '..', TIME '..', TIMESTAMP '..' */
            int vt = strcasecmp(x->name, "DATE") == 0   ? SQL_VT_DATE
                     : strcasecmp(x->name, "TIME") == 0 ? SQL_VT_TIME
                                                        : SQL_VT_DATETIME;
            int fsp = 0;
            int rc = vt == SQL_VT_TIME
                         ? sql__time_parse_time(x->str.s, x->str.n,
                                                &e->lit.v.t, &fsp)
                         : sql__time_parse_datetime(x->str.s, x->str.n,
                                                    &e->lit.v.t, &fsp);
            if (rc != 0 || (vt != SQL_VT_TIME &&
                            !sql__date_valid(&e->lit.v.t)))
                return sql__err(err, 1525, "HY000",
                                "Incorrect %s value: '%.*s'",
                                vt == SQL_VT_DATE   ? "DATE"
                                : vt == SQL_VT_TIME ? "TIME"
                                                    : "DATETIME",
                                (int)x->str.n, x->str.s);
            e->lit.vt = (uint8_t)vt;
            if (vt == SQL_VT_DATE) {
                e->lit.v.t.hour = e->lit.v.t.minute = e->lit.v.t.second = 0;
                e->lit.v.t.micro = 0;
                fsp = 0;
            }
            e->lit.fsp = (uint8_t)fsp;
            e->vt = (uint8_t)vt;
            sql__ftype_of_vt(&e->type, vt, 0, fsp);
            e->type.flags |= SQL_COLFLAG_NOT_NULL;
            return 0;
        }
        uint16_t coll = SQL_COLL_UTF8MB4_GENERAL_CI;
        if (x->charset && strcasecmp(x->charset, "binary") == 0)
            coll = SQL_COLL_BINARY;
        return lit_string(a, e, x->str.s, x->str.n, coll);
    }
    default:
        return SQL_EINTERNAL;
    }
}

/* A hex/bit literal in numeric context: its bytes as a big-endian
 * unsigned number. */
static void hex_to_number(struct sql_expr *e)
{
    if (e->op != EX_LIT || e->iarg != 1 || e->lit.vt != SQL_VT_STRING)
        return;
    uint64_t v = 0;
    for (size_t i = 0; i < e->lit.v.s.n; i++)
        v = (v << 8) | (uint8_t)e->lit.v.s.p[i];
    sql__datum_uint(&e->lit, v);
    e->vt = SQL_VT_UINT;
    sql__ftype_of_vt(&e->type, SQL_VT_UINT, 0, 0);
    e->type.flags |= SQL_COLFLAG_NOT_NULL;
}

/* The static class of an arithmetic result. */
static int arith_vt(int op, int a, int b)
{
    /* A NULL operand (a NULL literal) makes it a DOUBLE, DIV an INT
     * (MariaDB 10.11: `i + NULL`, `NULL MOD i`, so COALESCE(i, NULL + 1)
     * is a DOUBLE, difftest F23). */
    if (a == SQL_VT_NULL || b == SQL_VT_NULL)
        return op == AST_OP_INTDIV ? SQL_VT_INT : SQL_VT_DOUBLE;
    if (a == EX_VT_ANY || b == EX_VT_ANY)
        return EX_VT_ANY;
    if (a == SQL_VT_STRING || a == SQL_VT_JSON)
        a = SQL_VT_DOUBLE;
    if (b == SQL_VT_STRING || b == SQL_VT_JSON)
        b = SQL_VT_DOUBLE;
    if (vt_is_temporal(a))
        a = SQL_VT_INT;
    if (vt_is_temporal(b))
        b = SQL_VT_INT;
    if (op == AST_OP_INTDIV)
        return (a == SQL_VT_UINT || b == SQL_VT_UINT) ? SQL_VT_UINT
                                                      : SQL_VT_INT;
    if (a == SQL_VT_DOUBLE || b == SQL_VT_DOUBLE)
        return SQL_VT_DOUBLE;
    if (op == AST_OP_DIV || a == SQL_VT_DECIMAL || b == SQL_VT_DECIMAL)
        return SQL_VT_DECIMAL;
    if (op == AST_OP_MOD)
        return a == SQL_VT_UINT ? SQL_VT_UINT : SQL_VT_INT;
    return (a == SQL_VT_UINT || b == SQL_VT_UINT) ? SQL_VT_UINT
                                                  : SQL_VT_INT;
}

/* An operand's decimals as MariaDB's arithmetic types it: -1 for
 * NOT_FIXED_DEC (a DOUBLE without fixed decimals, a string). */
static int dec_of(const struct sql_expr *e)
{
    if ((e->vt == SQL_VT_DOUBLE && (e->type.dec < 0 || e->type.dec >= 31)) ||
        e->vt == SQL_VT_STRING || e->vt == SQL_VT_JSON)
        return -1;
    if (e->vt == SQL_VT_DECIMAL || e->vt == SQL_VT_DOUBLE)
        return e->type.dec >= 0 && e->type.dec < 31 ? e->type.dec : 0;
    if ((e->vt == SQL_VT_DATETIME || e->vt == SQL_VT_TIME) && e->type.dec > 0)
        return e->type.dec;
    return 0;
}

/* The class an arithmetic operand computes in: an ENUM/SET column its
 * number (an integer), a DATETIME or TIME with fractional seconds a
 * DECIMAL of that scale (MariaDB: DATETIME(3) + 0 is DECIMAL(.., 3), as
 * numeric_operand makes its value; it was typed BIGINT), else its own. */
static int arith_operand_vt(const struct sql_expr *x)
{
    if (sql__type_is_enumset(&x->type))
        return SQL_VT_INT;
    if ((x->vt == SQL_VT_DATETIME || x->vt == SQL_VT_TIME) &&
        x->type.dec > 0 && x->type.dec <= 6)
        return SQL_VT_DECIMAL;
    return x->vt;
}

void sql__arith_type(struct sql_expr *e)
{
    int op = e->sub;
    int vt = arith_vt(op, arith_operand_vt(e->args[0]),
                      arith_operand_vt(e->args[1]));
    int d1 = dec_of(e->args[0]), d2 = dec_of(e->args[1]);
    bool unfixed = d1 < 0 || d2 < 0;
    d1 = d1 < 0 ? 0 : d1;
    d2 = d2 < 0 ? 0 : d2;
    int dmax = d1 > d2 ? d1 : d2;
    int dec;
    if (vt == SQL_VT_DOUBLE) {
        /* MariaDB's double arithmetic (count_real_length): the larger
         * of the operands' decimals, 4 more for `/`; not fixed when an
         * operand is not or past 30 (ROUND(1e2, 1) / ROUND(1e2, 3) shows
         * 7 decimals, ROUND(1e2, 2) * ROUND(1e2, 3) 3). */
        dec = dmax + (op == AST_OP_DIV ? 4 : 0);
        if (unfixed || dec >= 31)
            dec = -1;
    } else {
        dec = op == AST_OP_MUL ? d1 + d2 : op == AST_OP_DIV ? d1 + 4 : dmax;
        if (dec > SQL_DEC_MAX_SCALE)
            dec = SQL_DEC_MAX_SCALE;
    }
    e->vt = (uint8_t)vt;
    sql__ftype_of_vt(&e->type, vt == EX_VT_ANY ? SQL_VT_DOUBLE : vt, 0,
                     vt == EX_VT_ANY ? -1 : dec);
}

static const char *print_text(struct sql_arena *a, const struct ast_expr *x)
{
    const char *t = sql__ast_print_expr(a, x);
    return t ? t : "";
}

static int nullable_of(const struct sql_expr *e)
{
    for (int i = 0; i < e->nargs; i++)
        if (!(e->args[i]->type.flags & SQL_COLFLAG_NOT_NULL))
            return 1;
    return 0;
}

static int compile_func(struct sql_arena *a, const struct ast_expr *x,
                        const struct sql_expr_scope *scope,
                        struct sql_expr **out, struct sql_err *err);

static int compile_unit(const char *unit);

static int compile(struct sql_arena *a, const struct ast_expr *x,
                   const struct sql_expr_scope *scope, struct sql_expr **out,
                   struct sql_err *err);

/* A subquery's value as a literal of its column's type. */
static struct sql_expr *subq_lit(struct sql_arena *a,
                                 const struct sql_datum *d,
                                 const struct sql_ftype *t)
{
    struct sql_expr *e = node(a, EX_LIT, 0);
    if (!e)
        return NULL;
    e->lit = *d;
    e->vt = d->vt;
    e->type = *t;
    e->type.flags &= (uint16_t)~SQL_COLFLAG_NOT_NULL;
    e->coll = d->vt == SQL_VT_STRING ? t->coll : 0;
    e->coerc = 2; /* implicit, as a column's */
    return e;
}

/* A correlated subquery: run per row with the outer values it reads. */
static int compile_correlated(struct sql_arena *a, const struct ast_expr *x,
                              const struct sql_expr_scope *scope,
                              const struct sql_subq *sq,
                              struct sql_expr **out, struct sql_err *err)
{
    if (x->kind != AST_E_EXISTS && sq->ncols != 1)
        return sql__err(err, SQL_ER_OPERAND_COLUMNS, "21000",
                        "Operand should contain 1 column(s)");
    int first = x->kind == AST_E_IN || x->kind == AST_E_CMP_SUBQ ? 1 : 0;
    size_t n = (size_t)first + sq->ncaptures;
    if (n > 65535)
        return sql__err(err, SQL_ER_NOT_SUPPORTED_YET, ST_42000,
                        "This version of sqld doesn't yet support '%s'",
                        "subqueries reading that many outer columns");
    struct sql_expr *e = node(a, EX_SUBQ, (int)n);
    if (!e)
        return -ENOMEM;
    int rc;
    if (first && (rc = compile(a, x->a, scope, &e->args[0], err)) != 0)
        return rc;
    for (size_t i = 0; i < sq->ncaptures; i++) {
        struct sql_expr *c = node(a, EX_COL, 0);
        if (!c)
            return -ENOMEM;
        c->idx = sq->captures[i].index;
        c->type = sq->captures[i].type;
        c->vt = (uint8_t)sql__ftype_vt(&c->type);
        c->coll = c->type.coll;
        c->coerc = 2;
        c->is_const = false;
        e->args[(size_t)first + i] = c;
    }
    e->is_const = false;
    e->sub = x->kind;
    e->neg = x->neg;
    e->subq = sq->deferred;
    if (x->kind == AST_E_SUBQUERY) {
        e->type = sq->type;
        e->type.flags &= (uint16_t)~SQL_COLFLAG_NOT_NULL;
        e->vt = (uint8_t)sql__ftype_vt(&e->type);
        e->coll = e->type.coll;
        e->coerc = 2;
    } else {
        type_bool(e);
        if (first) {
            struct sql_datum null = {.vt = SQL_VT_NULL};
            struct sql_expr *lit = subq_lit(a, &null, &sq->type);
            if (!lit)
                return -ENOMEM;
            e->iarg = sql__coll_pick(e->args[0], lit);
            if (x->kind == AST_E_CMP_SUBQ)
                e->iarg = EX_QUANT_IARG(e->iarg, x->op,
                                        x->ival == AST_OP_ALL);
        }
    }
    *out = e;
    return 0;
}

/* An uncorrelated subquery's rows as literals of its column's type t
 * (DESIGN.md "Subqueries"): a scalar subquery is its one value (NULL
 * when empty; 1242 for more rows), EXISTS 0 or 1, x IN (subquery) an IN
 * list of its values, so NULL semantics are IN's own (NULL when nothing
 * matched and a NULL is in the list), except that an empty subquery is
 * FALSE (NOT IN: TRUE) even for a NULL x; x op ANY/ALL an EX_QUANT node.
 * kind, neg, op and all are the AST node's; left is x compiled (IN and
 * ANY/ALL). */
static int subq_literal(struct sql_arena *a, int kind, bool neg, int op,
                        bool all, struct sql_expr *left,
                        const struct sql_datum *rows, size_t nrows,
                        const struct sql_ftype *t, struct sql_expr **out,
                        struct sql_err *err)
{
    struct sql_expr *e;
    if (kind == AST_E_EXISTS || (kind == AST_E_IN && nrows == 0)) {
        if (!(e = node(a, EX_LIT, 0)))
            return -ENOMEM;
        sql__datum_int(&e->lit, kind == AST_E_EXISTS ? (nrows > 0) != neg
                                                     : neg);
        type_bool(e);
        e->type.flags |= SQL_COLFLAG_NOT_NULL;
        *out = e;
        return 0;
    }
    if (kind == AST_E_SUBQUERY) {
        if (nrows > 1)
            return sql__err(err, 1242, "21000",
                            "Subquery returns more than 1 row");
        struct sql_datum null = {.vt = SQL_VT_NULL};
        *out = subq_lit(a, nrows ? &rows[0] : &null, t);
        return *out ? 0 : -ENOMEM;
    }
    if (nrows > 65534)
        return sql__err(err, SQL_ER_NOT_SUPPORTED_YET, ST_42000,
                        "This version of sqld doesn't yet support '%s'",
                        kind == AST_E_IN
                            ? "IN subqueries of more than 65534 rows"
                            : "ANY/ALL subqueries of more than 65534 rows");
    if (!(e = node(a, kind == AST_E_IN ? EX_IN : EX_QUANT, (int)nrows + 1)))
        return -ENOMEM;
    e->args[0] = left;
    for (size_t i = 0; i < nrows; i++)
        if (!(e->args[i + 1] = subq_lit(a, &rows[i], t)))
            return -ENOMEM;
    if (kind == AST_E_CMP_SUBQ) {
        struct sql_datum null = {.vt = SQL_VT_NULL};
        struct sql_expr *lit = subq_lit(a, &null, t);
        if (!lit)
            return -ENOMEM;
        e->iarg = EX_QUANT_IARG(sql__coll_pick(left, lit), op, all);
        e->is_const = false;
    } else {
        e->is_const = left->is_const;
        e->neg = neg;
        e->coll = sql__coll_pick(e->args[0], e->args[1]);
    }
    type_bool(e);
    *out = e;
    return 0;
}

/* What an uncorrelated subquery's EX_SUBQ node keeps (e->subq): it runs
 * at the node's first evaluation, after every name of the statement was
 * resolved (MariaDB's order: `SELECT (SELECT 9223372036854775807 + id
 * FROM t), nosuch FROM t` is 1054, not 1690), and its rows become the
 * literals subq_literal makes, evaluated from then on. The cache makes
 * the node mutable: the planner makes such a plan anew for every
 * execution (sql_session.plan_ran), in the arena it compiled into. */
struct subq_once
{
    void *deferred;         /* the planned subquery (env->subquery_run) */
    struct sql_arena *arena; /* the compile arena: rows and literals */
    struct sql_ftype type;  /* its column's type */
    struct sql_expr *lit;   /* the literals once it ran; NULL before */
};

static int eval_once(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out);

/* Subqueries: the planner plans the query (scope->subquery); correlated,
 * it runs per row (compile_correlated); uncorrelated, at its first
 * evaluation (struct subq_once). */
static int compile_subquery(struct sql_arena *a, const struct ast_expr *x,
                            const struct sql_expr_scope *scope,
                            struct sql_expr **out, struct sql_err *err)
{
    if (!scope || !scope->subquery)
        return sql__err(err, SQL_ER_NOT_SUPPORTED_YET, ST_42000,
                        "This version of sqld doesn't yet support '%s'",
                        "subqueries");
    struct sql_subq sq;
    memset(&sq, 0, sizeof(sq));
    if (x->kind == AST_E_CMP_SUBQ && x->op == AST_OP_NULLEQ)
        return sql__err(err, SQL_ER_NOT_SUPPORTED_YET, ST_42000,
                        "This version of sqld doesn't yet support '%s'",
                        "<=> ANY/ALL");
    int rc = scope->subquery(scope->sub_ctx, x->sub, scope, &sq, err);
    if (rc != 0)
        return rc;
    if ((rc = compile_correlated(a, x, scope, &sq, out, err)) != 0 ||
        sq.ncaptures > 0)
        return rc;
    struct subq_once *o = sql__arena_zalloc(a, sizeof(*o));
    if (!o)
        return -ENOMEM;
    o->deferred = sq.deferred;
    o->arena = a;
    o->type = sq.type;
    (*out)->subq = o;
    (*out)->once = true;
    return 0;
}

static int compile(struct sql_arena *a, const struct ast_expr *x,
                   const struct sql_expr_scope *scope, struct sql_expr **out,
                   struct sql_err *err)
{
    struct sql_expr *e = NULL;
    int rc;
    if (scope && scope->subtree && x->kind != AST_E_NULL) {
        struct sql_colref ref;
        rc = scope->subtree(scope->ctx, x, &ref, err);
        if (rc == 0) {
            if (!(e = node(a, EX_COL, 0)))
                return -ENOMEM;
            e->idx = ref.index;
            e->type = ref.type;
            e->vt = (uint8_t)sql__ftype_vt(&ref.type);
            e->coll = ref.type.coll;
            e->coerc = 2;
            e->is_const = false;
            *out = e;
            return 0;
        }
        if (rc != SQL_ENOTFOUND)
            return rc;
    }
    switch (x->kind) {
    case AST_E_NULL:
    case AST_E_BOOL:
    case AST_E_INT:
    case AST_E_DECIMAL:
    case AST_E_FLOAT:
    case AST_E_STRING:
    case AST_E_HEX:
    case AST_E_BIT:
        if (!(e = node(a, EX_LIT, 0)))
            return -ENOMEM;
        if ((rc = compile_literal(a, x, e, err)) != 0)
            return rc;
        break;
    case AST_E_PARAM:
        if (!(e = node(a, EX_PARAM, 0)))
            return -ENOMEM;
        e->idx = (uint32_t)x->ival;
        e->vt = EX_VT_ANY;
        e->is_const = false;
        sql__ftype_of_vt(&e->type, SQL_VT_STRING, 0, 0);
        e->coerc = 4;
        break;
    case AST_E_COLUMN: {
        struct sql_colref ref;
        if (!(e = node(a, EX_COL, 0)))
            return -ENOMEM;
        rc = scope && scope->column ? scope->column(scope->ctx, x, &ref, err)
                                    : SQL_ENOTFOUND;
        if (rc == SQL_ENOTFOUND) {
            const char *where = "field list";
            if (x->table)
                return sql__err(err, SQL_ER_BAD_FIELD_ERROR, "42S22",
                                "Unknown column '%s.%s' in '%s'", x->table,
                                x->name ? x->name : "*", where);
            return sql__err(err, SQL_ER_BAD_FIELD_ERROR, "42S22",
                            "Unknown column '%s' in '%s'",
                            x->name ? x->name : "*", where);
        }
        if (rc != 0)
            return rc;
        e->idx = ref.index;
        e->type = ref.type;
        e->vt = (uint8_t)sql__ftype_vt(&ref.type);
        e->coll = ref.type.coll;
        e->coerc = 2; /* implicit */
        e->is_const = false;
        break;
    }
    case AST_E_USERVAR:
        if (!(e = node(a, EX_USERVAR, 0)))
            return -ENOMEM;
        e->name = x->name;
        e->vt = EX_VT_ANY;
        e->is_const = false;
        sql__ftype_of_vt(&e->type, SQL_VT_STRING, 0, 0);
        e->coerc = 2;
        break;
    case AST_E_SYSVAR:
        if (!(e = node(a, EX_SYSVAR, 0)))
            return -ENOMEM;
        e->name = x->name;
        e->sub = x->scope;
        e->vt = EX_VT_ANY;
        e->is_const = false;
        sql__ftype_of_vt(&e->type, SQL_VT_STRING, 0, 0);
        e->coerc = 3;
        break;
    case AST_E_ASSIGN:
        if (!(e = node(a, EX_ASSIGN, 1)))
            return -ENOMEM;
        if ((rc = compile(a, x->a, scope, &e->args[0], err)) != 0)
            return rc;
        e->name = x->name;
        e->vt = e->args[0]->vt;
        e->type = e->args[0]->type;
        e->is_const = false;
        break;
    case AST_E_UNARY: {
        int op = x->op == AST_OP_NEG      ? EX_NEG
                 : x->op == AST_OP_BITNOT ? EX_BITNOT
                 : x->op == AST_OP_NOT    ? EX_NOT
                                          : EX_COLLATE;
        if (!(e = node(a, op, 1)))
            return -ENOMEM;
        if ((rc = compile(a, x->a, scope, &e->args[0], err)) != 0)
            return rc;
        struct sql_expr *c = e->args[0];
        e->is_const = c->is_const;
        if (op == EX_NEG && c->op == EX_LIT && c->lit.vt == SQL_VT_UINT &&
            c->lit.v.u > (uint64_t)INT64_MAX + 1) {
            /* -9999999999999999999: MySQL makes it a DECIMAL literal. */
            e->op = EX_LIT;
            e->nargs = 0;
            memset(&e->lit, 0, sizeof e->lit);
            e->lit.vt = SQL_VT_DECIMAL;
            sql__dec_from_u64(&e->lit.v.dec, c->lit.v.u);
            e->lit.v.dec.neg = true;
            e->vt = SQL_VT_DECIMAL;
            sql__ftype_of_vt(&e->type, SQL_VT_DECIMAL, 0, 0);
            e->type.flags |= SQL_COLFLAG_NOT_NULL;
            break;
        }
        if (op == EX_NEG) {
            hex_to_number(c);
            int vt = c->vt;
            if (sql__type_is_enumset(&c->type))
                vt = SQL_VT_INT;
            else if (vt == SQL_VT_STRING || vt == SQL_VT_JSON)
                vt = SQL_VT_DOUBLE;
            else if (vt == SQL_VT_UINT)
                vt = SQL_VT_INT;
            else if (vt_is_temporal(vt))
                vt = c->type.dec > 0 ? SQL_VT_DECIMAL : SQL_VT_INT;
            else if (vt == SQL_VT_NULL)
                vt = SQL_VT_DOUBLE; /* -NULL: MariaDB's DOUBLE (F23) */
            if (vt == SQL_VT_INT && sql__neg_widens(c, a))
                vt = SQL_VT_DECIMAL;
            e->vt = (uint8_t)vt;
            sql__ftype_of_vt(&e->type, vt, 0, dec_of(c));
            /* MySQL writes a negation as -(operand). */
            const char *in = print_text(a, x->a);
            size_t n = strlen(in) + 4;
            char *t = sql__arena_alloc(a, n);
            if (t == NULL)
                return -ENOMEM;
            snprintf(t, n, "-(%s)", in);
            e->text = t;
        } else if (op == EX_BITNOT) {
            hex_to_number(c);
            e->vt = SQL_VT_UINT;
            sql__ftype_of_vt(&e->type, SQL_VT_UINT, 0, 0);
        } else if (op == EX_NOT) {
            type_bool(e);
        } else { /* BINARY x: the value as a binary string */
            e->sub = SQL_COLL_BINARY;
            e->coll = SQL_COLL_BINARY;
            e->coerc = 0;
            e->vt = c->vt == SQL_VT_NULL ? SQL_VT_NULL : SQL_VT_STRING;
            sql__ftype_of_vt(&e->type, e->vt, SQL_COLL_BINARY, 0);
        }
        if (!nullable_of(e))
            e->type.flags |= SQL_COLFLAG_NOT_NULL;
        break;
    }
    case AST_E_BINARY: {
        int op = x->op;
        if (op == AST_OP_EQ || op == AST_OP_NULLEQ || op == AST_OP_NE ||
            op == AST_OP_LT || op == AST_OP_LE || op == AST_OP_GT ||
            op == AST_OP_GE) {
            if (!(e = node(a, EX_CMP, 2)))
                return -ENOMEM;
            e->sub = op;
            if ((rc = compile(a, x->a, scope, &e->args[0], err)) != 0 ||
                (rc = compile(a, x->b, scope, &e->args[1], err)) != 0)
                return rc;
            static const char *const opname[] = {
                [AST_OP_EQ] = "=",  [AST_OP_NULLEQ] = "<=>",
                [AST_OP_NE] = "<>", [AST_OP_LT] = "<",
                [AST_OP_LE] = "<=", [AST_OP_GT] = ">",
                [AST_OP_GE] = ">="};
            if ((rc = coll_conflict(e->args[0], e->args[1], opname[op],
                                    err)) != 0)
                return rc;
            e->coll = sql__coll_pick(e->args[0], e->args[1]);
            type_bool(e);
            if (op == AST_OP_NULLEQ || !nullable_of(e))
                e->type.flags |= SQL_COLFLAG_NOT_NULL;
        } else if ((op == AST_OP_ADD || op == AST_OP_SUB) &&
                   (x->b->kind == AST_E_INTERVAL ||
                    x->a->kind == AST_E_INTERVAL)) {
            /* d + INTERVAL n unit, INTERVAL n unit + d, d - INTERVAL .. */
            const struct ast_expr *d = x->b->kind == AST_E_INTERVAL ? x->a
                                                                    : x->b;
            const struct ast_expr *iv = d == x->a ? x->b : x->a;
            if (op == AST_OP_SUB && iv == x->a)
                return sql__err(err, 1064, ST_42000,
                                "You have an error in your SQL syntax");
            if (!(e = node(a, EX_DATE_ARITH, 2)))
                return -ENOMEM;
            if ((rc = compile(a, d, scope, &e->args[0], err)) != 0 ||
                (rc = compile(a, iv->a, scope, &e->args[1], err)) != 0)
                return rc;
            e->neg = op == AST_OP_SUB;
            e->sub = compile_unit(iv->name);
            if (e->sub < 0)
                return sql__err(err, 1064, ST_42000,
                                "You have an error in your SQL syntax");
            if (!(e->fn = sql__func_find("DATE_ADD")))
                return SQL_EINTERNAL;
            if ((rc = e->fn->check(e, a, err)) != 0)
                return rc;
        } else if (op == AST_OP_BITOR || op == AST_OP_BITAND ||
                   op == AST_OP_BITXOR || op == AST_OP_SHL ||
                   op == AST_OP_SHR) {
            if (!(e = node(a, EX_BIT, 2)))
                return -ENOMEM;
            e->sub = op;
            if ((rc = compile(a, x->a, scope, &e->args[0], err)) != 0 ||
                (rc = compile(a, x->b, scope, &e->args[1], err)) != 0)
                return rc;
            hex_to_number(e->args[0]);
            hex_to_number(e->args[1]);
            e->vt = SQL_VT_UINT;
            sql__ftype_of_vt(&e->type, SQL_VT_UINT, 0, 0);
        } else if (op == AST_OP_ADD || op == AST_OP_SUB ||
                   op == AST_OP_MUL || op == AST_OP_DIV ||
                   op == AST_OP_INTDIV || op == AST_OP_MOD) {
            if (!(e = node(a, EX_ARITH, 2)))
                return -ENOMEM;
            e->sub = op;
            if ((rc = compile(a, x->a, scope, &e->args[0], err)) != 0 ||
                (rc = compile(a, x->b, scope, &e->args[1], err)) != 0)
                return rc;
            hex_to_number(e->args[0]);
            hex_to_number(e->args[1]);
            sql__arith_type(e);
            e->text = print_text(a, x);
            if (!nullable_of(e) && op != AST_OP_DIV && op != AST_OP_MOD &&
                op != AST_OP_INTDIV)
                e->type.flags |= SQL_COLFLAG_NOT_NULL;
        } else {
            return sql__err(err, SQL_ER_NOT_SUPPORTED_YET, ST_42000,
                            "This version of sqld doesn't yet support "
                            "'this operator'");
        }
        for (int i = 0; i < e->nargs; i++)
            if (!e->args[i]->is_const)
                e->is_const = false;
        break;
    }
    case AST_E_LOGIC: {
        int n = count_list(x->args);
        int op = x->op == AST_OP_AND ? EX_AND
                 : x->op == AST_OP_OR ? EX_OR
                                      : EX_XOR;
        if (!(e = node(a, op, n)))
            return -ENOMEM;
        if ((rc = compile_args(a, e, 0, x->args, scope, err)) != 0)
            return rc;
        type_bool(e);
        if (!nullable_of(e))
            e->type.flags |= SQL_COLFLAG_NOT_NULL;
        break;
    }
    case AST_E_IS:
        if (!(e = node(a, EX_IS, 1)))
            return -ENOMEM;
        if ((rc = compile(a, x->a, scope, &e->args[0], err)) != 0)
            return rc;
        e->sub = x->op;
        e->neg = x->neg;
        e->is_const = e->args[0]->is_const;
        type_bool(e);
        e->type.flags |= SQL_COLFLAG_NOT_NULL;
        break;
    case AST_E_REGEXP:
        if (!(e = node(a, EX_REGEXP, 2)))
            return -ENOMEM;
        if ((rc = compile(a, x->a, scope, &e->args[0], err)) != 0 ||
            (rc = compile(a, x->b, scope, &e->args[1], err)) != 0)
            return rc;
        e->neg = x->neg;
        e->coll = sql__coll_pick(e->args[0], e->args[1]);
        if (e->coll == 0)
            e->coll = SQL_COLL_UTF8MB4_GENERAL_CI;
        e->is_const = e->args[0]->is_const && e->args[1]->is_const;
        type_bool(e);
        break;
    case AST_E_LIKE: {
        if (!(e = node(a, EX_LIKE, x->c ? 3 : 2)))
            return -ENOMEM;
        if ((rc = compile(a, x->a, scope, &e->args[0], err)) != 0 ||
            (rc = compile(a, x->b, scope, &e->args[1], err)) != 0 ||
            (x->c && (rc = compile(a, x->c, scope, &e->args[2], err)) != 0))
            return rc;
        e->neg = x->neg;
        if ((rc = coll_conflict(e->args[0], e->args[1], "like", err)) != 0)
            return rc;
        e->coll = sql__coll_pick(e->args[0], e->args[1]);
        if (e->coll == 0)
            e->coll = e->args[0]->vt == SQL_VT_STRING ? e->args[0]->type.coll
                      : e->args[1]->vt == SQL_VT_STRING
                          ? e->args[1]->type.coll
                          : SQL_COLL_UTF8MB4_GENERAL_CI;
        for (int i = 0; i < e->nargs; i++)
            if (!e->args[i]->is_const)
                e->is_const = false;
        type_bool(e);
        break;
    }
    case AST_E_BETWEEN:
        if (!(e = node(a, EX_BETWEEN, 3)))
            return -ENOMEM;
        if ((rc = compile(a, x->a, scope, &e->args[0], err)) != 0 ||
            (rc = compile(a, x->b, scope, &e->args[1], err)) != 0 ||
            (rc = compile(a, x->c, scope, &e->args[2], err)) != 0)
            return rc;
        e->neg = x->neg;
        e->coll = sql__coll_pick(e->args[0], e->args[1]);
        for (int i = 0; i < 3; i++)
            if (!e->args[i]->is_const)
                e->is_const = false;
        type_bool(e);
        break;
    case AST_E_SUBQUERY:
    case AST_E_EXISTS:
    case AST_E_CMP_SUBQ:
        return compile_subquery(a, x, scope, out, err);
    case AST_E_IN: {
        if (x->sub != NULL)
            return compile_subquery(a, x, scope, out, err);
        int n = count_list(x->args);
        if (!(e = node(a, EX_IN, n + 1)))
            return -ENOMEM;
        if ((rc = compile(a, x->a, scope, &e->args[0], err)) != 0)
            return rc;
        e->is_const = e->args[0]->is_const;
        if ((rc = compile_args(a, e, 1, x->args, scope, err)) != 0)
            return rc;
        e->neg = x->neg;
        e->coll = n > 0 ? sql__coll_pick(e->args[0], e->args[1]) : 0;
        type_bool(e);
        break;
    }
    case AST_E_CASE: {
        int nw = 0;
        for (const struct ast_when *w = x->whens; w; w = w->next)
            nw++;
        int n = (x->a ? 1 : 0) + 2 * nw + (x->c ? 1 : 0);
        if (!(e = node(a, EX_CASE, n)))
            return -ENOMEM;
        int i = 0;
        if (x->a) {
            if ((rc = compile(a, x->a, scope, &e->args[i++], err)) != 0)
                return rc;
            e->has_operand = true;
        }
        for (const struct ast_when *w = x->whens; w; w = w->next) {
            if ((rc = compile(a, w->cond, scope, &e->args[i++], err)) != 0 ||
                (rc = compile(a, w->then, scope, &e->args[i++], err)) != 0)
                return rc;
        }
        if (x->c) {
            if ((rc = compile(a, x->c, scope, &e->args[i++], err)) != 0)
                return rc;
            e->has_else = true;
        }
        for (int k = 0; k < n; k++)
            if (!e->args[k]->is_const)
                e->is_const = false;
        int first = e->has_operand ? 2 : 1;
        sql__merge_result(e, first, 2, e->has_else ? n - 1 : -1);
        sql__merge_null_unsigned(e, first, 2, e->has_else ? n - 1 : -1,
                                 true);
        if (!e->has_else)
            e->type.flags &= (uint16_t)~SQL_COLFLAG_NOT_NULL;
        if (e->has_operand) {
            /* The operand is compared with each WHEN value. */
            e->iarg = sql__coll_pick(e->args[0], e->args[1]);
        }
        break;
    }
    case AST_E_FUNC:
        return compile_func(a, x, scope, out, err);
    case AST_E_COLLATE: {
        uint16_t coll = sql__coll_by_name(x->name ? x->name : "");
        if (coll == 0)
            return sql__err(err, SQL_ER_UNKNOWN_COLLATION, "HY000",
                            "Unknown collation: '%s'",
                            x->name ? x->name : "");
        if (!(e = node(a, EX_COLLATE, 1)))
            return -ENOMEM;
        if ((rc = compile(a, x->a, scope, &e->args[0], err)) != 0)
            return rc;
        e->is_const = e->args[0]->is_const;
        e->sub = coll;
        e->coll = coll;
        e->coerc = 0;
        e->vt = SQL_VT_STRING;
        sql__ftype_of_vt(&e->type, SQL_VT_STRING, coll, 0);
        break;
    }
    case AST_E_ROW:
        return sql__err(err, SQL_ER_OPERAND_COLUMNS, "21000",
                        "Operand should contain 1 column(s)");
    case AST_E_STAR:
        return sql__err(err, 1064, ST_42000,
                        "You have an error in your SQL syntax; check the "
                        "manual that corresponds to your MySQL server "
                        "version for the right syntax to use near '*'");
    case AST_E_DEFAULT:
        return sql__err(err, SQL_ER_NOT_SUPPORTED_YET, ST_42000,
                        "This version of sqld doesn't yet support "
                        "'DEFAULT in this context'");
    case AST_E_INTERVAL:
        return sql__err(err, 1064, ST_42000,
                        "You have an error in your SQL syntax; check the "
                        "manual that corresponds to your MySQL server "
                        "version for the right syntax to use near "
                        "'INTERVAL'");
    default: /* subqueries, EXISTS, ANY/ALL */
        return sql__err(err, SQL_ER_NOT_SUPPORTED_YET, ST_42000,
                        "This version of sqld doesn't yet support '%s'",
                        "subqueries");
    }
    *out = e;
    return 0;
}

/* The unit words of INTERVAL, EXTRACT, TIMESTAMPDIFF (func_date.c
 * numbers them in this order). */
static const char *const units[] = {
    "MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH",
    "QUARTER", "YEAR", "SECOND_MICROSECOND", "MINUTE_MICROSECOND",
    "MINUTE_SECOND", "HOUR_MICROSECOND", "HOUR_SECOND", "HOUR_MINUTE",
    "DAY_MICROSECOND", "DAY_SECOND", "DAY_MINUTE", "DAY_HOUR",
    "YEAR_MONTH", NULL};

static int compile_unit(const char *unit)
{
    if (unit == NULL)
        return -1;
    for (int i = 0; units[i]; i++)
        if (strcasecmp(units[i], unit) == 0)
            return i;
    if (strcasecmp(unit, "SQL_TSI_DAY") == 0)
        return 4;
    return -1;
}

static int compile_func(struct sql_arena *a, const struct ast_expr *x,
                        const struct sql_expr_scope *scope,
                        struct sql_expr **out, struct sql_err *err)
{
    const char *name = x->name ? x->name : "";
    int rc;
    if (x->over)
        return sql__window_misuse(name, err);
    if (sql__agg_is_aggregate(name))
        return sql__err(err, SQL_ER_INVALID_GROUP_FUNC_USE, "HY000",
                        "Invalid use of group function");
    const struct sql__func *fn = sql__func_find(name);
    if (fn == NULL) {
        if (scope && scope->db)
            return sql__err(err, SQL_ER_SP_DOES_NOT_EXIST, ST_42000,
                            "FUNCTION %s.%s does not exist", scope->db,
                            name);
        return sql__err(err, SQL_ER_SP_DOES_NOT_EXIST, ST_42000,
                        "FUNCTION %s does not exist", name);
    }
    int n = count_list(x->args) + (x->a ? 1 : 0);
    /* INTERVAL arguments become (value, unit) */
    for (const struct ast_expr *y = x->args; y; y = y->next)
        if (y->kind == AST_E_INTERVAL && strcasecmp(fn->name, "DATE_ADD") &&
            strcasecmp(fn->name, "DATE_SUB"))
            return sql__err(err, 1064, ST_42000,
                            "You have an error in your SQL syntax; check "
                            "the manual that corresponds to your MySQL "
                            "server version for the right syntax to use "
                            "near 'INTERVAL'");
    if ((n < fn->min || (fn->max >= 0 && n > fn->max)) &&
        (!strcasecmp(name, "SUBSTRING") || !strcasecmp(name, "SUBSTR")))
        /* MySQL's grammar spells SUBSTRING's forms out (F21). */
        return sql__err(err, 1064, ST_42000,
                        "You have an error in your SQL syntax; check "
                        "the manual that corresponds to your MySQL "
                        "server version for the right syntax to use "
                        "near ')'");
    if (n < fn->min || (fn->max >= 0 && n > fn->max))
        return sql__err(err, SQL_ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT, ST_42000,
                        "Incorrect parameter count in the call to native "
                        "function '%s'",
                        name);
    struct sql_expr *e = node(a, EX_FUNC, n);
    if (e == NULL)
        return -ENOMEM;
    e->fn = fn;
    e->name = fn->name;
    int i = 0;
    if (x->a) {
        if ((rc = compile(a, x->a, scope, &e->args[i++], err)) != 0)
            return rc;
    }
    for (const struct ast_expr *y = x->args; y; y = y->next, i++) {
        if (y->kind == AST_E_INTERVAL) {
            if ((rc = compile(a, y->a, scope, &e->args[i], err)) != 0)
                return rc;
            e->sub = compile_unit(y->name);
            if (e->sub < 0)
                return sql__err(err, 1064, ST_42000,
                                "You have an error in your SQL syntax");
            e->iarg = 1; /* an INTERVAL was written */
        } else if ((rc = compile(a, y, scope, &e->args[i], err)) != 0) {
            return rc;
        }
    }
    for (int k = 0; k < n; k++)
        if (!e->args[k]->is_const)
            e->is_const = false;
    if (fn->volatile_)
        e->is_const = false;
    if (x->unit) { /* EXTRACT/TIMESTAMPDIFF unit, TRIM side, CONVERT USING */
        int u = compile_unit(x->unit);
        e->name = fn->name;
        e->text = x->unit;
        if (u >= 0 && !e->iarg)
            e->sub = u;
    }
    if (x->type) {
        struct ast_type *t = x->type;
        e->has_type = true;
        e->text = t->name;
        e->cast.len = t->len >= 0 ? (uint32_t)t->len : 0;
        e->cast.dec = (int8_t)(t->scale >= 0 && t->scale < 128 ? t->scale
                                                               : -1);
        e->cast.flags = t->is_unsigned ? SQL_COLFLAG_UNSIGNED : 0;
        e->iarg = t->len; /* -1 when absent */
        e->cast.coll = 0;
        if (t->charset && strcasecmp(t->charset, "binary") == 0)
            e->cast.coll = SQL_COLL_BINARY;
        if (t->collate)
            e->cast.coll = sql__coll_by_name(t->collate);
    }
    if (x->type)
        e->name = print_text(a, x); /* CAST(..) as written, for messages */
    e->printed = print_text(a, x);
    if (fn->check && (rc = fn->check(e, a, err)) != 0)
        return rc;
    *out = e;
    return 0;
}

int sql__expr_compile_node(struct sql_arena *a, const struct ast_expr *e,
                           const struct sql_expr_scope *scope,
                           struct sql_expr **out, struct sql_err *err)
{
    return compile(a, e, scope, out, err);
}

int sql__expr_compile(struct sql_arena *a, const struct ast_expr *e,
                      const struct sql_expr_scope *scope,
                      struct sql_expr **out, struct sql_ftype *type,
                      struct sql_err *err)
{
    struct sql_expr *r = NULL;
    int rc = compile(a, e, scope, &r, err);
    if (rc != 0)
        return rc;
    *out = r;
    if (type) {
        *type = r->type;
        if (r->vt == EX_VT_ANY)
            sql__ftype_of_vt(type, SQL_VT_STRING, 0, 0);
    }
    return 0;
}

bool sql__expr_is_const(const struct sql_expr *e)
{
    return e->is_const;
}

/* ---- evaluation ------------------------------------------------------- */

static int eval(const struct sql_expr *e, struct sql_eval *ev,
                const struct sql_datum *row, struct sql_datum *out);

int sql__text_of(const struct sql_expr *x, struct sql_eval *ev,
                 const struct sql_datum *v, const char **p, size_t *n)
{
    const struct sql_ftype *t = &x->type;
    if (v->vt == SQL_VT_DECIMAL && t->tp == SQL_TYPE_NEWDECIMAL &&
        t->dec >= 0 && t->dec != v->v.dec.scale)
        /* at its type's scale: a quotient computed with 9 more digits
         * shows the 4 of div_precision_increment ('1.0000', seed 702) */
        return sql__datum_text(v, t, ev->arena, p, n);
    bool fixed = t->dec >= 0 && t->dec < 31;
    if (v->vt != SQL_VT_DOUBLE ||
        (t->tp != SQL_TYPE_DOUBLE && t->tp != SQL_TYPE_FLOAT) ||
        (!fixed && t->tp == SQL_TYPE_DOUBLE))
        return sql__to_str(ev, v, p, n);
    /* A double in fixed decimals: up to 342 (F3). A FLOAT without: its
     * 6 significant digits (MariaDB's my_gcvt for a float: 1.0000001 is
     * '1', 1234567 '1234570', 1.5e-10 '0.00000000015'; F22). */
    char buf[400];
    size_t len = fixed ? sql__double_fixed_text(v->v.d, t->dec, buf,
                                                sizeof buf)
                       : sql__double_text(v->v.d, true, buf);
    char *c = sql__arena_alloc(ev->arena, len + 1);
    if (c == NULL)
        return -ENOMEM;
    memcpy(c, buf, len + 1);
    *p = c;
    *n = len;
    return 0;
}

int sql__arg(const struct sql_expr *e, int i, struct sql_eval *ev,
             const struct sql_datum *row, struct sql_datum *out)
{
    return eval(e->args[i], ev, row, out);
}

static int out_of_range(struct sql_eval *ev, const struct sql_expr *e,
                        bool is_unsigned)
{
    return sql__err(ev->err, SQL_ER_DATA_OUT_OF_RANGE, ST_22003,
                    "%s value is out of range in '%s'",
                    is_unsigned ? "BIGINT UNSIGNED" : "BIGINT",
                    e->text ? e->text : "");
}

/* A datum as an arithmetic operand: strings become doubles, temporals
 * numbers (integers, or decimals with a fraction). */
static int numeric_operand(struct sql_eval *ev, struct sql_datum *d)
{
    uint64_t es;
    if (sql__enumset_number(d, &es)) {
        sql__datum_int(d, (int64_t)es);
    } else if (d->vt == SQL_VT_STRING || d->vt == SQL_VT_JSON) {
        double v;
        int rc = sql__to_double(ev, d, &v);
        if (rc != 0)
            return rc;
        sql__datum_double(d, v);
    } else if (vt_is_temporal(d->vt)) {
        struct sql_datum r;
        if (d->fsp > 0) {
            r.vt = SQL_VT_DECIMAL;
            (void)sql__to_dec(ev, d, &r.v.dec);
            r.fsp = 0;
            r.coll = 0;
        } else {
            sql__datum_int(&r, sql__time_to_int(&d->v.t, d->vt));
        }
        *d = r;
    }
    return 0;
}

static int arith_int(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *x, const struct sql_datum *y,
                     struct sql_datum *out)
{
    bool xu = x->vt == SQL_VT_UINT, yu = y->vt == SQL_VT_UINT;
    __int128 a = xu ? (__int128)x->v.u : (__int128)x->v.i;
    __int128 b = yu ? (__int128)y->v.u : (__int128)y->v.i;
    bool uns = xu || yu;
    if (e->sub == AST_OP_SUB && ev->env &&
        (ev->env->sql_mode & SQL_MODE_NO_UNSIGNED_SUBTRACTION))
        uns = false;
    __int128 r;
    switch (e->sub) {
    case AST_OP_ADD:
        r = a + b;
        break;
    case AST_OP_SUB:
        r = a - b;
        break;
    case AST_OP_MUL:
        /* |a|,|b| < 2^64, but two unsigned maxima pass 2^127 */
        if (__builtin_mul_overflow(a, b, &r))
            return out_of_range(ev, e, uns);
        break;
    case AST_OP_INTDIV:
        if (b == 0)
            return sql__div_zero(ev, out);
        r = a / b;
        break;
    case AST_OP_MOD:
        if (b == 0)
            return sql__div_zero(ev, out);
        r = a % b;
        uns = xu;
        break;
    default:
        return SQL_EINTERNAL;
    }
    if (uns) {
        if (r < 0 || r > (__int128)UINT64_MAX)
            return out_of_range(ev, e, true);
        sql__datum_uint(out, (uint64_t)r);
    } else {
        if (r < (__int128)INT64_MIN || r > (__int128)INT64_MAX)
            return out_of_range(ev, e, false);
        sql__datum_int(out, (int64_t)r);
    }
    return 0;
}

int sql__eval_arith(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum x, y;
    int rc;
    /* DIV reads a DOUBLE GREATEST/LEAST as a DECIMAL (F35). */
    bool dec = e->sub == AST_OP_INTDIV;
    if ((rc = dec ? sql__eval_for_decimal(e->args[0], ev, row, &x)
                  : eval(e->args[0], ev, row, &x)) != 0)
        return rc;
    if (x.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return 0;
    }
    if ((rc = dec ? sql__eval_for_decimal(e->args[1], ev, row, &y)
                  : eval(e->args[1], ev, row, &y)) != 0)
        return rc;
    if (y.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return 0;
    }
    if ((rc = numeric_operand(ev, &x)) != 0 ||
        (rc = numeric_operand(ev, &y)) != 0)
        return rc;
    int op = e->sub;
    /* DIV divides as DECIMAL when an operand is not an integer (MySQL's
     * Item_func_int_div): 9223372036854775807 DIV 1e2 keeps its digits */
    bool dbl = x.vt == SQL_VT_DOUBLE || y.vt == SQL_VT_DOUBLE;
    if (dbl && op != AST_OP_INTDIV) {
        double a, b, r;
        sql__to_double(ev, &x, &a);
        sql__to_double(ev, &y, &b);
        switch (op) {
        case AST_OP_ADD:
            r = a + b;
            break;
        case AST_OP_SUB:
            r = a - b;
            break;
        case AST_OP_MUL:
            r = a * b;
            break;
        case AST_OP_DIV:
            if (b == 0)
                return sql__div_zero(ev, out);
            r = a / b;
            break;
        case AST_OP_MOD:
            if (b == 0)
                return sql__div_zero(ev, out);
            r = fmod(a, b);
            break;
        default:
            return SQL_EINTERNAL;
        }
        if (!isfinite(r))
            return sql__err(ev->err, SQL_ER_DATA_OUT_OF_RANGE, ST_22003,
                            "DOUBLE value is out of range in '%s'",
                            e->text ? e->text : "");
        sql__datum_double(out, r);
        return 0;
    }
    if (x.vt == SQL_VT_DECIMAL || y.vt == SQL_VT_DECIMAL ||
        op == AST_OP_DIV || dbl) {
        struct sql_dec a, b, r;
        sql__to_dec(ev, &x, &a);
        sql__to_dec(ev, &y, &b);
        /* DIV of a DOUBLE past 81 digits (MariaDB's decimal buffer: 9
         * words of 9) overflows the conversion: warning 1916, which a
         * strict UPDATE's WHERE makes its error (1 DIV 1.7e308). */
        if (dbl) {
            (void)sql__dec_overflow_warn(ev, &x);
            (void)sql__dec_overflow_warn(ev, &y);
        }
        int drc;
        switch (op) {
        case AST_OP_ADD:
            drc = sql__dec_add(&a, &b, &r);
            break;
        case AST_OP_SUB:
            drc = sql__dec_sub(&a, &b, &r);
            break;
        case AST_OP_MUL:
            drc = sql__dec_mul(&a, &b, &r);
            break;
        case AST_OP_DIV:
            drc = sql__dec_div(&a, &b, 4, &r);
            break;
        case AST_OP_MOD:
            drc = sql__dec_mod(&a, &b, &r);
            break;
        case AST_OP_INTDIV: {
            drc = sql__dec_intdiv(&a, &b, &r);
            if (drc == SQL_DEC_DIV0)
                return sql__div_zero(ev, out);
            bool uns = e->vt == SQL_VT_UINT;
            uint64_t u;
            int64_t i;
            if (uns ? sql__dec_to_u64(&r, &u) != 0
                    : sql__dec_to_i64(&r, &i) != 0) {
                /* MariaDB converts the quotient with a warning first,
                 * which a strict UPDATE makes its error (seed 701). */
                char buf[SQL_DEC_STR_MAX];
                struct sql_dec q;
                (void)sql__dec_truncate(&r, 0, &q);
                size_t n = sql__dec_print(&q, buf);
                sql__warn(ev, SQL_ER_DATA_OVERFLOW,
                          "Got overflow when converting '%.*s' to %s. "
                          "Value truncated",
                          (int)n, buf, uns ? "UNSIGNED INT" : "INT");
                return out_of_range(ev, e, uns);
            }
            if (uns)
                sql__datum_uint(out, u);
            else
                sql__datum_int(out, i);
            return 0;
        }
        default:
            return SQL_EINTERNAL;
        }
        if (drc == SQL_DEC_DIV0)
            return sql__div_zero(ev, out);
        if (drc == SQL_DEC_OVERFLOW)
            return sql__err(ev->err, SQL_ER_DATA_OUT_OF_RANGE, ST_22003,
                            "DECIMAL value is out of range in '%s'",
                            e->text ? e->text : "");
        memset(out, 0, sizeof *out);
        out->vt = SQL_VT_DECIMAL;
        out->v.dec = r;
        return 0;
    }
    return arith_int(e, ev, &x, &y, out);
}

static int eval_neg(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum x;
    int rc = eval(e->args[0], ev, row, &x);
    if (rc != 0 || x.vt == SQL_VT_NULL) {
        *out = x;
        return rc;
    }
    if ((rc = numeric_operand(ev, &x)) != 0)
        return rc;
    if (e->vt == SQL_VT_DECIMAL &&
        (x.vt == SQL_VT_INT || x.vt == SQL_VT_UINT)) { /* sql__neg_widens */
        struct sql_dec d;
        sql__to_dec(ev, &x, &d);
        x.vt = SQL_VT_DECIMAL;
        x.v.dec = d;
    }
    switch (x.vt) {
    case SQL_VT_INT:
        if (x.v.i == INT64_MIN)
            return out_of_range(ev, e, false);
        sql__datum_int(out, -x.v.i);
        return 0;
    case SQL_VT_UINT:
        if (x.v.u > (uint64_t)INT64_MAX + 1)
            return out_of_range(ev, e, false);
        sql__datum_int(out, x.v.u == (uint64_t)INT64_MAX + 1
                                ? INT64_MIN
                                : -(int64_t)x.v.u);
        return 0;
    case SQL_VT_DOUBLE:
        sql__datum_double(out, -x.v.d);
        return 0;
    default:
        *out = x;
        out->v.dec.neg = !x.v.dec.neg && !sql__dec_is_zero(&x.v.dec);
        return 0;
    }
}

static int eval_bit(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum x, y;
    int rc;
    if ((rc = eval(e->args[0], ev, row, &x)) != 0)
        return rc;
    if (e->op == EX_BITNOT) {
        if (x.vt == SQL_VT_NULL) {
            *out = x;
            return 0;
        }
        uint64_t a;
        sql__to_uint(ev, &x, &a);
        sql__datum_uint(out, ~a);
        return 0;
    }
    if ((rc = eval(e->args[1], ev, row, &y)) != 0)
        return rc;
    if (x.vt == SQL_VT_NULL || y.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return 0;
    }
    uint64_t a, b, r;
    sql__to_uint(ev, &x, &a);
    sql__to_uint(ev, &y, &b);
    switch (e->sub) {
    case AST_OP_BITOR:
        r = a | b;
        break;
    case AST_OP_BITAND:
        r = a & b;
        break;
    case AST_OP_BITXOR:
        r = a ^ b;
        break;
    case AST_OP_SHL:
        r = b >= 64 ? 0 : a << b;
        break;
    default:
        r = b >= 64 ? 0 : a >> b;
        break;
    }
    sql__datum_uint(out, r);
    return 0;
}

/* Compare two evaluated operands of a comparison node. */
static int compare(const struct sql_expr *e, struct sql_eval *ev,
                   const struct sql_datum *x, const struct sql_datum *y,
                   uint16_t coll, int *c)
{
    (void)e;
    return sql__datum_cmp_ev(ev, x, y, coll, c);
}

static void set_truth(struct sql_datum *out, int t)
{
    if (t < 0)
        sql__datum_null(out);
    else
        sql__datum_int(out, t);
}

/* MySQL's and MariaDB's comparators read the left operand in the
 * comparison's class before they see that the right one is NULL, so
 * 'abc' < NULL-valued DATETIME column still raises 1292 for 'abc' (and an
 * UPDATE's WHERE fails on it in strict mode). x is the non-NULL left
 * value; the right side's class is its static one. */
static int read_left_anyway(const struct sql_expr *e, struct sql_eval *ev,
                            const struct sql_datum *x)
{
    int vt = e->args[1]->vt;
    bool num = vt == SQL_VT_INT || vt == SQL_VT_UINT || vt == SQL_VT_DOUBLE ||
               vt == SQL_VT_DECIMAL;
    bool tmp = vt == SQL_VT_DATE || vt == SQL_VT_DATETIME || vt == SQL_VT_TIME;
    bool xnum = x->vt == SQL_VT_INT || x->vt == SQL_VT_UINT ||
                x->vt == SQL_VT_DOUBLE || x->vt == SQL_VT_DECIMAL;
    if (!((x->vt == SQL_VT_STRING && (num || tmp)) || (xnum && tmp)))
        return 0;
    struct sql_datum z;
    memset(&z, 0, sizeof z); /* 0, 0e0, or the zero date / time */
    z.vt = (uint8_t)vt;
    if (vt == SQL_VT_DECIMAL)
        sql__dec_zero(&z.v.dec);
    int c;
    return sql__datum_cmp_ev(ev, x, &z, e->coll, &c);
}

/* A DECIMAL operand compared (=, <, ..., an IN of one) with an integer
 * or DECIMAL is rounded to the scale its type shows first, as MariaDB's
 * compare_decimal does: a quotient carries digits past its scale
 * (sql__dec_div), so (1 / 3) = 0.3333 and 7 / 4294967295 = 0 are TRUE
 * there (difftest F13/F26); against a string or a DOUBLE, in BETWEEN
 * and in an IN list of several (MariaDB's in_decimal), it is not. */
static void cmp_shown_scale(const struct sql_expr *a, struct sql_datum *v,
                            const struct sql_datum *other)
{
    if (v->vt != SQL_VT_DECIMAL || a->vt != SQL_VT_DECIMAL ||
        (other->vt != SQL_VT_DECIMAL && other->vt != SQL_VT_INT &&
         other->vt != SQL_VT_UINT) ||
        a->type.dec < 0 || a->type.dec > 30 ||
        v->v.dec.scale <= a->type.dec)
        return;
    struct sql_dec r;
    if (sql__dec_round(&v->v.dec, a->type.dec, &r) == 0)
        v->v.dec = r;
}

static int eval_cmp(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum x, y;
    int rc;
    if ((rc = eval(e->args[0], ev, row, &x)) != 0)
        return rc;
    if (x.vt == SQL_VT_NULL && e->sub != AST_OP_NULLEQ) {
        /* NULL whatever the right side is: MySQL does not evaluate it
         * (an error there would not be raised). */
        sql__datum_null(out);
        return 0;
    }
    if ((rc = eval(e->args[1], ev, row, &y)) != 0)
        return rc;
    if (x.vt == SQL_VT_NULL || y.vt == SQL_VT_NULL) {
        if (x.vt != SQL_VT_NULL && (rc = read_left_anyway(e, ev, &x)) != 0)
            return rc;
        if (e->sub == AST_OP_NULLEQ)
            sql__datum_int(out, x.vt == y.vt);
        else
            sql__datum_null(out);
        return 0;
    }
    cmp_shown_scale(e->args[0], &x, &y);
    cmp_shown_scale(e->args[1], &y, &x);
    int c;
    if ((rc = compare(e, ev, &x, &y, e->coll, &c)) != 0)
        return rc;
    int t;
    switch (e->sub) {
    case AST_OP_EQ:
    case AST_OP_NULLEQ:
        t = c == 0;
        break;
    case AST_OP_NE:
        t = c != 0;
        break;
    case AST_OP_LT:
        t = c < 0;
        break;
    case AST_OP_LE:
        t = c <= 0;
        break;
    case AST_OP_GT:
        t = c > 0;
        break;
    default:
        t = c >= 0;
        break;
    }
    sql__datum_int(out, t);
    return 0;
}

/* Truth of child i: 1, 0 or -1 (NULL). */
static int truth_of(const struct sql_expr *e, int i, struct sql_eval *ev,
                    const struct sql_datum *row, int *t)
{
    struct sql_datum v;
    int rc = eval(e->args[i], ev, row, &v);
    if (rc != 0)
        return rc;
    if (v.vt == SQL_VT_NULL) {
        *t = -1;
        return 0;
    }
    bool b;
    rc = sql__datum_truth(ev, &v, &b);
    *t = b;
    return rc;
}

/* Whether a and b are the same expression of the row (MariaDB's
 * Item::eq, for the shapes that matter here): one column, one integer
 * literal, or the same negation or arithmetic of such. */
static bool same_expr(const struct sql_expr *a, const struct sql_expr *b)
{
    if (a->op != b->op || a->sub != b->sub || a->nargs != b->nargs ||
        a->vt != b->vt)
        return false;
    switch (a->op) {
    case EX_COL:
        return a->idx == b->idx;
    case EX_LIT:
        return (a->lit.vt == SQL_VT_INT || a->lit.vt == SQL_VT_UINT) &&
               a->lit.vt == b->lit.vt && a->lit.v.u == b->lit.v.u;
    case EX_NEG:
    case EX_ARITH:
        for (int i = 0; i < a->nargs; i++)
            if (!same_expr(a->args[i], b->args[i]))
                return false;
        return true;
    default:
        return false;
    }
}

/* A comparison of an expression with itself (same_expr), or NOT of one,
 * as MariaDB's remove_eq_conds folds it in a condition (NOT over a comparison is its
 * negation already, MySQL's neg_transformer): `c < c`, `c > c`, `c <> c`
 * FALSE; `c <=> c` TRUE; `c = c`, `c <= c`, `c >= c` TRUE when c is
 * NOT NULL. Whether it is one that decides; *t its truth. */
static bool self_cmp(const struct sql_expr *e, int *t)
{
    bool neg = false;
    if (e->op == EX_NOT && e->nargs == 1) {
        neg = true;
        e = e->args[0];
    }
    if (e->op != EX_CMP || e->nargs != 2 || e->args[0]->is_const ||
        !same_expr(e->args[0], e->args[1]))
        return false;
    int op = e->sub;
    if (neg) {
        static const int negated[] = {
            [AST_OP_EQ] = AST_OP_NE, [AST_OP_NE] = AST_OP_EQ,
            [AST_OP_LT] = AST_OP_GE, [AST_OP_GE] = AST_OP_LT,
            [AST_OP_GT] = AST_OP_LE, [AST_OP_LE] = AST_OP_GT,
            [AST_OP_NULLEQ] = -1};
        if (op < 0 || (size_t)op >= sizeof(negated) / sizeof(negated[0]))
            return false;
        op = negated[op]; /* NOT (c <=> c) stays a NOT: not folded */
    }
    if (op == AST_OP_LT || op == AST_OP_GT || op == AST_OP_NE) {
        *t = 0;
        return true;
    }
    if (op == AST_OP_NULLEQ ||
        ((op == AST_OP_EQ || op == AST_OP_LE || op == AST_OP_GE) &&
         (e->args[0]->type.flags & SQL_COLFLAG_NOT_NULL))) {
        *t = 1;
        return true;
    }
    return false;
}

/* A cheap first test for self_cmp (a condition's members are tested
 * on every row): a comparison, or NOT of one, of two operands of one
 * kind. */
static bool may_self_cmp(const struct sql_expr *e)
{
    if (e->op == EX_NOT && e->nargs == 1)
        e = e->args[0];
    return e->op == EX_CMP && e->nargs == 2 &&
           e->args[0]->op == e->args[1]->op;
}

/* Whether the constant parts of e alone decide it: a constant (its
 * truth), an AND with a FALSE one, an OR with a TRUE one, at any depth;
 * in a condition (null_false) a comparison of a column with itself too
 * (self_cmp).
 * MySQL and MariaDB fold constant conditions before reading a row, so a
 * column beside a deciding constant is never read (nor its warnings
 * raised), and a constant's error is raised first. Only constants are
 * evaluated here. */
static int const_decides(const struct sql_expr *e, struct sql_eval *ev,
                         const struct sql_datum *row, bool *decided, int *t,
                         bool null_false)
{
    *decided = false;
    if (e->is_const) {
        struct sql_datum v;
        int rc = eval(e, ev, row, &v);
        if (rc != 0 || v.vt == SQL_VT_NULL) {
            *decided = rc == 0;
            *t = null_false ? 0 : -1;
            return rc;
        }
        bool b;
        rc = sql__datum_truth(ev, &v, &b);
        *decided = true;
        *t = b;
        return rc;
    }
    if (null_false && may_self_cmp(e) && self_cmp(e, t)) {
        *decided = true;
        return 0;
    }
    if (e->op != EX_AND && e->op != EX_OR)
        return 0;
    int want = e->op == EX_AND ? 0 : 1;
    for (int i = 0; i < e->nargs; i++) {
        const struct sql_expr *a = e->args[i];
        if (!a->is_const && a->op != EX_AND && a->op != EX_OR &&
            !(null_false && may_self_cmp(a)))
            continue;
        bool d;
        int ta, rc = const_decides(a, ev, row, &d, &ta, null_false);
        if (rc != 0)
            return rc;
        if (d && ta == want) {
            *decided = true;
            *t = want;
            return 0;
        }
    }
    return 0;
}

int sql__expr_const_conds(const struct sql_expr *e, struct sql_eval *ev)
{
    if (e->is_const) {
        struct sql_eval_env quiet = *ev->env;
        struct sql_eval q = *ev;
        struct sql_datum v;
        quiet.warn = NULL; /* raised again where the rows read it */
        q.env = &quiet;
        return eval(e, &q, NULL, &v);
    }
    if (e->op != EX_AND && e->op != EX_OR)
        return 0;
    for (int i = 0; i < e->nargs; i++) {
        int rc = sql__expr_const_conds(e->args[i], ev);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int eval_logic(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    int res = e->op == EX_AND ? 1 : 0;
    bool any_null = false;
    if (e->op != EX_XOR && !e->is_const) {
        bool d;
        int t, rc = const_decides(e, ev, row, &d, &t, false);
        if (rc != 0)
            return rc;
        if (d && t >= 0) {
            sql__datum_int(out, t);
            return 0;
        }
    }
    for (int i = 0; i < e->nargs; i++) {
        int t, rc = truth_of(e, i, ev, row, &t);
        if (rc != 0)
            return rc;
        if (t < 0) {
            any_null = true;
            if (e->op == EX_XOR)
                break;
            continue;
        }
        if (e->op == EX_AND && t == 0) {
            sql__datum_int(out, 0);
            return 0;
        }
        if (e->op == EX_OR && t == 1) {
            sql__datum_int(out, 1);
            return 0;
        }
        if (e->op == EX_XOR)
            res ^= t;
    }
    set_truth(out, any_null ? -1 : res);
    return 0;
}

/* LIKE matching character by character under coll; '%' backtracks to the
 * last star only (enough for patterns of * and ?). */
static bool like_match(uint16_t coll, const char *s, size_t sn,
                       const char *p, size_t pn, uint32_t esc)
{
    size_t si = 0, pi = 0;
    size_t star_p = SIZE_MAX, star_s = 0;
    bool bin = coll == SQL_COLL_BINARY;
    while (si < sn) {
        if (pi < pn) {
            uint32_t pc, sc;
            size_t pl = bin ? 1 : sql__utf8_decode(p + pi, pn - pi, &pc);
            if (bin)
                pc = (uint8_t)p[pi];
            if (pc == '%') {
                star_p = pi + pl;
                star_s = si;
                pi += pl;
                continue;
            }
            size_t sl = bin ? 1 : sql__utf8_decode(s + si, sn - si, &sc);
            if (bin)
                sc = (uint8_t)s[si];
            if (pc == '_') {
                pi += pl;
                si += sl;
                continue;
            }
            if (pc == esc && pi + pl < pn) {
                pi += pl;
                pl = bin ? 1 : sql__utf8_decode(p + pi, pn - pi, &pc);
                if (bin)
                    pc = (uint8_t)p[pi];
            }
            if (sql__coll_weight(coll, pc) == sql__coll_weight(coll, sc)) {
                pi += pl;
                si += sl;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        /* Backtrack: the last % absorbs one more character. */
        uint32_t sc;
        size_t sl = bin ? 1 : sql__utf8_decode(s + star_s, sn - star_s, &sc);
        star_s += sl;
        si = star_s;
        pi = star_p;
    }
    while (pi < pn && p[pi] == '%')
        pi++;
    return pi == pn;
}

static int eval_like(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum x, y, z;
    int rc;
    if ((rc = eval(e->args[0], ev, row, &x)) != 0 ||
        (rc = eval(e->args[1], ev, row, &y)) != 0)
        return rc;
    uint32_t esc = '\\';
    if (e->nargs > 2) {
        if ((rc = eval(e->args[2], ev, row, &z)) != 0)
            return rc;
        const char *p;
        size_t n;
        if (z.vt != SQL_VT_NULL) {
            if ((rc = sql__to_str(ev, &z, &p, &n)) != 0)
                return rc;
            if (n == 0)
                esc = UINT32_MAX; /* ESCAPE '': none */
            else if (sql__str_charlen(e->coll, p, n) != 1)
                return sql__err(ev->err, SQL_ER_WRONG_ARGUMENTS, "HY000",
                                "Incorrect arguments to ESCAPE");
            else
                sql__utf8_decode(p, n, &esc);
        }
    }
    if (x.vt == SQL_VT_NULL || y.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return 0;
    }
    const char *s, *p;
    size_t sn, pn;
    if ((rc = sql__text_of(e->args[0], ev, &x, &s, &sn)) != 0 ||
        (rc = sql__text_of(e->args[1], ev, &y, &p, &pn)) != 0)
        return rc;
    uint16_t coll = e->coll;
    if (x.vt == SQL_VT_STRING && x.coll == SQL_COLL_BINARY)
        coll = SQL_COLL_BINARY;
    if (y.vt == SQL_VT_STRING && y.coll == SQL_COLL_BINARY)
        coll = SQL_COLL_BINARY;
    bool m = like_match(coll, s, sn, p, pn, esc);
    sql__datum_int(out, m != e->neg);
    return 0;
}

/* REGEXP with the C library's POSIX extended expressions (MySQL 8 uses
 * ICU: the common syntax agrees; ICU extras like \\d do not). Case folds
 * under a ci collation. */
static int eval_regexp(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum x, y;
    int rc;
    if ((rc = eval(e->args[0], ev, row, &x)) != 0 ||
        (rc = eval(e->args[1], ev, row, &y)) != 0)
        return rc;
    if (x.vt == SQL_VT_NULL || y.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return 0;
    }
    const char *s, *p;
    size_t sn, pn;
    if ((rc = sql__text_of(e->args[0], ev, &x, &s, &sn)) != 0 ||
        (rc = sql__text_of(e->args[1], ev, &y, &p, &pn)) != 0)
        return rc;
    char *sz = sql__arena_strndup(ev->arena, s, sn);
    char *pz = sql__arena_strndup(ev->arena, p, pn);
    if (sz == NULL || pz == NULL)
        return -ENOMEM;
    regex_t re;
    int flags = REG_EXTENDED | REG_NOSUB;
    if (sql__coll_is_ci(e->coll) &&
        !(x.vt == SQL_VT_STRING && x.coll == SQL_COLL_BINARY) &&
        !(y.vt == SQL_VT_STRING && y.coll == SQL_COLL_BINARY))
        flags |= REG_ICASE;
    if (regcomp(&re, pz, flags) != 0)
        return sql__err(ev->err, 3685, "HY000",
                        "Illegal argument to a regular expression.");
    int m = regexec(&re, sz, 0, NULL, 0);
    regfree(&re);
    sql__datum_int(out, (m == 0) != e->neg);
    return 0;
}

static int eval_between(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum x, lo, hi;
    int rc;
    if ((rc = eval(e->args[0], ev, row, &x)) != 0 ||
        (rc = eval(e->args[1], ev, row, &lo)) != 0 ||
        (rc = eval(e->args[2], ev, row, &hi)) != 0)
        return rc;
    if (x.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return 0;
    }
    int t1 = -1, t2 = -1, c;
    if (lo.vt != SQL_VT_NULL) {
        if ((rc = compare(e, ev, &x, &lo, e->coll, &c)) != 0)
            return rc;
        t1 = c >= 0;
    }
    if (hi.vt != SQL_VT_NULL) {
        uint16_t coll = sql__coll_pick(e->args[0], e->args[2]);
        if ((rc = compare(e, ev, &x, &hi, coll, &c)) != 0)
            return rc;
        t2 = c <= 0;
    }
    int t = (t1 == 0 || t2 == 0) ? 0 : (t1 < 0 || t2 < 0) ? -1 : 1;
    if (t >= 0 && e->neg)
        t = !t;
    set_truth(out, t);
    return 0;
}

static int eval_in(const struct sql_expr *e, struct sql_eval *ev,
                   const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum x, y;
    int rc;
    if ((rc = eval(e->args[0], ev, row, &x)) != 0)
        return rc;
    if (x.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return 0;
    }
    bool any_null = false;
    for (int i = 1; i < e->nargs; i++) {
        if ((rc = eval(e->args[i], ev, row, &y)) != 0)
            return rc;
        if (y.vt == SQL_VT_NULL) {
            any_null = true;
            continue;
        }
        int c;
        uint16_t coll = sql__coll_pick(e->args[0], e->args[i]);
        struct sql_datum xi = x;
        if (e->nargs == 2) { /* x IN (y) is x = y in MariaDB */
            cmp_shown_scale(e->args[0], &xi, &y);
            cmp_shown_scale(e->args[i], &y, &xi);
        }
        if ((rc = compare(e, ev, &xi, &y, coll, &c)) != 0)
            return rc;
        if (c == 0) {
            sql__datum_int(out, !e->neg);
            return 0;
        }
    }
    set_truth(out, any_null ? -1 : e->neg);
    return 0;
}

/* x op ANY/ALL (ys): ANY is TRUE when one comparison is, ALL FALSE when
 * one is; otherwise NULL when x or a value is NULL (and ys not empty),
 * else ANY FALSE, ALL TRUE. */
static int quant_op(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *x, const struct sql_datum *ys,
                    size_t n, uint16_t coll, int op, bool all,
                    struct sql_datum *out)
{
    bool any_null = false;
    for (size_t i = 0; i < n; i++) {
        if (x->vt == SQL_VT_NULL || ys[i].vt == SQL_VT_NULL) {
            any_null = true;
            continue;
        }
        int c, rc;
        if ((rc = compare(e, ev, x, &ys[i], coll, &c)) != 0)
            return rc;
        bool t = op == AST_OP_EQ   ? c == 0
                 : op == AST_OP_NE ? c != 0
                 : op == AST_OP_LT ? c < 0
                 : op == AST_OP_LE ? c <= 0
                 : op == AST_OP_GT ? c > 0
                                   : c >= 0;
        if (t != all) {
            sql__datum_int(out, t);
            return 0;
        }
    }
    set_truth(out, any_null ? -1 : all);
    return 0;
}

static int quant(const struct sql_expr *e, struct sql_eval *ev,
                 const struct sql_datum *x, const struct sql_datum *ys,
                 size_t n, struct sql_datum *out)
{
    return quant_op(e, ev, x, ys, n, (uint16_t)(e->iarg & 0xFFFF),
                    (int)((e->iarg >> 16) & 0xFF), (e->iarg >> 24) & 1, out);
}

static int eval_quant(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    size_t n = (size_t)(e->nargs - 1);
    struct sql_datum x, *ys = sql__arena_alloc(ev->arena,
                                               sizeof(*ys) * (n + 1));
    if (!ys)
        return -ENOMEM;
    int rc = eval(e->args[0], ev, row, &x);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = eval(e->args[i + 1], ev, row, &ys[i]);
    return rc ? rc : quant(e, ev, &x, ys, n, out);
}

/* A correlated subquery for this row: its outer values, then the run. */
static int eval_subq(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    int first = e->sub == AST_E_IN || e->sub == AST_E_CMP_SUBQ ? 1 : 0;
    size_t n = (size_t)(e->nargs - first);
    struct sql_datum *vals = sql__arena_alloc(ev->arena,
                                              sizeof(*vals) * (n + 1));
    if (!vals)
        return -ENOMEM;
    int rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = eval(e->args[(size_t)first + i], ev, row, &vals[i])) != 0)
            return rc;
    if (!ev->env || !ev->env->subquery_run)
        return SQL_EINTERNAL;
    struct sql_datum *rows = NULL;
    size_t nrows = 0;
    size_t max = first ? SIZE_MAX - 1 : 1;
    if ((rc = ev->env->subquery_run(ev->env->ctx, e->subq, vals, n, max,
                                    &rows, &nrows, ev->arena, ev->err)) != 0)
        return rc;
    if (e->sub == AST_E_EXISTS) {
        sql__datum_int(out, (nrows > 0) != e->neg);
        return 0;
    }
    if (e->sub == AST_E_SUBQUERY) {
        if (nrows > 1)
            return sql__err(ev->err, 1242, "21000",
                            "Subquery returns more than 1 row");
        if (nrows == 0)
            sql__datum_null(out);
        else
            *out = rows[0];
        return 0;
    }
    if (e->sub == AST_E_CMP_SUBQ) {
        struct sql_datum x;
        if ((rc = eval(e->args[0], ev, row, &x)) != 0)
            return rc;
        return quant(e, ev, &x, rows, nrows, out);
    }
    /* x IN (q) is x = ANY (q), x NOT IN (q) is x <> ALL (q): the same
     * NULL semantics, and FALSE (NOT IN: TRUE) for an empty q. */
    struct sql_datum x;
    if ((rc = eval(e->args[0], ev, row, &x)) != 0)
        return rc;
    return quant_op(e, ev, &x, rows, nrows, (uint16_t)e->iarg,
                    e->neg ? AST_OP_NE : AST_OP_EQ, e->neg, out);
}

/* An uncorrelated subquery: run at the first evaluation, its literals
 * evaluated from then on (struct subq_once). */
static int eval_once(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    struct subq_once *o = e->subq;
    if (!o->lit) {
        if (!ev->env || !ev->env->subquery_run)
            return SQL_EINTERNAL;
        int kind = e->sub;
        bool two = kind == AST_E_IN || kind == AST_E_CMP_SUBQ;
        struct sql_datum *rows = NULL;
        size_t nrows = 0;
        int rc = ev->env->subquery_run(ev->env->ctx, o->deferred, NULL, 0,
                                       two ? SIZE_MAX - 1 : 1, &rows,
                                       &nrows, o->arena, ev->err);
        if (rc == 0)
            rc = subq_literal(o->arena, kind, e->neg,
                              (int)((e->iarg >> 16) & 0xFF),
                              (e->iarg >> 24) & 1, two ? e->args[0] : NULL,
                              rows, nrows, &o->type, &o->lit, ev->err);
        if (rc != 0) {
            o->lit = NULL;
            return rc;
        }
    }
    return eval(o->lit, ev, row, out);
}

static int eval_case(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum op, w;
    int rc, i = 0;
    if (e->has_operand) {
        if ((rc = eval(e->args[0], ev, row, &op)) != 0)
            return rc;
        i = 1;
    }
    int end = e->nargs - (e->has_else ? 1 : 0);
    for (; i + 1 < end + 1 && i < end; i += 2) {
        bool hit;
        if (e->has_operand) {
            if (op.vt == SQL_VT_NULL)
                continue;
            if ((rc = eval(e->args[i], ev, row, &w)) != 0)
                return rc;
            if (w.vt == SQL_VT_NULL)
                continue;
            int c;
            uint16_t coll = sql__coll_pick(e->args[0], e->args[i]);
            if ((rc = compare(e, ev, &op, &w, coll, &c)) != 0)
                return rc;
            hit = c == 0;
        } else {
            int t;
            if ((rc = truth_of(e, i, ev, row, &t)) != 0)
                return rc;
            hit = t == 1;
        }
        if (hit) {
            if ((rc = eval(e->args[i + 1], ev, row, out)) != 0)
                return rc;
            return sql__to_result(e, ev, out);
        }
    }
    if (e->has_else) {
        if ((rc = eval(e->args[e->nargs - 1], ev, row, out)) != 0)
            return rc;
        return sql__to_result(e, ev, out);
    }
    sql__datum_null(out);
    return 0;
}

static int eval_is(const struct sql_expr *e, struct sql_eval *ev,
                   const struct sql_datum *row, struct sql_datum *out)
{
    if (e->sub == AST_OP_ISNULL) {
        /* No truth taken: 'abc' IS NULL reads no number (no 1292). */
        struct sql_datum x;
        int rc = eval(e->args[0], ev, row, &x);
        if (rc == 0)
            sql__datum_int(out, (x.vt == SQL_VT_NULL) != e->neg);
        return rc;
    }
    int t, rc = truth_of(e, 0, ev, row, &t);
    if (rc != 0)
        return rc;
    bool r;
    switch (e->sub) {
    case AST_OP_ISNULL:
    case AST_OP_ISUNKNOWN:
        r = t < 0;
        break;
    case AST_OP_ISTRUE:
        r = t == 1;
        break;
    default:
        r = t == 0;
        break;
    }
    sql__datum_int(out, r != e->neg);
    return 0;
}

static int eval(const struct sql_expr *e, struct sql_eval *ev,
                const struct sql_datum *row, struct sql_datum *out)
{
    int rc;
    switch (e->op) {
    case EX_LIT:
        *out = e->lit;
        return 0;
    case EX_PARAM:
        if (ev->env == NULL || e->idx >= ev->env->nparams) {
            sql__datum_null(out);
            return 0;
        }
        *out = ev->env->params[e->idx];
        return 0;
    case EX_COL:
        if (e->idx >= SQL_EXPR_OUTER) {
            size_t i = e->idx - SQL_EXPR_OUTER;
            if (!ev->env || i >= ev->env->nouter)
                return SQL_EINTERNAL;
            *out = ev->env->outer[i];
            return 0;
        }
        *out = row[e->idx];
        if (out->vt == SQL_VT_UINT &&
            (e->type.tp == SQL_TYPE_ENUM || e->type.tp == SQL_TYPE_SET))
            return sql__enumset_datum(&e->type, out, ev->arena);
        return 0;
    case EX_SUBQ:
        return e->once ? eval_once(e, ev, row, out)
                       : eval_subq(e, ev, row, out);
    case EX_QUANT:
        return eval_quant(e, ev, row, out);
    case EX_USERVAR:
        sql__datum_null(out);
        if (ev->env && ev->env->uservar_get)
            return ev->env->uservar_get(ev->env->ctx, e->name, out,
                                        ev->arena);
        return 0;
    case EX_SYSVAR:
        if (ev->env && ev->env->sysvar_get)
            return ev->env->sysvar_get(ev->env->ctx, e->name, e->sub, out,
                                       ev->arena, ev->err);
        return sql__err(ev->err, 1193, "HY000",
                        "Unknown system variable '%s'", e->name);
    case EX_ASSIGN:
        if ((rc = eval(e->args[0], ev, row, out)) != 0)
            return rc;
        if (ev->env && ev->env->uservar_set)
            return ev->env->uservar_set(ev->env->ctx, e->name, out);
        return 0;
    case EX_NEG:
        return eval_neg(e, ev, row, out);
    case EX_BITNOT:
    case EX_BIT:
        return eval_bit(e, ev, row, out);
    case EX_NOT: {
        int t;
        if ((rc = truth_of(e, 0, ev, row, &t)) != 0)
            return rc;
        set_truth(out, t < 0 ? -1 : !t);
        return 0;
    }
    case EX_ARITH:
        return sql__eval_arith(e, ev, row, out);
    case EX_CMP:
        return eval_cmp(e, ev, row, out);
    case EX_AND:
    case EX_OR:
    case EX_XOR:
        return eval_logic(e, ev, row, out);
    case EX_IS:
        return eval_is(e, ev, row, out);
    case EX_LIKE:
        return eval_like(e, ev, row, out);
    case EX_BETWEEN:
        return eval_between(e, ev, row, out);
    case EX_REGEXP:
        return eval_regexp(e, ev, row, out);
    case EX_IN:
        return eval_in(e, ev, row, out);
    case EX_CASE:
        return eval_case(e, ev, row, out);
    case EX_FUNC:
    case EX_DATE_ARITH:
        return e->fn->eval(e, ev, row, out);
    case EX_COLLATE:
        if ((rc = eval(e->args[0], ev, row, out)) != 0)
            return rc;
        if (out->vt == SQL_VT_NULL)
            return 0;
        if (out->vt != SQL_VT_STRING &&
            (rc = sql__datum_convert(ev, out, SQL_VT_STRING,
                                     (uint16_t)e->sub, out)) != 0)
            return rc;
        out->coll = (uint16_t)e->sub;
        return 0;
    default:
        return SQL_EINTERNAL;
    }
}

int sql__expr_eval(const struct sql_expr *e, struct sql_eval *ev,
                   const struct sql_datum *row, struct sql_datum *out)
{
    return eval(e, ev, row, out);
}

/* MariaDB's storage size of a DECIMAL(p,s) (my_decimal_get_binary_size):
 * 4 bytes per 9 digits on each side of the point, fewer for the rest. */
static int dec_pack_len(const struct sql_ftype *t)
{
    static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
    int scale = t->dec > 0 ? t->dec : 0;
    int prec = (int)t->len - (scale > 0) -
               !(t->flags & SQL_COLFLAG_UNSIGNED);
    int intg = prec - scale;
    if (intg < 0)
        intg = 0;
    return intg / 9 * 4 + dig2bytes[intg % 9] + scale / 9 * 4 +
           dig2bytes[scale % 9];
}

/* Two columns of one definition, as MariaDB's Field::eq_def sees them:
 * the same type, sign, scale or fraction digits and collation, strings
 * of one length, DECIMALs of one storage size. Only such a `column =
 * column` is an equality it propagates (INT = BIGINT, VARCHAR(3) =
 * VARCHAR(5), DATETIME(3) = DATETIME are not). */
static bool same_def(const struct sql_ftype *a, const struct sql_ftype *b)
{
    if (a->tp != b->tp || a->dec != b->dec || a->coll != b->coll ||
        (a->flags & SQL_COLFLAG_UNSIGNED) != (b->flags & SQL_COLFLAG_UNSIGNED))
        return false;
    if (a->tp == SQL_TYPE_NEWDECIMAL)
        return dec_pack_len(a) == dec_pack_len(b);
    if (sql__ftype_vt(a) == SQL_VT_STRING)
        return a->len == b->len;
    return true;
}

/* An equality MariaDB 10.11 propagates (build_equal_items; EXPLAIN
 * EXTENDED prints them first): `column = column` of two columns of one
 * definition (same_def); `column = constant` of one class: integers, a
 * DECIMAL against a DECIMAL constant, a FLOAT/DOUBLE against a DOUBLE
 * one, a temporal against its class or a string constant, a string
 * compared in its own collation when that is not case-insensitive
 * (general_ci does not propagate: `s = 'x'` keeps its place). Not `c =
 * c` (remove_eq_conds makes it `c IS NOT NULL`), not `<=>`, not a
 * DECIMAL or DOUBLE against an integer, not an INT against 7.5 or '7'. */
static bool col_eq_const(const struct sql_expr *e)
{
    if (e->op != EX_CMP || e->sub != AST_OP_EQ || e->nargs != 2)
        return false;
    const struct sql_expr *c = e->args[0], *k = e->args[1];
    if (c->op != EX_COL) {
        c = e->args[1];
        k = e->args[0];
    }
    if (c->op != EX_COL || c->idx >= SQL_EXPR_OUTER)
        return false;
    if (k->op == EX_COL)
        return k->idx < SQL_EXPR_OUTER && k->idx != c->idx &&
               same_def(&c->type, &k->type);
    if (!k->is_const)
        return false;
    if (c->vt == SQL_VT_STRING)
        return k->vt == SQL_VT_STRING && e->coll == c->type.coll &&
               !sql__coll_is_ci(e->coll);
    bool cint = c->vt == SQL_VT_INT || c->vt == SQL_VT_UINT;
    bool kint = k->vt == SQL_VT_INT || k->vt == SQL_VT_UINT;
    bool ctemp = c->vt == SQL_VT_DATE || c->vt == SQL_VT_DATETIME ||
                 c->vt == SQL_VT_TIME;
    return (cint && kint) || (c->vt == k->vt && !cint) ||
           (ctemp && k->vt == SQL_VT_STRING);
}

/* Which members of a condition's AND one pass reads. */
enum and_members { AND_EQS, AND_REST, AND_ALL };

/* One pass over a condition's AND e: its propagated equalities
 * (AND_EQS), or the others (AND_REST), or all (AND_ALL), in order,
 * members of an AND inside it read as its own (MariaDB flattens nested
 * ANDs, so `x AND (y AND c = 7)` reads c first too). Stops at the first
 * that is not TRUE (*truth). */
static int and_pass(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, int *truth,
                    enum and_members which)
{
    *truth = 1;
    for (int i = 0; i < e->nargs; i++) {
        const struct sql_expr *a = e->args[i];
        int rc;
        if (a->op == EX_AND)
            rc = and_pass(a, ev, row, truth, which);
        else if (which != AND_ALL && col_eq_const(a) != (which == AND_EQS))
            continue;
        else
            rc = sql__expr_eval_bool(a, ev, row, truth);
        if (rc != 0 || *truth != 1)
            return rc;
    }
    return 0;
}

int sql__expr_eval_bool(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, int *truth)
{
    if (e->op == EX_AND) {
        /* A condition's AND stops at the first conjunct that is not
         * TRUE, NULL included (MySQL's abort_on_null for top-level
         * items): the row is dropped either way, and the conjuncts after
         * it are not read (their warnings are not raised). Constants
         * that decide it are seen first (const_decides); as a condition
         * a NULL one decides it too (MariaDB's WHERE drops an AND with a
         * NULL constant as impossible before reading: F12). */
        bool d;
        int rc = const_decides(e, ev, row, &d, truth, true);
        if (rc != 0 || (d && *truth == 0))
            return rc;
        /* The equalities MariaDB propagates first (it evaluates them
         * before the rest: `b * b > 0 AND c = 7` reads no b where c is
         * not 7), then the others in order; a single-table UPDATE or
         * DELETE reads them as written (SQL_EVAL_AS_WRITTEN). */
        if (ev->env->flags & SQL_EVAL_AS_WRITTEN)
            return and_pass(e, ev, row, truth, AND_ALL);
        if ((rc = and_pass(e, ev, row, truth, AND_EQS)) != 0 || *truth != 1)
            return rc;
        return and_pass(e, ev, row, truth, AND_REST);
    }
    if (e->op == EX_OR || e->op == EX_CMP || e->op == EX_NOT) {
        /* As a condition, an OR's members decided FALSE by constants or
         * self-comparisons are dropped unread, one decided TRUE makes it
         * TRUE (MariaDB's remove_eq_conds, F31), and each member is a
         * condition of its own (NULL as FALSE: an OR of them is TRUE
         * exactly when some member is). */
        bool d;
        int rc = const_decides(e, ev, row, &d, truth, true);
        if (rc != 0 || d)
            return rc;
        if (e->op == EX_OR) {
            bool any_null = false;
            for (int i = 0; i < e->nargs; i++) {
                if ((rc = sql__expr_eval_bool(e->args[i], ev, row, truth)) !=
                        0 ||
                    *truth == 1)
                    return rc;
                any_null = any_null || *truth < 0;
            }
            *truth = any_null ? -1 : 0;
            return 0;
        }
    }
    struct sql_datum v;
    int rc = eval(e, ev, row, &v);
    if (rc != 0)
        return rc;
    if (v.vt == SQL_VT_NULL) {
        *truth = -1;
        return 0;
    }
    bool b;
    rc = sql__datum_truth(ev, &v, &b);
    *truth = b;
    return rc;
}

/* inttype.c: the integer type MariaDB and MySQL give an integer
 * expression (a 32-bit LONG or narrower, or a 64-bit LONGLONG) and its
 * display length, as their item classes size it. sqld computes every
 * integer in 64 bits; the width only decides where an expression turns
 * DECIMAL: ROUND(x, -n) of a LONGLONG (tests/difftest F16).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "expr_int.h"

static bool is_int(const struct sql_expr *x)
{
    return x->vt == SQL_VT_INT || x->vt == SQL_VT_UINT;
}

static bool named(const struct sql_expr *x, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(x->name, *names) == 0)
            return true;
    return false;
}

/* The display length of a literal: its digits and sign. */
static uint32_t lit_len(const struct sql_expr *x)
{
    bool neg = x->lit.vt == SQL_VT_INT && x->lit.v.i < 0;
    uint64_t v = x->lit.vt == SQL_VT_UINT ? x->lit.v.u
                 : neg ? 0 - (uint64_t)x->lit.v.i
                       : (uint64_t)x->lit.v.i;
    uint32_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n + neg;
}

/* The widest of args[from..], LONGLONG when any is (type aggregation of
 * CASE, IF, COALESCE, LEAST ...). NULL arguments add nothing. */
static bool widest(const struct sql_expr *x, int from, int step,
                   uint32_t *len)
{
    bool ll = false;
    *len = 1;
    for (int i = from; i < x->nargs; i += step) {
        const struct sql_expr *a = x->args[i];
        if (a->vt == SQL_VT_NULL)
            continue;
        uint32_t l;
        ll |= sql__int_longlong(a, &l);
        *len = l > *len ? l : *len;
    }
    return ll;
}

/* A length-sized handler: LONG up to 9 characters (MariaDB's
 * type_handler_long_or_longlong). */
static bool by_len(uint32_t len)
{
    return len > 9;
}

/* CAST(a AS SIGNED / UNSIGNED): sized by a (MariaDB's Item_func_signed,
 * its length capped at 21, at least 2 characters signed, 1 unsigned), so
 * CAST(100 AS SIGNED) is a LONG and ROUND(.., -1) of it no DECIMAL
 * (seed 701). UNSIGNED of what may be negative (a signed column or
 * expression, a negative or non-integer literal, a string) is 20 wide.
 * A DOUBLE, a temporal, a string expression (whose length here is not
 * MariaDB's): 21, a LONGLONG. */
static bool cast_int(const struct sql_expr *x, uint32_t *len)
{
    const struct sql_expr *a = x->args[0];
    bool uns = x->vt == SQL_VT_UINT;
    bool may_be_neg = true;
    uint32_t l = 21;
    if (a->vt == SQL_VT_NULL) {
        l = 0;
        may_be_neg = false;
    } else if (is_int(a)) {
        (void)sql__int_longlong(a, &l);
        may_be_neg = a->vt == SQL_VT_INT &&
                     !(a->op == EX_LIT && a->lit.v.i >= 0);
    } else if (a->vt == SQL_VT_DECIMAL) {
        int p = sql__int_digits(a), d = a->type.dec;
        may_be_neg = !(a->type.flags & SQL_COLFLAG_UNSIGNED);
        if (p >= 0)
            l = (uint32_t)p + (d > 0 && d < 31 ? (uint32_t)d + 1 : 0) +
                may_be_neg;
    } else if (a->op == EX_LIT && a->lit.vt == SQL_VT_STRING) {
        l = 0; /* its characters */
        for (size_t i = 0; i < a->lit.v.s.n; i++)
            l += ((unsigned char)a->lit.v.s.p[i] & 0xC0) != 0x80;
    } else if (a->op == EX_COL && a->vt == SQL_VT_STRING && a->type.len) {
        l = a->type.len; /* in characters: VARCHAR(5) is 5 */
    }
    if (uns && may_be_neg)
        l = 20;
    l = l > 21 ? 21 : l;
    *len = l < 2u - uns ? 2u - uns : l;
    return by_len(*len);
}

bool sql__int_longlong(const struct sql_expr *x, uint32_t *len)
{
    static const char *const long_funcs[] = {
        "LENGTH", "CHAR_LENGTH", "CHARACTER_LENGTH", "OCTET_LENGTH",
        "BIT_LENGTH", "LOCATE", "POSITION", "INSTR", "ASCII", "ORD",
        "YEAR", "MONTH", "DAY", "DAYOFMONTH", "DAYOFWEEK", "DAYOFYEAR",
        "WEEKDAY", "HOUR", "MINUTE", "SECOND", "QUARTER", "WEEK",
        "DATEDIFF", "SIGN", "TO_DAYS", "FIELD", "FIND_IN_SET", NULL};
    static const char *const merge_funcs[] = {
        "COALESCE", "IFNULL", "LEAST", "GREATEST", NULL};
    uint32_t l = 0, r = 0;
    bool ll;
    *len = 21;
    if (!is_int(x))
        return true;
    switch (x->op) {
    case EX_COL:
        *len = x->type.len ? x->type.len : 21;
        return x->type.tp == SQL_TYPE_LONGLONG || x->type.tp == 0;
    case EX_LIT:
        *len = lit_len(x);
        return by_len(*len);
    case EX_NEG:
        (void)sql__int_longlong(x->args[0], &l);
        *len = l + 1;
        return by_len(*len);
    case EX_ARITH:
        (void)sql__int_longlong(x->args[0], &l);
        (void)sql__int_longlong(x->args[1], &r);
        switch (x->sub) {
        case AST_OP_ADD:
        case AST_OP_SUB:
            *len = (l > r ? l : r) + 1;
            break;
        case AST_OP_MUL:
            *len = l + r - 1;
            break;
        case AST_OP_INTDIV: /* the dividend's integer digits */
            if (x->args[0]->vt == SQL_VT_DECIMAL) {
                /* -2.25 DIV 0.5 is an INT(1), ROUND(.., -1) of it no
                 * DECIMAL (seed 811) */
                int p = sql__int_digits(x->args[0]);
                *len = p < 0 ? 21 : p < 1 ? 1 : (uint32_t)p;
            } else {
                *len = l > 1 && x->args[0]->vt == SQL_VT_INT ? l - 1 : l;
            }
            break;
        default: /* MOD */
            *len = l > r ? l : r;
            break;
        }
        return by_len(*len);
    case EX_CASE: {
        int first = x->has_operand ? 2 : 1;
        ll = widest(x, first, 2, len);
        if (x->has_else) {
            uint32_t e;
            ll |= sql__int_longlong(x->args[x->nargs - 1], &e);
            *len = e > *len ? e : *len;
        }
        return ll;
    }
    case EX_FUNC:
        break;
    default:
        return true;
    }
    if (!x->name)
        return true;
    if (named(x, long_funcs)) {
        *len = 10;
        return false;
    }
    if (x->fn && x->nargs == 1 && (strcmp(x->fn->name, "CAST") == 0 ||
                                   strcmp(x->fn->name, "CONVERT") == 0))
        return cast_int(x, len); /* (its name is its text: CAST(..)) */
    if (named(x, merge_funcs))
        return widest(x, 0, 1, len);
    if (strcmp(x->name, "IF") == 0)
        return widest(x, 1, 1, len);
    if (strcmp(x->name, "NULLIF") == 0 || strcmp(x->name, "MIN") == 0 ||
        strcmp(x->name, "MAX") == 0)
        return x->nargs > 0 ? sql__int_longlong(x->args[0], len) : true;
    if (strcmp(x->name, "ABS") == 0 && x->nargs > 0) {
        /* sized by the argument's length, not its type (Item_func_abs):
         * ABS(int_col) is a LONGLONG, so ROUND(ABS(c), -1) is DECIMAL
         * (seed 702), ABS(tinyint_col) a LONG */
        (void)sql__int_longlong(x->args[0], len);
        return by_len(*len);
    }
    if ((strcmp(x->name, "ROUND") == 0 || strcmp(x->name, "TRUNCATE") == 0) &&
        x->nargs > 0 && is_int(x->args[0])) {
        ll = sql__int_longlong(x->args[0], len);
        if (x->sub || x->iarg >= 0)
            return ll; /* the argument's type, kept */
        (*len)++;
        return by_len(*len);
    }
    bool ceil_floor = strcmp(x->name, "CEIL") == 0 ||
                      strcmp(x->name, "CEILING") == 0 ||
                      strcmp(x->name, "FLOOR") == 0;
    if (ceil_floor && x->nargs > 0 && is_int(x->args[0]))
        return sql__int_longlong(x->args[0], len); /* the argument's */
    if (ceil_floor && x->nargs > 0 && x->args[0]->vt == SQL_VT_DECIMAL) {
        int p = sql__int_digits(x->args[0]), d = x->args[0]->type.dec;
        *len = p < 0 ? 21 : (uint32_t)p + (d > 0 && d < 31) + 1;
        return by_len(*len);
    }
    return true; /* CAST, TIME_TO_SEC, COUNT, ...: LONGLONG */
}

bool sql__neg_widens(const struct sql_expr *c, struct sql_arena *a)
{
    const struct sql_expr *l = c;
    while (l->op == EX_NEG && l->nargs == 1)
        l = l->args[0];
    if (!c->is_const || !is_int(c) || l->op == EX_LIT)
        return false; /* a literal's negation is a literal */
    struct sql_eval_env env;
    struct sql_err err;
    memset(&env, 0, sizeof env);
    memset(&err, 0, sizeof err);
    struct sql_eval ev = {.env = &env, .arena = a, .err = &err};
    struct sql_datum v;
    if (sql__expr_eval(c, &ev, NULL, &v) != 0)
        return false;
    return v.vt == SQL_VT_INT && v.v.i < 0;
}

/* func_math.c: numeric functions: ABS, SIGN, CEIL/FLOOR, ROUND/TRUNCATE
 * (exact for integers and decimals, rint for doubles, as MySQL), MOD, POW,
 * SQRT, EXP, LN/LOG/LOG2/LOG10, trigonometry, PI, RAND (MySQL's generator,
 * so RAND(seed) repeats MySQL's sequence), GREATEST/LEAST.
 * DESIGN.md, "Expressions".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "decimal.h"
#include "expr_int.h"

static int out_of_range(struct sql_eval *ev, const struct sql_expr *e,
                        const char *what)
{
    return sql__err(ev->err, SQL_ER_DATA_OUT_OF_RANGE, "22003",
                    "%s value is out of range in '%s'", what,
                    e->printed ? e->printed : e->text ? e->text : e->name);
}

/* The argument's class for numeric functions: strings are doubles. */
static int num_vt(const struct sql_expr *x)
{
    switch (x->vt) {
    case SQL_VT_INT:
    case SQL_VT_UINT:
    case SQL_VT_DECIMAL:
    case SQL_VT_DOUBLE:
    case SQL_VT_NULL:
        return x->vt;
    case SQL_VT_DATE:
    case SQL_VT_DATETIME:
    case SQL_VT_TIME:
        return x->type.dec > 0 ? SQL_VT_DECIMAL : SQL_VT_INT;
    default:
        return SQL_VT_DOUBLE;
    }
}

static int arg_num(const struct sql_expr *e, int i, struct sql_eval *ev,
                   const struct sql_datum *row, struct sql_datum *v)
{
    int rc = sql__arg(e, i, ev, row, v);
    if (rc != 0 || v->vt == SQL_VT_NULL)
        return rc;
    int want = num_vt(e->args[i]);
    if (e->args[i]->vt == EX_VT_ANY)
        want = v->vt == SQL_VT_STRING ? SQL_VT_DOUBLE : v->vt;
    if (v->vt == SQL_VT_DATE || v->vt == SQL_VT_DATETIME ||
        v->vt == SQL_VT_TIME)
        want = v->fsp > 0 ? SQL_VT_DECIMAL : SQL_VT_INT;
    if (want == v->vt || want == SQL_VT_NULL)
        return 0;
    return sql__datum_convert(ev, v, want, 0, v);
}

static int check_same(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    (void)a;
    (void)err;
    int vt = num_vt(e->args[0]);
    if (vt == EX_VT_ANY || e->args[0]->vt == EX_VT_ANY)
        vt = SQL_VT_DOUBLE;
    int dec = e->args[0]->type.dec;
    sql__set_type(e, vt == SQL_VT_NULL ? SQL_VT_DOUBLE : vt,
                  vt == SQL_VT_DECIMAL ? (dec > 0 ? dec : 0) : -1);
    return 0;
}

static int check_double(struct sql_expr *e, struct sql_arena *a,
                        struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_DOUBLE, -1);
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

static int eval_abs(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, struct sql_datum *out)
{
    int rc = arg_num(e, 0, ev, row, out);
    if (rc != 0 || out->vt == SQL_VT_NULL)
        return rc;
    switch (out->vt) {
    case SQL_VT_INT:
        if (out->v.i == INT64_MIN)
            return out_of_range(ev, e, "BIGINT");
        if (out->v.i < 0)
            out->v.i = -out->v.i;
        return 0;
    case SQL_VT_DOUBLE:
        out->v.d = fabs(out->v.d);
        return 0;
    case SQL_VT_DECIMAL:
        out->v.dec.neg = false;
        return 0;
    default:
        return 0;
    }
}

static int eval_sign(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v;
    int rc = arg_num(e, 0, ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL) {
        *out = v;
        return rc;
    }
    int s;
    switch (v.vt) {
    case SQL_VT_INT:
        s = v.v.i < 0 ? -1 : v.v.i > 0;
        break;
    case SQL_VT_UINT:
        s = v.v.u > 0;
        break;
    case SQL_VT_DECIMAL:
        s = sql__dec_is_zero(&v.v.dec) ? 0 : v.v.dec.neg ? -1 : 1;
        break;
    default:
        s = v.v.d < 0 ? -1 : v.v.d > 0;
        break;
    }
    sql__datum_int(out, s);
    return 0;
}

/* An upper bound on the integer digits of x's values, sized as MySQL
 * sizes an expression's precision (display length when the type has one;
 * a sum one digit more than its wider operand, a product the two added,
 * COALESCE/GREATEST/LEAST/IF the widest), or -1 when not known (F4). */
int sql__int_digits(const struct sql_expr *x)
{
    const struct sql_ftype *t = &x->type;
    if (x->op == EX_LIT && x->lit.vt == SQL_VT_DECIMAL) {
        char buf[SQL_DEC_STR_MAX];
        size_t n = sql__dec_print(&x->lit.v.dec, buf);
        int d = 0;
        for (size_t i = 0; i < n && buf[i] != '.'; i++)
            d += buf[i] >= '0' && buf[i] <= '9';
        return d;
    }
    if (x->op == EX_LIT && (x->lit.vt == SQL_VT_INT || x->lit.vt == SQL_VT_UINT)) {
        /* Its digits (MariaDB's Item_int precision), not its length
         * less a sign it does not have: COALESCE(tinyint_unsigned,
         * 9223372036854775807) has 19 (seed 702, F4). */
        uint64_t v = x->lit.vt == SQL_VT_UINT ? x->lit.v.u
                     : x->lit.v.i < 0 ? 0 - (uint64_t)x->lit.v.i
                                      : (uint64_t)x->lit.v.i;
        int d = 1;
        while (v >= 10) {
            v /= 10;
            d++;
        }
        return d;
    }
    if (t->len > 0 && (t->len < SQL_DEC_MAX_PREC + 2 || x->op == EX_COL)) {
        /* (An expression's DECIMAL type has the widest length: derive.) */
        /* (An unsigned integer's length has no sign's character:
         * BIGINT UNSIGNED is 20 digits, CEIL(-2.25 MOD it) a DECIMAL. A
         * DECIMAL's length keeps its place either way.) */
        int dec = t->dec > 0 && t->dec < 31 ? t->dec : 0;
        bool uint = (t->flags & SQL_COLFLAG_UNSIGNED) &&
                    (x->vt == SQL_VT_UINT || x->vt == SQL_VT_INT);
        return (int)t->len - dec - (dec > 0) - !uint;
    }
    if ((x->op == EX_NEG && x->nargs == 1) ||
        (x->op == EX_FUNC && x->name && x->nargs > 0 &&
         (!strcmp(x->name, "ABS") || !strcmp(x->name, "NULLIF"))))
        return sql__int_digits(x->args[0]);
    if (x->op == EX_FUNC && x->name && x->nargs > 0 &&
        (!strcmp(x->name, "ROUND") || !strcmp(x->name, "TRUNCATE"))) {
        /* ROUND may carry a digit when it drops some of the fraction
         * (MariaDB's length_increase). */
        int d = sql__int_digits(x->args[0]), ad = x->args[0]->type.dec;
        bool carry = x->name[0] == 'R' && ad > 0 && ad < 31 &&
                     ad > (x->iarg > 0 ? x->iarg : 0);
        return d < 0 ? -1 : d + carry;
    }
    if (x->op == EX_ARITH && x->nargs == 2) {
        int l = sql__int_digits(x->args[0]), r = sql__int_digits(x->args[1]);
        if (l < 0 || r < 0)
            return -1;
        if (x->sub == AST_OP_ADD || x->sub == AST_OP_SUB)
            return (l > r ? l : r) + 1;
        if (x->sub == AST_OP_MUL)
            return l + r;
        if (x->sub == AST_OP_DIV) { /* the dividend's, and the divisor's
                                       scale */
            int d = x->args[1]->type.dec;
            return d >= 0 && d < 31 ? l + d : -1;
        }
        if (x->sub == AST_OP_MOD) { /* MariaDB's: the wider precision,
                                       less the larger scale
                                       (bigint MOD decimal(9,4): 15) */
            int ld = x->args[0]->type.dec, rd = x->args[1]->type.dec;
            ld = ld > 0 && ld < 31 ? ld : 0;
            rd = rd > 0 && rd < 31 ? rd : 0;
            int p = l + ld > r + rd ? l + ld : r + rd;
            return p - (ld > rd ? ld : rd);
        }
        return -1;
    }
    bool is_case = x->op == EX_CASE;
    if (is_case ||
        (x->op == EX_FUNC && x->name && x->nargs > 0 &&
         (!strcmp(x->name, "COALESCE") || !strcmp(x->name, "IFNULL") ||
          !strcmp(x->name, "GREATEST") || !strcmp(x->name, "LEAST") ||
          !strcmp(x->name, "IF")))) {
        /* The widest result, a NULL one having none: each argument of
         * COALESCE, IFNULL, GREATEST, LEAST; IF's two; a CASE's THENs and
         * ELSE (its args: [operand] (WHEN THEN)... [ELSE]). */
        int m = 0, from = is_case ? x->has_operand : !strcmp(x->name, "IF");
        int end = x->nargs - (is_case && x->has_else);
        for (int i = from; i < x->nargs; i++) {
            bool when = is_case && i < end && (i - from) % 2 == 0;
            if (when || x->args[i]->vt == SQL_VT_NULL)
                continue;
            int d = sql__int_digits(x->args[i]);
            if (d < 0)
                return -1;
            m = d > m ? d : m;
        }
        return m;
    }
    return -1;
}

/* An integer result of a small integer argument (TINYINT, SMALLINT,
 * MEDIUMINT) that cannot widen keeps its type, as MariaDB's CEIL/FLOOR
 * and ROUND/TRUNCATE do, so a FLOAT merges with it as FLOAT
 * (`IF(.., TRUNCATE(smallint_col, 0), float_col)` is a FLOAT, seed 703). */
static void keep_small_int(struct sql_expr *e)
{
    int tp = e->args[0]->type.tp;
    if ((e->vt == SQL_VT_INT || e->vt == SQL_VT_UINT) &&
        (tp == SQL_TYPE_TINY || tp == SQL_TYPE_SHORT || tp == SQL_TYPE_INT24))
        e->type.tp = (uint8_t)tp;
}

/* CEIL/FLOOR: integers stay, decimals become integers (DECIMAL when
 * wider than BIGINT), doubles stay doubles. e->sub: 1 ceil, 0 floor. */
static int check_ceil(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    (void)a;
    (void)err;
    int vt = num_vt(e->args[0]);
    if (vt == SQL_VT_DECIMAL) {
        /* BIGINT when the integer digits (display length less the
         * point, the sign and the fraction), one more with a fraction
         * (CEIL(9.5) is 10), are fewer than 19 (MariaDB's
         * Item_func_int_val). */
        int intd = sql__int_digits(e->args[0]);
        int dec = e->args[0]->type.dec;
        if (intd >= 0 && dec > 0 && dec < 31)
            intd++;
        vt = intd >= 0 && intd < 19 ? SQL_VT_INT : SQL_VT_DECIMAL;
    }
    if (vt == SQL_VT_NULL || e->args[0]->vt == EX_VT_ANY)
        vt = SQL_VT_DOUBLE;
    /* A DOUBLE has 0 fixed decimals (MariaDB's Item_func_int_val):
     * CEIL(1e30) shows 31 digits, as ROUND(1e30) does (seed 701). */
    sql__set_type(e, vt, 0);
    keep_small_int(e);
    e->sub = e->name[0] == 'C';
    return 0;
}

static int eval_ceil(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    int rc = arg_num(e, 0, ev, row, out);
    if (rc != 0 || out->vt == SQL_VT_NULL)
        return rc;
    if (out->vt == SQL_VT_DOUBLE) {
        out->v.d = e->sub ? ceil(out->v.d) : floor(out->v.d);
        if (out->v.d == 0)
            out->v.d = 0;
        return 0;
    }
    if (out->vt == SQL_VT_DECIMAL) {
        struct sql_dec r;
        if (e->sub)
            sql__dec_ceil(&out->v.dec, &r);
        else
            sql__dec_floor(&out->v.dec, &r);
        if (e->vt == SQL_VT_INT) {
            int64_t i;
            if (sql__dec_to_i64(&r, &i) != 0)
                return out_of_range(ev, e, "BIGINT");
            sql__datum_int(out, i);
        } else {
            out->v.dec = r;
        }
    }
    return 0;
}

/* ROUND(x[, d]) and TRUNCATE(x, d). e->sub: 1 truncate. */
static int check_round(struct sql_expr *e, struct sql_arena *a,
                       struct sql_err *err)
{
    (void)a;
    (void)err;
    e->sub = e->name[0] == 'T';
    int vt = num_vt(e->args[0]);
    if (vt == SQL_VT_NULL || e->args[0]->vt == EX_VT_ANY)
        vt = SQL_VT_DOUBLE;
    int d = 0;
    if (e->nargs > 1 && e->args[1]->op == EX_LIT &&
        e->args[1]->lit.vt == SQL_VT_INT)
        d = (int)(e->args[1]->lit.v.i > 30    ? 30
                  : e->args[1]->lit.v.i < -30 ? -30
                                              : e->args[1]->lit.v.i);
    else if (e->nargs > 1)
        d = e->args[0]->type.dec > 0 && e->args[0]->type.dec < 31
                ? e->args[0]->type.dec
                : 0;
    uint32_t len;
    if (!e->sub && d < 0 && (vt == SQL_VT_INT || vt == SQL_VT_UINT) &&
        e->args[1]->op == EX_LIT && sql__int_longlong(e->args[0], &len))
        vt = SQL_VT_DECIMAL; /* ROUND(bigint, -n) may carry past the
                                type: MariaDB makes it DECIMAL (F16) */
    if (vt == SQL_VT_DECIMAL)
        sql__set_type(e, vt, d > 0 ? d : 0);
    else if (vt == SQL_VT_DOUBLE) {
        /* MariaDB's fix_arg_double: a constant d fixes the decimals (0
         * for d <= 0 or ROUND(x): ROUND(1e30) shows all 31 digits; none
         * past 30), else x's do. */
        int fixed;
        if (e->nargs == 1)
            fixed = 0;
        else if (e->args[1]->op == EX_LIT && e->args[1]->lit.vt == SQL_VT_INT)
            fixed = e->args[1]->lit.v.i > 30 ? -1 : d > 0 ? d : 0;
        else
            fixed = e->args[0]->type.dec >= 0 && e->args[0]->type.dec < 31
                        ? e->args[0]->type.dec
                        : -1;
        sql__set_type(e, vt, fixed);
    }
    else
        sql__set_type(e, vt, 0);
    /* TRUNCATE never widens, ROUND by a constant d >= 0 neither */
    if (e->sub || e->nargs == 1 ||
        (e->args[1]->op == EX_LIT && e->args[1]->lit.vt == SQL_VT_INT &&
         d >= 0))
        keep_small_int(e);
    e->iarg = d;
    return 0;
}

static int eval_round(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum dv;
    int rc = arg_num(e, 0, ev, row, out);
    if (rc != 0 || out->vt == SQL_VT_NULL)
        return rc;
    int64_t d = 0;
    if (e->nargs > 1) {
        if ((rc = sql__arg(e, 1, ev, row, &dv)) != 0)
            return rc;
        if (dv.vt == SQL_VT_NULL) {
            sql__datum_null(out);
            return 0;
        }
        sql__to_int(ev, &dv, &d);
    }
    if (d > 30)
        d = 30;
    if (d < -100)
        d = -100;
    switch (out->vt) {
    case SQL_VT_INT:
    case SQL_VT_UINT: {
        if (d >= 0)
            return 0;
        struct sql_dec x, r;
        sql__to_dec(ev, out, &x);
        if (e->sub)
            sql__dec_truncate(&x, (int)d, &r);
        else
            sql__dec_round(&x, (int)d, &r);
        if (e->vt == SQL_VT_DECIMAL) { /* check_round: F16 */
            out->vt = SQL_VT_DECIMAL;
            out->v.dec = r;
        } else if (out->vt == SQL_VT_INT) {
            int64_t i;
            if (sql__dec_to_i64(&r, &i) != 0)
                return out_of_range(ev, e, "BIGINT");
            out->v.i = i;
        } else {
            uint64_t u;
            if (sql__dec_to_u64(&r, &u) != 0)
                return out_of_range(ev, e, "BIGINT UNSIGNED");
            out->v.u = u;
        }
        return 0;
    }
    case SQL_VT_DECIMAL: {
        struct sql_dec r;
        if (e->sub)
            sql__dec_truncate(&out->v.dec, (int)d, &r);
        else
            sql__dec_round(&out->v.dec, (int)d, &r);
        if (e->type.dec >= 0 && r.scale != e->type.dec)
            sql__dec_rescale(&r, e->type.dec, &r);
        out->v.dec = r;
        return 0;
    }
    default: {
        double x = out->v.d;
        double p = pow(10.0, (double)(d < 0 ? -d : d));
        double t;
        if (d >= 0) {
            t = x * p;
            t = e->sub ? trunc(t) : rint(t);
            t = isfinite(t) ? t / p : x;
        } else {
            t = x / p;
            t = e->sub ? trunc(t) : rint(t);
            t = t * p;
        }
        sql__datum_double(out, t);
        return 0;
    }
    }
}

static int check_mod(struct sql_expr *e, struct sql_arena *a,
                     struct sql_err *err)
{
    (void)a;
    (void)err;
    e->sub = AST_OP_MOD;
    sql__arith_type(e);
    return 0;
}

/* A double result; ±inf is error 1690. */
static int ret_double(const struct sql_expr *e, struct sql_eval *ev,
                      double r, struct sql_datum *out)
{
    if (isnan(r)) {
        sql__datum_null(out);
        return 0;
    }
    if (isinf(r))
        return out_of_range(ev, e, "DOUBLE");
    sql__datum_double(out, r);
    return 0;
}

/* One or two double arguments; *null when one is NULL. */
static int args_double(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, double *x, double *y,
                       bool *null)
{
    struct sql_datum v[2];
    int rc = sql__args(e, ev, row, v, null);
    if (rc != 0 || *null)
        return rc;
    sql__to_double(ev, &v[0], x);
    if (e->nargs > 1)
        sql__to_double(ev, &v[1], y);
    return 0;
}

enum
{
    F_POW,
    F_SQRT,
    F_EXP,
    F_LN,
    F_LOG,
    F_LOG2,
    F_LOG10,
    F_SIN,
    F_COS,
    F_TAN,
    F_COT,
    F_ASIN,
    F_ACOS,
    F_ATAN,
    F_DEGREES,
    F_RADIANS,
};

static const struct
{
    const char *name; /* function */
    int f;            /* its F_* */
} fnames[] = {
    {"POW", F_POW},       {"POWER", F_POW},      {"SQRT", F_SQRT},
    {"EXP", F_EXP},       {"LN", F_LN},          {"LOG", F_LOG},
    {"LOG2", F_LOG2},     {"LOG10", F_LOG10},    {"SIN", F_SIN},
    {"COS", F_COS},       {"TAN", F_TAN},        {"COT", F_COT},
    {"ASIN", F_ASIN},     {"ACOS", F_ACOS},      {"ATAN", F_ATAN},
    {"ATAN2", F_ATAN},    {"DEGREES", F_DEGREES}, {"RADIANS", F_RADIANS},
};

static int check_fn(struct sql_expr *e, struct sql_arena *a,
                    struct sql_err *err)
{
    check_double(e, a, err);
    for (size_t i = 0; i < sizeof fnames / sizeof fnames[0]; i++)
        if (!strcmp(fnames[i].name, e->name))
            e->sub = fnames[i].f;
    /* For 1690 texts: name(args) as MySQL prints, lower case. */
    return 0;
}

static int bad_log(struct sql_eval *ev, struct sql_datum *out)
{
    sql__warn(ev, 3020, "Invalid argument for logarithm");
    sql__datum_null(out);
    return 0;
}

static int eval_fn(const struct sql_expr *e, struct sql_eval *ev,
                   const struct sql_datum *row, struct sql_datum *out)
{
    double x = 0, y = 0;
    bool null;
    int rc = args_double(e, ev, row, &x, &y, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    switch (e->sub) {
    case F_POW:
        return ret_double(e, ev, pow(x, y), out);
    case F_SQRT:
        if (x < 0) {
            sql__datum_null(out);
            return 0;
        }
        return ret_double(e, ev, sqrt(x), out);
    case F_EXP:
        return ret_double(e, ev, exp(x), out);
    case F_LN:
        return x <= 0 ? bad_log(ev, out) : ret_double(e, ev, log(x), out);
    case F_LOG:
        if (e->nargs == 2) {
            if (x <= 0 || x == 1 || y <= 0)
                return bad_log(ev, out);
            return ret_double(e, ev, log(y) / log(x), out);
        }
        return x <= 0 ? bad_log(ev, out) : ret_double(e, ev, log(x), out);
    case F_LOG2:
        return x <= 0 ? bad_log(ev, out) : ret_double(e, ev, log2(x), out);
    case F_LOG10:
        return x <= 0 ? bad_log(ev, out) : ret_double(e, ev, log10(x), out);
    case F_SIN:
        return ret_double(e, ev, sin(x), out);
    case F_COS:
        return ret_double(e, ev, cos(x), out);
    case F_TAN:
        return ret_double(e, ev, tan(x), out);
    case F_COT:
        if (tan(x) == 0)
            return out_of_range(ev, e, "DOUBLE");
        return ret_double(e, ev, 1 / tan(x), out);
    case F_ASIN:
        return ret_double(e, ev, asin(x), out);
    case F_ACOS:
        return ret_double(e, ev, acos(x), out);
    case F_ATAN:
        return ret_double(e, ev, e->nargs == 2 ? atan2(x, y) : atan(x), out);
    case F_DEGREES:
        return ret_double(e, ev, x * 180 / M_PI, out);
    default:
        return ret_double(e, ev, x * M_PI / 180, out);
    }
}

static int check_pi(struct sql_expr *e, struct sql_arena *a,
                    struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_DOUBLE, 6);
    e->type.flags |= SQL_COLFLAG_NOT_NULL;
    return 0;
}

static int eval_pi(const struct sql_expr *e, struct sql_eval *ev,
                   const struct sql_datum *row, struct sql_datum *out)
{
    (void)e;
    (void)ev;
    (void)row;
    sql__datum_double(out, M_PI);
    return 0;
}

/* RAND: MySQL's generator (two seeds modulo 0x3FFFFFFF). The state lives
 * in the node, reset when a new statement (another env or start time)
 * evaluates it: a compiled expression is otherwise immutable. */
struct rand_state
{
    const void *env;   /* the statement that seeded it */
    int64_t now;       /* its start time */
    uint64_t s1, s2;   /* the seeds */
    bool seeded;       /* state valid */
};

#define RAND_MAX_VALUE 0x3FFFFFFFULL

static void rand_seed(struct rand_state *r, uint64_t seed)
{
    r->s1 = (seed * 0x10001ULL + 55555555ULL) % RAND_MAX_VALUE;
    r->s2 = (seed * 0x10000001ULL) % RAND_MAX_VALUE;
}

static double rand_next(struct rand_state *r)
{
    r->s1 = (r->s1 * 3 + r->s2) % RAND_MAX_VALUE;
    r->s2 = (r->s1 + r->s2 + 33) % RAND_MAX_VALUE;
    return (double)r->s1 / (double)RAND_MAX_VALUE;
}

static int check_rand(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    check_double(e, a, err);
    e->type.flags |= SQL_COLFLAG_NOT_NULL;
    struct rand_state *r = sql__arena_zalloc(a, sizeof *r);
    if (r == NULL)
        return -ENOMEM;
    e->lit.v.s.p = (const char *)r; /* the state, by pointer */
    return 0;
}

static int eval_rand(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    struct rand_state *r = (struct rand_state *)(uintptr_t)e->lit.v.s.p;
    int64_t now = ev->env ? ev->env->now_us : 0;
    if (!r->seeded || r->env != ev->env || r->now != now) {
        uint64_t seed;
        if (e->nargs == 1) {
            struct sql_datum v;
            int rc = sql__arg(e, 0, ev, row, &v);
            if (rc != 0)
                return rc;
            int64_t i = 0;
            if (v.vt != SQL_VT_NULL)
                sql__to_int(ev, &v, &i);
            seed = (uint64_t)i;
            /* MySQL seeds with the argument as an unsigned 32-bit value */
            seed &= 0xFFFFFFFFULL;
        } else {
            seed = (uint64_t)now ^ (ev->env ? ev->env->conn_id << 20 : 0);
            seed &= 0xFFFFFFFFULL;
        }
        rand_seed(r, seed);
        r->env = ev->env;
        r->now = now;
        r->seeded = true;
    }
    sql__datum_double(out, rand_next(r));
    return 0;
}

/* GREATEST / LEAST: NULL if any argument is; compared in the merged
 * class. e->sub: 1 greatest. */
static int check_greatest(struct sql_expr *e, struct sql_arena *a,
                          struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__merge_result(e, 0, 1, -1);
    /* A FLOAT only when every argument is one (MariaDB compares the
     * others as doubles: GREATEST(tinyint, float) is a DOUBLE). */
    for (int i = 0; i < e->nargs && e->type.tp == SQL_TYPE_FLOAT; i++)
        if (e->args[i]->vt != SQL_VT_NULL &&
            e->args[i]->type.tp != SQL_TYPE_FLOAT) {
            e->type.tp = SQL_TYPE_DOUBLE;
            e->type.len = 22;
        }
    bool any_str = false, all_str = true, any_null = false;
    for (int i = 0; i < e->nargs; i++) {
        if (e->args[i]->vt == SQL_VT_STRING)
            any_str = true;
        else if (e->args[i]->vt == SQL_VT_NULL)
            any_null = true; /* a NULL literal: no class of its own */
        else
            all_str = false;
    }
    /* With a NULL literal, numbers compare as DOUBLE (MariaDB 10.11:
     * GREATEST(int, NULL) is a DOUBLE, difftest F23). */
    if (any_null && (e->vt == SQL_VT_INT || e->vt == SQL_VT_UINT ||
                     e->vt == SQL_VT_DECIMAL))
        sql__set_type(e, SQL_VT_DOUBLE, -1);
    if (any_str && !all_str && e->vt == SQL_VT_STRING) {
        /* Numbers mixed with strings compare as numbers (DOUBLE). */
        bool any_temporal = false;
        for (int i = 0; i < e->nargs; i++)
            if (e->args[i]->vt == SQL_VT_DATE ||
                e->args[i]->vt == SQL_VT_DATETIME ||
                e->args[i]->vt == SQL_VT_TIME)
                any_temporal = true;
        if (!any_temporal)
            sql__set_type(e, SQL_VT_DOUBLE, -1);
    }
    e->sub = e->name[0] == 'G';
    return 0;
}

static int eval_greatest(const struct sql_expr *e, struct sql_eval *ev,
                         const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v;
    int rc;
    bool have = false;
    for (int i = 0; i < e->nargs; i++) {
        if ((rc = sql__arg(e, i, ev, row, &v)) != 0)
            return rc;
        if (v.vt == SQL_VT_NULL) {
            sql__datum_null(out);
            return 0;
        }
        if ((rc = sql__to_result(e, ev, &v)) != 0)
            return rc;
        if (!have) {
            *out = v;
            have = true;
            continue;
        }
        int c;
        if ((rc = sql__datum_cmp_ev(ev, &v, out, e->coll, &c)) != 0)
            return rc;
        if (e->sub ? c > 0 : c < 0)
            *out = v;
    }
    return 0;
}


int sql__eval_for_decimal(const struct sql_expr *e, struct sql_eval *ev,
                          const struct sql_datum *row, struct sql_datum *out)
{
    if (e->op != EX_FUNC || e->fn == NULL || e->fn->eval != eval_greatest ||
        e->vt != SQL_VT_DOUBLE)
        return sql__expr_eval(e, ev, row, out);
    struct sql_dec best;
    for (int i = 0; i < e->nargs; i++) {
        struct sql_datum v;
        struct sql_dec d;
        int rc = sql__eval_for_decimal(e->args[i], ev, row, &v);
        if (rc != 0)
            return rc;
        if (v.vt == SQL_VT_NULL) {
            sql__datum_null(out);
            return 0;
        }
        (void)sql__dec_overflow_warn(ev, &v);
        if ((rc = sql__to_dec(ev, &v, &d)) != 0)
            return rc;
        /* The first of equal ones stays, as in eval_greatest. */
        int c = i == 0 ? 0 : sql__dec_cmp(&d, &best);
        if (i == 0 || (e->sub ? c > 0 : c < 0))
            best = d;
    }
    memset(out, 0, sizeof *out);
    out->vt = SQL_VT_DECIMAL;
    out->v.dec = best;
    return 0;
}

/* CONV(N, from_base, to_base), BIN(N), OCT(N): MySQL reads N as an
 * unsigned 64-bit number in from_base (negative base: signed) and writes
 * it in to_base (negative: signed), upper-case digits. e->sub: 0 CONV,
 * 2 BIN, 8 OCT. */
static int check_conv(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_STRING, 0);
    e->sub = !strcmp(e->name, "BIN") ? 2 : !strcmp(e->name, "OCT") ? 8 : 0;
    return 0;
}

static int digit_of(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

static int eval_conv(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v[3];
    bool null;
    int rc = sql__args(e, ev, row, v, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    int64_t from = 10, to = e->sub;
    if (e->sub == 0) {
        sql__to_int(ev, &v[1], &from);
        sql__to_int(ev, &v[2], &to);
    }
    int64_t fa = from < 0 ? -from : from, ta = to < 0 ? -to : to;
    if (fa < 2 || fa > 36 || ta < 2 || ta > 36) {
        sql__datum_null(out);
        return 0;
    }
    uint64_t u = 0;
    bool neg = false;
    if (v[0].vt == SQL_VT_STRING || fa != 10) {
        const char *p;
        size_t n, i = 0;
        if ((rc = sql__to_str(ev, &v[0], &p, &n)) != 0)
            return rc;
        while (i < n && p[i] == ' ')
            i++;
        if (i < n && p[i] == '-') {
            neg = true;
            i++;
        }
        for (; i < n && digit_of(p[i]) < fa; i++) {
            uint64_t nu = u * (uint64_t)fa + (uint64_t)digit_of(p[i]);
            if (nu / (uint64_t)fa != u) {
                u = UINT64_MAX;
                break;
            }
            u = nu;
        }
        if (neg)
            u = (uint64_t)0 - u;
    } else {
        int64_t i;
        if (v[0].vt == SQL_VT_UINT)
            u = v[0].v.u;
        else {
            sql__to_int(ev, &v[0], &i);
            u = (uint64_t)i;
        }
    }
    char buf[70];
    size_t o = sizeof buf;
    bool sneg = to < 0 && (int64_t)u < 0;
    uint64_t x = sneg ? (uint64_t)0 - u : u;
    do {
        buf[--o] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[x % (uint64_t)ta];
        x /= (uint64_t)ta;
    } while (x > 0);
    if (sneg)
        buf[--o] = '-';
    return sql__ret_str(ev, out, buf + o, sizeof buf - o,
                        SQL_COLL_UTF8MB4_GENERAL_CI);
}

const struct sql__func sql__funcs_math[] = {
    {"ABS", 1, 1, check_same, eval_abs, false},
    {"SIGN", 1, 1, check_int, eval_sign, false},
    {"CEIL", 1, 1, check_ceil, eval_ceil, false},
    {"CEILING", 1, 1, check_ceil, eval_ceil, false},
    {"FLOOR", 1, 1, check_ceil, eval_ceil, false},
    {"ROUND", 1, 2, check_round, eval_round, false},
    {"TRUNCATE", 2, 2, check_round, eval_round, false},
    {"MOD", 2, 2, check_mod, sql__eval_arith, false},
    {"POW", 2, 2, check_fn, eval_fn, false},
    {"POWER", 2, 2, check_fn, eval_fn, false},
    {"SQRT", 1, 1, check_fn, eval_fn, false},
    {"EXP", 1, 1, check_fn, eval_fn, false},
    {"LN", 1, 1, check_fn, eval_fn, false},
    {"LOG", 1, 2, check_fn, eval_fn, false},
    {"LOG2", 1, 1, check_fn, eval_fn, false},
    {"LOG10", 1, 1, check_fn, eval_fn, false},
    {"SIN", 1, 1, check_fn, eval_fn, false},
    {"COS", 1, 1, check_fn, eval_fn, false},
    {"TAN", 1, 1, check_fn, eval_fn, false},
    {"COT", 1, 1, check_fn, eval_fn, false},
    {"ASIN", 1, 1, check_fn, eval_fn, false},
    {"ACOS", 1, 1, check_fn, eval_fn, false},
    {"ATAN", 1, 2, check_fn, eval_fn, false},
    {"ATAN2", 2, 2, check_fn, eval_fn, false},
    {"DEGREES", 1, 1, check_fn, eval_fn, false},
    {"RADIANS", 1, 1, check_fn, eval_fn, false},
    {"PI", 0, 0, check_pi, eval_pi, false},
    {"RAND", 0, 1, check_rand, eval_rand, true},
    {"GREATEST", 2, -1, check_greatest, eval_greatest, false},
    {"CONV", 3, 3, check_conv, eval_conv, false},
    {"BIN", 1, 1, check_conv, eval_conv, false},
    {"OCT", 1, 1, check_conv, eval_conv, false},
    {"LEAST", 2, -1, check_greatest, eval_greatest, false},
    {NULL, 0, 0, NULL, NULL, false},
};

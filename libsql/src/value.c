/* value.c: functions over datums: the error record, static type -> class,
 * conversions between classes with MySQL's warnings, comparison with
 * MySQL's rules for mixed classes, and the text/binary forms sent to
 * clients. DESIGN.md, "Values and types".
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "decimal.h"
#include "expr.h"
#include "json.h"
#include "value.h"

/* ---- errors and warnings ------------------------------------------------ */

int sql__verr(struct sql_err *err, uint16_t code, const char *state,
              const char *fmt, va_list ap)
{
    if (err == NULL)
        return SQL_EQUERY;
    err->code = code;
    snprintf(err->state, sizeof err->state, "%s", state);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return SQL_EQUERY;
}

int sql__err(struct sql_err *err, uint16_t code, const char *state,
             const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sql__verr(err, code, state, fmt, ap);
    va_end(ap);
    return rc;
}

static void vwarn(struct sql_eval *ev, const char *level, uint16_t code,
                  const char *fmt, va_list ap)
{
    if (ev == NULL || ev->env == NULL || ev->env->warn == NULL)
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    ev->env->warn(ev->env->ctx, level, code, msg);
}

void sql__warn(struct sql_eval *ev, uint16_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(ev, "Warning", code, fmt, ap);
    va_end(ap);
}

void sql__note(struct sql_eval *ev, uint16_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn(ev, "Note", code, fmt, ap);
    va_end(ap);
}

bool sql__strict(const struct sql_eval *ev)
{
    return ev != NULL && ev->env != NULL &&
           (ev->env->sql_mode & (SQL_MODE_STRICT_TRANS_TABLES |
                                 SQL_MODE_STRICT_ALL_TABLES)) != 0;
}

/* ---- small constructors --------------------------------------------------- */

void sql__datum_null(struct sql_datum *d)
{
    memset(d, 0, sizeof *d);
}

void sql__datum_int(struct sql_datum *d, int64_t v)
{
    memset(d, 0, sizeof *d);
    d->vt = SQL_VT_INT;
    d->v.i = v;
}

void sql__datum_uint(struct sql_datum *d, uint64_t v)
{
    memset(d, 0, sizeof *d);
    d->vt = SQL_VT_UINT;
    d->v.u = v;
}

void sql__datum_double(struct sql_datum *d, double v)
{
    memset(d, 0, sizeof *d);
    d->vt = SQL_VT_DOUBLE;
    d->v.d = v == 0 ? 0.0 : v; /* no negative zero */
}

void sql__datum_str(struct sql_datum *d, const char *p, size_t n,
                    uint16_t coll)
{
    memset(d, 0, sizeof *d);
    d->vt = SQL_VT_STRING;
    d->coll = coll;
    d->v.s.p = n ? p : "";
    d->v.s.n = n;
}

/* ---- static types ---------------------------------------------------------- */

bool sql__type_is_int(uint8_t tp)
{
    return tp == SQL_TYPE_TINY || tp == SQL_TYPE_SHORT ||
           tp == SQL_TYPE_LONG || tp == SQL_TYPE_INT24 ||
           tp == SQL_TYPE_LONGLONG || tp == SQL_TYPE_YEAR;
}

bool sql__type_is_string(uint8_t tp)
{
    switch (tp) {
    case SQL_TYPE_VARCHAR:
    case SQL_TYPE_VAR_STRING:
    case SQL_TYPE_STRING:
    case SQL_TYPE_TINY_BLOB:
    case SQL_TYPE_MEDIUM_BLOB:
    case SQL_TYPE_LONG_BLOB:
    case SQL_TYPE_BLOB:
    case SQL_TYPE_ENUM:
    case SQL_TYPE_SET:
    case SQL_TYPE_JSON:
    case SQL_TYPE_GEOMETRY:
        return true;
    default:
        return false;
    }
}

int sql__ftype_vt(const struct sql_ftype *t)
{
    switch (t->tp) {
    case SQL_TYPE_NULL:
        return SQL_VT_NULL;
    case SQL_TYPE_TINY:
    case SQL_TYPE_SHORT:
    case SQL_TYPE_LONG:
    case SQL_TYPE_INT24:
    case SQL_TYPE_LONGLONG:
    case SQL_TYPE_YEAR:
        return (t->flags & SQL_COLFLAG_UNSIGNED) ? SQL_VT_UINT : SQL_VT_INT;
    case SQL_TYPE_BIT:
        return SQL_VT_UINT;
    case SQL_TYPE_FLOAT:
    case SQL_TYPE_DOUBLE:
        return SQL_VT_DOUBLE;
    case SQL_TYPE_DECIMAL:
    case SQL_TYPE_NEWDECIMAL:
        return SQL_VT_DECIMAL;
    case SQL_TYPE_DATE:
    case SQL_TYPE_NEWDATE:
        return SQL_VT_DATE;
    case SQL_TYPE_DATETIME:
    case SQL_TYPE_TIMESTAMP:
        return SQL_VT_DATETIME;
    case SQL_TYPE_TIME:
        return SQL_VT_TIME;
    case SQL_TYPE_JSON:
        return SQL_VT_JSON;
    default:
        return SQL_VT_STRING;
    }
}

/* ---- numbers as text ------------------------------------------------------- */

/* The digits of "%.*e" of d with prec significant digits: digits[],
 * their count, and the decimal exponent of the first. */
static int e_digits(double d, int prec, char digits[24], int *exp)
{
    char e[48];
    snprintf(e, sizeof e, "%.*e", prec - 1, d);
    int nd = 0;
    const char *p = e + (e[0] == '-' ? 1 : 0);
    for (; *p != '\0' && *p != 'e' && nd < 23; p++)
        if (*p != '.')
            digits[nd++] = *p;
    *exp = *p == 'e' ? atoi(p + 1) : 0;
    return nd;
}

size_t sql__double_fixed_text(double d, int dec, char *buf, size_t cap)
{
    if (!isfinite(d) || fabs(d) < 1e15) {
        int k = snprintf(buf, cap, "%.*f", dec, d);
        return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
    }
    /* Past 15 integer digits MariaDB shows the shortest digits that read
     * back as d, then zeros (its dtoa), not the binary value's exact
     * expansion %f gives (F3): ROUND(1e30) is 1 and 30 zeros,
     * ROUND(1234567890123456.7e0, 2) 1234567890123456.80. */
    char digits[24];
    int exp, nd = 0, prec;
    for (prec = 15; prec <= 17; prec++) {
        char e[48];
        snprintf(e, sizeof e, "%.*e", prec - 1, d);
        if (strtod(e, NULL) == d)
            break;
    }
    if (prec > 17)
        prec = 17;
    nd = e_digits(d, prec, digits, &exp);
    if (nd > exp + 1 + dec) /* more fraction digits than shown: round */
        nd = e_digits(d, exp + 1 + dec, digits, &exp);
    size_t o = 0;
    if (d < 0 && o + 1 < cap)
        buf[o++] = '-';
    for (int i = 0; i <= exp && o + 1 < cap; i++)
        buf[o++] = i < nd ? digits[i] : '0';
    if (dec > 0 && o + 1 < cap)
        buf[o++] = '.';
    for (int i = exp + 1; i <= exp + dec && o + 1 < cap; i++)
        buf[o++] = i < nd ? digits[i] : '0';
    buf[o] = '\0';
    return o;
}

size_t sql__double_text(double v, bool is_float, char *buf)
{
    if (v == 0) {
        memcpy(buf, "0", 2);
        return 1;
    }
    if (!isfinite(v)) {
        memcpy(buf, v != v ? "NaN" : v > 0 ? "inf" : "-inf", 5);
        return strlen(buf);
    }
    char e[40];
    int prec;
    if (is_float) {
        prec = 6;
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
    } else {
        for (prec = 1; prec <= 17; prec++) {
            snprintf(e, sizeof e, "%.*e", prec - 1, v);
            if (strtod(e, NULL) == v)
                break;
        }
    }
    /* e = [-]d.ddde[+-]xx: collect the digits and the exponent. */
    char digits[24];
    int nd = 0;
    const char *p = e;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int decpt = exp10 + 1; /* digits before the point */
    size_t o = 0;
    if (neg)
        buf[o++] = '-';
    if (decpt < -14 || decpt > 15) {
        buf[o++] = digits[0];
        if (nd > 1) {
            buf[o++] = '.';
            memcpy(buf + o, digits + 1, (size_t)(nd - 1));
            o += (size_t)(nd - 1);
        }
        o += (size_t)sprintf(buf + o, "e%d", exp10);
    } else if (decpt <= 0) {
        buf[o++] = '0';
        buf[o++] = '.';
        for (int i = 0; i < -decpt; i++)
            buf[o++] = '0';
        memcpy(buf + o, digits, (size_t)nd);
        o += (size_t)nd;
    } else {
        for (int i = 0; i < decpt; i++)
            buf[o++] = i < nd ? digits[i] : '0';
        if (nd > decpt) {
            buf[o++] = '.';
            memcpy(buf + o, digits + decpt, (size_t)(nd - decpt));
            o += (size_t)(nd - decpt);
        }
    }
    buf[o] = '\0';
    return o;
}

static bool isdig(char c)
{
    return c >= '0' && c <= '9';
}

static bool isspc(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

size_t sql__str_to_double(const char *s, size_t n, double *out, bool *clean)
{
    size_t i = 0;
    while (i < n && isspc(s[i]))
        i++;
    size_t start = i;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    size_t digits = 0;
    while (i < n && isdig(s[i])) {
        i++;
        digits++;
    }
    if (i < n && s[i] == '.') {
        size_t j = i + 1;
        size_t fd = 0;
        while (j < n && isdig(s[j])) {
            j++;
            fd++;
        }
        if (digits + fd > 0)
            i = j;
        digits += fd;
    }
    if (digits == 0) {
        *out = 0;
        size_t k = 0;
        while (k < n && isspc(s[k]))
            k++;
        *clean = k == n;
        return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '-' || s[j] == '+'))
            j++;
        if (j < n && isdig(s[j])) {
            while (j < n && isdig(s[j]))
                j++;
            i = j;
        }
    }
    char small[128];
    char *buf = small;
    size_t len = i - start;
    if (len >= sizeof small) {
        buf = sql__malloc(len + 1);
        if (buf == NULL) { /* keep a prefix: the value is approximate */
            buf = small;
            len = sizeof small - 1;
        }
    }
    memcpy(buf, s + start, len);
    buf[len] = '\0';
    double v = strtod(buf, NULL);
    if (buf != small)
        sql__free(buf);
    if (isinf(v))
        v = v > 0 ? 1.7976931348623157e308 : -1.7976931348623157e308;
    *out = v;
    size_t k = i;
    while (k < n && isspc(s[k]))
        k++;
    *clean = k == n;
    return i;
}

/* ---- conversions ------------------------------------------------------------ */

static int shown_len(size_t n)
{
    return n > 64 ? 64 : (int)n;
}

int sql__to_double(struct sql_eval *ev, const struct sql_datum *d,
                   double *out)
{
    switch (d->vt) {
    case SQL_VT_NULL:
        *out = 0;
        return 0;
    case SQL_VT_INT:
        *out = (double)d->v.i;
        return 0;
    case SQL_VT_UINT:
        *out = (double)d->v.u;
        return 0;
    case SQL_VT_DOUBLE:
        *out = d->v.d;
        return 0;
    case SQL_VT_DECIMAL:
        *out = sql__dec_to_double(&d->v.dec);
        return 0;
    case SQL_VT_STRING: {
        bool clean;
        uint64_t es;
        if (sql__enumset_number(d, &es)) { /* ENUM/SET: the number */
            *out = (double)es;
            return 0;
        }
        /* '' and ' ' read as 0 with the warning too (MariaDB). */
        if (sql__str_to_double(d->v.s.p, d->v.s.n, out, &clean) == 0 ||
            !clean)
            sql__warn(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                      "Truncated incorrect DOUBLE value: '%.*s'",
                      shown_len(d->v.s.n), d->v.s.p);
        return 0;
    }
    case SQL_VT_JSON: {
        struct sql_datum s;
        int rc = sql__json_scalar(d, ev ? ev->arena : NULL, &s);
        return rc ? rc : sql__to_double(ev, &s, out);
    }
    default: {
        double v = (double)sql__time_to_int(&d->v.t, d->vt);
        if (d->v.t.micro) {
            double f = d->v.t.micro / 1e6;
            v += (d->vt == SQL_VT_TIME && d->v.t.negative) ? -f : f;
        }
        *out = v;
        return 0;
    }
    }
}

/* The integer prefix of a string (MySQL's my_strtoll10 in val_int):
 * digits only, a fraction truncated, an exponent honoured through double. */
static void str_to_int(struct sql_eval *ev, const char *s, size_t n,
                       bool want_unsigned, int64_t *si, uint64_t *ui)
{
    double dv;
    bool clean;
    size_t used = sql__str_to_double(s, n, &dv, &clean);
    size_t i = 0;
    while (i < n && isspc(s[i]))
        i++;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    uint64_t v = 0;
    bool over = false;
    while (i < n && isdig(s[i])) {
        unsigned dgt = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            over = true;
        else
            v = v * 10 + dgt;
        i++;
    }
    bool has_exp = false;
    for (size_t k = i; k < used; k++)
        if (s[k] == 'e' || s[k] == 'E')
            has_exp = true;
    bool trunc = !clean || (used > i && !has_exp);
    if (has_exp) {
        double r = round(dv);
        if (want_unsigned) {
            *ui = r <= 0 ? 0 : r >= 18446744073709551615.0 ? UINT64_MAX
                                                             : (uint64_t)r;
        } else {
            *si = r >= 9223372036854775807.0    ? INT64_MAX
                  : r <= -9223372036854775808.0 ? INT64_MIN
                                                : (int64_t)r;
        }
    } else if (want_unsigned) {
        if (neg && v != 0) {
            *ui = (uint64_t)0 - v; /* MySQL wraps: CAST('-1' AS UNSIGNED) */
        } else {
            *ui = over ? UINT64_MAX : v;
        }
    } else if (neg) {
        if (over || v > (uint64_t)INT64_MAX + 1) {
            *si = INT64_MIN;
            over = true;
        } else {
            *si = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        }
    } else {
        if (over || v > (uint64_t)INT64_MAX) {
            *si = INT64_MAX;
            over = true;
        } else {
            *si = (int64_t)v;
        }
    }
    if (trunc || over)
        sql__warn(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                  "Truncated incorrect INTEGER value: '%.*s'",
                  shown_len(n), s);
}

static int64_t dbl_to_i64(double v)
{
    if (isnan(v))
        return 0;
    double r = rint(v);
    if (r >= 9223372036854775807.0)
        return INT64_MAX;
    if (r <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)r;
}

int sql__to_int(struct sql_eval *ev, const struct sql_datum *d, int64_t *out)
{
    switch (d->vt) {
    case SQL_VT_NULL:
        *out = 0;
        return 0;
    case SQL_VT_INT:
        *out = d->v.i;
        return 0;
    case SQL_VT_UINT:
        *out = (int64_t)d->v.u; /* MySQL reads the bit pattern */
        return 0;
    case SQL_VT_DOUBLE:
        *out = dbl_to_i64(d->v.d);
        return 0;
    case SQL_VT_DECIMAL:
        (void)sql__dec_to_i64(&d->v.dec, out);
        return 0;
    case SQL_VT_STRING: {
        uint64_t u;
        if (sql__enumset_number(d, &u)) {
            *out = (int64_t)u;
            return 0;
        }
        str_to_int(ev, d->v.s.p, d->v.s.n, false, out, &u);
        return 0;
    }
    case SQL_VT_JSON: {
        struct sql_datum s;
        int rc = sql__json_scalar(d, ev ? ev->arena : NULL, &s);
        return rc ? rc : sql__to_int(ev, &s, out);
    }
    default:
        *out = sql__time_to_int(&d->v.t, d->vt);
        if (d->v.t.micro >= 500000) /* rounds like a number */
            *out += (d->vt == SQL_VT_TIME && d->v.t.negative) ? -1 : 1;
        return 0;
    }
}

int sql__to_uint(struct sql_eval *ev, const struct sql_datum *d,
                 uint64_t *out)
{
    switch (d->vt) {
    case SQL_VT_UINT:
        *out = d->v.u;
        return 0;
    case SQL_VT_DOUBLE: {
        double r = isnan(d->v.d) ? 0 : rint(d->v.d);
        *out = r <= 0 ? (r <= -9223372036854775808.0
                             ? (uint64_t)INT64_MIN
                             : (uint64_t)(int64_t)r)
               : r >= 18446744073709551615.0 ? UINT64_MAX
                                               : (uint64_t)r;
        return 0;
    }
    case SQL_VT_DECIMAL:
        if (d->v.dec.neg) {
            int64_t i;
            (void)sql__dec_to_i64(&d->v.dec, &i);
            *out = (uint64_t)i;
        } else {
            (void)sql__dec_to_u64(&d->v.dec, out);
        }
        return 0;
    case SQL_VT_STRING: {
        int64_t i;
        if (sql__enumset_number(d, out))
            return 0;
        str_to_int(ev, d->v.s.p, d->v.s.n, true, &i, out);
        return 0;
    }
    case SQL_VT_JSON: {
        struct sql_datum s;
        int rc = sql__json_scalar(d, ev ? ev->arena : NULL, &s);
        return rc ? rc : sql__to_uint(ev, &s, out);
    }
    default: {
        int64_t i;
        int rc = sql__to_int(ev, d, &i);
        *out = (uint64_t)i;
        return rc;
    }
    }
}

bool sql__dec_overflow_warn(struct sql_eval *ev, const struct sql_datum *d)
{
    if (d->vt != SQL_VT_DOUBLE || fabs(d->v.d) < 1e81)
        return false;
    sql__warn(ev, SQL_ER_DATA_OVERFLOW,
              "Got overflow when converting '' to DECIMAL. Value truncated");
    return true;
}

int sql__to_dec(struct sql_eval *ev, const struct sql_datum *d,
                struct sql_dec *out)
{
    switch (d->vt) {
    case SQL_VT_NULL:
        sql__dec_zero(out);
        return 0;
    case SQL_VT_INT:
        sql__dec_from_i64(out, d->v.i);
        return 0;
    case SQL_VT_UINT:
        sql__dec_from_u64(out, d->v.u);
        return 0;
    case SQL_VT_DOUBLE:
        (void)sql__dec_from_double(out, d->v.d);
        return 0;
    case SQL_VT_DECIMAL:
        *out = d->v.dec;
        return 0;
    case SQL_VT_STRING: {
        uint64_t es;
        if (sql__enumset_number(d, &es)) {
            sql__dec_from_u64(out, es);
            return 0;
        }
        int rc = sql__dec_parse(d->v.s.p, d->v.s.n, out, NULL);
        if (rc != 0)
            sql__warn(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                      "Truncated incorrect DECIMAL value: '%.*s'",
                      shown_len(d->v.s.n), d->v.s.p);
        return 0;
    }
    case SQL_VT_JSON: {
        struct sql_datum s;
        int rc = sql__json_scalar(d, ev ? ev->arena : NULL, &s);
        return rc ? rc : sql__to_dec(ev, &s, out);
    }
    default: {
        sql__dec_from_i64(out, sql__time_to_int(&d->v.t, d->vt));
        if (d->fsp > 0 && d->v.t.micro) {
            struct sql_dec f;
            sql__dec_from_u64(&f, d->v.t.micro);
            f.scale = 6;
            f.neg = d->vt == SQL_VT_TIME && d->v.t.negative;
            (void)sql__dec_add(out, &f, out);
            (void)sql__dec_rescale(out, d->fsp, out);
        }
        return 0;
    }
    }
}

static char *arena_copy(struct sql_eval *ev, const char *s, size_t n)
{
    if (ev == NULL || ev->arena == NULL)
        return NULL;
    char *p = sql__arena_alloc(ev->arena, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* Text of a non-string datum into buf (>= SQL_DEC_STR_MAX bytes). */
static size_t num_text(const struct sql_datum *d, char *buf, bool is_float)
{
    switch (d->vt) {
    case SQL_VT_INT:
        return (size_t)sprintf(buf, "%" PRId64, d->v.i);
    case SQL_VT_UINT:
        return (size_t)sprintf(buf, "%" PRIu64, d->v.u);
    case SQL_VT_DOUBLE:
        return sql__double_text(d->v.d, is_float, buf);
    case SQL_VT_DECIMAL:
        return sql__dec_print(&d->v.dec, buf);
    case SQL_VT_DATE:
    case SQL_VT_DATETIME:
    case SQL_VT_TIME:
        return sql__time_print(&d->v.t, d->vt, d->fsp, buf);
    default:
        buf[0] = '\0';
        return 0;
    }
}

int sql__to_str(struct sql_eval *ev, const struct sql_datum *d,
                const char **p, size_t *n)
{
    if (d->vt == SQL_VT_STRING) {
        *p = d->v.s.p;
        *n = d->v.s.n;
        return 0;
    }
    if (d->vt == SQL_VT_NULL ||
        (d->vt == SQL_VT_JSON && (ev == NULL || ev->arena == NULL))) {
        *p = "";
        *n = 0;
        return 0;
    }
    if (d->vt == SQL_VT_JSON)
        return sql__json_print((const uint8_t *)d->v.s.p, ev->arena, p, n);
    char buf[SQL_DEC_STR_MAX];
    size_t len;
    float f = (float)d->v.d;
    if (d->vt == SQL_VT_DOUBLE && isfinite(f) && (double)f == d->v.d) {
        /* Exactly a FLOAT (a FLOAT column's value, widened): MySQL writes
         * it with float digits (492.185, not 492.18499755859375). */
        char e[32];
        int prec;
        for (prec = 1; prec < 9; prec++) {
            snprintf(e, sizeof e, "%.*e", prec - 1, (double)f);
            if (strtof(e, NULL) == f)
                break;
        }
        len = sql__double_text(strtod(e, NULL), false, buf);
    } else {
        len = num_text(d, buf, false);
    }
    char *c = arena_copy(ev, buf, len);
    if (c == NULL)
        return -ENOMEM;
    *p = c;
    *n = len;
    return 0;
}

/* MySQL names DATE and DATETIME conversions alike in these warnings. */
static const char *vt_word(int vt)
{
    return vt == SQL_VT_TIME ? "time" : "datetime";
}

/* sql__to_temporal, also giving the parser's answer (*prc: 0,
 * SQL_TIME_TRUNC or SQL_TIME_BAD) for a string or number, which the
 * comparisons need to tell a clipped TIME from an exact one. */
static int to_temporal(struct sql_eval *ev, const struct sql_datum *d, int vt,
                       struct sql_time *out, bool *ok, int *prc, bool fuzzy)
{
    int rc = 0;
    int fsp = 0;
    *ok = true;
    *prc = 0;
    memset(out, 0, sizeof *out);
    switch (d->vt) {
    case SQL_VT_DATE:
    case SQL_VT_DATETIME:
        *out = d->v.t;
        if (vt == SQL_VT_DATE) {
            out->hour = out->minute = out->second = 0;
            out->micro = 0;
        } else if (vt == SQL_VT_TIME) {
            memset(out, 0, sizeof *out);
            out->hour = d->v.t.hour;
            out->minute = d->v.t.minute;
            out->second = d->v.t.second;
            out->micro = d->v.t.micro;
        }
        return 0;
    case SQL_VT_TIME:
        if (vt == SQL_VT_TIME) {
            *out = d->v.t;
            return 0;
        } else {
            /* TIME in a datetime context: today's date plus the time. */
            int64_t now = ev && ev->env ? ev->env->now_us +
                                              (int64_t)ev->env->tz_offset_s *
                                                  1000000
                                        : 0;
            int64_t days = now / 86400000000LL + 719528;
            int64_t us = days * 86400000000LL + sql__time_to_us(&d->v.t, SQL_VT_TIME);
            if (sql__time_from_us(us, vt, out) != 0) {
                *ok = false;
                return 0;
            }
            return 0;
        }
    case SQL_VT_STRING:
        if (vt == SQL_VT_TIME)
            rc = sql__time_parse_time(d->v.s.p, d->v.s.n, out, &fsp);
        else
            rc = fuzzy ? sql__time_parse_datetime_fuzzy(d->v.s.p, d->v.s.n,
                                                        out, &fsp)
                       : sql__time_parse_datetime(d->v.s.p, d->v.s.n, out,
                                                  &fsp);
        *prc = rc;
        if (rc == SQL_TIME_BAD) {
            sql__warn(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                      "Incorrect %s value: '%.*s'", vt_word(vt),
                      shown_len(d->v.s.n), d->v.s.p);
            *ok = false;
            return 0;
        }
        if (rc == SQL_TIME_TRUNC)
            sql__warn(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                      "Truncated incorrect %s value: '%.*s'", vt_word(vt),
                      shown_len(d->v.s.n), d->v.s.p);
        break;
    default: {
        int64_t iv;
        uint32_t micro = 0;
        bool negnum = false; /* a negative number (-0.5 has iv 0) */
        if (d->vt == SQL_VT_DECIMAL) {
            /* Exactly, from its digits: 9999999999999999.99 has 99
             * seconds (no TIME), not the double 1e16's 00. */
            char buf[SQL_DEC_STR_MAX];
            size_t n = sql__dec_print(&d->v.dec, buf), i = 0;
            bool neg = buf[0] == '-';
            uint64_t u = 0;
            for (i = neg; i < n && buf[i] != '.'; i++)
                u = u > 999999999999999999ULL ? UINT64_MAX
                                              : u * 10 + (uint64_t)(buf[i] - '0');
            for (int k = 0, j = (int)i + 1; k < 6; k++, j++)
                micro = micro * 10 + (uint32_t)(i < n && (size_t)j < n
                                                   ? buf[j] - '0'
                                                   : 0);
            iv = u > INT64_MAX ? INT64_MAX : (int64_t)u;
            if (neg)
                iv = -iv;
            negnum = neg;
        } else if (d->vt == SQL_VT_DOUBLE) {
            double dv;
            sql__to_double(ev, d, &dv);
            negnum = dv < 0;
            if (!(fabs(dv) < 9.2e18)) /* no datetime is that large; a */
                dv = dv < 0 ? -9.2e18 : 9.2e18; /* TIME clips */
            iv = (int64_t)dv;
            double f = fabs(dv - (double)iv);
            micro = (uint32_t)llround(f * 1e6);
            if (micro >= 1000000)
                micro = 999999;
        } else if (d->vt == SQL_VT_UINT) {
            iv = d->v.u > INT64_MAX ? INT64_MAX : (int64_t)d->v.u;
        } else {
            iv = d->v.i;
        }
        /* Between -1 and 0 the sign is the number's: -0.5 is TIME
         * -00:00:00.5 and no DATETIME (MariaDB; it was 00:00:00.5 and
         * 0000-00-00, seed 703). */
        if (negnum && iv == 0 && micro != 0 && vt != SQL_VT_TIME)
            iv = -1;
        if (vt == SQL_VT_TIME) {
            rc = sql__time_from_num_time(iv, micro, out);
            if (rc == 0 && negnum && iv == 0 && micro != 0)
                out->negative = true;
        } else if (fuzzy)
            rc = sql__time_from_num_datetime_fuzzy(iv, micro, out);
        else
            rc = sql__time_from_num_datetime(iv, micro, out);
        if (rc == 0 && micro != 0 && iv > 0 && iv < 100000000 &&
            (vt != SQL_VT_TIME || iv > 9999999)) {
            /* A date alone (YYYYMMDD) has no fraction: MariaDB drops it
             * with a note (20200102.5 is 2020-01-02 00:00:00). */
            char buf[SQL_DEC_STR_MAX];
            num_text(d, buf, false);
            out->micro = 0;
            sql__note(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                      "Truncated incorrect date value: '%s'", buf);
        }
        *prc = rc;
        if (rc == SQL_TIME_BAD) {
            char buf[SQL_DEC_STR_MAX];
            num_text(d, buf, false);
            sql__warn(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                      "Incorrect %s value: '%s'", vt_word(vt), buf);
            *ok = false;
            return 0;
        }
        if (rc == SQL_TIME_TRUNC) {
            char buf[SQL_DEC_STR_MAX];
            num_text(d, buf, false);
            sql__warn(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                      "Truncated incorrect %s value: '%s'", vt_word(vt), buf);
        }
        break;
    }
    }
    if (vt == SQL_VT_DATE) {
        out->hour = out->minute = out->second = 0;
        out->micro = 0;
    }
    return 0;
}

int sql__to_temporal(struct sql_eval *ev, const struct sql_datum *d, int vt,
                     struct sql_time *out, bool *ok)
{
    int prc;
    return to_temporal(ev, d, vt, out, ok, &prc, false);
}

int sql__datum_truth(struct sql_eval *ev, const struct sql_datum *d,
                     bool *out)
{
    switch (d->vt) {
    case SQL_VT_INT:
        *out = d->v.i != 0;
        return 0;
    case SQL_VT_UINT:
        *out = d->v.u != 0;
        return 0;
    case SQL_VT_DECIMAL:
        *out = !sql__dec_is_zero(&d->v.dec);
        return 0;
    case SQL_VT_DATE:
    case SQL_VT_DATETIME:
    case SQL_VT_TIME:
        *out = sql__time_to_us(&d->v.t, d->vt) != 0 || d->v.t.year != 0;
        return 0;
    default: {
        double v;
        int rc = sql__to_double(ev, d, &v);
        *out = v != 0;
        return rc;
    }
    }
}

int sql__datum_convert(struct sql_eval *ev, const struct sql_datum *d,
                       int vt, uint16_t coll, struct sql_datum *out)
{
    int rc = 0;
    if (d->vt == SQL_VT_NULL || d->vt == vt) {
        if (d != out)
            *out = *d;
        if (vt == SQL_VT_STRING && d->vt == SQL_VT_STRING && coll != 0)
            out->coll = coll;
        return 0;
    }
    struct sql_datum r;
    memset(&r, 0, sizeof r);
    r.vt = (uint8_t)vt;
    switch (vt) {
    case SQL_VT_INT:
        rc = sql__to_int(ev, d, &r.v.i);
        break;
    case SQL_VT_UINT:
        rc = sql__to_uint(ev, d, &r.v.u);
        break;
    case SQL_VT_DOUBLE:
        rc = sql__to_double(ev, d, &r.v.d);
        break;
    case SQL_VT_DECIMAL:
        rc = sql__to_dec(ev, d, &r.v.dec);
        break;
    case SQL_VT_STRING:
        rc = sql__to_str(ev, d, &r.v.s.p, &r.v.s.n);
        r.coll = coll ? coll : SQL_COLL_UTF8MB4_GENERAL_CI;
        break;
    case SQL_VT_JSON: {
        struct sql_json *j;
        const uint8_t *b;
        size_t n;
        if (ev == NULL || ev->arena == NULL)
            return SQL_EINTERNAL;
        if ((rc = sql__json_from_datum(d, ev->arena, &j)) == 0 &&
            (rc = sql__json_encode(j, ev->arena, &b, &n)) == 0)
            sql__datum_json(&r, b, n);
        break;
    }
    case SQL_VT_DATE:
    case SQL_VT_DATETIME:
    case SQL_VT_TIME: {
        bool ok;
        rc = sql__to_temporal(ev, d, vt, &r.v.t, &ok);
        if (rc == 0 && !ok) {
            sql__datum_null(out);
            return 0;
        }
        if (vt != SQL_VT_DATE) {
            if (d->vt == SQL_VT_DATETIME || d->vt == SQL_VT_TIME)
                r.fsp = d->fsp;
            else if (d->vt == SQL_VT_STRING) {
                int fsp = 0;
                struct sql_time tmp;
                if (vt == SQL_VT_TIME)
                    (void)sql__time_parse_time(d->v.s.p, d->v.s.n, &tmp,
                                               &fsp);
                else
                    (void)sql__time_parse_datetime(d->v.s.p, d->v.s.n, &tmp,
                                                   &fsp);
                r.fsp = (uint8_t)fsp;
            }
        }
        break;
    }
    default:
        r.vt = SQL_VT_NULL;
        break;
    }
    if (rc == 0)
        *out = r;
    return rc;
}

/* ---- comparison -------------------------------------------------------------- */

static bool is_num(int vt)
{
    return vt == SQL_VT_INT || vt == SQL_VT_UINT || vt == SQL_VT_DOUBLE ||
           vt == SQL_VT_DECIMAL;
}

static bool is_temporal(int vt)
{
    return vt == SQL_VT_DATE || vt == SQL_VT_DATETIME || vt == SQL_VT_TIME;
}

static int cmp3(double a, double b)
{
    return a < b ? -1 : a > b ? 1 : 0;
}

static int cmp_int(const struct sql_datum *a, const struct sql_datum *b)
{
    if (a->vt == SQL_VT_INT && b->vt == SQL_VT_INT)
        return a->v.i < b->v.i ? -1 : a->v.i > b->v.i;
    if (a->vt == SQL_VT_UINT && b->vt == SQL_VT_UINT)
        return a->v.u < b->v.u ? -1 : a->v.u > b->v.u;
    if (a->vt == SQL_VT_INT) { /* signed vs unsigned */
        if (a->v.i < 0)
            return -1;
        uint64_t x = (uint64_t)a->v.i;
        return x < b->v.u ? -1 : x > b->v.u;
    }
    return -cmp_int(b, a);
}

/* The class a temporal comparison is made in (MariaDB 10.11, checked
 * with its CLI): two of one class in it; TIME against a string or a
 * number as TIME; everything else (DATE against DATETIME, TIME or a
 * string or number, which may carry a time of day) as DATETIME. */
static int cmp_class(int av, int bv)
{
    if (av == bv)
        return av;
    if ((av == SQL_VT_TIME && !is_temporal(bv)) ||
        (bv == SQL_VT_TIME && !is_temporal(av)))
        return SQL_VT_TIME;
    return SQL_VT_DATETIME;
}

/* Order of a temporal in its class: TIME as signed microseconds; dates
 * packed as MariaDB packs them (year * 13 + month) * 32 + day, so that a
 * zero month or day sorts before the first (2012-00-00 < 2012-01-01). */
static int64_t cmp_key(const struct sql_time *t, int vt)
{
    int64_t tod = (((int64_t)t->hour * 60 + t->minute) * 60 + t->second) *
                      1000000 +
                  t->micro;
    if (vt == SQL_VT_TIME)
        return t->negative ? -tod : tod;
    int64_t ymd = ((int64_t)t->year * 13 + t->month) * 32 + t->day;
    return ymd * 86400000000LL + (vt == SQL_VT_DATE ? 0 : tod);
}

/* One side of a temporal comparison in class vt, read as CAST reads it
 * but without the calendar check (MariaDB's fuzzy dates: 230 is
 * 2000-02-30). A string or number that
 * is no value of the class compares as the zero value (warning 1292 from
 * the conversion), as in MySQL and MariaDB: 'abc' < DATE'2020-01-02'. A
 * TIME clipped at 838:59:59 is 838:59:59.999999, MariaDB's maximum, so
 * '839:00:00' is above a TIME column holding 838:59:59. */
static int cmp_side(struct sql_eval *ev, const struct sql_datum *d, int vt,
                    struct sql_time *t)
{
    bool ok;
    int prc;
    int rc = to_temporal(ev, d, vt, t, &ok, &prc, true);
    if (rc != 0)
        return rc;
    if (!ok)
        memset(t, 0, sizeof *t);
    else if (vt == SQL_VT_TIME && prc == SQL_TIME_TRUNC &&
             t->hour == SQL_TIME_MAX_HOUR && t->minute == 59 &&
             t->second == 59 && t->micro == 0)
        t->micro = 999999;
    return 0;
}

/* A comparison with a DATE, DATETIME or TIME on either side (the other
 * side anything but JSON and NULL). */
static int cmp_temporal(struct sql_eval *ev, const struct sql_datum *a,
                        const struct sql_datum *b, int *out)
{
    int vt = cmp_class(a->vt, b->vt);
    struct sql_time ta, tb;
    int rc = cmp_side(ev, a, vt, &ta);
    if (rc == 0)
        rc = cmp_side(ev, b, vt, &tb);
    if (rc != 0)
        return rc;
    int64_t x = cmp_key(&ta, vt), y = cmp_key(&tb, vt);
    *out = x < y ? -1 : x > y;
    return 0;
}

int sql__datum_cmp_ev(struct sql_eval *ev, const struct sql_datum *a,
                      const struct sql_datum *b, uint16_t coll, int *out)
{
    int rc = 0;
    int av = a->vt, bv = b->vt;
    if (av == SQL_VT_JSON || bv == SQL_VT_JSON)
        return sql__json_cmp_datum(a, b, out);
    if (av == SQL_VT_STRING && bv == SQL_VT_STRING) {
        if (coll == 0)
            coll = (a->coll == SQL_COLL_BINARY || b->coll == SQL_COLL_BINARY)
                       ? SQL_COLL_BINARY
                       : a->coll;
        int c = sql__coll_cmp(coll, a->v.s.p, a->v.s.n, b->v.s.p, b->v.s.n);
        *out = c < 0 ? -1 : c > 0;
        return 0;
    }
    if ((av == SQL_VT_INT || av == SQL_VT_UINT) &&
        (bv == SQL_VT_INT || bv == SQL_VT_UINT)) {
        *out = cmp_int(a, b);
        return 0;
    }
    if (is_temporal(av) || is_temporal(bv))
        return cmp_temporal(ev, a, b, out);
    /* Decimal against decimal or integer: exact. So is a string against
     * an integer or a DECIMAL, read as a DECIMAL (warning 1292 "Truncated
     * incorrect DECIMAL value" for junk): MariaDB 10.11's rule, where
     * MySQL 8 compares as doubles ('9223372036854775808' is above
     * 9223372036854775807 in MariaDB, equal as doubles). */
    bool ea = av == SQL_VT_DECIMAL || av == SQL_VT_INT || av == SQL_VT_UINT;
    bool eb = bv == SQL_VT_DECIMAL || bv == SQL_VT_INT || bv == SQL_VT_UINT;
    if ((ea || av == SQL_VT_STRING) && (eb || bv == SQL_VT_STRING)) {
        struct sql_dec x, y;
        sql__to_dec(ev, a, &x);
        sql__to_dec(ev, b, &y);
        *out = sql__dec_cmp(&x, &y);
        return 0;
    }
    /* Everything else as doubles (a string against a number too). */
    double x, y;
    if ((rc = sql__to_double(ev, a, &x)) != 0 ||
        (rc = sql__to_double(ev, b, &y)) != 0)
        return rc;
    *out = cmp3(x, y);
    return 0;
}

int sql__datum_cmp(const struct sql_datum *a, const struct sql_datum *b,
                   uint16_t coll, int *out, struct sql_err *err)
{
    if (a->vt == SQL_VT_NULL || b->vt == SQL_VT_NULL) {
        /* Not for NULLs, but order them first rather than fail. */
        *out = (a->vt != SQL_VT_NULL) - (b->vt != SQL_VT_NULL);
        return 0;
    }
    /* Values of one ENUM/SET column sort by their numbers (ORDER BY);
     * comparisons in expressions (sql__datum_cmp_ev) use the text. */
    uint64_t ea, eb;
    if (sql__enumset_number(a, &ea) && sql__enumset_number(b, &eb) &&
        a->fsp == b->fsp) {
        *out = ea < eb ? -1 : ea > eb;
        return 0;
    }
    struct sql_arena *tmp = NULL;
    int rc;
    if ((is_temporal(a->vt) || is_temporal(b->vt)) &&
        (is_num(a->vt) || is_num(b->vt))) {
        tmp = NULL; /* no strings are made on this path */
    }
    struct sql_eval ev = {NULL, tmp, err};
    rc = sql__datum_cmp_ev(&ev, a, b, coll, out);
    return rc;
}

/* ---- text and protocol values ------------------------------------------------ */

int sql__datum_text(const struct sql_datum *d, const struct sql_ftype *t,
                    struct sql_arena *a, const char **out, size_t *len)
{
    char buf[400]; /* %.30f of 1.8e308 is 340 characters */
    size_t n;
    switch (d->vt) {
    case SQL_VT_NULL:
        *out = NULL;
        *len = 0;
        return 0;
    case SQL_VT_STRING:
        *out = d->v.s.p;
        *len = d->v.s.n;
        return 0;
    case SQL_VT_JSON:
        return sql__json_print((const uint8_t *)d->v.s.p, a, out, len);
    case SQL_VT_DECIMAL:
        if (t && t->dec >= 0 && t->dec != d->v.dec.scale &&
            (t->tp == SQL_TYPE_NEWDECIMAL || t->tp == SQL_TYPE_DECIMAL)) {
            struct sql_dec r;
            (void)sql__dec_rescale(&d->v.dec, t->dec, &r);
            n = sql__dec_print(&r, buf);
        } else {
            n = sql__dec_print(&d->v.dec, buf);
        }
        break;
    case SQL_VT_DOUBLE:
        if (t && t->dec >= 0 && t->dec < 31 &&
            (t->tp == SQL_TYPE_DOUBLE || t->tp == SQL_TYPE_FLOAT)) {
            n = sql__double_fixed_text(d->v.d, t->dec, buf, sizeof buf);
        }
        else
            n = sql__double_text(d->v.d, t && t->tp == SQL_TYPE_FLOAT, buf);
        break;
    case SQL_VT_UINT:
        if (sql__type_is_enumset(t))
            return sql__enumset_text(t, d->v.u, a, out, len);
        if (t && t->tp == SQL_TYPE_BIT) {
            size_t nb = t->len ? (t->len + 7) / 8 : 8;
            if (nb > 8)
                nb = 8;
            for (size_t i = 0; i < nb; i++)
                buf[i] = (char)(d->v.u >> (8 * (nb - 1 - i)));
            n = nb;
            break;
        }
        n = num_text(d, buf, false);
        break;
    case SQL_VT_DATE:
    case SQL_VT_DATETIME:
    case SQL_VT_TIME: {
        int fsp = t && t->dec >= 0 && t->dec <= 6 &&
                          (t->tp == SQL_TYPE_DATETIME ||
                           t->tp == SQL_TYPE_TIMESTAMP ||
                           t->tp == SQL_TYPE_TIME)
                      ? t->dec
                      : d->fsp;
        int vt = d->vt;
        if (t && (t->tp == SQL_TYPE_DATE || t->tp == SQL_TYPE_NEWDATE))
            vt = SQL_VT_DATE;
        n = sql__time_print(&d->v.t, vt, fsp, buf);
        break;
    }
    default:
        n = num_text(d, buf, false);
        break;
    }
    if (t && (t->flags & SQL_COLFLAG_ZEROFILL) && n < t->len &&
        (d->vt == SQL_VT_INT || d->vt == SQL_VT_UINT ||
         d->vt == SQL_VT_DECIMAL || d->vt == SQL_VT_DOUBLE) &&
        t->len < 64) {
        size_t pad = t->len - n;
        memmove(buf + pad, buf, n);
        memset(buf, '0', pad);
        n = t->len;
    }
    char *p = sql__arena_alloc(a, n + 1);
    if (p == NULL)
        return -ENOMEM;
    memcpy(p, buf, n);
    p[n] = '\0';
    *out = p;
    *len = n;
    return 0;
}

int sql__datum_to_value(const struct sql_datum *d, const struct sql_ftype *t,
                        struct sql_arena *a, struct sql_value *out)
{
    memset(out, 0, sizeof *out);
    switch (d->vt) {
    case SQL_VT_NULL:
        out->kind = SQL_VALUE_NULL;
        return 0;
    case SQL_VT_INT:
        out->kind = SQL_VALUE_INT;
        out->v.i = d->v.i;
        return 0;
    case SQL_VT_UINT:
        if ((t && t->tp == SQL_TYPE_BIT) || sql__type_is_enumset(t))
            break;
        out->kind = SQL_VALUE_UINT;
        out->v.u = d->v.u;
        return 0;
    case SQL_VT_DOUBLE:
        out->kind = SQL_VALUE_DOUBLE;
        out->v.d = (t && t->tp == SQL_TYPE_FLOAT) ? (double)(float)d->v.d
                                                   : d->v.d;
        return 0;
    case SQL_VT_DATE:
    case SQL_VT_DATETIME:
        out->kind = SQL_VALUE_DATETIME;
        out->v.t = d->v.t;
        if (d->vt == SQL_VT_DATE || (t && t->tp == SQL_TYPE_DATE))
            out->v.t.hour = out->v.t.minute = out->v.t.second = 0,
            out->v.t.micro = 0;
        return 0;
    case SQL_VT_TIME:
        out->kind = SQL_VALUE_TIME;
        out->v.t = d->v.t;
        return 0;
    default:
        break;
    }
    const char *p;
    size_t n;
    int rc = sql__datum_text(d, t, a, &p, &n);
    if (rc != 0)
        return rc;
    out->kind = SQL_VALUE_BYTES;
    out->v.s.p = p;
    out->v.s.len = n;
    return 0;
}

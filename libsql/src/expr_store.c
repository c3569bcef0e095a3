/* expr_store.c: sql__datum_store, a value converted for a column of a
 * given type on INSERT/UPDATE: range, length, calendar and member checks,
 * errors in strict mode and clamped values with warnings otherwise, as
 * MySQL does. DESIGN.md, "Values and types" (storing values).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "datetime.h"
#include "decimal.h"
#include "expr_int.h"
#include "json.h"

struct store
{
    struct sql_eval *ev;     /* warnings, mode, arena */
    const char *col;         /* column name for messages */
    unsigned long long row;  /* row number for messages */
};

/* An error in strict mode, a warning otherwise (the caller then stores
 * the clamped value). Returns SQL_EQUERY or 0. */
static int complain(struct store *s, uint16_t code, const char *state,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int complain(struct store *s, uint16_t code, const char *state,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sql__strict(s->ev))
        return sql__err(s->ev->err, code, state, "%s", msg);
    sql__warn(s->ev, code, "%s", msg);
    return 0;
}

static int out_of_range(struct store *s)
{
    return complain(s, SQL_ER_WARN_DATA_OUT_OF_RANGE, "22003",
                    "Out of range value for column '%s' at row %llu", s->col,
                    s->row);
}

static int truncated(struct store *s)
{
    return complain(s, SQL_ER_WARN_DATA_TRUNCATED, "01000",
                    "Data truncated for column '%s' at row %llu", s->col,
                    s->row);
}

static int incorrect(struct store *s, const char *what,
                     const struct sql_datum *v)
{
    const char *p = "";
    size_t n = 0;
    char buf[SQL_DEC_STR_MAX];
    if (v->vt == SQL_VT_STRING) {
        p = v->v.s.p;
        n = v->v.s.n;
    } else {
        struct sql_eval tmp = {NULL, NULL, NULL};
        if (v->vt == SQL_VT_INT)
            n = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)v->v.i);
        else if (v->vt == SQL_VT_UINT)
            n = (size_t)snprintf(buf, sizeof buf, "%llu",
                                 (unsigned long long)v->v.u);
        else if (v->vt == SQL_VT_DOUBLE)
            n = sql__double_text(v->v.d, false, buf);
        else if (v->vt == SQL_VT_DECIMAL)
            n = sql__dec_print(&v->v.dec, buf);
        (void)tmp;
        p = buf;
    }
    uint16_t code = strcmp(what, "date") == 0 || strcmp(what, "datetime") == 0 ||
                            strcmp(what, "time") == 0
                        ? SQL_ER_TRUNCATED_WRONG_VALUE
                        : SQL_ER_TRUNCATED_WRONG_VALUE_FOR_FIELD;
    return complain(s, code, code == SQL_ER_TRUNCATED_WRONG_VALUE ? "22007"
                                                                  : "HY000",
                    "Incorrect %s value: '%.*s' for column '%s' at row %llu",
                    what, (int)(n > 100 ? 100 : n), p, s->col, s->row);
}

/* ---- integers ------------------------------------------------------- */

static void int_range(const struct sql_ftype *t, __int128 *lo, __int128 *hi)
{
    bool uns = (t->flags & SQL_COLFLAG_UNSIGNED) != 0;
    int bits;
    switch (t->tp) {
    case SQL_TYPE_TINY:
        bits = 8;
        break;
    case SQL_TYPE_SHORT:
        bits = 16;
        break;
    case SQL_TYPE_INT24:
        bits = 24;
        break;
    case SQL_TYPE_LONG:
        bits = 32;
        break;
    default:
        bits = 64;
        break;
    }
    if (uns) {
        *lo = 0;
        *hi = ((__int128)1 << bits) - 1;
    } else {
        *lo = -((__int128)1 << (bits - 1));
        *hi = ((__int128)1 << (bits - 1)) - 1;
    }
}

static int store_int(struct store *s, const struct sql_datum *v,
                     const struct sql_ftype *t, struct sql_datum *out)
{
    __int128 lo, hi, x = 0;
    int rc;
    int_range(t, &lo, &hi);
    bool over = false;
    switch (v->vt) {
    case SQL_VT_INT:
        x = v->v.i;
        break;
    case SQL_VT_UINT:
        x = v->v.u;
        break;
    case SQL_VT_DOUBLE: {
        double r = rint(v->v.d);
        if (r < -1.8e19 || r > 1.9e19 || isnan(r)) {
            over = true;
            x = r < 0 ? lo : hi;
        } else {
            x = (__int128)r;
        }
        break;
    }
    case SQL_VT_DECIMAL:
    case SQL_VT_STRING: {
        struct sql_dec d;
        if (v->vt == SQL_VT_STRING) {
            int prc = sql__dec_parse(v->v.s.p, v->v.s.n, &d, NULL);
            if (prc == SQL_DEC_BAD) {
                /* MySQL: an empty or non-numeric string is 0. */
                if ((rc = incorrect(s, "integer", v)) != 0)
                    return rc;
            } else if (prc == SQL_DEC_TRUNC) {
                if ((rc = truncated(s)) != 0)
                    return rc;
            } else if (prc == SQL_DEC_OVERFLOW) {
                over = true;
            }
        } else {
            d = v->v.dec;
        }
        struct sql_dec r;
        (void)sql__dec_round(&d, 0, &r);
        int64_t i;
        uint64_t u;
        if (!r.neg && sql__dec_to_u64(&r, &u) == 0)
            x = u;
        else if (sql__dec_to_i64(&r, &i) == 0)
            x = i;
        else {
            over = true;
            x = r.neg ? lo : hi;
        }
        break;
    }
    default: /* temporal: as its number */
        x = sql__time_to_int(&v->v.t, v->vt);
        break;
    }
    if (over || x < lo || x > hi) {
        if ((rc = out_of_range(s)) != 0)
            return rc;
        x = x < lo ? lo : x > hi ? hi : x;
        if (over && v->vt == SQL_VT_STRING && v->v.s.n > 0 &&
            v->v.s.p[0] == '-')
            x = lo;
    }
    if (t->flags & SQL_COLFLAG_UNSIGNED)
        sql__datum_uint(out, (uint64_t)x);
    else
        sql__datum_int(out, (int64_t)x);
    return 0;
}

static int store_year(struct store *s, const struct sql_datum *v,
                      struct sql_datum *out)
{
    int64_t y;
    int rc;
    bool is_str = v->vt == SQL_VT_STRING;
    if (is_str) {
        struct sql_ftype t = {.tp = SQL_TYPE_LONGLONG};
        struct sql_datum d;
        if ((rc = store_int(s, v, &t, &d)) != 0)
            return rc;
        y = d.v.i;
    } else if (v->vt == SQL_VT_DATE || v->vt == SQL_VT_DATETIME) {
        y = v->v.t.year;
    } else {
        struct sql_ftype t = {.tp = SQL_TYPE_LONGLONG};
        struct sql_datum d;
        if ((rc = store_int(s, v, &t, &d)) != 0)
            return rc;
        y = d.v.i;
    }
    if (y == 0 && !is_str)
        ;
    else if (y >= 0 && y <= 69)
        y += 2000;
    else if (y >= 70 && y <= 99)
        y += 1900;
    if (y != 0 && (y < 1901 || y > 2155)) {
        if ((rc = out_of_range(s)) != 0)
            return rc;
        y = 0;
    }
    sql__datum_int(out, y);
    return 0;
}

static int store_bit(struct store *s, const struct sql_datum *v,
                     const struct sql_ftype *t, struct sql_datum *out)
{
    uint64_t x = 0;
    int rc;
    if (v->vt == SQL_VT_STRING) {
        if (v->v.s.n > 8) {
            x = UINT64_MAX;
        } else {
            for (size_t i = 0; i < v->v.s.n; i++)
                x = (x << 8) | (uint8_t)v->v.s.p[i];
        }
    } else {
        struct sql_ftype u = {.tp = SQL_TYPE_LONGLONG,
                              .flags = SQL_COLFLAG_UNSIGNED};
        struct sql_datum d;
        if ((rc = store_int(s, v, &u, &d)) != 0)
            return rc;
        x = d.v.u;
    }
    uint32_t bits = t->len ? t->len : 1;
    if (bits < 64 && x >> bits) {
        if ((rc = complain(s, SQL_ER_DATA_TOO_LONG, "22001",
                           "Data too long for column '%s' at row %llu",
                           s->col, s->row)) != 0)
            return rc;
        x = ((uint64_t)1 << bits) - 1;
    }
    sql__datum_uint(out, x);
    return 0;
}

/* ---- approximate and exact numbers ---------------------------------- */

static int store_double(struct store *s, const struct sql_datum *v,
                        const struct sql_ftype *t, struct sql_datum *out)
{
    double x;
    int rc;
    if (v->vt == SQL_VT_STRING) {
        bool clean;
        size_t used = sql__str_to_double(v->v.s.p, v->v.s.n, &x, &clean);
        if (!clean || used == 0) {
            if ((rc = truncated(s)) != 0)
                return rc;
        }
    } else {
        struct sql_eval quiet = {NULL, NULL, NULL};
        sql__to_double(&quiet, v, &x);
    }
    if (t->dec >= 0 && t->dec < 31 && t->len > 0) {
        double p = pow(10, t->dec);
        x = round(x * p) / p;
        double max = pow(10, (double)t->len - t->dec) - 1 / p;
        if (fabs(x) > max) {
            if ((rc = out_of_range(s)) != 0)
                return rc;
            x = x < 0 ? -max : max;
        }
    }
    if (t->tp == SQL_TYPE_FLOAT) {
        if (fabs(x) > FLT_MAX) {
            if ((rc = out_of_range(s)) != 0)
                return rc;
            x = x < 0 ? -FLT_MAX : FLT_MAX;
        }
        x = (double)(float)x;
    }
    if ((t->flags & SQL_COLFLAG_UNSIGNED) && x < 0) {
        if ((rc = out_of_range(s)) != 0)
            return rc;
        x = 0;
    }
    sql__datum_double(out, x);
    return 0;
}

static void dec_max(int prec, int scale, bool neg, struct sql_dec *d)
{
    char buf[SQL_DEC_STR_MAX];
    int n = 0;
    if (neg)
        buf[n++] = '-';
    for (int i = 0; i < prec - scale; i++)
        buf[n++] = '9';
    if (prec - scale == 0)
        buf[n++] = '0';
    if (scale > 0) {
        buf[n++] = '.';
        for (int i = 0; i < scale; i++)
            buf[n++] = '9';
    }
    (void)sql__dec_parse(buf, (size_t)n, d, NULL);
}

static int store_decimal(struct store *s, const struct sql_datum *v,
                         const struct sql_ftype *t, struct sql_datum *out)
{
    struct sql_dec d, r;
    int rc;
    /* The type's length is the display length MySQL reports for
     * DECIMAL(M,D): M, plus one for the point when D > 0, plus one for
     * the sign unless UNSIGNED. */
    int scale = t->dec >= 0 && t->dec <= SQL_DEC_MAX_SCALE ? t->dec : 0;
    int prec = (int)t->len - (scale > 0) -
               !(t->flags & SQL_COLFLAG_UNSIGNED);
    if (t->len == 0 || prec <= 0 || prec > SQL_DEC_MAX_PREC)
        prec = 10;
    if (scale > prec)
        scale = prec;
    bool over = false;
    if (v->vt == SQL_VT_STRING) {
        int prc = sql__dec_parse(v->v.s.p, v->v.s.n, &d, NULL);
        if (prc == SQL_DEC_BAD) {
            if ((rc = incorrect(s, "decimal", v)) != 0)
                return rc;
        } else if (prc == SQL_DEC_TRUNC) {
            if ((rc = truncated(s)) != 0)
                return rc;
        } else if (prc == SQL_DEC_OVERFLOW) {
            over = true;
        }
    } else if (v->vt == SQL_VT_DOUBLE && !isfinite(v->v.d)) {
        over = true;
        sql__dec_zero(&d);
    } else {
        struct sql_eval quiet = {NULL, NULL, NULL};
        sql__to_dec(&quiet, v, &d);
    }
    (void)sql__dec_round(&d, scale, &r);
    bool in_range = !over && sql__dec_int_digits(&r) <= prec - scale;
    if (in_range && sql__dec_cmp(&r, &d) != 0)
        sql__note(s->ev, SQL_ER_WARN_DATA_TRUNCATED,
                  "Data truncated for column '%s' at row %llu", s->col,
                  s->row);
    if (!in_range) {
        if ((rc = out_of_range(s)) != 0)
            return rc;
        dec_max(prec, scale, over ? d.neg : r.neg, &r);
    }
    if ((t->flags & SQL_COLFLAG_UNSIGNED) && r.neg) {
        if ((rc = out_of_range(s)) != 0)
            return rc;
        sql__dec_zero(&r);
    }
    (void)sql__dec_rescale(&r, scale, &r);
    memset(out, 0, sizeof *out);
    out->vt = SQL_VT_DECIMAL;
    out->v.dec = r;
    return 0;
}

/* ---- strings ------------------------------------------------------------ */

static uint64_t max_bytes(uint8_t tp)
{
    switch (tp) {
    case SQL_TYPE_TINY_BLOB:
        return 255;
    case SQL_TYPE_BLOB:
        return 65535;
    case SQL_TYPE_MEDIUM_BLOB:
        return 16777215;
    case SQL_TYPE_LONG_BLOB:
        return 4294967295u;
    default:
        return 0;
    }
}

/* First malformed UTF-8 position, or n. */
static size_t utf8_bad(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = sql__utf8_decode(p + i, n - i, &cp);
        if (l == 1 && (uint8_t)p[i] >= 0x80)
            return i;
        i += l;
    }
    return n;
}

static int store_enum(struct store *s, const struct sql_datum *v,
                      const struct sql_ftype *t, struct sql_datum *out)
{
    int idx = -1;
    if (v->vt == SQL_VT_STRING) {
        idx = sql__enumset_member(t, v->v.s.p, v->v.s.n);
    } else {
        int64_t n;
        struct sql_eval quiet = {NULL, NULL, NULL};
        sql__to_int(&quiet, v, &n);
        if (n >= 1 && n <= t->nelems)
            idx = (int)n - 1;
    }
    if (idx < 0) {
        /* Strict mode fails with 1265; otherwise the '' error value. */
        if (sql__strict(s->ev))
            return sql__err(s->ev->err, SQL_ER_WARN_DATA_TRUNCATED, "01000",
                            "Data truncated for column '%s' at row %llu",
                            s->col, s->row);
        sql__warn(s->ev, SQL_ER_WARN_DATA_TRUNCATED,
                  "Data truncated for column '%s' at row %llu", s->col,
                  s->row);
    }
    /* Stored as the 1-based index (enumset.c). */
    sql__datum_uint(out, (uint64_t)(idx + 1));
    return 0;
}

static int store_set(struct store *s, const struct sql_datum *v,
                     const struct sql_ftype *t, struct sql_datum *out)
{
    uint64_t mask = 0;
    bool bad = false;
    if (v->vt == SQL_VT_STRING) {
        const char *p = v->v.s.p;
        size_t n = v->v.s.n, i = 0;
        while (i <= n && n > 0) {
            size_t j = i;
            while (j < n && p[j] != ',')
                j++;
            int idx = sql__enumset_member(t, p + i, j - i);
            if (idx < 0)
                bad = true;
            else if (idx < 64)
                mask |= 1ULL << idx;
            i = j + 1;
            if (j == n)
                break;
        }
    } else {
        struct sql_eval quiet = {NULL, NULL, NULL};
        sql__to_uint(&quiet, v, &mask);
        if (t->nelems < 64 && (mask >> t->nelems)) {
            bad = true;
            mask &= (1ULL << t->nelems) - 1;
        }
    }
    if (bad) {
        if (sql__strict(s->ev))
            return sql__err(s->ev->err, SQL_ER_WARN_DATA_TRUNCATED, "01000",
                            "Data truncated for column '%s' at row %llu",
                            s->col, s->row);
        sql__warn(s->ev, SQL_ER_WARN_DATA_TRUNCATED,
                  "Data truncated for column '%s' at row %llu", s->col,
                  s->row);
    }
    /* Stored as the bitmask (enumset.c). */
    sql__datum_uint(out, mask);
    return 0;
}

static int store_string(struct store *s, const struct sql_datum *v,
                        const struct sql_ftype *t, struct sql_datum *out)
{
    const char *p;
    size_t n;
    int rc;
    if ((rc = sql__to_str(s->ev, v, &p, &n)) != 0)
        return rc;
    uint16_t coll = t->coll ? t->coll : SQL_COLL_UTF8MB4_GENERAL_CI;
    if (coll != SQL_COLL_BINARY) {
        size_t bad = utf8_bad(p, n);
        if (bad < n) {
            char hex[32];
            size_t h = 0;
            for (size_t i = bad; i < n && i < bad + 4; i++)
                h += (size_t)snprintf(hex + h, sizeof hex - h, "\\x%02X",
                                      (uint8_t)p[i]);
            if (n - bad > 4)
                h += (size_t)snprintf(hex + h, sizeof hex - h, "...");
            if ((rc = complain(s, SQL_ER_TRUNCATED_WRONG_VALUE_FOR_FIELD,
                               "HY000",
                               "Incorrect string value: '%s' for column "
                               "'%s' at row %llu",
                               hex, s->col, s->row)) != 0)
                return rc;
            n = bad;
        }
    }
    uint64_t limit_b = max_bytes(t->tp);
    size_t keep = n;
    if (limit_b != 0) {
        if (n > limit_b) {
            keep = (size_t)limit_b;
            if (coll != SQL_COLL_BINARY) /* whole characters only */
                while (keep > 0 && ((uint8_t)p[keep] & 0xC0) == 0x80)
                    keep--;
        }
    } else if (t->len > 0 || t->tp == SQL_TYPE_STRING ||
               t->tp == SQL_TYPE_VARCHAR || t->tp == SQL_TYPE_VAR_STRING) {
        keep = sql__str_charpos(coll, p, n, t->len);
    }
    if (keep < n) {
        /* Only spaces cut: a note. Anything else: 1406 (strict) or a
         * truncation warning. */
        bool spaces = true;
        for (size_t i = keep; i < n; i++)
            if (p[i] != ' ')
                spaces = false;
        if (spaces && coll != SQL_COLL_BINARY) {
            sql__note(s->ev, SQL_ER_WARN_DATA_TRUNCATED,
                      "Data truncated for column '%s' at row %llu", s->col,
                      s->row);
        } else if (sql__strict(s->ev)) {
            return sql__err(s->ev->err, SQL_ER_DATA_TOO_LONG, "22001",
                            "Data too long for column '%s' at row %llu",
                            s->col, s->row);
        } else {
            sql__warn(s->ev, SQL_ER_WARN_DATA_TRUNCATED,
                      "Data truncated for column '%s' at row %llu", s->col,
                      s->row);
        }
        n = keep;
    }
    if (t->tp == SQL_TYPE_STRING && coll != SQL_COLL_BINARY)
        while (n > 0 && p[n - 1] == ' ')
            n--; /* CHAR drops trailing spaces */
    if (t->tp == SQL_TYPE_STRING && coll == SQL_COLL_BINARY && t->len > n) {
        /* BINARY(n) pads with zero bytes. */
        char *b = sql__arena_alloc(s->ev->arena, t->len);
        if (b == NULL)
            return -ENOMEM;
        memcpy(b, p, n);
        memset(b + n, 0, t->len - n);
        p = b;
        n = t->len;
    }
    sql__datum_str(out, p, n, coll);
    return 0;
}

/* ---- temporals -------------------------------------------------------- */

static const char *vt_word(int vt)
{
    return vt == SQL_VT_DATE ? "date" : vt == SQL_VT_TIME ? "time"
                                                          : "datetime";
}

static int store_temporal(struct store *s, const struct sql_datum *v,
                          const struct sql_ftype *t, struct sql_datum *out)
{
    int vt = sql__ftype_vt(t);
    int fsp = t->dec > 0 && t->dec <= 6 ? t->dec : 0;
    struct sql_time tm;
    int rc, prc = 0;
    memset(&tm, 0, sizeof tm);
    memset(out, 0, sizeof *out);
    bool had_time = false;
    switch (v->vt) {
    case SQL_VT_STRING:
        if (vt == SQL_VT_TIME)
            prc = sql__time_parse_time(v->v.s.p, v->v.s.n, &tm, NULL);
        else
            prc = sql__time_parse_datetime(v->v.s.p, v->v.s.n, &tm, NULL);
        break;
    case SQL_VT_DATE:
    case SQL_VT_DATETIME:
    case SQL_VT_TIME: {
        bool ok;
        struct sql_eval quiet = *s->ev;
        quiet.err = NULL;
        if ((rc = sql__to_temporal(&quiet, v, vt, &tm, &ok)) != 0)
            return rc;
        if (!ok)
            prc = SQL_TIME_BAD;
        if (vt == SQL_VT_DATE && v->vt == SQL_VT_DATETIME &&
            (v->v.t.hour || v->v.t.minute || v->v.t.second || v->v.t.micro))
            had_time = true;
        break;
    }
    default: {
        int64_t iv;
        uint32_t micro = 0;
        bool negnum = false;
        if (v->vt == SQL_VT_DOUBLE || v->vt == SQL_VT_DECIMAL) {
            double d;
            struct sql_eval quiet = {NULL, NULL, NULL};
            sql__to_double(&quiet, v, &d);
            if (!(fabs(d) < 9.2e18))
                d = -1; /* no temporal is that large: invalid */
            iv = (int64_t)d;
            micro = (uint32_t)llround(fabs(d - (double)iv) * 1e6);
            if (micro > 999999)
                micro = 999999;
            negnum = d < 0;
        } else if (v->vt == SQL_VT_UINT) {
            iv = v->v.u > INT64_MAX ? -1 : (int64_t)v->v.u;
        } else {
            iv = v->v.i;
        }
        /* -0.5: its sign, as sql__datum_convert keeps it */
        if (negnum && iv == 0 && micro != 0 && vt != SQL_VT_TIME)
            iv = -1;
        prc = vt == SQL_VT_TIME ? sql__time_from_num_time(iv, micro, &tm)
                                : sql__time_from_num_datetime(iv, micro, &tm);
        if (prc == 0 && vt == SQL_VT_TIME && negnum && iv == 0 && micro != 0)
            tm.negative = true;
        break;
    }
    }
    if (prc == SQL_TIME_BAD) {
        if ((rc = incorrect(s, vt_word(vt), v)) != 0)
            return rc;
        memset(&tm, 0, sizeof tm);
    } else if (prc == SQL_TIME_TRUNC) {
        if (vt == SQL_VT_TIME && v->vt == SQL_VT_STRING &&
            tm.hour != SQL_TIME_MAX_HOUR) {
            /* MariaDB's Field_time: text that is not all a TIME is 1292
             * "Incorrect time value" ('12abc', '2020-01-02'); the value
             * read is kept. (Past 838:59:59 stays 1264 below.) */
            if ((rc = incorrect(s, "time", v)) != 0)
                return rc;
        } else if (vt == SQL_VT_TIME && tm.hour == SQL_TIME_MAX_HOUR) {
            if ((rc = out_of_range(s)) != 0)
                return rc;
        } else if ((rc = truncated(s)) != 0) {
            return rc;
        }
    }
    if (vt == SQL_VT_DATE) {
        if (v->vt == SQL_VT_STRING &&
            (tm.hour || tm.minute || tm.second || tm.micro))
            had_time = true;
        tm.hour = tm.minute = tm.second = 0;
        tm.micro = 0;
        if (had_time)
            sql__note(s->ev, SQL_ER_WARN_DATA_TRUNCATED,
                      "Data truncated for column '%s' at row %llu", s->col,
                      s->row);
    }
    if (vt != SQL_VT_TIME && prc != SQL_TIME_BAD) {
        uint32_t mode = s->ev->env ? s->ev->env->sql_mode : 0;
        bool zero = sql__date_is_zero(&tm);
        bool zero_part = !zero && (tm.month == 0 || tm.day == 0);
        if ((zero && (mode & SQL_MODE_NO_ZERO_DATE)) ||
            (zero_part && (mode & SQL_MODE_NO_ZERO_IN_DATE))) {
            if ((rc = incorrect(s, vt_word(vt), v)) != 0)
                return rc;
            memset(&tm, 0, sizeof tm);
        }
    }
    if (vt != SQL_VT_DATE)
        sql__time_round(&tm, vt, fsp);
    if (t->tp == SQL_TYPE_TIMESTAMP && !sql__date_is_zero(&tm)) {
        int64_t off = s->ev->env ? s->ev->env->tz_offset_s : 0;
        int64_t us = sql__time_to_us(&tm, SQL_VT_DATETIME) - off * 1000000;
        struct sql_time lo = {false, 1970, 1, 1, 0, 0, 1, 0};
        struct sql_time hi = {false, 2038, 1, 19, 3, 14, 7, 999999};
        if (us < sql__time_to_us(&lo, SQL_VT_DATETIME) ||
            us > sql__time_to_us(&hi, SQL_VT_DATETIME)) {
            if ((rc = incorrect(s, "datetime", v)) != 0)
                return rc;
            memset(&tm, 0, sizeof tm);
        }
    }
    out->vt = (uint8_t)vt;
    out->fsp = (uint8_t)(vt == SQL_VT_DATE ? 0 : fsp);
    out->v.t = tm;
    return 0;
}

int sql__datum_store(const struct sql_datum *v, const struct sql_ftype *t,
                     const char *colname, uint64_t row, struct sql_eval *ev,
                     struct sql_datum *out)
{
    struct store s = {ev, colname ? colname : "", (unsigned long long)row};
    if (v->vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return 0;
    }
    struct sql_datum sc;
    if (v->vt == SQL_VT_JSON && t->tp != SQL_TYPE_JSON &&
        !sql__type_is_string(t->tp)) {
        /* JSON into a number or temporal column: its scalar (json.c);
         * string columns take its text. */
        int rc = sql__json_scalar(v, ev->arena, &sc);
        if (rc != 0)
            return rc;
        v = &sc;
    }
    switch (t->tp) {
    case SQL_TYPE_TINY:
    case SQL_TYPE_SHORT:
    case SQL_TYPE_LONG:
    case SQL_TYPE_INT24:
    case SQL_TYPE_LONGLONG:
        return store_int(&s, v, t, out);
    case SQL_TYPE_YEAR:
        return store_year(&s, v, out);
    case SQL_TYPE_BIT:
        return store_bit(&s, v, t, out);
    case SQL_TYPE_FLOAT:
    case SQL_TYPE_DOUBLE:
        return store_double(&s, v, t, out);
    case SQL_TYPE_DECIMAL:
    case SQL_TYPE_NEWDECIMAL:
        return store_decimal(&s, v, t, out);
    case SQL_TYPE_DATE:
    case SQL_TYPE_NEWDATE:
    case SQL_TYPE_DATETIME:
    case SQL_TYPE_TIMESTAMP:
    case SQL_TYPE_TIME:
        return store_temporal(&s, v, t, out);
    case SQL_TYPE_ENUM:
        return store_enum(&s, v, t, out);
    case SQL_TYPE_SET:
        return store_set(&s, v, t, out);
    case SQL_TYPE_JSON:
        return sql__json_store(ev, v, s.col, out);
    case SQL_TYPE_NULL:
        sql__datum_null(out);
        return 0;
    default:
        return store_string(&s, v, t, out);
    }
}

/* func_string.c: string functions with MySQL's semantics: positions and
 * lengths in characters (bytes for binary strings), NULL in -> NULL out
 * (CONCAT_WS skips NULLs), searches under the argument collation (LOCATE,
 * INSTR, FIELD, STRCMP) but REPLACE always case-sensitive, as MySQL.
 * DESIGN.md, "Expressions".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "expr_int.h"
#include "wire.h"

#define MAX_RESULT (64u << 20) /* max_allowed_packet */

/* Arguments as strings (after NULL checks). */
struct sargs
{
    struct sql_datum v[8]; /* values */
    const char *p[8];      /* bytes */
    size_t n[8];           /* lengths */
};

/* Evaluate all arguments (at most 8) and their text; *null when one is
 * NULL. */
static int get_sargs(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sargs *s, bool *null)
{
    int rc = sql__args(e, ev, row, s->v, null);
    if (rc != 0 || *null)
        return rc;
    for (int i = 0; i < e->nargs && i < 8; i++)
        if ((rc = sql__text_of(e->args[i], ev, &s->v[i], &s->p[i],
                               &s->n[i])) != 0)
            return rc;
    return 0;
}

static uint16_t coll_of(const struct sql_expr *e)
{
    return e->type.coll ? e->type.coll : SQL_COLL_UTF8MB4_GENERAL_CI;
}

static int check_str(struct sql_expr *e, struct sql_arena *a,
                     struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_str_type(e);
    return 0;
}

static int check_int(struct sql_expr *e, struct sql_arena *a,
                     struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_INT, 0);
    /* the comparison collation of the string arguments */
    uint16_t coll = 0;
    for (int i = 0; i < e->nargs; i++)
        if (e->args[i]->vt == SQL_VT_STRING) {
            if (e->args[i]->type.coll == SQL_COLL_BINARY)
                coll = SQL_COLL_BINARY;
            else if (coll == 0)
                coll = e->args[i]->type.coll;
        }
    e->coll = coll ? coll : SQL_COLL_UTF8MB4_GENERAL_CI;
    return 0;
}

static int check_binary(struct sql_expr *e, struct sql_arena *a,
                        struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_STRING, 0);
    e->type.coll = SQL_COLL_BINARY;
    e->type.flags |= SQL_COLFLAG_BINARY;
    e->coll = SQL_COLL_BINARY;
    return 0;
}

/* ---- building results ----------------------------------------------- */

static int concat_eval(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out,
                       bool ws)
{
    struct sql__buf b = {0};
    struct sql_datum v;
    const char *sep = NULL;
    size_t seplen = 0;
    int rc = 0;
    bool first = true;
    for (int i = 0; i < e->nargs; i++) {
        if ((rc = sql__arg(e, i, ev, row, &v)) != 0)
            goto out;
        if (v.vt == SQL_VT_NULL) {
            if (ws && i > 0)
                continue;
            sql__datum_null(out);
            goto out;
        }
        const char *p;
        size_t n;
        if ((rc = sql__text_of(e->args[i], ev, &v, &p, &n)) != 0)
            goto out;
        if (ws && i == 0) {
            sep = p;
            seplen = n;
            continue;
        }
        if (ws && !first && (rc = sql__buf_put(&b, sep, seplen)) != 0)
            goto out;
        if ((rc = sql__buf_put(&b, p, n)) != 0)
            goto out;
        first = false;
    }
    rc = sql__ret_str(ev, out, (const char *)b.p, b.len, coll_of(e));
out:
    sql__buf_free(&b);
    return rc;
}

static int eval_concat(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    return concat_eval(e, ev, row, out, false);
}

static int eval_concat_ws(const struct sql_expr *e, struct sql_eval *ev,
                          const struct sql_datum *row, struct sql_datum *out)
{
    return concat_eval(e, ev, row, out, true);
}

static int eval_length(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    int64_t n;
    if (e->sub == 1) /* CHAR_LENGTH */
        n = (int64_t)sql__str_charlen(s.v[0].vt == SQL_VT_STRING
                                          ? s.v[0].coll
                                          : SQL_COLL_UTF8MB4_GENERAL_CI,
                                      s.p[0], s.n[0]);
    else
        n = (int64_t)s.n[0] * (e->sub == 2 ? 8 : 1);
    sql__datum_int(out, n);
    return 0;
}

static int check_length(struct sql_expr *e, struct sql_arena *a,
                        struct sql_err *err)
{
    check_int(e, a, err);
    const char *n = e->name;
    e->sub = !strcmp(n, "CHAR_LENGTH") || !strcmp(n, "CHARACTER_LENGTH") ? 1
             : !strcmp(n, "BIT_LENGTH")                                ? 2
                                                                       : 0;
    return 0;
}

/* Map each character through f (UPPER/LOWER); binary strings unchanged. */
static int eval_case(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    uint16_t coll = coll_of(e);
    if (coll == SQL_COLL_BINARY)
        return sql__ret_str(ev, out, s.p[0], s.n[0], coll);
    char *buf = sql__arena_alloc(ev->arena, s.n[0] * 2 + 1);
    if (buf == NULL)
        return -ENOMEM;
    size_t o = 0, i = 0;
    bool up = e->sub == 1;
    while (i < s.n[0]) {
        uint32_t cp;
        size_t l = sql__utf8_decode(s.p[0] + i, s.n[0] - i, &cp);
        if (l == 1 && (uint8_t)s.p[0][i] >= 0x80) {
            buf[o++] = s.p[0][i++];
            continue;
        }
        uint32_t m = up ? sql__cp_upper(cp) : sql__cp_lower(cp);
        o += sql__utf8_encode(m, buf + o);
        i += l;
    }
    sql__datum_str(out, buf, o, coll);
    return 0;
}

static int check_upper(struct sql_expr *e, struct sql_arena *a,
                       struct sql_err *err)
{
    check_str(e, a, err);
    e->sub = !strcmp(e->name, "UPPER") || !strcmp(e->name, "UCASE");
    return 0;
}

/* Byte range of characters [from, from + count) of s. */
static void char_range(uint16_t coll, const char *p, size_t n, size_t from,
                       size_t count, size_t *b, size_t *len)
{
    size_t start = sql__str_charpos(coll, p, n, from);
    size_t end = start + sql__str_charpos(coll, p + start, n - start, count);
    *b = start;
    *len = end - start;
}

static uint16_t arg_coll(const struct sql_datum *v)
{
    return v->vt == SQL_VT_STRING ? v->coll : SQL_COLL_UTF8MB4_GENERAL_CI;
}

static int eval_substr(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    uint16_t coll = coll_of(e);
    int64_t pos, len = INT64_MAX;
    sql__to_int(ev, &s.v[1], &pos);
    if (e->nargs > 2)
        sql__to_int(ev, &s.v[2], &len);
    int64_t nchars = (int64_t)sql__str_charlen(coll, s.p[0], s.n[0]);
    if (pos == 0 || len <= 0 || pos > nchars || -pos > nchars)
        return sql__ret_str(ev, out, "", 0, coll);
    int64_t start = pos > 0 ? pos - 1 : nchars + pos;
    size_t b, l;
    char_range(coll, s.p[0], s.n[0], (size_t)start,
               len > nchars ? (size_t)nchars : (size_t)len, &b, &l);
    sql__datum_str(out, s.p[0] + b, l, coll);
    (void)arg_coll;
    return 0;
}

static int eval_left_right(const struct sql_expr *e, struct sql_eval *ev,
                           const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    uint16_t coll = coll_of(e);
    int64_t k;
    sql__to_int(ev, &s.v[1], &k);
    if (s.v[1].vt == SQL_VT_UINT && s.v[1].v.u > INT64_MAX)
        k = INT64_MAX;
    if (k <= 0)
        return sql__ret_str(ev, out, "", 0, coll);
    size_t nchars = sql__str_charlen(coll, s.p[0], s.n[0]);
    if ((uint64_t)k >= nchars) {
        sql__datum_str(out, s.p[0], s.n[0], coll);
        return 0;
    }
    size_t b, l;
    if (e->sub == 0)
        char_range(coll, s.p[0], s.n[0], 0, (size_t)k, &b, &l);
    else
        char_range(coll, s.p[0], s.n[0], nchars - (size_t)k, (size_t)k, &b,
                   &l);
    sql__datum_str(out, s.p[0] + b, l, coll);
    return 0;
}

static int check_left_right(struct sql_expr *e, struct sql_arena *a,
                            struct sql_err *err)
{
    check_str(e, a, err);
    e->sub = !strcmp(e->name, "RIGHT");
    return 0;
}

/* TRIM: e->sub 0 both, 1 leading, 2 trailing. */
static int eval_trim(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    const char *rem = " ";
    size_t rn = 1;
    if (e->nargs > 1) {
        rem = s.p[1];
        rn = s.n[1];
    }
    const char *p = s.p[0];
    size_t n = s.n[0];
    if (rn > 0) {
        if (e->sub != 2)
            while (n >= rn && memcmp(p, rem, rn) == 0) {
                p += rn;
                n -= rn;
            }
        if (e->sub != 1)
            while (n >= rn && memcmp(p + n - rn, rem, rn) == 0)
                n -= rn;
    }
    sql__datum_str(out, p, n, coll_of(e));
    return 0;
}

static int check_trim(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    check_str(e, a, err);
    const char *side = e->text;
    if (!strcmp(e->name, "LTRIM"))
        e->sub = 1;
    else if (!strcmp(e->name, "RTRIM"))
        e->sub = 2;
    else if (side && !strcmp(side, "LEADING"))
        e->sub = 1;
    else if (side && !strcmp(side, "TRAILING"))
        e->sub = 2;
    else
        e->sub = 0;
    return 0;
}

static int eval_replace(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    if (s.n[1] == 0) {
        sql__datum_str(out, s.p[0], s.n[0], coll_of(e));
        return 0;
    }
    struct sql__buf b = {0};
    size_t i = 0;
    while (i < s.n[0]) {
        if (s.n[0] - i >= s.n[1] && memcmp(s.p[0] + i, s.p[1], s.n[1]) == 0) {
            if ((rc = sql__buf_put(&b, s.p[2], s.n[2])) != 0)
                goto out;
            i += s.n[1];
        } else {
            if ((rc = sql__buf_put(&b, s.p[0] + i, 1)) != 0)
                goto out;
            i++;
        }
    }
    rc = sql__ret_str(ev, out, (const char *)b.p, b.len, coll_of(e));
out:
    sql__buf_free(&b);
    return rc;
}

/* 1-based character position of needle in hay from character start
 * (0-based), under coll; 0 when absent. */
static int64_t find(uint16_t coll, const char *hay, size_t hn,
                    const char *needle, size_t nn, size_t start)
{
    size_t i = sql__str_charpos(coll, hay, hn, start);
    int64_t pos = (int64_t)start + 1;
    size_t nlen = sql__str_charlen(coll, needle, nn);
    if (i > hn)
        return 0;
    for (;;) {
        /* Compare nlen characters at i. */
        size_t span = sql__str_charpos(coll, hay + i, hn - i, nlen);
        if (sql__str_charlen(coll, hay + i, span) < nlen)
            return 0;
        bool eq;
        if (coll == SQL_COLL_BINARY) {
            eq = span == nn && memcmp(hay + i, needle, nn) == 0;
        } else {
            size_t a = 0, b = 0;
            eq = true;
            while (a < span && b < nn) {
                uint32_t x, y;
                a += sql__utf8_decode(hay + i + a, span - a, &x);
                b += sql__utf8_decode(needle + b, nn - b, &y);
                if (sql__coll_weight(coll, x) != sql__coll_weight(coll, y)) {
                    eq = false;
                    break;
                }
            }
        }
        if (eq)
            return pos;
        if (i >= hn)
            return 0;
        uint32_t cp;
        i += coll == SQL_COLL_BINARY ? 1 : sql__utf8_decode(hay + i, hn - i,
                                                            &cp);
        pos++;
    }
}

static int eval_locate(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    int ni = e->sub ? 1 : 0, hi = e->sub ? 0 : 1; /* INSTR swaps */
    int64_t start = 1;
    if (e->nargs > 2)
        sql__to_int(ev, &s.v[2], &start);
    if (start < 1) {
        sql__datum_int(out, 0);
        return 0;
    }
    size_t hchars = sql__str_charlen(e->coll, s.p[hi], s.n[hi]);
    if ((uint64_t)start - 1 > hchars) {
        sql__datum_int(out, 0);
        return 0;
    }
    sql__datum_int(out, find(e->coll, s.p[hi], s.n[hi], s.p[ni], s.n[ni],
                             (size_t)start - 1));
    return 0;
}

static int check_locate(struct sql_expr *e, struct sql_arena *a,
                        struct sql_err *err)
{
    check_int(e, a, err);
    e->sub = !strcmp(e->name, "INSTR");
    return 0;
}

static int eval_pad(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    uint16_t coll = coll_of(e);
    int64_t len;
    sql__to_int(ev, &s.v[1], &len);
    if (len < 0) {
        sql__datum_null(out);
        return 0;
    }
    if ((uint64_t)len > MAX_RESULT) { /* every character is a byte at least */
        sql__warn(ev, 1301,
                  "Result of %s() was larger than max_allowed_packet (%u) - "
                  "truncated",
                  e->sub ? "rpad" : "lpad", MAX_RESULT);
        sql__datum_null(out);
        return 0;
    }
    size_t have = sql__str_charlen(coll, s.p[0], s.n[0]);
    if ((size_t)len <= have) {
        size_t b, l;
        char_range(coll, s.p[0], s.n[0], 0, (size_t)len, &b, &l);
        sql__datum_str(out, s.p[0], l, coll);
        return 0;
    }
    size_t padchars = sql__str_charlen(coll, s.p[2], s.n[2]);
    if (padchars == 0) {
        sql__datum_null(out);
        return 0;
    }
    size_t need = (size_t)len - have;
    size_t full = need / padchars, part = need % padchars;
    size_t partbytes = sql__str_charpos(coll, s.p[2], s.n[2], part);
    if (full > (MAX_RESULT - s.n[0] - partbytes) / s.n[2]) {
        sql__warn(ev, 1301,
                  "Result of %s() was larger than max_allowed_packet (%u) - "
                  "truncated",
                  e->sub ? "rpad" : "lpad", MAX_RESULT);
        sql__datum_null(out);
        return 0;
    }
    size_t total = s.n[0] + full * s.n[2] + partbytes;
    char *buf = sql__arena_alloc(ev->arena, total + 1);
    if (buf == NULL)
        return -ENOMEM;
    char *pad = buf + (e->sub == 1 ? s.n[0] : 0);
    for (size_t i = 0; i < full; i++)
        memcpy(pad + i * s.n[2], s.p[2], s.n[2]);
    memcpy(pad + full * s.n[2], s.p[2], partbytes);
    memcpy(e->sub == 1 ? buf : buf + total - s.n[0], s.p[0], s.n[0]);
    sql__datum_str(out, buf, total, coll);
    return 0;
}

static int check_pad(struct sql_expr *e, struct sql_arena *a,
                     struct sql_err *err)
{
    check_str(e, a, err);
    e->sub = !strcmp(e->name, "RPAD");
    return 0;
}

static int eval_repeat(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    int64_t k = 0;
    uint16_t coll = coll_of(e);
    if (e->sub == 1) { /* SPACE(n): one argument, no s.v[1] to read */
        sql__to_int(ev, &s.v[0], &k);
        s.p[0] = " ";
        s.n[0] = 1;
    } else
        sql__to_int(ev, &s.v[1], &k);
    if (k <= 0 || s.n[0] == 0)
        return sql__ret_str(ev, out, "", 0, coll);
    if ((uint64_t)k > MAX_RESULT / s.n[0]) {
        sql__warn(ev, 1301,
                  "Result of %s() was larger than max_allowed_packet "
                  "(%u) - truncated",
                  e->sub ? "space" : "repeat", MAX_RESULT);
        sql__datum_null(out);
        return 0;
    }
    size_t total = (size_t)k * s.n[0];
    char *buf = sql__arena_alloc(ev->arena, total + 1);
    if (buf == NULL)
        return -ENOMEM;
    for (int64_t i = 0; i < k; i++)
        memcpy(buf + (size_t)i * s.n[0], s.p[0], s.n[0]);
    sql__datum_str(out, buf, total, coll);
    return 0;
}

static int check_repeat(struct sql_expr *e, struct sql_arena *a,
                        struct sql_err *err)
{
    check_str(e, a, err);
    e->sub = !strcmp(e->name, "SPACE");
    if (e->sub)
        e->type.coll = e->coll = SQL_COLL_UTF8MB4_GENERAL_CI;
    return 0;
}

static int eval_reverse(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    uint16_t coll = coll_of(e);
    char *buf = sql__arena_alloc(ev->arena, s.n[0] + 1);
    if (buf == NULL)
        return -ENOMEM;
    size_t i = 0, o = s.n[0];
    while (i < s.n[0]) {
        uint32_t cp;
        size_t l = coll == SQL_COLL_BINARY
                       ? 1
                       : sql__utf8_decode(s.p[0] + i, s.n[0] - i, &cp);
        o -= l;
        memcpy(buf + o, s.p[0] + i, l);
        i += l;
    }
    sql__datum_str(out, buf, s.n[0], coll);
    return 0;
}

static int eval_hex(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL) {
        *out = v;
        return rc;
    }
    static const char digits[] = "0123456789ABCDEF";
    if (v.vt != SQL_VT_STRING && v.vt != SQL_VT_DATE &&
        v.vt != SQL_VT_DATETIME && v.vt != SQL_VT_TIME) {
        uint64_t u;
        if (v.vt == SQL_VT_DOUBLE || v.vt == SQL_VT_DECIMAL) {
            double d;
            sql__to_double(ev, &v, &d);
            d = round(d);
            u = d < 0 ? (d <= -9223372036854775808.0
                             ? (uint64_t)INT64_MIN
                             : (uint64_t)(int64_t)d)
                : d >= 18446744073709551615.0 ? UINT64_MAX
                                               : (uint64_t)d;
        } else {
            sql__to_uint(ev, &v, &u);
        }
        char buf[20];
        int n = snprintf(buf, sizeof buf, "%llX", (unsigned long long)u);
        return sql__ret_str(ev, out, buf, (size_t)n,
                            SQL_COLL_UTF8MB4_GENERAL_CI);
    }
    const char *p;
    size_t n;
    if ((rc = sql__to_str(ev, &v, &p, &n)) != 0)
        return rc;
    char *buf = sql__arena_alloc(ev->arena, n * 2 + 1);
    if (buf == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = digits[(uint8_t)p[i] >> 4];
        buf[2 * i + 1] = digits[(uint8_t)p[i] & 15];
    }
    sql__datum_str(out, buf, n * 2, SQL_COLL_UTF8MB4_GENERAL_CI);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int eval_unhex(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    size_t n = s.n[0];
    char *buf = sql__arena_alloc(ev->arena, n / 2 + 2);
    if (buf == NULL)
        return -ENOMEM;
    size_t i = 0, o = 0;
    if (n % 2 == 1) { /* an odd count: a leading 0 is implied */
        int v = hexval(s.p[0][0]);
        if (v < 0) {
            sql__datum_null(out);
            return 0;
        }
        buf[o++] = (char)v;
        i = 1;
    }
    for (; i < n; i += 2) {
        int hi = hexval(s.p[0][i]), lo = hexval(s.p[0][i + 1]);
        if (hi < 0 || lo < 0) {
            sql__datum_null(out);
            return 0;
        }
        buf[o++] = (char)(hi * 16 + lo);
    }
    sql__datum_str(out, buf, o, SQL_COLL_BINARY);
    return 0;
}

static int eval_ascii(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    if (s.n[0] == 0) {
        sql__datum_int(out, 0);
        return 0;
    }
    if (e->sub == 0) { /* ASCII: the first byte */
        sql__datum_int(out, (uint8_t)s.p[0][0]);
        return 0;
    }
    /* ORD: the first character's bytes as a big-endian number. */
    uint32_t cp;
    size_t l = sql__utf8_decode(s.p[0], s.n[0], &cp);
    int64_t v = 0;
    for (size_t i = 0; i < l; i++)
        v = v * 256 + (uint8_t)s.p[0][i];
    sql__datum_int(out, v);
    return 0;
}

static int check_ascii(struct sql_expr *e, struct sql_arena *a,
                       struct sql_err *err)
{
    check_int(e, a, err);
    e->sub = !strcmp(e->name, "ORD");
    return 0;
}

static int eval_char(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    struct sql__buf b = {0};
    int rc = 0;
    for (int i = 0; i < e->nargs; i++) {
        struct sql_datum v;
        if ((rc = sql__arg(e, i, ev, row, &v)) != 0)
            goto out;
        if (v.vt == SQL_VT_NULL)
            continue; /* CHAR skips NULLs */
        uint64_t u;
        sql__to_uint(ev, &v, &u);
        uint8_t bytes[4];
        int n = 0;
        for (int k = 3; k >= 0; k--) {
            uint8_t c = (uint8_t)(u >> (8 * k));
            if (c != 0 || n > 0)
                bytes[n++] = c;
        }
        if (n == 0)
            bytes[n++] = 0;
        if ((rc = sql__buf_put(&b, bytes, (size_t)n)) != 0)
            goto out;
    }
    rc = sql__ret_str(ev, out, (const char *)b.p, b.len,
                      e->cast.coll ? e->cast.coll : SQL_COLL_BINARY);
out:
    sql__buf_free(&b);
    return rc;
}

static int check_char(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    check_binary(e, a, err);
    if (e->text) { /* CHAR(.. USING utf8mb4) */
        e->cast.coll = SQL_COLL_UTF8MB4_GENERAL_CI;
        e->type.coll = e->coll = SQL_COLL_UTF8MB4_GENERAL_CI;
        e->type.flags &= (uint16_t)~SQL_COLFLAG_BINARY;
    }
    return 0;
}

static int eval_strcmp(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    int c = sql__coll_cmp(e->coll, s.p[0], s.n[0], s.p[1], s.n[1]);
    sql__datum_int(out, c < 0 ? -1 : c > 0);
    return 0;
}

static int eval_insert(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    uint16_t coll = coll_of(e);
    int64_t pos, len;
    sql__to_int(ev, &s.v[1], &pos);
    sql__to_int(ev, &s.v[2], &len);
    int64_t nchars = (int64_t)sql__str_charlen(coll, s.p[0], s.n[0]);
    if (pos < 1 || pos > nchars) {
        sql__datum_str(out, s.p[0], s.n[0], coll);
        return 0;
    }
    if (len < 0 || len > nchars - pos + 1)
        len = nchars - pos + 1;
    size_t b, l;
    char_range(coll, s.p[0], s.n[0], (size_t)pos - 1, (size_t)len, &b, &l);
    size_t total = b + s.n[3] + (s.n[0] - b - l);
    char *buf = sql__arena_alloc(ev->arena, total + 1);
    if (buf == NULL)
        return -ENOMEM;
    memcpy(buf, s.p[0], b);
    memcpy(buf + b, s.p[3], s.n[3]);
    memcpy(buf + b + s.n[3], s.p[0] + b + l, s.n[0] - b - l);
    sql__datum_str(out, buf, total, coll);
    return 0;
}

static int eval_field(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum x, y;
    int rc = sql__arg(e, 0, ev, row, &x);
    if (rc != 0)
        return rc;
    if (x.vt != SQL_VT_NULL)
        for (int i = 1; i < e->nargs; i++) {
            if ((rc = sql__arg(e, i, ev, row, &y)) != 0)
                return rc;
            if (y.vt == SQL_VT_NULL)
                continue;
            int c;
            if ((rc = sql__datum_cmp_ev(ev, &x, &y, e->coll, &c)) != 0)
                return rc;
            if (c == 0) {
                sql__datum_int(out, i);
                return 0;
            }
        }
    sql__datum_int(out, 0);
    return 0;
}

static int eval_elt(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum n;
    int rc = sql__arg(e, 0, ev, row, &n);
    if (rc != 0 || n.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return rc;
    }
    int64_t k;
    sql__to_int(ev, &n, &k);
    if (k < 1 || k >= e->nargs) {
        sql__datum_null(out);
        return 0;
    }
    if ((rc = sql__arg(e, (int)k, ev, row, out)) != 0)
        return rc;
    if (out->vt != SQL_VT_NULL && out->vt != SQL_VT_STRING)
        return sql__datum_convert(ev, out, SQL_VT_STRING, coll_of(e), out);
    return 0;
}

static int eval_substring_index(const struct sql_expr *e, struct sql_eval *ev,
                                const struct sql_datum *row,
                                struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    int64_t count;
    sql__to_int(ev, &s.v[2], &count);
    uint16_t coll = coll_of(e);
    const char *p = s.p[0], *d = s.p[1];
    size_t n = s.n[0], dn = s.n[1];
    if (count == 0 || dn == 0)
        return sql__ret_str(ev, out, "", 0, coll);
    if (count > 0) {
        size_t i = 0;
        int64_t seen = 0;
        while (i + dn <= n) {
            if (memcmp(p + i, d, dn) == 0) {
                if (++seen == count) {
                    sql__datum_str(out, p, i, coll);
                    return 0;
                }
                i += dn;
            } else {
                i++;
            }
        }
        sql__datum_str(out, p, n, coll);
        return 0;
    }
    int64_t seen = 0;
    for (size_t i = n >= dn ? n - dn + 1 : 0; i-- > 0;) {
        if (memcmp(p + i, d, dn) == 0) {
            if (--seen == count) {
                sql__datum_str(out, p + i + dn, n - i - dn, coll);
                return 0;
            }
            if (i < dn)
                break;
            i -= dn - 1;
        }
    }
    sql__datum_str(out, p, n, coll);
    return 0;
}

static int eval_find_in_set(const struct sql_expr *e, struct sql_eval *ev,
                            const struct sql_datum *row, struct sql_datum *out)
{
    struct sargs s;
    bool null;
    int rc = get_sargs(e, ev, row, &s, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    if (memchr(s.p[0], ',', s.n[0]) != NULL) {
        sql__datum_int(out, 0);
        return 0;
    }
    size_t i = 0;
    int64_t k = 1;
    while (i <= s.n[1]) {
        size_t j = i;
        while (j < s.n[1] && s.p[1][j] != ',')
            j++;
        if (sql__coll_cmp(e->coll, s.p[1] + i, j - i, s.p[0], s.n[0]) == 0 &&
            !(j - i == 0 && s.n[1] == 0)) {
            sql__datum_int(out, k);
            return 0;
        }
        i = j + 1;
        k++;
    }
    sql__datum_int(out, 0);
    return 0;
}

static int eval_quote(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0)
        return rc;
    if (v.vt == SQL_VT_NULL)
        return sql__ret_str(ev, out, "NULL", 4, coll_of(e));
    const char *p;
    size_t n;
    if ((rc = sql__text_of(e->args[0], ev, &v, &p, &n)) != 0)
        return rc;
    char *buf = sql__arena_alloc(ev->arena, n * 2 + 3);
    if (buf == NULL)
        return -ENOMEM;
    size_t o = 0;
    buf[o++] = '\'';
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\'' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = c;
        } else if (c == '\0') {
            buf[o++] = '\\';
            buf[o++] = '0';
        } else if (c == '\032') {
            buf[o++] = '\\';
            buf[o++] = 'Z';
        } else {
            buf[o++] = c;
        }
    }
    buf[o++] = '\'';
    sql__datum_str(out, buf, o, coll_of(e));
    return 0;
}

/* FORMAT(x, d): rounded to d decimals with ',' every three digits. */
static int eval_format(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v[3];
    bool null;
    int rc = sql__args(e, ev, row, v, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    int64_t d;
    sql__to_int(ev, &v[1], &d);
    if (d < 0)
        d = 0;
    if (d > 30)
        d = 30;
    char txt[SQL_DEC_STR_MAX + 400];
    if (v[0].vt == SQL_VT_DOUBLE || v[0].vt == SQL_VT_STRING) {
        double x;
        sql__to_double(ev, &v[0], &x);
        if (fabs(x) >= 1e65) {
            snprintf(txt, sizeof txt, "%.*e", (int)d, x);
        } else {
            snprintf(txt, sizeof txt, "%.*f", (int)d, x);
        }
    } else {
        struct sql_dec x, r;
        sql__to_dec(ev, &v[0], &x);
        sql__dec_round(&x, (int)d, &r);
        sql__dec_print(&r, txt);
    }
    /* Insert separators into the integer part. */
    char buf[sizeof txt + 40];
    const char *p = txt;
    size_t o = 0;
    if (*p == '-')
        buf[o++] = *p++;
    size_t intlen = strcspn(p, ".e");
    for (size_t i = 0; i < intlen; i++) {
        if (i > 0 && (intlen - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = p[i];
    }
    strcpy(buf + o, p + intlen);
    return sql__ret_str(ev, out, buf, strlen(buf),
                        SQL_COLL_UTF8MB4_GENERAL_CI);
}

const struct sql__func sql__funcs_string[] = {
    {"CONCAT", 1, -1, check_str, eval_concat, false},
    {"CONCAT_WS", 2, -1, check_str, eval_concat_ws, false},
    {"LENGTH", 1, 1, check_length, eval_length, false},
    {"OCTET_LENGTH", 1, 1, check_length, eval_length, false},
    {"CHAR_LENGTH", 1, 1, check_length, eval_length, false},
    {"CHARACTER_LENGTH", 1, 1, check_length, eval_length, false},
    {"BIT_LENGTH", 1, 1, check_length, eval_length, false},
    {"UPPER", 1, 1, check_upper, eval_case, false},
    {"UCASE", 1, 1, check_upper, eval_case, false},
    {"LOWER", 1, 1, check_upper, eval_case, false},
    {"LCASE", 1, 1, check_upper, eval_case, false},
    {"SUBSTRING", 2, 3, check_str, eval_substr, false},
    {"SUBSTR", 2, 3, check_str, eval_substr, false},
    {"MID", 3, 3, check_str, eval_substr, false},
    {"LEFT", 2, 2, check_left_right, eval_left_right, false},
    {"RIGHT", 2, 2, check_left_right, eval_left_right, false},
    {"TRIM", 1, 2, check_trim, eval_trim, false},
    {"LTRIM", 1, 1, check_trim, eval_trim, false},
    {"RTRIM", 1, 1, check_trim, eval_trim, false},
    {"REPLACE", 3, 3, check_str, eval_replace, false},
    {"LOCATE", 2, 3, check_locate, eval_locate, false},
    {"POSITION", 2, 2, check_locate, eval_locate, false},
    {"INSTR", 2, 2, check_locate, eval_locate, false},
    {"LPAD", 3, 3, check_pad, eval_pad, false},
    {"RPAD", 3, 3, check_pad, eval_pad, false},
    {"REPEAT", 2, 2, check_repeat, eval_repeat, false},
    {"SPACE", 1, 1, check_repeat, eval_repeat, false},
    {"REVERSE", 1, 1, check_str, eval_reverse, false},
    {"HEX", 1, 1, check_str, eval_hex, false},
    {"UNHEX", 1, 1, check_binary, eval_unhex, false},
    {"ASCII", 1, 1, check_ascii, eval_ascii, false},
    {"ORD", 1, 1, check_ascii, eval_ascii, false},
    {"CHAR", 1, -1, check_char, eval_char, false},
    {"STRCMP", 2, 2, check_int, eval_strcmp, false},
    {"INSERT", 4, 4, check_str, eval_insert, false},
    {"FIELD", 2, -1, check_int, eval_field, false},
    {"ELT", 2, -1, check_str, eval_elt, false},
    {"SUBSTRING_INDEX", 3, 3, check_str, eval_substring_index, false},
    {"FIND_IN_SET", 2, 2, check_int, eval_find_in_set, false},
    {"QUOTE", 1, 1, check_str, eval_quote, false},
    {"FORMAT", 2, 3, check_str, eval_format, false},
    {NULL, 0, 0, NULL, NULL, false},
};

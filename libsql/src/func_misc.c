/* func_misc.c: CAST/CONVERT to SIGNED, UNSIGNED, DECIMAL(M,D), DOUBLE,
 * FLOAT, CHAR(N), BINARY(N), DATE, DATETIME(fsp), TIME(fsp), YEAR and
 * CONVERT(.. USING ..); the information functions (DATABASE, USER,
 * CURRENT_USER, VERSION, CONNECTION_ID, LAST_INSERT_ID, FOUND_ROWS,
 * ROW_COUNT). DESIGN.md, "Expressions".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/md5.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "datetime.h"
#include "decimal.h"
#include "expr_int.h"

/* CAST targets (e->iarg keeps the written length, e->sub the target). */
enum
{
    C_SIGNED,
    C_UNSIGNED,
    C_DECIMAL,
    C_DOUBLE,
    C_FLOAT,
    C_CHAR,
    C_DATE,
    C_DATETIME,
    C_TIME,
    C_YEAR,
    C_JSON, /* added: func_json.c converts */
};

static int check_cast(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    (void)a;
    const char *t = e->text ? e->text : "";
    int len = (int)e->iarg;
    if (!strcasecmp(t, "SIGNED") || !strcasecmp(t, "INT") ||
        !strcasecmp(t, "INTEGER") || !strcasecmp(t, "BIGINT")) {
        e->sub = (e->cast.flags & SQL_COLFLAG_UNSIGNED) ? C_UNSIGNED
                                                        : C_SIGNED;
        sql__set_type(e, e->sub == C_UNSIGNED ? SQL_VT_UINT : SQL_VT_INT, 0);
    } else if (!strcasecmp(t, "UNSIGNED")) {
        e->sub = C_UNSIGNED;
        sql__set_type(e, SQL_VT_UINT, 0);
    } else if (!strcasecmp(t, "DECIMAL") || !strcasecmp(t, "NUMERIC") ||
               !strcasecmp(t, "DEC") || !strcasecmp(t, "FIXED")) {
        int m = len >= 0 ? len : 10;
        int d = e->cast.dec >= 0 ? e->cast.dec : 0;
        if (m > SQL_DEC_MAX_PREC)
            return sql__err(err, SQL_ER_TOO_BIG_PRECISION, "42000",
                            "Too-big precision %d specified for '%s'. "
                            "Maximum is 65.",
                            m, e->name);
        if (d > SQL_DEC_MAX_SCALE)
            return sql__err(err, SQL_ER_TOO_BIG_SCALE, "42000",
                            "Too big scale %d specified for '%s'. Maximum "
                            "is 30.",
                            d, e->name);
        if (m < d)
            return sql__err(err, SQL_ER_M_BIGGER_THAN_D, "42000",
                            "For float(M,D), double(M,D) or decimal(M,D), M "
                            "must be >= D (column '%s').",
                            e->name);
        if (m == 0)
            m = 10;
        e->sub = C_DECIMAL;
        e->cast.len = (uint32_t)m;
        e->cast.dec = (int8_t)d;
        sql__set_type(e, SQL_VT_DECIMAL, d);
        e->type.len = (uint32_t)(m + (d > 0) + 1);
    } else if (!strcasecmp(t, "DOUBLE") || !strcasecmp(t, "REAL")) {
        e->sub = C_DOUBLE;
        sql__set_type(e, SQL_VT_DOUBLE, -1);
    } else if (!strcasecmp(t, "FLOAT")) {
        e->sub = len > 24 ? C_DOUBLE : C_FLOAT;
        sql__set_type(e, SQL_VT_DOUBLE, -1);
        if (e->sub == C_FLOAT)
            e->type.tp = SQL_TYPE_FLOAT;
    } else if (!strcasecmp(t, "CHAR") || !strcasecmp(t, "NCHAR") ||
               !strcasecmp(t, "BINARY") || !strcasecmp(t, "VARCHAR")) {
        e->sub = C_CHAR;
        uint16_t coll = e->cast.coll ? e->cast.coll
                                     : SQL_COLL_UTF8MB4_GENERAL_CI;
        if (!strcasecmp(t, "BINARY"))
            coll = SQL_COLL_BINARY;
        e->cast.coll = coll;
        sql__set_type(e, SQL_VT_STRING, 0);
        e->type.coll = coll;
        e->coll = coll;
        e->coerc = 2;
        if (coll == SQL_COLL_BINARY)
            e->type.flags |= SQL_COLFLAG_BINARY;
        if (len >= 0)
            e->type.len = (uint32_t)len * (coll == SQL_COLL_BINARY ? 1 : 4);
    } else if (!strcasecmp(t, "DATE")) {
        e->sub = C_DATE;
        sql__set_type(e, SQL_VT_DATE, 0);
    } else if (!strcasecmp(t, "DATETIME") || !strcasecmp(t, "TIMESTAMP")) {
        if (len > 6)
            return sql__err(err, 1426, "42000",
                            "Too-big precision %d specified for '%s'. "
                            "Maximum is 6.",
                            len, e->name);
        e->sub = C_DATETIME;
        sql__set_type(e, SQL_VT_DATETIME, len > 0 ? len : 0);
    } else if (!strcasecmp(t, "TIME")) {
        if (len > 6)
            return sql__err(err, 1426, "42000",
                            "Too-big precision %d specified for '%s'. "
                            "Maximum is 6.",
                            len, e->name);
        e->sub = C_TIME;
        sql__set_type(e, SQL_VT_TIME, len > 0 ? len : 0);
    } else if (!strcasecmp(t, "YEAR")) {
        e->sub = C_YEAR;
        sql__set_type(e, SQL_VT_UINT, 0);
        e->type.tp = SQL_TYPE_YEAR;
        e->type.len = 4;
        e->type.flags |= SQL_COLFLAG_UNSIGNED | SQL_COLFLAG_ZEROFILL;
    } else if (!strcasecmp(t, "JSON")) {
        e->sub = C_JSON;
        sql__set_type(e, SQL_VT_JSON, 0);
    } else {
        return sql__err(err, SQL_ER_NOT_SUPPORTED_YET, "42000",
                        "This version of sqld doesn't yet support 'CAST "
                        "AS %s'",
                        t);
    }
    return 0;
}

static int cast_decimal(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *v, struct sql_datum *out)
{
    struct sql_dec d, r;
    int rc = sql__to_dec(ev, v, &d);
    if (rc != 0)
        return rc;
    int m = (int)e->cast.len, s = e->cast.dec;
    (void)sql__dec_overflow_warn(ev, v); /* 1916 first, then 1264 */
    (void)sql__dec_round(&d, s, &r);
    if (sql__dec_int_digits(&r) > m - s) {
        char buf[SQL_DEC_STR_MAX];
        int n = 0;
        if (r.neg)
            buf[n++] = '-';
        for (int i = 0; i < m - s; i++)
            buf[n++] = '9';
        if (m - s == 0)
            buf[n++] = '0';
        if (s > 0) {
            buf[n++] = '.';
            for (int i = 0; i < s; i++)
                buf[n++] = '9';
        }
        (void)sql__dec_parse(buf, (size_t)n, &r, NULL);
        sql__warn(ev, SQL_ER_WARN_DATA_OUT_OF_RANGE,
                  "Out of range value for column '%s' at row 1", e->name);
    }
    (void)sql__dec_rescale(&r, s, &r);
    memset(out, 0, sizeof *out);
    out->vt = SQL_VT_DECIMAL;
    out->v.dec = r;
    return 0;
}

static int cast_char(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *v, struct sql_datum *out)
{
    const char *p;
    size_t n;
    const struct sql_ftype *at = &e->args[0]->type;
    int rc;
    bool fixed = at->dec >= 0 && at->dec < 31;
    if (v->vt == SQL_VT_DOUBLE &&
        ((fixed && (at->tp == SQL_TYPE_DOUBLE || at->tp == SQL_TYPE_FLOAT)) ||
         (!fixed && at->tp == SQL_TYPE_DOUBLE)))
        /* as the value is shown: a double with fixed decimals (ROUND(f,
         * 3)) with them, '0.000' (MariaDB; difftest F28), at any size
         * (CAST(ROUND(1e30) AS CHAR) is 31 digits, seed 702); a DOUBLE
         * with its double digits even when it is exactly a float (c *
         * 1e2 is 1.8446744073709552e21, F30) */
        rc = sql__datum_text(v, at, ev->arena, &p, &n);
    else
        rc = sql__text_of(e->args[0], ev, v, &p, &n);
    if (rc != 0)
        return rc;
    uint16_t coll = e->cast.coll;
    if (e->iarg >= 0) {
        size_t keep = sql__str_charpos(coll, p, n, (size_t)e->iarg);
        if (keep < n) {
            sql__warn(ev, SQL_ER_TRUNCATED_WRONG_VALUE,
                      "Truncated incorrect %s(%lld) value: '%.*s'",
                      coll == SQL_COLL_BINARY ? "BINARY" : "CHAR",
                      (long long)e->iarg, (int)(n > 64 ? 64 : n), p);
            n = keep;
        } else if (coll == SQL_COLL_BINARY && n < (size_t)e->iarg) {
            /* BINARY(N) pads with zero bytes. */
            char *b = sql__arena_alloc(ev->arena, (size_t)e->iarg);
            if (b == NULL)
                return -ENOMEM;
            memcpy(b, p, n);
            memset(b + n, 0, (size_t)e->iarg - n);
            p = b;
            n = (size_t)e->iarg;
        }
    }
    sql__datum_str(out, p, n, coll);
    return 0;
}

/* CAST(decimal or double AS SIGNED / UNSIGNED), as MariaDB 10.11: the
 * value rounded (a DECIMAL half away from zero, a DOUBLE to even), and
 * one past the target's range clipped to it with 1916, a warning for a
 * DECIMAL ("to INT"), a note for a DOUBLE ("to SIGNED BIGINT"); a
 * negative one below -0.5 is 0 UNSIGNED (difftest seed 813 round 14102:
 * a strict UPDATE reading CAST(decimal(20,0) AS SIGNED) fails on it).
 * 1 when v is neither, for the general conversion. */
static int cast_int_clipped(struct sql_eval *ev, const struct sql_datum *v,
                            bool uns, struct sql_datum *out)
{
    char buf[SQL_DEC_STR_MAX]; /* a double's text is at most 25 */
    bool over;
    int64_t i = 0;
    uint64_t u = 0;
    if (v->vt == SQL_VT_DECIMAL) {
        over = uns ? sql__dec_to_u64(&v->v.dec, &u) != 0
                   : sql__dec_to_i64(&v->v.dec, &i) != 0;
        if (over) {
            sql__dec_print(&v->v.dec, buf);
            sql__warn(ev, 1916, "Got overflow when converting '%s' to %s. "
                      "Value truncated", buf, uns ? "UNSIGNED INT" : "INT");
        }
    } else if (v->vt == SQL_VT_DOUBLE) {
        double r = rint(v->v.d);
        if (uns) {
            over = !(r >= 0 && r < 18446744073709551616.0);
            u = r >= 18446744073709551616.0 ? UINT64_MAX
                : r > 0                     ? (uint64_t)r
                                            : 0;
        } else {
            over = !(r >= -9223372036854775808.0 &&
                     r < 9223372036854775808.0);
            i = r >= 9223372036854775808.0 ? INT64_MAX
                : r < -9223372036854775808.0 ? INT64_MIN
                                             : (int64_t)r;
        }
        if (over) {
            sql__double_text(v->v.d, false, buf);
            sql__note(ev, 1916, "Got overflow when converting '%s' to %s. "
                      "Value truncated", buf,
                      uns ? "UNSIGNED BIGINT" : "SIGNED BIGINT");
        }
    } else {
        return 1;
    }
    if (uns)
        sql__datum_uint(out, u);
    else
        sql__datum_int(out, i);
    return 0;
}

static int eval_cast(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v;
    int rc = e->sub == C_DECIMAL
                 ? sql__eval_for_decimal(e->args[0], ev, row, &v) /* F35 */
                 : sql__arg(e, 0, ev, row, &v);
    if (rc != 0)
        return rc;
    if (v.vt == SQL_VT_NULL) {
        *out = v;
        return 0;
    }
    switch (e->sub) {
    case C_SIGNED:
        if (v.vt == SQL_VT_UINT) {
            sql__datum_int(out, (int64_t)v.v.u);
            return 0;
        }
        if (cast_int_clipped(ev, &v, false, out) == 0)
            return 0;
        return sql__datum_convert(ev, &v, SQL_VT_INT, 0, out);
    case C_UNSIGNED:
        if (v.vt == SQL_VT_INT) {
            if (v.v.i < 0)
                sql__note(ev, 1105, "Cast to unsigned converted negative "
                          "integer to it's positive complement");
            sql__datum_uint(out, (uint64_t)v.v.i);
            return 0;
        }
        if (cast_int_clipped(ev, &v, true, out) == 0)
            return 0;
        return sql__datum_convert(ev, &v, SQL_VT_UINT, 0, out);
    case C_DECIMAL:
        return cast_decimal(e, ev, &v, out);
    case C_DOUBLE:
    case C_FLOAT: {
        double d;
        if ((rc = sql__to_double(ev, &v, &d)) != 0)
            return rc;
        sql__datum_double(out, e->sub == C_FLOAT ? (double)(float)d : d);
        return 0;
    }
    case C_CHAR:
        return cast_char(e, ev, &v, out);
    case C_JSON:
        return sql__json_cast(e, ev, &v, out);
    case C_DATE:
    case C_DATETIME:
    case C_TIME: {
        int vt = e->sub == C_DATE ? SQL_VT_DATE
                 : e->sub == C_TIME ? SQL_VT_TIME
                                    : SQL_VT_DATETIME;
        if ((rc = sql__datum_convert(ev, &v, vt, 0, out)) != 0)
            return rc;
        if (out->vt != SQL_VT_NULL) {
            if (vt != SQL_VT_TIME && !sql__date_is_zero(&out->v.t) &&
                (out->v.t.month == 0 || out->v.t.day == 0)) {
                /* A zero part is not a date in a cast. */
            }
            int fsp = e->type.dec > 0 ? e->type.dec : 0;
            sql__time_round(&out->v.t, vt, fsp);
            out->fsp = (uint8_t)fsp;
        }
        return 0;
    }
    default: { /* YEAR */
        int64_t y;
        if (v.vt == SQL_VT_DATE || v.vt == SQL_VT_DATETIME)
            y = v.v.t.year;
        else if ((rc = sql__to_int(ev, &v, &y)) != 0)
            return rc;
        else if (y > 0 && y < 70)
            y += 2000;
        else if (y >= 70 && y <= 99)
            y += 1900;
        if (y != 0 && (y < 1901 || y > 2155)) {
            sql__datum_null(out);
            return 0;
        }
        sql__datum_uint(out, (uint64_t)y);
        return 0;
    }
    }
}

static int check_convert(struct sql_expr *e, struct sql_arena *a,
                         struct sql_err *err)
{
    if (e->has_type)
        return check_cast(e, a, err);
    /* CONVERT(x USING charset) */
    const char *cs = e->text ? e->text : "";
    uint16_t coll;
    if (!strcasecmp(cs, "binary"))
        coll = SQL_COLL_BINARY;
    else if (!strcasecmp(cs, "utf8mb4") || !strcasecmp(cs, "utf8") ||
             !strcasecmp(cs, "utf8mb3") || !strcasecmp(cs, "latin1") ||
             !strcasecmp(cs, "ascii"))
        coll = SQL_COLL_UTF8MB4_GENERAL_CI;
    else
        return sql__err(err, SQL_ER_UNKNOWN_CHARACTER_SET, "42000",
                        "Unknown character set: '%s'", cs);
    e->sub = C_CHAR;
    e->iarg = -1;
    e->cast.coll = coll;
    sql__set_type(e, SQL_VT_STRING, 0);
    e->type.coll = coll;
    e->coll = coll;
    return 0;
}

/* ---- information functions ------------------------------------------- */

static int check_str(struct sql_expr *e, struct sql_arena *a,
                     struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_STRING, 0);
    e->coerc = 3; /* system constant */
    return 0;
}

static int check_uint(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_UINT, 0);
    e->type.flags |= SQL_COLFLAG_NOT_NULL;
    return 0;
}

static int check_int(struct sql_expr *e, struct sql_arena *a,
                     struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_INT, 0);
    e->type.flags |= SQL_COLFLAG_NOT_NULL;
    return 0;
}

static int ret_cstr(struct sql_eval *ev, struct sql_datum *out,
                    const char *s)
{
    if (s == NULL) {
        sql__datum_null(out);
        return 0;
    }
    return sql__ret_str(ev, out, s, strlen(s), SQL_COLL_UTF8MB4_GENERAL_CI);
}

static int eval_database(const struct sql_expr *e, struct sql_eval *ev,
                         const struct sql_datum *row, struct sql_datum *out)
{
    (void)e;
    (void)row;
    return ret_cstr(ev, out, ev->env ? ev->env->db : NULL);
}

static int eval_user(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    (void)e;
    (void)row;
    return ret_cstr(ev, out, ev->env && ev->env->user ? ev->env->user : "");
}

/* The account the privileges come from ('u@%'), not the login's host. */
static int eval_current_user(const struct sql_expr *e, struct sql_eval *ev,
                             const struct sql_datum *row,
                             struct sql_datum *out)
{
    if (ev->env && ev->env->current_user)
        return ret_cstr(ev, out, ev->env->current_user);
    return eval_user(e, ev, row, out);
}

static int eval_version(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    (void)e;
    (void)row;
    if (ev->env && ev->env->sysvar_get) {
        struct sql_err tmp;
        if (ev->env->sysvar_get(ev->env->ctx, "version", 0, out, ev->arena,
                                &tmp) == 0 &&
            out->vt == SQL_VT_STRING)
            return 0;
    }
    return ret_cstr(ev, out, "8.0.11-sqld");
}

static int eval_conn_id(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    (void)e;
    (void)row;
    sql__datum_uint(out, ev->env ? ev->env->conn_id : 0);
    return 0;
}

static int eval_last_insert_id(const struct sql_expr *e, struct sql_eval *ev,
                               const struct sql_datum *row,
                               struct sql_datum *out)
{
    if (e->nargs == 1) {
        /* LAST_INSERT_ID(x): returns x (the session records it; the
         * engine reads the value back from the result). */
        int rc = sql__arg(e, 0, ev, row, out);
        if (rc != 0 || out->vt == SQL_VT_NULL)
            return rc;
        uint64_t u;
        sql__to_uint(ev, out, &u);
        sql__datum_uint(out, u);
        return 0;
    }
    sql__datum_uint(out, ev->env ? ev->env->last_insert_id : 0);
    return 0;
}

static int eval_found_rows(const struct sql_expr *e, struct sql_eval *ev,
                           const struct sql_datum *row, struct sql_datum *out)
{
    (void)e;
    (void)row;
    sql__datum_uint(out, ev->env ? ev->env->found_rows : 0);
    return 0;
}

static int eval_row_count(const struct sql_expr *e, struct sql_eval *ev,
                          const struct sql_datum *row, struct sql_datum *out)
{
    (void)e;
    (void)row;
    sql__datum_int(out, ev->env ? (int64_t)ev->env->row_count : -1);
    return 0;
}


/* ---- hashes, ISNULL, CHARSET, COLLATION ---------------------------- */

static int check_hexstr(struct sql_expr *e, struct sql_arena *a,
                        struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_STRING, 0);
    return 0;
}

static int ret_hex(struct sql_eval *ev, struct sql_datum *out,
                   const unsigned char *h, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char buf[128];
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = digits[h[i] >> 4];
        buf[2 * i + 1] = digits[h[i] & 15];
    }
    return sql__ret_str(ev, out, buf, 2 * n, SQL_COLL_UTF8MB4_GENERAL_CI);
}

/* MD5, SHA1, SHA2(str, bits): lower-case hex; SHA2 with an unknown bit
 * count is NULL, as MySQL. e->sub: 0 md5, 1 sha1, 2 sha2. */
static int eval_hash(const struct sql_expr *e, struct sql_eval *ev,
                     const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v[2];
    bool null;
    int rc = sql__args(e, ev, row, v, &null);
    if (rc != 0 || null) {
        sql__datum_null(out);
        return rc;
    }
    const char *p;
    size_t n;
    if ((rc = sql__to_str(ev, &v[0], &p, &n)) != 0)
        return rc;
    const unsigned char *in = (const unsigned char *)p;
    unsigned char h[64];
    if (e->sub == 0) {
        mbedtls_md5_ret(in, n, h);
        return ret_hex(ev, out, h, 16);
    }
    if (e->sub == 1) {
        mbedtls_sha1_ret(in, n, h);
        return ret_hex(ev, out, h, 20);
    }
    int64_t bits;
    sql__to_int(ev, &v[1], &bits);
    switch (bits) {
    case 0:
    case 256:
        mbedtls_sha256_ret(in, n, h, 0);
        return ret_hex(ev, out, h, 32);
    case 224:
        mbedtls_sha256_ret(in, n, h, 1);
        return ret_hex(ev, out, h, 28);
    case 384:
        mbedtls_sha512_ret(in, n, h, 1);
        return ret_hex(ev, out, h, 48);
    case 512:
        mbedtls_sha512_ret(in, n, h, 0);
        return ret_hex(ev, out, h, 64);
    default:
        sql__datum_null(out);
        return 0;
    }
}

static int check_hash(struct sql_expr *e, struct sql_arena *a,
                      struct sql_err *err)
{
    check_hexstr(e, a, err);
    e->sub = !strcmp(e->name, "MD5") ? 0 : !strcmp(e->name, "SHA2") ? 2 : 1;
    return 0;
}

/* CRC32 (the zlib/IEEE polynomial, reflected), as an unsigned number. */
static int eval_crc32(const struct sql_expr *e, struct sql_eval *ev,
                      const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0 || v.vt == SQL_VT_NULL) {
        sql__datum_null(out);
        return rc;
    }
    const char *p;
    size_t n;
    if ((rc = sql__to_str(ev, &v, &p, &n)) != 0)
        return rc;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint8_t)p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    sql__datum_uint(out, c ^ 0xFFFFFFFFu);
    return 0;
}

static int check_crc32(struct sql_expr *e, struct sql_arena *a,
                       struct sql_err *err)
{
    (void)a;
    (void)err;
    sql__set_type(e, SQL_VT_UINT, 0);
    return 0;
}

static int check_isnull(struct sql_expr *e, struct sql_arena *a,
                        struct sql_err *err)
{
    check_int(e, a, err);
    e->is_const = e->args[0]->is_const;
    return 0;
}

static int eval_isnull(const struct sql_expr *e, struct sql_eval *ev,
                       const struct sql_datum *row, struct sql_datum *out)
{
    struct sql_datum v;
    int rc = sql__arg(e, 0, ev, row, &v);
    if (rc != 0)
        return rc;
    sql__datum_int(out, v.vt == SQL_VT_NULL);
    return 0;
}

/* CHARSET(x) / COLLATION(x): from the argument's static type. */
static int eval_charset(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, struct sql_datum *out)
{
    (void)row;
    const struct sql_expr *x = e->args[0];
    uint16_t coll = x->vt == SQL_VT_STRING || x->vt == EX_VT_ANY
                        ? x->type.coll
                        : SQL_COLL_BINARY;
    const char *name = sql__coll_name(coll);
    if (e->sub == 0) /* CHARSET */
        name = coll == SQL_COLL_BINARY ? "binary" : "utf8mb4";
    return ret_cstr(ev, out, name);
}

static int check_charset(struct sql_expr *e, struct sql_arena *a,
                         struct sql_err *err)
{
    check_str(e, a, err);
    e->sub = !strcmp(e->name, "COLLATION");
    return 0;
}

const struct sql__func sql__funcs_misc[] = {
    {"CAST", 1, 1, check_cast, eval_cast, false},
    {"CONVERT", 1, 1, check_convert, eval_cast, false},
    {"DATABASE", 0, 0, check_str, eval_database, true},
    {"SCHEMA", 0, 0, check_str, eval_database, true},
    {"USER", 0, 0, check_str, eval_user, true},
    {"SESSION_USER", 0, 0, check_str, eval_user, true},
    {"SYSTEM_USER", 0, 0, check_str, eval_user, true},
    {"CURRENT_USER", 0, 0, check_str, eval_current_user, true},
    {"VERSION", 0, 0, check_str, eval_version, true},
    {"CONNECTION_ID", 0, 0, check_uint, eval_conn_id, true},
    {"LAST_INSERT_ID", 0, 1, check_uint, eval_last_insert_id, true},
    {"FOUND_ROWS", 0, 0, check_uint, eval_found_rows, true},
    {"ROW_COUNT", 0, 0, check_int, eval_row_count, true},
    {"MD5", 1, 1, check_hash, eval_hash, false},
    {"SHA1", 1, 1, check_hash, eval_hash, false},
    {"SHA", 1, 1, check_hash, eval_hash, false},
    {"SHA2", 2, 2, check_hash, eval_hash, false},
    {"CRC32", 1, 1, check_crc32, eval_crc32, false},
    {"ISNULL", 1, 1, check_isnull, eval_isnull, false},
    {"CHARSET", 1, 1, check_charset, eval_charset, false},
    {"COLLATION", 1, 1, check_charset, eval_charset, false},
    {NULL, 0, 0, NULL, NULL, false},
};

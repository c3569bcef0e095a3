/* codec.c: datums as bytes in the key-value store: the memcomparable key
 * form (index keys, handles) and the self-describing row form. Byte tables
 * in DESIGN.md, "Storage mapping: codecs"; every decoder is bounds-checked
 * and fuzzed (tests/fuzz_codec.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "datetime.h"
#include "decimal.h"
#include "expr.h"
#include "json.h"

/* Key-form flags: the first byte of every encoded datum, chosen so NULL
 * sorts first. */
enum
{
    KF_NULL = 0x00,
    KF_INT = 0x03,
    KF_UINT = 0x04,
    KF_DOUBLE = 0x05,
    KF_DECIMAL = 0x06,
    KF_STRING = 0x07,
    KF_DATETIME = 0x09,
    KF_TIME = 0x0A,
    KF_JSON = 0x0B, /* groups of the binary form (json.c): equal values
                       group together; ORDER BY compares datums */
};

#define GROUP 8 /* bytes per group of the string encoding */

static int put_be64(struct sql__buf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (56 - 8 * i));
    return sql__buf_put(b, x, 8);
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Bytes in groups of 8, each followed by 0xFF minus its padding, so a
 * prefix sorts before any extension (the TiDB/MyRocks scheme). */
static int put_groups(struct sql__buf *b, const uint8_t *s, size_t n)
{
    int rc = sql__buf_reserve(b, (n / GROUP + 1) * (GROUP + 1));
    if (rc != 0)
        return rc;
    /* Written in place: the reserve above holds every group. */
    uint8_t *g = b->p + b->len;
    for (size_t i = 0;; i += GROUP, g += GROUP + 1) {
        size_t left = n - i;
        size_t take = left < GROUP ? left : GROUP;
        if (take == GROUP) {
            memcpy(g, s + i, GROUP);
        } else {
            memset(g, 0, GROUP);
            if (take)
                memcpy(g, s + i, take);
        }
        g[GROUP] = (uint8_t)(0xFF - (GROUP - take));
        if (take < GROUP)
            break;
    }
    b->len = (size_t)(g + GROUP + 1 - b->p);
    return 0;
}

/* 64-bit pattern of a time value that sorts as the value. */
static uint64_t pack_datetime(const struct sql_time *t)
{
    uint64_t ymd = ((uint64_t)t->year * 13 + t->month) * 32 + t->day;
    uint64_t hms = ((uint64_t)t->hour * 60 + t->minute) * 60 + t->second;
    return ((ymd * 86400 + hms) << 20) | (t->micro & 0xFFFFF);
}

static void unpack_datetime(uint64_t v, struct sql_time *t)
{
    memset(t, 0, sizeof *t);
    t->micro = (uint32_t)(v & 0xFFFFF);
    v >>= 20;
    uint64_t hms = v % 86400, ymd = v / 86400;
    t->second = (uint8_t)(hms % 60);
    t->minute = (uint8_t)((hms / 60) % 60);
    t->hour = (uint32_t)(hms / 3600);
    t->day = (uint8_t)(ymd % 32);
    t->month = (uint8_t)((ymd / 32) % 13);
    t->year = (uint16_t)(ymd / 32 / 13);
}

static int key_decimal(struct sql__buf *b, const struct sql_dec *d)
{
    char txt[SQL_DEC_STR_MAX];
    size_t n = sql__dec_print(d, txt);
    char digits[SQL_DEC_STR_MAX];
    size_t nd = 0;
    int intd = 0;
    bool seen_point = false;
    for (size_t i = 0; i < n; i++) {
        if (txt[i] == '-')
            continue;
        if (txt[i] == '.') {
            seen_point = true;
            continue;
        }
        if (!seen_point)
            intd++;
        digits[nd++] = txt[i];
    }
    /* Normalise: drop leading zeros (moving the exponent) and trailing
     * zeros, so 1.50 and 1.5 encode alike. */
    size_t lead = 0;
    while (lead < nd && digits[lead] == '0')
        lead++;
    int exp = intd - (int)lead;
    while (nd > lead && digits[nd - 1] == '0')
        nd--;
    int rc;
    if (lead == nd) /* zero */
        return sql__buf_u8(b, 0x01);
    bool neg = d->neg;
    if ((rc = sql__buf_u8(b, neg ? 0x00 : 0x02)) != 0)
        return rc;
    uint8_t e = (uint8_t)(exp + 128);
    if ((rc = sql__buf_u8(b, neg ? (uint8_t)~e : e)) != 0)
        return rc;
    for (size_t i = lead; i < nd; i++) {
        uint8_t dg = (uint8_t)(digits[i] - '0');
        if ((rc = sql__buf_u8(b, neg ? (uint8_t)(0xFE - dg)
                                     : (uint8_t)(dg + 1))) != 0)
            return rc;
    }
    return sql__buf_u8(b, neg ? 0xFF : 0x00);
}

int sql__key_append(struct sql__buf *b, const struct sql_datum *d0,
                    const struct sql_ftype *t)
{
    struct sql_datum d = *d0;
    int want = sql__ftype_vt(t);
    char tmp[SQL_DEC_STR_MAX];
    int rc;
    if (d.vt == SQL_VT_NULL)
        return sql__buf_u8(b, KF_NULL);
    if (d.vt == SQL_VT_JSON) {
        if ((rc = sql__buf_u8(b, KF_JSON)) != 0)
            return rc;
        return put_groups(b, (const uint8_t *)d.v.s.p, d.v.s.n);
    }
    if (sql__type_is_enumset(t)) {
        /* ENUM/SET keys are the stored numbers: index order. */
        if ((rc = sql__buf_u8(b, KF_UINT)) != 0)
            return rc;
        return put_be64(b, sql__enumset_key(t, &d));
    }
    if (want != d.vt && want != SQL_VT_NULL &&
        !(want == SQL_VT_DATETIME && d.vt == SQL_VT_DATE) &&
        !(want == SQL_VT_DATE && d.vt == SQL_VT_DATETIME)) {
        /* Bring the datum to the column's class (no warnings: the
         * planner's literals were checked when compiled). */
        struct sql_datum c;
        if (want == SQL_VT_STRING && d.vt != SQL_VT_STRING) {
            /* A number against a string column: its text. */
            size_t n = 0;
            switch (d.vt) {
            case SQL_VT_INT:
                n = (size_t)snprintf(tmp, sizeof tmp, "%lld",
                                     (long long)d.v.i);
                break;
            case SQL_VT_UINT:
                n = (size_t)snprintf(tmp, sizeof tmp, "%llu",
                                     (unsigned long long)d.v.u);
                break;
            case SQL_VT_DOUBLE:
                n = sql__double_text(d.v.d, false, tmp);
                break;
            case SQL_VT_DECIMAL:
                n = sql__dec_print(&d.v.dec, tmp);
                break;
            default:
                n = sql__time_print(&d.v.t, d.vt, d.fsp, tmp);
                break;
            }
            sql__datum_str(&c, tmp, n, t->coll);
        } else {
            struct sql_eval ev = {NULL, NULL, NULL};
            if (sql__datum_convert(&ev, &d, want, t->coll, &c) != 0 ||
                c.vt == SQL_VT_NULL)
                return sql__buf_u8(b, KF_NULL);
        }
        d = c;
    }
    switch (d.vt) {
    case SQL_VT_INT:
        if ((rc = sql__buf_u8(b, KF_INT)) != 0)
            return rc;
        return put_be64(b, (uint64_t)d.v.i ^ (1ULL << 63));
    case SQL_VT_UINT:
        if ((rc = sql__buf_u8(b, KF_UINT)) != 0)
            return rc;
        return put_be64(b, d.v.u);
    case SQL_VT_DOUBLE: {
        double v = d.v.d == 0 ? 0.0 : d.v.d;
        uint64_t bits;
        memcpy(&bits, &v, 8);
        bits = (bits >> 63) ? ~bits : bits | (1ULL << 63);
        if ((rc = sql__buf_u8(b, KF_DOUBLE)) != 0)
            return rc;
        return put_be64(b, bits);
    }
    case SQL_VT_DECIMAL:
        if ((rc = sql__buf_u8(b, KF_DECIMAL)) != 0)
            return rc;
        return key_decimal(b, &d.v.dec);
    case SQL_VT_STRING: {
        uint16_t coll = t->coll ? t->coll : d.coll;
        if ((rc = sql__buf_u8(b, KF_STRING)) != 0)
            return rc;
        const char *s = d.v.s.p;
        size_t n = d.v.s.n;
        if (coll == SQL_COLL_BINARY)
            return put_groups(b, (const uint8_t *)s, n);
        while (n > 0 && s[n - 1] == ' ')
            n--; /* PAD SPACE */
        if (!sql__coll_is_ci(coll))
            return put_groups(b, (const uint8_t *)s, n);
        /* Case-insensitive: two bytes of weight per character, laid out
         * in groups as put_groups does, written straight into b (four
         * weights fill a group; at most two bytes a byte of input, so one
         * reserve holds them). ASCII is weighed here, the rest by
         * sql__coll_weight. */
        if ((rc = sql__buf_reserve(b, (2 * n / GROUP + 1) * (GROUP + 1))) !=
            0)
            return rc;
        uint8_t *g = b->p + b->len;
        size_t fill = 0, i = 0;
        while (i < n) {
            uint32_t cp, wt;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            uint32_t x;
            if (fill == 0 && n - i >= 4 &&
                (memcpy(&x, s + i, 4), (x & 0x80808080u) == 0)) {
                /* Four ASCII characters make a whole group: 'a'..'z' (a
                 * byte + 0x1F reaches 0x80, + 0x05 does not) lose 0x20,
                 * then each byte goes after a zero byte. */
                uint32_t lower = (x + 0x1F1F1F1Fu) & ~(x + 0x05050505u) &
                                 0x80808080u;
                uint64_t v = x - (lower >> 2);
                v = (v | (v << 16)) & 0x0000FFFF0000FFFFull;
                v = (v | (v << 8)) & 0x00FF00FF00FF00FFull;
                v <<= 8;
                memcpy(g, &v, GROUP);
                g[GROUP] = 0xFF;
                g += GROUP + 1;
                i += 4;
                continue;
            }
#endif
            unsigned char c = (unsigned char)s[i];
            if (c < 0x80) {
                i++;
                wt = c >= 'a' && c <= 'z' ? c - 32u : c;
            } else {
                i += sql__utf8_decode(s + i, n - i, &cp);
                wt = sql__coll_weight(coll, cp);
                if (wt > 0xFFFF)
                    wt = 0xFFFD;
            }
            g[fill++] = (uint8_t)(wt >> 8);
            g[fill++] = (uint8_t)wt;
            if (fill == GROUP) {
                g[GROUP] = 0xFF;
                g += GROUP + 1;
                fill = 0;
            }
        }
        memset(g + fill, 0, GROUP - fill);
        g[GROUP] = (uint8_t)(0xFF - (GROUP - fill));
        b->len = (size_t)(g + GROUP + 1 - b->p);
        return 0;
    }
    case SQL_VT_DATE:
    case SQL_VT_DATETIME: {
        struct sql_time tt = d.v.t;
        if (want == SQL_VT_DATE) {
            tt.hour = tt.minute = tt.second = 0;
            tt.micro = 0;
        }
        if ((rc = sql__buf_u8(b, KF_DATETIME)) != 0)
            return rc;
        return put_be64(b, pack_datetime(&tt));
    }
    case SQL_VT_TIME: {
        int64_t us = sql__time_to_us(&d.v.t, SQL_VT_TIME);
        if ((rc = sql__buf_u8(b, KF_TIME)) != 0)
            return rc;
        return put_be64(b, (uint64_t)us ^ (1ULL << 63));
    }
    default:
        return sql__buf_u8(b, KF_NULL);
    }
}

static int get_groups(const uint8_t *in, size_t len, size_t *off,
                      struct sql_arena *a, uint8_t **out, size_t *n)
{
    /* First pass: the length. */
    size_t o = *off, total = 0;
    for (;;) {
        if (len - o < GROUP + 1)
            return SQL_EPROTO;
        uint8_t m = in[o + GROUP];
        if (m < 0xFF - GROUP)
            return SQL_EPROTO;
        size_t take = GROUP - (size_t)(0xFF - m);
        for (size_t i = take; i < GROUP; i++)
            if (in[o + i] != 0)
                return SQL_EPROTO;
        total += take;
        o += GROUP + 1;
        if (take < GROUP)
            break;
    }
    uint8_t *p = sql__arena_alloc(a, total + 1);
    if (p == NULL)
        return -ENOMEM;
    size_t w = 0;
    o = *off;
    for (;;) {
        size_t take = GROUP - (size_t)(0xFF - in[o + GROUP]);
        memcpy(p + w, in + o, take);
        w += take;
        o += GROUP + 1;
        if (take < GROUP)
            break;
    }
    p[w] = 0;
    *out = p;
    *n = w;
    *off = o;
    return 0;
}

static int get_key_decimal(const uint8_t *in, size_t len, size_t *off,
                           const struct sql_ftype *t, struct sql_dec *d)
{
    size_t o = *off;
    if (o >= len)
        return SQL_EPROTO;
    uint8_t sign = in[o++];
    if (sign == 0x01) {
        sql__dec_zero(d);
    } else if (sign == 0x00 || sign == 0x02) {
        bool neg = sign == 0x00;
        if (o >= len)
            return SQL_EPROTO;
        int exp = (int)(neg ? (uint8_t)~in[o] : in[o]) - 128;
        o++;
        char txt[200];
        size_t nd = 0;
        for (;;) {
            if (o >= len)
                return SQL_EPROTO;
            uint8_t c = in[o++];
            if (c == (neg ? 0xFF : 0x00))
                break;
            int dg = neg ? 0xFE - c : c - 1;
            if (dg < 0 || dg > 9 || nd >= 100)
                return SQL_EPROTO;
            txt[nd++] = (char)('0' + dg);
        }
        if (nd == 0 || exp < -40 || exp > 70)
            return SQL_EPROTO;
        /* digits x 10^(exp - nd) as text "0.ddd e exp" */
        char num[220];
        int k = snprintf(num, sizeof num, "%s0.%.*se%d", neg ? "-" : "",
                         (int)nd, txt, exp);
        if (sql__dec_parse(num, (size_t)k, d, NULL) != 0)
            return SQL_EPROTO;
    } else {
        return SQL_EPROTO;
    }
    if (t && t->dec >= 0 && t->dec <= SQL_DEC_MAX_SCALE &&
        (t->tp == SQL_TYPE_NEWDECIMAL || t->tp == SQL_TYPE_DECIMAL))
        (void)sql__dec_rescale(d, t->dec, d);
    *off = o;
    return 0;
}

int sql__key_decode(const uint8_t *in, size_t len, size_t *off,
                    const struct sql_ftype *t, struct sql_arena *a,
                    struct sql_datum *out)
{
    size_t o = *off;
    int rc;
    memset(out, 0, sizeof *out);
    if (o >= len)
        return SQL_EPROTO;
    uint8_t flag = in[o++];
    switch (flag) {
    case KF_NULL:
        break;
    case KF_INT:
    case KF_UINT:
    case KF_DOUBLE:
    case KF_DATETIME:
    case KF_TIME: {
        if (len - o < 8)
            return SQL_EPROTO;
        uint64_t v = get_be64(in + o);
        o += 8;
        if (flag == KF_INT) {
            out->vt = SQL_VT_INT;
            out->v.i = (int64_t)(v ^ (1ULL << 63));
        } else if (flag == KF_UINT) {
            out->vt = SQL_VT_UINT;
            out->v.u = v;
        } else if (flag == KF_DOUBLE) {
            v = (v >> 63) ? v & ~(1ULL << 63) : ~v;
            out->vt = SQL_VT_DOUBLE;
            memcpy(&out->v.d, &v, 8);
            if (!isfinite(out->v.d))
                return SQL_EPROTO; /* never encoded: MySQL has no NaN */
        } else if (flag == KF_DATETIME) {
            unpack_datetime(v, &out->v.t);
            if (out->v.t.hour > 23 || out->v.t.micro > 999999 ||
                out->v.t.year > 9999)
                return SQL_EPROTO;
            out->vt = t && sql__ftype_vt(t) == SQL_VT_DATE ? SQL_VT_DATE
                                                            : SQL_VT_DATETIME;
            out->fsp = (uint8_t)(t && t->dec > 0 && t->dec <= 6 ? t->dec : 0);
        } else {
            int64_t us = (int64_t)(v ^ (1ULL << 63));
            if (us > 838LL * 3600000000LL + 3599999999LL ||
                us < -(838LL * 3600000000LL + 3599999999LL))
                return SQL_EPROTO;
            out->vt = SQL_VT_TIME;
            (void)sql__time_from_us(us, SQL_VT_TIME, &out->v.t);
            out->fsp = (uint8_t)(t && t->dec > 0 && t->dec <= 6 ? t->dec : 0);
        }
        break;
    }
    case KF_DECIMAL:
        out->vt = SQL_VT_DECIMAL;
        if ((rc = get_key_decimal(in, len, &o, t, &out->v.dec)) != 0)
            return rc;
        break;
    case KF_JSON: {
        uint8_t *p;
        size_t n;
        if ((rc = get_groups(in, len, &o, a, &p, &n)) != 0)
            return rc;
        if (!sql__json_valid_bin(p, n))
            return SQL_EPROTO;
        sql__datum_json(out, p, n);
        break;
    }
    case KF_STRING: {
        uint8_t *p;
        size_t n;
        if ((rc = get_groups(in, len, &o, a, &p, &n)) != 0)
            return rc;
        uint16_t coll = t ? t->coll : SQL_COLL_BINARY;
        out->vt = SQL_VT_STRING;
        out->coll = coll;
        if (sql__coll_is_ci(coll)) {
            /* Weights back to (upper-case) UTF-8. */
            if (n % 2 != 0)
                return SQL_EPROTO;
            char *s = sql__arena_alloc(a, n / 2 * 3 + 1);
            if (s == NULL)
                return -ENOMEM;
            size_t w = 0;
            for (size_t i = 0; i < n; i += 2) {
                uint32_t cp = ((uint32_t)p[i] << 8) | p[i + 1];
                if (cp < 0x80) {
                    s[w++] = (char)cp;
                } else if (cp < 0x800) {
                    s[w++] = (char)(0xC0 | (cp >> 6));
                    s[w++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    s[w++] = (char)(0xE0 | (cp >> 12));
                    s[w++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                    s[w++] = (char)(0x80 | (cp & 0x3F));
                }
            }
            out->v.s.p = s;
            out->v.s.n = w;
        } else {
            out->v.s.p = (const char *)p;
            out->v.s.n = n;
        }
        break;
    }
    default:
        return SQL_EPROTO;
    }
    *off = o;
    return 0;
}

/* ---- row form ---------------------------------------------------------- */

#define ROW_VERSION 0x80

static int put_varint(struct sql__buf *b, uint64_t v)
{
    uint8_t x[10];
    size_t n = 0;
    do {
        uint8_t c = (uint8_t)(v & 0x7F);
        v >>= 7;
        x[n++] = v ? (uint8_t)(c | 0x80) : c;
    } while (v);
    return sql__buf_put(b, x, n);
}

static int get_varint(const uint8_t *in, size_t len, size_t *off,
                      uint64_t *v)
{
    uint64_t r = 0;
    size_t o = *off;
    for (int shift = 0; shift < 64; shift += 7) {
        if (o >= len)
            return SQL_EPROTO;
        uint8_t c = in[o++];
        if (shift == 63 && c > 1)
            return SQL_EPROTO;
        r |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *v = r;
            *off = o;
            return 0;
        }
    }
    return SQL_EPROTO;
}

static int put_time(struct sql__buf *b, const struct sql_datum *d)
{
    int rc;
    const struct sql_time *t = &d->v.t;
    if ((rc = sql__buf_u8(b, d->fsp)) != 0 ||
        (rc = sql__buf_u8(b, t->negative ? 1 : 0)) != 0 ||
        (rc = sql__buf_u16(b, t->year)) != 0 ||
        (rc = sql__buf_u8(b, t->month)) != 0 ||
        (rc = sql__buf_u8(b, t->day)) != 0 ||
        (rc = sql__buf_u16(b, (uint16_t)(t->hour > 0xFFFF ? 0xFFFF
                                                          : t->hour))) != 0 ||
        (rc = sql__buf_u8(b, t->minute)) != 0 ||
        (rc = sql__buf_u8(b, t->second)) != 0)
        return rc;
    return sql__buf_u32(b, t->micro);
}

int sql__row_encode(struct sql__buf *b, const struct sql_rowcol *cols,
                    size_t n)
{
    int rc;
    if ((rc = sql__buf_u8(b, ROW_VERSION)) != 0 ||
        (rc = put_varint(b, n)) != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const struct sql_datum *d = &cols[i].d;
        if ((rc = put_varint(b, cols[i].id)) != 0 ||
            (rc = sql__buf_u8(b, d->vt)) != 0)
            return rc;
        switch (d->vt) {
        case SQL_VT_NULL:
            break;
        case SQL_VT_INT:
            rc = put_varint(b, ((uint64_t)d->v.i << 1) ^
                                   (uint64_t)(d->v.i >> 63));
            break;
        case SQL_VT_UINT:
            rc = put_varint(b, d->v.u);
            break;
        case SQL_VT_DOUBLE: {
            uint64_t bits;
            memcpy(&bits, &d->v.d, 8);
            rc = sql__buf_u64(b, bits);
            break;
        }
        case SQL_VT_DECIMAL: {
            uint8_t nw = SQL_DEC_WORDS;
            while (nw > 0 && d->v.dec.w[nw - 1] == 0)
                nw--;
            if ((rc = sql__buf_u8(b, d->v.dec.scale)) != 0 ||
                (rc = sql__buf_u8(b, d->v.dec.neg ? 1 : 0)) != 0 ||
                (rc = sql__buf_u8(b, nw)) != 0)
                return rc;
            for (uint8_t k = 0; k < nw && rc == 0; k++)
                rc = sql__buf_u32(b, d->v.dec.w[k]);
            break;
        }
        case SQL_VT_STRING:
            if ((rc = put_varint(b, d->coll)) != 0 ||
                (rc = put_varint(b, d->v.s.n)) != 0)
                return rc;
            rc = sql__buf_put(b, d->v.s.p, d->v.s.n);
            break;
        case SQL_VT_JSON:
            if ((rc = put_varint(b, d->v.s.n)) != 0)
                return rc;
            rc = sql__buf_put(b, d->v.s.p, d->v.s.n);
            break;
        case SQL_VT_DATE:
        case SQL_VT_DATETIME:
        case SQL_VT_TIME:
            rc = put_time(b, d);
            break;
        default:
            return SQL_EINTERNAL;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

static uint32_t le(const uint8_t *p, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

/* One column's payload at in[*off..) into d (class vt). */
static int get_value(const uint8_t *in, size_t len, size_t *off, uint8_t vt,
                     struct sql_datum *d)
{
    size_t o = *off;
    uint64_t v;
    int rc;
    memset(d, 0, sizeof *d);
    d->vt = vt;
    switch (vt) {
    case SQL_VT_NULL:
        break;
    case SQL_VT_INT:
        if ((rc = get_varint(in, len, &o, &v)) != 0)
            return rc;
        d->v.i = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
        break;
    case SQL_VT_UINT:
        if ((rc = get_varint(in, len, &o, &v)) != 0)
            return rc;
        d->v.u = v;
        break;
    case SQL_VT_DOUBLE:
        if (len - o < 8)
            return SQL_EPROTO;
        v = (uint64_t)le(in + o, 4) | ((uint64_t)le(in + o + 4, 4) << 32);
        memcpy(&d->v.d, &v, 8);
        if (!isfinite(d->v.d))
            return SQL_EPROTO;
        o += 8;
        break;
    case SQL_VT_DECIMAL: {
        if (len - o < 3)
            return SQL_EPROTO;
        uint8_t scale = in[o], neg = in[o + 1], nw = in[o + 2];
        o += 3;
        if (scale > SQL_DEC_MAX_SCALE || neg > 1 || nw > SQL_DEC_WORDS ||
            len - o < (size_t)nw * 4)
            return SQL_EPROTO;
        for (uint8_t k = 0; k < nw; k++) {
            d->v.dec.w[k] = le(in + o, 4);
            if (d->v.dec.w[k] >= 1000000000u)
                return SQL_EPROTO;
            o += 4;
        }
        d->v.dec.scale = scale;
        d->v.dec.neg = neg && !sql__dec_is_zero(&d->v.dec);
        break;
    }
    case SQL_VT_STRING: {
        uint64_t coll, n;
        if ((rc = get_varint(in, len, &o, &coll)) != 0 ||
            (rc = get_varint(in, len, &o, &n)) != 0)
            return rc;
        if (coll > 0xFFFF || n > len - o)
            return SQL_EPROTO;
        d->coll = (uint16_t)coll;
        d->v.s.p = (const char *)in + o;
        d->v.s.n = (size_t)n;
        o += (size_t)n;
        break;
    }
    case SQL_VT_JSON: {
        uint64_t n;
        if ((rc = get_varint(in, len, &o, &n)) != 0)
            return rc;
        if (n > len - o || !sql__json_valid_bin(in + o, (size_t)n))
            return SQL_EPROTO;
        d->v.s.p = (const char *)in + o;
        d->v.s.n = (size_t)n;
        o += (size_t)n;
        break;
    }
    case SQL_VT_DATE:
    case SQL_VT_DATETIME:
    case SQL_VT_TIME: {
        if (len - o < 14)
            return SQL_EPROTO;
        const uint8_t *p = in + o;
        d->fsp = p[0];
        d->v.t.negative = p[1] != 0;
        d->v.t.year = (uint16_t)le(p + 2, 2);
        d->v.t.month = p[4];
        d->v.t.day = p[5];
        d->v.t.hour = le(p + 6, 2);
        d->v.t.minute = p[8];
        d->v.t.second = p[9];
        d->v.t.micro = le(p + 10, 4);
        o += 14;
        const struct sql_time *t = &d->v.t;
        if (d->fsp > 6 || p[1] > 1 || t->year > 9999 || t->month > 12 ||
            t->day > 31 || t->minute > 59 || t->second > 59 ||
            t->micro > 999999 ||
            t->hour > (vt == SQL_VT_TIME ? 838u : 23u) ||
            (vt != SQL_VT_TIME && t->negative))
            return SQL_EPROTO;
        break;
    }
    default:
        return SQL_EPROTO;
    }
    *off = o;
    return 0;
}

int sql__row_decode(const uint8_t *in, size_t len, const uint32_t *ids,
                    size_t n, struct sql_datum *out, bool *found,
                    struct sql_arena *a)
{
    (void)a; /* strings point into in */
    for (size_t i = 0; i < n; i++) {
        found[i] = false;
        sql__datum_null(&out[i]);
    }
    size_t o = 0;
    uint64_t ncols;
    if (len < 1 || in[0] != ROW_VERSION)
        return SQL_EPROTO;
    o = 1;
    if (get_varint(in, len, &o, &ncols) != 0 || ncols > len)
        return SQL_EPROTO;
    for (uint64_t c = 0; c < ncols; c++) {
        uint64_t id;
        if (get_varint(in, len, &o, &id) != 0 || id > UINT32_MAX ||
            o >= len)
            return SQL_EPROTO;
        uint8_t vt = in[o++];
        struct sql_datum d;
        int rc = get_value(in, len, &o, vt, &d);
        if (rc != 0)
            return rc;
        /* Every slot asking for this id (an id may be asked twice). */
        for (size_t i = 0; i < n; i++) {
            if (ids[i] == (uint32_t)id) {
                out[i] = d;
                found[i] = true;
            }
        }
    }
    if (o != len)
        return SQL_EPROTO;
    return 0;
}

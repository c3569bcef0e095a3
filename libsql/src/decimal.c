/* decimal.c: exact DECIMAL arithmetic. A value is an integer N (base 1e9
 * words) and a scale; every operation works on a wider scratch integer
 * (struct big, up to 180 digits) and narrows back to 65 digits, rounding
 * half away from zero as MySQL does. DESIGN.md, "Values and types".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"

#define BASE 1000000000u
#define BW 20 /* scratch words: 180 digits, room for a product and shifts */

struct big
{
    uint32_t w[BW]; /* base 1e9, least significant first */
    int n;          /* words in use (no high zero words); 0 is zero */
};

static const uint32_t pow10_u32[10] = {1,      10,      100,      1000,
                                       10000,  100000,  1000000,  10000000,
                                       100000000, 1000000000};

static void big_norm(struct big *b)
{
    while (b->n > 0 && b->w[b->n - 1] == 0)
        b->n--;
}

static void big_from_dec(struct big *b, const struct sql_dec *d)
{
    memset(b, 0, sizeof *b);
    for (int i = 0; i < SQL_DEC_WORDS; i++)
        b->w[i] = d->w[i];
    b->n = SQL_DEC_WORDS;
    big_norm(b);
}

static void big_from_u64(struct big *b, uint64_t v)
{
    memset(b, 0, sizeof *b);
    int i = 0;
    while (v > 0) {
        b->w[i++] = (uint32_t)(v % BASE);
        v /= BASE;
    }
    b->n = i;
}

/* b = b * m + add; 1 on overflow of the scratch width. */
static int big_mul_small(struct big *b, uint32_t m, uint32_t add)
{
    uint64_t carry = add;
    for (int i = 0; i < b->n; i++) {
        uint64_t t = (uint64_t)b->w[i] * m + carry;
        b->w[i] = (uint32_t)(t % BASE);
        carry = t / BASE;
    }
    while (carry > 0) {
        if (b->n == BW)
            return 1;
        b->w[b->n++] = (uint32_t)(carry % BASE);
        carry /= BASE;
    }
    big_norm(b);
    return 0;
}

/* b = b / d; returns the remainder. */
static uint32_t big_div_small(struct big *b, uint32_t d)
{
    uint64_t rem = 0;
    for (int i = b->n - 1; i >= 0; i--) {
        uint64_t cur = rem * BASE + b->w[i];
        b->w[i] = (uint32_t)(cur / d);
        rem = cur % d;
    }
    big_norm(b);
    return (uint32_t)rem;
}

static int big_cmp(const struct big *a, const struct big *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (int i = a->n - 1; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static int big_add(struct big *r, const struct big *a, const struct big *b)
{
    struct big t;
    memset(&t, 0, sizeof t);
    int n = a->n > b->n ? a->n : b->n;
    uint32_t carry = 0;
    for (int i = 0; i < n; i++) {
        uint32_t s = a->w[i] + b->w[i] + carry;
        carry = s >= BASE;
        t.w[i] = carry ? s - BASE : s;
    }
    t.n = n;
    if (carry) {
        if (n == BW)
            return 1;
        t.w[t.n++] = 1;
    }
    *r = t;
    return 0;
}

/* r = a - b, a >= b. */
static void big_sub(struct big *r, const struct big *a, const struct big *b)
{
    struct big t;
    memset(&t, 0, sizeof t);
    int64_t borrow = 0;
    for (int i = 0; i < a->n; i++) {
        int64_t s = (int64_t)a->w[i] - (int64_t)b->w[i] - borrow;
        borrow = s < 0;
        t.w[i] = (uint32_t)(s < 0 ? s + BASE : s);
    }
    t.n = a->n;
    big_norm(&t);
    *r = t;
}

static int big_mul(struct big *r, const struct big *a, const struct big *b)
{
    uint64_t acc[2 * BW];
    memset(acc, 0, sizeof acc);
    if (a->n + b->n > BW + 1)
        return 1;
    for (int i = 0; i < a->n; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < b->n; j++) {
            uint64_t t = acc[i + j] + (uint64_t)a->w[i] * b->w[j] + carry;
            acc[i + j] = t % BASE;
            carry = t / BASE;
        }
        int k = i + b->n;
        while (carry > 0) {
            uint64_t t = acc[k] + carry;
            acc[k++] = t % BASE;
            carry = t / BASE;
        }
    }
    int n = a->n + b->n;
    while (n > 0 && acc[n - 1] == 0)
        n--;
    if (n > BW)
        return 1;
    memset(r, 0, sizeof *r);
    for (int i = 0; i < n; i++)
        r->w[i] = (uint32_t)acc[i];
    r->n = n;
    return 0;
}

static int big_digits(const struct big *b)
{
    if (b->n == 0)
        return 0;
    int d = (b->n - 1) * 9;
    uint32_t top = b->w[b->n - 1];
    while (top > 0) {
        d++;
        top /= 10;
    }
    return d;
}

/* b *= 10^k; 1 on overflow. */
static int big_shift_up(struct big *b, int k)
{
    while (k > 0) {
        int s = k > 9 ? 9 : k;
        if (big_mul_small(b, pow10_u32[s], 0))
            return 1;
        k -= s;
    }
    return 0;
}

enum { RND_TRUNC, RND_HALF, RND_UP };

/* b /= 10^k with a rounding mode on the magnitude. */
static void big_shift_down(struct big *b, int k, int mode)
{
    bool any = false, half = false;
    while (k > 0) {
        int s = k > 9 ? 9 : k;
        uint32_t rem = big_div_small(b, pow10_u32[s]);
        k -= s;
        if (k == 0) {
            half = rem >= pow10_u32[s] / 2 && rem != 0;
            if (s == 0)
                half = false;
        }
        if (rem != 0)
            any = true;
    }
    if ((mode == RND_HALF && half) || (mode == RND_UP && any))
        (void)big_mul_small(b, 1, 1);
}

/* Long division, digit by digit in base 10 (operands are at most 180
 * digits, so this stays cheap): q = a / b, r = a % b. b is not zero. */
static void big_divmod(const struct big *a, const struct big *b,
                       struct big *q, struct big *r)
{
    struct big qq, rr;
    memset(&qq, 0, sizeof qq);
    memset(&rr, 0, sizeof rr);
    for (int i = a->n - 1; i >= 0; i--) {
        uint32_t w = a->w[i];
        for (int j = 8; j >= 0; j--) {
            uint32_t digit = (w / pow10_u32[j]) % 10;
            (void)big_mul_small(&rr, 10, digit);
            uint32_t qd = 0;
            while (big_cmp(&rr, b) >= 0) {
                big_sub(&rr, &rr, b);
                qd++;
            }
            (void)big_mul_small(&qq, 10, qd);
        }
    }
    if (q)
        *q = qq;
    if (r)
        *r = rr;
}

/* Narrow a scratch value to a sql_dec: at most 65 digits, dropping
 * fraction digits (rounded) first. */
static int big_to_dec(struct big *b, int scale, bool neg, struct sql_dec *d)
{
    int rc = 0;
    if (scale > SQL_DEC_MAX_SCALE) {
        big_shift_down(b, scale - SQL_DEC_MAX_SCALE, RND_HALF);
        scale = SQL_DEC_MAX_SCALE;
    }
    int digits = big_digits(b);
    if (digits > SQL_DEC_MAX_PREC) {
        int intd = digits - scale;
        if (intd > SQL_DEC_MAX_PREC) {
            /* Clamp to the largest value of 65 digits. */
            memset(b, 0, sizeof *b);
            b->n = 0;
            for (int i = 0; i < SQL_DEC_MAX_PREC; i++)
                (void)big_mul_small(b, 10, 9);
            scale = 0;
            rc = SQL_DEC_OVERFLOW;
        } else {
            int drop = digits - SQL_DEC_MAX_PREC;
            big_shift_down(b, drop, RND_HALF);
            scale -= drop;
            if (big_digits(b) > SQL_DEC_MAX_PREC) { /* 999.9 -> 1000 */
                big_shift_down(b, 1, RND_HALF);
                scale--;
            }
        }
    }
    memset(d, 0, sizeof *d);
    for (int i = 0; i < b->n && i < SQL_DEC_WORDS; i++)
        d->w[i] = b->w[i];
    d->scale = (uint8_t)(scale < 0 ? 0 : scale);
    d->neg = neg && b->n > 0;
    return rc;
}

void sql__dec_zero(struct sql_dec *d)
{
    memset(d, 0, sizeof *d);
}

bool sql__dec_is_zero(const struct sql_dec *d)
{
    for (int i = 0; i < SQL_DEC_WORDS; i++)
        if (d->w[i] != 0)
            return false;
    return true;
}

void sql__dec_from_u64(struct sql_dec *d, uint64_t v)
{
    struct big b;
    big_from_u64(&b, v);
    (void)big_to_dec(&b, 0, false, d);
}

void sql__dec_from_i64(struct sql_dec *d, int64_t v)
{
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    struct big b;
    big_from_u64(&b, m);
    (void)big_to_dec(&b, 0, v < 0, d);
}

int sql__dec_from_double(struct sql_dec *d, double v)
{
    char buf[64];
    if (!isfinite(v)) {
        sql__dec_zero(d);
        return SQL_DEC_OVERFLOW;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    int rc = sql__dec_parse(buf, strlen(buf), d, NULL);
    return rc == SQL_DEC_OVERFLOW ? rc : 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

int sql__dec_parse(const char *s, size_t n, struct sql_dec *d, size_t *used)
{
    size_t i = 0;
    bool neg = false, any = false, over = false;
    int frac = 0, dropped = 0;
    struct big b;
    memset(&b, 0, sizeof b);
    while (i < n && is_space(s[i]))
        i++;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    int sig = 0; /* significant digits kept */
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        any = true;
        if (sig < 170) {
            (void)big_mul_small(&b, 10, (uint32_t)(s[i] - '0'));
            if (b.n > 0)
                sig++;
        } else {
            dropped++; /* integer digits beyond any DECIMAL: overflow */
            over = true;
        }
        i++;
    }
    if (i < n && s[i] == '.') {
        size_t save = i++;
        bool fany = false;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            fany = true;
            if (sig < 170 && frac < 100) {
                (void)big_mul_small(&b, 10, (uint32_t)(s[i] - '0'));
                if (b.n > 0)
                    sig++;
                frac++;
            }
            i++;
        }
        if (!any && !fany)
            i = save;
        any = any || fany;
    }
    if (!any) {
        sql__dec_zero(d);
        if (used)
            *used = 0;
        return SQL_DEC_BAD;
    }
    int exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        bool eneg = false;
        if (j < n && (s[j] == '-' || s[j] == '+'))
            eneg = s[j++] == '-';
        if (j < n && s[j] >= '0' && s[j] <= '9') {
            while (j < n && s[j] >= '0' && s[j] <= '9') {
                if (exp < 10000)
                    exp = exp * 10 + (s[j] - '0');
                j++;
            }
            if (eneg)
                exp = -exp;
            i = j;
        }
    }
    if (used)
        *used = i;
    int scale = frac - exp - dropped;
    int rc = 0;
    if (scale < 0) {
        if (b.n > 0 && (big_digits(&b) - scale > SQL_DEC_MAX_PREC ||
                        big_shift_up(&b, -scale)))
            over = true;
        scale = 0;
    }
    if (scale > 200) {
        memset(&b, 0, sizeof b); /* far below the smallest DECIMAL */
        scale = SQL_DEC_MAX_SCALE;
    }
    if (over) {
        memset(&b, 0, sizeof b);
        for (int k = 0; k < SQL_DEC_MAX_PREC; k++)
            (void)big_mul_small(&b, 10, 9);
        scale = 0;
    }
    rc = big_to_dec(&b, scale, neg, d);
    if (over)
        rc = SQL_DEC_OVERFLOW;
    if (rc == 0) {
        size_t k = i;
        while (k < n && is_space(s[k]))
            k++;
        if (k < n)
            rc = SQL_DEC_TRUNC;
    }
    return rc;
}

size_t sql__dec_print(const struct sql_dec *d, char *buf)
{
    char digits[SQL_DEC_WORDS * 9 + 1];
    int nd = 0;
    int top = SQL_DEC_WORDS - 1;
    while (top > 0 && d->w[top] == 0)
        top--;
    nd = snprintf(digits, sizeof digits, "%u", d->w[top]);
    for (int i = top - 1; i >= 0; i--)
        nd += snprintf(digits + nd, sizeof digits - (size_t)nd, "%09u",
                       d->w[i]);
    size_t o = 0;
    if (d->neg && !sql__dec_is_zero(d))
        buf[o++] = '-';
    int scale = d->scale;
    if (nd <= scale) {
        buf[o++] = '0';
        buf[o++] = '.';
        for (int i = 0; i < scale - nd; i++)
            buf[o++] = '0';
        memcpy(buf + o, digits, (size_t)nd);
        o += (size_t)nd;
    } else {
        memcpy(buf + o, digits, (size_t)(nd - scale));
        o += (size_t)(nd - scale);
        if (scale > 0) {
            buf[o++] = '.';
            memcpy(buf + o, digits + nd - scale, (size_t)scale);
            o += (size_t)scale;
        }
    }
    buf[o] = '\0';
    return o;
}

static int to_u64_mag(const struct sql_dec *d, int mode, uint64_t *out)
{
    struct big b;
    big_from_dec(&b, d);
    big_shift_down(&b, d->scale, mode);
    if (b.n > 3) {
        *out = UINT64_MAX;
        return SQL_DEC_OVERFLOW;
    }
    unsigned __int128 v = 0;
    for (int i = b.n - 1; i >= 0; i--)
        v = v * BASE + b.w[i];
    if (v > UINT64_MAX) {
        *out = UINT64_MAX;
        return SQL_DEC_OVERFLOW;
    }
    *out = (uint64_t)v;
    return 0;
}

int sql__dec_to_i64(const struct sql_dec *d, int64_t *out)
{
    uint64_t m;
    int rc = to_u64_mag(d, RND_HALF, &m);
    if (d->neg) {
        if (rc != 0 || m > (uint64_t)INT64_MAX + 1) {
            *out = INT64_MIN;
            return SQL_DEC_OVERFLOW;
        }
        *out = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
        return 0;
    }
    if (rc != 0 || m > (uint64_t)INT64_MAX) {
        *out = INT64_MAX;
        return SQL_DEC_OVERFLOW;
    }
    *out = (int64_t)m;
    return 0;
}

int sql__dec_to_u64(const struct sql_dec *d, uint64_t *out)
{
    uint64_t m;
    int rc = to_u64_mag(d, RND_HALF, &m);
    if (d->neg && m != 0) {
        *out = 0;
        return SQL_DEC_OVERFLOW;
    }
    *out = m;
    return rc;
}

double sql__dec_to_double(const struct sql_dec *d)
{
    char buf[SQL_DEC_STR_MAX];
    sql__dec_print(d, buf);
    return strtod(buf, NULL);
}

/* Both magnitudes at the larger scale. */
static void align(const struct sql_dec *a, const struct sql_dec *b,
                  struct big *ba, struct big *bb, int *scale)
{
    big_from_dec(ba, a);
    big_from_dec(bb, b);
    int s = a->scale > b->scale ? a->scale : b->scale;
    (void)big_shift_up(ba, s - a->scale); /* 81 + 30 digits fit */
    (void)big_shift_up(bb, s - b->scale);
    *scale = s;
}

int sql__dec_cmp(const struct sql_dec *a, const struct sql_dec *b)
{
    bool za = sql__dec_is_zero(a), zb = sql__dec_is_zero(b);
    bool na = a->neg && !za, nb = b->neg && !zb;
    if (na != nb)
        return na ? -1 : 1;
    struct big ba, bb;
    int s;
    align(a, b, &ba, &bb, &s);
    int c = big_cmp(&ba, &bb);
    return na ? -c : c;
}

static int addsub(const struct sql_dec *a, const struct sql_dec *b,
                  bool bneg, struct sql_dec *out)
{
    struct big ba, bb, r;
    int s;
    align(a, b, &ba, &bb, &s);
    bool an = a->neg, bn = bneg;
    bool neg;
    if (an == bn) {
        (void)big_add(&r, &ba, &bb);
        neg = an;
    } else if (big_cmp(&ba, &bb) >= 0) {
        big_sub(&r, &ba, &bb);
        neg = an;
    } else {
        big_sub(&r, &bb, &ba);
        neg = bn;
    }
    return big_to_dec(&r, s, neg, out);
}

int sql__dec_add(const struct sql_dec *a, const struct sql_dec *b,
                 struct sql_dec *out)
{
    return addsub(a, b, b->neg, out);
}

int sql__dec_sub(const struct sql_dec *a, const struct sql_dec *b,
                 struct sql_dec *out)
{
    return addsub(a, b, !b->neg && !sql__dec_is_zero(b), out);
}

int sql__dec_mul(const struct sql_dec *a, const struct sql_dec *b,
                 struct sql_dec *out)
{
    struct big ba, bb, r;
    big_from_dec(&ba, a);
    big_from_dec(&bb, b);
    bool neg = a->neg != b->neg;
    if (big_mul(&r, &ba, &bb)) {
        sql__dec_zero(out);
        return SQL_DEC_OVERFLOW;
    }
    return big_to_dec(&r, a->scale + b->scale, neg, out);
}

int sql__dec_div(const struct sql_dec *a, const struct sql_dec *b, int incr,
                 struct sql_dec *out)
{
    if (sql__dec_is_zero(b)) {
        sql__dec_zero(out);
        return SQL_DEC_DIV0;
    }
    /* MySQL's decimal division (strings/decimal.c do_div_mod) computes
     * the quotient to whole 9-digit words past the point, enough for the
     * operands' scales plus incr, and truncates there; the result type's
     * scale (a's + incr) rounds only the value shown or stored. So 0.5 /
     * 54 * 2020 is 18.70370 (0.009259259 * 2020), not 18.70520 (F26),
     * and -1.82855 / 7 shows -0.261221428 (F13). */
    int scale = (a->scale + b->scale + incr + 8) / 9 * 9;
    if (scale < a->scale + incr)
        scale = a->scale + incr;
    if (scale > SQL_DEC_MAX_SCALE)
        scale = SQL_DEC_MAX_SCALE;
    /* q = a * 10^(scale + b.scale - a.scale) / b, truncated. */
    struct big ba, bb, q;
    big_from_dec(&ba, a);
    big_from_dec(&bb, b);
    int shift = scale + b->scale - a->scale;
    if (big_shift_up(&ba, shift)) {
        sql__dec_zero(out);
        return SQL_DEC_OVERFLOW;
    }
    big_divmod(&ba, &bb, &q, NULL);
    return big_to_dec(&q, scale, a->neg != b->neg, out);
}

int sql__dec_mod(const struct sql_dec *a, const struct sql_dec *b,
                 struct sql_dec *out)
{
    if (sql__dec_is_zero(b)) {
        sql__dec_zero(out);
        return SQL_DEC_DIV0;
    }
    struct big ba, bb, r;
    int s;
    align(a, b, &ba, &bb, &s);
    big_divmod(&ba, &bb, NULL, &r);
    return big_to_dec(&r, s, a->neg, out);
}

int sql__dec_intdiv(const struct sql_dec *a, const struct sql_dec *b,
                    struct sql_dec *out)
{
    if (sql__dec_is_zero(b)) {
        sql__dec_zero(out);
        return SQL_DEC_DIV0;
    }
    struct big ba, bb, q;
    int s;
    align(a, b, &ba, &bb, &s);
    big_divmod(&ba, &bb, &q, NULL);
    return big_to_dec(&q, 0, a->neg != b->neg, out);
}

static int round_mode(const struct sql_dec *a, int scale, int mode,
                      struct sql_dec *out)
{
    struct big b;
    big_from_dec(&b, a);
    bool neg = a->neg;
    if (scale >= a->scale) {
        int s = scale > SQL_DEC_MAX_SCALE ? SQL_DEC_MAX_SCALE : scale;
        if (s > a->scale && big_shift_up(&b, s - a->scale))
            return SQL_DEC_OVERFLOW;
        return big_to_dec(&b, s < a->scale ? a->scale : s, neg, out);
    }
    if (scale < -SQL_DEC_MAX_PREC - 30)
        scale = -SQL_DEC_MAX_PREC - 30;
    big_shift_down(&b, a->scale - scale, mode);
    if (scale < 0) {
        if (big_shift_up(&b, -scale))
            return SQL_DEC_OVERFLOW;
        scale = 0;
    }
    return big_to_dec(&b, scale, neg, out);
}

int sql__dec_round(const struct sql_dec *a, int scale, struct sql_dec *out)
{
    return round_mode(a, scale, RND_HALF, out);
}

int sql__dec_truncate(const struct sql_dec *a, int scale, struct sql_dec *out)
{
    return round_mode(a, scale, RND_TRUNC, out);
}

int sql__dec_rescale(const struct sql_dec *a, int scale, struct sql_dec *out)
{
    return round_mode(a, scale, RND_HALF, out);
}

int sql__dec_floor(const struct sql_dec *a, struct sql_dec *out)
{
    return round_mode(a, 0, a->neg ? RND_UP : RND_TRUNC, out);
}

int sql__dec_ceil(const struct sql_dec *a, struct sql_dec *out)
{
    return round_mode(a, 0, a->neg ? RND_TRUNC : RND_UP, out);
}

int sql__dec_int_digits(const struct sql_dec *a)
{
    struct big b;
    big_from_dec(&b, a);
    int d = big_digits(&b) - a->scale;
    return d < 0 ? 0 : d;
}

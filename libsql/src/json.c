/* json.c: the JSON value class: its binary form (validated, read in place,
 * compared with MySQL's rules), the text parser (RFC 8259, rapidjson's
 * error messages as MySQL quotes them), the printer (MySQL's normalized
 * text) and trees for building documents. Paths are in json_path.c, the
 * SQL functions in func_json.c. DESIGN.md, "Values and types" / "JSON".
 *
 * Binary form: one value = tag byte + body, integers little-endian.
 *   0x00 null, 0x01 false, 0x02 true     no body
 *   0x03 int, 0x04 uint, 0x05 double     8 bytes
 *   0x06 decimal                         u8 n, n bytes of decimal text
 *   0x07 string                          u32 n, n bytes UTF-8
 *   0x08 array    u32 count | u32 size | count x u32 offset | items
 *   0x09 object   u32 count | u32 size | count x (u32 koff, u32 klen) |
 *                 count x u32 voff | keys | values
 * size counts the body (from count on); offsets count from the body's
 * start. Members are contiguous and in order (item i+1 starts where i
 * ends), keys sorted by length then bytes and unique, so a decoder does
 * linear work, a key is found by binary search and item i in O(1). Any
 * value inside a document is itself a complete encoded value.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "decimal.h"
#include "json.h"
#include "wire.h"

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

/* MySQL's key order: shorter first, then bytes. */
static int key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return an < bn ? -1 : 1;
    int c = an ? memcmp(a, b, an) : 0;
    return c < 0 ? -1 : c > 0;
}

/* ---- validation and access -------------------------------------------- */

static size_t utf8_ok(const unsigned char *s, size_t n);

bool sql__json_utf8(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t l = utf8_ok((const unsigned char *)p + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

static bool valid(const uint8_t *b, size_t n, int depth, size_t *len)
{
    if (n < 1)
        return false;
    switch (b[0]) {
    case SQL_JSON_NULL:
    case SQL_JSON_FALSE:
    case SQL_JSON_TRUE:
        *len = 1;
        return true;
    case SQL_JSON_INT:
    case SQL_JSON_UINT:
        if (n < 9)
            return false;
        *len = 9;
        return true;
    case SQL_JSON_DOUBLE: {
        if (n < 9)
            return false;
        uint64_t bits = rd64(b + 1);
        double d;
        memcpy(&d, &bits, 8);
        *len = 9;
        return isfinite(d);
    }
    case SQL_JSON_DECIMAL: {
        if (n < 2 || b[1] == 0 || (size_t)b[1] > n - 2)
            return false;
        /* Only the canonical text sql__dec_print writes. */
        struct sql_dec d;
        size_t used = 0;
        char txt[SQL_DEC_STR_MAX];
        if (sql__dec_parse((const char *)b + 2, b[1], &d, &used) != 0 ||
            used != b[1] || sql__dec_print(&d, txt) != b[1] ||
            memcmp(txt, b + 2, b[1]) != 0)
            return false;
        *len = 2u + b[1];
        return true;
    }
    case SQL_JSON_STRING: {
        if (n < 5 || rd32(b + 1) > n - 5 ||
            !sql__json_utf8((const char *)b + 5, rd32(b + 1)))
            return false;
        *len = 5 + (size_t)rd32(b + 1);
        return true;
    }
    case SQL_JSON_ARRAY:
    case SQL_JSON_OBJECT: {
        if (n < 9 || depth >= SQL_JSON_MAX_DEPTH)
            return false;
        const uint8_t *body = b + 1;
        uint32_t count = rd32(body), size = rd32(body + 4);
        bool obj = b[0] == SQL_JSON_OBJECT;
        size_t per = obj ? 12 : 4;
        if (size > n - 1 || size < 8 || count > (size - 8) / per)
            return false;
        size_t next = 8 + per * count;
        if (obj) {
            const char *pk = NULL;
            size_t pkn = 0;
            for (uint32_t i = 0; i < count; i++) {
                uint32_t ko = rd32(body + 8 + 8 * (size_t)i);
                uint32_t kl = rd32(body + 12 + 8 * (size_t)i);
                if (ko != next || kl > size - ko)
                    return false;
                const char *k = (const char *)body + ko;
                if ((i > 0 && key_cmp(pk, pkn, k, kl) >= 0) ||
                    !sql__json_utf8(k, kl))
                    return false;
                pk = k;
                pkn = kl;
                next += kl;
            }
        }
        size_t voffs = obj ? 8 + 8 * (size_t)count : 8;
        for (uint32_t i = 0; i < count; i++) {
            uint32_t vo = rd32(body + voffs + 4 * (size_t)i);
            size_t el;
            if (vo != next || vo >= size ||
                !valid(body + vo, size - vo, depth + 1, &el))
                return false;
            next += el;
        }
        if (next != size)
            return false;
        *len = 1 + (size_t)size;
        return true;
    }
    default:
        return false;
    }
}

bool sql__json_valid_bin(const uint8_t *b, size_t n)
{
    size_t len;
    return valid(b, n, 0, &len) && len == n;
}

size_t sql__json_bin_len(const uint8_t *b)
{
    switch (b[0]) {
    case SQL_JSON_INT:
    case SQL_JSON_UINT:
    case SQL_JSON_DOUBLE:
        return 9;
    case SQL_JSON_DECIMAL:
        return 2u + b[1];
    case SQL_JSON_STRING:
        return 5 + (size_t)rd32(b + 1);
    case SQL_JSON_ARRAY:
    case SQL_JSON_OBJECT:
        return 1 + (size_t)rd32(b + 5);
    default:
        return 1;
    }
}

uint32_t sql__json_bin_count(const uint8_t *b)
{
    return b[0] == SQL_JSON_ARRAY || b[0] == SQL_JSON_OBJECT ? rd32(b + 1)
                                                             : 0;
}

const uint8_t *sql__json_bin_item(const uint8_t *b, uint32_t i)
{
    const uint8_t *body = b + 1;
    size_t voffs = b[0] == SQL_JSON_OBJECT ? 8 + 8 * (size_t)rd32(body) : 8;
    return body + rd32(body + voffs + 4 * (size_t)i);
}

const char *sql__json_bin_key(const uint8_t *b, uint32_t i, size_t *kn)
{
    const uint8_t *body = b + 1;
    *kn = rd32(body + 12 + 8 * (size_t)i);
    return (const char *)body + rd32(body + 8 + 8 * (size_t)i);
}

/* ---- comparison (MySQL 8.0 manual, "Comparison and Ordering of JSON
 * Values": BOOLEAN > ARRAY > OBJECT > STRING > numbers > NULL) ---------- */

static int rank(uint8_t tag)
{
    switch (tag) {
    case SQL_JSON_NULL:
        return 0;
    case SQL_JSON_STRING:
        return 2;
    case SQL_JSON_OBJECT:
        return 3;
    case SQL_JSON_ARRAY:
        return 4;
    case SQL_JSON_FALSE:
    case SQL_JSON_TRUE:
        return 5;
    default:
        return 1; /* numbers */
    }
}

static void bin_dec(const uint8_t *b, struct sql_dec *d)
{
    switch (b[0]) {
    case SQL_JSON_INT:
        sql__dec_from_i64(d, (int64_t)rd64(b + 1));
        break;
    case SQL_JSON_UINT:
        sql__dec_from_u64(d, rd64(b + 1));
        break;
    default:
        (void)sql__dec_parse((const char *)b + 2, b[1], d, NULL);
        break;
    }
}

static double bin_double(const uint8_t *b)
{
    uint64_t v;
    double d;
    switch (b[0]) {
    case SQL_JSON_INT:
        return (double)(int64_t)rd64(b + 1);
    case SQL_JSON_UINT:
        return (double)rd64(b + 1);
    case SQL_JSON_DOUBLE:
        v = rd64(b + 1);
        memcpy(&d, &v, 8);
        return d;
    default: {
        struct sql_dec x;
        bin_dec(b, &x);
        return sql__dec_to_double(&x);
    }
    }
}

static int cmp_num(const uint8_t *a, const uint8_t *b)
{
    uint8_t ta = a[0], tb = b[0];
    if ((ta == SQL_JSON_INT || ta == SQL_JSON_UINT) &&
        (tb == SQL_JSON_INT || tb == SQL_JSON_UINT)) {
        uint64_t x = rd64(a + 1), y = rd64(b + 1);
        bool xn = ta == SQL_JSON_INT && (int64_t)x < 0;
        bool yn = tb == SQL_JSON_INT && (int64_t)y < 0;
        if (xn != yn)
            return xn ? -1 : 1;
        if (xn)
            return (int64_t)x < (int64_t)y ? -1 : (int64_t)x > (int64_t)y;
        return x < y ? -1 : x > y;
    }
    if (ta != SQL_JSON_DOUBLE && tb != SQL_JSON_DOUBLE) {
        struct sql_dec x, y;
        bin_dec(a, &x);
        bin_dec(b, &y);
        return sql__dec_cmp(&x, &y);
    }
    double x = bin_double(a), y = bin_double(b);
    return x < y ? -1 : x > y;
}

int sql__json_bin_cmp(const uint8_t *a, const uint8_t *b)
{
    int ra = rank(a[0]), rb = rank(b[0]);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 0:
        return 0;
    case 1:
        return cmp_num(a, b);
    case 2: {
        size_t an = rd32(a + 1), bn = rd32(b + 1);
        int c = memcmp(a + 5, b + 5, an < bn ? an : bn);
        if (c != 0)
            return c < 0 ? -1 : 1;
        return an < bn ? -1 : an > bn;
    }
    case 5:
        return a[0] < b[0] ? -1 : a[0] > b[0];
    default: {
        uint32_t an = sql__json_bin_count(a), bn = sql__json_bin_count(b);
        if (ra == 3) {
            /* Objects: equal with the same keys and values; otherwise a
             * deterministic order (member count, keys, values). */
            if (an != bn)
                return an < bn ? -1 : 1;
            for (uint32_t i = 0; i < an; i++) {
                size_t akn, bkn;
                const char *ak = sql__json_bin_key(a, i, &akn);
                const char *bk = sql__json_bin_key(b, i, &bkn);
                int c = key_cmp(ak, akn, bk, bkn);
                if (c != 0)
                    return c;
            }
        }
        for (uint32_t i = 0; i < an && i < bn; i++) {
            int c = sql__json_bin_cmp(sql__json_bin_item(a, i),
                                      sql__json_bin_item(b, i));
            if (c != 0)
                return c;
        }
        return an < bn ? -1 : an > bn;
    }
    }
}

/* ---- trees ----------------------------------------------------------- */

int sql__json_grow(struct sql_arena *a, void *arrp, size_t *cap, size_t n,
                   size_t size)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    void *old, *nw = sql__arena_alloc(a, nc * size);
    if (nw == NULL)
        return -ENOMEM;
    memcpy(&old, arrp, sizeof old);
    if (n)
        memcpy(nw, old, n * size);
    memcpy(arrp, &nw, sizeof nw);
    *cap = nc;
    return 0;
}

struct sql_json *sql__json_new(struct sql_arena *a, uint8_t tag)
{
    struct sql_json *j = sql__arena_zalloc(a, sizeof *j);
    if (j)
        j->tag = tag;
    return j;
}

struct sql_json *sql__json_str(struct sql_arena *a, const char *p, size_t n)
{
    struct sql_json *j = sql__json_new(a, SQL_JSON_STRING);
    if (j) {
        j->v.s.p = p;
        j->v.s.n = n;
    }
    return j;
}

struct sql_json *sql__json_raw(struct sql_arena *a, const uint8_t *b)
{
    struct sql_json *j = sql__json_new(a, SQL_JSON_RAW);
    if (j) {
        j->v.s.p = (const char *)b;
        j->v.s.n = sql__json_bin_len(b);
    }
    return j;
}

int sql__json_open(struct sql_json *j, struct sql_arena *a)
{
    if (j->tag != SQL_JSON_RAW)
        return 0;
    const uint8_t *b = (const uint8_t *)j->v.s.p;
    uint8_t tag = b[0];
    switch (tag) {
    case SQL_JSON_INT:
    case SQL_JSON_UINT:
        j->v.u = rd64(b + 1);
        break;
    case SQL_JSON_DOUBLE: {
        uint64_t v = rd64(b + 1);
        memcpy(&j->v.d, &v, 8);
        break;
    }
    case SQL_JSON_DECIMAL:
        j->v.s.p = (const char *)b + 2;
        j->v.s.n = b[1];
        break;
    case SQL_JSON_STRING:
        j->v.s.n = rd32(b + 1);
        j->v.s.p = (const char *)b + 5;
        break;
    case SQL_JSON_ARRAY:
    case SQL_JSON_OBJECT: {
        uint32_t n = rd32(b + 1);
        if (tag == SQL_JSON_ARRAY) {
            struct sql_json **it =
                sql__arena_alloc(a, sizeof *it * (n ? n : 1));
            if (it == NULL)
                return -ENOMEM;
            for (uint32_t i = 0; i < n; i++)
                if ((it[i] = sql__json_raw(a, sql__json_bin_item(b, i))) ==
                    NULL)
                    return -ENOMEM;
            j->v.a = it;
        } else {
            struct sql_json_member *m =
                sql__arena_alloc(a, sizeof *m * (n ? n : 1));
            if (m == NULL)
                return -ENOMEM;
            for (uint32_t i = 0; i < n; i++) {
                m[i].k = sql__json_bin_key(b, i, &m[i].kn);
                if ((m[i].val = sql__json_raw(a, sql__json_bin_item(b, i))) ==
                    NULL)
                    return -ENOMEM;
            }
            j->v.m = m;
        }
        j->n = n;
        break;
    }
    default:
        break;
    }
    j->tag = tag;
    return 0;
}

static int member_cmp(const void *x, const void *y)
{
    const struct sql_json_member *a = x, *b = y;
    int c = key_cmp(a->k, a->kn, b->k, b->kn);
    if (c != 0)
        return c;
    return a < b ? -1 : a > b; /* stable: equal keys keep their order */
}

void sql__json_normalize(struct sql_json *obj)
{
    if (obj->n < 2)
        return;
    qsort(obj->v.m, obj->n, sizeof *obj->v.m, member_cmp);
    /* Duplicate keys: the last one wins (MySQL 8.0.3 and later). */
    uint32_t w = 0;
    for (uint32_t i = 0; i < obj->n; i++) {
        if (i + 1 < obj->n &&
            key_cmp(obj->v.m[i].k, obj->v.m[i].kn, obj->v.m[i + 1].k,
                    obj->v.m[i + 1].kn) == 0)
            continue;
        obj->v.m[w++] = obj->v.m[i];
    }
    obj->n = w;
}

static size_t enc_size(const struct sql_json *j)
{
    switch (j->tag) {
    case SQL_JSON_RAW:
        return j->v.s.n;
    case SQL_JSON_INT:
    case SQL_JSON_UINT:
    case SQL_JSON_DOUBLE:
        return 9;
    case SQL_JSON_DECIMAL:
        return 2 + j->v.s.n;
    case SQL_JSON_STRING:
        return 5 + j->v.s.n;
    case SQL_JSON_ARRAY: {
        size_t s = 9 + 4 * (size_t)j->n;
        for (uint32_t i = 0; i < j->n; i++)
            s += enc_size(j->v.a[i]);
        return s;
    }
    case SQL_JSON_OBJECT: {
        size_t s = 9 + 12 * (size_t)j->n;
        for (uint32_t i = 0; i < j->n; i++)
            s += j->v.m[i].kn + enc_size(j->v.m[i].val);
        return s;
    }
    default:
        return 1;
    }
}

/* Write j at p (enc_size(j) bytes); returns the bytes written. */
static size_t enc_write(const struct sql_json *j, uint8_t *p)
{
    switch (j->tag) {
    case SQL_JSON_RAW:
        memcpy(p, j->v.s.p, j->v.s.n);
        return j->v.s.n;
    case SQL_JSON_INT:
    case SQL_JSON_UINT:
        p[0] = j->tag;
        wr64(p + 1, j->v.u);
        return 9;
    case SQL_JSON_DOUBLE: {
        uint64_t v;
        memcpy(&v, &j->v.d, 8);
        p[0] = j->tag;
        wr64(p + 1, v);
        return 9;
    }
    case SQL_JSON_DECIMAL:
        p[0] = j->tag;
        p[1] = (uint8_t)j->v.s.n;
        memcpy(p + 2, j->v.s.p, j->v.s.n);
        return 2 + j->v.s.n;
    case SQL_JSON_STRING:
        p[0] = j->tag;
        wr32(p + 1, (uint32_t)j->v.s.n);
        if (j->v.s.n)
            memcpy(p + 5, j->v.s.p, j->v.s.n);
        return 5 + j->v.s.n;
    case SQL_JSON_ARRAY:
    case SQL_JSON_OBJECT: {
        bool obj = j->tag == SQL_JSON_OBJECT;
        uint8_t *body = p + 1;
        p[0] = j->tag;
        wr32(body, j->n);
        size_t off = 8 + (obj ? 12 : 4) * (size_t)j->n;
        if (obj) {
            for (uint32_t i = 0; i < j->n; i++) {
                wr32(body + 8 + 8 * (size_t)i, (uint32_t)off);
                wr32(body + 12 + 8 * (size_t)i, (uint32_t)j->v.m[i].kn);
                memcpy(body + off, j->v.m[i].k, j->v.m[i].kn);
                off += j->v.m[i].kn;
            }
        }
        size_t voffs = obj ? 8 + 8 * (size_t)j->n : 8;
        for (uint32_t i = 0; i < j->n; i++) {
            const struct sql_json *v = obj ? j->v.m[i].val : j->v.a[i];
            wr32(body + voffs + 4 * (size_t)i, (uint32_t)off);
            off += enc_write(v, body + off);
        }
        wr32(body + 4, (uint32_t)off);
        return 1 + off;
    }
    default:
        p[0] = j->tag;
        return 1;
    }
}

int sql__json_encode(const struct sql_json *j, struct sql_arena *a,
                     const uint8_t **out, size_t *n)
{
    size_t s = enc_size(j);
    if (s > UINT32_MAX)
        return -ENOMEM; /* beyond what the offsets address */
    uint8_t *p = sql__arena_alloc(a, s);
    if (p == NULL)
        return -ENOMEM;
    size_t w = enc_write(j, p);
    assert(w == s);
    (void)w;
    *out = p;
    *n = s;
    return 0;
}

/* ---- text parser -------------------------------------------------------- */

struct jp
{
    const char *s;            /* the text */
    size_t n;                 /* its length */
    size_t i;                 /* next byte */
    int depth;                /* containers open */
    struct sql_arena *a;      /* where the tree goes */
    struct sql_json_perr *pe; /* the error */
};

static int perr(struct jp *p, const char *msg, size_t pos)
{
    p->pe->msg = msg;
    p->pe->pos = pos;
    return SQL_EQUERY;
}

static void ws(struct jp *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
                           p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Length of a well-formed UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_ok(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t l;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        l = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        l = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        l = 4, cp = c & 0x07;
    else
        return 0;
    if (n < l)
        return 0;
    for (size_t k = 1; k < l; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3F);
    }
    if ((l == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (l == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return l;
}

/* A string at p->s[p->i] == '"': its unescaped bytes in the arena. */
static int parse_string(struct jp *p, const char **out, size_t *outn)
{
    size_t start = ++p->i;
    /* Fast path: no escapes, point into the text. */
    size_t k = start;
    bool esc = false;
    while (k < p->n && p->s[k] != '"') {
        if (p->s[k] == '\\') {
            esc = true;
            break;
        }
        k++;
    }
    char *buf = NULL;
    size_t w = 0;
    if (esc && (buf = sql__arena_alloc(p->a, p->n - start + 1)) == NULL)
        return -ENOMEM;
    for (;;) {
        if (p->i >= p->n)
            return perr(p, "Missing a closing quotation mark in string.",
                        p->i);
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->i++;
            break;
        }
        if (c == '\\') {
            size_t at = p->i;
            if (p->i + 1 >= p->n)
                return perr(p, "Invalid escape character in string.", at);
            char e = p->s[p->i + 1];
            p->i += 2;
            char one = 0;
            switch (e) {
            case '"': one = '"'; break;
            case '\\': one = '\\'; break;
            case '/': one = '/'; break;
            case 'b': one = '\b'; break;
            case 'f': one = '\f'; break;
            case 'n': one = '\n'; break;
            case 'r': one = '\r'; break;
            case 't': one = '\t'; break;
            case 'u': {
                uint32_t cp, lo;
                if (p->n - p->i < 4 || hex4(p->s + p->i, &cp) != 0)
                    return perr(p,
                                "Incorrect hex digit after \\u escape in "
                                "string.",
                                p->i);
                p->i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (p->n - p->i < 6 || p->s[p->i] != '\\' ||
                        p->s[p->i + 1] != 'u' ||
                        hex4(p->s + p->i + 2, &lo) != 0 || lo < 0xDC00 ||
                        lo > 0xDFFF)
                        return perr(p,
                                    "The surrogate pair in string is "
                                    "invalid.",
                                    p->i);
                    p->i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return perr(p, "The surrogate pair in string is invalid.",
                                p->i);
                }
                w += sql__utf8_encode(cp, buf + w);
                continue;
            }
            default:
                return perr(p, "Invalid escape character in string.", at);
            }
            buf[w++] = one;
            continue;
        }
        if (c < 0x20)
            return perr(p, "Invalid encoding in string.", p->i);
        size_t l = utf8_ok((const unsigned char *)p->s + p->i, p->n - p->i);
        if (l == 0)
            return perr(p, "Invalid encoding in string.", p->i);
        if (buf)
            memcpy(buf + w, p->s + p->i, l);
        w += l;
        p->i += l;
    }
    *out = buf ? buf : p->s + start;
    *outn = w;
    return 0;
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_number(struct jp *p, struct sql_json **out)
{
    size_t start = p->i;
    bool neg = false, frac = false;
    if (p->s[p->i] == '-') {
        neg = true;
        p->i++;
    }
    if (p->i >= p->n || !digit(p->s[p->i]))
        return perr(p, "Invalid value.", start);
    if (p->s[p->i] == '0')
        p->i++;
    else
        while (p->i < p->n && digit(p->s[p->i]))
            p->i++;
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        frac = true;
        if (p->i >= p->n || !digit(p->s[p->i]))
            return perr(p, "Miss fraction part in number.", p->i);
        while (p->i < p->n && digit(p->s[p->i]))
            p->i++;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        frac = true;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (p->i >= p->n || !digit(p->s[p->i]))
            return perr(p, "Miss exponent in number.", p->i);
        while (p->i < p->n && digit(p->s[p->i]))
            p->i++;
    }
    size_t len = p->i - start;
    struct sql_json *j = sql__json_new(p->a, SQL_JSON_INT);
    if (j == NULL)
        return -ENOMEM;
    if (!frac) {
        /* An integer: INT when it fits, UINT above INT64_MAX, else a
         * double. */
        uint64_t v = 0;
        bool over = false;
        for (size_t k = start + (neg ? 1 : 0); k < p->i; k++) {
            unsigned dg = (unsigned)(p->s[k] - '0');
            if (v > (UINT64_MAX - dg) / 10)
                over = true;
            else
                v = v * 10 + dg;
        }
        if (!over && !neg && v > (uint64_t)INT64_MAX) {
            j->tag = SQL_JSON_UINT;
            j->v.u = v;
            *out = j;
            return 0;
        }
        if (!over && (!neg || v <= (uint64_t)INT64_MAX + 1)) {
            j->v.i = neg ? (int64_t)(0 - v) : (int64_t)v;
            *out = j;
            return 0;
        }
    }
    char small[128];
    char *txt = len < sizeof small ? small : sql__arena_alloc(p->a, len + 1);
    if (txt == NULL)
        return -ENOMEM;
    memcpy(txt, p->s + start, len);
    txt[len] = '\0';
    errno = 0;
    double d = strtod(txt, NULL);
    if (!isfinite(d))
        return perr(p, "Number too big to be stored in double.", start);
    j->tag = SQL_JSON_DOUBLE;
    j->v.d = d;
    *out = j;
    return 0;
}

static bool word(struct jp *p, const char *w)
{
    size_t l = strlen(w);
    if (p->n - p->i < l || memcmp(p->s + p->i, w, l) != 0)
        return false;
    p->i += l;
    return true;
}

static int parse_value(struct jp *p, struct sql_json **out);

/* At a container's opening byte: true when the closer follows at once. */
static bool open_empty(struct jp *p, char close)
{
    p->i++;
    ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        return true;
    }
    return false;
}

/* After a member: 1 when a comma says another follows, 0 at the closer,
 * else SQL_EQUERY with msg. */
static int next_member(struct jp *p, char close, const char *msg)
{
    ws(p);
    if (p->i < p->n && p->s[p->i] == ',') {
        p->i++;
        ws(p);
        return 1;
    }
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        return 0;
    }
    return perr(p, msg, p->i);
}

static int parse_array(struct jp *p, struct sql_json **out)
{
    struct sql_json *j = sql__json_new(p->a, SQL_JSON_ARRAY);
    if (j == NULL)
        return -ENOMEM;
    size_t cap = 0;
    int rc = 1;
    if (open_empty(p, ']'))
        rc = 0;
    while (rc == 1) {
        struct sql_json *v;
        if ((rc = parse_value(p, &v)) != 0 ||
            (rc = sql__json_grow(p->a, &j->v.a, &cap, j->n,
                                 sizeof *j->v.a)) != 0)
            return rc;
        j->v.a[j->n++] = v;
        rc = next_member(p, ']',
                         "Missing a comma or ']' after an array element.");
    }
    *out = j;
    return rc;
}

static int parse_object(struct jp *p, struct sql_json **out)
{
    struct sql_json *j = sql__json_new(p->a, SQL_JSON_OBJECT);
    if (j == NULL)
        return -ENOMEM;
    size_t cap = 0;
    int rc = 1;
    if (open_empty(p, '}'))
        rc = 0;
    while (rc == 1) {
        if (p->i >= p->n || p->s[p->i] != '"')
            return perr(p, "Missing a name for object member.", p->i);
        struct sql_json_member m;
        if ((rc = parse_string(p, &m.k, &m.kn)) != 0)
            return rc;
        ws(p);
        if (p->i >= p->n || p->s[p->i] != ':')
            return perr(p, "Missing a colon after a name of object member.",
                        p->i);
        p->i++;
        ws(p);
        if ((rc = parse_value(p, &m.val)) != 0 ||
            (rc = sql__json_grow(p->a, &j->v.m, &cap, j->n,
                                 sizeof *j->v.m)) != 0)
            return rc;
        j->v.m[j->n++] = m;
        rc = next_member(p, '}',
                         "Missing a comma or '}' after an object member.");
    }
    if (rc != 0)
        return rc;
    sql__json_normalize(j);
    *out = j;
    return 0;
}

static int parse_value(struct jp *p, struct sql_json **out)
{
    if (p->i >= p->n)
        return perr(p, "Invalid value.", p->i);
    char c = p->s[p->i];
    int rc;
    switch (c) {
    case '{':
    case '[':
        if (++p->depth > SQL_JSON_MAX_DEPTH)
            return perr(p, NULL, p->i);
        rc = c == '{' ? parse_object(p, out) : parse_array(p, out);
        p->depth--;
        return rc;
    case '"': {
        const char *s;
        size_t n;
        if ((rc = parse_string(p, &s, &n)) != 0)
            return rc;
        *out = sql__json_str(p->a, s, n);
        return *out ? 0 : -ENOMEM;
    }
    case 't':
    case 'f':
    case 'n': {
        size_t at = p->i;
        uint8_t tag = c == 't' ? SQL_JSON_TRUE
                      : c == 'f' ? SQL_JSON_FALSE
                                 : SQL_JSON_NULL;
        if (!word(p, c == 't' ? "true" : c == 'f' ? "false" : "null"))
            return perr(p, "Invalid value.", at);
        *out = sql__json_new(p->a, tag);
        return *out ? 0 : -ENOMEM;
    }
    default:
        if (c == '-' || digit(c))
            return parse_number(p, out);
        return perr(p, "Invalid value.", p->i);
    }
}

int sql__json_parse(const char *s, size_t n, struct sql_arena *a,
                    struct sql_json **out, struct sql_json_perr *pe)
{
    struct jp p = {s, n, 0, 0, a, pe};
    ws(&p);
    if (p.i >= n)
        return perr(&p, "The document is empty.", p.i);
    int rc = parse_value(&p, out);
    if (rc != 0)
        return rc;
    ws(&p);
    if (p.i < n)
        return perr(&p,
                    "The document root must not be followed by other "
                    "values.",
                    p.i);
    return 0;
}

/* ---- printer ---------------------------------------------------------- */

static int put_str(struct sql__buf *o, const char *s, size_t n)
{
    int rc = sql__buf_u8(o, '"');
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        const char *e = NULL;
        switch (c) {
        case '"': e = "\\\""; break;
        case '\\': e = "\\\\"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                e = esc;
            }
        }
        rc = e ? sql__buf_put(o, e, strlen(e)) : sql__buf_u8(o, c);
    }
    return rc ? rc : sql__buf_u8(o, '"');
}

/* A double as MySQL prints it in JSON: the shortest digits, and ".0"
 * after an integral value written without an exponent. */
static size_t double_text(double d, char *buf)
{
    size_t n = sql__double_text(d, false, buf);
    if (!memchr(buf, '.', n) && !memchr(buf, 'e', n)) {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }
    return n;
}

/* Between members: ", " compact (depth < 0), else a newline and two
 * spaces per level (JSON_PRETTY). */
static int sep(struct sql__buf *o, int depth, bool first)
{
    int rc = 0;
    if (depth < 0)
        return first ? 0 : sql__buf_put(o, ", ", 2);
    if (!first)
        rc = sql__buf_u8(o, ',');
    if (rc == 0)
        rc = sql__buf_u8(o, '\n');
    for (int k = 0; rc == 0 && k < depth; k++)
        rc = sql__buf_put(o, "  ", 2);
    return rc;
}

static int print(struct sql__buf *o, const uint8_t *b, int depth)
{
    char buf[64];
    int rc = 0;
    switch (b[0]) {
    case SQL_JSON_NULL:
        return sql__buf_put(o, "null", 4);
    case SQL_JSON_FALSE:
        return sql__buf_put(o, "false", 5);
    case SQL_JSON_TRUE:
        return sql__buf_put(o, "true", 4);
    case SQL_JSON_INT: {
        int k = snprintf(buf, sizeof buf, "%" PRId64, (int64_t)rd64(b + 1));
        return sql__buf_put(o, buf, (size_t)k);
    }
    case SQL_JSON_UINT: {
        int k = snprintf(buf, sizeof buf, "%" PRIu64, rd64(b + 1));
        return sql__buf_put(o, buf, (size_t)k);
    }
    case SQL_JSON_DOUBLE:
        return sql__buf_put(o, buf, double_text(bin_double(b), buf));
    case SQL_JSON_DECIMAL:
        return sql__buf_put(o, b + 2, b[1]);
    case SQL_JSON_STRING:
        return put_str(o, (const char *)b + 5, rd32(b + 1));
    case SQL_JSON_ARRAY:
    case SQL_JSON_OBJECT: {
        bool obj = b[0] == SQL_JSON_OBJECT;
        uint32_t n = rd32(b + 1);
        int inner = depth < 0 ? -1 : depth + 1;
        rc = sql__buf_u8(o, obj ? '{' : '[');
        for (uint32_t i = 0; rc == 0 && i < n; i++) {
            if ((rc = sep(o, inner, i == 0)) != 0)
                break;
            if (obj) {
                size_t kn;
                const char *k = sql__json_bin_key(b, i, &kn);
                if ((rc = put_str(o, k, kn)) != 0 ||
                    (rc = sql__buf_put(o, ": ", 2)) != 0)
                    break;
            }
            rc = print(o, sql__json_bin_item(b, i), inner);
        }
        if (rc == 0 && n > 0 && depth >= 0)
            rc = sep(o, depth, true);
        return rc ? rc : sql__buf_u8(o, obj ? '}' : ']');
    }
    default:
        return SQL_EINTERNAL;
    }
}

int sql__json_print(const uint8_t *b, struct sql_arena *a, const char **out,
                    size_t *n)
{
    return sql__json_print_ex(b, false, a, out, n);
}

int sql__json_print_ex(const uint8_t *b, bool pretty, struct sql_arena *a,
                       const char **out, size_t *n)
{
    struct sql__buf o = {NULL, 0, 0};
    int rc = print(&o, b, pretty ? 0 : -1);
    char *p = NULL;
    if (rc == 0 && (p = sql__arena_alloc(a, o.len + 1)) == NULL)
        rc = -ENOMEM;
    if (rc == 0) {
        if (o.len)
            memcpy(p, o.p, o.len);
        p[o.len] = '\0';
        *out = p;
        *n = o.len;
    }
    sql__buf_free(&o);
    return rc;
}

/* ---- datums ------------------------------------------------------------- */

void sql__datum_json(struct sql_datum *d, const uint8_t *b, size_t n)
{
    memset(d, 0, sizeof *d);
    d->vt = SQL_VT_JSON;
    d->v.s.p = (const char *)b;
    d->v.s.n = n;
}

/* Bytes that are not UTF-8 as MySQL prints an opaque binary string:
 * "base64:type15:<base64>". */
static int opaque(const char *p, size_t n, struct sql_arena *a,
                  struct sql_json **out)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char pre[] = "base64:type15:";
    size_t pl = sizeof pre - 1, m = pl + (n + 2) / 3 * 4;
    char *t = sql__arena_alloc(a, m + 1);
    if (t == NULL)
        return -ENOMEM;
    memcpy(t, pre, pl);
    size_t w = pl;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(uint8_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(uint8_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= (uint8_t)p[i + 2];
        t[w++] = b64[v >> 18];
        t[w++] = b64[(v >> 12) & 63];
        t[w++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        t[w++] = i + 2 < n ? b64[v & 63] : '=';
    }
    *out = sql__json_str(a, t, w);
    return *out ? 0 : -ENOMEM;
}

int sql__json_from_datum(const struct sql_datum *d, struct sql_arena *a,
                         struct sql_json **out)
{
    struct sql_json *j;
    char buf[SQL_DEC_STR_MAX];
    switch (d->vt) {
    case SQL_VT_NULL:
        j = sql__json_new(a, SQL_JSON_NULL);
        break;
    case SQL_VT_JSON:
        j = sql__json_raw(a, (const uint8_t *)d->v.s.p);
        break;
    case SQL_VT_INT:
        if ((j = sql__json_new(a, SQL_JSON_INT)) != NULL)
            j->v.i = d->v.i;
        break;
    case SQL_VT_UINT:
        if ((j = sql__json_new(a, SQL_JSON_UINT)) != NULL)
            j->v.u = d->v.u;
        break;
    case SQL_VT_DOUBLE:
        if ((j = sql__json_new(a, SQL_JSON_DOUBLE)) != NULL)
            j->v.d = d->v.d;
        break;
    case SQL_VT_DECIMAL: {
        size_t n = sql__dec_print(&d->v.dec, buf);
        char *p = sql__arena_strndup(a, buf, n);
        if (p == NULL || (j = sql__json_new(a, SQL_JSON_DECIMAL)) == NULL)
            return -ENOMEM;
        j->v.s.p = p;
        j->v.s.n = n;
        break;
    }
    case SQL_VT_STRING:
        if (sql__json_utf8(d->v.s.p, d->v.s.n)) {
            j = sql__json_str(a, d->v.s.p, d->v.s.n);
            break;
        }
        return opaque(d->v.s.p, d->v.s.n, a, out);
    default: { /* temporals: their text (MySQL keeps a DATE/TIME type) */
        size_t n = sql__time_print(&d->v.t, d->vt, d->fsp, buf);
        char *p = sql__arena_strndup(a, buf, n);
        if (p == NULL)
            return -ENOMEM;
        j = sql__json_str(a, p, n);
        break;
    }
    }
    if (j == NULL)
        return -ENOMEM;
    *out = j;
    return 0;
}

int sql__json_scalar(const struct sql_datum *d, struct sql_arena *a,
                     struct sql_datum *out)
{
    const uint8_t *b = (const uint8_t *)d->v.s.p;
    switch (b[0]) {
    case SQL_JSON_INT:
        sql__datum_int(out, (int64_t)rd64(b + 1));
        return 0;
    case SQL_JSON_UINT:
        sql__datum_uint(out, rd64(b + 1));
        return 0;
    case SQL_JSON_DOUBLE:
        sql__datum_double(out, bin_double(b));
        return 0;
    case SQL_JSON_DECIMAL:
        memset(out, 0, sizeof *out);
        out->vt = SQL_VT_DECIMAL;
        bin_dec(b, &out->v.dec);
        return 0;
    case SQL_JSON_TRUE:
    case SQL_JSON_FALSE:
        sql__datum_int(out, b[0] == SQL_JSON_TRUE);
        return 0;
    case SQL_JSON_STRING:
        sql__datum_str(out, (const char *)b + 5, rd32(b + 1),
                       SQL_COLL_UTF8MB4_BIN);
        return 0;
    default: {
        const char *p = "";
        size_t n = 0;
        int rc;
        if (a && (rc = sql__json_print(b, a, &p, &n)) != 0)
            return rc;
        sql__datum_str(out, p, n, SQL_COLL_UTF8MB4_BIN);
        return 0;
    }
    }
}

/* The encoded form of a non-JSON datum into buf (cap bytes) or the heap
 * (*heap, to free): numbers, strings, temporals as text. */
static int datum_bin(const struct sql_datum *d, uint8_t *buf, size_t cap,
                     const uint8_t **out, uint8_t **heap)
{
    char txt[SQL_DEC_STR_MAX];
    uint64_t bits;
    *heap = NULL;
    switch (d->vt) {
    case SQL_VT_INT:
    case SQL_VT_UINT:
        buf[0] = d->vt == SQL_VT_INT ? SQL_JSON_INT : SQL_JSON_UINT;
        wr64(buf + 1, d->v.u);
        break;
    case SQL_VT_DOUBLE:
        buf[0] = SQL_JSON_DOUBLE;
        memcpy(&bits, &d->v.d, 8);
        wr64(buf + 1, bits);
        break;
    case SQL_VT_DECIMAL: {
        size_t n = sql__dec_print(&d->v.dec, txt);
        buf[0] = SQL_JSON_DECIMAL;
        buf[1] = (uint8_t)n;
        memcpy(buf + 2, txt, n);
        break;
    }
    case SQL_VT_STRING: {
        uint8_t *p = buf;
        if (d->v.s.n + 5 > cap && (p = *heap = sql__malloc(d->v.s.n + 5)) ==
                                      NULL)
            return -ENOMEM;
        p[0] = SQL_JSON_STRING;
        wr32(p + 1, (uint32_t)d->v.s.n);
        if (d->v.s.n)
            memcpy(p + 5, d->v.s.p, d->v.s.n);
        *out = p;
        return 0;
    }
    default: {
        size_t n = sql__time_print(&d->v.t, d->vt, d->fsp, txt);
        buf[0] = SQL_JSON_STRING;
        wr32(buf + 1, (uint32_t)n);
        memcpy(buf + 5, txt, n);
        break;
    }
    }
    *out = buf;
    return 0;
}

int sql__json_cmp_datum(const struct sql_datum *a, const struct sql_datum *b,
                        int *out)
{
    uint8_t ba[SQL_DEC_STR_MAX + 8], bb[SQL_DEC_STR_MAX + 8];
    uint8_t *ha = NULL, *hb = NULL;
    const uint8_t *pa = (const uint8_t *)a->v.s.p;
    const uint8_t *pb = (const uint8_t *)b->v.s.p;
    int rc = 0;
    if (a->vt != SQL_VT_JSON)
        rc = datum_bin(a, ba, sizeof ba, &pa, &ha);
    if (rc == 0 && b->vt != SQL_VT_JSON)
        rc = datum_bin(b, bb, sizeof bb, &pb, &hb);
    if (rc == 0)
        *out = sql__json_bin_cmp(pa, pb);
    sql__free(ha);
    sql__free(hb);
    return rc;
}

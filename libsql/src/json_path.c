/* json_path.c: MySQL's JSON path expressions ($, .key, ."key", .*, [n],
 * [last-n], [m to n], [*], **): parsing (3143 on a malformed path) and
 * finding every value a path selects in an encoded document. A scalar
 * answers [0] (and [last]) as a one-item array would, as MySQL does.
 * DESIGN.md, "Values and types" / "JSON".
 */
#include <errno.h>
#include <string.h>

#include "json.h"

static int bad(struct sql_err *err, size_t pos)
{
    return sql__err(err, 3143, "42000",
                    "Invalid JSON path expression. The error is around "
                    "character position %zu.",
                    pos);
}

static bool sp(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool ident_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
}

/* An array index at s[*i]: digits, or last [- digits]. */
static bool index_at(const char *s, size_t n, size_t *i, bool *last,
                     uint32_t *v)
{
    *last = false;
    *v = 0;
    if (n - *i >= 4 && memcmp(s + *i, "last", 4) == 0) {
        *last = true;
        *i += 4;
        while (*i < n && sp(s[*i]))
            (*i)++;
        if (*i < n && s[*i] == '-') {
            (*i)++;
            while (*i < n && sp(s[*i]))
                (*i)++;
        } else {
            return true;
        }
    }
    size_t st = *i;
    uint64_t x = 0;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        x = x * 10 + (uint64_t)(s[*i] - '0');
        if (x > UINT32_MAX)
            return false;
        (*i)++;
    }
    *v = (uint32_t)x;
    return *i > st;
}

int sql__json_path_parse(const char *s, size_t n, struct sql_arena *a,
                         struct sql_json_path *out, struct sql_err *err)
{
    size_t i = 0, cap = 0;
    memset(out, 0, sizeof *out);
    while (i < n && sp(s[i]))
        i++;
    if (i >= n || s[i] != '$')
        return bad(err, i + 1);
    i++;
    for (;;) {
        while (i < n && sp(s[i]))
            i++;
        if (i >= n)
            break;
        struct sql_json_leg leg;
        memset(&leg, 0, sizeof leg);
        if (s[i] == '.') {
            i++;
            while (i < n && sp(s[i]))
                i++;
            if (i < n && s[i] == '*') {
                leg.kind = SQL_JSON_LEG_KEY_ANY;
                out->wild = true;
                i++;
            } else if (i < n && s[i] == '"') {
                /* A quoted key: JSON string syntax. */
                size_t st = i++;
                while (i < n && s[i] != '"')
                    i += s[i] == '\\' && i + 1 < n ? 2 : 1;
                if (i >= n)
                    return bad(err, n);
                i++;
                struct sql_json *k;
                struct sql_json_perr pe;
                int rc = sql__json_parse(s + st, i - st, a, &k, &pe);
                if (rc == -ENOMEM)
                    return rc;
                if (rc != 0 || k->tag != SQL_JSON_STRING)
                    return bad(err, st + 1);
                leg.kind = SQL_JSON_LEG_KEY;
                leg.key = k->v.s.p;
                leg.kn = k->v.s.n;
            } else {
                size_t st = i;
                while (i < n && ident_char((unsigned char)s[i]))
                    i++;
                if (i == st || (s[st] >= '0' && s[st] <= '9') ||
                    !sql__json_utf8(s + st, i - st))
                    return bad(err, st + 1);
                leg.kind = SQL_JSON_LEG_KEY;
                leg.key = s + st;
                leg.kn = i - st;
            }
        } else if (s[i] == '[') {
            i++;
            while (i < n && sp(s[i]))
                i++;
            if (i < n && s[i] == '*') {
                leg.kind = SQL_JSON_LEG_IDX_ANY;
                out->wild = true;
                i++;
            } else {
                if (!index_at(s, n, &i, &leg.last0, &leg.idx))
                    return bad(err, i + 1);
                leg.kind = SQL_JSON_LEG_IDX;
                size_t save = i;
                while (i < n && sp(s[i]))
                    i++;
                if (i > save && n - i > 2 && memcmp(s + i, "to", 2) == 0 &&
                    sp(s[i + 2])) {
                    i += 3;
                    while (i < n && sp(s[i]))
                        i++;
                    if (!index_at(s, n, &i, &leg.last1, &leg.idx2))
                        return bad(err, i + 1);
                    leg.kind = SQL_JSON_LEG_RANGE;
                    out->wild = true;
                }
            }
            while (i < n && sp(s[i]))
                i++;
            if (i >= n || s[i] != ']')
                return bad(err, i + 1);
            i++;
        } else if (n - i >= 2 && s[i] == '*' && s[i + 1] == '*') {
            leg.kind = SQL_JSON_LEG_DESC;
            out->wild = true;
            i += 2;
        } else {
            return bad(err, i + 1);
        }
        int rc = sql__json_grow(a, &out->legs, &cap, out->n,
                                sizeof *out->legs);
        if (rc != 0)
            return rc;
        out->legs[out->n++] = leg;
    }
    /* ** must be followed by a leg, and not by another **. */
    for (size_t k = 0; k < out->n; k++)
        if (out->legs[k].kind == SQL_JSON_LEG_DESC &&
            (k + 1 == out->n || out->legs[k + 1].kind == SQL_JSON_LEG_DESC))
            return bad(err, n);
    return 0;
}

struct found
{
    struct sql_arena *a;   /* for the list */
    const uint8_t **v;     /* the values */
    size_t n;              /* their count */
    size_t cap;            /* room */
    bool dedupe;           /* the path has **, which may reach a value
                              twice */
};

static int add(struct found *f, const uint8_t *b)
{
    for (size_t k = 0; f->dedupe && k < f->n; k++)
        if (f->v[k] == b)
            return 0;
    int rc = sql__json_grow(f->a, &f->v, &f->cap, f->n, sizeof *f->v);
    if (rc != 0)
        return rc;
    f->v[f->n++] = b;
    return 0;
}

/* The position an index leg names in a container of count items; false
 * when it names none. */
static bool resolve(bool last, uint32_t idx, uint32_t count, uint32_t *out)
{
    if (!last) {
        *out = idx;
        return true;
    }
    if (count == 0 || idx > count - 1)
        return false;
    *out = count - 1 - idx;
    return true;
}

static int walk(const uint8_t *b, const struct sql_json_path *p, size_t k,
                struct found *f)
{
    if (k == p->n)
        return add(f, b);
    const struct sql_json_leg *l = &p->legs[k];
    uint32_t cnt = sql__json_bin_count(b);
    int rc = 0;
    switch (l->kind) {
    case SQL_JSON_LEG_KEY: {
        if (b[0] != SQL_JSON_OBJECT)
            return 0;
        uint32_t lo = 0, hi = cnt;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            size_t kn;
            const char *key = sql__json_bin_key(b, mid, &kn);
            int c = kn != l->kn ? (kn < l->kn ? -1 : 1)
                                : memcmp(key, l->key, kn);
            if (c == 0)
                return walk(sql__json_bin_item(b, mid), p, k + 1, f);
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return 0;
    }
    case SQL_JSON_LEG_KEY_ANY:
        if (b[0] != SQL_JSON_OBJECT)
            return 0;
        for (uint32_t i = 0; rc == 0 && i < cnt; i++)
            rc = walk(sql__json_bin_item(b, i), p, k + 1, f);
        return rc;
    case SQL_JSON_LEG_IDX: {
        uint32_t at;
        if (b[0] != SQL_JSON_ARRAY)
            return resolve(l->last0, l->idx, 1, &at) && at == 0
                       ? walk(b, p, k + 1, f)
                       : 0;
        if (!resolve(l->last0, l->idx, cnt, &at) || at >= cnt)
            return 0;
        return walk(sql__json_bin_item(b, at), p, k + 1, f);
    }
    case SQL_JSON_LEG_IDX_ANY:
        if (b[0] != SQL_JSON_ARRAY)
            return 0;
        for (uint32_t i = 0; rc == 0 && i < cnt; i++)
            rc = walk(sql__json_bin_item(b, i), p, k + 1, f);
        return rc;
    case SQL_JSON_LEG_RANGE: {
        uint32_t n = b[0] == SQL_JSON_ARRAY ? cnt : 1, from, to;
        if (!resolve(l->last0, l->idx, n, &from) ||
            !resolve(l->last1, l->idx2, n, &to))
            return 0;
        if (to >= n)
            to = n - 1;
        for (uint32_t i = from; rc == 0 && n > 0 && i <= to; i++)
            rc = walk(b[0] == SQL_JSON_ARRAY ? sql__json_bin_item(b, i) : b,
                      p, k + 1, f);
        return rc;
    }
    default: /* **: the next leg here and at every depth below */
        if ((rc = walk(b, p, k + 1, f)) != 0)
            return rc;
        for (uint32_t i = 0; rc == 0 && i < cnt; i++)
            rc = walk(sql__json_bin_item(b, i), p, k, f);
        return rc;
    }
}

int sql__json_path_find(const uint8_t *b, const struct sql_json_path *p,
                        struct sql_arena *a, const uint8_t ***out,
                        size_t *n)
{
    struct found f = {a, NULL, 0, 0, false};
    for (size_t k = 0; k < p->n; k++)
        if (p->legs[k].kind == SQL_JSON_LEG_DESC)
            f.dedupe = true;
    int rc = walk(b, p, 0, &f);
    *out = f.v;
    *n = f.n;
    return rc;
}

/* enumset.c: ENUM and SET values. A column stores the member's 1-based
 * index (0: the '' error value) or the members' bitmask as an unsigned
 * integer, in the row and in index keys; an expression reading the column
 * gets the member text tagged with that number (sql_datum.fsp is
 * SQL_ENUM_TAG / SQL_SET_TAG, v.s.es the number), so string context sees
 * the text, numeric context the number and ORDER BY the member order, as
 * MySQL. DESIGN.md, "Values and types" / "ENUM and SET".
 */
#include <errno.h>
#include <string.h>

#include "value.h"

bool sql__type_is_enumset(const struct sql_ftype *t)
{
    return t && (t->tp == SQL_TYPE_ENUM || t->tp == SQL_TYPE_SET) &&
           t->elems != NULL;
}

int sql__enumset_member(const struct sql_ftype *t, const char *p, size_t n)
{
    while (n > 0 && p[n - 1] == ' ')
        n--;
    uint16_t coll = t->coll && t->coll != SQL_COLL_BINARY
                        ? t->coll
                        : SQL_COLL_UTF8MB4_GENERAL_CI;
    for (uint16_t i = 0; i < t->nelems; i++) {
        const char *m = t->elems[i];
        if (sql__coll_cmp(coll, m, strlen(m), p, n) == 0)
            return i;
    }
    return -1;
}

int sql__enumset_text(const struct sql_ftype *t, uint64_t v,
                      struct sql_arena *a, const char **p, size_t *n)
{
    if (t->tp == SQL_TYPE_ENUM) {
        if (v == 0 || v > t->nelems) {
            *p = "";
            *n = 0;
        } else {
            *p = t->elems[v - 1];
            *n = strlen(*p);
        }
        return 0;
    }
    size_t total = 0;
    for (uint16_t i = 0; i < t->nelems && i < 64; i++)
        if (v & (1ULL << i))
            total += strlen(t->elems[i]) + 1;
    char *buf = a ? sql__arena_alloc(a, total + 1) : NULL;
    if (buf == NULL)
        return -ENOMEM;
    size_t o = 0;
    for (uint16_t i = 0; i < t->nelems && i < 64; i++)
        if (v & (1ULL << i)) {
            if (o)
                buf[o++] = ',';
            size_t l = strlen(t->elems[i]);
            memcpy(buf + o, t->elems[i], l);
            o += l;
        }
    buf[o] = '\0';
    *p = buf;
    *n = o;
    return 0;
}

int sql__enumset_datum(const struct sql_ftype *t, struct sql_datum *d,
                       struct sql_arena *a)
{
    if (d->vt != SQL_VT_UINT || !sql__type_is_enumset(t) ||
        (t->tp == SQL_TYPE_SET && a == NULL))
        return 0;
    uint64_t v = d->v.u;
    const char *p;
    size_t n;
    int rc = sql__enumset_text(t, v, a, &p, &n);
    if (rc != 0)
        return rc;
    sql__datum_str(d, p, n, t->coll ? t->coll : SQL_COLL_UTF8MB4_GENERAL_CI);
    d->fsp = t->tp == SQL_TYPE_ENUM ? SQL_ENUM_TAG : SQL_SET_TAG;
    d->v.s.es = v;
    return 0;
}

bool sql__enumset_number(const struct sql_datum *d, uint64_t *out)
{
    if (d->vt != SQL_VT_STRING ||
        (d->fsp != SQL_ENUM_TAG && d->fsp != SQL_SET_TAG))
        return false;
    *out = d->v.s.es;
    return true;
}

uint64_t sql__enumset_key(const struct sql_ftype *t, const struct sql_datum *d)
{
    uint64_t v;
    if (d->vt == SQL_VT_UINT)
        return d->v.u;
    if (d->vt == SQL_VT_INT)
        return (uint64_t)d->v.i;
    if (sql__enumset_number(d, &v))
        return v;
    if (d->vt != SQL_VT_STRING)
        return UINT64_MAX; /* matches no stored value */
    if (t->tp == SQL_TYPE_ENUM) {
        int i = sql__enumset_member(t, d->v.s.p, d->v.s.n);
        return i < 0 ? UINT64_MAX : (uint64_t)i + 1;
    }
    /* SET: the members named, comma-separated. */
    uint64_t mask = 0;
    const char *p = d->v.s.p;
    size_t n = d->v.s.n, i = 0;
    while (n > 0) {
        size_t j = i;
        while (j < n && p[j] != ',')
            j++;
        int k = sql__enumset_member(t, p + i, j - i);
        if (k < 0 || k >= 64)
            return UINT64_MAX;
        mask |= 1ULL << k;
        if (j == n)
            break;
        i = j + 1;
    }
    return mask;
}

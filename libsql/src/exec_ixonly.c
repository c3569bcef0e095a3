/* exec_ixonly.c: index-only reads. An index scan of a SELECT's join whose
 * index holds every column the statement names of its table (whole
 * values of a type whose key form gives the value back) builds its rows
 * from the index entries and reads no row by handle: TPC-H q16's lookup
 * of partsupp by (ps_partkey, ps_suppkey). DESIGN.md "Joins".
 */
#include <string.h>

#include "catalog.h"
#include "codec.h"
#include "exec_int.h"
#include "plan.h"
#include "sql_int.h"
#include "tablecodec.h"

/* Whether a column's key form decodes to the value its row holds: the
 * integer types (a case-insensitive string's key is its sort weights, a
 * DECIMAL's and a temporal's carry no display scale of their own). */
static bool key_exact(const struct sql_ftype *t)
{
    if (t->flags & (SQL_COLFLAG_ENUM | SQL_COLFLAG_SET))
        return false;
    switch (t->tp) {
    case SQL_TYPE_TINY:
    case SQL_TYPE_SHORT:
    case SQL_TYPE_INT24:
    case SQL_TYPE_LONG:
    case SQL_TYPE_LONGLONG:
        return true;
    default:
        return false;
    }
}

/* Whether index column k of ix is column c, whole. */
static bool holds(const struct sql_idxinfo *ix, uint32_t k, uint32_t c)
{
    return ix->cols[k] == c && (!ix->prefix || ix->prefix[k] < 0);
}

bool sql__plan_index_only(const struct plan *p)
{
    const struct sql_tableinfo *t = p->acc.t;
    bool yes = p->kind == PL_SCAN && p->used && !p->lock && t &&
               (p->acc.kind == ACC_INDEX_RANGE ||
                p->acc.kind == ACC_UNIQUE_POINT) &&
               p->acc.idx >= 0 && (uint32_t)p->acc.idx < t->nidx &&
               p->acc.idx != t->pk_handle_idx;
    for (uint32_t c = 0; yes && c < t->ncols; c++) {
        if (!p->used[c] || (int32_t)c == t->handle_col)
            continue;
        const struct sql_idxinfo *ix = &t->idx[p->acc.idx];
        uint32_t k = 0;
        while (k < ix->ncols && !holds(ix, k, c))
            k++;
        yes = k < ix->ncols && key_exact(&t->cols[c].type);
    }
    return yes;
}

bool sql__xscan_index_only(struct sql_xnode *n)
{
    if (!n->ixonly)
        n->ixonly = sql__plan_index_only(n->p) ? 1 : 2;
    return n->ixonly == 1;
}

/* Entry kp's columns into row (the table's part of a joined row): the
 * index's exact columns, the handle's, the rest NULL; false when the
 * entry does not decode. */
static bool entry_row(const struct sql_tableinfo *t,
                      const struct sql_idxinfo *ix,
                      const struct mvcc_kvpair *kp, struct sql_arena *a,
                      struct sql_datum *row, int64_t *h)
{
    memset(row, 0, sizeof(*row) * t->ncols);
    size_t off = SQL_TC_INDEX_PREFIX_LEN;
    for (uint32_t k = 0; k < ix->ncols; k++) {
        uint32_t c = ix->cols[k];
        struct sql_datum d;
        if (c >= t->ncols ||
            sql__key_decode(kp->key, kp->key_len, &off, &t->cols[c].type, a,
                            &d) != 0)
            return false;
        if (holds(ix, k, c) && key_exact(&t->cols[c].type))
            row[c] = d;
    }
    /* the handle: after the columns (a non-unique entry, or a unique one
     * holding a NULL), else the value */
    if (kp->key_len - off == 8)
        *h = sql__tc_get_i64(kp->key + off);
    else if (kp->key_len == off && kp->value_len == 8)
        *h = sql__tc_get_i64(kp->value);
    else
        return false;
    if (t->handle_col >= 0) {
        struct sql_datum *d = &row[t->handle_col];
        if (t->cols[t->handle_col].type.flags & SQL_COLFLAG_UNSIGNED) {
            d->vt = SQL_VT_UINT;
            d->v.u = (uint64_t)*h;
        } else {
            d->vt = SQL_VT_INT;
            d->v.i = *h;
        }
    }
    return true;
}

int sql__xemit_entries(struct sql_xctx *x, struct sql_xnode *n,
                       const struct sql_kvres *res)
{
    const struct plan *p = n->p;
    const struct sql_tableinfo *t = p->acc.t;
    const struct sql_idxinfo *ix = &t->idx[p->acc.idx];
    for (size_t i = 0; i < res->r.npairs; i++) {
        int64_t h;
        struct sql_datum *row = sql__xrow(&n->out, n->out.n);
        if (n->out.ncols > t->ncols) /* a joined row: the others NULL */
            memset(row, 0, sizeof(*row) * n->out.ncols);
        if (!entry_row(t, ix, &res->r.pairs[i], n->arena, row + p->row_off,
                       &h))
            return sql__serr(x->s, 1105, "HY000",
                             "an index entry of table '%s' is malformed",
                             t->name);
        int rc = sql__xscan_keep(x, n, row, h);
        if (rc != 0)
            return rc;
    }
    return 0;
}

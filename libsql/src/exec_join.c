/* exec_join.c: the join operator (DESIGN.md "Executor", "Joins"). Rows of
 * both inputs are joined rows (every table's columns at its offset, the
 * ones an input does not read NULL), so a match is the left row with the
 * right input's columns laid over it. Three ways to find the matches of a
 * left (probe) row: a hash table of the build side's equal keys, an index
 * lookup of the right table by the left row, or every kept right row.
 * Every match is checked against the whole join condition; a LEFT join
 * pads a left row that matched nothing with NULLs.
 */
#include <errno.h>
#include <string.h>

#include "codec.h"
#include "exec_int.h"
#include "sql_int.h"

/* The equal keys of row over keys[]: false when one is NULL (= then
 * matches nothing). */
static int key_of(struct sql_xctx *x, const struct plan *p,
                  struct sql_expr **keys, const struct sql_datum *row,
                  struct sql__buf *b, bool *null)
{
    b->len = 0;
    *null = false;
    for (size_t k = 0; k < p->njkeys; k++) {
        struct sql_datum d;
        int rc = sql__expr_eval(keys[k], &x->ev, row, &d);
        if (rc != 0)
            return sql__xerr(x, rc);
        if (d.vt == SQL_VT_NULL) {
            *null = true;
            return 0;
        }
        if ((rc = sql__key_append(b, &d, &p->ktypes[k])) != 0)
            return rc;
    }
    return 0;
}

/* Keep the build side in a hash table on its keys (rows whose key has a
 * NULL are left out: they match nothing). */
static int hash_build(struct sql_xctx *x, struct sql_xnode *n,
                      struct sql_xnode *build, struct sql_expr **keys)
{
    const struct plan *p = n->p;
    size_t cap = 0;
    struct sql_chunk *c;
    int rc;
    while ((rc = sql__exec_next(x, build, &c)) == 0 && c->n > 0) {
        x->ev.arena = n->arena;
        for (size_t i = 0; i < c->n; i++) {
            struct sql_datum *row = sql__xrow(c, i);
            bool null;
            if ((rc = key_of(x, p, keys, row, &n->kb, &null)) != 0)
                return rc;
            if (null)
                continue;
            if (n->nrows == cap) {
                size_t nc = cap ? cap * 2 : 256;
                uint8_t **k = sql__arena_alloc(n->keep, sizeof(*k) * nc);
                size_t *l = sql__arena_alloc(n->keep, sizeof(*l) * nc);
                if (!k || !l)
                    return -ENOMEM;
                if (cap) {
                    memcpy(k, n->hkey, sizeof(*k) * cap);
                    memcpy(l, n->hklen, sizeof(*l) * cap);
                }
                n->hkey = k;
                n->hklen = l;
                cap = nc;
            }
            uint8_t *kb = sql__arena_alloc(n->keep, n->kb.len + 1);
            if (!kb)
                return -ENOMEM;
            if (n->kb.len)
                memcpy(kb, n->kb.p, n->kb.len);
            n->hkey[n->nrows] = kb;
            n->hklen[n->nrows] = n->kb.len;
            if ((rc = sql__xkeep_row(n, row, c->ncols, 0)) != 0)
                return rc;
        }
    }
    if (rc != 0)
        return rc;
    size_t ns = 64;
    while (ns < n->nrows * 2)
        ns *= 2;
    n->hslot = sql__arena_zalloc(n->keep, sizeof(*n->hslot) * ns);
    n->hnext = sql__arena_zalloc(n->keep, sizeof(*n->hnext) * (n->nrows + 1));
    if (!n->hslot || !n->hnext)
        return -ENOMEM;
    n->nhslot = ns;
    /* Back to front, so each chain lists its rows in input order. */
    for (size_t r = n->nrows; r-- > 0;) {
        size_t h = sql__xhash(n->hkey[r], n->hklen[r]) & (ns - 1);
        n->hnext[r] = n->hslot[h];
        n->hslot[h] = (uint32_t)(r + 1);
    }
    return 0;
}

static int keep_all(struct sql_xctx *x, struct sql_xnode *n,
                    struct sql_xnode *in)
{
    struct sql_chunk *c;
    int rc;
    while ((rc = sql__exec_next(x, in, &c)) == 0 && c->n > 0)
        for (size_t i = 0; i < c->n; i++)
            if ((rc = sql__xkeep_row(n, sql__xrow(c, i), c->ncols, 0)) != 0)
                return rc;
    return rc;
}

/* Emit left with right's columns over it when the condition holds. */
static int try_pair(struct sql_xctx *x, struct sql_xnode *n,
                    const struct sql_datum *left,
                    const struct sql_datum *right)
{
    const struct plan *p = n->p;
    struct sql_datum *o = sql__xrow(&n->out, n->out.n);
    memcpy(o, left, sizeof(*o) * n->out.ncols);
    for (size_t k = 0; k < p->nrspans; k++)
        memcpy(o + p->rspans[k].off, right + p->rspans[k].off,
               sizeof(*o) * p->rspans[k].n);
    if (p->cond) {
        int truth;
        x->ev.arena = n->arena;
        int rc = sql__expr_eval_bool(p->cond, &x->ev, o, &truth);
        if (rc != 0)
            return sql__xerr(x, rc);
        if (truth != 1)
            return 0;
    }
    n->lmatched = true;
    if (p->join_type == JT_ANTI)
        return 0; /* the row goes: nothing to emit */
    if (p->join_type == JT_SEMI) /* the left row alone */
        for (size_t k = 0; k < p->nrspans; k++)
            memset(o + p->rspans[k].off, 0, sizeof(*o) * p->rspans[k].n);
    n->out.handles[n->out.n++] = 0;
    return 0;
}

/* Semi and anti joins need one match only. */
static bool one_will_do(const struct sql_xnode *n)
{
    return n->lmatched && (n->p->join_type == JT_SEMI ||
                           n->p->join_type == JT_ANTI);
}

/* Start on probe row li: find where its candidates are. */
static int row_start(struct sql_xctx *x, struct sql_xnode *n,
                     const struct sql_datum *row)
{
    const struct plan *p = n->p;
    n->lmatched = false;
    n->lexhausted = false;
    n->lactive = true;
    switch (p->join_algo) {
    case JA_HASH: {
        bool null;
        int rc = key_of(x, p, p->build_left ? p->rkeys : p->lkeys, row,
                        &n->kb, &null);
        if (rc != 0)
            return rc;
        n->cand = 0;
        if (!null && n->nhslot)
            n->cand = n->hslot[sql__xhash(n->kb.p ? n->kb.p
                                                  : (const uint8_t *)"",
                                          n->kb.len) &
                               (n->nhslot - 1)];
        return 0;
    }
    case JA_INDEX:
        sql__xscan_rescan(n->right, row);
        n->ic = NULL;
        n->ii = 0;
        return 0;
    default:
        n->cand = 0;
        return 0;
    }
}

/* Emit the matches of probe row `row` until the chunk is full or none is
 * left (then n->lexhausted). */
static int row_matches(struct sql_xctx *x, struct sql_xnode *n,
                       const struct sql_datum *row)
{
    const struct plan *p = n->p;
    size_t nc = n->out.ncols;
    int rc = 0;
    switch (p->join_algo) {
    case JA_HASH:
        while (n->cand && n->out.n < n->out.cap) {
            size_t r = n->cand - 1;
            n->cand = n->hnext[r];
            if (n->hklen[r] != n->kb.len ||
                (n->kb.len && memcmp(n->hkey[r], n->kb.p, n->kb.len) != 0))
                continue;
            const struct sql_datum *kept = n->rows + r * nc;
            rc = p->build_left ? try_pair(x, n, kept, row)
                               : try_pair(x, n, row, kept);
            if (rc != 0)
                return rc;
            if (one_will_do(n))
                n->cand = 0;
        }
        n->lexhausted = n->cand == 0;
        return 0;
    case JA_INDEX:
        while (n->out.n < n->out.cap) {
            if (one_will_do(n)) {
                n->lexhausted = true;
                return 0;
            }
            if (!n->ic || n->ii >= n->ic->n) {
                if ((rc = sql__exec_next(x, n->right, &n->ic)) != 0)
                    return rc;
                n->ii = 0;
                if (n->ic->n == 0) {
                    n->lexhausted = true;
                    return 0;
                }
            }
            size_t before = n->out.n;
            if ((rc = try_pair(x, n, row, sql__xrow(n->ic, n->ii++))) != 0)
                return rc;
            /* The inner chunk's bytes go with its next read: copy them
             * into this call's arena. */
            struct sql_datum *o = sql__xrow(&n->out, before);
            for (size_t k = 0; n->out.n > before && k < p->nrspans; k++)
                for (uint32_t c = 0; c < p->rspans[k].n; c++)
                    if ((rc = sql__datum_copy(n->arena,
                                              &o[p->rspans[k].off + c])) != 0)
                        return rc;
        }
        return 0;
    default:
        while (n->cand < n->nrows && n->out.n < n->out.cap &&
               !one_will_do(n))
            if ((rc = try_pair(x, n, row, n->rows + n->cand++ * nc)) != 0)
                return rc;
        n->lexhausted = n->cand >= n->nrows || one_will_do(n);
        return 0;
    }
}

int sql__xjoin_next(struct sql_xctx *x, struct sql_xnode *n, bool first)
{
    const struct plan *p = n->p;
    struct sql_xnode *probe = n->child;
    int rc;
    if (p->join_algo == JA_HASH && p->build_left)
        probe = n->right;
    if (first) {
        if (p->join_algo == JA_HASH)
            rc = hash_build(x, n, p->build_left ? n->child : n->right,
                            p->build_left ? p->lkeys : p->rkeys);
        else if (p->join_algo == JA_NESTED)
            rc = keep_all(x, n, n->right);
        else
            rc = 0;
        if (rc != 0)
            return rc;
        if (p->join_algo != JA_INDEX && n->nrows == 0 &&
            (p->join_type == JT_INNER || p->join_type == JT_SEMI)) {
            n->done = true; /* nothing can match */
            return 0;
        }
    }
    while (n->out.n < n->out.cap) {
        if (!n->lactive) {
            if (!n->lc || n->li + 1 >= n->lc->n) {
                /* Rows emitted point into the probe chunk: the next one
                 * waits for the next call. */
                if (n->out.n > 0)
                    break;
                if ((rc = sql__exec_next(x, probe, &n->lc)) != 0)
                    return rc;
                x->ev.arena = n->arena;
                if (n->lc->n == 0) {
                    n->done = true;
                    break;
                }
                n->li = 0;
            } else
                n->li++;
            if ((rc = row_start(x, n, sql__xrow(n->lc, n->li))) != 0)
                return rc;
        }
        const struct sql_datum *row = sql__xrow(n->lc, n->li);
        if (!n->lexhausted && (rc = row_matches(x, n, row)) != 0)
            return rc;
        if (!n->lexhausted)
            break; /* the chunk is full */
        if ((p->join_type == JT_LEFT || p->join_type == JT_ANTI) &&
            !n->lmatched) {
            if (n->out.n == n->out.cap)
                break;
            struct sql_datum *o = sql__xrow(&n->out, n->out.n);
            memcpy(o, row, sizeof(*o) * n->out.ncols);
            for (size_t k = 0; k < p->nrspans; k++)
                memset(o + p->rspans[k].off, 0,
                       sizeof(*o) * p->rspans[k].n);
            n->out.handles[n->out.n++] = 0;
        }
        n->lactive = false;
    }
    return 0;
}

/* exec.c: the executor's operators (scan with its access paths, filter,
 * projection, hash aggregation, distinct, sort, TopN, limit) and the
 * queries that read: SELECT, EXPLAIN, DO; prepared statements and
 * COM_FIELD_LIST (DESIGN.md "Executor").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "exec.h"
#include "cop.h"
#include "datetime.h"
#include "exec_int.h"
#include "parse.h"
#include "plancache.h"
#include "sql_int.h"
#include "tablecodec.h"

/* ---- context ---------------------------------------------------------- */

static int env_uservar_get(void *ctx, const char *name, struct sql_datum *out,
                           struct sql_arena *a)
{
    (void)a;
    return sql__uservar_get(ctx, name, out);
}

static int env_uservar_set(void *ctx, const char *name,
                           const struct sql_datum *v)
{
    return sql__uservar_set(ctx, name, v);
}

static int env_sysvar_get(void *ctx, const char *name, int scope,
                          struct sql_datum *out, struct sql_arena *a,
                          struct sql_err *err)
{
    struct sql_session *s = ctx;
    memset(out, 0, sizeof(*out));
    if (strcasecmp(name, "last_insert_id") == 0 ||
        strcasecmp(name, "identity") == 0) {
        out->vt = SQL_VT_UINT;
        out->v.u = s->last_insert_id;
        return 0;
    }
    if (strcasecmp(name, "last_plan_from_cache") == 0) {
        out->vt = SQL_VT_INT; /* TiDB's: the previous statement's plan */
        out->v.i = s->plan_last_cached;
        return 0;
    }
    if (strcasecmp(name, "warning_count") == 0 ||
        strcasecmp(name, "error_count") == 0) {
        out->vt = SQL_VT_UINT;
        out->v.u = strcasecmp(name, "error_count") == 0 ? s->nerrors
                                                          : s->nwarns_total;
        return 0;
    }
    int i = sql__sysvar_find(name);
    if (i < 0)
        return sql__err(err, 1193, "HY000", "Unknown system variable '%s'",
                        name);
    const struct sysvar_def *d = sql__sysvar_def((size_t)i);
    const struct sysvar_val *v;
    if (scope == 2 /* GLOBAL */) {
        if (!(d->scope & SYSVAR_GLOBAL))
            return sql__err(err, 1238, "HY000",
                            "Variable '%s' is a SESSION variable", d->name);
        v = &s->srv->globals[i];
    } else {
        if (scope == 1 && !(d->scope & SYSVAR_SESSION))
            return sql__err(err, 1238, "HY000",
                            "Variable '%s' is a GLOBAL variable", d->name);
        v = sql__sess_var(s, i);
    }
    if (d->kind == SYSVAR_BOOL || d->kind == SYSVAR_UINT) {
        out->vt = d->kind == SYSVAR_BOOL ? SQL_VT_INT : SQL_VT_UINT;
        out->v.u = v->u;
        return 0;
    }
    size_t n = strlen(v->text);
    char *p = sql__arena_strndup(a, v->text, n);
    if (!p)
        return -ENOMEM;
    out->vt = SQL_VT_STRING;
    out->coll = SQL_COLL_UTF8MB4_GENERAL_CI;
    out->v.s.p = p;
    out->v.s.n = n;
    return 0;
}

static int env_subquery_run(void *ctx, void *deferred,
                            const struct sql_datum *outer, size_t nouter,
                            size_t max_rows, struct sql_datum **rows,
                            size_t *nrows, struct sql_arena *a,
                            struct sql_err *err);

static void env_warn(void *ctx, const char *level, uint16_t code,
                     const char *msg)
{
    sql__swarn(ctx, level, code, "%s", msg);
}

int sql__xctx_init(struct sql_xctx *x, struct sql_session *s, bool dml)
{
    memset(x, 0, sizeof(*x));
    x->s = s;
    x->env.sql_mode = sql__sess_sql_mode(s);
    x->env.now_us = s->stmt_start_us;
    x->env.db = s->db;
    x->env.user = s->user[0] ? s->user : "root@localhost";
    x->env.current_user = s->account[0] ? s->account : NULL;
    x->env.conn_id = s->conn_id;
    x->env.last_insert_id = s->last_insert_id;
    x->env.found_rows = s->found_rows;
    x->env.row_count = (uint64_t)s->row_count;
    x->env.params = s->params;
    x->env.nparams = s->nparams;
    x->env.ctx = s;
    x->env.uservar_get = env_uservar_get;
    x->env.uservar_set = env_uservar_set;
    x->env.sysvar_get = env_sysvar_get;
    x->env.warn = env_warn;
    x->env.subquery_run = env_subquery_run;
    x->env.flags = dml ? SQL_EVAL_DML : 0;
    x->ev.env = &x->env;
    x->ev.arena = s->arena;
    x->ev.err = &x->err;
    return sql__sess_txn(s, &x->txn);
}

int sql__xerr(struct sql_xctx *x, int rc)
{
    if (rc == SQL_EQUERY) {
        /* An error met below the executor (a failed read: sql__kverr; an
         * internal check: sql__serr) is the session's already, and so is
         * one an operator below passed on through here: it stays. Only
         * the evaluator's own is in x->err. (Copying x->err over it sent
         * the client an error packet with code 0 when a read under a
         * DISTINCT or a sort failed: issue 9's rolling restart.) */
        struct sql_err *e = &x->s->err;
        if (e->code == 0)
            *e = x->err;
        if (e->code == 0)
            return sql__serr(x->s, 1105, "HY000",
                             "internal error: a statement failed without a "
                             "message");
        if (!e->state[0])
            snprintf(e->state, sizeof(e->state), "HY000");
        return rc;
    }
    if (rc == -ENOMEM)
        return rc;
    return sql__kverr(x->s, rc);
}

int sql__datum_copy(struct sql_arena *a, struct sql_datum *d)
{
    if ((d->vt != SQL_VT_STRING && d->vt != SQL_VT_JSON) || d->v.s.n == 0)
        return 0;
    char *p = sql__arena_alloc(a, d->v.s.n);
    if (!p)
        return -ENOMEM;
    memcpy(p, d->v.s.p, d->v.s.n);
    d->v.s.p = p;
    return 0;
}

/* ---- defaults and row decoding -------------------------------------------- */

/* Evaluate a stored DEFAULT expression (canonical SQL). */
static int eval_text(struct sql_xctx *x, const char *text, struct sql_datum *out)
{
    struct sql_session *s = x->s;
    size_t n = strlen(text);
    char *q = sql__arena_alloc(s->arena, n + 8);
    if (!q)
        return -ENOMEM;
    memcpy(q, "SELECT ", 7);
    memcpy(q + 7, text, n + 1);
    struct sql_parse_result res;
    int rc = sql__parse_one(s->arena, q, n + 7, &res);
    if (rc != 0 || !res.stmt || res.stmt->kind != AST_SELECT)
        return rc == -ENOMEM ? rc
                             : sql__serr(s, 1067, "42000",
                                         "Invalid default value '%.64s'",
                                         text);
    struct sql_expr_scope sc = {0};
    struct sql_expr *e;
    struct sql_ftype t;
    rc = sql__expr_compile(s->arena, res.stmt->select->items->expr, &sc, &e,
                           &t, &x->err);
    if (rc == 0)
        rc = sql__expr_eval(e, &x->ev, NULL, out);
    return rc == 0 ? 0 : sql__xerr(x, rc);
}

int sql__exec_now(struct sql_xctx *x, struct sql_datum *out)
{
    return eval_text(x, "NOW(6)", out);
}

int sql__exec_default(struct sql_xctx *x, const struct sql_tableinfo *t,
                      uint32_t ci, struct sql_datum *out, bool *none)
{
    const struct sql_colinfo *c = &t->cols[ci];
    memset(out, 0, sizeof(*out));
    out->vt = SQL_VT_NULL;
    *none = false;
    if (c->default_sql) {
        struct sql_datum v;
        int rc = eval_text(x, c->default_sql, &v);
        if (rc != 0)
            return rc;
        rc = sql__datum_store(&v, &c->type, c->name, 1, &x->ev, out);
        return rc == 0 ? 0 : sql__xerr(x, rc);
    }
    if (!c->has_default && c->not_null && !c->auto_inc)
        *none = true;
    return 0;
}

int sql__exec_decode_row(struct sql_xctx *x, const struct sql_tableinfo *t,
                         int64_t h, const uint8_t *v, size_t vlen,
                         struct sql_datum *out, struct sql_arena *a)
{
    uint32_t ids[t->ncols ? t->ncols : 1];
    bool found[t->ncols ? t->ncols : 1];
    for (uint32_t i = 0; i < t->ncols; i++)
        ids[i] = t->cols[i].id;
    int rc = sql__row_decode(v, vlen, ids, t->ncols, out, found, a);
    if (rc != 0)
        return sql__serr(x->s, 1105, "HY000",
                         "a stored row of table '%s' is malformed", t->name);
    for (uint32_t i = 0; i < t->ncols; i++) {
        if ((int32_t)i == t->handle_col) {
            memset(&out[i], 0, sizeof(out[i]));
            if (t->cols[i].type.flags & SQL_COLFLAG_UNSIGNED) {
                out[i].vt = SQL_VT_UINT;
                out[i].v.u = (uint64_t)h;
            } else {
                out[i].vt = SQL_VT_INT;
                out[i].v.i = h;
            }
        } else if (!found[i]) {
            /* The row predates the column: its default. */
            bool none;
            rc = sql__exec_default(x, t, i, &out[i], &none);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* ---- operators ------------------------------------------------------------- */

/* Room for cap rows in the output chunk. A point get needs one row, so
 * chunks start at the size the plan suggests and grow when an input chunk
 * is bigger (a point get's fallback to a scan). */
static int chunk_init(struct sql_xnode *n, size_t ncols, size_t cap)
{
    n->out.ncols = ncols;
    n->out.cap = cap;
    n->out.rows = sql__arena_alloc(n->keep, sizeof(struct sql_datum) * cap *
                                                (ncols ? ncols : 1));
    n->out.handles = sql__arena_alloc(n->keep, sizeof(int64_t) * cap);
    return n->out.rows && n->out.handles ? 0 : -ENOMEM;
}

static int chunk_room(struct sql_xnode *n, size_t want)
{
    if (want <= n->out.cap)
        return 0;
    return chunk_init(n, n->out.ncols, want);
}

int sql__xchunk_room(struct sql_xnode *n, size_t want)
{
    return chunk_room(n, want);
}



/* ---- scan -------------------------------------------------------------------- */

/* A constant's datum, as an int64 handle: false when it is not exactly
 * one (the range then cannot be used). */
static bool as_handle(const struct sql_datum *d, int64_t *h)
{
    if (d->vt == SQL_VT_INT) {
        *h = d->v.i;
        return true;
    }
    if (d->vt == SQL_VT_UINT && d->v.u <= (uint64_t)INT64_MAX) {
        *h = (int64_t)d->v.u;
        return true;
    }
    return false;
}

/* Whether a constant may be encoded for a key column of type t without
 * changing which values it matches: same class, or an integer constant
 * for an integer column. */
static bool key_compatible(const struct sql_datum *d,
                           const struct sql_ftype *t)
{
    int vt = sql__ftype_vt(t);
    if (d->vt == vt)
        return true;
    if ((vt == SQL_VT_INT || vt == SQL_VT_UINT) &&
        (d->vt == SQL_VT_INT || d->vt == SQL_VT_UINT))
        return true;
    return false;
}

/* Where an integer constant lies against an integer key column's domain
 * (F25): -1 below it (a negative number for an UNSIGNED column), 1 above
 * it (past INT64_MAX for a signed one), 0 inside or not an integer pair.
 * Encoded as is, such a constant lands at the wrong end of the key order. */
static int key_outside(const struct sql_datum *d, const struct sql_ftype *t)
{
    int vt = sql__ftype_vt(t);
    if (vt == SQL_VT_UINT && d->vt == SQL_VT_INT && d->v.i < 0)
        return -1;
    if (vt == SQL_VT_INT && d->vt == SQL_VT_UINT && d->v.u > (uint64_t)INT64_MAX)
        return 1;
    return 0;
}

/* A string constant against a DATE or DATETIME key column (TPC-H's
 * `o_orderdate >= '1994-01-01'`): as the column's own value when the
 * string is a whole datetime (nothing to warn about), which is how the
 * comparison reads it, so the range gets its bound; *inexact when the key
 * cannot hold it exactly (a DATE with a time of day, a fraction past what
 * the key keeps): then the bound takes that whole key value in (the
 * condition still filters). False: no bound from it. */
static bool key_temporal(const struct sql_datum *d, const struct sql_ftype *t,
                         struct sql_datum *out, bool *inexact)
{
    *inexact = false;
    if (d->vt != SQL_VT_STRING ||
        (t->tp != SQL_TYPE_DATE && t->tp != SQL_TYPE_NEWDATE &&
         t->tp != SQL_TYPE_DATETIME))
        return false;
    struct sql_time tm;
    int fsp = 0;
    if (sql__time_parse_datetime(d->v.s.p, d->v.s.n, &tm, &fsp) != 0)
        return false;
    int vt = sql__ftype_vt(t);
    if (vt != SQL_VT_DATE && vt != SQL_VT_DATETIME)
        return false;
    memset(out, 0, sizeof(*out));
    out->vt = (uint8_t)vt;
    if (out->vt == SQL_VT_DATE &&
        (tm.hour || tm.minute || tm.second || tm.micro)) {
        tm.hour = tm.minute = tm.second = 0;
        tm.micro = 0;
        *inexact = true;
    } else if (out->vt == SQL_VT_DATETIME && tm.micro) {
        *inexact = true; /* the key may round or cut the fraction */
    }
    out->v.t = tm;
    return true;
}

static uint8_t *dup_bytes(struct sql_arena *a, const void *p, size_t n)
{
    uint8_t *q = sql__arena_alloc(a, n ? n : 1);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static int cmp_range(const void *x, const void *y)
{
    const struct range_keys *a = x, *b = y;
    return key_cmp(a->start, a->slen, b->start, b->slen);
}

/* Key ranges of the access path; *full when a constant could not be used
 * (then the whole table is read, the filter decides). */
static int scan_ranges(struct sql_xctx *x, struct sql_xnode *n, bool *full,
                       bool *empty)
{
    const struct plan_access *acc = &n->p->acc;
    const struct sql_tableinfo *t = acc->t;
    *full = false;
    *empty = false;
    n->ranges = sql__arena_zalloc(n->rs, sizeof(*n->ranges) *
                                               (acc->nranges + 1));
    if (!n->ranges)
        return -ENOMEM;
    struct sql__buf b = {0};
    int rc = 0;
    for (size_t r = 0; r < acc->nranges && rc == 0; r++) {
        const struct plan_range *pr = &acc->ranges[r];
        struct sql_datum d;
        bool skip = false;
        b.len = 0;
        if (acc->idx < 0) {
            /* handle ranges */
            int64_t lo = INT64_MIN, hi = INT64_MAX;
            bool lo_incl = true, hi_incl = true;
            if (pr->neq) {
                if ((rc = sql__expr_eval(pr->eq[0], &x->ev, n->outer, &d)) != 0)
                    break;
                if (d.vt == SQL_VT_NULL) {
                    skip = true;
                } else if (!as_handle(&d, &lo)) {
                    *full = true;
                    break;
                }
                hi = lo;
            }
            if (pr->lo && !skip) {
                if ((rc = sql__expr_eval(pr->lo, &x->ev, n->outer, &d)) != 0)
                    break;
                if (d.vt == SQL_VT_NULL)
                    skip = true;
                else if (as_handle(&d, &lo))
                    lo_incl = pr->lo_incl;
            }
            if (pr->hi && !skip) {
                if ((rc = sql__expr_eval(pr->hi, &x->ev, n->outer, &d)) != 0)
                    break;
                if (d.vt == SQL_VT_NULL)
                    skip = true;
                else if (as_handle(&d, &hi))
                    hi_incl = pr->hi_incl;
            }
            if (skip)
                continue;
            if (!lo_incl) {
                if (lo == INT64_MAX)
                    continue;
                lo++;
            }
            if (!hi_incl) {
                if (hi == INT64_MIN)
                    continue;
                hi--;
            }
            if (lo > hi)
                continue;
            uint8_t k1[SQL_TC_ROW_KEY_LEN], k2[SQL_TC_ROW_KEY_LEN];
            sql__tc_row_key(k1, t->id, lo);
            sql__tc_row_key(k2, t->id, hi);
            struct range_keys *rk = &n->ranges[n->nranges];
            rk->start = dup_bytes(n->rs, k1, sizeof(k1));
            rk->slen = sizeof(k1);
            rk->end = sql__arena_alloc(n->rs, sizeof(k2));
            if (!rk->start || !rk->end) {
                rc = -ENOMEM;
                break;
            }
            rk->elen = sizeof(k2);
            if (!sql__tc_prefix_next(k2, sizeof(k2), rk->end))
                continue;
            n->nranges++;
            continue;
        }
        /* index ranges */
        const struct sql_idxinfo *ix = &t->idx[acc->idx];
        uint8_t pre[SQL_TC_INDEX_PREFIX_LEN];
        sql__tc_index_prefix(pre, t->id, ix->id);
        rc = sql__buf_put(&b, pre, sizeof(pre));
        for (uint32_t k = 0; rc == 0 && k < pr->neq && !skip; k++) {
            const struct sql_ftype *ct = &t->cols[ix->cols[k]].type;
            if ((rc = sql__expr_eval(pr->eq[k], &x->ev, n->outer, &d)) != 0)
                break;
            struct sql_datum conv;
            bool inexact;
            if (!key_compatible(&d, ct) &&
                key_temporal(&d, ct, &conv, &inexact) && !inexact)
                d = conv;
            if (d.vt == SQL_VT_NULL && pr->eq_nullsafe && pr->eq_nullsafe[k])
                rc = sql__key_append(&b, &d, ct); /* NULL <=> NULL */
            else if (d.vt == SQL_VT_NULL || key_outside(&d, ct) != 0)
                skip = true; /* nothing in the column equals it */
            else if (!key_compatible(&d, ct) || ix->prefix[k] > 0) {
                *full = true;
                break;
            } else
                rc = sql__key_append(&b, &d, ct);
        }
        if (rc != 0 || *full)
            break;
        if (skip)
            continue;
        size_t plen = b.len;
        struct range_keys *rk = &n->ranges[n->nranges];
        uint8_t *prefix = dup_bytes(n->rs, b.p, plen);
        uint8_t *pnext = sql__arena_alloc(n->rs, plen);
        if (!prefix || !pnext) {
            rc = -ENOMEM;
            break;
        }
        sql__tc_prefix_next(prefix, plen, pnext);
        rk->start = prefix;
        rk->slen = plen;
        rk->end = pnext;
        rk->elen = plen;
        const struct sql_ftype *nt =
            pr->neq < ix->ncols ? &t->cols[ix->cols[pr->neq]].type : NULL;
        bool prefixed = pr->neq < ix->ncols && ix->prefix[pr->neq] > 0;
        struct sql_datum conv;
        bool inexact = false;
        if (pr->lo && nt && !prefixed) {
            if ((rc = sql__expr_eval(pr->lo, &x->ev, n->outer, &d)) != 0)
                break;
            if (d.vt == SQL_VT_NULL || key_outside(&d, nt) > 0)
                continue;
            if (!key_compatible(&d, nt) &&
                key_temporal(&d, nt, &conv, &inexact))
                d = conv;
            if (key_compatible(&d, nt) && key_outside(&d, nt) == 0) {
                b.len = plen;
                if ((rc = sql__key_append(&b, &d, nt)) != 0)
                    break;
                uint8_t *k = dup_bytes(n->rs, b.p, b.len);
                if (!k) {
                    rc = -ENOMEM;
                    break;
                }
                if (!pr->lo_incl && !inexact)
                    sql__tc_prefix_next(k, b.len, k);
                rk->start = k;
                rk->slen = b.len;
            } else {
                /* NULLs sort first: a bound still excludes them. */
            }
        }
        if (pr->hi && nt && !prefixed) {
            if ((rc = sql__expr_eval(pr->hi, &x->ev, n->outer, &d)) != 0)
                break;
            if (d.vt == SQL_VT_NULL || key_outside(&d, nt) < 0)
                continue;
            inexact = false;
            if (!key_compatible(&d, nt) &&
                key_temporal(&d, nt, &conv, &inexact))
                d = conv;
            if (key_compatible(&d, nt) && key_outside(&d, nt) == 0) {
                b.len = plen;
                if ((rc = sql__key_append(&b, &d, nt)) != 0)
                    break;
                uint8_t *k = dup_bytes(n->rs, b.p, b.len);
                if (!k) {
                    rc = -ENOMEM;
                    break;
                }
                if (pr->hi_incl || inexact)
                    sql__tc_prefix_next(k, b.len, k);
                rk->end = k;
                rk->elen = b.len;
            }
        }
        n->nranges++;
    }
    sql__buf_free(&b);
    if (rc != 0)
        return sql__xerr(x, rc);
    if (*full)
        return 0;
    /* Key order, each range once: IN ('a', 'A') under a case-insensitive
     * collation, or IN (1, 1), encodes the same key twice, and the row
     * must still come back once. Ranges that overlap merge. */
    qsort(n->ranges, n->nranges, sizeof(*n->ranges), cmp_range);
    size_t k = 0;
    for (size_t i = 0; i < n->nranges; i++) {
        if (k > 0 && key_cmp(n->ranges[i].start, n->ranges[i].slen,
                             n->ranges[k - 1].end, n->ranges[k - 1].elen) < 0) {
            struct range_keys *prev = &n->ranges[k - 1];
            if (key_cmp(n->ranges[i].end, n->ranges[i].elen, prev->end,
                        prev->elen) > 0) {
                prev->end = n->ranges[i].end;
                prev->elen = n->ranges[i].elen;
            }
            continue;
        }
        n->ranges[k++] = n->ranges[i];
    }
    n->nranges = k;
    *empty = n->nranges == 0;
    return 0;
}

static int full_range(struct sql_xnode *n)
{
    uint8_t p[SQL_TC_PREFIX_LEN], e[SQL_TC_PREFIX_LEN];
    sql__tc_prefix(p, n->p->acc.t->id, 'r');
    sql__tc_prefix_next(p, sizeof(p), e);
    n->ranges = sql__arena_zalloc(n->rs, sizeof(*n->ranges));
    if (!n->ranges)
        return -ENOMEM;
    n->ranges[0].start = dup_bytes(n->rs, p, sizeof(p));
    n->ranges[0].end = dup_bytes(n->rs, e, sizeof(e));
    n->ranges[0].slen = n->ranges[0].elen = sizeof(p);
    n->nranges = 1;
    return n->ranges[0].start && n->ranges[0].end ? 0 : -ENOMEM;
}

static int cmp_keys(const void *a, const void *b)
{
    const struct mvcc_kvpair *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Emit the rows whose row-key pairs are in res (in that order). */
static int emit_rows(struct sql_xctx *x, struct sql_xnode *n,
                     struct sql_kvres *res, size_t from, size_t to)
{
    const struct sql_tableinfo *t = n->p->acc.t;
    int rc = 0;
    for (size_t i = from; i < to; i++) {
        int64_t h;
        struct mvcc_kvpair *kp = &res->r.pairs[i];
        if (!sql__tc_row_handle(kp->key, kp->key_len, t->id, &h))
            continue;
        struct sql_datum *row = sql__xrow(&n->out, n->out.n);
        if (n->out.ncols > t->ncols) /* a joined row: the others NULL */
            memset(row, 0, sizeof(*row) * n->out.ncols);
        rc = sql__exec_decode_row(x, t, h, kp->value, kp->value_len,
                                  row + n->p->row_off, n->arena);
        if (rc != 0 || (rc = sql__xscan_keep(x, n, row, h)) != 0)
            return rc;
    }
    return 0;
}

int sql__xscan_keep(struct sql_xctx *x, struct sql_xnode *n,
                    const struct sql_datum *row, int64_t h)
{
    if (n->p->cond) {
        int truth;
        int rc = sql__expr_eval_bool(n->p->cond, &x->ev, row, &truth);
        if (rc != 0)
            return sql__xerr(x, rc);
        if (truth != 1)
            return 0;
    }
    n->out.handles[n->out.n++] = h;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Fetch rows by handle (index lookups, batch point gets), in the order
 * given. */
static int fetch_handles(struct sql_xctx *x, struct sql_xnode *n,
                         const int64_t *hs, size_t nh)
{
    const struct sql_tableinfo *t = n->p->acc.t;
    if (nh == 0)
        return 0;
    struct mvcc_key *keys = sql__arena_alloc(n->arena, sizeof(*keys) * nh);
    uint8_t *kb = sql__arena_alloc(n->arena, SQL_TC_ROW_KEY_LEN * nh);
    int64_t *sorted = sql__arena_alloc(n->arena, sizeof(*sorted) * nh);
    if (!keys || !kb || !sorted)
        return -ENOMEM;
    /* Asked in key order: the store's seeks then move forward through
     * its blocks rather than jump about (an index gives handles in its own
     * order); the rows still come out in the order of hs. */
    memcpy(sorted, hs, sizeof(*sorted) * nh);
    qsort(sorted, nh, sizeof(*sorted), cmp_i64);
    for (size_t i = 0; i < nh; i++) {
        sql__tc_row_key(kb + i * SQL_TC_ROW_KEY_LEN, t->id, sorted[i]);
        keys[i].data = kb + i * SQL_TC_ROW_KEY_LEN;
        keys[i].len = SQL_TC_ROW_KEY_LEN;
    }
    if (n->p->lock) {
        int rc = sql__sess_lock(x->s, x->txn, keys, nh);
        if (rc != 0)
            return sql__kverr(x->s, rc);
    }
    int rc = sql__kvtxn_batch_get(x->txn, keys, nh, &n->res);
    if (rc != 0)
        return sql__kverr(x->s, rc);
    if (n->res.r.npairs == 0)
        return 0;
    /* Back in the order asked. */
    qsort(n->res.r.pairs, n->res.r.npairs, sizeof(*n->res.r.pairs), cmp_keys);
    struct sql_kvres one;
    uint8_t want[SQL_TC_ROW_KEY_LEN];
    for (size_t i = 0; i < nh; i++) {
        sql__tc_row_key(want, t->id, hs[i]);
        struct mvcc_kvpair key = {.key = want, .key_len = sizeof(want)};
        struct mvcc_kvpair *kp =
            bsearch(&key, n->res.r.pairs, n->res.r.npairs,
                    sizeof(*n->res.r.pairs), cmp_keys);
        if (!kp)
            continue;
        one.r.pairs = kp;
        one.r.npairs = 1;
        if ((rc = emit_rows(x, n, &one, 0, 1)) != 0)
            return rc;
    }
    return 0;
}

static int scan_open(struct sql_xctx *x, struct sql_xnode *n)
{
    const struct plan_access *acc = &n->p->acc;
    if (acc->kind == ACC_VIRTUAL) {
        /* information_schema: every row now, emitted like kept rows; a
         * derived table's the first time one of its scans opens. */
        struct plan_vrows *v = n->p->vrows;
        struct sql_datum *rows = NULL;
        size_t nrows = 0;
        int rc = v ? sql__vrows_make(x->s, v)
                   : sql__is_rows(x, acc->t, n->keep, &rows, &nrows);
        if (rc == SQL_EQUERY && v)
            x->err = x->s->err; /* its run's error, which operators above
                                   pass on as this run's (sql__xerr) */
        if (rc != 0)
            return rc;
        if (v) {
            rows = v->rows;
            nrows = v->nrows;
        }
        n->rows = rows;
        n->nrows = nrows;
        n->rhandles = sql__arena_zalloc(n->keep,
                                        sizeof(int64_t) * (nrows + 1));
        return n->rhandles ? 0 : -ENOMEM;
    }
    bool full = acc->kind == ACC_FULL, empty = false;
    int rc = 0;
    if (!full)
        rc = scan_ranges(x, n, &full, &empty);
    if (rc != 0)
        return rc;
    if (full) {
        n->nranges = 0;
        /* The access path fell back: read the table, a chunk at a time. */
        if ((rc = chunk_room(n, SQL_CHUNK_ROWS)) != 0)
            return rc;
        return full_range(n);
    }
    if (empty) {
        n->done = true;
        return 0;
    }
    if (acc->kind == ACC_POINT || acc->kind == ACC_BATCH_POINT) {
        /* Each range is one handle: fetch them all at once, in key order
         * (descending for a descending scan), duplicates once. */
        n->pending = sql__arena_alloc(n->rs, sizeof(int64_t) * n->nranges);
        if (!n->pending)
            return -ENOMEM;
        for (size_t i = 0; i < n->nranges; i++)
            n->pending[i] = sql__tc_get_i64(n->ranges[i].start +
                                            SQL_TC_PREFIX_LEN);
        qsort(n->pending, n->nranges, sizeof(int64_t), cmp_i64);
        size_t k = 0;
        for (size_t i = 0; i < n->nranges; i++)
            if (k == 0 || n->pending[k - 1] != n->pending[i])
                n->pending[k++] = n->pending[i];
        n->npending = k;
        n->nranges = 0;
    }
    return 0;
}

/* Index entries' handles: the value (unique, no NULL) or the key's last
 * 8 bytes; NULL when out of memory. */
static int64_t *entry_handles(struct sql_xnode *n, const struct sql_kvres *res,
                              size_t *nh)
{
    int64_t *hs = sql__arena_alloc(n->arena,
                                   sizeof(int64_t) * (res->r.npairs + 1));
    *nh = 0;
    for (size_t i = 0; hs && i < res->r.npairs; i++) {
        const struct mvcc_kvpair *kp = &res->r.pairs[i];
        if (kp->value_len == 8)
            hs[(*nh)++] = sql__tc_get_i64(kp->value);
        else if (kp->key_len >= SQL_TC_INDEX_PREFIX_LEN + 8)
            hs[(*nh)++] = sql__tc_get_i64(kp->key + kp->key_len - 8);
    }
    return hs;
}

static int scan_next(struct sql_xctx *x, struct sql_xnode *n)
{
    const struct plan_access *acc = &n->p->acc;
    const struct sql_tableinfo *t = acc->t;
    if (acc->kind == ACC_VIRTUAL) {
        size_t nc = t->ncols;
        while (n->pos < n->nrows && n->out.n < n->out.cap) {
            struct sql_datum *in = n->rows + n->pos++ * nc;
            struct sql_datum *row = sql__xrow(&n->out, n->out.n);
            memset(row, 0, sizeof(*row) * n->out.ncols);
            memcpy(row + n->p->row_off, in, sizeof(*row) * nc);
            int rc = sql__xscan_keep(x, n, row, 0);
            if (rc != 0)
                return rc;
        }
        if (n->out.n == 0)
            n->done = true;
        return 0;
    }
    bool index = acc->idx >= 0 && acc->kind != ACC_FULL && n->nranges > 0 &&
                 n->ranges[0].slen >= SQL_TC_INDEX_PREFIX_LEN &&
                 n->ranges[0].start[10] == 'i';
    while (n->out.n == 0 && !n->done) {
        if (n->ppos < n->npending) {
            size_t take = n->npending - n->ppos;
            if (take > n->out.cap)
                take = n->out.cap;
            int rc = fetch_handles(x, n, n->pending + n->ppos, take);
            if (rc != 0)
                return rc;
            n->ppos += take;
            continue;
        }
        if (n->cur >= n->nranges) {
            n->done = true;
            break;
        }
        struct range_keys *rk = &n->ranges[n->cur];
        const uint8_t *start = n->resume ? n->resume : rk->start;
        size_t slen = n->resume ? n->resume_len : rk->slen;
        const uint8_t *end = rk->end;
        size_t elen = rk->elen;
        if (acc->desc && n->resume) {
            start = rk->start;
            slen = rk->slen;
            end = n->resume;
            elen = n->resume_len;
        }
        if (n->cop || /* a stream open goes on whatever the txn did since */
            (sql__cop_usable(x, n->p) && index == (n->p->cop->index != 0))) {
            /* the coprocessor filters next to the data (cop_client.c):
             * rows, or an index's entries whose rows are then read */
            struct sql_kvres cres;
            bool fin;
            size_t nh = 0;
            int64_t *hs = NULL;
            int rc = sql__cop_scan(x, n->p, &n->cop, n->arena, start, slen,
                                   end, elen, &cres, &fin);
            if (rc == 0 && index && !(hs = entry_handles(n, &cres, &nh)))
                rc = -ENOMEM;
            if (rc == 0 && index)
                rc = chunk_room(n, nh > cres.r.npairs ? nh : cres.r.npairs);
            if (rc == 0 && index && sql__xscan_index_only(n))
                rc = sql__xemit_entries(x, n, &cres);
            else if (rc == 0 && index)
                rc = fetch_handles(x, n, hs, nh);
            if (rc == 0 && !index)
                rc = chunk_room(n, cres.r.npairs);
            if (rc == 0 && !index)
                rc = emit_rows(x, n, &cres, 0, cres.r.npairs);
            if (rc != 0)
                return rc;
            if (fin)
                n->cur++;
            continue;
        }
        int rc = sql__kvtxn_scan(x->txn, start, slen, end, elen,
                                 n->out.cap, acc->desc, &n->res);
        if (rc != 0)
            return sql__kverr(x->s, rc);
        size_t got = n->res.r.npairs;
        if (got < n->out.cap || acc->kind == ACC_UNIQUE_POINT) {
            n->cur++;
            n->resume = NULL;
        } else {
            /* Go on after (before, descending) the last key. */
            struct mvcc_kvpair *last = &n->res.r.pairs[got - 1];
            n->resume = sql__arena_alloc(n->rs, last->key_len + 1);
            if (!n->resume)
                return -ENOMEM;
            memcpy(n->resume, last->key, last->key_len);
            n->resume_len = last->key_len;
            if (!acc->desc)
                n->resume[n->resume_len++] = 0;
        }
        if (!index) {
            if (n->p->lock && got > 0) {
                struct mvcc_key *keys =
                    sql__arena_alloc(n->arena, sizeof(*keys) * got);
                if (!keys)
                    return -ENOMEM;
                for (size_t i = 0; i < got; i++) {
                    keys[i].data = n->res.r.pairs[i].key;
                    keys[i].len = n->res.r.pairs[i].key_len;
                }
                if ((rc = sql__sess_lock(x->s, x->txn, keys, got)) != 0)
                    return sql__kverr(x->s, rc);
            }
            if ((rc = emit_rows(x, n, &n->res, 0, got)) != 0)
                return rc;
            continue;
        }
        /* Index entries: their rows by handle, or the rows they make. */
        if (sql__xscan_index_only(n)) {
            if ((rc = sql__xemit_entries(x, n, &n->res)) != 0)
                return rc;
            continue;
        }
        size_t nh;
        int64_t *hs = entry_handles(n, &n->res, &nh);
        if (!hs)
            return -ENOMEM;
        struct sql_kvres keep = n->res;
        sql__kvres_init(&n->res);
        rc = fetch_handles(x, n, hs, nh);
        sql__kvres_reset(&keep);
        if (rc != 0)
            return rc;
    }
    (void)t;
    return 0;
}

int sql__xscan_open(struct sql_xctx *x, struct sql_xnode *n)
{
    n->opened = true;
    return scan_open(x, n);
}

void sql__xscan_rescan(struct sql_xnode *n, const struct sql_datum *outer)
{
    sql__arena_reset(n->rs);
    sql__cop_iter_free(n->cop);
    n->cop = NULL;
    n->outer = outer;
    n->opened = false;
    n->done = false;
    n->ranges = NULL;
    n->nranges = n->cur = 0;
    n->resume = NULL;
    n->resume_len = 0;
    n->pending = NULL;
    n->npending = n->ppos = 0;
}

/* ---- materializing helpers ---------------------------------------------------- */

int sql__xkeep_row(struct sql_xnode *n, const struct sql_datum *row,
                   size_t ncols, int64_t handle)
{
    if (n->nrows == n->caprows) {
        size_t cap = n->caprows ? n->caprows * 2 : 256;
        struct sql_datum *r =
            sql__arena_alloc(n->keep, sizeof(*r) * cap * (ncols ? ncols : 1));
        int64_t *h = sql__arena_alloc(n->keep, sizeof(*h) * cap);
        if (!r || !h)
            return -ENOMEM;
        if (n->nrows) {
            memcpy(r, n->rows, sizeof(*r) * n->nrows * ncols);
            memcpy(h, n->rhandles, sizeof(*h) * n->nrows);
        }
        n->rows = r;
        n->rhandles = h;
        n->caprows = cap;
    }
    struct sql_datum *dst = n->rows + n->nrows * ncols;
    memcpy(dst, row, sizeof(*dst) * ncols);
    for (size_t i = 0; i < ncols; i++)
        if (sql__datum_copy(n->keep, &dst[i]) != 0)
            return -ENOMEM;
    n->rhandles[n->nrows++] = handle;
    return 0;
}

struct sort_ctx
{
    struct sql_xctx *x;           /* errors */
    const struct plan *p;         /* keys */
    size_t ncols;                 /* row width */
    struct sql_datum *rows;       /* the rows */
    int rc;                       /* first comparison error */
    const uint16_t *coll;         /* per sort key: its collation */
};

/* An ENUM or SET value: sorts by its number, not its text. */
static bool is_enumset(const struct sql_datum *d)
{
    return d->fsp == SQL_ENUM_TAG || d->fsp == SQL_SET_TAG;
}

static int sort_cmp(const void *a, const void *b, void *arg)
{
    struct sort_ctx *sc = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const struct sql_datum *ra = sc->rows + i * sc->ncols;
    const struct sql_datum *rb = sc->rows + j * sc->ncols;
    for (size_t k = 0; k < sc->p->nsort; k++) {
        uint32_t c = sc->p->sort_cols[k];
        const struct sql_datum *x = &ra[c], *y = &rb[c];
        int r;
        if (x->vt == SQL_VT_NULL || y->vt == SQL_VT_NULL) {
            r = (x->vt != SQL_VT_NULL) - (y->vt != SQL_VT_NULL);
        } else if (x->vt == SQL_VT_STRING && y->vt == SQL_VT_STRING &&
                   !is_enumset(x) && !is_enumset(y)) {
            /* what sql__datum_cmp does for two plain strings, without
             * its dispatch (the key's collation was found once) */
            r = sql__coll_cmp(sc->coll[k], x->v.s.p, x->v.s.n, y->v.s.p,
                              y->v.s.n);
        } else if (x->vt == SQL_VT_INT && y->vt == SQL_VT_INT) {
            r = x->v.i < y->v.i ? -1 : x->v.i > y->v.i;
        } else {
            struct sql_err err;
            if (sql__datum_cmp(x, y, sc->coll[k], &r, &err) != 0) {
                if (sc->rc == 0) {
                    sc->rc = SQL_EQUERY;
                    sc->x->err = err;
                }
                r = 0;
            }
        }
        if (r != 0)
            return sc->p->sort_desc[k] ? -r : r;
    }
    return (i > j) - (i < j); /* stable */
}

static int sort_all(struct sql_xctx *x, struct sql_xnode *n)
{
    size_t nc = n->child->out.ncols;
    struct sql_chunk *c;
    int rc;
    while ((rc = sql__exec_next(x, n->child, &c)) == 0 && c->n > 0)
        for (size_t i = 0; i < c->n; i++)
            if ((rc = sql__xkeep_row(n, sql__xrow(c, i), nc, c->handles[i])) != 0)
                return rc;
    if (rc != 0)
        return rc;
    size_t *idx = sql__arena_alloc(n->keep, sizeof(size_t) * (n->nrows + 1));
    if (!idx)
        return -ENOMEM;
    for (size_t i = 0; i < n->nrows; i++)
        idx[i] = i;
    uint16_t *colls =
        sql__arena_alloc(n->keep, sizeof(uint16_t) * (n->p->nsort + 1));
    if (!colls)
        return -ENOMEM;
    for (size_t k = 0; k < n->p->nsort; k++) {
        uint16_t coll = n->p->cols[n->p->sort_cols[k]].type.coll;
        colls[k] = coll ? coll : SQL_COLL_BINARY;
    }
    struct sort_ctx sc = {x, n->p, nc, n->rows, 0, colls};
    qsort_r(idx, n->nrows, sizeof(size_t), sort_cmp, &sc);
    if (sc.rc != 0)
        return sql__xerr(x, sc.rc);
    struct sql_datum *sorted =
        sql__arena_alloc(n->keep, sizeof(*sorted) * (n->nrows * nc + 1));
    int64_t *hs = sql__arena_alloc(n->keep, sizeof(*hs) * (n->nrows + 1));
    if (!sorted || !hs)
        return -ENOMEM;
    for (size_t i = 0; i < n->nrows; i++) {
        memcpy(sorted + i * nc, n->rows + idx[i] * nc, sizeof(*sorted) * nc);
        hs[i] = n->rhandles[idx[i]];
    }
    n->rows = sorted;
    n->rhandles = hs;
    return 0;
}

static int emit_kept(struct sql_xnode *n)
{
    size_t nc = n->out.ncols;
    while (n->pos < n->nrows && n->out.n < n->out.cap) {
        memcpy(sql__xrow(&n->out, n->out.n), n->rows + n->pos * nc,
               sizeof(struct sql_datum) * nc);
        n->out.handles[n->out.n++] = n->rhandles[n->pos++];
    }
    return 0;
}

/* An integer LIMIT/OFFSET value. */
static int limit_value(struct sql_xctx *x, const struct sql_expr *e,
                       uint64_t dflt, uint64_t *out)
{
    *out = dflt;
    if (!e)
        return 0;
    struct sql_datum d;
    int rc = sql__expr_eval(e, &x->ev, NULL, &d);
    if (rc != 0)
        return sql__xerr(x, rc);
    if (d.vt == SQL_VT_INT && d.v.i >= 0)
        *out = (uint64_t)d.v.i;
    else if (d.vt == SQL_VT_UINT)
        *out = d.v.u;
    else if (d.vt == SQL_VT_STRING && d.v.s.n > 0 && d.v.s.n < 21) {
        char buf[24];
        memcpy(buf, d.v.s.p, d.v.s.n);
        buf[d.v.s.n] = '\0';
        char *end;
        *out = strtoull(buf, &end, 10);
        if (*end)
            return sql__serr(x->s, 1210, "HY000",
                             "Incorrect arguments to LIMIT");
    } else
        return sql__serr(x->s, 1210, "HY000", "Incorrect arguments to LIMIT");
    return 0;
}

/* ---- aggregation and distinct -------------------------------------------------- */

/* The group table's hash: 8 bytes a step (group keys of strings are two
 * bytes a character, so FNV's byte steps cost most of a DISTINCT). Only
 * the slots depend on it, never the order groups come out in. */
static uint64_t group_hash(const uint8_t *p, size_t n)
{
    const uint64_t mul = 0x9E3779B97F4A7C15u;
    uint64_t h = 14695981039346656037u ^ n, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * mul;
        h ^= h >> 29;
    }
    w = 0;
    if (n > i)
        memcpy(&w, p + i, n - i);
    h = (h ^ w) * mul;
    return h ^ (h >> 32);
}

static int group_find(struct sql_xnode *n, const uint8_t *key, size_t klen,
                      bool *created, struct group **out)
{
    if ((n->ngroups + 1) * 2 > n->nslots) {
        size_t ns = n->nslots ? n->nslots * 2 : 64;
        uint32_t *sl = sql__arena_zalloc(n->keep, sizeof(*sl) * ns);
        if (!sl)
            return -ENOMEM;
        for (size_t g = 0; g < n->ngroups; g++) {
            size_t i = group_hash(n->groups[g].key, n->groups[g].klen) &
                       (ns - 1);
            while (sl[i])
                i = (i + 1) & (ns - 1);
            sl[i] = (uint32_t)(g + 1);
        }
        n->slots = sl;
        n->nslots = ns;
    }
    size_t m = n->nslots - 1;
    size_t i = group_hash(key, klen) & m;
    for (; n->slots[i]; i = (i + 1) & m) {
        struct group *g = &n->groups[n->slots[i] - 1];
        if (g->klen == klen && memcmp(g->key, key, klen) == 0) {
            *created = false;
            *out = g;
            return 0;
        }
    }
    if (n->ngroups == n->capgroups) {
        size_t cap = n->capgroups ? n->capgroups * 2 : 64;
        struct group *gs = sql__arena_alloc(n->keep, sizeof(*gs) * cap);
        if (!gs)
            return -ENOMEM;
        if (n->ngroups)
            memcpy(gs, n->groups, sizeof(*gs) * n->ngroups);
        n->groups = gs;
        n->capgroups = cap;
    }
    struct group *g = &n->groups[n->ngroups];
    memset(g, 0, sizeof(*g));
    g->key = dup_bytes(n->keep, key, klen);
    if (!g->key)
        return -ENOMEM;
    g->klen = klen;
    n->slots[i] = (uint32_t)(++n->ngroups);
    *created = true;
    *out = g;
    return 0;
}

int sql__xgroup_key(struct sql__buf *kb, const struct sql_datum *d)
{
    struct sql_ftype t = {0};
    t.tp = SQL_TYPE_NULL;
    /* the key's own class: group by value */
    switch (d->vt) {
    case SQL_VT_INT:
        t.tp = SQL_TYPE_LONGLONG;
        break;
    case SQL_VT_UINT:
        t.tp = SQL_TYPE_LONGLONG;
        t.flags = SQL_COLFLAG_UNSIGNED;
        break;
    case SQL_VT_DOUBLE:
        t.tp = SQL_TYPE_DOUBLE;
        break;
    case SQL_VT_DECIMAL:
        t.tp = SQL_TYPE_NEWDECIMAL;
        break;
    case SQL_VT_STRING:
        t.tp = SQL_TYPE_VAR_STRING;
        t.coll = d->coll ? d->coll : SQL_COLL_BINARY;
        break;
    case SQL_VT_DATE:
        t.tp = SQL_TYPE_DATE;
        break;
    case SQL_VT_DATETIME:
        t.tp = SQL_TYPE_DATETIME;
        break;
    case SQL_VT_TIME:
        t.tp = SQL_TYPE_TIME;
        break;
    default:
        break;
    }
    return sql__key_append(kb, d, &t);
}

int sql__xgroup_find(struct sql_xnode *n, const uint8_t *key, size_t klen,
                     bool *created, struct group **out)
{
    return group_find(n, key, klen, created, out);
}

static int agg_consume(struct sql_xctx *x, struct sql_xnode *n)
{
    const struct plan *p = n->p;
    struct sql__buf kb = {0};
    struct sql_chunk *c;
    int rc = 0;
    /* partial aggregates merged from next to the data (cop_agg.c), or 1:
     * aggregate the input rows here */
    int pull = sql__cop_agg_consume(x, n);
    if (pull < 0)
        return pull;
    struct sql_datum *kv =
        sql__arena_alloc(n->keep, sizeof(*kv) * (p->nkeys + 1));
    if (!kv)
        return -ENOMEM;
    while (pull && (rc = sql__exec_next(x, n->child, &c)) == 0 && c->n > 0) {
        for (size_t r = 0; r < c->n && rc == 0; r++) {
            struct sql_datum *row = sql__xrow(c, r);
            kb.len = 0;
            for (size_t k = 0; k < p->nkeys && rc == 0; k++) {
                rc = sql__expr_eval(p->keys[k], &x->ev, row, &kv[k]);
                if (rc == 0)
                    rc = sql__xgroup_key(&kb, &kv[k]);
            }
            if (rc != 0)
                break;
            bool created;
            struct group *g;
            if ((rc = group_find(n, kb.p ? kb.p : (const uint8_t *)"", kb.len,
                                 &created, &g)) != 0)
                break;
            if (created) {
                g->keys = sql__arena_alloc(n->keep, sizeof(*g->keys) *
                                                        (p->nkeys + 1));
                g->firsts = sql__arena_zalloc(n->keep, sizeof(*g->firsts) *
                                                           (p->naggs + 1));
                g->st = sql__arena_zalloc(n->keep,
                                          sizeof(*g->st) * (p->naggs + 1));
                if (!g->keys || !g->firsts || !g->st) {
                    rc = -ENOMEM;
                    break;
                }
                for (size_t k = 0; k < p->nkeys && rc == 0; k++) {
                    g->keys[k] = kv[k];
                    rc = sql__datum_copy(n->keep, &g->keys[k]);
                }
                for (size_t a = 0; a < p->naggs && rc == 0; a++) {
                    if (p->aggs[a])
                        rc = sql__agg_init(p->aggs[a], n->keep, &g->st[a]);
                    else {
                        g->firsts[a] = row[p->firsts[a]];
                        rc = sql__datum_copy(n->keep, &g->firsts[a]);
                    }
                }
                if (rc != 0)
                    break;
            }
            for (size_t a = 0; a < p->naggs && rc == 0; a++)
                if (p->aggs[a])
                    rc = sql__agg_update(p->aggs[a], g->st[a], &x->ev, row);
        }
        if (rc != 0)
            break;
    }
    sql__buf_free(&kb);
    if (rc != 0)
        return sql__xerr(x, rc);
    if (n->ngroups == 0 && p->scalar) {
        /* No rows, no GROUP BY: one row of empty aggregates. */
        bool created;
        struct group *g;
        if ((rc = group_find(n, (const uint8_t *)"", 0, &created, &g)) != 0)
            return rc;
        g->keys = NULL;
        g->firsts = sql__arena_zalloc(n->keep, sizeof(*g->firsts) *
                                                   (p->naggs + 1));
        g->st = sql__arena_zalloc(n->keep, sizeof(*g->st) * (p->naggs + 1));
        if (!g->firsts || !g->st)
            return -ENOMEM;
        for (size_t a = 0; a < p->naggs; a++) {
            g->firsts[a].vt = SQL_VT_NULL;
            if (p->aggs[a] &&
                (rc = sql__agg_init(p->aggs[a], n->keep, &g->st[a])) != 0)
                return sql__xerr(x, rc);
        }
    }
    return 0;
}

static int agg_emit(struct sql_xctx *x, struct sql_xnode *n)
{
    const struct plan *p = n->p;
    while (n->pos < n->ngroups && n->out.n < n->out.cap) {
        struct group *g = &n->groups[n->pos++];
        struct sql_datum *row = sql__xrow(&n->out, n->out.n);
        for (size_t k = 0; k < p->nkeys; k++)
            row[k] = g->keys[k];
        for (size_t a = 0; a < p->naggs; a++) {
            if (!p->aggs[a]) {
                row[p->nkeys + a] = g->firsts[a];
                continue;
            }
            int rc = sql__agg_final(p->aggs[a], g->st[a], &x->ev,
                                    &row[p->nkeys + a]);
            if (rc != 0)
                return sql__xerr(x, rc);
        }
        n->out.handles[n->out.n++] = 0;
    }
    return 0;
}

/* ---- the pull loop ------------------------------------------------------------- */

int sql__exec_open(struct sql_xctx *x, const struct plan *p,
                   struct sql_xnode **out)
{
    struct sql_xnode *n = sql__arena_zalloc(x->s->arena, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->p = p;
    sql__kvres_init(&n->res);
    /* the node lives in the statement's arena; its own arenas are held
     * in it, and take memory only as they are used */
    sql__arena_init(&n->arena_mem, 0);
    sql__arena_init(&n->keep_mem, 0);
    n->arena = &n->arena_mem;
    n->keep = &n->keep_mem;
    if (p->kind == PL_SCAN) {
        sql__arena_init(&n->rs_mem, 0);
        n->rs = &n->rs_mem;
    }
    n->mem.parent = &x->s->qmem; /* memtrack.c */
    n->arena->track = n->keep->track = &n->mem;
    if (n->rs)
        n->rs->track = &n->mem;
    size_t ncols = p->ncols;
    if (p->kind == PL_DUAL)
        ncols = 0;
    int rc = 0;
    if (p->child)
        rc = sql__exec_open(x, p->child, &n->child);
    if (rc == 0 && p->right)
        rc = sql__exec_open(x, p->right, &n->right);
    if (rc == 0 && p->cond && (p->kind == PL_SCAN || p->kind == PL_FILTER) &&
        (rc = sql__expr_const_conds(p->cond, &x->ev)) != 0)
        rc = sql__xerr(x, rc);
    size_t cap = SQL_CHUNK_ROWS;
    switch (p->kind) {
    case PL_DUAL:
        cap = 1;
        break;
    case PL_SCAN:
        if (p->acc.kind == ACC_POINT || p->acc.kind == ACC_UNIQUE_POINT)
            cap = 1;
        else if (p->acc.kind == ACC_BATCH_POINT && p->acc.nranges < cap)
            cap = p->acc.nranges ? p->acc.nranges : 1;
        break;
    case PL_FILTER:
    case PL_PROJECT:
    case PL_DISTINCT:
    case PL_LIMIT:
        if (rc == 0)
            cap = n->child->out.cap;
        break;
    default:
        break;
    }
    if (rc == 0)
        rc = chunk_init(n, ncols, cap);
    if (rc != 0) {
        sql__exec_close(n);
        return rc;
    }
    *out = n;
    return 0;
}

void sql__exec_close(struct sql_xnode *n)
{
    if (!n)
        return;
    sql__exec_close(n->child);
    sql__exec_close(n->right);
    sql__kvres_reset(&n->res);
    sql__cop_iter_free(n->cop);
    sql__buf_free(&n->kb);
    sql__arena_fini(&n->arena_mem);
    sql__arena_fini(&n->keep_mem);
    if (n->rs)
        sql__arena_fini(&n->rs_mem);
}

static int exec_next(struct sql_xctx *x, struct sql_xnode *n,
                     struct sql_chunk **out);

int sql__exec_next(struct sql_xctx *x, struct sql_xnode *n,
                   struct sql_chunk **out)
{
    if (!x->an)
        return exec_next(x, n, out);
    int64_t t0 = sql__xa_enter(x->an); /* EXPLAIN ANALYZE */
    int rc = exec_next(x, n, out);
    sql__xa_leave(x->an, n, t0, rc == 0 ? (*out)->n : 0);
    return rc;
}

static int exec_next(struct sql_xctx *x, struct sql_xnode *n,
                     struct sql_chunk **out)
{
    const struct plan *p = n->p;
    n->out.n = 0;
    *out = &n->out;
    if (n->done)
        return 0;
    sql__arena_reset(n->arena);
    x->ev.arena = n->arena;
    int rc = 0;
    bool first = !n->opened;
    n->opened = true;
    switch (p->kind) {
    case PL_DUAL:
        if (first)
            n->out.n = 1;
        else
            n->done = true;
        return 0;
    case PL_SCAN:
        if (first && (rc = scan_open(x, n)) != 0)
            return rc;
        return scan_next(x, n);
    case PL_FILTER:
    case PL_PROJECT: {
        struct sql_chunk *c;
        while (n->out.n == 0) {
            if ((rc = sql__exec_next(x, n->child, &c)) != 0)
                return rc;
            x->ev.arena = n->arena;
            if (c->n == 0) {
                n->done = true;
                return 0;
            }
            if ((rc = chunk_room(n, c->n)) != 0)
                return rc;
            for (size_t i = 0; i < c->n; i++) {
                struct sql_datum *in = sql__xrow(c, i);
                if (p->kind == PL_FILTER) {
                    int truth;
                    rc = sql__expr_eval_bool(p->cond, &x->ev, in, &truth);
                    if (rc != 0)
                        return sql__xerr(x, rc);
                    if (truth != 1)
                        continue;
                    memcpy(sql__xrow(&n->out, n->out.n), in,
                           sizeof(*in) * c->ncols);
                } else {
                    struct sql_datum *o = sql__xrow(&n->out, n->out.n);
                    for (size_t k = 0; k < p->ncols; k++) {
                        rc = sql__expr_eval(p->exprs[k], &x->ev, in, &o[k]);
                        if (rc != 0)
                            return sql__xerr(x, rc);
                    }
                }
                n->out.handles[n->out.n++] = c->handles[i];
            }
        }
        return 0;
    }
    case PL_JOIN:
        return sql__xjoin_next(x, n, first);
    case PL_WINDOW:
        return sql__xwindow_next(x, n, first);
    case PL_SETOP:
        return sql__xsetop_next(x, n, first);
    case PL_AGG:
        if (first && (rc = agg_consume(x, n)) != 0)
            return rc;
        x->ev.arena = n->arena;
        return agg_emit(x, n);
    case PL_DISTINCT: {
        struct sql__buf kb = {0};
        struct sql_chunk *c;
        while (n->out.n == 0 && rc == 0) {
            if ((rc = sql__exec_next(x, n->child, &c)) != 0)
                break;
            if (c->n == 0) {
                n->done = true;
                break;
            }
            if ((rc = chunk_room(n, c->n)) != 0)
                break;
            for (size_t i = 0; i < c->n && rc == 0; i++) {
                struct sql_datum *in = sql__xrow(c, i);
                kb.len = 0;
                for (size_t k = 0; k < p->nvisible && rc == 0; k++)
                    rc = sql__key_append(&kb, &in[k], &p->cols[k].type);
                bool created;
                struct group *g;
                if (rc == 0)
                    rc = group_find(n, kb.p ? kb.p : (const uint8_t *)"",
                                    kb.len, &created, &g);
                if (rc != 0 || !created)
                    continue;
                memcpy(sql__xrow(&n->out, n->out.n), in, sizeof(*in) * c->ncols);
                n->out.handles[n->out.n++] = c->handles[i];
            }
        }
        sql__buf_free(&kb);
        return rc ? sql__xerr(x, rc) : 0;
    }
    case PL_SORT:
    case PL_TOPN:
        if (first && p->kind == PL_TOPN && p->limit) {
            /* LIMIT 0 reads nothing: no row's sort keys (or the filter
             * below) are evaluated, as in MySQL (F8). */
            uint64_t lim;
            if ((rc = limit_value(x, p->limit, UINT64_MAX, &lim)) != 0)
                return rc;
            if (lim == 0) {
                n->pos = n->nrows = 0;
                return 0;
            }
        }
        if (first) {
            if ((rc = sort_all(x, n)) != 0)
                return rc;
            if (p->kind == PL_TOPN) {
                uint64_t off, lim;
                if ((rc = limit_value(x, p->offset, 0, &off)) != 0 ||
                    (rc = limit_value(x, p->limit, UINT64_MAX, &lim)) != 0)
                    return rc;
                n->pos = off > n->nrows ? n->nrows : (size_t)off;
                if (lim < n->nrows - n->pos)
                    n->nrows = n->pos + (size_t)lim;
            }
        }
        return emit_kept(n);
    case PL_LIMIT: {
        if (first) {
            if ((rc = limit_value(x, p->offset, 0, &n->skip)) != 0 ||
                (rc = limit_value(x, p->limit, UINT64_MAX, &n->left)) != 0)
                return rc;
        }
        struct sql_chunk *c;
        while (n->out.n == 0 && n->left > 0) {
            if ((rc = sql__exec_next(x, n->child, &c)) != 0)
                return rc;
            if (c->n == 0)
                break;
            if ((rc = chunk_room(n, c->n)) != 0)
                return rc;
            for (size_t i = 0; i < c->n && n->left > 0; i++) {
                if (n->skip > 0) {
                    n->skip--;
                    continue;
                }
                memcpy(sql__xrow(&n->out, n->out.n), sql__xrow(c, i),
                       sizeof(struct sql_datum) * c->ncols);
                n->out.handles[n->out.n++] = c->handles[i];
                n->left--;
            }
        }
        if (n->out.n == 0)
            n->done = true;
        return 0;
    }
    default:
        return sql__serr(x->s, 1105, "HY000", "unknown plan node");
    }
}

/* ---- subqueries ----------------------------------------------------------------- */

/* Run plan p with outer values (a correlated subquery's run, or an
 * uncorrelated one's only run): at most max_rows + 1 rows, copied into
 * a. */
static int subquery_rows(struct sql_session *s, const struct plan *p,
                         const struct sql_datum *outer, size_t nouter,
                         size_t max_rows, struct sql_arena *a,
                         struct sql_datum **rows, size_t *nrows)
{
    struct sql_xctx x;
    struct sql_xnode *root = NULL;
    size_t cap = 0, nc = p->nvisible ? p->nvisible : 1;
    struct sql_chunk *c;
    *rows = NULL;
    *nrows = 0;
    s->plan_ran = true; /* a plan that keeps these rows is not cached */
    int rc = sql__xctx_init(&x, s, false);
    if (rc != 0)
        return rc;
    x.env.outer = outer;
    x.env.nouter = nouter;
    if ((rc = sql__exec_open(&x, p, &root)) != 0)
        return rc;
    while (*nrows <= max_rows && (rc = sql__exec_next(&x, root, &c)) == 0 &&
           c->n > 0) {
        for (size_t i = 0; i < c->n && *nrows <= max_rows && rc == 0; i++) {
            if (*nrows == cap) {
                size_t ncap = cap ? cap * 2 : 16;
                struct sql_datum *r =
                    sql__arena_alloc(a, sizeof(*r) * ncap * nc);
                if (!r) {
                    rc = -ENOMEM;
                    break;
                }
                if (cap)
                    memcpy(r, *rows, sizeof(*r) * cap * nc);
                *rows = r;
                cap = ncap;
            }
            struct sql_datum *dst = *rows + *nrows * nc;
            memcpy(dst, sql__xrow(c, i), sizeof(*dst) * p->nvisible);
            for (size_t k = 0; k < p->nvisible && rc == 0; k++)
                rc = sql__datum_copy(a, &dst[k]);
            ++*nrows;
        }
        if (rc != 0)
            break;
    }
    sql__exec_close(root);
    return rc;
}

/* A session error as the evaluator's (s->err restored). */
static int subquery_err(struct sql_session *s, int rc,
                        const struct sql_err *saved, struct sql_err *err)
{
    if (rc == 0 || rc == -ENOMEM)
        return rc;
    *err = s->err;
    s->err = *saved;
    return SQL_EQUERY;
}

int sql__subquery_run(void *sub_ctx, const struct ast_select *sel,
                      const struct sql_expr_scope *outer,
                      struct sql_subq *out, struct sql_err *err)
{
    struct sql_session *s = sub_ctx;
    struct plan *p;
    struct sql_err saved = s->err;
    memset(out, 0, sizeof(*out));
    int rc = sql__plan_select_in(s, sel, outer, &out->captures,
                                 &out->ncaptures, &p);
    if (rc != 0)
        return subquery_err(s, rc, &saved, err);
    out->ncols = p->nvisible;
    out->type = p->cols[0].type;
    /* Run by env_subquery_run: correlated, per row; uncorrelated, once
     * at the first evaluation, after the statement's every name was
     * resolved, its rows kept in the compiled expression, so a plan
     * holding it is made anew for every execution (plancache.c). */
    out->deferred = p;
    if (out->ncaptures == 0)
        s->plan_ran = true;
    return 0;
}

int sql__plan_rows_now(struct sql_session *s, const struct plan *p,
                       struct sql_datum **rows, size_t *nrows)
{
    return subquery_rows(s, p, NULL, 0, SIZE_MAX - 1, s->arena, rows,
                         nrows);
}

struct plan_vrows *sql__vrows_of(struct sql_session *s,
                                 struct sql_datum *rows, size_t nrows)
{
    struct plan_vrows *v = sql__arena_zalloc(s->arena, sizeof(*v));
    if (v) {
        v->rows = rows;
        v->nrows = nrows;
        v->est = (double)nrows;
    }
    return v;
}

struct plan_vrows *sql__vrows_defer(struct sql_session *s, struct plan *p)
{
    struct plan_vrows *v = sql__arena_zalloc(s->arena, sizeof(*v));
    if (!v)
        return NULL;
    sql__plan_estimate(s, p);
    v->p = p;
    v->est = p->est_rows;
    /* The rows are the statement's own: a plan holding them is made
     * anew for every execution (plancache.c), as when they were made
     * while planning. */
    s->plan_ran = true;
    return v;
}

int sql__vrows_make(struct sql_session *s, struct plan_vrows *v)
{
    if (!v->p)
        return 0;
    struct sql_datum *rows;
    size_t nrows;
    int rc = sql__plan_rows_now(s, v->p, &rows, &nrows);
    if (rc != 0)
        return rc;
    v->p = NULL;
    v->rows = rows;
    v->nrows = nrows;
    v->est = (double)v->nrows;
    return 0;
}

static int env_subquery_run(void *ctx, void *deferred,
                            const struct sql_datum *outer, size_t nouter,
                            size_t max_rows, struct sql_datum **rows,
                            size_t *nrows, struct sql_arena *a,
                            struct sql_err *err)
{
    struct sql_session *s = ctx;
    struct sql_err saved = s->err;
    int rc = subquery_rows(s, deferred, outer, nouter, max_rows, a, rows,
                           nrows);
    return subquery_err(s, rc, &saved, err);
}

/* ---- answering a SELECT ----------------------------------------------------------- */

static uint32_t display_len(const struct sql_ftype *t)
{
    int vt = sql__ftype_vt(t);
    if (vt == SQL_VT_STRING && t->coll != SQL_COLL_BINARY &&
        t->tp != SQL_TYPE_JSON) {
        uint64_t l = (uint64_t)t->len * 4;
        return l > UINT32_MAX ? UINT32_MAX : (uint32_t)l;
    }
    return t->len;
}

static void column_def(const struct plan_col *pc, struct sql_column *c)
{
    memset(c, 0, sizeof(*c));
    c->db = pc->db;
    c->table = pc->table;
    c->org_table = pc->org_table;
    c->name = pc->name;
    c->org_name = pc->org_name;
    const struct sql_ftype *t = &pc->type;
    int vt = sql__ftype_vt(t);
    c->type = t->tp;
    if (t->tp == SQL_TYPE_NULL)
        c->type = SQL_TYPE_NULL;
    c->charset = vt == SQL_VT_STRING && t->coll != SQL_COLL_BINARY
                     ? (t->coll == SQL_COLL_UTF8MB4_0900_AI_CI
                            ? SQL_CHARSET_UTF8MB4_0900_AI_CI
                            : (uint16_t)t->coll)
                     : SQL_CHARSET_BINARY;
    c->length = display_len(t);
    c->flags = t->flags;
    if (vt == SQL_VT_DOUBLE)
        c->decimals = t->dec < 0 ? 31 : (uint8_t)t->dec;
    else if (vt == SQL_VT_STRING && t->tp != SQL_TYPE_ENUM &&
             t->tp != SQL_TYPE_SET)
        c->decimals = t->dec < 0 ? 31 : 0;
    else
        c->decimals = t->dec < 0 ? 0 : (uint8_t)t->dec;
    if (t->tp == SQL_TYPE_ENUM || t->tp == SQL_TYPE_SET)
        c->type = SQL_TYPE_STRING;
}

static int send_columns(struct sql_session *s, const struct plan *p)
{
    int rc = sql_reply_columns(s->conn, p->nvisible);
    for (size_t i = 0; rc == 0 && i < p->nvisible; i++) {
        struct sql_column c;
        column_def(&p->cols[i], &c);
        rc = sql_reply_column(s->conn, &c);
    }
    return rc == -ENOMEM ? rc : rc ? SQL_EINTERNAL : 0;
}

static int run_select(struct sql_session *s, const struct ast_select *sel)
{
    struct plan *p;
    struct sql_prepared *pp = s->cur_prep; /* its plan may be cached */
    int rc = 0;
    if (s->quick_sel == sel)
        p = s->quick_plan; /* planned by sql_session_try_quick */
    else if (pp && pp->stmt->kind == AST_SELECT && pp->stmt->select == sel)
        rc = sql__plancache_select(s, pp, true, &p);
    else
        rc = sql__plan_select(s, sel, &p);
    if (rc != 0)
        return rc;
    struct sql_xctx x;
    /* the context begins the statement's transaction */
    s->point_latest = sql__point_read_latest(s, sel, p);
    rc = sql__xctx_init(&x, s, false);
    s->point_latest = false;
    if (rc != 0)
        return rc;
    struct sql_xnode *root;
    if ((rc = sql__exec_open(&x, p, &root)) != 0)
        return rc;
    /* The first chunk before the column definitions: an error found
     * while reading then answers alone (clients expect no half result). */
    struct sql_chunk *c;
    rc = sql__exec_next(&x, root, &c);
    if (rc == 0)
        rc = send_columns(s, p);
    uint64_t rows = 0;
    struct sql_value *vals =
        sql__arena_alloc(s->arena, sizeof(*vals) * (p->nvisible + 1));
    struct sql_arena *va = sql__arena_create(0);
    if (rc == 0 && (!vals || !va))
        rc = -ENOMEM;
    while (rc == 0 && c->n > 0) {
        for (size_t i = 0; i < c->n && rc == 0; i++) {
            struct sql_datum *row = sql__xrow(c, i);
            sql__arena_reset(va);
            for (size_t k = 0; k < p->nvisible && rc == 0; k++)
                rc = sql__datum_to_value(&row[k], &p->cols[k].type, va,
                                         &vals[k]);
            if (rc == 0)
                rc = sql__rs_row(s, vals, p->nvisible);
            rows++;
        }
        if (rc == 0)
            rc = sql__exec_next(&x, root, &c);
    }
    sql__arena_destroy(va);
    sql__exec_close(root);
    if (rc != 0)
        return rc == SQL_EINTERNAL ? sql__serr(s, 1105, "HY000",
                                               "a value does not fit its "
                                               "column type")
                                   : rc;
    s->found_rows = rows;
    return sql__rs_end(s);
}

static int run_explain(struct sql_session *s, const struct ast_stmt *st)
{
    const struct ast_stmt *e = st->explain;
    if (st->flag && e->kind != AST_SELECT)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'EXPLAIN "
                         "ANALYZE' of a statement that writes");
    struct plan *p;
    int rc;
    s->plan_text = true; /* plans keep their operator text */
    switch (e->kind) {
    case AST_SELECT:
        rc = sql__plan_select(s, e->select, &p);
        break;
    case AST_UPDATE:
    case AST_DELETE: {
        const struct ast_table_ref *tr =
            e->kind == AST_UPDATE ? e->update->table : e->del->table;
        if (tr->kind != AST_T_TABLE || (e->kind == AST_DELETE && e->del->targets)) {
            rc = sql__serr(s, 1235, "42000",
                           "This version of sqld doesn't yet support "
                           "'EXPLAIN of multi-table UPDATE/DELETE'");
            break;
        }
        struct sql_tableinfo *t;
        if ((rc = sql__sess_table(s, tr->db, tr->name, &t)) != 0)
            break;
        rc = e->kind == AST_UPDATE
                 ? sql__plan_rows(s, t, tr->alias, e->update->where,
                                  e->update->order, e->update->limit, &p)
                 : sql__plan_rows(s, t, tr->alias, e->del->where,
                                  e->del->order, e->del->limit, &p);
        break;
    }
    default:
        rc = sql__serr(s, 1235, "42000",
                       "This version of sqld doesn't yet support 'EXPLAIN "
                       "INSERT'");
    }
    s->plan_text = false;
    if (rc != 0)
        return rc;
    if (st->flag || st->explain_format)
        return sql__explain_run(s, st, p); /* explain_analyze.c */
    return sql__plan_explain(s, p);
}

/* DO e, ..: MariaDB's, where an error while evaluating (1690, a
 * subquery's 1242) is a warning of level Error and the next expression
 * runs; a name or shape error (1054, 1241) stays the statement's. */
static int run_do(struct sql_session *s, const struct ast_stmt *st)
{
    struct sql_xctx x;
    int rc = sql__xctx_init(&x, s, false);
    for (const struct ast_expr *e = st->expr; rc == 0 && e; e = e->next) {
        struct plan_tscope ts = {.s = s, .subqueries = true};
        struct sql_expr *c;
        struct sql_datum d;
        rc = sql__plan_compile(s, &ts, e, &c, NULL);
        if (rc == 0 && (rc = sql__expr_eval(c, &x.ev, NULL, &d)) != 0) {
            if (rc != SQL_EQUERY) {
                rc = sql__xerr(&x, rc);
                break;
            }
            sql__swarn(s, "Error", x.err.code, "%s", x.err.msg);
            rc = 0;
        }
    }
    return rc ? rc : sql__sess_ok(s, 0, 0);
}

int sql__eval_const(struct sql_session *s, const struct ast_expr *e,
                    struct sql_datum *out, char *text, size_t len)
{
    struct sql_xctx x;
    struct plan_tscope ts = {.s = s, .subqueries = true}; /* SET @v = (..) */
    struct sql_expr *c;
    struct sql_ftype t;
    int rc = sql__xctx_init(&x, s, false);
    if (rc == 0)
        rc = sql__plan_compile(s, &ts, e, &c, &t);
    if (rc == 0 && (rc = sql__expr_eval(c, &x.ev, NULL, out)) != 0)
        rc = sql__xerr(&x, rc);
    if (rc == 0 && text) {
        const char *p = "";
        size_t n = 0;
        if (out->vt != SQL_VT_NULL &&
            (rc = sql__datum_text(out, &t, s->arena, &p, &n)) != 0)
            return rc;
        snprintf(text, len, "%.*s", (int)n, p);
    }
    return rc;
}

int sql__query_run(struct sql_session *s, const struct ast_stmt *st)
{
    switch (st->kind) {
    case AST_SELECT:
        return run_select(s, st->select);
    case AST_EXPLAIN:
        return run_explain(s, st);
    case AST_DO:
        return run_do(s, st);
    case AST_INSERT:
        return sql__dml_insert(s, st);
    case AST_UPDATE:
        return sql__dml_update(s, st);
    case AST_DELETE:
        return sql__dml_delete(s, st);
    default:
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'this "
                         "statement'");
    }
}

/* ---- prepared statements, COM_FIELD_LIST ------------------------------------------ */

int sql__prepare_run(struct sql_session *s, struct sql_prepared *p)
{
    const struct ast_stmt *st = p->stmt;
    struct plan *pl = NULL;
    if (st->nparams > 65535)
        return sql__serr(s, 1390, "HY000",
                         "Prepared statement contains too many placeholders");
    if (st->kind == AST_SELECT) {
        /* Plan once to learn the result columns (parameters are unknown
         * here, and never enter a plan): the plan cache keeps the plan
         * for the executions (plancache.c). */
        sql__arena_reset(s->arena);
        int rc = sql__plancache_select(s, p, false, &pl);
        if (rc != 0)
            return rc;
    }
    uint16_t ncols = pl ? (uint16_t)pl->nvisible : 0;
    int rc = sql_reply_prepared(s->conn, (uint16_t)st->nparams, ncols, 0);
    for (int i = 0; rc == 0 && i < st->nparams; i++) {
        struct sql_column c = {.name = "?", .type = SQL_TYPE_VAR_STRING,
                               .charset = SQL_CHARSET_BINARY,
                               .decimals = 0};
        rc = sql_reply_column(s->conn, &c);
    }
    for (uint16_t i = 0; rc == 0 && i < ncols; i++) {
        struct sql_column c;
        column_def(&pl->cols[i], &c);
        rc = sql_reply_column(s->conn, &c);
    }
    return rc == -ENOMEM ? rc : 0;
}

int sql__field_list(struct sql_session *s, const struct sql_command *cmd)
{
    char name[256];
    snprintf(name, sizeof(name), "%.*s",
             (int)(cmd->text_len > 200 ? 200 : cmd->text_len), cmd->text);
    struct sql_tableinfo *t;
    memset(&s->err, 0, sizeof(s->err));
    sql__arena_reset(s->arena);
    if (sql__sess_table(s, NULL, name, &t) != 0)
        return sql_reply_error(s->conn, s->err.code, s->err.state,
                               s->err.msg);
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < t->ncols; i++) {
        struct plan_col pc = {.name = t->cols[i].name,
                              .org_name = t->cols[i].name,
                              .table = t->name,
                              .org_table = t->name,
                              .db = s->db ? s->db : "",
                              .type = t->cols[i].type};
        struct sql_column c;
        column_def(&pc, &c);
        c.default_value = t->cols[i].default_sql;
        rc = sql_reply_column(s->conn, &c);
    }
    struct sql_ok ok = {.status = sql__sess_status(s)};
    return rc ? rc : sql_reply_end(s->conn, &ok);
}

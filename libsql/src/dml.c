/* dml.c: INSERT (VALUES, SET, SELECT; IGNORE; ON DUPLICATE KEY UPDATE),
 * REPLACE, UPDATE and DELETE on one table: rows and index entries as
 * tablecodec.h lays them out, unique checks (1062), AUTO_INCREMENT. Every
 * write is staged on the session and joins the transaction only when the
 * statement succeeds (DESIGN.md "Executor", writes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec.h"
#include "dml_int.h"
#include "exec.h"
#include "sql_int.h"
#include "view.h"
#include "tablecodec.h"

/* What one DML statement carries around. */
struct dml
{
    struct sql_xctx x;               /* evaluation */
    struct sql_session *s;           /* the session */
    const struct sql_tableinfo *t;   /* the table */
    struct sql__buf kb;              /* key scratch */
    struct sql__buf vb;              /* value scratch */
    struct sql_rowcol *rc;           /* row encoding scratch */
    uint64_t affected;               /* rows affected */
    uint64_t first_auto;             /* first AUTO_INCREMENT value made */
    bool ignore;                     /* IGNORE: errors become warnings */
    struct sql_kvtxn *direct;        /* DDL: write here, not staged */
    bool pess;                       /* pessimistic: point reads lock and
                                        read the latest committed value */
    int scan_idx;                    /* index (in t->idx) the matching
                                        rows were read through, or -1 */
};

static int w_get(struct dml *d, const void *k, size_t kl, uint8_t **v,
                 size_t *vl, bool *owned)
{
    if (!d->direct)
        return d->pess ? sql__sess_get_current(d->s, k, kl, v, vl, owned)
                       : sql__sess_get(d->s, k, kl, v, vl, owned);
    *owned = true;
    return sql__kvtxn_get(d->direct, k, kl, v, vl);
}

static int w_set(struct dml *d, const void *k, size_t kl, const void *v,
                 size_t vl)
{
    return d->direct ? sql__kvtxn_set(d->direct, k, kl, v, vl)
                     : sql__sess_set(d->s, k, kl, v, vl);
}

static int w_del(struct dml *d, const void *k, size_t kl)
{
    return d->direct ? sql__kvtxn_delete(d->direct, k, kl)
                     : sql__sess_del(d->s, k, kl);
}

static int dml_init(struct dml *d, struct sql_session *s,
                    const struct sql_tableinfo *t)
{
    memset(d, 0, sizeof(*d));
    d->s = s;
    d->t = t;
    d->scan_idx = -1;
    d->rc = sql__arena_alloc(s->arena, sizeof(*d->rc) * (t->ncols + 1));
    if (!d->rc)
        return -ENOMEM;
    d->pess = sql__sess_pessimistic(s);
    return sql__xctx_init(&d->x, s, true);
}

static void dml_free(struct dml *d)
{
    sql__buf_free(&d->kb);
    sql__buf_free(&d->vb);
}

static int64_t row_handle(const struct sql_tableinfo *t,
                          const struct sql_datum *row, int64_t hidden)
{
    if (t->handle_col < 0)
        return hidden;
    const struct sql_datum *d = &row[t->handle_col];
    return d->vt == SQL_VT_UINT ? (int64_t)d->v.u : d->v.i;
}

/* The key of index ix for row (handle h) into d->kb; *unique_key: the key
 * identifies the row by value alone (unique, no NULL part). */
static int index_key(struct dml *d, const struct sql_idxinfo *ix,
                     const struct sql_datum *row, int64_t h, bool *unique_key)
{
    const struct sql_tableinfo *t = d->t;
    uint8_t pre[SQL_TC_INDEX_PREFIX_LEN];
    sql__tc_index_prefix(pre, t->id, ix->id);
    d->kb.len = 0;
    int rc = sql__buf_put(&d->kb, pre, sizeof(pre));
    bool has_null = false;
    for (uint32_t k = 0; rc == 0 && k < ix->ncols; k++) {
        const struct sql_colinfo *c = &t->cols[ix->cols[k]];
        struct sql_datum v = row[ix->cols[k]];
        if (v.vt == SQL_VT_NULL)
            has_null = true;
        if (ix->prefix[k] > 0 && v.vt == SQL_VT_STRING) {
            /* A prefix index keys the first N characters (bytes for
             * binary strings). */
            size_t chars = 0, i = 0;
            bool bin = c->type.coll == SQL_COLL_BINARY;
            while (i < v.v.s.n && chars < (size_t)ix->prefix[k]) {
                i++;
                if (!bin)
                    while (i < v.v.s.n &&
                           ((unsigned char)v.v.s.p[i] & 0xC0) == 0x80)
                        i++;
                chars++;
            }
            v.v.s.n = i;
        }
        rc = sql__key_append(&d->kb, &v, &c->type);
    }
    *unique_key = ix->unique && !has_null;
    if (rc == 0 && !*unique_key) {
        uint8_t hb[8];
        sql__tc_put_i64(hb, h);
        rc = sql__buf_put(&d->kb, hb, 8);
    }
    return rc;
}

int sql__index_entry_key(const struct sql_tableinfo *t,
                         const struct sql_idxinfo *ix,
                         const struct sql_datum *row, int64_t h,
                         struct sql__buf *kb, bool *unique_key)
{
    struct dml d;
    memset(&d, 0, sizeof(d));
    d.t = t;
    d.kb = *kb;
    int rc = index_key(&d, ix, row, h, unique_key);
    *kb = d.kb;
    return rc;
}

/* The text MySQL shows for a duplicate key: the key's values joined by
 * '-'. */
static void dup_text(struct dml *d, const struct sql_idxinfo *ix,
                     const struct sql_datum *row, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (uint32_t k = 0; k < ix->ncols; k++) {
        const struct sql_datum *v = &row[ix->cols[k]];
        const char *p = "NULL";
        size_t pl = 4;
        if (v->vt != SQL_VT_NULL &&
            sql__datum_text(v, &d->t->cols[ix->cols[k]].type, d->s->arena,
                            &p, &pl) != 0) {
            p = "?";
            pl = 1;
        }
        int w = snprintf(out + n, len - n, "%s%.*s", k ? "-" : "",
                         (int)(pl > 64 ? 64 : pl), p);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
}

void sql__index_dup_text(struct sql_session *s, const struct sql_tableinfo *t,
                         const struct sql_idxinfo *ix,
                         const struct sql_datum *row, char *out, size_t len)
{
    struct dml d;
    memset(&d, 0, sizeof(d));
    d.s = s;
    d.t = t;
    dup_text(&d, ix, row, out, len);
}

static int dup_error(struct dml *d, const struct sql_idxinfo *ix,
                     const struct sql_datum *row)
{
    char text[256];
    dup_text(d, ix, row, text, sizeof(text));
    return sql__serr(d->s, 1062, "23000",
                     "Duplicate entry '%s' for key '%s.%s'", text, d->t->name,
                     ix->name);
}

/* The handle of the row that already holds row's value of a unique key
 * (the handle for the primary handle), or found false. Which key:
 * *which (-1 the handle). skip_handle: -1 check everything (INSERT); 0
 * check the handle, ignore entries of row `self`; 1 only the unique
 * indexes, ignoring entries of `self` (UPDATE). */
static int find_dup(struct dml *d, const struct sql_datum *row, int64_t h,
                    int skip_handle, int64_t self, bool *found,
                    int64_t *other, int *which)
{
    const struct sql_tableinfo *t = d->t;
    *found = false;
    uint8_t *v;
    size_t vl;
    bool owned;
    int rc;
    if (t->handle_col >= 0 && skip_handle <= 0) {
        uint8_t k[SQL_TC_ROW_KEY_LEN];
        sql__tc_row_key(k, t->id, h);
        rc = w_get(d, k, sizeof(k), &v, &vl, &owned);
        if (rc == 0) {
            if (owned)
                sql__kv_free(v);
            *found = true;
            *other = h;
            *which = -1;
            return 0;
        }
        if (rc != MVCC_NOTFOUND)
            return sql__kverr(d->s, rc);
    }
    for (uint32_t i = 0; i < t->nidx; i++) {
        const struct sql_idxinfo *ix = &t->idx[i];
        if ((int32_t)i == t->pk_handle_idx || !ix->unique ||
            ix->state == SQL_IDX_DELETE_ONLY) /* not written yet */
            continue;
        bool uk;
        if ((rc = index_key(d, ix, row, h, &uk)) != 0)
            return rc;
        if (!uk)
            continue;
        rc = w_get(d, d->kb.p, d->kb.len, &v, &vl, &owned);
        if (rc == MVCC_NOTFOUND)
            continue;
        if (rc != 0)
            return sql__kverr(d->s, rc);
        int64_t oh = vl == 8 ? sql__tc_get_i64(v) : 0;
        if (owned)
            sql__kv_free(v);
        if (skip_handle >= 0 && oh == self)
            continue; /* the updated row's own entry */
        *found = true;
        *other = oh;
        *which = (int)i;
        return 0;
    }
    return 0;
}

/* Stage the row and its index entries. */
static int put_row(struct dml *d, const struct sql_datum *row, int64_t h)
{
    const struct sql_tableinfo *t = d->t;
    size_t n = 0;
    for (uint32_t i = 0; i < t->ncols; i++) {
        if ((int32_t)i == t->handle_col)
            continue;
        d->rc[n].id = t->cols[i].id;
        d->rc[n++].d = row[i];
    }
    d->vb.len = 0;
    int rc = sql__row_encode(&d->vb, d->rc, n);
    uint8_t k[SQL_TC_ROW_KEY_LEN];
    sql__tc_row_key(k, t->id, h);
    if (rc == 0)
        rc = w_set(d, k, sizeof(k), d->vb.p ? d->vb.p : k,
                           d->vb.len);
    for (uint32_t i = 0; rc == 0 && i < t->nidx; i++) {
        if ((int32_t)i == t->pk_handle_idx ||
            t->idx[i].state == SQL_IDX_DELETE_ONLY) /* deletes only */
            continue;
        bool uk;
        if ((rc = index_key(d, &t->idx[i], row, h, &uk)) != 0)
            break;
        uint8_t hv[8];
        sql__tc_put_i64(hv, h);
        rc = uk ? w_set(d, d->kb.p, d->kb.len, hv, 8)
                : w_set(d, d->kb.p, d->kb.len, "0", 1);
    }
    return rc;
}

static int del_row(struct dml *d, const struct sql_datum *row, int64_t h)
{
    const struct sql_tableinfo *t = d->t;
    uint8_t k[SQL_TC_ROW_KEY_LEN];
    sql__tc_row_key(k, t->id, h);
    int rc = w_del(d, k, sizeof(k));
    for (uint32_t i = 0; rc == 0 && i < t->nidx; i++) {
        if ((int32_t)i == t->pk_handle_idx)
            continue;
        bool uk;
        if ((rc = index_key(d, &t->idx[i], row, h, &uk)) == 0)
            rc = w_del(d, d->kb.p, d->kb.len);
    }
    return rc;
}

/* Read the current row with handle h into out (bytes in the arena). */
static int load_row(struct dml *d, int64_t h, struct sql_datum *out,
                    bool *found)
{
    uint8_t k[SQL_TC_ROW_KEY_LEN];
    sql__tc_row_key(k, d->t->id, h);
    uint8_t *v;
    size_t vl;
    bool owned;
    *found = false;
    int rc = w_get(d, k, sizeof(k), &v, &vl, &owned);
    if (rc == MVCC_NOTFOUND)
        return 0;
    if (rc != 0)
        return sql__kverr(d->s, rc);
    *found = true;
    uint8_t *copy = sql__arena_alloc(d->s->arena, vl ? vl : 1);
    if (!copy) {
        if (owned)
            sql__kv_free(v);
        return -ENOMEM;
    }
    memcpy(copy, v, vl);
    if (owned)
        sql__kv_free(v);
    return sql__exec_decode_row(&d->x, d->t, h, copy, vl, out, d->s->arena);
}

static bool same_value(const struct sql_datum *a, const struct sql_datum *b,
                       const struct sql_ftype *t)
{
    if (a->vt == SQL_VT_NULL || b->vt == SQL_VT_NULL)
        return a->vt == b->vt;
    struct sql__buf x = {0}, y = {0};
    bool same = false;
    struct sql_ftype bt = *t;
    if (sql__ftype_vt(t) == SQL_VT_STRING)
        bt.coll = SQL_COLL_BINARY; /* 'a' -> 'A' is a change */
    if (sql__key_append(&x, a, &bt) == 0 && sql__key_append(&y, b, &bt) == 0)
        same = x.len == y.len && memcmp(x.p, y.p, x.len) == 0;
    sql__buf_free(&x);
    sql__buf_free(&y);
    return same;
}

/* Replace row old (handle oh) by row new: index entries that change move,
 * unique values are checked. 1062 on a clash. */
static int update_row(struct dml *d, const struct sql_datum *old, int64_t oh,
                      const struct sql_datum *nw)
{
    const struct sql_tableinfo *t = d->t;
    int64_t nh = row_handle(t, nw, oh);
    bool found;
    int64_t other;
    int which;
    int rc;
    /* The new handle must be free (when it changes); unique values must
     * be free but for this row's own entries. */
    if ((rc = find_dup(d, nw, nh, nh != oh ? 0 : 1, oh, &found, &other,
                       &which)) != 0)
        return rc;
    if (found) {
        const struct sql_idxinfo *ix =
            which < 0 ? &t->idx[t->pk_handle_idx] : &t->idx[which];
        return dup_error(d, ix, nw);
    }
    if ((rc = del_row(d, old, oh)) != 0)
        return rc;
    return put_row(d, nw, nh);
}

/* ---- INSERT ----------------------------------------------------------- */

/* ON DUPLICATE KEY UPDATE's scope: the existing row's columns, and
 * VALUES(col) for the row that was to be inserted (after it). */
struct odku_scope
{
    struct plan_tscope ts;   /* the table (existing row) */
};

static int odku_subtree(void *ctx, const struct ast_expr *e,
                        struct sql_colref *out, struct sql_err *err)
{
    struct odku_scope *os = ctx;
    if (e->kind != AST_E_FUNC || !e->name || strcasecmp(e->name, "VALUES") ||
        !e->args || e->args->next || e->args->kind != AST_E_COLUMN)
        return SQL_ENOTFOUND;
    int ci = sql__table_col(os->ts.t, e->args->name);
    if (ci < 0)
        return sql__err(err, 1054, "42S22",
                        "Unknown column '%s' in 'field list'", e->args->name);
    out->index = os->ts.t->ncols + (uint32_t)ci;
    out->type = os->ts.t->cols[ci].type;
    return 0;
}

/* Store value v into column ci of row (conversion, NOT NULL). */
static int store_col(struct dml *d, uint32_t ci, const struct sql_datum *v,
                     uint64_t rownum, struct sql_datum *out)
{
    const struct sql_colinfo *c = &d->t->cols[ci];
    if (v->vt == SQL_VT_NULL) {
        memset(out, 0, sizeof(*out));
        out->vt = SQL_VT_NULL;
        if (c->not_null && !c->auto_inc) {
            if (!d->ignore &&
                (d->x.env.sql_mode & (SQL_MODE_STRICT_TRANS_TABLES |
                                      SQL_MODE_STRICT_ALL_TABLES)))
                return sql__serr(d->s, 1048, "23000",
                                 "Column '%s' cannot be null", c->name);
            sql__swarn(d->s, "Warning", 1048, "Column '%s' cannot be null",
                       c->name);
            /* The implicit default: zero / empty. */
            struct sql_datum z = {0};
            int vt = sql__ftype_vt(&c->type);
            if (vt == SQL_VT_STRING) {
                z.vt = SQL_VT_STRING;
                z.v.s.p = "";
                z.coll = c->type.coll;
            } else {
                z.vt = SQL_VT_INT;
            }
            int rc = sql__datum_store(&z, &c->type, c->name, rownum, &d->x.ev,
                                      out);
            return rc ? sql__xerr(&d->x, rc) : 0;
        }
        return 0;
    }
    int rc = sql__datum_store(v, &c->type, c->name, rownum, &d->x.ev, out);
    return rc ? sql__xerr(&d->x, rc) : 0;
}

/* Fill the AUTO_INCREMENT column / hidden handle of a new row. */
static int auto_values(struct dml *d, struct sql_datum *row, int64_t *hidden)
{
    const struct sql_tableinfo *t = d->t;
    struct sql_server *srv = d->s->srv;
    *hidden = 0;
    for (uint32_t i = 0; i < t->ncols; i++) {
        if (!t->cols[i].auto_inc)
            continue;
        struct sql_datum *v = &row[i];
        bool zero = (v->vt == SQL_VT_INT && v->v.i == 0) ||
                    (v->vt == SQL_VT_UINT && v->v.u == 0);
        if (v->vt == SQL_VT_NULL ||
            (zero && !(d->x.env.sql_mode & SQL_MODE_NO_AUTO_VALUE_ON_ZERO))) {
            uint64_t id;
            if (t->auto_inc_start > 1)
                sql__autoid_rebase(srv->kv, srv->cat, t->id,
                                   t->auto_inc_start - 1);
            int rc = sql__autoid_alloc(srv->kv, srv->cat, t->id, 1, &id);
            if (rc != 0)
                return sql__kverr(d->s, rc);
            struct sql_datum a = {.vt = SQL_VT_UINT};
            a.v.u = id;
            if ((rc = store_col(d, i, &a, 1, v)) != 0)
                return rc;
            if (d->first_auto == 0)
                d->first_auto = id;
        } else if ((v->vt == SQL_VT_INT && v->v.i > 0) ||
                   v->vt == SQL_VT_UINT) {
            uint64_t u = v->vt == SQL_VT_INT ? (uint64_t)v->v.i : v->v.u;
            int rc = sql__autoid_rebase(srv->kv, srv->cat, t->id, u);
            if (rc != 0)
                return sql__kverr(d->s, rc);
        }
    }
    if (t->handle_col < 0) {
        uint64_t id;
        int rc = sql__autoid_alloc(srv->kv, srv->cat, t->id, 1, &id);
        if (rc != 0)
            return sql__kverr(d->s, rc);
        *hidden = (int64_t)id;
    }
    return 0;
}

struct ins
{
    struct dml d;                   /* shared DML state */
    const struct ast_insert *in;    /* the statement */
    int *target;                    /* column per value position */
    size_t ntarget;                 /* their count */
    struct sql_expr **odku;         /* ON DUPLICATE KEY UPDATE values */
    int *odku_col;                  /* their columns */
    size_t nodku;                   /* their count */
    uint64_t rownum;                /* 1-based row being inserted */
};

/* Insert one complete row (values converted), handling duplicates as the
 * statement says. */
static int insert_row(struct ins *I, struct sql_datum *row)
{
    struct dml *d = &I->d;
    const struct sql_tableinfo *t = d->t;
    int64_t hidden;
    int rc = auto_values(d, row, &hidden);
    if (rc != 0)
        return rc;
    for (uint32_t i = 0; i < t->ncols; i++)
        if (row[i].vt == SQL_VT_NULL && t->cols[i].not_null &&
            !t->cols[i].auto_inc)
            if ((rc = store_col(d, i, &row[i], I->rownum, &row[i])) != 0)
                return rc;
    int64_t h = row_handle(t, row, hidden);
    for (int attempt = 0;; attempt++) {
        bool found;
        int64_t other;
        int which;
        if ((rc = find_dup(d, row, h, -1, 0, &found, &other, &which)) != 0)
            return rc;
        if (!found)
            break;
        const struct sql_idxinfo *ix =
            which < 0 ? &t->idx[t->pk_handle_idx] : &t->idx[which];
        if (I->in->replace && attempt <= (int)t->nidx) {
            /* REPLACE: the clashing row goes, then try again. */
            struct sql_datum *old =
                sql__arena_alloc(d->s->arena, sizeof(*old) * t->ncols);
            bool there;
            if (!old)
                return -ENOMEM;
            if ((rc = load_row(d, other, old, &there)) != 0)
                return rc;
            if (there && (rc = del_row(d, old, other)) != 0)
                return rc;
            d->affected++;
            continue;
        }
        if (I->nodku) {
            struct sql_datum *old =
                sql__arena_alloc(d->s->arena, sizeof(*old) * 2 * t->ncols);
            bool there;
            if (!old)
                return -ENOMEM;
            if ((rc = load_row(d, other, old, &there)) != 0)
                return rc;
            if (!there)
                return dup_error(d, ix, row);
            memcpy(old + t->ncols, row, sizeof(*row) * t->ncols);
            struct sql_datum *nw =
                sql__arena_alloc(d->s->arena, sizeof(*nw) * 2 * t->ncols);
            if (!nw)
                return -ENOMEM;
            memcpy(nw, old, sizeof(*nw) * 2 * t->ncols);
            for (size_t k = 0; k < I->nodku; k++) {
                struct sql_datum v;
                rc = sql__expr_eval(I->odku[k], &d->x.ev, nw, &v);
                if (rc != 0)
                    return sql__xerr(&d->x, rc);
                if ((rc = store_col(d, (uint32_t)I->odku_col[k], &v,
                                    I->rownum, &nw[I->odku_col[k]])) != 0)
                    return rc;
            }
            bool changed = false;
            for (uint32_t i = 0; i < t->ncols; i++)
                if (!same_value(&old[i], &nw[i], &t->cols[i].type))
                    changed = true;
            if (changed) {
                if ((rc = update_row(d, old, other, nw)) != 0)
                    return rc;
                d->affected += 2;
                if (t->handle_col >= 0 && t->cols[t->handle_col].auto_inc)
                    d->first_auto = (uint64_t)row_handle(t, nw, other);
            }
            return 0;
        }
        if (I->in->ignore) {
            char text[256];
            dup_text(d, ix, row, text, sizeof(text));
            sql__swarn(d->s, "Warning", 1062,
                       "Duplicate entry '%s' for key '%s.%s'", text, t->name,
                       ix->name);
            return 0;
        }
        return dup_error(d, ix, row);
    }
    if ((rc = put_row(d, row, h)) != 0)
        return rc;
    d->affected++;
    return 0;
}

/* Build the row from the values of one VALUES tuple / SET list / SELECT
 * row: given columns converted, the others defaulted. */
static int make_row(struct ins *I, const struct sql_datum *given,
                    struct sql_datum *row)
{
    struct dml *d = &I->d;
    const struct sql_tableinfo *t = d->t;
    bool *set = sql__arena_zalloc(d->s->arena, sizeof(bool) * t->ncols);
    if (!set)
        return -ENOMEM;
    int rc;
    for (size_t k = 0; k < I->ntarget; k++) {
        uint32_t ci = (uint32_t)I->target[k];
        set[ci] = true;
        if ((rc = store_col(d, ci, &given[k], I->rownum, &row[ci])) != 0)
            return rc;
    }
    for (uint32_t ci = 0; ci < t->ncols; ci++) {
        if (set[ci])
            continue;
        bool none;
        if ((rc = sql__exec_default(&d->x, t, ci, &row[ci], &none)) != 0)
            return rc;
        if (none) {
            if (!d->ignore &&
                (d->x.env.sql_mode & (SQL_MODE_STRICT_TRANS_TABLES |
                                      SQL_MODE_STRICT_ALL_TABLES)))
                return sql__serr(d->s, 1364, "HY000",
                                 "Field '%s' doesn't have a default value",
                                 t->cols[ci].name);
            sql__swarn(d->s, "Warning", 1364,
                       "Field '%s' doesn't have a default value",
                       t->cols[ci].name);
        }
    }
    return 0;
}

static int target_cols(struct ins *I)
{
    const struct ast_insert *in = I->in;
    const struct sql_tableinfo *t = I->d.t;
    struct sql_session *s = I->d.s;
    size_t n = 0;
    if (in->set) {
        for (const struct ast_assign *a = in->set; a; a = a->next)
            n++;
    } else if (in->columns) {
        for (const struct ast_name *c = in->columns; c; c = c->next)
            n++;
    } else
        n = t->ncols;
    I->target = sql__arena_alloc(s->arena, sizeof(int) * (n + 1));
    if (!I->target)
        return -ENOMEM;
    I->ntarget = n;
    size_t k = 0;
    if (in->set) {
        for (const struct ast_assign *a = in->set; a; a = a->next, k++)
            if ((I->target[k] = sql__table_col(t, a->col->name)) < 0)
                return sql__serr(s, 1054, "42S22",
                                 "Unknown column '%s' in 'field list'",
                                 a->col->name);
    } else if (in->columns) {
        for (const struct ast_name *c = in->columns; c; c = c->next, k++)
            if ((I->target[k] = sql__table_col(t, c->name)) < 0)
                return sql__serr(s, 1054, "42S22",
                                 "Unknown column '%s' in 'field list'",
                                 c->name);
    } else
        for (k = 0; k < n; k++)
            I->target[k] = (int)k;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (I->target[i] == I->target[j])
                return sql__serr(s, 1110, "42000",
                                 "Column '%s' specified twice",
                                 t->cols[I->target[i]].name);
    return 0;
}

static int compile_odku(struct ins *I)
{
    struct sql_session *s = I->d.s;
    const struct ast_insert *in = I->in;
    size_t n = 0;
    for (const struct ast_assign *a = in->on_dup; a; a = a->next)
        n++;
    if (n == 0)
        return 0;
    if (in->row_alias)
        return sql__serr(s, 1235, "42000",
                         "This version of sqld doesn't yet support 'VALUES "
                         "... AS alias'");
    I->odku = sql__arena_alloc(s->arena, sizeof(*I->odku) * n);
    I->odku_col = sql__arena_alloc(s->arena, sizeof(int) * n);
    if (!I->odku || !I->odku_col)
        return -ENOMEM;
    struct odku_scope os = {.ts = {.s = s, .t = I->d.t, .alias = I->d.t->name,
                                   .db = in->db ? in->db : s->db}};
    struct sql_expr_scope sc = {.ctx = &os.ts,
                                .column = sql__tscope_column,
                                .subtree = odku_subtree,
                                .subquery = sql__subquery_run,
                                .sub_ctx = s};
    for (const struct ast_assign *a = in->on_dup; a; a = a->next) {
        int ci = sql__table_col(I->d.t, a->col->name);
        if (ci < 0)
            return sql__serr(s, 1054, "42S22",
                             "Unknown column '%s' in 'field list'",
                             a->col->name);
        struct sql_ftype t;
        struct sql_err err = {0};
        int rc;
        if (a->value->kind == AST_E_DEFAULT) {
            return sql__serr(s, 1235, "42000",
                             "This version of sqld doesn't yet support "
                             "'DEFAULT in ON DUPLICATE KEY UPDATE'");
        }
        sc.ctx = &os;
        rc = sql__expr_compile(s->arena, a->value, &sc, &I->odku[I->nodku],
                               &t, &err);
        if (rc != 0) {
            if (rc == SQL_EQUERY)
                s->err = err;
            return rc;
        }
        I->odku_col[I->nodku++] = ci;
    }
    return 0;
}

/* The values of VALUES row r (row I->rownum) into given, *k of them:
 * 1136 when their count is not the statement's. */
static int row_values(struct ins *I, struct plan_tscope *none,
                      const struct ast_row *r, struct sql_datum *given,
                      size_t *k)
{
    struct sql_session *s = I->d.s;
    const struct sql_tableinfo *t = I->d.t;
    int rc = 0;
    *k = 0;
    for (const struct ast_expr *e = r->values; e; e = e->next)
        ++*k;
    if (*k != I->ntarget && !(*k == 0 && !I->in->columns))
        return sql__serr(s, 1136, "21S01",
                         "Column count doesn't match value count at row "
                         "%llu",
                         (unsigned long long)I->rownum);
    size_t n = 0;
    for (const struct ast_expr *e = r->values; e && rc == 0;
         e = e->next, n++) {
        if (e->kind == AST_E_DEFAULT && !e->a) {
            bool nodef;
            rc = sql__exec_default(&I->d.x, t, (uint32_t)I->target[n],
                                   &given[n], &nodef);
            if (rc == 0 && nodef) {
                given[n].vt = SQL_VT_NULL;
                if (!I->in->ignore)
                    rc = sql__serr(s, 1364, "HY000",
                                   "Field '%s' doesn't have a default "
                                   "value",
                                   t->cols[I->target[n]].name);
            }
            continue;
        }
        struct sql_expr *c;
        rc = sql__plan_compile(s, none, e, &c, NULL);
        if (rc == 0 &&
            (rc = sql__expr_eval(c, &I->d.x.ev, NULL, &given[n])) != 0)
            rc = sql__xerr(&I->d.x, rc);
    }
    return rc;
}

/* Insert the row of k given values (k 0: VALUES (), every column its
 * default). */
static int insert_given(struct ins *I, const struct sql_datum *given,
                        size_t k, struct sql_datum *row)
{
    memset(row, 0, sizeof(*row) * I->d.t->ncols);
    int rc;
    if (k == 0 && I->ntarget) {
        size_t save = I->ntarget;
        I->ntarget = 0;
        rc = make_row(I, given, row);
        I->ntarget = save;
    } else
        rc = make_row(I, given, row);
    return rc == 0 ? insert_row(I, row) : rc;
}

int sql__dml_insert(struct sql_session *s, const struct ast_stmt *st)
{
    const struct ast_insert *in = st->insert;
    struct sql_tableinfo *t;
    int rc = sql__sess_table(s, in->db, in->table, &t);
    if (rc == 0 && t->view_sql)
        rc = sql__view_no_write(s, "INSERT");
    if (rc != 0)
        return rc;
    struct ins I = {.in = in};
    if ((rc = dml_init(&I.d, s, t)) != 0)
        return rc;
    I.d.ignore = in->ignore;
    if ((rc = target_cols(&I)) != 0 || (rc = compile_odku(&I)) != 0)
        goto out;
    struct sql_datum *given =
        sql__arena_zalloc(s->arena, sizeof(*given) * (I.ntarget + 1));
    struct sql_datum *row =
        sql__arena_zalloc(s->arena, sizeof(*row) * (t->ncols + 1));
    if (!given || !row) {
        rc = -ENOMEM;
        goto out;
    }
    struct plan_tscope none = {.s = s, .subqueries = true};
    if (in->select) {
        struct plan *p;
        if ((rc = sql__plan_select(s, in->select, &p)) != 0)
            goto out;
        if (p->nvisible != I.ntarget) {
            rc = sql__serr(s, 1136, "21S01",
                           "Column count doesn't match value count at row 1");
            goto out;
        }
        struct sql_xnode *root;
        if ((rc = sql__exec_open(&I.d.x, p, &root)) != 0)
            goto out;
        /* Read everything first: the rows we insert must not feed the
         * SELECT (INSERT INTO t SELECT ... FROM t). */
        struct sql_datum *all = NULL;
        size_t nall = 0, cap = 0;
        struct sql_chunk *c;
        while ((rc = sql__exec_next(&I.d.x, root, &c)) == 0 && c->n > 0) {
            for (size_t i = 0; i < c->n && rc == 0; i++) {
                if (nall == cap) {
                    cap = cap ? cap * 2 : 64;
                    struct sql_datum *na = sql__arena_alloc(
                        s->arena, sizeof(*na) * cap * I.ntarget);
                    if (!na) {
                        rc = -ENOMEM;
                        break;
                    }
                    if (nall)
                        memcpy(na, all, sizeof(*na) * nall * I.ntarget);
                    all = na;
                }
                for (size_t k = 0; k < I.ntarget && rc == 0; k++) {
                    all[nall * I.ntarget + k] = c->rows[i * c->ncols + k];
                    rc = sql__datum_copy(s->arena,
                                         &all[nall * I.ntarget + k]);
                }
                nall++;
            }
            if (rc != 0)
                break; /* the while's call would overwrite rc */
        }
        sql__exec_close(root);
        I.d.x.ev.arena = s->arena;
        for (size_t r = 0; rc == 0 && r < nall; r++) {
            I.rownum = r + 1;
            memset(row, 0, sizeof(*row) * t->ncols);
            rc = make_row(&I, all + r * I.ntarget, row);
            if (rc == 0)
                rc = insert_row(&I, row);
        }
        goto done;
    }
    const struct ast_row *rows = in->rows;
    struct ast_row setrow = {0};
    struct ast_expr *setvals = NULL;
    if (in->set) {
        /* INSERT ... SET a = 1, b = 2 is one row. */
        struct ast_expr **tail = &setvals;
        for (const struct ast_assign *a = in->set; a; a = a->next) {
            struct ast_expr *cp = sql__arena_alloc(s->arena, sizeof(*cp));
            if (!cp) {
                rc = -ENOMEM;
                goto out;
            }
            *cp = *a->value;
            cp->next = NULL;
            *tail = cp;
            tail = &cp->next;
        }
        setrow.values = setvals;
        rows = &setrow;
    }
    /* A value reading t in a subquery reads it as it was before the
     * statement (MariaDB: `VALUES ((SELECT MAX(id) FROM t) + 1), ..`
     * reads no row it inserts), so every row's values are made first. */
    size_t nrows = 0;
    bool before = false;
    const char *tdb = in->db ? in->db : s->db;
    for (const struct ast_row *r = rows; r; r = r->next, nrows++)
        for (const struct ast_expr *e = r->values; e && !before; e = e->next)
            before = sql__dml_reads_table(s, e, tdb, t->name);
    size_t w = I.ntarget + 1;
    struct sql_datum *vals = given;
    size_t *nvals = sql__arena_alloc(s->arena,
                                     sizeof(*nvals) * (before ? nrows : 1));
    if (before)
        vals = sql__arena_zalloc(s->arena, sizeof(*vals) * w * nrows);
    if (!vals || !nvals) {
        rc = -ENOMEM;
        goto out;
    }
    size_t i = 0;
    for (const struct ast_row *r = rows; r && rc == 0; r = r->next, i++) {
        I.rownum++;
        size_t at = before ? i : 0;
        rc = row_values(&I, &none, r, vals + at * w, &nvals[at]);
        if (rc == 0 && !before)
            rc = insert_given(&I, vals, nvals[0], row);
    }
    if (before)
        I.rownum = 0;
    for (i = 0; before && i < nrows && rc == 0; i++) {
        I.rownum++;
        rc = insert_given(&I, vals + i * w, nvals[i], row);
    }
done:
    if (rc == 0) {
        if (I.d.first_auto)
            s->last_insert_id = I.d.first_auto;
        if (I.rownum > 1 || in->select) {
            snprintf(s->infobuf, sizeof(s->infobuf),
                     "Records: %llu  Duplicates: %llu  Warnings: %zu",
                     (unsigned long long)I.rownum,
                     (unsigned long long)(I.rownum > I.d.affected
                                              ? I.rownum - I.d.affected
                                              : 0),
                     s->nwarns_total);
            s->info = s->infobuf;
        }
        rc = sql__sess_ok(s, I.d.affected, I.d.first_auto);
    }
out:
    dml_free(&I.d);
    return rc;
}

/* ---- UPDATE and DELETE -------------------------------------------------------- */

/* The rows of t that the statement touches, read before any write. */
static int matching_rows(struct dml *d, const struct ast_table_ref *tr,
                         const struct ast_expr *where,
                         const struct ast_order *order,
                         const struct ast_expr *limit, struct sql_datum **rows,
                         int64_t **handles, size_t *n)
{
    struct sql_session *s = d->s;
    const struct sql_tableinfo *t = d->t;
    struct plan *p;
    int rc = sql__plan_rows(s, t, tr->alias, where, order, limit, &p);
    if (rc != 0)
        return rc;
    const struct plan *q = p;
    while (q && q->kind != PL_SCAN)
        q = q->child;
    d->scan_idx = q && (q->acc.kind == ACC_INDEX_RANGE ||
                        q->acc.kind == ACC_UNIQUE_POINT)
                      ? q->acc.idx
                      : -1;
    struct sql_xnode *root;
    if ((rc = sql__exec_open(&d->x, p, &root)) != 0)
        return rc;
    size_t cap = 0;
    *n = 0;
    *rows = NULL;
    *handles = NULL;
    struct sql_chunk *c;
    while ((rc = sql__exec_next(&d->x, root, &c)) == 0 && c->n > 0) {
        for (size_t i = 0; i < c->n && rc == 0; i++) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                struct sql_datum *nr =
                    sql__arena_alloc(s->arena, sizeof(*nr) * cap * t->ncols);
                int64_t *nh = sql__arena_alloc(s->arena, sizeof(*nh) * cap);
                if (!nr || !nh) {
                    rc = -ENOMEM;
                    break;
                }
                if (*n) {
                    memcpy(nr, *rows, sizeof(*nr) * *n * t->ncols);
                    memcpy(nh, *handles, sizeof(*nh) * *n);
                }
                *rows = nr;
                *handles = nh;
            }
            struct sql_datum *dst = *rows + *n * t->ncols;
            memcpy(dst, c->rows + i * c->ncols, sizeof(*dst) * t->ncols);
            for (uint32_t k = 0; k < t->ncols && rc == 0; k++)
                rc = sql__datum_copy(s->arena, &dst[k]);
            (*handles)[(*n)++] = c->handles[i];
        }
    }
    sql__exec_close(root);
    d->x.ev.arena = s->arena;
    return rc;
}

/* Pessimistic mode: lock each matched row and read its latest committed
 * version (a current read, as InnoDB's UPDATE does); a row that changed
 * so that WHERE no longer holds, or that is gone, is dropped. */
static int current_rows(struct dml *d, const struct ast_table_ref *tr,
                        const struct ast_expr *where, struct sql_datum *rows,
                        int64_t *hs, size_t *n)
{
    if (!d->pess)
        return 0;
    const struct sql_tableinfo *t = d->t;
    struct plan_tscope ts = {.s = d->s, .t = t,
                             .alias = tr->alias ? tr->alias : t->name,
                             .db = tr->db ? tr->db : d->s->db,
                             .subqueries = true};
    struct sql_expr *cond = NULL;
    int rc = 0;
    if (where && (rc = sql__plan_compile(d->s, &ts, where, &cond, NULL)) != 0)
        return rc;
    size_t k = 0;
    for (size_t r = 0; r < *n; r++) {
        struct sql_datum *row = rows + k * t->ncols;
        bool found;
        if ((rc = load_row(d, hs[r], row, &found)) != 0)
            return rc;
        if (!found)
            continue;
        if (cond) {
            int truth;
            if ((rc = sql__expr_eval_bool(cond, &d->x.ev, row, &truth)) != 0)
                return sql__xerr(&d->x, rc);
            if (truth != 1)
                continue;
        }
        hs[k++] = hs[r];
    }
    *n = k;
    return 0;
}

static int single_table(struct sql_session *s, const struct ast_table_ref *tr,
                        struct sql_tableinfo **t)
{
    int rc = sql__sess_table(s, tr->db, tr->name, t);
    if (rc == 0 && (*t)->view_sql)
        rc = sql__view_no_write(s, "UPDATE or DELETE");
    return rc;
}

/* The end of one row's UPDATE once SET stored its values into nw (old's
 * copy): nothing when no value changed (*changed false); else ON UPDATE
 * CURRENT_TIMESTAMP columns not assigned, then the write (IGNORE turns a
 * 1062 into a warning and leaves the row). */
static int finish_update(struct dml *d, const struct sql_datum *old,
                         int64_t h, struct sql_datum *nw,
                         const bool *assigned, uint64_t rownum,
                         bool *changed)
{
    const struct sql_tableinfo *t = d->t;
    int rc = 0;
    *changed = false;
    bool diff = false;
    for (uint32_t i = 0; i < t->ncols; i++)
        if (!same_value(&old[i], &nw[i], &t->cols[i].type))
            diff = true;
    if (!diff)
        return 0;
    /* ON UPDATE CURRENT_TIMESTAMP columns not assigned. */
    for (uint32_t i = 0; i < t->ncols && rc == 0; i++)
        if (t->cols[i].on_update_now && !assigned[i]) {
            struct sql_datum v;
            rc = sql__exec_now(&d->x, &v);
            if (rc == 0)
                rc = store_col(d, i, &v, rownum, &nw[i]);
        }
    if (rc == 0 && (rc = update_row(d, old, h, nw)) != 0) {
        if (d->ignore && d->s->err.code == 1062) {
            sql__swarn(d->s, "Warning", 1062, "%s", d->s->err.msg);
            return 0;
        }
        return rc;
    }
    *changed = rc == 0;
    return rc;
}

int sql__dml_update_ok(struct sql_session *s, uint64_t matched,
                       uint64_t changed)
{
    snprintf(s->infobuf, sizeof(s->infobuf),
             "Rows matched: %llu  Changed: %llu  Warnings: %zu",
             (unsigned long long)matched, (unsigned long long)changed,
             s->nwarns_total);
    s->info = s->infobuf;
    bool found_rows = sql_proto_conn_capabilities(s->conn) &
                      SQL_CLIENT_FOUND_ROWS;
    return sql__sess_ok(s, found_rows ? matched : changed, 0);
}

int sql__dml_where_strict(struct sql_session *s, size_t before, bool ignore,
                          int rc)
{
    if ((rc != 0 && rc != SQL_EQUERY) || ignore ||
        !(sql__sess_sql_mode(s) & (SQL_MODE_STRICT_TRANS_TABLES |
                                   SQL_MODE_STRICT_ALL_TABLES)))
        return rc;
    for (size_t i = before; i < s->nwarns; i++) {
        const struct sql_warning *w = &s->warns[i];
        if (strcmp(w->level, "Warning") == 0)
            return sql__serr(s, w->code,
                             w->code == 1292   ? "22007"
                             : w->code == 1365 ? "22012"
                             : w->code == 1916 ? "22003"
                                               : "HY000",
                             "%s", w->msg);
    }
    return rc;
}

/* Table db.name, looked for in subqueries (cur: the current database,
 * for names written without one). */
struct self_read
{
    const char *db;   /* the table's database */
    const char *name; /* its name */
    const char *cur;  /* the session's database, or NULL */
};

static bool sel_reads(const struct ast_select *q, const struct self_read *r);
static bool expr_reads(const struct ast_expr *e, const struct self_read *r);

static bool order_reads(const struct ast_order *o, const struct self_read *r)
{
    for (; o; o = o->next)
        if (expr_reads(o->expr, r))
            return true;
    return false;
}

static bool expr_reads(const struct ast_expr *e, const struct self_read *r)
{
    if (!e)
        return false;
    if (sel_reads(e->sub, r) || expr_reads(e->a, r) || expr_reads(e->b, r) ||
        expr_reads(e->c, r))
        return true;
    for (const struct ast_expr *x = e->args; x; x = x->next)
        if (expr_reads(x, r))
            return true;
    for (const struct ast_when *w = e->whens; w; w = w->next)
        if (expr_reads(w->cond, r) || expr_reads(w->then, r))
            return true;
    return order_reads(e->order, r);
}

static bool ref_reads(const struct ast_table_ref *f, const struct self_read *r)
{
    for (; f; f = f->next) {
        const char *db = f->db ? f->db : r->cur;
        if (f->kind == AST_T_TABLE && db && r->db && f->name &&
            strcmp(db, r->db) == 0 && strcmp(f->name, r->name) == 0)
            return true;
        if (sel_reads(f->sub, r) || ref_reads(f->left, r) ||
            ref_reads(f->right, r) || expr_reads(f->on, r))
            return true;
    }
    return false;
}

static bool sel_reads(const struct ast_select *q, const struct self_read *r)
{
    if (!q)
        return false;
    for (const struct ast_item *it = q->items; it; it = it->next)
        if (expr_reads(it->expr, r))
            return true;
    for (const struct ast_cte *c = q->with; c; c = c->next)
        if (sel_reads(c->query, r))
            return true;
    return ref_reads(q->from, r) || expr_reads(q->where, r) ||
           order_reads(q->group, r) || expr_reads(q->having, r) ||
           order_reads(q->order, r) || sel_reads(q->left, r) ||
           sel_reads(q->right, r);
}

bool sql__dml_reads_table(struct sql_session *s, const struct ast_expr *e,
                          const char *db, const char *name)
{
    struct self_read r = {.db = db, .name = name, .cur = s->db};
    return expr_reads(e, &r);
}

/* ---- the constant members of a single-table UPDATE's WHERE (F32) ---- */

/* Whether e reads nothing a row or an execution gives (no column,
 * parameter, variable, subquery or window): a cheap test before
 * compiling it alone to ask whether it is constant. */
static bool reads_nothing(const struct ast_expr *e)
{
    if (!e)
        return true;
    if (e->kind == AST_E_COLUMN || e->kind == AST_E_PARAM ||
        e->kind == AST_E_STAR || e->kind == AST_E_USERVAR ||
        e->kind == AST_E_SYSVAR || e->kind == AST_E_ASSIGN ||
        e->kind == AST_E_DEFAULT || e->sub || e->over)
        return false;
    if (!reads_nothing(e->a) || !reads_nothing(e->b) || !reads_nothing(e->c))
        return false;
    for (const struct ast_expr *x = e->args; x; x = x->next)
        if (!reads_nothing(x))
            return false;
    for (const struct ast_when *w = e->whens; w; w = w->next)
        if (!reads_nothing(w->cond) || !reads_nothing(w->then))
            return false;
    return true;
}

enum { FOLD_NONE = 2 }; /* fold_where's *t when e is not folded */

/* *out = a literal of truth t (1, 0, or -1 for NULL). */
static int truth_literal(struct sql_session *s, int t,
                         const struct ast_expr **out)
{
    struct ast_expr *l = sql__arena_zalloc(s->arena, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->kind = t < 0 ? AST_E_NULL : AST_E_INT;
    l->ival = t > 0;
    l->height = 1;
    *out = l;
    return 0;
}

/* MariaDB's remove_eq_conds, as its single-table UPDATE runs it: every
 * constant member of the WHERE's AND/OR tree (at any depth, the whole
 * condition too) is evaluated once while optimizing, before strict mode
 * turns warnings into errors, and replaced by its truth; an AND with a
 * FALSE member is FALSE, an OR with a TRUE one TRUE. So `UPDATE .. WHERE
 * CAST(9223372036854775807 AS DECIMAL(10,2)) <> 0` updates every row with
 * one warning where evaluating it per row made 1264 the error (difftest
 * F32). A constant inside a member that reads a column (`c +
 * CAST(..) > 0`) stays per row, as there. *out is e, or a copy with the
 * members folded (e is never changed: a prepared statement runs again);
 * *t its truth when it is now a literal, else FOLD_NONE. NOT is looked
 * through (MariaDB's parser pushes it into AND/OR; a literal keeps the
 * three-valued truth either way). */
static int fold_where(struct dml *d, const struct ast_expr *e,
                      const struct ast_expr **out, int *t)
{
    struct sql_session *s = d->s;
    *out = e;
    *t = FOLD_NONE;
    if (e->kind == AST_E_LOGIC &&
        (e->op == AST_OP_AND || e->op == AST_OP_OR)) {
        int decide = e->op == AST_OP_OR;
        struct ast_expr *cp = NULL, *tail = NULL;
        for (const struct ast_expr *m = e->args; m; m = m->next) {
            const struct ast_expr *f;
            int tm, rc = fold_where(d, m, &f, &tm);
            if (rc != 0)
                return rc;
            if (tm == decide) {
                *t = decide;
                return truth_literal(s, decide, out);
            }
            if (f == m && !cp)
                continue;
            if (!cp) { /* the first change: copy the node and those before */
                if (!(cp = sql__arena_alloc(s->arena, sizeof(*cp))))
                    return -ENOMEM;
                *cp = *e;
                cp->args = NULL;
                for (const struct ast_expr *x = e->args; x != m; x = x->next) {
                    struct ast_expr *c = sql__arena_alloc(s->arena, sizeof(*c));
                    if (!c)
                        return -ENOMEM;
                    *c = *x;
                    c->next = NULL;
                    *(tail ? &tail->next : &cp->args) = c;
                    tail = c;
                }
            }
            struct ast_expr *c = sql__arena_alloc(s->arena, sizeof(*c));
            if (!c)
                return -ENOMEM;
            *c = *f;
            c->next = NULL;
            *(tail ? &tail->next : &cp->args) = c;
            tail = c;
        }
        if (cp)
            *out = cp;
        return 0;
    }
    if (e->kind == AST_E_UNARY && e->op == AST_OP_NOT) {
        const struct ast_expr *f;
        int ta, rc = fold_where(d, e->a, &f, &ta);
        if (rc != 0 || f == e->a)
            return rc;
        if (ta != FOLD_NONE) {
            *t = ta < 0 ? -1 : !ta;
            return truth_literal(s, *t, out);
        }
        struct ast_expr *cp = sql__arena_alloc(s->arena, sizeof(*cp));
        if (!cp)
            return -ENOMEM;
        *cp = *e;
        cp->a = (struct ast_expr *)f;
        *out = cp;
        return 0;
    }
    if (!reads_nothing(e))
        return 0;
    /* Compiled alone; one that does not compile is left for the
     * statement's own compile to report in its order. */
    struct sql_expr_scope sc = {0};
    struct sql_err err = {0};
    struct sql_ftype ft;
    struct sql_expr *x;
    int rc = sql__expr_compile(s->arena, e, &sc, &x, &ft, &err);
    if (rc == -ENOMEM)
        return rc;
    if (rc != 0 || !sql__expr_is_const(x))
        return 0;
    int tv;
    if ((rc = sql__expr_eval_bool(x, &d->x.ev, NULL, &tv)) != 0)
        return sql__xerr(&d->x, rc);
    *t = tv;
    return truth_literal(s, tv, out);
}

/* Whether MariaDB reads this UPDATE's WHERE in the pass that writes
 * (where strict mode makes warnings errors): not when it sorts first
 * (ORDER BY) or changes the key its scan follows (the primary key of a
 * full scan, or the index of a range read, taken to be the one sqld's
 * plan reads: scan_idx); then it collects the rows in a pass of their
 * own, warnings kept. */
static bool where_in_write_pass(const struct sql_tableinfo *t,
                                const struct ast_update *up,
                                const bool *assigned, int scan_idx)
{
    if (up->order)
        return false;
    for (uint32_t i = 0; i < t->nidx; i++) {
        if (!t->idx[i].primary && (int)i != scan_idx)
            continue;
        for (uint32_t k = 0; k < t->idx[i].ncols; k++)
            if (assigned[t->idx[i].cols[k]])
                return false;
    }
    return true;
}

int sql__dml_update(struct sql_session *s, const struct ast_stmt *st)
{
    const struct ast_update *up = st->update;
    if (up->table->kind != AST_T_TABLE || up->table->next)
        return sql__dml_update_multi(s, st);
    struct sql_tableinfo *t;
    int rc = single_table(s, up->table, &t);
    if (rc != 0)
        return rc;
    struct dml d;
    if ((rc = dml_init(&d, s, t)) != 0)
        return rc;
    d.ignore = up->ignore;
    size_t na = 0;
    for (const struct ast_assign *a = up->set; a; a = a->next)
        na++;
    struct sql_expr **vals = sql__arena_alloc(s->arena, sizeof(*vals) * na);
    int *cols = sql__arena_alloc(s->arena, sizeof(int) * na);
    bool *assigned = sql__arena_zalloc(s->arena, sizeof(bool) * t->ncols);
    if (!vals || !cols || !assigned) {
        rc = -ENOMEM;
        goto out;
    }
    struct plan_tscope ts = {.s = s, .t = t,
                             .alias = up->table->alias ? up->table->alias
                                                       : t->name,
                             .db = up->table->db ? up->table->db : s->db,
                             .subqueries = true};
    size_t k = 0;
    for (const struct ast_assign *a = up->set; a; a = a->next, k++) {
        if ((cols[k] = sql__table_col(t, a->col->name)) < 0 ||
            (a->col->table && strcmp(a->col->table, ts.alias) != 0)) {
            rc = sql__serr(s, 1054, "42S22",
                           "Unknown column '%s' in 'field list'",
                           a->col->name);
            goto out;
        }
        assigned[cols[k]] = true;
        vals[k] = NULL;
        if (a->value->kind == AST_E_DEFAULT && !a->value->a)
            continue; /* evaluated per row as the default */
        if ((rc = sql__plan_compile(s, &ts, a->value, &vals[k], NULL)) != 0)
            goto out;
    }
    /* A statement that reads t in a subquery (MariaDB 10.3+: `SET c =
     * (SELECT MAX(c) FROM t)`, `WHERE id IN (SELECT .. FROM t ..)`) is
     * MariaDB's multi-table UPDATE: the subquery reads t as it was
     * before the statement, so every row's new values are made before
     * the first write; every value reads the row as read, not the
     * assignments before it; and the WHERE is read in the strict pass
     * (its warnings are errors, as where_in_write_pass says otherwise). */
    bool self = sql__dml_reads_table(s, up->where, ts.db, t->name);
    for (const struct ast_assign *a = up->set; a && !self; a = a->next)
        self = sql__dml_reads_table(s, a->value, ts.db, t->name);
    for (const struct ast_order *o = up->order; o && !self; o = o->next)
        self = sql__dml_reads_table(s, o->expr, ts.db, t->name);
    struct sql_datum *rows;
    int64_t *hs;
    size_t n;
    d.x.env.flags &= ~SQL_EVAL_DML; /* see sql__dml_where_strict */
    d.x.env.flags |= SQL_EVAL_AS_WRITTEN;
    const struct ast_expr *where = up->where;
    int wt;
    if (where && (rc = fold_where(&d, up->where, &where, &wt)) != 0)
        goto out;
    size_t nw0 = s->nwarns; /* the folded constants' warnings stay so */
    rc = matching_rows(&d, up->table, where, up->order, up->limit, &rows,
                       &hs, &n);
    if (rc == 0)
        rc = current_rows(&d, up->table, where, rows, hs, &n);
    d.x.env.flags &= ~SQL_EVAL_AS_WRITTEN;
    d.x.env.flags |= SQL_EVAL_DML;
    if ((rc = sql__dml_where_strict(
             s, nw0,
             up->ignore ||
                 (!self && !where_in_write_pass(t, up, assigned, d.scan_idx)),
             rc)) != 0)
        goto out;
    struct sql_datum *nw = sql__arena_alloc(
        s->arena, sizeof(*nw) * (t->ncols * (self ? n : 1) + 1));
    if (!nw) {
        rc = -ENOMEM;
        goto out;
    }
    uint64_t changed = 0;
    for (size_t r = 0; r < n && rc == 0; r++) {
        struct sql_datum *old = rows + r * t->ncols;
        struct sql_datum *row = nw + (self ? r * t->ncols : 0);
        memcpy(row, old, sizeof(*row) * t->ncols);
        /* Left to right, each seeing the ones before (MySQL), unless
         * the statement reads t in a subquery (self, above). */
        for (size_t i = 0; i < na && rc == 0; i++) {
            struct sql_datum v;
            if (!vals[i]) {
                bool none;
                rc = sql__exec_default(&d.x, t, (uint32_t)cols[i], &v, &none);
            } else if ((rc = sql__expr_eval(vals[i], &d.x.ev,
                                            self ? old : row, &v)) != 0)
                rc = sql__xerr(&d.x, rc);
            if (rc == 0)
                rc = store_col(&d, (uint32_t)cols[i], &v, r + 1,
                               &row[cols[i]]);
        }
        if (rc != 0 || self)
            continue;
        bool ch;
        if ((rc = finish_update(&d, old, hs[r], row, assigned, r + 1,
                                &ch)) == 0 && ch)
            changed++;
    }
    for (size_t r = 0; self && r < n && rc == 0; r++) {
        bool ch;
        if ((rc = finish_update(&d, rows + r * t->ncols, hs[r],
                                nw + r * t->ncols, assigned, r + 1,
                                &ch)) == 0 && ch)
            changed++;
    }
    if (rc == 0)
        rc = sql__dml_update_ok(s, n, changed);
out:
    dml_free(&d);
    return rc;
}

int sql__dml_delete(struct sql_session *s, const struct ast_stmt *st)
{
    const struct ast_delete *de = st->del;
    if (de->targets)
        return sql__dml_delete_multi(s, st);
    struct sql_tableinfo *t;
    int rc = single_table(s, de->table, &t);
    if (rc != 0)
        return rc;
    struct dml d;
    if ((rc = dml_init(&d, s, t)) != 0)
        return rc;
    struct sql_datum *rows;
    int64_t *hs;
    size_t n;
    d.x.env.flags &= ~SQL_EVAL_DML; /* see sql__dml_where_strict */
    d.x.env.flags |= SQL_EVAL_AS_WRITTEN;
    rc = matching_rows(&d, de->table, de->where, de->order, de->limit, &rows,
                       &hs, &n);
    if (rc == 0)
        rc = current_rows(&d, de->table, de->where, rows, hs, &n);
    d.x.env.flags &= ~SQL_EVAL_AS_WRITTEN;
    d.x.env.flags |= SQL_EVAL_DML;
    for (size_t r = 0; rc == 0 && r < n; r++)
        rc = del_row(&d, rows + r * t->ncols, hs[r]);
    if (rc == 0)
        rc = sql__sess_ok(s, n, 0);
    dml_free(&d);
    return rc;
}

/* ---- the write path of one table, for multi-table UPDATE/DELETE
 * (dml_multi.c; dml_int.h) ------------------------------------------------ */

int sql__dml_open(struct sql_session *s, const struct sql_tableinfo *t,
                  bool ignore, struct dml **out)
{
    struct dml *d = sql__arena_alloc(s->arena, sizeof(*d));
    if (!d)
        return -ENOMEM;
    int rc = dml_init(d, s, t);
    if (rc != 0)
        return rc;
    d->ignore = ignore;
    *out = d;
    return 0;
}

void sql__dml_close(struct dml *d)
{
    if (d)
        dml_free(d);
}

int sql__dml_store(struct dml *d, uint32_t ci, const struct sql_datum *v,
                   uint64_t rownum, struct sql_datum *out)
{
    return store_col(d, ci, v, rownum, out);
}

int sql__dml_finish_update(struct dml *d, const struct sql_datum *old,
                           int64_t h, struct sql_datum *nw,
                           const bool *assigned, uint64_t rownum,
                           bool *changed)
{
    return finish_update(d, old, h, nw, assigned, rownum, changed);
}

int sql__dml_delete_row(struct dml *d, const struct sql_datum *row, int64_t h)
{
    return del_row(d, row, h);
}

int sql__dml_current(struct dml *d, int64_t h, struct sql_datum *row,
                     bool *found)
{
    if (!d->pess) {
        *found = true;
        return 0;
    }
    return load_row(d, h, row, found);
}

int sql__dml_handle_of(struct dml *d, const struct sql_datum *row,
                       int64_t *h, bool *found)
{
    const struct sql_tableinfo *t = d->t;
    *found = false;
    for (uint32_t i = 0; i < t->nidx; i++) {
        if (!t->idx[i].primary || (int32_t)i == t->pk_handle_idx)
            continue;
        bool uk;
        int rc = index_key(d, &t->idx[i], row, 0, &uk);
        if (rc != 0 || !uk)
            return rc;
        uint8_t *v;
        size_t vl;
        bool owned;
        rc = w_get(d, d->kb.p, d->kb.len, &v, &vl, &owned);
        if (rc == MVCC_NOTFOUND)
            return 0;
        if (rc != 0)
            return sql__kverr(d->s, rc);
        if (vl == 8) {
            *h = sql__tc_get_i64(v);
            *found = true;
        }
        if (owned)
            sql__kv_free(v);
        return 0;
    }
    return 0;
}

int sql__dml_default(struct dml *d, uint32_t ci, struct sql_datum *out)
{
    bool none;
    return sql__exec_default(&d->x, d->t, ci, out, &none);
}

/* ---- ALTER TABLE: rewriting rows and building indexes ------------------------ */

/* Delete every entry of index ix of table t inside txn. */
static int drop_index_entries(struct sql_kvtxn *txn, int64_t tid, int64_t iid)
{
    uint8_t p[SQL_TC_INDEX_PREFIX_LEN], e[SQL_TC_INDEX_PREFIX_LEN];
    sql__tc_index_prefix(p, tid, iid);
    sql__tc_prefix_next(p, sizeof(p), e);
    struct sql_kvres res;
    sql__kvres_init(&res);
    int rc;
    for (;;) {
        rc = sql__kvtxn_scan(txn, p, sizeof(p), e, sizeof(e), 1024, false,
                             &res);
        if (rc != 0 || res.r.npairs == 0)
            break;
        for (size_t i = 0; rc == 0 && i < res.r.npairs; i++)
            rc = sql__kvtxn_delete(txn, res.r.pairs[i].key,
                                   res.r.pairs[i].key_len);
        if (rc != 0)
            break;
    }
    sql__kvres_reset(&res);
    return rc;
}

int sql__table_rewrite(struct sql_session *s, struct sql_kvtxn *txn,
                       const struct sql_tableinfo *old,
                       const struct sql_tableinfo *nw, bool rows,
                       const bool *build, const int64_t *drop, size_t ndrop)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ndrop; i++)
        rc = drop_index_entries(txn, old->id, drop[i]);
    if (rc != 0)
        return sql__kverr(s, rc);
    bool any = rows;
    for (uint32_t i = 0; i < nw->nidx; i++)
        any = any || build[i];
    if (!any)
        return 0;
    struct dml d;
    if ((rc = dml_init(&d, s, nw)) != 0)
        return rc;
    d.direct = txn;
    d.x.txn = txn;
    /* Read every row (old layout) first, then write: the writes must not
     * be read back as old rows. */
    uint8_t p[SQL_TC_PREFIX_LEN], e[SQL_TC_PREFIX_LEN];
    sql__tc_prefix(p, old->id, 'r');
    sql__tc_prefix_next(p, sizeof(p), e);
    struct sql_kvres res;
    sql__kvres_init(&res);
    uint8_t *start = p;
    size_t slen = sizeof(p);
    struct sql_datum *orow =
        sql__arena_alloc(s->arena, sizeof(*orow) * (old->ncols + 1));
    struct sql_datum *nrow =
        sql__arena_alloc(s->arena, sizeof(*nrow) * (nw->ncols + 1));
    struct sql_arena *ra = sql__arena_create(0);
    if (!orow || !nrow || !ra) {
        rc = -ENOMEM;
        goto out;
    }
    for (;;) {
        rc = sql__kvtxn_scan(txn, start, slen, e, sizeof(e), 512, false, &res);
        if (rc != 0) {
            rc = sql__kverr(s, rc);
            break;
        }
        if (res.r.npairs == 0)
            break;
        sql__arena_reset(ra);
        d.x.ev.arena = ra;
        /* Decode the batch before writing any of it. */
        size_t n = res.r.npairs;
        struct sql_datum *all = sql__arena_alloc(ra, sizeof(*all) *
                                                         n * (nw->ncols + 1));
        int64_t *hs = sql__arena_alloc(ra, sizeof(*hs) * n);
        if (!all || !hs) {
            rc = -ENOMEM;
            break;
        }
        size_t k = 0;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            struct mvcc_kvpair *kp = &res.r.pairs[i];
            int64_t h;
            if (!sql__tc_row_handle(kp->key, kp->key_len, old->id, &h))
                continue;
            rc = sql__exec_decode_row(&d.x, old, h, kp->value, kp->value_len,
                                      orow, ra);
            struct sql_datum *row = all + k * nw->ncols;
            for (uint32_t c = 0; rc == 0 && c < nw->ncols; c++) {
                int oc = -1;
                for (uint32_t j = 0; j < old->ncols; j++)
                    if (old->cols[j].id == nw->cols[c].id)
                        oc = (int)j;
                if (oc >= 0) {
                    /* added: an ENUM/SET value is its member's text under
                     * the old members (enumset.c), not the stored number */
                    rc = sql__enumset_datum(&old->cols[oc].type, &orow[oc],
                                            ra);
                    if (rc == 0)
                        rc = store_col(&d, c, &orow[oc], k + 1, &row[c]);
                    if (rc == 0)
                        rc = sql__datum_copy(ra, &row[c]);
                } else {
                    bool none;
                    rc = sql__exec_default(&d.x, nw, c, &row[c], &none);
                    if (rc == 0 && row[c].vt == SQL_VT_NULL)
                        rc = store_col(&d, c, &row[c], k + 1, &row[c]);
                }
            }
            hs[k++] = h;
        }
        if (rc != 0)
            break;
        struct mvcc_kvpair *last = &res.r.pairs[n - 1];
        uint8_t *next = sql__arena_alloc(s->arena, last->key_len + 1);
        if (!next) {
            rc = -ENOMEM;
            break;
        }
        memcpy(next, last->key, last->key_len);
        next[last->key_len] = 0;
        start = next;
        slen = last->key_len + 1;
        for (size_t i = 0; rc == 0 && i < k; i++) {
            struct sql_datum *row = all + i * nw->ncols;
            if (rows) {
                size_t m = 0;
                for (uint32_t c = 0; c < nw->ncols; c++) {
                    if ((int32_t)c == nw->handle_col)
                        continue;
                    d.rc[m].id = nw->cols[c].id;
                    d.rc[m++].d = row[c];
                }
                d.vb.len = 0;
                uint8_t rk[SQL_TC_ROW_KEY_LEN];
                sql__tc_row_key(rk, nw->id, hs[i]);
                rc = sql__row_encode(&d.vb, d.rc, m);
                if (rc == 0)
                    rc = sql__kvtxn_set(txn, rk, sizeof(rk),
                                        d.vb.p ? d.vb.p : rk, d.vb.len);
            }
            for (uint32_t x = 0; rc == 0 && x < nw->nidx; x++) {
                if (!build[x] || (int32_t)x == nw->pk_handle_idx)
                    continue;
                bool uk;
                if ((rc = index_key(&d, &nw->idx[x], row, hs[i], &uk)) != 0)
                    break;
                if (uk) {
                    uint8_t *v;
                    size_t vl;
                    int g = sql__kvtxn_get(txn, d.kb.p, d.kb.len, &v, &vl);
                    if (g == 0) {
                        sql__kv_free(v);
                        rc = dup_error(&d, &nw->idx[x], row);
                        break;
                    }
                    if (g != MVCC_NOTFOUND) {
                        rc = sql__kverr(s, g);
                        break;
                    }
                }
                uint8_t hv[8];
                sql__tc_put_i64(hv, hs[i]);
                rc = uk ? sql__kvtxn_set(txn, d.kb.p, d.kb.len, hv, 8)
                        : sql__kvtxn_set(txn, d.kb.p, d.kb.len, "0", 1);
            }
        }
        if (rc != 0)
            break;
    }
out:
    sql__kvres_reset(&res);
    sql__arena_destroy(ra);
    dml_free(&d);
    return rc;
}

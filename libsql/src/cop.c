/* cop.c: the coprocessor's request and response codec (byte tables in
 * cop.h) and the evaluator that runs next to the data: sql_cop_run reads
 * a table's rows in [start, end) at ts from a libmvcc store, keeps those
 * its conditions accept (libsql's own parser, compiler and evaluator)
 * and answers them in chunks. DESIGN.md, "Coprocessor".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sql.h>

#include "catalog.h"
#include "codec.h"
#include "cop.h"
#include "expr.h"
#include "parse.h"
#include "tablecodec.h"

/* ---- varints ---------------------------------------------------------- */

static int put_v(struct sql__buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            t[n] |= 0x80;
        n++;
    } while (v);
    return sql__buf_put(b, t, n);
}

static int put_bytes(struct sql__buf *b, const void *p, size_t n)
{
    int rc = put_v(b, n);
    return rc ? rc : sql__buf_put(b, p, n);
}

struct rd
{
    const uint8_t *p; /* input */
    size_t n;         /* its length */
    size_t off;       /* read position */
    bool bad;         /* a read ran past the end or overflowed */
};

static uint64_t get_v(struct rd *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->off >= r->n) {
            r->bad = true;
            return 0;
        }
        uint8_t c = r->p[r->off++];
        if (shift == 63 && (c & 0x7e)) {
            r->bad = true;
            return 0;
        }
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static const uint8_t *get_bytes(struct rd *r, size_t *len)
{
    uint64_t n = get_v(r);
    if (r->bad || n > r->n - r->off) {
        r->bad = true;
        *len = 0;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += (size_t)n;
    *len = (size_t)n;
    return p;
}

static uint8_t get_u8(struct rd *r)
{
    if (r->off >= r->n) {
        r->bad = true;
        return 0;
    }
    return r->p[r->off++];
}

/* ---- request ---------------------------------------------------------- */

int sql__cop_req_encode(const struct sql_cop_req *r, struct sql__buf *b)
{
    size_t nx = r->nkeys + r->naggs;
    if (r->nconds > SQL_COP_MAX_CONDS || r->max_rows == 0 ||
        r->max_rows > SQL_COP_MAX_ROWS || r->mode < SQL_COP_ROWS ||
        r->mode > SQL_COP_TOPN ||
        (r->mode != SQL_COP_ROWS && (nx == 0 || nx > SQL_COP_MAX_EXPRS)) ||
        (r->mode == SQL_COP_TOPN && r->naggs != 0) ||
        (r->flags & ~(SQL_COP_FLAG_DESC | SQL_COP_FLAG_PROJECT)) ||
        (r->flags && r->mode != SQL_COP_ROWS) ||
        ((r->flags & SQL_COP_FLAG_PROJECT) &&
         (r->index || r->nproj == 0 || r->nproj > SQL_COP_MAX_PROJ)) ||
        r->nresolved > SQL_COP_MAX_RESOLVED)
        return -EINVAL;
    /* the lowest version the request needs (2; 3 for a flag, 4 for
     * resolved locks): a kvd of an earlier version serves every request
     * that needs none of them */
    uint8_t version = r->nresolved ? 4 : r->flags ? 3 : 2;
    uint8_t head[2] = {SQL_COP_REQ_MAGIC, version};
    int32_t tz = r->tz_offset_s;
    uint64_t ztz = tz < 0 ? ((uint64_t)(-(int64_t)tz) << 1) - 1
                          : (uint64_t)tz << 1;
    int rc = sql__buf_put(b, head, sizeof(head));
    rc = rc ? rc : put_v(b, r->sql_mode);
    rc = rc ? rc : put_v(b, ztz);
    rc = rc ? rc : put_v(b, r->max_rows);
    rc = rc ? rc : put_bytes(b, r->table, r->table_len);
    rc = rc ? rc : put_v(b, r->nconds);
    for (size_t i = 0; rc == 0 && i < r->nconds; i++)
        rc = put_bytes(b, r->conds[i], r->cond_lens[i]);
    rc = rc ? rc : put_v(b, (uint64_t)r->mode);
    rc = rc ? rc : put_v(b, r->index);
    if (r->mode != SQL_COP_ROWS) {
        rc = rc ? rc : put_v(b, r->nkeys);
        rc = rc ? rc : put_v(b, r->naggs);
        for (size_t i = 0; rc == 0 && i < nx; i++) {
            rc = put_bytes(b, r->exprs[i], r->expr_lens[i]);
            if (rc == 0 && r->mode == SQL_COP_TOPN)
                rc = sql__buf_put(b, &r->desc[i], 1);
        }
    }
    if (version >= 3) { /* (ROWS has no expressions: where version 3 put
                           its flags, after the index) */
        rc = rc ? rc : put_v(b, r->flags);
        if (r->flags & SQL_COP_FLAG_PROJECT)
            rc = rc ? rc : put_v(b, r->nproj);
        for (size_t i = 0; rc == 0 && i < r->nproj; i++)
            rc = put_v(b, r->proj[i]);
    }
    if (version >= 4) {
        rc = rc ? rc : put_v(b, r->nresolved);
        for (size_t i = 0; rc == 0 && i < r->nresolved; i++)
            rc = put_v(b, r->resolved[i]);
    }
    return rc;
}

/* Version 2's mode and expressions. */
static int decode_mode(struct rd *r, struct sql_arena *a,
                       struct sql_cop_req *out)
{
    uint64_t mode = get_v(r);
    if (r->bad || mode > SQL_COP_TOPN)
        return SQL_EPROTO;
    out->mode = (int)mode;
    uint64_t index = get_v(r);
    if (r->bad || index > UINT32_MAX)
        return SQL_EPROTO;
    out->index = (uint32_t)index;
    if (mode == SQL_COP_ROWS)
        return 0;
    uint64_t nk = get_v(r), na = get_v(r);
    if (r->bad || nk > SQL_COP_MAX_EXPRS || na > SQL_COP_MAX_EXPRS ||
        nk + na == 0 || nk + na > SQL_COP_MAX_EXPRS ||
        (mode == SQL_COP_TOPN && na != 0))
        return SQL_EPROTO;
    size_t nx = (size_t)(nk + na);
    out->nkeys = (size_t)nk;
    out->naggs = (size_t)na;
    out->exprs = sql__arena_alloc(a, sizeof(*out->exprs) * nx);
    out->expr_lens = sql__arena_alloc(a, sizeof(*out->expr_lens) * nx);
    uint8_t *desc = sql__arena_zalloc(a, nx);
    if (!out->exprs || !out->expr_lens || !desc)
        return -ENOMEM;
    for (size_t i = 0; i < nx; i++) {
        out->exprs[i] = (const char *)get_bytes(r, &out->expr_lens[i]);
        if (mode == SQL_COP_TOPN && (desc[i] = get_u8(r)) > 1)
            return SQL_EPROTO;
    }
    out->desc = desc;
    return r->bad ? SQL_EPROTO : 0;
}

int sql__cop_req_decode(const uint8_t *p, size_t n, struct sql_arena *a,
                        struct sql_cop_req *out)
{
    struct rd r = {.p = p, .n = n};
    memset(out, 0, sizeof(*out));
    uint8_t magic = get_u8(&r), version = get_u8(&r);
    if (magic != SQL_COP_REQ_MAGIC || version < 1 ||
        version > SQL_COP_VERSION)
        return SQL_EPROTO;
    uint64_t mode = get_v(&r);
    uint64_t ztz = get_v(&r);
    uint64_t rows = get_v(&r);
    out->table = get_bytes(&r, &out->table_len);
    uint64_t nc = get_v(&r);
    if (r.bad || mode > UINT32_MAX || ztz > 2u * 86400u || rows == 0 ||
        rows > SQL_COP_MAX_ROWS || nc > SQL_COP_MAX_CONDS)
        return SQL_EPROTO;
    out->sql_mode = (uint32_t)mode;
    out->tz_offset_s = (ztz & 1) ? -(int32_t)((ztz + 1) >> 1)
                                 : (int32_t)(ztz >> 1);
    out->max_rows = (uint32_t)rows;
    out->nconds = (size_t)nc;
    out->conds = sql__arena_alloc(a, sizeof(*out->conds) * (nc + 1));
    out->cond_lens = sql__arena_alloc(a, sizeof(*out->cond_lens) * (nc + 1));
    if (!out->conds || !out->cond_lens)
        return -ENOMEM;
    for (size_t i = 0; i < out->nconds; i++)
        out->conds[i] = (const char *)get_bytes(&r, &out->cond_lens[i]);
    if (r.bad)
        return SQL_EPROTO;
    int rc = version >= 2 ? decode_mode(&r, a, out) : 0;
    if (rc != 0)
        return rc;
    if (version >= 3) {
        uint64_t flags = get_v(&r);
        if (r.bad ||
            (flags & ~(uint64_t)(SQL_COP_FLAG_DESC | SQL_COP_FLAG_PROJECT)) ||
            (flags && out->mode != SQL_COP_ROWS) ||
            ((flags & SQL_COP_FLAG_PROJECT) && out->index))
            return SQL_EPROTO;
        out->flags = (uint32_t)flags;
        uint64_t np = flags & SQL_COP_FLAG_PROJECT ? get_v(&r) : 0;
        if (r.bad || ((flags & SQL_COP_FLAG_PROJECT) &&
                      (np == 0 || np > SQL_COP_MAX_PROJ)))
            return SQL_EPROTO;
        uint32_t *proj = np ? sql__arena_alloc(a, sizeof(*proj) * np) : NULL;
        if (np && !proj)
            return -ENOMEM;
        for (size_t i = 0; i < np; i++) {
            uint64_t c = get_v(&r);
            if (r.bad || c > UINT32_MAX)
                return SQL_EPROTO;
            proj[i] = (uint32_t)c;
        }
        out->proj = proj;
        out->nproj = (size_t)np;
    }
    if (version >= 4) {
        uint64_t nr = get_v(&r);
        if (r.bad || nr == 0 || nr > SQL_COP_MAX_RESOLVED)
            return SQL_EPROTO;
        uint64_t *res = sql__arena_alloc(a, sizeof(*res) * nr);
        if (!res)
            return -ENOMEM;
        for (size_t i = 0; i < nr; i++)
            res[i] = get_v(&r);
        if (r.bad)
            return SQL_EPROTO;
        out->resolved = res;
        out->nresolved = (size_t)nr;
    }
    if (r.off != n)
        return SQL_EPROTO;
    return 0;
}

int sql__cop_req_table_id(const struct sql_cop_req *r, int64_t *id)
{
    struct sql_tableinfo *t = NULL;
    int rc = sql__table_decode(r->table, r->table_len, &t);
    if (rc == 0)
        *id = t->id;
    sql__tableinfo_free(t);
    return rc == -ENOMEM ? rc : rc ? SQL_EPROTO : 0;
}

/* ---- response --------------------------------------------------------- */

int sql__cop_resp_decode(const uint8_t *p, size_t n, struct sql_cop_resp *out)
{
    struct rd r = {.p = p, .n = n};
    memset(out, 0, sizeof(*out));
    if (get_u8(&r) != SQL_COP_RESP_MAGIC)
        return SQL_EPROTO;
    uint64_t flags = get_v(&r);
    out->more = (flags & 1) != 0;
    out->bounded = (flags & 2) != 0;
    out->fallback = (flags & 4) != 0;
    out->nread = get_v(&r);
    out->resume = get_bytes(&r, &out->resume_len);
    out->end = get_bytes(&r, &out->end_len);
    uint64_t nrows = get_v(&r);
    if (r.bad || flags > 7 || nrows > SQL_COP_MAX_ROWS ||
        (out->fallback && nrows != 0) ||
        (out->more && out->resume_len == 0) ||
        out->bounded != (out->end_len != 0))
        return SQL_EPROTO;
    out->nrows = (size_t)nrows;
    out->rows = p + r.off;
    for (size_t i = 0; i < out->nrows; i++) {
        size_t kl, vl;
        (void)get_bytes(&r, &kl);
        (void)get_bytes(&r, &vl);
    }
    if (r.bad || r.off != n)
        return SQL_EPROTO;
    out->rows_len = n - (size_t)(out->rows - p);
    return 0;
}

int sql_cop_answer_counts(const uint8_t *resp, size_t resp_len,
                          uint64_t *nread, uint64_t *nrows)
{
    struct sql_cop_resp r;
    int rc = sql__cop_resp_decode(resp, resp_len, &r);
    *nread = rc ? 0 : r.nread;
    *nrows = rc ? 0 : r.nrows;
    return rc;
}

int sql__cop_resp_row(const struct sql_cop_resp *r, size_t *off,
                      const uint8_t **key, size_t *key_len,
                      const uint8_t **value, size_t *value_len)
{
    if (*off >= r->rows_len)
        return 0;
    struct rd d = {.p = r->rows, .n = r->rows_len, .off = *off};
    *key = get_bytes(&d, key_len);
    *value = get_bytes(&d, value_len);
    *off = d.off;
    return d.bad ? 0 : 1;
}

/* ---- the evaluator next to the data ----------------------------------- */

/* Names resolve to the one table's columns (qualifiers were checked when
 * sqld chose the condition). */
static int table_column(void *ctx, const struct ast_expr *col,
                        struct sql_colref *out, struct sql_err *err)
{
    const struct sql_tableinfo *t = ctx;
    (void)err;
    int ci = sql__table_col(t, col->name);
    if (ci < 0)
        return SQL_ENOTFOUND;
    out->index = (uint32_t)ci;
    out->type = t->cols[ci].type;
    return 0;
}

void sql__cop_scope(const struct sql_tableinfo *t,
                    struct sql_expr_scope *out)
{
    memset(out, 0, sizeof(*out));
    out->ctx = (void *)t;
    out->column = table_column;
}

int sql__cop_parse(struct sql_arena *a, const char *cond, size_t n,
                   const struct ast_expr **out)
{
    /* "SELECT <expr>": the parser's own entry, the expression its item */
    char *text = sql__arena_alloc(a, n + 8);
    if (!text)
        return -ENOMEM;
    memcpy(text, "SELECT ", 7);
    memcpy(text + 7, cond, n);
    text[n + 7] = '\0';
    struct sql_parse_result pr;
    int rc = sql__parse_one(a, text, n + 7, &pr);
    if (rc == -ENOMEM)
        return rc;
    if (rc != 0 || !pr.stmt || pr.stmt->kind != AST_SELECT ||
        pr.next != n + 7 || !pr.stmt->select->items ||
        pr.stmt->select->items->next || pr.stmt->select->from)
        return SQL_EPROTO;
    *out = pr.stmt->select->items->expr;
    return 0;
}

int sql__cop_put_row(struct sql__buf *b, const void *key, size_t key_len,
                     const void *value, size_t value_len)
{
    int rc = put_bytes(b, key, key_len);
    return rc ? rc : put_bytes(b, value, value_len);
}

struct run
{
    struct sql_arena *a;          /* request: table, conditions */
    struct sql_arena *ra;         /* per row */
    struct sql_tableinfo *t;      /* the table */
    struct sql_expr **conds;      /* compiled conditions */
    size_t nconds;                /* their count */
    uint32_t *ids;                /* column ids */
    struct sql_datum *row;        /* decoded row */
    bool *found;                  /* per column: in the stored row */
    struct sql_eval_env env;      /* sql_mode, time zone */
    struct sql_err err;           /* evaluation errors (dropped) */
    struct sql_eval ev;           /* env + ra + err */
    int mode;                     /* enum sql_cop_mode */
    const struct sql_idxinfo *ix; /* an index scan's index, or NULL */
    uint8_t ixpre[SQL_TC_INDEX_PREFIX_LEN]; /* its entries' prefix */
    bool warned;                  /* the row's evaluation warned */
    struct sql_cop_sink *sink;    /* AGG, TOPN: what takes the rows */
    struct sql_rowcol *pcols;     /* PROJECT: the columns sent, or NULL */
    const uint32_t *proj;         /* ... their positions */
    size_t nproj;                 /* ... their count (the handle's not
                                     counted: the key holds it) */
    struct sql__buf pval;         /* ... a projected row's value */
};

static void run_warn(void *ctx, const char *level, uint16_t code,
                     const char *msg)
{
    struct run *x = ctx;
    (void)level;
    (void)code;
    (void)msg;
    x->warned = true; /* sqld's evaluation would show it */
}

static int compile_conds(struct run *x, const struct sql_cop_req *q)
{
    x->conds = sql__arena_zalloc(x->a, sizeof(*x->conds) * (q->nconds + 1));
    if (!x->conds)
        return -ENOMEM;
    struct sql_expr_scope scope;
    sql__cop_scope(x->t, &scope);
    for (size_t i = 0; i < q->nconds; i++) {
        const struct ast_expr *e;
        int rc = sql__cop_parse(x->a, q->conds[i], q->cond_lens[i], &e);
        if (rc != 0)
            return rc;
        struct sql_ftype type;
        rc = sql__expr_compile(x->a, e, &scope, &x->conds[x->nconds], &type,
                               &x->err);
        if (rc == -ENOMEM)
            return rc;
        if (rc != 0)
            return SQL_EPROTO;
        x->nconds++;
    }
    return 0;
}

enum verdict
{
    V_DROP,   /* a condition is not TRUE */
    V_KEEP,   /* every condition is TRUE */
    V_UNSURE, /* not decidable here: sqld decides */
};

/* What the conditions say of the row in x->row. */
static int eval_conds(struct run *x, int *verdict)
{
    for (size_t i = 0; i < x->nconds; i++) {
        int truth;
        int rc = sql__expr_eval_bool(x->conds[i], &x->ev, x->row, &truth);
        if (rc == -ENOMEM)
            return rc;
        if (rc != 0)
            return 0; /* sqld evaluates it again and reports the error */
        if (truth != 1) {
            *verdict = V_DROP;
            return 0;
        }
    }
    /* a warning is sqld's to show: AGG leaves such rows to it */
    *verdict = x->warned && x->mode == SQL_COP_AGG ? V_UNSURE : V_KEEP;
    return 0;
}

static void set_handle(struct run *x, int64_t h)
{
    const struct sql_tableinfo *t = x->t;
    struct sql_datum *d = &x->row[t->handle_col];
    memset(d, 0, sizeof(*d));
    if (t->cols[t->handle_col].type.flags & SQL_COLFLAG_UNSIGNED) {
        d->vt = SQL_VT_UINT;
        d->v.u = (uint64_t)h;
    } else {
        d->vt = SQL_VT_INT;
        d->v.i = h;
    }
}

/* An index entry (key k, value v): its columns (and the handle) decoded
 * from the key into x->row, the rest NULL (the conditions read none of
 * them), then judged. */
static int judge_entry(struct run *x, const uint8_t *k, size_t klen,
                       const uint8_t *v, size_t vlen, int *verdict)
{
    const struct sql_tableinfo *t = x->t;
    *verdict = V_UNSURE;
    sql__arena_reset(x->ra);
    x->warned = false;
    memset(x->row, 0, sizeof(*x->row) * t->ncols);
    size_t off = SQL_TC_INDEX_PREFIX_LEN;
    for (uint32_t i = 0; i < x->ix->ncols; i++) {
        uint32_t c = x->ix->cols[i];
        if (c >= t->ncols ||
            sql__key_decode(k, klen, &off, &t->cols[c].type, x->ra,
                            &x->row[c]) != 0)
            return 0; /* sqld reads the entry */
    }
    if (t->handle_col >= 0) {
        if (klen - off == 8)
            set_handle(x, sql__tc_get_i64(k + off));
        else if (klen == off && vlen == 8)
            set_handle(x, sql__tc_get_i64(v));
        else
            return 0;
    }
    return eval_conds(x, verdict);
}

/* What the conditions say of the row (handle h, stored value v); the
 * row's columns are in x->row unless V_UNSURE. */
static int judge(struct run *x, int64_t h, const uint8_t *v, size_t vlen,
                 int *verdict)
{
    const struct sql_tableinfo *t = x->t;
    *verdict = V_KEEP;
    if (x->nconds == 0 && x->mode == SQL_COP_ROWS && !x->pcols)
        return 0;
    *verdict = V_UNSURE;
    sql__arena_reset(x->ra);
    x->warned = false;
    int rc = sql__row_decode(v, vlen, x->ids, t->ncols, x->row, x->found,
                             x->ra);
    if (rc == -ENOMEM)
        return rc;
    if (rc != 0)
        return 0; /* sqld reports the malformed row */
    for (uint32_t i = 0; i < t->ncols; i++) {
        if ((int32_t)i == t->handle_col)
            set_handle(x, h);
        else if (!x->found[i])
            return 0; /* its default lives in sqld's evaluation */
    }
    return eval_conds(x, verdict);
}

static int run_setup(struct run *x, const void *req, size_t req_len,
                     struct sql_cop_req *q)
{
    x->a = sql__arena_create(0);
    x->ra = sql__arena_create(0);
    if (!x->a || !x->ra)
        return -ENOMEM;
    int rc = sql__cop_req_decode(req, req_len, x->a, q);
    if (rc != 0)
        return rc;
    rc = sql__table_decode(q->table, q->table_len, &x->t);
    if (rc == -ENOMEM)
        return rc;
    if (rc != 0 || !x->t)
        return SQL_EPROTO;
    size_t nc = x->t->ncols ? x->t->ncols : 1;
    x->ids = sql__arena_alloc(x->a, sizeof(*x->ids) * nc);
    x->row = sql__arena_zalloc(x->a, sizeof(*x->row) * nc);
    x->found = sql__arena_zalloc(x->a, sizeof(*x->found) * nc);
    if (!x->ids || !x->row || !x->found)
        return -ENOMEM;
    for (uint32_t i = 0; i < x->t->ncols; i++)
        x->ids[i] = x->t->cols[i].id;
    x->env.sql_mode = q->sql_mode;
    x->env.tz_offset_s = q->tz_offset_s;
    x->env.ctx = x;
    x->env.warn = run_warn;
    x->ev.env = &x->env;
    x->ev.arena = x->ra;
    x->ev.err = &x->err;
    x->mode = q->mode;
    if (q->index) {
        if (q->index > x->t->nidx)
            return SQL_EPROTO;
        x->ix = &x->t->idx[q->index - 1];
        sql__tc_index_prefix(x->ixpre, x->t->id, x->ix->id);
    }
    if (q->flags & SQL_COP_FLAG_PROJECT) {
        x->pcols = sql__arena_zalloc(x->a, sizeof(*x->pcols) * q->nproj);
        uint32_t *keep = sql__arena_alloc(x->a, sizeof(*keep) * q->nproj);
        if (!x->pcols || !keep)
            return -ENOMEM;
        for (size_t i = 0; i < q->nproj; i++) {
            if (q->proj[i] >= x->t->ncols)
                return SQL_EPROTO;
            if ((int32_t)q->proj[i] != x->t->handle_col)
                keep[x->nproj++] = q->proj[i];
        }
        x->proj = keep;
    }
    rc = compile_conds(x, q);
    if (rc == 0 && x->mode != SQL_COP_ROWS)
        rc = sql__cop_sink_create(q, x->t, x->a, &x->warned, &x->sink);
    return rc;
}

static void run_free(struct run *x)
{
    sql__buf_free(&x->pval);
    sql__cop_sink_free(x->sink);
    sql__tableinfo_free(x->t);
    if (x->ra)
        sql__arena_destroy(x->ra);
    if (x->a)
        sql__arena_destroy(x->a);
}

/* Rows are read from the store a page at a time, each page checked for
 * locks at ts by mvcc_scan itself (MVCC_LOCKED goes back with its lock
 * info, so the client resolves it and sends again). */
#define PAGE 512

/* Where the answer stands after one row was taken. */
enum step
{
    S_GO_ON,    /* read on */
    S_FULL,     /* the answer is full: resume after this row */
    S_FALLBACK, /* AGG: the rows go to sqld */
};

/* Take the row kp (handle h) into the answer. */
static int take(struct run *x, const struct sql_cop_req *q,
                const struct mvcc_kvpair *kp, int64_t h, struct sql__buf *rows,
                uint64_t *nrows, int *step)
{
    int verdict;
    bool unsure = false;
    *step = S_GO_ON;
    int rc = x->ix ? judge_entry(x, kp->key, kp->key_len, kp->value,
                                 kp->value_len, &verdict)
                   : judge(x, h, kp->value, kp->value_len, &verdict);
    if (rc != 0 || verdict == V_DROP)
        return rc;
    switch (x->mode) {
    case SQL_COP_AGG:
        if (verdict == V_UNSURE) {
            *step = S_FALLBACK;
            return 0;
        }
        x->warned = false;
        rc = sql__cop_sink_add(x->sink, &x->ev, x->row, kp->key, kp->key_len,
                               kp->value, kp->value_len, &unsure);
        if (rc == 0 && (unsure || x->warned))
            *step = S_FALLBACK;
        else if (rc == 0 && sql__cop_sink_full(x->sink, q->max_rows))
            *step = S_FULL;
        return rc;
    case SQL_COP_TOPN:
        return sql__cop_sink_add(x->sink, &x->ev,
                                 verdict == V_KEEP ? x->row : NULL, kp->key,
                                 kp->key_len, kp->value, kp->value_len,
                                 &unsure);
    default:
        if (x->pcols && verdict == V_KEEP) {
            /* only the columns sqld reads: x->row holds them all */
            for (size_t i = 0; i < x->nproj; i++) {
                x->pcols[i].id = x->t->cols[x->proj[i]].id;
                x->pcols[i].d = x->row[x->proj[i]];
            }
            x->pval.len = 0;
            rc = sql__row_encode(&x->pval, x->pcols, x->nproj);
            rc = rc ? rc
                    : sql__cop_put_row(rows, kp->key, kp->key_len,
                                       x->pval.p, x->pval.len);
        } else
            rc = sql__cop_put_row(rows, kp->key, kp->key_len, kp->value,
                                  kp->value_len);
        if (rc == 0 &&
            (++*nrows >= q->max_rows || rows->len >= SQL_COP_MAX_BYTES))
            *step = S_FULL;
        return rc;
    }
}

int sql_cop_run(void *ctx, struct mvcc_store *s, const void *start,
                size_t start_len, const void *end, size_t end_len,
                uint64_t ts, const void *req, size_t req_len, uint8_t **resp,
                size_t *resp_len, struct mvcc_result *res)
{
    (void)ctx;
    struct run x;
    memset(&x, 0, sizeof(x));
    struct sql_cop_req q;
    struct sql__buf rows = {0}, out = {0}, from = {0};
    uint64_t nread = 0, nrows = 0;
    bool more = false, fallback = false;
    *resp = NULL;
    *resp_len = 0;
    int rc = run_setup(&x, req, req_len, &q);
    if (rc != 0)
        goto done;
    uint64_t max_read = x.mode == SQL_COP_ROWS ? SQL_COP_MAX_READ
                                               : SQL_COP_MAX_READ_AGG;
    /* from: ascending, where the next page starts (inclusive);
     * descending, where it ends (exclusive; empty: unbounded) */
    bool desc = (q.flags & SQL_COP_FLAG_DESC) != 0;
    if (desc)
        rc = sql__buf_put(&from, end ? end : "", end ? end_len : 0);
    else
        rc = sql__buf_put(&from, start ? start : "", start_len);
    if (rc != 0)
        goto done;
    for (;;) {
        struct mvcc_read_opts ro = {.limit = PAGE, .reverse = desc,
                                    .bypass = q.resolved,
                                    .nbypass = q.nresolved};
        const uint8_t *fp = from.p ? from.p : (const uint8_t *)"";
        mvcc_result_reset(res);
        if (desc)
            rc = mvcc_scan(s, &ro, start ? start : "", start_len,
                           from.len ? fp : NULL, from.len, ts, res);
        else
            rc = mvcc_scan(s, &ro, fp, from.len, end, end_len, ts, res);
        if (rc != 0)
            goto done; /* res holds the lock or the detail */
        size_t got = res->npairs;
        for (size_t i = 0; i < got; i++) {
            const struct mvcc_kvpair *kp = &res->pairs[i];
            int64_t h = 0;
            int step;
            nread++;
            if (x.ix ? kp->key_len < SQL_TC_INDEX_PREFIX_LEN ||
                           memcmp(kp->key, x.ixpre, sizeof(x.ixpre)) != 0
                     : !sql__tc_row_handle(kp->key, kp->key_len, x.t->id, &h))
                continue;
            if ((rc = take(&x, &q, kp, h, &rows, &nrows, &step)) != 0)
                goto done;
            if (step == S_FALLBACK) {
                fallback = true;
                goto answer;
            }
            if (step == S_FULL) {
                more = true; /* the answer is full: resume after kp */
                from.len = 0;
                rc = sql__buf_put(&from, kp->key, kp->key_len);
                goto answer;
            }
        }
        if (got < PAGE)
            break; /* the range is read */
        const struct mvcc_kvpair *last = &res->pairs[got - 1];
        from.len = 0;
        if ((rc = sql__buf_put(&from, last->key, last->key_len)) != 0)
            goto done;
        if (nread >= max_read) {
            more = true; /* long enough for one call: resume after last */
            break;
        }
        if (desc)
            continue; /* the next page ends at last (exclusive) */
        uint8_t zero = 0; /* the next key after last */
        if ((rc = sql__buf_put(&from, &zero, 1)) != 0)
            goto done;
    }
answer:
    if (rc != 0)
        goto done;
    mvcc_result_reset(res);
    if (fallback) {
        more = false;
        rows.len = 0;
        nrows = 0;
    } else if (x.sink && (rc = sql__cop_sink_flush(x.sink, &rows, &nrows)))
        goto done;
    uint8_t magic = SQL_COP_RESP_MAGIC;
    rc = sql__buf_put(&out, &magic, 1);
    /* the far side of the range served: its end, or descending its
     * start (cop.h) */
    const void *edge = desc ? start : end;
    size_t edge_len = desc ? start_len : end_len;
    bool bounded = edge && edge_len;
    rc = rc ? rc
            : put_v(&out, (more ? 1u : 0u) | (bounded ? 2u : 0u) |
                              (fallback ? 4u : 0u));
    rc = rc ? rc : put_v(&out, nread);
    rc = rc ? rc : put_bytes(&out, from.p, more ? from.len : 0);
    rc = rc ? rc : put_bytes(&out, edge, bounded ? edge_len : 0);
    rc = rc ? rc : put_v(&out, nrows);
    rc = rc ? rc : sql__buf_put(&out, rows.p, rows.len);
    if (rc != 0)
        goto done;
    *resp = mvcc_malloc(out.len ? out.len : 1);
    if (!*resp) {
        rc = -ENOMEM;
        goto done;
    }
    memcpy(*resp, out.p, out.len);
    *resp_len = out.len;
done:
    if (rc == SQL_EPROTO)
        snprintf(res->errmsg, sizeof(res->errmsg),
                 "malformed coprocessor request");
    sql__buf_free(&from);
    sql__buf_free(&out);
    sql__buf_free(&rows);
    run_free(&x);
    return rc;
}

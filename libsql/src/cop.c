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
    if (r->nconds > SQL_COP_MAX_CONDS || r->max_rows == 0 ||
        r->max_rows > SQL_COP_MAX_ROWS)
        return -EINVAL;
    uint8_t head[2] = {SQL_COP_REQ_MAGIC, SQL_COP_VERSION};
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
    return rc;
}

int sql__cop_req_decode(const uint8_t *p, size_t n, struct sql_arena *a,
                        struct sql_cop_req *out)
{
    struct rd r = {.p = p, .n = n};
    memset(out, 0, sizeof(*out));
    if (get_u8(&r) != SQL_COP_REQ_MAGIC || get_u8(&r) != SQL_COP_VERSION)
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
    if (r.bad || r.off != n)
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
    out->nread = get_v(&r);
    out->resume = get_bytes(&r, &out->resume_len);
    out->end = get_bytes(&r, &out->end_len);
    uint64_t nrows = get_v(&r);
    if (r.bad || flags > 3 || nrows > SQL_COP_MAX_ROWS ||
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
};

static int compile_conds(struct run *x, const struct sql_cop_req *q)
{
    x->conds = sql__arena_zalloc(x->a, sizeof(*x->conds) * (q->nconds + 1));
    if (!x->conds)
        return -ENOMEM;
    struct sql_expr_scope scope = {.ctx = x->t, .column = table_column};
    for (size_t i = 0; i < q->nconds; i++) {
        /* "SELECT <cond>": the parser's own entry, the condition its item */
        size_t n = q->cond_lens[i];
        char *text = sql__arena_alloc(x->a, n + 8);
        if (!text)
            return -ENOMEM;
        memcpy(text, "SELECT ", 7);
        memcpy(text + 7, q->conds[i], n);
        text[n + 7] = '\0';
        struct sql_parse_result pr;
        int rc = sql__parse_one(x->a, text, n + 7, &pr);
        if (rc == -ENOMEM)
            return rc;
        if (rc != 0 || !pr.stmt || pr.stmt->kind != AST_SELECT ||
            pr.next != n + 7 || !pr.stmt->select->items ||
            pr.stmt->select->items->next || pr.stmt->select->from)
            return SQL_EPROTO;
        struct sql_ftype type;
        rc = sql__expr_compile(x->a, pr.stmt->select->items->expr, &scope,
                               &x->conds[x->nconds], &type, &x->err);
        if (rc == -ENOMEM)
            return rc;
        if (rc != 0)
            return SQL_EPROTO;
        x->nconds++;
    }
    return 0;
}

/* Whether the row (key k, stored value v) is to be sent: every condition
 * TRUE, or undecidable here. */
static int keep_row(struct run *x, int64_t h, const uint8_t *v, size_t vlen,
                    bool *keep)
{
    const struct sql_tableinfo *t = x->t;
    *keep = true;
    if (x->nconds == 0)
        return 0;
    sql__arena_reset(x->ra);
    int rc = sql__row_decode(v, vlen, x->ids, t->ncols, x->row, x->found,
                             x->ra);
    if (rc == -ENOMEM)
        return rc;
    if (rc != 0)
        return 0; /* sqld reports the malformed row */
    for (uint32_t i = 0; i < t->ncols; i++) {
        if ((int32_t)i == t->handle_col) {
            memset(&x->row[i], 0, sizeof(x->row[i]));
            if (t->cols[i].type.flags & SQL_COLFLAG_UNSIGNED) {
                x->row[i].vt = SQL_VT_UINT;
                x->row[i].v.u = (uint64_t)h;
            } else {
                x->row[i].vt = SQL_VT_INT;
                x->row[i].v.i = h;
            }
        } else if (!x->found[i]) {
            return 0; /* its default lives in sqld's evaluation */
        }
    }
    for (size_t i = 0; i < x->nconds; i++) {
        int truth;
        rc = sql__expr_eval_bool(x->conds[i], &x->ev, x->row, &truth);
        if (rc == -ENOMEM)
            return rc;
        if (rc != 0)
            return 0; /* sqld evaluates it again and reports the error */
        if (truth != 1) {
            *keep = false;
            return 0;
        }
    }
    return 0;
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
    x->ev.env = &x->env;
    x->ev.arena = x->ra;
    x->ev.err = &x->err;
    return compile_conds(x, q);
}

static void run_free(struct run *x)
{
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
    bool more = false;
    *resp = NULL;
    *resp_len = 0;
    int rc = run_setup(&x, req, req_len, &q);
    if (rc != 0)
        goto done;
    rc = sql__buf_put(&from, start ? start : "", start_len);
    if (rc != 0)
        goto done;
    for (;;) {
        struct mvcc_read_opts ro = {.limit = PAGE};
        mvcc_result_reset(res);
        rc = mvcc_scan(s, &ro, from.p ? from.p : (const uint8_t *)"",
                       from.len, end, end_len, ts, res);
        if (rc != 0)
            goto done; /* res holds the lock or the detail */
        size_t got = res->npairs;
        for (size_t i = 0; i < got; i++) {
            const struct mvcc_kvpair *kp = &res->pairs[i];
            int64_t h;
            nread++;
            if (!sql__tc_row_handle(kp->key, kp->key_len, x.t->id, &h))
                continue;
            bool keep;
            if ((rc = keep_row(&x, h, kp->value, kp->value_len, &keep)))
                goto done;
            if (!keep)
                continue;
            rc = put_bytes(&rows, kp->key, kp->key_len);
            rc = rc ? rc : put_bytes(&rows, kp->value, kp->value_len);
            if (rc != 0)
                goto done;
            if (++nrows >= q.max_rows || rows.len >= SQL_COP_MAX_BYTES) {
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
        if (nread >= SQL_COP_MAX_READ) {
            more = true; /* long enough for one call: resume after last */
            break;
        }
        uint8_t zero = 0; /* the next key after last */
        if ((rc = sql__buf_put(&from, &zero, 1)) != 0)
            goto done;
    }
answer:
    if (rc != 0)
        goto done;
    mvcc_result_reset(res);
    uint8_t magic = SQL_COP_RESP_MAGIC;
    rc = sql__buf_put(&out, &magic, 1);
    bool bounded = end && end_len;
    rc = rc ? rc : put_v(&out, (more ? 1u : 0u) | (bounded ? 2u : 0u));
    rc = rc ? rc : put_v(&out, nread);
    rc = rc ? rc : put_bytes(&out, from.p, more ? from.len : 0);
    rc = rc ? rc : put_bytes(&out, end, bounded ? end_len : 0);
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

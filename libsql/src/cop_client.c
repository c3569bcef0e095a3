/* cop_client.c: the coprocessor's sqld side: which WHERE conjuncts of a
 * table scan can run next to the data (planner), and the scan that sends
 * one request per region (up to COP_PARALLEL at a time), resolves locks
 * and retries on region errors (executor). DESIGN.md, "Coprocessor".
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "catalog.h"
#include "cop.h"
#include "exec_int.h"
#include "plan.h"
#include "sql_int.h"
#include "sysvar.h"

#define COP_PARALLEL 4          /* pieces of a range read at once */
#define COP_ROWS 1024u          /* rows one piece answers per call */
#define COP_REGION_BUDGET_MS 20000 /* backing off for one piece, at most */

/* ---- the planner's choice ------------------------------------------ */

/* Deterministic functions libsql evaluates the same anywhere. */
static const char *const pure_funcs[] = {
    "ABS", "CEIL", "CEILING", "FLOOR", "ROUND", "TRUNCATE", "MOD", "SIGN",
    "LENGTH", "CHAR_LENGTH", "CHARACTER_LENGTH", "UPPER", "UCASE", "LOWER",
    "LCASE", "CONCAT", "SUBSTRING", "SUBSTR", "LEFT", "RIGHT", "TRIM",
    "LTRIM", "RTRIM", "COALESCE", "IFNULL", "IF", "NULLIF", "GREATEST",
    "LEAST", "REVERSE", "REPLACE", "LOCATE", "INSTR", NULL};

struct pushctx
{
    const struct sql_tableinfo *t; /* the scan's table */
    const char *alias;             /* its name in the query */
    const struct sql_idxinfo *ix;  /* an index scan's index: only its
                                      columns (whole, decodable from the
                                      key) and the handle, or NULL */
};

/* Whether column ci of t reads back from an index key exactly: integers
 * and binary strings (a case-insensitive string's key holds its sort
 * weights, a prefix index part of the value). */
static bool key_exact(const struct pushctx *c, int ci)
{
    if (ci == c->t->handle_col)
        return true;
    const struct sql_ftype *ty = &c->t->cols[ci].type;
    bool in = false;
    for (uint32_t k = 0; k < c->ix->ncols; k++)
        in = in || ((int)c->ix->cols[k] == ci && c->ix->prefix[k] < 0);
    if (!in)
        return false;
    switch (ty->tp) {
    case SQL_TYPE_TINY:
    case SQL_TYPE_SHORT:
    case SQL_TYPE_INT24:
    case SQL_TYPE_LONG:
    case SQL_TYPE_LONGLONG:
        return true;
    case SQL_TYPE_VARCHAR:
    case SQL_TYPE_VAR_STRING:
        return ty->coll == SQL_COLL_BINARY;
    default:
        return false;
    }
}

static bool is_literal(const struct ast_expr *e)
{
    switch (e->kind) {
    case AST_E_NULL:
    case AST_E_BOOL:
    case AST_E_INT:
    case AST_E_DECIMAL:
    case AST_E_FLOAT:
    case AST_E_STRING:
    case AST_E_HEX:
    case AST_E_BIT:
        return true;
    default:
        return false;
    }
}

static bool pushable(const struct pushctx *c, const struct ast_expr *e);

static bool all_pushable(const struct pushctx *c, const struct ast_expr *e)
{
    for (; e; e = e->next)
        if (!pushable(c, e))
            return false;
    return true;
}

static bool opt_pushable(const struct pushctx *c, const struct ast_expr *e)
{
    return e == NULL || pushable(c, e);
}

/* Whether e evaluates next to the data exactly as in sqld: literals, the
 * table's own columns, operators and pure functions; never parameters,
 * variables, subqueries, outer columns or anything the session supplies. */
static bool pushable(const struct pushctx *c, const struct ast_expr *e)
{
    if (is_literal(e))
        return e->kind != AST_E_STRING || e->charset == NULL;
    switch (e->kind) {
    case AST_E_COLUMN:
        if (e->db || (e->table && strcmp(e->table, c->alias) != 0))
            return false;
        return e->name && sql__table_col(c->t, e->name) >= 0 &&
               (!c->ix || key_exact(c, sql__table_col(c->t, e->name)));
    case AST_E_UNARY:
        return (e->op == AST_OP_NOT || e->op == AST_OP_NEG ||
                e->op == AST_OP_BITNOT) &&
               pushable(c, e->a);
    case AST_E_BINARY:
        return pushable(c, e->a) && pushable(c, e->b);
    case AST_E_LOGIC:
        return all_pushable(c, e->args);
    case AST_E_IS:
        return pushable(c, e->a);
    case AST_E_LIKE:
    case AST_E_BETWEEN:
        return pushable(c, e->a) && pushable(c, e->b) &&
               opt_pushable(c, e->c);
    case AST_E_IN:
        return e->sub == NULL && pushable(c, e->a) &&
               all_pushable(c, e->args);
    case AST_E_CASE:
        for (const struct ast_when *w = e->whens; w; w = w->next)
            if (!pushable(c, w->cond) || !pushable(c, w->then))
                return false;
        return opt_pushable(c, e->a) && opt_pushable(c, e->c);
    case AST_E_FUNC:
        if (e->distinct || e->type || e->sub || e->order || e->unit ||
            e->noparen || !e->name)
            return false;
        for (size_t i = 0; pure_funcs[i]; i++)
            if (strcasecmp(e->name, pure_funcs[i]) == 0)
                return all_pushable(c, e->args);
        return false;
    default:
        return false;
    }
}

static bool is_handle(const struct pushctx *c, const struct ast_expr *e)
{
    /* an index scan's range is over its first column */
    int col = c->ix ? (int)c->ix->cols[0] : c->t->handle_col;
    return e->kind == AST_E_COLUMN && col >= 0 && e->name &&
           sql__table_col(c->t, e->name) == col;
}

/* A comparison of the handle (an index scan: the index's first column)
 * with literals: what a handle or index range access path was built
 * from, so the rows read satisfy it already and pushing it would only
 * cost (sysbench's `id BETWEEN 10 AND 20`). */
static bool handle_range_pred(const struct pushctx *c,
                              const struct ast_expr *e)
{
    switch (e->kind) {
    case AST_E_BINARY:
        if (e->op != AST_OP_EQ && e->op != AST_OP_LT && e->op != AST_OP_LE &&
            e->op != AST_OP_GT && e->op != AST_OP_GE)
            return false;
        return (is_handle(c, e->a) && is_literal(e->b)) ||
               (is_handle(c, e->b) && is_literal(e->a));
    case AST_E_BETWEEN:
        return !e->neg && is_handle(c, e->a) && is_literal(e->b) &&
               is_literal(e->c);
    case AST_E_IN:
        if (e->neg || e->sub || !is_handle(c, e->a))
            return false;
        for (const struct ast_expr *x = e->args; x; x = x->next)
            if (!is_literal(x))
                return false;
        return true;
    default:
        return false;
    }
}

static bool cop_allowed(const struct sql_session *s)
{
    static int slot = -1;
    int i = __atomic_load_n(&slot, __ATOMIC_RELAXED);
    if (i < 0) {
        i = sql__sysvar_find("tidb_allow_coprocessor");
        __atomic_store_n(&slot, i, __ATOMIC_RELAXED);
    }
    return i >= 0 && s->vars[i].u != 0;
}

bool sql__cop_pushable(const struct plan *p, const struct ast_expr *e)
{
    struct pushctx c = {.t = p->table,
                        .alias = p->alias ? p->alias : p->table->name,
                        .ix = p->acc.idx >= 0 ? &p->table->idx[p->acc.idx]
                                              : NULL};
    return pushable(&c, e);
}

bool sql__cop_scan_ok(struct sql_session *s, const struct plan *p)
{
    bool rows = p->acc.idx < 0 && (p->acc.kind == ACC_FULL ||
                                   p->acc.kind == ACC_HANDLE_RANGE);
    bool index = p->acc.kind == ACC_INDEX_RANGE && p->acc.idx >= 0 &&
                 p->table && (uint32_t)p->acc.idx < p->table->nidx;
    return p->kind == PL_SCAN && !p->lock && !p->lookup && !p->vrows &&
           (rows || index) && sql__kv_cop_transport(s->srv->kv) &&
           cop_allowed(s);
}

/* The scan's pushed conjuncts (none when force and nothing is pushable;
 * else NULL then). whole: an index scan's range conditions go down too
 * (for an aggregate or a top-N next to the data every condition must:
 * the range may hold entries, NULLs, they reject). */
static int cop_build(struct sql_session *s, struct plan *p, bool force,
                     bool whole, struct plan_cop **out)
{
    *out = NULL;
    struct pushctx c = {.t = p->table,
                        .alias = p->alias ? p->alias : p->table->name,
                        .ix = p->acc.idx >= 0 ? &p->table->idx[p->acc.idx]
                                              : NULL};
    size_t n = 0;
    const char **conds = sql__arena_alloc(s->arena,
                                          sizeof(*conds) * (p->nconj + 1));
    size_t *lens = sql__arena_alloc(s->arena,
                                    sizeof(*lens) * (p->nconj + 1));
    if (!conds || !lens)
        return -ENOMEM;
    size_t info_len = 8, decided = 0;
    for (size_t i = 0; i < p->nconj && n < SQL_COP_MAX_CONDS; i++) {
        if ((p->acc.kind == ACC_HANDLE_RANGE || (c.ix && !whole)) &&
            handle_range_pred(&c, p->conj[i])) {
            decided++;
            continue;
        }
        if (!pushable(&c, p->conj[i]))
            continue;
        char *text = sql__ast_print_expr(s->arena, p->conj[i]);
        if (!text)
            return -ENOMEM;
        conds[n] = text;
        lens[n] = strlen(text);
        info_len += lens[n] + 5;
        n++;
    }
    if (n == 0 && !force)
        return 0;
    struct plan_cop *pc = sql__arena_zalloc(s->arena, sizeof(*pc));
    char *info = sql__arena_alloc(s->arena, info_len + 1);
    struct sql__buf b = {0};
    if (!pc || !info || sql__table_encode(p->table, &b) != 0) {
        sql__buf_free(&b);
        return -ENOMEM;
    }
    uint8_t *table = sql__arena_alloc(s->arena, b.len ? b.len : 1);
    if (!table) {
        sql__buf_free(&b);
        return -ENOMEM;
    }
    memcpy(table, b.p, b.len);
    pc->table = table;
    pc->table_len = b.len;
    sql__buf_free(&b);
    size_t k = 0;
    if (n) {
        memcpy(info, "pushed:", 7);
        k = 7;
    }
    for (size_t i = 0; i < n; i++) {
        if (i) {
            memcpy(info + k, " AND ", 5);
            k += 5;
        }
        memcpy(info + k, conds[i], lens[i]);
        k += lens[i];
    }
    info[k] = '\0';
    pc->conds = conds;
    pc->cond_lens = lens;
    pc->nconds = n;
    pc->all = n + decided == p->nconj && (!c.ix || whole);
    pc->index = c.ix ? (uint32_t)p->acc.idx + 1 : 0;
    pc->info = info;
    *out = pc;
    return 0;
}

int sql__cop_plan(struct sql_session *s, struct plan *p)
{
    p->cop = NULL;
    if (p->kind != PL_SCAN || p->nconj == 0)
        return 0;
    /* an index range: conditions on the index's columns go down with
     * it, and sqld looks up only the rows of the entries they accept */
    if (!sql__cop_scan_ok(s, p))
        return 0;
    return cop_build(s, p, false, false, &p->cop);
}

int sql__cop_plan_all(struct sql_session *s, struct plan *p)
{
    struct plan_cop *pc = p->cop;
    int rc = pc && !pc->index ? 0 : cop_build(s, p, true, true, &pc);
    if (rc != 0)
        return rc;
    if (!pc->all)
        return 1;
    p->cop = pc;
    return 0;
}

void sql__cop_limit(struct plan *p)
{
    struct plan *sc = p->child;
    if (p->kind == PL_LIMIT && p->limit && sc && sc->kind == PL_SCAN &&
        sc->cop && sc->cop->all) {
        sc->cop->limit = p->limit;
        sc->cop->offset = p->offset;
    }
}

/* ---- the scan -------------------------------------------------------- */

static int kcmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (al > bl) - (al < bl);
}

/* One piece of the range, read by one thread: [start, end), region after
 * region, until it is read or COP_ROWS rows are in. */
struct piece
{
    const struct mvcc_transport *tr; /* where requests go */
    const uint8_t *req;          /* the request */
    uint32_t want;               /* rows to stop after */
    size_t req_len;              /* its length */
    mvcc_ts ts;                  /* read timestamp */
    struct sql__buf cur;         /* where the piece goes on (inclusive) */
    const uint8_t *end;          /* its end (exclusive; NULL: none) */
    size_t end_len;              /* its length */
    bool done;                   /* read to the end */
    bool fallback;               /* AGG: an answer said to aggregate the
                                    rows in sqld */
    int rc;                      /* 0, MVCC_LOCKED (res), other failure */
    struct mvcc_result res;      /* a failure's detail and locks */
    struct sql__buf rows;        /* answers' row bytes, in key order */
    size_t nrows;                /* rows in them */
    uint64_t nreqs;              /* requests sent */
    pthread_t th;                /* its thread (pieces after the first) */
    bool started;                /* th runs */
};

static void sleep_ms(int64_t ms)
{
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int set_cur(struct piece *pc, const uint8_t *k, size_t n, bool after)
{
    uint8_t zero = 0;
    pc->cur.len = 0;
    int rc = sql__buf_put(&pc->cur, k ? k : (const uint8_t *)"", n);
    return rc || !after ? rc : sql__buf_put(&pc->cur, &zero, 1);
}

static void piece_run(struct piece *pc)
{
    unsigned attempt = 0;
    int64_t slept = 0;
    for (;;) {
        uint64_t shard;
        const uint8_t *rend;
        size_t rend_len;
        const uint8_t *cur = pc->cur.p ? pc->cur.p : (const uint8_t *)"";
        int rc = pc->tr->locate(pc->tr->ctx, cur, pc->cur.len, &shard, &rend,
                                &rend_len);
        /* this region's part of the piece: [cur, min(region end, end)) */
        const uint8_t *e = pc->end;
        size_t el = pc->end_len;
        bool last = true;
        if (rc == 0 && rend &&
            (!e || kcmp(rend, rend_len, e, el) < 0)) {
            e = rend;
            el = rend_len;
            last = false;
        }
        uint8_t *ebuf = NULL;
        if (rc == 0 && e && !last) { /* locate's answer is borrowed */
            ebuf = sql__malloc(el ? el : 1);
            if (!ebuf) {
                pc->rc = -ENOMEM;
                return;
            }
            memcpy(ebuf, e, el);
            e = ebuf;
        }
        uint8_t *resp = NULL;
        size_t resp_len = 0;
        if (rc == 0) {
            mvcc_result_reset(&pc->res);
            pc->nreqs++;
            rc = pc->tr->cop(pc->tr->ctx, shard, cur, pc->cur.len, e, el,
                             pc->ts, pc->req, pc->req_len, &resp, &resp_len,
                             &pc->res);
        }
        if (mvcc_is_region_error(rc)) {
            /* the region moved, split or lost its leader: the transport
             * fixed its map; locate [cur, ..) again after the backoff */
            sql__free(ebuf);
            int64_t ms = mvcc_region_backoff_default(rc, attempt++);
            if (ms < 0 || slept >= COP_REGION_BUDGET_MS) {
                pc->rc = rc;
                return;
            }
            sleep_ms(ms);
            slept += ms;
            continue;
        }
        if (rc != 0) {
            sql__free(ebuf);
            pc->rc = rc;
            return;
        }
        attempt = 0;
        struct sql_cop_resp r;
        rc = sql__cop_resp_decode(resp, resp_len, &r);
        if (rc == 0 && r.fallback) {
            mvcc_free(resp);
            sql__free(ebuf);
            pc->fallback = true;
            return;
        }
        if (rc == 0) {
            rc = sql__buf_put(&pc->rows, r.rows, r.rows_len);
            pc->nrows += r.nrows;
        }
        if (rc == 0 && r.more)
            rc = set_cur(pc, r.resume, r.resume_len, true);
        else if (rc == 0 && r.bounded &&
                 (!e || kcmp(r.end, r.end_len, e, el) < 0)) {
            /* the region shrank since it was located: the rest of this
             * part is elsewhere now; locate it */
            rc = set_cur(pc, r.end, r.end_len, false);
        } else if (rc == 0 && !last)
            rc = set_cur(pc, e, el, false);
        else if (rc == 0)
            pc->done = true;
        mvcc_free(resp);
        sql__free(ebuf);
        if (rc != 0) {
            pc->rc = rc;
            return;
        }
        if (pc->done || pc->nrows >= pc->want)
            return;
    }
}

static void *piece_main(void *arg)
{
    piece_run(arg);
    return NULL;
}

static void piece_free(struct piece *pc)
{
    sql__buf_free(&pc->cur);
    sql__buf_free(&pc->rows);
    mvcc_result_reset(&pc->res);
}

/* A constant LIMIT count or offset; false when it is not a plain
 * non-negative integer (the Limit operator reports it). */
static bool count_of(struct sql_xctx *x, const struct sql_expr *e,
                     uint64_t *out)
{
    struct sql_datum d;
    *out = 0;
    if (!e)
        return true;
    if (sql__expr_eval(e, &x->ev, NULL, &d) != 0)
        return false;
    if (d.vt == SQL_VT_INT && d.v.i >= 0)
        *out = (uint64_t)d.v.i;
    else if (d.vt == SQL_VT_UINT)
        *out = d.v.u;
    else
        return false;
    return true;
}

/* Rows one call needs: offset + count of a LIMIT the scan serves alone
 * (then the range is read by one piece, region after region, and stops
 * there), else COP_ROWS per piece. */
static uint32_t rows_wanted(struct sql_xctx *x, const struct plan_cop *pc)
{
    uint64_t count, offset;
    if (!pc->limit || !count_of(x, pc->limit, &count) ||
        !count_of(x, pc->offset, &offset) || count >= COP_ROWS ||
        offset >= COP_ROWS || count + offset >= COP_ROWS)
        return COP_ROWS;
    return count + offset ? (uint32_t)(count + offset) : 1;
}

/* The request for this execution. */
static int build_req(struct sql_xctx *x, const struct plan_cop *pc, int mode,
                     uint32_t max_rows, struct sql__buf *b)
{
    struct sql_cop_req q = {.sql_mode = x->env.sql_mode,
                            .tz_offset_s = x->env.tz_offset_s,
                            .max_rows = max_rows,
                            .table = pc->table,
                            .table_len = pc->table_len,
                            .conds = pc->conds,
                            .cond_lens = pc->cond_lens,
                            .nconds = pc->nconds,
                            .mode = mode,
                            .index = pc->index};
    if (mode != SQL_COP_ROWS) {
        q.exprs = pc->exprs;
        q.expr_lens = pc->expr_lens;
        q.nkeys = pc->nkeys;
        q.naggs = mode == SQL_COP_AGG ? pc->naggs : 0;
        q.desc = pc->desc;
    }
    return sql__cop_req_encode(&q, b);
}

/* TOPN: offset + count of the TopN above, when a request may carry it
 * (then 1 and *n), else 0. */
static int topn_rows(struct sql_xctx *x, const struct plan_cop *pc,
                     uint32_t *n)
{
    uint64_t count, offset;
    if (pc->mode != SQL_COP_TOPN || !pc->topn ||
        !count_of(x, pc->topn->limit, &count) ||
        !count_of(x, pc->topn->offset, &offset) ||
        count > SQL_COP_MAX_ROWS || offset > SQL_COP_MAX_ROWS ||
        count + offset > SQL_COP_MAX_ROWS)
        return 0;
    *n = count + offset ? (uint32_t)(count + offset) : 1;
    return 1;
}

bool sql__cop_ready(struct sql_xctx *x)
{
    return cop_allowed(x->s) && sql__kv_cop_transport(x->s->srv->kv) &&
           !sql__kvtxn_dirty(x->txn);
}

bool sql__cop_usable(struct sql_xctx *x, const struct plan *p)
{
    uint32_t n;
    return p->cop && !p->lock && !p->acc.desc &&
           (p->cop->nconds > 0 || topn_rows(x, p->cop, &n)) &&
           sql__cop_ready(x);
}

/* The lock in pc's way: resolved through the transaction's own read
 * (libmvcc's client checks the primary and rolls it forward or back,
 * waiting with backoff while it lives). */
static int resolve(struct sql_xctx *x, struct piece *pc)
{
    const uint8_t *k = pc->res.key;
    size_t kl = pc->res.key_len;
    if (pc->res.nlocks) {
        k = pc->res.locks[0].key;
        kl = pc->res.locks[0].key_len;
    }
    if (!k)
        return MVCC_LOCKED;
    uint8_t *v = NULL;
    size_t vl;
    int rc = sql__kvtxn_get(x->txn, k, kl, &v, &vl);
    sql__kv_free(v);
    return rc == MVCC_NOTFOUND ? 0 : rc;
}

/* One call over [start, end): the rows (ROWS, TOPN) or partial groups
 * (AGG) of every piece read whole, then the first unfinished piece's;
 * *fallback when an AGG answer said so (out then empty). want: rows
 * after which a piece stops (UINT32_MAX: read it all). */
static int cop_call(struct sql_xctx *x, const struct plan *p, int mode,
                    uint32_t max_rows, uint32_t want, struct sql_arena *a,
                    struct sql_arena *keep, const uint8_t *start,
                    size_t slen, const uint8_t *end, size_t elen,
                    struct sql_kvres *out, uint8_t **next, size_t *next_len,
                    bool *fallback)
{
    const struct mvcc_transport *tr = sql__kv_cop_transport(x->s->srv->kv);
    struct piece pcs[COP_PARALLEL];
    struct sql__buf req = {0}, bounds = {0};
    size_t np = 0;
    memset(pcs, 0, sizeof(pcs));
    memset(out, 0, sizeof(*out));
    *next = NULL;
    *next_len = 0;
    *fallback = false;
    int rc = build_req(x, p->cop, mode, max_rows, &req);
    size_t maxp = want < COP_ROWS ? 1 : COP_PARALLEL;
    /* Cut [start, end) at region boundaries into up to COP_PARALLEL
     * pieces: one region each, the last piece the rest. Boundaries come
     * from the transport's map now; a piece that meets a split or a move
     * locates again, so a stale boundary costs a retry, never a row. */
    size_t offs[COP_PARALLEL + 1], lens[COP_PARALLEL + 1];
    offs[0] = 0;
    lens[0] = slen;
    rc = rc ? rc : sql__buf_put(&bounds, start, slen);
    for (np = 1; rc == 0 && np < maxp; np++) {
        uint64_t shard;
        const uint8_t *rend;
        size_t rl;
        rc = tr->locate(tr->ctx, bounds.p + offs[np - 1], lens[np - 1],
                        &shard, &rend, &rl);
        if (rc != 0 || !rend || (end && kcmp(rend, rl, end, elen) >= 0))
            break;
        offs[np] = bounds.len;
        lens[np] = rl;
        rc = sql__buf_put(&bounds, rend, rl);
    }
    if (mvcc_is_region_error(rc))
        rc = 0; /* the pieces locate again themselves */
    for (size_t i = 0; rc == 0 && i < np; i++) {
        struct piece *pc = &pcs[i];
        pc->tr = tr;
        pc->req = req.p;
        pc->req_len = req.len;
        pc->want = want;
        pc->ts = sql__kvtxn_start_ts(x->txn);
        mvcc_result_init(&pc->res);
        rc = set_cur(pc, bounds.p + offs[i], lens[i], false);
    }
    for (size_t i = 0; rc == 0 && i < np; i++) {
        struct piece *pc = &pcs[i];
        if (i + 1 < np) {
            /* piece i ends where piece i + 1 starts */
            pc->end = bounds.p + offs[i + 1];
            pc->end_len = lens[i + 1];
        } else {
            pc->end = end;
            pc->end_len = elen;
        }
    }
    for (size_t i = 1; rc == 0 && i < np; i++)
        pcs[i].started =
            pthread_create(&pcs[i].th, NULL, piece_main, &pcs[i]) == 0;
    if (rc == 0)
        piece_run(&pcs[0]);
    for (size_t i = 1; i < np; i++) {
        if (pcs[i].started)
            pthread_join(pcs[i].th, NULL);
        else if (rc == 0)
            piece_run(&pcs[i]); /* no thread: read it here */
    }
    /* The rows in key order: whole pieces, then the first unfinished
     * piece's rows; where it stopped is where the next call goes on. */
    size_t total = 0, upto = np;
    for (size_t i = 0; rc == 0 && i < np; i++)
        if (pcs[i].fallback)
            *fallback = true; /* rows of no piece are taken */
    if (*fallback)
        goto done;
    for (size_t i = 0; rc == 0 && i < np; i++) {
        total += pcs[i].nrows;
        if (!pcs[i].done) {
            upto = i + 1;
            break;
        }
    }
    if (rc == 0 && total) {
        out->r.pairs = sql__arena_alloc(a, sizeof(*out->r.pairs) * total);
        if (!out->r.pairs)
            rc = -ENOMEM;
    }
    int lock_rc = 0;
    for (size_t i = 0; rc == 0 && i < upto; i++) {
        struct piece *pc = &pcs[i];
        uint8_t *rows = NULL;
        if (pc->rows.len && !(rows = sql__arena_alloc(a, pc->rows.len))) {
            rc = -ENOMEM;
            break;
        }
        if (pc->rows.len)
            memcpy(rows, pc->rows.p, pc->rows.len);
        struct sql_cop_resp r = {.rows = rows, .rows_len = pc->rows.len};
        size_t off = 0;
        const uint8_t *k, *v;
        size_t kl, vl;
        while (sql__cop_resp_row(&r, &off, &k, &kl, &v, &vl) == 1) {
            struct mvcc_kvpair *kp = &out->r.pairs[out->r.npairs++];
            kp->key = (uint8_t *)k;
            kp->key_len = kl;
            kp->value = (uint8_t *)v;
            kp->value_len = vl;
        }
        if (pc->done)
            continue;
        if (pc->rc == MVCC_LOCKED)
            lock_rc = resolve(x, pc);
        else if (pc->rc != 0)
            rc = pc->rc;
        if (rc == 0 && lock_rc == 0) {
            *next = sql__arena_alloc(keep, pc->cur.len ? pc->cur.len : 1);
            if (!*next) {
                rc = -ENOMEM;
                break;
            }
            memcpy(*next, pc->cur.p, pc->cur.len);
            *next_len = pc->cur.len;
        }
    }
    if (rc == 0)
        rc = lock_rc;
done:
    for (size_t i = 0; i < np; i++)
        piece_free(&pcs[i]);
    sql__buf_free(&bounds);
    sql__buf_free(&req);
    return rc ? sql__kverr(x->s, rc) : 0;
}

int sql__cop_scan(struct sql_xctx *x, const struct plan *p,
                  struct sql_arena *a, struct sql_arena *keep,
                  const uint8_t *start, size_t slen, const uint8_t *end,
                  size_t elen, struct sql_kvres *out, uint8_t **next,
                  size_t *next_len)
{
    bool fallback;
    uint32_t n;
    if (topn_rows(x, p->cop, &n)) /* each region's top n, read whole */
        return cop_call(x, p, SQL_COP_TOPN, n, UINT32_MAX, a, keep, start,
                        slen, end, elen, out, next, next_len, &fallback);
    uint32_t want = rows_wanted(x, p->cop);
    return cop_call(x, p, SQL_COP_ROWS, want, want, a, keep, start, slen,
                    end, elen, out, next, next_len, &fallback);
}

int sql__cop_agg_call(struct sql_xctx *x, const struct plan *p,
                      struct sql_arena *a, struct sql_arena *keep,
                      const uint8_t *start, size_t slen, const uint8_t *end,
                      size_t elen, struct sql_kvres *out, uint8_t **next,
                      size_t *next_len, bool *fallback)
{
    return cop_call(x, p, SQL_COP_AGG, SQL_COP_MAX_ROWS, UINT32_MAX, a, keep,
                    start, slen, end, elen, out, next, next_len, fallback);
}

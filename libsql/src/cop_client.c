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
#define COP_LOCK_BUDGET_MS 20000 /* backing off for one lock met again */

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

/* ---- the scan: a stream of answers ----------------------------------- */

/* A range is read as a stream of bounded answers (kvd's pages: each
 * carries at most max_rows rows, 1 MiB of row bytes, SQL_COP_MAX_READ
 * keys read, and says where the next one goes on). Up to COP_PARALLEL
 * pieces of it, one region each in key order (the last the rest), are
 * read at once, one request per piece per round, each piece holding at
 * most COP_AHEAD answers nobody took yet; the consumer takes the first
 * piece's answers as they come, so sqld works on the first chunk while
 * later regions wait with theirs, and nothing read is thrown away. A
 * descending scan walks the same way from the top (locate_prev). */
#define COP_AHEAD 2 /* answers a piece holds untaken, at most */

/* One piece of the range: what is left of it is [lo, hi) (lo empty: from
 * the start, hi empty: unbounded); requests go out from lo upwards, or
 * descending from hi downwards. */
struct piece
{
    const struct mvcc_transport *tr; /* where requests go */
    const uint8_t *req;          /* this round's request (the stream's) */
    size_t req_len;              /* its length */
    mvcc_ts ts;                  /* read timestamp */
    bool desc;                   /* read from hi downwards */
    struct sql__buf lo;          /* the part left: from (inclusive) */
    struct sql__buf hi;          /* ... to (exclusive; empty: unbounded) */
    bool done;                   /* read to the end */
    bool fallback;               /* AGG: an answer said to aggregate the
                                    rows in sqld */
    int rc;                      /* the last round's: 0, MVCC_LOCKED
                                    (res), other failure */
    struct mvcc_result res;      /* a failure's detail and locks */
    uint8_t *q[COP_AHEAD];       /* answers read, not taken (a ring) */
    size_t qlen[COP_AHEAD];      /* their lengths */
    size_t qh, qn;               /* the ring's head and count */
    pthread_t th;                /* its thread this round */
    bool started;                /* th runs */
    bool pending;                /* no thread: to read at the join */
    struct sql__buf met;         /* the key of the last lock resolved */
    mvcc_ts met_ts;              /* its start_ts (0: none yet) */
    unsigned met_again;          /* times it came back since */
    int64_t met_slept;           /* ms backed off for it */
};

struct sql_cop_iter
{
    const struct mvcc_transport *tr; /* where requests go */
    const struct plan *p;        /* the scan */
    int mode;                    /* SQL_COP_ROWS, _AGG, _TOPN */
    bool desc;                   /* descending */
    bool limited;                /* a LIMIT hint: one piece, requests
                                    sized by left */
    uint32_t max_rows;           /* rows an answer carries */
    uint64_t left;               /* limited: rows the scan still needs */
    size_t maxp;                 /* pieces read at once */
    mvcc_ts ts;                  /* read timestamp */
    struct sql__buf req;         /* the request */
    size_t resolved_seen;        /* the transaction's resolved locks when
                                    req was built (the list only grows) */
    struct piece pcs[COP_PARALLEL]; /* pieces in delivery order */
    size_t np;                   /* their count */
    bool inflight;               /* a round was launched, not joined */
};

static void sleep_ms(int64_t ms)
{
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int set_key(struct sql__buf *b, const uint8_t *k, size_t n, bool after)
{
    uint8_t zero = 0;
    b->len = 0;
    int rc = sql__buf_put(b, k ? k : (const uint8_t *)"", n);
    return rc || !after ? rc : sql__buf_put(b, &zero, 1);
}

static const uint8_t *bp(const struct sql__buf *b)
{
    return b->p ? b->p : (const uint8_t *)"";
}

/* Where the piece goes on after answer r to the request over [s, e)
 * (last: e, or descending s, is the piece's own bound). */
static int piece_advance(struct piece *pc, const struct sql_cop_resp *r,
                         const uint8_t *s, size_t sl, const uint8_t *e,
                         size_t el, bool last)
{
    if (r->more) /* the next page: after resume, or below it */
        return pc->desc ? set_key(&pc->hi, r->resume, r->resume_len, false)
                        : set_key(&pc->lo, r->resume, r->resume_len, true);
    /* an answer for less than was asked (a kvd that clipped the range
     * to a region that shrank; today's kvd refuses such a range, see
     * libregion DESIGN.md "Range checks"): the rest is elsewhere; locate
     * it */
    if (r->bounded && pc->desc && kcmp(r->end, r->end_len, s, sl) > 0)
        return set_key(&pc->hi, r->end, r->end_len, false);
    if (r->bounded && !pc->desc && (!el || kcmp(r->end, r->end_len, e, el) < 0))
        return set_key(&pc->lo, r->end, r->end_len, false);
    if (!last)
        return pc->desc ? set_key(&pc->hi, s, sl, false)
                        : set_key(&pc->lo, e, el, false);
    pc->done = true;
    return 0;
}

/* One request for piece pc, retried over region errors; the answer joins
 * its ring. Sets pc->rc. */
static void piece_step(struct piece *pc)
{
    unsigned attempt = 0;
    int64_t slept = 0;
    for (;;) {
        uint64_t shard;
        const uint8_t *b;
        size_t bl;
        const uint8_t *lo = bp(&pc->lo), *hi = pc->hi.len ? pc->hi.p : NULL;
        int rc = pc->desc ? pc->tr->locate_prev(pc->tr->ctx, hi, pc->hi.len,
                                                &shard, &b, &bl)
                          : pc->tr->locate(pc->tr->ctx, lo, pc->lo.len,
                                           &shard, &b, &bl);
        /* this region's part: [lo, min(region end, hi)), descending
         * [max(region start, lo), hi) */
        bool last = true;
        uint8_t *cut = NULL;
        if (rc == 0 && b &&
            (pc->desc ? kcmp(b, bl, lo, pc->lo.len) > 0
                      : !hi || kcmp(b, bl, hi, pc->hi.len) < 0)) {
            last = false; /* locate's answer is borrowed: copy it */
            if (!(cut = sql__malloc(bl ? bl : 1))) {
                pc->rc = -ENOMEM;
                return;
            }
            memcpy(cut, b, bl);
        }
        const uint8_t *s = last || !pc->desc ? lo : cut;
        size_t sl = last || !pc->desc ? pc->lo.len : bl;
        const uint8_t *e = last || pc->desc ? hi : cut;
        size_t el = last || pc->desc ? pc->hi.len : bl;
        uint8_t *resp = NULL;
        size_t resp_len = 0;
        if (rc == 0) {
            mvcc_result_reset(&pc->res);
            rc = pc->tr->cop(pc->tr->ctx, shard, s, sl, e, el, pc->ts,
                             pc->req, pc->req_len, &resp, &resp_len,
                             &pc->res);
        }
        if (mvcc_is_region_error(rc)) {
            /* the region moved, split or lost its leader: the transport
             * fixed its map; locate again after the backoff */
            sql__free(cut);
            int64_t ms = mvcc_region_backoff_default(rc, attempt++);
            if (ms < 0 || slept >= COP_REGION_BUDGET_MS) {
                pc->rc = rc;
                return;
            }
            sleep_ms(ms);
            slept += ms;
            continue;
        }
        struct sql_cop_resp r;
        if (rc == 0)
            rc = sql__cop_resp_decode(resp, resp_len, &r);
        if (rc == 0 && r.fallback)
            pc->fallback = pc->done = true;
        else if (rc == 0)
            rc = piece_advance(pc, &r, s, sl, e, el, last);
        if (rc == 0 && !pc->fallback) {
            size_t at = (pc->qh + pc->qn++) % COP_AHEAD;
            pc->q[at] = resp;
            pc->qlen[at] = resp_len;
            resp = NULL;
        }
        mvcc_free(resp);
        sql__free(cut);
        pc->rc = rc;
        return;
    }
}

static void *piece_main(void *arg)
{
    piece_step(arg);
    return NULL;
}

static void piece_free(struct piece *pc)
{
    for (; pc->qn; pc->qn--, pc->qh = (pc->qh + 1) % COP_AHEAD)
        mvcc_free(pc->q[pc->qh]);
    sql__buf_free(&pc->lo);
    sql__buf_free(&pc->hi);
    sql__buf_free(&pc->met);
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

/* Rows the scan needs: offset + count of a LIMIT it serves alone (then
 * true: the range is read by one piece, region after region, each
 * request asking for what is still missing). */
static bool rows_wanted(struct sql_xctx *x, const struct plan_cop *pc,
                        uint64_t *n)
{
    uint64_t count, offset;
    if (!pc->limit || !count_of(x, pc->limit, &count) ||
        !count_of(x, pc->offset, &offset) || count > UINT64_MAX - offset)
        return false;
    *n = count + offset;
    return true;
}

/* The request for this execution. */
static int build_req(const struct sql_cop_iter *it, struct sql_xctx *x,
                     struct sql__buf *b)
{
    const struct plan_cop *pc = it->p->cop;
    struct sql_cop_req q = {.sql_mode = x->env.sql_mode,
                            .tz_offset_s = x->env.tz_offset_s,
                            .max_rows = it->max_rows,
                            .table = pc->table,
                            .table_len = pc->table_len,
                            .conds = pc->conds,
                            .cond_lens = pc->cond_lens,
                            .nconds = pc->nconds,
                            .mode = it->mode,
                            .index = pc->index,
                            .flags = it->desc ? SQL_COP_FLAG_DESC : 0};
    if (it->mode == SQL_COP_ROWS && pc->proj && !pc->index) {
        q.flags |= SQL_COP_FLAG_PROJECT;
        q.proj = pc->proj;
        q.nproj = pc->nproj;
    }
    if (it->mode != SQL_COP_ROWS) {
        q.exprs = pc->exprs;
        q.expr_lens = pc->expr_lens;
        q.nkeys = pc->nkeys;
        q.naggs = it->mode == SQL_COP_AGG ? pc->naggs : 0;
        q.desc = pc->desc;
    }
    /* the locks the transaction's reads skip, the request's skip too (the
     * newest SQL_COP_MAX_RESOLVED: skipping fewer only costs a wait) */
    q.resolved = sql__kvtxn_resolved_locks(x->txn, &q.nresolved);
    if (q.nresolved > SQL_COP_MAX_RESOLVED) {
        q.resolved += q.nresolved - SQL_COP_MAX_RESOLVED;
        q.nresolved = SQL_COP_MAX_RESOLVED;
    }
    b->len = 0;
    return sql__cop_req_encode(&q, b);
}

/* Build it's request again when a limited stream sizes each round, or when
 * the transaction learned of locks to skip since (resolve() below). */
static int refresh_req(struct sql_xctx *x, struct sql_cop_iter *it)
{
    size_t nr;
    (void)sql__kvtxn_resolved_locks(x->txn, &nr);
    if (!it->limited && nr == it->resolved_seen && it->req.len)
        return 0;
    it->resolved_seen = nr;
    return build_req(it, x, &it->req);
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
    if (!p->cop || p->lock || !sql__cop_ready(x))
        return false;
    bool topn = topn_rows(x, p->cop, &n);
    /* descending: rows only (a top-N's ties follow ascending key order),
     * and the transport must find a region's start */
    return (p->cop->nconds > 0 || topn) &&
           (!p->acc.desc ||
            (!topn && sql__kv_cop_transport(x->s->srv->kv)->locate_prev));
}

/* The lock in pc's way: resolved through the transaction's own read
 * (libmvcc's client checks the primary and rolls it forward or back,
 * waiting with backoff while it lives).
 *
 * That read may succeed while the lock stays: a lock whose primary was
 * pushed above our ts is on the transaction's resolved list, and its
 * reads skip it. The next round's request carries the list (refresh_req;
 * kvd's sql_cop_run skips those locks as TiKV's coprocessor does), so the
 * lock is not met again. A store that ignores the list (or a list cut at
 * SQL_COP_MAX_RESOLVED) would meet it again: asking at once would loop
 * without a pause, and for good if the writer committed its primary and
 * died: our read, skipping the lock, never resolves it. So the same lock
 * met again is waited for (1, 2, 4 .. 100 ms, COP_LOCK_BUDGET_MS in all)
 * and then resolved by a read of a new transaction, which has no resolved
 * list: a finished primary gets the lock committed or rolled back; a live
 * one is pushed above that read too and waited for again. (libsql
 * DESIGN.md "Coprocessor", locks met again.) */
static int resolve(struct sql_xctx *x, struct piece *pc)
{
    const uint8_t *k = pc->res.key;
    size_t kl = pc->res.key_len;
    mvcc_ts sts = 0;
    if (pc->res.nlocks) {
        k = pc->res.locks[0].key;
        kl = pc->res.locks[0].key_len;
        sts = pc->res.locks[0].start_ts;
    }
    if (!k)
        return MVCC_LOCKED;
    struct sql_kvtxn *t = x->txn;
    bool again = sts && sts == pc->met_ts && kl == pc->met.len &&
                 (kl == 0 || memcmp(k, pc->met.p, kl) == 0);
    if (again) {
        int64_t ms = pc->met_again < 7 ? (int64_t)1 << pc->met_again : 100;
        if (pc->met_slept >= COP_LOCK_BUDGET_MS)
            return MVCC_LOCKED;
        sleep_ms(ms);
        pc->met_slept += ms;
        pc->met_again++;
        int rc = sql__kv_begin(x->s->srv->kv, &t);
        if (rc != 0)
            return rc;
    } else {
        int rc = set_key(&pc->met, k, kl, false);
        if (rc != 0)
            return rc;
        pc->met_ts = sts;
        pc->met_again = 0;
        pc->met_slept = 0;
    }
    uint8_t *v = NULL;
    size_t vl;
    int rc = sql__kvtxn_get(t, k, kl, &v, &vl);
    sql__kv_free(v);
    if (t != x->txn)
        sql__kvtxn_rollback(t);
    return rc == MVCC_NOTFOUND ? 0 : rc;
}

void sql__cop_iter_free(struct sql_cop_iter *it)
{
    if (!it)
        return;
    for (size_t i = 0; i < it->np; i++) /* a round still reading */
        if (it->pcs[i].started)
            pthread_join(it->pcs[i].th, NULL);
    for (size_t i = 0; i < it->np; i++)
        piece_free(&it->pcs[i]);
    sql__buf_free(&it->req);
    sql__free(it);
}

/* Cut the last piece at its region's bound into two while fewer than
 * maxp pieces read: boundaries from the transport's map now; a piece that
 * meets a split or a move locates again, so a stale boundary costs a
 * retry, never a row. */
static int iter_split(struct sql_cop_iter *it)
{
    while (it->np < it->maxp) {
        struct piece *t = &it->pcs[it->np - 1];
        uint64_t shard;
        const uint8_t *b;
        size_t bl;
        if (t->done || t->rc)
            return 0;
        int rc = it->desc
                     ? it->tr->locate_prev(it->tr->ctx,
                                           t->hi.len ? t->hi.p : NULL,
                                           t->hi.len, &shard, &b, &bl)
                     : it->tr->locate(it->tr->ctx, bp(&t->lo), t->lo.len,
                                      &shard, &b, &bl);
        if (mvcc_is_region_error(rc))
            return 0; /* the pieces locate again themselves */
        if (rc != 0)
            return rc;
        if (!b || (it->desc ? kcmp(b, bl, bp(&t->lo), t->lo.len) <= 0
                            : t->hi.len &&
                                  kcmp(b, bl, t->hi.p, t->hi.len) >= 0))
            return 0; /* the rest is in one region */
        struct piece *n = &it->pcs[it->np];
        memset(n, 0, sizeof(*n));
        n->tr = t->tr;
        n->ts = t->ts;
        n->desc = t->desc;
        mvcc_result_init(&n->res);
        it->np++;
        /* t keeps [lo, b) (descending [b, hi)), n takes the rest */
        if (it->desc) {
            rc = set_key(&n->lo, bp(&t->lo), t->lo.len, false);
            rc = rc ? rc : set_key(&n->hi, b, bl, false);
            rc = rc ? rc : set_key(&t->lo, n->hi.p, n->hi.len, false);
        } else {
            rc = set_key(&n->lo, b, bl, false);
            rc = rc ? rc : set_key(&n->hi, bp(&t->hi), t->hi.len, false);
            rc = rc ? rc : set_key(&t->hi, n->lo.p, n->lo.len, false);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* A round: a request for every piece that is not read and holds fewer
 * than COP_AHEAD answers, each on a thread of its own (created per round;
 * a failed create runs the piece at the join); sync: the first runs here
 * and the round is joined. Without sync the round reads while sqld works
 * on the chunk it took, and the next call joins it. */
static int iter_launch(struct sql_xctx *x, struct sql_cop_iter *it,
                       bool sync)
{
    if (it->limited) {
        /* ask for what is still missing (after that, for a chunk: rows
         * sqld's filter refused may leave the LIMIT short) */
        uint64_t want = it->left ? it->left : COP_ROWS;
        it->max_rows = want < COP_ROWS ? (uint32_t)want : COP_ROWS;
    }
    int rc = refresh_req(x, it);
    struct piece *first = NULL;
    for (size_t i = 0; rc == 0 && i < it->np; i++) {
        struct piece *pc = &it->pcs[i];
        pc->req = it->req.p;
        pc->req_len = it->req.len;
        if (pc->done || pc->qn >= COP_AHEAD)
            continue;
        it->inflight = true;
        if (sync && !first)
            first = pc;
        else if (!(pc->started =
                       pthread_create(&pc->th, NULL, piece_main, pc) == 0))
            pc->pending = true;
    }
    if (first)
        piece_step(first);
    return rc;
}

/* Wait for the round in flight; locks its pieces met are resolved (they
 * ask again next round). */
static int iter_join(struct sql_xctx *x, struct sql_cop_iter *it)
{
    int rc = 0;
    if (!it->inflight)
        return 0;
    it->inflight = false;
    for (size_t i = 0; i < it->np; i++) {
        struct piece *pc = &it->pcs[i];
        if (pc->started)
            pthread_join(pc->th, NULL);
        else if (pc->pending)
            piece_step(pc); /* no thread: read it here */
        pc->started = pc->pending = false;
    }
    for (size_t i = 0; rc == 0 && i < it->np; i++) {
        struct piece *pc = &it->pcs[i];
        if (pc->rc == MVCC_LOCKED)
            rc = resolve(x, pc);
        else
            rc = pc->rc;
        pc->rc = 0;
    }
    return rc;
}

/* The first piece's oldest answer, its rows copied into out (arena a). */
static int iter_take(struct sql_cop_iter *it, struct sql_arena *a,
                     struct sql_kvres *out)
{
    struct piece *pc = &it->pcs[0];
    uint8_t *resp = pc->q[pc->qh];
    size_t resp_len = pc->qlen[pc->qh];
    pc->qh = (pc->qh + 1) % COP_AHEAD;
    pc->qn--;
    struct sql_cop_resp r;
    int rc = sql__cop_resp_decode(resp, resp_len, &r);
    uint8_t *rows = NULL;
    if (rc == 0 && r.nrows &&
        (!(rows = sql__arena_alloc(a, r.rows_len)) ||
         !(out->r.pairs = sql__arena_alloc(a, sizeof(*out->r.pairs) *
                                                  r.nrows))))
        rc = -ENOMEM;
    if (rc == 0 && r.nrows) {
        memcpy(rows, r.rows, r.rows_len);
        r.rows = rows;
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
    }
    mvcc_free(resp);
    if (it->limited)
        it->left -= out->r.npairs < it->left ? out->r.npairs : it->left;
    return rc;
}

static int iter_open(struct sql_xctx *x, const struct plan *p, int mode,
                     const uint8_t *start, size_t slen, const uint8_t *end,
                     size_t elen, struct sql_cop_iter **out)
{
    struct sql_cop_iter *it = sql__malloc(sizeof(*it));
    if (!it)
        return -ENOMEM;
    memset(it, 0, sizeof(*it));
    it->tr = sql__kv_cop_transport(x->s->srv->kv);
    it->p = p;
    it->mode = mode;
    it->desc = mode == SQL_COP_ROWS && p->acc.desc;
    it->ts = sql__kvtxn_start_ts(x->txn);
    it->maxp = COP_PARALLEL;
    uint32_t n;
    if (mode == SQL_COP_AGG)
        it->max_rows = SQL_COP_MAX_ROWS;
    else if (mode == SQL_COP_TOPN && topn_rows(x, p->cop, &n))
        it->max_rows = n;
    else if (rows_wanted(x, p->cop, &it->left)) {
        it->limited = true; /* each round sizes its request */
        it->maxp = 1;
        it->max_rows = COP_ROWS;
    } else
        it->max_rows = COP_ROWS;
    struct piece *pc = &it->pcs[0];
    it->np = 1;
    pc->tr = it->tr;
    pc->ts = it->ts;
    pc->desc = it->desc;
    mvcc_result_init(&pc->res);
    int rc = set_key(&pc->lo, start, slen, false);
    rc = rc ? rc : set_key(&pc->hi, end, end ? elen : 0, false);
    rc = rc ? rc : refresh_req(x, it);
    rc = rc ? rc : iter_split(it);
    if (rc != 0) {
        sql__cop_iter_free(it);
        return rc;
    }
    *out = it;
    return 0;
}

/* The next answer of the stream *itp (opened over [start, end) on the
 * first call): its rows (ROWS, TOPN) or partial groups (AGG) in out; *done
 * (and *itp freed) when the range is read; *fallback when an AGG answer
 * said so (out then empty). */
static int iter_next(struct sql_xctx *x, const struct plan *p, int mode,
                     struct sql_cop_iter **itp, struct sql_arena *a,
                     const uint8_t *start, size_t slen, const uint8_t *end,
                     size_t elen, struct sql_kvres *out, bool *done,
                     bool *fallback)
{
    memset(out, 0, sizeof(*out));
    *done = false;
    *fallback = false;
    int rc = *itp ? iter_join(x, *itp)
                  : iter_open(x, p, mode, start, slen, end, elen, itp);
    struct sql_cop_iter *it = *itp;
    while (rc == 0) {
        for (size_t i = 0; i < it->np; i++)
            *fallback = *fallback || it->pcs[i].fallback;
        if (*fallback)
            break;
        if (it->np == 0) {
            *done = true;
            break;
        }
        struct piece *h = &it->pcs[0];
        if (h->qn) {
            rc = iter_take(it, a, out);
            /* read on while sqld works on this chunk, unless a LIMIT
             * the stream serves alone has all it needs */
            if (rc == 0 && (!it->limited || it->left))
                rc = iter_launch(x, it, false);
            break;
        }
        if (h->done) { /* the first piece is read: the next one leads */
            piece_free(h);
            memmove(&it->pcs[0], &it->pcs[1],
                    sizeof(it->pcs[0]) * (it->np - 1));
            it->np--;
            rc = it->np ? iter_split(it) : 0;
            continue;
        }
        rc = iter_launch(x, it, true);
        rc = rc ? rc : iter_join(x, it);
    }
    if (rc != 0 || *done || *fallback) {
        sql__cop_iter_free(*itp);
        *itp = NULL;
    }
    return rc ? sql__kverr(x->s, rc) : 0;
}

int sql__cop_scan(struct sql_xctx *x, const struct plan *p,
                  struct sql_cop_iter **it, struct sql_arena *a,
                  const uint8_t *start, size_t slen, const uint8_t *end,
                  size_t elen, struct sql_kvres *out, bool *done)
{
    bool fallback;
    uint32_t n;
    int mode = topn_rows(x, p->cop, &n) ? SQL_COP_TOPN : SQL_COP_ROWS;
    return iter_next(x, p, mode, it, a, start, slen, end, elen, out, done,
                     &fallback);
}

int sql__cop_agg_call(struct sql_xctx *x, const struct plan *p,
                      struct sql_cop_iter **it, struct sql_arena *a,
                      const uint8_t *start, size_t slen, const uint8_t *end,
                      size_t elen, struct sql_kvres *out, bool *done,
                      bool *fallback)
{
    return iter_next(x, p, SQL_COP_AGG, it, a, start, slen, end, elen, out,
                     done, fallback);
}

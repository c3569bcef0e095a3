/* cop.h: the coprocessor: table scans with filters pushed next to the data
 * (kvd, or the in-process transport), shared by cop.c (the request and
 * response codec and the evaluator that runs next to the data) and
 * cop_client.c (the planner's choice and the operator that sends one
 * request per region). DESIGN.md, "Coprocessor".
 *
 * Request (integers are LEB128 varints unless a width is given):
 *
 * | bytes | field |
 * |---|---|
 * | 1 | magic 0xC0 |
 * | 1 | version 1 |
 * | v | sql_mode (SQL_MODE_* bits) |
 * | v | time zone offset, seconds east of UTC, zigzag |
 * | v | max_rows: rows one answer carries at most (1..65536) |
 * | v, n | the table's catalog record (sql__table_encode) |
 * | v | nconds (0..SQL_COP_MAX_CONDS) |
 * | v, n | each condition: one WHERE conjunct as canonical SQL (ast.c) |
 * | v | version 2 only: mode, SQL_COP_ROWS / _AGG / _TOPN |
 * | v | version 2 only: 0 (rows), or an index: its position in the
 *        table's indexes + 1 (the range holds its entries; conditions,
 *        keys and aggregates read only its columns and the handle) |
 * | v, v | AGG: nkeys, naggs; TOPN: nkeys, 0 (1..SQL_COP_MAX_EXPRS in all) |
 * | v, n | AGG: each group key, then each aggregate call (COUNT, SUM,
 *          AVG, MIN, MAX; no DISTINCT), as canonical SQL |
 * | v, n, 1 | TOPN: each sort key as canonical SQL, then 1 if descending |
 * | v | version 3 only: flags, bit 0 `desc` (ROWS: read [start, end)
 *        from end downwards; the answer's rows are in descending key
 *        order), bit 1 `project` (ROWS over rows, not an index) |
 * | v, v.. | with `project`: ncols (1..SQL_COP_MAX_PROJ), then each a
 *        column's position in the table: a row every condition accepts
 *        is sent with only these columns in its value (row form; the
 *        handle is the key's). A row sent as undecided keeps its stored
 *        value whole |
 *
 * | v | version 4 only, in every mode: flags as above (0 unless ROWS) and
 *        the projection, then nresolved (1..SQL_COP_MAX_RESOLVED) |
 * | v.. | version 4 only: each a transaction's start_ts whose locks the
 *        read skips (the reader found it pushed above the read's ts:
 *        TiKV's resolved_locks, as TxnRequest.resolved_locks for a Scan) |
 *
 * Versions 1 (no mode: SQL_COP_ROWS), 2 (no flags) and 3 (no resolved
 * locks) are still read. In TOPN mode max_rows is offset + count: each
 * answer carries the rows of its top max_rows. A client sends the lowest
 * version its request needs (2, 3 with a flag, 4 with resolved locks), so
 * a kvd that reads only versions 1 and 2 serves every ascending scan that
 * met no pushed lock.
 *
 * Response:
 *
 * | bytes | field |
 * |---|---|
 * | 1 | magic 0xC1 |
 * | v | flags: bit 0 `more` (the range is not finished), bit 1 `bounded`,
 *        bit 2 `fallback` (AGG: a row the aggregation cannot take next to
 *        the data; nothing else is in the answer: sqld aggregates the
 *        rows itself) |
 * | v | keys read |
 * | v, n | resume key (with `more`: the last key read; go on after it,
 *          or with `desc` below it: it is the next request's end) |
 * | v, n | the end of the range served (exclusive; with `bounded`, else
 *          empty: unbounded). A request must lie within the region
 *          (kvd refuses one past it, KeyNotInRegion, and the caller
 *          locates again); the in-process transport still cuts one at its
 *          shard: the caller goes on from here. With `desc` it is the start
 *          of the range served instead (inclusive; `bounded` when not
 *          empty), where a descending caller goes on below: nothing says
 *          a descending request's end was clipped, so the cluster
 *          transport never sends one past its region's end (libregion's
 *          send_cmd refuses it EpochNotMatch and the piece locates again) |
 * | v | nrows |
 * | v, n, v, n | each row: its key and stored value, in key order |
 *
 * A row is sent when every condition is TRUE for it, or when they cannot
 * be decided next to the data (a column the row predates, an evaluation
 * error): sqld evaluates its whole filter again on every row it gets.
 *
 * AGG answers carry one row per group (key empty, value in row form,
 * codec.h, columns numbered from 0): the nkeys group key values of the
 * group's first row, then per aggregate its rows counted (INT) and its
 * part (the sum, MIN or MAX so far; NULL when none; NULL for COUNT), in
 * the order groups were first seen. An index scan's answer carries the
 * index entries (key, value) the conditions accept. TOPN answers carry
 * the rows (or entries) of the top max_rows by the keys (ties: the
 * earlier key first) and every row whose keys could not be evaluated,
 * in key order.
 */
#ifndef SQL_COP_H
#define SQL_COP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mvcc.h>

#include "arena.h"
#include "wire.h"

#define SQL_COP_REQ_MAGIC 0xC0
#define SQL_COP_RESP_MAGIC 0xC1
#define SQL_COP_VERSION 4
#define SQL_COP_MAX_RESOLVED 256u /* resolved locks one request carries */
#define SQL_COP_FLAG_DESC 1u /* request flags (version 3) */
#define SQL_COP_FLAG_PROJECT 2u
#define SQL_COP_MAX_PROJ 4096u /* columns a projection names */
#define SQL_COP_MAX_EXPRS 64        /* group keys + aggregates, sort keys */
#define SQL_COP_MAX_READ_AGG 65536u /* keys an AGG or TOPN answer reads */

enum sql_cop_mode
{
    SQL_COP_ROWS, /* the rows the conditions accept */
    SQL_COP_AGG,  /* partial aggregates per group */
    SQL_COP_TOPN, /* the top max_rows rows */
};
#define SQL_COP_MAX_CONDS 64        /* conditions one request carries */
#define SQL_COP_MAX_ROWS 65536u     /* rows one answer carries at most */
#define SQL_COP_MAX_BYTES (1u << 20) /* row bytes one answer stops after */
#define SQL_COP_MAX_READ 16384u     /* keys one answer reads at most */

/* A decoded request; byte strings point into the decoded buffer. */
struct sql_cop_req
{
    uint32_t sql_mode;         /* SQL_MODE_* */
    int32_t tz_offset_s;       /* session time zone */
    uint32_t max_rows;         /* rows per answer */
    const uint8_t *table;      /* catalog record of the table */
    size_t table_len;          /* its length */
    const char **conds;        /* conjuncts (canonical SQL; NOT
                                  NUL-terminated: see cond_lens) */
    size_t *cond_lens;         /* their lengths */
    size_t nconds;             /* their count */
    int mode;                  /* enum sql_cop_mode */
    const char **exprs;        /* AGG: keys then calls; TOPN: sort keys
                                  (NOT NUL-terminated: see expr_lens) */
    size_t *expr_lens;         /* their lengths */
    size_t nkeys;              /* group or sort keys */
    size_t naggs;              /* AGG: aggregate calls */
    const uint8_t *desc;       /* TOPN: per key, 1 when descending */
    uint32_t index;            /* over index index - 1, or 0: rows */
    uint32_t flags;            /* SQL_COP_FLAG_* (version 3; 0 encodes
                                  as version 2) */
    const uint32_t *proj;      /* PROJECT: column positions sent */
    size_t nproj;              /* their count */
    const uint64_t *resolved;  /* start_ts of transactions whose locks
                                  the read skips (version 4) */
    size_t nresolved;          /* their count (0..SQL_COP_MAX_RESOLVED) */
};

/* A decoded response; byte strings point into the decoded buffer. */
struct sql_cop_resp
{
    bool more;                 /* the range goes on after resume */
    uint64_t nread;            /* keys read */
    const uint8_t *resume;     /* last key read (with more) */
    size_t resume_len;         /* its length */
    bool fallback;             /* AGG: aggregate the rows in sqld */
    bool bounded;              /* the range served ends at end */
    const uint8_t *end;        /* where (exclusive) */
    size_t end_len;            /* its length */
    size_t nrows;              /* rows */
    const uint8_t *rows;       /* their encoding (key, value pairs) */
    size_t rows_len;           /* its length */
};

int sql__cop_req_encode(const struct sql_cop_req *r, struct sql__buf *b);
/* 0 or SQL_EPROTO (malformed), -ENOMEM; arrays in arena a. */
int sql__cop_req_decode(const uint8_t *p, size_t n, struct sql_arena *a,
                        struct sql_cop_req *out);
/* 0 or SQL_EPROTO; the rows are checked, not copied. */
int sql__cop_resp_decode(const uint8_t *p, size_t n,
                         struct sql_cop_resp *out);
/* The next row of r at *off (start at 0): 1 with key and value, 0 at the
 * end. Only after sql__cop_resp_decode accepted r. */
int sql__cop_resp_row(const struct sql_cop_resp *r, size_t *off,
                      const uint8_t **key, size_t *key_len,
                      const uint8_t **value, size_t *value_len);

/* Which table rows a request reads: its table id from the catalog record,
 * or SQL_EPROTO. */
int sql__cop_req_table_id(const struct sql_cop_req *r, int64_t *id);

/* ---- the scan (cop_client.c) ------------------------------------------ */

struct plan;
struct sql_xctx;
struct sql_kvres;

/* Whether the scan p of this execution reads through the coprocessor:
 * conditions were pushed, the session still allows it, the store has a
 * coprocessor, and the transaction has no buffered writes (a cop answer
 * is the snapshot alone). */
bool sql__cop_usable(struct sql_xctx *x, const struct plan *p);
/* A stream of coprocessor answers over one range (cop_client.c):
 * created by the first call below, freed by the call that ends it or by
 * sql__cop_iter_free (NULL is a no-op). */
struct sql_cop_iter;
void sql__cop_iter_free(struct sql_cop_iter *it);
/* The next chunk of rows of [start, end) that pass p's pushed
 * conditions, in key order (descending for a descending scan), read at
 * the transaction's start_ts: *it is the stream (NULL: open it over
 * [start, end); the range is not read again after). out->r.pairs point
 * into arena a (out is not to be reset); the chunk may be empty. *done:
 * the range is read (and *it freed). Regions are read up to COP_PARALLEL
 * at a time. 0, SQL_EQUERY (the session's error; *it freed) or -ENOMEM. */
int sql__cop_scan(struct sql_xctx *x, const struct plan *p,
                  struct sql_cop_iter **it, struct sql_arena *a,
                  const uint8_t *start, size_t slen, const uint8_t *end,
                  size_t elen, struct sql_kvres *out, bool *done);

/* Whether AGG or TOPN requests may go out for this execution: the
 * session allows the coprocessor, the store serves it, the transaction
 * has no buffered writes. */
bool sql__cop_ready(struct sql_xctx *x);
/* The next AGG answer of the stream *it over [start, end) of the scan p
 * (arguments as sql__cop_scan's): out's values are partial groups (row
 * form, cop.h's table), in key order of the rows they came from;
 * *fallback (out empty, *it freed) when a row cannot be aggregated next
 * to the data. */
int sql__cop_agg_call(struct sql_xctx *x, const struct plan *p,
                      struct sql_cop_iter **it, struct sql_arena *a,
                      const uint8_t *start, size_t slen, const uint8_t *end,
                      size_t elen, struct sql_kvres *out, bool *done,
                      bool *fallback);

/* ---- planning (cop_client.c) ------------------------------------------ */

struct sql_session;
struct ast_expr;
/* Whether scan p's rows could be read through the coprocessor (a row
 * scan of one table, full or by handle ranges, not locking, the store
 * serving cop calls, the session allowing it). */
bool sql__cop_scan_ok(struct sql_session *s, const struct plan *p);
/* Whether e evaluates next to the data over scan p's table. */
bool sql__cop_pushable(const struct plan *p, const struct ast_expr *e);
/* p->cop with every conjunct pushed or decided by the access path (made
 * when there are none to push): 0, 1 when some conjunct stays in sqld
 * (p->cop as it was), or -ENOMEM. */
int sql__cop_plan_all(struct sql_session *s, struct plan *p);

/* ---- next to the data (cop.c, cop_agg.c) ------------------------------ */

struct sql_tableinfo;
struct sql_expr_scope;
struct sql_eval;
struct sql_datum;
struct sql_cop_sink;

/* The expression text (canonical SQL) parsed in a: 0, SQL_EPROTO or
 * -ENOMEM. */
int sql__cop_parse(struct sql_arena *a, const char *text, size_t n,
                   const struct ast_expr **out);
/* The scope that resolves names to t's columns (row[i] is column i). */
void sql__cop_scope(const struct sql_tableinfo *t,
                    struct sql_expr_scope *out);
/* Append one answer row (key, value) to b. */
int sql__cop_put_row(struct sql__buf *b, const void *key, size_t key_len,
                     const void *value, size_t value_len);

/* What an AGG or TOPN request computes from the rows its conditions
 * accept: made from request q over table t in arena a (which holds its
 * state); *warned is set by the evaluation environment's warnings.
 * 0, SQL_EPROTO (an expression it cannot compile) or -ENOMEM. */
int sql__cop_sink_create(const struct sql_cop_req *q,
                         const struct sql_tableinfo *t, struct sql_arena *a,
                         const bool *warned, struct sql_cop_sink **out);
/* Feed one row: row (t's columns; NULL when the conditions could not be
 * decided), its key and stored value. *unsure: AGG could not take it
 * (the answer falls back). 0 or -ENOMEM. */
int sql__cop_sink_add(struct sql_cop_sink *k, struct sql_eval *ev,
                      const struct sql_datum *row, const uint8_t *key,
                      size_t key_len, const uint8_t *value,
                      size_t value_len, bool *unsure);
/* AGG: whether the answer is as big as one may be. */
bool sql__cop_sink_full(const struct sql_cop_sink *k, uint32_t max_rows);
/* The answer's rows (cop.h's table) appended to b; *nrows their count. */
int sql__cop_sink_flush(struct sql_cop_sink *k, struct sql__buf *b,
                        uint64_t *nrows);
/* Its buffers freed (the rest is in its arena); NULL is a no-op. */
void sql__cop_sink_free(struct sql_cop_sink *k);

/* ---- the merge in sqld (cop_agg.c) ------------------------------------ */

struct sql_xnode;
/* Aggregation node n's first call: when its partial aggregates run next
 * to the data (planned and usable now), read and merge them into n's
 * groups and answer 0; 1 when n is to aggregate its input rows itself
 * (also after a fallback: nothing merged); else an error, the session's
 * error set. */
int sql__cop_agg_consume(struct sql_xctx *x, struct sql_xnode *n);

#endif /* SQL_COP_H */

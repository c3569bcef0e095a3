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
 *
 * Response:
 *
 * | bytes | field |
 * |---|---|
 * | 1 | magic 0xC1 |
 * | v | flags: bit 0 `more` (the range is not finished), bit 1 `bounded` |
 * | v | keys read |
 * | v, n | resume key (with `more`: the last key read; go on after it) |
 * | v, n | the end of the range served (exclusive; with `bounded`, else
 *          empty: unbounded). The store clips a request to its region: a
 *          region that shrank (split) under the caller's map serves less,
 *          and the caller goes on from here |
 * | v | nrows |
 * | v, n, v, n | each row: its key and stored value, in key order |
 *
 * A row is sent when every condition is TRUE for it, or when they cannot
 * be decided next to the data (a column the row predates, an evaluation
 * error): sqld evaluates its whole filter again on every row it gets.
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
#define SQL_COP_VERSION 1
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
};

/* A decoded response; byte strings point into the decoded buffer. */
struct sql_cop_resp
{
    bool more;                 /* the range goes on after resume */
    uint64_t nread;            /* keys read */
    const uint8_t *resume;     /* last key read (with more) */
    size_t resume_len;         /* its length */
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
/* Rows of [start, end) that pass p's pushed conditions, in key order,
 * read at the transaction's start_ts: out->r.pairs point into arena a
 * (out is not to be reset). *next: where the range goes on (inclusive,
 * in arena keep), NULL when it is read. Regions are read up to
 * COP_PARALLEL at a time. 0, SQL_EQUERY (the session's error) or
 * -ENOMEM. */
int sql__cop_scan(struct sql_xctx *x, const struct plan *p,
                  struct sql_arena *a, struct sql_arena *keep,
                  const uint8_t *start, size_t slen, const uint8_t *end,
                  size_t elen, struct sql_kvres *out, uint8_t **next,
                  size_t *next_len);

#endif /* SQL_COP_H */

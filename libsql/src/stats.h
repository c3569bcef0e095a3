/* stats.h: table statistics (ANALYZE TABLE, analyze.c) as the catalog keeps
 * them and as the planner reads them: row count, and per column distinct
 * count, null count, an equi-depth histogram and the most common values;
 * per index the distinct count of its whole key. DESIGN.md "Statistics"
 * has the record's byte table and the estimation rules.
 *
 * Meta key (beside catalog.h's): "mStats" tableID(8) -> the record.
 */
#ifndef SQL_STATS_H
#define SQL_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "kv.h"
#include "value.h"
#include "wire.h"

#define SQL_STATS_VERSION 1   /* record version byte */
#define SQL_STATS_BUCKETS 64  /* histogram buckets ANALYZE builds */
#define SQL_STATS_TOPN 5      /* most common values kept per column */
#define SQL_STATS_SAMPLE 10000 /* rows sampled (a table this small is
                                  read whole: its figures are exact) */

/* A value as statistics keep it: its key form (codec.h, memcomparable
 * under the column's type and collation) and its text for SHOW. */
struct sql_statval
{
    const uint8_t *key; /* key form */
    size_t klen;        /* its length */
    const char *text;   /* the value as the client would see it */
};

/* One histogram bucket: the values in [lo, hi]. */
struct sql_bucket
{
    struct sql_statval lo; /* smallest value in the bucket */
    struct sql_statval hi; /* largest */
    uint64_t count;        /* rows up to and including this bucket
                              (cumulative, non-NULL, scaled to the table) */
    uint64_t repeats;      /* rows equal to hi */
};

/* A most common value and its rows. */
struct sql_topn
{
    struct sql_statval v; /* the value */
    uint64_t count;       /* its rows (scaled) */
};

struct sql_colstats
{
    uint32_t col_id;          /* the column's stable id */
    uint64_t ndv;             /* distinct non-NULL values (estimated) */
    uint64_t nulls;           /* NULL rows (scaled) */
    uint64_t avg_size;        /* average key-form bytes of a value */
    struct sql_bucket *b;     /* histogram, ascending */
    uint32_t nb;              /* its buckets */
    struct sql_topn *top;     /* most common values, most rows first */
    uint32_t ntop;            /* their count */
};

struct sql_idxstats
{
    int64_t idx_id;  /* the index */
    uint64_t ndv;    /* distinct keys (all its columns) */
    uint64_t nulls;  /* rows with a NULL key part */
};

struct sql_tstats
{
    int64_t table_id;          /* the table */
    uint64_t rows;             /* rows when analyzed (exact) */
    uint64_t sampled;          /* rows the other figures come from */
    int64_t time_ms;           /* when analyzed (wall-clock ms) */
    struct sql_colstats *cols; /* per column */
    uint32_t ncols;            /* their count */
    struct sql_idxstats *idx;  /* per index */
    uint32_t nidx;             /* their count */
    struct sql_arena *arena;   /* owns this struct and everything above */
};

/* Record form: encode appends to b; decode checks every length and count
 * (SQL_EPROTO when malformed, -ENOMEM). */
int sql__stats_encode(const struct sql_tstats *st, struct sql__buf *b);
int sql__stats_decode(const uint8_t *p, size_t n, struct sql_tstats **out);
void sql__stats_free(struct sql_tstats *st); /* NULL: no-op */

/* The key of table_id's record in k (16 bytes); its length. */
size_t sql__stats_key(uint8_t *k, int64_t table_id);
/* The prefix every record's key starts with. */
extern const char sql__stats_prefix[];

/* Meta writes inside a transaction. */
int sql__meta_put_stats(struct sql_kvtxn *t, const struct sql_tstats *st);
int sql__meta_del_stats(struct sql_kvtxn *t, int64_t table_id);

/* Lookups: NULL when the column or index was not analyzed. */
const struct sql_colstats *sql__stats_col(const struct sql_tstats *st,
                                          uint32_t col_id);
const struct sql_idxstats *sql__stats_idx(const struct sql_tstats *st,
                                          int64_t idx_id);

/* Estimates, as fractions of the table's rows (0..1). key is a value's
 * key form under the column's type. */
double sql__stats_sel_null(const struct sql_tstats *st,
                           const struct sql_colstats *c);
double sql__stats_sel_eq(const struct sql_tstats *st,
                         const struct sql_colstats *c, const uint8_t *key,
                         size_t klen);
/* lo/hi NULL: unbounded on that side. */
double sql__stats_sel_range(const struct sql_tstats *st,
                            const struct sql_colstats *c, const uint8_t *lo,
                            size_t lolen, bool lo_incl, const uint8_t *hi,
                            size_t hilen, bool hi_incl);

struct sql_session;
struct ast_stmt;
struct ast_show;
struct sql_tableinfo;
struct plan;
struct plan_access;

/* Planner estimates (stats_est.c), each -1 when t has no statistics:
 * the rows access path a reads; the rows scan p gives after all its
 * conjuncts; the distinct values of column ci (its position); the rows
 * when analyzed. */
double sql__stats_access_rows(const struct sql_tableinfo *t,
                              const struct plan_access *a);
double sql__stats_scan_rows(struct sql_session *s, const struct plan *p);
double sql__stats_col_ndv(const struct sql_tableinfo *t, int ci);
double sql__stats_table_rows(const struct sql_tableinfo *t);

/* ANALYZE TABLE t [, t2 ...] (analyze.c): answers itself (a row per table,
 * as MySQL does). 0, SQL_EQUERY (s->err) or -ENOMEM. */
int sql__analyze_run(struct sql_session *s, const struct ast_stmt *st);
/* SHOW STATS_META / STATS_HISTOGRAMS / STATS_BUCKETS / STATS_TOPN [LIKE]. */
int sql__show_stats(struct sql_session *s, const struct ast_show *sh);

#endif /* SQL_STATS_H */

/* exec_int.h: the executor's node, shared by exec.c (scans, filters,
 * aggregation, sort) and exec_join.c (joins); DESIGN.md "Executor".
 */
#ifndef SQL_EXEC_INT_H
#define SQL_EXEC_INT_H

#include "exec.h"
#include "kv.h"
#include "wire.h"

struct range_keys
{
    uint8_t *start; /* inclusive */
    size_t slen;    /* its length */
    uint8_t *end;   /* exclusive */
    size_t elen;    /* its length */
};

struct group
{
    const uint8_t *key;          /* key bytes */
    size_t klen;                 /* their length */
    struct sql_datum *keys;      /* key values (copied) */
    struct sql_datum *firsts;    /* first row's values for first slots */
    struct sql_agg_state **st;   /* aggregate states */
};

struct sql_xnode
{
    const struct plan *p;        /* what it runs */
    struct sql_xnode *child;     /* input */
    struct sql_chunk out;        /* its output chunk */
    struct sql_arena *arena;     /* per-call bytes (reset each next) */
    struct sql_arena *keep;      /* bytes kept until close */
    struct sql_arena arena_mem;  /* what arena, keep and rs point at (held */
    struct sql_arena keep_mem;   /* inline: an operator's open makes no */
    struct sql_arena rs_mem;     /* allocation of its own; exec.c) */
    bool opened;                 /* first next() done */
    bool done;                   /* no more rows */
    /* scan */
    struct range_keys *ranges;   /* key ranges to read */
    size_t nranges;              /* their count */
    size_t cur;                  /* range being read */
    uint8_t *resume;             /* where the current range goes on */
    size_t resume_len;           /* its length */
    struct sql_kvres res;        /* the last read */
    struct sql_cop_iter *cop;    /* the coprocessor's stream over the
                                    range being read (cop_client.c) */
    int64_t *pending;            /* handles still to fetch (index, batch) */
    size_t npending, ppos;       /* their count and position */
    int ixonly;                  /* index scan: 1 reads the index alone,
                                    2 the rows too, 0 not judged yet */
    /* materializing operators */
    struct sql_datum *rows;      /* kept rows */
    int64_t *rhandles;           /* their handles */
    size_t nrows, caprows;       /* count and allocation */
    size_t pos;                  /* next to emit */
    /* agg / distinct */
    struct group *groups;        /* groups in first-seen order */
    size_t ngroups, capgroups;   /* count and allocation */
    uint32_t *slots;             /* hash of groups: index + 1 */
    size_t nslots;               /* power of two */
    /* limit */
    uint64_t skip;               /* rows still to skip */
    uint64_t left;               /* rows still to emit */
    /* scan in a join */
    struct sql_arena *rs;        /* the scan's ranges and handles (reset
                                    when an index join looks up again) */
    const struct sql_datum *outer; /* index join: the left row the range
                                    values read */
    /* join (exec_join.c) */
    struct sql_xnode *right;     /* second input */
    struct sql_chunk *lc;        /* probe (left) chunk being joined */
    size_t li;                   /* its row being joined */
    bool lactive;                /* row li's matches are being emitted */
    bool lexhausted;             /* ... and none is left (LEFT: pad next) */
    bool lmatched;               /* row li matched */
    size_t cand;                 /* next candidate: kept row (nested),
                                    chain link + 1 (hash) */
    struct sql_chunk *ic;        /* index join: the inner chunk */
    size_t ii;                   /* its next row */
    uint8_t **hkey;              /* hash: each kept row's key bytes */
    size_t *hklen;               /* their lengths */
    uint32_t *hnext;             /* next kept row of a chain, + 1 */
    uint32_t *hslot;             /* first kept row per bucket, + 1 */
    size_t nhslot;               /* buckets (power of two) */
    struct sql__buf kb;          /* probe key */
    struct sql_setop_state *so;  /* SETOP: its hash and phase (setop.c) */
    struct sql_memtrack mem;     /* its arenas' bytes (parent: the
                                    query's; memtrack.c) */
};


static inline struct sql_datum *sql__xrow(struct sql_chunk *c, size_t i)
{
    return c->rows + i * c->ncols;
}

static inline uint64_t sql__xhash(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

/* Room for want rows in n's output chunk. */
int sql__xchunk_room(struct sql_xnode *n, size_t want);
/* Copy a row (its bytes too) into n's kept rows. */
int sql__xkeep_row(struct sql_xnode *n, const struct sql_datum *row,
                   size_t ncols, int64_t handle);
/* The scan n's key ranges (ranges, nranges; done when empty) before its
 * first call (cop_agg.c reads them itself). */
int sql__xscan_open(struct sql_xctx *x, struct sql_xnode *n);
/* Group by d's value: its key form appended to kb (exec.c, cop_agg.c). */
int sql__xgroup_key(struct sql__buf *kb, const struct sql_datum *d);
/* The group of aggregation (or distinct) node n with key bytes key: found
 * or made (*created; its fields zero). */
int sql__xgroup_find(struct sql_xnode *n, const uint8_t *key, size_t klen,
                     bool *created, struct group **out);
/* Read the scan n again, its range values taken from row outer. */
void sql__xscan_rescan(struct sql_xnode *n, const struct sql_datum *outer);
/* The next chunk of join n into n->out (exec_join.c). */
int sql__xjoin_next(struct sql_xctx *x, struct sql_xnode *n, bool first);
/* The next chunk of set operation n into n->out (setop.c). */
int sql__xsetop_next(struct sql_xctx *x, struct sql_xnode *n, bool first);

/* The next chunk of Window operator n (window.c). */
int sql__xwindow_next(struct sql_xctx *x, struct sql_xnode *n, bool first);

/* EXPLAIN ANALYZE (explain_analyze.c): a call of a node starts (the
 * clock read) and ends, node n having given rows rows. */
int64_t sql__xa_enter(struct sql_xanalyze *an);
void sql__xa_leave(struct sql_xanalyze *an, const struct sql_xnode *n,
                   int64_t t0, size_t rows);

/* Row n->out.n of scan n's chunk (row, handle h): kept when the scan's
 * condition is TRUE of it (exec.c). */
int sql__xscan_keep(struct sql_xctx *x, struct sql_xnode *n,
                    const struct sql_datum *row, int64_t h);
/* exec_ixonly.c: sql__plan_index_only(n->p), judged once per node. */
bool sql__xscan_index_only(struct sql_xnode *n);
/* The rows of index entries res (scan n, sql__xscan_index_only) into n's
 * output chunk (room for them made), its condition applied. */
int sql__xemit_entries(struct sql_xctx *x, struct sql_xnode *n,
                       const struct sql_kvres *res);

#endif /* SQL_EXEC_INT_H */

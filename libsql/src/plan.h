/* plan.h: plans for single-table statements (DESIGN.md "Planner").
 *
 * The planner builds a logical plan from the parse tree
 *     DataSource(table, conjuncts) -> [Aggregation -> Selection(HAVING)]
 *       -> Projection(items + hidden sort keys) -> [Distinct] -> [Sort]
 *       -> [Limit]
 * with every expression compiled (expr.h) against its input's columns,
 * then turns it into a physical plan: the data source becomes a scan with
 * an access path chosen from the conjuncts (point get, batch point get,
 * handle range, unique-index point, index range, full scan) and the
 * conjuncts as its filter; Sort + Limit become TopN. The executor
 * (exec.h) runs the physical plan over chunks of rows.
 */
#ifndef SQL_PLAN_H
#define SQL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "catalog.h"
#include "expr.h"
#include "session.h"

/* An output column: what the client's column definition says. */
struct plan_col
{
    const char *name;      /* name shown (alias or the item as written) */
    const char *org_name;  /* table column name, or "" */
    const char *table;     /* table alias, or "" */
    const char *org_table; /* table name, or "" */
    const char *db;        /* database, or "" */
    struct sql_ftype type; /* static type */
};

enum plan_access_kind
{
    ACC_FULL,        /* every row of the table */
    ACC_POINT,       /* one handle */
    ACC_BATCH_POINT, /* several handles */
    ACC_HANDLE_RANGE,/* handle ranges */
    ACC_UNIQUE_POINT,/* unique index, every column equal: 0 or 1 row */
    ACC_INDEX_RANGE, /* index ranges, then the rows by handle */
    ACC_VIRTUAL,     /* an information_schema table, made from the catalog */
};

/* One key range over the handle or an index: equal values for the first
 * neq key columns, then optional bounds on the next one. */
struct plan_range
{
    struct sql_expr **eq;  /* neq constant expressions */
    bool *eq_nullsafe;     /* per eq: <=> or IS NULL, so NULL matches NULL
                              (else a NULL value matches nothing) */
    uint32_t neq;          /* their count */
    struct sql_expr *lo;   /* lower bound on column neq, or NULL */
    bool lo_incl;          /* >= rather than > */
    struct sql_expr *hi;   /* upper bound, or NULL */
    bool hi_incl;          /* <= rather than < */
};

struct plan_access
{
    int kind;                       /* enum plan_access_kind */
    const struct sql_tableinfo *t;  /* the table */
    int idx;                        /* index (position in t->idx), -1 for
                                       the handle */
    struct plan_range *ranges;      /* key ranges (IN gives several) */
    size_t nranges;                 /* their count */
    bool desc;                      /* read in descending key order */
};

enum plan_kind
{
    PL_DUAL,     /* no table: one row of no columns */
    PL_SCAN,     /* table access + filter (physical) */
    PL_SOURCE,   /* table + conjuncts (logical; becomes PL_SCAN) */
    PL_FILTER,   /* rows where cond is true */
    PL_AGG,      /* group keys, aggregates, first-row columns */
    PL_PROJECT,  /* expressions over the input row */
    PL_DISTINCT, /* drop rows equal on the first nvisible columns */
    PL_SORT,     /* order by sort keys */
    PL_TOPN,     /* sort + limit (physical) */
    PL_LIMIT,    /* offset, count */
    PL_JOIN,     /* child JOIN right (plan_join.c) */
    PL_WINDOW,   /* window functions over the input (window.c) */
    PL_SETOP,    /* child UNION/INTERSECT/EXCEPT right (setop.c) */
};

enum plan_join_type
{
    JT_INNER, /* rows of both sides that match */
    JT_LEFT,  /* and each unmatched left row, the right side NULL */
    JT_SEMI,  /* each left row that matches, once (EXISTS, IN) */
    JT_ANTI,  /* each left row that matches nothing (NOT EXISTS) */
};

enum plan_join_algo
{
    JA_HASH,   /* hash the build side on the equal keys, probe the other */
    JA_INDEX,  /* per left row, look up the right table by its key */
    JA_NESTED, /* keep the right side, test every pair */
};

/* A run of row columns (a table's) that a join input contributes. */
struct plan_span
{
    uint32_t off; /* first column */
    uint32_t n;   /* how many */
};

struct plan_window;
struct plan_vrows;

struct plan
{
    int kind;                  /* enum plan_kind */
    struct plan *child;        /* input (none for DUAL/SCAN/SOURCE) */
    size_t ncols;              /* output row width */
    struct plan_col *cols;     /* output columns */
    size_t nvisible;           /* the first nvisible reach the client */
    /* SOURCE / SCAN */
    const struct sql_tableinfo *table; /* the table */
    const char *alias;         /* its name in the query */
    const struct ast_expr **conj; /* SOURCE: WHERE's conjuncts */
    size_t nconj;              /* their count */
    const struct ast_index_hint *hints; /* USE/FORCE/IGNORE INDEX */
    struct plan_access acc;    /* SCAN: the access path */
    struct sql_expr *cond;     /* SCAN, FILTER: the condition, or NULL */
    bool lock;                 /* SCAN: SELECT ... FOR UPDATE */
    const bool *used;          /* SCAN in a SELECT's join: the table's
                                  columns the statement names (complete
                                  once planned), or NULL; an index scan
                                  holding them all reads no row
                                  (exec_ixonly.c) */
    /* AGG */
    struct sql_expr **keys;    /* group keys */
    size_t nkeys;              /* their count */
    struct sql_agg **aggs;     /* aggregate calls */
    size_t naggs;              /* their count */
    uint32_t *firsts;          /* input columns carried from a group's
                                  first row */
    size_t nfirsts;            /* their count */
    bool scalar;               /* no GROUP BY: one row even when empty */
    const struct ast_expr **key_asts; /* the group keys as written (the
                                  coprocessor sends them), or NULL */
    /* PROJECT */
    struct sql_expr **exprs;   /* one per output column */
    /* SORT / TOPN */
    uint32_t *sort_cols;       /* input columns to sort on */
    bool *sort_desc;           /* descending, per key */
    size_t nsort;              /* keys */
    const struct ast_expr **sort_asts; /* SORT of a SELECT: each key's
                                  expression over the input of the
                                  projection below (the coprocessor's
                                  top-N), or NULL */
    /* LIMIT / TOPN */
    struct sql_expr *limit;    /* count, or NULL */
    struct sql_expr *offset;   /* offset, or NULL */
    int order_handle;          /* SORT: 1 (2) when the only key is the
                                  handle column ascending (descending) */
    const char *info;          /* EXPLAIN's operator info */
    /* SCAN in a join */
    uint32_t row_off;          /* first column of the table in the row
                                  (ncols is then the joined row's width) */
    bool lookup;               /* acc's range values read the left row of
                                  an index join (evaluated per row) */
    double est_rows;           /* estimated output rows */
    struct plan_vrows *vrows;  /* SCAN of a derived table, a CTE or a
                                  view: its rows (plan_vrows), else NULL */
    struct plan_cop *cop;      /* SCAN: its conditions run next to the
                                  data (cop_client.c), or NULL */
    struct plan_tscope *scope; /* SOURCE: the query's scope (a correlated
                                  subquery's outer columns are constants
                                  for the access path) */
    /* JOIN */
    struct plan *right;        /* second input */
    int join_type;             /* enum plan_join_type */
    int join_algo;             /* enum plan_join_algo */
    bool build_left;           /* HASH: build on the left input */
    struct sql_expr **lkeys;   /* HASH: equal keys over the left input */
    struct sql_expr **rkeys;   /* ... and the right input */
    struct sql_ftype *ktypes;  /* ... the type both are hashed as */
    size_t njkeys;             /* their count */
    struct plan_span *rspans;  /* columns the right input contributes */
    size_t nrspans;            /* their count */
    /* WINDOW */
    struct plan_window *win;   /* the functions (results are the first
                                  columns, the input's follow) */
    /* SETOP (setop.c): exprs holds one typed node per column, the class
     * and type every input row is converted to */
    int setop;                 /* enum ast_setop */
    bool setop_all;            /* ALL (else DISTINCT) */
    size_t outer_off;          /* the right input's outer values start
                                  here (a correlated set operation) */
};

struct plan_jnode;
struct plan_semi;
struct plan_ucmemo;

/* The coprocessor (cop_client.c): which of a table scan's conjuncts run
 * next to the data; chosen when planned, used when the store can. */
struct plan_cop
{
    const char **conds;        /* conjuncts pushed, as canonical SQL */
    size_t *cond_lens;         /* their lengths */
    size_t nconds;             /* their count (>= 1) */
    bool all;                  /* every conjunct is pushed or decided
                                  by the access path */
    struct sql_expr *limit;    /* a LIMIT right above the scan (all
                                  conjuncts decided): its count, or NULL */
    struct sql_expr *offset;   /* ... and its offset, or NULL */
    const uint8_t *table;      /* the table's catalog record */
    size_t table_len;          /* its length */
    const char *info;          /* EXPLAIN: what runs next to the data */
    /* added: aggregation and top-N next to the data (cop_agg.c) */
    int mode;                  /* SQL_COP_ROWS, _AGG or _TOPN (cop.h) */
    const char **exprs;        /* AGG: group keys then aggregate calls;
                                  TOPN: sort keys; canonical SQL */
    size_t *expr_lens;         /* their lengths */
    size_t nkeys;              /* AGG: group keys; TOPN: sort keys */
    size_t naggs;              /* AGG: aggregate calls */
    uint8_t *desc;             /* TOPN: per key, descending */
    struct plan *agg;          /* AGG: the aggregation node it feeds */
    struct plan *topn;         /* TOPN: the TopN node above */
    uint32_t index;            /* an index scan's: its position in the
                                  table's indexes + 1, else 0 */
    uint32_t *proj;            /* ROWS: the columns (positions) sqld
                                  reads, the rest not shipped; or NULL */
    size_t nproj;              /* their count */
    const char *info_rows;     /* info without the projection's part */
};

/* Choose the pushed conjuncts of the table scan p (after its access
 * path): p->cop stays NULL when the store has no coprocessor, the
 * session turned it off (tidb_allow_coprocessor), or nothing can be
 * pushed. 0 or -ENOMEM. */
int sql__cop_plan(struct sql_session *s, struct plan *p);
/* The LIMIT p sits right above a scan whose conjuncts all run next to
 * the data: the scan then asks for no more rows than it needs. */
void sql__cop_limit(struct plan *p);
/* The aggregation p over a table scan: its partial aggregates computed
 * next to the data when every aggregate, key and condition can be
 * (cop_agg.c). 0 or -ENOMEM. */
int sql__cop_agg_plan(struct sql_session *s, struct plan *p);
/* The TopN p over a projection of a table scan: each region keeps its
 * top offset + count rows when every key and condition runs next to the
 * data (cop_agg.c). 0 or -ENOMEM. */
int sql__cop_topn_plan(struct sql_session *s, struct plan *p);
/* LIMIT lim over SORT over the select list's PROJECT: split the
 * projection so that the sort reads the input rows and its keys and the
 * items are computed over the rows the limit keeps (plan_late.c). 1 when
 * split (the caller puts the PROJECT, lim->child->child before, above the
 * top-N), 0 when not worth it, -ENOMEM. */
int sql__plan_late_project(struct sql_session *s, struct plan *lim);
/* The projection p right above a scan with conditions pushed: the rows
 * come back with only the columns p and the scan's filter read
 * (cop_proj.c). 0 or -ENOMEM. */
int sql__cop_project(struct sql_session *s, struct plan *p);

/* The rows of a table a query makes (a derived table, a CTE, a view,
 * JSON_TABLE): made while planning (JSON_TABLE, a recursive CTE), or by
 * query p when a scan of the statement first opens (exec.c
 * sql__vrows_make), once per statement, so that every name of the
 * statement is resolved before any of them runs (MariaDB's order: an ON
 * naming a table out of scope is 1054 before a derived table's row
 * error). */
struct plan_vrows
{
    const struct plan *p;         /* the query, NULL once the rows exist */
    struct sql_datum *rows;       /* the rows, ncols wide each, in the
                                     statement arena */
    size_t nrows;                 /* their count */
    double est;                   /* estimated count (p's estimate before
                                     they are made, then nrows) */
};

/* One table of a FROM clause. */
struct plan_ftable
{
    const struct sql_tableinfo *t;       /* the table */
    const char *alias;                   /* its name in the query */
    const char *db;                      /* its database */
    uint32_t offset;                     /* first column in joined rows */
    const struct ast_index_hint *hints;  /* USE/FORCE/IGNORE INDEX */
    bool *hidden;                        /* per column: merged into another
                                            table's by USING/NATURAL, so
                                            unqualified names skip it */
    struct plan_vrows *vrows;            /* a derived table's rows, or
                                            NULL (a base table) */
    bool *used;                          /* per column: a name of the
                                            statement resolved to it (an
                                            index scan of a SELECT reads
                                            the index alone when it holds
                                            them all, exec_ixonly.c) */
    bool nullable;                       /* under an outer join's
                                            NULL-supplying side: its
                                            columns read NULL in joined
                                            rows, whatever their NOT NULL */
};

/* The tables of a FROM clause: joined rows hold every table's columns,
 * table i at tabs[i].offset, whatever order the join runs in. */
struct plan_from
{
    struct plan_ftable *tabs;  /* in the order written */
    size_t ntabs;              /* their count (at most 61) */
    uint32_t width;            /* columns of a joined row */
    uint32_t *star;            /* `*`: columns in MySQL's order */
    size_t nstar;              /* their count */
    struct plan_col *cols;     /* every column's metadata (width) */
    struct plan_jnode *root;   /* the join tree */
    size_t nouter;             /* tabs[0..nouter) are the query's own;
                                  the rest belong to subqueries turned
                                  into semi-joins (plan_semi) */
    struct plan_semi *semis;   /* those subqueries */
    size_t nsemis;             /* their count */
    size_t block;              /* first table of the query block being
                                  built (aliases are unique within one) */
};

/* Plan a SELECT (single table or none). Returns 0 with *out in the
 * statement arena, SQL_EQUERY (s->err) or -ENOMEM. */
int sql__plan_select(struct sql_session *s, const struct ast_select *sel,
                     struct plan **out);

/* Plan the row source of UPDATE/DELETE: the table's rows (full width)
 * matching where, in ORDER BY order, at most LIMIT. */
int sql__plan_rows(struct sql_session *s, const struct sql_tableinfo *t,
                   const char *alias, const struct ast_expr *where,
                   const struct ast_order *order, const struct ast_expr *limit,
                   struct plan **out);

/* Logical to physical: choose the scan's access path from its conjuncts,
 * merge Sort + Limit into TopN, drop a Sort the access order satisfies. */
int sql__plan_physical(struct sql_session *s, struct plan **p);

/* The scope that resolves names to the columns of table t (alias a). */
struct plan_tscope
{
    struct sql_session *s;          /* for errors */
    const struct sql_tableinfo *t;  /* the table */
    const char *alias;              /* its name in the statement */
    const char *db;                 /* its database */
    uint32_t offset;                /* index of its first column in rows */
    const struct plan_from *from;   /* several tables (t NULL): names
                                       resolve through it */
    uint64_t allowed;               /* with from: the tables (bits) names
                                       may resolve to; 0 for all */
    bool subqueries;                /* subqueries are planned while
                                       compiling (else 1235): SELECT,
                                       INSERT, UPDATE, DELETE */
    uint64_t inner;                 /* with from: a subquery's tables,
                                       whose names come first (then the
                                       query's own tables); 0: none */
    const struct sql_expr_scope *parent; /* a subquery's: the enclosing
                                       query's scope, for the names its
                                       own tables lack (correlation) */
    struct sql_colref *caps;        /* the parent's columns read (outer
                                       value i is caps[i]) */
    size_t ncaps, capcaps;          /* their count and allocation */
    struct plan_tscope *outer_ts;   /* plan_phys.c's scope of one table:
                                       the query's scope, whose parent
                                       resolves outer columns */
    bool select;                    /* with from: a SELECT's (not a
                                       multi-table UPDATE/DELETE's, which
                                       read whole rows) */
    struct plan_ucmemo *ucs;        /* subqueries plan_join.c's
                                       uncorrelated() has judged, each
                                       with its answer (judged once) */
};
int sql__tscope_column(void *ctx, const struct ast_expr *col,
                       struct sql_colref *out, struct sql_err *err);
/* Only the enclosing query's columns (ctx: a subquery's scope): outer
 * values, as sql__tscope_column gives them. */
int sql__tscope_outer_column(void *ctx, const struct ast_expr *col,
                             struct sql_colref *out, struct sql_err *err);

/* Compile e against table columns (no aggregates). */
int sql__plan_compile(struct sql_session *s, struct plan_tscope *ts,
                      const struct ast_expr *e, struct sql_expr **out,
                      struct sql_ftype *type);

/* Plan the subquery sel of session sub_ctx, its outer names resolved by
 * outer, for env_subquery_run to run (exec.c; the
 * sql_expr_scope.subquery contract). */
int sql__subquery_run(void *sub_ctx, const struct ast_select *sel,
                      const struct sql_expr_scope *outer,
                      struct sql_subq *out, struct sql_err *err);
/* Plan a SELECT nested in another whose scope is parent (NULL: none):
 * the parent's columns it reads come back in *caps. */
int sql__plan_select_in(struct sql_session *s, const struct ast_select *sel,
                        const struct sql_expr_scope *parent,
                        struct sql_colref **caps, size_t *ncaps,
                        struct plan **out);

/* Joins (plan_join.c). Resolve FROM f with several tables into ts
 * (ts->from), checking names (1066, 1116, USING columns). */
int sql__plan_from(struct sql_session *s, const struct ast_table_ref *f,
                   struct plan_tscope *ts);
/* Whether WHERE conjunct e is a subquery the join planner runs as a
 * semi- or anti-join ([NOT] EXISTS, x IN over a plain SELECT ... FROM). */
bool sql__plan_semi_ok(const struct ast_expr *e);
/* Add such a conjunct's subquery tables to ts->from (after
 * sql__plan_from). */
int sql__plan_add_semi(struct sql_session *s, struct plan_tscope *ts,
                       const struct ast_expr *e);
/* The join plan of ts->from with WHERE's conjuncts pushed into it: the
 * conjuncts that must wait above the joins come back as one filter. */
int sql__plan_joins(struct sql_session *s, struct plan_tscope *ts,
                    const struct ast_expr *where, bool lock,
                    struct plan **out);
/* A column name resolved over the joined row (sql__tscope_column with
 * ts->from): 0, SQL_ENOTFOUND, or SQL_EQUERY (1052 ambiguous). */
int sql__from_column(const struct plan_tscope *ts, const struct ast_expr *col,
                     struct sql_colref *out, struct sql_err *err);
/* The table and column of joined-row column i. */
const struct plan_ftable *sql__from_col(const struct plan_from *f, uint32_t i,
                                        uint32_t *ci);

/* plan_phys.c: the access path of a data source from its conjuncts
 * (p->kind becomes PL_SCAN); whether index i (-1: the handle) may be used
 * under p's hints. */
int sql__plan_access(struct sql_session *s, struct plan *p);
bool sql__plan_hint_allows(const struct plan *p, int i);

/* information_schema (show_is.c): whether db names it, its virtual table
 * `name` (NULL: none such; in the statement arena), whether t is one. */
bool sql__is_schema(const char *db);
struct sql_tableinfo *sql__is_table(struct sql_session *s, const char *name);
bool sql__is_virtual(const struct sql_tableinfo *t);
/* The id of a derived table's made-up table (virtual too). */
#define SQL_DERIVED_ID ((int64_t)-900)
/* Run the planned query p now (a recursive CTE's round): all its rows,
 * each p->nvisible wide, in the statement arena (exec.c). */
int sql__plan_rows_now(struct sql_session *s, const struct plan *p,
                       struct sql_datum **rows, size_t *nrows);
/* exec.c: rows made already (copied pointer: rows stay the caller's),
 * or rows query p makes when first read (sql__vrows_make; p's estimate
 * stands for their count until then); in the statement arena, NULL when
 * out of memory. */
struct plan_vrows *sql__vrows_of(struct sql_session *s,
                                 struct sql_datum *rows, size_t nrows);
struct plan_vrows *sql__vrows_defer(struct sql_session *s, struct plan *p);
/* exec.c: run v's query if it has not run in this statement. */
int sql__vrows_make(struct sql_session *s, struct plan_vrows *v);
size_t sql__is_count(void);
const char *sql__is_name(size_t i);

/* LIMIT / OFFSET e (NULL: none) compiled: a constant or a parameter, else
 * 1210. */
int sql__plan_limit(struct sql_session *s, const struct ast_expr *e,
                    struct sql_expr **out);
/* setop.c: plan a set operation (sel->kind AST_SEL_UNION) and its
 * ORDER BY / LIMIT; the arguments as sql__plan_select_in's. */
int sql__plan_setop(struct sql_session *s, const struct ast_select *sel,
                    const struct sql_expr_scope *parent,
                    struct sql_colref **caps, size_t *ncaps,
                    struct plan **out);
/* cte.c: plan a query with a WITH list: its names are visible to the
 * query (and the later CTEs) while it is planned. */
int sql__plan_with(struct sql_session *s, const struct ast_select *sel,
                   const struct sql_expr_scope *parent,
                   struct sql_colref **caps, size_t *ncaps,
                   struct plan **out);
/* cte.c: whether table reference t names a CTE in scope or a view
 * (view.c); if so its columns as a virtual table and its rows (planned
 * on first use, made when first read; a CTE's shared by every
 * reference). 0, SQL_ENOTFOUND (neither), or an error. */
int sql__query_rows(struct sql_session *s, const struct ast_table_ref *t,
                    const struct sql_tableinfo **ti, struct plan_vrows **v);
/* cte.c: plan a view's definition (view.c): none of the statement's CTEs
 * visible; *too_deep (and SQL_EQUERY, s->err not set) beyond max_depth
 * views inside views. */
int sql__plan_view_body(struct sql_session *s, const struct ast_select *sel,
                        int max_depth, struct plan **out, bool *too_deep);
/* Whether t names a CTE in scope or a view (then it is planned as a
 * derived table). */
bool sql__query_named(struct sql_session *s, const struct ast_table_ref *t);

/* The position in ts's table of e when e is a plain column of it, else
 * -1 (plan_phys.c). */
int sql__plan_col_of(struct plan_tscope *ts, const struct ast_expr *e);

/* Estimated rows of scan p: from ANALYZE's statistics when its table has
 * them, else the constants (plan_join.c). */
double sql__plan_scan_rows(struct sql_session *s, const struct plan *p);

struct sql_xanalyze;

/* EXPLAIN's optional columns (explain_analyze.c fills the figures). */
struct plan_explain_opts
{
    bool est;                      /* TiDB's estRows after id */
    const struct sql_xanalyze *an; /* EXPLAIN ANALYZE: actRows, execution
                                      info and memory too, or NULL */
};

/* EXPLAIN FORMAT='verbose' and EXPLAIN ANALYZE (explain_analyze.c);
 * answers itself. 0, SQL_EQUERY or -ENOMEM. */
int sql__explain_run(struct sql_session *s, const struct ast_stmt *st,
                     struct plan *p);
/* EXPLAIN's rows with the columns o asks for. */
int sql__plan_explain_opts(struct sql_session *s, const struct plan *p,
                           const struct plan_explain_opts *o);
/* Fill each node's est_rows the planner left at 0 (EXPLAIN's estRows). */
void sql__plan_estimate(struct sql_session *s, struct plan *p);
/* What the run measured for plan node p (explain_analyze.c): rows out,
 * calls, inclusive ns, the most arena bytes held; false if it never ran. */
bool sql__xa_figures(const struct sql_xanalyze *an, const struct plan *p,
                     uint64_t *rows, uint64_t *loops, int64_t *ns,
                     size_t *mem);

/* EXPLAIN: rows describing p (id, task, access object, operator info). */
int sql__plan_explain(struct sql_session *s, const struct plan *p);

/* Whether e calls an aggregate (not looking into subqueries). */
bool sql__plan_has_agg(const struct ast_expr *e);

/* The text of an AST expression, canonical (for matching GROUP BY). */
const char *sql__plan_text(struct sql_session *s, const struct ast_expr *e);

/* Window functions (window.c). Before the projection is compiled: when
 * sel's select list or ORDER BY calls window functions, *scope (the rows
 * below) is wrapped so those calls compile as columns of a Window
 * operator (*wb set; NULL when there are none). After: the operator goes
 * between projection pr and its input. */
struct plan_wbuild;
int sql__plan_window_begin(struct sql_session *s,
                           const struct ast_select *sel,
                           struct sql_expr_scope *scope,
                           struct plan_wbuild **wb);
int sql__plan_window_end(struct sql_session *s, struct plan_wbuild *wb,
                         struct plan *pr);
/* Whether e calls a window function (not looking into subqueries). */
bool sql__ast_has_window(const struct ast_expr *e);

/* Whether the index scan p (a SELECT's join, planned) reads its index
 * alone: the index holds every column of the table the statement names,
 * whole and of an integer type (exec_ixonly.c). */
bool sql__plan_index_only(const struct plan *p);

#endif /* SQL_PLAN_H */

/* expr.h: expressions compiled from the parse tree (ast.h) into a form the
 * executor evaluates row by row, and aggregate functions. Compilation
 * resolves names through a scope the planner supplies, infers the result
 * type and rejects what cannot run (unknown column 1054, unknown function
 * 1305, wrong argument count 1582, aggregate misuse 1111); evaluation
 * follows MySQL's semantics: three-valued logic, implicit conversions with
 * warnings, sql_mode. DESIGN.md, "Expressions".
 */
#ifndef SQL_EXPR_H
#define SQL_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "ast.h"
#include "value.h"

/* sql_mode bits the evaluator honours. */
#define SQL_MODE_STRICT_TRANS_TABLES (1u << 0)
#define SQL_MODE_STRICT_ALL_TABLES (1u << 1)
#define SQL_MODE_NO_ZERO_DATE (1u << 2)
#define SQL_MODE_NO_ZERO_IN_DATE (1u << 3)
#define SQL_MODE_ERROR_FOR_DIVISION_BY_ZERO (1u << 4)
#define SQL_MODE_ONLY_FULL_GROUP_BY (1u << 5)
#define SQL_MODE_NO_ENGINE_SUBSTITUTION (1u << 6)
#define SQL_MODE_PIPES_AS_CONCAT (1u << 7)
#define SQL_MODE_ANSI_QUOTES (1u << 8)
#define SQL_MODE_NO_BACKSLASH_ESCAPES (1u << 9)
#define SQL_MODE_HIGH_NOT_PRECEDENCE (1u << 10)
#define SQL_MODE_NO_UNSIGNED_SUBTRACTION (1u << 11)
#define SQL_MODE_NO_AUTO_VALUE_ON_ZERO (1u << 12)
#define SQL_MODE_REAL_AS_FLOAT (1u << 13)

/* A compiled expression (opaque outside expr*.c). Lives in the arena it
 * was compiled into; immutable, so one compiled plan serves many
 * executions (prepared statements). */
struct sql_expr;

/* What a name in an expression refers to: a column of the input row. */
struct sql_colref
{
    uint32_t index;        /* position in the input row */
    struct sql_ftype type; /* its static type */
};

/* Column references at SQL_EXPR_OUTER + i read the i-th outer value of
 * a correlated subquery's run (sql_eval_env.outer), not the row. */
#define SQL_EXPR_OUTER 0x40000000u

/* added: a subquery the scope planned (DESIGN.md "Subqueries"): run
 * per row (correlated: it reads the compiling scope's columns), or once,
 * at its first evaluation (uncorrelated: no captures). */
struct sql_subq
{
    size_t ncols;                  /* columns per row */
    struct sql_ftype type;         /* the first column's static type */
    void *deferred;                /* the plan env->subquery_run runs */
    struct sql_colref *captures;   /* correlated: the outer columns it
                                      reads, in order (outer value i) */
    size_t ncaptures;              /* their count; 0: uncorrelated */
};

/* How the compiler resolves names. The planner implements it: for a scan,
 * column names of the table; above an aggregation, group keys and
 * aggregate results. Each callback returns 0 (found), SQL_ENOTFOUND (not
 * in this scope: the compiler reports 1054 Unknown column), or
 * SQL_EQUERY with err filled (e.g. 1052 ambiguous). */
struct sql_expr_scope
{
    void *ctx; /* passed back */
    /* A column reference [db.][table.]name. */
    int (*column)(void *ctx, const struct ast_expr *col,
                  struct sql_colref *out, struct sql_err *err);
    /* A whole subtree the scope computes itself (a GROUP BY expression
     * above the aggregation, an aggregate call's result): asked for every
     * node before it is compiled; SQL_ENOTFOUND means compile it as usual.
     * NULL: never. */
    int (*subtree)(void *ctx, const struct ast_expr *e,
                   struct sql_colref *out, struct sql_err *err);
    bool allow_aggregates; /* false: an aggregate call the subtree
                              callback did not take is 1111 "Invalid use
                              of group function" */
    const char *db;        /* added: current database, named by 1305
                              "FUNCTION db.name does not exist"; or NULL */
    /* added: plan the subquery sel, whose names this scope (outer)
     * resolves when its own tables do not (the planner's; NULL:
     * subqueries are 1235). 0, or SQL_EQUERY with err filled. */
    int (*subquery)(void *sub_ctx, const struct ast_select *sel,
                    const struct sql_expr_scope *outer,
                    struct sql_subq *out, struct sql_err *err);
    void *sub_ctx;         /* passed to subquery */
};

/* Compile e into arena a. *type gets the result's static type (for result
 * metadata and for INSERT conversions). Returns 0, SQL_EQUERY (err says
 * why), or -ENOMEM. */
int sql__expr_compile(struct sql_arena *a, const struct ast_expr *e,
                      const struct sql_expr_scope *scope,
                      struct sql_expr **out, struct sql_ftype *type,
                      struct sql_err *err);

/* True when e is a constant (no column, parameter, variable or
 * non-deterministic function): the planner may fold it once. */
bool sql__expr_is_const(const struct sql_expr *e);

/* Where a statement runs: what functions like NOW(), DATABASE(),
 * LAST_INSERT_ID(), @var and @@var read, and where warnings go. The
 * session (engine.c) fills it once per statement. */
struct sql_eval_env
{
    uint32_t sql_mode;      /* SQL_MODE_* */
    int64_t now_us;         /* statement start: microseconds since the
                               epoch, UTC (NOW() is constant in a statement) */
    int32_t tz_offset_s;    /* session time zone, seconds east of UTC */
    const char *db;         /* current database, or NULL */
    const char *user;       /* user@host of the session */
    const char *current_user; /* CURRENT_USER(): the account's user@host
                                 pattern; NULL: as user */
    uint64_t conn_id;       /* CONNECTION_ID() */
    uint64_t last_insert_id; /* LAST_INSERT_ID() */
    uint64_t found_rows;    /* FOUND_ROWS() */
    uint64_t row_count;     /* ROW_COUNT() (as a signed value: -1 = none) */
    const struct sql_datum *params; /* ? parameters of an execution */
    size_t nparams;         /* their count */
    void *ctx;              /* passed to the callbacks */
    /* @name: the value (NULL datum when never set). */
    int (*uservar_get)(void *ctx, const char *name, struct sql_datum *out,
                       struct sql_arena *a);
    /* @name := value. */
    int (*uservar_set)(void *ctx, const char *name,
                       const struct sql_datum *v);
    /* @@[scope.]name: 0, or SQL_EQUERY with 1193 Unknown system variable. */
    int (*sysvar_get)(void *ctx, const char *name, int scope,
                      struct sql_datum *out, struct sql_arena *a,
                      struct sql_err *err);
    /* A warning for SHOW WARNINGS (level "Warning" or "Note"). */
    void (*warn)(void *ctx, const char *level, uint16_t code,
                 const char *msg);
    uint32_t flags;         /* SQL_EVAL_* (added: zero means a query) */
    /* added: a correlated subquery's run: the outer values its column
     * references SQL_EXPR_OUTER + i read */
    const struct sql_datum *outer;
    size_t nouter;          /* their count */
    /* added: run a subquery (sql_subq.deferred) with these outer
     * values (none when uncorrelated): at most max_rows + 1 rows (ncols
     * each), bytes in a.
     * 0, SQL_EQUERY (err) or -ENOMEM. */
    int (*subquery_run)(void *ctx, void *deferred,
                        const struct sql_datum *outer, size_t nouter,
                        size_t max_rows, struct sql_datum **rows,
                        size_t *nrows, struct sql_arena *a,
                        struct sql_err *err);
};

/* One evaluation: the environment, an arena for the bytes of results
 * (strings built by CONCAT etc.; reset by the executor between chunks),
 * and the error record. */
struct sql_eval
{
    const struct sql_eval_env *env; /* the statement's environment */
    struct sql_arena *arena;        /* result bytes */
    struct sql_err *err;            /* filled on SQL_EQUERY */
};

/* Evaluate e over one input row (row[colref.index]). Returns 0,
 * SQL_EQUERY (ev->err filled: division by zero in strict mode, bad
 * conversions...) or -ENOMEM. */
int sql__expr_eval(const struct sql_expr *e, struct sql_eval *ev,
                   const struct sql_datum *row, struct sql_datum *out);

/* Evaluate the constant conditions of condition e (itself, or the
 * constant members of its AND/OR tree) once, before any row is read, for
 * their errors: MySQL and MariaDB fold them while optimizing, so their
 * overflow is an error even over an empty table (tests/difftest F12).
 * Warnings are left to the rows' evaluation. 0, SQL_EQUERY or -ENOMEM. */
int sql__expr_const_conds(const struct sql_expr *e, struct sql_eval *ev);

/* Evaluate as a condition: *truth = 1 (TRUE), 0 (FALSE) or -1 (NULL). */
int sql__expr_eval_bool(const struct sql_expr *e, struct sql_eval *ev,
                        const struct sql_datum *row, int *truth);

/* Convert v for storage in a column of type t (INSERT/UPDATE): range and
 * length checks; in strict mode out-of-range/truncation is an error (1264
 * Out of range, 1406 Data too long, 1366 Incorrect value, 1292), otherwise
 * a clamped value and a warning. colname names the column in messages;
 * row is the 1-based row number in messages. */
int sql__datum_store(const struct sql_datum *v, const struct sql_ftype *t,
                     const char *colname, uint64_t row, struct sql_eval *ev,
                     struct sql_datum *out);

/* ---- aggregates ------------------------------------------------------- */

/* True when name (upper or lower case) is an aggregate function. */
bool sql__agg_is_aggregate(const char *name);

/* A compiled aggregate call (COUNT(*), SUM(DISTINCT x), GROUP_CONCAT ...). */
struct sql_agg;
/* Its running state for one group (opaque; allocated in an arena). */
struct sql_agg_state;

/* Compile the aggregate call e (AST_E_FUNC for which
 * sql__agg_is_aggregate is true); its arguments resolve through scope
 * (the input rows). *type: the result type. */
int sql__agg_compile(struct sql_arena *a, const struct ast_expr *e,
                     const struct sql_expr_scope *scope, struct sql_agg **out,
                     struct sql_ftype *type, struct sql_err *err);
/* A fresh state in arena a (which must outlive the group). */
int sql__agg_init(const struct sql_agg *g, struct sql_arena *a,
                  struct sql_agg_state **out);
/* Feed one input row. */
int sql__agg_update(const struct sql_agg *g, struct sql_agg_state *st,
                    struct sql_eval *ev, const struct sql_datum *row);
/* added for window frames (window.c): whether g can take a row back out
 * of a state (COUNT, exact SUM/AVG, not DISTINCT), and doing so for a row
 * that sql__agg_update fed before. */
bool sql__agg_removable(const struct sql_agg *g);
int sql__agg_remove(const struct sql_agg *g, struct sql_agg_state *st,
                    struct sql_eval *ev, const struct sql_datum *row);
/* The group's result (an empty group: COUNT 0, others NULL). */
int sql__agg_final(const struct sql_agg *g, struct sql_agg_state *st,
                   struct sql_eval *ev, struct sql_datum *out);

/* The coprocessor's partial aggregation (cop_agg.c): the call g was
 * compiled from when g can be computed in parts and merged (COUNT, MIN,
 * MAX, SUM and AVG of numbers; not DISTINCT), else NULL; a state's part
 * (rows counted and the sum, MIN or MAX so far: NULL when none, bytes
 * borrowed from the state); and a part added to a state, as if its rows
 * had been fed. 0, SQL_EQUERY (1690) or -ENOMEM. */
const struct ast_expr *sql__agg_partial_call(const struct sql_agg *g);
void sql__agg_partial(const struct sql_agg *g, const struct sql_agg_state *st,
                      uint64_t *count, struct sql_datum *value);
int sql__agg_merge(const struct sql_agg *g, struct sql_agg_state *st,
                   struct sql_eval *ev, uint64_t count,
                   const struct sql_datum *value);

/* ---- additions: conversions with warnings (value.c), errors -------------- */

/* MySQL error numbers the evaluator answers with. */
#define SQL_ER_DIVISION_BY_ZERO 1365      /* 22012 */
#define SQL_ER_TRUNCATED_WRONG_VALUE 1292 /* 22007 */
#define SQL_ER_DATA_OUT_OF_RANGE 1690     /* 22003 */
#define SQL_ER_WARN_DATA_OUT_OF_RANGE 1264 /* 22003 */
#define SQL_ER_DATA_TOO_LONG 1406         /* 22001 */
#define SQL_ER_WARN_DATA_TRUNCATED 1265   /* 01000 */
#define SQL_ER_TRUNCATED_WRONG_VALUE_FOR_FIELD 1366 /* HY000 */
#define SQL_ER_BAD_NULL_ERROR 1048        /* 23000 */
#define SQL_ER_BAD_FIELD_ERROR 1054       /* 42S22 */
#define SQL_ER_SP_DOES_NOT_EXIST 1305     /* 42000 */
#define SQL_ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT 1582 /* 42000 */
#define SQL_ER_INVALID_GROUP_FUNC_USE 1111 /* HY000 */
#define SQL_ER_OPERAND_COLUMNS 1241       /* 21000 */
#define SQL_ER_NOT_SUPPORTED_YET 1235     /* 42000 */
#define SQL_ER_UNKNOWN_COLLATION 1273     /* HY000 */
#define SQL_ER_WRONG_ARGUMENTS 1210       /* HY000 */
#define SQL_ER_UNKNOWN_CHARACTER_SET 1115 /* 42000 */
#define SQL_ER_TOO_BIG_PRECISION 1426     /* 42000 */
#define SQL_ER_TOO_BIG_SCALE 1425         /* 42000 */
#define SQL_ER_M_BIGGER_THAN_D 1427       /* 42000 */
#define SQL_ER_WRONG_VALUE_FOR_TYPE 1411  /* HY000 */
#define SQL_ER_ILLEGAL_PARAM_DATA_TYPE 3047
#define SQL_ER_DATA_OVERFLOW 1916         /* 22003 */

/* A statement that writes rows (INSERT, UPDATE, DELETE) turns some
 * warnings into errors in strict mode (division by zero). The session sets
 * sql_eval_env.flags. */
#define SQL_EVAL_DML (1u << 0)
/* A single-table UPDATE or DELETE's WHERE: MariaDB 10.11 optimizes it
 * with remove_eq_conds only (no build_equal_items), so a condition's AND
 * reads its members in the order written, equalities included. */
#define SQL_EVAL_AS_WRITTEN (1u << 1)

/* Queue a warning / note for SHOW WARNINGS (no-op without env->warn). */
void sql__warn(struct sql_eval *ev, uint16_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sql__note(struct sql_eval *ev, uint16_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether strict mode (either STRICT_* bit) is on. */
bool sql__strict(const struct sql_eval *ev);

/* Conversions of a non-NULL datum in an expression context, with MySQL's
 * warnings (1292 "Truncated incorrect INTEGER value: '..'"). Integer
 * results saturate; UINT above INT64_MAX reads as its bit pattern only
 * through sql__to_uint. Each returns 0 or -ENOMEM. */
int sql__to_int(struct sql_eval *ev, const struct sql_datum *d, int64_t *out);
int sql__to_uint(struct sql_eval *ev, const struct sql_datum *d,
                 uint64_t *out);
int sql__to_double(struct sql_eval *ev, const struct sql_datum *d,
                   double *out);
/* A DOUBLE past 81 digits converted to DECIMAL overflows MariaDB's
 * 9-word decimal buffer: warning 1916 ("Got overflow when converting ''
 * to DECIMAL"), as DIV and CAST AS DECIMAL raise it; whether it did. */
bool sql__dec_overflow_warn(struct sql_eval *ev, const struct sql_datum *d);
int sql__to_dec(struct sql_eval *ev, const struct sql_datum *d,
                struct sql_dec *out);
/* Text of d (bytes in ev->arena or d's own). */
int sql__to_str(struct sql_eval *ev, const struct sql_datum *d,
                const char **p, size_t *n);
/* A DATE/DATETIME/TIME (vt) from d; *ok false (with warning 1292
 * "Incorrect datetime value: '..'") when d is not one: the caller answers
 * NULL. */
int sql__to_temporal(struct sql_eval *ev, const struct sql_datum *d, int vt,
                     struct sql_time *out, bool *ok);
/* Convert d to class vt (CAST semantics, warnings); a NULL stays NULL and
 * a temporal that does not parse becomes NULL. */
int sql__datum_convert(struct sql_eval *ev, const struct sql_datum *d,
                       int vt, uint16_t coll, struct sql_datum *out);
/* sql__datum_cmp with warnings for strings read as numbers. */
int sql__datum_cmp_ev(struct sql_eval *ev, const struct sql_datum *a,
                      const struct sql_datum *b, uint16_t coll, int *out);
/* The truth of a non-NULL datum (non-zero number). */
int sql__datum_truth(struct sql_eval *ev, const struct sql_datum *d,
                     bool *out);

#endif /* SQL_EXPR_H */

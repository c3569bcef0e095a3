/* expr_int.h: the compiled expression node shared by expr.c (compiler and
 * operators), func*.c (the function table) and agg.c. DESIGN.md,
 * "Expressions".
 */
#ifndef SQL_EXPR_INT_H
#define SQL_EXPR_INT_H

#include "expr.h"

/* A class not known until run time (a ? parameter, a user variable). */
#define EX_VT_ANY 0xFF

enum ex_op
{
    EX_LIT,      /* lit */
    EX_PARAM,    /* env->params[idx] */
    EX_COL,      /* row[idx] */
    EX_USERVAR,  /* @name */
    EX_SYSVAR,   /* @@name (sub: scope) */
    EX_ASSIGN,   /* @name := args[0] */
    EX_NEG,      /* -args[0] */
    EX_BITNOT,   /* ~args[0] */
    EX_NOT,      /* NOT args[0] */
    EX_ARITH,    /* args[0] sub args[1]: ADD SUB MUL DIV INTDIV MOD */
    EX_BIT,      /* BITOR BITAND BITXOR SHL SHR */
    EX_CMP,      /* comparison sub: EQ NULLEQ NE LT LE GT GE */
    EX_AND,      /* all args */
    EX_OR,       /* any arg */
    EX_XOR,      /* parity */
    EX_IS,       /* IS [NOT] NULL/TRUE/FALSE/UNKNOWN (sub, neg) */
    EX_LIKE,     /* args: value, pattern[, escape] (neg) */
    EX_BETWEEN,  /* args: value, low, high (neg) */
    EX_IN,       /* args: value, list... (neg) */
    EX_CASE,     /* args: [operand] (when, then)* [else]; flags below */
    EX_FUNC,     /* fn */
    EX_COLLATE,  /* args[0] under coll */
    EX_REGEXP,   /* args[0] [NOT] REGEXP args[1] (POSIX extended) */
    EX_DATE_ARITH, /* args[0] +/- INTERVAL args[1] unit (sub: unit, neg:
                      subtract) */
    EX_SUBQ,     /* correlated subquery, run per row (sub: AST_E_SUBQUERY,
                    AST_E_EXISTS, AST_E_IN or AST_E_CMP_SUBQ; neg): args:
                    [IN's or the comparison's value] then the outer values
                    it reads */
    EX_QUANT,    /* args[0] op ANY/ALL (args[1..]: an uncorrelated
                    subquery's values) */
};

/* iarg of EX_QUANT and of EX_SUBQ for AST_E_CMP_SUBQ: the comparison
 * collation, the operator (enum ast_op) and ALL. */
#define EX_QUANT_IARG(coll, op, all) \
    ((int64_t)(coll) | ((int64_t)(op) << 16) | ((int64_t)(all) << 24))

struct sql__func;

struct sql_expr
{
    uint8_t op;              /* enum ex_op */
    int sub;                 /* operator / unit / scope by op */
    bool neg;                /* NOT forms; DATE_SUB */
    bool is_const;           /* no columns, params, variables, RAND... */
    bool has_operand;        /* EX_CASE: CASE x WHEN ... */
    bool has_else;           /* EX_CASE: ELSE given */
    uint8_t vt;              /* result class, or EX_VT_ANY */
    uint16_t coll;           /* comparison / result collation; 0 = from
                                the values */
    uint8_t coerc;           /* collation coercibility (0 explicit .. 6) */
    struct sql_ftype type;   /* static result type */
    uint32_t idx;            /* EX_COL row index, EX_PARAM position */
    uint16_t nargs;          /* operands */
    struct sql_expr **args;  /* them */
    struct sql_datum lit;    /* EX_LIT value */
    const char *name;        /* variable / function name */
    const char *text;        /* the expression as printed (error texts) */
    const struct sql__func *fn; /* EX_FUNC */
    int64_t iarg;            /* per function: cast target, unit ... */
    struct sql_ftype cast;   /* CAST target */
    bool has_type;           /* CAST/CONVERT: a target type was written */
    const char *printed;     /* EX_FUNC: the call as written (1690 texts) */
    void *subq;              /* EX_SUBQ: the planned subquery; once:
                                expr.c's struct subq_once */
    bool once;               /* EX_SUBQ: uncorrelated, run at its first
                                evaluation */
};

/* A native function: name, argument counts, type inference and
 * evaluation. */
struct sql__func
{
    const char *name; /* upper case */
    int min;          /* fewest arguments */
    int max;          /* most (-1: any) */
    /* Set e->vt and e->type from the arguments (compiled already);
     * SQL_EQUERY with err for bad calls. NULL: result is e->vt as set by
     * the flags below. */
    int (*check)(struct sql_expr *e, struct sql_arena *a,
                 struct sql_err *err);
    /* Compute the value. */
    int (*eval)(const struct sql_expr *e, struct sql_eval *ev,
                const struct sql_datum *row, struct sql_datum *out);
    bool volatile_;   /* not constant (NOW, RAND, user info ...) */
};

/* The tables of func_string.c, func_math.c, func_date.c, func_misc.c,
 * each ended by a NULL name. */
extern const struct sql__func sql__funcs_string[];
extern const struct sql__func sql__funcs_math[];
extern const struct sql__func sql__funcs_date[];
extern const struct sql__func sql__funcs_misc[];
/* added (func_json.c): the JSON functions; CAST(v AS JSON) for the CAST
 * node e; v stored into a JSON column col (3140 on invalid text). */
extern const struct sql__func sql__funcs_json[];
/* added (json_table.c): MEMBER OF; JSON text s (argument argno of
 * function fn, for 3141's message) encoded in ev's arena (func_json.c). */
extern const struct sql__func sql__funcs_json_table[];
int sql__json_text_arg(struct sql_eval *ev, const char *s, size_t n,
                       int argno, const char *fn, const uint8_t **b,
                       size_t *bn);
int sql__json_cast(const struct sql_expr *e, struct sql_eval *ev,
                   const struct sql_datum *v, struct sql_datum *out);
int sql__json_store(struct sql_eval *ev, const struct sql_datum *v,
                    const char *col, struct sql_datum *out);
/* added (func_json.c): JSON_ARRAYAGG (one value) / JSON_OBJECTAGG (key,
 * value) rows collected in a group's arena ga (*acc starts NULL), and
 * the group's value (NULL for no rows). */
struct sql_json_agg;
int sql__json_agg_add(struct sql_arena *ga, struct sql_json_agg **acc,
                      const struct sql_datum *v, int nargs,
                      struct sql_err *err);
int sql__json_agg_final(const struct sql_json_agg *acc, bool object,
                        struct sql_eval *ev, struct sql_datum *out);

/* An upper bound on the integer digits of x's values as MySQL sizes an
 * expression's precision, or -1 when not known (func_math.c, F4). */
int sql__int_digits(const struct sql_expr *x);
/* Whether MariaDB/MySQL type the integer expression x LONGLONG (else LONG
 * or narrower), *len its display length as they size it (inttype.c).
 * Not an integer: true. */
bool sql__int_longlong(const struct sql_expr *x, uint32_t *len);
/* Whether the negation of the integer expression c is a DECIMAL: c is a
 * constant other than a literal whose value is negative (MariaDB's and
 * MySQL's Item_func_neg: -(10 * -1) is DECIMAL 10). Evaluates c once,
 * in arena a, with no session; an error keeps it BIGINT (inttype.c). */
bool sql__neg_widens(const struct sql_expr *c, struct sql_arena *a);

/* The function called name (case-insensitive), or NULL. */
const struct sql__func *sql__func_find(const char *name);
/* Evaluate argument i. */
int sql__arg(const struct sql_expr *e, int i, struct sql_eval *ev,
             const struct sql_datum *row, struct sql_datum *out);
/* The static type of a class (lengths MySQL would report). */
void sql__ftype_of_vt(struct sql_ftype *t, int vt, uint16_t coll, int dec);
/* The class two branches merge to (CASE, IF, COALESCE, UNION). */
int sql__vt_merge(int a, int b);
/* Merge the static types of args[from..] stepping by step into e->type
 * and e->vt (CASE/IF/IFNULL/COALESCE). */
void sql__merge_result(struct sql_expr *e, int from, int step, int extra);
/* After sql__merge_result over the same arguments: an UNSIGNED integer
 * merged with a NULL (signed there) is a DECIMAL (MariaDB 10.11's
 * COALESCE, IFNULL and CASE branches); IF passes a NULL literal over
 * (null_lit false) but not NULLIF(NULL, x), difftest F23. */
void sql__merge_null_unsigned(struct sql_expr *e, int from, int step,
                              int extra, bool null_lit);
/* Convert a branch value to e's merged class. */
int sql__to_result(const struct sql_expr *e, struct sql_eval *ev,
                   struct sql_datum *v);
/* Division by zero: NULL with warning 1365, or the error in strict DML. */
int sql__div_zero(struct sql_eval *ev, struct sql_datum *out);
/* Compile helper for aggregates and functions taking expressions. */
int sql__expr_compile_node(struct sql_arena *a, const struct ast_expr *e,
                           const struct sql_expr_scope *scope,
                           struct sql_expr **out, struct sql_err *err);
/* Set the result class and type of an EX_ARITH node (sub = AST_OP_*)
 * from its two compiled operands. */
void sql__arith_type(struct sql_expr *e);
/* The text of v, the value of expression x, as a string function reads
 * it: a DOUBLE or FLOAT with fixed decimals (ROUND(d, 2), CEIL(d)) shows
 * them, as MariaDB's val_str (CONCAT(ROUND(1.5e0, 2)) is '1.50',
 * CONCAT(ROUND(1e30)) 31 digits), a DECIMAL its type's scale (a
 * quotient's 4 decimals), a FLOAT otherwise its 6 significant digits
 * (F22); anything else as sql__to_str. */
int sql__text_of(const struct sql_expr *x, struct sql_eval *ev,
                 const struct sql_datum *v, const char **p, size_t *n);
/* e's value as a DECIMAL reader (CAST AS DECIMAL, DIV) reads it: e's
 * own, but for GREATEST/LEAST of type DOUBLE the arguments compared as
 * DECIMALs and the winner's exact value, as MariaDB's val_decimal
 * (Item_func_min_max): 18446744073709551614 DIV
 * GREATEST(18446744073709551614, 1e2) is 1 (difftest F35). Integer and
 * string readers still take the DOUBLE (func_math.c). */
int sql__eval_for_decimal(const struct sql_expr *e, struct sql_eval *ev,
                          const struct sql_datum *row,
                          struct sql_datum *out);
/* Evaluate an EX_ARITH node (MOD() and friends reuse it). */
int sql__eval_arith(const struct sql_expr *e, struct sql_eval *ev,
                    const struct sql_datum *row, struct sql_datum *out);
/* Evaluate every argument into v[0..nargs); *null when one is NULL
 * (evaluation stops there). */
int sql__args(const struct sql_expr *e, struct sql_eval *ev,
              const struct sql_datum *row, struct sql_datum *v, bool *null);
/* Type-setting helpers for check callbacks. */
void sql__set_type(struct sql_expr *e, int vt, int dec);
/* A string result whose collation comes from the string arguments
 * (binary wins). */
void sql__set_str_type(struct sql_expr *e);
/* Text of a string result into the eval arena. */
int sql__ret_str(struct sql_eval *ev, struct sql_datum *out, const char *p,
                 size_t n, uint16_t coll);
/* The comparison collation of two string expressions (coercibility). */
uint16_t sql__coll_pick(const struct sql_expr *a, const struct sql_expr *b);

/* 3593 "You cannot use the window function 'name' in this context.'"
 * (window.c): a window call where no Window operator takes it. */
int sql__window_misuse(const char *name, struct sql_err *err);

#endif /* SQL_EXPR_INT_H */

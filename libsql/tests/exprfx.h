/* exprfx.h: the fixture the expression suites share (exprfx.c). The row
 * (columns a INT 5, b VARCHAR 'abc' general_ci, c INT NULL, d
 * DECIMAL(10,2) 12.50, u BIGINT UNSIGNED max, f DOUBLE 1.5, dt DATETIME
 * 2024-02-29 13:45:00, s2 VARCHAR 'ABC' utf8mb4_bin) is set by
 * efx_setup_row; each check fails the running cmocka test on a mismatch.
 */
#ifndef SQL_TESTS_EXPRFX_H
#define SQL_TESTS_EXPRFX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "expr.h"

#define EFX_NCOLS 8
/* sql_mode of MySQL 8's default. */
#define EFX_DEFAULT_MODE                                                     \
    (SQL_MODE_STRICT_TRANS_TABLES | SQL_MODE_ERROR_FOR_DIVISION_BY_ZERO | \
     SQL_MODE_NO_ZERO_DATE | SQL_MODE_NO_ZERO_IN_DATE |                   \
     SQL_MODE_ONLY_FULL_GROUP_BY | SQL_MODE_NO_ENGINE_SUBSTITUTION)

struct efx_warning
{
    char level[8];  /* Warning / Note */
    uint16_t code;  /* MySQL code */
    char msg[256];  /* text */
};

extern struct sql_datum efx_row[EFX_NCOLS];   /* the input row */
extern struct sql_ftype efx_types[EFX_NCOLS]; /* its column types */
extern struct efx_warning efx_warns[16];      /* warnings of the last run */
extern int efx_nwarns;                        /* how many (may exceed 16) */
extern bool efx_uvar_set;                     /* @v has a value */
extern struct sql_datum efx_params[2];        /* the ? parameters */

void efx_setup_row(void);
/* The scope callback resolving the row's column names. */
int efx_col_cb(void *ctx, const struct ast_expr *col, struct sql_colref *out,
               struct sql_err *err);
/* Evaluate `expr` as the select list of SELECT expr: text gets "NULL" or
 * the value's text, *type (if not NULL) its type. Returns compile's or
 * eval's rc. */
int efx_run(const char *expr, uint32_t mode, char *text, size_t cap,
            struct sql_err *err, struct sql_ftype *type);
/* expr's value text is want (under sql_mode mode / the default). */
void efx_check_mode(const char *expr, uint32_t mode, const char *want);
void efx_check(const char *expr, const char *want);
/* expr fails with MySQL error code and exactly msg. */
void efx_check_err(const char *expr, uint16_t code, const char *msg);
/* The i-th warning of the last run has code and msg. */
void efx_check_warning(int i, uint16_t code, const char *msg);
/* expr's result type is tp with dec decimals. */
void efx_check_type(const char *expr, uint8_t tp, int8_t dec);

#endif /* SQL_TESTS_EXPRFX_H */

/* exprfx.c: the fixture test_expr.c and test_func.c share: a fixed input
 * row with its types, a scope resolving its column names, an environment
 * collecting warnings and holding @v and two ? parameters, and checks that
 * parse `SELECT <expr>`, compile and evaluate it and compare the value's
 * text, the error or the result type exactly (exprfx.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "decimal.h"
#include "exprfx.h"
#include "parse.h"

/* ---- a fixed efx_row: a INT 5, b VARCHAR 'abc' (general_ci), c INT NULL,
 * d DECIMAL(10,2) 12.50, u BIGINT UNSIGNED max, f DOUBLE 1.5,
 * dt DATETIME 2024-02-29 13:45:00, s2 VARCHAR 'ABC' utf8mb4_bin ---- */

static const char *const efx_colnames[] = {"a", "b", "c", "d", "u", "f", "dt",
                                       "s2"};
struct sql_datum efx_row[EFX_NCOLS];
struct sql_ftype efx_types[EFX_NCOLS];

void efx_setup_row(void)
{
    memset(efx_row, 0, sizeof efx_row);
    memset(efx_types, 0, sizeof efx_types);
    sql__datum_int(&efx_row[0], 5);
    efx_types[0] = (struct sql_ftype){.tp = SQL_TYPE_LONG, .len = 11, .dec = 0,
                                  .coll = SQL_COLL_BINARY};
    sql__datum_str(&efx_row[1], "abc", 3, SQL_COLL_UTF8MB4_GENERAL_CI);
    efx_types[1] = (struct sql_ftype){.tp = SQL_TYPE_VAR_STRING, .len = 20,
                                  .dec = 0,
                                  .coll = SQL_COLL_UTF8MB4_GENERAL_CI};
    sql__datum_null(&efx_row[2]);
    efx_types[2] = efx_types[0];
    efx_row[3].vt = SQL_VT_DECIMAL;
    sql__dec_parse("12.50", 5, &efx_row[3].v.dec, NULL);
    efx_types[3] = (struct sql_ftype){.tp = SQL_TYPE_NEWDECIMAL, .len = 10,
                                  .dec = 2, .coll = SQL_COLL_BINARY};
    sql__datum_uint(&efx_row[4], UINT64_MAX);
    efx_types[4] = (struct sql_ftype){.tp = SQL_TYPE_LONGLONG, .len = 20,
                                  .flags = SQL_COLFLAG_UNSIGNED,
                                  .coll = SQL_COLL_BINARY};
    sql__datum_double(&efx_row[5], 1.5);
    efx_types[5] = (struct sql_ftype){.tp = SQL_TYPE_DOUBLE, .len = 22,
                                  .dec = 31, .coll = SQL_COLL_BINARY};
    efx_row[6].vt = SQL_VT_DATETIME;
    efx_row[6].v.t = (struct sql_time){false, 2024, 2, 29, 13, 45, 0, 0};
    efx_types[6] = (struct sql_ftype){.tp = SQL_TYPE_DATETIME, .len = 19,
                                  .coll = SQL_COLL_BINARY};
    sql__datum_str(&efx_row[7], "ABC", 3, SQL_COLL_UTF8MB4_BIN);
    efx_types[7] = (struct sql_ftype){.tp = SQL_TYPE_VAR_STRING, .len = 20,
                                  .coll = SQL_COLL_UTF8MB4_BIN};
}

int efx_col_cb(void *ctx, const struct ast_expr *col,
                  struct sql_colref *out, struct sql_err *err)
{
    (void)ctx;
    (void)err;
    for (uint32_t i = 0; i < EFX_NCOLS; i++)
        if (strcasecmp(efx_colnames[i], col->name) == 0) {
            out->index = i;
            out->type = efx_types[i];
            return 0;
        }
    return SQL_ENOTFOUND;
}

/* ---- warnings and variables ---- */

struct efx_warning efx_warns[16];
int efx_nwarns;

static void efx_on_warn(void *ctx, const char *level, uint16_t code,
                    const char *msg)
{
    (void)ctx;
    if (efx_nwarns < 16) {
        snprintf(efx_warns[efx_nwarns].level, sizeof efx_warns[0].level, "%s", level);
        efx_warns[efx_nwarns].code = code;
        snprintf(efx_warns[efx_nwarns].msg, sizeof efx_warns[0].msg, "%s", msg);
    }
    efx_nwarns++;
}

static struct sql_datum efx_uvar; /* @v */
bool efx_uvar_set;

static int efx_uv_get(void *ctx, const char *name, struct sql_datum *out,
                  struct sql_arena *a)
{
    (void)ctx;
    (void)a;
    if (strcmp(name, "v") == 0 && efx_uvar_set)
        *out = efx_uvar;
    else
        sql__datum_null(out);
    return 0;
}

static int efx_uv_set(void *ctx, const char *name, const struct sql_datum *v)
{
    (void)ctx;
    if (strcmp(name, "v") != 0)
        return 0;
    efx_uvar = *v;
    efx_uvar_set = true;
    return 0;
}

struct sql_datum efx_params[2];


/* Evaluate `expr` (as the select list of SELECT expr); text gets "NULL" or
 * the value's text. Returns the rc of compile or eval. */
int efx_run(const char *expr, uint32_t mode, char *text, size_t cap,
               struct sql_err *err, struct sql_ftype *type)
{
    struct sql_arena *a = sql__arena_create(0);
    assert_non_null(a);
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT %s", expr);
    struct sql_parse_result pr;
    int rc = sql__parse_one(a, sql, strlen(sql), &pr);
    if (rc != 0) {
        print_error("parse failed: %s: %s\n", sql, pr.errmsg);
        fail();
    }
    struct sql_expr_scope scope = {NULL, efx_col_cb, NULL, false, "test",
                                   NULL, NULL};
    struct sql_expr *e;
    struct sql_ftype t;
    memset(err, 0, sizeof *err);
    rc = sql__expr_compile(a, pr.stmt->select->items->expr, &scope, &e, &t,
                           err);
    if (rc == 0) {
        struct sql_eval_env env = {0};
        env.sql_mode = mode;
        env.now_us = 1700000000LL * 1000000; /* 2023-11-14 22:13:20 UTC */
        env.warn = efx_on_warn;
        env.uservar_get = efx_uv_get;
        env.uservar_set = efx_uv_set;
        env.params = efx_params;
        env.nparams = 2;
        struct sql_eval ev = {&env, a, err};
        struct sql_datum out;
        efx_nwarns = 0;
        rc = sql__expr_eval(e, &ev, efx_row, &out);
        if (rc == 0) {
            const char *p;
            size_t n;
            if (out.vt == SQL_VT_NULL) {
                snprintf(text, cap, "NULL");
            } else {
                assert_int_equal(sql__datum_text(&out, &t, a, &p, &n), 0);
                snprintf(text, cap, "%.*s", (int)n, p);
            }
        }
        if (type)
            *type = t;
    }
    sql__arena_destroy(a);
    return rc;
}

void efx_check_mode(const char *expr, uint32_t mode, const char *want)
{
    char got[512];
    struct sql_err err;
    int rc = efx_run(expr, mode, got, sizeof got, &err, NULL);
    if (rc != 0) {
        print_error("%s: error %d %s\n", expr, err.code, err.msg);
        fail();
    }
    if (strcmp(got, want) != 0) {
        print_error("%s: got '%s', want '%s'\n", expr, got, want);
        fail();
    }
}

void efx_check(const char *expr, const char *want)
{
    efx_check_mode(expr, EFX_DEFAULT_MODE, want);
}

void efx_check_err(const char *expr, uint16_t code, const char *msg)
{
    char got[512];
    struct sql_err err;
    int rc = efx_run(expr, EFX_DEFAULT_MODE, got, sizeof got, &err, NULL);
    if (rc != SQL_EQUERY) {
        print_error("%s: rc %d (value '%s'), want error %u\n", expr, rc,
                    rc == 0 ? got : "", code);
        fail();
    }
    if (err.code != code || strcmp(err.msg, msg) != 0) {
        print_error("%s: got %u '%s', want %u '%s'\n", expr, err.code,
                    err.msg, code, msg);
        fail();
    }
}

void efx_check_warning(int i, uint16_t code, const char *msg)
{
    assert_true(efx_nwarns > i);
    assert_int_equal(efx_warns[i].code, code);
    assert_string_equal(efx_warns[i].msg, msg);
}

void efx_check_type(const char *expr, uint8_t tp, int8_t dec)
{
    char got[512];
    struct sql_err err;
    struct sql_ftype t;
    assert_int_equal(efx_run(expr, EFX_DEFAULT_MODE, got, sizeof got, &err, &t), 0);
    if (t.tp != tp || t.dec != dec) {
        print_error("%s: type %u dec %d, want %u dec %d\n", expr, t.tp,
                    t.dec, tp, dec);
        fail();
    }
}

/* ---- tests ---- */

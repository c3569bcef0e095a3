/* test_expr_fault.c: allocation failures (SQLite faultsim style): compile
 * and evaluate expressions and aggregates with the i-th allocation failing,
 * for every i until a run succeeds; each run must end in 0 or -ENOMEM and
 * leave no allocation behind. See DESIGN.md, "Expressions".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "codec.h"
#include "expr.h"
#include "parse.h"

static long calls;   /* allocations so far */
static long fail_at; /* the one that fails (0: none) */
static long live;    /* blocks outstanding */

static void *f_malloc(void *ctx, size_t n)
{
    (void)ctx;
    if (++calls == fail_at)
        return NULL;
    void *p = malloc(n);
    if (p)
        live++;
    return p;
}

static void *f_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (++calls == fail_at)
        return NULL;
    void *q = realloc(p, n);
    if (q && p == NULL)
        live++;
    return q;
}

static void f_free(void *ctx, void *p)
{
    (void)ctx;
    if (p)
        live--;
    free(p);
}

static const struct sql__heap faulty = {NULL, f_malloc, f_realloc, f_free};

static struct sql_ftype col_type = {.tp = SQL_TYPE_VARCHAR, .len = 300,
                                    .coll = SQL_COLL_UTF8MB4_GENERAL_CI};

static int col_cb(void *ctx, const struct ast_expr *col,
                  struct sql_colref *out, struct sql_err *err)
{
    (void)ctx;
    (void)err;
    if (strcasecmp(col->name, "s") != 0)
        return SQL_ENOTFOUND;
    out->index = 0;
    out->type = col_type;
    return 0;
}

/* One run: compile `sql`'s first select item into a fresh arena and
 * evaluate it (or aggregate it over three rows). */
static int run_once(const struct ast_expr *x, bool aggregate)
{
    struct sql_arena *a = sql__arena_create(512);
    if (a == NULL)
        return -ENOMEM;
    struct sql_expr_scope scope = {NULL, col_cb, NULL, true, NULL, NULL,
                                   NULL};
    struct sql_err err;
    struct sql_eval_env env = {0};
    struct sql_eval ev = {&env, a, &err};
    char big[300];
    memset(big, '7', sizeof big);
    struct sql_datum row[1];
    sql__datum_str(&row[0], big, sizeof big, SQL_COLL_UTF8MB4_GENERAL_CI);
    struct sql_datum out;
    int rc;
    if (aggregate) {
        struct sql_agg *g;
        struct sql_agg_state *st;
        rc = sql__agg_compile(a, x, &scope, &g, NULL, &err);
        if (rc == 0)
            rc = sql__agg_init(g, a, &st);
        for (int i = 0; i < 3 && rc == 0; i++) {
            big[0] = (char)('a' + i);
            rc = sql__agg_update(g, st, &ev, row);
        }
        if (rc == 0)
            rc = sql__agg_final(g, st, &ev, &out);
    } else {
        struct sql_expr *e;
        rc = sql__expr_compile(a, x, &scope, &e, NULL, &err);
        if (rc == 0)
            rc = sql__expr_eval(e, &ev, row, &out);
        if (rc == 0 && out.vt != SQL_VT_NULL) {
            /* and its key form */
            struct sql__buf b = {0};
            rc = sql__key_append(&b, &out, &col_type);
            sql__buf_free(&b);
        }
    }
    sql__arena_destroy(a);
    return rc;
}

static void check_faults(const char *sql, bool aggregate)
{
    struct sql_arena *pa = sql__arena_create(0);
    struct sql_parse_result pr;
    assert_int_equal(sql__parse_one(pa, sql, strlen(sql), &pr), 0);
    const struct ast_expr *x = pr.stmt->select->items->expr;
    int rc = -ENOMEM;
    for (fail_at = 1; rc != 0 && fail_at < 10000; fail_at++) {
        calls = 0;
        live = 0;
        sql__heap_set(&faulty);
        rc = run_once(x, aggregate);
        sql__heap_set(NULL);
        if (rc != 0 && rc != -ENOMEM) {
            print_error("%s: allocation %ld failed: rc %d\n", sql, fail_at,
                        rc);
            fail();
        }
        if (live != 0) {
            print_error("%s: allocation %ld failed: %ld blocks leaked\n",
                        sql, fail_at, live);
            fail();
        }
    }
    assert_int_equal(rc, 0);
    assert_true(fail_at > 2); /* some allocation did fail on the way */
    sql__arena_destroy(pa);
}

static void test_expr_faults(void **state)
{
    (void)state;
    check_faults("SELECT CONCAT(UPPER(s), LPAD('x', 400, s), "
                 "REPEAT(s, 3), HEX(s))",
                 false);
    check_faults("SELECT REPLACE(CONCAT_WS(',', s, s), '7', 'eight') LIKE "
                 "'%eight%'",
                 false);
    check_faults("SELECT CASE WHEN s > 1 THEN CAST(s AS DECIMAL(30,2)) / 7 "
                 "ELSE NULL END",
                 false);
    check_faults("SELECT DATE_FORMAT(DATE_ADD('2024-01-31', INTERVAL 1 "
                 "MONTH), '%W %M %D %Y')",
                 false);
}

static void test_agg_faults(void **state)
{
    (void)state;
    check_faults("SELECT GROUP_CONCAT(DISTINCT s ORDER BY s DESC "
                 "SEPARATOR '--')",
                 true);
    check_faults("SELECT COUNT(DISTINCT s)", true);
    check_faults("SELECT MAX(s)", true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expr_faults),
        cmocka_unit_test(test_agg_faults),
    };
    return cmocka_run_group_tests_name("libsql/expr_fault", tests, NULL,
                                       NULL);
}

/* test_agg.c: aggregates over a small table: COUNT(*), COUNT(x),
 * COUNT(DISTINCT ..), SUM/AVG with MySQL's result types (DECIMAL for exact
 * arguments, scale + 4 for AVG, DOUBLE otherwise), MIN/MAX under
 * collations, GROUP_CONCAT with DISTINCT, ORDER BY, SEPARATOR and the
 * group_concat_max_len cut, BIT_AND/OR/XOR, STD/VARIANCE, empty groups.
 * See DESIGN.md, "Expressions".
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
#include "expr.h"
#include "parse.h"

/* Table t(i INT, d DECIMAL(6,2), s VARCHAR general_ci, f DOUBLE, n INT). */
#define NROWS 5
#define NCOLS 5
static const char *const colnames[NCOLS] = {"i", "d", "s", "f", "n"};
static struct sql_ftype types[NCOLS];
static struct sql_datum rows[NROWS][NCOLS];

static void setup_rows(void)
{
    const int is[NROWS] = {3, 1, 3, 7, 2};
    const char *ds[NROWS] = {"1.50", "2.25", "-0.75", "10.00", "1.50"};
    const char *ss[NROWS] = {"pear", "Apple", "apple", "fig", "Banana"};
    const double fs[NROWS] = {0.5, 1.5, 2.5, 3.5, 4.5};
    types[0] = (struct sql_ftype){.tp = SQL_TYPE_LONG, .len = 11,
                                  .coll = SQL_COLL_BINARY};
    types[1] = (struct sql_ftype){.tp = SQL_TYPE_NEWDECIMAL, .len = 6,
                                  .dec = 2, .coll = SQL_COLL_BINARY};
    types[2] = (struct sql_ftype){.tp = SQL_TYPE_VARCHAR, .len = 10,
                                  .coll = SQL_COLL_UTF8MB4_GENERAL_CI};
    types[3] = (struct sql_ftype){.tp = SQL_TYPE_DOUBLE, .len = 22,
                                  .dec = 31, .coll = SQL_COLL_BINARY};
    types[4] = types[0];
    for (int r = 0; r < NROWS; r++) {
        sql__datum_int(&rows[r][0], is[r]);
        memset(&rows[r][1], 0, sizeof rows[r][1]);
        rows[r][1].vt = SQL_VT_DECIMAL;
        sql__dec_parse(ds[r], strlen(ds[r]), &rows[r][1].v.dec, NULL);
        sql__datum_str(&rows[r][2], ss[r], strlen(ss[r]),
                       SQL_COLL_UTF8MB4_GENERAL_CI);
        sql__datum_double(&rows[r][3], fs[r]);
        if (r == 1 || r == 3)
            sql__datum_int(&rows[r][4], r);
        else
            sql__datum_null(&rows[r][4]);
    }
}

static int col_cb(void *ctx, const struct ast_expr *col,
                  struct sql_colref *out, struct sql_err *err)
{
    (void)ctx;
    (void)err;
    for (uint32_t i = 0; i < NCOLS; i++)
        if (strcasecmp(colnames[i], col->name) == 0) {
            out->index = i;
            out->type = types[i];
            return 0;
        }
    return SQL_ENOTFOUND;
}

static int64_t gc_max = 1024;
static char lastwarn[256];

static int sysvar(void *ctx, const char *name, int scope,
                  struct sql_datum *out, struct sql_arena *a,
                  struct sql_err *err)
{
    (void)ctx;
    (void)scope;
    (void)a;
    if (strcmp(name, "group_concat_max_len") == 0) {
        sql__datum_int(out, gc_max);
        return 0;
    }
    return sql__err(err, 1193, "HY000", "Unknown system variable '%s'",
                    name);
}

static void on_warn(void *ctx, const char *level, uint16_t code,
                    const char *msg)
{
    (void)ctx;
    (void)level;
    snprintf(lastwarn, sizeof lastwarn, "%u %s", code, msg);
}

/* Aggregate `call` over the first nrows rows: its text and type. */
static void agg(const char *call, int nrows, const char *want,
                uint8_t tp, int dec)
{
    struct sql_arena *a = sql__arena_create(0);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s", call);
    struct sql_parse_result pr;
    assert_int_equal(sql__parse_one(a, sql, strlen(sql), &pr), 0);
    struct sql_expr_scope scope = {NULL, col_cb, NULL, true, "test", NULL,
                                   NULL};
    struct sql_agg *g;
    struct sql_ftype t;
    struct sql_err err;
    int rc = sql__agg_compile(a, pr.stmt->select->items->expr, &scope, &g,
                              &t, &err);
    if (rc != 0) {
        print_error("%s: %d %s\n", call, err.code, err.msg);
        fail();
    }
    struct sql_eval_env env = {0};
    env.sysvar_get = sysvar;
    env.warn = on_warn;
    struct sql_eval ev = {&env, a, &err};
    struct sql_agg_state *st;
    assert_int_equal(sql__agg_init(g, a, &st), 0);
    for (int r = 0; r < nrows; r++)
        assert_int_equal(sql__agg_update(g, st, &ev, rows[r]), 0);
    struct sql_datum out;
    assert_int_equal(sql__agg_final(g, st, &ev, &out), 0);
    char got[256] = "NULL";
    if (out.vt != SQL_VT_NULL) {
        const char *p;
        size_t n;
        assert_int_equal(sql__datum_text(&out, &t, a, &p, &n), 0);
        snprintf(got, sizeof got, "%.*s", (int)n, p);
    }
    if (strcmp(got, want) != 0 || t.tp != tp || t.dec != dec) {
        print_error("%s: got '%s' type %u dec %d, want '%s' %u %d\n", call,
                    got, t.tp, t.dec, want, tp, dec);
        fail();
    }
    sql__arena_destroy(a);
}

static void test_count(void **state)
{
    (void)state;
    agg("COUNT(*)", NROWS, "5", SQL_TYPE_LONGLONG, 0);
    agg("COUNT(n)", NROWS, "2", SQL_TYPE_LONGLONG, 0);
    agg("COUNT(DISTINCT i)", NROWS, "4", SQL_TYPE_LONGLONG, 0);
    agg("COUNT(DISTINCT s)", NROWS, "4", SQL_TYPE_LONGLONG, 0);
    agg("COUNT(DISTINCT i, d)", NROWS, "5", SQL_TYPE_LONGLONG, 0);
    agg("COUNT(DISTINCT d)", NROWS, "4", SQL_TYPE_LONGLONG, 0);
    agg("COUNT(*)", 0, "0", SQL_TYPE_LONGLONG, 0);
    agg("COUNT(i)", 0, "0", SQL_TYPE_LONGLONG, 0);
}

static void test_sum_avg(void **state)
{
    (void)state;
    agg("SUM(i)", NROWS, "16", SQL_TYPE_NEWDECIMAL, 0);
    agg("SUM(DISTINCT i)", NROWS, "13", SQL_TYPE_NEWDECIMAL, 0);
    agg("SUM(d)", NROWS, "14.50", SQL_TYPE_NEWDECIMAL, 2);
    agg("SUM(f)", NROWS, "12.5", SQL_TYPE_DOUBLE, -1);
    agg("SUM(n)", NROWS, "4", SQL_TYPE_NEWDECIMAL, 0);
    agg("SUM(i)", 0, "NULL", SQL_TYPE_NEWDECIMAL, 0);
    agg("SUM(s)", NROWS, "0", SQL_TYPE_DOUBLE, -1);
    agg("AVG(i)", NROWS, "3.2000", SQL_TYPE_NEWDECIMAL, 4);
    agg("AVG(d)", NROWS, "2.900000", SQL_TYPE_NEWDECIMAL, 6);
    agg("AVG(f)", NROWS, "2.5", SQL_TYPE_DOUBLE, -1);
    agg("AVG(DISTINCT i)", NROWS, "3.2500", SQL_TYPE_NEWDECIMAL, 4);
    agg("AVG(i)", 0, "NULL", SQL_TYPE_NEWDECIMAL, 4);
    agg("AVG(i)", 3, "2.3333", SQL_TYPE_NEWDECIMAL, 4);
    agg("SUM(i * 2)", NROWS, "32", SQL_TYPE_NEWDECIMAL, 0);
}

static void test_min_max(void **state)
{
    (void)state;
    agg("MIN(i)", NROWS, "1", SQL_TYPE_LONG, 0);
    agg("MAX(i)", NROWS, "7", SQL_TYPE_LONG, 0);
    agg("MIN(d)", NROWS, "-0.75", SQL_TYPE_NEWDECIMAL, 2);
    agg("MAX(s)", NROWS, "pear", SQL_TYPE_VARCHAR, 0);
    agg("MIN(s)", NROWS, "Apple", SQL_TYPE_VARCHAR, 0);
    agg("MAX(n)", NROWS, "3", SQL_TYPE_LONG, 0);
    agg("MIN(i)", 0, "NULL", SQL_TYPE_LONG, 0);
    agg("ANY_VALUE(s)", NROWS, "pear", SQL_TYPE_VARCHAR, 0);
}

static void test_group_concat(void **state)
{
    (void)state;
    agg("GROUP_CONCAT(s)", NROWS, "pear,Apple,apple,fig,Banana",
        SQL_TYPE_BLOB, 31);
    agg("GROUP_CONCAT(s ORDER BY s)", NROWS, "Apple,apple,Banana,fig,pear",
        SQL_TYPE_BLOB, 31);
    agg("GROUP_CONCAT(DISTINCT s ORDER BY s DESC SEPARATOR '|')", NROWS,
        "pear|fig|Banana|Apple", SQL_TYPE_BLOB, 31);
    agg("GROUP_CONCAT(i, '-', s ORDER BY i, s SEPARATOR ' ')", NROWS,
        "1-Apple 2-Banana 3-apple 3-pear 7-fig", SQL_TYPE_BLOB, 31);
    agg("GROUP_CONCAT(n)", NROWS, "1,3", SQL_TYPE_BLOB, 31);
    agg("GROUP_CONCAT(d ORDER BY d)", NROWS, "-0.75,1.50,1.50,2.25,10.00",
        SQL_TYPE_BLOB, 31);
    agg("GROUP_CONCAT(s)", 0, "NULL", SQL_TYPE_BLOB, 31);
    gc_max = 8;
    lastwarn[0] = '\0';
    agg("GROUP_CONCAT(s)", NROWS, "pear,App", SQL_TYPE_BLOB, 31);
    assert_string_equal(lastwarn, "1260 Row 2 was cut by GROUP_CONCAT()");
    gc_max = 1024;
}

static void test_bits_stats(void **state)
{
    (void)state;
    agg("BIT_OR(i)", NROWS, "7", SQL_TYPE_LONGLONG, 0);
    agg("BIT_AND(i)", NROWS, "0", SQL_TYPE_LONGLONG, 0);
    agg("BIT_AND(i)", 1, "3", SQL_TYPE_LONGLONG, 0);
    agg("BIT_XOR(i)", NROWS, "4", SQL_TYPE_LONGLONG, 0);
    agg("BIT_AND(i)", 0, "18446744073709551615", SQL_TYPE_LONGLONG, 0);
    agg("BIT_OR(i)", 0, "0", SQL_TYPE_LONGLONG, 0);
    agg("VAR_POP(f)", NROWS, "2", SQL_TYPE_DOUBLE, -1);
    agg("VARIANCE(f)", NROWS, "2", SQL_TYPE_DOUBLE, -1);
    agg("VAR_SAMP(f)", NROWS, "2.5", SQL_TYPE_DOUBLE, -1);
    agg("STDDEV_POP(f)", NROWS, "1.4142135623730951", SQL_TYPE_DOUBLE, -1);
    agg("STD(f)", 1, "0", SQL_TYPE_DOUBLE, -1);
    agg("STDDEV_SAMP(f)", 1, "NULL", SQL_TYPE_DOUBLE, -1);
}

static void test_errors(void **state)
{
    (void)state;
    struct sql_arena *a = sql__arena_create(0);
    const char *sql = "SELECT SUM(MAX(i))";
    struct sql_parse_result pr;
    assert_int_equal(sql__parse_one(a, sql, strlen(sql), &pr), 0);
    struct sql_expr_scope scope = {NULL, col_cb, NULL, true, NULL, NULL,
                                   NULL};
    struct sql_agg *g;
    struct sql_err err;
    assert_int_equal(sql__agg_compile(a, pr.stmt->select->items->expr,
                                      &scope, &g, NULL, &err),
                     SQL_EQUERY);
    assert_int_equal(err.code, 1111);
    assert_string_equal(err.msg, "Invalid use of group function");
    sql = "SELECT SUM(zz)";
    assert_int_equal(sql__parse_one(a, sql, strlen(sql), &pr), 0);
    assert_int_equal(sql__agg_compile(a, pr.stmt->select->items->expr,
                                      &scope, &g, NULL, &err),
                     SQL_EQUERY);
    assert_int_equal(err.code, 1054);
    assert_true(sql__agg_is_aggregate("count"));
    assert_true(sql__agg_is_aggregate("GROUP_CONCAT"));
    assert_false(sql__agg_is_aggregate("CONCAT"));
    sql__arena_destroy(a);
}

int main(void)
{
    setup_rows();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_sum_avg),
        cmocka_unit_test(test_min_max),
        cmocka_unit_test(test_group_concat),
        cmocka_unit_test(test_bits_stats),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("libsql/agg", tests, NULL, NULL);
}

/* test_expr_store.c: sql__datum_store for every column type: the stored
 * value, and in strict mode the error (1264, 1265, 1292, 1366, 1406),
 * otherwise the clamped value and the warning, with MySQL's texts. See
 * DESIGN.md, "Values and types".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "datetime.h"
#include "decimal.h"
#include "expr.h"

static char wmsg[256];
static char wlevel[16];
static uint16_t wcode;
static int nwarn;

static void on_warn(void *ctx, const char *level, uint16_t code,
                    const char *msg)
{
    (void)ctx;
    snprintf(wmsg, sizeof wmsg, "%s", msg);
    snprintf(wlevel, sizeof wlevel, "%s", level);
    wcode = code;
    nwarn++;
}

#define STRICT (SQL_MODE_STRICT_TRANS_TABLES | SQL_MODE_NO_ZERO_DATE | \
                SQL_MODE_NO_ZERO_IN_DATE)

static struct sql_ftype T(uint8_t tp, uint16_t flags, uint32_t len, int dec)
{
    struct sql_ftype t;
    memset(&t, 0, sizeof t);
    t.tp = tp;
    t.flags = flags;
    t.len = len;
    t.dec = (int8_t)dec;
    t.coll = sql__type_is_string(tp) ? SQL_COLL_UTF8MB4_GENERAL_CI
                                     : SQL_COLL_BINARY;
    return t;
}

static struct sql_datum S(const char *s)
{
    struct sql_datum d;
    sql__datum_str(&d, s, strlen(s), SQL_COLL_UTF8MB4_GENERAL_CI);
    return d;
}

static struct sql_datum I(int64_t v)
{
    struct sql_datum d;
    sql__datum_int(&d, v);
    return d;
}

static struct sql_datum D(const char *s)
{
    struct sql_datum d;
    memset(&d, 0, sizeof d);
    d.vt = SQL_VT_DECIMAL;
    sql__dec_parse(s, strlen(s), &d.v.dec, NULL);
    return d;
}

/* Store v; on success text is the stored value's text. */
static int store(struct sql_datum v, struct sql_ftype t, uint32_t mode,
                 char *text, struct sql_err *err)
{
    struct sql_arena *a = sql__arena_create(0);
    struct sql_eval_env env = {0};
    env.sql_mode = mode;
    env.warn = on_warn;
    struct sql_eval ev = {&env, a, err};
    struct sql_datum out;
    nwarn = 0;
    wmsg[0] = '\0';
    int rc = sql__datum_store(&v, &t, "c", 1, &ev, &out);
    if (rc == 0) {
        if (out.vt == SQL_VT_NULL) {
            strcpy(text, "NULL");
        } else {
            const char *p;
            size_t n;
            assert_int_equal(sql__datum_text(&out, &t, a, &p, &n), 0);
            snprintf(text, 256, "%.*s", (int)n, p);
        }
    }
    sql__arena_destroy(a);
    return rc;
}

/* Non-strict: stored as want, with warning (code, msg) or none (code 0).
 * Strict: the same value when code is 0 or a Note, else error scode. */
static void check2(struct sql_datum v, struct sql_ftype t, const char *want,
                   uint16_t code, const char *msg, uint16_t scode,
                   const char *smsg)
{
    char got[256];
    struct sql_err err;
    int rc = store(v, t, STRICT & ~(uint32_t)SQL_MODE_STRICT_TRANS_TABLES,
                   got, &err);
    assert_int_equal(rc, 0);
    if (strcmp(got, want) != 0) {
        print_error("stored '%s', want '%s'\n", got, want);
        fail();
    }
    if ((code == 0) != (nwarn == 0) || (code && wcode != code)) {
        print_error("'%s': %d warnings, last %u '%s'\n", want, nwarn, wcode,
                    wmsg);
        fail();
    }
    if (code == 0) {
        assert_int_equal(nwarn, 0);
    } else {
        assert_int_equal(nwarn, 1);
        assert_int_equal(wcode, code);
        assert_string_equal(wmsg, msg);
    }
    bool note = code != 0 && strcmp(wlevel, "Note") == 0;
    rc = store(v, t, STRICT, got, &err);
    if (code == 0 || note) {
        assert_int_equal(rc, 0);
        assert_string_equal(got, want);
    } else {
        assert_int_equal(rc, SQL_EQUERY);
        if (err.code != scode || strcmp(err.msg, smsg) != 0) {
            print_error("strict: %u '%s', want %u '%s'\n", err.code,
                        err.msg, scode, smsg);
            fail();
        }
    }
}

static void check(struct sql_datum v, struct sql_ftype t, const char *want,
                  uint16_t code, const char *msg)
{
    check2(v, t, want, code, msg, code, msg);
}

static const char *range = "Out of range value for column 'c' at row 1";
static const char *trunc_ = "Data truncated for column 'c' at row 1";
static const char *toolong = "Data too long for column 'c' at row 1";

static void test_integers(void **state)
{
    (void)state;
    struct sql_ftype tiny = T(SQL_TYPE_TINY, 0, 4, 0);
    struct sql_ftype utiny = T(SQL_TYPE_TINY, SQL_COLFLAG_UNSIGNED, 3, 0);
    struct sql_ftype big = T(SQL_TYPE_LONGLONG, 0, 20, 0);
    struct sql_ftype ubig = T(SQL_TYPE_LONGLONG, SQL_COLFLAG_UNSIGNED, 20, 0);
    check(I(127), tiny, "127", 0, NULL);
    check(I(128), tiny, "127", 1264, range);
    check(I(-129), tiny, "-128", 1264, range);
    check(I(-1), utiny, "0", 1264, range);
    check(I(256), utiny, "255", 1264, range);
    check(S("42"), tiny, "42", 0, NULL);
    check(S(" 42 "), tiny, "42", 0, NULL);
    check(S("1.5"), tiny, "2", 0, NULL);
    check(S("-1.5"), tiny, "-2", 0, NULL);
    check(S("1e2"), tiny, "100", 0, NULL);
    check(S("abc"), tiny, "0", 1366,
          "Incorrect integer value: 'abc' for column 'c' at row 1");
    check(S(""), tiny, "0", 1366,
          "Incorrect integer value: '' for column 'c' at row 1");
    check(S("12abc"), tiny, "12", 1265, trunc_);
    check(D("2.5"), tiny, "3", 0, NULL);
    check(D("-2.5"), tiny, "-3", 0, NULL);
    struct sql_datum dbl;
    sql__datum_double(&dbl, 2.5);
    check(dbl, tiny, "2", 0, NULL); /* rint: half to even, as MySQL */
    sql__datum_double(&dbl, 1e30);
    check(dbl, big, "9223372036854775807", 1264, range);
    check(S("18446744073709551615"), ubig, "18446744073709551615", 0, NULL);
    check(S("18446744073709551616"), ubig, "18446744073709551615", 1264,
          range);
    check(S("-9223372036854775809"), big, "-9223372036854775808", 1264,
          range);
    struct sql_datum u;
    sql__datum_uint(&u, UINT64_MAX);
    check(u, big, "9223372036854775807", 1264, range);
    struct sql_ftype year = T(SQL_TYPE_YEAR, SQL_COLFLAG_UNSIGNED, 4, 0);
    check(I(2024), year, "2024", 0, NULL);
    check(I(24), year, "2024", 0, NULL);
    check(I(70), year, "1970", 0, NULL);
    check(I(0), year, "0", 0, NULL);
    check(S("0"), year, "2000", 0, NULL);
    check(I(1800), year, "0", 1264, range);
    struct sql_ftype bit = T(SQL_TYPE_BIT, SQL_COLFLAG_UNSIGNED, 4, 0);
    struct sql_datum b;
    sql__datum_uint(&b, 0);
    check(I(15), bit, "\x0f", 0, NULL);
    check(I(16), bit, "\x0f", 1406, toolong);
}

static void test_decimal_double(void **state)
{
    (void)state;
    /* DECIMAL(5,2): display length 7 (sign, point), as the catalog and
     * MySQL's metadata say. */
    struct sql_ftype d52 = T(SQL_TYPE_NEWDECIMAL, 0, 7, 2);
    check(D("123.45"), d52, "123.45", 0, NULL);
    check(I(7), d52, "7.00", 0, NULL);
    check(D("1.235"), d52, "1.24", 1265, trunc_); /* a Note */
    check(S("1.005"), d52, "1.01", 1265, trunc_);
    check(D("1000"), d52, "999.99", 1264, range);
    check(D("-1000"), d52, "-999.99", 1264, range);
    check(D("999.995"), d52, "999.99", 1264, range);
    check(S("abc"), d52, "0.00", 1366,
          "Incorrect decimal value: 'abc' for column 'c' at row 1");
    check(S("1.5x"), d52, "1.50", 1265, trunc_);
    struct sql_ftype ud = T(SQL_TYPE_NEWDECIMAL, SQL_COLFLAG_UNSIGNED, 6, 2);
    check(D("999.99"), ud, "999.99", 0, NULL);
    /* difftest F2: DECIMAL(2,2) holds no integer digit. */
    struct sql_ftype d22 = T(SQL_TYPE_NEWDECIMAL, 0, 4, 2);
    check(D("0.98"), d22, "0.98", 0, NULL);
    check(D("1.98"), d22, "0.99", 1264, range);
    struct sql_ftype d200 = T(SQL_TYPE_NEWDECIMAL, 0, 21, 0);
    check(D("99999999999999999999"), d200, "99999999999999999999", 0, NULL);
    check(D("100000000000000000000"), d200, "99999999999999999999", 1264,
          range);
    check(D("-1"), ud, "0.00", 1264, range);
    struct sql_ftype dbl = T(SQL_TYPE_DOUBLE, 0, 22, -1);
    check(S("1.5"), dbl, "1.5", 0, NULL);
    check(S("1.5abc"), dbl, "1.5", 1265, trunc_);
    check(S("abc"), dbl, "0", 1265, trunc_);
    check(D("0.1"), dbl, "0.1", 0, NULL);
    struct sql_ftype flt = T(SQL_TYPE_FLOAT, 0, 12, -1);
    check(S("3.14159265"), flt, "3.14159", 0, NULL);
    struct sql_datum big;
    sql__datum_double(&big, 1e300);
    check(big, flt, "3.40282e38", 1264, range);
    struct sql_ftype d62 = T(SQL_TYPE_DOUBLE, 0, 6, 2);
    check(S("3.14159"), d62, "3.14", 0, NULL);
    check(S("12345"), d62, "9999.99", 1264, range);
}

static void test_strings(void **state)
{
    (void)state;
    struct sql_ftype v5 = T(SQL_TYPE_VARCHAR, 0, 5, 0);
    check(S("hello"), v5, "hello", 0, NULL);
    check(S("héllo"), v5, "héllo", 0, NULL);
    check2(S("hello!"), v5, "hello", 1265, trunc_, 1406, toolong);
    check(S("hello   "), v5, "hello", 1265, trunc_); /* spaces: a Note */
    check2(I(123456), v5, "12345", 1265, trunc_, 1406, toolong);
    check(D("1.50"), v5, "1.50", 0, NULL);
    struct sql_ftype c5 = T(SQL_TYPE_STRING, 0, 5, 0);
    check(S("ab  "), c5, "ab", 0, NULL);
    struct sql_datum bad;
    sql__datum_str(&bad, "a\xff\xfe", 3, SQL_COLL_BINARY);
    check(bad, v5, "a", 1366,
          "Incorrect string value: '\\xFF\\xFE' for column 'c' at row 1");
    struct sql_ftype vb = T(SQL_TYPE_VAR_STRING, SQL_COLFLAG_BINARY, 3, 0);
    vb.coll = SQL_COLL_BINARY;
    check(bad, vb, "a\xff\xfe", 0, NULL);
    struct sql_ftype bn = T(SQL_TYPE_STRING, SQL_COLFLAG_BINARY, 4, 0);
    bn.coll = SQL_COLL_BINARY;
    struct sql_arena *a = sql__arena_create(0);
    struct sql_eval_env env = {0};
    struct sql_err err;
    struct sql_eval ev = {&env, a, &err};
    struct sql_datum in = S("ab"), out;
    assert_int_equal(sql__datum_store(&in, &bn, "c", 1, &ev, &out), 0);
    assert_int_equal(out.v.s.n, 4);
    assert_memory_equal(out.v.s.p, "ab\0\0", 4);
    sql__arena_destroy(a);
    struct sql_ftype tiny = T(SQL_TYPE_TINY_BLOB, SQL_COLFLAG_BLOB, 0, 0);
    char longs[300];
    memset(longs, 'x', sizeof longs - 1);
    longs[299] = '\0';
    char want[256];
    memset(want, 'x', 255);
    want[255] = '\0';
    check2(S(longs), tiny, want, 1265, trunc_, 1406, toolong);
}

static void test_enum_set(void **state)
{
    (void)state;
    static const char *const members[] = {"red", "green", "blue"};
    struct sql_ftype e = T(SQL_TYPE_ENUM, SQL_COLFLAG_ENUM, 5, 0);
    e.elems = members;
    e.nelems = 3;
    check(S("green"), e, "green", 0, NULL);
    check(S("GREEN "), e, "green", 0, NULL);
    check(I(3), e, "blue", 0, NULL);
    check(S("pink"), e, "", 1265, trunc_);
    check(I(0), e, "", 1265, trunc_);
    struct sql_ftype s = T(SQL_TYPE_SET, SQL_COLFLAG_SET, 14, 0);
    s.elems = members;
    s.nelems = 3;
    check(S("blue,red"), s, "red,blue", 0, NULL);
    check(S(""), s, "", 0, NULL);
    check(I(6), s, "green,blue", 0, NULL);
    check(S("red,pink"), s, "red", 1265, trunc_);
}

static void test_temporal(void **state)
{
    (void)state;
    struct sql_ftype date = T(SQL_TYPE_DATE, 0, 10, 0);
    struct sql_ftype dt = T(SQL_TYPE_DATETIME, 0, 19, 0);
    struct sql_ftype dt3 = T(SQL_TYPE_DATETIME, 0, 23, 3);
    struct sql_ftype ts = T(SQL_TYPE_TIMESTAMP, 0, 19, 0);
    struct sql_ftype tm = T(SQL_TYPE_TIME, 0, 10, 0);
    check(S("2024-02-29"), date, "2024-02-29", 0, NULL);
    check(S("24-2-9"), date, "2024-02-09", 0, NULL);
    check(S("20240229"), date, "2024-02-29", 0, NULL);
    check(I(20240229), date, "2024-02-29", 0, NULL);
    check(S("2023-02-29"), date, "0000-00-00", 1292,
          "Incorrect date value: '2023-02-29' for column 'c' at row 1");
    check(S("abc"), date, "0000-00-00", 1292,
          "Incorrect date value: 'abc' for column 'c' at row 1");
    check(S("2024-02-29 10:00:00"), date, "2024-02-29", 1265, trunc_);
    check(S("2024-02-29 10:11:12"), dt, "2024-02-29 10:11:12", 0, NULL);
    check(S("2024-02-29T10:11:12"), dt, "2024-02-29 10:11:12", 0, NULL);
    check(S("2024-02-29 10:11:12.5"), dt, "2024-02-29 10:11:13", 0, NULL);
    check(S("2024-02-29 10:11:12.1234"), dt3, "2024-02-29 10:11:12.123", 0,
          NULL);
    check(S("2024-12-31 23:59:59.9999"), dt3, "2025-01-01 00:00:00.000", 0,
          NULL);
    check(I(20240229101112), dt, "2024-02-29 10:11:12", 0, NULL);
    check(S("2024-02-29"), dt, "2024-02-29 00:00:00", 0, NULL);
    check(S("0000-00-00"), dt, "0000-00-00 00:00:00", 1292,
          "Incorrect datetime value: '0000-00-00' for column 'c' at row 1");
    check(S("2024-00-10"), date, "0000-00-00", 1292,
          "Incorrect date value: '2024-00-10' for column 'c' at row 1");
    check(S("2038-01-19 03:14:07"), ts, "2038-01-19 03:14:07", 0, NULL);
    check(S("2038-01-19 03:14:08"), ts, "0000-00-00 00:00:00", 1292,
          "Incorrect datetime value: '2038-01-19 03:14:08' for column 'c' "
          "at row 1");
    check(S("12:34:56"), tm, "12:34:56", 0, NULL);
    check(S("-1 02:00:00"), tm, "-26:00:00", 0, NULL);
    check(S("123456"), tm, "12:34:56", 0, NULL);
    check(I(-3000), tm, "-00:30:00", 0, NULL);
    check(S("839:00:00"), tm, "838:59:59", 1264, range);
    check(S("12:61:00"), tm, "00:00:00", 1292,
          "Incorrect time value: '12:61:00' for column 'c' at row 1");
    /* Non-strict without NO_ZERO_DATE takes the zero date silently. */
    char got[256];
    struct sql_err err;
    assert_int_equal(store(S("0000-00-00"), date, 0, got, &err), 0);
    assert_string_equal(got, "0000-00-00");
    assert_int_equal(nwarn, 0);
}

static void test_null(void **state)
{
    (void)state;
    struct sql_datum n;
    sql__datum_null(&n);
    char got[256];
    struct sql_err err;
    assert_int_equal(store(n, T(SQL_TYPE_LONG, 0, 11, 0), STRICT, got, &err),
                     0);
    assert_string_equal(got, "NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_decimal_double),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_enum_set),
        cmocka_unit_test(test_temporal),
        cmocka_unit_test(test_null),
    };
    return cmocka_run_group_tests_name("libsql/expr_store", tests, NULL,
                                       NULL);
}

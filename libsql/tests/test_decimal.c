/* test_decimal.c: exact DECIMAL arithmetic: parsing (signs, exponents,
 * junk, overflow), printing, + - * / with MySQL's scales and rounding
 * (half away from zero), MOD, DIV, ROUND/TRUNCATE/FLOOR/CEIL, comparison
 * and conversions. See DESIGN.md, "Values and types".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decimal.h"

static struct sql_dec D(const char *s)
{
    struct sql_dec d;
    int rc = sql__dec_parse(s, strlen(s), &d, NULL);
    assert_true(rc == 0 || rc == SQL_DEC_TRUNC);
    return d;
}

static void eq(const struct sql_dec *d, const char *want)
{
    char buf[SQL_DEC_STR_MAX];
    sql__dec_print(d, buf);
    if (strcmp(buf, want) != 0) {
        print_error("got %s, want %s\n", buf, want);
        fail();
    }
}

typedef int (*binop)(const struct sql_dec *, const struct sql_dec *,
                     struct sql_dec *);

static void op(binop f, const char *a, const char *b, const char *want)
{
    struct sql_dec x = D(a), y = D(b), r;
    assert_int_equal(f(&x, &y, &r), 0);
    eq(&r, want);
}

static void test_parse_print(void **state)
{
    (void)state;
    const char *same[] = {"0", "1", "-1", "0.5", "-0.05", "123.4500",
                          "99999999999999999999999999999999999999999999999"
                          "999999999999999999",
                          "0.000000000000000000000000000001"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        struct sql_dec d = D(same[i]);
        eq(&d, same[i]);
    }
    struct sql_dec d = D("  +12.5");
    eq(&d, "12.5");
    d = D("1.5e3");
    eq(&d, "1500");
    d = D("1.5e-3");
    eq(&d, "0.0015");
    d = D(".5");
    eq(&d, "0.5");
    d = D("5.");
    eq(&d, "5");
    d = D("-0.00");
    eq(&d, "0.00");
    assert_false(d.neg);
    size_t used;
    assert_int_equal(sql__dec_parse("12abc", 5, &d, &used), SQL_DEC_TRUNC);
    assert_int_equal(used, 2);
    eq(&d, "12");
    assert_int_equal(sql__dec_parse("12  ", 4, &d, NULL), 0);
    assert_int_equal(sql__dec_parse("abc", 3, &d, NULL), SQL_DEC_BAD);
    assert_int_equal(sql__dec_parse("", 0, &d, NULL), SQL_DEC_BAD);
    assert_int_equal(sql__dec_parse(".", 1, &d, NULL), SQL_DEC_BAD);
    assert_int_equal(sql__dec_parse("1e100", 5, &d, NULL), SQL_DEC_OVERFLOW);
    /* More than 30 fraction digits round to 30. */
    d = D("0.1234567890123456789012345678905");
    eq(&d, "0.123456789012345678901234567891");
}

static void test_add_sub_mul(void **state)
{
    (void)state;
    op(sql__dec_add, "0.1", "0.2", "0.3");
    op(sql__dec_add, "1.5", "-2.25", "-0.75");
    op(sql__dec_add, "-1", "1", "0");
    op(sql__dec_add, "999999999.999999999", "0.000000001", "1000000000.000000000");
    op(sql__dec_sub, "1", "0.001", "0.999");
    op(sql__dec_sub, "-5", "-5", "0");
    op(sql__dec_sub, "0", "3.5", "-3.5");
    op(sql__dec_mul, "1.5", "1.5", "2.25");
    op(sql__dec_mul, "-0.1", "0.1", "-0.01");
    op(sql__dec_mul, "123456789.123456789", "987654321.987654321",
       "121932631356500531.347203169112635269");
    op(sql__dec_mul, "0", "-5.5", "0.0");
    /* Scale beyond 30 rounds. */
    op(sql__dec_mul, "0.000000000000000000000000000001", "0.5",
       "0.000000000000000000000000000001");
    struct sql_dec big = D("99999999999999999999999999999999999999999999999"
                           "999999999999999999"),
                   one = D("1"), r;
    assert_int_equal(sql__dec_add(&big, &one, &r), SQL_DEC_OVERFLOW);
    assert_int_equal(sql__dec_mul(&big, &big, &r), SQL_DEC_OVERFLOW);
}

static void div4(const char *a, const char *b, const char *want)
{
    struct sql_dec x = D(a), y = D(b), r;
    assert_int_equal(sql__dec_div(&x, &y, 4, &r), 0);
    eq(&r, want);
}

static void test_div(void **state)
{
    (void)state;
    /* Whole 9-digit words past the point, truncated (MySQL's
     * do_div_mod); the result type's scale rounds when shown (F26). */
    div4("1", "3", "0.333333333");
    div4("2", "3", "0.666666666");
    div4("-2", "3", "-0.666666666");
    div4("1.0", "3", "0.333333333");
    div4("10", "4", "2.500000000");
    div4("1", "0.3", "3.333333333");
    div4("7.25", "-0.5", "-14.500000000");
    div4("0.00005", "1", "0.000050000");
    div4("0.000005", "3", "0.000001666666666666");
    div4("123456789012345678901234567890", "0.001",
         "123456789012345678901234567890000.000000000");
    struct sql_dec x = D("1"), z = D("0.00"), r;
    assert_int_equal(sql__dec_div(&x, &z, 4, &r), SQL_DEC_DIV0);
    assert_int_equal(sql__dec_mod(&x, &z, &r), SQL_DEC_DIV0);
    assert_int_equal(sql__dec_intdiv(&x, &z, &r), SQL_DEC_DIV0);
    op(sql__dec_mod, "7.5", "2", "1.5");
    op(sql__dec_mod, "-7.5", "2", "-1.5");
    op(sql__dec_mod, "7", "-3", "1");
    op(sql__dec_intdiv, "7.5", "2", "3");
    op(sql__dec_intdiv, "-7.5", "2", "-3");
}

static void rnd(const char *a, int scale, const char *want, bool trunc)
{
    struct sql_dec x = D(a), r;
    assert_int_equal(trunc ? sql__dec_truncate(&x, scale, &r)
                           : sql__dec_round(&x, scale, &r),
                     0);
    eq(&r, want);
}

static void test_round(void **state)
{
    (void)state;
    rnd("2.5", 0, "3", false);
    rnd("-2.5", 0, "-3", false);
    rnd("2.45", 1, "2.5", false);
    rnd("2.449", 2, "2.45", false);
    rnd("1.5", 3, "1.500", false);
    rnd("125", -1, "130", false);
    rnd("-125", -1, "-130", false);
    rnd("149", -2, "100", false);
    rnd("999.99", 1, "1000.0", false);
    rnd("0.4", 0, "0", false);
    rnd("2.99", 1, "2.9", true);
    rnd("-2.99", 0, "-2", true);
    rnd("129", -1, "120", true);
    struct sql_dec x = D("-2.1"), r;
    sql__dec_floor(&x, &r);
    eq(&r, "-3");
    sql__dec_ceil(&x, &r);
    eq(&r, "-2");
    x = D("2.1");
    sql__dec_floor(&x, &r);
    eq(&r, "2");
    sql__dec_ceil(&x, &r);
    eq(&r, "3");
    x = D("5.000");
    sql__dec_ceil(&x, &r);
    eq(&r, "5");
    assert_int_equal(sql__dec_int_digits(&x), 1);
    x = D("0.05");
    assert_int_equal(sql__dec_int_digits(&x), 0);
}

static void test_cmp_convert(void **state)
{
    (void)state;
    struct sql_dec a = D("1.50"), b = D("1.5"), c = D("-2"), z = D("0"),
                   nz = D("-0.0");
    assert_int_equal(sql__dec_cmp(&a, &b), 0);
    assert_int_equal(sql__dec_cmp(&c, &a), -1);
    assert_int_equal(sql__dec_cmp(&a, &c), 1);
    assert_int_equal(sql__dec_cmp(&z, &nz), 0);
    struct sql_dec m1 = D("-1.1"), m2 = D("-1.2");
    assert_int_equal(sql__dec_cmp(&m1, &m2), 1);
    int64_t i;
    uint64_t u;
    struct sql_dec x = D("2.5");
    assert_int_equal(sql__dec_to_i64(&x, &i), 0);
    assert_int_equal(i, 3);
    x = D("-2.5");
    assert_int_equal(sql__dec_to_i64(&x, &i), 0);
    assert_int_equal(i, -3);
    x = D("-9223372036854775808");
    assert_int_equal(sql__dec_to_i64(&x, &i), 0);
    assert_true(i == INT64_MIN);
    x = D("9223372036854775808");
    assert_int_equal(sql__dec_to_i64(&x, &i), SQL_DEC_OVERFLOW);
    assert_true(i == INT64_MAX);
    assert_int_equal(sql__dec_to_u64(&x, &u), 0);
    assert_true(u == 9223372036854775808ULL);
    x = D("18446744073709551616");
    assert_int_equal(sql__dec_to_u64(&x, &u), SQL_DEC_OVERFLOW);
    x = D("-1");
    assert_int_equal(sql__dec_to_u64(&x, &u), SQL_DEC_OVERFLOW);
    sql__dec_from_i64(&x, INT64_MIN);
    eq(&x, "-9223372036854775808");
    sql__dec_from_u64(&x, UINT64_MAX);
    eq(&x, "18446744073709551615");
    sql__dec_from_double(&x, 0.1);
    eq(&x, "0.1");
    sql__dec_from_double(&x, -1.25e-5);
    eq(&x, "-0.0000125");
    sql__dec_from_double(&x, 1e20);
    eq(&x, "100000000000000000000");
    x = D("0.1");
    assert_true(sql__dec_to_double(&x) == 0.1);
    x = D("2.5");
    sql__dec_rescale(&x, 3, &x);
    eq(&x, "2.500");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_print),
        cmocka_unit_test(test_add_sub_mul),
        cmocka_unit_test(test_div),
        cmocka_unit_test(test_round),
        cmocka_unit_test(test_cmp_convert),
    };
    return cmocka_run_group_tests_name("libsql/decimal", tests, NULL, NULL);
}

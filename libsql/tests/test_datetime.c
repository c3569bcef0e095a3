/* test_datetime.c: DATE/DATETIME/TIME parsing as MySQL reads them
 * (delimited, packed, two-digit years, 'T', fractions rounded, junk),
 * TIME ranges, numbers as temporals, day numbers and weekdays, printing,
 * rounding to fsp. See DESIGN.md, "Values and types".
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
#include "value.h"

static void dt(const char *in, int want_rc, const char *want)
{
    struct sql_time t;
    int fsp = 0;
    int rc = sql__time_parse_datetime(in, strlen(in), &t, &fsp);
    if (rc != want_rc) {
        print_error("%s: rc %d, want %d\n", in, rc, want_rc);
        fail();
    }
    if (want == NULL)
        return;
    char buf[32];
    sql__time_print(&t, SQL_VT_DATETIME, fsp, buf);
    if (strcmp(buf, want) != 0) {
        print_error("%s: got %s, want %s\n", in, buf, want);
        fail();
    }
}

static void tm(const char *in, int want_rc, const char *want)
{
    struct sql_time t;
    int fsp = 0;
    int rc = sql__time_parse_time(in, strlen(in), &t, &fsp);
    if (rc != want_rc) {
        print_error("%s: rc %d, want %d\n", in, rc, want_rc);
        fail();
    }
    if (want == NULL)
        return;
    char buf[32];
    sql__time_print(&t, SQL_VT_TIME, fsp, buf);
    if (strcmp(buf, want) != 0) {
        print_error("%s: got %s, want %s\n", in, buf, want);
        fail();
    }
}

static void test_parse_datetime(void **state)
{
    (void)state;
    dt("2024-02-29 13:45:06", 0, "2024-02-29 13:45:06");
    dt("2024-2-9 3:4:5", 0, "2024-02-09 03:04:05");
    dt("2024/02/29", 0, "2024-02-29 00:00:00");
    dt("2024-02-29T13:45:06", 0, "2024-02-29 13:45:06");
    dt("24-02-29", 0, "2024-02-29 00:00:00");
    dt("70-01-01", 0, "1970-01-01 00:00:00");
    dt("69-12-31", 0, "2069-12-31 00:00:00");
    dt("20240229", 0, "2024-02-29 00:00:00");
    dt("240229", 0, "2024-02-29 00:00:00");
    dt("20240229134506", 0, "2024-02-29 13:45:06");
    dt("240229134506", 0, "2024-02-29 13:45:06");
    dt("2024-02-29 13:45:06.5", 0, "2024-02-29 13:45:06.5");
    dt("2024-02-29 13:45:06.123456", 0, "2024-02-29 13:45:06.123456");
    dt("2024-12-31 23:59:59.9999995", 0, "2025-01-01 00:00:00.000000");
    dt("  2024-02-29  ", 0, "2024-02-29 00:00:00");
    dt("0000-00-00", 0, "0000-00-00 00:00:00");
    dt("2024-00-00", 0, "2024-00-00 00:00:00");
    dt("2024-02-29 junk", SQL_TIME_TRUNC, "2024-02-29 00:00:00");
    dt("2023-02-29", SQL_TIME_BAD, NULL);
    dt("2024-13-01", SQL_TIME_BAD, NULL);
    dt("2024-01-32", SQL_TIME_BAD, NULL);
    dt("2024-01-01 24:00:00", SQL_TIME_BAD, NULL);
    dt("abc", SQL_TIME_BAD, NULL);
    dt("", SQL_TIME_BAD, NULL);
    dt("12", SQL_TIME_BAD, NULL);
}

static void test_parse_time(void **state)
{
    (void)state;
    tm("12:34:56", 0, "12:34:56");
    tm("-12:34:56", 0, "-12:34:56");
    tm("838:59:59", 0, "838:59:59");
    tm("839:00:00", SQL_TIME_TRUNC, "838:59:59");
    tm("-900:00:00", SQL_TIME_TRUNC, "-838:59:59");
    tm("1 02:03:04", 0, "26:03:04");
    tm("12:34", 0, "12:34:00");
    tm("123456", 0, "12:34:56");
    tm("3456", 0, "00:34:56");
    tm("56", 0, "00:00:56");
    tm("12:34:56.789", 0, "12:34:56.789");
    tm("2024-02-29 13:45:06", 0, "13:45:06");
    tm("12:60:00", SQL_TIME_BAD, NULL);
    tm("x", SQL_TIME_BAD, NULL);
    tm("-00:00:00", 0, "00:00:00");
}

static void test_numbers(void **state)
{
    (void)state;
    struct sql_time t;
    char buf[32];
    assert_int_equal(sql__time_from_num_datetime(20240229, 0, &t), 0);
    sql__time_print(&t, SQL_VT_DATE, 0, buf);
    assert_string_equal(buf, "2024-02-29");
    assert_int_equal(sql__time_from_num_datetime(240229, 0, &t), 0);
    sql__time_print(&t, SQL_VT_DATE, 0, buf);
    assert_string_equal(buf, "2024-02-29");
    assert_int_equal(sql__time_from_num_datetime(991231, 0, &t), 0);
    assert_int_equal(t.year, 1999);
    assert_int_equal(sql__time_from_num_datetime(20240229134506LL, 0, &t),
                     0);
    sql__time_print(&t, SQL_VT_DATETIME, 0, buf);
    assert_string_equal(buf, "2024-02-29 13:45:06");
    assert_int_equal(sql__time_from_num_datetime(0, 0, &t), 0);
    assert_true(sql__date_is_zero(&t));
    assert_int_equal(sql__time_from_num_datetime(20230229, 0, &t),
                     SQL_TIME_BAD);
    assert_int_equal(sql__time_from_num_datetime(-1, 0, &t), SQL_TIME_BAD);
    assert_int_equal(sql__time_from_num_datetime(99, 0, &t), SQL_TIME_BAD);
    assert_int_equal(sql__time_from_num_time(123456, 0, &t), 0);
    sql__time_print(&t, SQL_VT_TIME, 0, buf);
    assert_string_equal(buf, "12:34:56");
    assert_int_equal(sql__time_from_num_time(-3000, 0, &t), 0);
    sql__time_print(&t, SQL_VT_TIME, 0, buf);
    assert_string_equal(buf, "-00:30:00");
    assert_int_equal(sql__time_from_num_time(8390000, 0, &t),
                     SQL_TIME_TRUNC);
    assert_int_equal(sql__time_from_num_time(6070, 0, &t), SQL_TIME_BAD);
    assert_int_equal(sql__time_to_int(&t, SQL_VT_TIME), 0);
}

static void test_days(void **state)
{
    (void)state;
    assert_int_equal(sql__days_from_ymd(1970, 1, 1), 719528);
    assert_int_equal(sql__days_from_ymd(2007, 10, 7), 733321);
    assert_int_equal(sql__days_from_ymd(1, 1, 1), 366);
    int64_t y, m, d;
    for (int64_t n = 366; n < 3652425; n += 997) {
        sql__ymd_from_days(n, &y, &m, &d);
        assert_int_equal(sql__days_from_ymd(y, m, d), n);
    }
    sql__ymd_from_days(730669, &y, &m, &d);
    assert_int_equal(y, 2000);
    assert_int_equal(m, 7);
    assert_int_equal(d, 3);
    assert_int_equal(sql__weekday(sql__days_from_ymd(2024, 2, 29)), 3);
    assert_int_equal(sql__days_in_month(2024, 2), 29);
    assert_int_equal(sql__days_in_month(1900, 2), 28);
    assert_int_equal(sql__days_in_month(2000, 2), 29);
    assert_int_equal(sql__days_in_month(2023, 13), 0);
}

static void test_us_round(void **state)
{
    (void)state;
    struct sql_time t = {false, 2024, 2, 29, 23, 59, 59, 999999};
    int64_t us = sql__time_to_us(&t, SQL_VT_DATETIME);
    struct sql_time back;
    assert_int_equal(sql__time_from_us(us, SQL_VT_DATETIME, &back), 0);
    /* Field by field: the padding is not part of the value. */
    assert_false(back.negative);
    assert_int_equal(back.year, 2024);
    assert_int_equal(back.month, 2);
    assert_int_equal(back.day, 29);
    assert_int_equal(back.hour, 23);
    assert_int_equal(back.minute, 59);
    assert_int_equal(back.second, 59);
    assert_int_equal(back.micro, 999999);
    assert_int_equal(sql__time_from_us(-1, SQL_VT_DATETIME, &back),
                     SQL_TIME_BAD);
    sql__time_round(&t, SQL_VT_DATETIME, 3);
    char buf[32];
    sql__time_print(&t, SQL_VT_DATETIME, 3, buf);
    assert_string_equal(buf, "2024-03-01 00:00:00.000");
    struct sql_time x = {true, 0, 0, 0, 1, 2, 3, 500000};
    sql__time_round(&x, SQL_VT_TIME, 0);
    sql__time_print(&x, SQL_VT_TIME, 0, buf);
    assert_string_equal(buf, "-01:02:04");
    assert_int_equal(sql__time_to_int(&x, SQL_VT_TIME), -10204);
    struct sql_time dd = {false, 2024, 1, 5, 0, 0, 0, 0};
    assert_int_equal(sql__time_to_int(&dd, SQL_VT_DATE), 20240105);
    assert_true(sql__date_valid(&dd));
    dd.day = 0;
    assert_false(sql__date_valid(&dd));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_datetime),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_us_round),
    };
    return cmocka_run_group_tests_name("libsql/datetime", tests, NULL, NULL);
}

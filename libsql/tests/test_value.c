/* test_value.c: datums: static type -> class, comparison under the three
 * collations and across classes, the text MySQL sends for each class
 * (doubles, decimals, temporals, zerofill, BIT) and the binary-protocol
 * values, the error record. See DESIGN.md, "Values and types".
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
#include "value.h"

static void check_double(double v, bool is_float, const char *want)
{
    char buf[32];
    sql__double_text(v, is_float, buf);
    if (strcmp(buf, want) != 0) {
        print_error("%.17g: got %s, want %s\n", v, buf, want);
        fail();
    }
}

static void test_double_text(void **state)
{
    (void)state;
    check_double(0, false, "0");
    check_double(-0.0, false, "0");
    check_double(1, false, "1");
    check_double(-1.5, false, "-1.5");
    check_double(0.1, false, "0.1");
    check_double(0.1 + 0.2, false, "0.30000000000000004");
    check_double(1.0 / 3, false, "0.3333333333333333");
    check_double(1e14, false, "100000000000000");
    check_double(1e15, false, "1e15");
    check_double(123456789012345678.0, false, "1.2345678901234568e17");
    check_double(0.0001, false, "0.0001");
    /* Plain down to 1e-15, as MariaDB's CONCAT/CAST AS CHAR show it (and
     * as the wire does): */
    check_double(0.00001, false, "0.00001");
    check_double(-1.5e-7, false, "-0.00000015");
    check_double(1.5e-15, false, "0.0000000000000015");
    check_double(1.5e-16, false, "1.5e-16");
    check_double(1.5e-7, true, "0.00000015");
    check_double(1.7976931348623157e308, false, "1.7976931348623157e308");
    check_double(3.14159265, true, "3.14159");
    check_double(1234567, true, "1234570");
    check_double(0.5, true, "0.5");
}

static int cmp(const struct sql_datum *a, const struct sql_datum *b,
               uint16_t coll)
{
    int c = 99;
    assert_int_equal(sql__datum_cmp(a, b, coll, &c, NULL), 0);
    return c;
}

static int scmp(const char *a, const char *b, uint16_t coll)
{
    struct sql_datum x, y;
    sql__datum_str(&x, a, strlen(a), coll);
    sql__datum_str(&y, b, strlen(b), coll);
    return cmp(&x, &y, coll);
}

static void test_collations(void **state)
{
    (void)state;
    const uint16_t ci = SQL_COLL_UTF8MB4_GENERAL_CI;
    const uint16_t bin = SQL_COLL_UTF8MB4_BIN;
    const uint16_t raw = SQL_COLL_BINARY;
    assert_int_equal(scmp("a", "A", ci), 0);
    assert_int_equal(scmp("a", "A", bin), 1);
    assert_int_equal(scmp("a", "A", raw), 1);
    assert_int_equal(scmp("a ", "a", ci), 0);
    assert_int_equal(scmp("a ", "a", bin), 0);
    assert_int_equal(scmp("a ", "a", raw), 1);
    assert_int_equal(scmp("a\t", "a", ci), -1); /* PAD SPACE: tab < space */
    assert_int_equal(scmp("a", "a\t", bin), 1);
    assert_int_equal(scmp("é", "E", ci), 0);
    assert_int_equal(scmp("ß", "s", ci), 0);
    assert_int_equal(scmp("Ω", "ω", ci), 0);
    assert_int_equal(scmp("Ж", "ж", ci), 0);
    assert_int_equal(scmp("😀", "😁", ci), 0); /* general_ci: one weight */
    assert_int_equal(scmp("😀", "😁", bin), -1);
    assert_int_equal(scmp("abc", "abd", ci), -1);
    assert_int_equal(scmp("", "", ci), 0);
    assert_int_equal(scmp("b", "A", ci), 1);
    assert_int_equal(sql__coll_by_name("utf8mb4_bin"), bin);
    assert_int_equal(sql__coll_by_name("UTF8MB4_GENERAL_CI"), ci);
    assert_int_equal(sql__coll_by_name("latin1_swedish_ci"), 0);
    assert_string_equal(sql__coll_name(raw), "binary");
    assert_int_equal(sql__str_charlen(ci, "héllo", 6), 5);
    assert_int_equal(sql__str_charlen(raw, "héllo", 6), 6);
    assert_int_equal(sql__str_charpos(ci, "héllo", 6, 2), 3);
}

static void test_cmp_classes(void **state)
{
    (void)state;
    struct sql_datum i, u, d, s, x, t, dt;
    sql__datum_int(&i, -1);
    sql__datum_uint(&u, UINT64_MAX);
    assert_int_equal(cmp(&i, &u, 0), -1);
    assert_int_equal(cmp(&u, &i, 0), 1);
    sql__datum_double(&d, 1.5);
    sql__datum_str(&s, "1.5", 3, SQL_COLL_UTF8MB4_GENERAL_CI);
    assert_int_equal(cmp(&d, &s, 0), 0);
    memset(&x, 0, sizeof x);
    x.vt = SQL_VT_DECIMAL;
    sql__dec_parse("1.50", 4, &x.v.dec, NULL);
    assert_int_equal(cmp(&x, &d, 0), 0);
    sql__datum_int(&i, 2);
    assert_int_equal(cmp(&x, &i, 0), -1);
    /* 9007199254740993 is not a double: exact against DECIMAL. */
    sql__datum_int(&i, 9007199254740993LL);
    sql__dec_parse("9007199254740992", 16, &x.v.dec, NULL);
    assert_int_equal(cmp(&i, &x, 0), 1);
    memset(&t, 0, sizeof t);
    t.vt = SQL_VT_DATE;
    t.v.t = (struct sql_time){false, 2024, 1, 5, 0, 0, 0, 0};
    sql__datum_str(&s, "2024-01-05", 10, SQL_COLL_UTF8MB4_GENERAL_CI);
    assert_int_equal(cmp(&t, &s, 0), 0);
    sql__datum_str(&s, "2024-1-6", 8, SQL_COLL_UTF8MB4_GENERAL_CI);
    assert_int_equal(cmp(&t, &s, 0), -1);
    /* Not a date: the zero date (MariaDB and MySQL), no arena needed. */
    sql__datum_str(&s, "zzz", 3, SQL_COLL_UTF8MB4_GENERAL_CI);
    assert_int_equal(cmp(&t, &s, 0), 1);
    assert_int_equal(cmp(&s, &t, 0), -1);
    dt = t;
    dt.vt = SQL_VT_DATETIME;
    dt.v.t.hour = 1;
    assert_int_equal(cmp(&t, &dt, 0), -1);
    sql__datum_int(&i, 20240105);
    assert_int_equal(cmp(&t, &i, 0), 0);
    struct sql_datum tm1, tm2;
    memset(&tm1, 0, sizeof tm1);
    tm1.vt = SQL_VT_TIME;
    tm1.v.t.hour = 100;
    tm2 = tm1;
    tm2.v.t.negative = true;
    assert_int_equal(cmp(&tm2, &tm1, 0), -1);
}

static void check_text(const struct sql_datum *d, const struct sql_ftype *t,
                       const char *want)
{
    struct sql_arena *a = sql__arena_create(0);
    const char *p;
    size_t n;
    assert_int_equal(sql__datum_text(d, t, a, &p, &n), 0);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(p, want, n);
    sql__arena_destroy(a);
}

static void test_text(void **state)
{
    (void)state;
    struct sql_datum d;
    struct sql_ftype t;
    memset(&t, 0, sizeof t);
    t.dec = -1;
    sql__datum_int(&d, -42);
    check_text(&d, NULL, "-42");
    t.tp = SQL_TYPE_LONG;
    t.flags = SQL_COLFLAG_ZEROFILL | SQL_COLFLAG_UNSIGNED;
    t.len = 5;
    sql__datum_uint(&d, 42);
    check_text(&d, &t, "00042");
    memset(&t, 0, sizeof t);
    t.tp = SQL_TYPE_BIT;
    t.len = 10;
    sql__datum_uint(&d, 0x141);
    check_text(&d, &t, "\x01\x41");
    memset(&d, 0, sizeof d);
    d.vt = SQL_VT_DECIMAL;
    sql__dec_parse("3.1", 3, &d.v.dec, NULL);
    check_text(&d, NULL, "3.1");
    memset(&t, 0, sizeof t);
    t.tp = SQL_TYPE_NEWDECIMAL;
    t.dec = 3;
    check_text(&d, &t, "3.100");
    sql__datum_double(&d, 2.5);
    memset(&t, 0, sizeof t);
    t.tp = SQL_TYPE_DOUBLE;
    t.dec = 2;
    check_text(&d, &t, "2.50");
    t.dec = 31;
    check_text(&d, &t, "2.5");
    memset(&d, 0, sizeof d);
    d.vt = SQL_VT_DATETIME;
    d.v.t = (struct sql_time){false, 2024, 2, 29, 1, 2, 3, 450000};
    check_text(&d, NULL, "2024-02-29 01:02:03");
    d.fsp = 2;
    check_text(&d, NULL, "2024-02-29 01:02:03.45");
    memset(&t, 0, sizeof t);
    t.tp = SQL_TYPE_DATETIME;
    t.dec = 6;
    check_text(&d, &t, "2024-02-29 01:02:03.450000");
    d.vt = SQL_VT_DATE;
    check_text(&d, NULL, "2024-02-29");
    memset(&d, 0, sizeof d);
    d.vt = SQL_VT_TIME;
    d.v.t = (struct sql_time){true, 0, 0, 0, 838, 59, 59, 0};
    check_text(&d, NULL, "-838:59:59");
    sql__datum_str(&d, "x y", 3, SQL_COLL_UTF8MB4_BIN);
    check_text(&d, NULL, "x y");
}

static void test_to_value(void **state)
{
    (void)state;
    struct sql_arena *a = sql__arena_create(0);
    struct sql_datum d;
    struct sql_value v;
    sql__datum_null(&d);
    assert_int_equal(sql__datum_to_value(&d, NULL, a, &v), 0);
    assert_int_equal(v.kind, SQL_VALUE_NULL);
    sql__datum_int(&d, -3);
    sql__datum_to_value(&d, NULL, a, &v);
    assert_int_equal(v.kind, SQL_VALUE_INT);
    assert_int_equal(v.v.i, -3);
    sql__datum_uint(&d, 7);
    sql__datum_to_value(&d, NULL, a, &v);
    assert_int_equal(v.kind, SQL_VALUE_UINT);
    sql__datum_double(&d, 0.1);
    struct sql_ftype ft = {.tp = SQL_TYPE_FLOAT};
    sql__datum_to_value(&d, &ft, a, &v);
    assert_int_equal(v.kind, SQL_VALUE_DOUBLE);
    assert_true(v.v.d == (double)0.1f);
    memset(&d, 0, sizeof d);
    d.vt = SQL_VT_DECIMAL;
    sql__dec_parse("-0.50", 5, &d.v.dec, NULL);
    sql__datum_to_value(&d, NULL, a, &v);
    assert_int_equal(v.kind, SQL_VALUE_BYTES);
    assert_int_equal(v.v.s.len, 5);
    assert_memory_equal(v.v.s.p, "-0.50", 5);
    memset(&d, 0, sizeof d);
    d.vt = SQL_VT_TIME;
    d.v.t.hour = 30;
    sql__datum_to_value(&d, NULL, a, &v);
    assert_int_equal(v.kind, SQL_VALUE_TIME);
    assert_int_equal(v.v.t.hour, 30);
    d.vt = SQL_VT_DATE;
    d.v.t = (struct sql_time){false, 2020, 1, 2, 0, 0, 0, 0};
    sql__datum_to_value(&d, NULL, a, &v);
    assert_int_equal(v.kind, SQL_VALUE_DATETIME);
    assert_int_equal(v.v.t.year, 2020);
    sql__arena_destroy(a);
}

static void test_ftype_vt(void **state)
{
    (void)state;
    struct sql_ftype t = {0};
    const struct
    {
        uint8_t tp;     /* type */
        uint16_t flags; /* flags */
        int vt;         /* class */
    } cases[] = {
        {SQL_TYPE_TINY, 0, SQL_VT_INT},
        {SQL_TYPE_LONGLONG, SQL_COLFLAG_UNSIGNED, SQL_VT_UINT},
        {SQL_TYPE_YEAR, 0, SQL_VT_INT},
        {SQL_TYPE_BIT, 0, SQL_VT_UINT},
        {SQL_TYPE_FLOAT, 0, SQL_VT_DOUBLE},
        {SQL_TYPE_NEWDECIMAL, 0, SQL_VT_DECIMAL},
        {SQL_TYPE_VARCHAR, 0, SQL_VT_STRING},
        {SQL_TYPE_BLOB, 0, SQL_VT_STRING},
        {SQL_TYPE_ENUM, 0, SQL_VT_STRING},
        {SQL_TYPE_DATE, 0, SQL_VT_DATE},
        {SQL_TYPE_TIMESTAMP, 0, SQL_VT_DATETIME},
        {SQL_TYPE_DATETIME, 0, SQL_VT_DATETIME},
        {SQL_TYPE_TIME, 0, SQL_VT_TIME},
        {SQL_TYPE_NULL, 0, SQL_VT_NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t.tp = cases[i].tp;
        t.flags = cases[i].flags;
        assert_int_equal(sql__ftype_vt(&t), cases[i].vt);
    }
}

static void test_err(void **state)
{
    (void)state;
    struct sql_err e;
    assert_int_equal(sql__err(&e, 1146, "42S02",
                              "Table '%s.%s' doesn't exist", "db", "t"),
                     SQL_EQUERY);
    assert_int_equal(e.code, 1146);
    assert_string_equal(e.state, "42S02");
    assert_string_equal(e.msg, "Table 'db.t' doesn't exist");
    assert_int_equal(sql__err(NULL, 1, "HY000", "x"), SQL_EQUERY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_text),
        cmocka_unit_test(test_collations),
        cmocka_unit_test(test_cmp_classes),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_to_value),
        cmocka_unit_test(test_ftype_vt),
        cmocka_unit_test(test_err),
    };
    return cmocka_run_group_tests_name("libsql/value", tests, NULL, NULL);
}

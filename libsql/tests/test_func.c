/* test_func.c: the native functions, each evaluated as MySQL would:
 * string (CONCAT .. FORMAT), numeric (ABS .. RAND with a seed), date and
 * time (NOW from the statement time, parts, WEEK modes, DATE_FORMAT,
 * STR_TO_DATE, DATE_ADD with every unit, diffs, Unix time), CAST/CONVERT
 * and the information functions. Values, types and warnings are exact.
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

/* ---- a fixed row: a INT 5, b VARCHAR 'abc' (general_ci), c INT NULL,
 * d DECIMAL(10,2) 12.50, u BIGINT UNSIGNED max, f DOUBLE 1.5,
 * dt DATETIME 2024-02-29 13:45:00, s2 VARCHAR 'ABC' utf8mb4_bin ---- */

static const char *const colnames[] = {"a", "b", "c", "d", "u", "f", "dt",
                                       "s2"};
#define NCOLS 8
static struct sql_datum row[NCOLS];
static struct sql_ftype types[NCOLS];

static void setup_row(void)
{
    memset(row, 0, sizeof row);
    memset(types, 0, sizeof types);
    sql__datum_int(&row[0], 5);
    types[0] = (struct sql_ftype){.tp = SQL_TYPE_LONG, .len = 11, .dec = 0,
                                  .coll = SQL_COLL_BINARY};
    sql__datum_str(&row[1], "abc", 3, SQL_COLL_UTF8MB4_GENERAL_CI);
    types[1] = (struct sql_ftype){.tp = SQL_TYPE_VAR_STRING, .len = 20,
                                  .dec = 0,
                                  .coll = SQL_COLL_UTF8MB4_GENERAL_CI};
    sql__datum_null(&row[2]);
    types[2] = types[0];
    row[3].vt = SQL_VT_DECIMAL;
    sql__dec_parse("12.50", 5, &row[3].v.dec, NULL);
    types[3] = (struct sql_ftype){.tp = SQL_TYPE_NEWDECIMAL, .len = 10,
                                  .dec = 2, .coll = SQL_COLL_BINARY};
    sql__datum_uint(&row[4], UINT64_MAX);
    types[4] = (struct sql_ftype){.tp = SQL_TYPE_LONGLONG, .len = 20,
                                  .flags = SQL_COLFLAG_UNSIGNED,
                                  .coll = SQL_COLL_BINARY};
    sql__datum_double(&row[5], 1.5);
    types[5] = (struct sql_ftype){.tp = SQL_TYPE_DOUBLE, .len = 22,
                                  .dec = 31, .coll = SQL_COLL_BINARY};
    row[6].vt = SQL_VT_DATETIME;
    row[6].v.t = (struct sql_time){false, 2024, 2, 29, 13, 45, 0, 0};
    types[6] = (struct sql_ftype){.tp = SQL_TYPE_DATETIME, .len = 19,
                                  .coll = SQL_COLL_BINARY};
    sql__datum_str(&row[7], "ABC", 3, SQL_COLL_UTF8MB4_BIN);
    types[7] = (struct sql_ftype){.tp = SQL_TYPE_VAR_STRING, .len = 20,
                                  .coll = SQL_COLL_UTF8MB4_BIN};
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

/* ---- warnings and variables ---- */

struct warning
{
    char level[8];  /* Warning / Note */
    uint16_t code;  /* MySQL code */
    char msg[256];  /* text */
};
static struct warning warns[16];
static int nwarns;

static void on_warn(void *ctx, const char *level, uint16_t code,
                    const char *msg)
{
    (void)ctx;
    if (nwarns < 16) {
        snprintf(warns[nwarns].level, sizeof warns[0].level, "%s", level);
        warns[nwarns].code = code;
        snprintf(warns[nwarns].msg, sizeof warns[0].msg, "%s", msg);
    }
    nwarns++;
}

static struct sql_datum uvar; /* @v */
static bool uvar_set;

static int uv_get(void *ctx, const char *name, struct sql_datum *out,
                  struct sql_arena *a)
{
    (void)ctx;
    (void)a;
    if (strcmp(name, "v") == 0 && uvar_set)
        *out = uvar;
    else
        sql__datum_null(out);
    return 0;
}

static int uv_set(void *ctx, const char *name, const struct sql_datum *v)
{
    (void)ctx;
    if (strcmp(name, "v") != 0)
        return 0;
    uvar = *v;
    uvar_set = true;
    return 0;
}

static struct sql_datum params[2];

#define DEFAULT_MODE                                                     \
    (SQL_MODE_STRICT_TRANS_TABLES | SQL_MODE_ERROR_FOR_DIVISION_BY_ZERO | \
     SQL_MODE_NO_ZERO_DATE | SQL_MODE_NO_ZERO_IN_DATE |                   \
     SQL_MODE_ONLY_FULL_GROUP_BY | SQL_MODE_NO_ENGINE_SUBSTITUTION)

/* Evaluate `expr` (as the select list of SELECT expr); text gets "NULL" or
 * the value's text. Returns the rc of compile or eval. */
static int run(const char *expr, uint32_t mode, char *text, size_t cap,
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
    struct sql_expr_scope scope = {NULL, col_cb, NULL, false, "test"};
    struct sql_expr *e;
    struct sql_ftype t;
    memset(err, 0, sizeof *err);
    rc = sql__expr_compile(a, pr.stmt->select->items->expr, &scope, &e, &t,
                           err);
    if (rc == 0) {
        struct sql_eval_env env = {0};
        env.sql_mode = mode;
        env.now_us = 1700000000LL * 1000000; /* 2023-11-14 22:13:20 UTC */
        env.warn = on_warn;
        env.uservar_get = uv_get;
        env.uservar_set = uv_set;
        env.params = params;
        env.nparams = 2;
        struct sql_eval ev = {&env, a, err};
        struct sql_datum out;
        nwarns = 0;
        rc = sql__expr_eval(e, &ev, row, &out);
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

static void check_mode(const char *expr, uint32_t mode, const char *want)
{
    char got[256];
    struct sql_err err;
    int rc = run(expr, mode, got, sizeof got, &err, NULL);
    if (rc != 0) {
        print_error("%s: error %d %s\n", expr, err.code, err.msg);
        fail();
    }
    if (strcmp(got, want) != 0) {
        print_error("%s: got '%s', want '%s'\n", expr, got, want);
        fail();
    }
}

static void check(const char *expr, const char *want)
{
    check_mode(expr, DEFAULT_MODE, want);
}

static void check_err(const char *expr, uint16_t code, const char *msg)
{
    char got[256];
    struct sql_err err;
    int rc = run(expr, DEFAULT_MODE, got, sizeof got, &err, NULL);
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

static void check_warning(int i, uint16_t code, const char *msg)
{
    assert_true(nwarns > i);
    assert_int_equal(warns[i].code, code);
    assert_string_equal(warns[i].msg, msg);
}

static void check_type(const char *expr, uint8_t tp, int8_t dec)
{
    char got[256];
    struct sql_err err;
    struct sql_ftype t;
    assert_int_equal(run(expr, DEFAULT_MODE, got, sizeof got, &err, &t), 0);
    if (t.tp != tp || t.dec != dec) {
        print_error("%s: type %u dec %d, want %u dec %d\n", expr, t.tp,
                    t.dec, tp, dec);
        fail();
    }
}


static void test_string(void **state)
{
    (void)state;
    check("CONCAT('a', 1, 2.50)", "a12.50");
    check("CONCAT('a', NULL)", "NULL");
    check("CONCAT_WS(',', 'a', NULL, 'b')", "a,b");
    check("CONCAT_WS(NULL, 'a')", "NULL");
    check("LENGTH('héllo')", "6");
    check("CHAR_LENGTH('héllo')", "5");
    check("BIT_LENGTH('ab')", "16");
    check("LENGTH(NULL)", "NULL");
    check("UPPER('héllo')", "HÉLLO");
    check("LOWER('ÀBC')", "àbc");
    check("UCASE(b)", "ABC");
    check("SUBSTRING('Quadratically', 5)", "ratically");
    check("SUBSTRING('Quadratically', 5, 6)", "ratica");
    check("SUBSTRING('Sakila', -3)", "ila");
    check("SUBSTRING('Sakila', -5, 3)", "aki");
    check("SUBSTRING('Sakila', 0)", "");
    check("SUBSTRING('Sakila', 10)", "");
    check("SUBSTR('héllo', 2, 2)", "él");
    check("MID('abcdef', 2, 3)", "bcd");
    check("LEFT('foobarbar', 5)", "fooba");
    check("RIGHT('foobarbar', 4)", "rbar");
    check("LEFT('abc', -1)", "");
    check("LEFT('abc', 10)", "abc");
    check("TRIM('  bar   ')", "bar");
    check("TRIM(LEADING 'x' FROM 'xxxbarxxx')", "barxxx");
    check("TRIM(BOTH 'x' FROM 'xxxbarxxx')", "bar");
    check("TRIM(TRAILING 'xyz' FROM 'barxxyz')", "barx");
    check("LTRIM('  barbar')", "barbar");
    check("RTRIM('barbar   ')", "barbar");
    check("REPLACE('www.mysql.com', 'w', 'Ww')", "WwWwWw.mysql.com");
    check("REPLACE('aAa', 'a', 'b')", "bAb");
    check("LOCATE('bar', 'foobarbar')", "4");
    check("LOCATE('xbar', 'foobar')", "0");
    check("LOCATE('bar', 'foobarbar', 5)", "7");
    check("LOCATE('BAR', 'foobar')", "4");
    check("POSITION('bar' IN 'foobarbar')", "4");
    check("INSTR('foobarbar', 'bar')", "4");
    check("INSTR('héllo', 'l')", "3");
    check("LOCATE('', 'abc')", "1");
    check("LPAD('hi', 4, '?!')", "?!hi");
    check("LPAD('hi', 1, '?!')", "h");
    check("RPAD('hi', 5, 'ab')", "hiaba");
    check("LPAD('hi', 5, '')", "NULL");
    check("LPAD('hi', -1, 'x')", "NULL");
    check("RPAD('é', 4, 'àb')", "éàbà");
    check("LPAD('é', 4, 'àb')", "àbàé");
    check("LPAD('x', 67108865, 'ab')", "NULL");
    check_warning(0, 1301,
                  "Result of lpad() was larger than max_allowed_packet "
                  "(67108864) - truncated");
    check("REPEAT('ab', 3)", "ababab");
    check("REPEAT('ab', 0)", "");
    check("SPACE(3)", "   ");
    check("REVERSE('héllo')", "olléh");
    check("HEX('abc')", "616263");
    check("HEX(255)", "FF");
    check("HEX(-1)", "FFFFFFFFFFFFFFFF");
    check("UNHEX('4D7953514C')", "MySQL");
    check("UNHEX('GG')", "NULL");
    check("ASCII('2')", "50");
    check("ASCII('')", "0");
    check("ORD('é')", "50089");
    check("CHAR(77, 121, 83, 81, 76)", "MySQL");
    check("CHAR(NULL, 65)", "A");
    check("STRCMP('text', 'text2')", "-1");
    check("STRCMP('text2', 'text')", "1");
    check("STRCMP('text', 'TEXT')", "0");
    check("INSERT('Quadratic', 3, 4, 'What')", "QuWhattic");
    check("INSERT('Quadratic', -1, 4, 'What')", "Quadratic");
    check("INSERT('Quadratic', 3, 100, 'What')", "QuWhat");
    check("FIELD('Bb', 'Aa', 'Bb', 'Cc')", "2");
    check("FIELD('Gg', 'Aa', 'Bb')", "0");
    check("ELT(2, 'Aa', 'Bb', 'Cc')", "Bb");
    check("ELT(4, 'Aa', 'Bb', 'Cc')", "NULL");
    check("SUBSTRING_INDEX('www.mysql.com', '.', 2)", "www.mysql");
    check("SUBSTRING_INDEX('www.mysql.com', '.', -2)", "mysql.com");
    check("SUBSTRING_INDEX('www.mysql.com', '.', 0)", "");
    check("FIND_IN_SET('b', 'a,b,c,d')", "2");
    check("FIND_IN_SET('z', 'a,b,c,d')", "0");
    check("QUOTE('Don''t!')", "'Don\\'t!'");
    check("QUOTE(NULL)", "NULL");
    check("FORMAT(12332.123456, 4)", "12,332.1235");
    check("FORMAT(12332.1, 4)", "12,332.1000");
    check("FORMAT(12332.2, 0)", "12,332");
    check("FORMAT(-1234567.891, 2)", "-1,234,567.89");
    check("CONCAT(1.5e0, 'x')", "1.5x");
    check("CONCAT(dt, '')", "2024-02-29 13:45:00");
}

static void test_math(void **state)
{
    (void)state;
    check("ABS(-5)", "5");
    check("ABS(-5.25)", "5.25");
    check("ABS(-1.5e0)", "1.5");
    check("ABS(u)", "18446744073709551615");
    check_err("ABS(-9223372036854775808)", 1690,
              "BIGINT value is out of range in 'ABS(-9223372036854775808)'");
    check("SIGN(-32)", "-1");
    check("SIGN(0)", "0");
    check("SIGN(234.5)", "1");
    check("CEIL(1.23)", "2");
    check("CEILING(-1.23)", "-1");
    check("FLOOR(1.23)", "1");
    check("FLOOR(-1.23)", "-2");
    check("FLOOR(1.5e0)", "1");
    check("CEIL(5)", "5");
    check("ROUND(-1.23)", "-1");
    check("ROUND(-1.58)", "-2");
    check("ROUND(1.58)", "2");
    check("ROUND(1.298, 1)", "1.3");
    check("ROUND(1.298, 0)", "1");
    check("ROUND(23.298, -1)", "20");
    check("ROUND(2.5)", "3");
    check("ROUND(-2.5)", "-3");
    check("ROUND(25E-1)", "2");
    check("ROUND(125, -1)", "130");
    check("ROUND(1.5, 3)", "1.500");
    check("ROUND(d, 1)", "12.5");
    check("TRUNCATE(1.223, 1)", "1.2");
    check("TRUNCATE(1.999, 1)", "1.9");
    check("TRUNCATE(1.999, 0)", "1");
    check("TRUNCATE(-1.999, 1)", "-1.9");
    check("TRUNCATE(122, -2)", "100");
    check("MOD(234, 10)", "4");
    check("MOD(29, 9)", "2");
    check("MOD(34.5, 3)", "1.5");
    check("MOD(5, 0)", "NULL");
    check("POW(2, 2)", "4");
    check("POWER(2, -2)", "0.25");
    check("SQRT(4)", "2");
    check("SQRT(20)", "4.47213595499958");
    check("SQRT(-16)", "NULL");
    check("EXP(0)", "1");
    check("LN(1)", "0");
    check("LN(-1)", "NULL");
    check_warning(0, 3020, "Invalid argument for logarithm");
    check("LOG(2, 65536)", "16");
    check("LOG2(65536)", "16");
    check("LOG10(100)", "2");
    check("PI()", "3.141593");
    check("DEGREES(PI())", "180");
    check("COS(0)", "1");
    check("ATAN(-2, 2)", "-0.7853981633974483");
    check_err("POW(10, 400)", 1690,
              "DOUBLE value is out of range in 'POW(10, 400)'");
    check_err("EXP(1000)", 1690,
              "DOUBLE value is out of range in 'EXP(1000)'");
    /* MySQL's generator: RAND(seed) gives MySQL's numbers. */
    check("RAND(3)", "0.9057697559760601");
    check("RAND(0)", "0.15522042769493574");
    check("GREATEST(2, 0)", "2");
    check("GREATEST(34.0, 3.0, 5.0, 767.0)", "767.0");
    check("GREATEST('B', 'A', 'C')", "C");
    check("LEAST(2, 0)", "0");
    check("LEAST(34.0, 3.0, 5.0, 767.0)", "3.0");
    check("LEAST('B', 'A', 'C')", "A");
    check("GREATEST(1, NULL)", "NULL");
    check("LEAST(1, 2.5)", "1.0");
}

static void test_cast(void **state)
{
    (void)state;
    check("CAST(1.5 AS SIGNED)", "2");
    check("CAST(-1 AS UNSIGNED)", "18446744073709551615");
    check("CAST(18446744073709551615 AS SIGNED)", "-1");
    check("CAST('12abc' AS SIGNED)", "12");
    check_warning(0, 1292, "Truncated incorrect INTEGER value: '12abc'");
    check("CAST('abc' AS UNSIGNED)", "0");
    check("CAST(' 42 ' AS SIGNED)", "42");
    check("CAST(1.567 AS DECIMAL(5,2))", "1.57");
    check("CAST(12345 AS DECIMAL(3,1))", "99.9");
    check_warning(0, 1264,
                  "Out of range value for column 'CAST(12345 AS DECIMAL(3,1))' "
                  "at row 1");
    check("CAST(3 AS DECIMAL)", "3");
    check("CAST('3.14159' AS DECIMAL(10,4))", "3.1416");
    check_err("CAST(1 AS DECIMAL(70,2))", 1426,
              "Too-big precision 70 specified for 'CAST(1 AS DECIMAL(70,2))'."
              " Maximum is 65.");
    check_err("CAST(1 AS DECIMAL(5,6))", 1427,
              "For float(M,D), double(M,D) or decimal(M,D), M must be >= D "
              "(column 'CAST(1 AS DECIMAL(5,6))').");
    check("CAST(1 AS DOUBLE)", "1");
    check("CAST('1.5' AS DOUBLE) * 2", "3");
    check("CAST(123 AS CHAR)", "123");
    check("CAST('abcdef' AS CHAR(3))", "abc");
    check_warning(0, 1292, "Truncated incorrect CHAR(3) value: 'abcdef'");
    check("CAST('a' AS BINARY) = 'A'", "0");
    check("CAST('a' AS CHAR) = 'A'", "1");
    check("HEX(CAST('a' AS BINARY(3)))", "610000");
    check("CAST('2024-02-29' AS DATE)", "2024-02-29");
    check("CAST('2024-02-30' AS DATE)", "NULL");
    check_warning(0, 1292, "Incorrect datetime value: '2024-02-30'");
    check("CAST(20240229 AS DATE)", "2024-02-29");
    check("CAST('2024-02-29 10:11:12.345' AS DATETIME)",
          "2024-02-29 10:11:12");
    check("CAST('2024-02-29 10:11:12.345' AS DATETIME(2))",
          "2024-02-29 10:11:12.35");
    check("CAST('10:11:12' AS TIME)", "10:11:12");
    check("CAST(dt AS DATE)", "2024-02-29");
    check("CAST(dt AS TIME)", "13:45:00");
    check("CAST(DATE '2024-01-02' AS DATETIME)", "2024-01-02 00:00:00");
    check("CONVERT('abc', CHAR(2))", "ab");
    check("CONVERT(12, SIGNED)", "12");
    check("CONVERT('abc' USING utf8mb4)", "abc");
    check("CONVERT('abc' USING binary) = 'ABC'", "0");
    check("CAST(1 AS YEAR)", "2001");
    check_type("CAST(1 AS UNSIGNED)", SQL_TYPE_LONGLONG, 0);
    check_type("CAST(1 AS DECIMAL(5,2))", SQL_TYPE_NEWDECIMAL, 2);
    check_type("CAST(1 AS CHAR)", SQL_TYPE_VAR_STRING, 31);
    check_type("CAST(1 AS DATETIME(3))", SQL_TYPE_DATETIME, 3);
    /* difftest F10: branches that are all FLOAT give a FLOAT. */
    check_type("IF(a, CAST(1 AS FLOAT), CAST(2 AS FLOAT))", SQL_TYPE_FLOAT,
               -1);
    check_type("COALESCE(NULL, CAST(1 AS FLOAT))", SQL_TYPE_FLOAT, -1);
    check_type("IF(a, CAST(1 AS FLOAT), 2e0)", SQL_TYPE_DOUBLE, -1);
    check_mode("CAST(1 AS UNSIGNED) - 2",
               DEFAULT_MODE | SQL_MODE_NO_UNSIGNED_SUBTRACTION, "-1");
    check_err("CAST(1 AS UNSIGNED) - 2", 1690,
              "BIGINT UNSIGNED value is out of range in "
              "'(CAST(1 AS UNSIGNED) - 2)'");
}

static void test_date_now(void **state)
{
    (void)state;
    /* now_us is 2023-11-14 22:13:20 UTC; the session zone is UTC. */
    check("NOW()", "2023-11-14 22:13:20");
    check("CURRENT_TIMESTAMP", "2023-11-14 22:13:20");
    check("NOW(3)", "2023-11-14 22:13:20.000");
    check("CURDATE()", "2023-11-14");
    check("CURRENT_DATE", "2023-11-14");
    check("CURTIME()", "22:13:20");
    check("UTC_TIMESTAMP()", "2023-11-14 22:13:20");
    check("UNIX_TIMESTAMP()", "1700000000");
    check("NOW() + 0", "20231114221320");
    check_err("NOW(7)", 1426,
              "Too-big precision 7 specified for 'NOW'. Maximum is 6.");
}

static void test_date_parts(void **state)
{
    (void)state;
    check("DATE('2003-12-31 01:02:03')", "2003-12-31");
    check("DATE('not a date')", "NULL");
    check("TIME('2003-12-31 01:02:03')", "01:02:03");
    check("YEAR('1987-01-01')", "1987");
    check("MONTH(dt)", "2");
    check("DAY(dt)", "29");
    check("DAYOFMONTH('2007-02-03')", "3");
    check("HOUR('10:05:03')", "10");
    check("HOUR('272:59:59')", "272");
    check("MINUTE('2008-02-03 10:05:03')", "5");
    check("SECOND('10:05:03')", "3");
    check("MICROSECOND('12:00:00.123456')", "123456");
    check("DAYOFWEEK('2007-02-03')", "7");
    check("WEEKDAY('2008-02-03 22:23:00')", "6");
    check("DAYOFYEAR('2007-02-03')", "34");
    check("QUARTER('2008-04-01')", "2");
    check("DAYNAME('2007-02-03')", "Saturday");
    check("MONTHNAME('2008-02-03')", "February");
    check("WEEK('2008-02-20')", "7");
    check("WEEK('2008-02-20', 0)", "7");
    check("WEEK('2008-02-20', 1)", "8");
    check("WEEK('2008-12-31', 1)", "53");
    check("WEEK('2000-01-01', 0)", "0");
    check("WEEK('2000-01-01', 2)", "52");
    check("WEEKOFYEAR('2008-02-20')", "8");
    check("YEARWEEK('1987-01-01')", "198652");
    check("TO_DAYS(950501)", "728779");
    check("TO_DAYS('2007-10-07')", "733321");
    check("FROM_DAYS(730669)", "2000-07-03");
    check("LAST_DAY('2003-02-05')", "2003-02-28");
    check("LAST_DAY('2004-02-05')", "2004-02-29");
    check("LAST_DAY('2003-03-32')", "NULL");
    check("TIME_TO_SEC('22:23:00')", "80580");
    check("TIME_TO_SEC('00:39:38')", "2378");
    check("SEC_TO_TIME(2378)", "00:39:38");
    check("MAKEDATE(2011, 31)", "2011-01-31");
    check("MAKEDATE(2011, 32)", "2011-02-01");
    check("MAKEDATE(2011, 0)", "NULL");
    check("MAKETIME(12, 15, 30)", "12:15:30");
    check("EXTRACT(YEAR FROM '2019-07-02')", "2019");
    check("EXTRACT(YEAR_MONTH FROM '2019-07-02 01:02:03')", "201907");
    check("EXTRACT(DAY_MINUTE FROM '2019-07-02 01:02:03')", "20102");
    check("EXTRACT(MICROSECOND FROM '2003-01-02 10:30:00.000123')", "123");
    check("EXTRACT(HOUR FROM dt)", "13");
}

static void test_date_format(void **state)
{
    (void)state;
    check("DATE_FORMAT('2009-10-04 22:23:00', '%W %M %Y')",
          "Sunday October 2009");
    check("DATE_FORMAT('2007-10-04 22:23:00', '%H:%i:%s')", "22:23:00");
    check("DATE_FORMAT('1900-10-04 22:23:00', '%D %y %a %d %m %b %j')",
          "4th 00 Thu 04 10 Oct 277");
    check("DATE_FORMAT('1997-10-04 22:23:00', '%H %k %I %r %T %S %w')",
          "22 22 10 10:23:00 PM 22:23:00 00 6");
    check("DATE_FORMAT('1999-01-01', '%X %V')", "1998 52");
    check("DATE_FORMAT('2006-06-00', '%d')", "00");
    check("DATE_FORMAT(dt, '%Y-%m-%d %h:%i %p')", "2024-02-29 01:45 PM");
    check("DATE_FORMAT('2024-01-01', '%e/%c/%y %% %f')",
          "1/1/24 % 000000");
    check("TIME_FORMAT('100:00:00', '%H %k %h %I %l')", "100 100 04 04 4");
    check("STR_TO_DATE('01,5,2013', '%d,%m,%Y')", "2013-05-01");
    check("STR_TO_DATE('May 1, 2013', '%M %d,%Y')", "2013-05-01");
    check("STR_TO_DATE('a09:30:17', 'a%h:%i:%s')", "09:30:17");
    check("STR_TO_DATE('09:30:17 PM', '%r')", "21:30:17");
    check("STR_TO_DATE('2013-05-01 10:11:12', '%Y-%m-%d %H:%i:%s')",
          "2013-05-01 10:11:12");
    check("STR_TO_DATE('2013-02-30', '%Y-%m-%d')", "NULL");
    check_warning(0, 1411,
                  "Incorrect datetime value: '2013-02-30' for function "
                  "str_to_date");
    check("STR_TO_DATE('foo', '%Y')", "NULL");
    check("FROM_UNIXTIME(1447430881)", "2015-11-13 16:08:01");
    check("FROM_UNIXTIME(1447430881, '%Y %D %M %h:%i:%s %x')",
          "2015 13th November 04:08:01 2015");
    check("FROM_UNIXTIME(-1)", "NULL");
    check("UNIX_TIMESTAMP('2015-11-13 10:20:19')", "1447410019");
    check("UNIX_TIMESTAMP('2015-11-13 10:20:19.012')", "1447410019.012");
    check("UNIX_TIMESTAMP('1969-12-31 23:59:59')", "0");
}

static void test_date_arith(void **state)
{
    (void)state;
    check("DATE_ADD('2018-05-01', INTERVAL 1 DAY)", "2018-05-02");
    check("DATE_SUB('2018-05-01', INTERVAL 1 YEAR)", "2017-05-01");
    check("DATE_ADD('2020-12-31 23:59:59', INTERVAL 1 SECOND)",
          "2021-01-01 00:00:00");
    check("DATE_ADD('2018-12-31 23:59:59', INTERVAL 1 DAY)",
          "2019-01-01 23:59:59");
    check("DATE_ADD('2100-12-31 23:59:59', INTERVAL '1:1' MINUTE_SECOND)",
          "2101-01-01 00:01:00");
    check("DATE_SUB('2025-01-01 00:00:00', INTERVAL '1 1:1:1' DAY_SECOND)",
          "2024-12-30 22:58:59");
    check("DATE_ADD('1900-01-01 00:00:00', INTERVAL '-1 10' DAY_HOUR)",
          "1899-12-30 14:00:00");
    check("DATE_SUB('1998-01-02', INTERVAL 31 DAY)", "1997-12-02");
    check("DATE_ADD('1992-12-31 23:59:59.000002', INTERVAL '1.999999' "
          "SECOND_MICROSECOND)",
          "1993-01-01 00:00:01.000001");
    check("DATE_ADD('2024-01-31', INTERVAL 1 MONTH)", "2024-02-29");
    check("DATE_ADD('2023-01-31', INTERVAL 1 MONTH)", "2023-02-28");
    check("DATE_ADD('2024-02-29', INTERVAL 1 YEAR)", "2025-02-28");
    check("DATE_ADD('2024-01-01', INTERVAL 1 QUARTER)", "2024-04-01");
    check("DATE_ADD('2024-01-01', INTERVAL '1-2' YEAR_MONTH)", "2025-03-01");
    check("DATE_ADD('2024-01-01', INTERVAL 2 WEEK)", "2024-01-15");
    check("DATE_ADD('2024-01-01', INTERVAL 1 HOUR)", "2024-01-01 01:00:00");
    check("DATE '2024-01-01' + INTERVAL 1 DAY", "2024-01-02");
    check("INTERVAL 1 DAY + DATE '2024-01-01'", "2024-01-02");
    check("dt - INTERVAL 45 MINUTE", "2024-02-29 13:00:00");
    check("ADDDATE('2008-01-02', 31)", "2008-02-02");
    check("SUBDATE('2008-01-02 12:00:00', 1)", "2008-01-01 12:00:00");
    check("DATE_ADD('9999-12-31', INTERVAL 1 DAY)", "NULL");
    check_warning(0, 1441, "Datetime function: datetime field overflow");
    check("DATE_ADD(NULL, INTERVAL 1 DAY)", "NULL");
    check("DATE_ADD('2024-01-01', INTERVAL NULL DAY)", "NULL");
    check("DATEDIFF('2007-12-31 23:59:59', '2007-12-30')", "1");
    check("DATEDIFF('2010-11-30 23:59:59', '2010-12-31')", "-31");
    check("TIMEDIFF('2000-01-01 00:00:00', '2000-01-01 00:00:00.000001')",
          "-00:00:00.000001");
    check("TIMEDIFF('2008-12-31 23:59:59.000001', "
          "'2008-12-30 01:01:01.000002')",
          "46:58:57.999999");
    check("TIMEDIFF('10:00:00', '2008-12-30 01:01:01')", "NULL");
    check("TIMESTAMPDIFF(MONTH, '2003-02-01', '2003-05-01')", "3");
    check("TIMESTAMPDIFF(YEAR, '2002-05-01', '2001-01-01')", "-1");
    check("TIMESTAMPDIFF(MINUTE, '2003-02-01', '2003-05-01 12:05:55')",
          "128885");
    check("TIMESTAMPDIFF(MONTH, '2024-01-31', '2024-02-29')", "0");
    check("TIMESTAMPDIFF(DAY, '2024-01-01 12:00:00', '2024-01-03 11:00:00')",
          "1");
    check("TIMESTAMPDIFF(SECOND, '2024-01-01', '2024-01-01 00:01:00')", "60");
}

static void test_more(void **state)
{
    (void)state;
    check("MD5('testing')", "ae2b1fca515949e5d54fb22b8ed95575");
    check("SHA1('abc')", "a9993e364706816aba3e25717850c26c9cd0d89d");
    check("SHA2('abc', 224)",
          "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
    check("SHA2('abc', 256)",
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check("SHA2('abc', 1)", "NULL");
    check("MD5(NULL)", "NULL");
    check("CRC32('MySQL')", "3259397556");
    check("CRC32('mysql')", "2501908538");
    check("ISNULL(1+1)", "0");
    check("ISNULL(1/0)", "1");
    check("CHARSET('abc')", "utf8mb4");
    check("CHARSET(BINARY 'abc')", "binary");
    check("COLLATION(s2)", "utf8mb4_bin");
    check("COLLATION(b)", "utf8mb4_general_ci");
    check("CONV('a', 16, 2)", "1010");
    check("CONV('6E', 18, 8)", "172");
    check("CONV(-17, 10, -18)", "-H");
    check("CONV(10 + '10' + '10' + X'0a', 10, 10)", "40");
    check("BIN(12)", "1100");
    check("OCT(12)", "14");
    check("TIMESTAMP('2003-12-31')", "2003-12-31 00:00:00");
    check("TIMESTAMP('2003-12-31 12:00:00', '12:00:00')",
          "2004-01-01 00:00:00");
    check("ADDTIME('2007-12-31 23:59:59.999999', '1 1:1:1.000002')",
          "2008-01-02 01:01:01.000001");
    check("ADDTIME('01:00:00.999999', '02:00:00.999998')",
          "03:00:01.999997");
    check("SUBTIME('2007-12-31 23:59:59.999999', '1 1:1:1.000002')",
          "2007-12-30 22:58:58.999997");
    check("SUBTIME('01:00:00.999999', '02:00:00.999998')",
          "-00:59:59.999999");
}

static struct sql_datum sysvar_val;

static int sv_get(void *ctx, const char *name, int scope,
                  struct sql_datum *out, struct sql_arena *a,
                  struct sql_err *err)
{
    (void)ctx;
    (void)scope;
    (void)a;
    if (strcmp(name, "version") == 0) {
        *out = sysvar_val;
        return 0;
    }
    return sql__err(err, 1193, "HY000", "Unknown system variable '%s'", name);
}

static void test_info(void **state)
{
    (void)state;
    struct sql_arena *a = sql__arena_create(0);
    const char *cases[][2] = {
        {"SELECT DATABASE()", "shop"},
        {"SELECT SCHEMA()", "shop"},
        {"SELECT USER()", "root@localhost"},
        {"SELECT CURRENT_USER()", "root@localhost"},
        {"SELECT CURRENT_USER", "root@localhost"},
        {"SELECT VERSION()", "8.0.11-test"},
        {"SELECT CONNECTION_ID()", "42"},
        {"SELECT LAST_INSERT_ID()", "7"},
        {"SELECT LAST_INSERT_ID(99)", "99"},
        {"SELECT FOUND_ROWS()", "3"},
        {"SELECT ROW_COUNT()", "-1"},
        {"SELECT @@version", "8.0.11-test"},
    };
    sql__datum_str(&sysvar_val, "8.0.11-test", 11, SQL_COLL_UTF8MB4_GENERAL_CI);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sql_parse_result pr;
        assert_int_equal(sql__parse_one(a, cases[i][0], strlen(cases[i][0]),
                                        &pr),
                         0);
        struct sql_expr_scope scope = {NULL, col_cb, NULL, false, NULL};
        struct sql_expr *e;
        struct sql_err err;
        struct sql_ftype t;
        assert_int_equal(sql__expr_compile(a, pr.stmt->select->items->expr,
                                           &scope, &e, &t, &err),
                         0);
        assert_false(sql__expr_is_const(e));
        struct sql_eval_env env = {0};
        env.db = "shop";
        env.user = "root@localhost";
        env.conn_id = 42;
        env.last_insert_id = 7;
        env.found_rows = 3;
        env.row_count = (uint64_t)-1;
        env.sysvar_get = sv_get;
        struct sql_eval ev = {&env, a, &err};
        struct sql_datum out;
        assert_int_equal(sql__expr_eval(e, &ev, row, &out), 0);
        const char *p;
        size_t n;
        assert_int_equal(sql__datum_text(&out, &t, a, &p, &n), 0);
        if (n != strlen(cases[i][1]) || memcmp(p, cases[i][1], n) != 0) {
            print_error("%s: got %.*s\n", cases[i][0], (int)n, p);
            fail();
        }
    }
    sql__arena_destroy(a);
}

int main(void)
{
    setup_row();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string),
        cmocka_unit_test(test_math),
        cmocka_unit_test(test_cast),
        cmocka_unit_test(test_date_now),
        cmocka_unit_test(test_date_parts),
        cmocka_unit_test(test_date_format),
        cmocka_unit_test(test_date_arith),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_more),
    };
    return cmocka_run_group_tests_name("libsql/func", tests, NULL, NULL);
}

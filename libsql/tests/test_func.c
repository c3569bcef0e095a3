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
#include "exprfx.h"
#include "parse.h"


static void test_string(void **state)
{
    (void)state;
    efx_check("CONCAT('a', 1, 2.50)", "a12.50");
    efx_check("CONCAT('a', NULL)", "NULL");
    efx_check("CONCAT_WS(',', 'a', NULL, 'b')", "a,b");
    efx_check("CONCAT_WS(NULL, 'a')", "NULL");
    efx_check("LENGTH('héllo')", "6");
    efx_check("CHAR_LENGTH('héllo')", "5");
    efx_check("BIT_LENGTH('ab')", "16");
    efx_check("LENGTH(NULL)", "NULL");
    efx_check("UPPER('héllo')", "HÉLLO");
    efx_check("LOWER('ÀBC')", "àbc");
    efx_check("UCASE(b)", "ABC");
    efx_check("SUBSTRING('Quadratically', 5)", "ratically");
    efx_check("SUBSTRING('Quadratically', 5, 6)", "ratica");
    efx_check("SUBSTRING('Sakila', -3)", "ila");
    efx_check("SUBSTRING('Sakila', -5, 3)", "aki");
    efx_check("SUBSTRING('Sakila', 0)", "");
    efx_check("SUBSTRING('Sakila', 10)", "");
    efx_check("SUBSTR('héllo', 2, 2)", "él");
    efx_check("MID('abcdef', 2, 3)", "bcd");
    efx_check("LEFT('foobarbar', 5)", "fooba");
    efx_check("RIGHT('foobarbar', 4)", "rbar");
    efx_check("LEFT('abc', -1)", "");
    efx_check("LEFT('abc', 10)", "abc");
    efx_check("TRIM('  bar   ')", "bar");
    efx_check("TRIM(LEADING 'x' FROM 'xxxbarxxx')", "barxxx");
    efx_check("TRIM(BOTH 'x' FROM 'xxxbarxxx')", "bar");
    efx_check("TRIM(TRAILING 'xyz' FROM 'barxxyz')", "barx");
    efx_check("LTRIM('  barbar')", "barbar");
    efx_check("RTRIM('barbar   ')", "barbar");
    efx_check("REPLACE('www.mysql.com', 'w', 'Ww')", "WwWwWw.mysql.com");
    efx_check("REPLACE('aAa', 'a', 'b')", "bAb");
    efx_check("LOCATE('bar', 'foobarbar')", "4");
    efx_check("LOCATE('xbar', 'foobar')", "0");
    efx_check("LOCATE('bar', 'foobarbar', 5)", "7");
    efx_check("LOCATE('BAR', 'foobar')", "4");
    efx_check("POSITION('bar' IN 'foobarbar')", "4");
    efx_check("INSTR('foobarbar', 'bar')", "4");
    efx_check("INSTR('héllo', 'l')", "3");
    efx_check("LOCATE('', 'abc')", "1");
    efx_check("LPAD('hi', 4, '?!')", "?!hi");
    efx_check("LPAD('hi', 1, '?!')", "h");
    efx_check("RPAD('hi', 5, 'ab')", "hiaba");
    efx_check("LPAD('hi', 5, '')", "NULL");
    efx_check("LPAD('hi', -1, 'x')", "NULL");
    efx_check("RPAD('é', 4, 'àb')", "éàbà");
    efx_check("LPAD('é', 4, 'àb')", "àbàé");
    efx_check("LPAD('x', 67108865, 'ab')", "NULL");
    efx_check_warning(0, 1301,
                  "Result of lpad() was larger than max_allowed_packet "
                  "(67108864) - truncated");
    efx_check("REPEAT('ab', 3)", "ababab");
    efx_check("REPEAT('ab', 0)", "");
    efx_check("SPACE(3)", "   ");
    efx_check("REVERSE('héllo')", "olléh");
    efx_check("HEX('abc')", "616263");
    efx_check("HEX(255)", "FF");
    efx_check("HEX(-1)", "FFFFFFFFFFFFFFFF");
    efx_check("UNHEX('4D7953514C')", "MySQL");
    efx_check("UNHEX('GG')", "NULL");
    efx_check("ASCII('2')", "50");
    efx_check("ASCII('')", "0");
    efx_check("ORD('é')", "50089");
    efx_check("CHAR(77, 121, 83, 81, 76)", "MySQL");
    efx_check("CHAR(NULL, 65)", "A");
    efx_check("STRCMP('text', 'text2')", "-1");
    efx_check("STRCMP('text2', 'text')", "1");
    efx_check("STRCMP('text', 'TEXT')", "0");
    efx_check("INSERT('Quadratic', 3, 4, 'What')", "QuWhattic");
    efx_check("INSERT('Quadratic', -1, 4, 'What')", "Quadratic");
    efx_check("INSERT('Quadratic', 3, 100, 'What')", "QuWhat");
    efx_check("FIELD('Bb', 'Aa', 'Bb', 'Cc')", "2");
    efx_check("FIELD('Gg', 'Aa', 'Bb')", "0");
    efx_check("ELT(2, 'Aa', 'Bb', 'Cc')", "Bb");
    efx_check("ELT(4, 'Aa', 'Bb', 'Cc')", "NULL");
    efx_check("SUBSTRING_INDEX('www.mysql.com', '.', 2)", "www.mysql");
    efx_check("SUBSTRING_INDEX('www.mysql.com', '.', -2)", "mysql.com");
    efx_check("SUBSTRING_INDEX('www.mysql.com', '.', 0)", "");
    efx_check("FIND_IN_SET('b', 'a,b,c,d')", "2");
    efx_check("FIND_IN_SET('z', 'a,b,c,d')", "0");
    efx_check("QUOTE('Don''t!')", "'Don\\'t!'");
    efx_check("QUOTE(NULL)", "NULL");
    efx_check("FORMAT(12332.123456, 4)", "12,332.1235");
    efx_check("FORMAT(12332.1, 4)", "12,332.1000");
    efx_check("FORMAT(12332.2, 0)", "12,332");
    efx_check("FORMAT(-1234567.891, 2)", "-1,234,567.89");
    efx_check("CONCAT(1.5e0, 'x')", "1.5x");
    efx_check("CONCAT(dt, '')", "2024-02-29 13:45:00");
}

static void test_math(void **state)
{
    (void)state;
    efx_check("ABS(-5)", "5");
    efx_check("ABS(-5.25)", "5.25");
    efx_check("ABS(-1.5e0)", "1.5");
    efx_check("ABS(u)", "18446744073709551615");
    efx_check_err("ABS(-9223372036854775808)", 1690,
              "BIGINT value is out of range in 'ABS(-9223372036854775808)'");
    efx_check("SIGN(-32)", "-1");
    efx_check("SIGN(0)", "0");
    efx_check("SIGN(234.5)", "1");
    efx_check("CEIL(1.23)", "2");
    efx_check("CEILING(-1.23)", "-1");
    efx_check("FLOOR(1.23)", "1");
    efx_check("FLOOR(-1.23)", "-2");
    efx_check("FLOOR(1.5e0)", "1");
    efx_check("CEIL(5)", "5");
    efx_check("ROUND(-1.23)", "-1");
    efx_check("ROUND(-1.58)", "-2");
    efx_check("ROUND(1.58)", "2");
    efx_check("ROUND(1.298, 1)", "1.3");
    efx_check("ROUND(1.298, 0)", "1");
    efx_check("ROUND(23.298, -1)", "20");
    efx_check("ROUND(2.5)", "3");
    efx_check("ROUND(-2.5)", "-3");
    efx_check("ROUND(25E-1)", "2");
    efx_check("ROUND(125, -1)", "130");
    efx_check("ROUND(1.5, 3)", "1.500");
    efx_check("ROUND(d, 1)", "12.5");
    efx_check("TRUNCATE(1.223, 1)", "1.2");
    efx_check("TRUNCATE(1.999, 1)", "1.9");
    efx_check("TRUNCATE(1.999, 0)", "1");
    efx_check("TRUNCATE(-1.999, 1)", "-1.9");
    efx_check("TRUNCATE(122, -2)", "100");
    efx_check("MOD(234, 10)", "4");
    efx_check("MOD(29, 9)", "2");
    efx_check("MOD(34.5, 3)", "1.5");
    efx_check("MOD(5, 0)", "NULL");
    efx_check("POW(2, 2)", "4");
    efx_check("POWER(2, -2)", "0.25");
    efx_check("SQRT(4)", "2");
    efx_check("SQRT(20)", "4.47213595499958");
    efx_check("SQRT(-16)", "NULL");
    efx_check("EXP(0)", "1");
    efx_check("LN(1)", "0");
    efx_check("LN(-1)", "NULL");
    efx_check_warning(0, 3020, "Invalid argument for logarithm");
    efx_check("LOG(2, 65536)", "16");
    efx_check("LOG2(65536)", "16");
    efx_check("LOG10(100)", "2");
    efx_check("PI()", "3.141593");
    efx_check("DEGREES(PI())", "180");
    efx_check("COS(0)", "1");
    efx_check("ATAN(-2, 2)", "-0.7853981633974483");
    efx_check_err("POW(10, 400)", 1690,
              "DOUBLE value is out of range in 'POW(10, 400)'");
    efx_check_err("EXP(1000)", 1690,
              "DOUBLE value is out of range in 'EXP(1000)'");
    /* MySQL's generator: RAND(seed) gives MySQL's numbers. */
    efx_check("RAND(3)", "0.9057697559760601");
    efx_check("RAND(0)", "0.15522042769493574");
    efx_check("GREATEST(2, 0)", "2");
    efx_check("GREATEST(34.0, 3.0, 5.0, 767.0)", "767.0");
    efx_check("GREATEST('B', 'A', 'C')", "C");
    efx_check("LEAST(2, 0)", "0");
    efx_check("LEAST(34.0, 3.0, 5.0, 767.0)", "3.0");
    efx_check("LEAST('B', 'A', 'C')", "A");
    efx_check("GREATEST(1, NULL)", "NULL");
    efx_check("LEAST(1, 2.5)", "1.0");
}

static void test_cast(void **state)
{
    (void)state;
    efx_check("CAST(1.5 AS SIGNED)", "2");
    efx_check("CAST(-1 AS UNSIGNED)", "18446744073709551615");
    efx_check("CAST(18446744073709551615 AS SIGNED)", "-1");
    efx_check("CAST('12abc' AS SIGNED)", "12");
    efx_check_warning(0, 1292, "Truncated incorrect INTEGER value: '12abc'");
    efx_check("CAST('abc' AS UNSIGNED)", "0");
    efx_check("CAST(' 42 ' AS SIGNED)", "42");
    efx_check("CAST(1.567 AS DECIMAL(5,2))", "1.57");
    efx_check("CAST(12345 AS DECIMAL(3,1))", "99.9");
    efx_check_warning(0, 1264,
                  "Out of range value for column 'CAST(12345 AS DECIMAL(3,1))' "
                  "at row 1");
    efx_check("CAST(3 AS DECIMAL)", "3");
    efx_check("CAST('3.14159' AS DECIMAL(10,4))", "3.1416");
    efx_check_err("CAST(1 AS DECIMAL(70,2))", 1426,
              "Too-big precision 70 specified for 'CAST(1 AS DECIMAL(70,2))'."
              " Maximum is 65.");
    efx_check_err("CAST(1 AS DECIMAL(5,6))", 1427,
              "For float(M,D), double(M,D) or decimal(M,D), M must be >= D "
              "(column 'CAST(1 AS DECIMAL(5,6))').");
    efx_check("CAST(1 AS DOUBLE)", "1");
    efx_check("CAST('1.5' AS DOUBLE) * 2", "3");
    efx_check("CAST(123 AS CHAR)", "123");
    efx_check("CAST('abcdef' AS CHAR(3))", "abc");
    efx_check_warning(0, 1292, "Truncated incorrect CHAR(3) value: 'abcdef'");
    efx_check("CAST('a' AS BINARY) = 'A'", "0");
    efx_check("CAST('a' AS CHAR) = 'A'", "1");
    efx_check("HEX(CAST('a' AS BINARY(3)))", "610000");
    efx_check("CAST('2024-02-29' AS DATE)", "2024-02-29");
    efx_check("CAST('2024-02-30' AS DATE)", "NULL");
    efx_check_warning(0, 1292, "Incorrect datetime value: '2024-02-30'");
    efx_check("CAST(20240229 AS DATE)", "2024-02-29");
    efx_check("CAST('2024-02-29 10:11:12.345' AS DATETIME)",
          "2024-02-29 10:11:12");
    efx_check("CAST('2024-02-29 10:11:12.345' AS DATETIME(2))",
          "2024-02-29 10:11:12.35");
    efx_check("CAST('10:11:12' AS TIME)", "10:11:12");
    efx_check("CAST(dt AS DATE)", "2024-02-29");
    efx_check("CAST(dt AS TIME)", "13:45:00");
    efx_check("CAST(DATE '2024-01-02' AS DATETIME)", "2024-01-02 00:00:00");
    efx_check("CONVERT('abc', CHAR(2))", "ab");
    efx_check("CONVERT(12, SIGNED)", "12");
    efx_check("CONVERT('abc' USING utf8mb4)", "abc");
    efx_check("CONVERT('abc' USING binary) = 'ABC'", "0");
    efx_check("CAST(1 AS YEAR)", "2001");
    efx_check_type("CAST(1 AS UNSIGNED)", SQL_TYPE_LONGLONG, 0);
    efx_check_type("CAST(1 AS DECIMAL(5,2))", SQL_TYPE_NEWDECIMAL, 2);
    efx_check_type("CAST(1 AS CHAR)", SQL_TYPE_VAR_STRING, 31);
    efx_check_type("CAST(1 AS DATETIME(3))", SQL_TYPE_DATETIME, 3);
    /* difftest F10: branches that are all FLOAT give a FLOAT. */
    efx_check_type("IF(a, CAST(1 AS FLOAT), CAST(2 AS FLOAT))", SQL_TYPE_FLOAT,
               -1);
    efx_check_type("COALESCE(NULL, CAST(1 AS FLOAT))", SQL_TYPE_FLOAT, -1);
    efx_check_type("IF(a, CAST(1 AS FLOAT), 2e0)", SQL_TYPE_DOUBLE, -1);
    efx_check_mode("CAST(1 AS UNSIGNED) - 2",
               EFX_DEFAULT_MODE | SQL_MODE_NO_UNSIGNED_SUBTRACTION, "-1");
    efx_check_err("CAST(1 AS UNSIGNED) - 2", 1690,
              "BIGINT UNSIGNED value is out of range in "
              "'(CAST(1 AS UNSIGNED) - 2)'");
}

static void test_date_now(void **state)
{
    (void)state;
    /* now_us is 2023-11-14 22:13:20 UTC; the session zone is UTC. */
    efx_check("NOW()", "2023-11-14 22:13:20");
    efx_check("CURRENT_TIMESTAMP", "2023-11-14 22:13:20");
    efx_check("NOW(3)", "2023-11-14 22:13:20.000");
    efx_check("CURDATE()", "2023-11-14");
    efx_check("CURRENT_DATE", "2023-11-14");
    efx_check("CURTIME()", "22:13:20");
    efx_check("UTC_TIMESTAMP()", "2023-11-14 22:13:20");
    efx_check("UNIX_TIMESTAMP()", "1700000000");
    efx_check("NOW() + 0", "20231114221320");
    efx_check_err("NOW(7)", 1426,
              "Too-big precision 7 specified for 'NOW'. Maximum is 6.");
}

static void test_date_parts(void **state)
{
    (void)state;
    efx_check("DATE('2003-12-31 01:02:03')", "2003-12-31");
    efx_check("DATE('not a date')", "NULL");
    efx_check("TIME('2003-12-31 01:02:03')", "01:02:03");
    efx_check("YEAR('1987-01-01')", "1987");
    efx_check("MONTH(dt)", "2");
    efx_check("DAY(dt)", "29");
    efx_check("DAYOFMONTH('2007-02-03')", "3");
    efx_check("HOUR('10:05:03')", "10");
    efx_check("HOUR('272:59:59')", "272");
    efx_check("MINUTE('2008-02-03 10:05:03')", "5");
    efx_check("SECOND('10:05:03')", "3");
    efx_check("MICROSECOND('12:00:00.123456')", "123456");
    efx_check("DAYOFWEEK('2007-02-03')", "7");
    efx_check("WEEKDAY('2008-02-03 22:23:00')", "6");
    efx_check("DAYOFYEAR('2007-02-03')", "34");
    efx_check("QUARTER('2008-04-01')", "2");
    efx_check("DAYNAME('2007-02-03')", "Saturday");
    efx_check("MONTHNAME('2008-02-03')", "February");
    efx_check("WEEK('2008-02-20')", "7");
    efx_check("WEEK('2008-02-20', 0)", "7");
    efx_check("WEEK('2008-02-20', 1)", "8");
    efx_check("WEEK('2008-12-31', 1)", "53");
    efx_check("WEEK('2000-01-01', 0)", "0");
    efx_check("WEEK('2000-01-01', 2)", "52");
    efx_check("WEEKOFYEAR('2008-02-20')", "8");
    efx_check("YEARWEEK('1987-01-01')", "198652");
    efx_check("TO_DAYS(950501)", "728779");
    efx_check("TO_DAYS('2007-10-07')", "733321");
    efx_check("FROM_DAYS(730669)", "2000-07-03");
    efx_check("LAST_DAY('2003-02-05')", "2003-02-28");
    efx_check("LAST_DAY('2004-02-05')", "2004-02-29");
    efx_check("LAST_DAY('2003-03-32')", "NULL");
    efx_check("TIME_TO_SEC('22:23:00')", "80580");
    efx_check("TIME_TO_SEC('00:39:38')", "2378");
    efx_check("SEC_TO_TIME(2378)", "00:39:38");
    efx_check("MAKEDATE(2011, 31)", "2011-01-31");
    efx_check("MAKEDATE(2011, 32)", "2011-02-01");
    efx_check("MAKEDATE(2011, 0)", "NULL");
    efx_check("MAKETIME(12, 15, 30)", "12:15:30");
    efx_check("EXTRACT(YEAR FROM '2019-07-02')", "2019");
    efx_check("EXTRACT(YEAR_MONTH FROM '2019-07-02 01:02:03')", "201907");
    efx_check("EXTRACT(DAY_MINUTE FROM '2019-07-02 01:02:03')", "20102");
    efx_check("EXTRACT(MICROSECOND FROM '2003-01-02 10:30:00.000123')", "123");
    efx_check("EXTRACT(HOUR FROM dt)", "13");
}

static void test_date_format(void **state)
{
    (void)state;
    efx_check("DATE_FORMAT('2009-10-04 22:23:00', '%W %M %Y')",
          "Sunday October 2009");
    efx_check("DATE_FORMAT('2007-10-04 22:23:00', '%H:%i:%s')", "22:23:00");
    efx_check("DATE_FORMAT('1900-10-04 22:23:00', '%D %y %a %d %m %b %j')",
          "4th 00 Thu 04 10 Oct 277");
    efx_check("DATE_FORMAT('1997-10-04 22:23:00', '%H %k %I %r %T %S %w')",
          "22 22 10 10:23:00 PM 22:23:00 00 6");
    efx_check("DATE_FORMAT('1999-01-01', '%X %V')", "1998 52");
    efx_check("DATE_FORMAT('2006-06-00', '%d')", "00");
    efx_check("DATE_FORMAT(dt, '%Y-%m-%d %h:%i %p')", "2024-02-29 01:45 PM");
    efx_check("DATE_FORMAT('2024-01-01', '%e/%c/%y %% %f')",
          "1/1/24 % 000000");
    efx_check("TIME_FORMAT('100:00:00', '%H %k %h %I %l')", "100 100 04 04 4");
    efx_check("STR_TO_DATE('01,5,2013', '%d,%m,%Y')", "2013-05-01");
    efx_check("STR_TO_DATE('May 1, 2013', '%M %d,%Y')", "2013-05-01");
    efx_check("STR_TO_DATE('a09:30:17', 'a%h:%i:%s')", "09:30:17");
    efx_check("STR_TO_DATE('09:30:17 PM', '%r')", "21:30:17");
    efx_check("STR_TO_DATE('2013-05-01 10:11:12', '%Y-%m-%d %H:%i:%s')",
          "2013-05-01 10:11:12");
    efx_check("STR_TO_DATE('2013-02-30', '%Y-%m-%d')", "NULL");
    efx_check_warning(0, 1411,
                  "Incorrect datetime value: '2013-02-30' for function "
                  "str_to_date");
    efx_check("STR_TO_DATE('foo', '%Y')", "NULL");
    efx_check("FROM_UNIXTIME(1447430881)", "2015-11-13 16:08:01");
    efx_check("FROM_UNIXTIME(1447430881, '%Y %D %M %h:%i:%s %x')",
          "2015 13th November 04:08:01 2015");
    efx_check("FROM_UNIXTIME(-1)", "NULL");
    efx_check("UNIX_TIMESTAMP('2015-11-13 10:20:19')", "1447410019");
    efx_check("UNIX_TIMESTAMP('2015-11-13 10:20:19.012')", "1447410019.012");
    efx_check("UNIX_TIMESTAMP('1969-12-31 23:59:59')", "0");
}

static void test_date_arith(void **state)
{
    (void)state;
    efx_check("DATE_ADD('2018-05-01', INTERVAL 1 DAY)", "2018-05-02");
    efx_check("DATE_SUB('2018-05-01', INTERVAL 1 YEAR)", "2017-05-01");
    efx_check("DATE_ADD('2020-12-31 23:59:59', INTERVAL 1 SECOND)",
          "2021-01-01 00:00:00");
    efx_check("DATE_ADD('2018-12-31 23:59:59', INTERVAL 1 DAY)",
          "2019-01-01 23:59:59");
    efx_check("DATE_ADD('2100-12-31 23:59:59', INTERVAL '1:1' MINUTE_SECOND)",
          "2101-01-01 00:01:00");
    efx_check("DATE_SUB('2025-01-01 00:00:00', INTERVAL '1 1:1:1' DAY_SECOND)",
          "2024-12-30 22:58:59");
    efx_check("DATE_ADD('1900-01-01 00:00:00', INTERVAL '-1 10' DAY_HOUR)",
          "1899-12-30 14:00:00");
    efx_check("DATE_SUB('1998-01-02', INTERVAL 31 DAY)", "1997-12-02");
    efx_check("DATE_ADD('1992-12-31 23:59:59.000002', INTERVAL '1.999999' "
          "SECOND_MICROSECOND)",
          "1993-01-01 00:00:01.000001");
    efx_check("DATE_ADD('2024-01-31', INTERVAL 1 MONTH)", "2024-02-29");
    efx_check("DATE_ADD('2023-01-31', INTERVAL 1 MONTH)", "2023-02-28");
    efx_check("DATE_ADD('2024-02-29', INTERVAL 1 YEAR)", "2025-02-28");
    efx_check("DATE_ADD('2024-01-01', INTERVAL 1 QUARTER)", "2024-04-01");
    efx_check("DATE_ADD('2024-01-01', INTERVAL '1-2' YEAR_MONTH)", "2025-03-01");
    efx_check("DATE_ADD('2024-01-01', INTERVAL 2 WEEK)", "2024-01-15");
    efx_check("DATE_ADD('2024-01-01', INTERVAL 1 HOUR)", "2024-01-01 01:00:00");
    efx_check("DATE '2024-01-01' + INTERVAL 1 DAY", "2024-01-02");
    efx_check("INTERVAL 1 DAY + DATE '2024-01-01'", "2024-01-02");
    efx_check("dt - INTERVAL 45 MINUTE", "2024-02-29 13:00:00");
    efx_check("ADDDATE('2008-01-02', 31)", "2008-02-02");
    efx_check("SUBDATE('2008-01-02 12:00:00', 1)", "2008-01-01 12:00:00");
    efx_check("DATE_ADD('9999-12-31', INTERVAL 1 DAY)", "NULL");
    efx_check_warning(0, 1441, "Datetime function: datetime field overflow");
    efx_check("DATE_ADD(NULL, INTERVAL 1 DAY)", "NULL");
    efx_check("DATE_ADD('2024-01-01', INTERVAL NULL DAY)", "NULL");
    efx_check("DATEDIFF('2007-12-31 23:59:59', '2007-12-30')", "1");
    efx_check("DATEDIFF('2010-11-30 23:59:59', '2010-12-31')", "-31");
    efx_check("TIMEDIFF('2000-01-01 00:00:00', '2000-01-01 00:00:00.000001')",
          "-00:00:00.000001");
    efx_check("TIMEDIFF('2008-12-31 23:59:59.000001', "
          "'2008-12-30 01:01:01.000002')",
          "46:58:57.999999");
    efx_check("TIMEDIFF('10:00:00', '2008-12-30 01:01:01')", "NULL");
    efx_check("TIMESTAMPDIFF(MONTH, '2003-02-01', '2003-05-01')", "3");
    efx_check("TIMESTAMPDIFF(YEAR, '2002-05-01', '2001-01-01')", "-1");
    efx_check("TIMESTAMPDIFF(MINUTE, '2003-02-01', '2003-05-01 12:05:55')",
          "128885");
    efx_check("TIMESTAMPDIFF(MONTH, '2024-01-31', '2024-02-29')", "0");
    efx_check("TIMESTAMPDIFF(DAY, '2024-01-01 12:00:00', '2024-01-03 11:00:00')",
          "1");
    efx_check("TIMESTAMPDIFF(SECOND, '2024-01-01', '2024-01-01 00:01:00')", "60");
}

static void test_more(void **state)
{
    (void)state;
    efx_check("MD5('testing')", "ae2b1fca515949e5d54fb22b8ed95575");
    efx_check("SHA1('abc')", "a9993e364706816aba3e25717850c26c9cd0d89d");
    efx_check("SHA2('abc', 224)",
          "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
    efx_check("SHA2('abc', 256)",
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    efx_check("SHA2('abc', 1)", "NULL");
    efx_check("MD5(NULL)", "NULL");
    efx_check("CRC32('MySQL')", "3259397556");
    efx_check("CRC32('mysql')", "2501908538");
    efx_check("ISNULL(1+1)", "0");
    efx_check("ISNULL(1/0)", "1");
    efx_check("CHARSET('abc')", "utf8mb4");
    efx_check("CHARSET(BINARY 'abc')", "binary");
    efx_check("COLLATION(s2)", "utf8mb4_bin");
    efx_check("COLLATION(b)", "utf8mb4_general_ci");
    efx_check("CONV('a', 16, 2)", "1010");
    efx_check("CONV('6E', 18, 8)", "172");
    efx_check("CONV(-17, 10, -18)", "-H");
    efx_check("CONV(10 + '10' + '10' + X'0a', 10, 10)", "40");
    efx_check("BIN(12)", "1100");
    efx_check("OCT(12)", "14");
    efx_check("TIMESTAMP('2003-12-31')", "2003-12-31 00:00:00");
    efx_check("TIMESTAMP('2003-12-31 12:00:00', '12:00:00')",
          "2004-01-01 00:00:00");
    efx_check("ADDTIME('2007-12-31 23:59:59.999999', '1 1:1:1.000002')",
          "2008-01-02 01:01:01.000001");
    efx_check("ADDTIME('01:00:00.999999', '02:00:00.999998')",
          "03:00:01.999997");
    efx_check("SUBTIME('2007-12-31 23:59:59.999999', '1 1:1:1.000002')",
          "2007-12-30 22:58:58.999997");
    efx_check("SUBTIME('01:00:00.999999', '02:00:00.999998')",
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
        struct sql_expr_scope scope = {NULL, efx_col_cb, NULL, false, NULL, NULL,
                                   NULL};
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
        assert_int_equal(sql__expr_eval(e, &ev, efx_row, &out), 0);
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
    efx_setup_row();
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

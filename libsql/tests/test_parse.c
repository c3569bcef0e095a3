/* test_parse.c: the parser and the AST printer: exact canonical forms for
 * hundreds of statements (expressions, queries, DML, DDL, administration,
 * sysbench's statements, a real mysqldump file), stable round trips,
 * MySQL's 1064 messages, nesting limits, multi-statement input.
 * See DESIGN.md, "Parser".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql.h"
#include "parse.h"

static void check_error(const char *sql, int rc, int errcode, const char *msg);

#define E1064 \
    "You have an error in your SQL syntax; check the manual that " \
    "corresponds to your MySQL server version for the right syntax to use " \
    "near "

struct pcase
{
    const char *sql;  /* input */
    const char *want; /* canonical form */
};

/* Parse sql, print it, and check the print parses back to itself. */
static void check_one(const char *sql, const char *want)
{
    struct sql_arena *a = sql__arena_create(0);
    assert_non_null(a);
    struct sql_parse_result r;
    int rc = sql__parse_one(a, sql, strlen(sql), &r);
    if (rc != 0)
        fail_msg("parse of \"%s\" failed: %s", sql, r.errmsg);
    assert_non_null(r.stmt);
    assert_int_equal(r.next, strlen(sql));
    const char *got = sql__ast_print(a, r.stmt);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("\"%s\"\n  printed \"%s\"\n  wanted  \"%s\"", sql, got, want);
    struct sql_parse_result r2;
    rc = sql__parse_one(a, got, strlen(got), &r2);
    if (rc != 0)
        fail_msg("reparse of \"%s\" failed: %s", got, r2.errmsg);
    const char *again = sql__ast_print(a, r2.stmt);
    if (strcmp(again, got) != 0)
        fail_msg("round trip of \"%s\" printed \"%s\"", got, again);
    sql__arena_destroy(a);
}

static void check_table(const struct pcase *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_one(c[i].sql, c[i].want);
}

#define CHECK_TABLE(t) check_table(t, sizeof t / sizeof t[0])

/* The expressions are each written as "select <expr>". */
static const struct pcase expr_cases[] = {
    {"select 1",
     "SELECT 1"},
    {"select -1",
     "SELECT -1"},
    {"select - -1",
     "SELECT - -1"},
    {"select +1",
     "SELECT 1"},
    {"select --1",
     "SELECT - -1"},
    {"select 1--1",
     "SELECT (1 - -1)"},
    {"select -a",
     "SELECT -a"},
    {"select - - a",
     "SELECT - -a"},
    {"select !a",
     "SELECT (NOT a)"},
    {"select !!a",
     "SELECT (NOT NOT a)"},
    /* ! negates as NOT does (fuzz_parse: `it=!!!!!!!x` printed seven NOTs,
     * which parse back as one) */
    {"select !!!a",
     "SELECT (NOT a)"},
    {"select it = !!!!!!!cume_dist",
     "SELECT (it = (NOT cume_dist))"},
    {"select !(a = b), !(a < b or c)",
     "SELECT (a <> b), ((a >= b) AND (NOT c))"},
    {"select ~a",
     "SELECT ~a"},
    {"select NOT a",
     "SELECT (NOT a)"},
    {"select NOT NOT a",
     "SELECT (NOT NOT a)"},
    /* NOT is written as MariaDB's negate_expression writes it. */
    {"select not a = b",
     "SELECT (a <> b)"},
    {"select not (a < b or c >= d) and not not (e <=> f)",
     "SELECT (((a >= b) AND (c < d)) AND (e <=> f))"},
    {"select not (a like 'x' and b is null and c between 1 and 2 and "
     "d in (1) and (e xor f) and not g)",
     "SELECT ((a NOT LIKE 'x') OR (b IS NOT NULL) OR (c NOT BETWEEN 1 AND 2) "
     "OR (d NOT IN (1)) OR (NOT (e XOR f)) OR (NOT NOT g))"},
    {"select not (a <=> b), not (a is true)",
     "SELECT (NOT (a <=> b)), (NOT (a IS TRUE))"},
    {"select a = b = c",
     "SELECT (a = b = c)"},
    {"select a + b * c",
     "SELECT (a + (b * c))"},
    {"select (a + b) * c",
     "SELECT ((a + b) * c)"},
    {"select a - b - c",
     "SELECT (a - b - c)"},
    {"select a / b / c",
     "SELECT (a / b / c)"},
    {"select a * b div c mod d % e",
     "SELECT (a * b DIV c % d % e)"},
    {"select a ^ b ^ c",
     "SELECT (a ^ b ^ c)"},
    {"select -a ^ b",
     "SELECT (-a ^ b)"},
    {"select a << 1 >> 2",
     "SELECT (a << 1 >> 2)"},
    {"select a | b & c",
     "SELECT (a | (b & c))"},
    {"select a & b | c",
     "SELECT ((a & b) | c)"},
    {"select a + b << c",
     "SELECT ((a + b) << c)"},
    {"select 1 + 2 = 3",
     "SELECT ((1 + 2) = 3)"},
    {"select a < b",
     "SELECT (a < b)"},
    {"select a <= b",
     "SELECT (a <= b)"},
    {"select a > b",
     "SELECT (a > b)"},
    {"select a >= b",
     "SELECT (a >= b)"},
    {"select a <> b",
     "SELECT (a <> b)"},
    {"select a != b",
     "SELECT (a <> b)"},
    {"select a <=> NULL",
     "SELECT (a <=> NULL)"},
    {"select a is null",
     "SELECT (a IS NULL)"},
    {"select a is not null",
     "SELECT (a IS NOT NULL)"},
    {"select a is true",
     "SELECT (a IS TRUE)"},
    {"select a is not false",
     "SELECT (a IS NOT FALSE)"},
    {"select a is unknown",
     "SELECT (a IS UNKNOWN)"},
    {"select a = 1 is true",
     "SELECT (a = 1 IS TRUE)"},
    {"select a like 'x%'",
     "SELECT (a LIKE 'x%')"},
    {"select a not like '%\\_%' escape '|'",
     "SELECT (a NOT LIKE '%\\\\_%' ESCAPE '|')"},
    {"select a regexp '^x'",
     "SELECT (a REGEXP '^x')"},
    {"select a not rlike 'y'",
     "SELECT (a NOT REGEXP 'y')"},
    {"select a between 1 and 10",
     "SELECT (a BETWEEN 1 AND 10)"},
    {"select a not between b and c + 1",
     "SELECT (a NOT BETWEEN b AND (c + 1))"},
    {"select a between 1 and 2 and b",
     "SELECT ((a BETWEEN 1 AND 2) AND b)"},
    {"select a in (1)",
     "SELECT (a IN (1))"},
    {"select a in (1, 2, 3)",
     "SELECT (a IN (1, 2, 3))"},
    {"select a not in ('x', 'y')",
     "SELECT (a NOT IN ('x', 'y'))"},
    {"select a in (select b from t)",
     "SELECT (a IN (SELECT b FROM t))"},
    {"select a not in (select b from t where c)",
     "SELECT (a NOT IN (SELECT b FROM t WHERE c))"},
    {"select (a, b) in ((1, 2), (3, 4))",
     "SELECT ((a, b) IN ((1, 2), (3, 4)))"},
    {"select (a, b) = (1, 2)",
     "SELECT ((a, b) = (1, 2))"},
    {"select row(a, b) = row(1, 2)",
     "SELECT ((a, b) = (1, 2))"},
    {"select exists (select 1 from t)",
     "SELECT EXISTS (SELECT 1 FROM t)"},
    {"select not exists (select 1)",
     "SELECT (NOT EXISTS (SELECT 1))"},
    {"select (select max(a) from t)",
     "SELECT (SELECT MAX(a) FROM t)"},
    {"select a = (select 1)",
     "SELECT (a = (SELECT 1))"},
    {"select a > any (select b from t)",
     "SELECT (a > ANY (SELECT b FROM t))"},
    {"select a = some (select b from t)",
     "SELECT (a = ANY (SELECT b FROM t))"},
    {"select a <> all (select b from t)",
     "SELECT (a <> ALL (SELECT b FROM t))"},
    {"select a and b",
     "SELECT (a AND b)"},
    {"select a && b",
     "SELECT (a AND b)"},
    {"select a or b or c",
     "SELECT (a OR b OR c)"},
    {"select a || b",
     "SELECT (a OR b)"},
    {"select a xor b",
     "SELECT (a XOR b)"},
    {"select a or b and c",
     "SELECT (a OR (b AND c))"},
    {"select (a or b) and c",
     "SELECT ((a OR b) AND c)"},
    {"select a and b or c and d",
     "SELECT ((a AND b) OR (c AND d))"},
    {"select a and (b or c)",
     "SELECT (a AND (b OR c))"},
    {"select not (a and b)",
     "SELECT ((NOT a) OR (NOT b))"},
    {"select a = 1 and b = 2 or c = 3",
     "SELECT (((a = 1) AND (b = 2)) OR (c = 3))"},
    {"select null",
     "SELECT NULL"},
    {"select true",
     "SELECT TRUE"},
    {"select false",
     "SELECT FALSE"},
    {"select TRUE and FALSE",
     "SELECT (TRUE AND FALSE)"},
    {"select 'abc'",
     "SELECT 'abc'"},
    {"select 'a' 'b' 'c'",
     "SELECT 'abc'"},
    {"select \"dq\"",
     "SELECT 'dq'"},
    {"select 'it''s'",
     "SELECT 'it\\'s'"},
    {"select 'it\\'s'",
     "SELECT 'it\\'s'"},
    {"select 'tab\\there'",
     "SELECT 'tab\there'"},
    {"select 'nul\\0byte'",
     "SELECT 'nul\\0byte'"},
    {"select 'back\\\\slash'",
     "SELECT 'back\\\\slash'"},
    {"select _utf8mb4'abc'",
     "SELECT _utf8mb4'abc'"},
    {"select _binary 'x'",
     "SELECT _binary'x'"},
    {"select _latin1 X'41'",
     "SELECT _latin1 X'41'"},
    {"select N'national'",
     "SELECT _utf8mb4'national'"},
    {"select X'DEADbeef'",
     "SELECT X'DEADBEEF'"},
    {"select x''",
     "SELECT X''"},
    {"select 0xff",
     "SELECT X'FF'"},
    {"select b'1010'",
     "SELECT b'1010'"},
    {"select 0b1",
     "SELECT b'1'"},
    {"select DATE '2020-01-02'",
     "SELECT DATE '2020-01-02'"},
    {"select TIME '10:00:00'",
     "SELECT TIME '10:00:00'"},
    {"select TIMESTAMP '2020-01-02 10:00:00'",
     "SELECT TIMESTAMP '2020-01-02 10:00:00'"},
    {"select 18446744073709551615",
     "SELECT 18446744073709551615"},
    {"select 18446744073709551616",
     "SELECT 18446744073709551616"},
    {"select 9223372036854775807",
     "SELECT 9223372036854775807"},
    {"select -9223372036854775808",
     "SELECT -9223372036854775808"},
    {"select -9223372036854775809",
     "SELECT -9223372036854775809"},
    {"select 007",
     "SELECT 7"},
    {"select 1.0",
     "SELECT 1.0"},
    {"select .5",
     "SELECT 0.5"},
    {"select 1e10",
     "SELECT 1e10"},
    {"select -1.5e-3",
     "SELECT -1.5e-3"},
    {"select ?",
     "SELECT ?"},
    {"select @v",
     "SELECT @v"},
    {"select @`my var`",
     "SELECT @`my var`"},
    {"select @@autocommit",
     "SELECT @@autocommit"},
    {"select @@session.sql_mode",
     "SELECT @@session.sql_mode"},
    {"select @@global.max_connections",
     "SELECT @@global.max_connections"},
    {"select @@SESSION.time_zone",
     "SELECT @@session.time_zone"},
    {"select a",
     "SELECT a"},
    {"select t.a",
     "SELECT t.a"},
    {"select db.t.a",
     "SELECT db.t.a"},
    {"select `select`",
     "SELECT `select`"},
    {"select `a``b`",
     "SELECT `a``b`"},
    {"select t.`from`",
     "SELECT t.`from`"},
    {"select count(*)",
     "SELECT COUNT(*)"},
    {"select count(a)",
     "SELECT COUNT(a)"},
    {"select count(distinct a)",
     "SELECT COUNT(DISTINCT a)"},
    {"select count(distinct a, b)",
     "SELECT COUNT(DISTINCT a, b)"},
    {"select sum(distinct a)",
     "SELECT SUM(DISTINCT a)"},
    {"select avg(all a)",
     "SELECT AVG(a)"},
    {"select min(a) + max(b)",
     "SELECT (MIN(a) + MAX(b))"},
    {"select group_concat(a)",
     "SELECT GROUP_CONCAT(a)"},
    {"select group_concat(distinct a, b order by a desc, b separator ',')",
     "SELECT GROUP_CONCAT(DISTINCT a, b ORDER BY a DESC, b SEPARATOR ',')"},
    {"select group_concat(a separator '')",
     "SELECT GROUP_CONCAT(a SEPARATOR '')"},
    {"select std(a)",
     "SELECT STD(a)"},
    {"select now()",
     "SELECT NOW()"},
    {"select NOW()",
     "SELECT NOW()"},
    {"select current_timestamp",
     "SELECT CURRENT_TIMESTAMP"},
    {"select current_timestamp()",
     "SELECT CURRENT_TIMESTAMP()"},
    {"select current_timestamp(6)",
     "SELECT CURRENT_TIMESTAMP(6)"},
    {"select current_date",
     "SELECT CURRENT_DATE"},
    {"select curdate()",
     "SELECT CURDATE()"},
    {"select utc_timestamp",
     "SELECT UTC_TIMESTAMP"},
    {"select localtime",
     "SELECT LOCALTIME"},
    {"select current_user",
     "SELECT CURRENT_USER"},
    {"select current_user()",
     "SELECT CURRENT_USER()"},
    {"select database()",
     "SELECT DATABASE()"},
    {"select user()",
     "SELECT USER()"},
    {"select version()",
     "SELECT VERSION()"},
    {"select connection_id()",
     "SELECT CONNECTION_ID()"},
    {"select last_insert_id()",
     "SELECT LAST_INSERT_ID()"},
    {"select found_rows()",
     "SELECT FOUND_ROWS()"},
    {"select row_count()",
     "SELECT ROW_COUNT()"},
    {"select if(a > 1, 'x', 'y')",
     "SELECT IF((a > 1), 'x', 'y')"},
    {"select ifnull(a, 0)",
     "SELECT IFNULL(a, 0)"},
    {"select nullif(a, b)",
     "SELECT NULLIF(a, b)"},
    {"select coalesce(a, b, c)",
     "SELECT COALESCE(a, b, c)"},
    {"select concat(a, '-', b)",
     "SELECT CONCAT(a, '-', b)"},
    {"select concat_ws(',', a, b)",
     "SELECT CONCAT_WS(',', a, b)"},
    {"select length(a)",
     "SELECT LENGTH(a)"},
    {"select char_length(a)",
     "SELECT CHAR_LENGTH(a)"},
    {"select lower(a)",
     "SELECT LOWER(a)"},
    {"select upper(a)",
     "SELECT UPPER(a)"},
    {"select left(a, 3)",
     "SELECT LEFT(a, 3)"},
    {"select right(a, 3)",
     "SELECT RIGHT(a, 3)"},
    {"select substring(a, 2)",
     "SELECT SUBSTRING(a, 2)"},
    {"select substring(a, 2, 3)",
     "SELECT SUBSTRING(a, 2, 3)"},
    {"select substring(a from 2)",
     "SELECT SUBSTRING(a, 2)"},
    {"select substring(a from 2 for 3)",
     "SELECT SUBSTRING(a, 2, 3)"},
    {"select substr(a, 1, 2)",
     "SELECT SUBSTR(a, 1, 2)"},
    {"select trim(a)",
     "SELECT TRIM(a)"},
    {"select trim(both 'x' from a)",
     "SELECT TRIM(BOTH 'x' FROM a)"},
    {"select trim(leading from a)",
     "SELECT TRIM(LEADING FROM a)"},
    {"select trim(trailing 'y' from a)",
     "SELECT TRIM(TRAILING 'y' FROM a)"},
    {"select trim('z' from a)",
     "SELECT TRIM(BOTH 'z' FROM a)"},
    {"select replace(a, 'x', 'y')",
     "SELECT REPLACE(a, 'x', 'y')"},
    {"select insert(a, 1, 2, 'z')",
     "SELECT INSERT(a, 1, 2, 'z')"},
    {"select locate('a', b)",
     "SELECT LOCATE('a', b)"},
    {"select position('a' in b)",
     "SELECT LOCATE('a', b)"},
    {"select instr(a, 'b')",
     "SELECT INSTR(a, 'b')"},
    {"select lpad(a, 5, '0')",
     "SELECT LPAD(a, 5, '0')"},
    {"select repeat('ab', 3)",
     "SELECT REPEAT('ab', 3)"},
    {"select reverse(a)",
     "SELECT REVERSE(a)"},
    {"select char(65, 66)",
     "SELECT CHAR(65, 66)"},
    {"select char(65 using utf8mb4)",
     "SELECT CHAR(65 USING utf8mb4)"},
    {"select ascii('a')",
     "SELECT ASCII('a')"},
    {"select hex(a)",
     "SELECT HEX(a)"},
    {"select unhex('41')",
     "SELECT UNHEX('41')"},
    {"select md5(a)",
     "SELECT MD5(a)"},
    {"select sha1(a)",
     "SELECT SHA1(a)"},
    {"select sha2(a, 256)",
     "SELECT SHA2(a, 256)"},
    {"select abs(-1)",
     "SELECT ABS(-1)"},
    {"select ceil(a)",
     "SELECT CEIL(a)"},
    {"select floor(a)",
     "SELECT FLOOR(a)"},
    {"select round(a, 2)",
     "SELECT ROUND(a, 2)"},
    {"select truncate(a, 2)",
     "SELECT TRUNCATE(a, 2)"},
    {"select mod(a, 3)",
     "SELECT MOD(a, 3)"},
    {"select pow(2, 10)",
     "SELECT POW(2, 10)"},
    {"select sqrt(4)",
     "SELECT SQRT(4)"},
    {"select rand()",
     "SELECT RAND()"},
    {"select greatest(a, b)",
     "SELECT GREATEST(a, b)"},
    {"select least(a, b)",
     "SELECT LEAST(a, b)"},
    {"select cast(a as signed)",
     "SELECT CAST(a AS SIGNED)"},
    {"select cast(a as signed integer)",
     "SELECT CAST(a AS SIGNED)"},
    {"select cast(a as unsigned)",
     "SELECT CAST(a AS UNSIGNED)"},
    {"select cast(a as char)",
     "SELECT CAST(a AS CHAR)"},
    {"select cast(a as char(10))",
     "SELECT CAST(a AS CHAR(10))"},
    {"select cast(a as char character set utf8mb4)",
     "SELECT CAST(a AS CHAR CHARACTER SET utf8mb4)"},
    {"select cast(a as binary)",
     "SELECT CAST(a AS BINARY)"},
    {"select cast(a as binary(4))",
     "SELECT CAST(a AS BINARY(4))"},
    {"select cast(a as date)",
     "SELECT CAST(a AS DATE)"},
    {"select cast(a as datetime(6))",
     "SELECT CAST(a AS DATETIME(6))"},
    {"select cast(a as time)",
     "SELECT CAST(a AS TIME)"},
    {"select cast(a as decimal(10, 2))",
     "SELECT CAST(a AS DECIMAL(10,2))"},
    {"select cast(a as decimal)",
     "SELECT CAST(a AS DECIMAL)"},
    {"select cast(a as double)",
     "SELECT CAST(a AS DOUBLE)"},
    {"select cast(a as json)",
     "SELECT CAST(a AS JSON)"},
    {"select convert(a, unsigned)",
     "SELECT CONVERT(a, UNSIGNED)"},
    {"select convert(a using utf8mb4)",
     "SELECT CONVERT(a USING utf8mb4)"},
    {"select convert(a using binary)",
     "SELECT CONVERT(a USING `BINARY`)"},
    {"select extract(year from d)",
     "SELECT EXTRACT(YEAR FROM d)"},
    {"select extract(day_hour from d)",
     "SELECT EXTRACT(DAY_HOUR FROM d)"},
    {"select date_add(d, interval 1 day)",
     "SELECT DATE_ADD(d, INTERVAL 1 DAY)"},
    {"select date_sub(d, interval '1:2' hour_minute)",
     "SELECT DATE_SUB(d, INTERVAL '1:2' HOUR_MINUTE)"},
    {"select adddate(d, interval 2 week)",
     "SELECT ADDDATE(d, INTERVAL 2 WEEK)"},
    {"select d + interval 1 month",
     "SELECT (d + INTERVAL 1 MONTH)"},
    {"select interval 1 year + d",
     "SELECT (INTERVAL 1 YEAR + d)"},
    {"select d - interval (a + 1) second",
     "SELECT (d - INTERVAL (a + 1) SECOND)"},
    {"select timestampdiff(day, a, b)",
     "SELECT TIMESTAMPDIFF(DAY, a, b)"},
    {"select timestampadd(minute, 5, a)",
     "SELECT TIMESTAMPADD(MINUTE, 5, a)"},
    {"select date_format(d, '%Y-%m-%d')",
     "SELECT DATE_FORMAT(d, '%Y-%m-%d')"},
    {"select str_to_date('2020', '%Y')",
     "SELECT STR_TO_DATE('2020', '%Y')"},
    {"select unix_timestamp()",
     "SELECT UNIX_TIMESTAMP()"},
    {"select from_unixtime(0)",
     "SELECT FROM_UNIXTIME(0)"},
    {"select year(d)",
     "SELECT YEAR(d)"},
    {"select month(d)",
     "SELECT MONTH(d)"},
    {"select day(d)",
     "SELECT DAY(d)"},
    {"select hour(d)",
     "SELECT HOUR(d)"},
    {"select date(d)",
     "SELECT DATE(d)"},
    {"select time(d)",
     "SELECT TIME(d)"},
    {"select datediff(a, b)",
     "SELECT DATEDIFF(a, b)"},
    {"select dayofweek(d)",
     "SELECT DAYOFWEEK(d)"},
    {"select week(d)",
     "SELECT WEEK(d)"},
    {"select case when a = 1 then 'one' when a = 2 then 'two' else 'many' end",
     "SELECT CASE WHEN (a = 1) THEN 'one' WHEN (a = 2) THEN 'two' ELSE 'many' END"},
    {"select case a when 1 then 'x' end",
     "SELECT CASE a WHEN 1 THEN 'x' END"},
    {"select case when a then b end",
     "SELECT CASE WHEN a THEN b END"},
    {"select a collate utf8mb4_bin",
     "SELECT (a COLLATE utf8mb4_bin)"},
    {"select a collate 'utf8mb4_general_ci' = b",
     "SELECT ((a COLLATE utf8mb4_general_ci) = b)"},
    {"select binary a = b",
     "SELECT (BINARY a = b)"},
    {"select binary 'x'",
     "SELECT BINARY 'x'"},
    {"select binary(a), binary!'x'",
     "SELECT BINARY a, BINARY (NOT 'x')"},
    {"select default",
     "SELECT DEFAULT"},
    {"select default(a)",
     "SELECT DEFAULT(a)"},
    {"select values(a)",
     "SELECT VALUES(a)"},
    {"select a + values(b)",
     "SELECT (a + VALUES(b))"},
    {"select {d '2020-01-01'}",
     "SELECT '2020-01-01'"},
    {"select json_extract(a, '$.x')",
     "SELECT JSON_EXTRACT(a, '$.x')"},
    {"select a = 1 or a = 2 or a = 3 or a = 4",
     "SELECT ((a = 1) OR (a = 2) OR (a = 3) OR (a = 4))"},
    {"select f(g(h(1)))",
     "SELECT F(G(H(1)))"},
    {"select my_func(1, 'a')",
     "SELECT MY_FUNC(1, 'a')"},
};

static const struct pcase query_cases[] = {
    {"select 1",
     "SELECT 1"},
    {"SELECT 1 FROM dual",
     "SELECT 1"},
    {"select a, b from t",
     "SELECT a, b FROM t"},
    {"select * from t",
     "SELECT * FROM t"},
    {"select t.*, u.a from t, u",
     "SELECT t.*, u.a FROM t, u"},
    {"select db.t.* from db.t",
     "SELECT db.t.* FROM db.t"},
    {"select a as x, b y, c 'z', d as \"w\" from t",
     "SELECT a AS x, b AS y, c AS z, d AS w FROM t"},
    {"select distinct a from t",
     "SELECT DISTINCT a FROM t"},
    {"select distinctrow a from t",
     "SELECT DISTINCT a FROM t"},
    {"select all a from t",
     "SELECT a FROM t"},
    {"select sql_calc_found_rows * from t limit 10",
     "SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10"},
    {"select sql_no_cache a from t",
     "SELECT a FROM t"},
    {"select high_priority straight_join sql_small_result a from t",
     "SELECT a FROM t"},
    {"select a from t where b = 1",
     "SELECT a FROM t WHERE (b = 1)"},
    {"select a from t where b = 1 and c > 2 order by a",
     "SELECT a FROM t WHERE ((b = 1) AND (c > 2)) ORDER BY a"},
    {"select a from t order by a asc, b desc",
     "SELECT a FROM t ORDER BY a, b DESC"},
    {"select a from t order by 1",
     "SELECT a FROM t ORDER BY 1"},
    {"select a, count(*) from t group by a",
     "SELECT a, COUNT(*) FROM t GROUP BY a"},
    {"select a, count(*) c from t group by a having c > 1",
     "SELECT a, COUNT(*) AS c FROM t GROUP BY a HAVING (c > 1)"},
    {"select a, count(*) from t group by a, b desc having count(*) > 1 order by 2 desc",
     "SELECT a, COUNT(*) FROM t GROUP BY a, b DESC HAVING (COUNT(*) > 1) ORDER BY 2 DESC"},
    {"select a from t limit 10",
     "SELECT a FROM t LIMIT 10"},
    {"select a from t limit 5, 10",
     "SELECT a FROM t LIMIT 10 OFFSET 5"},
    {"select a from t limit 10 offset 5",
     "SELECT a FROM t LIMIT 10 OFFSET 5"},
    {"select a from t limit ?",
     "SELECT a FROM t LIMIT ?"},
    {"select a from t limit ?, ?",
     "SELECT a FROM t LIMIT ? OFFSET ?"},
    {"select a from t for update",
     "SELECT a FROM t FOR UPDATE"},
    {"select a from t for share",
     "SELECT a FROM t LOCK IN SHARE MODE"},
    {"select a from t lock in share mode",
     "SELECT a FROM t LOCK IN SHARE MODE"},
    {"select a from t where id = 1 for update",
     "SELECT a FROM t WHERE (id = 1) FOR UPDATE"},
    {"select * from t1 join t2 on t1.a = t2.a",
     "SELECT * FROM t1 JOIN t2 ON (t1.a = t2.a)"},
    {"select * from t1 inner join t2 on t1.a = t2.a",
     "SELECT * FROM t1 JOIN t2 ON (t1.a = t2.a)"},
    {"select * from t1 cross join t2",
     "SELECT * FROM t1 CROSS JOIN t2"},
    {"select * from t1 join t2",
     "SELECT * FROM t1 JOIN t2"},
    {"select * from t1 left join t2 on t1.a = t2.a",
     "SELECT * FROM t1 LEFT JOIN t2 ON (t1.a = t2.a)"},
    {"select * from t1 left outer join t2 using (a)",
     "SELECT * FROM t1 LEFT JOIN t2 USING (a)"},
    {"select * from t1 right join t2 on t1.a = t2.a",
     "SELECT * FROM t1 RIGHT JOIN t2 ON (t1.a = t2.a)"},
    {"select * from t1 natural join t2",
     "SELECT * FROM t1 NATURAL JOIN t2"},
    {"select * from t1 natural left join t2",
     "SELECT * FROM t1 NATURAL LEFT JOIN t2"},
    {"select * from t1 natural right outer join t2",
     "SELECT * FROM t1 NATURAL RIGHT JOIN t2"},
    {"select * from t1 straight_join t2 on t1.a = t2.a",
     "SELECT * FROM t1 STRAIGHT_JOIN t2 ON (t1.a = t2.a)"},
    {"select * from t1, t2, t3",
     "SELECT * FROM t1, t2, t3"},
    {"select * from t1, t2 join t3 on t2.a = t3.a",
     "SELECT * FROM t1, (t2 JOIN t3 ON (t2.a = t3.a))"},
    {"select * from (t1, t2) join t3 on t1.a = t3.a",
     "SELECT * FROM (t1, t2) JOIN t3 ON (t1.a = t3.a)"},
    {"select * from t1 join (t2 join t3 on t2.a = t3.a) on t1.a = t2.a",
     "SELECT * FROM t1 JOIN (t2 JOIN t3 ON (t2.a = t3.a)) ON (t1.a = t2.a)"},
    {"select * from (t1)",
     "SELECT * FROM t1"},
    {"select * from t1 join t2 on a = b join t3 on c = d left join t4 using (e, f)",
     "SELECT * FROM t1 JOIN t2 ON (a = b) JOIN t3 ON (c = d) LEFT JOIN t4 USING (e, f)"},
    {"select * from t as a, t as b where a.id = b.id",
     "SELECT * FROM t AS a, t AS b WHERE (a.id = b.id)"},
    {"select * from t a",
     "SELECT * FROM t AS a"},
    {"select * from db.t",
     "SELECT * FROM db.t"},
    {"select * from `db`.`t` `x`",
     "SELECT * FROM db.t AS x"},
    {"select * from (select a from t) as d",
     "SELECT * FROM (SELECT a FROM t) AS d"},
    {"select * from (select a from t) d where d.a > 1",
     "SELECT * FROM (SELECT a FROM t) AS d WHERE (d.a > 1)"},
    {"select * from (select a from t union select b from u) as d",
     "SELECT * FROM (SELECT a FROM t UNION SELECT b FROM u) AS d"},
    {"select * from t use index (i1, i2) where a = 1",
     "SELECT * FROM t USE INDEX (i1, i2) WHERE (a = 1)"},
    {"select * from t use index () where a = 1",
     "SELECT * FROM t USE INDEX () WHERE (a = 1)"},
    {"select * from t force index (primary)",
     "SELECT * FROM t FORCE INDEX (`PRIMARY`)"},
    {"select * from t ignore key (k) where a",
     "SELECT * FROM t IGNORE INDEX (k) WHERE a"},
    {"select * from t use index for join (i)",
     "SELECT * FROM t USE INDEX (i)"},
    {"select * from t force index for order by (i)",
     "SELECT * FROM t FORCE INDEX (i)"},
    {"select 1 union select 2",
     "SELECT 1 UNION SELECT 2"},
    {"select 1 union all select 2",
     "SELECT 1 UNION ALL SELECT 2"},
    {"select 1 union distinct select 2",
     "SELECT 1 UNION SELECT 2"},
    {"select 1 union select 2 union all select 3",
     "SELECT 1 UNION SELECT 2 UNION ALL SELECT 3"},
    {"select a from t union select b from u order by 1 limit 3",
     "SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 3"},
    {"(select a from t order by a limit 1) union (select b from u)",
     "(SELECT a FROM t ORDER BY a LIMIT 1) UNION SELECT b FROM u"},
    {"(select 1) union (select 2 union select 3)",
     "SELECT 1 UNION (SELECT 2 UNION SELECT 3)"},
    {"(select a from t) order by a",
     "SELECT a FROM t ORDER BY a"},
    {"select 1 union (select 2) limit 1",
     "SELECT 1 UNION SELECT 2 LIMIT 1"},
    {"select (select 1)",
     "SELECT (SELECT 1)"},
    {"select a, (select max(b) from u where u.a = t.a) as m from t",
     "SELECT a, (SELECT MAX(b) FROM u WHERE (u.a = t.a)) AS m FROM t"},
    {"select * from t where exists (select 1 from u where u.a = t.a)",
     "SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE (u.a = t.a))"},
    {"select * from t where a in (select a from u) and b not in (1, 2)",
     "SELECT * FROM t WHERE ((a IN (SELECT a FROM u)) AND (b NOT IN (1, 2)))"},
    {"select count(*) from t where a is not null",
     "SELECT COUNT(*) FROM t WHERE (a IS NOT NULL)"},
    {"select a, b, c from t where (a, b) > (1, 2)",
     "SELECT a, b, c FROM t WHERE ((a, b) > (1, 2))"},
    {"select if(count(*) > 0, 'y', 'n') from t",
     "SELECT IF((COUNT(*) > 0), 'y', 'n') FROM t"},
    {"select 2",
     "SELECT 2"},
    {"insert into t values (1, 'a')",
     "INSERT INTO t VALUES (1, 'a')"},
    {"insert into t (a, b) values (1, 2), (3, 4)",
     "INSERT INTO t (a, b) VALUES (1, 2), (3, 4)"},
    {"insert into t (a) value (1)",
     "INSERT INTO t (a) VALUES (1)"},
    {"insert t (a) values (1)",
     "INSERT INTO t (a) VALUES (1)"},
    {"insert into db.t values ()",
     "INSERT INTO db.t VALUES ()"},
    {"insert into t () values ()",
     "INSERT INTO t VALUES ()"},
    {"insert into t values (default, null, -1, ?)",
     "INSERT INTO t VALUES (DEFAULT, NULL, -1, ?)"},
    {"insert ignore into t values (1)",
     "INSERT IGNORE INTO t VALUES (1)"},
    {"insert low_priority into t values (1)",
     "INSERT LOW_PRIORITY INTO t VALUES (1)"},
    {"insert high_priority ignore into t values (1)",
     "INSERT HIGH_PRIORITY IGNORE INTO t VALUES (1)"},
    {"insert into t (a, b) values (1, 2) on duplicate key update b = values(b)",
     "INSERT INTO t (a, b) VALUES (1, 2) ON DUPLICATE KEY UPDATE b = VALUES(b)"},
    {"insert into t values (1) on duplicate key update a = a + 1, b = default",
     "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = (a + 1), b = DEFAULT"},
    {"insert into t set a = 1, b = 'x'",
     "INSERT INTO t SET a = 1, b = 'x'"},
    {"insert into t set a = 1 on duplicate key update a = 2",
     "INSERT INTO t SET a = 1 ON DUPLICATE KEY UPDATE a = 2"},
    {"insert into t select * from u",
     "INSERT INTO t SELECT * FROM u"},
    {"insert into t (a) select b from u where c > 1",
     "INSERT INTO t (a) SELECT b FROM u WHERE (c > 1)"},
    {"insert into t (select * from u)",
     "INSERT INTO t SELECT * FROM u"},
    {"insert into t (a, b) select 1, 2 union select 3, 4",
     "INSERT INTO t (a, b) SELECT 1, 2 UNION SELECT 3, 4"},
    {"replace into t values (1, 2)",
     "REPLACE INTO t VALUES (1, 2)"},
    {"replace t (a) values (1)",
     "REPLACE INTO t (a) VALUES (1)"},
    {"replace into t set a = 1",
     "REPLACE INTO t SET a = 1"},
    {"replace into t select * from u",
     "REPLACE INTO t SELECT * FROM u"},
    {"update t set a = 1",
     "UPDATE t SET a = 1"},
    {"update t set a = a + 1 where id = 5",
     "UPDATE t SET a = (a + 1) WHERE (id = 5)"},
    {"update t set a = 1, b = default where c order by d limit 10",
     "UPDATE t SET a = 1, b = DEFAULT WHERE c ORDER BY d LIMIT 10"},
    {"update low_priority ignore t set a = 1",
     "UPDATE LOW_PRIORITY IGNORE t SET a = 1"},
    {"update db.t set t.a = 1",
     "UPDATE db.t SET t.a = 1"},
    {"update t set a := 1",
     "UPDATE t SET a = 1"},
    {"update t1, t2 set t1.a = t2.a where t1.id = t2.id",
     "UPDATE t1, t2 SET t1.a = t2.a WHERE (t1.id = t2.id)"},
    {"update t1 join t2 on t1.id = t2.id set t1.a = 1",
     "UPDATE t1 JOIN t2 ON (t1.id = t2.id) SET t1.a = 1"},
    {"update t set a = 1 limit ?",
     "UPDATE t SET a = 1 LIMIT ?"},
    {"delete from t",
     "DELETE FROM t"},
    {"delete from t where a = 1",
     "DELETE FROM t WHERE (a = 1)"},
    {"delete from t where a order by b desc limit 1",
     "DELETE FROM t WHERE a ORDER BY b DESC LIMIT 1"},
    {"delete low_priority quick ignore from t where a",
     "DELETE LOW_PRIORITY QUICK IGNORE FROM t WHERE a"},
    {"delete from db.t where a",
     "DELETE FROM db.t WHERE a"},
    {"delete from t as x where x.a = 1",
     "DELETE FROM t AS x WHERE (x.a = 1)"},
    {"delete from t limit 5",
     "DELETE FROM t LIMIT 5"},
};

static const struct pcase ddl_cases[] = {
    {"create database d",
     "CREATE DATABASE d"},
    {"create database if not exists d",
     "CREATE DATABASE IF NOT EXISTS d"},
    {"create schema d",
     "CREATE DATABASE d"},
    {"create database d character set utf8mb4",
     "CREATE DATABASE d CHARACTER SET utf8mb4"},
    {"create database d default charset = utf8mb4 default collate = utf8mb4_bin",
     "CREATE DATABASE d CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"},
    {"create database `my db` collate utf8mb4_general_ci",
     "CREATE DATABASE `my db` COLLATE utf8mb4_general_ci"},
    {"drop database d",
     "DROP DATABASE d"},
    {"drop database if exists d",
     "DROP DATABASE IF EXISTS d"},
    {"drop schema d",
     "DROP DATABASE d"},
    {"create table t (a int)",
     "CREATE TABLE t (a INT)"},
    {"create table if not exists t (a int)",
     "CREATE TABLE IF NOT EXISTS t (a INT)"},
    {"create temporary table t (a int)",
     "CREATE TEMPORARY TABLE t (a INT)"},
    {"create table db.t (a int)",
     "CREATE TABLE db.t (a INT)"},
    {"create table t (a int, b varchar(10))",
     "CREATE TABLE t (a INT, b VARCHAR(10))"},
    {"create table t (id int primary key, v text)",
     "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)"},
    {"create table t (id int not null auto_increment, primary key (id))",
     "CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT, PRIMARY KEY (id))"},
    {"create table t (id bigint unsigned not null auto_increment primary key)",
     "CREATE TABLE t (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY)"},
    {"create table t (a int unique, b int unique key, c int key)",
     "CREATE TABLE t (a INT UNIQUE KEY, b INT UNIQUE KEY, c INT PRIMARY KEY)"},
    {"create table t (a int null default null)",
     "CREATE TABLE t (a INT NULL DEFAULT NULL)"},
    {"create table t (a int default 1 not null)",
     "CREATE TABLE t (a INT NOT NULL DEFAULT 1)"},
    {"create table t (a int default -1)",
     "CREATE TABLE t (a INT DEFAULT -1)"},
    {"create table t (a decimal(10,2) default 0.00)",
     "CREATE TABLE t (a DECIMAL(10,2) DEFAULT 0.00)"},
    {"create table t (a varchar(10) default 'x' comment 'the a')",
     "CREATE TABLE t (a VARCHAR(10) DEFAULT 'x' COMMENT 'the a')"},
    {"create table t (a char(10) character set latin1 collate latin1_bin)",
     "CREATE TABLE t (a CHAR(10) CHARACTER SET latin1 COLLATE latin1_bin)"},
    {"create table t (a varchar(10) charset utf8mb4)",
     "CREATE TABLE t (a VARCHAR(10) CHARACTER SET utf8mb4)"},
    {"create table t (a varchar(10) binary)",
     "CREATE TABLE t (a VARCHAR(10) COLLATE `binary`)"},
    {"create table t (a timestamp not null default current_timestamp on update current_timestamp)",
     "CREATE TABLE t (a TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP)"},
    {"create table t (a datetime(3) default current_timestamp(3) on update current_timestamp(3))",
     "CREATE TABLE t (a DATETIME(3) DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3))"},
    {"create table t (a datetime default now())",
     "CREATE TABLE t (a DATETIME DEFAULT NOW())"},
    {"create table t (a int default (1 + 1))",
     "CREATE TABLE t (a INT DEFAULT (1 + 1))"},
    {"create table t (a tinyint, b smallint, c mediumint, d int, e integer, f bigint)",
     "CREATE TABLE t (a TINYINT, b SMALLINT, c MEDIUMINT, d INT, e INT, f BIGINT)"},
    {"create table t (a int(11), b tinyint(1) unsigned, c int zerofill, d int unsigned zerofill)",
     "CREATE TABLE t (a INT(11), b TINYINT(1) UNSIGNED, c INT UNSIGNED ZEROFILL, d INT UNSIGNED ZEROFILL)"},
    {"create table t (a decimal, b decimal(10), c decimal(10,2) unsigned, d numeric(5,1), e dec(3), f fixed(4,2))",
     "CREATE TABLE t (a DECIMAL, b DECIMAL(10), c DECIMAL(10,2) UNSIGNED, d DECIMAL(5,1), e DECIMAL(3), f DECIMAL(4,2))"},
    {"create table t (a float, b float(7,3), c double, d double precision, e real, f double(10,2))",
     "CREATE TABLE t (a FLOAT, b FLOAT(7,3), c DOUBLE, d DOUBLE, e DOUBLE, f DOUBLE(10,2))"},
    {"create table t (a bit, b bit(8), c bool, d boolean)",
     "CREATE TABLE t (a BIT, b BIT(8), c BOOL, d BOOL)"},
    {"create table t (a char, b char(1), c varchar(255), d binary(16), e varbinary(32))",
     "CREATE TABLE t (a CHAR, b CHAR(1), c VARCHAR(255), d BINARY(16), e VARBINARY(32))"},
    {"create table t (a tinytext, b text, c text(100), d mediumtext, e longtext)",
     "CREATE TABLE t (a TINYTEXT, b TEXT, c TEXT(100), d MEDIUMTEXT, e LONGTEXT)"},
    {"create table t (a tinyblob, b blob, c mediumblob, d longblob, e blob(10))",
     "CREATE TABLE t (a TINYBLOB, b BLOB, c MEDIUMBLOB, d LONGBLOB, e BLOB(10))"},
    {"create table t (a date, b time, c time(3), d datetime, e timestamp(6), f year, g year(4))",
     "CREATE TABLE t (a DATE, b TIME, c TIME(3), d DATETIME, e TIMESTAMP(6), f YEAR, g YEAR(4))"},
    {"create table t (a enum('x', 'y', 'z') not null default 'x', b set('a', 'b'))",
     "CREATE TABLE t (a ENUM('x', 'y', 'z') NOT NULL DEFAULT 'x', b SET('a', 'b'))"},
    {"create table t (a json)",
     "CREATE TABLE t (a JSON)"},
    {"create table t (a national char(10), b nchar(5), c nvarchar(10), d character varying(5))",
     "CREATE TABLE t (a CHAR(10), b CHAR(5), c VARCHAR(10), d VARCHAR(5))"},
    {"create table t (a int, b int, primary key (a, b))",
     "CREATE TABLE t (a INT, b INT, PRIMARY KEY (a, b))"},
    {"create table t (a int, b int, unique key u (a), key k (b))",
     "CREATE TABLE t (a INT, b INT, UNIQUE KEY u (a), KEY k (b))"},
    {"create table t (a int, b int, unique (a), index (b), key (a, b))",
     "CREATE TABLE t (a INT, b INT, UNIQUE KEY (a), KEY (b), KEY (a, b))"},
    {"create table t (a int, unique index ua (a))",
     "CREATE TABLE t (a INT, UNIQUE KEY ua (a))"},
    {"create table t (a varchar(100), key k (a(10)))",
     "CREATE TABLE t (a VARCHAR(100), KEY k (a(10)))"},
    {"create table t (a int, b int, key k (a desc, b asc))",
     "CREATE TABLE t (a INT, b INT, KEY k (a DESC, b))"},
    {"create table t (a int, key k (a) using btree)",
     "CREATE TABLE t (a INT, KEY k (a) USING BTREE)"},
    {"create table t (a int, key k using hash (a))",
     "CREATE TABLE t (a INT, KEY k (a) USING HASH)"},
    {"create table t (a int, key k (a) comment 'idx')",
     "CREATE TABLE t (a INT, KEY k (a) COMMENT 'idx')"},
    {"create table t (a int, constraint pk primary key (a))",
     "CREATE TABLE t (a INT, CONSTRAINT pk PRIMARY KEY (a))"},
    {"create table t (a int, constraint uq unique key (a))",
     "CREATE TABLE t (a INT, CONSTRAINT uq UNIQUE KEY (a))"},
    {"create table t (a int, b int, foreign key (b) references p (id))",
     "CREATE TABLE t (a INT, b INT, FOREIGN KEY (b) REFERENCES p (id))"},
    {"create table t (a int, constraint fk foreign key fk_idx (a) references db.p (id) on delete cascade on update restrict)",
     "CREATE TABLE t (a INT, CONSTRAINT fk FOREIGN KEY fk_idx (a) REFERENCES db.p (id) ON DELETE CASCADE ON UPDATE RESTRICT)"},
    {"create table t (a int, foreign key (a) references p (id) on delete set null on update no action)",
     "CREATE TABLE t (a INT, FOREIGN KEY (a) REFERENCES p (id) ON DELETE SET NULL ON UPDATE NO ACTION)"},
    {"create table t (a int, fulltext key ft (a))",
     "CREATE TABLE t (a INT, FULLTEXT KEY ft (a))"},
    {"create table t (a int, check (a > 0))",
     "CREATE TABLE t (a INT)"},
    {"create table t (a int, constraint c check (a > 0))",
     "CREATE TABLE t (a INT)"},
    {"create table t (a int) engine = innodb",
     "CREATE TABLE t (a INT) ENGINE=innodb"},
    {"create table t (a int) engine=InnoDB default charset=utf8mb4",
     "CREATE TABLE t (a INT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"},
    {"create table t (a int) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci COMMENT='hi'",
     "CREATE TABLE t (a INT) ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci COMMENT='hi'"},
    {"create table t (a int) character set = latin1",
     "CREATE TABLE t (a INT) DEFAULT CHARSET=latin1"},
    {"create table t (a int) charset utf8",
     "CREATE TABLE t (a INT) DEFAULT CHARSET=utf8"},
    {"create table t (a int) row_format=dynamic",
     "CREATE TABLE t (a INT) ROW_FORMAT=`dynamic`"},
    {"create table t (a int) engine=innodb, default charset=utf8",
     "CREATE TABLE t (a INT) ENGINE=innodb DEFAULT CHARSET=utf8"},
    {"create table t (a int) stats_persistent=0",
     "CREATE TABLE t (a INT) STATS_PERSISTENT=0"},
    {"create table t like u",
     "CREATE TABLE t LIKE u"},
    {"create table t (like u)",
     "CREATE TABLE t LIKE u"},
    {"create table if not exists db.t like db.u",
     "CREATE TABLE IF NOT EXISTS db.t LIKE db.u"},
    {"drop table t",
     "DROP TABLE t"},
    {"drop table if exists t",
     "DROP TABLE IF EXISTS t"},
    {"drop table t, u, db.v",
     "DROP TABLE t, u, db.v"},
    {"drop temporary table if exists t",
     "DROP TEMPORARY TABLE IF EXISTS t"},
    {"drop tables t",
     "DROP TABLE t"},
    {"drop table t restrict",
     "DROP TABLE t"},
    {"create index i on t (a)",
     "CREATE INDEX i ON t (a)"},
    {"create unique index i on t (a, b)",
     "CREATE UNIQUE INDEX i ON t (a, b)"},
    {"create index i on db.t (a(10) desc)",
     "CREATE INDEX i ON db.t (a(10) DESC)"},
    {"create index i using btree on t (a)",
     "CREATE INDEX i ON t (a) USING BTREE"},
    {"create index i on t (a) using hash",
     "CREATE INDEX i ON t (a) USING HASH"},
    {"create fulltext index i on t (a)",
     "CREATE FULLTEXT INDEX i ON t (a)"},
    {"create index i on t (a) comment 'c'",
     "CREATE INDEX i ON t (a) COMMENT 'c'"},
    {"drop index i on t",
     "DROP INDEX i ON t"},
    {"drop index `primary` on t",
     "DROP INDEX `primary` ON t"},
    {"drop index i on db.t",
     "DROP INDEX i ON db.t"},
    {"alter table t add column c int",
     "ALTER TABLE t ADD COLUMN c INT"},
    {"alter table t add c int not null default 0 after b",
     "ALTER TABLE t ADD COLUMN c INT NOT NULL DEFAULT 0 AFTER b"},
    {"alter table t add column c int first",
     "ALTER TABLE t ADD COLUMN c INT FIRST"},
    {"alter table t add (c int, d int)",
     "ALTER TABLE t ADD COLUMN c INT, ADD COLUMN d INT"},
    {"alter table t drop column c",
     "ALTER TABLE t DROP COLUMN c"},
    {"alter table t drop c",
     "ALTER TABLE t DROP COLUMN c"},
    {"alter table t modify c bigint",
     "ALTER TABLE t MODIFY COLUMN c BIGINT"},
    {"alter table t modify column c varchar(20) not null first",
     "ALTER TABLE t MODIFY COLUMN c VARCHAR(20) NOT NULL FIRST"},
    {"alter table t change a b int",
     "ALTER TABLE t CHANGE COLUMN a b INT"},
    {"alter table t change column a b int after c",
     "ALTER TABLE t CHANGE COLUMN a b INT AFTER c"},
    {"alter table t add index i (a)",
     "ALTER TABLE t ADD KEY i (a)"},
    {"alter table t add key i (a, b)",
     "ALTER TABLE t ADD KEY i (a, b)"},
    {"alter table t add unique u (a)",
     "ALTER TABLE t ADD UNIQUE KEY u (a)"},
    {"alter table t add unique key u (a)",
     "ALTER TABLE t ADD UNIQUE KEY u (a)"},
    {"alter table t add primary key (a)",
     "ALTER TABLE t ADD PRIMARY KEY (a)"},
    {"alter table t add constraint fk foreign key (a) references p (id)",
     "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES p (id)"},
    {"alter table t add fulltext index f (a)",
     "ALTER TABLE t ADD FULLTEXT KEY f (a)"},
    {"alter table t drop index i",
     "ALTER TABLE t DROP INDEX i"},
    {"alter table t drop key i",
     "ALTER TABLE t DROP INDEX i"},
    {"alter table t drop primary key",
     "ALTER TABLE t DROP PRIMARY KEY"},
    {"alter table t drop foreign key fk",
     "ALTER TABLE t DROP FOREIGN KEY fk"},
    {"alter table t rename to u",
     "ALTER TABLE t RENAME TO u"},
    {"alter table t rename as db.u",
     "ALTER TABLE t RENAME TO db.u"},
    {"alter table t rename u",
     "ALTER TABLE t RENAME TO u"},
    {"alter table t rename column a to b",
     "ALTER TABLE t RENAME COLUMN a TO b"},
    {"alter table t rename index i to j",
     "ALTER TABLE t RENAME INDEX i TO j"},
    {"alter table t rename key i to j",
     "ALTER TABLE t RENAME INDEX i TO j"},
    {"alter table t engine = innodb",
     "ALTER TABLE t ENGINE=innodb"},
    {"alter table t auto_increment = 100",
     "ALTER TABLE t AUTO_INCREMENT=100"},
    {"alter table t comment = 'x'",
     "ALTER TABLE t COMMENT='x'"},
    {"alter table t alter column a set default 1",
     "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1"},
    {"alter table t alter a drop default",
     "ALTER TABLE t ALTER COLUMN a DROP DEFAULT"},
    {"alter table t disable keys",
     "ALTER TABLE t DISABLE KEYS"},
    {"alter table t enable keys",
     "ALTER TABLE t ENABLE KEYS"},
    {"alter table t add column a int, add index (a), drop column b",
     "ALTER TABLE t ADD COLUMN a INT, ADD KEY (a), DROP COLUMN b"},
    {"alter table db.t engine = innodb, add column x int",
     "ALTER TABLE db.t ENGINE=innodb, ADD COLUMN x INT"},
    {"truncate t",
     "TRUNCATE TABLE t"},
    {"truncate table t",
     "TRUNCATE TABLE t"},
    {"truncate table db.t",
     "TRUNCATE TABLE db.t"},
    {"rename table a to b",
     "RENAME TABLE a TO b"},
    {"rename table a to b, c to d",
     "RENAME TABLE a TO b, c TO d"},
    {"rename tables db.a to db2.a",
     "RENAME TABLE db.a TO db2.a"},
};

static const struct pcase admin_cases[] = {
    {"use d",
     "USE d"},
    {"use `my db`",
     "USE `my db`"},
    {"show databases",
     "SHOW DATABASES"},
    {"show schemas",
     "SHOW DATABASES"},
    {"show databases like 'd%'",
     "SHOW DATABASES LIKE 'd%'"},
    {"show databases where `Database` = 'x'",
     "SHOW DATABASES WHERE (`Database` = 'x')"},
    {"show tables",
     "SHOW TABLES"},
    {"show full tables",
     "SHOW FULL TABLES"},
    {"show tables from d",
     "SHOW TABLES FROM d"},
    {"show tables in d like 't%'",
     "SHOW TABLES FROM d LIKE 't%'"},
    {"show full tables from d where Table_type = 'VIEW'",
     "SHOW FULL TABLES FROM d WHERE (Table_type = 'VIEW')"},
    {"show table status",
     "SHOW TABLE STATUS"},
    {"show table status from d like 't'",
     "SHOW TABLE STATUS FROM d LIKE 't'"},
    {"show columns from t",
     "SHOW COLUMNS FROM t"},
    {"show columns in t from d",
     "SHOW COLUMNS FROM d.t"},
    {"show columns from d.t like 'a%'",
     "SHOW COLUMNS FROM d.t LIKE 'a%'"},
    {"show fields from t",
     "SHOW COLUMNS FROM t"},
    {"show full columns from t",
     "SHOW FULL COLUMNS FROM t"},
    {"show full fields in t where Field = 'a'",
     "SHOW FULL COLUMNS FROM t WHERE (Field = 'a')"},
    {"show create table t",
     "SHOW CREATE TABLE t"},
    {"show create table d.t",
     "SHOW CREATE TABLE d.t"},
    {"show create database d",
     "SHOW CREATE DATABASE d"},
    {"show create database if not exists d",
     "SHOW CREATE DATABASE IF NOT EXISTS d"},
    {"show create schema d",
     "SHOW CREATE DATABASE d"},
    {"show create user 'u'@'h'",
     "SHOW CREATE USER 'u'@'h'"},
    {"show index from t",
     "SHOW INDEX FROM t"},
    {"show indexes from t in d",
     "SHOW INDEX FROM d.t"},
    {"show keys from d.t",
     "SHOW INDEX FROM d.t"},
    {"show index from t where Key_name = 'PRIMARY'",
     "SHOW INDEX FROM t WHERE (Key_name = 'PRIMARY')"},
    {"show variables",
     "SHOW VARIABLES"},
    {"show variables like 'version%'",
     "SHOW VARIABLES LIKE 'version%'"},
    {"show global variables",
     "SHOW GLOBAL VARIABLES"},
    {"show session variables where Variable_name = 'x'",
     "SHOW SESSION VARIABLES WHERE (Variable_name = 'x')"},
    {"show local variables",
     "SHOW SESSION VARIABLES"},
    {"show status",
     "SHOW STATUS"},
    {"show global status like 'Threads%'",
     "SHOW GLOBAL STATUS LIKE 'Threads%'"},
    {"show session status",
     "SHOW SESSION STATUS"},
    {"show warnings",
     "SHOW WARNINGS"},
    {"show warnings limit 10",
     "SHOW WARNINGS LIMIT 10"},
    {"show warnings limit 1, 2",
     "SHOW WARNINGS LIMIT 1, 2"},
    {"show errors",
     "SHOW ERRORS"},
    {"show errors limit 5",
     "SHOW ERRORS LIMIT 5"},
    {"show count(*) warnings",
     "SHOW COUNT(*) WARNINGS"},
    {"show count(*) errors",
     "SHOW COUNT(*) ERRORS"},
    {"show processlist",
     "SHOW PROCESSLIST"},
    {"show full processlist",
     "SHOW FULL PROCESSLIST"},
    {"show grants",
     "SHOW GRANTS"},
    {"show grants for 'u'@'%'",
     "SHOW GRANTS FOR 'u'@'%'"},
    {"show grants for u",
     "SHOW GRANTS FOR 'u'"},
    {"show grants for current_user",
     "SHOW GRANTS FOR CURRENT_USER"},
    {"show grants for current_user()",
     "SHOW GRANTS FOR CURRENT_USER"},
    {"show engines",
     "SHOW ENGINES"},
    {"show character set",
     "SHOW CHARACTER SET"},
    {"show charset like 'utf8%'",
     "SHOW CHARACTER SET LIKE 'utf8%'"},
    {"show collation",
     "SHOW COLLATION"},
    {"show collation where Charset = 'utf8mb4'",
     "SHOW COLLATION WHERE (`Charset` = 'utf8mb4')"},
    {"show triggers",
     "SHOW TRIGGERS"},
    {"show triggers like 't'",
     "SHOW TRIGGERS LIKE 't'"},
    {"show triggers from d like 't'",
     "SHOW TRIGGERS FROM d LIKE 't'"},
    {"describe t",
     "DESCRIBE t"},
    {"desc t",
     "DESCRIBE t"},
    {"describe d.t",
     "DESCRIBE d.t"},
    {"describe t a",
     "DESCRIBE t a"},
    {"desc t 'a%'",
     "DESCRIBE t `a%`"},
    {"explain t",
     "DESCRIBE t"},
    {"explain select * from t",
     "EXPLAIN SELECT * FROM t"},
    {"explain select a from t where b = 1",
     "EXPLAIN SELECT a FROM t WHERE (b = 1)"},
    {"explain insert into t values (1)",
     "EXPLAIN INSERT INTO t VALUES (1)"},
    {"explain update t set a = 1",
     "EXPLAIN UPDATE t SET a = 1"},
    {"explain delete from t",
     "EXPLAIN DELETE FROM t"},
    {"explain format = json select 1",
     "EXPLAIN FORMAT=`json` SELECT 1"},
    {"explain format = 'tree' select 1",
     "EXPLAIN FORMAT=tree SELECT 1"},
    {"set a = 1",
     "SET a = 1"},
    {"set autocommit = 0",
     "SET autocommit = 0"},
    {"set autocommit = 1",
     "SET autocommit = 1"},
    {"set autocommit = ON",
     "SET autocommit = 'ON'"},
    {"set autocommit = off",
     "SET autocommit = 'off'"},
    {"set @@autocommit = 0",
     "SET @@autocommit = 0"},
    {"set @@session.autocommit = 1",
     "SET @@session.autocommit = 1"},
    {"set @@global.max_connections = 100",
     "SET @@global.max_connections = 100"},
    {"set session sql_mode = ''",
     "SET SESSION sql_mode = ''"},
    {"set global sql_mode = 'STRICT_TRANS_TABLES'",
     "SET GLOBAL sql_mode = 'STRICT_TRANS_TABLES'"},
    {"set local x = 1",
     "SET SESSION x = 1"},
    {"set sql_mode = 'a,b', time_zone = '+00:00'",
     "SET sql_mode = 'a,b', time_zone = '+00:00'"},
    {"set sql_mode = default",
     "SET sql_mode = DEFAULT"},
    {"set @a = 1",
     "SET @a = 1"},
    {"set @a := 1",
     "SET @a = 1"},
    {"set @a = @b + 1, @c = 'x'",
     "SET @a = (@b + 1), @c = 'x'"},
    {"set @`weird var` = 1",
     "SET @`weird var` = 1"},
    {"set names utf8mb4",
     "SET NAMES utf8mb4"},
    {"set names 'utf8mb4'",
     "SET NAMES utf8mb4"},
    {"set names utf8mb4 collate utf8mb4_bin",
     "SET NAMES utf8mb4 COLLATE utf8mb4_bin"},
    {"set names default",
     "SET NAMES DEFAULT"},
    {"set names binary",
     "SET NAMES `BINARY`"},
    {"set character set utf8mb4",
     "SET CHARACTER SET utf8mb4"},
    {"set charset utf8",
     "SET CHARACTER SET utf8"},
    {"set character set default",
     "SET CHARACTER SET DEFAULT"},
    {"set transaction isolation level read uncommitted",
     "SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED"},
    {"set transaction isolation level read committed",
     "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"},
    {"set transaction isolation level repeatable read",
     "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"},
    {"set transaction isolation level serializable",
     "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"},
    {"set session transaction isolation level read committed",
     "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"},
    {"set global transaction isolation level read committed",
     "SET GLOBAL TRANSACTION ISOLATION LEVEL READ COMMITTED"},
    {"set transaction read only",
     "SET TRANSACTION READ ONLY"},
    {"set transaction read write",
     "SET TRANSACTION READ WRITE"},
    {"set transaction isolation level read committed, read only",
     "SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY"},
    {"set session transaction_isolation = 'READ-COMMITTED'",
     "SET SESSION transaction_isolation = 'READ-COMMITTED'"},
    {"set @@transaction_isolation = 'REPEATABLE-READ'",
     "SET @@transaction_isolation = 'REPEATABLE-READ'"},
    {"set sql_log_bin = 0",
     "SET sql_log_bin = 0"},
    {"set names utf8mb4, autocommit = 1",
     "SET NAMES utf8mb4, autocommit = 1"},
    {"set net_write_timeout = 600",
     "SET net_write_timeout = 600"},
    {"set session character_set_results = 'binary'",
     "SET SESSION character_set_results = 'binary'"},
    {"set SQL_QUOTE_SHOW_CREATE = 1",
     "SET SQL_QUOTE_SHOW_CREATE = 1"},
    {"begin",
     "BEGIN"},
    {"begin work",
     "BEGIN"},
    {"start transaction",
     "BEGIN"},
    {"start transaction read only",
     "START TRANSACTION READ ONLY"},
    {"start transaction read write",
     "BEGIN"},
    {"start transaction with consistent snapshot",
     "START TRANSACTION WITH CONSISTENT SNAPSHOT"},
    {"start transaction with consistent snapshot, read only",
     "START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT"},
    {"commit",
     "COMMIT"},
    {"commit work",
     "COMMIT"},
    {"rollback",
     "ROLLBACK"},
    {"rollback work",
     "ROLLBACK"},
    {"create user u",
     "CREATE USER 'u'"},
    {"create user 'u'@'localhost'",
     "CREATE USER 'u'@'localhost'"},
    {"create user 'u'@'%' identified by 'secret'",
     "CREATE USER 'u'@'%' IDENTIFIED BY 'secret'"},
    {"create user if not exists u@localhost identified by 'p'",
     "CREATE USER IF NOT EXISTS 'u'@'localhost' IDENTIFIED BY 'p'"},
    {"create user 'a' identified by 'x', 'b'@'h' identified by 'y'",
     "CREATE USER 'a' IDENTIFIED BY 'x', 'b'@'h' IDENTIFIED BY 'y'"},
    {"create user u identified with mysql_native_password by 'p'",
     "CREATE USER 'u' IDENTIFIED WITH 'mysql_native_password' BY 'p'"},
    {"create user u identified with 'caching_sha2_password'",
     "CREATE USER 'u' IDENTIFIED WITH 'caching_sha2_password'"},
    {"drop user u",
     "DROP USER 'u'"},
    {"drop user 'u'@'%'",
     "DROP USER 'u'@'%'"},
    {"drop user if exists a, 'b'@'h'",
     "DROP USER IF EXISTS 'a', 'b'@'h'"},
    {"alter user u identified by 'new'",
     "ALTER USER 'u' IDENTIFIED BY 'new'"},
    {"alter user 'root'@'localhost' identified by ''",
     "ALTER USER 'root'@'localhost' IDENTIFIED BY ''"},
    {"alter user if exists u identified by 'x'",
     "ALTER USER IF EXISTS 'u' IDENTIFIED BY 'x'"},
    {"alter user current_user() identified by 'p'",
     "ALTER USER CURRENT_USER IDENTIFIED BY 'p'"},
    {"grant select on *.* to u",
     "GRANT SELECT ON *.* TO 'u'"},
    {"grant select on * to u",
     "GRANT SELECT ON * TO 'u'"},
    {"grant all on *.* to 'u'@'%'",
     "GRANT ALL ON *.* TO 'u'@'%'"},
    {"grant all privileges on d.* to 'u'@'%' with grant option",
     "GRANT ALL ON d.* TO 'u'@'%' WITH GRANT OPTION"},
    {"grant select, insert, update, delete on d.t to u",
     "GRANT SELECT, INSERT, UPDATE, DELETE ON d.t TO 'u'"},
    {"grant select (a, b), update (a) on d.t to u",
     "GRANT SELECT (a, b), UPDATE (a) ON d.t TO 'u'"},
    {"grant select on table d.t to u",
     "GRANT SELECT ON d.t TO 'u'"},
    {"grant select on t to u",
     "GRANT SELECT ON t TO 'u'"},
    {"grant create, drop, alter, index on d.* to u",
     "GRANT CREATE, DROP, ALTER, INDEX ON d.* TO 'u'"},
    {"grant create temporary tables, lock tables on d.* to u",
     "GRANT CREATE TEMPORARY TABLES, LOCK TABLES ON d.* TO 'u'"},
    {"grant usage on *.* to u",
     "GRANT USAGE ON *.* TO 'u'"},
    {"grant select on d.* to u, v",
     "GRANT SELECT ON d.* TO 'u', 'v'"},
    {"revoke select on *.* from u",
     "REVOKE SELECT ON *.* FROM 'u'"},
    {"revoke all privileges on d.* from 'u'@'%'",
     "REVOKE ALL ON d.* FROM 'u'@'%'"},
    {"revoke insert, update on d.t from u, v",
     "REVOKE INSERT, UPDATE ON d.t FROM 'u', 'v'"},
    {"revoke all privileges, grant option from u",
     "REVOKE ALL, GRANT OPTION FROM 'u'"},
    {"revoke all, grant option from u",
     "REVOKE ALL, GRANT OPTION FROM 'u'"},
    {"kill 1",
     "KILL 1"},
    {"kill query 2",
     "KILL QUERY 2"},
    {"kill connection 3",
     "KILL 3"},
    {"kill ?",
     "KILL ?"},
    {"lock tables t read",
     "LOCK TABLES t READ"},
    {"lock tables t write",
     "LOCK TABLES t WRITE"},
    {"lock table t read local, u low_priority write",
     "LOCK TABLES t READ, u WRITE"},
    {"lock tables t as a read, u b write",
     "LOCK TABLES t AS a READ, u AS b WRITE"},
    {"lock tables d.t write",
     "LOCK TABLES d.t WRITE"},
    {"unlock tables",
     "UNLOCK TABLES"},
    {"unlock table",
     "UNLOCK TABLES"},
    {"do 1",
     "DO 1"},
    {"do sleep(1), 2",
     "DO SLEEP(1), 2"},
};

static const struct pcase sysbench_cases[] = {
    {"SELECT c FROM sbtest1 WHERE id=?",
     "SELECT c FROM sbtest1 WHERE (id = ?)"},
    {"SELECT c FROM sbtest1 WHERE id=5",
     "SELECT c FROM sbtest1 WHERE (id = 5)"},
    {"SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?",
     "SELECT c FROM sbtest1 WHERE (id BETWEEN ? AND ?)"},
    {"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?",
     "SELECT SUM(k) FROM sbtest1 WHERE (id BETWEEN ? AND ?)"},
    {"SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
     "SELECT c FROM sbtest1 WHERE (id BETWEEN ? AND ?) ORDER BY c"},
    {"SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
     "SELECT DISTINCT c FROM sbtest1 WHERE (id BETWEEN ? AND ?) ORDER BY c"},
    {"UPDATE sbtest1 SET k=k+1 WHERE id=?",
     "UPDATE sbtest1 SET k = (k + 1) WHERE (id = ?)"},
    {"UPDATE sbtest1 SET c=? WHERE id=?",
     "UPDATE sbtest1 SET c = ? WHERE (id = ?)"},
    {"DELETE FROM sbtest1 WHERE id=?",
     "DELETE FROM sbtest1 WHERE (id = ?)"},
    {"INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)",
     "INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)"},
    {"SELECT id, k, c, pad FROM sbtest1 WHERE id IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
     "SELECT id, k, c, pad FROM sbtest1 WHERE (id IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?))"},
    {"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 5 AND 104",
     "SELECT SUM(k) FROM sbtest1 WHERE (id BETWEEN 5 AND 104)"},
    {"SELECT c FROM sbtest3 WHERE id=4998",
     "SELECT c FROM sbtest3 WHERE (id = 4998)"},
    {"UPDATE sbtest1 SET c='95806045049-14245431519-46521839547-93553530183' WHERE id=4",
     "UPDATE sbtest1 SET c = '95806045049-14245431519-46521839547-93553530183' WHERE (id = 4)"},
    {"INSERT INTO sbtest1 (id, k, c, pad) VALUES (4, 5012, '68487932199-96439406143-93774651418', '22195207048-70116052123-74140395089-76317954521-98694025897')",
     "INSERT INTO sbtest1 (id, k, c, pad) VALUES (4, 5012, '68487932199-96439406143-93774651418', '22195207048-70116052123-74140395089-76317954521-98694025897')"},
    {"CREATE TABLE sbtest1(\n  id INTEGER NOT NULL AUTO_INCREMENT,\n  k INTEGER DEFAULT '0' NOT NULL,\n  c CHAR(120) DEFAULT '' NOT NULL,\n  pad CHAR(60) DEFAULT '' NOT NULL,\n  PRIMARY KEY (id)\n) /*! ENGINE = innodb */",
     "CREATE TABLE sbtest1 (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT '0', c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id)) ENGINE=innodb"},
    {"CREATE INDEX k_1 ON sbtest1(k)",
     "CREATE INDEX k_1 ON sbtest1 (k)"},
    {"INSERT INTO sbtest1(k, c, pad) VALUES(4993, '83868641912-28773972837-60736120486', '67847967377-48000963322-62604785301-91415491898-96926520291'),(5020, '38014276128-25250245652-62722561801', '33092768357-13929779245-06683017315-79627622089-54051447812')",
     "INSERT INTO sbtest1 (k, c, pad) VALUES (4993, '83868641912-28773972837-60736120486', '67847967377-48000963322-62604785301-91415491898-96926520291'), (5020, '38014276128-25250245652-62722561801', '33092768357-13929779245-06683017315-79627622089-54051447812')"},
    {"DROP TABLE IF EXISTS sbtest1",
     "DROP TABLE IF EXISTS sbtest1"},
    {"BEGIN",
     "BEGIN"},
    {"COMMIT",
     "COMMIT"},
    {"SELECT VERSION()",
     "SELECT VERSION()"},
    {"SHOW TABLES LIKE 'sbtest%'",
     "SHOW TABLES LIKE 'sbtest%'"},
};

static void expressions(void **state)
{
    (void)state;
    CHECK_TABLE(expr_cases);
}

static void queries_and_dml(void **state)
{
    (void)state;
    CHECK_TABLE(query_cases);
}

static void ddl(void **state)
{
    (void)state;
    CHECK_TABLE(ddl_cases);
}

static void administration(void **state)
{
    (void)state;
    CHECK_TABLE(admin_cases);
}

static void sysbench(void **state)
{
    (void)state;
    CHECK_TABLE(sysbench_cases);
    /* oltp_common.lua's prewarm. */
    static const struct pcase prewarm[] = {
        {"SET tmp_table_size=2*1024*1024*1024",
         "SET tmp_table_size = (2 * 1024 * 1024 * 1024)"},
        {"SELECT AVG(id) FROM (SELECT * FROM sbtest1 FORCE KEY (PRIMARY) "
         "LIMIT 10000) t",
         "SELECT AVG(id) FROM (SELECT * FROM sbtest1 FORCE INDEX (`PRIMARY`) "
         "LIMIT 10000) AS t"},
        {"SELECT COUNT(*) FROM (SELECT * FROM sbtest1 WHERE k LIKE '%0%' "
         "LIMIT 10000) t",
         "SELECT COUNT(*) FROM (SELECT * FROM sbtest1 WHERE (k LIKE '%0%') "
         "LIMIT 10000) AS t"},
    };
    CHECK_TABLE(prewarm);
}

/* Locking reads' modifiers, JSON path operators, multi-table DELETE,
 * user variable assignment in expressions, WITH (common table
 * expressions). */
static void locking_and_json(void **state)
{
    (void)state;
    static const struct pcase c[] = {
        {"select a from t for update nowait", "SELECT a FROM t FOR UPDATE NOWAIT"},
        {"select a from t where id = 1 for update skip locked",
         "SELECT a FROM t WHERE (id = 1) FOR UPDATE SKIP LOCKED"},
        {"select a from t for share nowait", "SELECT a FROM t FOR SHARE NOWAIT"},
        {"select a from t limit 1 for share",
         "SELECT a FROM t LIMIT 1 LOCK IN SHARE MODE"},
        {"select c->'$.a', t.c->>'$.b' from t where c->'$.x' = 1",
         "SELECT JSON_EXTRACT(c, '$.a'), JSON_UNQUOTE(JSON_EXTRACT(t.c, "
         "'$.b')) FROM t WHERE (JSON_EXTRACT(c, '$.x') = 1)"},
        {"select `c`->'$[0]'", "SELECT JSON_EXTRACT(c, '$[0]')"},
    };
    CHECK_TABLE(c);
    static const struct pcase del[] = {
        {"delete t1 from t1 join t2 on t1.a = t2.a where t2.b = 1",
         "DELETE t1 FROM t1 JOIN t2 ON (t1.a = t2.a) WHERE (t2.b = 1)"},
        {"delete t1.*, t2 from t1, t2 where t1.id = t2.id",
         "DELETE t1, t2 FROM t1, t2 WHERE (t1.id = t2.id)"},
        {"delete from t1, db.t2.* using t1 join db.t2 using (id)",
         "DELETE t1, db.t2 FROM t1 JOIN db.t2 USING (id)"},
        {"delete quick t1 from t1", "DELETE QUICK t1 FROM t1"},
    };
    CHECK_TABLE(del);
    static const struct pcase assign[] = {
        {"select @rn := @rn + 1 as rn, a from t, (select @rn := 0) r",
         "SELECT (@rn := (@rn + 1)) AS rn, a FROM t, (SELECT (@rn := 0)) AS r"},
        {"select 1 + @a := 2 * 3", "SELECT (1 + (@a := (2 * 3)))"},
        {"select @a := @b := 5", "SELECT (@a := (@b := 5))"},
    };
    CHECK_TABLE(assign);
    /* One grammar loop, one parenthesis (so the print nests no deeper). */
    static const struct pcase chains[] = {
        {"select a is null is null, a = b is true, a is null = 1, "
         "a = any (select 1) = b, a collate x collate y, (a = 1) is null, "
         "a = (b is null), a < b > c",
         "SELECT (a IS NULL IS NULL), (a = b IS TRUE), (a IS NULL = 1), "
         "(a = ANY (SELECT 1) = b), (a COLLATE x COLLATE y), (a = 1 IS NULL), "
         "(a = (b IS NULL)), (a < b > c)"},
    };
    CHECK_TABLE(chains);
    static const struct pcase ctes[] = {
        {"with x as (select 1 a) select a from x",
         "WITH x AS (SELECT 1 AS a) SELECT a FROM x"},
        {"with recursive r (n) as (select 1 union all select n + 1 from r "
         "where n < 10) select * from r",
         "WITH RECURSIVE r (n) AS (SELECT 1 UNION ALL SELECT (n + 1) FROM r "
         "WHERE (n < 10)) SELECT * FROM r"},
        {"with a as (select 1), b as (select 2) select * from a, b",
         "WITH a AS (SELECT 1), b AS (SELECT 2) SELECT * FROM a, b"},
        {"select * from t where a in (with x as (select 1) select * from x)",
         "SELECT * FROM t WHERE (a IN (WITH x AS (SELECT 1) SELECT * FROM x))"},
        {"(with x as (select 1) select * from x) union select 2",
         "(WITH x AS (SELECT 1) SELECT * FROM x) UNION SELECT 2"},
        {"with x as (select 1) select 2 union select 3",
         "WITH x AS (SELECT 1) SELECT 2 UNION SELECT 3"},
        {"insert into t with x as (select 1) select * from x",
         "INSERT INTO t WITH x AS (SELECT 1) SELECT * FROM x"},
        {"explain with x as (select 1) select * from x",
         "EXPLAIN WITH x AS (SELECT 1) SELECT * FROM x"},
        {"select * from (with x as (select 1) select * from x) d",
         "SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) AS d"},
    };
    CHECK_TABLE(ctes);
    static const struct pcase more[] = {
        {"insert into t values (1,2) as new on duplicate key update b = new.b",
         "INSERT INTO t VALUES (1, 2) AS new ON DUPLICATE KEY UPDATE b = new.b"},
        {"insert into t set a = 1 as n (x) on duplicate key update a = n.x",
         "INSERT INTO t SET a = 1 AS n (x) ON DUPLICATE KEY UPDATE a = n.x"},
        {"explain analyze select * from t where a = 1",
         "EXPLAIN ANALYZE SELECT * FROM t WHERE (a = 1)"},
        {"create index i on t (a) algorithm = inplace lock = none",
         "CREATE INDEX i ON t (a)"},
        {"alter table t add index (a), algorithm=inplace, lock=none",
         "ALTER TABLE t ADD KEY (a), ALGORITHM=inplace, LOCK=none"},
    };
    CHECK_TABLE(more);
    check_error("with x as (select 1) (with y as (select 2) select 3)",
                SQL_ESYNTAX, SQL_ER_NOT_SUPPORTED_YET,
                "This version of MySQL doesn't yet support 'nested WITH clauses'");
    check_error("with x as select 1 select 2", SQL_ESYNTAX, SQL_ER_PARSE_ERROR,
                E1064 "'select 1 select 2' at line 1");
    check_error("delete from t1, t2 where a", SQL_ESYNTAX, SQL_ER_PARSE_ERROR,
                E1064 "'where a' at line 1");
    check_error("delete t", SQL_ESYNTAX, SQL_ER_PARSE_ERROR, E1064 "'' at line 1");
    check_error("select c->1", SQL_ESYNTAX, SQL_ER_PARSE_ERROR,
                E1064 "'1' at line 1");
    check_error("select a from t for update skip", SQL_ESYNTAX,
                SQL_ER_PARSE_ERROR, E1064 "'' at line 1");
    check_error("select a from t for update of t", SQL_ESYNTAX,
                SQL_ER_NOT_SUPPORTED_YET,
                "This version of MySQL doesn't yet support 'FOR UPDATE OF'");
}

/* Table maintenance, FLUSH and SQL-level prepared statements. */
static void maintenance_and_prepare(void **state)
{
    (void)state;
    static const struct pcase c[] = {
        {"analyze table sbtest1", "ANALYZE TABLE sbtest1"},
        {"ANALYZE NO_WRITE_TO_BINLOG TABLE a, db.b", "ANALYZE TABLE a, db.b"},
        {"optimize local table t", "OPTIMIZE TABLE t"},
        {"check table t", "CHECK TABLE t"},
        {"flush tables", "FLUSH TABLES"},
        {"FLUSH /*!40101 LOCAL */ TABLES", "FLUSH TABLES"},
        {"flush tables with read lock", "FLUSH TABLES WITH READ LOCK"},
        {"flush tables t1, t2 with read lock",
         "FLUSH TABLES t1, t2 WITH READ LOCK"},
        {"flush privileges", "FLUSH PRIVILEGES"},
        {"flush logs", "FLUSH LOGS"},
        {"prepare s from 'select ?'", "PREPARE s FROM 'select ?'"},
        {"prepare s from @q", "PREPARE s FROM @q"},
        {"execute s", "EXECUTE s"},
        {"execute s using @a, @b", "EXECUTE s USING @a, @b"},
        {"deallocate prepare s", "DEALLOCATE PREPARE s"},
        {"drop prepare s", "DEALLOCATE PREPARE s"},
        /* MySQL 8's mysqldump. */
        {"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `d` /*!40100 DEFAULT "
         "CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci */ /*!80016 "
         "DEFAULT ENCRYPTION='N' */",
         "CREATE DATABASE IF NOT EXISTS d CHARACTER SET utf8mb4 COLLATE "
         "utf8mb4_0900_ai_ci"},
        {"SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'abc:1-5'",
         "SET @@global.GTID_PURGED = '+abc:1-5'"},
        {"/*!50503 SET NAMES utf8mb4 */", "SET NAMES utf8mb4"},
        /* What GUI clients and dump tools ask. */
        {"show function status where Db = 'd'",
         "SHOW FUNCTION STATUS WHERE (Db = 'd')"},
        {"show procedure status like 'x'", "SHOW PROCEDURE STATUS LIKE 'x'"},
        {"show events from d", "SHOW EVENTS FROM d"},
        {"show plugins", "SHOW PLUGINS"},
        {"show master status", "SHOW MASTER STATUS"},
        {"show binary logs", "SHOW BINARY LOGS"},
        {"show open tables from d like 't'", "SHOW OPEN TABLES FROM d LIKE 't'"},
        {"show privileges", "SHOW PRIVILEGES"},
    };
    CHECK_TABLE(c);
    check_error("execute s using 1", SQL_ESYNTAX, SQL_ER_PARSE_ERROR,
                E1064 "'1' at line 1");
    check_error("select check from t", SQL_ESYNTAX, SQL_ER_PARSE_ERROR,
                E1064 "'check from t' at line 1");
}

/* What client libraries and the mariadb CLI send on their own. */
static void client_queries(void **state)
{
    (void)state;
    static const struct pcase c[] = {
        {"select @@version_comment limit 1",
         "SELECT @@version_comment LIMIT 1"},
        {"SET character_set_results = NULL",
         "SET character_set_results = NULL"},
        {"/* mysql-connector-java-8.0.33 */SELECT  "
         "@@session.auto_increment_increment AS auto_increment_increment, "
         "@@character_set_client AS character_set_client, @@license AS "
         "license, @@transaction_isolation AS transaction_isolation",
         "SELECT @@session.auto_increment_increment AS "
         "auto_increment_increment, @@character_set_client AS "
         "character_set_client, @@license AS license, @@transaction_isolation "
         "AS transaction_isolation"},
        {"SET autocommit=1", "SET autocommit = 1"},
        {"SELECT @@tx_isolation", "SELECT @@tx_isolation"},
        {"SHOW VARIABLES WHERE Variable_name ='language' OR Variable_name = "
         "'net_write_timeout'",
         "SHOW VARIABLES WHERE ((Variable_name = 'language') OR (Variable_name "
         "= 'net_write_timeout'))"},
        {"set sql_safe_updates=1, sql_select_limit=1000, max_join_size=1000000",
         "SET sql_safe_updates = 1, sql_select_limit = 1000, max_join_size = "
         "1000000"},
        {"SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE "
         "TABLE_SCHEMA = 'db' ORDER BY TABLE_NAME",
         "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.`TABLES` WHERE "
         "(TABLE_SCHEMA = 'db') ORDER BY TABLE_NAME"},
        {"SELECT 1 FROM t LIMIT 18446744073709551615",
         "SELECT 1 FROM t LIMIT 18446744073709551615"},
    };
    CHECK_TABLE(c);
}

/* The statements mysqldump (MariaDB's, as Debian ships it) sends while
 * dumping. */
static void mysqldump_queries(void **state)
{
    (void)state;
    static const struct pcase q[] = {
        {"/*!40100 SET @@SQL_MODE='' */", "SET @@SQL_MODE = ''"},
        {"/*!40103 SET TIME_ZONE='+00:00' */", "SET TIME_ZONE = '+00:00'"},
        {"SHOW VARIABLES LIKE 'gtid\\_mode'",
         "SHOW VARIABLES LIKE 'gtid\\\\_mode'"},
        {"SELECT LOGFILE_GROUP_NAME, FILE_NAME, TOTAL_EXTENTS, INITIAL_SIZE, "
         "ENGINE, EXTRA FROM INFORMATION_SCHEMA.FILES WHERE ENGINE = "
         "'ndbcluster' AND FILE_TYPE = 'UNDO LOG' AND FILE_NAME IS NOT NULL "
         "AND LOGFILE_GROUP_NAME IS NOT NULL GROUP BY LOGFILE_GROUP_NAME, "
         "FILE_NAME, ENGINE, TOTAL_EXTENTS, INITIAL_SIZE ORDER BY "
         "LOGFILE_GROUP_NAME",
         "SELECT LOGFILE_GROUP_NAME, FILE_NAME, TOTAL_EXTENTS, INITIAL_SIZE, "
         "`ENGINE`, EXTRA FROM INFORMATION_SCHEMA.FILES WHERE ((`ENGINE` = "
         "'ndbcluster') AND (FILE_TYPE = 'UNDO LOG') AND (FILE_NAME IS NOT "
         "NULL) AND (LOGFILE_GROUP_NAME IS NOT NULL)) GROUP BY "
         "LOGFILE_GROUP_NAME, FILE_NAME, `ENGINE`, TOTAL_EXTENTS, INITIAL_SIZE "
         "ORDER BY LOGFILE_GROUP_NAME"},
        {"SHOW CREATE DATABASE IF NOT EXISTS `db1`",
         "SHOW CREATE DATABASE IF NOT EXISTS db1"},
        {"show tables", "SHOW TABLES"},
        {"show table status like 't1'", "SHOW TABLE STATUS LIKE 't1'"},
        {"SET SQL_QUOTE_SHOW_CREATE=1", "SET SQL_QUOTE_SHOW_CREATE = 1"},
        {"SET SESSION character_set_results = 'binary'",
         "SET SESSION character_set_results = 'binary'"},
        {"show create table `t1`", "SHOW CREATE TABLE t1"},
        {"SET SESSION character_set_results = 'utf8mb4'",
         "SET SESSION character_set_results = 'utf8mb4'"},
        {"show fields from `t1`", "SHOW COLUMNS FROM t1"},
        {"SELECT /*!40001 SQL_NO_CACHE */ * FROM `t1`", "SELECT * FROM t1"},
        {"SHOW TRIGGERS LIKE 't1'", "SHOW TRIGGERS LIKE 't1'"},
        {"SELECT engine, table_type FROM INFORMATION_SCHEMA.TABLES WHERE "
         "table_schema = DATABASE() AND table_name = 't1'",
         "SELECT `engine`, table_type FROM INFORMATION_SCHEMA.`TABLES` WHERE "
         "((table_schema = DATABASE()) AND (table_name = 't1'))"},
        {"LOCK TABLES `t1` READ /*!32311 LOCAL */,`t2` READ /*!32311 LOCAL */",
         "LOCK TABLES t1 READ, t2 READ"},
        {"SELECT COLUMN_NAME, JSON_EXTRACT(HISTOGRAM, "
         "'$.\"number-of-buckets-specified\"') FROM "
         "information_schema.COLUMN_STATISTICS WHERE SCHEMA_NAME = 'db1' AND "
         "TABLE_NAME = 't1'",
         "SELECT COLUMN_NAME, JSON_EXTRACT(HISTOGRAM, "
         "'$.\"number-of-buckets-specified\"') FROM "
         "information_schema.COLUMN_STATISTICS WHERE ((SCHEMA_NAME = 'db1') "
         "AND (TABLE_NAME = 't1'))"},
        {"SELECT @@GLOBAL.GTID_EXECUTED", "SELECT @@global.GTID_EXECUTED"},
    };
    CHECK_TABLE(q);
}

/* A file as mariadb-dump writes it (the format of MariaDB 11's client). */
static const char dump[] =
    "/*M!999999\\- enable the sandbox mode */ \n"
    "-- MariaDB dump 10.19-11.8.3-MariaDB, for debian-linux-gnu (x86_64)\n"
    "--\n"
    "-- Host: 127.0.0.1    Database: db1\n"
    "-- ------------------------------------------------------\n"
    "-- Server version\t8.0.11-sqld\n"
    "\n"
    "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
    "/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;\n"
    "/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;\n"
    "/*!40101 SET NAMES utf8mb4 */;\n"
    "/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;\n"
    "/*!40103 SET TIME_ZONE='+00:00' */;\n"
    "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n"
    "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, "
    "FOREIGN_KEY_CHECKS=0 */;\n"
    "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n"
    "/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;\n"
    "/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;\n"
    "\n"
    "--\n"
    "-- Current Database: `db1`\n"
    "--\n"
    "\n"
    "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `db1` /*!40100 DEFAULT "
    "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */;\n"
    "\n"
    "USE `db1`;\n"
    "\n"
    "--\n"
    "-- Table structure for table `t1`\n"
    "--\n"
    "\n"
    "DROP TABLE IF EXISTS `t1`;\n"
    "/*!40101 SET @saved_cs_client     = @@character_set_client */;\n"
    "/*!40101 SET character_set_client = utf8mb4 */;\n"
    "CREATE TABLE `t1` (\n"
    "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
    "  `name` varchar(64) NOT NULL DEFAULT '',\n"
    "  `price` decimal(10,2) DEFAULT NULL,\n"
    "  `created` datetime NOT NULL DEFAULT current_timestamp(),\n"
    "  `updated` timestamp NULL DEFAULT NULL ON UPDATE current_timestamp(),\n"
    "  `note` text DEFAULT NULL,\n"
    "  `flags` set('a','b') DEFAULT NULL,\n"
    "  PRIMARY KEY (`id`),\n"
    "  UNIQUE KEY `uk_name` (`name`),\n"
    "  KEY `idx_created` (`created`),\n"
    "  CONSTRAINT `fk_1` FOREIGN KEY (`id`) REFERENCES `t0` (`id`) ON DELETE CASCADE\n"
    ") ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=utf8mb4 "
    "COLLATE=utf8mb4_general_ci;\n"
    "/*!40101 SET character_set_client = @saved_cs_client */;\n"
    "\n"
    "--\n"
    "-- Dumping data for table `t1`\n"
    "--\n"
    "\n"
    "LOCK TABLES `t1` WRITE;\n"
    "/*!40000 ALTER TABLE `t1` DISABLE KEYS */;\n"
    "INSERT INTO `t1` VALUES\n"
    "(1,'apple',1.50,'2024-01-02 03:04:05',NULL,'it\\'s \\\"q\\\"\\nline;',''),\n"
    "(2,'pear',NULL,'2024-01-02 03:04:05','2024-01-03 00:00:00',NULL,'a,b'),\n"
    "(3,'x\\\\y -- not a comment',-0.25,'2024-01-02 03:04:05',NULL,'',NULL);\n"
    "/*!40000 ALTER TABLE `t1` ENABLE KEYS */;\n"
    "UNLOCK TABLES;\n"
    "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n"
    "\n"
    "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n"
    "/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n"
    "/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;\n"
    "/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n"
    "/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;\n"
    "/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;\n"
    "/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */;\n"
    "/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;\n"
    "\n"
    "-- Dump completed on 2026-11-22  2:50:00\n";

static const char *const dump_stmts[] = {
    "SET @OLD_CHARACTER_SET_CLIENT = @@CHARACTER_SET_CLIENT",
    "SET @OLD_CHARACTER_SET_RESULTS = @@CHARACTER_SET_RESULTS",
    "SET @OLD_COLLATION_CONNECTION = @@COLLATION_CONNECTION",
    "SET NAMES utf8mb4",
    "SET @OLD_TIME_ZONE = @@TIME_ZONE",
    "SET TIME_ZONE = '+00:00'",
    "SET @OLD_UNIQUE_CHECKS = @@UNIQUE_CHECKS, UNIQUE_CHECKS = 0",
    "SET @OLD_FOREIGN_KEY_CHECKS = @@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS = 0",
    "SET @OLD_SQL_MODE = @@SQL_MODE, SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO'",
    "SET @OLD_SQL_NOTES = @@SQL_NOTES, SQL_NOTES = 0",
    "CREATE DATABASE IF NOT EXISTS db1 CHARACTER SET utf8mb4 COLLATE "
    "utf8mb4_general_ci",
    "USE db1",
    "DROP TABLE IF EXISTS t1",
    "SET @saved_cs_client = @@character_set_client",
    "SET character_set_client = 'utf8mb4'",
    "CREATE TABLE t1 (id INT(11) NOT NULL AUTO_INCREMENT, name VARCHAR(64) "
    "NOT NULL DEFAULT '', price DECIMAL(10,2) DEFAULT NULL, created DATETIME "
    "NOT NULL DEFAULT CURRENT_TIMESTAMP(), updated TIMESTAMP NULL DEFAULT "
    "NULL ON UPDATE CURRENT_TIMESTAMP(), note TEXT DEFAULT NULL, flags "
    "SET('a', 'b') DEFAULT NULL, PRIMARY KEY (id), UNIQUE KEY uk_name "
    "(name), KEY idx_created (created), CONSTRAINT fk_1 FOREIGN KEY (id) "
    "REFERENCES t0 (id) ON DELETE CASCADE) ENGINE=InnoDB AUTO_INCREMENT=4 "
    "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
    "SET character_set_client = @saved_cs_client",
    "LOCK TABLES t1 WRITE",
    "ALTER TABLE t1 DISABLE KEYS",
    "INSERT INTO t1 VALUES (1, 'apple', 1.50, '2024-01-02 03:04:05', NULL, "
    "'it\\'s \"q\"\\nline;', ''), (2, 'pear', NULL, '2024-01-02 03:04:05', "
    "'2024-01-03 00:00:00', NULL, 'a,b'), (3, 'x\\\\y -- not a comment', "
    "-0.25, '2024-01-02 03:04:05', NULL, '', NULL)",
    "ALTER TABLE t1 ENABLE KEYS",
    "UNLOCK TABLES",
    "SET TIME_ZONE = @OLD_TIME_ZONE",
    "SET SQL_MODE = @OLD_SQL_MODE",
    "SET FOREIGN_KEY_CHECKS = @OLD_FOREIGN_KEY_CHECKS",
    "SET UNIQUE_CHECKS = @OLD_UNIQUE_CHECKS",
    "SET CHARACTER_SET_CLIENT = @OLD_CHARACTER_SET_CLIENT",
    "SET CHARACTER_SET_RESULTS = @OLD_CHARACTER_SET_RESULTS",
    "SET COLLATION_CONNECTION = @OLD_COLLATION_CONNECTION",
    "SET SQL_NOTES = @OLD_SQL_NOTES",
};

/* The dump through sql__split, and through parse-one's `next`: the same
 * statements either way (the MariaDB-only comments hold none). */
static void mysqldump_file(void **state)
{
    (void)state;
    size_t want = sizeof dump_stmts / sizeof dump_stmts[0];
    struct sql_span spans[64];
    size_t len = strlen(dump);
    int n = sql__split(dump, len, spans, 64);
    assert_int_equal(n, (int)want); /* comment-only ones are dropped */
    struct sql_arena *a = sql__arena_create(0);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        struct sql_parse_result r;
        if (sql__parse_one(a, dump + spans[i].start,
                           spans[i].end - spans[i].start, &r) != 0)
            fail_msg("statement %d: %s", i, r.errmsg);
        if (r.stmt == NULL)
            continue; /* a MariaDB-only comment */
        assert_true(k < want);
        assert_string_equal(sql__ast_print(a, r.stmt), dump_stmts[k]);
        k++;
        sql__arena_reset(a);
    }
    assert_int_equal(k, want);
    /* Statement by statement with `next`, as a multi-statement COM_QUERY. */
    size_t pos = 0;
    k = 0;
    while (pos < len) {
        struct sql_parse_result r;
        assert_int_equal(sql__parse_one(a, dump + pos, len - pos, &r), 0);
        assert_true(r.next > 0);
        if (r.stmt != NULL) {
            assert_true(k < want);
            assert_string_equal(sql__ast_print(a, r.stmt), dump_stmts[k]);
            k++;
        }
        pos += r.next;
        sql__arena_reset(a);
    }
    assert_int_equal(k, want);
    sql__arena_destroy(a);
}

/* MySQL's message for a syntax error at the given text and line. */
static void check_error(const char *sql, int rc, int errcode, const char *msg)
{
    struct sql_arena *a = sql__arena_create(0);
    struct sql_parse_result r;
    int got = sql__parse_one(a, sql, strlen(sql), &r);
    if (got != rc)
        fail_msg("\"%s\" returned %d, wanted %d", sql, got, rc);
    assert_int_equal(r.rc, rc);
    assert_int_equal(r.errcode, errcode);
    assert_null(r.stmt);
    if (strcmp(r.errmsg, msg) != 0)
        fail_msg("\"%s\"\n  said  \"%s\"\n  wanted \"%s\"", sql, r.errmsg, msg);
    sql__arena_destroy(a);
}

static void syntax_errors(void **state)
{
    (void)state;
    static const struct pcase errs[] = {
        {"selec 1", E1064 "'selec 1' at line 1"},
        {"select * fro t", E1064 "'fro t' at line 1"},
        {"select 1 +", E1064 "'' at line 1"},
        {"select 1 from", E1064 "'' at line 1"},
        {"select a from t where", E1064 "'' at line 1"},
        {"select 'abc", E1064 "''abc' at line 1"},
        {"select `abc", E1064 "'`abc' at line 1"},
        {"select a from t where\n b = = 3", E1064 "'= 3' at line 2"},
        {"select a,\nb\nfrom t\nwhere c >< 1", E1064 "'< 1' at line 4"},
        {"select /* open", E1064 "'/* open' at line 1"},
        {"select a from t where a in ()", E1064 "')' at line 1"},
        {"insert into t values (1", E1064 "'' at line 1"},
        {"insert into t (a) set a = 1", E1064 "'a = 1' at line 1"},
        {"update t where a = 1", E1064 "'where a = 1' at line 1"},
        {"delete t where a", E1064 "'where a' at line 1"},
        {"select 1 1", E1064 "'1' at line 1"},
        {"select", E1064 "'' at line 1"},
        {"create table t (a int,)", E1064 "')' at line 1"},
        {"create table t (a foo)", E1064 "'foo)' at line 1"},
        {"create table t", E1064 "'' at line 1"},
        {"drop table", E1064 "'' at line 1"},
        {"select from t", E1064 "'from t' at line 1"},
        {"select a from t order", E1064 "'' at line 1"},
        {"select a from t limit -1", E1064 "'-1' at line 1"},
        {"select a from t limit 'x'", E1064 "''x'' at line 1"},
        {"select select", E1064 "'select' at line 1"},
        {"select * from (select 1)", E1064 "'' at line 1"},
        {"select * from t1 left join t2", E1064 "'' at line 1"},
        {"show tablez", E1064 "'tablez' at line 1"},
        {"set", E1064 "'' at line 1"},
        {"grant on t to u", E1064 "'on t to u' at line 1"},
        {"select a from t where b not 1", E1064 "'1' at line 1"},
        {"select case end", E1064 "'end' at line 1"},
        {"select cast(a as foo)", E1064 "'foo)' at line 1"},
        {"select 1 x y", E1064 "'y' at line 1"},
        {"select 12345678901234567890123456789012345678901234567890123456789012345678901234567890 99 "
         "and more text after the eightieth byte",
         E1064 "'99 and more text after the eightieth byte' at line 1"},
        {"select a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p q r s t",
         E1064 "'c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g h i j k l m n o p ' at line 1"},
        {"select * from t where a = '\xc3\xa9' +", E1064 "'' at line 1"},
        {"\n\nselect 1 from t t2 t3", E1064 "'t3' at line 3"},
        {"select 1 #comment\n from t where", E1064 "'' at line 2"},
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
        check_error(errs[i].sql, SQL_ESYNTAX, SQL_ER_PARSE_ERROR, errs[i].want);
    /* A NUL byte inside a quoted name (names are C strings later). */
    struct sql_arena *a = sql__arena_create(0);
    struct sql_parse_result r;
    static const char nul[] = "select `a\0b` from t";
    assert_int_equal(sql__parse_one(a, nul, sizeof nul - 1, &r), SQL_ESYNTAX);
    /* ... but a NUL inside a string is data. */
    static const char nuls[] = "select 'a\0b'";
    assert_int_equal(sql__parse_one(a, nuls, sizeof nuls - 1, &r), 0);
    assert_int_equal(r.stmt->select->items->expr->str.n, 3);
    sql__arena_destroy(a);
}

static void unsupported_features(void **state)
{
    (void)state;
    static const struct pcase u[] = {
        {"select a from t group by a with rollup", "WITH ROLLUP"},
        {"create table t (a int) partition by hash (a)", "PARTITION BY"},
        {"create table t select 1", "CREATE TABLE ... SELECT"},
        {"create table t (a int generated always as (1))", "generated columns"},
        {"create database d encryption 'Y'", "ENCRYPTION"},
        {"select match (a) against ('x') from t", "MATCH ... AGAINST"},
        {"set password = password('x')", "SET PASSWORD with PASSWORD()"},
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        char msg[200];
        snprintf(msg, sizeof msg, "This version of MySQL doesn't yet support '%s'",
                 u[i].want);
        check_error(u[i].sql, SQL_ESYNTAX, SQL_ER_NOT_SUPPORTED_YET, msg);
    }
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    assert_non_null(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

static int parse_rc(const char *sql)
{
    struct sql_arena *a = sql__arena_create(0);
    struct sql_parse_result r;
    int rc = sql__parse_one(a, sql, strlen(sql), &r);
    sql__arena_destroy(a);
    return rc;
}

/* Deep nesting is an error, never a stack overflow; long flat chains of
 * AND/OR are one node and have no limit. */
static void nesting_limits(void **state)
{
    (void)state;
    char *s = repeat("select ", "(", 150, "1");
    char *ok = repeat(s, ")", 150, "");
    assert_int_equal(parse_rc(ok), 0);
    free(s);
    free(ok);
    const char *units[] = {"(", "-", "not ", "~", "(select ", "case when "};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        s = repeat("select ", units[i], 100000, "1");
        assert_int_equal(parse_rc(s), SQL_ETOO_DEEP);
        free(s);
    }
    s = repeat("select * from ", "(", 100000, "t");
    assert_int_equal(parse_rc(s), SQL_ETOO_DEEP);
    free(s);
    s = repeat("select 1 from t where a = 1", " or a = 1", 100000, "");
    assert_int_equal(parse_rc(s), 0);
    free(s);
    s = repeat("select 1", " + 1", 998, "");
    assert_int_equal(parse_rc(s), 0);
    free(s);
    s = repeat("select 1", " + 1", 100000, "");
    assert_int_equal(parse_rc(s), SQL_ETOO_DEEP);
    free(s);
    /* 100000 adjacent literals concatenate in linear time and space. */
    s = repeat("select ", "'abcdefgh' ", 100000, "");
    struct sql_arena *a = sql__arena_create(0);
    struct sql_parse_result r;
    assert_int_equal(sql__parse_one(a, s, strlen(s), &r), 0);
    assert_int_equal(r.stmt->select->items->expr->str.n, 800000);
    assert_true(a->total < 4 * 800000);
    sql__arena_destroy(a);
    free(s);
    s = repeat("select 1 in (", "1, ", 100000, "1)");
    assert_int_equal(parse_rc(s), 0);
    free(s);
    /* The statement and the select list are two levels; the error is at
     * the 199th parenthesis is the deepest allowed. */
    s = repeat("select ", "(", 250, "1");
    char *near = repeat("", "(", 51, "1");
    char msg[512];
    snprintf(msg, sizeof msg,
             "Statement nests deeper than 200 levels or its expression is "
             "taller than 1000; simplify it near '%s' at line 1", near);
    check_error(s, SQL_ETOO_DEEP, SQL_ER_PARSE_ERROR, msg);
    free(near);
    free(s);
}

static void multi_statements(void **state)
{
    (void)state;
    struct sql_arena *a = sql__arena_create(0);
    struct sql_parse_result r;
    const char *q = "select 1;  \n select 'a;b' ; /* c; */ -- d;\n ;select 3";
    size_t len = strlen(q);
    assert_int_equal(sql__parse_one(a, q, len, &r), 0);
    assert_string_equal(sql__ast_print(a, r.stmt), "SELECT 1");
    assert_int_equal(r.stmt_end, 8);
    assert_int_equal(r.next, 13);
    size_t pos = r.next;
    assert_int_equal(sql__parse_one(a, q + pos, len - pos, &r), 0);
    assert_string_equal(sql__ast_print(a, r.stmt), "SELECT 'a;b'");
    assert_int_equal(r.stmt_end, 12);
    assert_int_equal(r.next, 15);
    pos += r.next;
    /* Comments up to the empty statement's ';'. */
    assert_int_equal(sql__parse_one(a, q + pos, len - pos, &r), 0);
    assert_null(r.stmt);
    assert_memory_equal(q + pos + r.next, "select 3", 8);
    pos += r.next;
    assert_int_equal(sql__parse_one(a, q + pos, len - pos, &r), 0);
    assert_string_equal(sql__ast_print(a, r.stmt), "SELECT 3");
    assert_int_equal(r.next, 8);
    /* Trailing whitespace after the last ';' is nothing more to run. */
    assert_int_equal(sql__parse_one(a, "commit ;  \n", 11, &r), 0);
    assert_int_equal(r.next, 11);
    /* Empty input and comment-only input. */
    assert_int_equal(sql__parse_one(a, "", 0, &r), 0);
    assert_null(r.stmt);
    assert_int_equal(r.next, 0);
    assert_int_equal(sql__parse_one(a, " /* x */ # y", 12, &r), 0);
    assert_null(r.stmt);
    assert_int_equal(r.next, 12);
    /* Placeholders are counted per statement. */
    assert_int_equal(sql__parse_one(a, "select ?, ? from t limit ?; select ?", 36, &r), 0);
    assert_int_equal(r.stmt->nparams, 3);
    assert_int_equal(r.stmt->select->limit->ival, 2);
    sql__arena_destroy(a);
}

static void split(void **state)
{
    (void)state;
    struct sql_span sp[8];
    const char *q = " select 1 ; select ';' -- x;\n; ;  /* ; */ ; insert into t values ('\\';')";
    /* A statement's leading comments are part of it. */
    int n = sql__split(q, strlen(q), sp, 8);
    assert_int_equal(n, 3);
    assert_int_equal(sp[0].start, 1);
    assert_int_equal(sp[0].end, 9);
    assert_memory_equal(q + sp[1].start, "select ';' -- x;", sp[1].end - sp[1].start);
    assert_string_equal(q + sp[2].start, "insert into t values ('\\';')");
    assert_int_equal(sp[2].end, strlen(q));
    /* More statements than room: the count still says how many. */
    assert_int_equal(sql__split("1;2;3;4", 7, sp, 2), 4);
    assert_int_equal(sp[1].start, 2);
    /* An unterminated quote: the rest is one statement. */
    n = sql__split("select 1; select 'x; y", 22, sp, 8);
    assert_int_equal(n, 2);
    assert_int_equal(sp[1].start, 10);
    assert_int_equal(sp[1].end, 22);
    assert_int_equal(sql__split("", 0, sp, 8), 0);
    assert_int_equal(sql__split(" -- only\n", 9, sp, 8), 0);
}

/* Parse trees carry what the planner needs beyond the printed form. */
static void tree_details(void **state)
{
    (void)state;
    struct sql_arena *a = sql__arena_create(0);
    struct sql_parse_result r;
    const char *q = "select -9223372036854775808, 18446744073709551615, "
                    "x'00ff', 'a\\0b' from db.t where c = ?";
    assert_int_equal(sql__parse_one(a, q, strlen(q), &r), 0);
    const struct ast_select *s = r.stmt->select;
    const struct ast_expr *e = s->items->expr;
    assert_int_equal(e->kind, AST_E_INT);
    assert_true(e->ival == INT64_MIN);
    e = s->items->next->expr;
    assert_true(e->is_unsigned);
    assert_true(e->uval == UINT64_MAX);
    e = s->items->next->next->expr;
    assert_int_equal(e->kind, AST_E_HEX);
    assert_int_equal(e->str.n, 2);
    assert_memory_equal(e->str.s, "\x00\xff", 2);
    e = s->items->next->next->next->expr;
    assert_int_equal(e->kind, AST_E_STRING);
    assert_int_equal(e->str.n, 3);
    assert_memory_equal(e->str.s, "a\0b", 3);
    assert_string_equal(s->from->db, "db");
    assert_string_equal(s->from->name, "t");
    assert_int_equal(s->where->kind, AST_E_BINARY);
    assert_int_equal(s->where->op, AST_OP_EQ);
    assert_int_equal(s->where->b->kind, AST_E_PARAM);
    assert_int_equal(s->where->b->ival, 0);
    assert_int_equal(r.stmt->nparams, 1);
    assert_int_equal(s->where->height, 2);
    /* Unaliased columns are named by their text as written. */
    assert_int_equal(s->items->text_len, strlen("-9223372036854775808"));
    assert_memory_equal(s->items->next->next->text, "x'00ff'", 7);
    const char *q2 = "select count( * ),a+1  /* c */ , * , t.*, b AS x from t";
    assert_int_equal(sql__parse_one(a, q2, strlen(q2), &r), 0);
    const struct ast_item *it = r.stmt->select->items;
    assert_int_equal(it->text_len, 10);
    assert_memory_equal(it->text, "count( * )", 10);
    it = it->next;
    assert_int_equal(it->text_len, 3);
    assert_memory_equal(it->text, "a+1", 3);
    it = it->next;
    assert_int_equal(it->text_len, 1);
    assert_memory_equal(it->text, "*", 1);
    it = it->next;
    assert_int_equal(it->text_len, 3);
    assert_memory_equal(it->text, "t.*", 3);
    it = it->next;
    assert_int_equal(it->text_len, 1);
    assert_string_equal(it->alias, "x");
    const char *ct = "create table t (id bigint unsigned not null auto_increment, "
                     "v varchar(20) default 'x', primary key (id), unique key u (v(4)))";
    assert_int_equal(sql__parse_one(a, ct, strlen(ct), &r), 0);
    const struct ast_create_table *c = r.stmt->create;
    assert_string_equal(c->columns->type.name, "BIGINT");
    assert_true(c->columns->type.is_unsigned);
    assert_int_equal(c->columns->nullable, 2);
    assert_true(c->columns->auto_increment);
    assert_int_equal(c->columns->next->type.len, 20);
    assert_int_equal(c->indexes->kind, AST_IDX_PRIMARY);
    assert_int_equal(c->indexes->next->kind, AST_IDX_UNIQUE);
    assert_int_equal(c->indexes->next->cols->prefix, 4);
    sql__arena_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expressions),
        cmocka_unit_test(queries_and_dml),
        cmocka_unit_test(ddl),
        cmocka_unit_test(administration),
        cmocka_unit_test(sysbench),
        cmocka_unit_test(maintenance_and_prepare),
        cmocka_unit_test(locking_and_json),
        cmocka_unit_test(client_queries),
        cmocka_unit_test(mysqldump_queries),
        cmocka_unit_test(mysqldump_file),
        cmocka_unit_test(syntax_errors),
        cmocka_unit_test(unsupported_features),
        cmocka_unit_test(nesting_limits),
        cmocka_unit_test(multi_statements),
        cmocka_unit_test(split),
        cmocka_unit_test(tree_details),
    };
    return cmocka_run_group_tests_name("libsql/parse", tests, NULL, NULL);
}

/* test_json.c: the JSON type end to end (storage, 3140 on insert, MySQL's
 * normalized text, comparison and ordering, ->, ->>) and every JSON
 * function with the examples of the MySQL 8.0 manual ("JSON Function
 * Reference", "The JSON Data Type"), plus the binary form's byte layout
 * and its validator. DESIGN.md, "Values and types" / "JSON".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "sqlfx.h"

#define Q(sql, want) assert_string_equal(sqlfx_q(&c, sql), want)

static struct sqlfx f;
static struct sqlfx_conn c;

static int setup(void **state)
{
    (void)state;
    sqlfx_open_db(&f, &c);
    Q("CREATE TABLE t (id INT PRIMARY KEY, j JSON)", "OK 0 0 0");
    Q("INSERT INTO t VALUES (1, '{\"name\": \"Ann\", \"tags\": [\"x\", "
      "\"y\"], \"n\": 3}'), (2, '[1, 2.5, \"s\", null, true]'), "
      "(3, '\"str\"'), (4, NULL), (5, '  {\"bb\": 1, \"a\": 2, \"c\": 3, "
      "\"a\": 4}  ')",
      "OK 5 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

/* "The JSON Data Type": normalized on insert (keys by length then bytes,
 * the last duplicate wins, MySQL's spacing), invalid text is 3140. */
static void storage(void **state)
{
    (void)state;
    Q("SELECT id, j FROM t ORDER BY id",
      "1|{\"n\": 3, \"name\": \"Ann\", \"tags\": [\"x\", \"y\"]}\n"
      "2|[1, 2.5, \"s\", null, true]\n3|\"str\"\n4|NULL\n"
      "5|{\"a\": 4, \"c\": 3, \"bb\": 1}");
    Q("INSERT INTO t VALUES (6, '{\"a\": }')",
      "ERR 3140 Invalid JSON text: \"Invalid value.\" at position 6 in "
      "value for column 'j'.");
    Q("INSERT INTO t VALUES (6, '[1, 2')",
      "ERR 3140 Invalid JSON text: \"Missing a comma or ']' after an array "
      "element.\" at position 5 in value for column 'j'.");
    Q("INSERT INTO t VALUES (6, '')",
      "ERR 3140 Invalid JSON text: \"The document is empty.\" at position 0 "
      "in value for column 'j'.");
    Q("INSERT INTO t VALUES (6, '1 2')",
      "ERR 3140 Invalid JSON text: \"The document root must not be followed "
      "by other values.\" at position 2 in value for column 'j'.");
    Q("INSERT INTO t VALUES (6, 12)",
      "ERR 3140 Invalid JSON text: \"not a JSON text, may need CAST\" at "
      "position 0 in value for column 'j'.");
    Q("SELECT COUNT(*) FROM t", "5");
    /* A value made by a function or a CAST is stored as is. */
    Q("INSERT INTO t VALUES (6, JSON_OBJECT('k', 1.50)), "
      "(7, CAST(12 AS JSON))",
      "OK 2 0 0");
    Q("SELECT j, JSON_TYPE(j) FROM t WHERE id >= 6 ORDER BY id",
      "{\"k\": 1.50}|OBJECT\n12|INTEGER");
    Q("UPDATE t SET j = JSON_SET(j, '$.n', 4, '$.new', 'v') WHERE id = 1",
      "OK 1 0 0");
    Q("SELECT j FROM t WHERE id = 1",
      "{\"n\": 4, \"new\": \"v\", \"name\": \"Ann\", \"tags\": [\"x\", "
      "\"y\"]}");
    Q("DELETE FROM t WHERE id >= 6", "OK 2 0 0");
    Q("UPDATE t SET j = JSON_REMOVE(j, '$.new', '$.n') WHERE id = 1",
      "OK 1 0 0");
    Q("UPDATE t SET j = JSON_SET(j, '$.n', 3) WHERE id = 1", "OK 1 0 0");
    Q("SHOW CREATE TABLE t",
      "t|CREATE TABLE `t` (\n  `id` int NOT NULL,\n  `j` json,\n"
      "  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
      "COLLATE=utf8mb4_general_ci");
}

/* JSON stored into other columns: numbers and temporals take the
 * scalar, strings the JSON text (a JSON string keeps its quotes). */
static void stores(void **state)
{
    (void)state;
    Q("CREATE TABLE u (id INT PRIMARY KEY, n INT, d DATE, x DECIMAL(5,2), "
      "v VARCHAR(60))",
      "OK 0 0 0");
    Q("INSERT INTO u SELECT 1, JSON_EXTRACT(j, '$.n'), '2024-01-02', "
      "CAST('2.5' AS JSON), j->'$.name' FROM t WHERE id = 1",
      "OK 1 0 0");
    Q("INSERT INTO u (id, v) SELECT 2, j FROM t WHERE id = 2", "OK 1 0 0");
    Q("SELECT * FROM u ORDER BY id",
      "1|3|2024-01-02|2.50|\"Ann\"\n2|NULL|NULL|NULL|[1, 2.5, \"s\", null, true]");
    Q("INSERT INTO u (id, n) SELECT 3, j FROM t WHERE id = 2",
      "ERR 1366 Incorrect integer value: '[1, 2.5, \"s\", null, true]' for "
      "column 'n' at row 1");
    Q("DROP TABLE u", "OK 0 0 0");
}

/* -> and ->> on a column (MySQL allows them after a column only). */
static void arrows(void **state)
{
    (void)state;
    Q("SELECT id, j->'$.name', j->>'$.name', j->'$[1]', j->'$.tags[last]' "
      "FROM t ORDER BY id",
      "1|\"Ann\"|Ann|NULL|\"y\"\n2|NULL|NULL|2.5|NULL\n3|NULL|NULL|NULL|NULL\n"
      "4|NULL|NULL|NULL|NULL\n5|NULL|NULL|NULL|NULL");
    Q("SELECT id FROM t WHERE j->>'$.name' = 'Ann'", "1");
    Q("SELECT id FROM t WHERE j->'$.name' = 'Ann'", "1");
    Q("SELECT id FROM t WHERE j->'$.n' = 3", "1");
    Q("SELECT j->'$.n' + 1, j->'$.n' * 2.5, -(j->'$.n') FROM t WHERE id = 1",
      "4|7.5|-3");
    Q("SELECT CONCAT(j->'$.tags', '!') FROM t WHERE id = 1",
      "[\"x\", \"y\"]!");
    Q("SELECT '{\"a\": 1}'->'$.a'",
      "ERR 1064 You have an error in your SQL syntax; check the manual that "
      "corresponds to your MySQL server version for the right syntax to use "
      "near '->'$.a'' at line 1");
}

/* "Comparison and Ordering of JSON Values": NULL < numbers < strings <
 * objects < arrays < booleans; numbers compare by value across types. */
static void ordering(void **state)
{
    (void)state;
    Q("SELECT id FROM t ORDER BY j, id", "4\n3\n5\n1\n2");
    Q("SELECT id FROM t ORDER BY j DESC, id", "2\n1\n5\n3\n4");
    Q("SELECT CAST('[1, 2]' AS JSON) = CAST('[1, 2]' AS JSON), "
      "CAST('1' AS JSON) = 1, CAST('1.0' AS JSON) = 1, "
      "CAST('1.5' AS JSON) = 1.5, CAST('\"a\"' AS JSON) = 'a'",
      "1|1|1|1|1");
    /* A DECIMAL inside JSON against a DOUBLE inside JSON. */
    Q("SELECT CAST(1.50 AS JSON) = CAST('1.5' AS JSON), "
      "JSON_ARRAY(2.5) > CAST('[2.25]' AS JSON), "
      "JSON_CONTAINS(JSON_ARRAY(1.50), '1.5')",
      "1|1|1");
    Q("SELECT CAST('[1, 2]' AS JSON) < CAST('[1, 3]' AS JSON), "
      "CAST('[1]' AS JSON) < CAST('[1, 0]' AS JSON), "
      "CAST('true' AS JSON) > CAST('[9]' AS JSON), "
      "CAST('\"ab\"' AS JSON) < CAST('\"b\"' AS JSON), "
      "CAST('false' AS JSON) < CAST('true' AS JSON), "
      "CAST('null' AS JSON) < CAST('-5' AS JSON)",
      "1|1|1|1|1|1");
    Q("SELECT CAST('{\"a\": 1, \"b\": 2}' AS JSON) = "
      "CAST('{\"b\": 2, \"a\": 1}' AS JSON), "
      "CAST('18446744073709551615' AS JSON) > CAST('-1' AS JSON)",
      "1|1");
    Q("SELECT COUNT(*), j->'$.n' FROM t GROUP BY j->'$.n' ORDER BY 2",
      "4|NULL\n1|3");
    Q("SELECT DISTINCT JSON_TYPE(j) FROM t ORDER BY 1",
      "NULL\nARRAY\nOBJECT\nSTRING");
    Q("SELECT MAX(j), MIN(j) FROM t", "[1, 2.5, \"s\", null, true]|\"str\"");
}

/* CAST(x AS JSON) and JSON in other contexts. */
static void casts(void **state)
{
    (void)state;
    Q("SELECT CAST('{\"b\": [1, 2], \"a\": 1}' AS JSON)",
      "{\"a\": 1, \"b\": [1, 2]}");
    Q("SELECT CAST(1e2 AS JSON), CAST('1e2' AS JSON), CAST('-0' AS JSON), "
      "CAST('18446744073709551615' AS JSON), CAST(2.50 AS JSON), "
      "CAST(NULL AS JSON)",
      "100.0|100.0|0|18446744073709551615|2.50|NULL");
    Q("SELECT JSON_TYPE(CAST('18446744073709551615' AS JSON)), "
      "JSON_TYPE(CAST(2.50 AS JSON)), JSON_TYPE(CAST('2.5' AS JSON)), "
      "JSON_TYPE(CAST('-3' AS JSON))",
      "UNSIGNED INTEGER|DECIMAL|DOUBLE|INTEGER");
    Q("SELECT CAST('{\"a\": \"\\\\u00e9\\\\n\\\\u0001\"}' AS JSON)",
      "{\"a\": \"é\\n\\u0001\"}");
    Q("SELECT CAST('\"\\\\ud83d\\\\ude00\"' AS JSON)", "\"😀\"");
    Q("SELECT CAST(CAST('\"12\"' AS JSON) AS SIGNED), "
      "CAST(CAST('true' AS JSON) AS SIGNED), CAST('3.5' AS JSON) + 0",
      "12|1|3.5");
    Q("SELECT CAST('[1, 2' AS JSON)",
      "ERR 3141 Invalid JSON text in argument 1 to function cast_as_json: "
      "\"Missing a comma or ']' after an array element.\" at position 5.");
    Q("SELECT CAST('\"a\\\\x\"' AS JSON)",
      "ERR 3141 Invalid JSON text in argument 1 to function cast_as_json: "
      "\"Invalid escape character in string.\" at position 2.");
    Q("SELECT CAST('1.' AS JSON)",
      "ERR 3141 Invalid JSON text in argument 1 to function cast_as_json: "
      "\"Miss fraction part in number.\" at position 2.");
    Q("SELECT CAST('tru' AS JSON)",
      "ERR 3141 Invalid JSON text in argument 1 to function cast_as_json: "
      "\"Invalid value.\" at position 0.");
    Q("SELECT IFNULL(NULL, CAST('[1]' AS JSON)), "
      "COALESCE(CAST('[2]' AS JSON), 'x')",
      "[1]|[2]");
}

/* JSON_EXTRACT and paths (manual examples). */
static void extract(void **state)
{
    (void)state;
    Q("SELECT JSON_EXTRACT('[10, 20, [30, 40]]', '$[1]'), "
      "JSON_EXTRACT('[10, 20, [30, 40]]', '$[1]', '$[0]'), "
      "JSON_EXTRACT('[10, 20, [30, 40]]', '$[2][*]')",
      "20|[20, 10]|[30, 40]");
    Q("SELECT JSON_EXTRACT('{\"a\": {\"b\": [10, 20, {\"c\": \"x\"}]}}', "
      "'$.a.b[2].c'), JSON_EXTRACT('{\"a b\": 1}', '$.\"a b\"'), "
      "JSON_EXTRACT('{\"a\": 1}', '$.b'), JSON_EXTRACT(NULL, '$')",
      "\"x\"|1|NULL|NULL");
    Q("SELECT JSON_EXTRACT('[{\"a\": 1}, {\"a\": 2}, {\"b\": 3}]', "
      "'$[*].a'), JSON_EXTRACT('{\"x\": {\"a\": 1}, \"a\": 0}', '$**.a'), "
      "JSON_EXTRACT('{\"a\": 1, \"b\": [2]}', '$.*')",
      "[1, 2]|[0, 1]|[1, [2]]");
    Q("SELECT JSON_EXTRACT('[1, 2, 3, 4]', '$[1 to 2]'), "
      "JSON_EXTRACT('[1, 2, 3]', '$[last]'), "
      "JSON_EXTRACT('[1, 2, 3]', '$[last - 1]'), "
      "JSON_EXTRACT('7', '$[0]'), JSON_EXTRACT('7', '$[1]')",
      "[2, 3]|3|2|7|NULL");
    Q("SELECT JSON_EXTRACT('{\"a\": 1}', 'a')",
      "ERR 3143 Invalid JSON path expression. The error is around character "
      "position 1.");
    Q("SELECT JSON_EXTRACT('{\"a\": 1}', '$.')",
      "ERR 3143 Invalid JSON path expression. The error is around character "
      "position 3.");
    Q("SELECT JSON_EXTRACT('{\"a\": 1}', '$**')",
      "ERR 3143 Invalid JSON path expression. The error is around character "
      "position 3.");
    Q("SELECT JSON_EXTRACT('{\"a\": 1', '$.a')",
      "ERR 3141 Invalid JSON text in argument 1 to function json_extract: "
      "\"Missing a comma or '}' after an object member.\" at position 7.");
    Q("SELECT JSON_EXTRACT(1, '$')",
      "ERR 3146 Invalid data type for JSON data in argument 1 to function "
      "json_extract; a JSON string or JSON type is required.");
}

static void build(void **state)
{
    (void)state;
    Q("SELECT JSON_OBJECT('id', 87, 'name', 'carrot'), "
      "JSON_OBJECT('a', 1, 'b', 2.50, 'c', 'x', 'd', NULL), JSON_OBJECT()",
      "{\"id\": 87, \"name\": \"carrot\"}|"
      "{\"a\": 1, \"b\": 2.50, \"c\": \"x\", \"d\": null}|{}");
    Q("SELECT JSON_ARRAY(1, 'abc', NULL, 1.5e0, JSON_ARRAY()), "
      "JSON_ARRAY(CAST('{\"a\": 1}' AS JSON), '{\"a\": 1}')",
      "[1, \"abc\", null, 1.5, []]|[{\"a\": 1}, \"{\\\"a\\\": 1}\"]");
    Q("SELECT JSON_OBJECT('a', 1, 'a', 2)", "{\"a\": 2}");
    Q("SELECT JSON_OBJECT('a')",
      "ERR 1582 Incorrect parameter count in the call to native function "
      "'JSON_OBJECT'");
    Q("SELECT JSON_OBJECT(NULL, 1)",
      "ERR 3158 JSON documents may not contain NULL member names.");
    /* Bytes that are not UTF-8: MySQL's opaque form as a value, 3144
     * as a key. */
    Q("SELECT JSON_ARRAY(X'CE41'), JSON_OBJECT('k', UNHEX('FF'))",
      "[\"base64:type15:zkE=\"]|{\"k\": \"base64:type15:/w==\"}");
    Q("SELECT JSON_OBJECT(X'FF', 1)",
      "ERR 3144 Cannot create a JSON value from a string with CHARACTER SET "
      "'binary'.");
    Q("SELECT JSON_QUOTE('null'), JSON_QUOTE('\"null\"'), "
      "JSON_QUOTE('[1, 2, 3]'), JSON_QUOTE(NULL)",
      "\"null\"|\"\\\"null\\\"\"|\"[1, 2, 3]\"|NULL");
    Q("SELECT JSON_UNQUOTE('\"abc\"'), JSON_UNQUOTE('[1, 2, 3]'), "
      "JSON_UNQUOTE('\"\\\\t\\\\u0032\"'), JSON_UNQUOTE(NULL)",
      "abc|[1, 2, 3]|\t2|NULL");
}

/* JSON_ARRAYAGG and JSON_OBJECTAGG (the manual's t3 example): NULLs are
 * kept as null, the last duplicate key wins, no rows give NULL. */
static void aggregates(void **state)
{
    (void)state;
    Q("CREATE TABLE t3 (o_id INT, attribute VARCHAR(10), value "
      "VARCHAR(10))",
      "OK 0 0 0");
    Q("INSERT INTO t3 VALUES (2, 'color', 'red'), (2, 'fabric', 'silk'), "
      "(3, 'color', 'green'), (3, 'shape', 'square'), (4, 'k', NULL), "
      "(4, 'k', 'last')",
      "OK 6 0 0");
    Q("SELECT o_id, JSON_ARRAYAGG(attribute), JSON_OBJECTAGG(attribute, "
      "value) FROM t3 WHERE o_id < 4 GROUP BY o_id ORDER BY o_id",
      "2|[\"color\", \"fabric\"]|{\"color\": \"red\", \"fabric\": \"silk\"}\n"
      "3|[\"color\", \"shape\"]|{\"color\": \"green\", \"shape\": "
      "\"square\"}");
    Q("SELECT JSON_ARRAYAGG(value), JSON_OBJECTAGG(attribute, value) FROM t3 "
      "WHERE o_id = 4",
      "[null, \"last\"]|{\"k\": \"last\"}");
    Q("SELECT JSON_ARRAYAGG(o_id), JSON_OBJECTAGG(o_id, o_id * 2) FROM t3 "
      "WHERE o_id > 3",
      "[4, 4]|{\"4\": 8}");
    Q("SELECT JSON_ARRAYAGG(o_id) FROM t3 WHERE o_id > 9", "NULL");
    Q("SELECT JSON_OBJECTAGG(value, o_id) FROM t3",
      "ERR 3158 JSON documents may not contain NULL member names.");
    Q("SELECT JSON_OBJECTAGG(o_id) FROM t3",
      "ERR 1582 Incorrect parameter count in the call to native function "
      "'JSON_OBJECTAGG'");
    Q("DROP TABLE t3", "OK 0 0 0");
}

/* The MySQL manual's JSON_PRETTY examples. */
static void pretty(void **state)
{
    (void)state;
    Q("SELECT JSON_PRETTY('{\"a\":\"10\",\"b\":\"15\",\"x\":\"25\"}')",
      "{\n  \"a\": \"10\",\n  \"b\": \"15\",\n  \"x\": \"25\"\n}");
    Q("SELECT JSON_PRETTY('[\"a\",1,{\"key1\": \"value1\"},\"5\", \"77\" , "
      "{\"key2\":[\"value3\",\"valueX\", \"valueY\"]},\"j\", \"2\"   ]')",
      "[\n  \"a\",\n  1,\n  {\n    \"key1\": \"value1\"\n  },\n  \"5\",\n"
      "  \"77\",\n  {\n    \"key2\": [\n      \"value3\",\n      \"valueX\",\n"
      "      \"valueY\"\n    ]\n  },\n  \"j\",\n  \"2\"\n]");
    Q("SELECT JSON_PRETTY('[]'), JSON_PRETTY('{}'), JSON_PRETTY('1'), "
      "JSON_PRETTY(NULL)",
      "[]|{}|1|NULL");
}

static void inspect(void **state)
{
    (void)state;
    const char *j = "'{\"a\": 1, \"b\": 2, \"c\": {\"d\": 4}}'";
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT JSON_CONTAINS(%s, '1', '$.a'), JSON_CONTAINS(%s, '1', "
             "'$.b'), JSON_CONTAINS(%s, '{\"d\": 4}', '$.a'), "
             "JSON_CONTAINS(%s, '{\"d\": 4}', '$.c')",
             j, j, j, j);
    Q(sql, "1|0|0|1");
    snprintf(sql, sizeof sql,
             "SELECT JSON_CONTAINS_PATH(%s, 'one', '$.a', '$.e'), "
             "JSON_CONTAINS_PATH(%s, 'all', '$.a', '$.e'), "
             "JSON_CONTAINS_PATH(%s, 'one', '$.c.d'), "
             "JSON_CONTAINS_PATH(%s, 'one', '$.a.d')",
             j, j, j, j);
    Q(sql, "1|0|1|0");
    Q("SELECT JSON_CONTAINS('[1, 2, [3]]', '3'), "
      "JSON_CONTAINS('[1, 2, [3]]', '[1, 3]'), "
      "JSON_CONTAINS('[1, 2]', '[1, 4]'), JSON_CONTAINS('1', '1.0'), "
      "JSON_CONTAINS('{\"a\": 1}', '1')",
      "1|1|0|1|0");
    Q("SELECT JSON_OVERLAPS('[1,3,5,7]', '[2,5,7]'), "
      "JSON_OVERLAPS('[1,3,5,7]', '[2,6,8]'), "
      "JSON_OVERLAPS('[[1,2],[3,4],5]', '[1,[2,3],[4,5]]'), "
      "JSON_OVERLAPS('{\"a\":1,\"b\":10,\"d\":10}', "
      "'{\"c\":1,\"e\":10,\"f\":1,\"d\":10}'), "
      "JSON_OVERLAPS('{\"a\":1,\"b\":10,\"d\":10}', "
      "'{\"a\":5,\"e\":10,\"f\":1,\"d\":20}')",
      "1|0|0|1|0");
    Q("SELECT JSON_OVERLAPS('5', '5'), JSON_OVERLAPS('5', '6'), "
      "JSON_OVERLAPS('[4,5,\"6\",7]', '6'), "
      "JSON_OVERLAPS('[4,5,6,7]', '\"6\"'), "
      "JSON_OVERLAPS('[4,5,6,7]', '6'), JSON_OVERLAPS(NULL, '1')",
      "1|0|0|0|1|NULL");
    Q("SELECT JSON_CONTAINS_PATH('{}', 'some', '$')",
      "ERR 3150 The oneOrAll argument to json_contains_path may take these "
      "values: 'one' or 'all'.");
    Q("SELECT JSON_CONTAINS('[1]', '1', '$[*]')",
      "ERR 3149 In this situation, path expressions may not contain the * "
      "and ** tokens or an array range.");
    Q("SELECT JSON_KEYS('{\"a\": 1, \"b\": {\"c\": 30}}'), "
      "JSON_KEYS('{\"a\": 1, \"b\": {\"c\": 30}}', '$.b'), "
      "JSON_KEYS('[1]')",
      "[\"a\", \"b\"]|[\"c\"]|NULL");
    Q("SELECT JSON_LENGTH('[1, 2, {\"a\": 3}]'), "
      "JSON_LENGTH('{\"a\": 1, \"b\": {\"c\": 30}}'), "
      "JSON_LENGTH('{\"a\": 1, \"b\": {\"c\": 30}}', '$.b'), "
      "JSON_LENGTH('\"x\"'), JSON_LENGTH('[]', '$.z')",
      "3|2|1|1|NULL");
    Q("SELECT JSON_DEPTH('{}'), JSON_DEPTH('[]'), JSON_DEPTH('true'), "
      "JSON_DEPTH('[10, 20]'), JSON_DEPTH('[[], {}]'), "
      "JSON_DEPTH('[10, {\"a\": 20}]')",
      "1|1|1|2|2|3");
    Q("SELECT JSON_TYPE('[\"a\", \"b\", 1]'), JSON_TYPE('\"hello\"'), "
      "JSON_TYPE(JSON_EXTRACT('{\"a\": [10, true]}', '$.a[1]')), "
      "JSON_TYPE(NULL), JSON_TYPE('null')",
      "ARRAY|STRING|BOOLEAN|NULL|NULL");
    Q("SELECT JSON_TYPE(1)",
      "ERR 3146 Invalid data type for JSON data in argument 1 to function "
      "json_type; a JSON string or JSON type is required.");
    Q("SELECT JSON_VALID('{\"a\": 1}'), JSON_VALID('hello'), "
      "JSON_VALID('\"hello\"'), JSON_VALID(1), JSON_VALID(NULL), "
      "JSON_VALID(CAST('1' AS JSON))",
      "1|0|1|0|NULL|1");
}

static void search(void **state)
{
    (void)state;
    const char *j = "'[\"abc\", [{\"k\": \"10\"}, \"def\"], {\"x\":\"abc\"}, "
                    "{\"y\":\"bcd\"}]'";
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT JSON_SEARCH(%s, 'one', 'abc'), JSON_SEARCH(%s, 'all', "
             "'abc'), JSON_SEARCH(%s, 'all', 'ghi'), JSON_SEARCH(%s, 'all', "
             "'10')",
             j, j, j, j);
    Q(sql, "\"$[0]\"|[\"$[0]\", \"$[2].x\"]|NULL|\"$[1][0].k\"");
    snprintf(sql, sizeof sql,
             "SELECT JSON_SEARCH(%s, 'all', '10', NULL, '$'), "
             "JSON_SEARCH(%s, 'all', '%%a%%'), JSON_SEARCH(%s, 'all', "
             "'%%b%%'), JSON_SEARCH(%s, 'all', '%%b%%', NULL, '$[1]'), "
             "JSON_SEARCH(%s, 'all', '%%b%%', '', '$[3]')",
             j, j, j, j, j);
    Q(sql, "\"$[1][0].k\"|[\"$[0]\", \"$[2].x\"]|"
           "[\"$[0]\", \"$[2].x\", \"$[3].y\"]|NULL|\"$[3].y\"");
    Q("SELECT JSON_SEARCH('{\"a b\": \"x\"}', 'one', 'x')", "\"$.\\\"a b\\\"\"");
}

static void modify(void **state)
{
    (void)state;
    const char *j = "'{ \"a\": 1, \"b\": [2, 3]}'";
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT JSON_INSERT(%s, '$.a', 10, '$.c', '[true, false]'), "
             "JSON_SET(%s, '$.a', 10, '$.c', '[true, false]'), "
             "JSON_REPLACE(%s, '$.a', 10, '$.c', '[true, false]')",
             j, j, j);
    Q(sql, "{\"a\": 1, \"b\": [2, 3], \"c\": \"[true, false]\"}|"
           "{\"a\": 10, \"b\": [2, 3], \"c\": \"[true, false]\"}|"
           "{\"a\": 10, \"b\": [2, 3]}");
    Q("SELECT JSON_SET('1', '$[1]', 2), JSON_SET('[1]', '$[0]', 9), "
      "JSON_SET('[1]', '$[5]', 9), JSON_INSERT('[1]', '$[0]', 9), "
      "JSON_REPLACE('[1]', '$[5]', 9), JSON_SET('{}', '$', 'x'), "
      "JSON_SET('{}', '$.a.b', 1)",
      "[1, 2]|[9]|[1, 9]|[1]|[1]|\"x\"|{}");
    Q("SELECT JSON_SET('{}', '$.a', 1, '$')",
      "ERR 1582 Incorrect parameter count in the call to native function "
      "'JSON_SET'");
    Q("SELECT JSON_SET('{}', '$.*', 1)",
      "ERR 3149 In this situation, path expressions may not contain the * "
      "and ** tokens or an array range.");
    Q("SELECT JSON_REMOVE('[\"a\", [\"b\", \"c\"], \"d\"]', '$[1]'), "
      "JSON_REMOVE('{\"a\": 1, \"b\": 2}', '$.a', '$.z'), "
      "JSON_REMOVE('[1, 2, 3]', '$[last]')",
      "[\"a\", \"d\"]|{\"b\": 2}|[1, 2]");
    Q("SELECT JSON_REMOVE('{\"a\": 1}', '$')",
      "ERR 3153 The path expression '$' is not allowed in this context.");
    const char *k = "'[\"a\", [\"b\", \"c\"], \"d\"]'";
    snprintf(sql, sizeof sql,
             "SELECT JSON_ARRAY_APPEND(%s, '$[1]', 1), "
             "JSON_ARRAY_APPEND(%s, '$[0]', 2), "
             "JSON_ARRAY_APPEND(%s, '$[1][0]', 3)",
             k, k, k);
    Q(sql, "[\"a\", [\"b\", \"c\", 1], \"d\"]|[[\"a\", 2], [\"b\", \"c\"], "
           "\"d\"]|[\"a\", [[\"b\", 3], \"c\"], \"d\"]");
    Q("SELECT JSON_ARRAY_APPEND('{\"a\": 1, \"b\": [2, 3], \"c\": 4}', "
      "'$.b', 'x', '$.c', 'y'), JSON_ARRAY_APPEND('{\"a\": 1}', '$', 'z')",
      "{\"a\": 1, \"b\": [2, 3, \"x\"], \"c\": [4, \"y\"]}|"
      "[{\"a\": 1}, \"z\"]");
    const char *m = "'[\"a\", {\"b\": [1, 2]}, [3, 4]]'";
    snprintf(sql, sizeof sql,
             "SELECT JSON_ARRAY_INSERT(%s, '$[1]', 'x'), "
             "JSON_ARRAY_INSERT(%s, '$[100]', 'x'), "
             "JSON_ARRAY_INSERT(%s, '$[1].b[0]', 'x'), "
             "JSON_ARRAY_INSERT(%s, '$[0]', 'x', '$[2][1]', 'y')",
             m, m, m, m);
    Q(sql, "[\"a\", \"x\", {\"b\": [1, 2]}, [3, 4]]|"
           "[\"a\", {\"b\": [1, 2]}, [3, 4], \"x\"]|"
           "[\"a\", {\"b\": [\"x\", 1, 2]}, [3, 4]]|"
           "[\"x\", \"a\", {\"b\": [1, 2]}, [3, 4]]");
    Q("SELECT JSON_ARRAY_INSERT('[1]', '$.a', 2)",
      "ERR 3165 A path expression is not a path to a cell in an array.");
}

static void merge(void **state)
{
    (void)state;
    Q("SELECT JSON_MERGE_PRESERVE('[1, 2]', '[true, false]'), "
      "JSON_MERGE_PRESERVE('{\"name\": \"x\"}', '{\"id\": 47}'), "
      "JSON_MERGE_PRESERVE('1', 'true'), "
      "JSON_MERGE_PRESERVE('[1, 2]', '{\"id\": 47}')",
      "[1, 2, true, false]|{\"id\": 47, \"name\": \"x\"}|[1, true]|"
      "[1, 2, {\"id\": 47}]");
    Q("SELECT JSON_MERGE_PRESERVE('{ \"a\": 1, \"b\": 2 }', "
      "'{ \"a\": 3, \"c\": 4 }', '{ \"a\": 5, \"d\": 6 }'), "
      "JSON_MERGE('[1]', '2'), JSON_MERGE_PRESERVE('[1]', NULL)",
      "{\"a\": [1, 3, 5], \"b\": 2, \"c\": 4, \"d\": 6}|[1, 2]|NULL");
    Q("SELECT JSON_MERGE_PATCH('[1, 2]', '[true, false]'), "
      "JSON_MERGE_PATCH('{\"name\": \"x\"}', '{\"id\": 47}'), "
      "JSON_MERGE_PATCH('1', 'true'), "
      "JSON_MERGE_PATCH('[1, 2]', '{\"id\": 47}')",
      "[true, false]|{\"id\": 47, \"name\": \"x\"}|true|{\"id\": 47}");
    Q("SELECT JSON_MERGE_PATCH('{ \"a\": 1, \"b\":2 }', "
      "'{ \"a\": 3, \"c\":4 }', '{ \"a\": 5, \"d\":6 }'), "
      "JSON_MERGE_PATCH('{\"a\":1, \"b\":2}', '{\"b\":null}'), "
      "JSON_MERGE_PATCH('{\"a\":{\"x\":1}}', '{\"a\":{\"y\":2}}')",
      "{\"a\": 5, \"b\": 2, \"c\": 4, \"d\": 6}|{\"a\": 1}|"
      "{\"a\": {\"x\": 1, \"y\": 2}}");
}

/* The binary form: the byte layout json.c documents, and the validator
 * refusing what a decoder must not trust. */
static void binary(void **state)
{
    (void)state;
    struct sql_arena *a = sql__arena_create(0);
    struct sql_json *j;
    struct sql_json_perr pe;
    const uint8_t *b;
    size_t n;
    assert_non_null(a);
    assert_int_equal(sql__json_parse("{\"b\": [true], \"a\": \"x\"}", 23, a,
                                     &j, &pe),
                     0);
    assert_int_equal(sql__json_encode(j, a, &b, &n), 0);
    static const uint8_t want[] = {
        0x09, 2, 0, 0, 0, 54, 0, 0, 0,  /* object, 2 members, size 54 */
        32, 0, 0, 0, 1, 0, 0, 0,        /* key "a" at 32 */
        33, 0, 0, 0, 1, 0, 0, 0,        /* key "b" at 33 */
        34, 0, 0, 0, 40, 0, 0, 0,       /* values at 34, 40 */
        'a', 'b',                       /* keys */
        0x07, 1, 0, 0, 0, 'x',          /* "x" */
        0x08, 1, 0, 0, 0, 13, 0, 0, 0,  /* [true]: 1 item, size 13 */
        12, 0, 0, 0, 0x02,              /* item at 12: true */
    };
    assert_int_equal(n, sizeof want);
    assert_memory_equal(b, want, sizeof want);
    assert_true(sql__json_valid_bin(b, n));
    uint8_t bad[sizeof want];
    /* Truncated, trailing bytes, keys out of order, a gap before a
     * member, an unknown tag: all refused. */
    assert_false(sql__json_valid_bin(want, sizeof want - 1));
    memcpy(bad, want, sizeof want);
    assert_false(sql__json_valid_bin(bad, 0));
    bad[33] = 'b';
    bad[34] = 'a';
    assert_false(sql__json_valid_bin(bad, sizeof want));
    memcpy(bad, want, sizeof want);
    bad[25] = 35;
    assert_false(sql__json_valid_bin(bad, sizeof want));
    memcpy(bad, want, sizeof want);
    bad[54] = 0x7E;
    assert_false(sql__json_valid_bin(bad, sizeof want));
    /* Nesting: 100 levels are a document, 101 are not (3157). */
    char deep[256];
    memset(deep, '[', 101);
    memset(deep + 101, ']', 101);
    assert_int_equal(sql__json_parse(deep + 1, 200, a, &j, &pe), 0);
    assert_int_equal(sql__json_parse(deep, 202, a, &j, &pe), SQL_EQUERY);
    assert_null(pe.msg);
    sql__arena_destroy(a);
    Q("SELECT JSON_DEPTH(REPEAT('[', 101))",
      "ERR 3157 The JSON document exceeds the maximum depth of 100.");
}

/* JSON in the binary protocol: values go as length-encoded text of
 * type 245, parameters arrive as strings and are parsed on insert. */
static void binproto(void **state)
{
    (void)state;
    unsigned np, nc;
    int ps = sqlfx_prepare(&c,
                           "SELECT j, j->'$.n', JSON_OBJECT('k', ?) FROM t "
                           "WHERE id = ?",
                           &np, &nc);
    assert_true(ps >= 0);
    assert_int_equal(np, 2);
    assert_int_equal(nc, 3);
    const char *args[] = {"v", "1"};
    assert_string_equal(sqlfx_execute(&c, ps, 2, args),
                        "{\"n\": 3, \"name\": \"Ann\", \"tags\": "
                        "[\"x\", \"y\"]}|3|{\"k\": \"v\"}");
    sqlfx_close_stmt(&c, ps);
    ps = sqlfx_prepare(&c, "INSERT INTO t VALUES (?, ?)", &np, &nc);
    assert_true(ps >= 0);
    const char *row[] = {"9", "[1, {\"b\": 2, \"a\": null}]"};
    assert_string_equal(sqlfx_execute(&c, ps, 2, row), "OK 1 0");
    const char *bad[] = {"10", "[1,"};
    assert_string_equal(sqlfx_execute(&c, ps, 2, bad),
                        "ERR 3140 Invalid JSON text: \"Invalid value.\" at "
                        "position 3 in value for column 'j'.");
    sqlfx_close_stmt(&c, ps);
    Q("SELECT j FROM t WHERE id = 9", "[1, {\"a\": null, \"b\": 2}]");
    Q("DELETE FROM t WHERE id = 9", "OK 1 0 0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(storage),  cmocka_unit_test(stores),
        cmocka_unit_test(arrows),
        cmocka_unit_test(ordering), cmocka_unit_test(casts),
        cmocka_unit_test(extract),  cmocka_unit_test(build),
        cmocka_unit_test(inspect),  cmocka_unit_test(search),
        cmocka_unit_test(modify),   cmocka_unit_test(merge),
        cmocka_unit_test(binary),   cmocka_unit_test(binproto),
        cmocka_unit_test(pretty),   cmocka_unit_test(aggregates),
    };
    return cmocka_run_group_tests_name("libsql/json", tests, setup, teardown);
}

/* test_json_table.c: JSON_TABLE (ordinality, PATH with ON EMPTY / ON
 * ERROR, EXISTS PATH, NESTED PATH, lateral to the tables before it) and
 * `v MEMBER OF (array)`, with the results MySQL 8's manual gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)

static struct sqlfx f;
static struct sqlfx_conn c;

static int setup(void **state)
{
    (void)state;
    sqlfx_open_db(&f, &c);
    Q(&c, "CREATE TABLE docs (id INT PRIMARY KEY, doc JSON, txt TEXT)",
      "OK 0 0 0");
    Q(&c, "INSERT INTO docs VALUES (1, '[1, 2]', '[\"a\"]'), "
          "(2, '[3]', NULL), (3, '[]', '[]'), (4, NULL, '[\"b\", \"c\"]'), "
          "(5, '[1, 2]', '[\"a\"]')",
      "OK 5 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

static void test_member_of(void **state)
{
    (void)state;
    /* The manual's examples (MEMBER OF, MySQL 8.0.17). */
    Q(&c, "SELECT 17 MEMBER OF('[23, \"abc\", 17, \"ab\", 10]')", "1");
    Q(&c, "SELECT 'ab' MEMBER OF('[23, \"abc\", 17, \"ab\", 10]')", "1");
    Q(&c, "SELECT 7 MEMBER OF('[23, \"abc\", 17, \"ab\", 10]'), "
          "'a' MEMBER OF('[23, \"abc\", 17, \"ab\", 10]')",
      "0|0");
    Q(&c, "SELECT 17 MEMBER OF('[23, \"abc\", \"17\", \"ab\", 10]'), "
          "\"17\" MEMBER OF('[23, \"abc\", 17, \"ab\", 10]')",
      "0|0");
    Q(&c, "SELECT CAST('[4,5]' AS JSON) MEMBER OF('[[3,4],[4,5]]')", "1");
    Q(&c, "SELECT JSON_ARRAY(4,5) MEMBER OF('[[3,4],[4,5]]')", "1");
    Q(&c, "SELECT '[4,5]' MEMBER OF('[[3,4],[4,5]]')", "0");
    Q(&c, "SELECT NULL MEMBER OF('[1]'), 1 MEMBER OF(NULL), "
          "1 MEMBER OF('1'), 1.0 MEMBER OF('[1]')",
      "NULL|NULL|1|1");
    Q(&c, "SELECT id FROM docs WHERE 2 MEMBER OF(doc) ORDER BY id", "1\n5");
    Q(&c, "SELECT 1 MEMBER OF('[1')",
      "ERR 3141 Invalid JSON text in argument 2 to function member of: "
      "\"Missing a comma or ']' after an array element.\" at position 2.");
    /* Binds like IN: NOT applies to the whole predicate. */
    Q(&c, "SELECT NOT 3 MEMBER OF('[1, 2]'), 1 + 1 MEMBER OF('[2]')",
      "1|1");
}

/* The manual's first example: ordinality, ON EMPTY / ON ERROR defaults,
 * a JSON column and EXISTS PATH. */
static void test_columns(void **state)
{
    (void)state;
    Q(&c, "SELECT * FROM JSON_TABLE('[{\"a\":\"3\"},{\"a\":2},{\"b\":1},"
          "{\"a\":0},{\"a\":[1,2]}]', \"$[*]\" COLUMNS("
          "rowid FOR ORDINALITY, "
          "ac VARCHAR(100) PATH \"$.a\" DEFAULT '111' ON EMPTY "
          "DEFAULT '999' ON ERROR, "
          "aj JSON PATH \"$.a\" DEFAULT '{\"x\": 333}' ON EMPTY, "
          "bx INT EXISTS PATH \"$.b\")) AS tt",
      "1|3|\"3\"|0\n"
      "2|2|2|0\n"
      "3|111|{\"x\": 333}|1\n"
      "4|0|0|0\n"
      "5|999|[1, 2]|0");
    Q(&c, "SELECT x, y FROM JSON_TABLE('{\"p\": [{\"x\": 1.5, \"y\": "
          "\"s\"}, {\"x\": null}]}', '$.p[*]' COLUMNS (x DOUBLE PATH '$.x', "
          "y CHAR(3) PATH '$.y')) t",
      "1.5|s\nNULL|NULL");
    /* ERROR ON EMPTY / ON ERROR. */
    Q(&c, "SELECT * FROM JSON_TABLE('[{}]', '$[*]' COLUMNS (a INT PATH "
          "'$.a' ERROR ON EMPTY)) t",
      "ERR 3665 Missing value for JSON_TABLE column 'a'");
    Q(&c, "SELECT * FROM JSON_TABLE('[{\"a\": [1]}]', '$[*]' COLUMNS (a INT "
          "PATH '$.a' ERROR ON ERROR)) t",
      "ERR 3666 Can't store an array or an object in the scalar column "
      "'a' of JSON_TABLE 't'.");
    Q(&c, "SELECT * FROM JSON_TABLE('[{\"a\": \"x\"}]', '$[*]' COLUMNS (a INT "
          "PATH '$.a' DEFAULT '7' ON ERROR)) t",
      "7");
    /* Aggregates, filters and joins over it. */
    Q(&c, "SELECT COUNT(*), SUM(i) FROM JSON_TABLE('[1, 2, 3]', '$[*]' "
          "COLUMNS (i INT PATH '$')) t WHERE i > 1",
      "2|5");
    Q(&c, "SELECT d.id FROM docs d JOIN JSON_TABLE('[2, 3]', '$[*]' COLUMNS "
          "(i INT PATH '$')) t ON t.i = d.id ORDER BY d.id",
      "2\n3");
    /* A document from a variable; SQL NULL gives no rows. */
    Q(&c, "SET @j = '{\"k\": [\"u\", \"v\"]}'", "OK 0 0 0");
    Q(&c, "SELECT * FROM JSON_TABLE(@j, '$.k[*]' COLUMNS (n FOR ORDINALITY, "
          "s VARCHAR(5) PATH '$')) t",
      "1|u\n2|v");
    Q(&c, "SELECT COUNT(*) FROM JSON_TABLE(NULL, '$[*]' COLUMNS (s INT PATH "
          "'$')) t",
      "0");
    /* Errors: bad text, bad path, a missing alias, duplicate names. */
    Q(&c, "SELECT * FROM JSON_TABLE('[1', '$[*]' COLUMNS (s INT PATH '$')) t",
      "ERR 3141 Invalid JSON text in argument 1 to function JSON_TABLE: "
      "\"Missing a comma or ']' after an array element.\" at position 2.");
    Q(&c, "SELECT * FROM JSON_TABLE('[1]', '$[' COLUMNS (s INT PATH '$')) t",
      "ERR 3143 Invalid JSON path expression. The error is around "
      "character position 3.");
    Q(&c, "SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (s INT PATH '$'))",
      "ERR 1064 You have an error in your SQL syntax; check the manual that "
      "corresponds to your MySQL server version for the right syntax to use "
      "near '' at line 1");
    Q(&c, "SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (s INT PATH '$', "
          "S INT PATH '$')) t",
      "ERR 1060 Duplicate column name 'S'");
}

/* NESTED PATH: the manual's examples (one nested set; two siblings). */
static void test_nested(void **state)
{
    (void)state;
    Q(&c, "SELECT * FROM JSON_TABLE('[{\"a\": 1, \"b\": [11,111]}, "
          "{\"a\": 2, \"b\": [22,222]}, {\"a\":3}]', '$[*]' COLUMNS("
          "a INT PATH '$.a', NESTED PATH '$.b[*]' COLUMNS (b INT PATH '$')))"
          " AS jt",
      "1|11\n1|111\n2|22\n2|222\n3|NULL");
    Q(&c, "SELECT * FROM JSON_TABLE('[{\"a\": 1, \"b\": [11,111]}, "
          "{\"a\": 2, \"b\": [22,222]}]', '$[*]' COLUMNS("
          "a INT PATH '$.a', NESTED PATH '$.b[*]' COLUMNS (b1 INT PATH '$'),"
          " NESTED PATH '$.b[*]' COLUMNS (b2 INT PATH '$'))) AS jt",
      "1|11|NULL\n1|111|NULL\n1|NULL|11\n1|NULL|111\n"
      "2|22|NULL\n2|222|NULL\n2|NULL|22\n2|NULL|222");
    Q(&c, "SELECT id, n, v FROM JSON_TABLE('[{\"id\": 1, \"c\": [{\"n\": "
          "\"x\", \"v\": [5, 6]}]}]', '$[*]' COLUMNS (id INT PATH '$.id', "
          "NESTED PATH '$.c[*]' COLUMNS (n CHAR(1) PATH '$.n', NESTED '$.v[*]'"
          " COLUMNS (v INT PATH '$')))) t",
      "1|x|5\n1|x|6");
}

/* Lateral: the document is a column of a table before it. */
static void test_lateral(void **state)
{
    (void)state;
    Q(&c, "SELECT d.id, j.v FROM docs d, JSON_TABLE(d.doc, '$[*]' COLUMNS "
          "(v INT PATH '$')) j ORDER BY d.id, j.v",
      "1|1\n1|2\n2|3\n5|1\n5|2");
    Q(&c, "SELECT d.id, j.v FROM docs d LEFT JOIN JSON_TABLE(d.doc, '$[*]' "
          "COLUMNS (v INT PATH '$')) j ON TRUE ORDER BY d.id, j.v",
      "1|1\n1|2\n2|3\n3|NULL\n4|NULL\n5|1\n5|2");
    /* `*` leaves out the hidden document column. */
    Q(&c, "SELECT * FROM docs d JOIN JSON_TABLE(d.txt, '$[*]' COLUMNS "
          "(n FOR ORDINALITY, s CHAR(1) PATH '$')) j WHERE d.id > 3 "
          "ORDER BY d.id, j.n",
      "4|NULL|[\"b\", \"c\"]|1|b\n4|NULL|[\"b\", \"c\"]|2|c\n"
      "5|[1, 2]|[\"a\"]|1|a");
    Q(&c, "SELECT d.id, COUNT(j.v) FROM docs d LEFT JOIN JSON_TABLE(d.doc, "
          "'$[*]' COLUMNS (v INT PATH '$')) j ON j.v > 1 GROUP BY d.id "
          "ORDER BY d.id",
      "1|1\n2|1\n3|0\n4|0\n5|1");
    /* A column of a later table is unknown. */
    Q(&c, "SELECT * FROM JSON_TABLE(d.doc, '$[*]' COLUMNS (v INT PATH '$')) "
          "j, docs d",
      "ERR 1054 Unknown column 'd.doc' in 'field list'");
}

/* A view over JSON_TABLE keeps it (the definition is printed and parsed
 * again); EXPLAIN shows it as a table of rows. */
static void test_view(void **state)
{
    (void)state;
    Q(&c, "CREATE VIEW jv AS SELECT d.id, j.* FROM docs d, JSON_TABLE(d.doc, "
          "'$[*]' COLUMNS (n FOR ORDINALITY, v INT PATH '$' DEFAULT '0' ON "
          "EMPTY NULL ON ERROR, e INT EXISTS PATH '$.x', NESTED PATH '$.y' "
          "COLUMNS (y JSON PATH '$' ERROR ON ERROR))) j",
      "OK 0 0 0");
    Q(&c, "SELECT * FROM jv ORDER BY id, n",
      "1|1|1|0|NULL\n1|2|2|0|NULL\n2|1|3|0|NULL\n5|1|1|0|NULL\n"
      "5|2|2|0|NULL");
    Q(&c, "DROP VIEW jv", "OK 0 0 0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_of),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_lateral),
        cmocka_unit_test(test_view),
    };
    return cmocka_run_group_tests_name("libsql/json_table", tests, setup,
                                       teardown);
}

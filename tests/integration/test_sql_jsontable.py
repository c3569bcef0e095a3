#!/usr/bin/env python3
# test_sql_jsontable.py: JSON_TABLE and MEMBER OF through a real sqld
# (--store=local) and pymysql: column metadata of a JSON_TABLE result,
# the manual's examples, a lateral expansion of stored documents (inner
# and LEFT JOIN), NESTED PATH, MEMBER OF over a column, and the error
# numbers. Prints cmocka-style lines for tests/run-suites.sh.
import sys

import pymysql
from pymysql.constants import FIELD_TYPE

import sqldfx
from sqldfx import eq, err, q

srv = sqldfx.Sqld("dsql-jsontable-", [])


def conn():
    return srv.connect(database="j", autocommit=True)


def setup():
    c = srv.connect(autocommit=True)
    q(c, "CREATE DATABASE j")
    q(c, "USE j")
    q(c, "CREATE TABLE orders (id INT PRIMARY KEY, items JSON)")
    q(c, "INSERT INTO orders VALUES "
         "(1, '[{\"sku\": \"a\", \"qty\": 2}, {\"sku\": \"b\", \"qty\": 1}]'),"
         "(2, '[{\"sku\": \"a\", \"qty\": 5}]'), (3, '[]'), (4, NULL)")
    c.close()


def manual_example_and_metadata():
    setup()
    c = conn()
    with c.cursor() as cur:
        cur.execute(
            "SELECT * FROM JSON_TABLE('[{\"a\":\"3\"},{\"a\":2},{\"b\":1},"
            "{\"a\":0},{\"a\":[1,2]}]', \"$[*]\" COLUMNS("
            "rowid FOR ORDINALITY, "
            "ac VARCHAR(100) PATH \"$.a\" DEFAULT '111' ON EMPTY "
            "DEFAULT '999' ON ERROR, "
            "aj JSON PATH \"$.a\" DEFAULT '{\"x\": 333}' ON EMPTY, "
            "bx INT EXISTS PATH \"$.b\")) AS tt")
        rows = [tuple(r) for r in cur.fetchall()]
        names = [d[0] for d in cur.description]
        types = [d[1] for d in cur.description]
    eq("rows", rows, [(1, "3", '"3"', 0), (2, "2", "2", 0),
                      (3, "111", '{"x": 333}', 1), (4, "0", "0", 0),
                      (5, "999", "[1, 2]", 0)])
    eq("names", names, ["rowid", "ac", "aj", "bx"])
    eq("types", types, [FIELD_TYPE.LONG, FIELD_TYPE.VAR_STRING,
                        FIELD_TYPE.JSON, FIELD_TYPE.LONG])
    c.close()


def lateral_expansion():
    c = conn()
    eq("inner", q(c, "SELECT o.id, j.sku, j.qty FROM orders o, "
                     "JSON_TABLE(o.items, '$[*]' COLUMNS (sku CHAR(1) PATH "
                     "'$.sku', qty INT PATH '$.qty')) j ORDER BY o.id, j.sku"),
       [(1, "a", 2), (1, "b", 1), (2, "a", 5)])
    eq("left", q(c, "SELECT o.id, SUM(j.qty) FROM orders o LEFT JOIN "
                    "JSON_TABLE(o.items, '$[*]' COLUMNS (qty INT PATH "
                    "'$.qty')) j ON TRUE GROUP BY o.id ORDER BY o.id"),
       [(1, 3), (2, 5), (3, None), (4, None)])
    eq("per sku", q(c, "SELECT j.sku, SUM(j.qty) FROM orders o JOIN "
                       "JSON_TABLE(o.items, '$[*]' COLUMNS (sku CHAR(1) PATH "
                       "'$.sku', qty INT PATH '$.qty')) j "
                       "GROUP BY j.sku ORDER BY j.sku"),
       [("a", 7), ("b", 1)])
    c.close()


def nested_and_member_of():
    c = conn()
    eq("nested", q(c, "SELECT * FROM JSON_TABLE('[{\"a\": 1, \"b\": [11,111]}"
                      ", {\"a\": 2, \"b\": [22,222]}, {\"a\":3}]', '$[*]' "
                      "COLUMNS(a INT PATH '$.a', NESTED PATH '$.b[*]' "
                      "COLUMNS (b INT PATH '$'))) AS jt"),
       [(1, 11), (1, 111), (2, 22), (2, 222), (3, None)])
    eq("member of", q(c, "SELECT id FROM orders WHERE "
                         "JSON_OBJECT('sku', 'a', 'qty', 5) MEMBER OF(items)"),
       [(2,)])
    eq("member of scalars", q(c, "SELECT 'ab' MEMBER OF('[23, \"abc\", 17, "
                                 "\"ab\", 10]'), 17 MEMBER OF('[\"17\"]')"),
       [(1, 0)])
    c.close()


def errors():
    c = conn()
    eq("missing", err(c, "SELECT * FROM JSON_TABLE('[{}]', '$[*]' COLUMNS "
                         "(a INT PATH '$.a' ERROR ON EMPTY)) t"), 3665)
    eq("not scalar", err(c, "SELECT * FROM JSON_TABLE('[{\"a\": [1]}]', "
                            "'$[*]' COLUMNS (a INT PATH '$.a' ERROR ON "
                            "ERROR)) t"), 3666)
    eq("bad text", err(c, "SELECT * FROM JSON_TABLE('[1', '$[*]' COLUMNS "
                          "(a INT PATH '$')) t"), 3141)
    eq("bad path", err(c, "SELECT * FROM JSON_TABLE('[1]', '$[' COLUMNS "
                          "(a INT PATH '$')) t"), 3143)
    eq("no alias", err(c, "SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS "
                          "(a INT PATH '$'))"), 1064)
    eq("still usable", q(c, "SELECT 1"), [(1,)])
    c.close()


sys.exit(sqldfx.run(srv, [manual_example_and_metadata, lateral_expansion,
                          nested_and_member_of, errors]))

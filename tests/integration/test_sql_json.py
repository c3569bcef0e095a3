#!/usr/bin/env python3
# test_sql_json.py: JSON, ENUM and SET through a real sqld (--store=local)
# and pymysql: column metadata (JSON is type 245, ENUM/SET go as strings
# with their flags), MySQL's normalized JSON text, the JSON functions and
# ->/->> over stored documents, a JSON document surviving a restart of the
# RocksDB store, ENUM/SET index semantics, and MySQL's error numbers (3140,
# 3141, 3143, 1265, 1690, 1264). Prints cmocka-style lines for
# tests/run-suites.sh.
import sys
from decimal import Decimal

import pymysql
from pymysql.constants import FIELD_TYPE

import sqldfx
from sqldfx import eq, err, q

srv = sqldfx.Sqld("dsql-json-", [])


def conn():
    return srv.connect(database="j", autocommit=True)


def setup():
    c = srv.connect(autocommit=True)
    q(c, "CREATE DATABASE j")
    q(c, "USE j")
    q(c, "CREATE TABLE docs (id INT PRIMARY KEY, doc JSON, "
         "kind ENUM('a', 'b', 'c') NOT NULL DEFAULT 'b', "
         "flags SET('x', 'y', 'z'))")
    q(c, "INSERT INTO docs VALUES "
         "(1, '{\"user\": {\"name\": \"ann\", \"age\": 31}, "
         "\"tags\": [\"red\", \"blue\"]}', 'c', 'x,z'), "
         "(2, '[1, 2.5, \"two\", null, false]', 'a', ''), "
         "(3, NULL, 'b', NULL)")
    c.close()


def json_text_and_metadata():
    setup()
    c = conn()
    with c.cursor() as cur:
        cur.execute("SELECT doc, kind, flags FROM docs WHERE id = 1")
        row = cur.fetchone()
        types = [d[1] for d in cur.description]
    eq("normalized text", row[0],
       '{"tags": ["red", "blue"], "user": {"age": 31, "name": "ann"}}')
    eq("enum and set text", row[1:], ("c", "x,z"))
    eq("column types", types,
       [FIELD_TYPE.JSON, FIELD_TYPE.STRING, FIELD_TYPE.STRING])
    eq("arrows", q(c, "SELECT doc->'$.user.name', doc->>'$.user.name', "
                      "doc->'$.tags[1]', doc->'$.missing' FROM docs "
                      "WHERE id = 1"),
       [('"ann"', "ann", '"blue"', None)])
    eq("where on a path", q(c, "SELECT id FROM docs "
                               "WHERE doc->'$.user.age' > 30"), [(1,)])
    eq("functions over stored documents",
       q(c, "SELECT id, JSON_TYPE(doc), JSON_LENGTH(doc), JSON_DEPTH(doc), "
            "JSON_CONTAINS(doc, '\"red\"', '$.tags') FROM docs ORDER BY id"),
       [(1, "OBJECT", 2, 3, 1), (2, "ARRAY", 5, 2, None),
        (3, None, None, None, None)])
    eq("numbers in a document", q(c, "SELECT doc->'$[1]' * 2, "
                                     "JSON_EXTRACT(doc, '$[0]', '$[1]') "
                                     "FROM docs WHERE id = 2"),
       [(5.0, "[1, 2.5]")])
    c.close()


def json_updates_and_params():
    c = conn()
    q(c, "UPDATE docs SET doc = JSON_SET(doc, '$.user.age', 32, "
         "'$.seen', CAST('true' AS JSON)) WHERE id = 1")
    q(c, "UPDATE docs SET doc = JSON_ARRAY_APPEND(doc, '$', 'end') "
         "WHERE id = 2")
    eq("after updates", q(c, "SELECT doc FROM docs WHERE id < 3 "
                             "ORDER BY id"),
       [('{"seen": true, "tags": ["red", "blue"], "user": {"age": 32, '
         '"name": "ann"}}',),
        ('[1, 2.5, "two", null, false, "end"]',)])
    # pymysql sends parameters inline; the text still parses on insert.
    q(c, "INSERT INTO docs (id, doc) VALUES (%s, %s)",
      (4, '{"k": [1, 2, {"deep": "\u00e9"}]}'))
    eq("a parameter document", q(c, "SELECT doc->>'$.k[2].deep', kind "
                                    "FROM docs WHERE id = 4"),
       [("\u00e9", "b")])
    c.close()


def json_errors():
    c = conn()
    eq("3140 on insert", err(c, "INSERT INTO docs (id, doc) VALUES "
                                "(9, '{\"a\": }')"), 3140)
    eq("3140 for a number", err(c, "INSERT INTO docs (id, doc) VALUES "
                                   "(9, 12)"), 3140)
    eq("3141 in a function", err(c, "SELECT JSON_EXTRACT('[1', '$')"), 3141)
    eq("3143 bad path", err(c, "SELECT JSON_EXTRACT('[1]', 'x')"), 3143)
    eq("3146 bad type", err(c, "SELECT JSON_TYPE(1)"), 3146)
    eq("nothing inserted", q(c, "SELECT COUNT(*) FROM docs"), [(4,)])
    c.close()


def enum_set_semantics():
    c = conn()
    with c.cursor() as cur:
        cur.execute("SELECT id, kind + 0, flags + 0, kind * 1.5 FROM docs "
                    "ORDER BY id")
        rows = cur.fetchall()
        types = [d[1] for d in cur.description]
    eq("numeric context: integers (as MariaDB), a decimal product", rows,
       ((1, 3, 5, Decimal("4.5")), (2, 1, 0, Decimal("1.5")),
        (3, 2, None, Decimal("3.0")), (4, 2, None, Decimal("3.0"))))
    eq("their types", types[1:], [FIELD_TYPE.LONGLONG, FIELD_TYPE.LONGLONG,
                                  FIELD_TYPE.NEWDECIMAL])
    eq("python types", [type(v) for v in rows[0][1:3]], [int, int])
    eq("order by index", q(c, "SELECT id FROM docs ORDER BY kind DESC, id"),
       [(1,), (3,), (4,), (2,)])
    eq("find_in_set", q(c, "SELECT id FROM docs "
                           "WHERE FIND_IN_SET('z', flags)"), [(1,)])
    eq("1265 strict", err(c, "INSERT INTO docs (id, kind) VALUES (9, 'q')"),
       1265)
    eq("show create", q(c, "SHOW CREATE TABLE docs")[0][1].split("\n")[2:5],
       ["  `doc` json,",
        "  `kind` enum('a','b','c') NOT NULL DEFAULT 'b',",
        "  `flags` set('x','y','z') DEFAULT NULL,"])
    c.close()


def overflow_errors():
    c = conn()
    eq("1690 signed", err(c, "SELECT 9223372036854775807 + 1"), 1690)
    eq("1690 unsigned", err(c, "SELECT CAST(1 AS UNSIGNED) - 2"), 1690)
    q(c, "CREATE TABLE n (a TINYINT)")
    eq("1264 strict", err(c, "INSERT INTO n VALUES (300)"), 1264)
    c.close()


def survives_restart():
    srv.stop()
    srv.start()
    c = conn()
    eq("after restart", q(c, "SELECT doc->'$.user', kind, flags FROM docs "
                             "WHERE id = 1"),
       [('{"age": 32, "name": "ann"}', "c", "x,z")])
    c.close()


if __name__ == "__main__":
    sys.exit(sqldfx.run(srv, [json_text_and_metadata,
                              json_updates_and_params, json_errors,
                              enum_set_semantics, overflow_errors,
                              survives_restart]))

#!/usr/bin/env python3
# test_sql_window.py: window functions through a real sqld (--store=local)
# and pymysql: result values and their Python types (DECIMAL sums, DOUBLE
# ranks, NULLs), ranking over ties, frames at partition edges, named
# windows, windows over GROUP BY, EXPLAIN's Window operator, MySQL's error
# numbers; multi-table UPDATE and DELETE (affected rows with and without
# CLIENT_FOUND_ROWS, indexes kept, privileges checked per table).
# Prints cmocka-style lines for tests/run-suites.sh.
import sys
from decimal import Decimal

import pymysql

import sqldfx
from sqldfx import eq, err, q

srv = sqldfx.Sqld("dsql-window-", ["--store=local"])


def setup():
    c = srv.connect(autocommit=True)
    q(c, "CREATE DATABASE w")
    q(c, "USE w")
    q(c, "CREATE TABLE sales (id INT PRIMARY KEY, region VARCHAR(8), "
         "amount DECIMAL(8,2), units INT)")
    q(c, "INSERT INTO sales VALUES (1,'east',10.50,1),(2,'east',20.00,2),"
         "(3,'east',20.00,NULL),(4,'west',5.25,4),(5,'west',NULL,5),"
         "(6,'north',7.00,6)")
    c.close()


def conn():
    return srv.connect(database="w", autocommit=True)


def ranking_with_ties():
    setup()
    c = conn()
    eq("rank/dense_rank/row_number",
       q(c, "SELECT id, ROW_NUMBER() OVER w, RANK() OVER w, "
            "DENSE_RANK() OVER w FROM sales "
            "WINDOW w AS (PARTITION BY region ORDER BY amount DESC) "
            "ORDER BY id"),
       [(1, 3, 3, 2), (2, 1, 1, 1), (3, 2, 1, 1), (4, 1, 1, 1),
        (5, 2, 2, 2), (6, 1, 1, 1)])
    eq("percent_rank and cume_dist are doubles",
       q(c, "SELECT id, PERCENT_RANK() OVER w, CUME_DIST() OVER w "
            "FROM sales WHERE region = 'east' "
            "WINDOW w AS (ORDER BY amount) ORDER BY id"),
       [(1, 0.0, 1 / 3), (2, 0.5, 1.0), (3, 0.5, 1.0)])
    eq("ntile", q(c, "SELECT NTILE(4) OVER (ORDER BY id) FROM sales "
                     "ORDER BY id"),
       [(1,), (1,), (2,), (2,), (3,), (4,)])
    c.close()


def sums_and_frames():
    c = conn()
    eq("running sum per region is exact",
       q(c, "SELECT id, SUM(amount) OVER (PARTITION BY region ORDER BY id) "
            "FROM sales ORDER BY id"),
       [(1, Decimal("10.50")), (2, Decimal("30.50")), (3, Decimal("50.50")),
        (4, Decimal("5.25")), (5, Decimal("5.25")), (6, Decimal("7.00"))])
    eq("sliding frame at the partition edges",
       q(c, "SELECT id, SUM(units) OVER (PARTITION BY region ORDER BY id "
            "ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), "
            "COUNT(*) OVER (PARTITION BY region ORDER BY id "
            "ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) "
            "FROM sales ORDER BY id"),
       [(1, Decimal(3), 2), (2, Decimal(3), 1), (3, Decimal(2), 0),
        (4, Decimal(9), 1), (5, Decimal(9), 0), (6, Decimal(6), 0)])
    eq("avg over the whole partition",
       q(c, "SELECT DISTINCT region, AVG(amount) OVER (PARTITION BY region) "
            "FROM sales ORDER BY region"),
       [("east", Decimal("16.833333")), ("north", Decimal("7.000000")),
        ("west", Decimal("5.250000"))])
    eq("lag/lead with defaults",
       q(c, "SELECT id, LAG(units, 1, 0) OVER (ORDER BY id), "
            "LEAD(region) OVER (ORDER BY id) FROM sales ORDER BY id"),
       [(1, 0, "east"), (2, 1, "east"), (3, 2, "west"), (4, None, "west"),
        (5, 4, "north"), (6, 5, None)])
    eq("first/last/nth value",
       q(c, "SELECT id, FIRST_VALUE(id) OVER w, LAST_VALUE(id) OVER w, "
            "NTH_VALUE(id, 2) OVER w FROM sales "
            "WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND "
            "1 FOLLOWING) ORDER BY id"),
       [(1, 1, 2, 2), (2, 1, 3, 2), (3, 2, 4, 3), (4, 3, 5, 4),
        (5, 4, 6, 5), (6, 5, 6, 6)])
    c.close()


def over_group_by_and_explain():
    c = conn()
    eq("rank of grouped sums",
       q(c, "SELECT region, SUM(amount) s, RANK() OVER (ORDER BY SUM(amount) "
            "DESC) FROM sales GROUP BY region ORDER BY region"),
       [("east", Decimal("50.50"), 1), ("north", Decimal("7.00"), 2),
        ("west", Decimal("5.25"), 3)])
    plan = q(c, "EXPLAIN SELECT id, ROW_NUMBER() OVER (ORDER BY id) "
                "FROM sales")
    eq("explain shows a Window operator",
       [r[0].split("_")[0].lstrip("└─ ") for r in plan],
       ["Projection", "Window", "TableFullScan"])
    c.close()


def errors():
    c = conn()
    eq("in WHERE", err(c, "SELECT id FROM sales WHERE "
                          "ROW_NUMBER() OVER () = 1"), 3593)
    eq("unknown window", err(c, "SELECT RANK() OVER nosuch FROM sales"),
       3579)
    eq("defined twice", err(c, "SELECT RANK() OVER a FROM sales WINDOW "
                               "a AS (), a AS ()"), 3591)
    eq("frame start", err(c, "SELECT SUM(units) OVER (ORDER BY id ROWS "
                             "BETWEEN UNBOUNDED FOLLOWING AND CURRENT ROW) "
                             "FROM sales"), 3584)
    eq("ntile(0)", err(c, "SELECT NTILE(0) OVER () FROM sales"), 1210)
    eq("no OVER", err(c, "SELECT ROW_NUMBER() FROM sales"), 1064)
    eq("multi-table update under two names",
       err(c, "UPDATE sales a JOIN sales b ON a.id = b.id SET a.units = 1, "
              "b.units = 2"), 1235)
    eq("multi-table ORDER BY", err(c, "DELETE a FROM sales a JOIN sales b "
                                      "ON a.id = b.id ORDER BY a.id"), 1221)
    eq("still serving", q(c, "SELECT COUNT(*) OVER () FROM sales LIMIT 1"),
       [(6,)])
    c.close()


def affected(c, sql):
    with c.cursor() as cur:
        return cur.execute(sql)


def multi_table_dml():
    c = conn()
    q(c, "CREATE TABLE stock (id INT PRIMARY KEY, units INT, tag "
         "VARCHAR(8), KEY ku (units), UNIQUE KEY ut (tag))")
    q(c, "INSERT INTO stock VALUES (1, 0, 'a'), (2, 0, 'b'), (4, 4, 'd'), "
         "(9, 0, 'z')")
    # sales 1..3 are east: stock 1 and 2 match, each once
    eq("update from a join: affected = changed",
       affected(c, "UPDATE stock s JOIN sales x ON s.id = x.id "
                   "SET s.units = x.units + 10"), 3)
    eq("rows", q(c, "SELECT id, units FROM stock ORDER BY id"),
       [(1, 11), (2, 12), (4, 14), (9, 0)])
    eq("index kept", q(c, "SELECT id FROM stock WHERE units = 14"), [(4,)])
    found = srv.connect(database="w", autocommit=True,
                        client_flag=pymysql.constants.CLIENT.FOUND_ROWS)
    eq("found rows: matched, a row matched twice counted once",
       affected(found, "UPDATE stock s, sales x SET s.units = 11 "
                       "WHERE x.region = 'east' AND s.id = 1"), 1)
    found.close()
    eq("unique clash", err(c, "UPDATE stock s JOIN sales x ON s.id = x.id "
                              "SET s.tag = 'z' WHERE s.id = 1"), 1062)
    eq("delete from both",
       affected(c, "DELETE s, x FROM stock s JOIN sales x ON s.id = x.id "
                   "WHERE x.region = 'west'"), 2)
    eq("left", q(c, "SELECT id FROM stock ORDER BY id"), [(1,), (2,), (9,)])
    eq("sales left", q(c, "SELECT id FROM sales ORDER BY id"),
       [(1,), (2,), (3,), (5,), (6,)])
    c.close()


def multi_table_privileges():
    root = conn()
    q(root, "CREATE USER 'wu'@'%' IDENTIFIED BY 'pw'")
    q(root, "GRANT SELECT ON w.sales TO 'wu'@'%'")
    q(root, "GRANT SELECT, UPDATE ON w.stock TO 'wu'@'%'")
    u = srv.connect(user="wu", password="pw", database="w",
                    autocommit=True)
    eq("UPDATE on the target, SELECT on the other",
       affected(u, "UPDATE stock s JOIN sales x ON s.id = x.id "
                   "SET s.units = x.id"), 2)
    eq("no UPDATE on sales", err(u, "UPDATE stock s JOIN sales x ON "
                                    "s.id = x.id SET x.units = 0"), 1142)
    eq("no DELETE on stock", err(u, "DELETE s FROM stock s JOIN sales x "
                                    "ON s.id = x.id"), 1142)
    u.close()
    root.close()


sys.exit(sqldfx.run(srv, (ranking_with_ties, sums_and_frames,
                          over_group_by_and_explain, errors, multi_table_dml,
                          multi_table_privileges)))

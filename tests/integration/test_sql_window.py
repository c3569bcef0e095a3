#!/usr/bin/env python3
# test_sql_window.py: window functions through a real sqld (--store=local)
# and pymysql: result values and their Python types (DECIMAL sums, DOUBLE
# ranks, NULLs), ranking over ties, frames at partition edges, named
# windows, windows over GROUP BY, EXPLAIN's Window operator, MySQL's error
# numbers, and multi-table UPDATE/DELETE refused with an error naming it.
# Prints cmocka-style lines for tests/run-suites.sh.
import sys
from decimal import Decimal

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
    eq("multi-table update", err(c, "UPDATE sales a JOIN sales b ON "
                                    "a.id = b.id SET a.units = 1"), 1235)
    eq("multi-table delete", err(c, "DELETE a FROM sales a JOIN sales b "
                                    "ON a.id = b.id"), 1235)
    eq("still serving", q(c, "SELECT COUNT(*) OVER () FROM sales LIMIT 1"),
       [(6,)])
    c.close()


sys.exit(sqldfx.run(srv, (ranking_with_ties, sums_and_frames,
                          over_group_by_and_explain, errors)))

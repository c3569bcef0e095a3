#!/usr/bin/env python3
# test_sql_setops.py: set operations, CTEs and views on a real sqld
# (--store=local, a temporary data dir) driven by pymysql: results and
# column metadata of UNION/INTERSECT/EXCEPT, WITH RECURSIVE with the
# session's cte_max_recursion_depth, views kept across a restart, the
# SELECT privilege checked on the view (not its tables), and a
# mariadb-dump round trip of a database with a view.
# Prints cmocka-style lines for tests/run-suites.sh.
import subprocess
import sys

import pymysql

import sqldfx
from sqldfx import eq, err, q

srv = sqldfx.Sqld("dsql-setops-", ["--store=local"])


def conn(**kw):
    args = dict(autocommit=True)
    args.update(kw)
    return srv.connect(**args)


def setup_db(c):
    q(c, "CREATE DATABASE IF NOT EXISTS so")
    q(c, "USE so")
    q(c, "CREATE TABLE IF NOT EXISTS a (id INT PRIMARY KEY, x INT, "
         "s VARCHAR(10))")
    q(c, "CREATE TABLE IF NOT EXISTS b (id INT PRIMARY KEY, y INT, "
         "d DECIMAL(6,2))")
    q(c, "DELETE FROM a")
    q(c, "DELETE FROM b")
    q(c, "INSERT INTO a VALUES (1, 1, 'p'), (2, 2, 'q'), (3, 2, 'Q'), "
         "(4, NULL, 'r')")
    q(c, "INSERT INTO b VALUES (1, 2, 1.50), (2, 4, NULL), (3, NULL, 3.25)")


def set_operations():
    c = conn()
    setup_db(c)
    eq("union", q(c, "SELECT x FROM a UNION SELECT y FROM b ORDER BY 1"),
       [(None,), (1,), (2,), (4,)])
    eq("union all", q(c, "SELECT x FROM a UNION ALL SELECT y FROM b "
                         "ORDER BY 1 DESC LIMIT 3"), [(4,), (2,), (2,)])
    eq("intersect", q(c, "SELECT x FROM a INTERSECT SELECT y FROM b "
                         "ORDER BY 1"), [(None,), (2,)])
    eq("except all", q(c, "SELECT x FROM a EXCEPT ALL SELECT y FROM b "
                          "ORDER BY 1"), [(1,), (2,)])
    eq("precedence", q(c, "SELECT 1 UNION SELECT 2 INTERSECT SELECT 3"),
       [(1,)])
    # Column names from the first block, a merged type (DECIMAL here).
    with c.cursor() as cur:
        cur.execute("SELECT x AS first FROM a WHERE id = 1 UNION "
                    "SELECT d FROM b WHERE id = 1")
        eq("names", [d[0] for d in cur.description], ["first"])
        eq("decimal", sorted(str(r[0]) for r in cur.fetchall()),
           ["1.00", "1.50"])
    eq("1222", err(c, "SELECT 1 UNION SELECT 1, 2"), 1222)
    eq("in", q(c, "SELECT id FROM a WHERE x IN (SELECT 1 UNION SELECT 2) "
                  "ORDER BY id"), [(1,), (2,), (3,)])
    eq("derived", q(c, "SELECT COUNT(*) FROM (SELECT s FROM a UNION "
                       "SELECT 'P') z"), [(3,)])
    explain = q(c, "EXPLAIN SELECT x FROM a INTERSECT SELECT y FROM b")
    eq("explain", explain[0][0], "Intersect_1")
    c.close()


def ctes():
    c = conn(database="so")
    eq("plain", q(c, "WITH t AS (SELECT id, x FROM a WHERE x IS NOT NULL) "
                     "SELECT l.id, r.id FROM t l JOIN t r ON l.x = r.x AND "
                     "l.id < r.id"), [(2, 3)])
    eq("recursive", q(c, "WITH RECURSIVE n (k) AS (SELECT 1 UNION ALL "
                         "SELECT k + 1 FROM n WHERE k < 100) "
                         "SELECT COUNT(*), SUM(k) FROM n"),
       [(100, 5050)])
    q(c, "SET SESSION cte_max_recursion_depth = 5")
    eq("3636", err(c, "WITH RECURSIVE n (k) AS (SELECT 1 UNION ALL "
                      "SELECT k + 1 FROM n WHERE k < 100) SELECT * FROM n"),
       3636)
    # Another session keeps the default.
    c2 = conn(database="so")
    eq("other session", q(c2, "SELECT @@cte_max_recursion_depth"), [(1000,)])
    c2.close()
    eq("3575", err(c, "WITH RECURSIVE n (k) AS (SELECT 1 UNION ALL "
                      "SELECT COUNT(*) FROM n) SELECT * FROM n"), 3575)
    c.close()


def views():
    c = conn(database="so")
    q(c, "CREATE VIEW v AS SELECT a.id, a.s, b.d FROM a JOIN b ON "
         "a.id = b.id")
    q(c, "CREATE VIEW vsum (grp, n) AS SELECT x, COUNT(*) FROM a GROUP BY x")
    eq("view", q(c, "SELECT * FROM v ORDER BY id"),
       [(1, "p", __import__("decimal").Decimal("1.50")), (2, "q", None),
        (3, "Q", __import__("decimal").Decimal("3.25"))])
    eq("filter", q(c, "SELECT n FROM vsum WHERE grp = 2"), [(2,)])
    eq("full tables", q(c, "SHOW FULL TABLES"),
       [("a", "BASE TABLE"), ("b", "BASE TABLE"), ("v", "VIEW"),
        ("vsum", "VIEW")])
    eq("is.views", q(c, "SELECT TABLE_NAME FROM information_schema.VIEWS "
                        "WHERE TABLE_SCHEMA = 'so' ORDER BY 1"),
       [("v",), ("vsum",)])
    eq("insert", err(c, "INSERT INTO v VALUES (9, 'z', 1)"), 1235)
    # Kept across a restart.
    c.close()
    srv.stop()
    srv.start()
    c = conn(database="so")
    eq("after restart", q(c, "SELECT grp, n FROM vsum ORDER BY grp"),
       [(None, 1), (1, 1), (2, 2)])
    # SELECT on the view is enough; the tables stay closed.
    q(c, "CREATE USER 'vw'@'%' IDENTIFIED BY 'pw'")
    q(c, "GRANT SELECT ON so.vsum TO 'vw'@'%'")
    u = conn(user="vw", password="pw")
    eq("granted view", q(u, "SELECT COUNT(*) FROM so.vsum"), [(3,)])
    eq("table denied", err(u, "SELECT COUNT(*) FROM so.a"), 1142)
    eq("other view denied", err(u, "SELECT COUNT(*) FROM so.v"), 1142)
    u.close()
    q(c, "DROP USER 'vw'@'%'")
    # A view over a dropped table fails when read.
    q(c, "CREATE TABLE tmp (z INT)")
    q(c, "CREATE VIEW vt AS SELECT z FROM tmp")
    q(c, "DROP TABLE tmp")
    eq("1356", err(c, "SELECT * FROM vt"), 1356)
    q(c, "DROP VIEW vt")
    c.close()


def dump_with_view():
    c = conn(database="so")
    before = q(c, "SELECT * FROM vsum ORDER BY grp")
    dump = subprocess.run(["mariadb-dump", "-h127.0.0.1", "-P%d" % srv.port,
                           "-uroot", "--skip-ssl", "--databases", "so"],
                          capture_output=True, text=True, timeout=60)
    eq("dump stderr", dump.stderr, "")
    q(c, "DROP DATABASE so")
    load = subprocess.run(["mariadb", "-h127.0.0.1", "-P%d" % srv.port,
                           "-uroot", "--skip-ssl"], input=dump.stdout,
                          capture_output=True, text=True, timeout=60)
    eq("load stderr", load.stderr, "")
    eq("view after load", q(c, "SELECT * FROM so.vsum ORDER BY grp"), before)
    c.close()


sys.exit(sqldfx.run(srv, (set_operations, ctes, views, dump_with_view)))

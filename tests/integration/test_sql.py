#!/usr/bin/env python3
# test_sql.py: sqld executing SQL on the embedded store (--store=local, a
# temporary data dir), driven by pymysql and the mariadb CLI: DDL, DML,
# queries over every access path, aggregates, transactions and conflicts
# between connections, errors with MySQL's numbers, system variables, and
# the data still there after sqld restarts. Prints cmocka-style lines for
# tests/run-suites.sh. SQLD_ARGS (split on spaces) adds sqld arguments
# after the defaults, e.g. "--store=cluster --pd=127.0.0.1:2379"
# (test_sql_cluster.sh runs the suite so on kvd and pdd).
import os
import subprocess
import sys
import threading
import time
from decimal import Decimal

import pymysql

import sqldfx
from sqldfx import eq, err, q

srv = sqldfx.Sqld("dsql-sql-", ["--store=local"] +
                  os.environ.get("SQLD_ARGS", "").split())
start, stop = srv.start, srv.stop


def conn(**kw):
    return srv.connect(**kw)



def connect_and_variables():
    # pymysql's default: autocommit off, sent as SET AUTOCOMMIT = 0.
    c = conn()
    eq("autocommit", q(c, "SELECT @@autocommit"), [(0,)])
    eq("comment", q(c, "SELECT @@version_comment LIMIT 1"),
       [("dsql: distributed SQL on libmvcc",)])
    eq("packet", q(c, "SELECT @@max_allowed_packet"), [(67108864,)])
    eq("isolation", q(c, "SELECT @@transaction_isolation"),
       [("REPEATABLE-READ",)])
    q(c, "SET NAMES utf8mb4")
    q(c, "SET SESSION sql_mode = 'STRICT_TRANS_TABLES'")
    eq("sql_mode", q(c, "SHOW VARIABLES LIKE 'sql_mode'"),
       [("sql_mode", "STRICT_TRANS_TABLES")])
    eq("unknown var", err(c, "SELECT @@nosuch"), 1193)
    c.close()


def ddl_and_show():
    c = conn(autocommit=True)
    q(c, "CREATE DATABASE shop")
    eq("exists", err(c, "CREATE DATABASE shop"), 1007)
    q(c, "USE shop")
    q(c, """CREATE TABLE items (
              id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
              sku VARCHAR(20) NOT NULL,
              price DECIMAL(10,2) NOT NULL DEFAULT 0,
              qty INT,
              UNIQUE KEY usku (sku),
              KEY kqty (qty))""")
    eq("tables", q(c, "SHOW TABLES"), [("items",)])
    eq("describe", q(c, "DESCRIBE items"),
       [("id", "int", "NO", "PRI", None, "auto_increment"),
        ("sku", "varchar(20)", "NO", "UNI", None, ""),
        ("price", "decimal(10,2)", "NO", "", "0.00", ""),
        ("qty", "int", "YES", "MUL", None, "")])
    eq("index", [r[2] for r in q(c, "SHOW INDEX FROM items")],
       ["PRIMARY", "usku", "kqty"])
    eq("databases", ("shop",) in q(c, "SHOW DATABASES"), True)
    eq("no table", err(c, "SELECT * FROM nosuch"), 1146)
    c.close()


def dml_and_queries():
    c = conn(autocommit=True, database="shop")
    with c.cursor() as cur:
        cur.executemany("INSERT INTO items (sku, price, qty) VALUES "
                        "(%s, %s, %s)",
                        [("a1", "1.50", 10), ("b2", "2.25", 5),
                         ("c3", "10.00", 5), ("d4", "0.99", None)])
        eq("lastid", cur.lastrowid, 1)
    eq("all", q(c, "SELECT id, sku, price, qty FROM items ORDER BY id"),
       [(1, "a1", Decimal("1.50"), 10),
        (2, "b2", Decimal("2.25"), 5),
        (3, "c3", Decimal("10.00"), 5),
        (4, "d4", Decimal("0.99"), None)])
    eq("point", q(c, "SELECT sku FROM items WHERE id = 3"), [("c3",)])
    eq("batch", q(c, "SELECT sku FROM items WHERE id IN (4, 1)"),
       [("a1",), ("d4",)])
    eq("unique", q(c, "SELECT id FROM items WHERE sku = 'B2'"), [(2,)])
    eq("index", q(c, "SELECT id FROM items WHERE qty = 5 ORDER BY id"),
       [(2,), (3,)])
    eq("range", q(c, "SELECT id FROM items WHERE id > 1 AND id <= 3"),
       [(2,), (3,)])
    eq("distinct", q(c, "SELECT DISTINCT qty FROM items ORDER BY qty"),
       [(None,), (5,), (10,)])
    eq("group", q(c, "SELECT qty, COUNT(*), SUM(price) FROM items "
                     "GROUP BY qty HAVING COUNT(*) > 1"),
       [(5, 2, Decimal("12.25"))])
    eq("count distinct", q(c, "SELECT COUNT(DISTINCT qty) FROM items"),
       [(2,)])
    eq("topn", q(c, "SELECT sku FROM items ORDER BY price DESC LIMIT 2"),
       [("c3",), ("b2",)])
    eq("dup", err(c, "INSERT INTO items (sku) VALUES ('a1')"), 1062)
    with c.cursor() as cur:
        cur.execute("INSERT IGNORE INTO items (sku) VALUES ('a1')")
        eq("ignored", cur.rowcount, 0)
        cur.execute("SHOW WARNINGS")
        eq("warning", cur.fetchall()[0][1], 1062)
        cur.execute("INSERT INTO items (sku, qty) VALUES ('a1', 1) "
                    "ON DUPLICATE KEY UPDATE qty = qty + VALUES(qty)")
        eq("odku", cur.rowcount, 2)
        cur.execute("REPLACE INTO items (id, sku, qty) VALUES (4, 'd4', 7)")
        eq("replace", cur.rowcount, 2)
        cur.execute("UPDATE items SET price = price * 2 WHERE qty = 5")
        eq("update", cur.rowcount, 2)
        cur.execute("DELETE FROM items WHERE price > 5 ORDER BY id LIMIT 1")
        eq("delete", cur.rowcount, 1)
    eq("after", q(c, "SELECT id, qty FROM items ORDER BY id"),
       [(1, 11), (2, 5), (4, 7)])
    eq("null", err(c, "INSERT INTO items (sku) VALUES (NULL)"), 1048)
    eq("column", err(c, "SELECT nosuch FROM items"), 1054)
    eq("syntax", err(c, "SELEC 1"), 1064)
    eq("explain", q(c, "EXPLAIN SELECT * FROM items WHERE id = 1")[-1][0],
       "└─Point_Get_2")
    c.close()


def dml_subqueries():
    # Subqueries in UPDATE, DELETE and INSERT (libsql DESIGN.md
    # "Subqueries"), the target table read as it was before the
    # statement; each answer MariaDB 10.11's (libsql test_dml_subq.c).
    c = conn(autocommit=True, database="shop")
    q(c, "CREATE TABLE st (id INT PRIMARY KEY, c INT, k INT)")
    q(c, "CREATE TABLE su (id INT PRIMARY KEY, x INT, k INT)")
    q(c, "INSERT INTO st VALUES (1,10,1),(2,20,2),(3,30,3),(4,NULL,4)")
    q(c, "INSERT INTO su VALUES (1,100,1),(2,200,1),(3,NULL,3)")
    q(c, "UPDATE st SET c = (SELECT MAX(x) FROM su WHERE su.id = st.id)")
    eq("set correlated", q(c, "SELECT c FROM st ORDER BY id"),
       [(100,), (200,), (None,), (None,)])
    q(c, "UPDATE st SET c = id")
    q(c, "UPDATE st SET c = (SELECT SUM(c) FROM st s2 WHERE s2.id <= st.id)")
    eq("set reads its own table as it was",
       q(c, "SELECT c FROM st ORDER BY id"), [(1,), (3,), (6,), (10,)])
    with c.cursor() as cur:
        cur.execute("DELETE FROM st WHERE c > (SELECT AVG(c) FROM st)")
        eq("delete scalar", cur.rowcount, 2)
        cur.execute("DELETE FROM st WHERE k NOT IN (SELECT x FROM su)")
        eq("not in a NULL", cur.rowcount, 0)
        cur.execute("DELETE FROM st WHERE EXISTS (SELECT 1 FROM su WHERE "
                    "su.k = st.k AND su.x > 150)")
        eq("delete exists", cur.rowcount, 1)
        cur.execute("INSERT INTO st VALUES ((SELECT MAX(id) FROM st) + 1, "
                    "0, 0), ((SELECT MAX(id) FROM st) + 2, 0, 0)")
        eq("insert", cur.rowcount, 2)
    eq("after", q(c, "SELECT id FROM st ORDER BY id"), [(2,), (3,), (4,)])
    eq("1242", err(c, "UPDATE st SET c = (SELECT id FROM su)"), 1242)
    eq("1241", err(c, "DELETE FROM st WHERE c IN (SELECT id, x FROM su)"),
       1241)
    eq("names first", err(c, "SELECT (SELECT 9223372036854775807 + id FROM "
                             "st), nosuch FROM st"), 1054)
    q(c, "DROP TABLE st, su")
    c.close()


def transactions():
    a = conn(database="shop")  # autocommit off
    b = conn(database="shop", autocommit=True)
    q(a, "UPDATE items SET qty = 100 WHERE id = 1")
    eq("not yet visible", q(b, "SELECT qty FROM items WHERE id = 1"),
       [(11,)])
    a.rollback()
    eq("rolled back", q(a, "SELECT qty FROM items WHERE id = 1"), [(11,)])
    a.commit()
    # Two writers of one row: the second commit fails, nothing of it stays.
    b.autocommit(False)
    q(a, "UPDATE items SET qty = qty + 1 WHERE id = 2")
    q(b, "UPDATE items SET qty = qty + 10 WHERE id = 2")
    a.commit()
    try:
        b.commit()
        raise AssertionError("second commit succeeded")
    except pymysql.MySQLError as e:
        eq("conflict", e.args[0], 1213)
    eq("first wins", q(a, "SELECT qty FROM items WHERE id = 2"), [(6,)])
    a.commit()
    # FOR UPDATE: the second locker waits for the lock, up to
    # innodb_lock_wait_timeout (1 s here), then 1205.
    q(a, "SELECT qty FROM items WHERE id = 4 FOR UPDATE")
    q(b, "SET innodb_lock_wait_timeout = 1")
    eq("locked", err(b, "SELECT qty FROM items WHERE id = 4 FOR UPDATE"),
       1205)
    b.rollback()
    # A waiter is released when the holder commits: it gets the row as
    # the holder committed it.
    q(b, "SET innodb_lock_wait_timeout = 50")
    got = []
    waiter = threading.Thread(target=lambda: got.append(
        q(b, "SELECT qty FROM items WHERE id = 4 FOR UPDATE")))
    waiter.start()
    watcher = conn(database="shop", autocommit=True)
    deadline = time.time() + 60
    while True:
        states = [r[6] for r in q(watcher, "SHOW PROCESSLIST")]
        if "Waiting for row lock" in states:
            break
        if time.time() > deadline:
            raise AssertionError("no session waits: %r" % states)
        time.sleep(0.01)
    q(a, "UPDATE items SET qty = 44 WHERE id = 4")
    a.commit()
    waiter.join(60)
    eq("released", got, [[(44,)]])
    b.rollback()
    watcher.close()
    a.close()
    b.close()


def mariadb_cli():
    script = ("USE shop;\nSELECT id, sku FROM items WHERE id <= 2 "
              "ORDER BY id;\nSELECT COUNT(*) AS n FROM items;\n")
    out = subprocess.run(["mariadb", "-h127.0.0.1", "-P%d" % srv.port, "-uroot",
                          "--skip-ssl", "--batch", "--connect-timeout=30"],
                         input=script, capture_output=True, text=True,
                         timeout=60)
    eq("stderr", out.stderr, "")
    eq("stdout", out.stdout, "id\tsku\n1\ta1\n2\tb2\nn\n3\n")


def restart_keeps_data():
    eq("exit", stop(), 0)
    start()
    c = conn(autocommit=True, database="shop")
    eq("rows", q(c, "SELECT id FROM items ORDER BY id"), [(1,), (2,), (4,)])
    q(c, "INSERT INTO items (sku) VALUES ('e5')")
    eq("new id above the old", q(c, "SELECT id FROM items WHERE sku = 'e5'")
       [0][0] > 4, True)
    q(c, "DROP DATABASE shop")
    eq("gone", ("shop",) in q(c, "SHOW DATABASES"), False)
    c.close()


sys.exit(sqldfx.run(srv, (connect_and_variables, ddl_and_show,
                          dml_and_queries, dml_subqueries, transactions,
                          mariadb_cli,
                          restart_keeps_data)))

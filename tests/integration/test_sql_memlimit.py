#!/usr/bin/env python3
# test_sql_memlimit.py: per-query memory limits through a real sqld
# (--store=local, --mem-quota-query from the config) and pymysql: the
# configured default, SET [GLOBAL] tidb_mem_quota_query, error 8175 for
# a sort, a hash aggregation and a hash join past the limit, the same
# connection answering afterwards, a transaction keeping its earlier
# writes after a failed statement, and EXPLAIN ANALYZE's peak memory.
# Prints cmocka-style lines for tests/run-suites.sh.
import re
import sys

import pymysql

import sqldfx
from sqldfx import eq, err, q

# 2 MiB by default: the sorts below need more, streaming far less.
srv = sqldfx.Sqld("dsql-memlimit-", ["--mem-quota-query=2MiB"])
ROWS = 20000


def conn(**kw):
    return srv.connect(database="m", autocommit=True, **kw)


def setup():
    c = srv.connect(autocommit=True)
    q(c, "CREATE DATABASE m")
    q(c, "USE m")
    q(c, "CREATE TABLE t (id INT PRIMARY KEY, g INT, s VARCHAR(100))")
    for base in range(0, ROWS, 1000):
        vals = ", ".join("(%d, %d, '%s')" % (i, i % 7, "p%05d-" % i + "x" * 60)
                         for i in range(base, base + 1000))
        q(c, "INSERT INTO t VALUES " + vals)
    c.close()


def default_from_config():
    setup()
    c = conn()
    eq("session default", q(c, "SELECT @@tidb_mem_quota_query"),
       [(2 * 1024 * 1024,)])
    eq("global default", q(c, "SELECT @@global.tidb_mem_quota_query"),
       [(2 * 1024 * 1024,)])
    c.close()


def operators_fail_with_8175():
    c = conn()
    for sql in ("SELECT id FROM t ORDER BY s DESC",
                "SELECT s, COUNT(*) FROM t GROUP BY s",
                "SELECT COUNT(*) FROM t a JOIN t b ON a.s = b.s"):
        try:
            q(c, sql)
            raise AssertionError("no error: " + sql)
        except pymysql.MySQLError as e:
            eq("code of " + sql, e.args[0], 8175)
            eq("message of " + sql, e.args[1],
               "Your query has been cancelled due to exceeding the allowed "
               "memory limit for a single SQL query. Please try narrowing "
               "your query scope or increase the tidb_mem_quota_query limit "
               "and try again.[conn=%d]" % c.thread_id())
        # The connection answers the next statement.
        eq("after " + sql, q(c, "SELECT COUNT(*), SUM(g) FROM t"),
           [(ROWS, sum(i % 7 for i in range(ROWS)))])
    q(c, "SET tidb_mem_quota_query = 0")
    rows = q(c, "SELECT id FROM t ORDER BY s DESC LIMIT 2")
    eq("unlimited sort", rows, [(ROWS - 1,), (ROWS - 2,)])
    eq("unlimited join", q(c, "SELECT COUNT(*) FROM t a JOIN t b "
                              "ON a.s = b.s"), [(ROWS,)])
    c.close()


def set_global_reaches_new_sessions():
    c = conn()
    q(c, "SET GLOBAL tidb_mem_quota_query = 1073741824")
    d = conn()
    eq("new session", q(d, "SELECT @@tidb_mem_quota_query"),
       [(1073741824,)])
    eq("sort fits", q(d, "SELECT id FROM t ORDER BY s LIMIT 1"), [(0,)])
    eq("old session keeps its value", q(c, "SELECT @@tidb_mem_quota_query"),
       [(2 * 1024 * 1024,)])
    q(c, "SET GLOBAL tidb_mem_quota_query = 2097152")
    c.close()
    d.close()


def transaction_survives():
    c = srv.connect(database="m", autocommit=False)
    q(c, "CREATE TABLE k (id INT PRIMARY KEY, v INT)")
    q(c, "BEGIN")
    q(c, "INSERT INTO k VALUES (1, 1)")
    eq("failing INSERT ... SELECT",
       err(c, "INSERT INTO k SELECT id + 10, g FROM t ORDER BY s"), 8175)
    eq("earlier write kept", q(c, "SELECT * FROM k"), [(1, 1)])
    q(c, "INSERT INTO k VALUES (2, 2)")
    c.commit()
    d = conn()
    eq("committed", q(d, "SELECT * FROM k ORDER BY id"), [(1, 1), (2, 2)])
    c.close()
    d.close()


def explain_analyze_memory():
    c = conn()
    q(c, "SET tidb_mem_quota_query = 0")
    rows = q(c, "EXPLAIN ANALYZE SELECT id FROM t ORDER BY s")
    sort = [r for r in rows if r[0].startswith("Sort_")]
    eq("one sort", len(sort), 1)
    m = re.fullmatch(r"(\d+) Bytes", sort[0][-1])
    if not m or int(m.group(1)) <= ROWS * 66:
        raise AssertionError("sort memory: %r" % (sort[0],))
    c.close()


sys.exit(sqldfx.run(srv, [default_from_config, operators_fail_with_8175,
                          set_global_reaches_new_sessions,
                          transaction_survives, explain_analyze_memory]))

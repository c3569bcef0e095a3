#!/usr/bin/env python3
"""test_sql_fastpath.py: the hot paths of libsql/DESIGN.md ("Plan cache",
"Hot paths (session 5)") against a real sqld (--workers=2): SQL PREPARE's
plan cache seen through SHOW STATUS and @@last_plan_from_cache; point
reads that sqld runs on its loop thread answering exactly while other
clients run DDL and hold and wait for row locks (a DDL queued for the
statement lock waits for lock waiters, whose holders' COMMIT the loop
thread must still deliver); KILL QUERY ending a row-lock wait whose
timeout is a day."""
import sys
import threading
import time

import pymysql

import sqldfx
from sqldfx import eq, err, q

srv = sqldfx.Sqld("dsql-fastpath-", ["--store=local", "--workers=2"])


def conn(database=None, autocommit=True):
    return srv.connect(database=database, autocommit=autocommit)


def waiting_id(c):
    """The id of the session PROCESSLIST shows waiting for a row lock."""
    for _ in range(6000):
        ids = [r[0] for r in q(c, "SHOW PROCESSLIST")
               if r[6] == "Waiting for row lock"]
        if ids:
            return ids[0]
        time.sleep(0.01)
    raise AssertionError("nobody waits: %r" % q(c, "SHOW PROCESSLIST"))


def status(c):
    return dict(q(c, "SHOW STATUS LIKE 'Plan_cache%'"))


def plan_cache_sql_prepare():
    c = conn()
    q(c, "CREATE DATABASE f")
    q(c, "CREATE TABLE f.t (id INT PRIMARY KEY, v VARCHAR(10))")
    q(c, "INSERT INTO f.t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    q(c, "USE f")
    q(c, "PREPARE s FROM 'SELECT v FROM t WHERE id = ?'")
    got = []
    for i in (1, 2, 3, 4):
        q(c, "SET @i = %d" % i)
        got.append(q(c, "EXECUTE s USING @i"))
    eq("results", got, [[("a",)], [("b",)], [("c",)], []])
    eq("last from cache", q(c, "SELECT @@last_plan_from_cache"), [(1,)])
    eq("counters", status(c),
       {"Plan_cache_hits": "3", "Plan_cache_misses": "1"})
    q(c, "ALTER TABLE t ADD COLUMN w INT DEFAULT 5")
    q(c, "PREPARE a FROM 'SELECT * FROM t WHERE id = ?'")
    eq("after DDL", q(c, "EXECUTE a USING @i"), [])
    q(c, "SET @i = 2")
    eq("new column", q(c, "EXECUTE a USING @i"), [(2, "b", 5)])
    eq("counters", status(c),
       {"Plan_cache_hits": "4", "Plan_cache_misses": "2"})
    c.close()


def point_reads_under_ddl_and_locks():
    setup = conn()
    q(setup, "CREATE TABLE f.p (id INT PRIMARY KEY, v INT)")
    q(setup, "INSERT INTO f.p VALUES " +
      ", ".join("(%d, %d)" % (i, i * 10) for i in range(1, 101)))
    q(setup, "CREATE TABLE f.scratch (id INT PRIMARY KEY)")
    setup.close()
    stop = threading.Event()
    errors = []
    counts = {"reads": 0, "ddl": 0, "locks": 0}

    def reader(n):
        try:
            c = conn(database="f")
            i = 0
            while not stop.is_set() or i < 200:
                k = (n * 37 + i) % 100 + 1
                got = q(c, "SELECT v FROM p WHERE id = %d" % k)
                if got != [(k * 10,)]:
                    errors.append(("read", k, got))
                i += 1
            counts["reads"] += i
            c.close()
        except Exception as e:  # recorded, asserted below
            errors.append(repr(e))

    def ddl():
        try:
            c = conn(database="f")
            for i in range(6):
                q(c, "ALTER TABLE scratch ADD COLUMN c%d INT" % i)
                q(c, "ALTER TABLE p ADD INDEX iv%d (v)" % i)
                q(c, "ALTER TABLE p DROP INDEX iv%d" % i)
                counts["ddl"] += 3
            c.close()
        except Exception as e:
            errors.append(repr(e))

    def locker():
        # A holder and a waiter on one row, over and over: the waiter's
        # wait keeps a DDL queued behind it, and only the holder's
        # COMMIT (a command the loop thread delivers) ends it.
        try:
            h = conn(database="f", autocommit=False)
            w = conn(database="f", autocommit=False)
            q(w, "SET innodb_lock_wait_timeout = 100")
            for i in range(10):
                q(h, "SELECT v FROM p WHERE id = 50 FOR UPDATE")
                res = []
                t = threading.Thread(target=lambda: res.append(
                    q(w, "SELECT v FROM p WHERE id = 50 FOR UPDATE")))
                t.start()
                time.sleep(0.01)  # let it queue (either order is fine)
                h.commit()
                t.join(120)
                w.commit()
                if res != [[(500,)]]:
                    errors.append(("locker", res))
                counts["locks"] += 1
            h.close()
            w.close()
        except Exception as e:
            errors.append(repr(e))

    ts = [threading.Thread(target=reader, args=(n,)) for n in range(3)]
    ts += [threading.Thread(target=ddl), threading.Thread(target=locker)]
    for t in ts:
        t.start()
    ts[3].join(300)
    ts[4].join(300)
    stop.set()
    for t in ts[:3]:
        t.join(300)
    eq("errors", errors, [])
    eq("ddl statements", counts["ddl"], 18)
    eq("lock rounds", counts["locks"], 10)
    c = conn(database="f")
    eq("columns", len(q(c, "SHOW COLUMNS FROM scratch")), 7)
    c.close()


def kill_ends_lock_wait():
    holder = conn(database="f", autocommit=False)
    watcher = conn()
    q(holder, "SELECT v FROM p WHERE id = 7 FOR UPDATE")
    w = conn(database="f", autocommit=False)
    q(w, "SET innodb_lock_wait_timeout = 86400")
    done = []
    t = threading.Thread(target=lambda: done.append(
        err(w, "SELECT v FROM p WHERE id = 7 FOR UPDATE")))
    t.start()
    waiter = waiting_id(watcher)
    q(watcher, "KILL QUERY %d" % waiter)
    t.join(120)  # a day's timeout: only the KILL ends it
    eq("interrupted", done, [1317])
    eq("the waiter goes on", q(w, "SELECT v FROM p WHERE id = 8"), [(80,)])
    holder.rollback()
    w.rollback()
    for c in (holder, watcher, w):
        c.close()


sys.exit(sqldfx.run(srv, (plan_cache_sql_prepare,
                          point_reads_under_ddl_and_locks,
                          kill_ends_lock_wait)))

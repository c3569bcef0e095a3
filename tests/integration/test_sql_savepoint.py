"""test_sql_savepoint.py: SAVEPOINT, ROLLBACK [WORK] TO [SAVEPOINT] and
RELEASE SAVEPOINT from pymysql against a real sqld (libsql/DESIGN.md
"Savepoints"): undone writes, 1305 for unknown names, and a pessimistic
transaction whose row locks outlive a rollback to a savepoint (another
client's locking read waits until the commit). Also SQL-level PREPARE /
EXECUTE / DEALLOCATE PREPARE (libsql/DESIGN.md "SQL PREPARE") next to the
binary protocol's prepared statements."""
import os
import subprocess
import sys
import threading
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sqldfx import Sqld, eq, err, q, run  # noqa: E402

srv = Sqld("sqlsp.", [])


def setup():
    c = srv.connect(autocommit=True)
    q(c, "CREATE DATABASE sp")
    q(c, "CREATE TABLE sp.t (id INT PRIMARY KEY, v INT)")
    q(c, "INSERT INTO sp.t VALUES (1, 10), (2, 20)")
    c.close()


def rollback_to_and_release():
    c = srv.connect(database="sp")
    c.begin()
    q(c, "UPDATE t SET v = v + 1")
    q(c, "SAVEPOINT one")
    q(c, "INSERT INTO t VALUES (3, 30)")
    q(c, "SAVEPOINT two")
    q(c, "DELETE FROM t WHERE id = 1")
    eq("all", q(c, "SELECT * FROM t"), [(2, 21), (3, 30)])
    q(c, "ROLLBACK WORK TO SAVEPOINT two")
    eq("to two", q(c, "SELECT * FROM t"), [(1, 11), (2, 21), (3, 30)])
    q(c, "ROLLBACK TO one")
    eq("to one", q(c, "SELECT * FROM t"), [(1, 11), (2, 21)])
    eq("two gone", err(c, "ROLLBACK TO two"), 1305)
    q(c, "RELEASE SAVEPOINT one")
    eq("one released", err(c, "ROLLBACK TO one"), 1305)
    c.commit()
    eq("committed", q(c, "SELECT * FROM t"), [(1, 11), (2, 21)])
    try:
        q(c, "RELEASE SAVEPOINT nope")
        raise AssertionError("no error")
    except pymysql.MySQLError as e:
        eq("1305", e.args, (1305, "SAVEPOINT nope does not exist"))
    c.close()


def pessimistic_locks_stay():
    a = srv.connect(database="sp")
    b = srv.connect(database="sp")
    q(a, "SET txn_mode = 'PESSIMISTIC'")
    q(b, "SET txn_mode = 'PESSIMISTIC'")
    a.begin()
    q(a, "SAVEPOINT s")
    eq("locked read", q(a, "SELECT v FROM t WHERE id = 2 FOR UPDATE"),
       [(21,)])
    q(a, "UPDATE t SET v = 0 WHERE id = 2")
    q(a, "ROLLBACK TO s")
    eq("undone", q(a, "SELECT v FROM t WHERE id = 2"), [(21,)])
    got = []

    def waiter():
        try:
            b.begin()
            got.append(q(b, "SELECT v FROM t WHERE id = 2 FOR UPDATE"))
            q(b, "UPDATE t SET v = v + 100 WHERE id = 2")
            b.commit()
        except Exception as e:  # reported by the check below
            got.append(repr(e))

    th = threading.Thread(target=waiter)
    th.start()
    # b must be waiting for a's lock: PROCESSLIST shows it, and it has
    # not returned.
    deadline = time.time() + 60
    waiting = False
    while time.time() < deadline and not waiting:
        for row in q(a, "SHOW PROCESSLIST"):
            if row[7] and "FOR UPDATE" in row[7] and row[0] != a.thread_id():
                waiting = True
        time.sleep(0.05)
    eq("b waits", (waiting, got), (True, []))
    # a writes the row it holds while b waits: b, woken by a's commit
    # (after its lock-resolution budget), takes the lock and reads a's
    # value (it once got 1213 here).
    q(a, "UPDATE t SET v = v + 1 WHERE id = 2")
    a.commit()
    th.join(60)
    eq("b after commit", got, [[(22,)]])
    eq("final", q(a, "SELECT v FROM t WHERE id = 2"), [(122,)])
    a.close()
    b.close()


def sql_prepare():
    c = srv.connect(database="sp", autocommit=True)
    q(c, "PREPARE ins FROM 'INSERT INTO t VALUES (?, ?)'")
    for i in (10, 11):
        q(c, "SET @id = %s, @v = %s", (i, i * 2))
        q(c, "EXECUTE ins USING @id, @v")
    q(c, "SET @sql = 'SELECT v FROM t WHERE id >= ? ORDER BY id'")
    q(c, "PREPARE sel FROM @sql")
    q(c, "SET @from = 10")
    eq("execute", q(c, "EXECUTE sel USING @from"), [(20,), (22,)])
    eq("1210", err(c, "EXECUTE sel"), 1210)
    eq("1210 extra", err(c, "EXECUTE sel USING @from, @from"), 1210)
    q(c, "DEALLOCATE PREPARE sel")
    eq("1243", err(c, "EXECUTE sel USING @from"), 1243)
    eq("1243 drop", err(c, "DROP PREPARE sel"), 1243)
    q(c, "DROP PREPARE ins")
    # The binary protocol still works beside it (pymysql has no server
    # side statements: the mariadb CLI's PREPARE is the SQL form too).
    out = subprocess.run(
        ["mariadb", "-h", "127.0.0.1", "-P", str(srv.port), "-u", "root",
         "-N", "-B", "sp"],
        input="PREPARE s FROM 'SELECT COUNT(*) FROM t WHERE v > ?';\n"
              "SET @x = 20;\nEXECUTE s USING @x;\n",
        capture_output=True, text=True, timeout=60)
    eq("cli", (out.stdout, out.stderr), ("2\n", ""))
    c.close()


sys.exit(run(srv, [setup, rollback_to_and_release, pessimistic_locks_stay,
                   sql_prepare]))

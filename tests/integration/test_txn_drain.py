"""test_txn_drain.py: sqld's SIGTERM drains (issue 9; docs/operators-
guide.md "Rolling restart"): a statement running when the signal comes
finishes and is answered before its connection closes, so a client never
hears "lost connection" about a COMMIT that then commits anyway. Here the
running statement is a FOR UPDATE waiting for a row lock that an idle
transaction holds: the drain closes the idle connection (rolling its
transaction back), the waiter gets its row, and only then does its
connection close; sqld exits 0."""
import os
import sys
import threading
import time

import pymysql

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sqldfx import Sqld, eq, q, run  # noqa: E402

srv = Sqld("txndrain.", [])


def waiting_statement_answered():
    c = srv.connect(autocommit=True)
    q(c, "CREATE DATABASE dr")
    q(c, "CREATE TABLE dr.t (id INT PRIMARY KEY, v INT)")
    q(c, "INSERT INTO dr.t VALUES (1, 10)")
    a = srv.connect(database="dr")
    b = srv.connect(database="dr")
    for x in (a, b):
        q(x, "SET txn_mode = 'PESSIMISTIC'")
    q(b, "SET innodb_lock_wait_timeout = 120")
    a.begin()
    eq("a locks", q(a, "SELECT v FROM t WHERE id = 1 FOR UPDATE"), [(10,)])
    got = {}

    def waiter():
        try:
            b.begin()
            got["rows"] = q(b, "SELECT v FROM t WHERE id = 1 FOR UPDATE")
        except pymysql.MySQLError as e:
            got["err"] = e.args[0]

    th = threading.Thread(target=waiter)
    th.start()
    # until b's statement is in the processlist (it is waiting: a holds
    # the row until the drain closes a)
    deadline = time.time() + 60
    while time.time() < deadline:
        rows = q(c, "SHOW PROCESSLIST")
        if any(r[7] and "FOR UPDATE" in str(r[7]) and r[0] != a.thread_id()
               for r in rows):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("b never waited: %r" % (rows,))
    rc = srv.stop()  # SIGTERM: b's statement is answered first
    th.join(60)
    eq("waiter answered, not cut off", got, {"rows": [(10,)]})
    eq("exit status", rc, 0)


sys.exit(run(srv, [waiting_statement_answered]))

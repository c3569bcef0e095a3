#!/usr/bin/env python3
"""test_sql_workers.py: sqld's statement workers against a real sqld
(--workers=2, so clients outnumber workers): concurrent clients' commits
all land; pipelined queries answer in order; a client that disconnects while its statement waits for a row
lock is cleaned up once the statement ends, and sqld keeps serving;
waiters that outnumber the workers do not stall the holder's COMMIT; a
SIGTERM with a statement waiting stops sqld cleanly."""
import signal
import socket
import sys
import threading
import time

import pymysql

import sqldfx
from sqldfx import eq, err, q

srv = sqldfx.Sqld("dsql-workers-", ["--store=local", "--workers=2"])


def conn(**kw):
    args = dict(autocommit=True)
    args.update(kw)
    return srv.connect(**args)


def wait_state(c, state):
    deadline = time.time() + 60
    while True:
        states = [r[6] for r in q(c, "SHOW PROCESSLIST")]
        if state in states:
            return
        if time.time() > deadline:
            raise AssertionError("no session in %r: %r" % (state, states))
        time.sleep(0.01)


def concurrent_commits():
    c = conn()
    q(c, "CREATE DATABASE w")
    q(c, "CREATE TABLE w.t (id INT PRIMARY KEY, v INT)")
    errors = []

    def client(n):
        try:
            d = conn(database="w")
            for i in range(50):
                q(d, "INSERT INTO t VALUES (%s, %s)", (n * 1000 + i, i))
            d.close()
        except Exception as e:  # recorded, asserted below
            errors.append(repr(e))

    ts = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    eq("errors", errors, [])
    eq("rows", q(c, "SELECT COUNT(*), SUM(v) FROM w.t"),
       [(300, 6 * 1225)])
    c.close()


def pipelined_commands():
    # Three queries in a row before reading any answer: each waits for
    # the one before, and the answers come back in order.
    c = conn(database="w")
    for sql in ("INSERT INTO t VALUES (9001, 1)",
                "UPDATE t SET v = v + 1 WHERE id = 9001",
                "SELECT v FROM t WHERE id = 9001"):
        c._execute_command(pymysql.constants.COMMAND.COM_QUERY, sql)
    got = []
    for _ in range(3):
        c._next_seq_id = 1  # each answer starts at 1 (pymysql tracks one)
        r = pymysql.connections.MySQLResult(c)
        r.read()
        got.append((r.affected_rows, r.rows))
    eq("answers", got, [(1, None), (1, None), (1, ((2,),))])
    eq("then as usual", q(c, "DELETE FROM t WHERE id = 9001"), [])
    c.close()


def client_gone_while_waiting():
    holder = conn(database="w", autocommit=False)
    watcher = conn()
    q(holder, "SELECT v FROM t WHERE id = 1 FOR UPDATE")
    # A raw client: the handshake and login by pymysql, then its socket
    # is closed under it while the statement waits.
    w = conn(database="w", autocommit=False)
    done = []
    t = threading.Thread(target=lambda: done.append(
        err(w, "SELECT v FROM t WHERE id = 1 FOR UPDATE")))
    t.start()
    wait_state(watcher, "Waiting for row lock")
    w._sock.shutdown(socket.SHUT_RDWR)
    t.join(60)
    eq("waiter saw its socket go", len(done), 1)
    # The statement still waits on a worker; the holder's commit ends it.
    q(holder, "UPDATE t SET v = 7 WHERE id = 1")
    holder.commit()
    deadline = time.time() + 60
    while len(q(watcher, "SHOW PROCESSLIST")) != 2:
        if time.time() > deadline:
            raise AssertionError(q(watcher, "SHOW PROCESSLIST"))
        time.sleep(0.01)
    eq("still serving", q(watcher, "SELECT v FROM w.t WHERE id = 1"), [(7,)])
    holder.close()
    watcher.close()


def waiters_outnumber_workers():
    # Four statements wait for one row lock on a server with two workers:
    # the holder's COMMIT still finds a worker (the pool grows), so every
    # waiter gets the row as committed, none times out with 1205.
    holder = conn(database="w", autocommit=False)
    watcher = conn()
    q(holder, "SELECT v FROM t WHERE id = 3 FOR UPDATE")
    got = {}

    def wait(i):
        c = conn(database="w", autocommit=False)
        q(c, "SET innodb_lock_wait_timeout = 60")
        try:
            got[i] = q(c, "SELECT v FROM t WHERE id = 3 FOR UPDATE")
        except pymysql.MySQLError as e:
            got[i] = e.args[0]
        c.rollback()
        c.close()

    threads = [threading.Thread(target=wait, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    deadline = time.time() + 60
    while sum(r[6] == "Waiting for row lock"
              for r in q(watcher, "SHOW PROCESSLIST")) < 4:
        if time.time() > deadline:
            raise AssertionError(q(watcher, "SHOW PROCESSLIST"))
        time.sleep(0.01)
    q(holder, "UPDATE t SET v = 33 WHERE id = 3")
    holder.commit()
    for t in threads:
        t.join(120)
    eq("every waiter got the committed row", got,
       {i: [(33,)] for i in range(4)})
    holder.close()
    watcher.close()


def sigterm_with_a_waiter():
    holder = conn(database="w", autocommit=False)
    watcher = conn()
    q(holder, "SELECT v FROM t WHERE id = 2 FOR UPDATE")
    w = conn(database="w", autocommit=False)
    # Longer than the wait below: only the holder's rollback ends it.
    q(w, "SET innodb_lock_wait_timeout = 100000")
    t = threading.Thread(target=lambda: err(
        w, "SELECT v FROM t WHERE id = 2 FOR UPDATE"))
    t.start()
    wait_state(watcher, "Waiting for row lock")
    # Stopping waits for the running statement: the holder's connection
    # closes with the listener, rolling back, which releases the waiter.
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(timeout=120)
    eq("exit", srv.proc.returncode, 0)
    t.join(60)


sys.exit(sqldfx.run(srv, (concurrent_commits, pipelined_commands,
                          client_gone_while_waiting, waiters_outnumber_workers,
                          sigterm_with_a_waiter)))

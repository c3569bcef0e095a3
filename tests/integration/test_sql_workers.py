#!/usr/bin/env python3
"""test_sql_workers.py: sqld's statement workers against a real sqld
(--workers=2, so clients outnumber workers): concurrent clients' commits
all land; pipelined queries answer in order; a client that disconnects while its statement waits for a row
lock is cleaned up once the statement ends, and sqld keeps serving; a
SIGTERM with a statement waiting stops sqld cleanly."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import pymysql

BUILD = os.environ.get("BUILD_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "default")
SQLD = os.path.join(BUILD, "daemons", "bin", "sqld")

tmp = tempfile.mkdtemp(prefix="dsql-workers-")
proc = None
port = None
passed = 0
failed = []


def start():
    global proc, port
    log = os.path.join(tmp, "sqld.log")
    proc = subprocess.Popen([SQLD, "--data-dir=" + os.path.join(tmp, "data"),
                             "--log.file=" + log, "--listen=127.0.0.1:0",
                             "--store=local", "--workers=2"])
    deadline = time.time() + 60
    while time.time() < deadline:
        if os.path.exists(log):
            with open(log) as f:
                m = re.search(r"serving MySQL on 127\.0\.0\.1:(\d+)",
                              f.read())
            if m:
                port = int(m.group(1))
                return
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError("sqld did not start")


def conn(**kw):
    args = dict(host="127.0.0.1", port=port, user="root",
                connect_timeout=30, autocommit=True)
    args.update(kw)
    return pymysql.connect(**args)


def q(c, sql, args=None):
    with c.cursor() as cur:
        cur.execute(sql, args)
        return [tuple(r) for r in cur.fetchall()]


def err(c, sql):
    try:
        q(c, sql)
    except pymysql.MySQLError as e:
        return e.args[0]
    return None


def eq(what, got, want):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def case(fn):
    global passed
    name = fn.__name__
    print("[ RUN      ] " + name, flush=True)
    try:
        fn()
        print("[       OK ] " + name, flush=True)
        passed += 1
    except Exception:
        traceback.print_exc(file=sys.stdout)
        print("[  FAILED  ] " + name, flush=True)
        failed.append(name)
    return fn


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
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    eq("exit", proc.returncode, 0)
    t.join(60)


try:
    start()
    for fn in (concurrent_commits, pipelined_commands,
               client_gone_while_waiting,
               sigterm_with_a_waiter):
        case(fn)
finally:
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()
    shutil.rmtree(tmp, ignore_errors=True)

print("[  PASSED  ] %d test(s)." % passed)
if failed:
    print("[  FAILED  ] %d test(s), listed below:" % len(failed))
    for n in failed:
        print("[  FAILED  ] " + n)
sys.exit(1 if failed else 0)

#!/usr/bin/python3
"""chaos_bank.py: the bank-transfer workload of test_cluster_ops.sh and
test_chaos.sh (a helper, not a suite). Threads move money between accounts
in transactions against one or more sqld; each transfer inserts its id into
`transfers` in the same transaction, so afterwards the table says exactly
which transfers committed.

A client error is classified:
  - before COMMIT was sent, or COMMIT answered 1213/1205 (write conflict,
    lock wait): the transaction did not commit; it is retried (same id);
  - COMMIT answered 1105 "transaction was rolled back" (libmvcc's
    MVCC_ROLLED_BACK: another transaction resolved this one's expired lock
    while its commit was delayed): not committed, counted as rolled_back
    and retried with the same id (had it committed after all, the retry's
    INSERT would fail on the duplicate id and count as an error);
  - the connection dropped (2003/2006/2013, or any socket error) before
    COMMIT: not committed either; the worker reconnects (to the next sqld
    in the list) and retries;
  - the connection dropped during COMMIT, or COMMIT answered 1105
    "transaction outcome undetermined" (the commit point's request got no
    answer: libmvcc DESIGN "A commit point without an answer"): the
    outcome is unknown ("ambiguous"), never retried; afterwards it may or
    may not be there;
  - any other error: counted as an error the client saw (the tests want 0).

It runs until STOP_FILE exists (or --seconds pass), writes READY_FILE once
--ready transfers are acknowledged, then checks from a fresh connection:
every acknowledged transfer is present, none that failed for sure is,
balances equal what the present transfers make them, and every snapshot
the checker thread took summed to the starting total. Prints a summary and
"BANK OK" or "BANK FAILED"; the counts also go to --stats as JSON.
"""
import argparse
import json
import os
import random
import sys
import threading
import time

import pymysql

ABORTS = (1213, 1205)           # the server says: not committed, retry
CONN_LOST = (2003, 2006, 2013, 2055, 0)


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--ports", required=True, help="sqld ports, a,b,...")
    p.add_argument("--dir", required=True, help="control/scratch directory")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--accounts", type=int, default=32)
    p.add_argument("--start", type=int, default=1000)
    p.add_argument("--ready", type=int, default=30)
    p.add_argument("--seconds", type=float, default=3600)
    p.add_argument("--setup", action="store_true")
    p.add_argument("--setup-only", action="store_true",
                   help="create the tables and accounts, then exit")
    p.add_argument("--pace", type=float, default=0,
                   help="seconds each thread waits between transfers")
    p.add_argument("--stats", default=None)
    p.add_argument("--run", type=int, default=0,
                   help="run number: this run's transfer ids and files")
    return p.parse_args()


A = parse()
PORTS = [int(x) for x in A.ports.split(",")]
SUFFIX = "" if A.run == 0 else ".%d" % A.run
STOP = os.path.join(A.dir, "bank.stop" + SUFFIX)
READY = os.path.join(A.dir, "bank.ready" + SUFFIX)
PROGRESS = os.path.join(A.dir, "bank.progress" + SUFFIX)
TID_BASE = A.run * 10 ** 12
lock = threading.Lock()
st = {"acked": 0, "conflicts": 0, "rolled_back": 0, "reconnects": 0,
      "ambiguous": 0,
      "errors": 0, "checks": 0, "bad_checks": 0, "max_stall_s": 0.0}
acked, ambiguous, errors = set(), set(), []


def connect(start, read_timeout=60):
    """A connection to the first sqld that answers, from PORTS[start] on
    (waits up to 60 s across all of them)."""
    deadline = time.time() + 60
    i = start
    while True:
        port = PORTS[i % len(PORTS)]
        try:
            c = pymysql.connect(host="127.0.0.1", port=port, user="root",
                                connect_timeout=5, read_timeout=read_timeout,
                                write_timeout=60, autocommit=True)
            c.cursor().execute("USE bank")
            return c, i % len(PORTS)
        except pymysql.MySQLError:
            if time.time() > deadline:
                raise
            i += 1
            time.sleep(0.2)


def code(e):
    return e.args[0] if e.args and isinstance(e.args[0], int) else 0


def lost(e):
    return isinstance(e, (pymysql.err.OperationalError,
                          pymysql.err.InterfaceError)) and \
        code(e) in CONN_LOST


def note(key, msg=None):
    with lock:
        st[key] += 1
        if msg is not None and len(errors) < 50:
            errors.append(msg)


def stopping(t0):
    return os.path.exists(STOP) or time.time() - t0 > A.seconds


def worker(w, t0):
    rnd = random.Random(w)
    seq = 0
    c, at = None, w % len(PORTS)
    last_ok = time.time()
    while not stopping(t0):
        if c is None:
            try:
                c, at = connect(at)
            except pymysql.MySQLError as e:
                note("errors", "connect: %s" % e)
                return
        seq += 1
        tid = TID_BASE + w * 10000000 + seq
        a, b = rnd.sample(range(A.accounts), 2)
        amt = rnd.randint(1, 20)
        while not stopping(t0):
            committing = False
            try:
                cur = c.cursor()
                cur.execute("BEGIN")
                cur.execute("UPDATE accounts SET balance = balance - %d "
                            "WHERE id = %d" % (amt, a))
                cur.execute("UPDATE accounts SET balance = balance + %d "
                            "WHERE id = %d" % (amt, b))
                cur.execute("INSERT INTO transfers VALUES (%d, %d, %d, %d)"
                            % (tid, a, b, amt))
                committing = True
                cur.execute("COMMIT")
            except (pymysql.MySQLError, OSError) as e:
                conn_lost = lost(e) or isinstance(e, OSError)
                undetermined = code(e) == 1105 and \
                    "outcome undetermined" in str(e)
                if committing and (conn_lost or undetermined):
                    with lock:
                        ambiguous.add(tid)
                        st["ambiguous"] += 1
                    c = None
                    break
                if conn_lost:
                    note("reconnects")
                    c = None
                    at += 1
                    try:
                        c, at = connect(at)
                    except pymysql.MySQLError as e2:
                        note("errors", "reconnect: %s" % e2)
                        return
                    continue
                if code(e) in ABORTS:
                    note("conflicts")
                elif code(e) == 1105 and "transaction was rolled back" in str(e):
                    note("rolled_back")
                else:
                    note("errors", "tid %d %s: %s" %
                         (tid, "commit" if committing else "stmt", e))
                    if committing:
                        # unknown what the server did: do not retry
                        with lock:
                            ambiguous.add(tid)
                        try:
                            c.cursor().execute("ROLLBACK")
                        except (pymysql.MySQLError, OSError):
                            c = None
                        break
                try:
                    c.cursor().execute("ROLLBACK")
                except (pymysql.MySQLError, OSError):
                    c = None
                    try:
                        c, at = connect(at + 1)
                    except pymysql.MySQLError as e2:
                        note("errors", "reconnect: %s" % e2)
                        return
                time.sleep(rnd.random() * 0.05)
                continue
            now = time.time()
            with lock:
                acked.add(tid)
                st["acked"] += 1
                st["max_stall_s"] = max(st["max_stall_s"], now - last_ok)
                if st["acked"] == A.ready:
                    open(READY, "w").close()
            last_ok = now
            if A.pace > 0:
                time.sleep(A.pace)
            break


def checker(t0):
    """Snapshot reads of the total: it never changes."""
    c, at = None, 0
    while not stopping(t0):
        try:
            if c is None:
                c, at = connect(at)
            cur = c.cursor()
            cur.execute("BEGIN")
            cur.execute("SELECT SUM(balance), COUNT(*) FROM accounts")
            s, n = cur.fetchone()
            cur.execute("COMMIT")
            with lock:
                st["checks"] += 1
                if (int(s), int(n)) != (A.accounts * A.start, A.accounts):
                    st["bad_checks"] += 1
                    errors.append("check: total %s over %s" % (s, n))
        except (pymysql.MySQLError, OSError) as e:
            if not (lost(e) or isinstance(e, OSError) or code(e) in ABORTS):
                note("errors", "check: %s" % e)
            c = None
            at += 1
        progress()
        time.sleep(0.2)


def progress():
    """The acknowledged count, for the scripts to watch (atomic rename)."""
    with lock:
        n = st["acked"]
    tmp = PROGRESS + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % n)
    os.replace(tmp, PROGRESS)


def setup():
    c = None
    for i in range(len(PORTS) * 50):
        try:
            c = pymysql.connect(host="127.0.0.1", port=PORTS[i % len(PORTS)],
                                user="root", connect_timeout=5,
                                autocommit=True)
            break
        except pymysql.MySQLError:
            time.sleep(0.2)
    cur = c.cursor()
    cur.execute("CREATE DATABASE IF NOT EXISTS bank")
    cur.execute("USE bank")
    cur.execute("CREATE TABLE accounts (id INT PRIMARY KEY, balance INT)")
    cur.execute("CREATE TABLE transfers (id BIGINT PRIMARY KEY, src INT, "
                "dst INT, amount INT)")
    cur.execute("INSERT INTO accounts VALUES " + ",".join(
        "(%d,%d)" % (i, A.start) for i in range(A.accounts)))
    c.close()


def verify():
    c, _ = connect(0, read_timeout=600)
    cur = c.cursor()
    # one snapshot for both reads (bankfx.final_state says why)
    cur.execute("START TRANSACTION")
    cur.execute("SELECT id, src, dst, amount FROM transfers")
    rows = {r[0]: r[1:] for r in cur.fetchall()}
    cur.execute("SELECT id, balance FROM accounts ORDER BY id")
    bal = dict(cur.fetchall())
    cur.execute("COMMIT")
    want = {i: A.start for i in range(A.accounts)}
    for src, dst, amt in rows.values():
        want[src] -= amt
        want[dst] += amt
    missing = sorted(t for t in acked if t not in rows)
    mine = range(TID_BASE, TID_BASE + 10 ** 12)
    stray = sorted(t for t in rows
                   if t in mine and t not in acked and t not in ambiguous)
    total = sum(bal.values())
    ok = (not missing and not stray and bal == want and
          total == A.accounts * A.start and st["bad_checks"] == 0 and
          st["acked"] >= A.ready)
    return ok, missing, stray, total, bal == want, len(rows)


def main():
    if A.setup or A.setup_only:
        setup()
    if A.setup_only:
        return 0
    t0 = time.time()
    ts = [threading.Thread(target=worker, args=(w, t0))
          for w in range(A.threads)]
    ts.append(threading.Thread(target=checker, args=(t0,)))
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    st["seconds"] = round(time.time() - t0, 1)
    ok, missing, stray, total, match, present = verify()
    st["present"] = present
    st["max_stall_s"] = round(st["max_stall_s"], 2)
    print("bank: %s" % " ".join("%s %s" % kv for kv in sorted(st.items())))
    for e in errors[:10]:
        print("bank error:", e)
    print("bank: missing %s stray %s total %d balances_match %s" %
          (missing[:10], stray[:10], total, match))
    if A.stats:
        with open(A.stats, "w") as f:
            json.dump(st, f)
    print("BANK", "OK" if ok else "FAILED")
    sys.stdout.flush()
    return 0 if ok else 1


sys.exit(main())

"""test_txn_mode.py: the transaction mode a sqld's sessions start in
(issue 9; docs/operators-guide.md "Transaction mode"): the txn-mode key of
sqld's config file sets @@global.txn_mode (TiDB's name tidb_txn_mode works
too), SET GLOBAL changes it for connections made afterwards, a value that
is no mode stops sqld at start with a usage error, and in pessimistic mode
a COMMIT after another client changed the row (and its index entry)
between the transaction's start and its UPDATE succeeds."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sqldfx import SQLD, Sqld, eq, q, run  # noqa: E402

cfg = tempfile.NamedTemporaryFile("w", prefix="txnmode.", suffix=".yaml",
                                  delete=False)
cfg.write("txn-mode: pessimistic\n")
cfg.close()
srv = Sqld("txnmode.", ["--config=" + cfg.name])


def default_from_config():
    c = srv.connect()
    eq("global and session", q(c, "SELECT @@global.txn_mode, @@txn_mode"),
       [("PESSIMISTIC", "PESSIMISTIC")])
    eq("TiDB's name", q(c, "SELECT @@tidb_txn_mode"), [("PESSIMISTIC",)])
    c.close()


def set_global():
    a = srv.connect()
    q(a, "SET GLOBAL tidb_txn_mode = 'optimistic'")
    b = srv.connect()
    eq("new connection", q(b, "SELECT @@txn_mode"), [("OPTIMISTIC",)])
    eq("older one keeps its own", q(a, "SELECT @@txn_mode"),
       [("PESSIMISTIC",)])
    q(a, "SET GLOBAL txn_mode = 'PESSIMISTIC'")
    c = srv.connect()
    eq("back", q(c, "SELECT @@txn_mode"), [("PESSIMISTIC",)])
    for x in (a, b, c):
        x.close()


def bad_value_stops_sqld():
    p = subprocess.run([SQLD, "--txn-mode=eager", "--listen=127.0.0.1:0",
                        "--data-dir=" + os.path.join(srv.tmp, "never")],
                       capture_output=True, text=True, timeout=60)
    eq("exit status", p.returncode, 2)
    eq("says why", "txn-mode: expected one of optimistic, pessimistic, "
       "got 'eager'" in p.stderr, True)


def pessimistic_commit_after_change():
    a = srv.connect()
    b = srv.connect(autocommit=True)
    q(b, "CREATE DATABASE tm")
    q(b, "CREATE TABLE tm.t (id INT PRIMARY KEY, k INT, KEY k_1 (k))")
    q(b, "INSERT INTO tm.t VALUES (1, 10), (2, 20)")
    a.begin()
    eq("start", q(a, "SELECT k FROM tm.t WHERE id = 2"), [(20,)])
    q(b, "UPDATE tm.t SET k = k + 1 WHERE id = 1")
    q(a, "UPDATE tm.t SET k = k + 1 WHERE id = 1")
    a.commit()  # 1213 before issue 9's fix
    eq("both updates", q(b, "SELECT k FROM tm.t WHERE id = 1"), [(12,)])
    eq("index", q(b, "SELECT id FROM tm.t WHERE k = 12"), [(1,)])
    eq("check", q(b, "CHECK TABLE tm.t"),
       [("tm.t", "check", "status", "OK")])
    a.close()
    b.close()


rc = run(srv, [default_from_config, set_global, bad_value_stops_sqld,
               pessimistic_commit_after_change])
os.unlink(cfg.name)
sys.exit(rc)

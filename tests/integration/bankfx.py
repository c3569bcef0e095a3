"""bankfx.py: the bank workload's common pieces for the bash suites that
drive it from an inline python script (test_sql_cluster.sh,
test_sql_cluster_txn.sh, test_wrongread_snapshots.sh; a helper, not a
suite): the connection they all use, the bank's tables, the ledger of what
clients learned (each COMMIT's outcome, the totals a checker read) and the
final verdict: the read of both tables in one snapshot against the ledger.
The scripts find it through PYTHONPATH (set by the suite)."""
import threading

import pymysql


def connect(port):
    """An autocommit connection to sqld on loopback."""
    return pymysql.connect(host="127.0.0.1", port=port, user="root",
                           connect_timeout=30, read_timeout=120,
                           autocommit=True)


def create(cur, n, start):
    """Database bank: n accounts holding start each, no transfer yet."""
    cur.execute("CREATE DATABASE bank")
    cur.execute("USE bank")
    cur.execute("CREATE TABLE accounts (id INT PRIMARY KEY, balance INT)")
    cur.execute("CREATE TABLE transfers (id INT PRIMARY KEY, src INT, "
                "dst INT, amount INT)")
    cur.execute("INSERT INTO accounts VALUES " +
                ",".join("(%d,%d)" % (i, start) for i in range(n)))


def final_state(cur, n, start):
    """(transfers by id, balances by account, balances the transfers make)
    read in one transaction. As two autocommit reads, an ambiguous
    transfer (its commit cut off by a kill) may be resolved as committed
    between them, above the first read's timestamp (a reader pushes an
    async-commit lock's min_commit_ts): the accounts would show it and the
    transfers not, a mismatch with the total intact (session 6)."""
    cur.execute("USE bank")
    cur.execute("START TRANSACTION")
    cur.execute("SELECT id, src, dst, amount FROM transfers")
    rows = {r[0]: r[1:] for r in cur.fetchall()}
    cur.execute("SELECT id, balance FROM accounts ORDER BY id")
    bal = dict(cur.fetchall())
    cur.execute("COMMIT")
    want = {i: start for i in range(n)}
    for src, dst, amt in rows.values():
        want[src] -= amt
        want[dst] += amt
    return rows, bal, want


class Ledger:
    """What the clients learned, under one lock: transfers committed,
    refused (1213 write conflict, 1205 lock not resolved: surely not
    committed), ambiguous (COMMIT failed otherwise: either may be true),
    errors, and each (SUM, COUNT) a checker read in one snapshot."""

    def __init__(self):
        self.lock = threading.Lock()
        self.committed, self.refused, self.ambiguous = [], [], []
        self.errors, self.totals = [], []

    def error(self, msg):
        with self.lock:
            self.errors.append(msg)

    def commit(self, cur, tid):
        """Runs COMMIT for transfer tid and files its outcome; True when it
        committed (on False the caller drops the connection)."""
        try:
            cur.execute("COMMIT")
        except pymysql.MySQLError as e:
            with self.lock:
                if e.args[0] in (1213, 1205):
                    self.refused.append(tid)
                else:
                    self.ambiguous.append(tid)
                    self.errors.append("commit: " + str(e))
            return False
        with self.lock:
            self.committed.append(tid)
        return True

    def check_total(self, cur):
        """One snapshot's SUM and COUNT of the accounts, filed."""
        cur.execute("BEGIN")
        cur.execute("SELECT SUM(balance), COUNT(*) FROM accounts")
        s, n = cur.fetchone()
        cur.execute("COMMIT")
        with self.lock:
            self.totals.append((int(s), int(n)))

    def verdict(self, cur, n, start, more_ok=True):
        """Prints the final read against the ledger and "BANK OK" or
        "BANK FAILED": every committed transfer present, none refused, no
        stray one, every checked total right, the balances those
        transfers make, and more_ok (the suite's own conditions)."""
        rows, bal, want = final_state(cur, n, start)
        missing = [t for t in self.committed if t not in rows]
        stray = [t for t in rows
                 if t not in self.committed and t not in self.ambiguous]
        revived = [t for t in self.refused if t in rows]
        bad_totals = [t for t in self.totals if t != (n * start, n)]
        print("committed", len(self.committed), "refused", len(self.refused),
              "ambiguous", len(self.ambiguous), "errors", len(self.errors),
              "checks", len(self.totals))
        for e in self.errors[:5]:
            print("error:", e)
        print("missing", missing[:10])
        print("stray", stray[:10])
        print("revived", revived[:10])
        print("bad_totals", bad_totals[:10])
        print("final_total", sum(bal.values()))
        print("balances_match", bal == want)
        ok = (not missing and not stray and not revived and not bad_totals
              and bal == want and sum(bal.values()) == n * start and
              len(self.totals) > 0 and more_ok)
        print("BANK", "OK" if ok else "FAILED")
        return ok

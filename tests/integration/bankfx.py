"""bankfx.py: the bank workload's common pieces for the bash suites that
drive it from an inline python script (test_sql_cluster.sh,
test_sql_cluster_txn.sh, test_wrongread_snapshots.sh; a helper, not a
suite): the connection they all use, the bank's tables, and the final read
of both tables in one snapshot with the balances the transfers imply.
The scripts find it through PYTHONPATH (set by the suite)."""
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

#!/usr/bin/env bash
# test_txn_cluster.sh: pessimistic commits on the cluster (issue 9; libsql
# DESIGN "Pessimistic commits"; ports in 24000-24980). One pdd, three kvd,
# sqld started with --txn-mode=pessimistic. Two clients, sysbench's table
# shape (a secondary index on k): B changes a row's k after A began, then
# A updates the same row and its COMMIT must succeed (it answered 1213:
# the index entry B wrote was checked against A's start_ts); then A holds
# a row lock, B's UPDATE of the row waits for it, A commits, and B's
# COMMIT must succeed too. Afterwards the row holds both increments and
# CHECK TABLE passes. Then two transactions lock rows of two regions led
# by two kvd and each asks for the other's: one gets 1213 (until session
# 10 neither store saw the cycle and one got 1205 after the lock-wait
# timeout; libsql DESIGN "Deadlocks across stores").
. "$(dirname "$0")/lib.sh"

t_cluster_ports 24000 24980
T_SQLD_ARGS=(--txn-mode=pessimistic)
T_KVD_ARGS=(--split.region-size=64KiB)

t_case "the cluster starts: pdd, three kvd, sqld pessimistic by default"
t_start_cluster

t_case "pessimistic COMMIT after a concurrent change, with and without a wait"
got=$(/usr/bin/python3 - "$SQLPORT" 2>&1 <<'PY'
import sys, threading, time
import pymysql

port = int(sys.argv[1])
def conn(**kw):
    return pymysql.connect(host="127.0.0.1", port=port, user="root",
                           connect_timeout=30, **kw)

def q(c, sql):
    with c.cursor() as cur:
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]

out = []
a, b = conn(), conn(autocommit=True)
out.append(q(a, "SELECT @@txn_mode")[0][0])
q(b, "CREATE DATABASE tc")
q(b, "CREATE TABLE tc.t (id INT PRIMARY KEY, k INT NOT NULL, KEY k_1 (k))")
q(b, "INSERT INTO tc.t VALUES (1, 10), (2, 20)")
a.begin()
q(a, "SELECT k FROM tc.t WHERE id = 2")            # A's start_ts
q(b, "UPDATE tc.t SET k = k + 1 WHERE id = 1")     # B commits k = 11
q(a, "UPDATE tc.t SET k = k + 1 WHERE id = 1")     # A reads 11, writes 12
try:
    a.commit()
    out.append("commit ok")
except pymysql.MySQLError as e:
    out.append("commit %d" % e.args[0])
out.append(q(b, "SELECT k FROM tc.t WHERE id = 1")[0][0])

# A holds row 1; B's UPDATE waits; A commits; B's COMMIT
b2 = conn()
q(b2, "SET innodb_lock_wait_timeout = 120")
a.begin()
q(a, "UPDATE tc.t SET k = k + 1 WHERE id = 1")     # 13, held
res = {}
def waiter():
    try:
        b2.begin()
        q(b2, "SELECT k FROM tc.t WHERE id = 2")
        q(b2, "UPDATE tc.t SET k = k + 1 WHERE id = 1")
        b2.commit()
        res["b"] = "commit ok"
    except pymysql.MySQLError as e:
        res["b"] = "error %d" % e.args[0]
th = threading.Thread(target=waiter)
th.start()
# until B's UPDATE is in the processlist, waiting for A's lock
deadline = time.time() + 60
while time.time() < deadline:
    if any(r[7] and "UPDATE" in str(r[7]) for r in q(b, "SHOW PROCESSLIST")):
        break
    time.sleep(0.05)
a.commit()
th.join(120)
out.append(res.get("b", "no answer"))
out.append(q(b, "SELECT k FROM tc.t WHERE id = 1")[0][0])
out.append(q(b, "SELECT id FROM tc.t WHERE k = 14")[0][0])
out.append(q(b, "CHECK TABLE tc.t")[0][3])
print(" ".join(str(x) for x in out))
PY
)
t_expect_eq "answers" "$got" "PESSIMISTIC commit ok 12 commit ok 14 1 OK"

t_case "a deadlock across two stores: one of the two gets 1213"
# rows of tc.d (1 KB each) fill regions of 64 KiB (T_KVD_ARGS), so two
# adjacent ids lie in two regions; the second region's leader is moved
# off the first one's store if they share it (balance-leader held off).
got=$(/usr/bin/python3 - "$SQLPORT" 2>&1 <<'PY'
import sys
import pymysql
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="root",
                    connect_timeout=30, autocommit=True)
with c.cursor() as cur:
    cur.execute("CREATE TABLE tc.d (id INT PRIMARY KEY, v INT NOT NULL, "
                "pad VARCHAR(1000) NOT NULL)")
    for b in range(0, 400, 50):
        cur.execute("INSERT INTO tc.d VALUES " + ",".join(
            "(%d, 0, REPEAT('x', 1000))" % i for i in range(b + 1, b + 51)))
    cur.execute("SELECT COUNT(*) FROM tc.d")
    print(cur.fetchone()[0])
PY
)
t_expect_eq "rows" "$got" 400
t_rows_apart tc.d
H=$T_ROW2
got=$(/usr/bin/python3 "$(dirname "$0")/crossfx.py" "$SQLPORT" "$SQLPORT" tc.d "$H" 2>&1)
t_expect_eq "answers (one deadlock, one commit)" "$got" "1213 ok changed: True"
t_rows_apart_end

t_end

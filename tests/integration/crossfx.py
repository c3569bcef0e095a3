"""crossfx.py: two transactions that wait for each other's row (run by
test_txn_cluster.sh and test_deadlock_cluster.sh; not a suite itself).

    crossfx.py PORT_A PORT_B TABLE H

Session A (on the sqld at PORT_A) locks row H-1 of TABLE (id, v), session
B (PORT_B) locks row H, then A updates H and B updates H-1, each then
committing. Prints both answers sorted ("1213 ok": one deadlock, one
commit) and "changed: True" when the rows show exactly the winner's
increment (the one that got 1213 changed nothing)."""
import sys
import threading
import time

import pymysql

PORT_A, PORT_B, TABLE, H = (int(sys.argv[1]), int(sys.argv[2]), sys.argv[3],
                            int(sys.argv[4]))


def conn(port):
    c = pymysql.connect(host="127.0.0.1", port=port, user="root",
                        connect_timeout=30, read_timeout=120)
    with c.cursor() as cur:
        # a wait that ends by timeout answers 1205, well before the join
        cur.execute("SET innodb_lock_wait_timeout = 40")
    return c


def q(c, sql):
    with c.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


a, b, w = conn(PORT_A), conn(PORT_B), conn(PORT_A)
a.begin()
q(a, "SELECT v FROM %s WHERE id = %d FOR UPDATE" % (TABLE, H - 1))
b.begin()
q(b, "SELECT v FROM %s WHERE id = %d FOR UPDATE" % (TABLE, H))
res = {}


def cross(name, c, row):
    try:
        q(c, "UPDATE %s SET v = v + 1 WHERE id = %d" % (TABLE, row))
        c.commit()
        res[name] = "ok"
    except pymysql.MySQLError as e:
        res[name] = str(e.args[0])
        c.rollback()


ta = threading.Thread(target=cross, args=("a", a, H))
ta.start()
deadline = time.time() + 60  # until A's UPDATE runs (it then waits for B)
while time.time() < deadline and not any(
        r[7] and "UPDATE" in str(r[7]) for r in q(w, "SHOW PROCESSLIST")):
    time.sleep(0.05)
cross("b", b, H - 1)
ta.join(120)
w.commit()
v = q(w, "SELECT id, v FROM %s WHERE id IN (%d, %d) ORDER BY id"
      % (TABLE, H - 1, H))
won = H if res.get("a") == "ok" else H - 1
print(" ".join(sorted([res.get("a", "none"), res.get("b", "none")])),
      "changed:", " ".join(str(i) for i, x in v if x == 1) == str(won))

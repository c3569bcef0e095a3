#!/usr/bin/env bash
# test_sql_cluster_big.sh: values over nanopb's 65,535-byte field cap
# through sqld on the cluster (ports in 32000-32380): one pdd and three
# kvd (each with its HTTP status port), sqld --store=cluster. A 100 KB
# text and a 1 MiB blob are inserted (in MEDIUMTEXT / LONGBLOB columns,
# spread over several while libsql caps a column at 65,535 bytes: the
# row's KV value is the full size either way), read back byte for byte,
# updated and deleted; a 9 MiB transaction (over kvd's Raft entry limit)
# is refused with an error saying so, and leaves nothing; then kvd's
# /metrics count a one-row INSERT's prewrite and commit.
# libregion/DESIGN.md, "Cluster transport".
. "$(dirname "$0")/lib.sh"

t_cluster_ports 32000 32380
port() { t_port "$@"; }
T_KVD_STATUS=16

t_case "the cluster starts and sqld serves on it"
t_start_cluster
SQLD=$T_SQLD_PID

# counter NAME: the sum over the three kvd of kvd_requests_total{NAME}.
counter() {
    local sum=0 i v
    for i in 1 2 3; do
        v=$(curl -s "http://127.0.0.1:$(port $((16 + i)))/metrics" |
            sed -n "s/^kvd_requests_total{command=\"$1\"} //p")
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}

t_case "a 100 KB TEXT and a 1 MiB BLOB: insert, read back, update, delete"
/usr/bin/python3 - "$SQLPORT" >"$T_TMP/big.out" 2>&1 <<'PY'
import hashlib, random, sys
import pymysql

port = int(sys.argv[1])
c = pymysql.connect(host="127.0.0.1", port=port, user="root",
                    connect_timeout=30, read_timeout=120, autocommit=True)
cur = c.cursor()
cur.execute("CREATE DATABASE big")
cur.execute("USE big")
NT, NB = 3, 17  # columns: 3 MEDIUMTEXT, 17 LONGBLOB
cur.execute("CREATE TABLE t (id INT PRIMARY KEY, " +
            ", ".join("t%d MEDIUMTEXT" % i for i in range(NT)) + ", " +
            ", ".join("b%d LONGBLOB" % i for i in range(NB)) + ")")
# libsql caps every TEXT/BLOB column at 65,535 bytes (1406): then each
# payload is spread over columns of at most that, so the row's KV value is
# still 100 KB / 1 MiB
try:
    cur.execute("INSERT INTO t (id, b0) VALUES (0, %s)", (b"x" * 65536,))
    cur.execute("DELETE FROM t WHERE id = 0")
    cap = None
except pymysql.MySQLError as e:
    if e.args[0] != 1406:
        raise
    cap = 65535
    print("note: libsql refuses a column value over 65,535 bytes (%s): "
          "the payloads are spread over columns" % e.args[1])

def pieces(v, n):
    step = cap or len(v)
    ps = [v[i:i + step] for i in range(0, len(v), step)] if v else []
    assert len(ps) <= n
    return ps + [v[:0]] * (n - len(ps))

def store(verb, id_, text, blob):
    vals = pieces(text, NT) + pieces(blob, NB)
    cols = ["t%d" % i for i in range(NT)] + ["b%d" % i for i in range(NB)]
    if verb == "INSERT":
        cur.execute("INSERT INTO t (id, %s) VALUES (%d, %s)" %
                    (", ".join(cols), id_, ", ".join(["%s"] * len(cols))),
                    vals)
    else:
        cur.execute("UPDATE t SET %s WHERE id = %d" %
                    (", ".join(c + " = %s" for c in cols), id_), vals)

def load(id_):
    cur.execute("SELECT " + ", ".join("t%d" % i for i in range(NT)) + ", " +
                ", ".join("b%d" % i for i in range(NB)) +
                " FROM t WHERE id = %d" % id_)
    r = cur.fetchone()
    return ("".join(x or "" for x in r[:NT]),
            b"".join(bytes(x or b"") for x in r[NT:]))

ok = True
def check(what, cond):
    global ok
    print(what, "ok" if cond else "FAILED")
    ok = ok and cond

rnd = random.Random(7)
text = "".join(rnd.choice("abcdefghij klmnopqrstuvwxyz") for _ in range(100000))
blob = bytes(rnd.getrandbits(8) for _ in range(1 << 20))
store("INSERT", 1, text, b"")
store("INSERT", 2, "", blob)
check("100 KB text read back", load(1) == (text, b""))
check("1 MiB blob read back", load(2) == ("", blob))
cur.execute("SELECT id FROM t ORDER BY id")  # a scan over the big rows
check("scan", [r[0] for r in cur.fetchall()] == [1, 2])
text2 = text[::-1] + "!"
blob2 = hashlib.sha256(blob).digest() * (1 << 15)  # 1 MiB again
store("UPDATE", 1, text2, b"")
store("UPDATE", 2, "", blob2)
check("text updated", load(1) == (text2, b""))
check("blob updated", load(2) == ("", blob2))
cur.execute("DELETE FROM t WHERE id = 1")
cur.execute("SELECT id FROM t")
check("deleted", [r[0] for r in cur.fetchall()] == [2])
cur.execute("DELETE FROM t")
cur.execute("SELECT COUNT(*) FROM t")
check("empty", cur.fetchone()[0] == 0)
# one transaction of 9 MiB: over kvd's 8 MiB Raft entry, refused whole
# with an error that says so; nothing of it is written
cur.execute("BEGIN")
for i in range(9):
    store("INSERT", 10 + i, "", blob[:1 << 20])
try:
    cur.execute("COMMIT")
    err = None
except pymysql.MySQLError as e:
    err = e
print("9 MiB commit:", err)
check("9 MiB refused", err is not None and "Message too long" in str(err))
c.close()
c = pymysql.connect(host="127.0.0.1", port=port, user="root",
                    connect_timeout=30, read_timeout=120, autocommit=True)
cur = c.cursor()
cur.execute("SELECT COUNT(*) FROM big.t")
check("nothing written", cur.fetchone()[0] == 0)
print("BIG", "OK" if ok else "FAILED")
PY
sed 's/^/    /' "$T_TMP/big.out"
t_expect_grep "big values" "BIG OK" "$T_TMP/big.out"

# sqld runs with 1PC on (txn.one-pc, on by default: docs/cluster-txn.md).
# The counters show what a one-region commit costs: one prewrite and no
# commit (with 1PC off it would be one prewrite and one commit).
t_case "kvd's /metrics count a one-region INSERT: one prewrite, no commit"
mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --connect-timeout=30 \
    -e "CREATE TABLE big.one (id INT PRIMARY KEY, v INT)" ||
    t_fail "create table"
pw0=$(counter txn_prewrite)
cm0=$(counter txn_commit)
mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --connect-timeout=30 \
    -e "INSERT INTO big.one VALUES (1, 10)" || t_fail "insert"
pw1=$(counter txn_prewrite)
cm1=$(counter txn_commit)
t_expect_eq "prewrites" "$((pw1 - pw0))" 1
t_expect_eq "commits" "$((cm1 - cm0))" 0
out=$(mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --connect-timeout=30 -N \
    -e "SELECT v FROM big.one WHERE id = 1" 2>&1)
t_expect_eq "read back" "$out" 10

t_case "sqld stops cleanly"
kill -TERM "$SQLD"
t_wait_exit "$SQLD" 60 || t_fail "sqld did not stop"
t_expect_eq "exit status" "$T_RC" 0

t_end

#!/usr/bin/env bash
# test_sql_cluster_point.sh: sqld's cluster point reads on its loop thread
# (daemons/sqld/README.md "Point reads on the loop thread", libsql
# DESIGN.md "Point reads"; ports 24000-24480). One pdd, three kvd, sqld
# with its status port. Autocommit point selects by primary key on two
# connections, each after an update made through the other: every read
# returns the value just committed, and sqld's status counts reads
# answered on the loop thread. Then the leader kvd is killed with -9
# while a reader keeps selecting: every select answers the one value
# written (reads the loop thread cannot finish go to a worker, which
# retries on the new leader), and reads are answered on the loop thread
# again afterwards. In between, point selects inside transactions read
# their snapshot (their start_ts) there too. The loop polls for kvd's
# replies while it waits for them (loop-poll-us) and counts the replies
# it caught.
. "$(dirname "$0")/lib.sh"

t_cluster_ports 24000 24480
STATUS=$(t_port 16)
T_SQLD_ARGS=(--status-listen="127.0.0.1:$STATUS")

status() { # status FIELD: sqld's /status value of FIELD
    curl -sf "http://127.0.0.1:$STATUS/status" |
        sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"
}
leader_store() { # the store leading region 1, as pdd knows it
    "${PDCTL[@]}" region 2>/dev/null |
        sed -n 's/^region 1 .* leader [0-9]*\([0-9]\) .*/\1/p'
}

t_case "the cluster starts: pdd, three kvd, sqld"
t_start_cluster

t_case "point selects see the other connection's commit at once"
/usr/bin/python3 - "$SQLPORT" >"$T_TMP/rw.out" 2>&1 <<'PY'
import sys
import pymysql
port = int(sys.argv[1])
a = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
b = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
ca, cb = a.cursor(), b.cursor()
ca.execute("CREATE DATABASE p")
ca.execute("CREATE TABLE p.t (id INT PRIMARY KEY, v INT)")
ca.execute("INSERT INTO p.t VALUES (1, 0), (2, 0)")
bad = 0
for i in range(1, 201):
    w, r = (ca, cb) if i % 2 else (cb, ca)
    w.execute("UPDATE p.t SET v = %s WHERE id = 1", (i,))
    for c in (r, w):
        c.execute("SELECT v FROM p.t WHERE id = 1")
        got = c.fetchall()
        if got != ((i,),):
            bad += 1
            print("read %r after writing %d" % (got, i))
    r.execute("SELECT v FROM p.t WHERE id = 3")
    if r.fetchall() != ():
        bad += 1
print("BAD", bad)
PY
t_expect_eq "reads that missed the last commit" \
    "$(sed -n 's/^BAD \([0-9]*\)$/\1/p' "$T_TMP/rw.out")" 0
n=$(status point_reads_loop)
[ "${n:-0}" -ge 1 ] || t_fail "no point read answered on the loop thread ($n)"
# While a read waits for kvd the loop polls (loop-poll-us, 1000 us by
# default) instead of sleeping: of these 600 reads some reply comes within
# the window.
h=$(status loop_poll_hits)
[ "${h:-0}" -ge 1 ] ||
    t_fail "the loop thread caught no kvd reply while polling (hits $h, misses $(status loop_poll_misses))"
curl -sf "http://127.0.0.1:$STATUS/metrics" | grep -q '^sqld_loop_poll_hits_total [1-9]' ||
    t_fail "/metrics has no sqld_loop_poll_hits_total"

t_case "point selects in a transaction read its snapshot"
# A transaction's point selects before its first write are read on the
# loop thread at its start_ts: a commit made after BEGIN is not seen,
# its own write is, and its COMMIT still succeeds.
/usr/bin/python3 - "$SQLPORT" "$STATUS" >"$T_TMP/txn.out" 2>&1 <<'PY'
import json, sys, urllib.request
import pymysql
port, status = int(sys.argv[1]), sys.argv[2]
def loop_reads():
    with urllib.request.urlopen("http://127.0.0.1:%s/status" % status) as r:
        return json.load(r)["point_reads_loop"]
a = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
b = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
ca, cb = a.cursor(), b.cursor()
bad = in_txn = 0
def one(c, sql, want):
    global bad
    c.execute(sql)
    got = c.fetchall()
    if got != want:
        bad += 1
        print("%s: %r, not %r" % (sql, got, want))
for i in range(1, 51):
    cb.execute("UPDATE p.t SET v = %s WHERE id = 1", (1000 + i,))
    ca.execute("BEGIN")
    n = loop_reads()
    one(ca, "SELECT v FROM p.t WHERE id = 1", ((1000 + i,),))
    cb.execute("UPDATE p.t SET v = %s WHERE id = 1", (2000 + i,))
    one(ca, "SELECT v FROM p.t WHERE id = 1", ((1000 + i,),))
    one(ca, "SELECT v FROM p.t WHERE id = 3", ())
    in_txn += loop_reads() - n
    ca.execute("UPDATE p.t SET v = %s WHERE id = 2", (3000 + i,))
    one(ca, "SELECT v FROM p.t WHERE id = 2", ((3000 + i,),))
    one(ca, "SELECT v FROM p.t WHERE id = 1", ((1000 + i,),))
    ca.execute("COMMIT")
    one(cb, "SELECT v FROM p.t WHERE id = 2", ((3000 + i,),))
    one(ca, "SELECT v FROM p.t WHERE id = 1", ((2000 + i,),))
print("BAD", bad)
print("IN_TXN", in_txn)
PY
t_expect_eq "transactional reads that were wrong" \
    "$(sed -n 's/^BAD \([0-9]*\)$/\1/p' "$T_TMP/txn.out")" 0
n=$(sed -n 's/^IN_TXN \([0-9]*\)$/\1/p' "$T_TMP/txn.out")
[ "${n:-0}" -ge 1 ] ||
    t_fail "no read in a transaction answered on the loop thread ($n)"
echo "    reads in transactions answered on the loop thread: $n of 150"

t_case "a reader through a kill -9 of the leader kvd"
L=$(leader_store)
case "$L" in 1|2|3) ;; *) t_fail "region 1 leader '$L'";; esac
/usr/bin/python3 - "$SQLPORT" "$T_TMP/stop" >"$T_TMP/kill.out" 2>&1 <<'PY' &
import os, sys, time
import pymysql
port, stop = int(sys.argv[1]), sys.argv[2]
c = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True,
                    read_timeout=120).cursor()
c.execute("UPDATE p.t SET v = 777 WHERE id = 2")
print("WRITTEN", flush=True)
n = bad = 0
while not os.path.exists(stop):
    c.execute("SELECT v FROM p.t WHERE id = 2")
    if c.fetchall() != ((777,),):
        bad += 1
    n += 1
print("READS", n, "BAD", bad, flush=True)
PY
reader=$!
t_wait_for_grep "WRITTEN" "$T_TMP/kill.out" 30
before=$(status point_reads_loop)
kill -9 "${T_KVD_PID[$L]}"
wait "${T_KVD_PID[$L]}" 2>/dev/null
# until another store leads region 1 and the loop thread answers again
for _ in $(seq 1 300); do
    M=$(leader_store)
    [ -n "$M" ] && [ "$M" != "$L" ] && [ "$(status point_reads_loop)" -gt "$before" ] && break
    sleep 0.2
done
sleep 1
after=$(status point_reads_loop)
touch "$T_TMP/stop"
t_wait_exit "$reader" 120 || t_fail "the reader did not finish"
t_expect_eq "selects that did not answer 777" \
    "$(sed -n 's/^READS [0-9]* BAD \([0-9]*\)$/\1/p' "$T_TMP/kill.out")" 0
[ "${after:-0}" -gt "${before:-0}" ] ||
    t_fail "no loop-thread read after the kill ($before, $after)"
echo "    point reads on the loop thread: $before before the kill, $after after; handed to a worker: $(status point_reads_handed)"
t_start_kvd "$L"

t_case "sqld stops cleanly"
t_stop_cluster
t_end

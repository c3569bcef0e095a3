#!/usr/bin/env bash
# test_sql_cluster.sh: sqld on the cluster (--store=cluster, ports in
# 30000-30999): one pdd and three kvd registered with it, then sqld through
# PD's TSO and region map and libregion's cluster transport. kvd split
# regions every 8 KiB written, so tables span regions that split while
# statements run (pdd's map lags a moment behind each split). The pymysql
# suite test_sql.py runs unchanged against it (SQLD_ARGS); then a
# bank-transfer workload (threads moving money between accounts in
# transactions) during which the region's leader kvd is killed with -9:
# the total never changes in any snapshot, every transfer whose COMMIT
# succeeded is there afterwards, none whose COMMIT failed with a conflict
# is, and every balance is what the recorded transfers make it. The killed
# kvd then restarts and takes every region's leadership: sqld reconnects
# to it and answers.
. "$(dirname "$0")/lib.sh"

t_cluster_ports 30000 30980
T_KVD_ARGS=(--split.region-size=8KiB)

leader_store() { # the store leading region 1, as pdd knows it
    "${PDCTL[@]}" region 2>/dev/null |
        sed -n 's/^region 1 .* leader [0-9]*\([0-9]\) .*/\1/p'
}

t_case "the cluster starts: pdd, three kvd registered, region 1 led"
t_start_cluster --no-sqld
L=""
for _ in $(seq 1 300); do
    L=$(leader_store)
    [ -n "$L" ] && break
    sleep 0.2
done
case "$L" in 1|2|3) ;; *) t_fail "region 1 leader '$L'";; esac

t_case "sqld refuses --store=cluster without pd"
"$BIN/sqld" --data-dir="$T_TMP/sqld0" --log.file="$T_TMP/sqld0.log" \
    --listen=127.0.0.1:0 --store=cluster >/dev/null 2>&1 &
t_wait_exit $! 30 || t_fail "sqld did not exit"
t_expect_eq "exit status" "$T_RC" 2
t_expect_grep "reason" "store: cluster needs pd" "$T_TMP/sqld0.log"

# The pymysql suite prints its own cases (counted by run-suites.sh).
echo "---- test_sql.py on the cluster"
SQLD_ARGS="--store=cluster --pd=$PD" BUILD_DIR="$BUILD_DIR" \
    timeout 300 /usr/bin/python3 "$(dirname "$0")/test_sql.py"
rc=$?
echo "---- test_sql.py exit $rc"
t_case "test_sql.py on the cluster exits 0"
t_expect_eq "exit status" "$rc" 0

t_case "bank transfers while the leader kvd is killed with -9"
t_start_sqld
PYTHONPATH="$(dirname "$0")" /usr/bin/python3 - "$SQLPORT" "$T_TMP" >"$T_TMP/bank.out" 2>&1 <<'PY' &
import os, random, sys, threading, time
import pymysql
import bankfx

port, tmp = int(sys.argv[1]), sys.argv[2]
N, START, THREADS = 8, 1000, 4

def conn():
    return bankfx.connect(port)

c = conn()
cur = c.cursor()
bankfx.create(cur, N, START)

led = bankfx.Ledger()
phase = {"killed": False, "after_kill": 0}
stop = threading.Event()

def worker(w):
    rnd = random.Random(w)
    seq = 0
    c = None
    while not stop.is_set():
        try:
            if c is None:
                c = conn()
                c.cursor().execute("USE bank")
            seq += 1
            tid = w * 1000000 + seq
            a, b = rnd.sample(range(N), 2)
            amt = rnd.randint(1, 50)
            cur = c.cursor()
            cur.execute("BEGIN")
            cur.execute("UPDATE accounts SET balance = balance - %d WHERE id = %d" % (amt, a))
            cur.execute("UPDATE accounts SET balance = balance + %d WHERE id = %d" % (amt, b))
            cur.execute("INSERT INTO transfers VALUES (%d, %d, %d, %d)" % (tid, a, b, amt))
        except pymysql.MySQLError as e:
            led.error(str(e))
            try:
                c.cursor().execute("ROLLBACK")
            except Exception:
                c = None
            continue
        if not led.commit(cur, tid):
            c = None
            continue
        with led.lock:
            if phase["killed"]:
                phase["after_kill"] += 1

def checker():
    c = conn()
    cur = c.cursor()
    cur.execute("USE bank")
    while not stop.is_set():
        try:
            led.check_total(cur)
        except pymysql.MySQLError as e:
            led.error("check: " + str(e))
            try:
                cur.execute("ROLLBACK")
            except Exception:
                c = conn()
                cur = c.cursor()
                cur.execute("USE bank")
        time.sleep(0.05)

ts = [threading.Thread(target=worker, args=(w,)) for w in range(THREADS)]
ts.append(threading.Thread(target=checker))
for t in ts:
    t.start()
# Some transfers first, then the kill (done by the script), then more.
deadline = time.time() + 60
while time.time() < deadline:
    with led.lock:
        if len(led.committed) >= 40:
            break
    time.sleep(0.05)
open(os.path.join(tmp, "bank.ready"), "w").close()
kill_file = os.path.join(tmp, "bank.killed")
deadline = time.time() + 60
while not os.path.exists(kill_file) and time.time() < deadline:
    time.sleep(0.05)
with led.lock:
    phase["killed"] = True
deadline = time.time() + 60
while time.time() < deadline:
    with led.lock:
        if phase["after_kill"] >= 40:
            break
    time.sleep(0.05)
stop.set()
for t in ts:
    t.join()

cur = conn().cursor()
print("after_kill", phase["after_kill"])
led.verdict(cur, N, START, phase["after_kill"] >= 40)
PY
BANK=$!
for _ in $(seq 1 900); do
    [ -e "$T_TMP/bank.ready" ] || ! kill -0 "$BANK" 2>/dev/null && break
    sleep 0.1
done
if [ -e "$T_TMP/bank.ready" ]; then
    VICTIM=$(leader_store)
    case "$VICTIM" in
    1|2|3) kill -9 "${T_KVD_PID[$VICTIM]}"; wait "${T_KVD_PID[$VICTIM]}" 2>/dev/null ;;
    *) t_fail "no leader to kill: '$VICTIM'" ;;
    esac
    touch "$T_TMP/bank.killed"
else
    t_fail "the workload did not get going"
fi
t_wait_exit "$BANK" 150 || t_fail "the workload did not finish"
sed 's/^/    /' "$T_TMP/bank.out"
t_expect_grep "bank outcome" "BANK OK" "$T_TMP/bank.out"

t_case "the killed kvd comes back and leads every region: SQL answers"
# sqld's connection to that store was lost; the next call reconnects
t_start_kvd "$VICTIM"
got=$(t_wait_output 3 60 t_stores_up) || t_fail "stores up: '$got'"
for r in $("${PDCTL[@]}" region 2>/dev/null | sed -n 's/^region \([0-9]*\) .*/\1/p'); do
    "${PDCTL[@]}" operator add transfer-leader "$r" "$VICTIM" >/dev/null 2>&1
done
led_by_victim() {
    "${PDCTL[@]}" region 2>/dev/null |
        grep -v " leader [0-9]*00$VICTIM " | grep -c '^region '
}
# every region led by it, or close enough: pdd may have moved one since
got=$(t_wait_output 0 60 led_by_victim) || echo "    regions not led by store $VICTIM: $got"
out=$(mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --connect-timeout=30 -N \
    -e "SELECT SUM(balance), COUNT(*) FROM bank.accounts" 2>&1)
t_expect_eq "sum" "$out" "$(printf '8000\t8')"
out=$(mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --connect-timeout=30 -N \
    -e "UPDATE bank.accounts SET balance = balance + 1 WHERE id = 0;
        UPDATE bank.accounts SET balance = balance - 1 WHERE id = 1;
        SELECT SUM(balance) FROM bank.accounts" 2>&1)
t_expect_eq "write then sum" "$out" "8000"

t_case "the data spans several regions"
n=$("${PDCTL[@]}" region 2>/dev/null | grep -c '^region ')
[ "$n" -gt 1 ] || t_fail "regions: $n"
echo "    $n regions"

t_case "sqld stops cleanly on the cluster"
kill -TERM "$T_SQLD_PID"
t_wait_exit "$T_SQLD_PID" 60 || t_fail "sqld did not stop"
t_expect_eq "exit status" "$T_RC" 0
# the leader's death was seen: its connection failed at least once
grep "cluster: " "$T_TMP/sqld.log" | sed 's/^/    /'
grep -q "cluster: .* [1-9][0-9]* store failures" "$T_TMP/sqld.log" ||
    t_fail "no store failure counted: $(grep 'cluster: ' "$T_TMP/sqld.log")"

t_end

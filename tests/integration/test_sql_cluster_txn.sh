#!/usr/bin/env bash
# test_sql_cluster_txn.sh: 1PC and async commit on the cluster stay
# correct across leader changes (libregion/DESIGN.md "max_ts"). One pdd,
# three kvd, sqld on the cluster with both on (its default). Bank
# transfers in optimistic transactions (read both balances, write the new
# values, log the transfer in the same transaction) run in four threads
# with readers beside them; the leader kvd is killed with -9 mid-run,
# later restarted and given every region's leadership (a store whose
# max_ts restarted at 0), then moved between the stores while the
# transfers go on. Afterwards the total is exact in every snapshot
# taken, every acknowledged transfer is logged, none refused is, and each
# balance is what the logged transfers make it. kvd's counters show 1PC
# was used (prewrites answered without a commit).
. "$(dirname "$0")/lib.sh"

t_cluster_ports 22000 22380
port() { t_port "$@"; }
ROUNDS=${TXN_TEST_ROUNDS:-30}
T_KVD_STATUS=4
T_KVD_ARGS=(--split.region-size=8KiB)
T_SQLD_ARGS=(--txn.one-pc=true --txn.async-commit=true)

leader_store() { # the store leading region 1, as pdd knows it
    "${PDCTL[@]}" region 2>/dev/null |
        sed -n 's/^region 1 .* leader [0-9]*\([0-9]\) .*/\1/p'
}
metric() { # metric I NAME: kvd I's value of NAME (0 if absent)
    curl -sf "http://127.0.0.1:$(port $(($1 + 4)))/metrics" |
        awk -v m="$2" 'BEGIN {v = 0} $1 == m {v = $2} END {print v}'
}
requests() { metric "$1" "kvd_requests_total{command=\"$2\"}"; }

t_case "the cluster starts: pdd, three kvd, sqld with 1PC and async commit"
t_start_cluster

t_case "bank transfers through a kill -9 of the leader and its restart"
PYTHONPATH="$(dirname "$0")" /usr/bin/python3 - "$SQLPORT" "$T_TMP" "$ROUNDS" >"$T_TMP/bank.out" 2>&1 <<'PY' &
import os, random, sys, threading, time
import pymysql
import bankfx

port, tmp, rounds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
N, START, THREADS = 8, 1000, 4

def conn():
    return bankfx.connect(port)

c = conn()
cur = c.cursor()
bankfx.create(cur, N, START)

led = bankfx.Ledger()
phase = {"n": 0, "count": 0}
stop = threading.Event()

def worker(w):
    rnd = random.Random(w)
    seq = 0
    c = None
    while not stop.is_set():
        seq += 1
        tid = w * 1000000 + seq
        try:
            if c is None:
                c = conn()
                c.cursor().execute("USE bank")
            a, b = rnd.sample(range(N), 2)
            amt = rnd.randint(1, 50)
            cur = c.cursor()
            cur.execute("BEGIN")
            # read, then write what was read: a lost update shows as money
            # made or destroyed (optimistic SI must refuse the second
            # writer of a key read at an older snapshot)
            cur.execute("SELECT balance FROM accounts WHERE id = %d" % a)
            va = cur.fetchone()[0]
            cur.execute("SELECT balance FROM accounts WHERE id = %d" % b)
            vb = cur.fetchone()[0]
            time.sleep(rnd.random() * 0.02)  # let leaderships change
            cur.execute("UPDATE accounts SET balance = %d WHERE id = %d" % (va - amt, a))
            cur.execute("UPDATE accounts SET balance = %d WHERE id = %d" % (vb + amt, b))
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
            phase["count"] += 1

def checker(point):
    c = None
    rnd = random.Random(99)
    while not stop.is_set():
        try:
            if c is None:
                c = conn()
                c.cursor().execute("USE bank")
            cur = c.cursor()
            if point:  # autocommit point reads raise kvd's max_ts
                cur.execute("SELECT balance FROM accounts WHERE id = %d" % rnd.randrange(N))
                cur.fetchall()
                continue
            led.check_total(cur)
        except pymysql.MySQLError as e:
            led.error("check: " + str(e))
            c = None
        time.sleep(0.02)

ts = [threading.Thread(target=worker, args=(w,)) for w in range(THREADS)]
ts += [threading.Thread(target=checker, args=(p,)) for p in (False, True)]
for t in ts:
    t.start()
# Phases: ROUNDS commits, then (the script kills the leader) ROUNDS more,
# then (it restarts the store and moves the leaders to it) ROUNDS more.
ok_phases = True
for name in ("ready", "killed", "restarted"):
    if name != "ready":
        path = os.path.join(tmp, "bank." + name)
        deadline = time.time() + 120
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.05)
        with led.lock:
            phase["count"] = 0
    deadline = time.time() + 120
    while time.time() < deadline:
        with led.lock:
            if phase["count"] >= rounds:
                break
        time.sleep(0.05)
    with led.lock:
        print("phase", name, "commits", phase["count"], flush=True)
        ok_phases = ok_phases and phase["count"] >= rounds
    open(os.path.join(tmp, "bank.%s.done" % name), "w").close()
stop.set()
for t in ts:
    t.join()

cur = conn().cursor()
led.verdict(cur, N, START, ok_phases)
PY
BANK=$!
wait_file() { # wait_file NAME: the workload reached that point
    for _ in $(seq 1 1500); do
        [ -e "$T_TMP/bank.$1" ] && return 0
        kill -0 "$BANK" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
if wait_file ready.done; then
    VICTIM=$(leader_store)
    case "$VICTIM" in
    1|2|3) kill -9 "${T_KVD_PID[$VICTIM]}"; wait "${T_KVD_PID[$VICTIM]}" 2>/dev/null ;;
    *) t_fail "no leader to kill: '$VICTIM'" ;;
    esac
    echo "    killed store $VICTIM (region 1's leader)"
    touch "$T_TMP/bank.killed"
else
    t_fail "the workload did not get going"
fi
if wait_file killed.done; then
    t_start_kvd "$VICTIM"
    got=$(t_wait_output 3 60 t_stores_up) || echo "    stores up: '$got'"
    # its regions' leadership moves to the store whose max_ts restarted
    for _ in $(seq 1 100); do
        for r in $("${PDCTL[@]}" region 2>/dev/null |
                   sed -n 's/^region \([0-9]*\) .*/\1/p'); do
            "${PDCTL[@]}" operator add transfer-leader "$r" "$VICTIM" \
                >/dev/null 2>&1
        done
        [ "$(leader_store)" = "$VICTIM" ] && break
        sleep 0.3
    done
    echo "    region 1 led by store $(leader_store) again"
    touch "$T_TMP/bank.restarted"
    # then leaderships keep moving between the stores: each new leader
    # must sync max_ts before its first 1PC or async commit
    moves=0
    while ! [ -e "$T_TMP/bank.restarted.done" ] && kill -0 "$BANK" 2>/dev/null; do
        to=$((moves % 3 + 1))
        for r in $("${PDCTL[@]}" region 2>/dev/null |
                   sed -n 's/^region \([0-9]*\) .*/\1/p'); do
            "${PDCTL[@]}" operator add transfer-leader "$r" "$to" \
                >/dev/null 2>&1
        done
        moves=$((moves + 1))
        sleep 0.4
    done
    echo "    leaders moved $moves times during the last phase"
fi
t_wait_exit "$BANK" 400 || t_fail "the workload did not finish"
sed 's/^/    /' "$T_TMP/bank.out"
t_expect_grep "bank outcome" "BANK OK" "$T_TMP/bank.out"

t_case "a read before a leader change is not overtaken by a 1PC commit"
# T2 takes its start_ts, then T1 (a later one) reads k on the leader;
# every region's leadership moves to another store, whose max_ts has seen
# no read at T1's ts; T2 then updates k in one region (1PC) and commits.
# Its commit_ts must land above T1's read, so T1's write of the value it
# read conflicts (1213). With a commit_ts at T2's start_ts + 1 (a max_ts
# not synced) T1 would commit over it: a lost update.
/usr/bin/python3 - "$SQLPORT" "$BIN/pdctl" "$PD" >"$T_TMP/lu.out" 2>&1 <<'PY'
import re, subprocess, sys, time
import pymysql
port, pdctl, pd = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def conn():
    return pymysql.connect(host="127.0.0.1", port=port, user="root",
                           connect_timeout=30, read_timeout=120,
                           autocommit=True, database="bank")

def leaders():
    out = subprocess.run([pdctl, "--pd=" + pd, "--timeout=20000", "region"],
                         capture_output=True, text=True).stdout
    return {int(m.group(1)): int(m.group(2)) % 10 for m in
            re.finditer(r"^region (\d+) .* leader (\d+) ", out, re.M)}

c0 = conn().cursor()
c0.execute("CREATE TABLE lu (id INT PRIMARY KEY, v INT)")
c0.execute("INSERT INTO lu VALUES (1, 0), (2, 0)")
for attempt in range(3):
    c1, c2 = conn().cursor(), conn().cursor()
    c2.execute("BEGIN")
    c2.execute("SELECT v FROM lu WHERE id = 2")          # T2's start_ts
    c1.execute("BEGIN")
    c1.execute("SELECT v FROM lu WHERE id = 1")          # T1 reads k
    v1 = c1.fetchone()[0]
    old = leaders().get(1)
    to = old % 3 + 1
    deadline = time.time() + 60
    while time.time() < deadline:
        ls = leaders()
        if ls and all(s == to for s in ls.values()):
            break
        for r in ls:
            if ls[r] != to:
                subprocess.run([pdctl, "--pd=" + pd, "--timeout=20000",
                                "operator", "add", "transfer-leader",
                                str(r), str(to)], capture_output=True)
        time.sleep(0.3)
    print("attempt", attempt, "leaders moved from store", old, "to", to,
          leaders())
    c2.execute("UPDATE lu SET v = v + 10 WHERE id = 1")
    c2.execute("COMMIT")                                 # T2: 1PC
    c1.execute("UPDATE lu SET v = %d WHERE id = 1" % (v1 + 1))
    try:
        c1.execute("COMMIT")
        t1 = "committed"
    except pymysql.MySQLError as e:
        t1 = "refused %d" % e.args[0]
    c0.execute("SELECT v FROM lu WHERE id = 1")
    v = c0.fetchone()[0]
    print("attempt", attempt, "T1", t1, "v", v, "want", v1 + 10)
    if t1 == "committed" or v != v1 + 10:
        print("LOST UPDATE")
        sys.exit(1)
print("LU OK")
PY
sed 's/^/    /' "$T_TMP/lu.out"
t_expect_grep "outcome" "LU OK" "$T_TMP/lu.out"

t_case "1PC was used: prewrites answered without a commit"
pw=0; cm=0
for i in 1 2 3; do
    pw=$((pw + $(requests "$i" txn_prewrite)))
    cm=$((cm + $(requests "$i" txn_commit)))
    echo "    store $i: max_ts syncs $(metric "$i" kvd_max_ts_syncs_total)," \
        "async/1PC prewrites refused before one" \
        "$(metric "$i" kvd_max_ts_refused_total)"
done
echo "    prewrites $pw, commits $cm (the live stores' counters)"
[ $((pw - cm)) -ge 10 ] || t_fail "prewrites $pw commits $cm: no 1PC"
t_case "the restarted store raised max_ts from the TSO before leading"
n=$(metric "$VICTIM" kvd_max_ts_syncs_total)
[ "$n" -ge 1 ] || t_fail "store $VICTIM: $n max_ts syncs"

t_case "sqld stops cleanly"
kill -TERM "$T_SQLD_PID"
t_wait_exit "$T_SQLD_PID" 60 || t_fail "sqld did not stop"
t_expect_eq "exit status" "$T_RC" 0

t_end

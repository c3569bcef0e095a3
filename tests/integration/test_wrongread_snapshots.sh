#!/usr/bin/env bash
# test_wrongread_snapshots.sh: every snapshot a full scan reads is one
# that existed, while regions split under the scans and kvd die (ports in
# 20500-20980). A bank workload (threads moving money between 32 accounts
# and recording each transfer in a second table) runs on three kvd that
# split a region every 4 KiB written; checker threads read, each in one
# transaction (one start_ts), every account and every transfer, through
# each read path a full scan takes: the KV scan (no WHERE), forward and
# reverse (ORDER BY id DESC), the coprocessor's paged row scan (a pushed
# WHERE), the same descending, and the coprocessor's aggregates. In every snapshot
# each balance must be what the transfers in that same snapshot make it,
# and the counts and sums must agree with the rows. Meanwhile the leader
# of region 1 is killed with -9 and restarted, three times, and pdd is
# asked to move leaders, so reads meet NotLeader, EpochNotMatch, lost
# connections and retries in the middle of their paging. The snapshot
# check does not depend on which transfers a failed COMMIT left behind:
# it needs no knowledge from the clients, only the rows read together.
. "$(dirname "$0")/lib.sh"

t_cluster_ports 20500 20980
T_KVD_ARGS=(--split.region-size=4KiB)

leader_store() { # the store leading region 1, as pdd knows it
    "${PDCTL[@]}" region 2>/dev/null |
        sed -n 's/^region 1 .* leader [0-9]*\([0-9]\) .*/\1/p'
}

t_case "the cluster starts: pdd, three kvd, sqld"
t_start_cluster

t_case "snapshots stay consistent while regions split and kvd die"
PYTHONPATH="$(dirname "$0")" /usr/bin/python3 - "$SQLPORT" "$T_TMP" >"$T_TMP/snap.out" 2>&1 <<'PY' &
import os, random, sys, threading, time
import pymysql
import bankfx

port, tmp = int(sys.argv[1]), sys.argv[2]
N, START, THREADS = 32, 1000, 4

def conn():
    return bankfx.connect(port)

c = conn()
cur = c.cursor()
bankfx.create(cur, N, START)

lock = threading.Lock()
stats = {"committed": 0, "errors": 0}
checks = {}          # read path -> snapshots checked
bad = []             # (read path, what was wrong)
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
            a, b = rnd.sample(range(N), 2)
            amt = rnd.randint(1, 50)
            cur = c.cursor()
            cur.execute("BEGIN")
            cur.execute("UPDATE accounts SET balance = balance - %d "
                        "WHERE id = %d" % (amt, a))
            cur.execute("UPDATE accounts SET balance = balance + %d "
                        "WHERE id = %d" % (amt, b))
            cur.execute("INSERT INTO transfers VALUES (%d, %d, %d, %d)" %
                        (w * 1000000 + seq, a, b, amt))
            cur.execute("COMMIT")
            with lock:
                stats["committed"] += 1
                n = stats["committed"]
                if n % 10 == 0: # whole, for the script to read
                    pf = os.path.join(tmp, "snap.progress")
                    with open(pf + ".new", "w") as f:
                        f.write("%d\n" % n)
                    os.replace(pf + ".new", pf)
        except pymysql.MySQLError:
            with lock:
                stats["errors"] += 1
            try:
                c.cursor().execute("ROLLBACK")
            except Exception:
                c = None

# Each read path: the statements of one snapshot. Accounts and transfers
# come back as rows; the aggregates as one row each.
PATHS = {
    "kv scan": ("SELECT id, balance FROM accounts",
                "SELECT id, src, dst, amount FROM transfers", None),
    "kv scan desc": ("SELECT id, balance FROM accounts ORDER BY id DESC",
                     "SELECT id, src, dst, amount FROM transfers "
                     "ORDER BY id DESC", None),
    "cop rows": ("SELECT id, balance FROM accounts WHERE balance > -1000000000",
                 "SELECT id, src, dst, amount FROM transfers WHERE amount > 0",
                 None),
    "cop rows desc": (
        "SELECT id, balance FROM accounts WHERE balance > -1000000000 "
        "ORDER BY id DESC",
        "SELECT id, src, dst, amount FROM transfers WHERE amount > 0 "
        "ORDER BY id DESC", None),
    "cop agg": ("SELECT id, balance FROM accounts",
                "SELECT id, src, dst, amount FROM transfers",
                ("SELECT SUM(balance), COUNT(*) FROM accounts",
                 "SELECT SUM(amount), COUNT(*), SUM(src), SUM(dst) "
                 "FROM transfers")),
}

def check_snapshot(name, accts, xfers, aggs):
    bal = dict(accts)
    want = {i: START for i in range(N)}
    rows = {}
    for tid, src, dst, amt in xfers:
        if tid in rows:
            return "transfer %d read twice" % tid
        rows[tid] = (src, dst, amt)
        want[src] -= amt
        want[dst] += amt
    if len(bal) != len(accts):
        return "an account read twice"
    if bal != want:
        diff = {i: (bal.get(i), want[i]) for i in want if bal.get(i) != want[i]}
        return "balances disagree with %d transfers: %s" % (
            len(rows), sorted(diff.items())[:6])
    if aggs is not None:
        s, n = aggs[0]
        if (int(s), int(n)) != (N * START, N):
            return "accounts aggregate %r" % (aggs[0],)
        s, n, ss, sd = aggs[1]
        exp = (sum(r[2] for r in rows.values()), len(rows),
               sum(r[0] for r in rows.values()),
               sum(r[1] for r in rows.values()))
        got = (int(s or 0), int(n), int(ss or 0), int(sd or 0))
        if got != exp:
            return "transfers aggregate %r, rows say %r" % (got, exp)
    return None

def read_snapshot(c, name):
    """One transaction: the path's rows and aggregates."""
    acct_q, xfer_q, agg_q = PATHS[name]
    cur = c.cursor()
    cur.execute("BEGIN")
    try:
        cur.execute(acct_q)
        accts = list(cur.fetchall())
        cur.execute(xfer_q)
        xfers = list(cur.fetchall())
        aggs = None
        if agg_q:
            aggs = []
            for q in agg_q:
                cur.execute(q)
                aggs.append(cur.fetchone())
        cur.execute("COMMIT")
    except pymysql.MySQLError:
        try:
            cur.execute("ROLLBACK")
        except Exception:
            pass
        raise
    return accts, xfers, aggs

def check_once(c, name):
    accts, xfers, aggs = read_snapshot(c, name)
    why = check_snapshot(name, accts, xfers, aggs)
    with lock:
        checks[name] = checks.get(name, 0) + 1
        if why:
            bad.append((name, why))

def checker(name):
    c = None
    while not stop.is_set():
        try:
            if c is None:
                c = conn()
                c.cursor().execute("USE bank")
            check_once(c, name)
        except pymysql.MySQLError:
            c = None

ts = [threading.Thread(target=worker, args=(w,)) for w in range(THREADS)]
ts += [threading.Thread(target=checker, args=(n,)) for n in PATHS]
for t in ts:
    t.start()
open(os.path.join(tmp, "snap.ready"), "w").close()
done_file = os.path.join(tmp, "snap.done")
deadline = time.time() + 400
while not os.path.exists(done_file) and time.time() < deadline:
    time.sleep(0.1)
stop.set()
for t in ts:
    t.join()
# a last snapshot of each path, every kvd up (errors: try again)
final = {}
for name in PATHS:
    for attempt in range(20):
        try:
            c = conn()
            c.cursor().execute("USE bank")
            check_once(c, name)
            final[name] = True
            break
        except pymysql.MySQLError as e:
            final[name] = str(e)
print("committed", stats["committed"], "errors", stats["errors"])
print("checks", sorted(checks.items()))
for name in PATHS:
    if final.get(name) is not True:
        print("no final snapshot of", name + ":", final.get(name))
if bad:
    print("bad", sorted((n, sum(1 for b in bad if b[0] == n))
                        for n in set(b[0] for b in bad)))
for name, why in bad[:10]:
    print("BAD", name + ":", why)
ok = not bad and all(final.get(n) is True for n in PATHS) and \
    stats["committed"] > 0
print("SNAPSHOTS", "OK" if ok else "FAILED")
PY
SNAP=$!
# progress: transfers committed so far (the workers write it every 10)
progress() {
    local n
    n=$(cat "$T_TMP/snap.progress" 2>/dev/null)
    echo "${n:-0}"
}
# wait_progress N SECS: until N more transfers commit (false on timeout)
wait_progress() {
    local from want deadline=$((SECONDS + $2))
    from=$(progress)
    want=$((from + $1))
    while [ "$(progress)" -lt "$want" ]; do
        [ $SECONDS -ge $deadline ] && return 1
        kill -0 "$SNAP" 2>/dev/null || return 1
        sleep 0.1
    done
}
# A round that made little progress (which does not fail the case: the
# snapshots are what it checks) says where sqld waited: the frames of its
# threads in libmvcc's client (a backoff's attempt count shows a long
# wait) and the end of its log. Seen twice in `make test` in session 26
# (120 s of round 3 with a store down), never when run alone.
stalled() { # message
    echo "    $1"
    if command -v gdb >/dev/null 2>&1; then
        # one line per kind of thread: its innermost frames (not libc's
        # inner ones), a backoff's attempt, how many threads are there
        timeout 30 gdb -p "$T_SQLD_PID" -batch -nx -ex "thread apply all bt 8" \
            </dev/null 2>/dev/null | awk '
            function flush() { if (line != "") print line; line = "" }
            /^Thread / { flush(); n = 0; next }
            /^#[0-9]/ {
                f = $0; sub(/ \(.*/, "", f); sub(/.* in /, "", f)
                sub(/^#[0-9]+ +/, "", f)
                if (f ~ /^(__|\?\?)/)
                    next # inner frames of the C library
                if (match($0, /attempt=[0-9]+/))
                    f = f "[" substr($0, RSTART, RLENGTH) "]"
                if (n++ < 6) line = line (line == "" ? "" : " < ") f
            }
            END { flush() }' | sort | uniq -c | sed 's/^/      sqld:/'
    fi
    tail -n 15 "$T_TMP/sqld.log" | sed 's/^/      sqld.log: /'
    # region 1 (the catalog's) as pdd and each kvd last saw it
    "${PDCTL[@]}" region 2>/dev/null | grep '^region 1 ' | sed 's/^/      pd: /'
    local i
    for i in 1 2 3; do
        grep -E 'region 1([^0-9]|$)' "$T_TMP/kvd$i.log" 2>/dev/null |
            tail -n 6 | sed "s/^/      kvd$i.log: /"
    done
}
for _ in $(seq 1 1200); do
    [ -e "$T_TMP/snap.ready" ] || ! kill -0 "$SNAP" 2>/dev/null && break
    sleep 0.1
done
[ -e "$T_TMP/snap.ready" ] || t_fail "the workload did not start"
wait_progress 40 120 || t_fail "no transfers before the first kill"
for round in 1 2 3; do
    VICTIM=$(leader_store)
    case "$VICTIM" in 1|2|3) ;; *) VICTIM=$((round % 3 + 1)) ;; esac
    kill -9 "${T_KVD_PID[$VICTIM]}"
    wait "${T_KVD_PID[$VICTIM]}" 2>/dev/null
    wait_progress 20 120 ||
        stalled "round $round: few transfers with store $VICTIM down"
    t_start_kvd "$VICTIM"
    # pdd counts a store up for a while after it exits: the kvd itself
    # must answer. One that did not open (libregion before 0.21.1, after a
    # kill right behind a split) stalled the next round 120 s instead.
    back=""
    for _ in $(seq 1 600); do
        st=$(ps -o stat= -p "${T_KVD_PID[$VICTIM]}" 2>/dev/null) &&
            [ "${st#Z}" = "$st" ] || break # exited (a zombie until waited)
        "$BIN/kvd" ctl "--addr=127.0.0.1:$(t_port "$VICTIM")" --timeout=5 \
            status >/dev/null 2>&1 && { back=1; break; }
        sleep 0.1
    done
    if [ -z "$back" ]; then
        t_fail "round $round: kvd $VICTIM did not come back: $(grep -E \
            'ERROR|FATAL' "$T_TMP/kvd$VICTIM.log" | tail -n 3)"
        break
    fi
    got=$(t_wait_output 3 60 t_stores_up) || t_fail "stores up: '$got'"
    # move every region's leader to the store that came back
    for r in $("${PDCTL[@]}" region 2>/dev/null |
               sed -n 's/^region \([0-9]*\) .*/\1/p'); do
        "${PDCTL[@]}" operator add transfer-leader "$r" "$VICTIM" \
            >/dev/null 2>&1
    done
    wait_progress 30 120 ||
        stalled "round $round: few transfers after store $VICTIM came back"
done
touch "$T_TMP/snap.done"
t_wait_exit "$SNAP" 300 || t_fail "the workload did not finish"
sed 's/^/    /' "$T_TMP/snap.out"
t_expect_grep "snapshots" "SNAPSHOTS OK" "$T_TMP/snap.out"
n=$("${PDCTL[@]}" region 2>/dev/null | grep -c '^region ')
echo "    $n regions"
[ "$n" -gt 3 ] || t_fail "regions: $n (the tables should have split)"

t_end

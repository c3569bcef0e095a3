#!/usr/bin/env bash
# test_cluster_gc.sh: MVCC GC on the cluster (libsql/DESIGN.md "GC",
# libregion/DESIGN.md "GC"). One pdd, three kvd asking pdd for the GC
# safe point every 200 ms, sqld keeping no history (gc.life-time 0) with
# a round every 300 ms: sqld holds its snapshots as a PD service safe
# point and publishes the GC safe point; every kvd removes a row's old
# versions from its own store and the row reads back; once a sweep
# skipped the region (nothing written since its last sweep), later ones
# read no record until a write makes them read it again; an open
# transaction's snapshot is held through the rounds; a second sqld with
# GC off holds nothing, and its transaction's read below the safe point
# gets a clear error (9006) instead of rows with versions missing; with
# pdd away every kvd counts its failed polls, and GC goes on once pdd is
# back.
. "$(dirname "$0")/lib.sh"

t_cluster_ports 32000 32380
HTTP=127.0.0.1:$((BASE + 9))
SQL2=$((BASE + 16))
T_KVD_STATUS=4
T_KVD_ARGS=(--gc.poll-interval=200ms)
T_SQLD_ARGS=(--gc.life-time=0s --gc.run-interval=300ms --status-listen="$HTTP")
my() { mariadb -h 127.0.0.1 -P "${2:-$SQLPORT}" -u root --skip-ssl --connect-timeout=30 -N -e "$1" 2>&1; }
kmetric() { # kmetric I NAME: kvd I's value of NAME (0 if absent)
    curl -sf "http://127.0.0.1:$((BASE + 4 + $1))/metrics" |
        awk -v m="$2" 'BEGIN {v = 0} $1 == m {v = $2} END {print v}'
}
smetric() { curl -sf "http://$HTTP/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# grows NAME BY WHY: runs WHY (a command), then waits until every kvd's
# metric NAME is at least BY above what it was before (60 s); fails the
# case naming the kvd that fell short
grows() {
    local name=$1 by=$2 i was=()
    shift 2
    for i in 1 2 3; do was[$i]=$(kmetric $i "$name"); done
    "$@"
    for i in 1 2 3; do
        for _ in $(seq 1 600); do
            [ "$(kmetric $i "$name")" -ge $((was[i] + by)) ] && continue 2
            sleep 0.1
        done
        t_fail "kvd$i: $name $(kmetric $i "$name"), before ${was[i]}"
        return 1
    done
}
# update_row1 N: row 1 set to 1 .. N, one statement each (N versions)
update_row1() {
    local ups="" i
    for i in $(seq 1 "$1"); do ups="$ups UPDATE d.t SET v = $i WHERE id = 1;"; done
    t_expect_eq "updates" "$(my "$ups")" ""
}

t_case "the cluster starts: pdd, three kvd, sqld with GC every 300 ms"
t_start_cluster

t_case "every kvd removes an updated row's old versions"
my "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v INT); INSERT INTO d.t VALUES (1, 0), (2, 0)" >/dev/null
# row 1 gets 21 versions: 20 go on each replica (more, for the
# catalog's own keys, may go with them)
grows kvd_gc_versions_removed_total 20 update_row1 20
t_expect_eq "value" "$(my 'SELECT v FROM d.t WHERE id = 1')" 20
t_expect_eq "sum" "$(my 'SELECT SUM(v) FROM d.t')" 20
sp=$("${PDCTL[@]}" gc 2>&1)
t_expect_eq "pd's safe point is set" "$([ "$sp" -gt 0 ] 2>/dev/null && echo set)" set
t_expect_eq "kvd errors" "$(kmetric 1 kvd_gc_errors_total) $(kmetric 2 kvd_gc_errors_total) $(kmetric 3 kvd_gc_errors_total)" "0 0 0"
t_expect_eq "sqld errors" "$(smetric sqld_gc_errors_total)" 0
t_expect_eq "sqld removes nothing itself" "$(smetric sqld_gc_versions_removed_total)" 0
grep -q "GC: safe point" "$T_TMP/kvd1.log" || t_fail "no GC line in kvd1's log"

t_case "a sweep skips a region nothing was written to since; a write brings it back"
# once a sweep skipped the region, the next ones read nothing more
grows kvd_gc_regions_skipped_total 1 true
rec=()
for i in 1 2 3; do rec[$i]=$(kmetric $i kvd_gc_records_read_total); done
grows kvd_gc_regions_skipped_total 3 true
for i in 1 2 3; do
    t_expect_eq "kvd$i records read by sweeps meanwhile" \
        "$(kmetric $i kvd_gc_records_read_total)" "${rec[$i]}"
done
# a write: the next sweep reads the region again
insert_u() { t_expect_eq "insert" "$(my 'CREATE TABLE d.u (id INT PRIMARY KEY); INSERT INTO d.u VALUES (1)')" ""; }
grows kvd_gc_regions_swept_total 1 insert_u
for i in 1 2 3; do
    n=$(kmetric $i kvd_gc_records_read_total)
    [ "$n" -gt "${rec[$i]}" ] || t_fail "kvd$i: records read $n, before ${rec[$i]}"
done

t_case "an open transaction keeps its snapshot; one of a sqld without GC is refused"
"$BIN/sqld" --data-dir="$T_TMP/sqld2" --log.file="$T_TMP/sqld2.log" \
    --listen="127.0.0.1:$SQL2" --store=cluster --pd="$PD" \
    --gc.run-interval=0 &
SQLD2_PID=$!
T_PIDS+=("$SQLD2_PID")
t_wait_for_grep "serving MySQL on" "$T_TMP/sqld2.log" 60 || t_fail "sqld2 did not start"
out=$(/usr/bin/python3 - "$SQLPORT" "$SQL2" "$BASE" <<'PY'
import sys, time, urllib.request
import pymysql
p1, p2, base = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def kvd_sp():
    v = []
    for i in (1, 2, 3):
        for line in urllib.request.urlopen(f"http://127.0.0.1:{base + 4 + i}/metrics").read().decode().splitlines():
            if line.startswith("kvd_gc_safe_point "):
                v.append(int(line.split()[1]))
    return min(v)
held = pymysql.connect(host="127.0.0.1", port=p1, user="root", autocommit=False)
bare = pymysql.connect(host="127.0.0.1", port=p2, user="root", autocommit=False)
w = pymysql.connect(host="127.0.0.1", port=p1, user="root", autocommit=True)
ch, cb, cw = held.cursor(), bare.cursor(), w.cursor()
ch.execute("BEGIN")
ch.execute("SELECT SUM(v) FROM d.t")
first = int(ch.fetchone()[0])
cb.execute("BEGIN")
cb.execute("SELECT SUM(v) FROM d.t")
bare_first = int(cb.fetchone()[0])
for i in range(5):
    cw.execute(f"UPDATE d.t SET v = {100 + i} WHERE id = 2")
time.sleep(2)  # several rounds on sqld and polls on every kvd
ch.execute("SELECT SUM(v) FROM d.t")
again = int(ch.fetchone()[0])
held.commit()
# sqld2 holds nothing: once every kvd's safe point passed the updates,
# its transaction's snapshot is below it
cw.execute("SELECT SUM(v) FROM d.t")
now = int(cw.fetchone()[0])
sp0 = kvd_sp()
deadline = time.time() + 30
while kvd_sp() == sp0 and time.time() < deadline:
    time.sleep(0.1)
try:
    cb.execute("SELECT SUM(v) FROM d.t")
    refused = "read %s" % cb.fetchone()[0]
except pymysql.MySQLError as e:
    refused = ("9006" if e.args[0] == 9006 and
               "below the GC safe point" in e.args[1] else str(e))
bare.rollback()
cb.execute("BEGIN")
cb.execute("SELECT SUM(v) FROM d.t")
fresh = int(cb.fetchone()[0])
bare.commit()
print(first, again, bare_first, refused, now, fresh)
PY
)
# held through the rounds: 20 twice; sqld2's old snapshot (20) refused
# with TiDB's error 9006; a new transaction there reads 20 + 104
t_expect_eq "snapshots" "$out" "20 20 20 9006 124 124"

t_case "with pdd away every kvd counts its failed GC polls; back, GC goes on"
stop_pdd() { kill "$T_PD_PID" && wait "$T_PD_PID" || t_fail "pdd exited with $?"; }
# a poll every 200 ms, each refused at once (nothing listens)
grows kvd_gc_errors_total 3 stop_pdd
t_start_pdd
got=$(t_wait_output 3 60 t_stores_up) || t_fail "stores up after pdd came back: '$got'"
grows kvd_gc_versions_removed_total 5 update_row1 5
t_expect_eq "value" "$(my 'SELECT v FROM d.t WHERE id = 1')" 5
grep -q "pd: no GC safe point" "$T_TMP/kvd1.log" ||
    t_fail "kvd1 did not say why it had no GC safe point"

t_case "the daemons stop cleanly"
kill "$SQLD2_PID" && wait "$SQLD2_PID" || t_fail "sqld2 exited with $?"
t_stop_cluster || t_fail "did not stop: $T_STOP_BAD"

t_end

#!/usr/bin/env bash
# test_sqld_gc.sh: sqld's MVCC GC on its embedded store (libsql/DESIGN.md
# "GC"), with no history kept (gc.life-time 0) and a round every 200 ms:
# a row's old versions are removed and its value stays; an open
# transaction keeps reading its snapshot while GC runs, and its versions
# go once it ends. Counted through /metrics.
. "$(dirname "$0")/lib.sh"

t_pick_base 31800 31980
SQL=$((T_BASE + 1))
HTTP=127.0.0.1:$((T_BASE + 2))
my() { mariadb -h 127.0.0.1 -P "$SQL" -u root --connect-timeout=30 -N -e "$1" 2>&1; }
metric() { curl -sf "http://$HTTP/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# until metric $1 is at least $2
wait_metric_ge() {
    local v
    for _ in $(seq 1 300); do
        v=$(metric "$1")
        [ -n "$v" ] && [ "$v" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

t_case "old versions of an updated row are removed"
"$BIN/sqld" --data-dir="$T_TMP/sqld" --listen=127.0.0.1:$SQL --store=local \
    --status-listen="$HTTP" --gc.life-time=0s --gc.run-interval=200ms \
    --log.file="$T_TMP/sqld.log" &
T_PIDS+=($!)
t_wait_for_grep "serving MySQL" "$T_TMP/sqld.log" 30 || t_fail "no MySQL port"
t_wait_for_grep "serving HTTP status on $HTTP" "$T_TMP/sqld.log" 30 || t_fail "no status port"
my "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY, v INT); INSERT INTO d.t VALUES (1, 0)" >/dev/null
wait_metric_ge sqld_gc_runs_total 1 || t_fail "no GC round"
before=$(metric sqld_gc_versions_removed_total)
ups=""
for i in $(seq 1 20); do ups="$ups UPDATE d.t SET v = $i WHERE id = 1;"; done
t_expect_eq "updates" "$(my "$ups")" ""
# the row had 21 versions: 20 go
wait_metric_ge sqld_gc_versions_removed_total $((before + 20)) ||
    t_fail "removed: $(metric sqld_gc_versions_removed_total), before $before"
t_expect_eq "value" "$(my 'SELECT v FROM d.t WHERE id = 1')" 20
t_expect_eq "errors" "$(metric sqld_gc_errors_total)" 0
t_expect_eq "safe point" "$([ "$(metric sqld_gc_safe_point)" -gt 0 ] && echo set)" set
grep -q "GC: safe point" "$T_TMP/sqld.log" || t_fail "no GC line in the log"

t_case "an open transaction keeps its snapshot through GC rounds"
out=$(/usr/bin/python3 - "$SQL" "$HTTP" <<'PY'
import sys, time, urllib.request
import pymysql
port, http = int(sys.argv[1]), sys.argv[2]
def removed():
    for line in urllib.request.urlopen(f"http://{http}/metrics").read().decode().splitlines():
        if line.startswith("sqld_gc_versions_removed_total "):
            return int(line.split()[1])
a = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=False)
b = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
ca, cb = a.cursor(), b.cursor()
ca.execute("BEGIN")
ca.execute("SELECT v FROM d.t WHERE id = 1")
first = ca.fetchone()[0]
for i in range(5):
    cb.execute(f"UPDATE d.t SET v = {100 + i} WHERE id = 1")
r0 = removed()
time.sleep(1.5)  # several rounds
ca.execute("SELECT v FROM d.t WHERE id = 1")
again = ca.fetchone()[0]
held = removed() - r0
a.commit()
deadline = time.time() + 30
while removed() - r0 < 5 and time.time() < deadline:
    time.sleep(0.1)
cb.execute("SELECT v FROM d.t WHERE id = 1")
print(first, again, held, removed() - r0 >= 5, cb.fetchone()[0])
PY
)
# the snapshot (20) is read twice; nothing of the row went while it was
# open; its version and the 4 between go after (5), and 104 stays
t_expect_eq "snapshot" "$out" "20 20 0 True 104"

t_end

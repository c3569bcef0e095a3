#!/usr/bin/env bash
# test_fast_reads.sh: the point read fast path end to end (ports in
# 24700-24980): one pdd, three kvd, sqld --store=cluster. Autocommit
# point selects ask PD for no timestamp (sqld's TSO counter moves only
# by its background schema reads) and are answered by the leader kvd under its lease on its loop
# thread (its reads_inline counter moves); inside BEGIN they take a
# timestamp as before. Range scans and aggregates are read under the
# lease too, on kvd's txn workers. Then a writer and a reader on two connections
# alternate on one row while the leader kvd is killed -9: every read
# that follows an acknowledged write returns exactly that write (a stale
# read by a deposed leader would return the one before).
# libsql/DESIGN.md "Point reads", libregion/DESIGN.md "Reads".
. "$(dirname "$0")/lib.sh"

t_cluster_ports 24700 24980
port() { t_port "$@"; }
T_KVD_STATUS=16
T_SQLD_ARGS=(--status-listen="127.0.0.1:$(port 16)")

t_case "the cluster starts and sqld serves on it"
t_start_cluster

# tso: sqld's timestamp requests so far; inline: the kvd's reads answered
# under the lease on their loop thread, summed.
tso() {
    curl -s "http://127.0.0.1:$(port 16)/metrics" |
        sed -n 's/^sqld_pd_tso_requests_total //p'
}
inline() {
    local sum=0 i v
    for i in 1 2 3; do
        v=$(curl -s "http://127.0.0.1:$(port $((16 + i)))/status" |
            sed -n 's/.*"reads_inline":\([0-9]*\).*/\1/p')
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}
# leader_store: the kvd leading the most regions (the table's, here).
leader_store() {
    local best=1 most=-1 i n
    for i in 1 2 3; do
        n=$(curl -s "http://127.0.0.1:$(port $((16 + i)))/status" |
            sed -n 's/.*"leaders":\([0-9]*\).*/\1/p')
        [ "${n:-0}" -gt "$most" ] && { most=${n:-0}; best=$i; }
    done
    echo "$best"
}
SQL=(mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --batch --skip-column-names)
# answers NAME: the statements of $T_TMP/NAME.sql run, their answers
# counted ("33x10 34x20 " ...), or the client's error
answers() {
    if "${SQL[@]}" <"$T_TMP/$1.sql" >"$T_TMP/$1.out" 2>&1; then
        sort "$T_TMP/$1.out" | uniq -c | awk '{print $1 "x" $2}' | tr '\n' ' '
    else
        echo "failed: $(tail -3 "$T_TMP/$1.out")"
    fi
}

t_case "autocommit point selects take no timestamp and are read inline"
"${SQL[@]}" -e "CREATE DATABASE f; CREATE TABLE f.t (id INT PRIMARY KEY, v INT);
    INSERT INTO f.t VALUES (1, 10), (2, 20), (3, 30)" >"$T_TMP/setup.out" 2>&1 ||
    t_fail "setup: $(cat "$T_TMP/setup.out")"
"${SQL[@]}" -e "SELECT v FROM f.t WHERE id = 1" >/dev/null 2>&1 # warm caches
t0=$(tso)
i0=$(inline)
for i in $(seq 1 100); do
    echo "SELECT v FROM f.t WHERE id = $((i % 3 + 1));"
done >"$T_TMP/points.sql"
t_expect_eq "answers" "$(answers points)" "33x10 34x20 33x30 "
t1=$(tso)
i1=$(inline)
# the slow path takes a timestamp per statement (100 or more); sqld's
# schema lease reads take a few of their own meanwhile
[ "$((t1 - t0))" -lt 50 ] ||
    t_fail "$((t1 - t0)) TSO requests for 100 point selects"
[ "$((i1 - i0))" -ge 1 ] ||
    t_fail "no read was answered inline (reads_inline $i0 -> $i1)"

t_case "range scans and aggregates are read under the lease on kvd's workers"
i0=$(inline)
for i in $(seq 1 50); do
    echo "SELECT v FROM f.t WHERE id BETWEEN 1 AND 3 ORDER BY v;"
    echo "SELECT SUM(v) FROM f.t WHERE id BETWEEN 2 AND 3;"
done >"$T_TMP/ranges.sql"
t_expect_eq "answers" "$(answers ranges)" "50x10 50x20 50x30 50x50 "
i1=$(inline)
# one Scan or coprocessor request each, read on a worker under the
# lease (a read index round through the loop only when the lease
# lapsed); before, none of them were
[ "$((i1 - i0))" -ge 90 ] ||
    t_fail "$((i1 - i0)) of 100 range reads were answered under the lease"

t_case "inside BEGIN a point select takes a timestamp"
t0=$(tso)
out=$("${SQL[@]}" -e "BEGIN; SELECT v FROM f.t WHERE id = 2; COMMIT" 2>&1)
t_expect_eq "answer" "$out" 20
t1=$(tso)
[ "$((t1 - t0))" -ge 1 ] || t_fail "BEGIN's point select took no timestamp"

t_case "reads after acknowledged writes across a leader kill -9"
# pdd's map lists every replica once the leader has reported them
replicas() { "${PDCTL[@]}" region 2>/dev/null | grep -o '[0-9]*@[0-9]*' | wc -l; }
got=$(t_wait_output 3 60 replicas) || t_fail "pdd lists $got replicas, not 3"
victim=$(leader_store)
/usr/bin/python3 - "$SQLPORT" "${T_KVD_PID[$victim]}" >"$T_TMP/rw.out" 2>&1 <<'PY'
import os, signal, sys, time
import pymysql

port, victim = int(sys.argv[1]), int(sys.argv[2])
def conn():
    return pymysql.connect(host="127.0.0.1", port=port, user="root",
                           database="f", autocommit=True,
                           connect_timeout=30, read_timeout=60)
w, r = conn(), conn()
stale = errors = checked = 0
deadline = time.monotonic() + 120

def until_done(c, sql):  # retried through the failover
    global errors
    while True:
        try:
            cur = c.cursor()
            cur.execute(sql)
            return cur.fetchone()
        except pymysql.MySQLError:
            errors += 1
            if time.monotonic() > deadline:
                sys.exit("no answer for " + sql)
            time.sleep(0.05)

for i in range(1, 301):
    if i == 100:
        os.kill(victim, signal.SIGKILL)
    until_done(w, "UPDATE t SET v = %d WHERE id = 1" % i)  # acknowledged
    got = until_done(r, "SELECT v FROM t WHERE id = 1")[0]  # then a read
    checked += 1
    if got != i:
        stale += 1
        print("read", got, "after write", i)
print("checked", checked, "stale", stale, "errors", errors)
PY
rc=$?
[ $rc -eq 0 ] || t_fail "workload failed: $(tail -3 "$T_TMP/rw.out")"
t_expect_grep "every read saw the write before it" "checked 300 stale 0" "$T_TMP/rw.out"

t_end

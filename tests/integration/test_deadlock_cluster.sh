#!/usr/bin/env bash
# test_deadlock_cluster.sh: a deadlock across two sqld (issue 9;
# daemons/kvd/README.md "Deadlock detection"; ports in 24500-24980). One
# pdd, three kvd, two sqld, pessimistic. Session A on sqld 1 locks row
# H-1 (a region led by one kvd), session B on sqld 2 locks row H (a
# region led by another), then each updates the other's row: neither
# sqld's own graph sees the cycle (each holds one edge) and the waits sit
# on two kvd, so before the cluster's detector (hosted by the first
# region's leader) both waited out innodb_lock_wait_timeout (1205). Now
# exactly one gets 1213, the other's UPDATE and COMMIT succeed, the rows
# show only the winner's change, and the host counted one deadlock. Then
# the first region's leadership moves to another kvd, which starts an
# empty graph and finds the same deadlock the next time.
. "$(dirname "$0")/lib.sh"

t_cluster_ports 24500 24980
T_SQLD_ARGS=(--txn-mode=pessimistic)
T_KVD_ARGS=(--split.region-size=64KiB)
T_KVD_STATUS=20
SQLPORT2=$(t_port 16)

# dl_sum FIELD [STORE...]: FIELD of the "deadlock" object of those kvd's
# /status (every kvd's by default), summed (true counts 1).
dl_sum() {
    local f=$1 ports=() i
    shift
    for i in "${@:-1 2 3}"; do
        for i in $i; do ports+=("$(t_port $((T_KVD_STATUS + i)))"); done
    done
    /usr/bin/python3 - "$f" "${ports[@]}" <<'PY'
import json, sys, urllib.request
n = 0
for port in sys.argv[2:]:
    with urllib.request.urlopen("http://127.0.0.1:%s/status" % port,
                                timeout=30) as r:
        n += int(json.load(r)["deadlock"][sys.argv[1]])
print(n)
PY
}

t_case "the cluster starts: pdd, three kvd, two sqld"
t_start_cluster
"$BIN/sqld" --data-dir="$T_TMP/sqld2" --log.file="$T_TMP/sqld2.log" \
    --listen="127.0.0.1:$SQLPORT2" --store=cluster --pd="$PD" \
    "${T_SQLD_ARGS[@]}" &
T_PIDS+=("$!")
t_wait_for_grep "serving MySQL on" "$T_TMP/sqld2.log" 60 ||
    t_fail "sqld 2 did not start"

t_case "rows of dl.t in two regions led by two kvd"
# 400 rows of 1 KB fill regions of 64 KiB (T_KVD_ARGS)
{
    echo "CREATE DATABASE dl;"
    echo "CREATE TABLE dl.t (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(1000) NOT NULL);"
    for b in $(seq 0 40 360); do
        printf 'INSERT INTO dl.t VALUES %s;\n' \
            "$(seq $((b + 1)) $((b + 40)) | sed "s/.*/(&, 0, REPEAT('y', 1000))/" | paste -sd,)"
    done
} | mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --skip-ssl 2>&1
t_expect_eq "rows seen by sqld 2" \
    "$(mariadb -h 127.0.0.1 -P "$SQLPORT2" -u root --skip-ssl -N -B \
        -e "SELECT COUNT(*) FROM dl.t" 2>&1)" 400
t_rows_apart dl.t
H=$T_ROW2

t_case "A on sqld 1 and B on sqld 2 wait for each other: one 1213, one commit"
before=$(dl_sum host_deadlocks)
got=$(/usr/bin/python3 "$(dirname "$0")/crossfx.py" "$SQLPORT" "$SQLPORT2" dl.t "$H" 2>&1)
t_expect_eq "answers (one deadlock, one commit)" "$got" "1213 ok changed: True"
t_expect_eq "deadlocks the cluster's detector found" \
    "$(($(dl_sum host_deadlocks) - before))" 1
t_expect_eq "kvd hosting the detector" "$(dl_sum hosting)" 1

t_case "the host moves with the first region's leader; the new one finds it"
# "REGION LEADER_STORE" of the region holding the first key
first() {
    "${PDCTL[@]}" region key "" 2>/dev/null | awk '{
        for (i = 1; i < NF; i++) if ($i == "leader") l = $(i + 1)
        print $2, l % 1000 }'
}
read -r R1 S1 <<<"$(first)"
t_expect_eq "the host leads the first region" "$(dl_sum hosting "$S1")" 1
# a store neither hosting nor leading row H's region: if the first region
# holds row H-1, both rows stay on two kvd
for to in 1 2 3; do [ "$to" != "$S1" ] && [ "$to" != "$T_LEADER2" ] && break; done
t_move_leader "$R1" "$to" || t_fail "leader of $R1 not moved: $(first)"
starts=$(dl_sum host_starts "$to")
mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --skip-ssl \
    -e "UPDATE dl.t SET v = 0 WHERE id IN ($((H - 1)), $H)" 2>&1
got=$(/usr/bin/python3 "$(dirname "$0")/crossfx.py" "$SQLPORT2" "$SQLPORT" dl.t "$H" 2>&1)
t_expect_eq "answers (one deadlock, one commit)" "$got" "1213 ok changed: True"
t_expect_eq "store $to hosts" "$(dl_sum hosting "$to")" 1
t_expect_eq "store $to began an empty graph" \
    "$(($(dl_sum host_starts "$to") - starts))" 1
t_expect_eq "deadlocks store $to found" "$(dl_sum host_deadlocks "$to")" 1
t_rows_apart_end

t_case "the daemons stop cleanly (kvd with its detector's calls done)"
t_stop_cluster || t_fail "not a clean exit: $T_STOP_BAD"

t_end

#!/usr/bin/env bash
# test_store_version.sh: store versions and the cluster version (libpd
# DESIGN "Store versions") on real daemons: kvd registers its libmvcc
# version with pdd, pdd keeps the lowest as the cluster version (rising
# only, kept across a pdd restart) and refuses a kvd below it, and sqld
# locks a pessimistic transaction's index keys at COMMIT only while the
# cluster version is below 0.9.0 (libsql DESIGN "Why it stays"). The
# same for libregion's version (libpd 0.17): kvd takes a CAS with a TTL
# only once pdd's cluster libregion version is 0.33.0 (libregion DESIGN
# "Raw TTL"). The stores start as libmvcc 0.8.0 and libregion 0.32.0
# (kvd's pd.store-version and pd.store-region-version, for tests) and
# are upgraded one by one.
. "$(dirname "$0")/lib.sh"

t_cluster_ports 24500 24980
HTTP=127.0.0.1:$(t_port 16)
T_SQLD_ARGS=(--status-listen="$HTTP")
NEW=$(cat "$(dirname "$0")/../../libmvcc/VERSION") # what kvd links
NEWR=$(cat "$(dirname "$0")/../../libregion/VERSION")
KCTL=("$BIN/kvd" ctl "--pd=$PD" --timeout=60)

metric() { curl -sf "http://$HTTP/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
sql() { mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --skip-ssl -N -B -e "$1" 2>&1; }
versions() { "${PDCTL[@]}" store 2>/dev/null | sed -n 's/^store \([0-9]*\) .* version \([^ ]*\) libregion .*$/\1 \2/p'; }
region_versions() { "${PDCTL[@]}" store 2>/dev/null | sed -n 's/^store \([0-9]*\) .* libregion \(.*\)$/\1 \2/p'; }
cluster_version() { "${PDCTL[@]}" cluster 2>/dev/null | sed -n 's/^cluster version //p'; }
cluster_region_version() { "${PDCTL[@]}" cluster 2>/dev/null | sed -n 's/^cluster libregion version //p'; }
# A lease lock: CAS absent -> $1 living $2 seconds.
take() { "${KCTL[@]}" "--ttl=$2" cas lease - "$1" 2>&1; }
# One pessimistic transaction changing row 1's indexed k: it deletes one
# index entry and writes another.
bump() { sql "SET SESSION txn_mode = 'PESSIMISTIC'; BEGIN; UPDATE test.t SET k = k + 1 WHERE id = 1; COMMIT"; }
registered() { grep -c "pd: store $1 registered" "$T_TMP/kvd$1.log"; }

t_case "stores at 0.8.0: the cluster version is 0.8.0 and sqld locks index keys"
T_KVD_ARGS=(--pd.store-version=8000 --pd.store-region-version=32000)
t_start_cluster || exit 1
t_expect_eq "store versions" "$(versions)" "1 0.8.0
2 0.8.0
3 0.8.0"
t_expect_eq "cluster version" "$(cluster_version)" "0.8.0"
t_expect_eq "libregion versions" "$(region_versions)" "1 0.32.0
2 0.32.0
3 0.32.0"
t_expect_eq "cluster libregion version" "$(cluster_region_version)" "0.32.0"
t_expect_eq "a CAS with a TTL is refused, saying why" "$(take a 2)" \
    "error: CAS with a ttl needs libregion 0.33.0 or later on every store, and pdd's cluster libregion version is 0.32.0: upgrade the stores below it, then retry"
t_expect_eq "nothing written" "$("${KCTL[@]}" get lease 2>&1)" "not found"
sql "CREATE DATABASE test; CREATE TABLE test.t (id INT PRIMARY KEY, k INT, KEY (k)); INSERT INTO test.t VALUES (1, 10), (2, 20)" |
    grep . && t_fail "create"
t_expect_eq "no commit locked index keys yet" "$(metric sqld_index_lock_commits_total)" 0
out=$(bump)
t_expect_eq "bump" "$out" ""
t_expect_eq "one commit locked its index keys" "$(metric sqld_index_lock_commits_total)" 1
t_expect_eq "two keys (the old entry and the new)" "$(metric sqld_index_keys_locked_total)" 2
t_expect_eq "sqld heard 0.8.0" "$(metric sqld_cluster_version)" 8000

t_case "a rolling upgrade raises the cluster version once the last store is new"
T_KVD_ARGS=()
for i in 1 2 3; do
    kill "${T_KVD_PID[$i]}"
    t_wait_exit "${T_KVD_PID[$i]}" 60 || t_fail "kvd $i did not stop"
    t_start_kvd "$i"
    got=$(t_wait_output 2 60 registered "$i") || t_fail "kvd $i registered: $got"
    if [ "$i" -lt 3 ]; then
        t_expect_eq "after store $i" "$(cluster_version)" "0.8.0"
        t_expect_eq "libregion after store $i" "$(cluster_region_version)" "0.32.0"
    fi
done
t_expect_eq "store versions" "$(versions)" "1 $NEW
2 $NEW
3 $NEW"
got=$(t_wait_output "$NEW" 30 cluster_version) || t_fail "cluster version: '$got'"
t_expect_grep "pdd logged the rise" "cluster version $NEW" "$T_TMP/pd1.log"
t_expect_eq "libregion versions" "$(region_versions)" "1 $NEWR
2 $NEWR
3 $NEWR"
got=$(t_wait_output "$NEWR" 30 cluster_region_version) || t_fail "cluster libregion version: '$got'"
t_expect_grep "pdd logged that rise" "cluster's libregion version $NEWR" "$T_TMP/pd1.log"
got=$(t_wait_output 3 60 t_stores_up) || t_fail "stores up: '$got'"

t_case "on new stores a CAS with a TTL takes a lease, held until it expires"
# the leader hears the rise at its next heartbeat round (200 ms here)
got=$(t_wait_output "swapped previous=(none)" 30 take a 2) || t_fail "take: '$got'"
t_expect_eq "a second taker is turned away" "$(take b 2)" "unchanged previous=a"
case "$("${KCTL[@]}" ttl lease 2>&1)" in 1|2) ;; *) t_fail "ttl: $("${KCTL[@]}" ttl lease 2>&1)" ;; esac
sleep 2.5
t_expect_eq "expired, it is taken again" "$(take b 60)" "swapped previous=(none)"
t_expect_eq "by b" "$("${KCTL[@]}" get lease 2>&1)" "b"

t_case "on new stores sqld stops locking index keys at COMMIT"
# sqld asks pdd again (at most once a second) while what it heard is
# below 0.9.0, on the next pessimistic write of an index key
before=$(metric sqld_index_lock_commits_total)
heard() { bump >/dev/null; metric sqld_cluster_version; }
want=$(awk -v v="$NEW" 'BEGIN { split(v, a, "."); print a[1] * 1000000 + a[2] * 1000 + a[3] }')
got=$(t_wait_output "$want" 60 heard) || t_fail "sqld heard: '$got'"
locked=$(metric sqld_index_lock_commits_total)
[ "$locked" -ge "$before" ] || t_fail "counter went back: $before -> $locked"
start=$(sql "SELECT k FROM test.t WHERE id = 1")
for n in 1 2 3; do
    out=$(bump)
    t_expect_eq "bump $n" "$out" ""
done
t_expect_eq "no more commits locked index keys" "$(metric sqld_index_lock_commits_total)" "$locked"
t_expect_eq "k moved by three" "$(sql "SELECT k FROM test.t WHERE id = 1")" "$((start + 3))"
t_expect_eq "the index agrees" \
    "$(sql "SELECT id FROM test.t WHERE k = $((start + 3))")" 1

t_case "a kvd below the cluster version is refused and stops"
kill "${T_KVD_PID[2]}"
t_wait_exit "${T_KVD_PID[2]}" 60 || t_fail "kvd 2 did not stop"
T_KVD_ARGS=(--pd.store-version=9000)
t_start_kvd 2
t_wait_exit "${T_KVD_PID[2]}" 60 || t_fail "the refused kvd did not exit"
t_expect_eq "exit status" "$T_RC" 1
t_expect_grep "kvd says why and what to do" \
    "pd: store 2 refused: store version below the cluster version: store 2 runs libmvcc 0.9.0, below the cluster version $NEW: start it from a build with libmvcc $NEW or later; this kvd stops" \
    "$T_TMP/kvd2.log"
t_expect_grep "pdd logged the refusal" \
    "put store refused: store 2 runs libmvcc 0.9.0, below the cluster version $NEW" \
    "$T_TMP/pd1.log"
t_expect_eq "store 2 keeps its record" "$(versions | sed -n 2p)" "2 $NEW"
t_expect_eq "the cluster version stays" "$(cluster_version)" "$NEW"
T_KVD_ARGS=(--pd.store-region-version=32000)
t_start_kvd 2
t_wait_exit "${T_KVD_PID[2]}" 60 || t_fail "the refused kvd did not exit"
t_expect_eq "exit status" "$T_RC" 1
t_expect_grep "an older libregion too" \
    "pd: store 2 refused: store version below the cluster version: store 2 runs libregion 0.32.0, below the cluster's libregion version $NEWR: start it from a build with libregion $NEWR or later; this kvd stops" \
    "$T_TMP/kvd2.log"
t_expect_eq "store 2 keeps its libregion" "$(region_versions | sed -n 2p)" "2 $NEWR"
T_KVD_ARGS=()
t_start_kvd 2
got=$(t_wait_output 3 60 t_stores_up) || t_fail "stores up: '$got'"

t_case "pdctl store put registers the version it is given"
out=$("${PDCTL[@]}" store put 9 127.0.0.1:1 2>&1)
t_expect_eq "no version is refused, and says why" "$out" \
    "pdctl: store put: store version below the cluster version: store 9 names no libmvcc version and the cluster version is $NEW: register it with version $NEW or later (-4014)"
out=$("${PDCTL[@]}" store put 9 127.0.0.1:1 0.8.0 2>&1)
t_expect_eq "an older one too" "$out" \
    "pdctl: store put: store version below the cluster version: store 9 runs libmvcc 0.8.0, below the cluster version $NEW: start it from a build with libmvcc $NEW or later (-4014)"
out=$("${PDCTL[@]}" store put 9 127.0.0.1:1 0.10 zone=z1 2>&1)
t_expect_eq "a malformed version" "$out" \
    "pdctl: store put: '0.10' is neither a version X.Y.Z (each part 0-999, e.g. 0.11.0) nor a label key=value"
out=$("${PDCTL[@]}" store put 9 127.0.0.1:1 "$NEW" zone=z1 2>&1)
t_expect_eq "no libregion version is refused" "$out" \
    "pdctl: store put: store version below the cluster version: store 9 names no libregion version and the cluster's libregion version is $NEWR: register it with version $NEWR or later (-4014)"
t_expect_eq "store 9 is not there" "$(versions | grep -c '^9 ')" 0
out=$("${PDCTL[@]}" store put 9 127.0.0.1:1 "$NEW" "$NEWR" zone=z1 2>&1)
t_expect_eq "at the cluster versions it registers" "$out" "ok"
t_expect_eq "with that version" "$(versions | grep '^9 ')" "9 $NEW"
t_expect_eq "and that libregion" "$(region_versions | grep '^9 ')" "9 $NEWR"
t_expect_eq "the cluster version stays" "$(cluster_version)" "$NEW"
t_expect_eq "store 9 away again" "$("${PDCTL[@]}" store delete 9 2>&1) $("${PDCTL[@]}" store state 9 tombstone 2>&1)" "ok ok"

t_case "the cluster version survives a pdd restart"
kill -9 "$T_PD_PID"
t_wait_exit "$T_PD_PID" 30 || t_fail "pdd did not die"
t_start_pdd
got=$(t_wait_output "$NEW" 60 cluster_version) || t_fail "cluster version: '$got'"
t_expect_eq "libregion's too" "$(cluster_region_version)" "$NEWR"
t_expect_eq "sql still answers" "$(sql "SELECT COUNT(*) FROM test.t")" 2

t_end

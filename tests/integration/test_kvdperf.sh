#!/usr/bin/env bash
# test_kvdperf.sh: kvbench's shared-connection mode (--conns: many clients,
# one request in flight each, on few connections) against 3 durable kvd
# (raft.sync-log on), whose leader batches the replies of one connection
# (librpc reply batching): puts, gets and echoes finish without an error,
# every put started is acknowledged and reads back, also after kill -9 of
# every store (libregion's raw write batching puts 64 in one entry), a
# leader transfer in the middle of the puts is followed, and --conns is
# refused for a target without it. No timing thresholds: figures are
# only required to exist.
# Ports: t_kvd_ports 19000-19980 (stores on B+1..B+3).
. "$(dirname "$0")/lib.sh"
t_kvd_ports 19000 19980
for i in 1 2 3; do t_kvd_start "$i" --raft.sync-log=true; done
"${CTL[@]}" put warmup x >/dev/null 2>&1 || t_fail "the cluster took no put"

leader() {
    "$BIN/kvd" ctl --addr="127.0.0.1:$(port 1)" status 2>/dev/null |
        sed -n 's/.*"region_list":\[{[^]]*"leader":\([0-9]*\).*/\1/p'
}
applied_on() {
    "$BIN/kvd" ctl --addr="127.0.0.1:$(port "$1")" status 2>/dev/null |
        sed -n 's/.*"applied":\([0-9]*\).*/\1/p'
}
# key i as kvbench writes it with --key-size=16: "k" and i's last 15 digits
kkey() { printf 'k%015d' "$1"; }
# kvbench's 100-byte value: the alphabet over and over
VAL=$(for _ in 1 2 3 4; do printf 'abcdefghijklmnopqrstuvwxyz'; done | cut -c1-100)

t_case "64 clients on 2 connections: puts, gets, echoes without an error"
"$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients=64 --conns=2 \
    --duration=1 --ops=put,get,echo --timeout-ms=30000 \
    >"$T_TMP/out" 2>"$T_TMP/err"
t_expect_eq "kvbench exit" "$?" 0
sed 's/^/      /' "$T_TMP/err"
for op in put get echo; do
    for l in "kvd_${op}_c64 [1-9][0-9]* ops/s" "kvd_${op}_c64_p99 [0-9.]* ms"; do
        grep -q "^BENCH $l\$" "$T_TMP/out" || t_fail "no line 'BENCH $l'"
    done
done
t_expect_eq "clean phases" \
    "$(grep -c '^INFO kvd_.*_c64 ops=[1-9][0-9]* errors=0 ' "$T_TMP/out")" 3

t_case "every put started was acknowledged and reads back"
line=$(grep '^INFO kvd_put_c64 ' "$T_TMP/out")
ops=$(echo "$line" | sed -n 's/.* ops=\([0-9]*\) .*/\1/p')
keys=$(echo "$line" | sed -n 's/.* keys=\([0-9]*\).*/\1/p')
t_expect_eq "puts acknowledged = puts started" "$ops" "$keys"
if [ -n "$keys" ] && [ "$keys" -gt 0 ]; then
    for i in 0 $((keys / 2)) $((keys - 1)); do
        t_expect_eq "key $i" "$("${CTL[@]}" get "$(kkey "$i")" 2>&1)" "$VAL"
    done
    t_expect_eq "key $keys (never written)" \
        "$("${CTL[@]}" get "$(kkey "$keys")" 2>&1)" "not found"
else
    t_fail "no put count in '$line'"
fi

t_case "batched puts survive kill -9 of every store"
# another second of puts (keys from 0 again, the same values), then all
# three killed at once and started again: every key either run had
# acknowledged is there, with its value, and nothing more
"$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients=64 --conns=1 \
    --duration=1 --ops=put --timeout-ms=30000 >"$T_TMP/k9.out" 2>"$T_TMP/k9.err"
t_expect_eq "kvbench exit" "$?" 0
line=$(grep '^INFO kvd_put_c64 ' "$T_TMP/k9.out")
k2=$(echo "$line" | sed -n 's/.* keys=\([0-9]*\).*/\1/p')
o2=$(echo "$line" | sed -n 's/.* ops=\([0-9]*\) .*/\1/p')
t_expect_eq "puts acknowledged = puts started" "$o2" "$k2"
want=${keys:-0}
[ -n "$k2" ] && [ "$k2" -gt "$want" ] && want=$k2
[ "$want" -gt 0 ] || t_fail "no put acknowledged"
for i in 1 2 3; do kill -9 "${PID[$i]}"; done
for i in 1 2 3; do wait "${PID[$i]}" 2>/dev/null; done
for i in 1 2 3; do t_kvd_start "$i" --raft.sync-log=true; done
"${CTL[@]}" put warmup y >/dev/null 2>&1 || t_fail "no put after the restart"
"${CTL[@]}" scan k l >"$T_TMP/scan" 2>"$T_TMP/scan.err" ||
    t_fail "scan: $(cat "$T_TMP/scan.err")"
t_expect_eq "keys after the restart" "$(grep -c '^k' "$T_TMP/scan")" "$want"
t_expect_eq "keys with the value" "$(grep -c "^k[0-9]*=$VAL\$" "$T_TMP/scan")" \
    "$want"
t_expect_eq "last key" "$("${CTL[@]}" get "$(kkey $((want - 1)))" 2>&1)" "$VAL"

t_case "a leader transfer during shared-connection puts is followed"
l=$(leader)
[ -n "$l" ] && [ "$l" -ge 1 ] && [ "$l" -le 3 ] || t_fail "no leader: '$l'"
to=$((l % 3 + 1))
base=$(applied_on "$l")
"$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients=64 --conns=2 \
    --duration=4 --ops=put --timeout-ms=30000 \
    >"$T_TMP/tl.out" 2>"$T_TMP/tl.err" &
bp=$!
T_PIDS+=("$bp")
# the transfer once some puts applied, while kvbench still runs
deadline=$((SECONDS + 60))
while [ "$(applied_on "$l")" -lt $((base + 200)) ] 2>/dev/null &&
    [ $SECONDS -lt $deadline ]; do
    sleep 0.05
done
moved=0
for _ in $(seq 1 50); do
    "${CTL[@]}" transfer-leader "" "$to" >/dev/null 2>&1
    [ "$(leader)" = "$to" ] && { moved=1; break; }
    sleep 0.05
done
running=0
kill -0 "$bp" 2>/dev/null && running=1
t_wait_exit "$bp" 120 || t_fail "kvbench still running"
t_expect_eq "kvbench exit" "$T_RC" 0
[ "$T_RC" = 0 ] || sed 's/^/      /' "$T_TMP/tl.err"
t_expect_eq "leader moved to store $to" "$moved" 1
t_expect_eq "kvbench ran past the transfer" "$running" 1
t_expect_eq "clean puts" \
    "$(grep -c '^INFO kvd_put_c64 ops=[1-9][0-9]* errors=0 ' "$T_TMP/tl.out")" 1

t_case "--conns is refused where the target has no shared mode"
"$BIN/kvbench" --target=etcd-http --addrs=127.0.0.1:1 --conns=1 >/dev/null 2>&1
t_expect_eq "etcd-http --conns" "$?" 2
"$BIN/kvbench" --target=kvd --addrs="$PEERS" --conns=-1 >/dev/null 2>&1
t_expect_eq "negative --conns" "$?" 2

t_end

#!/usr/bin/env bash
# test_kvbench.sh: a smoke run of scripts/bench-kvd.sh (3 kvd and a
# 3-member etcd on loopback) with short phases in two rounds, etcd through
# gRPC and through its JSON gateway: every BENCH line `make bench-kvd`
# promises is printed with a positive number and is the median of its
# rounds, every get read back what the puts wrote,
# and the clusters are gone afterwards. Also kvbench's kvd client across a
# leader kill, its bad input and the script's bad BENCH_ROUNDS. No timing
# thresholds: the figures are only required to exist.
# Ports: one slot from t_pick_base (16500-16980): bench kvd B+1..B+3, bench
# etcd clients B+4..B+6 and peers B+14..B+16 (bench-kvd.sh puts peers at
# +10), the kill test's kvd B+7..B+9, the one-member etcd of the --conns
# case B+17 (client) and B+18 (peer), nobody on B+19.
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
t_pick_base 16500 16980
KP=$((T_BASE + 1))
EP=$((T_BASE + 4))
K2=$((T_BASE + 7))
E1=$((T_BASE + 17))
NOPORT=$((T_BASE + 19))

t_case "bench-kvd.sh prints every BENCH line with a positive number"
if ! command -v etcd >/dev/null; then
    t_fail "etcd is missing (make deps installs etcd-server)"
fi
mkdir -p "$T_TMP/scratch"
TMPDIR="$T_TMP/scratch" BENCH_ETCD_HTTP=1 BENCH_TIME=0.5 BENCH_ROUNDS=2 \
    BENCH_KVD_PORT=$KP BENCH_ETCD_PORT=$EP \
    timeout 300 bash "$TOP/scripts/bench-kvd.sh" "$BUILD_DIR" \
    >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
t_expect_eq "exit status" "$rc" 0
[ $rc = 0 ] || sed 's/^/      /' "$T_TMP/err"
want=()
for c in 1 64; do
    for s in kvd_put kvd_get kvd_echo etcd_put etcd_get etcdhttp_put \
        etcdhttp_get rocksdb_get; do
        want+=("${s}_c$c ops/s" "${s}_c${c}_p50 ms" "${s}_c${c}_p99 ms")
    done
    for op in put get; do
        want+=("kvd_${op}_c${c}_vs_etcd x" "kvd_${op}_c${c}_p99_vs_etcd x")
    done
    want+=("kvd_get_c${c}_vs_rocksdb x" "kvd_echo_c${c}_vs_rocksdb x")
done
# 64 clients also share one connection (kvd_shared, etcd_shared)
for s in kvd_shared_put kvd_shared_get kvd_shared_echo etcd_shared_put \
    etcd_shared_get; do
    want+=("${s}_c64 ops/s" "${s}_c64_p50 ms" "${s}_c64_p99 ms")
done
for op in put get; do
    want+=("kvd_shared_${op}_c64_vs_etcd x"
        "kvd_shared_${op}_c64_p99_vs_etcd x")
done
want+=("kvd_shared_get_c64_vs_rocksdb x" "kvd_shared_echo_c64_vs_rocksdb x")
for w in "${want[@]}"; do
    name=${w% *}
    unit=${w#* }
    line=$(grep "^BENCH $name " "$T_TMP/out")
    v=$(echo "$line" | awk -v u="$unit" 'NF == 4 && $4 == u { print $3 }')
    if [ -z "$v" ]; then
        t_fail "no 'BENCH $name <value> $unit' line (got '$line')"
    elif ! awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }'; then
        t_fail "BENCH $name is not positive: $v"
    fi
done
t_expect_eq "BENCH lines" "$(grep -c '^BENCH ' "$T_TMP/out")" "${#want[@]}"

t_case "each figure is the median (two rounds: the mean) of its rounds"
# stderr lists each line's rounds: "INFO bench-kvd: NAME rounds: V1 V2"
while read -r name v; do
    want=$(awk -v n="$name" '$1 == "INFO" && $3 == n && $4 == "rounds:" {
            if (NF != 6) print "rounds:" NF - 4; else if (n ~ /_vs_/)
            printf "%.3g", sprintf("%.6g", ($5 + $6) / 2);
            else printf "%.6g", ($5 + $6) / 2 }' \
        "$T_TMP/err")
    t_expect_eq "$name" "$v" "$want"
done < <(awk '$1 == "BENCH" { print $2, $3 }' "$T_TMP/out")

t_case "every phase ran without an error (gets found what puts wrote)"
n=$(grep -c 'INFO .* ops=[1-9][0-9]* errors=0 ' "$T_TMP/err")
t_expect_eq "clean phases (21 in each of 2 rounds)" "$n" 42
grep 'INFO .* ops=' "$T_TMP/err" | grep -v 'errors=0 ' | sed 's/^/      /'

t_case "the script leaves no daemon and no scratch directory"
for p in $KP $((KP + 1)) $((KP + 2)) $EP $((EP + 1)) $((EP + 2)) \
    $((EP + 10)) $((EP + 11)) $((EP + 12)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        t_fail "port $p still served"
    fi
done
t_expect_eq "scratch left" "$(ls -A "$T_TMP/scratch")" ""

t_case "kvbench's kvd client rides out the leader's kill -9"
PEERS="1@127.0.0.1:$K2,2@127.0.0.1:$((K2 + 1)),3@127.0.0.1:$((K2 + 2))"
declare -A KPID
for i in 1 2 3; do
    "$BIN/kvd" --data-dir="$T_TMP/kvd$i" --store-id="$i" \
        --listen="127.0.0.1:$((K2 + i - 1))" --peers="$PEERS" \
        --raft.tick-interval=50ms --log.file="$T_TMP/kvd$i.log" &
    KPID[$i]=$!
    T_PIDS+=("${KPID[$i]}")
done
"$BIN/kvd" ctl --peers="$PEERS" --timeout=60 put warmup x >/dev/null 2>&1 ||
    t_fail "the cluster did not take a put"
l=$("$BIN/kvd" ctl --addr="127.0.0.1:$K2" status 2>/dev/null |
    sed -n 's/.*"region_list":\[{[^]]*"leader":\([0-9]*\).*/\1/p')
[ -n "$l" ] && [ "$l" -ge 1 ] || t_fail "no leader in store 1's status"
# puts for 6 s (each may retry up to 30 s), the leader killed once some
# are in: every put is acknowledged and every key reads back afterwards
"$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients=4 --duration=6 \
    --timeout-ms=30000 >"$T_TMP/fo.out" 2>"$T_TMP/fo.err" &
bp=$!
T_PIDS+=("$bp")
deadline=$((SECONDS + 60))
while [ "$("$BIN/kvd" ctl --addr="127.0.0.1:$((K2 + l - 1))" status 2>/dev/null |
          sed -n 's/.*"applied":\([0-9]*\).*/\1/p')" -lt 50 ] 2>/dev/null &&
      [ $SECONDS -lt $deadline ]; do
    sleep 0.1
done
kill -9 "${KPID[$l]}"
t_wait_exit "$bp" 120 || t_fail "kvbench still running"
t_expect_eq "kvbench exit" "$T_RC" 0
[ "$T_RC" = 0 ] || sed 's/^/      /' "$T_TMP/fo.err"
t_expect_grep "puts done" "BENCH kvd_put_c4 " "$T_TMP/fo.out"
t_expect_grep "gets done" "BENCH kvd_get_c4 " "$T_TMP/fo.out"
n=$(grep -c 'INFO .* ops=[1-9][0-9]* errors=0 ' "$T_TMP/fo.out")
t_expect_eq "clean phases" "$n" 2

t_case "etcd's gRPC client runs --conns clients as streams of one connection"
# A one-member etcd: 64 clients on 2 connections (32 concurrent streams
# each) put for a second; every acknowledged put is in etcd (its count
# under the key prefix is exactly the ops counted), then 64 clients on 1
# connection get those keys (each found with its 100 bytes), and the
# per-client mode reads the same keys.
etcd --name m1 --data-dir "$T_TMP/etcd-m1" \
    --listen-client-urls "http://127.0.0.1:$E1" \
    --advertise-client-urls "http://127.0.0.1:$E1" \
    --listen-peer-urls "http://127.0.0.1:$((E1 + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((E1 + 1))" \
    --initial-cluster "m1=http://127.0.0.1:$((E1 + 1))" \
    >"$T_TMP/etcd-m1.log" 2>&1 &
T_PIDS+=($!)
ok=0
for _ in $(seq 1 300); do
    ETCDCTL_API=3 etcdctl --endpoints="127.0.0.1:$E1" --command-timeout=2s \
        put warmup x >/dev/null 2>&1 && { ok=1; break; }
    sleep 0.1
done
t_expect_eq "etcd answers" "$ok" 1
"$BIN/kvbench" --target=etcd --addrs="127.0.0.1:$E1" --clients=64 \
    --conns=2 --duration=1 --ops=put >"$T_TMP/em.out" 2>"$T_TMP/em.err"
t_expect_eq "kvbench put exit" "$?" 0
sed 's/^/      /' "$T_TMP/em.err"
t_expect_grep "put figures" "BENCH etcd_put_c64 " "$T_TMP/em.out"
info=$(grep '^INFO etcd_put_c64 ' "$T_TMP/em.out")
ops=$(echo "$info" | sed -n 's/.* ops=\([0-9]*\) .*/\1/p')
keys=$(echo "$info" | sed -n 's/.* keys=\([0-9]*\).*/\1/p')
t_expect_eq "put errors" "$(echo "$info" | sed -n 's/.* errors=\([0-9]*\) .*/\1/p')" 0
t_expect_eq "puts counted = keys handed out" "${ops:-x}" "${keys:-y}"
[ "${ops:-0}" -gt 64 ] 2>/dev/null || t_fail "only '${ops:-}' puts"
# kvbench's keys are 'k...k<number>', 16 bytes: all under prefix 'k'
n=$(ETCDCTL_API=3 etcdctl --endpoints="127.0.0.1:$E1" get k --prefix \
    --limit=1 --write-out=fields | sed -n 's/^"Count" : //p')
t_expect_eq "keys in etcd" "$n" "${ops:-x}"
"$BIN/kvbench" --target=etcd --addrs="127.0.0.1:$E1" --clients=64 \
    --conns=1 --duration=1 --ops=get --keys="${ops:-1}" \
    >"$T_TMP/eg.out" 2>"$T_TMP/eg.err"
t_expect_eq "kvbench get exit" "$?" 0
sed 's/^/      /' "$T_TMP/eg.err"
t_expect_eq "shared gets clean" \
    "$(grep -c '^INFO etcd_get_c64 ops=[1-9][0-9]* errors=0 ' "$T_TMP/eg.out")" 1
"$BIN/kvbench" --target=etcd --addrs="127.0.0.1:$E1" --clients=4 \
    --duration=0.5 --ops=get --keys="${ops:-1}" >"$T_TMP/ep.out" 2>&1
t_expect_eq "per-client get exit" "$?" 0
t_expect_eq "per-client gets clean" \
    "$(grep -c '^INFO etcd_get_c4 ops=[1-9][0-9]* errors=0 ' "$T_TMP/ep.out")" 1
# 700 puts in flight on one connection need more than HTTP/2's initial
# 64 KiB connection window: the calls beyond it wait for etcd's window
# updates, and none is lost
"$BIN/kvbench" --target=etcd --addrs="127.0.0.1:$E1" --clients=700 \
    --conns=1 --duration=0.5 --ops=put >"$T_TMP/ew.out" 2>"$T_TMP/ew.err"
t_expect_eq "700 streams exit" "$?" 0
sed 's/^/      /' "$T_TMP/ew.err"
t_expect_eq "700 streams clean" "$(grep -c \
    '^INFO etcd_put_c700 ops=\([1-9][0-9]*\) errors=0 seconds=[0-9.]* keys=\1$' \
    "$T_TMP/ew.out")" 1
# a get of a key never written is an error, shared or not
"$BIN/kvbench" --target=etcd --addrs="127.0.0.1:$E1" --clients=8 \
    --conns=1 --duration=0.3 --ops=get --keys=$(( ${ops:-1} + 100000 )) \
    >"$T_TMP/ex.out" 2>"$T_TMP/ex.err"
t_expect_eq "missing keys fail the run" "$?" 1
t_expect_grep "named" "a key not found" "$T_TMP/ex.err"

t_case "kvbench refuses bad options and reports an unreachable target"
"$BIN/kvbench" --target=nosuch --addrs=x >/dev/null 2>&1
t_expect_eq "unknown target" "$?" 2
"$BIN/kvbench" --target=kvd --addrs=1@127.0.0.1:$NOPORT --clients=0 \
    >/dev/null 2>&1
t_expect_eq "zero clients" "$?" 2
"$BIN/kvbench" --target=etcd --addrs=127.0.0.1:$NOPORT --duration=0.2 \
    --ops=put >"$T_TMP/o2" 2>"$T_TMP/e2"
t_expect_eq "unreachable etcd" "$?" 1
t_expect_grep "connect error" "connect 127.0.0.1:$NOPORT" "$T_TMP/e2"
"$BIN/kvbench" --target=etcd --addrs=127.0.0.1:$NOPORT --duration=0.2 \
    --conns=1 --clients=8 --ops=put >"$T_TMP/o4" 2>"$T_TMP/e4"
t_expect_eq "unreachable etcd, shared" "$?" 1
t_expect_grep "shared connect error" "connect 127.0.0.1:$NOPORT" "$T_TMP/e4"
"$BIN/kvbench" --target=kvd --addrs=1@127.0.0.1:$NOPORT --duration=0.2 \
    --ops=put --timeout-ms=300 >"$T_TMP/o3" 2>"$T_TMP/e3"
t_expect_eq "unreachable kvd" "$?" 1
t_expect_grep "kvd errors" "errors in all" "$T_TMP/e3"
TMPDIR="$T_TMP/scratch" BENCH_ROUNDS=0 BENCH_KVD_PORT=$KP BENCH_ETCD_PORT=$EP \
    bash "$TOP/scripts/bench-kvd.sh" "$BUILD_DIR" >"$T_TMP/o5" 2>"$T_TMP/e5"
t_expect_eq "bench-kvd.sh, BENCH_ROUNDS=0" "$?" 2
t_expect_eq "its message" "$(cat "$T_TMP/e5")" \
    "bench-kvd: BENCH_ROUNDS must be a positive number, not '0'"
t_expect_eq "nothing started" "$(ls -A "$T_TMP/scratch")" ""

t_end

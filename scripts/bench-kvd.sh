#!/usr/bin/env bash
# bench-kvd.sh BUILD_DIR: `make bench-kvd` (issue 5, "Benchmark"). Starts 3
# kvd (raft.sync-log on: a put is acknowledged once a quorum fsynced it) and
# a 3-member etcd (Debian's etcd-server, default durability: it fsyncs its
# WAL before acknowledging) on loopback in a scratch directory, and runs
# kvbench (daemons/kvbench) against both (etcd through its native gRPC API,
# etcdserverpb.KV over HTTP/2) with 1 and then 64 clients: durable
# puts of fresh 16-byte keys with 100-byte values, then linearizable point
# gets of the keys written. Then the same gets against RocksDB opened
# directly through libmvcc's engine (same engine and block cache kvd runs
# on, as many keys as kvd holds), in the same run. And librpc's echo method
# on kvd's leader with the same clients and payload: the transport's own
# round trip, the ceiling of any remote get on this machine. Prints:
#   BENCH <kvd|etcd|rocksdb>_<put|get>_c<N> <rate> ops/s
#   BENCH <kvd|etcd|rocksdb>_<put|get>_c<N>_p50 / _p99 <latency> ms
#   BENCH kvd_<op>_c<N>_vs_etcd <kvd rate / etcd rate> x
#   BENCH kvd_<op>_c<N>_p99_vs_etcd <kvd p99 / etcd p99> x (below 1: kvd
#         is faster)
#   BENCH kvd_get_c<N>_vs_rocksdb <kvd rate / rocksdb rate> x
#   BENCH kvd_echo_c<N> (_p50, _p99): echo round trips to kvd's leader
#   BENCH kvd_echo_c<N>_vs_rocksdb <echo rate / rocksdb get rate> x
# Every client connects to the leader (etcd's found with etcdctl endpoint
# status), so neither side pays a follower's forwarding hop.
# Each client has a connection of its own. For every client count above
# one, kvd and etcd also run with the clients sharing one connection, as
# a client library multiplexing its callers does (etcd's clientv3: one
# gRPC connection, a stream per call; kvbench --conns=1):
#   BENCH <kvd_shared|etcd_shared>_<op>_c<N> (_p50, _p99), and
#   BENCH kvd_shared_<op>_c<N>_vs_etcd (against etcd_shared),
#   kvd_shared_<get|echo>_c<N>_vs_rocksdb.
# The two modes differ a lot on this 2-core machine (session 26, 3 rounds:
# puts at 64 clients 2.94 x etcd with a connection each, 5.51 x shared;
# gets 0.044 x and 0.293 x RocksDB): a connection per client costs kvd a
# read and a write system call per request, and a wake-up per reply.
# BENCH_SHARED=0 leaves the shared phases out.
# BENCH_ROUNDS (3) rounds run all of that in turn (kvd, etcd, RocksDB, for
# each client count); every BENCH figure is the median of the rounds and
# every ratio the median of the rounds' own ratios (stderr: INFO lines
# with each round's figures), so a ratio compares runs close in time.
# BENCH_ETCD_HTTP=1 also runs etcd through its HTTP/JSON gateway
# (etcdhttp_* lines; the gateway re-dials etcd's gRPC port in process, so
# it costs etcd CPU that the gRPC figures do not include).
# Knobs (environment): BENCH_TIME seconds per phase (5), BENCH_CLIENTS
# ("1 64"), BENCH_CONNS (the clients share this many connections, kvd's
# and etcd's alike, as a client library multiplexing its callers does
# (etcd's Go client: one gRPC connection, a stream per call): kvbench
# --conns; unset: one connection per client; the gateway, etcd-http,
# always has one per client), BENCH_VALUE_SIZE (100), BENCH_KEY_SIZE
# (16), BENCH_KVD_PORT first of 3 kvd ports (27101), BENCH_ETCD_PORT
# first of 3 etcd client
# ports (27201; peers use +10), BENCH_KEEP=1 keeps the scratch directory.
set -u
BUILD=${1:?usage: bench-kvd.sh BUILD_DIR}
BIN=$BUILD/daemons/bin
TIME=${BENCH_TIME:-5}
CLIENTS=${BENCH_CLIENTS:-1 64}
VSIZE=${BENCH_VALUE_SIZE:-100}
KSIZE=${BENCH_KEY_SIZE:-16}
KP=${BENCH_KVD_PORT:-27101}
EP=${BENCH_ETCD_PORT:-27201}
CONNS=()
[ -n "${BENCH_CONNS:-}" ] && CONNS=(--conns="$BENCH_CONNS")
# The shared phases, unless BENCH_CONNS already makes every phase share.
SHARED=${BENCH_SHARED:-1}
[ ${#CONNS[@]} -gt 0 ] && SHARED=0

die() { echo "bench-kvd: $*" >&2; exit 1; }
. "$(dirname "$0")/lib-rounds.sh"
bench_rounds bench-kvd
for tool in etcd etcdctl; do
    command -v "$tool" >/dev/null ||
        die "$tool is missing; run 'make deps' (it installs etcd-server and etcd-client)"
done

. "$(dirname "$0")/lib-kvd3.sh"
kvd3_start bench-kvd

CLUSTER=""
ENDPOINTS=""
for i in 1 2 3; do
    CLUSTER+="${CLUSTER:+,}e$i=http://127.0.0.1:$((EP + 9 + i))"
    ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:$((EP + i - 1))"
done
for i in 1 2 3; do
    etcd --name "e$i" --data-dir "$WORK/etcd$i" \
        --listen-client-urls "http://127.0.0.1:$((EP + i - 1))" \
        --advertise-client-urls "http://127.0.0.1:$((EP + i - 1))" \
        --listen-peer-urls "http://127.0.0.1:$((EP + 9 + i))" \
        --initial-advertise-peer-urls "http://127.0.0.1:$((EP + 9 + i))" \
        --initial-cluster "$CLUSTER" --initial-cluster-token kvbench \
        --initial-cluster-state new >"$WORK/etcd$i.log" 2>&1 &
    pids+=($!)
done

# Both clusters answer a write (a leader exists and a quorum syncs).
kvd3_wait
ok=0
for _ in $(seq 1 300); do
    if ETCDCTL_API=3 etcdctl --endpoints="$ENDPOINTS" --command-timeout=2s \
           put bench-warmup x >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.1
done
[ $ok = 1 ] || die "etcd did not start: $(tail -n 5 "$WORK/etcd1.log")"
ETCD_LEADER=$(ETCDCTL_API=3 etcdctl --endpoints="$ENDPOINTS" endpoint status |
    awk -F', ' '$5 == "true" { print $1; exit }')
[ -n "$ETCD_LEADER" ] || die "no etcd leader in 'etcdctl endpoint status'"

failed=0
kvbench() { # name, args...: its BENCH and INFO lines go to $OUT
    local name=$1
    shift
    if ! "$BIN/kvbench" --name="$name" --duration="$TIME" \
           --key-size="$KSIZE" --value-size="$VSIZE" "$@" \
           >>"$OUT" 2>"$WORK/kvbench.err"; then
        echo "bench-kvd: kvbench $name $* failed:" >&2
        cat "$WORK/kvbench.err" >&2
        failed=1
    elif [ -s "$WORK/kvbench.err" ]; then
        cat "$WORK/kvbench.err" >&2
    fi
}
val() { # file, name
    awk -v n="$2" '$1 == "BENCH" && $2 == n { print $3; exit }' "$1"
}
# A ratio's line: the median of the rounds' ratios, three significant
# digits, so a small ratio (a starved run on a loaded machine) prints as
# what it is, not as 0.00.
ratio() { # line name, numerator name, denominator name
    local r a b rs=()
    for ((r = 1; r <= ROUNDS; r++)); do
        a=$(val "$WORK/results.$r" "$2")
        b=$(val "$WORK/results.$r" "$3")
        [ -n "$a" ] && [ -n "$b" ] || continue
        rs+=("$(awk -v a="$a" -v b="$b" \
            'BEGIN { printf "%.6g", (b > 0 ? a / b : 0) }')")
    done
    [ ${#rs[@]} -gt 0 ] || return 0
    awk -v n="$1" -v r="$(median %.6g "${rs[@]}")" \
        'BEGIN { printf "BENCH %s %.3g x\n", n, r }'
    echo "INFO bench-kvd: $1 rounds: ${rs[*]}" >&2
}

for ((round = 1; round <= ROUNDS; round++)); do
    OUT="$WORK/results.$round"
    : >"$OUT"
    for c in $CLIENTS; do
        kvbench kvd --target=kvd --addrs="$PEERS" --clients="$c" \
            --ops=put,get,echo "${CONNS[@]}"
        kvbench etcd --target=etcd --addrs="$ETCD_LEADER" --clients="$c" \
            "${CONNS[@]}"
        if [ "${BENCH_ETCD_HTTP:-0}" = 1 ]; then
            kvbench etcdhttp --target=etcd-http --addrs="$ETCD_LEADER" \
                --clients="$c"
        fi
        if [ "$SHARED" = 1 ] && [ "$c" -gt 1 ]; then
            kvbench kvd_shared --target=kvd --addrs="$PEERS" \
                --clients="$c" --ops=put,get,echo --conns=1
            kvbench etcd_shared --target=etcd --addrs="$ETCD_LEADER" \
                --clients="$c" --conns=1
        fi
    done
    # RocksDB holds as many keys as kvd does: every put phase restarts at
    # 0, so kvd holds the most any phase of any round so far wrote.
    keys=$(cat "$WORK"/results.* |
        sed -n 's/^INFO kvd\(_shared\)\{0,1\}_put_c[0-9]* .*keys=\([0-9]*\).*/\2/p' |
        sort -n | tail -1)
    for c in $CLIENTS; do
        rm -rf "$WORK/rocksdb"
        kvbench rocksdb --target=rocksdb --dir="$WORK/rocksdb" --ops=get \
            --keys="${keys:-10000}" --clients="$c"
    done
    grep '^INFO ' "$OUT" | sed "s/^/bench-kvd: round $round: /" >&2
done

# Each figure of the first round, as the median over the rounds.
while read -r name unit; do
    vs=()
    for ((r = 1; r <= ROUNDS; r++)); do
        v=$(val "$WORK/results.$r" "$name")
        [ -n "$v" ] && vs+=("$v")
    done
    echo "BENCH $name $(median %.6g "${vs[@]}") $unit"
    echo "INFO bench-kvd: $name rounds: ${vs[*]}" >&2
done < <(awk '$1 == "BENCH" { print $2, $4 }' "$WORK/results.1")
for c in $CLIENTS; do
    # kvd and etcd (k, e) with a connection per client, then sharing one
    for m in "" _shared; do
        [ -z "$m" ] || { [ "$SHARED" = 1 ] && [ "$c" -gt 1 ]; } || continue
        k=kvd$m e=etcd$m
        for op in put get; do
            ratio "${k}_${op}_c${c}_vs_etcd" "${k}_${op}_c$c" "${e}_${op}_c$c"
            ratio "${k}_${op}_c${c}_p99_vs_etcd" "${k}_${op}_c${c}_p99" \
                "${e}_${op}_c${c}_p99"
        done
        ratio "${k}_get_c${c}_vs_rocksdb" "${k}_get_c$c" "rocksdb_get_c$c"
        ratio "${k}_echo_c${c}_vs_rocksdb" "${k}_echo_c$c" "rocksdb_get_c$c"
    done
done
exit $failed

#!/usr/bin/env bash
# kvd-get-ab.sh BUILD_DIR...: 64-client gets on one shared connection,
# build against build, over the same number of keys (issue 5; libregion/
# DESIGN.md "Replies a piece at a time"). bench-kvd.sh's get phases read
# whatever its put phases wrote, so a faster put phase makes a bigger
# memtable and slower gets; here every build gets exactly AB_KEYS keys.
# For each build in turn: 3 kvd (lib-kvd3.sh, split.region-size 0), a put
# phase of AB_KEYS keys, AB_GETS get phases of BENCH_TIME seconds over
# them, then RocksDB's own 64-thread get rate over as many keys (the
# baseline moves with the machine's load). Prints per build:
#   BENCH kvd_get_ab_<n>_c64 <rate> ops/s   (one line per get phase)
#   BENCH rocksdb_get_ab_<n>_c64 <rate> ops/s
#   BENCH kvd_get_ab_<n>_c64_vs_rocksdb <best get / rocksdb> x
# where <n> numbers the builds from 1. Knobs: AB_KEYS (300000), AB_GETS
# (3), BENCH_TIME (5), BENCH_KVD_PORT (27301), KVD3_ARGS.
set -u
[ $# -ge 1 ] || { echo "usage: kvd-get-ab.sh BUILD_DIR..." >&2; exit 2; }
KEYS=${AB_KEYS:-300000}
GETS=${AB_GETS:-3}
TIME=${BENCH_TIME:-5}
die() { echo "kvd-get-ab: $*" >&2; exit 1; }
n=0
for build in "$@"; do
    n=$((n + 1))
    (
        BIN=$build/daemons/bin
        KP=${BENCH_KVD_PORT:-27301}
        . "$(dirname "$0")/lib-kvd3.sh"
        kvd3_start kvd-get-ab
        kvd3_wait
        echo "INFO kvd-get-ab: build $n is $build" >&2
        "$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients=64 --conns=1 \
            --ops=put --count="$KEYS" --duration=120 >"$WORK/put.out" \
            2>&1 || die "put phase: $(tail -2 "$WORK/put.out")"
        best=0
        for ((i = 1; i <= GETS; i++)); do
            r=$("$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients=64 \
                --conns=1 --ops=get --keys="$KEYS" --duration="$TIME" \
                2>"$WORK/get.err" |
                sed -n 's/^BENCH kvd_get_c64 \([0-9]*\) .*/\1/p')
            [ -n "$r" ] || die "get phase: $(tail -2 "$WORK/get.err")"
            echo "BENCH kvd_get_ab_${n}_c64 $r ops/s"
            [ "$r" -gt "$best" ] && best=$r
        done
        r=$("$BIN/kvbench" --target=rocksdb --dir="$WORK/rocksdb" \
            --clients=64 --ops=get --keys="$KEYS" --duration="$TIME" \
            2>"$WORK/rdb.err" |
            sed -n 's/^BENCH rocksdb_get_c64 \([0-9]*\) .*/\1/p')
        [ -n "$r" ] && [ "$r" -gt 0 ] ||
            die "rocksdb phase: $(tail -2 "$WORK/rdb.err")"
        echo "BENCH rocksdb_get_ab_${n}_c64 $r ops/s"
        awk -v a="$best" -v b="$r" -v n="$n" \
            'BEGIN { printf "BENCH kvd_get_ab_%s_c64_vs_rocksdb %.3g x\n", n, a / b }'
    ) || exit 1
done

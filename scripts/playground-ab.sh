#!/usr/bin/env bash
# playground-ab.sh BUILD_DIR KVD_ARGS...: sysbench through sqld on a fresh
# playground (scripts/run-playground.sh) for each set of kvd flags in turn,
# e.g. `playground-ab.sh build/default --txn.lock-table=true
# --txn.lock-table=false` (one argument per set; quote a set of several
# flags). Wall-clock rates move with the shared machine's load, so every
# run also prints the kvd processes' CPU time per transaction (user +
# system from /proc, all three kvd). For each set: a fresh playground on
# ports 25201.. (PLAYGROUND_DIR /tmp/playground-ab), `sysbench
# oltp_read_write prepare` (2 tables of 10,000 rows), then one run of each
# workload in AB_WORKLOADS ("oltp_read_write oltp_read_only
# oltp_point_select"), AB_TIME seconds each (20), 4 threads. Prints per run:
#   BENCH ab_<n>_<workload>_<i> <qps> qps
#   BENCH ab_<n>_<workload>_<i>_kvd_cpu <us> us/tx
# where <n> numbers the flag sets from 1 and <i> the runs of a workload.
# Needs sysbench and the mariadb client (Debian: sysbench,
# mariadb-client).
set -u
[ $# -ge 2 ] || { echo "usage: playground-ab.sh BUILD_DIR KVD_ARGS..." >&2; exit 2; }
BUILD=$1
shift
SRC=$(cd "$(dirname "$0")/.." && pwd)
PLAY=${PLAYGROUND_DIR:-/tmp/playground-ab}
WORKLOADS=${AB_WORKLOADS:-oltp_read_write oltp_read_only oltp_point_select}
TIME=${AB_TIME:-20}
HZ=$(getconf CLK_TCK)
die() { echo "playground-ab: $*" >&2; exit 1; }
for t in sysbench mariadb; do
    command -v "$t" >/dev/null || die "$t is missing (Debian: sysbench, mariadb-client)"
done
[ -x "$BUILD/daemons/bin/kvd" ] || die "$BUILD/daemons/bin/kvd is missing; build the daemons first"
kvd_cpu() { # ticks of every kvd of this playground
    local p t=0 f
    for p in $(pgrep -f "daemons/bin/kvd --data-dir=$PLAY/"); do
        f=($(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null || echo 0 0))
        t=$((t + f[0] + f[1]))
    done
    echo "$t"
}
sb() { # workload command
    sysbench "$1" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port=25210 \
        --mysql-user=root --mysql-db=sbtest --tables=2 --table-size=10000 \
        --threads=4 --time="$TIME" --db-ps-mode=disable --report-interval=0 \
        --histogram=off "$2"
}
pg=
trap '[ -n "$pg" ] && kill "$pg" 2>/dev/null; wait 2>/dev/null' EXIT
n=0
for args in "$@"; do
    n=$((n + 1))
    echo "INFO playground-ab: set $n: kvd $args" >&2
    (cd "$SRC" && PLAYGROUND_DIR=$PLAY FRESH=1 KVD_ARGS="$args" PD_PORT=25201 \
        SQL_PORT=25210 KVD_PORT=25211 KVD_STATUS_PORT=25214 \
        SQL_STATUS_PORT=25207 exec scripts/run-playground.sh "$BUILD") \
        >"$PLAY.log" 2>&1 &
    pg=$!
    for _ in $(seq 1 120); do
        mariadb -h 127.0.0.1 -P 25210 -u root -e "select 1" >/dev/null 2>&1 && break
        kill -0 "$pg" 2>/dev/null || die "the playground stopped: $(tail -3 "$PLAY.log")"
        sleep 1
    done
    mariadb -h 127.0.0.1 -P 25210 -u root \
        -e "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest" ||
        die "sqld does not answer (log: $PLAY.log)"
    sb oltp_read_write prepare >"$PLAY.prepare" 2>&1 ||
        die "prepare: $(tail -3 "$PLAY.prepare")"
    declare -A runs=()
    for w in $WORKLOADS; do
        runs[$w]=$((${runs[$w]:-0} + 1))
        c0=$(kvd_cpu)
        out=$(sb "$w" run 2>&1) || die "$w: $(echo "$out" | tail -3)"
        c1=$(kvd_cpu)
        tx=$(echo "$out" | awk '/transactions:/ {print $2}')
        q=$(echo "$out" | awk '/queries:/ {print $3}' | tr -d '(')
        [ -n "$tx" ] && [ "$tx" -gt 0 ] || die "$w: no transactions"
        echo "BENCH ab_${n}_${w}_${runs[$w]} $q qps"
        awk -v c=$((c1 - c0)) -v t="$tx" -v hz="$HZ" -v name="ab_${n}_${w}_${runs[$w]}" \
            'BEGIN { printf "BENCH %s_kvd_cpu %.0f us/tx\n", name, c / hz * 1e6 / t }'
    done
    unset runs
    kill "$pg" 2>/dev/null
    wait "$pg" 2>/dev/null
    pg=
    sleep 2
done

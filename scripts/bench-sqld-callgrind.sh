#!/usr/bin/env bash
# bench-sqld-callgrind.sh BUILD_DIR: instructions per query of sqld on its
# embedded store, the stable figure for before/after comparisons on a
# shared machine (wall-clock qps moves by 0.1-0.3x between runs; callgrind
# counts repeat to about 0.001%). sqld runs under valgrind's callgrind
# with instrumentation off; per workload the script prepares the tables,
# turns instrumentation on, runs a fixed number of sysbench events on one
# thread, dumps and prints:
#   BENCH sqld_<workload>_instr_per_query <instructions / queries> instr
# Knobs (environment): CG_EVENTS events per workload (2000), CG_WORKLOADS
# (oltp_point_select oltp_read_only oltp_read_write), BENCH_PS=1 for
# server-side prepared statements (sysbench --db-ps-mode=auto), CG_PORT
# (25010), CG_KEEP=dir to keep the callgrind profiles there (for
# callgrind_annotate), BENCH_TABLES (2) and BENCH_TABLE_SIZE (10000).
# CG_CLUSTER=1: sqld on a playground cluster (3 pdd, 3 kvd; started at
# BENCH_CLUSTER_BASE, default 25100, as bench-sqld.sh), the measured sqld
# a second one beside the playground's.
set -u
BUILD=${1:?usage: bench-sqld-callgrind.sh BUILD_DIR}
EVENTS=${CG_EVENTS:-2000}
WORKLOADS=${CG_WORKLOADS:-oltp_point_select oltp_read_only oltp_read_write}
TABLES=${BENCH_TABLES:-2}
SIZE=${BENCH_TABLE_SIZE:-10000}
PORT=${CG_PORT:-25010}
PS_MODE=disable
[ "${BENCH_PS:-0}" = 1 ] && PS_MODE=auto

BENCH_NAME=bench-sqld-callgrind
. "$(dirname "$0")/bench-lib.sh"
need sysbench mariadb-admin valgrind callgrind_control

store=(--store=local)
if [ "${CG_CLUSTER:-0}" = 1 ]; then
    base=${BENCH_CLUSTER_BASE:-25100}
    start_cluster "$base"
    store=(--store=cluster --pd="127.0.0.1:$((base + 1)),127.0.0.1:$((base + 3)),127.0.0.1:$((base + 5))")
fi
valgrind --tool=callgrind --instr-atstart=no \
    --callgrind-out-file="$WORK/cg.out" \
    "$BUILD/daemons/bin/sqld" --listen=127.0.0.1:"$PORT" "${store[@]}" \
    --data-dir="$WORK/sqld" --log.file="$WORK/sqld.log" --workers=2 \
    2>"$WORK/valgrind.log" &
pid=$!
pids+=($pid)
wait_port "$PORT" sqld "$pid" 300 || die "sqld did not start: $(tail -n 5 "$WORK/valgrind.log")"

sb() { # workload, command, extra...
    local wl=$1 cmd=$2
    shift 2
    sysbench "$wl" --db-driver=mysql --mysql-host=127.0.0.1 \
        --mysql-port="$PORT" --mysql-user=root --mysql-db=sbtest \
        --tables="$TABLES" --table-size="$SIZE" --db-ps-mode="$PS_MODE" \
        --rand-seed=1 --report-interval=0 --histogram=off "$@" "$cmd"
}

failed=0
for wl in $WORKLOADS; do
    log="$WORK/$wl.log"
    mariadb -h 127.0.0.1 -P "$PORT" -u root \
        -e "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest" >"$log" 2>&1 &&
        sb "$wl" prepare >>"$log" 2>&1 || {
        echo "$BENCH_NAME: preparing $wl failed:" >&2
        grep -m 3 -i 'error\|fatal' "$log" >&2
        failed=1
        continue
    }
    callgrind_control -i on "$pid" >/dev/null 2>&1
    sb "$wl" run --threads=1 --time=0 --events="$EVENTS" >>"$log" 2>&1
    rc=$?
    callgrind_control -d "$wl" "$pid" >/dev/null 2>&1
    callgrind_control -i off "$pid" >/dev/null 2>&1
    if [ $rc -ne 0 ]; then
        echo "$BENCH_NAME: $wl failed:" >&2
        grep -m 3 -i 'error\|fatal' "$log" >&2
        failed=1
        continue
    fi
    q=$(sed -n 's/^ *queries: *\([0-9]*\) .*/\1/p' "$log")
    # the newest dump; its totals line sums every thread
    f=$(ls -t "$WORK"/cg.out* | head -n 1)
    ir=$(sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$f" | head -n 1)
    if [ -n "${CG_KEEP:-}" ]; then
        mkdir -p "$CG_KEEP" && cp "$f" "$CG_KEEP/$wl.callgrind"
    fi
    awk -v i="$ir" -v q="$q" -v n="$wl" \
        'BEGIN { printf "BENCH sqld_%s_instr_per_query %.0f instr\n", n, (q > 0 ? i / q : 0) }'
done
exit $failed

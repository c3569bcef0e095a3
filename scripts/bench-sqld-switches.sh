#!/usr/bin/env bash
# bench-sqld-switches.sh BUILD_DIR: context switches and CPU time per
# query of sqld on its embedded store (the thread hand-offs between the
# loop thread and the workers; libsql/DESIGN.md "Hot paths"). Exact
# counts, unlike qps on a shared machine. Per workload the script prepares
# the tables, reads every sqld thread's voluntary and involuntary context
# switches (/proc/PID/task/*/status) and user/system CPU ticks, runs a
# fixed number of sysbench events, reads them again and prints:
#   BENCH sqld_<workload>_ctxsw_per_query <switches / queries> switches
#   BENCH sqld_<workload>_cpu_us_per_query <(user+sys) us / queries> us
#   BENCH sqld_<workload>_sys_share <sys / (user+sys)> ratio
# and the same for MariaDB with SW_MARIADB=1 (mariadb_ in place of sqld_).
# Knobs: SW_EVENTS (20000), SW_THREADS (4), SW_WORKLOADS
# (oltp_point_select), BENCH_PS=1 (server-side prepared statements),
# SW_PORT (25030; MariaDB SW_PORT+1), BENCH_TABLES (2), BENCH_TABLE_SIZE
# (10000), SW_WORKERS (sqld's workers, default its own).
# SW_CLUSTER=1 measures sqld on a playground cluster instead (3 pdd, 3 kvd;
# BENCH_CLUSTER_BASE, default 25100, as bench-sqld.sh) and prints the same
# figures for sqld, the kvd together (kvd_) and the pdd together (pdd_).
set -u
BUILD=${1:?usage: bench-sqld-switches.sh BUILD_DIR}
EVENTS=${SW_EVENTS:-20000}
THREADS=${SW_THREADS:-4}
WORKLOADS=${SW_WORKLOADS:-oltp_point_select}
TABLES=${BENCH_TABLES:-2}
SIZE=${BENCH_TABLE_SIZE:-10000}
PORT=${SW_PORT:-25030}
PS_MODE=disable
[ "${BENCH_PS:-0}" = 1 ] && PS_MODE=auto

BENCH_NAME=bench-sqld-switches
. "$(dirname "$0")/bench-lib.sh"
need sysbench mariadb mariadb-admin

# switches TICKS_VAR PID: prints "switches utime stime" summed over threads
counters() {
    local pid=$1 sw=0 ut=0 st=0 f v
    for f in /proc/"$pid"/task/*/status; do
        v=$(awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { s += $2 }
                 END { print s + 0 }' "$f" 2>/dev/null)
        sw=$((sw + ${v:-0}))
    done
    read -r ut st < <(awk '{ print $14, $15 }' /proc/"$pid"/stat)
    echo "$sw $ut $st"
}

sb() { # port, workload, command, extra...
    local port=$1 wl=$2 cmd=$3
    shift 3
    sysbench "$wl" --db-driver=mysql --mysql-host=127.0.0.1 \
        --mysql-port="$port" --mysql-user=root --mysql-db=sbtest \
        --tables="$TABLES" --table-size="$SIZE" --db-ps-mode="$PS_MODE" \
        --rand-seed=1 --report-interval=0 --histogram=off "$@" "$cmd"
}

# sum_counters PID...: counters summed over processes
sum_counters() {
    local p sw=0 ut=0 st=0 a b c
    for p in "$@"; do
        read -r a b c < <(counters "$p")
        sw=$((sw + a)); ut=$((ut + b)); st=$((st + c))
    done
    echo "$sw $ut $st"
}

measure() { # name, port, pid (more names and pid lists: NAME=PID,PID...)
    local name=$1 port=$2 pid=$3 wl log a b q hz g
    shift 3
    local groups=("$name=$pid" "$@")
    hz=$(getconf CLK_TCK)
    for wl in $WORKLOADS; do
        log="$WORK/$name-$wl.log"
        mariadb -h 127.0.0.1 -P "$port" -u root \
            -e "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest" >"$log" 2>&1 &&
            sb "$port" "$wl" prepare >>"$log" 2>&1 || {
            echo "$BENCH_NAME: preparing $wl on $name failed" >&2
            failed=1
            continue
        }
        declare -A before=()
        for g in "${groups[@]}"; do
            before[$g]=$(sum_counters ${g#*=} | tr ' ' :)
        done
        sb "$port" "$wl" run --threads="$THREADS" --time=0 --events="$EVENTS" >>"$log" 2>&1 || {
            echo "$BENCH_NAME: $wl on $name failed" >&2
            failed=1
            continue
        }
        q=$(sed -n 's/^ *queries: *\([0-9]*\) .*/\1/p' "$log")
        for g in "${groups[@]}"; do
        a=${before[$g]//:/ }
        b=$(sum_counters ${g#*=})
        awk -v a="$a" -v b="$b" -v q="$q" -v n="${g%%=*}_$wl" -v hz="$hz" 'BEGIN {
            split(a, x, " "); split(b, y, " ");
            sw = y[1] - x[1]; us = y[2] - x[2]; sy = y[3] - x[3];
            if (q <= 0) q = 1;
            printf "BENCH %s_ctxsw_per_query %.2f switches\n", n, sw / q;
            printf "BENCH %s_cpu_us_per_query %.1f us\n", n, (us + sy) * 1e6 / hz / q;
            printf "BENCH %s_sys_share %.2f ratio\n", n, (us + sy > 0 ? sy / (us + sy) : 0) }'
        done
    done
}

failed=0
if [ "${SW_CLUSTER:-0}" = 1 ]; then
    base=${BENCH_CLUSTER_BASE:-25100}
    start_cluster "$base"
    play=${pids[-1]}
    sq= kv= pd=
    for c in $(pgrep -P "$play"); do
        case $(tr '\0' ' ' <"/proc/$c/cmdline" | awk '{ print $1 }') in
        */sqld) sq=$c ;;
        */kvd) kv+="${kv:+,}$c" ;;
        */pdd) pd+="${pd:+,}$c" ;;
        esac
    done
    [ -n "$sq" ] && [ -n "$kv" ] && [ -n "$pd" ] || die "cannot find the playground's daemons"
    measure sqld $((base + 10)) "$sq" "kvd=${kv//,/ }" "pdd=${pd//,/ }"
    exit $failed
fi
workers=()
[ -n "${SW_WORKERS:-}" ] && workers=(--workers="$SW_WORKERS")
"$BUILD/daemons/bin/sqld" --listen=127.0.0.1:"$PORT" --store=local \
    --data-dir="$WORK/sqld" --log.file="$WORK/sqld.log" "${workers[@]}" &
spid=$!
pids+=($spid)
wait_port "$PORT" sqld "$spid" || die "sqld did not start: $(tail -n 5 "$WORK/sqld.log")"
measure sqld "$PORT" "$spid"
if [ "${SW_MARIADB:-0}" = 1 ]; then
    start_mariadb $((PORT + 1))
    measure mariadb $((PORT + 1)) "${pids[-1]}"
fi
exit $failed

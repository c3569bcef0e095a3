#!/usr/bin/env bash
# kvd-cpu-per-op.sh BUILD_DIR: what a durable put and a linearizable get
# cost in CPU on kvd (issue 5; libregion/DESIGN.md "kvd end to end"). Wall
# clock rates are noise on a shared machine; CPU time per acknowledged
# operation is not (much). Starts 3 kvd as bench-kvd.sh does (raft.sync-log
# on), runs kvbench's put phase and then a get phase over the keys written,
# and reads the kvd processes' user+system time from /proc/<pid>/stat
# before and after each phase (kvbench's own from /usr/bin/time). Prints:
#   BENCH kvd_<put|get>_c<N>_cpu_us_per_op <v> us   (3 kvd together)
#   BENCH kvd_<put|get>_c<N>_leader_cpu_us_per_op / _follower_ (the busier
#         follower) <v> us
#   BENCH kvbench_<put|get>_c<N>_cpu_us_per_op <v> us
#   INFO lines: ops, rate, CPU seconds per store
# Knobs: BENCH_TIME seconds per phase (5), BENCH_CLIENTS ("64"),
# BENCH_RUNS (1: repeat the put and get phases, one line set per run),
# BENCH_VALUE_SIZE (100), BENCH_KEY_SIZE (16), BENCH_KVD_PORT (27121),
# BENCH_KEEP=1 keeps the scratch directory, BENCH_PERF=DIR records
# `perf record -g` of the leader and a follower during each put phase into
# DIR (leader-put-c<N>.data, follower-put-c<N>.data); BENCH_STAT=1 counts
# the leader's and a follower's system calls and context switches during
# every phase with `perf stat` (exact counts, unlike CPU time) and prints
# them per operation as INFO lines. BENCH_CONNS=N runs kvbench with
# --conns=N (the clients share N connections; unset: one per client).
set -u
BUILD=${1:?usage: kvd-cpu-per-op.sh BUILD_DIR}
BIN=$BUILD/daemons/bin
TIME=${BENCH_TIME:-5}
CLIENTS=${BENCH_CLIENTS:-64}
RUNS=${BENCH_RUNS:-1}
VSIZE=${BENCH_VALUE_SIZE:-100}
KSIZE=${BENCH_KEY_SIZE:-16}
KP=${BENCH_KVD_PORT:-27121}
PERF=${BENCH_PERF:-}
STAT=${BENCH_STAT:-0}
CONNS=()
[ -n "${BENCH_CONNS:-}" ] && CONNS=(--conns="$BENCH_CONNS")
EVENTS=context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_sendmsg
EVENTS+=,syscalls:sys_enter_readv,syscalls:sys_enter_read
EVENTS+=,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_fdatasync
EVENTS+=,syscalls:sys_enter_futex,syscalls:sys_enter_write,syscalls:sys_enter_ioctl

die() { echo "kvd-cpu-per-op: $*" >&2; exit 1; }
for b in kvd kvbench; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing; build the daemons first"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian: time)"
HZ=$(getconf CLK_TCK)

. "$(dirname "$0")/lib-kvd3.sh"
kvd3_start kvd-cpu-per-op
kvd3_wait
leader=$("$BIN/kvd" ctl --addr="127.0.0.1:$KP" status 2>/dev/null |
    sed -n 's/.*"region_list":\[{[^]]*"leader":\([0-9]*\).*/\1/p')
[ -n "$leader" ] && [ "$leader" -ge 1 ] && [ "$leader" -le 3 ] ||
    die "no leader in store 1's status"

# clock ticks (user + system, every thread) of a process
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
snap() { for i in 1 2 3; do ticks "${pids[$((i - 1))]}"; done; }

# the leader's counters of interest from `kvd ctl status`, space-separated
counters() {
    "$BIN/kvd" ctl --addr="127.0.0.1:$((KP + leader - 1))" status 2>/dev/null |
        sed 's/,"region_list".*//' | tr -d '{}"' | tr ',' '\n' |
        awk -F: '$1 == "loop_iters" || $1 == "syncs" || $1 == "msgs_sent" ||
                 $1 == "msgs_received" || $1 == "proposals" ||
                 $1 == "applied" { printf "%s=%s ", $1, $2 }'
}

phase() { # run, op, clients, extra kvbench args...
    local run=$1 op=$2 c=$3
    shift 3
    local before after out="$WORK/out.$run.$op.$c" perfp=()
    read -r -a before <<<"$(snap | tr '\n' ' ')"
    local cbefore
    cbefore=$(counters)
    if [ -n "$PERF" ] && [ "$op" = put ]; then
        mkdir -p "$PERF"
        perf record -q -g -o "$PERF/leader-put-c$c.data" \
            -p "${pids[$((leader - 1))]}" 2>/dev/null &
        perfp+=($!)
        perf record -q -g -o "$PERF/follower-put-c$c.data" \
            -p "${pids[$((f - 1))]}" 2>/dev/null &
        perfp+=($!)
    fi
    local f=$((leader % 3 + 1))
    if [ "$STAT" = 1 ]; then
        perf stat -x, -e "$EVENTS" -o "$WORK/stat.leader" \
            -p "${pids[$((leader - 1))]}" 2>/dev/null &
        perfp+=($!)
        perf stat -x, -e "$EVENTS" -o "$WORK/stat.follower" \
            -p "${pids[$((f - 1))]}" 2>/dev/null &
        perfp+=($!)
    fi
    /usr/bin/time -f "%U %S" -o "$WORK/time" "$BIN/kvbench" --name=kvd \
        --target=kvd --addrs="$PEERS" --clients="$c" --duration="$TIME" \
        --key-size="$KSIZE" --value-size="$VSIZE" --ops="$op" \
        "${CONNS[@]}" "$@" \
        >"$out" 2>"$WORK/kvbench.err" ||
        die "kvbench $op c$c failed: $(cat "$WORK/kvbench.err")"
    read -r -a after <<<"$(snap | tr '\n' ' ')"
    local cafter
    cafter=$(counters)
    for p in "${perfp[@]}"; do kill -INT "$p"; done
    for p in "${perfp[@]}"; do wait "$p"; done
    local ops rate
    ops=$(sed -n "s/^INFO kvd_${op}_c$c ops=\([0-9]*\) .*/\1/p" "$out")
    rate=$(awk -v n="kvd_${op}_c$c" '$1 == "BENCH" && $2 == n { print $3 }' \
        "$out")
    [ -n "$ops" ] && [ "$ops" -gt 0 ] || die "no ops in $(cat "$out")"
    [ "$op" = put ] && keys=$ops
    local d1=$((after[0] - before[0])) d2=$((after[1] - before[1]))
    local d3=$((after[2] - before[2]))
    awk -v op="$op" -v c="$c" -v hz="$HZ" -v ops="$ops" -v rate="$rate" \
        -v l="$leader" -v d1="$d1" -v d2="$d2" -v d3="$d3" \
        -v kb="$(cat "$WORK/time")" -v la="$(cut -d' ' -f1 /proc/loadavg)" '
        BEGIN {
            d[1] = d1; d[2] = d2; d[3] = d3
            f = 0
            for (i = 1; i <= 3; i++) if (i != l && d[i] > f) f = d[i]
            split(kb, t, " ")
            us = 1e6 / hz / ops
            printf "BENCH kvd_%s_c%d_cpu_us_per_op %.1f us\n", op, c,
                (d1 + d2 + d3) * us
            printf "BENCH kvd_%s_c%d_leader_cpu_us_per_op %.1f us\n", op, c,
                d[l] * us
            printf "BENCH kvd_%s_c%d_follower_cpu_us_per_op %.1f us\n", op,
                c, f * us
            printf "BENCH kvbench_%s_c%d_cpu_us_per_op %.1f us\n", op, c,
                (t[1] + t[2]) * 1e6 / ops
            printf "INFO kvd_%s_c%d ops=%d rate=%s/s leader=%d " \
                "cpu_s=%.2f,%.2f,%.2f kvbench_cpu_s=%.2f load=%s\n",
                op, c, ops, rate, l, d1 / hz, d2 / hz, d3 / hz,
                t[1] + t[2], la
        }'
    echo "$cbefore|$cafter" | awk -v op="$op" -v c="$c" -v ops="$ops" '
        { split($0, h, "|"); nb = split(h[1], b, " "); split(h[2], a, " ")
          line = ""
          for (i = 1; i <= nb; i++) {
              split(b[i], x, "="); split(a[i], y, "=")
              line = line sprintf(" %s=%.3f", x[1], (y[2] - x[2]) / ops)
          }
          printf "INFO kvd_%s_c%d_leader_counts_per_op%s\n", op, c, line }'
    if [ "$STAT" = 1 ]; then
        local who
        for who in leader follower; do
            awk -F, -v op="$op" -v c="$c" -v w="$who" -v ops="$ops" '
                $3 != "" && $1 ~ /^[0-9.]+$/ {
                    n = $3
                    sub(/^syscalls:sys_enter_/, "", n)
                    sub(/^raw_syscalls:sys_enter$/, "syscalls", n)
                    sub(/^context-switches$/, "cs", n)
                    line = line sprintf(" %s=%.2f", n, $1 / ops)
                }
                END { printf "INFO kvd_%s_c%d_%s_per_op%s\n", op, c, w, line }
            ' "$WORK/stat.$who"
        done
    fi
}

keys=0
for run in $(seq 1 "$RUNS"); do
    for c in $CLIENTS; do
        phase "$run" put "$c"
        phase "$run" get "$c" --keys="$keys"
    done
done

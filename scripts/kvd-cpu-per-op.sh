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
#   INFO lines: ops, rate, CPU seconds per store, the kernel part of the
#   leader's and kvbench's CPU per operation (system time)
# Knobs: BENCH_TIME seconds per phase (5), BENCH_CLIENTS ("64"),
# BENCH_RUNS (1: repeat the put and get phases, one line set per run),
# BENCH_VALUE_SIZE (100), BENCH_KEY_SIZE (16), BENCH_KVD_PORT (27121),
# BENCH_KEEP=1 keeps the scratch directory, BENCH_PERF=DIR records
# `perf record -g` of the leader and a follower during every phase into
# DIR (leader-<op>-c<N>.data, follower-<op>-c<N>.data); BENCH_STAT=1 counts
# the leader's and a follower's system calls and context switches during
# every phase with `perf stat` (exact counts, unlike CPU time) and prints
# them per operation as INFO lines. BENCH_CONNS=N runs kvbench with
# --conns=N (the clients share N connections; unset: one per client).
# BENCH_SCHED=1 reads every thread's /proc/<pid>/task/<tid>/schedstat
# and context switches on the leader and a follower around each phase
# and prints, per thread kind (loop = the main thread, region-log = the
# log writer, other = the rest together), microseconds on a CPU, microseconds
# runnable but waiting for one (run-queue wait) and context switches, all
# per operation: INFO kvd_<op>_c<N>_<leader|follower>_sched_per_op.
# BENCH_OPS ("put get"): the phases of a run, in order, among put, get
# (needs a put before it: the keys it wrote) and echo (librpc's echo on
# the leader, the transport alone). With BENCH_STAT=1 kvbench runs under
# `perf stat` too: INFO kvd_<op>_c<N>_kvbench_per_op.
set -u
BUILD=${1:?usage: kvd-cpu-per-op.sh BUILD_DIR}
BIN=$BUILD/daemons/bin
TIME=${BENCH_TIME:-5}
CLIENTS=${BENCH_CLIENTS:-64}
RUNS=${BENCH_RUNS:-1}
OPS=${BENCH_OPS:-put get}
VSIZE=${BENCH_VALUE_SIZE:-100}
KSIZE=${BENCH_KEY_SIZE:-16}
KP=${BENCH_KVD_PORT:-27121}
PERF=${BENCH_PERF:-}
STAT=${BENCH_STAT:-0}
SCHED=${BENCH_SCHED:-0}
CONNS=()
[ -n "${BENCH_CONNS:-}" ] && CONNS=(--conns="$BENCH_CONNS")
EVENTS=context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_sendmsg
EVENTS+=,syscalls:sys_enter_readv,syscalls:sys_enter_read
EVENTS+=,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_fdatasync
EVENTS+=,syscalls:sys_enter_futex,syscalls:sys_enter_write,syscalls:sys_enter_ioctl

die() { echo "kvd-cpu-per-op: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian: time)"
HZ=$(getconf CLK_TCK)

. "$(dirname "$0")/lib-kvd3.sh"
kvd3_start kvd-cpu-per-op
kvd3_wait
# the region's leader as store 1 sees it, into $leader (again before every
# phase: an election during a put phase moves it, and the per-leader
# figures would follow the wrong process)
find_leader() {
    leader=$("$BIN/kvd" ctl --addr="127.0.0.1:$KP" status 2>/dev/null |
        sed -n 's/.*"region_list":\[{[^]]*"leader":\([0-9]*\).*/\1/p')
    [ -n "$leader" ] && [ "$leader" -ge 1 ] && [ "$leader" -le 3 ] ||
        die "no leader in store 1's status"
}
find_leader

# clock ticks (user + system, every thread) of a process
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
sys_ticks() { awk '{ print $15 }' "/proc/$1/stat"; }
snap() { for i in 1 2 3; do ticks "${pids[$((i - 1))]}"; done; }

# a store's counters of interest from `kvd ctl status`, space-separated
counters() { # store
    "$BIN/kvd" ctl --addr="127.0.0.1:$((KP + $1 - 1))" status 2>/dev/null |
        sed 's/,"region_list".*//' | tr -d '{}"' | tr ',' '\n' |
        awk -F: '$1 == "loop_iters" || $1 == "syncs" || $1 == "msgs_sent" ||
                 $1 == "msgs_received" || $1 == "proposals" ||
                 $1 == "applied" || $1 ~ /^(lat|wjob)/ {
                     printf "%s=%s ", $1, $2 }'
}

# every thread of a process: kind run_ns wait_ns context_switches
sched_snap() {
    local t kind
    for t in /proc/"$1"/task/*; do
        kind=other
        [ "${t##*/}" = "$1" ] && kind=loop
        [ "$(cat "$t/comm" 2>/dev/null)" = region-log ] && kind=region-log
        echo "$kind $(cut -d' ' -f1,2 "$t/schedstat" 2>/dev/null) $(awk '
            /^(non)?voluntary_ctxt_switches/ { n += $2 } END { print n }
            ' "$t/status" 2>/dev/null)"
    done
}

# before and after sched_snap files -> one INFO line per thread kind
sched_report() { # before after op clients who ops
    awk -v op="$3" -v c="$4" -v w="$5" -v ops="$6" '
        NR == FNR { r[$1] -= $2; q[$1] -= $3; x[$1] -= $4; next }
        { r[$1] += $2; q[$1] += $3; x[$1] += $4 }
        END {
            line = ""
            n = split("loop region-log other", k, " ")
            for (i = 1; i <= n; i++)
                line = line sprintf(" %s_run_us=%.2f %s_wait_us=%.2f " \
                    "%s_cs=%.3f", k[i], r[k[i]] / 1e3 / ops, k[i],
                    q[k[i]] / 1e3 / ops, k[i], x[k[i]] / ops)
            printf "INFO kvd_%s_c%d_%s_sched_per_op%s\n", op, c, w, line
        }' "$1" "$2"
}

phase() { # run, op, clients, extra kvbench args...
    local run=$1 op=$2 c=$3
    shift 3
    find_leader
    local before after out="$WORK/out.$run.$op.$c" perfp=()
    read -r -a before <<<"$(snap | tr '\n' ' ')"
    local lsys0
    lsys0=$(sys_ticks "${pids[$((leader - 1))]}")
    local f=$((leader % 3 + 1))
    local cbefore fbefore
    cbefore=$(counters "$leader")
    fbefore=$(counters "$f")
    if [ -n "$PERF" ]; then
        mkdir -p "$PERF"
        perf record -q -g -o "$PERF/leader-$op-c$c.data" \
            -p "${pids[$((leader - 1))]}" 2>/dev/null &
        perfp+=($!)
        perf record -q -g -o "$PERF/follower-$op-c$c.data" \
            -p "${pids[$((f - 1))]}" 2>/dev/null &
        perfp+=($!)
    fi
    if [ "$STAT" = 1 ]; then
        perf stat -x, -e "$EVENTS" -o "$WORK/stat.leader" \
            -p "${pids[$((leader - 1))]}" 2>/dev/null &
        perfp+=($!)
        perf stat -x, -e "$EVENTS" -o "$WORK/stat.follower" \
            -p "${pids[$((f - 1))]}" 2>/dev/null &
        perfp+=($!)
    fi
    if [ "$SCHED" = 1 ]; then
        sched_snap "${pids[$((leader - 1))]}" >"$WORK/sched.leader.0"
        sched_snap "${pids[$((f - 1))]}" >"$WORK/sched.follower.0"
    fi
    local stat=()
    [ "$STAT" = 1 ] &&
        stat=(perf stat -x, -e "$EVENTS" -o "$WORK/stat.kvbench" --)
    ${stat[@]+"${stat[@]}"} \
        /usr/bin/time -f "%U %S" -o "$WORK/time" "$BIN/kvbench" --name=kvd \
        --target=kvd --addrs="$PEERS" --clients="$c" --duration="$TIME" \
        --key-size="$KSIZE" --value-size="$VSIZE" --ops="$op" \
        "${CONNS[@]}" "$@" \
        >"$out" 2>"$WORK/kvbench.err" ||
        die "kvbench $op c$c failed: $(cat "$WORK/kvbench.err")"
    read -r -a after <<<"$(snap | tr '\n' ' ')"
    local lsys=$(($(sys_ticks "${pids[$((leader - 1))]}") - lsys0))
    if [ "$SCHED" = 1 ]; then
        sched_snap "${pids[$((leader - 1))]}" >"$WORK/sched.leader.1"
        sched_snap "${pids[$((f - 1))]}" >"$WORK/sched.follower.1"
    fi
    local cafter fafter
    cafter=$(counters "$leader")
    fafter=$(counters "$f")
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
        -v kb="$(cat "$WORK/time")" -v la="$(cut -d' ' -f1 /proc/loadavg)" \
        -v lsys="$lsys" '
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
            printf "INFO kvd_%s_c%d_kernel_us_per_op leader=%.2f " \
                "kvbench=%.2f\n", op, c, lsys * us, t[2] * 1e6 / ops
            printf "INFO kvd_%s_c%d ops=%d rate=%s/s leader=%d " \
                "cpu_s=%.2f,%.2f,%.2f kvbench_cpu_s=%.2f load=%s\n",
                op, c, ops, rate, l, d1 / hz, d2 / hz, d3 / hz,
                t[1] + t[2], la
        }'
    local w
    for w in "leader|$cbefore|$cafter" "follower|$fbefore|$fafter"; do
        echo "$w" | awk -v op="$op" -v c="$c" -v ops="$ops" '
            { split($0, h, "|"); nb = split(h[2], b, " "); split(h[3], a, " ")
              line = ""
              for (i = 1; i <= nb; i++) {
                  split(b[i], x, "="); split(a[i], y, "=")
                  d[x[1]] = y[2] - x[2]
                  if (x[1] !~ /^(lat|wjob)/)
                      line = line sprintf(" %s=%.3f", x[1], d[x[1]] / ops)
              }
              printf "INFO kvd_%s_c%d_%s_counts_per_op%s\n", op, c, h[1],
                  line
              # stage times in ms (means), per timed batch and per job
              ms = 1e6
              printf "INFO kvd_%s_c%d_%s_stages_ms", op, c, h[1]
              if (d["lat_batches"] > 0)
                  printf " batches=%d commit=%.3f apply=%.3f", \
                      d["lat_batches"], d["lat_commit_ns"] / \
                      d["lat_batches"] / ms, d["lat_apply_ns"] / \
                      d["lat_batches"] / ms
              if (d["lat_durable_n"] > 0)
                  printf " own_durable=%.3f", d["lat_durable_ns"] / \
                      d["lat_durable_n"] / ms
              if (d["wjobs"] > 0)
                  printf " jobs=%d job_queue=%.3f job_write=%.3f " \
                      "job_done=%.3f", d["wjobs"], d["wjob_queue_ns"] / \
                      d["wjobs"] / ms, d["wjob_write_ns"] / d["wjobs"] / ms,
                      d["wjob_done_ns"] / d["wjobs"] / ms
              if (d["syncs"] > 0)
                  printf " puts_per_sync=%.1f", ops / d["syncs"]
              printf "\n" }'
    done
    if [ "$SCHED" = 1 ]; then
        local w
        for w in leader follower; do
            sched_report "$WORK/sched.$w.0" "$WORK/sched.$w.1" "$op" "$c" \
                "$w" "$ops"
        done
    fi
    if [ "$STAT" = 1 ]; then
        local who
        for who in leader follower kvbench; do
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
        for op in $OPS; do
            case $op in
            put | echo) phase "$run" "$op" "$c" ;;
            get)
                [ "$keys" -gt 0 ] || die "BENCH_OPS: get needs a put before it"
                phase "$run" get "$c" --keys="$keys"
                ;;
            *) die "BENCH_OPS: unknown phase $op" ;;
            esac
        done
    done
done

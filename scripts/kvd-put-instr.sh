#!/usr/bin/env bash
# kvd-put-instr.sh BUILD_DIR: instructions a durable put costs kvd's leader
# and one follower (user space, every thread; system calls not counted),
# the stable figure for before/after comparisons of the write path on a
# shared machine (issue 5; libregion/DESIGN.md "Where a put goes").
# Starts 3 kvd as bench-kvd.sh does, stores 1 and 2 under callgrind with
# instrumentation off, moves the region's leadership to store 1, writes
# CG_WARM keys, then per client count turns instrumentation on in both
# for one put phase of CG_PUTS puts, dumps, and divides:
#   BENCH kvd_put_c<N>_leader_instr_per_put <v> instr
#   BENCH kvd_put_c<N>_follower_instr_per_put <v> instr
# Knobs: CG_CLIENTS ("64"), CG_WARM (5000), CG_PUTS (20000),
# BENCH_CONNS=N (kvbench --conns; default 1), BENCH_KVD_PORT (27141),
# CG_KEEP=DIR keeps the profiles there (for callgrind_annotate),
# BENCH_KEEP=1 keeps the scratch directory.
set -u
BUILD=${1:?usage: kvd-put-instr.sh BUILD_DIR}
BIN=$BUILD/daemons/bin
CLIENTS=${CG_CLIENTS:-64}
WARM=${CG_WARM:-5000}
PUTS=${CG_PUTS:-20000}
KP=${BENCH_KVD_PORT:-27141}
CONNS=(--conns="${BENCH_CONNS:-1}")

die() { echo "kvd-put-instr: $*" >&2; exit 1; }
. "$(dirname "$0")/lib-kvd3.sh"
kvd3_callgrind_start kvd-put-instr 2
"$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients=64 --conns=1 \
    --duration=600 --count="$WARM" --ops=put >"$WORK/warm.out" \
    2>"$WORK/warm.err" || die "puts failed: $(cat "$WORK/warm.err")"
ir_of() { # store, dump name -> instructions of that dump
    local f n ir=0
    for f in "$CG"/cg"$1".out.*; do
        grep -q "^desc: Trigger: .*$2\$" "$f" 2>/dev/null || continue
        n=$(sed -n 's/^summary: \([0-9]*\).*/\1/p' "$f")
        ir=$((ir + ${n:-0}))
        [ -n "${CG_KEEP:-}" ] && mkdir -p "$CG_KEEP" && cp "$f" "$CG_KEEP/"
    done
    echo "$ir"
}
for c in $CLIENTS; do
    [ "$(kvd3_leader)" = 1 ] || die "store 1 lost the leadership"
    for i in 0 1; do
        callgrind_control -z "${pids[$i]}" >/dev/null 2>&1
        callgrind_control -i on "${pids[$i]}" >/dev/null 2>&1
    done
    "$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients="$c" \
        --duration=600 --count="$PUTS" --ops=put "${CONNS[@]}" \
        >"$WORK/put.$c" 2>"$WORK/put.err" ||
        die "puts failed: $(cat "$WORK/put.err")"
    for i in 0 1; do
        callgrind_control -d "put-c$c" "${pids[$i]}" >/dev/null 2>&1
        callgrind_control -i off "${pids[$i]}" >/dev/null 2>&1
    done
    ops=$(sed -n "s/^INFO kvd_put_c$c ops=\([0-9]*\) .*/\1/p" "$WORK/put.$c")
    ir1=$(ir_of 1 "put-c$c")
    ir2=$(ir_of 2 "put-c$c")
    [ "${ops:-0}" -gt 0 ] && [ "$ir1" -gt 0 ] && [ "$ir2" -gt 0 ] ||
        die "no puts or no profile (ops=${ops:-}, ir=$ir1 $ir2)"
    awk -v c="$c" -v a="$ir1" -v b="$ir2" -v ops="$ops" \
        -v la="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        printf "BENCH kvd_put_c%d_leader_instr_per_put %.0f instr\n", c, a / ops
        printf "BENCH kvd_put_c%d_follower_instr_per_put %.0f instr\n", c, b / ops
        printf "INFO kvd_put_c%d puts=%d leader_instr=%d follower_instr=%d load=%s\n",
            c, ops, a, b, la }'
done

#!/usr/bin/env bash
# kvd-get-instr.sh BUILD_DIR: instructions a linearizable get costs kvd's
# leader (user space, every thread; system calls not counted), the stable
# figure for before/after comparisons of the get path on a shared machine
# (issue 5; libregion/DESIGN.md "Gets under the lease in one check").
# Starts 3 kvd as bench-kvd.sh does, store 1 under callgrind with
# instrumentation off, moves the region's leadership to it, writes keys with kvbench, then per client
# count turns instrumentation on for one get phase, dumps, and divides the
# instructions by the gets kvbench counted:
#   BENCH kvd_get_c<N>_instr_per_get <v> instr
# The same CG_KEYS keys (20000) are written every run and CG_GETS (5000)
# gets counted per client count, so runs compare.
# With CG_CLIENT=1 kvbench (the client, on the same cores) is counted
# too: each get phase runs again with kvbench under callgrind, and again
# with a single get, and the difference over CG_GETS - 1 gets is
#   BENCH kvbench_get_c<N>_instr_per_get <v> instr
# (its start, connect and Locate cancel out).
# Knobs: CG_CLIENTS ("1 64"), CG_KEYS, CG_GETS, CG_CLIENT,
# BENCH_CONNS=N (kvbench --conns: the clients share N connections),
# BENCH_KVD_PORT (27131), CG_KEEP=DIR keeps the profiles there (for
# callgrind_annotate), BENCH_KEEP=1 keeps the scratch directory.
set -u
BUILD=${1:?usage: kvd-get-instr.sh BUILD_DIR}
BIN=$BUILD/daemons/bin
CLIENTS=${CG_CLIENTS:-1 64}
KEYS=${CG_KEYS:-20000}
GETS=${CG_GETS:-5000}
KP=${BENCH_KVD_PORT:-27131}
CONNS=()
[ -n "${BENCH_CONNS:-}" ] && CONNS=(--conns="$BENCH_CONNS")

die() { echo "kvd-get-instr: $*" >&2; exit 1; }
. "$(dirname "$0")/lib-kvd3.sh"
kvd3_callgrind_start kvd-get-instr 1
# the same keys every run (the memtable's depth is most of a get's cost)
"$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients=64 --conns=1 \
    --duration=600 --count="$KEYS" --ops=put >"$WORK/put.out" \
    2>"$WORK/put.err" || die "puts failed: $(cat "$WORK/put.err")"
keys=$(sed -n 's/^INFO kvd_put_c64 ops=\([0-9]*\) .*/\1/p' "$WORK/put.out")
[ "$keys" = "$KEYS" ] || die "wrote ${keys:-no} keys, not $KEYS"
pid=${pids[0]}
for c in $CLIENTS; do
    kvd3_lead1 # callgrind slows store 1: it may have lost the leadership
    callgrind_control -z "$pid" >/dev/null 2>&1
    callgrind_control -i on "$pid" >/dev/null 2>&1
    "$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients="$c" \
        --duration=600 --count="$GETS" --ops=get --keys="$keys" \
        ${CONNS[@]+"${CONNS[@]}"} \
        >"$WORK/get.$c" 2>"$WORK/get.err" ||
        die "gets failed: $(cat "$WORK/get.err")"
    callgrind_control -d "get-c$c" "$pid" >/dev/null 2>&1
    callgrind_control -i off "$pid" >/dev/null 2>&1
    ops=$(sed -n "s/^INFO kvd_get_c$c ops=\([0-9]*\) .*/\1/p" "$WORK/get.$c")
    ir=0
    for f in "$CG"/cg1.out.*; do
        grep -q "^desc: Trigger: .*get-c$c" "$f" 2>/dev/null || continue
        n=$(sed -n 's/^summary: \([0-9]*\).*/\1/p' "$f")
        ir=$((ir + ${n:-0}))
        [ -n "${CG_KEEP:-}" ] && mkdir -p "$CG_KEEP" && cp "$f" "$CG_KEEP/"
    done
    [ "${ops:-0}" -gt 0 ] && [ "$ir" -gt 0 ] ||
        die "no gets or no profile (ops=${ops:-}, ir=$ir)"
    awk -v c="$c" -v ir="$ir" -v ops="$ops" -v la="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        printf "BENCH kvd_get_c%d_instr_per_get %.0f instr\n", c, ir / ops
        printf "INFO kvd_get_c%d gets=%d instr=%d load=%s\n", c, ops, ir, la }'
    [ "${CG_CLIENT:-0}" = 1 ] || continue
    cl=()
    for n in "$GETS" 1; do
        valgrind --tool=callgrind --log-file="$CG/kvbench.log" \
            --callgrind-out-file="$CG/kvbench.$n" \
            "$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients="$c" \
            --duration=600 --count="$n" --ops=get --keys="$keys" \
            ${CONNS[@]+"${CONNS[@]}"} >"$WORK/cl.$n" 2>"$WORK/get.err" ||
            die "kvbench under callgrind failed: $(cat "$WORK/get.err")"
        cl+=("$(sed -n 's/^summary: \([0-9]*\).*/\1/p' "$CG/kvbench.$n")")
        [ -n "${CG_KEEP:-}" ] && mkdir -p "$CG_KEEP" &&
            cp "$CG/kvbench.$n" "$CG_KEEP/kvbench-c$c.$n"
    done
    awk -v c="$c" -v a="${cl[0]}" -v b="${cl[1]}" -v g="$GETS" 'BEGIN {
        printf "BENCH kvbench_get_c%d_instr_per_get %.0f instr\n", c,
            (a - b) / (g - 1) }'
done

#!/usr/bin/env bash
# region-put-instr.sh BUILD_DIR [N]: instructions one replicated raw put
# costs in libregion + libraft + RocksDB (3 stores in one process, no
# network; libregion/tests/bench_put_cost.c), counted by callgrind, which
# repeats to about 0.001% where CPU time on the shared machine does not
# (../shared/DESIGN.md). Runs the bench with N and 3N puts (N = 2000) and
# divides the difference by 2N, so start-up and shutdown cancel. Prints
#   BENCH region_put_instr_per_put <v> instr
# plus the bench's own exact counts (Raft messages, loop iterations per
# put) of the larger run. Builds the bench first (make -C libregion).
set -u
BUILD=${1:?usage: region-put-instr.sh BUILD_DIR [N]}
N=${2:-2000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "$BUILD" && pwd)/libregion/bench/bench_put_cost
make -s -C "$TOP/libregion" "$BIN" >/dev/null || exit 1
command -v valgrind >/dev/null || { echo "valgrind is missing" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/region-instr.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
count() { # puts -> total instructions (every thread)
    (cd "$WORK" && valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$BIN" "$1" >"$WORK/out.$1" 2>"$WORK/err.$1") ||
        { cat "$WORK/err.$1" >&2; exit 1; }
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$WORK/err.$1"
}
a=$(count "$N")
b=$(count $((3 * N)))
[ -n "$a" ] && [ -n "$b" ] || { echo "no callgrind totals" >&2; exit 1; }
awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN {
    printf "BENCH region_put_instr_per_put %.0f instr\n", (b - a) / (2 * n) }'
grep '^BENCH' "$WORK/out.$((3 * N))"

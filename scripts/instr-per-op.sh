#!/usr/bin/env bash
# instr-per-op.sh NAME BIN [N]: instructions per operation of a counting
# benchmark BIN that takes its operation count as its only argument
# (libregion's bench_put_cost, librpc's bench_call_cost). Runs it under
# callgrind with N and 3N operations and divides the difference by 2N,
# so start-up and shutdown cancel; callgrind's counts repeat to about
# 0.001% where CPU time on the shared machine does not
# (../shared/DESIGN.md). Prints `BENCH NAME <v> instr` and BIN's own
# BENCH lines of the larger run.
set -u
NAME=${1:?usage: instr-per-op.sh NAME BIN [N]}
BIN=${2:?usage: instr-per-op.sh NAME BIN [N]}
N=${3:-2000}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
command -v valgrind >/dev/null || { echo "valgrind is missing" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/instr.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
count() { # ops -> total instructions (every thread)
    (cd "$WORK" && valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$BIN" "$1" >"$WORK/out.$1" 2>"$WORK/err.$1") ||
        { cat "$WORK/err.$1" >&2; exit 1; }
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$WORK/err.$1"
}
a=$(count "$N")
b=$(count $((3 * N)))
[ -n "$a" ] && [ -n "$b" ] || { echo "no callgrind totals" >&2; exit 1; }
awk -v a="$a" -v b="$b" -v n="$N" -v name="$NAME" 'BEGIN {
    printf "BENCH %s %.0f instr\n", name, (b - a) / (2 * n) }'
grep '^BENCH' "$WORK/out.$((3 * N))"
exit 0

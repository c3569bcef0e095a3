#!/usr/bin/env bash
# region-put-instr.sh BUILD_DIR [N]: instructions one replicated raw put
# costs in libregion + libraft + RocksDB (3 stores in one process, no
# network; libregion/tests/bench_put_cost.c), from callgrind with N and 3N
# puts (N = 2000; scripts/instr-per-op.sh). Prints
#   BENCH region_put_instr_per_put <v> instr
# plus the bench's own exact counts (Raft messages, loop iterations per
# put). Builds the bench first (make -C libregion).
set -u
BUILD=${1:?usage: region-put-instr.sh BUILD_DIR [N]}
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "$BUILD" && pwd)/libregion/bench/bench_put_cost
make -s -C "$TOP/libregion" "$BIN" >/dev/null || exit 1
exec "$TOP/scripts/instr-per-op.sh" region_put_instr_per_put "$BIN" "${2:-2000}"

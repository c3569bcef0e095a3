#!/usr/bin/env bash
# test_bench_joins.sh: `make bench-joins` (scripts/bench-joins.sh) end to
# end on a tiny dataset: it starts its own MariaDB and sqld, loads both,
# every query answers the same rows on both (the script fails otherwise),
# every promised BENCH line is printed once with a positive number, and no
# server is left behind. Figures are not judged (no timing thresholds).
. "$(dirname "$0")/lib.sh"

t_pick_base 25400 25780
TOP=$(cd "$(dirname "$0")/../.." && pwd)
QUERIES="q1 q3 q4 q5 q10 q12 q14 q16 q18 q19 join10"

t_case "bench-joins loads both servers and every query answers alike"
BENCH_SCALE=0.1 BENCH_REPEAT=1 BENCH_SQLD_PORT=$((T_BASE + 1)) \
    BENCH_MARIADB_PORT=$((T_BASE + 2)) TMPDIR="$T_TMP" \
    "$TOP/scripts/bench-joins.sh" "$BUILD_DIR" >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
t_expect_eq "exit" "$rc" 0
[ $rc -eq 0 ] || sed 's/^/      /' "$T_TMP/err"

t_case "every promised line is there once, positive, with its unit"
for server in sqld mariadb; do
    t_expect_eq "load $server" "$(grep -cE "^BENCH join_load_s_$server [0-9.]+ s\$" "$T_TMP/out")" 1
done
for q in $QUERIES; do
    for line in "ms_sqld [0-9.]+ ms" "ms_mariadb [0-9.]+ ms" "vs_mariadb [0-9.e+-]+ x"; do
        t_expect_eq "$q $line" "$(grep -cE "^BENCH join_${q}_$line\$" "$T_TMP/out")" 1
    done
done
t_expect_eq "lines in all" "$(grep -c '^BENCH ' "$T_TMP/out")" $((2 + 3 * 11))
t_expect_eq "non-positive figures" "$(awk '/^BENCH / && $3 + 0 <= 0' "$T_TMP/out")" ""

t_case "no server is left running and the scratch dir is gone"
for p in 1 2; do
    t_expect_eq "port +$p" \
        "$( (exec 3<>"/dev/tcp/127.0.0.1/$((T_BASE + p))") 2>/dev/null && echo open)" ""
done
t_expect_eq "scratch dirs" "$(ls -d "$T_TMP"/bench-joins.* 2>/dev/null)" ""

t_end

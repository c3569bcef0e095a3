#!/usr/bin/env bash
# test_bench_sqld.sh: `make bench-sqld` (scripts/bench-sqld.sh) end to end
# with tiny settings: it starts its own MariaDB, sqld and playground cluster,
# runs two sysbench workloads on each in two rounds, prints every BENCH line
# it promises with a number (each the median of its rounds, checked against
# the rounds' own figures), and leaves no server behind. Figures are not
# judged (no timing thresholds). A bad BENCH_ROUNDS is refused before any
# server starts.
. "$(dirname "$0")/lib.sh"

t_pick_base 25000 25980
TOP=$(cd "$(dirname "$0")/../.." && pwd)
WLS="oltp_point_select oltp_insert"

t_case "bench-sqld runs two workloads on sqld, the cluster and MariaDB"
# the cluster takes T_BASE+1..+16, sqld and MariaDB the two after
BENCH_TIME=1 BENCH_ROUNDS=2 BENCH_THREADS=2 BENCH_TABLES=1 BENCH_TABLE_SIZE=100 \
    BENCH_WORKLOADS="$WLS" BENCH_SQLD_PORT=$((T_BASE + 17)) \
    BENCH_MARIADB_PORT=$((T_BASE + 18)) BENCH_CLUSTER_BASE=$T_BASE TMPDIR="$T_TMP" \
    "$TOP/scripts/bench-sqld.sh" "$BUILD_DIR" >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
t_expect_eq "exit" "$rc" 0
[ $rc -eq 0 ] || sed 's/^/      /' "$T_TMP/err"

t_case "every promised line is there, with a number and its unit"
for wl in $WLS; do
    for line in "qps_sqld [0-9.]+ qps" "p95_sqld [0-9.]+ ms" \
                "qps_cluster [0-9.]+ qps" "p95_cluster [0-9.]+ ms" \
                "qps_mariadb [0-9.]+ qps" "p95_mariadb [0-9.]+ ms" \
                "vs_mariadb [0-9]+\.[0-9]{2} x" \
                "cluster_vs_mariadb [0-9]+\.[0-9]{2} x"; do
        n=$(grep -cE "^BENCH sysbench_${wl}_$line\$" "$T_TMP/out")
        t_expect_eq "$wl $line" "$n" 1
    done
done
t_expect_eq "lines in all" "$(grep -c '^BENCH ' "$T_TMP/out")" 16

t_case "each figure is the median of its rounds"
for wl in $WLS; do
    for r in 1 2; do
        n=$(grep -cE "^INFO sysbench_${wl}_round$r sqld=[0-9.]+ cluster=[0-9.]+ mariadb=[0-9.]+\$" "$T_TMP/err")
        t_expect_eq "$wl round $r" "$n" 1
    done
    for server in sqld cluster mariadb; do
        # two rounds: the median is their mean, to 2 decimals
        want=$(sed -n "s/^INFO sysbench_${wl}_round[12] .*$server=\([0-9.]*\).*/\1/p" "$T_TMP/err" |
            awk '{ s += $1 } END { printf "%.2f", s / 2 }')
        got=$(awk -v n="sysbench_${wl}_qps_$server" '$1 == "BENCH" && $2 == n { print $3 }' "$T_TMP/out")
        t_expect_eq "$wl $server qps" "$got" "$want"
    done
    # the ratio: the median (mean) of the rounds' own ratios, each taken
    # to 4 decimals as the script does
    want=$(awk -v wl="$wl" '$1 == "INFO" && $2 ~ "^sysbench_" wl "_round" {
            for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            s += sprintf("%.4f", v["cluster"] / v["mariadb"]) }
        END { printf "%.2f", s / 2 }' "$T_TMP/err")
    got=$(awk -v n="sysbench_${wl}_cluster_vs_mariadb" '$1 == "BENCH" && $2 == n { print $3 }' "$T_TMP/out")
    t_expect_eq "$wl cluster ratio" "$got" "$want"
done

t_case "throughput figures are positive"
bad=$(awk '/^BENCH .*_(qps_[a-z]+|vs_mariadb) / && $3 + 0 <= 0' "$T_TMP/out")
t_expect_eq "non-positive figures" "$bad" ""

t_case "no server is left running and the scratch dir is gone"
for p in 1 3 5 7 10 11 12 13 14 17 18; do
    t_expect_eq "port +$p" \
        "$( (exec 3<>"/dev/tcp/127.0.0.1/$((T_BASE + p))") 2>/dev/null && echo open)" ""
done
t_expect_eq "daemons left" "$(pgrep -f -- "--data-dir=$T_TMP/bench-sqld")" ""
t_expect_eq "scratch dirs" "$(ls -d "$T_TMP"/bench-sqld.* 2>/dev/null)" ""

t_case "a bad BENCH_ROUNDS is refused before anything starts"
BENCH_ROUNDS=0 BENCH_CLUSTER_BASE=$T_BASE TMPDIR="$T_TMP" \
    "$TOP/scripts/bench-sqld.sh" "$BUILD_DIR" >"$T_TMP/out" 2>"$T_TMP/err"
t_expect_eq "exit" "$?" 2
t_expect_eq "message" "$(cat "$T_TMP/err")" \
    "bench-sqld: BENCH_ROUNDS must be a positive number, not '0'"
t_expect_eq "scratch dirs" "$(ls -d "$T_TMP"/bench-sqld.* 2>/dev/null)" ""

t_end

#!/usr/bin/env bash
# bench-sqld.sh BUILD_DIR: `make bench-sqld`. Runs sysbench's OLTP
# workloads against sqld on its embedded store (RocksDB; server "sqld"),
# sqld on a playground cluster (3 pdd, 3 kvd with 3 replicas, started by
# scripts/run-playground.sh; server "cluster") and, in the same run and
# with the same tables, threads and duration, against a MariaDB server it
# starts from Debian's package (as this user, in a scratch directory, on
# loopback; never the system service). Each workload's tables are
# prepared once per server, then the servers take turns: BENCH_ROUNDS
# rounds, each running the workload BENCH_TIME seconds on every server in
# BENCH_SERVERS order, so each ratio compares runs minutes apart at most
# (this machine's load moves the rates of runs further apart by 2x).
# Prints, per workload:
#   BENCH sysbench_<workload>_qps_<server> <queries per second> qps
#   BENCH sysbench_<workload>_p95_<server> <95th percentile latency> ms
#   BENCH sysbench_<workload>_vs_mariadb <sqld qps / mariadb qps> x
#   BENCH sysbench_<workload>_cluster_vs_mariadb <cluster / mariadb> x
# each the median over the rounds (a ratio: the median of the rounds' own
# ratios), and on stderr an INFO line per round with its figures.
# Knobs (environment): BENCH_TIME seconds per run (10), BENCH_ROUNDS (3),
# BENCH_THREADS (4), BENCH_TABLES (2), BENCH_TABLE_SIZE rows per table
# (10000),
# BENCH_WORKLOADS (the five below), BENCH_PS=1 for server-side prepared
# statements (sysbench --db-ps-mode=auto) instead of text queries,
# BENCH_SERVERS (sqld cluster mariadb: leave some out to skip them),
# BENCH_SQLD_PORT / BENCH_MARIADB_PORT (25000 / 25001), BENCH_CLUSTER_BASE
# (25100: the playground takes the next 16 ports), TMPDIR for the scratch
# directory.
#
# Durability is equal on both sides: MariaDB's InnoDB flushes its log on
# every commit (innodb_flush_log_at_trx_commit=1, its default) and sqld's
# embedded store syncs its WAL on every commit; on the cluster each commit
# is in a Raft log synced on a majority of the three kvd.
set -u
BUILD=${1:?usage: bench-sqld.sh BUILD_DIR}
TIME=${BENCH_TIME:-10}
THREADS=${BENCH_THREADS:-4}
TABLES=${BENCH_TABLES:-2}
SIZE=${BENCH_TABLE_SIZE:-10000}
WORKLOADS=${BENCH_WORKLOADS:-oltp_point_select oltp_read_only oltp_read_write oltp_update_index oltp_insert}
PS_MODE=disable
[ "${BENCH_PS:-0}" = 1 ] && PS_MODE=auto
SQLD_PORT=${BENCH_SQLD_PORT:-25000}
MDB_PORT=${BENCH_MARIADB_PORT:-25001}
CLUSTER_BASE=${BENCH_CLUSTER_BASE:-25100}
CLUSTER_PORT=$((CLUSTER_BASE + 10))
SERVERS=${BENCH_SERVERS:-sqld cluster mariadb}
has() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }
. "$(dirname "$0")/lib-rounds.sh"
bench_rounds bench-sqld

BENCH_NAME=bench-sqld
. "$(dirname "$0")/bench-lib.sh"
port_of() { # server
    case $1 in
    sqld) echo "$SQLD_PORT" ;;
    cluster) echo "$CLUSTER_PORT" ;;
    mariadb) echo "$MDB_PORT" ;;
    *) die "BENCH_SERVERS: unknown server '$1' (sqld, cluster, mariadb)" ;;
    esac
}
for server in $SERVERS; do port_of "$server" >/dev/null; done
need sysbench mariadb-admin
has mariadb && start_mariadb "$MDB_PORT"
has sqld && start_sqld "$SQLD_PORT"
has cluster && start_cluster "$CLUSTER_BASE"

sb() { # server port, workload, command
    sysbench "$2" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$1" \
        --mysql-user=root --mysql-db=sbtest --tables="$TABLES" \
        --table-size="$SIZE" --threads="$THREADS" --time="$TIME" \
        --db-ps-mode="$PS_MODE" --report-interval=0 --histogram=off "$3"
}


failed=0
for wl in $WORKLOADS; do
    declare -A qps=() p95=() ok=()
    for server in $SERVERS; do
        port=$(port_of "$server")
        log="$WORK/$server-$wl.log"
        if mariadb -h 127.0.0.1 -P "$port" -u root \
            -e "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest" >"$log" 2>&1 &&
            sb "$port" "$wl" prepare >>"$log" 2>&1; then
            ok[$server]=1
        else
            echo "bench-sqld: preparing $wl on $server failed:" >&2
            grep -m 3 -i 'error\|fatal' "$log" >&2
            failed=1
        fi
    done
    for ((r = 1; r <= ROUNDS; r++)); do
        info="INFO sysbench_${wl}_round$r"
        for server in $SERVERS; do
            [ -n "${ok[$server]:-}" ] || continue
            port=$(port_of "$server")
            log="$WORK/$server-$wl-$r.log"
            if ! sb "$port" "$wl" run >"$log" 2>&1; then
                echo "bench-sqld: $wl on $server failed (round $r):" >&2
                grep -m 3 -i 'error\|fatal' "$log" >&2
                failed=1
                unset "ok[$server]"
                continue
            fi
            q=$(sed -n 's/^ *queries: *[0-9]* *(\([0-9.]*\) per sec.)/\1/p' "$log")
            p=$(sed -n 's/^ *95th percentile: *\([0-9.]*\)/\1/p' "$log")
            if [ -z "$q" ] || [ -z "$p" ]; then
                echo "bench-sqld: no figures in sysbench's output for $wl on $server (round $r); see $log" >&2
                failed=1
                unset "ok[$server]"
                continue
            fi
            qps[$server]+="$q "
            p95[$server]+="$p "
            info+=" $server=$q"
        done
        echo "$info" >&2
    done
    for server in $SERVERS; do
        [ -n "${ok[$server]:-}" ] || continue
        # shellcheck disable=SC2086 # the rounds' figures, one word each
        echo "BENCH sysbench_${wl}_qps_$server $(median %.2f ${qps[$server]}) qps"
        # shellcheck disable=SC2086
        echo "BENCH sysbench_${wl}_p95_$server $(median %.2f ${p95[$server]}) ms"
    done
    for server in sqld cluster; do
        [ -n "${ok[$server]:-}" ] && [ -n "${ok[mariadb]:-}" ] || continue
        name=${wl}_vs_mariadb
        [ $server = cluster ] && name=${wl}_cluster_vs_mariadb
        read -r -a a <<<"${qps[$server]}"
        read -r -a b <<<"${qps[mariadb]}"
        ratios=()
        for ((i = 0; i < ${#a[@]}; i++)); do
            ratios+=("$(awk -v a="${a[$i]}" -v b="${b[$i]}" \
                'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')")
        done
        awk -v r="$(median %.2f "${ratios[@]}")" -v n="$name" \
            'BEGIN { printf "BENCH sysbench_%s %.2f x\n", n, r }'
        echo "INFO sysbench_${name} rounds: ${ratios[*]}" >&2
    done
    unset qps p95 ok
done
exit $failed

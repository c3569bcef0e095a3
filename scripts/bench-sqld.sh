#!/usr/bin/env bash
# bench-sqld.sh BUILD_DIR: `make bench-sqld`. Runs sysbench's OLTP
# workloads against sqld on its embedded store (RocksDB; server "sqld"),
# sqld on a playground cluster (3 pdd, 3 kvd with 3 replicas, started by
# scripts/run-playground.sh; server "cluster") and, in the same run and
# with the same tables, threads and duration, against a MariaDB server it
# starts from Debian's package (as this user, in a scratch directory, on
# loopback; never the system service). Prints, per workload:
#   BENCH sysbench_<workload>_qps_<server> <queries per second> qps
#   BENCH sysbench_<workload>_p95_<server> <95th percentile latency> ms
#   BENCH sysbench_<workload>_vs_mariadb <sqld qps / mariadb qps> x
#   BENCH sysbench_<workload>_cluster_vs_mariadb <cluster / mariadb> x
# Knobs (environment): BENCH_TIME seconds per workload (10), BENCH_THREADS
# (4), BENCH_TABLES (2), BENCH_TABLE_SIZE rows per table (10000),
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
BIN=$BUILD/daemons/bin
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

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-sqld.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
die() { echo "bench-sqld: $*" >&2; exit 1; }

for tool in sysbench mariadbd mariadb-install-db mariadb-admin; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
        die "$tool is missing; run 'make deps' (it installs mariadb-server and sysbench)"
done
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)

wait_port() { # port, name, pid[, seconds (30)]
    for _ in $(seq 1 $((${4:-30} * 10))); do
        mariadb-admin -h 127.0.0.1 -P "$1" -u root ping >/dev/null 2>&1 && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# MariaDB: a fresh data directory and a server owned by this user.
if has mariadb; then
    mariadb-install-db --no-defaults --datadir="$WORK/mariadb" --user="$(id -un)" \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$WORK/mariadb-install.log" 2>&1 ||
        die "mariadb-install-db failed; see $WORK/mariadb-install.log"
    "$MARIADBD" --no-defaults --datadir="$WORK/mariadb" --user="$(id -un)" \
        --bind-address=127.0.0.1 --port="$MDB_PORT" --socket="$WORK/mariadb.sock" \
        --skip-grant-tables --skip-name-resolve --max-connections=200 \
        --innodb-buffer-pool-size=512M --log-error="$WORK/mariadb.err" \
        2>>"$WORK/mariadb.err" &
    pids+=($!)
    wait_port "$MDB_PORT" mariadb $! || die "MariaDB did not start: $(tail -n 5 "$WORK/mariadb.err")"
fi

if has sqld; then
    "$BIN/sqld" --listen=127.0.0.1:"$SQLD_PORT" --store=local \
        --data-dir="$WORK/sqld" --log.file="$WORK/sqld.log" &
    pids+=($!)
    wait_port "$SQLD_PORT" sqld $! || die "sqld did not start: $(tail -n 5 "$WORK/sqld.log")"
fi

# The cluster: the playground on ports of its own; it stops its daemons
# when cleanup sends it SIGTERM.
if has cluster; then
    PLAYGROUND_DIR="$WORK/play" FRESH=1 PD_PORT=$((CLUSTER_BASE + 1)) \
        SQL_PORT=$CLUSTER_PORT KVD_PORT=$((CLUSTER_BASE + 11)) \
        KVD_STATUS_PORT=$((CLUSTER_BASE + 14)) SQL_STATUS_PORT=$((CLUSTER_BASE + 7)) \
        "$(dirname "$0")/run-playground.sh" "$BUILD" >"$WORK/play.out" 2>&1 &
    pids+=($!)
    wait_port "$CLUSTER_PORT" cluster $! 120 || die "the playground did not start: $(tail -n 8 "$WORK/play.out")"
fi

sb() { # server port, workload, command
    sysbench "$2" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$1" \
        --mysql-user=root --mysql-db=sbtest --tables="$TABLES" \
        --table-size="$SIZE" --threads="$THREADS" --time="$TIME" \
        --db-ps-mode="$PS_MODE" --report-interval=0 --histogram=off "$3"
}

failed=0
for wl in $WORKLOADS; do
    declare -A qps=()
    for server in $SERVERS; do
        case $server in
        sqld) port=$SQLD_PORT ;;
        cluster) port=$CLUSTER_PORT ;;
        mariadb) port=$MDB_PORT ;;
        *) die "BENCH_SERVERS: unknown server '$server' (sqld, cluster, mariadb)" ;;
        esac
        log="$WORK/$server-$wl.log"
        mariadb -h 127.0.0.1 -P "$port" -u root \
            -e "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest" >"$log" 2>&1 &&
            sb "$port" "$wl" prepare >>"$log" 2>&1 &&
            sb "$port" "$wl" run >>"$log" 2>&1
        if [ $? -ne 0 ]; then
            echo "bench-sqld: $wl on $server failed:" >&2
            grep -m 3 -i 'error\|fatal' "$log" >&2
            failed=1
            continue
        fi
        q=$(sed -n 's/^ *queries: *[0-9]* *(\([0-9.]*\) per sec.)/\1/p' "$log")
        p95=$(sed -n 's/^ *95th percentile: *\([0-9.]*\)/\1/p' "$log")
        qps[$server]=$q
        echo "BENCH sysbench_${wl}_qps_$server $q qps"
        echo "BENCH sysbench_${wl}_p95_$server $p95 ms"
    done
    for server in sqld cluster; do
        [ -n "${qps[$server]:-}" ] && [ -n "${qps[mariadb]:-}" ] || continue
        name=${wl}_vs_mariadb
        [ $server = cluster ] && name=${wl}_cluster_vs_mariadb
        awk -v a="${qps[$server]}" -v b="${qps[mariadb]}" -v n="$name" \
            'BEGIN { printf "BENCH sysbench_%s %.2f x\n", n, (b > 0 ? a / b : 0) }'
    done
    unset qps
done
exit $failed

#!/usr/bin/env bash
# bench-sqld.sh BUILD_DIR: `make bench-sqld`. Runs sysbench's OLTP
# workloads against sqld (embedded store, RocksDB) and, in the same run and
# with the same tables, threads and duration, against a MariaDB server it
# starts from Debian's package (as this user, in a scratch directory, on
# loopback; never the system service). Prints, per workload:
#   BENCH sysbench_<workload>_qps_<server> <queries per second> qps
#   BENCH sysbench_<workload>_p95_<server> <95th percentile latency> ms
#   BENCH sysbench_<workload>_vs_mariadb <sqld qps / mariadb qps> x
# Knobs (environment): BENCH_TIME seconds per workload (10), BENCH_THREADS
# (4), BENCH_TABLES (2), BENCH_TABLE_SIZE rows per table (10000),
# BENCH_WORKLOADS (the five below), BENCH_PS=1 for server-side prepared
# statements (sysbench --db-ps-mode=auto) instead of text queries,
# BENCH_SQLD_PORT / BENCH_MARIADB_PORT (25000 / 25001), TMPDIR for the
# scratch directory.
#
# Durability is equal on both sides: MariaDB's InnoDB flushes its log on
# every commit (innodb_flush_log_at_trx_commit=1, its default) and sqld's
# embedded store syncs its WAL on every commit.
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

wait_port() { # port, name, pid
    for _ in $(seq 1 300); do
        mariadb-admin -h 127.0.0.1 -P "$1" -u root ping >/dev/null 2>&1 && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# MariaDB: a fresh data directory and a server owned by this user.
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

"$BIN/sqld" --listen=127.0.0.1:"$SQLD_PORT" --store=local \
    --data-dir="$WORK/sqld" --log.file="$WORK/sqld.log" &
pids+=($!)
wait_port "$SQLD_PORT" sqld $! || die "sqld did not start: $(tail -n 5 "$WORK/sqld.log")"

sb() { # server port, workload, command
    sysbench "$2" --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$1" \
        --mysql-user=root --mysql-db=sbtest --tables="$TABLES" \
        --table-size="$SIZE" --threads="$THREADS" --time="$TIME" \
        --db-ps-mode="$PS_MODE" --report-interval=0 --histogram=off "$3"
}

failed=0
for wl in $WORKLOADS; do
    declare -A qps=()
    for server in sqld mariadb; do
        port=$SQLD_PORT
        [ $server = mariadb ] && port=$MDB_PORT
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
    if [ -n "${qps[sqld]:-}" ] && [ -n "${qps[mariadb]:-}" ]; then
        awk -v a="${qps[sqld]}" -v b="${qps[mariadb]}" -v w="$wl" \
            'BEGIN { printf "BENCH sysbench_%s_vs_mariadb %.2f x\n", w, (b > 0 ? a / b : 0) }'
    fi
    unset qps
done
exit $failed

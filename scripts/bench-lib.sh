# bench-lib.sh: what the SQL benchmark scripts share (sourced, not run):
# a scratch directory removed at exit with every server started in it
# stopped, and starting MariaDB (from Debian's package, as this user, on
# loopback; never the system service), sqld on its embedded store and a
# playground cluster. The caller sets BENCH_NAME (for messages and the
# scratch directory's name) and BUILD (the build tree).
WORK=$(mktemp -d "${TMPDIR:-/tmp}/$BENCH_NAME.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

# need TOOL...: each on PATH (or in /usr/sbin), else say how to get it.
need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
            die "$tool is missing; run 'make deps' (it installs mariadb-server, sysbench and python3-pymysql)"
    done
}

# port_free PORT: nothing listens on loopback's PORT, else die: a server
# left running there (an earlier run's) would answer wait_port, and the
# figures would be that server's, not this build's.
port_free() {
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
        die "port $1 is in use (a server left from an earlier run?); stop it or choose other ports"
    fi
}

wait_port() { # port, name, pid[, seconds (30)]
    for _ in $(seq 1 $((${4:-30} * 10))); do
        mariadb-admin -h 127.0.0.1 -P "$1" -u root ping >/dev/null 2>&1 && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# start_mariadb PORT: a fresh data directory and a server owned by this
# user (InnoDB flushing its log on every commit, its default).
start_mariadb() {
    need mariadbd mariadb-install-db mariadb-admin
    local mariadbd
    mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
    port_free "$1"
    mariadb-install-db --no-defaults --datadir="$WORK/mariadb" --user="$(id -un)" \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$WORK/mariadb-install.log" 2>&1 ||
        die "mariadb-install-db failed; see $WORK/mariadb-install.log"
    "$mariadbd" --no-defaults --datadir="$WORK/mariadb" --user="$(id -un)" \
        --bind-address=127.0.0.1 --port="$1" --socket="$WORK/mariadb.sock" \
        --skip-grant-tables --skip-name-resolve --max-connections=200 \
        --innodb-buffer-pool-size=512M --log-error="$WORK/mariadb.err" \
        2>>"$WORK/mariadb.err" &
    pids+=($!)
    wait_port "$1" mariadb $! || die "MariaDB did not start: $(tail -n 5 "$WORK/mariadb.err")"
}

# start_sqld PORT: sqld on its embedded store (RocksDB, every commit synced).
start_sqld() {
    port_free "$1"
    "$BUILD/daemons/bin/sqld" --listen=127.0.0.1:"$1" --store=local \
        --data-dir="$WORK/sqld" --log.file="$WORK/sqld.log" &
    pids+=($!)
    wait_port "$1" sqld $! || die "sqld did not start: $(tail -n 5 "$WORK/sqld.log")"
}

# start_cluster BASE: the playground (3 pdd, 3 kvd, sqld --store=cluster)
# on BASE+1..+16, SQL on BASE+10; it stops its daemons on SIGTERM.
start_cluster() {
    port_free $(($1 + 10))
    PLAYGROUND_DIR="$WORK/play" FRESH=1 PD_PORT=$(($1 + 1)) \
        SQL_PORT=$(($1 + 10)) KVD_PORT=$(($1 + 11)) \
        KVD_STATUS_PORT=$(($1 + 14)) SQL_STATUS_PORT=$(($1 + 7)) \
        "$(dirname "${BASH_SOURCE[0]}")/run-playground.sh" "$BUILD" >"$WORK/play.out" 2>&1 &
    pids+=($!)
    wait_port $(($1 + 10)) cluster $! 120 || die "the playground did not start: $(tail -n 8 "$WORK/play.out")"
}

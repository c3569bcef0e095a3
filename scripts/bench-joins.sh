#!/usr/bin/env bash
# bench-joins.sh BUILD_DIR: `make bench-joins` (issue 8's benchmark). Loads
# the same small TPC-H-like dataset (scripts/bench_joins.py generates it)
# into sqld on its embedded store and into a MariaDB server started here,
# runs each query on both, checks that both return the same rows, and
# prints per query:
#   BENCH join_<query>_ms_<server> <best of BENCH_REPEAT runs> ms
#   BENCH join_<query>_vs_mariadb <mariadb ms / sqld ms> x
# (above 1: sqld is faster; the goal is no query under 0.5). A query whose
# answers differ is reported and makes the script fail.
# Knobs (environment): BENCH_SCALE (1: 6,000 order lines; 0.1 for a
# smoke run), BENCH_REPEAT (5), BENCH_QUERIES (all; names as printed),
# BENCH_SQLD_PORT / BENCH_MARIADB_PORT (25200 / 25201), TMPDIR.
set -u
BUILD=${1:?usage: bench-joins.sh BUILD_DIR}
SQLD_PORT=${BENCH_SQLD_PORT:-25200}
MDB_PORT=${BENCH_MARIADB_PORT:-25201}

BENCH_NAME=bench-joins
. "$(dirname "$0")/bench-lib.sh"
need mariadb-admin
/usr/bin/python3 -c 'import pymysql' 2>/dev/null ||
    die "python3-pymysql is missing; run 'make deps'"
start_mariadb "$MDB_PORT"
start_sqld "$SQLD_PORT"
/usr/bin/python3 "$(dirname "$0")/bench_joins.py" "$SQLD_PORT" "$MDB_PORT"

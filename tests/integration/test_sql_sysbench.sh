#!/usr/bin/env bash
# test_sql_sysbench.sh: sysbench 1.0.20 oltp_read_write against sqld on the
# embedded store: prepare (1 table of 1000 rows, its secondary index built
# by CREATE INDEX), then a few seconds of run with server-side prepared
# statements and again with text queries only (--db-ps-mode=disable); each
# must finish without a fatal error. Write conflicts between the two
# threads come back as 1213, which sysbench retries (its default
# --mysql-ignore-errors).
. "$(dirname "$0")/lib.sh"

command -v sysbench >/dev/null || { echo "sysbench missing"; exit 1; }
"$BIN/sqld" --data-dir="$T_TMP/sqld" --log.file="$T_TMP/sqld.log" \
    --listen=127.0.0.1:0 --store=local &
sqld=$!; T_PIDS+=("$sqld")
t_wait_for_grep "serving MySQL on 127.0.0.1:" "$T_TMP/sqld.log" 60
port=$(sed -n 's/.*serving MySQL on 127.0.0.1:\([0-9]*\).*/\1/p' "$T_TMP/sqld.log")
sb() {
    timeout 300 sysbench oltp_read_write --mysql-host=127.0.0.1 \
        --mysql-port="$port" --mysql-user=root --mysql-db=sbtest --tables=1 \
        --table-size=1000 "$@"
}

t_case "prepare"
mariadb -h 127.0.0.1 -P "$port" -u root --skip-ssl --connect-timeout=30 \
    -e "CREATE DATABASE sbtest" 2>&1 || t_fail "create database"
sb prepare >"$T_TMP/prepare.log" 2>&1 || { t_fail "prepare failed"; cat "$T_TMP/prepare.log"; }
t_expect_eq "rows" "$(mariadb -h 127.0.0.1 -P "$port" -u root --skip-ssl -N \
    -e 'SELECT COUNT(*) FROM sbtest.sbtest1' 2>&1)" "1000"

for mode in auto disable; do
    t_case "run with --db-ps-mode=$mode"
    sb --threads=2 --time=3 --db-ps-mode=$mode run >"$T_TMP/run-$mode.log" 2>&1 ||
        { t_fail "run failed"; cat "$T_TMP/run-$mode.log"; }
    grep -q "FATAL" "$T_TMP/run-$mode.log" && { t_fail "fatal error"; cat "$T_TMP/run-$mode.log"; }
    grep -qE "transactions: +[1-9]" "$T_TMP/run-$mode.log" ||
        { t_fail "no transaction finished"; cat "$T_TMP/run-$mode.log"; }
done

t_case "cleanup"
sb cleanup >"$T_TMP/cleanup.log" 2>&1 || { t_fail "cleanup failed"; cat "$T_TMP/cleanup.log"; }
t_expect_eq "tables" "$(mariadb -h 127.0.0.1 -P "$port" -u root --skip-ssl -N \
    -e 'SHOW TABLES FROM sbtest' 2>&1)" ""

t_case "SIGTERM stops sqld"
kill -TERM "$sqld"
t_wait_exit "$sqld" 60 || t_fail "still running"
t_expect_eq "exit" "$T_RC" 0
t_end

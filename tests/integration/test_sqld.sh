#!/usr/bin/env bash
# test_sqld.sh: sqld as a MySQL client sees it, with the real mariadb CLI,
# mariadb-admin and pymysql: the handshake and login, exact syntax errors,
# a table named without a database, bad user and database, and a clean
# stop. What sqld executes is tested by test_sql*.
. "$(dirname "$0")/lib.sh"

"$BIN/sqld" --data-dir="$T_TMP/sqld" --log.file="$T_TMP/sqld.log" --listen=127.0.0.1:0 &
sqld=$!; T_PIDS+=("$sqld")
t_wait_for_grep "serving MySQL on 127.0.0.1:" "$T_TMP/sqld.log" 30
port=$(sed -n 's/.*serving MySQL on 127.0.0.1:\([0-9]*\).*/\1/p' "$T_TMP/sqld.log")
my() { mariadb -h 127.0.0.1 -P "$port" --connect-timeout=30 "$@"; }

t_case "mariadb-admin ping"
t_expect_eq "ping" "$(mariadb-admin -h 127.0.0.1 -P "$port" -u root ping 2>&1)" "mysqld is alive"

t_case "a syntax error is MySQL's 1064, exactly"
my -u root -e "SELEC 1" 2>"$T_TMP/err"; rc=$?
t_expect_eq "exit" "$rc" 1
t_expect_grep "message" "ERROR 1064 (42000) at line 1: You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'SELEC 1' at line 1" "$T_TMP/err"

t_case "a table named without a current database is 1046"
my -u root -e "SELECT id, k FROM sbtest1 WHERE id = 7" 2>"$T_TMP/err"; rc=$?
t_expect_eq "exit" "$rc" 1
t_expect_grep "message" "ERROR 1046 (3D000) at line 1: No database selected" "$T_TMP/err"

t_case "unknown user is refused with 1045"
my -u bob -e "SELECT 1" 2>"$T_TMP/err"; rc=$?
t_expect_eq "exit" "$rc" 1
t_expect_grep "message" "ERROR 1045 (28000): Access denied for user 'bob'@'127.0.0.1' (using password: NO)" "$T_TMP/err"

t_case "unknown database is 1049"
my -u root -D nosuch -e "SELECT 1" 2>"$T_TMP/err"; rc=$?
t_expect_eq "exit" "$rc" 1
t_expect_grep "message" "ERROR 1049 (42000): Unknown database 'nosuch'" "$T_TMP/err"

t_case "pymysql connects, pings, runs SELECT 1 and gets the same errors"
out=$(/usr/bin/python3 - "$port" 2>&1 <<'PY'
import sys, pymysql
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="root",
                    connect_timeout=30)
c.ping(reconnect=False)
print("version", c.get_server_info())
for q in ("SELECT 1", "SELEC 1", ""):
    try:
        c.cursor().execute(q)
        print("no error for", repr(q))
    except pymysql.MySQLError as e:
        print(e.args[0])
c.close()
PY
)
t_expect_eq "pymysql" "$out" "version 8.0.11-dsql-0.1.0
no error for 'SELECT 1'
1064
1065"

t_case "garbage instead of a login closes only that connection"
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 30 bash -c "cat > /dev/tcp/127.0.0.1/$port" 2>/dev/null
t_expect_eq "ping after garbage" "$(mariadb-admin -h 127.0.0.1 -P "$port" -u root ping 2>&1)" "mysqld is alive"

t_case "SIGTERM stops sqld cleanly"
kill -TERM "$sqld"
t_wait_exit "$sqld" 30 || t_fail "still running 30s after SIGTERM"
t_expect_eq "exit" "$T_RC" 0
t_expect_grep "log" "sqld stopped" "$T_TMP/sqld.log"

t_end

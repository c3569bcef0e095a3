#!/usr/bin/env bash
# test_playground.sh: `make run`'s script (scripts/run-playground.sh) on
# ports of its own: it waits until every daemon answers, the three pdd
# elect a leader, the three kvd register with them, sqld answers SQL with
# its data in the kvd,
# a stop signal stops everything, a second run finds the data of the first,
# kvctl reaches the stores, and `make install` installs what it runs.
. "$(dirname "$0")/lib.sh"

t_pick_base 29000 29980
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PDS="127.0.0.1:$((T_BASE + 1)),127.0.0.1:$((T_BASE + 3)),127.0.0.1:$((T_BASE + 5))"
PDCTL=("$BIN/pdctl" "--pd=$PDS")
my() { mariadb -h 127.0.0.1 -P $((T_BASE + 10)) -u root --connect-timeout=30 -N -e "$1" 2>&1; }

play() { # output file, then extra environment
    local out=$1; shift
    env "$@" PLAYGROUND_DIR="$T_TMP/play" PD_PORT=$((T_BASE + 1)) \
        SQL_PORT=$((T_BASE + 10)) KVD_PORT=$((T_BASE + 11)) \
        KVD_STATUS_PORT=$((T_BASE + 14)) SQL_STATUS_PORT=$((T_BASE + 17)) \
        "$TOP/scripts/run-playground.sh" "$BUILD_DIR" >"$out" 2>&1 &
    PLAY=$!
    T_PIDS+=("$PLAY")
}
# The daemons a ready playground runs, so a failed case leaves none behind.
track_daemons() { T_PIDS+=($(pgrep -f -- "--data-dir=$T_TMP/play/")); }

# t_wait_until SECONDS CMD...: until CMD succeeds.
t_wait_until() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge "$deadline" ] && return 1
        sleep 0.2
    done
}
stores_up() { [ "$("${PDCTL[@]}" store | grep -c 'state up')" = 3 ]; }

t_case "the playground starts and says how to connect"
play "$T_TMP/out1" FRESH=1
t_wait_for_grep "Press Ctrl-C to stop." "$T_TMP/out1" 90 ||
    t_fail "not ready: $(cat "$T_TMP/out1")"
track_daemons
t_expect_grep "connect command" "mysql -h 127.0.0.1 -P $((T_BASE + 10)) -u root" "$T_TMP/out1"
t_expect_grep "pd status URL" "status http://127.0.0.1:$((T_BASE + 2))/status" "$T_TMP/out1"

t_case "three pdd with a leader, three kvd registered with them"
t_expect_eq "members" "$("${PDCTL[@]}" member | grep -c '^member ')" 3
t_expect_eq "leaders" "$("${PDCTL[@]}" member | grep -c ' leader$')" 1
t_wait_until 60 stores_up || t_fail "stores: $("${PDCTL[@]}" store 2>&1)"
t_expect_grep "kvd status URL" "status http://127.0.0.1:$((T_BASE + 16))/status" "$T_TMP/out1"
t_expect_eq "kvd metrics" "$(curl -sf "http://127.0.0.1:$((T_BASE + 16))/metrics" | awk '$1 == "kvd_regions" {print $2}')" 1

t_case "sqld answers SQL and keeps what it is given"
t_expect_eq "select" "$(my 'SELECT 1 + 1')" 2
t_expect_eq "create" "$(my 'CREATE DATABASE kept; CREATE TABLE kept.t (id INT PRIMARY KEY); INSERT INTO kept.t VALUES (7)')" ""
t_expect_eq "sqld metrics" "$(curl -sf "http://127.0.0.1:$((T_BASE + 17))/metrics" | awk '$1 == "sqld_connections_total" {print ($2 > 0)}')" 1
t_expect_eq "sqld kvd calls" "$(curl -sf "http://127.0.0.1:$((T_BASE + 17))/metrics" | awk '$1 == "sqld_kvd_calls_total" {print ($2 > 0)}')" 1
t_expect_eq "sqld stale kvd connections (no kvd restarted)" "$(curl -sf "http://127.0.0.1:$((T_BASE + 17))/metrics" | awk '$1 == "sqld_kvd_stale_connections_total" {print $2}')" 0
t_expect_grep "sqld on the cluster" "store: cluster (pd 127.0.0.1:$((T_BASE + 1)), ...)" "$T_TMP/play/sqld.log"

# A background job of a script starts with SIGINT ignored (bash does so
# without job control), so the test sends SIGTERM, which the script traps
# exactly as it traps Ctrl-C's SIGINT.
t_case "SIGTERM (handled as Ctrl-C) stops every daemon"
kill -TERM "$PLAY"
t_wait_exit "$PLAY" 60 || t_fail "still running"
t_expect_eq "exit" "$T_RC" 0
t_expect_grep "stopped" "playground: stopped; data and logs stay in $T_TMP/play" "$T_TMP/out1"
t_expect_eq "sql port" "$( (exec 3<>"/dev/tcp/127.0.0.1/$((T_BASE + 10))") 2>/dev/null && echo open)" ""
t_expect_eq "daemons left" "$(pgrep -f -- "--data-dir=$T_TMP/play/")" ""

t_case "a second run finds the first run's data"
play "$T_TMP/out2"
t_wait_for_grep "Press Ctrl-C to stop." "$T_TMP/out2" 90 ||
    t_fail "not ready: $(cat "$T_TMP/out2")"
track_daemons
t_expect_eq "row" "$(my 'SELECT id FROM kept.t')" 7
t_expect_eq "kvctl put" "$("$BIN/kvctl" "--pd=$PDS" --timeout=60 put play-key 42 2>&1)" ok
t_expect_eq "kvctl get" "$("$BIN/kvctl" "--pd=$PDS" --timeout=60 get play-key 2>&1)" 42
kill -TERM "$PLAY"
t_wait_exit "$PLAY" 60 || t_fail "still running"
t_expect_eq "exit" "$T_RC" 0

t_case "bad settings are refused"
PD_COUNT=x "$TOP/scripts/run-playground.sh" "$BUILD_DIR" >"$T_TMP/out3" 2>&1
t_expect_eq "exit" "$?" 2
t_expect_grep "message" "playground: PD_COUNT, KVD_COUNT and the ports must be numbers" "$T_TMP/out3"
"$TOP/scripts/run-playground.sh" "$T_TMP/nowhere" >"$T_TMP/out4" 2>&1
t_expect_eq "exit" "$?" 2
t_expect_grep "message" "playground: no pdd in $T_TMP/nowhere/daemons/bin (build first: make run)" "$T_TMP/out4"

t_case "make install: the daemons, kvctl and playground in PREFIX/bin"
make -s -C "$TOP/daemons" install BUILD="$BUILD_DIR" DESTDIR="$T_TMP/inst" PREFIX=/usr >"$T_TMP/out5" 2>&1 ||
    t_fail "make install: $(cat "$T_TMP/out5")"
t_expect_eq "installed" "$(cd "$T_TMP/inst/usr/bin" && ls | tr '\n' ' ')" "kvctl kvd pdctl pdd playground sqld "
t_expect_eq "kvctl is kvd" "$(stat -c %i "$T_TMP/inst/usr/bin/kvctl")" "$(stat -c %i "$T_TMP/inst/usr/bin/kvd")"
"$T_TMP/inst/usr/bin/kvctl" >"$T_TMP/out6" 2>&1
t_expect_grep "kvctl usage" "usage: kvctl (or kvd ctl)" "$T_TMP/out6"
# the installed playground finds its daemons beside it (a bad setting
# stops it before it starts any)
PD_COUNT=0 "$T_TMP/inst/usr/bin/playground" >"$T_TMP/out7" 2>&1
t_expect_eq "exit" "$?" 2
t_expect_grep "its daemons" "playground: PD_COUNT and KVD_COUNT must be at least 1" "$T_TMP/out7"

t_end

#!/usr/bin/env bash
# test_cluster_ops_playground.sh: the playground as an operator uses it
# (ports in 22400-23380; docs/operators-guide.md "Start"): SQLD_COUNT=2
# starts two sqld on consecutive ports (both answer; a table created
# through one is not seen by the other until it restarts: no schema sync
# between sqld yet, so data is checked through the first); a kvd
# that is stopped leaves the others running and the playground prints the
# command that starts it again, which works; Ctrl-C (SIGTERM) still stops
# everything it started.
. "$(dirname "$0")/lib.sh"

t_pick_base 22400 23380
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PDS="127.0.0.1:$((T_BASE + 1)),127.0.0.1:$((T_BASE + 3)),127.0.0.1:$((T_BASE + 5))"
PDCTL=("$BIN/pdctl" "--pd=$PDS" --timeout=20000)
SQL1=$((T_BASE + 10))
SQL2=$((T_BASE + 11))
my() { mariadb -h 127.0.0.1 -P "$1" -u root --connect-timeout=30 -N -e "$2" 2>&1; }
stores_up() { "${PDCTL[@]}" store 2>/dev/null | grep -c ' state up '; }

t_case "SQLD_COUNT=2: two sqld on consecutive ports"
env PLAYGROUND_DIR="$T_TMP/play" FRESH=1 SQLD_COUNT=2 PD_PORT=$((T_BASE + 1)) \
    SQL_PORT=$SQL1 KVD_PORT=$((T_BASE + 12)) KVD_STATUS_PORT=$((T_BASE + 15)) \
    SQL_STATUS_PORT=$((T_BASE + 18)) \
    "$TOP/scripts/run-playground.sh" "$BUILD_DIR" >"$T_TMP/out" 2>&1 &
PLAY=$!
T_PIDS+=("$PLAY")
t_wait_for_grep "Press Ctrl-C to stop." "$T_TMP/out" 90 || t_fail "not ready: $(cat "$T_TMP/out")"
T_PIDS+=($(pgrep -f -- "--data-dir=$T_TMP/play/"))
t_expect_grep "second sqld" "sqld-2  mysql 127.0.0.1:$SQL2" "$T_TMP/out"
t_expect_eq "write on 1" "$(my $SQL1 'CREATE DATABASE p; CREATE TABLE p.t (id INT PRIMARY KEY); INSERT INTO p.t VALUES (1),(2)')" ""
t_expect_eq "sqld-2 answers" "$(my $SQL2 'SELECT 1 + 2')" 3
t_expect_eq "read on 1" "$(my $SQL1 'SELECT COUNT(*) FROM p.t')" 2

t_case "a stopped kvd is reported with its command; the rest keeps running"
K2=$(pgrep -f -- "--data-dir=$T_TMP/play/kvd-2 ")
[ -n "$K2" ] || t_fail "no kvd-2"
kill -TERM "$K2"
t_wait_for_grep "playground: kvd-2 exited" "$T_TMP/out" 30 || t_fail "not reported: $(tail -3 "$T_TMP/out")"
kill -0 "$PLAY" 2>/dev/null || t_fail "the playground stopped"
# a statement right after the stop may fail (1105 store unreachable) until
# pdd's map shows the region's new leader (the playground's heartbeats are
# 10 s apart): writes must work again within a minute
write3() { my $SQL1 'INSERT INTO p.t VALUES (3)' >/dev/null; my $SQL1 'SELECT COUNT(*) FROM p.t'; }
T0=$SECONDS
got=$(t_wait_output 3 60 write3) || t_fail "writes with kvd-2 down: $got"
echo "    writes worked again $((SECONDS - T0)) s after kvd-2 stopped"
CMD=$(grep -A1 "playground: kvd-2 exited" "$T_TMP/out" | tail -1)
case "$CMD" in *"/kvd --data-dir=$T_TMP/play/kvd-2 "*"&") ;; *) t_fail "command: '$CMD'" ;; esac
eval "$CMD"
T_PIDS+=("$!")
got=$(t_wait_output 3 60 stores_up) || t_fail "stores up: '$got'"
t_expect_eq "read after the restart" "$(my $SQL1 'INSERT INTO p.t VALUES (4); SELECT COUNT(*) FROM p.t')" 4

t_case "SIGTERM stops every daemon the playground started"
kill -TERM "$PLAY"
t_wait_exit "$PLAY" 60 || t_fail "still running"
t_expect_eq "exit" "$T_RC" 0
left=$(pgrep -f -- "--data-dir=$T_TMP/play/" | wc -l)
t_expect_eq "left: the kvd started by hand" "$left" 1

t_end

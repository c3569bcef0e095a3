#!/usr/bin/env bash
# test_sqld_status.sh: sqld's HTTP status port (status-listen) on a real
# sqld (embedded store): /status says the version, store and connections,
# /metrics counts connections and commands exactly, and other pages and
# methods get 404/405 while SQL keeps being served.
. "$(dirname "$0")/lib.sh"

t_pick_base 31400 31780
SQL=$((T_BASE + 1))
HTTP=127.0.0.1:$((T_BASE + 2))
my() { mariadb -h 127.0.0.1 -P "$SQL" -u root --connect-timeout=30 -N -e "$1" 2>&1; }
metric() { curl -sf "http://$HTTP/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# until metric $1 is $2 (a closed client is counted out on the loop)
wait_metric() {
    for _ in $(seq 1 300); do
        [ "$(metric "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

t_case "the status port answers /status"
"$BIN/sqld" --data-dir="$T_TMP/sqld" --listen=127.0.0.1:$SQL --store=local \
    --status-listen="$HTTP" --workers=2 --log.file="$T_TMP/sqld.log" &
T_PIDS+=($!)
t_wait_for_grep "serving HTTP status on $HTTP" "$T_TMP/sqld.log" 30 || t_fail "no status port"
t_wait_for_grep "serving MySQL" "$T_TMP/sqld.log" 30 || t_fail "no MySQL port"
st=$(curl -sf "http://$HTTP/status")
t_expect_eq "status" "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["store"], d["mysql_version"].startswith("8.0.11-dsql-"), d["connections"], d["connections_total"], d["workers"])' "$st")" "local True 0 0 2"

t_case "/metrics counts connections and commands"
t_expect_eq "select" "$(my 'SELECT 40 + 2')" 42
t_expect_eq "select" "$(my 'SELECT 1; SELECT 2' | tr '\n' ' ')" "1 2 "
wait_metric sqld_connections 0 || t_fail "connections: $(metric sqld_connections)"
t_expect_eq "accepted" "$(metric sqld_connections_total)" 2
# the mariadb CLI in batch mode (-e) sends each statement as a COM_QUERY
# of its own; its COM_QUIT is not a command run
t_expect_eq "commands" "$(metric sqld_commands_total)" 3
t_expect_eq "workers" "$(metric sqld_workers)" 2
t_expect_eq "no cluster figures" "$(curl -sf "http://$HTTP/metrics" | grep -c '^sqld_kvd_')" 0

t_case "bad pages and methods; SQL still served"
t_expect_eq "404" "$(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/nope")" "404"
t_expect_eq "405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$HTTP/metrics")" "405"
t_expect_eq "select" "$(my 'SELECT 7')" 7

t_end

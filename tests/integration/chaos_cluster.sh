# chaos_cluster.sh: the cluster of test_chaos.sh and test_rolling*.sh (a
# helper sourced after lib.sh and t_pick_base, not a suite): three pdd,
# three kvd and two sqld on ports BASE+1..16 (kvd 1-3, pdd 11-13, sqld 15
# and 16), each started, killed (-9) or stopped (SIGTERM) by name, and the
# waits the scripts need between steps (docs/operators-guide.md "Rolling
# restart"). CHAOS_PD_ARGS, CHAOS_KVD_ARGS and CHAOS_SQLD_ARGS add flags;
# kvd splits a region after CHAOS_SPLIT_SIZE of writes (64KiB).
BASE=$T_BASE
port() { echo $((BASE + $1)); }
PEERS="1@127.0.0.1:$(port 1),2@127.0.0.1:$(port 2),3@127.0.0.1:$(port 3)"
PDS="127.0.0.1:$(port 11),127.0.0.1:$(port 12),127.0.0.1:$(port 13)"
MEMBERS="pd1=127.0.0.1:$(port 11),pd2=127.0.0.1:$(port 12),pd3=127.0.0.1:$(port 13)"
PDCTL=("$BIN/pdctl" "--pd=$PDS" --timeout=20000)
SQL1=$(port 15)
SQL2=$(port 16)
declare -A PID

start_pdd() {
    "$BIN/pdd" --name="pd$1" --listen="127.0.0.1:$(port $((10 + $1)))" \
        --initial-members="$MEMBERS" --data-dir="$T_TMP/pd$1" \
        --log.file="$T_TMP/pd$1.log" --raft.tick=50ms ${CHAOS_PD_ARGS:-} &
    PID[pd$1]=$!
    T_PIDS+=("$!")
}
start_kvd() {
    "$BIN/kvd" --data-dir="$T_TMP/kvd$1" --store-id="$1" \
        --listen="127.0.0.1:$(port "$1")" --peers="$PEERS" \
        --raft.tick-interval=50ms --pd="$PDS" --pd.heartbeat-interval=500ms \
        --split.region-size="${CHAOS_SPLIT_SIZE:-64KiB}" --log.file="$T_TMP/kvd$1.log" \
        ${CHAOS_KVD_ARGS:-} &
    PID[kvd$1]=$!
    T_PIDS+=("$!")
}
sql_port() { # 1 or 2
    if [ "$1" = 2 ]; then echo "$SQL2"; else echo "$SQL1"; fi
}
start_sqld() { # 1 or 2
    "$BIN/sqld" --data-dir="$T_TMP/sqld$1" --log.file="$T_TMP/sqld$1.log" \
        --listen="127.0.0.1:$(sql_port "$1")" --store=cluster --pd="$PDS" \
        ${CHAOS_SQLD_ARGS:-} &
    PID[sqld$1]=$!
    T_PIDS+=("$!")
}
# start NAME: start pd1..3, kvd1..3 or sqld1..2 again (same data directory)
start() {
    case $1 in
    pd*) start_pdd "${1#pd}" ;;
    kvd*) start_kvd "${1#kvd}" ;;
    sqld*) start_sqld "${1#sqld}" ;;
    esac
}
kill9() { # name
    kill -9 "${PID[$1]}" 2>/dev/null
    wait "${PID[$1]}" 2>/dev/null
}
stop() { # name: SIGTERM, and wait (60 s); T_RC is its exit status
    kill -TERM "${PID[$1]}" 2>/dev/null
    t_wait_exit "${PID[$1]}" 60 || { t_fail "$1 did not stop"; kill9 "$1"; }
}
stores_up() { "${PDCTL[@]}" store 2>/dev/null | grep -c ' state up '; }
sql_ready() { # port
    mariadb-admin -h 127.0.0.1 -P "$1" -u root --connect-timeout=5 ping 2>/dev/null |
        grep -q alive && echo yes
}
pd_leader() { "${PDCTL[@]}" member 2>/dev/null | sed -n 's/^member \([0-9]*\) name .* leader$/\1/p'; }
# kvd_stat I KEY: a number from kvd I's own /status ("regions", "leaders")
kvd_stat() {
    "$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$1")" status 2>/dev/null |
        sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}
region_count() { "${PDCTL[@]}" region 2>/dev/null | grep -c '^region '; }
# regions per store as the stores themselves count them, "R1 R2 R3"
store_regions() { for i in 1 2 3; do kvd_stat "$i" regions; done | paste -sd' '; }
# start_cluster: 3 pdd, 3 kvd, waits (90 s) for pdd to count 3 stores up,
# then sqld 1 and waits (60 s) until it answers; fails the current case if
# a wait runs out (the second sqld is the script's: after its tables)
start_cluster() {
    local i got
    for i in 1 2 3; do start_pdd "$i"; done
    for i in 1 2 3; do start_kvd "$i"; done
    got=$(t_wait_output 3 90 stores_up) || t_fail "stores up: '$got'"
    start_sqld 1
    got=$(t_wait_output yes 60 sql_ready "$SQL1") || t_fail "sqld 1: $got"
}

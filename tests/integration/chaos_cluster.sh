# chaos_cluster.sh: the cluster of test_chaos.sh and test_rolling*.sh (a
# helper sourced after lib.sh and t_pick_base, not a suite): three pdd,
# three kvd and two sqld on ports BASE+1..16 (kvd 1-3, pdd 11-13, sqld 15
# and 16), each started, killed (-9) or stopped (SIGTERM) by name, and the
# waits the scripts need between steps (docs/operators-guide.md "Rolling
# restart"). CHAOS_PD_ARGS, CHAOS_KVD_ARGS and CHAOS_SQLD_ARGS add flags;
# kvd splits a region after CHAOS_SPLIT_SIZE of writes (64KiB).
#
# With LINK_BASE set (a second port slot, t_pick_base) the stores talk
# through links of netproxy.py that the suite cuts and heals (cut_link,
# heal_links; test_sql_partition.sh): store i reaches store j over
# LINK[i-j] (LINK_BASE+1..6, one per direction) and every client (sqld,
# `kvd ctl --pd`) reaches store i over CLIENT[i] (LINK_BASE+7..9), the
# address store i advertises to pdd (advertise-addr). pdd's own traffic
# (between members, and the stores' heartbeats) stays direct.
#
# CHAOS_KEEP=DIR copies every log and the workload's outcome there at the
# end, passed or not (evidence of a long run).
BASE=$T_BASE
CHAOS_KEEP=${CHAOS_KEEP:-}
keep_logs() {
    [ -n "$CHAOS_KEEP" ] || return 0
    mkdir -p "$CHAOS_KEEP" &&
        find "$T_TMP" -maxdepth 2 \( -name '*.log' -o -name 'bank*.out' \
            -o -name 'bank*.json' -o -name netproxy.out \) -type f \
            -exec cp {} "$CHAOS_KEEP"/ \;
}
trap 'keep_logs; t_cleanup' EXIT
port() { echo $((BASE + $1)); }
PEERS="1@127.0.0.1:$(port 1),2@127.0.0.1:$(port 2),3@127.0.0.1:$(port 3)"
PDS="127.0.0.1:$(port 11),127.0.0.1:$(port 12),127.0.0.1:$(port 13)"
MEMBERS="pd1=127.0.0.1:$(port 11),pd2=127.0.0.1:$(port 12),pd3=127.0.0.1:$(port 13)"
PDCTL=("$BIN/pdctl" "--pd=$PDS" --timeout=20000)
SQL1=$(port 15)
SQL2=$(port 16)
declare -A PID LINK CLIENT

start_pdd() {
    "$BIN/pdd" --name="pd$1" --listen="127.0.0.1:$(port $((10 + $1)))" \
        --initial-members="$MEMBERS" --data-dir="$T_TMP/pd$1" \
        --log.file="$T_TMP/pd$1.log" --raft.tick=50ms ${CHAOS_PD_ARGS:-} &
    PID[pd$1]=$!
    T_PIDS+=("$!")
}
# start_links: netproxy.py with every link open (with LINK_BASE set)
start_links() {
    local i j n=1 links=()
    for i in 1 2 3; do
        for j in 1 2 3; do
            [ "$i" = "$j" ] && continue
            LINK[$i-$j]=$((LINK_BASE + n))
            links+=("$i-$j=${LINK[$i-$j]}:$(port "$j")")
            n=$((n + 1))
        done
    done
    for i in 1 2 3; do
        CLIENT[$i]=$((LINK_BASE + 6 + i))
        links+=("client-$i=${CLIENT[$i]}:$(port "$i")")
    done
    /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/netproxy.py" "$T_TMP" \
        "${links[@]}" >"$T_TMP/netproxy.out" 2>&1 &
    T_PIDS+=("$!")
    t_wait_for_grep ready "$T_TMP/netproxy.out" 30 ||
        t_fail "netproxy did not start: $(cat "$T_TMP/netproxy.out")"
}
# cut_link NAME...: cut links "I-J" (store I's connections to store J)
# or "client-I" (every client's to store I), as a dropped packet cuts them
cut_link() {
    local l
    for l in "$@"; do touch "$T_TMP/cut-$l"; done
}
heal_links() { rm -f "$T_TMP"/cut-*; }
# kvd_flags I: store I's map of the stores and its advertised address
kvd_flags() {
    if [ -z "${LINK_BASE:-}" ]; then
        echo "--peers=$PEERS"
    else
        echo "--peers=$(t_link_peers "$1") --advertise-addr=127.0.0.1:${CLIENT[$1]}"
    fi
}
start_kvd() {
    # shellcheck disable=SC2046
    "$BIN/kvd" --data-dir="$T_TMP/kvd$1" --store-id="$1" \
        --listen="127.0.0.1:$(port "$1")" $(kvd_flags "$1") \
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
# kvd_back I: until kvd I answers its own status (60 s), else fails the
# case with its last ERROR lines. pdd counts a store up for a while after
# it exits, so stores_up is no proof that a restarted kvd opened: one that
# could not (libregion before 0.21.1, killed right behind a split) went
# unnoticed until the next round killed another store.
kvd_back() {
    local st
    for _ in $(seq 1 600); do
        st=$(ps -o stat= -p "${PID[kvd$1]}" 2>/dev/null) &&
            [ "${st#Z}" = "$st" ] || break # exited (a zombie until waited)
        [ -n "$(kvd_stat "$1" regions)" ] && return 0
        sleep 0.1
    done
    t_fail "kvd $1 did not come back: $(grep -E 'ERROR|FATAL' \
        "$T_TMP/kvd$1.log" | tail -n 3)"
    return 1
}
# regions per store as the stores themselves count them, "R1 R2 R3"
store_regions() { for i in 1 2 3; do kvd_stat "$i" regions; done | paste -sd' '; }
# start_cluster: 3 pdd, 3 kvd, waits (90 s) for pdd to count 3 stores up,
# then sqld 1 and waits (60 s) until it answers; fails the current case if
# a wait runs out (the second sqld is the script's: after its tables)
start_cluster() {
    local i got
    [ -n "${LINK_BASE:-}" ] && start_links
    for i in 1 2 3; do start_pdd "$i"; done
    for i in 1 2 3; do start_kvd "$i"; done
    got=$(t_wait_output 3 90 stores_up) || t_fail "stores up: '$got'"
    start_sqld 1
    got=$(t_wait_output yes 60 sql_ready "$SQL1") || t_fail "sqld 1: $got"
}

# The bank workload (chaos_bank.py) the suites run on this cluster.
bank_acked() { cat "$T_TMP/bank.progress$1" 2>/dev/null || echo 0; }
# bank_progress SUFFIX N SECONDS: the workload acknowledges N more transfers
bank_progress() {
    local from deadline
    from=$(bank_acked "$1")
    deadline=$((SECONDS + $3))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(bank_acked "$1")" -ge $((from + $2)) ] && return 0
        sleep 0.2
    done
    echo "acknowledged $(bank_acked "$1") (from $from) after $3 s"
    return 1
}
# bank_setup: the bank's tables and accounts through sqld 1, then sqld 2
# (started after the tables exist: a sqld does not yet see DDL another
# sqld made after it read the catalog)
bank_setup() {
    local got
    /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/chaos_bank.py" \
        --ports="$SQL1" --dir="$T_TMP" --setup-only --accounts=32 \
        >"$T_TMP/setup.out" 2>&1 || t_fail "setup: $(cat "$T_TMP/setup.out")"
    start_sqld 2
    got=$(t_wait_output yes 60 sql_ready "$SQL2") || t_fail "sqld 2: $got"
}
# bank_start RUN FLAGS...: chaos_bank.py on both sqld in the background
# (BANK: its pid), run RUN (0: the first), writing $T_TMP/bankRUN.{out,json}
bank_start() {
    local run=$1
    shift
    /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/chaos_bank.py" \
        --ports="$SQL1,$SQL2" --dir="$T_TMP" --run="$run" --threads=4 --accounts=32 --ready=20 \
        --stats="$T_TMP/bank$run.json" "$@" >"$T_TMP/bank$run.out" 2>&1 &
    BANK=$!
    T_PIDS+=("$BANK")
}
# bank_go: a case, "the bank workload gets going on both sqld": run 0
# started, and its first 20 transfers acknowledged (90 s)
bank_go() {
    local got
    t_case "the bank workload gets going on both sqld"
    bank_start 0
    got=$(bank_progress "" 20 90) ||
        t_fail "no progress: $got $(cat "$T_TMP/bank0.out")"
}
# bank_check: a case, "every acknowledged transfer is there; the total
# never changed": run 0 stopped (180 s), its summary shown, BANK OK
# wanted; then the rounds (round, since T0) are told
bank_check() {
    t_case "every acknowledged transfer is there; the total never changed"
    touch "$T_TMP/bank.stop"
    t_wait_exit "$BANK" 180 || t_fail "the workload did not finish"
    sed 's/^/    /' "$T_TMP/bank0.out"
    t_expect_grep "bank outcome" "BANK OK" "$T_TMP/bank0.out"
    echo "    $round round(s) in $((SECONDS - T0)) s"
}
# bank_stat RUN KEY: a count from run RUN's summary ("errors", "acked")
bank_stat() {
    python3 -c "import json;print(json.load(open('$T_TMP/bank$1.json'))['$2'])"
}

# pd_leader_now: sets L to the pdd leader's number. The members may be
# between leaders (an election after a stall): wait for one rather than
# read once (make chaos saw '' 3 times in 87 rounds while the disks were
# busy); after 60 s without one the case fails and L is 1.
pd_leader_now() {
    for _ in $(seq 1 300); do
        L=$(pd_leader)
        case "$L" in 1|2|3) return 0 ;; esac
        sleep 0.2
    done
    t_fail "no pdd leader within 60 s: '$L'"
    L=1
}

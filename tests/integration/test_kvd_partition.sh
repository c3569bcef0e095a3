#!/usr/bin/env bash
# test_kvd_partition.sh: a region leader cut off from its peers, and one
# paused (SIGSTOP) and then resumed while cut off, never answers a read
# with a value older than a write another leader acknowledged meanwhile:
# the stale read of a deposed leader that Jepsen looks for (ports in
# 21100-21380). Three real kvd on a fixed map; every store reaches the
# others through links of netproxy.py (one per direction, cut by the test
# as a dropped packet cuts them), while the clients (kvctl) reach every
# store directly, as a client on the far side of a partition does.
. "$(dirname "$0")/lib.sh"

t_kvd_ports 21100 21380
# store i listens on B+i; the six links (LINK[i-j]: store i's connections
# to store j, both ways) on B+4..B+9
declare -A LINK
links=()
n=4
for i in 1 2 3; do
    for j in 1 2 3; do
        [ "$i" = "$j" ] && continue
        LINK[$i-$j]=$((BASE + n))
        links+=("$i-$j=$((BASE + n)):$((BASE + j))")
        n=$((n + 1))
    done
done
/usr/bin/python3 "$(dirname "$0")/netproxy.py" "$T_TMP" "${links[@]}" \
    >"$T_TMP/netproxy.out" 2>&1 &
T_PIDS+=("$!")
t_wait_for_grep ready "$T_TMP/netproxy.out" 30 ||
    { echo "netproxy did not start: $(cat "$T_TMP/netproxy.out")"; exit 1; }

start_store() { # i: its map names itself directly and the others by link
    local i=$1
    "$BIN/kvd" --data-dir="$T_TMP/kvd$i" --store-id="$i" \
        --listen="127.0.0.1:$(port "$i")" --peers="$(t_link_peers "$i")" \
        --raft.tick-interval=50ms --log.file="$T_TMP/kvd$i.log" &
    PID[$i]=$!
    T_PIDS+=("${PID[$i]}")
}
cut() { # store: every link to it and from it
    local j
    for j in 1 2 3; do
        [ "$j" = "$1" ] && continue
        touch "$T_TMP/cut-$1-$j" "$T_TMP/cut-$j-$1"
    done
}
heal() { rm -f "$T_TMP"/cut-*; }
# direct STORE ARGS...: kvctl to that store alone (no routing: it retries
# there only), for 2 s
direct() {
    local s=$1
    shift
    "$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$s")" --timeout=2 "$@" 2>&1
}
# new_leader OLD: the leader both other stores name, not OLD (30 s)
new_leader() {
    local a b l
    a=$(($1 % 3 + 1))
    b=$((a % 3 + 1))
    for _ in $(seq 1 300); do
        l=$(t_kvd_leader_seen_by "$a")
        if [ -n "$l" ] && [ "$l" != 0 ] && [ "$l" != "$1" ] &&
            [ "$(t_kvd_leader_seen_by "$b")" = "$l" ]; then
            echo "$l"
            return 0
        fi
        sleep 0.1
    done
    echo 0
}
# txn_put KEY VALUE: a transactional put through the routing client (30 s)
txn_put() {
    local out
    out=$("${CTL[@]}" --timeout=30 txn-put "$1" "$2" 2>&1)
    case "$out" in "committed at "*) ;; *) t_fail "txn-put $1 $2: $out" ;; esac
}
# majority_writes OLD RAW TXN: once the two stores other than OLD follow a
# leader of their own (NEW), k is RAW and tk is TXN through it
majority_writes() {
    new=$(new_leader "$1")
    [ "$new" != 0 ] || t_fail "no leader without store $1"
    t_expect_eq "put through the new leader" \
        "$("${CTL[@]}" --timeout=30 put k "$2" 2>&1)" ok
    txn_put tk "$3"
}
# refused OUT STORE: OUT is the refusal of a store that leads nothing
# and knows no leader, the answer of a store cut off from the others
refused() {
    echo "    store $2 answered: $1"
    [ "$1" = "error: gave up after 2 s: store $2 is not leader of region 1 (leader 0)" ]
}

t_case "three stores elect a leader over the links"
for i in 1 2 3; do start_store "$i"; done
t_expect_eq "put" "$("${CTL[@]}" put k v1 2>&1)" ok
txn_put tk 100
l=$(t_kvd_leader_wait 1)
[ "$l" != 0 ] || t_fail "no leader"
t_expect_eq "the leader reads" "$(direct "$l" get k)" v1

t_case "a leader cut off from its peers: the majority elects another; the old one never reads stale"
cut "$l"
majority_writes "$l" v2 200
t_expect_eq "the new leader reads" "$(direct "$new" get k)" v2
out=$(direct "$l" get k)
refused "$out" "$l" || t_fail "raw get from the cut-off store: $out"
out=$(direct "$l" txn-get tk)
refused "$out" "$l" || t_fail "txn get from the cut-off store: $out"

t_case "healed: the old leader follows and has the majority's writes"
heal
got=$(t_wait_output v2 30 direct "$l" --local get k) ||
    t_fail "store $l's own copy: $got"
t_expect_eq "get" "$("${CTL[@]}" get k 2>&1)" v2
t_expect_eq "txn-get" "$("${CTL[@]}" txn-get tk 2>&1)" 200

# A leader paused (a stalled process: swapping, a VM stolen away) makes no
# ticks; resumed, it must count its lease in real time, not in the ticks
# it made. Cut off while it is paused, it hears nothing of its successor,
# and a read sent to it while it was stopped is the first thing it sees.
t_case "a leader paused, then resumed still cut off: its lease ran out in real time"
l=$(t_kvd_leader_wait "$new")
[ "$l" != 0 ] || t_fail "no leader"
kill -STOP "${PID[$l]}"
cut "$l"
majority_writes "$l" v3 300
# the two reads wait in the stopped store's accept queue (ss: its length;
# the links' connections to it, cut, no longer come and go)
queued() { ss -ltnH "sport = :$(port "$l")" | awk '{print $2}'; }
q=$(queued)
direct "$l" get k >"$T_TMP/paused-get" &
g1=$!
direct "$l" txn-get tk >"$T_TMP/paused-txn-get" &
g2=$!
got=$(t_wait_output $((q + 2)) 30 queued) ||
    t_fail "connections waiting: $got, $q before the reads"
kill -CONT "${PID[$l]}"
wait "$g1"
wait "$g2"
out=$(cat "$T_TMP/paused-get")
refused "$out" "$l" || t_fail "raw get from the resumed store: $out"
out=$(cat "$T_TMP/paused-txn-get")
refused "$out" "$l" || t_fail "txn get from the resumed store: $out"

t_case "healed again: every store has the last writes"
heal
for i in 1 2 3; do
    got=$(t_wait_output v3 30 direct "$i" --local get k) ||
        t_fail "store $i's own copy: $got"
done
t_expect_eq "get" "$("${CTL[@]}" get k 2>&1)" v3
t_expect_eq "txn-get" "$("${CTL[@]}" txn-get tk 2>&1)" 300
t_end

#!/usr/bin/env bash
# test_kvd_pd.sh: kvd against the real pdd (ports in 28000-28499): three pdd
# and four kvd (stores 1-3 found region 1, store 4 starts empty). The
# cluster bootstraps through pdd, stores register and heartbeat, and the
# operators pdctl adds (transfer leader, add peer, remove peer, split) are
# carried out by the region's leader; a split made through kvd ctl reaches
# pdd's map; a store killed with -9 goes down in pdd and comes back up; a
# store missing from the others' peer maps is reached at the address it
# registered; kvd ctl --pd finds the stores through pdd
# (daemons/kvd/README.md).
. "$(dirname "$0")/lib.sh"

t_pick_base 28000 28480
BASE=$T_BASE
port() { echo $((BASE + $1)); }
PEERS="1@127.0.0.1:$(port 1),2@127.0.0.1:$(port 2),3@127.0.0.1:$(port 3),4@127.0.0.1:$(port 4)"
PDS="127.0.0.1:$(port 11),127.0.0.1:$(port 12),127.0.0.1:$(port 13)"
MEMBERS="pd1=127.0.0.1:$(port 11),pd2=127.0.0.1:$(port 12),pd3=127.0.0.1:$(port 13)"
CTL=("$BIN/kvd" ctl "--peers=$PEERS" --timeout=60)
PDCTL=("$BIN/pdctl" "--pd=$PDS" --timeout=20000)
declare -A PID

start_pdd() {
    local i=$1
    "$BIN/pdd" --name="pd$i" --listen="127.0.0.1:$(port $((10 + i)))" \
        --initial-members="$MEMBERS" --data-dir="$T_TMP/pd$i" \
        --log.file="$T_TMP/pd$i.log" --raft.tick=50ms \
        --schedule-interval=0 &
    PID[pd$i]=$!
    T_PIDS+=("${PID[pd$i]}")
}

start_kvd() { # start_kvd I [PEERS]
    local i=$1
    "$BIN/kvd" --data-dir="$T_TMP/kvd$i" --store-id="$i" \
        --listen="127.0.0.1:$(port "$i")" --peers="${2:-$PEERS}" \
        --initial-stores=1,2,3 --raft.tick-interval=50ms \
        --pd="$PDS" --pd.heartbeat-interval=200ms \
        --log.file="$T_TMP/kvd$i.log" &
    PID[$i]=$!
    T_PIDS+=("${PID[$i]}")
}

# The part of pdctl's region lines a test can predict (no sizes).
regions() {
    "${PDCTL[@]}" region 2>/dev/null |
        sed 's/ size [0-9]* keys [0-9]*//'
}
region1() { regions | grep '^region 1 '; }
leader_of() { # leader_of REGION: the leader peer id pdd knows
    regions | sed -n "s/^region $1 .* leader \\([0-9]*\\) .*/\\1/p"
}
stores() {
    "${PDCTL[@]}" store 2>/dev/null | sed 's/ regions .*//'
}

t_case "the cluster bootstraps through pdd; four stores up"
for i in 1 2 3; do start_pdd "$i"; done
for i in 1 2 3 4; do start_kvd "$i"; done
want="store 1 address 127.0.0.1:$(port 1) state up
store 2 address 127.0.0.1:$(port 2) state up
store 3 address 127.0.0.1:$(port 3) state up
store 4 address 127.0.0.1:$(port 4) state up"
got=$(t_wait_output "$want" 60 stores) || t_fail "stores: '$got'"
# store heartbeats carry the disk's capacity (pdctl prints it only then)
got=$(t_wait_output 4 60 sh -c "\"\$0\" \"\$@\" store 2>/dev/null | grep -c ' capacity [1-9][0-9]* available [1-9]'" "${PDCTL[@]}") ||
    t_fail "stores with a heartbeat: $got"
got=$(t_wait_output 1 60 sh -c "\"\$0\" \"\$@\" region 2>/dev/null | grep -c 'peers 1001@1 1002@2 1003@3\$'" "${PDCTL[@]}") ||
    t_fail "region 1 with three peers: '$got' $(regions)"
L=$(leader_of 1)
case "$L" in 1001|1002|1003) ;; *) t_fail "region 1 leader '$L'";; esac
t_expect_eq "region 1" "$(region1)" \
    "region 1 start \"\" end \"\" conf_ver 1 version 1 leader $L peers 1001@1 1002@2 1003@3"
t_expect_eq "one region" "$(regions | wc -l)" 1
t_expect_eq "put" "$("${CTL[@]}" put apple 1 2>&1)" "ok"

t_case "transfer-leader moves region 1's leader"
T=$(( (L % 1000) % 3 + 1 ))
t_expect_eq "operator add" "$("${PDCTL[@]}" operator add transfer-leader 1 $T 2>&1)" "ok"
got=$(t_wait_output "$((1000 + T))" 60 leader_of 1) ||
    t_fail "leader after transfer to store $T: '$got'"
out=$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port $T)" status 2>&1)
case "$out" in *'"leaders":1'*) ;; *) t_fail "store $T status: $out";; esac

t_case "add-peer puts store 4 in region 1"
t_expect_eq "operator add" "$("${PDCTL[@]}" operator add add-peer 1 4 2>&1)" "ok"
got=$(t_wait_output "region 1 start \"\" end \"\" conf_ver 2 version 1 peers 1001@1 1002@2 1003@3 1004@4" 60 \
    sh -c "\"\$0\" \"\$@\" region 1 2>/dev/null | sed 's/ leader [0-9]*//; s/ size [0-9]* keys [0-9]*//'" "${PDCTL[@]}") ||
    t_fail "region 1 after add-peer: '$got'"
ok=0
for _ in $(seq 1 100); do
    out=$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port 4)" --local --timeout=5 get apple 2>&1)
    [ "$out" = "1" ] && { ok=1; break; }
    sleep 0.2
done
[ $ok = 1 ] || t_fail "store 4 local read: $out"

t_case "remove-peer of the leader's store: it hands over, then is removed"
t_expect_eq "operator add" "$("${PDCTL[@]}" operator add remove-peer 1 $T 2>&1)" "ok"
got=$(t_wait_output 1 60 sh -c "\"\$0\" \"\$@\" region 2>/dev/null | grep -c '^region 1 .* conf_ver 3 .*'" "${PDCTL[@]}") ||
    t_fail "region 1 after remove-peer: '$got' $(regions)"
# libregion keeps no order among peers (a removal moves the last one
# into the gap); pdd compares them as a set
peers=$(region1 | sed 's/.* peers //')
t_expect_eq "peers" "$(echo "$peers" | tr ' ' '\n' | sort | paste -sd' ')" \
    "$(for s in 1 2 3 4; do [ $s = $T ] || echo "$((1000 + s))@$s"; done | paste -sd' ')"
L=$(leader_of 1)
[ "$L" != "$((1000 + T))" ] || t_fail "removed store $T still leads"
t_expect_eq "get" "$("${CTL[@]}" get apple 2>&1)" "1"

t_case "a split through kvd ctl shows as two regions in pdd"
t_expect_eq "put" "$("${CTL[@]}" put nut 2 2>&1)" "ok"
t_expect_eq "put" "$("${CTL[@]}" put yak 3 2>&1)" "ok"
t_expect_eq "put" "$("${CTL[@]}" put zebra 4 2>&1)" "ok"
t_expect_eq "split" "$("${CTL[@]}" split m 2>&1)" "ok"
got=$(t_wait_output 2 60 sh -c "\"\$0\" \"\$@\" region 2>/dev/null | grep -c ' version 2 '" "${PDCTL[@]}") ||
    t_fail "regions after split: $(regions)"
t_expect_eq "regions" "$(regions | sed 's/ leader [0-9]* / /; s/^region [0-9]* /region /')" \
"region start \"\" end \"m\" conf_ver 3 version 2 peers $peers
region start \"m\" end \"\" conf_ver 3 version 2 peers $(regions | sed -n '/start "m"/s/.* peers //p')"
R=$(regions | sed -n 's/^region \([0-9]*\) start "m".*/\1/p')
t_expect_eq "right peers are left's stores" \
    "$(regions | sed -n '/start "m"/s/.* peers //p' | sed 's/[0-9]*@/@/g')" \
    "$(echo "$peers" | sed 's/[0-9]*@/@/g')"

t_case "operator split: the leader splits at its middle key and reports it"
got=$(t_wait_output 1 60 sh -c "\"\$0\" \"\$@\" region 2>/dev/null | grep -c '^region $R .* leader [1-9]'" "${PDCTL[@]}") ||
    t_fail "no leader for region $R: $(regions)"
t_expect_eq "operator add" "$("${PDCTL[@]}" operator add split "$R" 2>&1)" "ok"
got=$(t_wait_output 3 60 sh -c "\"\$0\" \"\$@\" region 2>/dev/null | wc -l" "${PDCTL[@]}") ||
    t_fail "regions after operator split: $(regions)"
t_expect_eq "ranges" "$(regions | sed 's/^region [0-9]* start \("[^"]*"\) end \("[^"]*"\) conf_ver [0-9]* version \([0-9]*\) .*/\1 \2 \3/')" \
'"" "m" 2
"m" "yak" 3
"yak" "" 3'
t_expect_eq "scan" "$("${CTL[@]}" scan "" "" 2>&1 | tr '\n' ' ')" "apple=1 nut=2 yak=3 zebra=4 "
rep=0
for i in 1 2 3 4; do
    n=$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port $i)" status 2>/dev/null |
        sed -n 's/.*"splits_reported":\([0-9]*\).*/\1/p')
    rep=$((rep + ${n:-0}))
done
t_expect_eq "ReportSplit calls answered (kvd status)" "$rep" 1

t_case "kill -9 of a kvd: pdd marks its store down"
t_expect_eq "config" "$("${PDCTL[@]}" config set max-store-down-time-ms 2000 2>&1)" "ok"
K=4
[ $T = 4 ] && K=1
kill -9 "${PID[$K]}"
want=$(for s in 1 2 3 4; do
    st=up; [ $s = $K ] && st=down
    echo "store $s address 127.0.0.1:$(port $s) state $st"; done)
got=$(t_wait_output "$want" 60 stores) || t_fail "stores after kill: '$got'"
t_expect_grep "kvd heartbeats logged" "pd: store $K registered" "$T_TMP/kvd$K.log"

t_case "the killed kvd restarts: it joins the bootstrapped cluster, up again"
start_kvd "$K"
want=$(for s in 1 2 3 4; do
    echo "store $s address 127.0.0.1:$(port $s) state up"; done)
got=$(t_wait_output "$want" 60 stores) || t_fail "stores after restart: '$got'"
t_expect_eq "registered twice" "$(grep -c "pd: store $K registered" "$T_TMP/kvd$K.log")" 2
t_expect_eq "bootstrapped once" "$(cat "$T_TMP"/kvd*.log | grep -c 'pd: bootstrapped cluster')" 1

t_case "a store missing from the others' peer maps joins: its address from pdd"
# store 5 knows the others; they learn its address from pdd (GetStore)
# when region 1's leader first sends to it
start_kvd 5 "$PEERS,5@127.0.0.1:$(port 5)"
got=$(t_wait_output 1 60 sh -c "\"\$0\" \"\$@\" store 5 2>/dev/null | grep -c '^store 5 address 127.0.0.1:$(port 5) state up .* capacity'" "${PDCTL[@]}") ||
    t_fail "store 5 registered: $("${PDCTL[@]}" store 2>&1)"
t_expect_eq "operator add" "$("${PDCTL[@]}" operator add add-peer 1 5 2>&1)" "ok"
got=$(t_wait_output 1 60 sh -c "\"\$0\" \"\$@\" region 1 2>/dev/null | grep -c ' 1005@5'" "${PDCTL[@]}") ||
    t_fail "region 1 after add-peer 5: $(regions)"
ok=0
for _ in $(seq 1 100); do
    out=$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port 5)" --local --timeout=5 get apple 2>&1)
    [ "$out" = "1" ] && { ok=1; break; }
    sleep 0.2
done
[ $ok = 1 ] || t_fail "store 5 local read: $out"
n=$(cat "$T_TMP"/kvd[1-4].log | grep -c "pd: store 5 is at 127.0.0.1:$(port 5)")
[ "$n" -ge 1 ] || t_fail "no store resolved store 5 through pdd"

t_case "kvd ctl --pd finds the stores through pdd"
PCTL=("$BIN/kvd" ctl "--pd=$PDS" --timeout=60)
t_expect_eq "put" "$("${PCTL[@]}" put kiwi 5 2>&1)" "ok"
t_expect_eq "scan" "$("${PCTL[@]}" scan "" "" 2>&1 | tr '\n' ' ')" "apple=1 kiwi=5 nut=2 yak=3 zebra=4 "
out=$("$BIN/kvd" ctl --pd=127.0.0.1:1 --timeout=1 get apple 2>&1); rc=$?
t_expect_eq "no pdd: exit" "$rc" 1
case "$out" in "error: pd: "*) ;; *) t_fail "no pdd: $out";; esac

t_case "a kvd stops cleanly while it heartbeats (SIGTERM, exit 0)"
S=1
[ $T = 1 ] && S=2
kill -TERM "${PID[$S]}"
t_wait_exit "${PID[$S]}" 60 || t_fail "store $S did not stop"
t_expect_eq "exit" "$T_RC" 0

t_end

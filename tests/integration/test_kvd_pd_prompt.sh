#!/usr/bin/env bash
# test_kvd_pd_prompt.sh: kvd reports a change at once, not at its next
# heartbeat round (ports in 10200-10599): one pdd whose only scheduler at
# work is the replica checker (balance-leader held) and three kvd
# heartbeating every 60 s, so pdd's map can only follow a leader
# transfer, a split or a membership change within the test's 15 s if the
# leader heartbeats the region as the change happens; and a replica made
# up in 20 s only if each step's answer comes at once and the refused
# promotion of the new learner is asked again within seconds
# (daemons/kvd/README.md "The pd thread", "Operator steps";
# libregion/DESIGN.md "Reporting changes").
. "$(dirname "$0")/lib.sh"

t_pick_base 10200 10580
BASE=$T_BASE
port() { echo $((BASE + $1)); }
PEERS="1@127.0.0.1:$(port 1),2@127.0.0.1:$(port 2),3@127.0.0.1:$(port 3)"
PDA="127.0.0.1:$(port 11)"
CTL=("$BIN/kvd" ctl "--peers=$PEERS" --timeout=30)
PDCTL=("$BIN/pdctl" "--pd=$PDA" --timeout=20000)
declare -A KPID

"$BIN/pdd" --name=pd1 --listen="$PDA" --initial-members="pd1=$PDA" \
    --data-dir="$T_TMP/pd1" --log.file="$T_TMP/pd1.log" --raft.tick=50ms \
    --schedule-interval=200ms &
T_PIDS+=("$!")
for i in 1 2 3; do
    "$BIN/kvd" --data-dir="$T_TMP/kvd$i" --store-id="$i" \
        --listen="127.0.0.1:$(port "$i")" --peers="$PEERS" \
        --initial-stores=1,2,3 --raft.tick-interval=50ms \
        --pd="$PDA" --pd.heartbeat-interval=60s \
        --log.file="$T_TMP/kvd$i.log" &
    T_PIDS+=("$!")
    KPID[$i]=$!
done

# pdctl's region lines without sizes
regions() {
    "${PDCTL[@]}" region 2>/dev/null | sed 's/ size [0-9]* keys [0-9]*//'
}
leader_of() { # leader_of REGION: the store of the leader pdd knows
    regions | sed -n "s/^region $1 .* leader [0-9]*\\([0-9]\\) .*/\\1/p"
}
# pd counter NAME of store I's status
pdc() {
    "$BIN/kvd" ctl --addr="127.0.0.1:$(port "$1")" status 2>/dev/null |
        sed -n "s/.*\"pd\":{[^}]*\"$2\":\([0-9]*\).*/\1/p"
}

t_case "a leader transfer shows in pdd at once"
got=$(t_wait_output ok 60 "${PDCTL[@]}" config set leader-tolerance 1000000) ||
    t_fail "hold balance-leader: $got"
# the first round after joining reports region 1; later rounds are 60 s away
got=$(t_wait_output 1 60 sh -c "\"\$0\" \"\$@\" region 2>/dev/null | grep -c '^region 1 .*peers 1001@1 1002@2 1003@3\$'" "${PDCTL[@]}") ||
    t_fail "region 1 in pdd: '$got' $(regions)"
t_expect_eq "put" "$("${CTL[@]}" put apple 1 2>&1)" "ok"
L=$(leader_of 1) # a new leader since would have been reported too
case "$L" in 1 | 2 | 3) ;; *) t_fail "region 1's leader in pdd: '$L'" ;; esac
T=$((L % 3 + 1))
p0=$(pdc "$T" region_heartbeats_prompt)
t_expect_eq "transfer" "$("${CTL[@]}" transfer-leader apple "$T" 2>&1)" "ok"
got=$(t_wait_output "$T" 15 leader_of 1) ||
    t_fail "pdd's leader of region 1: '$got', want store $T within 15 s"
p1=$(pdc "$T" region_heartbeats_prompt)
[ "${p1:-0}" -gt "${p0:-0}" ] || t_fail "store $T prompt heartbeats: $p0 -> $p1"

t_case "a split made through kvd ctl shows in pdd at once"
t_expect_eq "split" "$("${CTL[@]}" split m 2>&1)" "ok"
got=$(t_wait_output 2 15 sh -c "\"\$0\" \"\$@\" region 2>/dev/null | wc -l" "${PDCTL[@]}") ||
    t_fail "regions in pdd within 15 s: $got: $(regions)"
t_expect_eq "region 1 after the split" "$(regions | grep '^region 1 ' | sed 's/ leader [0-9]*//')" \
    "region 1 start \"\" end \"m\" conf_ver 1 version 2 peers 1001@1 1002@2 1003@3"

t_case "a membership change shows in pdd at once"
# region 1 loses a follower: conf_ver 2, two peers, within 15 s
F=$((T % 3 + 1))
t_expect_eq "remove peer" "$("${CTL[@]}" remove-peer apple "$F" 2>&1)" "ok"
got=$(t_wait_output 1 15 sh -c "\"\$0\" \"\$@\" region 2>/dev/null | grep -c '^region 1 .* conf_ver 2 .*'" "${PDCTL[@]}") ||
    t_fail "region 1 in pdd after removing store $F: $(regions | grep '^region 1 ')"
t_expect_eq "peers of region 1" \
    "$(regions | grep '^region 1 ' | grep -o "peers.*" | tr ' ' '\n' | grep -c '@')" 2
t_expect_eq "get" "$("${CTL[@]}" get apple 2>&1)" "1"

t_case "the replica is made up in seconds: each step answered at once"
# pdd's replica checker wants a learner on store F, then its promotion;
# its first step rides the answer to the heartbeat a new leader sends
# at once, and every change is reported as it happens. Store F's kvd is
# paused meanwhile, so the promotion is refused until it runs again and
# has its snapshot: asked again every second, not at the round 60 s on
V=$((F % 3 + 1)) # region 1's other voter
[ "$V" != "$T" ] || V=$((V % 3 + 1))
# the checker makes its operator at its next round (200 ms)
makeup() { "${PDCTL[@]}" operator show 1 2>&1 | grep -c make-up-replica; }
got=$(t_wait_output 1 15 makeup) ||
    t_fail "no make-up-replica operator on region 1: $("${PDCTL[@]}" operator show 2>&1)"
kill -STOP "${KPID[$F]}"
t_expect_eq "transfer to store $V" "$("${CTL[@]}" transfer-leader apple "$V" 2>&1)" "ok"
got=$(t_wait_output 3 15 sh -c "\"\$0\" \"\$@\" region 1 2>/dev/null | sed -n 's/.* conf_ver \([0-9]*\) .*/\1/p'" "${PDCTL[@]}") ||
    t_fail "region 1's conf_ver in pdd with a learner on store $F: '$got'"
sleep 3 # promotions refused
kill -CONT "${KPID[$F]}"
# "conf_ver C peers P..." of region 1 in pdd, its peers sorted
shape1() {
    regions | sed -n 's/^region 1 .* conf_ver \([0-9]*\) .* peers \(.*\)$/\1 \2/p' |
        { read -r c p && echo "conf_ver $c peers $(tr ' ' '\n' <<<"$p" | sort | paste -sd' ')"; }
}
got=$(t_wait_output "conf_ver 4 peers 1001@1 1002@2 1003@3" 15 shape1) ||
    t_fail "region 1 in pdd 15 s after store $F resumed: '$got'"
grep -q "region 1: add learner store $F" "$T_TMP/kvd$V.log" ||
    t_fail "store $V's log: no learner added on store $F"
t_expect_eq "get from the new replica" \
    "$("$BIN/kvd" ctl --addr="127.0.0.1:$(port "$F")" --local --timeout=5 get apple 2>&1)" "1"

t_end

#!/usr/bin/env bash
# test_pdd.sh: three real pdd on loopback (a slot of 18000-18980 from
# t_pick_base: members at base+1..3, HTTP status at base+11..13, a lone
# misconfigured pdd at base+9) driven with
# pdctl: leader election and redirects, TSO strictly increasing across
# kill -9 of the leader and across a wall clock stepped an hour back
# (PDD_TEST_CLOCK_OFFSET_MS and _FILE, test-only knobs), stale region heartbeats
# ignored, bad input answered with clear errors (libpd/DESIGN.md, "pdd").
. "$(dirname "$0")/lib.sh"

PDCTL=$BIN/pdctl
t_pick_base 18000 18980
B=$T_BASE
ADDR=(x 127.0.0.1:$((B + 1)) 127.0.0.1:$((B + 2)) 127.0.0.1:$((B + 3)))
MEMBERS="pd1=${ADDR[1]},pd2=${ADDR[2]},pd3=${ADDR[3]}"
ALL="${ADDR[1]},${ADDR[2]},${ADDR[3]}"
PID=(x 0 0 0)

start() { # start I [env...]
    local i=$1; shift
    env PDD_TEST_CLOCK_OFFSET_FILE="$T_TMP/clock$i" "$@" \
        "$BIN/pdd" --name=pd$i --listen=${ADDR[$i]} \
        --initial-members=$MEMBERS --data-dir="$T_TMP/pd$i" \
        --log.file="$T_TMP/pd$i.log" --raft.tick=50ms \
        --raft.snapshot-entries=10 --status-listen=127.0.0.1:$((B + 10 + i)) \
        --schedule-interval=200ms &
    PID[$i]=$!; T_PIDS+=("${PID[$i]}")
}

# leader_index: the member index the cluster names as leader (waits).
leader_index() {
    local deadline=$((SECONDS + 60)) out id
    while [ $SECONDS -lt $deadline ]; do
        out=$("$PDCTL" --pd=$ALL --timeout=5000 member 2>/dev/null)
        id=$(echo "$out" | sed -n 's/^leader \([0-9]*\) .*/\1/p')
        if [ -n "$id" ] && [ "$id" != 0 ]; then echo "$id"; return 0; fi
        sleep 0.2
    done
    return 1
}

tso() { "$PDCTL" --pd=$ALL --timeout=30000 tso "$@"; }

# check_increasing FILE: every line is a number above the one before
# (compared as digit strings: timestamps exceed awk's exact doubles).
check_increasing() {
    awk 'NR > 1 && !(length($1) > length(prev) ||
                     (length($1) == length(prev) && ($1 "") > (prev ""))) {
             print "line " NR ": " $1 " <= " prev; bad = 1 }
         { prev = $1 } END { exit bad }' "$1"
}

t_case "bad member lists are refused with the reason, exit 2"
"$BIN/pdd" --data-dir="$T_TMP/bad" --listen=127.0.0.1:$((B + 9)) \
    --initial-members=foo 2>"$T_TMP/err"; rc=$?
t_expect_eq "exit" "$rc" 2
t_expect_grep "message" "initial-members: expected name=host:port, got 'foo'" "$T_TMP/err"
"$BIN/pdd" --data-dir="$T_TMP/bad" --listen=127.0.0.1:$((B + 9)) --name=zz \
    --initial-members=a=127.0.0.1:$((B + 9)) 2>"$T_TMP/err"; rc=$?
t_expect_eq "exit" "$rc" 2
t_expect_grep "message" "name 'zz' is not in initial-members" "$T_TMP/err"
out=$("$PDCTL" --pd=127.0.0.1:$((B + 9)) --timeout=300 tso 2>&1); rc=$?
t_expect_eq "pdctl exit" "$rc" 1
t_expect_eq "pdctl message" "$out" \
    "pdctl: cannot reach pd at 127.0.0.1:$((B + 9)): gave up after retries: connect to 127.0.0.1:$((B + 9)) failed: Connection refused"

t_case "three members elect a leader"
for i in 1 2 3; do start $i; done
L=$(leader_index) || t_fail "no leader within 60 s"
"$PDCTL" --pd=$ALL member >"$T_TMP/members" || t_fail "pdctl member failed"
t_expect_eq "members listed" "$(grep -c '^member ' "$T_TMP/members")" 3
t_expect_eq "one leader" "$(grep -c ' leader$' "$T_TMP/members")" 1

t_case "a follower redirects; the client follows"
F=$(( L % 3 + 1 ))
out=$("$PDCTL" --pd=${ADDR[$F]} tso 2>&1) || t_fail "tso via follower: $out"
t1=$(tso) || t_fail "tso failed"
[ "$t1" -gt "${out:-0}" ] 2>/dev/null || t_fail "tso $t1 not above $out"

t_case "bootstrap, then bad cluster id and bad input get clear errors"
out=$("$PDCTL" --pd=$ALL bootstrap 42 1 127.0.0.1:20160 2 3 2>&1)
t_expect_eq "bootstrap" "$out" "ok"
out=$("$PDCTL" --pd=$ALL bootstrap 42 1 127.0.0.1:20160 2 3 2>&1); rc=$?
t_expect_eq "second bootstrap exit" "$rc" 1
case "$out" in *"cluster is already bootstrapped"*"(-4005)"*) ;;
    *) t_fail "second bootstrap: $out";; esac
out=$("$PDCTL" --pd=$ALL --cluster-id=7 store 2>&1); rc=$?
t_expect_eq "wrong cluster exit" "$rc" 1
t_expect_eq "wrong cluster message" "$out" \
    "pdctl: store: cluster id 7 does not match this cluster's 42 (-4006)"
out=$("$PDCTL" --pd=$ALL tso 0 2>&1)
t_expect_eq "tso count 0" "$out" \
    "pdctl: tso: tso count 0 out of range 1..262144 (-22)"
out=$("$PDCTL" --pd=$ALL store put 0 127.0.0.1:1 2>&1)
t_expect_eq "store id 0" "$out" \
    "pdctl: store put: put store: store id must be nonzero (-22)"
out=$("$PDCTL" --pd=$ALL store put 9 127.0.0.1:1 a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 2>&1)
t_expect_eq "nine labels" "$out" "pdctl: at most 8 labels"
out=$("$PDCTL" --pd=$ALL store put 9 127.0.0.1:1 zone 2>&1)
t_expect_eq "a label without =" "$out" \
    "pdctl: store put: 'zone' is neither a version X.Y.Z (each part 0-999, e.g. 0.11.0) nor a label key=value"
out=$("$PDCTL" --pd=$ALL store put 9 127.0.0.1:1 0.11.0 zone 2>&1)
t_expect_eq "a label without = after a version" "$out" \
    "pdctl: store put: 'zone' is neither a version X.Y.Z (each part 0-999, e.g. 0.11.0) nor a label key=value"
out=$("$PDCTL" --pd=$ALL store put 9 127.0.0.1:1 0.11.0 0.33.0 zone 2>&1)
t_expect_eq "a label without = after both versions" "$out" "pdctl: label: key=value"
out=$("$PDCTL" --pd=$ALL region 99 2>&1)
t_expect_eq "unknown region" "$out" \
    "pdctl: region: region 99: no such store, region or operator (-4008)"
# Bytes that are no librpc frame: the connection is dropped, pdd serves on.
L=$(leader_index)
port=${ADDR[$L]##*:}
{ printf 'GET / HTTP/1.0\r\n\r\n' >/dev/tcp/127.0.0.1/$port; } 2>/dev/null
out=$("$PDCTL" --pd=$ALL cluster 2>&1)
t_expect_eq "still serving" "$out" "bootstrapped yes cluster 42
cluster version unknown
cluster libregion version unknown"

t_case "ask split hands out fresh ids"
out=$("$PDCTL" --pd=$ALL region ask-split 2 2>&1)
case "$out" in "new region "[0-9]*" peers "[0-9]*) ;; *) t_fail "ask-split: $out";; esac
out2=$("$PDCTL" --pd=$ALL region ask-split 2 2>&1)
[ "$out" != "$out2" ] || t_fail "the same ids twice: $out"
out=$("$PDCTL" --pd=$ALL region ask-split 77 2>&1)
t_expect_eq "unknown region" "$out" \
    "pdctl: region ask-split: no such store, region or operator: ask split: no region 77 (-4008)"

t_case "stale region heartbeats are ignored"
# Region 2 splits at "m": 2 keeps ["", "m") and 10 takes ["m", ""), both at
# version 2. A late report of region 2 at version 1 must change nothing.
"$PDCTL" --pd=$ALL region heartbeat 2 "" m 1 2 3 3@1 >/dev/null ||
    t_fail "split report (left)"
"$PDCTL" --pd=$ALL region heartbeat 10 m "" 1 2 11 11@1 >/dev/null ||
    t_fail "split report (right)"
out=$("$PDCTL" --pd=$ALL region heartbeat 2 "" "" 1 1 3 3@1 2>&1); rc=$?
t_expect_eq "stale exit" "$rc" 1
case "$out" in *"stale heartbeat for region 2 (conf_ver 1, version 1)"*"(-4007)"*) ;;
    *) t_fail "stale heartbeat answer: $out";; esac
out=$("$PDCTL" --pd=$ALL region key zebra 2>&1)
case "$out" in "region 10 start \"m\" end \"\""*) ;;
    *) t_fail "key zebra should be in region 10: $out";; esac
out=$("$PDCTL" --pd=$ALL region key-hex 6c00ff 2>&1)
case "$out" in "region 2 start \"\" end \"m\""*) ;;
    *) t_fail "key l\\0\\xff should be in region 2: $out";; esac
t_expect_eq "regions" "$("$PDCTL" --pd=$ALL region | wc -l)" 2
out=$("$PDCTL" --pd=$ALL region heartbeat 2 "" m 1 2 3 2>&1)
t_expect_eq "no peers" "$out" \
    "pdctl: region heartbeat: region heartbeat: region 2 has 0 peers (1..16) (-22)"

t_case "HTTP status port: /status, /metrics and the JSON API"
L=$(leader_index)
H=127.0.0.1:$((B + 10 + L))
json() { curl -sf "http://$H$1" | python3 -c "import json, sys; d = json.load(sys.stdin); print($2)"; }
t_expect_eq "/status" "$(json /status 'd["serving"], d["cluster_id"], d["id"]')" "True 42 $L"
t_expect_eq "members" "$(json /pd/api/v1/members 'len(d["members"]), d["leader_id"]')" "3 $L"
t_expect_eq "regions" "$(json /pd/api/v1/regions '[(r["id"], r["start_key"], r["end_key"], r["version"]) for r in d["regions"]]')" \
    "[(2, '', 'm', 2), (10, 'm', '', 2)]"
t_expect_eq "stores" "$(json /pd/api/v1/stores '[(s["id"], s["state"], s["regions"]) for s in d["stores"]]')" \
    "[(1, 'up', 2)]"
tso >/dev/null
curl -sf "http://$H/metrics" >"$T_TMP/metrics" || t_fail "/metrics failed"
grep -q '^pdd_timestamps_total [1-9]' "$T_TMP/metrics" || t_fail "no timestamps counted: $(grep timestamps "$T_TMP/metrics")"
t_expect_grep "metrics" "pd_regions 2" "$T_TMP/metrics"
t_expect_grep "metrics" "pd_is_leader 1" "$T_TMP/metrics"
t_expect_eq "404" "$(curl -s -o /dev/null -w '%{http_code}' "http://$H/nope")" 404

t_case "operators: added, handed out in the heartbeat reply, listed"
"$PDCTL" --pd=$ALL store put 4 127.0.0.1:20161 >/dev/null || t_fail "put store 4"
"$PDCTL" --pd=$ALL region heartbeat 10 m "" 2 2 11 11@1 12@4 >/dev/null ||
    t_fail "add peer report"
out=$("$PDCTL" --pd=$ALL operator add transfer-leader 10 4 2>&1)
t_expect_eq "add" "$out" "ok"
out=$("$PDCTL" --pd=$ALL operator show 2>&1)
case "$out" in *"region 10 desc admin-transfer-leader status running"*) ;;
    *) t_fail "operator show: $out";; esac
out=$("$PDCTL" --pd=$ALL region heartbeat 10 m "" 2 2 11 11@1 12@4 2>&1)
t_expect_eq "step handed out" "$out" "ok step transfer-leader store 4 peer 0"

out=$("$PDCTL" --pd=$ALL operator remove 10 2>&1)
t_expect_eq "remove" "$out" "ok"
out=$("$PDCTL" --pd=$ALL operator show 10 2>&1)
t_expect_eq "removed" "$out" "pdctl: operator show: region 10 has no operator (-4008)"

t_case "store states: delete (offline), back up, tombstone once empty"
"$PDCTL" --pd=$ALL store put 6 127.0.0.1:20166 zone=z9 >/dev/null || t_fail "put store 6"
t_expect_eq "delete" "$("$PDCTL" --pd=$ALL store delete 6 2>&1)" ok
case "$("$PDCTL" --pd=$ALL store 6)" in "store 6 address 127.0.0.1:20166 state offline zone=z9 "*) ;;
    *) t_fail "store 6 not offline: $("$PDCTL" --pd=$ALL store 6 2>&1)";; esac
t_expect_eq "up again" "$("$PDCTL" --pd=$ALL store state 6 up 2>&1)" ok
t_expect_eq "up -> tombstone" "$("$PDCTL" --pd=$ALL store state 6 tombstone 2>&1)" \
    "pdctl: store state: transition not allowed from the current state: store 6: state 0 to 2 (-4013)"
"$PDCTL" --pd=$ALL store delete 6 >/dev/null
t_expect_eq "tombstone" "$("$PDCTL" --pd=$ALL store state 6 tombstone 2>&1)" ok
t_expect_eq "heartbeat refused" "$("$PDCTL" --pd=$ALL store heartbeat 6 2>&1)" \
    "pdctl: store heartbeat: store 6: store is a tombstone (-4009)"

t_case "scheduling: a region short of replicas is given a new peer"
# Region 2 has one voter (store 1); max-replicas is 3. Once stores report
# and region 2 is heard from, a round adds a peer on the emptiest store.
for st in 1 4; do "$PDCTL" --pd=$ALL store heartbeat $st >/dev/null || t_fail "store $st heartbeat"; done
deadline=$((SECONDS + 30)); step=""
while [ $SECONDS -lt $deadline ]; do
    for st in 1 4; do "$PDCTL" --pd=$ALL store heartbeat $st >/dev/null; done
    step=$("$PDCTL" --pd=$ALL region heartbeat 2 "" m 1 2 3 3@1 2>&1)
    case "$step" in "ok step add-learner store 4 "*) break;; esac
    sleep 0.2
done
case "$step" in "ok step add-learner store 4 peer "*) ;;
    *) t_fail "no add-learner step within 30 s: $step";; esac
out=$("$PDCTL" --pd=$ALL operator show 2 2>&1)
case "$out" in *"region 2 desc make-up-replica status running step 0/2: add-learner(store 4"*"promote-learner(store 4"*) ;;
    *) t_fail "operator show 2: $out";; esac

t_case "GC safe points: service safe points hold the GC safe point back"
t_expect_eq "gc 100" "$("$PDCTL" --pd=$ALL gc 100 2>&1)" 100
t_expect_eq "service below gc" "$("$PDCTL" --pd=$ALL service-gc backup 600000 50 2>&1)" \
    "pdctl: service-gc: safe point would move backwards: service backup: 50 is below the gc safe point 100 (-4011)"
t_expect_eq "service at 150" "$("$PDCTL" --pd=$ALL service-gc backup 600000 150 2>&1)" 150
t_expect_eq "gc clamped" "$("$PDCTL" --pd=$ALL gc 500 2>&1)" 150
t_expect_eq "gc read" "$("$PDCTL" --pd=$ALL gc 2>&1)" 150
t_expect_eq "config set" "$("$PDCTL" --pd=$ALL config set leader-tolerance 4 2>&1)" ok
t_expect_eq "config kept" "$("$PDCTL" --pd=$ALL config show | grep leader-tolerance)" "leader-tolerance: 4"
t_expect_eq "leader-schedule-limit default" \
    "$("$PDCTL" --pd=$ALL config show | grep leader-schedule-limit)" "leader-schedule-limit: 16"
out=$("$PDCTL" --pd=$ALL config set leader-schedule-limit 0 2>&1)
case "$out" in *"leader_schedule_limit out of 1..1024"*) ;; *) t_fail "limit 0: $out";; esac
t_expect_eq "limit set" "$("$PDCTL" --pd=$ALL config set leader-schedule-limit 5 2>&1)" ok
t_expect_eq "limit kept" "$("$PDCTL" --pd=$ALL config show | grep leader-schedule-limit)" \
    "leader-schedule-limit: 5"

t_case "leadership handed over on request (pdctl member transfer)"
L=$(leader_index)
F=$(( L % 3 + 1 ))
t1=$(tso)
t_expect_eq "transfer" "$("$PDCTL" --pd=$ALL member transfer pd$F 2>&1)" ok
deadline=$((SECONDS + 30))
while [ "$(leader_index)" != "$F" ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
t_expect_eq "new leader" "$(leader_index)" "$F"
t2=$(tso)
printf '%s\n' "$t1" "$t2" >"$T_TMP/ts5"
check_increasing "$T_TMP/ts5" || t_fail "timestamps went back across the transfer"
t_expect_eq "unknown member" "$("$PDCTL" --pd=$ALL member transfer pd9 2>&1)" \
    "pdctl: member transfer: no member 'pd9'"

t_case "TSO strictly increasing while the leader's clock steps an hour back"
L=$(leader_index)
: >"$T_TMP/ts4"
tso >>"$T_TMP/ts4"
echo -3600000 >"$T_TMP/clock$L"
t_wait_for_grep "TEST ONLY: wall clock offset now -3600000 ms" "$T_TMP/pd$L.log" 30 ||
    t_fail "pd$L did not take the new offset"
for k in 1 2 3 4 5 6 7 8; do tso 50000 >>"$T_TMP/ts4" || t_fail "tso failed"; done
check_increasing "$T_TMP/ts4" || t_fail "went back when the clock stepped back"
[ "$(leader_index)" = "$L" ] || t_fail "leadership moved: the test did not exercise pd$L"
echo 0 >"$T_TMP/clock$L"

t_case "TSO strictly increasing across kill -9 of the leader"
: >"$T_TMP/ts"
tso >>"$T_TMP/ts"
( end=$((SECONDS + 6)); while [ $SECONDS -lt $end ]; do tso >>"$T_TMP/ts" || echo FAIL >>"$T_TMP/ts"; done ) &
loop=$!
sleep 1.5
L=$(leader_index)
kill -9 "${PID[$L]}"; wait "${PID[$L]}" 2>/dev/null
wait $loop
grep -q FAIL "$T_TMP/ts" && t_fail "a tso call failed across failover"
n=$(wc -l <"$T_TMP/ts")
[ "$n" -gt 10 ] || t_fail "only $n timestamps"
check_increasing "$T_TMP/ts" || t_fail "not strictly increasing"
L2=$(leader_index) || t_fail "no new leader"
[ "$L2" != "$L" ] || t_fail "the killed member is still named leader"

t_case "a member back after kill -9 catches up through a snapshot"
# Snapshots every 10 entries keep 5: 30 changes while it is down compact
# past its log, so the leader must send it a snapshot.
for k in $(seq 100 129); do
    "$PDCTL" --pd=$ALL store put $k 127.0.0.1:$((30000 + k)) >/dev/null ||
        t_fail "put store $k"
done
start $L
t_wait_for_grep "restored a snapshot at index" "$T_TMP/pd$L.log" 60 ||
    t_fail "pd$L got no snapshot"
out=$("$PDCTL" --pd=${ADDR[$L]} --timeout=30000 store 129 2>&1)
case "$out" in "store 129 address 127.0.0.1:30129"*) ;;
    *) t_fail "store 129 via the restarted member: $out";; esac

t_case "a leader paused (SIGSTOP) and resumed serves nothing stale"
L=$(leader_index)
before=$(tso)
kill -STOP "${PID[$L]}"
OTHERS=""; for i in 1 2 3; do [ $i != $L ] && OTHERS="$OTHERS,${ADDR[$i]}"; done
t1=$("$PDCTL" --pd=${OTHERS#,} --timeout=30000 tso) || t_fail "no tso while the leader is paused"
kill -CONT "${PID[$L]}"
t2=$("$PDCTL" --pd=${ADDR[$L]} --timeout=30000 tso) || t_fail "no tso after the resume"
printf '%s\n' "$before" "$t1" "$t2" >"$T_TMP/ts3"
check_increasing "$T_TMP/ts3" || t_fail "the resumed member served a stale timestamp"
echo "$t2" >>"$T_TMP/ts"

t_case "TSO strictly increasing with every clock stepped an hour back"
last=$(tail -n 1 "$T_TMP/ts")
for i in 1 2 3; do kill -9 "${PID[$i]}"; wait "${PID[$i]}" 2>/dev/null; done
rm -f "$T_TMP"/clock[123] # a file would override the offset below
for i in 1 2 3; do start $i PDD_TEST_CLOCK_OFFSET_MS=-3600000; done
leader_index >/dev/null || t_fail "no leader after the restart"
: >"$T_TMP/ts2"
echo "$last" >>"$T_TMP/ts2"
for k in 1 2 3 4 5; do tso 1000 >>"$T_TMP/ts2" || t_fail "tso failed"; done
check_increasing "$T_TMP/ts2" || t_fail "went back after the clock step"
t_expect_grep "knob logged" "TEST ONLY: wall clock offset -3600000 ms" "$T_TMP/pd1.log"
out=$("$PDCTL" --pd=$ALL region key zebra 2>&1)
case "$out" in "region 10 "*) ;; *) t_fail "state lost across restarts: $out";; esac
t_expect_eq "stores kept" "$("$PDCTL" --pd=$ALL store | wc -l)" 33
t_expect_eq "gc kept" "$("$PDCTL" --pd=$ALL gc 2>&1)" 150
t_expect_eq "config kept" "$("$PDCTL" --pd=$ALL config show | grep leader-tolerance)" "leader-tolerance: 4"
t_expect_eq "limit kept" "$("$PDCTL" --pd=$ALL config show | grep leader-schedule-limit)" \
    "leader-schedule-limit: 5"

for i in 1 2 3; do kill -TERM "${PID[$i]}" 2>/dev/null; done
for i in 1 2 3; do t_wait_exit "${PID[$i]}" 20 || t_fail "pd$i did not stop"; done

t_case "a data directory refuses another member list"
"$BIN/pdd" --name=pd1 --listen=${ADDR[1]} --data-dir="$T_TMP/pd1" \
    --initial-members="pd1=${ADDR[1]},pd2=${ADDR[2]}" 2>"$T_TMP/err"; rc=$?
t_expect_eq "exit" "$rc" 1
t_expect_grep "message" "initial-members lists 2 members, but $T_TMP/pd1/raft was created for a group of 3" "$T_TMP/err"
t_end

#!/usr/bin/env bash
# test_pd_members.sh: pdd membership changes with real processes on
# loopback (libpd/DESIGN.md, "pdd: membership"): three members, a fourth
# added (pdctl member add, then pdd --join), the leader removed (it hands
# over first), two more joined with --join alone, the rest of the first
# three removed, so the group ends with none of its founders; timestamps
# strictly increasing throughout (one long-lived client that must follow
# the members, and fresh clients), the cluster's data intact, membership
# persisted across kill -9 of every member, and a removed member's data
# directory refused.
. "$(dirname "$0")/lib.sh"

PDCTL=$BIN/pdctl
t_pick_base 26400 26780
ADDR=(x)
for i in 1 2 3 4 5 6; do ADDR+=("127.0.0.1:$((T_BASE + i))"); done
FOUNDERS="pd1=${ADDR[1]},pd2=${ADDR[2]},pd3=${ADDR[3]}"
ALL="${ADDR[1]},${ADDR[2]},${ADDR[3]}"
PID=(x 0 0 0 0 0 0)

# start I [flags...]: pdd I with its own data dir and log.
start() {
    local i=$1; shift
    "$BIN/pdd" --name=pd$i --listen=${ADDR[$i]} --data-dir="$T_TMP/pd$i" \
        --log.file="$T_TMP/pd$i.log" --raft.tick=50ms \
        --raft.snapshot-entries=10 --schedule-interval=0 "$@" &
    PID[$i]=$!; T_PIDS+=("${PID[$i]}")
}

# live: the client addresses of members still running, comma-separated.
live() {
    local out="" i
    for i in 1 2 3 4 5 6; do
        [ "${PID[$i]}" != 0 ] && kill -0 "${PID[$i]}" 2>/dev/null &&
            out="$out,${ADDR[$i]}"
    done
    echo "${out#,}"
}

pdctl() { "$PDCTL" --pd="$(live)" --timeout=30000 "$@"; }

# members: "name[ learner]" of each member, sorted, on one line.
members() {
    pdctl member 2>/dev/null |
        sed -n 's/^member [0-9]* name \([^ ]*\) address [^ ]*\( learner\)\{0,1\}.*/\1\2/p' |
        sort | paste -sd' '
}

leader_name() {
    pdctl member 2>/dev/null | sed -n 's/^member [0-9]* name \([^ ]*\) .* leader$/\1/p'
}

# check_increasing FILE: every line is a number above the one before
# (compared as digit strings: timestamps exceed awk's exact doubles).
check_increasing() {
    awk 'NR > 1 && !(length($1) > length(prev) ||
                     (length($1) == length(prev) && ($1 "") > (prev ""))) {
             print "line " NR ": " $1 " <= " prev; bad = 1 }
         { prev = $1 } END { exit bad }' "$1"
}

tso_fresh() { pdctl tso >>"$T_TMP/ts_fresh" || echo FAIL >>"$T_TMP/ts_fresh"; }

t_case "three founders elect a leader; cluster data written"
for i in 1 2 3; do start $i --initial-members=$FOUNDERS; done
t_wait_output "pd1 pd2 pd3" 60 members >/dev/null || t_fail "members: $(members)"
[ -n "$(leader_name)" ] || t_fail "no leader"
t_expect_eq "bootstrap" "$(pdctl bootstrap 42 1 127.0.0.1:20160 2 3 2>&1)" ok
for k in $(seq 10 29); do
    pdctl store put $k 127.0.0.1:$((30000 + k)) >/dev/null || t_fail "put store $k"
done
# One client for the whole test, given only the founders' addresses.
: >"$T_TMP/ts_stream"
"$PDCTL" --pd=$ALL --timeout=30000 tso-stream 600 "$T_TMP/stop" \
    >"$T_TMP/ts_stream" 2>"$T_TMP/stream.err" &
STREAM=$!; T_PIDS+=("$STREAM")
: >"$T_TMP/ts_fresh"
tso_fresh

t_case "member add, then pdd --join: a learner that catches up and is promoted"
out=$(pdctl member add pd4 ${ADDR[4]} ${ADDR[4]} 2>&1)
t_expect_eq "add" "$out" "added member 4 name pd4"
t_expect_eq "listed as a learner" "$(members)" "pd1 pd2 pd3 pd4 learner"
out=$(pdctl member add pd4 127.0.0.1:1 127.0.0.1:1 2>&1)
case "$out" in *"a member of that name exists (id 4"*) ;;
    *) t_fail "second add under the same name: $out";; esac
start 4 --join=$ALL
t_wait_output "pd1 pd2 pd3 pd4" 60 members >/dev/null ||
    t_fail "pd4 not promoted: $(members)"
t_wait_for_grep "promoting member pd4 (id 4) to voter" "$T_TMP/pd$(leader_name | tr -dc 0-9).log" 5 ||
    grep -h "promoting member pd4" "$T_TMP"/pd[123].log >/dev/null || t_fail "no promotion logged"
out=$("$PDCTL" --pd=${ADDR[4]} --timeout=30000 store 29 2>&1)
case "$out" in "store 29 address 127.0.0.1:30029"*) ;;
    *) t_fail "store 29 via pd4: $out";; esac
tso_fresh

t_case "removing the leader: it hands over first, then leaves and stops"
L=$(leader_name); Li=${L#pd}
out=$(pdctl member remove $L 2>&1)
t_expect_eq "remove" "$out" ok
t_wait_exit "${PID[$Li]}" 60 || t_fail "$L still runs"
t_expect_eq "exit status" "$T_RC" 0
PID[$Li]=0
t_expect_grep "logged" "was removed from the group" "$T_TMP/$L.log"
L2=$(leader_name)
[ -n "$L2" ] && [ "$L2" != "$L" ] || t_fail "leader after the removal: '$L2'"
REST=$(for i in 1 2 3 4; do [ $i != $Li ] && printf 'pd%s ' $i; done)
REST=${REST% }
t_expect_eq "members" "$(members)" "$REST"
tso_fresh

t_case "pdd --join alone adds itself; two more members"
start 5 --join=$(live)
t_wait_output "$REST pd5" 60 members >/dev/null || t_fail "pd5: $(members)"
start 6 --join=$(live)
t_wait_output "$REST pd5 pd6" 60 members >/dev/null || t_fail "pd6: $(members)"
t_expect_grep "pd6 joined" "join: member pd6 is id 6 of 5" "$T_TMP/pd6.log"
tso_fresh

t_case "the remaining founders removed: the group has none left"
for i in 1 2 3; do
    [ "${PID[$i]}" = 0 ] && continue
    out=$(pdctl member remove pd$i 2>&1)
    t_expect_eq "remove pd$i" "$out" ok
    t_wait_exit "${PID[$i]}" 60 || t_fail "pd$i still runs"
    PID[$i]=0
    tso_fresh
done
t_expect_eq "members" "$(members)" "pd4 pd5 pd6"
out=$(pdctl member remove pd9 2>&1)
t_expect_eq "unknown member" "$out" \
    "pdctl: member remove: remove member: no member 'pd9' (-4008)"
out=$(pdctl member add "" ${ADDR[1]} ${ADDR[1]} 2>&1)
t_expect_eq "empty name" "$out" \
    "pdctl: member add: add member: name must be 1..63 bytes (-22)"

t_case "the long-lived client followed every change"
touch "$T_TMP/stop"
t_wait_exit "$STREAM" 60 || t_fail "tso-stream did not stop"
t_expect_eq "tso-stream exit" "$T_RC" 0
[ -s "$T_TMP/stream.err" ] && t_fail "tso-stream: $(cat "$T_TMP/stream.err")"
n=$(wc -l <"$T_TMP/ts_stream")
[ "$n" -gt 20 ] || t_fail "only $n timestamps from the stream"
check_increasing "$T_TMP/ts_stream" || t_fail "stream timestamps not strictly increasing"
grep -q FAIL "$T_TMP/ts_fresh" && t_fail "a fresh client's tso failed"
check_increasing "$T_TMP/ts_fresh" || t_fail "timestamps not strictly increasing across changes"

t_case "membership and data persist across kill -9 of every member"
last=$(pdctl tso)
for i in 4 5 6; do kill -9 "${PID[$i]}"; wait "${PID[$i]}" 2>/dev/null; done
start 4 --join=$ALL
start 5 --join=$ALL
start 6 --join=$ALL
t_wait_output "pd4 pd5 pd6" 60 members >/dev/null || t_fail "after restart: $(members)"
now=$(pdctl tso) || t_fail "no tso after restart"
printf '%s\n' "$last" "$now" >"$T_TMP/ts_restart"
check_increasing "$T_TMP/ts_restart" || t_fail "tso went back across the restart"
t_expect_eq "stores kept" "$(pdctl store | wc -l)" 21
t_expect_eq "cluster kept" "$(pdctl cluster)" "bootstrapped yes cluster 42
cluster version unknown
cluster libregion version unknown"

t_case "a removed member's data directory does not serve again"
"$BIN/pdd" --name=pd1 --listen=${ADDR[1]} --data-dir="$T_TMP/pd1" \
    --log.file="$T_TMP/pd1-again.log" --raft.tick=50ms \
    --initial-members=$FOUNDERS &
p=$!; T_PIDS+=("$p")
t_wait_exit "$p" 60 || t_fail "pd1 started again and kept running"
t_expect_grep "refusal logged" "was removed from the group" "$T_TMP/pd1-again.log"
t_expect_eq "members" "$(members)" "pd4 pd5 pd6"

for i in 4 5 6; do kill -TERM "${PID[$i]}" 2>/dev/null; done
for i in 4 5 6; do t_wait_exit "${PID[$i]}" 30 || t_fail "pd$i did not stop"; done

t_case "a member joining from the founders' snapshot while a later member leads"
# Default snapshot spacing: a joining member gets the bootstrap snapshot
# (index 1, the founder's table only) and the whole log from a leader the
# table does not name yet; it must take that leader's messages anyway.
G=("127.0.0.1:$((T_BASE + 7))" "127.0.0.1:$((T_BASE + 8))" "127.0.0.1:$((T_BASE + 9))")
gstart() { # gstart NAME ADDR [flags...]
    local nm=$1 ad=$2; shift 2
    "$BIN/pdd" --name=$nm --listen=$ad --data-dir="$T_TMP/$nm" \
        --log.file="$T_TMP/$nm.log" --raft.tick=50ms --schedule-interval=0 "$@" &
    T_PIDS+=($!)
    GP=$!
}
g() { "$PDCTL" --pd="$1" --timeout=30000 "${@:2}"; }
gstart a1 ${G[0]} --initial-members=a1=${G[0]}; A1=$GP
t_wait_output "ok" 60 g ${G[0]} bootstrap 7 1 127.0.0.1:20160 2 3 >/dev/null ||
    t_fail "bootstrap of the second group"
gstart b2 ${G[1]} --join=${G[0]}; B2=$GP
gm() { g "$1" member 2>/dev/null | sed -n 's/^member [0-9]* name \([^ ]*\) address [^ ]*\( learner\)\{0,1\}.*/\1\2/p' | sort | paste -sd' '; }
t_wait_output "a1 b2" 60 gm ${G[0]} >/dev/null || t_fail "b2: $(gm ${G[0]})"
t_expect_eq "transfer" "$(g ${G[0]} member transfer b2 2>&1)" ok
t_wait_output "ok" 60 g ${G[1]} member remove a1 >/dev/null || t_fail "remove a1"
t_wait_exit $A1 60 || t_fail "a1 still runs"
gstart c3 ${G[2]} --join=${G[1]}; C3=$GP
t_wait_output "b2 c3" 60 gm ${G[1]} >/dev/null || t_fail "c3: $(gm ${G[1]})"
t_expect_grep "c3 restored the bootstrap snapshot" "restored a snapshot at index 1" "$T_TMP/c3.log"
t_expect_grep "c3 caught up" "member table caught up" "$T_TMP/c3.log"
t_expect_eq "cluster via c3" "$(g ${G[2]} cluster 2>&1)" "bootstrapped yes cluster 7
cluster version unknown
cluster libregion version unknown"

t_case "one change at a time: a learner that never starts blocks the next add until removed"
t_expect_eq "add z9" "$(g ${G[1]} member add z9 127.0.0.1:1 127.0.0.1:1 2>&1)" "added member 4 name z9"
t_expect_eq "z9 is a learner" "$(gm ${G[1]})" "b2 c3 z9 learner"
out=$("$PDCTL" --pd=${G[1]} --timeout=1500 member add y8 127.0.0.1:2 127.0.0.1:2 2>&1)
case "$out" in "pdctl: member add: gave up after retries: add member y8: another member is still catching up (a learner); retry once it is a voter (-40"*) ;;
    *) t_fail "second add while z9 catches up: $out";; esac
t_expect_eq "remove z9" "$(g ${G[1]} member remove z9 2>&1)" ok
t_expect_eq "members" "$(gm ${G[1]})" "b2 c3"
t_expect_eq "tso still served" "$(g ${G[2]} tso >/dev/null 2>&1; echo $?)" 0
kill -TERM $B2 $C3
t_wait_exit $B2 30 || t_fail "b2 did not stop"
t_wait_exit $C3 30 || t_fail "c3 did not stop"
t_end

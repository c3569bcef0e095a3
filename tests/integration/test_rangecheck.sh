#!/usr/bin/env bash
# test_rangecheck.sh: kvd refuses a range request outside its region with
# KeyNotInRegion naming the region as it is, never clips it (libregion
# DESIGN.md "Range checks"): Raw and Txn Scan past the end of a region that
# split, with the current epoch, and one starting before a region's start;
# kvctl's scan and delete-range, which cut each request at the end of the
# region it goes to, still see every key across the split. Then Txn
# reads and resolved_locks: a writer left locked (kvctl txn-prewrite)
# blocks KvGet of its secondary unless the request names its start_ts.
# One kvd on ports in 19000-19999.
. "$(dirname "$0")/lib.sh"

t_pick_base 19000 19980
BASE=$T_BASE
PEERS="1@127.0.0.1:$((BASE + 1))"
CTL=("$BIN/kvd" ctl "--peers=$PEERS" --timeout=30)

"$BIN/kvd" --data-dir="$T_TMP/kvd1" --store-id=1 \
    --listen="127.0.0.1:$((BASE + 1))" --peers="$PEERS" \
    --raft.tick-interval=50ms --log.file="$T_TMP/kvd1.log" &
T_PIDS+=("$!")

t_case "keys on both sides of a split"
for kv in apple=1 kiwi=2 nut=3 yak=4 zebra=5; do
    t_expect_eq "put ${kv%=*}" "$("${CTL[@]}" put "${kv%=*}" "${kv#*=}" 2>&1)" "ok"
done
t_expect_eq "txn-put b" "$("${CTL[@]}" txn-put bee 6 2>&1 | cut -c1-12)" "committed at"
t_expect_eq "txn-put x" "$("${CTL[@]}" txn-put xray 7 2>&1 | cut -c1-12)" "committed at"
t_expect_eq "split" "$("${CTL[@]}" split m 2>&1)" "ok"
t_wait_output "kiwi=2 " 30 bash -c '"$@" region-scan raw k m 2>&1 | tr "\n" " "' _ "${CTL[@]}" >/dev/null ||
    t_fail "region 1 never served [k, m)"

t_case "a Raw Scan past the region's end is refused, not clipped"
out=$("${CTL[@]}" region-scan raw a z 2>&1); rc=$?
t_expect_eq "past the end" "$out" "refused: key not in region (-3005); region 1 [, m) epoch (1, 2)"
t_expect_eq "exit" "$rc" 1
out=$("${CTL[@]}" region-scan raw kiwi "" 2>&1)
t_expect_eq "unbounded end" "$out" "refused: key not in region (-3005); region 1 [, m) epoch (1, 2)"
out=$("${CTL[@]}" region-scan raw a "m\\" 2>&1)
t_expect_eq "one byte past" "$out" "refused: key not in region (-3005); region 1 [, m) epoch (1, 2)"

t_case "a range up to the region's bounds is served"
t_expect_eq "to the end" "$("${CTL[@]}" region-scan raw "" m 2>&1 | tr '\n' ' ')" "apple=1 kiwi=2 "
t_expect_eq "from the start" "$("${CTL[@]}" region-scan raw m "" 2>&1 | tr '\n' ' ')" "nut=3 yak=4 zebra=5 "

t_case "a range starting before the region's start is refused"
# the right half's id, from kvd's status
rid=$("$BIN/kvd" ctl "--addr=127.0.0.1:$((BASE + 1))" status 2>/dev/null |
    grep -o '"id":[0-9]*' | sed 's/"id"://' | grep -v '^1$' | head -1)
[ -n "$rid" ] || t_fail "no id for the right half in kvd's status"
out=$("$BIN/kvd" ctl "--peers=$PEERS" --region="$rid" --timeout=10 region-scan raw a p 2>&1)
t_expect_eq "before the start" "$out" "refused: key not in region (-3005); region $rid [m, ) epoch (1, 2)"

t_case "a Txn Scan past the region's end is refused, not clipped"
out=$("${CTL[@]}" region-scan txn a z 2>&1)
t_expect_eq "past the end" "$out" "refused: key not in region (-3005); region 1 [, m) epoch (1, 2)"
out=$("${CTL[@]}" region-scan txn a "" 2>&1)
t_expect_eq "unbounded end" "$out" "refused: key not in region (-3005); region 1 [, m) epoch (1, 2)"
t_expect_eq "inside" "$("${CTL[@]}" region-scan txn a m 2>&1 | tr '\n' ' ')" "bee=6 "
t_expect_eq "last region" "$("${CTL[@]}" region-scan txn m "" 2>&1 | tr '\n' ' ')" "xray=7 "

t_case "kvctl scan and delete-range cut their requests per region"
t_expect_eq "scan all" "$("${CTL[@]}" scan "" "" 2>&1 | tr '\n' ' ')" "apple=1 kiwi=2 nut=3 yak=4 zebra=5 "
t_expect_eq "scan across" "$("${CTL[@]}" scan b z 2>&1 | tr '\n' ' ')" "kiwi=2 nut=3 yak=4 "
t_expect_eq "scan limit" "$("${CTL[@]}" scan b "" 3 2>&1 | tr '\n' ' ')" "kiwi=2 nut=3 yak=4 "
t_expect_eq "delete-range" "$("${CTL[@]}" delete-range b z 2>&1)" "ok"
t_expect_eq "scan after" "$("${CTL[@]}" scan "" "" 2>&1 | tr '\n' ' ')" "apple=1 zebra=5 "
out=$("$BIN/kvd" ctl "--peers=$PEERS" --region=1 --timeout=5 scan a z 2>&1); rc=$?
t_expect_eq "fixed region past its end" "$rc" 1
case "$out" in *"ends past the end of region 1"*) ;; *) t_fail "fixed region scan said: $out" ;; esac

# Txn reads skip the locks of the transactions a request names in
# resolved_locks (libregion DESIGN.md "Cluster transport"), and only those.
t_case "a writer's secondary lock blocks a read at a later ts"
t_expect_eq "txn-put" "$("${CTL[@]}" txn-put sec old 2>&1 | cut -c1-12)" "committed at"
out=$("${CTL[@]}" txn-prewrite pri sec new 600000 2>&1)
ts=${out#prewritten at }
case "$ts" in ''|*[!0-9]*) t_fail "txn-prewrite said: $out"; ts=0 ;; esac
out=$("${CTL[@]}" txn-get sec 2>&1); rc=$?
t_expect_eq "refused" "$rc" 1
case "$out" in *"locked"*) ;; *) t_fail "txn-get of a locked key said: $out" ;; esac

t_case "resolved_locks naming the writer skips its lock"
t_expect_eq "skipped" "$("${CTL[@]}" txn-get sec "$ts" 2>&1)" "old"
out=$("${CTL[@]}" txn-get sec "$((ts + 1))" 2>&1); rc=$?
t_expect_eq "another ts: refused" "$rc" 1
case "$out" in *"locked"*) ;; *) t_fail "txn-get naming another ts said: $out" ;; esac
t_expect_eq "primary too" "$("${CTL[@]}" txn-get pri "$ts" 2>&1)" "not found"
t_end

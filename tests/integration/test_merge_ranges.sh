#!/usr/bin/env bash
# test_merge_ranges.sh: what pdd's merge checker and raw range deletes rely
# on (libregion DESIGN.md "Region size", "Range checks"), with one pdd and
# one kvd on ports in 30000-30980: kvd's region heartbeats count
# transactional data (SQL rows) with the raw keys, each region its own
# range; a Raw DeleteRange with an empty end ("to the end of the
# keyspace") is cut per region by kvctl, and a region with an end refuses
# it rather than delete to its own end and answer ok; a split pdd orders
# finds the middle of a region's transactional keys.
. "$(dirname "$0")/lib.sh"

t_pick_base 30000 30980
BASE=$T_BASE
PEERS="1@127.0.0.1:$((BASE + 1))"
PDS="127.0.0.1:$((BASE + 11))"
CTL=("$BIN/kvd" ctl "--peers=$PEERS" --timeout=30)
PDCTL=("$BIN/pdctl" "--pd=$PDS" --timeout=20000)

"$BIN/pdd" --name=pd1 --listen="$PDS" --initial-members="pd1=$PDS" \
    --data-dir="$T_TMP/pd1" --log.file="$T_TMP/pd1.log" --raft.tick=50ms \
    --schedule-interval=0 &
T_PIDS+=("$!")
"$BIN/kvd" --data-dir="$T_TMP/kvd1" --store-id=1 \
    --listen="127.0.0.1:$((BASE + 1))" --peers="$PEERS" --initial-stores=1 \
    --raft.tick-interval=50ms --pd="$PDS" --pd.heartbeat-interval=200ms \
    --log.file="$T_TMP/kvd1.log" &
T_PIDS+=("$!")

# "size S keys K" of region id as pdd last heard it
size_of() {
    "${PDCTL[@]}" region 2>/dev/null |
        sed -n "s/^region $1 .* size \\([0-9]*\\) keys \\([0-9]*\\).*/\\1 \\2/p"
}
keys_of() { size_of "$1" | cut -d' ' -f2; }

t_case "transactional keys count in the region's size"
for i in $(seq -w 1 20); do
    out=$("${CTL[@]}" txn-put "row$i" "value-of-row-$i" 2>&1)
    case "$out" in "committed at"*) ;; *) t_fail "txn-put row$i: $out" ;; esac
done
# a second version of 5 keys: still 20 keys
for i in 01 02 03 04 05; do
    out=$("${CTL[@]}" txn-put "row$i" "again" 2>&1)
    case "$out" in "committed at"*) ;; *) t_fail "txn-put row$i again: $out" ;; esac
done
for kv in apple=1 kiwi=2 zebra=3; do
    t_expect_eq "put ${kv%=*}" "$("${CTL[@]}" put "${kv%=*}" "${kv#*=}" 2>&1)" "ok"
done
got=$(t_wait_output 23 30 keys_of 1) || t_fail "region 1 keys: '$got'"
sz=$(size_of 1 | cut -d' ' -f1)
# 25 write records and 20 values in them at least, 3 raw keys
[ "${sz:-0}" -gt 500 ] || t_fail "region 1 size '$sz'"

t_case "after a split each region counts its own keys"
t_expect_eq "split" "$("${CTL[@]}" split m 2>&1)" "ok"
rid=$("$BIN/kvd" ctl "--addr=127.0.0.1:$((BASE + 1))" status 2>/dev/null |
    grep -o '"id":[0-9]*' | sed 's/"id"://' | grep -v '^1$' | head -1)
[ -n "$rid" ] || t_fail "no id for the right half in kvd's status"
# [, m): apple kiwi; [m, ): row01..row20 zebra
got=$(t_wait_output 2 30 keys_of 1) || t_fail "region 1 keys: '$got'"
got=$(t_wait_output 21 30 keys_of "$rid") || t_fail "region $rid keys: '$got'"

t_case "a Raw DeleteRange to the keyspace's end is refused by a bounded region"
out=$("$BIN/kvd" ctl "--peers=$PEERS" --region=1 --timeout=5 delete-range b "" 2>&1); rc=$?
t_expect_eq "refused" "$rc" 1
case "$out" in *"is unbounded past the end of region 1"*) ;; *) t_fail "said: $out" ;; esac
t_expect_eq "nothing deleted" "$("${CTL[@]}" scan "" "" 2>&1 | tr '\n' ' ')" "apple=1 kiwi=2 zebra=3 "

t_case "kvctl delete-range to the end cuts per region and deletes across"
t_expect_eq "delete-range" "$("${CTL[@]}" delete-range b "" 2>&1)" "ok"
t_expect_eq "scan after" "$("${CTL[@]}" scan "" "" 2>&1 | tr '\n' ' ')" "apple=1 "
t_expect_eq "put" "$("${CTL[@]}" put zz 9 2>&1)" "ok"
out=$("$BIN/kvd" ctl "--peers=$PEERS" --region="$rid" --timeout=5 delete-range n "" 2>&1)
t_expect_eq "the last region takes an empty end" "$out" "ok"
t_expect_eq "scan at the end" "$("${CTL[@]}" scan "" "" 2>&1 | tr '\n' ' ')" "apple=1 "

t_case "a split pdd orders cuts a region holding only transactional keys"
# region $rid now holds row01..row20 (transactional) and no raw key: the
# middle comes from the write records, as an automatic split takes it
n_regions() { "${PDCTL[@]}" region 2>/dev/null | grep -c '^region '; }
t_expect_eq "two regions before" "$(n_regions)" 2
out=$("${PDCTL[@]}" operator add split "$rid" 2>&1) || t_fail "operator add split: $out"
got=$(t_wait_output 3 30 n_regions) || t_fail "regions after the split: '$got'"
# the halves hold the 20 keys between them (the cut is by bytes: the 5
# keys written twice weigh double), neither empty
halves() {
    local l r
    l=$(keys_of "$rid")
    r=$("${PDCTL[@]}" region 2>/dev/null | grep '^region ' |
        grep -v "^region 1 \|^region $rid " |
        sed -n 's/.* keys \([0-9]*\).*/\1/p')
    [ "${l:-0}" -gt 0 ] && [ "${r:-0}" -gt 0 ] && echo $((l + r))
}
got=$(t_wait_output 20 30 halves) || t_fail "keys of the halves: '$got'"
t_expect_eq "kvd logged the split" \
    "$(grep -c "pd: splitting region $rid into" "$T_TMP/kvd1.log")" 1
t_expect_eq "no 'no middle key'" "$(grep -c 'no middle key' "$T_TMP/kvd1.log")" 0
t_end

#!/usr/bin/env bash
# test_kvd_split.sh: region splits on three real kvd (ports in 21401-21684):
# a split on request, then automatic splits past a small
# split.region-size under a write workload, with kvd ctl routing every key
# through its region cache (Locate, NotLeader, EpochNotMatch), a kill -9
# of one store in the middle, and every acknowledged write read back.
. "$(dirname "$0")/lib.sh"

t_kvd_ports 21400 21680

start_kvd() { t_kvd_start "$1" --split.region-size=8KiB --raft.log-keep-entries=64 --raft.max-entry-size=4KiB; }

regions_of() { status_of "$1" regions; }
# status_of STORE FIELD: a number from kvd's status
status_of() {
    "$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$1")" status 2>/dev/null |
        sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

t_case "split on request"
for i in 1 2 3; do start_kvd "$i"; done
t_expect_eq "put a" "$("${CTL[@]}" put apple 1 2>&1)" "ok"
t_expect_eq "put z" "$("${CTL[@]}" put zebra 2 2>&1)" "ok"
t_expect_eq "split" "$("${CTL[@]}" split m 2>&1)" "ok"
ok=0
for _ in $(seq 1 100); do
    [ "$(regions_of 1)$(regions_of 2)$(regions_of 3)" = "222" ] && { ok=1; break; }
    sleep 0.1
done
[ $ok = 1 ] || t_fail "regions per store: $(regions_of 1) $(regions_of 2) $(regions_of 3)"
# the new region is led at once from the store that led the old one
# (libregion DESIGN "Split"), not wherever an election timer fired
lead=""; camp=""
for i in 1 2 3; do
    lead="$lead$(status_of "$i" leaders)"
    camp="$camp$(status_of "$i" split_campaigns)"
done
case "$lead/$camp" in
    200/100|020/010|002/001) ;;
    *) t_fail "leaders per store $lead, split campaigns $camp: want both leaders where the one campaign was" ;;
esac
t_expect_eq "get a" "$("${CTL[@]}" get apple 2>&1)" "1"
t_expect_eq "get z" "$("${CTL[@]}" get zebra 2>&1)" "2"
t_expect_eq "put n" "$("${CTL[@]}" put nut 3 2>&1)" "ok"
t_expect_eq "scan across" "$("${CTL[@]}" scan "" "" 2>&1 | tr '\n' ' ')" "apple=1 nut=3 zebra=2 "
t_expect_eq "txn across" "$("${CTL[@]}" txn-put yak 9 >/dev/null 2>&1; "${CTL[@]}" txn-get yak 2>&1)" "9"

t_case "automatic splits under load, a store killed, nothing lost"
"${CTL[@]}" --quiet put-seq s 0 300 2>"$T_TMP/seq1.err"; rc=$?
t_expect_eq "first half" "$rc" 0
kill -9 "${PID[2]}"
"${CTL[@]}" put-seq s 300 600 >"$T_TMP/acked" 2>"$T_TMP/seq2.err"; rc=$?
t_expect_eq "second half" "$rc" 0
t_expect_eq "acked" "$(wc -l <"$T_TMP/acked")" 300
n=$(regions_of 1)
[ "${n:-0}" -ge 3 ] || t_fail "store 1 has ${n:-?} regions, expected splits"
# the leaders measured regions on their split checker threads to get there
checks=$(($(status_of 1 split_checks) + $(status_of 3 split_checks)))
[ "$checks" -ge 1 ] || t_fail "split checks on stores 1 and 3: $checks"
[ -n "$(status_of 1 split_check_ms)" ] || t_fail "kvd status has no split_check_ms"
t_expect_eq "read back" "$("${CTL[@]}" check-seq s 0 600 2>&1 | tail -1)" "checked 600, missing 0"

t_case "the killed store comes back and serves its share"
start_kvd 2
ok=0
for _ in $(seq 1 150); do
    out=$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port 2)" --local --timeout=5 check-seq s 0 600 2>&1 | tail -1)
    [ "$out" = "checked 600, missing 0" ] && { ok=1; break; }
    sleep 0.2
done
[ $ok = 1 ] || t_fail "store 2 after restart: $out"
t_expect_eq "read back again" "$("${CTL[@]}" check-seq s 0 600 2>&1 | tail -1)" "checked 600, missing 0"

t_case "bad input: clear errors, nothing lost"
big=$(head -c 6000 /dev/zero | tr '\0' 'x')
out=$("${CTL[@]}" put bigkey "$big" 2>&1); rc=$?
[ $rc -ne 0 ] || t_fail "oversized put succeeded"
case "$out" in *"exceeds"*) ;; *) t_fail "oversized put said: $out";; esac
out=$("$BIN/kvd" ctl "--peers=$PEERS" --region=1 --timeout=10 put zzz v 2>&1); rc=$?
[ $rc -ne 0 ] || t_fail "put outside region 1 succeeded"
case "$out" in *"not in region 1"*) ;; *) t_fail "outside put said: $out";; esac
out=$("$BIN/kvd" ctl "--peers=$PEERS" --region=999 --timeout=2 get a 2>&1); rc=$?
[ $rc -ne 0 ] || t_fail "unknown region answered"
t_expect_eq "still there" "$("${CTL[@]}" check-seq s 0 600 2>&1 | tail -1)" "checked 600, missing 0"
t_expect_eq "big key absent" "$("${CTL[@]}" get bigkey 2>&1)" "not found"
t_end

#!/usr/bin/env bash
# test_kvd_ttl.sh: raw keys with a time to live on three real kvd (ports in
# 13000-13480): kvctl put --ttl, the remaining TTL, reads and scans that
# skip an expired key, its removal on every store (deleted through the
# log once a read saw it expired), a put without TTL clearing one, a CAS
# finding an expired key absent (and refusing a TTL without pdd to say
# every store runs libregion 0.33.0; test_store_version.sh has the CAS
# with a TTL itself), a batch put with a
# TTL per pair, and TTL records surviving a restart. libregion/DESIGN.md, "Raw TTL".
. "$(dirname "$0")/lib.sh"

t_kvd_ports 13000 13480

start_kvd() { t_kvd_start "$1"; }

# A counter from store $1's status JSON.
stat_of() {
    "$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$1")" status 2>/dev/null |
        sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

# Store $1's own applied value of key $2 (no barrier, leader or not).
local_get() {
    "$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$1")" --local --timeout=5 get "$2" 2>&1
}

t_case "a put with a TTL reads back and reports its TTL"
for i in 1 2 3; do start_kvd "$i"; done
t_expect_eq "put --ttl" "$("${CTL[@]}" --ttl=2 put short one 2>&1)" "ok"
t_expect_eq "put --ttl long" "$("${CTL[@]}" --ttl=3600 put long two 2>&1)" "ok"
t_expect_eq "put plain" "$("${CTL[@]}" put plain three 2>&1)" "ok"
t_expect_eq "get short" "$("${CTL[@]}" get short 2>&1)" "one"
ttl=$("${CTL[@]}" ttl long 2>&1)
case "$ttl" in 3600|3599) ;; *) t_fail "ttl long: $ttl";; esac
t_expect_eq "ttl plain" "$("${CTL[@]}" ttl plain 2>&1)" "no ttl"
t_expect_eq "ttl missing" "$("${CTL[@]}" ttl nobody 2>&1)" "not found"
t_expect_eq "bad --ttl" "$("${CTL[@]}" --ttl=x put a b 2>&1)" "bad --ttl: x"

t_case "an expired key is gone from get, scan and ttl"
t_wait_output "not found" 30 "${CTL[@]}" get short >/dev/null ||
    t_fail "short never expired"
t_expect_eq "scan" "$("${CTL[@]}" scan "" "" 2>&1 | tr '\n' ' ')" "long=two plain=three "
t_expect_eq "ttl expired" "$("${CTL[@]}" ttl short 2>&1)" "not found"

t_case "the expired key is deleted on every store"
# the leader's read queued it; its next tick proposes the deletion
for i in 1 2 3; do
    t_wait_output 1 30 stat_of "$i" ttl_removed >/dev/null ||
        t_fail "store $i removed $(stat_of "$i" ttl_removed)"
    t_expect_eq "store $i long" "$(local_get "$i" long)" "two"
done

t_case "a put without TTL clears it; a batch of TTL puts expires"
"${CTL[@]}" --ttl=1 put again x >/dev/null
t_expect_eq "re-put" "$("${CTL[@]}" put again y 2>&1)" "ok"
t_expect_eq "ttl cleared" "$("${CTL[@]}" ttl again 2>&1)" "no ttl"
out=$("${CTL[@]}" --ttl=1 put-seq e 0 20 2>&1 | grep -c '^acked')
t_expect_eq "put-seq" "$out" "20"
t_wait_output "" 30 "${CTL[@]}" scan e f >/dev/null ||
    t_fail "seq keys still there: $("${CTL[@]}" scan e f 2>&1 | head -3)"
t_expect_eq "again stays" "$("${CTL[@]}" get again 2>&1)" "y"

t_case "a CAS finds an expired key absent, and takes no TTL without pdd"
# nothing reads it before the CAS: the CAS itself finds it expired
t_expect_eq "put lock" "$("${CTL[@]}" --ttl=1 put lock owner1 2>&1)" "ok"
sleep 2
t_expect_eq "cas after expiry" "$("${CTL[@]}" cas lock - owner2 2>&1)" \
    "swapped previous=(none)"
t_expect_eq "get lock" "$("${CTL[@]}" get lock 2>&1)" "owner2"
t_expect_eq "ttl lock" "$("${CTL[@]}" ttl lock 2>&1)" "no ttl"
out=$("${CTL[@]}" --ttl=5 cas lock owner2 owner3 2>&1)
case "$out" in
*"CAS with a ttl needs pdd (--pd) to know that every store runs libregion 0.33.0 or later: swap without a ttl, or Put with one"*) ;;
*) t_fail "cas --ttl: $out" ;;
esac
t_expect_eq "lock unchanged" "$("${CTL[@]}" get lock 2>&1)" "owner2"

t_case "a batch put gives each pair its own TTL"
t_expect_eq "batch-put --ttls" \
    "$("${CTL[@]}" --ttls=1,0,3600 batch-put ba x bb y bc z 2>&1)" "ok"
t_expect_eq "ttl bb" "$("${CTL[@]}" ttl bb 2>&1)" "no ttl"
ttl=$("${CTL[@]}" ttl bc 2>&1)
case "$ttl" in 3600|3599) ;; *) t_fail "ttl bc: $ttl";; esac
t_wait_output "not found" 30 "${CTL[@]}" get ba >/dev/null ||
    t_fail "ba never expired: $("${CTL[@]}" get ba 2>&1)"
t_expect_eq "bb stays" "$("${CTL[@]}" get bb 2>&1)" "y"
t_expect_eq "too few ttls" \
    "$("${CTL[@]}" --ttls=1,2 batch-put bd x be y bf z 2>&1)" \
    "error: ttls: one per pair of a RawBatchPut (got 2 for 3 pairs)"
t_expect_eq "ttl and ttls" "$("${CTL[@]}" --ttl=5 --ttls=1 batch-put bg x 2>&1)" \
    "error: ttl and ttls together: give one TTL for every pair, or one per pair"
t_expect_eq "refused batch wrote nothing" "$("${CTL[@]}" get bd 2>&1)" "not found"
t_expect_eq "bad --ttls" "$("${CTL[@]}" --ttls=1,x batch-put bh x 2>&1)" "bad --ttls: 1,x"

t_case "TTL records survive a restart"
for i in 1 2 3; do kill -TERM "${PID[$i]}"; done
for i in 1 2 3; do t_wait_exit "${PID[$i]}" 20 || t_fail "store $i still running"; done
for i in 1 2 3; do start_kvd "$i"; done
ttl=$("${CTL[@]}" ttl long 2>&1)
case "$ttl" in 35[0-9][0-9]|3600) ;; *) t_fail "ttl long after restart: $ttl";; esac
t_expect_eq "ttl plain after restart" "$("${CTL[@]}" ttl plain 2>&1)" "no ttl"
t_end

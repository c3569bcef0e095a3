#!/usr/bin/env bash
# test_kvd_getbatch.sh: three kvd on loopback (ports in 19000-19980); many
# kv.RawGet frames written in one send reach the leader in one read and
# are answered as one batch (libregion/DESIGN.md "Gets of one read under
# one check"): every get gets its own answer, values and absent keys beside
# a stale epoch, an unknown region and a get of another shape; the same
# gets sent to a follower are each answered NotLeader naming the leader
# (held gets without a lease take the read barrier). getbatch.py writes the
# frames by hand and reads the replies.
. "$(dirname "$0")/lib.sh"

t_kvd_ports 19000 19980

t_case "three stores serve a and b"
for i in 1 2 3; do t_kvd_start "$i"; done
t_expect_eq "put a" "$("${CTL[@]}" put a va 2>&1)" "ok"
t_expect_eq "put b" "$("${CTL[@]}" put b vb 2>&1)" "ok"
l=0
for _ in $(seq 1 200); do
    l=$(t_kvd_leader_seen_by 1)
    [ -n "$l" ] && [ "$l" != 0 ] && [ "$(t_kvd_leader_seen_by "$l")" = "$l" ] && break
    sleep 0.1
done
[ -n "$l" ] && [ "$l" != 0 ] || t_fail "no leader"
f=$(( l % 3 + 1 ))
# the follower must know the leader before it is asked
for _ in $(seq 1 200); do
    [ "$(t_kvd_leader_seen_by "$f")" = "$l" ] && break
    sleep 0.1
done
t_expect_eq "follower knows the leader" "$(t_kvd_leader_seen_by "$f")" "$l"

python3 "$(dirname "$0")/getbatch.py" "$(port "$l")" "$l" "$(port "$f")" \
    >"$T_TMP/getbatch.out" 2>&1 || t_fail "getbatch.py: $(tail -3 "$T_TMP/getbatch.out")"
t_cases_from "$T_TMP/getbatch.out"
t_expect_eq "cases" "$(grep -c '^CASE' "$T_TMP/getbatch.out")" 2

t_case "the leader still serves after the batches"
t_expect_eq "get a" "$("${CTL[@]}" get a 2>&1)" "va"
t_end

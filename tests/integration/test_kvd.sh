#!/usr/bin/env bash
# test_kvd.sh: three real kvd processes on loopback (ports in 21101-21384)
# over a fixed cluster map: raw and txn operations through the leader,
# kill -9 of the leader in the middle of a write workload, writes go on
# under a new leader, every acknowledged write reads back, and the killed
# store restarts with every acknowledged write in its own engine.
. "$(dirname "$0")/lib.sh"

t_kvd_ports 21100 21380

start_kvd() { t_kvd_start "$1"; }

# The leader store 1 knows of (20 s).
known_leader() { t_kvd_leader_wait 1; }

t_case "three stores elect a leader and serve raw operations"
for i in 1 2 3; do start_kvd "$i"; done
out=$("${CTL[@]}" put greeting hello 2>&1)
t_expect_eq "put" "$out" "ok"
t_expect_eq "get" "$("${CTL[@]}" get greeting 2>&1)" "hello"
t_expect_eq "get missing" "$("${CTL[@]}" get nothing 2>&1)" "not found"
t_expect_eq "cas wrong" "$("${CTL[@]}" cas greeting nope bye 2>&1)" "unchanged previous=hello"
t_expect_eq "cas right" "$("${CTL[@]}" cas greeting hello bye 2>&1)" "swapped previous=hello"
t_expect_eq "cas absent" "$("${CTL[@]}" cas fresh - new 2>&1)" "swapped previous=(none)"
"${CTL[@]}" put s1 a >/dev/null; "${CTL[@]}" put s2 b >/dev/null; "${CTL[@]}" put s3 c >/dev/null
t_expect_eq "scan" "$("${CTL[@]}" scan s1 s3 2>&1 | tr '\n' ' ')" "s1=a s2=b "
t_expect_eq "delete-range" "$("${CTL[@]}" delete-range s1 s3 2>&1)" "ok"
t_expect_eq "scan after" "$("${CTL[@]}" scan s "" 2>&1 | tr '\n' ' ')" "s3=c "
t_expect_eq "delete" "$("${CTL[@]}" delete greeting 2>&1)" "ok"
t_expect_eq "get deleted" "$("${CTL[@]}" get greeting 2>&1)" "not found"
# a leader under its lease answers gets of the usual shape from the
# request's bytes with replies it encodes itself (values up to 1,024
# bytes, the empty one, absent keys) and through nanopb above that: the
# client reads the same either way
v1024=$(head -c 1024 /dev/zero | tr '\0' 'm')
v1025=$(head -c 1025 /dev/zero | tr '\0' 'n')
v3000=$(head -c 3000 /dev/zero | tr '\0' 'x')
for v in v1024 v1025 v3000; do
    t_expect_eq "put $v" "$("${CTL[@]}" put "$v" "${!v}" 2>&1)" "ok"
    t_expect_eq "get $v" "$("${CTL[@]}" get "$v" 2>&1)" "${!v}"
done
t_expect_eq "put empty" "$("${CTL[@]}" put empty "" 2>&1)" "ok"
t_expect_eq "get empty" "$("${CTL[@]}" get empty 2>&1 | od -An -c | tr -d ' ')" '\n'
# a request of another shape (local set) is decoded by nanopb as before
l=$(known_leader)
t_expect_eq "local get" "$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$l")" \
    --local get v1024 2>&1)" "$v1024"

t_case "scan reads a region in pages (a reply holds at most 65,535 pairs)"
# 20,001 keys (three writers): kvctl asks 10,000 at a time, so a region
# holding them all is read in three Scans
for r in "0 7000" "7000 14000" "14000 20001"; do
    # shellcheck disable=SC2086 # two numbers
    "${CTL[@]}" --quiet put-seq pg $r >/dev/null 2>&1 &
    T_PIDS+=("$!")
done
for p in "${T_PIDS[@]: -3}"; do wait "$p" || t_fail "put-seq $p"; done
"${CTL[@]}" scan pg ph >"$T_TMP/pages" 2>&1 || t_fail "scan: $(tail -1 "$T_TMP/pages")"
t_expect_eq "keys" "$(grep -c '^pg' "$T_TMP/pages")" 20001
t_expect_eq "distinct keys" "$(sort -u "$T_TMP/pages" | grep -c '^pg')" 20001
t_expect_eq "first" "$(head -1 "$T_TMP/pages")" "pg00000000=value-0"
t_expect_eq "last" "$(tail -1 "$T_TMP/pages")" "pg00020000=value-20000"
t_expect_eq "limit across pages" "$("${CTL[@]}" scan pg ph 15000 | wc -l)" 15000
t_expect_eq "limit's last" "$("${CTL[@]}" scan pg ph 15000 | tail -1)" "pg00014999=value-14999"
t_expect_eq "exactly a page" "$("${CTL[@]}" scan pg pg00010000 | wc -l)" 10000
t_expect_eq "delete-range" "$("${CTL[@]}" delete-range pg ph 2>&1)" "ok"
t_expect_eq "scan after" "$("${CTL[@]}" scan pg ph | wc -l)" 0

t_case "txn put and get (prewrite, commit, snapshot read)"
out=$("${CTL[@]}" txn-put account 100 2>&1)
case "$out" in "committed at "*) ;; *) t_fail "txn-put: $out";; esac
t_expect_eq "txn-get" "$("${CTL[@]}" txn-get account 2>&1)" "100"
t_expect_eq "txn-get missing" "$("${CTL[@]}" txn-get nobody 2>&1)" "not found"
t_expect_eq "pessimistic lock" "$("${CTL[@]}" txn-lock account 2>&1 | tr '\n' ' ')" "lock: ok second lock: locked rollback: ok "

t_case "a follower names the leader"
ok=0
for _ in 1 2 3 4 5; do # a leader change in between just means: ask again
    l=$(known_leader)
    f=$(( l % 3 + 1 ))
    out=$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$f")" --timeout=1 get x 2>&1)
    case "$out" in *"not leader"*"leader $l"*) ok=1; break;; esac
done
[ $ok = 1 ] || t_fail "follower said: $out"
# a put of the usual shape is read from its bytes (kvd's raw_put_peek):
# refused by a follower, it is answered through nanopb naming the leader,
# and the key is not written
ok=0
for _ in 1 2 3 4 5; do
    l=$(known_leader)
    f=$(( l % 3 + 1 ))
    out=$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$f")" --timeout=1 \
        put refused v 2>&1)
    case "$out" in *"not leader"*"leader $l"*) ok=1; break;; esac
done
[ $ok = 1 ] || t_fail "follower said to a put: $out"
t_expect_eq "refused put not written" "$("${CTL[@]}" get refused 2>&1)" \
    "not found"

t_case "kill -9 of the leader mid-workload loses no acknowledged write"
l=$(known_leader)
[ "$l" != 0 ] || t_fail "no leader"
"${CTL[@]}" put-seq w 0 600 >"$T_TMP/acked" 2>"$T_TMP/seq.err" &
seq_pid=$!
T_PIDS+=("$seq_pid")
deadline=$((SECONDS + 60))
while [ "$(wc -l <"$T_TMP/acked")" -lt 150 ] && [ $SECONDS -lt $deadline ]; do
    sleep 0.05
done
[ "$l" != 0 ] && kill -9 "${PID[$l]}"
t_wait_exit "$seq_pid" 120 || t_fail "workload still running"
t_expect_eq "workload exit" "$T_RC" 0
acked=$(wc -l <"$T_TMP/acked")
t_expect_eq "every key acked" "$acked" 600
newl=0
for _ in $(seq 1 100); do
    for i in 1 2 3; do
        [ "$i" = "$l" ] && continue
        s=$(t_kvd_leader_seen_by "$i"); [ -n "$s" ] && [ "$s" != 0 ] && newl=$s
    done
    [ "$newl" != 0 ] && break
    sleep 0.1
done
[ "$newl" != "$l" ] && [ "$newl" != 0 ] || t_fail "no new leader (old $l, seen $newl)"
out=$("${CTL[@]}" check-seq w 0 600 2>&1 | tail -1)
t_expect_eq "read back" "$out" "checked 600, missing 0"

t_case "the killed store restarts with every acknowledged write"
start_kvd "$l"
ok=0
for _ in $(seq 1 100); do
    out=$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$l")" --local --timeout=5 check-seq w 0 600 2>&1 | tail -1)
    [ "$out" = "checked 600, missing 0" ] && { ok=1; break; }
    sleep 0.2
done
[ $ok = 1 ] || t_fail "store $l after restart: $out"
t_expect_eq "txn value there too" "$("${CTL[@]}" txn-get account 2>&1)" "100"

t_case "SIGTERM stops every store cleanly"
for i in 1 2 3; do kill -TERM "${PID[$i]}"; done
for i in 1 2 3; do
    t_wait_exit "${PID[$i]}" 20 || t_fail "store $i still running"
    t_expect_eq "store $i exit" "$T_RC" 0
done
t_end

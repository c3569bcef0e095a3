#!/usr/bin/env bash
# test_kvd_getbatch.sh: three kvd on loopback (ports in 19000-19980); many
# kv.RawGet frames written in one send reach the leader in one read and
# are answered as one batch (libregion/DESIGN.md "Gets of one read under
# one check"): every get gets its own answer, values and absent keys beside
# a stale epoch, an unknown region and a get of another shape; the same
# gets sent to a follower are each answered NotLeader naming the leader
# (held gets without a lease take the read barrier). getbatch.py writes the
# frames by hand and reads the replies. The batch is read by the loop
# thread and `get-readers` threads together ("Gets on more than one
# core"): the same cases run with the default (1 reader), with none and
# with 4, and the leader's status counts every batched get once. The loop
# answers each piece of 8 gets it read at once ("Replies a piece at a
# time"): with no reader it reads them all, so it sent at least
# ceil(196 / 8) = 25 pieces (more when the frames took two reads), one per
# 8 gets or fewer.
. "$(dirname "$0")/lib.sh"

t_kvd_ports 19000 19980

status_num() { # store, key: a number of `kvd ctl status`
    "$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$1")" status 2>/dev/null |
        sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

stop_stores() {
    local i
    for i in 1 2 3; do kill -TERM "${PID[$i]}" 2>/dev/null; done
    for i in 1 2 3; do
        t_wait_exit "${PID[$i]}" 30 || t_fail "kvd $i did not stop"
        [ "$T_RC" = 0 ] || t_fail "kvd $i exited $T_RC"
    done
}

batches() { # name, kvd flags...
    local name=$1 l f _ batched byr pieces
    shift
    t_case "$name: three stores serve a and b"
    for i in 1 2 3; do t_kvd_start "$i" "$@"; done
    t_expect_eq "put a" "$("${CTL[@]}" put a va 2>&1)" "ok"
    t_expect_eq "put b" "$("${CTL[@]}" put b vb 2>&1)" "ok"
    l=0
    for _ in $(seq 1 200); do
        l=$(t_kvd_leader_seen_by 1)
        [ -n "$l" ] && [ "$l" != 0 ] &&
            [ "$(t_kvd_leader_seen_by "$l")" = "$l" ] && break
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
    # `kvd ctl get` reads through the batch as well: count from here
    batched=$(status_num "$l" gets_batched)
    pieces=$(status_num "$l" get_pieces_sent)

    python3 "$(dirname "$0")/getbatch.py" "$(port "$l")" "$l" "$(port "$f")" \
        >"$T_TMP/getbatch.out" 2>&1 ||
        t_fail "getbatch.py: $(tail -3 "$T_TMP/getbatch.out")"
    sed -i "s/^CASE /CASE $name: /" "$T_TMP/getbatch.out"
    t_cases_from "$T_TMP/getbatch.out"
    t_case "$name: the leader's counts"
    t_expect_eq "cases" "$(grep -c '^CASE' "$T_TMP/getbatch.out")" 2
    # 196 of the 200 have the usual shape (4 carry a value field: nanopb)
    t_expect_eq "gets batched" \
        "$(( $(status_num "$l" gets_batched) - batched ))" 196
    byr=$(status_num "$l" gets_by_readers)
    echo "INFO $name: gets read by readers on the leader: $byr"
    case "$name" in
    "no readers")
        t_expect_eq "none by readers" "$byr" 0
        pieces=$(( $(status_num "$l" get_pieces_sent) - pieces ))
        echo "INFO $name: pieces sent at once: $pieces"
        [ "$pieces" -ge 25 ] && [ "$pieces" -le 196 ] ||
            t_fail "$pieces pieces sent at once for 196 gets (25 to 196)"
        ;;
    *) [ "$byr" -le "$(status_num "$l" gets_batched)" ] ||
           t_fail "$byr gets by readers of $(status_num "$l" gets_batched)" ;;
    esac

    t_case "$name: the leader still serves after the batches"
    t_expect_eq "get a" "$("${CTL[@]}" get a 2>&1)" "va"
    stop_stores
}

batches "one reader"
batches "no readers" --get-readers=0
batches "four readers" --get-readers=4
t_end

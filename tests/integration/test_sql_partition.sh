#!/usr/bin/env bash
# test_sql_partition.sh: network partitions under the bank workload
# (ports in 22400-23380, two slots; docs/operators-guide.md "When a
# daemon dies"). Three pdd, three kvd and two sqld as in test_chaos.sh,
# but the stores reach each other, and the clients reach the stores, over
# links of netproxy.py (chaos_cluster.sh, LINK_BASE) that this suite cuts
# the way a dropped packet cuts them. Each round partitions the store that
# leads the most regions in turn:
#   - from the other stores (the clients still reach it),
#   - from the other stores and the clients,
#   - from one other store only (a ring: the third reaches both),
#   - one way: its messages to the others are dropped, theirs arrive,
#   - from the clients only (the stores still reach it); here the store
#     leading the bank's rows.
# While it is cut off the others must keep acknowledging transfers and,
# where it cannot reach a majority, it must lead no region. In the last
# case the regions it leads keep their leader (its peers hear it), and
# the clients reach it through another store, which passes their requests
# on (kv.Forward, libregion DESIGN.md "Forwarding"). After each heal the
# workload must go on.
# At the end every acknowledged transfer is there, none that surely
# failed is, the balances are what the transfers make them and every
# snapshot summed to the starting total.
#
# PART_SECONDS (default 0: one round) keeps partitioning in rounds until
# that many seconds have passed (`make chaos` runs 300); PART_HOLD
# (default 4) is the least number of seconds a partition lasts: past an
# election, a lease and a lock's TTL (3 s).
. "$(dirname "$0")/lib.sh"

PART_SECONDS=${PART_SECONDS:-0}
PART_HOLD=${PART_HOLD:-4}
t_pick_base 22400 23380
B=$T_BASE
t_pick_base 22400 23380
LINK_BASE=$T_BASE
T_BASE=$B
. "$(dirname "$0")/chaos_cluster.sh"

# pick: k is the store leading the most regions (as the stores count
# them), a and b the other two
pick() {
    local i n most=-1
    for i in 1 2 3; do
        n=$(kvd_stat "$i" leaders)
        if [ "${n:-0}" -gt "$most" ]; then
            k=$i
            most=${n:-0}
        fi
    done
    a=$((k % 3 + 1))
    b=$((a % 3 + 1))
}
# pick_bank: as pick, but k is the store leading the region that holds
# bank.accounts' first rows, as that store sees it: cut off from the
# clients, it is the one their transfers must reach through another store
# (pick's store may lead only regions the bank never touches). pick's
# choice when that cannot be told.
pick_bank() {
    local r i l
    pick
    r=$(mariadb -h 127.0.0.1 -P "$SQL1" -u root --skip-ssl -N -B \
        -e "SHOW TABLE bank.accounts REGIONS" 2>/dev/null |
        awk -F'\t' 'NR == 1 { print $1 }')
    [ -n "$r" ] || return 0
    for _ in $(seq 1 20); do # a leadership changing hands: again
        for i in 1 2 3; do
            l=$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$i")" status 2>/dev/null |
                grep -o "{\"id\":$r,[^}]*}" | sed -n 's/.*"leader":\([0-9]*\).*/\1/p')
            if [ "${l:-0}" = "$i" ]; then
                k=$i
                a=$((k % 3 + 1))
                b=$((a % 3 + 1))
                return 0
            fi
        done
        sleep 0.25
    done
}
# partition LONE "WHAT" LINK...: cuts the links under the workload;
# they stay cut PART_HOLD seconds, and until the workload acknowledged
# 10 more transfers, and until store LONE (unless "-") leads
# no region: a leader that hears from no majority steps down within two
# election timeouts (awake while a member store is silent: libregion
# DESIGN.md "Hibernation"). Then heals them, and the workload must go on.
partition() {
    local lone=$1 what=$2 t got
    shift 2
    t_case "round $round: $what"
    cut_link "$@"
    t=$SECONDS
    got=$(bank_progress "" 10 120) || t_fail "no progress while cut: $got"
    if [ "$lone" != - ]; then
        got=$(t_wait_output 0 30 kvd_stat "$lone" leaders) ||
            t_fail "store $lone still leads $got region(s) while cut off"
    fi
    while [ $((SECONDS - t)) -lt "$PART_HOLD" ]; do sleep 0.1; done
    echo "    cut for $((SECONDS - t)) s: $*; regions led by stores 1-3:" \
        "$(for i in 1 2 3; do kvd_stat "$i" leaders; done | paste -sd' ')"
    heal_links
    got=$(bank_progress "" 10 120) || t_fail "after the heal: $got"
}

# forwarded: kv.Forward requests the stores served so far
forwarded() {
    local i f n=0
    for i in 1 2 3; do
        f=$(kvd_stat "$i" forwarded)
        n=$((n + ${f:-0}))
    done
    echo "$n"
}

t_case "the cluster starts over the links: 3 pdd, 3 kvd, 2 sqld"
start_cluster
"${PDCTL[@]}" store >"$T_TMP/stores.txt" 2>&1
for i in 1 2 3; do
    t_expect_grep "pdd has store $i at its client link (advertise-addr)" \
        "store $i address 127.0.0.1:${CLIENT[$i]} state up" "$T_TMP/stores.txt"
done
bank_setup

bank_go

round=0
T0=$SECONDS
while :; do
    round=$((round + 1))
    pick
    partition "$k" "store $k cut off from the other stores" \
        "$k-$a" "$a-$k" "$k-$b" "$b-$k"
    pick
    partition "$k" "store $k cut off from the other stores and the clients" \
        "$k-$a" "$a-$k" "$k-$b" "$b-$k" "client-$k"
    pick
    partition - "a ring: stores $k and $a cut from each other, $b reaches both" \
        "$k-$a" "$a-$k"
    pick
    partition "$k" "one way: store $k's messages to the others dropped, theirs delivered" \
        "$k-$a" "$k-$b"
    # balance-leader held off meanwhile: a leadership it moved off store k
    # during the cut (pdd rebalances after every round) would spare the
    # clients their detour, and nothing would be forwarded
    tol=$("${PDCTL[@]}" config show 2>/dev/null | sed -n 's/^leader-tolerance: //p')
    "${PDCTL[@]}" config set leader-tolerance 1000000 >/dev/null 2>&1
    sleep 1 # transfers under way end
    pick_bank
    fw=$(forwarded)
    partition - "store $k cut off from the clients only" "client-$k"
    [ "$(forwarded)" -gt "$fw" ] ||
        t_fail "no request went through another store (kv.Forward)"
    "${PDCTL[@]}" config set leader-tolerance "${tol:-1}" >/dev/null 2>&1
    [ $((SECONDS - T0)) -ge "$PART_SECONDS" ] && break
done

bank_check

t_end

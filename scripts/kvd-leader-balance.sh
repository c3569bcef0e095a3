#!/usr/bin/env bash
# kvd-leader-balance.sh BUILD_DIR N: how long pdd's schedulers take to
# even out N regions on real kvd (libpd/DESIGN.md "Scheduling",
# daemons/kvd/README.md "The pd thread"). lib-kvd3's cluster with a pdd
# at its defaults (schedule-interval 10 s, kvd heartbeats every 10 s) and
# N - 1 splits, then:
#   every region's leadership moved to store 1 (`kvd ctl
#   transfer-leader`): the leaders per store every STEP (5) seconds until
#   no two stores differ by more than one (pdd's leader-tolerance), or
#   LIMIT (600) seconds passed. Prints
#     BENCH kvd3_leader_balance_regionsN <seconds> s
#   and the leader transfers the kvd carried out.
#   With ADD=1 instead, a fourth kvd joins (port KP+4): the regions each
#   store holds until no two differ by more than one. Prints
#     BENCH kvd4_region_balance_regionsN <seconds> s
# (LIMIT when not even by then, with a line on stderr). KP moves the
# ports (27421..27425).
set -u
BUILD=${1:?usage: kvd-leader-balance.sh BUILD_DIR N}
N=${2:?usage: kvd-leader-balance.sh BUILD_DIR N}
BIN=$BUILD/daemons/bin; KP=${KP:-27421}
die() { echo "kvd-leader-balance: $*" >&2; exit 1; }
. "$(dirname "$0")/lib-kvd3.sh"
KVD3_ARGS="${KVD3_ARGS:-} $KVD3_PD_ARGS"
kvd3_start leaderbalance
kvd3_pdd
kvd3_wait
CTL=("$BIN/kvd" ctl --peers="$PEERS" --timeout=30 --quiet)
key() { printf 'lb%06d' "$1"; }
for ((i = 1; i < N; i++)); do
    "${CTL[@]}" split "$(key "$i")" >/dev/null || die "split $i failed"
done
STORES=3 WHAT=leaders NAME=kvd3_leader_balance_regions$N
if [ "${ADD:-0}" = 1 ]; then
    STORES=4 WHAT=regions NAME=kvd4_region_balance_regions$N
    P4="$PEERS,4@127.0.0.1:$((KP + 4))"
    "$BIN/kvd" --data-dir="$WORK/kvd4" --store-id=4 --listen="127.0.0.1:$((KP + 4))" \
        --peers="$P4" --raft.sync-log=true --split.region-size=0 \
        --log.file="$WORK/kvd4.log" $KVD3_ARGS &
    pids+=($!)
else
    # region 1 holds everything before lb000001 (kvd3_wait's key among it)
    "${CTL[@]}" transfer-leader a 1 >/dev/null || die "transfer of region 1 failed"
    for ((i = 1; i < N; i++)); do
        "${CTL[@]}" transfer-leader "$(key "$i")" 1 >/dev/null ||
            die "transfer of $(key "$i") failed"
    done
fi
# "C1 C2 ...": WHAT (leaders or regions) of each store, as its own status
# counts them
counts() {
    local i
    for i in 0 1 2 4; do # KP + 3 is pdd's
        [ "$i" = 4 ] && [ "$STORES" = 3 ] && continue
        "$BIN/kvd" ctl --addr=127.0.0.1:$((KP + i)) status 2>/dev/null |
            grep -o "\"$WHAT\":[0-9]*" | head -1 | cut -d: -f2
    done | paste -sd' '
}
even() { # gap of at most 1, every store counted
    awk -v n="$STORES" 'NF == n { mx = $1; mn = $1
        for (i = 2; i <= n; i++) { if ($i > mx) mx = $i; if ($i < mn) mn = $i }
        exit !(mx - mn <= 1) } NF != n { exit 1 }' <<<"$1"
}
t0=$SECONDS
l=$(counts)
echo "INFO t=0 $WHAT $l"
took=
while [ $((SECONDS - t0)) -lt "${LIMIT:-600}" ]; do
    sleep "${STEP:-5}"
    l=$(counts)
    echo "INFO t=$((SECONDS - t0)) $WHAT $l"
    if even "$l"; then took=$((SECONDS - t0)); break; fi
done
[ -n "$took" ] || { took=${LIMIT:-600}; echo "kvd-leader-balance: not even after $took s: $l" >&2; }
echo "BENCH $NAME $took s"
echo "INFO transfers carried out by the kvd: $(cat "$WORK"/kvd*.log | grep -c ': transfer leader to store')"

#!/usr/bin/env bash
# kvd-leader-balance.sh BUILD_DIR N: how long pdd's balance-leader takes
# to even out N regions all led from one of 3 real kvd (libpd/DESIGN.md
# "Scheduling", daemons/kvd/README.md "The pd thread"). lib-kvd3's cluster
# with a pdd at its defaults (schedule-interval 10 s, kvd heartbeats every
# 10 s), N - 1 splits, every region's leadership moved to store 1 (`kvd
# ctl transfer-leader`), then the leaders per store every STEP (5) seconds
# until no two stores differ by more than one (pdd's leader-tolerance)
# or LIMIT (600) seconds passed. Prints
#   BENCH kvd3_leader_balance_regionsN <seconds> s
# (LIMIT when not even by then, with a line on stderr) and the leader
# transfers the kvd carried out. KP moves the ports (27421..27424).
set -u
BUILD=${1:?usage: kvd-leader-balance.sh BUILD_DIR N}
N=${2:?usage: kvd-leader-balance.sh BUILD_DIR N}
BIN=$BUILD/daemons/bin; KP=${KP:-27421}
die() { echo "kvd-leader-balance: $*" >&2; exit 1; }
. "$(dirname "$0")/lib-kvd3.sh"
[ -x "$BIN/pdd" ] || die "$BIN/pdd is missing; build the daemons first"
PDA=127.0.0.1:$((KP + 3))
KVD3_ARGS="${KVD3_ARGS:-} --initial-stores=1,2,3 --pd=$PDA"
kvd3_start leaderbalance
"$BIN/pdd" --name=pd1 --listen="$PDA" --initial-members="pd1=$PDA" \
    --data-dir="$WORK/pd1" --log.file="$WORK/pd1.log" &
pids+=($!) # stopped and removed with the kvd (kvd3_cleanup)
kvd3_wait
CTL=("$BIN/kvd" ctl --peers="$PEERS" --timeout=30 --quiet)
key() { printf 'lb%06d' "$1"; }
for ((i = 1; i < N; i++)); do
    "${CTL[@]}" split "$(key "$i")" >/dev/null || die "split $i failed"
done
# region 1 holds everything before lb000001 (kvd3_wait's key among it)
"${CTL[@]}" transfer-leader a 1 >/dev/null || die "transfer of region 1 failed"
for ((i = 1; i < N; i++)); do
    "${CTL[@]}" transfer-leader "$(key "$i")" 1 >/dev/null ||
        die "transfer of $(key "$i") failed"
done
# "L1 L2 L3": regions each store leads, as its own status counts them
leaders() {
    local i
    for i in 0 1 2; do
        "$BIN/kvd" ctl --addr=127.0.0.1:$((KP + i)) status 2>/dev/null |
            grep -o '"leaders":[0-9]*' | head -1 | cut -d: -f2
    done | paste -sd' '
}
even() { # gap of at most 1, all three counted
    awk 'NF == 3 { mx = $1; mn = $1
        for (i = 2; i <= 3; i++) { if ($i > mx) mx = $i; if ($i < mn) mn = $i }
        exit !(mx - mn <= 1) } NF != 3 { exit 1 }' <<<"$1"
}
t0=$SECONDS
l=$(leaders)
echo "INFO t=0 leaders $l"
took=
while [ $((SECONDS - t0)) -lt "${LIMIT:-600}" ]; do
    sleep "${STEP:-5}"
    l=$(leaders)
    echo "INFO t=$((SECONDS - t0)) leaders $l"
    if even "$l"; then took=$((SECONDS - t0)); break; fi
done
[ -n "$took" ] || { took=${LIMIT:-600}; echo "kvd-leader-balance: not even after $took s: $l" >&2; }
echo "BENCH kvd3_leader_balance_regions$N $took s"
echo "INFO transfers carried out by the kvd: $(cat "$WORK"/kvd[123].log | grep -c ': transfer leader to store')"

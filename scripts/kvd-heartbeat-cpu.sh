#!/usr/bin/env bash
# kvd-heartbeat-cpu.sh BUILD_DIR [KEYS]: what region heartbeats cost 3
# real kvd, with pdd, while a region holds data and nothing is written
# (libregion/DESIGN.md "Region size": kept counts). One pdd and 3 kvd on
# loopback (region heartbeats every 200 ms; split.region-size 0, so region
# 1 stays whole for kvbench), KEYS raw puts of 100-byte values into region
# 1 (kvbench, 16 clients; 250,000 by default: past the 200,000 entries a
# heartbeat counts at most), 5 s to settle, then the 3 kvd's CPU over 20 s
# with no client. Prints
#   BENCH kvd3_heartbeat_idle_cpu_<KEYS> <percent> % of a core (3 kvd)
# and each kvd's pd counters (size_counts: heartbeats that counted
# their region). KP moves the ports (27441..27444).
set -u
BUILD=${1:?usage: kvd-heartbeat-cpu.sh BUILD_DIR [KEYS]}
KEYS=${2:-250000}
BIN=$BUILD/daemons/bin
KP=${KP:-27441}
die() { echo "kvd-heartbeat-cpu: $*" >&2; exit 1; }
for b in pdd kvd kvbench; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing; build the daemons first"
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hbcpu.XXXXXX")
pids=()
cleanup() {
    [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
PD=127.0.0.1:$((KP + 3))
"$BIN/pdd" --name=pd1 --listen="$PD" --initial-members="pd1=$PD" \
    --data-dir="$WORK/pd1" --log.file="$WORK/pd1.log" &
pids+=($!)
PEERS="1@127.0.0.1:$KP,2@127.0.0.1:$((KP + 1)),3@127.0.0.1:$((KP + 2))"
for i in 1 2 3; do
    "$BIN/kvd" --data-dir="$WORK/kvd$i" --store-id="$i" \
        --listen="127.0.0.1:$((KP + i - 1))" --peers="$PEERS" \
        --initial-stores=1,2,3 --pd="$PD" --pd.heartbeat-interval=200ms \
        --split.region-size=0 --log.file="$WORK/kvd$i.log" &
    pids+=($!)
done
ok=0
for _ in $(seq 1 100); do
    out=$("$BIN/kvd" ctl --peers="$PEERS" --timeout=2 put hb-probe v 2>&1)
    [ "$out" = ok ] && { ok=1; break; }
    sleep 0.2
done
[ $ok = 1 ] || die "the cluster took no put: $out"
t0=$SECONDS
"$BIN/kvbench" --name=kvd --target=kvd --addrs="$PEERS" --clients=16 \
    --duration=600 --count="$KEYS" --ops=put --key-size=16 \
    --value-size=100 >"$WORK/kvb.out" 2>&1 || die "kvbench: $(tail -3 "$WORK/kvb.out")"
echo "INFO $KEYS puts in $((SECONDS - t0)) s"
HZ=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cpu3() {
    local t=0 i
    for i in 1 2 3; do t=$((t + $(ticks "${pids[$i]}"))); done
    echo $t
}
sleep 5
c0=$(cpu3)
sleep 20
c1=$(cpu3)
for i in 1 2 3; do
    echo "INFO kvd $i $("$BIN/kvd" ctl --addr=127.0.0.1:$((KP + i - 1)) status \
        2>/dev/null | grep -o '"pd":{[^}]*}')"
done
echo "BENCH kvd3_heartbeat_idle_cpu_$KEYS $(awk -v d=$((c1 - c0)) -v hz="$HZ" \
    'BEGIN { printf "%.1f", d / hz / 20 * 100 }') % of a core"

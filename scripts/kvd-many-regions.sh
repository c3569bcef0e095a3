#!/usr/bin/env bash
# kvd-many-regions.sh BUILD_DIR N: what N sleeping regions cost 3 real kvd
# (libregion/DESIGN.md "The loop": the active list). lib-kvd3's cluster
# (raft.sync-log on), then N splits at keys above kvbench's ("~000001"
# ...: region 1 keeps the bench's keys), 15 s for the regions to fall
# asleep, the 3 kvd's CPU while idle for 10 s, and a 5 s kvbench put phase
# into region 1 (64 clients on one connection). Prints
#   BENCH kvd3_idle_cpu_regionsN <percent> % of a core (3 kvd together)
#   BENCH kvd3_put_cpu_us_per_op_regionsN <us> us (3 kvd together)
# and kvbench's own BENCH lines (rate, p50, p99). KP moves the ports
# (27421..27423). With PD=1 a pdd (port KP+3) drives the cluster as in
# `make run` (region heartbeats every pd.heartbeat-interval, HB: 10s by
# default), and its CPU while idle is printed too:
#   BENCH pdd_idle_cpu_regionsN <percent> % of a core
# IDLE (10) is how many seconds the idle CPU is measured over.
set -u
BUILD=${1:?usage: kvd-many-regions.sh BUILD_DIR N}; N=${2:?usage: kvd-many-regions.sh BUILD_DIR N}
BIN=$BUILD/daemons/bin; KP=${KP:-27421}
die() { echo "kvd-many-regions: $*" >&2; exit 1; }
. "$(dirname "$0")/lib-kvd3.sh"
[ "${PD:-0}" = 1 ] &&
    KVD3_ARGS="${KVD3_ARGS:-} $KVD3_PD_ARGS --pd.heartbeat-interval=${HB:-10s}"
kvd3_start manyregions
[ "${PD:-0}" = 1 ] && kvd3_pdd
kvd3_wait
HZ=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cpu3() { local t=0 p; for p in "${pids[@]:0:3}"; do t=$((t + $(ticks "$p"))); done; echo $t; }
t0=$SECONDS
for ((i = 0; i < N; i++)); do
    "$BIN/kvd" ctl --peers="$PEERS" --timeout=10 --quiet split "$(printf '~%06d' $((N - i)))" >/dev/null 2>&1 ||
        echo "split $i failed" >&2
done
regions=$("$BIN/kvd" ctl --addr=127.0.0.1:$KP status 2>/dev/null | grep -o '"regions":[0-9]*' | head -1)
echo "INFO splits took $((SECONDS - t0)) s; store 1 $regions"
sleep 15
IDLE=${IDLE:-10}
c0=$(cpu3); p0=0; [ "${PD:-0}" = 1 ] && p0=$(ticks $KVD3_PDD)
sleep "$IDLE"
c1=$(cpu3); p1=0; [ "${PD:-0}" = 1 ] && p1=$(ticks $KVD3_PDD)
echo "BENCH kvd3_idle_cpu_regions$N $(awk -v d=$((c1 - c0)) -v hz=$HZ -v t=$IDLE 'BEGIN{printf "%.1f", d / hz / t * 100}') % of a core"
[ "${PD:-0}" = 1 ] && echo "BENCH pdd_idle_cpu_regions$N $(awk -v d=$((p1 - p0)) -v hz=$HZ -v t=$IDLE 'BEGIN{printf "%.1f", d / hz / t * 100}') % of a core"
c0=$(cpu3)
"$BIN/kvbench" --name=kvd --target=kvd --addrs="$PEERS" --clients=64 --duration=5 \
    --key-size=16 --value-size=100 --ops=put --conns=1 > "$WORK/kvb.out" 2>&1 || die "kvbench: $(tail -3 $WORK/kvb.out)"
c1=$(cpu3)
ops=$(grep -o 'BENCH kvd_put_c64 [0-9]*' "$WORK/kvb.out" | awk '{print $3 * 5}')
grep BENCH "$WORK/kvb.out" | head -3
echo "INFO kvb ops=${ops:-?}"
[ -n "${ops:-}" ] && echo "BENCH kvd3_put_cpu_us_per_op_regions$N $(awk -v d=$((c1 - c0)) -v hz=$HZ -v n=$ops 'BEGIN{printf "%.1f", d / hz * 1e6 / n}') us"

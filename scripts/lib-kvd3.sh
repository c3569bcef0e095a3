# lib-kvd3.sh: sourced by bench-kvd.sh, kvd-cpu-per-op.sh, kvd-get-ab.sh
# and the callgrind scripts (kvd-get-instr.sh, kvd-put-instr.sh). A scratch
# directory holding 3 kvd with raft.sync-log on (a put is acknowledged once
# a quorum fsynced it) and split.region-size 0 (one region, never split:
# kvbench's kvd client addresses region 1, and rewriting the same keys,
# or a put phase longer than 5 s, would otherwise split it under the
# clients, which then fail with EpochNotMatch) on loopback ports
# KP..KP+2; everything in `pids` is stopped and the directory removed on
# exit (BENCH_KEEP=1 keeps it). kvd3_start checks that BIN holds kvd and
# kvbench.
# The caller sets BIN and KP (before sourcing this) and defines die;
# kvd3_start sets WORK, PEERS and pids, kvd3_wait returns once the
# cluster took a put, kvd3_lead1 moves
# the leadership to store 1. KVD3_WRAP1 and KVD3_WRAP2, arrays the caller
# may set, are the commands stores 1 and 2 run under (valgrind);
# kvd3_callgrind_start does all of that for the callgrind scripts.
# KVD3_ARGS (environment) adds flags to every kvd (e.g. --get-readers=0).
kvd3_need_callgrind() {
    local t
    for t in valgrind callgrind_control; do
        command -v "$t" >/dev/null || die "$t is missing (Debian: valgrind)"
    done
}

# The callgrind scripts' cluster: NAME's 3 kvd with stores 1..N under
# callgrind, instrumenting nothing until callgrind_control turns it on
# (profiles $CG/cgI.out.*, logs $CG/valgrindI.log; CG removed on exit),
# up and led by store 1.
kvd3_callgrind_start() { # name n
    local i
    kvd3_need_callgrind
    CG=$(mktemp -d "${TMPDIR:-/tmp}/$1-cg.XXXXXX")
    for ((i = 1; i <= $2; i++)); do
        eval "KVD3_WRAP$i=(valgrind --tool=callgrind --instr-atstart=no \
            --log-file=$CG/valgrind$i.log --callgrind-out-file=$CG/cg$i.out)"
    done
    kvd3_start "$1"
    trap 'kvd3_cleanup; rm -rf "$CG"' EXIT
    kvd3_wait
    kvd3_lead1
}

kvd3_start() { # name (scratch directory prefix, message prefix)
    local b
    for b in kvd kvbench; do
        [ -x "$BIN/$b" ] || die "$BIN/$b is missing; build the daemons first"
    done
    KVD3_NAME=$1
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    pids=()
    trap kvd3_cleanup EXIT
    PEERS="1@127.0.0.1:$KP,2@127.0.0.1:$((KP + 1)),3@127.0.0.1:$((KP + 2))"
    local i
    local wrap=()
    for i in 1 2 3; do
        wrap=()
        [ "$i" = 1 ] && wrap=(${KVD3_WRAP1[@]+"${KVD3_WRAP1[@]}"})
        [ "$i" = 2 ] && wrap=(${KVD3_WRAP2[@]+"${KVD3_WRAP2[@]}"})
        ${wrap[@]+"${wrap[@]}"} "$BIN/kvd" --data-dir="$WORK/kvd$i" --store-id="$i" \
            --listen="127.0.0.1:$((KP + i - 1))" --peers="$PEERS" \
            --raft.sync-log=true --split.region-size=0 \
            --log.file="$WORK/kvd$i.log" ${KVD3_ARGS:-} &
        pids+=($!)
    done
}

# A pdd for the cluster on port KP+3 (PDA): KVD3_PD_ARGS are the flags
# pointing the kvd at it (add them to KVD3_ARGS before kvd3_start);
# kvd3_pdd, after kvd3_start, starts it in WORK (KVD3_PDD its pid),
# stopped and removed with the kvd. The kvd wait for it.
PDA=127.0.0.1:$((KP + 3))
KVD3_PD_ARGS="--initial-stores=1,2,3 --pd=$PDA"
kvd3_pdd() {
    [ -x "$BIN/pdd" ] || die "$BIN/pdd is missing; build the daemons first"
    "$BIN/pdd" --name=pd1 --listen="$PDA" --initial-members="pd1=$PDA" \
        --data-dir="$WORK/pd1" --log.file="$WORK/pd1.log" &
    KVD3_PDD=$!
    pids+=("$KVD3_PDD")
}

kvd3_cleanup() {
    local p
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "$KVD3_NAME: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}

kvd3_wait() {
    local _
    for _ in $(seq 1 300); do
        "$BIN/kvd" ctl --peers="$PEERS" --timeout=2 put bench-warmup x \
            >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "kvd did not start: $(tail -n 5 "$WORK/kvd1.log")"
}

# The leader of store 1's first region as store 1 sees it (empty: none).
kvd3_leader() {
    "$BIN/kvd" ctl --addr="127.0.0.1:$KP" --timeout=10 status 2>/dev/null |
        sed -n 's/.*"region_list":\[{[^]]*"leader":\([0-9]*\).*/\1/p'
}

# Move the region's leadership to store 1 (callgrind's instrumented one).
kvd3_lead1() {
    local _
    for _ in $(seq 1 100); do
        [ "$(kvd3_leader)" = 1 ] && return 0
        "$BIN/kvd" ctl --peers="$PEERS" --timeout=10 transfer-leader "" 1 \
            >/dev/null 2>&1
        sleep 0.2
    done
    [ "$(kvd3_leader)" = 1 ] || die "store 1 did not take the leadership"
}

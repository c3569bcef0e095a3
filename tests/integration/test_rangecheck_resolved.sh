#!/usr/bin/env bash
# test_rangecheck_resolved.sh: kvd's Txn reads skip the locks of the
# transactions a request names in resolved_locks (libregion DESIGN.md
# "Cluster transport": the reader's bypass list, TiKV's resolved locks),
# and only those. A writer left locked (kvctl txn-prewrite); KvGet of its
# secondary is refused as locked, served the committed value when the
# writer's start_ts is named, refused again when another one is. One kvd
# on ports in 19000-19999.
. "$(dirname "$0")/lib.sh"

t_pick_base 19000 19980
BASE=$T_BASE
PEERS="1@127.0.0.1:$((BASE + 1))"
CTL=("$BIN/kvd" ctl "--peers=$PEERS" --timeout=30)

"$BIN/kvd" --data-dir="$T_TMP/kvd1" --store-id=1 \
    --listen="127.0.0.1:$((BASE + 1))" --peers="$PEERS" \
    --raft.tick-interval=50ms --log.file="$T_TMP/kvd1.log" &
T_PIDS+=("$!")

t_case "a writer's secondary lock blocks a read at a later ts"
t_expect_eq "txn-put" "$("${CTL[@]}" txn-put sec old 2>&1 | cut -c1-12)" "committed at"
out=$("${CTL[@]}" txn-prewrite pri sec new 600000 2>&1)
ts=${out#prewritten at }
case "$ts" in ''|*[!0-9]*) t_fail "txn-prewrite said: $out"; ts=0 ;; esac
out=$("${CTL[@]}" txn-get sec 2>&1); rc=$?
t_expect_eq "refused" "$rc" 1
case "$out" in *"locked"*) ;; *) t_fail "txn-get of a locked key said: $out" ;; esac

t_case "resolved_locks naming the writer skips its lock"
t_expect_eq "skipped" "$("${CTL[@]}" txn-get sec "$ts" 2>&1)" "old"
out=$("${CTL[@]}" txn-get sec "$((ts + 1))" 2>&1); rc=$?
t_expect_eq "another ts: refused" "$rc" 1
case "$out" in *"locked"*) ;; *) t_fail "txn-get naming another ts said: $out" ;; esac
t_expect_eq "primary too" "$("${CTL[@]}" txn-get pri "$ts" 2>&1)" "not found"
t_end

#!/usr/bin/env bash
# test_kvd_status.sh: kvd's HTTP status port (status-listen) on a real
# one-store kvd: /status is the store's JSON, /metrics counts each command
# exactly (requests, errors, latency histogram) next to the Raft and region
# figures, and bad requests get 400/404/405 while the store keeps serving.
. "$(dirname "$0")/lib.sh"

t_pick_base 31000 31380
RPC=127.0.0.1:$((T_BASE + 1))
HTTP=127.0.0.1:$((T_BASE + 2))
CTL=("$BIN/kvd" ctl "--addr=$RPC" --timeout=60)

metric() { # metric NAME_WITH_LABELS: its value in /metrics
    curl -sf "http://$HTTP/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

t_case "the status port serves /status with the store's regions"
"$BIN/kvd" --data-dir="$T_TMP/kvd" --store-id=1 --listen="$RPC" \
    --status-listen="$HTTP" --raft.tick-interval=50ms \
    --log.file="$T_TMP/kvd.log" &
T_PIDS+=($!)
t_wait_for_grep "serving HTTP status on $HTTP" "$T_TMP/kvd.log" 30 || t_fail "no status port"
for _ in $(seq 1 200); do
    [ "$(metric kvd_leaders)" = 1 ] && break
    sleep 0.1
done
st=$(curl -sf "http://$HTTP/status")
t_expect_eq "status store" "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["store_id"], d["regions"], d["leaders"], [r["id"] for r in d["region_list"]])' "$st")" "1 1 1 [1]"

t_case "/metrics counts each command exactly"
t_expect_eq "before" "$(metric 'kvd_requests_total{command="raw_put"}')" "0"
t_expect_eq "put" "$("${CTL[@]}" put k1 v1 2>&1)" "ok"
t_expect_eq "put" "$("${CTL[@]}" put k2 v2 2>&1)" "ok"
t_expect_eq "get" "$("${CTL[@]}" get k1 2>&1)" "v1"
t_expect_eq "puts" "$(metric 'kvd_requests_total{command="raw_put"}')" "2"
t_expect_eq "gets" "$(metric 'kvd_requests_total{command="raw_get"}')" "1"
t_expect_eq "put errors" "$(metric 'kvd_request_errors_total{command="raw_put"}')" "0"
t_expect_eq "histogram count" "$(metric 'kvd_request_duration_seconds_count{command="raw_put"}')" "2"
t_expect_eq "+Inf bucket" "$(metric 'kvd_request_duration_seconds_bucket{command="raw_put",le="+Inf"}')" "2"
t_expect_eq "regions" "$(metric kvd_regions)" "1"
props=$(metric kvd_raft_proposals_total)
[ "${props:-0}" -ge 2 ] || t_fail "raft proposals $props, want >= 2"
out=$("${CTL[@]}" txn-put acct 7 2>&1)
case $out in "committed at "*) ;; *) t_fail "txn put: $out" ;; esac
t_expect_eq "prewrites" "$(metric 'kvd_requests_total{command="txn_prewrite"}')" "1"
t_expect_eq "commits" "$(metric 'kvd_requests_total{command="txn_commit"}')" "1"

t_case "/metrics carries RocksDB's own figures by column family"
# --rocksdb.block-cache-size is 64MiB by default.
t_expect_eq "cache capacity" "$(metric kvd_rocksdb_block_cache_capacity_bytes)" "67108864"
wk=$(metric 'kvd_rocksdb_estimated_keys{cf="write"}')
[ "${wk:-0}" -ge 1 ] || t_fail "write CF keys $wk, want >= 1 after a commit"
mem=$(metric 'kvd_rocksdb_memtable_bytes{cf="default"}')
[ "${mem:-0}" -gt 0 ] || t_fail "default CF memtable bytes $mem, want > 0"
rmem=$(metric 'kvd_rocksdb_memtable_bytes{cf="raft"}')
[ "${rmem:-0}" -gt 0 ] || t_fail "raft CF memtable bytes $rmem, want > 0 (the Raft log)"
t_expect_eq "write stopped" "$(metric kvd_rocksdb_write_stopped)" "0"
t_expect_eq "background errors" "$(metric kvd_rocksdb_background_errors_total)" "0"

t_case "bad requests get 400, 404 and 405; the store keeps serving"
t_expect_eq "404" "$(curl -s -o /dev/null -w '%{http_code}' "http://$HTTP/nope")" "404"
t_expect_eq "405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$HTTP/status")" "405"
out=$(printf 'garbage\r\n\r\n' | timeout 10 bash -c "exec 3<>/dev/tcp/${HTTP%:*}/${HTTP#*:}; cat >&3; cat <&3" | head -1 | tr -d '\r')
t_expect_eq "400" "$out" "HTTP/1.0 400 Bad Request"
t_expect_eq "still serving" "$("${CTL[@]}" get k2 2>&1)" "v2"

t_end

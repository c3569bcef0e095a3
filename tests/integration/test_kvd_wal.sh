#!/usr/bin/env bash
# test_kvd_wal.sh: rocksdb.max-total-wal-size bounds the WAL a kvd keeps
# (ports in 10600-10999). A store of its own takes 8,000 puts of 1,000
# bytes (about 16 MB of WAL: each put is written as a Raft log entry and
# again as data) with the limit at 1 MiB and then with RocksDB's own
# default (0): the first keeps at most 4 MiB of WAL files, the second at
# least 12 MiB, and the bounded store, killed with -9 and restarted, still
# holds every key it acknowledged. libmvcc/DESIGN.md "RocksDB engine".
. "$(dirname "$0")/lib.sh"

t_kvd_ports 10600 10980 1

# Bytes of RocksDB WAL files (NNNNNN.log) under store 1's data directory.
wal_bytes() {
    find "$T_TMP/kvd1" -name '[0-9]*.log' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

# kvd 1 alone with flags $@, 8,000 puts of 1,000 bytes through kvbench.
load() {
    t_kvd_start 1 "$@"
    t_wait_output "ok" 60 "${CTL[@]}" put warm x >/dev/null ||
        t_fail "kvd 1 never took a put"
    "$BIN/kvbench" --target=kvd --addrs="$PEERS" --clients=16 --conns=1 \
        --ops=put --count=8000 --value-size=1000 --duration=120 \
        >"$T_TMP/kvbench.out" 2>&1 ||
        t_fail "kvbench: $(tail -2 "$T_TMP/kvbench.out")"
}

t_case "with max-total-wal-size 1MiB the WAL stays under 4 MiB"
load --rocksdb.max-total-wal-size=1MiB
w=$(wal_bytes)
echo "INFO WAL bytes with the limit: $w"
[ "$w" -gt 0 ] && [ "$w" -le $((4 << 20)) ] || t_fail "WAL files hold $w bytes"

t_case "killed and restarted, the bounded store holds every key"
kill -9 "${PID[1]}"
wait "${PID[1]}" 2>/dev/null
t_kvd_start 1 --rocksdb.max-total-wal-size=1MiB
t_wait_output "x" 60 "${CTL[@]}" get warm >/dev/null || t_fail "warm lost"
n=$("${CTL[@]}" scan "" "" 2>/dev/null | wc -l)
t_expect_eq "keys after the restart" "$n" "8001"

t_case "with RocksDB's default the same puts keep more than 12 MiB"
kill -9 "${PID[1]}"
wait "${PID[1]}" 2>/dev/null
rm -rf "$T_TMP/kvd1"
load --rocksdb.max-total-wal-size=0
w=$(wal_bytes)
echo "INFO WAL bytes with RocksDB's default: $w"
[ "$w" -ge $((12 << 20)) ] || t_fail "WAL files hold only $w bytes"

t_end

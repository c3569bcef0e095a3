#!/usr/bin/env bash
# test_kvd_metrics.sh: the kvd /metrics counters for inline reads, the
# coprocessor and peer lifecycle (daemons/kvd/metrics.c), on a real
# cluster (ports in 16000-16180): pdd, three kvd with status ports, sqld.
# Each counter is listed once, typed counter; a pushed scan over a table
# of 100 rows, run twice, adds exactly 200 keys read and 50 rows sent, and the totals
# equal the ones kvd's debug log prints per answer; point selects move
# reads_inline as /status reports it; a fresh cluster recreated and
# dropped no peer.
. "$(dirname "$0")/lib.sh"

t_cluster_ports 16000 16180
T_KVD_STATUS=16
T_KVD_ARGS=(--log.level=debug)

# metric I NAME: kvd I's value of NAME (empty if absent).
metric() {
    curl -sf "http://127.0.0.1:$(t_port $((16 + $1)))/metrics" |
        awk -v m="$2" '$1 == m { print $2 }'
}
# total NAME: NAME summed over the three kvd.
total() {
    local sum=0 i v
    for i in 1 2 3; do
        v=$(metric "$i" "$1")
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}
SQL=(mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --batch --skip-column-names)

t_case "the cluster starts: pdd, three kvd, sqld"
t_start_cluster

NAMES="kvd_reads_inline_total kvd_peers_recreated_total
kvd_peers_uninit_dropped_total kvd_cop_answers_total kvd_cop_keys_read_total
kvd_cop_rows_sent_total"

t_case "each new counter is exported once, typed counter"
for i in 1 2 3; do
    curl -sf "http://127.0.0.1:$(t_port $((16 + i)))/metrics" \
        >"$T_TMP/m$i.txt" || t_fail "kvd $i: no /metrics"
    for n in $NAMES; do
        t_expect_eq "kvd $i $n samples" \
            "$(grep -c "^$n [0-9][0-9]*\$" "$T_TMP/m$i.txt")" 1
        t_expect_eq "kvd $i $n type" \
            "$(grep -c "^# TYPE $n counter\$" "$T_TMP/m$i.txt")" 1
    done
done

t_case "a fresh cluster recreated and dropped no peer"
t_expect_eq "recreated" "$(total kvd_peers_recreated_total)" 0
t_expect_eq "uninitialized dropped" "$(total kvd_peers_uninit_dropped_total)" 0

t_case "a pushed scan counts its keys read and rows sent exactly"
{
    echo "CREATE DATABASE m; CREATE TABLE m.t (id INT PRIMARY KEY, v INT);"
    echo -n "INSERT INTO m.t VALUES (1, 1)"
    for i in $(seq 2 100); do echo -n ", ($i, $i)"; done
    echo ";"
} >"$T_TMP/setup.sql"
"${SQL[@]}" <"$T_TMP/setup.sql" >"$T_TMP/setup.out" 2>&1 ||
    t_fail "setup: $(cat "$T_TMP/setup.out")"
a0=$(total kvd_cop_answers_total)
k0=$(total kvd_cop_keys_read_total)
r0=$(total kvd_cop_rows_sent_total)
for run in 1 2; do
    "${SQL[@]}" -e "SET tidb_allow_coprocessor = 1;
        SELECT id FROM m.t WHERE v % 4 = 0" >"$T_TMP/rows$run.out" 2>&1
    t_expect_eq "rows (run $run)" "$(awk '{ n++; s += $1 } END { print n, s }' \
        "$T_TMP/rows$run.out")" "25 1300"
done
k1=$(total kvd_cop_keys_read_total)
r1=$(total kvd_cop_rows_sent_total)
a1=$(total kvd_cop_answers_total)
[ "$((a1 - a0))" -ge 2 ] || t_fail "answers $a0 -> $a1"
t_expect_eq "keys read" "$((k1 - k0))" 200
t_expect_eq "rows sent" "$((r1 - r0))" 50

t_case "the totals are the ones kvd's log prints per answer"
for i in 1 2 3; do
    last=$(grep 'cop: answer' "$T_TMP/kvd$i.log" | tail -n 1)
    want="0 0 0"
    if [ -n "$last" ]; then
        want=$(echo "$last" | sed -n 's/.*totals \([0-9]*\) answers, \([0-9]*\) keys read, \([0-9]*\) rows sent.*/\1 \2 \3/p')
    fi
    got="$(metric "$i" kvd_cop_answers_total) $(metric "$i" kvd_cop_keys_read_total) $(metric "$i" kvd_cop_rows_sent_total)"
    t_expect_eq "kvd $i answers, keys, rows" "$got" "$want"
done

t_case "point selects are counted in reads_inline, as /status says"
i0=$(total kvd_reads_inline_total)
for i in $(seq 1 50); do
    echo "SELECT v FROM m.t WHERE id = $i;"
done >"$T_TMP/points.sql"
"${SQL[@]}" <"$T_TMP/points.sql" >"$T_TMP/points.out" 2>&1 ||
    t_fail "point selects: $(tail -3 "$T_TMP/points.out")"
t_expect_eq "answers" "$(awk '{ n++; s += $1 } END { print n, s }' \
    "$T_TMP/points.out")" "50 1275"
i1=$(total kvd_reads_inline_total)
[ "$((i1 - i0))" -ge 1 ] || t_fail "no inline read counted ($i0 -> $i1)"
for i in 1 2 3; do
    m0=$(metric "$i" kvd_reads_inline_total)
    s=$(curl -sf "http://127.0.0.1:$(t_port $((16 + i)))/status" |
        sed -n 's/.*"reads_inline":\([0-9]*\).*/\1/p')
    m1=$(metric "$i" kvd_reads_inline_total)
    [ "${m0:-x}" -le "${s:-0}" ] 2>/dev/null && [ "$s" -le "$m1" ] ||
        t_fail "kvd $i: /metrics $m0..$m1, /status $s"
done

t_case "the cluster stops cleanly"
t_stop_cluster || t_fail "not a clean exit: $T_STOP_BAD"

t_end

#!/usr/bin/env bash
# test_region_merge.sh: regions merging under pdd's merge checker (ports in
# 12000-12980): one pdd and three kvd; a range split into six small
# regions; merge on by default (PD's thresholds), the wait after a split
# cut to 0 with pdctl while a writer runs; a kvd killed with -9 in the
# middle and restarted; the regions fall to exactly one
# and every acknowledged write reads back (libregion/DESIGN.md "Merge",
# daemons/kvd/README.md "Merge").
. "$(dirname "$0")/lib.sh"

t_kvd_ports 12000 12960
PDS="127.0.0.1:$(port 11)"
PDCTL=("$BIN/pdctl" "--pd=$PDS" --timeout=20000)

"$BIN/pdd" --name=pd1 --listen="$PDS" --initial-members="pd1=$PDS" \
    --data-dir="$T_TMP/pd1" --log.file="$T_TMP/pd1.log" --raft.tick=50ms \
    --schedule-interval=300ms &
T_PIDS+=("$!")

start_kvd() { t_kvd_start "$1" --pd="$PDS" --pd.heartbeat-interval=200ms; }
for i in 1 2 3; do start_kvd "$i"; done

region_count() { "${PDCTL[@]}" region 2>/dev/null | grep -c '^region '; }
# regions per store as the stores themselves count them, "R1 R2 R3"
store_regions() {
    for i in 1 2 3; do
        "$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$i")" status 2>/dev/null |
            sed -n 's/.*"regions":\([0-9]*\).*/\1/p'
    done | paste -sd' '
}

t_case "a range split into six small regions"
for k in a b c d e f; do
    t_expect_eq "put $k" "$("${CTL[@]}" put "$k" "v$k" 2>&1)" "ok"
done
for k in b c d e f; do
    t_expect_eq "split $k" "$("${CTL[@]}" split "$k" 2>&1)" "ok"
done
got=$(t_wait_output 6 60 region_count) || t_fail "regions in pdd: $got"
got=$(t_wait_output "6 6 6" 60 store_regions) || t_fail "regions per store: $got"

t_case "merge on by default: regions merge while a writer runs"
# the writer: keys over every region, one put at a time; a put is
# acknowledged when kvd ctl printed ok
(
    i=0
    while [ ! -e "$T_TMP/stop" ]; do
        i=$((i + 1))
        k="$(printf '%s' abcdef | cut -c$((i % 6 + 1)))w$i"
        out=$("${CTL[@]}" put "$k" "$i" 2>/dev/null)
        [ "$out" = ok ] && echo "$k=$i" >>"$T_TMP/acked"
    done
) &
WRITER=$!
T_PIDS+=("$WRITER")
t_expect_eq "merge on by default" \
    "$("${PDCTL[@]}" config show 2>&1 | grep '^merge-max' | paste -sd' ')" \
    "merge-max-size: 20971520 merge-max-keys: 200000"
# the regions were just split: no wait (1 h by default) before merging
t_expect_eq "config" "$("${PDCTL[@]}" config set split-merge-interval-ms 0 2>&1)" "ok"
fewer() { [ "$(region_count)" -lt 6 ] && echo yes; }
got=$(t_wait_output yes 120 fewer) || t_fail "no merge: $("${PDCTL[@]}" region 2>&1)"

t_case "a kvd killed with -9 mid-merge and restarted; merging goes on"
at_kill=$(region_count)
kill -9 "${PID[2]}"
sleep 2
start_kvd 2
got=$(t_wait_output 1 240 region_count) ||
    t_fail "regions in pdd: $got: $("${PDCTL[@]}" region 2>&1)"
got=$(t_wait_output "1 1 1" 120 store_regions) || t_fail "regions per store: $got"
n=$(cat "$T_TMP"/kvd[1-3].log | grep -c 'merge: region [0-9]* merged')
[ "$n" -ge 5 ] || t_fail "merge commits logged: $n"
echo "# $at_kill regions in pdd at the kill; $n merge commits logged"
# Store 1 ran throughout, from one region back to one: its /status
# counts as many merges applied as splits.
st1=$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port 1)" status 2>/dev/null)
t_expect_eq "store 1 status: merges = splits" \
    "$(echo "$st1" | sed -n 's/.*"merges":\([0-9]*\).*/\1/p')" \
    "$(echo "$st1" | sed -n 's/.*"splits":\([0-9]*\).*/\1/p')"

t_case "every acknowledged write reads back"
touch "$T_TMP/stop"
t_wait_exit "$WRITER" 120 || t_fail "writer did not stop"
acked=$(wc -l <"$T_TMP/acked")
[ "$acked" -ge 10 ] || t_fail "only $acked acknowledged writes"
"${CTL[@]}" scan "" "" >"$T_TMP/scan" 2>&1 || t_fail "scan: $(cat "$T_TMP/scan")"
missing=$(sort "$T_TMP/acked" | comm -23 - <(sort "$T_TMP/scan") | head -5)
t_expect_eq "acknowledged writes missing" "$missing" ""
for k in a b c d e f; do
    t_expect_eq "get $k" "$("${CTL[@]}" get "$k" 2>&1)" "v$k"
done
t_expect_eq "one region" "$(region_count)" 1
echo "# $acked acknowledged writes, all read back"

t_end

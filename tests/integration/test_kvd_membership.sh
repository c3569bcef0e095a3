#!/usr/bin/env bash
# test_kvd_membership.sh: membership on real kvd (ports in 21701-21984): three
# stores found region 1, a fourth joins empty and is added (it gets the
# data by snapshot), leadership is transferred to it, a founder is removed
# (it deletes the region) and writes go on, nothing lost.
. "$(dirname "$0")/lib.sh"

t_kvd_ports 21700 21980 4

start_kvd() { t_kvd_start "$1" --initial-stores=1,2,3 --raft.log-keep-entries=32; }

status_of() {
    "$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$1")" status 2>/dev/null
}

t_case "a fourth store joins and gets the data"
for i in 1 2 3 4; do start_kvd "$i"; done
"${CTL[@]}" --quiet put-seq m 0 200 2>"$T_TMP/seq.err" || t_fail "put-seq: $(cat "$T_TMP/seq.err")"
st=""
for _ in $(seq 1 100); do st=$(status_of 4); [ -n "$st" ] && break; sleep 0.1; done
case "$st" in *'"regions":0'*) ;; *) t_fail "store 4 has regions before joining: $st";; esac
t_expect_eq "add-peer" "$("${CTL[@]}" add-peer "" 4 2>&1)" "ok"
ok=0
for _ in $(seq 1 100); do
    out=$("$BIN/kvd" ctl "--addr=127.0.0.1:$(port 4)" --local --timeout=5 check-seq m 0 200 2>&1 | tail -1)
    [ "$out" = "checked 200, missing 0" ] && { ok=1; break; }
    sleep 0.2
done
[ $ok = 1 ] || t_fail "store 4 after joining: $out"

t_case "leadership moves to the new store"
ok=0
for _ in $(seq 1 50); do
    "${CTL[@]}" transfer-leader "" 4 >/dev/null 2>&1
    case "$(status_of 4)" in *'"leaders":1'*) ok=1; break;; esac
    sleep 0.2
done
[ $ok = 1 ] || t_fail "store 4 does not lead: $(status_of 4)"

t_case "a founder is removed, deletes the region, writes go on"
out=""
for _ in 1 2 3 4 5; do # store 1 may have taken the lead back meanwhile
    out=$("${CTL[@]}" remove-peer "" 1 2>&1)
    [ "$out" = "ok" ] && break
    "${CTL[@]}" transfer-leader "" 4 >/dev/null 2>&1
    sleep 0.5
done
t_expect_eq "remove-peer" "$out" "ok"
ok=0
for _ in $(seq 1 100); do
    case "$(status_of 1)" in *'"regions":0'*) ok=1; break;; esac
    sleep 0.1
done
[ $ok = 1 ] || t_fail "store 1 still holds the region: $(status_of 1)"
"${CTL[@]}" --quiet put-seq m 200 300 2>"$T_TMP/seq2.err" || t_fail "put-seq: $(cat "$T_TMP/seq2.err")"
t_expect_eq "read back" "$("${CTL[@]}" check-seq m 0 300 2>&1 | tail -1)" "checked 300, missing 0"
case "$(status_of 4)" in *'"conf_ver":3'*) ;; *) t_fail "conf_ver: $(status_of 4)";; esac
t_end

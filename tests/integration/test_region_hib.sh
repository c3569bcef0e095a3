#!/usr/bin/env bash
# test_region_hib.sh: idle regions hibernate on three real kvd (ports in
# 13500-13980): both regions fall asleep on every store and their Raft
# tick count stops, a put wakes them, and with the leader store killed -9
# while they sleep the other two notice its silence and elect; the store
# restarts, catches up and everything sleeps again.
# libregion/DESIGN.md, "Hibernation".
. "$(dirname "$0")/lib.sh"

t_kvd_ports 13500 13980

start_kvd() { t_kvd_start "$1"; }

status_of() {
    "$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$1")" --timeout=5 status 2>/dev/null
}

# A counter from store $1's status JSON.
stat_of() {
    status_of "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

# Leaders of every region store $1 knows, as "id:leader ..." sorted.
leaders_seen_by() {
    status_of "$1" | grep -o '"id":[0-9]*,"conf_ver":[0-9]*,"version":[0-9]*,"leader":[0-9]*' |
        sed 's/"id":\([0-9]*\).*"leader":\([0-9]*\)/\1:\2/' | sort | tr '\n' ' '
}

# Whether stores $@ all report 2 regions asleep.
all_asleep() {
    local i
    for i in "$@"; do
        [ "$(stat_of "$i" hibernated)" = 2 ] || { echo no; return; }
    done
    echo yes
}

t_case "idle regions fall asleep and stop ticking"
for i in 1 2 3; do start_kvd "$i"; done
t_expect_eq "put" "$("${CTL[@]}" put a 1 2>&1)" "ok"
t_expect_eq "split" "$("${CTL[@]}" split m 2>&1)" "ok"
t_expect_eq "put right" "$("${CTL[@]}" put z 1 2>&1)" "ok"
t_wait_output yes 60 all_asleep 1 2 3 >/dev/null || t_fail "not asleep: $(for i in 1 2 3; do status_of "$i"; echo; done)"
declare -A T0
for i in 1 2 3; do T0[$i]=$(stat_of "$i" ticks); done
sleep 1 # a measurement (ticks at 50 ms), not a synchronization
for i in 1 2 3; do
    t_expect_eq "store $i ticks" "$(stat_of "$i" ticks)" "${T0[$i]}"
    t_expect_eq "store $i down" "$(stat_of "$i" stores_down)" 0
done

t_case "a put wakes its region, which sleeps again"
w0=$(stat_of 1 hib_wakes)
t_expect_eq "put" "$("${CTL[@]}" put b 2 2>&1)" "ok"
w1=$(stat_of 1 hib_wakes)
[ "$w1" -gt "$w0" ] || t_fail "no wake on store 1 ($w0 -> $w1)"
t_expect_eq "get" "$("${CTL[@]}" get b 2>&1)" "2"
t_wait_output yes 60 all_asleep 1 2 3 >/dev/null || t_fail "not asleep again"

t_case "leader store killed while asleep: the others elect"
before=$(leaders_seen_by 1)
l=$(echo "$before" | sed 's/^1:\([0-9]*\).*/\1/')
case "$l" in 1|2|3) ;; *) t_fail "no leader of region 1: $before";; esac
kill -9 "${PID[$l]}"
others=()
for i in 1 2 3; do [ "$i" != "$l" ] && others+=("$i"); done
newl=0
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
    s=$(leaders_seen_by "${others[0]}" | sed 's/^1:\([0-9]*\).*/\1/')
    if [ -n "$s" ] && [ "$s" != 0 ] && [ "$s" != "$l" ]; then newl=$s; break; fi
    sleep 0.2
done
[ "$newl" != 0 ] || t_fail "no new leader of region 1 (old $l)"
t_expect_eq "store down seen" "$(stat_of "${others[0]}" stores_down)" 1
t_expect_eq "put after" "$("${CTL[@]}" put c 3 2>&1)" "ok"
t_expect_eq "put right after" "$("${CTL[@]}" put y 3 2>&1)" "ok"

t_case "the killed store comes back, catches up, and all sleep"
start_kvd "$l"
t_wait_output 3 60 "$BIN/kvd" ctl "--addr=127.0.0.1:$(port "$l")" --local --timeout=5 get c >/dev/null ||
    t_fail "store $l lacks c"
t_wait_output yes 90 all_asleep 1 2 3 >/dev/null || t_fail "not asleep after restart"
t_expect_eq "down cleared" "$(stat_of "${others[0]}" stores_down)" 0
t_end

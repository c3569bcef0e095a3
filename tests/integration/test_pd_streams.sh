#!/usr/bin/env bash
# test_pd_streams.sh: pd's Tso and RegionHeartbeat streams with real daemons
# (ports in 14000-14980): three pdd and one kvd. Raw librpc frames (python)
# show a follower failing a Tso stream with the leader's address and the
# leader answering every request of one in order. Timestamps a client takes
# over its Tso stream keep strictly increasing while the pdd leader is
# killed with -9 under the open stream (the client moves its stream to the
# next leader), and an operator added with pdctl reaches kvd over its
# RegionHeartbeat stream and is carried out; the heartbeats of 300 regions
# leave in batches (libpd/DESIGN.md, "Client", librpc/DESIGN.md,
# "Bidirectional streams").
. "$(dirname "$0")/lib.sh"

t_pick_base 14000 14980
B=$T_BASE
at() { echo "127.0.0.1:$((B + $1))"; }
PDS="$(at 1),$(at 2),$(at 3)"
PDCTL=("$BIN/pdctl" "--pd=$PDS" --timeout=30000)
KVCTL=("$BIN/kvd" ctl "--peers=1@$(at 5)" --timeout=60)
declare -A PID

pdd_up() { # pdd_up I: member sI on port B+I, status port B+10+I
    "$BIN/pdd" --name="s$1" --listen="$(at "$1")" \
        --initial-members="s1=$(at 1),s2=$(at 2),s3=$(at 3)" \
        --data-dir="$T_TMP/pd$1" --log.file="$T_TMP/pd$1.log" \
        --raft.tick=50ms --status-listen="$(at $((10 + $1)))" \
        --schedule-interval=0 &
    PID[$1]=$!
    T_PIDS+=("$!")
}

# metric I NAME: NAME's value on pdd I's /metrics (empty if unreachable).
metric() {
    curl -sf "http://$(at $((10 + $1)))/metrics" 2>/dev/null |
        awk -v n="$2" '$1 == n { print $2 }'
}

# leader: the member id (= index) pdctl names as leader, waiting for one.
leader() {
    local id t
    for t in $(seq 1 300); do
        id=$("${PDCTL[@]}" member 2>/dev/null | sed -n 's/^leader \([0-9]*\) .*/\1/p')
        if [ -n "$id" ] && [ "$id" != 0 ]; then echo "$id"; return 0; fi
        sleep 0.2
    done
    return 1
}

# ascending FILE: each line a larger number than the line before (as digit
# strings of equal or greater length: timestamps exceed awk's doubles).
ascending() {
    awk 'NR > 1 { if (length($1) < length(p) ||
                      (length($1) == length(p) && ($1 "") <= (p ""))) {
                      print "line " NR ": " $1 " after " p; bad = 1 } }
         { p = $1 } END { exit bad }' "$1"
}

lines() { wc -l <"$1" | tr -d ' '; }

t_case "Tso: unary calls (pdctl tso) and one stream per client to the leader"
for i in 1 2 3; do pdd_up "$i"; done
L=$(leader) || t_fail "no leader within 60 s"
out=$("${PDCTL[@]}" tso 3 2>&1) || t_fail "tso: $out"
case "$out" in [1-9]*) ;; *) t_fail "tso printed '$out'";; esac
t_expect_eq "no stream for unary calls" \
    "$(metric "$L" 'pdd_streams_total{kind="tso"}')" 0
"${PDCTL[@]}" tso-stream 1 >"$T_TMP/ts0" 2>&1 || t_fail "tso-stream: $(tail -1 "$T_TMP/ts0")"
# several calls (how many fit in the second depends on the machine's load;
# pdctl counted whole clock seconds before, so "1 s" could be a few ms)
[ "$(lines "$T_TMP/ts0")" -ge 2 ] || t_fail "tso-stream: $(lines "$T_TMP/ts0") timestamps in 1 s"
why=$(ascending "$T_TMP/ts0") || t_fail "tso-stream went back: $why"
t_expect_eq "one stream for the client's calls" \
    "$(metric "$L" 'pdd_streams_total{kind="tso"}')" 1

# rawtso ADDR N: opens a Tso stream to ADDR with raw librpc frames, sends N
# more requests of 2 timestamps and closes its side; prints one line per
# frame pdd sent: "stream FIRST COUNT", "end STATUS" or "fail CODE TEXT".
rawtso() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
n = int(sys.argv[2])
s = socket.create_connection((host, int(port)), timeout=30)
def frame(kind, payload=b""):  # librpc/DESIGN.md "Wire format"
    return struct.pack(">IBBHIIIi", 0x4C525043, 1, kind, 0, 0x0004001D, 7,
                       len(payload), 0) + payload
req = b"\x10\x02"  # TsoRequest{count: 2}
s.sendall(frame(0x00, req) + frame(0x20, req) * n + frame(0x21))
buf = b""
def read(k):
    global buf
    while len(buf) < k:
        d = s.recv(65536)
        if not d:
            raise SystemExit("closed")
        buf += d
    out, buf = buf[:k], buf[k:]
    return out
def varints(b):  # field number -> value, varint fields only
    out, i = {}, 0
    while i < len(b):
        key, sh, v = b[i], 0, 0
        i += 1
        while True:
            v |= (b[i] & 0x7F) << sh
            sh += 7
            i += 1
            if not b[i - 1] & 0x80:
                break
        out[key >> 3] = v
    return out
while True:
    _, _, kind, _, _, rid, ln, aux = struct.unpack(">IBBHIIIi", read(24))
    body = read(ln)
    if kind == 0x04:
        f = varints(body)
        print("stream", f.get(1, 0), f.get(2, 0))
    elif kind == 0x08:
        print("end", aux)
        break
    elif kind == 0x02:
        print("fail", aux, body.decode())
        break
PY
}

t_case "raw frames: a stream to a follower is told who leads; the leader answers each request"
L=$(leader)
F=$(( L % 3 + 1 ))
out=$(rawtso "$(at "$F")" 3 2>&1)
t_expect_eq "follower" "$out" \
    "fail -4001 this pdd is not the leader; leader: $(at "$L")"
rawtso "$(at "$L")" 3 >"$T_TMP/raw" 2>&1 || t_fail "leader: $(cat "$T_TMP/raw")"
t_expect_eq "frames" "$(awk '{ print $1, $NF }' "$T_TMP/raw" | tr '\n' ' ')" \
    "stream 2 stream 2 stream 2 stream 2 end 0 "
awk '$1 == "stream" { print $2 }' "$T_TMP/raw" >"$T_TMP/raw.ts"
why=$(ascending "$T_TMP/raw.ts") || t_fail "went back: $why"

t_case "Tso strictly increasing across kill -9 of the leader under open streams"
STOP=$T_TMP/stop
for k in 1 2; do
    "${PDCTL[@]}" tso-stream 120 "$STOP" >"$T_TMP/ts$k" 2>"$T_TMP/ts$k.err" &
    TS[$k]=$!
    T_PIDS+=("$!")
done
for k in 1 2; do
    t_wait_output ok 60 sh -c "[ \$(wc -l <'$T_TMP/ts$k') -ge 50 ] && echo ok" \
        >/dev/null || t_fail "client $k: no timestamps before the kill"
done
L=$(leader)
kill -9 "${PID[$L]}"
wait "${PID[$L]}" 2>/dev/null
for k in 1 2; do
    seen=$(lines "$T_TMP/ts$k")
    t_wait_output ok 60 sh -c "[ \$(wc -l <'$T_TMP/ts$k') -ge $((seen + 100)) ] && echo ok" \
        >/dev/null || t_fail "client $k: no timestamps after the kill: $(cat "$T_TMP/ts$k.err")"
done
touch "$STOP"
for k in 1 2; do
    t_wait_exit "${TS[$k]}" 60 || t_fail "client $k did not stop"
    t_expect_eq "client $k exit" "$T_RC" 0
    why=$(ascending "$T_TMP/ts$k") || t_fail "client $k went back: $why"
done
N=$(leader) || t_fail "no new leader"
[ "$N" != "$L" ] || t_fail "s$L still leads after kill -9"
n=$(metric "$N" 'pdd_streams_total{kind="tso"}')
[ "${n:-0}" -ge 2 ] || t_fail "new leader s$N: $n Tso streams, want both clients'"
pdd_up "$L" # back to three for the kvd case

t_case "kvd heartbeats over its stream; an operator comes back on it"
"$BIN/kvd" --data-dir="$T_TMP/kvd1" --store-id=1 --listen="$(at 5)" \
    --peers="1@$(at 5)" --initial-stores=1 --raft.tick-interval=50ms \
    --pd="$PDS" --pd.heartbeat-interval=200ms --log.file="$T_TMP/kvd1.log" &
T_PIDS+=("$!")
regions() { "${PDCTL[@]}" region 2>/dev/null | sed 's/ size [0-9]* keys [0-9]*//'; }
got=$(t_wait_output 1 60 sh -c "\"\$0\" \"\$@\" region 2>/dev/null | grep -c '^region 1 .* leader [1-9]'" "${PDCTL[@]}") ||
    t_fail "region 1 has no leader in pdd: $(regions)"
for kv in "apple 1" "nut 2" "zebra 3"; do
    # shellcheck disable=SC2086
    out=$("${KVCTL[@]}" put $kv 2>&1)
    t_expect_eq "put $kv" "$out" ok
done
L=$(leader)
# the stream opens with kvd's first heartbeat to this leader: wait for it
# (a loaded machine may not have sent one yet)
for _ in $(seq 1 300); do
    s0=$(metric "$L" 'pdd_streams_total{kind="region_heartbeat"}')
    [ "${s0:-0}" -ge 1 ] && break
    sleep 0.2
done
[ "${s0:-0}" -ge 1 ] || t_fail "no heartbeat stream open on the leader s$L"
h0=$(metric "$L" pdd_region_heartbeat_stream_msgs_total)
t_expect_eq "operator add" "$("${PDCTL[@]}" operator add split 1 2>&1)" ok
got=$(t_wait_output 2 60 sh -c "\"\$0\" \"\$@\" region 2>/dev/null | wc -l" "${PDCTL[@]}") ||
    t_fail "regions after the split operator: $(regions)"
h1=$(metric "$L" pdd_region_heartbeat_stream_msgs_total)
[ "${h1:-0}" -gt "${h0:-0}" ] || t_fail "heartbeats on the stream: $h0 -> $h1"
t_expect_eq "scan" "$("${KVCTL[@]}" scan "" "" 2>&1 | tr '\n' ' ')" "apple=1 nut=2 zebra=3 "

t_case "kvd sends the heartbeats of 300 regions in batches of up to 256"
# pd counter NAME of kvd's status
pdc() {
    "$BIN/kvd" ctl --addr="$(at 5)" status 2>/dev/null |
        sed -n "s/.*\"pd\":{[^}]*\"$1\":\([0-9]*\).*/\1/p"
}
for i in $(seq 1 298); do
    out=$("${KVCTL[@]}" split "$(printf 's%03d' "$i")" 2>&1)
    [ "$out" = ok ] || t_fail "split $i: $out"
done
got=$(t_wait_output 300 60 sh -c "\"\$0\" \"\$@\" region 2>/dev/null | wc -l" "${PDCTL[@]}") ||
    t_fail "pdd knows $got regions, want 300"
h0=$(pdc region_heartbeats) c0=$(pdc region_heartbeat_calls)
sleep 2 # about ten rounds
h1=$(pdc region_heartbeats) c1=$(pdc region_heartbeat_calls)
[ $((h1 - h0)) -ge 600 ] || t_fail "region heartbeats in 2 s: $h0 -> $h1"
# two calls a round (256 + 44); one per region before batching
[ $(((h1 - h0) / (c1 - c0))) -ge 100 ] ||
    t_fail "heartbeats per call: $((h1 - h0)) in $((c1 - c0)) calls"
t_expect_eq "scan after the splits" \
    "$("${KVCTL[@]}" scan "" "" 2>&1 | tr '\n' ' ')" "apple=1 nut=2 zebra=3 "

t_end

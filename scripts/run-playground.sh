#!/usr/bin/env bash
# run-playground.sh [BUILD_DIR]: `make run`, and `playground` once
# installed (`make install`: the daemons beside it, no BUILD_DIR). Starts
# a local cluster on loopback in the foreground, every daemon's data and
# log under one playground directory (kept across runs), waits until each
# answers, says how to connect, and stops them all on Ctrl-C.
#
# PD_COUNT pdd replicating the placement driver's state with Raft,
# KVD_COUNT kvd replicating one key space with Raft, registered with pdd
# (heartbeats, operators), and sqld speaking MySQL with its data in the
# kvd (--store=cluster).
# Environment: PD_COUNT (3), KVD_COUNT (3), SQLD_COUNT (1: more sqld take
# the next SQL and status ports), PLAYGROUND_DIR (./playground),
# FRESH=1 to delete the playground's data first; PD_PORT (2379), KVD_PORT
# (20160), KVD_STATUS_PORT (20180), SQL_PORT (4000) and SQL_STATUS_PORT
# (10080) move the ports; KVD_ARGS adds flags to every kvd (e.g.
# --txn.lock-table=false), SQLD_ARGS to every sqld (e.g.
# --gc.life-time=10m).
set -u
if [ $# -gt 0 ]; then
    BIN=$1/daemons/bin
else
    BIN=$(cd "$(dirname "$0")" && pwd)
fi
for d in pdd kvd sqld pdctl; do
    [ -x "$BIN/$d" ] || { echo "playground: no $d in $BIN (build first: make run)" >&2; exit 2; }
done
PLAY=${PLAYGROUND_DIR:-$(pwd)/playground}
PD_COUNT=${PD_COUNT:-3}
PD_PORT=${PD_PORT:-2379}
KVD_PORT=${KVD_PORT:-20160}
KVD_STATUS_PORT=${KVD_STATUS_PORT:-20180}
SQL_PORT=${SQL_PORT:-4000}
SQL_STATUS_PORT=${SQL_STATUS_PORT:-10080}
KVD_COUNT=${KVD_COUNT:-3}
SQLD_COUNT=${SQLD_COUNT:-1}
case "$SQLD_COUNT" in *[!0-9]*|''|0) echo "playground: SQLD_COUNT must be a number of at least 1" >&2; exit 2 ;; esac
case "$PD_COUNT$KVD_COUNT$PD_PORT$KVD_PORT$KVD_STATUS_PORT$SQL_PORT$SQL_STATUS_PORT" in *[!0-9]*|'') echo "playground: PD_COUNT, KVD_COUNT and the ports must be numbers" >&2; exit 2 ;; esac
[ "$PD_COUNT" -ge 1 ] && [ "$KVD_COUNT" -ge 1 ] ||
    { echo "playground: PD_COUNT and KVD_COUNT must be at least 1" >&2; exit 2; }
if [ "${FRESH:-0}" = 1 ] && [ -d "$PLAY" ]; then
    echo "playground: FRESH=1: deleting $PLAY"
    rm -rf "$PLAY"
fi
mkdir -p "$PLAY"

pids=()
names=()
cmds=()  # each daemon's command line, to start it again
gone=()  # set for a daemon seen exited
stop_all() {
    trap - INT TERM
    echo
    echo "playground: stopping ${names[*]}"
    # Clients of the others first: every sqld, then every kvd, then pdd
    # (a sqld or kvd stopping after pdd waits out its PD retries).
    local kind i p batch
    for kind in sqld kvd pdd; do
        batch=()
        for i in "${!pids[@]}"; do
            [ "${names[$i]%%-*}" = "$kind" ] && batch+=("${pids[$i]}")
        done
        for p in "${batch[@]}"; do kill -TERM "$p" 2>/dev/null; done
        for p in "${batch[@]}"; do wait "$p" 2>/dev/null; done
    done
    echo "playground: stopped; data and logs stay in $PLAY (FRESH=1 make run starts empty)"
    exit "${1:-0}"
}
trap stop_all INT TERM

# A daemon that exited while starting: show why and stop the others.
stop_if_dead() {
    local i dead=0
    for i in "${!pids[@]}"; do
        if ! kill -0 "${pids[$i]}" 2>/dev/null; then
            echo "playground: ${names[$i]} did not start; its log:" >&2
            tail -n 20 "$PLAY/${names[$i]}.log" >&2
            dead=1
        fi
    done
    [ $dead -eq 0 ] || stop_all 1
}

start() { # name, then flags
    local name=$1; shift
    local cmd=("$BIN/${name%%-*}" --data-dir="$PLAY/$name" --log.file="$PLAY/$name.log" "$@")
    "${cmd[@]}" &
    pids+=($!)
    names+=("$name")
    cmds+=("$(printf '%q ' "${cmd[@]}")")
}

# Ports as TiDB's playground has them: PD 2379 (members every 2 ports, each
# with its HTTP status on the next), kvd from 20160 (HTTP status from
# 20180), SQL 4000 (HTTP status 10080).
pd_port() { echo $((PD_PORT + 2 * ($1 - 1))); }
pd_status() { echo $((PD_PORT + 2 * ($1 - 1) + 1)); }
kvd_port() { echo $((KVD_PORT + $1 - 1)); }
kvd_status() { echo $((KVD_STATUS_PORT + $1 - 1)); }
members=
for i in $(seq 1 "$PD_COUNT"); do
    members+="${members:+,}pd-$i=127.0.0.1:$(pd_port "$i")"
done
peers=
for i in $(seq 1 "$KVD_COUNT"); do
    peers+="${peers:+,}$i@127.0.0.1:$(kvd_port "$i")"
done
for i in $(seq 1 "$PD_COUNT"); do
    start "pdd-$i" --name="pd-$i" --listen=127.0.0.1:$(pd_port "$i") \
        --status-listen=127.0.0.1:$(pd_status "$i") --initial-members="$members"
done
pds=$(echo "$members" | sed 's/pd-[0-9]*=//g')
for i in $(seq 1 "$KVD_COUNT"); do
    start "kvd-$i" --store-id="$i" --listen=127.0.0.1:$(kvd_port "$i") --peers="$peers" \
        --pd="$pds" --status-listen=127.0.0.1:$(kvd_status "$i") ${KVD_ARGS:-}
done
# sqld reads its catalog from the kvd: start it once the first kvd has
# bootstrapped the cluster in pdd (60 s at most).
for _ in $(seq 1 300); do
    "$BIN/pdctl" --pd="$pds" --timeout=2000 cluster 2>/dev/null | grep -q '^bootstrapped yes' && break
    stop_if_dead
    sleep 0.2
done
sql_port() { echo $((SQL_PORT + $1 - 1)); }
sql_status() { echo $((SQL_STATUS_PORT + $1 - 1)); }
sql_name() { if [ "$1" = 1 ]; then echo sqld; else echo "sqld-$1"; fi; }
for i in $(seq 1 "$SQLD_COUNT"); do
    start "$(sql_name "$i")" --listen=127.0.0.1:$(sql_port "$i") --store=cluster \
        --pd="$pds" --status-listen=127.0.0.1:$(sql_status "$i") ${SQLD_ARGS:-}
    # the first sqld of a new cluster creates the catalog and the root
    # account: the others start once it answers (60 s at most)
    [ "$i" = 1 ] && [ "$SQLD_COUNT" -gt 1 ] && for _ in $(seq 1 300); do
        mariadb-admin -h 127.0.0.1 -P $(sql_port 1) -u root ping >/dev/null 2>&1 && break
        stop_if_dead
        sleep 0.2
    done
done

# Ready when every pdd answers its HTTP status, sqld answers a ping and
# every process still runs; 60 s at most.
ready() {
    for i in "${!pids[@]}"; do
        kill -0 "${pids[$i]}" 2>/dev/null || return 2
    done
    for i in $(seq 1 "$PD_COUNT"); do
        (exec 3<>/dev/tcp/127.0.0.1/$(pd_status "$i")) 2>/dev/null || return 1
    done
    for i in $(seq 1 "$SQLD_COUNT"); do
        mariadb-admin -h 127.0.0.1 -P $(sql_port "$i") -u root ping >/dev/null 2>&1 || return 1
    done
    return 0
}
for _ in $(seq 1 600); do
    ready
    st=$?
    [ $st -eq 0 ] && break
    [ $st -eq 2 ] && stop_if_dead
    sleep 0.1
done
if [ $st -ne 0 ]; then
    echo "playground: not ready after 60 s; logs in $PLAY" >&2
    stop_all 1
fi

echo "playground: running in $PLAY (logs: $PLAY/*.log)"
for i in $(seq 1 "$PD_COUNT"); do
    printf '  pdd-%-3s rpc 127.0.0.1:%s  status http://127.0.0.1:%s/status\n' \
        "$i" $(pd_port "$i") $(pd_status "$i")
done
for i in $(seq 1 "$KVD_COUNT"); do
    printf '  kvd-%-3s rpc 127.0.0.1:%s status http://127.0.0.1:%s/status\n' \
        "$i" $(kvd_port "$i") $(kvd_status "$i")
done
for i in $(seq 1 "$SQLD_COUNT"); do
    printf '  %-7s mysql 127.0.0.1:%s (on the cluster: its data is in the kvd)  status http://127.0.0.1:%s/status\n' \
        "$(sql_name "$i")" $(sql_port "$i") $(sql_status "$i")
done
cat <<MSG
Connect with:
  mysql -h 127.0.0.1 -P $SQL_PORT -u root
Inspect the cluster with:
  $BIN/pdctl --pd=$pds member      (also: store, region list, operator show)
  $BIN/kvctl --pd=$pds status      (raw and txn reads and writes: kvctl --help)
Press Ctrl-C to stop.
MSG
# A daemon that exits (killed, crashed, stopped for a restart) is reported
# with the command that starts it again; the others keep running
# (docs/operators-guide.md). A daemon started by hand is not stopped by
# Ctrl-C: stop it yourself.
while :; do
    live=()
    for i in "${!pids[@]}"; do
        kill -0 "${pids[$i]}" 2>/dev/null && live+=("${pids[$i]}")
    done
    if [ ${#live[@]} -eq 0 ]; then
        echo "playground: every daemon has exited; see the logs in $PLAY" >&2
        stop_all 1
    fi
    wait -n "${live[@]}"
    for i in "${!pids[@]}"; do
        if [ -z "${gone[$i]:-}" ] && ! kill -0 "${pids[$i]}" 2>/dev/null; then
            gone[$i]=1
            echo "playground: ${names[$i]} exited (log: $PLAY/${names[$i]}.log); the others keep running; start it again with:" >&2
            echo "  ${cmds[$i]}&" >&2
        fi
    done
done

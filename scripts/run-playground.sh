#!/usr/bin/env bash
# run-playground.sh BUILD_DIR: `make run`. Starts the local cluster on
# loopback in the foreground, every daemon's data and log under one
# playground directory, and stops them all on Ctrl-C.
#
# Today: 1 pdd and 3 kvd serving status/echo RPC, and sqld speaking the
# MySQL protocol on the embedded store (statements are parsed, not yet
# executed; see README.md, "Status").
set -u
BUILD=${1:?usage: run-playground.sh BUILD_DIR}
BIN=$BUILD/daemons/bin
PLAY=${PLAYGROUND_DIR:-$(pwd)/playground}
mkdir -p "$PLAY"

pids=()
names=()
stop_all() {
    trap - INT TERM
    echo
    echo "playground: stopping ${names[*]}"
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    echo "playground: stopped; data and logs stay in $PLAY"
    exit 0
}
trap stop_all INT TERM

start() { # name, then flags
    local name=$1; shift
    "$BIN/${name%%-*}" --data-dir="$PLAY/$name" --log.file="$PLAY/$name.log" "$@" &
    pids+=($!)
    names+=("$name")
}

start pdd --listen=127.0.0.1:2379
for i in 1 2 3; do
    start "kvd-$i" --listen=127.0.0.1:$((20159 + i))
done
start sqld --listen=127.0.0.1:4000 --store=local
sleep 1
for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
        echo "playground: ${names[$i]} did not start; its log:" >&2
        tail -n 20 "$PLAY/${names[$i]}.log" >&2
        stop_all
    fi
done

cat <<MSG
playground: running in $PLAY (logs: $PLAY/*.log)
  pdd    127.0.0.1:2379
  kvd-1  127.0.0.1:20160
  kvd-2  127.0.0.1:20161
  kvd-3  127.0.0.1:20162
  sqld   127.0.0.1:4000   (MySQL protocol; statements are parsed, not yet executed)
Connect with:
  mysql -h 127.0.0.1 -P 4000 -u root
Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
echo "playground: a daemon exited on its own; see the logs in $PLAY" >&2
stop_all

#!/usr/bin/env bash
# test_counter_udp (generated from libraft/tests/external/run-counter.sh):
# install libraft into a scratch prefix, build tests/external/counter.c as
# an outside program through pkg-config, run three processes over UDP on
# loopback, and check that every one counts every increment exactly once.
set -u
SRC=@LIBRAFT@
TOP=@TOP@
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "[ RUN      ] counter_udp"
fail() { echo "$1"; echo "[  FAILED  ] 1 test(s), listed below:"; exit 1; }
# Always the plain build: drop what a parent make (e.g. SANITIZE=...) passes.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE \
    make --no-print-directory -C "$SRC" install PREFIX="$tmp/prefix" \
    BUILD="$TOP/build/default" SANITIZE= >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "install failed"; }
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror -O2 "$SRC/tests/external/counter.c" \
    $(pkg-config --cflags --libs raft) -o "$tmp/counter" ||
    fail "build through pkg-config failed"
port=$(( 30000 + ($$ % 20000) ))
pids=()
for id in 1 2 3; do
    "$tmp/counter" "$id" "$port" 20 >"$tmp/out.$id" 2>&1 &
    pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
cat "$tmp"/out.*
for id in 1 2 3; do
    grep -qx "node $id counter 60" "$tmp/out.$id" || rc=1
done
[ $rc -eq 0 ] || fail "counter mismatch"
echo "[       OK ] counter_udp"
echo "[  PASSED  ] 1 test(s)."

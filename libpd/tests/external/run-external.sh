#!/usr/bin/env bash
# test_external (generated from libpd/tests/external/run-external.sh):
# install libpd (and librpc, which its client needs) into a scratch prefix,
# build tests/external/tso_failover.c and client_smoke.c as outside programs
# through pkg-config, and run them.
set -u
SRC=@LIBPD@
TOP=@TOP@
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "[ RUN      ] external_tso_failover"
fail() { echo "$1"; echo "[  FAILED  ] 1 test(s), listed below:"; exit 1; }
# Always the plain build: drop what a parent make (e.g. SANITIZE=...) passes.
# libpd's client needs librpc: install it alongside (pd.pc requires rpc).
for lib in librpc libpd; do
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE \
        make --no-print-directory -C "$TOP/$lib" install PREFIX="$tmp/prefix" \
        BUILD="$TOP/build/default" SANITIZE= >>"$tmp/install.log" 2>&1 ||
        { cat "$tmp/install.log"; fail "install of $lib failed"; }
done
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror -O2 "$SRC/tests/external/tso_failover.c" \
    $(pkg-config --cflags --libs pd) -o "$tmp/tso_failover" ||
    fail "build through pkg-config failed"
out=$("$tmp/tso_failover") || fail "run failed: $out"
echo "$out"
case "$out" in ok\ *) ;; *) fail "unexpected output" ;; esac
echo "[       OK ] external_tso_failover"
echo "[ RUN      ] external_client_smoke"
cc -std=c11 -Wall -Wextra -Werror -O2 "$SRC/tests/external/client_smoke.c" \
    $(pkg-config --cflags --libs pd) -o "$tmp/client_smoke" ||
    fail "client build through pkg-config failed"
out=$("$tmp/client_smoke") || fail "client run failed: $out"
[ "$out" = ok ] || fail "unexpected client output: $out"
echo "[       OK ] external_client_smoke"
echo "[  PASSED  ] 2 test(s)."

#!/usr/bin/env bash
# test_external_link.sh: installs libraft and libmvcc into a scratch root
# with `make install DESTDIR=... PREFIX=/usr/local`, then builds and runs
# tests/external/main.c against them with nothing but pkg-config, the way a
# program outside this repository would.
. "$(dirname "$0")/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=$T_TMP/root

t_case "make install puts archive, header and .pc in place"
for lib in raft mvcc; do
    make --no-print-directory -s -C "$TOP/lib$lib" install DESTDIR="$ROOT" \
        PREFIX=/usr/local >"$T_TMP/install-$lib.log" 2>&1 ||
        { t_fail "make install lib$lib failed:"; cat "$T_TMP/install-$lib.log"; }
    for f in lib/lib$lib.a include/$lib.h lib/pkgconfig/$lib.pc; do
        [ -f "$ROOT/usr/local/$f" ] || t_fail "missing $ROOT/usr/local/$f"
    done
done
t_expect_eq "raft.pc version" \
    "$(PKG_CONFIG_PATH=$ROOT/usr/local/lib/pkgconfig pkg-config --modversion raft)" \
    "$(cat "$TOP/libraft/VERSION")"

t_case "a program outside the tree builds and runs with pkg-config"
export PKG_CONFIG_PATH=$ROOT/usr/local/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$ROOT
flags=$(pkg-config --cflags --libs mvcc raft) || t_fail "pkg-config failed"
# Under `make SANITIZE=...` the installed archives are instrumented (make
# passes SANITIZE down through MAKEFLAGS), so the program must be too.
san=${SANITIZE:+-fsanitize=$SANITIZE}
cc -std=c11 -Wall -Werror $san "$TOP/tests/external/main.c" $flags -o "$T_TMP/external" \
    2>"$T_TMP/cc.log" || { t_fail "compile failed:"; cat "$T_TMP/cc.log"; }
out=$("$T_TMP/external"); rc=$?
t_expect_eq "exit" "$rc" 0
case "$out" in *"headers match archives"*) ;; *) t_fail "output: $out";; esac

t_case "make uninstall removes what install put there"
for lib in raft mvcc; do
    make --no-print-directory -s -C "$TOP/lib$lib" uninstall DESTDIR="$ROOT" \
        PREFIX=/usr/local >/dev/null 2>&1
    [ -e "$ROOT/usr/local/lib/lib$lib.a" ] && t_fail "lib$lib.a still there"
done

t_end

#!/usr/bin/env bash
# test_myserver_cli (generated from libsql/tests/external/run-myserver.sh):
# install libsql into a scratch prefix, build tests/external/myserver.c as an
# outside program through pkg-config, start it on a loopback port and talk
# to it with the mariadb CLI: logins with both plugins and an auth switch,
# refused logins with MySQL's exact messages, queries, a 17 MiB query.
set -u
SRC=@LIBSQL@
TOP=@TOP@
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0
failed=()
check() { # name expected actual
    if [ "$2" == "$3" ]; then
        echo "[       OK ] $1"; pass=$((pass + 1))
    else
        echo "[  FAILED  ] $1"; echo "  wanted: $2"; echo "  got:    $3"
        failed+=("$1")
    fi
}
fatal() { echo "$1"; echo "[  FAILED  ] 1 test(s), listed below:"; exit 1; }
command -v mariadb >/dev/null || fatal "mariadb CLI missing (scripts/deps.sh installs mariadb-client)"
# libsql's engine stores through libmvcc, so sql.pc requires mvcc.pc.
for lib in "$TOP/libmvcc" "$SRC"; do
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE \
        make --no-print-directory -C "$lib" install PREFIX="$tmp/prefix" \
        BUILD="$TOP/build/default" SANITIZE= >>"$tmp/install.log" 2>&1 ||
        { cat "$tmp/install.log"; fatal "install failed"; }
done
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 \
    "$SRC/tests/external/myserver.c" $(pkg-config --cflags --libs sql) \
    -lmbedtls -lmbedx509 -lmbedcrypto \
    -o "$tmp/myserver" || fatal "build through pkg-config failed"
# A throwaway self-signed certificate for the TLS checks.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 -subj /CN=localhost \
    >"$tmp/openssl.log" 2>&1 || fatal "openssl: $(cat "$tmp/openssl.log")"
"$tmp/myserver" "$tmp/port" "$tmp/cert.pem" "$tmp/key.pem" \
    >"$tmp/server.log" 2>&1 &
pid=$!
# Wait for the port file (written after listen); generous deadline.
for _ in $(seq 1 600); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || fatal "server did not start: $(cat "$tmp/server.log")"
port=$(cat "$tmp/port")
# Plain TCP unless a check asks for TLS (the CLI would use TLS whenever the
# server offers it).
cli() { mariadb -h127.0.0.1 -P"$port" --batch --skip-column-names --skip-ssl "$@" 2>&1; }
clitls() { mariadb -h127.0.0.1 -P"$port" --batch --skip-column-names --ssl "$@" 2>&1; }

check root_select_1 "1" "$(cli -uroot -e 'select 1')"
check native_password "1" "$(cli -ualice -psecret -e 'select 1')"
check native_wrong_password \
    "ERROR 1045 (28000): Access denied for user 'alice'@'127.0.0.1' (using password: YES)" \
    "$(cli -ualice -pwrong -e 'select 1')"
check no_password_given \
    "ERROR 1045 (28000): Access denied for user 'alice'@'127.0.0.1' (using password: NO)" \
    "$(cli -ualice -e 'select 1')"
check unknown_user \
    "ERROR 1045 (28000): Access denied for user 'mallory'@'127.0.0.1' (using password: YES)" \
    "$(cli -umallory -px -e 'select 1')"
check sha2_fast_path_after_switch "1" "$(cli -ubob -ps3cret -e 'select 1')"
check sha2_full_auth_needs_tls \
    "ERROR 1251 (08004): caching_sha2_password full authentication needs a TLS connection (RSA key exchange is not supported)" \
    "$(cli -ucarol -ps3cret -e 'select 1')"
check statements "$(printf '1\n1')" "$(cli -uroot -e 'select 1; update t set a=1; select 1')"
check error_packet "ERROR 1064 (42000) at line 1: example error" "$(cli -uroot -e 'err' | tail -n 1)"
check connect_with_db "1" "$(cli -uroot test -e 'select 1')"
big=$((17 * 1024 * 1024))
printf 'select %*s;\n' "$big" x >"$tmp/big.sql"
check query_over_16mib "$((big + 7))" \
    "$(cli -uroot --max-allowed-packet=64M <"$tmp/big.sql")"
check admin_ping "mysqld is alive" \
    "$(mariadb-admin -h127.0.0.1 -P"$port" --skip-ssl -uroot ping 2>&1)"
check version_comment "Server version:		8.0.11-example libsql example" \
    "$(cli -uroot -e status | grep '^Server version')"
# TLS: the SSL request, the upgrade, caching_sha2 full authentication.
check tls_full_auth "1" "$(clitls -ucarol -ps3cret -e 'select 1')"
check tls_native "1" "$(clitls -ualice -psecret -e 'select 1')"
check tls_in_use "SSL:			Cipher in use is" \
    "$(clitls -uroot -e status | grep '^SSL:' | cut -c1-23)"
check tls_full_auth_wrong_password \
    "ERROR 1045 (28000): Access denied for user 'carol'@'127.0.0.1' (using password: YES)" \
    "$(clitls -ucarol -pnope -e 'select 1')"

# Prepared statements through a real client library (libmariadb).
if command -v sysbench >/dev/null; then
    sb=$(sysbench oltp_point_select --mysql-host=127.0.0.1 --mysql-port="$port" \
        --mysql-user=root --mysql-db=test --db-ps-mode=auto --tables=1 \
        --table-size=10 --threads=1 --events=200 --time=0 run 2>&1)
    check sysbench_prepared_point_select "200 0" \
        "$(echo "$sb" | awk '/read:/ {r=$2} /ignored errors:/ {e=$3} END {print r, e}')"
    check server_saw_binary_executes "yes" \
        "$(grep -q 'execute' "$tmp/server.log" && echo yes || echo no)"
fi

if [ ${#failed[@]} -eq 0 ]; then
    echo "[  PASSED  ] $pass test(s)."
else
    echo "[  PASSED  ] $pass test(s)."
    echo "[  FAILED  ] ${#failed[@]} test(s), listed below:"
    printf '[  FAILED  ] %s\n' "${failed[@]}"
    exit 1
fi

#!/usr/bin/env bash
# test_difftest.sh: the differential tester (tests/difftest/difftest.py) on
# fixed seeds against sqld (embedded store) and a MariaDB started here from
# Debian's package (own data dir, this user, loopback, a port of 26010-26999).
# About a third of the rounds join 2-4 tables (difftest's join rounds).
# Passes only when every statement answers the same on both; the features
# listed in SKIP are known bugs kept out of CI and listed in
# tests/difftest/FINDINGS.md.
. "$(dirname "$0")/lib.sh"
DT=$(cd "$(dirname "$0")/../difftest" && pwd)/difftest.py
PY=/usr/bin/python3
# Known differences, each an entry in tests/difftest/FINDINGS.md; remove a
# name when its bug is fixed.
SKIP=${DIFFTEST_SKIP-'^(arith:MOD|join:arith)$'}
QUERIES=${DIFFTEST_QUERIES:-1000}

# Two runs of this suite may overlap (two checkouts, make test while a
# developer runs it): MariaDB gets a port of 26010-26999 picked from the
# pid, the next one when it is taken, and is pinged through its own socket;
# sqld listens on port 0 and its log says where.
mdb_up() { # pid: our mariadbd answers on our socket
    for _ in $(seq 1 600); do
        mariadb-admin --socket="$T_TMP/mariadb.sock" -u root ping >/dev/null 2>&1 && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

t_case "servers start"
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
if [ ! -x "$MARIADBD" ] || ! command -v mariadb-install-db >/dev/null; then
    t_fail "mariadb-server is not installed (make deps installs it)"
    t_end; exit 1
fi
# Once more on failure, from scratch: a bootstrap has been seen to fail
# once while another suite's MariaDB was starting.
for try in 1 2; do
    rm -rf "$T_TMP/mariadb"
    mariadb-install-db --no-defaults --datadir="$T_TMP/mariadb" --user="$(id -un)" \
        --auth-root-authentication-method=normal --skip-test-db \
        >"$T_TMP/mariadb-install.log" 2>&1 && break
    echo "    mariadb-install-db failed (try $try):"
    grep -i -m 5 'error' "$T_TMP/mariadb-install.log" | sed 's/^/      /'
    [ "$try" = 2 ] && t_fail "mariadb-install-db failed"
done
MDB_PORT=""
for try in 0 1 2 3 4 5 6 7; do
    port=$((26010 + ($$ + try * 97) % 990))
    "$MARIADBD" --no-defaults --datadir="$T_TMP/mariadb" --user="$(id -un)" \
        --bind-address=127.0.0.1 --port="$port" --socket="$T_TMP/mariadb.sock" \
        --skip-grant-tables --skip-name-resolve --innodb-buffer-pool-size=64M \
        --log-error="$T_TMP/mariadb.err" 2>>"$T_TMP/mariadb.err" &
    mdb=$!; T_PIDS+=("$mdb")
    if mdb_up "$mdb"; then MDB_PORT=$port; break; fi
    wait "$mdb" 2>/dev/null  # port taken (or a failed start): next port
done
[ -n "$MDB_PORT" ] || t_fail "MariaDB did not start: $(tail -n 5 "$T_TMP/mariadb.err")"
"$BIN/sqld" --listen=127.0.0.1:0 --store=local \
    --data-dir="$T_TMP/sqld" --log.file="$T_TMP/sqld.log" &
sqld=$!; T_PIDS+=("$sqld")
t_wait_for_grep "serving MySQL on 127.0.0.1:" "$T_TMP/sqld.log" 60 ||
    t_fail "sqld did not start: $(tail -n 5 "$T_TMP/sqld.log")"
SQLD_PORT=$(sed -n 's/.*serving MySQL on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T_TMP/sqld.log" | head -n 1)
[ "$T_CUR_OK" -eq 1 ] || { t_end; exit 1; }
echo "    mariadb on $MDB_PORT, sqld on $SQLD_PORT"

dt() {
    "$PY" "$DT" --mariadb-port="$MDB_PORT" --sqld-port="$SQLD_PORT" "$@"
}

# The tester must see a difference when there is one: VERSION() differs.
t_case "a difference is reported"
printf 'SELECT 1 + 1;\nSELECT VERSION();\n' >"$T_TMP/differs.sql"
dt --replay "$T_TMP/differs.sql" >"$T_TMP/differs.out" 2>&1; rc=$?
t_expect_eq "exit" "$rc" 1
t_expect_grep "same" "same SELECT 1 + 1" "$T_TMP/differs.out"
t_expect_grep "diff" "DIFF SELECT VERSION()" "$T_TMP/differs.out"
t_expect_grep "summary" "replay: 2 statements, 1 differences" "$T_TMP/differs.out"

for seed in 1 2 4; do
    t_case "seed $seed, $QUERIES statements, no difference"
    dt --seed="$seed" --queries="$QUERIES" --skip-feature="$SKIP" \
        --max-diffs=3 >"$T_TMP/seed$seed.out" 2>&1; rc=$?
    if [ "$rc" -ne 0 ]; then
        t_fail "exit $rc (replay with: difftest.py --seed=$seed --queries=$QUERIES --skip-feature='$SKIP')"
        sed 's/^/      /' "$T_TMP/seed$seed.out" | head -n 150
    fi
    t_expect_grep "summary" ", 0 differences" "$T_TMP/seed$seed.out"
done

t_case "sqld still serving"
kill -0 "$sqld" 2>/dev/null || t_fail "sqld exited: $(tail -n 20 "$T_TMP/sqld.log")"

t_end

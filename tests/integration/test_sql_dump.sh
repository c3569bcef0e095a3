#!/usr/bin/env bash
# test_sql_dump.sh: mariadb-dump (mysqldump) of a database on one sqld,
# re-imported with the mariadb CLI into a fresh sqld, gives identical
# tables: definitions (SHOW CREATE TABLE) and contents, row for row.
. "$(dirname "$0")/lib.sh"

start_sqld() { # name: sets PORT
    "$BIN/sqld" --data-dir="$T_TMP/$1" --log.file="$T_TMP/$1.log" \
        --listen=127.0.0.1:0 --store=local >/dev/null 2>&1 &
    T_PIDS+=($!)
    t_wait_for_grep "serving MySQL on 127.0.0.1:" "$T_TMP/$1.log" 60 ||
        { echo "sqld $1 did not start"; cat "$T_TMP/$1.log"; exit 1; }
    PORT=$(sed -n 's/.*serving MySQL on 127.0.0.1:\([0-9]*\).*/\1/p' "$T_TMP/$1.log")
}
start_sqld a; a=$PORT
start_sqld b; b=$PORT
my() { local port=$1; shift; mariadb -h 127.0.0.1 -P "$port" -u root --skip-ssl --connect-timeout=30 "$@"; }

t_case "source database"
my "$a" 2>&1 <<'SQL' || t_fail "setup"
CREATE DATABASE shop;
USE shop;
CREATE TABLE items (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sku VARCHAR(20) NOT NULL,
  price DECIMAL(10,2) NOT NULL DEFAULT 0,
  qty INT,
  added DATETIME,
  note TEXT,
  UNIQUE KEY usku (sku),
  KEY kq (qty, price)
) COMMENT='stock';
INSERT INTO items (sku, price, qty, added, note) VALUES
  ('a1', 1.50, 10, '2024-01-02 03:04:05', 'plain'),
  ('b''2', 2.25, NULL, NULL, 'quote '' and backslash \\ and
newline'),
  ('c3', -0.99, 0, '1999-12-31 23:59:59', NULL);
CREATE TABLE nokey (a BIGINT UNSIGNED, b CHAR(3) COLLATE utf8mb4_bin);
INSERT INTO nokey VALUES (18446744073709551615, 'x'), (0, 'X'), (NULL, NULL);
SQL

t_case "dump and re-import into a fresh sqld"
mariadb-dump -h 127.0.0.1 -P "$a" -u root --skip-ssl --databases shop \
    >"$T_TMP/dump.sql" 2>"$T_TMP/dump.err" || { t_fail "dump"; cat "$T_TMP/dump.err"; }
my "$b" <"$T_TMP/dump.sql" >"$T_TMP/import.log" 2>&1 || { t_fail "import"; cat "$T_TMP/import.log"; }

for t in items nokey; do
    t_case "table $t is identical"
    t_expect_eq "definition" "$(my "$b" -N -e "SHOW CREATE TABLE shop.$t" 2>&1)" \
        "$(my "$a" -N -e "SHOW CREATE TABLE shop.$t" 2>&1)"
    t_expect_eq "rows" "$(my "$b" -N -e "SELECT * FROM shop.$t" 2>&1)" \
        "$(my "$a" -N -e "SELECT * FROM shop.$t" 2>&1)"
done
t_expect_eq "three rows" "$(my "$b" -N -e 'SELECT COUNT(*) FROM shop.items' 2>&1)" "3"
t_end

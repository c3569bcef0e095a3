#!/usr/bin/env bash
# test_cluster_tls.sh: mutual TLS between the cluster's components
# (docs/operators-guide.md, "TLS between components"): certificates made
# at test time with the openssl CLI (a CA, one certificate for the
# components, and a rogue CA with its own); three pdd whose Raft traffic
# is TLS, three kvd, and sqld's cluster client, all with cluster-ssl-*;
# the SQL smoke test through the mariadb CLI; pdctl and kvctl with the
# certificates; a plaintext client, a TLS client without a certificate
# (openssl s_client) and one whose certificate another CA signed refused
# with a clear log line; bad settings refused at start.
. "$(dirname "$0")/lib.sh"

t_pick_base 26400 26780
BASE=$T_BASE
port() { echo $((BASE + $1)); }
PD="127.0.0.1:$(port 11),127.0.0.1:$(port 12),127.0.0.1:$(port 13)"
PDM="pd1=127.0.0.1:$(port 11),pd2=127.0.0.1:$(port 12),pd3=127.0.0.1:$(port 13)"
PEERS="1@127.0.0.1:$(port 1),2@127.0.0.1:$(port 2),3@127.0.0.1:$(port 3)"
SQLPORT=$(port 15)
C=$T_TMP/certs
TLS=(--cluster-ssl-ca="$C/ca.pem" --cluster-ssl-cert="$C/node.pem"
     --cluster-ssl-key="$C/node.key")
PDCTL=("$BIN/pdctl" "--pd=$PD" --timeout=20000 "${TLS[@]}")

# mkca NAME; mkleaf CA NAME: P-256 keys, certificates valid two days.
mkca() {
    openssl ecparam -name prime256v1 -genkey -noout -out "$C/$1.key" &&
    openssl req -x509 -new -key "$C/$1.key" -subj "/CN=$1" -days 2 \
        -sha256 -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$C/$1.pem"
}
mkleaf() {
    printf 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n' \
        >"$C/$2.ext" &&
    openssl ecparam -name prime256v1 -genkey -noout -out "$C/$2.key" &&
    openssl req -new -key "$C/$2.key" -subj "/CN=$2" -out "$C/$2.csr" &&
    openssl x509 -req -in "$C/$2.csr" -CA "$C/$1.pem" -CAkey "$C/$1.key" \
        -CAcreateserial -days 2 -sha256 -extfile "$C/$2.ext" -out "$C/$2.pem"
}

t_case "test certificates made with openssl"
mkdir -p "$C"
if ! command -v openssl >/dev/null; then
    t_fail "the openssl CLI is missing (Debian package openssl)"
    t_end; exit 1
fi
{ mkca ca && mkleaf ca node && mkca rogueca && mkleaf rogueca rogue; } \
    >"$T_TMP/openssl.out" 2>&1 || t_fail "openssl: $(cat "$T_TMP/openssl.out")"
openssl verify -CAfile "$C/ca.pem" "$C/node.pem" >/dev/null ||
    t_fail "node.pem does not verify against ca.pem"

t_case "bad cluster TLS settings are refused at start"
"$BIN/pdd" --data-dir="$T_TMP/bad" --listen=127.0.0.1:$(port 19) \
    --cluster-ssl-ca="$C/ca.pem" 2>"$T_TMP/err"; rc=$?
t_expect_eq "exit" "$rc" 2
t_expect_grep "message" "cluster TLS needs all of cluster-ssl-ca, cluster-ssl-cert and cluster-ssl-key (missing: cluster-ssl-cert cluster-ssl-key)" "$T_TMP/err"
"$BIN/kvd" --data-dir="$T_TMP/bad2" --listen=127.0.0.1:$(port 19) \
    --cluster-ssl-ca="$C/ca.pem" --cluster-ssl-cert="$C/node.pem" \
    --cluster-ssl-key="$C/rogue.key" 2>"$T_TMP/err"; rc=$?
t_expect_eq "mismatched key exit" "$rc" 2
t_expect_grep "mismatched key message" "cluster TLS:" "$T_TMP/err"

t_case "pdd x3, kvd x3 with mutual TLS: stores register, region 1 led"
for i in 1 2 3; do
    "$BIN/pdd" --name=pd$i --listen=127.0.0.1:$(port $((10 + i))) \
        --initial-members="$PDM" --data-dir="$T_TMP/pd$i" \
        --log.file="$T_TMP/pd$i.log" --raft.tick=50ms "${TLS[@]}" &
    T_PIDS+=($!)
done
for i in 1 2 3; do
    "$BIN/kvd" --data-dir="$T_TMP/kvd$i" --store-id="$i" \
        --listen="127.0.0.1:$(port "$i")" --peers="$PEERS" \
        --initial-stores=1,2,3 --raft.tick-interval=50ms \
        --pd="$PD" --pd.heartbeat-interval=200ms \
        --log.file="$T_TMP/kvd$i.log" "${TLS[@]}" &
    T_PIDS+=($!)
done
stores_up() { "${PDCTL[@]}" store 2>/dev/null | grep -c ' state up'; }
got=$(t_wait_output 3 90 stores_up) || t_fail "stores up: '$got'"
t_expect_grep "pdd says TLS" "(mutual TLS: peers need a certificate from cluster-ssl-ca)" "$T_TMP/pd1.log"
t_expect_grep "kvd says TLS" "(mutual TLS: peers need a certificate from cluster-ssl-ca)" "$T_TMP/kvd1.log"
leader=""
for _ in $(seq 1 300); do
    leader=$("${PDCTL[@]}" region 2>/dev/null | sed -n 's/^region 1 .* leader \([0-9]*\) .*/\1/p')
    [ -n "$leader" ] && [ "$leader" != 0 ] && break
    sleep 0.2
done
[ -n "$leader" ] && [ "$leader" != 0 ] || t_fail "region 1 has no leader in pdd"

t_case "kvctl with the certificates writes and reads through the cluster"
CTL=("$BIN/kvd" ctl "--pd=$PD" --timeout=60 "${TLS[@]}")
out=$("${CTL[@]}" put tls-key tls-value 2>&1) || t_fail "put: $out"
t_expect_eq "get" "$("${CTL[@]}" get tls-key 2>&1)" "tls-value"

t_case "sqld's cluster client over TLS runs the SQL smoke test"
"$BIN/sqld" --data-dir="$T_TMP/sqld" --log.file="$T_TMP/sqld.log" \
    --listen="127.0.0.1:$SQLPORT" --store=cluster --pd="$PD" "${TLS[@]}" \
    --status-listen="127.0.0.1:$(port 17)" &
T_PIDS+=($!)
t_wait_for_grep "serving MySQL on" "$T_TMP/sqld.log" 90 ||
    t_fail "sqld did not start"
t_expect_grep "sqld says TLS" "cluster TLS: pdd and kvd are reached with mutual TLS" "$T_TMP/sqld.log"
my() { mariadb -h 127.0.0.1 -P "$SQLPORT" -u root --connect-timeout=30 -N -e "$1" 2>&1; }
out=$(my "CREATE DATABASE t; CREATE TABLE t.acct (id INT PRIMARY KEY, name VARCHAR(20), bal INT, KEY (name));
INSERT INTO t.acct VALUES (1, 'ann', 100), (2, 'bob', 50), (3, 'cy', 25);
UPDATE t.acct SET bal = bal - 10 WHERE id = 1; UPDATE t.acct SET bal = bal + 10 WHERE id = 2;
DELETE FROM t.acct WHERE id = 3;
BEGIN; INSERT INTO t.acct VALUES (4, 'dee', 5); COMMIT;
SELECT id, name, bal FROM t.acct ORDER BY id; SELECT SUM(bal) FROM t.acct; SELECT name FROM t.acct WHERE name = 'bob';")
t_expect_eq "results" "$out" "$(printf '1\tann\t90\n2\tbob\t60\n4\tdee\t5\n155\nbob')"
# point selects by key: read on sqld's loop thread, over its own TLS
# connection to the leader (after the first, which a worker's read
# through the transport answers and so warms the region cache)
out=$(my "SELECT bal FROM t.acct WHERE id = 2; SELECT bal FROM t.acct WHERE id = 4; SELECT bal FROM t.acct WHERE id = 3; SELECT bal FROM t.acct WHERE id = 1")
t_expect_eq "point selects" "$out" "$(printf '60\n5\n90')"
loop=$(curl -s "http://127.0.0.1:$(port 17)/status" | sed -n 's/.*"point_reads_loop": *\([0-9]*\).*/\1/p')
[ "${loop:-0}" -ge 1 ] || t_fail "no point read answered on the loop thread over TLS (${loop:-none})"

t_case "a plaintext client is refused, with a clear line in the log"
out=$("$BIN/pdctl" --pd="127.0.0.1:$(port 11)" --timeout=1000 tso 2>&1); rc=$?
t_expect_eq "pdctl exit" "$rc" 1
case "$out" in "pdctl: cannot reach pd at 127.0.0.1:$(port 11): "*) ;;
    *) t_fail "pdctl without certificates: $out";; esac
t_wait_for_grep "the peer does not speak TLS" "$T_TMP/pd1.log" 30 ||
    t_fail "no refusal logged by pd1"
grep -q "WARN  pdd: rpc: librpc: closing connection .*the peer does not speak TLS" "$T_TMP/pd1.log" ||
    t_fail "the refusal is not a WARN line"
out=$("$BIN/kvd" ctl --addr="127.0.0.1:$(port 1)" --timeout=2 get tls-key 2>&1); rc=$?
[ "$rc" != 0 ] || t_fail "kvctl without certificates read: $out"
t_wait_for_grep "the peer does not speak TLS" "$T_TMP/kvd1.log" 30 ||
    t_fail "no refusal logged by kvd1"

t_case "a certificate from another CA is refused on both sides"
out=$("$BIN/pdctl" --pd="127.0.0.1:$(port 11)" --timeout=1000 \
    --cluster-ssl-ca="$C/rogueca.pem" --cluster-ssl-cert="$C/rogue.pem" \
    --cluster-ssl-key="$C/rogue.key" tso 2>&1); rc=$?
t_expect_eq "rogue exit" "$rc" 1
case "$out" in *"The certificate is not correctly signed by the trusted CA"*) ;;
    *) t_fail "rogue client, its own verdict: $out";; esac
out=$("$BIN/pdctl" --pd="127.0.0.1:$(port 11)" --timeout=1000 \
    --cluster-ssl-ca="$C/ca.pem" --cluster-ssl-cert="$C/rogue.pem" \
    --cluster-ssl-key="$C/rogue.key" tso 2>&1); rc=$?
t_expect_eq "rogue cert exit" "$rc" 1
t_wait_for_grep "peer certificate rejected: The certificate is not correctly signed by the trusted CA" "$T_TMP/pd1.log" 30 ||
    t_fail "pd1 logged no rejected certificate"

t_case "a TLS client without a certificate is refused (openssl s_client)"
out=$(timeout 30 openssl s_client -connect "127.0.0.1:$(port 12)" \
    -CAfile "$C/ca.pem" -tls1_2 </dev/null 2>&1); rc=$?
[ "$rc" != 0 ] || t_fail "s_client without a certificate got through: $out"
case "$out" in *"alert handshake failure"*) ;;
    *) t_fail "no handshake_failure alert: $out";; esac
t_wait_for_grep "peer certificate rejected: the client sent none" "$T_TMP/pd2.log" 30 ||
    t_fail "pd2 logged no refusal of a certificate-less client"

t_case "sqld without the cluster certificates cannot reach pdd"
"$BIN/sqld" --data-dir="$T_TMP/sqld2" --log.file="$T_TMP/sqld2.log" \
    --listen="127.0.0.1:$(port 16)" --store=cluster --pd="$PD" &
p=$!; T_PIDS+=("$p")
t_wait_exit "$p" 90 || t_fail "sqld without certificates kept running"
t_expect_eq "exit status" "$T_RC" 1
t_expect_grep "reason" "cannot open the cluster store: cannot reach pdd" "$T_TMP/sqld2.log"
t_end

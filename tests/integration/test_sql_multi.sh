#!/usr/bin/env bash
# test_sql_multi.sh: two sqld on one cluster (ports in 23400-23780; one
# pdd, one kvd): DDL through sqld A is seen by sqld B; a transaction on B
# that wrote a table A then altered fails its COMMIT with 8028 and writes
# nothing; CREATE INDEX on A while B runs a write loop (inserts, updates
# of the indexed column, deletes) ends with ADMIN CHECK TABLE passing on
# both and B's EXPLAIN using the new index; a unique index over duplicate
# values fails with 1062 and is gone on both (libsql/DESIGN.md "Schema
# changes across servers").
. "$(dirname "$0")/lib.sh"

t_pick_base 23400 23780
BASE=$T_BASE
port() { echo $((BASE + $1)); }
PD="127.0.0.1:$(port 11)"
PDCTL=("$BIN/pdctl" "--pd=$PD" --timeout=20000)
LEASE=200

stores_up() { "${PDCTL[@]}" store 2>/dev/null | grep -c ' state up'; }

start_sqld() { # start_sqld NAME PORT
    "$BIN/sqld" --data-dir="$T_TMP/sqld$1" --log.file="$T_TMP/sqld$1.log" \
        --listen="127.0.0.1:$2" --store=cluster --pd="$PD" \
        --schema-lease="$LEASE" &
    T_PIDS+=("$!")
}

t_case "the cluster starts: pdd, one kvd, two sqld"
"$BIN/pdd" --name=pd1 --listen="$PD" --initial-members="pd1=$PD" \
    --data-dir="$T_TMP/pd1" --log.file="$T_TMP/pd1.log" --raft.tick=50ms &
T_PIDS+=("$!")
"$BIN/kvd" --data-dir="$T_TMP/kvd1" --store-id=1 \
    --listen="127.0.0.1:$(port 1)" --peers="1@127.0.0.1:$(port 1)" \
    --initial-stores=1 --raft.tick-interval=50ms \
    --pd="$PD" --pd.heartbeat-interval=200ms --log.file="$T_TMP/kvd1.log" &
T_PIDS+=("$!")
got=$(t_wait_output 1 60 stores_up) || t_fail "stores up: '$got'"
PA=$(port 15)
PB=$(port 16)
# One after the other: two sqld that both find a fresh store both create
# its root account, and one of them fails on the conflict (acct.c).
for n in a b; do
    [ "$n" = a ] && start_sqld a "$PA" || start_sqld b "$PB"
    t_wait_for_grep "serving MySQL on" "$T_TMP/sqld$n.log" 60 ||
        t_fail "sqld $n did not start"
done

/usr/bin/python3 - "$PA" "$PB" >"$T_TMP/multi.out" 2>&1 <<'PY'
import random, sys, threading, time
import pymysql

pa, pb = int(sys.argv[1]), int(sys.argv[2])

def conn(port):
    return pymysql.connect(host="127.0.0.1", port=port, user="root",
                           connect_timeout=30, read_timeout=300,
                           autocommit=True)

def q(c, sql):
    cur = c.cursor()
    try:
        cur.execute(sql)
        return "|".join(",".join(str(v) for v in r) for r in cur.fetchall())
    except pymysql.MySQLError as e:
        return "ERR %d" % e.args[0]

def out(key, val):
    print("%s=%s" % (key, val), flush=True)

a, b = conn(pa), conn(pb)
q(a, "CREATE DATABASE m")
q(a, "USE m")
q(b, "USE m")

# DDL through A, seen by B (and back). Timings are printed, not checked.
t0 = time.time()
q(a, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
out("ms_create_table_b_idle", int((time.time() - t0) * 1000))
q(a, "INSERT INTO t VALUES (1, 10), (2, 20)")
out("seen", q(b, "SELECT id, v FROM t ORDER BY id"))
q(b, "ALTER TABLE t ADD COLUMN c INT DEFAULT 7")
out("seen_back", q(a, "SELECT id, v, c FROM t ORDER BY id"))

# A stale transaction on B fails with 8028 and writes nothing.
q(b, "BEGIN")
q(b, "INSERT INTO t VALUES (3, 30, 3)")
q(a, "ALTER TABLE t ADD COLUMN e INT")
out("stale_commit", q(b, "COMMIT"))
out("stale_rows", q(a, "SELECT COUNT(*) FROM t"))

# CREATE INDEX on A while B writes.
q(a, "CREATE TABLE w (id INT PRIMARY KEY, v INT, s VARCHAR(20))")
q(a, "INSERT INTO w VALUES " +
  ",".join("(%d,%d,'s%d')" % (i, i % 37, i) for i in range(1, 2001, 2)))
stop = threading.Event()
stats = {"ok": 0, "retry": 0, "bad": []}

def writer():
    c = conn(pb)
    q(c, "USE m")
    rnd = random.Random(5)
    while not stop.is_set() or stats["ok"] < 50:
        i = rnd.randint(1, 2000)
        k = rnd.randint(0, 3)
        if k == 0:
            sql = "INSERT INTO w VALUES (%d, %d, 's%d')" % (i, i % 41, i)
        elif k == 1:
            sql = "UPDATE w SET v = %d WHERE id = %d" % (rnd.randint(0, 50), i)
        elif k == 2:
            sql = "DELETE FROM w WHERE id = %d" % i
        else:
            sql = "REPLACE INTO w VALUES (%d, %d, 'r%d')" % (i, i % 13, i)
        r = q(c, sql)
        if not r.startswith("ERR"):
            stats["ok"] += 1
        elif r in ("ERR 1062", "ERR 1213", "ERR 1205", "ERR 8028",
                   "ERR 9007"):
            stats["retry"] += 1
            stats[r] = stats.get(r, 0) + 1
        else:
            stats["bad"].append("%s -> %s" % (sql, r))

th = threading.Thread(target=writer)
th.start()
time.sleep(0.5)
t0 = time.time()
out("add_index", q(a, "CREATE INDEX iv ON w (v)") or "OK")
out("ms_create_index_b_writing", int((time.time() - t0) * 1000))
out("add_unique", q(a, "ALTER TABLE w ADD UNIQUE INDEX us (s)") or "OK")
stop.set()
th.join()
out("writer_bad", ";".join(stats["bad"][:3]))
out("writer_counts", "%d ok, %d retryable (%s)" % (
    stats["ok"], stats["retry"],
    " ".join("%s: %d" % (k[4:], v) for k, v in sorted(stats.items())
             if k.startswith("ERR"))))
out("writer_wrote", "yes" if stats["ok"] >= 50 else "no: %d" % stats["ok"])
out("check_a", q(a, "ADMIN CHECK TABLE w") or "OK")
out("check_b", q(b, "ADMIN CHECK TABLE w") or "OK")
plan = q(b, "EXPLAIN SELECT id FROM w WHERE v = 5")
out("explain_b", "iv" if "iv" in plan else plan)
n_all = q(b, "SELECT COUNT(*) FROM w IGNORE INDEX (iv) WHERE v + 0 = 5")
n_idx = q(b, "SELECT COUNT(*) FROM w WHERE v = 5")
out("same_count", "yes" if n_all == n_idx else "%s vs %s" % (n_all, n_idx))

# A unique index over duplicates fails and is gone on both.
q(a, "CREATE TABLE d (id INT PRIMARY KEY, v INT)")
q(a, "INSERT INTO d VALUES (1, 5), (2, 6), (3, 5)")
out("dup", q(a, "CREATE UNIQUE INDEX uv ON d (v)"))
out("dup_gone_b", q(b, "SELECT COUNT(*) FROM information_schema.STATISTICS "
                       "WHERE TABLE_NAME = 'd' AND INDEX_NAME = 'uv'"))
out("dup_insert_b", q(b, "INSERT INTO d VALUES (4, 5)") or "OK")
out("drop_index_b", q(b, "DROP INDEX iv ON w") or "OK")
plan = q(a, "EXPLAIN SELECT id FROM w WHERE v = 5")
out("explain_a_dropped", "iv" if "iv" in plan else "no iv")
out("check_after_drop", q(a, "ADMIN CHECK TABLE w") or "OK")
out("done", "yes")
PY
R=$T_TMP/multi.out
val() { sed -n "s/^$1=//p" "$R"; }

echo "    info: lease ${LEASE} ms; CREATE TABLE with B idle $(val ms_create_table_b_idle) ms;" \
    "CREATE INDEX on 1000 rows while B writes $(val ms_create_index_b_writing) ms;" \
    "B's writes: $(val writer_counts)"

t_case "a table created and altered through one sqld is used through the other"
t_expect_eq "B reads A's table" "$(val seen)" "1,10|2,20"
t_expect_eq "A reads B's column" "$(val seen_back)" "1,10,7|2,20,7"

t_case "a transaction that wrote a table altered meanwhile fails with 8028"
t_expect_eq "COMMIT on B" "$(val stale_commit)" "ERR 8028"
t_expect_eq "rows" "$(val stale_rows)" "2"

t_case "CREATE INDEX on A while B writes: consistent, used by B"
t_expect_eq "CREATE INDEX" "$(val add_index)" "OK"
t_expect_eq "ADD UNIQUE INDEX" "$(val add_unique)" "OK"
t_expect_eq "writer errors" "$(val writer_bad)" ""
t_expect_eq "writer wrote" "$(val writer_wrote)" "yes"
t_expect_eq "ADMIN CHECK TABLE on A" "$(val check_a)" "OK"
t_expect_eq "ADMIN CHECK TABLE on B" "$(val check_b)" "OK"
t_expect_eq "EXPLAIN on B" "$(val explain_b)" "iv"
t_expect_eq "index and table agree" "$(val same_count)" "yes"

t_case "a unique index over duplicates fails with 1062 and is gone"
t_expect_eq "CREATE UNIQUE INDEX" "$(val dup)" "ERR 1062"
t_expect_eq "index on B" "$(val dup_gone_b)" "0"
t_expect_eq "duplicate insert on B" "$(val dup_insert_b)" "OK"

t_case "DROP INDEX on B: A stops using it, the table checks"
t_expect_eq "DROP INDEX" "$(val drop_index_b)" "OK"
t_expect_eq "EXPLAIN on A" "$(val explain_a_dropped)" "no iv"
t_expect_eq "ADMIN CHECK TABLE" "$(val check_after_drop)" "OK"
t_expect_eq "script finished" "$(val done)" "yes"
[ "$(val done)" = "yes" ] || sed 's/^/      /' "$R"

t_end

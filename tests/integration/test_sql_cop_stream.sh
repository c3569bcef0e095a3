#!/usr/bin/env bash
# test_sql_cop_stream.sh: the coprocessor's streamed answers, descending
# scans and covering projections on a real cluster (ports in 17000-17980):
# one pdd, three kvd splitting regions every 64 KiB written, sqld on them,
# a table of 6000 rows. Each query answers the same with
# tidb_allow_coprocessor on and off, and kvd's debug log (running totals
# of answers, rows and bytes sent) shows what travelled: every row once
# in answers of at most 1024 rows; exactly offset + count rows for a LIMIT
# the pushed filter serves; two rounds of answers at most when sqld's own
# filter finishes a LIMIT early; a descending LIMIT's rows from the top region;
# fewer bytes when a projection leaves columns behind. The figures it
# prints are in libsql/DESIGN.md, "Coprocessor".
. "$(dirname "$0")/lib.sh"

t_pick_base 17000 17980
BASE=$T_BASE
port() { echo $((BASE + $1)); }
PEERS="1@127.0.0.1:$(port 1),2@127.0.0.1:$(port 2),3@127.0.0.1:$(port 3)"
PD="127.0.0.1:$(port 11)"
PDCTL=("$BIN/pdctl" "--pd=$PD" --timeout=20000)
SQLPORT=$(port 15)

stores_up() { "${PDCTL[@]}" store 2>/dev/null | grep -c ' state up'; }

t_case "the cluster starts: pdd, three kvd, sqld"
"$BIN/pdd" --name=pd1 --listen="$PD" --initial-members="pd1=$PD" \
    --data-dir="$T_TMP/pd1" --log.file="$T_TMP/pd1.log" --raft.tick=50ms &
T_PIDS+=("$!")
for i in 1 2 3; do
    "$BIN/kvd" --data-dir="$T_TMP/kvd$i" --store-id="$i" \
        --listen="127.0.0.1:$(port "$i")" --peers="$PEERS" \
        --initial-stores=1,2,3 --raft.tick-interval=50ms \
        --pd="$PD" --pd.heartbeat-interval=200ms \
        --split.region-size=64KiB --log.level=debug \
        --log.file="$T_TMP/kvd$i.log" &
    T_PIDS+=("$!")
done
got=$(t_wait_output 3 60 stores_up) || t_fail "stores up: '$got'"
"$BIN/sqld" --data-dir="$T_TMP/sqld" --log.file="$T_TMP/sqld.log" \
    --listen="127.0.0.1:$SQLPORT" --store=cluster --pd="$PD" &
T_PIDS+=("$!")
t_wait_for_grep "serving MySQL on" "$T_TMP/sqld.log" 60 ||
    t_fail "sqld did not start"

/usr/bin/python3 - "$SQLPORT" "$T_TMP" >"$T_TMP/stream.out" 2>&1 <<'PY'
import re, sys
import pymysql

port, tmp = int(sys.argv[1]), sys.argv[2]
c = pymysql.connect(host="127.0.0.1", port=port, user="root",
                    connect_timeout=30, read_timeout=300, autocommit=True)
cur = c.cursor()

def sent():
    """(answers, rows, bytes sent) summed over the kvd's running totals."""
    answers = rows = nbytes = 0
    for i in (1, 2, 3):
        last = None
        with open("%s/kvd%d.log" % (tmp, i), errors="replace") as f:
            for line in f:
                if "cop: answer" in line:
                    last = line
        if last:
            m = re.search(r"totals (\d+) answers, \d+ keys read, (\d+) rows "
                          r"sent(?:, (\d+) bytes)?", last)
            answers += int(m.group(1))
            rows += int(m.group(2))
            nbytes += int(m.group(3) or 0)
    return answers, rows, nbytes

def run(sql, cop):
    cur.execute("SET tidb_allow_coprocessor = %d" % (1 if cop else 0))
    a0, r0, b0 = sent()
    cur.execute(sql)
    got = cur.fetchall()
    a1, r1, b1 = sent()
    return got, a1 - a0, r1 - r0, b1 - b0

def case(name, ok, detail=""):
    print("CASE %s:" % name, "OK" if ok else "DIFF " + detail)
    sys.stdout.flush()

def check(sql):
    """sql's answer on and off, and what the "on" run shipped."""
    on, answers, rows, nbytes = run(sql, True)
    off, _, rows_off, _ = run(sql, False)
    print("query %r: %d answers, %d rows, %d bytes sent (off: %d rows)" %
          (sql, answers, rows, nbytes, rows_off))
    case("same " + sql, on == off, "on %r off %r" % (on[:3], off[:3]))
    return on, answers, rows, nbytes

cur.execute("CREATE DATABASE streamdb")
cur.execute("USE streamdb")
cur.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(20), "
            "c DOUBLE, pad VARCHAR(40))")
N = 6000
for s in range(0, N, 500):
    rows = []
    for i in range(s + 1, s + 501):
        a = "NULL" if i % 10 == 0 else str(i % 7)
        rows.append("(%d, %s, 's%d', %d.5, '%s')" %
                    (i, a, i % 5, i % 11, "p" * (20 + i % 20)))
    cur.execute("INSERT INTO t VALUES " + ",".join(rows))
a3 = sum(1 for i in range(1, N + 1) if i % 10 != 0 and i % 7 == 3)

# every row once, in answers of at most 1024 rows
got, answers, rows, _ = check("SELECT id FROM t WHERE c >= 0")
case("every row once", rows == N and len(got) == N and
     answers >= (N + 1023) // 1024, "%d answers %d rows" % (answers, rows))
# a LIMIT the pushed filter serves alone: exactly offset + count rows
got, answers, rows, _ = check("SELECT id FROM t WHERE c >= 0 LIMIT 1000, 500")
case("limit ships offset + count", rows == 1500 and len(got) == 500,
     "%d rows" % rows)
# sqld finishes the filter: the first round of answers (a piece each, at
# most 4) serves the LIMIT; taking the chunk started one more round (at
# most 4 answers) and nothing more is asked for
cur.execute("SET @v = 10")
got, answers, rows, _ = check("SELECT id FROM t WHERE c >= 0 AND id > @v "
                              "LIMIT 5")
case("an early stop asks no more", [r[0] for r in got] == [11, 12, 13, 14, 15]
     and answers <= 8,
     "%d answers %d rows" % (answers, rows))
# descending: from the top region down
cur.execute("SET tidb_allow_coprocessor = 1")
cur.execute("EXPLAIN SELECT id FROM t WHERE a = 3 ORDER BY id DESC LIMIT 4")
text = "\n".join(" ".join(str(x) for x in r) for r in cur.fetchall())
case("explain desc", "cop[kvd]" in text and "pushed:(a = 3)" in text, text)
want = [i for i in range(N, 0, -1) if i % 10 != 0 and i % 7 == 3]
got, answers, rows, _ = check("SELECT id FROM t WHERE a = 3 ORDER BY id "
                              "DESC LIMIT 4")
case("desc limit", [r[0] for r in got] == want[:4] and rows == 4 and
     answers <= 2, "%r %d answers %d rows" % (got, answers, rows))
got, answers, rows, _ = check("SELECT id FROM t WHERE a = 3 ORDER BY id DESC")
case("desc all", [r[0] for r in got] == want and rows == a3,
     "%d answers %d rows" % (answers, rows))
# covering projections: the same rows, fewer bytes
cur.execute("SET tidb_allow_coprocessor = 1")
cur.execute("EXPLAIN SELECT b FROM t WHERE a = 3")
text = "\n".join(" ".join(str(x) for x in r) for r in cur.fetchall())
case("explain columns", "columns: a, b" in text, text)
_, _, rows_all, bytes_all = check("SELECT * FROM t WHERE a = 3")
_, _, rows_b, bytes_b = check("SELECT b FROM t WHERE a = 3")
case("projection ships less", rows_all == a3 and rows_b == a3 and
     0 < bytes_b < bytes_all / 2, "%d vs %d bytes" % (bytes_b, bytes_all))
# aggregates merge answer by answer
got, answers, rows, _ = check("SELECT a, COUNT(*), SUM(c) FROM t "
                              "WHERE c > 3 GROUP BY a ORDER BY a")
case("agg", len(got) == 8 and answers > 0, "%r" % (got,))
PY
rc=$?
cat "$T_TMP/stream.out"
t_case "the query script exits 0"
t_expect_eq "exit status" "$rc" 0
while IFS= read -r line; do
    case "$line" in
    "CASE "*)
        name="${line#CASE }"
        t_case "${name% OK}"
        case "$line" in *" OK") ;; *) t_fail "$line";; esac
        ;;
    esac
done <"$T_TMP/stream.out"

t_case "regions split: more than 2 in pdd's map"
nr=$("${PDCTL[@]}" region 2>/dev/null | grep -c '^region ')
[ "${nr:-0}" -gt 2 ] || t_fail "regions: '$nr'"
t_end

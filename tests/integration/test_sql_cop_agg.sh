#!/usr/bin/env bash
# test_sql_cop_agg.sh: aggregates and top-N next to the data on a real
# cluster (ports in 24200-24580): one pdd, three kvd splitting regions
# every 8 KiB written, sqld on them. Over a table of 3000 rows in many
# regions, each query answers the same (values and column types) with
# tidb_allow_coprocessor on and off, EXPLAIN says what is pushed, and the
# rows kvd sent (its debug log's running totals) are one partial row per
# group per answer, or at most offset + count per answer for a top-N,
# never the table's rows; an index range scan's pushed conditions send
# only the entries they accept.
. "$(dirname "$0")/lib.sh"

t_cluster_ports 24200 24580
T_KVD_ARGS=(--split.region-size=8KiB --log.level=debug)

t_case "the cluster starts: pdd, three kvd, sqld"
t_start_cluster

/usr/bin/python3 - "$SQLPORT" "$T_TMP" >"$T_TMP/agg.out" 2>&1 <<'PY'
import re, sys
import pymysql

port, tmp = int(sys.argv[1]), sys.argv[2]
c = pymysql.connect(host="127.0.0.1", port=port, user="root",
                    connect_timeout=30, read_timeout=300, autocommit=True)
cur = c.cursor()

def sent():
    """(answers, rows sent) summed over the three kvd's running totals."""
    answers = rows = 0
    for i in (1, 2, 3):
        last = None
        with open("%s/kvd%d.log" % (tmp, i), errors="replace") as f:
            for line in f:
                if "cop: answer" in line:
                    last = line
        if last:
            m = re.search(r"totals (\d+) answers, \d+ keys read, (\d+) rows",
                          last)
            answers += int(m.group(1))
            rows += int(m.group(2))
    return answers, rows

def run(sql, cop):
    cur.execute("SET tidb_allow_coprocessor = %d" % (1 if cop else 0))
    a0, r0 = sent()
    cur.execute(sql)
    got = cur.fetchall()
    desc = [d[1:] for d in cur.description]  # type, sizes, decimals, null
    a1, r1 = sent()
    return got, desc, a1 - a0, r1 - r0

def case(name, ok, detail=""):
    print("CASE %s:" % name, "OK" if ok else "DIFF " + detail)
    sys.stdout.flush()

cur.execute("CREATE DATABASE aggdb")
cur.execute("USE aggdb")
cur.execute("CREATE TABLE t (id INT PRIMARY KEY, a INT, b VARCHAR(20), "
            "c DOUBLE, d DECIMAL(10,3), u BIGINT UNSIGNED)")
N = 3000
for s in range(0, N, 500):
    rows = []
    for i in range(s + 1, s + 501):
        a = "NULL" if i % 10 == 0 else str(i % 7)
        b = "NULL" if i % 13 == 0 else "'s%d'" % (i % 5)
        rows.append("(%d, %s, %s, %d.5, %d.125, %d)" %
                    (i, a, b, i % 11, i % 97, i * 3))
    cur.execute("INSERT INTO t VALUES " + ",".join(rows))

# (query, kind, groups per answer at most or the top-N's n)
queries = [
    ("SELECT COUNT(*) FROM t", "agg", 1),
    ("SELECT COUNT(*), COUNT(a), SUM(a), AVG(a), MIN(b), MAX(b), SUM(c), "
     "AVG(c), SUM(d), AVG(d), MIN(d), MAX(u), SUM(u) FROM t", "agg", 1),
    ("SELECT COUNT(*), SUM(a) FROM t WHERE b = 's3' AND c > 2", "agg", 1),
    ("SELECT b, COUNT(*), SUM(d), AVG(a) FROM t GROUP BY b ORDER BY b",
     "agg", 6),
    ("SELECT a, b, MAX(c), MIN(id) FROM t WHERE id > 1000 GROUP BY a, b "
     "ORDER BY a, b", "agg", 48),
    ("SELECT a % 3 AS k, SUM(a + d) FROM t GROUP BY k HAVING SUM(a) > 10 "
     "ORDER BY k", "agg", 4),
    ("SELECT COUNT(*), SUM(a) FROM t WHERE a = 99", "agg", 0),
    ("SELECT id, c, d FROM t ORDER BY c DESC, d LIMIT 10", "topn", 10),
    ("SELECT id, b FROM t WHERE a = 2 ORDER BY b, id DESC LIMIT 5, 5",
     "topn", 10),
    ("SELECT id FROM t ORDER BY a, id LIMIT 3", "topn", 3),
]
for sql, kind, per in queries:
    on, don, answers, rows = run(sql, True)
    off, doff, _, rows_off = run(sql, False)
    print("query %r: %d answers, %d rows sent (off: %d)" %
          (sql, answers, rows, rows_off))
    case("same " + sql, on == off and don == doff,
         "on %r %r off %r %r" % (on[:3], don, off[:3], doff))
    case("shipped " + sql, answers > 0 and rows <= per * answers and
         rows_off == 0, "%d answers %d rows" % (answers, rows))

cur.execute("SET tidb_allow_coprocessor = 1")
cur.execute("EXPLAIN SELECT b, COUNT(*), SUM(a) FROM t WHERE a > 2 "
            "GROUP BY b")
text = "\n".join(" ".join(str(x) for x in r) for r in cur.fetchall())
case("explain agg", "cop[kvd]" in text and
     "agg: COUNT(*), SUM(a) group by b" in text and
     "pushed:(a > 2)" in text, text)
cur.execute("EXPLAIN SELECT id FROM t ORDER BY c DESC LIMIT 4")
text = "\n".join(" ".join(str(x) for x in r) for r in cur.fetchall())
case("explain topn", "topN: c:desc, count per region" in text, text)
# not pushed: DISTINCT and GROUP_CONCAT aggregate in sqld (no cop call)
for sql in ("SELECT COUNT(DISTINCT a) FROM t",
            "SELECT GROUP_CONCAT(b) FROM t WHERE id < 5"):
    on, don, answers, rows = run(sql, True)
    off, doff, _, _ = run(sql, False)
    case("in sqld " + sql, on == off and don == doff and answers == 0,
         "%d answers" % answers)
# an index range: conditions on its columns go down, sqld reads the rows
# of the entries they accept (one per matching row)
cur.execute("CREATE INDEX ia ON t (a)")
sql = ("SELECT id, b FROM t FORCE INDEX (ia) WHERE a BETWEEN 2 AND 5 "
       "AND a <> 3 AND id % 3 = 0 ORDER BY id")
on, don, answers, rows = run(sql, True)
off, doff, _, _ = run(sql, False)
print("query %r: %d answers, %d rows sent" % (sql, answers, rows))
case("index scan " + sql, on == off and don == doff and answers > 0 and
     rows == len(off), "%d rows sent for %d" % (rows, len(off)))
# aggregates and top-N over the index's columns: entries, not rows
for sql, per in (("SELECT COUNT(*), SUM(a), MIN(id) FROM t FORCE INDEX (ia) "
                  "WHERE a BETWEEN 1 AND 3", 1),
                 ("SELECT a, COUNT(*) FROM t FORCE INDEX (ia) WHERE a > 2 "
                  "GROUP BY a ORDER BY a", 4),
                 ("SELECT id, c FROM t FORCE INDEX (ia) WHERE a > 1 "
                  "ORDER BY a DESC, id LIMIT 4", 4)):
    on, don, answers, rows = run(sql, True)
    off, doff, _, _ = run(sql, False)
    print("query %r: %d answers, %d rows sent" % (sql, answers, rows))
    case("over the index " + sql, on == off and don == doff and
         answers > 0 and rows <= per * answers,
         "%d answers %d rows" % (answers, rows))
PY
rc=$?
cat "$T_TMP/agg.out"
t_case "the query script exits 0"
t_expect_eq "exit status" "$rc" 0
t_cases_from "$T_TMP/agg.out"

t_case "regions split: more than 8 in pdd's map"
nr=$("${PDCTL[@]}" region 2>/dev/null | grep -c '^region ')
[ "${nr:-0}" -gt 8 ] || t_fail "regions: '$nr'"
t_end

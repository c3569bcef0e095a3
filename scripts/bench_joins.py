#!/usr/bin/env python3
# bench_joins.py SQLD_PORT MARIADB_PORT: the body of bench-joins.sh. Builds
# a small TPC-H-like dataset (eight tables, deterministic), loads it into
# both servers, runs TPC-H-shaped queries (joins of two to six tables,
# EXISTS / IN / NOT IN subqueries, aggregates, top-N) and a ten-table join
# on both, checks the answers are equal, and prints BENCH lines (see
# bench-joins.sh). Exit status 1 if any answer differs or a query fails.
import datetime
import os
import random
import sys
import time

import pymysql

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
ONLY = os.environ.get("BENCH_QUERIES", "").split()

SCHEMA = [
    "CREATE TABLE region (r_regionkey INT PRIMARY KEY, r_name VARCHAR(25))",
    "CREATE TABLE nation (n_nationkey INT PRIMARY KEY, n_name VARCHAR(25),"
    " n_regionkey INT, INDEX (n_regionkey))",
    "CREATE TABLE supplier (s_suppkey INT PRIMARY KEY, s_name VARCHAR(25),"
    " s_nationkey INT, s_acctbal DECIMAL(12,2), INDEX (s_nationkey))",
    "CREATE TABLE customer (c_custkey INT PRIMARY KEY, c_name VARCHAR(25),"
    " c_nationkey INT, c_acctbal DECIMAL(12,2), c_mktsegment CHAR(10),"
    " INDEX (c_nationkey))",
    "CREATE TABLE part (p_partkey INT PRIMARY KEY, p_name VARCHAR(55),"
    " p_brand CHAR(10), p_type VARCHAR(25), p_size INT,"
    " p_retailprice DECIMAL(12,2))",
    "CREATE TABLE partsupp (ps_id INT PRIMARY KEY, ps_partkey INT,"
    " ps_suppkey INT, ps_availqty INT, ps_supplycost DECIMAL(12,2),"
    " UNIQUE (ps_partkey, ps_suppkey))",
    "CREATE TABLE orders (o_orderkey INT PRIMARY KEY, o_custkey INT,"
    " o_orderstatus CHAR(1), o_totalprice DECIMAL(12,2), o_orderdate DATE,"
    " o_orderpriority CHAR(15), INDEX (o_custkey), INDEX (o_orderdate))",
    "CREATE TABLE lineitem (l_id INT PRIMARY KEY, l_orderkey INT,"
    " l_partkey INT, l_suppkey INT, l_quantity DECIMAL(12,2),"
    " l_extendedprice DECIMAL(12,2), l_discount DECIMAL(12,2),"
    " l_returnflag CHAR(1), l_linestatus CHAR(1), l_shipdate DATE,"
    " l_shipmode CHAR(10), INDEX (l_orderkey), INDEX (l_partkey))",
]

REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]
PRIORITIES = ["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]
MODES = ["AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"]
TYPES = ["ECONOMY", "LARGE", "MEDIUM", "PROMO", "SMALL", "STANDARD"]


def cents(rng, lo, hi):
    return "%d.%02d" % (rng.randint(lo, hi - 1), rng.randint(0, 99))


def generate():
    """Rows per table, from a fixed seed."""
    rng = random.Random(42)
    n_supp = max(5, int(20 * SCALE))
    n_cust = max(10, int(300 * SCALE))
    n_part = max(10, int(400 * SCALE))
    n_ord = max(20, int(1500 * SCALE))
    t = {}
    t["region"] = [(i, REGIONS[i]) for i in range(5)]
    t["nation"] = [(i, "NATION%02d" % i, i % 5) for i in range(25)]
    t["supplier"] = [(i, "Supplier#%04d" % i, rng.randrange(25),
                      cents(rng, -999, 9999)) for i in range(1, n_supp + 1)]
    t["customer"] = [(i, "Customer#%05d" % i, rng.randrange(25),
                      cents(rng, -999, 9999), rng.choice(SEGMENTS))
                     for i in range(1, n_cust + 1)]
    t["part"] = [(i, "part %d" % i, "Brand#%d%d" % (rng.randint(1, 5),
                                                      rng.randint(1, 5)),
                  rng.choice(TYPES) + " BRUSHED TIN", rng.randint(1, 50),
                  cents(rng, 900, 2000)) for i in range(1, n_part + 1)]
    ps = []
    for p in range(1, n_part + 1):
        for s in rng.sample(range(1, n_supp + 1), min(4, n_supp)):
            ps.append((len(ps) + 1, p, s, rng.randint(1, 9999),
                       cents(rng, 1, 1000)))
    t["partsupp"] = ps
    day0 = datetime.date(1992, 1, 1)
    orders, items = [], []
    for o in range(1, n_ord + 1):
        odate = day0 + datetime.timedelta(days=rng.randrange(2400))
        total = 0
        for _ in range(rng.randint(1, 7)):
            qty = rng.randint(1, 50)
            price = qty * rng.randint(900, 2000)
            total += price
            ship = odate + datetime.timedelta(days=rng.randint(1, 120))
            items.append((len(items) + 1, o, rng.randint(1, n_part),
                          rng.randint(1, n_supp), qty, price,
                          "0.%02d" % rng.randint(0, 10),
                          rng.choice("ANR"), rng.choice("FO"),
                          ship.isoformat(), rng.choice(MODES)))
        orders.append((o, rng.randint(1, n_cust), rng.choice("FOP"), total,
                       odate.isoformat(), rng.choice(PRIORITIES)))
    t["orders"] = orders
    t["lineitem"] = items
    return t


REV = "SUM(l_extendedprice * (1 - l_discount))"
QUERIES = [
    ("q1", "SELECT l_returnflag, l_linestatus, SUM(l_quantity),"
     " SUM(l_extendedprice), " + REV + ", COUNT(*) FROM lineitem"
     " WHERE l_shipdate <= '1998-09-01' GROUP BY l_returnflag, l_linestatus"
     " ORDER BY l_returnflag, l_linestatus"),
    ("q3", "SELECT l_orderkey, " + REV + " AS revenue, o_orderdate"
     " FROM customer, orders, lineitem WHERE c_mktsegment = 'BUILDING'"
     " AND c_custkey = o_custkey AND l_orderkey = o_orderkey"
     " AND o_orderdate < '1995-03-15' AND l_shipdate > '1995-03-15'"
     " GROUP BY l_orderkey, o_orderdate"
     " ORDER BY revenue DESC, o_orderdate, l_orderkey LIMIT 10"),
    ("q4", "SELECT o_orderpriority, COUNT(*) FROM orders"
     " WHERE o_orderdate >= '1993-07-01' AND o_orderdate < '1994-07-01'"
     " AND EXISTS (SELECT * FROM lineitem WHERE l_orderkey = o_orderkey"
     " AND l_shipdate > o_orderdate + INTERVAL 60 DAY)"
     " GROUP BY o_orderpriority ORDER BY o_orderpriority"),
    ("q5", "SELECT n_name, " + REV + " AS revenue"
     " FROM customer, orders, lineitem, supplier, nation, region"
     " WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey"
     " AND l_suppkey = s_suppkey AND c_nationkey = s_nationkey"
     " AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey"
     " AND r_name = 'ASIA' AND o_orderdate >= '1994-01-01'"
     " AND o_orderdate < '1996-01-01'"
     " GROUP BY n_name ORDER BY revenue DESC, n_name"),
    ("q10", "SELECT c_custkey, c_name, " + REV + " AS revenue, c_acctbal,"
     " n_name FROM customer, orders, lineitem, nation"
     " WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey"
     " AND o_orderdate >= '1993-10-01' AND o_orderdate < '1994-04-01'"
     " AND l_returnflag = 'R' AND c_nationkey = n_nationkey"
     " GROUP BY c_custkey, c_name, c_acctbal, n_name"
     " ORDER BY revenue DESC, c_custkey LIMIT 20"),
    ("q12", "SELECT l_shipmode, SUM(CASE WHEN o_orderpriority IN"
     " ('1-URGENT', '2-HIGH') THEN 1 ELSE 0 END) AS high,"
     " SUM(CASE WHEN o_orderpriority NOT IN ('1-URGENT', '2-HIGH')"
     " THEN 1 ELSE 0 END) AS low FROM orders, lineitem"
     " WHERE o_orderkey = l_orderkey AND l_shipmode IN ('MAIL', 'SHIP')"
     " AND l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01'"
     " GROUP BY l_shipmode ORDER BY l_shipmode"),
    ("q14", "SELECT SUM(CASE WHEN p_type LIKE 'PROMO%' THEN"
     " l_extendedprice * (1 - l_discount) ELSE 0 END), " + REV +
     " FROM lineitem, part WHERE l_partkey = p_partkey"
     " AND l_shipdate >= '1995-09-01' AND l_shipdate < '1995-12-01'"),
    ("q16", "SELECT p_brand, p_size, COUNT(DISTINCT ps_suppkey) AS cnt"
     " FROM partsupp, part WHERE p_partkey = ps_partkey"
     " AND p_brand <> 'Brand#45' AND p_size IN (49, 14, 23, 45, 19, 3, 36, 9)"
     " AND ps_suppkey NOT IN (SELECT s_suppkey FROM supplier"
     " WHERE s_acctbal < 0)"
     " GROUP BY p_brand, p_size ORDER BY cnt DESC, p_brand, p_size"),
    ("q18", "SELECT c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice,"
     " SUM(l_quantity) FROM customer, orders, lineitem"
     " WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem"
     " GROUP BY l_orderkey HAVING SUM(l_quantity) > 200)"
     " AND c_custkey = o_custkey AND o_orderkey = l_orderkey"
     " GROUP BY c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice"
     " ORDER BY o_totalprice DESC, o_orderdate, o_orderkey LIMIT 100"),
    ("q19", "SELECT " + REV + " FROM lineitem, part"
     " WHERE p_partkey = l_partkey AND ((p_brand = 'Brand#12'"
     " AND l_quantity BETWEEN 1 AND 11 AND p_size BETWEEN 1 AND 5)"
     " OR (p_brand = 'Brand#23' AND l_quantity BETWEEN 10 AND 20"
     " AND p_size BETWEEN 1 AND 10) OR (p_brand = 'Brand#34'"
     " AND l_quantity BETWEEN 20 AND 30 AND p_size BETWEEN 1 AND 15))"),
    ("join10", "SELECT r.r_name, COUNT(*) FROM nation n1"
     + "".join(" JOIN nation n%d ON n%d.n_nationkey = n%d.n_nationkey"
               % (i, i, i - 1) for i in range(2, 10))
     + " JOIN region r ON r.r_regionkey = n9.n_regionkey"
     " WHERE n1.n_nationkey < 20 GROUP BY r.r_name ORDER BY r.r_name"),
]


def connect(port):
    return pymysql.connect(host="127.0.0.1", port=port, user="root",
                           autocommit=True, connect_timeout=30,
                           read_timeout=600)


def load(conn, tables):
    cur = conn.cursor()
    cur.execute("DROP DATABASE IF EXISTS tpch")
    cur.execute("CREATE DATABASE tpch")
    cur.execute("USE tpch")
    for ddl in SCHEMA:
        cur.execute(ddl)
    for name, rows in tables.items():
        marks = ", ".join(["%s"] * len(rows[0]))
        sql = "INSERT INTO %s VALUES (%s)" % (name, marks)
        for i in range(0, len(rows), 500):
            cur.executemany(sql, rows[i:i + 500])


def timed(conn, sql):
    cur = conn.cursor()
    t0 = time.perf_counter()
    cur.execute(sql)
    rows = cur.fetchall()
    return (time.perf_counter() - t0) * 1000.0, rows


def main():
    sqld_port, mdb_port = int(sys.argv[1]), int(sys.argv[2])
    tables = generate()
    servers = {"sqld": connect(sqld_port), "mariadb": connect(mdb_port)}
    for name, conn in servers.items():
        t0 = time.perf_counter()
        load(conn, tables)
        print("BENCH join_load_s_%s %.2f s" % (name, time.perf_counter() - t0))
    # Both plan from statistics: MariaDB's persistent ones, sqld's
    # ANALYZE TABLE histograms (libsql DESIGN "Statistics").
    for conn in servers.values():
        cur = conn.cursor()
        cur.execute("ANALYZE TABLE " + ", ".join(tables))
        cur.fetchall()
    failed = False
    for qname, sql in QUERIES:
        if ONLY and qname not in ONLY:
            continue
        best, answer = {}, {}
        try:
            for _ in range(REPEAT):
                for name, conn in servers.items():
                    ms, rows = timed(conn, sql)
                    best[name] = min(best.get(name, ms), ms)
                    answer[name] = rows
        except pymysql.MySQLError as e:
            print("bench-joins: %s failed on %s: %s" % (qname, name, e),
                  file=sys.stderr)
            failed = True
            continue
        if answer["sqld"] != answer["mariadb"]:
            print("bench-joins: %s answers differ: sqld %r, mariadb %r"
                  % (qname, answer["sqld"][:5], answer["mariadb"][:5]),
                  file=sys.stderr)
            failed = True
        for name in servers:
            print("BENCH join_%s_ms_%s %.2f ms" % (qname, name, best[name]))
        print("BENCH join_%s_vs_mariadb %.3g x"
              % (qname, best["mariadb"] / max(best["sqld"], 1e-6)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

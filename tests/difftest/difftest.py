#!/usr/bin/env python3
# difftest.py: the differential tester of issue 8. From a seed it makes
# random single-table schemas, rows and statements, runs each statement on
# sqld and on MariaDB (Debian's package, started here on loopback unless
# ports are given) and reports every difference with a minimized, replayable
# reproduction. Known differences are normalized in one place (the
# normalization section: normalize_value, types_comparable).
# See tests/difftest/README.md for usage and FINDINGS.md for what it found.
import argparse
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unicodedata

import pymysql
from pymysql.constants import FIELD_TYPE

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("BUILD_DIR") or os.path.join(HERE, "..", "..",
                                                    "build", "default")
# The session both servers run in: the same sql_mode (MariaDB's default
# lacks ONLY_FULL_GROUP_BY, sqld's has it; generated GROUP BYs are full
# anyway) and utf8mb4_general_ci literals.
SQL_MODE = ("ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
            "NO_ENGINE_SUBSTITUTION")
TABLE_OPTS = "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"


# ---------------------------------------------------------------- servers

class Servers:
    """Starts MariaDB and/or sqld in a scratch directory when no port is
    given; stops what it started."""

    def __init__(self, args):
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix="difftest-")
        self.sqld_port = args.sqld_port
        self.mariadb_port = args.mariadb_port
        self.base_port = args.base_port
        self.sqld_bin = args.sqld or os.path.join(BUILD, "daemons", "bin",
                                                  "sqld")

    def start(self):
        if not self.mariadb_port:
            self._start_mariadb()
        if not self.sqld_port:
            self._start_sqld()

    def _start_mariadb(self):
        """mariadb-install-db into the scratch dir, then mariadbd on the
        first free port from --base-port, pinged through its own socket so
        another server on that port is never mistaken for it."""
        datadir = os.path.join(self.tmp, "mariadb")
        log = os.path.join(self.tmp, "mariadb.err")
        sock = os.path.join(self.tmp, "mariadb.sock")
        user = pwd_name()
        ilog = os.path.join(self.tmp, "install.log")
        # Once more on failure (a run of three seeds started together saw
        # one fail once and never again), then the log's error lines, which
        # its closing help text would otherwise push out of the tail.
        for attempt in (1, 2):
            shutil.rmtree(datadir, ignore_errors=True)
            with open(ilog, "w") as out:
                rc = subprocess.call(
                    ["mariadb-install-db", "--no-defaults",
                     "--datadir=" + datadir, "--user=" + user,
                     "--auth-root-authentication-method=normal",
                     "--skip-test-db"], stdout=out, stderr=subprocess.STDOUT)
            if rc == 0:
                break
        if rc != 0:
            raise RuntimeError("mariadb-install-db failed twice (exit %d):\n%s"
                               % (rc, error_lines(ilog) or tail(ilog)))
        mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        for port in range(self.base_port, self.base_port + 20):
            p = subprocess.Popen(
                [mariadbd, "--no-defaults", "--datadir=" + datadir,
                 "--user=" + user, "--bind-address=127.0.0.1",
                 "--port=%d" % port, "--socket=" + sock,
                 "--skip-grant-tables", "--skip-name-resolve",
                 "--innodb-buffer-pool-size=64M", "--log-error=" + log],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.procs.append(p)
            deadline = time.time() + 120
            while time.time() < deadline and p.poll() is None:
                try:
                    pymysql.connect(unix_socket=sock, user="root",
                                    connect_timeout=2).close()
                    self.mariadb_port = port
                    return
                except pymysql.MySQLError:
                    time.sleep(0.1)
            if p.poll() is None:
                break  # up but not answering: give up
        raise RuntimeError("MariaDB did not start; log %s:\n%s" %
                           (log, tail(log)))

    def _start_sqld(self):
        """sqld on port 0; its log names the port it got."""
        log = os.path.join(self.tmp, "sqld.log")
        p = subprocess.Popen(
            [self.sqld_bin, "--listen=127.0.0.1:0", "--store=local",
             "--data-dir=" + os.path.join(self.tmp, "sqld"),
             "--log.file=" + log],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        deadline = time.time() + 120
        while time.time() < deadline and p.poll() is None:
            try:
                with open(log) as f:
                    m = re.search(r"serving MySQL on 127\.0\.0\.1:(\d+)",
                                  f.read())
            except OSError:
                m = None
            if m:
                self.sqld_port = int(m.group(1))
                return
            time.sleep(0.1)
        raise RuntimeError("sqld did not start; log %s:\n%s" % (log,
                                                                tail(log)))

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def pwd_name():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


def error_lines(path, n=20):
    """The lines of a log that name an error, at most n of them."""
    try:
        with open(path, errors="replace") as f:
            return "".join([l for l in f if "error" in l.lower()][:n])
    except OSError:
        return ""


def tail(path, n=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------- results

class Result:
    """What one statement answered: rows (with column names and type
    classes), OK (affected rows) or an error code."""

    def __init__(self, kind, cols=None, rows=None, affected=None,
                 code=None, msg=None):
        self.kind = kind          # "rows", "ok", "err" or "lost"
        self.cols = cols or []    # [(name, type class)]
        self.rows = rows or []    # [tuple of str or None]
        self.affected = affected  # affected rows of an OK
        self.code = code          # error number of an ERR
        self.msg = msg            # error text of an ERR (not compared)

    def show(self, limit=20):
        if self.kind == "err":
            return "ERROR %s: %s" % (self.code, self.msg)
        if self.kind == "lost":
            return "CONNECTION LOST: %s" % self.msg
        if self.kind == "ok":
            return "OK, %s row(s) affected" % self.affected
        out = ["columns: " + ", ".join("%s:%s" % c for c in self.cols)]
        for r in self.rows[:limit]:
            out.append("  " + " | ".join("NULL" if v is None else repr(v)
                                         for v in r))
        if len(self.rows) > limit:
            out.append("  ... %d rows in all" % len(self.rows))
        return "\n".join(out)


# Type classes: what is compared of a column's type. Integer widths and
# display lengths are not (MySQL and MariaDB widen expression types
# differently); the class is.
TYPE_CLASS = {
    FIELD_TYPE.TINY: "int", FIELD_TYPE.SHORT: "int", FIELD_TYPE.LONG: "int",
    FIELD_TYPE.LONGLONG: "int", FIELD_TYPE.INT24: "int",
    FIELD_TYPE.YEAR: "int",
    FIELD_TYPE.DECIMAL: "decimal", FIELD_TYPE.NEWDECIMAL: "decimal",
    FIELD_TYPE.FLOAT: "float", FIELD_TYPE.DOUBLE: "double",
    FIELD_TYPE.VARCHAR: "string", FIELD_TYPE.VAR_STRING: "string",
    FIELD_TYPE.STRING: "string", FIELD_TYPE.BLOB: "string",
    FIELD_TYPE.TINY_BLOB: "string", FIELD_TYPE.MEDIUM_BLOB: "string",
    FIELD_TYPE.LONG_BLOB: "string",
    FIELD_TYPE.DATE: "date", FIELD_TYPE.NEWDATE: "date",
    FIELD_TYPE.DATETIME: "datetime", FIELD_TYPE.TIMESTAMP: "datetime",
    FIELD_TYPE.TIME: "time", FIELD_TYPE.NULL: "null",
}


class Conn:
    def __init__(self, name, port, db):
        self.name = name
        self.port = port
        self.db = db
        self.c = None
        self.connect()

    def connect(self):
        # conv={}: every value arrives as the server's text, so the
        # comparison sees exactly what each server printed.
        self.c = pymysql.connect(host="127.0.0.1", port=self.port,
                                 user="root", charset="utf8mb4", conv={},
                                 autocommit=True, read_timeout=60,
                                 write_timeout=60, connect_timeout=10)
        with self.c.cursor() as cur:
            cur.execute("CREATE DATABASE IF NOT EXISTS " + self.db)
            cur.execute("USE " + self.db)
            cur.execute("SET SESSION sql_mode='%s'" % SQL_MODE)

    def run(self, sql):
        try:
            with self.c.cursor() as cur:
                cur.execute(sql)
                if cur.description is None:
                    return Result("ok", affected=cur.rowcount)
                cols = [(d[0], TYPE_CLASS.get(d[1], "type%d" % d[1]))
                        for d in cur.description]
                rows = []
                for r in cur.fetchall():
                    rows.append(tuple(v.decode("utf-8", "replace")
                                      if isinstance(v, bytes) else v
                                      for v in r))
                return Result("rows", cols=cols, rows=rows)
        except pymysql.err.OperationalError as e:
            code = e.args[0] if e.args else 0
            if code in (2006, 2013, 2014, 2003) or not isinstance(code, int):
                return self._lost(e)
            return Result("err", code=code,
                          msg=" ".join(str(x) for x in e.args[1:]))
        except pymysql.MySQLError as e:
            if e.args and isinstance(e.args[0], int) and e.args[0] < 2000:
                return Result("err", code=e.args[0],
                              msg=" ".join(str(a) for a in e.args[1:]))
            return self._lost(e)
        except Exception as e:  # a protocol the client could not parse
            return self._lost(e)

    def _lost(self, e):
        """The connection broke: report it, and reconnect once; a server
        that takes no new connection ends the run (ServerGone)."""
        try:
            self.c.close()
        except Exception:
            pass
        try:
            self.connect()
        except Exception as e2:
            raise ServerGone("%s: connection lost (%s: %s) and no new one "
                             "(%s)" % (self.name, type(e).__name__, e, e2))
        return Result("lost", msg="%s: %s" % (type(e).__name__, e))


class ServerGone(Exception):
    pass


# ---------------------------------------------------------- normalization

def normalize_value(v, tclass, ci):
    """The one place where known, intended differences are smoothed over.
    Every rule says why; a rule hides nothing else."""
    if v is None:
        return None
    if tclass == "float":
        # FLOAT display: MariaDB rounds a single-precision value to 6
        # significant digits, sqld prints the shortest text that reads back
        # as the same float (libsql/DESIGN.md, "known difference").
        # -0 shows as 0: 0 and -0 are one GROUP BY/DISTINCT group, and
        # which member stands for it is unspecified. The 6 digits are the
        # float's exact value's (MariaDB's my_gcvt), not those of the
        # shortest text: 1000.135 is the float 1000.135009765625, 1000.14
        # in MariaDB (seed 702).
        try:
            f = struct.unpack("f", struct.pack("f", float(v)))[0]
            return "%.6g" % (f + 0.0)
        except (ValueError, OverflowError):
            return v
    if tclass == "double":
        # DOUBLE display: MariaDB prints a double with fixed decimals (the
        # result of ROUND, FLOOR, CEIL) in full digits, 1e30 as
        # '1000000000000000000000000000000', MySQL and sqld as '1e30'.
        # Compare the double each text denotes; a different value still
        # differs.
        try:
            return repr(float(v) + 0.0)  # -0 as 0, as for FLOAT
        except ValueError:
            return v
    if ci and tclass == "string":
        # A group (GROUP BY, DISTINCT, MIN/MAX) of values equal under
        # utf8mb4_general_ci ('a', 'A', 'a ', 'e', 'é') shows one of its
        # members, and which one is unspecified in MySQL: compare the
        # folded form (case, accents, trailing spaces).
        d = unicodedata.normalize("NFD", v.lower().rstrip(" "))
        return "".join(ch for ch in d if not unicodedata.combining(ch))
    return v


def types_comparable(a, b, i):
    """Whether column i's type classes are compared. A column of NULLs
    only (or typed NULL) has no comparable type: how a NULL literal types
    an expression (GREATEST(NULL, 1) * 2) is where MariaDB and MySQL
    differ, and no value can show it."""
    if "null" in (a.cols[i][1], b.cols[i][1]):
        return False
    return not all(r[i] is None for r in a.rows + b.rows)


def normalize(res, ci_cols):
    rows = []
    for r in res.rows:
        rows.append(tuple(normalize_value(v, res.cols[i][1] if i < len(res.cols)
                                          else "?", i in ci_cols)
                          for i, v in enumerate(r)))
    return rows


def sort_key(row):
    return tuple((0, "") if v is None else (1, v) for v in row)


# Error numbers where sqld follows MySQL 8 and MariaDB 10.11 answers
# another (FINDINGS.md F21): (mariadb, sqld) pairs taken as the same error.
# - 1111 "Invalid use of group function" against 1056 "Can't group on":
#   MySQL's setup_group raises ER_WRONG_GROUP_FIELD (1056) for an
#   aggregate in GROUP BY.
# - 1366 "Incorrect double value" against 1265 "Data truncated": MySQL's
#   Field_double::store warns WARN_DATA_TRUNCATED (1265) for a string that
#   is not a number, which strict mode makes the error.
SAME_ERROR = {(1111, 1056), (1366, 1265)}


def compare(a, b, ordered, ci_cols, check_types=True):
    """None when a (MariaDB) and b (sqld) agree, else why not."""
    if a.kind == "err" and a.code == 1054 and b.kind == "rows" and \
            re.search(r"Unknown column '-\d+' in '(order clause|ORDER BY)'",
                      a.msg or ""):
        # ORDER BY -1: MariaDB folds the negation into a position and
        # fails; MySQL 8 (Item_func_neg is no INT_ITEM, so no position)
        # and sqld sort by the constant (FINDINGS.md "ORDER BY -n").
        return None
    if a.kind != b.kind:
        return "outcome: mariadb %s, sqld %s" % (a.kind, b.kind)
    if a.kind == "lost":
        return "both connections lost"
    if a.kind == "err":
        return None if a.code == b.code or \
            (a.code, b.code) in SAME_ERROR else \
            "error code: mariadb %s, sqld %s" % (a.code, b.code)
    if a.kind == "ok":
        return None if a.affected == b.affected else \
            "affected rows: mariadb %s, sqld %s" % (a.affected, b.affected)
    if len(a.cols) != len(b.cols):
        return "column count: mariadb %d, sqld %d" % (len(a.cols),
                                                      len(b.cols))
    if check_types:
        for i, (ca, cb) in enumerate(zip(a.cols, b.cols)):
            if not types_comparable(a, b, i):
                continue
            if ca[1] != cb[1]:
                return "type of column %d (%s): mariadb %s, sqld %s" % (
                    i + 1, ca[0], ca[1], cb[1])
    ra, rb = normalize(a, ci_cols), normalize(b, ci_cols)
    if len(ra) != len(rb):
        return "row count: mariadb %d, sqld %d" % (len(ra), len(rb))
    if not ordered:
        ra, rb = sorted(ra, key=sort_key), sorted(rb, key=sort_key)
    for i, (x, y) in enumerate(zip(ra, rb)):
        if x != y:
            return "row %d: mariadb %r, sqld %r" % (i + 1, x, y)
    return None


# ---------------------------------------------------------------- schema

INT_TYPES = {  # name: (min, max)
    "TINYINT": (-128, 127), "SMALLINT": (-32768, 32767),
    "INT": (-2147483648, 2147483647),
    "BIGINT": (-9223372036854775808, 9223372036854775807),
    "TINYINT UNSIGNED": (0, 255), "INT UNSIGNED": (0, 4294967295),
    "BIGINT UNSIGNED": (0, 18446744073709551615),
}


class Column:
    def __init__(self, name, kind, sqltype, notnull, **kw):
        self.name = name
        self.kind = kind        # int decimal float double char date ...
        self.sqltype = sqltype  # the type as written in CREATE TABLE
        self.notnull = notnull
        self.__dict__.update(kw)

    @property
    def numeric(self):
        return self.kind in ("int", "decimal", "float", "double")

    @property
    def stringy(self):
        return self.kind in ("char", "varchar", "text")

    @property
    def temporal(self):
        return self.kind in ("date", "datetime", "time")


class Schema:
    def __init__(self, rng, features):
        self.rng = rng
        n = rng.randint(2, 7)
        self.cols = [self._column(i, features) for i in range(n)]
        self._keys(features)

    def _column(self, i, features):
        r = self.rng
        name = "c%d" % i
        notnull = r.random() < 0.25
        kind = r.choice(["int", "int", "int", "decimal", "float", "double",
                         "char", "varchar", "varchar", "text", "date",
                         "datetime", "time"])
        if not features.ok("type:" + kind):
            kind = "int"
        if kind == "int":
            t = r.choice(list(INT_TYPES))
            lo, hi = INT_TYPES[t]
            return Column(name, kind, t, notnull, lo=lo, hi=hi)
        if kind == "decimal":
            p = r.randint(1, 20)
            s = r.randint(0, min(p, 6))
            return Column(name, kind, "DECIMAL(%d,%d)" % (p, s), notnull,
                          prec=p, scale=s)
        if kind == "float":
            return Column(name, kind, "FLOAT", notnull)
        if kind == "double":
            return Column(name, kind, "DOUBLE", notnull)
        if kind in ("char", "varchar"):
            n = r.choice([1, 3, 5, 10, 20])
            return Column(name, kind, "%s(%d)" % (kind.upper(), n), notnull,
                          length=n)
        if kind == "text":
            return Column(name, kind, "TEXT", notnull, length=40)
        if kind == "datetime" and r.random() < 0.3:
            return Column(name, kind, "DATETIME(3)", notnull, fsp=3)
        return Column(name, kind, kind.upper(), notnull, fsp=0)

    def _keyable(self, c):
        return "%s(5)" % c.name if c.kind == "text" else c.name

    def _keys(self, features):
        r = self.rng
        cands = [c for c in self.cols if c.kind != "float" or
                 features.ok("float-key")]
        k = 1 if r.random() < 0.7 else min(2, len(cands))
        self.pk = r.sample(cands, k)
        if len(self.pk) == 1 and self.pk[0].kind == "text":
            self.pk = [c for c in cands if c.kind != "text"][:1] or self.pk
        for c in self.pk:
            c.notnull = True
        self.indexes = []  # (unique, [cols])
        for _ in range(r.randint(0, 3)):
            cs = r.sample(self.cols, r.randint(1, min(2, len(self.cols))))
            self.indexes.append((r.random() < 0.4, cs))

    def create_sql(self):
        parts = ["%s %s%s" % (c.name, c.sqltype, " NOT NULL" if c.notnull
                              else "") for c in self.cols]
        parts.append("PRIMARY KEY (%s)" % ", ".join(self._keyable(c)
                                                    for c in self.pk))
        for i, (uniq, cs) in enumerate(self.indexes):
            parts.append("%sKEY i%d (%s)" % ("UNIQUE " if uniq else "", i,
                                             ", ".join(self._keyable(c)
                                                       for c in cs)))
        return "CREATE TABLE t (%s) %s" % (", ".join(parts), TABLE_OPTS)

    def order_all(self):
        return ", ".join(c.name for c in self.pk)


# ---------------------------------------------------------------- values

WORDS = ["", "a", "A", "a ", "ab", "AB", "b", "abc", "Abc ", "x y", "%", "_",
         "z", "zz", "0", "1", "-1", "12abc", "hello", "HELLO", "\u00e9t\u00e9",
         "Ete", "  lead", "it's", "back\\slash"]


def quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"


def decimal_text(rng, p, s, edge):
    ip = p - s
    if edge:
        m = ("9" * ip or "0") + ("." + "9" * s if s else "")
        return rng.choice([m, "-" + m, "0"])
    whole = str(rng.randint(0, 10 ** min(ip, 6) - 1)) if ip else "0"
    frac = "".join(rng.choice("0123456789") for _ in range(s))
    t = whole + ("." + frac if s else "")
    return ("-" if rng.random() < 0.3 else "") + t


def value(rng, c, edge_p=0.25):
    """A literal for column c: mostly in range, often an edge value."""
    if not c.notnull and rng.random() < 0.12:
        return "NULL"
    edge = rng.random() < edge_p
    if c.kind == "int":
        if edge:
            return str(rng.choice([c.lo, c.hi, 0, c.hi - 1, c.lo + 1,
                                   max(c.lo, -1), 1]))
        return str(rng.randint(max(c.lo, -1000), min(c.hi, 1000)))
    if c.kind == "decimal":
        return decimal_text(rng, c.prec, c.scale, edge)
    if c.kind in ("float", "double"):
        if edge:
            return rng.choice(["0", "-0", "1e30", "-1e30", "1.5e-7",
                               "3.4e38" if c.kind == "float" else "1.7e308",
                               "-2.5", "0.1"])
        return repr(round(rng.uniform(-1000, 1000), rng.randint(0, 3)))
    if c.stringy:
        w = rng.choice(WORDS)
        if rng.random() < 0.1:
            w = rng.choice("abcAB") * rng.randint(1, c.length)
        return quote(w[:c.length])
    if c.kind == "date":
        if edge:
            return quote(rng.choice(["1000-01-01", "9999-12-31",
                                     "2000-02-29", "1970-01-01"]))
        return quote("%04d-%02d-%02d" % (rng.randint(1990, 2030),
                                         rng.randint(1, 12),
                                         rng.randint(1, 28)))
    if c.kind == "datetime":
        if edge:
            return quote(rng.choice(["1000-01-01 00:00:00",
                                     "9999-12-31 23:59:59",
                                     "2000-02-29 12:00:00"]))
        t = "%04d-%02d-%02d %02d:%02d:%02d" % (
            rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28),
            rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
        if c.fsp and rng.random() < 0.5:
            t += ".%03d" % rng.randint(0, 999)
        return quote(t)
    if c.kind == "time":
        if edge:
            return quote(rng.choice(["-838:59:59", "838:59:59", "00:00:00",
                                     "-00:00:01"]))
        return quote("%s%02d:%02d:%02d" % ("-" if rng.random() < 0.2 else "",
                                           rng.randint(0, 100),
                                           rng.randint(0, 59),
                                           rng.randint(0, 59)))
    raise AssertionError(c.kind)


# ------------------------------------------------------------ expressions

class Features:
    """Every generated piece names its feature; --skip-feature REGEXP keeps
    matching features out of the run (so a known bug can be kept out of CI
    while it stays listed in FINDINGS.md)."""

    # Always off: SUM/AVG over FLOAT/DOUBLE columns, and over strings
    # (summed as doubles). With edge values (1e30, -1e30, 150.2) the sum
    # depends on the order rows are added, which neither server defines,
    # so the two may rightly differ (-643.3710000000003 against ...02).
    ALWAYS_OFF = r"^agg:(float-sum|sum-string)$"

    def __init__(self, skip):
        self.skip = re.compile(self.ALWAYS_OFF + ("|" + skip if skip else ""))

    def ok(self, name):
        return self.skip is None or not self.skip.search(name)


class Gen:
    def __init__(self, rng, schema, features):
        self.r = rng
        self.s = schema
        self.f = features

    ctx = ""  # "dml:" while generating an UPDATE or DELETE

    def ok(self, name):
        """Whether a feature is on here (inside DML also as dml:<name>)."""
        return self.f.ok(name) and (not self.ctx or
                                    self.f.ok(self.ctx + name))

    def pick(self, *names):
        """The first of a random order of names whose feature is on (as
        itself and, inside DML, as "dml:<name>")."""
        names = list(names)
        self.r.shuffle(names)
        for n in names:
            if self.f.ok(n) and (not self.ctx or self.f.ok(self.ctx + n)):
                return n
        return None

    def col(self, pred=None):
        cs = [c for c in self.s.cols if pred is None or pred(c)]
        return self.r.choice(cs) if cs else None

    # Numeric expressions.
    def num(self, depth=0):
        r = self.r
        if depth >= 2 or r.random() < 0.5:
            c = self.col(lambda c: c.numeric)
            if c and r.random() < 0.75:
                return c.name
            lits = ["0", "1", "-1", "2", "3", "10", "0.5", "-2.25", "100",
                    "1e2"]
            if self.ok("lit:null"):
                lits.append("NULL")
            if self.ok("lit:bigint-max"):
                lits.append("9223372036854775807")
            return r.choice(lits)
        op = self.pick("arith:+", "arith:-", "arith:*", "arith:/",
                       "arith:DIV", "arith:MOD", "func:ABS", "func:ROUND",
                       "func:FLOOR", "func:CEIL", "func:LENGTH",
                       "func:CHAR_LENGTH", "func:COALESCE", "func:IF",
                       "case", "func:YEAR", "func:MONTH", "func:DATEDIFF",
                       "func:LEAST", "func:GREATEST", "func:SIGN",
                       "func:CAST_SIGNED", "unary:-", "func:TRUNCATE",
                       "func:POW", "func:DAYOFWEEK", "func:LOCATE",
                       "func:CAST_DECIMAL", "func:NULLIF", "func:TIME_TO_SEC")
        a = lambda: self.num(depth + 1)  # noqa: E731
        if op is None:
            return "1"
        if op.startswith("arith:"):
            return "(%s %s %s)" % (a(), op[6:], a())
        if op == "unary:-":
            return "(- %s)" % a()
        if op in ("func:ABS", "func:FLOOR", "func:CEIL", "func:SIGN"):
            return "%s(%s)" % (op[5:], a())
        if op == "func:ROUND":
            return "ROUND(%s, %d)" % (a(), r.randint(-1, 3))
        if op in ("func:LENGTH", "func:CHAR_LENGTH"):
            return "%s(%s)" % (op[5:], self.string(depth + 1))
        if op == "func:COALESCE":
            return "COALESCE(%s, %s)" % (a(), a())
        if op == "func:IF":
            return "IF(%s, %s, %s)" % (self.pred(depth + 1), a(), a())
        if op == "case":
            return "CASE WHEN %s THEN %s WHEN %s THEN %s ELSE %s END" % (
                self.pred(depth + 1), a(), self.pred(depth + 1), a(), a())
        if op in ("func:YEAR", "func:MONTH"):
            c = self.col(lambda c: c.kind in ("date", "datetime"))
            return "%s(%s)" % (op[5:], c.name if c else "'2020-05-06'")
        if op == "func:DATEDIFF":
            c = self.col(lambda c: c.kind in ("date", "datetime"))
            return "DATEDIFF(%s, '2020-01-01')" % (c.name if c else
                                                    "'2021-03-04'")
        if op in ("func:LEAST", "func:GREATEST"):
            return "%s(%s, %s)" % (op[5:], a(), a())
        if op == "func:CAST_SIGNED":
            return "CAST(%s AS SIGNED)" % a()
        if op == "func:CAST_DECIMAL":
            return "CAST(%s AS DECIMAL(10,2))" % a()
        if op == "func:TRUNCATE":
            return "TRUNCATE(%s, %d)" % (a(), r.randint(-1, 2))
        if op == "func:POW":
            return "POW(%s, %d)" % (a(), r.randint(0, 3))
        if op == "func:NULLIF":
            return "NULLIF(%s, %s)" % (a(), a())
        if op == "func:LOCATE":
            return "LOCATE(%s, %s)" % (quote(r.choice(["a", "b", " ", ""])),
                                       self.string(depth + 1))
        if op == "func:DAYOFWEEK":
            c = self.col(lambda c: c.kind in ("date", "datetime"))
            return "DAYOFWEEK(%s)" % (c.name if c else "'2020-05-06'")
        if op == "func:TIME_TO_SEC":
            c = self.col(lambda c: c.kind == "time")
            return "TIME_TO_SEC(%s)" % (c.name if c else "'-12:34:56'")
        raise AssertionError(op)

    def string(self, depth=0):
        r = self.r
        if depth >= 2 or r.random() < 0.5:
            c = self.col(lambda c: c.stringy)
            if c and r.random() < 0.75:
                return c.name
            return quote(r.choice(WORDS))
        op = self.pick("func:UPPER", "func:LOWER", "func:CONCAT",
                       "func:SUBSTRING", "func:TRIM", "func:REPLACE",
                       "func:LEFT", "func:IFNULL", "func:REVERSE",
                       "func:RIGHT", "func:LPAD", "func:CONCAT_WS",
                       "func:DATE_FORMAT", "func:CAST_CHAR", "func:HEX")
        a = lambda: self.string(depth + 1)  # noqa: E731
        if op is None:
            return "'a'"
        if op == "func:RIGHT":
            return "RIGHT(%s, %d)" % (a(), r.randint(0, 3))
        if op == "func:LPAD":
            return "LPAD(%s, %d, '*')" % (a(), r.randint(0, 6))
        if op == "func:CONCAT_WS":
            return "CONCAT_WS('-', %s, %s)" % (a(), a())
        if op == "func:HEX":
            return "HEX(%s)" % a()
        if op == "func:CAST_CHAR":
            return "CAST(%s AS CHAR)" % self.num(depth + 1)
        if op == "func:DATE_FORMAT":
            c = self.col(lambda c: c.kind in ("date", "datetime"))
            return "DATE_FORMAT(%s, %s)" % (
                c.name if c else "'2020-02-29 13:14:15'",
                quote(r.choice(["%Y-%m-%d", "%d/%m/%y %H:%i", "%W %M",
                                "%j %a %b", "%H:%i:%s %p"])))
        if op in ("func:UPPER", "func:LOWER", "func:TRIM", "func:REVERSE"):
            return "%s(%s)" % (op[5:], a())
        if op == "func:CONCAT":
            return "CONCAT(%s, %s)" % (a(), a())
        if op == "func:SUBSTRING":
            return "SUBSTRING(%s, %d, %d)" % (a(), r.randint(-2, 3),
                                              r.randint(0, 3))
        if op == "func:REPLACE":
            return "REPLACE(%s, 'a', 'xy')" % a()
        if op == "func:LEFT":
            return "LEFT(%s, %d)" % (a(), r.randint(0, 3))
        if op == "func:IFNULL":
            return "IFNULL(%s, %s)" % (a(), a())
        raise AssertionError(op)

    def temporal(self, c):
        r = self.r
        if self.ok("func:DATE_ADD") and c.kind != "time" and \
                r.random() < 0.3:
            return "DATE_ADD(%s, INTERVAL %d %s)" % (
                c.name, r.randint(-40, 40), r.choice(["DAY", "MONTH",
                                                      "HOUR", "YEAR"]))
        return c.name

    def pred(self, depth=0):
        """A leaf predicate as SQL text."""
        r = self.r
        kind = self.pick("cmp", "cmp", "cmp", "isnull", "in", "between",
                         "like", "cmpexpr", "nullsafe", "mixedcmp")
        c = self.col()
        ops = ["=", "<>", "<", "<=", ">", ">="]
        if kind == "isnull":
            return "%s IS %sNULL" % (c.name, r.choice(["", "NOT "]))
        if kind == "nullsafe":
            return "%s <=> %s" % (c.name, value(r, c))
        if kind == "in":
            vals = ", ".join(value(r, c) for _ in range(r.randint(1, 4)))
            return "%s %sIN (%s)" % (c.name, r.choice(["", "NOT "]), vals)
        if kind == "between":
            return "%s %sBETWEEN %s AND %s" % (c.name, r.choice(["", "NOT "]),
                                               value(r, c), value(r, c))
        if kind == "like":
            s = self.col(lambda c: c.stringy)
            if s:
                pat = r.choice(["a%", "%a", "%", "_", "a_", "%b%", "A%",
                                "x y", "%\\%%", "a ", "h_llo", "%é%"])
                return "%s %sLIKE %s" % (s.name, r.choice(["", "NOT "]),
                                         quote(pat))
        if kind == "cmpexpr":
            if r.random() < 0.6:
                return "%s %s %s" % (self.num(depth + 1), r.choice(ops),
                                     self.num(depth + 1))
            return "%s %s %s" % (self.string(depth + 1), r.choice(ops),
                                 self.string(depth + 1))
        if kind == "mixedcmp":
            # Across classes: a string against a number, a date against a
            # string, MySQL's implicit conversions.
            d = self.col()
            return "%s %s %s" % (c.name, r.choice(ops), d.name)
        if c.temporal and r.random() < 0.5:
            return "%s %s %s" % (self.temporal(c), r.choice(ops),
                                 value(r, c))
        return "%s %s %s" % (c.name, r.choice(ops), value(r, c))

    def where(self, depth=0):
        """A predicate tree: ("leaf", sql) | ("and"|"or", a, b) | ("not", a)."""
        r = self.r
        if depth >= 3 or r.random() < 0.45:
            return ("leaf", self.pred())
        k = r.choice(["and", "and", "or", "or", "not"])
        if k == "not":
            return ("not", self.where(depth + 1))
        return (k, self.where(depth + 1), self.where(depth + 1))

    def item(self):
        """A select-list item: (sql, feature)."""
        r = self.r
        x = r.random()
        if x < 0.55:
            return self.col().name
        if x < 0.8:
            return self.num(0)
        if x < 0.9:
            return self.string(0)
        return "(%s)" % render_where(self.where(2))


def render_where(w):
    if w is None:
        return None
    if w[0] == "leaf":
        return w[1]
    if w[0] == "not":
        return "NOT (%s)" % render_where(w[1])
    return "(%s %s %s)" % (render_where(w[1]), w[0].upper(),
                           render_where(w[2]))


def where_simplifications(w):
    """Smaller trees to try in place of w, biggest cuts first."""
    if w is None or w[0] == "leaf":
        return []
    out = list(w[1:])
    if w[0] == "not":
        out += [("not", s) for s in where_simplifications(w[1])]
    else:
        for i in (1, 2):
            for s in where_simplifications(w[i]):
                n = list(w)
                n[i] = s
                out.append(tuple(n))
    return out


# ------------------------------------------------------------ statements

class Select:
    """A SELECT as parts, so the minimizer can drop them."""

    def __init__(self, **kw):
        self.distinct = False
        self.items = []       # [sql]
        self.ci_items = set()  # indexes of items shown as a group member
        self.where = None
        self.group = []       # [sql]
        self.having = None
        self.order = []       # [sql]
        self.limit = None
        self.offset = None
        self.frm = "t"        # the FROM clause (joins: several tables)
        self.__dict__.update(kw)

    def copy(self, **kw):
        d = dict(self.__dict__)
        d["items"] = list(self.items)
        d["group"] = list(self.group)
        d["order"] = list(self.order)
        d["ci_items"] = set(self.ci_items)
        d.update(kw)
        return Select(**d)

    def sql(self):
        s = "SELECT %s%s FROM %s" % ("DISTINCT " if self.distinct else "",
                                    ", ".join(self.items), self.frm)
        if self.where is not None:
            s += " WHERE " + render_where(self.where)
        if self.group:
            s += " GROUP BY " + ", ".join(self.group)
        if self.having is not None:
            s += " HAVING " + render_where(self.having)
        if self.order:
            s += " ORDER BY " + ", ".join(self.order)
        if self.limit is not None:
            s += " LIMIT %d" % self.limit
            if self.offset is not None:
                s += " OFFSET %d" % self.offset
        return s

    @property
    def ordered(self):
        return bool(self.order)

    def smaller(self):
        """Candidate simplifications, each keeping the result well
        defined (a LIMIT keeps its total ORDER BY)."""
        out = []
        if self.where is not None:
            out.append(self.copy(where=None))
            out += [self.copy(where=w) for w in
                    where_simplifications(self.where)]
        if self.having is not None:
            out.append(self.copy(having=None))
            out += [self.copy(having=w) for w in
                    where_simplifications(self.having)]
        if self.offset is not None:
            out.append(self.copy(offset=None))
        if self.limit is not None:
            out.append(self.copy(limit=None, offset=None))
        if self.order and self.limit is None:
            out.append(self.copy(order=[]))
        if self.distinct and not self.group:
            out.append(self.copy(distinct=False, ci_items=set()))
        if len(self.items) > 1 and not self.group and not self.distinct:
            for i in range(len(self.items)):
                items = self.items[:i] + self.items[i + 1:]
                ci = {j - (j > i) for j in self.ci_items if j != i}
                out.append(self.copy(items=items, ci_items=ci))
        return out


AGGS = ["COUNT(*)", "COUNT(%s)", "SUM(%s)", "MIN(%s)", "MAX(%s)", "AVG(%s)",
        "COUNT(DISTINCT %s)"]


def gen_select(g):
    r = g.r
    s = g.s
    sel = Select()
    shape = g.pick("select:plain", "select:plain", "select:distinct",
                   "select:group", "select:agg")
    if shape == "select:group":
        keys = r.sample(s.cols, r.randint(1, min(2, len(s.cols))))
        sel.group = [c.name for c in keys]
        sel.items = list(sel.group)
        sel.ci_items = {i for i, c in enumerate(keys) if c.stringy}
        for _ in range(r.randint(1, 3)):
            add_agg(g, sel)
        if r.random() < 0.4 and g.f.ok("having"):
            sel.having = ("leaf", "%s %s %s" % (
                r.choice(["COUNT(*)", "SUM(%s)" % (g.col(lambda c: c.numeric)
                                                   or keys[0]).name]),
                r.choice([">", "<", "=", ">="]), r.randint(0, 3)))
        if r.random() < 0.5:
            sel.order = list(sel.group)
            if r.random() < 0.5:
                sel.limit = r.randint(0, 5)
    elif shape == "select:agg":
        for _ in range(r.randint(1, 3)):
            add_agg(g, sel)
    elif shape == "select:distinct":
        cs = r.sample(s.cols, r.randint(1, min(2, len(s.cols))))
        sel.distinct = True
        sel.items = [c.name for c in cs]
        sel.ci_items = {i for i, c in enumerate(cs) if c.stringy}
        if r.random() < 0.5:
            sel.order = list(sel.items)
            if r.random() < 0.5:
                sel.limit = r.randint(0, 5)
    else:
        sel.items = [g.item() for _ in range(r.randint(1, 4))]
        if r.random() < 0.15:
            sel.items = ["*"]
        if r.random() < 0.6:
            # A total order: whatever comes first, the primary key ends it.
            first = [c.name + r.choice(["", " DESC"]) for c in
                     r.sample(s.cols, r.randint(0, 2))]
            if r.random() < 0.2 and g.f.ok("order:expr"):
                first.insert(0, g.num(1) + r.choice(["", " DESC"]))
            sel.order = first + [c.name for c in s.pk]
            if r.random() < 0.6:
                sel.limit = r.randint(0, 8)
                if r.random() < 0.4 and g.f.ok("select:offset"):
                    sel.offset = r.randint(0, 4)
    if r.random() < 0.8:
        sel.where = g.where()
    return sel


def add_agg(g, sel):
    r = g.r
    a = r.choice(AGGS)
    c = g.col()
    arg = c.name
    if "%s" in a:
        arg = c.name if r.random() < 0.7 or not c.numeric else g.num(1)
        a = a % arg
    if a.startswith(("MIN", "MAX")) and c.stringy:
        sel.ci_items.add(len(sel.items))
    if a.startswith(("SUM", "AVG")) and (
            (c.stringy and not g.f.ok("agg:sum-string")) or
            (c.temporal and not g.f.ok("agg:sum-temporal")) or
            (inexact(g.s, arg) and not g.f.ok("agg:float-sum"))):
        a = "COUNT(%s)" % c.name
    sel.items.append(a)


def inexact(s, expr):
    """Whether expr (a column or a num() expression) computes in DOUBLE:
    a FLOAT/DOUBLE column, a DOUBLE literal or POW in it. Its SUM or AVG
    depends on the order rows are added (agg:float-sum)."""
    doubles = [c.name for c in s.cols if c.kind in ("float", "double")]
    return bool(re.search(r"\b(%s)\b|\d[eE]-?\d|POW\(" %
                          "|".join(doubles or ["$^"]), expr))


def gen_insert(g):
    return "INSERT INTO t VALUES (%s)" % ", ".join(value(g.r, c)
                                                   for c in g.s.cols)


def gen_insert_multi(g):
    """Several rows in one statement, columns listed in another order,
    the others left to their DEFAULT (NULL): one bad row fails them all."""
    r = g.r
    cols = [c for c in g.s.cols if c.notnull or r.random() < 0.7]
    r.shuffle(cols)
    rows = ["(%s)" % ", ".join(value(r, c) for c in cols)
            for _ in range(r.randint(2, 4))]
    return "INSERT INTO t (%s) VALUES %s" % (", ".join(c.name for c in cols),
                                             ", ".join(rows))


class Dml:
    """An UPDATE or DELETE as parts (head, predicate tree, tail), so the
    minimizer can cut the predicate; an INSERT is all head."""

    def __init__(self, head, where=None, tail=""):
        self.head = head      # "UPDATE t SET ..." or "DELETE FROM t"
        self.where = where    # predicate tree or None
        self.tail = tail      # " ORDER BY .. LIMIT n" or ""

    def sql(self):
        w = "" if self.where is None else " WHERE " + render_where(self.where)
        return self.head + w + self.tail

    def smaller(self):
        out = []
        if self.where is not None:
            out.append(Dml(self.head, None, self.tail))
            out += [Dml(self.head, w, self.tail)
                    for w in where_simplifications(self.where)]
        if self.tail:
            out.append(Dml(self.head, self.where, ""))
        return out


def dml_subquery(g):
    """A predicate reading t again in a subquery (feature dml:subquery):
    MariaDB 10.3+ lets a single-table UPDATE or DELETE read its own table
    there, as it was before the statement. Uncorrelated [NOT] IN or a
    scalar aggregate, or correlated on the primary key's first column
    (EXISTS, a scalar aggregate). The inner predicate's names are s's."""
    r = g.r
    c = g.col()
    k = g.s.pk[0].name
    op = r.choice(["=", "<>", "<", ">="])
    inner = g.pred()
    kind = r.choice(["in", "not-in", "scalar", "exists", "corr-scalar"])
    if kind in ("in", "not-in"):
        return "%s %sIN (SELECT s.%s FROM t s WHERE %s)" % (
            c.name, "NOT " if kind == "not-in" else "", c.name, inner)
    if kind == "scalar":
        return "%s %s (SELECT %s(s.%s) FROM t s WHERE %s)" % (
            c.name, op, r.choice(["MIN", "MAX"]), c.name, inner)
    if kind == "exists":
        return "%sEXISTS (SELECT 1 FROM t s WHERE s.%s %s t.%s AND %s)" % (
            r.choice(["", "NOT "]), k, op, k, inner)
    return "%s %s (SELECT MAX(s.%s) FROM t s WHERE s.%s < t.%s)" % (
        c.name, op, c.name, k, k)


def gen_dml(g):
    r = g.r
    kind = g.pick("dml:insert", "dml:update", "dml:delete", "dml:update",
                  "dml:insert-multi")
    if kind == "dml:insert" or kind is None:
        return Dml(gen_insert(g))
    if kind == "dml:insert-multi":
        return Dml(gen_insert_multi(g))
    g.ctx = "dml:"
    where = g.where()
    g.ctx = ""
    if g.f.ok("dml:subquery") and r.random() < 0.3:
        sub = ("leaf", dml_subquery(g))
        where = (r.choice(["and", "or"]), where, sub) if where else sub
    tailsql = ""
    if r.random() < 0.3 and g.f.ok("dml:limit"):
        tailsql = " ORDER BY %s LIMIT %d" % (g.s.order_all(), r.randint(0, 3))
    if kind == "dml:delete":
        return Dml("DELETE FROM t", where, tailsql)
    sets = []
    for c in r.sample(g.s.cols, r.randint(1, min(2, len(g.s.cols)))):
        if r.random() < 0.5:
            v = value(r, c)
        elif c.numeric and g.f.ok("update:arith"):
            v = "%s + %s" % (c.name, r.choice(["1", "-1", "0.5"]))
        elif c.stringy:
            v = "CONCAT(%s, 'z')" % c.name if c.kind == "text" else \
                "UPPER(%s)" % c.name
        else:
            v = value(r, c)
        sets.append("%s = %s" % (c.name, v))
    if g.f.ok("dml:subquery") and r.random() < 0.2:
        # SET c = an aggregate of t's other rows, as they were before
        c = g.col(lambda c: not any(x.startswith(c.name + " ")
                                    for x in sets))
        k = g.s.pk[0].name
        if c is not None:
            sets.append("%s = (SELECT %s(s.%s) FROM t s WHERE s.%s <> t.%s)"
                        % (c.name, r.choice(["MIN", "MAX"]), c.name, k, k))
    return Dml("UPDATE t SET " + ", ".join(sets), where, tailsql)


def gen_error(g):
    """A statement meant to fail (both servers should give the same error
    number), as a Dml so the table is compared afterwards too."""
    r = g.r
    s = g.s
    c = g.col()
    pk = s.pk[0]
    kind = g.pick("error:unknown-column", "error:unknown-table",
                  "error:column-count", "error:not-null", "error:too-long",
                  "error:bad-int", "error:bad-double", "error:bad-date",
                  "error:out-of-range", "error:substring-one-arg",
                  "error:unknown-function", "error:arg-count", "error:syntax",
                  "error:order-position", "error:group-in-where",
                  "error:group-on-agg", "error:table-exists",
                  "error:dup-key", "error:insert-column")
    if kind == "error:unknown-column":
        return Dml("SELECT nosuch FROM t")
    if kind == "error:unknown-table":
        return Dml("SELECT * FROM nosuch")
    if kind == "error:column-count":
        n = len(s.cols) + r.choice([-1, 1])
        return Dml("INSERT INTO t VALUES (%s)" % ", ".join(
            value(r, x) for x in (s.cols * 2)[:max(n, 1)]))
    if kind == "error:insert-column":
        return Dml("INSERT INTO t (nosuch) VALUES (1)")
    vals = [value(r, x) for x in s.cols]
    i = s.cols.index(c)
    if kind == "error:not-null":
        nn = [j for j, x in enumerate(s.cols) if x.notnull]
        j = r.choice(nn) if nn else i
        vals[j] = "NULL"
    elif kind == "error:too-long":
        st = [j for j, x in enumerate(s.cols) if x.kind in ("char",
                                                             "varchar")]
        if st:
            j = r.choice(st)
            vals[j] = quote("x" * (s.cols[j].length + 1))
    elif kind == "error:bad-int":
        # DOUBLE/FLOAT columns apart (error:bad-double): MariaDB answers
        # 1366, sqld 1265 (FINDINGS F19).
        ints = [j for j, x in enumerate(s.cols) if x.kind in ("int",
                                                                "decimal")]
        if ints:
            vals[r.choice(ints)] = quote(r.choice(["abc", "12abc", "1e",
                                                   " ", ""]))
    elif kind == "error:bad-double":
        ints = [j for j, x in enumerate(s.cols) if x.kind in ("float",
                                                                "double")]
        if ints:
            vals[r.choice(ints)] = quote(r.choice(["abc", "12abc", "1e",
                                                   " ", ""]))
    elif kind == "error:bad-date":
        ds = [j for j, x in enumerate(s.cols) if x.temporal]
        if ds:
            j = ds[0]
            vals[j] = quote(r.choice(["2020-13-01", "2021-02-30", "abc",
                                      "99:99:99", "2020-01-01 25:00:00"]))
    elif kind == "error:out-of-range":
        ints = [j for j, x in enumerate(s.cols) if x.kind == "int" and
                (not x.sqltype.startswith("BIGINT") or
                 g.f.ok("error:out-of-range-bigint"))]
        if ints:
            j = r.choice(ints)
            x = s.cols[j]
            vals[j] = str(r.choice([x.hi + 1, x.lo - 1]))
    elif kind == "error:unknown-function":
        return Dml("SELECT NOSUCHFUNC(%s) FROM t" % c.name)
    elif kind == "error:arg-count":
        return Dml("SELECT %s FROM t" % r.choice(
            ["ABS(%s, 1)", "LENGTH()", "ROUND(%s, 1, 2)", "IFNULL(%s)",
             "CONCAT()"]).replace("%s", c.name))
    elif kind == "error:substring-one-arg":
        return Dml("SELECT SUBSTRING(%s) FROM t" % c.name)
    elif kind == "error:syntax":
        return Dml(r.choice(["SELECT FROM t", "SELECT * FROM t WHERE",
                             "SELECT %s FROM t LIMIT -1" % c.name,
                             "SELECT * FROM t ORDER BY",
                             "UPDATE t SET WHERE 1",
                             "DELETE t WHERE 1"]))
    elif kind == "error:order-position":
        return Dml("SELECT %s FROM t ORDER BY 9" % c.name)
    elif kind == "error:group-in-where":
        return Dml("SELECT COUNT(*) FROM t WHERE SUM(%s) > 1" % c.name)
    elif kind == "error:group-on-agg":
        return Dml("SELECT COUNT(*) FROM t GROUP BY COUNT(*)")
    elif kind == "error:table-exists":
        return Dml(s.create_sql())
    elif kind == "error:dup-key":
        return Dml("UPDATE t SET %s = %s" % (pk.name, value(r, pk, 0.5)))
    return Dml("INSERT INTO t VALUES (%s)" % ", ".join(vals))


# ----------------------------------------------------------------- runner

class Case:
    """One round: a table, its initial rows, and the statements so far."""

    def __init__(self, create, rows):
        self.create = create
        self.rows = rows          # INSERT statements, in order
        self.dml = []             # DML run after the rows, in order

    def script(self, rows=None, dml=None):
        return (["DROP TABLE IF EXISTS t", self.create] +
                (self.rows if rows is None else rows) +
                (self.dml if dml is None else dml))


# ----------------------------------------------------------------- joins

class JoinSchema:
    """2-4 tables j0.. for a join round: an integer id (the primary key,
    or a plain column), two join-key columns k1, k2 over a few values so
    that rows meet (integers 0-5, short strings in several cases, a
    DECIMAL or a DATE), one column of any type, and indexes on the keys
    (sometimes unique) so that index joins are tried."""

    KEYS = {
        "int": ("INT", lambda r: str(r.randint(0, 5))),
        "varchar": ("VARCHAR(5)",
                    lambda r: quote(r.choice(["a", "A", "b", "a ", "c", "",
                                              "B"]))),
        "decimal": ("DECIMAL(5,2)",
                    lambda r: r.choice(["0", "1", "1.00", "2.5", "3", "-1"])),
        "date": ("DATE", lambda r: quote(r.choice(["2020-01-01", "2020-01-02",
                                                   "1999-12-31"]))),
    }

    def __init__(self, rng, features):
        self.r = self.rng = rng  # (Schema._column reads .rng)
        self.tables = []   # (name, [Column], create sql, key kinds)
        for i in range(rng.randint(2, 4)):
            self.tables.append(self._table("j%d" % i, features))

    def _table(self, name, features):
        r = self.r
        pk = r.random() < 0.8
        cols = [Column("id", "int", "INT", pk, lo=-2147483648,
                       hi=2147483647)]
        kinds = {}
        for k in ("k1", "k2"):
            kind = r.choice(["int", "int", "varchar", "decimal", "date"])
            if not features.ok("type:" + kind):
                kind = "int"
            kinds[k] = kind
            col = Column(k, kind if kind != "varchar" else "varchar",
                         self.KEYS[kind][0], False, lo=0, hi=5, length=5,
                         prec=5, scale=2, fsp=0)
            cols.append(col)
        v = Schema._column(self, 3, features)
        v.name = "v"
        cols.append(v)
        parts = ["%s %s%s" % (c.name, c.sqltype, " NOT NULL" if c.notnull
                              else "") for c in cols]
        if pk:
            parts.append("PRIMARY KEY (id)")
        for i, k in enumerate(r.sample(["k1", "k2", "k1, k2"],
                                       r.randint(0, 2))):
            parts.append("%sKEY x%d (%s)" % (
                "UNIQUE " if r.random() < 0.2 else "", i, k))
        create = "CREATE TABLE %s (%s) %s" % (name, ", ".join(parts),
                                              TABLE_OPTS)
        return (name, cols, create, kinds)

    def row(self, t, i):
        name, cols, _, kinds = t
        r = self.r
        vals = [str(i)]
        for k in ("k1", "k2"):
            vals.append("NULL" if r.random() < 0.15
                        else self.KEYS[kinds[k]][1](r))
        vals.append(value(r, cols[3]))
        return "INSERT INTO %s VALUES (%s)" % (name, ", ".join(vals))


class QualSchema:
    """The tables of a join as one schema whose column names are
    qualified (a.k1), so Gen draws predicates over all of them."""

    def __init__(self, cols):
        self.cols = cols
        self.pk = []


class NoArith:
    """Features without arithmetic (join rounds unless join:arith is on):
    an overflow on a row depends on which rows the plan reads, which
    differs between the servers once several tables join (FINDINGS.md
    FJ2)."""

    def __init__(self, f):
        self.f = f

    def ok(self, name):
        return self.f.ok(name) and not name.startswith(("arith:", "unary:"))


def gen_join_select(g, js):
    """A SELECT over the tables of js joined in a random shape."""
    r = g.r
    jf = g.f if g.f.ok("join:arith") else NoArith(g.f)
    order = list(js.tables)
    r.shuffle(order)
    order = order[:r.randint(2, len(order))]
    aliases = ["a%d" % i for i in range(len(order))]
    qcols = []
    for (name, cols, _, _), al in zip(order, aliases):
        for c in cols:
            q = Column("%s.%s" % (al, c.name), c.kind, c.sqltype, c.notnull,
                       **{k: v for k, v in c.__dict__.items()
                          if k not in ("name", "kind", "sqltype",
                                       "notnull")})
            qcols.append(q)
    keys = ["id", "k1", "k2"]

    def tref(t, al):
        """The table, or a derived table of some of its rows."""
        if r.random() < 0.15 and g.f.ok("join:derived"):
            return "(SELECT * FROM %s WHERE %s) %s" % (
                t[0], Gen(r, QualSchema(t[1]), jf).pred(), al)
        return "%s %s" % (t[0], al)
    frm = tref(order[0], aliases[0])
    where = []
    cls = {"int": "num", "decimal": "num", "varchar": "str", "date": "date"}

    def kclass(t, k):
        return "num" if k == "id" else cls[t[3][k]]
    for i in range(1, len(order)):
        al = aliases[i]
        j = r.randrange(i)
        prev = aliases[j]
        pairs = [(x, y) for x in keys for y in keys]
        if not g.f.ok("mixedcmp"):
            # Keys of one class (a string against a date is mixedcmp's).
            pairs = [(x, y) for x, y in pairs
                     if kclass(order[i], x) == kclass(order[j], y)]
        x, y = r.choice(pairs)
        cond = "%s.%s %s %s.%s" % (
            al, x,
            "=" if r.random() < 0.85 or not g.f.ok("join:nonequi")
            else r.choice(["<", ">=", "<>"]),
            prev, y)
        if r.random() < 0.25:
            extra = Gen(r, QualSchema([c for c in qcols if
                                       c.name.split(".")[0] in
                                       (al, prev)]), jf).pred()
            cond = "%s AND %s" % (cond, extra)
        kind = g.pick("join:comma", "join:inner", "join:inner", "join:left",
                      "join:left", "join:right", "join:cross",
                      "join:using", "join:natural") or "join:inner"
        t = tref(order[i], al)
        if kind == "join:comma":
            frm += ", " + t
            where.append(cond)
        elif kind == "join:cross":
            frm += " CROSS JOIN " + t
            if r.random() < 0.7:
                where.append(cond)
        elif kind == "join:using" and i == 1:
            frm += " JOIN %s USING (%s)" % (t, r.choice(["id", "k1", "k2",
                                                         "k1, k2"]))
        elif kind == "join:natural" and i == 1:
            frm += " NATURAL %sJOIN %s" % (r.choice(["", "LEFT "]), t)
        else:
            op = {"join:left": "LEFT JOIN", "join:right": "RIGHT JOIN"}.get(
                kind, "JOIN")
            frm += " %s %s ON %s" % (op, t, cond)
    sel = Select(frm=frm)
    qg = Gen(r, QualSchema(qcols), jf)
    shape = qg.pick("join:plain", "join:plain", "join:agg", "join:distinct",
                    "join:star") or "join:plain"
    if shape == "join:star":
        sel.items = ["*"] if r.random() < 0.5 else \
            ["%s.*" % r.choice(aliases)]
    elif shape == "join:agg":
        kc = r.choice([c for c in qcols
                       if c.name.split(".")[1] in ("k1", "k2")])
        sel.group = [kc.name]
        sel.items = [kc.name, "COUNT(*)"]
        sel.ci_items = {0} if kc.stringy else set()
        ints = [c for c in qcols if c.kind == "int"]
        for _ in range(r.randint(0, 2)):
            c = r.choice(qcols)
            a = r.choice(["COUNT(%s)", "MIN(%s)", "MAX(%s)"] +
                         (["SUM(%s)"] if c.kind in ("int", "decimal")
                          else []))
            if a.startswith(("MIN", "MAX")) and c.stringy:
                sel.ci_items.add(len(sel.items))
            sel.items.append(a % c.name)
        if ints and r.random() < 0.3:
            sel.items.append("SUM(%s)" % r.choice(ints).name)
        if r.random() < 0.3 and g.f.ok("having"):
            sel.having = ("leaf", "COUNT(*) %s %d" % (
                r.choice([">", "<", ">="]), r.randint(0, 3)))
    elif shape == "join:distinct":
        cs = r.sample(qcols, r.randint(1, 2))
        sel.distinct = True
        sel.items = [c.name for c in cs]
        sel.ci_items = {i for i, c in enumerate(cs) if c.stringy}
    else:
        cs = r.sample(qcols, r.randint(1, min(4, len(qcols))))
        sel.items = [c.name for c in cs]
        if r.random() < 0.2:
            sel.items.append(qg.num(1))
        # A total order when no string is shown (collation-equal strings
        # may come in either order), then maybe a LIMIT.
        if not any(c.stringy or c.kind in ("float", "double")
                   for c in cs) and r.random() < 0.4 and \
                g.f.ok("join:order") and len(sel.items) == len(cs):
            sel.order = list(sel.items)
            if r.random() < 0.5:
                sel.limit = r.randint(0, 6)
    # A subquery over another table: [NOT] EXISTS correlated on a key,
    # x IN (correlated or not), x NOT IN (not correlated).
    sub = qg.pick("join:exists", "join:in-subquery", "join:not-in",
                  "join:scalar-subquery")
    if sub and r.random() < 0.3:
        t = r.choice(js.tables)
        idx = r.randrange(len(order))
        al, outer = aliases[idx], order[idx]
        # Keys of one type: MariaDB probes an index of the subquery's
        # table with the value converted to the key's type (2.50 finds
        # the INT 2; FINDINGS.md M02).
        def kkind(tt, k):
            return "int" if k == "id" else tt[3][k]
        # With mixedcmp, keys of one class; but never an outer DECIMAL
        # against the subquery's INT key under [NOT] IN: M02 is
        # MariaDB's bug, not a difference to report.
        pairs = [(x, y) for x in keys for y in keys
                 if kkind(t, x) == kkind(outer, y) or
                 (g.f.ok("mixedcmp") and kclass(t, x) == kclass(outer, y)
                  and not (sub in ("join:in-subquery", "join:not-in") and
                           kkind(outer, y) == "decimal" and
                           kkind(t, x) == "int"))]
        x, y = r.choice(pairs or [("id", "id")])
        extra = ""
        if r.random() < 0.5:
            extra = " AND " + Gen(r, QualSchema(
                [Column("s.%s" % c.name, c.kind, c.sqltype, c.notnull,
                        **{k: v for k, v in c.__dict__.items()
                           if k not in ("name", "kind", "sqltype",
                                        "notnull")})
                 for c in t[1]]), jf).pred()
        if sub == "join:exists":
            where.append("%sEXISTS (SELECT 1 FROM %s s WHERE s.%s = %s.%s%s)"
                         % (r.choice(["", "NOT "]), t[0], x, al, y, extra))
        elif sub == "join:in-subquery":
            corr = " AND s.id <> %s.id" % al if r.random() < 0.5 else ""
            where.append("%s.%s IN (SELECT s.%s FROM %s s WHERE 1 = 1%s%s)"
                         % (al, y, x, t[0], corr, extra))
        elif sub == "join:not-in":
            where.append("%s.%s NOT IN (SELECT s.%s FROM %s s WHERE 1 = 1%s)"
                         % (al, y, x, t[0], extra))
        else:
            # Correlated and aggregated: in the select list, or compared
            # (the count, or the key's MIN/MAX) in WHERE.
            agg = r.choice(["COUNT(*)", "MIN(s.%s)" % x, "MAX(s.%s)" % x])
            q = "(SELECT %s FROM %s s WHERE s.%s = %s.%s%s)" % (
                agg, t[0], x, al, y, extra)
            if sel.items and not sel.group and not sel.distinct and \
                    sel.items != ["*"] and r.random() < 0.5:
                sel.items.append(q)
                if kclass(t, x) == "str":
                    sel.ci_items.add(len(sel.items) - 1)
                sel.order = []
                sel.limit = None
            elif agg == "COUNT(*)":
                where.append("%s %s %d" % (q, r.choice([">", "=", "<"]),
                                           r.randint(0, 2)))
            else:
                where.append("%s.%s %s %s" % (al, y, r.choice(["=", "<>"]),
                                              q))
    if r.random() < 0.6:
        w = qg.where(1)
        for c in where:
            w = ("and", ("leaf", c), w)
        sel.where = w
    elif where:
        w = ("leaf", where[0])
        for c in where[1:]:
            w = ("and", ("leaf", c), w)
        sel.where = w
    return sel


class JoinCase(Case):
    """A join round: several tables, their rows, no DML."""

    def __init__(self, js):
        Case.__init__(self, "; ".join(t[2] for t in js.tables), [])
        self.creates = [t[2] for t in js.tables]
        self.names = [t[0] for t in js.tables]

    def script(self, rows=None, dml=None):
        return (["DROP TABLE IF EXISTS %s" % n for n in self.names] +
                self.creates + (self.rows if rows is None else rows))


# ---- window function rounds (libsql's window.c) ---------------------------

WINDOW_RANKS = ["ROW_NUMBER()", "RANK()", "DENSE_RANK()", "NTILE(%d)"]


def gen_window_select(g):
    """A SELECT whose items call window functions: every window's ORDER BY
    ends with the primary key where the function depends on row order, so
    both servers must give the same value to each row; the query's ORDER BY
    is the primary key."""
    r = g.r
    s = g.s
    pk = [c.name for c in s.pk]
    if not pk:
        return gen_select(g)
    sel = Select()
    sel.items = list(pk)
    exact = [c for c in s.cols if c.kind in ("int", "decimal")]
    # MariaDB 10.11 computes a window over the wrong order when the query
    # also has an empty window, OVER () (FINDINGS.md): with several
    # windows, none is empty.
    nwin = r.randint(1, 3)
    for _ in range(nwin):
        part = ""
        if r.random() < 0.5 or nwin > 1:
            pc = r.choice(s.cols)
            part = "PARTITION BY %s " % pc.name
        oc = r.choice(s.cols)
        desc = r.choice(["", " DESC"])
        total = "ORDER BY %s%s, %s" % (oc.name, desc, ", ".join(pk))
        kind = r.random()
        if kind < 0.3:
            f = r.choice(WINDOW_RANKS)
            if "%d" in f:
                f = f % r.randint(1, 4)
            if f.startswith(("RANK", "DENSE")):
                total = "ORDER BY %s%s" % (oc.name, desc)
            sel.items.append("%s OVER (%s%s)" % (f, part, total))
        elif kind < 0.55:
            v = r.choice(s.cols)
            f = r.choice(["LAG(%s)", "LEAD(%s)", "LAG(%s, 2)",
                          "FIRST_VALUE(%s)", "NTH_VALUE(%s, 2)"]) % v.name
            if v.stringy:
                sel.ci_items.add(len(sel.items))
            sel.items.append("%s OVER (%s%s)" % (f, part, total))
        elif exact:
            v = r.choice(exact)
            f = r.choice(["SUM(%s)", "COUNT(%s)", "COUNT(*)", "MIN(%s)",
                          "MAX(%s)", "AVG(%s)"])
            if f == "AVG(%s)" and v.kind == "decimal":
                f = "SUM(%s)"  # MW3: the quotient's last digit
            f = f % v.name if "%s" in f else f
            frame = r.choice([
                "", " ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING",
                " ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
                " ROWS BETWEEN 2 PRECEDING AND CURRENT ROW",
                " ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
                " ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING"])
            order = total if frame else "ORDER BY %s%s" % (oc.name, desc)
            if oc.kind in ("int", "decimal") and r.random() < 0.3 and \
                    "UNSIGNED" not in oc.sqltype and \
                    not oc.sqltype.startswith("BIGINT"):
                # RANGE over one numeric key: peers make it deterministic.
                # Not over BIGINT or UNSIGNED keys: MariaDB computes the
                # bound in the key's type and fails at its ends (MW2).
                order = "ORDER BY %s%s" % (oc.name, desc)
                frame = " RANGE BETWEEN %s AND %s" % r.choice([
                    ("%d PRECEDING" % r.randint(0, 3), "CURRENT ROW"),
                    ("CURRENT ROW", "%d FOLLOWING" % r.randint(0, 3)),
                    ("%d PRECEDING" % r.randint(1, 3),
                     "%d FOLLOWING" % r.randint(1, 3)),
                    ("UNBOUNDED PRECEDING", "%d FOLLOWING" % r.randint(0, 2))])
            elif r.random() < 0.2 and (part or nwin == 1):
                order, frame = "", ""
            sel.items.append("%s OVER (%s%s%s)" % (f, part, order, frame))
        else:
            sel.items.append("COUNT(*) OVER (%s)" % part.strip())
    sel.order = list(pk)
    if r.random() < 0.5:
        sel.where = g.where()
    return sel


def multi_table_dml(g, dml):
    """In window rounds, an UPDATE or DELETE of t as its multi-table form
    over t and a one-row derived table (libsql's dml_multi.c path, every
    row of t its own joined row): the same rows change."""
    if not g.s.pk or dml.tail:
        return dml
    if dml.head.startswith("UPDATE t SET "):
        return Dml("UPDATE t, (SELECT 1 AS one) AS z SET " +
                   dml.head[len("UPDATE t SET "):], dml.where)
    if dml.head == "DELETE FROM t":
        return Dml("DELETE t FROM t, (SELECT 1 AS one) AS z", dml.where)
    return dml


def window_round_is(args, seed, rnd):
    """Whether round rnd of seed is a window round (a generator of its own,
    so the other rounds of a seed stay what they were)."""
    return Features(args.skip_feature).ok("window") and \
        random.Random("windows? %d/%d" % (seed, rnd)).random() < \
        args.window_ratio


class Tester:
    def __init__(self, args, my, sq):
        self.args = args
        self.my = my
        self.sq = sq
        self.ndiff = 0
        self.nstmt = 0
        self.out = sys.stdout

    def both(self, sql):
        self.nstmt += 1
        return self.my.run(sql), self.sq.run(sql)

    def setup(self, stmts):
        """Runs a script on both; True when every statement agreed."""
        for s in stmts:
            a, b = self.both(s)
            if compare(a, b, True, set()) is not None:
                return False
        return True

    def contents(self, case_order):
        return self.both("SELECT * FROM t ORDER BY " + case_order)

    def still_differs(self, script, check):
        """Replays script on both and tells whether check still differs."""
        if not self.setup(script):
            return False
        return check() is not None

    def minimize(self, case, check):
        """Drops initial rows, then DML, while check still differs."""
        rows, dml = list(case.rows), list(case.dml)
        for which in ("rows", "dml"):
            chunk = max(1, len(rows if which == "rows" else dml) // 2)
            while chunk >= 1:
                i = 0
                while True:
                    cur = rows if which == "rows" else dml
                    if i >= len(cur):
                        break
                    cand = cur[:i] + cur[i + chunk:]
                    r2, d2 = (cand, dml) if which == "rows" else (rows, cand)
                    if self.still_differs(case.script(r2, d2), check):
                        rows, dml = r2, d2
                    else:
                        i += chunk
                if chunk == 1:
                    break
                chunk //= 2
        return rows, dml

    def report(self, header, case, stmt_sql, a, b, why, repro):
        self.ndiff += 1
        w = self.out.write
        w("=" * 72 + "\n")
        w("DIFFERENCE %d: %s\n" % (self.ndiff, header))
        w("why: %s\n" % why)
        w("schema: %s\n" % case.create)
        w("data (%d rows, then %d DML):\n" % (len(case.rows), len(case.dml)))
        for s in case.rows + case.dml:
            w("  %s;\n" % s)
        w("statement: %s;\n" % stmt_sql)
        w("mariadb:\n%s\n" % indent(a.show()))
        w("sqld:\n%s\n" % indent(b.show()))
        w("minimized reproduction (--replay FILE):\n")
        for s in repro:
            w("  %s%s\n" % (s, "" if s.startswith("--") else ";"))
        w("\n")
        if self.args.report_dir:
            os.makedirs(self.args.report_dir, exist_ok=True)
            p = os.path.join(self.args.report_dir,
                             "diff-%d-%d.sql" % (self.args.seed, self.ndiff))
            with open(p, "w") as f:
                f.write("-- %s\n-- why: %s\n" % (header, why))
                for s in repro:
                    f.write(s + ("\n" if s.startswith("--") else ";\n"))
            w("written to %s\n" % p)
        self.out.flush()

    def check_select(self, case, order, sel, header):
        def run(s):
            a, b = self.both(s.sql())
            ci = s.ci_items
            if getattr(s, "matches_rows", False) and a.kind == "rows":
                # UNION [DISTINCT] / INTERSECT / EXCEPT match rows under
                # the collation: which of 'hello' and 'HELLO' survives is
                # unspecified, as for GROUP BY (normalize_value).
                ci = ci | {i for i, c in enumerate(a.cols) if c[1] == "string"}
            return a, b, compare(a, b, s.ordered, ci)
        a, b, why = run(sel)
        if why is None:
            return True
        script = case.script()
        best = sel
        if not self.args.no_minimize:
            rows, dml = self.minimize(case, lambda: run(best)[2])
            script = case.script(rows, dml)
            self.setup(script)
            progress = True
            while progress:
                progress = False
                for cand in best.smaller():
                    if run(cand)[2] is not None:
                        best = cand
                        progress = True
                        break
        ci = []
        if best.ci_items:
            ci = ["-- ci-columns: " + ",".join(str(i) for i in
                                                sorted(best.ci_items))]
        repro = script + ci + [best.sql()]
        self.report(header, case, sel.sql(), a, b, why, repro)
        return False

    def check_dml(self, case, order, dml, header):
        sql = dml.sql()
        a, b = self.both(sql)
        why = compare(a, b, True, set())
        if why is None:
            ta, tb = self.contents(order)
            why = compare(ta, tb, True, set())
            if why is not None:
                why = "table contents after the statement: " + why
                a, b = ta, tb
        if why is None:
            if a.kind == "ok":
                case.dml.append(sql)
            return True
        before = _with_dml(case, case.dml)

        def check(d):
            x, y = self.both(d.sql())
            w = compare(x, y, True, set())
            if w is None:
                x, y = self.contents(order)
                w = compare(x, y, True, set())
            return w
        rows, dml_before = case.rows, case.dml
        best = dml
        if not self.args.no_minimize:
            rows, dml_before = self.minimize(before, lambda: check(dml))
            script = before.script(rows, dml_before)
            progress = True
            while progress:
                progress = False
                for cand in best.smaller():
                    if self.still_differs(script, lambda: check(cand)):
                        best = cand
                        progress = True
                        break
        repro = before.script(rows, dml_before) + [
            best.sql(), "SELECT * FROM t ORDER BY " + order]
        self.report(header, before, sql, a, b, why, repro)
        return False

    def create(self, case, stmts, seed, rnd):
        """A round's DROP/CREATE statements on both: False (reported) when
        they differ."""
        for s in stmts:
            a, b = self.both(s)
            why = compare(a, b, True, set())
            if why is not None:
                self.report("seed %d round %d: CREATE TABLE" % (seed, rnd),
                            case, s, a, b, why, [s])
                return False
        return True

    def insert(self, case, s, header):
        """An initial row on both: False (reported) when they differ."""
        a, b = self.both(s)
        why = compare(a, b, True, set())
        if why is not None:
            self.report(header, case, s, a, b, why, case.script() + [s])
            return False
        if a.kind == "ok":
            case.rows.append(s)
        return True

    def join_round(self, seed, rnd):
        """2-4 tables, rows drawn so they meet, then joins over them."""
        rng = random.Random("join %d/%d" % (seed, rnd))
        f = Features(self.args.skip_feature)
        js = JoinSchema(rng, f)
        g = Gen(rng, QualSchema([]), f)
        case = JoinCase(js)
        if not self.create(case, case.script(), seed, rnd):
            return
        for t in js.tables:
            for i in range(rng.randint(0, 8)):
                if not self.insert(case, js.row(t, i),
                                   "seed %d round %d: insert" % (seed, rnd)):
                    return
        for q in range(self.args.per_table):
            if self.budget <= 0:
                return
            self.budget -= 1
            header = "seed %d round %d join %d" % (seed, rnd, q)
            sel = gen_join_select(g, js)
            if not self.check_select(case, None, sel, header):
                if not self.setup(case.script()):
                    return

    def round(self, seed, rnd):
        # Whether this is a join round comes from a generator of its own,
        # so the other rounds of a seed stay what they were.
        if Features(self.args.skip_feature).ok("join") and \
                random.Random("joins? %d/%d" % (seed, rnd)).random() < \
                self.args.join_ratio:
            return self.join_round(seed, rnd)
        rng = random.Random("%d/%d" % (seed, rnd))
        f = Features(self.args.skip_feature)
        schema = Schema(rng, f)
        g = Gen(rng, schema, f)
        order = schema.order_all()
        case = Case(schema.create_sql(), [])
        if not self.create(case, ["DROP TABLE IF EXISTS t", case.create],
                           seed, rnd):
            return
        for i in range(rng.randint(0, self.args.rows)):
            if not self.insert(case, gen_insert(g), "seed %d round %d: "
                               "insert %d" % (seed, rnd, i)):
                return
        for q in range(self.args.per_table):
            if self.budget <= 0:
                return
            self.budget -= 1
            header = "seed %d round %d statement %d" % (seed, rnd, q)
            x = rng.random()
            if x < self.args.error_ratio:
                if not self.check_dml(case, order, gen_error(g), header):
                    return
            elif x < self.args.error_ratio + self.args.dml_ratio:
                dml = gen_dml(g)
                if window_round_is(self.args, seed, rnd):
                    dml = multi_table_dml(g, dml)
                if not self.check_dml(case, order, dml, header):
                    return  # the tables may have diverged: next round
            else:
                if window_round_is(self.args, seed, rnd):
                    sel = gen_window_select(g)
                else:
                    sel = setop_variant(g, gen_select(g), header)
                if not self.check_select(case, order, sel, header):
                    # Put the table back as the case had it.
                    if not self.setup(case.script()):
                        return

    def run(self):
        self.budget = self.args.queries
        rnd = 0
        deadline = time.time() + self.args.duration if self.args.duration \
            else None
        while self.budget > 0:
            if deadline and time.time() > deadline:
                break
            self.round(self.args.seed, rnd)
            rnd += 1
            if self.args.max_diffs and self.ndiff >= self.args.max_diffs:
                break
        return rnd


class SetopQuery:
    """A set operation or WITH query built around a generated SELECT
    (setop_variant); compared unordered, not minimized."""

    def __init__(self, text, ci_items, ordered=False, matches_rows=False):
        self.text = text
        self.ci_items = set(ci_items)
        self.ordered = ordered
        self.matches_rows = matches_rows  # rows matched by the collation

    def sql(self):
        return self.text

    def smaller(self):
        return []


def setop_variant(g, sel, header):
    """Sometimes (a quarter of the plain SELECTs) sel rewritten as a set
    operation of two blocks over t, a WITH query over a CTE of t, or a
    recursive CTE that walks t's rows; else sel. Draws from a generator
    of its own (seeded by header), so the other statements of a round
    stay what they were."""
    r = random.Random("setop " + header)
    if r.random() >= 0.25 or sel.limit is not None and not sel.order or \
            len(set(sel.items)) < len(sel.items):
        # (Two items of one name: MariaDB's 1060 for INTERSECT/EXCEPT,
        # FINDINGS.md FS1.)
        return sel
    g2 = Gen(r, g.s, g.f)
    kind = g2.pick("setop:union", "setop:union-all", "setop:intersect",
                   "setop:intersect-all", "setop:except", "setop:except-all",
                   "cte:plain", "cte:twice", "cte:recursive")
    if kind is None:
        return sel

    def block(x):
        """A block of a set operation: its own ORDER BY/LIMIT in parens."""
        if x.limit is not None:
            return "(%s)" % x.sql()
        return x.copy(order=[]).sql()
    other = sel.copy(where=g2.where() if r.random() < 0.8 else None)
    if kind.startswith("setop:"):
        op = kind[6:].upper().replace("-", " ")
        if op in ("UNION", "INTERSECT", "EXCEPT") and r.random() < 0.3:
            op += " DISTINCT"
        text = "%s %s %s" % (block(sel), op, block(other))
        if r.random() < 0.3 and not op.endswith("ALL"):
            # INTERSECT binds tighter: a third block on either side (not
            # after INTERSECT ALL / EXCEPT ALL: MariaDB can hang, FS2).
            third = sel.copy(where=g2.where(), order=[], limit=None,
                             offset=None)
            text = "%s %s %s" % (text, r.choice(["UNION", "INTERSECT",
                                                "EXCEPT"]), third.sql())
        return SetopQuery(text, sel.ci_items, matches_rows=re.search(
            r" (UNION(?! ALL)|INTERSECT|EXCEPT) ", text) is not None)
    cte = "SELECT * FROM t" + (" WHERE " + render_where(g2.where())
                               if r.random() < 0.7 else "")
    if kind == "cte:plain":
        return SetopQuery("WITH c AS (%s) %s" % (cte, sel.copy(frm="c").sql()),
                          sel.ci_items, sel.ordered)
    if kind == "cte:twice":
        return SetopQuery("WITH c AS (%s) %s UNION ALL %s" % (
            cte, block(sel.copy(frm="c")), block(other.copy(frm="c"))),
            sel.ci_items)
    # cte:recursive: each row of t that passes, then two more copies of
    # it numbered by depth (UNION ALL), or t's rows once (UNION).
    cols = [c for c in g.s.cols if c.kind != "float"][:2]
    items = [c.name for c in cols] or ["1"]
    ci = {i + 1 for i, c in enumerate(cols) if c.stringy}
    if r.random() < 0.5:
        text = ("WITH RECURSIVE r AS (SELECT 1 AS n, %s FROM t%s UNION ALL "
                "SELECT n + 1, %s FROM r WHERE n < 3) SELECT * FROM r" % (
                    ", ".join(items),
                    " WHERE " + render_where(g2.where())
                    if r.random() < 0.7 else "",
                    ", ".join(items)))
    else:
        text = ("WITH RECURSIVE r AS (SELECT 1 AS n, %s FROM t UNION SELECT "
                "1, %s FROM r) SELECT * FROM r" % (", ".join(items),
                                                   ", ".join(items)))
    return SetopQuery(text, ci)


def _with_dml(case, dml):
    c = Case(case.create, case.rows)
    c.dml = list(dml)
    return c


def indent(s):
    return "\n".join("  " + line for line in s.splitlines())


def replay(t, path):
    """Runs every statement of a file on both servers and compares each;
    a statement with ORDER BY compares in order, others as multisets.
    A line '-- ci-columns: 0,2' folds those columns of the next statement."""
    stmts, ci, cur = [], set(), []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"--\s*ci-columns:\s*([\d,\s]*)", line)
            if m:
                ci = {int(x) for x in m.group(1).replace(" ", "").split(",")
                      if x}
                continue
            if line.startswith("--") or not line.strip():
                continue
            cur.append(line)
            if line.rstrip().endswith(";"):
                stmts.append((" ".join(cur).rstrip()[:-1], ci))
                cur, ci = [], set()
    bad = 0
    for sql, ci in stmts:
        a, b = t.both(sql)
        why = compare(a, b, " ORDER BY " in sql.upper(), ci)
        print(("DIFF " if why else "same ") + sql)
        if why:
            bad += 1
            print("  why: " + why)
            print("  mariadb:\n" + indent(indent(a.show())))
            print("  sqld:\n" + indent(indent(b.show())))
    print("replay: %d statements, %d differences" % (len(stmts), bad))
    return bad


def main():
    ap = argparse.ArgumentParser(
        description="Differential tester: sqld against MariaDB.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=500,
                    help="statements to generate (besides initial rows)")
    ap.add_argument("--rows", type=int, default=12,
                    help="at most this many initial rows per table")
    ap.add_argument("--per-table", type=int, default=40,
                    help="statements per random table")
    ap.add_argument("--dml-ratio", type=float, default=0.25)
    ap.add_argument("--join-ratio", type=float, default=0.3,
                    help="share of rounds that join 2-4 tables")
    ap.add_argument("--window-ratio", type=float, default=0.15,
                    help="share of rounds whose SELECTs call window "
                    "functions")
    ap.add_argument("--error-ratio", type=float, default=0.05,
                    help="share of statements written to fail")
    ap.add_argument("--skip-feature", default=None, metavar="REGEXP",
                    help="never generate features whose name matches")
    ap.add_argument("--sqld-port", type=int, default=0)
    ap.add_argument("--mariadb-port", type=int, default=0)
    ap.add_argument("--base-port", type=int, default=26100,
                    help="first port tried for a MariaDB started here "
                    "(sqld started here takes any free port)")
    ap.add_argument("--sqld", default=None, help="the sqld binary")
    ap.add_argument("--db", default="difftest",
                    help="database to work in (runs sharing servers differ)")
    ap.add_argument("--replay", default=None, metavar="FILE")
    ap.add_argument("--report-dir", default=None)
    ap.add_argument("--max-diffs", type=int, default=0,
                    help="stop after this many differences (0: never)")
    ap.add_argument("--no-minimize", action="store_true")
    ap.add_argument("--duration", type=float, default=0, metavar="SECONDS",
                    help="also stop after this long (with a large --queries,"
                    " a timed run)")
    args = ap.parse_args()

    servers = Servers(args)
    try:
        servers.start()
        my = Conn("mariadb", servers.mariadb_port, args.db)
        sq = Conn("sqld", servers.sqld_port, args.db)
        t = Tester(args, my, sq)
        if args.replay:
            return 1 if replay(t, args.replay) else 0
        start = time.time()
        try:
            rounds = t.run()
        except ServerGone as e:
            print("difftest: seed %d: %s; %d statements run, %d differences "
                  "before" % (args.seed, e, t.nstmt, t.ndiff))
            return 2
        print("difftest: seed %d, %d tables, %d statements run, "
              "%d differences, %.1fs" % (args.seed, rounds, t.nstmt, t.ndiff,
                                         time.time() - start))
        return 1 if t.ndiff else 0
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())

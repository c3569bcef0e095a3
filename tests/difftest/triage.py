#!/usr/bin/env python3
# triage.py: sorts the differences of difftest.py runs (their stdout files)
# into the findings of FINDINGS.md they are instances of, by rules on the
# minimized reproduction, and prints the rest in full for a person to read.
# Usage: triage.py OUT... [--show LABEL] [--replayed LOG] (LOG: lines "FILE
# replay: N statements, M differences", which adds a column of those that
# still differ). See FINDINGS.md "Long runs".
import re
import sys

NUM = r"(?:TINYINT|SMALLINT|INT|BIGINT|DECIMAL|FLOAT|DOUBLE)"
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2}(\.\d+)?)?$")
TIME_RE = re.compile(r"^-?\d{1,3}:\d{2}:\d{2}(\.\d+)?$")
OPS = r"(<=>|<=|>=|<>|!=|=|<|>)"
OPERAND = r"((?:(?:a\d|s)\.)?(?:c\d|k\d|v|id)\b|'(?:[^'\\]|''|\\.)*'|-?[\d.]+(?:e-?\d+)?)"


def blocks(path):
    with open(path, errors="replace") as f:
        text = f.read()
    for part in text.split("=" * 72)[1:]:
        if "DIFFERENCE" not in part:
            continue
        b = {"text": part}
        m = re.search(r"^why: (.*)$", part, re.M)
        b["why"] = m.group(1) if m else ""
        m = re.search(r"^statement: (.*)$", part, re.M)
        b["stmt"] = m.group(1) if m else ""
        m = re.search(r"^(DIFFERENCE .*)$", part, re.M)
        b["head"] = m.group(1) if m else ""
        rep = part.split("minimized reproduction (--replay FILE):", 1)
        lines = [ln.strip() for ln in rep[1].splitlines()] if len(rep) > 1 \
            else []
        b["creates"] = [ln for ln in lines if ln.startswith("CREATE TABLE")] \
            or re.findall(r"CREATE TABLE [^;]*\)[^;]*(?=;|$)",
                          part.split("\n", 3)[2] if part.count("\n") > 3
                          else "")
        if not b["creates"]:
            m = re.search(r"^schema: (.*)$", part, re.M)
            b["creates"] = m.group(1).split("; ") if m else []
        stmts = [ln.rstrip(";") for ln in lines
                 if ln and not ln.startswith(("DROP", "CREATE", "INSERT",
                                              "written", "--", "difftest:",
                                              "====="))]
        stmts = [s for s in stmts if not re.match(
            r"SELECT \* FROM \w+ ORDER BY", s)]
        b["min"] = stmts[-1] if stmts else b["stmt"]
        m = re.search(r"^written to (\S+)$", part, re.M)
        b["file"] = m.group(1).rsplit("/", 1)[-1] if m else ""
        yield b


def col_classes(creates):
    """{table: {column: class}} with classes num, str, date, time."""
    out = {}
    for c in creates:
        m = re.match(r"CREATE TABLE (\w+) \((.*)\)", c)
        if not m:
            continue
        cols = {}
        for name, ty in re.findall(r"(?:^|, )(\w+) ([A-Z]+)", m.group(2)):
            if name in ("PRIMARY", "KEY", "UNIQUE"):
                continue
            cols[name] = ("num" if re.match(NUM, ty) else
                          "time" if ty == "TIME" else
                          "date" if ty.startswith("DATE") else "str")
        out[m.group(1)] = cols
    return out


def operand_class(tok, cols, aliases):
    if tok.startswith("'"):
        s = tok[1:-1]
        if DATE_RE.match(s):
            return "lit-date"
        if TIME_RE.match(s):
            return "lit-time"
        return "lit-str"
    if re.match(r"-?[\d.]", tok):
        return "num"
    if "." in tok:
        a, c = tok.split(".")
        return cols.get(aliases.get(a, ""), {}).get(c)
    t = cols.get("t")
    if t is not None:
        return t.get(tok)
    # Unqualified in a join statement (a derived table's WHERE): the
    # column of some table; the caller tries each.
    return [c.get(tok) for c in cols.values()]


def mixed(a, b):
    if isinstance(a, list) or isinstance(b, list):
        xs = a if isinstance(a, list) else [a] * len(b)
        ys = b if isinstance(b, list) else [b] * len(a)
        return any(mixed(x, y) for x, y in zip(xs, ys))
    if a is None or b is None or a == b:
        return False
    pair = {a, b}
    if pair in ({"date", "lit-date"}, {"time", "lit-time"},
                {"str", "lit-str"}, {"str", "lit-date"}, {"str", "lit-time"}):
        return False
    if "lit-str" in pair and pair & {"num"}:
        return True
    return True


def mixed_comparison(b):
    cols = col_classes(b["creates"])
    s = b["min"]
    aliases = dict((a, t) for t, a in re.findall(r"\b(j\d) (a\d|s)\b", s))
    aliases.update((a, t) for t, a in re.findall(
        r"\(SELECT \* FROM (j\d)\b[^()]*(?:\([^()]*\)[^()]*)*\) (a\d)", s))
    cl = lambda t: operand_class(t, cols, aliases)
    for x, _op, y in re.findall(OPERAND + r"\s*" + OPS + r"\s*" + OPERAND, s):
        if mixed(cl(x), cl(y)):
            return True
    for x, lst in re.findall(OPERAND + r" (?:NOT )?IN \(([^()]*)\)", s):
        for y in re.findall(OPERAND, lst):
            if y != "NULL" and mixed(cl(x), cl(y)):
                return True
    for x, lo, hi in re.findall(OPERAND + r" (?:NOT )?BETWEEN " + OPERAND +
                                " AND " + OPERAND, s):
        if mixed(cl(x), cl(lo)) or mixed(cl(x), cl(hi)):
            return True
    return False


def inexact_agg(b):
    """Whether a SUM/AVG of the minimized statement adds doubles: a FLOAT
    or DOUBLE column, a DOUBLE literal or POW in its argument."""
    doubles = set()
    for c in b["creates"]:
        doubles.update(re.findall(r"(?:\(|, )(\w+) (?:FLOAT|DOUBLE)\b", c))
    for arg in re.findall(r"\b(?:SUM|AVG)\(((?:[^()]|\([^()]*\))*)\)",
                          b["min"]):
        if re.search(r"\d[eE]-?\d|POW\(", arg) or \
                any(re.search(r"\b%s\b" % d, arg) for d in doubles):
            return True
    return False


def codes(b):
    m = re.search(r"mariadb:\n\s+ERROR (\d+)", b["text"])
    s = re.search(r"sqld:\n\s+ERROR (\d+)", b["text"])
    return (int(m.group(1)) if m else None, int(s.group(1)) if s else None)


# Differences read one by one and found to be MariaDB's where no rule on
# the reproduction can say so: (seed, round, statement) -> label.
REVIEWED = {
    ("701", "5473", "17"):
        "M08 (MariaDB drops rows under a range plan it picks right after "
        "the DML; not reproduced on replay)",
    ("702", "14394", "27"):
        "M09 (MariaDB's MIN/MAX optimization clips an out-of-range "
        "constant to the key's type)",
    ("702", "11838", "14"):
        "tester: FLOAT normalization rounded the shortest text, not the "
        "float (fixed since cc263cf)",
    ("701", "11024", "19"):
        "M10 (MariaDB's 1292 for NOT IN (NULL, NULL) in a multi-table UPDATE "
        "of an empty table)",
    ("701", "295", "33"):
        "F24/F31 (an error on a row MariaDB's range never reads)",
    ("701", "4574", "10"):
        "F24/F31 (an error on a row MariaDB's range never reads)",
    ("701", "8494", "0"):
        "F16 (CAST(x AS SIGNED) is sized by x in MariaDB: ROUND(.., -1) "
        "an integer; fixed since 8d90c7c)",
    ("702", "10861", "6"):
        "F4 (FLOOR of a DECIMAL COALESCE with a 19-digit literal: DECIMAL "
        "in MariaDB; fixed since 8d90c7c)",
    ("703", "8991", "34"):
        "F24/F31 (an error on a row MariaDB's impossible range (BETWEEN 803 "
        "AND 448) never reads)",
    ("703", "10085", "19"):
        "F24/F31 (an error on a row sqld's <=> key lookup never reads, "
        "MariaDB's scan does)",
    ("711", "922", "32"):
        "M07 (MariaDB's loose index scan (here for a SELECT DISTINCT, "
        "'Using index for group-by') loses rows)",
    ("711", "1802", "10"):
        "M09 (MariaDB's MIN/MAX optimization converts the constant to the "
        "FLOAT key's type: `c0 <=> 3.4e38` finds the float 3.4e38)",
    ("711", "2224", "34"):
        "M09 (MariaDB's MIN/MAX optimization converts the constant to the "
        "FLOAT key's type: MIN is a row its own COUNT(*) leaves out)",
    ("711", "1349", "32"):
        "F4 (FLOOR(bigint MOD decimal): MOD's precision; fixed since "
        "271e6fc)",
    ("712", "2053", "18"):
        "F24/F31 (an error on a row MariaDB's range never reads)",
    ("712", "5296", "10"):
        "M11 (MariaDB's UNION cuts CAST(float-typed CASE AS CHAR) to the "
        "12 characters of its type in the temporary table)",
    ("801", "29", "27"):
        "M09 (MariaDB's MIN/MAX optimization converts the constant to the "
        "FLOAT key's type: `c1 = 0.1` finds the float 0.1 there)",
    ("801", "1308", "24"):
        "M08 (MariaDB returns a row of EXCEPT ALL's right side right after "
        "the DML; not reproduced on replay, sqld's empty answer is right)",
    ("802", "1012", "21"):
        "M04 (MariaDB's COUNT(DISTINCT ROUND(float_col, 1)) counts 1e30 "
        "and 3.4e38 as one: clipped in its temporary table)",
    ("802", "1362", "5"):
        "F12 (a constant WHERE's error on an empty table: MariaDB's "
        "optimizer evaluates it in a multi-table UPDATE, sqld reads no row)",
    ("801", "1381", "15"):
        "F7/F31 (MariaDB folds `c1 IS NULL` of a NOT NULL column to FALSE "
        "and drops the AND whose c0 MOD c0 sqld evaluates: 1365 in a strict "
        "UPDATE)",
    ("801", "5701", "1"):
        "M04 (MariaDB's COUNT(DISTINCT TRUNCATE(double_col, -1)) counts "
        "1.7e308 and 1e30 as one: clipped in its temporary table)",
    ("802", "3773", "24"):
        "M13 (MariaDB drops rows of `(c1 NOT IN (..) OR NOT (c0 < n)) AND "
        "c1 < m` over an INT UNSIGNED key (c1, c0): 2 of the 5)",
    ("802", "3773", "25"):
        "M13 (the same table and round: MariaDB's 3 rows of 9)",
    ("803", "9032", "18"):
        "M13 (MariaDB's range over a BIGINT UNSIGNED key with NOT IN / <> "
        "and `c1 < 18446744073709551614` finds none of the row's 2)",
    ("802", "11251", "27"):
        "M07 (MariaDB's loose index scan, 'Using index for group-by' for "
        "a SELECT DISTINCT, loses the row `c4 LIKE '%a'` finds)",
    ("811", "3328", "18"):
        "M09 (MariaDB's MIN/MAX optimization converts the constant to the "
        "FLOAT key's type: `c0 <=> 1e30` finds the float 1e30, which the "
        "comparison itself (0 there too) does not)",
    ("811", "7974", "2"):
        "M09 (MariaDB's MIN/MAX optimization converts the constant to the "
        "key's type: `c4 = ROUND(0.5, 2)` looks the BIGINT UNSIGNED key up "
        "as 1; NULL with IGNORE INDEX)",
    ("811", "10327", "8"):
        "M09 (MariaDB's MIN/MAX optimization converts the constant to the "
        "FLOAT key's type: `c4 < 3.4e38` misses the float 3.4e38, which "
        "is below the double 3.4e38; found with IGNORE INDEX)",
    ("811", "9850", "37"):
        "M07 (MariaDB's loose index scan over PRIMARY (c2, c0) tests "
        "`c2 LIKE '_'` on the group's first key 'a ' only and loses 'a')",
    ("813", "9718", "34"):
        "M07 (MariaDB's loose index scan, 'Using index for group-by' on "
        "(c1, c0) for a SELECT DISTINCT, loses ('-1', -73); found with "
        "IGNORE INDEX)",
    ("811", "17040", "37"):
        "M07 (MariaDB's loose index scan on i0 (c1) for a SELECT DISTINCT "
        "keeps 1 of the 3 rows its own IGNORE INDEX finds)",
    ("813", "13617", "26"):
        "M07 (MariaDB's loose index scan over PRIMARY (c3, c2) tests the "
        "WHERE on the group's first key 'Abc' only and loses 'abc')",
    ("811", "18831", "10"):
        "M13 (MariaDB's range over the BIGINT UNSIGNED key (c1, c0) with "
        "NOT BETWEEN and `c1 <> 18446744073709551614`, in a merged CTE, "
        "finds 1 of the 6 rows; all 6 with IGNORE INDEX)",
    ("812", "9465", "7"):
        "M05 (MariaDB clips MIN(ROUND(decimal(13,0), -1)) in a UNION ALL "
        "to its type: -9999999999999 for -10000000000000; alone it is "
        "-10000000000000 there too)",
    ("811", "3410", "33"):
        "M14 (MariaDB's TIME '00:00:00' equals a number within a "
        "microsecond of -1 (-0.99999985 here; -0.999999 too, -0.99 not), "
        "whose own CAST AS TIME is NULL)",
    ("811", "6904", "8"):
        "M14 (MariaDB's TIME '00:00:00' = DECIMAL -0.999999 is true: the "
        "UPDATE matches the row there)",
    ("813", "2150", "19"):
        "M05 (MariaDB clips NULLIF(10, smallint) / -1 in a UNION to "
        "-9.9999, one integer digit short)",
    ("811", "19234", "0"):
        "M09 (MariaDB's MIN/MAX optimization converts `BETWEEN .. AND 0.1` "
        "to the FLOAT key's type: 'No matching min/max row'; with IGNORE "
        "INDEX it answers sqld's row)",
    ("813", "12088", "27"):
        "F23 (MariaDB's typing: COALESCE(IF(c, NULL, NULL), decimal) is a "
        "string there; sqld's DECIMAL, values equal; intended)",
    ("811", "7980", "32"):
        "F16 (ROUND(decimal DIV decimal, -1) typing: fixed since 4ce14a6)",
    ("812", "12137", "32"):
        "F4 (CEIL(x MOD bigint_unsigned): 20 digits, DECIMAL; fixed since "
        "4ce14a6)",
    ("813", "14102", "30"):
        "F34 (CAST(decimal AS SIGNED) past the range warns 1916, which a "
        "strict UPDATE makes its error: fixed since 4ce14a6)",
    ("813", "2374", "28"):
        "M11 (MariaDB's UNION ALL cuts CAST(FLOOR(double) AS CHAR) of 1e30 "
        "to 17 characters in its temporary table)",
    ("813", "8513", "33"):
        "agg:float-sum (HAVING SUM(double_col) = 0: the sum's last bits "
        "follow each server's row order; the generator's HAVING still "
        "draws it)",
    ("812", "6", "37"):
        "M07 (MariaDB's loose index scan, 'Using index for group-by' for "
        "a SELECT DISTINCT, finds 2 of the 5 rows its own IGNORE INDEX "
        "finds)",
    ("813", "7179", "21"):
        "M07 (MariaDB's loose index scan for a CTE's SELECT DISTINCT "
        "returns a row `c1 IN ('2006-01-11')` does not match; empty with "
        "IGNORE INDEX)",
    ("802", "10581", "6"):
        "M05 (MariaDB clips a CASE in a UNION ALL to its type: "
        "999999999999999999 where FLOOR(9223372036854775807) is itself)",
    ("803", "8997", "31"):
        "F24/F31 (an error on a row MariaDB's impossible range (BETWEEN "
        "399.578 AND 0) never reads: sqld's DIV warns 1916 in a strict "
        "UPDATE)",
    ("802", "5633", "4"):
        "E3/F7 (strict UPDATE: `100 < (c2 / c2)` on a row with c2 = 0 "
        "is 1365 in MariaDB, which scans PRIMARY and reads the WHERE in "
        "its write pass; sqld reads the range on i0, whose column the "
        "UPDATE sets, so it collects first, warnings kept: plan-dependent)",
    ("803", "6586", "30"):
        "M12 (MariaDB merges the derived table and looks its INT key up "
        "with 0.5 rounded: `id = 0.5` finds id 1)",
    ("801", "6556", "29"):
        "M12 (MariaDB merges the derived table and looks its INT key up "
        "with 0.5 rounded: `0.5 = a2.id` finds id 1)",
    ("803", "8467", "33"):
        "F13/F26 (a quotient sorted at MariaDB's display scale: "
        "0.5 / c2 ties at -0.00001)",
    ("802", "7932", "10"):
        "M05 (MariaDB clips a CASE in a UNION to its type: 99.99 where "
        "ROUND(100, 1) is 100.00)",
    ("702", "13173", "11"):
        "F30 (a DOUBLE past 1e15 with fixed decimals lost its 17th digit "
        "on the wire: fixed since 4f737b0)",
}


def classify(b):
    why, s = b["why"], b["min"]
    m = re.match(r"DIFFERENCE \d+: seed (\d+) round (\d+) (?:statement|join) (\d+)",
                 b["head"])
    if m and m.groups() in REVIEWED:
        return REVIEWED[m.groups()]
    dml = re.match(r"(UPDATE|DELETE)", b["stmt"]) is not None
    me, se = codes(b)
    if se == 0:
        return "E2 (a derived table's or CTE's row error under an " \
               "aggregation or a sort reached the client as error 0: " \
               "fixed since 584b2a3)"
    if (me, se) in ((1111, 1056), (1366, 1265)):
        return "F21 (MySQL's error number in sqld: normalized since)"
    if (me, se) == (1690, 1054) and \
            re.search(r"WHERE .*\b\d{10,}\b.* ORDER BY \d+ ", s):
        return "E4 (two errors in one statement: MariaDB evaluates a " \
               "constant member of the WHERE's AND/OR while it resolves " \
               "the WHERE, before the ORDER BY's names; sqld resolves " \
               "every name first: intended)"
    if (me, se) == (1064, 1582):
        return "F21 (SUBSTRING arity: fixed since)"
    if me == 1054 and re.search(r"Unknown column '-\d+'", b["text"]):
        return "ORDER BY -n (MariaDB's position -n is 1054 there, a " \
               "constant here, which the tester normalizes; another error " \
               "of the statement then shows on sqld's side only)"
    if why.startswith("error code") and {me, se} & {1062} and \
            {me, se} & {1292, 1690, 1264, 1366, 1048, 1365}:
        return "F11 (two errors possible: which row comes first)"
    if re.search(r"CAST\(\(?-? ?c\d\)? AS CHAR\)", s) and \
            re.search(r"'-?0\.0000\d+'.*'-?\d(\.\d+)?e-\d+'", why):
        return "F28 (small FLOAT as text)"
    if re.search(r"\bDIV\b", s) and re.search(
            r"\b(UNION|INTERSECT|EXCEPT)\b", s) and \
            re.search(r"mariadb \(.*'(2147483647|-?9+\.9+)'.*\), sqld", why):
        return "M05 (MariaDB clips a DIV in a set operation to its type)"
    if re.search(r"\b(IF|NULLIF|CASE|IFNULL|COALESCE)\b", s) and \
            re.search(r"\b(UNION|INTERSECT|EXCEPT)\b", s) and \
            re.search(r"mariadb \(.*'-?9{18}(\.9+)?'.*\), sqld \(.*"
                      r"'-?922337203685477580[78](\.0+)?'", why):
        return "M05 (MariaDB clips a CASE/IF in a set operation to its " \
               "type: 999999999999999999 for 9223372036854775807)"
    cd = re.match(r"row 1: mariadb \('(\d+)',.*\), sqld \('(\d+)',", why)
    if cd and re.match(r"SELECT COUNT\(DISTINCT (ROUND|TRUNCATE|FLOOR|"
                       r"CEIL|CEILING)?\(?c\d\b[^)]*\)+ FROM t;?$", s) and \
            int(cd.group(1)) < int(cd.group(2)) and \
            re.search(r"\b(FLOAT|DOUBLE)\b", " ".join(b["creates"])):
        return "M04 (MariaDB's COUNT(DISTINCT f(float_col)) counts 1e30 " \
               "and 3.4e38 (or 1.7e308) as one: clipped in its temporary " \
               "table)"
    if re.search(r"\bAVG\(", s) and re.search(
            r"\b(UNION|INTERSECT|EXCEPT)\b", s) and \
            re.search(r"mariadb \(.*'-?9+\.9+'.*\), sqld", why):
        return "F13/F26 (MariaDB clips an AVG in a set operation: 99.9999)"
    if re.search(r"NOT IN \(SELECT s\.", s) and \
            why.startswith("row count"):
        return "M02 (MariaDB's NOT IN subquery through an index rounds " \
               "the outer DECIMAL to the INT key)"
    if re.search(r"\b(MIN|MAX)\(", s) and re.search(
            r"-?(9223372036854775807|18446744073709551615) = c\d\b|"
            r"\bc\d = -?(9223372036854775807|18446744073709551615)", s):
        return "M09 (MariaDB's MIN/MAX optimization clips an out-of-range " \
               "constant to the key's type)"
    rc = re.match(r"row count: mariadb (\d+), sqld (\d+)", why)
    if re.search(r"COUNT\(DISTINCT", s) and re.search(r"GROUP BY", s) and \
            rc and int(rc.group(1)) < int(rc.group(2)):
        return "M07 (MariaDB's loose index scan for COUNT(DISTINCT) .. " \
               "GROUP BY loses rows)"
    if me == 1060 and se is None and \
            re.search(r"\b(INTERSECT|EXCEPT)\b", s):
        return "FS1 (MariaDB's 1060 for repeated column names under a " \
               "set operation with INTERSECT/EXCEPT)"
    if me == 1054 and se not in (None, 1054) and \
            re.search(r"JOIN \(SELECT", s):
        return "E1 (1054 in an ON after a derived table's row error: sqld " \
               "read the derived table first; fixed since 7e56d67)"
    if re.search(r"\b(c\d) MOD \1\b", s) and \
            re.match(r"(affected rows|row)", why) and \
            re.search(r"\bDECIMAL\b", " ".join(b["creates"])):
        return "F14/F18 (MariaDB's negative zero)"
    if re.search(r"(ORDER BY|COUNT\(DISTINCT) \((-?\d+|c\d) / c\d\)", s) \
            and \
            why.startswith("row"):
        return "F13/F26 (a quotient sorted or made DISTINCT at MariaDB's " \
               "4 decimals)"
    if dml and se == 1264 and me is None and b["stmt"].startswith("UPDATE") \
            and re.search(r"\b[ck]\d\b|\bid\b", s.split("WHERE", 1)[-1]):
        return "F31 (strict UPDATE: a conversion warning on rows " \
               "MariaDB's range never reads)"
    if dml and se == 1441 and me is None:
        return "F31 (strict UPDATE: a DATE_ADD overflow on a row " \
               "MariaDB's range never reads)"
    if re.search(r"ORDER BY \(- -?\d+\)", s):
        return "ORDER BY -n, (- -n) (MariaDB's position)"
    mrows = b["text"].split("mariadb:", 1)[-1].split("sqld:", 1)[0]
    if re.search(r"mariadb \(.*'-?1e\+17'.*\), sqld", why) or (
            re.search(r"\b(UNION|INTERSECT|EXCEPT)\b", s) and
            re.search(r"sqld \(.*'-?\d(\.\d+)?e\+(1[7-9]|[2-9]\d|\d{3})'",
                      why)) or (
            why.startswith("row") and
            re.search(r"'-?100000000000000000'", mrows)):
        return "M04 (MariaDB clips a large DOUBLE in a temporary table)"
    if re.search(r"\b(SUM|AVG)\(", s) and why.startswith("row") and \
            inexact_agg(b):
        return "agg:float-sum (a sum of doubles depends on the row order; " \
               "the generator makes it COUNT since dd831ab)"
    if re.search(r"CAST\(.*AS CHAR\)", s) and re.search(
            r"\b(FLOAT)\b", " ".join(b["creates"])) and \
            why.startswith("row"):
        return "F10/F28, F22 (a FLOAT as text: MariaDB's 6 digits " \
               "since 219694c)"
    if re.search(r"CAST\(.*AS CHAR\)|CONCAT", s) and re.search(
            r"\bDOUBLE\b", " ".join(b["creates"])) and \
            why.startswith("row"):
        return "F28 (a small DOUBLE as text: plain to 1e-15 since c8f15c5)"
    if re.search(r"\b(ROUND|TRUNCATE)\(", s) and why.startswith("row") and \
            re.search(r"'-?\d+\.\d*'.*'-?\d+\.\d{9,}'", why):
        return "F30 (a DOUBLE's fixed decimals: MariaDB's since 8cb031f)"
    if 1916 in (me, se):
        return "F34 (a DOUBLE past 81 digits to DECIMAL warns 1916: DIV " \
               "fixed since 7727a5d, CAST since f51335d)"
    if dml and se is not None and me is None and \
            re.search(r"\bWHERE\b", s) and \
            not re.search(r"\b[ck]\d\b|\bid\b|\bv\b",
                          s.split("WHERE", 1)[1]):
        return "F32 (a constant WHERE's warning: MariaDB folds it before " \
               "strict mode applies; fixed since 70d66b7)"
    if re.search(r"(\bDIV|CAST\() ?\(?(GREATEST|LEAST)\(", s) and \
            why.startswith("row"):
        return "F35 (a DOUBLE GREATEST/LEAST read as DECIMAL: fixed since " \
               "e45e51b)"
    if b["stmt"].startswith("UPDATE") and {me, se} == {None, 1062}:
        return "F11 (UPDATE through a transient duplicate: which row " \
               "comes first)"
    if dml and b["min"].startswith("UPDATE") and {me, se} & {1292} and \
            mixed_comparison(b):
        return "F31 (strict UPDATE: a comparison's warning on rows one " \
               "server reads)"
    if "MOD" in s and re.search(r"'-0(\.0*)?'", b["text"]):
        return "F14/F18 (MariaDB's negative zero)"
    if 1690 in (me, se) and (me is None or se is None):
        return "F12/F24/FJ2 (overflow on a row or constant one side " \
               "never evaluates)"
    if mixed_comparison(b):
        return "F6/F15 (mixedcmp: comparison across type classes; " \
               "fixed since 0da81f3)"
    if why.startswith("error code") and dml:
        return "F11 (two errors possible: which row comes first)"
    if dml and me in (1292, 1366, 1441, 1264) and se is None:
        return "F7 (conversion warning in an UPDATE/DELETE WHERE)"
    if dml and se == 1365 and me is None:
        return "F7 (division by zero in a DML WHERE: DELETE's fixed " \
               "since 9608e3f)"
    if (me is None) != (se is None) and \
            {me, se} & {1441, 1292, 1264, 1366, 1365} and \
            re.search(r"<=>|\bNOT \(", s):
        return "F24/F31 (an error on a row MariaDB's key access never " \
               "reads: <=> or a NOT it rewrites into a range)"
    if why.startswith("type of column"):
        m = re.search(r"\((.*)\): mariadb (\w+), sqld (\w+)", why)
        expr = m.group(1) if m else ""
        if re.search(r"\b(CEIL|FLOOR)\(", expr) and \
                (m.group(2), m.group(3)) == ("int", "decimal"):
            return "F4 (CEIL/FLOOR typing: fixed since 3e96adb, bdb7a85; " \
                   "CASE/ABS since 88a2738)"
        if {m.group(2), m.group(3)} == {"float", "double"}:
            return "F10 (FLOAT against DOUBLE result type; FLOAT with " \
                   "small integers since c5a0474)"
        if "NULLIF(NULL" in expr.upper():
            return "F23 (NULLIF(NULL, x) merged by IF: MariaDB's DECIMAL " \
                   "for an unsigned x; fixed since 8d90c7c)"
        if "NULL" in expr.upper():
            return "F23 (NULL literal typing: fixed since 5fb29ce)"
        if re.search(r"ROUND\(|\(- |-\(", expr):
            return "F16 (ROUND(bigint, -n) / negation typing: fixed " \
                   "since bdb7a85)"
        return "type: " + why
    if re.search(r"AVG\(|/ ", s) and why.startswith("row") and \
            re.search(r"'-?\d+\.\d+'", why):
        return "F13/F26 (DECIMAL quotient digits)"
    return "unclassified"


def replayed(path):
    """{reproduction file name: differences on replay} from lines "FILE replay:
    N statements, M differences" (a replay script's log)."""
    out = {}
    with open(path) as f:
        for ln in f:
            m = re.match(r"(\S+) replay: \d+ statements, (\d+) differences",
                         ln)
            if m:
                out[m.group(1).rsplit("/", 1)[-1]] = int(m.group(2))
    return out


def main():
    show = None
    args = sys.argv[1:]
    if "--show" in args:
        i = args.index("--show")
        show = args[i + 1]
        del args[i:i + 2]
    rep = None
    if "--replayed" in args:
        i = args.index("--replayed")
        rep = replayed(args[i + 1])
        del args[i:i + 2]
    counts, total = {}, 0
    for p in args:
        for b in blocks(p):
            total += 1
            lab = classify(b)
            counts.setdefault(lab, []).append(b)
    still = lambda bs: sum(1 for b in bs if rep.get(b["file"], 1) > 0)
    for lab, bs in sorted(counts.items(), key=lambda kv: -len(kv[1])):
        if rep is None:
            print("%5d  %s" % (len(bs), lab))
        else:  # and how many still differ when replayed
            print("%5d %5d  %s" % (len(bs), still(bs), lab))
    if rep is None:
        print("%5d  total" % total)
    else:
        print("%5d %5d  total (run, still differing on replay)" %
              (total, still([b for bs in counts.values() for b in bs])))
    for lab, bs in counts.items():
        if lab == show or (show is None and lab == "unclassified"):
            for b in bs:
                print("-" * 72)
                print(b["head"])
                print("why: " + b["why"])
                print("min: " + b["min"][:400])
                for c in b["creates"]:
                    print("  " + c[:300])


if __name__ == "__main__":
    main()

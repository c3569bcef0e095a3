/* test_plancache.c: the plan cache of prepared statements (DESIGN.md
 * "Plan cache") through a real server and session: hits and misses as
 * SHOW STATUS and @@last_plan_from_cache report them, exact results under
 * reuse with changing parameters and data, invalidation by DDL, by USE and
 * SET, by DDL run on another server on the same store, and statements
 * whose plans run a query (never cached, still right).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mvcc.h>

#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q((c), (sql)), (want))
#define X1(c, id, p, want)                                                  \
    assert_string_equal(sqlfx_execute((c), (id), 1,                        \
                                      (const char *const[]){(p)}),         \
                        (want))

/* This session's counters and the last statement's flag, as one string:
 * "hits misses last". Reading them is itself a statement, so the flag is
 * read first. */
static const char *counters(struct sqlfx_conn *c)
{
    static char buf[64];
    char last[16];
    snprintf(last, sizeof(last), "%s",
             sqlfx_q(c, "SELECT @@last_plan_from_cache"));
    const char *st = sqlfx_q(c, "SHOW STATUS LIKE 'Plan_cache%'");
    unsigned long long h, m;
    if (sscanf(st, "Plan_cache_hits|%llu\nPlan_cache_misses|%llu", &h,
               &m) != 2)
        fail_msg("SHOW STATUS: %s", st);
    snprintf(buf, sizeof(buf), "%llu %llu %s", h, m, last);
    return buf;
}

#define C(c, want) assert_string_equal(counters(c), (want))

static void fill(struct sqlfx_conn *c)
{
    Q(c, "CREATE TABLE t (id INT PRIMARY KEY, k INT, name VARCHAR(20), "
         "KEY kk (k))",
      "OK 0 0 0");
    Q(c, "INSERT INTO t VALUES (1, 10, 'one'), (2, 20, 'two'), "
         "(3, 10, 'three'), (4, 40, 'four')",
      "OK 4 0 0");
}

/* COM_STMT_PREPARE plans once (not counted); each execution reuses the
 * plan with its own parameter values and sees the data as it is now. */
static void test_binary_hits(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    fill(&c);
    C(&c, "0 0 0");
    unsigned np, nc;
    int id = sqlfx_prepare(&c, "SELECT name FROM t WHERE id = ?", &np, &nc);
    assert_true(id > 0);
    assert_int_equal(np, 1);
    assert_int_equal(nc, 1);
    X1(&c, id, "1", "one");
    C(&c, "1 0 1");
    X1(&c, id, "4", "four");
    X1(&c, id, "5", "");
    X1(&c, id, "NULL", "");
    X1(&c, id, "3", "three");
    C(&c, "5 0 1");
    /* Data changes need no new plan. */
    Q(&c, "INSERT INTO t VALUES (5, 50, 'five')", "OK 1 0 0");
    Q(&c, "UPDATE t SET name = 'uno' WHERE id = 1", "OK 1 0 0");
    X1(&c, id, "5", "five");
    X1(&c, id, "1", "uno");
    C(&c, "7 0 1");
    /* A text query is not from the cache. */
    Q(&c, "SELECT name FROM t WHERE id = 2", "two");
    C(&c, "7 0 0");

    /* Range, order and LIMIT from parameters; an aggregate. */
    id = sqlfx_prepare(&c,
                       "SELECT id, name FROM t WHERE k BETWEEN ? AND ? "
                       "ORDER BY id DESC LIMIT ?",
                       &np, &nc);
    assert_true(id > 0);
    const char *p1[] = {"10", "20", "10"};
    assert_string_equal(sqlfx_execute(&c, id, 3, p1),
                        "3|three\n2|two\n1|uno");
    const char *p2[] = {"15", "60", "2"};
    assert_string_equal(sqlfx_execute(&c, id, 3, p2), "5|five\n4|four");
    const char *p3[] = {"60", "10", "2"};
    assert_string_equal(sqlfx_execute(&c, id, 3, p3), "");
    C(&c, "10 0 1");
    int agg = sqlfx_prepare(&c, "SELECT k, COUNT(*), MAX(name) FROM t "
                                "WHERE id > ? GROUP BY k ORDER BY k",
                            &np, &nc);
    assert_true(agg > 0);
    X1(&c, agg, "0", "10|2|uno\n20|1|two\n40|1|four\n50|1|five");
    X1(&c, agg, "3", "40|1|four\n50|1|five");
    C(&c, "12 0 1");
    /* The server's totals are the sums over sessions. */
    Q(&c, "SHOW GLOBAL STATUS LIKE 'Plan_cache_hits'", "Plan_cache_hits|12");
    sqlfx_close_db(&f, &c);
}

/* DDL makes every cached plan stale: the next execution plans again
 * (a miss) against the new schema, then hits again. */
static void test_ddl_invalidates(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    fill(&c);
    unsigned np, nc;
    int id = sqlfx_prepare(&c, "SELECT * FROM t WHERE k = ? ORDER BY id",
                           &np, &nc);
    assert_true(id > 0);
    X1(&c, id, "10", "1|10|one\n3|10|three");
    C(&c, "1 0 1");
    Q(&c, "ALTER TABLE t ADD COLUMN extra INT DEFAULT 7", "OK 0 0 0");
    X1(&c, id, "10", "1|10|one|7\n3|10|three|7");
    C(&c, "1 1 0");
    X1(&c, id, "40", "4|40|four|7");
    C(&c, "2 1 1");
    /* The index the plan read goes away. */
    Q(&c, "DROP INDEX kk ON t", "OK 0 0 0");
    X1(&c, id, "10", "1|10|one|7\n3|10|three|7");
    C(&c, "2 2 0");
    /* The table goes away, then comes back with other columns. */
    Q(&c, "DROP TABLE t", "OK 0 0 0");
    X1(&c, id, "10", "ERR 1146 Table 'd.t' doesn't exist");
    C(&c, "2 3 0");
    Q(&c, "CREATE TABLE t (k INT, id INT PRIMARY KEY)", "OK 0 0 0");
    Q(&c, "INSERT INTO t VALUES (10, 100)", "OK 1 0 0");
    X1(&c, id, "10", "10|100");
    X1(&c, id, "10", "10|100");
    C(&c, "3 4 1");
    /* DDL of another session of the same server. */
    struct sqlfx_conn c2;
    sqlfx_connect(&f, &c2, 2);
    Q(&c2, "USE d", "OK 0 0 0");
    Q(&c2, "ALTER TABLE t ADD COLUMN z VARCHAR(3) DEFAULT 'zz'", "OK 0 0 0");
    X1(&c, id, "10", "10|100|zz");
    C(&c, "3 5 0");
    sqlfx_disconnect(&c2);
    sqlfx_close_db(&f, &c);
}

/* The current database and system variables are part of what a plan was
 * made from. */
static void test_session_settings(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    fill(&c);
    Q(&c, "CREATE DATABASE e", "OK 1 0 0");
    Q(&c, "CREATE TABLE e.t (id INT PRIMARY KEY, name VARCHAR(20))",
      "OK 0 0 0");
    Q(&c, "INSERT INTO e.t VALUES (1, 'e-one')", "OK 1 0 0");
    unsigned np, nc;
    int id = sqlfx_prepare(&c, "SELECT name FROM t WHERE id = ?", &np, &nc);
    assert_true(id > 0);
    X1(&c, id, "1", "one");
    C(&c, "1 0 1");
    /* DDL above was before PREPARE; now only USE changes. */
    Q(&c, "USE e", "OK 0 0 0");
    X1(&c, id, "1", "e-one");
    C(&c, "1 1 0");
    X1(&c, id, "1", "e-one");
    C(&c, "2 1 1");
    Q(&c, "USE d", "OK 0 0 0");
    X1(&c, id, "1", "one");
    C(&c, "2 2 0");
    /* A system variable: planned again; a user variable: not. */
    Q(&c, "SET SESSION sql_mode = 'ANSI_QUOTES'", "OK 0 0 0");
    X1(&c, id, "2", "two");
    C(&c, "2 3 0");
    Q(&c, "SET @x = 5", "OK 0 0 0");
    X1(&c, id, "2", "two");
    C(&c, "3 3 1");
    /* Closing the statement frees its plan (ASan checks). */
    sqlfx_close_stmt(&c, id);
    Q(&c, "SELECT COUNT(*) FROM t", "4");
    sqlfx_close_db(&f, &c);
}

/* SQL PREPARE plans at the first EXECUTE (a miss), then hits; parameter
 * values from user variables change freely. */
static void test_sql_prepare(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    fill(&c);
    Q(&c, "PREPARE s FROM 'SELECT name FROM t WHERE k = ? ORDER BY name'",
      "OK 0 0 0");
    Q(&c, "SET @k = 10", "OK 0 0 0");
    Q(&c, "EXECUTE s USING @k", "one\nthree");
    C(&c, "0 1 0");
    Q(&c, "SET @k = 40", "OK 0 0 0");
    Q(&c, "EXECUTE s USING @k", "four");
    C(&c, "1 1 1");
    Q(&c, "EXECUTE s USING @nothing", "");
    C(&c, "2 1 1");
    Q(&c, "CREATE INDEX nm ON t (name)", "OK 0 0 0");
    Q(&c, "SET @k = 10", "OK 0 0 0");
    Q(&c, "EXECUTE s USING @k", "one\nthree");
    C(&c, "2 2 0");
    /* Re-preparing the name drops the old statement and its plan. */
    Q(&c, "PREPARE s FROM 'SELECT COUNT(*) FROM t WHERE k = ?'",
      "OK 0 0 0");
    Q(&c, "EXECUTE s USING @k", "2");
    Q(&c, "EXECUTE s USING @k", "2");
    C(&c, "3 3 1");
    Q(&c, "DEALLOCATE PREPARE s", "OK 0 0 0");
    sqlfx_close_db(&f, &c);
}

/* A plan that ran a query while it was made (an uncorrelated subquery,
 * whose rows become literals; a derived table) is never reused: it
 * depends on the data and on the parameters. Correlated subqueries run
 * per row, so their plan is. */
static void test_subquery_not_cached(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    fill(&c);
    Q(&c, "CREATE TABLE u (id INT PRIMARY KEY, x INT)", "OK 0 0 0");
    Q(&c, "INSERT INTO u VALUES (1, 7), (2, 8), (3, 7)", "OK 3 0 0");
    unsigned np, nc;
    /* A scalar subquery runs while planning: its value is a literal. */
    int id = sqlfx_prepare(&c,
                           "SELECT name FROM t WHERE id = "
                           "(SELECT MAX(id) FROM u WHERE x = 8)",
                           &np, &nc);
    assert_true(id > 0);
    assert_string_equal(sqlfx_execute(&c, id, 0, NULL), "two");
    Q(&c, "INSERT INTO u VALUES (4, 8)", "OK 1 0 0");
    assert_string_equal(sqlfx_execute(&c, id, 0, NULL), "four");
    C(&c, "0 2 0");
    /* A scalar subquery reading a parameter: planned with the values. */
    int sp = sqlfx_prepare(&c,
                           "SELECT name FROM t WHERE id = "
                           "(SELECT MAX(id) FROM u WHERE x = ?)",
                           &np, &nc);
    if (sp < 0)
        fail_msg("%s", c.out);
    X1(&c, sp, "7", "three");
    X1(&c, sp, "8", "four");
    C(&c, "0 4 0");
    /* An IN subquery becomes a semi-join: reuse is right either way. */
    int idp = sqlfx_prepare(&c,
                            "SELECT name FROM t WHERE id IN "
                            "(SELECT id FROM u WHERE x = ?) ORDER BY id",
                            &np, &nc);
    assert_true(idp > 0);
    X1(&c, idp, "7", "one\nthree");
    X1(&c, idp, "8", "two\nfour");
    Q(&c, "DELETE FROM u WHERE id = 2", "OK 1 0 0");
    X1(&c, idp, "8", "four");
    Q(&c, "INSERT INTO u VALUES (2, 8)", "OK 1 0 0");
    Q(&c, "PREPARE d FROM 'SELECT COUNT(*) FROM (SELECT id FROM u WHERE "
          "x = ?) AS q'",
      "OK 0 0 0");
    Q(&c, "SET @x = 7", "OK 0 0 0");
    Q(&c, "EXECUTE d USING @x", "2");
    Q(&c, "SET @x = 8", "OK 0 0 0");
    Q(&c, "EXECUTE d USING @x", "2");
    Q(&c, "DELETE FROM u WHERE id = 4", "OK 1 0 0");
    Q(&c, "EXECUTE d USING @x", "1");
    Q(&c, "SELECT @@last_plan_from_cache", "0");
    int cor = sqlfx_prepare(&c,
                            "SELECT id, (SELECT COUNT(*) FROM u WHERE u.x > "
                            "t.k - ?) FROM t WHERE id <= 2 ORDER BY id",
                            &np, &nc);
    assert_true(cor > 0);
    X1(&c, cor, "3", "1|1\n2|0");
    X1(&c, cor, "13", "1|3\n2|1");
    Q(&c, "SELECT @@last_plan_from_cache", "1");
    sqlfx_close_db(&f, &c);
}

/* Two servers on one store (two sqld on a cluster): DDL through the
 * other server reaches this one's catalog through the schema version
 * (schema_sync.c), and its cached plans go stale with it. */
static void test_ddl_from_other_server(void **state)
{
    (void)state;
    struct sqlfx_two w;
    sqlfx_two_open(&w, 50);
    fill(&w.ca);
    unsigned np, nc;
    int id = sqlfx_prepare(&w.ca, "SELECT * FROM t WHERE id = ?", &np, &nc);
    assert_true(id > 0);
    X1(&w.ca, id, "2", "2|20|two");
    X1(&w.ca, id, "2", "2|20|two");
    C(&w.ca, "2 0 1");
    /* B's DDL returns once A can no longer miss it. */
    Q(&w.cb, "ALTER TABLE t ADD COLUMN w INT DEFAULT 3", "OK 0 0 0");
    X1(&w.ca, id, "2", "2|20|two|3");
    C(&w.ca, "2 1 0");
    X1(&w.ca, id, "2", "2|20|two|3");
    Q(&w.cb, "DROP TABLE t", "OK 0 0 0");
    Q(&w.cb, "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(5))", "OK 0 0 0");
    Q(&w.cb, "INSERT INTO t VALUES (2, 'bee')", "OK 1 0 0");
    X1(&w.ca, id, "2", "2|bee");
    C(&w.ca, "3 2 0");
    sqlfx_two_close(&w);
}

/* sql_session_try_quick (what sqld's loop thread calls first): point
 * reads without a lock run at once (nquick counts them), anything else is
 * left to the executor, with the same answers either way. The server is
 * concurrent, as sqld's. */
static void test_quick(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    memset(&f, 0, sizeof(f));
    struct sql_server_options o = {.concurrent = true};
    char err[256] = "";
    assert_int_equal(sql_server_open(&o, &f.srv, err, sizeof(err)), 0);
    f.quick = true;
    sqlfx_connect(&f, &c, 1);
    Q(&c, "CREATE DATABASE d", "OK 1 0 0");
    Q(&c, "USE d", "OK 0 0 0");
    fill(&c);
    assert_int_equal(c.nquick, 0);
    /* Points, by the key or a unique index, several of them, with
     * operators: quick. */
    Q(&c, "SELECT name FROM t WHERE id = 3", "three");
    Q(&c, "  select id + 1, name FROM t WHERE id IN (4, 1) ORDER BY id",
      "2|one\n5|four");
    Q(&c, "SELECT name FROM t WHERE id = 9", "");
    assert_int_equal(c.nquick, 2); /* ORDER BY is a sort: not quick */
    Q(&c, "SELECT name FROM t WHERE id = 2;", "two");
    assert_int_equal(c.nquick, 3);
    /* Not quick: a range, a function, a lock, two statements, an error;
     * each answered by the executor as before. */
    Q(&c, "SELECT name FROM t WHERE k = 10 ORDER BY id", "one\nthree");
    Q(&c, "SELECT UPPER(name) FROM t WHERE id = 1", "ONE");
    Q(&c, "BEGIN", "OK 0 0 0");
    Q(&c, "SELECT name FROM t WHERE id = 1 FOR UPDATE", "one");
    Q(&c, "COMMIT", "OK 0 0 0");
    Q(&c, "SELECT nosuch FROM t WHERE id = 1",
      "ERR 1054 Unknown column 'nosuch' in 'field list'");
    Q(&c, "SELECT name FROM nosuch WHERE id = 1",
      "ERR 1146 Table 'd.nosuch' doesn't exist");
    assert_int_equal(c.nquick, 3);
    /* A shape found not quick is not tried again until the schema
     * changes; then it may be. */
    Q(&c, "SELECT k FROM t WHERE name = 'four'", "40");
    assert_int_equal(c.nquick, 3);
    Q(&c, "ALTER TABLE t ADD UNIQUE INDEX nu (name)", "OK 0 0 0");
    Q(&c, "SELECT k FROM t WHERE name = 'four'", "40");
    assert_int_equal(c.nquick, 4);
    /* Prepared: quick from the first execution (COM_STMT_PREPARE planned
     * it), not while the plan is stale, quick again once replanned; the
     * counters as without the quick path. */
    unsigned np, nc;
    int id = sqlfx_prepare(&c, "SELECT name FROM t WHERE id = ?", &np, &nc);
    assert_true(id > 0);
    X1(&c, id, "1", "one");
    X1(&c, id, "2", "two");
    assert_int_equal(c.nquick, 6);
    Q(&c, "ALTER TABLE t ADD COLUMN z INT", "OK 0 0 0");
    X1(&c, id, "3", "three");
    assert_int_equal(c.nquick, 6);
    X1(&c, id, "4", "four");
    assert_int_equal(c.nquick, 7);
    C(&c, "3 1 1");
    /* KILL QUERY of an idle session changes nothing; its next command
     * may be quick. After KILL CONNECTION every command answers 1317, the
     * quick ones too (the executor answers it). */
    struct sqlfx_conn c2;
    sqlfx_connect(&f, &c2, 2);
    Q(&c2, "KILL QUERY 1", "OK 0 0 0");
    Q(&c, "SELECT name FROM t WHERE id = 4", "four");
    assert_int_equal(c.nquick, 9); /* (C's SELECT @@... was quick too) */
    Q(&c2, "KILL 1", "OK 0 0 0");
    Q(&c, "SELECT name FROM t WHERE id = 4",
      "ERR 1317 Query execution was interrupted");
    assert_int_equal(c.nquick, 9);
    sqlfx_disconnect(&c2);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_hits),
        cmocka_unit_test(test_ddl_invalidates),
        cmocka_unit_test(test_session_settings),
        cmocka_unit_test(test_sql_prepare),
        cmocka_unit_test(test_subquery_not_cached),
        cmocka_unit_test(test_ddl_from_other_server),
        cmocka_unit_test(test_quick),
    };
    return cmocka_run_group_tests_name("libsql/plancache", tests, NULL, NULL);
}

/* test_pointread.c: the autocommit point read's fast path (pointread.c,
 * DESIGN.md "Point reads"): which statements begin their transaction at
 * the latest versions (no TSO) and which do not, and that such reads see
 * every commit made before them; the point read in two halves
 * (sql_session_point_read): which statements take it, that the row given
 * is what answers, and that anything else falls back to the executor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "session.h"
#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)
/* sql answers want on c, by the path via (see path()) */
#define VIA(c, sql, want, via) assert_string_equal(path(c, sql, want), via)

/* begin_hook: counts the transactions begun, and those begun latest. */
struct seen
{
    int begins; /* transactions begun */
    int latest; /* of which at the latest versions */
};

static void seen_hook(void *ctx, struct sql_session *s)
{
    struct seen *w = ctx;
    w->begins++;
    w->latest += s->point_latest;
}

/* Runs sql on c and says how its transactions began: "latest" (one, at
 * the latest versions), "tso" (one or more, none latest), "none". */
static const char *how(struct sqlfx_conn *c, struct seen *w, const char *sql,
                       const char *want)
{
    memset(w, 0, sizeof *w);
    Q(c, sql, want);
    if (w->begins == 0)
        return "none";
    if (w->begins == 1 && w->latest == 1)
        return "latest";
    assert_int_equal(w->latest, 0);
    return "tso";
}

static void which_statements(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, k INT, c CHAR(4), UNIQUE KEY (k))",
      "OK 0 0 0");
    Q(&c, "INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b')", "OK 2 0 0");
    struct seen w;
    f.srv->begin_hook_ctx = &w;
    f.srv->begin_hook = seen_hook;
    assert_string_equal(how(&c, &w, "SELECT c FROM t WHERE id = 1", "a"),
                        "latest");
    assert_string_equal(how(&c, &w, "SELECT c, k + 1 FROM t WHERE id = 2",
                            "b|21"),
                        "latest");
    assert_string_equal(how(&c, &w, "SELECT c FROM t WHERE id = 3", ""),
                        "latest");
    /* several keys, an index, a range, a locking read: a snapshot */
    assert_string_equal(how(&c, &w, "SELECT c FROM t WHERE id IN (1, 2)",
                            "a\nb"),
                        "tso");
    assert_string_equal(how(&c, &w, "SELECT c FROM t WHERE k = 10", "a"),
                        "tso");
    assert_string_equal(how(&c, &w, "SELECT c FROM t WHERE id > 1", "b"),
                        "tso");
    assert_string_equal(
        how(&c, &w, "SELECT c FROM t WHERE id = 1 FOR UPDATE", "a"), "tso");
    assert_string_equal(how(&c, &w,
                            "SELECT c, (SELECT COUNT(*) FROM t) FROM t "
                            "WHERE id = 1",
                            "a|2"),
                        "tso");
    assert_string_equal(how(&c, &w,
                            "SELECT c FROM t WHERE id = 1 AND EXISTS "
                            "(SELECT 1 FROM t AS u WHERE u.k = t.k)",
                            "a"),
                        "tso");
    /* inside a transaction: it began at BEGIN, with the TSO */
    assert_string_equal(how(&c, &w, "BEGIN", "OK 0 0 0"), "tso");
    assert_string_equal(how(&c, &w, "SELECT c FROM t WHERE id = 1", "a"),
                        "none");
    assert_string_equal(how(&c, &w, "COMMIT", "OK 0 0 0"), "none");
    Q(&c, "SET autocommit = 0", "OK 0 0 0");
    assert_string_equal(how(&c, &w, "SELECT c FROM t WHERE id = 1", "a"),
                        "tso");
    Q(&c, "COMMIT", "OK 0 0 0");
    Q(&c, "SET autocommit = 1", "OK 0 0 0");
    f.srv->begin_hook = NULL;
    sqlfx_close_db(&f, &c);
}

/* A point read sees what another connection committed just before it,
 * and a write of its own connection's previous statement. */
static void sees_every_earlier_commit(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn a, b;
    sqlfx_open_db(&f, &a);
    sqlfx_connect(&f, &b, 2);
    Q(&b, "USE d", "OK 0 0 0");
    Q(&a, "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    Q(&a, "INSERT INTO t VALUES (1, 0)", "OK 1 0 0");
    for (int i = 1; i <= 20; i++) {
        char sql[64], want[16];
        snprintf(sql, sizeof sql, "UPDATE t SET v = %d WHERE id = 1", i);
        Q(i % 2 ? &a : &b, sql, "OK 1 0 0");
        snprintf(want, sizeof want, "%d", i);
        Q(&a, "SELECT v FROM t WHERE id = 1", want);
        Q(&b, "SELECT v FROM t WHERE id = 1", want);
    }
    Q(&b, "BEGIN", "OK 0 0 0");
    Q(&b, "UPDATE t SET v = 99 WHERE id = 1", "OK 1 0 0");
    Q(&a, "SELECT v FROM t WHERE id = 1", "20"); /* not committed yet */
    Q(&b, "COMMIT", "OK 0 0 0");
    Q(&a, "SELECT v FROM t WHERE id = 1", "99");
    Q(&a, "DELETE FROM t WHERE id = 1", "OK 1 0 0");
    Q(&b, "SELECT v FROM t WHERE id = 1", "");
    sqlfx_disconnect(&b);
    sqlfx_close_db(&f, &a);
}

/* Runs sql through the fixture's point reads: "halves" (answered from
 * the row given), "one" (answered by the first half: no read), or
 * "executor". */
static const char *path(struct sqlfx_conn *c, const char *sql,
                        const char *want)
{
    unsigned p = c->npoint, h = c->nhalves;
    Q(c, sql, want);
    if (c->npoint == p)
        return "executor";
    assert_int_equal(c->npoint, p + 1);
    return c->nhalves == h + 1 ? "halves" : "one";
}

static void point_read_halves(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c, b;
    sqlfx_open(&f, false);
    f.point_reads = true;
    sqlfx_connect(&f, &c, 1);
    sqlfx_connect(&f, &b, 2);
    Q(&c, "CREATE DATABASE d", "OK 1 0 0");
    Q(&c, "USE d", "OK 0 0 0");
    Q(&b, "USE d", "OK 0 0 0");
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, k INT, c CHAR(4), UNIQUE KEY (k))",
      "OK 0 0 0");
    Q(&c, "INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b')", "OK 2 0 0");
    VIA(&c, "SELECT c FROM t WHERE id = 1", "a", "halves");
    VIA(&c, "SELECT c, k + 1 FROM t WHERE id = 2", "b|21", "halves");
    VIA(&c, "SELECT c FROM t WHERE id = 3", "", "halves");
    VIA(&c, "SELECT c FROM t WHERE id = NULL", "", "one");
    /* a snapshot, an index, a lock, a subquery: the executor's */
    VIA(&c, "SELECT c FROM t WHERE id IN (1, 2)", "a\nb", "executor");
    VIA(&c, "SELECT c FROM t WHERE k = 10", "a", "executor");
    VIA(&c, "SELECT c FROM t WHERE id = 1 FOR UPDATE", "a", "executor");
    VIA(&c, "SELECT c FROM t WHERE id > 1", "b", "executor");
    VIA(&c, "UPDATE t SET c = 'x' WHERE id = 3", "OK 0 0 0", "executor");
    /* another connection's commit is seen at once */
    Q(&b, "UPDATE t SET c = 'z' WHERE id = 1", "OK 1 0 0");
    VIA(&c, "SELECT c FROM t WHERE id = 1", "z", "halves");
    /* inside a transaction that has written nothing: halves at its
     * start_ts (its snapshot, not a later commit), and it goes on */
    Q(&c, "BEGIN", "OK 0 0 0");
    VIA(&c, "SELECT c FROM t WHERE id = 1", "z", "halves");
    Q(&b, "UPDATE t SET c = 'w' WHERE id = 1", "OK 1 0 0");
    VIA(&b, "SELECT c FROM t WHERE id = 1", "w", "halves");
    VIA(&c, "SELECT c FROM t WHERE id = 1", "z", "halves");
    VIA(&c, "SELECT c FROM t WHERE id = 3", "", "halves");
    /* once it wrote: its own writes merged by the executor */
    Q(&c, "UPDATE t SET c = 'y' WHERE id = 2", "OK 1 0 0");
    VIA(&c, "SELECT c FROM t WHERE id = 2", "y", "executor");
    VIA(&c, "SELECT c FROM t WHERE id = 1", "z", "executor");
    Q(&c, "COMMIT", "OK 0 0 0");
    VIA(&b, "SELECT c FROM t WHERE id = 2", "y", "halves");
    VIA(&c, "SELECT c FROM t WHERE id = 1", "w", "halves");
    /* a locking read takes the executor, and so does every read after
     * it; a ROLLBACK then leaves nothing behind */
    Q(&c, "BEGIN", "OK 0 0 0");
    VIA(&c, "SELECT c FROM t WHERE id = 1 FOR UPDATE", "w", "executor");
    VIA(&c, "SELECT c FROM t WHERE id = 2", "y", "executor");
    Q(&c, "ROLLBACK", "OK 0 0 0");
    /* autocommit off: the first statement begins the transaction (a TSO
     * call: the executor's), the next reads at its start_ts */
    Q(&c, "SET autocommit = 0", "OK 0 0 0");
    VIA(&c, "SELECT c FROM t WHERE id = 2", "y", "executor");
    Q(&b, "UPDATE t SET c = 'v' WHERE id = 1", "OK 1 0 0");
    VIA(&c, "SELECT c FROM t WHERE id = 1", "w", "halves");
    /* the row given is not the key's: the executor reads the snapshot,
     * and the transaction is still the same */
    f.point_wrong_key = true;
    VIA(&c, "SELECT c FROM t WHERE id = 1", "w", "executor");
    f.point_wrong_key = false;
    Q(&c, "COMMIT", "OK 0 0 0");
    Q(&c, "SET autocommit = 1", "OK 0 0 0");
    VIA(&c, "SELECT c FROM t WHERE id = 1", "v", "halves");
    Q(&b, "UPDATE t SET c = 'z' WHERE id = 1", "OK 1 0 0");
    /* prepared, with a parameter */
    unsigned np = 0;
    unsigned nc = 0;
    int id = sqlfx_prepare(&c, "SELECT c FROM t WHERE id = ?", &np, &nc);
    assert_true(id > 0);
    assert_int_equal(np, 1);
    unsigned p0 = c.npoint, h0 = c.nhalves;
    const char *one[] = {"1"};
    assert_string_equal(sqlfx_execute(&c, id, 1, one), "z");
    assert_int_equal(c.npoint, p0 + 1);
    assert_int_equal(c.nhalves, h0 + 1);
    sqlfx_close_stmt(&c, id);
    /* the row given is not the key's: the second half answers nothing
     * and the executor reads the row itself */
    f.point_wrong_key = true;
    VIA(&c, "SELECT c FROM t WHERE id = 1", "z", "executor");
    VIA(&c, "SELECT c FROM t WHERE id = 2", "y", "executor");
    f.point_wrong_key = false;
    Q(&c, "SELECT COUNT(*) FROM t", "2");
    VIA(&c, "SELECT c FROM t WHERE id = 1", "z", "halves");
    sqlfx_disconnect(&b);
    sqlfx_close_db(&f, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(which_statements),
        cmocka_unit_test(sees_every_earlier_commit),
        cmocka_unit_test(point_read_halves),
    };
    return cmocka_run_group_tests_name("libsql/pointread", tests, NULL, NULL);
}

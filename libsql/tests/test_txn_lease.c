/* test_txn_lease.c: a commit that outlives its schema lease (issue 9,
 * DESIGN.md "A commit past its lease"). Two servers on one store; server
 * B's commit is held (its commit hook) while server A runs a DDL, which
 * waits until B's registry entry has run out (or, with no DDL, for three
 * leases), so B's commit_ts is taken past its deadline every time. It commits when the tables it wrote are
 * as its rows were encoded (a DDL on another table, or none), and fails
 * with 8028, nothing written, when the DDL changed one of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "session.h"
#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)
#define LEASE_MS 50 /* short, so the DDL's wait for B stays short */

static const char E8028[] =
    "ERR 8028 Information schema is changed during the execution of the "
    "statement (a table it writes was altered by concurrent DDL); the "
    "transaction was rolled back, retry it";

/* B's commit hook: runs ddl through A (once), so B commits after it. */
struct held
{
    struct sqlfx_two *w; /* the servers */
    const char *ddl;     /* what A runs */
    int fired;           /* the hook ran */
    char got[256];       /* A's answer */
};

static void ddl_during_commit(void *ctx, struct sql_session *s)
{
    (void)s;
    struct held *h = ctx;
    if (h->fired++)
        return;
    if (!h->ddl) { /* no DDL: time alone runs the lease out */
        struct timespec d = {0, 3 * LEASE_MS * 1000000L};
        nanosleep(&d, NULL);
        snprintf(h->got, sizeof(h->got), "slept");
        return;
    }
    snprintf(h->got, sizeof(h->got), "%s", sqlfx_q(&h->w->ca, h->ddl));
}

/* B inserts id into t in a transaction whose commit waits for ddl on A:
 * COMMIT's answer. */
static const char *commit_around(struct sqlfx_two *w, struct held *h,
                                 const char *ddl, int id)
{
    char sql[64];
    *h = (struct held){.w = w, .ddl = ddl};
    Q(&w->cb, "BEGIN", "OK 0 0 0");
    snprintf(sql, sizeof(sql), "INSERT INTO t VALUES (%d, %d)", id, id);
    Q(&w->cb, sql, "OK 1 0 0");
    w->b.srv->commit_hook = ddl_during_commit;
    w->b.srv->commit_hook_ctx = h;
    const char *got = sqlfx_q(&w->cb, "COMMIT");
    w->b.srv->commit_hook = NULL;
    assert_int_equal(h->fired, 1);
    return got;
}

static void commit_past_lease(void **state)
{
    (void)state;
    struct sqlfx_two w;
    sqlfx_two_open(&w, LEASE_MS);
    Q(&w.ca, "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    Q(&w.ca, "CREATE TABLE u (id INT PRIMARY KEY)", "OK 0 0 0");
    Q(&w.cb, "SELECT COUNT(*) FROM t", "0"); /* B has both */
    struct held h;
    /* No DDL at all while the commit outlives its lease. */
    assert_string_equal(commit_around(&w, &h, NULL, 1), "OK 0 0 0");
    /* A DDL on another table moved the version: t is as B encoded its
     * row, so the commit stands (it was 8028). */
    assert_string_equal(
        commit_around(&w, &h, "ALTER TABLE u ADD COLUMN c INT", 2),
        "OK 0 0 0");
    assert_string_equal(h.got, "OK 0 0 0");
    assert_string_equal(
        commit_around(&w, &h, "CREATE TABLE x (id INT PRIMARY KEY)", 3),
        "OK 0 0 0");
    assert_string_equal(h.got, "OK 0 0 0");
    /* A DDL on t itself: 8028, the row not written. */
    assert_string_equal(
        commit_around(&w, &h, "ALTER TABLE t ADD COLUMN c INT DEFAULT 9",
                      4),
        E8028);
    assert_string_equal(h.got, "OK 0 0 0");
    Q(&w.ca, "SELECT * FROM t ORDER BY id", "1|1|9\n2|2|9\n3|3|9");
    /* The retry, on the new layout. */
    Q(&w.cb, "INSERT INTO t (id, v) VALUES (4, 4)", "OK 1 0 0");
    Q(&w.ca, "SELECT c FROM t WHERE id = 4", "9");
    Q(&w.ca, "ADMIN CHECK TABLE t", "OK 0 0 0");
    sqlfx_two_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_past_lease),
    };
    return cmocka_run_group_tests_name("libsql/txn_lease", tests, NULL,
                                       NULL);
}

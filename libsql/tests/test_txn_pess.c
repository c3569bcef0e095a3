/* test_txn_pess.c: commits that are safe to retry (issue 9). Pessimistic
 * mode: a COMMIT after the statements took their row locks never fails
 * with a write conflict, even when another session changed those rows (and
 * so their index entries) between the transaction's start and its lock,
 * (test_concurrent's pessimistic_commit_after_wait has the same after a
 * lock wait); the global txn_mode (and its TiDB name
 * tidb_txn_mode) is what new sessions start with. DESIGN.md "Pessimistic
 * commits".
 */
#include <errno.h>
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

/* sysbench's table: a secondary index on k. */
static void make_table(struct sqlfx_conn *a)
{
    Q(a, "CREATE TABLE t (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(8), "
         "KEY k_1 (k))",
      "OK 0 0 0");
    Q(a, "INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c')",
      "OK 3 0 0");
}

/* b changes row 1's k (and so its index entry) after a began and before
 * a's UPDATE locks the row: a's current read sees b's k, its new index
 * entries replace b's, and COMMIT answers OK (optimistic: 1213). The
 * same with sysbench's DELETE and INSERT of one id. */
static void commit_after_index_change(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn a, b;
    sqlfx_open_db(&f, &a);
    sqlfx_connect(&f, &b, 2);
    Q(&b, "USE d", "OK 0 0 0");
    make_table(&a);
    Q(&a, "SET txn_mode = 'PESSIMISTIC'", "OK 0 0 0");
    Q(&a, "BEGIN", "OK 0 0 0");
    Q(&a, "SELECT c FROM t WHERE id = 2", "b"); /* start_ts taken */
    Q(&b, "UPDATE t SET k = k + 1 WHERE id = 1", "OK 1 0 0");
    Q(&b, "UPDATE t SET k = k + 1 WHERE id = 3", "OK 1 0 0");
    Q(&a, "UPDATE t SET k = k + 1 WHERE id = 1", "OK 1 0 0");
    Q(&a, "UPDATE t SET k = k - 1 WHERE id = 1", "OK 1 0 0"); /* again: */
    Q(&a, "UPDATE t SET k = k + 1 WHERE id = 1", "OK 1 0 0"); /* locked once */
    Q(&a, "DELETE FROM t WHERE id = 3", "OK 1 0 0");
    Q(&a, "INSERT INTO t VALUES (3, 40, 'd')", "OK 1 0 0");
    Q(&a, "COMMIT", "OK 0 0 0");
    Q(&b, "SELECT id, k, c FROM t ORDER BY id", "1|12|a\n2|20|b\n3|40|d");
    Q(&b, "SELECT id FROM t WHERE k = 12", "1");
    Q(&b, "SELECT COUNT(*) FROM t WHERE k = 11 OR k = 31", "0");
    Q(&b, "CHECK TABLE t", "d.t|check|status|OK");
    /* Optimistic, the same history is a write conflict. */
    Q(&a, "SET txn_mode = 'OPTIMISTIC'", "OK 0 0 0");
    Q(&a, "BEGIN", "OK 0 0 0");
    Q(&a, "SELECT c FROM t WHERE id = 2", "b");
    Q(&b, "UPDATE t SET k = k + 1 WHERE id = 1", "OK 1 0 0");
    Q(&a, "UPDATE t SET k = k + 1 WHERE id = 1", "OK 1 0 0");
    Q(&a, "COMMIT", "ERR 1213 Deadlock found when trying to get lock; try "
                    "restarting transaction");
    Q(&b, "SELECT k FROM t WHERE id = 1", "13");
    sqlfx_disconnect(&b);
    sqlfx_close_db(&f, &a);
}

/* SET GLOBAL txn_mode (or tidb_txn_mode) is what sessions connected
 * afterwards start with; a session's own SET and sessions already open
 * keep theirs. */
static void global_txn_mode(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn a, b, c;
    sqlfx_open_db(&f, &a);
    Q(&a, "SELECT @@global.txn_mode, @@txn_mode", "OPTIMISTIC|OPTIMISTIC");
    Q(&a, "SET GLOBAL tidb_txn_mode = 'pessimistic'", "OK 0 0 0");
    Q(&a, "SELECT @@global.tidb_txn_mode, @@session.tidb_txn_mode",
      "PESSIMISTIC|OPTIMISTIC");
    sqlfx_connect(&f, &b, 2);
    Q(&b, "SELECT @@txn_mode, @@tidb_txn_mode", "PESSIMISTIC|PESSIMISTIC");
    Q(&b, "SET tidb_txn_mode = 'OPTIMISTIC'", "OK 0 0 0");
    Q(&b, "SELECT @@txn_mode, @@global.txn_mode", "OPTIMISTIC|PESSIMISTIC");
    Q(&a, "SET GLOBAL txn_mode = 'bogus'",
      "ERR 1231 Variable 'txn_mode' can't be set to the value of 'bogus'");
    Q(&a, "SET GLOBAL txn_mode = 'OPTIMISTIC'", "OK 0 0 0");
    sqlfx_connect(&f, &c, 3);
    Q(&c, "SELECT @@txn_mode", "OPTIMISTIC");
    sqlfx_disconnect(&b);
    sqlfx_disconnect(&c);
    sqlfx_close_db(&f, &a);
}

/* sql_server_options.txn_mode (sqld's txn-mode) sets the global at open;
 * a value that is no mode fails the open, saying why. */
static void txn_mode_option(void **state)
{
    (void)state;
    struct sqlfx f;
    memset(&f, 0, sizeof(f));
    struct sql_server_options o = {.txn_mode = "pessimistic"};
    char err[256] = "";
    assert_int_equal(sql_server_open(&o, &f.srv, err, sizeof(err)), 0);
    struct sqlfx_conn a;
    sqlfx_connect(&f, &a, 1);
    Q(&a, "SELECT @@global.txn_mode, @@txn_mode", "PESSIMISTIC|PESSIMISTIC");
    sqlfx_disconnect(&a);
    sqlfx_close(&f);
    struct sql_server *srv = NULL;
    o.txn_mode = "eager";
    assert_int_equal(sql_server_open(&o, &srv, err, sizeof(err)), -EINVAL);
    assert_null(srv);
    assert_string_equal(err, "txn_mode: Variable 'txn_mode' can't be set to "
                             "the value of 'eager'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commit_after_index_change),
        cmocka_unit_test(global_txn_mode),
        cmocka_unit_test(txn_mode_option),
    };
    return cmocka_run_group_tests_name("libsql/txn_pess", tests, NULL, NULL);
}

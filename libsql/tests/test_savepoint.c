/* test_savepoint.c: SAVEPOINT, ROLLBACK TO and RELEASE SAVEPOINT through
 * a real server and session (DESIGN.md "Engine", savepoints): parse and
 * print, MySQL's answers and errors, what commits, and a pessimistic
 * transaction's locks surviving a rollback to a savepoint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "ast.h"
#include "parse.h"
#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q((c), (sql)), (want))

/* A server in memory with one connection (and d.t when asked). */
struct fx {
    struct sqlfx f;       /* the server */
    struct sqlfx_conn c;  /* connection 1 */
};

static void setup_table(struct sqlfx_conn *c);

static int fx_open(void **state)
{
    static struct fx x;
    memset(&x, 0, sizeof(x));
    sqlfx_open(&x.f, false);
    sqlfx_connect(&x.f, &x.c, 1);
    *state = &x;
    return 0;
}

static int fx_open_table(void **state)
{
    fx_open(state);
    setup_table(&((struct fx *)*state)->c);
    return 0;
}

static int fx_close(void **state)
{
    struct fx *x = *state;
    sqlfx_disconnect(&x->c);
    sqlfx_close(&x->f);
    return 0;
}

static void setup_table(struct sqlfx_conn *c)
{
    Q(c, "CREATE DATABASE d", "OK 1 0 0");
    Q(c, "USE d", "OK 0 0 0");
    Q(c, "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    Q(c, "INSERT INTO t VALUES (1, 10), (2, 20)", "OK 2 0 0");
}

static void test_rollback_to(void **state)
{
    struct fx *x = *state;
    Q(&x->c, "BEGIN", "OK 0 0 0");
    Q(&x->c, "UPDATE t SET v = 11 WHERE id = 1", "OK 1 0 0");
    Q(&x->c, "SAVEPOINT a", "OK 0 0 0");
    Q(&x->c, "INSERT INTO t VALUES (3, 30)", "OK 1 0 0");
    Q(&x->c, "DELETE FROM t WHERE id = 2", "OK 1 0 0");
    Q(&x->c, "SAVEPOINT b", "OK 0 0 0");
    Q(&x->c, "UPDATE t SET v = 99", "OK 2 0 0");
    Q(&x->c, "SELECT * FROM t", "1|99\n3|99");
    Q(&x->c, "ROLLBACK TO SAVEPOINT b", "OK 0 0 0");
    Q(&x->c, "SELECT * FROM t", "1|11\n3|30");
    /* b stays after a rollback to it. */
    Q(&x->c, "UPDATE t SET v = 98 WHERE id = 3", "OK 1 0 0");
    Q(&x->c, "rollback work to b", "OK 0 0 0");
    Q(&x->c, "SELECT * FROM t", "1|11\n3|30");
    Q(&x->c, "ROLLBACK TO A", "OK 0 0 0"); /* names ignore case */
    Q(&x->c, "SELECT * FROM t", "1|11\n2|20");
    /* b was newer than a: gone. */
    Q(&x->c, "ROLLBACK TO b", "ERR 1305 SAVEPOINT b does not exist");
    Q(&x->c, "INSERT INTO t VALUES (4, 40)", "OK 1 0 0");
    Q(&x->c, "COMMIT", "OK 0 0 0");
    Q(&x->c, "SELECT * FROM t", "1|11\n2|20\n4|40");
    /* The transaction ended: its savepoints too. */
    Q(&x->c, "ROLLBACK TO a", "ERR 1305 SAVEPOINT a does not exist");
}

static void test_release_and_reuse(void **state)
{
    struct fx *x = *state;
    /* Autocommit outside a transaction: accepted, not kept. */
    Q(&x->c, "SAVEPOINT x", "OK 0 0 0");
    Q(&x->c, "ROLLBACK TO x", "ERR 1305 SAVEPOINT x does not exist");
    Q(&x->c, "RELEASE SAVEPOINT x", "ERR 1305 SAVEPOINT x does not exist");
    Q(&x->c, "SET autocommit = 0", "OK 0 0 0");
    Q(&x->c, "SAVEPOINT x", "OK 0 0 0");
    Q(&x->c, "UPDATE t SET v = 1", "OK 2 0 0");
    Q(&x->c, "SAVEPOINT y", "OK 0 0 0");
    Q(&x->c, "UPDATE t SET v = 2", "OK 2 0 0");
    /* Setting x again moves it after y. */
    Q(&x->c, "SAVEPOINT x", "OK 0 0 0");
    Q(&x->c, "UPDATE t SET v = 3", "OK 2 0 0");
    Q(&x->c, "ROLLBACK TO y", "OK 0 0 0");
    Q(&x->c, "SELECT v FROM t", "1\n1");
    Q(&x->c, "ROLLBACK TO x", "ERR 1305 SAVEPOINT x does not exist");
    Q(&x->c, "UPDATE t SET v = 4", "OK 2 0 0");
    /* RELEASE keeps the writes, forgets y and everything newer. */
    Q(&x->c, "SAVEPOINT z", "OK 0 0 0");
    Q(&x->c, "RELEASE SAVEPOINT y", "OK 0 0 0");
    Q(&x->c, "ROLLBACK TO z", "ERR 1305 SAVEPOINT z does not exist");
    Q(&x->c, "SELECT v FROM t", "4\n4");
    Q(&x->c, "ROLLBACK", "OK 0 0 0");
    Q(&x->c, "SELECT v FROM t", "10\n20");
    /* A failed statement after a savepoint left nothing to undo. */
    Q(&x->c, "SAVEPOINT s", "OK 0 0 0");
    Q(&x->c, "INSERT INTO t VALUES (5, 50), (1, 0)",
      "ERR 1062 Duplicate entry '1' for key 't.PRIMARY'");
    Q(&x->c, "INSERT INTO t VALUES (6, 60)", "OK 1 0 0");
    Q(&x->c, "ROLLBACK TO SAVEPOINT s", "OK 0 0 0");
    Q(&x->c, "COMMIT", "OK 0 0 0");
    Q(&x->c, "SELECT id FROM t", "1\n2");
}

/* The statements print back in canonical form. */
static void test_print(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"savepoint a", "SAVEPOINT a"},
        {"release savepoint `b c`", "RELEASE SAVEPOINT `b c`"},
        {"rollback work to savepoint a", "ROLLBACK TO SAVEPOINT a"},
        {"ROLLBACK TO x", "ROLLBACK TO SAVEPOINT x"},
        {"rollback work", "ROLLBACK"},
    };
    struct sql_arena *a = sql__arena_create(0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sql_parse_result r;
        assert_int_equal(
            sql__parse_one(a, cases[i][0], strlen(cases[i][0]), &r), 0);
        assert_string_equal(sql__ast_print(a, r.stmt), cases[i][1]);
        sql__arena_reset(a);
    }
    sql__arena_destroy(a);
}

static void test_syntax_errors(void **state)
{
    struct fx *x = *state;
    Q(&x->c, "SAVEPOINT", "ERR 1064 You have an error in your SQL syntax; "
                       "check the manual that corresponds to your MySQL "
                       "server version for the right syntax to use near '' "
                       "at line 1");
    Q(&x->c, "RELEASE x", "ERR 1064 You have an error in your SQL syntax; "
                       "check the manual that corresponds to your MySQL "
                       "server version for the right syntax to use near "
                       "'x' at line 1");
    Q(&x->c, "ROLLBACK TO", "ERR 1064 You have an error in your SQL syntax; "
                         "check the manual that corresponds to your MySQL "
                         "server version for the right syntax to use near "
                         "'' at line 1");
}

/* Locks taken after a savepoint stay held after a rollback to it: a
 * second session cannot lock the row until the first ends. */
static void test_pessimistic_locks_stay(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn a, b;
    sqlfx_open(&f, false);
    sqlfx_connect(&f, &a, 1);
    sqlfx_connect(&f, &b, 2);
    setup_table(&a);
    Q(&b, "USE d", "OK 0 0 0");
    Q(&a, "SET txn_mode = 'PESSIMISTIC'", "OK 0 0 0");
    Q(&b, "SET txn_mode = 'PESSIMISTIC'", "OK 0 0 0");
    Q(&b, "SET innodb_lock_wait_timeout = 1", "OK 0 0 0");
    Q(&a, "BEGIN", "OK 0 0 0");
    Q(&a, "SAVEPOINT p", "OK 0 0 0");
    Q(&a, "SELECT v FROM t WHERE id = 1 FOR UPDATE", "10");
    Q(&a, "UPDATE t SET v = 12 WHERE id = 1", "OK 1 0 0");
    Q(&a, "ROLLBACK TO p", "OK 0 0 0");
    Q(&a, "SELECT v FROM t WHERE id = 1", "10");
    Q(&b, "BEGIN", "OK 0 0 0");
    Q(&b, "SELECT v FROM t WHERE id = 1 FOR UPDATE",
      "ERR 1205 Lock wait timeout exceeded; try restarting transaction");
    Q(&b, "ROLLBACK", "OK 0 0 0");
    Q(&a, "COMMIT", "OK 0 0 0");
    Q(&b, "SELECT v FROM t WHERE id = 1 FOR UPDATE", "10");
    sqlfx_disconnect(&b);
    sqlfx_disconnect(&a);
    sqlfx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollback_to, fx_open_table,
                                        fx_close),
        cmocka_unit_test_setup_teardown(test_release_and_reuse,
                                        fx_open_table, fx_close),
        cmocka_unit_test(test_print),
        cmocka_unit_test_setup_teardown(test_syntax_errors, fx_open,
                                        fx_close),
        cmocka_unit_test(test_pessimistic_locks_stay),
    };
    return cmocka_run_group_tests_name("libsql/savepoint", tests, NULL, NULL);
}

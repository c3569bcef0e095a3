/* test_killwait.c: KILL ends a row-lock wait at once (DESIGN.md "A
 * statement", libmvcc/DESIGN.md "Pessimistic locks"). The waiting
 * statement's lock wait timeout is a day and, on the store in this
 * process, the wait is one uninterrupted sleep (no polling slices): only
 * the wake-up KILL sends ends it, so a broken wake-up hangs the suite
 * (its runner's timeout fails it) instead of passing slowly. Sessions are
 * threads; the test sees the wait through the waiter counts, never by
 * sleeping.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kv.h"
#include "session.h"
#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q((c), (sql)), (want))

/* One statement on another thread. */
struct bg
{
    struct sqlfx_conn *c; /* its session */
    const char *sql;      /* the statement */
    char got[256];        /* its answer */
    pthread_t th;         /* the thread */
};

static void *bg_main(void *arg)
{
    struct bg *b = arg;
    snprintf(b->got, sizeof(b->got), "%s", sqlfx_q(b->c, b->sql));
    return NULL;
}

static void bg_start(struct bg *b, struct sqlfx_conn *c, const char *sql)
{
    b->c = c;
    b->sql = sql;
    assert_int_equal(pthread_create(&b->th, NULL, bg_main, b), 0);
}

/* Until n sessions wait and the store has each one's wait queued. */
static void until_waiting(struct sqlfx *f, unsigned n)
{
    for (;;) {
        pthread_mutex_lock(&f->srv->sess_mu);
        unsigned w = f->srv->lock_waiters;
        pthread_mutex_unlock(&f->srv->sess_mu);
        if (w == n && sql__kv_lock_waiters(f->srv->kv) == n)
            return;
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

static void open_three(struct sqlfx *f, struct sqlfx_conn *a,
                       struct sqlfx_conn *b, struct sqlfx_conn *c)
{
    memset(f, 0, sizeof(*f));
    struct sql_server_options o = {.concurrent = true};
    char err[256] = "";
    assert_int_equal(sql_server_open(&o, &f->srv, err, sizeof(err)), 0);
    sqlfx_connect(f, a, 1);
    sqlfx_connect(f, b, 2);
    sqlfx_connect(f, c, 3);
    Q(a, "CREATE DATABASE d", "OK 1 0 0");
    Q(a, "USE d", "OK 0 0 0");
    Q(b, "USE d", "OK 0 0 0");
    Q(a, "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    Q(a, "INSERT INTO t VALUES (1, 10), (2, 20)", "OK 2 0 0");
    Q(b, "SET innodb_lock_wait_timeout = 86400", "OK 0 0 0");
    Q(a, "BEGIN", "OK 0 0 0");
    Q(a, "SELECT v FROM t WHERE id = 1 FOR UPDATE", "10");
}

static void close_three(struct sqlfx *f, struct sqlfx_conn *a,
                        struct sqlfx_conn *b, struct sqlfx_conn *c)
{
    sqlfx_disconnect(a);
    sqlfx_disconnect(b);
    sqlfx_disconnect(c);
    sqlfx_close(f);
}

/* KILL QUERY: the waiting FOR UPDATE answers 1317, the session goes on
 * (its transaction too), the lock holder is untouched. */
static void kill_query_ends_wait(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn a, b, c;
    open_three(&f, &a, &b, &c);
    Q(&b, "BEGIN", "OK 0 0 0");
    Q(&b, "SELECT v FROM t WHERE id = 2 FOR UPDATE", "20");
    struct bg w;
    bg_start(&w, &b, "SELECT v FROM t WHERE id = 1 FOR UPDATE");
    until_waiting(&f, 1);
    Q(&c, "KILL QUERY 2", "OK 0 0 0");
    assert_int_equal(pthread_join(w.th, NULL), 0);
    assert_string_equal(w.got, "ERR 1317 Query execution was interrupted");
    until_waiting(&f, 0);
    /* B still holds row 2; A still holds row 1 and commits. */
    Q(&b, "UPDATE t SET v = 21 WHERE id = 2", "OK 1 0 0");
    Q(&b, "COMMIT", "OK 0 0 0");
    Q(&a, "UPDATE t SET v = 11 WHERE id = 1", "OK 1 0 0");
    Q(&a, "COMMIT", "OK 0 0 0");
    Q(&c, "USE d", "OK 0 0 0");
    Q(&c, "SELECT id, v FROM t ORDER BY id", "1|11\n2|21");
    close_three(&f, &a, &b, &c);
}

/* A pessimistic UPDATE waiting for the row ends the same way, and its
 * write is gone. */
static void kill_query_ends_update_wait(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn a, b, c;
    open_three(&f, &a, &b, &c);
    Q(&b, "SET txn_mode = 'PESSIMISTIC'", "OK 0 0 0");
    struct bg w;
    bg_start(&w, &b, "UPDATE t SET v = 99 WHERE id = 1");
    until_waiting(&f, 1);
    Q(&c, "KILL QUERY 2", "OK 0 0 0");
    assert_int_equal(pthread_join(w.th, NULL), 0);
    assert_string_equal(w.got, "ERR 1317 Query execution was interrupted");
    Q(&a, "COMMIT", "OK 0 0 0");
    Q(&b, "SELECT v FROM t WHERE id = 1", "10");
    /* The next statement of the session runs as usual. */
    Q(&b, "UPDATE t SET v = 12 WHERE id = 1", "OK 1 0 0");
    Q(&b, "SELECT v FROM t WHERE id = 1", "12");
    close_three(&f, &a, &b, &c);
}

/* KILL CONNECTION of a waiter: 1317 now, and the session is marked for
 * closing. */
static void kill_connection_ends_wait(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn a, b, c;
    open_three(&f, &a, &b, &c);
    struct bg w;
    bg_start(&w, &b, "SELECT v FROM t WHERE id = 1 FOR UPDATE");
    until_waiting(&f, 1);
    Q(&c, "KILL 2", "OK 0 0 0");
    assert_int_equal(pthread_join(w.th, NULL), 0);
    assert_string_equal(w.got, "ERR 1317 Query execution was interrupted");
    assert_true(sql_session_killed(b.s));
    Q(&a, "COMMIT", "OK 0 0 0");
    close_three(&f, &a, &b, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill_query_ends_wait),
        cmocka_unit_test(kill_query_ends_update_wait),
        cmocka_unit_test(kill_connection_ends_wait),
    };
    return cmocka_run_group_tests_name("libsql/killwait", tests, NULL, NULL);
}

/* test_concurrent.c: a server opened with opts.concurrent, its sessions
 * driven from several threads at once (as sqld's workers do): autocommit
 * inserts, DDL, explicit transactions and reads interleave and every
 * answer and the final contents are exact. Threads only record answers;
 * the main thread asserts.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <time.h>

#include "session.h"
#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)

#define NTHREADS 4
#define NROWS 40

struct worker
{
    struct sqlfx_conn c;  /* its own session */
    unsigned id;          /* 1..NTHREADS */
    unsigned bad;         /* answers that were not the expected one */
    char first_bad[512];  /* the first of them, with its statement */
};

static void expect(struct worker *w, const char *sql, const char *want)
{
    const char *got = sqlfx_q(&w->c, sql);
    if (strcmp(got, want) == 0)
        return;
    if (w->bad++ == 0)
        snprintf(w->first_bad, sizeof(w->first_bad), "%s -> %s (want %s)",
                 sql, got, want);
}

static void *run(void *arg)
{
    struct worker *w = arg;
    char sql[256], want[64];
    snprintf(sql, sizeof(sql),
             "CREATE TABLE own%u (id INT PRIMARY KEY, v INT)", w->id);
    expect(w, sql, "OK 0 0 0");
    for (unsigned i = 0; i < NROWS; i++) {
        unsigned id = w->id * 1000 + i;
        snprintf(sql, sizeof(sql), "INSERT INTO t VALUES (%u, %u)", id, i);
        expect(w, sql, "OK 1 0 0");
        snprintf(sql, sizeof(sql), "SELECT v FROM t WHERE id = %u", id);
        snprintf(want, sizeof(want), "%u", i);
        expect(w, sql, want);
        snprintf(sql, sizeof(sql), "INSERT INTO own%u VALUES (%u, 0)", w->id,
                 i);
        expect(w, sql, "OK 1 0 0");
    }
    /* Explicit transactions on rows only this session writes. */
    for (unsigned i = 0; i < NROWS; i++) {
        expect(w, "BEGIN", "OK 0 0 0");
        snprintf(sql, sizeof(sql),
                 "UPDATE own%u SET v = v + 1 WHERE id < %u", w->id, i + 1);
        snprintf(want, sizeof(want), "OK %u 0 0", i + 1);
        expect(w, sql, want);
        expect(w, "COMMIT", "OK 0 0 0");
    }
    return NULL;
}

/* In memory: RocksDB is not built with TSan, and its write group (which
 * reads the other writers' batches) reports through libstdc++ frames no
 * suppression can name; the store's thread safety is libmvcc's to test. */
static void open_concurrent(struct sqlfx *f)
{
    memset(f, 0, sizeof(*f));
    struct sql_server_options o = {.concurrent = true};
    char err[256] = "";
    assert_int_equal(sql_server_open(&o, &f->srv, err, sizeof(err)), 0);
}

static void sessions_on_threads(void **state)
{
    (void)state;
    struct sqlfx f;
    open_concurrent(&f);

    struct sqlfx_conn c;
    sqlfx_connect(&f, &c, 100);
    Q(&c, "CREATE DATABASE d", "OK 1 0 0");
    Q(&c, "USE d", "OK 0 0 0");
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "OK 0 0 0");

    struct worker *w = calloc(NTHREADS, sizeof(*w));
    assert_non_null(w);
    pthread_t th[NTHREADS];
    for (unsigned i = 0; i < NTHREADS; i++) {
        w[i].id = i + 1;
        sqlfx_connect(&f, &w[i].c, i + 1);
        Q(&w[i].c, "USE d", "OK 0 0 0");
    }
    for (unsigned i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, run, &w[i]), 0);
    for (unsigned i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (unsigned i = 0; i < NTHREADS; i++) {
        if (w[i].bad)
            fail_msg("session %u: %u unexpected answers, first: %s", i + 1,
                     w[i].bad, w[i].first_bad);
    }

    char want[64];
    snprintf(want, sizeof(want), "%u|%u", NTHREADS * NROWS,
             NTHREADS * (NROWS * (NROWS - 1) / 2));
    Q(&c, "SELECT COUNT(*), SUM(v) FROM t", want);
    /* Row i of each own table was updated by transactions i..NROWS-1. */
    snprintf(want, sizeof(want), "%u|%u", NROWS, NROWS * (NROWS + 1) / 2);
    for (unsigned i = 0; i < NTHREADS; i++) {
        char sql[64];
        snprintf(sql, sizeof(sql), "SELECT COUNT(*), SUM(v) FROM own%u",
                 i + 1);
        Q(&c, sql, want);
    }
    for (unsigned i = 0; i < NTHREADS; i++)
        sqlfx_disconnect(&w[i].c);
    free(w);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

/* One statement on another thread; the main thread waits for it. */
struct bg
{
    struct sqlfx_conn *c;  /* the session it runs on */
    const char *sql;       /* the statement */
    char got[256];         /* its answer */
    pthread_t th;          /* the thread */
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

/* Until n sessions wait for a row lock (a minute at most). */
/* Until n sessions wait for a row lock and the store has registered each
 * one's wait-for edge (a session counts itself as waiting before its
 * request reaches the store: closing a cycle before that would make the
 * first waiter, not the closer, the deadlock's victim). */
static void wait_for_waiters(struct sqlfx *f, unsigned n)
{
    for (int i = 0; i < 600000; i++) {
        pthread_mutex_lock(&f->srv->mu);
        unsigned w = f->srv->lock_waiters;
        pthread_mutex_unlock(&f->srv->mu);
        if (w == n && sql__kv_lock_waiters(f->srv->kv) == n)
            return;
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    fail_msg("no session waits for a lock");
}

static void lock_waits(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn a, b;
    open_concurrent(&f);
    sqlfx_connect(&f, &a, 1);
    sqlfx_connect(&f, &b, 2);
    Q(&a, "CREATE DATABASE d", "OK 1 0 0");
    Q(&a, "USE d", "OK 0 0 0");
    Q(&b, "USE d", "OK 0 0 0");
    Q(&a, "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    Q(&a, "INSERT INTO t VALUES (1, 10), (2, 20)", "OK 2 0 0");

    /* A waiter is released when the holder commits. */
    Q(&a, "BEGIN", "OK 0 0 0");
    Q(&a, "SELECT v FROM t WHERE id = 1 FOR UPDATE", "10");
    Q(&b, "BEGIN", "OK 0 0 0");
    struct bg w;
    bg_start(&w, &b, "SELECT v FROM t WHERE id = 1 FOR UPDATE");
    wait_for_waiters(&f, 1);
    Q(&a, "UPDATE t SET v = 11 WHERE id = 1", "OK 1 0 0");
    Q(&a, "COMMIT", "OK 0 0 0");
    assert_int_equal(pthread_join(w.th, NULL), 0);
    assert_string_equal(w.got, "11"); /* the locked row as committed */
    Q(&b, "COMMIT", "OK 0 0 0");

    /* innodb_lock_wait_timeout bounds the wait: 1205 after it. */
    Q(&a, "BEGIN", "OK 0 0 0");
    Q(&a, "SELECT v FROM t WHERE id = 2 FOR UPDATE", "20");
    Q(&b, "SET innodb_lock_wait_timeout = 1", "OK 0 0 0");
    Q(&b, "BEGIN", "OK 0 0 0");
    Q(&b, "SELECT v FROM t WHERE id = 2 FOR UPDATE",
      "ERR 1205 Lock wait timeout exceeded; try restarting transaction");
    Q(&b, "ROLLBACK", "OK 0 0 0");

    /* A cycle is a deadlock (1213) for the session that closes it; the
     * other then gets its lock. */
    Q(&b, "BEGIN", "OK 0 0 0");
    Q(&b, "SELECT v FROM t WHERE id = 1 FOR UPDATE", "11");
    bg_start(&w, &a, "SELECT v FROM t WHERE id = 1 FOR UPDATE");
    wait_for_waiters(&f, 1);
    Q(&b, "SELECT v FROM t WHERE id = 2 FOR UPDATE",
      "ERR 1213 Deadlock found when trying to get lock; try restarting "
      "transaction");
    assert_int_equal(pthread_join(w.th, NULL), 0);
    assert_string_equal(w.got, "11");
    Q(&a, "COMMIT", "OK 0 0 0");
    Q(&b, "ROLLBACK", "OK 0 0 0");

    /* DDL commits the holder's transaction first (releasing the lock),
     * then runs once nobody waits (waiters point into the catalog). */
    Q(&a, "BEGIN", "OK 0 0 0");
    Q(&a, "SELECT v FROM t WHERE id = 1 FOR UPDATE", "11");
    Q(&b, "BEGIN", "OK 0 0 0");
    bg_start(&w, &b, "SELECT v FROM t WHERE id = 1 FOR UPDATE");
    wait_for_waiters(&f, 1);
    Q(&a, "CREATE TABLE t2 (id INT PRIMARY KEY)", "OK 0 0 0");
    assert_int_equal(pthread_join(w.th, NULL), 0);
    assert_string_equal(w.got, "11");
    Q(&b, "ROLLBACK", "OK 0 0 0");
    Q(&b, "SELECT COUNT(*) FROM t2", "0");
    sqlfx_disconnect(&a);
    sqlfx_disconnect(&b);
    sqlfx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sessions_on_threads),
        cmocka_unit_test(lock_waits),
    };
    return cmocka_run_group_tests_name("libsql/concurrent", tests, NULL,
                                       NULL);
}

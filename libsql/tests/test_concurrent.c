/* test_concurrent.c: a server opened with opts.concurrent, its sessions
 * driven from several threads at once (as sqld's workers do): autocommit
 * inserts, DDL, explicit transactions and reads interleave and every
 * answer and the final contents are exact; KILL ends a row-lock wait at
 * once. Threads only record answers; the main thread asserts.
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
    struct sqlfx *f;      /* the server (mixed_workload) */
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

/* Until n sessions wait for a row lock and the store has registered each
 * one's wait-for edge (a session counts itself as waiting before its
 * request reaches the store: closing a cycle before that would make the
 * first waiter, not the closer, the deadlock's victim). */
static void wait_for_waiters(struct sqlfx *f, unsigned n)
{
    for (int i = 0; i < 600000; i++) {
        pthread_mutex_lock(&f->srv->sess_mu);
        unsigned w = f->srv->lock_waiters;
        pthread_mutex_unlock(&f->srv->sess_mu);
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

/* ---- statements overlap ------------------------------------------------ */

/* begin_hook: holds the statement of session `hold` inside its first
 * store call (with the statement lock shared) until released. */
struct gate
{
    pthread_mutex_t mu;   /* guards the rest */
    pthread_cond_t cv;    /* any change */
    uint32_t hold;        /* conn_id to stop, 0 none */
    bool held;            /* it is stopped in the hook */
    bool open;            /* let it go */
};

static void gate_hook(void *ctx, struct sql_session *s)
{
    struct gate *g = ctx;
    pthread_mutex_lock(&g->mu);
    if (s->conn_id == g->hold) {
        g->held = true;
        pthread_cond_broadcast(&g->cv);
        while (!g->open)
            pthread_cond_wait(&g->cv, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
}

/* Several statements on one session, on a thread; done when answered. */
struct script
{
    struct sqlfx_conn *c;     /* the session */
    const char *const *sql;   /* statements, NULL-terminated */
    char got[8][256];         /* their answers */
    bool done;                /* all answered (under gate mu) */
    struct gate *g;           /* whose mu/cv report done */
    pthread_t th;             /* the thread */
};

static void *script_main(void *arg)
{
    struct script *sc = arg;
    for (size_t i = 0; sc->sql[i] && i < 8; i++)
        snprintf(sc->got[i], sizeof(sc->got[i]), "%s",
                 sqlfx_q(sc->c, sc->sql[i]));
    pthread_mutex_lock(&sc->g->mu);
    sc->done = true;
    pthread_cond_broadcast(&sc->g->cv);
    pthread_mutex_unlock(&sc->g->mu);
    return NULL;
}

static void script_start(struct script *sc, struct gate *g,
                         struct sqlfx_conn *c, const char *const *sql)
{
    memset(sc, 0, sizeof(*sc));
    sc->c = c;
    sc->sql = sql;
    sc->g = g;
    assert_int_equal(pthread_create(&sc->th, NULL, script_main, sc), 0);
}

/* Wait (under g->mu) until *flag, at most a minute: a serialized server
 * never gets there, and the test fails instead of hanging. */
static bool gate_wait(struct gate *g, const bool *flag)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 60;
    while (!*flag)
        if (pthread_cond_timedwait(&g->cv, &g->mu, &dl) != 0)
            return *flag;
    return true;
}

/* A statement stopped inside a store call keeps the statement lock only
 * shared: another session's SELECT and INSERT (on another table) and a
 * PROCESSLIST complete meanwhile; DDL waits for it. */
static void statements_overlap(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn a, b, c;
    open_concurrent(&f);
    sqlfx_connect(&f, &a, 1);
    sqlfx_connect(&f, &b, 2);
    sqlfx_connect(&f, &c, 3);
    Q(&a, "CREATE DATABASE d", "OK 1 0 0");
    Q(&a, "USE d", "OK 0 0 0");
    Q(&b, "USE d", "OK 0 0 0");
    Q(&c, "USE d", "OK 0 0 0");
    Q(&a, "CREATE TABLE t1 (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    Q(&a, "CREATE TABLE t2 (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    Q(&a, "INSERT INTO t1 VALUES (1, 10), (2, 20)", "OK 2 0 0");
    Q(&b, "INSERT INTO t2 VALUES (1, 100)", "OK 1 0 0");

    struct gate g = {.hold = 1};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    f.srv->begin_hook_ctx = &g;
    f.srv->begin_hook = gate_hook;

    static const char *const sa[] = {"SELECT SUM(v) FROM t1", NULL};
    static const char *const sb[] = {
        "SELECT v FROM t2 WHERE id = 1", "INSERT INTO t2 VALUES (2, 200)",
        "SELECT COUNT(*), SUM(v) FROM t2", "SET SESSION sql_mode = ''",
        "BEGIN", "UPDATE t2 SET v = v + 1 WHERE id = 2", "COMMIT", NULL};
    static const char *const sc_[] = {"DROP TABLE t1", NULL};
    struct script ra, rb, rc;
    script_start(&ra, &g, &a, sa);
    pthread_mutex_lock(&g.mu);
    bool held = gate_wait(&g, &g.held);
    pthread_mutex_unlock(&g.mu);
    assert_true(held);

    /* a is inside its statement: b's statements run to the end. */
    script_start(&rb, &g, &b, sb);
    pthread_mutex_lock(&g.mu);
    bool b_done = gate_wait(&g, &rb.done);
    pthread_mutex_unlock(&g.mu);
    if (!b_done) {
        pthread_mutex_lock(&g.mu);
        g.open = true;
        pthread_cond_broadcast(&g.cv);
        pthread_mutex_unlock(&g.mu);
        fail_msg("session 2 did not finish while session 1 ran");
    }
    assert_string_equal(rb.got[0], "100");
    assert_string_equal(rb.got[1], "OK 1 0 0");
    assert_string_equal(rb.got[2], "2|300");
    assert_string_equal(rb.got[3], "OK 0 0 0");
    assert_string_equal(rb.got[4], "OK 0 0 0");
    assert_string_equal(rb.got[5], "OK 1 0 0");
    assert_string_equal(rb.got[6], "OK 0 0 0");
    assert_int_equal(pthread_join(rb.th, NULL), 0);
    /* PROCESSLIST sees a's statement running. */
    const char *pl = sqlfx_q(&c, "SHOW PROCESSLIST");
    const char *row = strstr(pl, "1|root|");
    assert_non_null(row);
    assert_true(row == pl || row[-1] == '\n');
    const char *end = strchr(row, '\n');
    size_t rl = end ? (size_t)(end - row) : strlen(row);
    static const char tail[] = "|executing|SELECT SUM(v) FROM t1";
    assert_true(rl > sizeof(tail) - 1);
    assert_memory_equal(row + rl - (sizeof(tail) - 1), tail,
                        sizeof(tail) - 1);
    assert_non_null(strstr(row, "|d|Query|"));

    /* DDL needs the lock alone: it cannot end before a's statement. */
    script_start(&rc, &g, &c, sc_);
    pthread_mutex_lock(&g.mu);
    assert_false(rc.done);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    assert_int_equal(pthread_join(ra.th, NULL), 0);
    assert_int_equal(pthread_join(rc.th, NULL), 0);
    assert_string_equal(ra.got[0], "30");
    assert_string_equal(rc.got[0], "OK 0 0 0");
    f.srv->begin_hook = NULL;
    Q(&a, "SELECT COUNT(*), SUM(v) FROM t2", "2|301");
    Q(&a, "SELECT COUNT(*) FROM t1", "ERR 1146 Table 'd.t1' doesn't exist");
    pthread_cond_destroy(&g.cv);
    pthread_mutex_destroy(&g.mu);
    sqlfx_disconnect(&a);
    sqlfx_disconnect(&b);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

/* KILL QUERY reaches a statement while it runs (not only in a lock
 * wait): it ends with 1317, and the session goes on. */
static void kill_while_running(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn a, b;
    open_concurrent(&f);
    sqlfx_connect(&f, &a, 1);
    sqlfx_connect(&f, &b, 2);
    Q(&a, "CREATE DATABASE d", "OK 1 0 0");
    Q(&a, "USE d", "OK 0 0 0");
    Q(&a, "CREATE TABLE t1 (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    Q(&a, "INSERT INTO t1 VALUES (1, 10)", "OK 1 0 0");

    struct gate g = {.hold = 1};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    f.srv->begin_hook_ctx = &g;
    f.srv->begin_hook = gate_hook;
    static const char *const sa[] = {"UPDATE t1 SET v = 11 WHERE id = 1",
                                     NULL};
    struct script ra;
    script_start(&ra, &g, &a, sa);
    pthread_mutex_lock(&g.mu);
    bool held = gate_wait(&g, &g.held);
    pthread_mutex_unlock(&g.mu);
    const char *got = sqlfx_q(&b, "KILL QUERY 1");
    char killed[256];
    snprintf(killed, sizeof(killed), "%s", got);
    pthread_mutex_lock(&g.mu);
    g.open = true;
    g.hold = 0;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    assert_int_equal(pthread_join(ra.th, NULL), 0);
    f.srv->begin_hook = NULL;
    assert_true(held);
    assert_string_equal(killed, "OK 0 0 0");
    assert_string_equal(ra.got[0],
                        "ERR 1317 Query execution was interrupted");
    Q(&a, "SELECT v FROM t1", "10"); /* its write was dropped */
    pthread_cond_destroy(&g.cv);
    pthread_mutex_destroy(&g.mu);
    sqlfx_disconnect(&a);
    sqlfx_disconnect(&b);
    sqlfx_close(&f);
}

/* ---- a mixed workload -------------------------------------------------- */

#define MIX_WRITERS 4
#define MIX_READERS 2
#define MIX_OPS 60
#define MIX_FIXED 50 /* rows of fixed, never changed */

/* Autocommit inserts into a shared AUTO_INCREMENT table, and explicit
 * transactions that update this writer's rows. */
static void *mix_writer(void *arg)
{
    struct worker *m = arg;
    char sql[256], want[64];
    for (unsigned i = 0; i < MIX_OPS; i++) {
        snprintf(sql, sizeof(sql), "INSERT INTO ai (w, i) VALUES (%u, %u)",
                 m->id, i);
        const char *got = sqlfx_q(&m->c, sql);
        if (strncmp(got, "OK 1 ", 5) != 0 && m->bad++ == 0)
            snprintf(m->first_bad, sizeof(m->first_bad), "%s -> %.200s",
                     sql, got);
        if (i % 4 == 3) {
            expect(m, "BEGIN", "OK 0 0 0");
            snprintf(sql, sizeof(sql),
                     "UPDATE ai SET n = n + 1 WHERE w = %u", m->id);
            snprintf(want, sizeof(want), "OK %u 0 0", i + 1);
            expect(m, sql, want);
            snprintf(sql, sizeof(sql),
                     "SELECT COUNT(*) FROM ai WHERE w = %u", m->id);
            snprintf(want, sizeof(want), "%u", i + 1);
            expect(m, sql, want);
            expect(m, "COMMIT", "OK 0 0 0");
        }
    }
    return NULL;
}

/* Point reads and aggregates of a table nobody changes, PROCESSLIST and
 * global variables (whatever their value, the statement succeeds). */
static void *mix_reader(void *arg)
{
    struct worker *m = arg;
    char sql[256], want[64];
    for (unsigned i = 0; i < MIX_OPS; i++) {
        unsigned k = (i * 7 + m->id) % MIX_FIXED;
        snprintf(sql, sizeof(sql), "SELECT v FROM fixed WHERE id = %u", k);
        snprintf(want, sizeof(want), "%u", k * 3);
        expect(m, sql, want);
        snprintf(want, sizeof(want), "%u|%u", MIX_FIXED,
                 3 * MIX_FIXED * (MIX_FIXED - 1) / 2);
        expect(m, "SELECT COUNT(*), SUM(v) FROM fixed", want);
        if (i % 10 == 0) {
            const char *got = sqlfx_q(&m->c, "SHOW PROCESSLIST");
            if (strncmp(got, "ERR", 3) == 0 && m->bad++ == 0)
                snprintf(m->first_bad, sizeof(m->first_bad),
                         "processlist -> %.200s", got);
            got = sqlfx_q(&m->c, "SELECT @@global.wait_timeout > 0");
            if (strcmp(got, "1") != 0 && m->bad++ == 0)
                snprintf(m->first_bad, sizeof(m->first_bad),
                         "@@global.wait_timeout -> %.200s", got);
        }
    }
    return NULL;
}

/* DDL on tables nobody else uses. */
static void *mix_ddl(void *arg)
{
    struct worker *m = arg;
    for (unsigned i = 0; i < MIX_OPS / 6; i++) {
        expect(m, "CREATE TABLE scratch (id INT PRIMARY KEY, v INT)",
                "OK 0 0 0");
        expect(m, "INSERT INTO scratch VALUES (1, 1), (2, 2)", "OK 2 0 0");
        expect(m, "ALTER TABLE scratch ADD COLUMN w INT DEFAULT 5",
                "OK 0 0 0");
        expect(m, "SELECT SUM(v), SUM(w) FROM scratch", "3|10");
        expect(m, "DROP TABLE scratch", "OK 0 0 0");
    }
    return NULL;
}

/* SET GLOBAL, and a new session that starts from it. */
static void *mix_global(void *arg)
{
    struct worker *m = arg;
    char sql[128], want[32];
    for (unsigned i = 0; i < MIX_OPS / 6; i++) {
        snprintf(sql, sizeof(sql), "SET GLOBAL wait_timeout = %u", 1000 + i);
        expect(m, sql, "OK 0 0 0");
        snprintf(want, sizeof(want), "%u", 1000 + i);
        expect(m, "SELECT @@global.wait_timeout", want);
        struct worker n = {.f = m->f};
        sqlfx_connect(m->f, &n.c, 900 + i);
        expect(&n, "SELECT @@session.wait_timeout", want);
        sqlfx_disconnect(&n.c);
        m->bad += n.bad;
        if (n.bad && m->bad == n.bad)
            snprintf(m->first_bad, sizeof(m->first_bad), "%s",
                     n.first_bad);
    }
    return NULL;
}

static void mixed_workload(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    open_concurrent(&f);
    sqlfx_connect(&f, &c, 100);
    Q(&c, "CREATE DATABASE d", "OK 1 0 0");
    Q(&c, "USE d", "OK 0 0 0");
    Q(&c,
      "CREATE TABLE ai (id INT AUTO_INCREMENT PRIMARY KEY, w INT, i INT, "
      "n INT NOT NULL DEFAULT 0)",
      "OK 0 0 0");
    Q(&c, "CREATE TABLE fixed (id INT PRIMARY KEY, v INT)", "OK 0 0 0");
    for (unsigned k = 0; k < MIX_FIXED; k++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "INSERT INTO fixed VALUES (%u, %u)", k,
                 k * 3);
        Q(&c, sql, "OK 1 0 0");
    }

    enum { N = MIX_WRITERS + MIX_READERS + 2 };
    struct worker *m = calloc(N, sizeof(*m));
    assert_non_null(m);
    pthread_t th[N];
    for (unsigned i = 0; i < N; i++) {
        m[i].f = &f;
        m[i].id = i + 1;
        sqlfx_connect(&f, &m[i].c, i + 1);
        Q(&m[i].c, "USE d", "OK 0 0 0");
    }
    for (unsigned i = 0; i < N; i++) {
        void *(*fn)(void *) = i < MIX_WRITERS ? mix_writer
                              : i < MIX_WRITERS + MIX_READERS ? mix_reader
                              : i == N - 2 ? mix_ddl
                                           : mix_global;
        assert_int_equal(pthread_create(&th[i], NULL, fn, &m[i]), 0);
    }
    for (unsigned i = 0; i < N; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (unsigned i = 0; i < N; i++)
        if (m[i].bad)
            fail_msg("session %u: %u unexpected answers, first: %s", i + 1,
                     m[i].bad, m[i].first_bad);

    /* Every insert got its own id, from one range: 1..total. */
    char want[96];
    unsigned total = MIX_WRITERS * MIX_OPS;
    snprintf(want, sizeof(want), "%u|%u|1|%u", total, total, total);
    Q(&c, "SELECT COUNT(*), COUNT(DISTINCT id), MIN(id), MAX(id) FROM ai",
      want);
    /* Row i of a writer was updated by the transactions after it: those
     * at i' = 3, 7, 11, ... with i' >= i. */
    unsigned per = 0;
    for (unsigned i = 0; i < MIX_OPS; i++)
        for (unsigned j = 3; j < MIX_OPS; j += 4)
            per += j >= i;
    for (unsigned w = 1; w <= MIX_WRITERS; w++) {
        char sql[96];
        snprintf(sql, sizeof(sql),
                 "SELECT COUNT(*), SUM(i), SUM(n) FROM ai WHERE w = %u", w);
        snprintf(want, sizeof(want), "%u|%u|%u", MIX_OPS,
                 MIX_OPS * (MIX_OPS - 1) / 2, per);
        Q(&c, sql, want);
    }
    snprintf(want, sizeof(want), "%u", 1000 + MIX_OPS / 6 - 1);
    Q(&c, "SELECT @@global.wait_timeout", want);
    Q(&c, "SHOW TABLES", "ai\nfixed");
    for (unsigned i = 0; i < N; i++)
        sqlfx_disconnect(&m[i].c);
    free(m);
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

/* ---- KILL ends a row-lock wait at once --------------------------------
 * (DESIGN.md "KILL", libmvcc/DESIGN.md "Pessimistic locks".) The waiting
 * statement's lock wait timeout is a day and, on the store in this
 * process, the wait is one uninterrupted sleep (no polling slices): only
 * the wake-up KILL sends ends it, so a broken wake-up hangs the suite (its
 * runner's timeout fails it) instead of passing slowly. */

static void open_three(struct sqlfx *f, struct sqlfx_conn *a,
                       struct sqlfx_conn *b, struct sqlfx_conn *c)
{
    open_concurrent(f);
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

/* sql waits on b's session for a row lock until c's kill statement ends
 * it: 1317. */
static void killed_while_waiting(struct sqlfx *f, struct sqlfx_conn *b,
                                 struct sqlfx_conn *c, const char *sql,
                                 const char *kill)
{
    struct bg w;
    bg_start(&w, b, sql);
    wait_for_waiters(f, 1);
    Q(c, kill, "OK 0 0 0");
    assert_int_equal(pthread_join(w.th, NULL), 0);
    assert_string_equal(w.got, "ERR 1317 Query execution was interrupted");
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
    killed_while_waiting(&f, &b, &c,
                         "SELECT v FROM t WHERE id = 1 FOR UPDATE",
                         "KILL QUERY 2");
    wait_for_waiters(&f, 0);
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
    killed_while_waiting(&f, &b, &c, "UPDATE t SET v = 99 WHERE id = 1",
                         "KILL QUERY 2");
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
    killed_while_waiting(&f, &b, &c,
                         "SELECT v FROM t WHERE id = 1 FOR UPDATE", "KILL 2");
    assert_true(sql_session_killed(b.s));
    Q(&a, "COMMIT", "OK 0 0 0");
    close_three(&f, &a, &b, &c);
}

/* Pessimistic: b waits for a's lock on row 1; a commits a new k (and so
 * a new index entry); b's UPDATE then reads a's row, and b's COMMIT
 * answers OK. It answered 1213 until the index entries b writes were
 * locked at COMMIT (libsql DESIGN "Pessimistic commits"; test_txn_pess
 * has the history without a wait). */
static void pessimistic_commit_after_wait(void **state)
{
    (void)state;
    struct sqlfx f;
    open_concurrent(&f);
    struct sqlfx_conn a, b;
    sqlfx_connect(&f, &a, 1);
    sqlfx_connect(&f, &b, 2);
    Q(&a, "CREATE DATABASE d", "OK 1 0 0");
    Q(&a, "USE d", "OK 0 0 0");
    Q(&b, "USE d", "OK 0 0 0");
    Q(&a, "CREATE TABLE t (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(8), "
         "KEY k_1 (k))",
      "OK 0 0 0");
    Q(&a, "INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c')",
      "OK 3 0 0");
    Q(&b, "SET txn_mode = 'PESSIMISTIC'", "OK 0 0 0");
    Q(&b, "SET innodb_lock_wait_timeout = 86400", "OK 0 0 0");
    Q(&a, "SET txn_mode = 'PESSIMISTIC'", "OK 0 0 0");
    Q(&a, "BEGIN", "OK 0 0 0");
    Q(&a, "UPDATE t SET k = k + 1 WHERE id = 1", "OK 1 0 0");
    Q(&b, "BEGIN", "OK 0 0 0");
    Q(&b, "SELECT c FROM t WHERE id = 2", "b");
    struct bg w;
    bg_start(&w, &b, "UPDATE t SET k = k + 1 WHERE id = 1");
    wait_for_waiters(&f, 1);
    Q(&a, "COMMIT", "OK 0 0 0");
    assert_int_equal(pthread_join(w.th, NULL), 0);
    assert_string_equal(w.got, "OK 1 0 0");
    Q(&b, "COMMIT", "OK 0 0 0");
    Q(&a, "SELECT id, k FROM t WHERE k >= 10 ORDER BY k", "1|12\n2|20\n3|30");
    Q(&a, "CHECK TABLE t", "d.t|check|status|OK");
    sqlfx_disconnect(&a);
    sqlfx_disconnect(&b);
    sqlfx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sessions_on_threads),
        cmocka_unit_test(lock_waits),
        cmocka_unit_test(statements_overlap),
        cmocka_unit_test(kill_while_running),
        cmocka_unit_test(mixed_workload),
        cmocka_unit_test(kill_query_ends_wait),
        cmocka_unit_test(kill_query_ends_update_wait),
        cmocka_unit_test(kill_connection_ends_wait),
        cmocka_unit_test(pessimistic_commit_after_wait),
    };
    return cmocka_run_group_tests_name("libsql/concurrent", tests, NULL,
                                       NULL);
}

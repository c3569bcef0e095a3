/* test_helpers.c: helper threads for a loop thread's split work
 * (common/helpers.c): fn runs on the caller alone without helpers, every
 * piece of work is done exactly once however the threads share it, a
 * helper that joined a run has left fn before the run returns, and bad
 * arguments are refused.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

/* Work of one run: pieces taken from a shared counter, each counted. */
#define PIECES 64
struct work {
    size_t next;              /* next piece (atomic) */
    unsigned done[PIECES];    /* times each piece was done */
    pthread_t caller;         /* the thread that called run */
    unsigned by_helpers;      /* pieces helpers did (atomic) */
};

static void pieces(void *arg)
{
    struct work *w = arg;
    size_t u;
    bool helper = !pthread_equal(pthread_self(), w->caller);
    while ((u = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED)) <
           PIECES) {
        __atomic_add_fetch(&w->done[u], 1, __ATOMIC_RELAXED);
        if (helper)
            __atomic_add_fetch(&w->by_helpers, 1, __ATOMIC_RELAXED);
    }
}

/* One run of the pieces on h (NULL: none); each piece must be done once.
 * Returns how many helpers did. */
static unsigned run_pieces(struct dmn_helpers *h)
{
    struct work w;
    memset(&w, 0, sizeof w);
    w.caller = pthread_self();
    dmn_helpers_run(h, pieces, &w);
    for (size_t i = 0; i < PIECES; i++)
        assert_int_equal(w.done[i], 1);
    return w.by_helpers;
}

static void test_no_helpers(void **state)
{
    (void)state;
    struct dmn_helpers *h = NULL;
    assert_int_equal(dmn_helpers_start(0, &h), 0);
    assert_non_null(h);
    assert_int_equal(run_pieces(h), 0);
    dmn_helpers_stop(h);
    /* no pool at all: fn on the caller */
    assert_int_equal(run_pieces(NULL), 0);
    dmn_helpers_stop(NULL);
}

/* Many runs on 1 and 3 helpers: each piece of each run done once. */
static void test_each_piece_once(void **state)
{
    (void)state;
    for (int n = 1; n <= 3; n += 2) {
        struct dmn_helpers *h = NULL;
        assert_int_equal(dmn_helpers_start(n, &h), 0);
        for (int r = 0; r < 2000; r++)
            run_pieces(h);
        dmn_helpers_stop(h);
    }
}

/* A run a helper joins: the caller's fn waits (no clock) until a helper
 * is inside fn, lets it go, and the run must not return before the
 * helper left fn. */
struct meet {
    pthread_mutex_t mu;   /* guards the rest */
    pthread_cond_t cv;    /* any change */
    pthread_t caller;     /* the thread that called run */
    int helpers_in;       /* helpers that entered fn */
    bool go;              /* the caller let them finish */
    int helpers_out;      /* helpers that finished fn */
};

static void meet_fn(void *arg)
{
    struct meet *m = arg;
    pthread_mutex_lock(&m->mu);
    if (pthread_equal(pthread_self(), m->caller)) {
        while (m->helpers_in == 0)
            pthread_cond_wait(&m->cv, &m->mu);
        m->go = true;
        pthread_cond_broadcast(&m->cv);
    } else {
        m->helpers_in++;
        pthread_cond_broadcast(&m->cv);
        while (!m->go)
            pthread_cond_wait(&m->cv, &m->mu);
        /* give the caller every chance to return early */
        pthread_mutex_unlock(&m->mu);
        for (int i = 0; i < 1000; i++)
            sched_yield();
        pthread_mutex_lock(&m->mu);
        m->helpers_out++;
    }
    pthread_mutex_unlock(&m->mu);
}

static void test_run_waits_for_helpers(void **state)
{
    (void)state;
    struct dmn_helpers *h = NULL;
    assert_int_equal(dmn_helpers_start(1, &h), 0);
    for (int r = 0; r < 20; r++) {
        struct meet m;
        memset(&m, 0, sizeof m);
        pthread_mutex_init(&m.mu, NULL);
        pthread_cond_init(&m.cv, NULL);
        m.caller = pthread_self();
        dmn_helpers_run(h, meet_fn, &m);
        pthread_mutex_lock(&m.mu);
        assert_int_equal(m.helpers_in, 1);
        assert_int_equal(m.helpers_out, 1);
        pthread_mutex_unlock(&m.mu);
        pthread_cond_destroy(&m.cv);
        pthread_mutex_destroy(&m.mu);
    }
    /* and a later run's pieces are still each done once */
    run_pieces(h);
    dmn_helpers_stop(h);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct dmn_helpers *h = NULL;
    assert_int_equal(dmn_helpers_start(-1, &h), -EINVAL);
    assert_null(h);
    assert_int_equal(dmn_helpers_start(1, NULL), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_helpers),
        cmocka_unit_test(test_each_piece_once),
        cmocka_unit_test(test_run_waits_for_helpers),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

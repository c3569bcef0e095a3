/* helpers.c: helper threads for a loop thread's own split work
 * (helpers.h). One mutex, a generation per run: a helper runs fn once
 * for each generation it sees posted, and the caller, once its own fn
 * returned, withdraws the post and waits only for the helpers inside fn.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "helpers.h"

struct dmn_helpers {
    pthread_mutex_t mu;       /* guards everything below */
    pthread_cond_t work_cv;   /* a run was posted, or stop */
    pthread_cond_t done_cv;   /* the last helper inside fn left it */
    void (*fn)(void *);       /* the posted run's function */
    void *arg;                /* and its argument */
    uint64_t gen;             /* runs posted so far */
    bool posted;              /* run gen may still be joined */
    int inside;               /* helpers inside fn */
    bool stop;                /* helpers exit */
    int n;                    /* helper threads started */
    pthread_t th[];           /* them */
};

static void *helper_main(void *p)
{
    struct dmn_helpers *h = p;
    uint64_t seen = 0;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->stop && !(h->posted && h->gen != seen))
            pthread_cond_wait(&h->work_cv, &h->mu);
        if (h->stop)
            break;
        seen = h->gen;
        void (*fn)(void *) = h->fn;
        void *arg = h->arg;
        h->inside++;
        pthread_mutex_unlock(&h->mu);
        fn(arg);
        pthread_mutex_lock(&h->mu);
        if (--h->inside == 0)
            pthread_cond_signal(&h->done_cv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void stop_n(struct dmn_helpers *h, int started)
{
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_broadcast(&h->work_cv);
    pthread_mutex_unlock(&h->mu);
    for (int i = 0; i < started; i++)
        pthread_join(h->th[i], NULL);
    pthread_cond_destroy(&h->done_cv);
    pthread_cond_destroy(&h->work_cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

int dmn_helpers_start(int n, struct dmn_helpers **out)
{
    if (n < 0 || out == NULL)
        return -EINVAL;
    struct dmn_helpers *h =
        calloc(1, sizeof *h + (size_t)n * sizeof h->th[0]);
    if (h == NULL)
        return -ENOMEM;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->work_cv, NULL);
    pthread_cond_init(&h->done_cv, NULL);
    for (int i = 0; i < n; i++) {
        int rc = pthread_create(&h->th[i], NULL, helper_main, h);
        if (rc != 0) {
            stop_n(h, i);
            return -rc;
        }
    }
    h->n = n;
    *out = h;
    return 0;
}

void dmn_helpers_stop(struct dmn_helpers *h)
{
    if (h != NULL)
        stop_n(h, h->n);
}

void dmn_helpers_run(struct dmn_helpers *h, void (*fn)(void *), void *arg)
{
    if (h == NULL || h->n == 0) {
        fn(arg);
        return;
    }
    pthread_mutex_lock(&h->mu);
    h->fn = fn;
    h->arg = arg;
    h->gen++;
    h->posted = true;
    /* a helper asleep in the kernel costs a wake-up each; the caller
     * starts on the work at once and does not wait for them */
    if (h->n == 1)
        pthread_cond_signal(&h->work_cv);
    else
        pthread_cond_broadcast(&h->work_cv);
    pthread_mutex_unlock(&h->mu);
    fn(arg);
    pthread_mutex_lock(&h->mu);
    h->posted = false;
    while (h->inside > 0)
        pthread_cond_wait(&h->done_cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

int dmn_cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc != 0)
        return rc;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
    return rc;
}

struct timespec dmn_monotonic_after(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

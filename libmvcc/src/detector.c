/* detector.c: the wait-for graph that finds deadlocks between pessimistic
 * lock waiters (DESIGN.md, "Pessimistic locks: deadlock detection"). One
 * instance can serve many stores: in one process through
 * mvcc_detector_iface, across processes behind an RPC (TiKV hosts it on
 * the leader of the first region).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "mvcc_int.h"

struct edge
{
    mvcc_ts waiter;  /* txn (start_ts) waiting */
    mvcc_ts holder;  /* txn it waits for */
    unsigned count;  /* requests waiting along this edge right now */
    uint64_t since;  /* monotonic ms of its last detect */
};

struct mvcc_detector
{
    pthread_mutex_t mu;  /* guards the graph */
    struct edge *edges;  /* the edges */
    size_t n;            /* in use */
    size_t cap;          /* allocated */
    mvcc_ts *stack;      /* search scratch: txns to visit */
    bool *seen;          /* search scratch: edge already followed */
    size_t scratch_cap;  /* entries allocated in both */
    uint64_t ttl_ms;     /* edges older than this are dropped; 0 = never */
};

static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

void mvcc_detector_set_ttl(struct mvcc_detector *d, uint64_t ttl_ms)
{
    pthread_mutex_lock(&d->mu);
    d->ttl_ms = ttl_ms;
    pthread_mutex_unlock(&d->mu);
}

/* Drops edges whose clean-up never came (their store died). d->mu held. */
static void expire(struct mvcc_detector *d, uint64_t now)
{
    if (d->ttl_ms == 0)
        return;
    for (size_t i = 0; i < d->n;) {
        if (now - d->edges[i].since >= d->ttl_ms)
            d->edges[i] = d->edges[--d->n];
        else
            i++;
    }
}

int mvcc_detector_create(struct mvcc_detector **out)
{
    if (out == NULL)
        return -EINVAL;
    struct mvcc_detector *d = mvcc__calloc(1, sizeof *d);
    if (d == NULL)
        return -ENOMEM;
    pthread_mutex_init(&d->mu, NULL);
    *out = d;
    return 0;
}

void mvcc_detector_destroy(struct mvcc_detector *d)
{
    if (d == NULL)
        return;
    pthread_mutex_destroy(&d->mu);
    mvcc__free(d->edges);
    mvcc__free(d->stack);
    mvcc__free(d->seen);
    mvcc__free(d);
}

/* Whether `from` reaches `target` along the edges (depth-first, each
 * edge followed at most once). Under d->mu, scratch sized to d->n. */
static bool reaches(struct mvcc_detector *d, mvcc_ts from, mvcc_ts target)
{
    size_t top = 0;
    memset(d->seen, 0, d->n * sizeof *d->seen);
    d->stack[top++] = from;
    while (top > 0) {
        mvcc_ts t = d->stack[--top];
        if (t == target)
            return true;
        for (size_t i = 0; i < d->n; i++)
            if (!d->seen[i] && d->edges[i].waiter == t) {
                d->seen[i] = true; /* at most n pushes in all */
                d->stack[top++] = d->edges[i].holder;
            }
    }
    return false;
}

static int reserve(struct mvcc_detector *d)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct edge *e = mvcc__realloc(d->edges, cap * sizeof *e);
        if (e == NULL)
            return -ENOMEM;
        d->edges = e;
        d->cap = cap;
    }
    if (d->scratch_cap < d->n + 1) {
        size_t cap = d->cap;
        mvcc_ts *st = mvcc__realloc(d->stack, cap * sizeof *st);
        if (st == NULL)
            return -ENOMEM;
        d->stack = st;
        bool *seen = mvcc__realloc(d->seen, cap * sizeof *seen);
        if (seen == NULL)
            return -ENOMEM;
        d->seen = seen;
        d->scratch_cap = cap;
    }
    return 0;
}

int mvcc_detector_detect(struct mvcc_detector *d, mvcc_ts waiter,
                         mvcc_ts holder)
{
    if (d == NULL || waiter == holder)
        return -EINVAL;
    pthread_mutex_lock(&d->mu);
    uint64_t now = mono_ms();
    expire(d, now);
    int rc = reserve(d);
    if (rc == 0 && reaches(d, holder, waiter))
        rc = MVCC_DEADLOCK;
    if (rc == 0) {
        size_t i = 0;
        while (i < d->n && (d->edges[i].waiter != waiter ||
                            d->edges[i].holder != holder))
            i++;
        if (i == d->n)
            d->edges[d->n++] = (struct edge){waiter, holder, 0, now};
        d->edges[i].count++;
        d->edges[i].since = now;
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

void mvcc_detector_clean_up_wait_for(struct mvcc_detector *d, mvcc_ts waiter,
                                     mvcc_ts holder)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->n; i++)
        if (d->edges[i].waiter == waiter && d->edges[i].holder == holder) {
            if (--d->edges[i].count == 0)
                d->edges[i] = d->edges[--d->n];
            break;
        }
    pthread_mutex_unlock(&d->mu);
}

void mvcc_detector_clean_up(struct mvcc_detector *d, mvcc_ts txn)
{
    if (d == NULL)
        return;
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->n;) {
        if (d->edges[i].waiter == txn || d->edges[i].holder == txn)
            d->edges[i] = d->edges[--d->n];
        else
            i++;
    }
    pthread_mutex_unlock(&d->mu);
}

size_t mvcc_detector_edges(struct mvcc_detector *d)
{
    pthread_mutex_lock(&d->mu);
    size_t n = d->n;
    pthread_mutex_unlock(&d->mu);
    return n;
}

static int iface_detect(void *ctx, mvcc_ts waiter, mvcc_ts holder,
                        const void *key, size_t key_len)
{
    (void)key;
    (void)key_len;
    return mvcc_detector_detect(ctx, waiter, holder);
}

static void iface_clean_up(void *ctx, mvcc_ts waiter, mvcc_ts holder)
{
    mvcc_detector_clean_up_wait_for(ctx, waiter, holder);
}

void mvcc_detector_iface(struct mvcc_detector *d,
                         struct mvcc_deadlock_detector *iface)
{
    iface->ctx = d;
    iface->detect = iface_detect;
    iface->clean_up_wait_for = iface_clean_up;
}

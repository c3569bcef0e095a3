/* gc.c: sqld's MVCC garbage collector (libsql/DESIGN.md "GC"): a thread
 * that runs one sql_server_gc round every gc.run-interval, keeping
 * gc.life-time of history (and every open transaction's snapshot). On
 * the local store the round removes the old versions itself; on a
 * cluster it holds this sqld's snapshots and publishes the safe point
 * through PD (cluster.c), and each kvd removes the versions in its store.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>

#include <sql.h>

#include "helpers.h"
#include "log.h"
#include "sqld.h"

static struct
{
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled to stop (CLOCK_MONOTONIC waits) */
    bool started, stopping;
    struct sql_server *srv;
    uint64_t life_ms, interval_ms;
} gc = {.mu = PTHREAD_MUTEX_INITIALIZER};

struct sqld_gc_counters sqld_gc;

static void round_once(void)
{
    struct sql_gc_stats st;
    int rc = sql_server_gc(gc.srv, gc.life_ms, &st);
    __atomic_fetch_add(&sqld_gc.runs, 1, __ATOMIC_RELAXED);
    if (rc == SQL_GC_LIVE_LOCK) {
        __atomic_fetch_add(&sqld_gc.skipped, 1, __ATOMIC_RELAXED);
        dmn_info("GC: a live transaction holds a lock below the safe "
                 "point; trying again next round");
        return;
    }
    if (rc != 0) {
        __atomic_fetch_add(&sqld_gc.errors, 1, __ATOMIC_RELAXED);
        const char *why = sqld_kv_strerror(rc);
        dmn_warn("GC round failed: %s (%d)", why ? why : sql_strerror(rc),
                 rc);
        return;
    }
    uint64_t was = __atomic_exchange_n(&sqld_gc.safe_point, st.safe_point,
                                       __ATOMIC_RELAXED);
    __atomic_fetch_add(&sqld_gc.versions_removed, st.versions_removed,
                       __ATOMIC_RELAXED);
    __atomic_fetch_add(&sqld_gc.locks_resolved, st.locks_resolved,
                       __ATOMIC_RELAXED);
    if (st.versions_removed || st.locks_resolved || st.safe_point != was)
        dmn_info("GC: safe point %" PRIu64 ", %" PRIu64
                 " old versions removed, %" PRIu64 " locks resolved",
                 st.safe_point, st.versions_removed, st.locks_resolved);
}

static void *gc_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gc.mu);
    while (!gc.stopping) {
        struct timespec until = dmn_monotonic_after((int64_t)gc.interval_ms);
        int w = 0;
        while (!gc.stopping && w != ETIMEDOUT)
            w = pthread_cond_timedwait(&gc.cv, &gc.mu, &until);
        if (gc.stopping)
            break;
        pthread_mutex_unlock(&gc.mu);
        round_once();
        pthread_mutex_lock(&gc.mu);
    }
    pthread_mutex_unlock(&gc.mu);
    return NULL;
}

int sqld_gc_start(struct sql_server *srv, uint64_t life_ms,
                  uint64_t interval_ms)
{
    gc.srv = srv;
    gc.life_ms = life_ms;
    gc.interval_ms = interval_ms;
    gc.stopping = false;
    int rc = dmn_cond_init_monotonic(&gc.cv);
    if (rc != 0)
        return -rc;
    if ((rc = pthread_create(&gc.thread, NULL, gc_main, NULL)) != 0) {
        pthread_cond_destroy(&gc.cv);
        return -rc;
    }
    gc.started = true;
    return 0;
}

void sqld_gc_stop(void)
{
    if (!gc.started)
        return;
    pthread_mutex_lock(&gc.mu);
    gc.stopping = true;
    pthread_cond_signal(&gc.cv);
    pthread_mutex_unlock(&gc.mu);
    pthread_join(gc.thread, NULL);
    pthread_cond_destroy(&gc.cv);
    gc.started = false;
}

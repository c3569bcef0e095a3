/* merge.c: kvd's merge driver (daemons/kvd/README.md "Merge",
 * libregion/DESIGN.md "Merge"): on the store leading a source region it
 * carries pdd's MERGE step through libregion's prepare, commit, and on a
 * refused commit reject and rollback, one step per heartbeat round, for
 * as long as the source stays marked merging (pdd's operator or not).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "kvd.h"
#include "log.h"

/* Give up a commit that is still not ready (a replica of the source does
 * not hold its log up to the prepare) and reject, then roll back, so the
 * source serves again: at once (after MERGE_STUCK_MS of libregion saying
 * so without a break, which rides out a new leader's first round) when
 * that replica cannot reach the prepare by appends (its store silent, or
 * waiting for a snapshot a merging source does not build), else after
 * MERGE_READY_WAIT_MS. The source refuses every request meanwhile; the
 * wait only buys a merge that a later pdd operator can do again. */
#define MERGE_READY_WAIT_MS (20 * 1000)
#define MERGE_STUCK_MS 2000
#define MERGE_SLOTS 64

/* What the driver knows of one source it leads; callbacks (loop thread)
 * and the pd thread share it under mu. */
struct merge_slot {
    uint64_t source;   /* source region id (0: free) */
    uint64_t since_ms; /* first seen merging here (monotonic) */
    uint64_t stuck_ms; /* since when libregion says stuck (0: not) */
    bool inflight;     /* a proposal of ours is waiting for its apply */
    bool refused;      /* the commit was refused: reject, then roll back */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct merge_slot slots[MERGE_SLOTS];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The slot of source (made when make). Under mu. */
static struct merge_slot *slot_of(uint64_t source, bool make)
{
    struct merge_slot *free_slot = NULL;
    for (size_t i = 0; i < MERGE_SLOTS; i++) {
        if (slots[i].source == source)
            return &slots[i];
        if (slots[i].source == 0 && free_slot == NULL)
            free_slot = &slots[i];
    }
    if (!make || free_slot == NULL)
        return NULL;
    *free_slot = (struct merge_slot){source, now_ms(), 0, false, false};
    return free_slot;
}

static void slot_drop(uint64_t source)
{
    pthread_mutex_lock(&mu);
    struct merge_slot *sl = slot_of(source, false);
    if (sl)
        memset(sl, 0, sizeof *sl);
    pthread_mutex_unlock(&mu);
}

static void prepare_done(void *ud, const struct region_reply *r)
{
    uint64_t source = (uint64_t)(uintptr_t)ud;
    pthread_mutex_lock(&mu);
    struct merge_slot *sl = slot_of(source, false);
    if (sl && r->rc == 0)
        sl->inflight = false;
    else if (sl)
        memset(sl, 0, sizeof *sl);
    pthread_mutex_unlock(&mu);
    if (r->rc == 0)
        dmn_info("merge: region %" PRIu64 " prepared", source);
    else
        dmn_info("merge: prepare of region %" PRIu64 ": %s", source,
                 r->err && r->err->msg[0] ? r->err->msg
                                          : region_strerror(r->rc));
}

static void commit_done(void *ud, const struct region_reply *r)
{
    uint64_t source = (uint64_t)(uintptr_t)ud;
    pthread_mutex_lock(&mu);
    struct merge_slot *sl = slot_of(source, false);
    if (sl) {
        sl->inflight = false;
        /* refused by the target's replicated state: no retry can change
         * that (its epoch moved, it is no neighbour, it rejected) */
        sl->refused = r->rc == REGION_EINVAL ||
                      r->rc == REGION_EEPOCH_NOT_MATCH ||
                      r->rc == REGION_EEXISTS;
        if (r->rc == 0)
            memset(sl, 0, sizeof *sl);
    }
    pthread_mutex_unlock(&mu);
    if (r->rc == 0)
        dmn_info("merge: region %" PRIu64 " merged", source);
    else
        dmn_info("merge: commit of region %" PRIu64 ": %s", source,
                 r->err && r->err->msg[0] ? r->err->msg
                                          : region_strerror(r->rc));
}

static void reject_done(void *ud, const struct region_reply *r)
{
    uint64_t source = (uint64_t)(uintptr_t)ud;
    pthread_mutex_lock(&mu);
    struct merge_slot *sl = slot_of(source, false);
    if (sl)
        sl->inflight = false;
    pthread_mutex_unlock(&mu);
    dmn_info("merge: reject of region %" PRIu64 "'s prepare: %s", source,
             r->rc == 0 ? "done" : region_strerror(r->rc));
}

static void rollback_done(void *ud, const struct region_reply *r)
{
    uint64_t source = (uint64_t)(uintptr_t)ud;
    if (r->rc == 0)
        slot_drop(source);
    else {
        pthread_mutex_lock(&mu);
        struct merge_slot *sl = slot_of(source, false);
        if (sl)
            sl->inflight = false;
        pthread_mutex_unlock(&mu);
    }
    dmn_info("merge: rollback of region %" PRIu64 ": %s", source,
             r->rc == 0 ? "done, it serves again" : region_strerror(r->rc));
}

/* Whether this store leads target; if not, hand the source's leadership
 * to the store that does (so that one store leads both). */
static bool lead_both(struct kvd *k, uint64_t source, uint64_t target)
{
    if (region_store_is_leader(k->store, target))
        return true;
    struct region_desc td;
    uint64_t leader = 0;
    if (region_store_region(k->store, target, &td, &leader) == 0 &&
        leader != 0 && leader != k->store_id) {
        int rc = region_store_transfer_leader(k->store, source, leader);
        dmn_info("merge: region %" PRIu64 ": leadership to store %" PRIu64
                 " (leads target %" PRIu64 "): %s",
                 source, leader, target, rc ? region_strerror(rc) : "asked");
    }
    return false;
}

static void start(struct kvd *k, const struct region_desc *d, uint64_t target)
{
    if (!lead_both(k, d->id, target))
        return;
    pthread_mutex_lock(&mu);
    struct merge_slot *sl = slot_of(d->id, true);
    if (sl)
        sl->inflight = true; /* until the prepare applies (prepare_done) */
    pthread_mutex_unlock(&mu);
    if (sl == NULL)
        return;
    struct region_ctx ctx = {d->id, d->conf_ver, d->version};
    struct region_err err;
    memset(&err, 0, sizeof err);
    int rc = region_merge_prepare(k->store, &ctx, target, prepare_done,
                                  (void *)(uintptr_t)d->id, &err);
    if (rc != 0) {
        slot_drop(d->id);
        dmn_info("merge: region %" PRIu64 " into %" PRIu64 ": %s", d->id,
                 target, err.msg[0] ? err.msg : region_strerror(rc));
    } else
        dmn_info("merge: region %" PRIu64 " into %" PRIu64 ": preparing",
                 d->id, target);
}

/* One step for a source marked merging, which this store leads. */
static void drive(struct kvd *k, uint64_t source,
                  const struct region_merge_state *ms)
{
    pthread_mutex_lock(&mu);
    struct merge_slot *sl = slot_of(source, true);
    if (sl == NULL || sl->inflight) {
        pthread_mutex_unlock(&mu);
        return;
    }
    bool refused = sl->refused;
    uint64_t now = now_ms();
    bool late = now - sl->since_ms > MERGE_READY_WAIT_MS;
    if (!ms->stuck)
        sl->stuck_ms = 0;
    else if (sl->stuck_ms == 0)
        sl->stuck_ms = now;
    else if (now - sl->stuck_ms >= MERGE_STUCK_MS)
        late = true;
    sl->inflight = true; /* given back below unless a proposal is out */
    pthread_mutex_unlock(&mu);
    void *ud = (void *)(uintptr_t)source;
    struct region_err err;
    memset(&err, 0, sizeof err);
    int rc;
    const char *what;
    if (ms->rejected) {
        what = "rollback";
        rc = region_merge_rollback(k->store, source, rollback_done, ud, &err);
    } else if (!lead_both(k, source, ms->target)) {
        what = NULL;
        rc = -1;
    } else if (refused) {
        what = "reject";
        rc = region_merge_reject(k->store, source, reject_done, ud, &err);
    } else {
        what = "commit";
        rc = region_merge_commit(k->store, source, commit_done, ud, &err);
        if (rc == REGION_ESERVER_BUSY && late) {
            dmn_warn("merge: region %" PRIu64 ": %s; giving up", source,
                     err.msg);
            pthread_mutex_lock(&mu);
            sl->refused = true;
            pthread_mutex_unlock(&mu);
        }
    }
    if (rc != 0) {
        pthread_mutex_lock(&mu);
        sl->inflight = false;
        pthread_mutex_unlock(&mu);
        if (what != NULL && rc != REGION_ESERVER_BUSY)
            dmn_info("merge: %s of region %" PRIu64 ": %s", what, source,
                     err.msg[0] ? err.msg : region_strerror(rc));
    }
}

/* Free the slots of sources this store no longer drives (merged, rolled
 * back, led elsewhere) with nothing in flight. */
static void sweep(struct kvd *k)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < MERGE_SLOTS; i++) {
        struct region_merge_state ms;
        uint64_t id = slots[i].source;
        if (id == 0 || slots[i].inflight)
            continue;
        if (region_store_merge_state(k->store, id, &ms) != 0 ||
            ms.target == 0 || !region_store_is_leader(k->store, id))
            memset(&slots[i], 0, sizeof slots[i]);
    }
    pthread_mutex_unlock(&mu);
}

bool kvd_merge_step(struct kvd *k, const struct region_desc *d,
                    const struct pd_step *st)
{
    sweep(k);
    struct region_merge_state ms;
    if (region_store_merge_state(k->store, d->id, &ms) != 0)
        return false;
    if (ms.target != 0) {
        drive(k, d->id, &ms);
        return true;
    }
    pthread_mutex_lock(&mu);
    struct merge_slot *sl = slot_of(d->id, false);
    bool ours = sl != NULL && sl->inflight; /* a prepare not applied yet */
    if (sl != NULL && !ours)
        memset(sl, 0, sizeof *sl); /* rolled back elsewhere */
    pthread_mutex_unlock(&mu);
    if (st->kind != PD_STEP_MERGE)
        return false;
    if (!ours)
        start(k, d, st->target_region_id);
    return true;
}

/* pd.c: kvd's side of the placement driver (daemons/kvd/README.md): one
 * thread that bootstraps the cluster in pdd, registers this store, sends
 * store and region heartbeats every pd.heartbeat-interval (and a
 * region's at once when its leadership begins here or its epoch changes),
 * and carries out the operator step each region heartbeat answers
 * (transfer leader, add a voter or a learner, promote a learner once it
 * caught up, remove a peer, split), reporting splits it makes.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cluster_tls.h"
#include "config.h"
#include "helpers.h"
#include "kvd.h"
#include "log.h"

/* A split this thread asked for, completed on the loop thread. */
struct split_note {
    struct split_note *next; /* list link */
    struct kvd_pd *pd;       /* owner */
    uint64_t left;           /* the region split (keeps its id) */
    uint64_t right;          /* the new region */
    int rc;                  /* the split's outcome (-1: not done yet) */
};

/* A store the transport needs an address for (loop -> pd thread -> loop). */
struct store_want {
    uint64_t id;             /* store id */
    bool resolved;           /* host/port filled: for the loop to take */
    uint64_t retry_ms;       /* failed lookup: not again before this */
    char host[128];          /* its address */
    uint16_t port;           /* its port */
};

/* A merge this store drives (merge.c), stepped between heartbeat rounds
 * every KVD_PD_MERGE_POLL_MS: the source refuses every request from its
 * prepare until its commit, so the commit must not wait for a round
 * (pd.heartbeat-interval, 10 s by default). Watched until the driver has
 * not taken it for KVD_PD_MERGE_KEEP_MS (merged, rolled back, or led
 * elsewhere). */
#define KVD_PD_MERGE_WATCH 16
#define KVD_PD_MERGE_POLL_MS 100
#define KVD_PD_MERGE_KEEP_MS 5000

/* A step libregion refused for now (ServerIsBusy: a learner to promote
 * or a transfer's target still catching up) is asked again with the
 * region's heartbeat KVD_PD_RETRY_MS later instead of at the next round
 * (10 s), for up to KVD_PD_RETRY regions at once (more wait for the
 * round). */
#define KVD_PD_RETRY 64
#define KVD_PD_RETRY_MS 1000
/* Regions pdd hinted (an operator step waits for each), kept until the
 * pd thread heartbeats them; more are dropped (the round asks them). */
#define KVD_PD_HINTS 256
struct merge_watch {
    uint64_t id;       /* source region */
    uint64_t until_ms; /* watched until then (monotonic) */
};

struct kvd_pd {
    struct kvd *k;                    /* the node */
    struct kvd_pd_opts opts;          /* copied; strings borrowed */
    struct pd_client *cli;            /* NULL until connected */
    pthread_t thread;                 /* the heartbeat thread */
    bool started;                     /* thread is running */
    pthread_mutex_t mu;               /* guards the fields below */
    pthread_cond_t cv;                /* stopping, a split completed, an
                                         address wanted, a leadership
                                         began (broadcast: the pd, GC and
                                         max_ts threads all wait on it) */
    bool stopping;                    /* the thread must return */
    struct split_note *done;          /* completed splits to report */
    struct split_note *pending;       /* splits in flight (freed at free) */
    struct kvd_pd_counters counters;  /* what it did */
    struct store_want wants[KVD_MAX_PEERS]; /* addresses asked for */
    int n_wants;                      /* used entries of wants */
    bool want_new;                    /* a lookup is due */
    struct event *resolved_ev;        /* loop: take resolved addresses */
    pthread_t gc_thread;              /* the GC thread */
    bool gc_started;                  /* gc_thread is running */
    bool joined;                      /* the store is registered (the
                                         cluster is bootstrapped) */
    struct pd_client *gc_cli;         /* its own PD connection */
    pthread_t ts_thread;              /* the max_ts sync thread */
    bool ts_started;                  /* ts_thread is running */
    struct pd_client *ts_cli;         /* its own PD connection */
    bool buried;                      /* pdd said: this store is a
                                         tombstone */
    bool refused;                     /* pdd refused this store's libmvcc
                                         or libregion version: the loop
                                         was stopped */
    uint32_t region_version;          /* the cluster's libregion version
                                         heard (atomic) */
    struct merge_watch watch[KVD_PD_MERGE_WATCH]; /* merges driven here
                                         (pd thread only) */
    int n_watch;                      /* used entries of watch */
    uint64_t reported;                /* the store's report generation
                                         when its changes were last
                                         reported (pd thread only) */
    uint64_t retry[KVD_PD_RETRY];     /* regions whose step was refused
                                         for now (pd thread only) */
    int n_retry;                      /* used entries of retry */
    uint64_t retry_ms;                /* when to heartbeat them again
                                         (monotonic) */
    uint64_t hinted[KVD_PD_HINTS];    /* regions pdd hinted, to heartbeat
                                         now (under mu) */
    int n_hinted;                     /* used entries of hinted */
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t kvd_pd_peer_id(uint64_t region_id, uint64_t store_id)
{
    uint64_t id = region_id * 1000u + store_id;
    return id ? id : store_id;
}

/* Wait until stop or ms passed, or until what the caller waits for: with
 * work (the pd thread) a split completed, an address is wanted or pdd
 * hinted a region (on_hint), with gen (non-NULL) a generation of the
 * store (region_store_leader_gen or _report_gen) moved past *seen
 * (libregion's hook, store_changed, wakes it). True when stopping. */
static bool wait_for(struct kvd_pd *pd,
                     int64_t ms,
                     bool work,
                     uint64_t (*gen)(struct region_store *),
                     const uint64_t *seen)
{
    struct timespec ts = dmn_monotonic_after(ms);
    pthread_mutex_lock(&pd->mu);
    while (!pd->stopping &&
           !(work && (pd->done != NULL || pd->want_new || pd->n_hinted > 0)) &&
           !(gen && gen(pd->k->store) != *seen) &&
           pthread_cond_timedwait(&pd->cv, &pd->mu, &ts) != ETIMEDOUT)
        ;
    bool stop = pd->stopping;
    pthread_mutex_unlock(&pd->mu);
    return stop;
}

static bool nap(struct kvd_pd *pd, int64_t ms)
{
    return wait_for(pd, ms, false, NULL, NULL);
}

/* libregion's hook (under the store's lock): a leadership began (for the
 * max_ts thread) or a change is to be reported (for the pd thread). */
static void store_changed(void *ud)
{
    struct kvd_pd *pd = ud;
    pthread_mutex_lock(&pd->mu);
    pthread_cond_broadcast(&pd->cv);
    pthread_mutex_unlock(&pd->mu);
}

/* Adds id to ids[0..*n) unless it is there or the cap is reached (the
 * next round asks that region then); true when added. */
static bool id_note(uint64_t *ids, int *n, int cap, uint64_t id)
{
    for (int i = 0; i < *n; i++)
        if (ids[i] == id)
            return false;
    if (*n == cap)
        return false;
    ids[(*n)++] = id;
    return true;
}

/* libpd's hint (its client thread): pdd has an operator step waiting for
 * region id; the pd thread heartbeats it (wait_round). */
static void on_hint(void *ud, uint64_t id)
{
    struct kvd_pd *pd = ud;
    pthread_mutex_lock(&pd->mu);
    pd->counters.hints++;
    (void)id_note(pd->hinted, &pd->n_hinted, KVD_PD_HINTS, id);
    pthread_cond_broadcast(&pd->cv);
    pthread_mutex_unlock(&pd->mu);
}

static bool stopping(struct kvd_pd *pd)
{
    pthread_mutex_lock(&pd->mu);
    bool stop = pd->stopping;
    pthread_mutex_unlock(&pd->mu);
    return stop;
}

/* The region as pdd's map holds it; keys point into d. */
static void region_of(const struct region_desc *d, uint64_t leader_store,
                      struct pd_region_info *out)
{
    memset(out, 0, sizeof *out);
    out->region.id = d->id;
    out->region.start_key = d->start;
    out->region.start_len = d->start_len;
    out->region.end_key = d->end;
    out->region.end_len = d->end_len;
    out->region.conf_ver = d->conf_ver;
    out->region.version = d->version;
    for (uint32_t i = 0; i < d->n_stores && i < PD_MAX_PEERS; i++) {
        out->region.peers[i].id = kvd_pd_peer_id(d->id, d->stores[i]);
        out->region.peers[i].store_id = d->stores[i];
        out->region.peers[i].learner = (d->learners >> i & 1u) != 0;
        out->region.n_peers++;
    }
    if (leader_store != 0)
        out->leader_peer_id = kvd_pd_peer_id(d->id, leader_store);
}

/* Engine entries one heartbeat's size count reads at most per region
 * (raw keys and every transactional record): past it the figures are
 * lower bounds, so pdd's merge thresholds must stay below what this many
 * entries hold (DESIGN.md "Region size"). */
#define KVD_PD_SIZE_CAP 200000

/* Region heartbeats sent at once (pd_client_region_heartbeats): a round
 * over 10,000 led regions is 40 calls, not 10,000 round trips each
 * waking this thread, libpd's loop and pdd (README.md "pd"). */
#define KVD_PD_HB_BATCH 256
struct hb_batch
{
    struct region_desc d[KVD_PD_HB_BATCH];     /* the regions, fresh copies */
    struct pd_region_info ri[KVD_PD_HB_BATCH]; /* their heartbeats (keys
                                                  point into d) */
    struct pd_step step[KVD_PD_HB_BATCH];      /* what pdd answered */
    int rc[KVD_PD_HB_BATCH];                   /* each one's code */
};

static void split_done(void *ud, const struct region_reply *r)
{
    struct split_note *note = ud;
    struct kvd_pd *pd = note->pd;
    pthread_mutex_lock(&pd->mu);
    for (struct split_note **pp = &pd->pending; *pp; pp = &(*pp)->next)
        if (*pp == note) {
            *pp = note->next;
            break;
        }
    note->rc = r->rc;
    note->next = pd->done;
    pd->done = note;
    pthread_cond_broadcast(&pd->cv); /* the pd thread, not another */
    pthread_mutex_unlock(&pd->mu);
}

/* PD_STEP_SPLIT: new ids from pdd, the middle key from a scan. */
static void do_split(struct kvd_pd *pd, const struct region_desc *d)
{
    char err[256] = "";
    uint64_t new_id = 0, peer_ids[PD_MAX_PEERS];
    uint32_t np = 0;
    uint8_t mid[REGION_MAX_BOUND];
    size_t mid_len = 0;
    /* pdd repeats the step until a heartbeat shows the new version: one
     * split in flight per region (a second would fail EpochNotMatch) */
    bool busy = false;
    pthread_mutex_lock(&pd->mu);
    for (struct split_note *n = pd->pending; n; n = n->next)
        busy |= n->left == d->id;
    pthread_mutex_unlock(&pd->mu);
    if (busy)
        return;
    /* the middle of its raw or its transactional keys (a table's rows),
     * as an automatic split picks it */
    int rc = region_store_split_key(pd->k->store, d->id, mid, &mid_len);
    if (rc != 0) {
        dmn_warn("pd: cannot split region %" PRIu64 ": no middle key (%s)",
                 d->id, region_strerror(rc));
        return;
    }
    rc = pd_client_ask_split(pd->cli, d->id, &new_id, peer_ids, &np, err,
                             sizeof err);
    if (rc != 0) {
        dmn_warn("pd: ask split of region %" PRIu64 ": %s (%d)", d->id, err,
                 rc);
        return;
    }
    struct split_note *note = calloc(1, sizeof *note);
    if (note == NULL)
        return;
    *note = (struct split_note){NULL, pd, d->id, new_id, -1};
    pthread_mutex_lock(&pd->mu);
    note->next = pd->pending;
    pd->pending = note;
    pthread_mutex_unlock(&pd->mu);
    struct region_ctx ctx = {d->id, d->conf_ver, d->version};
    struct region_err rerr;
    memset(&rerr, 0, sizeof rerr);
    rc = region_split(pd->k->store, &ctx, mid, mid_len, new_id, split_done,
                      note, &rerr);
    if (rc != 0) {
        /* the callback will not run: take the note back */
        pthread_mutex_lock(&pd->mu);
        for (struct split_note **pp = &pd->pending; *pp; pp = &(*pp)->next)
            if (*pp == note) {
                *pp = note->next;
                break;
            }
        pthread_mutex_unlock(&pd->mu);
        free(note);
        dmn_warn("pd: split of region %" PRIu64 " refused: %s", d->id,
                 region_strerror(rc));
        return;
    }
    dmn_info("pd: splitting region %" PRIu64 " into %" PRIu64
             " at a %zu-byte key",
             d->id, new_id, mid_len);
}

/* A change_peer's outcome only shows in later heartbeats. */
static void change_done(void *ud, const struct region_reply *r)
{
    uint64_t rid = (uint64_t)(uintptr_t)ud;
    if (r->rc != 0)
        dmn_info("pd: peer change of region %" PRIu64 ": %s", rid,
                 region_strerror(r->rc));
}

/* Heartbeat region id again KVD_PD_RETRY_MS from now (its step was
 * refused for now); wait_round sends it. */
static void retry_soon(struct kvd_pd *pd, uint64_t id)
{
    if (id_note(pd->retry, &pd->n_retry, KVD_PD_RETRY, id) &&
        pd->n_retry == 1)
        pd->retry_ms = mono_ms() + KVD_PD_RETRY_MS;
}

static void change_peer(struct kvd_pd *pd, const struct region_desc *d,
                        int kind, uint64_t store_id)
{
    static const char *const what[] = {"?", "add voter", "add learner",
                                       "promote", "remove"};
    struct region_ctx ctx = {d->id, d->conf_ver, d->version};
    struct region_err err;
    memset(&err, 0, sizeof err);
    int rc = region_change_member(pd->k->store, &ctx, kind, store_id,
                                  change_done, (void *)(uintptr_t)d->id, &err);
    if (rc == REGION_ESERVER_BUSY)
        retry_soon(pd, d->id);
    if (rc == REGION_ESERVER_BUSY && kind == REGION_CHANGE_PROMOTE)
        dmn_debug("pd: region %" PRIu64 ": %s", d->id, err.msg);
    else if (rc != 0)
        dmn_info("pd: %s store %" PRIu64 " in region %" PRIu64 ": %s",
                 what[kind], store_id, d->id, region_strerror(rc));
    else
        dmn_info("pd: region %" PRIu64 ": %s store %" PRIu64, d->id,
                 what[kind], store_id);
}

static void watch_merge(struct kvd_pd *pd, uint64_t id)
{
    uint64_t until = mono_ms() + KVD_PD_MERGE_KEEP_MS;
    for (int i = 0; i < pd->n_watch; i++)
        if (pd->watch[i].id == id) {
            pd->watch[i].until_ms = until;
            return;
        }
    if (pd->n_watch < KVD_PD_MERGE_WATCH) /* else: at the next round */
        pd->watch[pd->n_watch++] = (struct merge_watch){id, until};
}

/* Step every watched merge this store leads (no pdd step: the driver
 * carries a merging source on, or finishes its prepare). */
static void poll_merges(struct kvd_pd *pd)
{
    uint64_t now = mono_ms();
    struct pd_step none = {0};
    for (int i = 0; i < pd->n_watch;) {
        struct merge_watch *w = &pd->watch[i];
        struct region_desc d;
        uint64_t leader = 0;
        if (region_store_is_leader(pd->k->store, w->id) &&
            region_store_region(pd->k->store, w->id, &d, &leader) == 0 &&
            kvd_merge_step(pd->k, &d, &none))
            w->until_ms = now + KVD_PD_MERGE_KEEP_MS;
        if (now > w->until_ms) {
            *w = pd->watch[--pd->n_watch];
            continue;
        }
        i++;
    }
}

/* Carry out one step pdd answered for region d, which this store leads. */
static void run_step(struct kvd_pd *pd, const struct region_desc *d,
                     const struct pd_step *st)
{
    bool has = false;
    for (uint32_t i = 0; i < d->n_stores; i++)
        has |= d->stores[i] == st->store_id;
    if (kvd_merge_step(pd->k, d, st)) { /* merge.c */
        watch_merge(pd, d->id);
        return;
    }
    switch (st->kind) {
    case PD_STEP_NONE:
        return;
    case PD_STEP_TRANSFER_LEADER:
        if (st->store_id != pd->k->store_id) {
            int rc = region_store_transfer_leader(pd->k->store, d->id,
                                                  st->store_id);
            if (rc == REGION_ESERVER_BUSY)
                retry_soon(pd, d->id);
            dmn_info("pd: region %" PRIu64 ": transfer leader to store %" PRIu64
                     ": %s",
                     d->id, st->store_id, rc ? region_strerror(rc) : "asked");
        }
        break;
    case PD_STEP_ADD_PEER:
        /* a voter at once, as asked (pdctl operator add add-peer); pdd's
         * own operators add a learner and promote it (ADD_LEARNER,
         * PROMOTE_LEARNER); a learner there already is promoted */
        if (!has)
            change_peer(pd, d, REGION_CHANGE_ADD_VOTER, st->store_id);
        else if (region_desc_is_learner(d, st->store_id))
            change_peer(pd, d, REGION_CHANGE_PROMOTE, st->store_id);
        break;
    case PD_STEP_ADD_LEARNER:
        if (!has)
            change_peer(pd, d, REGION_CHANGE_ADD_LEARNER, st->store_id);
        break;
    case PD_STEP_PROMOTE_LEARNER:
        /* refused (SERVER_BUSY) until the learner caught up: repeated */
        if (region_desc_is_learner(d, st->store_id))
            change_peer(pd, d, REGION_CHANGE_PROMOTE, st->store_id);
        break;
    case PD_STEP_REMOVE_PEER:
        if (!has)
            break;
        if (st->store_id == pd->k->store_id) {
            /* a leader cannot remove itself: hand over first, the new
             * leader gets the same step at its first heartbeat, sent as
             * its leadership begins (report_changes) */
            for (uint32_t i = 0; i < d->n_stores; i++)
                if (d->stores[i] != pd->k->store_id &&
                    (d->learners >> i & 1u) == 0 && /* a caught-up voter */
                    region_store_transfer_leader(pd->k->store, d->id,
                                                 d->stores[i]) == 0)
                    break;
        } else {
            change_peer(pd, d, REGION_CHANGE_REMOVE, st->store_id);
        }
        break;
    case PD_STEP_SPLIT:
        do_split(pd, d);
        break;
    default:
        dmn_warn("pd: region %" PRIu64 ": step %d not supported (merge)",
                 d->id, st->kind);
        return;
    }
    pthread_mutex_lock(&pd->mu);
    pd->counters.steps++;
    pthread_mutex_unlock(&pd->mu);
}

/* What region d's heartbeat reports (keys point into d): its peers, the
 * leader and term, and its size (a kept count when it still holds). */
static void heartbeat_info(struct kvd_pd *pd,
                           const struct region_desc *d,
                           uint64_t leader,
                           uint64_t term,
                           struct pd_region_info *ri)
{
    region_of(d, leader, ri);
    ri->term = term; /* pdd ignores a lower one: a deposed leader's */
    /* SQL data is transactional: counted with the raw keys (a size of 0
     * made pdd's merge checker take every SQL region for empty) */
    struct region_size sz;
    bool counted = false;
    if (region_store_region_size_kept(pd->k->store, d->id, KVD_PD_SIZE_CAP, &sz,
                                      &counted) == 0) {
        ri->approx_keys = sz.keys;
        ri->approx_size = sz.bytes;
    }
    if (counted) {
        pthread_mutex_lock(&pd->mu);
        pd->counters.size_counts++;
        pthread_mutex_unlock(&pd->mu);
    }
}

static void report_splits(struct kvd_pd *pd)
{
    pthread_mutex_lock(&pd->mu);
    struct split_note *list = pd->done;
    pd->done = NULL;
    pthread_mutex_unlock(&pd->mu);
    while (list) {
        struct split_note *n = list;
        list = n->next;
        struct region_desc l, r;
        uint64_t ll = 0, rl = 0;
        if (n->rc == 0 &&
            region_store_region(pd->k->store, n->left, &l, &ll) == 0 &&
            region_store_region(pd->k->store, n->right, &r, &rl) == 0) {
            struct pd_region_info li, ri;
            char err[256] = "";
            region_of(&l, ll, &li);
            region_of(&r, rl, &ri);
            int rc = pd_client_report_split(pd->cli, &li, &ri, err, sizeof err);
            if (rc != 0)
                dmn_warn("pd: report split %" PRIu64 "/%" PRIu64 ": %s (%d)",
                         n->left, n->right, err, rc);
            else {
                pthread_mutex_lock(&pd->mu);
                pd->counters.splits_reported++;
                pthread_mutex_unlock(&pd->mu);
            }
        } else if (n->rc != 0) {
            dmn_warn("pd: split of region %" PRIu64 " failed: %s", n->left,
                     region_strerror(n->rc));
        }
        free(n);
    }
}

/* pdd made this store a tombstone (scale in: `pdctl store delete`, then
 * its replicas moved away): it holds nothing pdd routes to. Said once;
 * the heartbeats go on being refused until the operator stops kvd. */
static void store_buried(struct kvd_pd *pd)
{
    pthread_mutex_lock(&pd->mu);
    bool first = !pd->buried;
    pd->buried = true;
    pthread_mutex_unlock(&pd->mu);
    if (first)
        dmn_info("pd: store %" PRIu64 " is a tombstone: its replicas have "
                 "moved to other stores; this kvd may be stopped",
                 pd->k->store_id);
}

/* pdd refused the store's registration (PD_EVERSION): this build's
 * libmvcc or libregion is older than the cluster's (libpd DESIGN "Store
 * versions"). Serving on would let an older prewrite take part in a
 * cluster whose SQL layer counts on the newer one, or an older store fail
 * to apply log entries the others apply, so kvd stops, failing, with what
 * to do. */
static void version_refused(struct kvd_pd *pd, const char *err)
{
    pthread_mutex_lock(&pd->mu);
    pd->refused = true;
    pthread_mutex_unlock(&pd->mu);
    dmn_error("pd: store %" PRIu64 " refused: %s; this kvd stops",
              pd->k->store_id, err);
    event_base_loopexit(pd->k->base, NULL);
}

uint32_t kvd_pd_cluster_region_version(struct kvd *k)
{
    struct kvd_pd *pd = k->pd;
    return pd ? __atomic_load_n(&pd->region_version, __ATOMIC_RELAXED) : 0;
}

/* pd thread: the cluster's libregion version, asked while it is below this
 * build's (once there, no gate this build knows of stays closed). A
 * failed call waits for the next round. */
static void learn_versions(struct kvd_pd *pd)
{
    if (__atomic_load_n(&pd->region_version, __ATOMIC_RELAXED) >=
        (uint32_t)region_version_number())
        return;
    char err[256] = "";
    uint32_t v = 0;
    int rc = pd_client_cluster_versions(pd->cli, NULL, &v, err, sizeof err);
    if (rc != 0) {
        dmn_warn("pd: cluster version: %s (%d)", err, rc);
        return;
    }
    uint32_t old =
        __atomic_exchange_n(&pd->region_version, v, __ATOMIC_RELAXED);
    if (v != old) {
        char b[32];
        dmn_info("pd: the cluster's libregion version is %s",
                 pd_version_str(v, b, sizeof b));
    }
}

/* This store's record as it registers it. */
static void store_record(struct kvd_pd *pd, struct pd_store *me)
{
    memset(me, 0, sizeof *me);
    me->id = pd->k->store_id;
    me->address = pd->opts.address;
    me->version = pd->opts.version;
    me->region_version = pd->opts.region_version;
}

bool kvd_pd_refused(struct kvd *k)
{
    struct kvd_pd *pd = k->pd;
    if (pd == NULL)
        return false;
    pthread_mutex_lock(&pd->mu);
    bool r = pd->refused;
    pthread_mutex_unlock(&pd->mu);
    return r;
}

/* The regions this store leads whose last change took a report
 * generation above gen (0: all of them, libregion's
 * region_store_led_since), in key order; *n gets how many (NULL when
 * none or out of memory). */
static uint64_t *led_since(struct region_store *st, uint64_t gen, size_t *n)
{
    uint64_t *ids = NULL;
    size_t cap = 0;
    for (;;) {
        region_store_led_since(st, gen, ids, cap, n);
        if (*n <= cap)
            break;
        cap = *n + 16; /* more may change meanwhile */
        uint64_t *more = realloc(ids, cap * sizeof *ids);
        if (more == NULL) {
            *n = 0;
            break;
        }
        ids = more;
    }
    if (*n == 0) {
        free(ids);
        ids = NULL;
    }
    return ids;
}

/* Heartbeats of the regions in ids this store still leads, sent
 * KVD_PD_HB_BATCH at a time, and the steps pdd answers carried out.
 * prompt: sent for a change (report_changes), not in a round. */
static void heartbeat_regions(struct kvd_pd *pd,
                              const uint64_t *ids,
                              size_t n,
                              bool prompt)
{
    struct kvd *k = pd->k;
    char err[256] = "";
    struct hb_batch *b = n == 0 ? NULL : malloc(sizeof *b);
    if (b == NULL)
        return;
    for (size_t i = 0; i < n && !stopping(pd);) {
        /* the next KVD_PD_HB_BATCH regions this store leads, sent at once */
        size_t m = 0;
        for (; i < n && m < KVD_PD_HB_BATCH; i++) {
            uint64_t leader = 0;
            uint64_t term = region_store_leader_term(k->store, ids[i]);
            if (term == 0) /* not its leader (any more) */
                continue;
            if (region_store_region(k->store, ids[i], &b->d[m], &leader) != 0)
                continue;
            heartbeat_info(pd, &b->d[m], k->store_id, term, &b->ri[m]);
            m++;
        }
        if (m == 0)
            break;
        int rc = pd_client_region_heartbeats(pd->cli, b->ri, m, b->step, b->rc,
                                             err, sizeof err);
        if (rc != 0) { /* out of memory: nothing was sent */
            dmn_warn("pd: region heartbeats: %s (%d)", err, rc);
            break;
        }
        size_t answered = 0, failed = 0, first = 0;
        for (size_t j = 0; j < m; j++) {
            if (b->rc[j] != 0) { /* PD_ESTALE: a newer epoch is in pdd */
                if (b->rc[j] != PD_ESTALE && failed++ == 0)
                    first = j;
                continue;
            }
            answered++;
            run_step(pd, &b->d[j], &b->step[j]);
        }
        pthread_mutex_lock(&pd->mu);
        pd->counters.region_heartbeats += answered;
        if (prompt)
            pd->counters.region_heartbeats_prompt += answered;
        pd->counters.region_heartbeat_calls++;
        pthread_mutex_unlock(&pd->mu);
        if (failed) /* one line: pdd out of reach fails them all */
            dmn_warn(
                "pd: %zu of %zu region heartbeats failed; region "
                "%" PRIu64 ": %s (%d)",
                failed, m, b->d[first].id, pd_strerror(b->rc[first]),
                b->rc[first]);
    }
    free(b);
}

/* Heartbeats, at once, of the regions led here that changed since the
 * last report (a leadership begun, an epoch changed: libregion's report
 * generation): pdd sees a transfer or a membership change done, and
 * answers the operator's next step, without waiting for the round. A
 * failed one waits for the next round. */
static void report_changes(struct kvd_pd *pd)
{
    struct region_store *st = pd->k->store;
    uint64_t gen = region_store_report_gen(st); /* read first: a change
                                                   after it is listed next
                                                   time too */
    size_t n = 0;
    uint64_t *ids = led_since(st, pd->reported, &n);
    pd->reported = gen;
    heartbeat_regions(pd, ids, n, true);
    free(ids);
}

/* One round: the store heartbeat, then one heartbeat per region led. */
static void heartbeat_round(struct kvd_pd *pd)
{
    struct kvd *k = pd->k;
    char err[256] = "";
    struct region_store_stats rs;
    region_store_stats(k->store, &rs);
    struct pd_store_stats st;
    memset(&st, 0, sizeof st);
    struct statvfs vfs;
    if (pd->opts.data_dir && statvfs(pd->opts.data_dir, &vfs) == 0) {
        st.capacity = (uint64_t)vfs.f_blocks * vfs.f_frsize;
        st.available = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    }
    st.region_count = (uint32_t)rs.regions;
    st.leader_count = (uint32_t)rs.leaders;
    int rc = pd_client_store_heartbeat(pd->cli, k->store_id, &st, err,
                                       sizeof err);
    if (rc == PD_ENOTFOUND) {
        /* pdd lost this store (a fresh pdd data dir): register again */
        struct pd_store me;
        store_record(pd, &me);
        rc = pd_client_put_store(pd->cli, &me, err, sizeof err);
        if (rc == PD_EVERSION) {
            version_refused(pd, err);
            return;
        }
        dmn_warn("pd: store unknown to pdd; registered again: %s",
                 rc ? err : "ok");
        return;
    }
    if (rc == PD_ETOMBSTONE) {
        store_buried(pd);
        return;
    }
    if (rc != 0) {
        dmn_warn("pd: store heartbeat: %s (%d)", err, rc);
        return;
    }
    pthread_mutex_lock(&pd->mu);
    pd->counters.store_heartbeats++;
    pthread_mutex_unlock(&pd->mu);

    pd->reported = region_store_report_gen(k->store); /* all reported */
    size_t n = 0;
    uint64_t *ids = led_since(k->store, 0, &n);
    heartbeat_regions(pd, ids, n, false);
    free(ids);
}

/* Bootstrap the cluster if nobody did (first store, first region), then
 * register this store. 0, or 1 when stopping. */
static int join_cluster(struct kvd_pd *pd)
{
    struct kvd *k = pd->k;
    char err[256] = "";
    struct pd_store me;
    store_record(pd, &me);
    int rc;
    /* Ids only rise: once one is handed out, pdd never hands out region
     * 1's id (the fixed map's first region) for a split. */
    uint64_t first = 0;
    while ((rc = pd_client_alloc_id(pd->cli, 1, &first, err, sizeof err)) !=
           0) {
        dmn_warn("pd: alloc id: %s (%d)", err, rc);
        if (nap(pd, 500))
            return 1;
    }
    for (;;) {
        bool boot = false;
        rc = pd_client_is_bootstrapped(pd->cli, &boot, err, sizeof err);
        if (rc == 0 && boot)
            break;
        if (rc == 0) {
            struct region_desc d;
            uint64_t leader = 0;
            memset(&d, 0, sizeof d);
            if (region_store_region(k->store, 1, &d, &leader) != 0) {
                d.id = 1;
                d.conf_ver = 1;
                d.version = 1;
            }
            /* pdd takes one voter on the first store; the region's
             * leader reports the others at its first heartbeat */
            d.n_stores = 1;
            d.stores[0] = k->store_id;
            d.start_len = d.end_len = 0;
            struct pd_region_info ri;
            region_of(&d, 0, &ri);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t cid = ((uint64_t)ts.tv_sec << 20) ^
                           (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
            rc = pd_client_bootstrap(pd->cli, cid ? cid : 1, &me, &ri.region,
                                     err, sizeof err);
            if (rc == 0) {
                dmn_info("pd: bootstrapped cluster %" PRIu64, cid);
                break;
            }
            if (rc == PD_EBOOTSTRAPPED)
                continue; /* another store won: learn the cluster id */
        }
        dmn_warn("pd: bootstrap: %s (%d)", err, rc);
        if (nap(pd, 500))
            return 1;
    }
    while ((rc = pd_client_put_store(pd->cli, &me, err, sizeof err)) != 0) {
        if (rc == PD_EVERSION) {
            version_refused(pd, err);
            return 1;
        }
        dmn_warn("pd: put store: %s (%d)", err, rc);
        if (nap(pd, 500))
            return 1;
    }
    char vbuf[32], rbuf[32];
    dmn_info("pd: store %" PRIu64 " registered at %s in cluster %" PRIu64
             " (libmvcc %s, libregion %s)",
             k->store_id, me.address, pd_client_cluster_id(pd->cli),
             pd_version_str(me.version, vbuf, sizeof vbuf),
             pd_version_str(me.region_version, rbuf, sizeof rbuf));
    learn_versions(pd);
    return 0;
}

void kvd_pd_want_store(struct kvd *k, uint64_t store_id)
{
    struct kvd_pd *pd = k->pd;
    if (pd == NULL)
        return;
    pthread_mutex_lock(&pd->mu);
    int i = 0;
    while (i < pd->n_wants && pd->wants[i].id != store_id)
        i++;
    if (i == pd->n_wants && i < KVD_MAX_PEERS) {
        memset(&pd->wants[i], 0, sizeof pd->wants[i]);
        pd->wants[i].id = store_id;
        pd->n_wants++;
        pd->want_new = true;
        pthread_cond_broadcast(&pd->cv); /* the pd thread, not another */
    }
    pthread_mutex_unlock(&pd->mu);
}

/* pd thread: GetStore for each address wanted (a failed one waits 1 s). */
static void resolve_stores(struct kvd_pd *pd)
{
    uint64_t ids[KVD_MAX_PEERS];
    int n = 0;
    uint64_t now = mono_ms();
    pthread_mutex_lock(&pd->mu);
    pd->want_new = false;
    for (int i = 0; i < pd->n_wants; i++)
        if (!pd->wants[i].resolved && pd->wants[i].retry_ms <= now)
            ids[n++] = pd->wants[i].id;
    pthread_mutex_unlock(&pd->mu);
    for (int j = 0; j < n; j++) {
        char err[256] = "";
        struct pd_client_store st;
        char host[128] = "";
        uint16_t port = 0;
        int rc = pd_client_get_store(pd->cli, ids[j], &st, err, sizeof err);
        if (rc == 0 && (st.state == PD_STORE_TOMBSTONE ||
                        dmn_cfg_split_addr(st.address, host, sizeof host,
                                           &port) != 0))
            rc = -EINVAL;
        pthread_mutex_lock(&pd->mu);
        for (int i = 0; i < pd->n_wants; i++)
            if (pd->wants[i].id == ids[j]) {
                if (rc == 0) {
                    memcpy(pd->wants[i].host, host, sizeof host);
                    pd->wants[i].port = port;
                    pd->wants[i].resolved = true;
                } else {
                    pd->wants[i].retry_ms = mono_ms() + 1000;
                }
            }
        pthread_mutex_unlock(&pd->mu);
        if (rc == 0) {
            dmn_info("pd: store %" PRIu64 " is at %s", ids[j], st.address);
            event_active(pd->resolved_ev, 0, 0);
        } else {
            dmn_warn("pd: no address for store %" PRIu64 ": %s (%d)", ids[j],
                     err, rc);
        }
    }
}

/* Loop thread: resolved addresses join the peer map (only this thread
 * touches k->peers). */
static void on_resolved(evutil_socket_t fd, short what, void *arg)
{
    struct kvd_pd *pd = arg;
    struct kvd *k = pd->k;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&pd->mu);
    int i = 0;
    while (i < pd->n_wants) {
        struct store_want *w = &pd->wants[i];
        if (!w->resolved) {
            i++;
            continue;
        }
        bool known = false;
        for (int j = 0; j < k->n_peers; j++)
            known |= k->peers[j].id == w->id;
        if (!known && k->n_peers < KVD_MAX_PEERS) {
            struct kvd_peer *p = &k->peers[k->n_peers++];
            memset(p, 0, sizeof *p);
            p->id = w->id;
            memcpy(p->host, w->host, sizeof p->host);
            p->port = w->port;
        }
        pd->wants[i] = pd->wants[--pd->n_wants];
    }
    pthread_mutex_unlock(&pd->mu);
    event_active(k->process_ev, 0, 0);
}

/* Connects *cli to pdd, trying every second; false when stopping first
 * (*cli NULL). warn: log each failure. hints: the client takes pdd's
 * hints (the pd thread's, which heartbeats regions). */
static bool connect_pd(struct kvd_pd *pd,
                       struct pd_client **cli,
                       bool warn,
                       bool hints)
{
    char err[256] = "";
    struct pd_client_options o = {
        .endpoints = (const char *const *)pd->opts.endpoints,
        .n_endpoints = pd->opts.n_endpoints,
        .timeout_ms = 5000,
        .call_timeout_ms = 2000,
        .tls = dmn_cluster_tls_client(),
        .on_hint = hints ? on_hint : NULL,
        .hint_ud = pd,
    };
    while (pd_client_create(&o, cli, err, sizeof err) != 0) {
        if (warn)
            dmn_warn("pd: cannot reach pd: %s", err);
        *cli = NULL;
        if (nap(pd, 1000))
            return false;
    }
    return true;
}

/* The regions pdd hinted, heartbeated now (those led here). */
static void heartbeat_hinted(struct kvd_pd *pd)
{
    uint64_t ids[KVD_PD_HINTS];
    pthread_mutex_lock(&pd->mu);
    size_t n = (size_t)pd->n_hinted;
    memcpy(ids, pd->hinted, n * sizeof ids[0]);
    pd->n_hinted = 0;
    pthread_mutex_unlock(&pd->mu);
    heartbeat_regions(pd, ids, n, true);
}

/* The regions retry_soon noted, heartbeated again once due. */
static void retry_steps(struct kvd_pd *pd)
{
    if (pd->n_retry == 0 || mono_ms() < pd->retry_ms)
        return;
    uint64_t ids[KVD_PD_RETRY];
    size_t n = (size_t)pd->n_retry;
    memcpy(ids, pd->retry, n * sizeof ids[0]);
    pd->n_retry = 0; /* refused again: noted again */
    heartbeat_regions(pd, ids, n, true);
}

/* Until the next round: pd.heartbeat-interval, or earlier when a split
 * completed or an address is wanted (wait_for), reporting changes at
 * once meanwhile (report_changes), heartbeating the regions pdd hinted
 * (heartbeat_hinted), asking refused steps again (retry_steps) and
 * stepping watched merges every KVD_PD_MERGE_POLL_MS.
 * True when stopping. */
static bool wait_round(struct kvd_pd *pd)
{
    struct region_store *st = pd->k->store;
    uint64_t end = mono_ms() + (uint64_t)pd->opts.interval_ms;
    for (;;) {
        uint64_t now = mono_ms();
        if (now >= end)
            return stopping(pd);
        uint64_t ms = end - now;
        if (pd->n_watch > 0 && ms > KVD_PD_MERGE_POLL_MS)
            ms = KVD_PD_MERGE_POLL_MS;
        if (pd->n_retry > 0) {
            uint64_t due = pd->retry_ms > now ? pd->retry_ms - now : 0;
            if (due < ms)
                ms = due;
        }
        if (wait_for(pd, (int64_t)ms, true, region_store_report_gen,
                     &pd->reported))
            return true;
        pthread_mutex_lock(&pd->mu);
        bool work = pd->done != NULL || pd->want_new;
        pthread_mutex_unlock(&pd->mu);
        if (work)
            return false;
        if (region_store_report_gen(st) != pd->reported)
            report_changes(pd);
        heartbeat_hinted(pd);
        retry_steps(pd);
        if (pd->n_watch > 0)
            poll_merges(pd);
    }
}

static void *pd_main(void *arg)
{
    struct kvd_pd *pd = arg;
    if (!connect_pd(pd, &pd->cli, true, true))
        return NULL;
    if (join_cluster(pd) != 0)
        return NULL;
    pthread_mutex_lock(&pd->mu);
    pd->joined = true;
    pthread_mutex_unlock(&pd->mu);
    while (!stopping(pd)) {
        resolve_stores(pd);
        report_splits(pd);
        heartbeat_round(pd);
        learn_versions(pd);
        if (wait_round(pd))
            break;
    }
    return NULL;
}

/* The max_ts sync (libregion/DESIGN.md "max_ts"): async commit and 1PC
 * in a leadership this store gained wait until max_ts is above every
 * timestamp PD handed out before it began. The thread sleeps until the
 * store's leadership generation grows (libregion's leadership hook wakes
 * it; it polled every 10 ms before, 100 wake-ups a second on an idle
 * store); then it asks the TSO (after reading the generation), raises
 * max_ts and reports the generation synced. Its own PD connection: the
 * heartbeat thread's calls can take seconds. */
static void *ts_main(void *arg)
{
    struct kvd_pd *pd = arg;
    struct region_store *st = pd->k->store;
    char err[256] = "";
    if (!connect_pd(pd, &pd->ts_cli, false, false))
        return NULL;
    uint64_t synced = 0;
    bool warned = false;
    while (!stopping(pd)) {
        uint64_t gen = region_store_leader_gen(st);
        if (gen == synced) {
            if (wait_for(pd, 1000, false, region_store_leader_gen, &synced))
                break;
            continue;
        }
        pd_ts ts;
        int rc = pd_client_tso(pd->ts_cli, 1, &ts, err, sizeof err);
        if (rc != 0) {
            if (!warned)
                dmn_warn("pd: no timestamp for max_ts (async commit and "
                         "1PC wait): %s", err[0] ? err : pd_strerror(rc));
            warned = true;
            if (nap(pd, 100))
                break;
            continue;
        }
        warned = false;
        mvcc_store_update_max_ts(region_store_mvcc(st), ts);
        region_store_max_ts_synced(st, gen);
        dmn_debug("pd: max_ts raised to %" PRIu64 " (leadership generation "
                  "%" PRIu64 ")", ts, gen);
        synced = gen;
    }
    return NULL;
}

/* MVCC GC (libregion/DESIGN.md "GC"): sqld publishes the GC safe point
 * in PD once the locks below it are resolved; this thread asks PD for it
 * every gc.poll-interval (at once at the start: reads below it are
 * refused from then on) and, when it rose, removes the versions no read
 * at or above it can see from this store's engine, outside Raft, as every
 * replica does on its own. Its own PD connection: a round over a large
 * store takes a while, and the heartbeat thread must not wait. */
static void *gc_main(void *arg)
{
    struct kvd_pd *pd = arg;
    struct region_store *st = pd->k->store;
    char err[256] = "";
    if (!connect_pd(pd, &pd->gc_cli, false, false))
        return NULL;
    for (;;) { /* no safe point before the cluster is bootstrapped */
        pthread_mutex_lock(&pd->mu);
        bool joined = pd->joined;
        pthread_mutex_unlock(&pd->mu);
        if (joined)
            break;
        if (nap(pd, 50))
            return NULL;
    }
    uint64_t done = 0;
    bool warned = false;
    do {
        uint64_t sp = 0;
        int rc = pd_client_gc_safe_point(pd->gc_cli, &sp, err, sizeof err);
        if (rc != 0) {
            if (!warned)
                dmn_warn("pd: no GC safe point: %s",
                         err[0] ? err : pd_strerror(rc));
            warned = true;
            pthread_mutex_lock(&pd->mu);
            pd->counters.gc_errors++;
            pthread_mutex_unlock(&pd->mu);
            continue;
        }
        warned = false;
        if (sp <= done)
            continue;
        uint64_t removed = 0;
        uint64_t t0 = mono_ms();
        struct region_store_stats s0, s1;
        region_store_stats(st, &s0);
        rc = region_store_gc(st, sp, &removed);
        region_store_stats(st, &s1);
        pthread_mutex_lock(&pd->mu);
        pd->counters.gc_runs++;
        if (rc != 0) {
            pd->counters.gc_errors++;
        } else {
            pd->counters.gc_safe_point = sp;
            pd->counters.gc_versions_removed += removed;
        }
        pthread_mutex_unlock(&pd->mu);
        if (rc != 0) {
            dmn_warn("GC at safe point %" PRIu64 " failed: %s", sp,
                     region_strerror(rc));
            continue; /* again at the next poll */
        }
        done = sp;
        if (removed)
            dmn_info("GC: safe point %" PRIu64 ", %" PRIu64
                     " old versions removed in %" PRIu64 " ms (%" PRIu64
                     " regions swept, %" PRIu64 " records read, %" PRIu64
                     " regions skipped: nothing new there)",
                     sp, removed, mono_ms() - t0,
                     s1.gc_regions_swept - s0.gc_regions_swept,
                     s1.gc_records_read - s0.gc_records_read,
                     s1.gc_regions_skipped - s0.gc_regions_skipped);
    } while (!nap(pd, pd->opts.gc_poll_ms));
    return NULL;
}

int kvd_pd_start(struct kvd *k, const struct kvd_pd_opts *o)
{
    if (o->n_endpoints == 0 || o->n_endpoints > 16 || o->interval_ms <= 0)
        return -EINVAL;
    struct kvd_pd *pd = calloc(1, sizeof *pd);
    if (pd == NULL)
        return -ENOMEM;
    pd->k = k;
    pd->opts = *o;
    pthread_mutex_init(&pd->mu, NULL);
    dmn_cond_init_monotonic(&pd->cv);
    pd->resolved_ev = event_new(k->base, -1, 0, on_resolved, pd);
    if (pd->resolved_ev == NULL ||
        pthread_create(&pd->thread, NULL, pd_main, pd) != 0) {
        if (pd->resolved_ev)
            event_free(pd->resolved_ev);
        pthread_cond_destroy(&pd->cv);
        pthread_mutex_destroy(&pd->mu);
        free(pd);
        return -EAGAIN;
    }
    pd->started = true;
    region_store_on_change(k->store, store_changed, pd);
    pd->ts_started = pthread_create(&pd->ts_thread, NULL, ts_main, pd) == 0;
    if (!pd->ts_started)
        dmn_warn("pd: no max_ts sync thread: async commit and 1PC refused");
    if (o->gc_poll_ms > 0) {
        pd->gc_started =
            pthread_create(&pd->gc_thread, NULL, gc_main, pd) == 0;
        if (!pd->gc_started)
            dmn_warn("pd: no GC thread: old versions are kept");
    }
    k->pd = pd;
    return 0;
}

void kvd_pd_stop(struct kvd *k)
{
    struct kvd_pd *pd = k->pd;
    if (pd == NULL || !pd->started)
        return;
    pthread_mutex_lock(&pd->mu);
    pd->stopping = true;
    pthread_cond_broadcast(&pd->cv);
    pthread_mutex_unlock(&pd->mu);
    region_store_on_change(k->store, NULL, NULL); /* pd is freed later */
    pthread_join(pd->thread, NULL);
    pd->started = false;
    pd_client_destroy(pd->cli);
    pd->cli = NULL;
    if (pd->ts_started)
        pthread_join(pd->ts_thread, NULL);
    pd->ts_started = false;
    pd_client_destroy(pd->ts_cli);
    pd->ts_cli = NULL;
    if (pd->gc_started)
        pthread_join(pd->gc_thread, NULL);
    pd->gc_started = false;
    pd_client_destroy(pd->gc_cli);
    pd->gc_cli = NULL;
}

void kvd_pd_free(struct kvd *k)
{
    struct kvd_pd *pd = k->pd;
    if (pd == NULL)
        return;
    kvd_pd_stop(k);
    struct split_note *lists[2] = {pd->pending, pd->done};
    for (int i = 0; i < 2; i++)
        while (lists[i]) {
            struct split_note *n = lists[i];
            lists[i] = n->next;
            free(n);
        }
    event_free(pd->resolved_ev);
    pthread_cond_destroy(&pd->cv);
    pthread_mutex_destroy(&pd->mu);
    free(pd);
    k->pd = NULL;
}

void kvd_pd_counters(struct kvd *k, struct kvd_pd_counters *out)
{
    memset(out, 0, sizeof *out);
    struct kvd_pd *pd = k->pd;
    if (pd == NULL)
        return;
    pthread_mutex_lock(&pd->mu);
    *out = pd->counters;
    pthread_mutex_unlock(&pd->mu);
}

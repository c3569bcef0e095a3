/* cluster.h: an in-process cluster for libregion's tests and benchmark:
 * n stores (ids 1..n), each on its own RocksDB directory, connected by an
 * in-memory router that can cut links and take stores down; the loop
 * (deliver, process, tick) is driven by the test, or by a thread.
 */
#ifndef REGION_TEST_CLUSTER_H
#define REGION_TEST_CLUSTER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mvcc.h"
#include "region.h"

#define CL_MAX 5

struct cl_msg {
    uint64_t to;   /* destination store */
    uint64_t from; /* sender store */
    uint8_t *buf;  /* encoded batch (owned) */
    size_t len;    /* its length */
};

struct cl_store {
    struct region_store *s;   /* NULL while down */
    struct mvcc_engine *eng;  /* its RocksDB */
    char dir[128];            /* its directory */
};

struct cluster {
    int n;                        /* stores */
    bool sync;                    /* fsync the Raft batch */
    char root[64];                /* temporary directory of every store */
    struct cl_store st[CL_MAX + 1]; /* by store id (slot 0 unused) */
    struct cl_msg *q;             /* messages in flight */
    size_t nq;                    /* used */
    size_t capq;                  /* allocated */
    bool cut[CL_MAX + 1][CL_MAX + 1]; /* drop messages from i to j */
    bool paused[CL_MAX + 1];      /* cl_pump hands store i its messages
                                     but runs no iteration of its loop */
    uint64_t ticks;               /* ticks so far */
    uint32_t max_entry_bytes;     /* store option (0 default) */
    uint32_t max_pending;         /* store option (0 default) */
    uint32_t log_keep_entries;    /* store option (0 default) */
    uint64_t split_size;          /* store option (0 default) */
    bool log_on_loop;             /* store option: no writer thread */
    bool overlap;                 /* cl_pump leaves leaders' log writes
                                     in flight (no region_store_sync_wait):
                                     the loop as kvd runs it */
    bool snap_jobs_free;          /* cl_drain waits for no snapshot job
                                     of the checker thread (a test holds
                                     one up; set after cl_init) */
    uint32_t tick_ms;             /* store option (0 default): with it
                                     the lease runs on now_ms and idle
                                     regions hibernate */
    bool no_hibernate;            /* store option */
    uint64_t now_ms;              /* simulated clock: cl_tick adds tick_ms */
    uint64_t unix_ms;             /* simulated wall clock (raw TTLs):
                                     tests move it */
    uint32_t snap_chunk_bytes;    /* store option (0 default) */
    region_log_fn log;            /* store option: every store's logger
                                     (NULL: silent) */
    void *log_ctx;                /* passed to log */
    int log_level;                /* lowest level passed to log */
    struct mvcc_engine *(*wrap)(void *ctx, int store,
                                struct mvcc_engine *eng); /* when set, a
                                     store opens on what this returns
                                     for its RocksDB (a test's engine
                                     over it); it stays the test's */
    void *wrap_ctx;               /* passed to wrap */
    void (*filter)(void *ctx, struct cl_msg *m); /* when set, cl_pump
                                     shows it each message before
                                     delivery: it may change m->buf
                                     (malloc'd) and m->len */
    void *filter_ctx;             /* passed to filter */
    uint64_t max_call_ns[CL_MAX + 1]; /* longest region_store_receive or
                                     _process call cl_pump made on store
                                     i (the store's lock held that long) */
    pthread_t thread;             /* background loop (cl_thread_start) */
    _Atomic bool running;         /* background loop runs */
    pthread_mutex_t mu;           /* held by the background loop per round */
};

/* Start n stores with empty directories (sync: real fsyncs). Set
 * max_entry_bytes and max_pending before (zero them otherwise). */
void cl_init(struct cluster *c, int n, bool sync);
/* Close every store and remove the directories. */
void cl_destroy(struct cluster *c);
/* Region id over [start, end) (NULL = open) on every store. */
void cl_bootstrap(struct cluster *c, uint64_t id, const char *start,
                  const char *end);
/* Put a batch of messages (buf, copied) in flight from store from to
 * store to, as from's router does (dropped if that link is cut). */
void cl_send(struct cluster *c,
             uint64_t from,
             uint64_t to,
             const void *buf,
             size_t len);
/* Deliver every message in flight, then process every store; rounds
 * times. */
void cl_pump(struct cluster *c, int rounds);
/* Wait until every live store's writer thread has made its log writes
 * durable, and complete them, and its checker thread has counted the
 * snapshots it was asked to. With overlap on, a loop that pumps until
 * writes finish calls it after a round with no progress: a round then
 * counts a step of the protocol, never a slice of time (a follower's
 * fsync on a loaded machine can outlast any number of quick rounds). */
void cl_drain(struct cluster *c);
/* Turn overlap on and pump until store's replica of region, the leader,
 * knows the last entry of its log committed while it has not applied it
 * yet (the commit index is with its writer thread: the store routes it
 * there while this runs); that entry's index.
 * Aborts if that does not come about. */
uint64_t cl_commit_unapplied(struct cluster *c, int store, uint64_t region);
/* Prepare source to merge into target through store at, its leader, so
 * that store `lagging` holds the prepare in its log but never learns it
 * was committed (the link from at to lagging is left cut once the append
 * got there). The prepare's code; the cut stays. */
int cl_prepare_logged(struct cluster *c, int at, uint64_t source,
                      uint64_t target, int lagging);
/* Tick every live store once, then pump. */
void cl_tick(struct cluster *c);
/* Tick and pump until some store leads region id; its store id (0 if
 * none after many ticks). */
uint64_t cl_wait_leader(struct cluster *c, uint64_t id);
/* Make store `to` lead region id (leaders asked to hand over, ticking);
 * fails the test if it never does. */
void cl_lead(struct cluster *c, uint64_t id, int to);
/* 3 stores (options already set in c kept), regions 1 = [, m) and
 * 2 = [m, ), both led by store 1. */
void cl_two_regions(struct cluster *c);
/* Take store i down (close, as a crash after its last write) / bring it
 * back (reopen the same directory). */
void cl_stop(struct cluster *c, int i);
void cl_start(struct cluster *c, int i);
/* Cut or restore both directions between i and every other store. */
void cl_isolate(struct cluster *c, int i, bool cut);

/* An engine over a store's own (for cluster.wrap) that passes every
 * call through but writes, which go to write(ctx, inner, b, sync) when
 * write is not NULL, and, when iter is set (after cl_engine_over),
 * iterators: a test's faults. cl_engine_over fills w and returns its
 * engine. */
typedef int (*cl_write_fn)(void *ctx, struct mvcc_engine *inner,
                           const struct mvcc_wbatch *b, bool sync);
typedef int (*cl_iter_fn)(void *ctx,
                          struct mvcc_engine *inner,
                          const struct mvcc_snapshot *snap,
                          int cf,
                          const struct mvcc_iter_opts *opts,
                          struct mvcc_iter **out);
struct cl_engine {
    struct mvcc_engine base;   /* must be first */
    struct mvcc_engine *inner; /* the store's own */
    cl_write_fn write;         /* every write (NULL: the inner's) */
    cl_iter_fn iter;           /* every iterator (NULL: the inner's) */
    void *ctx;                 /* passed to write and iter */
};
struct mvcc_engine *cl_engine_over(struct cl_engine *w,
                                   struct mvcc_engine *inner,
                                   cl_write_fn write, void *ctx);

/* A gate on store engines (cluster.wrap): iterators opened off the
 * test's thread (the split checker's: size checks, snapshot counts,
 * reads and installs' moves) wait while it is shut, and fail (-EIO) once
 * open with fail set; held counts those that waited. store 0: every
 * store's engine, else that one's only. Give it static storage (the
 * checker thread may still be in it when a test fails). */
struct cl_gate
{
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t main; /* the test's thread (the loops') */
    int store;
    bool open;
    bool fail;
    int held;
    struct cl_engine e[CL_MAX + 1];
};
/* g shut (open false) or open, reads failing or not; c's engines (store,
 * 0 all) go through it. Call before cl_init. */
void cl_gate_init(struct cl_gate *g,
                  struct cluster *c,
                  int store,
                  bool open,
                  bool fail);
void cl_gate_set(struct cl_gate *g, bool open, bool fail);
int cl_gate_held(struct cl_gate *g);
/* Open, then the mutex and condition go (after cl_destroy). */
void cl_gate_destroy(struct cl_gate *g);

/* Blocking helpers over the async API, pumping the cluster meanwhile.
 * They return the request's result code; err gets the detail. */
int cl_put(struct cluster *c, int store, uint64_t region, const char *key,
           const char *value, struct region_err *err);
/* A raw write of ops (region_raw_write) through store. */
int cl_write(struct cluster *c,
             int store,
             uint64_t region,
             const struct region_op *ops,
             size_t n,
             struct region_err *err);
int cl_delete(struct cluster *c, int store, uint64_t region, const char *key,
              struct region_err *err);
/* Linearizable get: read barrier, then the value (malloc'd string into
 * *value, NULL when absent: rc MVCC_NOTFOUND). */
int cl_get(struct cluster *c, int store, uint64_t region, const char *key,
           char **value, struct region_err *err);
/* Region id over [start, end) on stores 1..k only. */
void cl_bootstrap_on(struct cluster *c, uint64_t id, const char *start,
                     const char *end, int k);
/* Add or remove store of region through store at; the request's code. */
int cl_change_peer(struct cluster *c, int at, uint64_t region, bool add,
                   int store, struct region_err *err);
/* A membership change (enum region_change_kind) through store at. */
int cl_change_member(struct cluster *c, int at, uint64_t region, int kind,
                     int store, struct region_err *err);
/* Split region at key into new_id (0: allocated); the request's code. */
int cl_split(struct cluster *c, int store, uint64_t region, const char *key,
             uint64_t new_id, struct region_err *err);
/* The leader store of the region holding key (0 if none after a while);
 * *region gets its id. */
int cl_leader_for(struct cluster *c, const char *key, uint64_t *region);
int cl_cas(struct cluster *c, int store, uint64_t region, const char *key,
           const char *expect, const char *value, bool *ok,
           struct region_err *err);

/* Bulk data (snapshot tests and benchmark): key i is "k%06d"; its value
 * is fixed by i and gen: 0.5 to 8 KiB, or big bytes for every
 * big_every-th key (0: none). */
struct cl_bulk {
    int n;            /* keys k000000 .. */
    int gen;          /* generation (a rewrite changes every value) */
    size_t big_every; /* every this many keys one is big (0: none) */
    size_t big;       /* its length */
    size_t small;     /* every value this long instead of 0.5-8 KiB (0:
                         those) */
};
void cl_bulk_key(int i, char *k, size_t cap);
/* Bytes a value of d may take (the room cl_bulk_value needs). */
size_t cl_bulk_cap(const struct cl_bulk *d);
/* Value of key i into v: its length. */
size_t cl_bulk_value(const struct cl_bulk *d, int i, uint8_t *v);
/* Write keys [from, to) of d to region through store at, in commands of
 * about 512 KiB, each waited for: 0 or the failing request's code. */
int cl_bulk_load(struct cluster *c, int at, uint64_t region,
                 const struct cl_bulk *d, int from, int to);
/* Whether store i holds exactly d's values of keys [from, to) (read
 * locally, no barrier). */
bool cl_bulk_holds(struct cluster *c, int i, uint64_t region,
                   const struct cl_bulk *d, int from, int to);

/* Run the loop (deliver, process, tick every few ms) in a thread, for
 * blocking calls (region_txn_run). */
void cl_thread_start(struct cluster *c);
void cl_thread_stop(struct cluster *c);

#endif

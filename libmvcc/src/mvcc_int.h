/* mvcc_int.h: libmvcc's private declarations shared between its source
 * files: the allocator hook, growable buffers, write batches, the record
 * codec and the store's internals. See DESIGN.md.
 */
#ifndef MVCC_INT_H
#define MVCC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mvcc.h"

/* heap.c */
void *mvcc__malloc(size_t n);
void *mvcc__calloc(size_t n, size_t size);
void *mvcc__realloc(void *p, size_t n);
void mvcc__free(void *p);
void *mvcc__memdup(const void *p, size_t n);

/* A growable byte buffer. */
struct mvcc__buf
{
    uint8_t *data; /* bytes, owned; NULL while empty */
    size_t len;    /* bytes in use */
    size_t cap;    /* bytes allocated */
};
int mvcc__buf_reserve(struct mvcc__buf *b, size_t extra);
int mvcc__buf_append(struct mvcc__buf *b, const void *p, size_t n);
void mvcc__buf_free(struct mvcc__buf *b);

/* wbatch.c: one op as stored (offsets into the arena, so it may grow). */
struct mvcc__wop
{
    int type;         /* enum mvcc_wop_type */
    int cf;           /* enum mvcc_cf */
    size_t key_off;   /* key offset in arena */
    size_t key_len;   /* key length */
    size_t val_off;   /* value offset in arena */
    size_t val_len;   /* value length */
};
struct mvcc_wbatch
{
    struct mvcc__wop *ops; /* ops in order */
    size_t nops;           /* ops in use */
    size_t cap;            /* ops allocated */
    struct mvcc__buf arena; /* keys and values */
    bool no_wal;           /* may be lost in a crash: only a lone
                              primary lock (DESIGN "Failure and
                              recovery": lone primary locks). The engine
                              skips its log; a store with a lock table
                              keeps it in the table alone */
};

void mvcc__engine_seterr(struct mvcc_engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* store.c: the store handle and helpers the commands share. */
#include <pthread.h>

/* locktab.c: the lock table (an in-memory copy of the lock CF). */
struct mvcc__locktab;
struct mvcc__lt_entry;
/* Entries allocated for a batch's lock-CF puts, before its write. */
struct mvcc__lt_prep
{
    struct mvcc__lt_entry **entries; /* per op, NULL if not a lock put */
    size_t n;                        /* ops */
};
int mvcc__lt_create(struct mvcc__locktab **out);
void mvcc__lt_destroy(struct mvcc__locktab *t);
size_t mvcc__lt_count(struct mvcc__locktab *t);
/* Loads every lock of the engine's lock CF. */
int mvcc__lt_load(struct mvcc__locktab *t, struct mvcc_engine *eng);
/* Bumps e's write count (kept iterators go stale) if b has a CF-write op,
 * or always for b NULL (records changed some other way). */
void mvcc__count_write(struct mvcc_engine *e, const struct mvcc_wbatch *b);
/* Replaces the entries in [lo, hi) (hil 0: no upper bound) with the
 * engine's lock-CF records there; out of memory changes nothing. */
int mvcc__lt_reload(struct mvcc__locktab *t, struct mvcc_engine *eng,
                    const uint8_t *lo, size_t lol, const uint8_t *hi,
                    size_t hil);
/* The record of encoded key k copied into out, or MVCC_NOTFOUND. */
int mvcc__lt_get(struct mvcc__locktab *t, const uint8_t *k, size_t kl,
                 struct mvcc__buf *out);
/* Before writing b: allocates (the only step that can fail). */
int mvcc__lt_prepare(const struct mvcc_wbatch *b, struct mvcc__lt_prep *p);
/* After b is written: applies its lock-CF ops, consuming p. */
void mvcc__lt_commit(struct mvcc__locktab *t, const struct mvcc_wbatch *b,
                     struct mvcc__lt_prep *p);
/* After b failed: releases p. */
void mvcc__lt_prep_free(struct mvcc__lt_prep *p);
/* Adds to b a put of every lock in the table (the lone primaries' locks
 * kept only there are written at mvcc_store_close). */
int mvcc__lt_to_batch(struct mvcc__locktab *t, struct mvcc_wbatch *b);
/* A sorted copy of the entries within opts' bounds, as an iterator. */
int mvcc__lt_iter(struct mvcc__locktab *t, const struct mvcc_iter_opts *o,
                  struct mvcc_iter **out);

/* recent.c: newest write-CF ts of recently written keys, and a floor
 * bounding every other key's (stores with a lock table). */
struct mvcc__recent;
int mvcc__rw_create(mvcc_ts floor, struct mvcc__recent **out);
void mvcc__rw_destroy(struct mvcc__recent *t);
/* A ts that every write-CF record of encoded key k is at or below. */
mvcc_ts mvcc__rw_bound(struct mvcc__recent *t, const uint8_t *k, size_t kl);
/* Records that k's newest write-CF record is at ts (or older). */
void mvcc__rw_note(struct mvcc__recent *t, const uint8_t *k, size_t kl,
                   mvcc_ts ts);
/* After b is written: notes its write-CF puts. */
void mvcc__rw_apply(struct mvcc__recent *t, const struct mvcc_wbatch *b);

/* A pessimistic lock request waiting for a key's lock (pessimistic.c).
 * Lives on the waiting thread's stack; queued under wait_mu. */
struct mvcc__waiter
{
    struct mvcc__waiter *next; /* next in the store's arrival order */
    struct mvcc__waiter *prev; /* previous */
    uint8_t *key;              /* user key waited on (owned) */
    size_t key_len;            /* its length */
    pthread_cond_t cv;         /* signalled when woken */
    bool woken;                /* a release of key picked this waiter */
    bool sleeping;             /* in its timed wait (wait_mu) */
};

/* A key an async-commit or 1PC prewrite is writing right now (TiKV's
 * in-memory lock): readers of it wait until the batch is in the engine. */
struct mvcc__mlock
{
    uint8_t *key;    /* user key (owned) */
    size_t len;      /* its length */
    uint64_t owner;  /* the registering prewrite call's token (not its
                        start_ts: a transaction's prewrites of several
                        regions of one store run at once, and one must
                        not unregister another's keys) */
};

/* Latch slots are guarded by stripes: slot i by stripe i % this. */
#define MVCC__LATCH_STRIPES 64
struct mvcc__latch_stripe
{
    pthread_mutex_t mu; /* guards the stripe's slots and waiters */
    pthread_cond_t cv;  /* broadcast when a slot is freed with waiters */
    unsigned waiters;   /* threads in cv's wait */
    char pad[128 - sizeof(pthread_mutex_t) - sizeof(pthread_cond_t) -
             sizeof(unsigned)]; /* a stripe per two cache lines (the
                                   store is malloc'd: no aligned type) */
};

/* Latest-state write-CF iterators kept between reads (store.c, DESIGN
 * "Reads": kept iterators), each with the engine's write count when it
 * was made. */
#define MVCC__KEPT_ITERS 4
struct mvcc__kept_iter
{
    struct mvcc_iter *it; /* unbounded, no snapshot; NULL: none yet */
    uint64_t nwrites;     /* eng->nwrites read before it was made */
};

/* Finished commands' scratch buffers (store.c), kept for the next. */
#define MVCC__SPARE_SCRATCH 8
struct mvcc__scratch;

struct mvcc_store
{
    struct mvcc_engine *eng;      /* borrowed engine */
    struct mvcc_store_opts opts;  /* options as given (defaults filled) */
    uint8_t *latches;             /* per-key latch slots: 1 = held */
    size_t nlatch;                /* how many (power of two) */
    struct mvcc__latch_stripe lstripe[MVCC__LATCH_STRIPES]; /* guard
                                     latches (slot i: stripe i % 64) */
    pthread_rwlock_t ts_guard;    /* reads (shared) vs async/1PC prewrite */
    mvcc_ts max_ts;               /* highest read ts (under ts_guard) */
    struct mvcc__mlock *mlocks;   /* in-flight async/1PC keys (ts_guard) */
    size_t nmlocks;               /* how many */
    size_t mlocks_cap;            /* allocated */
    uint64_t mlock_seq;           /* last registration token (ts_guard) */
    pthread_mutex_t wait_mu;      /* lock waiters; readers' in-flight wait */
    pthread_cond_t wait_cv;       /* readers: broadcast as in-flight keys go */
    uint64_t release_gen;         /* bumped as in-flight keys go */
    struct mvcc__waiter *whead;   /* lock waiters in arrival order */
    struct mvcc__waiter *wtail;   /* the last one */
    size_t nqueued;               /* waiters queued (read without wait_mu) */
    size_t nwaiting;              /* of them, past deadlock detection */
    struct mvcc_deadlock_detector det; /* the detector in use */
    struct mvcc_detector *own_det; /* the store's own graph: the detector
                                      when none is shared, else the
                                      fallback when the shared one fails */
    struct mvcc__locktab *lt;     /* lock table, or NULL (opts.lock_table) */
    struct mvcc__recent *rw;      /* recent writes, with a lock table */
    struct mvcc__scratch *spare[MVCC__SPARE_SCRATCH]; /* commands' buffers
                                     for reuse, NULL if none (atomic
                                     exchanges) */
    struct mvcc__kept_iter *kept[MVCC__KEPT_ITERS]; /* read iterators for
                                     reuse (lock table stores), NULL if
                                     none (atomic exchanges) */
};

/* A write-CF iterator at the latest state for a read of a lock table
 * store, taken after the read checked its locks: a kept one if no engine
 * write was counted since it was made, else a fresh one. *out is the
 * holder (its position is arbitrary: seek first); give it back with
 * mvcc__kept_iter_put. */
int mvcc__kept_iter_take(struct mvcc_store *s, struct mvcc__kept_iter **out);
/* Keeps k for the next read (ok: the read ended without an engine error),
 * or destroys it. NULL is a no-op. */
void mvcc__kept_iter_put(struct mvcc_store *s, struct mvcc__kept_iter *k,
                         bool ok);
/* Frees the store without writing the lone primaries' locks of its lock
 * table to the engine (mvcc_store_close writes them first): what a crash
 * leaves. For open's failures, and tests that crash a store. */
void mvcc__store_free(struct mvcc_store *s);
/* Writes a command's batch through the store's apply hook or the engine
 * (and into the lock table; a lone primary's lock into the table only). */
int mvcc__store_apply(struct mvcc_store *s, const struct mvcc_wbatch *b);
/* An iterator over the lock CF: the lock table's when there is one (the
 * latest state; snap is then not used), else the engine's. */
int mvcc__lock_iter(struct mvcc_store *s, const struct mvcc_snapshot *snap,
                    const struct mvcc_iter_opts *o, struct mvcc_iter **out);
void mvcc__log(struct mvcc_store *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The wall clock (CLOCK_REALTIME) in ms: commit deadlines. */
uint64_t mvcc__wall_ms(void);
void mvcc__res_err(struct mvcc_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Latches: the slots of a command's keys, taken all at once. */
struct mvcc__latch
{
    size_t *slots;     /* sorted distinct slots held */
    size_t n;          /* how many */
    size_t inline_[16]; /* storage for small sets */
};
int mvcc__latch_acquire(struct mvcc_store *s, struct mvcc__latch *l,
                        const struct mvcc_key *keys, size_t n);
void mvcc__latch_release(struct mvcc_store *s, struct mvcc__latch *l);
/* Wakes readers waiting for in-flight async/1PC keys (read.c). */
void mvcc__notify_release(struct mvcc_store *s);
/* After a command removed the locks of keys (latches released): wakes the
 * first lock waiter of each, in arrival order (pessimistic.c). */
void mvcc__wake_keys(struct mvcc_store *s, const struct mvcc_key *keys,
                     size_t n);
/* The same for every key in [start, end) (end NULL = unbounded). */
void mvcc__wake_range(struct mvcc_store *s, const void *start, size_t sl,
                      const void *end, size_t el);

#endif /* MVCC_INT_H */

/* store.c: the store handle (latches, max_ts, lock-wait state), results,
 * and the record-level helpers every command uses (DESIGN.md, "Commands").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "txn.h"

/* The recent-writes table starts with a floor of 0 over an empty write
 * CF; over existing records nothing bounds a key's newest ts until it is
 * noted (a write or a conflict check's seek), so the floor is the top. */
static int recent_open(struct mvcc_store *s, struct mvcc_engine *eng)
{
    struct mvcc_iter *it;
    int rc = mvcc_engine_iter(eng, NULL, MVCC_CF_WRITE, NULL, &it);
    if (rc != 0)
        return rc;
    rc = it->ops->seek_to_first(it);
    bool empty = !it->ops->valid(it);
    mvcc_iter_destroy(it);
    if (rc != 0)
        return rc;
    return mvcc__rw_create(empty ? 0 : MVCC_TS_MAX, &s->rw);
}

int mvcc_store_open(struct mvcc_engine *eng, const struct mvcc_store_opts *o,
                    struct mvcc_store **out)
{
    if (eng == NULL || out == NULL)
        return -EINVAL;
    struct mvcc_store *s = mvcc__calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    if (o)
        s->opts = *o;
    size_t n = s->opts.latch_slots ? s->opts.latch_slots : 4096;
    if ((n & (n - 1)) != 0) {
        mvcc__free(s);
        return -EINVAL;
    }
    s->latches = mvcc__calloc(n, sizeof *s->latches);
    if (s->latches == NULL) {
        mvcc__free(s);
        return -ENOMEM;
    }
    s->nlatch = n;
    for (int i = 0; i < MVCC__LATCH_STRIPES; i++) {
        pthread_mutex_init(&s->lstripe[i].mu, NULL);
        pthread_cond_init(&s->lstripe[i].cv, NULL);
    }
    /* Readers hold ts_guard shared all the time; glibc's default would let
     * them starve an async/1PC prewrite waiting for it exclusively. */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->ts_guard, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&s->wait_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wait_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (s->opts.lock_table) {
        /* With an apply hook (a replicated store) the embedder keeps the
         * table with every write it applies (mvcc_store_write_applied,
         * mvcc_store_reload_locks); the recent-writes table needs the
         * store to be the only writer, so it has none. */
        int rc = mvcc__lt_create(&s->lt);
        if (rc == 0)
            rc = mvcc__lt_load(s->lt, eng);
        if (rc == 0 && s->opts.apply == NULL)
            rc = recent_open(s, eng);
        if (rc != 0) {
            s->eng = eng;
            mvcc__store_free(s);
            return rc;
        }
    }
    if (s->opts.detector && (s->opts.detector->detect == NULL ||
                             s->opts.detector->clean_up_wait_for == NULL)) {
        s->eng = eng;
        mvcc__store_free(s);
        return -EINVAL;
    }
    /* The store's own graph: the detector when none is shared, else the
     * fallback for a shared one that fails (its host unreachable). */
    if (mvcc_detector_create(&s->own_det) == 0) {
        if (s->opts.detector)
            s->det = *s->opts.detector;
        else
            mvcc_detector_iface(s->own_det, &s->det);
    } else {
        s->eng = eng;
        mvcc__store_free(s);
        return -ENOMEM;
    }
    s->eng = eng;
    *out = s;
    return 0;
}

static void scratch_free(struct mvcc__scratch *sc);

/* Lone primaries' locks live in the lock table alone (DESIGN "Failure
 * and recovery": lone primary locks); a clean close writes the table to
 * the lock CF, so that only a crash loses them. Locks that are in the CF
 * already are written again with the same bytes (or over a pessimistic
 * lock a lone primary's prewrite converted), which changes nothing. */
void mvcc_store_close(struct mvcc_store *s)
{
    if (s == NULL)
        return;
    /* (a replicated store's table holds what its engine holds) */
    if (s->lt && s->opts.apply == NULL && mvcc__lt_count(s->lt) > 0) {
        struct mvcc_wbatch b;
        memset(&b, 0, sizeof b);
        int rc = mvcc__lt_to_batch(s->lt, &b);
        if (rc == 0)
            rc = mvcc_engine_write(s->eng, &b, s->opts.sync);
        if (rc != 0) {
            const char *em = rc == -ENOMEM ? "" : mvcc_engine_errmsg(s->eng);
            mvcc__log(s, MVCC_LOG_ERROR,
                      "store close: %zu locks not written: %s%s%s%s; they "
                      "are lost as in a crash (their transactions' commits "
                      "fail with MVCC_TXN_NOT_FOUND and roll back)",
                      mvcc__lt_count(s->lt), mvcc_strerror(rc),
                      em[0] ? " (" : "", em, em[0] ? ")" : "");
        }
        mvcc__free(b.ops);
        mvcc__buf_free(&b.arena);
    }
    mvcc__store_free(s);
}

void mvcc__store_free(struct mvcc_store *s)
{
    for (int i = 0; i < MVCC__LATCH_STRIPES; i++) {
        pthread_mutex_destroy(&s->lstripe[i].mu);
        pthread_cond_destroy(&s->lstripe[i].cv);
    }
    mvcc__free(s->latches);
    pthread_rwlock_destroy(&s->ts_guard);
    pthread_mutex_destroy(&s->wait_mu);
    pthread_cond_destroy(&s->wait_cv);
    mvcc_detector_destroy(s->own_det);
    mvcc__lt_destroy(s->lt);
    mvcc__rw_destroy(s->rw);
    for (int i = 0; i < MVCC__SPARE_SCRATCH; i++)
        if (s->spare[i])
            scratch_free(s->spare[i]);
    for (int i = 0; i < MVCC__KEPT_ITERS; i++)
        mvcc__kept_iter_put(s, s->kept[i], false);
    for (size_t i = 0; i < s->nmlocks; i++)
        mvcc__free(s->mlocks[i].key);
    mvcc__free(s->mlocks);
    mvcc__free(s);
}

mvcc_ts mvcc_store_max_ts(struct mvcc_store *s)
{
    pthread_rwlock_rdlock(&s->ts_guard);
    mvcc_ts t = __atomic_load_n(&s->max_ts, __ATOMIC_ACQUIRE);
    pthread_rwlock_unlock(&s->ts_guard);
    return t;
}

/* Whether b is a no_wal batch of lock-CF puts only (what prewrite marks
 * no_wal is exactly the lock of a lone primary). */
static bool lone_primary_lock(const struct mvcc_wbatch *b)
{
    if (!b->no_wal)
        return false;
    for (size_t i = 0; i < b->nops; i++)
        if (b->ops[i].cf != MVCC_CF_LOCK || b->ops[i].type != MVCC_WOP_PUT)
            return false;
    return true;
}

int mvcc__store_apply(struct mvcc_store *s, const struct mvcc_wbatch *b)
{
    if (b->nops == 0)
        return 0;
    if (s->opts.apply)
        return s->opts.apply(s->opts.apply_ctx, b, s->opts.sync);
    if (s->lt == NULL)
        return mvcc_engine_write(s->eng, b, s->opts.sync);
    /* The table changes after the engine does, still under the
     * command's latches: a reader that misses a new lock in the table
     * belongs to a ts below its commit_ts, and a removed lock's commit
     * record is in any snapshot taken after (DESIGN "Lock table"). */
    struct mvcc__lt_prep p;
    int rc = mvcc__lt_prepare(b, &p);
    if (rc != 0)
        return rc;
    /* A lone primary's lock (no_wal: it may be lost in a crash) stays in
     * the table alone, where every lock is read: the prewrite joins no
     * engine write group (DESIGN "Failure and recovery"). */
    if (!lone_primary_lock(b))
        rc = mvcc_engine_write(s->eng, b, s->opts.sync);
    if (rc == 0) {
        mvcc__lt_commit(s->lt, b, &p);
        mvcc__rw_apply(s->rw, b);
    } else
        mvcc__lt_prep_free(&p);
    return rc;
}

int mvcc_store_write_applied(struct mvcc_store *s, struct mvcc_engine *eng,
                             const struct mvcc_wbatch *b,
                             const struct mvcc_wbatch *locks, bool sync)
{
    /* as mvcc__store_apply: the table changes after the engine did (and
     * the kept iterators were counted stale), so a removed lock's commit
     * record is in any view a reader takes after missing the lock
     * (DESIGN "Lock table") */
    bool table = s->lt != NULL && s->opts.apply != NULL && locks != NULL;
    struct mvcc__lt_prep p;
    int rc = table ? mvcc__lt_prepare(locks, &p) : 0;
    if (rc != 0)
        return rc;
    rc = mvcc_engine_write(eng, b, sync);
    if (eng != s->eng) /* written under the store's engine */
        mvcc__count_write(s->eng, b);
    if (table && rc == 0)
        mvcc__lt_commit(s->lt, locks, &p);
    else if (table)
        mvcc__lt_prep_free(&p);
    return rc;
}

int mvcc_store_reload_locks(struct mvcc_store *s, const void *start,
                            size_t start_len, const void *end,
                            size_t end_len)
{
    if (s->lt == NULL)
        return 0;
    if (s->opts.apply == NULL)
        return -EINVAL; /* its own table is exact: nothing to reload */
    mvcc__count_write(s->eng, NULL); /* records changed with the locks */
    return mvcc__lt_reload(s->lt, s->eng, start, start_len, end, end_len);
}

/* Kept read iterators (DESIGN "Reads": kept iterators). Making and
 * destroying a RocksDB iterator costs more than the seek a point read
 * does with it; a kept one is reused while the engine's write count is
 * the one read before it was made, so it shows what a fresh one would. */
int mvcc__kept_iter_take(struct mvcc_store *s, struct mvcc__kept_iter **out)
{
    struct mvcc__kept_iter *k = NULL;
    for (int i = 0; i < MVCC__KEPT_ITERS && k == NULL; i++)
        k = __atomic_exchange_n(&s->kept[i], NULL, __ATOMIC_ACQUIRE);
    /* Read after the caller's lock checks: a commit whose lock they
     * missed (removed from the table after its engine write) was counted
     * by then. */
    uint64_t now = __atomic_load_n(&s->eng->nwrites, __ATOMIC_ACQUIRE);
    if (k == NULL && (k = mvcc__calloc(1, sizeof *k)) == NULL)
        return -ENOMEM;
    if (k->it != NULL && k->nwrites == now) {
        *out = k;
        return 0;
    }
    mvcc_iter_destroy(k->it);
    k->it = NULL;
    int rc = mvcc_engine_iter(s->eng, NULL, MVCC_CF_WRITE, NULL, &k->it);
    if (rc != 0) {
        mvcc__free(k);
        return rc;
    }
    k->nwrites = now;
    *out = k;
    return 0;
}

void mvcc__kept_iter_put(struct mvcc_store *s, struct mvcc__kept_iter *k,
                         bool ok)
{
    if (k == NULL)
        return;
    if (ok && s != NULL)
        for (int i = 0; i < MVCC__KEPT_ITERS; i++) {
            struct mvcc__kept_iter *none = NULL;
            if (__atomic_compare_exchange_n(&s->kept[i], &none, k, false,
                                            __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED))
                return;
        }
    mvcc_iter_destroy(k->it);
    mvcc__free(k);
}

int mvcc__lock_iter(struct mvcc_store *s, const struct mvcc_snapshot *snap,
                    const struct mvcc_iter_opts *o, struct mvcc_iter **out)
{
    if (s->lt)
        return mvcc__lt_iter(s->lt, o, out);
    return mvcc_engine_iter(s->eng, snap, MVCC_CF_LOCK, o, out);
}

void mvcc_store_update_max_ts(struct mvcc_store *s, mvcc_ts ts)
{
    pthread_rwlock_rdlock(&s->ts_guard);
    mvcc_ts cur = __atomic_load_n(&s->max_ts, __ATOMIC_RELAXED);
    while (cur < ts && !__atomic_compare_exchange_n(&s->max_ts, &cur, ts, false,
                                                    __ATOMIC_ACQ_REL,
                                                    __ATOMIC_RELAXED))
        ;
    pthread_rwlock_unlock(&s->ts_guard);
}

uint64_t mvcc__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void mvcc__log(struct mvcc_store *s, int level, const char *fmt, ...)
{
    if (s->opts.log == NULL || level > s->opts.log_level)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->opts.log(s->opts.log_ctx, level, msg);
}

void mvcc__res_err(struct mvcc_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
}

/* Latches (TiKV's slot latches): a command holds the slots of all its keys
 * while it reads and writes them, so commands on one key serialize. A
 * command takes its slots one by one in ascending order, waiting for each
 * while holding the lower ones: every command orders them the same way,
 * so two never deadlock. A slot is a byte, not an OS mutex (a batch of a
 * thousand keys would hold a thousand mutexes, and ThreadSanitizer's
 * deadlock detector stops at 64 held at once); slots are guarded by 64
 * stripes, each a mutex and a condition variable, so commands on
 * different stripes never meet, and a release wakes only the waiters of
 * its own stripe, and only when there are some (one global mutex and a
 * broadcast to every waiter on every release cost 8 threads about one
 * blocking wait in a hundred commands; DESIGN "Benchmark"). */

static size_t slot_of(const struct mvcc_store *s, const void *k, size_t n)
{
    const uint8_t *p = k;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return (size_t)(h & (s->nlatch - 1));
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int mvcc__latch_acquire(struct mvcc_store *s, struct mvcc__latch *l,
                        const struct mvcc_key *keys, size_t n)
{
    l->slots = n <= 16 ? l->inline_ : mvcc__calloc(n, sizeof(size_t));
    if (l->slots == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        l->slots[i] = slot_of(s, keys[i].data, keys[i].len);
    qsort(l->slots, n, sizeof(size_t), cmp_size);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || l->slots[m - 1] != l->slots[i])
            l->slots[m++] = l->slots[i];
    l->n = m;
    for (size_t i = 0; i < m; i++) {
        struct mvcc__latch_stripe *st =
            &s->lstripe[l->slots[i] % MVCC__LATCH_STRIPES];
        pthread_mutex_lock(&st->mu);
        while (s->latches[l->slots[i]]) {
            st->waiters++;
            pthread_cond_wait(&st->cv, &st->mu);
            st->waiters--;
        }
        s->latches[l->slots[i]] = 1;
        pthread_mutex_unlock(&st->mu);
    }
    return 0;
}

void mvcc__latch_release(struct mvcc_store *s, struct mvcc__latch *l)
{
    for (size_t i = 0; i < l->n; i++) {
        struct mvcc__latch_stripe *st =
            &s->lstripe[l->slots[i] % MVCC__LATCH_STRIPES];
        pthread_mutex_lock(&st->mu);
        s->latches[l->slots[i]] = 0;
        if (st->waiters > 0)
            pthread_cond_broadcast(&st->cv);
        pthread_mutex_unlock(&st->mu);
    }
    if (l->slots != l->inline_)
        mvcc__free(l->slots);
    l->slots = NULL;
    l->n = 0;
}

/* The generation is what readers wait on; no pessimistic waiter does. */
void mvcc__notify_release(struct mvcc_store *s)
{
    pthread_mutex_lock(&s->wait_mu);
    s->release_gen++;
    pthread_cond_broadcast(&s->wait_cv);
    pthread_mutex_unlock(&s->wait_mu);
}

/* Results. */

void mvcc_result_init(struct mvcc_result *r)
{
    memset(r, 0, sizeof *r);
}

static void free_lock_info(struct mvcc_lock_info *li)
{
    mvcc__free(li->key);
    mvcc__free(li->primary);
    for (size_t i = 0; i < li->nsecondaries; i++)
        mvcc__free((void *)li->secondaries[i].data);
    mvcc__free(li->secondaries);
}

void mvcc__res_clear(struct mvcc_result *r)
{
    for (size_t i = 0; i < r->npairs; i++) {
        mvcc__free(r->pairs[i].key);
        mvcc__free(r->pairs[i].value);
    }
    for (size_t i = 0; i < r->nlocks; i++)
        free_lock_info(&r->locks[i]);
    mvcc__free(r->key);
    struct mvcc_kvpair *pairs = r->pairs;
    struct mvcc_lock_info *locks = r->locks;
    size_t pc = r->pairs_cap, lc = r->locks_cap;
    memset(r, 0, sizeof *r);
    /* keep the arrays for reuse */
    r->pairs = pairs;
    r->pairs_cap = pc;
    r->locks = locks;
    r->locks_cap = lc;
}

void mvcc_result_reset(struct mvcc_result *r)
{
    if (r == NULL)
        return;
    mvcc__res_clear(r);
    mvcc__free(r->pairs);
    mvcc__free(r->locks);
    memset(r, 0, sizeof *r);
}

int mvcc__res_push_pair(struct mvcc_result *r, uint8_t *key, size_t kl,
                        uint8_t *val, size_t vl)
{
    if (r->npairs == r->pairs_cap) {
        size_t cap = r->pairs_cap ? r->pairs_cap * 2 : 8;
        struct mvcc_kvpair *p = mvcc__realloc(r->pairs, cap * sizeof *p);
        if (p == NULL) {
            mvcc__free(key);
            mvcc__free(val);
            return -ENOMEM;
        }
        r->pairs = p;
        r->pairs_cap = cap;
    }
    struct mvcc_kvpair *p = &r->pairs[r->npairs++];
    p->key = key;
    p->key_len = kl;
    p->value = val;
    p->value_len = vl;
    return 0;
}

int mvcc__res_add_pair(struct mvcc_result *r, const void *k, size_t kl,
                       uint8_t *val, size_t vl)
{
    uint8_t *kc = mvcc__memdup(k, kl);
    if (kc == NULL) {
        mvcc__free(val);
        return -ENOMEM;
    }
    return mvcc__res_push_pair(r, kc, kl, val, vl);
}

int mvcc__res_add_lock(struct mvcc_result *r, const void *k, size_t kl,
                       const struct mvcc__lock *l)
{
    if (r->nlocks == r->locks_cap) {
        size_t cap = r->locks_cap ? r->locks_cap * 2 : 4;
        struct mvcc_lock_info *p = mvcc__realloc(r->locks, cap * sizeof *p);
        if (p == NULL)
            return -ENOMEM;
        r->locks = p;
        r->locks_cap = cap;
    }
    struct mvcc_lock_info *li = &r->locks[r->nlocks];
    memset(li, 0, sizeof *li);
    li->key = mvcc__memdup(k, kl);
    li->key_len = kl;
    li->primary = mvcc__memdup(l->primary, l->primary_len);
    li->primary_len = l->primary_len;
    if (l->async && l->nsecs) {
        li->secondaries = mvcc__calloc(l->nsecs, sizeof *li->secondaries);
        if (li->secondaries)
            for (size_t i = 0; i < l->nsecs; i++) {
                const uint8_t *sk;
                size_t sl;
                mvcc__lock_secondary(l, i, &sk, &sl);
                li->secondaries[i].data = mvcc__memdup(sk, sl);
                li->secondaries[i].len = sl;
                li->nsecondaries = i + 1;
                if (li->secondaries[i].data == NULL)
                    break;
            }
    }
    bool ok = li->key && li->primary &&
              (!(l->async && l->nsecs) ||
               (li->nsecondaries == l->nsecs &&
                li->secondaries[l->nsecs - 1].data));
    if (!ok) {
        free_lock_info(li);
        return -ENOMEM;
    }
    li->start_ts = l->start_ts;
    li->ttl = l->ttl;
    li->type = l->type;
    li->for_update_ts = l->for_update_ts;
    li->min_commit_ts = l->min_commit_ts;
    li->txn_size = l->txn_size;
    li->use_async_commit = l->async;
    r->nlocks++;
    return 0;
}

int mvcc__res_set_key(struct mvcc_result *r, const void *k, size_t kl)
{
    mvcc__free(r->key);
    r->key = mvcc__memdup(k, kl);
    r->key_len = kl;
    return r->key ? 0 : -ENOMEM;
}

/* Commands' shared record helpers. */

/* A command's scratch buffers outlive it in one of the store's spares
 * (taken and returned with atomic exchanges, like the engine's batches):
 * allocating and freeing five buffers per command cost ~1,000
 * instructions of a 1-key 2PC transaction. Big buffers are not kept. */
struct mvcc__scratch
{
    struct mvcc__buf kb;      /* key scratch */
    struct mvcc__buf vb;      /* value scratch */
    struct mvcc__buf lockraw; /* lock bytes */
    struct mvcc__buf arena;   /* the batch's keys and values */
    struct mvcc__wop *ops;    /* the batch's ops */
    size_t ops_cap;           /* ops allocated */
};

#define SCRATCH_KEEP_BYTES 4096 /* largest buffer kept */
#define SCRATCH_KEEP_OPS 64     /* most batch ops kept */

void mvcc__cmd_init(struct mvcc__cmd *c, struct mvcc_store *s,
                    const struct mvcc_snapshot *snap)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->snap = snap;
    for (int i = 0; i < MVCC__SPARE_SCRATCH; i++) {
        struct mvcc__scratch *sc =
            __atomic_exchange_n(&s->spare[i], NULL, __ATOMIC_ACQUIRE);
        if (sc == NULL)
            continue;
        c->sc = sc;
        c->kb = sc->kb;
        c->vb = sc->vb;
        c->lockraw = sc->lockraw;
        c->wb.arena = sc->arena;
        c->wb.ops = sc->ops;
        c->wb.cap = sc->ops_cap;
        c->kb.len = c->vb.len = c->lockraw.len = c->wb.arena.len = 0;
        return;
    }
}

static void scratch_free(struct mvcc__scratch *sc)
{
    mvcc__buf_free(&sc->kb);
    mvcc__buf_free(&sc->vb);
    mvcc__buf_free(&sc->lockraw);
    mvcc__buf_free(&sc->arena);
    mvcc__free(sc->ops);
    mvcc__free(sc);
}

void mvcc__cmd_free(struct mvcc__cmd *c)
{
    mvcc_iter_destroy(c->wit);
    struct mvcc__scratch *sc = c->sc;
    if (sc == NULL)
        sc = mvcc__calloc(1, sizeof *sc);
    if (sc == NULL) {
        mvcc__free(c->wb.ops);
        mvcc__buf_free(&c->wb.arena);
        mvcc__buf_free(&c->kb);
        mvcc__buf_free(&c->vb);
        mvcc__buf_free(&c->lockraw);
        return;
    }
    sc->kb = c->kb;
    sc->vb = c->vb;
    sc->lockraw = c->lockraw;
    sc->arena = c->wb.arena;
    sc->ops = c->wb.ops;
    sc->ops_cap = c->wb.cap;
    if (sc->kb.cap <= SCRATCH_KEEP_BYTES && sc->vb.cap <= SCRATCH_KEEP_BYTES &&
        sc->lockraw.cap <= SCRATCH_KEEP_BYTES &&
        sc->arena.cap <= SCRATCH_KEEP_BYTES && sc->ops_cap <= SCRATCH_KEEP_OPS)
        for (int i = 0; i < MVCC__SPARE_SCRATCH; i++) {
            struct mvcc__scratch *none = NULL;
            if (__atomic_compare_exchange_n(&c->s->spare[i], &none, sc, false,
                                            __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED))
                return;
        }
    scratch_free(sc);
}

int mvcc__cmd_write(struct mvcc__cmd *c)
{
    if (c->wb.nops == 0)
        return 0;
    int rc = mvcc__store_apply(c->s, &c->wb);
    if (rc != 0)
        mvcc__log(c->s, MVCC_LOG_ERROR, "engine write failed: %s (%s)",
                  mvcc_strerror(rc), mvcc_engine_errmsg(c->s->eng));
    return rc;
}

int mvcc__load_lock(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                    struct mvcc__lock *l)
{
    c->kb.len = 0;
    int rc = mvcc__key_append(&c->kb, ukey, ulen);
    if (rc != 0)
        return rc;
    if (c->s->lt) {
        /* The latest state: writers hold the key's latch; readers check
         * before taking their snapshot (read.c). */
        if ((rc = mvcc__lt_get(c->s->lt, c->kb.data, c->kb.len,
                               &c->lockraw)) != 0)
            return rc;
    } else {
        uint8_t *v = NULL;
        size_t vl = 0;
        rc = mvcc_engine_get(c->s->eng, c->snap, MVCC_CF_LOCK, c->kb.data,
                             c->kb.len, &v, &vl);
        if (rc != 0)
            return rc;
        mvcc__buf_free(&c->lockraw);
        c->lockraw.data = v;
        c->lockraw.len = c->lockraw.cap = vl;
    }
    rc = mvcc__lock_decode(c->lockraw.data, c->lockraw.len, l);
    if (rc != 0)
        mvcc__log(c->s, MVCC_LOG_ERROR, "malformed lock record");
    return rc;
}

static int ensure_wit(struct mvcc__cmd *c)
{
    if (c->wit)
        return 0;
    return mvcc_engine_iter(c->s->eng, c->snap, MVCC_CF_WRITE, NULL, &c->wit);
}

/* Positions c->wit at the first record of ukey with commit_ts <= ts;
 * sets *elen to enc(ukey)'s length (in c->kb). 0 if positioned on ukey. */
static int seek_versions(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                         mvcc_ts ts, size_t *elen)
{
    int rc = ensure_wit(c);
    if (rc != 0)
        return rc;
    c->kb.len = 0;
    rc = mvcc__key_ts_append(&c->kb, ukey, ulen, ts);
    if (rc != 0)
        return rc;
    *elen = c->kb.len - 8;
    return c->wit->ops->seek(c->wit, c->kb.data, c->kb.len);
}

/* Whether c->wit is on a version of the user key encoded in c->kb. */
static bool on_key(struct mvcc__cmd *c, size_t elen, mvcc_ts *commit_ts,
                   struct mvcc__write *w, int *rc)
{
    *rc = 0;
    if (!c->wit->ops->valid(c->wit))
        return false;
    size_t kl, vl;
    const uint8_t *k = c->wit->ops->key(c->wit, &kl);
    if (kl != elen + 8 || memcmp(k, c->kb.data, elen) != 0)
        return false;
    *commit_ts = mvcc__key_ts(k, kl);
    const uint8_t *v = c->wit->ops->value(c->wit, &vl);
    /* Copy: the iterator's bytes die at its next step. */
    c->vb.len = 0;
    *rc = mvcc__buf_append(&c->vb, v, vl);
    if (*rc == 0)
        *rc = mvcc__write_decode(c->vb.data, c->vb.len, w);
    return *rc == 0;
}

int mvcc__find_txn_record(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                          mvcc_ts start_ts, int *kind, mvcc_ts *commit_ts)
{
    size_t elen;
    *kind = MVCC__REC_NONE;
    int rc = seek_versions(c, ukey, ulen, MVCC_TS_MAX, &elen);
    if (rc != 0)
        return rc;
    mvcc_ts cts;
    struct mvcc__write w;
    while (on_key(c, elen, &cts, &w, &rc)) {
        if (cts < start_ts)
            break;
        if (w.start_ts == start_ts) {
            *kind = w.type == MVCC__WRITE_ROLLBACK ? MVCC__REC_ROLLED_BACK
                                                   : MVCC__REC_COMMITTED;
            *commit_ts = cts;
            return 0;
        }
        if (cts == start_ts && w.overlap) {
            *kind = MVCC__REC_ROLLED_BACK;
            return 0;
        }
        rc = c->wit->ops->next(c->wit);
        if (rc != 0)
            return rc;
    }
    return rc;
}

int mvcc__scan_versions(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                        mvcc_ts start_ts, bool data_only, bool *rolled_back,
                        bool *committed, mvcc_ts *own_commit,
                        mvcc_ts *other_start, mvcc_ts *other_commit,
                        mvcc_ts *newest)
{
    size_t elen;
    *rolled_back = *committed = false;
    *own_commit = *other_start = *other_commit = *newest = 0;
    int rc = seek_versions(c, ukey, ulen, MVCC_TS_MAX, &elen);
    if (rc != 0)
        return rc;
    mvcc_ts cts;
    struct mvcc__write w;
    while (on_key(c, elen, &cts, &w, &rc)) {
        if (*newest == 0)
            *newest = cts;
        if (cts < start_ts)
            break;
        if (w.start_ts == start_ts) {
            if (w.type == MVCC__WRITE_ROLLBACK) {
                *rolled_back = true;
            } else {
                *committed = true;
                *own_commit = cts;
            }
            return 0;
        }
        if (cts == start_ts && w.overlap) {
            *rolled_back = true;
            return 0;
        }
        if (cts > start_ts && *other_commit == 0 &&
            w.type != MVCC__WRITE_ROLLBACK &&
            (!data_only || w.type == MVCC__WRITE_PUT ||
             w.type == MVCC__WRITE_DELETE)) {
            *other_start = w.start_ts;
            *other_commit = cts;
        }
        rc = c->wit->ops->next(c->wit);
        if (rc != 0)
            return rc;
    }
    return rc;
}

int mvcc__newest_write(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                       mvcc_ts *commit_ts, struct mvcc__write *w)
{
    size_t elen;
    int rc = seek_versions(c, ukey, ulen, MVCC_TS_MAX, &elen);
    if (rc != 0)
        return rc;
    if (on_key(c, elen, commit_ts, w, &rc))
        return 0;
    return rc ? rc : MVCC_NOTFOUND;
}

int mvcc__read_value(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                     mvcc_ts ts, bool want_value, uint8_t **val,
                     size_t *vlen)
{
    size_t elen;
    int rc = seek_versions(c, ukey, ulen, ts, &elen);
    if (rc != 0)
        return rc;
    struct mvcc__write w;
    rc = mvcc__visible(c->s, c->wit, &c->kb, elen, ts, &w);
    if (rc <= 0)
        return rc < 0 ? rc : MVCC_NOTFOUND;
    *val = NULL;
    *vlen = 0;
    return want_value ? mvcc__put_value(c, &c->kb, elen, &w, val, vlen) : 0;
}

bool mvcc__lock_expired(const struct mvcc__lock *l, mvcc_ts current_ts)
{
    uint64_t lock_ms = MVCC_TS_PHYSICAL(l->start_ts);
    uint64_t now_ms = MVCC_TS_PHYSICAL(current_ts);
    return now_ms >= lock_ms + l->ttl;
}

int mvcc__rollback_key(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                       const struct mvcc__lock *l, mvcc_ts start_ts)
{
    int rc;
    struct mvcc__buf k = {0};
    if ((rc = mvcc__key_ts_append(&k, ukey, ulen, start_ts)) != 0)
        goto out;
    size_t elen = k.len - 8;
    if (l != NULL) {
        if ((rc = mvcc_wbatch_delete(&c->wb, MVCC_CF_LOCK, k.data, elen)))
            goto out;
        if (l->type == MVCC__LOCK_PUT && !l->has_value &&
            (rc = mvcc_wbatch_delete(&c->wb, MVCC_CF_DEFAULT, k.data, k.len)))
            goto out;
    }
    /* A commit record of another txn may sit at exactly start_ts: keep it
     * and flag it, so both facts survive (TiKV's overlapped rollback). */
    uint8_t *v = NULL;
    size_t vl = 0;
    rc = mvcc_engine_get(c->s->eng, NULL, MVCC_CF_WRITE, k.data, k.len, &v,
                         &vl);
    struct mvcc__buf enc = {0};
    struct mvcc__write w;
    if (rc == 0) {
        rc = mvcc__write_decode(v, vl, &w);
        if (rc == 0 && w.type != MVCC__WRITE_ROLLBACK && !w.overlap &&
            w.start_ts != start_ts) {
            w.overlap = true;
            rc = mvcc__write_encode(&enc, &w);
            if (rc == 0)
                rc = mvcc_wbatch_put(&c->wb, MVCC_CF_WRITE, k.data, k.len,
                                     enc.data, enc.len);
        }
        mvcc__free(v);
    } else if (rc == MVCC_NOTFOUND) {
        memset(&w, 0, sizeof w);
        w.type = MVCC__WRITE_ROLLBACK;
        w.start_ts = start_ts;
        rc = mvcc__write_encode(&enc, &w);
        if (rc == 0)
            rc = mvcc_wbatch_put(&c->wb, MVCC_CF_WRITE, k.data, k.len,
                                 enc.data, enc.len);
    }
    mvcc__buf_free(&enc);
out:
    mvcc__buf_free(&k);
    return rc;
}

int mvcc__commit_key(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                     const struct mvcc__lock *l, mvcc_ts commit_ts,
                     bool del_lock)
{
    /* The key and the record are built in the command's scratch buffers
     * (kb, vb), which hold nothing the callers still need: l borrows
     * lockraw or the request, ukey the caller's memory. */
    struct mvcc__buf *k = &c->kb, *enc = &c->vb;
    k->len = enc->len = 0;
    int rc = mvcc__key_ts_append(k, ukey, ulen, commit_ts);
    if (rc != 0)
        return rc;
    struct mvcc__write w;
    memset(&w, 0, sizeof w);
    w.type = l->type == MVCC__LOCK_PUT      ? MVCC__WRITE_PUT
             : l->type == MVCC__LOCK_DELETE ? MVCC__WRITE_DELETE
                                            : MVCC__WRITE_LOCK;
    w.start_ts = l->start_ts;
    w.has_value = l->has_value;
    w.value = l->value;
    w.value_len = l->value_len;
    if ((rc = mvcc__write_encode(enc, &w)) != 0)
        return rc;
    if ((rc = mvcc_wbatch_put(&c->wb, MVCC_CF_WRITE, k->data, k->len,
                              enc->data, enc->len)) != 0)
        return rc;
    if (del_lock)
        rc = mvcc_wbatch_delete(&c->wb, MVCC_CF_LOCK, k->data, k->len - 8);
    return rc;
}

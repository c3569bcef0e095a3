/* mvccgc.c: MVCC GC on one store: libmvcc's mvcc_gc over the store's
 * transactional data, its deletes written straight to this store's
 * engine, not through Raft (every replica sweeps for itself, as TiKV's
 * compaction-filter GC does). Why that is safe: DESIGN.md, "GC".
 */
#include <errno.h>
#include <string.h>

#include "region_int.h"

/* The store whose sweep runs on this thread (NULL: none): txn_apply_hook
 * asks, so mvcc_gc's batches skip the proposal path. */
static _Thread_local const struct region_store *gc_store;

bool region__gc_on_thread(const struct region_store *s)
{
    return gc_store != NULL && gc_store == s;
}

/* The safe point into `01 'V' 0` (DESIGN.md "Persistence"), synced
 * unless the store syncs nothing. */
static int save_safe_point(struct region_store *s, uint64_t safe_point)
{
    uint8_t k[REGION__KEY_META_LEN], v[8];
    region__key_meta(k, 'V', 0);
    region__put_u64(v, safe_point);
    struct mvcc_wbatch *b = NULL;
    int rc = mvcc_wbatch_create(&b);
    if (rc == 0)
        rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, sizeof k, v, sizeof v);
    if (rc == 0)
        rc = mvcc_engine_write(s->opts.engine, b, !s->opts.no_sync);
    mvcc_wbatch_destroy(b);
    return rc;
}

/* A region a sweep goes over, as listed under s->mu. */
struct gc_item {
    uint64_t id;       /* region */
    uint64_t version;  /* its epoch's version then */
    uint64_t installs; /* its gc_installs then */
    uint64_t removed;  /* versions its sweep removed */
    uint32_t start_len, end_len;
    uint8_t start[REGION_MAX_BOUND], end[REGION_MAX_BOUND];
};

/* Whether a sweep must read p: every region but those whose newest
 * write record is at or below the safe point of their last sweep of the
 * same range and data, where nothing became garbage since (DESIGN.md
 * "GC": which regions a sweep reads). */
static bool gc_needed(const struct region_peer *p)
{
    if (!p->initialized || p->removed)
        return false;
    return p->gc_swept == 0 || p->gc_swept_ver != p->desc.version ||
           p->gc_max_ts > p->gc_swept;
}

/* The regions a sweep must go over, in key order, into *out (*n of them;
 * free *out); counts the others skipped. */
static int gc_list(struct region_store *s, struct gc_item **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&s->mu);
    size_t want = 0;
    for (size_t i = 0; i < s->n_peers; i++)
        want += gc_needed(s->peers[i]);
    struct gc_item *v = want ? region__malloc(want * sizeof *v) : NULL;
    if (want && v == NULL) {
        pthread_mutex_unlock(&s->mu);
        return -ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->n_peers; i++) {
        struct region_peer *p = s->peers[i];
        if (!gc_needed(p)) {
            if (p->initialized && !p->removed)
                s->stats.gc_regions_skipped++;
            continue;
        }
        struct gc_item *it = &v[k++];
        it->id = p->desc.id;
        it->version = p->desc.version;
        it->installs = p->gc_installs;
        it->removed = 0;
        it->start_len = p->desc.start_len;
        it->end_len = p->desc.end_len;
        memcpy(it->start, p->desc.start, p->desc.start_len);
        memcpy(it->end, p->desc.end, p->desc.end_len);
        p->gc_applied_ts = 0; /* from here on, the sweep may not see it */
    }
    pthread_mutex_unlock(&s->mu);
    *out = v;
    *n = k;
    return 0;
}

/* After a sweep of `it` at safe_point that read records up to res->max_ts:
 * the region (if its range and data are still what was listed) holds no
 * record above the newer of that and what was applied since. */
static void gc_note_swept(struct region_store *s, const struct gc_item *it,
                          uint64_t safe_point,
                          const struct mvcc_gc_result *res)
{
    pthread_mutex_lock(&s->mu);
    struct region_peer *p = region__find_peer(s, it->id);
    if (p && p->desc.version == it->version &&
        p->gc_installs == it->installs && p->gc_swept < safe_point) {
        p->gc_swept = safe_point;
        p->gc_swept_ver = it->version;
        p->gc_max_ts = res->max_ts > p->gc_applied_ts ? res->max_ts
                                                      : p->gc_applied_ts;
    }
    s->stats.gc_regions_swept++;
    s->stats.gc_records_read += res->records;
    pthread_mutex_unlock(&s->mu);
}

/* A sweep that removed at least this many versions over adjacent regions
 * compacts CF write there, as libmvcc's mvcc_gc does over its whole
 * sweep (libmvcc DESIGN "GC": tombstones). */
#define GC_COMPACT_MIN 1024

static bool adjacent(const struct gc_item *a, const struct gc_item *b)
{
    return a->end_len > 0 && a->end_len == b->start_len &&
           memcmp(a->end, b->start, a->end_len) == 0;
}

/* CF write over [first's start, last's end), so that no scan steps over
 * the tombstones the sweeps left there. A failure only logs. */
static void compact_run(struct region_store *s, const struct gc_item *first,
                        const struct gc_item *last)
{
    struct region_desc d;
    memset(&d, 0, sizeof d);
    d.start_len = first->start_len;
    memcpy(d.start, first->start, first->start_len);
    d.end_len = last->end_len;
    memcpy(d.end, last->end, last->end_len);
    struct region_range r[REGION__N_RANGES];
    int rc = region__ranges(&d, r); /* frees what it made on failure */
    if (rc != 0) {
        region__log(s, REGION_LOG_WARN, "mvcc gc: no compaction: %s",
                    mvcc_strerror(rc));
        return;
    }
    for (int i = 0; rc == 0 && i < REGION__N_RANGES; i++)
        if (r[i].cf == MVCC_CF_WRITE && i != REGION__RANGE_TTL)
            rc = mvcc_engine_compact(s->opts.engine, MVCC_CF_WRITE, r[i].lo,
                                     r[i].lo_len, r[i].hi, r[i].hi_len);
    region__ranges_free(r);
    if (rc != 0 && rc != -ENOTSUP)
        region__log(s, REGION_LOG_WARN,
                    "mvcc gc: compacting the removed versions failed: %s",
                    mvcc_engine_errmsg(s->opts.engine));
}

/* Each run of adjacent swept regions (v is in key order) whose sweeps
 * removed GC_COMPACT_MIN versions or more is compacted. */
static void gc_compact(struct region_store *s, const struct gc_item *v,
                       size_t n)
{
    for (size_t i = 0, j; i < n; i = j + 1) {
        uint64_t removed = v[i].removed;
        for (j = i; j + 1 < n && adjacent(&v[j], &v[j + 1]); j++)
            removed += v[j + 1].removed;
        if (removed >= GC_COMPACT_MIN)
            compact_run(s, &v[i], &v[j]);
    }
}

int region_store_gc(struct region_store *s, uint64_t safe_point,
                    uint64_t *removed)
{
    if (removed)
        *removed = 0;
    if (s == NULL)
        return REGION_EINVAL;
    pthread_mutex_lock(&s->gc_mu);
    if (safe_point <= s->gc_done) { /* swept there already (or 0) */
        pthread_mutex_unlock(&s->gc_mu);
        return 0;
    }
    /* Raised before anything goes: from here on a read below the safe
     * point may miss a version it would have seen, so kvd refuses it.
     * Kept in the engine first (synced), so a restart knows it too. */
    if (safe_point > __atomic_load_n(&s->gc_safe_point, __ATOMIC_SEQ_CST)) {
        int wrc = save_safe_point(s, safe_point);
        if (wrc != 0) {
            pthread_mutex_unlock(&s->gc_mu);
            region__log(s, REGION_LOG_WARN,
                        "mvcc gc at safe point %llu: cannot record it: %s",
                        (unsigned long long)safe_point,
                        mvcc_engine_errmsg(s->opts.engine));
            return wrc;
        }
        __atomic_store_n(&s->gc_safe_point, safe_point, __ATOMIC_SEQ_CST);
    }
    struct gc_item *items = NULL;
    size_t n_items = 0;
    int rc = gc_list(s, &items, &n_items);
    const struct region_store *saved = gc_store;
    gc_store = s;
    uint64_t n = 0;
    for (size_t i = 0; i < n_items && rc == 0; i++) {
        struct gc_item *it = &items[i];
        struct mvcc_gc_result res = {0, 0, 0};
        rc = mvcc_gc_range(s->mvcc, it->start, it->start_len, it->end,
                           it->end_len, safe_point, &res);
        n += res.removed;
        it->removed = res.removed;
        if (rc == 0)
            gc_note_swept(s, it, safe_point, &res);
    }
    gc_store = saved;
    if (rc == 0)
        gc_compact(s, items, n_items);
    region__free(items);
    if (rc == 0)
        s->gc_done = safe_point;
    pthread_mutex_unlock(&s->gc_mu);
    if (rc != 0) {
        region__log(s, REGION_LOG_WARN,
                    "mvcc gc at safe point %llu failed: %s (%s)",
                    (unsigned long long)safe_point,
                    rc <= -3000 && rc > -4000 ? region_strerror(rc)
                                              : mvcc_strerror(rc),
                    mvcc_engine_errmsg(s->opts.engine));
        return rc;
    }
    region__log(s, REGION_LOG_DEBUG, /* the caller says what it did */
                "mvcc gc at safe point %llu removed %llu versions in %zu "
                "regions",
                (unsigned long long)safe_point, (unsigned long long)n,
                n_items);
    if (removed)
        *removed = n;
    return 0;
}

uint64_t region_store_gc_safe_point(struct region_store *s)
{
    return s ? __atomic_load_n(&s->gc_safe_point, __ATOMIC_SEQ_CST) : 0;
}

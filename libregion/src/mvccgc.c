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
    struct region_desc d; /* its range and epoch then */
    uint64_t installs;    /* its gc_installs then */
    uint64_t removed;     /* versions its sweep removed */
};

/* Whether a sweep must read p (initialized, not removed): every region
 * but those whose newest write record is at or below the safe point of
 * their last sweep of the same range and data, where nothing became
 * garbage since (DESIGN.md "GC": which regions a sweep reads). */
static bool gc_needed(const struct region_peer *p)
{
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
        want += s->peers[i]->initialized && !s->peers[i]->removed &&
                gc_needed(s->peers[i]);
    struct gc_item *v = want ? region__malloc(want * sizeof *v) : NULL;
    if (want && v == NULL) {
        pthread_mutex_unlock(&s->mu);
        return -ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->n_peers; i++) {
        struct region_peer *p = s->peers[i];
        if (!p->initialized || p->removed)
            continue;
        if (!gc_needed(p)) {
            s->stats.gc_regions_skipped++;
            continue;
        }
        v[k++] = (struct gc_item){p->desc, p->gc_installs, 0};
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
    struct region_peer *p = region__find_peer(s, it->d.id);
    if (p && res->removed > 0)
        p->data_gen++; /* a kept size counted what went */
    if (p && p->desc.version == it->d.version &&
        p->gc_installs == it->installs && p->gc_swept < safe_point) {
        p->gc_swept = safe_point;
        p->gc_swept_ver = it->d.version;
        p->gc_max_ts = res->max_ts > p->gc_applied_ts ? res->max_ts
                                                      : p->gc_applied_ts;
    }
    s->stats.gc_regions_swept++;
    s->stats.gc_records_read += res->records;
    pthread_mutex_unlock(&s->mu);
}

static bool adjacent(const struct gc_item *a, const struct gc_item *b)
{
    return a->d.end_len > 0 && a->d.end_len == b->d.start_len &&
           memcmp(a->d.end, b->d.start, a->d.end_len) == 0;
}

/* Each run of adjacent swept regions (v is in key order) whose sweeps
 * removed MVCC_GC_COMPACT_MIN versions or more together is compacted, as
 * libmvcc's mvcc_gc compacts its whole sweep (libmvcc DESIGN "GC":
 * tombstones): CF write over the run, so no scan steps over them. A
 * failure is libmvcc's to log: the versions are gone either way. */
static void gc_compact(struct region_store *s, const struct gc_item *v,
                       size_t n)
{
    for (size_t i = 0, j; i < n; i = j + 1) {
        uint64_t removed = v[i].removed;
        for (j = i; j + 1 < n && adjacent(&v[j], &v[j + 1]); j++)
            removed += v[j + 1].removed;
        if (removed >= MVCC_GC_COMPACT_MIN)
            (void)mvcc_gc_compact(s->mvcc, v[i].d.start, v[i].d.start_len,
                                  v[j].d.end, v[j].d.end_len);
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
        rc = mvcc_gc_range(s->mvcc, it->d.start, it->d.start_len, it->d.end,
                           it->d.end_len, safe_point, &res);
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

/* mvccgc.c: MVCC GC on one store: libmvcc's mvcc_gc over the store's
 * transactional data, its deletes written straight to this store's
 * engine, not through Raft (every replica sweeps for itself, as TiKV's
 * compaction-filter GC does). Why that is safe: DESIGN.md, "GC".
 */
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
    const struct region_store *saved = gc_store;
    gc_store = s;
    uint64_t n = 0;
    int rc = mvcc_gc(s->mvcc, safe_point, &n);
    gc_store = saved;
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
                "mvcc gc at safe point %llu removed %llu versions",
                (unsigned long long)safe_point, (unsigned long long)n);
    if (removed)
        *removed = n;
    return 0;
}

uint64_t region_store_gc_safe_point(struct region_store *s)
{
    return s ? __atomic_load_n(&s->gc_safe_point, __ATOMIC_SEQ_CST) : 0;
}

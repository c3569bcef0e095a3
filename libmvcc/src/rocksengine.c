/* rocksengine.c: the RocksDB engine through rocksdb/c.h (RocksDB 7.8.3).
 * Column families default/lock/write/raft, write batches with a sync flag,
 * snapshots, bounded iterators, block cache and WAL options
 * (DESIGN.md, "Engine: RocksDB").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rocksdb/c.h>

#include "mvcc_int.h"

static const char *const cf_names[MVCC_ENGINE_CF_COUNT] = {
    "default", "lock", "write", "raft"};

/* Write batches kept for reuse: building a fresh rocksdb_writebatch_t
 * per write (a new object, a string grown step by step, then freed) cost
 * about 1,500 instructions of a 1-key commit's engine write; a cleared
 * batch keeps its string's capacity. */
#define SPARE_BATCHES 8
#define SPARE_MAX_BYTES ((size_t)1 << 20)

struct rockseng
{
    struct mvcc_engine base;                    /* must be first */
    rocksdb_t *db;                              /* the database */
    rocksdb_options_t *opts;                    /* open options */
    rocksdb_options_t *lock_opts;               /* lock CF: with blooms */
    rocksdb_block_based_table_options_t *lock_bbto; /* its table options */
    rocksdb_options_t *raft_opts;               /* raft CF: a log's */
    rocksdb_block_based_table_options_t *bbto;  /* table options */
    rocksdb_cache_t *cache;                     /* block cache */
    rocksdb_column_family_handle_t *cf[MVCC_ENGINE_CF_COUNT]; /* handles */
    rocksdb_writeoptions_t *wo;                 /* unsynced writes */
    rocksdb_writeoptions_t *wo_sync;            /* synced writes */
    rocksdb_writeoptions_t *wo_nowal;           /* writes off the WAL
                                                   (a batch's no_wal) */
    rocksdb_readoptions_t *ro;                  /* latest-state reads */
    rocksdb_writebatch_t *spare[SPARE_BATCHES]; /* cleared batches for
                                                   reuse, NULL if none
                                                   (taken and returned
                                                   with atomic exchanges) */
};

struct mvcc_snapshot
{
    const rocksdb_snapshot_t *snap; /* RocksDB's snapshot */
    rocksdb_readoptions_t *ro;      /* read options pinned to it */
};

struct rocksiter
{
    struct mvcc_iter base;      /* must be first */
    rocksdb_iterator_t *it;     /* RocksDB iterator */
    rocksdb_readoptions_t *ro;  /* its options (own: bounds live here);
                                   NULL: the engine's ro */
    uint8_t *lower, *upper;     /* bound copies, alive as long as ro */
};

static int seterr(struct rockseng *e, const char *what, char *err)
{
    mvcc__engine_seterr(&e->base, "rocksdb %s: %s", what, err);
    rocksdb_free(err);
    return MVCC_EENGINE;
}

static int r_get(struct mvcc_engine *base, const struct mvcc_snapshot *snap,
                 int cf, const void *key, size_t klen, uint8_t **value,
                 size_t *vlen)
{
    struct rockseng *e = (struct rockseng *)base;
    char *err = NULL;
    rocksdb_pinnableslice_t *ps = rocksdb_get_pinned_cf(
        e->db, snap ? snap->ro : e->ro, e->cf[cf], key, klen, &err);
    if (err != NULL)
        return seterr(e, "get", err);
    if (ps == NULL)
        return MVCC_NOTFOUND;
    size_t n;
    const char *v = rocksdb_pinnableslice_value(ps, &n);
    uint8_t *copy = mvcc__memdup(v, n);
    rocksdb_pinnableslice_destroy(ps);
    if (copy == NULL)
        return -ENOMEM;
    *value = copy;
    *vlen = n;
    return 0;
}

/* A spare batch (cleared), or a new one. */
static rocksdb_writebatch_t *take_batch(struct rockseng *e)
{
    for (int i = 0; i < SPARE_BATCHES; i++) {
        rocksdb_writebatch_t *wb = __atomic_exchange_n(&e->spare[i], NULL,
                                                       __ATOMIC_ACQUIRE);
        if (wb != NULL)
            return wb;
    }
    return rocksdb_writebatch_create();
}

/* Clears wb and keeps it if a spare slot is free (and it is small: a
 * cleared batch keeps its memory). */
static void give_batch(struct rockseng *e, rocksdb_writebatch_t *wb)
{
    size_t size;
    rocksdb_writebatch_data(wb, &size);
    if (size > SPARE_MAX_BYTES) {
        rocksdb_writebatch_destroy(wb);
        return;
    }
    rocksdb_writebatch_clear(wb);
    for (int i = 0; i < SPARE_BATCHES; i++) {
        rocksdb_writebatch_t *none = NULL;
        if (__atomic_compare_exchange_n(&e->spare[i], &none, wb, false,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            return;
    }
    rocksdb_writebatch_destroy(wb);
}

static int r_write(struct mvcc_engine *base, const struct mvcc_wbatch *b,
                   bool sync)
{
    struct rockseng *e = (struct rockseng *)base;
    rocksdb_writebatch_t *wb = take_batch(e);
    for (size_t i = 0; i < b->nops; i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(b, i, &op);
        if (op.cf < 0 || op.cf >= MVCC_ENGINE_CF_COUNT) {
            give_batch(e, wb);
            return -EINVAL;
        }
        rocksdb_column_family_handle_t *h = e->cf[op.cf];
        const char *k = (const char *)op.key, *v = (const char *)op.value;
        switch (op.type) {
        case MVCC_WOP_PUT:
            rocksdb_writebatch_put_cf(wb, h, k, op.key_len, v, op.value_len);
            break;
        case MVCC_WOP_DELETE:
            rocksdb_writebatch_delete_cf(wb, h, k, op.key_len);
            break;
        case MVCC_WOP_DELETE_RANGE:
            rocksdb_writebatch_delete_range_cf(wb, h, k, op.key_len, v,
                                               op.value_len);
            break;
        default:
            give_batch(e, wb);
            return -EINVAL;
        }
    }
    char *err = NULL;
    /* A no_wal batch is never synced: RocksDB refuses a sync without
     * its log, and nothing of it would be on disk to sync. */
    rocksdb_write(e->db,
                  b->no_wal ? e->wo_nowal : sync ? e->wo_sync : e->wo, wb,
                  &err);
    give_batch(e, wb);
    if (err != NULL)
        return seterr(e, "write", err);
    return 0;
}

static int r_snapshot(struct mvcc_engine *base, struct mvcc_snapshot **out)
{
    struct rockseng *e = (struct rockseng *)base;
    struct mvcc_snapshot *s = mvcc__calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->snap = rocksdb_create_snapshot(e->db);
    s->ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_snapshot(s->ro, s->snap);
    *out = s;
    return 0;
}

static void r_snapshot_release(struct mvcc_engine *base,
                               struct mvcc_snapshot *s)
{
    struct rockseng *e = (struct rockseng *)base;
    rocksdb_readoptions_destroy(s->ro);
    rocksdb_release_snapshot(e->db, s->snap);
    mvcc__free(s);
}

static int it_err(struct rocksiter *it)
{
    char *err = NULL;
    rocksdb_iter_get_error(it->it, &err);
    if (err == NULL)
        return 0;
    rocksdb_free(err);
    return MVCC_EENGINE;
}

static int it_seek(struct mvcc_iter *b, const void *k, size_t kl)
{
    struct rocksiter *it = (struct rocksiter *)b;
    rocksdb_iter_seek(it->it, k, kl);
    return it_err(it);
}

static int it_seek_for_prev(struct mvcc_iter *b, const void *k, size_t kl)
{
    struct rocksiter *it = (struct rocksiter *)b;
    rocksdb_iter_seek_for_prev(it->it, k, kl);
    return it_err(it);
}

static int it_first(struct mvcc_iter *b)
{
    struct rocksiter *it = (struct rocksiter *)b;
    rocksdb_iter_seek_to_first(it->it);
    return it_err(it);
}

static int it_last(struct mvcc_iter *b)
{
    struct rocksiter *it = (struct rocksiter *)b;
    rocksdb_iter_seek_to_last(it->it);
    return it_err(it);
}

static int it_next(struct mvcc_iter *b)
{
    struct rocksiter *it = (struct rocksiter *)b;
    if (!rocksdb_iter_valid(it->it))
        return -EINVAL;
    rocksdb_iter_next(it->it);
    /* An error leaves the iterator invalid: the status is read only then
     * (a call per step otherwise, on the scan's hottest path). */
    return rocksdb_iter_valid(it->it) ? 0 : it_err(it);
}

static int it_prev(struct mvcc_iter *b)
{
    struct rocksiter *it = (struct rocksiter *)b;
    if (!rocksdb_iter_valid(it->it))
        return -EINVAL;
    rocksdb_iter_prev(it->it);
    return rocksdb_iter_valid(it->it) ? 0 : it_err(it);
}

static bool it_valid(const struct mvcc_iter *b)
{
    return rocksdb_iter_valid(((const struct rocksiter *)b)->it) != 0;
}

static const uint8_t *it_key(const struct mvcc_iter *b, size_t *len)
{
    return (const uint8_t *)rocksdb_iter_key(
        ((const struct rocksiter *)b)->it, len);
}

static const uint8_t *it_value(const struct mvcc_iter *b, size_t *len)
{
    return (const uint8_t *)rocksdb_iter_value(
        ((const struct rocksiter *)b)->it, len);
}

static void it_destroy(struct mvcc_iter *b)
{
    struct rocksiter *it = (struct rocksiter *)b;
    rocksdb_iter_destroy(it->it);
    if (it->ro)
        rocksdb_readoptions_destroy(it->ro);
    mvcc__free(it->lower);
    mvcc__free(it->upper);
    mvcc__free(it);
}

static const struct mvcc_iter_ops rociter_ops = {
    it_seek, it_seek_for_prev, it_first, it_last,    it_next,
    it_prev, it_valid,         it_key,   it_value,   it_destroy,
};

static int r_iter(struct mvcc_engine *base, const struct mvcc_snapshot *snap,
                  int cf, const struct mvcc_iter_opts *o,
                  struct mvcc_iter **out)
{
    struct rockseng *e = (struct rockseng *)base;
    struct rocksiter *it = mvcc__calloc(1, sizeof *it);
    if (it == NULL)
        return -ENOMEM;
    it->base.ops = &rociter_ops;
    if (!snap && !(o && (o->lower || o->upper))) {
        /* The engine's latest-state options serve (RocksDB copies them
         * into the iterator); point reads make one such iterator each. */
        it->it = rocksdb_create_iterator_cf(e->db, e->ro, e->cf[cf]);
        *out = &it->base;
        return 0;
    }
    it->ro = rocksdb_readoptions_create();
    if (snap)
        rocksdb_readoptions_set_snapshot(it->ro, snap->snap);
    if (o && o->lower) {
        it->lower = mvcc__memdup(o->lower, o->lower_len);
        if (it->lower == NULL)
            goto nomem;
        rocksdb_readoptions_set_iterate_lower_bound(
            it->ro, (const char *)it->lower, o->lower_len);
    }
    if (o && o->upper) {
        it->upper = mvcc__memdup(o->upper, o->upper_len);
        if (it->upper == NULL)
            goto nomem;
        rocksdb_readoptions_set_iterate_upper_bound(
            it->ro, (const char *)it->upper, o->upper_len);
    }
    it->it = rocksdb_create_iterator_cf(e->db, it->ro, e->cf[cf]);
    *out = &it->base;
    return 0;
nomem:
    rocksdb_readoptions_destroy(it->ro);
    mvcc__free(it->lower);
    mvcc__free(it->upper);
    mvcc__free(it);
    return -ENOMEM;
}

static void r_destroy(struct mvcc_engine *base)
{
    struct rockseng *e = (struct rockseng *)base;
    for (int i = 0; i < SPARE_BATCHES; i++)
        if (e->spare[i])
            rocksdb_writebatch_destroy(e->spare[i]);
    for (int c = 0; c < MVCC_ENGINE_CF_COUNT; c++)
        if (e->cf[c])
            rocksdb_column_family_handle_destroy(e->cf[c]);
    if (e->db)
        rocksdb_close(e->db);
    if (e->wo)
        rocksdb_writeoptions_destroy(e->wo);
    if (e->wo_sync)
        rocksdb_writeoptions_destroy(e->wo_sync);
    if (e->wo_nowal)
        rocksdb_writeoptions_destroy(e->wo_nowal);
    if (e->ro)
        rocksdb_readoptions_destroy(e->ro);
    if (e->opts)
        rocksdb_options_destroy(e->opts);
    if (e->bbto)
        rocksdb_block_based_options_destroy(e->bbto);
    if (e->lock_opts)
        rocksdb_options_destroy(e->lock_opts);
    if (e->lock_bbto)
        rocksdb_block_based_options_destroy(e->lock_bbto);
    if (e->raft_opts)
        rocksdb_options_destroy(e->raft_opts);
    if (e->cache)
        rocksdb_cache_destroy(e->cache);
    mvcc__free(e);
}

static int r_property(struct mvcc_engine *base, int cf, const char *name,
                      uint64_t *out)
{
    struct rockseng *e = (struct rockseng *)base;
    /* rocksdb_property_int_cf answers 0 on success, -1 for a name that is
     * not an integer property. */
    if (rocksdb_property_int_cf(e->db, e->cf[cf], name, out) != 0)
        return -ENOENT;
    return 0;
}

static int r_compact(struct mvcc_engine *base, int cf, const void *start,
                     size_t start_len, const void *end, size_t end_len)
{
    struct rockseng *e = (struct rockseng *)base;
    rocksdb_compactoptions_t *co = rocksdb_compactoptions_create();
    if (co == NULL)
        return -ENOMEM;
    /* kForceOptimized: the bottommost level is rewritten too (once), so
     * tombstones moved down whole by a trivial move are dropped as well;
     * the default leaves that level alone. */
    rocksdb_compactoptions_set_bottommost_level_compaction(co, 3);
    /* Background compactions go on meanwhile. */
    rocksdb_compactoptions_set_exclusive_manual_compaction(co, 0);
    rocksdb_compact_range_cf_opt(e->db, e->cf[cf], co, (const char *)start,
                                 start ? start_len : 0, (const char *)end,
                                 end ? end_len : 0);
    rocksdb_compactoptions_destroy(co);
    return 0;
}

static const struct mvcc_engine_ops rocks_ops = {
    r_get, r_write, r_snapshot, r_snapshot_release, r_iter, r_destroy,
    r_property, r_compact,
};

int mvcc_rocksengine_open(const struct mvcc_rocks_opts *o,
                          struct mvcc_engine **out, char *errmsg_out,
                          size_t errmsg_len)
{
    if (o == NULL || o->path == NULL || out == NULL)
        return -EINVAL;
    struct rockseng *e = mvcc__calloc(1, sizeof *e);
    if (e == NULL)
        return -ENOMEM;
    e->base.ops = &rocks_ops;
    e->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(e->opts, 1);
    rocksdb_options_set_create_missing_column_families(e->opts, 1);
    e->cache = rocksdb_cache_create_lru(o->block_cache_bytes
                                            ? o->block_cache_bytes
                                            : (size_t)64 << 20);
    e->bbto = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(e->bbto, e->cache);
    rocksdb_options_set_block_based_table_factory(e->opts, e->bbto);
    if (o->recycle_log_files)
        rocksdb_options_set_recycle_log_file_num(e->opts,
                                                 o->recycle_log_files);
    if (o->wal_dir)
        rocksdb_options_set_wal_dir(e->opts, o->wal_dir);
    if (o->write_buffer_bytes)
        rocksdb_options_set_write_buffer_size(e->opts, o->write_buffer_bytes);
    if (o->max_wal_bytes)
        rocksdb_options_set_max_total_wal_size(e->opts, o->max_wal_bytes);
    e->wo = rocksdb_writeoptions_create();
    e->wo_sync = rocksdb_writeoptions_create();
    /* Without a WAL there is nothing to sync (RocksDB refuses the pair). */
    rocksdb_writeoptions_set_sync(e->wo_sync, o->disable_wal ? 0 : 1);
    if (o->disable_wal) {
        rocksdb_writeoptions_disable_WAL(e->wo, 1);
        rocksdb_writeoptions_disable_WAL(e->wo_sync, 1);
    }
    e->wo_nowal = rocksdb_writeoptions_create();
    rocksdb_writeoptions_disable_WAL(e->wo_nowal, 1);
    e->ro = rocksdb_readoptions_create();

    /* The lock CF is read for absent keys all the time (most keys are not
     * locked): bloom filters in its memtable and tables answer those
     * without a search. */
    e->lock_opts = rocksdb_options_create_copy(e->opts);
    e->lock_bbto = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(e->lock_bbto, e->cache);
    rocksdb_block_based_options_set_filter_policy(
        e->lock_bbto, rocksdb_filterpolicy_create_bloom(10));
    rocksdb_options_set_block_based_table_factory(e->lock_opts, e->lock_bbto);
    if (o->lock_cf_write_only) {
        /* Appends instead of skiplist inserts; the vector rep cannot take
         * concurrent inserts, which RocksDB enables by default. */
        rocksdb_options_set_memtable_vector_rep(e->lock_opts);
        rocksdb_options_set_allow_concurrent_memtable_write(e->opts, 0);
        rocksdb_options_set_allow_concurrent_memtable_write(e->lock_opts, 0);
    } else {
        rocksdb_options_set_memtable_prefix_bloom_size_ratio(e->lock_opts,
                                                             0.1);
        rocksdb_options_set_memtable_whole_key_filtering(e->lock_opts, 1);
    }
    /* The raft CF holds an embedder's log: appended in key order, read
     * at open and rarely by key, deleted by ranges from the front. So no
     * bloom filter (the default table options have none) and a memtable
     * of its own, smaller than the data's: the data's memtable no longer
     * fills with log entries (libregion DESIGN "The Raft log's own
     * column family"). */
    e->raft_opts = rocksdb_options_create_copy(e->opts);
    size_t data_wb = o->write_buffer_bytes ? o->write_buffer_bytes
                                           : (size_t)64 << 20;
    size_t raft_wb = data_wb / 4;
    if (raft_wb < ((size_t)4 << 20))
        raft_wb = (size_t)4 << 20;
    if (o->raft_write_buffer_bytes)
        raft_wb = o->raft_write_buffer_bytes;
    rocksdb_options_set_write_buffer_size(e->raft_opts, raft_wb);
    const rocksdb_options_t *cfo[MVCC_ENGINE_CF_COUNT];
    for (int c = 0; c < MVCC_ENGINE_CF_COUNT; c++)
        cfo[c] = c == MVCC_CF_LOCK   ? e->lock_opts
                 : c == MVCC_CF_RAFT ? e->raft_opts
                                     : e->opts;
    char *err = NULL;
    e->db = rocksdb_open_column_families(e->opts, o->path, MVCC_ENGINE_CF_COUNT,
                                         cf_names, cfo, e->cf, &err);
    if (err != NULL) {
        if (errmsg_out && errmsg_len)
            snprintf(errmsg_out, errmsg_len, "rocksdb open %s: %s", o->path,
                     err);
        rocksdb_free(err);
        e->db = NULL;
        memset(e->cf, 0, sizeof e->cf);
        r_destroy(&e->base);
        return MVCC_EENGINE;
    }
    *out = &e->base;
    return 0;
}

/* snapshot.c: Raft log GC and region snapshots. Applied entries past
 * log_keep_entries are dropped (engine and memstore); a follower that
 * needs them gets a snapshot built from the engine (every key of the
 * region, raw and transactional), sent by libraft in chunks, and installed
 * atomically with the region's Raft state. DESIGN.md, "Snapshots and log
 * GC" (byte table of the snapshot data there and below).
 *
 * Snapshot data:
 *   0   1    format version (1)
 *   1   4+D  region state (codec.c's region state record)
 *   ..       records until the end: cf(1) 4+K engine key 4+V value
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "region_int.h"

static uint8_t *bound(uint8_t prefix, const uint8_t *k, size_t len, bool enc,
                      bool upper, size_t *out_len)
{
    if (len == 0 && upper) { /* unbounded: the end of the prefix */
        uint8_t *b = region__malloc(1);
        if (b)
            b[0] = (uint8_t)(prefix + 1);
        *out_len = 1;
        return b;
    }
    if (len == 0) {
        uint8_t *b = region__malloc(1);
        if (b)
            b[0] = prefix;
        *out_len = 1;
        return b;
    }
    size_t n = enc ? mvcc_key_encoded_len(len) : len;
    uint8_t *b = region__malloc(n + 1);
    if (b == NULL)
        return NULL;
    b[0] = prefix;
    if (enc)
        mvcc_key_encode(k, len, b + 1);
    else
        memcpy(b + 1, k, len);
    *out_len = n + 1;
    return b;
}

int region__ranges(const struct region_desc *d,
                   struct region_range r[REGION__N_RANGES])
{
    memset(r, 0, sizeof(struct region_range) * REGION__N_RANGES);
    for (int i = 0; i < REGION__N_RANGES; i++) {
        bool raw = i == 0 || i == REGION__RANGE_TTL;
        uint8_t prefix = raw ? REGION__RAW : REGION__TXN;
        r[i].cf = i == REGION__RANGE_TTL ? MVCC_CF_LOCK
                  : raw                  ? MVCC_CF_DEFAULT
                                         : i - 1;
        r[i].lo = bound(prefix, d->start, d->start_len, !raw, false,
                        &r[i].lo_len);
        r[i].hi = bound(prefix, d->end, d->end_len, !raw, true, &r[i].hi_len);
        if (r[i].lo == NULL || r[i].hi == NULL) {
            region__ranges_free(r);
            return -ENOMEM;
        }
    }
    return 0;
}

void region__ranges_free(struct region_range r[REGION__N_RANGES])
{
    for (int i = 0; i < REGION__N_RANGES; i++) {
        region__free(r[i].lo);
        region__free(r[i].hi);
        r[i].lo = r[i].hi = NULL;
    }
}

static int cmp_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (al < bl ? -1 : al > bl);
}

/* Build a snapshot of p at its applied index into p->snap. */
static int snap_build(struct region_store *s, struct region_peer *p)
{
    struct region_buf b = {0}, d = {0};
    struct region_range r[REGION__N_RANGES];
    struct mvcc_snapshot *es = NULL;
    int rc = region__ranges(&p->desc, r);
    if (rc != 0)
        return rc;
    region__buf_u8(&b, 1);
    rc = region__encode_desc(&d, &p->desc, 0);
    region__buf_bytes(&b, d.data, d.len);
    if (rc == 0)
        rc = mvcc_engine_snapshot(s->opts.engine, &es);
    for (int i = 0; rc == 0 && i < REGION__N_RANGES; i++) {
        struct mvcc_iter_opts io = {r[i].lo, r[i].lo_len, r[i].hi, r[i].hi_len};
        struct mvcc_iter *it = NULL;
        rc = mvcc_engine_iter(s->opts.engine, es, r[i].cf, &io, &it);
        if (rc != 0)
            break;
        rc = it->ops->seek_to_first(it);
        while (rc == 0 && it->ops->valid(it)) {
            size_t kl, vl;
            const uint8_t *k = it->ops->key(it, &kl);
            const uint8_t *v = it->ops->value(it, &vl);
            region__buf_u8(&b, (uint8_t)r[i].cf);
            region__buf_bytes(&b, k, kl);
            region__buf_bytes(&b, v, vl);
            rc = it->ops->next(it);
        }
        mvcc_iter_destroy(it);
    }
    if (es)
        mvcc_engine_snapshot_release(s->opts.engine, es);
    region__ranges_free(r);
    region__buf_free(&d);
    if (rc == 0 && b.oom)
        rc = -ENOMEM;
    if (rc != 0) {
        region__buf_free(&b);
        return rc;
    }
    region__snap_free(p);
    raft_term term = 0;
    const struct raft_storage_ops *ops = raft_memstore_storage(p->ms)->ops;
    rc = ops->term(raft_memstore_storage(p->ms), p->applied, &term);
    if (rc != 0) {
        region__buf_free(&b);
        return rc;
    }
    memset(&p->snap, 0, sizeof p->snap);
    p->snap.meta.index = p->applied;
    p->snap.meta.term = term;
    region__conf_of(&p->desc, &p->snap.meta.conf);
    p->snap.total = p->snap.len = b.len;
    p->snap.data = b.data; /* handed to p->snap */
    p->has_snap = true;
    s->stats.snaps_built++;
    region__log(s, REGION_LOG_INFO,
                "region %llu: snapshot at %llu built (%zu bytes)",
                (unsigned long long)p->desc.id,
                (unsigned long long)p->applied, b.len);
    return 0;
}

void region__snap_free(struct region_peer *p)
{
    if (p->has_snap)
        region__free(p->snap.data);
    memset(&p->snap, 0, sizeof p->snap);
    p->has_snap = false;
}

/* The storage the node reads: the memstore's, except snapshot, which is
 * built from the engine when the memstore's is older than the log's
 * start (the memstore only ever holds the metadata of a compaction). */
static struct raft_storage *inner(struct raft_storage *st)
{
    struct region_peer *p = (struct region_peer *)st;
    return raft_memstore_storage(p->ms);
}

static int st_initial(struct raft_storage *st, struct raft_hard_state *hs,
                      struct raft_conf_state *cs)
{
    struct raft_storage *in = inner(st);
    return in->ops->initial_state(in, hs, cs);
}

static int st_entries(struct raft_storage *st, raft_index lo, raft_index hi,
                      uint64_t max_bytes, const struct raft_entry **ents,
                      size_t *n)
{
    struct raft_storage *in = inner(st);
    return in->ops->entries(in, lo, hi, max_bytes, ents, n);
}

static int st_term(struct raft_storage *st, raft_index i, raft_term *t)
{
    struct raft_storage *in = inner(st);
    return in->ops->term(in, i, t);
}

static int st_first(struct raft_storage *st, raft_index *i)
{
    struct raft_storage *in = inner(st);
    return in->ops->first_index(in, i);
}

static int st_last(struct raft_storage *st, raft_index *i)
{
    struct raft_storage *in = inner(st);
    return in->ops->last_index(in, i);
}

static int st_snapshot(struct raft_storage *st,
                       const struct raft_snapshot **snap)
{
    struct region_peer *p = (struct region_peer *)st;
    if (p->merge_target) /* the mark is not in a snapshot: none while */
        return RAFT_ESNAPTEMP; /* merging (DESIGN "Merge") */
    /* always with data: the memstore's holds none (bootstrap or a
     * compaction point), and a peer created by a message has nothing */
    if (!p->has_snap || p->snap.meta.index < p->compacted) {
        int rc = snap_build(p->store, p);
        if (rc != 0)
            return RAFT_ESNAPTEMP; /* try again later */
    }
    *snap = &p->snap;
    return 0;
}

static const struct raft_storage_ops storage_ops = {
    .initial_state = st_initial,
    .entries = st_entries,
    .term = st_term,
    .first_index = st_first,
    .last_index = st_last,
    .snapshot = st_snapshot,
};

void region__storage_init(struct region_peer *p)
{
    p->stor.ops = &storage_ops;
}

/* Whether engine key k of CF cf lies in one of ranges r. */
static bool in_ranges(const struct region_range r[REGION__N_RANGES], int cf,
                      const uint8_t *k, size_t kl)
{
    for (int i = 0; i < REGION__N_RANGES; i++)
        if (r[i].cf == cf && cmp_bytes(k, kl, r[i].lo, r[i].lo_len) >= 0 &&
            cmp_bytes(k, kl, r[i].hi, r[i].hi_len) < 0)
            return true;
    return false;
}

int region__snapshot_persist(struct region_store *s, struct region_peer *p,
                             const struct raft_snapshot *snap,
                             struct region_desc *d)
{
    struct region_rd rd = {snap->data, (size_t)snap->len, false};
    struct region_range old[REGION__N_RANGES], nw[REGION__N_RANGES];
    uint8_t state = 0;
    if (region__rd_u8(&rd) != 1)
        return REGION_EDECODE;
    size_t dl;
    const uint8_t *dp = region__rd_bytes(&rd, &dl);
    if (rd.bad || region__decode_desc(dp, dl, d, &state) != 0 ||
        d->id != p->desc.id)
        return REGION_EDECODE;
    /* an uninitialized peer has no range yet: nothing of its own to drop */
    const struct region_desc *od = p->initialized ? &p->desc : d;
    int rc = region__ranges(od, old);
    if (rc != 0)
        return rc;
    rc = region__ranges(d, nw);
    if (rc != 0) {
        region__ranges_free(old);
        return rc;
    }
    /* drop what the region held, on both its old and new bounds */
    for (int i = 0; rc == 0 && i < REGION__N_RANGES; i++) {
        rc = mvcc_wbatch_delete_range(s->wb, old[i].cf, old[i].lo,
                                      old[i].lo_len, old[i].hi, old[i].hi_len);
        if (rc == 0)
            rc = mvcc_wbatch_delete_range(s->wb, nw[i].cf, nw[i].lo,
                                          nw[i].lo_len, nw[i].hi, nw[i].hi_len);
    }
    while (rc == 0 && rd.left > 0) {
        uint8_t cf = region__rd_u8(&rd);
        size_t kl, vl;
        const uint8_t *k = region__rd_bytes(&rd, &kl);
        const uint8_t *v = region__rd_bytes(&rd, &vl);
        if (rd.bad || cf >= MVCC_CF_COUNT || !in_ranges(nw, cf, k, kl)) {
            rc = REGION_EDECODE;
            break;
        }
        rc = mvcc_wbatch_put(s->wb, cf, k, kl, v, vl);
    }
    region__ranges_free(old);
    region__ranges_free(nw);
    if (rc != 0)
        return rc;
    /* the log goes; the Raft state follows the snapshot */
    uint8_t lo[REGION__KEY_LOG_LEN], hi[REGION__KEY_LOG_LEN];
    region__key_log(lo, p->desc.id, 0);
    region__key_log(hi, p->desc.id + 1, 0);
    rc = mvcc_wbatch_delete_range(s->wb, MVCC_CF_DEFAULT, lo, sizeof lo, hi,
                                  sizeof hi);
    uint8_t k[REGION__KEY_META_LEN], v[16];
    struct region_buf b = {0};
    if (rc == 0)
        rc = region__encode_desc(&b, d, 0);
    region__key_meta(k, 'R', d->id);
    if (rc == 0)
        rc = mvcc_wbatch_put(s->wb, MVCC_CF_DEFAULT, k, sizeof k, b.data, b.len);
    region__buf_free(&b);
    region__key_meta(k, 'A', d->id);
    region__put_u64(v, snap->meta.index);
    if (rc == 0)
        rc = mvcc_wbatch_put(s->wb, MVCC_CF_DEFAULT, k, sizeof k, v, 8);
    region__key_meta(k, 'S', d->id);
    region__put_u64(v + 8, snap->meta.term);
    if (rc == 0)
        rc = mvcc_wbatch_put(s->wb, MVCC_CF_DEFAULT, k, sizeof k, v, 16);
    return rc;
}

int region__log_gc(struct region_store *s, struct region_peer *p)
{
    raft_index keep = s->opts.log_keep_entries;
    if (p->applied <= p->compacted + 2 * keep)
        return 0;
    raft_index to = p->applied - keep;
    raft_term term = 0;
    struct raft_storage *in = raft_memstore_storage(p->ms);
    int rc = in->ops->term(in, to, &term);
    if (rc != 0)
        return rc;
    struct mvcc_wbatch *b = NULL;
    rc = mvcc_wbatch_create(&b);
    if (rc != 0)
        return rc;
    uint8_t lo[REGION__KEY_LOG_LEN], hi[REGION__KEY_LOG_LEN];
    uint8_t k[REGION__KEY_META_LEN], v[16];
    region__key_log(lo, p->desc.id, 0);
    region__key_log(hi, p->desc.id, to + 1);
    rc = mvcc_wbatch_delete_range(b, MVCC_CF_DEFAULT, lo, sizeof lo, hi,
                                  sizeof hi);
    region__key_meta(k, 'S', p->desc.id);
    region__put_u64(v, to);
    region__put_u64(v + 8, term);
    if (rc == 0)
        rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, sizeof k, v, 16);
    /* no sync: if lost, the entries are simply still there */
    if (rc == 0)
        rc = mvcc_engine_write(s->opts.engine, b, false);
    mvcc_wbatch_destroy(b);
    if (rc == 0)
        rc = raft_memstore_compact(p->ms, to);
    if (rc == 0) {
        p->compacted = to;
        s->stats.log_gcs++;
        region__log(s, REGION_LOG_DEBUG, "region %llu: log compacted to %llu",
                    (unsigned long long)p->desc.id, (unsigned long long)to);
    }
    return rc;
}

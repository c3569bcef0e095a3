/* raftlog.c: pdd's durable Raft state in RocksDB (through libmvcc's engine
 * API), mirrored in a raft_memstore that the libraft node reads. Every
 * ready is one write batch, synced when libraft says so, before anything
 * that depends on it leaves (libpd/DESIGN.md, "pdd: the Raft log").
 *
 * Keys (column family default):
 *   "h"               hard state: be64 term, be64 vote, be64 commit
 *   "e" be64(index)   entry: be64 term, be32 type, data
 *   "s"               snapshot: be64 index, be64 term, conf, data
 *   "m", "i", "x"     be64: our member id; initial-members' size; our id
 *                     once we were removed (pdd.h, membership)
 *   conf := u8 n_voters, n_learners, n_voters_outgoing, n_learners_next,
 *           u8 auto_leave, then be64 ids of each list in that order
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mvcc.h>

#include "pdd.h"

struct pdd_log
{
    struct mvcc_engine *eng;    /* the RocksDB database */
    struct raft_memstore *ms;   /* what the node reads */
    struct mvcc_wbatch *batch;  /* reused per ready */
    uint8_t *snap_data;         /* snapshot loaded at open (malloc) */
    size_t snap_len;            /* its length */
    raft_index snap_index;      /* its index */
    raft_index first_disk;      /* lowest entry index that may be on disk */
    raft_index last_disk;       /* highest entry index on disk (0 none) */
};

static void entry_key(uint8_t key[9], raft_index i)
{
    key[0] = 'e';
    pdd_be64(key + 1, i);
}

/* Adds the put of snapshot record (meta, data) to b. */
static int put_snapshot(struct mvcc_wbatch *b,
                        const struct raft_snapshot_meta *m,
                        const uint8_t *data, size_t len)
{
    uint8_t hdr[PDD_META_MAX];
    size_t h = pdd_log_meta_encode(m, hdr);
    uint8_t *rec = malloc(h + len + 1);
    if (!rec)
        return -ENOMEM;
    memcpy(rec, hdr, h);
    if (len)
        memcpy(rec + h, data, len);
    int rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, "s", 1, rec, h + len);
    free(rec);
    return rc;
}

static int fail(char *err, size_t errlen, int rc, const char *what,
                const char *detail)
{
    snprintf(err, errlen, "%s: %s", what, detail ? detail : "");
    return rc < 0 ? rc : -EIO;
}

int pdd_log_open(const char *dir, const uint64_t *voters, size_t n,
                 const uint8_t *data, size_t len, bool *fresh,
                 struct pdd_log **out, char *err, size_t errlen)
{
    struct pdd_log *log = calloc(1, sizeof(*log));
    struct mvcc_iter *it = NULL;
    uint8_t *val = NULL;
    int rc = -ENOMEM;
    if (!log)
        return fail(err, errlen, -ENOMEM, "raft log", "out of memory");
    struct mvcc_rocks_opts ro = {.path = dir, .recycle_log_files = 4};
    char rerr[256] = "";
    rc = mvcc_rocksengine_open(&ro, &log->eng, rerr, sizeof(rerr));
    if (rc != 0) {
        rc = fail(err, errlen, rc, "cannot open the raft log", rerr);
        goto err_free;
    }
    if ((rc = raft_memstore_create(&log->ms)) != 0 ||
        (rc = mvcc_wbatch_create(&log->batch)) != 0) {
        rc = fail(err, errlen, rc, "raft log", "out of memory");
        goto err_free;
    }
    size_t vlen = 0;
    rc = mvcc_engine_get(log->eng, NULL, MVCC_CF_DEFAULT, "s", 1, &val, &vlen);
    *fresh = rc == MVCC_NOTFOUND;
    if (rc == MVCC_NOTFOUND && n == 0) {
        /* A member joining a running group: it starts empty and receives
         * the leader's snapshot (libraft, "Membership"). */
        log->snap_index = 0;
    } else if (rc == MVCC_NOTFOUND) {
        /* A new member of a new group: the configuration is a snapshot at
         * index 1 (libraft's bootstrap), with the member table and no pd
         * state. */
        struct raft_snapshot_meta m = {.index = 1, .term = 1};
        for (size_t i = 0; i < n && i < RAFT_MAX_MEMBERS; i++)
            m.conf.voters[m.conf.n_voters++] = voters[i];
        mvcc_wbatch_clear(log->batch);
        if ((rc = put_snapshot(log->batch, &m, data, len)) != 0 ||
            (rc = mvcc_engine_write(log->eng, log->batch, true)) != 0) {
            rc = fail(err, errlen, rc, "cannot write the raft log",
                      mvcc_engine_errmsg(log->eng));
            goto err_free;
        }
        /* raft_memstore_bootstrap's state (snapshot at index 1, term 1,
         * commit 1), but with the member table as the snapshot's data, so
         * a member joining later receives it. */
        struct raft_snapshot s0 = {.meta = m, .len = len, .total = len,
                                   .data = (void *)(uintptr_t)data};
        struct raft_hard_state hs0 = {.commit = 1};
        if ((rc = raft_memstore_apply_snapshot(log->ms, &s0)) != 0) {
            rc = fail(err, errlen, rc, "raft bootstrap", raft_strerror(rc));
            goto err_free;
        }
        raft_memstore_set_hard_state(log->ms, &hs0);
        log->snap_len = len;
        log->snap_data = malloc(len + 1);
        if (!log->snap_data) {
            rc = fail(err, errlen, -ENOMEM, "raft log", "out of memory");
            goto err_free;
        }
        if (len)
            memcpy(log->snap_data, data, len);
        log->snap_index = 1;
    } else if (rc == 0) {
        struct raft_snapshot s = {0};
        size_t used = 0;
        if (pdd_log_meta_decode(val, vlen, &s.meta, &used) != 0) {
            rc = fail(err, errlen, -EIO, "raft log", "corrupt snapshot record");
            goto err_free;
        }
        s.len = s.total = vlen - used;
        s.data = val + used;
        if ((rc = raft_memstore_apply_snapshot(log->ms, &s)) != 0) {
            rc = fail(err, errlen, rc, "raft log snapshot", raft_strerror(rc));
            goto err_free;
        }
        log->snap_len = vlen - used;
        log->snap_data = malloc(log->snap_len + 1);
        if (!log->snap_data) {
            rc = fail(err, errlen, -ENOMEM, "raft log", "out of memory");
            goto err_free;
        }
        memcpy(log->snap_data, val + used, log->snap_len);
        log->snap_index = s.meta.index;
    } else {
        rc = fail(err, errlen, rc, "cannot read the raft log",
                  mvcc_engine_errmsg(log->eng));
        goto err_free;
    }
    mvcc_free(val);
    val = NULL;
    log->first_disk = log->snap_index + 1;

    /* Entries after the snapshot, in index order. */
    uint8_t lo[9], hi[9];
    entry_key(lo, log->snap_index + 1);
    entry_key(hi, UINT64_MAX);
    struct mvcc_iter_opts io = {lo, 9, hi, 9};
    if ((rc = mvcc_engine_iter(log->eng, NULL, MVCC_CF_DEFAULT, &io, &it)) != 0 ||
        (rc = it->ops->seek_to_first(it)) != 0) {
        rc = fail(err, errlen, rc, "cannot scan the raft log",
                  mvcc_engine_errmsg(log->eng));
        goto err_free;
    }
    while (it->ops->valid(it)) {
        size_t kl, dl;
        const uint8_t *k = it->ops->key(it, &kl);
        const uint8_t *d = it->ops->value(it, &dl);
        struct raft_entry e;
        if (pdd_log_entry_decode(k, kl, d, dl, &e) != 0) {
            rc = fail(err, errlen, -EIO, "raft log", "corrupt entry");
            goto err_free;
        }
        if ((rc = raft_memstore_append(log->ms, &e, 1)) != 0) {
            rc = fail(err, errlen, rc, "raft log entries", raft_strerror(rc));
            goto err_free;
        }
        log->last_disk = e.index;
        if ((rc = it->ops->next(it)) != 0) {
            rc = fail(err, errlen, rc, "cannot scan the raft log",
                      mvcc_engine_errmsg(log->eng));
            goto err_free;
        }
    }
    mvcc_iter_destroy(it);
    it = NULL;

    rc = mvcc_engine_get(log->eng, NULL, MVCC_CF_DEFAULT, "h", 1, &val, &vlen);
    if (rc == 0 && vlen == 24) {
        struct raft_hard_state hs = {pdd_rd64(val), pdd_rd64(val + 8), pdd_rd64(val + 16)};
        raft_memstore_set_hard_state(log->ms, &hs);
    } else if (rc != MVCC_NOTFOUND) {
        rc = fail(err, errlen, rc ? rc : -EIO, "cannot read the hard state",
                  rc ? mvcc_engine_errmsg(log->eng) : "bad length");
        goto err_free;
    }
    mvcc_free(val);
    *out = log;
    return 0;

err_free:
    mvcc_iter_destroy(it);
    mvcc_free(val);
    pdd_log_close(log);
    return rc;
}

void pdd_log_close(struct pdd_log *log)
{
    if (!log)
        return;
    mvcc_wbatch_destroy(log->batch);
    raft_memstore_destroy(log->ms);
    if (log->eng)
        mvcc_engine_destroy(log->eng);
    free(log->snap_data);
    free(log);
}

int pdd_log_get_u64(struct pdd_log *log, const char *key, uint64_t *v)
{
    uint8_t *val = NULL;
    size_t vlen = 0;
    int rc = mvcc_engine_get(log->eng, NULL, MVCC_CF_DEFAULT, key,
                             strlen(key), &val, &vlen);
    if (rc == 0) {
        if (vlen == 8)
            *v = pdd_rd64(val);
        else
            rc = -EIO;
    }
    mvcc_free(val);
    return rc;
}

int pdd_log_put_u64(struct pdd_log *log, const char *key, uint64_t v)
{
    uint8_t b[8];
    pdd_be64(b, v);
    mvcc_wbatch_clear(log->batch);
    int rc = mvcc_wbatch_put(log->batch, MVCC_CF_DEFAULT, key, strlen(key),
                             b, 8);
    if (rc == 0)
        rc = mvcc_engine_write(log->eng, log->batch, true);
    return rc;
}

struct raft_storage *pdd_log_storage(struct pdd_log *log)
{
    return raft_memstore_storage(log->ms);
}

void pdd_log_snapshot(struct pdd_log *log, const uint8_t **data, size_t *len,
                      raft_index *index)
{
    *data = log->snap_data;
    *len = log->snap_len;
    *index = log->snap_index;
}

int pdd_log_persist(struct pdd_log *log, const struct raft_ready *rd,
                    bool sync, char *err, size_t errlen)
{
    struct mvcc_wbatch *b = log->batch;
    mvcc_wbatch_clear(b);
    int rc = 0;
    uint8_t k1[9], k2[9];
    if (rd->snapshot) {
        /* The snapshot replaces the whole log. */
        entry_key(k1, 0);
        entry_key(k2, UINT64_MAX);
        if ((rc = mvcc_wbatch_delete_range(b, MVCC_CF_DEFAULT, k1, 9, k2, 9)) ||
            (rc = put_snapshot(b, &rd->snapshot->meta, rd->snapshot->data,
                               (size_t)rd->snapshot->len)))
            return fail(err, errlen, rc, "raft log", "batch");
    }
    if (rd->n_entries > 0) {
        raft_index first = rd->entries[0].index;
        if (log->last_disk >= first) {
            /* A conflicting suffix is replaced. */
            entry_key(k1, first);
            entry_key(k2, UINT64_MAX);
            if ((rc = mvcc_wbatch_delete_range(b, MVCC_CF_DEFAULT, k1, 9, k2,
                                               9)))
                return fail(err, errlen, rc, "raft log", "batch");
        }
        for (size_t i = 0; i < rd->n_entries; i++) {
            const struct raft_entry *e = &rd->entries[i];
            uint8_t *v = malloc(12 + (size_t)e->len);
            if (!v)
                return fail(err, errlen, -ENOMEM, "raft log", "out of memory");
            pdd_be64(v, e->term);
            v[8] = (uint8_t)(e->type >> 24);
            v[9] = (uint8_t)(e->type >> 16);
            v[10] = (uint8_t)(e->type >> 8);
            v[11] = (uint8_t)e->type;
            if (e->len)
                memcpy(v + 12, e->data, e->len);
            entry_key(k1, e->index);
            rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k1, 9, v, 12 + e->len);
            free(v);
            if (rc)
                return fail(err, errlen, rc, "raft log", "batch");
        }
    }
    if (rd->hard_changed) {
        uint8_t v[24];
        pdd_be64(v, rd->hs.term);
        pdd_be64(v + 8, rd->hs.vote);
        pdd_be64(v + 16, rd->hs.commit);
        if ((rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, "h", 1, v, 24)))
            return fail(err, errlen, rc, "raft log", "batch");
    }
    if (mvcc_wbatch_count(b) > 0 &&
        (rc = mvcc_engine_write(log->eng, b, sync)) != 0)
        return fail(err, errlen, rc, "raft log write failed",
                    mvcc_engine_errmsg(log->eng));
    /* Now mirror it for the node. */
    if (rd->snapshot) {
        if ((rc = raft_memstore_apply_snapshot(log->ms, rd->snapshot)) != 0)
            return fail(err, errlen, rc, "raft snapshot", raft_strerror(rc));
        log->last_disk = 0;
        log->first_disk = rd->snapshot->meta.index + 1;
    }
    if (rd->n_entries > 0) {
        if ((rc = raft_memstore_append(log->ms, rd->entries, rd->n_entries)))
            return fail(err, errlen, rc, "raft append", raft_strerror(rc));
        log->last_disk = rd->entries[rd->n_entries - 1].index;
    }
    if (rd->hard_changed)
        raft_memstore_set_hard_state(log->ms, &rd->hs);
    return 0;
}

int pdd_log_snapshot_make(struct pdd_log *log, raft_index index,
                          const struct raft_conf_state *cs,
                          const uint8_t *data, size_t len, raft_index keep,
                          char *err, size_t errlen)
{
    struct raft_storage *st = raft_memstore_storage(log->ms);
    raft_term term = 0;
    int rc = st->ops->term(st, index, &term);
    if (rc != 0)
        return fail(err, errlen, rc, "snapshot term", raft_strerror(rc));
    struct raft_snapshot_meta m = {.index = index, .term = term, .conf = *cs};
    struct mvcc_wbatch *b = log->batch;
    mvcc_wbatch_clear(b);
    raft_index upto = index > keep ? index - keep : 0;
    uint8_t k1[9], k2[9];
    if ((rc = put_snapshot(b, &m, data, len)) != 0)
        return fail(err, errlen, rc, "snapshot", "batch");
    if (upto >= log->first_disk) {
        entry_key(k1, 0);
        entry_key(k2, upto + 1);
        if ((rc = mvcc_wbatch_delete_range(b, MVCC_CF_DEFAULT, k1, 9, k2, 9)))
            return fail(err, errlen, rc, "snapshot", "batch");
    }
    if ((rc = mvcc_engine_write(log->eng, b, true)) != 0)
        return fail(err, errlen, rc, "snapshot write failed",
                    mvcc_engine_errmsg(log->eng));
    if ((rc = raft_memstore_create_snapshot(log->ms, index, cs, data, len)))
        return fail(err, errlen, rc, "snapshot", raft_strerror(rc));
    raft_index first = 0;
    st->ops->first_index(st, &first);
    if (upto >= first && (rc = raft_memstore_compact(log->ms, upto)) != 0)
        return fail(err, errlen, rc, "compact", raft_strerror(rc));
    if (upto >= log->first_disk)
        log->first_disk = upto + 1;
    return 0;
}

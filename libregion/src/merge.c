/* merge.c: merging a source region into an adjacent target (DESIGN.md
 * "Merge"): the PREPARE/COMMIT/REJECT/ROLLBACK commands, their apply on
 * every store (the source's catch-up from its own log, the union, the
 * tombstone), the persisted marks and the proposals kvd's driver makes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "region_int.h"

/* 01 'J' target(8) source(8) -> prepare index(8) decision(1): what the
 * target's log decided for the source's prepare at that index. */
#define KEY_DECIDED_LEN 18
#define DECIDED_TAKEN 1
#define DECIDED_REJECTED 2

static void key_decided(uint8_t out[KEY_DECIDED_LEN], uint64_t target,
                        uint64_t source)
{
    out[0] = REGION__LOCAL;
    out[1] = 'J';
    region__put_u64(out + 2, target);
    region__put_u64(out + 10, source);
}

int region__merge_refuse(const struct region_peer *p, struct region_err *err)
{
    if (p->merge_target == 0)
        return 0;
    region__set_err(err, REGION_ESERVER_BUSY,
                    "region %llu is merging into region %llu",
                    (unsigned long long)p->desc.id,
                    (unsigned long long)p->merge_target);
    return REGION_ESERVER_BUSY;
}

/* A local key's value of exactly n bytes into out (zeroed when the key
 * is absent); REGION_EDECODE for another length. */
static int get_fixed(struct region_store *s, const uint8_t *k, size_t klen,
                     uint8_t *out, size_t n)
{
    uint8_t *v = NULL;
    size_t len = 0;
    memset(out, 0, n);
    int rc = mvcc_engine_get(s->opts.engine, NULL, MVCC_CF_DEFAULT, k, klen,
                             &v, &len);
    if (rc == MVCC_NOTFOUND)
        return 0;
    if (rc == 0 && len != n)
        rc = REGION_EDECODE;
    if (rc == 0)
        memcpy(out, v, n);
    mvcc_free(v);
    return rc;
}

/* The decision recorded for (target, source): *index 0 when none. Reads
 * the engine, so the apply batch is written first. */
static int decided_get(struct region_store *s, uint64_t target,
                       uint64_t source, uint64_t *index, uint8_t *what)
{
    uint8_t k[KEY_DECIDED_LEN], v[9];
    key_decided(k, target, source);
    int rc = get_fixed(s, k, sizeof k, v, sizeof v);
    *index = region__get_u64(v);
    *what = v[8];
    return rc;
}

static int decided_put(struct region_store *s, uint64_t target,
                       uint64_t source, uint64_t index, uint8_t what)
{
    uint8_t k[KEY_DECIDED_LEN], v[9];
    key_decided(k, target, source);
    region__put_u64(v, index);
    v[8] = what;
    return mvcc_wbatch_put(s->ab, MVCC_CF_DEFAULT, k, sizeof k, v, sizeof v);
}

/* 01 'G' region(8) = the region that took it in, written by the commit
 * that did, on this store: proof that this store applied that region's
 * log up to its own prepare (DESIGN "Merge", "A target merged away
 * first"). *by 0 when none. Reads the engine, as decided_get. */
static void key_gone(uint8_t out[REGION__KEY_META_LEN], uint64_t id)
{
    region__key_meta(out, 'G', id);
}

static int gone_get(struct region_store *s, uint64_t id, uint64_t *by)
{
    uint8_t k[REGION__KEY_META_LEN], v[8];
    key_gone(k, id);
    int rc = get_fixed(s, k, sizeof k, v, sizeof v);
    *by = region__get_u64(v);
    return rc;
}

static int gone_put(struct region_store *s, uint64_t id, uint64_t by)
{
    uint8_t k[REGION__KEY_META_LEN], v[8];
    key_gone(k, id);
    region__put_u64(v, by);
    return mvcc_wbatch_put(s->ab, MVCC_CF_DEFAULT, k, sizeof k, v, sizeof v);
}

static int mark_put(struct mvcc_wbatch *b, const struct region_peer *p)
{
    uint8_t k[REGION__KEY_META_LEN], v[24];
    region__key_meta(k, 'M', p->desc.id);
    region__put_u64(v, p->merge_target);
    region__put_u64(v + 8, p->merge_index);
    region__put_u64(v + 16, p->merge_term);
    return mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, sizeof k, v, sizeof v);
}

static int mark_del(struct mvcc_wbatch *b, uint64_t id)
{
    uint8_t k[REGION__KEY_META_LEN];
    region__key_meta(k, 'M', id);
    return mvcc_wbatch_delete(b, MVCC_CF_DEFAULT, k, sizeof k);
}

int region__merge_load(struct region_store *s, struct region_peer *p)
{
    uint8_t k[REGION__KEY_META_LEN], v[24];
    region__key_meta(k, 'M', p->desc.id);
    int rc = get_fixed(s, k, sizeof k, v, sizeof v);
    if (rc == 0 && region__get_u64(v) != 0) {
        p->merge_target = region__get_u64(v);
        p->merge_index = region__get_u64(v + 8);
        p->merge_term = region__get_u64(v + 16);
        region__log(s, REGION_LOG_INFO,
                    "region %llu: merging into region %llu (prepared at %llu)",
                    (unsigned long long)p->desc.id,
                    (unsigned long long)p->merge_target,
                    (unsigned long long)p->merge_index);
    } else if (rc != 0) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "region %llu: merge mark: %s",
                 (unsigned long long)p->desc.id, region_strerror(rc));
    }
    return rc;
}

/* The version p reaches by applying command c, which applies (its
 * version is p's at that point, and it is not refused otherwise): what
 * apply_split, apply_prepare, apply_rollback and apply_commit (p the
 * target) make it. */
static uint64_t version_after(const struct region_cmd *c, uint64_t version)
{
    struct region_desc sd;
    uint8_t state = 0;
    if (c->type != REGION_CMD_COMMIT_MERGE)
        return version + 1;
    if (region__decode_desc(c->body, c->body_len, &sd, &state) != 0)
        return version; /* refused as malformed */
    return (sd.version > version ? sd.version : version) + 1;
}

uint64_t region__merge_logged_target(struct region_peer *p)
{
    raft_index last = 0;
    if (p->stor.ops->last_index(&p->stor, &last) != 0)
        return 0;
    uint64_t version = p->desc.version, target = p->merge_target;
    for (raft_index lo = p->applied + 1; lo <= last;) {
        const struct raft_entry *ents = NULL;
        size_t n = 0;
        if (p->stor.ops->entries(&p->stor, lo, last + 1, UINT64_MAX, &ents,
                                 &n) != 0 ||
            n == 0)
            return 0;
        for (size_t i = 0; i < n; i++) {
            const struct raft_entry *e = &ents[i];
            const uint8_t *d = e->data;
            struct region_cmd c;
            /* only these move the version the others are checked
             * against; the rest is not decoded */
            if (e->type != RAFT_ENTRY_NORMAL || e->len < 2 ||
                (d[1] != REGION_CMD_SPLIT &&
                 (d[1] < REGION_CMD_PREPARE_MERGE ||
                  d[1] > REGION_CMD_ROLLBACK_MERGE)) ||
                region__cmd_decode(d, e->len, &c) != 0 ||
                c.region_id != p->desc.id || c.version != version)
                continue;
            bool refused = c.type == REGION_CMD_ROLLBACK_MERGE
                               ? target != c.new_id
                               : c.type != REGION_CMD_SPLIT && target != 0;
            if (refused) /* merging already, or not by that target */
                continue;
            if (c.type == REGION_CMD_PREPARE_MERGE)
                target = c.new_id;
            else if (c.type == REGION_CMD_ROLLBACK_MERGE)
                target = 0;
            version = version_after(&c, version);
        }
        lo = ents[n - 1].index + 1;
    }
    return target;
}

/* Whether source and target may merge: adjacent, the same stores, no
 * learners, the target not merging itself. 0 or REGION_EINVAL (err). */
static int mergeable(const struct region_desc *src, const struct region_peer *t,
                     struct region_err *err)
{
    const struct region_desc *tgt = &t->desc;
    bool left =
        src->end_len > 0 && region__cmp_bytes(src->end, src->end_len,
                                              tgt->start, tgt->start_len) == 0;
    bool right =
        tgt->end_len > 0 && region__cmp_bytes(tgt->end, tgt->end_len,
                                              src->start, src->start_len) == 0;
    const char *why = NULL;
    if (!left && !right)
        why = "not adjacent";
    else if (src->n_stores != tgt->n_stores)
        why = "different stores";
    else if (src->learners != 0 || tgt->learners != 0)
        why = "a learner is a replica";
    else if (t->merge_target != 0)
        why = "the target is merging itself";
    for (uint32_t i = 0; why == NULL && i < src->n_stores; i++) {
        bool found = false;
        for (uint32_t j = 0; j < tgt->n_stores; j++)
            found |= tgt->stores[j] == src->stores[i];
        if (!found)
            why = "different stores";
    }
    if (why == NULL)
        return 0;
    region__set_err(err, REGION_EINVAL,
                    "region %llu cannot merge into region %llu: %s",
                    (unsigned long long)src->id, (unsigned long long)tgt->id,
                    why);
    return REGION_EINVAL;
}

static void epoch_refused(const struct region_peer *p, int *orc,
                          struct region_err *oerr)
{
    *orc = REGION_EEPOCH_NOT_MATCH;
    region__set_err(oerr, *orc, "region %llu changed version",
                    (unsigned long long)p->desc.id);
    oerr->has_region = true;
    oerr->region = p->desc;
}

static int apply_prepare(struct region_store *s, struct region_peer *p,
                         const struct region_cmd *c,
                         const struct raft_entry *e, int *orc,
                         struct region_err *oerr)
{
    if (c->version != p->desc.version) {
        epoch_refused(p, orc, oerr);
        return 0;
    }
    if (p->merge_target != 0) {
        *orc = region__merge_refuse(p, oerr);
        return 0;
    }
    /* The target taken in on this store before the prepare applied here
     * (its commit found no mark here to reject): looked up before any
     * write, so a crash never leaves the mark without the reject */
    uint64_t gone_by = 0;
    int rc = 0;
    if (region__find_peer(s, c->new_id) == NULL) {
        rc = region__flush_apply(s);
        if (rc == 0)
            rc = gone_get(s, c->new_id, &gone_by);
        if (rc != 0)
            return rc;
    }
    p->desc.version++;
    region__note_change(s, p);
    p->merge_target = c->new_id;
    p->merge_index = e->index;
    p->merge_term = e->term;
    region__snap_free(p); /* names the old version, and holds no mark */
    rc = region__put_region_state(s->ab, &p->desc);
    if (rc == 0)
        rc = mark_put(s->ab, p);
    region__log(s, REGION_LOG_INFO,
                "region %llu: prepared to merge into region %llu at %llu, "
                "version %llu",
                (unsigned long long)p->desc.id,
                (unsigned long long)c->new_id, (unsigned long long)e->index,
                (unsigned long long)p->desc.version);
    if (rc == 0 && gone_by != 0) {
        region__log(s, REGION_LOG_INFO,
                    "region %llu: its merge target %llu was taken into "
                    "region %llu here first: the prepare at %llu is "
                    "rejected",
                    (unsigned long long)p->desc.id,
                    (unsigned long long)c->new_id,
                    (unsigned long long)gone_by,
                    (unsigned long long)e->index);
        rc = decided_put(s, c->new_id, p->desc.id, e->index,
                         DECIDED_REJECTED);
    }
    return rc;
}

static int apply_rollback(struct region_store *s, struct region_peer *p,
                          const struct region_cmd *c, int *orc,
                          struct region_err *oerr)
{
    if (p->merge_target != c->new_id || p->merge_index != c->merge_index) {
        *orc = REGION_EINVAL;
        region__set_err(oerr, *orc,
                        "region %llu is not merging by the prepare at %llu",
                        (unsigned long long)p->desc.id,
                        (unsigned long long)c->merge_index);
        return 0;
    }
    p->merge_target = 0;
    p->merge_index = 0;
    p->merge_term = 0;
    p->desc.version++;
    region__note_change(s, p);
    region__snap_free(p);
    int rc = region__put_region_state(s->ab, &p->desc);
    if (rc == 0)
        rc = mark_del(s->ab, p->desc.id);
    region__log(s, REGION_LOG_INFO,
                "region %llu: merge rolled back, version %llu",
                (unsigned long long)p->desc.id,
                (unsigned long long)p->desc.version);
    return rc;
}

static int apply_reject(struct region_store *s, struct region_peer *t,
                        const struct region_cmd *c, int *orc,
                        struct region_err *oerr)
{
    int rc = region__flush_apply(s);
    uint64_t idx;
    uint8_t what;
    if (rc == 0)
        rc = decided_get(s, t->desc.id, c->new_id, &idx, &what);
    if (rc != 0)
        return rc;
    if (what == DECIDED_TAKEN && idx == c->merge_index) {
        *orc = REGION_EEXISTS;
        region__set_err(oerr, *orc,
                        "region %llu already took region %llu in",
                        (unsigned long long)t->desc.id,
                        (unsigned long long)c->new_id);
        return 0;
    }
    if (idx >= c->merge_index) /* fenced already */
        return 0;
    return decided_put(s, t->desc.id, c->new_id, c->merge_index,
                       DECIDED_REJECTED);
}

static int merged_add(struct region_store *s, struct region_peer *p)
{
    struct region_peer **a = region__grow(s->merged, &s->cap_merged,
                                          s->n_merged + 1, sizeof *a, 4);
    if (a == NULL)
        return -ENOMEM;
    s->merged = a;
    s->merged[s->n_merged++] = p;
    return 0;
}

/* The source sp leaves this store's regions, merged into target: its
 * waiting requests fail RegionNotFound (clients locate the key again and
 * find the target); it is kept in s->merged until no ready of it is out.
 * Its tombstone was written (or is in the apply batch). */
static void leave(struct region_store *s, struct region_peer *sp,
                  uint64_t target)
{
    struct region_err err;
    memset(&err, 0, sizeof err);
    region__set_err(&err, REGION_ENOT_FOUND,
                    "region %llu was merged into region %llu",
                    (unsigned long long)sp->desc.id,
                    (unsigned long long)target);
    while (sp->props) {
        struct region_pending *pd = sp->props;
        sp->props = pd->next;
        region__complete_pending(s, pd, REGION_ENOT_FOUND, &err);
    }
    sp->props_tail = NULL;
    sp->n_props = 0;
    while (sp->reads) {
        struct region_pending *pd = sp->reads;
        sp->reads = pd->next;
        region__complete_pending(s, pd, REGION_ENOT_FOUND, &err);
    }
    region__peer_unlink(s, sp);
    sp->merged = true;
}

/* A merged source's tombstone: conf_ver UINT64_MAX, so that no message of
 * its old group ever makes a peer again; conf_ver 0 for a region only
 * known to be stale here (region__merge_swallowed): a message of its
 * group, if it lives on, makes a fresh peer. */
static int put_tombstone(struct mvcc_wbatch *b, const struct region_desc *d,
                         uint64_t conf_ver)
{
    struct region_desc td = *d;
    td.conf_ver = conf_ver;
    struct region_buf v = {0};
    uint8_t k[REGION__KEY_META_LEN];
    region__key_meta(k, 'R', td.id);
    int rc = region__encode_desc(&v, &td, 1);
    if (rc == 0)
        rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, sizeof k, v.data, v.len);
    region__buf_free(&v);
    if (rc == 0)
        rc = mark_del(b, td.id);
    return rc;
}

/* q lies inside d's range at an older version: every key of q's range
 * belongs to d's lineage now. Either q was merged into it (its group is
 * gone), or q took a neighbour in and split since, living on over other
 * keys (run 7 of the s8 chaos: region 972 swallowed on kvd1 by its own
 * split child 973). Nothing here tells which, so q's tombstone is made
 * at conf_ver 0: a message of its group, if there is one, makes a fresh
 * peer (peer_recreate) that a snapshot fills; a merged group sends none
 * (a stale one makes an uninitialized peer that idles away). */
bool region__merge_swallowed(struct region_store *s, struct region_peer *q,
                             const struct region_desc *d)
{
    const struct region_desc *qd = &q->desc;
    bool inside =
        region__cmp_bytes(qd->start, qd->start_len, d->start, d->start_len) >=
            0 &&
        (d->end_len == 0 ||
         (qd->end_len != 0 &&
          region__cmp_bytes(qd->end, qd->end_len, d->end, d->end_len) <= 0));
    if (!inside || qd->version >= d->version || qd->id == d->id)
        return false;
    struct mvcc_wbatch *b = NULL;
    int rc = merged_add(s, q);
    if (rc == 0)
        rc = mvcc_wbatch_create(&b);
    if (rc == 0)
        rc = put_tombstone(b, qd, 0);
    if (rc == 0)
        rc = mvcc_engine_write(s->opts.engine, b, !s->opts.no_sync);
    mvcc_wbatch_destroy(b);
    if (rc != 0) {
        if (s->n_merged > 0 && s->merged[s->n_merged - 1] == q)
            s->n_merged--;
        region__log(s, REGION_LOG_WARN,
                    "region %llu: cannot drop it for region %llu's "
                    "snapshot: %s",
                    (unsigned long long)qd->id, (unsigned long long)d->id,
                    region_strerror(rc));
        return false;
    }
    uint64_t id = qd->id;
    if (region__add_tomb(s, id, 0) != 0)
        region__log(s, REGION_LOG_WARN, "region %llu: tombstone not kept "
                    "in memory", (unsigned long long)id);
    leave(s, q, d->id);
    s->stats.merges++;
    region__log(s, REGION_LOG_INFO,
                "region %llu lies inside region %llu's snapshot (version "
                "%llu): stale here, dropped (its group, if it lives on, "
                "makes it again)",
                (unsigned long long)id, (unsigned long long)d->id,
                (unsigned long long)d->version);
    return true;
}

/* The source's entries above its applied index up to the prepare, from
 * its own log (each store holds them: the commit was proposed only once
 * every replica's match reached the prepare). */
static int catch_up(struct region_store *s, struct region_peer *sp,
                    raft_index upto, struct mvcc_wbatch *tmp)
{
    while (sp->applied < upto) {
        const struct raft_entry *ents = NULL;
        size_t n = 0;
        int rc = sp->stor.ops->entries(&sp->stor, sp->applied + 1, upto + 1,
                                       UINT64_MAX, &ents, &n);
        if (rc != 0 || n == 0)
            return rc != 0 ? rc : REGION_EINTERNAL;
        for (size_t i = 0; i < n; i++) {
            /* entries' data stay valid while the memstore is not
             * modified: applying never modifies it */
            rc = region__apply_entry(s, sp, &ents[i], tmp);
            if (rc != 0)
                return rc;
            sp->applied = ents[i].index;
            sp->applied_term = ents[i].term;
            s->stats.merge_catchup++;
        }
    }
    return 0;
}

/* q is marked merging into region gone, which a commit applied here just
 * took into another region (before this store's next apply): gone's log
 * was applied up to its own prepare, and a commit of q's prepare applies
 * in gone only before that prepare (after it, gone refuses it: merging
 * itself), so q, not taken, never will be. Its prepare is recorded
 * rejected by gone, unless a decision at or past it is there. */
static int reject_orphaned(struct region_store *s, uint64_t gone,
                           struct region_peer *q)
{
    uint64_t idx;
    uint8_t what;
    int rc = decided_get(s, gone, q->desc.id, &idx, &what);
    if (rc != 0 || idx >= q->merge_index)
        return rc;
    region__log(s, REGION_LOG_INFO,
                "region %llu: its merge target %llu merged away first: the "
                "prepare at %llu is rejected",
                (unsigned long long)q->desc.id, (unsigned long long)gone,
                (unsigned long long)q->merge_index);
    return decided_put(s, gone, q->desc.id, q->merge_index,
                       DECIDED_REJECTED);
}

static int apply_commit(struct region_store *s, struct region_peer *t,
                        const struct region_cmd *c, struct mvcc_wbatch *tmp,
                        int *orc, struct region_err *oerr)
{
    if (c->version != t->desc.version) {
        epoch_refused(t, orc, oerr);
        return 0;
    }
    struct region_desc sd;
    uint8_t state = 0;
    if (region__decode_desc(c->body, c->body_len, &sd, &state) != 0 ||
        state != 0 || sd.id != c->new_id) {
        *orc = REGION_EDECODE;
        region__set_err(oerr, *orc, "malformed merge commit");
        return 0;
    }
    int rc = region__flush_apply(s);
    uint64_t idx;
    uint8_t what;
    if (rc == 0)
        rc = decided_get(s, t->desc.id, sd.id, &idx, &what);
    if (rc != 0)
        return rc;
    if (idx >= c->merge_index) {
        *orc = REGION_EEXISTS;
        region__set_err(oerr, *orc,
                        "merge of region %llu prepared at %llu was %s",
                        (unsigned long long)sd.id,
                        (unsigned long long)c->merge_index,
                        what == DECIDED_TAKEN && idx == c->merge_index
                            ? "taken already"
                            : "rejected");
        return 0;
    }
    *orc = mergeable(&sd, t, oerr);
    if (*orc != 0)
        return 0;
    /* from here the merge happens on every store alike */
    struct region_peer *sp = region__find_peer(s, sd.id);
    if (sp == NULL || !sp->initialized || sp->merged) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "region %llu: merge commit finds no source region %llu on "
                 "this store",
                 (unsigned long long)t->desc.id, (unsigned long long)sd.id);
        region__log(s, REGION_LOG_ERROR, "%s", s->errmsg);
        return REGION_EINTERNAL;
    }
    rc = catch_up(s, sp, c->merge_index, tmp);
    if (rc != 0) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "region %llu: source region %llu cannot catch up to %llu "
                 "from its log: %s",
                 (unsigned long long)t->desc.id, (unsigned long long)sd.id,
                 (unsigned long long)c->merge_index, region_strerror(rc));
        region__log(s, REGION_LOG_ERROR, "%s", s->errmsg);
        return rc;
    }
    if (sp->desc.version != sd.version)
        region__log(s, REGION_LOG_WARN,
                    "region %llu: version %llu here, %llu in the commit",
                    (unsigned long long)sd.id,
                    (unsigned long long)sp->desc.version,
                    (unsigned long long)sd.version);
    struct region_desc nd = t->desc;
    bool src_left =
        sd.end_len > 0 && region__cmp_bytes(sd.end, sd.end_len, t->desc.start,
                                            t->desc.start_len) == 0;
    if (src_left) {
        memcpy(nd.start, sd.start, sd.start_len);
        nd.start_len = sd.start_len;
    } else {
        memcpy(nd.end, sd.end, sd.end_len);
        nd.end_len = sd.end_len;
    }
    nd.version = (sd.version > t->desc.version ? sd.version
                                               : t->desc.version) + 1;
    struct region_desc td = sp->desc;
    rc = put_tombstone(s->ab, &td, UINT64_MAX);
    if (rc == 0)
        rc = region__put_region_state(s->ab, &nd);
    if (rc == 0)
        rc = decided_put(s, t->desc.id, td.id, c->merge_index,
                         DECIDED_TAKEN);
    if (rc == 0)
        rc = gone_put(s, td.id, t->desc.id);
    if (rc == 0)
        rc = merged_add(s, sp);
    if (rc == 0)
        rc = region__add_tomb(s, td.id, UINT64_MAX);
    /* A region still marked merging into the source taken now can never
     * be taken in (DESIGN "Merge", "A target merged away first"): record
     * its prepare rejected, so it rolls back instead of waiting for good */
    for (size_t i = 0; rc == 0 && i < s->n_peers; i++) {
        struct region_peer *q = s->peers[i];
        if (q != sp && q->merge_target == td.id && !q->merged)
            rc = reject_orphaned(s, td.id, q);
    }
    if (rc != 0)
        return rc;
    /* in memory: the source leaves, the target grows */
    leave(s, sp, t->desc.id);
    region__peer_unlink(s, t);
    t->desc = nd;
    region__note_change(s, t);
    region__snap_free(t);
    rc = region__peer_link(s, t); /* its slot was just freed */
    s->stats.merges++;
    region__log(s, REGION_LOG_INFO,
                "region %llu took region %llu in (prepared at %llu), "
                "version %llu",
                (unsigned long long)t->desc.id, (unsigned long long)td.id,
                (unsigned long long)c->merge_index,
                (unsigned long long)nd.version);
    return rc;
}

int region__merge_apply(struct region_store *s, struct region_peer *p,
                        const struct region_cmd *c, const struct raft_entry *e,
                        struct mvcc_wbatch *tmp, int *orc,
                        struct region_err *oerr)
{
    switch (c->type) {
    case REGION_CMD_PREPARE_MERGE:
        return apply_prepare(s, p, c, e, orc, oerr);
    case REGION_CMD_COMMIT_MERGE:
        return apply_commit(s, p, c, tmp, orc, oerr);
    case REGION_CMD_REJECT_MERGE:
        return apply_reject(s, p, c, orc, oerr);
    case REGION_CMD_ROLLBACK_MERGE:
        return apply_rollback(s, p, c, orc, oerr);
    default:
        *orc = REGION_EDECODE;
        region__set_err(oerr, *orc, "unknown command %u", c->type);
        return 0;
    }
}

/* A merged source's log and Raft state (its data is the target's). */
static int drop_source_state(struct region_store *s, uint64_t id)
{
    struct mvcc_wbatch *b = NULL;
    int rc = mvcc_wbatch_create(&b);
    uint8_t lo[REGION__KEY_LOG_LEN], hi[REGION__KEY_LOG_LEN];
    uint8_t k[REGION__KEY_META_LEN];
    region__key_log(lo, id, 0);
    region__key_log(hi, id + 1, 0);
    if (rc == 0)
        rc = mvcc_wbatch_delete_range(b, REGION__CF_LOG, lo, sizeof lo, hi,
                                      sizeof hi);
    static const char kinds[] = {'A', 'S', 'H'};
    for (size_t i = 0; rc == 0 && i < sizeof kinds; i++) {
        region__key_meta(k, kinds[i], id);
        rc = mvcc_wbatch_delete(b, kinds[i] == 'H' ? REGION__CF_LOG
                                                   : MVCC_CF_DEFAULT,
                                k, sizeof k);
    }
    if (rc == 0)
        rc = mvcc_engine_write(s->opts.engine, b, false);
    mvcc_wbatch_destroy(b);
    return rc;
}

void region__merge_reap(struct region_store *s, int *rc)
{
    for (size_t i = 0; i < s->n_merged && *rc == 0;) {
        struct region_peer *p = s->merged[i];
        if (p->n_out > 0 || p->inst != NULL) {
            i++;
            continue;
        }
        /* the tombstone is in the engine (the target's apply batch, which
         * is written before this runs) */
        *rc = drop_source_state(s, p->desc.id);
        s->merged[i] = s->merged[--s->n_merged];
        region__log(s, REGION_LOG_INFO, "region %llu: merged away",
                    (unsigned long long)p->desc.id);
        region__peer_free(p);
    }
}

void region__merge_free_all(struct region_store *s)
{
    for (size_t i = 0; i < s->n_merged; i++)
        region__peer_free(s->merged[i]);
    region__free(s->merged);
    s->merged = NULL;
    s->n_merged = s->cap_merged = 0;
}

/* ---------------------------------------------------------------------
 * Proposals (DESIGN "Merge": who proposes what, when).
 */
static int not_found(struct region_store *s, uint64_t id,
                     struct region_err *err)
{
    region__set_err(err, REGION_ENOT_FOUND, "region %llu is not on store %llu",
                    (unsigned long long)id,
                    (unsigned long long)s->opts.store_id);
    return REGION_ENOT_FOUND;
}

/* c names the other region of the merge and source p's applied
 * prepare. */
static void of_prepare(struct region_cmd *c, uint64_t other,
                       const struct region_peer *p)
{
    c->new_id = other;
    c->merge_index = p->merge_index;
    c->merge_term = p->merge_term;
}

static int propose_cmd(struct region_store *s, struct region_peer *p,
                       const struct region_cmd *c, region_done_fn done,
                       void *ud, struct region_err *err)
{
    struct region_buf b = {0};
    int rc = region__cmd_encode(&b, c);
    if (rc == 0)
        rc = region__propose(s, p, &b, done, ud, err);
    region__buf_free(&b);
    return rc;
}

/* The source on this store, initialized and marked merging, and (tout
 * not NULL) its target, initialized. */
static int merging_source(struct region_store *s, uint64_t id,
                          struct region_peer **out, struct region_peer **tout,
                          struct region_err *err)
{
    struct region_peer *p = region__find_peer(s, id);
    if (p == NULL || !p->initialized)
        return not_found(s, id, err);
    if (p->merge_target == 0) {
        region__set_err(err, REGION_EINVAL, "region %llu is not merging",
                        (unsigned long long)id);
        return REGION_EINVAL;
    }
    *out = p;
    if (tout == NULL)
        return 0;
    *tout = region__find_peer(s, p->merge_target);
    if (*tout == NULL || !(*tout)->initialized)
        return not_found(s, p->merge_target, err);
    return 0;
}

static int start(struct region_store *s, region_done_fn done,
                 struct region_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (s == NULL || done == NULL)
        return REGION_EINVAL;
    pthread_mutex_lock(&s->mu);
    if (s->closing) {
        pthread_mutex_unlock(&s->mu);
        region__set_err(err, REGION_ECLOSED, "store is closing");
        return REGION_ECLOSED;
    }
    return 0;
}

static int finish(struct region_store *s, int rc)
{
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        region__notify(s);
    return rc;
}

/* On the source's leader: whether every other replica is in step (its
 * progress streaming appends), else REGION_ESERVER_BUSY (err). One still
 * probing (the leader is new, or the replica restarted) or waiting for a
 * snapshot may not reach the prepare's index for long, and the commit
 * waits for every replica (region_merge_commit) while the source refuses
 * every request: kvd gives up after 60 s (test_chaos.sh CHAOS_MERGE=1
 * saw such prepares right after the driver moved the source's
 * leadership). Not the leader: 0, for the proposal to answer NotLeader. */
static int replicas_in_step(struct region_store *s,
                            const struct region_peer *p,
                            struct region_err *err)
{
    struct raft_status st;
    raft_node_status(p->node, &st);
    if (st.role != RAFT_LEADER)
        return 0;
    for (uint32_t j = 0; j < st.n_peers; j++) {
        const struct raft_peer_status *ps = &st.peers[j];
        if (ps->id == s->opts.store_id || ps->learner ||
            (ps->state == RAFT_PROGRESS_REPLICATE && ps->recent_active))
            continue;
        region__set_err(err, REGION_ESERVER_BUSY,
                        "region %llu: store %llu is not in step (%s)",
                        (unsigned long long)p->desc.id,
                        (unsigned long long)ps->id,
                        ps->state == RAFT_PROGRESS_SNAPSHOT ? "snapshot"
                        : ps->state == RAFT_PROGRESS_PROBE  ? "probing"
                                                            : "silent");
        return REGION_ESERVER_BUSY;
    }
    return 0;
}

int region_merge_prepare(struct region_store *s, const struct region_ctx *ctx,
                         uint64_t target_id, region_done_fn done, void *ud,
                         struct region_err *err)
{
    if (ctx == NULL || target_id == 0 || target_id == ctx->region_id)
        return REGION_EINVAL;
    int rc = start(s, done, err);
    if (rc != 0)
        return rc;
    struct region_peer *p = NULL, *t = NULL;
    rc = region__peer_lookup(s, ctx, &p, err); /* merging: SERVER_BUSY */
    if (rc == 0) {
        t = region__find_peer(s, target_id);
        if (t == NULL || !t->initialized)
            rc = not_found(s, target_id, err);
    }
    if (rc == 0)
        rc = mergeable(&p->desc, t, err);
    if (rc == 0)
        rc = replicas_in_step(s, p, err);
    /* a region that is the target of a merge under way here stays put: a
     * source whose target merged away could not be rejected any more.
     * Under way here: applied, or a prepare in the source's log here not
     * known committed yet (its leader elsewhere may have applied it) */
    for (size_t i = 0; rc == 0 && i < s->n_peers; i++)
        if (region__merge_logged_target(s->peers[i]) == p->desc.id) {
            rc = REGION_ESERVER_BUSY;
            region__set_err(err, rc,
                            "region %llu is merging into region %llu",
                            (unsigned long long)s->peers[i]->desc.id,
                            (unsigned long long)p->desc.id);
        }
    if (rc == 0) {
        struct region_cmd c =
            region__cmd_for(p, REGION_CMD_PREPARE_MERGE, NULL, 0);
        c.new_id = target_id;
        rc = propose_cmd(s, p, &c, done, ud, err);
    }
    return finish(s, rc);
}

int region_merge_commit(struct region_store *s, uint64_t source_id,
                        region_done_fn done, void *ud, struct region_err *err)
{
    int rc = start(s, done, err);
    if (rc != 0)
        return rc;
    struct region_peer *p = NULL, *t = NULL;
    struct raft_status st;
    rc = merging_source(s, source_id, &p, &t, err);
    if (rc == 0) {
        raft_node_status(p->node, &st);
        if (st.role != RAFT_LEADER) {
            rc = REGION_ENOT_LEADER;
            region__set_err(err, rc, "store %llu does not lead region %llu",
                            (unsigned long long)s->opts.store_id,
                            (unsigned long long)source_id);
            if (err)
                err->leader = st.leader;
        }
    }
    /* every replica of the source holds its log up to the prepare */
    for (uint32_t i = 0; rc == 0 && i < p->desc.n_stores; i++) {
        uint64_t id = p->desc.stores[i];
        raft_index match = 0;
        if (id == s->opts.store_id)
            match = p->applied;
        for (uint32_t j = 0; j < st.n_peers && id != s->opts.store_id; j++)
            if (st.peers[j].id == id)
                match = st.peers[j].match;
        if (match < p->merge_index) {
            rc = REGION_ESERVER_BUSY;
            region__set_err(err, rc,
                            "region %llu: store %llu holds its log to %llu, "
                            "the prepare is at %llu",
                            (unsigned long long)source_id,
                            (unsigned long long)id, (unsigned long long)match,
                            (unsigned long long)p->merge_index);
        }
    }
    struct region_buf body = {0};
    if (rc == 0)
        rc = region__encode_desc(&body, &p->desc, 0);
    if (rc == 0) {
        struct region_cmd c = region__cmd_for(t, REGION_CMD_COMMIT_MERGE,
                                              body.data, body.len);
        of_prepare(&c, source_id, p);
        rc = propose_cmd(s, t, &c, done, ud, err);
    }
    region__buf_free(&body);
    return finish(s, rc);
}

int region_merge_reject(struct region_store *s, uint64_t source_id,
                        region_done_fn done, void *ud, struct region_err *err)
{
    int rc = start(s, done, err);
    if (rc != 0)
        return rc;
    struct region_peer *p = NULL, *t = NULL;
    rc = merging_source(s, source_id, &p, &t, err);
    if (rc == 0) {
        struct region_cmd c =
            region__cmd_for(t, REGION_CMD_REJECT_MERGE, NULL, 0);
        of_prepare(&c, source_id, p);
        rc = propose_cmd(s, t, &c, done, ud, err);
    }
    return finish(s, rc);
}

int region_merge_rollback(struct region_store *s, uint64_t source_id,
                          region_done_fn done, void *ud,
                          struct region_err *err)
{
    int rc = start(s, done, err);
    if (rc != 0)
        return rc;
    struct region_peer *p = NULL;
    uint64_t idx = 0;
    uint8_t what = 0;
    rc = merging_source(s, source_id, &p, NULL, err);
    if (rc == 0)
        rc = decided_get(s, p->merge_target, source_id, &idx, &what);
    if (rc == 0 && (what != DECIDED_REJECTED || idx < p->merge_index)) {
        rc = REGION_ESERVER_BUSY;
        region__set_err(err, rc,
                        "region %llu: no reject of the prepare at %llu "
                        "applied by region %llu here yet",
                        (unsigned long long)source_id,
                        (unsigned long long)p->merge_index,
                        (unsigned long long)p->merge_target);
    }
    if (rc == 0) {
        struct region_cmd c =
            region__cmd_for(p, REGION_CMD_ROLLBACK_MERGE, NULL, 0);
        of_prepare(&c, p->merge_target, p);
        rc = propose_cmd(s, p, &c, done, ud, err);
    }
    return finish(s, rc);
}

/* On the source's leader: whether a replica's log is short of the
 * prepare and cannot be brought to it by appends now: its progress waits
 * for a snapshot (a merging source builds none) or it was not heard from
 * within the election timeout (its store down). The commit would wait for
 * it while the source refuses every request. */
static bool lagging_for_good(struct region_store *s,
                             const struct region_peer *p)
{
    struct raft_status st;
    raft_node_status(p->node, &st);
    if (st.role != RAFT_LEADER)
        return false;
    for (uint32_t j = 0; j < st.n_peers; j++) {
        const struct raft_peer_status *ps = &st.peers[j];
        if (ps->id != s->opts.store_id && !ps->learner &&
            ps->match < p->merge_index &&
            (ps->state == RAFT_PROGRESS_SNAPSHOT || !ps->recent_active))
            return true;
    }
    return false;
}

int region_store_merge_state(struct region_store *s, uint64_t region_id,
                             struct region_merge_state *out)
{
    if (s == NULL || out == NULL)
        return REGION_EINVAL;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    struct region_peer *p = region__find_peer(s, region_id);
    int rc = 0;
    if (p == NULL || !p->initialized) {
        rc = REGION_ENOT_FOUND;
    } else if (p->merge_target != 0) {
        uint64_t idx = 0;
        uint8_t what = 0;
        out->target = p->merge_target;
        out->index = p->merge_index;
        out->term = p->merge_term;
        rc = decided_get(s, p->merge_target, region_id, &idx, &what);
        out->rejected = rc == 0 && what == DECIDED_REJECTED &&
                        idx >= p->merge_index;
        out->stuck = lagging_for_good(s, p);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* store.c: the multi-Raft store: regions (one libraft group each) driven by
 * one loop (region_store_process), their Raft state persisted in the
 * engine with one batch and one sync per iteration (group commit), apply of
 * committed commands, reads by lease/ReadIndex, region errors. DESIGN.md,
 * "The loop", "Persistence", "Errors", "Recovery".
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "region_int.h"

/* ---------------------------------------------------------------------
 * Helpers: logging, errors, lookups.
 */
void region__log(struct region_store *s, int level, const char *fmt, ...)
{
    if (s->opts.log == NULL || level < s->opts.log_level)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->opts.log(s->opts.log_ctx, level, msg);
}

void region__set_err(struct region_err *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

/* A Raft node's line, named by its region (a store runs a node per
 * region, all with the store's id as their node id). */
static void raft_logger(void *ctx, int level, raft_id node, const char *msg)
{
    struct region_peer *p = ctx;
    region__log(p->store, level, "region %llu: raft %llu: %s",
                (unsigned long long)p->desc.id, (unsigned long long)node,
                msg);
}

bool region_desc_contains(const struct region_desc *d, const void *key,
                          size_t len)
{
    if (region__cmp_bytes(key, len, d->start, d->start_len) < 0)
        return false;
    return d->end_len == 0 ||
           region__cmp_bytes(key, len, d->end, d->end_len) < 0;
}

/* Whether [a) and [b) overlap. */
static bool desc_overlap(const struct region_desc *a,
                         const struct region_desc *b)
{
    bool a_before_b =
        a->end_len != 0 &&
        region__cmp_bytes(a->end, a->end_len, b->start, b->start_len) <= 0;
    bool b_before_a =
        b->end_len != 0 &&
        region__cmp_bytes(b->end, b->end_len, a->start, a->start_len) <= 0;
    return !a_before_b && !b_before_a;
}

/* The id index: every peer (initialized or not) by region id, linear
 * probing, deletion by backward shift. */
static size_t idx_slot(uint64_t id, size_t cap)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 20) & (cap - 1);
}

static struct region_peer *idx_get(const struct region_store *s, uint64_t id)
{
    if (s->idx_cap == 0 || id == 0)
        return NULL;
    for (size_t i = idx_slot(id, s->idx_cap);; i = (i + 1) & (s->idx_cap - 1)) {
        if (s->idx_keys[i] == id)
            return s->idx_vals[i];
        if (s->idx_keys[i] == 0)
            return NULL;
    }
}

static int idx_put(struct region_store *s, uint64_t id, struct region_peer *p)
{
    if (2 * (s->idx_n + 1) > s->idx_cap) { /* keep it at most half full */
        size_t cap = s->idx_cap ? 2 * s->idx_cap : 64;
        uint64_t *k = region__calloc(cap, sizeof *k);
        struct region_peer **v = region__calloc(cap, sizeof *v);
        if (k == NULL || v == NULL) {
            region__free(k);
            region__free(v);
            return -ENOMEM;
        }
        for (size_t i = 0; i < s->idx_cap; i++) {
            if (s->idx_keys[i] == 0)
                continue;
            size_t j = idx_slot(s->idx_keys[i], cap);
            while (k[j] != 0)
                j = (j + 1) & (cap - 1);
            k[j] = s->idx_keys[i];
            v[j] = s->idx_vals[i];
        }
        region__free(s->idx_keys);
        region__free(s->idx_vals);
        s->idx_keys = k;
        s->idx_vals = v;
        s->idx_cap = cap;
    }
    size_t i = idx_slot(id, s->idx_cap);
    while (s->idx_keys[i] != 0 && s->idx_keys[i] != id)
        i = (i + 1) & (s->idx_cap - 1);
    if (s->idx_keys[i] == 0)
        s->idx_n++;
    s->idx_keys[i] = id;
    s->idx_vals[i] = p;
    return 0;
}

static void idx_del(struct region_store *s, uint64_t id)
{
    if (s->idx_cap == 0)
        return;
    size_t mask = s->idx_cap - 1, i = idx_slot(id, s->idx_cap);
    while (s->idx_keys[i] != id) {
        if (s->idx_keys[i] == 0)
            return;
        i = (i + 1) & mask;
    }
    s->idx_keys[i] = 0;
    s->idx_n--;
    /* shift back the entries after it that probed past this slot */
    for (size_t j = (i + 1) & mask; s->idx_keys[j] != 0; j = (j + 1) & mask) {
        size_t home = idx_slot(s->idx_keys[j], s->idx_cap);
        bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            s->idx_keys[i] = s->idx_keys[j];
            s->idx_vals[i] = s->idx_vals[j];
            s->idx_keys[j] = 0;
            i = j;
        }
    }
}

/* An initialized region (requests see only these). */
static struct region_peer *find_peer(struct region_store *s, uint64_t id)
{
    struct region_peer *p = idx_get(s, id);
    return p && p->initialized ? p : NULL;
}

/* Every peer, initialized ones first, then those waiting for a snapshot. */
static size_t n_all(const struct region_store *s)
{
    return s->n_peers + s->n_uninit;
}

static struct region_peer *peer_at(struct region_store *s, size_t i)
{
    return i < s->n_peers ? s->peers[i] : s->uninit[i - s->n_peers];
}

static struct region_peer *find_any(struct region_store *s, uint64_t id)
{
    return idx_get(s, id);
}

/* The tombstone of region id on this store, NULL if none. */
static struct region_tomb *find_tomb(const struct region_store *s,
                                     uint64_t id)
{
    for (size_t i = 0; i < s->n_tombs; i++)
        if (s->tombs[i].id == id)
            return &s->tombs[i];
    return NULL;
}

static int add_tomb(struct region_store *s, uint64_t id, uint64_t conf_ver)
{
    struct region_tomb *t = find_tomb(s, id);
    if (t) {
        if (conf_ver > t->conf_ver)
            t->conf_ver = conf_ver;
        return 0;
    }
    t = region__grow(s->tombs, &s->cap_tombs, s->n_tombs + 1, sizeof *t, 8);
    if (t == NULL)
        return -ENOMEM;
    s->tombs = t;
    s->tombs[s->n_tombs++] = (struct region_tomb){id, conf_ver};
    return 0;
}

static void tomb_remove(struct region_store *s, uint64_t id)
{
    struct region_tomb *t = find_tomb(s, id);
    if (t)
        *t = s->tombs[--s->n_tombs];
}

/* Take p out of the uninitialized list (it is not freed). */
static void uninit_remove(struct region_store *s, struct region_peer *p)
{
    for (size_t i = 0; i < s->n_uninit; i++)
        if (s->uninit[i] == p) {
            s->uninit[i] = s->uninit[--s->n_uninit];
            return;
        }
}

static int region_lookup(struct region_store *s, const struct region_ctx *ctx,
                         struct region_peer **out, struct region_err *err)
{
    if (s->closing) {
        region__set_err(err, REGION_ECLOSED, "store %llu is closing",
                        (unsigned long long)s->opts.store_id);
        return REGION_ECLOSED;
    }
    struct region_peer *p = find_peer(s, ctx->region_id);
    if (p == NULL) {
        region__set_err(err, REGION_ENOT_FOUND, "region %llu is not on store %llu",
                        (unsigned long long)ctx->region_id,
                        (unsigned long long)s->opts.store_id);
        return REGION_ENOT_FOUND;
    }
    if ((ctx->version != 0 || ctx->conf_ver != 0) &&
        (ctx->version != p->desc.version || ctx->conf_ver != p->desc.conf_ver)) {
        region__set_err(err, REGION_EEPOCH_NOT_MATCH,
                        "region %llu epoch is (%llu, %llu), request has "
                        "(%llu, %llu)",
                        (unsigned long long)p->desc.id,
                        (unsigned long long)p->desc.conf_ver,
                        (unsigned long long)p->desc.version,
                        (unsigned long long)ctx->conf_ver,
                        (unsigned long long)ctx->version);
        if (err) {
            err->has_region = true;
            err->region = p->desc;
            /* the leader this replica knows (itself when it leads), so the
             * client's next try goes there, not round the replicas */
            raft_id leader = 0;
            (void)raft_node_role(p->node, &leader);
            err->leader = leader;
        }
        return REGION_EEPOCH_NOT_MATCH;
    }
    int rc = region__merge_refuse(p, err);
    if (rc != 0)
        return rc;
    *out = p;
    return 0;
}

int region__peer_lookup(struct region_store *s, const struct region_ctx *ctx,
                        struct region_peer **out, struct region_err *err)
{
    return region_lookup(s, ctx, out, err);
}

int region__key_check(struct region_peer *p, const void *key, size_t len,
                      struct region_err *err)
{
    if (region_desc_contains(&p->desc, key, len))
        return 0;
    region__set_err(err, REGION_EKEY_NOT_IN_REGION,
                    "key (%zu bytes) is not in region %llu", len,
                    (unsigned long long)p->desc.id);
    if (err) {
        err->has_region = true;
        err->region = p->desc;
    }
    return REGION_EKEY_NOT_IN_REGION;
}

/* REGION_ENOT_LEADER, the leader p knows named, unless p leads. */
static int leader_now(struct region_store *s, struct region_peer *p,
                      struct region_err *err)
{
    raft_id leader;
    if (raft_node_role(p->node, &leader) == RAFT_LEADER)
        return 0;
    region__set_err(err, REGION_ENOT_LEADER,
                    "store %llu is not leader of region %llu (leader %llu)",
                    (unsigned long long)s->opts.store_id,
                    (unsigned long long)p->desc.id,
                    (unsigned long long)leader);
    if (err)
        err->leader = leader;
    return REGION_ENOT_LEADER;
}

/* leader_now, and *st filled for callers that need more of it. */
static int leader_check(struct region_store *s, struct region_peer *p,
                        struct raft_status *st, struct region_err *err)
{
    raft_node_status(p->node, st);
    return leader_now(s, p, err);
}

/* A leadership of p at term began, or is first seen (DESIGN "max_ts"):
 * stamp it with a new generation, so async commit and 1PC in it wait for
 * a max_ts sync whose TSO call started after this. Under mu. */
static void note_leadership(struct region_store *s, struct region_peer *p,
                            raft_term term)
{
    if (p->lead_term == term)
        return;
    p->lead_term = term;
    p->lead_gen = __atomic_add_fetch(&s->lead_gen, 1, __ATOMIC_SEQ_CST);
    region__note_change(s, p);
}

void region__note_change(struct region_store *s, struct region_peer *p)
{
    p->report_gen = __atomic_add_fetch(&s->report_gen, 1, __ATOMIC_SEQ_CST);
    if (s->change_fn != NULL)
        s->change_fn(s->change_ctx);
}

void region__notify(struct region_store *s)
{
    if (s->opts.transport.notify)
        s->opts.transport.notify(s->opts.transport.ctx);
}

/* ---------------------------------------------------------------------
 * Completions: collected under the lock, run after it is released.
 */
static struct region_completion *add_completion(struct region_store *s,
                                                region_done_fn done, void *ud,
                                                int rc)
{
    struct region_completion *d =
        region__grow(s->done, &s->cap_done, s->n_done + 1, sizeof *d, 64);
    if (d == NULL)
        return NULL; /* the request is lost; its caller times out */
    s->done = d;
    struct region_completion *c = &s->done[s->n_done++];
    memset(c, 0, sizeof *c);
    c->done = done;
    c->ud = ud;
    c->rc = rc;
    c->err.code = rc;
    return c;
}

static void complete_pending(struct region_store *s, struct region_pending *pd,
                             int rc, const struct region_err *err)
{
    struct region_completion *c = add_completion(s, pd->done, pd->ud, rc);
    if (c && err)
        c->err = *err;
    region__free(pd);
}

/* Unlocks s and runs the completions collected so far. */
static void unlock_and_complete(struct region_store *s)
{
    struct region_completion *done = s->done;
    size_t n = s->n_done;
    s->done = NULL;
    s->n_done = 0;
    s->cap_done = 0;
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        struct region_completion *c = &done[i];
        struct region_reply r = {c->rc, &c->err, c->cas_ok, c->prev_exists,
                                 c->prev, c->prev_len};
        c->done(c->ud, &r);
        region__free(c->prev);
    }
    region__free(done);
}

/* ---------------------------------------------------------------------
 * Peers: creation (fresh or recovered from the engine) and destruction.
 */
/* Takes p off the active list (p->act). */
static void act_drop(struct region_store *s, struct region_peer *p)
{
    for (size_t i = 0; i < s->n_act; i++)
        if (s->act[i] == p) {
            s->act[i] = s->act[--s->n_act];
            break;
        }
    p->act = false;
}

void region__activate(struct region_store *s, struct region_peer *p)
{
    if (p->act)
        return;
    /* node_start keeps cap_act >= n_live, and p is live */
    assert(s->n_act < s->cap_act);
    p->act = true;
    s->act[s->n_act++] = p;
}

/* Whether the loop looks at p: one on peers or uninit (not a source
 * merged away or a peer a split replaced, which wait there to be freed). */
static bool act_linked(const struct region_peer *p)
{
    return !p->merged && !p->replaced;
}

/* The i-th of the n peers on the active list when an iteration began
 * that it looks at, or NULL. Peers put on the list meanwhile wait for the
 * next iteration; one taken off it (nothing before the apply step does)
 * would only move another into its slot, seen then. */
static struct region_peer *act_at(struct region_store *s, size_t i)
{
    if (i >= s->n_act || !act_linked(s->act[i]))
        return NULL;
    return s->act[i];
}

/* Whether p still has work for the loop: what region_store_has_work asks
 * (a removal waits for its readies: their completion activates it). */
static bool act_busy(const struct region_peer *p)
{
    if (p->inst != NULL) /* its install's end activates it */
        return act_linked(p) && p->inst_done;
    return act_linked(p) &&
           (raft_node_has_ready(p->node) || p->rb_n > 0 ||
            (p->removed && p->n_out == 0));
}

/* After an iteration: the active list keeps the peers with work left
 * (in one pass: a tick may have put every awake peer there). */
static void act_settle(struct region_store *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n_act; i++) {
        struct region_peer *p = s->act[i];
        if (act_busy(p))
            s->act[k++] = p;
        else
            p->act = false;
    }
    s->n_act = k;
}

static void peer_free(struct region_peer *p)
{
    if (p == NULL)
        return;
    if (p->node != NULL && p->store != NULL) {
        struct region_store *s = p->store;
        if (p->act)
            act_drop(s, p);
        s->n_live--;
        s->leaders_dirty = true;
    }
    raft_node_destroy(p->node); /* a ready held for an install too (close) */
    raft_memstore_destroy(p->ms);
    region__snap_inst_free(p->inst);
    region__snap_destroy(p);
    mvcc_wbatch_destroy(p->rb); /* failed or flushed before: no requests */
    region__free(p);
}

static int engine_get_u64s(struct mvcc_engine *e, int cf, const uint8_t *key,
                           size_t klen, uint64_t *v, size_t n, bool *found)
{
    uint8_t *val = NULL;
    size_t len = 0;
    int rc = mvcc_engine_get(e, NULL, cf, key, klen, &val, &len);
    *found = false;
    if (rc == MVCC_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (len != 8 * n) {
        mvcc_free(val);
        return REGION_EDECODE;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = region__get_u64(val + 8 * i);
    mvcc_free(val);
    *found = true;
    return 0;
}

/* Reload the log of p from the engine into its memstore. */
static int load_log(struct region_store *s, struct region_peer *p)
{
    uint8_t lo[REGION__KEY_LOG_LEN], hi[REGION__KEY_LOG_LEN];
    region__key_log(lo, p->desc.id, 0);
    region__key_log(hi, p->desc.id + 1, 0);
    struct mvcc_iter_opts io = {lo, sizeof lo, hi, sizeof hi};
    struct mvcc_iter *it = NULL;
    int rc = mvcc_engine_iter(s->opts.engine, NULL, REGION__CF_LOG, &io, &it);
    if (rc != 0)
        return rc;
    rc = it->ops->seek_to_first(it);
    while (rc == 0 && it->ops->valid(it)) {
        size_t kl, vl;
        const uint8_t *k = it->ops->key(it, &kl);
        const uint8_t *v = it->ops->value(it, &vl);
        if (kl != REGION__KEY_LOG_LEN || vl < 9) {
            rc = REGION_EDECODE;
            break;
        }
        struct raft_entry e = {
            .term = region__get_u64(v),
            .index = region__get_u64(k + 10),
            .type = v[8],
            .len = (uint32_t)(vl - 9),
            .data = (void *)(v + 9),
        };
        if (e.len == 0)
            e.data = NULL;
        rc = raft_memstore_append(p->ms, &e, 1);
        if (rc != 0)
            break;
        p->last_index = e.index;
        rc = it->ops->next(it);
    }
    mvcc_iter_destroy(it);
    return rc;
}

uint64_t region__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------------
 * Stage timing of raw batches (stats lat_*; DESIGN.md "Where a put's
 * time goes"): one clock read per batch and stage, none per request.
 */
void region__timed_prop(struct region_peer *p, raft_index index)
{
    if (p->n_timed == REGION__TIMED)
        return; /* enough in flight to sample: this one is not timed */
    struct region_timed *t = &p->timed[p->n_timed++];
    t->index = index;
    t->prop = region__mono_ns();
    t->durable = t->commit = 0;
}

/* The timed entries up to index reached a stage: durable or committed. */
static void timed_mark(struct region_peer *p, raft_index upto, bool commit,
                       uint64_t now)
{
    for (uint32_t i = 0; i < p->n_timed && p->timed[i].index <= upto; i++) {
        uint64_t *at = commit ? &p->timed[i].commit : &p->timed[i].durable;
        if (*at == 0)
            *at = now;
    }
}

/* rd's committed entries are first seen now. */
static void timed_commit(struct region_peer *p, const struct raft_ready *rd)
{
    if (p->n_timed > 0 && rd->n_committed > 0)
        timed_mark(p, rd->committed[rd->n_committed - 1].index, true,
                   region__mono_ns());
}

/* The timed entries p applied: into the stats, out of the list. */
static void timed_applied(struct region_store *s, struct region_peer *p,
                          uint64_t now)
{
    uint32_t n = 0;
    while (n < p->n_timed && p->timed[n].index <= p->applied) {
        const struct region_timed *t = &p->timed[n++];
        s->stats.lat_batches++;
        s->stats.lat_apply_ns += now - t->prop;
        s->stats.lat_commit_ns += (t->commit ? t->commit : now) - t->prop;
        if (t->durable) {
            s->stats.lat_durable_n++;
            s->stats.lat_durable_ns += t->durable - t->prop;
        }
    }
    if (n == 0)
        return;
    p->n_timed -= n;
    memmove(p->timed, p->timed + n, p->n_timed * sizeof *p->timed);
}

/* The Raft lease's clock (region_store_opts.tick_ms): monotonic ms. */
static uint64_t lease_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The Raft node of p over its storage, from p->applied. fresh: p never
 * ran before and never heard from its group (raft_config.fresh). */
static int node_start(struct region_store *s, struct region_peer *p,
                      bool fresh)
{
    int rc;
    struct raft_config c;
    memset(&c, 0, sizeof c);
    c.id = s->opts.store_id;
    c.storage = &p->stor;
    c.applied = p->applied;
    c.election_tick = s->opts.election_tick;
    c.heartbeat_tick = s->opts.heartbeat_tick;
    c.seed = s->opts.seed * 1000003u + p->desc.id;
    c.pre_vote = true;
    c.check_quorum = true;
    c.read_only = RAFT_READ_LEASE;
    c.fresh = fresh;
    if (s->opts.tick_ms > 0 && c.election_tick >= 3) {
        c.now_ms = s->opts.now_ms ? s->opts.now_ms : lease_clock;
        c.clock_ctx = s->opts.clock_ctx;
        c.tick_ms = s->opts.tick_ms;
    } else if (s->opts.tick_ms > 0) {
        c.read_only = RAFT_READ_SAFE; /* no room for the clock's margin */
    }
    c.logger = raft_logger;
    c.logger_ctx = p;
    c.log_level = s->opts.log_level;
    c.max_inflight_readies = REGION__MAX_INFLIGHT;
    /* chunks staged as they come, read as they go (snapshot.c) */
    c.stream_snapshots = true;
    c.snapshot_chunk_bytes = s->opts.snap_chunk_bytes;
    /* room on the active list for every live peer: region__activate
     * never fails */
    struct region_peer **act =
        region__grow(s->act, &s->cap_act, s->n_live + 1, sizeof *act, 16);
    if (act == NULL)
        return -ENOMEM;
    s->act = act;
    rc = raft_node_create(&c, &p->node);
    if (rc != 0)
        return rc;
    s->n_live++;
    s->leaders_dirty = true;
    struct raft_status st;
    raft_node_status(p->node, &st);
    p->term = st.term;
    p->role = st.role;
    p->leader = st.leader;
    region__activate(s, p);
    return 0;
}

static int peer_create_hs(struct region_store *s, const struct region_desc *d,
                          bool recover, const struct raft_hard_state *hs0,
                          struct region_peer **out)
{
    struct region_peer *p = region__calloc(1, sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    p->desc = *d;
    p->store = s;
    p->initialized = true;
    region__storage_init(p);
    int rc = raft_memstore_create(&p->ms);
    if (rc != 0)
        goto err;
    struct raft_conf_state cs;
    region__conf_of(d, &cs);
    uint64_t v[3];
    bool found = false;
    uint8_t k[REGION__KEY_META_LEN];
    if (recover) { /* the log was compacted: start from its last point */
        region__key_meta(k, 'S', d->id);
        rc = engine_get_u64s(s->opts.engine, MVCC_CF_DEFAULT, k, sizeof k, v,
                             2, &found);
        if (rc != 0)
            goto err;
    }
    if (found) {
        struct raft_snapshot sn;
        memset(&sn, 0, sizeof sn);
        sn.meta.index = v[0];
        sn.meta.term = v[1];
        sn.meta.conf = cs;
        rc = raft_memstore_apply_snapshot(p->ms, &sn);
        p->compacted = p->applied = p->last_index = v[0];
    } else {
        rc = raft_memstore_bootstrap(p->ms, &cs);
        p->compacted = p->applied = p->last_index = 1;
        if (rc == 0 && hs0)
            raft_memstore_set_hard_state(p->ms, hs0);
    }
    if (rc != 0)
        goto err;
    if (recover) {
        region__key_meta(k, 'H', d->id);
        rc = engine_get_u64s(s->opts.engine, REGION__CF_LOG, k, sizeof k, v,
                             3, &found);
        if (rc != 0)
            goto err;
        if (found) {
            struct raft_hard_state hs = {v[0], v[1], v[2]};
            /* The snapshot (or bootstrap configuration) at p->compacted is
             * committed by definition. A hard state below it was written
             * by an uninitialized peer that a split's peer then replaced
             * (commit 0, the same term and vote): the split's peer starts
             * at commit 1 with nothing to write until the term, vote or
             * commit moves, and libraft refuses a commit below its
             * snapshot (DESIGN.md "Recovery"). */
            if (hs.commit < p->compacted) {
                region__log(s, REGION_LOG_INFO,
                            "region %llu: hard state's commit %llu below "
                            "its snapshot at %llu: raised to it",
                            (unsigned long long)d->id,
                            (unsigned long long)hs.commit,
                            (unsigned long long)p->compacted);
                hs.commit = p->compacted;
            }
            raft_memstore_set_hard_state(p->ms, &hs);
        }
        region__key_meta(k, 'A', d->id);
        rc = engine_get_u64s(s->opts.engine, MVCC_CF_DEFAULT, k, sizeof k, v,
                             1, &found);
        if (rc != 0)
            goto err;
        if (found && v[0] > p->applied)
            p->applied = v[0];
        rc = load_log(s, p);
        if (rc != 0)
            goto err;
    }
    /* a new group (bootstrap, split) with nothing of an uninitialized
     * peer before it: it never heard from a leader */
    rc = node_start(s, p, !recover && hs0 == NULL);
    if (rc != 0)
        goto err;
    *out = p;
    return 0;
err:
    snprintf(s->errmsg, sizeof s->errmsg, "region %llu: %s",
             (unsigned long long)d->id, region_strerror(rc));
    peer_free(p);
    return rc;
}

static int peer_create(struct region_store *s, const struct region_desc *d,
                       bool recover, struct region_peer **out)
{
    return peer_create_hs(s, d, recover, NULL, out);
}

/* Insert p keeping the peers sorted by start key. */
static int peer_insert(struct region_store *s, struct region_peer *p)
{
    int rc = idx_put(s, p->desc.id, p);
    if (rc != 0)
        return rc;
    struct region_peer **a =
        region__grow(s->peers, &s->cap_peers, s->n_peers + 1, sizeof *a, 16);
    if (a == NULL) {
        idx_del(s, p->desc.id);
        return -ENOMEM;
    }
    s->peers = a;
    size_t i = s->n_peers;
    while (i > 0 && region__cmp_bytes(s->peers[i - 1]->desc.start,
                                      s->peers[i - 1]->desc.start_len,
                                      p->desc.start, p->desc.start_len) > 0) {
        s->peers[i] = s->peers[i - 1];
        i--;
    }
    s->peers[i] = p;
    s->n_peers++;
    s->stats.regions = s->n_peers;
    s->leaders_dirty = true;
    return 0;
}

/* A peer for region id, created because its leader talks to this store
 * (it was added, or this store missed a split): no range, no
 * configuration, an empty log; a snapshot initializes it. conf_ver: the
 * creating message's (what its own messages carry until then); hs: the
 * hard state to start from (NULL: none). */
static int peer_create_uninit(struct region_store *s, uint64_t id,
                              uint64_t conf_ver,
                              const struct raft_hard_state *hs,
                              struct region_peer **out)
{
    struct region_peer **a = region__grow(s->uninit, &s->cap_uninit,
                                          s->n_uninit + 1, sizeof *a, 8);
    if (a == NULL)
        return -ENOMEM;
    s->uninit = a;
    struct region_peer *p = region__calloc(1, sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    p->desc.id = id;
    p->desc.conf_ver = conf_ver;
    p->store = s;
    region__storage_init(p);
    int rc = raft_memstore_create(&p->ms);
    if (rc == 0 && hs)
        raft_memstore_set_hard_state(p->ms, hs);
    if (rc == 0)
        rc = node_start(s, p, false);
    if (rc != 0) {
        peer_free(p);
        return rc;
    }
    if (idx_put(s, id, p) != 0) {
        peer_free(p);
        return -ENOMEM;
    }
    s->uninit[s->n_uninit++] = p;
    region__log(s, REGION_LOG_INFO,
                "region %llu: peer created by its leader's message, waiting "
                "for a snapshot",
                (unsigned long long)id);
    *out = p;
    return 0;
}

/* ---------------------------------------------------------------------
 * Open, close, bootstrap.
 */

/* Stores written before libregion 0.13 kept the Raft log ('L') and the hard
 * states ('H') in CF default, with the data. Open moves them to CF raft
 * before anything reads them (DESIGN.md "Persistence"): each batch puts a
 * run of keys there and deletes the same keys from CF default, so a crash
 * leaves every key in exactly one of the two and the next open moves the
 * rest. A batch holds at most MIGRATE_BATCH_BYTES: one batch for any
 * playground, bounded memory for a store with a long log. */
#define MIGRATE_BATCH_BYTES ((size_t)16 << 20)

static int migrate_flush(struct region_store *s, struct mvcc_wbatch *b,
                         size_t *bytes)
{
    int rc = 0;
    if (mvcc_wbatch_count(b) > 0)
        rc = mvcc_engine_write(s->opts.engine, b, !s->opts.no_sync);
    mvcc_wbatch_clear(b);
    *bytes = 0;
    return rc;
}

static int migrate_log_cf(struct region_store *s)
{
    static const char kinds[] = {'L', 'H'};
    size_t moved[2] = {0, 0}, bytes = 0, batches = 0;
    struct mvcc_wbatch *b = NULL;
    int rc = mvcc_wbatch_create(&b);
    for (size_t i = 0; rc == 0 && i < sizeof kinds; i++) {
        uint8_t lo[2] = {REGION__LOCAL, (uint8_t)kinds[i]};
        uint8_t hi[2] = {REGION__LOCAL, (uint8_t)(kinds[i] + 1)};
        struct mvcc_iter_opts io = {lo, 2, hi, 2};
        struct mvcc_iter *it = NULL;
        rc = mvcc_engine_iter(s->opts.engine, NULL, MVCC_CF_DEFAULT, &io, &it);
        if (rc != 0)
            break;
        for (rc = it->ops->seek_to_first(it); rc == 0 && it->ops->valid(it);
             rc = it->ops->next(it)) {
            size_t kl, vl;
            const uint8_t *k = it->ops->key(it, &kl);
            const uint8_t *v = it->ops->value(it, &vl);
            rc = mvcc_wbatch_put(b, REGION__CF_LOG, k, kl, v, vl);
            if (rc == 0)
                rc = mvcc_wbatch_delete(b, MVCC_CF_DEFAULT, k, kl);
            if (rc != 0)
                break;
            moved[i]++;
            bytes += 2 * kl + vl;
            if (bytes >= MIGRATE_BATCH_BYTES) {
                batches++;
                if ((rc = migrate_flush(s, b, &bytes)) != 0)
                    break;
            }
        }
        mvcc_iter_destroy(it);
    }
    if (rc == 0 && mvcc_wbatch_count(b) > 0) {
        batches++;
        rc = migrate_flush(s, b, &bytes);
    }
    mvcc_wbatch_destroy(b);
    if (rc != 0) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "moving the Raft log to its column family: %s",
                 region_strerror(rc));
        return rc;
    }
    if (moved[0] + moved[1] > 0)
        region__log(s, REGION_LOG_INFO,
                    "moved %zu Raft log entries and %zu hard states from "
                    "column family default to raft (the layout before "
                    "libregion 0.13), in %zu batch(es)",
                    moved[0], moved[1], batches);
    return 0;
}
static int recover_regions(struct region_store *s)
{
    uint8_t lo[2] = {REGION__LOCAL, 'R'}, hi[2] = {REGION__LOCAL, 'R' + 1};
    struct mvcc_iter_opts io = {lo, 2, hi, 2};
    struct mvcc_iter *it = NULL;
    int rc = mvcc_engine_iter(s->opts.engine, NULL, MVCC_CF_DEFAULT, &io, &it);
    if (rc != 0)
        return rc;
    rc = it->ops->seek_to_first(it);
    while (rc == 0 && it->ops->valid(it)) {
        size_t vl;
        const uint8_t *v = it->ops->value(it, &vl);
        struct region_desc d;
        uint8_t state;
        rc = region__decode_desc(v, vl, &d, &state);
        if (rc != 0) {
            snprintf(s->errmsg, sizeof s->errmsg, "malformed region state");
            break;
        }
        if (state == 1)
            rc = add_tomb(s, d.id, d.conf_ver);
        if (state == 0) {
            struct region_peer *p;
            rc = peer_create(s, &d, true, &p);
            if (rc != 0)
                break;
            rc = peer_insert(s, p);
            if (rc != 0) {
                peer_free(p);
                break;
            }
            rc = region__merge_load(s, p);
            if (rc != 0)
                break;
            region__log(s, REGION_LOG_INFO,
                        "region %llu recovered: applied %llu, last index %llu",
                        (unsigned long long)d.id,
                        (unsigned long long)p->applied,
                        (unsigned long long)p->last_index);
        }
        rc = it->ops->next(it);
    }
    mvcc_iter_destroy(it);
    return rc;
}

static int txn_apply_hook(void *ctx, const struct mvcc_wbatch *batch,
                          bool sync);

static void *writer_main(void *arg);
static void wjob_free(struct region_wjob *j);

int region_store_open(const struct region_store_opts *opts,
                      struct region_store **out)
{
    if (opts == NULL || opts->store_id == 0 || opts->engine == NULL ||
        out == NULL)
        return REGION_EINVAL;
    struct region_store *s = region__calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    s->opts = *opts;
    if (s->opts.election_tick <= 0)
        s->opts.election_tick = 10;
    if (s->opts.heartbeat_tick <= 0)
        s->opts.heartbeat_tick = 2;
    if (s->opts.heartbeat_tick >= s->opts.election_tick)
        s->opts.heartbeat_tick = 1;
    if (s->opts.seed == 0)
        s->opts.seed = opts->store_id;
    if (s->opts.max_entry_bytes == 0)
        s->opts.max_entry_bytes = 8u << 20;
    if (s->opts.max_pending == 0)
        s->opts.max_pending = 4096;
    if (s->opts.log_keep_entries == 0)
        s->opts.log_keep_entries = 4096;
    if (s->opts.read_timeout_ticks <= 0)
        s->opts.read_timeout_ticks = 4 * s->opts.election_tick;
    if (s->opts.snap_chunk_bytes == 0)
        s->opts.snap_chunk_bytes = 1u << 20;
    if (s->opts.snap_chunk_bytes < 4096)
        s->opts.snap_chunk_bytes = 4096;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_mutex_init(&s->gc_mu, NULL);
    pthread_cond_init(&s->wcv, NULL);
    pthread_cond_init(&s->dcv, NULL);
    pthread_mutex_init(&s->cmu, NULL);
    pthread_cond_init(&s->ccv, NULL);
    pthread_cond_init(&s->cdcv, NULL);
    int rc = region__zengine_create(opts->engine, &s->zeng);
    if (rc == 0)
        rc = mvcc_wbatch_create(&s->wb);
    if (rc == 0)
        rc = mvcc_wbatch_create(&s->ab);
    if (rc == 0)
        rc = mvcc_wbatch_create(&s->alocks);
    if (rc == 0) {
        uint8_t k[REGION__KEY_META_LEN];
        bool found;
        region__key_meta(k, 'I', 0);
        rc = engine_get_u64s(opts->engine, MVCC_CF_DEFAULT, k, sizeof k,
                             &s->id_seq, 1, &found);
        if (rc == 0) { /* the safe point a sweep started at ("GC") */
            region__key_meta(k, 'V', 0);
            rc = engine_get_u64s(opts->engine, MVCC_CF_DEFAULT, k, sizeof k,
                                 &s->gc_safe_point, 1, &found);
        }
    }
    if (rc == 0) /* before anything reads the log or a hard state */
        rc = migrate_log_cf(s);
    if (rc == 0)
        rc = region__snap_recover(s); /* installs cut by a restart */
    if (rc == 0) { /* after those installs: its lock table loads the CF */
        struct mvcc_store_opts mo;
        memset(&mo, 0, sizeof mo);
        mo.apply = txn_apply_hook;
        mo.apply_ctx = s;
        mo.detector = opts->detector;
        mo.lock_table = !opts->no_lock_table;
        rc = mvcc_store_open(s->zeng, &mo, &s->mvcc);
    }
    if (rc == 0) /* after those installs: they may bring TTL records */
        rc = region__ttl_init(s);
    if (rc == 0)
        rc = recover_regions(s);
    if (rc == 0 && !s->opts.log_on_loop) {
        rc = -pthread_create(&s->writer, NULL, writer_main, s);
        s->writer_on = rc == 0;
        if (rc != 0)
            snprintf(s->errmsg, sizeof s->errmsg,
                     "cannot start the log writer thread");
    }
    if (rc == 0) {
        rc = region__check_start(s);
        if (rc != 0)
            snprintf(s->errmsg, sizeof s->errmsg,
                     "cannot start the split checker thread");
    }
    if (rc != 0) {
        region__log(s, REGION_LOG_ERROR, "open failed: %s (%s)",
                    region_strerror(rc), s->errmsg);
        region_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void region_store_shutdown(struct region_store *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->closing = true;
    struct region_err err;
    memset(&err, 0, sizeof err);
    region__set_err(&err, REGION_ECLOSED, "store is closing");
    for (size_t i = 0; i < n_all(s); i++) {
        struct region_peer *p = peer_at(s, i);
        region__rawbatch_fail(s, p, REGION_ECLOSED, &err);
        while (p->props) {
            struct region_pending *pd = p->props;
            p->props = pd->next;
            complete_pending(s, pd, REGION_ECLOSED, &err);
        }
        p->props_tail = NULL;
        p->n_props = 0;
        while (p->reads) {
            struct region_pending *pd = p->reads;
            p->reads = pd->next;
            complete_pending(s, pd, REGION_ECLOSED, &err);
        }
    }
    unlock_and_complete(s);
}

/* Hold a vote or pre-vote for a region this store has no peer of: the
 * newest from each candidate (one that campaigns again while the split
 * is still to apply here replaces its own, so its retries cannot push
 * other regions' votes out); otherwise the next slot, the oldest held
 * dropped when all are taken. Under s->mu. */
static void hold_vote(struct region_store *s, uint64_t from,
                      const struct region_wire_msg *wm)
{
    struct region_held *h = NULL;
    for (size_t i = 0; i < REGION_HELD_MAX && h == NULL; i++)
        if (s->held[i].raft && s->held[i].from == from &&
            s->held[i].region_id == wm->region_id)
            h = &s->held[i];
    bool fresh = h == NULL;
    if (fresh)
        h = &s->held[s->held_next];
    uint8_t *copy = region__malloc(wm->raft_len);
    if (copy == NULL)
        return; /* dropped, as it would have been */
    memcpy(copy, wm->raft, wm->raft_len);
    region__free(h->raft);
    h->from = from;
    h->region_id = wm->region_id;
    h->raft = copy;
    h->len = wm->raft_len;
    if (fresh)
        s->held_next = (s->held_next + 1) % REGION_HELD_MAX;
}

static void held_free(struct region_store *s)
{
    for (size_t i = 0; i < REGION_HELD_MAX; i++) {
        region__free(s->held[i].raft);
        s->held[i] = (struct region_held){0};
    }
}

static void free_replaced(struct region_store *s);

void region_store_close(struct region_store *s)
{
    if (s == NULL)
        return;
    region_store_shutdown(s);
    if (s->writer_on) {
        /* the writer finishes what it holds; jobs not completed are
         * dropped with their readies (as in a crash after the write) */
        pthread_mutex_lock(&s->wmu);
        s->wstop = true;
        pthread_cond_signal(&s->wcv);
        pthread_mutex_unlock(&s->wmu);
        pthread_join(s->writer, NULL);
        s->writer_on = false;
    }
    region__check_stop(s); /* reads the engine */
    while (s->jobs) {
        struct region_wjob *j = s->jobs;
        s->jobs = j->next;
        wjob_free(j);
    }
    for (size_t i = 0; i < n_all(s); i++)
        peer_free(peer_at(s, i));
    free_replaced(s);
    region__merge_free_all(s);
    held_free(s);
    region__free(s->peers);
    region__free(s->idx_keys);
    region__free(s->idx_vals);
    region__free(s->uninit);
    region__free(s->act);
    region__free(s->tombs);
    region__hib_free(s);
    region__ttl_free(s);
    for (size_t i = 0; i < s->n_out; i++)
        region__buf_free(&s->out[i].buf);
    region__free(s->out);
    mvcc_store_close(s->mvcc);
    if (s->zeng)
        mvcc_engine_destroy(s->zeng);
    mvcc_wbatch_destroy(s->wb);
    mvcc_wbatch_destroy(s->ab);
    mvcc_wbatch_destroy(s->alocks);
    pthread_cond_destroy(&s->wcv);
    pthread_cond_destroy(&s->dcv);
    pthread_cond_destroy(&s->ccv);
    pthread_cond_destroy(&s->cdcv);
    pthread_mutex_destroy(&s->cmu);
    pthread_mutex_destroy(&s->wmu);
    pthread_mutex_destroy(&s->gc_mu);
    pthread_mutex_destroy(&s->mu);
    region__free(s);
}

const char *region_store_errmsg(struct region_store *s)
{
    return s->errmsg;
}

static int desc_valid(const struct region_store *s, const struct region_desc *d)
{
    if (d->id == 0 || d->n_stores == 0 || d->n_stores > REGION_MAX_PEERS ||
        d->start_len > REGION_MAX_BOUND || d->end_len > REGION_MAX_BOUND)
        return REGION_EINVAL;
    if (d->end_len != 0 &&
        region__cmp_bytes(d->start, d->start_len, d->end, d->end_len) >= 0)
        return REGION_EINVAL;
    bool member = false;
    for (uint32_t i = 0; i < d->n_stores; i++) {
        if (d->stores[i] == 0)
            return REGION_EINVAL;
        for (uint32_t j = 0; j < i; j++)
            if (d->stores[j] == d->stores[i])
                return REGION_EINVAL;
        member |= d->stores[i] == s->opts.store_id;
    }
    return member ? 0 : REGION_EINVAL;
}

int region_store_bootstrap(struct region_store *s, const struct region_desc *d)
{
    if (s == NULL || d == NULL)
        return REGION_EINVAL;
    pthread_mutex_lock(&s->mu);
    int rc = desc_valid(s, d);
    struct region_peer *p = NULL;
    struct region_buf b = {0};
    if (rc != 0) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "bad region: empty id, range, or this store not a peer");
        goto out;
    }
    if (find_peer(s, d->id)) {
        rc = REGION_EEXISTS;
        snprintf(s->errmsg, sizeof s->errmsg, "region %llu exists",
                 (unsigned long long)d->id);
        goto out;
    }
    for (size_t i = 0; i < s->n_peers; i++) {
        if (desc_overlap(&s->peers[i]->desc, d)) {
            rc = REGION_EINVAL;
            snprintf(s->errmsg, sizeof s->errmsg,
                     "region %llu overlaps region %llu",
                     (unsigned long long)d->id,
                     (unsigned long long)s->peers[i]->desc.id);
            goto out;
        }
    }
    rc = region__encode_desc(&b, d, 0);
    uint8_t k[REGION__KEY_META_LEN];
    region__key_meta(k, 'R', d->id);
    mvcc_wbatch_clear(s->wb);
    if (rc == 0)
        rc = mvcc_wbatch_put(s->wb, MVCC_CF_DEFAULT, k, sizeof k, b.data, b.len);
    if (rc == 0)
        rc = mvcc_engine_write(s->opts.engine, s->wb, !s->opts.no_sync);
    mvcc_wbatch_clear(s->wb);
    if (rc != 0) {
        snprintf(s->errmsg, sizeof s->errmsg, "writing region state: %s",
                 mvcc_engine_errmsg(s->opts.engine));
        goto out;
    }
    rc = peer_create(s, d, false, &p);
    if (rc == 0) {
        rc = peer_insert(s, p);
        if (rc != 0)
            peer_free(p);
    }
out:
    region__buf_free(&b);
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        region__notify(s);
    return rc;
}

/* ---------------------------------------------------------------------
 * Ticks and incoming messages.
 */
static void fail_reads(struct region_store *s, struct region_peer *p, int code,
                       bool only_old)
{
    struct region_pending **pp = &p->reads;
    while (*pp) {
        struct region_pending *pd = *pp;
        if (only_old && pd->age < s->opts.read_timeout_ticks) {
            pp = &pd->next;
            continue;
        }
        *pp = pd->next;
        struct region_err err;
        memset(&err, 0, sizeof err);
        region__set_err(&err, code,
                        "read on region %llu not confirmed (leader %llu)",
                        (unsigned long long)p->desc.id,
                        (unsigned long long)p->leader);
        err.leader = p->leader == s->opts.store_id ? 0 : p->leader;
        complete_pending(s, pd, code, &err);
    }
}

static void drop_idle_uninit(struct region_store *s);

int region_store_tick(struct region_store *s)
{
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    for (size_t i = 0; i < n_all(s); i++) {
        struct region_peer *p = peer_at(s, i);
        if (p->hib || region__hib_idle_check(s, p))
            continue; /* hibernating: no tick, no reads waiting */
        int r = raft_node_tick(p->node);
        region__activate(s, p);
        s->stats.ticks++;
        if (r != 0 && rc == 0)
            rc = r;
        for (struct region_pending *pd = p->reads; pd; pd = pd->next)
            pd->age++;
        fail_reads(s, p, REGION_ENOT_LEADER, true);
    }
    drop_idle_uninit(s);
    region__hib_tick(s);
    region__ttl_gc(s);
    bool notices = false;
    for (size_t i = 0; i < s->n_out && !notices; i++)
        notices = s->out[i].count > 0;
    unlock_and_complete(s);
    if (notices) /* hibernation notices leave with the next iteration */
        region__notify(s);
    return rc;
}

/* Drop m, the first or last chunk of snapshot d: it overlaps what (said
 * in the log). The leader sends it again later. */
static bool overlap_dropped(struct region_store *s,
                            const struct raft_message *m,
                            const struct region_desc *d,
                            const char *what)
{
    s->stats.snaps_dropped_overlap++;
    region__log(s, REGION_LOG_INFO,
                "region %llu: snapshot at %llu (version %llu) dropped: it "
                "overlaps %s",
                (unsigned long long)d->id,
                (unsigned long long)m->snapshot->meta.index,
                (unsigned long long)d->version, what);
    return true;
}

/* Whether the first or the last chunk of a snapshot for p names a range
 * overlapping another region of this store (which must first learn of
 * its own split or removal), or one another snapshot claims here (being
 * installed, or received whole): then it is dropped, said in the log, and
 * the leader sends it again later. The first chunk's check spares what
 * cannot be installed anyway; the last chunk's is the one that counts,
 * as libraft takes a snapshot in with it (DESIGN "Snapshots that
 * overlap"). */
static bool snapshot_overlaps(struct region_store *s, struct region_peer *p,
                              const struct raft_message *m)
{
    struct region_desc d;
    if (region__snap_chunk_desc(m->snapshot, &d) != 0 &&
        !region__snap_chunk_last(p, m->snapshot, &d))
        return false; /* a chunk in the middle */
    char what[160];
    for (size_t i = 0; i < s->n_peers; i++)
        if (s->peers[i] != p && desc_overlap(&s->peers[i]->desc, &d)) {
            struct region_peer *q = s->peers[i];
            if (region__merge_swallowed(s, q, &d)) {
                i = (size_t)-1; /* it left s->peers: look again */
                continue;
            }
            char merging[64] = "";
            if (q->merge_target != 0)
                snprintf(merging, sizeof merging, ", merging into region %llu",
                         (unsigned long long)q->merge_target);
            snprintf(what, sizeof what,
                     "region %llu here (version %llu%s), not inside it",
                     (unsigned long long)q->desc.id,
                     (unsigned long long)q->desc.version, merging);
            return overlap_dropped(s, m, &d, what);
        }
    /* nor one another snapshot claims: that peer takes its range once
     * installed, and this one, installed first, would be a region of its
     * own there when the other applies the split that made it */
    for (size_t i = 0; i < n_all(s); i++) {
        struct region_peer *q = peer_at(s, i);
        struct region_desc qd;
        const char *doing = q != p ? region__snap_claim(q, &qd) : NULL;
        if (doing != NULL && qd.id != d.id && desc_overlap(&qd, &d)) {
            snprintf(what, sizeof what,
                     "the snapshot of region %llu (version %llu) %s here",
                     (unsigned long long)qd.id, (unsigned long long)qd.version,
                     doing);
            return overlap_dropped(s, m, &d, what);
        }
    }
    return false;
}

/* Whether p is a merging source whose target is not a region of this
 * store: the target's replica here was dropped (stale, its range taken
 * by a newer snapshot), so nothing here will take p in; the target's own
 * snapshot brings p's data. Only then does a "merged away" notice drop
 * p: a target here still needs p's log to take it in (catch_up). A p
 * not marked merging may hold the prepare in its log, never learnt
 * committed (stopped between its append and the next message): its
 * target is the one that prepare names. *target gets the target (0:
 * none known). */
static bool merge_orphan(struct region_store *s, struct region_peer *p,
                         uint64_t *target)
{
    *target = p->merge_target != 0 ? p->merge_target
                                   : region__merge_logged_target(p);
    if (*target == 0)
        return false;
    struct region_peer *t = find_peer(s, *target);
    return t == NULL || !t->initialized;
}

/* A message for region id from store `from`, which this store holds as
 * merged away (its tombstone's conf_ver is UINT64_MAX, put by the commit
 * that took it in): from's replica was left behind (a restart between
 * the prepare and the commit). Tell it, as a removal notice at that
 * conf_ver; it goes if nothing on its store will take it in
 * (merge_orphan). Else it would stay merging and refuse every snapshot
 * overlapping it (s8 chaos runs 7 and 9: a replica waiting for one for
 * minutes, the leader resending it every second). */
static void tell_merged(struct region_store *s, uint64_t id, uint64_t from)
{
    struct region_tomb *t = find_tomb(s, id);
    if (t != NULL && t->conf_ver == UINT64_MAX)
        region__queue_ctl(s, from, id, UINT64_MAX, 0);
}

static struct region_outbox *outbox(struct region_store *s, uint64_t to);

/* Tell store to, which sent for region p from an older membership
 * without itself in p's, that it was removed (it missed the commit of its
 * removal: the leader stops talking to it at once). */
static void queue_notice(struct region_store *s, struct region_peer *p,
                         uint64_t to, uint64_t conf_ver)
{
    region__queue_ctl(s, to, p->desc.id, conf_ver, p->desc.version);
}

void region__queue_ctl(struct region_store *s, uint64_t to,
                       uint64_t region_id, uint64_t conf_ver,
                       uint64_t version)
{
    struct region_outbox *o = outbox(s, to);
    if (o == NULL)
        return;
    if (o->count == 0) {
        o->buf.len = 0;
        o->buf.oom = false;
        region__msgs_begin(&o->buf, s->opts.store_id);
    }
    struct region_wire_msg wm = {region_id, conf_ver, version, NULL, 0};
    region__msgs_add(&o->buf, &wm, NULL);
    o->count++;
}

/* An uninitialized peer told it is no member at conf_ver (its store was
 * removed before a snapshot made it a replica): it goes, with nothing to
 * delete but its hard state, which stays for a later peer's votes. The
 * tombstone is kept in memory only (the peer never had a region state);
 * after a restart a stale message may make such a peer again, and a
 * notice drops it again. No ready of an uninitialized peer is ever out
 * between iterations (they never go to the writer thread). */
static void drop_uninit(struct region_store *s, struct region_peer *p,
                        uint64_t conf_ver)
{
    uint64_t id = p->desc.id;
    uninit_remove(s, p);
    idx_del(s, id);
    peer_free(p);
    (void)add_tomb(s, id, conf_ver); /* -ENOMEM: a message may make it
                                        again, and a notice drop it */
    region__log(s, REGION_LOG_INFO,
                "region %llu: uninitialized peer dropped: this store is "
                "not a member at conf_ver %llu",
                (unsigned long long)id, (unsigned long long)conf_ver);
}

/* A peer for a region this store does not hold and never left, made by
 * its leader's message. A hard state persisted for the id (one dropped
 * for idling had given it) is where it starts, so it never votes twice
 * in a term. */
static int peer_create_fresh(struct region_store *s, uint64_t id,
                             uint64_t conf_ver, struct region_peer **out)
{
    uint64_t v[3] = {0, 0, 0};
    bool found = false;
    uint8_t k[REGION__KEY_META_LEN];
    region__key_meta(k, 'H', id);
    int rc = engine_get_u64s(s->opts.engine, REGION__CF_LOG, k, sizeof k, v,
                             3, &found);
    if (rc != 0)
        return rc;
    struct raft_hard_state hs = {v[0], v[1], 0};
    return peer_create_uninit(s, id, conf_ver, found ? &hs : NULL, out);
}

/* Uninitialized peers silent for REGION__UNINIT_IDLE_ELECTIONS election
 * timeouts go, without a tombstone: if their leader speaks again one is
 * made again, starting from the hard state they persisted. */
static void drop_idle_uninit(struct region_store *s)
{
    int limit = REGION__UNINIT_IDLE_ELECTIONS * s->opts.election_tick;
    for (size_t i = 0; i < s->n_uninit;) {
        struct region_peer *p = s->uninit[i];
        if (++p->idle_ticks <= limit || p->inst != NULL) {
            i++;
            continue;
        }
        region__log(s, REGION_LOG_INFO,
                    "region %llu: uninitialized peer dropped: nothing heard "
                    "for %d ticks",
                    (unsigned long long)p->desc.id, p->idle_ticks);
        uninit_remove(s, p); /* the last one takes slot i */
        idx_del(s, p->desc.id);
        peer_free(p);
        s->stats.uninit_dropped++;
    }
}

/* A leader's message m for a region this store left (tombstone t), sent
 * from a membership newer than the one it left: the store was added back.
 * A fresh peer is made (a snapshot brings the data). It starts from the
 * old peer's term and vote, kept with the tombstone, so it never votes
 * twice in one term; when the leader's term is newer it starts in that
 * term having "voted" for the leader, so a stale candidate of that term
 * cannot collect its vote either. */
static int peer_recreate(struct region_store *s, struct region_tomb *t,
                         const struct region_wire_msg *wm,
                         const struct raft_message *m,
                         struct region_peer **out)
{
    struct raft_hard_state hs = {m->term, m->from, 0};
    uint64_t v[3];
    bool found = false;
    uint8_t k[REGION__KEY_META_LEN];
    uint64_t id = t->id, left = t->conf_ver;
    region__key_meta(k, 'H', id);
    int rc = engine_get_u64s(s->opts.engine, REGION__CF_LOG, k, sizeof k, v,
                             3, &found);
    if (rc != 0)
        return rc;
    if (found && v[0] > m->term) {
        hs.term = v[0];
        hs.vote = v[1];
    } else if (found && v[0] == m->term && v[1] != 0) {
        hs.vote = v[1];
    }
    rc = peer_create_uninit(s, id, wm->conf_ver, &hs, out);
    if (rc != 0)
        return rc;
    tomb_remove(s, id); /* its record stays until the snapshot lands */
    region__log(s, REGION_LOG_INFO,
                "region %llu: this store was added back (conf_ver %llu, "
                "left at %llu): a fresh peer at term %llu",
                (unsigned long long)id, (unsigned long long)wm->conf_ver,
                (unsigned long long)left, (unsigned long long)hs.term);
    s->stats.peers_recreated++;
    return 0;
}

int region_store_receive(struct region_store *s, const void *buf, size_t len)
{
    uint64_t from;
    size_t n;
    int rc = region_msgs_check(buf, len, &from, &n);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&s->mu);
    region__hib_heard(s, from); /* store liveness (an empty batch too) */
    size_t off = 0;
    struct region_wire_msg wm;
    while (region__msgs_next(buf, len, &off, &wm) == 0) {
        if (wm.raft_len == 0 && wm.conf_ver == 0) { /* hibernation notice */
            struct region_peer *hp = find_peer(s, wm.region_id);
            if (hp)
                region__hib_notice(s, hp, from, wm.version);
            continue;
        }
        if (wm.raft_len == 0) { /* removal notice */
            struct region_peer *u = find_any(s, wm.region_id);
            if (u && !u->initialized && u->desc.conf_ver < wm.conf_ver) {
                if (u->inst == NULL) /* else it is installing a snapshot:
                                        that decides (a notice again) */
                    drop_uninit(s, u, wm.conf_ver);
                continue;
            }
            struct region_peer *p = find_peer(s, wm.region_id);
            uint64_t target = 0;
            if (p && wm.conf_ver == UINT64_MAX && !merge_orphan(s, p, &target))
                continue; /* "merged away": only a source left behind */
            if (p && p->desc.conf_ver < wm.conf_ver && !p->removed) {
                p->removed = true;
                region__activate(s, p);
                p->gone_conf_ver = wm.conf_ver;
                if (wm.conf_ver == UINT64_MAX) {
                    s->stats.merged_notices++;
                    region__log(s, REGION_LOG_INFO,
                                "region %llu: store %llu says it was merged "
                                "away; its target region %llu is not here: "
                                "dropped",
                                (unsigned long long)wm.region_id,
                                (unsigned long long)from,
                                (unsigned long long)target);
                } else {
                    region__log(s, REGION_LOG_INFO,
                                "region %llu: store %llu says this store "
                                "was removed (conf_ver %llu)",
                                (unsigned long long)wm.region_id,
                                (unsigned long long)from,
                                (unsigned long long)wm.conf_ver);
                }
            }
            continue;
        }
        struct region_peer *sp = find_peer(s, wm.region_id);
        if (sp && wm.conf_ver < sp->desc.conf_ver) {
            bool member = false;
            for (uint32_t j = 0; j < sp->desc.n_stores; j++)
                member |= sp->desc.stores[j] == from;
            if (!member)
                queue_notice(s, sp, from, sp->desc.conf_ver);
            uint64_t joined = region__joined_at(sp, from);
            if (member && wm.conf_ver < joined) {
                /* from a peer of from older than its latest add: drop it,
                 * and have that peer go (a fresh one replaces it) */
                queue_notice(s, sp, from, joined - 1);
                continue;
            }
        }
        struct raft_message *m = NULL;
        int r = raft_msg_decode(wm.raft, wm.raft_len, &m);
        if (r != 0) {
            rc = REGION_EDECODE;
            continue;
        }
        if (m->type == RAFT_MSG_SNAPSHOT &&
            !region__snap_chunk_ok(s, wm.region_id, m, from)) {
            raft_msg_free(m); /* corrupt: the leader sends it again */
            continue;
        }
        struct region_peer *p = find_any(s, wm.region_id);
        bool from_leader = m->type == RAFT_MSG_APPEND ||
                           m->type == RAFT_MSG_HEARTBEAT ||
                           m->type == RAFT_MSG_SNAPSHOT;
        if (p == NULL && from_leader && m->term > 0 && !s->closing &&
            m->to == s->opts.store_id && m->from == from) {
            struct region_tomb *t = find_tomb(s, wm.region_id);
            if (t == NULL)
                (void)peer_create_fresh(s, wm.region_id, wm.conf_ver, &p);
            else if (t->conf_ver < wm.conf_ver) /* else: stale, dropped */
                (void)peer_recreate(s, t, &wm, m, &p);
        }
        if (p == NULL && (m->type == RAFT_MSG_VOTE ||
                          m->type == RAFT_MSG_PREVOTE) &&
            m->term > 0 && !s->closing && m->to == s->opts.store_id &&
            m->from == from && find_tomb(s, wm.region_id) == NULL) {
            /* perhaps born of a split not applied here yet */
            hold_vote(s, from, &wm);
            raft_msg_free(m);
            continue;
        }
        if (p == NULL && m->to == s->opts.store_id && m->from == from)
            tell_merged(s, wm.region_id, from);
        if (p == NULL || (m->type == RAFT_MSG_SNAPSHOT &&
                          snapshot_overlaps(s, p, m))) {
            region__log(s, REGION_LOG_DEBUG,
                        "message for region %llu from store %llu dropped",
                        (unsigned long long)wm.region_id,
                        (unsigned long long)from);
            raft_msg_free(m);
            continue;
        }
        s->stats.msgs_received++;
        p->idle_ticks = 0;
        if (m->type == RAFT_MSG_SNAPSHOT && m->to == s->opts.store_id &&
            m->from == from && !region__snap_chunk_in_order(s, p, m, from)) {
            raft_msg_free(m);
            continue;
        }
        if (m->to == s->opts.store_id && m->from == from) {
            if (m->type == RAFT_MSG_SNAPSHOT)
                p->snap_seen = true; /* its next ready stays on the loop */
            if (region__hib_wakes((int)m->type))
                region__hib_wake(s, p);
            (void)raft_node_step(p->node, m); /* refusals are informational */
            region__activate(s, p);
            if (p->hib && raft_node_has_ready(p->node))
                region__hib_wake(s, p); /* a late response made work */
        }
        raft_msg_free(m);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---------------------------------------------------------------------
 * The loop.
 */
static struct region_outbox *outbox(struct region_store *s, uint64_t to)
{
    for (size_t i = 0; i < s->n_out; i++)
        if (s->out[i].store == to)
            return &s->out[i];
    struct region_outbox *o =
        region__grow(s->out, &s->cap_out, s->n_out + 1, sizeof *o, 8);
    if (o == NULL)
        return NULL;
    s->out = o;
    o = &s->out[s->n_out++];
    memset(o, 0, sizeof *o);
    o->store = to;
    return o;
}

static void send_batch(struct region_store *s, struct region_outbox *o);

static void queue_msgs(struct region_store *s, struct region_peer *p,
                       const struct raft_message *ms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct region_outbox *o = outbox(s, ms[i].to);
        if (o == NULL)
            continue; /* lost: Raft retries */
        if (o->count == 0) {
            o->buf.len = 0;
            o->buf.oom = false;
            region__msgs_begin(&o->buf, s->opts.store_id);
        }
        struct region_wire_msg wm = {p->desc.id, p->desc.conf_ver,
                                     p->desc.version, NULL, 0};
        region__msgs_add(&o->buf, &wm, &ms[i]);
        o->count++;
        if (o->buf.len >= REGION__BATCH_BYTES) /* the rest in another */
            send_batch(s, o);
    }
}

static void send_batch(struct region_store *s, struct region_outbox *o)
{
    region__msgs_finish(&o->buf, o->count);
    if (!o->buf.oom && s->opts.transport.send)
        s->opts.transport.send(s->opts.transport.ctx, o->store, o->buf.data,
                               o->buf.len);
    s->stats.msgs_sent += o->count;
    o->count = 0;
    o->buf.len = 0;
    o->buf.oom = false;
}

static void flush_outboxes(struct region_store *s)
{
    for (size_t i = 0; i < s->n_out; i++)
        if (s->out[i].count > 0)
            send_batch(s, &s->out[i]);
}

/* Raft entries and hard state of one ready into s->wb. */
static int persist_ready(struct region_store *s, struct region_peer *p,
                         const struct raft_ready *rd)
{
    int rc = 0;
    uint8_t k[REGION__KEY_LOG_LEN], k2[REGION__KEY_LOG_LEN];
    struct region_buf v = {0};
    for (size_t i = 0; i < rd->n_entries && rc == 0; i++) {
        const struct raft_entry *e = &rd->entries[i];
        region__key_log(k, p->desc.id, e->index);
        v.len = 0;
        region__buf_u64(&v, e->term);
        region__buf_u8(&v, (uint8_t)e->type);
        region__buf_put(&v, e->data, e->len);
        if (v.oom)
            rc = -ENOMEM;
        else
            rc = mvcc_wbatch_put(s->wb, REGION__CF_LOG, k, sizeof k, v.data,
                                 v.len);
    }
    if (rc == 0 && rd->n_entries > 0) {
        raft_index last = rd->entries[rd->n_entries - 1].index;
        if (last < p->last_index) {
            /* a conflicting suffix was replaced: drop what lies past it */
            region__key_log(k, p->desc.id, last + 1);
            region__key_log(k2, p->desc.id, p->last_index + 1);
            rc = mvcc_wbatch_delete_range(s->wb, REGION__CF_LOG, k, sizeof k,
                                          k2, sizeof k2);
        }
    }
    if (rc == 0 && rd->hard_changed) {
        uint8_t hk[REGION__KEY_META_LEN], hv[24];
        region__key_meta(hk, 'H', p->desc.id);
        region__put_u64(hv, rd->hs.term);
        region__put_u64(hv + 8, rd->hs.vote);
        region__put_u64(hv + 16, rd->hs.commit);
        rc = mvcc_wbatch_put(s->wb, REGION__CF_LOG, hk, sizeof hk, hv, 24);
    }
    region__buf_free(&v);
    return rc;
}

/* Flush the apply batch (so a CAS reads what came before it); the lock
 * table takes its txn locks after the engine did (DESIGN.md
 * "Transactions"), before any command it answers is completed. */
static int flush_apply(struct region_store *s)
{
    if (mvcc_wbatch_count(s->ab) == 0)
        return 0;
    int rc = mvcc_store_write_applied(s->mvcc, s->opts.engine, s->ab,
                                      s->alocks, false);
    mvcc_wbatch_clear(s->ab);
    mvcc_wbatch_clear(s->alocks);
    return rc;
}

/* tmp's lock-CF ops (an applied txn batch, unprefixed) into s->alocks. */
static int note_locks(struct region_store *s, const struct mvcc_wbatch *tmp)
{
    size_t n = mvcc_wbatch_count(tmp);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(tmp, i, &op);
        if (op.cf != MVCC_CF_LOCK)
            continue;
        if (op.type == MVCC_WOP_PUT)
            rc = mvcc_wbatch_put(s->alocks, op.cf, op.key, op.key_len,
                                 op.value, op.value_len);
        else if (op.type == MVCC_WOP_DELETE)
            rc = mvcc_wbatch_delete(s->alocks, op.cf, op.key, op.key_len);
        else
            rc = mvcc_wbatch_delete_range(s->alocks, op.cf, op.key,
                                          op.key_len, op.value, op.value_len);
    }
    return rc;
}

int region__reload_locks(struct region_store *s,
                          const struct region_range r[REGION__N_RANGES])
{
    if (s->mvcc == NULL)
        return 0; /* at open, before the table is loaded */
    for (int i = 0; i < REGION__N_RANGES; i++) {
        if (r[i].cf != MVCC_CF_LOCK || i == REGION__RANGE_TTL)
            continue;
        /* libmvcc's keys are the engine's without the 'z'; the end of
         * the prefix is no bound at all */
        bool open_end = r[i].hi_len == 1 && r[i].hi[0] == REGION__TXN + 1;
        int rc = mvcc_store_reload_locks(
            s->mvcc, r[i].lo + 1, r[i].lo_len - 1,
            open_end ? NULL : r[i].hi + 1, open_end ? 0 : r[i].hi_len - 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

struct apply_out {
    int rc;                /* command outcome */
    struct region_err err; /* its detail */
    bool cas_ok;           /* CAS */
    bool prev_exists;      /* CAS */
    uint8_t *prev;         /* CAS previous value (mvcc_malloc'd) */
    size_t prev_len;       /* its length */
};

static int put_region_state(struct mvcc_wbatch *b, const struct region_desc *d)
{
    struct region_buf v = {0};
    uint8_t k[REGION__KEY_META_LEN];
    region__key_meta(k, 'R', d->id);
    int rc = region__encode_desc(&v, d, 0);
    if (rc == 0)
        rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, sizeof k, v.data, v.len);
    region__buf_free(&v);
    return rc;
}

/* Split p at c->key: both region states go into the apply batch with the
 * apply state (atomic), the new region's peer starts now. */
static int apply_split(struct region_store *s, struct region_peer *p,
                       const struct region_cmd *c, struct apply_out *out)
{
    const struct region_desc *d = &p->desc;
    raft_term early_term = 0;
    raft_id early_vote = 0;
    if (c->key_len == 0 || c->key_len > REGION_MAX_BOUND ||
        !region_desc_contains(d, c->key, c->key_len) ||
        region__cmp_bytes(c->key, c->key_len, d->start, d->start_len) == 0) {
        out->rc = REGION_EKEY_NOT_IN_REGION;
        region__set_err(&out->err, out->rc,
                        "split key not strictly inside region %llu",
                        (unsigned long long)d->id);
        out->err.has_region = true;
        out->err.region = *d;
        return 0;
    }
    struct region_peer *early = find_any(s, c->new_id);
    /* one installing a snapshot is taken as installed already (as if its
     * install had come first in the loop): that snapshot is newer than
     * this split, which gets EEXISTS as for an initialized one. A guard:
     * the snapshot's last chunk found the parent here holding its range
     * (snapshot_overlaps), so none is installing when the parent splits */
    if (early && !early->initialized && early->inst == NULL) {
        /* its leader reached us before this split did: the split's peer
         * replaces it, keeping the term and vote it may have given */
        struct raft_status st;
        raft_node_status(early->node, &st);
        early_term = st.term;
        early_vote = st.vote;
        uninit_remove(s, early);
        idx_del(s, early->desc.id);
        /* not freed yet: it may have a ready in this very iteration,
         * which steps 3 and 4 of finish_readies would still touch */
        early->replaced = true;
        early->next_replaced = s->replaced;
        s->replaced = early;
        s->stats.split_replaced_uninit++;
        early = NULL;
    }
    if (early) {
        out->rc = REGION_EEXISTS;
        region__set_err(&out->err, out->rc, "region %llu exists",
                        (unsigned long long)c->new_id);
        return 0;
    }
    struct region_desc left = *d, right = *d;
    left.version++;
    memcpy(left.end, c->key, c->key_len);
    left.end_len = (uint32_t)c->key_len;
    right.id = c->new_id;
    right.version = left.version;
    memcpy(right.start, c->key, c->key_len);
    right.start_len = (uint32_t)c->key_len;
    int rc = put_region_state(s->ab, &left);
    if (rc == 0)
        rc = put_region_state(s->ab, &right);
    struct region_peer *np = NULL;
    if (rc == 0)
        rc = early_term ? peer_create_hs(s, &right, false,
                                         &(struct raft_hard_state){
                                             early_term, early_vote, 1},
                                         &np)
                        : peer_create(s, &right, false, &np);
    if (rc == 0) {
        rc = peer_insert(s, np);
        if (rc != 0)
            peer_free(np);
    }
    if (rc != 0)
        return rc;
    p->desc = left;
    region__note_change(s, p);
    p->split_from = p->applied_bytes;
    p->split_next = 0;
    p->split_pending = false;
    /* born of a region led here, the new region's leader is here at once
     * (it campaigns after the apply batch), not wherever an election
     * timeout fires first: writes to it wait no timeout, and leaders stay
     * where pdd put them */
    np->born_led = p->role == RAFT_LEADER;
    np->born_next = s->born;
    s->born = np;
    region__snap_free(p); /* it describes the old range */
    s->stats.splits++;
    region__log(s, REGION_LOG_INFO,
                "region %llu split: region %llu takes %zu-byte key on, "
                "version %llu",
                (unsigned long long)left.id, (unsigned long long)right.id,
                c->key_len, (unsigned long long)left.version);
    return 0;
}

/* Apply one command entry into s->ab. Returns an engine error (fatal for
 * the iteration); the command's own outcome goes to out. */
static int apply_cmd(struct region_store *s, struct region_peer *p,
                     const struct raft_entry *e, struct mvcc_wbatch *tmp,
                     struct apply_out *out)
{
    struct region_cmd c;
    memset(out, 0, sizeof *out);
    if (region__cmd_decode(e->data, e->len, &c) != 0 ||
        c.region_id != p->desc.id) {
        region__set_err(&out->err, REGION_EDECODE,
                        "region %llu: malformed command at index %llu",
                        (unsigned long long)p->desc.id,
                        (unsigned long long)e->index);
        out->rc = REGION_EDECODE;
        return 0;
    }
    if (c.type >= REGION_CMD_PREPARE_MERGE &&
        c.type <= REGION_CMD_REJECT_MERGE) /* epochs checked there */
        return region__merge_apply(s, p, &c, e, tmp, &out->rc, &out->err);
    if (c.version != p->desc.version) {
        out->rc = REGION_EEPOCH_NOT_MATCH;
        region__set_err(&out->err, out->rc, "region %llu changed version",
                        (unsigned long long)p->desc.id);
        out->err.has_region = true;
        out->err.region = p->desc;
        return 0;
    }
    if (c.type == REGION_CMD_SPLIT)
        return apply_split(s, p, &c, out);
    if (c.type == REGION_CMD_TTL_GC) { /* reads the applied state */
        int rc = flush_apply(s);
        return rc != 0 ? rc : region__ttl_apply_gc(s, &c, tmp);
    }
    if (c.type == REGION_CMD_CAS) {
        int rc = flush_apply(s);
        if (rc != 0)
            return rc;
        uint8_t *key = region__malloc(c.key_len + 1);
        if (key == NULL)
            return -ENOMEM;
        key[0] = REGION__RAW;
        memcpy(key + 1, c.key, c.key_len);
        uint8_t *cur = NULL;
        size_t cur_len = 0;
        rc = mvcc_engine_get(s->opts.engine, NULL, MVCC_CF_DEFAULT, key,
                             c.key_len + 1, &cur, &cur_len);
        if (rc != 0 && rc != MVCC_NOTFOUND) {
            region__free(key);
            return rc;
        }
        bool exists = rc == 0;
        bool match = exists == c.expect_exists &&
                     (!exists || (cur_len == c.expect_len &&
                                  (cur_len == 0 ||
                                   memcmp(cur, c.expect, cur_len) == 0)));
        rc = 0;
        if (match && c.del)
            rc = mvcc_wbatch_delete(s->ab, MVCC_CF_DEFAULT, key, c.key_len + 1);
        else if (match)
            rc = mvcc_wbatch_put(s->ab, MVCC_CF_DEFAULT, key, c.key_len + 1,
                                 c.value, c.value_len);
        if (match && rc == 0 && c.expire_ms != 0) { /* its TTL record */
            uint8_t rec[REGION__TTL_LEN];
            region__put_u64(rec, c.expire_ms);
            rc = mvcc_wbatch_put(s->ab, MVCC_CF_LOCK, key, c.key_len + 1, rec,
                                 sizeof rec);
            region__ttl_note(s);
        } else if (match && rc == 0) { /* swapped without TTL: none */
            rc = mvcc_wbatch_delete(s->ab, MVCC_CF_LOCK, key, c.key_len + 1);
        }
        region__free(key);
        out->cas_ok = match;
        out->prev_exists = exists;
        out->prev = cur;
        out->prev_len = cur_len;
        return rc;
    }
    mvcc_wbatch_clear(tmp);
    int rc = mvcc_wbatch_decode(tmp, c.body, c.body_len);
    if (rc != 0) {
        out->rc = REGION_EDECODE;
        region__set_err(&out->err, out->rc, "malformed batch at index %llu",
                        (unsigned long long)e->index);
        return 0;
    }
    size_t nops = mvcc_wbatch_count(tmp);
    for (size_t i = 0; i < nops; i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(tmp, i, &op);
        p->applied_bytes += op.key_len + op.value_len;
        if (op.type == MVCC_WOP_DELETE_RANGE ||
            (op.type == MVCC_WOP_DELETE && op.cf == MVCC_CF_DEFAULT &&
             c.type == REGION_CMD_RAW))
            p->data_gen++; /* a kept size is too big now (a region emptied
                              key by key must look empty to pdd's merge
                              checker) */
        if (op.cf == MVCC_CF_LOCK && op.type == MVCC_WOP_PUT &&
            c.type == REGION_CMD_RAW)
            region__ttl_note(s); /* a raw TTL record */
        if (op.cf == MVCC_CF_WRITE && op.type == MVCC_WOP_PUT &&
            c.type == REGION_CMD_TXN && op.key_len >= 8) {
            /* a write record: enc(user key) ~ts (libmvcc DESIGN "Keys");
             * MVCC GC sweeps the region again ("GC") */
            uint64_t ts = ~region__get_u64(op.key + op.key_len - 8);
            if (ts > p->gc_max_ts)
                p->gc_max_ts = ts;
            if (ts > p->gc_applied_ts)
                p->gc_applied_ts = ts;
        }
    }
    /* A raw put without TTL or a delete carries a delete of the key's
     * TTL record (proposed always: the proposer cannot know what exists at
     * apply). Applied only on a store that may hold a record: on one that
     * never held any it deletes nothing, and a memtable delete costs
     * about what a put does (DESIGN.md "Raw TTL"). The flag only ever
     * turns on, at open, at an applied record (the loop above, before
     * this) and at a snapshot install, so the data stays the same as
     * with the delete on every replica. */
    if (c.type == REGION_CMD_RAW && !region__ttl_maybe(s))
        return region__wbatch_prefixed_nolockdel(s->ab, tmp, REGION__RAW);
    if (c.type == REGION_CMD_TXN) {
        rc = note_locks(s, tmp);
        if (rc != 0)
            return rc;
    }
    return region__wbatch_prefixed(s->ab, tmp,
                                   c.type == REGION_CMD_RAW ? REGION__RAW
                                                            : REGION__TXN);
}

/* A membership change, applied by every peer: the region's stores and
 * conf_ver follow it (libraft applies it to the group at advance). A peer
 * that sees itself removed is destroyed after this iteration. */
static int apply_conf_change(struct region_store *s, struct region_peer *p,
                             const struct raft_entry *e)
{
    struct raft_conf_change cc;
    if (raft_conf_change_decode(e->data, e->len, &cc) != 0 ||
        cc.n_changes == 0)
        return 0; /* leaving a joint state, or skipped alike everywhere */
    struct region_desc d = p->desc;
    d.conf_ver++;
    for (uint32_t i = 0; i < cc.n_changes; i++) {
        const struct raft_change *ch = &cc.changes[i];
        bool was = false;
        for (uint32_t j = 0; j < d.n_stores; j++)
            was |= d.stores[j] == ch->id;
        (void)region__desc_change(&d, ch->type, ch->id); /* full: skipped
                                                          alike everywhere */
        if (ch->type == RAFT_CHANGE_REMOVE)
            region__joined_drop(p, ch->id);
        else if (!was)
            region__joined_note(p, ch->id, d.conf_ver);
    }
    p->desc = d;
    region__snap_free(p);
    region__note_change(s, p);
    bool member = false;
    for (uint32_t j = 0; j < d.n_stores; j++)
        member |= d.stores[j] == s->opts.store_id;
    region__log(s, REGION_LOG_INFO,
                "region %llu: membership now %u store(s), conf_ver %llu%s",
                (unsigned long long)d.id, d.n_stores,
                (unsigned long long)d.conf_ver,
                member ? "" : "; this store leaves it");
    if (!member) {
        p->removed = true;
        region__activate(s, p);
        return 0;
    }
    if (p->removed && d.conf_ver > p->gone_conf_ver) {
        /* removed and added back by entries applied together: the peer,
         * its log and data are still whole, it stays */
        p->removed = false;
    }
    return put_region_state(s->ab, &d);
}

/* Destroy a peer that left its region: data, Raft state and log go, a
 * tombstone region state stays (messages for it are dropped from now). */
static int destroy_removed(struct region_store *s, struct region_peer *p)
{
    struct region_range r[REGION__N_RANGES];
    struct mvcc_wbatch *b = NULL;
    struct region_buf v = {0};
    int rc = region__ranges(&p->desc, r);
    if (rc != 0)
        return rc;
    rc = mvcc_wbatch_create(&b);
    for (int i = 0; rc == 0 && i < REGION__N_RANGES; i++)
        rc = mvcc_wbatch_delete_range(b, r[i].cf, r[i].lo, r[i].lo_len,
                                      r[i].hi, r[i].hi_len);
    uint8_t lo[REGION__KEY_LOG_LEN], hi[REGION__KEY_LOG_LEN];
    uint8_t k[REGION__KEY_META_LEN];
    region__key_log(lo, p->desc.id, 0);
    region__key_log(hi, p->desc.id + 1, 0);
    if (rc == 0)
        rc = mvcc_wbatch_delete_range(b, REGION__CF_LOG, lo, sizeof lo, hi,
                                      sizeof hi);
    /* the hard state stays: a peer made again if the store is added
     * back starts from its term and vote */
    static const char kinds[] = {'A', 'S'};
    for (size_t i = 0; rc == 0 && i < sizeof kinds; i++) {
        region__key_meta(k, kinds[i], p->desc.id);
        rc = mvcc_wbatch_delete(b, MVCC_CF_DEFAULT, k, sizeof k);
    }
    struct region_desc td = p->desc;
    if (p->gone_conf_ver > td.conf_ver)
        td.conf_ver = p->gone_conf_ver;
    region__key_meta(k, 'R', p->desc.id);
    if (rc == 0)
        rc = region__encode_desc(&v, &td, 1);
    if (rc == 0)
        rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, sizeof k, v.data, v.len);
    if (rc == 0)
        rc = mvcc_engine_write(s->opts.engine, b, !s->opts.no_sync);
    if (rc == 0) /* its locks leave the lock table too */
        rc = region__reload_locks(s, r);
    region__ranges_free(r);
    mvcc_wbatch_destroy(b);
    region__buf_free(&v);
    if (rc != 0)
        return rc;
    rc = add_tomb(s, td.id, td.conf_ver);
    struct region_err err;
    memset(&err, 0, sizeof err);
    region__set_err(&err, REGION_ENOT_FOUND, "region %llu left store %llu",
                    (unsigned long long)p->desc.id,
                    (unsigned long long)s->opts.store_id);
    while (p->props) {
        struct region_pending *pd = p->props;
        p->props = pd->next;
        complete_pending(s, pd, REGION_ENOT_FOUND, &err);
    }
    while (p->reads) {
        struct region_pending *pd = p->reads;
        p->reads = pd->next;
        complete_pending(s, pd, REGION_ENOT_FOUND, &err);
    }
    region__peer_unlink(s, p);
    region__log(s, REGION_LOG_INFO, "region %llu: removed from this store",
                (unsigned long long)p->desc.id);
    peer_free(p);
    return rc;
}

static int apply_committed(struct region_store *s, struct region_peer *p,
                           const struct raft_ready *rd,
                           struct mvcc_wbatch *tmp)
{
    int rc = 0;
    raft_index last = p->applied;
    raft_term last_term = p->applied_term;
    if (p->merged) /* its target applied it up to the prepare: it is gone */
        return 0;
    for (size_t i = 0; i < rd->n_committed && rc == 0; i++) {
        const struct raft_entry *e = &rd->committed[i];
        if (e->index <= p->applied)
            continue;
        struct apply_out ao;
        memset(&ao, 0, sizeof ao);
        if (e->type == RAFT_ENTRY_NORMAL && e->len > 0)
            rc = apply_cmd(s, p, e, tmp, &ao);
        else if (e->type == RAFT_ENTRY_CONF_CHANGE)
            rc = apply_conf_change(s, p, e);
        if (rc != 0) {
            mvcc_free(ao.prev);
            break;
        }
        last = e->index;
        last_term = e->term;
        s->stats.applied++;
        /* answer the proposals up to this index */
        while (p->props && p->props->index <= e->index) {
            struct region_pending *pd = p->props;
            p->props = pd->next;
            if (p->props == NULL)
                p->props_tail = NULL;
            p->n_props--;
            if (pd->index == e->index && pd->term == e->term) {
                struct region_completion *c =
                    add_completion(s, pd->done, pd->ud, ao.rc);
                if (c) {
                    c->err = ao.err;
                    c->cas_ok = ao.cas_ok;
                    c->prev_exists = ao.prev_exists;
                    if (ao.prev) {
                        c->prev = region__memdup(ao.prev, ao.prev_len);
                        c->prev_len = c->prev ? ao.prev_len : 0;
                    }
                }
                region__free(pd);
            } else {
                struct region_err err;
                memset(&err, 0, sizeof err);
                region__set_err(&err, REGION_ESTALE_COMMAND,
                                "region %llu: index %llu was taken by "
                                "another term",
                                (unsigned long long)p->desc.id,
                                (unsigned long long)pd->index);
                complete_pending(s, pd, REGION_ESTALE_COMMAND, &err);
            }
        }
        mvcc_free(ao.prev);
    }
    if (rc == 0 && last != p->applied) {
        uint8_t k[REGION__KEY_META_LEN], v[8];
        region__key_meta(k, 'A', p->desc.id);
        region__put_u64(v, last);
        rc = mvcc_wbatch_put(s->ab, MVCC_CF_DEFAULT, k, sizeof k, v, 8);
        p->applied = last;
        p->applied_term = last_term;
    }
    return rc;
}

static void serve_reads(struct region_store *s, struct region_peer *p)
{
    struct region_pending **pp = &p->reads;
    while (*pp) {
        struct region_pending *pd = *pp;
        if (pd->read_index == 0 || pd->read_index > p->applied) {
            pp = &pd->next;
            continue;
        }
        *pp = pd->next;
        s->stats.reads++;
        struct region_err merr; /* names no region, no leader */
        memset(&merr, 0, sizeof merr);
        int mrc = region__merge_refuse(p, &merr);
        complete_pending(s, pd, mrc, mrc ? &merr : NULL);
    }
}

bool region_store_has_work(struct region_store *s)
{
    pthread_mutex_lock(&s->mu);
    bool any = false;
    for (size_t i = 0; i < s->n_act && !any; i++)
        any = act_busy(s->act[i]);
    for (size_t i = 0; i < s->n_out && !any; i++)
        any = s->out[i].count > 0;
    if (!any && s->writer_on) {
        pthread_mutex_lock(&s->wmu);
        any = s->jobs && s->jobs->written;
        pthread_mutex_unlock(&s->wmu);
    }
    if (!any)
        any = region__check_ready(s);
    pthread_mutex_unlock(&s->mu);
    return any;
}

/* The peers splits made this iteration (s->born) start, now that the
 * split is durable (when ok): each steps the votes held for it, and one
 * born of a region led here campaigns. s->born is empty after. */
static void start_split_born(struct region_store *s, bool ok)
{
    struct region_peer *next;
    for (struct region_peer *np = s->born; np; np = next) {
        next = np->born_next;
        np->born_next = NULL;
        if (!ok || np->removed)
            continue;
        for (size_t i = 0; i < REGION_HELD_MAX; i++) {
            struct region_held *h = &s->held[i];
            if (h->from == 0 || h->region_id != np->desc.id)
                continue;
            struct raft_message *m = NULL;
            if (raft_msg_decode(h->raft, h->len, &m) == 0) {
                s->stats.votes_held++;
                region__hib_wake(s, np);
                (void)raft_node_step(np->node, m); /* as received */
                region__activate(s, np);
                raft_msg_free(m);
            }
            region__free(h->raft);
            *h = (struct region_held){0};
        }
        if (np->born_led) {
            region__hib_wake(s, np);
            s->stats.split_campaigns++;
            int rc = raft_node_campaign(np->node);
            region__activate(s, np);
            if (rc != 0)
                region__log(s, REGION_LOG_WARN,
                            "region %llu: campaign after split: %s",
                            (unsigned long long)np->desc.id,
                            raft_strerror(rc));
        }
    }
    s->born = NULL;
}

/* Free the peers splits replaced (apply_split): no ready of theirs is
 * outstanding any more. */
static void free_replaced(struct region_store *s)
{
    while (s->replaced) {
        struct region_peer *p = s->replaced;
        s->replaced = p->next_replaced;
        peer_free(p);
    }
}

/* Steps 2-4 of an iteration for readies whose write is durable: the log
 * cache follows, after-messages go out, committed entries apply (one
 * apply batch), then every ready is acknowledged. descs: the regions of
 * received snapshots (NULL when no ready has one). */
static int finish_readies(struct region_store *s, struct region_peer **ps,
                          struct raft_ready *rds,
                          const struct region_desc *descs, size_t got,
                          bool from_writer)
{
    int rc = 0;
    struct mvcc_wbatch *tmp = NULL;
    if (mvcc_wbatch_create(&tmp) != 0)
        return -ENOMEM;
    /* 2. the log cache follows; messages go out (all after the sync) */
    for (size_t i = 0; i < got && rc == 0; i++) {
        struct region_peer *p = ps[i];
        struct raft_ready *rd = &rds[i];
        if (rd->snapshot) {
            /* the memstore keeps the point; the data is in the engine */
            struct raft_snapshot at = {.meta = rd->snapshot->meta};
            rc = raft_memstore_apply_snapshot(p->ms, &at);
            region__log(s, REGION_LOG_INFO,
                        "region %llu: snapshot at %llu installed",
                        (unsigned long long)p->desc.id,
                        (unsigned long long)rd->snapshot->meta.index);
            bool was_uninit = !p->initialized;
            if (!p->initialized) {
                uninit_remove(s, p);
                p->desc = descs[i];
                p->initialized = true;
                if (peer_insert(s, p) != 0) { /* cannot serve it yet */
                    p->initialized = false;
                    s->uninit[s->n_uninit++] = p; /* its slot is free */
                    (void)idx_put(s, p->desc.id, p); /* grows no more */
                }
            } else if (region__cmp_bytes(p->desc.start, p->desc.start_len,
                                         descs[i].start,
                                         descs[i].start_len) != 0) {
                /* its start moved: take it out and back in, sorted */
                for (size_t j = 0; j < s->n_peers; j++)
                    if (s->peers[j] == p) {
                        memmove(&s->peers[j], &s->peers[j + 1],
                                (s->n_peers - j - 1) * sizeof *s->peers);
                        s->n_peers--;
                        break;
                    }
                p->desc = descs[i];
                (void)peer_insert(s, p); /* the slot it left is free */
            }
            (void)was_uninit;
            p->desc = descs[i];
            s->stats.snaps_applied++;
            p->applied = p->last_index = p->compacted =
                rd->snapshot->meta.index;
            p->applied_term = rd->snapshot->meta.term;
            region__snap_free(p);
            if (rc != 0)
                break;
        }
        if (rd->n_entries > 0) {
            rc = raft_memstore_append(p->ms, rd->entries, rd->n_entries);
            if (!from_writer) /* a job's was set when it was built */
                p->last_index = rd->entries[rd->n_entries - 1].index;
        }
        if (rd->hard_changed) {
            raft_memstore_set_hard_state(p->ms, &rd->hs);
            p->term = rd->hs.term;
        }
        if (rd->soft_changed) {
            if (p->role != rd->role)
                s->leaders_dirty = true;
            p->role = rd->role;
            p->leader = rd->leader;
            if (p->role == RAFT_LEADER)
                note_leadership(s, p, p->term);
            if (p->role != RAFT_LEADER) {
                fail_reads(s, p, REGION_ENOT_LEADER, false);
                p->split_pending = false;
            }
        }
        queue_msgs(s, p, rd->after, rd->n_after); /* only once durable */
    }
    flush_outboxes(s);
    /* 3. apply committed entries, learn read indexes */
    mvcc_wbatch_clear(s->ab);
    mvcc_wbatch_clear(s->alocks);
    for (size_t i = 0; i < got && rc == 0; i++) {
        struct region_peer *p = ps[i];
        struct raft_ready *rd = &rds[i];
        if (p->replaced)
            continue; /* a split earlier in this batch took its place */
        rc = apply_committed(s, p, rd, tmp);
        for (size_t j = 0; j < rd->n_reads; j++)
            for (struct region_pending *pd = p->reads; pd; pd = pd->next)
                if (pd->read_ctx == rd->reads[j].context)
                    pd->read_index = rd->reads[j].index;
    }
    if (rc == 0)
        rc = flush_apply(s);
    if (rc == 0) {
        uint64_t now = 0;
        for (size_t i = 0; i < got; i++)
            if (ps[i]->n_timed > 0) {
                now = now ? now : region__mono_ns();
                timed_applied(s, ps[i], now);
            }
    }
    start_split_born(s, rc == 0);
    if (rc != 0) {
        snprintf(s->errmsg, sizeof s->errmsg, "apply failed: %s",
                 region_strerror(rc));
        region__log(s, REGION_LOG_ERROR, "%s", s->errmsg);
        goto out;
    }
    /* 4. acknowledge; answer reads whose index is applied */
    for (size_t i = 0; i < got; i++) {
        if (ps[i]->replaced)
            continue; /* freed below, ready and all */
        raft_node_advance(ps[i]->node, &rds[i]);
        region__activate(s, ps[i]); /* the next ready may be there */
        serve_reads(s, ps[i]);
        region__maybe_split(s, ps[i]);
        int r = region__log_gc(s, ps[i]); /* between readies */
        if (r != 0)
            region__log(s, REGION_LOG_WARN, "region %llu: log GC: %s",
                        (unsigned long long)ps[i]->desc.id,
                        region_strerror(r));
    }
out:
    free_replaced(s);
    mvcc_wbatch_destroy(tmp);
    return rc;
}

/* Log writer thread: takes every job submitted so far, writes them in
 * order (one sync, on the last, covers them all: one WAL), marks them
 * written and wakes the loop. */
static void *writer_main(void *arg)
{
    struct region_store *s = arg;
    /* named so per-thread figures (schedstat, perf --tid) can tell it
     * from the loop; a failure to name it changes nothing */
    (void)pthread_setname_np(pthread_self(), "region-log");
    pthread_mutex_lock(&s->wmu);
    for (;;) {
        while (s->wnext == NULL && !s->wstop)
            pthread_cond_wait(&s->wcv, &s->wmu);
        if (s->wnext == NULL)
            break; /* stopping, nothing left */
        struct region_wjob *first = s->wnext, *last = s->jobs_tail;
        s->wnext = NULL;
        pthread_mutex_unlock(&s->wmu);
        uint64_t taken = region__mono_ns();
        bool sync = false;
        struct region_wjob *lastw = NULL; /* last one with writes */
        for (struct region_wjob *j = first;; j = j->next) {
            sync |= j->sync;
            if (mvcc_wbatch_count(j->wb) > 0)
                lastw = j;
            if (j == last)
                break;
        }
        sync = sync && !s->opts.no_sync && lastw != NULL;
        int rc = 0;
        for (struct region_wjob *j = first; rc == 0; j = j->next) {
            if (mvcc_wbatch_count(j->wb) > 0)
                rc = mvcc_engine_write(s->opts.engine, j->wb,
                                       j == lastw && sync);
            if (j == last)
                break;
        }
        uint64_t written = region__mono_ns();
        pthread_mutex_lock(&s->wmu);
        for (struct region_wjob *j = first;; j = j->next) {
            j->written = true;
            j->rc = rc;
            j->t_taken = taken;
            j->t_written = written;
            if (j == last)
                break;
        }
        last->synced = sync;
        pthread_cond_broadcast(&s->dcv);
        pthread_mutex_unlock(&s->wmu);
        region__notify(s);
        pthread_mutex_lock(&s->wmu);
    }
    pthread_mutex_unlock(&s->wmu);
    return NULL;
}

static void wjob_free(struct region_wjob *j)
{
    if (j == NULL)
        return;
    mvcc_wbatch_destroy(j->wb);
    region__free(j->ps);
    region__free(j->rds);
    region__free(j);
}

/* Complete the written jobs at the head of the list, in order (wait:
 * first wait until every job submitted is written). Locked. */
static int complete_jobs(struct region_store *s, bool wait)
{
    int rc = 0;
    for (;;) {
        pthread_mutex_lock(&s->wmu);
        while (wait && s->jobs && !s->jobs_tail->written)
            pthread_cond_wait(&s->dcv, &s->wmu);
        struct region_wjob *j = s->jobs;
        if (j == NULL || !j->written) {
            pthread_mutex_unlock(&s->wmu);
            return rc;
        }
        s->jobs = j->next;
        if (s->jobs == NULL)
            s->jobs_tail = NULL;
        pthread_mutex_unlock(&s->wmu);
        if (j->synced)
            s->stats.syncs++;
        uint64_t now = region__mono_ns();
        s->stats.wjobs++;
        s->stats.wjob_queue_ns += j->t_taken - j->t_submit;
        s->stats.wjob_write_ns += j->t_written - j->t_taken;
        s->stats.wjob_done_ns += now - j->t_written;
        for (size_t i = 0; i < j->n; i++)
            if (j->ps[i]->n_timed > 0 && j->rds[i].n_entries > 0)
                timed_mark(j->ps[i],
                           j->rds[i].entries[j->rds[i].n_entries - 1].index,
                           false, now);
        if (j->rc != 0) {
            rc = j->rc;
            snprintf(s->errmsg, sizeof s->errmsg,
                     "raft state write failed: %s",
                     mvcc_engine_errmsg(s->opts.engine));
            region__log(s, REGION_LOG_ERROR, "%s", s->errmsg);
        } else {
            rc = finish_readies(s, j->ps, j->rds, NULL, j->n, true);
        }
        for (size_t i = 0; i < j->n; i++)
            j->ps[i]->n_out--;
        wjob_free(j);
        if (rc != 0)
            return rc; /* the store must stop: nothing more is durable */
    }
}

static void submit_job(struct region_store *s, struct region_wjob *j)
{
    pthread_mutex_lock(&s->wmu);
    if (s->jobs_tail)
        s->jobs_tail->next = j;
    else
        s->jobs = j;
    s->jobs_tail = j;
    if (s->wnext == NULL)
        s->wnext = j;
    j->t_submit = region__mono_ns();
    pthread_cond_signal(&s->wcv);
    pthread_mutex_unlock(&s->wmu);
}

/* Whether p's next ready goes to the writer thread: any initialized
 * peer, unless its ready may install a snapshot (a snapshot chunk was
 * stepped): installing one replaces the region's data, so it waits on
 * the loop until the peer's earlier readies are applied. And not a
 * follower's on a store that leads no region: its loop has nothing to
 * do during the sync that the next iteration would not do as well, and
 * syncing on the loop sends the append responses right after the sync
 * instead of two thread wake-ups later (DESIGN.md "The loop"). */
static bool to_writer(struct region_store *s, struct region_peer *p)
{
    return s->writer_on && p->initialized && !p->removed && !p->snap_seen &&
           (p->role == RAFT_LEADER || s->stats.leaders > 0);
}

static void destroy_all_removed(struct region_store *s, int *rc)
{
    /* a removal activates its peer; destroying one takes it off the list
     * (another takes its slot) */
    for (size_t i = 0; i < s->n_act && *rc == 0;) {
        struct region_peer *p = s->act[i];
        if (p->initialized && act_linked(p) && p->removed && p->n_out == 0 &&
            p->inst == NULL)
            *rc = destroy_removed(s, p);
        else
            i++;
    }
    if (*rc == 0)
        region__merge_reap(s, rc);
}

int region_store_process(struct region_store *s)
{
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    size_t n = 0;
    struct raft_ready *rds = NULL;
    struct region_desc *descs = NULL;
    struct region_peer **ps = NULL;
    size_t n_cand = 0; /* the active list's length when it began */
    struct region_wjob *job = NULL;
    /* 0. finish the writer's durable jobs, in order; split checks done */
    rc = complete_jobs(s, false);
    if (rc != 0)
        goto out;
    region__check_finish(s, false);
    if ((rc = region__check_stage_failed(s)) != 0) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "staging a received snapshot's chunks failed: %s; the "
                 "store stops (a restart drops the chunks staged, and the "
                 "leader sends the snapshot again)",
                 region_strerror(rc));
        goto out;
    }
    /* only peers on the active list can have work (DESIGN.md "The
     * loop"): an iteration costs what they do, not what the store holds */
    n_cand = s->n_act;
    struct region_peer *p;
    /* raw writes batched since the last iteration: one entry a region */
    for (size_t i = 0; i < n_cand; i++)
        if ((p = act_at(s, i)) != NULL && p->rb_n > 0)
            region__rawbatch_flush(s, p);
    for (size_t i = 0; i < n_cand; i++)
        if ((p = act_at(s, i)) != NULL && !p->hib &&
            (raft_node_has_ready(p->node) || p->inst_done))
            n++; /* hibernating peers have none: what makes one wakes them */
    if (n == 0) {
        flush_outboxes(s); /* notices */
        destroy_all_removed(s, &rc);
        goto out;
    }
    rds = region__calloc(n, sizeof *rds);
    ps = region__calloc(n, sizeof *ps);
    descs = region__calloc(n, sizeof *descs);
    job = region__calloc(1, sizeof *job);
    if (rds == NULL || ps == NULL || descs == NULL || job == NULL ||
        (job->rds = region__calloc(n, sizeof *job->rds)) == NULL ||
        (job->ps = region__calloc(n, sizeof *job->ps)) == NULL ||
        mvcc_wbatch_create(&job->wb) != 0) {
        rc = -ENOMEM;
        goto out;
    }
    s->stats.loop_iters++;
    s->stats.loop_peers += n_cand;
    /* 1. collect every region's ready; persist entries and hard states:
     * leaders' into the writer's job (several readies out each), the
     * others' into the loop's batch (one ready out each) */
    size_t got = 0;
    bool sync = false;
    bool said = false; /* an install failing put why in s->errmsg */
    mvcc_wbatch_clear(s->wb);
    for (size_t i = 0, seen = 0; i < n_cand && rc == 0 && seen < n; i++) {
        if ((p = act_at(s, i)) == NULL || p->hib ||
            !(raft_node_has_ready(p->node) || p->inst_done))
            continue;
        seen++;
        if (p->inst != NULL) { /* its ready waits for its install */
            if (!p->inst_done)
                continue;
            rds[got] = p->inst_rd;
            memset(&p->inst_rd, 0, sizeof p->inst_rd);
            ps[got] = p;
            struct region_snap_inst *in = p->inst;
            p->inst = NULL;
            p->inst_done = false;
            rc = region__snap_install_end(s, p, in, &descs[got]);
            said = rc != 0;
            region__ttl_note(s); /* it may carry TTL records */
            if (rc == 0)
                rc = persist_ready(s, p, &rds[got]);
            sync |= rds[got].must_sync;
            got++;
            continue;
        }
        if (to_writer(s, p)) {
            if (p->n_out >= REGION__MAX_INFLIGHT)
                continue;
            struct raft_ready *rd = &job->rds[job->n];
            if (raft_node_ready(p->node, rd) != 0)
                continue; /* -ENOMEM: try again next iteration */
            timed_commit(p, rd);
            assert(rd->snapshot == NULL); /* snap_seen would be set */
            if (p->n_out == 0 && rd->n_entries == 0 && !rd->must_sync &&
                !(rd->hard_changed && s->commit_via_writer)) {
                /* nothing to sync (reads, messages, commits: at most a
                 * new commit index in the hard state, which goes into the
                 * loop's unsynced batch, written before this iteration's
                 * apply batch): complete it on the loop now rather than
                 * behind the writer, two thread wake-ups later. With no
                 * job of p out, no job writes p's hard state meanwhile. */
                rds[got] = *rd;
                memset(rd, 0, sizeof *rd);
                ps[got] = p;
                if (rds[got].hard_changed)
                    rc = persist_ready(s, p, &rds[got]);
                got++;
                continue;
            }
            struct mvcc_wbatch *keep = s->wb;
            s->wb = job->wb;
            rc = persist_ready(s, p, rd);
            s->wb = keep;
            if (rd->n_entries > 0)
                p->last_index = rd->entries[rd->n_entries - 1].index;
            job->sync |= rd->must_sync;
            job->ps[job->n++] = p;
            p->n_out++;
            continue;
        }
        if (p->n_out > 0)
            continue; /* its writer jobs complete first */
        if (raft_node_ready(p->node, &rds[got]) != 0)
            continue; /* -ENOMEM: try again next iteration */
        timed_commit(p, &rds[got]);
        p->snap_seen = p->snap_whole = false; /* the install begins here,
                                                 or libraft took none */
        ps[got] = p;
        rc = region__snapshot_chunks(s, p, &rds[got]);
        if (rc == 0 && rds[got].snapshot) { /* before the entries after
                                                 it */
            /* the records move into place on the checker thread; the
             * ready waits, the store's other regions do not (DESIGN
             * "Installing off the loop") */
            struct region_snap_inst *in = NULL;
            rc = region__snap_install_begin(s, p, rds[got].snapshot, &in);
            said = rc == REGION_EDECODE; /* refused */
            if (rc == 0 && region__check_install(s, p->desc.id, in) == 0) {
                p->inst = in;
                p->inst_rd = rds[got];
                memset(&rds[got], 0, sizeof rds[got]);
                continue;
            }
            if (rc == 0) { /* no checker thread, or no memory: here */
                region__snap_install_move(s, in);
                rc = region__snap_install_end(s, p, in, &descs[got]);
                said = rc != 0;
            }
            region__ttl_note(s); /* it may carry TTL records */
        }
        if (rc == 0)
            rc = persist_ready(s, p, &rds[got]);
        sync |= rds[got].must_sync;
        got++;
    }
    /* a leader's appends and heartbeats may leave before its own write:
     * followers persist in parallel with it (libraft counts the leader's
     * own log only from advance) */
    for (size_t i = 0; i < job->n && rc == 0; i++)
        queue_msgs(s, job->ps[i], job->rds[i].messages,
                   job->rds[i].n_messages);
    for (size_t i = 0; i < got && rc == 0; i++)
        queue_msgs(s, ps[i], rds[i].messages, rds[i].n_messages);
    if (rc == 0)
        flush_outboxes(s);
    if (job->n > 0) {
        submit_job(s, job); /* the writer owns it now */
        job = NULL;
    }
    if (rc == 0 && mvcc_wbatch_count(s->wb) > 0) {
        bool do_sync = sync && !s->opts.no_sync;
        rc = mvcc_engine_write(s->opts.engine, s->wb, do_sync);
        if (do_sync)
            s->stats.syncs++;
    }
    mvcc_wbatch_clear(s->wb);
    if (rc != 0) {
        if (!said) /* else a snapshot's install said why */
            snprintf(s->errmsg, sizeof s->errmsg,
                     "raft state write failed: %s",
                     mvcc_engine_errmsg(s->opts.engine));
        region__log(s, REGION_LOG_ERROR, "%s", s->errmsg);
        /* nothing was acknowledged: drop the readies (destroying a node
         * with a ready outstanding is a crash; here the store must stop) */
        goto out;
    }
    if (got > 0)
        rc = finish_readies(s, ps, rds, descs, got, false);
    if (rc == 0)
        destroy_all_removed(s, &rc);
out:
    wjob_free(job);
    region__free(rds);
    region__free(ps);
    region__free(descs);
    act_settle(s);
    if (s->leaders_dirty) {
        s->leaders_dirty = false;
        s->stats.leaders = 0;
        for (size_t i = 0; i < s->n_peers; i++)
            s->stats.leaders += s->peers[i]->role == RAFT_LEADER;
    }
    unlock_and_complete(s);
    return rc;
}

int region_store_sync_wait(struct region_store *s)
{
    pthread_mutex_lock(&s->mu);
    int rc = complete_jobs(s, true);
    region__check_finish(s, false);
    if (rc == 0)
        destroy_all_removed(s, &rc);
    unlock_and_complete(s);
    return rc;
}

void region__snap_jobs_wait(struct region_store *s)
{
    region__check_snaps_out_wait(s);
    pthread_mutex_lock(&s->mu);
    region__check_finish(s, false);
    unlock_and_complete(s);
}

void region_store_split_checks_wait(struct region_store *s)
{
    pthread_mutex_lock(&s->mu);
    region__check_finish(s, true);
    unlock_and_complete(s);
}

/* ---------------------------------------------------------------------
 * Proposals and reads.
 */
static int propose(struct region_store *s, struct region_peer *p,
                   const struct region_buf *cmd, region_done_fn done,
                   void *ud, struct region_err *err)
{
    struct raft_status st;
    int rc = leader_check(s, p, &st, err);
    if (rc != 0)
        return rc;
    if (cmd->len > s->opts.max_entry_bytes) {
        region__set_err(err, REGION_EENTRY_TOO_LARGE,
                        "command of %zu bytes exceeds %u", cmd->len,
                        s->opts.max_entry_bytes);
        return REGION_EENTRY_TOO_LARGE;
    }
    if (p->n_props >= s->opts.max_pending) {
        region__set_err(err, REGION_ESERVER_BUSY,
                        "region %llu has %u proposals waiting",
                        (unsigned long long)p->desc.id, p->n_props);
        return REGION_ESERVER_BUSY;
    }
    struct region_pending *pd = region__calloc(1, sizeof *pd);
    if (pd == NULL)
        return -ENOMEM;
    raft_index index = 0;
    region__hib_wake(s, p);
    rc = raft_node_propose(p->node, cmd->data, (uint32_t)cmd->len, &index);
    region__activate(s, p);
    if (rc != 0 || index == 0) {
        region__free(pd);
        if (rc == RAFT_ETOOBIG) {
            region__set_err(err, REGION_ESERVER_BUSY,
                            "region %llu: too many uncommitted bytes",
                            (unsigned long long)p->desc.id);
            return REGION_ESERVER_BUSY;
        }
        region__set_err(err, REGION_ENOT_LEADER,
                        "region %llu refused the proposal: %s",
                        (unsigned long long)p->desc.id, raft_strerror(rc));
        if (err)
            err->leader = 0;
        return REGION_ENOT_LEADER;
    }
    pd->index = index;
    pd->term = st.term;
    pd->done = done;
    pd->ud = ud;
    if (p->props_tail)
        p->props_tail->next = pd;
    else
        p->props = pd;
    p->props_tail = pd;
    p->n_props++;
    s->stats.proposals++;
    return 0;
}

int region__propose(struct region_store *s, struct region_peer *p,
                    const struct region_buf *cmd, region_done_fn done,
                    void *ud, struct region_err *err)
{
    return propose(s, p, cmd, done, ud, err);
}

static int clear_err(struct region_err *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    return 0;
}

/* Next region id of this store: store id in the top 16 bits, a counter
 * made durable before the id is used. */
static int alloc_region_id(struct region_store *s, uint64_t *id)
{
    uint8_t k[REGION__KEY_META_LEN], v[8];
    region__key_meta(k, 'I', 0);
    region__put_u64(v, s->id_seq + 1);
    int rc = mvcc_engine_put(s->opts.engine, MVCC_CF_DEFAULT, k, sizeof k, v,
                             8);
    if (rc != 0)
        return rc;
    s->id_seq++;
    *id = (s->opts.store_id << 48) | s->id_seq;
    return 0;
}

static int propose_split(struct region_store *s, struct region_peer *p,
                         const void *key, size_t len, uint64_t new_id,
                         region_done_fn done, void *ud, struct region_err *err)
{
    int rc = 0;
    if (new_id == 0)
        rc = alloc_region_id(s, &new_id);
    if (rc != 0)
        return rc;
    struct region_buf cmd = {0};
    struct region_cmd c = region__cmd_for(p, REGION_CMD_SPLIT, NULL, 0);
    c.key = key;
    c.key_len = len;
    c.new_id = new_id;
    rc = region__cmd_encode(&cmd, &c);
    if (rc == 0)
        rc = propose(s, p, &cmd, done, ud, err);
    region__buf_free(&cmd);
    return rc;
}

int region__propose_split(struct region_store *s,
                          struct region_peer *p,
                          const void *key,
                          size_t len,
                          region_done_fn done)
{
    return propose_split(s, p, key, len, 0, done, NULL, NULL);
}

int region_split(struct region_store *s, const struct region_ctx *ctx,
                 const void *key, size_t len, uint64_t new_id,
                 region_done_fn done, void *ud, struct region_err *err)
{
    clear_err(err);
    if (s == NULL || ctx == NULL || done == NULL || len == 0 ||
        len > REGION_MAX_BOUND)
        return REGION_EINVAL;
    pthread_mutex_lock(&s->mu);
    struct region_peer *p;
    int rc = region_lookup(s, ctx, &p, err);
    if (rc == 0)
        rc = region__key_check(p, key, len, err);
    if (rc == 0 &&
        region__cmp_bytes(key, len, p->desc.start, p->desc.start_len) == 0) {
        rc = REGION_EKEY_NOT_IN_REGION;
        region__set_err(err, rc, "split key is the region's start");
    }
    if (rc == 0 && new_id != 0 && find_peer(s, new_id)) {
        rc = REGION_EEXISTS;
        region__set_err(err, rc, "region %llu exists",
                        (unsigned long long)new_id);
    }
    if (rc == 0)
        rc = propose_split(s, p, key, len, new_id, done, ud, err);
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        region__notify(s);
    return rc;
}

int region_change_peer(struct region_store *s, const struct region_ctx *ctx,
                       bool add, uint64_t store_id, region_done_fn done,
                       void *ud, struct region_err *err)
{
    return region_change_member(s, ctx,
                                add ? REGION_CHANGE_ADD_VOTER
                                    : REGION_CHANGE_REMOVE,
                                store_id, done, ud, err);
}

int region_change_member(struct region_store *s, const struct region_ctx *ctx,
                         int kind, uint64_t store_id, region_done_fn done,
                         void *ud, struct region_err *err)
{
    clear_err(err);
    if (s == NULL || ctx == NULL || done == NULL || store_id == 0 ||
        kind < REGION_CHANGE_ADD_VOTER || kind > REGION_CHANGE_REMOVE)
        return REGION_EINVAL;
    pthread_mutex_lock(&s->mu);
    struct region_peer *p;
    struct raft_status st;
    struct region_pending *pd = NULL;
    int rc = region_lookup(s, ctx, &p, err);
    if (rc == 0)
        rc = leader_check(s, p, &st, err);
    if (rc != 0)
        goto out;
    bool member = false;
    for (uint32_t j = 0; j < p->desc.n_stores; j++)
        member |= p->desc.stores[j] == store_id;
    bool learner = region_desc_is_learner(&p->desc, store_id);
    bool add = kind != REGION_CHANGE_REMOVE;
    if (kind == REGION_CHANGE_PROMOTE ? !learner
        : add ? member || p->desc.n_stores == REGION_MAX_PEERS
              : !member || store_id == s->opts.store_id) {
        rc = REGION_EINVAL;
        region__set_err(err, rc,
                        kind == REGION_CHANGE_PROMOTE
                            ? "store %llu holds no learner of the region"
                        : add ? "store %llu is already a peer (or the region "
                                "is full)"
                              : "store %llu is not a peer, or leads the "
                                "region (transfer leadership first)",
                        (unsigned long long)store_id);
        goto out;
    }
    if (kind == REGION_CHANGE_PROMOTE &&
        !region__peer_caught_up(&st, store_id, p->compacted)) {
        /* a voter that still needs the snapshot would weaken the quorum
         * (PD's pending peer): the caller asks again later */
        rc = REGION_ESERVER_BUSY;
        region__set_err(err, rc,
                        "the learner on store %llu has not caught up with "
                        "region %llu's log yet",
                        (unsigned long long)store_id,
                        (unsigned long long)p->desc.id);
        goto out;
    }
    pd = region__calloc(1, sizeof *pd);
    if (pd == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    struct raft_conf_change cc;
    memset(&cc, 0, sizeof cc);
    cc.transition = RAFT_TRANSITION_AUTO;
    cc.n_changes = 1;
    cc.changes[0].type = kind == REGION_CHANGE_REMOVE ? RAFT_CHANGE_REMOVE
                         : kind == REGION_CHANGE_ADD_LEARNER
                             ? RAFT_CHANGE_ADD_LEARNER
                             : RAFT_CHANGE_ADD_VOTER;
    cc.changes[0].id = store_id;
    raft_index index = 0;
    region__hib_wake(s, p);
    rc = raft_node_propose_conf_change(p->node, &cc, &index);
    region__activate(s, p);
    if (rc != 0 || index == 0) {
        region__free(pd);
        pd = NULL;
        int code = rc == RAFT_ECONFPENDING ? REGION_ESERVER_BUSY
                                           : REGION_ENOT_LEADER;
        region__set_err(err, code, "membership change refused: %s",
                        raft_strerror(rc));
        rc = code;
        goto out;
    }
    pd->index = index;
    pd->term = st.term;
    pd->done = done;
    pd->ud = ud;
    if (p->props_tail)
        p->props_tail->next = pd;
    else
        p->props = pd;
    p->props_tail = pd;
    p->n_props++;
    s->stats.proposals++;
out:
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        region__notify(s);
    return rc;
}

int region_raw_write(struct region_store *s, const struct region_ctx *ctx,
                     const struct region_op *ops, size_t n,
                     region_done_fn done, void *ud, struct region_err *err)
{
    return region_raw_write_ttl(s, ctx, ops, n, NULL, done, ud, err);
}

/* A raw write's ops as engine ops (a TTL record, or the delete of any, per
 * key: ttl.c), checked against p. With b NULL they are only checked and
 * their encoded bytes added to *bytes (region__rawbatch_add's size); with
 * b they are appended to it (checked already: it cannot fail but for
 * memory). */
struct raw_ops {
    struct region_store *s;     /* the store */
    struct region_peer *p;      /* the region written */
    const struct region_op *ops; /* the request's ops */
    size_t n;                   /* their number */
    const uint64_t *ttls;       /* seconds to live per op, or NULL */
    struct region_err *err;     /* detail of a refusal */
};

static int raw_op(struct mvcc_wbatch *b, size_t *bytes, int type, int cf,
                  const void *key, size_t kl, const void *val, size_t vl)
{
    if (b == NULL) {
        *bytes += REGION__RAW_OP_FIXED + kl + vl;
        return 0;
    }
    if (type == MVCC_WOP_PUT)
        return mvcc_wbatch_put(b, cf, key, kl, val, vl);
    if (type == MVCC_WOP_DELETE)
        return mvcc_wbatch_delete(b, cf, key, kl);
    return mvcc_wbatch_delete_range(b, cf, key, kl, val, vl);
}

static int raw_ops_emit(const struct raw_ops *r, struct mvcc_wbatch *b,
                        size_t *bytes)
{
    struct region_peer *p = r->p;
    int rc = 0;
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        const struct region_op *op = &r->ops[i];
        rc = region__key_check(p, op->key, op->key_len, r->err);
        if (rc != 0)
            break;
        switch (op->type) {
        case REGION_OP_PUT:
        case REGION_OP_DELETE: {
            bool put = op->type == REGION_OP_PUT;
            uint64_t ttl = put && r->ttls ? r->ttls[i] : 0;
            uint8_t tv[REGION__TTL_LEN];
            rc = raw_op(b, bytes, put ? MVCC_WOP_PUT : MVCC_WOP_DELETE,
                        MVCC_CF_DEFAULT, op->key, op->key_len, op->value,
                        put ? op->value_len : 0);
            /* its TTL record (ttl.c), or the delete of any */
            if (rc == 0 && ttl == 0)
                rc = raw_op(b, bytes, MVCC_WOP_DELETE, MVCC_CF_LOCK, op->key,
                            op->key_len, NULL, 0);
            else if (rc == 0)
                rc = raw_op(b, bytes, MVCC_WOP_PUT, MVCC_CF_LOCK, op->key,
                            op->key_len, tv,
                            region__ttl_record(r->s, ttl, tv));
            break;
        }
        case REGION_OP_DELETE_RANGE: {
            const void *end = op->value;
            size_t end_len = op->value_len;
            if (end_len == 0) {
                end = p->desc.end; /* to the region's end (maybe open) */
                end_len = p->desc.end_len;
            } else if (p->desc.end_len != 0 &&
                       region__cmp_bytes(end, end_len, p->desc.end,
                                         p->desc.end_len) > 0) {
                rc = REGION_EKEY_NOT_IN_REGION;
                region__set_err(r->err, rc, "range end past region %llu",
                                (unsigned long long)p->desc.id);
                if (r->err) {
                    r->err->has_region = true;
                    r->err->region = p->desc;
                }
                break;
            }
            rc = raw_op(b, bytes, MVCC_WOP_DELETE_RANGE, MVCC_CF_DEFAULT,
                        op->key, op->key_len, end_len ? end : "", end_len);
            if (rc == 0) /* and the TTL records in it */
                rc = raw_op(b, bytes, MVCC_WOP_DELETE_RANGE, MVCC_CF_LOCK,
                            op->key, op->key_len, end_len ? end : "",
                            end_len);
            break;
        }
        default:
            rc = REGION_EINVAL;
            region__set_err(r->err, rc, "unknown op type %d", op->type);
        }
    }
    return rc;
}

static int raw_ops_build(struct mvcc_wbatch *b, void *arg)
{
    return raw_ops_emit(arg, b, NULL);
}

int region_raw_write_ttl(struct region_store *s, const struct region_ctx *ctx,
                         const struct region_op *ops, size_t n,
                         const uint64_t *ttls, region_done_fn done, void *ud,
                         struct region_err *err)
{
    clear_err(err);
    if (s == NULL || ctx == NULL || (ops == NULL && n > 0) || done == NULL)
        return REGION_EINVAL;
    pthread_mutex_lock(&s->mu);
    struct region_peer *p;
    int rc = region_lookup(s, ctx, &p, err);
    struct raw_ops r = {s, p, ops, n, ttls, err};
    size_t bytes = 0;
    if (rc == 0) /* checked and sized; written into the batch by add */
        rc = raw_ops_emit(&r, NULL, &bytes);
    if (rc == 0) /* refused now, with the leader named, as propose does */
        rc = leader_now(s, p, err);
    if (rc == 0) /* proposed at the next iteration's start (rawbatch.c) */
        rc = region__rawbatch_add(s, p, bytes, raw_ops_build, &r, done, ud,
                                  err);
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        region__notify(s);
    else if (err && err->code == 0)
        region__set_err(err, rc, "%s", region_strerror(rc));
    return rc;
}

int region_raw_cas(struct region_store *s, const struct region_ctx *ctx,
                   const void *key, size_t key_len, bool expect_exists,
                   const void *expect, size_t expect_len, bool del,
                   const void *value, size_t value_len, region_done_fn done,
                   void *ud, struct region_err *err)
{
    return region_raw_cas_ttl(s, ctx, key, key_len, expect_exists, expect,
                              expect_len, del, value, value_len, 0, done, ud,
                              err);
}

int region_raw_cas_ttl(struct region_store *s,
                       const struct region_ctx *ctx,
                       const void *key,
                       size_t key_len,
                       bool expect_exists,
                       const void *expect,
                       size_t expect_len,
                       bool del,
                       const void *value,
                       size_t value_len,
                       uint64_t ttl,
                       region_done_fn done,
                       void *ud,
                       struct region_err *err)
{
    clear_err(err);
    if (s == NULL || ctx == NULL || done == NULL)
        return REGION_EINVAL;
    struct region_buf cmd = {0};
    pthread_mutex_lock(&s->mu);
    struct region_peer *p;
    int rc = region_lookup(s, ctx, &p, err);
    if (rc == 0)
        rc = region__key_check(p, key, key_len, err);
    if (rc == 0)
        rc = leader_now(s, p, err);
    if (rc == 0) { /* an expired key is deleted ahead of the CAS */
        region__ttl_before_cas(s, p, key, key_len);
        struct region_cmd c = region__cmd_for(p, REGION_CMD_CAS, NULL, 0);
        c.expect_exists = expect_exists;
        c.del = del;
        c.key = key;
        c.key_len = key_len;
        c.expect = expect;
        c.expect_len = expect_len;
        c.value = value;
        c.value_len = value_len;
        if (ttl > 0 && !del) /* the expiry by this leader's clock */
            c.expire_ms = region__ttl_expiry(s, ttl);
        rc = region__cmd_encode(&cmd, &c);
    }
    if (rc == 0)
        rc = propose(s, p, &cmd, done, ud, err);
    pthread_mutex_unlock(&s->mu);
    region__buf_free(&cmd);
    if (rc == 0)
        region__notify(s);
    return rc;
}

int region_read(struct region_store *s, const struct region_ctx *ctx,
                region_done_fn done, void *ud, struct region_err *err)
{
    clear_err(err);
    if (s == NULL || ctx == NULL || done == NULL)
        return REGION_EINVAL;
    pthread_mutex_lock(&s->mu);
    struct region_peer *p;
    struct raft_status st;
    int rc = region_lookup(s, ctx, &p, err);
    if (rc == 0)
        rc = leader_check(s, p, &st, err);
    if (rc == 0 && st.transferee != 0) {
        /* libraft's lease does not end when it hands leadership over:
         * the transferee may lead (and its max_ts sync may be done)
         * while this lease still looks valid. Reads wait it out. */
        rc = REGION_ESERVER_BUSY;
        region__set_err(err, rc, "region %llu: leadership transfer to "
                        "store %llu under way",
                        (unsigned long long)p->desc.id,
                        (unsigned long long)st.transferee);
    }
    struct region_pending *pd = NULL;
    if (rc == 0) {
        pd = region__calloc(1, sizeof *pd);
        if (pd == NULL)
            rc = -ENOMEM;
    }
    if (rc == 0) {
        /* unique in the group: this store's id in the high bits */
        pd->read_ctx = (s->opts.store_id << 40) | (++s->read_seq & 0xffffffffffULL);
        pd->done = done;
        pd->ud = ud;
        region__hib_wake(s, p);
        rc = raft_node_read_index(p->node, pd->read_ctx);
        region__activate(s, p);
        if (rc != 0) {
            region__free(pd);
            region__set_err(err, REGION_ENOT_LEADER, "read index refused: %s",
                            raft_strerror(rc));
            rc = REGION_ENOT_LEADER;
        } else {
            pd->next = p->reads;
            p->reads = pd;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (rc == 0)
        region__notify(s);
    return rc;
}

/* ---------------------------------------------------------------------
 * Reads of applied state.
 */
/* Reads of applied state wait while p's snapshot is being moved into
 * place off the loop: its range holds part of it. */
static int installing_refused(const struct region_store *s,
                              const struct region_peer *p,
                              struct region_err *err)
{
    if (p->inst == NULL)
        return 0;
    region__set_err(err, REGION_ESERVER_BUSY,
                    "region %llu is installing a snapshot on store %llu: "
                    "try again",
                    (unsigned long long)p->desc.id,
                    (unsigned long long)s->opts.store_id);
    return REGION_ESERVER_BUSY;
}

int region_check_key(struct region_store *s, const struct region_ctx *ctx,
                     const void *key, size_t len, struct region_err *err)
{
    clear_err(err);
    pthread_mutex_lock(&s->mu);
    struct region_peer *p;
    int rc = region_lookup(s, ctx, &p, err);
    if (rc == 0)
        rc = installing_refused(s, p, err);
    if (rc == 0)
        rc = region__key_check(p, key, len, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Keys up to this long are prefixed on the stack, longer ones in a
 * malloc'd copy. */
#define RAW_KEY_STACK 256

int region__raw_get_engine(struct region_store *s, uint64_t region_id,
                           const void *key, size_t key_len, uint8_t **value,
                           size_t *value_len)
{
    uint8_t stack[RAW_KEY_STACK];
    uint8_t *k = key_len < sizeof stack ? stack : region__malloc(key_len + 1);
    if (k == NULL)
        return -ENOMEM;
    k[0] = REGION__RAW;
    if (key_len)
        memcpy(k + 1, key, key_len);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = mvcc_engine_get(s->opts.engine, NULL, MVCC_CF_DEFAULT, k,
                             key_len + 1, &v, &vl);
    if (rc == 0 && region__ttl_expired(s, region_id, k, key_len + 1)) {
        mvcc_free(v);
        rc = MVCC_NOTFOUND;
    }
    if (k != stack)
        region__free(k);
    if (rc == 0) {
        *value = region__memdup(v, vl);
        *value_len = vl;
        mvcc_free(v);
        if (*value == NULL)
            rc = -ENOMEM;
    }
    return rc;
}

int region_raw_get(struct region_store *s, const struct region_ctx *ctx,
                   const void *key, size_t key_len, uint8_t **value,
                   size_t *value_len, struct region_err *err)
{
    int rc = region_check_key(s, ctx, key, key_len, err);
    if (rc != 0)
        return rc;
    return region__raw_get_engine(s, ctx->region_id, key, key_len, value,
                                  value_len);
}

void region_kvs_free(struct region_kv *kvs, size_t n)
{
    if (kvs == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        region__free(kvs[i].key);
        region__free(kvs[i].value);
    }
    region__free(kvs);
}

/* A range outside the region is refused, never clipped (DESIGN.md
 * "Range checks"): answering for less than was asked hides a client's
 * stale bound, and the client would go on past keys nobody read. */
static int range_check(const struct region_desc *d, const void *start,
                       size_t start_len, const void *end, size_t end_len,
                       struct region_err *err)
{
    const char *why = NULL;
    if (region__cmp_bytes(start, start_len, d->start, d->start_len) < 0)
        why = "starts before";
    else if (d->end_len != 0 &&
             region__cmp_bytes(start, start_len, d->end, d->end_len) >= 0)
        why = "starts at or past the end of";
    else if (d->end_len != 0 && end_len == 0)
        why = "is unbounded past the end of";
    else if (d->end_len != 0 && end_len != 0 &&
             region__cmp_bytes(end, end_len, d->end, d->end_len) > 0)
        why = "ends past the end of";
    if (why == NULL)
        return 0;
    region__set_err(err, REGION_EKEY_NOT_IN_REGION,
                    "range (%zu-byte start, %zu-byte end) %s region %llu",
                    start_len, end_len, why, (unsigned long long)d->id);
    if (err) {
        err->has_region = true;
        err->region = *d;
    }
    return REGION_EKEY_NOT_IN_REGION;
}

int region_check_range(struct region_store *s, const struct region_ctx *ctx,
                       const void *start, size_t start_len, const void *end,
                       size_t end_len, struct region_desc *d,
                       struct region_err *err)
{
    clear_err(err);
    pthread_mutex_lock(&s->mu);
    struct region_peer *p;
    int rc = region_lookup(s, ctx, &p, err);
    if (rc == 0)
        rc = installing_refused(s, p, err);
    if (rc == 0) {
        *d = p->desc;
        rc = range_check(d, start, start_len, end, end_len, err);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int region_raw_scan(struct region_store *s, const struct region_ctx *ctx,
                    const void *start, size_t start_len, const void *end,
                    size_t end_len, size_t limit, bool key_only,
                    struct region_kv **out, size_t *n, struct region_err *err)
{
    *out = NULL;
    *n = 0;
    struct region_desc d;
    int rc = region_check_range(s, ctx, start, start_len, end, end_len, &d,
                                err);
    if (rc != 0)
        return rc;
    struct region_buf lo = {0}, hi = {0};
    region__buf_u8(&lo, REGION__RAW);
    region__buf_put(&lo, start, start_len);
    if (end_len == 0) {
        region__buf_u8(&hi, REGION__RAW + 1);
    } else {
        region__buf_u8(&hi, REGION__RAW);
        region__buf_put(&hi, end, end_len);
    }
    struct region_kv *kvs = NULL;
    size_t cnt = 0, cap = 0;
    struct mvcc_iter *it = NULL;
    if (lo.oom || hi.oom) {
        rc = -ENOMEM;
        goto out;
    }
    struct mvcc_iter_opts io = {lo.data, lo.len, hi.data, hi.len};
    rc = mvcc_engine_iter(s->opts.engine, NULL, MVCC_CF_DEFAULT, &io, &it);
    if (rc != 0)
        goto out;
    rc = it->ops->seek_to_first(it);
    while (rc == 0 && it->ops->valid(it) && (limit == 0 || cnt < limit)) {
        if (cnt == cap) {
            cap = cap ? 2 * cap : 16;
            struct region_kv *k2 = region__realloc(kvs, cap * sizeof *k2);
            if (k2 == NULL) {
                rc = -ENOMEM;
                break;
            }
            kvs = k2;
        }
        size_t kl, vl = 0;
        const uint8_t *k = it->ops->key(it, &kl);
        if (region__ttl_expired(s, d.id, k, kl)) {
            rc = it->ops->next(it);
            continue;
        }
        const uint8_t *v = key_only ? NULL : it->ops->value(it, &vl);
        struct region_kv *kv = &kvs[cnt];
        memset(kv, 0, sizeof *kv);
        kv->key = region__memdup(k + 1, kl - 1);
        kv->key_len = kl - 1;
        if (!key_only) {
            kv->value = region__memdup(v, vl);
            kv->value_len = vl;
        }
        cnt++;
        if (kv->key == NULL || (!key_only && kv->value == NULL)) {
            rc = -ENOMEM;
            break;
        }
        rc = it->ops->next(it);
    }
out:
    mvcc_iter_destroy(it);
    region__buf_free(&lo);
    region__buf_free(&hi);
    if (rc != 0) {
        region_kvs_free(kvs, cnt);
        return rc;
    }
    *out = kvs;
    *n = cnt;
    return 0;
}

/* ---------------------------------------------------------------------
 * Inspection and leadership.
 */
int region_store_campaign(struct region_store *s, uint64_t region_id)
{
    pthread_mutex_lock(&s->mu);
    struct region_peer *p = find_peer(s, region_id);
    if (p)
        region__hib_wake(s, p);
    int rc = p ? raft_node_campaign(p->node) : REGION_ENOT_FOUND;
    if (p)
        region__activate(s, p);
    pthread_mutex_unlock(&s->mu);
    region__notify(s);
    return rc;
}

int region_store_transfer_leader(struct region_store *s, uint64_t region_id,
                                 uint64_t to)
{
    pthread_mutex_lock(&s->mu);
    struct region_peer *p = find_peer(s, region_id);
    if (p)
        region__hib_wake(s, p);
    int rc = p ? 0 : REGION_ENOT_FOUND;
    struct raft_status st;
    if (p && to != s->opts.store_id) {
        /* A leader hands over only to a voter that takes appends now (PD's
         * pending peer filter): one that needs a snapshot or lags past the
         * compacted log would hold the transfer (and the region's
         * proposals, refused while it lasts) until it times out. The
         * caller asks again later; pdd's operator repeats its step. */
        raft_node_status(p->node, &st); /* peers: a leader's only */
        for (uint32_t i = 0; i < st.n_peers; i++)
            if (st.peers[i].id == to)
                rc = st.peers[i].learner ? REGION_EINVAL
                     : region__peer_caught_up(&st, to, p->compacted)
                         ? 0
                         : REGION_ESERVER_BUSY;
    }
    if (rc == 0) {
        rc = raft_node_transfer_leader(p->node, to);
        region__activate(s, p);
    }
    pthread_mutex_unlock(&s->mu);
    region__notify(s);
    return rc;
}

int region_store_region(struct region_store *s, uint64_t region_id,
                        struct region_desc *out, uint64_t *leader)
{
    pthread_mutex_lock(&s->mu);
    struct region_peer *p = find_peer(s, region_id);
    if (p) {
        if (out)
            *out = p->desc;
        if (leader)
            *leader = p->leader;
    }
    pthread_mutex_unlock(&s->mu);
    return p ? 0 : REGION_ENOT_FOUND;
}

int region_store_locate(struct region_store *s, const void *key, size_t len,
                        struct region_desc *out, uint64_t *leader)
{
    pthread_mutex_lock(&s->mu);
    struct region_peer *p = NULL;
    size_t lo = 0, hi = s->n_peers;
    while (lo < hi) { /* last region whose start <= key */
        size_t mid = (lo + hi) / 2;
        if (region__cmp_bytes(s->peers[mid]->desc.start,
                              s->peers[mid]->desc.start_len, key, len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && region_desc_contains(&s->peers[lo - 1]->desc, key, len))
        p = s->peers[lo - 1];
    if (p) {
        if (out)
            *out = p->desc;
        if (leader)
            *leader = p->leader;
    }
    pthread_mutex_unlock(&s->mu);
    return p ? 0 : REGION_ENOT_FOUND;
}

int region_store_regions(struct region_store *s, struct region_desc *out,
                         size_t cap, size_t *n)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_peers && i < cap; i++)
        out[i] = s->peers[i]->desc;
    *n = s->n_peers;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

bool region_store_is_leader(struct region_store *s, uint64_t region_id)
{
    pthread_mutex_lock(&s->mu);
    struct region_peer *p = find_peer(s, region_id);
    bool yes = false;
    if (p) {
        struct raft_status st;
        raft_node_status(p->node, &st);
        yes = st.role == RAFT_LEADER;
    }
    pthread_mutex_unlock(&s->mu);
    return yes;
}

uint64_t region_store_leader_term(struct region_store *s, uint64_t region_id)
{
    pthread_mutex_lock(&s->mu);
    struct region_peer *p = find_peer(s, region_id);
    uint64_t term = 0;
    if (p) {
        struct raft_status st;
        raft_node_status(p->node, &st);
        if (st.role == RAFT_LEADER)
            term = st.term;
    }
    pthread_mutex_unlock(&s->mu);
    return term;
}

void region_store_stats(struct region_store *s, struct region_store_stats *st)
{
    pthread_mutex_lock(&s->mu);
    *st = s->stats;
    st->hibernated = region__hib_count(s, &st->stores_down);
    st->ttl_expired = region__ttl_expired_reads(s);
    pthread_mutex_unlock(&s->mu);
}

struct mvcc_store *region_store_mvcc(struct region_store *s)
{
    return s->mvcc;
}

/* ---------------------------------------------------------------------
 * Transactional commands: libmvcc's batches through Raft, blocking.
 */
struct txn_wait {
    pthread_mutex_t mu;    /* guards the rest */
    pthread_cond_t cv;     /* signalled on completion */
    bool done;             /* completed */
    int rc;                /* outcome */
    struct region_err err; /* detail */
};

struct txn_tls {
    struct region_store *s;      /* store of the running command */
    struct region_ctx ctx;       /* its region */
    struct region_err *err;      /* where region errors go */
    raft_term term;              /* a write's: the leader term checked at
                                    the start (0: a read, unchecked) */
};
static _Thread_local struct txn_tls *cur_txn;

static void wait_done(void *ud, const struct region_reply *r)
{
    struct txn_wait *w = ud;
    pthread_mutex_lock(&w->mu);
    w->rc = r->rc;
    if (r->err)
        w->err = *r->err;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void wait_init(struct txn_wait *w)
{
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
}

static int wait_for(struct txn_wait *w, struct region_err *err)
{
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    if (w->rc != 0 && err)
        *err = w->err;
    return w->rc;
}

static int txn_apply_hook(void *ctx, const struct mvcc_wbatch *batch,
                          bool sync)
{
    struct region_store *s = ctx;
    (void)sync; /* Raft makes every command durable on a quorum */
    if (region__gc_on_thread(s)) {
        /* region_store_gc's sweep: every replica removes, for itself,
         * only what no read at or above the safe point sees (DESIGN.md
         * "GC"). No sync: a sweep a crash cuts short is run again. */
        return mvcc_engine_write(s->zeng, batch, false);
    }
    struct txn_tls *t = cur_txn;
    if (t == NULL || t->s != s)
        return REGION_EINTERNAL; /* libmvcc used outside region_txn_run */
    uint8_t *body = NULL;
    size_t body_len = 0;
    struct region_buf cmd = {0};
    int rc = mvcc_wbatch_encode(batch, &body, &body_len);
    if (rc != 0)
        return rc;
    struct txn_wait w;
    wait_init(&w);
    pthread_mutex_lock(&s->mu);
    struct region_peer *p;
    rc = region_lookup(s, &t->ctx, &p, t->err);
    if (rc == 0 && t->term != 0) {
        /* What the command decided (a 1PC commit_ts above max_ts) holds
         * for the leadership it began in only. */
        struct raft_status st;
        rc = leader_check(s, p, &st, t->err);
        if (rc == 0 && st.term != t->term) {
            rc = REGION_ENOT_LEADER;
            region__set_err(t->err, rc, "region %llu: leadership changed "
                            "during the command (term %llu, now %llu)",
                            (unsigned long long)p->desc.id,
                            (unsigned long long)t->term,
                            (unsigned long long)st.term);
            if (t->err)
                t->err->leader = 0;
        }
    }
    if (rc == 0) {
        struct region_cmd c =
            region__cmd_for(p, REGION_CMD_TXN, body, body_len);
        rc = region__cmd_encode(&cmd, &c);
    }
    if (rc == 0)
        rc = propose(s, p, &cmd, wait_done, &w, t->err);
    pthread_mutex_unlock(&s->mu);
    mvcc_free(body);
    region__buf_free(&cmd);
    if (rc != 0) {
        pthread_mutex_destroy(&w.mu);
        pthread_cond_destroy(&w.cv);
        return rc;
    }
    region__notify(s);
    return wait_for(&w, t->err);
}

int region_txn_run(struct region_store *s, const struct region_ctx *ctx,
                   bool read, region_txn_fn fn, void *arg,
                   struct region_err *err)
{
    struct region_err local;
    if (err == NULL)
        err = &local;
    clear_err(err);
    if (s == NULL || ctx == NULL || fn == NULL)
        return REGION_EINVAL;
    int rc;
    raft_term term = 0;
    if (read) {
        struct txn_wait w;
        wait_init(&w);
        rc = region_read(s, ctx, wait_done, &w, err);
        if (rc != 0) {
            pthread_mutex_destroy(&w.mu);
            pthread_cond_destroy(&w.cv);
            return rc;
        }
        rc = wait_for(&w, err);
        if (rc != 0)
            return rc;
    } else {
        pthread_mutex_lock(&s->mu);
        struct region_peer *p;
        struct raft_status st;
        rc = region_lookup(s, ctx, &p, err);
        if (rc == 0)
            rc = leader_check(s, p, &st, err);
        if (rc == 0 && p->applied_term != st.term) {
            /* A command reads the state it decides on (locks, commit
             * records) from this store's engine. A new leader may not
             * have applied entries the old one committed (it learns of
             * their commit with its own term's first entry): deciding on
             * that state could roll back a committed primary or miss a
             * write conflict. So writes wait until it applied an entry
             * of its own term, as reads wait for their read index. */
            rc = REGION_ESERVER_BUSY;
            region__set_err(err, rc, "region %llu: new leader (term %llu) "
                            "has not applied its term's first entry yet",
                            (unsigned long long)p->desc.id,
                            (unsigned long long)st.term);
        }
        term = st.term;
        pthread_mutex_unlock(&s->mu);
        if (rc != 0)
            return rc;
    }
    struct txn_tls t = {s, *ctx, err, term};
    struct txn_tls *saved = cur_txn;
    cur_txn = &t;
    rc = fn(s->mvcc, arg);
    cur_txn = saved;
    return rc;
}

uint64_t region_store_leader_gen(struct region_store *s)
{
    return __atomic_load_n(&s->lead_gen, __ATOMIC_SEQ_CST);
}

uint64_t region_store_report_gen(struct region_store *s)
{
    return __atomic_load_n(&s->report_gen, __ATOMIC_SEQ_CST);
}

int region_store_led_since(struct region_store *s,
                           uint64_t gen,
                           uint64_t *ids,
                           size_t cap,
                           size_t *n)
{
    pthread_mutex_lock(&s->mu);
    size_t k = 0;
    for (size_t i = 0; i < s->n_peers; i++) {
        struct region_peer *p = s->peers[i];
        if (p->role != RAFT_LEADER || (gen != 0 && p->report_gen <= gen))
            continue;
        if (k < cap)
            ids[k] = p->desc.id;
        k++;
    }
    *n = k;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void region_store_on_change(struct region_store *s,
                            void (*fn)(void *),
                            void *ctx)
{
    pthread_mutex_lock(&s->mu);
    s->change_fn = fn;
    s->change_ctx = ctx;
    pthread_mutex_unlock(&s->mu);
}

void region_store_max_ts_synced(struct region_store *s, uint64_t gen)
{
    pthread_mutex_lock(&s->mu);
    if (gen > s->synced_gen) {
        __atomic_store_n(&s->synced_gen, gen, __ATOMIC_SEQ_CST);
        s->stats.max_ts_syncs++;
    }
    pthread_mutex_unlock(&s->mu);
}

int region_txn_check_max_ts(struct region_store *s)
{
    struct txn_tls *t = cur_txn;
    if (t == NULL || t->s != s || t->term == 0)
        return REGION_EINVAL; /* only inside a write's region_txn_run */
    pthread_mutex_lock(&s->mu);
    struct region_peer *p;
    struct raft_status st;
    int rc = region_lookup(s, &t->ctx, &p, t->err);
    if (rc == 0)
        rc = leader_check(s, p, &st, t->err);
    if (rc == 0 && st.term != t->term) {
        rc = REGION_ENOT_LEADER;
        region__set_err(t->err, rc, "region %llu: leadership changed",
                        (unsigned long long)p->desc.id);
    }
    if (rc == 0) {
        note_leadership(s, p, st.term);
        if (p->lead_gen > __atomic_load_n(&s->synced_gen, __ATOMIC_SEQ_CST)) {
            rc = REGION_EMAX_TS_NOT_SYNCED;
            s->stats.max_ts_refused++;
            region__set_err(t->err, rc, "region %llu: max_ts not synced "
                            "since leadership at term %llu",
                            (unsigned long long)p->desc.id,
                            (unsigned long long)st.term);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---------------------------------------------------------------------
 * The store's internals merge.c works with (region_int.h). Under s->mu.
 */
void region__snap_install_moved(struct region_store *s,
                                uint64_t region_id,
                                const struct region_snap_inst *in)
{
    struct region_peer *p = find_any(s, region_id);
    if (p == NULL || p->inst != in)
        return; /* never: nothing frees or replaces an installing peer */
    p->inst_done = true;
    region__activate(s, p);
}

struct region_peer *region__find_peer(struct region_store *s, uint64_t id)
{
    return find_peer(s, id);
}

int region__add_tomb(struct region_store *s, uint64_t id, uint64_t conf_ver)
{
    return add_tomb(s, id, conf_ver);
}

int region__put_region_state(struct mvcc_wbatch *b,
                             const struct region_desc *d)
{
    return put_region_state(b, d);
}

int region__flush_apply(struct region_store *s)
{
    return flush_apply(s);
}

int region__apply_entry(struct region_store *s, struct region_peer *p,
                        const struct raft_entry *e, struct mvcc_wbatch *tmp)
{
    struct apply_out ao;
    memset(&ao, 0, sizeof ao);
    int rc = 0;
    if (e->type == RAFT_ENTRY_NORMAL && e->len > 0)
        rc = apply_cmd(s, p, e, tmp, &ao);
    else if (e->type == RAFT_ENTRY_CONF_CHANGE)
        rc = apply_conf_change(s, p, e);
    mvcc_free(ao.prev);
    return rc;
}

void region__complete_pending(struct region_store *s,
                              struct region_pending *pd, int rc,
                              const struct region_err *err)
{
    complete_pending(s, pd, rc, err);
}

void region__peer_unlink(struct region_store *s, struct region_peer *p)
{
    if (p->act) /* the loop looks at linked peers only */
        act_drop(s, p);
    for (size_t j = 0; j < s->n_peers; j++)
        if (s->peers[j] == p) {
            memmove(&s->peers[j], &s->peers[j + 1],
                    (s->n_peers - j - 1) * sizeof *s->peers);
            s->n_peers--;
            break;
        }
    s->stats.regions = s->n_peers;
    s->leaders_dirty = true;
    idx_del(s, p->desc.id);
}

int region__peer_link(struct region_store *s, struct region_peer *p)
{
    int rc = peer_insert(s, p);
    if (rc == 0) /* unlinking took it off the active list */
        region__activate(s, p);
    return rc;
}

void region__peer_free(struct region_peer *p)
{
    peer_free(p);
}

/* ttl.c: raw keys with a time to live. The value keeps its format; a key
 * with a TTL also has a record (CF lock, 'r' key -> expire_ms) written in
 * the same command. Reads skip expired keys and queue them; leaders delete
 * them through the log (TTL_GC: only while the record still names that
 * expiry); a slow sweep of the records finds the keys nobody reads.
 * DESIGN.md, "Raw TTL".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "region_int.h"

/* Expired keys waiting for a leader's TTL_GC, at most this many. */
#define GC_MAX 256
/* The sweep: every this many election timeouts, look at up to
 * SWEEP_RECORDS records of the regions this store leads (round robin),
 * so keys nobody reads go too. */
#define SWEEP_ELECTIONS 30
#define SWEEP_RECORDS 256

struct region_ttl_key {
    uint64_t region_id; /* region the read was for */
    uint8_t *key;       /* user key (owned) */
    size_t key_len;     /* its length */
    uint64_t expire_ms; /* the record's expiry */
};

struct region_ttl {
    pthread_mutex_t mu;                /* guards the queue (readers take
                                          it without s->mu) */
    bool maybe;                        /* some TTL record may exist
                                          (atomic) */
    struct region_ttl_key q[GC_MAX];   /* expired keys seen by reads */
    size_t n;                          /* used */
    uint64_t expired;                  /* reads that skipped an expired
                                          key (atomic) */
    uint64_t ticks;                    /* region__ttl_gc calls (ticks) */
    uint64_t sweep_region;             /* region the sweep is in (0: the
                                          first by key) */
    uint8_t sweep_key[REGION_MAX_BOUND + 1]; /* engine key it resumes at */
    size_t sweep_key_len;              /* its length (0: region start) */
};

uint64_t region__unix_ms(const struct region_store *s)
{
    if (s->opts.unix_ms)
        return s->opts.unix_ms(s->opts.clock_ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Whether the engine holds any raw TTL record (a seek at open). */
static int any_record(struct region_store *s, bool *any)
{
    uint8_t lo = REGION__RAW, hi = REGION__RAW + 1;
    struct mvcc_iter_opts io = {&lo, 1, &hi, 1};
    struct mvcc_iter *it = NULL;
    int rc = mvcc_engine_iter(s->opts.engine, NULL, MVCC_CF_LOCK, &io, &it);
    if (rc == 0)
        rc = it->ops->seek_to_first(it);
    *any = rc == 0 && it->ops->valid(it);
    mvcc_iter_destroy(it);
    return rc;
}

int region__ttl_init(struct region_store *s)
{
    s->ttl = region__calloc(1, sizeof *s->ttl);
    if (s->ttl == NULL)
        return -ENOMEM;
    pthread_mutex_init(&s->ttl->mu, NULL);
    bool any = false;
    int rc = any_record(s, &any);
    if (rc != 0)
        snprintf(s->errmsg, sizeof s->errmsg, "raw TTL records: %s",
                 mvcc_engine_errmsg(s->opts.engine));
    s->ttl->maybe = any;
    return rc;
}

void region__ttl_free(struct region_store *s)
{
    if (s->ttl == NULL)
        return;
    for (size_t i = 0; i < s->ttl->n; i++)
        region__free(s->ttl->q[i].key);
    pthread_mutex_destroy(&s->ttl->mu);
    region__free(s->ttl);
    s->ttl = NULL;
}

void region__ttl_note(struct region_store *s)
{
    __atomic_store_n(&s->ttl->maybe, true, __ATOMIC_RELEASE);
}

bool region__ttl_maybe(const struct region_store *s)
{
    return __atomic_load_n(&s->ttl->maybe, __ATOMIC_ACQUIRE);
}

uint64_t region__ttl_expiry(struct region_store *s, uint64_t ttl)
{
    uint64_t now = region__unix_ms(s);
    return ttl > (UINT64_MAX - now) / 1000u ? UINT64_MAX : now + ttl * 1000u;
}

size_t region__ttl_record(struct region_store *s, uint64_t ttl,
                          uint8_t out[REGION__TTL_LEN])
{
    region__put_u64(out, region__ttl_expiry(s, ttl));
    return REGION__TTL_LEN;
}

/* The record of engine key ekey: 0 with *exp, MVCC_NOTFOUND without. */
static int record(struct region_store *s, const uint8_t *ekey,
                  size_t ekey_len, uint64_t *exp)
{
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = mvcc_engine_get(s->opts.engine, NULL, MVCC_CF_LOCK, ekey,
                             ekey_len, &v, &vl);
    if (rc != 0)
        return rc;
    rc = vl == REGION__TTL_LEN ? 0 : MVCC_NOTFOUND; /* not ours: ignored */
    if (rc == 0)
        *exp = region__get_u64(v);
    mvcc_free(v);
    return rc;
}

static void queue(struct region_store *s, uint64_t region_id,
                  const uint8_t *key, size_t key_len, uint64_t exp)
{
    struct region_ttl *t = s->ttl;
    pthread_mutex_lock(&t->mu);
    if (t->n < GC_MAX) { /* else dropped: a later read queues it again */
        uint8_t *k = region__memdup(key, key_len ? key_len : 1);
        if (k != NULL)
            t->q[t->n++] = (struct region_ttl_key){region_id, k, key_len,
                                                   exp};
    }
    pthread_mutex_unlock(&t->mu);
}

bool region__ttl_expired(struct region_store *s, uint64_t region_id,
                         const uint8_t *ekey, size_t ekey_len)
{
    if (!__atomic_load_n(&s->ttl->maybe, __ATOMIC_ACQUIRE))
        return false;
    uint64_t exp;
    if (record(s, ekey, ekey_len, &exp) != 0 || exp > region__unix_ms(s))
        return false; /* an engine error reads as no TTL */
    __atomic_add_fetch(&s->ttl->expired, 1, __ATOMIC_RELAXED);
    queue(s, region_id, ekey + 1, ekey_len - 1, exp);
    return true;
}

static void gc_done(void *ud, const struct region_reply *r)
{
    (void)ud;
    (void)r; /* lost or refused: a later read queues the key again */
}

/* One TTL_GC command for region_id with the queued keys q[from..to) of
 * it that still lie in the region, if this store leads it. */
static void gc_propose(struct region_store *s, struct region_ttl_key *q,
                       size_t n, uint64_t region_id)
{
    struct region_ctx ctx = {region_id, 0, 0};
    struct region_peer *p;
    struct region_err err;
    if (region__peer_lookup(s, &ctx, &p, &err) != 0 ||
        p->role != RAFT_LEADER || p->removed)
        return;
    struct mvcc_wbatch *b = NULL;
    if (mvcc_wbatch_create(&b) != 0)
        return;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (q[i].region_id != region_id || q[i].key == NULL ||
            !region_desc_contains(&p->desc, q[i].key, q[i].key_len))
            continue;
        bool dup = false; /* several reads saw it */
        for (size_t j = 0; j < i && !dup; j++)
            dup = q[j].region_id == region_id && q[j].key != NULL &&
                  q[j].key_len == q[i].key_len &&
                  memcmp(q[j].key, q[i].key, q[i].key_len) == 0;
        if (dup)
            continue;
        uint8_t v[REGION__TTL_LEN];
        region__put_u64(v, q[i].expire_ms);
        rc = mvcc_wbatch_put(b, MVCC_CF_LOCK, q[i].key, q[i].key_len, v,
                             sizeof v);
    }
    uint8_t *body = NULL;
    size_t body_len = 0;
    struct region_buf cmd = {0};
    if (rc == 0 && mvcc_wbatch_count(b) > 0 &&
        mvcc_wbatch_encode(b, &body, &body_len) == 0) {
        struct region_cmd c =
            region__cmd_for(p, REGION_CMD_TTL_GC, body, body_len);
        if (region__cmd_encode(&cmd, &c) == 0)
            (void)region__propose(s, p, &cmd, gc_done, NULL, &err);
    }
    mvcc_free(body);
    region__buf_free(&cmd);
    mvcc_wbatch_destroy(b);
}

void region__ttl_before_cas(struct region_store *s,
                            struct region_peer *p,
                            const void *key,
                            size_t key_len)
{
    if (!region__ttl_maybe(s))
        return;
    struct region_buf k = {0};
    region__buf_u8(&k, REGION__RAW);
    region__buf_put(&k, key, key_len);
    uint64_t exp;
    /* an engine error reads as no TTL, as in a read; the CAS then
     * compares with the value */
    if (!k.oom && record(s, k.data, k.len, &exp) == 0 &&
        exp <= region__unix_ms(s)) {
        __atomic_add_fetch(&s->ttl->expired, 1, __ATOMIC_RELAXED);
        struct region_ttl_key q = {p->desc.id, k.data + 1, key_len, exp};
        gc_propose(s, &q, 1, p->desc.id);
    }
    region__buf_free(&k);
}

/* Queue the expired records among the next SWEEP_RECORDS of region p
 * from the sweep's cursor; false when the region is done. Under s->mu
 * (the engine read holds the loop for at most SWEEP_RECORDS records). */
static bool sweep_region(struct region_store *s, struct region_peer *p,
                         uint64_t now)
{
    struct region_ttl *t = s->ttl;
    struct region_range r[REGION__N_RANGES];
    if (region__ranges(&p->desc, r) != 0)
        return false;
    const struct region_range *tr = &r[REGION__RANGE_TTL];
    bool resume = t->sweep_region == p->desc.id && t->sweep_key_len > 0;
    struct mvcc_iter_opts io = {resume ? t->sweep_key : tr->lo,
                                resume ? t->sweep_key_len : tr->lo_len,
                                tr->hi, tr->hi_len};
    struct mvcc_iter *it = NULL;
    bool more = false;
    int rc = mvcc_engine_iter(s->opts.engine, NULL, MVCC_CF_LOCK, &io, &it);
    if (rc == 0)
        rc = it->ops->seek_to_first(it);
    for (int n = 0; rc == 0 && it->ops->valid(it); n++) {
        size_t kl, vl;
        const uint8_t *k = it->ops->key(it, &kl);
        if (n == SWEEP_RECORDS) { /* resume here next time */
            more = kl <= sizeof t->sweep_key;
            if (more) {
                memcpy(t->sweep_key, k, kl);
                t->sweep_key_len = kl;
            }
            break;
        }
        const uint8_t *v = it->ops->value(it, &vl);
        if (vl == REGION__TTL_LEN && region__get_u64(v) <= now)
            queue(s, p->desc.id, k + 1, kl - 1, region__get_u64(v));
        rc = it->ops->next(it);
    }
    mvcc_iter_destroy(it);
    region__ranges_free(r);
    t->sweep_region = p->desc.id;
    if (!more)
        t->sweep_key_len = 0;
    return more;
}

/* Every SWEEP_ELECTIONS election timeouts: one step of the sweep, in the
 * region after the last one swept (by key), if this store leads it. */
static void sweep(struct region_store *s)
{
    struct region_ttl *t = s->ttl;
    uint64_t period = SWEEP_ELECTIONS * (uint64_t)s->opts.election_tick;
    if (++t->ticks % period != 0 || s->n_peers == 0 ||
        !__atomic_load_n(&t->maybe, __ATOMIC_ACQUIRE))
        return;
    size_t i = 0; /* the region swept last, or the next one by key */
    while (i < s->n_peers && s->peers[i]->desc.id != t->sweep_region)
        i++;
    if (i == s->n_peers || t->sweep_key_len == 0)
        i = i == s->n_peers ? 0 : (i + 1) % s->n_peers;
    struct region_peer *p = s->peers[i];
    if (p->role == RAFT_LEADER && !p->removed) {
        (void)sweep_region(s, p, region__unix_ms(s));
    } else { /* its leader sweeps it */
        t->sweep_region = p->desc.id;
        t->sweep_key_len = 0;
    }
}

void region__ttl_gc(struct region_store *s)
{
    struct region_ttl *t = s->ttl;
    sweep(s);
    pthread_mutex_lock(&t->mu);
    size_t n = t->n;
    struct region_ttl_key q[GC_MAX];
    memcpy(q, t->q, n * sizeof q[0]);
    t->n = 0;
    pthread_mutex_unlock(&t->mu);
    for (size_t i = 0; i < n; i++) {
        if (q[i].key == NULL)
            continue;
        uint64_t id = q[i].region_id;
        gc_propose(s, q, n, id);
        for (size_t j = i; j < n; j++) /* this region's keys are done */
            if (q[j].region_id == id) {
                region__free(q[j].key);
                q[j].key = NULL;
            }
    }
}

int region__ttl_apply_gc(struct region_store *s, const struct region_cmd *c,
                         struct mvcc_wbatch *tmp)
{
    mvcc_wbatch_clear(tmp);
    if (mvcc_wbatch_decode(tmp, c->body, c->body_len) != 0)
        return 0; /* malformed: nothing to delete */
    struct region_buf k = {0};
    int rc = 0;
    size_t n = mvcc_wbatch_count(tmp);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(tmp, i, &op);
        if (op.type != MVCC_WOP_PUT || op.value_len != REGION__TTL_LEN)
            continue;
        k.len = 0;
        region__buf_u8(&k, REGION__RAW);
        region__buf_put(&k, op.key, op.key_len);
        if (k.oom) {
            rc = -ENOMEM;
            break;
        }
        uint64_t exp;
        int r = record(s, k.data, k.len, &exp);
        if (r == MVCC_NOTFOUND || (r == 0 && exp != region__get_u64(op.value)))
            continue; /* rewritten or deleted since: not expired any more */
        if (r != 0) {
            rc = r;
            break;
        }
        rc = mvcc_wbatch_delete(s->ab, MVCC_CF_DEFAULT, k.data, k.len);
        if (rc == 0)
            rc = mvcc_wbatch_delete(s->ab, MVCC_CF_LOCK, k.data, k.len);
        s->stats.ttl_removed++;
    }
    region__buf_free(&k);
    return rc;
}

int region_raw_ttl(struct region_store *s, const struct region_ctx *ctx,
                   const void *key, size_t key_len, uint64_t *ttl,
                   bool *has_ttl, struct region_err *err)
{
    *ttl = 0;
    *has_ttl = false;
    int rc = region_check_key(s, ctx, key, key_len, err);
    if (rc != 0)
        return rc;
    struct region_buf k = {0};
    region__buf_u8(&k, REGION__RAW);
    region__buf_put(&k, key, key_len);
    if (k.oom) {
        region__buf_free(&k);
        return -ENOMEM;
    }
    uint8_t *v = NULL;
    size_t vl = 0;
    rc = mvcc_engine_get(s->opts.engine, NULL, MVCC_CF_DEFAULT, k.data, k.len,
                         &v, &vl);
    mvcc_free(v);
    uint64_t exp = 0;
    if (rc == 0) {
        rc = record(s, k.data, k.len, &exp);
        *has_ttl = rc == 0;
        rc = rc == MVCC_NOTFOUND ? 0 : rc;
    }
    if (rc == 0 && *has_ttl) {
        uint64_t now = region__unix_ms(s);
        if (exp <= now) {
            queue(s, ctx->region_id, key, key_len, exp);
            *has_ttl = false;
            rc = MVCC_NOTFOUND;
        } else {
            *ttl = (exp - now + 999) / 1000;
        }
    }
    region__buf_free(&k);
    return rc;
}

uint64_t region__ttl_expired_reads(const struct region_store *s)
{
    return s->ttl ? __atomic_load_n(&s->ttl->expired, __ATOMIC_RELAXED) : 0;
}

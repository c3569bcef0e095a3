/* read.c: reads answered on the caller's thread under the leader's lease:
 * no read index round, no turn of the store's loop, no hand-off to a
 * worker. Anything short of a leader with a valid lease that has applied
 * up to its commit index is left to the barrier path (region_read,
 * region_txn_run). DESIGN.md, "Reads".
 */
#include <errno.h>

#include "region_int.h"

/* Under s->mu: ctx's peer (*pp) leads under a lease that holds now and
 * has applied up to its commit index (0), else -EAGAIN or the epoch
 * check's region error. */
static int lease_peer(struct region_store *s, const struct region_ctx *ctx,
                      struct region_peer **pp, struct region_err *err)
{
    struct region_peer *p;
    int rc = region__peer_lookup(s, ctx, &p, err);
    if (rc != 0)
        return rc;
    raft_index idx = 0;
    /* The lease is checked at this store's current tick; libraft keeps a
     * tick of margin for a call landing between ticks, as for
     * raft_node_read_index. Applied up to the commit index: the engine
     * holds every write acknowledged before this read began, and
     * whatever it holds beyond that is committed too. */
    if (p->removed || !raft_node_lease_valid(p->node, &idx) ||
        p->applied < idx)
        return -EAGAIN;
    *pp = p;
    return 0;
}

/* lease_peer, counted; with key, the key must lie in the region too. */
static int leased(struct region_store *s, const struct region_ctx *ctx,
                  const void *key, size_t key_len, struct region_err *err)
{
    struct region_peer *p;
    int rc = lease_peer(s, ctx, &p, err);
    if (rc != 0)
        return rc;
    if (key != NULL && (rc = region__key_check(p, key, key_len, err)) != 0)
        return rc;
    s->stats.reads_inline++;
    return 0;
}

int region_read_now(struct region_store *s, const struct region_ctx *ctx,
                    region_txn_fn fn, void *arg, struct region_err *err)
{
    struct region_err local;
    if (err == NULL)
        err = &local;
    if (s == NULL || ctx == NULL || fn == NULL)
        return REGION_EINVAL;
    pthread_mutex_lock(&s->mu);
    int rc = leased(s, ctx, NULL, 0, err);
    pthread_mutex_unlock(&s->mu);
    if (rc != 0)
        return rc;
    return fn(s->mvcc, arg);
}

int region_raw_get_now(struct region_store *s, const struct region_ctx *ctx,
                       const void *key, size_t key_len, uint8_t **value,
                       size_t *value_len, struct region_err *err)
{
    struct region_err local;
    if (err == NULL)
        err = &local;
    if (s == NULL || ctx == NULL || (key == NULL && key_len != 0) ||
        value == NULL || value_len == NULL)
        return REGION_EINVAL;
    /* not the whole struct (its region is 600 bytes): what a code reads */
    err->code = 0;
    err->leader = 0;
    err->has_region = false;
    err->msg[0] = '\0';
    pthread_mutex_lock(&s->mu);
    int rc = leased(s, ctx, key != NULL ? key : "", key_len, err);
    pthread_mutex_unlock(&s->mu);
    if (rc != 0)
        return rc;
    return region__raw_get_engine(s, ctx->region_id, key, key_len, value,
                                  value_len);
}

int region_raw_get_now_n(struct region_store *s, const struct region_ctx *ctx,
                         struct region_raw_read *r, size_t n)
{
    if (s == NULL || ctx == NULL || (r == NULL && n != 0))
        return REGION_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (r[i].key == NULL && r[i].key_len != 0)
            return REGION_EINVAL;
    /* A chunk's reads follow its check by microseconds, as one read's do
     * in region_raw_get_now: the lease's margin (libraft "Reads") covers
     * that, not an unbounded batch, hence a check per chunk. */
    struct region_err err;
    for (size_t i = 0; i < n; i += REGION_READ_CHUNK) {
        size_t end = n - i < REGION_READ_CHUNK ? n : i + REGION_READ_CHUNK;
        struct region_peer *p = NULL;
        pthread_mutex_lock(&s->mu);
        int rc = lease_peer(s, ctx, &p, &err);
        for (size_t j = i; j < end; j++) {
            r[j].value = NULL;
            r[j].value_len = 0;
            r[j].rc = rc != 0 ? rc
                              : region__key_check(p, r[j].key != NULL
                                                         ? r[j].key : "",
                                                  r[j].key_len, &err);
            if (r[j].rc == 0)
                s->stats.reads_inline++;
        }
        pthread_mutex_unlock(&s->mu);
        for (size_t j = i; j < end; j++)
            if (r[j].rc == 0)
                r[j].rc = region__raw_get_engine(
                    s, ctx->region_id, r[j].key != NULL ? r[j].key : "",
                    r[j].key_len, &r[j].value, &r[j].value_len);
    }
    return 0;
}

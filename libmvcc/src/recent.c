/* recent.c: the store's recent-writes table, for stores that are their
 * engine's only writer (with a lock table): the newest write-CF ts of
 * recently written keys and, for every other key, a bound (the floor) that
 * all its records are at or below. Prewrite's write-conflict check asks it
 * first and seeks CF write only when the bound is not below start_ts
 * (DESIGN.md, "Recent writes").
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "codec.h"
#include "mvcc_int.h"

#define RW_PARTS 16   /* partitions, each under its own mutex */
#define RW_CAP 256    /* entries per partition (a FIFO ring) */
#define RW_BUCKETS 512 /* hash chains per partition (power of two) */
#define RW_KEY_MAX 72 /* longest encoded key kept (user keys < 64 bytes) */

struct rw_slot
{
    uint64_t hash;           /* of the encoded key */
    mvcc_ts ts;              /* newest ts of the key's write-CF records */
    int32_t next;            /* next slot in the bucket chain, -1 ends */
    uint8_t klen;            /* encoded key length; 0 = empty slot */
    uint8_t key[RW_KEY_MAX]; /* encoded key (no ts) */
};

struct rw_part
{
    pthread_mutex_t mu;          /* guards everything below */
    mvcc_ts floor;               /* bound for keys without a slot */
    uint32_t head;               /* next ring slot to fill */
    int32_t bucket[RW_BUCKETS];  /* chain heads, -1 empty */
    struct rw_slot slot[RW_CAP]; /* the ring */
};

struct mvcc__recent
{
    struct rw_part part[RW_PARTS]; /* by hash */
};

static uint64_t hash(const uint8_t *k, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    /* FNV's high bits barely change between keys that differ in their
     * last bytes: mix (MurmurHash3's finalizer) before choosing the
     * partition and bucket. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

int mvcc__rw_create(mvcc_ts floor, struct mvcc__recent **out)
{
    struct mvcc__recent *t = mvcc__calloc(1, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    for (int p = 0; p < RW_PARTS; p++) {
        struct rw_part *rp = &t->part[p];
        pthread_mutex_init(&rp->mu, NULL);
        rp->floor = floor;
        for (int b = 0; b < RW_BUCKETS; b++)
            rp->bucket[b] = -1;
    }
    *out = t;
    return 0;
}

void mvcc__rw_destroy(struct mvcc__recent *t)
{
    if (t == NULL)
        return;
    for (int p = 0; p < RW_PARTS; p++)
        pthread_mutex_destroy(&t->part[p].mu);
    mvcc__free(t);
}

static struct rw_part *part_of(struct mvcc__recent *t, uint64_t h)
{
    return &t->part[(h >> 32) % RW_PARTS];
}

/* The slot holding key k in rp, or -1; *link the chain link pointing at
 * it (for unlinking). */
static int32_t find(struct rw_part *rp, uint64_t h, const uint8_t *k,
                    size_t kl, int32_t **link)
{
    int32_t *l = &rp->bucket[h & (RW_BUCKETS - 1)];
    while (*l >= 0) {
        struct rw_slot *s = &rp->slot[*l];
        if (s->hash == h && s->klen == kl && memcmp(s->key, k, kl) == 0)
            break;
        l = &s->next;
    }
    if (link)
        *link = l;
    return *l;
}

static void unlink_slot(struct rw_part *rp, int32_t i)
{
    struct rw_slot *s = &rp->slot[i];
    int32_t *l;
    int32_t at = find(rp, s->hash, s->key, s->klen, &l);
    assert(at == i);
    (void)at;
    *l = s->next;
    s->klen = 0;
}

mvcc_ts mvcc__rw_bound(struct mvcc__recent *t, const uint8_t *k, size_t kl)
{
    uint64_t h = hash(k, kl);
    struct rw_part *rp = part_of(t, h);
    pthread_mutex_lock(&rp->mu);
    int32_t i = kl <= RW_KEY_MAX ? find(rp, h, k, kl, NULL) : -1;
    mvcc_ts b = i >= 0 ? rp->slot[i].ts : rp->floor;
    pthread_mutex_unlock(&rp->mu);
    return b;
}

void mvcc__rw_note(struct mvcc__recent *t, const uint8_t *k, size_t kl,
                   mvcc_ts ts)
{
    uint64_t h = hash(k, kl);
    struct rw_part *rp = part_of(t, h);
    pthread_mutex_lock(&rp->mu);
    if (kl == 0 || kl > RW_KEY_MAX) {
        /* Not kept: the floor covers it. */
        if (ts > rp->floor)
            rp->floor = ts;
        goto out;
    }
    int32_t old = find(rp, h, k, kl, NULL);
    if (old >= 0) {
        /* Newest first: the key moves to the ring's young end. */
        if (rp->slot[old].ts > ts)
            ts = rp->slot[old].ts;
        unlink_slot(rp, old);
    }
    int32_t i = (int32_t)rp->head;
    rp->head = (rp->head + 1) % RW_CAP;
    struct rw_slot *s = &rp->slot[i];
    if (s->klen != 0) {
        /* Evicted: its key falls back to the floor, raised to cover it. */
        if (s->ts > rp->floor)
            rp->floor = s->ts;
        unlink_slot(rp, i);
    }
    s->hash = h;
    s->ts = ts;
    s->klen = (uint8_t)kl;
    memcpy(s->key, k, kl);
    int32_t *b = &rp->bucket[h & (RW_BUCKETS - 1)];
    s->next = *b;
    *b = i;
out:
    pthread_mutex_unlock(&rp->mu);
}

void mvcc__rw_apply(struct mvcc__recent *t, const struct mvcc_wbatch *b)
{
    /* Only puts make a key's newest record newer; deletes (GC, delete
     * range) leave the bounds true, if looser. */
    for (size_t i = 0; i < b->nops; i++) {
        const struct mvcc__wop *op = &b->ops[i];
        if (op->type != MVCC_WOP_PUT || op->cf != MVCC_CF_WRITE ||
            op->key_len < 8)
            continue;
        const uint8_t *k = b->arena.data + op->key_off;
        mvcc__rw_note(t, k, op->key_len - 8, mvcc__key_ts(k, op->key_len));
    }
}

/* memengine.c: the ordered in-memory engine. One skiplist per column family
 * holds (key, seq) versions, newest first per key; a snapshot is a sequence
 * number, so taking one costs nothing. Versions no live snapshot can see are
 * pruned on write (DESIGN.md, "Engine: in-memory").
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "mvcc_int.h"

#define MAXH 20

struct node
{
    uint8_t *val;    /* value bytes, owned (NULL for a tombstone or empty) */
    size_t vlen;     /* value length */
    size_t klen;     /* key length */
    uint64_t seq;    /* batch sequence number that wrote this version */
    bool tomb;       /* a deletion marker */
    int height;      /* levels in next[] */
    uint8_t *key;    /* key bytes, stored after next[] */
    struct node *next[]; /* forward links, height of them */
};

struct slist
{
    struct node *head; /* sentinel with MAXH levels */
    int height;        /* levels in use */
};

struct mvcc_snapshot
{
    uint64_t seq;               /* sees versions with seq <= this */
    struct mvcc_snapshot *prev; /* older live snapshot */
    struct mvcc_snapshot *next; /* newer live snapshot */
};

struct memeng
{
    struct mvcc_engine base;       /* must be first */
    pthread_rwlock_t lock;         /* readers share, a batch is exclusive */
    pthread_mutex_t snap_mu;       /* guards the snapshot list */
    uint64_t seq;                  /* last batch's sequence number */
    uint32_t rng;                  /* xorshift state for node heights */
    struct slist cf[MVCC_ENGINE_CF_COUNT]; /* one list per column family */
    struct mvcc_snapshot *oldest;  /* live snapshots, oldest first */
    struct mvcc_snapshot *newest;  /* newest live snapshot */
};

struct memiter
{
    struct mvcc_iter base;     /* must be first */
    struct memeng *e;          /* engine */
    struct slist *l;           /* column family list */
    struct mvcc_snapshot *own; /* snapshot held for the iterator's life */
    uint64_t seq;              /* read view */
    uint8_t *lower, *upper;    /* copied bounds or NULL */
    size_t lower_len, upper_len; /* their lengths */
    struct node *cur;          /* visible version under the cursor or NULL */
};

static int kcmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

/* Order: key ascending, then seq descending. */
static int ncmp(const struct node *n, const uint8_t *k, size_t kl,
                uint64_t seq)
{
    int c = kcmp(n->key, n->klen, k, kl);
    if (c != 0)
        return c;
    return n->seq > seq ? -1 : n->seq < seq ? 1 : 0;
}

static struct node *node_new(int h, const uint8_t *k, size_t kl)
{
    struct node *n =
        mvcc__malloc(sizeof *n + (size_t)h * sizeof(struct node *) + kl);
    if (n == NULL)
        return NULL;
    memset(n, 0, sizeof *n + (size_t)h * sizeof(struct node *));
    n->height = h;
    n->key = (uint8_t *)&n->next[h];
    if (kl)
        memcpy(n->key, k, kl);
    n->klen = kl;
    return n;
}

static void node_free(struct node *n)
{
    mvcc__free(n->val);
    mvcc__free(n);
}

/* First node >= (k, seq); fills upd[] with the predecessors if asked. */
static struct node *find_ge(struct slist *l, const uint8_t *k, size_t kl,
                            uint64_t seq, struct node **upd)
{
    struct node *x = l->head;
    for (int i = l->height - 1; i >= 0; i--) {
        while (x->next[i] && ncmp(x->next[i], k, kl, seq) < 0)
            x = x->next[i];
        if (upd)
            upd[i] = x;
    }
    return x->next[0];
}

/* Last node whose key is < k (any seq); the head if none. */
static struct node *find_lt(struct slist *l, const uint8_t *k, size_t kl)
{
    struct node *x = l->head;
    for (int i = l->height - 1; i >= 0; i--)
        while (x->next[i] && kcmp(x->next[i]->key, x->next[i]->klen, k, kl) < 0)
            x = x->next[i];
    return x;
}

static struct node *find_last(struct slist *l)
{
    struct node *x = l->head;
    for (int i = l->height - 1; i >= 0; i--)
        while (x->next[i])
            x = x->next[i];
    return x;
}

static int rand_height(struct memeng *e)
{
    int h = 1;
    for (;;) {
        uint32_t x = e->rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        e->rng = x;
        if (h >= MAXH || (x & 3) != 0)
            return h;
        h++;
    }
}

static void unlink_node(struct slist *l, struct node *n)
{
    struct node *upd[MAXH];
    struct node *x = find_ge(l, n->key, n->klen, n->seq, upd);
    if (x != n)
        return;
    for (int i = 0; i < n->height; i++)
        if (upd[i]->next[i] == n)
            upd[i]->next[i] = n->next[i];
    node_free(n);
}

static uint64_t min_live(struct memeng *e)
{
    /* The list is in creation order, but an iterator's snapshot may carry
     * an older view (its caller's), so take the true minimum. */
    pthread_mutex_lock(&e->snap_mu);
    uint64_t m = e->seq;
    for (struct mvcc_snapshot *s = e->oldest; s; s = s->next)
        if (s->seq < m)
            m = s->seq;
    pthread_mutex_unlock(&e->snap_mu);
    return m;
}

/* Drops versions of key no live snapshot can see: below the newest version
 * at or under min_live, and that one too if it is a bottom tombstone. */
static void prune(struct slist *l, const uint8_t *k, size_t kl, uint64_t live)
{
    struct node *x = find_ge(l, k, kl, live, NULL);
    if (x == NULL || kcmp(x->key, x->klen, k, kl) != 0)
        return;
    /* x is the version a reader at `live` sees; everything older goes. */
    for (;;) {
        struct node *o = x->next[0];
        if (o == NULL || kcmp(o->key, o->klen, k, kl) != 0)
            break;
        unlink_node(l, o);
    }
    if (x->tomb)
        unlink_node(l, x);
}

static int insert(struct memeng *e, struct slist *l, const uint8_t *k,
                  size_t kl, const uint8_t *v, size_t vl, bool tomb)
{
    struct node *upd[MAXH];
    struct node *x = find_ge(l, k, kl, e->seq, upd);
    uint8_t *val = NULL;
    if (!tomb && vl > 0) {
        val = mvcc__memdup(v, vl);
        if (val == NULL)
            return -ENOMEM;
    }
    if (x && ncmp(x, k, kl, e->seq) == 0) {
        mvcc__free(x->val); /* same key twice in one batch: last wins */
    } else {
        int h = rand_height(e);
        x = node_new(h, k, kl);
        if (x == NULL) {
            mvcc__free(val);
            return -ENOMEM;
        }
        x->seq = e->seq;
        if (h > l->height) {
            for (int i = l->height; i < h; i++)
                upd[i] = l->head;
            l->height = h;
        }
        for (int i = 0; i < h; i++) {
            x->next[i] = upd[i]->next[i];
            upd[i]->next[i] = x;
        }
    }
    x->val = val;
    x->vlen = tomb ? 0 : vl;
    x->tomb = tomb;
    return 0;
}

/* The version of n's key visible at seq, starting the search at n (the first
 * node of that key at or after the cursor). NULL if none or deleted. */
static struct node *visible_from(struct node *n, uint64_t seq)
{
    struct node *x = n;
    while (x && x->klen == n->klen && memcmp(x->key, n->key, n->klen) == 0) {
        if (x->seq <= seq)
            return x->tomb ? NULL : x;
        x = x->next[0];
    }
    return NULL;
}

static struct node *skip_key(struct node *n)
{
    struct node *x = n->next[0];
    while (x && kcmp(x->key, x->klen, n->key, n->klen) == 0)
        x = x->next[0];
    return x;
}

static int delete_range(struct memeng *e, struct slist *l, const uint8_t *s,
                        size_t sl, const uint8_t *en, size_t el)
{
    /* Tombstone every key live in [s, en) as of the ops before this one.
     * Nothing is unlinked during a batch, so nx stays valid. */
    struct node *x = find_ge(l, s, sl, UINT64_MAX, NULL);
    while (x && kcmp(x->key, x->klen, en, el) < 0) {
        struct node *nx = skip_key(x);
        struct node *v = visible_from(x, e->seq);
        if (v != NULL) {
            int rc = insert(e, l, v->key, v->klen, NULL, 0, true);
            if (rc != 0)
                return rc;
        }
        x = nx;
    }
    return 0;
}

/* Undoes a failed batch: unlinks every version it wrote (all carry the
 * batch's sequence number; nothing older was pruned yet). */
static void undo_batch(struct memeng *e)
{
    for (int c = 0; c < MVCC_ENGINE_CF_COUNT; c++) {
        struct slist *l = &e->cf[c];
        struct node *x = l->head->next[0];
        while (x) {
            struct node *nx = x->next[0];
            if (x->seq == e->seq)
                unlink_node(l, x);
            x = nx;
        }
    }
    e->seq--;
}

/* After a batch: drop what no snapshot can see any more, key by key. */
static void prune_batch(struct memeng *e, const struct mvcc_wbatch *b)
{
    uint64_t live = min_live(e);
    for (size_t i = 0; i < b->nops; i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(b, i, &op);
        struct slist *l = &e->cf[op.cf];
        if (op.type != MVCC_WOP_DELETE_RANGE) {
            prune(l, op.key, op.key_len, live);
            continue;
        }
        struct node *x = find_ge(l, op.key, op.key_len, UINT64_MAX, NULL);
        while (x && kcmp(x->key, x->klen, op.value, op.value_len) < 0) {
            struct node *nx = skip_key(x); /* another key: survives */
            prune(l, x->key, x->klen, live);
            x = nx;
        }
    }
}

static int mem_write(struct mvcc_engine *base, const struct mvcc_wbatch *b,
                     bool sync)
{
    struct memeng *e = (struct memeng *)base;
    int rc = 0;
    (void)sync;
    /* Bounds are checked before anything changes; a failure mid-batch
     * (out of memory) is undone, so a batch applies all or nothing. */
    for (size_t i = 0; i < b->nops; i++)
        if (b->ops[i].cf < 0 || b->ops[i].cf >= MVCC_ENGINE_CF_COUNT)
            return -EINVAL;
    pthread_rwlock_wrlock(&e->lock);
    e->seq++;
    for (size_t i = 0; i < b->nops && rc == 0; i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(b, i, &op);
        struct slist *l = &e->cf[op.cf];
        switch (op.type) {
        case MVCC_WOP_PUT:
            rc = insert(e, l, op.key, op.key_len, op.value, op.value_len,
                        false);
            break;
        case MVCC_WOP_DELETE:
            rc = insert(e, l, op.key, op.key_len, NULL, 0, true);
            break;
        case MVCC_WOP_DELETE_RANGE:
            rc = delete_range(e, l, op.key, op.key_len, op.value,
                              op.value_len);
            break;
        default:
            rc = -EINVAL;
        }
    }
    if (rc != 0)
        undo_batch(e); /* all or nothing, even out of memory */
    else
        prune_batch(e, b);
    pthread_rwlock_unlock(&e->lock);
    if (rc != 0)
        mvcc__engine_seterr(base, "memengine write: %s", mvcc_strerror(rc));
    return rc;
}

static int mem_get(struct mvcc_engine *base, const struct mvcc_snapshot *snap,
                   int cf, const void *key, size_t klen, uint8_t **value,
                   size_t *vlen)
{
    struct memeng *e = (struct memeng *)base;
    int rc = MVCC_NOTFOUND;
    pthread_rwlock_rdlock(&e->lock);
    uint64_t seq = snap ? snap->seq : e->seq;
    struct node *x = find_ge(&e->cf[cf], key, klen, seq, NULL);
    if (x && kcmp(x->key, x->klen, key, klen) == 0 && !x->tomb) {
        uint8_t *v = mvcc__memdup(x->val, x->vlen);
        if (v == NULL) {
            rc = -ENOMEM;
        } else {
            *value = v;
            *vlen = x->vlen;
            rc = 0;
        }
    }
    pthread_rwlock_unlock(&e->lock);
    return rc;
}

static int mem_snapshot(struct mvcc_engine *base, struct mvcc_snapshot **out)
{
    struct memeng *e = (struct memeng *)base;
    struct mvcc_snapshot *s = mvcc__calloc(1, sizeof *s);
    if (s == NULL)
        return -ENOMEM;
    pthread_rwlock_rdlock(&e->lock); /* no batch half-applied */
    pthread_mutex_lock(&e->snap_mu);
    s->seq = e->seq;
    s->prev = e->newest;
    if (e->newest)
        e->newest->next = s;
    else
        e->oldest = s;
    e->newest = s;
    pthread_mutex_unlock(&e->snap_mu);
    pthread_rwlock_unlock(&e->lock);
    *out = s;
    return 0;
}

static void mem_snapshot_release(struct mvcc_engine *base,
                                 struct mvcc_snapshot *s)
{
    struct memeng *e = (struct memeng *)base;
    pthread_mutex_lock(&e->snap_mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        e->oldest = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        e->newest = s->prev;
    pthread_mutex_unlock(&e->snap_mu);
    mvcc__free(s);
}

/* Iterators. The cursor node stays linked while the iterator lives: pruning
 * removes only versions older than every live snapshot's view, and the
 * iterator holds a snapshot. Each call takes the read lock. */

static bool below_upper(struct memiter *it, const struct node *n)
{
    return it->upper == NULL ||
           kcmp(n->key, n->klen, it->upper, it->upper_len) < 0;
}

static bool above_lower(struct memiter *it, const struct node *n)
{
    return it->lower == NULL ||
           kcmp(n->key, n->klen, it->lower, it->lower_len) >= 0;
}

static void fwd(struct memiter *it, struct node *x)
{
    while (x && below_upper(it, x)) {
        struct node *v = visible_from(x, it->seq);
        if (v) {
            it->cur = v;
            return;
        }
        x = skip_key(x);
    }
    it->cur = NULL;
}

static void bwd(struct memiter *it, struct node *x)
{
    while (x && x != it->l->head && above_lower(it, x)) {
        struct node *first = find_ge(it->l, x->key, x->klen, UINT64_MAX, NULL);
        struct node *v = visible_from(first, it->seq);
        if (v) {
            it->cur = v;
            return;
        }
        x = find_lt(it->l, x->key, x->klen);
    }
    it->cur = NULL;
}

static int it_seek(struct mvcc_iter *base, const void *k, size_t kl)
{
    struct memiter *it = (struct memiter *)base;
    if (it->lower && kcmp(k, kl, it->lower, it->lower_len) < 0) {
        k = it->lower;
        kl = it->lower_len;
    }
    pthread_rwlock_rdlock(&it->e->lock);
    fwd(it, find_ge(it->l, k, kl, UINT64_MAX, NULL));
    pthread_rwlock_unlock(&it->e->lock);
    return 0;
}

static int it_seek_first(struct mvcc_iter *base)
{
    struct memiter *it = (struct memiter *)base;
    return it_seek(base, it->lower ? it->lower : (const uint8_t *)"",
                   it->lower ? it->lower_len : 0);
}

static int it_seek_for_prev(struct mvcc_iter *base, const void *k, size_t kl)
{
    struct memiter *it = (struct memiter *)base;
    pthread_rwlock_rdlock(&it->e->lock);
    if (it->upper && kcmp(k, kl, it->upper, it->upper_len) >= 0) {
        bwd(it, find_lt(it->l, it->upper, it->upper_len));
    } else {
        struct node *x = find_ge(it->l, k, kl, UINT64_MAX, NULL);
        struct node *v = NULL;
        if (x && kcmp(x->key, x->klen, k, kl) == 0 && above_lower(it, x))
            v = visible_from(x, it->seq);
        if (v)
            it->cur = v;
        else
            bwd(it, find_lt(it->l, k, kl));
    }
    pthread_rwlock_unlock(&it->e->lock);
    return 0;
}

static int it_seek_last(struct mvcc_iter *base)
{
    struct memiter *it = (struct memiter *)base;
    pthread_rwlock_rdlock(&it->e->lock);
    if (it->upper)
        bwd(it, find_lt(it->l, it->upper, it->upper_len));
    else
        bwd(it, find_last(it->l));
    pthread_rwlock_unlock(&it->e->lock);
    return 0;
}

static int it_next(struct mvcc_iter *base)
{
    struct memiter *it = (struct memiter *)base;
    if (it->cur == NULL)
        return -EINVAL;
    pthread_rwlock_rdlock(&it->e->lock);
    fwd(it, skip_key(it->cur));
    pthread_rwlock_unlock(&it->e->lock);
    return 0;
}

static int it_prev(struct mvcc_iter *base)
{
    struct memiter *it = (struct memiter *)base;
    if (it->cur == NULL)
        return -EINVAL;
    pthread_rwlock_rdlock(&it->e->lock);
    bwd(it, find_lt(it->l, it->cur->key, it->cur->klen));
    pthread_rwlock_unlock(&it->e->lock);
    return 0;
}

static bool it_valid(const struct mvcc_iter *base)
{
    return ((const struct memiter *)base)->cur != NULL;
}

static const uint8_t *it_key(const struct mvcc_iter *base, size_t *len)
{
    const struct memiter *it = (const struct memiter *)base;
    *len = it->cur->klen;
    return it->cur->key;
}

static const uint8_t *it_value(const struct mvcc_iter *base, size_t *len)
{
    const struct memiter *it = (const struct memiter *)base;
    static const uint8_t empty[1];
    *len = it->cur->vlen;
    return it->cur->val ? it->cur->val : empty;
}

static void it_destroy(struct mvcc_iter *base)
{
    struct memiter *it = (struct memiter *)base;
    mem_snapshot_release(&it->e->base, it->own);
    mvcc__free(it->lower);
    mvcc__free(it->upper);
    mvcc__free(it);
}

static const struct mvcc_iter_ops memiter_ops = {
    it_seek, it_seek_for_prev, it_seek_first, it_seek_last, it_next,
    it_prev, it_valid,         it_key,        it_value,     it_destroy,
};

static int mem_iter(struct mvcc_engine *base, const struct mvcc_snapshot *snap,
                    int cf, const struct mvcc_iter_opts *o,
                    struct mvcc_iter **out)
{
    struct memeng *e = (struct memeng *)base;
    struct memiter *it = mvcc__calloc(1, sizeof *it);
    int rc = -ENOMEM;
    if (it == NULL)
        return rc;
    it->base.ops = &memiter_ops;
    it->e = e;
    it->l = &e->cf[cf];
    if (o && o->lower) {
        it->lower = mvcc__memdup(o->lower, o->lower_len);
        it->lower_len = o->lower_len;
        if (it->lower == NULL)
            goto err;
    }
    if (o && o->upper) {
        it->upper = mvcc__memdup(o->upper, o->upper_len);
        it->upper_len = o->upper_len;
        if (it->upper == NULL)
            goto err;
    }
    /* Hold a snapshot at the requested view (or now) so the versions the
     * iterator may visit stay linked. */
    rc = mem_snapshot(base, &it->own);
    if (rc != 0)
        goto err;
    if (snap) {
        pthread_mutex_lock(&e->snap_mu);
        it->own->seq = snap->seq; /* snap is live, so its versions are */
        pthread_mutex_unlock(&e->snap_mu);
    }
    it->seq = it->own->seq;
    *out = &it->base;
    return 0;
err:
    mvcc__free(it->lower);
    mvcc__free(it->upper);
    mvcc__free(it);
    return rc;
}

static void mem_destroy(struct mvcc_engine *base)
{
    struct memeng *e = (struct memeng *)base;
    for (int c = 0; c < MVCC_ENGINE_CF_COUNT; c++) {
        struct node *x = e->cf[c].head;
        while (x) {
            struct node *n = x->next[0];
            node_free(x);
            x = n;
        }
    }
    while (e->oldest) {
        struct mvcc_snapshot *s = e->oldest;
        e->oldest = s->next;
        mvcc__free(s);
    }
    pthread_rwlock_destroy(&e->lock);
    pthread_mutex_destroy(&e->snap_mu);
    mvcc__free(e);
}

static const struct mvcc_engine_ops mem_ops = {
    mem_get,  mem_write,        mem_snapshot, mem_snapshot_release,
    mem_iter, mem_destroy,      NULL,         NULL,
};

int mvcc_memengine_create(struct mvcc_engine **out)
{
    struct memeng *e = mvcc__calloc(1, sizeof *e);
    if (e == NULL)
        return -ENOMEM;
    e->base.ops = &mem_ops;
    e->rng = 0x9e3779b9u;
    for (int c = 0; c < MVCC_ENGINE_CF_COUNT; c++) {
        e->cf[c].head = node_new(MAXH, NULL, 0);
        e->cf[c].height = 1;
        if (e->cf[c].head == NULL) {
            for (int d = 0; d < c; d++)
                node_free(e->cf[d].head);
            mvcc__free(e);
            return -ENOMEM;
        }
    }
    pthread_rwlock_init(&e->lock, NULL);
    pthread_mutex_init(&e->snap_mu, NULL);
    *out = &e->base;
    return 0;
}

/* locktab.c: the store's lock table, an in-memory copy of the engine's
 * lock CF for stores that are its only writer (mvcc_store_opts.lock_table;
 * DESIGN.md, "Lock table"), plus the locks of lone primaries, which live
 * here alone until mvcc_store_close ("Failure and recovery"). Lock reads
 * are served from it, so the lock CF is written, never read, while the
 * store runs. Kept exact by applying every batch the store writes:
 * entries are allocated before the engine write and linked after it
 * succeeds, so a failed allocation or write leaves table and engine as
 * they were.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mvcc_int.h"

#define LT_BUCKETS 16384 /* power of two */
#define LT_STRIPES 64    /* mutexes; bucket i uses stripe i % LT_STRIPES */

struct mvcc__lt_entry
{
    struct mvcc__lt_entry *next; /* bucket chain */
    uint64_t hash;         /* of the key */
    size_t klen;           /* encoded key length */
    size_t vlen;           /* lock record length */
    uint8_t data[];        /* key, then record */
};

struct mvcc__locktab
{
    pthread_mutex_t mu[LT_STRIPES]; /* stripe locks */
    struct mvcc__lt_entry **b;            /* LT_BUCKETS chains */
    size_t n;                       /* entries (atomic reads) */
    /* bit i: bucket i holds an entry, changed (atomically: a word spans
     * every stripe) under bucket i's stripe after its chain changed, so a
     * range copy visits only those buckets (mvcc__lt_iter) */
    uint64_t occ[LT_BUCKETS / 64];
};

/* Bucket bi's occupancy bit after its chain changed (its stripe held). */
static void note_bucket(struct mvcc__locktab *t, size_t bi)
{
    uint64_t bit = (uint64_t)1 << (bi % 64);
    if (t->b[bi])
        __atomic_or_fetch(&t->occ[bi / 64], bit, __ATOMIC_RELEASE);
    else
        __atomic_and_fetch(&t->occ[bi / 64], ~bit, __ATOMIC_RELEASE);
}

static uint64_t hash(const uint8_t *k, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    return h;
}

int mvcc__lt_create(struct mvcc__locktab **out)
{
    struct mvcc__locktab *t = mvcc__calloc(1, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    t->b = mvcc__calloc(LT_BUCKETS, sizeof *t->b);
    if (t->b == NULL) {
        mvcc__free(t);
        return -ENOMEM;
    }
    for (int i = 0; i < LT_STRIPES; i++)
        pthread_mutex_init(&t->mu[i], NULL);
    *out = t;
    return 0;
}

void mvcc__lt_destroy(struct mvcc__locktab *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < LT_BUCKETS; i++)
        for (struct mvcc__lt_entry *e = t->b[i], *nx; e; e = nx) {
            nx = e->next;
            mvcc__free(e);
        }
    for (int i = 0; i < LT_STRIPES; i++)
        pthread_mutex_destroy(&t->mu[i]);
    mvcc__free(t->b);
    mvcc__free(t);
}

size_t mvcc__lt_count(struct mvcc__locktab *t)
{
    return __atomic_load_n(&t->n, __ATOMIC_ACQUIRE);
}

int mvcc__lt_get(struct mvcc__locktab *t, const uint8_t *k, size_t kl,
                 struct mvcc__buf *out)
{
    /* No lock at all (the common case): no hash, no stripe. A writer
     * whose lock a reader must see happened before the reader's start
     * timestamp was taken, so this load sees its count; put_entry never
     * lets the count dip while it replaces a key's entry. */
    if (__atomic_load_n(&t->n, __ATOMIC_ACQUIRE) == 0)
        return MVCC_NOTFOUND;
    uint64_t h = hash(k, kl);
    size_t bi = (size_t)h & (LT_BUCKETS - 1);
    int rc = MVCC_NOTFOUND;
    pthread_mutex_lock(&t->mu[bi % LT_STRIPES]);
    for (struct mvcc__lt_entry *e = t->b[bi]; e; e = e->next)
        if (e->hash == h && e->klen == kl && memcmp(e->data, k, kl) == 0) {
            out->len = 0;
            rc = mvcc__buf_append(out, e->data + kl, e->vlen);
            break;
        }
    pthread_mutex_unlock(&t->mu[bi % LT_STRIPES]);
    return rc;
}

/* Replaces (e != NULL) or removes the entry for key k. Takes the stripe. */
static void put_entry(struct mvcc__locktab *t, const uint8_t *k, size_t kl,
                      struct mvcc__lt_entry *e)
{
    uint64_t h = hash(k, kl);
    size_t bi = (size_t)h & (LT_BUCKETS - 1);
    pthread_mutex_lock(&t->mu[bi % LT_STRIPES]);
    struct mvcc__lt_entry **pp = &t->b[bi];
    while (*pp && !((*pp)->hash == h && (*pp)->klen == kl &&
                    memcmp((*pp)->data, k, kl) == 0))
        pp = &(*pp)->next;
    struct mvcc__lt_entry *old = *pp;
    if (old)
        *pp = old->next;
    if (e) {
        e->hash = h;
        e->next = t->b[bi];
        t->b[bi] = e;
    }
    /* one change of the count: a replaced entry must not read as none
     * for the moment between (mvcc__lt_get's empty check) */
    if (e && !old)
        __atomic_add_fetch(&t->n, 1, __ATOMIC_RELEASE);
    else if (old && !e)
        __atomic_sub_fetch(&t->n, 1, __ATOMIC_RELEASE);
    note_bucket(t, bi);
    pthread_mutex_unlock(&t->mu[bi % LT_STRIPES]);
    mvcc__free(old);
}

static int kcmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : al < bl ? -1 : al > bl;
}

/* Removes the entries in [lo, hi); with open_end, every entry from lo. */
static void remove_range(struct mvcc__locktab *t, const uint8_t *lo,
                         size_t lol, const uint8_t *hi, size_t hil,
                         bool open_end)
{
    for (size_t bi = 0; bi < LT_BUCKETS && mvcc__lt_count(t) > 0; bi++) {
        if (!(__atomic_load_n(&t->occ[bi / 64], __ATOMIC_ACQUIRE) &
              ((uint64_t)1 << (bi % 64))))
            continue; /* empty */
        pthread_mutex_lock(&t->mu[bi % LT_STRIPES]);
        struct mvcc__lt_entry **pp = &t->b[bi];
        while (*pp) {
            struct mvcc__lt_entry *e = *pp;
            if (kcmp(e->data, e->klen, lo, lol) >= 0 &&
                (open_end || kcmp(e->data, e->klen, hi, hil) < 0)) {
                *pp = e->next;
                __atomic_sub_fetch(&t->n, 1, __ATOMIC_RELEASE);
                mvcc__free(e);
            } else {
                pp = &e->next;
            }
        }
        note_bucket(t, bi);
        pthread_mutex_unlock(&t->mu[bi % LT_STRIPES]);
    }
}

void mvcc__lt_prep_free(struct mvcc__lt_prep *p)
{
    for (size_t i = 0; i < p->n; i++)
        mvcc__free(p->entries[i]);
    mvcc__free(p->entries);
    memset(p, 0, sizeof *p);
}

int mvcc__lt_prepare(const struct mvcc_wbatch *b, struct mvcc__lt_prep *p)
{
    memset(p, 0, sizeof *p);
    size_t puts = 0;
    for (size_t i = 0; i < b->nops; i++)
        puts += b->ops[i].cf == MVCC_CF_LOCK && b->ops[i].type == MVCC_WOP_PUT;
    if (puts == 0)
        return 0;
    p->entries = mvcc__calloc(b->nops, sizeof *p->entries);
    if (p->entries == NULL)
        return -ENOMEM;
    p->n = b->nops;
    for (size_t i = 0; i < b->nops; i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(b, i, &op);
        if (op.cf != MVCC_CF_LOCK || op.type != MVCC_WOP_PUT)
            continue;
        struct mvcc__lt_entry *e =
            mvcc__malloc(sizeof *e + op.key_len + op.value_len);
        if (e == NULL) {
            mvcc__lt_prep_free(p);
            return -ENOMEM;
        }
        e->next = NULL;
        e->klen = op.key_len;
        e->vlen = op.value_len;
        memcpy(e->data, op.key, op.key_len);
        if (op.value_len)
            memcpy(e->data + op.key_len, op.value, op.value_len);
        p->entries[i] = e;
    }
    return 0;
}

void mvcc__lt_commit(struct mvcc__locktab *t, const struct mvcc_wbatch *b,
                     struct mvcc__lt_prep *p)
{
    for (size_t i = 0; i < b->nops; i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(b, i, &op);
        if (op.cf != MVCC_CF_LOCK)
            continue;
        if (op.type == MVCC_WOP_PUT) {
            put_entry(t, op.key, op.key_len, p->entries[i]);
            p->entries[i] = NULL; /* linked */
        } else if (op.type == MVCC_WOP_DELETE) {
            put_entry(t, op.key, op.key_len, NULL);
        } else {
            remove_range(t, op.key, op.key_len, op.value, op.value_len,
                         false);
        }
    }
    mvcc__lt_prep_free(p);
}

int mvcc__lt_to_batch(struct mvcc__locktab *t, struct mvcc_wbatch *b)
{
    int rc = 0;
    for (size_t bi = 0; bi < LT_BUCKETS && rc == 0; bi++) {
        pthread_mutex_lock(&t->mu[bi % LT_STRIPES]);
        for (struct mvcc__lt_entry *e = t->b[bi]; e && rc == 0; e = e->next)
            rc = mvcc_wbatch_put(b, MVCC_CF_LOCK, e->data, e->klen,
                                 e->data + e->klen, e->vlen);
        pthread_mutex_unlock(&t->mu[bi % LT_STRIPES]);
    }
    return rc;
}

int mvcc__lt_load(struct mvcc__locktab *t, struct mvcc_engine *eng)
{
    return mvcc__lt_reload(t, eng, NULL, 0, NULL, 0);
}

int mvcc__lt_reload(struct mvcc__locktab *t, struct mvcc_engine *eng,
                    const uint8_t *lo, size_t lol, const uint8_t *hi,
                    size_t hil)
{
    /* every record copied first: out of memory leaves the table as it
     * was */
    struct mvcc_iter_opts io = {lo, lol, hil ? hi : NULL, hil};
    struct mvcc_iter *it;
    int rc = mvcc_engine_iter(eng, NULL, MVCC_CF_LOCK, &io, &it);
    if (rc != 0)
        return rc;
    struct mvcc__lt_entry *got = NULL, **tail = &got;
    for (rc = lol ? it->ops->seek(it, lo, lol) : it->ops->seek_to_first(it);
         rc == 0 && it->ops->valid(it); rc = it->ops->next(it)) {
        size_t kl, vl;
        const uint8_t *k = it->ops->key(it, &kl);
        const uint8_t *v = it->ops->value(it, &vl);
        if (hil && kcmp(k, kl, hi, hil) >= 0)
            break;
        struct mvcc__lt_entry *e = mvcc__malloc(sizeof *e + kl + vl);
        if (e == NULL) {
            rc = -ENOMEM;
            break;
        }
        e->next = NULL;
        e->klen = kl;
        e->vlen = vl;
        memcpy(e->data, k, kl);
        if (vl)
            memcpy(e->data + kl, v, vl);
        *tail = e;
        tail = &e->next;
    }
    mvcc_iter_destroy(it);
    if (rc == 0)
        remove_range(t, lo ? lo : (const uint8_t *)"", lol, hi, hil,
                     hil == 0);
    while (got) {
        struct mvcc__lt_entry *e = got;
        got = e->next;
        if (rc == 0)
            put_entry(t, e->data, e->klen, e);
        else
            mvcc__free(e);
    }
    return rc;
}

/* A sorted copy of the entries in a range, as an engine iterator. */
struct lt_iter
{
    struct mvcc_iter base;   /* must be first */
    struct mvcc__lt_entry **v;     /* entries (copies), sorted by key */
    size_t n;                /* how many */
    size_t pos;              /* cursor; n = invalid */
};

static int ent_cmp(const void *a, const void *b)
{
    const struct mvcc__lt_entry *x = *(struct mvcc__lt_entry *const *)a;
    const struct mvcc__lt_entry *y = *(struct mvcc__lt_entry *const *)b;
    return kcmp(x->data, x->klen, y->data, y->klen);
}

/* First index with key >= k. */
static size_t lower(const struct lt_iter *it, const void *k, size_t kl)
{
    size_t lo = 0, hi = it->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (kcmp(it->v[mid]->data, it->v[mid]->klen, k, kl) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int li_seek(struct mvcc_iter *b, const void *k, size_t kl)
{
    struct lt_iter *it = (struct lt_iter *)b;
    it->pos = lower(it, k, kl);
    return 0;
}

static int li_seek_for_prev(struct mvcc_iter *b, const void *k, size_t kl)
{
    struct lt_iter *it = (struct lt_iter *)b;
    size_t i = lower(it, k, kl);
    if (i < it->n && kcmp(it->v[i]->data, it->v[i]->klen, k, kl) == 0)
        it->pos = i;
    else
        it->pos = i == 0 ? it->n : i - 1;
    return 0;
}

static int li_first(struct mvcc_iter *b)
{
    struct lt_iter *it = (struct lt_iter *)b;
    it->pos = 0;
    return 0;
}

static int li_last(struct mvcc_iter *b)
{
    struct lt_iter *it = (struct lt_iter *)b;
    it->pos = it->n ? it->n - 1 : 0;
    return 0;
}

static int li_next(struct mvcc_iter *b)
{
    struct lt_iter *it = (struct lt_iter *)b;
    if (it->pos >= it->n)
        return -EINVAL;
    it->pos++;
    return 0;
}

static int li_prev(struct mvcc_iter *b)
{
    struct lt_iter *it = (struct lt_iter *)b;
    if (it->pos >= it->n)
        return -EINVAL;
    it->pos = it->pos == 0 ? it->n : it->pos - 1;
    return 0;
}

static bool li_valid(const struct mvcc_iter *b)
{
    const struct lt_iter *it = (const struct lt_iter *)b;
    return it->pos < it->n;
}

static const uint8_t *li_key(const struct mvcc_iter *b, size_t *len)
{
    const struct lt_iter *it = (const struct lt_iter *)b;
    *len = it->v[it->pos]->klen;
    return it->v[it->pos]->data;
}

static const uint8_t *li_value(const struct mvcc_iter *b, size_t *len)
{
    const struct lt_iter *it = (const struct lt_iter *)b;
    *len = it->v[it->pos]->vlen;
    return it->v[it->pos]->data + it->v[it->pos]->klen;
}

static void li_destroy(struct mvcc_iter *b)
{
    struct lt_iter *it = (struct lt_iter *)b;
    for (size_t i = 0; i < it->n; i++)
        mvcc__free(it->v[i]);
    mvcc__free(it->v);
    mvcc__free(it);
}

static const struct mvcc_iter_ops lt_iter_ops = {
    li_seek, li_seek_for_prev, li_first, li_last,  li_next,
    li_prev, li_valid,         li_key,   li_value, li_destroy,
};

int mvcc__lt_iter(struct mvcc__locktab *t, const struct mvcc_iter_opts *o,
                  struct mvcc_iter **out)
{
    struct lt_iter *it = mvcc__calloc(1, sizeof *it);
    if (it == NULL)
        return -ENOMEM;
    it->base.ops = &lt_iter_ops;
    size_t cap = 0;
    int rc = 0;
    /* Only the buckets whose occupancy bit is set, each under its
     * stripe: with a few live locks a scan visits a few buckets (a sweep
     * of all 16384 under the 64 stripes cost a replicated store's scans
     * more than the lock CF's iterator did). A lock linked before this
     * call began has its bit set (release, after the link; the same
     * order as the count's, see mvcc__lt_get); one linked during it may
     * be missed, as with any order of visits. */
    for (size_t w = 0; w < LT_BUCKETS / 64 && rc == 0; w++) {
        uint64_t bits = __atomic_load_n(&t->occ[w], __ATOMIC_ACQUIRE);
        while (bits && rc == 0) {
            size_t bi = w * 64 + (size_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            pthread_mutex_lock(&t->mu[bi % LT_STRIPES]);
            for (struct mvcc__lt_entry *e = t->b[bi]; e && rc == 0;
                 e = e->next) {
                if ((o && o->lower &&
                     kcmp(e->data, e->klen, o->lower, o->lower_len) < 0) ||
                    (o && o->upper &&
                     kcmp(e->data, e->klen, o->upper, o->upper_len) >= 0))
                    continue;
                if (it->n == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    struct mvcc__lt_entry **v =
                        mvcc__realloc(it->v, nc * sizeof *v);
                    if (v == NULL) {
                        rc = -ENOMEM;
                        break;
                    }
                    it->v = v;
                    cap = nc;
                }
                struct mvcc__lt_entry *c =
                    mvcc__malloc(sizeof *c + e->klen + e->vlen);
                if (c == NULL) {
                    rc = -ENOMEM;
                    break;
                }
                memcpy(c, e, sizeof *c + e->klen + e->vlen);
                c->next = NULL;
                it->v[it->n++] = c;
            }
            pthread_mutex_unlock(&t->mu[bi % LT_STRIPES]);
        }
    }
    if (rc != 0) {
        li_destroy(&it->base);
        return rc;
    }
    if (it->n > 1)
        qsort(it->v, it->n, sizeof *it->v, ent_cmp);
    it->pos = it->n;
    *out = &it->base;
    return 0;
}

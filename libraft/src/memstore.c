/* memstore.c: the in-memory implementation of the storage interface: the
 * hard state, the last snapshot and the entries after it, all copied in.
 * ents[0] is a dummy standing for the snapshot's (index, term).
 */
#include <string.h>

#include "raft_int.h"

struct raft_memstore {
    struct raft_storage base;      /* interface; first so casts work */
    struct raft_hard_state hs;     /* last recorded hard state */
    struct raft_snapshot snap;     /* last snapshot (data owned) */
    struct raft_entry *ents;       /* ents[0] dummy; data owned */
    size_t n;                      /* used slots, >= 1 */
    size_t cap;                    /* allocated slots */
};

static struct raft_memstore *ms_of(struct raft_storage *s)
{
    return (struct raft_memstore *)s;
}

static int ms_initial_state(struct raft_storage *s, struct raft_hard_state *hs,
                            struct raft_conf_state *cs)
{
    struct raft_memstore *ms = ms_of(s);
    *hs = ms->hs;
    *cs = ms->snap.meta.conf;
    return 0;
}

static int ms_entries(struct raft_storage *s, raft_index lo, raft_index hi,
                      uint64_t max_bytes, const struct raft_entry **ents,
                      size_t *n)
{
    struct raft_memstore *ms = ms_of(s);
    raft_index off = ms->ents[0].index;
    if (lo <= off)
        return RAFT_ECOMPACTED;
    if (hi > off + ms->n)
        return RAFT_EUNAVAILABLE;
    size_t k = 0;
    uint64_t bytes = 0;
    for (raft_index i = lo; i < hi; i++) {
        const struct raft_entry *e = &ms->ents[i - off];
        if (k > 0 && bytes + e->len > max_bytes)
            break;
        bytes += e->len;
        k++;
    }
    *ents = &ms->ents[lo - off];
    *n = k;
    return 0;
}

static int ms_term(struct raft_storage *s, raft_index i, raft_term *t)
{
    struct raft_memstore *ms = ms_of(s);
    raft_index off = ms->ents[0].index;
    if (i < off)
        return RAFT_ECOMPACTED;
    if (i >= off + ms->n)
        return RAFT_EUNAVAILABLE;
    *t = ms->ents[i - off].term;
    return 0;
}

static int ms_first_index(struct raft_storage *s, raft_index *i)
{
    *i = ms_of(s)->ents[0].index + 1;
    return 0;
}

static int ms_last_index(struct raft_storage *s, raft_index *i)
{
    struct raft_memstore *ms = ms_of(s);
    *i = ms->ents[0].index + ms->n - 1;
    return 0;
}

static int ms_snapshot(struct raft_storage *s, const struct raft_snapshot **sn)
{
    *sn = &ms_of(s)->snap;
    return 0;
}

/* Data comes whole from ms_snapshot: no snapshot_read. */
static const struct raft_storage_ops ms_ops = {
    .initial_state = ms_initial_state,
    .entries = ms_entries,
    .term = ms_term,
    .first_index = ms_first_index,
    .last_index = ms_last_index,
    .snapshot = ms_snapshot,
    .snapshot_read = NULL,
};

int raft_memstore_create(struct raft_memstore **out)
{
    *out = NULL;
    struct raft_memstore *ms = raft__calloc(1, sizeof(*ms));
    if (ms == NULL)
        return -ENOMEM;
    ms->ents = raft__calloc(16, sizeof(*ms->ents));
    if (ms->ents == NULL) {
        raft__free(ms);
        return -ENOMEM;
    }
    ms->cap = 16;
    ms->n = 1;
    ms->base.ops = &ms_ops;
    *out = ms;
    return 0;
}

void raft_memstore_destroy(struct raft_memstore *ms)
{
    if (ms == NULL)
        return;
    for (size_t i = 0; i < ms->n; i++)
        raft__free(ms->ents[i].data);
    raft__free(ms->ents);
    raft__free(ms->snap.data);
    raft__free(ms);
}

struct raft_storage *raft_memstore_storage(struct raft_memstore *ms)
{
    return &ms->base;
}

int raft_memstore_bootstrap(struct raft_memstore *ms,
                            const struct raft_conf_state *cs)
{
    if (raft__conf_validate(cs) != 0 || cs->n_voters == 0)
        return RAFT_EINVAL;
    if (ms->n != 1 || ms->ents[0].index != 0 || ms->hs.term != 0)
        return RAFT_ESTATE;
    /* The initial configuration is a snapshot at index 1, term 1: a member
     * added later has an empty log, so the leader sends it this snapshot
     * (or a later one) and it learns the configuration from it. */
    ms->snap.meta.index = 1;
    ms->snap.meta.term = 1;
    ms->snap.meta.conf = *cs;
    ms->ents[0].index = 1;
    ms->ents[0].term = 1;
    ms->hs.commit = 1;
    return 0;
}

void raft_memstore_set_hard_state(struct raft_memstore *ms,
                                  const struct raft_hard_state *hs)
{
    ms->hs = *hs;
}

static int reserve(struct raft_memstore *ms, size_t need)
{
    if (need <= ms->cap)
        return 0;
    size_t cap = ms->cap * 2;
    while (cap < need)
        cap *= 2;
    struct raft_entry *e = raft__realloc(ms->ents, cap * sizeof(*e));
    if (e == NULL)
        return -ENOMEM;
    ms->ents = e;
    ms->cap = cap;
    return 0;
}

int raft_memstore_append(struct raft_memstore *ms,
                         const struct raft_entry *ents, size_t n)
{
    if (n == 0)
        return 0;
    raft_index off = ms->ents[0].index;
    raft_index first = off + 1, last = off + ms->n - 1;
    if (ents[n - 1].index < first)
        return RAFT_ECOMPACTED;
    if (ents[0].index > last + 1)
        return RAFT_EINVAL;
    for (size_t i = 1; i < n; i++)
        if (ents[i].index != ents[0].index + i)
            return RAFT_EINVAL;
    /* Skip entries already compacted away. */
    size_t skip = ents[0].index < first ? (size_t)(first - ents[0].index) : 0;
    ents += skip;
    n -= skip;
    size_t keep = (size_t)(ents[0].index - off); /* slots kept before */
    int rc = reserve(ms, keep + n);
    if (rc != 0)
        return rc;
    void **copies = raft__calloc(n, sizeof(void *));
    if (copies == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (ents[i].len == 0)
            continue;
        copies[i] = raft__malloc(ents[i].len);
        if (copies[i] == NULL) {
            for (size_t k = 0; k < i; k++)
                raft__free(copies[k]);
            raft__free(copies);
            return -ENOMEM;
        }
        memcpy(copies[i], ents[i].data, ents[i].len);
    }
    for (size_t i = keep; i < ms->n; i++)
        raft__free(ms->ents[i].data);
    for (size_t i = 0; i < n; i++) {
        ms->ents[keep + i] = ents[i];
        ms->ents[keep + i].data = copies[i];
    }
    ms->n = keep + n;
    raft__free(copies);
    return 0;
}

static int set_snap(struct raft_memstore *ms,
                    const struct raft_snapshot_meta *m,
                    const void *data, uint64_t len)
{
    void *copy = NULL;
    if (len > 0) {
        if (len > SIZE_MAX)
            return -ENOMEM;
        copy = raft__malloc((size_t)len);
        if (copy == NULL)
            return -ENOMEM;
        memcpy(copy, data, (size_t)len);
    }
    raft__free(ms->snap.data);
    ms->snap.meta = *m;
    ms->snap.data = copy;
    ms->snap.len = len;
    ms->snap.total = len;
    ms->snap.offset = 0;
    return 0;
}

int raft_memstore_apply_snapshot(struct raft_memstore *ms,
                                 const struct raft_snapshot *snap)
{
    if (snap->meta.index <= ms->snap.meta.index && ms->snap.meta.index > 0)
        return RAFT_ESNAPOLD;
    if (snap->offset != 0 || snap->len != snap->total)
        return RAFT_EINVAL;
    int rc = set_snap(ms, &snap->meta, snap->data, snap->len);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < ms->n; i++)
        raft__free(ms->ents[i].data);
    memset(&ms->ents[0], 0, sizeof(ms->ents[0]));
    ms->ents[0].index = snap->meta.index;
    ms->ents[0].term = snap->meta.term;
    ms->n = 1;
    return 0;
}

int raft_memstore_create_snapshot(struct raft_memstore *ms, raft_index index,
                                  const struct raft_conf_state *cs,
                                  const void *data, uint64_t len)
{
    raft_index off = ms->ents[0].index;
    if (index <= ms->snap.meta.index)
        return RAFT_ESNAPOLD;
    if (index > off + ms->n - 1)
        return RAFT_EUNAVAILABLE;
    struct raft_snapshot_meta m;
    m.index = index;
    m.term = ms->ents[index - off].term;
    m.conf = *cs;
    return set_snap(ms, &m, data, len);
}

int raft_memstore_compact(struct raft_memstore *ms, raft_index index)
{
    raft_index off = ms->ents[0].index;
    if (index <= off)
        return RAFT_ECOMPACTED;
    if (index > off + ms->n - 1)
        return RAFT_EUNAVAILABLE;
    size_t drop = (size_t)(index - off);
    for (size_t i = 0; i < drop; i++)
        raft__free(ms->ents[i].data);
    memmove(ms->ents, ms->ents + drop, (ms->n - drop) * sizeof(*ms->ents));
    ms->n -= drop;
    raft__free(ms->ents[0].data); /* the new dummy keeps index and term */
    ms->ents[0].data = NULL;
    ms->ents[0].len = 0;
    return 0;
}

/* log.c: the node's log: the durable prefix read through the storage
 * interface plus the unstable tail (entries and maybe a snapshot) not yet
 * acknowledged as persisted. DESIGN.md "Log" states the invariants.
 */
#include <string.h>

#include "raft_int.h"

int raft__log_init(struct raft__log *l, struct raft_storage *s)
{
    memset(l, 0, sizeof(*l));
    l->storage = s;
    raft_index first, last;
    int rc = s->ops->first_index(s, &first);
    if (rc != 0)
        return rc;
    rc = s->ops->last_index(s, &last);
    if (rc != 0)
        return rc;
    l->u.offset = last + 1;
    l->u.hand = last + 1;
    l->committed = first - 1;
    l->applied = first - 1;
    l->applying = first - 1;
    return 0;
}

static void free_snapshot(struct raft_snapshot *s)
{
    if (s == NULL)
        return;
    raft__free(s->data);
    raft__free(s);
}

void raft__log_close(struct raft__log *l)
{
    for (size_t i = 0; i < l->u.n; i++)
        raft__free(l->u.ents[i].data);
    raft__free(l->u.ents);
    free_snapshot(l->u.snap);
    l->pinned = false; /* the readies out go with the node */
    raft__log_free_garbage(l);
    raft__free(l->garbage);
    memset(l, 0, sizeof(*l));
}

/* Frees what no outstanding ready can point at: blocks dropped before the
 * oldest unreleased ready was handed out. Items are in gen order. */
void raft__log_free_garbage(struct raft__log *l)
{
    size_t k = 0;
    while (k < l->n_garbage &&
           (!l->pinned || l->garbage[k].gen < l->pin_oldest)) {
        raft__free(l->garbage[k].p);
        k++;
    }
    if (k == 0)
        return;
    memmove(l->garbage, l->garbage + k,
            (l->n_garbage - k) * sizeof(*l->garbage));
    l->n_garbage -= k;
}

int raft__log_reserve_garbage(struct raft__log *l, size_t extra)
{
    if (!l->pinned || l->n_garbage + extra <= l->cap_garbage)
        return 0;
    size_t cap = l->cap_garbage ? l->cap_garbage * 2 : 16;
    while (cap < l->n_garbage + extra)
        cap *= 2;
    struct raft__garbage *g = raft__realloc(l->garbage, cap * sizeof(*g));
    if (g == NULL)
        return -ENOMEM;
    l->garbage = g;
    l->cap_garbage = cap;
    return 0;
}

/* While a ready is outstanding (pinned) it may point at dropped data: keep
 * it until the ready is advanced. Room was reserved beforehand. */
static void discard(struct raft__log *l, void *data)
{
    if (data == NULL)
        return;
    if (!l->pinned) {
        raft__free(data);
        return;
    }
    if (l->n_garbage == l->cap_garbage &&
        raft__log_reserve_garbage(l, 1) != 0) {
        /* Unreachable when callers reserve; leaking beats a dangling
         * pointer into the application's ready. */
        return;
    }
    l->garbage[l->n_garbage].p = data;
    l->garbage[l->n_garbage].gen = l->pin_newest;
    l->n_garbage++;
}

/* Entries from i on are being replaced: readies that write them must not
 * count them durable (ready.c applies the cut), and they are handed out
 * again. */
static void replaced_from(struct raft__log *l, raft_index i)
{
    if (l->cut == 0 || i < l->cut)
        l->cut = i;
    if (l->u.hand > i)
        l->u.hand = i;
}

raft_index raft__log_first(struct raft__log *l)
{
    if (l->u.snap != NULL)
        return l->u.snap->meta.index + 1;
    raft_index i = 0;
    if (l->storage->ops->first_index(l->storage, &i) != 0)
        return l->u.offset; /* storage failing: be conservative */
    return i;
}

/* Without unstable entries or snapshot the storage ends just before
 * u.offset: it starts there (log init), and the application only writes
 * what readies hand out, each write replacing the storage's tail from its
 * first entry (so after a truncation too), and every ready handed out has
 * been released once the unstable tail is empty. No storage call. */
raft_index raft__log_last(struct raft__log *l)
{
    if (l->u.n > 0)
        return l->u.offset + l->u.n - 1;
    if (l->u.snap != NULL)
        return l->u.snap->meta.index;
    return l->u.offset - 1;
}

int raft__log_term(struct raft__log *l, raft_index i, raft_term *t)
{
    struct raft__unstable *u = &l->u;
    if (u->n > 0 && i >= u->offset && i < u->offset + u->n) {
        *t = u->ents[i - u->offset].term;
        return 0;
    }
    if (u->snap != NULL && i == u->snap->meta.index) {
        *t = u->snap->meta.term;
        return 0;
    }
    raft_index first = raft__log_first(l);
    if (i + 1 < first)
        return RAFT_ECOMPACTED;
    if (i > raft__log_last(l))
        return RAFT_EUNAVAILABLE;
    if (u->snap != NULL) /* everything below the pending snapshot is gone */
        return RAFT_ECOMPACTED;
    return l->storage->ops->term(l->storage, i, t);
}

raft_term raft__log_term0(struct raft__log *l, raft_index i)
{
    raft_term t = 0;
    if (raft__log_term(l, i, &t) != 0)
        return 0;
    return t;
}

raft_term raft__log_last_term(struct raft__log *l)
{
    return raft__log_term0(l, raft__log_last(l));
}

bool raft__log_match_term(struct raft__log *l, raft_index i, raft_term t)
{
    raft_term got;
    if (raft__log_term(l, i, &got) != 0)
        return false;
    return got == t;
}

/* Section 5.4.1: the candidate's log is at least as up-to-date. */
bool raft__log_up_to_date(struct raft__log *l, raft_index i, raft_term t)
{
    raft_term lt = raft__log_last_term(l);
    return t > lt || (t == lt && i >= raft__log_last(l));
}

int raft__log_entries(struct raft__log *l, raft_index lo, raft_index hi,
                      uint64_t max_bytes, struct raft_entry **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (lo >= hi)
        return 0;
    if (lo < raft__log_first(l))
        return RAFT_ECOMPACTED;
    if (hi > raft__log_last(l) + 1)
        return RAFT_EUNAVAILABLE;
    struct raft_entry *v = raft__malloc((size_t)(hi - lo) * sizeof(*v));
    if (v == NULL)
        return -ENOMEM;
    size_t k = 0;
    uint64_t bytes = 0;
    bool full = false;
    if (lo < l->u.offset) {
        raft_index shi = hi < l->u.offset ? hi : l->u.offset;
        const struct raft_entry *se = NULL;
        size_t sn = 0;
        int rc = l->storage->ops->entries(l->storage, lo, shi, max_bytes,
                                          &se, &sn);
        if (rc != 0) {
            raft__free(v);
            return rc;
        }
        for (size_t i = 0; i < sn && i < (size_t)(shi - lo); i++) {
            if (k > 0 && bytes + se[i].len > max_bytes) {
                full = true;
                break;
            }
            bytes += se[i].len;
            v[k++] = se[i];
        }
        if (sn < (size_t)(shi - lo))
            full = true;
    }
    if (!full && hi > l->u.offset) {
        raft_index ulo = lo > l->u.offset ? lo : l->u.offset;
        for (raft_index i = ulo; i < hi; i++) {
            const struct raft_entry *e = &l->u.ents[i - l->u.offset];
            if (k > 0 && bytes + e->len > max_bytes)
                break;
            bytes += e->len;
            v[k++] = *e;
        }
    }
    *out = v;
    *n = k;
    return 0;
}

static int unstable_reserve(struct raft__unstable *u, size_t need)
{
    if (need <= u->cap)
        return 0;
    size_t cap = u->cap ? u->cap : 16;
    while (cap < need)
        cap *= 2;
    struct raft_entry *e = raft__realloc(u->ents, cap * sizeof(*e));
    if (e == NULL)
        return -ENOMEM;
    u->ents = e;
    u->cap = cap;
    return 0;
}

int raft__log_append(struct raft__log *l, const struct raft_entry *ents,
                     size_t n)
{
    if (n == 0)
        return 0;
    struct raft__unstable *u = &l->u;
    raft_index after = ents[0].index - 1;
    if (after > raft__log_last(l) || after < l->committed)
        return RAFT_EINVAL; /* a gap, or rewriting committed entries */
    /* Copy the payloads first so that failure leaves the log untouched. */
    void **copies = raft__calloc(n, sizeof(void *));
    if (copies == NULL)
        return -ENOMEM;
    size_t keep;
    if (after + 1 >= u->offset && after + 1 <= u->offset + u->n)
        keep = (size_t)(after + 1 - u->offset);
    else
        keep = 0;
    int rc = unstable_reserve(u, keep + n);
    if (rc == 0)
        rc = raft__log_reserve_garbage(l, u->n + 2);
    if (rc != 0)
        goto err;
    for (size_t i = 0; i < n; i++) {
        if (ents[i].len == 0)
            continue;
        copies[i] = raft__malloc(ents[i].len);
        if (copies[i] == NULL) {
            rc = -ENOMEM;
            goto err;
        }
        memcpy(copies[i], ents[i].data, ents[i].len);
    }
    if (after + 1 <= raft__log_last(l))
        replaced_from(l, after + 1);
    if (after + 1 < u->offset) {
        /* Replaces part of the durable log too: the storage truncates
         * when the application appends these. */
        for (size_t i = 0; i < u->n; i++)
            discard(l, u->ents[i].data);
        u->n = 0;
        u->offset = after + 1;
        keep = 0;
    } else {
        for (size_t i = keep; i < u->n; i++)
            discard(l, u->ents[i].data);
        u->n = keep;
    }
    for (size_t i = 0; i < n; i++) {
        u->ents[u->n] = ents[i];
        u->ents[u->n].data = copies[i];
        u->n++;
    }
    raft__free(copies);
    return 0;
err:
    for (size_t i = 0; i < n; i++)
        raft__free(copies[i]);
    raft__free(copies);
    return rc;
}

int raft__log_maybe_append(struct raft__log *l, raft_index prev,
                           raft_term prev_term, raft_index commit,
                           const struct raft_entry *ents, size_t n,
                           raft_index *lastnew, bool *ok)
{
    *ok = false;
    *lastnew = 0;
    if (!raft__log_match_term(l, prev, prev_term))
        return 0;
    raft_index last = prev + n;
    size_t ci = n;
    for (size_t i = 0; i < n; i++)
        if (ents[i].index != prev + 1 + i || ents[i].term < prev_term ||
            (i > 0 && ents[i].term < ents[i - 1].term))
            return RAFT_EINVAL; /* not a log a leader could have sent */
    for (size_t i = 0; i < n; i++) {
        if (!raft__log_match_term(l, ents[i].index, ents[i].term)) {
            ci = i;
            break;
        }
    }
    if (ci < n) {
        if (ents[ci].index <= l->committed)
            return RAFT_EINVAL; /* would overwrite a committed entry */
        int rc = raft__log_append(l, ents + ci, n - ci);
        if (rc != 0)
            return rc;
    }
    raft__log_commit_to(l, commit < last ? commit : last);
    *lastnew = last;
    *ok = true;
    return 0;
}

void raft__log_commit_to(struct raft__log *l, raft_index c)
{
    if (c > l->committed) {
        raft_index last = raft__log_last(l);
        l->committed = c > last ? last : c;
    }
}

bool raft__log_maybe_commit(struct raft__log *l, raft_index i, raft_term t)
{
    if (i > l->committed && raft__log_term0(l, i) == t) {
        raft__log_commit_to(l, i);
        return true;
    }
    return false;
}

void raft__log_stable_to(struct raft__log *l, raft_index i, raft_term t)
{
    struct raft__unstable *u = &l->u;
    if (u->n == 0 || i < u->offset || i >= u->offset + u->n)
        return;
    if (u->ents[i - u->offset].term != t)
        return;
    size_t drop = (size_t)(i + 1 - u->offset);
    for (size_t k = 0; k < drop; k++)
        discard(l, u->ents[k].data);
    memmove(u->ents, u->ents + drop, (u->n - drop) * sizeof(*u->ents));
    u->n -= drop;
    u->offset = i + 1;
    if (u->hand < u->offset)
        u->hand = u->offset;
}

void raft__log_stable_snap_to(struct raft__log *l, raft_index i)
{
    if (l->u.snap != NULL && l->u.snap->meta.index == i) {
        discard(l, l->u.snap->data);
        discard(l, l->u.snap);
        l->u.snap = NULL;
    }
}

void raft__log_restore(struct raft__log *l, struct raft_snapshot *snap)
{
    struct raft__unstable *u = &l->u;
    for (size_t i = 0; i < u->n; i++)
        discard(l, u->ents[i].data);
    u->n = 0;
    if (u->snap != NULL) {
        discard(l, u->snap->data);
        discard(l, u->snap);
    }
    replaced_from(l, 1);
    u->snap = snap;
    u->snap_handed = false;
    u->offset = snap->meta.index + 1;
    u->hand = u->offset;
    l->committed = snap->meta.index;
}

raft_index raft__log_conflict_by_term(struct raft__log *l, raft_index i,
                                      raft_term t, raft_term *found)
{
    raft_index last = raft__log_last(l);
    if (i > last) {
        *found = 0;
        return i;
    }
    for (; i > 0; i--) {
        raft_term ours;
        if (raft__log_term(l, i, &ours) != 0) {
            *found = 0;
            return i;
        }
        if (ours <= t) {
            *found = ours;
            return i;
        }
    }
    *found = 0;
    return 0;
}

/* codec.c: the versioned, self-contained byte form of struct raft_message
 * (raft_msg_encode/decode). Decoding never reads outside its input and
 * checks every count against the bytes left. DESIGN.md "Wire format".
 *
 * Version 1, all integers little-endian:
 *   off  size  field
 *   0    1     version (1)
 *   1    1     type (enum raft_msg_type)
 *   2    1     flags: bit0 reject, bit1 has snapshot chunk
 *   3    1     reserved, 0
 *   4    8     from
 *   12   8     to
 *   20   8     term
 *   28   8     log_term
 *   36   8     index
 *   44   8     commit
 *   52   8     context
 *   60   8     reject_hint
 *   68   4     n_entries
 *   72   ...   n_entries x { term 8, index 8, type 1, len 4, data len }
 *   then, with flag bit1: snapshot chunk
 *        8 index, 8 term, 4 counts (voters, learners, outgoing, next) 1 each,
 *        1 auto_leave, 8 x (sum of counts) ids, 8 offset, 8 total,
 *        8 len, data len
 */
#include <string.h>

#include "raft_int.h"

#define MSG_VERSION 1
#define HDR 72
#define ENT_HDR 21

static void put8(uint8_t **p, uint8_t v)
{
    *(*p)++ = v;
}

static void put32(uint8_t **p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t **p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}

size_t raft_msg_encoded_size(const struct raft_message *m)
{
    size_t s = HDR;
    for (uint32_t i = 0; i < m->n_entries; i++)
        s += ENT_HDR + m->entries[i].len;
    if (m->snapshot != NULL) {
        const struct raft_conf_state *c = &m->snapshot->meta.conf;
        s += 8 + 8 + 4 + 1 +
             8 * ((size_t)c->n_voters + c->n_learners + c->n_voters_outgoing +
                  c->n_learners_next) +
             24 + (size_t)m->snapshot->len;
    }
    return s;
}

int raft_msg_encode(const struct raft_message *m, void *buf, size_t cap,
                    size_t *len)
{
    if (m->type < 1 || m->type > RAFT_MSG_TYPE_MAX)
        return RAFT_EINVAL;
    if (m->snapshot != NULL && raft__conf_validate(&m->snapshot->meta.conf))
        return RAFT_EINVAL;
    size_t need = raft_msg_encoded_size(m);
    if (cap < need)
        return RAFT_ENOSPACE;
    uint8_t *p = buf;
    put8(&p, MSG_VERSION);
    put8(&p, (uint8_t)m->type);
    put8(&p, (uint8_t)((m->reject ? 1 : 0) | (m->snapshot ? 2 : 0)));
    put8(&p, 0);
    put64(&p, m->from);
    put64(&p, m->to);
    put64(&p, m->term);
    put64(&p, m->log_term);
    put64(&p, m->index);
    put64(&p, m->commit);
    put64(&p, m->context);
    put64(&p, m->reject_hint);
    put32(&p, m->n_entries);
    for (uint32_t i = 0; i < m->n_entries; i++) {
        const struct raft_entry *e = &m->entries[i];
        put64(&p, e->term);
        put64(&p, e->index);
        put8(&p, (uint8_t)e->type);
        put32(&p, e->len);
        if (e->len > 0)
            memcpy(p, e->data, e->len);
        p += e->len;
    }
    if (m->snapshot != NULL) {
        const struct raft_snapshot *s = m->snapshot;
        const struct raft_conf_state *c = &s->meta.conf;
        put64(&p, s->meta.index);
        put64(&p, s->meta.term);
        put8(&p, c->n_voters);
        put8(&p, c->n_learners);
        put8(&p, c->n_voters_outgoing);
        put8(&p, c->n_learners_next);
        put8(&p, c->auto_leave ? 1 : 0);
        for (uint8_t i = 0; i < c->n_voters; i++)
            put64(&p, c->voters[i]);
        for (uint8_t i = 0; i < c->n_learners; i++)
            put64(&p, c->learners[i]);
        for (uint8_t i = 0; i < c->n_voters_outgoing; i++)
            put64(&p, c->voters_outgoing[i]);
        for (uint8_t i = 0; i < c->n_learners_next; i++)
            put64(&p, c->learners_next[i]);
        put64(&p, s->offset);
        put64(&p, s->total);
        put64(&p, s->len);
        if (s->len > 0)
            memcpy(p, s->data, (size_t)s->len);
        p += s->len;
    }
    *len = (size_t)(p - (uint8_t *)buf);
    return 0;
}

struct rd {
    const uint8_t *p; /* next byte */
    size_t left;      /* bytes left */
    bool bad;         /* ran past the end */
};

static const uint8_t *take(struct rd *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    r->left -= n;
    return q;
}

static uint8_t get8(struct rd *r)
{
    const uint8_t *q = take(r, 1);
    return q ? q[0] : 0;
}

static uint32_t get32(struct rd *r)
{
    const uint8_t *q = take(r, 4);
    uint32_t v = 0;
    if (q)
        for (int i = 0; i < 4; i++)
            v |= (uint32_t)q[i] << (8 * i);
    return v;
}

static uint64_t get64(struct rd *r)
{
    const uint8_t *q = take(r, 8);
    uint64_t v = 0;
    if (q)
        for (int i = 0; i < 8; i++)
            v |= (uint64_t)q[i] << (8 * i);
    return v;
}

/* The decoded message, entries, snapshot and all data live in one block:
 * [message][entries][snapshot][data bytes]. */
int raft_msg_decode(const void *buf, size_t len, struct raft_message **out)
{
    *out = NULL;
    struct rd r = {buf, len, false};
    if (len < 1)
        return RAFT_EDECODE;
    if (((const uint8_t *)buf)[0] != MSG_VERSION)
        return RAFT_EVERSION;
    if (len < HDR)
        return RAFT_EDECODE;
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    (void)get8(&r);
    m.type = get8(&r);
    uint8_t flags = get8(&r);
    uint8_t resv = get8(&r);
    if (m.type < 1 || m.type > RAFT_MSG_TYPE_MAX || (flags & ~3u) || resv)
        return RAFT_EDECODE;
    m.reject = (flags & 1) != 0;
    m.from = get64(&r);
    m.to = get64(&r);
    m.term = get64(&r);
    m.log_term = get64(&r);
    m.index = get64(&r);
    m.commit = get64(&r);
    m.context = get64(&r);
    m.reject_hint = get64(&r);
    m.n_entries = get32(&r);
    if (m.n_entries > r.left / ENT_HDR)
        return RAFT_EDECODE;
    /* First pass: sizes. */
    struct rd scan = r;
    size_t data_bytes = 0;
    for (uint32_t i = 0; i < m.n_entries; i++) {
        take(&scan, 17);
        uint32_t el = get32(&scan);
        if (take(&scan, el) == NULL && el > 0)
            return RAFT_EDECODE;
        data_bytes += el;
    }
    if (scan.bad)
        return RAFT_EDECODE;
    struct raft_snapshot snap;
    memset(&snap, 0, sizeof(snap));
    const uint8_t *snap_data = NULL;
    if (flags & 2) {
        snap.meta.index = get64(&scan);
        snap.meta.term = get64(&scan);
        struct raft_conf_state *c = &snap.meta.conf;
        c->n_voters = get8(&scan);
        c->n_learners = get8(&scan);
        c->n_voters_outgoing = get8(&scan);
        c->n_learners_next = get8(&scan);
        uint8_t al = get8(&scan);
        if (scan.bad || al > 1 || c->n_voters > RAFT_MAX_MEMBERS ||
            c->n_learners > RAFT_MAX_MEMBERS ||
            c->n_voters_outgoing > RAFT_MAX_MEMBERS ||
            c->n_learners_next > RAFT_MAX_MEMBERS)
            return RAFT_EDECODE;
        c->auto_leave = al == 1;
        for (uint8_t i = 0; i < c->n_voters; i++)
            c->voters[i] = get64(&scan);
        for (uint8_t i = 0; i < c->n_learners; i++)
            c->learners[i] = get64(&scan);
        for (uint8_t i = 0; i < c->n_voters_outgoing; i++)
            c->voters_outgoing[i] = get64(&scan);
        for (uint8_t i = 0; i < c->n_learners_next; i++)
            c->learners_next[i] = get64(&scan);
        snap.offset = get64(&scan);
        snap.total = get64(&scan);
        snap.len = get64(&scan);
        if (scan.bad || snap.len > scan.left || snap.offset > snap.total ||
            snap.len > snap.total - snap.offset ||
            raft__conf_validate(c) != 0)
            return RAFT_EDECODE;
        snap_data = take(&scan, (size_t)snap.len);
    }
    if (scan.bad || scan.left != 0)
        return RAFT_EDECODE;
    size_t total = sizeof(struct raft_message) +
                   (size_t)m.n_entries * sizeof(struct raft_entry) +
                   ((flags & 2) ? sizeof(struct raft_snapshot) : 0) +
                   data_bytes + (size_t)snap.len;
    uint8_t *block = raft__malloc(total);
    if (block == NULL)
        return -ENOMEM;
    struct raft_message *om = (struct raft_message *)block;
    struct raft_entry *ents = (struct raft_entry *)(om + 1);
    struct raft_snapshot *os = (struct raft_snapshot *)(ents + m.n_entries);
    uint8_t *data = (uint8_t *)os + ((flags & 2) ? sizeof(*os) : 0);
    *om = m;
    om->entries = m.n_entries ? ents : NULL;
    for (uint32_t i = 0; i < m.n_entries; i++) {
        ents[i].term = get64(&r);
        ents[i].index = get64(&r);
        ents[i].type = get8(&r);
        ents[i].len = get32(&r);
        const uint8_t *d = take(&r, ents[i].len);
        if (ents[i].len > 0) {
            memcpy(data, d, ents[i].len);
            ents[i].data = data;
            data += ents[i].len;
        } else {
            ents[i].data = NULL;
        }
    }
    if (flags & 2) {
        *os = snap;
        os->data = NULL;
        if (snap.len > 0) {
            memcpy(data, snap_data, (size_t)snap.len);
            os->data = data;
        }
        om->snapshot = os;
    }
    *out = om;
    return 0;
}

void raft_msg_free(struct raft_message *m)
{
    raft__free(m);
}

/* codec.c: libregion's byte formats: engine keys of the persisted Raft
 * state, the region state record, command entries and the message batch
 * stores exchange. Integers are big-endian. DESIGN.md, "Persistence" and
 * "Wire", repeats these tables; the two must agree.
 *
 * Region state (value of 0x01 'R' id):
 *   off size field
 *   0   1    format version (1, or 2 with learners)
 *   1   1    state: 0 normal, 1 tombstone
 *   2   8    region id
 *   10  8    conf_ver
 *   18  8    version
 *   26  4+S  start key
 *   ..  4+E  end key (empty = unbounded)
 *   ..  4    N stores (1..REGION_MAX_PEERS)
 *   ..  8N   store ids
 *   ..  4    learner bits (format 2 only: bit i = store i is a learner;
 *            a region without learners is written in format 1)
 *
 * Command entry (data of a normal Raft entry):
 *   0   1    format version (1)
 *   1   1    type: 1 raw batch, 2 CAS, 3 txn batch, 4 split, 5 prepare
 *            merge, 6 commit merge, 7 rollback merge, 8 reject merge
 *   2   8    region id
 *   10  8    epoch version
 *   18  8    epoch conf_ver
 *   26  ..   body: RAW/TXN: an encoded mvcc_wbatch (libmvcc "Formats");
 *            CAS: flags(1: 0x01 expect exists, 0x02 delete, 0x04 the new
 *            value expires) 4+K key, 4+E expected value, 4+V new value,
 *            with 0x04 then 8 expire_ms (the TTL record's value; since
 *            0.33.0, REGION_VERSION_CAS_TTL: older stores refuse the
 *            flag; never with 0x02, never 0);
 *            SPLIT: 8 new region id, 4+K split key;
 *            merges: 8 other region (target of 5/7, source of 6/8),
 *            8 prepare index, 8 its term (both 0 in 5), then for 6 the
 *            source's region state (format above) to the end
 *
 * Message batch (transport):
 *   0   1    format version (1)
 *   1   8    sender store id
 *   9   4    N messages
 *   then N times: region id(8) conf_ver(8) version(8) 4+M raft message
 *            (raft_msg_encode); M = 0 is a removal notice: the region
 *            is at conf_ver without the receiving store
 */
#include <errno.h>
#include <string.h>

#include "region_int.h"

void region__key_log(uint8_t out[REGION__KEY_LOG_LEN], uint64_t region,
                     uint64_t index)
{
    out[0] = REGION__LOCAL;
    out[1] = 'L';
    region__put_u64(out + 2, region);
    region__put_u64(out + 10, index);
}

void region__key_meta(uint8_t out[REGION__KEY_META_LEN], char kind,
                      uint64_t region)
{
    out[0] = REGION__LOCAL;
    out[1] = (uint8_t)kind;
    region__put_u64(out + 2, region);
}

int region__encode_desc(struct region_buf *b, const struct region_desc *d,
                        uint8_t state)
{
    region__buf_u8(b, d->learners ? 2 : 1);
    region__buf_u8(b, state);
    region__buf_u64(b, d->id);
    region__buf_u64(b, d->conf_ver);
    region__buf_u64(b, d->version);
    region__buf_bytes(b, d->start, d->start_len);
    region__buf_bytes(b, d->end, d->end_len);
    region__buf_u32(b, d->n_stores);
    for (uint32_t i = 0; i < d->n_stores; i++)
        region__buf_u64(b, d->stores[i]);
    if (d->learners)
        region__buf_u32(b, d->learners);
    return b->oom ? -ENOMEM : 0;
}

int region__decode_desc(const void *p, size_t len, struct region_desc *d,
                        uint8_t *state)
{
    struct region_rd r = {p, len, false};
    memset(d, 0, sizeof *d);
    uint8_t format = region__rd_u8(&r);
    if (format != 1 && format != 2)
        return REGION_EDECODE;
    *state = region__rd_u8(&r);
    d->id = region__rd_u64(&r);
    d->conf_ver = region__rd_u64(&r);
    d->version = region__rd_u64(&r);
    size_t sl, el;
    const uint8_t *s = region__rd_bytes(&r, &sl);
    const uint8_t *e = region__rd_bytes(&r, &el);
    uint32_t n = region__rd_u32(&r);
    if (r.bad || *state > 1 || d->id == 0 || sl > REGION_MAX_BOUND ||
        el > REGION_MAX_BOUND || n == 0 || n > REGION_MAX_PEERS)
        return REGION_EDECODE;
    memcpy(d->start, s, sl);
    memcpy(d->end, e, el);
    d->start_len = (uint32_t)sl;
    d->end_len = (uint32_t)el;
    d->n_stores = n;
    for (uint32_t i = 0; i < n; i++)
        d->stores[i] = region__rd_u64(&r);
    if (format == 2) { /* learner bits: some, and only of used slots */
        d->learners = region__rd_u32(&r);
        if (d->learners == 0 || (n < 32 && d->learners >> n != 0))
            return REGION_EDECODE;
    }
    if (r.bad || r.left != 0)
        return REGION_EDECODE;
    return 0;
}

int region__cmd_encode(struct region_buf *b, const struct region_cmd *c)
{
    region__buf_u8(b, 1);
    region__buf_u8(b, c->type);
    region__buf_u64(b, c->region_id);
    region__buf_u64(b, c->version);
    region__buf_u64(b, c->conf_ver);
    if (c->type == REGION_CMD_SPLIT) {
        region__buf_u64(b, c->new_id);
        region__buf_bytes(b, c->key, c->key_len);
    } else if (c->type == REGION_CMD_CAS) {
        bool exp = c->expire_ms != 0 && !c->del;
        region__buf_u8(b, (uint8_t)((c->expect_exists ? 1 : 0) |
                                    (c->del ? 2 : 0) | (exp ? 4 : 0)));
        region__buf_bytes(b, c->key, c->key_len);
        region__buf_bytes(b, c->expect, c->expect_len);
        region__buf_bytes(b, c->value, c->value_len);
        if (exp)
            region__buf_u64(b, c->expire_ms);
    } else if (c->type >= REGION_CMD_PREPARE_MERGE &&
               c->type <= REGION_CMD_REJECT_MERGE) {
        region__buf_u64(b, c->new_id);
        region__buf_u64(b, c->merge_index);
        region__buf_u64(b, c->merge_term);
        region__buf_put(b, c->body, c->body_len);
    } else {
        region__buf_put(b, c->body, c->body_len);
    }
    return b->oom ? -ENOMEM : 0;
}

struct region_cmd region__cmd_for(const struct region_peer *p, uint8_t type,
                                  const uint8_t *body, size_t body_len)
{
    struct region_cmd c;
    memset(&c, 0, sizeof c);
    c.type = type;
    c.region_id = p->desc.id;
    c.version = p->desc.version;
    c.conf_ver = p->desc.conf_ver;
    c.body = body;
    c.body_len = body_len;
    return c;
}

int region__cmd_decode(const void *p, size_t len, struct region_cmd *c)
{
    struct region_rd r = {p, len, false};
    memset(c, 0, sizeof *c);
    if (region__rd_u8(&r) != 1)
        return REGION_EDECODE;
    c->type = region__rd_u8(&r);
    c->region_id = region__rd_u64(&r);
    c->version = region__rd_u64(&r);
    c->conf_ver = region__rd_u64(&r);
    if (r.bad)
        return REGION_EDECODE;
    switch (c->type) {
    case REGION_CMD_CAS: {
        uint8_t f = region__rd_u8(&r);
        c->expect_exists = (f & 1) != 0;
        c->del = (f & 2) != 0;
        c->key = region__rd_bytes(&r, &c->key_len);
        c->expect = region__rd_bytes(&r, &c->expect_len);
        c->value = region__rd_bytes(&r, &c->value_len);
        if ((f & 4) != 0)
            c->expire_ms = region__rd_u64(&r);
        if (r.bad || r.left != 0 || (f & ~7u) != 0 ||
            ((f & 4) != 0 && (c->del || c->expire_ms == 0)))
            return REGION_EDECODE;
        return 0;
    }
    case REGION_CMD_SPLIT:
        c->new_id = region__rd_u64(&r);
        c->key = region__rd_bytes(&r, &c->key_len);
        if (r.bad || r.left != 0 || c->new_id == 0)
            return REGION_EDECODE;
        return 0;
    case REGION_CMD_PREPARE_MERGE:
    case REGION_CMD_COMMIT_MERGE:
    case REGION_CMD_ROLLBACK_MERGE:
    case REGION_CMD_REJECT_MERGE:
        c->new_id = region__rd_u64(&r);
        c->merge_index = region__rd_u64(&r);
        c->merge_term = region__rd_u64(&r);
        c->body = r.p;
        c->body_len = r.left;
        if (r.bad || c->new_id == 0 || c->new_id == c->region_id ||
            (c->type != REGION_CMD_COMMIT_MERGE && c->body_len != 0))
            return REGION_EDECODE;
        return 0;
    case REGION_CMD_RAW:
    case REGION_CMD_TXN:
    case REGION_CMD_TTL_GC:
        c->body = r.p;
        c->body_len = r.left;
        return 0;
    default:
        return REGION_EDECODE;
    }
}

void region__msgs_begin(struct region_buf *b, uint64_t from)
{
    region__buf_u8(b, 1);
    region__buf_u64(b, from);
    region__buf_u32(b, 0); /* count, patched by region__msgs_finish */
}

void region__msgs_add(struct region_buf *b, const struct region_wire_msg *m,
                      const struct raft_message *rm)
{
    region__buf_u64(b, m->region_id);
    region__buf_u64(b, m->conf_ver);
    region__buf_u64(b, m->version);
    if (rm == NULL) { /* a notice: no Raft message */
        region__buf_u32(b, 0);
        return;
    }
    size_t sz = raft_msg_encoded_size(rm);
    region__buf_u32(b, (uint32_t)sz);
    uint8_t *dst = region__buf_reserve(b, sz);
    size_t got = 0;
    if (dst == NULL)
        return;
    if (raft_msg_encode(rm, dst, sz, &got) != 0 || got != sz)
        b->oom = true;
    else
        b->len += sz;
}

void region__msgs_finish(struct region_buf *b, uint32_t count)
{
    if (b->oom || b->len < 13)
        return;
    b->data[9] = (uint8_t)(count >> 24);
    b->data[10] = (uint8_t)(count >> 16);
    b->data[11] = (uint8_t)(count >> 8);
    b->data[12] = (uint8_t)count;
}

int region_msgs_check(const void *buf, size_t len, uint64_t *from, size_t *n)
{
    struct region_rd r = {buf, len, false};
    if (region__rd_u8(&r) != 1)
        return REGION_EDECODE;
    uint64_t f = region__rd_u64(&r);
    uint32_t count = region__rd_u32(&r);
    for (uint32_t i = 0; i < count && !r.bad; i++) {
        region__rd_u64(&r);
        region__rd_u64(&r);
        region__rd_u64(&r);
        size_t ml;
        region__rd_bytes(&r, &ml);
    }
    if (r.bad || r.left != 0 || f == 0)
        return REGION_EDECODE;
    if (from)
        *from = f;
    if (n)
        *n = count;
    return 0;
}

int region__msgs_next(const void *buf, size_t len, size_t *off,
                      struct region_wire_msg *m)
{
    if (*off == 0)
        *off = 13;
    if (*off >= len)
        return 1;
    struct region_rd r = {(const uint8_t *)buf + *off, len - *off, false};
    m->region_id = region__rd_u64(&r);
    m->conf_ver = region__rd_u64(&r);
    m->version = region__rd_u64(&r);
    m->raft = region__rd_bytes(&r, &m->raft_len);
    if (r.bad)
        return REGION_EDECODE;
    *off = len - r.left;
    return 0;
}

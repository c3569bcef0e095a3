/* txncodec.c: the cluster transport's codec: libmvcc command arguments to
 * kv.TxnRequest, kv.TxnResponse back to a libmvcc result, and the
 * translation of region and connection codes to libmvcc's region codes
 * (DESIGN.md, "Cluster transport").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpc.h>

#include "client_int.h"

/* nanopb decodes with libc's allocator and encodes whatever the struct
 * points at: requests are ours (region__malloc), replies nanopb's. */
static int mkbytes(pb_bytes_array_t **out, const void *p, size_t n)
{
    *out = NULL;
    if (n > REGION_BYTES_MAX)
        return -E2BIG;
    pb_bytes_array_t *b = region__malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(n));
    if (b == NULL)
        return -ENOMEM;
    b->size = (pb_size_t)n;
    if (n)
        memcpy(b->bytes, p, n);
    *out = b;
    return 0;
}

void region__txnreq_free(kv_TxnRequest *r)
{
    if (r == NULL)
        return;
    region__free(r->key);
    for (pb_size_t i = 0; r->keys && i < r->keys_count; i++)
        region__free(r->keys[i]);
    region__free(r->keys);
    region__free(r->start);
    region__free(r->end);
    for (pb_size_t i = 0; r->mutations && i < r->mutations_count; i++) {
        region__free(r->mutations[i].key);
        region__free(r->mutations[i].value);
    }
    region__free(r->mutations);
    region__free(r->primary);
    for (pb_size_t i = 0; r->secondaries && i < r->secondaries_count; i++)
        region__free(r->secondaries[i]);
    region__free(r->secondaries);
    region__free(r->spill.data);
    region__free(r->cop.data);
    memset(r, 0, sizeof *r);
}

/* The bytes a request may hold: kvd's frame limit less room for the
 * message's own framing (field tags and lengths). */
static size_t req_bytes(const struct region__txn_args *a)
{
    size_t n = a->key_len + a->start_len + a->end_len + a->primary_len +
               a->cop_len;
    for (size_t i = 0; i < a->nkeys; i++)
        n += a->keys[i].len + 4;
    for (size_t i = 0; i < a->nmuts; i++)
        n += a->muts[i].key_len + a->muts[i].value_len + 16;
    for (size_t i = 0; i < a->nsecondaries; i++)
        n += a->secondaries[i].len + 4;
    return n;
}

int region__txnreq_build(kv_TxnRequest *out, const struct region__txn_args *a)
{
    memset(out, 0, sizeof *out);
    if (a->nkeys > 65535 || a->nmuts > 65535 || a->nsecondaries > 65535)
        return -E2BIG;
    if (req_bytes(a) > REGION_TXN_MAX_BYTES)
        return RPC_EFRAME_TOO_LARGE;
    int rc = 0;
    size_t spill = 0; /* bytes of values that go to the spill blob */
    for (size_t i = 0; i < a->nmuts; i++)
        if (a->muts[i].value && a->muts[i].value_len > REGION_BYTES_MAX)
            spill += a->muts[i].value_len;
    if (spill) {
        out->spill.data = region__malloc(spill);
        if (out->spill.data == NULL)
            return -ENOMEM;
    }
    out->has_ctx = true;
    out->ctx.region_id = a->ctx.region_id;
    out->ctx.conf_ver = a->ctx.conf_ver;
    out->ctx.version = a->ctx.version;
    if (a->key && (rc = mkbytes(&out->key, a->key, a->key_len)) != 0)
        goto fail;
    if (a->nkeys) {
        out->keys = region__calloc(a->nkeys, sizeof *out->keys);
        if (out->keys == NULL) {
            rc = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < a->nkeys; i++) {
            if ((rc = mkbytes(&out->keys[i], a->keys[i].data,
                              a->keys[i].len)) != 0)
                goto fail;
            out->keys_count = (pb_size_t)(i + 1);
        }
    }
    if (a->start && (rc = mkbytes(&out->start, a->start, a->start_len)) != 0)
        goto fail;
    if (a->end && a->end_len &&
        (rc = mkbytes(&out->end, a->end, a->end_len)) != 0)
        goto fail;
    if (a->nmuts) {
        out->mutations = region__calloc(a->nmuts, sizeof *out->mutations);
        if (out->mutations == NULL) {
            rc = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < a->nmuts; i++) {
            const struct mvcc_mutation *m = &a->muts[i];
            kv_Mutation *o = &out->mutations[i];
            out->mutations_count = (pb_size_t)(i + 1);
            o->op = (uint32_t)m->op;
            o->pessimistic_lock = m->pessimistic_lock;
            if ((rc = mkbytes(&o->key, m->key, m->key_len)) != 0)
                goto fail;
            if (m->value && m->value_len > REGION_BYTES_MAX) {
                memcpy(out->spill.data + out->spill.len, m->value,
                       m->value_len);
                out->spill.len += m->value_len;
                o->value_spill = m->value_len;
            } else if (m->value &&
                       (rc = mkbytes(&o->value, m->value, m->value_len)) !=
                           0) {
                goto fail;
            }
        }
    }
    if (a->nsecondaries) {
        out->secondaries =
            region__calloc(a->nsecondaries, sizeof *out->secondaries);
        if (out->secondaries == NULL) {
            rc = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < a->nsecondaries; i++) {
            if ((rc = mkbytes(&out->secondaries[i], a->secondaries[i].data,
                              a->secondaries[i].len)) != 0)
                goto fail;
            out->secondaries_count = (pb_size_t)(i + 1);
        }
    }
    if (a->primary &&
        (rc = mkbytes(&out->primary, a->primary, a->primary_len)) != 0)
        goto fail;
    out->limit = a->limit;
    out->version = a->version;
    out->commit_version = a->commit_version;
    out->current_ts = a->current_ts;
    out->caller_start_ts = a->caller_start_ts;
    out->max_ts = a->max_ts;
    out->rollback_if_not_exist = a->rollback_if_not_exist;
    out->lock_ttl = a->lock_ttl;
    out->txn_size = a->txn_size;
    out->min_commit_ts = a->min_commit_ts;
    out->deadline_ms = a->deadline_ms;
    out->for_update_ts = a->for_update_ts;
    out->wait_timeout_ms = a->wait_timeout_ms;
    out->return_values = a->return_values;
    out->try_one_pc = a->try_one_pc;
    out->use_async_commit = a->use_async_commit;
    if (a->cop_len) {
        out->cop.data = region__malloc(a->cop_len);
        if (out->cop.data == NULL) {
            rc = -ENOMEM;
            goto fail;
        }
        memcpy(out->cop.data, a->cop, a->cop_len);
        out->cop.len = a->cop_len;
    }
    return 0;
fail:
    region__txnreq_free(out);
    return rc;
}

/* A copy through libmvcc's allocator (mvcc_result_reset frees it); an
 * empty byte string is a 1-byte allocation so that a present value is
 * never NULL. */
static uint8_t *dup_bytes(const pb_bytes_array_t *b, size_t *len)
{
    size_t n = b ? b->size : 0;
    uint8_t *p = mvcc_malloc(n ? n : 1);
    if (p != NULL && n)
        memcpy(p, b->bytes, n);
    *len = n;
    return p;
}

void region_desc_from_pb(const kv_RegionInfo *ri, struct region_desc *d)
{
    memset(d, 0, sizeof *d);
    d->id = ri->id;
    d->conf_ver = ri->conf_ver;
    d->version = ri->version;
    if (ri->start && ri->start->size <= REGION_MAX_BOUND) {
        d->start_len = ri->start->size;
        memcpy(d->start, ri->start->bytes, d->start_len);
    }
    if (ri->end && ri->end->size <= REGION_MAX_BOUND) {
        d->end_len = ri->end->size;
        memcpy(d->end, ri->end->bytes, d->end_len);
    }
    for (pb_size_t i = 0; ri->stores && i < ri->stores_count &&
                          d->n_stores < REGION_MAX_PEERS; i++)
        d->stores[d->n_stores++] = ri->stores[i];
}

int region__txnresp_result(const kv_TxnResponse *r, struct mvcc_result *res,
                           struct region_err *err)
{
    mvcc_result_reset(res);
    memset(err, 0, sizeof *err);
    int rc = r->code;
    if (rc > 0)
        rc = REGION_EINTERNAL; /* not a code this protocol uses */
    if (r->error)
        snprintf(res->errmsg, sizeof res->errmsg, "%s", r->error);
    int rcode = r->has_region_error ? r->region_error.code : 0;
    if (rcode == 0 && rc <= REGION_ENOT_LEADER && rc >= REGION_ESTALE_COMMAND)
        rcode = rc; /* a region code without its detail */
    if (rcode > 0)
        rcode = REGION_EINTERNAL;
    if (rcode != 0) {
        const kv_RegionError *re = &r->region_error;
        err->code = rcode;
        if (rc == 0)
            rc = rcode;
        err->leader = re->leader;
        if (re->has_region) {
            err->has_region = true;
            region_desc_from_pb(&re->region, &err->region);
            /* a region the cache would reject is no detail at all */
            if (err->region.id == 0)
                err->has_region = false;
        }
        snprintf(err->msg, sizeof err->msg, "%s",
                 re->message ? re->message : region_strerror(err->code));
        return rc;
    }
    size_t spilled = 0; /* of r->spill.len, taken by pairs so far */
    if (r->pairs_count) {
        res->pairs = mvcc_malloc(r->pairs_count * sizeof *res->pairs);
        if (res->pairs == NULL)
            goto nomem;
        memset(res->pairs, 0, r->pairs_count * sizeof *res->pairs);
        res->pairs_cap = r->pairs_count;
        for (pb_size_t i = 0; i < r->pairs_count; i++) {
            struct mvcc_kvpair *p = &res->pairs[i];
            p->key = dup_bytes(r->pairs[i].key, &p->key_len);
            if (p->key == NULL)
                goto nomem;
            res->npairs = i + 1u;
            uint64_t sl = r->pairs[i].value_spill;
            if (sl != 0) {
                if (r->pairs[i].value || sl > r->spill.len - spilled)
                    goto bad;
                p->value = mvcc_malloc((size_t)sl);
                if (p->value == NULL)
                    goto nomem;
                memcpy(p->value, r->spill.data + spilled, (size_t)sl);
                p->value_len = (size_t)sl;
                spilled += (size_t)sl;
            } else if (r->pairs[i].value) {
                p->value = dup_bytes(r->pairs[i].value, &p->value_len);
                if (p->value == NULL)
                    goto nomem;
            }
        }
    }
    if (spilled != r->spill.len)
        goto bad; /* bytes no pair claims: not what kvd sends */
    if (r->locks_count) {
        res->locks = mvcc_malloc(r->locks_count * sizeof *res->locks);
        if (res->locks == NULL)
            goto nomem;
        memset(res->locks, 0, r->locks_count * sizeof *res->locks);
        res->locks_cap = r->locks_count;
        for (pb_size_t i = 0; i < r->locks_count; i++) {
            const kv_LockInfo *l = &r->locks[i];
            struct mvcc_lock_info *o = &res->locks[i];
            res->nlocks = i + 1u;
            o->key = dup_bytes(l->key, &o->key_len);
            o->primary = dup_bytes(l->primary, &o->primary_len);
            if (o->key == NULL || o->primary == NULL)
                goto nomem;
            o->start_ts = l->start_version;
            o->ttl = l->ttl;
            o->type = (int)l->type;
            o->min_commit_ts = l->min_commit_ts;
            o->for_update_ts = l->for_update_ts;
            o->txn_size = l->txn_size;
            o->use_async_commit = l->use_async_commit;
            if (l->secondaries_count) {
                o->secondaries =
                    mvcc_malloc(l->secondaries_count * sizeof *o->secondaries);
                if (o->secondaries == NULL)
                    goto nomem;
                for (pb_size_t j = 0; j < l->secondaries_count; j++) {
                    size_t sl;
                    uint8_t *sk = dup_bytes(l->secondaries[j], &sl);
                    if (sk == NULL)
                        goto nomem;
                    o->secondaries[j] = (struct mvcc_key){sk, sl};
                    o->nsecondaries = j + 1u;
                }
            }
        }
    }
    if (r->key) {
        res->key = dup_bytes(r->key, &res->key_len);
        if (res->key == NULL)
            goto nomem;
    }
    res->commit_ts = r->commit_version;
    res->min_commit_ts = r->min_commit_ts;
    res->status = (int)r->status;
    res->action = (int)r->action;
    res->lock_ttl = r->lock_ttl;
    res->conflict_start_ts = r->conflict_start_ts;
    res->conflict_commit_ts = r->conflict_commit_ts;
    return rc;
nomem:
    mvcc_result_reset(res);
    return -ENOMEM;
bad:
    mvcc_result_reset(res);
    snprintf(res->errmsg, sizeof res->errmsg,
             "kvd's reply: pair values and spill of %zu bytes disagree",
             (size_t)r->spill.len);
    return REGION_EDECODE;
}

int region__locreq_build(kv_LocateRequest *out, const void *key, size_t len)
{
    memset(out, 0, sizeof *out);
    return mkbytes(&out->key, key, len);
}

void region__locreq_free(kv_LocateRequest *r)
{
    region__free(r->key);
    r->key = NULL;
}

int region__locresp_result(const kv_LocateResponse *r, struct region_desc *d,
                           uint64_t *leader)
{
    if (r->code != 0)
        return r->code > 0 ? REGION_EINTERNAL : r->code;
    if (!r->has_region || r->region.id == 0)
        return REGION_ENOT_FOUND;
    region_desc_from_pb(&r->region, d);
    *leader = r->leader;
    return 0;
}

int region__client_code(int rc)
{
    switch (rc) {
    case REGION_ENOT_LEADER:
        return MVCC_NOT_LEADER;
    case REGION_EEPOCH_NOT_MATCH:
        return MVCC_EPOCH_NOT_MATCH;
    case REGION_ENOT_FOUND:
        return MVCC_REGION_NOT_FOUND;
    case REGION_EKEY_NOT_IN_REGION:
        return MVCC_KEY_NOT_IN_REGION;
    case REGION_ESERVER_BUSY:
    case REGION_ETIMEOUT: /* the store took too long: it may yet apply,
                             and every command is idempotent */
    case RPC_EBUSY:
        return MVCC_SERVER_BUSY;
    case REGION_ESTALE_COMMAND:
        return MVCC_STALE_COMMAND;
    case REGION_EMAX_TS_NOT_SYNCED:
        return MVCC_MAX_TS_NOT_SYNCED;
    case REGION_EENTRY_TOO_LARGE: /* the command is over kvd's Raft entry
                                     limit, or the request or reply over */
    case RPC_EFRAME_TOO_LARGE:    /* the frame limit: said in errno terms,
                                     which every layer above can print */
        return -EMSGSIZE;
    case REGION_ECLOSED: /* the store is going down */
    case RPC_ECONNECT:
    case RPC_ECONNLOST:
    case RPC_EDEADLINE:
    case RPC_ECLOSED:
    case RPC_ESTALLED:
        return MVCC_STORE_UNREACHABLE;
    default:
        return rc;
    }
}

void region__scan_adjust(struct mvcc_result *res, bool key_only,
                         bool reverse, size_t limit)
{
    if (key_only)
        for (size_t i = 0; i < res->npairs; i++) {
            mvcc_free(res->pairs[i].value);
            res->pairs[i].value = NULL;
            res->pairs[i].value_len = 0;
        }
    if (!reverse)
        return;
    for (size_t i = 0, j = res->npairs; i + 1 < j; i++, j--) {
        struct mvcc_kvpair t = res->pairs[i];
        res->pairs[i] = res->pairs[j - 1];
        res->pairs[j - 1] = t;
    }
    while (limit && res->npairs > limit) {
        struct mvcc_kvpair *p = &res->pairs[--res->npairs];
        mvcc_free(p->key);
        mvcc_free(p->value);
    }
}

/* ---- kv.TxnResponse by hand ------------------------------------------
 * The replies a sqld waits for most (a Scan page, a BatchGet, a 1PC
 * Prewrite's commit_ts) are pairs and a few numbers. nanopb decodes them
 * through its field descriptors, one allocation per key and value, which
 * region__txnresp_result then copies again: a third of sqld's
 * instructions on oltp_read_write. region__txnresp_decode reads the same
 * bytes straight into the result, and takes only what it decodes exactly
 * as nanopb would; everything else it leaves to nanopb. */

struct pbrd
{
    const uint8_t *p;   /* next byte */
    const uint8_t *end; /* past the last */
};

/* A varint of at most 10 bytes whose 10th carries bit 63 alone. */
static inline bool rd_varint(struct pbrd *r, uint64_t *v)
{
    if (r->p < r->end && *r->p < 0x80) { /* tags, lengths, flags */
        *v = *r->p++;
        return true;
    }
    uint64_t x = 0;
    for (unsigned sh = 0; sh < 64; sh += 7) {
        if (r->p == r->end)
            return false;
        uint8_t b = *r->p++;
        if (sh == 63 && b > 1)
            return false;
        x |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* A field's tag: its number (1..) and wire type. */
static inline bool rd_tag(struct pbrd *r, uint32_t *field, unsigned *wt)
{
    uint64_t t;
    if (!rd_varint(r, &t) || t > UINT32_MAX || (t >> 3) == 0)
        return false;
    *field = (uint32_t)(t >> 3);
    *wt = (unsigned)(t & 7);
    return true;
}

/* A length-delimited field's bytes (wire type 2), at most max of them. */
static inline bool rd_bytes(struct pbrd *r, size_t max, struct pbrd *out)
{
    uint64_t n;
    if (!rd_varint(r, &n) || n > max || n > (uint64_t)(r->end - r->p))
        return false;
    out->p = r->p;
    out->end = r->p + n;
    r->p += n;
    return true;
}

/* One KvPair: its last key and value (val->p NULL: no value field).
 * false for anything but keys and values nanopb holds (at most 65,535
 * bytes: its pb_size_t) and a value_spill of 0. */
static bool rd_pair(struct pbrd m, struct pbrd *key, struct pbrd *val)
{
    key->p = key->end = NULL;
    val->p = val->end = NULL;
    while (m.p < m.end) {
        uint32_t f;
        unsigned wt;
        uint64_t v;
        if (!rd_tag(&m, &f, &wt))
            return false;
        if ((f == 1 || f == 2) && wt == 2) {
            if (!rd_bytes(&m, PB_SIZE_MAX, f == 1 ? key : val))
                return false;
        } else if (f == 3 && wt == 0) {
            if (!rd_varint(&m, &v) || v != 0)
                return false; /* a spilled value: nanopb's path */
        } else {
            return false;
        }
    }
    return true;
}

/* The scalar fields of a reply; pairs are counted here and copied in a
 * second pass. */
struct txnresp_nums
{
    int32_t code;
    uint64_t commit_version, min_commit_ts, lock_ttl;
    uint64_t conflict_start_ts, conflict_commit_ts;
    uint32_t status, action;
    bool more;
    size_t npairs;
};

/* First pass: true when every field is one this decoder takes. */
static bool txnresp_scan(struct pbrd r, struct txnresp_nums *n)
{
    memset(n, 0, sizeof *n);
    while (r.p < r.end) {
        uint32_t f;
        unsigned wt;
        uint64_t v = 0;
        if (!rd_tag(&r, &f, &wt))
            return false;
        if (f == 4 && wt == 2) { /* pairs */
            struct pbrd m, k, val;
            if (!rd_bytes(&r, SIZE_MAX, &m) || !rd_pair(m, &k, &val) ||
                ++n->npairs >= PB_SIZE_MAX)
                return false;
            continue;
        }
        if (wt != 0 || !rd_varint(&r, &v))
            return false;
        switch (f) {
        case 2: /* int32, negative ones sign-extended to 64 bits */
            if ((int64_t)v < INT32_MIN || (int64_t)v > INT32_MAX)
                return false;
            n->code = (int32_t)(int64_t)v;
            break;
        case 7: n->commit_version = v; break;
        case 8: n->min_commit_ts = v; break;
        case 9:
        case 10:
            if (v > UINT32_MAX)
                return false;
            *(f == 9 ? &n->status : &n->action) = (uint32_t)v;
            break;
        case 11: n->lock_ttl = v; break;
        case 12: n->conflict_start_ts = v; break;
        case 13: n->conflict_commit_ts = v; break;
        case 15:
            if (v > 1)
                return false;
            n->more = v == 1;
            break;
        default: /* region_error, error, locks, key, spill, unknown */
            return false;
        }
    }
    return true;
}

static uint8_t *dup_span(const struct pbrd *s, size_t *len)
{
    size_t n = (size_t)(s->end - s->p);
    uint8_t *p = mvcc_malloc(n ? n : 1);
    if (p != NULL && n)
        memcpy(p, s->p, n);
    *len = n;
    return p;
}

int region__txnresp_decode(const uint8_t *buf, size_t len,
                           struct mvcc_result *res, struct region_err *err,
                           bool *more)
{
    mvcc_result_reset(res);
    memset(err, 0, sizeof *err);
    *more = false;
    struct pbrd r = {buf, buf + len};
    struct txnresp_nums n;
    if (len > 0 && buf == NULL)
        return 1;
    if (!txnresp_scan(r, &n))
        return 1;
    int rc = n.code > 0 ? REGION_EINTERNAL : n.code;
    if (rc <= REGION_ENOT_LEADER && rc >= REGION_ESTALE_COMMAND)
        return 1; /* a region code without its detail: nanopb's path */
    if (n.npairs) {
        res->pairs = mvcc_malloc(n.npairs * sizeof *res->pairs);
        if (res->pairs == NULL)
            goto nomem;
        memset(res->pairs, 0, n.npairs * sizeof *res->pairs);
        res->pairs_cap = n.npairs;
        while (r.p < r.end) {
            uint32_t f = 0;
            unsigned wt = 0;
            uint64_t v;
            struct pbrd m, k, val;
            (void)rd_tag(&r, &f, &wt); /* all checked above */
            if (wt == 0) {
                (void)rd_varint(&r, &v);
                continue;
            }
            (void)rd_bytes(&r, SIZE_MAX, &m);
            (void)rd_pair(m, &k, &val);
            struct mvcc_kvpair *p = &res->pairs[res->npairs];
            p->key = dup_span(&k, &p->key_len);
            if (p->key == NULL)
                goto nomem;
            res->npairs++;
            if (val.p != NULL && (p->value = dup_span(&val, &p->value_len)) ==
                                     NULL)
                goto nomem;
        }
    }
    res->commit_ts = n.commit_version;
    res->min_commit_ts = n.min_commit_ts;
    res->status = (int)n.status;
    res->action = (int)n.action;
    res->lock_ttl = n.lock_ttl;
    res->conflict_start_ts = n.conflict_start_ts;
    res->conflict_commit_ts = n.conflict_commit_ts;
    *more = n.more;
    return rc;
nomem:
    mvcc_result_reset(res);
    return -ENOMEM;
}

/* ---- kv.TxnRequest by hand -------------------------------------------
 * A request is a context, keys, mutations and numbers: written straight
 * from the arguments, in field order, with what nanopb writes
 * for the kv.TxnRequest region__txnreq_build would make (the same bytes:
 * test_client `request_by_hand`), without copying each key into the
 * struct first and walking its 27 field descriptors. */

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* A varint field, left out when 0 (proto3). */
static uint8_t *put_num(uint8_t *p, unsigned field, uint64_t v)
{
    if (v == 0)
        return p;
    p = put_varint(p, (uint64_t)field << 3);
    return put_varint(p, v);
}

static uint8_t *put_bytes(uint8_t *p, unsigned field, const void *b,
                          size_t n)
{
    p = put_varint(p, (uint64_t)field << 3 | 2);
    p = put_varint(p, n);
    if (n)
        memcpy(p, b, n);
    return p + n;
}

int region__txnreq_encode(const struct region__txn_args *a,
                          const uint64_t *bypass, size_t nbypass,
                          uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (a->nmuts > 65535 || a->nkeys > 65535 || a->nsecondaries > 65535 ||
        nbypass > 65535 || a->key_len > REGION_BYTES_MAX ||
        a->start_len > REGION_BYTES_MAX || a->end_len > REGION_BYTES_MAX ||
        a->primary_len > REGION_BYTES_MAX || req_bytes(a) > (1u << 20))
        return 1;
    /* room: every field's bytes, and 11 for each tag and length; 16 * 24
     * for the numbers: 16 varint fields (max_ts the latest) of at most
     * 12 bytes each, and the context's three */
    size_t cap = 64 + req_bytes(a) + 11 * (8 + a->nkeys + a->nsecondaries) +
                 16 * 24 + 10 * nbypass + 32 * a->nmuts;
    for (size_t i = 0; i < a->nkeys; i++)
        if (a->keys[i].len > REGION_BYTES_MAX)
            return 1;
    size_t spill = 0; /* values over nanopb's limit: the spill blob */
    for (size_t i = 0; i < a->nmuts; i++) {
        if (a->muts[i].key_len > REGION_BYTES_MAX)
            return 1;
        if (a->muts[i].value && a->muts[i].value_len > REGION_BYTES_MAX)
            spill += a->muts[i].value_len;
    }
    for (size_t i = 0; i < a->nsecondaries; i++)
        if (a->secondaries[i].len > REGION_BYTES_MAX)
            return 1;
    uint8_t *buf = region__malloc(cap);
    if (buf == NULL)
        return -ENOMEM;
    uint8_t *p = buf;
    size_t cl = 0; /* kv.Context: always there (has_ctx) */
    if (a->ctx.region_id)
        cl += 1 + varint_len(a->ctx.region_id);
    if (a->ctx.conf_ver)
        cl += 1 + varint_len(a->ctx.conf_ver);
    if (a->ctx.version)
        cl += 1 + varint_len(a->ctx.version);
    *p++ = 1 << 3 | 2;
    p = put_varint(p, cl);
    p = put_num(p, 1, a->ctx.region_id);
    p = put_num(p, 2, a->ctx.conf_ver);
    p = put_num(p, 3, a->ctx.version);
    if (a->key)
        p = put_bytes(p, 2, a->key, a->key_len);
    for (size_t i = 0; i < a->nkeys; i++)
        p = put_bytes(p, 3, a->keys[i].data, a->keys[i].len);
    if (a->start)
        p = put_bytes(p, 4, a->start, a->start_len);
    if (a->end && a->end_len)
        p = put_bytes(p, 5, a->end, a->end_len);
    p = put_num(p, 6, a->limit);
    p = put_num(p, 7, a->version);
    p = put_num(p, 8, a->commit_version);
    p = put_num(p, 9, a->current_ts);
    for (size_t i = 0; i < a->nmuts; i++) {
        const struct mvcc_mutation *m = &a->muts[i];
        bool spilled = m->value && m->value_len > REGION_BYTES_MAX;
        bool inline_value = m->value && !spilled;
        size_t ml = 1 + varint_len(m->key_len) + m->key_len;
        if (m->op)
            ml += 1 + varint_len((uint32_t)m->op);
        if (inline_value)
            ml += 1 + varint_len(m->value_len) + m->value_len;
        if (m->pessimistic_lock)
            ml += 2;
        if (spilled)
            ml += 1 + varint_len(m->value_len);
        *p++ = 10 << 3 | 2;
        p = put_varint(p, ml);
        p = put_num(p, 1, (uint32_t)m->op);
        p = put_bytes(p, 2, m->key, m->key_len);
        if (inline_value)
            p = put_bytes(p, 3, m->value, m->value_len);
        p = put_num(p, 4, m->pessimistic_lock);
        if (spilled)
            p = put_num(p, 5, m->value_len);
    }
    if (a->primary)
        p = put_bytes(p, 11, a->primary, a->primary_len);
    p = put_num(p, 12, a->lock_ttl);
    p = put_num(p, 13, a->txn_size);
    p = put_num(p, 14, a->rollback_if_not_exist);
    p = put_num(p, 15, a->caller_start_ts);
    p = put_num(p, 16, a->max_ts);
    p = put_num(p, 17, a->min_commit_ts);
    p = put_num(p, 18, a->for_update_ts);
    p = put_num(p, 19, (uint64_t)a->wait_timeout_ms);
    p = put_num(p, 20, a->return_values);
    p = put_num(p, 21, a->try_one_pc);
    p = put_num(p, 22, a->use_async_commit);
    for (size_t i = 0; i < a->nsecondaries; i++)
        p = put_bytes(p, 23, a->secondaries[i].data, a->secondaries[i].len);
    if (spill) { /* the spilled values in mutation order */
        p = put_varint(p, 24 << 3 | 2);
        p = put_varint(p, spill);
        for (size_t i = 0; i < a->nmuts; i++)
            if (a->muts[i].value && a->muts[i].value_len > REGION_BYTES_MAX) {
                memcpy(p, a->muts[i].value, a->muts[i].value_len);
                p += a->muts[i].value_len;
            }
    }
    if (a->cop_len)
        p = put_bytes(p, 25, a->cop, a->cop_len);
    p = put_num(p, 26, a->deadline_ms);
    if (nbypass) { /* packed, as proto3 repeats numbers */
        size_t bl = 0;
        for (size_t i = 0; i < nbypass; i++)
            bl += varint_len(bypass[i]);
        p = put_varint(p, 27 << 3 | 2);
        p = put_varint(p, bl);
        for (size_t i = 0; i < nbypass; i++)
            p = put_varint(p, bypass[i]);
    }
    *out = buf;
    *len = (size_t)(p - buf);
    return 0;
}

/* ---- kv.TxnResponse of a read, by hand (the store's side) -------------
 * A read's reply is its pairs and `more`: written in field order with
 * the bytes nanopb writes for the struct a store used to fill (key
 * always, an empty one too; value when not NULL, empty included;
 * value_spill and field 14 for a value over nanopb's limit), without
 * copying every key and value into that struct first. */

/* KvPair's bytes inside the reply: its key, value or spilled length. */
static size_t pair_len(const struct mvcc_kvpair *p)
{
    size_t n = 1 + varint_len(p->key_len) + p->key_len;
    if (p->value && p->value_len > REGION_BYTES_MAX)
        n += 1 + varint_len(p->value_len);
    else if (p->value)
        n += 1 + varint_len(p->value_len) + p->value_len;
    return n;
}

int region_txn_read_reply(const struct mvcc_kvpair *pairs, size_t n,
                          bool more, uint8_t **buf, size_t *cap,
                          size_t *len)
{
    *len = 0;
    if (n > 65535)
        return -E2BIG;
    size_t total = more ? 2 : 0, spill = 0;
    for (size_t i = 0; i < n; i++) {
        const struct mvcc_kvpair *p = &pairs[i];
        if (p->key_len > REGION_BYTES_MAX ||
            p->value_len > REGION_TXN_MAX_BYTES)
            return -E2BIG;
        size_t pl = pair_len(p);
        total += 1 + varint_len(pl) + pl;
        if (p->value && p->value_len > REGION_BYTES_MAX)
            spill += p->value_len;
        if (total + spill > REGION_TXN_MAX_BYTES)
            return -E2BIG;
    }
    if (spill)
        total += 1 + varint_len(spill) + spill;
    if (total > REGION_TXN_MAX_BYTES)
        return -E2BIG;
    if (total > *cap || *buf == NULL) {
        uint8_t *b = region__realloc(*buf, total ? total : 1);
        if (b == NULL)
            return -ENOMEM;
        *buf = b;
        *cap = total ? total : 1;
    }
    uint8_t *o = *buf;
    for (size_t i = 0; i < n; i++) {
        const struct mvcc_kvpair *p = &pairs[i];
        bool spilled = p->value && p->value_len > REGION_BYTES_MAX;
        *o++ = 4 << 3 | 2;
        o = put_varint(o, pair_len(p));
        o = put_bytes(o, 1, p->key, p->key_len);
        if (spilled)
            o = put_num(o, 3, p->value_len);
        else if (p->value)
            o = put_bytes(o, 2, p->value, p->value_len);
    }
    if (spill) {
        o = put_varint(o, 14 << 3 | 2);
        o = put_varint(o, spill);
        for (size_t i = 0; i < n; i++)
            if (pairs[i].value && pairs[i].value_len > REGION_BYTES_MAX) {
                memcpy(o, pairs[i].value, pairs[i].value_len);
                o += pairs[i].value_len;
            }
    }
    o = put_num(o, 15, more);
    *len = (size_t)(o - *buf);
    return 0;
}

/* ---------------------------------------------------------------------
 * kv.Forward's request (DESIGN.md "Forwarding"): ForwardRequest's fields
 * written and read by hand, so the request inside is never copied into a
 * decoded message and out again.
 */
_Static_assert(kv_ForwardRequest_store_tag == 1 &&
                   kv_ForwardRequest_method_tag == 2 &&
                   kv_ForwardRequest_request_tag == 3,
               "kv.proto's ForwardRequest differs from txncodec.c's");

bool region_forward_method_ok(uint32_t method)
{
    return method >= REGION_METHOD_TXN_GET && method <= REGION_METHOD_TXN_COP;
}

size_t region_forward_header(uint8_t *out, uint64_t store, uint32_t method,
                             size_t req_len)
{
    uint8_t *p = put_num(out, 1, store);
    p = put_num(p, 2, method);
    p = put_varint(p, 3u << 3 | 2);
    p = put_varint(p, req_len);
    return (size_t)(p - out);
}

bool region_forward_parse(const uint8_t *buf, size_t len, uint64_t *store,
                          uint32_t *method, const uint8_t **req,
                          size_t *req_len)
{
    struct pbrd r = {buf, buf + len};
    uint64_t st = 0, m = 0;
    struct pbrd body = {NULL, NULL};
    while (r.p < r.end) {
        uint32_t f;
        unsigned wt;
        uint64_t v;
        struct pbrd b;
        if (!rd_tag(&r, &f, &wt))
            return false;
        if (wt == 0) {
            if (!rd_varint(&r, &v))
                return false;
            if (f == 1)
                st = v;
            else if (f == 2)
                m = v;
        } else if (wt == 2) {
            if (!rd_bytes(&r, SIZE_MAX, &b))
                return false;
            if (f == 3)
                body = b;
            else if (f == 1 || f == 2)
                return false; /* a number's field with bytes */
        } else if (wt == 1 && (size_t)(r.end - r.p) >= 8 && f > 3) {
            r.p += 8;
        } else if (wt == 5 && (size_t)(r.end - r.p) >= 4 && f > 3) {
            r.p += 4;
        } else {
            return false;
        }
        if (wt == 0 && f == 3)
            return false; /* the request's field with a number */
    }
    if (st == 0 || m == 0 || m > UINT32_MAX)
        return false;
    *store = st;
    *method = (uint32_t)m;
    *req = body.p ? body.p : buf + len; /* an empty request: no bytes */
    *req_len = body.p ? (size_t)(body.end - body.p) : 0;
    return true;
}

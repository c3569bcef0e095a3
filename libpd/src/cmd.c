/* cmd.c: encoding and decoding of the commands that carry every change of
 * libpd's replicated state (byte formats in DESIGN.md "Commands"). The
 * decoder trusts nothing: it bounds every count and length, applies the same
 * validity rules as the API and rejects trailing bytes, so any input is
 * either a valid command or PD_EDECODE.
 */
#include <string.h>

#include "pd_int.h"

static bool str_ok(struct pd__str s, size_t min)
{
    return s.n >= min && s.n <= PD_MAX_STR &&
           (s.n == 0 || memchr(s.p, 0, s.n) == NULL);
}

static bool str_eq(struct pd__str a, struct pd__str b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool pd__store_valid(const struct pd__store_v *s, const char **why)
{
    if (s->id == 0) {
        *why = "store id 0";
        return false;
    }
    if (!str_ok(s->address, 1)) {
        *why = "bad store address";
        return false;
    }
    if (s->state > PD_STORE_TOMBSTONE) {
        *why = "bad store state";
        return false;
    }
    if (s->n_labels > PD_MAX_LABELS) {
        *why = "too many labels";
        return false;
    }
    for (uint32_t i = 0; i < s->n_labels; i++) {
        if (!str_ok(s->lkey[i], 1) || !str_ok(s->lval[i], 0)) {
            *why = "bad label";
            return false;
        }
        for (uint32_t j = 0; j < i; j++)
            if (str_eq(s->lkey[i], s->lkey[j])) {
                *why = "duplicate label key";
                return false;
            }
    }
    return true;
}

bool pd__region_valid(const struct pd__region_v *r, const char **why)
{
    if (r->id == 0) {
        *why = "region id 0";
        return false;
    }
    if (r->start.n > PD_MAX_KEY || r->end.n > PD_MAX_KEY) {
        *why = "key too long";
        return false;
    }
    if (r->end.n > 0 &&
        pd__keycmp(r->start.p, r->start.n, r->end.p, r->end.n) >= 0) {
        *why = "start key not below end key";
        return false;
    }
    if (r->n_peers == 0 || r->n_peers > PD_MAX_PEERS) {
        *why = "peer count out of 1..PD_MAX_PEERS";
        return false;
    }
    bool leader_found = r->leader_peer == 0;
    for (uint32_t i = 0; i < r->n_peers; i++) {
        const struct pd_peer *p = &r->peers[i];
        if (p->id == 0 || p->store_id == 0) {
            *why = "peer or store id 0";
            return false;
        }
        for (uint32_t j = 0; j < i; j++)
            if (r->peers[j].store_id == p->store_id ||
                r->peers[j].id == p->id) {
                *why = "two peers share a store or an id";
                return false;
            }
        if (p->id == r->leader_peer) {
            if (p->learner) {
                *why = "leader is a learner";
                return false;
            }
            leader_found = true;
        }
    }
    if (!leader_found) {
        *why = "leader is not a peer";
        return false;
    }
    return true;
}

int pd__store_view(const struct pd_store *in, struct pd__store_v *out,
                   const char **why)
{
    memset(out, 0, sizeof(*out));
    if (in == NULL || in->address == NULL || in->n_labels > PD_MAX_LABELS) {
        *why = "missing store, address or too many labels";
        return -EINVAL;
    }
    out->id = in->id;
    out->address.p = (const uint8_t *)in->address;
    out->address.n = strnlen(in->address, PD_MAX_STR + 1);
    out->state = PD_STORE_UP;
    out->version = in->version;
    out->region_version = in->region_version;
    out->n_labels = in->n_labels;
    for (uint32_t i = 0; i < in->n_labels; i++) {
        const char *k = in->labels[i].key, *v = in->labels[i].value;
        if (k == NULL || v == NULL) {
            *why = "NULL label";
            return -EINVAL;
        }
        out->lkey[i].p = (const uint8_t *)k;
        out->lkey[i].n = strnlen(k, PD_MAX_STR + 1);
        out->lval[i].p = (const uint8_t *)v;
        out->lval[i].n = strnlen(v, PD_MAX_STR + 1);
    }
    return pd__store_valid(out, why) ? 0 : -EINVAL;
}

void pd__region_view(const struct pd_region_info *in, struct pd__region_v *out)
{
    const struct pd_region *r = &in->region;
    memset(out, 0, sizeof(*out));
    out->id = r->id;
    out->start.p = r->start_key;
    out->start.n = r->start_key == NULL ? 0 : r->start_len;
    out->end.p = r->end_key;
    out->end.n = r->end_key == NULL ? 0 : r->end_len;
    out->conf_ver = r->conf_ver;
    out->version = r->version;
    out->n_peers = r->n_peers;
    if (r->n_peers <= PD_MAX_PEERS)
        memcpy(out->peers, r->peers, r->n_peers * sizeof(r->peers[0]));
    out->leader_peer = in->leader_peer_id;
    out->size = in->approx_size;
    out->keys = in->approx_keys;
}

bool pd__config_valid(const struct pd__config_v *c, const char **why)
{
    if (c->max_replicas == 0 || c->max_replicas > PD_MAX_PEERS) {
        *why = "max_replicas out of 1..PD_MAX_PEERS";
        return false;
    }
    if (c->low_space_percent > 100) {
        *why = "low_space_percent above 100";
        return false;
    }
    if (c->leader_schedule_limit == 0 ||
        c->leader_schedule_limit > PD_LEADER_SCHEDULE_LIMIT_MAX) {
        *why = "leader_schedule_limit out of 1..1024";
        return false;
    }
    if (c->n_labels > PD_MAX_LOCATION_LABELS) {
        *why = "too many location labels";
        return false;
    }
    for (uint32_t i = 0; i < c->n_labels; i++)
        if (!str_ok(c->labels[i], 1)) {
            *why = "bad location label";
            return false;
        }
    return true;
}

void pd__config_view(const struct pd_config *in, struct pd__config_v *out)
{
    memset(out, 0, sizeof(*out));
    out->max_replicas = in->max_replicas;
    out->max_store_down_ms = in->max_store_down_ms;
    out->operator_timeout_ms = in->operator_timeout_ms;
    out->leader_tolerance = in->leader_tolerance;
    out->region_tolerance = in->region_tolerance;
    out->region_max_size = in->region_max_size;
    out->merge_max_size = in->merge_max_size;
    out->merge_max_keys = in->merge_max_keys;
    out->low_space_percent = in->low_space_percent;
    out->split_merge_interval_ms = in->split_merge_interval_ms;
    out->store_limit = in->store_limit;
    out->leader_schedule_limit = in->leader_schedule_limit;
    out->n_labels = in->n_location_labels;
    for (uint32_t i = 0;
         i < in->n_location_labels && i < PD_MAX_LOCATION_LABELS; i++) {
        const char *l = in->location_labels[i];
        out->labels[i].p = (const uint8_t *)l;
        out->labels[i].n = l == NULL ? 0 : strnlen(l, PD_MAX_STR + 1);
    }
}

static void enc_config(struct pd__buf *b, const struct pd__config_v *c)
{
    pd__buf_uvarint(b, c->max_replicas);
    pd__buf_uvarint(b, c->max_store_down_ms);
    pd__buf_uvarint(b, c->operator_timeout_ms);
    pd__buf_uvarint(b, c->leader_tolerance);
    pd__buf_uvarint(b, c->region_tolerance);
    pd__buf_uvarint(b, c->region_max_size);
    pd__buf_uvarint(b, c->merge_max_size);
    pd__buf_uvarint(b, c->merge_max_keys);
    pd__buf_uvarint(b, c->low_space_percent);
    pd__buf_uvarint(b, c->split_merge_interval_ms);
    pd__buf_uvarint(b, c->store_limit);
    pd__buf_uvarint(b, c->n_labels);
    for (uint32_t i = 0; i < c->n_labels; i++)
        pd__buf_bytes(b, c->labels[i].p, c->labels[i].n);
    /* only when it is not the default: a CONFIG written before the field
     * (none) means the default, and every command has one encoding */
    if (c->leader_schedule_limit != PD_LEADER_SCHEDULE_LIMIT)
        pd__buf_uvarint(b, c->leader_schedule_limit);
}

static uint32_t rd_u32(struct pd__rd *r)
{
    uint64_t v = pd__rd_uvarint(r);
    if (v > UINT32_MAX)
        r->bad = true;
    return (uint32_t)v;
}

static struct pd__str rd_str(struct pd__rd *r, size_t max);

static void dec_config(struct pd__rd *r, struct pd__config_v *c)
{
    c->max_replicas = rd_u32(r);
    c->max_store_down_ms = pd__rd_uvarint(r);
    c->operator_timeout_ms = pd__rd_uvarint(r);
    c->leader_tolerance = rd_u32(r);
    c->region_tolerance = pd__rd_uvarint(r);
    c->region_max_size = pd__rd_uvarint(r);
    c->merge_max_size = pd__rd_uvarint(r);
    c->merge_max_keys = pd__rd_uvarint(r);
    c->low_space_percent = rd_u32(r);
    c->split_merge_interval_ms = pd__rd_uvarint(r);
    c->store_limit = rd_u32(r);
    c->n_labels = rd_u32(r);
    if (c->n_labels > PD_MAX_LOCATION_LABELS) {
        r->bad = true;
        return;
    }
    for (uint32_t i = 0; i < c->n_labels; i++)
        c->labels[i] = rd_str(r, PD_MAX_STR);
    c->leader_schedule_limit = PD_LEADER_SCHEDULE_LIMIT;
    if (!r->bad && r->off < r->n) { /* a written default is not canonical */
        c->leader_schedule_limit = rd_u32(r);
        if (c->leader_schedule_limit == PD_LEADER_SCHEDULE_LIMIT)
            r->bad = true;
    }
}

static void enc_store(struct pd__buf *b, const struct pd__store_v *s)
{
    pd__buf_uvarint(b, s->id);
    pd__buf_bytes(b, s->address.p, s->address.n);
    pd__buf_u8(b, s->state);
    pd__buf_uvarint(b, s->n_labels);
    for (uint32_t i = 0; i < s->n_labels; i++) {
        pd__buf_bytes(b, s->lkey[i].p, s->lkey[i].n);
        pd__buf_bytes(b, s->lval[i].p, s->lval[i].n);
    }
}

/* The store's versions end BOOTSTRAP and PUT_STORE: the libmvcc version
 * when either is nonzero, then the libregion version when it is nonzero
 * (libpd 0.17). A command written before versions (none) stays valid and
 * decodes as 0 and 0, one written before libregion's as region version 0,
 * and every command has one encoding. */
static void enc_version(struct pd__buf *b, const struct pd__store_v *s)
{
    if (s->version != 0 || s->region_version != 0)
        pd__buf_uvarint(b, s->version);
    if (s->region_version != 0)
        pd__buf_uvarint(b, s->region_version);
}

static void enc_region(struct pd__buf *b, const struct pd__region_v *r)
{
    pd__buf_uvarint(b, r->id);
    pd__buf_bytes(b, r->start.p, r->start.n);
    pd__buf_bytes(b, r->end.p, r->end.n);
    pd__buf_uvarint(b, r->conf_ver);
    pd__buf_uvarint(b, r->version);
    pd__buf_uvarint(b, r->n_peers);
    for (uint32_t i = 0; i < r->n_peers; i++) {
        pd__buf_uvarint(b, r->peers[i].id);
        pd__buf_uvarint(b, r->peers[i].store_id);
        pd__buf_u8(b, r->peers[i].learner ? 1 : 0);
    }
    pd__buf_uvarint(b, r->leader_peer);
    pd__buf_uvarint(b, r->size);
    pd__buf_uvarint(b, r->keys);
}

static struct pd__str rd_str(struct pd__rd *r, size_t max)
{
    struct pd__str s;
    s.p = pd__rd_bytes(r, max, &s.n);
    return s;
}

static void dec_store(struct pd__rd *r, struct pd__store_v *s)
{
    s->id = pd__rd_uvarint(r);
    s->address = rd_str(r, PD_MAX_STR);
    s->state = pd__rd_u8(r);
    uint64_t n = pd__rd_uvarint(r);
    if (n > PD_MAX_LABELS) {
        r->bad = true;
        return;
    }
    s->n_labels = (uint32_t)n;
    for (uint32_t i = 0; i < s->n_labels; i++) {
        s->lkey[i] = rd_str(r, PD_MAX_STR);
        s->lval[i] = rd_str(r, PD_MAX_STR);
    }
}

/* The optional versions at the end of the command (see enc_version): a
 * written libmvcc 0 without a libregion version after it, or a written
 * libregion 0, is not the canonical form and is refused. */
static void dec_version(struct pd__rd *r, struct pd__store_v *s)
{
    if (r->bad || r->off == r->n)
        return;
    s->version = rd_u32(r);
    if (r->bad || r->off == r->n) {
        r->bad = r->bad || s->version == 0;
        return;
    }
    s->region_version = rd_u32(r);
    if (s->region_version == 0)
        r->bad = true;
}

static void dec_region(struct pd__rd *r, struct pd__region_v *g)
{
    g->id = pd__rd_uvarint(r);
    g->start = rd_str(r, PD_MAX_KEY);
    g->end = rd_str(r, PD_MAX_KEY);
    g->conf_ver = pd__rd_uvarint(r);
    g->version = pd__rd_uvarint(r);
    uint64_t n = pd__rd_uvarint(r);
    if (n > PD_MAX_PEERS) {
        r->bad = true;
        return;
    }
    g->n_peers = (uint32_t)n;
    for (uint32_t i = 0; i < g->n_peers; i++) {
        g->peers[i].id = pd__rd_uvarint(r);
        g->peers[i].store_id = pd__rd_uvarint(r);
        uint8_t l = pd__rd_u8(r);
        if (l > 1)
            r->bad = true;
        g->peers[i].learner = l == 1;
    }
    g->leader_peer = pd__rd_uvarint(r);
    g->size = pd__rd_uvarint(r);
    g->keys = pd__rd_uvarint(r);
}

void pd__cmd_encode(const struct pd__cmd *c, struct pd__buf *b)
{
    pd__buf_u8(b, c->type);
    switch (c->type) {
    case PD__CMD_TSO_SAVE:
    case PD__CMD_ID_SAVE:
    case PD__CMD_CLUSTER:
    case PD__CMD_CLUSTER_VERSION:
    case PD__CMD_CLUSTER_REGION_VERSION:
        pd__buf_uvarint(b, c->u);
        break;
    case PD__CMD_BOOTSTRAP:
        pd__buf_uvarint(b, c->u);
        enc_store(b, &c->store);
        enc_region(b, &c->region);
        enc_version(b, &c->store);
        break;
    case PD__CMD_PUT_STORE:
        enc_store(b, &c->store);
        enc_version(b, &c->store);
        break;
    case PD__CMD_PUT_REGION:
        enc_region(b, &c->region);
        break;
    case PD__CMD_GC_SAFE_POINT:
        pd__buf_uvarint(b, c->u);
        pd__buf_uvarint(b, c->now);
        break;
    case PD__CMD_CONFIG:
        enc_config(b, &c->cfg);
        break;
    case PD__CMD_SERVICE_SAFE_POINT:
        pd__buf_bytes(b, c->service.p, c->service.n);
        pd__buf_uvarint(b, c->u);
        pd__buf_uvarint(b, c->expire);
        pd__buf_uvarint(b, c->now);
        break;
    default:
        break;
    }
}

int pd__cmd_decode(const uint8_t *cmd, size_t len, struct pd__cmd *out)
{
    struct pd__rd r = {cmd, len, 0, false};
    const char *why = NULL;
    memset(out, 0, sizeof(*out));
    if (cmd == NULL || len == 0)
        return PD_EDECODE;
    out->type = pd__rd_u8(&r);
    switch (out->type) {
    case PD__CMD_TSO_SAVE:
        /* Bounds keep the leader's arithmetic far from overflow. */
        out->u = pd__rd_uvarint(&r);
        if (!r.bad && out->u >= PD_TS_PHYSICAL_LIMIT)
            return PD_EDECODE;
        break;
    case PD__CMD_ID_SAVE:
        out->u = pd__rd_uvarint(&r);
        if (!r.bad && out->u >= PD_ID_LIMIT)
            return PD_EDECODE;
        break;
    case PD__CMD_CLUSTER:
        out->u = pd__rd_uvarint(&r);
        if (!r.bad && out->u == 0)
            return PD_EDECODE;
        break;
    case PD__CMD_CLUSTER_VERSION:
    case PD__CMD_CLUSTER_REGION_VERSION:
        out->u = pd__rd_uvarint(&r);
        if (!r.bad && (out->u == 0 || out->u > UINT32_MAX))
            return PD_EDECODE;
        break;
    case PD__CMD_BOOTSTRAP:
        out->u = pd__rd_uvarint(&r);
        dec_store(&r, &out->store);
        dec_region(&r, &out->region);
        dec_version(&r, &out->store);
        if (!r.bad && (out->u == 0 || !pd__store_valid(&out->store, &why) ||
                       !pd__region_valid(&out->region, &why)))
            return PD_EDECODE;
        break;
    case PD__CMD_PUT_STORE:
        dec_store(&r, &out->store);
        dec_version(&r, &out->store);
        if (!r.bad && !pd__store_valid(&out->store, &why))
            return PD_EDECODE;
        break;
    case PD__CMD_PUT_REGION:
        dec_region(&r, &out->region);
        if (!r.bad && !pd__region_valid(&out->region, &why))
            return PD_EDECODE;
        break;
    case PD__CMD_GC_SAFE_POINT:
        out->u = pd__rd_uvarint(&r);
        out->now = pd__rd_uvarint(&r);
        break;
    case PD__CMD_CONFIG:
        dec_config(&r, &out->cfg);
        if (!r.bad && !pd__config_valid(&out->cfg, &why))
            return PD_EDECODE;
        break;
    case PD__CMD_SERVICE_SAFE_POINT:
        out->service = rd_str(&r, PD_MAX_STR);
        out->u = pd__rd_uvarint(&r);
        out->expire = pd__rd_uvarint(&r);
        out->now = pd__rd_uvarint(&r);
        if (!r.bad && !str_ok(out->service, 1))
            return PD_EDECODE;
        break;
    default:
        return PD_EDECODE;
    }
    if (r.bad || r.off != r.n)
        return PD_EDECODE;
    return 0;
}

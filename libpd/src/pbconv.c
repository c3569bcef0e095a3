/* pbconv.c: the service messages (proto/pd.proto, nanopb) to and from
 * libpd's structs, for pdd and for pd's clients (kvd). "In" conversions
 * check what the structs' users assume and borrow from the message; "out"
 * conversions allocate every pointer field with malloc, so pb_release
 * (pd_client_release) frees them. DESIGN.md, "Service".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pd.h"
#include <pb_decode.h>

#include "pd.pb.h"

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int labels_in(const pd_Label *in, pb_size_t count,
                     struct pd_label *out, uint32_t *n, char *err,
                     size_t errlen)
{
    if (count > PD_MAX_LABELS)
        return bad(err, errlen, "%u labels, at most %d", (unsigned)count,
                   PD_MAX_LABELS);
    for (pb_size_t i = 0; i < count; i++) {
        if (!in[i].key || !*in[i].key)
            return bad(err, errlen, "label %u has no key", (unsigned)i);
        out[i].key = in[i].key;
        out[i].value = in[i].value ? in[i].value : "";
    }
    *n = count;
    return 0;
}

int pd_pb_store_in(const struct _pd_Store *in, struct pd_store *out,
                   char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (in->id == 0)
        return bad(err, errlen, "store id must be nonzero");
    if (!in->address || !*in->address)
        return bad(err, errlen, "store %" PRIu64 " has no address", in->id);
    out->id = in->id;
    out->address = in->address;
    out->state = (int)in->state;
    out->version = in->version;
    out->region_version = in->region_version;
    return labels_in(in->labels, in->labels_count, out->labels,
                     &out->n_labels, err, errlen);
}

int pd_pb_stats_in(const struct _pd_StoreStats *in,
                   struct pd_store_stats *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->capacity = in->capacity;
    out->available = in->available;
    out->region_count = in->region_count;
    out->leader_count = in->leader_count;
    out->update_labels = in->update_labels;
    return labels_in(in->labels, in->labels_count, out->labels,
                     &out->n_labels, err, errlen);
}

int pd_pb_region_in(const struct _pd_Region *in, struct pd_region *out,
                    char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (in->id == 0)
        return bad(err, errlen, "region id must be nonzero");
    if (in->peers_count < 1 || in->peers_count > PD_MAX_PEERS)
        return bad(err, errlen, "region %" PRIu64 " has %u peers (1..%d)",
                   in->id, (unsigned)in->peers_count, PD_MAX_PEERS);
    out->id = in->id;
    if (in->start_key) {
        out->start_key = in->start_key->bytes;
        out->start_len = in->start_key->size;
    }
    if (in->end_key) {
        out->end_key = in->end_key->bytes;
        out->end_len = in->end_key->size;
    }
    out->conf_ver = in->conf_ver;
    out->version = in->version;
    out->n_peers = in->peers_count;
    for (pb_size_t i = 0; i < in->peers_count; i++) {
        out->peers[i].id = in->peers[i].id;
        out->peers[i].store_id = in->peers[i].store_id;
        out->peers[i].learner = in->peers[i].learner;
    }
    return 0;
}

int pd_pb_region_info_in(const struct _pd_RegionInfo *in,
                         struct pd_region_info *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!in->has_region)
        return bad(err, errlen, "no region in the request");
    int rc = pd_pb_region_in(&in->region, &out->region, err, errlen);
    if (rc)
        return rc;
    if (in->down_peer_ids_count > PD_MAX_PEERS)
        return bad(err, errlen, "%u down peers, at most %d",
                   (unsigned)in->down_peer_ids_count, PD_MAX_PEERS);
    out->leader_peer_id = in->leader_peer_id;
    out->term = in->term;
    out->approx_size = in->approx_size;
    out->approx_keys = in->approx_keys;
    out->n_down_peers = in->down_peer_ids_count;
    for (pb_size_t i = 0; i < in->down_peer_ids_count; i++)
        out->down_peer_ids[i] = in->down_peer_ids[i];
    return 0;
}

/* ---- out: everything malloc'd, freed by pb_release --------------------- */

static char *dupstr(const char *s, bool *oom)
{
    char *d = strdup(s ? s : "");
    if (!d)
        *oom = true;
    return d;
}

static pb_bytes_array_t *dupbytes(const uint8_t *d, size_t n, bool *oom)
{
    if (n == 0)
        return NULL;
    pb_bytes_array_t *b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(n));
    if (!b) {
        *oom = true;
        return NULL;
    }
    b->size = (pb_size_t)n;
    memcpy(b->bytes, d, n);
    return b;
}

static void labels_out(const struct pd_label *in, uint32_t n, pd_Label **out,
                       pb_size_t *count, bool *oom)
{
    *out = NULL;
    *count = 0;
    if (n == 0)
        return;
    pd_Label *l = calloc(n, sizeof(*l));
    if (!l) {
        *oom = true;
        return;
    }
    *out = l;
    *count = (pb_size_t)n;
    for (uint32_t i = 0; i < n; i++) {
        l[i].key = dupstr(in[i].key, oom);
        l[i].value = dupstr(in[i].value, oom);
    }
}

int pd_pb_store_out(const struct pd_store *in, struct _pd_Store *out)
{
    bool oom = false;
    memset(out, 0, sizeof(*out));
    out->id = in->id;
    out->address = dupstr(in->address, &oom);
    out->state = (uint32_t)in->state;
    out->version = in->version;
    out->region_version = in->region_version;
    labels_out(in->labels, in->n_labels, &out->labels, &out->labels_count,
               &oom);
    if (oom) {
        pb_release(pd_Store_fields, out);
        return -ENOMEM;
    }
    return 0;
}

int pd_pb_store_info_out(const struct pd_store_info *in,
                         struct _pd_StoreInfo *out)
{
    memset(out, 0, sizeof(*out));
    int rc = pd_pb_store_out(&in->store, &out->store);
    if (rc)
        return rc;
    out->has_store = true;
    out->state = (uint32_t)in->state;
    out->has_heartbeat = in->has_heartbeat;
    out->last_heartbeat_ms = in->last_heartbeat_ms;
    out->has_stats = true;
    out->stats.capacity = in->stats.capacity;
    out->stats.available = in->stats.available;
    out->stats.region_count = in->stats.region_count;
    out->stats.leader_count = in->stats.leader_count;
    out->map_regions = in->map_regions;
    out->map_leaders = in->map_leaders;
    out->map_size = in->map_size;
    return 0;
}

int pd_pb_region_out(const struct pd_region *r, struct _pd_Region *out)
{
    bool oom = false;
    memset(out, 0, sizeof(*out));
    out->id = r->id;
    out->start_key = dupbytes(r->start_key, r->start_len, &oom);
    out->end_key = dupbytes(r->end_key, r->end_len, &oom);
    out->conf_ver = r->conf_ver;
    out->version = r->version;
    if (r->n_peers) {
        out->peers = calloc(r->n_peers, sizeof(*out->peers));
        if (!out->peers) {
            oom = true;
        } else {
            out->peers_count = (pb_size_t)r->n_peers;
            for (uint32_t i = 0; i < r->n_peers; i++) {
                out->peers[i].id = r->peers[i].id;
                out->peers[i].store_id = r->peers[i].store_id;
                out->peers[i].learner = r->peers[i].learner;
            }
        }
    }
    if (oom) {
        pb_release(pd_Region_fields, out);
        return -ENOMEM;
    }
    return 0;
}

int pd_pb_region_info_out(const struct pd_region_info *in,
                          struct _pd_RegionInfo *out)
{
    memset(out, 0, sizeof(*out));
    int rc = pd_pb_region_out(&in->region, &out->region);
    if (rc)
        return rc;
    out->has_region = true;
    out->leader_peer_id = in->leader_peer_id;
    out->term = in->term;
    out->approx_size = in->approx_size;
    out->approx_keys = in->approx_keys;
    if (in->n_down_peers) {
        out->down_peer_ids = calloc(in->n_down_peers, sizeof(uint64_t));
        if (!out->down_peer_ids) {
            pb_release(pd_RegionInfo_fields, out);
            return -ENOMEM;
        }
        memcpy(out->down_peer_ids, in->down_peer_ids,
               in->n_down_peers * sizeof(uint64_t));
        out->down_peer_ids_count = (pb_size_t)in->n_down_peers;
    }
    return 0;
}

void pd_pb_step_out(const struct pd_step *s, struct _pd_Step *out)
{
    out->kind = (uint32_t)s->kind;
    out->store_id = s->store_id;
    out->peer_id = s->peer_id;
    out->target_region_id = s->target_region_id;
}

int pd_pb_operator_out(const struct pd_operator *op, struct _pd_Operator *out)
{
    bool oom = false;
    memset(out, 0, sizeof(*out));
    out->region_id = op->region_id;
    char desc[sizeof(op->desc) + 1];
    memcpy(desc, op->desc, sizeof(op->desc));
    desc[sizeof(op->desc)] = '\0';
    out->desc = dupstr(desc, &oom);
    if (op->n_steps) {
        out->steps = calloc(op->n_steps, sizeof(*out->steps));
        if (!out->steps) {
            oom = true;
        } else {
            out->steps_count = (pb_size_t)op->n_steps;
            for (uint32_t i = 0; i < op->n_steps; i++)
                pd_pb_step_out(&op->steps[i], &out->steps[i]);
        }
    }
    out->current = op->current;
    out->created_ms = op->created_ms;
    out->status = (uint32_t)op->status;
    if (oom) {
        pb_release(pd_Operator_fields, out);
        return -ENOMEM;
    }
    return 0;
}

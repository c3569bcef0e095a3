/* blob.c: large payloads: `bytes` fields of any length carried as nanopb
 * FT_CALLBACK fields stored as struct rpc_blob, past the 65,535-byte cap of
 * Debian's 16-bit nanopb runtime (librpc/DESIGN.md, "Large payloads").
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <pb.h>
#include <pb_common.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "rpc_int.h"

/* The decode error for a failed allocation; rpc__payload_decode compares
 * the stream's errmsg with this pointer to report -ENOMEM. */
const char rpc__blob_enomem[] = "out of memory for a blob";

bool rpc_blob_field_cb(pb_istream_t *istream,
                       pb_ostream_t *ostream,
                       const pb_field_iter_t *field)
{
    struct rpc_blob *b = field->pData;
    if (ostream != NULL) {
        if (b->len == 0)
            return true; /* proto3: an empty bytes field is not sent */
        if (b->data == NULL)
            PB_RETURN_ERROR(ostream, "blob with length and no data");
        return pb_encode_tag_for_field(ostream, field) &&
               pb_encode_string(ostream, b->data, b->len);
    }
    if (istream == NULL)
        return false;
    /* nanopb hands a length-delimited field over as a substream of exactly
     * its length, already checked against the enclosing stream. */
    size_t len = istream->bytes_left;
    rpc_blob_free(b); /* a repeated occurrence replaces the earlier one */
    if (len == 0)
        return true;
    uint8_t *p = rpc__malloc(len);
    if (p == NULL)
        PB_RETURN_ERROR(istream, rpc__blob_enomem);
    if (!pb_read(istream, p, len)) {
        rpc__free(p);
        return false;
    }
    b->data = p;
    b->len = len;
    return true;
}

void rpc_blob_free(struct rpc_blob *b)
{
    if (b == NULL)
        return;
    rpc__free(b->data);
    b->data = NULL;
    b->len = 0;
}

/* Where a message type's blob fields are: found once per type by walking
 * its descriptor (nanopb's field iterator costs about 170 instructions a
 * field, and every call zeroes and frees its messages' blobs), then read
 * without locking: a slot's offsets are written before its descriptor
 * pointer is published, and never change after. A type whose slot is
 * taken by another, or with more blobs than fit, is walked every time. */
#define BLOB_TYPES 64
#define BLOB_MAX 8
struct blob_type {
    const pb_msgdesc_t *desc;  /* the type, NULL: free (atomic) */
    uint32_t n;                /* blob fields */
    uint32_t off[BLOB_MAX];    /* their offsets in the message */
};
static struct blob_type blob_types[BLOB_TYPES];
static pthread_mutex_t blob_types_mu = PTHREAD_MUTEX_INITIALIZER;

static struct blob_type *blob_slot(const pb_msgdesc_t *fields)
{
    uintptr_t h = (uintptr_t)fields;
    return &blob_types[(h ^ (h >> 7) ^ (h >> 13)) % BLOB_TYPES];
}

/* Walks msg's fields: fn on every blob; records their offsets in *t when
 * t is not NULL (false if they do not fit). */
static bool walk_blobs(const pb_msgdesc_t *fields,
                       void *msg,
                       void (*fn)(struct rpc_blob *b),
                       struct blob_type *t)
{
    pb_field_iter_t it;
    if (!pb_field_iter_begin(&it, fields, msg))
        return true;
    do {
        if (PB_ATYPE(it.type) == PB_ATYPE_CALLBACK && it.pData != NULL) {
            if (t != NULL && t->n == BLOB_MAX)
                t = NULL;
            if (t != NULL)
                t->off[t->n++] =
                    (uint32_t)((char *)it.pData - (char *)msg);
            fn(it.pData);
        }
    } while (pb_field_iter_next(&it));
    return t != NULL;
}

/* Applies fn to every blob field of msg (none unless the message's field
 * callback is rpc_blob_field_cb). */
static void each_blob(const pb_msgdesc_t *fields,
                      void *msg,
                      void (*fn)(struct rpc_blob *b))
{
    if (fields == NULL || msg == NULL ||
        fields->field_callback != rpc_blob_field_cb)
        return;
    struct blob_type *slot = blob_slot(fields);
    if (__atomic_load_n(&slot->desc, __ATOMIC_ACQUIRE) == fields) {
        for (uint32_t i = 0; i < slot->n; i++)
            fn((struct rpc_blob *)(void *)((char *)msg + slot->off[i]));
        return;
    }
    struct blob_type t = {fields, 0, {0}};
    if (!walk_blobs(fields, msg, fn, &t))
        return;
    pthread_mutex_lock(&blob_types_mu);
    if (__atomic_load_n(&slot->desc, __ATOMIC_RELAXED) == NULL) {
        slot->n = t.n;
        memcpy(slot->off, t.off, sizeof t.off);
        __atomic_store_n(&slot->desc, fields, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&blob_types_mu);
}

/* Whether all-zero memory is msg's default state, so that decoding may
 * start from a memset instead of nanopb's field-by-field initialization
 * (pb_message_set_to_defaults, a walk of every field per decode): true
 * when the type and its by-value submessages (nanopb leaves those to the
 * top-level initialization) have no default values, as proto3 types never
 * do. Cached per type like the blob offsets; msg only anchors the walk. */
static bool zero_walk(const pb_msgdesc_t *fields, void *msg)
{
    if (fields->default_value != NULL)
        return false;
    pb_field_iter_t it;
    if (!pb_field_iter_begin(&it, fields, msg))
        return true;
    do {
        if (PB_LTYPE_IS_SUBMSG(it.type) &&
            PB_ATYPE(it.type) == PB_ATYPE_STATIC &&
            PB_HTYPE(it.type) != PB_HTYPE_REPEATED &&
            PB_HTYPE(it.type) != PB_HTYPE_ONEOF && it.submsg_desc != NULL &&
            !zero_walk(it.submsg_desc, it.pData))
            return false;
    } while (pb_field_iter_next(&it));
    return true;
}

struct zero_type {
    const pb_msgdesc_t *desc; /* the type, NULL: free (atomic) */
    bool zero;                /* zero_walk's answer */
};
static struct zero_type zero_types[BLOB_TYPES];

bool rpc__msg_zero_default(const struct pb_msgdesc_s *fields, void *msg)
{
    uintptr_t h = (uintptr_t)fields;
    struct zero_type *slot = &zero_types[(h ^ (h >> 7) ^ (h >> 13)) %
                                         BLOB_TYPES];
    if (__atomic_load_n(&slot->desc, __ATOMIC_ACQUIRE) == fields)
        return slot->zero;
    bool zero = zero_walk(fields, msg);
    pthread_mutex_lock(&blob_types_mu);
    if (__atomic_load_n(&slot->desc, __ATOMIC_RELAXED) == NULL) {
        slot->zero = zero;
        __atomic_store_n(&slot->desc, fields, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&blob_types_mu);
    return zero;
}

static void blob_zero(struct rpc_blob *b)
{
    b->data = NULL;
    b->len = 0;
}

void rpc__blob_zero_all(const struct pb_msgdesc_s *fields, void *msg)
{
    each_blob(fields, msg, blob_zero);
}

void rpc__blob_free_all(const struct pb_msgdesc_s *fields, void *msg)
{
    each_blob(fields, msg, rpc_blob_free);
}

/* Releasing without pb_release's walk of every field: a type whose
 * pointer fields are all top-level and not in a oneof, and whose by-value
 * submessages hold none, is released by freeing its non-NULL pointer
 * fields directly, as long as each of those is one block (bytes or a
 * string: pb_release frees those with pb_free, libc's free here); one
 * holding anything else (a repeated field, a submessage) set takes
 * pb_release. Offsets cached per type as for blobs. */
#define REL_MAX 16
struct rel_type {
    const pb_msgdesc_t *desc;   /* the type, NULL: free (atomic) */
    bool fast;                  /* the fields below are all there is */
    uint32_t n;                 /* pointer fields */
    uint32_t off[REL_MAX];      /* their offsets */
    bool simple[REL_MAX];       /* one block (bytes, string) */
};
static struct rel_type rel_types[BLOB_TYPES];

/* Whether a type (a by-value submessage) holds no pointer at all. */
static bool no_pointers(const pb_msgdesc_t *fields, void *msg)
{
    pb_field_iter_t it;
    if (!pb_field_iter_begin(&it, fields, msg))
        return true;
    do {
        if (PB_ATYPE(it.type) == PB_ATYPE_POINTER)
            return false;
        if (PB_LTYPE_IS_SUBMSG(it.type) && it.submsg_desc != NULL &&
            !no_pointers(it.submsg_desc, it.pData))
            return false;
    } while (pb_field_iter_next(&it));
    return true;
}

static void rel_walk(const pb_msgdesc_t *fields, void *msg,
                     struct rel_type *t)
{
    t->fast = true;
    pb_field_iter_t it;
    if (!pb_field_iter_begin(&it, fields, msg))
        return;
    do {
        bool sub = PB_LTYPE_IS_SUBMSG(it.type) && it.submsg_desc != NULL;
        if (PB_LTYPE(it.type) == PB_LTYPE_EXTENSION) {
            t->fast = false; /* pb_release walks extension chains */
            return;
        }
        if (PB_ATYPE(it.type) == PB_ATYPE_POINTER) {
            if (PB_HTYPE(it.type) == PB_HTYPE_ONEOF || t->n == REL_MAX) {
                t->fast = false;
                return;
            }
            pb_type_t lt = PB_LTYPE(it.type);
            t->off[t->n] = (uint32_t)((char *)it.pField - (char *)msg);
            t->simple[t->n] = !sub &&
                              PB_HTYPE(it.type) != PB_HTYPE_REPEATED &&
                              (lt == PB_LTYPE_BYTES || lt == PB_LTYPE_STRING);
            t->n++;
        } else if (sub && !no_pointers(it.submsg_desc, it.pData)) {
            t->fast = false;
            return;
        }
    } while (pb_field_iter_next(&it));
}

static const struct rel_type *rel_type_of(const pb_msgdesc_t *fields,
                                          void *msg, struct rel_type *tmp)
{
    uintptr_t h = (uintptr_t)fields;
    struct rel_type *slot = &rel_types[(h ^ (h >> 7) ^ (h >> 13)) %
                                       BLOB_TYPES];
    if (__atomic_load_n(&slot->desc, __ATOMIC_ACQUIRE) == fields)
        return slot;
    memset(tmp, 0, sizeof *tmp);
    rel_walk(fields, msg, tmp);
    pthread_mutex_lock(&blob_types_mu);
    if (__atomic_load_n(&slot->desc, __ATOMIC_RELAXED) == NULL) {
        slot->fast = tmp->fast;
        slot->n = tmp->n;
        memcpy(slot->off, tmp->off, sizeof tmp->off);
        memcpy(slot->simple, tmp->simple, sizeof tmp->simple);
        __atomic_store_n(&slot->desc, fields, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&blob_types_mu);
    return tmp;
}

void rpc_msg_release(const struct pb_msgdesc_s *fields, void *msg)
{
    if (fields == NULL || msg == NULL)
        return;
    struct rel_type tmp;
    const struct rel_type *t = rel_type_of(fields, msg, &tmp);
    bool fast = t->fast;
    for (uint32_t i = 0; fast && i < t->n; i++)
        if (!t->simple[i] && *(void **)(void *)((char *)msg + t->off[i]))
            fast = false;
    if (fast) {
        for (uint32_t i = 0; i < t->n; i++) {
            void **pp = (void **)(void *)((char *)msg + t->off[i]);
            free(*pp);
            *pp = NULL;
        }
    } else {
        pb_release(fields, msg);
    }
    rpc__blob_free_all(fields, msg);
}

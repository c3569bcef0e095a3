/* blob.c: large payloads: `bytes` fields of any length carried as nanopb
 * FT_CALLBACK fields stored as struct rpc_blob, past the 65,535-byte cap of
 * Debian's 16-bit nanopb runtime (librpc/DESIGN.md, "Large payloads");
 * and what librpc caches per message type so that a call does not walk
 * nanopb's field iterator to zero, initialize and release its messages
 * (DESIGN.md, "Performance: instructions per call").
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

/* What librpc needs to know of a message type, found once per type by
 * walking its descriptor (nanopb's field iterator costs about 170
 * instructions a field, and every call would walk its messages several
 * times: to zero the blobs before a decode, to initialize, to release and
 * to free the blobs), then read without locking: a slot is filled before
 * its descriptor pointer is published and never changes after. Once all
 * TYPES slots are taken a new type is walked every time (type_of hands
 * back the caller's scratch copy). msg only anchors the walk. */
#define TYPES 64
#define BLOB_MAX 8
#define PTR_MAX 16
#define SUB_MAX 4
struct msg_type {
    const pb_msgdesc_t *desc;   /* the type, NULL: free (atomic) */
    bool blobs_ok;              /* every blob field is in blob_off */
    uint32_t n_blobs;           /* blob fields (struct rpc_blob) */
    uint32_t blob_off[BLOB_MAX]; /* their offsets in the message */
    bool zero;                  /* zero bytes are its defaults: no default
                                   values in it or its by-value
                                   submessages (every proto3 type) */
    bool rel_fast;              /* released by freeing ptr_off and
                                   releasing sub_off the same way:
                                   pointer fields outside oneofs, no
                                   extensions, by-value submessages
                                   single (not repeated, not oneof) */
    uint32_t n_ptrs;            /* pointer fields */
    uint32_t ptr_off[PTR_MAX];  /* their offsets */
    bool ptr_simple[PTR_MAX];   /* one block (bytes, string: pb_free) */
    uint32_t n_subs;            /* by-value submessages holding pointers */
    uint32_t sub_off[SUB_MAX];  /* their offsets */
    const pb_msgdesc_t *sub_desc[SUB_MAX]; /* their types */
};
static struct msg_type types[TYPES];
static pthread_mutex_t types_mu = PTHREAD_MUTEX_INITIALIZER;

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

/* Whether a type (a by-value submessage) holds no pointer at all. */
static bool no_pointers(const pb_msgdesc_t *fields, void *msg)
{
    pb_field_iter_t it;
    if (!pb_field_iter_begin(&it, fields, msg))
        return true;
    do {
        if (PB_ATYPE(it.type) == PB_ATYPE_POINTER ||
            PB_LTYPE(it.type) == PB_LTYPE_EXTENSION)
            return false;
        if (PB_LTYPE_IS_SUBMSG(it.type) && it.submsg_desc != NULL &&
            !no_pointers(it.submsg_desc, it.pData))
            return false;
    } while (pb_field_iter_next(&it));
    return true;
}

static void type_walk(const pb_msgdesc_t *fields, void *msg,
                      struct msg_type *t)
{
    memset(t, 0, sizeof *t);
    t->desc = fields;
    t->blobs_ok = true;
    t->rel_fast = true;
    t->zero = zero_walk(fields, msg);
    pb_field_iter_t it;
    if (!pb_field_iter_begin(&it, fields, msg))
        return;
    do {
        bool sub = PB_LTYPE_IS_SUBMSG(it.type) && it.submsg_desc != NULL;
        uint32_t off = (uint32_t)((char *)it.pField - (char *)msg);
        if (PB_ATYPE(it.type) == PB_ATYPE_CALLBACK) {
            if (t->n_blobs == BLOB_MAX)
                t->blobs_ok = false;
            else
                t->blob_off[t->n_blobs++] = off;
        } else if (PB_LTYPE(it.type) == PB_LTYPE_EXTENSION) {
            t->rel_fast = false; /* pb_release walks extension chains */
        } else if (PB_ATYPE(it.type) == PB_ATYPE_POINTER) {
            if (PB_HTYPE(it.type) == PB_HTYPE_ONEOF || t->n_ptrs == PTR_MAX) {
                t->rel_fast = false;
                continue;
            }
            pb_type_t lt = PB_LTYPE(it.type);
            t->ptr_off[t->n_ptrs] = off;
            t->ptr_simple[t->n_ptrs] =
                !sub && PB_HTYPE(it.type) != PB_HTYPE_REPEATED &&
                (lt == PB_LTYPE_BYTES || lt == PB_LTYPE_STRING);
            t->n_ptrs++;
        } else if (sub && !no_pointers(it.submsg_desc, it.pData)) {
            if (PB_HTYPE(it.type) == PB_HTYPE_REPEATED ||
                PB_HTYPE(it.type) == PB_HTYPE_ONEOF || t->n_subs == SUB_MAX) {
                t->rel_fast = false;
                continue;
            }
            /* pb_release releases it whether its has_ flag is set or
             * not: so does the fast path (release_fast) */
            t->sub_off[t->n_subs] = off;
            t->sub_desc[t->n_subs] = it.submsg_desc;
            t->n_subs++;
        }
    } while (pb_field_iter_next(&it));
}

/* Open addressing with linear probing: a type whose home slot is taken
 * tries the next ones (descriptors lie a few dozen bytes apart, so their
 * home slots collide often). Slots are never emptied, so a lookup stops
 * at the first free one. */
static const struct msg_type *type_of(const pb_msgdesc_t *fields, void *msg,
                                      struct msg_type *tmp)
{
    uintptr_t h = (uintptr_t)fields;
    size_t home = (size_t)((h ^ (h >> 7) ^ (h >> 13)) % TYPES);
    for (size_t i = 0; i < TYPES; i++) {
        const pb_msgdesc_t *d =
            __atomic_load_n(&types[(home + i) % TYPES].desc, __ATOMIC_ACQUIRE);
        if (d == fields)
            return &types[(home + i) % TYPES];
        if (d == NULL)
            break;
    }
    type_walk(fields, msg, tmp);
    pthread_mutex_lock(&types_mu);
    for (size_t i = 0; i < TYPES; i++) {
        struct msg_type *slot = &types[(home + i) % TYPES];
        const pb_msgdesc_t *d = __atomic_load_n(&slot->desc, __ATOMIC_RELAXED);
        if (d == fields) /* another thread filled it meanwhile */
            break;
        if (d == NULL) {
            *slot = *tmp;
            slot->desc = NULL;
            __atomic_store_n(&slot->desc, fields, __ATOMIC_RELEASE);
            break;
        }
    }
    pthread_mutex_unlock(&types_mu);
    return tmp;
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
    struct msg_type tmp;
    const struct msg_type *t = type_of(fields, msg, &tmp);
    if (t->blobs_ok) {
        for (uint32_t i = 0; i < t->n_blobs; i++)
            fn((struct rpc_blob *)(void *)((char *)msg + t->blob_off[i]));
        return;
    }
    pb_field_iter_t it;
    if (!pb_field_iter_begin(&it, fields, msg))
        return;
    do {
        if (PB_ATYPE(it.type) == PB_ATYPE_CALLBACK && it.pData != NULL)
            fn(it.pData);
    } while (pb_field_iter_next(&it));
}

bool rpc__msg_zero_default(const struct pb_msgdesc_s *fields, void *msg)
{
    struct msg_type tmp;
    return type_of(fields, msg, &tmp)->zero;
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

/* Whether msg (of type t) and its by-value submessages can be released
 * by freeing their pointer fields one block each: every set pointer field
 * is one block. depth bounds recursive types. */
static bool release_fast_ok(const struct msg_type *t, void *msg, int depth)
{
    if (!t->rel_fast || depth > 8)
        return false;
    for (uint32_t i = 0; i < t->n_ptrs; i++)
        if (!t->ptr_simple[i] &&
            *(void **)(void *)((char *)msg + t->ptr_off[i]) != NULL)
            return false;
    for (uint32_t i = 0; i < t->n_subs; i++) {
        void *sub = (char *)msg + t->sub_off[i];
        struct msg_type tmp;
        if (!release_fast_ok(type_of(t->sub_desc[i], sub, &tmp), sub,
                             depth + 1))
            return false;
    }
    return true;
}

/* Frees what release_fast_ok found, as pb_release would (pointers set
 * to NULL). */
static void release_fast(const struct msg_type *t, void *msg)
{
    for (uint32_t i = 0; i < t->n_ptrs; i++) {
        void **pp = (void **)(void *)((char *)msg + t->ptr_off[i]);
        free(*pp);
        *pp = NULL;
    }
    for (uint32_t i = 0; i < t->n_subs; i++) {
        void *sub = (char *)msg + t->sub_off[i];
        struct msg_type tmp;
        release_fast(type_of(t->sub_desc[i], sub, &tmp), sub);
    }
}

void rpc_msg_release(const struct pb_msgdesc_s *fields, void *msg)
{
    if (fields == NULL || msg == NULL)
        return;
    /* set pointers that are more than one block take pb_release */
    struct msg_type tmp;
    const struct msg_type *t = type_of(fields, msg, &tmp);
    if (release_fast_ok(t, msg, 0))
        release_fast(t, msg);
    else
        pb_release(fields, msg);
    rpc__blob_free_all(fields, msg);
}

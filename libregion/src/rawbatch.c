/* rawbatch.c: raw writes that reach a leader between two loop iterations
 * are proposed together, as one Raft entry, at the start of the next
 * iteration: one log write, one log GC delete and one entry's Raft and
 * apply bookkeeping for the lot instead of one each. DESIGN.md "Raw write
 * batching" says why this keeps every request's meaning.
 */
#include <errno.h>
#include <string.h>

#include "region_int.h"

/* A batch's entry is kept under this many bytes (or the entry limit, if
 * that is less): a request that would take it over first proposes the
 * batch as it is. */
#define RAWBATCH_BYTES (256u << 10)
/* The encoded size of a raw command: its header (codec.c: version, type,
 * region id, version, conf_ver: 26 bytes) and the write batch's (wbatch.c
 * in libmvcc: version and count, 5 bytes), then per op type, cf and two
 * 4-byte lengths (REGION__RAW_OP_FIXED, 10 bytes) besides its key and
 * value. */
#define CMD_FIXED 31u

static size_t batch_cap(const struct region_store *s)
{
    size_t lim = s->opts.max_entry_bytes;
    return lim < RAWBATCH_BYTES ? lim : RAWBATCH_BYTES;
}

/* Proposes p's open batch as one command; every request in it is answered
 * with that entry's outcome, or all with the proposal's error. Under mu. */
static void flush_peer(struct region_store *s, struct region_peer *p)
{
    struct region_pending *first = p->rb_pds;
    struct mvcc_wbatch *b = p->rb;
    uint8_t *body = NULL;
    size_t body_len = 0;
    struct region_buf cmd = {0};
    struct region_err err;
    memset(&err, 0, sizeof err);
    p->rb = NULL;
    p->rb_pds = p->rb_tail = NULL;
    p->rb_n = 0;
    p->rb_bytes = 0;
    if (first == NULL) {
        mvcc_wbatch_destroy(b);
        return;
    }
    int rc = mvcc_wbatch_encode(b, &body, &body_len);
    if (rc == 0) {
        struct region_cmd c =
            region__cmd_for(p, REGION_CMD_RAW, body, body_len);
        c.version = p->rb_version; /* the epoch the requests were */
        c.conf_ver = p->rb_conf_ver; /* checked against */
        rc = region__cmd_encode(&cmd, &c);
    }
    if (rc == 0)
        rc = region__propose(s, p, &cmd, first->done, first->ud, &err);
    mvcc_free(body);
    region__buf_free(&cmd);
    mvcc_wbatch_destroy(b);
    if (rc != 0) {
        if (err.code == 0)
            region__set_err(&err, rc, "%s", region_strerror(rc));
        while (first != NULL) {
            struct region_pending *next = first->next;
            region__complete_pending(s, first, rc, &err);
            first = next;
        }
        return;
    }
    /* region__propose queued its own record for the first request: the
     * others wait for the same index and term behind it */
    struct region_pending *head = p->props_tail;
    struct region_pending *rest = first->next;
    region__timed_prop(p, head->index);
    region__free(first);
    while (rest != NULL) {
        struct region_pending *next = rest->next;
        rest->next = NULL;
        rest->index = head->index;
        rest->term = head->term;
        p->props_tail->next = rest;
        p->props_tail = rest;
        p->n_props++;
        rest = next;
    }
}

int region__rawbatch_add(struct region_store *s, struct region_peer *p,
                         size_t bytes, region__rawbatch_build_fn build,
                         void *arg, region_done_fn done, void *ud,
                         struct region_err *err)
{
    if (p->n_props + p->rb_n >= s->opts.max_pending) {
        region__set_err(err, REGION_ESERVER_BUSY,
                        "region %llu has %u proposals waiting",
                        (unsigned long long)p->desc.id,
                        p->n_props + p->rb_n);
        return REGION_ESERVER_BUSY;
    }
    if (CMD_FIXED + bytes > s->opts.max_entry_bytes) {
        /* too big alone: refused at once, as a proposal would be */
        region__set_err(err, REGION_EENTRY_TOO_LARGE,
                        "command of %zu bytes exceeds %u", CMD_FIXED + bytes,
                        s->opts.max_entry_bytes);
        return REGION_EENTRY_TOO_LARGE;
    }
    /* a batch holds requests checked against one epoch (the one its
     * entry carries): one checked against another starts a new batch */
    if (p->rb_n > 0 && (CMD_FIXED + p->rb_bytes + bytes > batch_cap(s) ||
                        p->rb_version != p->desc.version ||
                        p->rb_conf_ver != p->desc.conf_ver))
        flush_peer(s, p);
    struct region_pending *pd = region__calloc(1, sizeof *pd);
    if (pd == NULL)
        return -ENOMEM;
    int rc = 0;
    if (p->rb == NULL) {
        rc = mvcc_wbatch_create(&p->rb);
        p->rb_version = p->desc.version;
        p->rb_conf_ver = p->desc.conf_ver;
    }
    /* the request's ops, in order, behind the batch's earlier ones */
    if (rc == 0)
        rc = build(p->rb, arg);
    if (rc != 0) {
        /* out of memory with part of this request in the batch: nothing
         * half-written may be proposed, so the batch's earlier requests
         * fail too (none of it was proposed: nothing is written) */
        struct region_err e;
        memset(&e, 0, sizeof e);
        region__set_err(&e, rc, "out of memory batching raw writes");
        region__free(pd);
        region__rawbatch_fail(s, p, rc, &e);
        return rc;
    }
    pd->done = done;
    pd->ud = ud;
    if (p->rb_tail)
        p->rb_tail->next = pd;
    else
        p->rb_pds = pd;
    p->rb_tail = pd;
    p->rb_n++;
    region__activate(s, p); /* proposed at the next iteration */
    p->rb_bytes += bytes;
    return 0;
}

void region__rawbatch_flush(struct region_store *s, struct region_peer *p)
{
    if (p->rb_n > 0 || p->rb != NULL)
        flush_peer(s, p);
}

void region__rawbatch_fail(struct region_store *s, struct region_peer *p,
                           int rc, const struct region_err *err)
{
    struct region_pending *pd = p->rb_pds;
    while (pd != NULL) {
        struct region_pending *next = pd->next;
        region__complete_pending(s, pd, rc, err);
        pd = next;
    }
    mvcc_wbatch_destroy(p->rb);
    p->rb = NULL;
    p->rb_pds = p->rb_tail = NULL;
    p->rb_n = 0;
    p->rb_bytes = 0;
}

/* service.c: kvd's RPC methods on librpc: Raw KV on the loop thread through
 * libregion's asynchronous calls, Txn KV on worker threads (libmvcc's
 * commands block until their Raft entry applies), Raft batches between
 * stores and the store status (libregion/DESIGN.md, "kvd").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <pb.h>
#include <pb_decode.h>

#include "cluster_tls.h"
#include "helpers.h"
#include "kv.pb.h"
#include "kvd.h"
#include "log.h"
#include "rpcsvc.h"

/* ---------------------------------------------------------------------
 * Building responses (everything malloc'd: released with rpc_msg_release
 * or pb_release after the reply is encoded).
 */
/* nanopb's cap on a bytes field (16-bit pb_size_t, kv.options): longer
 * byte strings are never cut; they travel in a blob or fail. */
#define BYTES_MAX 65535u
/* Pair bytes a Scan or BatchGet reply carries before it is cut (`more`):
 * well under the 16 MiB frame limit and librpc's 8 MiB output buffer. */
#define REPLY_BUDGET (4u << 20)
/* Bytes any Txn reply may carry: the frame limit less room for framing. */
#define REPLY_MAX ((16u << 20) - (64u << 10))
/* The loop thread keeps the buffer of its read replies up to this size. */
#define REPLY_KEEP (64u << 10)

/* NULL when n is over BYTES_MAX (callers report it) or out of memory. */
static pb_bytes_array_t *mkbytes(const void *p, size_t n)
{
    if (n > BYTES_MAX)
        return NULL;
    pb_bytes_array_t *b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(n));
    if (b == NULL)
        return NULL;
    b->size = (pb_size_t)n;
    if (n)
        memcpy(b->bytes, p, n);
    return b;
}

static const uint8_t *bytes_of(const pb_bytes_array_t *b, size_t *len)
{
    *len = b ? b->size : 0;
    return b ? b->bytes : (const uint8_t *)"";
}

/* err's lengths are checked before anything is copied (a region that
 * claims more bytes or stores than its arrays hold is left out, and
 * logged), so a bad one cannot read past them. */
static void fill_region_error(kv_RegionError *re,
                              const struct region_err *err_in)
{
    struct region_err checked = *err_in;
    const struct region_err *err = &checked;
    if (!kvd_region_err_check(&checked))
        dmn_log(DMN_LOG_WARN,
                "region error %d: region %llu left out of the reply: "
                "start %u, end %u bytes, %u stores over their arrays",
                err->code, (unsigned long long)err->region.id,
                err->region.start_len, err->region.end_len,
                err->region.n_stores);
    re->code = err->code;
    re->message = strdup(err->msg);
    re->leader = err->leader;
    if (err->has_region) {
        const struct region_desc *d = &err->region;
        re->has_region = true;
        re->region.id = d->id;
        re->region.conf_ver = d->conf_ver;
        re->region.version = d->version;
        re->region.start = mkbytes(d->start, d->start_len);
        re->region.end = mkbytes(d->end, d->end_len);
        re->region.stores = malloc(d->n_stores * sizeof(uint64_t) + 1);
        if (re->region.stores) {
            memcpy(re->region.stores, d->stores, d->n_stores * sizeof(uint64_t));
            re->region.stores_count = (pb_size_t)d->n_stores;
        }
    }
}

static bool is_region_error(int rc)
{
    return rc <= REGION_ENOT_LEADER && rc >= REGION_EENTRY_TOO_LARGE;
}

static void raw_set_error(kv_RawResponse *resp, int rc,
                          const struct region_err *err)
{
    resp->code = rc;
    if (is_region_error(rc) && err) {
        resp->has_region_error = true;
        fill_region_error(&resp->region_error, err);
    }
    free(resp->error);
    resp->error = err && err->msg[0] ? strndup(err->msg, sizeof err->msg)
                                     : strdup(region_strerror(rc));
}

static int add_pair(kv_KvPair **pairs, pb_size_t *count, const void *k,
                    size_t kl, const void *v, size_t vl, bool with_value)
{
    if (kl > BYTES_MAX || vl > BYTES_MAX || *count >= 65535)
        return -E2BIG; /* raw replies have no spill: refused, not cut */
    kv_KvPair *a = realloc(*pairs, (*count + 1u) * sizeof *a);
    if (a == NULL)
        return -ENOMEM;
    *pairs = a;
    kv_KvPair *p = &a[(*count)++];
    memset(p, 0, sizeof *p);
    p->key = mkbytes(k, kl);
    if (with_value)
        p->value = mkbytes(v, vl);
    if (p->key == NULL || (with_value && p->value == NULL))
        return -ENOMEM;
    return 0;
}

static void reply_raw(struct rpc_call *call, kv_RawResponse *resp)
{
    rpc_call_reply(call, resp);
    rpc_msg_release(kv_RawResponse_fields, resp);
}

/* ---------------------------------------------------------------------
 * Raw KV.
 */
struct raw_op {
    struct kvd *k;             /* the node */
    struct rpc_call *call;     /* to answer */
    const kv_RawRequest *req;  /* borrowed until answered */
    uint32_t method;           /* REGION_METHOD_RAW_* */
    uint64_t t0_us;            /* arrival (kvd_now_us) */
};

/* Answer op's call (and count it for /metrics). */
static void reply_op(struct raw_op *op, kv_RawResponse *resp)
{
    kvd_observe(op->k, op->method, op->t0_us, resp->code);
    reply_raw(op->call, resp);
}

/* Answer op's call with error rc (detail err) and free op. */
static void fail_op(struct raw_op *op, int rc, const struct region_err *err)
{
    kv_RawResponse resp;
    memset(&resp, 0, sizeof resp);
    raw_set_error(&resp, rc, err);
    reply_op(op, &resp);
    free(op);
}

static struct region_ctx ctx_of(const kv_Context *c)
{
    struct region_ctx ctx = {c->region_id, c->conf_ver, c->version};
    return ctx;
}

/* A get's outcome (rc from region_raw_get or region_raw_get_now) into
 * resp; v is handed to it: rpc_msg_release frees it (both use libc's
 * allocator in kvd). */
static void raw_get_answer(kv_RawResponse *resp, int rc, uint8_t *v,
                           size_t vl, const struct region_err *err)
{
    if (rc == MVCC_NOTFOUND) {
        resp->not_found = true;
    } else if (rc != 0) {
        raw_set_error(resp, rc, err);
    } else {
        resp->value.data = v;
        resp->value.len = vl;
    }
}

static void raw_read_done(void *ud, const struct region_reply *r)
{
    struct raw_op *op = ud;
    const kv_RawRequest *req = op->req;
    kv_RawResponse resp;
    memset(&resp, 0, sizeof resp);
    struct region_ctx ctx = ctx_of(&req->ctx);
    struct region_err err;
    memset(&err, 0, sizeof err);
    int rc = r->rc;
    if (rc != 0) {
        raw_set_error(&resp, rc, r->err);
        goto reply;
    }
    size_t kl;
    const uint8_t *key = bytes_of(req->key, &kl);
    switch (op->method) {
    case REGION_METHOD_RAW_GET: {
        uint8_t *v = NULL;
        size_t vl = 0;
        rc = region_raw_get(op->k->store, &ctx, key, kl, &v, &vl, &err);
        raw_get_answer(&resp, rc, v, vl, &err);
        break;
    }
    case REGION_METHOD_RAW_BATCH_GET:
        for (pb_size_t i = 0; i < req->keys_count; i++) {
            const uint8_t *k2 = bytes_of(req->keys[i], &kl);
            uint8_t *v = NULL;
            size_t vl = 0;
            rc = region_raw_get(op->k->store, &ctx, k2, kl, &v, &vl, &err);
            if (rc == MVCC_NOTFOUND)
                continue;
            if (rc == 0)
                rc = add_pair(&resp.pairs, &resp.pairs_count, k2, kl, v, vl,
                              true);
            region_free(v);
            if (rc != 0) {
                if (rc == -E2BIG)
                    snprintf(err.msg, sizeof err.msg,
                             "reply over 65535 pairs or a value over "
                             "65535 bytes (use KvBatchGet)");
                raw_set_error(&resp, rc, &err);
                break;
            }
        }
        break;
    case REGION_METHOD_RAW_SCAN: {
        size_t el;
        const uint8_t *end = bytes_of(req->end, &el);
        struct region_kv *kvs = NULL;
        size_t n = 0;
        rc = region_raw_scan(op->k->store, &ctx, key, kl, end, el, req->limit,
                             req->key_only, &kvs, &n, &err);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = add_pair(&resp.pairs, &resp.pairs_count, kvs[i].key,
                          kvs[i].key_len, kvs[i].value, kvs[i].value_len,
                          !req->key_only);
        region_kvs_free(kvs, n);
        if (rc == -E2BIG)
            snprintf(err.msg, sizeof err.msg,
                     "reply over 65535 pairs or a value over 65535 bytes "
                     "(page with limit)");
        if (rc != 0)
            raw_set_error(&resp, rc, &err);
        break;
    }
    case REGION_METHOD_RAW_GET_KEY_TTL: {
        bool has = false;
        rc = region_raw_ttl(op->k->store, &ctx, key, kl, &resp.ttl, &has,
                            &err);
        if (rc == MVCC_NOTFOUND)
            resp.not_found = true;
        else if (rc != 0)
            raw_set_error(&resp, rc, &err);
        break;
    }
    }
reply:
    reply_op(op, &resp);
    free(op);
}

/* region_read_now's fn for Raw reads: answers op (and frees it). */
static int raw_read_now(struct mvcc_store *m, void *arg)
{
    (void)m;
    struct region_reply now = {0, NULL, false, false, NULL, 0};
    raw_read_done(arg, &now);
    return 0;
}

static void raw_write_done(void *ud, const struct region_reply *r)
{
    struct raw_op *op = ud;
    if (r->rc == 0 && op->method != REGION_METHOD_RAW_CAS) {
        /* the empty kv.RawResponse (proto3 writes no default field): no
         * response struct for nanopb to walk, encode and release */
        kvd_observe(op->k, op->method, op->t0_us, 0);
        rpc_call_reply_encoded(op->call, "", 0);
        free(op);
        return;
    }
    kv_RawResponse resp;
    memset(&resp, 0, sizeof resp);
    if (r->rc != 0)
        raw_set_error(&resp, r->rc, r->err);
    if (op->method == REGION_METHOD_RAW_CAS && r->rc == 0) {
        resp.succeed = r->cas_ok;
        resp.previous_not_exist = !r->prev_exists;
        if (r->prev_exists && r->prev_len > BYTES_MAX) {
            struct region_err e;
            memset(&e, 0, sizeof e);
            snprintf(e.msg, sizeof e.msg,
                     "swapped; the previous value (%zu bytes) is over "
                     "65535 bytes and not returned", r->prev_len);
            raw_set_error(&resp, -E2BIG, &e);
        } else if (r->prev_exists) {
            resp.previous_value = mkbytes(r->prev, r->prev_len);
        }
    }
    reply_op(op, &resp);
    free(op);
}

/* Values up to this size are answered by kvd_raw_get_reply's bytes. */
#define RAW_GET_INLINE 1024

/* codec.c writes the field numbers of kv.proto as literals (it is built
 * without the generated code for its fuzz target) */
_Static_assert(kv_RawRequest_ctx_tag == 1 && kv_RawRequest_key_tag == 2 &&
                   kv_RawRequest_value_tag == 3 &&
                   kv_Context_region_id_tag == 1 &&
                   kv_Context_conf_ver_tag == 2 &&
                   kv_Context_version_tag == 3 &&
                   kv_RawResponse_not_found_tag == 4 &&
                   kv_RawResponse_value_tag == 5,
               "kv.proto's field numbers moved: update codec.c");

/* Answers a RawGet read under the lease: rc 0 with v (vl bytes, handed
 * over), MVCC_NOTFOUND, or a region error (err). */
static void get_answer(struct kvd *k, struct rpc_call *call, uint64_t t0,
                       int rc, uint8_t *v, size_t vl,
                       const struct region_err *err)
{
    uint8_t buf[RAW_GET_INLINE + 16];
    size_t n;
    if ((rc == 0 || rc == MVCC_NOTFOUND) && vl <= RAW_GET_INLINE &&
        kvd_raw_get_reply(buf, sizeof buf, rc == 0, v, vl, &n)) {
        /* written without nanopb: no response struct to build and free */
        kvd_observe(k, REGION_METHOD_RAW_GET, t0, 0);
        rpc_call_reply_encoded(call, buf, n);
        region_free(v);
        return;
    }
    kv_RawResponse resp;
    memset(&resp, 0, sizeof resp);
    raw_get_answer(&resp, rc, v, vl, err);
    kvd_observe(k, REGION_METHOD_RAW_GET, t0, resp.code);
    reply_raw(call, &resp);
}

/* A RawGet under the lease (region_raw_get_now): answered here, with no
 * raw_op and one check of lease, epoch and key; false when the lease does
 * not hold now (the caller takes the barrier path). */
static bool raw_get_now(struct kvd *k, struct rpc_call *call,
                        const struct region_ctx *ctx, const uint8_t *key,
                        size_t kl, uint64_t t0)
{
    struct region_err err;
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = region_raw_get_now(k->store, ctx, key, kl, &v, &vl, &err);
    if (rc == -EAGAIN)
        return false;
    get_answer(k, call, t0, rc, v, vl, &err);
    return true;
}

/* A RawGet through the read barrier (no lease now) for a call whose
 * request was never decoded (held by the batch below, its frame gone):
 * the raw_op carries a kv.RawRequest of its own, key included, freed with
 * it by raw_read_done. */
static void raw_get_barrier(struct kvd *k, struct rpc_call *call,
                            const struct region_ctx *ctx, const uint8_t *key,
                            size_t kl, uint64_t t0)
{
    struct own_get {
        struct raw_op op;   /* first: raw_read_done frees it */
        kv_RawRequest req;  /* op.req */
    } *o = calloc(1, sizeof *o + PB_BYTES_ARRAY_T_ALLOCSIZE(kl));
    if (o == NULL) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    pb_bytes_array_t *kb = (pb_bytes_array_t *)(void *)(o + 1);
    kb->size = (pb_size_t)kl;
    if (kl > 0)
        memcpy(kb->bytes, key, kl);
    o->req.has_ctx = true;
    o->req.ctx.region_id = ctx->region_id;
    o->req.ctx.conf_ver = ctx->conf_ver;
    o->req.ctx.version = ctx->version;
    o->req.key = kb;
    o->op = (struct raw_op){k, call, &o->req, REGION_METHOD_RAW_GET, t0};
    struct region_err err;
    memset(&err, 0, sizeof err);
    int rc = region_read(k->store, ctx, raw_read_done, &o->op, &err);
    if (rc != 0) {
        kv_RawResponse resp;
        memset(&resp, 0, sizeof resp);
        raw_set_error(&resp, rc, &err);
        reply_op(&o->op, &resp);
        free(o);
    }
}

/* ---------------------------------------------------------------------
 * The RawGets of one loop iteration, answered together (libregion/
 * DESIGN.md "Gets of one read under one check"). raw_get_peek holds each
 * get of the usual shape (its call, context and key, copied into the
 * batch's arena: the frame's bytes are gone once the peek returns) and
 * makes gb->ev active; the event runs after this iteration's callbacks,
 * so every frame the connections' reads brought has been seen. It reads
 * each run of gets of one context with one check of the lease per piece
 * of GET_PIECE keys (region_raw_get_now_n), the pieces shared between the
 * loop thread and the get-readers threads ("Gets on more than one
 * core"), and answers them on the loop thread; librpc (reply batching)
 * writes a connection's replies in one writev. A get the
 * batch does not answer (no lease, a key out of the region, another
 * epoch: each key's outcome is its own) is answered alone as before.
 */
struct held_get {
    struct rpc_call *call;  /* to answer */
    struct region_ctx ctx;  /* its context */
    size_t off;             /* its key: gb->keys + off */
    size_t kl;              /* the key's bytes */
    uint64_t t0;            /* arrival (kvd_now_us) */
    bool answered;          /* by the loop thread, its piece read */
};

struct kvd_get_batch {
    struct event *ev;            /* active while gets are held */
    struct held_get *gets;       /* held, in arrival order */
    struct region_raw_read *rr;  /* one per held get, for the read */
    size_t n;                    /* gets held */
    size_t cap;                  /* room in gets and rr */
    uint8_t *keys;               /* the held gets' keys, back to back */
    size_t used;                 /* bytes of keys used */
    size_t kcap;                 /* room in keys */
    struct kvd *k;               /* the node (its store) */
    struct dmn_helpers *readers; /* get-readers threads; NULL: none */
    size_t units;                /* pieces of the batch being read */
    size_t next;                 /* next piece to take (atomic) */
    pthread_t loop;              /* the thread reading with the readers */
    uint64_t batched;            /* gets read in batches */
    uint64_t by_readers;         /* of those, read by a reader (atomic) */
    uint64_t pieces_sent;        /* pieces the loop answered at once */
};

/* Gets per piece of a batch's read, taken by whichever thread comes
 * first (the loop or a reader): small enough that two threads share a
 * 64-get batch evenly and that the loop's first replies leave early
 * (get_read_pieces), each piece one lease check (below REGION_READ_CHUNK,
 * so no piece reads longer after its check than a chunk of
 * region_raw_get_now_n does; libregion/DESIGN.md "Replies a piece at a
 * time"). */
#define GET_PIECE 8

/* Room a batch keeps between iterations; beyond it, freed after use. */
#define GET_BATCH_KEEP_BYTES (1u << 20)
#define GET_BATCH_KEEP_GETS 4096u

static bool same_ctx(const struct region_ctx *a, const struct region_ctx *b)
{
    return a->region_id == b->region_id && a->conf_ver == b->conf_ver &&
           a->version == b->version;
}

/* Reads the held gets [from, to): each run of one context through
 * region_raw_get_now_n (its own lease check before its reads). Any
 * thread: it touches gb->rr[from..to) alone, and the store is
 * thread-safe. */
static void get_read(struct kvd_get_batch *gb, size_t from, size_t to)
{
    for (size_t i = from, j; i < to; i = j) {
        for (j = i; j < to && same_ctx(&gb->gets[j].ctx, &gb->gets[i].ctx);
             j++)
            ;
        if (region_raw_get_now_n(gb->k->store, &gb->gets[i].ctx,
                                  gb->rr + i, j - i) != 0)
            for (size_t m = i; m < j; m++)
                gb->rr[m].rc = -EAGAIN;
    }
}

/* Answers the held gets [from, to) once read, on the loop thread; flush:
 * their replies (and any queued before them) go to the kernel now, not
 * at the loop turn's end. */
static void get_answer_read(struct kvd_get_batch *gb, size_t from, size_t to,
                            bool flush)
{
    struct kvd *k = gb->k;
    for (size_t m = from; m < to; m++) {
        struct held_get *h = &gb->gets[m];
        const struct region_raw_read *r = &gb->rr[m];
        const uint8_t *key = gb->keys + h->off;
        if (h->answered)
            continue;
        h->answered = true;
        if (flush && m + 1 == to)
            rpc_call_flush_reply(h->call);
        if (r->rc == 0 || r->rc == MVCC_NOTFOUND)
            get_answer(k, h->call, h->t0, r->rc, r->value, r->value_len,
                       NULL);
        else if (!raw_get_now(k, h->call, &h->ctx, key, h->kl, h->t0))
            raw_get_barrier(k, h->call, &h->ctx, key, h->kl, h->t0);
    }
}

/* dmn_helpers_run's fn: pieces of the batch until none is left. The loop
 * thread answers each piece it read at once and sends the replies, so
 * the client works on them while the rest is read: with every client of
 * a connection in one batch, client and server would otherwise take
 * turns. */
static void get_read_pieces(void *arg)
{
    struct kvd_get_batch *gb = arg;
    bool reader = !pthread_equal(pthread_self(), gb->loop);
    size_t u;
    while ((u = __atomic_fetch_add(&gb->next, 1, __ATOMIC_RELAXED)) <
           gb->units) {
        size_t from = u * GET_PIECE;
        size_t to = gb->n - from < GET_PIECE ? gb->n : from + GET_PIECE;
        get_read(gb, from, to);
        if (reader)
            __atomic_add_fetch(&gb->by_readers, to - from, __ATOMIC_RELAXED);
        else {
            get_answer_read(gb, from, to, true);
            gb->pieces_sent++;
        }
    }
}

static void get_batch_cb(evutil_socket_t fd, short what, void *arg)
{
    struct kvd *k = arg;
    struct kvd_get_batch *gb = k->gets;
    (void)fd;
    (void)what;
    size_t n = gb->n;
    for (size_t j = 0; j < n; j++)
        gb->rr[j] = (struct region_raw_read){gb->keys + gb->gets[j].off,
                                             gb->gets[j].kl, 0, NULL, 0};
    /* Read on the loop and the readers together (libregion/DESIGN.md
     * "Gets on more than one core"), the loop answering each piece it
     * read at once; a batch of two pieces or less is not worth a
     * reader's wake-up. Every piece checks the lease before its reads,
     * on whichever thread reads it, so a deposed leader answers none;
     * what the readers read is answered here, once all is read. */
    gb->batched += n;
    gb->units = (n + GET_PIECE - 1) / GET_PIECE;
    gb->next = 0;
    gb->loop = pthread_self();
    if (gb->readers != NULL && n > 2 * GET_PIECE)
        dmn_helpers_run(gb->readers, get_read_pieces, gb);
    else
        get_read_pieces(gb);
    get_answer_read(gb, 0, n, false);
    gb->n = 0;
    gb->used = 0;
    /* a burst of big keys (or of gets) does not stay allocated */
    if (gb->kcap > GET_BATCH_KEEP_BYTES) {
        free(gb->keys);
        gb->keys = NULL;
        gb->kcap = 0;
    }
    if (gb->cap > GET_BATCH_KEEP_GETS) {
        free(gb->gets);
        free(gb->rr);
        gb->gets = NULL;
        gb->rr = NULL;
        gb->cap = 0;
    }
}

/* Holds a get for get_batch_cb; false (nothing held) when out of memory
 * or without a batch. */
static bool get_hold(struct kvd *k, struct rpc_call *call,
                     const struct region_ctx *ctx, const uint8_t *key,
                     size_t kl)
{
    struct kvd_get_batch *gb = k->gets;
    if (gb == NULL)
        return false;
    if (gb->n == gb->cap) {
        size_t cap = gb->cap ? 2 * gb->cap : 64;
        struct held_get *g = realloc(gb->gets, cap * sizeof *g);
        if (g == NULL)
            return false;
        gb->gets = g;
        struct region_raw_read *r = realloc(gb->rr, cap * sizeof *r);
        if (r == NULL)
            return false;
        gb->rr = r;
        gb->cap = cap;
    }
    if (kl > gb->kcap - gb->used) {
        size_t kcap = gb->kcap ? 2 * gb->kcap : 4096;
        while (kcap - gb->used < kl)
            kcap *= 2;
        uint8_t *b = realloc(gb->keys, kcap);
        if (b == NULL)
            return false;
        gb->keys = b;
        gb->kcap = kcap;
    }
    if (kl > 0)
        memcpy(gb->keys + gb->used, key, kl);
    gb->gets[gb->n++] =
        (struct held_get){call, *ctx, gb->used, kl, kvd_now_us(), false};
    gb->used += kl;
    if (gb->n == 1)
        event_active(gb->ev, 0, 0);
    return true;
}

void kvd_get_batch_free(struct kvd *k)
{
    struct kvd_get_batch *gb = k->gets;
    if (gb == NULL)
        return;
    /* gets still held are not answered: the server, destroyed after this,
     * frees their calls */
    dmn_helpers_stop(gb->readers);
    event_free(gb->ev);
    free(gb->gets);
    free(gb->rr);
    free(gb->keys);
    free(gb);
    k->gets = NULL;
}

static int get_batch_new(struct kvd *k)
{
    struct kvd_get_batch *gb = calloc(1, sizeof *gb);
    if (gb == NULL)
        return -ENOMEM;
    gb->k = k;
    int rc = k->get_readers > 0
                 ? dmn_helpers_start(k->get_readers, &gb->readers)
                 : 0;
    if (rc != 0) {
        dmn_error("cannot start %d get reader(s): %s", k->get_readers,
                  strerror(-rc));
        free(gb);
        return rc;
    }
    gb->ev = event_new(k->base, -1, 0, get_batch_cb, k);
    if (gb->ev == NULL) {
        dmn_helpers_stop(gb->readers);
        free(gb);
        return -ENOMEM;
    }
    k->gets = gb;
    return 0;
}

/* librpc's peek of RawGet: a request of the usual shape is held for the
 * batch above (or, without room for it, answered now under the lease)
 * from its bytes, without nanopb's decode; anything else goes on to
 * raw_handler. */
static bool raw_get_peek(struct rpc_call *call, const uint8_t *payload,
                         size_t len, void *ud)
{
    struct region_ctx ctx;
    const uint8_t *key;
    size_t kl;
    return kvd_raw_get_parse(payload, len, &ctx, &key, &kl) &&
           (get_hold(ud, call, &ctx, key, kl) ||
            raw_get_now(ud, call, &ctx, key, kl, kvd_now_us()));
}

/* librpc's peek of RawPut: a put of the usual shape (ctx, key, value; no
 * TTL) goes to region_raw_write from its bytes, without nanopb's decode
 * and release of the request (the value is copied into the region's raw
 * batch before region_raw_write returns); it is answered by
 * raw_write_done as any put. Anything else goes on to raw_handler. */
static bool raw_put_peek(struct rpc_call *call, const uint8_t *payload,
                         size_t len, void *ud)
{
    struct kvd *k = ud;
    struct region_ctx ctx;
    struct region_op rop = {REGION_OP_PUT, NULL, 0, NULL, 0};
    const uint8_t *key, *val;
    if (!kvd_raw_put_parse(payload, len, &ctx, &key, &rop.key_len, &val,
                           &rop.value_len))
        return false;
    rop.key = key;
    rop.value = val;
    struct raw_op *op = malloc(sizeof *op);
    if (op == NULL)
        return false; /* raw_handler fails it */
    *op = (struct raw_op){k, call, NULL, REGION_METHOD_RAW_PUT, kvd_now_us()};
    struct region_err err;
    int rc = region_raw_write(k->store, &ctx, &rop, 1, raw_write_done, op,
                              &err);
    if (rc != 0)
        fail_op(op, rc, &err);
    return true;
}

/* A CAS whose new value has a TTL is a command a store before libregion
 * 0.33.0 cannot apply (libregion DESIGN "Raw TTL"): proposed only once
 * pdd's cluster libregion version says every store runs that or later.
 * Refused, not sent without its TTL: the value would live for ever. */
static int cas_ttl_gate(struct kvd *k,
                        const kv_RawRequest *req,
                        struct region_err *err)
{
    if (req->ttl == 0 || req->delete) /* a delete's TTL is ignored */
        return 0;
    uint32_t have = kvd_pd_cluster_region_version(k);
    if (have >= REGION_VERSION_CAS_TTL)
        return 0;
    char need[16], heard[16];
    pd_version_str(REGION_VERSION_CAS_TTL, need, sizeof need);
    if (k->pd == NULL)
        snprintf(err->msg, sizeof err->msg,
                 "CAS with a ttl needs pdd (--pd) to know that every store "
                 "runs libregion %s or later: swap without a ttl, or Put "
                 "with one",
                 need);
    else if (have == 0) /* a pdd before libpd 0.17, or an older store */
        snprintf(err->msg, sizeof err->msg,
                 "CAS with a ttl needs libregion %s or later on every "
                 "store, and pdd knows no libregion version for some: "
                 "upgrade pdd, then the stores",
                 need);
    else /* heard again at every pd.heartbeat-interval */
        snprintf(err->msg, sizeof err->msg,
                 "CAS with a ttl needs libregion %s or later on every "
                 "store, and pdd's cluster libregion version is %s: upgrade "
                 "the stores below it, then retry",
                 need, pd_version_str(have, heard, sizeof heard));
    return REGION_EINVAL;
}

static void raw_handler(struct rpc_call *call, const void *reqp, void *ud)
{
    struct kvd *k = ud;
    const kv_RawRequest *req = reqp;
    struct region_ctx gctx = ctx_of(&req->ctx);
    size_t gkl;
    const uint8_t *gkey = bytes_of(req->key, &gkl);
    if (!req->local && rpc_call_method(call) == REGION_METHOD_RAW_GET &&
        raw_get_now(k, call, &gctx, gkey, gkl, kvd_now_us()))
        return;
    struct raw_op *op = calloc(1, sizeof *op);
    struct region_err err;
    memset(&err, 0, sizeof err);
    struct region_op *ops = NULL;
    size_t n = 0;
    int rc;
    if (op == NULL) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    *op = (struct raw_op){k, call, req, rpc_call_method(call),
                          kvd_now_us()};
    struct region_ctx ctx = ctx_of(&req->ctx);
    size_t kl, vl;
    const uint8_t *key = bytes_of(req->key, &kl);
    switch (op->method) {
    case REGION_METHOD_RAW_GET:
    case REGION_METHOD_RAW_BATCH_GET:
    case REGION_METHOD_RAW_SCAN:
    case REGION_METHOD_RAW_GET_KEY_TTL:
        if (req->local) { /* no barrier: this store's applied state */
            struct region_reply now = {0, NULL, false, false, NULL, 0};
            raw_read_done(op, &now);
            return;
        }
        /* under the lease: answered here, no turn of the store's loop */
        rc = region_read_now(k->store, &ctx, raw_read_now, op, &err);
        if (rc == 0)
            return;
        if (rc == -EAGAIN)
            rc = region_read(k->store, &ctx, raw_read_done, op, &err);
        break;
    case REGION_METHOD_RAW_CAS: {
        rc = cas_ttl_gate(k, req, &err);
        if (rc != 0)
            break;
        const uint8_t *prev = bytes_of(req->previous_value, &vl);
        rc = region_raw_cas_ttl(k->store, &ctx, key, kl,
                                !req->previous_not_exist, prev, vl, req->delete,
                                req->value.data, req->value.len, req->ttl,
                                raw_write_done, op, &err);
        break;
    }
    default: {
        size_t cap = (size_t)req->pairs_count + req->keys_count + 1u;
        ops = calloc(cap, sizeof *ops);
        if (ops == NULL) {
            rc = -ENOMEM;
            break;
        }
        if (op->method == REGION_METHOD_RAW_PUT) {
            ops[n++] = (struct region_op){REGION_OP_PUT, key, kl,
                                          req->value.data, req->value.len};
        } else if (op->method == REGION_METHOD_RAW_DELETE) {
            ops[n++] = (struct region_op){REGION_OP_DELETE, key, kl, NULL, 0};
        } else if (op->method == REGION_METHOD_RAW_DELETE_RANGE) {
            size_t el;
            const uint8_t *end = bytes_of(req->end, &el);
            /* an empty end is the keyspace's end: a region with an end
             * refuses it (KeyNotInRegion naming the region) rather than
             * cut it at its own end and answer as if all were deleted;
             * clients cut per region (kvctl delete-range) */
            struct region_desc rd;
            rc = region_check_range(k->store, &ctx, key, kl, end, el, &rd,
                                    &err);
            if (rc != 0)
                break;
            ops[n++] = (struct region_op){REGION_OP_DELETE_RANGE, key, kl, end,
                                          el};
        } else if (op->method == REGION_METHOD_RAW_BATCH_PUT) {
            for (pb_size_t i = 0; i < req->pairs_count; i++) {
                size_t pkl, pvl;
                const uint8_t *pk = bytes_of(req->pairs[i].key, &pkl);
                const uint8_t *pv = bytes_of(req->pairs[i].value, &pvl);
                ops[n++] = (struct region_op){REGION_OP_PUT, pk, pkl, pv, pvl};
            }
        } else {
            for (pb_size_t i = 0; i < req->keys_count; i++) {
                size_t dkl;
                const uint8_t *dk = bytes_of(req->keys[i], &dkl);
                ops[n++] = (struct region_op){REGION_OP_DELETE, dk, dkl, NULL, 0};
            }
        }
        if (req->ttls_count > 0 &&
            (op->method != REGION_METHOD_RAW_BATCH_PUT ||
             req->ttls_count != req->pairs_count || req->ttl > 0)) {
            rc = REGION_EINVAL;
            if (op->method != REGION_METHOD_RAW_BATCH_PUT)
                snprintf(err.msg, sizeof err.msg,
                         "ttls apply to RawBatchPut only (use ttl)");
            else if (req->ttl > 0)
                snprintf(err.msg, sizeof err.msg,
                         "ttl and ttls together: give one TTL for every "
                         "pair, or one per pair");
            else
                snprintf(err.msg, sizeof err.msg,
                         "ttls: one per pair of a RawBatchPut (got %u for "
                         "%u pairs)",
                         (unsigned)req->ttls_count, (unsigned)req->pairs_count);
            break;
        }
        const uint64_t *each = req->ttls_count > 0 ? req->ttls : NULL;
        uint64_t *ttls = NULL; /* Put/BatchPut with a TTL: one for all */
        if (req->ttl > 0 && (op->method == REGION_METHOD_RAW_PUT ||
                             op->method == REGION_METHOD_RAW_BATCH_PUT)) {
            ttls = calloc(n ? n : 1, sizeof *ttls);
            if (ttls == NULL) {
                rc = -ENOMEM;
                break;
            }
            for (size_t i = 0; i < n; i++)
                ttls[i] = req->ttl;
        }
        rc = region_raw_write_ttl(k->store, &ctx, ops, n, each ? each : ttls,
                                  raw_write_done, op, &err);
        free(ttls);
        break;
    }
    }
    free(ops);
    if (rc != 0)
        fail_op(op, rc, &err);
}

/* ---------------------------------------------------------------------
 * Txn KV: workers run libmvcc's commands through region_txn_run.
 */
/* A Txn reply's pair: a value over BYTES_MAX goes to resp->spill (which
 * grows in *spill_cap). */
static int txn_add_pair(kv_TxnResponse *resp, size_t *spill_cap,
                        const struct mvcc_kvpair *p, bool value)
{
    if (p->key_len > BYTES_MAX)
        return -E2BIG; /* no request can name it (keys are capped) */
    bool big = value && p->value_len > BYTES_MAX;
    int rc = add_pair(&resp->pairs, &resp->pairs_count, p->key, p->key_len,
                      p->value, big ? 0 : p->value_len, value && !big);
    if (rc != 0 || !big)
        return rc;
    if (resp->spill.len + p->value_len > *spill_cap) {
        size_t cap = (resp->spill.len + p->value_len) * 2;
        uint8_t *d = realloc(resp->spill.data, cap);
        if (d == NULL)
            return -ENOMEM;
        resp->spill.data = d;
        *spill_cap = cap;
    }
    memcpy(resp->spill.data + resp->spill.len, p->value, p->value_len);
    resp->spill.len += p->value_len;
    resp->pairs[resp->pairs_count - 1].value_spill = p->value_len;
    return 0;
}

static int txn_add_lock(kv_TxnResponse *resp, const struct mvcc_lock_info *l)
{
    kv_LockInfo *o = &resp->locks[resp->locks_count++];
    o->key = mkbytes(l->key, l->key_len);
    o->primary = mkbytes(l->primary, l->primary_len);
    o->start_version = l->start_ts;
    o->ttl = l->ttl;
    o->type = (uint32_t)l->type;
    o->min_commit_ts = l->min_commit_ts;
    o->for_update_ts = l->for_update_ts;
    o->txn_size = l->txn_size;
    o->use_async_commit = l->use_async_commit;
    if (o->key == NULL || o->primary == NULL || l->nsecondaries > 65535)
        return -ENOMEM;
    if (l->nsecondaries) {
        o->secondaries = calloc(l->nsecondaries, sizeof *o->secondaries);
        if (o->secondaries == NULL)
            return -ENOMEM;
        for (size_t j = 0; j < l->nsecondaries; j++) {
            o->secondaries_count = (pb_size_t)(j + 1);
            o->secondaries[j] =
                mkbytes(l->secondaries[j].data, l->secondaries[j].len);
            if (o->secondaries[j] == NULL)
                return -ENOMEM;
        }
    }
    return 0;
}

/* How many of r's pairs a reply carries (*take): all, or for a Scan or
 * BatchGet reply (cut) those within REPLY_BUDGET bytes and 65,535 pairs,
 * at least one, with *more set when that left some out; -E2BIG for a
 * reply over REPLY_MAX or 65,535 pairs that may not be cut. */
static int txn_pairs_take(const struct mvcc_result *r, bool values, bool cut,
                          size_t *take, bool *more)
{
    size_t bytes = 0;
    *more = false;
    for (size_t i = 0; i < r->npairs; i++) {
        const struct mvcc_kvpair *p = &r->pairs[i];
        size_t pb = p->key_len + (values ? p->value_len : 0) + 16;
        if (cut && i > 0 && (bytes + pb > REPLY_BUDGET || i == 65535)) {
            *take = i;
            *more = true;
            return 0;
        }
        bytes += pb;
        if (bytes > REPLY_MAX || i == 65535)
            return -E2BIG;
    }
    *take = r->npairs;
    return 0;
}

/* Fills resp from r, its pairs as txn_pairs_take cuts them. */
static int txn_fill_result(kv_TxnResponse *resp, const struct mvcc_result *r,
                           bool values, bool cut)
{
    size_t spill_cap = 0, take;
    int rc = txn_pairs_take(r, values, cut, &take, &resp->more);
    for (size_t i = 0; rc == 0 && i < take; i++)
        rc = txn_add_pair(resp, &spill_cap, &r->pairs[i],
                          values && r->pairs[i].value);
    size_t nlocks = r->nlocks;
    if (nlocks > 65535) { /* ScanLock without a limit */
        nlocks = 65535;
        resp->more = true;
    }
    if (rc == 0 && nlocks > 0) {
        resp->locks = calloc(nlocks, sizeof *resp->locks);
        if (resp->locks == NULL)
            rc = -ENOMEM;
        for (size_t i = 0; rc == 0 && i < nlocks; i++)
            rc = txn_add_lock(resp, &r->locks[i]);
    }
    if (rc == 0 && r->key && (resp->key = mkbytes(r->key, r->key_len)) == NULL)
        rc = -ENOMEM;
    resp->commit_version = r->commit_ts;
    resp->min_commit_ts = r->min_commit_ts;
    resp->status = (uint32_t)r->status;
    resp->action = (uint32_t)r->action;
    resp->lock_ttl = r->lock_ttl;
    resp->conflict_start_ts = r->conflict_start_ts;
    resp->conflict_commit_ts = r->conflict_commit_ts;
    return rc;
}

/* Inline reads (loop thread) against async-commit / 1PC prewrites
 * (workers). Such a prewrite makes reads of its keys wait in libmvcc until
 * its batch is applied, and applying needs the loop thread: a read
 * waiting there on the loop would never wake. So the loop reads inline
 * only while no such prewrite is in flight, and a prewrite starts only
 * once the inline read under way (at most one: one loop) is done. One
 * kvd per process: file scope. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_prewrites;   /* guarded prewrites in flight */
static bool gate_reading;    /* an inline read is under way */

static bool gate_read_begin(void)
{
    pthread_mutex_lock(&gate_mu);
    bool ok = gate_prewrites == 0;
    gate_reading = ok;
    pthread_mutex_unlock(&gate_mu);
    return ok;
}

static void gate_read_end(void)
{
    pthread_mutex_lock(&gate_mu);
    gate_reading = false;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

static void gate_prewrite(bool begin)
{
    pthread_mutex_lock(&gate_mu);
    if (begin) {
        gate_prewrites++;
        while (gate_reading)
            pthread_cond_wait(&gate_cv, &gate_mu);
    } else {
        gate_prewrites--;
    }
    pthread_mutex_unlock(&gate_mu);
}

struct txn_exec {
    const kv_TxnRequest *req;  /* the request */
    uint32_t method;           /* which command */
    const uint8_t *start;      /* range start, inside the region */
    size_t start_len;          /* its length */
    const uint8_t *end;        /* range end, at most the region's (NULL:
                                  unbounded) */
    size_t end_len;            /* its length */
    struct mvcc_result res;    /* outcome */
    struct kvd *k;             /* the node (re-checks after the barrier) */
    struct region_err *err;    /* region error detail */
};

static int txn_check(struct kvd *k, const kv_TxnRequest *req, uint32_t method,
                     struct txn_exec *x, struct region_desc *d,
                     struct region_err *err);
static bool txn_is_read(uint32_t method);

static int txn_exec_fn(struct mvcc_store *m, void *arg)
{
    struct txn_exec *x = arg;
    if (txn_is_read(x->method)) {
        /* the region may have split or moved between the first check
         * and the read barrier: the keys must still be ours */
        struct region_desc d;
        int rc = txn_check(x->k, x->req, x->method, x, &d, x->err);
        if (rc != 0)
            return rc;
    }
    const kv_TxnRequest *req = x->req;
    size_t kl;
    const uint8_t *key = bytes_of(req->key, &kl);
    struct mvcc_key *keys = calloc(req->keys_count + 1u, sizeof *keys);
    struct mvcc_mutation *muts = NULL;
    int rc;
    if (keys == NULL)
        return -ENOMEM;
    for (pb_size_t i = 0; i < req->keys_count; i++)
        keys[i].data = bytes_of(req->keys[i], &keys[i].len);
    /* reads skip the locks of transactions the reader found pushed above
     * its ts (libregion DESIGN.md "Cluster transport") */
    struct mvcc_read_opts rd = {.bypass = req->resolved_locks,
                                .nbypass = req->resolved_locks_count};
    switch (x->method) {
    case REGION_METHOD_TXN_GET:
        rc = mvcc_get(m, &rd, key, kl, req->version, &x->res);
        break;
    case REGION_METHOD_TXN_BATCH_GET:
        rc = mvcc_batch_get(m, &rd, keys, req->keys_count, req->version,
                            &x->res);
        break;
    case REGION_METHOD_TXN_COP:
        rc = kvd_cop_exec(m, x->start, x->start_len, x->end, x->end_len,
                          req->version, req->cop.data, req->cop.len, &x->res);
        break;
    case REGION_METHOD_TXN_SCAN: {
        struct mvcc_read_opts ro = {.limit = req->limit,
                                    .bypass = req->resolved_locks,
                                    .nbypass = req->resolved_locks_count};
        rc = mvcc_scan(m, &ro, x->start, x->start_len, x->end, x->end_len,
                       req->version, &x->res);
        break;
    }
    case REGION_METHOD_TXN_PREWRITE: {
        muts = calloc(req->mutations_count + 1u, sizeof *muts);
        if (muts == NULL) {
            rc = -ENOMEM;
            break;
        }
        /* values over 65,535 bytes are in the spill, in order */
        size_t spilled = 0;
        rc = 0;
        for (pb_size_t i = 0; i < req->mutations_count; i++) {
            const kv_Mutation *mu = &req->mutations[i];
            muts[i].op = (int)mu->op;
            muts[i].key = bytes_of(mu->key, &muts[i].key_len);
            muts[i].value = bytes_of(mu->value, &muts[i].value_len);
            muts[i].pessimistic_lock = mu->pessimistic_lock;
            if (mu->value_spill == 0)
                continue;
            if (mu->value || mu->value_spill > req->spill.len - spilled) {
                rc = REGION_EDECODE;
                break;
            }
            muts[i].value = req->spill.data + spilled;
            muts[i].value_len = (size_t)mu->value_spill;
            spilled += (size_t)mu->value_spill;
        }
        if (rc == 0 && spilled != req->spill.len)
            rc = REGION_EDECODE;
        if (rc != 0) {
            snprintf(x->res.errmsg, sizeof x->res.errmsg,
                     "mutation values and spill of %zu bytes disagree",
                     (size_t)req->spill.len);
            break;
        }
        struct mvcc_key *secs = NULL;
        if (req->secondaries_count) {
            secs = calloc(req->secondaries_count, sizeof *secs);
            if (secs == NULL) {
                rc = -ENOMEM;
                break;
            }
        }
        for (pb_size_t i = 0; i < req->secondaries_count; i++)
            secs[i].data = bytes_of(req->secondaries[i], &secs[i].len);
        size_t pl;
        const uint8_t *primary = bytes_of(req->primary, &pl);
        struct mvcc_prewrite_req pw = {.mutations = muts,
                                       .n = req->mutations_count,
                                       .primary = primary,
                                       .primary_len = pl,
                                       .start_ts = req->version,
                                       .lock_ttl = req->lock_ttl,
                                       .txn_size = req->txn_size,
                                       .min_commit_ts = req->min_commit_ts,
                                       .deadline_ms = req->deadline_ms,
                                       .for_update_ts = req->for_update_ts,
                                       .use_async_commit =
                                           req->use_async_commit,
                                       .secondaries = secs,
                                       .nsecondaries = req->secondaries_count,
                                       .try_one_pc = req->try_one_pc};
        /* Their commit_ts rests on max_ts: refused until this
         * leadership's max_ts came from the TSO (libregion/DESIGN.md
         * "max_ts"); the client then commits in two phases or waits. */
        bool guarded = req->try_one_pc || req->use_async_commit;
        if (guarded)
            rc = region_txn_check_max_ts(x->k->store);
        if (rc == 0 && guarded) {
            gate_prewrite(true);
            rc = mvcc_prewrite(m, &pw, &x->res);
            gate_prewrite(false);
        } else if (rc == 0) {
            rc = mvcc_prewrite(m, &pw, &x->res);
        }
        free(secs);
        break;
    }
    case REGION_METHOD_TXN_COMMIT:
        rc = mvcc_commit(m, keys, req->keys_count, req->version,
                         req->commit_version, &x->res);
        break;
    case REGION_METHOD_TXN_BATCH_ROLLBACK:
        rc = mvcc_batch_rollback(m, keys, req->keys_count, req->version,
                                 &x->res);
        break;
    case REGION_METHOD_TXN_CLEANUP:
        rc = mvcc_cleanup(m, key, kl, req->version, req->current_ts, &x->res);
        break;
    case REGION_METHOD_TXN_CHECK_TXN_STATUS: {
        struct mvcc_check_txn_req cr = {
            .primary = key, .primary_len = kl, .lock_ts = req->version,
            .caller_start_ts = req->caller_start_ts,
            .current_ts = req->current_ts,
            .rollback_if_not_exist = req->rollback_if_not_exist};
        rc = mvcc_check_txn_status(m, &cr, &x->res);
        break;
    }
    case REGION_METHOD_TXN_RESOLVE_LOCK:
        rc = mvcc_resolve_lock(m, req->version, req->commit_version, x->start,
                               x->start_len, x->end, x->end_len, &x->res);
        break;
    case REGION_METHOD_TXN_SCAN_LOCK:
        rc = mvcc_scan_lock(m, req->max_ts, x->start, x->start_len, x->end,
                            x->end_len, req->limit, &x->res);
        break;
    case REGION_METHOD_TXN_HEARTBEAT:
        rc = mvcc_txn_heartbeat(m, key, kl, req->version, req->lock_ttl,
                                &x->res);
        break;
    case REGION_METHOD_TXN_CHECK_SECONDARY_LOCKS:
        rc = mvcc_check_secondary_locks(m, keys, req->keys_count,
                                        req->version, &x->res);
        break;
    case REGION_METHOD_TXN_PESSIMISTIC_LOCK: {
        size_t pl;
        const uint8_t *primary = bytes_of(req->primary, &pl);
        struct mvcc_pessimistic_req pr = {
            .keys = keys, .n = req->keys_count, .primary = primary,
            .primary_len = pl, .start_ts = req->version,
            .for_update_ts = req->for_update_ts, .lock_ttl = req->lock_ttl,
            .wait_timeout_ms = req->wait_timeout_ms,
            .return_values = req->return_values};
        rc = mvcc_acquire_pessimistic_lock(m, &pr, &x->res);
        break;
    }
    case REGION_METHOD_TXN_PESSIMISTIC_ROLLBACK:
        rc = mvcc_pessimistic_rollback(m, keys, req->keys_count, req->version,
                                       req->for_update_ts, &x->res);
        break;
    case REGION_METHOD_TXN_DELETE_RANGE:
        rc = mvcc_delete_range(m, x->start, x->start_len, x->end, x->end_len);
        break;
    default:
        rc = REGION_EINVAL;
    }
    free(keys);
    free(muts);
    return rc;
}

/* The reads of a snapshot at req->version (ScanLock's max_ts is not one:
 * GC itself asks it below the safe point). */
static bool txn_reads_at_version(uint32_t method)
{
    return method == REGION_METHOD_TXN_GET ||
           method == REGION_METHOD_TXN_BATCH_GET ||
           method == REGION_METHOD_TXN_SCAN ||
           method == REGION_METHOD_TXN_COP;
}

static bool txn_is_read(uint32_t method)
{
    return txn_reads_at_version(method) ||
           method == REGION_METHOD_TXN_SCAN_LOCK;
}

/* Check every key the request names, and its range, against the region. */
static int txn_check(struct kvd *k, const kv_TxnRequest *req, uint32_t method,
                     struct txn_exec *x, struct region_desc *d,
                     struct region_err *err)
{
    struct region_ctx ctx = ctx_of(&req->ctx);
    size_t kl;
    const uint8_t *key = bytes_of(req->key, &kl);
    int rc = 0;
    switch (method) {
    case REGION_METHOD_TXN_GET:
    case REGION_METHOD_TXN_CLEANUP:
    case REGION_METHOD_TXN_CHECK_TXN_STATUS:
    case REGION_METHOD_TXN_HEARTBEAT:
        return region_check_key(k->store, &ctx, key, kl, err);
    case REGION_METHOD_TXN_PREWRITE:
        for (pb_size_t i = 0; rc == 0 && i < req->mutations_count; i++) {
            const uint8_t *mk = bytes_of(req->mutations[i].key, &kl);
            rc = region_check_key(k->store, &ctx, mk, kl, err);
        }
        return rc;
    case REGION_METHOD_TXN_BATCH_GET:
    case REGION_METHOD_TXN_COMMIT:
    case REGION_METHOD_TXN_BATCH_ROLLBACK:
    case REGION_METHOD_TXN_CHECK_SECONDARY_LOCKS:
    case REGION_METHOD_TXN_PESSIMISTIC_LOCK:
    case REGION_METHOD_TXN_PESSIMISTIC_ROLLBACK:
        for (pb_size_t i = 0; rc == 0 && i < req->keys_count; i++) {
            const uint8_t *mk = bytes_of(req->keys[i], &kl);
            rc = region_check_key(k->store, &ctx, mk, kl, err);
        }
        return rc;
    default: /* ranges: Scan, ScanLock, ResolveLock, DeleteRange, Cop */
        /* refused, never clipped, when outside the region (libregion
         * DESIGN.md "Range checks") */
        x->start = bytes_of(req->start, &x->start_len);
        x->end = bytes_of(req->end, &x->end_len);
        rc = region_check_range(k->store, &ctx, x->start, x->start_len,
                                x->end, x->end_len, d, err);
        if (rc == 0 && x->end_len == 0) { /* the region's end (a zero
                                             epoch's), or none */
            x->end = d->end_len ? d->end : NULL;
            x->end_len = d->end_len;
        }
        return rc;
    }
}

/* A Txn command's answer: resp, or the bytes of a read that succeeded
 * (pairs and `more` only: the usual Get, BatchGet and Scan) written by
 * hand into raw (region_txn_read_reply: the bytes nanopb writes for resp
 * filled alike, without copying every key and value into it first). */
struct txn_answer {
    kv_TxnResponse resp; /* code always; the rest only when hand is false */
    bool hand;           /* raw holds the reply */
    uint8_t *raw;        /* region_free; kept across answers on the loop */
    size_t raw_cap;      /* its allocation */
    size_t raw_len;      /* the reply's bytes */
};

/* Whether r holds nothing a reply carries but pairs. */
static bool txn_pairs_only(const struct mvcc_result *r)
{
    return r->nlocks == 0 && r->key == NULL && r->commit_ts == 0 &&
           r->min_commit_ts == 0 && r->status == 0 && r->action == 0 &&
           r->lock_ttl == 0 && r->conflict_start_ts == 0 &&
           r->conflict_commit_ts == 0;
}

/* Sends a's answer to call and releases resp (raw stays with a). */
static void txn_reply(struct rpc_call *call, struct txn_answer *a)
{
    if (a->hand) {
        rpc_call_reply_encoded(call, a->raw, a->raw_len);
    } else {
        rpc_call_reply(call, &a->resp);
        rpc_msg_release(kv_TxnResponse_fields, &a->resp);
    }
}

/* Runs a Txn command and fills a (resp zeroed, hand false; raw and
 * raw_cap a buffer to reuse or NULL and 0). now: a KvGet or KvBatchGet
 * tried under the lease on the calling thread (region_read_now); returns
 * -EAGAIN with a untouched when the lease cannot serve it, else 0. */
static int txn_execute(struct kvd *k, const kv_TxnRequest *req,
                       uint32_t method, struct txn_answer *a, bool now)
{
    kv_TxnResponse *resp = &a->resp;
    struct region_err err;
    memset(&err, 0, sizeof err);
    struct txn_exec x;
    memset(&x, 0, sizeof x);
    x.req = req;
    x.method = method;
    x.k = k;
    x.err = &err;
    mvcc_result_init(&x.res);
    struct region_desc d;
    struct region_ctx ctx = ctx_of(&req->ctx);
    int rc;
    uint64_t gc_sp;
    if (txn_reads_at_version(method) &&
        req->version < (gc_sp = region_store_gc_safe_point(k->store))) {
        /* GC may have removed versions this snapshot sees: an error,
         * never a read with rows missing (libregion/DESIGN.md "GC") */
        rc = REGION_EGC_TOO_EARLY;
        snprintf(err.msg, sizeof err.msg,
                 "read at %" PRIu64 " below the GC safe point %" PRIu64
                 ": versions may be gone (a transaction older than "
                 "gc.life-time)",
                 (uint64_t)req->version, gc_sp);
    } else if (now) { /* txn_exec_fn checks the keys (a read) */
        rc = -EAGAIN;
        if (gate_read_begin()) {
            rc = region_read_now(k->store, &ctx, txn_exec_fn, &x, &err);
            gate_read_end();
        }
        if (rc == -EAGAIN) {
            mvcc_result_reset(&x.res);
            return rc;
        }
    } else {
        /* A read on a worker under the lease, as the loop's gets are: a
         * read index round through the loop thread cost two more
         * wake-ups (the loop's, then this worker's again). Blocking
         * here is allowed: a read waiting for an async-commit prewrite
         * to apply waits on this worker, not the loop. */
        rc = txn_is_read(method)
                 ? region_read_now(k->store, &ctx, txn_exec_fn, &x, &err)
                 : -EAGAIN;
        if (rc == -EAGAIN) { /* as the loop's: nothing of it carried on */
            mvcc_result_reset(&x.res);
            memset(&err, 0, sizeof err);
            rc = txn_check(k, req, method, &x, &d, &err);
            if (rc == 0)
                rc = region_txn_run(k->store, &ctx, txn_is_read(method),
                                    txn_exec_fn, &x, &err);
        }
    }
    resp->code = rc;
    if (rc != 0) {
        if (is_region_error(rc)) {
            resp->has_region_error = true;
            fill_region_error(&resp->region_error, &err);
        }
        resp->error = strdup(err.msg[0]    ? err.msg
                             : x.res.errmsg[0] ? x.res.errmsg
                             : rc <= -2000 && rc > -3000 /* libmvcc's */
                                 ? mvcc_strerror(rc)
                                 : region_strerror(rc));
        if (rc == MVCC_LOCKED || rc == MVCC_CONFLICT ||
            rc == MVCC_ALREADY_EXIST || rc == MVCC_COMMITTED ||
            rc == MVCC_COMMIT_TS_EXPIRED || rc == MVCC_DEADLOCK)
            (void)txn_fill_result(resp, &x.res, false, false);
    } else {
        bool cut = method == REGION_METHOD_TXN_SCAN ||
                   method == REGION_METHOD_TXN_BATCH_GET;
        size_t take;
        bool more;
        /* by hand when it can; anything it refuses (a key over nanopb's
         * limit, a reply too large) the struct refuses alike, below */
        if (txn_pairs_only(&x.res) &&
            txn_pairs_take(&x.res, true, cut, &take, &more) == 0 &&
            region_txn_read_reply(x.res.pairs, take, more, &a->raw,
                                  &a->raw_cap, &a->raw_len) == 0) {
            a->hand = true;
        } else {
            rc = txn_fill_result(resp, &x.res, true, cut);
        }
        if (rc != 0) { /* refused whole: nothing half-filled goes out */
            rpc_msg_release(kv_TxnResponse_fields, resp);
            memset(resp, 0, sizeof *resp);
            resp->code = rc;
            resp->error = strdup(rc == -E2BIG
                                     ? "the reply would exceed the 16 MiB "
                                       "frame limit"
                                     : "out of memory");
        }
    }
    mvcc_result_reset(&x.res);
    return 0;
}

static void run_job(struct kvd *k, struct kvd_job *job)
{
    (void)txn_execute(k, job->req, job->method, job->ans, false);
}

static void *worker_main(void *arg)
{
    struct kvd *k = arg;
    pthread_mutex_lock(&k->mu);
    for (;;) {
        while (!k->stopping && k->jobs == NULL)
            pthread_cond_wait(&k->cv, &k->mu);
        if (k->jobs == NULL)
            break; /* stopping and drained */
        struct kvd_job *job = k->jobs;
        k->jobs = job->next;
        if (k->jobs == NULL)
            k->jobs_tail = NULL;
        pthread_mutex_unlock(&k->mu);
        run_job(k, job);
        pthread_mutex_lock(&k->mu);
        job->next = k->done;
        k->done = job;
        event_active(k->done_ev, 0, 0);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

static void on_jobs_done(evutil_socket_t fd, short what, void *arg)
{
    struct kvd *k = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&k->mu);
    struct kvd_job *done = k->done;
    k->done = NULL;
    pthread_mutex_unlock(&k->mu);
    while (done) {
        struct kvd_job *job = done;
        done = job->next;
        struct txn_answer *a = job->ans;
        kvd_observe(k, job->method, job->t0_us, a->resp.code);
        txn_reply(job->call, a);
        region_free(a->raw);
        free(a);
        free(job);
    }
}

static void txn_handler(struct rpc_call *call, const void *reqp, void *ud)
{
    struct kvd *k = ud;
    uint32_t method = rpc_call_method(call);
    if (method == REGION_METHOD_TXN_GET ||
        method == REGION_METHOD_TXN_BATCH_GET) {
        /* Under the lease, here on the loop thread: no worker, no read
         * index round (libregion/DESIGN.md "Reads"). A point read does
         * not wait (a lock in the way is answered MVCC_LOCKED). */
        uint64_t t0 = kvd_now_us();
        struct txn_answer now;
        memset(&now, 0, sizeof now);
        now.raw = k->reply_buf; /* the loop's, reused */
        now.raw_cap = k->reply_cap;
        int rc = txn_execute(k, reqp, method, &now, true);
        if (rc == 0) {
            kvd_observe(k, method, t0, now.resp.code);
            txn_reply(call, &now);
        }
        if (now.raw_cap > REPLY_KEEP) { /* a large page: not kept */
            region_free(now.raw);
            now.raw = NULL;
            now.raw_cap = 0;
        }
        k->reply_buf = now.raw;
        k->reply_cap = now.raw_cap;
        if (rc == 0)
            return;
    }
    struct kvd_job *job = calloc(1, sizeof *job);
    struct txn_answer *ans = calloc(1, sizeof *ans);
    if (job == NULL || ans == NULL) {
        free(job);
        free(ans);
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    *job = (struct kvd_job){NULL, call, reqp, rpc_call_method(call), ans,
                            kvd_now_us()};
    pthread_mutex_lock(&k->mu);
    if (k->jobs_tail)
        k->jobs_tail->next = job;
    else
        k->jobs = job;
    k->jobs_tail = job;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

int kvd_workers_start(struct kvd *k, int n)
{
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    k->done_ev = event_new(k->base, -1, 0, on_jobs_done, k);
    k->workers = calloc((size_t)n, sizeof *k->workers);
    if (k->done_ev == NULL || k->workers == NULL)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&k->workers[i], NULL, worker_main, k) != 0)
            return -errno;
        k->n_workers++;
    }
    return 0;
}

void kvd_workers_stop(struct kvd *k)
{
    if (k->workers == NULL && k->done_ev == NULL)
        return; /* never started */
    pthread_mutex_lock(&k->mu);
    k->stopping = true;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
    for (int i = 0; i < k->n_workers; i++)
        pthread_join(k->workers[i], NULL);
    free(k->workers);
    k->workers = NULL;
    k->n_workers = 0;
    if (k->done_ev) {
        on_jobs_done(-1, 0, k); /* answer what finished */
        event_free(k->done_ev);
        k->done_ev = NULL;
    }
    region_free(k->reply_buf);
    k->reply_buf = NULL;
    k->reply_cap = 0;
}

/* ---------------------------------------------------------------------
 * Raft batches between stores.
 */
static void raft_handler(struct rpc_call *call, const void *reqp, void *ud)
{
    struct kvd *k = ud;
    const kv_RaftBatch *req = reqp;
    int rc = region_store_receive(k->store, req->data.data, req->data.len);
    if (rc != 0) {
        dmn_warn("malformed raft batch: %s", region_strerror(rc));
        rpc_call_fail(call, rc, region_strerror(rc));
        return;
    }
    kv_RaftBatchResponse resp = kv_RaftBatchResponse_init_zero;
    rpc_call_reply(call, &resp);
    event_active(k->process_ev, 0, 0);
}

static void raft_sent(int rc, const void *resp, const char *errmsg, void *ud)
{
    (void)resp;
    (void)ud;
    if (rc != 0 && dmn_log_enabled(DMN_LOG_DEBUG))
        dmn_debug("raft batch not delivered: %s", errmsg ? errmsg : "");
}

struct rpc_client *kvd_peer_client(struct kvd *k, uint64_t id)
{
    struct kvd_peer *p = NULL;
    for (int i = 0; i < k->n_peers; i++)
        if (k->peers[i].id == id)
            p = &k->peers[i];
    if (p == NULL) { /* not in the map: pdd may know it (dropped meanwhile:
                        the caller resends) */
        kvd_pd_want_store(k, id);
        return NULL;
    }
    if (p->cli == NULL) {
        struct rpc_client_options co = {.host = p->host,
                                        .port = p->port,
                                        .tls = dmn_cluster_tls_client(),
                                        .connect_timeout_ms = 1000,
                                        .max_in_flight = 4096,
                                        .default_deadline_ms = 5000,
                                        .log = dmn_rpc_log,
                                        .log_level = RPC_LOG_WARN};
        if (rpc_client_create(k->base, &co, &p->cli) != 0)
            return NULL;
    }
    return p->cli;
}

void kvd_transport_send(void *ctx, uint64_t to, const void *buf, size_t len)
{
    struct kvd *k = ctx;
    struct rpc_client *cli = kvd_peer_client(k, to);
    if (cli == NULL) /* Raft resends */
        return;
    kv_RaftBatch req;
    memset(&req, 0, sizeof req);
    req.data.data = (uint8_t *)buf; /* borrowed: encoded in the call */
    req.data.len = len;
    struct rpc_call_spec cs = {.method = REGION_METHOD_RAFT,
                               .req_fields = kv_RaftBatch_fields,
                               .req = &req,
                               .resp_fields = kv_RaftBatchResponse_fields,
                               .resp_size = sizeof(kv_RaftBatchResponse),
                               .deadline_ms = 5000,
                               .done = raft_sent,
                               .ud = k};
    (void)rpc_client_call(cli, &cs, NULL); /* refused: Raft resends */
}

void kvd_transport_notify(void *ctx)
{
    struct kvd *k = ctx;
    event_active(k->process_ev, 0, 0);
}

/* ---------------------------------------------------------------------
 * Locate and SplitRegion.
 */
static void locate_handler(struct rpc_call *call, const void *reqp, void *ud)
{
    struct kvd *k = ud;
    const kv_LocateRequest *req = reqp;
    uint64_t t0 = kvd_now_us();
    size_t kl;
    const uint8_t *key = bytes_of(req->key, &kl);
    struct region_desc d;
    uint64_t leader = 0;
    kv_LocateResponse resp;
    memset(&resp, 0, sizeof resp);
    resp.code = region_store_locate(k->store, key, kl, &d, &leader);
    if (resp.code == 0) {
        struct region_err e;
        memset(&e, 0, sizeof e);
        e.has_region = true;
        e.region = d;
        kv_RegionError tmp;
        memset(&tmp, 0, sizeof tmp);
        fill_region_error(&tmp, &e);
        resp.has_region = true;
        resp.region = tmp.region;
        resp.leader = leader;
        free(tmp.message);
    }
    kvd_observe(k, rpc_call_method(call), t0, resp.code);
    rpc_call_reply(call, &resp);
    pb_release(kv_LocateResponse_fields, &resp);
}

static void split_handler(struct rpc_call *call, const void *reqp, void *ud)
{
    struct kvd *k = ud;
    const kv_RawRequest *req = reqp;
    struct raw_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    *op = (struct raw_op){k, call, req, rpc_call_method(call),
                          kvd_now_us()};
    struct region_ctx ctx = ctx_of(&req->ctx);
    struct region_err err;
    memset(&err, 0, sizeof err);
    size_t kl;
    const uint8_t *key = bytes_of(req->key, &kl);
    int rc = region_split(k->store, &ctx, key, kl, 0, raw_write_done, op,
                          &err);
    if (rc != 0)
        fail_op(op, rc, &err);
}

static void change_peer_handler(struct rpc_call *call, const void *reqp,
                                void *ud)
{
    struct kvd *k = ud;
    const kv_ChangePeerRequest *req = reqp;
    struct raw_op *op = calloc(1, sizeof *op);
    if (op == NULL) {
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    *op = (struct raw_op){k, call, NULL, rpc_call_method(call),
                          kvd_now_us()};
    struct region_ctx ctx = ctx_of(&req->ctx);
    struct region_err err;
    memset(&err, 0, sizeof err);
    int rc;
    if (req->op == 1 || req->op == 2) {
        rc = region_change_peer(k->store, &ctx, req->op == 1, req->store_id,
                                raw_write_done, op, &err);
    } else if (req->op == 3) {
        if (!region_store_is_leader(k->store, ctx.region_id)) {
            uint64_t leader = 0;
            rc = region_store_region(k->store, ctx.region_id, NULL, &leader);
            if (rc == 0) {
                rc = REGION_ENOT_LEADER;
                err.code = rc;
                err.leader = leader;
                snprintf(err.msg, sizeof err.msg, "not leader (leader %llu)",
                         (unsigned long long)leader);
            }
        } else {
            rc = region_store_transfer_leader(k->store, ctx.region_id,
                                              req->store_id);
        }
        if (rc == 0) { /* asked; the move shows in the statuses */
            kv_RawResponse resp;
            memset(&resp, 0, sizeof resp);
            reply_op(op, &resp);
            free(op);
            return;
        }
    } else {
        rc = REGION_EINVAL;
        snprintf(err.msg, sizeof err.msg, "op must be 1, 2 or 3");
    }
    if (rc != 0)
        fail_op(op, rc, &err);
}

/* ---------------------------------------------------------------------
 * Store status: JSON of the store, its regions and counters.
 */
int kvd_status_json(struct kvd *k, FILE *f)
{
    struct region_store_stats st;
    region_store_stats(k->store, &st);
    size_t n = 0;
    region_store_regions(k->store, NULL, 0, &n);
    struct region_desc *ds = calloc(n + 1, sizeof *ds);
    if (ds == NULL)
        return -ENOMEM;
    region_store_regions(k->store, ds, n, &n);
    fprintf(f,
            "{\"store_id\":%llu,\"regions\":%llu,\"leaders\":%llu,"
            "\"proposals\":%llu,\"applied\":%llu,\"syncs\":%llu,"
            "\"loop_iters\":%llu,\"reads\":%llu,\"msgs_sent\":%llu,"
            "\"msgs_received\":%llu,\"log_gcs\":%llu,\"snaps_built\":%llu,"
            "\"snaps_applied\":%llu,\"splits\":%llu,\"split_checks\":%llu,"
            "\"split_check_ms\":%llu,\"reads_inline\":%llu,",
            (unsigned long long)k->store_id, (unsigned long long)st.regions,
            (unsigned long long)st.leaders, (unsigned long long)st.proposals,
            (unsigned long long)st.applied, (unsigned long long)st.syncs,
            (unsigned long long)st.loop_iters, (unsigned long long)st.reads,
            (unsigned long long)st.msgs_sent,
            (unsigned long long)st.msgs_received,
            (unsigned long long)st.log_gcs, (unsigned long long)st.snaps_built,
            (unsigned long long)st.snaps_applied, (unsigned long long)st.splits,
            (unsigned long long)st.split_checks,
            (unsigned long long)(st.split_check_ns / 1000000),
            (unsigned long long)st.reads_inline);
    fprintf(f,
            "\"ticks\":%llu,\"hibernated\":%llu,\"hib_wakes\":%llu,"
            "\"stores_down\":%llu,\"ttl_expired\":%llu,"
            "\"ttl_removed\":%llu,\"merges\":%llu,\"merge_catchup\":%llu,"
            "\"split_campaigns\":%llu,\"votes_held\":%llu,"
            "\"snap_chunks_sent\":%llu,\"snap_chunks_received\":%llu,"
            "\"snap_chunks_refused\":%llu,\"snap_installs_resumed\":%llu,"
            "\"snap_mem_peak\":%llu,\"snap_stage_waits\":%llu,",
            (unsigned long long)st.ticks, (unsigned long long)st.hibernated,
            (unsigned long long)st.hib_wakes,
            (unsigned long long)st.stores_down,
            (unsigned long long)st.ttl_expired,
            (unsigned long long)st.ttl_removed,
            (unsigned long long)st.merges,
            (unsigned long long)st.merge_catchup,
            (unsigned long long)st.split_campaigns,
            (unsigned long long)st.votes_held,
            (unsigned long long)st.snap_chunks_sent,
            (unsigned long long)st.snap_chunks_received,
            (unsigned long long)st.snap_chunks_refused,
            (unsigned long long)st.snap_installs_resumed,
            (unsigned long long)st.snap_mem_peak,
            (unsigned long long)st.snap_stage_waits);
    if (k->gets != NULL) /* the RawGet batch (above) */
        fprintf(f,
                "\"get_readers\":%d,\"gets_batched\":%llu,"
                "\"gets_by_readers\":%llu,\"get_pieces_sent\":%llu,",
                k->get_readers, (unsigned long long)k->gets->batched,
                (unsigned long long)__atomic_load_n(&k->gets->by_readers,
                                                    __ATOMIC_RELAXED),
                (unsigned long long)k->gets->pieces_sent);
    fprintf(f,
            "\"lat_batches\":%llu,\"lat_durable_n\":%llu,"
            "\"lat_durable_ns\":%llu,\"lat_commit_ns\":%llu,"
            "\"lat_apply_ns\":%llu,\"wjobs\":%llu,\"wjob_queue_ns\":%llu,"
            "\"wjob_write_ns\":%llu,\"wjob_done_ns\":%llu,",
            (unsigned long long)st.lat_batches,
            (unsigned long long)st.lat_durable_n,
            (unsigned long long)st.lat_durable_ns,
            (unsigned long long)st.lat_commit_ns,
            (unsigned long long)st.lat_apply_ns, (unsigned long long)st.wjobs,
            (unsigned long long)st.wjob_queue_ns,
            (unsigned long long)st.wjob_write_ns,
            (unsigned long long)st.wjob_done_ns);
    if (k->pd) { /* what the pd thread got answered (pd.c) */
        struct kvd_pd_counters pc;
        kvd_pd_counters(k, &pc);
        fprintf(f,
                "\"pd\":{\"store_heartbeats\":%llu,"
                "\"region_heartbeats\":%llu,\"region_heartbeat_calls\":%llu,"
                "\"region_heartbeats_prompt\":%llu,\"hints\":%llu,"
                "\"steps\":%llu,"
                "\"splits_reported\":%llu,\"size_counts\":%llu},",
                (unsigned long long)pc.store_heartbeats,
                (unsigned long long)pc.region_heartbeats,
                (unsigned long long)pc.region_heartbeat_calls,
                (unsigned long long)pc.region_heartbeats_prompt,
                (unsigned long long)pc.hints, (unsigned long long)pc.steps,
                (unsigned long long)pc.splits_reported,
                (unsigned long long)pc.size_counts);
    }
    struct kvd_dl_counters dc;
    kvd_dl_counters(k, &dc);
    fprintf(f,
            "\"deadlock\":{\"detects\":%llu,\"deadlocks\":%llu,"
            "\"fallbacks\":%llu,\"calls\":%llu,\"skipped\":%llu,"
            "\"served\":%llu,\"host_deadlocks\":%llu,"
            "\"host_starts\":%llu,\"hosting\":%s,\"edges\":%llu},",
            (unsigned long long)dc.detects, (unsigned long long)dc.deadlocks,
            (unsigned long long)dc.fallbacks, (unsigned long long)dc.calls,
            (unsigned long long)dc.skipped, (unsigned long long)dc.served,
            (unsigned long long)dc.host_deadlocks,
            (unsigned long long)dc.host_starts,
            dc.hosting ? "true" : "false", (unsigned long long)dc.edges);
    /* kv.Forward requests served (loop thread, as this function) */
    const struct kvd_cmd_stats *fw = &k->cmds[REGION_METHOD_FORWARD & 0xffffu];
    fprintf(f, "\"forwarded\":%llu,\"forward_errors\":%llu,",
            (unsigned long long)fw->count, (unsigned long long)fw->errors);
    fputs("\"region_list\":[", f);
    for (size_t i = 0; i < n; i++) {
        uint64_t leader = 0;
        region_store_region(k->store, ds[i].id, NULL, &leader);
        fprintf(f, "%s{\"id\":%llu,\"conf_ver\":%llu,\"version\":%llu,"
                   "\"leader\":%llu}",
                i ? "," : "", (unsigned long long)ds[i].id,
                (unsigned long long)ds[i].conf_ver,
                (unsigned long long)ds[i].version,
                (unsigned long long)leader);
    }
    fprintf(f, "]}");
    free(ds);
    return 0;
}

static void status_handler(struct rpc_call *call, const void *reqp, void *ud)
{
    struct kvd *k = ud;
    (void)reqp;
    uint64_t t0 = kvd_now_us();
    char *json = NULL;
    size_t jlen = 0;
    FILE *f = open_memstream(&json, &jlen);
    int rc = f ? kvd_status_json(k, f) : -ENOMEM;
    if (f && fclose(f) != 0)
        rc = -ENOMEM;
    if (rc != 0) {
        free(json);
        kvd_observe(k, rpc_call_method(call), t0, rc);
        rpc_call_fail(call, -ENOMEM, "out of memory");
        return;
    }
    kv_StoreStatusResponse resp;
    memset(&resp, 0, sizeof resp);
    resp.json = json;
    kvd_observe(k, rpc_call_method(call), t0, 0);
    rpc_call_reply(call, &resp);
    free(json);
}

int kvd_service_register(struct kvd *k, struct rpc_server *srv)
{
    static const struct {
        uint32_t id;
        const char *name;
    } raw[] = {
        {REGION_METHOD_RAW_GET, "kv.RawGet"},
        {REGION_METHOD_RAW_BATCH_GET, "kv.RawBatchGet"},
        {REGION_METHOD_RAW_PUT, "kv.RawPut"},
        {REGION_METHOD_RAW_BATCH_PUT, "kv.RawBatchPut"},
        {REGION_METHOD_RAW_DELETE, "kv.RawDelete"},
        {REGION_METHOD_RAW_BATCH_DELETE, "kv.RawBatchDelete"},
        {REGION_METHOD_RAW_SCAN, "kv.RawScan"},
        {REGION_METHOD_RAW_DELETE_RANGE, "kv.RawDeleteRange"},
        {REGION_METHOD_RAW_CAS, "kv.RawCompareAndSwap"},
        {REGION_METHOD_RAW_GET_KEY_TTL, "kv.RawGetKeyTTL"},
    }, txn[] = {
        {REGION_METHOD_TXN_GET, "kv.KvGet"},
        {REGION_METHOD_TXN_BATCH_GET, "kv.KvBatchGet"},
        {REGION_METHOD_TXN_SCAN, "kv.KvScan"},
        {REGION_METHOD_TXN_PREWRITE, "kv.KvPrewrite"},
        {REGION_METHOD_TXN_COMMIT, "kv.KvCommit"},
        {REGION_METHOD_TXN_BATCH_ROLLBACK, "kv.KvBatchRollback"},
        {REGION_METHOD_TXN_CLEANUP, "kv.KvCleanup"},
        {REGION_METHOD_TXN_CHECK_TXN_STATUS, "kv.KvCheckTxnStatus"},
        {REGION_METHOD_TXN_RESOLVE_LOCK, "kv.KvResolveLock"},
        {REGION_METHOD_TXN_SCAN_LOCK, "kv.KvScanLock"},
        {REGION_METHOD_TXN_HEARTBEAT, "kv.KvTxnHeartBeat"},
        {REGION_METHOD_TXN_CHECK_SECONDARY_LOCKS, "kv.KvCheckSecondaryLocks"},
        {REGION_METHOD_TXN_PESSIMISTIC_LOCK, "kv.KvPessimisticLock"},
        {REGION_METHOD_TXN_PESSIMISTIC_ROLLBACK, "kv.KvPessimisticRollback"},
        {REGION_METHOD_TXN_DELETE_RANGE, "kv.KvDeleteRange"},
        {REGION_METHOD_TXN_COP, "kv.Coprocessor"},
    };
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof raw / sizeof raw[0]; i++) {
        struct rpc_method m = {raw[i].id, raw[i].name, kv_RawRequest_fields,
                               sizeof(kv_RawRequest), kv_RawResponse_fields,
                               raw_handler, k};
        rc = rpc_server_register(srv, &m);
    }
    if (rc == 0)
        rc = get_batch_new(k);
    if (rc == 0)
        rc = rpc_server_set_peek(srv, REGION_METHOD_RAW_GET, raw_get_peek);
    if (rc == 0)
        rc = rpc_server_set_peek(srv, REGION_METHOD_RAW_PUT, raw_put_peek);
    for (size_t i = 0; rc == 0 && i < sizeof txn / sizeof txn[0]; i++) {
        struct rpc_method m = {txn[i].id, txn[i].name, kv_TxnRequest_fields,
                               sizeof(kv_TxnRequest), kv_TxnResponse_fields,
                               txn_handler, k};
        rc = rpc_server_register(srv, &m);
    }
    if (rc == 0) {
        struct rpc_method m = {REGION_METHOD_RAFT, "kv.Raft",
                               kv_RaftBatch_fields, sizeof(kv_RaftBatch),
                               kv_RaftBatchResponse_fields, raft_handler, k};
        rc = rpc_server_register(srv, &m);
    }
    if (rc == 0) {
        struct rpc_method m = {REGION_METHOD_LOCATE, "kv.Locate",
                               kv_LocateRequest_fields,
                               sizeof(kv_LocateRequest),
                               kv_LocateResponse_fields, locate_handler, k};
        rc = rpc_server_register(srv, &m);
    }
    if (rc == 0) {
        struct rpc_method m = {REGION_METHOD_SPLIT_REGION, "kv.SplitRegion",
                               kv_RawRequest_fields, sizeof(kv_RawRequest),
                               kv_RawResponse_fields, split_handler, k};
        rc = rpc_server_register(srv, &m);
    }
    if (rc == 0) {
        struct rpc_method m = {REGION_METHOD_CHANGE_PEER, "kv.ChangePeer",
                               kv_ChangePeerRequest_fields,
                               sizeof(kv_ChangePeerRequest),
                               kv_RawResponse_fields, change_peer_handler, k};
        rc = rpc_server_register(srv, &m);
    }
    if (rc == 0) {
        struct rpc_method m = {REGION_METHOD_STORE_STATUS, "kv.StoreStatus",
                               kv_StoreStatusRequest_fields,
                               sizeof(kv_StoreStatusRequest),
                               kv_StoreStatusResponse_fields, status_handler,
                               k};
        rc = rpc_server_register(srv, &m);
    }
    if (rc == 0)
        rc = kvd_dl_register(k, srv);
    if (rc == 0)
        rc = kvd_forward_register(k, srv);
    /* A client with many calls on one connection (sqld's region client,
     * kvbench --conns) gets the replies of one applied Raft batch or one
     * finished job batch in one writev instead of a sendmsg each. */
    rpc_server_set_reply_batching(srv, true);
    return rc;
}

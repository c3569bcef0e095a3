/* ctl.c: `kvd ctl` (also installed as kvctl), the command-line client: raw get/put/delete/scan/CAS,
 * a transactional put and get, store status, and the sequence workloads
 * the integration tests use. It follows NotLeader to the named leader and
 * tries the next store on a connection failure, until --timeout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pb.h>

#include "cluster_tls.h"
#include "config.h"
#include "kv.pb.h"
#include "kvd.h"
#include "pd.pb.h"

/* A range request under way (scan, delete-range): each attempt cuts
 * [key, end) at the end of the region it located, since kvd refuses a
 * range past its region (libregion DESIGN.md "Range checks"). */
struct ctl_range {
    pb_bytes_array_t **field;  /* the request's end field, set per attempt */
    pb_bytes_array_t *asked;   /* the end asked for (NULL: unbounded) */
    pb_bytes_array_t *sent;    /* buffer: the end the attempt sent */
    bool last;                 /* what was sent reaches the end asked for */
};

struct ctl {
    struct kvd_peer peers[KVD_MAX_PEERS]; /* stores to try */
    int n;                                /* how many */
    int cur;                              /* the one tried first */
    uint64_t region;                      /* region id of requests */
    int timeout_s;                        /* give up a request after */
    bool quiet;                           /* no per-key lines */
    bool local;                           /* reads: local applied state */
    bool fixed_region;                    /* --region given: no routing */
    uint64_t ttl;                         /* --ttl: puts live this many
                                             seconds (0: for ever) */
    const char *ttls;                     /* --ttls: batch-put's TTL of
                                             each pair, "S,S,..." */
    struct region_cache *cache;           /* key -> region -> leader */
    struct ctl_range *rng;                /* a range request, or NULL */
    bool probe;                           /* region-scan: KeyNotInRegion
                                             is the answer, not retried */
};

static void usage(void)
{
    fprintf(stderr,
            "usage: kvctl (or kvd ctl)\n"
            "         [--peers=id@host:port,... | --addr=host:port]\n"
            "         [--pd=host:port,... (stores from pdd)]\n"
            "         [--region=ID] [--timeout=SECONDS] [--quiet]\n"
            "         [--local (reads: this store's applied state)]\n"
            "         [--ttl=SECONDS (put, put-seq, batch-put, cas: the keys "
            "expire)]\n"
            "         [--ttls=S,S,... (batch-put: each pair's TTL)]\n"
            "         [--cluster-ssl-ca=F --cluster-ssl-cert=F "
            "--cluster-ssl-key=F] CMD\n"
            "  put KEY VALUE | get KEY | delete KEY | scan START END [LIMIT]\n"
            "  ttl KEY   (seconds left, 'no ttl' or 'not found')\n"
            "  cas KEY EXPECT|- NEW|- | delete-range START END\n"
            "  batch-put KEY VALUE [KEY VALUE ...]   (one RawBatchPut: the\n"
            "    keys must lie in the first key's region)\n"
            "  txn-put KEY VALUE | txn-get KEY [RESOLVED_TS] | txn-lock KEY\n"
            "  txn-prewrite PRIMARY KEY VALUE TTL_MS   (left locked)\n"
            "  split KEY\n"
            "  region-scan raw|txn START END   (one Scan to the region\n"
            "    holding START, the range as given: kvd refuses one\n"
            "    outside the region; prints the pairs or the refusal)\n"
            "  status\n"
            "  add-peer KEY STORE | remove-peer KEY STORE |\n"
            "  transfer-leader KEY STORE   (the region holding KEY)\n"
            "  put-seq PREFIX FROM TO   (prints 'acked N' per key)\n"
            "  check-seq PREFIX FROM TO (prints 'missing N', exit 1 if any)\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static pb_bytes_array_t *mkbytes(const char *s)
{
    size_t n = strlen(s);
    pb_bytes_array_t *b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(n));
    if (b == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    b->size = (pb_size_t)n;
    memcpy(b->bytes, s, n);
    return b;
}

static int cmp_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int r = n ? memcmp(a, b, n) : 0;
    return r ? r : (al < bl ? -1 : al > bl);
}

static int peer_index(struct ctl *c, uint64_t id)
{
    for (int i = 0; i < c->n; i++)
        if (c->peers[i].id == id)
            return i;
    return -1;
}

/* Cut the range request's end at d's end (or keep the end asked for
 * when d reaches it). */
static void range_cut(struct ctl_range *r, const struct region_desc *d)
{
    const pb_bytes_array_t *a = r->asked;
    r->last = d->end_len == 0 ||
              (a && cmp_bytes(a->bytes, a->size, d->end, d->end_len) <= 0);
    if (r->last) {
        *r->field = r->asked;
        return;
    }
    r->sent->size = (pb_size_t)d->end_len;
    memcpy(r->sent->bytes, d->end, d->end_len);
    *r->field = r->sent;
}

/* Ask the stores, from the current one on, which region holds key. */
static int locate(struct ctl *c, const uint8_t *key, size_t len,
                  struct region_desc *d, uint64_t *leader, char *err,
                  size_t errlen)
{
    if (region_cache_lookup(c->cache, key, len, d, leader) == 0)
        return 0;
    for (int t = 0; t < c->n; t++) {
        struct kvd_peer *p = &c->peers[c->cur];
        struct rpc_client_options co = {.host = p->host,
                                        .port = p->port,
                                        .tls = dmn_cluster_tls_client(),
                                        .connect_timeout_ms = 1000};
        kv_LocateRequest req;
        memset(&req, 0, sizeof req);
        req.key = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(len));
        req.key->size = (pb_size_t)len;
        memcpy(req.key->bytes, key, len);
        kv_LocateResponse resp;
        memset(&resp, 0, sizeof resp);
        int rc = rpc_call_blocking(&co, REGION_METHOD_LOCATE,
                                   kv_LocateRequest_fields, &req,
                                   kv_LocateResponse_fields, &resp,
                                   sizeof resp, 3000, err, errlen);
        free(req.key);
        if (rc == 0 && resp.code == 0 && resp.has_region) {
            region_desc_from_pb(&resp.region, d);
            *leader = resp.leader;
            region_cache_update(c->cache, d, resp.leader);
            rpc_msg_release(kv_LocateResponse_fields, &resp);
            return 0;
        }
        if (rc == 0) {
            snprintf(err, errlen, "store %llu holds no region for the key",
                     (unsigned long long)p->id);
            rpc_msg_release(kv_LocateResponse_fields, &resp);
        }
        c->cur = (c->cur + 1) % c->n;
    }
    return -1;
}

/* One request routed by key with retries: the region cache names the
 * region and its leader; region errors fix the cache. ctx is the
 * request's context, rewritten per attempt. resp is released by the
 * caller. Returns 0 on an answer without region error, else -1 (message
 * printed). */
static int call(struct ctl *c, const uint8_t *key, size_t klen,
                uint32_t method, const pb_msgdesc_t *req_f, const void *req,
                kv_Context *ctx, const pb_msgdesc_t *resp_f, void *resp,
                size_t resp_size, bool raw)
{
    double deadline = now_s() + c->timeout_s;
    char err[256] = "";
    for (int attempt = 0;; attempt++) {
        struct region_desc d;
        uint64_t leader = 0;
        bool located = false;
        if (c->fixed_region) {
            memset(ctx, 0, sizeof *ctx);
            ctx->region_id = c->region;
        } else if (locate(c, key, klen, &d, &leader, err, sizeof err) == 0) {
            ctx->region_id = d.id;
            ctx->conf_ver = d.conf_ver;
            ctx->version = d.version;
            located = true;
            if (c->rng)
                range_cut(c->rng, &d);
            int li = peer_index(c, leader);
            if (li >= 0)
                c->cur = li;
        }
        int rc = -1;
        if (located || c->fixed_region) {
            struct kvd_peer *p = &c->peers[c->cur];
            struct rpc_client_options co = {.host = p->host,
                                            .port = p->port,
                                            .tls = dmn_cluster_tls_client(),
                                            .connect_timeout_ms = 1000};
            memset(resp, 0, resp_size);
            rc = rpc_call_blocking(&co, method, req_f, req, resp_f, resp,
                                   resp_size, 3000, err, sizeof err);
        }
        bool has_re = false;
        const kv_RegionError *re = NULL;
        if (rc == 0) {
            if (raw) {
                kv_RawResponse *r = resp;
                has_re = r->has_region_error;
                re = &r->region_error;
                if (has_re)
                    snprintf(err, sizeof err, "%s", r->error ? r->error : "");
            } else {
                kv_TxnResponse *r = resp;
                has_re = r->has_region_error;
                re = &r->region_error;
                if (has_re)
                    snprintf(err, sizeof err, "%s", r->error ? r->error : "");
            }
            if (!has_re ||
                (c->probe && re->code == REGION_EKEY_NOT_IN_REGION))
                return 0;
            struct region_err e;
            memset(&e, 0, sizeof e);
            e.code = re->code;
            e.leader = re->leader;
            if (re->has_region) {
                e.has_region = true;
                region_desc_from_pb(&re->region, &e.region);
            }
            region_cache_on_error(c->cache, ctx->region_id, &e);
            bool other = re->code == REGION_ENOT_FOUND ||
                         (re->code == REGION_ENOT_LEADER &&
                          peer_index(c, re->leader) < 0);
            if (re->code == REGION_ENOT_LEADER && peer_index(c, re->leader) >= 0)
                c->cur = peer_index(c, re->leader);
            rpc_msg_release(resp_f, resp);
            bool retriable = re->code == REGION_ENOT_LEADER ||
                             re->code == REGION_ESERVER_BUSY ||
                             re->code == REGION_ESTALE_COMMAND ||
                             (!c->fixed_region &&
                              (re->code == REGION_EEPOCH_NOT_MATCH ||
                               re->code == REGION_EKEY_NOT_IN_REGION ||
                               re->code == REGION_ENOT_FOUND));
            if (!retriable) { /* e.g. RaftEntryTooLarge: retrying is futile */
                fprintf(stderr, "error: %s\n", err);
                return -1;
            }
            if (other)
                c->cur = (c->cur + 1) % c->n;
        } else {
            /* unreachable store: forget what it told us, try the next */
            if (located)
                region_cache_invalidate(c->cache, ctx->region_id);
            c->cur = (c->cur + 1) % c->n;
        }
        if (now_s() > deadline) {
            fprintf(stderr, "error: gave up after %d s: %s\n", c->timeout_s,
                    err);
            return -1;
        }
        nap_ms(rc != 0 && attempt > 2 ? 200 : 20);
    }
}

static int raw_at(struct ctl *c, const uint8_t *key, size_t klen,
                  uint32_t method, kv_RawRequest *req, kv_RawResponse *resp)
{
    req->has_ctx = true;
    req->local = c->local;
    if (call(c, key, klen, method, kv_RawRequest_fields, req, &req->ctx,
             kv_RawResponse_fields, resp, sizeof *resp, true) != 0)
        return -1;
    if (resp->code != 0 && resp->code != MVCC_NOTFOUND) {
        fprintf(stderr, "error: %s\n", resp->error ? resp->error : "");
        rpc_msg_release(kv_RawResponse_fields, resp);
        return -1;
    }
    return 0;
}

static int raw(struct ctl *c, uint32_t method, kv_RawRequest *req,
               kv_RawResponse *resp)
{
    size_t kl = req->key ? req->key->size : 0;
    return raw_at(c, req->key ? req->key->bytes : (const uint8_t *)"", kl,
                  method, req, resp);
}

static int txn(struct ctl *c, const pb_bytes_array_t *key, uint32_t method,
               kv_TxnRequest *req, kv_TxnResponse *resp)
{
    req->has_ctx = true;
    if (call(c, key->bytes, key->size, method, kv_TxnRequest_fields, req,
             &req->ctx, kv_TxnResponse_fields, resp, sizeof *resp,
             false) != 0)
        return -1;
    return 0;
}

static int put(struct ctl *c, const char *k, const char *v)
{
    kv_RawRequest req;
    memset(&req, 0, sizeof req);
    kv_RawResponse resp;
    req.key = mkbytes(k);
    req.value.data = (uint8_t *)v;
    req.value.len = strlen(v);
    req.ttl = c->ttl;
    int rc = raw(c, REGION_METHOD_RAW_PUT, &req, &resp);
    free(req.key);
    if (rc == 0)
        rpc_msg_release(kv_RawResponse_fields, &resp);
    return rc;
}

/* 0 found (value printed into out), 1 not found, -1 error. */
static int get(struct ctl *c, const char *k, char *out, size_t cap)
{
    kv_RawRequest req;
    memset(&req, 0, sizeof req);
    kv_RawResponse resp;
    req.key = mkbytes(k);
    int rc = raw(c, REGION_METHOD_RAW_GET, &req, &resp);
    free(req.key);
    if (rc != 0)
        return -1;
    rc = resp.not_found ? 1 : 0;
    if (rc == 0)
        snprintf(out, cap, "%.*s", (int)resp.value.len,
                 resp.value.data ? (const char *)resp.value.data : "");
    rpc_msg_release(kv_RawResponse_fields, &resp);
    return rc;
}

static int cmd_seq(struct ctl *c, bool check, const char *prefix, long from,
                   long to)
{
    char k[256], v[256], got[512];
    int missing = 0;
    for (long i = from; i < to; i++) {
        snprintf(k, sizeof k, "%s%08ld", prefix, i);
        snprintf(v, sizeof v, "value-%ld", i);
        if (!check) {
            if (put(c, k, v) != 0) {
                fprintf(stderr, "put-seq stopped at %ld\n", i);
                return 1;
            }
            if (!c->quiet)
                printf("acked %ld\n", i);
            fflush(stdout);
            continue;
        }
        int rc = get(c, k, got, sizeof got);
        if (rc < 0)
            return 1;
        if (rc == 1 || strcmp(got, v) != 0) {
            printf("missing %ld\n", i);
            missing++;
        }
    }
    if (check)
        printf("checked %ld, missing %d\n", to - from, missing);
    return missing ? 1 : 0;
}

static uint64_t ts_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    return ms << 18;
}

static int cmd_txn_put(struct ctl *c, const char *k, const char *v)
{
    uint64_t start = ts_now();
    kv_Mutation mu = {MVCC_OP_PUT, mkbytes(k), mkbytes(v), false, 0};
    kv_TxnRequest req;
    memset(&req, 0, sizeof req);
    kv_TxnResponse resp;
    req.mutations = &mu;
    req.mutations_count = 1;
    req.primary = mu.key;
    req.version = start;
    req.lock_ttl = 3000;
    req.txn_size = 1;
    int rc = txn(c, mu.key, REGION_METHOD_TXN_PREWRITE, &req, &resp);
    if (rc == 0 && resp.code != 0) {
        fprintf(stderr, "prewrite: %s\n", resp.error ? resp.error : "");
        rc = -1;
    }
    if (rc == 0)
        rpc_msg_release(kv_TxnResponse_fields, &resp);
    if (rc == 0) {
        memset(&req, 0, sizeof req);
        pb_bytes_array_t *keys[1] = {mu.key};
        req.keys = keys;
        req.keys_count = 1;
        req.version = start;
        req.commit_version = ts_now() + 1;
        rc = txn(c, mu.key, REGION_METHOD_TXN_COMMIT, &req, &resp);
        if (rc == 0 && resp.code != 0) {
            fprintf(stderr, "commit: %s\n", resp.error ? resp.error : "");
            rc = -1;
        }
        if (rc == 0) {
            rpc_msg_release(kv_TxnResponse_fields, &resp);
            printf("committed at %" PRIu64 "\n", (uint64_t)req.commit_version);
        }
    }
    free(mu.key);
    free(mu.value);
    return rc == 0 ? 0 : 1;
}

/* Take a pessimistic lock on k (no wait), show that a second transaction
 * is refused, then roll the lock back. */
static int cmd_txn_lock(struct ctl *c, const char *k)
{
    uint64_t start = ts_now();
    kv_TxnRequest req;
    memset(&req, 0, sizeof req);
    kv_TxnResponse resp;
    pb_bytes_array_t *key = mkbytes(k);
    pb_bytes_array_t *keys[1] = {key};
    req.keys = keys;
    req.keys_count = 1;
    req.primary = key;
    req.version = start;
    req.for_update_ts = start;
    req.lock_ttl = 3000;
    int rc = txn(c, key, REGION_METHOD_TXN_PESSIMISTIC_LOCK, &req, &resp);
    if (rc == 0) {
        printf("lock: %s\n", resp.code == 0 ? "ok" : resp.error);
        rc = resp.code == 0 ? 0 : -1;
        rpc_msg_release(kv_TxnResponse_fields, &resp);
    }
    if (rc == 0) { /* another transaction meets it */
        req.version = req.for_update_ts = ts_now() + 1;
        rc = txn(c, key, REGION_METHOD_TXN_PESSIMISTIC_LOCK, &req, &resp);
        if (rc == 0) {
            printf("second lock: %s\n",
                   resp.code == MVCC_LOCKED ? "locked" : "not locked");
            rpc_msg_release(kv_TxnResponse_fields, &resp);
        }
        req.version = req.for_update_ts = start;
    }
    if (rc == 0) {
        rc = txn(c, key, REGION_METHOD_TXN_PESSIMISTIC_ROLLBACK, &req, &resp);
        if (rc == 0) {
            printf("rollback: %s\n", resp.code == 0 ? "ok" : resp.error);
            rpc_msg_release(kv_TxnResponse_fields, &resp);
        }
    }
    free(key);
    return rc == 0 ? 0 : 1;
}

/* Prewrite key (value v) with primary pk (also prewritten when another
 * key), left locked for ttl_ms: a writer that stops before its commit. */
static int cmd_txn_prewrite(struct ctl *c, const char *pk, const char *k,
                            const char *v, uint64_t ttl_ms)
{
    uint64_t start = ts_now();
    kv_Mutation mu[2] = {{MVCC_OP_PUT, mkbytes(k), mkbytes(v), false, 0},
                         {MVCC_OP_PUT, mkbytes(pk), mkbytes("p"), false, 0}};
    kv_TxnRequest req;
    memset(&req, 0, sizeof req);
    kv_TxnResponse resp;
    req.mutations = mu;
    req.mutations_count = strcmp(pk, k) ? 2 : 1;
    req.primary = mu[1].key;
    req.version = start;
    req.lock_ttl = ttl_ms;
    req.txn_size = req.mutations_count;
    int rc = txn(c, mu[0].key, REGION_METHOD_TXN_PREWRITE, &req, &resp);
    if (rc == 0 && resp.code != 0) {
        fprintf(stderr, "prewrite: %s\n", resp.error ? resp.error : "");
        rc = -1;
    }
    if (rc == 0) {
        rpc_msg_release(kv_TxnResponse_fields, &resp);
        printf("prewritten at %" PRIu64 "\n", start);
    }
    for (int i = 0; i < 2; i++) {
        free(mu[i].key);
        free(mu[i].value);
    }
    return rc == 0 ? 0 : 1;
}

/* resolved: a start_ts whose locks the read skips (0: none). */
static int cmd_txn_get(struct ctl *c, const char *k, uint64_t resolved)
{
    kv_TxnRequest req;
    memset(&req, 0, sizeof req);
    kv_TxnResponse resp;
    req.key = mkbytes(k);
    req.version = ts_now() + 10;
    if (resolved) {
        req.resolved_locks = &resolved;
        req.resolved_locks_count = 1;
    }
    int rc = txn(c, req.key, REGION_METHOD_TXN_GET, &req, &resp);
    free(req.key);
    if (rc != 0)
        return 1;
    if (resp.code == MVCC_NOTFOUND) {
        printf("not found\n");
    } else if (resp.code != 0) {
        fprintf(stderr, "error: %s\n", resp.error ? resp.error : "");
        rc = 1;
    } else if (resp.pairs_count == 1 && resp.pairs[0].value_spill) {
        /* over 65,535 bytes: the value is the reply's spill */
        fwrite(resp.spill.data, 1, resp.spill.len, stdout);
        putchar('\n');
    } else if (resp.pairs_count == 1 && resp.pairs[0].value) {
        printf("%.*s\n", (int)resp.pairs[0].value->size,
               (const char *)resp.pairs[0].value->bytes);
    }
    rpc_msg_release(kv_TxnResponse_fields, &resp);
    return rc;
}

/* Sets up r for a range request ending at e ("": unbounded) whose end
 * field is *field; 0, or 1 (out of memory, printed). */
static int range_init(struct ctl *c, struct ctl_range *r,
                      pb_bytes_array_t **field, const char *e)
{
    size_t el = strlen(e);
    size_t cap = el > REGION_MAX_BOUND ? el : REGION_MAX_BOUND;
    memset(r, 0, sizeof *r);
    r->field = field;
    r->asked = el ? mkbytes(e) : NULL;
    r->sent = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(cap));
    if (r->sent == NULL) {
        fprintf(stderr, "out of memory\n");
        free(r->asked);
        return 1;
    }
    *field = r->asked; /* --region: sent as given */
    c->rng = r;
    return 0;
}

static void range_free(struct ctl *c, struct ctl_range *r)
{
    c->rng = NULL;
    free(r->asked);
    free(r->sent);
}

/* Where the next request of a range goes on from (the end the last one
 * sent); false when the range is done. */
static bool range_next(const struct ctl *c, const struct ctl_range *r,
                       uint8_t *cur, size_t *cl)
{
    if (c->fixed_region || r->last || r->sent->size > REGION_MAX_BOUND)
        return false;
    memcpy(cur, r->sent->bytes, r->sent->size);
    *cl = r->sent->size;
    return true;
}

/* "key=value" lines (a value in a Txn reply's spill prints empty). */
static void print_pairs(const kv_KvPair *p, pb_size_t n)
{
    for (pb_size_t i = 0; i < n; i++)
        printf("%.*s=%.*s\n", p[i].key ? (int)p[i].key->size : 0,
               p[i].key ? (const char *)p[i].key->bytes : "",
               p[i].value ? (int)p[i].value->size : 0,
               p[i].value ? (const char *)p[i].value->bytes : "");
}

/* Pairs asked of one Scan when the user gave no smaller limit: a reply
 * holds at most 65,535, so a region with more is read in pages. */
#define CTL_SCAN_PAGE 10000u

/* Scan (method RAW_SCAN) or delete (RAW_DELETE_RANGE) [s, e) region by
 * region, each request cut at the end of the region it goes to; a scan
 * reads a region in pages of CTL_SCAN_PAGE, each going on just past the
 * last key of the one before. */
static int cmd_range(struct ctl *c, uint32_t method, const char *s,
                     const char *e, long limit)
{
    size_t cl = strlen(s), cap = cl > REGION_MAX_BOUND ? cl : REGION_MAX_BOUND;
    uint8_t *cur = malloc(cap);
    if (cur == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    memcpy(cur, s, cl);
    kv_RawRequest req;
    memset(&req, 0, sizeof req);
    struct ctl_range r;
    if (range_init(c, &r, &req.end, e) != 0) {
        free(cur);
        return 1;
    }
    bool scan = method == REGION_METHOD_RAW_SCAN;
    long printed = 0;
    int rc = 0;
    for (;;) {
        kv_RawResponse resp;
        req.key = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(cl));
        if (req.key == NULL) {
            rc = 1;
            break;
        }
        req.key->size = (pb_size_t)cl;
        memcpy(req.key->bytes, cur, cl);
        uint32_t page = 0;
        if (scan) {
            page = CTL_SCAN_PAGE;
            if (limit && (unsigned long)(limit - printed) < page)
                page = (uint32_t)(limit - printed);
        }
        req.limit = page;
        rc = raw(c, method, &req, &resp) != 0;
        free(req.key);
        req.key = NULL;
        if (rc != 0)
            break;
        print_pairs(resp.pairs, resp.pairs_count);
        printed += (long)resp.pairs_count;
        bool more = scan && resp.pairs_count == page && page > 0 &&
                    resp.pairs[page - 1].key != NULL;
        if (more) {
            /* a full page: the region may hold more past its last key */
            const pb_bytes_array_t *lk = resp.pairs[page - 1].key;
            if ((size_t)lk->size + 1 > cap) {
                uint8_t *n = realloc(cur, (size_t)lk->size + 1);
                if (n == NULL) {
                    fprintf(stderr, "out of memory\n");
                    rpc_msg_release(kv_RawResponse_fields, &resp);
                    rc = 1;
                    break;
                }
                cur = n;
                cap = (size_t)lk->size + 1;
            }
            memcpy(cur, lk->bytes, lk->size);
            cur[lk->size] = 0;
            cl = (size_t)lk->size + 1;
        }
        rpc_msg_release(kv_RawResponse_fields, &resp);
        if ((limit && printed >= limit) ||
            (!more && !range_next(c, &r, cur, &cl)))
            break;
    }
    range_free(c, &r);
    free(cur);
    if (rc == 0 && method == REGION_METHOD_RAW_DELETE_RANGE)
        printf("ok\n");
    return rc;
}

static void print_region_error(const kv_RegionError *re)
{
    const kv_RegionInfo *ri = &re->region;
    printf("refused: %s (%d)", region_strerror(re->code), (int)re->code);
    if (re->has_region)
        printf("; region %llu [%.*s, %.*s) epoch (%llu, %llu)",
               (unsigned long long)ri->id, ri->start ? (int)ri->start->size : 0,
               ri->start ? (const char *)ri->start->bytes : "",
               ri->end ? (int)ri->end->size : 0,
               ri->end ? (const char *)ri->end->bytes : "",
               (unsigned long long)ri->conf_ver,
               (unsigned long long)ri->version);
    printf("\n");
}

/* One Scan (Raw, or Txn at the current time) of [s, e) as given to the
 * region holding s, with its epoch: kvd refuses a range outside the
 * region with KeyNotInRegion, printed with the region it names. */
static int cmd_region_scan(struct ctl *c, bool txn_scan, const char *s,
                           const char *e)
{
    int rc;
    c->probe = true;
    if (!txn_scan) {
        kv_RawRequest req;
        memset(&req, 0, sizeof req);
        kv_RawResponse resp;
        req.has_ctx = true;
        req.key = mkbytes(s);
        req.end = *e ? mkbytes(e) : NULL;
        rc = call(c, req.key->bytes, req.key->size, REGION_METHOD_RAW_SCAN,
                  kv_RawRequest_fields, &req, &req.ctx, kv_RawResponse_fields,
                  &resp, sizeof resp, true);
        free(req.key);
        free(req.end);
        if (rc != 0)
            return 1;
        if (resp.has_region_error)
            print_region_error(&resp.region_error);
        print_pairs(resp.pairs, resp.pairs_count);
        rc = resp.code != 0;
        rpc_msg_release(kv_RawResponse_fields, &resp);
        return rc;
    }
    kv_TxnRequest req;
    memset(&req, 0, sizeof req);
    kv_TxnResponse resp;
    req.has_ctx = true;
    req.start = mkbytes(s);
    req.end = *e ? mkbytes(e) : NULL;
    req.version = ts_now() + 10;
    rc = call(c, req.start->bytes, req.start->size, REGION_METHOD_TXN_SCAN,
              kv_TxnRequest_fields, &req, &req.ctx, kv_TxnResponse_fields,
              &resp, sizeof resp, false);
    free(req.start);
    free(req.end);
    if (rc != 0)
        return 1;
    if (resp.has_region_error)
        print_region_error(&resp.region_error);
    else if (resp.code != 0)
        printf("error: %s\n", resp.error ? resp.error : "");
    print_pairs(resp.pairs, resp.pairs_count);
    rc = resp.code != 0;
    rpc_msg_release(kv_TxnResponse_fields, &resp);
    return rc;
}

/* A Raw method taking only key: 0 with *resp filled (release it), or -1
 * with the error printed. */
static int raw_key(struct ctl *c, uint32_t method, const char *key,
                   kv_RawResponse *resp)
{
    kv_RawRequest req;
    memset(&req, 0, sizeof req);
    req.key = mkbytes(key);
    int rc = raw(c, method, &req, resp);
    free(req.key);
    return rc;
}

static int cmd_split(struct ctl *c, const char *key)
{
    kv_RawResponse resp;
    if (raw_key(c, REGION_METHOD_SPLIT_REGION, key, &resp) != 0)
        return 1;
    rpc_msg_release(kv_RawResponse_fields, &resp);
    printf("ok\n");
    return 0;
}

/* The remaining TTL of key k: seconds, "no ttl" or "not found". */
static int cmd_ttl(struct ctl *c, const char *k)
{
    kv_RawResponse resp;
    if (raw_key(c, REGION_METHOD_RAW_GET_KEY_TTL, k, &resp) != 0)
        return 1;
    if (resp.not_found)
        printf("not found\n");
    else if (resp.ttl == 0)
        printf("no ttl\n");
    else
        printf("%llu\n", (unsigned long long)resp.ttl);
    rpc_msg_release(kv_RawResponse_fields, &resp);
    return 0;
}

static int cmd_simple(struct ctl *c, uint32_t method, const char *a)
{
    kv_RawRequest req;
    memset(&req, 0, sizeof req);
    kv_RawResponse resp;
    req.key = mkbytes(a);
    int rc = raw(c, method, &req, &resp);
    free(req.key);
    if (rc != 0)
        return 1;
    rpc_msg_release(kv_RawResponse_fields, &resp);
    printf("ok\n");
    return 0;
}

/* One RawBatchPut of the n pairs kv[0..2n), routed by the first key;
 * c->ttl for every pair, or c->ttls ("S,S,...") one per pair, sent as
 * given (kvd checks the count). */
static int cmd_batch_put(struct ctl *c, char **kv, int n)
{
    kv_RawRequest req;
    memset(&req, 0, sizeof req);
    kv_RawResponse resp;
    size_t cap = 1; /* one TTL per comma-separated field */
    for (const char *p = c->ttls; p && *p; p++)
        cap += *p == ',';
    kv_KvPair *pairs = calloc((size_t)n, sizeof *pairs);
    uint64_t *ttls = calloc(cap, sizeof *ttls);
    int rc = pairs && ttls ? 0 : 1;
    for (int i = 0; rc == 0 && i < n; i++) {
        pairs[i].key = mkbytes(kv[2 * i]);
        pairs[i].value = mkbytes(kv[2 * i + 1]);
    }
    pb_size_t nt = 0;
    for (const char *p = c->ttls; rc == 0 && p && *p;) {
        char *end = NULL;
        ttls[nt++] = strtoull(p, &end, 10);
        if (end == p || (*end != ',' && *end != 0)) {
            fprintf(stderr, "bad --ttls: %s\n", c->ttls);
            rc = 2;
            break;
        }
        p = *end ? end + 1 : end;
    }
    if (rc == 0) {
        req.pairs = pairs;
        req.pairs_count = (pb_size_t)n;
        req.ttl = c->ttl;
        req.ttls = nt ? ttls : NULL;
        req.ttls_count = nt;
        const pb_bytes_array_t *k0 = pairs[0].key;
        rc = raw_at(c, k0->bytes, k0->size, REGION_METHOD_RAW_BATCH_PUT, &req,
                    &resp) == 0
                 ? 0
                 : 1;
    }
    if (rc == 0) {
        rpc_msg_release(kv_RawResponse_fields, &resp);
        printf("ok\n");
    }
    for (int i = 0; pairs && i < n; i++) {
        free(pairs[i].key);
        free(pairs[i].value);
    }
    free(pairs);
    free(ttls);
    return rc;
}

static int cmd_cas(struct ctl *c, const char *k, const char *expect,
                   const char *nv)
{
    kv_RawRequest req;
    memset(&req, 0, sizeof req);
    kv_RawResponse resp;
    req.key = mkbytes(k);
    req.previous_not_exist = strcmp(expect, "-") == 0;
    if (!req.previous_not_exist)
        req.previous_value = mkbytes(expect);
    req.delete = strcmp(nv, "-") == 0;
    /* the new value's TTL (kvd: once every store runs libregion 0.33.0) */
    req.ttl = c->ttl;
    if (!req.delete) {
        req.value.data = (uint8_t *)nv;
        req.value.len = strlen(nv);
    }
    int rc = raw(c, REGION_METHOD_RAW_CAS, &req, &resp);
    free(req.key);
    free(req.previous_value);
    if (rc != 0)
        return 1;
    const pb_bytes_array_t *pv = resp.previous_value;
    printf("%s previous=%s%.*s\n", resp.succeed ? "swapped" : "unchanged",
           resp.previous_not_exist ? "(none)" : "",
           pv ? (int)pv->size : 0, pv ? (const char *)pv->bytes : "");
    rpc_msg_release(kv_RawResponse_fields, &resp);
    return 0;
}

/* Membership/leadership of the region holding key: sent to its leader
 * (found through Locate and NotLeader). */
static int cmd_change(struct ctl *c, uint32_t op, const char *key,
                      uint64_t store)
{
    double deadline = now_s() + c->timeout_s;
    char err[256] = "";
    size_t kl = strlen(key);
    for (;;) {
        struct region_desc d;
        uint64_t leader = 0;
        if (locate(c, (const uint8_t *)key, kl, &d, &leader, err,
                   sizeof err) == 0) {
            int li = peer_index(c, leader);
            if (li >= 0)
                c->cur = li;
            kv_ChangePeerRequest req;
            memset(&req, 0, sizeof req);
            req.has_ctx = true;
            req.ctx.region_id = d.id;
            req.op = op;
            req.store_id = store;
            kv_RawResponse resp;
            memset(&resp, 0, sizeof resp);
            struct kvd_peer *p = &c->peers[c->cur];
            struct rpc_client_options co = {.host = p->host, .port = p->port,
                                        .tls = dmn_cluster_tls_client()};
            int rc = rpc_call_blocking(&co, REGION_METHOD_CHANGE_PEER,
                                       kv_ChangePeerRequest_fields, &req,
                                       kv_RawResponse_fields, &resp,
                                       sizeof resp, 5000, err, sizeof err);
            if (rc == 0 && resp.code == 0) {
                rpc_msg_release(kv_RawResponse_fields, &resp);
                printf("ok\n");
                return 0;
            }
            if (rc == 0) {
                snprintf(err, sizeof err, "%s", resp.error ? resp.error : "");
                bool retry = resp.code == REGION_ENOT_LEADER ||
                             resp.code == REGION_ESERVER_BUSY ||
                             resp.code == REGION_ESTALE_COMMAND;
                if (resp.has_region_error && resp.region_error.leader &&
                    peer_index(c, resp.region_error.leader) >= 0)
                    c->cur = peer_index(c, resp.region_error.leader);
                else if (resp.code == REGION_ENOT_LEADER)
                    c->cur = (c->cur + 1) % c->n;
                region_cache_invalidate(c->cache, d.id);
                rpc_msg_release(kv_RawResponse_fields, &resp);
                if (!retry) {
                    fprintf(stderr, "error: %s\n", err);
                    return 1;
                }
            } else {
                c->cur = (c->cur + 1) % c->n;
            }
        }
        if (now_s() > deadline) {
            fprintf(stderr, "error: gave up: %s\n", err);
            return 1;
        }
        nap_ms(100);
    }
}

static int cmd_status(struct ctl *c)
{
    kv_StoreStatusRequest req = kv_StoreStatusRequest_init_zero;
    kv_StoreStatusResponse resp;
    memset(&resp, 0, sizeof resp);
    struct kvd_peer *p = &c->peers[c->cur];
    struct rpc_client_options co = {.host = p->host, .port = p->port,
                                        .tls = dmn_cluster_tls_client()};
    char err[256] = "";
    int rc = rpc_call_blocking(&co, REGION_METHOD_STORE_STATUS,
                               kv_StoreStatusRequest_fields, &req,
                               kv_StoreStatusResponse_fields, &resp,
                               sizeof resp, 3000, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    printf("%s\n", resp.json ? resp.json : "");
    rpc_msg_release(kv_StoreStatusResponse_fields, &resp);
    return 0;
}

static int add_peer(struct ctl *c, uint64_t id, const char *addr)
{
    if (c->n == KVD_MAX_PEERS)
        return -1;
    struct kvd_peer *p = &c->peers[c->n];
    if (dmn_cfg_split_addr(addr, p->host, sizeof p->host, &p->port) != 0)
        return -1;
    p->id = id;
    c->n++;
    return 0;
}

static int parse_peer_list(struct ctl *c, const char *list)
{
    char *dup = strdup(list), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(dup, ",", &save); t && rc == 0;
         t = strtok_r(NULL, ",", &save)) {
        char *end = NULL;
        unsigned long long id = strtoull(t, &end, 10);
        rc = (id == 0 || *end != '@') ? -1 : add_peer(c, id, end + 1);
    }
    free(dup);
    return rc;
}

/* --pd: every store pdd knows (tombstones left out) joins the list, after
 * those named by --peers/--addr. 0, or 1 with the reason printed. */
static int peers_from_pd(struct ctl *c, const char *list)
{
    char *dup = strdup(list), *save = NULL;
    const char *eps[16];
    size_t n = 0;
    int rc = 1;
    if (dup == NULL)
        return 1;
    for (char *t = strtok_r(dup, ",", &save); t && n < 16;
         t = strtok_r(NULL, ",", &save))
        eps[n++] = t;
    char err[256] = "";
    struct pd_client *cli = NULL;
    struct pd_client_options o = {.endpoints = eps,
                                  .n_endpoints = n,
                                  .timeout_ms = c->timeout_s * 1000,
                                  .tls = dmn_cluster_tls_client()};
    if (pd_client_create(&o, &cli, err, sizeof err) != 0) {
        fprintf(stderr, "error: pd: %s\n", err);
        goto out;
    }
    pd_GetAllStoresRequest req = {.cluster_id = pd_client_cluster_id(cli),
                                  .exclude_tombstone = true};
    pd_GetAllStoresResponse resp;
    if (pd_client_call(cli, PD_METHOD_GET_ALL_STORES,
                       pd_GetAllStoresRequest_fields, &req,
                       pd_GetAllStoresResponse_fields, &resp, sizeof resp, err,
                       sizeof err) != 0) {
        fprintf(stderr, "error: pd: %s\n", err);
        goto out;
    }
    rc = 0;
    for (pb_size_t i = 0; i < resp.stores_count; i++) {
        const pd_Store *st = &resp.stores[i].store;
        bool known = false;
        for (int j = 0; j < c->n; j++)
            known |= c->peers[j].id == st->id;
        if (!known && st->address && add_peer(c, st->id, st->address) != 0) {
            fprintf(stderr, "error: pd: store %llu at '%s' not usable\n",
                    (unsigned long long)st->id, st->address);
            rc = 1;
            break;
        }
    }
    pd_client_release(pd_GetAllStoresResponse_fields, &resp);
out:
    pd_client_destroy(cli);
    free(dup);
    return rc;
}

static int ctl_run(struct ctl *c, int i, int argc, char **argv);

int kvd_ctl_main(int argc, char **argv)
{
    struct ctl c;
    memset(&c, 0, sizeof c);
    c.region = 1;
    c.timeout_s = 30;
    const char *pd_list = NULL;
    struct dmn_cluster_tls tls;
    memset(&tls, 0, sizeof tls);
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *a = argv[i];
        if (dmn_cluster_tls_flag(&tls, argv[i])) {
            continue;
        } else if (strncmp(a, "--peers=", 8) == 0) {
            if (parse_peer_list(&c, a + 8) != 0) {
                fprintf(stderr, "bad --peers: %s\n", a + 8);
                return 2;
            }
        } else if (strncmp(a, "--addr=", 7) == 0) {
            if (add_peer(&c, 0, a + 7) != 0) {
                fprintf(stderr, "bad --addr: %s\n", a + 7);
                return 2;
            }
        } else if (strncmp(a, "--pd=", 5) == 0) {
            pd_list = a + 5;
        } else if (strncmp(a, "--region=", 9) == 0) {
            c.region = strtoull(a + 9, NULL, 10);
            c.fixed_region = true;
        } else if (strncmp(a, "--timeout=", 10) == 0) {
            c.timeout_s = atoi(a + 10);
        } else if (strncmp(a, "--ttl=", 6) == 0) {
            char *end = NULL;
            c.ttl = strtoull(a + 6, &end, 10);
            if (end == a + 6 || *end != 0) {
                fprintf(stderr, "bad --ttl: %s\n", a + 6);
                return 2;
            }
        } else if (strncmp(a, "--ttls=", 7) == 0) {
            c.ttls = a + 7;
        } else if (strcmp(a, "--local") == 0) {
            c.local = true;
        } else if (strcmp(a, "--quiet") == 0) {
            c.quiet = true;
        } else {
            usage();
            return 2;
        }
    }
    char tls_err[512];
    if (dmn_cluster_tls_init(&tls, tls_err, sizeof tls_err) != 0) {
        fprintf(stderr, "error: %s\n", tls_err);
        return 2;
    }
    if (pd_list && i < argc && peers_from_pd(&c, pd_list) != 0)
        return 1;
    if (c.n == 0 || i >= argc) {
        usage();
        return 2;
    }
    if (region_cache_create(&c.cache) != 0)
        return 1;
    int rc = ctl_run(&c, i, argc, argv);
    region_cache_destroy(c.cache);
    dmn_cluster_tls_free();
    return rc;
}

/* The command at argv[i] with its arguments. */
static int ctl_run(struct ctl *c, int i, int argc, char **argv)
{
    const char *cmd = argv[i];
    char **a = argv + i + 1;
    int na = argc - i - 1;
    char buf[65536];
    if (strcmp(cmd, "put") == 0 && na == 2)
        return put(c, a[0], a[1]) == 0 ? (printf("ok\n"), 0) : 1;
    if (strcmp(cmd, "get") == 0 && na == 1) {
        int rc = get(c, a[0], buf, sizeof buf);
        if (rc == 0)
            printf("%s\n", buf);
        else if (rc == 1)
            printf("not found\n");
        return rc < 0;
    }
    if (strcmp(cmd, "ttl") == 0 && na == 1)
        return cmd_ttl(c, a[0]);
    if (strcmp(cmd, "delete") == 0 && na == 1)
        return cmd_simple(c, REGION_METHOD_RAW_DELETE, a[0]);
    if (strcmp(cmd, "delete-range") == 0 && na == 2)
        return cmd_range(c, REGION_METHOD_RAW_DELETE_RANGE, a[0], a[1], 0);
    if (strcmp(cmd, "scan") == 0 && (na == 2 || na == 3))
        return cmd_range(c, REGION_METHOD_RAW_SCAN, a[0], a[1],
                         na == 3 ? atol(a[2]) : 0);
    if (strcmp(cmd, "region-scan") == 0 && na == 3 &&
        (strcmp(a[0], "raw") == 0 || strcmp(a[0], "txn") == 0))
        return cmd_region_scan(c, a[0][0] == 't', a[1], a[2]);
    if (strcmp(cmd, "cas") == 0 && na == 3)
        return cmd_cas(c, a[0], a[1], a[2]);
    if (strcmp(cmd, "batch-put") == 0 && na >= 2 && na % 2 == 0)
        return cmd_batch_put(c, a, na / 2);
    if (strcmp(cmd, "txn-put") == 0 && na == 2)
        return cmd_txn_put(c, a[0], a[1]);
    if (strcmp(cmd, "txn-lock") == 0 && na == 1)
        return cmd_txn_lock(c, a[0]);
    if (strcmp(cmd, "txn-get") == 0 && (na == 1 || na == 2))
        return cmd_txn_get(c, a[0], na == 2 ? strtoull(a[1], NULL, 10) : 0);
    if (strcmp(cmd, "txn-prewrite") == 0 && na == 4)
        return cmd_txn_prewrite(c, a[0], a[1], a[2],
                                strtoull(a[3], NULL, 10));
    if (strcmp(cmd, "add-peer") == 0 && na == 2)
        return cmd_change(c, 1, a[0], strtoull(a[1], NULL, 10));
    if (strcmp(cmd, "remove-peer") == 0 && na == 2)
        return cmd_change(c, 2, a[0], strtoull(a[1], NULL, 10));
    if (strcmp(cmd, "transfer-leader") == 0 && na == 2)
        return cmd_change(c, 3, a[0], strtoull(a[1], NULL, 10));
    if (strcmp(cmd, "split") == 0 && na == 1)
        return cmd_split(c, a[0]);
    if (strcmp(cmd, "status") == 0 && na == 0)
        return cmd_status(c);
    if ((strcmp(cmd, "put-seq") == 0 || strcmp(cmd, "check-seq") == 0) &&
        na == 3)
        return cmd_seq(c, cmd[0] == 'c', a[0], atol(a[1]), atol(a[2]));
    usage();
    return 2;
}

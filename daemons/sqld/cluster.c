/* cluster.c: sqld's --store=cluster glue. A pd_client gives timestamps
 * (the 2PC client's TSO) and is the region router (regions by key, store
 * addresses, invalidation when kvd says a region moved); libregion's
 * cluster transport carries libmvcc's commands to kvd. libsql stores
 * through the 2PC client configured here (libregion/DESIGN.md, "Cluster
 * transport").
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pd.h>
#include <region.h>
#include <sql.h>

#include "cluster_tls.h"
#include "log.h"
#include "sqld.h"

struct sqld_cluster
{
    struct pd_client *pd;          /* TSO, regions, stores */
    struct region_client *rc;      /* the transport's connections */
    pthread_mutex_t err_mu;        /* guards last_err: statement workers
                                      fail to route at once */
    char last_err[256];            /* last router failure (logged once) */
    struct sql_cluster_info info;  /* PD's view for libsql (clusterinfo.c) */
    char gc_service[160];          /* GC: this sqld's service safe point */
    uint64_t gc_ttl_ms;            /* ... held this long past a round */
};

/* PD's region (with copies of its keys) to libregion's; the leader's
 * store from its leader peer. -E2BIG for boundaries libregion cannot
 * hold. */
static int desc_of(const struct pd_client_region *r, struct region_desc *d,
                   uint64_t *leader)
{
    const struct pd_region *pr = &r->info.region;
    memset(d, 0, sizeof(*d));
    if (pr->start_len > REGION_MAX_BOUND || pr->end_len > REGION_MAX_BOUND)
        return -E2BIG;
    d->id = pr->id;
    d->conf_ver = pr->conf_ver;
    d->version = pr->version;
    d->start_len = (uint32_t)pr->start_len;
    if (pr->start_len)
        memcpy(d->start, pr->start_key, pr->start_len);
    d->end_len = (uint32_t)pr->end_len;
    if (pr->end_len)
        memcpy(d->end, pr->end_key, pr->end_len);
    *leader = 0;
    for (uint32_t i = 0; i < pr->n_peers && d->n_stores < REGION_MAX_PEERS;
         i++) {
        if (pr->peers[i].learner)
            continue;
        d->stores[d->n_stores++] = pr->peers[i].store_id;
        if (pr->peers[i].id == r->info.leader_peer_id)
            *leader = pr->peers[i].store_id;
    }
    return 0;
}

static void router_failed(struct sqld_cluster *c, const char *what,
                          const char *err)
{
    /* a dead kvd makes this repeat for a while: log changes only */
    pthread_mutex_lock(&c->err_mu);
    bool changed = strcmp(c->last_err, err) != 0;
    if (changed)
        snprintf(c->last_err, sizeof(c->last_err), "%s", err);
    pthread_mutex_unlock(&c->err_mu);
    if (changed)
        dmn_warn("pd: %s: %s", what, err);
}

static int r_region_by_key(void *ctx, const void *key, size_t len,
                           struct region_desc *out, uint64_t *leader)
{
    struct sqld_cluster *c = ctx;
    struct pd_client_region r;
    char err[256] = "";
    int rc = pd_client_region_by_key(c->pd, key, len, &r, err, sizeof(err));
    if (rc != 0) {
        router_failed(c, "region by key", err[0] ? err : pd_strerror(rc));
        return rc;
    }
    return desc_of(&r, out, leader);
}

/* The region holding the keys just below key: PD's regions from the
 * first key up to key, the last of them. */
static int r_region_before(void *ctx, const void *key, size_t len,
                           struct region_desc *out, uint64_t *leader)
{
    struct sqld_cluster *c = ctx;
    enum { CAP = 16 }; /* a pd_client_region is 8 KiB */
    if (key && len == 0)
        return MVCC_REGION_NOT_FOUND; /* nothing is below the first key */
    struct pd_client_region *rs = malloc(CAP * sizeof(*rs));
    if (!rs)
        return -ENOMEM;
    uint8_t from[PD_MAX_KEY];
    size_t from_len = 0;
    int rc = MVCC_REGION_NOT_FOUND;
    for (;;) {
        size_t n = 0;
        char err[256] = "";
        int src = pd_client_scan_regions(c->pd, from, from_len, key,
                                         key ? len : 0, CAP, rs, &n, err,
                                         sizeof(err));
        if (src != 0) {
            router_failed(c, "scan regions", err[0] ? err : pd_strerror(src));
            rc = src;
            break;
        }
        if (n == 0)
            break;
        const struct pd_region *last = &rs[n - 1].info.region;
        rc = desc_of(&rs[n - 1], out, leader);
        if (rc != 0 || n < CAP || last->end_len == 0 ||
            last->end_len > sizeof(from))
            break;
        memcpy(from, last->end_key, last->end_len); /* more: go on */
        from_len = last->end_len;
    }
    free(rs);
    return rc;
}

static int r_store_addr(void *ctx, uint64_t store_id, char *buf, size_t len)
{
    struct sqld_cluster *c = ctx;
    struct pd_client_store st;
    char err[256] = "";
    int rc = pd_client_get_store(c->pd, store_id, &st, err, sizeof(err));
    if (rc != 0) {
        router_failed(c, "get store", err[0] ? err : pd_strerror(rc));
        return rc;
    }
    snprintf(buf, len, "%s", st.address);
    return 0;
}

static void r_invalidate(void *ctx, uint64_t region_id, uint64_t store_id)
{
    struct sqld_cluster *c = ctx;
    if (region_id)
        pd_client_region_invalidate(c->pd, region_id);
    if (store_id)
        pd_client_store_invalidate(c->pd, store_id);
}

static int tso(void *ctx, mvcc_ts *out)
{
    struct sqld_cluster *c = ctx;
    pd_ts ts;
    char err[256] = "";
    int rc = pd_client_tso(c->pd, 1, &ts, err, sizeof(err));
    if (rc != 0) {
        router_failed(c, "tso", err[0] ? err : pd_strerror(rc));
        return rc;
    }
    *out = ts;
    return 0;
}

static int64_t on_region_error(void *ctx, const struct mvcc_region_error *e)
{
    (void)ctx;
    /* A call that keeps meeting region errors (a region without a leader
     * for long, a store that stays down) is worth an operator's look: a
     * warning at its 8th, 16th, 32nd .. error, with the key it is for
     * (at most 24 bytes in hex). */
    unsigned a = e->attempt + 1;
    if (a >= 8 && (a & (a - 1)) == 0) {
        char hex[49];
        size_t n = e->key_len < 24 ? e->key_len : 24;
        for (size_t i = 0; i < n; i++)
            snprintf(hex + 2 * i, 3, "%02x", ((const uint8_t *)e->key)[i]);
        hex[2 * n] = '\0';
        dmn_warn("region %" PRIu64 ": %s, %u times for one request (key "
                 "%s%s): still retrying",
                 e->shard, mvcc_strerror(e->rc), a, hex,
                 e->key_len > n ? ".." : "");
    } else if (dmn_log_enabled(DMN_LOG_DEBUG)) {
        dmn_debug("region %" PRIu64 ": %s (attempt %u)", e->shard,
                  mvcc_strerror(e->rc), e->attempt);
    }
    return mvcc_region_backoff_default(e->rc, e->attempt);
}

static void region_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    if (level >= REGION_LOG_WARN)
        dmn_warn("region client: %s", msg);
    else
        dmn_debug("region client: %s", msg);
}

/* libsql's GC round on the cluster (libsql/DESIGN.md "GC"): PD's safe
 * points. This sqld's floor is a service safe point of its own, renewed
 * each round; PD refuses one below the GC safe point, so a floor below it
 * (a transaction older than the safe point: its reads are refused by
 * kvd) is raised to it. */
static int gc_hold(void *ctx, uint64_t floor, uint64_t *min,
                   uint64_t *current)
{
    struct sqld_cluster *c = ctx;
    char err[256] = "";
    int rc;
    /* twice: another sqld may publish above floor in between */
    for (int i = 0; i < 2; i++) {
        rc = pd_client_gc_safe_point(c->pd, current, err, sizeof(err));
        if (rc == 0)
            rc = pd_client_update_service_safe_point(
                c->pd, c->gc_service, c->gc_ttl_ms,
                floor < *current ? *current : floor, min, err, sizeof(err));
        if (rc != PD_ESAFEPOINT)
            break;
    }
    if (rc != 0)
        dmn_warn("GC: pd: cannot hold safe point %" PRIu64 " for %s: %s",
                 floor, c->gc_service, err[0] ? err : pd_strerror(rc));
    return rc;
}

static int gc_publish(void *ctx, uint64_t sp, uint64_t *published)
{
    struct sqld_cluster *c = ctx;
    char err[256] = "";
    int rc = pd_client_update_gc_safe_point(c->pd, sp, published, err,
                                            sizeof(err));
    if (rc == PD_ESAFEPOINT) {
        /* Another sqld published a higher one, or a service registered
         * lower, between this round's hold and now: the safe point in
         * force is PD's, and this round is done. */
        rc = pd_client_gc_safe_point(c->pd, published, err, sizeof(err));
        if (rc == 0) {
            dmn_debug("GC: pd kept safe point %" PRIu64 " (asked %" PRIu64
                      ")", *published, sp);
            return 0;
        }
    }
    if (rc != 0)
        dmn_warn("GC: pd: cannot publish safe point %" PRIu64 ": %s", sp,
                 err[0] ? err : pd_strerror(rc));
    return rc;
}

void sqld_cluster_gc(struct sqld_cluster *c, const char *listen,
                     uint64_t ttl_ms, struct sql_gc_cluster *out)
{
    char host[64] = "";
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "unknown");
    snprintf(c->gc_service, sizeof(c->gc_service), "sqld@%s/%s", host,
             listen);
    c->gc_ttl_ms = ttl_ms;
    *out = (struct sql_gc_cluster){.ctx = c,
                                   .hold = gc_hold,
                                   .publish = gc_publish};
}

int sqld_cluster_open(char *const *pd, bool one_pc, bool async_commit,
                      struct sqld_cluster **out, struct mvcc_client_opts *co,
                      char *err, size_t errlen)
{
    size_t n = 0;
    while (pd && pd[n])
        n++;
    if (n == 0 || n > 16) {
        snprintf(err, errlen, "pd: give 1 to 16 pdd members (host:port)");
        return -1;
    }
    struct sqld_cluster *c = calloc(1, sizeof(*c));
    if (!c || pthread_mutex_init(&c->err_mu, NULL) != 0) {
        free(c);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct pd_client_options po = {.endpoints = (const char *const *)pd,
                                   .n_endpoints = n,
                                   .tls = dmn_cluster_tls_client()};
    char why[256] = "";
    int rc = pd_client_create(&po, &c->pd, why, sizeof(why));
    if (rc != 0) {
        snprintf(err, errlen, "cannot reach pdd: %s",
                 why[0] ? why : pd_strerror(rc));
        goto fail;
    }
    struct region_client_opts ro = {
        .router = {c, r_region_by_key, r_region_before, r_store_addr,
                   r_invalidate},
        .log = region_log,
        .log_level = dmn_log_enabled(DMN_LOG_DEBUG) ? REGION_LOG_DEBUG
                                                    : REGION_LOG_WARN,
        .tls = dmn_cluster_tls_client(),
    };
    sqld_clusterinfo_init(&c->info, c->pd);
    rc = region_client_create(&ro, &c->rc);
    if (rc != 0) {
        snprintf(err, errlen, "region client: %s", region_strerror(rc));
        goto fail;
    }
    memset(co, 0, sizeof(*co));
    region_client_transport(c->rc, &co->transport);
    co->tso = tso;
    co->tso_ctx = c;
    /* 1PC and async commit (txn.one-pc, txn.async-commit; on by default,
     * docs/cluster-txn.md):
     * kvd refuses them in a leadership whose max_ts it has not yet raised
     * from PD's TSO, and libmvcc's client then commits in two phases
     * (libregion/DESIGN.md "max_ts"). */
    co->async_commit = async_commit;
    co->one_pc = one_pc;
    /* A lock in a read's or a write's way is waited for (resolved once
     * its transaction ends or its TTL passes) up to 20 s, as TiDB's reads
     * and prewrites back off, and as long as a commit itself keeps
     * retrying a region (region_budget_ms): a live transaction's lock
     * lasts as long as its commit, which a leader move or a kvd restart
     * can hold up for seconds, and a dead coordinator's lasts up to the
     * managed TTL below (10 s) after its last heartbeat. The 5 s this
     * was until session 16 was shorter than both: a range SELECT met a
     * stalled commit's lock and failed with 1205 in the rolling restart
     * (issue 9), and a reader would fail so on a kill -9'd sqld's lock
     * that would have expired a few seconds later. The statement keeps
     * libsql's statement lock shared meanwhile (a DDL waits). (libmvcc
     * counts a pessimistic lock's wait against this budget too: a waiter
     * woken after it gets a write conflict instead of the lock.) */
    co->resolve_budget_ms = 20000;
    /* A commit stalled past the lock TTL (a loaded machine, a kvd
     * restarting) keeps its primary lock alive rather than letting a
     * reader roll it back (its COMMIT then answered 1105 "transaction was
     * rolled back" in the rolling restart; libmvcc DESIGN "Commit
     * keepalive"). A thread per commit, which ends with it. */
    co->commit_keepalive = true;
    /* A heartbeat raises a live transaction's locks to 10 s past its age
     * (TiDB: 20 s): a pdd election or leader moves that hold heartbeats
     * up for a few seconds no longer let a reader roll back a pessimistic
     * lock under a transaction that then finds it missing at COMMIT
     * (1105 "expected lock is missing" in the rolling restart), and a
     * pessimistic COMMIT's prewrite keeps that TTL (libmvcc DESIGN
     * "Commit keepalive", session 10). A killed
     * sqld's locks that had a heartbeat expire 10 s after it. */
    co->managed_lock_ttl = 10000;
    co->on_region_error = on_region_error;
    co->region_ctx = c;
    *out = c;
    return 0;
fail:
    sqld_cluster_close(c);
    return -1;
}

struct region_client *sqld_cluster_region(struct sqld_cluster *c)
{
    return c->rc;
}

const struct sql_cluster_info *sqld_cluster_info(struct sqld_cluster *c)
{
    return &c->info;
}

void sqld_cluster_close(struct sqld_cluster *c)
{
    if (!c)
        return;
    region_client_destroy(c->rc);
    pd_client_destroy(c->pd);
    pthread_mutex_destroy(&c->err_mu);
    free(c);
}

void sqld_cluster_stats(struct sqld_cluster *c, struct region_client_stats *rs,
                        struct pd_client_stats *ps)
{
    region_client_stats(c->rc, rs);
    pd_client_stats(c->pd, ps);
}

void sqld_cluster_log_stats(struct sqld_cluster *c)
{
    struct region_client_stats rs;
    struct pd_client_stats ps;
    sqld_cluster_stats(c, &rs, &ps);
    dmn_info("cluster: %" PRIu64 " kvd calls, %" PRIu64 " region errors, %"
             PRIu64 " store failures, %" PRIu64 " region lookups; pd: %"
             PRIu64 " tso requests in %" PRIu64 " calls",
             rs.calls, rs.region_errors, rs.store_errors, rs.router_lookups,
             ps.tso_requests, ps.tso_calls);
}

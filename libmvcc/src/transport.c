/* transport.c: the in-process transport (stores split by key ranges, calls
 * go straight to the store) and an in-process timestamp oracle
 * (DESIGN.md, "Client").
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "mvcc_int.h"

struct local
{
    struct mvcc_store **stores; /* shard i = stores[i] */
    size_t n;                   /* how many */
    struct mvcc_key *splits;    /* n-1 split keys (owned copies) */
    mvcc_cop_handler cop;       /* serves cop calls, or NULL */
    void *cop_ctx;              /* its context */
};

static int kcmp(const void *a, size_t al, const void *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : al < bl ? -1 : al > bl;
}

static int l_locate(void *ctx, const void *key, size_t len, uint64_t *shard,
                    const uint8_t **end, size_t *end_len)
{
    struct local *l = ctx;
    size_t i = 0;
    while (i + 1 < l->n &&
           kcmp(key, len, l->splits[i].data, l->splits[i].len) >= 0)
        i++;
    *shard = i;
    if (i + 1 < l->n) {
        *end = l->splits[i].data;
        *end_len = l->splits[i].len;
    } else {
        *end = NULL;
        *end_len = 0;
    }
    return 0;
}

static int l_locate_prev(void *ctx, const void *key, size_t len,
                         uint64_t *shard, const uint8_t **start,
                         size_t *start_len)
{
    struct local *l = ctx;
    /* Keys below `key` live in the shard whose start is < key. */
    size_t i = l->n - 1;
    if (key != NULL)
        while (i > 0 && kcmp(l->splits[i - 1].data, l->splits[i - 1].len,
                             key, len) >= 0)
            i--;
    *shard = i;
    if (i > 0) {
        *start = l->splits[i - 1].data;
        *start_len = l->splits[i - 1].len;
    } else {
        *start = NULL;
        *start_len = 0;
    }
    return 0;
}

#define STORE(ctx, shard)                                                   \
    ((shard) < ((struct local *)(ctx))->n                                   \
         ? ((struct local *)(ctx))->stores[(shard)]                         \
         : NULL)

static int l_batch_get(void *ctx, uint64_t shard,
                       const struct mvcc_read_opts *ro,
                       const struct mvcc_key *keys, size_t n, mvcc_ts ts,
                       struct mvcc_result *res)
{
    return mvcc_batch_get(STORE(ctx, shard), ro, keys, n, ts, res);
}

static int l_scan(void *ctx, uint64_t shard, const struct mvcc_read_opts *ro,
                  const void *start, size_t sl, const void *end, size_t el,
                  mvcc_ts ts, struct mvcc_result *res)
{
    return mvcc_scan(STORE(ctx, shard), ro, start, sl, end, el, ts, res);
}

static int l_prewrite(void *ctx, uint64_t shard,
                      const struct mvcc_prewrite_req *req,
                      struct mvcc_result *res)
{
    return mvcc_prewrite(STORE(ctx, shard), req, res);
}

static int l_commit(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                    size_t n, mvcc_ts start_ts, mvcc_ts commit_ts,
                    struct mvcc_result *res)
{
    return mvcc_commit(STORE(ctx, shard), keys, n, start_ts, commit_ts, res);
}

static int l_rollback(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                      size_t n, mvcc_ts start_ts, struct mvcc_result *res)
{
    return mvcc_batch_rollback(STORE(ctx, shard), keys, n, start_ts, res);
}

static int l_check(void *ctx, uint64_t shard,
                   const struct mvcc_check_txn_req *req,
                   struct mvcc_result *res)
{
    return mvcc_check_txn_status(STORE(ctx, shard), req, res);
}

static int l_check_sec(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                       size_t n, mvcc_ts start_ts, struct mvcc_result *res)
{
    return mvcc_check_secondary_locks(STORE(ctx, shard), keys, n, start_ts,
                                      res);
}

static int l_resolve(void *ctx, uint64_t shard, mvcc_ts start_ts,
                     mvcc_ts commit_ts, const void *start, size_t sl,
                     const void *end, size_t el, struct mvcc_result *res)
{
    return mvcc_resolve_lock(STORE(ctx, shard), start_ts, commit_ts, start,
                             sl, end, el, res);
}

static int l_scan_lock(void *ctx, uint64_t shard, mvcc_ts max_ts,
                       const void *start, size_t sl, const void *end,
                       size_t el, size_t limit, struct mvcc_result *res)
{
    return mvcc_scan_lock(STORE(ctx, shard), max_ts, start, sl, end, el,
                          limit, res);
}

static int l_heartbeat(void *ctx, uint64_t shard, const void *primary,
                       size_t pl, mvcc_ts start_ts, uint64_t ttl,
                       struct mvcc_result *res)
{
    return mvcc_txn_heartbeat(STORE(ctx, shard), primary, pl, start_ts, ttl,
                              res);
}

static int l_plock(void *ctx, uint64_t shard,
                   const struct mvcc_pessimistic_req *req,
                   struct mvcc_result *res)
{
    return mvcc_acquire_pessimistic_lock(STORE(ctx, shard), req, res);
}

static int l_prollback(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                       size_t n, mvcc_ts start_ts, mvcc_ts for_update_ts,
                       struct mvcc_result *res)
{
    return mvcc_pessimistic_rollback(STORE(ctx, shard), keys, n, start_ts,
                                     for_update_ts, res);
}

/* The shard's range clipped to [start, end): shard i holds
 * [splits[i-1], splits[i]). */
static int l_cop(void *ctx, uint64_t shard, const void *start, size_t sl,
                 const void *end, size_t el, mvcc_ts ts, const void *req,
                 size_t req_len, uint8_t **resp, size_t *resp_len,
                 struct mvcc_result *res)
{
    struct local *l = ctx;
    if (shard >= l->n || l->cop == NULL)
        return MVCC_REGION_NOT_FOUND;
    if (shard > 0) {
        const struct mvcc_key *lo = &l->splits[shard - 1];
        if (start == NULL || kcmp(start, sl, lo->data, lo->len) < 0) {
            start = lo->data;
            sl = lo->len;
        }
    }
    if (shard + 1 < l->n) {
        const struct mvcc_key *hi = &l->splits[shard];
        if (end == NULL || el == 0 || kcmp(end, el, hi->data, hi->len) > 0) {
            end = hi->data;
            el = hi->len;
        }
    }
    return l->cop(l->cop_ctx, l->stores[shard], start, sl, end, el, ts, req,
                  req_len, resp, resp_len, res);
}

void mvcc_local_transport_set_cop(struct mvcc_transport *t,
                                  mvcc_cop_handler fn, void *ctx)
{
    if (t == NULL || t->ctx == NULL)
        return;
    struct local *l = t->ctx;
    l->cop = fn;
    l->cop_ctx = ctx;
    t->cop = fn ? l_cop : NULL;
}

void mvcc_local_transport_free(struct mvcc_transport *t)
{
    if (t == NULL || t->ctx == NULL)
        return;
    struct local *l = t->ctx;
    for (size_t i = 0; l->splits && i + 1 < l->n; i++)
        mvcc__free((void *)l->splits[i].data);
    mvcc__free(l->splits);
    mvcc__free(l->stores);
    mvcc__free(l);
    t->ctx = NULL;
}

int mvcc_local_transport_init(struct mvcc_transport *t,
                              struct mvcc_store *const *stores, size_t n,
                              const struct mvcc_key *splits)
{
    if (t == NULL || stores == NULL || n == 0 || (n > 1 && splits == NULL))
        return -EINVAL;
    memset(t, 0, sizeof *t);
    struct local *l = mvcc__calloc(1, sizeof *l);
    if (l == NULL)
        return -ENOMEM;
    t->ctx = l;
    l->n = n;
    l->stores = mvcc__calloc(n, sizeof *l->stores);
    l->splits = mvcc__calloc(n, sizeof *l->splits);
    if (l->stores == NULL || l->splits == NULL)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        l->stores[i] = stores[i];
    for (size_t i = 0; i + 1 < n; i++) {
        l->splits[i].data = mvcc__memdup(splits[i].data, splits[i].len);
        l->splits[i].len = splits[i].len;
        if (l->splits[i].data == NULL)
            goto nomem;
    }
    t->locate = l_locate;
    t->locate_prev = l_locate_prev;
    t->batch_get = l_batch_get;
    t->scan = l_scan;
    t->prewrite = l_prewrite;
    t->commit = l_commit;
    t->batch_rollback = l_rollback;
    t->check_txn_status = l_check;
    t->check_secondary_locks = l_check_sec;
    t->resolve_lock = l_resolve;
    t->scan_lock = l_scan_lock;
    t->txn_heartbeat = l_heartbeat;
    t->acquire_pessimistic_lock = l_plock;
    t->pessimistic_rollback = l_prollback;
    return 0;
nomem:
    mvcc_local_transport_free(t);
    return -ENOMEM;
}

int mvcc_local_tso_next(void *ctx, mvcc_ts *out)
{
    struct mvcc_local_tso *o = ctx;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    mvcc_ts phys = MVCC_TS_OF_MS((mvcc_ts)now.tv_sec * 1000 +
                                 (mvcc_ts)(now.tv_nsec / 1000000));
    mvcc_ts last = __atomic_load_n(&o->last, __ATOMIC_ACQUIRE);
    for (;;) {
        mvcc_ts next = phys > last ? phys : last + 1;
        if (__atomic_compare_exchange_n(&o->last, &last, next, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            *out = next;
            return 0;
        }
    }
}

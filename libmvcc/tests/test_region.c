/* test_region.c: region errors in the 2PC client (DESIGN.md, "Client:
 * region errors"). A test transport routes to two stores over one engine
 * and injects region errors; a "split" moves the keys from shard 0 to
 * shards 1 ([.., "m")) and 2 (["m", ..)), after which shard 0 answers
 * EPOCH_NOT_MATCH and a shard refuses keys outside its range, so a request
 * the client failed to split shows up as KEY_NOT_IN_REGION. Both engines.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

#define K(x) (x), strlen(x)

enum op {
    OP_GET, OP_SCAN, OP_PREWRITE, OP_COMMIT, OP_ROLLBACK, OP_CHECK,
    OP_CHECK_SEC, OP_RESOLVE, OP_HEARTBEAT, OP_PLOCK, OP_PROLLBACK,
    OP_SCAN_LOCK, OP_COUNT
};

struct rt
{
    pthread_mutex_t mu;          /* guards everything below */
    struct mvcc_store *st[2];    /* store of shard 0/1 and of shard 2 */
    bool split;                  /* routing after the split */
    int fail_op;                 /* op to fail (enum op) */
    int fail_rc;                 /* with this code */
    int fail_left;               /* this many more times */
    int fail_shard;              /* only calls to this shard; -1 = any */
    bool split_on_fail;          /* an injected failure splits first */
    int served[OP_COUNT];        /* calls that reached a store, per op */
    int injected;                /* failures injected */
    int one_pc_prewrites;        /* served prewrites with try_one_pc */
    int async_prewrites;         /* served prewrites with async commit */
    uint64_t commit_shards[8];   /* shards of served commits, in order */
    int ncommits;                /* how many recorded */
    int hook_calls;              /* on_region_error calls */
    int hook_rc[16];             /* their codes */
    unsigned hook_attempt[16];   /* their attempt numbers */
    int hook_give_up_after;      /* hook returns -1 from this call on */
};

struct fx
{
    struct tu_fix f;           /* engine */
    struct mvcc_store *s[2];   /* stores over it */
    struct rt rt;              /* routing and injection */
    struct mvcc_transport tr;  /* the test transport */
    struct mvcc_local_tso tso; /* oracle */
};

static int kcmp(const void *a, size_t al, const void *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : al < bl ? -1 : al > bl;
}

static uint64_t route(const struct rt *r, const void *k, size_t kl)
{
    if (!r->split)
        return 0;
    return kcmp(k, kl, "m", 1) < 0 ? 1 : 2;
}

static int r_locate(void *ctx, const void *key, size_t len, uint64_t *shard,
                    const uint8_t **end, size_t *end_len)
{
    struct rt *r = ctx;
    pthread_mutex_lock(&r->mu);
    *shard = route(r, key, len);
    *end = *shard == 1 ? (const uint8_t *)"m" : NULL;
    *end_len = *shard == 1 ? 1 : 0;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

static int r_locate_prev(void *ctx, const void *key, size_t len,
                         uint64_t *shard, const uint8_t **start,
                         size_t *start_len)
{
    struct rt *r = ctx;
    pthread_mutex_lock(&r->mu);
    if (!r->split)
        *shard = 0;
    else
        *shard = key == NULL || kcmp(key, len, "m", 1) > 0 ? 2 : 1;
    *start = *shard == 2 ? (const uint8_t *)"m" : NULL;
    *start_len = *shard == 2 ? 1 : 0;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

/* Admits a call of op to shard for keys [keys, n) (or the range
 * [lo, hi) when keys is NULL): the store to run it on, or a code. */
static int admit(struct rt *r, int op, uint64_t shard,
                 const struct mvcc_key *keys, size_t n, const void *lo,
                 size_t lol, struct mvcc_store **st)
{
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    if (r->fail_left > 0 && r->fail_op == op &&
        (r->fail_shard < 0 || (uint64_t)r->fail_shard == shard)) {
        r->fail_left--;
        r->injected++;
        if (r->split_on_fail)
            r->split = true;
        rc = r->fail_rc;
        goto out;
    }
    if (r->split && shard == 0) {
        rc = MVCC_EPOCH_NOT_MATCH;
        goto out;
    }
    if (shard > 2 || (!r->split && shard != 0)) {
        rc = MVCC_REGION_NOT_FOUND;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (route(r, keys[i].data, keys[i].len) != shard)
            rc = MVCC_KEY_NOT_IN_REGION;
    if (keys == NULL && lo != NULL && route(r, lo, lol) != shard)
        rc = MVCC_KEY_NOT_IN_REGION;
    if (rc == 0) {
        r->served[op]++;
        *st = r->st[shard == 2 ? 1 : 0];
    }
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static int r_batch_get(void *ctx, uint64_t shard,
                       const struct mvcc_read_opts *ro,
                       const struct mvcc_key *keys, size_t n, mvcc_ts ts,
                       struct mvcc_result *res)
{
    struct mvcc_store *st;
    int rc = admit(ctx, OP_GET, shard, keys, n, NULL, 0, &st);
    return rc ? rc : mvcc_batch_get(st, ro, keys, n, ts, res);
}

static int r_scan(void *ctx, uint64_t shard, const struct mvcc_read_opts *ro,
                  const void *start, size_t sl, const void *end, size_t el,
                  mvcc_ts ts, struct mvcc_result *res)
{
    struct mvcc_store *st;
    int rc = admit(ctx, OP_SCAN, shard, NULL, 0, start, sl, &st);
    return rc ? rc : mvcc_scan(st, ro, start, sl, end, el, ts, res);
}

static int r_prewrite(void *ctx, uint64_t shard,
                      const struct mvcc_prewrite_req *req,
                      struct mvcc_result *res)
{
    struct rt *r = ctx;
    struct mvcc_key keys[16];
    assert_true(req->n <= 16);
    for (size_t i = 0; i < req->n; i++) {
        keys[i].data = req->mutations[i].key;
        keys[i].len = req->mutations[i].key_len;
    }
    struct mvcc_store *st;
    int rc = admit(r, OP_PREWRITE, shard, keys, req->n, NULL, 0, &st);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&r->mu);
    r->one_pc_prewrites += req->try_one_pc;
    r->async_prewrites += req->use_async_commit;
    pthread_mutex_unlock(&r->mu);
    return mvcc_prewrite(st, req, res);
}

static int r_commit(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                    size_t n, mvcc_ts start_ts, mvcc_ts commit_ts,
                    struct mvcc_result *res)
{
    struct rt *r = ctx;
    struct mvcc_store *st;
    int rc = admit(r, OP_COMMIT, shard, keys, n, NULL, 0, &st);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&r->mu);
    if (r->ncommits < 8)
        r->commit_shards[r->ncommits++] = shard;
    pthread_mutex_unlock(&r->mu);
    return mvcc_commit(st, keys, n, start_ts, commit_ts, res);
}

static int r_rollback(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                      size_t n, mvcc_ts start_ts, struct mvcc_result *res)
{
    struct mvcc_store *st;
    int rc = admit(ctx, OP_ROLLBACK, shard, keys, n, NULL, 0, &st);
    return rc ? rc : mvcc_batch_rollback(st, keys, n, start_ts, res);
}

static int r_check(void *ctx, uint64_t shard,
                   const struct mvcc_check_txn_req *req,
                   struct mvcc_result *res)
{
    struct mvcc_key k = {req->primary, req->primary_len};
    struct mvcc_store *st;
    int rc = admit(ctx, OP_CHECK, shard, &k, 1, NULL, 0, &st);
    return rc ? rc : mvcc_check_txn_status(st, req, res);
}

static int r_check_sec(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                       size_t n, mvcc_ts start_ts, struct mvcc_result *res)
{
    struct mvcc_store *st;
    int rc = admit(ctx, OP_CHECK_SEC, shard, keys, n, NULL, 0, &st);
    return rc ? rc : mvcc_check_secondary_locks(st, keys, n, start_ts, res);
}

static int r_resolve(void *ctx, uint64_t shard, mvcc_ts start_ts,
                     mvcc_ts commit_ts, const void *start, size_t sl,
                     const void *end, size_t el, struct mvcc_result *res)
{
    struct mvcc_store *st;
    int rc = admit(ctx, OP_RESOLVE, shard, NULL, 0, start, sl, &st);
    return rc ? rc
              : mvcc_resolve_lock(st, start_ts, commit_ts, start, sl, end, el,
                                  res);
}

static int r_scan_lock(void *ctx, uint64_t shard, mvcc_ts max_ts,
                       const void *start, size_t sl, const void *end,
                       size_t el, size_t limit, struct mvcc_result *res)
{
    struct mvcc_store *st;
    int rc = admit(ctx, OP_SCAN_LOCK, shard, NULL, 0, start, sl, &st);
    return rc ? rc
              : mvcc_scan_lock(st, max_ts, start, sl, end, el, limit, res);
}

static int r_heartbeat(void *ctx, uint64_t shard, const void *primary,
                       size_t pl, mvcc_ts start_ts, uint64_t ttl,
                       struct mvcc_result *res)
{
    struct mvcc_key k = {primary, pl};
    struct mvcc_store *st;
    int rc = admit(ctx, OP_HEARTBEAT, shard, &k, 1, NULL, 0, &st);
    return rc ? rc : mvcc_txn_heartbeat(st, primary, pl, start_ts, ttl, res);
}

static int r_plock(void *ctx, uint64_t shard,
                   const struct mvcc_pessimistic_req *req,
                   struct mvcc_result *res)
{
    struct mvcc_store *st;
    int rc = admit(ctx, OP_PLOCK, shard, req->keys, req->n, NULL, 0, &st);
    return rc ? rc : mvcc_acquire_pessimistic_lock(st, req, res);
}

static int r_prollback(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                       size_t n, mvcc_ts start_ts, mvcc_ts for_update_ts,
                       struct mvcc_result *res)
{
    struct mvcc_store *st;
    int rc = admit(ctx, OP_PROLLBACK, shard, keys, n, NULL, 0, &st);
    return rc ? rc
              : mvcc_pessimistic_rollback(st, keys, n, start_ts,
                                          for_update_ts, res);
}

/* Records the error, retries at once until hook_give_up_after. */
static int64_t hook(void *ctx, const struct mvcc_region_error *e)
{
    struct rt *r = ctx;
    pthread_mutex_lock(&r->mu);
    int i = r->hook_calls++;
    if (i < 16) {
        r->hook_rc[i] = e->rc;
        r->hook_attempt[i] = e->attempt;
    }
    bool give_up = r->hook_give_up_after >= 0 && i >= r->hook_give_up_after;
    pthread_mutex_unlock(&r->mu);
    assert_true(mvcc_is_region_error(e->rc));
    assert_non_null(e->key);
    return give_up ? -1 : 0;
}

static int fx_setup(void **state)
{
    int kind = *(int *)*state;
    struct fx *x = calloc(1, sizeof *x);
    if (x == NULL || tu_fix_open(&x->f, kind) != 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (mvcc_store_open(x->f.eng, NULL, &x->s[i]) != 0)
            return -1;
    pthread_mutex_init(&x->rt.mu, NULL);
    x->rt.st[0] = x->s[0];
    x->rt.st[1] = x->s[1];
    x->rt.fail_shard = -1;
    x->rt.hook_give_up_after = -1;
    struct mvcc_transport *t = &x->tr;
    t->ctx = &x->rt;
    t->locate = r_locate;
    t->locate_prev = r_locate_prev;
    t->batch_get = r_batch_get;
    t->scan = r_scan;
    t->prewrite = r_prewrite;
    t->commit = r_commit;
    t->batch_rollback = r_rollback;
    t->check_txn_status = r_check;
    t->check_secondary_locks = r_check_sec;
    t->resolve_lock = r_resolve;
    t->txn_heartbeat = r_heartbeat;
    t->acquire_pessimistic_lock = r_plock;
    t->pessimistic_rollback = r_prollback;
    t->scan_lock = r_scan_lock;
    *state = x;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *x = *state;
    for (int i = 0; i < 2; i++)
        mvcc_store_close(x->s[i]);
    tu_fix_close(&x->f);
    pthread_mutex_destroy(&x->rt.mu);
    free(x);
    return 0;
}

static struct mvcc_client *client(struct fx *x, bool one_pc, bool with_hook)
{
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.transport = x->tr;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &x->tso;
    o.one_pc = one_pc;
    if (with_hook) {
        o.on_region_error = hook;
        o.region_ctx = &x->rt;
    }
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);
    return c;
}

static void inject(struct fx *x, int op, int rc, int times, bool split)
{
    pthread_mutex_lock(&x->rt.mu);
    x->rt.fail_op = op;
    x->rt.fail_rc = rc;
    x->rt.fail_left = times;
    x->rt.split_on_fail = split;
    memset(x->rt.served, 0, sizeof x->rt.served);
    x->rt.injected = 0;
    x->rt.one_pc_prewrites = 0;
    x->rt.async_prewrites = 0;
    x->rt.ncommits = 0;
    x->rt.hook_calls = 0;
    pthread_mutex_unlock(&x->rt.mu);
}

static void put(struct mvcc_client *c, const char *k, const char *v)
{
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    assert_int_equal(mvcc_txn_set(t, K(k), K(v)), 0);
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
}

static void get_is(struct mvcc_client *c, const char *k, const char *want)
{
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = mvcc_txn_get(t, K(k), &v, &vl);
    if (want == NULL) {
        assert_int_equal(rc, MVCC_NOTFOUND);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(vl, strlen(want));
        assert_memory_equal(v, want, vl);
    }
    mvcc_free(v);
    mvcc_txn_rollback(t);
}

/* No lock is left anywhere (the stores share one engine). */
static void no_locks_left(struct fx *x)
{
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_scan_lock(x->s[0], MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &r),
                     0);
    assert_int_equal(r.nlocks, 0);
    mvcc_result_reset(&r);
}

static void codes_and_default_backoff(void **state)
{
    (void)state;
    assert_true(mvcc_is_region_error(MVCC_NOT_LEADER));
    assert_true(mvcc_is_region_error(MVCC_EPOCH_NOT_MATCH));
    assert_true(mvcc_is_region_error(MVCC_REGION_NOT_FOUND));
    assert_true(mvcc_is_region_error(MVCC_KEY_NOT_IN_REGION));
    assert_true(mvcc_is_region_error(MVCC_SERVER_BUSY));
    assert_true(mvcc_is_region_error(MVCC_STALE_COMMAND));
    assert_true(mvcc_is_region_error(MVCC_STORE_UNREACHABLE));
    assert_false(mvcc_is_region_error(MVCC_LOCK_NOT_FOUND));
    assert_false(mvcc_is_region_error(MVCC_LOCKED));
    assert_false(mvcc_is_region_error(0));
    assert_false(mvcc_is_region_error(-EINVAL));
    assert_string_equal(mvcc_strerror(MVCC_NOT_LEADER),
                        "region error: not the shard's leader");
    assert_int_equal(mvcc_region_backoff_default(MVCC_NOT_LEADER, 0), 0);
    assert_int_equal(mvcc_region_backoff_default(MVCC_NOT_LEADER, 1), 2);
    assert_int_equal(mvcc_region_backoff_default(MVCC_EPOCH_NOT_MATCH, 3), 8);
    assert_int_equal(mvcc_region_backoff_default(MVCC_STALE_COMMAND, 9), 500);
    assert_int_equal(mvcc_region_backoff_default(MVCC_STALE_COMMAND, 900),
                     500);
    assert_int_equal(mvcc_region_backoff_default(MVCC_SERVER_BUSY, 0), 10);
    assert_int_equal(mvcc_region_backoff_default(MVCC_SERVER_BUSY, 2), 40);
    assert_int_equal(mvcc_region_backoff_default(MVCC_SERVER_BUSY, 7), 1000);
    assert_int_equal(mvcc_region_backoff_default(MVCC_STORE_UNREACHABLE, 1),
                     10);
    assert_int_equal(mvcc_region_backoff_default(MVCC_LOCKED, 0), -1);
}

/* NOT_LEADER twice on a read: the hook sees both, the read succeeds. */
static void read_retries_not_leader(void **state)
{
    struct fx *x = *state;
    struct mvcc_client *c = client(x, true, true);
    put(c, "a", "1");
    inject(x, OP_GET, MVCC_NOT_LEADER, 2, false);
    get_is(c, "a", "1");
    assert_int_equal(x->rt.injected, 2);
    assert_int_equal(x->rt.served[OP_GET], 1);
    assert_int_equal(x->rt.hook_calls, 2);
    assert_int_equal(x->rt.hook_rc[0], MVCC_NOT_LEADER);
    assert_int_equal(x->rt.hook_attempt[0], 0);
    assert_int_equal(x->rt.hook_attempt[1], 1);
    mvcc_client_destroy(c);
}

/* The shard splits under a 2PC prewrite: it is resent as one request per
 * new shard, and the commit goes to the primary's shard first. */
static void prewrite_split_2pc(void **state)
{
    struct fx *x = *state;
    struct mvcc_client *c = client(x, false, true);
    inject(x, OP_PREWRITE, MVCC_EPOCH_NOT_MATCH, 1, true);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    assert_int_equal(mvcc_txn_set(t, K("a"), K("1")), 0);
    assert_int_equal(mvcc_txn_set(t, K("b"), K("2")), 0);
    assert_int_equal(mvcc_txn_set(t, K("z"), K("3")), 0);
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    assert_int_equal(x->rt.injected, 1);
    assert_int_equal(x->rt.served[OP_PREWRITE], 2);
    assert_int_equal(x->rt.one_pc_prewrites, 0);
    /* The commit was grouped before the split, so it went to the stale
     * shard 0 first (refused: the second hook call) and was split again:
     * shard 1, holding the primary "a", before shard 2. */
    assert_int_equal(x->rt.served[OP_COMMIT], 2);
    assert_int_equal(x->rt.commit_shards[0], 1);
    assert_int_equal(x->rt.commit_shards[1], 2);
    assert_int_equal(x->rt.hook_calls, 2);
    assert_int_equal(x->rt.hook_rc[0], MVCC_EPOCH_NOT_MATCH);
    assert_int_equal(x->rt.hook_rc[1], MVCC_EPOCH_NOT_MATCH);
    get_is(c, "a", "1");
    get_is(c, "b", "2");
    get_is(c, "z", "3");
    mvcc_client_destroy(c);
}

/* A 1PC prewrite cannot be split (each part would commit alone): the
 * client falls back to 2PC over the new shards. */
static void one_pc_split_falls_back_to_2pc(void **state)
{
    struct fx *x = *state;
    struct mvcc_client *c = client(x, true, true);
    inject(x, OP_PREWRITE, MVCC_EPOCH_NOT_MATCH, 1, true);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    assert_int_equal(mvcc_txn_set(t, K("a"), K("1")), 0);
    assert_int_equal(mvcc_txn_set(t, K("z"), K("3")), 0);
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_true(cts > 0);
    assert_int_equal(x->rt.injected, 1);
    assert_int_equal(x->rt.one_pc_prewrites, 0); /* never served as 1PC */
    assert_int_equal(x->rt.served[OP_PREWRITE], 2);
    assert_int_equal(x->rt.served[OP_COMMIT], 2);
    assert_int_equal(x->rt.commit_shards[0], 1); /* primary "a" first */
    assert_int_equal(x->rt.hook_calls, 1);
    get_is(c, "a", "1");
    get_is(c, "z", "3");
    /* Only the new shards serve now; 1PC works again per shard. */
    inject(x, OP_COUNT, 0, 0, false);
    put(c, "y", "4");
    assert_int_equal(x->rt.one_pc_prewrites, 1);
    mvcc_client_destroy(c);
}

/* The split happens at the primary's commit, and the primary is not the
 * smallest key: its new shard still commits first. */
static void commit_split_primary_first(void **state)
{
    struct fx *x = *state;
    struct mvcc_client *c = client(x, false, true);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    struct mvcc_key z = {"z", 1};
    assert_int_equal(mvcc_txn_lock_keys(t, &z, 1, 0), 0); /* primary "z" */
    assert_int_equal(mvcc_txn_set(t, K("a"), K("1")), 0);
    assert_int_equal(mvcc_txn_set(t, K("z"), K("3")), 0);
    inject(x, OP_COMMIT, MVCC_EPOCH_NOT_MATCH, 1, true);
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    assert_int_equal(x->rt.injected, 1);
    assert_int_equal(x->rt.served[OP_COMMIT], 2);
    assert_int_equal(x->rt.commit_shards[0], 2); /* "z" */
    assert_int_equal(x->rt.commit_shards[1], 1);
    get_is(c, "a", "1");
    get_is(c, "z", "3");
    mvcc_client_destroy(c);
}

/* A busy server and a hook that gives up: the call fails with the region
 * error, and a failed commit leaves nothing behind. */
static void hook_gives_up(void **state)
{
    struct fx *x = *state;
    struct mvcc_client *c = client(x, false, true);
    put(c, "a", "1");
    x->rt.hook_give_up_after = 1;
    inject(x, OP_GET, MVCC_SERVER_BUSY, 100, false);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    uint8_t *v = NULL;
    size_t vl;
    assert_int_equal(mvcc_txn_get(t, K("a"), &v, &vl), MVCC_SERVER_BUSY);
    assert_int_equal(x->rt.hook_calls, 2);
    mvcc_txn_rollback(t);

    inject(x, OP_PREWRITE, MVCC_SERVER_BUSY, 100, false);
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    assert_int_equal(mvcc_txn_set(t, K("a"), K("2")), 0);
    assert_int_equal(mvcc_txn_set(t, K("c"), K("2")), 0);
    assert_int_equal(mvcc_txn_commit(t, NULL), MVCC_SERVER_BUSY);
    assert_int_equal(x->rt.served[OP_PREWRITE], 0);
    x->rt.hook_give_up_after = -1;
    inject(x, OP_COUNT, 0, 0, false);
    get_is(c, "a", "1");
    get_is(c, "c", NULL);
    no_locks_left(x);
    mvcc_client_destroy(c);
}

/* Without a hook, the default policy and the budget: a leader that never
 * comes back fails the call once the next backoff passes the budget. */
static void default_policy_budget(void **state)
{
    struct fx *x = *state;
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.transport = x->tr;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &x->tso;
    o.region_budget_ms = 1; /* attempt 0 resends at once, attempt 1 waits 2 */
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);
    put(c, "a", "1");
    inject(x, OP_GET, MVCC_NOT_LEADER, 1000, false);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    uint8_t *v = NULL;
    size_t vl;
    assert_int_equal(mvcc_txn_get(t, K("a"), &v, &vl), MVCC_NOT_LEADER);
    assert_int_equal(x->rt.injected, 2);
    mvcc_txn_rollback(t);
    inject(x, OP_GET, MVCC_NOT_LEADER, 1, false);
    get_is(c, "a", "1"); /* one error is retried at once */
    mvcc_client_destroy(c);
}

/* Scans, both ways, resend what is left after a region error. */
static void scans_retry(void **state)
{
    struct fx *x = *state;
    struct mvcc_client *c = client(x, true, true);
    x->rt.split = true;
    put(c, "a", "1");
    put(c, "b", "2");
    put(c, "y", "3");
    put(c, "z", "4");
    inject(x, OP_SCAN, MVCC_NOT_LEADER, 1, false);
    x->rt.fail_shard = 2;
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_txn_scan(t, NULL, 0, NULL, 0, 0, &r), 0);
    assert_int_equal(r.npairs, 4);
    assert_memory_equal(r.pairs[3].key, "z", 1);
    assert_int_equal(x->rt.injected, 1);
    assert_int_equal(x->rt.served[OP_SCAN], 2);
    inject(x, OP_SCAN, MVCC_STALE_COMMAND, 1, false);
    x->rt.fail_shard = 1;
    assert_int_equal(mvcc_txn_scan_reverse(t, NULL, 0, NULL, 0, 0, &r), 0);
    assert_int_equal(r.npairs, 4);
    assert_memory_equal(r.pairs[0].key, "z", 1);
    assert_memory_equal(r.pairs[3].key, "a", 1);
    assert_int_equal(x->rt.injected, 1);
    assert_int_equal(x->rt.served[OP_SCAN], 2);
    x->rt.fail_shard = -1;
    mvcc_result_reset(&r);
    mvcc_txn_rollback(t);
    mvcc_client_destroy(c);
}

static int crash_after_prewrite(void *ctx, int point)
{
    (void)ctx;
    return point == MVCC_FP_AFTER_PREWRITE;
}

/* A coordinator that dies after prewriting primary p and secondary s
 * leaves their locks; returns once their 1 ms TTL has passed on the
 * oracle's clock (so readers roll them back instead of reading below
 * them), with a timestamp past it. */
static mvcc_ts leave_dead_locks(struct fx *x, const char *p, const char *s)
{
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.transport = x->tr;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &x->tso;
    o.lock_ttl = 1; /* expires at once */
    o.failpoint = crash_after_prewrite;
    struct mvcc_client *dead;
    assert_int_equal(mvcc_client_create(&o, &dead), 0);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(dead, &t), 0);
    assert_int_equal(mvcc_txn_set(t, K(p), K("1")), 0);
    assert_int_equal(mvcc_txn_set(t, K(s), K("1")), 0);
    mvcc_ts start = mvcc_txn_start_ts(t);
    assert_int_equal(mvcc_txn_commit(t, NULL), -ECANCELED);
    mvcc_client_destroy(dead);
    mvcc_ts now;
    do
        assert_int_equal(mvcc_local_tso_next(&x->tso, &now), 0);
    while ((now >> 18) < (start >> 18) + 2);
    return now;
}

/* Lock resolution meets region errors too: CheckTxnStatus and
 * ResolveLock are resent. */
static void resolution_retries(void **state)
{
    struct fx *x = *state;
    leave_dead_locks(x, "a", "b");
    struct mvcc_client *c = client(x, false, true);
    inject(x, OP_CHECK, MVCC_NOT_LEADER, 1, false);
    get_is(c, "a", NULL); /* rolled back through the primary */
    assert_int_equal(x->rt.injected, 1);
    assert_true(x->rt.served[OP_CHECK] >= 1);
    inject(x, OP_RESOLVE, MVCC_SERVER_BUSY, 1, false);
    get_is(c, "b", NULL);
    assert_int_equal(x->rt.injected, 1);
    assert_int_equal(x->rt.served[OP_RESOLVE], 1);
    mvcc_client_destroy(c);
}

/* GC's lock resolution meets a split: the ScanLock is resent to the
 * shards that now hold the range, and every lock below the safe point is
 * resolved through them. */
static void gc_resolution_retries(void **state)
{
    struct fx *x = *state;
    mvcc_ts now = leave_dead_locks(x, "a", "z");
    struct mvcc_client *c = client(x, false, true);
    inject(x, OP_SCAN_LOCK, MVCC_EPOCH_NOT_MATCH, 1, true);
    uint64_t n = 0;
    assert_int_equal(mvcc_client_resolve_below(c, now, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(x->rt.injected, 1);
    assert_int_equal(x->rt.hook_calls, 1);
    assert_int_equal(x->rt.served[OP_SCAN_LOCK], 2); /* shards 1 and 2 */
    assert_int_equal(x->rt.served[OP_RESOLVE], 2);
    get_is(c, "a", NULL);
    get_is(c, "z", NULL);
    no_locks_left(x);
    mvcc_client_destroy(c);
}

/* A pessimistic lock request split by a shard split locks one part, then
 * fails on the other: the part it locked is released. */
static void plock_split_releases(void **state)
{
    struct fx *x = *state;
    struct mvcc_client *c = client(x, false, true);
    struct mvcc_txn *holder, *t;
    assert_int_equal(mvcc_txn_begin(c, &holder), 0);
    struct mvcc_key z = {"z", 1};
    assert_int_equal(mvcc_txn_lock_keys(holder, &z, 1, 0), 0);

    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    struct mvcc_key ak[] = {{"a", 1}, {"z", 1}};
    inject(x, OP_PLOCK, MVCC_EPOCH_NOT_MATCH, 1, true);
    assert_int_equal(mvcc_txn_lock_keys(t, ak, 2, 0), MVCC_LOCKED);
    assert_int_equal(x->rt.served[OP_PLOCK], 2); /* "a" locked, "z" not */
    assert_int_equal(x->rt.served[OP_PROLLBACK], 2); /* ours only go */
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_scan_lock(x->s[0], MVCC_TS_MAX, NULL, 0, NULL, 0, 0,
                                    &r),
                     0);
    assert_int_equal(r.nlocks, 1); /* only the holder's "z" */
    assert_memory_equal(r.locks[0].key, "z", 1);
    assert_int_equal(r.locks[0].start_ts, mvcc_txn_start_ts(holder));
    mvcc_result_reset(&r);
    mvcc_txn_rollback(t);
    mvcc_txn_rollback(holder);
    mvcc_client_destroy(c);
}

/* A heartbeat meeting a region error is not retried (the next one
 * relocates): the commit that sent it goes on. */
static void heartbeat_not_retried(void **state)
{
    struct fx *x = *state;
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.transport = x->tr;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &x->tso;
    o.lock_ttl = 1; /* any age past 0.5 ms counts as long */
    o.on_region_error = hook;
    o.region_ctx = &x->rt;
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);
    x->rt.split = true;
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    mvcc_ts start = mvcc_txn_start_ts(t), now;
    do
        assert_int_equal(mvcc_local_tso_next(&x->tso, &now), 0);
    while ((now >> 18) < (start >> 18) + 2);
    assert_int_equal(mvcc_txn_set(t, K("a"), K("1")), 0);
    assert_int_equal(mvcc_txn_set(t, K("z"), K("2")), 0);
    inject(x, OP_HEARTBEAT, MVCC_NOT_LEADER, 5, false);
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    assert_int_equal(x->rt.injected, 1);
    assert_int_equal(x->rt.hook_calls, 0);
    get_is(c, "a", "1");
    get_is(c, "z", "2");
    mvcc_client_destroy(c);
}

/* MAX_TS_NOT_SYNCED (a new leader before its max_ts sync) on shard
 * fail_shard: refused with the primary, the transaction commits as plain
 * 2PC (a TSO commit_ts); refused on a secondary once the async primary
 * lock is written, that part is resent as async after a wait (a 2PC
 * secondary under an async primary would take no max_ts into account). */
static void max_ts_not_synced(struct fx *x, int shard, bool async)
{
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.transport = x->tr;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &x->tso;
    o.one_pc = !async;
    o.async_commit = async;
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);
    pthread_mutex_lock(&x->rt.mu);
    x->rt.split = shard != 0;
    x->rt.fail_shard = shard;
    pthread_mutex_unlock(&x->rt.mu);
    inject(x, OP_PREWRITE, MVCC_MAX_TS_NOT_SYNCED, 1, false);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    assert_int_equal(mvcc_txn_set(t, K("a"), K("1")), 0);
    assert_int_equal(mvcc_txn_set(t, K("z"), K("2")), 0);
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_true(cts > 0);
    assert_int_equal(x->rt.injected, 1);
    assert_int_equal(x->rt.one_pc_prewrites, 0);
    if (shard == 2) { /* a secondary: resent async, committed async */
        assert_int_equal(x->rt.async_prewrites, 2);
        assert_int_equal(x->rt.served[OP_PREWRITE], 2);
    } else { /* the primary's: 2PC from the start */
        assert_int_equal(x->rt.async_prewrites, 0);
        assert_int_equal(x->rt.served[OP_PREWRITE], shard == 0 ? 1 : 2);
    }
    get_is(c, "a", "1");
    get_is(c, "z", "2");
    mvcc_client_destroy(c);
    pthread_mutex_lock(&x->rt.mu);
    x->rt.fail_shard = -1;
    pthread_mutex_unlock(&x->rt.mu);
}

static void one_pc_unsynced_falls_back_to_2pc(void **state)
{
    max_ts_not_synced(*state, 0, false);
}

static void async_unsynced_primary_falls_back_to_2pc(void **state)
{
    max_ts_not_synced(*state, 1, true);
}

static void async_unsynced_secondary_waits(void **state)
{
    max_ts_not_synced(*state, 2, true);
}

#define BOTH(fn)                                                        \
    {"mem/" #fn, fn, fx_setup, fx_teardown, &tu_kind_mem},              \
    {                                                                   \
        "rocks/" #fn, fn, fx_setup, fx_teardown, &tu_kind_rocks         \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codes_and_default_backoff),
        BOTH(read_retries_not_leader),
        BOTH(prewrite_split_2pc),
        BOTH(one_pc_split_falls_back_to_2pc),
        BOTH(commit_split_primary_first),
        BOTH(hook_gives_up),
        BOTH(default_policy_budget),
        BOTH(scans_retry),
        BOTH(resolution_retries),
        BOTH(gc_resolution_retries),
        BOTH(plock_split_releases),
        BOTH(heartbeat_not_retried),
        BOTH(one_pc_unsynced_falls_back_to_2pc),
        BOTH(async_unsynced_primary_falls_back_to_2pc),
        BOTH(async_unsynced_secondary_waits),
    };
    return cmocka_run_group_tests_name("libmvcc/region", tests, NULL, NULL);
}

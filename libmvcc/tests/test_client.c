/* test_client.c: the 2PC coordinator over the in-process transport with
 * three shards: own writes, snapshots, scans across shards, conflicts
 * (never retried blindly), 1PC and async commit, and coordinator crashes
 * between prewrite and primary commit and after it, which later readers
 * resolve (DESIGN.md, "Client"). Both engines.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "testutil.h"

#define K(x) (x), strlen(x)

static void commit_ok(struct mvcc_txn *t)
{
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
}

static void writes_reads_and_scans(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *t, *old;
    assert_int_equal(mvcc_txn_begin(k->c, &old), 0);
    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    tu_txn_set(t, "apple", "1");  /* shard 0 */
    tu_txn_set(t, "kiwi", "2");   /* shard 1 */
    tu_txn_set(t, "zucchini", "3"); /* shard 2 */
    tu_txn_set(t, "gone", "x");
    assert_int_equal(mvcc_txn_delete(t, K("gone")), 0);
    tu_txn_get_is(t, "kiwi", "2"); /* own write */
    tu_txn_get_is(t, "gone", NULL);
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_true(cts > mvcc_txn_start_ts(old));
    tu_txn_get_is(old, "apple", NULL); /* snapshot before the commit */
    mvcc_txn_rollback(old);
    tu_client_get_is(k->c, "apple", "1");
    tu_client_get_is(k->c, "zucchini", "3");
    tu_client_get_is(k->c, "gone", NULL);

    /* a scan across the three shards merged with buffered writes */
    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    tu_txn_set(t, "banana", "b");
    assert_int_equal(mvcc_txn_delete(t, K("kiwi")), 0);
    tu_txn_set(t, "zz", "last");
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_txn_scan(t, NULL, 0, NULL, 0, 0, &r), 0);
    assert_int_equal(r.npairs, 4);
    assert_memory_equal(r.pairs[0].key, "apple", 5);
    assert_memory_equal(r.pairs[1].key, "banana", 6);
    assert_memory_equal(r.pairs[2].key, "zucchini", 8);
    assert_memory_equal(r.pairs[3].value, "last", 4);
    assert_int_equal(mvcc_txn_scan(t, K("b"), K("zz"), 2, &r), 0);
    assert_int_equal(r.npairs, 2);
    assert_memory_equal(r.pairs[1].key, "zucchini", 8);
    struct mvcc_key keys[] = {{"zucchini", 8}, {"apple", 5}, {"kiwi", 4},
                              {"banana", 6}, {"nope", 4}};
    assert_int_equal(mvcc_txn_batch_get(t, keys, 5, &r), 0);
    assert_int_equal(r.npairs, 3); /* buffered first, then by shard */
    assert_memory_equal(r.pairs[0].value, "b", 1);
    assert_memory_equal(r.pairs[1].key, "zucchini", 8);
    assert_memory_equal(r.pairs[2].key, "apple", 5);
    assert_memory_equal(r.pairs[2].value, "1", 1);
    mvcc_result_reset(&r);
    commit_ok(t);
    tu_client_get_is(k->c, "kiwi", NULL);
    tu_client_get_is(k->c, "banana", "b");
}

static void conflict_is_reported_not_retried(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *a, *b;
    assert_int_equal(mvcc_txn_begin(k->c, &a), 0);
    assert_int_equal(mvcc_txn_begin(k->c, &b), 0);
    tu_txn_set(a, "x", "a");
    tu_txn_set(b, "x", "b");
    tu_txn_set(b, "y", "b"); /* b's other key must not appear either */
    commit_ok(a);
    assert_int_equal(mvcc_txn_commit(b, NULL), MVCC_CONFLICT);
    tu_client_get_is(k->c, "x", "a");
    tu_client_get_is(k->c, "y", NULL);
    /* read-only and empty txns commit at once */
    assert_int_equal(mvcc_txn_begin(k->c, &a), 0);
    tu_txn_get_is(a, "x", "a");
    commit_ok(a);
}

/* Crash simulation: a failpoint that "kills" the coordinator. */
static int crash_at;
static int failpoint(void *ctx, int point)
{
    (void)ctx;
    return point == crash_at;
}

/* Locks left in shard s (each of them on key, when not NULL). */
static size_t locks_in(struct tu_cluster *k, int s, const char *key)
{
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(
        mvcc_scan_lock(k->s[s], MVCC_TS_MAX, NULL, 0, NULL, 0, 0, &r), 0);
    size_t n = r.nlocks;
    for (size_t i = 0; key && i < n; i++) {
        assert_int_equal(r.locks[i].key_len, strlen(key));
        assert_memory_equal(r.locks[i].key, key, strlen(key));
    }
    mvcc_result_reset(&r);
    return n;
}

static void crash_case(int kind, int point, bool async, bool committed)
{
    struct tu_cluster k;
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.lock_ttl = 1; /* expires a millisecond later */
    o.async_commit = async;
    o.failpoint = failpoint;
    assert_int_equal(tu_cluster_open(&k, kind, &o), 0);
    crash_at = point;
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(k.c, &t), 0);
    tu_txn_set(t, "a", "1");
    tu_txn_set(t, "m", "2");
    tu_txn_set(t, "t", "3");
    assert_int_equal(mvcc_txn_commit(t, NULL), -ECANCELED);
    crash_at = 0;
    /* readers resolve every lock the dead coordinator left */
    const char *want[] = {"1", "2", "3"};
    const char *keys[] = {"t", "m", "a"}; /* secondaries first */
    for (int i = 0; i < 3; i++)
        tu_client_get_is(k.c, keys[i], committed ? want[2 - i] : NULL);
    /* a writer of the same keys gets through (it resolves what is left),
     * and every lock is gone afterwards */
    assert_int_equal(mvcc_txn_begin(k.c, &t), 0);
    tu_txn_set(t, "a", "x");
    tu_txn_set(t, "m", "x");
    tu_txn_set(t, "t", "x");
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    for (int i = 0; i < 3; i++)
        tu_client_get_is(k.c, keys[i], "x");
    for (int s = 0; s < 3; s++)
        assert_int_equal(locks_in(&k, s, NULL), 0);
    tu_cluster_close(&k);
}

static void crash_before_primary_commit_rolls_back(void **state)
{
    crash_case(*(int *)*state, MVCC_FP_AFTER_PREWRITE, false, false);
}

static void crash_after_primary_commit_rolls_forward(void **state)
{
    crash_case(*(int *)*state, MVCC_FP_AFTER_PRIMARY_COMMIT, false, true);
}

static void async_commit_crash_after_prewrite_is_committed(void **state)
{
    crash_case(*(int *)*state, MVCC_FP_AFTER_PREWRITE, true, true);
}

/* GC's lock resolution: a dead coordinator's locks below the safe point
 * (more than one ScanLock batch in a shard) are rolled back, a dead one
 * past its primary's commit rolled forward; a live transaction's lock
 * below it is left and reported; one at or above it is not looked at. */
static void resolve_below_safe_point(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.lock_ttl = 1;
    o.failpoint = failpoint;
    assert_int_equal(tu_cluster_open(&k, kind, &o), 0);
    struct mvcc_txn *t;
    char key[16];
    /* rolled back: 300 keys in shard 1 ([g, p)) and one in each other */
    crash_at = MVCC_FP_AFTER_PREWRITE;
    assert_int_equal(mvcc_txn_begin(k.c, &t), 0);
    tu_txn_set(t, "a", "1");
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "k%03d", i);
        tu_txn_set(t, key, "1");
    }
    tu_txn_set(t, "t", "1");
    assert_int_equal(mvcc_txn_commit(t, NULL), -ECANCELED);
    /* rolled forward: primary "b" committed, "n" and "u" still locked */
    crash_at = MVCC_FP_AFTER_PRIMARY_COMMIT;
    assert_int_equal(mvcc_txn_begin(k.c, &t), 0);
    tu_txn_set(t, "b", "2");
    tu_txn_set(t, "n", "2");
    tu_txn_set(t, "u", "2");
    assert_int_equal(mvcc_txn_commit(t, NULL), -ECANCELED);
    crash_at = 0;
    struct timespec ms2 = {0, 2000000};
    nanosleep(&ms2, NULL); /* past the 1 ms TTL */
    mvcc_ts sp;
    assert_int_equal(mvcc_local_tso_next(&k.tso, &sp), 0);
    uint64_t n = 0;
    assert_int_equal(mvcc_client_resolve_below(k.c, sp, &n), 0);
    assert_int_equal(n, 304); /* 302 of the first, 2 of the second */
    for (int s = 0; s < 3; s++)
        assert_int_equal(locks_in(&k, s, NULL), 0);
    tu_client_get_is(k.c, "a", NULL);
    tu_client_get_is(k.c, "k299", NULL);
    tu_client_get_is(k.c, "u", "2");
    tu_client_get_is(k.c, "n", "2");
    /* nothing left: a second pass meets nothing */
    assert_int_equal(mvcc_client_resolve_below(k.c, sp, &n), 0);
    assert_int_equal(n, 0);

    /* a live transaction (a minute's TTL) whose coordinator is gone */
    struct mvcc_client *slow;
    struct mvcc_client_opts so;
    memset(&so, 0, sizeof so);
    so.transport = k.tr;
    so.tso = mvcc_local_tso_next;
    so.tso_ctx = &k.tso;
    so.lock_ttl = 60000;
    so.failpoint = failpoint;
    assert_int_equal(mvcc_client_create(&so, &slow), 0);
    crash_at = MVCC_FP_AFTER_PREWRITE;
    assert_int_equal(mvcc_txn_begin(slow, &t), 0);
    mvcc_ts live_ts = mvcc_txn_start_ts(t);
    tu_txn_set(t, "live", "3");
    assert_int_equal(mvcc_txn_commit(t, NULL), -ECANCELED);
    crash_at = 0;
    /* a safe point at its start_ts does not look at it */
    assert_int_equal(mvcc_client_resolve_below(k.c, live_ts, &n), 0);
    assert_int_equal(n, 0);
    /* one above it must wait for it */
    assert_int_equal(mvcc_local_tso_next(&k.tso, &sp), 0);
    assert_int_equal(mvcc_client_resolve_below(k.c, sp, &n), MVCC_LOCKED);
    assert_int_equal(n, 1);
    assert_int_equal(locks_in(&k, 1, "live"), 1);
    assert_int_equal(mvcc_client_resolve_below(k.c, 0, &n), -EINVAL);
    mvcc_client_destroy(slow);
    /* a transport without scan_lock offers no GC resolution */
    so.transport.scan_lock = NULL;
    assert_int_equal(mvcc_client_create(&so, &slow), 0);
    assert_int_equal(mvcc_client_resolve_below(slow, sp, &n), -ENOTSUP);
    assert_int_equal(n, 0);
    mvcc_client_destroy(slow);
    tu_cluster_close(&k);
}

/* 40,000 keys with 1PC on: more than one request may carry (the
 * transport's list cap), so it commits in two phases, in chunks, the
 * chunk holding the primary (a pessimistic lock in the middle) first. */
static void big_transaction_commits_in_chunks(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.one_pc = true;
    assert_int_equal(tu_cluster_open(&k, kind, &o), 0);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(k.c, &t), 0);
    struct mvcc_key pk = {"k30000", 6};
    assert_int_equal(mvcc_txn_lock_keys(t, &pk, 1, -1), 0);
    char key[16];
    for (int i = 0; i < 40000; i++) {
        snprintf(key, sizeof key, "k%05d", i);
        tu_txn_set(t, key, "v");
    }
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_true(cts > 0);
    tu_client_get_is(k.c, "k00000", "v");
    tu_client_get_is(k.c, "k30000", "v");
    tu_client_get_is(k.c, "k39999", "v");
    assert_int_equal(mvcc_txn_begin(k.c, &t), 0);
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_txn_scan(t, K("k"), K("l"), 0, &r), 0);
    assert_int_equal(r.npairs, 40000);
    mvcc_result_reset(&r);
    mvcc_txn_rollback(t);
    tu_cluster_close(&k);
}

static void one_pc_and_async_commit(void **state)
{
    int kind = *(int *)*state;
    for (int mode = 0; mode < 2; mode++) {
        struct tu_cluster k;
        struct mvcc_client_opts o;
        memset(&o, 0, sizeof o);
        o.one_pc = mode == 0;
        o.async_commit = mode == 1;
        assert_int_equal(tu_cluster_open(&k, kind, &o), 0);
        struct mvcc_txn *t;
        assert_int_equal(mvcc_txn_begin(k.c, &t), 0);
        tu_txn_set(t, "a", "1");
        tu_txn_set(t, mode ? "z" : "b", "2"); /* 1PC: one shard; async: two */
        mvcc_ts cts;
        assert_int_equal(mvcc_txn_commit(t, &cts), 0);
        assert_true(cts > 0);
        tu_client_get_is(k.c, "a", "1");
        tu_client_get_is(k.c, mode ? "z" : "b", "2");
        for (int s = 0; s < 3; s++) {
            struct mvcc_result r;
            mvcc_result_init(&r);
            assert_int_equal(mvcc_scan_lock(k.s[s], MVCC_TS_MAX, NULL, 0,
                                            NULL, 0, 0, &r),
                             0);
            assert_int_equal(r.nlocks, 0);
            mvcc_result_reset(&r);
        }
        tu_cluster_close(&k);
    }
}


/* An async-commit prewrite whose answer is lost (a kvd killed after it
 * replicated, a deadline) is sent again after the store served reads at
 * later timestamps; meanwhile a resolver (another client meeting the
 * expired lock) commits the primary at the commit_ts the locks give. The
 * coordinator must commit the rest at that same commit_ts: before the fix
 * the resent prewrite answered a fresh min_commit_ts above those reads,
 * the coordinator committed the secondary above the primary, and a reader
 * between the two saw half the transaction (chaos_bank's torn total). */
struct lossy
{
    struct mvcc_transport in; /* the in-process transport */
    struct mvcc_store **s;    /* its stores */
    bool lost;                /* shard 2's first prewrite answer dropped */
    bool resolved;            /* the "resolver" committed the primary */
    mvcc_ts resolver_ts;      /* at this commit_ts */
};

static int lossy_locate(void *ctx, const void *key, size_t len,
                        uint64_t *shard, const uint8_t **end, size_t *end_len)
{
    struct lossy *l = ctx;
    return l->in.locate(l->in.ctx, key, len, shard, end, end_len);
}

static int lossy_batch_get(void *ctx, uint64_t shard,
                           const struct mvcc_read_opts *ro,
                           const struct mvcc_key *keys, size_t n, mvcc_ts ts,
                           struct mvcc_result *res)
{
    struct lossy *l = ctx;
    return l->in.batch_get(l->in.ctx, shard, ro, keys, n, ts, res);
}

static int lossy_prewrite(void *ctx, uint64_t shard,
                          const struct mvcc_prewrite_req *req,
                          struct mvcc_result *res)
{
    struct lossy *l = ctx;
    int rc = l->in.prewrite(l->in.ctx, shard, req, res);
    if (rc == 0 && shard == 2 && !l->lost) {
        l->lost = true;
        /* reads a second later reach the store before the resend */
        mvcc_store_update_max_ts(l->s[2], req->start_ts + ((mvcc_ts)1000 << 18));
        return MVCC_SERVER_BUSY;
    }
    return rc;
}

/* Before the coordinator's first commit lands, the resolver's: the
 * largest min_commit_ts of the locks, applied to the primary only. */
static int lossy_commit(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                        size_t n, mvcc_ts start_ts, mvcc_ts commit_ts,
                        struct mvcc_result *res)
{
    struct lossy *l = ctx;
    if (!l->resolved) {
        l->resolved = true;
        mvcc_ts cts = 0;
        for (int i = 0; i < 3; i++) {
            assert_int_equal(mvcc_scan_lock(l->s[i], MVCC_TS_MAX, NULL, 0,
                                            NULL, 0, 0, res),
                             0);
            for (size_t j = 0; j < res->nlocks; j++)
                if (res->locks[j].min_commit_ts > cts)
                    cts = res->locks[j].min_commit_ts;
        }
        struct mvcc_key pk = {"a", 1};
        assert_int_equal(mvcc_commit(l->s[0], &pk, 1, start_ts, cts, res), 0);
        l->resolver_ts = cts;
    }
    return l->in.commit(l->in.ctx, shard, keys, n, start_ts, commit_ts, res);
}

static void async_commit_resent_prewrite_commits_at_one_ts(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    struct lossy l;
    memset(&l, 0, sizeof l);
    l.in = k.tr;
    l.s = k.s;
    struct mvcc_transport tr = k.tr;
    tr.ctx = &l;
    tr.locate = lossy_locate;
    tr.batch_get = lossy_batch_get;
    tr.prewrite = lossy_prewrite;
    tr.commit = lossy_commit;
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.async_commit = true;
    o.transport = tr;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &k.tso;
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    tu_txn_set(t, "a", "1"); /* shard 0: the primary */
    tu_txn_set(t, "z", "2"); /* shard 2 */
    mvcc_ts cts = 0;
    assert_int_equal(mvcc_txn_commit(t, &cts), 0);
    assert_true(l.lost);
    assert_true(l.resolved);
    assert_int_equal(cts, l.resolver_ts);
    /* both keys at cts: a reader just below sees neither, at it both */
    struct mvcc_result r;
    mvcc_result_init(&r);
    assert_int_equal(mvcc_get(k.s[0], NULL, K("a"), cts - 1, &r),
                     MVCC_NOTFOUND);
    assert_int_equal(mvcc_get(k.s[2], NULL, K("z"), cts - 1, &r),
                     MVCC_NOTFOUND);
    assert_int_equal(mvcc_get(k.s[0], NULL, K("a"), cts, &r), 0);
    assert_int_equal(mvcc_get(k.s[2], NULL, K("z"), cts, &r), 0);
    mvcc_result_reset(&r);
    mvcc_client_destroy(c);
    tu_cluster_close(&k);
}

/* Pessimistic transactions through the client. */

struct counter
{
    struct mvcc_client *c; /* client */
    int ok;                /* increments committed */
    int failed;            /* anything else */
};

static void *counter_thread(void *arg)
{
    struct counter *w = arg;
    for (int i = 0; i < 25; i++) {
        struct mvcc_txn *t;
        if (mvcc_txn_begin(w->c, &t) != 0) {
            w->failed++;
            continue;
        }
        uint8_t *v = NULL;
        size_t vl = 0;
        long n = 0;
        int rc = mvcc_txn_get_for_update(t, K("counter"), 60000, &v, &vl);
        if (rc == 0) {
            char b[32];
            memcpy(b, v, vl < 31 ? vl : 31);
            b[vl < 31 ? vl : 31] = 0;
            n = atol(b);
            mvcc_free(v);
        } else if (rc != MVCC_NOTFOUND) {
            mvcc_txn_rollback(t);
            w->failed++;
            continue;
        }
        char b[32];
        snprintf(b, sizeof b, "%ld", n + 1);
        if (mvcc_txn_set(t, K("counter"), K(b)) != 0 ||
            mvcc_txn_commit(t, NULL) != 0)
            w->failed++;
        else
            w->ok++;
    }
    return NULL;
}

static void for_update_serializes_increments(void **state)
{
    struct tu_cluster *k = *state;
    pthread_t th[4];
    struct counter w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct counter){k->c, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, counter_thread, &w[i]),
                         0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failed, 0); /* waits, never conflicts */
        assert_int_equal(w[i].ok, 25);
    }
    tu_client_get_is(k->c, "counter", "100");
}

static void lock_keys_no_wait_and_rollback_releases(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *a, *b;
    struct mvcc_key keys[] = {{"kiwi", 4}, {"apple", 5}}; /* two shards */
    assert_int_equal(mvcc_txn_begin(k->c, &a), 0);
    assert_int_equal(mvcc_txn_lock_keys(a, keys, 2, 0), 0);
    assert_int_equal(mvcc_txn_begin(k->c, &b), 0);
    assert_int_equal(mvcc_txn_blocker(b), 0); /* no request yet */
    assert_int_equal(mvcc_txn_lock_keys(b, &keys[1], 1, 0), MVCC_LOCKED);
    /* the lock b stopped at is a's, and so is the one a short wait met */
    assert_int_equal(mvcc_txn_blocker(b), mvcc_txn_start_ts(a));
    assert_int_equal(mvcc_txn_lock_keys(b, keys, 2, 20),
                     MVCC_LOCK_WAIT_TIMEOUT);
    assert_int_equal(mvcc_txn_blocker(b), mvcc_txn_start_ts(a));
    struct mvcc_key pear = {"pear", 4};
    assert_int_equal(mvcc_txn_lock_keys(b, &pear, 1, 0), 0);
    assert_int_equal(mvcc_txn_blocker(b), 0); /* a request that locked */
    mvcc_txn_rollback(b);
    assert_int_equal(mvcc_txn_begin(k->c, &b), 0);
    assert_int_equal(mvcc_txn_lock_keys(b, &keys[1], 1, 0), MVCC_LOCKED);
    /* a holds both; b, refused, holds none, even after writing one */
    assert_true(mvcc_txn_holds_lock(a, "kiwi", 4));
    assert_true(mvcc_txn_holds_lock(a, "apple", 5));
    assert_false(mvcc_txn_holds_lock(a, "pear", 4));
    tu_txn_set(b, "apple", "b");
    assert_false(mvcc_txn_holds_lock(b, "apple", 5));
    mvcc_txn_rollback(b);
    assert_int_equal(mvcc_txn_begin(k->c, &b), 0);
    /* b never got a lock: its commit of a write to another key works */
    tu_txn_set(b, "zz", "b");
    assert_int_equal(mvcc_txn_commit(b, NULL), 0);
    mvcc_txn_rollback(a); /* releases both */
    assert_int_equal(mvcc_txn_begin(k->c, &b), 0);
    assert_int_equal(mvcc_txn_lock_keys(b, keys, 2, 0), 0);
    /* a locked-only key commits as a lock record: value unchanged */
    tu_txn_set(b, "apple", "new");
    commit_ok(b);
    tu_client_get_is(k->c, "apple", "new");
    tu_client_get_is(k->c, "kiwi", NULL);
}

struct locker
{
    struct mvcc_txn *t; /* txn */
    const char *key;    /* key to lock */
    int rc;             /* outcome */
};

static void *locker_thread(void *arg)
{
    struct locker *l = arg;
    struct mvcc_key k = {l->key, strlen(l->key)};
    l->rc = mvcc_txn_lock_keys(l->t, &k, 1, 60000);
    return NULL;
}

static void client_deadlock_is_reported(void **state)
{
    struct tu_cluster *k = *state;
    struct mvcc_txn *t1, *t2;
    struct mvcc_key a = {"a1", 2}, b = {"b1", 2}; /* both shard 0 */
    assert_int_equal(mvcc_txn_begin(k->c, &t1), 0);
    assert_int_equal(mvcc_txn_begin(k->c, &t2), 0);
    assert_int_equal(mvcc_txn_lock_keys(t1, &a, 1, 0), 0);
    assert_int_equal(mvcc_txn_lock_keys(t2, &b, 1, 0), 0);
    struct locker l = {t1, "b1", -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, locker_thread, &l), 0);
    while (mvcc_store_lock_waiters(k->s[0]) != 1)
        sched_yield();
    assert_int_equal(mvcc_txn_lock_keys(t2, &a, 1, 60000), MVCC_DEADLOCK);
    mvcc_txn_rollback(t2);
    pthread_join(th, NULL);
    assert_int_equal(l.rc, 0);
    tu_txn_set(t1, "b1", "x");
    commit_ok(t1);
    tu_client_get_is(k->c, "b1", "x");
}

/* A waiter woken by the holder's commit retakes the lock at a newer
 * for_update_ts however long it waited: the wait is not lock-resolution
 * time (resolve_budget_ms 50 here; the wait lasts more than 200 ms).
 * sqld's embedded store once answered 1213 to a SELECT ... FOR UPDATE
 * that had waited past its 100 ms budget. */
static void waiter_outlasting_budget_gets_the_lock(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.resolve_budget_ms = 50;
    assert_int_equal(tu_cluster_open(&k, kind, &o), 0);
    struct mvcc_txn *t1, *t2;
    struct mvcc_key key = {"b7", 2}; /* shard 0 */
    assert_int_equal(mvcc_txn_begin(k.c, &t1), 0);
    assert_int_equal(mvcc_txn_lock_keys(t1, &key, 1, 0), 0);
    assert_int_equal(mvcc_txn_begin(k.c, &t2), 0);
    struct locker l = {t2, "b7", -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, locker_thread, &l), 0);
    while (mvcc_store_lock_waiters(k.s[0]) != 1)
        sched_yield();
    struct timespec d = {0, 200 * 1000000L};
    nanosleep(&d, NULL);
    tu_txn_set(t1, "b7", "x");
    commit_ok(t1);
    pthread_join(th, NULL);
    assert_int_equal(l.rc, 0);
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(mvcc_txn_get_for_update(t2, K("b7"), 0, &v, &vl), 0);
    assert_int_equal(vl, 1);
    assert_memory_equal(v, "x", 1);
    mvcc_free(v);
    tu_txn_set(t2, "b7", "y");
    commit_ok(t2);
    tu_client_get_is(k.c, "b7", "y");
    tu_cluster_close(&k);
}

static void heartbeat_keeps_pessimistic_locks_alive(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster k;
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.lock_ttl = 300;
    assert_int_equal(tu_cluster_open(&k, kind, &o), 0);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(k.c, &t), 0);
    struct mvcc_key key = {"hb", 2}; /* shard 1 */
    assert_int_equal(mvcc_txn_lock_keys(t, &key, 1, 0), 0);
    /* Poll (no deadline but the suite's) until a heartbeat raised the
     * primary lock's TTL above the initial 300 ms. */
    struct mvcc_result r;
    mvcc_result_init(&r);
    for (;;) {
        struct mvcc_check_txn_req req = {"hb", 2, mvcc_txn_start_ts(t), 0,
                                         mvcc_txn_start_ts(t), false, false};
        assert_int_equal(mvcc_check_txn_status(k.s[1], &req, &r), 0);
        assert_int_equal(r.status, MVCC_TXN_LOCKED);
        if (r.lock_ttl > 300)
            break;
        struct timespec d = {0, 10 * 1000000L};
        nanosleep(&d, NULL);
    }
    mvcc_result_reset(&r);
    tu_txn_set(t, "hb", "v");
    commit_ok(t); /* stops the heartbeat */
    tu_client_get_is(k.c, "hb", "v");
    tu_cluster_close(&k);
}

static void scan_limits_and_reverse_match_full_scan(void **state)
{
    struct tu_cluster *k = *state;
    static const char *stored[] = {"a1", "a2", "a3", "a4", "a5", "k1",
                                   "k2", "k3", "z1"};
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    for (size_t i = 0; i < 9; i++)
        tu_txn_set(t, stored[i], "s");
    commit_ok(t);
    unsigned seed = 3;
    for (int round = 0; round < 40; round++) {
        assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
        /* random buffered puts and deletes over the same key space */
        for (int j = 0; j < 5; j++) {
            seed = seed * 1103515245u + 12345u;
            char key[8];
            snprintf(key, sizeof key, "%c%u", "akz"[(seed >> 8) % 3],
                     (seed >> 12) % 6);
            if ((seed >> 20) % 2)
                assert_int_equal(mvcc_txn_delete(t, K(key)), 0);
            else
                tu_txn_set(t, key, "b");
        }
        struct mvcc_result full, part;
        mvcc_result_init(&full);
        mvcc_result_init(&part);
        assert_int_equal(mvcc_txn_scan(t, NULL, 0, NULL, 0, 0, &full), 0);
        for (size_t lim = 1; lim <= full.npairs + 1; lim++) {
            assert_int_equal(mvcc_txn_scan(t, NULL, 0, NULL, 0, lim, &part),
                             0);
            size_t want = lim < full.npairs ? lim : full.npairs;
            assert_int_equal(part.npairs, want);
            for (size_t i = 0; i < want; i++) {
                assert_int_equal(part.pairs[i].key_len, full.pairs[i].key_len);
                assert_memory_equal(part.pairs[i].key, full.pairs[i].key,
                                    full.pairs[i].key_len);
                assert_memory_equal(part.pairs[i].value, full.pairs[i].value,
                                    full.pairs[i].value_len);
            }
        }
        /* reverse: the same pairs backwards, and its limits are prefixes */
        struct mvcc_result rev;
        mvcc_result_init(&rev);
        assert_int_equal(mvcc_txn_scan_reverse(t, NULL, 0, NULL, 0, 0, &rev),
                         0);
        assert_int_equal(rev.npairs, full.npairs);
        for (size_t i = 0; i < full.npairs; i++) {
            const struct mvcc_kvpair *a = &full.pairs[full.npairs - 1 - i];
            assert_int_equal(rev.pairs[i].key_len, a->key_len);
            assert_memory_equal(rev.pairs[i].key, a->key, a->key_len);
        }
        for (size_t lim = 1; lim <= rev.npairs + 1; lim++) {
            assert_int_equal(
                mvcc_txn_scan_reverse(t, NULL, 0, NULL, 0, lim, &part), 0);
            size_t want = lim < rev.npairs ? lim : rev.npairs;
            assert_int_equal(part.npairs, want);
            for (size_t i = 0; i < want; i++)
                assert_memory_equal(part.pairs[i].key, rev.pairs[i].key,
                                    rev.pairs[i].key_len);
        }
        /* bounded both ways, crossing the split at "p" */
        assert_int_equal(mvcc_txn_scan(t, K("k"), K("z2"), 0, &full), 0);
        assert_int_equal(mvcc_txn_scan_reverse(t, K("k"), K("z2"), 0, &rev),
                         0);
        assert_int_equal(rev.npairs, full.npairs);
        for (size_t i = 0; i < full.npairs; i++)
            assert_memory_equal(rev.pairs[i].key,
                                full.pairs[full.npairs - 1 - i].key,
                                full.pairs[full.npairs - 1 - i].key_len);
        mvcc_result_reset(&rev);
        mvcc_result_reset(&full);
        mvcc_result_reset(&part);
        mvcc_txn_rollback(t);
    }
}

static struct mvcc_key split_g = {"g", 1};

static void local_transport_routes_by_range(void **state)
{
    struct tu_cluster *k = *state;
    uint64_t shard;
    const uint8_t *end;
    size_t el;
    assert_int_equal(k->tr.locate(k->tr.ctx, K("a"), &shard, &end, &el), 0);
    assert_int_equal(shard, 0);
    assert_int_equal(el, 1);
    assert_memory_equal(end, "g", 1);
    assert_int_equal(k->tr.locate(k->tr.ctx, K("g"), &shard, &end, &el), 0);
    assert_int_equal(shard, 1);
    assert_int_equal(k->tr.locate(k->tr.ctx, K("zz"), &shard, &end, &el), 0);
    assert_int_equal(shard, 2);
    assert_null(end);
    /* locate_prev: the shard of the keys just below */
    assert_int_equal(k->tr.locate_prev(k->tr.ctx, K("g"), &shard, &end, &el),
                     0);
    assert_int_equal(shard, 0);
    assert_null(end);
    assert_int_equal(k->tr.locate_prev(k->tr.ctx, K("p"), &shard, &end, &el),
                     0);
    assert_int_equal(shard, 1);
    assert_memory_equal(end, "g", 1);
    assert_int_equal(k->tr.locate_prev(k->tr.ctx, NULL, 0, &shard, &end, &el),
                     0);
    assert_int_equal(shard, 2);
    assert_memory_equal(end, "p", 1);
    struct mvcc_transport t;
    assert_int_equal(mvcc_local_transport_init(&t, k->s, 2, NULL), -EINVAL);
    assert_int_equal(mvcc_local_transport_init(&t, k->s, 2, &split_g), 0);
    mvcc_local_transport_free(&t);
    mvcc_local_transport_free(&t); /* twice is harmless */
}

/* Replies lost at the commit point: the transport sends the request
 * (or not) and answers -ETIMEDOUT, as a store cut off from the client
 * after it applied it would. The coordinator must never report a failure
 * for a transaction that committed, nor roll back the secondaries of a
 * primary that committed (a torn transaction: test_sql_partition.sh's
 * bank under plain 2PC lost 7 from its total that way). */
struct dropper
{
    struct mvcc_transport in; /* the in-process transport */
    bool apply;               /* the lost request applies all the same */
    int commits_lost;         /* primary (shard 0) commits still to lose */
    int rollbacks_lost;       /* shard 0 rollbacks still to lose */
    int prewrites_lost;       /* prewrites of shard lose_shard to lose */
    uint64_t lose_shard;      /* whose prewrite replies are lost */
    int checks_lost;          /* CheckSecondaryLocks calls still to lose
                                 (not applied) */
    int checks;               /* CheckSecondaryLocks calls made */
};

static int d_locate(void *ctx, const void *key, size_t len, uint64_t *shard,
                    const uint8_t **end, size_t *end_len)
{
    struct dropper *d = ctx;
    return d->in.locate(d->in.ctx, key, len, shard, end, end_len);
}

static int d_batch_get(void *ctx, uint64_t shard,
                       const struct mvcc_read_opts *ro,
                       const struct mvcc_key *keys, size_t n, mvcc_ts ts,
                       struct mvcc_result *res)
{
    struct dropper *d = ctx;
    return d->in.batch_get(d->in.ctx, shard, ro, keys, n, ts, res);
}

static int d_prewrite(void *ctx, uint64_t shard,
                      const struct mvcc_prewrite_req *req,
                      struct mvcc_result *res)
{
    struct dropper *d = ctx;
    if (shard == d->lose_shard && d->prewrites_lost > 0) {
        d->prewrites_lost--;
        if (d->apply)
            (void)d->in.prewrite(d->in.ctx, shard, req, res);
        return -ETIMEDOUT;
    }
    return d->in.prewrite(d->in.ctx, shard, req, res);
}

static int d_commit(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                    size_t n, mvcc_ts start_ts, mvcc_ts commit_ts,
                    struct mvcc_result *res)
{
    struct dropper *d = ctx;
    if (shard == 0 && d->commits_lost > 0) {
        d->commits_lost--;
        if (d->apply)
            (void)d->in.commit(d->in.ctx, shard, keys, n, start_ts,
                               commit_ts, res);
        return -ETIMEDOUT;
    }
    return d->in.commit(d->in.ctx, shard, keys, n, start_ts, commit_ts, res);
}

static int d_rollback(void *ctx, uint64_t shard, const struct mvcc_key *keys,
                      size_t n, mvcc_ts start_ts, struct mvcc_result *res)
{
    struct dropper *d = ctx;
    if (shard == 0 && d->rollbacks_lost > 0) {
        d->rollbacks_lost--;
        return -ETIMEDOUT;
    }
    return d->in.batch_rollback(d->in.ctx, shard, keys, n, start_ts, res);
}

/* The commands the dropper does not lose go through as they are (the
 * coordinator's heartbeat, lock resolution): the inner transport's, with
 * its own context. */
static int d_check_txn_status(void *ctx, uint64_t shard,
                              const struct mvcc_check_txn_req *req,
                              struct mvcc_result *res)
{
    struct dropper *d = ctx;
    return d->in.check_txn_status(d->in.ctx, shard, req, res);
}

static int d_check_secondary_locks(void *ctx, uint64_t shard,
                                   const struct mvcc_key *keys, size_t n,
                                   mvcc_ts start_ts, struct mvcc_result *res)
{
    struct dropper *d = ctx;
    d->checks++;
    if (d->checks_lost > 0) {
        d->checks_lost--;
        return -ETIMEDOUT;
    }
    return d->in.check_secondary_locks(d->in.ctx, shard, keys, n, start_ts,
                                       res);
}

static int d_resolve_lock(void *ctx, uint64_t shard, mvcc_ts start_ts,
                          mvcc_ts commit_ts, const void *start,
                          size_t start_len, const void *end, size_t end_len,
                          struct mvcc_result *res)
{
    struct dropper *d = ctx;
    return d->in.resolve_lock(d->in.ctx, shard, start_ts, commit_ts, start,
                              start_len, end, end_len, res);
}

static int d_txn_heartbeat(void *ctx, uint64_t shard, const void *primary,
                           size_t primary_len, mvcc_ts start_ts,
                           uint64_t advise_ttl, struct mvcc_result *res)
{
    struct dropper *d = ctx;
    return d->in.txn_heartbeat(d->in.ctx, shard, primary, primary_len,
                               start_ts, advise_ttl, res);
}

/* Commits a, m, t (shards 0, 1, 2) through a dropper set up as given;
 * returns what the commit answered. The client's locks expire at once,
 * so tu_client_get_is afterwards settles what is left. */
static int drop_case(struct tu_cluster *k, struct dropper *d, bool one_pc,
                     bool async, bool single)
{
    d->in = k->tr;
    struct mvcc_transport tr = k->tr;
    tr.ctx = d;
    tr.locate = d_locate;
    tr.batch_get = d_batch_get;
    tr.prewrite = d_prewrite;
    tr.commit = d_commit;
    tr.batch_rollback = d_rollback;
    tr.check_txn_status = d_check_txn_status;
    tr.check_secondary_locks = d_check_secondary_locks;
    tr.resolve_lock = d_resolve_lock;
    tr.txn_heartbeat = d_txn_heartbeat;
    /* (no scans, pessimistic locks or coprocessor here) */
    tr.locate_prev = NULL;
    tr.scan = NULL;
    tr.acquire_pessimistic_lock = NULL;
    tr.pessimistic_rollback = NULL;
    tr.cop = NULL;
    tr.scan_lock = NULL;
    struct mvcc_client_opts o;
    memset(&o, 0, sizeof o);
    o.one_pc = one_pc;
    o.async_commit = async;
    o.lock_ttl = 1;
    o.transport = tr;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &k->tso;
    struct mvcc_client *c;
    assert_int_equal(mvcc_client_create(&o, &c), 0);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    tu_txn_set(t, "a", "1");
    if (!single) {
        tu_txn_set(t, "m", "2");
        tu_txn_set(t, "t", "3");
    }
    int rc = mvcc_txn_commit(t, NULL);
    mvcc_client_destroy(c);
    return rc;
}

/* All three keys read as committed (or all as absent), secondaries
 * first; then a writer of the same keys gets through (it settles every
 * lock left, once expired) and no lock is left. */
static void all_or_none(struct tu_cluster *k, bool committed, bool single)
{
    tu_client_get_is(k->c, "t", committed && !single ? "3" : NULL);
    tu_client_get_is(k->c, "m", committed && !single ? "2" : NULL);
    tu_client_get_is(k->c, "a", committed ? "1" : NULL);
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(k->c, &t), 0);
    tu_txn_set(t, "a", "x");
    tu_txn_set(t, "m", "x");
    tu_txn_set(t, "t", "x");
    assert_int_equal(mvcc_txn_commit(t, NULL), 0);
    assert_int_equal(locks_in(k, 0, NULL), 0);
}

static void lost_primary_commit_reply_settled(void **state)
{
    int kind = *(int *)*state;
    for (int applied = 0; applied < 2; applied++) {
        struct tu_cluster k;
        assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
        /* 2PC; the primary's commit applies (or not) and its reply is
         * lost; the rollback that settles it is answered */
        struct dropper d = {.apply = applied, .commits_lost = 1};
        int rc = drop_case(&k, &d, false, false, false);
        /* applied: the rollback finds it committed, and so is the rest;
         * not: rolled back for sure, the timeout reported */
        assert_int_equal(rc, applied ? 0 : -ETIMEDOUT);
        all_or_none(&k, applied, false);
        tu_cluster_close(&k);
    }
}

static void lost_primary_commit_unsettled_is_undetermined(void **state)
{
    int kind = *(int *)*state;
    for (int applied = 0; applied < 2; applied++) {
        struct tu_cluster k;
        assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
        /* no answer to the rollback either: undetermined, and the
         * secondaries keep their locks */
        struct dropper d = {.apply = applied, .commits_lost = 1,
                            .rollbacks_lost = 1};
        assert_int_equal(drop_case(&k, &d, false, false, false),
                         MVCC_UNDETERMINED);
        /* (the three stores share one engine: a scan sees every lock) */
        assert_int_equal(locks_in(&k, 0, NULL), applied ? 2 : 3);
        /* readers settle it through the primary, all or nothing */
        all_or_none(&k, applied, false);
        tu_cluster_close(&k);
    }
}

/* Async commit: a secondary's prewrite applies (or not) and its reply is
 * lost, so every lock may be there and the transaction may be committed.
 * The coordinator asks after that secondary's key (CheckSecondaryLocks):
 * locked, so committed, and the coordinator commits the rest; or missing,
 * rolled back there (a late prewrite cannot land), so the transaction
 * fails for sure and its other locks are rolled back. */
static void lost_async_prewrite_reply_settled(void **state)
{
    int kind = *(int *)*state;
    for (int applied = 0; applied < 2; applied++) {
        struct tu_cluster k;
        assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
        struct dropper d = {.apply = applied, .prewrites_lost = 1,
                            .lose_shard = 2};
        assert_int_equal(drop_case(&k, &d, false, true, false),
                         applied ? 0 : -ETIMEDOUT);
        assert_int_equal(d.checks, 1); /* "t" only */
        assert_int_equal(locks_in(&k, 0, NULL), 0);
        all_or_none(&k, applied, false);
        tu_cluster_close(&k);
    }
}

/* The same when CheckSecondaryLocks gets no answer either. */
static void lost_async_prewrite_reply_is_undetermined(void **state)
{
    int kind = *(int *)*state;
    for (int applied = 0; applied < 2; applied++) {
        struct tu_cluster k;
        assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
        /* async commit: a secondary's prewrite applies (or not), its
         * reply lost, and so is the check that would settle it */
        struct dropper d = {.apply = applied, .prewrites_lost = 1,
                            .lose_shard = 2, .checks_lost = 1};
        assert_int_equal(drop_case(&k, &d, false, true, false),
                         MVCC_UNDETERMINED);
        /* none rolled back: a, m, and t if its prewrite applied */
        assert_int_equal(locks_in(&k, 0, NULL), applied ? 3 : 2);
        all_or_none(&k, applied, false);
        tu_cluster_close(&k);
    }
    struct tu_cluster k;
    assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
    /* the primary's group lost: the others were never sent, so it cannot
     * have committed; rolled back, the timeout reported */
    struct dropper d = {.apply = true, .prewrites_lost = 1, .lose_shard = 0};
    assert_int_equal(drop_case(&k, &d, false, true, false), -ETIMEDOUT);
    all_or_none(&k, false, false);
    tu_cluster_close(&k);
}

/* 1PC: the one request applies (or not) and its reply is lost. The key's
 * store says committed (and at what commit_ts), or rolls it back. */
static void lost_one_pc_reply_settled(void **state)
{
    int kind = *(int *)*state;
    for (int applied = 0; applied < 2; applied++) {
        struct tu_cluster k;
        assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
        struct dropper d = {.apply = applied, .prewrites_lost = 1,
                            .lose_shard = 0};
        assert_int_equal(drop_case(&k, &d, true, true, true),
                         applied ? 0 : -ETIMEDOUT);
        assert_int_equal(d.checks, 1);
        all_or_none(&k, applied, true);
        tu_cluster_close(&k);
    }
}

static void lost_one_pc_reply_is_undetermined(void **state)
{
    int kind = *(int *)*state;
    for (int applied = 0; applied < 2; applied++) {
        struct tu_cluster k;
        assert_int_equal(tu_cluster_open(&k, kind, NULL), 0);
        struct dropper d = {.apply = applied, .prewrites_lost = 1,
                            .lose_shard = 0, .checks_lost = 1};
        assert_int_equal(drop_case(&k, &d, true, true, true),
                         MVCC_UNDETERMINED);
        all_or_none(&k, applied, true);
        tu_cluster_close(&k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_BOTH_CLUSTER(writes_reads_and_scans),
        TU_BOTH_CLUSTER(scan_limits_and_reverse_match_full_scan),
        TU_BOTH_CLUSTER(conflict_is_reported_not_retried),
        TU_BOTH_CLUSTER(local_transport_routes_by_range),
        TU_BOTH_CLUSTER(for_update_serializes_increments),
        TU_BOTH_CLUSTER(lock_keys_no_wait_and_rollback_releases),
        TU_BOTH_CLUSTER(client_deadlock_is_reported),
        TU_BOTH_KIND(heartbeat_keeps_pessimistic_locks_alive),
        TU_BOTH_KIND(waiter_outlasting_budget_gets_the_lock),
        TU_BOTH_KIND(crash_before_primary_commit_rolls_back),
        TU_BOTH_KIND(resolve_below_safe_point),
        TU_BOTH_KIND(crash_after_primary_commit_rolls_forward),
        TU_BOTH_KIND(async_commit_crash_after_prewrite_is_committed),
        TU_BOTH_KIND(one_pc_and_async_commit),
        TU_BOTH_KIND(async_commit_resent_prewrite_commits_at_one_ts),
        TU_BOTH_KIND(big_transaction_commits_in_chunks),
        TU_BOTH_KIND(lost_primary_commit_reply_settled),
        TU_BOTH_KIND(lost_primary_commit_unsettled_is_undetermined),
        TU_BOTH_KIND(lost_async_prewrite_reply_settled),
        TU_BOTH_KIND(lost_async_prewrite_reply_is_undetermined),
        TU_BOTH_KIND(lost_one_pc_reply_settled),
        TU_BOTH_KIND(lost_one_pc_reply_is_undetermined),
    };
    return cmocka_run_group_tests_name("libmvcc/client", tests, NULL, NULL);
}

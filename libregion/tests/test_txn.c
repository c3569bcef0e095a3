/* test_txn.c: libmvcc's Percolator commands through the regions' Raft
 * groups (region_txn_run), with the cluster's loop on a thread: prewrite and
 * commit replicate to every store, reads go through the read barrier, and
 * a follower refuses with NotLeader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cluster.h"

struct prewrite_arg {
    const char *key;          /* the only key, also the primary */
    const char *value;        /* its value */
    mvcc_ts start_ts;         /* txn start */
    struct mvcc_result res;   /* outcome (1PC: commit_ts) */
    struct region_store *one_pc; /* 1PC on this store, after the max_ts
                                    check kvd makes (NULL: a lock) */
};

static int do_prewrite(struct mvcc_store *m, void *arg)
{
    struct prewrite_arg *a = arg;
    int rc = a->one_pc ? region_txn_check_max_ts(a->one_pc) : 0;
    if (rc != 0)
        return rc;
    struct mvcc_mutation mu = {MVCC_OP_PUT, a->key, strlen(a->key), a->value,
                               strlen(a->value), false};
    struct mvcc_prewrite_req req = {.mutations = &mu, .n = 1,
                                    .primary = a->key,
                                    .primary_len = strlen(a->key),
                                    .start_ts = a->start_ts,
                                    .lock_ttl = 3000, .txn_size = 1,
                                    .try_one_pc = a->one_pc != NULL};
    return mvcc_prewrite(m, &req, &a->res);
}

struct commit_arg {
    const char *key;        /* key to commit */
    mvcc_ts start_ts;       /* txn start */
    mvcc_ts commit_ts;      /* commit */
    struct mvcc_result res; /* outcome */
};

static int do_commit(struct mvcc_store *m, void *arg)
{
    struct commit_arg *a = arg;
    struct mvcc_key k = {a->key, strlen(a->key)};
    return mvcc_commit(m, &k, 1, a->start_ts, a->commit_ts, &a->res);
}

struct get_arg {
    const char *key;        /* key to read */
    mvcc_ts ts;             /* read ts */
    struct mvcc_result res; /* pairs[0] when found */
};

static int do_get(struct mvcc_store *m, void *arg)
{
    struct get_arg *a = arg;
    return mvcc_get(m, NULL, a->key, strlen(a->key), a->ts, &a->res);
}

/* Until store i's leadership serves writes: they wait (ServerIsBusy)
 * until the new leader applied an entry of its term, as a client backs
 * off and resends; a read (through its read index) waits for the same. */
static bool serves_writes(struct cluster *c, int i, uint64_t region)
{
    struct region_ctx ctx = {region, 1, 1};
    struct region_err err;
    struct get_arg g = {"~", 1, {0}};
    mvcc_result_init(&g.res);
    int rc = region_txn_run(c->st[i].s, &ctx, true, do_get, &g, &err);
    mvcc_result_reset(&g.res);
    return rc == MVCC_NOTFOUND || rc == 0;
}

static int leader_of(struct cluster *c, uint64_t region)
{
    for (int t = 0; t < 20000; t++) {
        for (int i = 1; i <= c->n; i++)
            if (region_store_is_leader(c->st[i].s, region) &&
                serves_writes(c, i, region))
                return i;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL); /* the loop thread elects; poll its outcome */
    }
    return 0;
}

static void prewrite_commit_read(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    cl_thread_start(&c);
    int l = leader_of(&c, 1);
    assert_true(l > 0);
    struct region_ctx ctx = {1, 1, 1};
    struct region_err err;

    struct prewrite_arg pw = {"tk", "tv", 100, {0}, NULL};
    mvcc_result_init(&pw.res);
    assert_int_equal(region_txn_run(c.st[l].s, &ctx, false, do_prewrite, &pw,
                                    &err), 0);
    mvcc_result_reset(&pw.res);

    /* a reader above start_ts meets the lock */
    struct get_arg g = {"tk", 150, {0}};
    mvcc_result_init(&g.res);
    assert_int_equal(region_txn_run(c.st[l].s, &ctx, true, do_get, &g, &err),
                     MVCC_LOCKED);
    mvcc_result_reset(&g.res);

    struct commit_arg cm = {"tk", 100, 110, {0}};
    mvcc_result_init(&cm.res);
    assert_int_equal(region_txn_run(c.st[l].s, &ctx, false, do_commit, &cm,
                                    &err), 0);
    mvcc_result_reset(&cm.res);

    assert_int_equal(region_txn_run(c.st[l].s, &ctx, true, do_get, &g, &err),
                     0);
    assert_int_equal(g.res.npairs, 1);
    assert_memory_equal(g.res.pairs[0].value, "tv", 2);
    mvcc_result_reset(&g.res);

    /* below the commit the key does not exist */
    g.ts = 105;
    assert_int_equal(region_txn_run(c.st[l].s, &ctx, true, do_get, &g, &err),
                     MVCC_NOTFOUND);
    mvcc_result_reset(&g.res);

    /* a follower refuses, naming the leader */
    int f = l % 3 + 1;
    g.ts = 200;
    assert_int_equal(region_txn_run(c.st[f].s, &ctx, true, do_get, &g, &err),
                     REGION_ENOT_LEADER);
    assert_int_equal(err.leader, (uint64_t)l);
    mvcc_result_reset(&g.res);

    /* a conflicting prewrite below the commit fails, nothing written */
    struct prewrite_arg pw2 = {"tk", "late", 105, {0}, NULL};
    mvcc_result_init(&pw2.res);
    assert_int_equal(region_txn_run(c.st[l].s, &ctx, false, do_prewrite, &pw2,
                                    &err), MVCC_CONFLICT);
    mvcc_result_reset(&pw2.res);

    cl_thread_stop(&c);
    /* the committed record reached the followers' engines too */
    for (int i = 1; i <= 3; i++) {
        int t;
        for (t = 0; t < 500; t++) {
            struct mvcc_result r;
            mvcc_result_init(&r);
            int rc = mvcc_get(region_store_mvcc(c.st[i].s), NULL, "tk", 2, 200,
                              &r);
            mvcc_result_reset(&r);
            if (rc == 0)
                break;
            cl_tick(&c);
        }
        assert_true(t < 500);
    }
    cl_destroy(&c);
}

static int check_only(struct mvcc_store *m, void *arg)
{
    (void)m;
    return region_txn_check_max_ts(arg);
}

/* A read served by the old leader at ts 500; leadership moves: the new
 * leader refuses 1PC until its max_ts is synced (a TSO timestamp, 600
 * here), and then commits above it, never at or below the read. */
static void one_pc_waits_for_the_max_ts_sync(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    cl_thread_start(&c);
    int l = leader_of(&c, 1);
    assert_true(l > 0);
    struct region_ctx ctx = {1, 1, 1};
    struct region_err err;
    struct region_store *s = c.st[l].s;
    /* libraft makes it leader before the loop thread finishes the ready
     * that says so (which stamps the leadership): poll for that too */
    for (int t = 0; t < 20000 && region_store_leader_gen(s) == 0; t++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(region_store_leader_gen(s) >= 1);
    /* not in a write's region_txn_run: refused */
    assert_int_equal(region_txn_check_max_ts(s), REGION_EINVAL);
    assert_int_equal(region_txn_run(s, &ctx, true, check_only, s, &err),
                     REGION_EINVAL);
    /* unsynced: refused, nothing written */
    struct prewrite_arg a = {"k", "v", 100, {0}, s};
    mvcc_result_init(&a.res);
    assert_int_equal(region_txn_run(s, &ctx, false, do_prewrite, &a, &err),
                     REGION_EMAX_TS_NOT_SYNCED);
    mvcc_result_reset(&a.res);
    struct get_arg g = {"k", 500, {0}};
    mvcc_result_init(&g.res);
    assert_int_equal(region_txn_run(s, &ctx, true, do_get, &g, &err),
                     MVCC_NOTFOUND);
    mvcc_result_reset(&g.res);
    struct region_store_stats st;
    region_store_stats(s, &st);
    assert_int_equal(st.max_ts_refused, 1);

    /* leadership moves to f */
    int f = l % 3 + 1;
    struct region_store *fs = c.st[f].s;
    for (int t = 0; t < 200 && !region_store_is_leader(fs, 1); t++) {
        (void)region_store_transfer_leader(s, 1, (uint64_t)f);
        for (int w = 0; w < 50 && !region_store_is_leader(fs, 1); w++) {
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
    }
    assert_true(region_store_is_leader(fs, 1));
    assert_true(serves_writes(&c, f, 1));
    uint64_t gen = region_store_leader_gen(fs);
    a.one_pc = fs;
    assert_int_equal(region_txn_run(fs, &ctx, false, do_prewrite, &a, &err),
                     REGION_EMAX_TS_NOT_SYNCED);
    mvcc_result_reset(&a.res);
    /* a sync from before this leadership does not count */
    gen = region_store_leader_gen(fs);
    if (gen > 1) {
        region_store_max_ts_synced(fs, gen - 1);
        assert_int_equal(region_txn_run(fs, &ctx, false, do_prewrite, &a, &err),
                         REGION_EMAX_TS_NOT_SYNCED);
        mvcc_result_reset(&a.res);
    }
    mvcc_store_update_max_ts(region_store_mvcc(fs), 600);
    region_store_max_ts_synced(fs, gen);
    region_store_stats(fs, &st);
    assert_true(st.max_ts_syncs >= 1);
    assert_int_equal(region_txn_run(fs, &ctx, false, do_prewrite, &a, &err), 0);
    assert_true(a.res.commit_ts > 600);
    mvcc_result_reset(&a.res);
    /* the read at 500 still does not see it */
    assert_int_equal(region_txn_run(fs, &ctx, true, do_get, &g, &err),
                     MVCC_NOTFOUND);
    mvcc_result_reset(&g.res);
    cl_thread_stop(&c);
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prewrite_commit_read),
        cmocka_unit_test(one_pc_waits_for_the_max_ts_sync),
    };
    return cmocka_run_group_tests_name("libregion/txn", tests, NULL, NULL);
}

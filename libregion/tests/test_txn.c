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
    struct mvcc_result res;   /* outcome */
};

static int do_prewrite(struct mvcc_store *m, void *arg)
{
    struct prewrite_arg *a = arg;
    struct mvcc_mutation mu = {MVCC_OP_PUT, a->key, strlen(a->key), a->value,
                               strlen(a->value), false};
    struct mvcc_prewrite_req req = {.mutations = &mu, .n = 1,
                                    .primary = a->key,
                                    .primary_len = strlen(a->key),
                                    .start_ts = a->start_ts,
                                    .lock_ttl = 3000, .txn_size = 1};
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

static int leader_of(struct cluster *c, uint64_t region)
{
    for (int t = 0; t < 20000; t++) {
        for (int i = 1; i <= c->n; i++)
            if (region_store_is_leader(c->st[i].s, region))
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

    struct prewrite_arg pw = {"tk", "tv", 100, {0}};
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
    struct prewrite_arg pw2 = {"tk", "late", 105, {0}};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prewrite_commit_read),
    };
    return cmocka_run_group_tests_name("libregion/txn", tests, NULL, NULL);
}

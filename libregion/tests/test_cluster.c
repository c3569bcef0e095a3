/* test_cluster.c: several stores in one process over the in-memory router:
 * replication, leader failover, no stale read from a deposed leader,
 * recovery after reopening the RocksDB directories (also from the layout
 * before the Raft log had its own column family), region errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "region_int.h"

static int other(int n, int a, int b)
{
    for (int i = 1; i <= n; i++)
        if (i != a && i != b)
            return i;
    return 0;
}

/* The value store i has applied for key (no read barrier), or NULL. */
static char *applied_value(struct cluster *c, int i, uint64_t region,
                           const char *key)
{
    struct region_ctx ctx = {region, 0, 0};
    uint8_t *v = NULL;
    size_t vl = 0;
    if (region_raw_get(c->st[i].s, &ctx, key, strlen(key), &v, &vl, NULL) != 0)
        return NULL;
    char *s = malloc(vl + 1);
    memcpy(s, v, vl);
    s[vl] = 0;
    region_free(v);
    return s;
}

static void expect_applied(struct cluster *c, int i, uint64_t region,
                           const char *key, const char *want)
{
    char *got = NULL;
    for (int t = 0; t < 200; t++) { /* followers learn the commit index */
        got = applied_value(c, i, region, key);
        if (got && strcmp(got, want) == 0)
            break;
        free(got);
        got = NULL;
        cl_tick(c);
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void replication(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    assert_true(l >= 1);
    char k[32], v[32];
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "key%03d", i);
        snprintf(v, sizeof v, "value%d", i);
        assert_int_equal(cl_put(&c, l, 1, k, v, NULL), 0);
    }
    char *got = NULL;
    assert_int_equal(cl_get(&c, l, 1, "key007", &got, NULL), 0);
    assert_string_equal(got, "value7");
    free(got);
    assert_int_equal(cl_get(&c, l, 1, "nokey", &got, NULL), MVCC_NOTFOUND);
    assert_null(got);
    for (int i = 1; i <= 3; i++)
        expect_applied(&c, i, 1, "key049", "value49");
    assert_int_equal(cl_delete(&c, l, 1, "key049", NULL), 0);
    assert_int_equal(cl_get(&c, l, 1, "key049", &got, NULL), MVCC_NOTFOUND);
    struct region_store_stats st;
    region_store_stats(c.st[l].s, &st);
    assert_int_equal(st.regions, 1);
    assert_int_equal(st.leaders, 1);
    assert_true(st.proposals >= 51);
    cl_destroy(&c);
}

static void follower_says_not_leader(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    int f = other(3, l, 0);
    struct region_err err;
    assert_int_equal(cl_put(&c, f, 1, "a", "b", &err), REGION_ENOT_LEADER);
    assert_int_equal(err.code, REGION_ENOT_LEADER);
    assert_int_equal(err.leader, (uint64_t)l);
    char *v;
    assert_int_equal(cl_get(&c, f, 1, "a", &v, &err), REGION_ENOT_LEADER);
    assert_int_equal(err.leader, (uint64_t)l);
    cl_destroy(&c);
}

static void failover_and_catch_up(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    assert_int_equal(cl_put(&c, l, 1, "before", "1", NULL), 0);
    cl_stop(&c, l);
    int l2 = (int)cl_wait_leader(&c, 1);
    assert_true(l2 >= 1);
    assert_int_not_equal(l2, l);
    char *v;
    assert_int_equal(cl_get(&c, l2, 1, "before", &v, NULL), 0);
    assert_string_equal(v, "1");
    free(v);
    assert_int_equal(cl_put(&c, l2, 1, "after", "2", NULL), 0);
    cl_start(&c, l);
    expect_applied(&c, l, 1, "after", "2");
    expect_applied(&c, l, 1, "before", "1");
    cl_destroy(&c);
}

static void no_stale_read_from_deposed_leader(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    assert_int_equal(cl_put(&c, l, 1, "k", "old", NULL), 0);
    cl_isolate(&c, l, true);
    /* the majority elects a new leader and writes a new value */
    int l2 = 0;
    for (int t = 0; t < 500 && l2 == 0; t++) {
        cl_tick(&c);
        for (int i = 1; i <= 3; i++)
            if (i != l && region_store_is_leader(c.st[i].s, 1))
                l2 = i;
    }
    assert_true(l2 != 0);
    assert_int_equal(cl_put(&c, l2, 1, "k", "new", NULL), 0);
    /* the old leader, still cut off, must not answer with "old" */
    char *v = NULL;
    struct region_err err;
    int rc = cl_get(&c, l, 1, "k", &v, &err);
    assert_int_equal(rc, REGION_ENOT_LEADER);
    assert_null(v);
    cl_isolate(&c, l, false);
    expect_applied(&c, l, 1, "k", "new");
    cl_destroy(&c);
}

/* Regions 1 [, "m") and 2 ["m", ) on c, led somewhere, holding 40 keys:
 * odd i "a%03d" in region 1, even i "x%03d" in region 2, each "v<i>". */
static void put_two_regions(struct cluster *c)
{
    cl_bootstrap(c, 1, NULL, "m");
    cl_bootstrap(c, 2, "m", NULL);
    int l1 = (int)cl_wait_leader(c, 1);
    int l2 = (int)cl_wait_leader(c, 2);
    char k[32], v[32];
    for (int i = 0; i < 40; i++) {
        snprintf(k, sizeof k, "%c%03d", i % 2 ? 'a' : 'x', i);
        snprintf(v, sizeof v, "v%d", i);
        assert_int_equal(cl_put(c, i % 2 ? l1 : l2, i % 2 ? 1 : 2, k, v, NULL),
                         0);
    }
}

static void recovery_after_reopen(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, true);
    put_two_regions(&c);
    int l1, l2;
    char k[32], v[32];
    for (int i = 1; i <= 3; i++)
        cl_stop(&c, i);
    for (int i = 1; i <= 3; i++)
        cl_start(&c, i);
    size_t n = 0;
    struct region_desc ds[4];
    assert_int_equal(region_store_regions(c.st[1].s, ds, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ds[0].id, 1);
    assert_int_equal(ds[1].id, 2);
    l1 = (int)cl_wait_leader(&c, 1);
    l2 = (int)cl_wait_leader(&c, 2);
    for (int i = 0; i < 40; i++) {
        snprintf(k, sizeof k, "%c%03d", i % 2 ? 'a' : 'x', i);
        snprintf(v, sizeof v, "v%d", i);
        char *got = NULL;
        assert_int_equal(cl_get(&c, i % 2 ? l1 : l2, i % 2 ? 1 : 2, k, &got,
                                NULL),
                         0);
        assert_string_equal(got, v);
        free(got);
    }
    /* and the log goes on where it stopped */
    assert_int_equal(cl_put(&c, l1, 1, "again", "yes", NULL), 0);
    cl_destroy(&c);
}

/* Every key of CF cf in [lo, hi) of eng, as "hex(key)=hex(value)\n"
 * lines (malloc'd), and how many in *n. */
static char *dump_cf(struct mvcc_engine *eng, int cf, const uint8_t *lo,
                     size_t lo_len, const uint8_t *hi, size_t hi_len,
                     size_t *n)
{
    struct mvcc_iter_opts io = {lo, lo_len, hi, hi_len};
    struct mvcc_iter *it = NULL;
    assert_int_equal(mvcc_engine_iter(eng, NULL, cf, &io, &it), 0);
    size_t cap = 1024, len = 0;
    char *out = malloc(cap);
    out[0] = 0;
    *n = 0;
    assert_int_equal(it->ops->seek_to_first(it), 0);
    while (it->ops->valid(it)) {
        size_t kl, vl;
        const uint8_t *k = it->ops->key(it, &kl);
        const uint8_t *v = it->ops->value(it, &vl);
        while (len + 2 * (kl + vl) + 3 >= cap)
            out = realloc(out, cap *= 2);
        for (size_t j = 0; j < kl; j++)
            len += (size_t)sprintf(out + len, "%02x", k[j]);
        out[len++] = '=';
        for (size_t j = 0; j < vl; j++)
            len += (size_t)sprintf(out + len, "%02x", v[j]);
        out[len++] = '\n';
        out[len] = 0;
        (*n)++;
        assert_int_equal(it->ops->next(it), 0);
    }
    mvcc_iter_destroy(it);
    return out;
}

static int moved_logged; /* "moved ... column family" messages seen */

static void note_move(void *ctx, int level, const char *msg)
{
    (void)ctx;
    (void)level;
    if (strstr(msg, "from column family default to raft"))
        moved_logged++;
}

/* A store written before the Raft log had its own column family (log
 * entries 01 'L' and hard states 01 'H' in CF default, with the data):
 * written here by moving a current store's keys back through the engine.
 * Open moves them to CF raft (every entry and hard state, byte for byte;
 * logged), the regions recover (store 3, its apply state and region 1's
 * data dropped, re-applies region 1's whole log from CF raft), and the
 * next open finds nothing to move. */
static void old_layout_log_moves_at_open(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.log = note_move;
    c.log_level = REGION_LOG_INFO;
    moved_logged = 0;
    cl_init(&c, 3, true);
    put_two_regions(&c);
    int l1, l2;
    char k[32], v[32];
    for (int i = 1; i <= 3; i++)
        expect_applied(&c, i, 1, "a039", "v39");
    for (int i = 1; i <= 3; i++)
        cl_stop(&c, i);
    assert_int_equal(moved_logged, 0);

    const uint8_t loc[1] = {0x01}, loc_end[1] = {0x02};
    const uint8_t lk[2] = {0x01, 'L'}, lk_end[2] = {0x01, 'L' + 1};
    const uint8_t hk[2] = {0x01, 'H'}, hk_end[2] = {0x01, 'H' + 1};
    char *saved[4] = {NULL};
    size_t n_saved[4] = {0};
    for (int i = 1; i <= 3; i++) {
        struct mvcc_rocks_opts ro = {.path = c.st[i].dir};
        struct mvcc_engine *eng;
        assert_int_equal(mvcc_rocksengine_open(&ro, &eng, NULL, 0), 0);
        saved[i] = dump_cf(eng, MVCC_CF_RAFT, loc, 1, loc_end, 1,
                           &n_saved[i]);
        size_t nl, nh;
        free(dump_cf(eng, MVCC_CF_RAFT, lk, 2, lk_end, 2, &nl));
        free(dump_cf(eng, MVCC_CF_RAFT, hk, 2, hk_end, 2, &nh));
        assert_true(nl >= 40); /* 20 puts per region and more */
        assert_int_equal(nh, 2);
        assert_int_equal(nl + nh, n_saved[i]); /* nothing else there */
        size_t nd;
        free(dump_cf(eng, MVCC_CF_DEFAULT, lk, 2, lk_end, 2, &nd));
        assert_int_equal(nd, 0);
        /* the old layout: the same keys in CF default, none in raft */
        struct mvcc_iter_opts io = {loc, 1, loc_end, 1};
        struct mvcc_iter *it = NULL;
        struct mvcc_wbatch *b;
        assert_int_equal(mvcc_wbatch_create(&b), 0);
        assert_int_equal(mvcc_engine_iter(eng, NULL, MVCC_CF_RAFT, &io, &it),
                         0);
        assert_int_equal(it->ops->seek_to_first(it), 0);
        while (it->ops->valid(it)) {
            size_t kl, vl;
            const uint8_t *key = it->ops->key(it, &kl);
            const uint8_t *val = it->ops->value(it, &vl);
            assert_int_equal(
                mvcc_wbatch_put(b, MVCC_CF_DEFAULT, key, kl, val, vl), 0);
            assert_int_equal(it->ops->next(it), 0);
        }
        mvcc_iter_destroy(it);
        assert_int_equal(mvcc_wbatch_delete_range(b, MVCC_CF_RAFT, loc, 1,
                                                  loc_end, 1),
                         0);
        if (i == 3) {
            /* region 1 forgot what it applied: only its log brings it
             * back */
            uint8_t ak[REGION__KEY_META_LEN];
            region__key_meta(ak, 'A', 1);
            assert_int_equal(mvcc_wbatch_delete(b, MVCC_CF_DEFAULT, ak,
                                                sizeof ak),
                             0);
            const uint8_t r0[1] = {'r'}, r1[2] = {'r', 'm'};
            assert_int_equal(mvcc_wbatch_delete_range(b, MVCC_CF_DEFAULT, r0,
                                                      1, r1, 2),
                             0);
        }
        assert_int_equal(mvcc_engine_write(eng, b, true), 0);
        mvcc_wbatch_destroy(b);
        mvcc_engine_destroy(eng);
    }

    for (int i = 1; i <= 3; i++) {
        cl_start(&c, i);
        /* nothing has run yet: CF raft holds exactly what it held */
        size_t n;
        char *now = dump_cf(c.st[i].eng, MVCC_CF_RAFT, loc, 1, loc_end, 1,
                            &n);
        assert_int_equal(n, n_saved[i]);
        assert_string_equal(now, saved[i]);
        free(now);
        free(dump_cf(c.st[i].eng, MVCC_CF_DEFAULT, lk, 2, lk_end, 2, &n));
        assert_int_equal(n, 0);
        free(dump_cf(c.st[i].eng, MVCC_CF_DEFAULT, hk, 2, hk_end, 2, &n));
        assert_int_equal(n, 0);
    }
    assert_int_equal(moved_logged, 3);
    for (int i = 1; i <= 3; i++)
        for (int j = 1; j < 40; j += 2) {
            snprintf(k, sizeof k, "a%03d", j);
            snprintf(v, sizeof v, "v%d", j);
            expect_applied(&c, i, 1, k, v);
        }
    l1 = (int)cl_wait_leader(&c, 1);
    l2 = (int)cl_wait_leader(&c, 2);
    for (int i = 0; i < 40; i++) {
        snprintf(k, sizeof k, "%c%03d", i % 2 ? 'a' : 'x', i);
        snprintf(v, sizeof v, "v%d", i);
        char *got = NULL;
        assert_int_equal(cl_get(&c, i % 2 ? l1 : l2, i % 2 ? 1 : 2, k, &got,
                                NULL),
                         0);
        assert_string_equal(got, v);
        free(got);
    }
    assert_int_equal(cl_put(&c, l1, 1, "again", "yes", NULL), 0);
    assert_int_equal(cl_put(&c, l2, 2, "zz", "yes", NULL), 0);
    for (int i = 1; i <= 3; i++)
        cl_stop(&c, i);
    for (int i = 1; i <= 3; i++)
        cl_start(&c, i);
    assert_int_equal(moved_logged, 3); /* nothing left to move */
    l1 = (int)cl_wait_leader(&c, 1);
    char *got = NULL;
    assert_int_equal(cl_get(&c, l1, 1, "again", &got, NULL), 0);
    assert_string_equal(got, "yes");
    free(got);
    for (int i = 1; i <= 3; i++) {
        expect_applied(&c, i, 2, "zz", "yes");
        free(saved[i]);
    }
    cl_destroy(&c);
}

/* Pipelined log writes as kvd runs them: rounds never wait for the
 * stores' writer threads (cluster.overlap), 64 puts in flight with real
 * fsyncs. Every put is acknowledged and reaches every store; then puts
 * are left in flight while the leader closes (a crash after whatever its
 * writer had written): every put acknowledged before reads back after
 * all stores reopen. */
struct pl_put {
    int rc;    /* result, 1 while waiting */
};

static void pl_done(void *ud, const struct region_reply *r)
{
    ((struct pl_put *)ud)->rc = r->rc;
}

static void pipelined_writes(void **state)
{
    (void)state;
    enum { N = 300, M = 64 };
    static struct pl_put puts[N + M];
    struct cluster c = {0};
    cl_init(&c, 3, true);
    cl_bootstrap(&c, 1, NULL, NULL);
    /* elect with rounds waiting for the writers: ticks in this harness
     * are not time, and without waiting a candidate's election times out
     * long before its vote is durable */
    int l = (int)cl_wait_leader(&c, 1);
    assert_true(l > 0);
    c.overlap = true; /* from here rounds never wait; no ticks either */
    char k[32], v[32];
    struct region_ctx ctx = {1, 0, 0};
    int issued = 0, finished = 0;
    for (long round = 0; finished < N && round < 200000; round++) {
        while (issued < N && issued - finished < M) {
            snprintf(k, sizeof k, "p%04d", issued);
            snprintf(v, sizeof v, "v%d", issued);
            struct region_op op = {REGION_OP_PUT, k, strlen(k), v, strlen(v)};
            puts[issued].rc = 1;
            assert_int_equal(region_raw_write(c.st[l].s, &ctx, &op, 1,
                                              pl_done, &puts[issued], NULL),
                             0);
            issued++;
        }
        int before = finished;
        cl_pump(&c, 1);
        while (finished < issued && puts[finished].rc != 1)
            finished++;
        if (finished == before) /* nothing yet: wait for the writers */
            cl_drain(&c);
    }
    assert_int_equal(finished, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(puts[i].rc, 0);
    c.overlap = false; /* expect_applied ticks */
    for (int s = 1; s <= 3; s++) {
        expect_applied(&c, s, 1, "p0000", "v0");
        expect_applied(&c, s, 1, "p0299", "v299");
    }
    /* M more in flight, one round, then the leader goes down */
    for (int i = N; i < N + M; i++) {
        snprintf(k, sizeof k, "p%04d", i);
        snprintf(v, sizeof v, "v%d", i);
        struct region_op op = {REGION_OP_PUT, k, strlen(k), v, strlen(v)};
        puts[i].rc = 1;
        assert_int_equal(region_raw_write(c.st[l].s, &ctx, &op, 1, pl_done,
                                          &puts[i], NULL),
                         0);
    }
    c.overlap = true;
    cl_pump(&c, 1);
    cl_stop(&c, l);
    c.overlap = false;
    for (int i = N; i < N + M; i++)
        assert_int_not_equal(puts[i].rc, 1); /* closing answered them */
    for (int s = 1; s <= 3; s++)
        if (s != l)
            cl_stop(&c, s);
    for (int s = 1; s <= 3; s++)
        cl_start(&c, s);
    int l2 = (int)cl_wait_leader(&c, 1);
    assert_true(l2 > 0);
    for (int i = 0; i < N + M; i++) {
        if (puts[i].rc != 0)
            continue;
        snprintf(k, sizeof k, "p%04d", i);
        snprintf(v, sizeof v, "v%d", i);
        char *got = NULL;
        int grc = REGION_ENOT_LEADER;
        for (int t = 0; t < 10 && grc == REGION_ENOT_LEADER; t++) {
            grc = cl_get(&c, l2, 1, k, &got, NULL);
            if (grc == REGION_ENOT_LEADER) /* a new election after all
                                              three restarted */
                l2 = (int)cl_wait_leader(&c, 1);
        }
        assert_int_equal(grc, 0);
        assert_string_equal(got, v);
        free(got);
    }
    cl_destroy(&c);
}

/* A deposed leader's uncommitted tail is replaced while rounds never
 * wait for the writers (its truncation can meet its own writes in
 * flight): afterwards, and after every store reopens, no store holds an
 * entry of the lost tail and every store holds the new leader's. */
static void truncation_with_writes_in_flight(void **state)
{
    (void)state;
    static struct pl_put lost[20], more[64];
    struct cluster c = {0};
    cl_init(&c, 3, true);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    assert_true(l > 0);
    assert_int_equal(cl_put(&c, l, 1, "base", "0", NULL), 0);
    cl_isolate(&c, l, true);
    char k[32], v[32];
    struct region_ctx ctx = {1, 0, 0};
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "old%02d", i);
        struct region_op op = {REGION_OP_PUT, k, strlen(k), "x", 1};
        lost[i].rc = 1;
        assert_int_equal(region_raw_write(c.st[l].s, &ctx, &op, 1, pl_done,
                                          &lost[i], NULL),
                         0);
        cl_pump(&c, 1); /* one entry per ready: a tail of 20 */
    }
    int n = 0;
    for (int t = 0; t < 2000 && n == 0; t++) {
        for (int i = 1; i <= 3; i++)
            if (i != l && region_store_is_leader(c.st[i].s, 1))
                n = i;
        cl_tick(&c);
    }
    assert_true(n > 0);
    for (int i = 0; i < 30; i++) {
        snprintf(k, sizeof k, "new%02d", i);
        snprintf(v, sizeof v, "n%d", i);
        assert_int_equal(cl_put(&c, n, 1, k, v, NULL), 0);
    }
    c.overlap = true;
    cl_isolate(&c, l, false);
    for (int i = 0; i < 64; i++) {
        snprintf(k, sizeof k, "more%02d", i);
        struct region_op op = {REGION_OP_PUT, k, strlen(k), "m", 1};
        more[i].rc = 1;
        assert_int_equal(region_raw_write(c.st[n].s, &ctx, &op, 1, pl_done,
                                          &more[i], NULL),
                         0);
    }
    int finished = 0;
    for (long round = 0; finished < 64 && round < 200000; round++) {
        int before = finished;
        cl_pump(&c, 1);
        while (finished < 64 && more[finished].rc != 1)
            finished++;
        if (finished == before)
            cl_drain(&c);
    }
    assert_int_equal(finished, 64);
    for (int i = 0; i < 64; i++)
        assert_int_equal(more[i].rc, 0);
    c.overlap = false;
    for (int i = 0; i < 20; i++)
        assert_int_not_equal(lost[i].rc, 0); /* never acknowledged */
    for (int round = 0; round < 2; round++) {
        for (int s = 1; s <= 3; s++) {
            expect_applied(&c, s, 1, "new29", "n29");
            expect_applied(&c, s, 1, "more63", "m");
            for (int i = 0; i < 20; i++) {
                snprintf(k, sizeof k, "old%02d", i);
                char *got = applied_value(&c, s, 1, k);
                assert_null(got);
            }
        }
        for (int s = 1; s <= 3; s++)
            cl_stop(&c, s);
        for (int s = 1; s <= 3; s++)
            cl_start(&c, s);
        assert_true(cl_wait_leader(&c, 1) > 0);
    }
    cl_destroy(&c);
}

static void region_errors(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.max_entry_bytes = 4096;
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, "m");
    int l = (int)cl_wait_leader(&c, 1);
    struct region_err err;
    /* RegionNotFound */
    assert_int_equal(cl_put(&c, l, 7, "a", "b", &err), REGION_ENOT_FOUND);
    /* KeyNotInRegion, with the region */
    assert_int_equal(cl_put(&c, l, 1, "zebra", "b", &err),
                     REGION_EKEY_NOT_IN_REGION);
    assert_true(err.has_region);
    assert_int_equal(err.region.id, 1);
    assert_int_equal(err.region.end_len, 1);
    /* EpochNotMatch, with the current epoch */
    struct region_ctx ctx = {1, 1, 5};
    struct region_op op = {REGION_OP_PUT, "a", 1, "b", 1};
    assert_int_equal(region_raw_write(c.st[l].s, &ctx, &op, 1,
                                      (region_done_fn)abort, NULL, &err),
                     REGION_EEPOCH_NOT_MATCH);
    assert_true(err.has_region);
    assert_int_equal(err.region.version, 1);
    assert_int_equal(err.region.conf_ver, 1);
    assert_int_equal(err.leader, (uint64_t)l); /* it leads: it says so */
    /* a follower names the leader it knows too */
    int f = l % 3 + 1;
    assert_int_equal(region_raw_write(c.st[f].s, &ctx, &op, 1,
                                      (region_done_fn)abort, NULL, &err),
                     REGION_EEPOCH_NOT_MATCH);
    assert_int_equal(err.leader, (uint64_t)l);
    /* the right epoch passes */
    ctx.version = 1;
    /* RaftEntryTooLarge */
    static char big[5000];
    memset(big, 'x', sizeof big - 1);
    assert_int_equal(cl_put(&c, l, 1, "a", big, &err), REGION_EENTRY_TOO_LARGE);
    /* nothing above was applied */
    char *v;
    assert_int_equal(cl_get(&c, l, 1, "a", &v, NULL), MVCC_NOTFOUND);
    /* bootstrap refuses overlaps and duplicates */
    struct region_desc d;
    assert_int_equal(region_store_region(c.st[1].s, 1, &d, NULL), 0);
    assert_int_equal(region_store_bootstrap(c.st[1].s, &d), REGION_EEXISTS);
    d.id = 9;
    assert_int_equal(region_store_bootstrap(c.st[1].s, &d), REGION_EINVAL);
    cl_destroy(&c);
}

static int done_count;
static int last_rc;
static void count_done(void *ud, const struct region_reply *r)
{
    (void)ud;
    done_count++;
    last_rc = r->rc;
}

static void server_busy_and_stale_command(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.max_pending = 2;
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    /* cut the leader off: its proposals cannot commit */
    cl_isolate(&c, l, true);
    struct region_ctx ctx = {1, 0, 0};
    struct region_op op = {REGION_OP_PUT, "s", 1, "old", 3};
    struct region_err err;
    done_count = 0;
    assert_int_equal(region_raw_write(c.st[l].s, &ctx, &op, 1, count_done,
                                      NULL, &err), 0);
    assert_int_equal(region_raw_write(c.st[l].s, &ctx, &op, 1, count_done,
                                      NULL, &err), 0);
    assert_int_equal(region_raw_write(c.st[l].s, &ctx, &op, 1, count_done,
                                      NULL, &err), REGION_ESERVER_BUSY);
    assert_int_equal(err.code, REGION_ESERVER_BUSY);
    cl_pump(&c, 3);
    assert_int_equal(done_count, 0);
    /* the others elect a leader and write over those indexes */
    int l2 = 0;
    for (int t = 0; t < 500 && l2 == 0; t++) {
        cl_tick(&c);
        for (int i = 1; i <= 3; i++)
            if (i != l && region_store_is_leader(c.st[i].s, 1))
                l2 = i;
    }
    assert_true(l2 != 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(cl_put(&c, l2, 1, "s", "new", NULL), 0);
    cl_isolate(&c, l, false);
    for (int t = 0; t < 200 && done_count < 2; t++)
        cl_tick(&c);
    assert_int_equal(done_count, 2);
    assert_int_equal(last_rc, REGION_ESTALE_COMMAND);
    expect_applied(&c, l, 1, "s", "new");
    cl_destroy(&c);
}

static void cas_and_ranges(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    bool ok = false;
    assert_int_equal(cl_cas(&c, l, 1, "c", NULL, "v1", &ok, NULL), 0);
    assert_true(ok);
    assert_int_equal(cl_cas(&c, l, 1, "c", NULL, "v9", &ok, NULL), 0);
    assert_false(ok);
    assert_int_equal(cl_cas(&c, l, 1, "c", "v1", "v2", &ok, NULL), 0);
    assert_true(ok);
    assert_int_equal(cl_cas(&c, l, 1, "c", "v1", "v3", &ok, NULL), 0);
    assert_false(ok);
    char *v;
    assert_int_equal(cl_get(&c, l, 1, "c", &v, NULL), 0);
    assert_string_equal(v, "v2");
    free(v);
    assert_int_equal(cl_cas(&c, l, 1, "c", "v2", NULL, &ok, NULL), 0);
    assert_true(ok);
    assert_int_equal(cl_get(&c, l, 1, "c", &v, NULL), MVCC_NOTFOUND);

    char k[16];
    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof k, "r%d", i);
        assert_int_equal(cl_put(&c, l, 1, k, "x", NULL), 0);
    }
    struct region_ctx ctx = {1, 0, 0};
    struct region_kv *kvs;
    size_t n;
    assert_int_equal(region_raw_scan(c.st[l].s, &ctx, "r2", 2, "r5", 2, 0,
                                     false, &kvs, &n, NULL), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(kvs[0].key, "r2", 2);
    assert_memory_equal(kvs[2].key, "r4", 2);
    assert_memory_equal(kvs[2].value, "x", 1);
    region_kvs_free(kvs, n);
    /* delete [r3, r7) */
    struct region_op op = {REGION_OP_DELETE_RANGE, "r3", 2, "r7", 2};
    struct region_err err;
    done_count = 0;
    assert_int_equal(region_raw_write(c.st[l].s, &ctx, &op, 1, count_done,
                                      NULL, &err), 0);
    for (int t = 0; t < 100 && done_count == 0; t++)
        cl_pump(&c, 1);
    assert_int_equal(last_rc, 0);
    assert_int_equal(region_raw_scan(c.st[l].s, &ctx, "", 0, "", 0, 0, true,
                                     &kvs, &n, NULL), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(kvs[2].key, "r2", 2);
    assert_memory_equal(kvs[3].key, "r7", 2);
    assert_null(kvs[3].value);
    region_kvs_free(kvs, n);
    /* limit */
    assert_int_equal(region_raw_scan(c.st[l].s, &ctx, "", 0, "", 0, 2, false,
                                     &kvs, &n, NULL), 0);
    assert_int_equal(n, 2);
    region_kvs_free(kvs, n);
    cl_destroy(&c);
}

static void many_regions_one_loop(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, false);
    const char *b[] = {NULL, "b", "d", "f", "h", NULL};
    for (uint64_t r = 1; r <= 5; r++)
        cl_bootstrap(&c, r, b[r - 1], b[r]);
    int lead[6];
    for (uint64_t r = 1; r <= 5; r++)
        lead[r] = (int)cl_wait_leader(&c, r);
    const char *keys[] = {NULL, "a1", "c1", "e1", "g1", "z1"};
    for (uint64_t r = 1; r <= 5; r++)
        assert_int_equal(cl_put(&c, lead[r], r, keys[r], keys[r], NULL), 0);
    for (uint64_t r = 1; r <= 5; r++) {
        struct region_desc d;
        assert_int_equal(region_store_locate(c.st[1].s, keys[r], 2, &d, NULL),
                         0);
        assert_int_equal(d.id, r);
        char *v;
        assert_int_equal(cl_get(&c, lead[r], r, keys[r], &v, NULL), 0);
        assert_string_equal(v, keys[r]);
        free(v);
    }
    /* one loop iteration persists every region's entries with one write */
    struct region_store_stats st;
    region_store_stats(c.st[1].s, &st);
    assert_int_equal(st.regions, 5);
    cl_destroy(&c);
}

/* Three hundred regions on one loop (a single store): every one elects
 * itself and serves its range; ids are found through the store's index. */
static void hundreds_of_regions(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 1, false);
    char lo[8], hi[8];
    for (int r = 0; r < 300; r++) {
        snprintf(lo, sizeof lo, "r%03d", r);
        snprintf(hi, sizeof hi, "r%03d", r + 1);
        cl_bootstrap(&c, (uint64_t)r + 1, r == 0 ? NULL : lo,
                     r == 299 ? NULL : hi);
    }
    int t;
    struct region_store_stats st;
    for (t = 0; t < 200; t++) {
        cl_tick(&c);
        region_store_stats(c.st[1].s, &st);
        if (st.leaders == 300)
            break;
    }
    assert_int_equal(st.regions, 300);
    assert_int_equal(st.leaders, 300);
    for (int r = 0; r < 300; r += 23) {
        char k[16];
        snprintf(k, sizeof k, "r%03dx", r);
        assert_int_equal(cl_put(&c, 1, (uint64_t)r + 1, k, k, NULL), 0);
        char *v;
        assert_int_equal(cl_get(&c, 1, (uint64_t)r + 1, k, &v, NULL), 0);
        assert_string_equal(v, k);
        free(v);
        struct region_desc d;
        assert_int_equal(region_store_locate(c.st[1].s, k, strlen(k), &d, NULL),
                         0);
        assert_int_equal(d.id, (uint64_t)r + 1);
    }
    assert_int_equal(cl_put(&c, 1, 301, "x", "y", NULL), REGION_ENOT_FOUND);
    cl_destroy(&c);
}

static void log_gc_and_snapshot_catch_up(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.log_keep_entries = 10;
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    int f = other(3, l, 0);
    cl_stop(&c, f);
    char k[32], v[32];
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "key%03d", i);
        snprintf(v, sizeof v, "value%d", i);
        assert_int_equal(cl_put(&c, l, 1, k, v, NULL), 0);
    }
    struct region_ctx tctx = {1, 1, 1};
    struct region_store_stats st;
    region_store_stats(c.st[l].s, &st);
    assert_true(st.log_gcs >= 1);
    /* the stopped store is far behind: only a snapshot brings it back;
     * until then the leader refuses to hand it the leadership (it would
     * hold the transfer, and every proposal, until it timed out) */
    assert_int_equal(region_store_transfer_leader(c.st[l].s, 1, (uint64_t)f),
                     REGION_ESERVER_BUSY);
    cl_start(&c, f);
    assert_int_equal(region_store_transfer_leader(c.st[l].s, 1, (uint64_t)f),
                     REGION_ESERVER_BUSY);
    expect_applied(&c, f, 1, "key099", "value99");
    expect_applied(&c, f, 1, "key000", "value0");
    region_store_stats(c.st[f].s, &st);
    assert_int_equal(st.snaps_applied, 1);
    region_store_stats(c.st[l].s, &st);
    assert_true(st.snaps_built >= 1);
    assert_true(region_store_is_leader(c.st[l].s, 1));
    /* and it keeps following by log afterwards, and may lead then */
    assert_int_equal(cl_put(&c, l, 1, "later", "x", NULL), 0);
    expect_applied(&c, f, 1, "later", "x");
    cl_lead(&c, 1, f);
    cl_lead(&c, 1, l);
    /* every store restarts from its compacted log */
    for (int i = 1; i <= 3; i++)
        cl_stop(&c, i);
    for (int i = 1; i <= 3; i++)
        cl_start(&c, i);
    l = (int)cl_wait_leader(&c, 1);
    char *got;
    assert_int_equal(cl_get(&c, l, 1, "key050", &got, NULL), 0);
    assert_string_equal(got, "value50");
    free(got);
    (void)tctx;
    for (int i = 1; i <= 3; i++)
        expect_applied(&c, i, 1, "later", "x");
    assert_int_equal(cl_put(&c, l, 1, "after-restart", "y", NULL), 0);
    cl_destroy(&c);
}

/* The longest message batch store `watched` sent (cl_pump's filter). */
static int watched;
static size_t longest;

static void note_batch(void *ctx, struct cl_msg *m)
{
    (void)ctx;
    if ((int)m->from == watched && m->len > longest)
        longest = m->len;
}

/* A follower cut off while 12 MiB were written catches up by log: the
 * leader's appends to it go out in batches of at most 4 MiB and one
 * message (kvd sends a batch as one frame, and a frame over 16 MiB
 * closed the connection with every message on it, at every retry: in a
 * CHAOS_MERGE run two stores stayed cut apart). */
static void catch_up_batches_stay_under_a_frame(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.filter = note_batch;
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    int f = other(3, l, 0);
    cl_isolate(&c, f, true);
    struct cl_bulk d = {.n = 3000, .gen = 1}; /* 0.5 to 8 KiB a value */
    assert_int_equal(cl_bulk_load(&c, l, 1, &d, 0, d.n), 0);
    watched = l;
    longest = 0;
    cl_isolate(&c, f, false);
    for (int t = 0; t < 3000 && !cl_bulk_holds(&c, f, 1, &d, 0, d.n); t++)
        cl_tick(&c);
    assert_true(cl_bulk_holds(&c, f, 1, &d, 0, d.n));
    struct region_store_stats st;
    region_store_stats(c.st[f].s, &st);
    assert_int_equal(st.snaps_applied, 0); /* by log */
    assert_true(longest > (2u << 20)); /* appends went out together */
    assert_true(longest <= (4u << 20) + (1u << 20) + (64u << 10));
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replication),
        cmocka_unit_test(follower_says_not_leader),
        cmocka_unit_test(failover_and_catch_up),
        cmocka_unit_test(no_stale_read_from_deposed_leader),
        cmocka_unit_test(recovery_after_reopen),
        cmocka_unit_test(old_layout_log_moves_at_open),
        cmocka_unit_test(pipelined_writes),
        cmocka_unit_test(truncation_with_writes_in_flight),
        cmocka_unit_test(region_errors),
        cmocka_unit_test(server_busy_and_stale_command),
        cmocka_unit_test(cas_and_ranges),
        cmocka_unit_test(many_regions_one_loop),
        cmocka_unit_test(log_gc_and_snapshot_catch_up),
        cmocka_unit_test(hundreds_of_regions),
        cmocka_unit_test(catch_up_batches_stay_under_a_frame),
    };
    return cmocka_run_group_tests_name("libregion/cluster", tests, NULL, NULL);
}

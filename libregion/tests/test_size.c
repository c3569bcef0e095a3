/* test_size.c: region_store_region_size, the count kvd's region
 * heartbeats give pdd's split and merge checkers (DESIGN.md "Region
 * size"): raw keys and transactional data written through libmvcc
 * (SQL's rows) are both counted, each region its own range, and a cap
 * gives lower bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cluster.h"

#define N_LEFT 40  /* transactional keys of region 1 [, m) */
#define N_RIGHT 25 /* ... of region 2 [m, ) */

struct put_arg {
    char keys[N_LEFT][8];   /* user keys */
    size_t n;               /* used */
    const char *value;      /* every key's value */
    mvcc_ts start_ts;       /* txn start */
    mvcc_ts commit_ts;      /* its commit */
    struct mvcc_result res; /* outcome */
};

/* Prewrite then commit every key of a (a whole transaction). */
static int do_put(struct mvcc_store *m, void *arg)
{
    struct put_arg *a = arg;
    struct mvcc_mutation mu[N_LEFT];
    struct mvcc_key k[N_LEFT];
    for (size_t i = 0; i < a->n; i++) {
        mu[i] = (struct mvcc_mutation){MVCC_OP_PUT, a->keys[i],
                                       strlen(a->keys[i]), a->value,
                                       strlen(a->value), false};
        k[i] = (struct mvcc_key){a->keys[i], strlen(a->keys[i])};
    }
    struct mvcc_prewrite_req req = {.mutations = mu, .n = a->n,
                                    .primary = a->keys[0],
                                    .primary_len = strlen(a->keys[0]),
                                    .start_ts = a->start_ts,
                                    .lock_ttl = 3000, .txn_size = a->n};
    int rc = mvcc_prewrite(m, &req, &a->res);
    mvcc_result_reset(&a->res);
    mvcc_result_init(&a->res);
    if (rc == 0)
        rc = mvcc_commit(m, k, a->n, a->start_ts, a->commit_ts, &a->res);
    mvcc_result_reset(&a->res);
    mvcc_result_init(&a->res);
    return rc;
}

/* One transaction writing n keys "<p>NN" into region at store 1, asked
 * again while the new leader cannot serve writes yet. */
static void txn_put(struct cluster *c, uint64_t region, char p, size_t n,
                    const char *value, mvcc_ts start)
{
    struct put_arg a = {.n = n, .value = value, .start_ts = start,
                        .commit_ts = start + 1};
    for (size_t i = 0; i < n; i++)
        snprintf(a.keys[i], sizeof a.keys[i], "%c%02zu", p, i);
    mvcc_result_init(&a.res);
    struct region_ctx ctx = {region, 1, 1};
    struct region_err err;
    int rc = REGION_ENOT_LEADER;
    for (int t = 0; t < 20000 && rc != 0; t++) {
        rc = region_txn_run(c->st[1].s, &ctx, false, do_put, &a, &err);
        if (rc != 0) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL); /* the loop thread elects; poll */
        }
    }
    assert_int_equal(rc, 0);
}

static void txn_data_counted(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 1, false);
    cl_bootstrap(&c, 1, NULL, "m");
    cl_bootstrap(&c, 2, "m", NULL);
    cl_wait_leader(&c, 1);
    cl_wait_leader(&c, 2);
    /* raw keys: 3 in region 1, 2 in region 2 */
    const char *raw[] = {"b", "c", "d", "x", "y"};
    for (int i = 0; i < 5; i++)
        assert_int_equal(cl_put(&c, 1, i < 3 ? 1 : 2, raw[i], "v", NULL), 0);
    struct region_size z;
    assert_int_equal(region_store_region_size(c.st[1].s, 1, 0, &z), 0);
    assert_int_equal(z.keys, 3);
    assert_int_equal(z.bytes, 3 * (2 + 1)); /* 'r' key, value "v" */
    assert_false(z.capped);

    cl_thread_start(&c);
    char big[400]; /* over 255 bytes: the value goes to CF default */
    memset(big, 'V', sizeof big - 1);
    big[sizeof big - 1] = 0;
    txn_put(&c, 1, 'a', N_LEFT, "row", 100);
    txn_put(&c, 1, 'a', N_LEFT, "row2", 200); /* a second version each */
    txn_put(&c, 2, 'n', N_RIGHT, big, 300);
    cl_thread_stop(&c);

    /* region 1: 3 raw keys and 40 user keys (two versions each, counted
     * once); bytes hold both versions' write records */
    assert_int_equal(region_store_region_size(c.st[1].s, 1, 0, &z), 0);
    assert_int_equal(z.keys, 3 + N_LEFT);
    assert_false(z.capped);
    uint64_t left_bytes = z.bytes;
    assert_true(left_bytes > 9 + 2 * N_LEFT * (3 + 8));
    /* region 2: 2 raw keys, 25 user keys; the values in CF default */
    assert_int_equal(region_store_region_size(c.st[1].s, 2, 0, &z), 0);
    assert_int_equal(z.keys, 2 + N_RIGHT);
    assert_true(z.bytes > (uint64_t)N_RIGHT * (sizeof big - 1));
    /* a cap: lower bounds, said so */
    assert_int_equal(region_store_region_size(c.st[1].s, 1, 10, &z), 0);
    assert_true(z.capped);
    /* 3 raw, then 7 write records: a00 a00 a01 a01 a02 a02 a03 */
    assert_int_equal(z.keys, 3 + 4);
    assert_true(z.bytes < left_bytes);
    assert_int_equal(region_store_region_size(c.st[1].s, 9, 0, &z),
                     REGION_ENOT_FOUND);
    cl_destroy(&c);
}

static struct region_size kept(struct cluster *c,
                               uint64_t region,
                               bool want_counted)
{
    struct region_size z;
    bool counted = !want_counted;
    assert_int_equal(
        region_store_region_size_kept(c->st[1].s, region, 0, &z, &counted), 0);
    assert_int_equal(counted, want_counted);
    return z;
}

/* The kept count: given again while nothing was applied; a small region
 * counted again after any write; one of 1 MiB or more raised by what is
 * applied without reading, until a quarter of it was; counted again
 * after a GC removal, a split, a raw delete and a range delete, each of
 * which makes it wrong. */
static void kept_size(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 1, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    cl_wait_leader(&c, 1);
    const char *raw[] = {"b", "c", "d"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(cl_put(&c, 1, 1, raw[i], "v", NULL), 0);
    struct region_size z = kept(&c, 1, true); /* none yet: counted */
    assert_int_equal(z.keys, 3);
    assert_int_equal(z.bytes, 3 * (2 + 1));
    z = kept(&c, 1, false); /* kept, nothing applied since */
    assert_int_equal(z.keys, 3);
    assert_int_equal(z.bytes, 9);
    struct region_size exact;
    /* a small region (under REGION_SIZE_KEEP_MIN) is counted again after
     * any write: its keys stay exact */
    assert_int_equal(cl_put(&c, 1, 1, "e", "vv", NULL), 0);
    z = kept(&c, 1, true);
    assert_int_equal(z.keys, 4);
    assert_int_equal(z.bytes, 9 + 2 + 2);
    /* 16 values of 64 KiB - 1 make it 1 MiB: each put counted again */
    static char big[64 << 10];
    memset(big, 'x', sizeof big - 1);
    char k[16];
    for (int i = 0; i < 16; i++) {
        snprintf(k, sizeof k, "f%02d", i);
        assert_int_equal(cl_put(&c, 1, 1, k, big, NULL), 0);
        z = kept(&c, 1, true);
        assert_int_equal(z.keys, 5 + (uint64_t)i);
    }
    uint64_t count = z.bytes; /* 13 + 16 x ('r' "fNN" + 65,535) */
    assert_int_equal(count, 13 + 16 * (4 + sizeof big - 1));
    assert_true(count >= REGION_SIZE_KEEP_MIN);
    kept(&c, 1, false);
    /* now a put applies its key and value and the delete of any TTL
     * record under its key (the engine view adds the prefixes): 4 bytes
     * for "g" = "vv", raising the kept bytes without a read, keys as
     * counted */
    assert_int_equal(cl_put(&c, 1, 1, "g", "vv", NULL), 0);
    uint64_t applied = 4;
    z = kept(&c, 1, false);
    assert_int_equal(z.keys, 4 + 16);
    assert_int_equal(z.bytes, count + applied);
    /* until more than a quarter of the count was applied since */
    int h = 0;
    for (; applied + 3 + (sizeof big - 1) + 3 <= count / 4; h++) {
        snprintf(k, sizeof k, "h%02d", h);
        assert_int_equal(cl_put(&c, 1, 1, k, big, NULL), 0);
        applied += 3 + (sizeof big - 1) + 3;
        z = kept(&c, 1, false);
        assert_int_equal(z.bytes, count + applied);
    }
    assert_int_equal(h, 3);
    snprintf(k, sizeof k, "h%02d", h++);
    assert_int_equal(cl_put(&c, 1, 1, k, big, NULL), 0);
    z = kept(&c, 1, true);
    assert_int_equal(region_store_region_size(c.st[1].s, 1, 0, &exact), 0);
    assert_int_equal(z.keys, exact.keys);
    assert_int_equal(z.bytes, exact.bytes);
    assert_int_equal(z.keys, 4 + 16 + 1 + 4); /* b-e f00-f15 g h00-h03 */
    kept(&c, 1, false);
    /* a GC removal: the older version of 3 txn keys goes */
    cl_thread_start(&c);
    txn_put(&c, 1, 'a', 3, "row", 100);
    txn_put(&c, 1, 'a', 3, "row2", 200);
    cl_thread_stop(&c);
    z = kept(&c, 1, false); /* the txn writes applied: raised */
    assert_int_equal(z.keys, 25);
    uint64_t before = z.bytes;
    uint64_t removed = 0;
    assert_int_equal(region_store_gc(c.st[1].s, 250, &removed), 0);
    assert_int_equal(removed, 3);
    z = kept(&c, 1, true);
    assert_int_equal(z.keys, 3 + 25);
    assert_true(z.bytes < before);
    assert_int_equal(region_store_region_size(c.st[1].s, 1, 0, &exact), 0);
    assert_int_equal(z.bytes, exact.bytes);
    kept(&c, 1, false);
    /* a split: both halves counted */
    assert_int_equal(cl_split(&c, 1, 1, "d", 2, NULL), 0);
    z = kept(&c, 1, true);
    assert_int_equal(z.keys, 3 + 2); /* a00-a02 b c */
    z = kept(&c, 2, true);
    assert_int_equal(z.keys, 23); /* d e f00-f15 g h00-h03 */
    kept(&c, 2, false);
    /* a raw delete: counted again, the key gone */
    assert_int_equal(cl_delete(&c, 1, 2, "e", NULL), 0);
    z = kept(&c, 2, true);
    assert_int_equal(z.keys, 22); /* d f00-f15 g h00-h03 */
    kept(&c, 2, false);
    /* a range delete: counted again, the keys gone */
    struct region_op del = {REGION_OP_DELETE_RANGE, "f", 1, "i", 1};
    assert_int_equal(cl_write(&c, 1, 2, &del, 1, NULL), 0);
    z = kept(&c, 2, true);
    assert_int_equal(z.keys, 1); /* d */
    assert_int_equal(z.bytes, 2 + 1);
    assert_int_equal(region_store_region_size_kept(c.st[1].s, 9, 0, &z, NULL),
                     REGION_ENOT_FOUND);
    cl_destroy(&c);
}

/* The automatic split's size check keeps its count: the first heartbeat
 * after it reads nothing. */
static void check_keeps_size(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.split_size = 4096;
    cl_init(&c, 1, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    cl_wait_leader(&c, 1);
    char val[64];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = 0;
    struct region_store_stats st;
    int i = 0;
    for (; i < 200; i++) { /* 4 keys over and over, until a check */
        char k[16];
        snprintf(k, sizeof k, "key%04d", i % 4);
        assert_int_equal(cl_put(&c, 1, 1, k, val, NULL), 0);
        region_store_split_checks_wait(c.st[1].s);
        region_store_stats(c.st[1].s, &st);
        if (st.split_checks > 0)
            break;
    }
    assert_int_equal(st.split_checks, 1);
    struct region_size z = kept(&c, 1, false), exact;
    assert_int_equal(region_store_region_size(c.st[1].s, 1, 0, &exact), 0);
    assert_int_equal(z.keys, 4);
    assert_int_equal(z.bytes, exact.bytes);
    assert_false(z.capped);
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(txn_data_counted),
        cmocka_unit_test(kept_size),
        cmocka_unit_test(check_keeps_size),
    };
    return cmocka_run_group_tests_name("libregion/size", tests, NULL, NULL);
}

/* test_ttl_apply.c: the TTL-record delete a raw put carries (DESIGN.md
 * "Raw TTL") is applied only on a store that may hold a record: a store
 * that never held one writes nothing to CF lock for plain puts (counted
 * in RocksDB's active memtable), and once a record exists, before or
 * after a restart, a plain put clears it on every store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

struct waiter {
    int done; /* completions */
    int rc;   /* last result */
};

static void on_done(void *ud, const struct region_reply *r)
{
    struct waiter *w = ud;
    w->done++;
    w->rc = r->rc;
}

/* Put key -> "v" with ttl seconds (0: none) through leader l; every store
 * applies it. */
static void put(struct cluster *c, int l, const char *key, uint64_t ttl)
{
    struct region_ctx ctx = {1, 0, 0};
    struct region_op op = {.type = REGION_OP_PUT,
                           .key = key,
                           .key_len = strlen(key),
                           .value = "v",
                           .value_len = 1};
    struct waiter w = {0, 0};
    assert_int_equal(region_raw_write_ttl(c->st[l].s, &ctx, &op, 1, &ttl,
                                          on_done, &w, NULL),
                     0);
    for (int i = 0; i < 200 && w.done == 0; i++)
        cl_pump(c, 1);
    assert_int_equal(w.done, 1);
    assert_int_equal(w.rc, 0);
    cl_pump(c, 3);
}

/* Deletes in store i's active memtable of CF lock. */
static uint64_t lock_deletes(struct cluster *c, int i)
{
    uint64_t v = 0;
    assert_int_equal(mvcc_engine_property(c->st[i].eng, MVCC_CF_LOCK,
                                          "rocksdb.num-deletes-active-mem-table",
                                          &v),
                     0);
    return v;
}

/* Whether store i holds a TTL record for key. */
static bool has_record(struct cluster *c, int i, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "r%s", key);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = mvcc_engine_get(c->st[i].eng, NULL, MVCC_CF_LOCK, k, strlen(k),
                             &v, &vl);
    mvcc_free(v);
    assert_true(rc == 0 || rc == MVCC_NOTFOUND);
    return rc == 0;
}

static int setup(struct cluster *c)
{
    memset(c, 0, sizeof *c);
    cl_init(c, 3, false);
    cl_bootstrap(c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(c, 1);
    assert_true(l > 0);
    return l;
}

/* 20 plain puts on stores without records: no CF-lock write anywhere
 * (20 deletes per store before). The first TTL put turns the deletes on:
 * the next plain put of that key clears its record on every store. */
static void plain_puts_skip_the_delete(void **state)
{
    (void)state;
    struct cluster c;
    int l = setup(&c);
    char key[16];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "k%02d", i);
        put(&c, l, key, 0);
    }
    for (int i = 1; i <= 3; i++)
        assert_int_equal(lock_deletes(&c, i), 0);
    put(&c, l, "k05", 100);
    for (int i = 1; i <= 3; i++)
        assert_true(has_record(&c, i, "k05"));
    put(&c, l, "k05", 0);
    for (int i = 1; i <= 3; i++) {
        assert_false(has_record(&c, i, "k05"));
        assert_int_equal(lock_deletes(&c, i), 1);
    }
    cl_destroy(&c);
}

/* A record written before every store restarts is cleared by a plain put
 * after it: open finds the record (one seek) and turns the deletes on. */
static void record_found_after_restart(void **state)
{
    (void)state;
    struct cluster c;
    int l = setup(&c);
    put(&c, l, "a", 100);
    for (int i = 1; i <= 3; i++)
        cl_stop(&c, i);
    for (int i = 1; i <= 3; i++)
        cl_start(&c, i);
    l = (int)cl_wait_leader(&c, 1);
    assert_true(l > 0);
    for (int i = 1; i <= 3; i++)
        assert_true(has_record(&c, i, "a"));
    put(&c, l, "a", 0);
    for (int i = 1; i <= 3; i++)
        assert_false(has_record(&c, i, "a"));
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_puts_skip_the_delete),
        cmocka_unit_test(record_found_after_restart),
    };
    return cmocka_run_group_tests_name("libregion/ttl_apply", tests, NULL,
                                       NULL);
}

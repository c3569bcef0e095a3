/* test_membership.c: adding and removing peers over the in-process
 * cluster: an added store gets the region by a snapshot and follows its
 * log; a removed store deletes the region's data and ignores it from then
 * on; conf_ver moves on every peer; refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

static bool has_key(struct cluster *c, int i, uint64_t region, const char *k)
{
    struct region_ctx ctx = {region, 0, 0};
    uint8_t *v = NULL;
    size_t vl;
    if (region_raw_get(c->st[i].s, &ctx, k, strlen(k), &v, &vl, NULL) != 0)
        return false;
    region_free(v);
    return true;
}

static void add_then_remove(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 4, false);
    cl_bootstrap_on(&c, 1, NULL, NULL, 3);
    int l = (int)cl_wait_leader(&c, 1);
    char k[16];
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "k%02d", i);
        assert_int_equal(cl_put(&c, l, 1, k, "v", NULL), 0);
    }
    struct region_err err;
    /* refusals: already a peer; the leader removing itself */
    assert_int_equal(cl_change_peer(&c, l, 1, true, 2, &err), REGION_EINVAL);
    assert_int_equal(cl_change_peer(&c, l, 1, false, l, &err), REGION_EINVAL);
    /* store 4 joins: its peer comes from the leader's messages */
    assert_int_equal(cl_change_peer(&c, l, 1, true, 4, &err), 0);
    int t;
    for (t = 0; t < 1000 && !has_key(&c, 4, 1, "k19"); t++)
        cl_tick(&c);
    assert_true(t < 1000);
    assert_int_equal(cl_put(&c, l, 1, "after-add", "v", NULL), 0);
    for (t = 0; t < 1000 && !has_key(&c, 4, 1, "after-add"); t++)
        cl_tick(&c);
    assert_true(t < 1000);
    struct region_desc d;
    for (int i = 1; i <= 4; i++) {
        for (t = 0; t < 500; t++) {
            assert_int_equal(region_store_region(c.st[i].s, 1, &d, NULL), 0);
            if (d.conf_ver == 2)
                break;
            cl_tick(&c);
        }
        assert_int_equal(d.conf_ver, 2);
        assert_int_equal(d.n_stores, 4);
    }
    /* a follower leaves: its data goes */
    int gone = l == 1 ? 2 : 1;
    assert_int_equal(cl_change_peer(&c, l, 1, false, gone, &err), 0);
    for (t = 0; t < 1000; t++) {
        if (region_store_region(c.st[gone].s, 1, &d, NULL) == REGION_ENOT_FOUND)
            break;
        cl_tick(&c);
    }
    assert_true(t < 1000);
    size_t n = 9;
    region_store_regions(c.st[gone].s, NULL, 0, &n);
    assert_int_equal(n, 0);
    struct region_kv *kvs;
    struct region_ctx any = {1, 0, 0};
    assert_int_equal(region_raw_scan(c.st[gone].s, &any, "", 0, "", 0, 0,
                                     true, &kvs, &n, NULL),
                     REGION_ENOT_FOUND);
    /* the other three go on, at conf_ver 3 */
    assert_int_equal(cl_put(&c, l, 1, "after-remove", "v", NULL), 0);
    for (t = 0; t < 1000 && !has_key(&c, 4, 1, "after-remove"); t++)
        cl_tick(&c);
    assert_true(t < 1000);
    assert_int_equal(region_store_region(c.st[l].s, 1, &d, NULL), 0);
    assert_int_equal(d.conf_ver, 3);
    assert_int_equal(d.n_stores, 3);
    /* the removed store restarts without the region, and stays so */
    cl_stop(&c, gone);
    cl_start(&c, gone);
    for (int i = 0; i < 30; i++)
        cl_tick(&c);
    region_store_regions(c.st[gone].s, NULL, 0, &n);
    assert_int_equal(n, 0);
    cl_destroy(&c);
}

/* A store cut off while it is removed never sees the commit: once back,
 * its messages (older membership, sender not in it) earn it a removal
 * notice, and it deletes the region. */
static void removed_while_cut_off(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 4, false);
    cl_bootstrap_on(&c, 1, NULL, NULL, 4);
    int l = (int)cl_wait_leader(&c, 1);
    assert_int_equal(cl_put(&c, l, 1, "k", "v", NULL), 0);
    int gone = l % 4 + 1;
    for (int t = 0; t < 200 && !has_key(&c, gone, 1, "k"); t++)
        cl_tick(&c);
    assert_true(has_key(&c, gone, 1, "k"));
    cl_isolate(&c, gone, true);
    assert_int_equal(cl_change_peer(&c, l, 1, false, gone, NULL), 0);
    cl_isolate(&c, gone, false);
    struct region_desc d;
    int t;
    for (t = 0; t < 2000; t++) {
        if (region_store_region(c.st[gone].s, 1, &d, NULL) == REGION_ENOT_FOUND)
            break;
        cl_tick(&c);
    }
    assert_true(t < 2000);
    assert_false(has_key(&c, gone, 1, "k"));
    /* the rest is unharmed */
    assert_int_equal(cl_put(&c, l, 1, "k2", "v", NULL), 0);
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_then_remove),
        cmocka_unit_test(removed_while_cut_off),
    };
    return cmocka_run_group_tests_name("libregion/membership", tests, NULL,
                                       NULL);
}

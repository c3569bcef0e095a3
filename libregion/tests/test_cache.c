/* test_cache.c: the client-side region cache: lookups by key, overlapping
 * updates, stale updates ignored, and the fix-ups each region error makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "region.h"

static struct region_desc mk(uint64_t id, const char *start, const char *end,
                             uint64_t version)
{
    struct region_desc d;
    memset(&d, 0, sizeof d);
    d.id = id;
    d.conf_ver = 1;
    d.version = version;
    d.start_len = (uint32_t)strlen(start);
    memcpy(d.start, start, d.start_len);
    d.end_len = (uint32_t)strlen(end);
    memcpy(d.end, end, d.end_len);
    d.n_stores = 1;
    d.stores[0] = 1;
    return d;
}

static void lookup_and_split(void **state)
{
    (void)state;
    struct region_cache *c;
    assert_int_equal(region_cache_create(&c), 0);
    struct region_desc d, all = mk(1, "", "", 1);
    uint64_t leader = 9;
    assert_int_equal(region_cache_lookup(c, "k", 1, &d, &leader),
                     REGION_ENOT_FOUND);
    assert_int_equal(region_cache_update(c, &all, 2), 0);
    assert_int_equal(region_cache_lookup(c, "k", 1, &d, &leader), 0);
    assert_int_equal(d.id, 1);
    assert_int_equal(leader, 2);
    /* the store says the region split: [, m) v2 */
    struct region_err err;
    memset(&err, 0, sizeof err);
    err.code = REGION_EEPOCH_NOT_MATCH;
    err.has_region = true;
    err.region = mk(1, "", "m", 2);
    region_cache_on_error(c, 1, &err);
    assert_int_equal(region_cache_lookup(c, "a", 1, &d, &leader), 0);
    assert_int_equal(d.version, 2);
    assert_int_equal(leader, 0);
    assert_int_equal(region_cache_lookup(c, "x", 1, &d, NULL),
                     REGION_ENOT_FOUND);
    struct region_desc right = mk(2, "m", "", 2);
    assert_int_equal(region_cache_update(c, &right, 3), 0);
    assert_int_equal(region_cache_count(c), 2);
    assert_int_equal(region_cache_lookup(c, "x", 1, &d, &leader), 0);
    assert_int_equal(d.id, 2);
    assert_int_equal(region_cache_lookup(c, "m", 1, &d, NULL), 0);
    assert_int_equal(d.id, 2);
    /* an older view of the whole range is ignored */
    assert_true(region_cache_older(c, &all));
    assert_int_equal(region_cache_update(c, &all, 1), 0);
    assert_int_equal(region_cache_count(c), 2);
    /* NotLeader moves the leader */
    memset(&err, 0, sizeof err);
    err.code = REGION_ENOT_LEADER;
    err.leader = 7;
    region_cache_on_error(c, 2, &err);
    assert_int_equal(region_cache_lookup(c, "x", 1, &d, &leader), 0);
    assert_int_equal(leader, 7);
    /* RegionNotFound forgets it */
    err.code = REGION_ENOT_FOUND;
    region_cache_on_error(c, 2, &err);
    assert_int_equal(region_cache_lookup(c, "x", 1, &d, NULL),
                     REGION_ENOT_FOUND);
    assert_int_equal(region_cache_count(c), 1);
    /* a newer region replaces what it overlaps */
    struct region_desc merged = mk(1, "", "", 5);
    assert_false(region_cache_older(c, &merged));
    assert_int_equal(region_cache_update(c, &merged, 4), 0);
    /* the same region at an older conf_ver, or an older version of one
     * beside it that overlaps, is older; one that overlaps nothing, or
     * NULL, is not */
    struct region_desc conf = merged;
    conf.conf_ver = 0;
    assert_true(region_cache_older(c, &conf));
    struct region_desc part = mk(9, "k", "p", 4);
    assert_true(region_cache_older(c, &part));
    region_cache_invalidate(c, 1);
    assert_false(region_cache_older(c, &part));
    assert_false(region_cache_older(c, NULL));
    assert_int_equal(region_cache_update(c, &merged, 4), 0);
    assert_int_equal(region_cache_count(c), 1);
    region_cache_destroy(c);
    region_cache_destroy(NULL);
}

/* A store behind the cache (it missed the split: a replica cut off while
 * it happened) answers EpochNotMatch with its older region: the cache
 * keeps the newer one and forgets its leader; a store ahead of it
 * replaces it, with the leader it names. */
static void store_behind_the_cache(void **state)
{
    (void)state;
    struct region_cache *c;
    assert_int_equal(region_cache_create(&c), 0);
    struct region_desc d, now = mk(1, "", "m", 6);
    uint64_t leader = 0;
    assert_int_equal(region_cache_update(c, &now, 3), 0);
    struct region_err err;
    memset(&err, 0, sizeof err);
    err.code = REGION_EEPOCH_NOT_MATCH;
    err.has_region = true;
    err.region = mk(1, "", "", 5);
    err.leader = 0;
    assert_true(region_cache_behind(c, 1, &err));
    region_cache_on_error(c, 1, &err);
    assert_int_equal(region_cache_lookup(c, "a", 1, &d, &leader), 0);
    assert_int_equal(d.version, 6);
    assert_int_equal(d.end_len, 1);
    assert_int_equal(leader, 0);
    assert_int_equal(region_cache_lookup(c, "x", 1, &d, NULL),
                     REGION_ENOT_FOUND);
    /* KeyNotInRegion from a store behind: the same */
    err.code = REGION_EKEY_NOT_IN_REGION;
    region_cache_on_error(c, 1, &err);
    assert_int_equal(region_cache_lookup(c, "a", 1, &d, NULL), 0);
    assert_int_equal(d.version, 6);
    /* one epoch part older, the other newer: not behind, taken */
    err.code = REGION_EEPOCH_NOT_MATCH;
    err.region = mk(1, "", "m", 7);
    err.region.conf_ver = 0;
    assert_false(region_cache_behind(c, 1, &err));
    /* the same epoch is not behind either (nothing to keep) */
    err.region = now;
    assert_false(region_cache_behind(c, 1, &err));
    /* another region's detail says nothing about this one */
    err.region = mk(2, "", "", 1);
    assert_false(region_cache_behind(c, 1, &err));
    /* a store ahead: its region and the leader it names */
    err.region = mk(1, "", "g", 7);
    err.leader = 3;
    assert_false(region_cache_behind(c, 1, &err));
    region_cache_on_error(c, 1, &err);
    assert_int_equal(region_cache_lookup(c, "a", 1, &d, &leader), 0);
    assert_int_equal(d.version, 7);
    assert_int_equal(leader, 3);
    assert_int_equal(region_cache_lookup(c, "h", 1, &d, NULL),
                     REGION_ENOT_FOUND);
    assert_false(region_cache_behind(c, 1, NULL));
    region_cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lookup_and_split),
        cmocka_unit_test(store_behind_the_cache),
    };
    return cmocka_run_group_tests_name("libregion/cache", tests, NULL, NULL);
}

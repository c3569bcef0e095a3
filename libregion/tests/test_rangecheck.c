/* test_rangecheck.c: a range request outside its region is refused with
 * KeyNotInRegion naming the region as it is, never clipped to it
 * (DESIGN.md "Range checks"): region_check_range, which kvd's Txn range
 * methods call, and region_raw_scan, over a region split at "m".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"

struct fx {
    struct cluster c; /* one store */
    int l;            /* its id (the leader of both regions) */
    struct region_ctx r1; /* region 1, ["", "m"), current epoch */
    struct region_ctx r2; /* region 2, ["m", ""), current epoch */
};

static void wait_region(struct cluster *c, uint64_t id)
{
    struct region_desc d;
    for (int t = 0; t < 500; t++) {
        if (region_store_region(c->st[1].s, id, &d, NULL) == 0)
            return;
        cl_tick(c);
    }
    fail_msg("region %llu never appeared", (unsigned long long)id);
}

/* Keys a..z, then the split at "m" into region 2. */
static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    cl_init(&f->c, 1, false);
    cl_bootstrap(&f->c, 1, NULL, NULL);
    f->l = (int)cl_wait_leader(&f->c, 1);
    assert_int_equal(f->l, 1);
    char k[2] = {0, 0};
    for (char ch = 'a'; ch <= 'z'; ch++) {
        k[0] = ch;
        assert_int_equal(cl_put(&f->c, f->l, 1, k, k, NULL), 0);
    }
    assert_int_equal(cl_split(&f->c, f->l, 1, "m", 2, NULL), 0);
    wait_region(&f->c, 2);
    assert_int_equal(cl_wait_leader(&f->c, 2), 1);
    struct region_desc d;
    assert_int_equal(region_store_region(f->c.st[1].s, 1, &d, NULL), 0);
    f->r1 = (struct region_ctx){1, d.conf_ver, d.version};
    assert_int_equal(d.version, 2);
    assert_int_equal(region_store_region(f->c.st[1].s, 2, &d, NULL), 0);
    f->r2 = (struct region_ctx){2, d.conf_ver, d.version};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    cl_destroy(&f->c);
    free(f);
    return 0;
}

/* A raw scan of [s, e) (NULL: unbounded) through ctx: its code; on
 * success the keys, concatenated, into keys. */
static int scan(struct fx *f, const struct region_ctx *ctx, const char *s,
                const char *e, char *keys, size_t cap,
                struct region_err *err)
{
    struct region_kv *kvs = (struct region_kv *)1; /* must be reset */
    size_t n = 99;
    int rc = region_raw_scan(f->c.st[f->l].s, ctx, s, strlen(s), e,
                             e ? strlen(e) : 0, 0, true, &kvs, &n, err);
    keys[0] = 0;
    if (rc != 0) {
        assert_null(kvs);
        assert_int_equal(n, 0);
        return rc;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(at + kvs[i].key_len < cap);
        memcpy(keys + at, kvs[i].key, kvs[i].key_len);
        at += kvs[i].key_len;
    }
    keys[at] = 0;
    region_kvs_free(kvs, n);
    return 0;
}

/* err names region id over [start, end) at version 2. */
static void assert_names(const struct region_err *err, uint64_t id,
                         const char *start, const char *end)
{
    assert_int_equal(err->code, REGION_EKEY_NOT_IN_REGION);
    assert_true(err->has_region);
    assert_int_equal(err->region.id, id);
    assert_int_equal(err->region.version, 2);
    assert_int_equal(err->region.start_len, strlen(start));
    assert_memory_equal(err->region.start, start, strlen(start));
    assert_int_equal(err->region.end_len, strlen(end));
    assert_memory_equal(err->region.end, end, strlen(end));
}

/* With the current epoch, a range running past the region's end (the
 * old end before the split, or none) is refused, naming ["", "m"). */
static void past_the_end_is_refused(void **state)
{
    struct fx *f = *state;
    char keys[64];
    struct region_err err;
    assert_int_equal(scan(f, &f->r1, "a", "z", keys, sizeof keys, &err),
                     REGION_EKEY_NOT_IN_REGION);
    assert_names(&err, 1, "", "m");
    memset(&err, 0, sizeof err);
    assert_int_equal(scan(f, &f->r1, "a", NULL, keys, sizeof keys, &err),
                     REGION_EKEY_NOT_IN_REGION);
    assert_names(&err, 1, "", "m");
    /* one byte past the end is past it */
    assert_int_equal(scan(f, &f->r1, "a", "m\x01", keys, sizeof keys, &err),
                     REGION_EKEY_NOT_IN_REGION);
    assert_names(&err, 1, "", "m");
    /* so is a range starting at the end */
    assert_int_equal(scan(f, &f->r1, "m", "n", keys, sizeof keys, &err),
                     REGION_EKEY_NOT_IN_REGION);
    assert_names(&err, 1, "", "m");
}

/* A range starting before the region's start is refused, naming
 * ["m", ""). */
static void before_the_start_is_refused(void **state)
{
    struct fx *f = *state;
    char keys[64];
    struct region_err err;
    assert_int_equal(scan(f, &f->r2, "l", "p", keys, sizeof keys, &err),
                     REGION_EKEY_NOT_IN_REGION);
    assert_names(&err, 2, "m", "");
    assert_int_equal(scan(f, &f->r2, "", NULL, keys, sizeof keys, &err),
                     REGION_EKEY_NOT_IN_REGION);
    assert_names(&err, 2, "m", "");
}

/* A range may start at the region's start and end at its end; the last
 * region takes an unbounded end. */
static void up_to_the_bounds_is_served(void **state)
{
    struct fx *f = *state;
    char keys[64];
    struct region_err err;
    assert_int_equal(scan(f, &f->r1, "", "m", keys, sizeof keys, &err), 0);
    assert_string_equal(keys, "abcdefghijkl");
    assert_int_equal(scan(f, &f->r1, "c", "e", keys, sizeof keys, &err), 0);
    assert_string_equal(keys, "cd");
    assert_int_equal(scan(f, &f->r2, "m", NULL, keys, sizeof keys, &err), 0);
    assert_string_equal(keys, "mnopqrstuvwxyz");
    assert_int_equal(scan(f, &f->r2, "m", "n", keys, sizeof keys, &err), 0);
    assert_string_equal(keys, "m");
}

/* The check itself (kvd's Txn Scan, ScanLock, ResolveLock, DeleteRange
 * and Coprocessor call it): the same answers, the region on success;
 * an old epoch is still EpochNotMatch. */
static void check_range_answers(void **state)
{
    struct fx *f = *state;
    struct region_store *s = f->c.st[f->l].s;
    struct region_desc d;
    struct region_err err;
    memset(&d, 0, sizeof d);
    assert_int_equal(region_check_range(s, &f->r1, "b", 1, "m", 1, &d, &err),
                     0);
    assert_int_equal(err.code, 0);
    assert_int_equal(d.id, 1);
    assert_int_equal(d.end_len, 1);
    assert_int_equal(region_check_range(s, &f->r1, "b", 1, "", 0, &d, &err),
                     REGION_EKEY_NOT_IN_REGION);
    assert_names(&err, 1, "", "m");
    assert_int_equal(region_check_range(s, &f->r2, "a", 1, "n", 1, &d, &err),
                     REGION_EKEY_NOT_IN_REGION);
    assert_names(&err, 2, "m", "");
    struct region_ctx old = {1, f->r1.conf_ver, 1};
    assert_int_equal(region_check_range(s, &old, "b", 1, "c", 1, &d, &err),
                     REGION_EEPOCH_NOT_MATCH);
    assert_true(err.has_region);
    assert_int_equal(err.region.version, 2);
    struct region_ctx none = {3, 0, 0};
    assert_int_equal(region_check_range(s, &none, "b", 1, "c", 1, &d, &err),
                     REGION_ENOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(past_the_end_is_refused),
        cmocka_unit_test(before_the_start_is_refused),
        cmocka_unit_test(up_to_the_bounds_is_served),
        cmocka_unit_test(check_range_answers),
    };
    return cmocka_run_group_tests_name("libregion/rangecheck", tests, setup,
                                       teardown);
}

/* test_read.c: reads answered on the caller's thread under the leader's
 * lease (region_read_now, DESIGN.md "Reads"): served by a leader whose
 * lease holds, refused (-EAGAIN) by followers, by a leader cut off once a
 * successor exists and during a leadership transfer; never a stale value.
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

struct get_arg {
    struct region_store *s; /* the store read */
    const char *key;        /* the key */
    char value[64];         /* what it holds ("" absent) */
    int calls;              /* times fn ran */
};

static int get_fn(struct mvcc_store *m, void *arg)
{
    struct get_arg *g = arg;
    (void)m;
    g->calls++;
    struct region_ctx ctx = {1, 0, 0};
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = region_raw_get(g->s, &ctx, g->key, strlen(g->key), &v, &vl,
                            NULL);
    g->value[0] = 0;
    if (rc == 0) {
        snprintf(g->value, sizeof g->value, "%.*s", (int)vl, (char *)v);
        region_free(v);
    }
    return rc == MVCC_NOTFOUND ? 0 : rc;
}

/* region_read_now at store i for key: its code; g gets the value. */
static int read_now(struct cluster *c, int i, const char *key,
                    struct get_arg *g)
{
    memset(g, 0, sizeof *g);
    g->s = c->st[i].s;
    g->key = key;
    struct region_ctx ctx = {1, 0, 0};
    struct region_err err;
    return region_read_now(c->st[i].s, &ctx, get_fn, g, &err);
}

static uint64_t inline_reads(struct cluster *c, int i)
{
    struct region_store_stats st;
    region_store_stats(c->st[i].s, &st);
    return st.reads_inline;
}

/* The leader answers at once once its lease started; followers never;
 * a stale epoch gets the region error. */
static void leader_reads_inline(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    assert_int_equal(cl_put(&c, l, 1, "k", "v1", NULL), 0);
    cl_tick(&c); /* a heartbeat round acked: the lease holds */
    struct get_arg g;
    assert_int_equal(read_now(&c, l, "k", &g), 0);
    assert_int_equal(g.calls, 1);
    assert_string_equal(g.value, "v1");
    assert_int_equal(inline_reads(&c, l), 1);
    for (int i = 1; i <= 3; i++) {
        if (i == l)
            continue;
        assert_int_equal(read_now(&c, i, "k", &g), -EAGAIN);
        assert_int_equal(g.calls, 0);
        assert_int_equal(inline_reads(&c, i), 0);
    }
    struct region_ctx stale = {1, 7, 7};
    struct region_err err;
    assert_int_equal(region_read_now(c.st[l].s, &stale, get_fn, &g, &err),
                     REGION_EEPOCH_NOT_MATCH);
    struct region_ctx none = {99, 0, 0};
    assert_int_equal(region_read_now(c.st[l].s, &none, get_fn, &g, &err),
                     REGION_ENOT_FOUND);
    assert_int_equal(region_read_now(c.st[l].s, NULL, get_fn, &g, &err),
                     REGION_EINVAL);
    cl_destroy(&c);
}

/* A leader cut off from the others: it answers inline for a while (its
 * lease), but from the tick a successor leads it answers -EAGAIN every
 * time, before and after the successor writes a new value; the value it
 * gave was always the one acknowledged last. */
static void deposed_leader_never_reads_inline(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    assert_int_equal(cl_put(&c, l, 1, "k", "old", NULL), 0);
    cl_tick(&c);
    cl_isolate(&c, l, true);
    int l2 = 0, served = 0, refused_after = 0;
    for (int t = 0; t < 500 && l2 == 0; t++) {
        struct get_arg g;
        int rc = read_now(&c, l, "k", &g);
        if (rc == 0) {
            served++;
            assert_string_equal(g.value, "old");
        } else {
            assert_int_equal(rc, -EAGAIN);
        }
        cl_tick(&c);
        for (int i = 1; i <= 3; i++)
            if (i != l && region_store_is_leader(c.st[i].s, 1))
                l2 = i;
    }
    assert_true(l2 != 0);
    assert_true(served > 0); /* the lease did serve before it ran out */
    assert_int_equal(cl_put(&c, l2, 1, "k", "new", NULL), 0);
    for (int t = 0; t < 30; t++) {
        struct get_arg g;
        assert_int_equal(read_now(&c, l, "k", &g), -EAGAIN);
        assert_int_equal(g.calls, 0);
        refused_after++;
        cl_tick(&c);
    }
    assert_int_equal(refused_after, 30);
    cl_tick(&c);
    struct get_arg g;
    assert_int_equal(read_now(&c, l2, "k", &g), 0);
    assert_string_equal(g.value, "new");
    cl_isolate(&c, l, false);
    cl_destroy(&c);
}

/* A leadership transfer ends the lease at once (libraft's TIMEOUT_NOW
 * fence): the old leader reads inline no more, the new one does once its
 * own lease holds. */
static void transfer_ends_inline_reads(void **state)
{
    (void)state;
    struct cluster c = {0};
    cl_init(&c, 3, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(&c, 1);
    assert_int_equal(cl_put(&c, l, 1, "k", "v", NULL), 0);
    cl_tick(&c);
    struct get_arg g;
    assert_int_equal(read_now(&c, l, "k", &g), 0);
    int t = l == 1 ? 2 : 1;
    assert_int_equal(region_store_transfer_leader(c.st[l].s, 1, (uint64_t)t),
                     0);
    assert_int_equal(read_now(&c, l, "k", &g), -EAGAIN);
    for (int i = 0; i < 200 && !region_store_is_leader(c.st[t].s, 1); i++)
        cl_tick(&c);
    assert_true(region_store_is_leader(c.st[t].s, 1));
    assert_int_equal(read_now(&c, l, "k", &g), -EAGAIN);
    int ok = -1;
    for (int i = 0; i < 50 && ok != 0; i++) {
        cl_tick(&c);
        ok = read_now(&c, t, "k", &g);
    }
    assert_int_equal(ok, 0);
    assert_string_equal(g.value, "v");
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leader_reads_inline),
        cmocka_unit_test(deposed_leader_never_reads_inline),
        cmocka_unit_test(transfer_ends_inline_reads),
    };
    return cmocka_run_group_tests_name("libregion/read", tests, NULL, NULL);
}

/* test_read.c: reads answered on the caller's thread under the leader's
 * lease (region_read_now, DESIGN.md "Reads"): served by a leader whose
 * lease holds, refused (-EAGAIN) by followers, by a leader cut off once a
 * successor exists and during a leadership transfer; never a stale value.
 * The same through region_raw_get_now (kvd's RawGet), which also checks
 * the key's range under the same lock, and through region_raw_get_now_n
 * (kvd's RawGets of one read), where each key's outcome is its own.
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

/* Whether read_now goes through region_raw_get_now (kvd's RawGet) rather
 * than region_read_now with get_fn, or through region_raw_get_now_n (the
 * key between two others, all three answered alike): the tests run all
 * three ways. */
static bool raw_now;
static bool raw_now_n;

/* region_raw_get_now_n of {"a-absent", key, "a-absent"}: key's code, the
 * others' checked against it (an absent key where key answers, -EAGAIN
 * where it does). */
static int read_now_n(struct region_store *s, const char *key,
                      struct get_arg *g)
{
    struct region_ctx ctx = {1, 0, 0};
    struct region_raw_read r[3] = {{"a-absent", 8, 0, NULL, 0},
                                   {key, strlen(key), 0, NULL, 0},
                                   {"a-absent", 8, 0, NULL, 0}};
    assert_int_equal(region_raw_get_now_n(s, &ctx, r, 3), 0);
    int rc = r[1].rc;
    for (int i = 0; i < 3; i += 2)
        assert_int_equal(r[i].rc, rc == 0 || rc == MVCC_NOTFOUND
                                      ? MVCC_NOTFOUND : rc);
    if (rc == 0 || rc == MVCC_NOTFOUND)
        g->calls++;
    if (rc == 0) {
        snprintf(g->value, sizeof g->value, "%.*s", (int)r[1].value_len,
                 (char *)r[1].value);
        region_free(r[1].value);
    }
    return rc == MVCC_NOTFOUND ? 0 : rc;
}

/* region_read_now (or region_raw_get_now) at store i for key: its code
 * (0 for a key absent); g gets the value. */
static int read_now(struct cluster *c, int i, const char *key,
                    struct get_arg *g)
{
    memset(g, 0, sizeof *g);
    g->s = c->st[i].s;
    g->key = key;
    struct region_ctx ctx = {1, 0, 0};
    struct region_err err;
    if (raw_now_n)
        return read_now_n(c->st[i].s, key, g);
    if (!raw_now)
        return region_read_now(c->st[i].s, &ctx, get_fn, g, &err);
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = region_raw_get_now(c->st[i].s, &ctx, key, strlen(key), &v, &vl,
                                &err);
    if (rc == 0 || rc == MVCC_NOTFOUND)
        g->calls++;
    if (rc == 0) {
        snprintf(g->value, sizeof g->value, "%.*s", (int)vl, (char *)v);
        region_free(v);
    }
    return rc == MVCC_NOTFOUND ? 0 : rc;
}

static uint64_t inline_reads(struct cluster *c, int i)
{
    struct region_store_stats st;
    region_store_stats(c->st[i].s, &st);
    return st.reads_inline;
}

/* Three stores, region 1 over [start, end) (NULL: unbounded), k = v1
 * written through its leader and a heartbeat round acked, so the
 * leader's lease holds: the leader's index. */
static int leader_with_k(struct cluster *c, const char *start,
                         const char *end)
{
    cl_init(c, 3, false);
    cl_bootstrap(c, 1, start, end);
    int l = (int)cl_wait_leader(c, 1);
    assert_int_equal(cl_put(c, l, 1, "k", "v1", NULL), 0);
    cl_tick(c);
    return l;
}

/* The leader answers at once once its lease started; followers never;
 * a stale epoch gets the region error. */
static void leader_reads_inline(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = leader_with_k(&c, NULL, NULL);
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

/* region_raw_get_now checks lease, epoch and key range under one lock:
 * the leader answers values and absent keys, a key outside the region
 * gets KEY_NOT_IN_REGION naming it, a stale epoch or unknown region the
 * region error, a follower -EAGAIN (its value untouched), bad arguments
 * EINVAL; each answer counts one inline read, no refusal does. */
static void raw_get_now_checks(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = leader_with_k(&c, "b", "m");
    struct region_store *s = c.st[l].s;
    struct region_ctx ctx = {1, 0, 0};
    struct region_err err;
    uint8_t *v = NULL;
    size_t vl = 0;
    assert_int_equal(region_raw_get_now(s, &ctx, "k", 1, &v, &vl, &err), 0);
    assert_int_equal(vl, 2);
    assert_memory_equal(v, "v1", 2);
    region_free(v);
    assert_int_equal(inline_reads(&c, l), 1);
    v = NULL;
    assert_int_equal(region_raw_get_now(s, &ctx, "kx", 2, &v, &vl, &err),
                     MVCC_NOTFOUND);
    assert_null(v);
    assert_int_equal(inline_reads(&c, l), 2);
    assert_int_equal(region_raw_get_now(s, &ctx, "z", 1, &v, &vl, &err),
                     REGION_EKEY_NOT_IN_REGION);
    assert_int_equal(err.code, REGION_EKEY_NOT_IN_REGION);
    assert_true(err.has_region);
    assert_int_equal(err.region.id, 1);
    struct region_ctx stale = {1, 7, 7};
    assert_int_equal(region_raw_get_now(s, &stale, "k", 1, &v, &vl, &err),
                     REGION_EEPOCH_NOT_MATCH);
    assert_true(err.has_region);
    struct region_ctx none = {99, 0, 0};
    assert_int_equal(region_raw_get_now(s, &none, "k", 1, &v, &vl, &err),
                     REGION_ENOT_FOUND);
    assert_int_equal(inline_reads(&c, l), 2);
    for (int i = 1; i <= 3; i++) {
        if (i == l)
            continue;
        v = (uint8_t *)"untouched";
        assert_int_equal(region_raw_get_now(c.st[i].s, &ctx, "k", 1, &v, &vl,
                                            &err), -EAGAIN);
        assert_string_equal((char *)v, "untouched");
        assert_int_equal(inline_reads(&c, i), 0);
    }
    assert_int_equal(region_raw_get_now(s, NULL, "k", 1, &v, &vl, &err),
                     REGION_EINVAL);
    assert_int_equal(region_raw_get_now(s, &ctx, NULL, 1, &v, &vl, &err),
                     REGION_EINVAL);
    assert_int_equal(region_raw_get_now(s, &ctx, "k", 1, NULL, &vl, NULL),
                     REGION_EINVAL);
    cl_destroy(&c);
}

/* region_raw_get_now_n: 40 keys of one context over two chunks, each
 * answered on its own: values, absent keys, and two keys outside the
 * region (one in each chunk) refused alone; a stale epoch or a follower
 * refuses every key and reads none; bad arguments EINVAL. Each key read
 * counts one inline read. */
static void raw_get_now_n_checks(void **state)
{
    (void)state;
    struct cluster c = {0};
    int l = leader_with_k(&c, "b", "m");
    struct region_store *s = c.st[l].s;
    struct region_ctx ctx = {1, 0, 0};
    enum { N = 40 };
    struct region_raw_read r[N];
    for (int i = 0; i < N; i++) {
        const char *k = i == 17 || i == 35 ? "z" : i % 3 == 0 ? "kx" : "k";
        r[i] = (struct region_raw_read){k, strlen(k), 12345, NULL, 0};
    }
    assert_int_equal(region_raw_get_now_n(s, &ctx, r, N), 0);
    for (int i = 0; i < N; i++) {
        if (i == 17 || i == 35) {
            assert_int_equal(r[i].rc, REGION_EKEY_NOT_IN_REGION);
            assert_null(r[i].value);
        } else if (i % 3 == 0) {
            assert_int_equal(r[i].rc, MVCC_NOTFOUND);
            assert_null(r[i].value);
        } else {
            assert_int_equal(r[i].rc, 0);
            assert_int_equal(r[i].value_len, 2);
            assert_memory_equal(r[i].value, "v1", 2);
            region_free(r[i].value);
        }
    }
    assert_int_equal(inline_reads(&c, l), N - 2);
    struct region_ctx stale = {1, 7, 7};
    assert_int_equal(region_raw_get_now_n(s, &stale, r, N), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].rc, REGION_EEPOCH_NOT_MATCH);
        assert_null(r[i].value);
    }
    for (int i = 1; i <= 3; i++) {
        if (i == l)
            continue;
        assert_int_equal(region_raw_get_now_n(c.st[i].s, &ctx, r, N), 0);
        for (int j = 0; j < N; j++)
            assert_int_equal(r[j].rc, -EAGAIN);
        assert_int_equal(inline_reads(&c, i), 0);
    }
    assert_int_equal(inline_reads(&c, l), N - 2);
    assert_int_equal(region_raw_get_now_n(s, &ctx, r, 0), 0);
    assert_int_equal(region_raw_get_now_n(s, &ctx, NULL, 0), 0);
    assert_int_equal(region_raw_get_now_n(NULL, &ctx, r, N), REGION_EINVAL);
    assert_int_equal(region_raw_get_now_n(s, NULL, r, N), REGION_EINVAL);
    assert_int_equal(region_raw_get_now_n(s, &ctx, NULL, 1), REGION_EINVAL);
    r[3].key = NULL;
    assert_int_equal(region_raw_get_now_n(s, &ctx, r, N), REGION_EINVAL);
    cl_destroy(&c);
}

/* The two lease tests again through region_raw_get_now (raw_now) or
 * region_raw_get_now_n (raw_now_n). */
static void with(bool *way, void (*test)(void **), void **state)
{
    *way = true;
    test(state);
    *way = false;
}

static void deposed_leader_never_raw_gets_now_n(void **state)
{
    with(&raw_now_n, deposed_leader_never_reads_inline, state);
}

static void transfer_ends_raw_gets_now_n(void **state)
{
    with(&raw_now_n, transfer_ends_inline_reads, state);
}

static void deposed_leader_never_raw_gets_now(void **state)
{
    with(&raw_now, deposed_leader_never_reads_inline, state);
}

static void transfer_ends_raw_gets_now(void **state)
{
    with(&raw_now, transfer_ends_inline_reads, state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leader_reads_inline),
        cmocka_unit_test(deposed_leader_never_reads_inline),
        cmocka_unit_test(transfer_ends_inline_reads),
        cmocka_unit_test(raw_get_now_checks),
        cmocka_unit_test(deposed_leader_never_raw_gets_now),
        cmocka_unit_test(transfer_ends_raw_gets_now),
        cmocka_unit_test(raw_get_now_n_checks),
        cmocka_unit_test(deposed_leader_never_raw_gets_now_n),
        cmocka_unit_test(transfer_ends_raw_gets_now_n),
    };
    return cmocka_run_group_tests_name("libregion/read", tests, NULL, NULL);
}

/* test_alloc.c: allocation failure, SQLite-faultsim style: fail the i-th
 * allocation for every i. pd_apply must be atomic on -ENOMEM (a retry
 * reaches exactly the reference state), and a whole API scenario must end
 * without a crash or a leak whatever fails.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "pd_int.h"

static long live;      /* allocations not yet freed */
static long countdown; /* fail when it reaches 0; negative: never */
static bool failed;    /* an allocation was failed */

static bool fail_now(void)
{
    if (countdown < 0)
        return false;
    if (countdown-- == 0) {
        failed = true;
        return true;
    }
    return false;
}

static void *t_malloc(void *ctx, size_t n)
{
    (void)ctx;
    if (fail_now())
        return NULL;
    void *p = malloc(n);
    if (p != NULL)
        live++;
    return p;
}

static void *t_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (fail_now())
        return NULL;
    void *q = realloc(p, n);
    if (q != NULL && p == NULL)
        live++;
    return q;
}

static void t_free(void *ctx, void *p)
{
    (void)ctx;
    if (p != NULL)
        live--;
    free(p);
}

static const struct pd_heap heap = {NULL, t_malloc, t_realloc, t_free};

static const uint64_t S123[] = {1, 2, 3};
static const uint64_t S12[] = {1, 2};

/* Drive a small cluster through replica 0, ignoring results: under
 * allocation failure any call may fail. */
static void scenario(struct fx *fx)
{
    struct pd *pd = fx->pd[0];
    (void)pd_become_leader(pd, 1000, 0);
    (void)pd_memlog_apply(fx->log, pd, &fx->applied[0]);
    struct pd_store s1 = fx_store(1, "z1", "h1");
    uint64_t one = 1;
    struct pd_region_info r1 = fx_region(1, NULL, NULL, 1, 1, 1, 0, 1, &one);
    (void)pd_bootstrap(pd, 42, &s1, &r1.region);
    (void)pd_memlog_apply(fx->log, pd, &fx->applied[0]);
    for (uint64_t id = 2; id <= 4; id++) {
        struct pd_store s = fx_store(id, id == 4 ? "z3" : "z2", "h");
        (void)pd_store_put(pd, &s);
        struct pd_store_stats st;
        memset(&st, 0, sizeof(st));
        st.capacity = 100;
        st.available = 90;
        (void)pd_store_heartbeat(pd, 0, id, &st);
    }
    (void)pd_memlog_apply(fx->log, pd, &fx->applied[0]);
    struct pd_store_stats st;
    memset(&st, 0, sizeof(st));
    st.capacity = 100;
    st.available = 90;
    for (uint64_t id = 1; id <= 4; id++)
        (void)pd_store_heartbeat(pd, 0, id, &st);
    struct pd_region_info a = fx_region(1, NULL, "k", 2, 2, 1, 1, 2, S12);
    struct pd_region_info b = fx_region(2, "k", NULL, 2, 2, 1, 1, 3, S123);
    (void)pd_region_heartbeat(pd, 0, &a, NULL);
    (void)pd_region_heartbeat(pd, 0, &b, NULL);
    (void)pd_memlog_apply(fx->log, pd, &fx->applied[0]);
    uint64_t min, res;
    (void)pd_service_safe_point_update(pd, 0, "br", 100, 5, &min);
    (void)pd_gc_safe_point_update(pd, 0, 9, &res);
    (void)pd_memlog_apply(fx->log, pd, &fx->applied[0]);
    struct pd_operator ops[4];
    size_t n;
    (void)pd_schedule(pd, 0, ops, 4, &n);
    struct pd_step step;
    (void)pd_region_heartbeat(pd, 1, &a, &step);
    pd_ts ts;
    (void)pd_tso_get(pd, 1000, 3, &ts);
    uint8_t *snap;
    size_t len;
    if (pd_snapshot(pd, &snap, &len) == 0) {
        (void)pd_restore(fx->pd[1], snap, len);
        pd_free(snap);
    }
}

static void api_scenario_never_leaks(void **state)
{
    (void)state;
    pd_heap_set(&heap);
    long i = 0;
    do {
        countdown = i++;
        failed = false;
        struct fx fx;
        memset(&fx, 0, sizeof(fx));
        struct pd_storage st;
        if (pd_memlog_create(&fx.log) == 0) {
            st = pd_memlog_storage(fx.log);
            if (pd_create(NULL, &st, &fx.pd[0]) == 0 &&
                pd_create(NULL, &st, &fx.pd[1]) == 0)
                scenario(&fx);
        }
        countdown = -1;
        for (int k = 0; k < FX_REPLICAS; k++)
            pd_destroy(fx.pd[k]);
        pd_memlog_destroy(fx.log);
        assert_int_equal(live, 0);
    } while (failed);
    assert_true(i > 100);
    pd_heap_set(NULL);
}

static void apply_is_atomic_under_enomem(void **state)
{
    (void)state;
    pd_heap_set(&heap);
    countdown = -1;
    /* The reference: the scenario's log, applied without failures. */
    struct fx fx;
    fx_init(&fx, 2, NULL);
    scenario(&fx);
    fx_commit(&fx);
    struct pd_storage st = pd_memlog_storage(fx.log);
    struct pd *ref;
    assert_int_equal(pd_create(NULL, &st, &ref), 0);
    size_t next = 0;
    assert_int_equal(pd_memlog_apply(fx.log, ref, &next), 0);
    uint8_t *want;
    size_t want_n;
    assert_int_equal(pd_snapshot(ref, &want, &want_n), 0);
    long i = 0;
    unsigned retries = 0;
    do {
        struct pd *r;
        assert_int_equal(pd_create(NULL, &st, &r), 0);
        countdown = i++;
        failed = false;
        next = 0;
        while (next < pd_memlog_count(fx.log)) {
            int rc = pd_memlog_apply(fx.log, r, &next);
            if (rc == -ENOMEM) {
                countdown = -1; /* the retry of that entry succeeds */
                retries++;
                continue;
            }
            assert_int_equal(rc, 0);
        }
        countdown = -1;
        uint8_t *got;
        size_t got_n;
        assert_int_equal(pd_snapshot(r, &got, &got_n), 0);
        assert_int_equal(got_n, want_n);
        assert_memory_equal(got, want, want_n);
        pd_free(got);
        pd_destroy(r);
    } while (failed);
    assert_true(retries > 10);
    pd_free(want);
    pd_destroy(ref);
    fx_fini(&fx);
    assert_int_equal(live, 0);
    pd_heap_set(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(api_scenario_never_leaks),
        cmocka_unit_test(apply_is_atomic_under_enomem),
    };
    return cmocka_run_group_tests_name("libpd/alloc", tests, NULL, NULL);
}

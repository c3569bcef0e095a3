/* test_gc.c: the GC safe point and service safe points: never backwards,
 * the minimum over live services, TTL expiry, and races between the two
 * resolved the same way on every replica at apply time.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "pd_int.h"

static void setup_fx(struct fx *fx)
{
    fx_init(fx, 2, NULL);
    fx_lead(fx, 0, 1000, 0);
}

static void gc_safe_point_never_goes_back(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx);
    struct pd *pd = fx.pd[0];
    uint64_t res = 0;
    assert_int_equal(pd_gc_safe_point_update(fx.pd[1], 0, 5, &res),
                     PD_ENOTLEADER);
    assert_int_equal(pd_gc_safe_point_update(pd, 0, 100, &res), 0);
    assert_int_equal(res, 100);
    assert_int_equal(pd_gc_safe_point(pd), 0);
    fx_commit(&fx);
    assert_int_equal(pd_gc_safe_point(pd), 100);
    assert_int_equal(pd_gc_safe_point(fx.pd[1]), 100);
    size_t n = pd_memlog_count(fx.log);
    assert_int_equal(pd_gc_safe_point_update(pd, 0, 50, &res), 0);
    assert_int_equal(res, 100);
    assert_int_equal(pd_gc_safe_point_update(pd, 0, 100, &res), 0);
    assert_int_equal(pd_memlog_count(fx.log), n);
    fx_fini(&fx);
}

static void services_hold_it_back_until_they_expire(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx);
    struct pd *pd = fx.pd[0];
    uint64_t min = 0, res = 0;
    assert_int_equal(pd_service_safe_point_min(pd, 0, NULL), UINT64_MAX);
    assert_int_equal(
        pd_service_safe_point_update(pd, 0, "br", 1000, 200, &min), 0);
    assert_int_equal(min, 200);
    /* min_out is computed over the applied state plus this update. */
    assert_int_equal(
        pd_service_safe_point_update(pd, 0, "cdc", UINT64_MAX, 300, &min), 0);
    assert_int_equal(min, 300);
    fx_commit(&fx);
    assert_int_equal(
        pd_service_safe_point_update(pd, 0, "cdc", UINT64_MAX, 300, &min), 0);
    assert_int_equal(min, 200);
    fx_commit(&fx);
    const char *who = NULL;
    assert_int_equal(pd_service_safe_point_min(fx.pd[1], 10, &who), 200);
    assert_string_equal(who, "br");
    assert_int_equal(pd_gc_safe_point_update(pd, 500, 1000, &res), 0);
    assert_int_equal(res, 200);
    fx_commit(&fx);
    assert_int_equal(pd_gc_safe_point(pd), 200);
    /* "br" lapses at 1000: only "cdc" counts from then on. */
    assert_int_equal(pd_service_safe_point_min(pd, 1000, &who), 300);
    assert_string_equal(who, "cdc");
    assert_int_equal(pd_gc_safe_point_update(pd, 1000, 1000, &res), 0);
    assert_int_equal(res, 300);
    fx_commit(&fx);
    /* Below the GC safe point, or below its own: refused. */
    assert_int_equal(
        pd_service_safe_point_update(pd, 1000, "new", 10, 299, &min),
        PD_ESAFEPOINT);
    assert_int_equal(min, 300);
    assert_int_equal(
        pd_service_safe_point_update(pd, 1000, "cdc", 10, 299, &min),
        PD_ESAFEPOINT);
    assert_int_equal(
        pd_service_safe_point_update(pd, 1000, "cdc", 10, 400, &min), 0);
    assert_int_equal(min, 400);
    assert_int_equal(pd_service_safe_point_update(pd, 1000, "", 10, 1, &min),
                     -EINVAL);
    assert_int_equal(pd_service_safe_point_update(pd, 1000, NULL, 10, 1, &min),
                     -EINVAL);
    fx_commit(&fx);
    /* ttl 0 removes it. */
    assert_int_equal(pd_service_safe_point_update(pd, 1000, "cdc", 0, 0, &min),
                     0);
    assert_int_equal(min, UINT64_MAX);
    fx_commit(&fx);
    assert_int_equal(pd_service_safe_point_min(pd, 0, NULL), UINT64_MAX);
    assert_int_equal(pd->n_svc, 0); /* "br" was dropped as expired too */
    fx_fini(&fx);
}

static void races_resolve_at_apply(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx);
    struct pd *pd = fx.pd[0];
    uint64_t res, min;
    assert_int_equal(pd_gc_safe_point_update(pd, 0, 300, &res), 0);
    assert_int_equal(
        pd_service_safe_point_update(pd, 0, "cdc", 1000, 150, &min), 0);
    size_t n = pd_memlog_count(fx.log);
    const uint8_t *gc, *svc;
    size_t gcn, svcn;
    assert_int_equal(pd_memlog_entry(fx.log, n - 2, &gc, &gcn), 0);
    assert_int_equal(pd_memlog_entry(fx.log, n - 1, &svc, &svcn), 0);
    /* Log order GC, service: the service arrives too late. */
    fx.applied[0] = fx.applied[1] = n;
    assert_int_equal(pd_apply(fx.pd[0], gc, gcn), 0);
    assert_int_equal(pd_apply(fx.pd[0], svc, svcn), PD_ESAFEPOINT);
    assert_int_equal(pd_gc_safe_point(fx.pd[0]), 300);
    /* Log order service, GC: the GC safe point stops at the service's. */
    assert_int_equal(pd_apply(fx.pd[1], svc, svcn), 0);
    assert_int_equal(pd_apply(fx.pd[1], gc, gcn), 0);
    assert_int_equal(pd_gc_safe_point(fx.pd[1]), 150);
    fx_fini(&fx);
}

static void expired_entries_dropped_by_the_proposers_clock(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx);
    struct pd *pd = fx.pd[0];
    uint64_t min;
    assert_int_equal(pd_service_safe_point_update(pd, 0, "a", 10, 5, &min),
                     0);
    fx_commit(&fx);
    assert_int_equal(pd_service_safe_point_update(pd, 100, "b", 10, 7, &min),
                     0);
    assert_int_equal(min, 7); /* "a" lapsed at 10 */
    fx_commit(&fx);
    assert_int_equal(fx.pd[1]->n_svc, 1);
    assert_int_equal(pd_service_safe_point_min(fx.pd[1], 0, NULL), 7);
    fx_fini(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gc_safe_point_never_goes_back),
        cmocka_unit_test(services_hold_it_back_until_they_expire),
        cmocka_unit_test(races_resolve_at_apply),
        cmocka_unit_test(expired_entries_dropped_by_the_proposers_clock),
    };
    return cmocka_run_group_tests_name("libpd/gc", tests, NULL, NULL);
}

/* test_snapshot.c: snapshots restore the replicated state exactly (a second
 * snapshot is byte-identical), a restored replica leads on from it, and a
 * cut snapshot is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "pd_int.h"

static const uint64_t S123[] = {1, 2, 3};

/* A cluster with some of everything, built through replica 0. */
static void build(struct fx *fx)
{
    fx_init(fx, 2, NULL);
    fx_lead(fx, 0, 100000, 0);
    fx_bootstrap(fx, 0);
    struct pd *pd = fx->pd[0];
    for (uint64_t id = 2; id <= 4; id++) {
        struct pd_store s = fx_store(id, "z", id == 2 ? "h2" : "hx");
        assert_int_equal(pd_store_put(pd, &s), 0);
    }
    fx_commit(fx);
    assert_int_equal(pd_store_set_state(pd, 4, PD_STORE_OFFLINE), 0);
    fx_commit(fx);
    assert_int_equal(pd_store_set_state(pd, 4, PD_STORE_TOMBSTONE), 0);
    struct pd_region_info a = fx_region(10, NULL, "k", 2, 2, 2, 3, 3, S123);
    struct pd_region_info b = fx_region(11, "k", NULL, 2, 2, 3, 4, 3, S123);
    assert_int_equal(fx_hb(fx, 0, 0, &a), 0);
    assert_int_equal(fx_hb(fx, 0, 0, &b), 0);
    uint64_t min, res;
    assert_int_equal(pd_service_safe_point_update(pd, 100000, "br", 5000,
                                                  40, &min), 0);
    assert_int_equal(pd_service_safe_point_update(pd, 100000, "cdc",
                                                  UINT64_MAX, 60, &min), 0);
    fx_commit(fx);
    assert_int_equal(pd_gc_safe_point_update(pd, 100000, 50, &res), 0);
    fx_commit(fx);
    pd_ts ts;
    assert_int_equal(pd_tso_get(pd, 100000, 1, &ts), 0);
    assert_int_equal(pd_gc_safe_point(pd), 40);
}

static void restore_is_exact(void **state)
{
    (void)state;
    struct fx fx;
    build(&fx);
    uint8_t *snap, *again;
    size_t n, n2;
    assert_int_equal(pd_snapshot(fx.pd[0], &snap, &n), 0);
    struct pd_storage st = pd_memlog_storage(fx.log);
    struct pd *r;
    assert_int_equal(pd_create(NULL, &st, &r), 0);
    assert_int_equal(pd_restore(r, snap, n), 0);
    assert_int_equal(pd_snapshot(r, &again, &n2), 0);
    assert_int_equal(n2, n);
    assert_memory_equal(again, snap, n);
    pd_free(again);
    /* The follower replica, restored over its own state, too. */
    assert_int_equal(pd_restore(fx.pd[1], snap, n), 0);
    assert_int_equal(pd_snapshot(fx.pd[1], &again, &n2), 0);
    assert_memory_equal(again, snap, n);
    pd_free(again);
    assert_int_equal(pd_cluster_id(r), 42);
    assert_int_equal(pd_store_count(r), 4);
    struct pd_store_info si;
    assert_int_equal(pd_store_get(r, 0, 4, &si), 0);
    assert_int_equal(si.state, PD_STORE_TOMBSTONE);
    assert_int_equal(pd_store_get(r, 0, 2, &si), 0);
    assert_string_equal(si.store.labels[1].value, "h2");
    assert_int_equal(pd_region_count(r), 2);
    struct pd_region_info ri;
    assert_int_equal(pd_region_by_key(r, (const uint8_t *)"z", 1, &ri), 0);
    assert_int_equal(ri.region.id, 11);
    assert_int_equal(ri.leader_peer_id, 11003);
    assert_int_equal(pd_gc_safe_point(r), 40);
    assert_int_equal(pd_service_safe_point_min(r, 100000, NULL), 40);
    assert_int_equal(pd_service_safe_point_min(r, 105000, NULL), 60);
    /* A restored replica leads on above everything served. */
    uint64_t saved = pd_tso_saved(r);
    assert_int_equal(saved, pd_tso_saved(fx.pd[0]));
    pd_become_follower(fx.pd[0]);
    assert_int_equal(pd_become_leader(r, 0, 0), 0);
    size_t next = pd_memlog_count(fx.log) - 2;
    assert_int_equal(pd_memlog_apply(fx.log, r, &next), 0);
    pd_ts ts;
    assert_int_equal(pd_tso_get(r, 0, 1, &ts), 0);
    assert_int_equal(ts, PD_TS_COMPOSE(saved + 1, 0));
    uint64_t id;
    assert_int_equal(pd_id_alloc(r, 1, &id), 0);
    assert_int_equal(id, pd_id_saved(fx.pd[0]) + 1);
    pd_destroy(r);
    pd_free(snap);
    fx_fini(&fx);
}

static void cut_snapshots_are_refused(void **state)
{
    (void)state;
    struct fx fx;
    build(&fx);
    uint8_t *snap;
    size_t n;
    assert_int_equal(pd_snapshot(fx.pd[0], &snap, &n), 0);
    struct pd_storage st = pd_memlog_storage(fx.log);
    struct pd *r;
    assert_int_equal(pd_create(NULL, &st, &r), 0);
    assert_int_equal(pd_restore(r, snap, 3), PD_EDECODE);
    assert_int_equal(pd_restore(r, snap, 6), PD_EDECODE);
    assert_int_equal(pd_restore(r, snap, 0), 0);
    assert_false(pd_is_bootstrapped(r));
    pd_destroy(r);
    pd_free(snap);
    fx_fini(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(restore_is_exact),
        cmocka_unit_test(cut_snapshots_are_refused),
    };
    return cmocka_run_group_tests_name("libpd/snapshot", tests, NULL, NULL);
}

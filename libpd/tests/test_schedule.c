/* test_schedule.c: checkers and schedulers on synthetic clusters, each
 * asserting the exact operator produced (or that none is): replica checker
 * (make up, replace down or offline, remove extra), location labels,
 * balance-leader, balance-region, merge checker and a whole round.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "pd_int.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

static struct pd_config config(void)
{
    struct pd_config cfg;
    pd_config_default(&cfg);
    cfg.max_store_down_ms = 1000;
    cfg.location_labels[0] = "zone";
    cfg.location_labels[1] = "host";
    cfg.n_location_labels = 2;
    cfg.split_merge_interval_ms = 0;
    return cfg;
}

static void store_hb(struct fx *fx, uint64_t mono, uint64_t id, uint64_t avail)
{
    struct pd_store_stats st;
    memset(&st, 0, sizeof(st));
    st.capacity = 100 * GIB;
    st.available = avail;
    assert_int_equal(pd_store_heartbeat(fx->pd[0], mono, id, &st), 0);
}

/* n stores; zones[i] / hosts[i] label store i+1 (NULL zones: none). */
static void cluster(struct fx *fx, const struct pd_config *cfg, int n,
                    const char *const *zones)
{
    static const char *hosts[] = {"h1", "h2", "h3", "h4", "h5", "h6"};
    fx_init(fx, 1, cfg);
    fx_lead(fx, 0, 1000, 0);
    fx_bootstrap(fx, 0);
    for (int i = 0; i < n; i++) {
        struct pd_store s = fx_store((uint64_t)i + 1,
                                     zones ? zones[i] : NULL, hosts[i]);
        assert_int_equal(pd_store_put(fx->pd[0], &s), 0);
    }
    fx_commit(fx);
    for (int i = 0; i < n; i++)
        store_hb(fx, 0, (uint64_t)i + 1, 80 * GIB);
}

/* Region id over [start, end), epoch 1/2, peers on the given stores. */
static void region(struct fx *fx, uint64_t id, const char *start,
                   const char *end, uint64_t leader, uint64_t size_mib, int n,
                   const uint64_t *stores)
{
    struct pd_region_info r =
        fx_region(id, start, end, 1, 2, leader, size_mib, n, stores);
    assert_int_equal(fx_hb(fx, 0, 0, &r), 0);
}

static void assert_step(const struct pd_step *s, int kind, uint64_t store,
                        uint64_t peer)
{
    assert_int_equal(s->kind, kind);
    assert_int_equal(s->store_id, store);
    assert_int_equal(s->peer_id, peer);
}

static const uint64_t S12[] = {1, 2};
static const uint64_t S13[] = {1, 3};
static const uint64_t S123[] = {1, 2, 3};
static const uint64_t S1234[] = {1, 2, 3, 4};

static void make_up_replica_on_the_emptiest_store(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    struct fx fx;
    cluster(&fx, &cfg, 4, NULL);
    region(&fx, 10, NULL, "m", 1, 1, 2, S12);
    region(&fx, 11, "m", NULL, 1, 10, 3, S123);
    struct pd_operator op;
    /* Stores 3 and 4 are candidates; 3 holds 10 MiB, 4 nothing. */
    assert_int_equal(pd_check_region(fx.pd[0], 0, 10, &op), 0);
    assert_string_equal(op.desc, "make-up-replica");
    assert_int_equal(op.region_id, 10);
    assert_int_equal(op.n_steps, 2);
    assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 4, 1);
    assert_step(&op.steps[1], PD_STEP_PROMOTE_LEARNER, 4, 1);
    /* It is registered: the region is busy now. */
    assert_int_equal(pd_check_region(fx.pd[0], 0, 10, &op), PD_EBUSY);
    assert_int_equal(pd_check_region(fx.pd[0], 0, 11, &op), PD_ENOOP);
    assert_int_equal(pd_check_region(fx.pd[0], 0, 99, &op), PD_ENOTFOUND);
    fx_fini(&fx);
}

static void location_labels_keep_zones_apart(void **state)
{
    (void)state;
    static const char *zones[] = {"z1", "z1", "z2", "z3"};
    struct pd_config cfg = config();
    struct fx fx;
    cluster(&fx, &cfg, 4, zones);
    /* Store 4 (z3) carries much more data than store 2 (z1), but store 2
     * would share zone z1 with store 1. */
    region(&fx, 10, NULL, "m", 1, 1, 2, S13);
    uint64_t s4[] = {4};
    region(&fx, 11, "m", NULL, 4, 50, 1, s4);
    struct pd_operator op;
    assert_int_equal(pd_check_region(fx.pd[0], 0, 10, &op), 0);
    assert_string_equal(op.desc, "make-up-replica");
    assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 4, 1);
    fx_fini(&fx);
}

static void better_location_moves_a_shared_zone_replica(void **state)
{
    (void)state;
    static const char *zones[] = {"z1", "z1", "z2", "z3"};
    struct pd_config cfg = config();
    struct fx fx;
    cluster(&fx, &cfg, 4, zones);
    region(&fx, 10, NULL, NULL, 1, 1, 3, S123);
    /* Stores 1 and 2 share z1; store 2 (same size, higher id) moves to z3. */
    struct pd_operator op;
    assert_int_equal(pd_check_region(fx.pd[0], 0, 10, &op), 0);
    assert_string_equal(op.desc, "move-to-better-location");
    assert_int_equal(op.n_steps, 3);
    assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 4, 1);
    assert_step(&op.steps[1], PD_STEP_PROMOTE_LEARNER, 4, 1);
    assert_step(&op.steps[2], PD_STEP_REMOVE_PEER, 2, 0);
    fx_fini(&fx);

    /* No third zone: sharing z1 is unavoidable, nothing to do. */
    static const char *two[] = {"z1", "z1", "z2", "z2"};
    cluster(&fx, &cfg, 4, two);
    region(&fx, 10, NULL, NULL, 1, 1, 3, S123);
    assert_int_equal(pd_check_region(fx.pd[0], 0, 10, &op), PD_ENOOP);
    fx_fini(&fx);
}

static void down_replica_is_replaced(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    struct fx fx;
    cluster(&fx, &cfg, 4, NULL);
    region(&fx, 10, NULL, NULL, 1, 1, 3, S123);
    struct pd_operator op;
    assert_int_equal(pd_check_region(fx.pd[0], 1000, 10, &op), PD_ENOOP);
    /* Stores 1, 2 and 4 keep reporting; 3 falls silent past 1000 ms. */
    store_hb(&fx, 1500, 1, 80 * GIB);
    store_hb(&fx, 1500, 2, 80 * GIB);
    store_hb(&fx, 1500, 4, 80 * GIB);
    assert_int_equal(pd_check_region(fx.pd[0], 1001, 10, &op), 0);
    assert_string_equal(op.desc, "replace-down-replica");
    assert_int_equal(op.n_steps, 3);
    assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 4, 1);
    assert_step(&op.steps[1], PD_STEP_PROMOTE_LEARNER, 4, 1);
    assert_step(&op.steps[2], PD_STEP_REMOVE_PEER, 3, 0);
    fx_fini(&fx);

    /* One replica too many and one down: just drop the down one. */
    cluster(&fx, &cfg, 4, NULL);
    region(&fx, 10, NULL, NULL, 1, 1, 4, S1234);
    store_hb(&fx, 1500, 1, 80 * GIB);
    store_hb(&fx, 1500, 3, 80 * GIB);
    store_hb(&fx, 1500, 4, 80 * GIB);
    assert_int_equal(pd_check_region(fx.pd[0], 1500, 10, &op), 0);
    assert_string_equal(op.desc, "remove-down-replica");
    assert_int_equal(op.n_steps, 1);
    assert_step(&op.steps[0], PD_STEP_REMOVE_PEER, 2, 0);
    fx_fini(&fx);
}

static void reported_down_peer_is_replaced(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    struct fx fx;
    cluster(&fx, &cfg, 4, NULL);
    region(&fx, 10, NULL, NULL, 1, 1, 3, S123);
    /* Store 3 is up, but the leader has not heard from its peer. */
    struct pd_region_info r = fx_region(10, NULL, NULL, 1, 2, 1, 1, 3, S123);
    r.n_down_peers = 1;
    r.down_peer_ids[0] = 10003;
    assert_int_equal(fx_hb(&fx, 0, 0, &r), 0);
    struct pd_region_info got = fx_get(&fx, 0, 10);
    assert_int_equal(got.n_down_peers, 1);
    assert_int_equal(got.down_peer_ids[0], 10003);
    struct pd_operator op;
    assert_int_equal(pd_check_region(fx.pd[0], 0, 10, &op), 0);
    assert_string_equal(op.desc, "replace-down-replica");
    assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 4, 1);
    assert_step(&op.steps[2], PD_STEP_REMOVE_PEER, 3, 0);
    r.n_down_peers = PD_MAX_PEERS + 1;
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 0, &r, NULL), -EINVAL);
    fx_fini(&fx);
}

static void offline_replica_is_replaced(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    struct fx fx;
    cluster(&fx, &cfg, 4, NULL);
    region(&fx, 10, NULL, NULL, 2, 1, 3, S123);
    assert_int_equal(pd_store_set_state(fx.pd[0], 2, PD_STORE_OFFLINE), 0);
    fx_commit(&fx);
    /* The offline store leads: leadership moves to the new peer first. */
    struct pd_operator op;
    assert_int_equal(pd_check_region(fx.pd[0], 0, 10, &op), 0);
    assert_string_equal(op.desc, "replace-offline-replica");
    assert_int_equal(op.n_steps, 4);
    assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 4, 1);
    assert_step(&op.steps[1], PD_STEP_PROMOTE_LEARNER, 4, 1);
    assert_step(&op.steps[2], PD_STEP_TRANSFER_LEADER, 4, 1);
    assert_step(&op.steps[3], PD_STEP_REMOVE_PEER, 2, 0);
    fx_fini(&fx);
}

static void extra_replica_is_removed(void **state)
{
    (void)state;
    static const char *zones[] = {"z1", "z1", "z2", "z3"};
    struct pd_config cfg = config();
    struct fx fx;
    cluster(&fx, &cfg, 4, zones);
    region(&fx, 10, NULL, "m", 4, 1, 4, S1234);
    struct pd_operator op;
    /* 1 and 2 share z1: the higher id, 2, goes. */
    assert_int_equal(pd_check_region(fx.pd[0], 0, 10, &op), 0);
    assert_string_equal(op.desc, "remove-extra-replica");
    assert_int_equal(op.n_steps, 1);
    assert_step(&op.steps[0], PD_STEP_REMOVE_PEER, 2, 0);
    /* The same with store 2 leading: it hands leadership to the voter
     * whose store leads least (3 leads region 12, 1 leads nothing). */
    assert_int_equal(pd_operator_remove(fx.pd[0], 10), 0);
    uint64_t s3[] = {3};
    region(&fx, 12, "x", NULL, 3, 1, 1, s3);
    region(&fx, 11, "m", "x", 2, 1, 4, S1234);
    assert_int_equal(pd_check_region(fx.pd[0], 0, 11, &op), 0);
    assert_string_equal(op.desc, "remove-extra-replica");
    assert_int_equal(op.n_steps, 2);
    assert_step(&op.steps[0], PD_STEP_TRANSFER_LEADER, 1, 11001);
    assert_step(&op.steps[1], PD_STEP_REMOVE_PEER, 2, 0);
    fx_fini(&fx);
}

static void balance_leader_until_even(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    struct fx fx;
    cluster(&fx, &cfg, 3, NULL);
    static const char *keys[] = {NULL, "b", "c", "d", "e", "f", NULL};
    for (uint64_t i = 0; i < 6; i++)
        region(&fx, 10 + i, keys[i], keys[i + 1], 1, 1, 3, S123);
    /* Leaders 6/0/0: to store 2 first (tie with 3, lower id), the first
     * region in key order. */
    uint64_t expect_region[] = {10, 11, 12, 13};
    uint64_t expect_store[] = {2, 3, 2, 3};
    struct pd_operator op;
    for (int k = 0; k < 4; k++) {
        assert_int_equal(pd_balance_leader(fx.pd[0], 0, &op), 0);
        assert_string_equal(op.desc, "balance-leader");
        assert_int_equal(op.region_id, expect_region[k]);
        assert_int_equal(op.n_steps, 1);
        assert_step(&op.steps[0], PD_STEP_TRANSFER_LEADER, expect_store[k],
                    expect_region[k] * 1000 + expect_store[k]);
        /* kvd does it; the heartbeat finishes the operator. */
        struct pd_region_info r;
        assert_int_equal(pd_region_by_id(fx.pd[0], op.region_id, &r), 0);
        r.leader_peer_id = op.steps[0].peer_id;
        struct pd_step st;
        assert_int_equal(pd_region_heartbeat(fx.pd[0], 0, &r, &st), 0);
        assert_int_equal(st.kind, PD_STEP_NONE);
        assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    }
    /* 2/2/2 now. */
    assert_int_equal(pd_balance_leader(fx.pd[0], 0, &op), PD_ENOOP);
    fx_fini(&fx);

    /* A gap of exactly the tolerance (1) is left alone. */
    cluster(&fx, &cfg, 2, NULL);
    region(&fx, 10, NULL, "m", 1, 1, 2, S12);
    region(&fx, 11, "m", NULL, 2, 1, 2, S12);
    assert_int_equal(pd_balance_leader(fx.pd[0], 0, &op), PD_ENOOP);
    fx_fini(&fx);
}

static void balance_region_by_size(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    struct fx fx;
    cluster(&fx, &cfg, 4, NULL);
    static const char *keys[] = {NULL, "b", "c", "d", "e", "f", NULL};
    /* 6 regions of 10 MiB on stores 1-3, led from 2; store 4 empty. */
    for (uint64_t i = 0; i < 6; i++)
        region(&fx, 10 + i, keys[i], keys[i + 1], 2, 10, 3, S123);
    struct pd_operator op;
    /* Sources tie at 60 MiB: store 1 (lowest id); a follower region. */
    assert_int_equal(pd_balance_region(fx.pd[0], 0, &op), 0);
    assert_string_equal(op.desc, "balance-region");
    assert_int_equal(op.region_id, 10);
    assert_int_equal(op.n_steps, 3);
    assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 4, 1);
    assert_step(&op.steps[1], PD_STEP_PROMOTE_LEARNER, 4, 1);
    assert_step(&op.steps[2], PD_STEP_REMOVE_PEER, 1, 0);
    /* The next one skips the busy region. */
    assert_int_equal(pd_balance_region(fx.pd[0], 0, &op), 0);
    assert_int_equal(op.region_id, 11);
    assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 4, 2);
    fx_fini(&fx);

    /* Within the tolerance: nothing. */
    cfg.region_tolerance = 60 * MIB;
    cluster(&fx, &cfg, 4, NULL);
    for (uint64_t i = 0; i < 6; i++)
        region(&fx, 10 + i, keys[i], keys[i + 1], 2, 10, 3, S123);
    assert_int_equal(pd_balance_region(fx.pd[0], 0, &op), PD_ENOOP);
    fx_fini(&fx);

    /* A target short of space (10% free < 20%) is skipped. */
    cfg = config();
    cluster(&fx, &cfg, 4, NULL);
    for (uint64_t i = 0; i < 6; i++)
        region(&fx, 10 + i, keys[i], keys[i + 1], 2, 10, 3, S123);
    store_hb(&fx, 0, 4, 10 * GIB);
    assert_int_equal(pd_balance_region(fx.pd[0], 0, &op), PD_ENOOP);
    /* And a region too big to move without inverting the order is not
     * moved: one 100 MiB region on 1-3, store 4 empty, gap 100 < 200. */
    fx_fini(&fx);
    cluster(&fx, &cfg, 4, NULL);
    region(&fx, 10, NULL, NULL, 2, 100, 3, S123);
    assert_int_equal(pd_balance_region(fx.pd[0], 0, &op), PD_ENOOP);
    fx_fini(&fx);
}

static void balance_region_keeps_isolation(void **state)
{
    (void)state;
    static const char *zones[] = {"z1", "z2", "z3", "z1"};
    struct pd_config cfg = config();
    struct fx fx;
    cluster(&fx, &cfg, 4, zones);
    static const char *keys[] = {NULL, "b", "c", "d", "e", "f", NULL};
    for (uint64_t i = 0; i < 6; i++)
        region(&fx, 10 + i, keys[i], keys[i + 1], 2, 10, 3, S123);
    /* Store 4 is in z1: only store 1's replicas may move there (from z1
     * to z1); from 2 or 3 it would put two replicas in z1. */
    struct pd_operator op;
    assert_int_equal(pd_balance_region(fx.pd[0], 0, &op), 0);
    assert_step(&op.steps[3 - 1], PD_STEP_REMOVE_PEER, 1, 0);
    fx_fini(&fx);
}

/* Merge on (as by default), three stores, and regions 10 [-, g) of
 * 5 MiB, 11 [g, p) of 1 MiB and 12 [p, -) of 3 MiB on all three, led
 * from store 1. */
static void three_small_regions(struct fx *fx)
{
    struct pd_config cfg = config();
    cfg.merge_max_size = (uint64_t)20 << 20;
    cfg.merge_max_keys = 200000;
    cluster(fx, &cfg, 3, NULL);
    region(fx, 10, NULL, "g", 1, 5, 3, S123);
    region(fx, 11, "g", "p", 1, 1, 3, S123);
    region(fx, 12, "p", NULL, 1, 3, 3, S123);
}

static void merge_small_neighbours(void **state)
{
    (void)state;
    struct fx fx;
    three_small_regions(&fx);
    struct pd_operator op;
    /* 11 is small; its next neighbour (3 MiB) is smaller than its previous
     * one (5 MiB). */
    assert_int_equal(pd_check_region(fx.pd[0], 0, 11, &op), 0);
    assert_string_equal(op.desc, "merge-region");
    assert_int_equal(op.n_steps, 1);
    assert_int_equal(op.steps[0].kind, PD_STEP_MERGE);
    assert_int_equal(op.steps[0].target_region_id, 12);
    /* 10 is small too, but its only neighbour is busy with that merge. */
    assert_int_equal(pd_check_region(fx.pd[0], 0, 10, &op), PD_ENOOP);
    fx_fini(&fx);

    /* By default merge is on at PD's thresholds (20 MiB, 200,000 keys):
     * the same operator; either threshold 0 turns it off. */
    for (int i = 0; i < 3; i++) {
        struct pd_config dc = config();
        if (i == 1)
            dc.merge_max_size = 0;
        if (i == 2)
            dc.merge_max_keys = 0;
        cluster(&fx, &dc, 3, NULL);
        region(&fx, 10, NULL, "g", 1, 5, 3, S123);
        region(&fx, 11, "g", "p", 1, 1, 3, S123);
        region(&fx, 12, "p", NULL, 1, 3, 3, S123);
        if (i == 0) {
            assert_int_equal(pd_check_region(fx.pd[0], 0, 11, &op), 0);
            assert_string_equal(op.desc, "merge-region");
            assert_int_equal(op.steps[0].target_region_id, 12);
        } else {
            assert_int_equal(pd_check_region(fx.pd[0], 0, 11, &op),
                             PD_ENOOP);
        }
        fx_fini(&fx);
    }

    /* Too big together: no merge. A neighbour on other stores: first
     * align (move 11's replica on store 1 to store 4), then merge. */
    struct pd_config c2 = config();
    c2.merge_max_size = (uint64_t)20 << 20;
    c2.merge_max_keys = 200000;
    c2.region_max_size = 5 * MIB;
    cluster(&fx, &c2, 4, NULL);
    uint64_t s234[] = {2, 3, 4};
    region(&fx, 10, NULL, "g", 2, 5, 3, S123);
    region(&fx, 11, "g", "p", 2, 1, 3, S123);
    region(&fx, 12, "p", NULL, 2, 1, 3, s234);
    assert_int_equal(pd_check_region(fx.pd[0], 0, 11, &op), 0);
    assert_string_equal(op.desc, "merge-align");
    assert_int_equal(op.n_steps, 3);
    assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 4, 1);
    assert_step(&op.steps[1], PD_STEP_PROMOTE_LEARNER, 4, 1);
    assert_step(&op.steps[2], PD_STEP_REMOVE_PEER, 1, 0);
    /* kvd does it; the report finishes the operator; now they merge. */
    struct pd_region_info moved = fx_region(11, "g", "p", 2, 2, 2, 1, 3,
                                            s234);
    moved.region.peers[2].id = 1;
    struct pd_step st;
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 0, &moved, &st), 0);
    assert_int_equal(st.kind, PD_STEP_NONE);
    fx_commit(&fx);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    assert_int_equal(pd_check_region(fx.pd[0], 0, 11, &op), 0);
    assert_string_equal(op.desc, "merge-region");
    assert_int_equal(op.steps[0].target_region_id, 12);
    fx_fini(&fx);
}

/* balance-region moves replicas onto a new store in one round until the
 * stores are even or the store receives store_limit at once, each move
 * counted as done for the next: followers first, from the fullest store
 * (the lowest id on a tie). */
static void balance_region_fills_a_new_store(void **state)
{
    (void)state;
    static const char *keys[] = {NULL, "b", "c", "d", "e", "f", "g",
                                 "h",  "i", "j", "k", "l", NULL};
    for (int pass = 0; pass < 2; pass++) {
        struct pd_config cfg = config();
        cfg.merge_max_size = 0; /* the regions stay apart */
        cfg.store_limit = pass == 0 ? 3 : 0;
        struct fx fx;
        cluster(&fx, &cfg, 4, NULL);
        /* 12 regions of 10 MiB on stores 1-3 (120 MiB each), led from
         * stores 1, 2, 3 in turn; store 4 empty */
        for (uint64_t i = 0; i < 12; i++)
            region(&fx, 10 + i, keys[i], keys[i + 1], 1 + i % 3, 10, 3, S123);
        struct pd_operator ops[16];
        size_t n;
        assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 16, &n), 0);
        /* without a limit: 9 moves, 90 MiB on every store */
        assert_int_equal(n, pass == 0 ? 3 : 9);
        uint64_t from[4] = {0};
        for (size_t k = 0; k < n; k++) {
            assert_string_equal(ops[k].desc, "balance-region");
            assert_step(&ops[k].steps[0], PD_STEP_ADD_LEARNER, 4, k + 1);
            const struct pd_step *rm = &ops[k].steps[ops[k].n_steps - 1];
            assert_int_equal(rm->kind, PD_STEP_REMOVE_PEER);
            assert_true(rm->store_id >= 1 && rm->store_id <= 3);
            from[rm->store_id]++;
            /* a follower: no leader transfer */
            assert_int_equal(ops[k].n_steps, 3);
        }
        /* the sources take turns: the fullest gives one each time */
        assert_int_equal(from[1], pass == 0 ? 1 : 3);
        assert_int_equal(from[2], pass == 0 ? 1 : 3);
        assert_int_equal(from[3], pass == 0 ? 1 : 3);
        assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 16, &n), 0);
        assert_int_equal(n, 0); /* the limit, or even */
        fx_fini(&fx);
    }
}

static void store_limit_caps_incoming_replicas(void **state)
{
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        struct pd_config cfg = config();
        cfg.store_limit = pass == 0 ? 3 : 0;
        struct fx fx;
        cluster(&fx, &cfg, 5, NULL);
        static const char *keys[] = {NULL, "b", "c", "d", "e", "f",
                                     "g", "h", "i", "j", NULL};
        for (uint64_t i = 0; i < 10; i++)
            region(&fx, 10 + i, keys[i], keys[i + 1], 1, 1, 3, S123);
        /* Store 3 dies: ten replicas to replace on stores 4 and 5. */
        for (uint64_t id = 1; id <= 5; id++)
            if (id != 3)
                store_hb(&fx, 1500, id, 80 * GIB);
        struct pd_operator ops[16];
        size_t n;
        assert_int_equal(pd_schedule(fx.pd[0], 1500, ops, 16, &n), 0);
        assert_int_equal(n, pass == 0 ? 6 : 10);
        for (size_t k = 0; k < n; k++) {
            assert_string_equal(ops[k].desc, "replace-down-replica");
            assert_int_equal(ops[k].region_id, 10 + k);
            /* Each one counts in the round: the targets alternate. */
            assert_step(&ops[k].steps[0], PD_STEP_ADD_LEARNER,
                        k % 2 == 0 ? 4 : 5, k + 1);
        }
        fx_fini(&fx);
    }
}

static void no_merge_right_after_a_split(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    cfg.merge_max_size = (uint64_t)20 << 20; /* merge on (the default) */
    cfg.merge_max_keys = 200000;
    cfg.split_merge_interval_ms = 1000;
    struct fx fx;
    cluster(&fx, &cfg, 3, NULL); /* leader since mono 0 */
    region(&fx, 10, NULL, "g", 1, 5, 3, S123);
    region(&fx, 11, "g", NULL, 1, 1, 3, S123);
    for (uint64_t id = 1; id <= 3; id++)
        store_hb(&fx, 900, id, 80 * GIB);
    struct pd_operator op;
    /* Both regions appeared at 0, and so did the leader. */
    assert_int_equal(pd_check_region(fx.pd[0], 999, 11, &op), PD_ENOOP);
    assert_int_equal(pd_check_region(fx.pd[0], 1000, 11, &op), 0);
    assert_string_equal(op.desc, "merge-region");
    assert_int_equal(op.steps[0].target_region_id, 10);
    assert_int_equal(pd_operator_remove(fx.pd[0], 11), 0);
    /* Region 10 splits at 1500: its halves are too fresh to absorb 11. */
    struct pd_region_info a = fx_region(10, NULL, "c", 1, 3, 1, 1, 3, S123);
    struct pd_region_info b = fx_region(12, "c", "g", 1, 3, 1, 1, 3, S123);
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 1500, &a, NULL), 0);
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 1500, &b, NULL), 0);
    fx_commit(&fx);
    /* A stats-only report later does not make it fresh again. */
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 2400, &b, NULL), 0);
    for (uint64_t id = 1; id <= 3; id++)
        store_hb(&fx, 2400, id, 80 * GIB);
    assert_int_equal(pd_check_region(fx.pd[0], 2499, 11, &op), PD_ENOOP);
    assert_int_equal(pd_check_region(fx.pd[0], 2500, 11, &op), 0);
    assert_int_equal(op.steps[0].target_region_id, 12);
    fx_fini(&fx);
}

static void no_merge_over_a_silent_store(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    cfg.merge_max_size = (uint64_t)20 << 20; /* merge on (the default) */
    cfg.merge_max_keys = 200000;
    cfg.max_store_down_ms = 30 * 60 * 1000; /* a killed store stays UP */
    struct fx fx;
    cluster(&fx, &cfg, 3, NULL); /* store heartbeats at 0 */
    region(&fx, 10, NULL, "g", 1, 5, 3, S123);
    region(&fx, 11, "g", NULL, 1, 1, 3, S123);
    for (uint64_t id = 1; id <= 3; id++) {
        store_hb(&fx, 500, id, 80 * GIB);
        store_hb(&fx, 1000, id, 80 * GIB);
    }
    struct pd_operator op;
    /* Live until three gaps (500 ms) and a second after the last beat. */
    assert_int_equal(pd_check_region(fx.pd[0], 3500, 11, &op), 0);
    assert_string_equal(op.desc, "merge-region");
    assert_int_equal(op.steps[0].target_region_id, 10);
    assert_int_equal(pd_operator_remove(fx.pd[0], 11), 0);
    /* Store 3 falls silent after 1000 (killed); 1 and 2 beat on. */
    for (uint64_t t = 1500; t <= 3500; t += 500)
        for (uint64_t id = 1; id <= 2; id++)
            store_hb(&fx, t, id, 80 * GIB);
    assert_int_equal(pd_check_region(fx.pd[0], 3501, 11, &op), PD_ENOOP);
    assert_int_equal(pd_check_region(fx.pd[0], 3501, 10, &op), PD_ENOOP);
    /* Store 3 back (restarted) at 4000: they merge again. */
    store_hb(&fx, 4000, 3, 80 * GIB);
    assert_int_equal(pd_check_region(fx.pd[0], 4000, 11, &op), 0);
    assert_string_equal(op.desc, "merge-region");
    assert_int_equal(op.steps[0].target_region_id, 10);
    fx_fini(&fx);
}

static void merge_dropped_once_not_neighbours(void **state)
{
    (void)state;
    struct fx fx;
    three_small_regions(&fx);
    struct pd_operator op;
    assert_int_equal(pd_check_region(fx.pd[0], 0, 11, &op), 0);
    assert_string_equal(op.desc, "merge-region");
    assert_int_equal(op.steps[0].target_region_id, 12);
    /* kvd prepared it (version 3, same range): still going. */
    struct pd_region_info prep = fx_region(11, "g", "p", 1, 3, 1, 1, 3, S123);
    struct pd_step st;
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 100, &prep, &st), 0);
    assert_int_equal(st.kind, PD_STEP_MERGE);
    assert_int_equal(st.target_region_id, 12);
    fx_commit(&fx);
    assert_int_equal(pd_operator_count(fx.pd[0]), 1);
    /* Instead, 11 splits at "k" (the prepare rolled back), and reports
     * first: [g, k) no longer touches 12, and the merge is dropped (had
     * 13 reported first, 11's old range would have gone from the map with
     * its operator). */
    struct pd_region_info a = fx_region(11, "g", "k", 1, 4, 1, 1, 3, S123);
    struct pd_region_info b = fx_region(13, "k", "p", 1, 4, 1, 1, 3, S123);
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 200, &a, &st), 0);
    assert_int_equal(st.kind, PD_STEP_NONE);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 200, &b, NULL), 0);
    fx_commit(&fx);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    fx_fini(&fx);
}

static void no_leader_to_a_silent_store(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    cfg.max_store_down_ms = 30 * 60 * 1000; /* a killed store stays UP */
    struct fx fx;
    cluster(&fx, &cfg, 3, NULL); /* store heartbeats at 0 */
    region(&fx, 10, NULL, "g", 1, 1, 3, S123);
    region(&fx, 11, "g", "p", 1, 1, 3, S123);
    region(&fx, 12, "p", NULL, 1, 1, 3, S123);
    for (uint64_t id = 1; id <= 3; id++) {
        store_hb(&fx, 500, id, 80 * GIB);
        store_hb(&fx, 1000, id, 80 * GIB);
    }
    /* Store 1 leads all three: one goes to store 2. */
    struct pd_operator op;
    assert_int_equal(pd_balance_leader(fx.pd[0], 1000, &op), 0);
    assert_int_equal(op.region_id, 10);
    assert_step(&op.steps[0], PD_STEP_TRANSFER_LEADER, 2, 10002);
    struct pd_region_info r = fx_region(10, NULL, "g", 1, 2, 1, 1, 3, S123);
    struct pd_step st;
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 1100, &r, &st), 0);
    assert_int_equal(st.kind, PD_STEP_TRANSFER_LEADER);
    /* Store 2 falls silent after 1000 (killed); 1 and 3 beat on. Past
     * three gaps and a second the transfer is dropped, not resent. */
    for (uint64_t t = 1500; t <= 3500; t += 500) {
        store_hb(&fx, t, 1, 80 * GIB);
        store_hb(&fx, t, 3, 80 * GIB);
    }
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 3500, &r, &st), 0);
    assert_int_equal(st.kind, PD_STEP_TRANSFER_LEADER);
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 3501, &r, &st), 0);
    assert_int_equal(st.kind, PD_STEP_NONE);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    /* And the next one goes to store 3. */
    assert_int_equal(pd_balance_leader(fx.pd[0], 3501, &op), 0);
    assert_step(&op.steps[0], PD_STEP_TRANSFER_LEADER, 3, 10003);
    fx_fini(&fx);
}

/* A store heard from once in this leadership is not silent a second
 * later (its period is not known yet: taken as 10 s), so balance-leader
 * moves leaders to stores that have just started, or right after a pdd
 * leader change, and a transfer to one is dropped only 31 s after its
 * one heartbeat. Before, every store was silent from a second after its
 * first heartbeat until its second: 10 s of nothing at kvd's default. */
static void one_heartbeat_is_not_silence(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    cfg.max_store_down_ms = 30 * 60 * 1000;
    struct fx fx;
    cluster(&fx, &cfg, 3, NULL); /* one store heartbeat each, at 0 */
    region(&fx, 10, NULL, "g", 1, 1, 3, S123);
    region(&fx, 11, "g", NULL, 1, 1, 3, S123);
    struct pd_operator op;
    assert_int_equal(pd_balance_leader(fx.pd[0], 5000, &op), 0);
    assert_int_equal(op.region_id, 10);
    assert_step(&op.steps[0], PD_STEP_TRANSFER_LEADER, 2, 10002);
    struct pd_region_info r = fx_region(10, NULL, "g", 1, 2, 1, 1, 3, S123);
    struct pd_step st;
    store_hb(&fx, 31000, 1, 80 * GIB); /* 1 and 3 beat again, 2 not */
    store_hb(&fx, 31000, 3, 80 * GIB);
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 31000, &r, &st), 0);
    assert_int_equal(st.kind, PD_STEP_TRANSFER_LEADER);
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 31001, &r, &st), 0);
    assert_int_equal(st.kind, PD_STEP_NONE);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    fx_fini(&fx);
}

/* Finishes region id's balance-leader operator as kvd would: the
 * heartbeat after the transfer shows the new leader. */
static void transfer_done(struct fx *fx, const struct pd_operator *op)
{
    struct pd_region_info r;
    assert_int_equal(pd_region_by_id(fx->pd[0], op->region_id, &r), 0);
    r.leader_peer_id = op->steps[0].peer_id;
    struct pd_step st;
    assert_int_equal(pd_region_heartbeat(fx->pd[0], 0, &r, &st), 0);
    assert_int_equal(st.kind, PD_STEP_NONE);
}

/* balance-leader keeps at most leader_schedule_limit transfers running: a
 * round adds as many as there is room for, the next waits for one to
 * finish; at the default (16) one round evens 12/0/0 out. */
static void balance_leader_up_to_the_limit(void **state)
{
    (void)state;
    static const char *keys[] = {NULL, "b", "c", "d", "e", "f", "g",
                                 "h",  "i", "j", "k", "l", NULL};
    struct pd_operator ops[16];
    size_t n;
    for (int pass = 0; pass < 2; pass++) {
        struct pd_config cfg = config();
        cfg.merge_max_size = 0; /* the 1 MiB regions stay apart */
        if (pass == 0)
            cfg.leader_schedule_limit = 3;
        struct fx fx;
        cluster(&fx, &cfg, 3, NULL);
        for (uint64_t i = 0; i < 12; i++)
            region(&fx, 10 + i, keys[i], keys[i + 1], 1, 1, 3, S123);
        assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 16, &n), 0);
        /* 12/0/0: to store 2, then 3 (tie, lower id first), in key order */
        assert_int_equal(n, pass == 0 ? 3 : 8);
        for (size_t k = 0; k < n; k++) {
            uint64_t to = k % 2 == 0 ? 2 : 3;
            assert_string_equal(ops[k].desc, "balance-leader");
            assert_int_equal(ops[k].region_id, 10 + k);
            assert_int_equal(ops[k].n_steps, 1);
            assert_step(&ops[k].steps[0], PD_STEP_TRANSFER_LEADER, to,
                        (10 + k) * 1000 + to);
        }
        struct pd_operator first = ops[0];
        assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 16, &n), 0);
        assert_int_equal(n, 0); /* full (3), or even (4/4/4) */
        if (pass == 0) {
            /* one finishes: room for one more, from the store still
             * leading 9 to the one with fewest counted (3 has 1) */
            transfer_done(&fx, &first);
            assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 16, &n), 0);
            assert_int_equal(n, 1);
            assert_int_equal(ops[0].region_id, 13);
            assert_step(&ops[0].steps[0], PD_STEP_TRANSFER_LEADER, 3, 13003);
        }
        fx_fini(&fx);
    }
}

static void one_scheduling_round(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    cfg.leader_schedule_limit = 1; /* one transfer a round, as asserted */
    struct fx fx;
    cluster(&fx, &cfg, 4, NULL);
    static const char *keys[] = {NULL, "b", "c", "d", NULL};
    region(&fx, 10, keys[0], keys[1], 1, 30, 2, S12);   /* short one */
    region(&fx, 11, keys[1], keys[2], 1, 30, 3, S123);
    region(&fx, 12, keys[2], keys[3], 1, 30, 3, S123);
    region(&fx, 13, keys[3], keys[4], 1, 30, 3, S123);
    struct pd_operator ops[8];
    size_t n;
    assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 8, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(ops[0].desc, "make-up-replica");
    assert_int_equal(ops[0].region_id, 10);
    assert_step(&ops[0].steps[0], PD_STEP_ADD_LEARNER, 4, 1);
    assert_step(&ops[0].steps[1], PD_STEP_PROMOTE_LEARNER, 4, 1);
    assert_string_equal(ops[1].desc, "balance-leader");
    assert_int_equal(ops[1].region_id, 11);
    assert_step(&ops[1].steps[0], PD_STEP_TRANSFER_LEADER, 2, 11002);
    assert_string_equal(ops[2].desc, "balance-region");
    assert_int_equal(ops[2].region_id, 12);
    assert_step(&ops[2].steps[0], PD_STEP_ADD_LEARNER, 4, 2);
    assert_step(&ops[2].steps[2], PD_STEP_TRANSFER_LEADER, 4, 2);
    assert_step(&ops[2].steps[3], PD_STEP_REMOVE_PEER, 1, 0);
    /* Counted as done, the moves so far leave sizes 90/120/90/60 MiB:
     * store 2's follower of region 13 moves too (the gap, 60, is twice
     * its size), and all four stores hold 90 MiB. */
    assert_string_equal(ops[3].desc, "balance-region");
    assert_int_equal(ops[3].region_id, 13);
    assert_int_equal(ops[3].n_steps, 3);
    assert_step(&ops[3].steps[0], PD_STEP_ADD_LEARNER, 4, 3);
    assert_step(&ops[3].steps[1], PD_STEP_PROMOTE_LEARNER, 4, 3);
    assert_step(&ops[3].steps[2], PD_STEP_REMOVE_PEER, 2, 0);
    assert_int_equal(pd_operator_count(fx.pd[0]), 4);
    /* every region has an operator: the next round adds none */
    assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 8, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 0, &n), 0);
    assert_int_equal(n, 0);
    fx_fini(&fx);

    fx_init(&fx, 2, &cfg);
    fx_lead(&fx, 0, 1000, 0);
    assert_int_equal(pd_schedule(fx.pd[1], 0, ops, 8, &n), PD_ENOTLEADER);
    assert_int_equal(pd_balance_leader(fx.pd[1], 0, ops), PD_ENOTLEADER);
    assert_int_equal(pd_balance_region(fx.pd[1], 0, ops), PD_ENOTLEADER);
    assert_int_equal(pd_check_region(fx.pd[1], 0, 1, ops), PD_ENOTLEADER);
    fx_fini(&fx);
}

/* Regions kvd could not measure (size 0) weigh 1 MiB each: balance-region
 * moves them by count, from the lowest-id fullest store, followers first
 * (here every region is led from store 1, so a leader). */
static void balance_region_counts_unmeasured_regions(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    cfg.n_location_labels = 0;
    struct fx fx;
    cluster(&fx, &cfg, 4, NULL);
    static const char *keys[] = {NULL, "b", "c", "d", NULL};
    for (int i = 0; i < 4; i++)
        region(&fx, (uint64_t)(10 + i), keys[i], keys[i + 1], 1, 0, 3, S123);
    struct pd_operator op;
    assert_int_equal(pd_balance_region(fx.pd[0], 0, &op), 0);
    assert_string_equal(op.desc, "balance-region");
    assert_int_equal(op.region_id, 10);
    assert_int_equal(op.n_steps, 4);
    assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 4, 1);
    assert_step(&op.steps[2], PD_STEP_TRANSFER_LEADER, 4, 1);
    assert_step(&op.steps[3], PD_STEP_REMOVE_PEER, 1, 0);
    /* counted as done: 3/4/4/1 MiB; the next moves one off store 2 */
    assert_int_equal(pd_balance_region(fx.pd[0], 0, &op), 0);
    assert_int_equal(op.region_id, 11);
    assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 4, 2);
    assert_step(&op.steps[op.n_steps - 1], PD_STEP_REMOVE_PEER, 2, 0);
    /* 3/3/4/2: a gap of 2 MiB moves no more than 1 MiB, from store 3 */
    assert_int_equal(pd_balance_region(fx.pd[0], 0, &op), 0);
    assert_step(&op.steps[op.n_steps - 1], PD_STEP_REMOVE_PEER, 3, 0);
    /* 3/3/3/3: balanced */
    assert_int_equal(pd_balance_region(fx.pd[0], 0, &op), PD_ENOOP);
    fx_fini(&fx);
}

/* Scale in: an offline store's replicas move away; once no region in
 * the map has a peer on it, the next round buries it (TOMBSTONE). */
static void drained_offline_store_becomes_tombstone(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    cfg.n_location_labels = 0;
    struct fx fx;
    cluster(&fx, &cfg, 4, NULL);
    region(&fx, 10, NULL, "m", 3, 1, 3, S123);
    region(&fx, 11, "m", NULL, 1, 1, 3, S123);
    assert_int_equal(pd_store_set_state(fx.pd[0], 3, PD_STORE_OFFLINE), 0);
    fx_commit(&fx);
    struct pd_operator ops[8];
    size_t n;
    assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 8, &n), 0);
    fx_commit(&fx);
    assert_int_equal(n, 2);
    assert_string_equal(ops[0].desc, "replace-offline-replica");
    assert_int_equal(ops[0].region_id, 10);
    assert_string_equal(ops[1].desc, "replace-offline-replica");
    assert_int_equal(ops[1].region_id, 11);
    struct pd_store_info si;
    assert_int_equal(pd_store_get(fx.pd[0], 0, 3, &si), 0);
    assert_int_equal(si.store.state, PD_STORE_OFFLINE);
    /* Region 10 done (its leader moved to 4 on the way), 11 not yet:
     * store 3 still holds a peer and stays offline. */
    static const uint64_t s124[] = {1, 2, 4};
    struct pd_region_info r = fx_region(10, NULL, "m", 2, 2, 4, 1, 3, s124);
    assert_int_equal(fx_hb(&fx, 0, 0, &r), 0);
    assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 8, &n), 0);
    fx_commit(&fx);
    assert_int_equal(pd_store_get(fx.pd[0], 0, 3, &si), 0);
    assert_int_equal(si.store.state, PD_STORE_OFFLINE);
    r = fx_region(11, "m", NULL, 2, 2, 1, 1, 3, s124);
    assert_int_equal(fx_hb(&fx, 0, 0, &r), 0);
    assert_int_equal(pd_operator_count(fx.pd[0]), 0);
    /* the map is empty of store 3, but the store still counts a region
     * (it has not destroyed its replica yet): not yet */
    struct pd_store_stats st3 = {.capacity = 100 * GIB,
                                 .available = 80 * GIB, .region_count = 1};
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 0, 3, &st3), 0);
    assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 8, &n), 0);
    fx_commit(&fx);
    assert_int_equal(pd_store_get(fx.pd[0], 0, 3, &si), 0);
    assert_int_equal(si.store.state, PD_STORE_OFFLINE);
    st3.region_count = 0;
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 0, 3, &st3), 0);
    assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 8, &n), 0);
    fx_commit(&fx);
    assert_int_equal(pd_store_get(fx.pd[0], 0, 3, &si), 0);
    assert_int_equal(si.store.state, PD_STORE_TOMBSTONE);
    assert_int_equal(si.map_regions, 0);
    /* every replica applied the same */
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 0, 3, &(struct pd_store_stats){0}),
                     PD_ETOMBSTONE);
    /* An up store with no region is left alone. */
    assert_int_equal(pd_store_get(fx.pd[0], 0, 4, &si), 0);
    assert_int_equal(si.store.state, PD_STORE_UP);
    /* A store that never reports (no heartbeat this leadership) is left
     * offline for the operator to bury. */
    struct pd_store s5 = fx_store(5, NULL, "h5");
    assert_int_equal(pd_store_put(fx.pd[0], &s5), 0);
    fx_commit(&fx);
    assert_int_equal(pd_store_set_state(fx.pd[0], 5, PD_STORE_OFFLINE), 0);
    fx_commit(&fx);
    assert_int_equal(pd_schedule(fx.pd[0], 0, ops, 8, &n), 0);
    fx_commit(&fx);
    assert_int_equal(pd_store_get(fx.pd[0], 0, 5, &si), 0);
    assert_int_equal(si.store.state, PD_STORE_OFFLINE);
    fx_fini(&fx);
}

/* kvd can add a store back to a region its peer once left (libregion
 * replaces the tombstone with a fresh peer): such a store is a target
 * like any other, on this leader and on a replica that applied the same
 * log. */
static void store_a_peer_left_is_a_target_again(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    cfg.n_location_labels = 0;
    struct fx fx;
    fx_init(&fx, 2, &cfg);
    fx_lead(&fx, 0, 1000, 0);
    fx_bootstrap(&fx, 0);
    for (uint64_t i = 1; i <= 4; i++) {
        struct pd_store st = fx_store(i, NULL, "h");
        assert_int_equal(pd_store_put(fx.pd[0], &st), 0);
    }
    fx_commit(&fx);
    /* 3 leaves (a balance moved it to 4) */
    static const uint64_t s124[] = {1, 2, 4};
    struct pd_region_info r = fx_region(10, NULL, NULL, 1, 2, 1, 1, 3, S123);
    assert_int_equal(fx_hb(&fx, 0, 0, &r), 0);
    r = fx_region(10, NULL, NULL, 2, 2, 1, 1, 3, s124);
    assert_int_equal(fx_hb(&fx, 0, 0, &r), 0);
    for (int k = 0; k < 2; k++) {
        struct pd *pd = fx.pd[k];
        if (k == 1) {
            pd_become_follower(fx.pd[0]);
            fx_lead(&fx, 1, 2000, 0);
            assert_int_equal(pd_region_heartbeat(pd, 0, &r, NULL), 0);
        }
        for (uint64_t i = 1; i <= 4; i++) {
            struct pd_store_stats st = {.capacity = 100 * GIB,
                                        .available = 80 * GIB};
            assert_int_equal(pd_store_heartbeat(pd, 0, i, &st), 0);
        }
        if (k == 0) {
            assert_int_equal(pd_store_set_state(pd, 2, PD_STORE_OFFLINE), 0);
            fx_commit(&fx);
        }
        /* store 2 drains onto 3, the only store without a peer */
        struct pd_operator op;
        assert_int_equal(pd_check_region(pd, 0, 10, &op), 0);
        assert_string_equal(op.desc, "replace-offline-replica");
        assert_int_equal(op.n_steps, 3);
        assert_step(&op.steps[0], PD_STEP_ADD_LEARNER, 3, op.steps[0].peer_id);
        assert_step(&op.steps[1], PD_STEP_PROMOTE_LEARNER, 3,
                    op.steps[0].peer_id);
        assert_step(&op.steps[2], PD_STEP_REMOVE_PEER, 2, 0);
    }
    fx_fini(&fx);
}

/* A learner left behind by an operator that ended between its add and
 * its promotion: promoted when the region is short of voters and its
 * store is up, else removed. */
static void orphan_learner_promoted_or_removed(void **state)
{
    (void)state;
    struct pd_config cfg = config();
    cfg.n_location_labels = 0;
    struct fx fx;
    cluster(&fx, &cfg, 4, NULL);
    struct pd_region_info r = fx_region(10, NULL, "m", 1, 2, 1, 1, 3, S123);
    r.region.peers[2].learner = true; /* voters 1, 2; learner on 3 */
    assert_int_equal(fx_hb(&fx, 0, 0, &r), 0);
    struct pd_region_info r2 = fx_region(11, "m", NULL, 1, 2, 1, 1, 4, S1234);
    r2.region.peers[3].learner = true; /* 3 voters; learner on 4 */
    assert_int_equal(fx_hb(&fx, 0, 0, &r2), 0);
    struct pd_operator op;
    assert_int_equal(pd_check_region(fx.pd[0], 0, 10, &op), 0);
    assert_string_equal(op.desc, "promote-orphan-learner");
    assert_int_equal(op.n_steps, 1);
    assert_step(&op.steps[0], PD_STEP_PROMOTE_LEARNER, 3,
                r.region.peers[2].id);
    assert_int_equal(pd_check_region(fx.pd[0], 0, 11, &op), 0);
    assert_string_equal(op.desc, "remove-orphan-learner");
    assert_step(&op.steps[0], PD_STEP_REMOVE_PEER, 4, 0);
    /* the promotion shows in the next heartbeat: done */
    r.region.peers[2].learner = false;
    r.region.conf_ver++;
    assert_int_equal(fx_hb(&fx, 0, 0, &r), 0);
    assert_int_equal(pd_operator_get(fx.pd[0], 10, &op), PD_ENOTFOUND);
    fx_fini(&fx);
}

/* ---- a simulated cluster: kvd carries out every step it is handed, pd
 * schedules round after round; it must settle, with every region on 3
 * zones and leaders and sizes balanced. ---- */

struct sim_region {
    struct pd_region_info info; /* as kvd would report it */
    char start[8];              /* key storage */
    char end[8];                /* key storage */
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* kvd carries out one step on its region. */
static void execute(struct pd_region_info *ri, const struct pd_step *st)
{
    struct pd_region *r = &ri->region;
    switch (st->kind) {
    case PD_STEP_ADD_PEER:
    case PD_STEP_ADD_LEARNER:
        r->peers[r->n_peers].id = st->peer_id;
        r->peers[r->n_peers].store_id = st->store_id;
        r->peers[r->n_peers].learner = st->kind == PD_STEP_ADD_LEARNER;
        r->n_peers++;
        r->conf_ver++;
        break;
    case PD_STEP_PROMOTE_LEARNER:
        for (uint32_t i = 0; i < r->n_peers; i++)
            if (r->peers[i].store_id == st->store_id)
                r->peers[i].learner = false;
        r->conf_ver++;
        break;
    case PD_STEP_REMOVE_PEER:
        for (uint32_t i = 0; i < r->n_peers; i++)
            if (r->peers[i].store_id == st->store_id) {
                assert_true(r->peers[i].id != ri->leader_peer_id);
                r->peers[i] = r->peers[--r->n_peers];
                break;
            }
        r->conf_ver++;
        break;
    case PD_STEP_TRANSFER_LEADER:
        for (uint32_t i = 0; i < r->n_peers; i++)
            if (r->peers[i].store_id == st->store_id)
                ri->leader_peer_id = r->peers[i].id;
        break;
    default:
        fail();
    }
}

/* Schedule rounds until nothing is left to do; each round every region
 * reports and kvd carries out the step handed back; live stores report.
 * Store dead (0: none) is silent. Returns the number of rounds. */
static int settle(struct fx *fx, struct sim_region *sim, int n_regions,
                  uint64_t *now, uint64_t dead)
{
    int rounds = 0;
    struct pd_operator ops[16];
    size_t n;
    for (;;) {
        for (uint64_t id = 1; id <= 6; id++)
            if (id != dead)
                store_hb(fx, *now, id, 80 * GIB);
        assert_int_equal(pd_schedule(fx->pd[0], *now, ops, 16, &n), 0);
        if (n == 0 && pd_operator_count(fx->pd[0]) == 0)
            return rounds;
        assert_true(++rounds < 500);
        *now += 100;
        for (int k = 0; k < n_regions; k++) {
            struct sim_region *sr = &sim[(k * 7 + rounds) % n_regions];
            struct pd_step st;
            assert_int_equal(
                pd_region_heartbeat(fx->pd[0], *now, &sr->info, &st), 0);
            fx_commit(fx);
            if (st.kind != PD_STEP_NONE)
                execute(&sr->info, &st);
        }
    }
}

static void simulated_cluster_settles(void **state)
{
    (void)state;
    static const char *zones[] = {"z1", "z1", "z2", "z2", "z3", "z3"};
    struct pd_config cfg = config();
    cfg.merge_max_size = 0; /* this run is about placement */
    cfg.max_store_down_ms = 1000;
    cfg.operator_timeout_ms = 1ull << 40;
    struct fx fx;
    cluster(&fx, &cfg, 6, zones);
    enum { N = 30 };
    static struct sim_region sim[N];
    uint64_t seed = 0xdeadbeefcafef00dull;
    for (int i = 0; i < N; i++) {
        snprintf(sim[i].start, sizeof(sim[i].start), "k%03d", i);
        snprintf(sim[i].end, sizeof(sim[i].end), "k%03d", i + 1);
        /* Badly placed: all on stores 1, 2, 3 (two in z1), led from 1. */
        sim[i].info = fx_region((uint64_t)(100 + i),
                                i == 0 ? NULL : sim[i].start,
                                i == N - 1 ? NULL : sim[i].end, 1, 2, 1,
                                1 + rnd(&seed) % 20, 3, S123);
        assert_int_equal(fx_hb(&fx, 0, 0, &sim[i].info), 0);
    }
    uint64_t now = 0;
    int rounds = settle(&fx, sim, N, &now, 0);
    /* Every region: 3 voters in 3 zones. */
    struct pd_store_info si[6];
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(pd_store_get(fx.pd[0], 0, i + 1, &si[i]), 0);
    for (int i = 0; i < N; i++) {
        struct pd_region_info r = fx_get(&fx, 0, (uint64_t)(100 + i));
        assert_int_equal(r.region.n_peers, 3);
        bool zone[3] = {false, false, false};
        for (uint32_t p = 0; p < 3; p++) {
            assert_false(r.region.peers[p].learner);
            zone[(r.region.peers[p].store_id - 1) / 2] = true;
        }
        assert_true(zone[0] && zone[1] && zone[2]);
    }
    /* Leaders within the tolerance; store sizes within two of the largest
     * region (20 MiB) of each other. */
    uint32_t lmin = UINT32_MAX, lmax = 0;
    for (int i = 0; i < 6; i++) {
        lmin = si[i].map_leaders < lmin ? si[i].map_leaders : lmin;
        lmax = si[i].map_leaders > lmax ? si[i].map_leaders : lmax;
    }
    assert_true(lmax - lmin <= 1);
    uint64_t smin = UINT64_MAX, smax = 0;
    for (int i = 0; i < 6; i++) {
        smin = si[i].map_size < smin ? si[i].map_size : smin;
        smax = si[i].map_size > smax ? si[i].map_size : smax;
    }
    assert_true(smax - smin <= 40 * MIB);
    /* Every operator finished by its steps (seed: 27 rounds, 70 ops). */
    struct pd_operator_stats os;
    pd_operator_stats(fx.pd[0], &os);
    assert_int_equal(os.succeeded, os.added);
    assert_true(os.added > 30);
    assert_true(rounds > 5);

    /* Store 6 (z3) dies: once down, its replicas move to store 5, the only
     * other z3 store, and leadership rebalances over the five left. */
    now += 2000;
    rounds = settle(&fx, sim, N, &now, 6);
    assert_true(rounds > 1);
    for (int i = 0; i < N; i++) {
        struct pd_region_info r = fx_get(&fx, 0, (uint64_t)(100 + i));
        assert_int_equal(r.region.n_peers, 3);
        bool zone[3] = {false, false, false};
        for (uint32_t p = 0; p < 3; p++) {
            assert_true(r.region.peers[p].store_id != 6);
            zone[(r.region.peers[p].store_id - 1) / 2] = true;
        }
        assert_true(zone[0] && zone[1] && zone[2]);
    }
    assert_int_equal(pd_store_get(fx.pd[0], now, 5, &si[4]), 0);
    assert_int_equal(si[4].map_regions, N);
    fx_fini(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(make_up_replica_on_the_emptiest_store),
        cmocka_unit_test(location_labels_keep_zones_apart),
        cmocka_unit_test(better_location_moves_a_shared_zone_replica),
        cmocka_unit_test(down_replica_is_replaced),
        cmocka_unit_test(reported_down_peer_is_replaced),
        cmocka_unit_test(offline_replica_is_replaced),
        cmocka_unit_test(extra_replica_is_removed),
        cmocka_unit_test(balance_leader_until_even),
        cmocka_unit_test(balance_region_by_size),
        cmocka_unit_test(balance_region_keeps_isolation),
        cmocka_unit_test(merge_small_neighbours),
        cmocka_unit_test(store_limit_caps_incoming_replicas),
        cmocka_unit_test(balance_region_fills_a_new_store),
        cmocka_unit_test(no_merge_right_after_a_split),
        cmocka_unit_test(no_merge_over_a_silent_store),
        cmocka_unit_test(merge_dropped_once_not_neighbours),
        cmocka_unit_test(no_leader_to_a_silent_store),
        cmocka_unit_test(one_heartbeat_is_not_silence),
        cmocka_unit_test(one_scheduling_round),
        cmocka_unit_test(balance_leader_up_to_the_limit),
        cmocka_unit_test(simulated_cluster_settles),
        cmocka_unit_test(balance_region_counts_unmeasured_regions),
        cmocka_unit_test(drained_offline_store_becomes_tombstone),
        cmocka_unit_test(store_a_peer_left_is_a_target_again),
        cmocka_unit_test(orphan_learner_promoted_or_removed),
    };
    return cmocka_run_group_tests_name("libpd/schedule", tests, NULL, NULL);
}

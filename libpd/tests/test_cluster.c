/* test_cluster.c: bootstrap, cluster id checks, the store registry, store
 * states (up, offline, down, tombstone) and store heartbeats.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "pd_int.h"

static const uint64_t S1[] = {1};

static void bootstrap_once(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 2, NULL);
    struct pd_store s = fx_store(1, NULL, NULL);
    struct pd_region_info r = fx_region(1, NULL, NULL, 1, 1, 1, 0, 1, S1);
    assert_int_equal(pd_bootstrap(fx.pd[0], 42, &s, &r.region),
                     PD_ENOTLEADER);
    fx_lead(&fx, 0, 1000, 0);
    assert_int_equal(pd_check_cluster(fx.pd[0], 42), PD_ENOTBOOTSTRAPPED);
    assert_int_equal(pd_store_put(fx.pd[0], &s), PD_ENOTBOOTSTRAPPED);
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 0, &r, NULL),
                     PD_ENOTBOOTSTRAPPED);
    /* The first region must span every key, one voter on the store. */
    struct pd_region_info bad = fx_region(1, "a", NULL, 1, 1, 1, 0, 1, S1);
    assert_int_equal(pd_bootstrap(fx.pd[0], 42, &s, &bad.region), -EINVAL);
    assert_int_equal(pd_bootstrap(fx.pd[0], 0, &s, &r.region), -EINVAL);
    struct pd_store nos = fx_store(0, NULL, NULL);
    assert_int_equal(pd_bootstrap(fx.pd[0], 42, &nos, &r.region), -EINVAL);
    /* Two bootstraps race: the first to apply wins, everywhere. */
    assert_int_equal(pd_bootstrap(fx.pd[0], 42, &s, &r.region), 0);
    assert_int_equal(pd_bootstrap(fx.pd[0], 43, &s, &r.region), 0);
    assert_false(pd_is_bootstrapped(fx.pd[0]));
    size_t n = pd_memlog_count(fx.log);
    const uint8_t *p;
    size_t len;
    assert_int_equal(pd_memlog_entry(fx.log, n - 1, &p, &len), 0);
    fx.applied[1] = n - 1; /* replica 1 sees the second one on its own */
    assert_int_equal(pd_memlog_apply(fx.log, fx.pd[0], &fx.applied[0]), 0);
    assert_int_equal(pd_apply(fx.pd[1], p, len), 0);
    assert_int_equal(pd_cluster_id(fx.pd[1]), 43);
    assert_int_equal(pd_cluster_id(fx.pd[0]), 42);
    assert_int_equal(pd_apply(fx.pd[0], p, len), PD_EBOOTSTRAPPED);
    assert_int_equal(pd_bootstrap(fx.pd[0], 44, &s, &r.region),
                     PD_EBOOTSTRAPPED);
    assert_int_equal(pd_check_cluster(fx.pd[0], 42), 0);
    assert_int_equal(pd_check_cluster(fx.pd[0], 7), PD_ECLUSTER);
    assert_string_equal(pd_errmsg(fx.pd[0]), "cluster id 7, this is 42");
    assert_int_equal(pd_store_count(fx.pd[0]), 1);
    assert_int_equal(pd_region_count(fx.pd[0]), 1);
    struct pd_region_info got = fx_get(&fx, 0, 1);
    assert_int_equal(got.region.n_peers, 1);
    assert_int_equal(got.region.peers[0].id, 1001);
    assert_int_equal(got.leader_peer_id, 1001);
    fx_fini(&fx);
}

static void stores_register_and_report(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 2, NULL);
    fx_lead(&fx, 0, 1000, 0);
    fx_bootstrap(&fx, 0);
    struct pd_store s2 = fx_store(2, "z1", "h2");
    assert_int_equal(pd_store_put(fx.pd[0], &s2), 0);
    fx_commit(&fx);
    /* Another store may not take a live store's address. */
    struct pd_store s3 = fx_store(3, "z2", "h3");
    s3.address = s2.address;
    assert_int_equal(pd_store_put(fx.pd[0], &s3), -EEXIST);
    s3 = fx_store(3, "z2", "h3");
    assert_int_equal(pd_store_put(fx.pd[1], &s3), PD_ENOTLEADER);
    assert_int_equal(pd_store_put(fx.pd[0], &s3), 0);
    s3.labels[1].key = "zone";
    assert_int_equal(pd_store_put(fx.pd[0], &s3), -EINVAL);
    fx_commit(&fx);
    assert_int_equal(pd_store_count(fx.pd[1]), 3);
    struct pd_store_info info;
    assert_int_equal(pd_store_get(fx.pd[1], 0, 3, &info), 0);
    assert_string_equal(info.store.address, "s3:20160");
    assert_int_equal(info.store.n_labels, 2);
    assert_string_equal(info.store.labels[0].value, "z2");
    assert_int_equal(info.state, PD_STORE_UP);
    assert_int_equal(pd_store_get(fx.pd[1], 0, 9, &info), PD_ENOTFOUND);

    struct pd_store_stats st;
    memset(&st, 0, sizeof(st));
    st.capacity = 1000;
    st.available = 600;
    st.region_count = 5;
    st.leader_count = 2;
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 10, 9, &st), PD_ENOTFOUND);
    assert_int_equal(pd_store_heartbeat(fx.pd[1], 10, 2, &st),
                     PD_ENOTLEADER);
    size_t n = pd_memlog_count(fx.log);
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 10, 2, &st), 0);
    assert_int_equal(pd_memlog_count(fx.log), n);
    assert_int_equal(pd_store_get(fx.pd[0], 11, 2, &info), 0);
    assert_true(info.has_heartbeat);
    assert_int_equal(info.last_heartbeat_ms, 10);
    assert_int_equal(info.stats.available, 600);
    assert_int_equal(info.stats.leader_count, 2);
    /* Labels in a heartbeat: a change is persisted, the same ones not. */
    st.update_labels = true;
    st.n_labels = 2;
    st.labels[0].key = "host";
    st.labels[0].value = "h2";
    st.labels[1].key = "zone";
    st.labels[1].value = "z1";
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 20, 2, &st), 0);
    assert_int_equal(pd_memlog_count(fx.log), n);
    st.labels[1].value = "z9";
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 30, 2, &st), 0);
    assert_int_equal(pd_memlog_count(fx.log), n + 1);
    fx_commit(&fx);
    assert_int_equal(pd_store_get(fx.pd[1], 0, 2, &info), 0);
    assert_string_equal(info.store.labels[0].key, "host");
    assert_string_equal(info.store.labels[1].value, "z9");
    fx_fini(&fx);
}

static void down_after_max_store_down_time(void **state)
{
    (void)state;
    struct pd_config cfg;
    pd_config_default(&cfg);
    cfg.max_store_down_ms = 1000;
    struct fx fx;
    fx_init(&fx, 2, &cfg);
    fx_lead(&fx, 0, 1000, 5000);
    fx_bootstrap(&fx, 0);
    struct pd_store s2 = fx_store(2, NULL, NULL);
    assert_int_equal(pd_store_put(fx.pd[0], &s2), 0);
    fx_commit(&fx);
    struct pd_store_stats st;
    memset(&st, 0, sizeof(st));
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 5100, 1, &st), 0);
    struct pd_store_info info;
    /* Store 1: heard at 5100. Store 2: never, so counted from 5000. */
    assert_int_equal(pd_store_get(fx.pd[0], 6000, 2, &info), 0);
    assert_int_equal(info.state, PD_STORE_UP);
    assert_int_equal(pd_store_get(fx.pd[0], 6001, 2, &info), 0);
    assert_int_equal(info.state, PD_STORE_DOWN);
    assert_int_equal(info.store.state, PD_STORE_UP);
    assert_int_equal(pd_store_get(fx.pd[0], 6100, 1, &info), 0);
    assert_int_equal(info.state, PD_STORE_UP);
    assert_int_equal(pd_store_get(fx.pd[0], 6101, 1, &info), 0);
    assert_int_equal(info.state, PD_STORE_DOWN);
    /* A heartbeat brings it back. */
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 6200, 1, &st), 0);
    assert_int_equal(pd_store_get(fx.pd[0], 6300, 1, &info), 0);
    assert_int_equal(info.state, PD_STORE_UP);
    /* A new leader gives everyone a full period from its start. */
    pd_become_follower(fx.pd[0]);
    assert_int_equal(pd_become_leader(fx.pd[1], 1000, 90000), 0);
    fx_commit(&fx);
    assert_int_equal(pd_store_get(fx.pd[1], 91000, 2, &info), 0);
    assert_int_equal(info.state, PD_STORE_UP);
    assert_false(info.has_heartbeat);
    assert_int_equal(pd_store_get(fx.pd[1], 91001, 2, &info), 0);
    assert_int_equal(info.state, PD_STORE_DOWN);
    fx_fini(&fx);
}

static void store_state_transitions(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 1, NULL);
    fx_lead(&fx, 0, 1000, 0);
    fx_bootstrap(&fx, 0);
    struct pd_store s2 = fx_store(2, NULL, NULL);
    assert_int_equal(pd_store_put(fx.pd[0], &s2), 0);
    fx_commit(&fx);
    struct pd *pd = fx.pd[0];
    assert_int_equal(pd_store_set_state(pd, 9, PD_STORE_OFFLINE),
                     PD_ENOTFOUND);
    assert_int_equal(pd_store_set_state(pd, 2, PD_STORE_TOMBSTONE),
                     PD_ESTATE);
    assert_int_equal(pd_store_set_state(pd, 2, PD_STORE_DOWN), PD_ESTATE);
    assert_int_equal(pd_store_set_state(pd, 2, PD_STORE_OFFLINE), 0);
    fx_commit(&fx);
    struct pd_store_info info;
    assert_int_equal(pd_store_get(pd, 0, 2, &info), 0);
    assert_int_equal(info.state, PD_STORE_OFFLINE);
    assert_int_equal(pd_store_set_state(pd, 2, PD_STORE_UP), 0);
    fx_commit(&fx);
    assert_int_equal(pd_store_set_state(pd, 2, PD_STORE_OFFLINE), 0);
    fx_commit(&fx);
    /* Store 1 still holds region 1: it cannot become a tombstone. */
    assert_int_equal(pd_store_set_state(pd, 1, PD_STORE_OFFLINE), 0);
    fx_commit(&fx);
    assert_int_equal(pd_store_set_state(pd, 1, PD_STORE_TOMBSTONE), PD_EBUSY);
    assert_int_equal(pd_store_set_state(pd, 2, PD_STORE_TOMBSTONE), 0);
    fx_commit(&fx);
    assert_int_equal(pd_store_get(pd, 0, 2, &info), 0);
    assert_int_equal(info.state, PD_STORE_TOMBSTONE);
    /* Terminal: no way back, no heartbeats, no re-registration. */
    assert_int_equal(pd_store_set_state(pd, 2, PD_STORE_UP), PD_ESTATE);
    struct pd_store_stats st;
    memset(&st, 0, sizeof(st));
    assert_int_equal(pd_store_heartbeat(pd, 0, 2, &st), PD_ETOMBSTONE);
    assert_int_equal(pd_store_put(pd, &s2), PD_ETOMBSTONE);
    /* A tombstone's address may be reused by a new store. */
    struct pd_store s3 = fx_store(3, NULL, NULL);
    s3.address = "s2:20160";
    assert_int_equal(pd_store_put(pd, &s3), 0);
    fx_commit(&fx);
    assert_int_equal(pd_store_count(pd), 3);
    fx_fini(&fx);
}

static void config_set_replicates(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 2, NULL);
    fx_lead(&fx, 0, 1000, 0);
    struct pd_config cfg;
    pd_config_get(fx.pd[0], &cfg);
    assert_int_equal(cfg.max_replicas, 3);
    assert_int_equal(cfg.n_location_labels, 0);
    cfg.max_replicas = 5;
    cfg.location_labels[0] = "zone";
    cfg.location_labels[1] = "rack";
    cfg.n_location_labels = 2;
    cfg.tso_save_window_ms = 9999; /* per process: not replicated */
    assert_int_equal(pd_config_set(fx.pd[1], &cfg), PD_ENOTLEADER);
    assert_int_equal(pd_config_set(fx.pd[0], NULL), -EINVAL);
    struct pd_config bad = cfg;
    bad.max_replicas = 0;
    assert_int_equal(pd_config_set(fx.pd[0], &bad), -EINVAL);
    bad = cfg;
    bad.low_space_percent = 101;
    assert_int_equal(pd_config_set(fx.pd[0], &bad), -EINVAL);
    bad = cfg;
    bad.location_labels[1] = "";
    assert_int_equal(pd_config_set(fx.pd[0], &bad), -EINVAL);
    bad.location_labels[1] = NULL;
    assert_int_equal(pd_config_set(fx.pd[0], &bad), -EINVAL);
    bad = cfg;
    bad.leader_schedule_limit = 0;
    assert_int_equal(pd_config_set(fx.pd[0], &bad), -EINVAL);
    bad.leader_schedule_limit = 1025;
    assert_int_equal(pd_config_set(fx.pd[0], &bad), -EINVAL);
    assert_int_equal(cfg.leader_schedule_limit, 16);
    cfg.leader_schedule_limit = 7;
    assert_int_equal(pd_config_set(fx.pd[0], &cfg), 0);
    struct pd_config got;
    pd_config_get(fx.pd[1], &got);
    assert_int_equal(got.max_replicas, 3); /* not applied yet */
    fx_commit(&fx);
    for (int i = 0; i < 2; i++) {
        pd_config_get(fx.pd[i], &got);
        assert_int_equal(got.max_replicas, 5);
        assert_int_equal(got.n_location_labels, 2);
        assert_string_equal(got.location_labels[1], "rack");
        assert_int_equal(got.leader_schedule_limit, 7);
        assert_int_equal(got.tso_save_window_ms, 3000);
    }
    /* Snapshots carry it. */
    uint8_t *snap;
    size_t n;
    assert_int_equal(pd_snapshot(fx.pd[1], &snap, &n), 0);
    struct pd_storage st = pd_memlog_storage(fx.log);
    struct pd *r;
    assert_int_equal(pd_create(NULL, &st, &r), 0);
    assert_int_equal(pd_restore(r, snap, n), 0);
    pd_config_get(r, &got);
    assert_int_equal(got.max_replicas, 5);
    assert_string_equal(got.location_labels[0], "zone");
    assert_int_equal(got.leader_schedule_limit, 7);
    pd_destroy(r);
    pd_free(snap);
    fx_fini(&fx);
}

static void create_checks_its_config(void **state)
{
    (void)state;
    struct pd_memlog *log;
    assert_int_equal(pd_memlog_create(&log), 0);
    struct pd_storage st = pd_memlog_storage(log);
    struct pd_storage none = {NULL, NULL};
    struct pd *pd = (struct pd *)1;
    assert_int_equal(pd_create(NULL, &none, &pd), -EINVAL);
    assert_null(pd);
    assert_int_equal(pd_create(NULL, NULL, &pd), -EINVAL);
    struct pd_config cfg;
    pd_config_default(&cfg);
    cfg.max_replicas = 0;
    assert_int_equal(pd_create(&cfg, &st, &pd), -EINVAL);
    pd_config_default(&cfg);
    cfg.tso_save_window_ms = 1;
    assert_int_equal(pd_create(&cfg, &st, &pd), -EINVAL);
    pd_config_default(&cfg);
    cfg.n_location_labels = PD_MAX_LOCATION_LABELS + 1;
    assert_int_equal(pd_create(&cfg, &st, &pd), -EINVAL);
    cfg.n_location_labels = 1;
    cfg.location_labels[0] = NULL;
    assert_int_equal(pd_create(&cfg, &st, &pd), -EINVAL);
    /* Labels are copied. */
    char label[8] = "zone";
    cfg.location_labels[0] = label;
    assert_int_equal(pd_create(&cfg, &st, &pd), 0);
    label[0] = 'X';
    struct pd_config got;
    pd_config_get(pd, &got);
    assert_string_equal(got.location_labels[0], "zone");
    assert_string_equal(pd_errmsg(pd), "");
    pd_destroy(pd);
    pd_destroy(NULL);
    pd_memlog_destroy(log);
    pd_memlog_destroy(NULL);
}

/* Put store id at version v through replica i (its code; not committed). */
static int put_v(struct fx *fx, int i, uint64_t id, uint32_t v)
{
    struct pd_store s = fx_store(id, NULL, NULL);
    s.version = v;
    return pd_store_put(fx->pd[i], &s);
}

static uint32_t version_of(struct pd *pd, uint64_t id)
{
    struct pd_store_info info;
    assert_int_equal(pd_store_get(pd, 0, id, &info), 0);
    return info.store.version;
}

/* pd_version_parse takes exactly what pd_version_str writes for a known
 * version, and nothing else. */
static void version_parse_inverts_str(void **state)
{
    (void)state;
    static const uint32_t good[] = {1, 9000, 10000, 11000, 1002003, 999999999};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char buf[32];
        uint32_t v = 0;
        assert_int_equal(pd_version_parse(pd_version_str(good[i], buf,
                                                         sizeof buf), &v), 0);
        assert_int_equal(v, good[i]);
    }
    uint32_t v = 7;
    assert_int_equal(pd_version_parse("0.10.0", &v), 0);
    assert_int_equal(v, 10000);
    static const char *bad[] = {"", "unknown", "0.0.0", "1.2", "1.2.3.4",
                                "1..3", ".1.2", "1.2.", "1.2.3 ", " 1.2.3",
                                "1.2.1000", "-1.2.3", "+1.2.3", "1.x.3",
                                "0.10.0rc1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 7;
        assert_int_equal(pd_version_parse(bad[i], &v), -EINVAL);
        assert_int_equal(v, 7); /* nothing written */
    }
}

/* The cluster version (DESIGN.md "Store versions"): the lowest version of
 * the live stores, rising only; a store below it is refused by the
 * leader, and by apply when an upgrade raised it while the store's
 * registration was in the log; it survives a leader change, a replay of
 * the log (pdd's restart) and a snapshot, whose stores come back lowest
 * version first. */
static void cluster_version_rises_only(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 2, NULL);
    fx_lead(&fx, 0, 1000, 0);
    fx_bootstrap(&fx, 0); /* store 1 with no version (0) */
    assert_int_equal(pd_cluster_version(fx.pd[0]), 0);
    assert_int_equal(put_v(&fx, 0, 1, 9000), 0);
    fx_commit(&fx);
    assert_int_equal(pd_cluster_version(fx.pd[0]), 9000);
    assert_int_equal(put_v(&fx, 0, 2, 10000), 0);
    fx_commit(&fx);
    assert_int_equal(pd_cluster_version(fx.pd[1]), 9000); /* the lowest */
    size_t n = pd_memlog_count(fx.log);
    assert_int_equal(put_v(&fx, 0, 3, 8000), PD_EVERSION);
    assert_string_equal(pd_errmsg(fx.pd[0]),
                        "store 3 runs libmvcc 0.8.0, below the cluster "
                        "version 0.9.0: start it from a build with libmvcc "
                        "0.9.0 or later");
    assert_int_equal(pd_memlog_count(fx.log), n); /* nothing proposed */
    /* A store naming no version (pdctl store put without one) */
    assert_int_equal(put_v(&fx, 0, 5, 0), PD_EVERSION);
    assert_string_equal(pd_errmsg(fx.pd[0]),
                        "store 5 names no libmvcc version and the cluster "
                        "version is 0.9.0: register it with version 0.9.0 "
                        "or later");
    assert_int_equal(pd_memlog_count(fx.log), n);
    /* Store 1 upgrades while store 4 (0.9.500) registers: the leader
     * passes both (the version is still 0.9.0), the upgrade applies first
     * and raises it to 0.10.0, and store 4's apply is refused on every
     * replica. */
    assert_int_equal(put_v(&fx, 0, 1, 12000), 0);
    assert_int_equal(put_v(&fx, 0, 4, 9500), 0);
    fx_commit(&fx);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pd_cluster_version(fx.pd[i]), 10000);
        assert_int_equal(pd_store_count(fx.pd[i]), 2);
        struct pd_store_info info;
        assert_int_equal(pd_store_get(fx.pd[i], 0, 4, &info), PD_ENOTFOUND);
        assert_int_equal(version_of(fx.pd[i], 1), 12000);
    }
    /* A store may not come back older (a downgrade), nor unversioned. */
    assert_int_equal(put_v(&fx, 0, 1, 9000), PD_EVERSION);
    assert_int_equal(put_v(&fx, 0, 5, 0), PD_EVERSION);
    /* Another leader holds the same version and refuses the same. */
    pd_become_follower(fx.pd[0]);
    fx_lead(&fx, 1, 2000, 0);
    assert_int_equal(pd_cluster_version(fx.pd[1]), 10000);
    assert_int_equal(put_v(&fx, 1, 3, 9999), PD_EVERSION);
    assert_int_equal(put_v(&fx, 1, 3, 11000), 0);
    fx_commit(&fx);
    assert_int_equal(pd_cluster_version(fx.pd[1]), 10000);
    /* A restart replays the log: the same version, the same refusals. */
    struct pd_storage st = pd_memlog_storage(fx.log);
    struct pd *fresh = NULL;
    assert_int_equal(pd_create(NULL, &st, &fresh), 0);
    size_t next = 0;
    assert_int_equal(pd_memlog_apply(fx.log, fresh, &next), 0);
    assert_int_equal(pd_cluster_version(fresh), 10000);
    assert_int_equal(version_of(fresh, 3), 11000);
    /* A snapshot: store 1 (0.12.0) sorts after store 2 (0.10.0), so the
     * version does not pass 0.10.0 while the stores come back. */
    uint8_t *snap = NULL;
    size_t len = 0;
    assert_int_equal(pd_snapshot(fx.pd[1], &snap, &len), 0);
    assert_int_equal(pd_restore(fresh, snap, len), 0);
    pd_free(snap);
    assert_int_equal(pd_cluster_version(fresh), 10000);
    assert_int_equal(pd_store_count(fresh), 3);
    assert_int_equal(version_of(fresh, 1), 12000);
    assert_int_equal(version_of(fresh, 2), 10000);
    pd_destroy(fresh);
    /* Store 2 leaves (offline, then tombstone): the lowest live store is
     * now store 3, 0.11.0, and the version rises to it. Offline stores
     * still count. */
    assert_int_equal(pd_store_set_state(fx.pd[1], 2, PD_STORE_OFFLINE), 0);
    fx_commit(&fx);
    assert_int_equal(pd_cluster_version(fx.pd[1]), 10000);
    assert_int_equal(pd_store_set_state(fx.pd[1], 2, PD_STORE_TOMBSTONE), 0);
    fx_commit(&fx);
    assert_int_equal(pd_cluster_version(fx.pd[0]), 11000);
    assert_int_equal(pd_cluster_version(fx.pd[1]), 11000);
    assert_int_equal(version_of(fx.pd[1], 2), 10000); /* kept as it was */
    fx_fini(&fx);
}

/* Put store id with libmvcc v and libregion r through replica i. */
static int put_vr(struct fx *fx, int i, uint64_t id, uint32_t v, uint32_t r)
{
    struct pd_store s = fx_store(id, NULL, NULL);
    s.version = v;
    s.region_version = r;
    return pd_store_put(fx->pd[i], &s);
}

static uint32_t region_version_of(struct pd *pd, uint64_t id)
{
    struct pd_store_info info;
    assert_int_equal(pd_store_get(pd, 0, id, &info), 0);
    return info.store.region_version;
}

/* The cluster's libregion version (libpd 0.17) follows the same rules as
 * libmvcc's, on its own: the lowest of the live stores, rising only, a
 * store below it refused. A heartbeat's new labels and a state change
 * re-register the store with both versions. A snapshot whose stores
 * cross (store 1 lower in libmvcc, higher in libregion) restores both
 * versions as they were: no order of the stores could raise both one
 * store at a time without refusing the other. */
static void cluster_region_version(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 2, NULL);
    fx_lead(&fx, 0, 1000, 0);
    fx_bootstrap(&fx, 0);
    assert_int_equal(put_vr(&fx, 0, 1, 10000, 32000), 0);
    assert_int_equal(put_vr(&fx, 0, 2, 11000, 33000), 0);
    fx_commit(&fx);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pd_cluster_version(fx.pd[i]), 10000);
        assert_int_equal(pd_cluster_region_version(fx.pd[i]), 32000);
    }
    size_t n = pd_memlog_count(fx.log);
    assert_int_equal(put_vr(&fx, 0, 3, 11000, 31000), PD_EVERSION);
    assert_string_equal(pd_errmsg(fx.pd[0]),
                        "store 3 runs libregion 0.31.0, below the cluster's "
                        "libregion version 0.32.0: start it from a build "
                        "with libregion 0.32.0 or later");
    assert_int_equal(put_vr(&fx, 0, 3, 11000, 0), PD_EVERSION);
    assert_string_equal(pd_errmsg(fx.pd[0]),
                        "store 3 names no libregion version and the "
                        "cluster's libregion version is 0.32.0: register "
                        "it with version 0.32.0 or later");
    assert_int_equal(pd_memlog_count(fx.log), n); /* nothing proposed */
    /* store 1 upgrades libregion only */
    assert_int_equal(put_vr(&fx, 0, 1, 10000, 34000), 0);
    fx_commit(&fx);
    assert_int_equal(pd_cluster_version(fx.pd[1]), 10000);
    assert_int_equal(pd_cluster_region_version(fx.pd[1]), 33000);
    /* new labels in a heartbeat, and a round trip through offline */
    struct pd_store_stats st;
    memset(&st, 0, sizeof(st));
    st.update_labels = true;
    st.n_labels = 1;
    st.labels[0].key = "zone";
    st.labels[0].value = "z7";
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 10, 1, &st), 0);
    assert_int_equal(pd_store_set_state(fx.pd[0], 2, PD_STORE_OFFLINE), 0);
    fx_commit(&fx);
    assert_int_equal(pd_store_set_state(fx.pd[0], 2, PD_STORE_UP), 0);
    fx_commit(&fx);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(region_version_of(fx.pd[i], 1), 34000);
        assert_int_equal(region_version_of(fx.pd[i], 2), 33000);
        assert_int_equal(pd_cluster_region_version(fx.pd[i]), 33000);
    }
    /* a snapshot: store 1 sorts first (libmvcc 0.10.0) with libregion
     * 0.34.0, above store 2's 0.33.0 */
    uint8_t *snap = NULL;
    size_t len = 0;
    assert_int_equal(pd_snapshot(fx.pd[0], &snap, &len), 0);
    struct pd_storage sto = pd_memlog_storage(fx.log);
    struct pd *fresh = NULL;
    assert_int_equal(pd_create(NULL, &sto, &fresh), 0);
    assert_int_equal(pd_restore(fresh, snap, len), 0);
    pd_free(snap);
    assert_int_equal(pd_store_count(fresh), 2);
    assert_int_equal(pd_cluster_version(fresh), 10000);
    assert_int_equal(pd_cluster_region_version(fresh), 33000);
    assert_int_equal(region_version_of(fresh, 1), 34000);
    assert_int_equal(region_version_of(fresh, 2), 33000);
    /* and the log replayed from the start */
    pd_destroy(fresh);
    fresh = NULL;
    assert_int_equal(pd_create(NULL, &sto, &fresh), 0);
    size_t next = 0;
    assert_int_equal(pd_memlog_apply(fx.log, fresh, &next), 0);
    assert_int_equal(pd_cluster_region_version(fresh), 33000);
    assert_int_equal(region_version_of(fresh, 1), 34000);
    pd_destroy(fresh);
    fx_fini(&fx);
}

static void stores_listed_in_id_order(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 1, NULL);
    fx_lead(&fx, 0, 1000, 0);
    fx_bootstrap(&fx, 0);
    for (uint64_t id = 9; id >= 5; id -= 2) {
        struct pd_store s = fx_store(id, NULL, NULL);
        assert_int_equal(pd_store_put(fx.pd[0], &s), 0);
    }
    fx_commit(&fx);
    static const uint64_t want[] = {1, 5, 7, 9};
    struct pd_store_info info;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(pd_store_at(fx.pd[0], 0, i, &info), 0);
        assert_int_equal(info.store.id, want[i]);
    }
    assert_int_equal(pd_store_at(fx.pd[0], 0, 4, &info), PD_ENOTFOUND);
    /* Store 1 holds region 1 and leads it. */
    assert_int_equal(pd_store_at(fx.pd[0], 0, 0, &info), 0);
    assert_int_equal(info.map_regions, 1);
    assert_int_equal(info.map_leaders, 1);
    struct pd_store_stats st;
    memset(&st, 0, sizeof(st));
    st.n_labels = PD_MAX_LABELS + 1;
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 0, 1, &st), -EINVAL);
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 0, 1, NULL), -EINVAL);
    st.n_labels = 1;
    st.update_labels = true;
    st.labels[0].key = "";
    st.labels[0].value = "x";
    assert_int_equal(pd_store_heartbeat(fx.pd[0], 0, 1, &st), -EINVAL);
    fx_fini(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bootstrap_once),
        cmocka_unit_test(stores_register_and_report),
        cmocka_unit_test(down_after_max_store_down_time),
        cmocka_unit_test(store_state_transitions),
        cmocka_unit_test(config_set_replicates),
        cmocka_unit_test(create_checks_its_config),
        cmocka_unit_test(stores_listed_in_id_order),
        cmocka_unit_test(cluster_version_rises_only),
        cmocka_unit_test(cluster_region_version),
        cmocka_unit_test(version_parse_inverts_str),
    };
    return cmocka_run_group_tests_name("libpd/cluster", tests, NULL, NULL);
}

/* test_cmd.c: the command codec: every command type round-trips, the
 * decoder rejects malformed input (overlong varints, trailing bytes, bad
 * lengths, NUL in strings, invalid regions), and every single-byte mutation
 * and truncation of valid commands decodes cleanly or fails cleanly and
 * applies without breaking the map.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "pd_int.h"

static const uint64_t S12[] = {1, 2};

/* One valid command of each type, encoded into bufs[0..NS). */
#define NS 10
static void samples(struct pd__buf bufs[NS])
{
    struct pd__cmd c;
    memset(bufs, 0, NS * sizeof(bufs[0]));
    memset(&c, 0, sizeof(c));
    c.type = PD__CMD_TSO_SAVE;
    c.u = 1700000000000ull;
    pd__cmd_encode(&c, &bufs[0]);
    c.type = PD__CMD_ID_SAVE;
    c.u = 1000;
    pd__cmd_encode(&c, &bufs[1]);
    struct pd_store s = fx_store(1, "z1", "h1");
    s.version = 10000; /* libmvcc 0.10.0 */
    const char *why;
    assert_int_equal(pd__store_view(&s, &c.store, &why), 0);
    struct pd_region_info r = fx_region(1, NULL, NULL, 1, 1, 1, 0, 1, S12);
    pd__region_view(&r, &c.region);
    c.type = PD__CMD_BOOTSTRAP;
    c.u = 42;
    pd__cmd_encode(&c, &bufs[2]);
    c.type = PD__CMD_PUT_STORE;
    pd__cmd_encode(&c, &bufs[3]);
    r = fx_region(7, "a", "q", 3, 4, 2, 5, 2, S12);
    r.region.peers[0].learner = true;
    pd__region_view(&r, &c.region);
    c.type = PD__CMD_PUT_REGION;
    pd__cmd_encode(&c, &bufs[4]);
    c.type = PD__CMD_GC_SAFE_POINT;
    c.u = 99;
    c.now = 5;
    pd__cmd_encode(&c, &bufs[5]);
    c.type = PD__CMD_SERVICE_SAFE_POINT;
    c.service.p = (const uint8_t *)"br";
    c.service.n = 2;
    c.expire = 77;
    pd__cmd_encode(&c, &bufs[6]);
    c.type = PD__CMD_CLUSTER;
    c.u = 42;
    pd__cmd_encode(&c, &bufs[7]);
    struct pd_config cfg;
    pd_config_default(&cfg);
    cfg.location_labels[0] = "zone";
    cfg.n_location_labels = 1;
    pd__config_view(&cfg, &c.cfg);
    c.type = PD__CMD_CONFIG;
    pd__cmd_encode(&c, &bufs[8]);
    memset(&c, 0, sizeof(c));
    c.type = PD__CMD_CLUSTER_VERSION;
    c.u = 9000;
    pd__cmd_encode(&c, &bufs[9]);
    for (int i = 0; i < NS; i++)
        assert_int_equal(bufs[i].err, 0);
}

static void round_trips(void **state)
{
    (void)state;
    struct pd__buf bufs[NS];
    samples(bufs);
    for (int i = 0; i < NS; i++) {
        struct pd__cmd c;
        assert_int_equal(pd__cmd_decode(bufs[i].p, bufs[i].n, &c), 0);
        assert_int_equal(c.type, i + 1);
        struct pd__buf again = {0};
        pd__cmd_encode(&c, &again);
        assert_int_equal(again.n, bufs[i].n);
        assert_memory_equal(again.p, bufs[i].p, again.n);
        pd__buf_free(&again);
    }
    struct pd__cmd c;
    assert_int_equal(pd__cmd_decode(bufs[4].p, bufs[4].n, &c), 0);
    assert_int_equal(c.region.id, 7);
    assert_int_equal(c.region.conf_ver, 3);
    assert_int_equal(c.region.version, 4);
    assert_int_equal(c.region.n_peers, 2);
    assert_true(c.region.peers[0].learner);
    assert_int_equal(c.region.leader_peer, 7002);
    assert_int_equal(c.region.size, 5 << 20);
    assert_memory_equal(c.region.start.p, "a", 1);
    /* TSO_SAVE bytes: type 1, then 1700000000000 as LEB128. */
    static const uint8_t tso[] = {0x01, 0x80, 0xd0, 0x95, 0xff, 0xbc, 0x31};
    assert_int_equal(bufs[0].n, sizeof(tso));
    assert_memory_equal(bufs[0].p, tso, sizeof(tso));
    for (int i = 0; i < NS; i++)
        pd__buf_free(&bufs[i]);
}

/* leader_schedule_limit ends CONFIG only when it is not the default (16):
 * a CONFIG written before the field decodes as 16; a written 16 or 0, a
 * value over 1024, or bytes after it are malformed. */
static void config_limit_tail(void **state)
{
    (void)state;
    struct pd_config cfg;
    pd_config_default(&cfg);
    assert_int_equal(cfg.leader_schedule_limit, 16);
    struct pd__cmd c;
    memset(&c, 0, sizeof(c));
    c.type = PD__CMD_CONFIG;
    pd__config_view(&cfg, &c.cfg);
    struct pd__buf def = {0}, five = {0};
    pd__cmd_encode(&c, &def);
    cfg.leader_schedule_limit = 5;
    pd__config_view(&cfg, &c.cfg);
    pd__cmd_encode(&c, &five);
    assert_int_equal(five.n, def.n + 1);
    assert_memory_equal(five.p, def.p, def.n);
    assert_int_equal(five.p[def.n], 5);
    struct pd__cmd d;
    assert_int_equal(pd__cmd_decode(def.p, def.n, &d), 0);
    assert_int_equal(d.cfg.leader_schedule_limit, 16);
    assert_int_equal(pd__cmd_decode(five.p, five.n, &d), 0);
    assert_int_equal(d.cfg.leader_schedule_limit, 5);
    uint8_t bad[128];
    assert_true(def.n + 3 <= sizeof(bad));
    memcpy(bad, def.p, def.n);
    static const uint8_t tails[][2] = {{16, 0}, {0, 0}, {0x81, 0x08}};
    static const size_t lens[] = {1, 1, 2}; /* 16, 0, 1025 */
    for (int i = 0; i < 3; i++) {
        memcpy(bad + def.n, tails[i], lens[i]);
        assert_int_equal(pd__cmd_decode(bad, def.n + lens[i], &d), PD_EDECODE);
    }
    memcpy(bad, five.p, five.n);
    bad[five.n] = 1;
    assert_int_equal(pd__cmd_decode(bad, five.n + 1, &d), PD_EDECODE);
    pd__buf_free(&def);
    pd__buf_free(&five);
}

/* PUT_STORE bytes b decode to store 3 at versions v and r, and encode
 * back to b. */
static void tail_round_trip(const uint8_t *b, size_t n, uint32_t v,
                            uint32_t r)
{
    struct pd__cmd c;
    assert_int_equal(pd__cmd_decode(b, n, &c), 0);
    assert_int_equal(c.store.id, 3);
    assert_int_equal(c.store.version, v);
    assert_int_equal(c.store.region_version, r);
    struct pd__buf again = {0};
    pd__cmd_encode(&c, &again);
    assert_int_equal(again.n, n);
    assert_memory_equal(again.p, b, n);
    pd__buf_free(&again);
}

/* A store's versions end PUT_STORE (and BOOTSTRAP): libmvcc's when either
 * is nonzero, then libregion's when nonzero. A command written before
 * versions decodes as 0 and 0, one before libregion's as libregion 0; a
 * written libmvcc 0 with nothing after it, a written libregion 0, or
 * bytes after both are malformed (one encoding per command). */
static void store_version_tail(void **state)
{
    (void)state;
    struct pd__cmd c;
    static const uint8_t old[] = {0x04, 0x03, 0x01, 'a', 0x00, 0x00};
    tail_round_trip(old, sizeof(old), 0, 0);
    static const uint8_t v10[] = {0x04, 0x03, 0x01, 'a', 0x00, 0x00,
                                  0x90, 0x4e};
    tail_round_trip(v10, sizeof(v10), 10000, 0);
    static const uint8_t zero[] = {0x04, 0x03, 0x01, 'a', 0x00, 0x00, 0x00};
    assert_int_equal(pd__cmd_decode(zero, sizeof(zero), &c), PD_EDECODE);
    static const uint8_t both[] = {0x04, 0x03, 0x01, 'a', 0x00,
                                   0x00, 0x90, 0x4e, 0x01};
    tail_round_trip(both, sizeof(both), 10000, 1);
    static const uint8_t only_region[] = {0x04, 0x03, 0x01, 'a',  0x00,
                                          0x00, 0x00, 0xe8, 0x81, 0x02};
    tail_round_trip(only_region, sizeof(only_region), 0, 33000);
    static const uint8_t region0[] = {0x04, 0x03, 0x01, 'a', 0x00,
                                      0x00, 0x90, 0x4e, 0x00};
    assert_int_equal(pd__cmd_decode(region0, sizeof(region0), &c), PD_EDECODE);
    static const uint8_t more[] = {0x04, 0x03, 0x01, 'a',  0x00,
                                   0x00, 0x90, 0x4e, 0x01, 0x01};
    assert_int_equal(pd__cmd_decode(more, sizeof(more), &c), PD_EDECODE);
    /* CLUSTER_VERSION: nonzero, at most 32 bits. */
    static const uint8_t cv0[] = {0x0a, 0x00};
    assert_int_equal(pd__cmd_decode(cv0, sizeof(cv0), &c), PD_EDECODE);
    static const uint8_t cv33[] = {0x0a, 0x80, 0x80, 0x80, 0x80, 0x10};
    assert_int_equal(pd__cmd_decode(cv33, sizeof(cv33), &c), PD_EDECODE);
    static const uint8_t cv[] = {0x0a, 0xa8, 0x46};
    assert_int_equal(pd__cmd_decode(cv, sizeof(cv), &c), 0);
    assert_int_equal(c.u, 9000);
    /* CLUSTER_REGION_VERSION: the same rules. */
    static const uint8_t crv0[] = {0x0b, 0x00};
    assert_int_equal(pd__cmd_decode(crv0, sizeof(crv0), &c), PD_EDECODE);
    static const uint8_t crv[] = {0x0b, 0xe8, 0x81, 0x02};
    assert_int_equal(pd__cmd_decode(crv, sizeof(crv), &c), 0);
    assert_int_equal(c.type, PD__CMD_CLUSTER_REGION_VERSION);
    assert_int_equal(c.u, 33000);
}

static void rejects_malformed(void **state)
{
    (void)state;
    struct pd__cmd c;
    static const uint8_t empty[1] = {0};
    assert_int_equal(pd__cmd_decode(NULL, 0, &c), PD_EDECODE);
    assert_int_equal(pd__cmd_decode(empty, 0, &c), PD_EDECODE);
    static const uint8_t unknown[] = {0x0c, 0x01};
    assert_int_equal(pd__cmd_decode(unknown, sizeof(unknown), &c), PD_EDECODE);
    static const uint8_t cluster0[] = {0x08, 0x00};
    assert_int_equal(pd__cmd_decode(cluster0, sizeof(cluster0), &c),
                     PD_EDECODE);
    static const uint8_t zero_type[] = {0x00};
    assert_int_equal(pd__cmd_decode(zero_type, 1, &c), PD_EDECODE);
    static const uint8_t ok[] = {0x02, 0x05};
    assert_int_equal(pd__cmd_decode(ok, sizeof(ok), &c), 0);
    static const uint8_t overlong[] = {0x02, 0x85, 0x00};
    assert_int_equal(pd__cmd_decode(overlong, sizeof(overlong), &c),
                     PD_EDECODE);
    static const uint8_t trailing[] = {0x02, 0x05, 0x00};
    assert_int_equal(pd__cmd_decode(trailing, sizeof(trailing), &c),
                     PD_EDECODE);
    static const uint8_t cut[] = {0x02, 0x85};
    assert_int_equal(pd__cmd_decode(cut, sizeof(cut), &c), PD_EDECODE);
    static const uint8_t big[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(pd__cmd_decode(big, sizeof(big), &c), 0);
    assert_true(c.u == UINT64_MAX);
    /* Saves beyond the timestamp / id ranges are malformed. */
    uint8_t limit[11] = {0x01};
    struct pd__buf lb = {0};
    pd__buf_uvarint(&lb, PD_TS_PHYSICAL_LIMIT);
    memcpy(limit + 1, lb.p, lb.n);
    assert_int_equal(pd__cmd_decode(limit, 1 + lb.n, &c), PD_EDECODE);
    limit[0] = 0x02;
    assert_int_equal(pd__cmd_decode(limit, 1 + lb.n, &c), 0);
    pd__buf_free(&lb);
    pd__buf_uvarint(&lb, PD_ID_LIMIT);
    memcpy(limit + 1, lb.p, lb.n);
    assert_int_equal(pd__cmd_decode(limit, 1 + lb.n, &c), PD_EDECODE);
    pd__buf_free(&lb);
    static const uint8_t toobig[] = {0x02, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0x02};
    assert_int_equal(pd__cmd_decode(toobig, sizeof(toobig), &c), PD_EDECODE);
    /* Service id: length beyond the input, empty, NUL inside. */
    static const uint8_t svc_long[] = {0x07, 0x09, 'b', 'r', 0, 0, 0};
    assert_int_equal(pd__cmd_decode(svc_long, sizeof(svc_long), &c),
                     PD_EDECODE);
    static const uint8_t svc_empty[] = {0x07, 0x00, 0, 0, 0};
    assert_int_equal(pd__cmd_decode(svc_empty, sizeof(svc_empty), &c),
                     PD_EDECODE);
    static const uint8_t svc_nul[] = {0x07, 0x02, 'b', 0, 0, 0, 0};
    assert_int_equal(pd__cmd_decode(svc_nul, sizeof(svc_nul), &c),
                     PD_EDECODE);
    static const uint8_t svc_ok[] = {0x07, 0x02, 'b', 'r', 0, 0, 0};
    assert_int_equal(pd__cmd_decode(svc_ok, sizeof(svc_ok), &c), 0);
    /* A region: id 5, [b, a) is inverted. */
    static const uint8_t inverted[] = {0x05, 0x05, 0x01, 'b', 0x01, 'a',
                                       0x01, 0x01, 0x01, 0x09, 0x01, 0x00,
                                       0x00, 0x00, 0x00};
    assert_int_equal(pd__cmd_decode(inverted, sizeof(inverted), &c),
                     PD_EDECODE);
    static const uint8_t region_ok[] = {0x05, 0x05, 0x01, 'a', 0x01, 'b',
                                        0x01, 0x01, 0x01, 0x09, 0x01, 0x00,
                                        0x09, 0x00, 0x00};
    assert_int_equal(pd__cmd_decode(region_ok, sizeof(region_ok), &c), 0);
    /* Learner flag 2, 17 peers, leader not a peer. */
    uint8_t bad[sizeof(region_ok)];
    memcpy(bad, region_ok, sizeof(bad));
    bad[11] = 2;
    assert_int_equal(pd__cmd_decode(bad, sizeof(bad), &c), PD_EDECODE);
    memcpy(bad, region_ok, sizeof(bad));
    bad[8] = 17;
    assert_int_equal(pd__cmd_decode(bad, sizeof(bad), &c), PD_EDECODE);
    memcpy(bad, region_ok, sizeof(bad));
    bad[12] = 8;
    assert_int_equal(pd__cmd_decode(bad, sizeof(bad), &c), PD_EDECODE);
    /* pd_apply says the same. */
    struct fx fx;
    fx_init(&fx, 1, NULL);
    assert_int_equal(pd_apply(fx.pd[0], inverted, sizeof(inverted)),
                     PD_EDECODE);
    assert_int_equal(pd_apply(fx.pd[0], region_ok, sizeof(region_ok)),
                     PD_ENOTBOOTSTRAPPED);
    fx_fini(&fx);
}

static void check_invariants(const struct pd *pd)
{
    for (size_t i = 0; i < pd->n_regions; i++) {
        const struct pd__region *r = pd->by_key[i];
        assert_ptr_equal(pd__region_find(pd, r->id), r);
        if (i + 1 < pd->n_regions) {
            const struct pd__region *n = pd->by_key[i + 1];
            assert_true(r->end_len != 0);
            assert_true(pd__keycmp(r->end, r->end_len, n->start,
                                   n->start_len) <= 0);
        }
    }
}

static void mutations_fail_cleanly(void **state)
{
    (void)state;
    struct pd__buf bufs[NS];
    samples(bufs);
    static const uint8_t values[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff};
    unsigned decoded = 0, rejected = 0;
    for (int i = 0; i < NS; i++) {
        uint8_t m[1024];
        assert_true(bufs[i].n <= sizeof(m));
        for (size_t pos = 0; pos < bufs[i].n; pos++) {
            for (size_t v = 0; v < sizeof(values); v++) {
                memcpy(m, bufs[i].p, bufs[i].n);
                m[pos] = values[v];
                struct fx fx;
                fx_init(&fx, 1, NULL);
                /* Applied after the valid bootstrap, so PUT_* reach the map. */
                assert_int_equal(pd_apply(fx.pd[0], bufs[2].p, bufs[2].n), 0);
                struct pd__cmd c;
                if (pd__cmd_decode(m, bufs[i].n, &c) == 0) {
                    decoded++;
                    struct pd__buf again = {0};
                    pd__cmd_encode(&c, &again);
                    assert_int_equal(again.n, bufs[i].n);
                    assert_memory_equal(again.p, m, again.n);
                    pd__buf_free(&again);
                } else {
                    rejected++;
                    assert_int_equal(pd_apply(fx.pd[0], m, bufs[i].n),
                                     PD_EDECODE);
                }
                (void)pd_apply(fx.pd[0], m, bufs[i].n);
                check_invariants(fx.pd[0]);
                fx_fini(&fx);
            }
        }
        /* Every truncation is malformed, but one: BOOTSTRAP and PUT_STORE
         * cut before their version (2 bytes, 10000) are the same command
         * as written before versions. */
        for (size_t n = 0; n < bufs[i].n; n++) {
            struct pd__cmd c;
            bool old = (i + 1 == PD__CMD_BOOTSTRAP ||
                        i + 1 == PD__CMD_PUT_STORE) && n == bufs[i].n - 2;
            assert_int_equal(pd__cmd_decode(bufs[i].p, n, &c),
                             old ? 0 : PD_EDECODE);
            if (old)
                assert_int_equal(c.store.version, 0);
        }
    }
    assert_true(decoded > 0);
    assert_true(rejected > 0);
    for (int i = 0; i < NS; i++)
        pd__buf_free(&bufs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips),
        cmocka_unit_test(rejects_malformed),
        cmocka_unit_test(store_version_tail),
        cmocka_unit_test(config_limit_tail),
        cmocka_unit_test(mutations_fail_cleanly),
    };
    return cmocka_run_group_tests_name("libpd/cmd", tests, NULL, NULL);
}

/* test_region.c: the region map: lookups by key and id, range scans,
 * split and merge results replacing what they overlap, stale epochs
 * ignored (at heartbeat time and again at apply time), a deposed
 * leader's heartbeats ignored (a lower term), bad heartbeats.
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

static const uint64_t S1[] = {1};
static const uint64_t S123[] = {1, 2, 3};

static void setup_fx(struct fx *fx)
{
    fx_init(fx, 2, NULL);
    fx_lead(fx, 0, 1000, 0);
    fx_bootstrap(fx, 0);
}

static uint64_t id_at(struct pd *pd, const char *key)
{
    struct pd_region_info r;
    int rc = pd_region_by_key(pd, (const uint8_t *)key, strlen(key), &r);
    return rc == 0 ? r.region.id : 0;
}

static void split_then_merge(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx);
    struct pd *pd = fx.pd[0], *f = fx.pd[1];
    assert_int_equal(id_at(f, ""), 1);
    assert_int_equal(id_at(f, "zzz"), 1);
    /* Region 1 splits at "m": 1 keeps ["", "m"), 2 takes ["m", ""). The
     * left half reports first: the map has a hole until the right does. */
    struct pd_region_info left = fx_region(1, NULL, "m", 1, 2, 1, 5, 1, S1);
    struct pd_region_info right = fx_region(2, "m", NULL, 1, 2, 1, 7, 1, S1);
    assert_int_equal(fx_hb(&fx, 0, 10, &left), 0);
    assert_int_equal(pd_region_count(f), 1);
    assert_int_equal(id_at(f, "l"), 1);
    assert_int_equal(id_at(f, "m"), 0);
    assert_int_equal(fx_hb(&fx, 0, 10, &right), 0);
    assert_int_equal(pd_region_count(f), 2);
    assert_int_equal(id_at(f, "m"), 2);
    assert_int_equal(id_at(f, "\xff\xff"), 2);
    struct pd_region_info got = fx_get(&fx, 1, 2);
    assert_int_equal(got.region.version, 2);
    assert_int_equal(got.approx_size, 7 << 20);
    assert_memory_equal(got.region.start_key, "m", 1);
    assert_int_equal(got.region.end_len, 0);
    /* The parent's old epoch is stale now, and ignored. */
    struct pd_region_info old = fx_region(1, NULL, NULL, 1, 1, 1, 5, 1, S1);
    size_t n = pd_memlog_count(fx.log);
    assert_int_equal(pd_region_heartbeat(pd, 11, &old, NULL), PD_ESTALE);
    assert_int_equal(pd_memlog_count(fx.log), n);
    /* Region 2 absorbs region 1 (merge): both are replaced by one. */
    struct pd_region_info merged =
        fx_region(2, NULL, NULL, 1, 3, 1, 12, 1, S1);
    assert_int_equal(fx_hb(&fx, 0, 12, &merged), 0);
    assert_int_equal(pd_region_count(f), 1);
    assert_int_equal(id_at(f, "a"), 2);
    assert_int_equal(pd_region_by_id(f, 1, &got), PD_ENOTFOUND);
    /* The merged-away region's last heartbeat overlaps a newer version. */
    assert_int_equal(pd_region_heartbeat(pd, 13, &left, NULL), PD_ESTALE);
    fx_fini(&fx);
}

/* A leader deposed meanwhile (cut off, paused) heartbeats a lower term
 * than the leader of now: ignored, whatever its epoch, so the map keeps
 * naming the leader of now. A heartbeat without a term (an older kvd) is
 * taken as before. */
static void deposed_leader_heartbeat_ignored(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx);
    struct pd *pd = fx.pd[0];
    struct pd_region_info a = fx_region(1, NULL, NULL, 2, 1, 1, 0, 3, S123);
    a.term = 5;
    assert_int_equal(fx_hb(&fx, 0, 1, &a), 0);
    struct pd_region_info got;
    assert_int_equal(pd_region_by_id(pd, 1, &got), 0);
    assert_int_equal(got.leader_peer_id, 1001);
    assert_int_equal(got.term, 5);
    /* store 2 leads now, at term 6 */
    struct pd_region_info b = fx_region(1, NULL, NULL, 2, 1, 2, 0, 3, S123);
    b.term = 6;
    assert_int_equal(pd_region_heartbeat(pd, 2, &b, NULL), 0);
    assert_int_equal(pd_region_by_id(pd, 1, &got), 0);
    assert_int_equal(got.leader_peer_id, 1002);
    /* store 1, deposed at term 5, heartbeats again: refused */
    size_t n = pd_memlog_count(fx.log);
    assert_int_equal(pd_region_heartbeat(pd, 3, &a, NULL), PD_ESTALE);
    assert_int_equal(pd_memlog_count(fx.log), n);
    assert_int_equal(pd_region_by_id(pd, 1, &got), 0);
    assert_int_equal(got.leader_peer_id, 1002);
    assert_int_equal(got.term, 6);
    /* even with a newer epoch (a split it applied before it was deposed) */
    struct pd_region_info a2 = fx_region(1, NULL, "m", 2, 2, 1, 0, 3, S123);
    a2.term = 5;
    assert_int_equal(pd_region_heartbeat(pd, 4, &a2, NULL), PD_ESTALE);
    assert_int_equal(pd_region_by_id(pd, 1, &got), 0);
    assert_int_equal(got.leader_peer_id, 1002);
    assert_int_equal(got.region.version, 1);
    /* the leader of now applies the split: taken, its term kept */
    struct pd_region_info b2 = fx_region(1, NULL, "m", 2, 2, 2, 0, 3, S123);
    b2.term = 6;
    assert_int_equal(fx_hb(&fx, 0, 5, &b2), 0);
    assert_int_equal(pd_region_by_id(pd, 1, &got), 0);
    assert_int_equal(got.region.version, 2);
    assert_int_equal(got.term, 6);
    assert_int_equal(pd_region_heartbeat(pd, 6, &a2, NULL), PD_ESTALE);
    /* no term said: not checked */
    a2.term = 0;
    assert_int_equal(pd_region_heartbeat(pd, 7, &a2, NULL), 0);
    assert_int_equal(pd_region_by_id(pd, 1, &got), 0);
    assert_int_equal(got.leader_peer_id, 1001);
    assert_int_equal(got.term, 6);
    fx_fini(&fx);
}

static void stale_conf_ver_and_apply_time_staleness(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx);
    struct pd *pd = fx.pd[0];
    struct pd_region_info v2 = fx_region(1, NULL, NULL, 2, 1, 1, 0, 3, S123);
    assert_int_equal(fx_hb(&fx, 0, 1, &v2), 0);
    struct pd_region_info v1 = fx_region(1, NULL, NULL, 1, 1, 1, 0, 1, S1);
    assert_int_equal(pd_region_heartbeat(pd, 2, &v1, NULL), PD_ESTALE);
    /* Two newer reports proposed before either applies, out of order: the
     * older one is refused when it applies. */
    struct pd_region_info v4 = fx_region(1, NULL, NULL, 4, 1, 2, 0, 3, S123);
    struct pd_region_info v3 = fx_region(1, NULL, NULL, 3, 1, 3, 0, 3, S123);
    v3.region.peers[2].learner = false;
    assert_int_equal(pd_region_heartbeat(pd, 3, &v4, NULL), 0);
    assert_int_equal(pd_region_heartbeat(pd, 3, &v3, NULL), 0);
    size_t n = pd_memlog_count(fx.log);
    const uint8_t *p;
    size_t len;
    assert_int_equal(pd_memlog_entry(fx.log, n - 2, &p, &len), 0);
    assert_int_equal(pd_apply(fx.pd[1], p, len), 0);
    assert_int_equal(pd_memlog_entry(fx.log, n - 1, &p, &len), 0);
    assert_int_equal(pd_apply(fx.pd[1], p, len), PD_ESTALE);
    fx.applied[1] = n;
    fx_commit(&fx);
    struct pd_region_info got = fx_get(&fx, 0, 1);
    assert_int_equal(got.region.conf_ver, 4);
    assert_int_equal(got.leader_peer_id, 1002);
    got = fx_get(&fx, 1, 1);
    assert_int_equal(got.region.conf_ver, 4);
    fx_fini(&fx);
}

static void unchanged_meta_proposes_nothing(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx);
    struct pd_region_info r = fx_region(1, NULL, NULL, 2, 1, 1, 3, 3, S123);
    assert_int_equal(fx_hb(&fx, 0, 1, &r), 0);
    size_t n = pd_memlog_count(fx.log);
    /* Leader and size change; the peers, in another order, do not. */
    struct pd_region_info r2 = r;
    r2.region.peers[0] = r.region.peers[2];
    r2.region.peers[2] = r.region.peers[0];
    r2.leader_peer_id = 1002;
    r2.approx_size = 9;
    assert_int_equal(pd_region_heartbeat(fx.pd[0], 2, &r2, NULL), 0);
    assert_int_equal(pd_memlog_count(fx.log), n);
    struct pd_region_info got = fx_get(&fx, 0, 1);
    assert_int_equal(got.leader_peer_id, 1002);
    assert_int_equal(got.approx_size, 9);
    /* Followers keep what the last command carried. */
    got = fx_get(&fx, 1, 1);
    assert_int_equal(got.leader_peer_id, 1001);
    fx_fini(&fx);
}

static void bad_heartbeats(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx);
    struct pd *pd = fx.pd[0];
    struct pd_region_info r = fx_region(1, NULL, NULL, 2, 1, 1, 0, 3, S123);
    struct pd_region_info b = r;
    b.leader_peer_id = 77;
    assert_int_equal(pd_region_heartbeat(pd, 0, &b, NULL), -EINVAL);
    assert_string_equal(pd_errmsg(pd),
                        "region heartbeat: leader is not a peer");
    b = r;
    b.region.peers[1].store_id = 1;
    assert_int_equal(pd_region_heartbeat(pd, 0, &b, NULL), -EINVAL);
    b = fx_region(1, "b", "a", 2, 1, 1, 0, 3, S123);
    assert_int_equal(pd_region_heartbeat(pd, 0, &b, NULL), -EINVAL);
    b = fx_region(1, "a", "a", 2, 1, 1, 0, 3, S123);
    assert_int_equal(pd_region_heartbeat(pd, 0, &b, NULL), -EINVAL);
    b = r;
    b.region.n_peers = 0;
    b.leader_peer_id = 0;
    assert_int_equal(pd_region_heartbeat(pd, 0, &b, NULL), -EINVAL);
    b = r;
    b.region.n_peers = PD_MAX_PEERS + 1;
    assert_int_equal(pd_region_heartbeat(pd, 0, &b, NULL), -EINVAL);
    b = r;
    b.region.id = 0;
    assert_int_equal(pd_region_heartbeat(pd, 0, &b, NULL), -EINVAL);
    b = r;
    b.region.peers[0].learner = true;
    assert_int_equal(pd_region_heartbeat(pd, 0, &b, NULL), -EINVAL);
    assert_int_equal(pd_region_heartbeat(pd, 0, NULL, NULL), -EINVAL);
    assert_int_equal(pd_region_heartbeat(fx.pd[1], 0, &r, NULL),
                     PD_ENOTLEADER);
    fx_fini(&fx);
}

/* 100 regions "k000".."k099" split out of region 1 one by one. */
static void build_100(struct fx *fx, char keys[101][8])
{
    for (int i = 0; i < 100; i++)
        snprintf(keys[i + 1], sizeof(keys[0]), "k%03d", i);
    /* Region 1 keeps ["", "k000"); region 100 + i is [k_i, k_i+1). */
    struct pd_region_info r = fx_region(1, NULL, keys[1], 1, 101, 1, 1, 1, S1);
    assert_int_equal(fx_hb(fx, 0, 1, &r), 0);
    for (int i = 0; i < 100; i++) {
        r = fx_region((uint64_t)(100 + i), keys[i + 1],
                      i == 99 ? NULL : keys[i + 2], 1, 101, 1, 1, 1, S1);
        assert_int_equal(fx_hb(fx, 0, 1, &r), 0);
    }
}

static void scans_with_limits(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx);
    char keys[101][8];
    build_100(&fx, keys);
    struct pd *f = fx.pd[1];
    assert_int_equal(pd_region_count(f), 101);
    struct pd_region_info out[200];
    size_t n;
    /* ["k010", "k013"): exactly 110, 111, 112. */
    assert_int_equal(pd_region_scan(f, (const uint8_t *)"k010", 4,
                                    (const uint8_t *)"k013", 4, 0, out, &n),
                     0);
    assert_int_equal(n, 3);
    assert_int_equal(out[0].region.id, 110);
    assert_int_equal(out[2].region.id, 112);
    /* From the middle of a region: it is included. */
    assert_int_equal(pd_region_scan(f, (const uint8_t *)"k0105", 5,
                                    (const uint8_t *)"k011", 4, 0, out, &n),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].region.id, 110);
    /* Everything, limited. */
    assert_int_equal(pd_region_scan(f, NULL, 0, NULL, 0, 5, out, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(out[0].region.id, 1);
    assert_int_equal(out[4].region.id, 103);
    assert_int_equal(pd_region_scan(f, NULL, 0, NULL, 0, 0, out, &n), 0);
    assert_int_equal(n, 101);
    assert_int_equal(out[100].region.id, 199);
    assert_int_equal(pd_region_scan(f, (const uint8_t *)"k099", 4, NULL, 0, 0,
                                    out, &n),
                     0);
    assert_int_equal(n, 1);
    /* An empty or inverted range is empty. */
    assert_int_equal(pd_region_scan(f, (const uint8_t *)"k05", 3,
                                    (const uint8_t *)"k05", 3, 0, out, &n),
                     0);
    assert_int_equal(n, 0);
    /* Lookups by key at every boundary and just below it. */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(id_at(f, keys[i + 1]), 100 + i);
        char below[8];
        snprintf(below, sizeof(below), "k%03d", i);
        below[3] = (char)(below[3] - 1);
        assert_int_equal(id_at(f, below), i == 0 ? 1 : 100 + i - 1);
    }
    /* One region merging 10..19 away replaces them all. */
    struct pd_region_info big =
        fx_region(110, keys[11], keys[21], 1, 102, 1, 1, 1, S1);
    assert_int_equal(fx_hb(&fx, 0, 2, &big), 0);
    assert_int_equal(pd_region_count(f), 92);
    assert_int_equal(id_at(f, "k015"), 110);
    assert_int_equal(id_at(f, "k020"), 120);
    for (uint64_t id = 111; id < 120; id++)
        assert_int_equal(pd_region_by_id(f, id, &out[0]), PD_ENOTFOUND);
    fx_fini(&fx);
}

static void ask_split_hands_out_fresh_ids(void **state)
{
    (void)state;
    struct fx fx;
    setup_fx(&fx);
    struct pd_region_info r = fx_region(1, NULL, NULL, 2, 1, 1, 0, 3, S123);
    assert_int_equal(fx_hb(&fx, 0, 0, &r), 0);
    uint64_t rid = 0, peers[PD_MAX_PEERS];
    uint32_t n = 9;
    assert_int_equal(pd_ask_split(fx.pd[1], 1, &rid, peers, &n),
                     PD_ENOTLEADER);
    assert_int_equal(n, 0);
    assert_int_equal(pd_ask_split(fx.pd[0], 5, &rid, peers, &n),
                     PD_ENOTFOUND);
    assert_int_equal(pd_ask_split(fx.pd[0], 1, &rid, peers, &n), 0);
    assert_int_equal(rid, 1);
    assert_int_equal(n, 3);
    assert_int_equal(peers[0], 2);
    assert_int_equal(peers[2], 4);
    assert_int_equal(pd_ask_split(fx.pd[0], 1, &rid, peers, &n), 0);
    assert_int_equal(rid, 5);
    fx_fini(&fx);
}

/* ---- randomized: splits, merges and conf changes reported late and out of
 * order; once every live region reports, the map equals the truth. ---- */

struct truth {
    uint64_t id;       /* region id */
    int start;         /* first key, -1 for -inf */
    int end;           /* end key, -1 for +inf */
    uint64_t cv;       /* conf_ver */
    uint64_t ver;      /* version */
};

struct report {
    struct truth t;    /* the region as it was when reported */
    char start[12];    /* its start key */
    char end[12];      /* its end key */
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static struct report mk(const struct truth *t)
{
    struct report r;
    memset(&r, 0, sizeof(r));
    r.t = *t;
    if (t->start >= 0)
        snprintf(r.start, sizeof(r.start), "%05d", t->start);
    if (t->end >= 0)
        snprintf(r.end, sizeof(r.end), "%05d", t->end);
    return r;
}

static void deliver(struct fx *fx, const struct report *r)
{
    struct pd_region_info info =
        fx_region(r->t.id, r->t.start >= 0 ? r->start : NULL,
                  r->t.end >= 0 ? r->end : NULL, r->t.cv, r->t.ver, 1, 1, 1,
                  S1);
    int rc = fx_hb(fx, 0, 0, &info);
    assert_true(rc == 0 || rc == PD_ESTALE);
}

static void random_reports_converge(void **state)
{
    (void)state;
    uint64_t seed = 0x243f6a8885a308d3ull;
    for (int round = 0; round < 20; round++) {
        struct fx fx;
        setup_fx(&fx);
        struct truth live[256];
        size_t n = 1;
        live[0] = (struct truth){1, -1, -1, 1, 1};
        static struct report pending[4096];
        size_t np = 0;
        uint64_t next_id = 2;
        for (int step = 0; step < 300; step++) {
            uint64_t r = rnd(&seed);
            size_t i = (size_t)(rnd(&seed) % n);
            if (r % 3 == 0 && n < 200) {
                /* Split live[i] at a key strictly inside. */
                int lo = live[i].start < 0 ? 0 : live[i].start;
                int hi = live[i].end < 0 ? 100000 : live[i].end;
                if (hi - lo < 2)
                    continue;
                int at = lo + 1 + (int)(rnd(&seed) % (uint64_t)(hi - lo - 1));
                struct truth right = live[i];
                right.id = next_id++;
                right.start = at;
                right.ver++;
                live[i].end = at;
                live[i].ver++;
                memmove(&live[i + 2], &live[i + 1],
                        (n - i - 1) * sizeof(live[0]));
                live[i + 1] = right;
                n++;
                pending[np++] = mk(&live[i]);
                pending[np++] = mk(&live[i + 1]);
            } else if (r % 3 == 1 && n > 1 && i + 1 < n) {
                /* live[i] absorbs live[i + 1] (or the other way). */
                bool left_wins = rnd(&seed) % 2 == 0;
                struct truth *a = &live[i], *b = &live[i + 1];
                struct truth m = left_wins ? *a : *b;
                m.start = a->start;
                m.end = b->end;
                m.ver = (a->ver > b->ver ? a->ver : b->ver) + 1;
                live[i] = m;
                memmove(&live[i + 1], &live[i + 2],
                        (n - i - 2) * sizeof(live[0]));
                n--;
                pending[np++] = mk(&live[i]);
            } else {
                live[i].cv++;
                pending[np++] = mk(&live[i]);
            }
            /* Deliver some pending reports, in random order. */
            while (np > 0 && rnd(&seed) % 2 == 0) {
                size_t k = (size_t)(rnd(&seed) % np);
                deliver(&fx, &pending[k]);
                pending[k] = pending[--np];
            }
            assert_true(np < 4000);
        }
        while (np > 0) {
            size_t k = (size_t)(rnd(&seed) % np);
            deliver(&fx, &pending[k]);
            pending[k] = pending[--np];
        }
        /* Every live region reports its current state once more. */
        for (size_t k = 0; k < n; k++) {
            struct report rep = mk(&live[(k * 7 + (size_t)round) % n]);
            deliver(&fx, &rep);
        }
        for (int rep = 0; rep < 2; rep++) {
            struct pd *pd = fx.pd[rep];
            assert_int_equal(pd_region_count(pd), n);
            static struct pd_region_info out[256];
            size_t got;
            assert_int_equal(
                pd_region_scan(pd, NULL, 0, NULL, 0, 0, out, &got), 0);
            assert_int_equal(got, n);
            for (size_t k = 0; k < n; k++) {
                struct report want = mk(&live[k]);
                assert_int_equal(out[k].region.id, live[k].id);
                assert_int_equal(out[k].region.version, live[k].ver);
                assert_int_equal(out[k].region.conf_ver, live[k].cv);
                assert_int_equal(out[k].region.start_len,
                                 live[k].start < 0 ? 0 : 5);
                assert_int_equal(out[k].region.end_len,
                                 live[k].end < 0 ? 0 : 5);
                if (live[k].start >= 0)
                    assert_memory_equal(out[k].region.start_key, want.start,
                                        5);
            }
        }
        fx_fini(&fx);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_then_merge),
        cmocka_unit_test(stale_conf_ver_and_apply_time_staleness),
        cmocka_unit_test(deposed_leader_heartbeat_ignored),
        cmocka_unit_test(unchanged_meta_proposes_nothing),
        cmocka_unit_test(bad_heartbeats),
        cmocka_unit_test(scans_with_limits),
        cmocka_unit_test(random_reports_converge),
        cmocka_unit_test(ask_split_hands_out_fresh_ids),
    };
    return cmocka_run_group_tests_name("libpd/region", tests, NULL, NULL);
}

/* common.c: the shared test fixture (see common.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "pd_int.h"

void fx_init(struct fx *fx, int n, const struct pd_config *cfg)
{
    memset(fx, 0, sizeof(*fx));
    assert_int_equal(pd_memlog_create(&fx->log), 0);
    struct pd_storage s = pd_memlog_storage(fx->log);
    for (int i = 0; i < n; i++)
        assert_int_equal(pd_create(cfg, &s, &fx->pd[i]), 0);
}

void fx_fini(struct fx *fx)
{
    for (int i = 0; i < FX_REPLICAS; i++)
        pd_destroy(fx->pd[i]);
    pd_memlog_destroy(fx->log);
}

void fx_commit(struct fx *fx)
{
    for (int i = 0; i < FX_REPLICAS; i++)
        if (fx->pd[i] != NULL)
            assert_int_equal(
                pd_memlog_apply(fx->log, fx->pd[i], &fx->applied[i]), 0);
}

void fx_lead(struct fx *fx, int i, uint64_t wall_ms, uint64_t mono_ms)
{
    fx_commit(fx);
    assert_int_equal(pd_become_leader(fx->pd[i], wall_ms, mono_ms), 0);
    fx_commit(fx);
}

static void entry(struct fx *fx, size_t i, struct pd__cmd *c)
{
    const uint8_t *p;
    size_t n;
    assert_int_equal(pd_memlog_entry(fx->log, i, &p, &n), 0);
    assert_int_equal(pd__cmd_decode(p, n, c), 0);
}

int fx_entry_type(struct fx *fx, size_t i)
{
    struct pd__cmd c;
    entry(fx, i, &c);
    return c.type;
}

uint64_t fx_entry_u(struct fx *fx, size_t i)
{
    struct pd__cmd c;
    entry(fx, i, &c);
    return c.u;
}

static char addrs[64][32];

struct pd_store fx_store(uint64_t id, const char *zone, const char *host)
{
    struct pd_store s;
    memset(&s, 0, sizeof(s));
    s.id = id;
    snprintf(addrs[id % 64], sizeof(addrs[0]), "s%llu:20160",
             (unsigned long long)id);
    s.address = addrs[id % 64];
    if (zone != NULL) {
        s.n_labels = 2;
        s.labels[0].key = "zone";
        s.labels[0].value = zone;
        s.labels[1].key = "host";
        s.labels[1].value = host;
    }
    return s;
}

struct pd_region_info fx_region(uint64_t id, const char *start,
                                const char *end, uint64_t cv, uint64_t ver,
                                uint64_t leader_store, uint64_t size_mib,
                                int n, const uint64_t *stores)
{
    struct pd_region_info r;
    memset(&r, 0, sizeof(r));
    r.region.id = id;
    r.region.start_key = (const uint8_t *)start;
    r.region.start_len = start == NULL ? 0 : strlen(start);
    r.region.end_key = (const uint8_t *)end;
    r.region.end_len = end == NULL ? 0 : strlen(end);
    r.region.conf_ver = cv;
    r.region.version = ver;
    r.region.n_peers = (uint32_t)n;
    for (int i = 0; i < n; i++) {
        r.region.peers[i].id = id * 1000 + stores[i];
        r.region.peers[i].store_id = stores[i];
        if (stores[i] == leader_store)
            r.leader_peer_id = r.region.peers[i].id;
    }
    r.approx_size = size_mib << 20;
    r.approx_keys = size_mib * 1000;
    return r;
}

void fx_bootstrap(struct fx *fx, int i)
{
    struct pd_store s = fx_store(1, NULL, NULL);
    uint64_t one = 1;
    struct pd_region_info r = fx_region(1, NULL, NULL, 1, 1, 1, 0, 1, &one);
    assert_int_equal(pd_bootstrap(fx->pd[i], 42, &s, &r.region), 0);
    fx_commit(fx);
    assert_true(pd_is_bootstrapped(fx->pd[i]));
}

int fx_hb(struct fx *fx, int i, uint64_t mono, const struct pd_region_info *r)
{
    int rc = pd_region_heartbeat(fx->pd[i], mono, r, NULL);
    fx_commit(fx);
    return rc;
}

struct pd_region_info fx_get(struct fx *fx, int i, uint64_t id)
{
    struct pd_region_info r;
    assert_int_equal(pd_region_by_id(fx->pd[i], id, &r), 0);
    return r;
}

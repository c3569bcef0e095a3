/* fuzz_cmd.c: libFuzzer target for the command decoder and pd_apply. An
 * input whose first byte is even is a sequence of raw commands, each
 * prefixed by a 2-byte big-endian length: each decodes to PD_EDECODE or to a
 * command that re-encodes to the same bytes. An odd first byte selects the
 * structured mode: the bytes drive a generator of valid commands (regions
 * over a small key space, so splits and merges overlap), reaching deep into
 * apply. Either way every command goes to one fresh replica, which must
 * never crash, leak or break the region map's invariants, nor keep a live
 * store below either cluster version ("Store versions"). In structured
 * mode the replica's snapshot, restored into another, gives back the same
 * versions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pd.h"
#include "pd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int drop(void *ctx, const uint8_t *cmd, size_t len)
{
    (void)ctx;
    (void)cmd;
    (void)len;
    return 0;
}

static void check_map(const struct pd *pd)
{
    for (size_t i = 0; i < pd->n_regions; i++) {
        const struct pd__region *r = pd->by_key[i];
        if (pd__region_find(pd, r->id) != r)
            abort();
        if (i + 1 < pd->n_regions) {
            const struct pd__region *n = pd->by_key[i + 1];
            /* Sorted and not overlapping: r ends at or before n starts. */
            if (r->end_len == 0 ||
                pd__keycmp(r->end, r->end_len, n->start, n->start_len) > 0)
                abort();
        }
        if (i > 0 && pd->by_id[i - 1]->id >= pd->by_id[i]->id)
            abort();
    }
    for (size_t i = 0; i < pd->n_stores; i++) {
        const struct pd__store *s = pd->stores[i];
        if (s->state != PD_STORE_TOMBSTONE &&
            (s->version < pd->cluster_version ||
             s->region_version < pd->cluster_region_version))
            abort();
    }
}

/* A snapshot of pd restores into a fresh replica with the same stores and
 * cluster versions. */
static void check_snapshot(const struct pd *pd)
{
    uint8_t *snap = NULL;
    size_t len = 0;
    struct pd_storage st = {NULL, drop};
    struct pd *fresh = NULL;
    if (pd_snapshot(pd, &snap, &len) != 0 || pd_create(NULL, &st, &fresh) != 0)
        abort();
    if (pd_restore(fresh, snap, len) != 0 ||
        fresh->cluster_version != pd->cluster_version ||
        fresh->cluster_region_version != pd->cluster_region_version ||
        fresh->n_stores != pd->n_stores)
        abort();
    for (size_t i = 0; i < pd->n_stores; i++)
        if (fresh->stores[i]->version != pd->stores[i]->version ||
            fresh->stores[i]->region_version != pd->stores[i]->region_version)
            abort();
    pd_free(snap);
    pd_destroy(fresh);
}

static const uint32_t versions[] = {0, 9000, 10000, 33000};

/* Structured mode: a reader of the fuzzer's bytes. */
struct gen {
    const uint8_t *p; /* input */
    size_t n;         /* bytes left */
};

static uint8_t g8(struct gen *g)
{
    if (g->n == 0)
        return 0;
    g->n--;
    return *g->p++;
}

static const char *const keys[] = {"", "a", "b", "c", "d", "e", "f"};

static void generated(struct pd *pd, struct gen *g)
{
    static const char *const labels[] = {"zone", "host"};
    while (g->n > 0) {
        struct pd__cmd c;
        memset(&c, 0, sizeof(c));
        c.type = (uint8_t)(g8(g) % 11 + 1);
        c.u = g8(g);
        if (c.type >= PD__CMD_CLUSTER_VERSION)
            c.u = versions[c.u % 4];
        c.now = g8(g);
        c.expire = g8(g);
        c.store.id = g8(g) % 5 + 1;
        c.store.address.p = (const uint8_t *)"s:1";
        c.store.address.n = 3;
        c.store.state = (uint8_t)(g8(g) % 3);
        c.store.version = versions[g8(g) % 4];
        c.store.region_version = versions[g8(g) % 4];
        c.store.n_labels = g8(g) % 3;
        for (uint32_t i = 0; i < c.store.n_labels; i++) {
            c.store.lkey[i].p = (const uint8_t *)labels[i];
            c.store.lkey[i].n = strlen(labels[i]);
            c.store.lval[i].p = (const uint8_t *)keys[g8(g) % 7];
            c.store.lval[i].n = strlen((const char *)c.store.lval[i].p);
        }
        size_t a = g8(g) % 7, b = g8(g) % 7;
        c.region.id = g8(g) % 8 + 1;
        c.region.start.p = (const uint8_t *)keys[a];
        c.region.start.n = a == 0 ? 0 : 1;
        c.region.end.p = (const uint8_t *)keys[b];
        c.region.end.n = b == 0 ? 0 : 1;
        c.region.conf_ver = g8(g) % 4;
        c.region.version = g8(g) % 6;
        c.region.n_peers = g8(g) % 4 + 1;
        for (uint32_t i = 0; i < c.region.n_peers; i++) {
            c.region.peers[i].id = i + 1;
            c.region.peers[i].store_id = i + 1;
            c.region.peers[i].learner = i > 0 && (g8(g) & 1);
        }
        c.region.leader_peer = 1;
        c.region.size = g8(g);
        c.service.p = (const uint8_t *)keys[g8(g) % 6 + 1];
        c.service.n = 1;
        c.cfg.max_replicas = g8(g) % 5 + 1;
        c.cfg.n_labels = g8(g) % 3;
        for (uint32_t i = 0; i < c.cfg.n_labels; i++) {
            c.cfg.labels[i].p = (const uint8_t *)labels[i];
            c.cfg.labels[i].n = strlen(labels[i]);
        }
        struct pd__buf buf = {0};
        pd__cmd_encode(&c, &buf);
        struct pd__cmd back;
        if (buf.err == 0 && pd__cmd_decode(buf.p, buf.n, &back) == 0) {
            (void)pd_apply(pd, buf.p, buf.n);
            check_map(pd);
        }
        pd__buf_free(&buf);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && (data[0] & 1)) {
        struct pd_storage st = {NULL, drop};
        struct pd *pd;
        if (pd_create(NULL, &st, &pd) != 0)
            return 0;
        struct gen g = {data + 1, size - 1};
        generated(pd, &g);
        check_snapshot(pd);
        pd_destroy(pd);
        return 0;
    }
    struct pd_storage st = {NULL, drop};
    struct pd *pd;
    if (pd_create(NULL, &st, &pd) != 0)
        return 0;
    size_t off = 0;
    while (off + 2 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        const uint8_t *cmd = data + off;
        off += len;
        struct pd__cmd c;
        if (pd__cmd_decode(cmd, len, &c) == 0) {
            struct pd__buf b = {0};
            pd__cmd_encode(&c, &b);
            if (b.err == 0 && (b.n != len || memcmp(b.p, cmd, len) != 0))
                abort(); /* decoding is canonical */
            pd__buf_free(&b);
        }
        (void)pd_apply(pd, cmd, len);
        check_map(pd);
    }
    pd_destroy(pd);
    return 0;
}

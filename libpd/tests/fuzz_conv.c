/* fuzz_conv.c: libFuzzer target for what pdd does with a request: decode a
 * pd.proto message (nanopb), convert it with pd_pb_*_in and hand it to a
 * bootstrapped leader replica (bootstrap, put store, store and region
 * heartbeats, report split), committing what it proposes; then convert
 * the map back out (pd_pb_*_out). Input: a sequence of (type byte, 2-byte
 * big-endian length, message). Nothing may crash or leak, and every
 * region the map holds must convert out and back in unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "pd.h"
#include "pd.pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void commit(struct pd_memlog *log, struct pd *pd, size_t *next)
{
    if (pd_memlog_apply(log, pd, next) != 0)
        abort();
}

static void region_back_and_forth(const struct pd_region_info *ri)
{
    pd_RegionInfo out;
    if (pd_pb_region_info_out(ri, &out) != 0)
        return; /* out of memory: nothing allocated */
    struct pd_region_info back;
    char err[128];
    if (pd_pb_region_info_in(&out, &back, err, sizeof(err)) != 0)
        abort(); /* the map only holds valid regions */
    if (back.region.id != ri->region.id ||
        back.region.start_len != ri->region.start_len ||
        back.region.end_len != ri->region.end_len ||
        back.region.n_peers != ri->region.n_peers ||
        (ri->region.start_len &&
         memcmp(back.region.start_key, ri->region.start_key,
                ri->region.start_len) != 0) ||
        (ri->region.end_len && memcmp(back.region.end_key, ri->region.end_key,
                                      ri->region.end_len) != 0))
        abort();
    pb_release(pd_RegionInfo_fields, &out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pd_memlog *log = NULL;
    struct pd *pd = NULL;
    size_t next = 0;
    if (pd_memlog_create(&log) != 0)
        return 0;
    struct pd_storage st = pd_memlog_storage(log);
    if (pd_create(NULL, &st, &pd) != 0)
        goto out;
    if (pd_become_leader(pd, 1000000, 0) != 0)
        abort();
    commit(log, pd, &next);
    uint64_t mono = 1;
    size_t off = 0;
    char err[256];
    /* At most 16 messages: longer inputs add time, not reach. */
    for (int msgs = 0; off + 3 <= size && msgs < 16; msgs++) {
        uint8_t type = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        pb_istream_t is = pb_istream_from_buffer(data + off, len);
        off += len;
        mono += 10;
        switch (type % 5) {
        case 0: {
            pd_BootstrapRequest m = {0};
            struct pd_store s;
            struct pd_region r;
            if (pb_decode(&is, pd_BootstrapRequest_fields, &m) &&
                pd_pb_store_in(&m.store, &s, err, sizeof(err)) == 0 &&
                pd_pb_region_in(&m.region, &r, err, sizeof(err)) == 0)
                pd_bootstrap(pd, m.cluster_id ? m.cluster_id : 1, &s, &r);
            pb_release(pd_BootstrapRequest_fields, &m);
            break;
        }
        case 1: {
            pd_PutStoreRequest m = {0};
            struct pd_store s;
            if (pb_decode(&is, pd_PutStoreRequest_fields, &m) &&
                pd_pb_store_in(&m.store, &s, err, sizeof(err)) == 0)
                pd_store_put(pd, &s);
            pb_release(pd_PutStoreRequest_fields, &m);
            break;
        }
        case 2: {
            pd_StoreHeartbeatRequest m = {0};
            struct pd_store_stats s;
            if (pb_decode(&is, pd_StoreHeartbeatRequest_fields, &m) &&
                pd_pb_stats_in(&m.stats, &s, err, sizeof(err)) == 0)
                pd_store_heartbeat(pd, mono, m.store_id, &s);
            pb_release(pd_StoreHeartbeatRequest_fields, &m);
            break;
        }
        case 3: {
            pd_RegionHeartbeatRequest m = {0};
            struct pd_region_info ri;
            struct pd_step step;
            if (pb_decode(&is, pd_RegionHeartbeatRequest_fields, &m) &&
                pd_pb_region_info_in(&m.region, &ri, err, sizeof(err)) == 0) {
                pd_region_heartbeat(pd, mono, &ri, &step);
                pd_RegionHeartbeatResponse resp = {.has_step = true};
                pd_pb_step_out(&step, &resp.step);
            }
            pb_release(pd_RegionHeartbeatRequest_fields, &m);
            break;
        }
        default: {
            pd_ReportSplitRequest m = {0};
            struct pd_region_info l, r;
            if (pb_decode(&is, pd_ReportSplitRequest_fields, &m) &&
                pd_pb_region_info_in(&m.left, &l, err, sizeof(err)) == 0 &&
                pd_pb_region_info_in(&m.right, &r, err, sizeof(err)) == 0) {
                pd_region_heartbeat(pd, mono, &l, NULL);
                pd_region_heartbeat(pd, mono, &r, NULL);
            }
            pb_release(pd_ReportSplitRequest_fields, &m);
            break;
        }
        }
        commit(log, pd, &next);
    }
    /* Everything the replica holds converts out and back. */
    for (size_t i = 0; i < pd_store_count(pd); i++) {
        struct pd_store_info si;
        pd_StoreInfo out;
        if (pd_store_at(pd, mono, i, &si) == 0 &&
            pd_pb_store_info_out(&si, &out) == 0) {
            struct pd_store s;
            if (pd_pb_store_in(&out.store, &s, err, sizeof(err)) != 0)
                abort();
            pb_release(pd_StoreInfo_fields, &out);
        }
    }
    struct pd_region_info rs[64];
    size_t n = 0;
    if (pd_region_scan(pd, NULL, 0, NULL, 0, 64, rs, &n) == 0)
        for (size_t i = 0; i < n; i++)
            region_back_and_forth(&rs[i]);
out:
    pd_destroy(pd);
    pd_memlog_destroy(log);
    return 0;
}

/* fuzz_proto.c: libFuzzer target for pd.proto's decoders as generated with
 * proto/pd.options (decoder-allocated fields, the Raft blob) on Debian's
 * nanopb runtime: the first byte picks a message, the rest is decoded;
 * what decodes must encode, decode again to the same encoding, and release
 * without leaks (ASan). DESIGN.md, "Service".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "pd.h"
#include "pd.pb.h"
#include "rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const pb_msgdesc_t *const msgs[] = {
    pd_GetMembersRequest_fields, pd_GetMembersResponse_fields,
    pd_TsoRequest_fields, pd_AllocIDRequest_fields,
    pd_BootstrapRequest_fields, pd_PutStoreRequest_fields,
    pd_GetStoreResponse_fields, pd_GetAllStoresResponse_fields,
    pd_StoreHeartbeatRequest_fields, pd_RegionHeartbeatRequest_fields,
    pd_RegionHeartbeatResponse_fields, pd_GetRegionRequest_fields,
    pd_GetRegionResponse_fields, pd_ScanRegionsRequest_fields,
    pd_ScanRegionsResponse_fields, pd_AskSplitResponse_fields,
    pd_ReportSplitRequest_fields, pd_UpdateServiceSafePointRequest_fields,
    pd_AddOperatorRequest_fields, pd_GetOperatorsResponse_fields,
    pd_ListSchedulersResponse_fields, pd_GetConfigResponse_fields,
    pd_SetConfigRequest_fields, pd_RaftRequest_fields,
};
#define N_MSGS (sizeof(msgs) / sizeof(msgs[0]))

/* Large enough for any of the structs above. */
union any
{
    pd_GetMembersResponse a;
    pd_BootstrapRequest b;
    pd_GetAllStoresResponse c;
    pd_RegionHeartbeatRequest d;
    pd_ReportSplitRequest e;
    pd_SetConfigRequest f;
    pd_RaftRequest g;
    pd_GetOperatorsResponse h;
    pd_AddOperatorRequest i;
    pd_GetConfigResponse j;
};

static uint8_t *encode(const pb_msgdesc_t *f, const void *m, size_t *len)
{
    if (!pb_get_encoded_size(len, f, m))
        abort();
    uint8_t *buf = malloc(*len + 1);
    pb_ostream_t os = pb_ostream_from_buffer(buf, *len);
    if (!buf || !pb_encode(&os, f, m) || os.bytes_written != *len)
        abort();
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const pb_msgdesc_t *f = msgs[data[0] % N_MSGS];
    union any m1, m2;
    memset(&m1, 0, sizeof(m1));
    pb_istream_t is = pb_istream_from_buffer(data + 1, size - 1);
    if (!pb_decode(&is, f, &m1)) {
        rpc_msg_release(f, &m1);
        return 0;
    }
    size_t l1, l2;
    uint8_t *b1 = encode(f, &m1, &l1);
    memset(&m2, 0, sizeof(m2));
    is = pb_istream_from_buffer(b1, l1);
    if (!pb_decode(&is, f, &m2))
        abort();
    uint8_t *b2 = encode(f, &m2, &l2);
    if (l1 != l2 || memcmp(b1, b2, l1) != 0)
        abort();
    free(b1);
    free(b2);
    rpc_msg_release(f, &m1);
    rpc_msg_release(f, &m2);
    return 0;
}

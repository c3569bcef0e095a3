/* fuzz_txnresp.c: libFuzzer target for the cluster transport's decoders:
 * any bytes decoded as kvd's kv.TxnResponse (as librpc would) and made
 * into a libmvcc result (region__txnresp_result): a region error must
 * come with its code, the result must hold what the reply listed; and the
 * same bytes as a kv.LocateResponse (region__locresp_result).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pb_decode.h>

#include "client_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kv_TxnResponse r;
    memset(&r, 0, sizeof r);
    pb_istream_t is = pb_istream_from_buffer(data, size);
    if (!pb_decode(&is, kv_TxnResponse_fields, &r)) {
        rpc_msg_release(kv_TxnResponse_fields, &r); /* spill too */
        return 0;
    }
    struct mvcc_result res;
    struct region_err err;
    mvcc_result_init(&res);
    int rc = region__txnresp_result(&r, &res, &err);
    /* (a reply may carry -ENOMEM or REGION_EDECODE as its own code) */
    if (rc == -12 && r.code != -12) /* -ENOMEM: nothing may be left */
        if (res.npairs || res.nlocks || res.key)
            abort();
    if (err.code != 0 && rc == 0)
        abort();
    if (rc == REGION_EDECODE && r.code != REGION_EDECODE &&
        (res.npairs || res.nlocks || res.key))
        abort(); /* pairs and spill disagree: nothing may be left */
    if (rc != -12 && rc != REGION_EDECODE && err.code == 0 &&
        (res.npairs != r.pairs_count || res.nlocks != r.locks_count))
        abort();
    mvcc_result_reset(&res);
    rpc_msg_release(kv_TxnResponse_fields, &r); /* spill too */

    kv_LocateResponse lr;
    memset(&lr, 0, sizeof lr);
    is = pb_istream_from_buffer(data, size);
    if (pb_decode(&is, kv_LocateResponse_fields, &lr)) {
        struct region_desc d;
        uint64_t leader = 0;
        if (region__locresp_result(&lr, &d, &leader) == 0 &&
            (d.id == 0 || d.n_stores > REGION_MAX_PEERS ||
             d.start_len > REGION_MAX_BOUND || d.end_len > REGION_MAX_BOUND))
            abort();
    }
    pb_release(kv_LocateResponse_fields, &lr);
    return 0;
}

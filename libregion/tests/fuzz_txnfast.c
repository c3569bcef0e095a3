/* fuzz_txnfast.c: libFuzzer target, differential: any bytes read by the
 * hand decoder of kv.TxnResponse (region__txnresp_decode) and, when it
 * takes them, by nanopb and region__txnresp_result as before: both must
 * give the same code, result and `more`, byte for byte. Bytes it leaves
 * to nanopb must leave the result empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pb_decode.h>

#include "client_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_bytes(const uint8_t *a, size_t al, const uint8_t *b,
                       size_t bl)
{
    if ((a == NULL) != (b == NULL) || al != bl)
        return false;
    return al == 0 || memcmp(a, b, al) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mvcc_result fast, slow;
    struct region_err fe, se;
    bool more = true;
    mvcc_result_init(&fast);
    mvcc_result_init(&slow);
    int frc = region__txnresp_decode(data, size, &fast, &fe, &more);
    if (frc == 1) { /* nanopb's */
        if (fast.npairs || fast.pairs || fast.nlocks || fast.key || more ||
            fe.code)
            abort();
        return 0;
    }
    if (frc == -12) { /* -ENOMEM: nothing may be left */
        if (fast.npairs || fast.pairs)
            abort();
        return 0;
    }
    kv_TxnResponse r;
    memset(&r, 0, sizeof r);
    pb_istream_t is = pb_istream_from_buffer(data, size);
    if (!pb_decode(&is, kv_TxnResponse_fields, &r))
        abort(); /* taken by hand, refused by nanopb */
    int src = region__txnresp_result(&r, &slow, &se);
    if (src != frc || r.more != more || se.code != 0 || fe.code != 0 ||
        slow.npairs != fast.npairs || slow.nlocks != 0 || fast.nlocks ||
        slow.key || fast.key ||
        slow.commit_ts != fast.commit_ts ||
        slow.min_commit_ts != fast.min_commit_ts ||
        slow.status != fast.status || slow.action != fast.action ||
        slow.lock_ttl != fast.lock_ttl ||
        slow.conflict_start_ts != fast.conflict_start_ts ||
        slow.conflict_commit_ts != fast.conflict_commit_ts ||
        strcmp(slow.errmsg, fast.errmsg) != 0)
        abort();
    for (size_t i = 0; i < fast.npairs; i++) {
        const struct mvcc_kvpair *a = &fast.pairs[i], *b = &slow.pairs[i];
        if (!same_bytes(a->key, a->key_len, b->key, b->key_len) ||
            !same_bytes(a->value, a->value_len, b->value, b->value_len))
            abort();
    }
    mvcc_result_reset(&fast);
    mvcc_result_reset(&slow);
    rpc_msg_release(kv_TxnResponse_fields, &r); /* spill too */
    return 0;
}

/* fuzz_blob.c: libFuzzer target for large payloads (librpc/DESIGN.md,
 * "Large payloads"): any bytes are decoded as rpc.BlobMsg through librpc's
 * payload decoder (struct rpc_blob fields); what decodes must re-encode and
 * decode to the same blobs, and everything is released (ASan sees leaks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pb_encode.h>

#include "rpc_int.h"
#include "rpc_test.pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_blob(const struct rpc_blob *a, const struct rpc_blob *b)
{
    return a->len == b->len &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rpc_BlobMsg m;
    memset(&m, 0xa5, sizeof m); /* the decoder must not trust old contents */
    if (rpc__payload_decode(data, size, rpc_BlobMsg_fields, &m) != 0)
        return 0;
    if ((m.blob.len == 0) != (m.blob.data == NULL) ||
        (m.tail.len == 0) != (m.tail.data == NULL) || m.blob.len > size ||
        m.tail.len > size)
        abort();
    size_t n = 0;
    if (!pb_get_encoded_size(&n, rpc_BlobMsg_fields, &m))
        abort();
    uint8_t *buf = malloc(n == 0 ? 1 : n);
    if (buf == NULL)
        abort();
    pb_ostream_t os = pb_ostream_from_buffer(buf, n);
    if (!pb_encode(&os, rpc_BlobMsg_fields, &m) || os.bytes_written != n)
        abort();
    rpc_BlobMsg again;
    memset(&again, 0x5a, sizeof again);
    if (rpc__payload_decode(buf, n, rpc_BlobMsg_fields, &again) != 0)
        abort();
    if (!same_blob(&m.blob, &again.blob) || !same_blob(&m.tail, &again.tail) ||
        m.seq != again.seq || m.gen != again.gen)
        abort();
    rpc__payload_release(rpc_BlobMsg_fields, &again);
    rpc__payload_release(rpc_BlobMsg_fields, &m);
    free(buf);
    return 0;
}

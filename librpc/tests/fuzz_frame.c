/* fuzz_frame.c: libFuzzer target for the frame decoder (librpc/DESIGN.md,
 * "Wire format"): any bytes go through the header decoder at two size
 * limits, and a payload that follows a valid header is decoded as each
 * echo message; a decoded header must re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_echo.pb.h"
#include "rpc_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rpc__frame f;
    int rc = rpc__frame_decode(data, size, 64, &f);
    if (rc == 1 && size >= RPC_HEADER_SIZE)
        abort(); /* "need more" only for short input */
    rc = rpc__frame_decode(data, size, RPC_DEFAULT_MAX_FRAME, &f);
    if (rc != 0)
        return 0;
    uint8_t again[RPC_HEADER_SIZE];
    rpc__frame_encode(&f, again);
    if (memcmp(again, data, RPC_HEADER_SIZE) != 0)
        abort();
    const uint8_t *payload = data + RPC_HEADER_SIZE;
    size_t avail = size - RPC_HEADER_SIZE;
    size_t len = f.length < avail ? f.length : avail;
    rpc_EchoRequest req;
    if (rpc__payload_decode(payload, len, rpc_EchoRequest_fields, &req) == 0)
        rpc__payload_release(rpc_EchoRequest_fields, &req);
    rpc_EchoResponse resp;
    if (rpc__payload_decode(payload, len, rpc_EchoResponse_fields, &resp) == 0)
        rpc__payload_release(rpc_EchoResponse_fields, &resp);
    rpc_StatusResponse st;
    if (rpc__payload_decode(payload, len, rpc_StatusResponse_fields, &st) == 0)
        rpc__payload_release(rpc_StatusResponse_fields, &st);
    return 0;
}

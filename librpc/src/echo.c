/* echo.c: librpc's built-in echo service (proto/rpc_echo.proto): unary
 * echo and a streamed echo, used by tests, the benchmark and the daemons'
 * liveness checks. librpc/DESIGN.md, "Method ids".
 */
#include "rpc_echo.pb.h"
#include "rpc_int.h"

static void echo_handler(struct rpc_call *call, const void *req, void *ud)
{
    const rpc_EchoRequest *in = req;
    (void)ud;
    rpc_EchoResponse out = {.payload = in->payload, .seq = 0};
    rpc_call_reply(call, &out);
}

static void echo_stream_handler(struct rpc_call *call, const void *req,
                                void *ud)
{
    const rpc_EchoRequest *in = req;
    (void)ud;
    for (uint32_t i = 0; i < in->count; i++) {
        rpc_EchoResponse out = {.payload = in->payload, .seq = i};
        if (rpc_call_stream_send(call, &out) != 0)
            break;
    }
    rpc_call_stream_end(call, 0);
}

int rpc_server_add_echo(struct rpc_server *srv)
{
    struct rpc_method echo = {
        .id = RPC_METHOD_ECHO,
        .name = "echo",
        .req_fields = rpc_EchoRequest_fields,
        .req_size = sizeof(rpc_EchoRequest),
        .resp_fields = rpc_EchoResponse_fields,
        .handler = echo_handler,
    };
    int rc = rpc_server_register(srv, &echo);
    if (rc != 0)
        return rc;
    struct rpc_method stream = echo;
    stream.id = RPC_METHOD_ECHO_STREAM;
    stream.name = "echo_stream";
    stream.handler = echo_stream_handler;
    return rpc_server_register(srv, &stream);
}

/* echo.c: librpc's built-in service (proto/rpc_echo.proto): unary echo,
 * a streamed echo and the status probe, used by tests, the benchmark and
 * the daemons' liveness checks. librpc/DESIGN.md, "Method ids".
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "rpc_echo.pb.h"
#include "rpc_int.h"

#define RPC_ECHO_STREAM_MAX_COUNT 10000u
#define RPC_ECHO_STREAM_MAX_BYTES (4u << 20)

static void echo_handler(struct rpc_call *call, const void *req, void *ud)
{
    const rpc_EchoRequest *in = req;
    (void)ud;
    rpc_EchoResponse out = {.payload = in->payload, .seq = 0};
    rpc_call_reply(call, &out);
}

static void echo_stream_handler(struct rpc_call *call,
                                const void *req,
                                void *ud)
{
    const rpc_EchoRequest *in = req;
    (void)ud;
    /* The whole stream is queued at once: bound what a peer can ask for. */
    uint64_t size = in->payload != NULL ? in->payload->size : 0;
    if (in->count > RPC_ECHO_STREAM_MAX_COUNT ||
        (uint64_t)in->count * (size + 16) > RPC_ECHO_STREAM_MAX_BYTES) {
        rpc_call_fail(call, -E2BIG, "echo stream: count x payload too large");
        return;
    }
    for (uint32_t i = 0; i < in->count; i++) {
        rpc_EchoResponse out = {.payload = in->payload, .seq = i};
        if (rpc_call_stream_send(call, &out) != 0)
            break;
    }
    rpc_call_stream_end(call, 0);
}

/* Bidirectional echo: every message comes back as one stream message,
 * seq counting the messages of the stream (0 for the opening one); the
 * client's close ends the stream. */
static void echo_bidi_cancel(struct rpc_call *call, void *ud)
{
    (void)ud;
    rpc_call_stream_end(call, RPC_ECANCELED);
}

static void echo_bidi_handler(struct rpc_call *call, const void *req, void *ud)
{
    const rpc_EchoRequest *in = req;
    (void)ud;
    rpc_EchoResponse out = {.payload = in->payload, .seq = 0};
    rpc_call_set_ud(call, (void *)(uintptr_t)1);
    rpc_call_on_cancel(call, echo_bidi_cancel, NULL);
    rpc_call_stream_send(call, &out);
}

static void echo_bidi_recv(struct rpc_call *call, const void *msg, void *ud)
{
    const rpc_EchoRequest *in = msg;
    (void)ud;
    if (in == NULL) {
        rpc_call_stream_end(call, 0);
        return;
    }
    uintptr_t seq = (uintptr_t)rpc_call_get_ud(call);
    rpc_call_set_ud(call, (void *)(seq + 1));
    rpc_EchoResponse out = {.payload = in->payload, .seq = (uint32_t)seq};
    rpc_call_stream_send(call, &out);
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
    rc = rpc_server_register(srv, &stream);
    if (rc != 0)
        return rc;
    struct rpc_method bidi = echo;
    bidi.id = RPC_METHOD_ECHO_BIDI;
    bidi.name = "echo_bidi";
    bidi.handler = echo_bidi_handler;
    return rpc_server_register_bidi(srv, &bidi, echo_bidi_recv);
}

struct rpc__status
{
    char *role;                       /* copied */
    char *version;                    /* copied */
    uint64_t start_ms;                /* monotonic ms at registration */
    const char *(*detail_fn)(void *); /* detail text, or NULL */
    void *detail_ud;                  /* passed to detail_fn */
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void rpc__status_free(struct rpc__status *st)
{
    if (st == NULL)
        return;
    rpc__free(st->role);
    rpc__free(st->version);
    rpc__free(st);
}

static void status_handler(struct rpc_call *call, const void *req, void *ud)
{
    const struct rpc__status *st = ud;
    (void)req;
    const char *detail =
        st->detail_fn != NULL ? st->detail_fn(st->detail_ud) : NULL;
    /* Borrowed strings: the reply is encoded before rpc_call_reply
     * returns, and the generated struct only reads them. */
    rpc_StatusResponse out = {
        .role = st->role,
        .version = st->version,
        .uptime_ms = mono_ms() - st->start_ms,
        .detail = (char *)(uintptr_t)(detail != NULL ? detail : ""),
    };
    rpc_call_reply(call, &out);
}

int rpc_server_add_status(struct rpc_server *srv,
                          const char *role,
                          const char *version,
                          const char *(*detail_fn)(void *ud),
                          void *ud)
{
    if (srv == NULL || role == NULL || version == NULL)
        return RPC_ECONFIG;
    struct rpc__status *st = rpc__calloc(1, sizeof *st);
    if (st == NULL)
        return -ENOMEM;
    st->role = rpc__strdup(role);
    st->version = rpc__strdup(version);
    st->start_ms = mono_ms();
    st->detail_fn = detail_fn;
    st->detail_ud = ud;
    if (st->role == NULL || st->version == NULL) {
        rpc__status_free(st);
        return -ENOMEM;
    }
    struct rpc_method m = {
        .id = RPC_METHOD_STATUS,
        .name = "status",
        .req_fields = rpc_StatusRequest_fields,
        .req_size = sizeof(rpc_StatusRequest),
        .resp_fields = rpc_StatusResponse_fields,
        .handler = status_handler,
        .ud = st,
    };
    int rc = rpc_server_register(srv, &m);
    if (rc != 0) {
        rpc__status_free(st);
        return rc;
    }
    rpc__server_set_status(srv, st);
    return 0;
}

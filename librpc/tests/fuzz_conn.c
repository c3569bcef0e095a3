/* fuzz_conn.c: libFuzzer target for a server connection (librpc/DESIGN.md,
 * "Bad input"): any bytes, then EOF, go through one end of a socketpair
 * served by a real rpc_server (echo, stream, status and a method answered
 * on a later loop turn), either as they are or (first byte even) turned
 * into well-formed frames. The server must close the connection within a
 * bounded number of loop turns and never crash or leak.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc_echo.pb.h"
#include "rpc_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *base;
static struct rpc_server *srv;

static void reply_later_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    rpc_EchoResponse out = rpc_EchoResponse_init_zero;
    rpc_call_reply(arg, &out); /* the caller may be gone: freed anyway */
}

static void later_handler(struct rpc_call *call, const void *req, void *ud)
{
    (void)req;
    (void)ud;
    struct timeval zero = {0, 0};
    if (event_base_once(base, -1, EV_TIMEOUT, reply_later_cb, call, &zero) !=
        0)
        rpc_call_fail(call, -ENOMEM, NULL);
}

/* A stream of at most 8 messages: the built-in one may send 10000, which
 * would make single inputs slow without finding anything new. */
static void short_stream_handler(struct rpc_call *call,
                                 const void *req,
                                 void *ud)
{
    const rpc_EchoRequest *in = req;
    (void)ud;
    for (uint32_t i = 0; i < (in->count & 7); i++) {
        rpc_EchoResponse out = {.payload = in->payload, .seq = i};
        if (rpc_call_stream_send(call, &out) != 0)
            break;
    }
    rpc_call_stream_end(call, 0);
}

static void init(void)
{
    signal(SIGPIPE, SIG_IGN);
    base = event_base_new();
    struct rpc_server_options o = {.host = "127.0.0.1",
                                   .max_frame = 1 << 16,
                                   .max_in_flight = 4,
                                   .max_out_buffered = 1 << 16,
                                   .stall_timeout_ms = 50};
    char err[256];
    if (base == NULL || rpc_server_create(base, &o, &srv, err, sizeof err))
        abort();
    struct rpc_method later = {
        .id = 0x00ff0001u,
        .name = "later",
        .req_fields = rpc_EchoRequest_fields,
        .req_size = sizeof(rpc_EchoRequest),
        .resp_fields = rpc_EchoResponse_fields,
        .handler = later_handler,
    };
    struct rpc_method stream = later;
    stream.id = RPC_METHOD_ECHO_STREAM;
    stream.handler = short_stream_handler;
    if (rpc_server_add_echo(srv) != 0 ||
        rpc_server_add_status(srv, "fuzz", "0", NULL, NULL) != 0 ||
        rpc_server_register(srv, &later) != 0 ||
        rpc_server_register(srv, &stream) != 0)
        abort();
}

/* Structured mode: the input is a list of records, each made into a
 * well-formed header (so the fuzzer explores dispatch, not only the magic):
 *   u8 kind   low 3 bits and bit 7 pick the flags (request, cancel,
 *             reply, stream, end, goaway, or 0x40 = invalid; with bit 7 the
 *             bidirectional stream kinds send, close-send, window, or 0x23
 *             = invalid); bit 3: reuse the last id
 *   u8 method index into the known methods, or any id when >= 6
 *   u8 len    payload bytes taken from the input that follow
 * (at most 32 records; raw inputs are cut at 2 KiB).
 */
static size_t build(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    static const uint32_t methods[] = {RPC_METHOD_ECHO, RPC_METHOD_ECHO_STREAM,
                                       RPC_METHOD_STATUS, 0x00ff0001u,
                                       0x7777u, RPC_METHOD_ECHO_BIDI};
    static const uint8_t kinds[] = {
        RPC_F_REQUEST, RPC_F_CANCEL,     RPC_F_REPLY,  RPC_F_STREAM,
        RPC_F_END,     RPC_F_GOAWAY,     RPC_F_REQUEST, 0x40,
        RPC_F_SEND,    RPC_F_CLOSE_SEND, RPC_F_WINDOW, RPC_F_SEND,
        RPC_F_SEND,    RPC_F_SEND,       RPC_F_REQUEST, 0x23};
    size_t i = 1, o = 0;
    uint32_t id = 0;
    int frames = 0;
    while (i + 3 <= n && o + RPC_HEADER_SIZE + 255 <= cap && frames++ < 32) {
        uint8_t kind = in[i], m = in[i + 1], len = in[i + 2];
        i += 3;
        if (len > n - i)
            len = (uint8_t)(n - i);
        if (!(kind & 8))
            id++;
        uint8_t fl = kinds[(kind & 7) | (kind >> 7) << 3];
        bool bare = fl == RPC_F_CANCEL || fl == RPC_F_CLOSE_SEND ||
                    fl == RPC_F_WINDOW;
        struct rpc__frame f = {
            .flags = fl,
            .method = m < 6 ? methods[m] : (uint32_t)m << 8,
            .id = id,
            .length = bare ? 0 : len,
            .aux = fl == RPC_F_SEND || fl == RPC_F_CLOSE_SEND
                       ? 0
                       : (int32_t)(kind >> 4 & 7) * 10,
        };
        rpc__frame_encode(&f, out + o);
        o += RPC_HEADER_SIZE;
        memcpy(out + o, in + i, f.length);
        o += f.length;
        i += len;
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frames[1 << 17];
    if (base == NULL)
        init();
    if (size > 2048)
        size = 2048; /* bounded work per input keeps `make test` quick */
    if (size > 0 && (data[0] & 1) == 0) {
        size = build(data, size, frames, sizeof frames);
        data = frames;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
        abort();
    if (rpc__server_adopt(srv, sv[0], "fuzz") != 0)
        abort();
    size_t off = 0;
    bool shut = false;
    char sink[65536];
    /* Feed the bytes, then EOF, while the server runs and we read (and
     * drop) whatever it answers. */
    for (int turn = 0; turn < 100000; turn++) {
        if (off < size) {
            ssize_t n = send(sv[1], data + off, size - off, MSG_NOSIGNAL);
            if (n > 0)
                off += (size_t)n;
            else if (n < 0 && errno != EAGAIN)
                off = size; /* the server closed: stop feeding */
        }
        if (off == size && !shut) {
            shutdown(sv[1], SHUT_WR);
            shut = true;
        }
        event_base_loop(base, EVLOOP_NONBLOCK);
        while (recv(sv[1], sink, sizeof sink, 0) > 0)
            ;
        if (shut && rpc_server_connection_count(srv) == 0)
            break;
    }
    if (rpc_server_connection_count(srv) != 0)
        abort(); /* the server kept a connection whose peer sent EOF */
    close(sv[1]);
    event_base_loop(base, EVLOOP_NONBLOCK); /* replies still due */
    return 0;
}

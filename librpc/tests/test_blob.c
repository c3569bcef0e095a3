/* test_blob.c: large payloads (struct rpc_blob FT_CALLBACK fields, see
 * librpc/DESIGN.md "Large payloads"): blobs from 0 bytes to 8 MiB round
 * trip through request, reply and stream over a loopback connection; the
 * frame limit and allocation failures give clean errors and no leak.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "rpc_int.h"
#include "rpc_test.pb.h"
#include "rpcutil.h"

#define M_ECHO 0x00ff0001u   /* BlobMsg -> the same blobs back (seq + 1) */
#define M_STREAM 0x00ff0002u /* BlobMsg -> seq messages with its blobs */
#define M_GEN 0x00ff0003u    /* BlobMsg -> a generated blob of gen bytes,
                                as a reply (seq 0) or seq stream messages */
#define M_ENCODED 0x00ff0004u /* BlobMsg -> the echo, encoded by the
                                 handler (rpc_call_reply_encoded); seq 0:
                                 the empty message; seq 999: bad bytes */

/* ---- allocator hook: counts, and fails allocations of one size ---- */

static long allocs;     /* successful allocations */
static long frees;      /* frees of non-NULL pointers */
static size_t fail_len; /* allocations of exactly this size fail; 0 none */
static long failed;     /* allocations refused */

static void *hook_malloc(size_t n)
{
    if (fail_len != 0 && n == fail_len) {
        failed++;
        return NULL;
    }
    void *p = malloc(n);
    if (p != NULL)
        allocs++;
    return p;
}

static void *hook_realloc(void *p, size_t n)
{
    return realloc(p, n);
}

static void hook_free(void *p)
{
    frees++;
    free(p);
}

/* ---- payload pattern ---- */

static uint8_t *pattern(size_t len, unsigned salt)
{
    uint8_t *p = malloc(len == 0 ? 1 : len);
    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)((i * 131u + salt) ^ (i >> 13));
    return p;
}

static bool is_pattern(const struct rpc_blob *b, size_t len, unsigned salt)
{
    if (b->len != len || (len == 0) != (b->data == NULL))
        return false;
    for (size_t i = 0; i < len; i++)
        if (b->data[i] != (uint8_t)((i * 131u + salt) ^ (i >> 13)))
            return false;
    return true;
}

/* ---- server methods ---- */

static void echo_handler(struct rpc_call *call, const void *req, void *ud)
{
    const rpc_BlobMsg *in = req;
    (void)ud;
    rpc_BlobMsg out = {.seq = in->seq + 1, .blob = in->blob,
                       .tail = in->tail, .small = in->small};
    rpc_call_reply(call, &out);
}

static void stream_handler(struct rpc_call *call, const void *req, void *ud)
{
    const rpc_BlobMsg *in = req;
    (void)ud;
    for (uint32_t i = 0; i < in->seq; i++) {
        rpc_BlobMsg out = {.seq = i, .blob = in->blob, .tail = in->tail};
        if (rpc_call_stream_send(call, &out) != 0)
            break;
    }
    rpc_call_stream_end(call, 0);
}

static void gen_handler(struct rpc_call *call, const void *req, void *ud)
{
    const rpc_BlobMsg *in = req;
    (void)ud;
    uint8_t *p = pattern(in->gen, 7);
    rpc_BlobMsg out = {.blob = {.data = p, .len = in->gen}};
    if (in->seq == 0) {
        rpc_call_reply(call, &out);
    } else {
        for (uint32_t i = 0; i < in->seq; i++) {
            out.seq = i;
            if (rpc_call_stream_send(call, &out) != 0)
                break;
        }
        rpc_call_stream_end(call, 0);
    }
    free(p);
}

static void encoded_handler(struct rpc_call *call, const void *req, void *ud)
{
    const rpc_BlobMsg *in = req;
    (void)ud;
    if (in->seq == 0) {
        assert_int_equal(rpc_call_reply_encoded(call, NULL, 0), 0);
        return;
    }
    if (in->seq == 999) { /* field 1 as a length of 200 bytes, 2 there */
        static const uint8_t bad[] = {0x0a, 0xc8, 0x01, 'x', 'y'};
        assert_int_equal(rpc_call_reply_encoded(call, bad, sizeof bad), 0);
        return;
    }
    rpc_BlobMsg out = {.seq = in->seq + 1, .blob = in->blob,
                       .tail = in->tail};
    size_t n = 0;
    assert_true(pb_get_encoded_size(&n, rpc_BlobMsg_fields, &out));
    uint8_t *buf = malloc(n + 1);
    assert_non_null(buf);
    pb_ostream_t os = pb_ostream_from_buffer(buf, n);
    assert_true(pb_encode(&os, rpc_BlobMsg_fields, &out));
    assert_int_equal(rpc_call_reply_encoded(call, buf, n), 0);
    free(buf);
}

/* ---- fixture: server and client on one loop ---- */

static int accepted; /* connections the fixture's server accepted */

static void count_accepts(void *ud, int level, const char *msg)
{
    (void)ud;
    (void)level;
    if (strstr(msg, "librpc: accepted") != NULL)
        accepted++;
}

struct fx
{
    struct event_base *base; /* one loop */
    struct rpc_server *srv;  /* server on 127.0.0.1 */
    struct rpc_client *cli;  /* client of srv */
};

static void fx_init(struct fx *fx, size_t srv_max, size_t cli_max)
{
    signal(SIGPIPE, SIG_IGN);
    fx->base = event_base_new();
    assert_non_null(fx->base);
    struct rpc_server_options so = {.host = "127.0.0.1", .max_frame = srv_max,
                                    .log = count_accepts,
                                    .log_level = RPC_LOG_INFO};
    accepted = 0;
    char err[256];
    assert_int_equal(rpc_server_create(fx->base, &so, &fx->srv, err, sizeof err),
                     0);
    struct rpc_method m = {.id = M_ECHO, .name = "test.BlobEcho",
                           .req_fields = rpc_BlobMsg_fields,
                           .req_size = sizeof(rpc_BlobMsg),
                           .resp_fields = rpc_BlobMsg_fields,
                           .handler = echo_handler};
    assert_int_equal(rpc_server_register(fx->srv, &m), 0);
    m.id = M_STREAM;
    m.name = "test.BlobStream";
    m.handler = stream_handler;
    assert_int_equal(rpc_server_register(fx->srv, &m), 0);
    m.id = M_GEN;
    m.name = "test.BlobGen";
    m.handler = gen_handler;
    assert_int_equal(rpc_server_register(fx->srv, &m), 0);
    m.id = M_ENCODED;
    m.name = "test.BlobEncoded";
    m.handler = encoded_handler;
    assert_int_equal(rpc_server_register(fx->srv, &m), 0);
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = rpc_server_port(fx->srv),
                                    .max_frame = cli_max,
                                    .default_deadline_ms = 60000};
    assert_int_equal(rpc_client_create(fx->base, &co, &fx->cli), 0);
}

static void fx_fini(struct fx *fx)
{
    rpc_client_destroy(fx->cli);
    rpc_server_destroy(fx->srv);
    event_base_free(fx->base);
}

/* One call's outcome, with checks of every message against the request. */
struct res
{
    bool done;       /* done fired */
    int rc;          /* its code */
    char err[256];   /* its errmsg */
    size_t len;      /* expected blob length */
    unsigned salt;   /* expected blob pattern */
    size_t tail_len; /* expected tail length (salt + 1) */
    int msgs;        /* messages (reply or stream) seen */
    int good;        /* of which matched */
    bool small;      /* the reply must carry small = "abc" */
};

static void check_msg(struct res *r, const rpc_BlobMsg *m)
{
    r->msgs++;
    if (is_pattern(&m->blob, r->len, r->salt) &&
        is_pattern(&m->tail, r->tail_len, r->salt + 1))
        r->good++;
}

static void on_done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct res *r = ud;
    r->done = true;
    r->rc = rc;
    snprintf(r->err, sizeof r->err, "%s", errmsg);
    if (rc == 0 && resp != NULL) {
        const rpc_BlobMsg *m = resp;
        check_msg(r, m);
        if (r->small && (m->small == NULL || m->small->size != 3 ||
            memcmp(m->small->bytes, "abc", 3) != 0))
            r->good--;
    }
}

static void on_msg(const void *msg, void *ud)
{
    check_msg(ud, msg);
}

/* Starts cs and runs the loop until *done: 0, or rpc_client_call's
 * refusal (done never fires then). */
static int run_call(struct fx *fx, const struct rpc_call_spec *cs, bool *done)
{
    int rc = rpc_client_call(fx->cli, cs, NULL);
    if (rc != 0)
        return rc;
    assert_true(rpcutil_loop_until(fx->base, done));
    return 0;
}

static int call(struct fx *fx,
                uint32_t method,
                const rpc_BlobMsg *req,
                bool stream,
                struct res *r)
{
    struct rpc_call_spec cs = {.method = method,
                               .req_fields = rpc_BlobMsg_fields,
                               .req = req,
                               .resp_fields = rpc_BlobMsg_fields,
                               .resp_size = sizeof(rpc_BlobMsg),
                               .done = on_done,
                               .on_msg = stream ? on_msg : NULL,
                               .ud = r};
    return run_call(fx, &cs, &r->done);
}

/* Request, reply and stream carry blob (and a tail of a different size) of
 * each size; the small FT_POINTER field rides along. */
static void test_round_trip_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 65535, 65536, 1u << 20, 8u << 20};
    struct fx fx;
    fx_init(&fx, 0, 0);
    PB_BYTES_ARRAY_T(3) small = {3, {'a', 'b', 'c'}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i];
        size_t tail_len = len / 3;
        unsigned salt = (unsigned)i * 17u;
        uint8_t *a = pattern(len, salt);
        uint8_t *b = pattern(tail_len, salt + 1);
        rpc_BlobMsg req = {.seq = 41, .blob = {a, len},
                           .tail = {b, tail_len},
                           .small = (pb_bytes_array_t *)(void *)&small};
        struct res r = {.len = len, .salt = salt, .tail_len = tail_len,
                        .small = true};
        assert_int_equal(call(&fx, M_ECHO, &req, false, &r), 0);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.msgs, 1);
        assert_int_equal(r.good, 1);

        req.seq = 2;
        req.small = NULL;
        struct res s = {.len = len, .salt = salt, .tail_len = tail_len};
        assert_int_equal(call(&fx, M_STREAM, &req, true, &s), 0);
        assert_int_equal(s.rc, 0);
        assert_int_equal(s.msgs, 2);
        assert_int_equal(s.good, 2);
        free(a);
        free(b);
    }
    fx_fini(&fx);
}

/* A reply the handler encoded itself reaches the client as the message
 * its bytes encode: blobs of every size, the empty message as every field
 * at its default, and bytes that do not parse fail the call with
 * RPC_EDECODE (the connection stays usable). */
static void test_reply_encoded(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 100, 65536, 1u << 20};
    struct fx fx;
    fx_init(&fx, 0, 0);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i];
        unsigned salt = (unsigned)i * 5u + 3u;
        uint8_t *a = pattern(len, salt);
        uint8_t *b = pattern(len / 2, salt + 1);
        rpc_BlobMsg req = {.seq = 7, .blob = {a, len}, .tail = {b, len / 2}};
        struct res r = {.len = len, .salt = salt, .tail_len = len / 2};
        assert_int_equal(call(&fx, M_ENCODED, &req, false, &r), 0);
        assert_int_equal(r.rc, 0);
        assert_int_equal(r.msgs, 1);
        assert_int_equal(r.good, 1);
        free(a);
        free(b);
    }
    rpc_BlobMsg empty = {.seq = 0};
    struct res e = {.len = 0, .tail_len = 0};
    assert_int_equal(call(&fx, M_ENCODED, &empty, false, &e), 0);
    assert_int_equal(e.rc, 0);
    assert_int_equal(e.good, 1);
    rpc_BlobMsg bad = {.seq = 999};
    struct res d = {0};
    assert_int_equal(call(&fx, M_ENCODED, &bad, false, &d), 0);
    assert_int_equal(d.rc, RPC_EDECODE);
    assert_int_equal(d.msgs, 0);
    uint8_t *a = pattern(10, 1);
    rpc_BlobMsg again = {.seq = 1, .blob = {a, 10}};
    struct res g = {.len = 10, .salt = 1};
    assert_int_equal(call(&fx, M_ENCODED, &again, false, &g), 0);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.good, 1);
    free(a);
    fx_fini(&fx);
}

/* One raw call's outcome (done_raw). */
struct raw_res
{
    bool done;           /* done_raw fired */
    int rc;              /* its code */
    uint8_t bytes[64];   /* the reply's payload */
    size_t len;          /* its length */
    bool null_payload;   /* payload was NULL */
    char err[128];       /* errmsg */
};

static void on_done_raw(int rc, const uint8_t *payload, size_t len,
                        const char *errmsg, void *ud)
{
    struct raw_res *r = ud;
    r->done = true;
    r->rc = rc;
    r->null_payload = payload == NULL;
    r->len = len;
    if (payload != NULL && len <= sizeof r->bytes)
        memcpy(r->bytes, payload, len);
    snprintf(r->err, sizeof r->err, "%s", errmsg);
}

static int call_raw(struct fx *fx, uint32_t method, const void *req,
                    size_t len, struct raw_res *r)
{
    struct rpc_call_spec cs = {.method = method,
                               .req_encoded = req,
                               .req_len = len,
                               .done_raw = on_done_raw,
                               .ud = r};
    return run_call(fx, &cs, &r->done);
}

/* A request the caller encoded goes as its bytes, and done_raw gets the
 * reply's bytes undecoded (what nanopb wrote for the echo, which
 * rpc_msg_decode reads back; cut bytes do not decode); a failure
 * reaches done_raw with its code, no payload and the text; done and
 * done_raw together, or done_raw on a stream, are refused; an encoded
 * request over the frame limit is refused before it is sent. */
static void test_call_encoded(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 1u << 20, 1u << 20);
    static const uint8_t req[] = {0x08, 0x05, 0x12, 0x05,
                                  'h', 'e', 'l', 'l', 'o'};
    static const uint8_t want[] = {0x08, 0x06, 0x12, 0x05,
                                   'h', 'e', 'l', 'l', 'o'};
    struct raw_res r = {0};
    assert_int_equal(call_raw(&fx, M_ECHO, req, sizeof req, &r), 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.len, sizeof want);
    assert_memory_equal(r.bytes, want, sizeof want);
    /* and they decode, blob included, as librpc would have */
    rpc_BlobMsg m;
    assert_int_equal(rpc_msg_decode(rpc_BlobMsg_fields, r.bytes, r.len, &m),
                     0);
    assert_int_equal(m.seq, 6);
    assert_int_equal(m.blob.len, 5);
    assert_memory_equal(m.blob.data, "hello", 5);
    rpc_msg_release(rpc_BlobMsg_fields, &m);
    static const uint8_t cut[] = {0x12, 0x05, 'h'};
    assert_int_equal(rpc_msg_decode(rpc_BlobMsg_fields, cut, sizeof cut, &m),
                     RPC_EDECODE);

    /* gen = 1 MiB + 1: a reply over the server's limit, refused there */
    static const uint8_t big[] = {0x28, 0x81, 0x80, 0x40};
    struct raw_res g = {0};
    assert_int_equal(call_raw(&fx, M_GEN, big, sizeof big, &g), 0);
    assert_int_equal(g.rc, RPC_EFRAME_TOO_LARGE);
    assert_true(g.null_payload);
    assert_int_equal(g.len, 0);
    assert_string_equal(g.err, "server's reply is over the frame limit of "
                               "1048576 bytes");

    struct raw_res x = {0};
    struct rpc_call_spec both = {.method = M_ECHO, .req_encoded = req,
                                 .req_len = sizeof req,
                                 .resp_fields = rpc_BlobMsg_fields,
                                 .resp_size = sizeof(rpc_BlobMsg),
                                 .done = on_done, .done_raw = on_done_raw,
                                 .ud = &x};
    assert_int_equal(rpc_client_call(fx.cli, &both, NULL), RPC_ECONFIG);
    both.done = NULL;
    both.on_msg = on_msg;
    assert_int_equal(rpc_client_call(fx.cli, &both, NULL), RPC_ECONFIG);
    both.on_msg = NULL;
    both.req_len = (1u << 20) + 1;
    uint8_t *huge = pattern(both.req_len, 1);
    both.req_encoded = huge;
    assert_int_equal(rpc_client_call(fx.cli, &both, NULL),
                     RPC_EFRAME_TOO_LARGE);
    assert_false(x.done);
    free(huge);
    assert_int_equal(accepted, 1);
    fx_fini(&fx);
}

/* The blocking helper moves the reply's blobs to the caller, who frees
 * them with rpc_msg_release. */
static void test_blocking_release(void **state)
{
    (void)state;
    /* The server needs its own thread for a blocking call: use rpcutil's. */
    struct rpcutil_server s;
    rpcutil_server_init(&s, NULL);
    struct rpc_method m = {.id = M_GEN, .name = "test.BlobGen",
                           .req_fields = rpc_BlobMsg_fields,
                           .req_size = sizeof(rpc_BlobMsg),
                           .resp_fields = rpc_BlobMsg_fields,
                           .handler = gen_handler};
    assert_int_equal(rpc_server_register(s.srv, &m), 0);
    rpcutil_server_run(&s);
    struct rpc_client_options co = {.host = "127.0.0.1", .port = s.port};
    rpc_BlobMsg req = {.gen = 300000};
    rpc_BlobMsg resp = {0};
    char err[256];
    assert_int_equal(rpc_call_blocking(&co, M_GEN, rpc_BlobMsg_fields, &req,
                                       rpc_BlobMsg_fields, &resp,
                                       sizeof resp, 30000, err, sizeof err),
                     0);
    assert_true(is_pattern(&resp.blob, 300000, 7));
    rpc_msg_release(rpc_BlobMsg_fields, &resp);
    assert_null(resp.blob.data);
    assert_int_equal(resp.blob.len, 0);
    rpcutil_server_stop(&s);
}

/* Frames over a limit. Over the sender's own limit nothing is sent: a
 * request is refused by rpc_client_call (a call already on the connection
 * goes on) and a reply fails its call with RPC_EFRAME_TOO_LARGE and a text
 * naming the limit, both on the one connection. Where only the peer's
 * limit is smaller (the sender cannot know it) the peer closes the
 * connection as before and the call fails with the same code. */
static void test_frame_limit(void **state)
{
    (void)state;
    struct fx fx;
    fx_init(&fx, 1u << 20, 1u << 20);
    size_t len = (1u << 20) + 1;
    uint8_t *a = pattern(len, 3);
    rpc_BlobMsg small = {.blob = {a, 100}};
    struct res first = {.len = 100, .salt = 3};
    struct rpc_call_spec cs = {.method = M_ECHO,
                               .req_fields = rpc_BlobMsg_fields,
                               .req = &small,
                               .resp_fields = rpc_BlobMsg_fields,
                               .resp_size = sizeof(rpc_BlobMsg),
                               .done = on_done,
                               .ud = &first};
    assert_int_equal(rpc_client_call(fx.cli, &cs, NULL), 0);
    rpc_BlobMsg req = {.blob = {a, len}};
    struct res r = {0};
    assert_int_equal(call(&fx, M_ECHO, &req, false, &r),
                     RPC_EFRAME_TOO_LARGE);
    assert_false(r.done);
    assert_string_equal(rpc_client_errmsg(fx.cli),
                        "request not sent: over the frame limit of "
                        "1048576 bytes");
    assert_int_equal(rpc_client_in_flight(fx.cli), 1);
    assert_true(rpcutil_loop_until(fx.base, &first.done));
    assert_int_equal(first.rc, 0);
    assert_int_equal(first.good, 1);

    rpc_BlobMsg gen = {.gen = (uint32_t)len};
    struct res g = {0};
    assert_int_equal(call(&fx, M_GEN, &gen, false, &g), 0);
    assert_int_equal(g.rc, RPC_EFRAME_TOO_LARGE);
    assert_string_equal(g.err, "server's reply is over the frame limit of "
                               "1048576 bytes");

    /* Just under the limit still works: the reply is the blob, 4 bytes of
     * its key and length and 2 of seq. */
    rpc_BlobMsg ok = {.blob = {a, (1u << 20) - 6}};
    struct res o = {.len = (1u << 20) - 6, .salt = 3};
    assert_int_equal(call(&fx, M_ECHO, &ok, false, &o), 0);
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.good, 1);
    assert_int_equal(accepted, 1); /* no refusal closed the connection */
    fx_fini(&fx);

    /* the server's limit is the smaller: it closes on the request */
    fx_init(&fx, 1u << 20, 2u << 20);
    struct res r2 = {0};
    assert_int_equal(call(&fx, M_ECHO, &req, false, &r2), 0);
    assert_int_equal(r2.rc, RPC_EFRAME_TOO_LARGE);
    fx_fini(&fx);

    /* the client's is: it closes on the reply */
    fx_init(&fx, 2u << 20, 1u << 20);
    struct res g2 = {0};
    assert_int_equal(call(&fx, M_GEN, &gen, false, &g2), 0);
    assert_int_equal(g2.rc, RPC_EFRAME_TOO_LARGE);
    struct res o2 = {.len = 100, .salt = 3};
    assert_int_equal(call(&fx, M_ECHO, &small, false, &o2), 0);
    assert_int_equal(o2.rc, 0);
    assert_int_equal(accepted, 2); /* the close took the first connection */
    free(a);
    fx_fini(&fx);
}

/* The decode callback's allocation fails: on the server (request) or the
 * client (reply, stream) only that call fails with -ENOMEM, and the
 * connection stays usable: all calls here share one connection, which
 * the server's count shows. Nothing leaks: every allocation through the
 * hook is freed. */
static void test_alloc_failure(void **state)
{
    (void)state;
    allocs = frees = failed = 0;
    fail_len = 777777;
    rpc_heap_set(hook_malloc, hook_realloc, hook_free);
    struct fx fx;
    fx_init(&fx, 0, 0);
    uint8_t *a = pattern(fail_len, 5);

    /* server side: the request's blob */
    rpc_BlobMsg req = {.blob = {a, fail_len}};
    struct res r = {0};
    assert_int_equal(call(&fx, M_ECHO, &req, false, &r), 0);
    assert_int_equal(r.rc, -ENOMEM);
    assert_string_equal(r.err, "out of memory for the request's blob");
    assert_int_equal(failed, 1);

    /* client side, unary reply */
    rpc_BlobMsg gen = {.gen = (uint32_t)fail_len};
    struct res g = {0};
    assert_int_equal(call(&fx, M_GEN, &gen, false, &g), 0);
    assert_int_equal(g.rc, -ENOMEM);
    assert_int_equal(failed, 2);

    /* client side, a stream's first message: the call ends there */
    gen.seq = 3;
    struct res s = {0};
    assert_int_equal(call(&fx, M_GEN, &gen, true, &s), 0);
    assert_int_equal(s.rc, -ENOMEM);
    assert_int_equal(s.msgs, 0);
    assert_int_equal(failed, 3);

    /* the connection still works, with blobs of other sizes */
    rpc_BlobMsg ok = {.blob = {a, 1000}};
    struct res o = {.len = 1000, .salt = 5};
    assert_int_equal(call(&fx, M_ECHO, &ok, false, &o), 0);
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.good, 1);
    assert_int_equal(rpc_server_connection_count(fx.srv), 1);
    assert_int_equal(accepted, 1);

    fx_fini(&fx);
    free(a);
    rpc_heap_set(NULL, NULL, NULL);
    fail_len = 0;
    assert_true(allocs > 0);
    assert_int_equal(allocs, frees);
}

/* ---- the codec alone ---- */

static size_t encode(const rpc_BlobMsg *m, uint8_t *buf, size_t cap)
{
    pb_ostream_t os = pb_ostream_from_buffer(buf, cap);
    assert_true(pb_encode(&os, rpc_BlobMsg_fields, m));
    return os.bytes_written;
}

/* A blob field seen twice keeps the last value (protobuf's rule) without
 * leaking the first; an empty blob is not encoded. */
static void test_codec_repeat_and_empty(void **state)
{
    (void)state;
    uint8_t buf[256];
    rpc_BlobMsg e = {.seq = 1};
    assert_int_equal(encode(&e, buf, sizeof buf), 2); /* seq only */

    rpc_BlobMsg m1 = {.blob = {(uint8_t *)"first", 5}};
    rpc_BlobMsg m2 = {.blob = {(uint8_t *)"second!", 7}};
    size_t n1 = encode(&m1, buf, sizeof buf);
    size_t n2 = encode(&m2, buf + n1, sizeof buf - n1);
    rpc_BlobMsg d = {0};
    pb_istream_t is = pb_istream_from_buffer(buf, n1 + n2);
    assert_true(pb_decode(&is, rpc_BlobMsg_fields, &d));
    assert_int_equal(d.blob.len, 7);
    assert_memory_equal(d.blob.data, "second!", 7);
    assert_null(d.tail.data);
    rpc_msg_release(rpc_BlobMsg_fields, &d);
    assert_null(d.blob.data);
}

/* A length beyond the bytes present is rejected before any allocation. */
static void test_codec_truncated(void **state)
{
    (void)state;
    /* field 2, wire type 2, length 2^31, then 3 bytes */
    static const uint8_t bad[] = {0x12, 0x80, 0x80, 0x80, 0x80, 0x08,
                                  'a',  'b',  'c'};
    allocs = frees = failed = 0;
    rpc_heap_set(hook_malloc, hook_realloc, hook_free);
    rpc_BlobMsg d = {0};
    pb_istream_t is = pb_istream_from_buffer(bad, sizeof bad);
    assert_false(pb_decode(&is, rpc_BlobMsg_fields, &d));
    rpc_msg_release(rpc_BlobMsg_fields, &d);
    rpc_heap_set(NULL, NULL, NULL);
    assert_int_equal(allocs, 0);
    assert_null(d.blob.data);
}

/* A decode that fails after a blob was allocated frees it (pb_decode's own
 * cleanup does not know blobs); the message is left with nothing to free,
 * even when it started as garbage. */
static void test_codec_fail_after_blob(void **state)
{
    (void)state;
    /* field 2: 5 bytes "hello", then field 1 (varint) cut short */
    static const uint8_t bad[] = {0x12, 0x05, 'h', 'e', 'l', 'l', 'o',
                                  0x08, 0x80};
    allocs = frees = failed = 0;
    rpc_heap_set(hook_malloc, hook_realloc, hook_free);
    rpc_BlobMsg d;
    memset(&d, 0xa5, sizeof d);
    assert_int_equal(rpc__payload_decode(bad, sizeof bad, rpc_BlobMsg_fields,
                                         &d),
                     RPC_EDECODE);
    rpc_heap_set(NULL, NULL, NULL);
    assert_int_equal(allocs, 1);
    assert_int_equal(frees, 1);
    assert_null(d.blob.data);
    assert_null(d.tail.data);
    /* and the same bytes without the cut decode */
    assert_int_equal(rpc__payload_decode(bad, 7, rpc_BlobMsg_fields, &d), 0);
    assert_int_equal(d.blob.len, 5);
    assert_memory_equal(d.blob.data, "hello", 5);
    rpc__payload_release(rpc_BlobMsg_fields, &d);
    assert_null(d.blob.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_sizes),
        cmocka_unit_test(test_reply_encoded),
        cmocka_unit_test(test_call_encoded),
        cmocka_unit_test(test_blocking_release),
        cmocka_unit_test(test_frame_limit),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_codec_repeat_and_empty),
        cmocka_unit_test(test_codec_truncated),
        cmocka_unit_test(test_codec_fail_after_blob),
    };
    return cmocka_run_group_tests_name("librpc/blob", tests, NULL, NULL);
}

/* test_call.c: calls end to end on loopback with one loop for both sides:
 * echo, many callers, many calls in flight on one connection, handlers
 * answering later and out of order, streams, the in-flight bound, handler
 * failures, unknown methods and the blocking helper.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pb_decode.h>

#include "rpc_echo.pb.h"
#include "rpcutil.h"

struct fixture
{
    struct event_base *base; /* one loop for server and clients */
    struct rpc_server *srv;  /* server on 127.0.0.1:0 */
    struct rpcutil_log log;  /* server log */
};

static int setup_opts(void **state, const struct rpc_server_options *so)
{
    struct fixture *f = calloc(1, sizeof *f);
    signal(SIGPIPE, SIG_IGN); /* as a daemon using librpc must */
    rpcutil_log_init(&f->log);
    f->base = event_base_new();
    struct rpc_server_options o = *so;
    o.log = rpcutil_log_fn;
    o.log_ud = &f->log;
    o.log_level = RPC_LOG_DEBUG;
    char err[256];
    if (rpc_server_create(f->base, &o, &f->srv, err, sizeof err) != 0)
        return -1;
    if (rpc_server_add_echo(f->srv) != 0)
        return -1;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    struct rpc_server_options so = {.host = "127.0.0.1"};
    return setup_opts(state, &so);
}

static int setup_small_inflight(void **state)
{
    struct rpc_server_options so = {.host = "127.0.0.1", .max_in_flight = 8};
    return setup_opts(state, &so);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rpc_server_destroy(f->srv);
    event_base_free(f->base);
    rpcutil_log_destroy(&f->log);
    free(f);
    return 0;
}

static struct rpc_client *client(struct fixture *f, unsigned max_in_flight)
{
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = rpc_server_port(f->srv),
                                    .max_in_flight = max_in_flight,
                                    .default_deadline_ms = 30000};
    struct rpc_client *c = NULL;
    assert_int_equal(rpc_client_create(f->base, &co, &c), 0);
    return c;
}

/* One call's outcome. */
struct result
{
    int calls;         /* times done fired */
    int rc;            /* its code */
    char text[64];     /* reply payload as text */
    char err[256];     /* its errmsg */
    int msgs;          /* stream messages seen */
    uint32_t seqs[16]; /* their seq */
    int *counter;      /* bumped on done, if set */
};

static void on_done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct result *r = ud;
    r->calls++;
    r->rc = rc;
    snprintf(r->err, sizeof r->err, "%s", errmsg);
    const rpc_EchoResponse *m = resp;
    if (rc == 0 && m != NULL && m->payload != NULL)
        snprintf(r->text, sizeof r->text, "%.*s", (int)m->payload->size,
                 (const char *)m->payload->bytes);
    if (r->counter != NULL)
        (*r->counter)++;
}

static void on_msg(const void *msg, void *ud)
{
    struct result *r = ud;
    const rpc_EchoResponse *m = msg;
    if (r->msgs < 16)
        r->seqs[r->msgs] = m->seq;
    r->msgs++;
}

static pb_bytes_array_t *bytes_of(const char *s)
{
    size_t n = strlen(s);
    pb_bytes_array_t *b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(n));
    b->size = (pb_size_t)n;
    memcpy(b->bytes, s, n);
    return b;
}

static int start(struct rpc_client *c,
                 uint32_t method,
                 const char *text,
                 uint32_t count,
                 struct result *r,
                 bool stream,
                 uint64_t *id)
{
    pb_bytes_array_t *b = bytes_of(text);
    rpc_EchoRequest req = {.payload = b, .count = count};
    struct rpc_call_spec cs = {
        .method = method,
        .req_fields = rpc_EchoRequest_fields,
        .req = &req,
        .resp_fields = rpc_EchoResponse_fields,
        .resp_size = sizeof(rpc_EchoResponse),
        .done = on_done,
        .on_msg = stream ? on_msg : NULL,
        .ud = r,
    };
    int rc = rpc_client_call(c, &cs, id);
    free(b); /* encoded already */
    return rc;
}

static void echo_one(void **state)
{
    struct fixture *f = *state;
    struct rpc_client *c = client(f, 0);
    struct result r = {0};
    uint64_t id = 0;
    assert_int_equal(start(c, RPC_METHOD_ECHO, "ping", 0, &r, false, &id), 0);
    assert_true(id != 0);
    assert_int_equal(rpc_client_in_flight(c), 1);
    int dummy = 0;
    r.counter = &dummy;
    assert_true(rpcutil_loop_until_count(f->base, &r.calls, 1));
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.text, "ping");
    assert_int_equal(rpc_client_in_flight(c), 0);
    assert_int_equal(rpc_server_connection_count(f->srv), 1);
    rpc_client_destroy(c);
    assert_int_equal(r.calls, 1);
}

#define NCLIENTS 8
#define PER_CLIENT 100

static void many_callers(void **state)
{
    struct fixture *f = *state;
    struct rpc_client *cs[NCLIENTS];
    static struct result rs[NCLIENTS][PER_CLIENT];
    memset(rs, 0, sizeof rs);
    int done = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        cs[i] = client(f, 0);
        for (int j = 0; j < PER_CLIENT; j++) {
            char text[32];
            snprintf(text, sizeof text, "c%d-%d", i, j);
            rs[i][j].counter = &done;
            assert_int_equal(
                start(cs[i], RPC_METHOD_ECHO, text, 0, &rs[i][j], false, NULL),
                0);
        }
    }
    assert_true(
        rpcutil_loop_until_count(f->base, &done, NCLIENTS * PER_CLIENT));
    for (int i = 0; i < NCLIENTS; i++) {
        for (int j = 0; j < PER_CLIENT; j++) {
            char text[32];
            snprintf(text, sizeof text, "c%d-%d", i, j);
            assert_int_equal(rs[i][j].calls, 1);
            assert_int_equal(rs[i][j].rc, 0);
            assert_string_equal(rs[i][j].text, text);
        }
        rpc_client_destroy(cs[i]);
    }
}

/* The server here stops reading a connection at 8 unanswered calls, so 500
 * calls in flight on one connection also exercise that throttle. */
static void many_in_flight_one_connection(void **state)
{
    struct fixture *f = *state;
    struct rpc_client *c = client(f, 1000);
    static struct result rs[500];
    memset(rs, 0, sizeof rs);
    int done = 0;
    for (int j = 0; j < 500; j++) {
        char text[32];
        snprintf(text, sizeof text, "n%d", j);
        rs[j].counter = &done;
        assert_int_equal(
            start(c, RPC_METHOD_ECHO, text, 0, &rs[j], false, NULL), 0);
    }
    assert_int_equal(rpc_client_in_flight(c), 500);
    assert_true(rpcutil_loop_until_count(f->base, &done, 500));
    for (int j = 0; j < 500; j++) {
        char text[32];
        snprintf(text, sizeof text, "n%d", j);
        assert_int_equal(rs[j].calls, 1);
        assert_int_equal(rs[j].rc, 0);
        assert_string_equal(rs[j].text, text);
    }
    assert_int_equal(rpc_server_connection_count(f->srv), 1);
    rpc_client_destroy(c);
}

/* A handler that answers later: it keeps the calls until told. */
struct deferred
{
    struct rpc_call *calls[64];      /* held calls */
    const rpc_EchoRequest *reqs[64]; /* their requests (borrowed) */
    int n;                           /* held */
};

static void defer_handler(struct rpc_call *call, const void *req, void *ud)
{
    struct deferred *d = ud;
    d->calls[d->n] = call;
    d->reqs[d->n] = req;
    d->n++;
}

static void register_deferred(struct fixture *f,
                              uint32_t id,
                              struct deferred *d)
{
    struct rpc_method m = {
        .id = id,
        .name = "deferred",
        .req_fields = rpc_EchoRequest_fields,
        .req_size = sizeof(rpc_EchoRequest),
        .resp_fields = rpc_EchoResponse_fields,
        .handler = defer_handler,
        .ud = d,
    };
    assert_int_equal(rpc_server_register(f->srv, &m), 0);
}

static void async_replies_out_of_order(void **state)
{
    struct fixture *f = *state;
    struct deferred d = {0};
    register_deferred(f, 0x00ff0001u, &d);
    struct rpc_client *c = client(f, 0);
    struct result rs[20] = {{0}};
    int done = 0;
    for (int j = 0; j < 20; j++) {
        char text[16];
        snprintf(text, sizeof text, "o%d", j);
        rs[j].counter = &done;
        assert_int_equal(start(c, 0x00ff0001u, text, 0, &rs[j], false, NULL),
                         0);
    }
    assert_true(rpcutil_loop_until_count(f->base, &d.n, 20));
    assert_int_equal(done, 0);
    /* Answer in reverse order, each with its own request's payload. */
    for (int j = 19; j >= 0; j--) {
        rpc_EchoResponse resp = {.payload = d.reqs[j]->payload};
        assert_true(rpc_call_alive(d.calls[j]));
        assert_true(rpc_call_deadline_ms(d.calls[j]) > 0);
        assert_int_equal(rpc_call_method(d.calls[j]), 0x00ff0001u);
        assert_int_equal(rpc_call_reply(d.calls[j], &resp), 0);
    }
    assert_true(rpcutil_loop_until_count(f->base, &done, 20));
    for (int j = 0; j < 20; j++) {
        char text[16];
        snprintf(text, sizeof text, "o%d", j);
        assert_int_equal(rs[j].calls, 1);
        assert_int_equal(rs[j].rc, 0);
        assert_string_equal(rs[j].text, text);
    }
    rpc_client_destroy(c);
}

static void stream_n_then_end(void **state)
{
    struct fixture *f = *state;
    struct rpc_client *c = client(f, 0);
    struct result r = {0};
    assert_int_equal(start(c, RPC_METHOD_ECHO_STREAM, "s", 5, &r, true, NULL),
                     0);
    assert_true(rpcutil_loop_until_count(f->base, &r.calls, 1));
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.msgs, 5);
    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(r.seqs[i], i);
    /* A stream of zero messages just ends. */
    struct result r0 = {0};
    assert_int_equal(start(c, RPC_METHOD_ECHO_STREAM, "s", 0, &r0, true, NULL),
                     0);
    assert_true(rpcutil_loop_until_count(f->base, &r0.calls, 1));
    assert_int_equal(r0.rc, 0);
    assert_int_equal(r0.msgs, 0);
    /* A peer cannot make the server queue an unbounded stream. */
    struct result big = {0};
    assert_int_equal(start(c, RPC_METHOD_ECHO_STREAM, "s", 4000000000u, &big,
                           true, NULL),
                     0);
    assert_true(rpcutil_loop_until_count(f->base, &big.calls, 1));
    assert_int_equal(big.rc, -E2BIG);
    assert_int_equal(big.msgs, 0);
    rpc_client_destroy(c);
}

/* The client's bound is a hard limit: the call beyond it is refused with
 * RPC_EBUSY and its done never fires (documented in rpc.h). */
static void bounded_in_flight_is_ebusy(void **state)
{
    struct fixture *f = *state;
    struct rpc_client *c = client(f, 4);
    struct result rs[5] = {{0}};
    int done = 0;
    for (int j = 0; j < 4; j++) {
        rs[j].counter = &done;
        assert_int_equal(start(c, RPC_METHOD_ECHO, "b", 0, &rs[j], false, NULL),
                         0);
    }
    assert_int_equal(start(c, RPC_METHOD_ECHO, "b", 0, &rs[4], false, NULL),
                     RPC_EBUSY);
    assert_true(rpcutil_loop_until_count(f->base, &done, 4));
    assert_int_equal(rs[4].calls, 0);
    rs[4].counter = &done;
    assert_int_equal(start(c, RPC_METHOD_ECHO, "b", 0, &rs[4], false, NULL), 0);
    assert_true(rpcutil_loop_until_count(f->base, &done, 5));
    assert_int_equal(rs[4].rc, 0);
    rpc_client_destroy(c);
}

static void fail_handler(struct rpc_call *call, const void *req, void *ud)
{
    (void)req;
    (void)ud;
    rpc_call_fail(call, -EPERM, "not for you");
}

static void handler_failure_reaches_caller(void **state)
{
    struct fixture *f = *state;
    struct rpc_method m = {
        .id = 0x00ff0002u,
        .name = "fail",
        .req_fields = rpc_EchoRequest_fields,
        .req_size = sizeof(rpc_EchoRequest),
        .resp_fields = rpc_EchoResponse_fields,
        .handler = fail_handler,
    };
    assert_int_equal(rpc_server_register(f->srv, &m), 0);
    struct rpc_client *c = client(f, 0);
    struct result r = {0};
    assert_int_equal(start(c, 0x00ff0002u, "x", 0, &r, false, NULL), 0);
    assert_true(rpcutil_loop_until_count(f->base, &r.calls, 1));
    assert_int_equal(r.rc, -EPERM);
    assert_string_equal(r.err, "not for you");
    /* The connection stays up for the next call. */
    struct result r2 = {0};
    assert_int_equal(start(c, RPC_METHOD_ECHO, "y", 0, &r2, false, NULL), 0);
    assert_true(rpcutil_loop_until_count(f->base, &r2.calls, 1));
    assert_int_equal(r2.rc, 0);
    assert_int_equal(rpc_server_connection_count(f->srv), 1);
    rpc_client_destroy(c);
}

/* An unknown method closes the connection (GOAWAY): the guilty call gets
 * RPC_EUNKNOWN_METHOD, an innocent one in flight RPC_ECONNLOST, and the
 * client reconnects for the next call. */
static void unknown_method_closes_connection(void **state)
{
    struct fixture *f = *state;
    struct deferred d = {0};
    register_deferred(f, 0x00ff0003u, &d);
    struct rpc_client *c = client(f, 0);
    struct result held = {0}, bad = {0};
    assert_int_equal(start(c, 0x00ff0003u, "h", 0, &held, false, NULL), 0);
    assert_true(rpcutil_loop_until_count(f->base, &d.n, 1));
    assert_int_equal(start(c, 0x7777u, "u", 0, &bad, false, NULL), 0);
    assert_true(rpcutil_loop_until_count(f->base, &bad.calls, 1));
    assert_int_equal(bad.rc, RPC_EUNKNOWN_METHOD);
    assert_non_null(strstr(bad.err, "unknown method 0x00007777"));
    assert_true(rpcutil_loop_until_count(f->base, &held.calls, 1));
    assert_int_equal(held.rc, RPC_ECONNLOST);
    assert_true(rpcutil_log_has(&f->log, "unknown method 0x00007777"));
    /* The held call is orphaned: replying tells us nobody waits. */
    assert_false(rpc_call_alive(d.calls[0]));
    rpc_EchoResponse resp = {0};
    assert_int_equal(rpc_call_reply(d.calls[0], &resp), RPC_ECONNLOST);
    struct result ok = {0};
    assert_int_equal(start(c, RPC_METHOD_ECHO, "again", 0, &ok, false, NULL),
                     0);
    assert_true(rpcutil_loop_until_count(f->base, &ok.calls, 1));
    assert_int_equal(ok.rc, 0);
    assert_string_equal(ok.text, "again");
    rpc_client_destroy(c);
}

static void blocking_helper(void **state)
{
    (void)state;
    struct rpcutil_server s;
    rpcutil_server_init(&s, NULL);
    rpcutil_server_run(&s);
    assert_int_equal(rpcutil_echo_blocking(s.port, "blocking"), 0);
    assert_int_equal(rpcutil_echo_blocking(s.port, "twice"), 0);
    uint16_t port = s.port;
    rpcutil_server_stop(&s);
    /* Nobody listens any more. */
    assert_int_equal(rpcutil_echo_blocking(port, "x"), RPC_ECONNECT);
}

static const char *status_detail(void *ud)
{
    return ud;
}

static void status_probe(void **state)
{
    (void)state;
    struct rpcutil_server s;
    rpcutil_server_init(&s, NULL);
    assert_int_equal(rpc_server_add_status(s.srv, "kvd", "1.2.3", status_detail,
                                           (void *)"{\"regions\":3}"),
                     0);
    assert_int_equal(rpc_server_add_status(s.srv, NULL, "x", NULL, NULL),
                     RPC_ECONFIG);
    rpcutil_server_run(&s);
    struct rpc_client_options co = {.host = "127.0.0.1", .port = s.port};
    rpc_StatusRequest req = rpc_StatusRequest_init_zero;
    rpc_StatusResponse resp = rpc_StatusResponse_init_zero;
    char err[256];
    assert_int_equal(
        rpc_call_blocking(&co, RPC_METHOD_STATUS, rpc_StatusRequest_fields,
                          &req, rpc_StatusResponse_fields, &resp, sizeof resp,
                          30000, err, sizeof err),
        0);
    assert_string_equal(resp.role, "kvd");
    assert_string_equal(resp.version, "1.2.3");
    assert_string_equal(resp.detail, "{\"regions\":3}");
    pb_release(rpc_StatusResponse_fields, &resp);
    rpcutil_server_stop(&s);
}

static void bad_arguments(void **state)
{
    struct fixture *f = *state;
    struct rpc_client *c = NULL;
    struct rpc_client_options co = {.host = NULL};
    assert_int_equal(rpc_client_create(f->base, &co, &c), RPC_ECONFIG);
    assert_null(c);
    c = client(f, 0);
    struct rpc_call_spec cs = {.method = 1};
    assert_int_equal(rpc_client_call(c, &cs, NULL), RPC_ECONFIG);
    assert_int_equal(rpc_client_cancel(c, 12345), RPC_EINTERNAL);
    rpc_client_destroy(c);
    rpc_client_destroy(NULL);
    rpc_server_destroy(NULL);
    struct rpc_method m = {.id = 9};
    assert_int_equal(rpc_server_register(f->srv, &m), RPC_ECONFIG);
    /* A port in use is an error naming it. */
    struct rpc_server_options so = {.host = "127.0.0.1",
                                    .port = rpc_server_port(f->srv)};
    struct rpc_server *s2 = NULL;
    char err[256];
    int rc = rpc_server_create(f->base, &so, &s2, err, sizeof err);
    assert_int_equal(rc, -EADDRINUSE);
    assert_null(s2);
    assert_non_null(strstr(err, "cannot listen"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(echo_one, setup, teardown),
        cmocka_unit_test_setup_teardown(many_callers, setup, teardown),
        cmocka_unit_test_setup_teardown(many_in_flight_one_connection,
                                        setup_small_inflight, teardown),
        cmocka_unit_test_setup_teardown(async_replies_out_of_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_n_then_end, setup, teardown),
        cmocka_unit_test_setup_teardown(bounded_in_flight_is_ebusy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(handler_failure_reaches_caller, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unknown_method_closes_connection, setup,
                                        teardown),
        cmocka_unit_test(blocking_helper),
        cmocka_unit_test(status_probe),
        cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests_name("librpc/call", tests, NULL, NULL);
}

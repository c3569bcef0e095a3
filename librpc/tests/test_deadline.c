/* test_deadline.c: per-call deadlines and cancellation: a handler that
 * never answers gives RPC_EDEADLINE exactly once, a late reply is ignored,
 * deadlines of different lengths expire soonest first,
 * cancel completes at once and tells the server, and done callbacks may
 * start calls or destroy the client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "callutil.h"

#define HELD 0x00ff0010u

static int setup(void **state)
{
    *state = cu_setup(0);
    return 0;
}

static int teardown(void **state)
{
    cu_teardown(*state);
    return 0;
}

static void never_answered_is_edeadline_once(void **state)
{
    struct cu_fixture *f = *state;
    struct cu_held h = {0};
    cu_register_held(f, HELD, &h);
    struct rpc_client *c = cu_client(f, 0);
    struct cu_result rs[50] = {{0}};
    int done = 0;
    for (int i = 0; i < 50; i++) {
        rs[i].counter = &done;
        assert_int_equal(cu_start(c, HELD, "z", 0, 100, &rs[i], false, NULL),
                         0);
    }
    assert_true(rpcutil_loop_until_count(f->base, &done, 50));
    for (int i = 0; i < 50; i++) {
        assert_int_equal(rs[i].calls, 1);
        assert_int_equal(rs[i].rc, RPC_EDEADLINE);
        assert_string_equal(rs[i].err, "deadline of 100 ms exceeded");
    }
    /* The client told the server: every held call hears of it. */
    assert_true(rpcutil_loop_until_count(f->base, &h.canceled, 50));
    assert_int_equal(h.n, 50);
    for (int i = 0; i < 50; i++) {
        assert_false(rpc_call_alive(h.calls[i]));
        rpc_EchoResponse resp = {0};
        assert_int_equal(rpc_call_reply(h.calls[i], &resp), RPC_ECANCELED);
    }
    assert_int_equal(done, 50);
    assert_int_equal(rpc_client_in_flight(c), 0);
    rpc_client_destroy(c);
    for (int i = 0; i < 50; i++)
        assert_int_equal(rs[i].calls, 1);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

/* A fake server answers after the deadline: the client drops the reply
 * (logged) and done does not fire again. */
static void late_reply_is_ignored(void **state)
{
    struct cu_fixture *f = *state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lfd, 4), 0);
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = ntohs(sa.sin_port),
                                    .log = rpcutil_log_fn,
                                    .log_ud = &f->clog,
                                    .log_level = RPC_LOG_DEBUG};
    struct rpc_client *c = NULL;
    assert_int_equal(rpc_client_create(f->base, &co, &c), 0);
    struct cu_result r = {0};
    uint64_t id = 0;
    assert_int_equal(
        cu_start(c, RPC_METHOD_ECHO, "late", 0, 100, &r, false, &id), 0);
    assert_true(rpcutil_loop_until_count(f->base, &r.calls, 1));
    assert_int_equal(r.rc, RPC_EDEADLINE);

    int fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    uint8_t flags;
    uint32_t rid;
    int32_t aux;
    /* The request, then the cancel the deadline sent. */
    assert_int_equal(rpcutil_pump_frame(f->base, fd, &flags, &rid, &aux), 0);
    assert_int_equal(flags, 0x00);
    assert_int_equal(rid, (uint32_t)id);
    assert_int_equal(aux, 100);
    assert_int_equal(rpcutil_pump_frame(f->base, fd, &flags, &rid, &aux), 0);
    assert_int_equal(flags, 0x01);
    assert_int_equal(rid, (uint32_t)id);
    /* Reply anyway: an empty EchoResponse. */
    uint8_t hdr[24];
    rpcutil_header(hdr, 0x4C525043u, 1, 0x02, RPC_METHOD_ECHO, rid, 0, 0);
    assert_int_equal(get32(hdr + 12), rid);
    assert_int_equal(rpcutil_write_all(fd, hdr, sizeof hdr), 0);
    bool seen = false;
    for (int spins = 0; spins < 30000 && !seen; spins++) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        seen = rpcutil_log_has(&f->clog, "ignoring frame for request");
        if (!seen)
            poll(NULL, 0, 1);
    }
    assert_true(seen);
    assert_int_equal(r.calls, 1);
    rpc_client_destroy(c);
    assert_int_equal(r.calls, 1);
    close(fd);
    close(lfd);
}

/* Deadlines of different lengths expire in deadline order, not issue
 * order, on the client's one timer: a call issued after a longer one but
 * due sooner moves the timer earlier, and a call answered before its
 * deadline leaves the others' untouched (the timer, armed for it, finds
 * nothing due and moves on to the next). */
static void deadlines_expire_in_their_order(void **state)
{
    struct cu_fixture *f = *state;
    struct cu_held h = {0};
    cu_register_held(f, HELD, &h);
    struct rpc_client *c = cu_client(f, 0);
    static const int budget[4] = {300, 50, 100, 200};
    static const char *const name[4] = {"a", "b", "c", "d"};
    struct cu_result rs[4] = {{0}};
    int done = 0;
    for (int i = 0; i < 4; i++) {
        rs[i].counter = &done;
        assert_int_equal(
            cu_start(c, HELD, name[i], 0, budget[i], &rs[i], false, NULL), 0);
    }
    assert_true(rpcutil_loop_until_count(f->base, &h.n, 4));
    /* b, due first, is answered in time */
    rpc_EchoResponse resp = {0};
    assert_int_equal(rpc_call_reply(h.calls[1], &resp), 0);
    assert_true(rpcutil_loop_until_count(f->base, &done, 1));
    assert_int_equal(rs[1].calls, 1);
    assert_int_equal(rs[1].rc, 0);
    /* then c (100 ms), d (200 ms), a (300 ms), one at a time */
    static const int order[3] = {2, 3, 0};
    for (int k = 0; k < 3; k++) {
        assert_true(rpcutil_loop_until_count(f->base, &done, 2 + k));
        for (int i = 0; i < 4; i++) {
            bool expired = false;
            for (int m = 0; m <= k; m++)
                expired = expired || order[m] == i;
            if (i == 1)
                continue;
            assert_int_equal(rs[i].calls, expired ? 1 : 0);
        }
        int i = order[k];
        assert_int_equal(rs[i].rc, RPC_EDEADLINE);
        char want[64];
        snprintf(want, sizeof want, "deadline of %d ms exceeded", budget[i]);
        assert_string_equal(rs[i].err, want);
    }
    assert_int_equal(rs[1].calls, 1);
    assert_int_equal(rpc_client_in_flight(c), 0);
    assert_true(rpcutil_loop_until_count(f->base, &h.canceled, 3));
    for (int i = 0; i < 4; i++)
        if (i != 1)
            assert_int_equal(rpc_call_fail(h.calls[i], -EIO, NULL),
                             RPC_ECANCELED);
    rpc_client_destroy(c);
}

static void cancel_completes_now_and_tells_server(void **state)
{
    struct cu_fixture *f = *state;
    struct cu_held h = {0};
    cu_register_held(f, HELD, &h);
    struct rpc_client *c = cu_client(f, 30000);
    struct cu_result r = {0}, other = {0};
    uint64_t id = 0, id2 = 0;
    assert_int_equal(cu_start(c, HELD, "c", 0, 0, &r, false, &id), 0);
    assert_int_equal(cu_start(c, HELD, "d", 0, 0, &other, false, &id2), 0);
    assert_true(rpcutil_loop_until_count(f->base, &h.n, 2));
    assert_int_equal(rpc_client_cancel(c, id), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.rc, RPC_ECANCELED);
    assert_int_equal(rpc_client_cancel(c, id), RPC_EINTERNAL);
    assert_int_equal(rpc_client_in_flight(c), 1);
    assert_true(rpcutil_loop_until_count(f->base, &h.canceled, 1));
    assert_false(rpc_call_alive(h.calls[0]));
    assert_true(rpc_call_alive(h.calls[1]));
    assert_int_equal(rpc_call_fail(h.calls[0], -EIO, "too late"),
                     RPC_ECANCELED);
    /* The other call is untouched and still answered. */
    rpc_EchoResponse resp = {0};
    assert_int_equal(rpc_call_reply(h.calls[1], &resp), 0);
    assert_true(rpcutil_loop_until_count(f->base, &other.calls, 1));
    assert_int_equal(other.rc, 0);
    assert_int_equal(r.calls, 1);
    rpc_client_destroy(c);
}

/* Canceled before the connection is even up: the request and the cancel
 * both go out once it is, and the handler is told. */
static void cancel_while_connecting(void **state)
{
    struct cu_fixture *f = *state;
    struct cu_held h = {0};
    cu_register_held(f, HELD, &h);
    struct rpc_client *c = cu_client(f, 30000);
    struct cu_result r = {0};
    uint64_t id = 0;
    assert_int_equal(cu_start(c, HELD, "early", 0, 0, &r, false, &id), 0);
    assert_int_equal(rpc_client_cancel(c, id), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.rc, RPC_ECANCELED);
    assert_true(rpcutil_loop_until_count(f->base, &h.canceled, 1));
    assert_int_equal(h.n, 1);
    assert_int_equal(rpc_call_fail(h.calls[0], -EIO, NULL), RPC_ECANCELED);
    rpc_client_destroy(c);
    assert_int_equal(r.calls, 1);
}

static void cancel_a_stream(void **state)
{
    struct cu_fixture *f = *state;
    struct cu_held h = {0};
    cu_register_held(f, HELD, &h);
    struct rpc_client *c = cu_client(f, 30000);
    struct cu_result r = {0};
    uint64_t id = 0;
    assert_int_equal(cu_start(c, HELD, "s", 0, 0, &r, true, &id), 0);
    assert_true(rpcutil_loop_until_count(f->base, &h.n, 1));
    rpc_EchoResponse m = {.seq = 1};
    assert_int_equal(rpc_call_queued_bytes(h.calls[0]), 0);
    assert_int_equal(rpc_call_stream_send(h.calls[0], &m), 0);
    assert_int_equal(rpc_call_queued_bytes(h.calls[0]), 24 + 2);
    assert_int_equal(rpc_call_stream_send(h.calls[0], &m), 0);
    assert_int_equal(rpc_call_queued_bytes(h.calls[0]), 2 * (24 + 2));
    assert_true(rpcutil_loop_until_count(f->base, &r.msgs, 2));
    assert_int_equal(rpc_call_queued_bytes(h.calls[0]), 0);
    assert_int_equal(r.calls, 0);
    assert_int_equal(rpc_client_cancel(c, id), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.rc, RPC_ECANCELED);
    assert_true(rpcutil_loop_until_count(f->base, &h.canceled, 1));
    assert_int_equal(rpc_call_stream_send(h.calls[0], &m), RPC_ECANCELED);
    assert_int_equal(rpc_call_stream_end(h.calls[0], 0), RPC_ECANCELED);
    assert_int_equal(r.msgs, 2);
    rpc_client_destroy(c);
}

/* done may start another call (it goes out) or destroy the client (the
 * rest complete with RPC_ECLOSED inside that call, once each). */
static struct rpc_client *chained_client;
static struct cu_result chained_second;

static void start_second(int rc, const void *resp, const char *errmsg, void *ud)
{
    (void)resp;
    (void)errmsg;
    int *calls = ud;
    (*calls)++;
    assert_int_equal(rc, 0);
    assert_int_equal(cu_start(chained_client, RPC_METHOD_ECHO, "second", 0, 0,
                              &chained_second, false, NULL),
                     0);
}

static void done_may_call_again_or_destroy(void **state)
{
    struct cu_fixture *f = *state;
    chained_client = cu_client(f, 30000);
    int first = 0;
    rpc_EchoRequest req = rpc_EchoRequest_init_zero;
    struct rpc_call_spec cs = {
        .method = RPC_METHOD_ECHO,
        .req_fields = rpc_EchoRequest_fields,
        .req = &req,
        .resp_fields = rpc_EchoResponse_fields,
        .resp_size = sizeof(rpc_EchoResponse),
        .done = start_second,
        .ud = &first,
    };
    memset(&chained_second, 0, sizeof chained_second);
    assert_int_equal(rpc_client_call(chained_client, &cs, NULL), 0);
    assert_true(rpcutil_loop_until_count(f->base, &chained_second.calls, 1));
    assert_int_equal(first, 1);
    assert_int_equal(chained_second.rc, 0);
    assert_string_equal(chained_second.text, "second");

    /* Destroy from inside a done: three held calls behind it. */
    struct cu_held h = {0};
    cu_register_held(f, HELD, &h);
    struct cu_result killer = {0}, rest[3] = {{0}};
    killer.destroy = chained_client;
    assert_int_equal(cu_start(chained_client, RPC_METHOD_ECHO, "k", 0, 0,
                              &killer, false, NULL),
                     0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(
            cu_start(chained_client, HELD, "r", 0, 0, &rest[i], false, NULL),
            0);
    assert_true(rpcutil_loop_until_count(f->base, &killer.calls, 1));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rest[i].calls, 1);
        assert_int_equal(rest[i].rc, RPC_ECLOSED);
    }
    assert_int_equal(killer.calls, 1);
    assert_int_equal(killer.rc, 0);
    /* The server notices the client went away. */
    assert_true(rpcutil_loop_until_count(f->base, &h.canceled, 3));
    for (int i = 0; i < 3; i++)
        assert_int_equal(rpc_call_fail(h.calls[i], -EIO, NULL), RPC_ECONNLOST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(never_answered_is_edeadline_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(late_reply_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(deadlines_expire_in_their_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cancel_completes_now_and_tells_server,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(cancel_while_connecting, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(cancel_a_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(done_may_call_again_or_destroy, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("librpc/deadline", tests, NULL, NULL);
}

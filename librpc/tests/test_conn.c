/* test_conn.c: connection life: reconnect after the server restarts,
 * server shutdown and client destroy with calls pending, connect failures,
 * and streams cut by a disconnect from either side.
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

#define HELD 0x00ff0020u

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

static void echo_ok(struct cu_fixture *f,
                    struct rpc_client *c,
                    const char *text)
{
    struct cu_result r = {0};
    assert_int_equal(cu_start(c, RPC_METHOD_ECHO, text, 0, 0, &r, false, NULL),
                     0);
    assert_true(rpcutil_loop_until_count(f->base, &r.calls, 1));
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.text, text);
}

static void reconnect_after_server_restart(void **state)
{
    struct cu_fixture *f = *state;
    struct rpc_client *c = cu_client(f, 30000);
    echo_ok(f, c, "before");
    cu_server_down(f);
    /* While it is down a call fails to connect (or loses the old
     * connection first), and says so once. */
    struct cu_result r = {0};
    int rc = cu_start(c, RPC_METHOD_ECHO, "down", 0, 0, &r, false, NULL);
    if (rc == 0) {
        assert_true(rpcutil_loop_until_count(f->base, &r.calls, 1));
        assert_true(r.rc == RPC_ECONNLOST || r.rc == RPC_ECONNECT);
    } else {
        assert_int_equal(rc, RPC_ECONNECT);
    }
    /* Until the client sees the loss, calls go to the dead connection;
     * once it has, the next call connects afresh. */
    for (int i = 0; i < 3 && r.rc == RPC_ECONNLOST; i++) {
        memset(&r, 0, sizeof r);
        rc = cu_start(c, RPC_METHOD_ECHO, "down", 0, 0, &r, false, NULL);
        assert_int_equal(rc, 0);
        assert_true(rpcutil_loop_until_count(f->base, &r.calls, 1));
    }
    assert_int_equal(r.rc, RPC_ECONNECT);
    assert_true(strlen(rpc_client_errmsg(c)) > 0);
    cu_server_up(f);
    echo_ok(f, c, "after");
    echo_ok(f, c, "again");
    assert_int_equal(rpc_server_connection_count(f->srv), 1);
    rpc_client_destroy(c);
}

static void server_shutdown_is_econnlost(void **state)
{
    struct cu_fixture *f = *state;
    struct cu_held h = {0};
    cu_register_held(f, HELD, &h);
    struct rpc_client *c = cu_client(f, 30000);
    struct cu_result rs[5] = {{0}};
    int done = 0;
    for (int i = 0; i < 5; i++) {
        rs[i].counter = &done;
        assert_int_equal(cu_start(c, HELD, "x", 0, 0, &rs[i], false, NULL), 0);
    }
    assert_true(rpcutil_loop_until_count(f->base, &h.n, 5));
    cu_server_down(f); /* frees the held calls; no cancel callbacks */
    assert_int_equal(h.canceled, 0);
    assert_true(rpcutil_loop_until_count(f->base, &done, 5));
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rs[i].calls, 1);
        assert_int_equal(rs[i].rc, RPC_ECONNLOST);
    }
    assert_true(rpcutil_log_has(&f->clog, "closed the connection"));
    rpc_client_destroy(c);
    cu_server_up(f); /* for teardown */
}

static void connect_refused_is_econnect(void **state)
{
    struct cu_fixture *f = *state;
    uint16_t port = f->port;
    cu_server_down(f);
    struct rpc_client *c = cu_client(f, 30000);
    struct cu_result r = {0};
    int rc = cu_start(c, RPC_METHOD_ECHO, "x", 0, 0, &r, false, NULL);
    if (rc == 0) {
        assert_true(rpcutil_loop_until_count(f->base, &r.calls, 1));
        assert_int_equal(r.rc, RPC_ECONNECT);
        assert_non_null(strstr(r.err, "connect"));
    } else {
        assert_int_equal(rc, RPC_ECONNECT);
        assert_int_equal(r.calls, 0);
    }
    rpc_client_destroy(c);
    assert_true(r.calls <= 1);
    f->port = port;
    cu_server_up(f);
}

static void client_destroy_is_eclosed(void **state)
{
    struct cu_fixture *f = *state;
    struct cu_held h = {0};
    cu_register_held(f, HELD, &h);
    struct rpc_client *c = cu_client(f, 30000);
    struct cu_result rs[4] = {{0}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(cu_start(c, HELD, "x", 0, 0, &rs[i], false, NULL), 0);
    assert_true(rpcutil_loop_until_count(f->base, &h.n, 4));
    rpc_client_destroy(c);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(rs[i].calls, 1);
        assert_int_equal(rs[i].rc, RPC_ECLOSED);
    }
    /* The server sees the connection go and tells every handler. */
    assert_true(rpcutil_loop_until_count(f->base, &h.canceled, 4));
    for (int i = 0; i < 4; i++) {
        assert_false(rpc_call_alive(h.calls[i]));
        assert_int_equal(rpc_call_fail(h.calls[i], -EIO, NULL), RPC_ECONNLOST);
    }
}

static void stream_cut_by_server(void **state)
{
    struct cu_fixture *f = *state;
    struct cu_held h = {0};
    cu_register_held(f, HELD, &h);
    struct rpc_client *c = cu_client(f, 30000);
    struct cu_result r = {0};
    assert_int_equal(cu_start(c, HELD, "s", 0, 0, &r, true, NULL), 0);
    assert_true(rpcutil_loop_until_count(f->base, &h.n, 1));
    rpc_EchoResponse m = {.seq = 0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(rpc_call_stream_send(h.calls[0], &m), 0);
    assert_true(rpcutil_loop_until_count(f->base, &r.msgs, 3));
    cu_server_down(f);
    assert_true(rpcutil_loop_until_count(f->base, &r.calls, 1));
    assert_int_equal(r.rc, RPC_ECONNLOST);
    assert_int_equal(r.msgs, 3);
    rpc_client_destroy(c);
    assert_int_equal(r.calls, 1);
    cu_server_up(f);
}

static void stream_cut_by_client(void **state)
{
    struct cu_fixture *f = *state;
    struct cu_held h = {0};
    cu_register_held(f, HELD, &h);
    struct rpc_client *c = cu_client(f, 30000);
    struct cu_result r = {0};
    assert_int_equal(cu_start(c, HELD, "s", 0, 0, &r, true, NULL), 0);
    assert_true(rpcutil_loop_until_count(f->base, &h.n, 1));
    rpc_EchoResponse m = {.seq = 0};
    assert_int_equal(rpc_call_stream_send(h.calls[0], &m), 0);
    assert_true(rpcutil_loop_until_count(f->base, &r.msgs, 1));
    rpc_client_destroy(c);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.rc, RPC_ECLOSED);
    assert_true(rpcutil_loop_until_count(f->base, &h.canceled, 1));
    assert_int_equal(rpc_call_stream_send(h.calls[0], &m), RPC_ECONNLOST);
    assert_int_equal(rpc_call_stream_end(h.calls[0], 0), RPC_ECONNLOST);
    assert_int_equal(rpc_server_connection_count(f->srv), 0);
}

/* A listener whose accept queue is full drops our SYN: the connect hangs
 * until connect_timeout_ms, and the call fails with RPC_ECONNECT. */
static void connect_timeout_is_econnect(void **state)
{
    struct cu_fixture *f = *state;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(lfd, 0), 0);
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    uint16_t port = ntohs(sa.sin_port);
    int filler = rpcutil_raw_connect(port); /* takes the only slot */
    assert_true(filler >= 0);
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = port,
                                    .connect_timeout_ms = 200,
                                    .default_deadline_ms = 30000};
    struct rpc_client *c = NULL;
    assert_int_equal(rpc_client_create(f->base, &co, &c), 0);
    struct cu_result r = {0};
    assert_int_equal(cu_start(c, RPC_METHOD_ECHO, "t", 0, 0, &r, false, NULL),
                     0);
    assert_true(rpcutil_loop_until_count(f->base, &r.calls, 1));
    assert_int_equal(r.rc, RPC_ECONNECT);
    assert_non_null(strstr(r.err, "timed out"));
    rpc_client_destroy(c);
    assert_int_equal(r.calls, 1);
    close(filler);
    close(lfd);
}

/* A handler may destroy the server: its caller sees the connection go. */
static struct cu_fixture *destroy_fixture;

static void destroying_handler(struct rpc_call *call, const void *req, void *ud)
{
    (void)call;
    (void)req;
    (void)ud;
    cu_server_down(destroy_fixture); /* frees call too */
}

static void handler_destroys_server(void **state)
{
    struct cu_fixture *f = *state;
    destroy_fixture = f;
    struct rpc_method m = {
        .id = 0x00ff0021u,
        .name = "destroy",
        .req_fields = rpc_EchoRequest_fields,
        .req_size = sizeof(rpc_EchoRequest),
        .resp_fields = rpc_EchoResponse_fields,
        .handler = destroying_handler,
    };
    assert_int_equal(rpc_server_register(f->srv, &m), 0);
    struct rpc_client *c = cu_client(f, 30000);
    struct cu_result r1 = {0}, r2 = {0};
    /* The echo behind it is never answered: the server is gone. */
    assert_int_equal(cu_start(c, 0x00ff0021u, "d", 0, 0, &r1, false, NULL), 0);
    assert_int_equal(cu_start(c, RPC_METHOD_ECHO, "e", 0, 0, &r2, false, NULL),
                     0);
    assert_true(rpcutil_loop_until_count(f->base, &r2.calls, 1));
    assert_true(rpcutil_loop_until_count(f->base, &r1.calls, 1));
    assert_int_equal(r1.rc, RPC_ECONNLOST);
    assert_int_equal(r2.rc, RPC_ECONNLOST);
    assert_null(f->srv);
    rpc_client_destroy(c);
    cu_server_up(f);
}

/* A reply that does not decode closes the client's connection: that call
 * gets RPC_EDECODE, the other one in flight RPC_ECONNLOST. */
static void undecodable_reply(void **state)
{
    struct cu_fixture *f = *state;
    uint16_t port;
    int lfd = rpcutil_listen(&port);
    struct rpc_client_options co = {
        .host = "127.0.0.1", .port = port, .default_deadline_ms = 30000};
    struct rpc_client *c = NULL;
    assert_int_equal(rpc_client_create(f->base, &co, &c), 0);
    struct cu_result r1 = {0}, r2 = {0};
    assert_int_equal(cu_start(c, RPC_METHOD_ECHO, "a", 0, 0, &r1, false, NULL),
                     0);
    assert_int_equal(cu_start(c, RPC_METHOD_ECHO, "b", 0, 0, &r2, false, NULL),
                     0);
    int fd = -1;
    while (fd < 0) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        struct pollfd pfd = {.fd = lfd, .events = POLLIN};
        if (poll(&pfd, 1, 10) == 1)
            fd = accept(lfd, NULL, NULL);
    }
    uint8_t flags;
    uint32_t id1, id2;
    int32_t aux;
    assert_int_equal(rpcutil_pump_frame(f->base, fd, &flags, &id1, &aux), 0);
    assert_int_equal(rpcutil_pump_frame(f->base, fd, &flags, &id2, &aux), 0);
    uint8_t bad[24 + 2];
    rpcutil_header(bad, 0x4C525043u, 1, 0x02, RPC_METHOD_ECHO, id1, 2, 0);
    bad[24] = 0x0f; /* wire type 7 */
    bad[25] = 0x01;
    assert_int_equal(rpcutil_write_all(fd, bad, sizeof bad), 0);
    assert_true(rpcutil_loop_until_count(f->base, &r2.calls, 1));
    assert_int_equal(r1.calls, 1);
    assert_int_equal(r1.rc, RPC_EDECODE);
    assert_non_null(strstr(r1.err, "does not decode"));
    assert_int_equal(r2.rc, RPC_ECONNLOST);
    /* The client said why before it closed. */
    assert_int_equal(rpcutil_pump_frame(f->base, fd, &flags, &id2, &aux), 0);
    assert_int_equal(flags, 0x10);
    assert_int_equal(id2, id1);
    assert_int_equal(aux, RPC_EDECODE);
    rpc_client_destroy(c);
    close(fd);
    close(lfd);
}

/* A server that stops in the middle of a reply: the client's stall guard
 * fails the call with RPC_ESTALLED and drops the connection. */
static void server_stalls_mid_reply(void **state)
{
    struct cu_fixture *f = *state;
    uint16_t port;
    int lfd = rpcutil_listen(&port);
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = port,
                                    .stall_timeout_ms = 200,
                                    .default_deadline_ms = 30000};
    struct rpc_client *c = NULL;
    assert_int_equal(rpc_client_create(f->base, &co, &c), 0);
    struct cu_result r = {0};
    assert_int_equal(
        cu_start(c, RPC_METHOD_ECHO, "a", 0, 0, &r, false, NULL), 0);
    int fd = -1;
    while (fd < 0) {
        event_base_loop(f->base, EVLOOP_NONBLOCK);
        struct pollfd pfd = {.fd = lfd, .events = POLLIN};
        if (poll(&pfd, 1, 10) == 1)
            fd = accept(lfd, NULL, NULL);
    }
    uint8_t flags;
    uint32_t id;
    int32_t aux;
    assert_int_equal(rpcutil_pump_frame(f->base, fd, &flags, &id, &aux), 0);
    uint8_t half[24];
    rpcutil_header(half, 0x4C525043u, 1, 0x02, RPC_METHOD_ECHO, id, 100, 0);
    assert_int_equal(rpcutil_write_all(fd, half, sizeof half), 0);
    assert_true(rpcutil_loop_until_count(f->base, &r.calls, 1));
    assert_int_equal(r.rc, RPC_ESTALLED);
    assert_non_null(strstr(r.err, "stalled"));
    rpc_client_destroy(c);
    close(fd);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reconnect_after_server_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(server_shutdown_is_econnlost, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(connect_refused_is_econnect, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(client_destroy_is_eclosed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stream_cut_by_server, setup, teardown),
        cmocka_unit_test_setup_teardown(stream_cut_by_client, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_timeout_is_econnect, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(handler_destroys_server, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(undecodable_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(server_stalls_mid_reply, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("librpc/conn", tests, NULL, NULL);
}

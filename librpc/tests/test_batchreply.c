/* test_batchreply.c: rpc_server_set_reply_batching (DESIGN.md
 * "Connections"): with it on, replies made outside the connection's
 * callbacks for several calls of one connection wait until the last
 * unfinished call is answered or the loop iteration's callbacks end, and
 * then leave in one write; with it off each leaves at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "callutil.h"

#define HELD 0x00ff0011u

struct held_run
{
    struct cu_held h;        /* the server's held calls */
    struct rpc_client *c;    /* the client */
    struct cu_result r[3];   /* the three calls' outcomes */
    int done;                /* outcomes seen */
};

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

/* Registers the holding method and starts three unary calls "c0".."c2" on
 * one client; returns once the server holds all three. */
static void start_three(struct cu_fixture *f, struct held_run *hr)
{
    memset(hr, 0, sizeof *hr);
    cu_register_held(f, HELD, &hr->h);
    hr->c = cu_client(f, 30000);
    for (int i = 0; i < 3; i++) {
        char t[8];
        snprintf(t, sizeof t, "c%d", i);
        hr->r[i].counter = &hr->done;
        assert_int_equal(cu_start(hr->c, HELD, t, 0, 0, &hr->r[i], false,
                                  NULL),
                         0);
    }
    assert_true(rpcutil_loop_until_count(f->base, &hr->h.n, 3));
}

static void reply_text(struct rpc_call *call, const char *text)
{
    struct {
        pb_size_t size;
        pb_byte_t bytes[8];
    } b;
    b.size = (pb_size_t)strlen(text);
    memcpy(b.bytes, text, b.size);
    rpc_EchoResponse m = {.payload = (pb_bytes_array_t *)&b};
    assert_int_equal(rpc_call_reply(call, &m), 0);
}

static void check_replies(struct held_run *hr, int n)
{
    for (int i = 0; i < n; i++) {
        char t[8];
        snprintf(t, sizeof t, "r%d", i);
        assert_int_equal(hr->r[i].calls, 1);
        assert_int_equal(hr->r[i].rc, 0);
        assert_string_equal(hr->r[i].text, t);
    }
}

/* On: the first two replies stay in the connection's buffer (each
 * frame: 24-byte header + 2 payload bytes + 2 bytes of field tag and
 * length); the third, the connection's last unfinished call, takes all
 * three to the kernel at once. */
static void last_reply_takes_all(void **state)
{
    struct cu_fixture *f = *state;
    struct held_run hr;
    rpc_server_set_reply_batching(f->srv, true);
    start_three(f, &hr);
    struct rpc_call *last = hr.h.calls[2];
    assert_int_equal(rpc_call_queued_bytes(last), 0);
    reply_text(hr.h.calls[0], "r0");
    assert_int_equal(rpc_call_queued_bytes(last), 24 + 4);
    reply_text(hr.h.calls[1], "r1");
    assert_int_equal(rpc_call_queued_bytes(last), 2 * (24 + 4));
    reply_text(last, "r2");
    assert_int_equal(hr.done, 0);
    assert_true(rpcutil_loop_until_count(f->base, &hr.done, 3));
    check_replies(&hr, 3);
    rpc_client_destroy(hr.c);
}

/* On: two of three answered, then the loop runs: the pair leaves at the
 * end of the iteration (the third call still held) and arrives. */
static void loop_turn_flushes(void **state)
{
    struct cu_fixture *f = *state;
    struct held_run hr;
    rpc_server_set_reply_batching(f->srv, true);
    start_three(f, &hr);
    reply_text(hr.h.calls[0], "r0");
    reply_text(hr.h.calls[1], "r1");
    assert_int_equal(rpc_call_queued_bytes(hr.h.calls[2]), 2 * (24 + 4));
    assert_true(rpcutil_loop_until_count(f->base, &hr.done, 2));
    assert_int_equal(rpc_call_queued_bytes(hr.h.calls[2]), 0);
    check_replies(&hr, 2);
    assert_int_equal(hr.r[2].calls, 0);
    reply_text(hr.h.calls[2], "r2");
    assert_true(rpcutil_loop_until_count(f->base, &hr.done, 3));
    check_replies(&hr, 3);
    rpc_client_destroy(hr.c);
}

/* On, rpc_call_flush_reply: the reply of a marked call goes to the kernel
 * at once with the one queued before it (a kick for that one is pending:
 * the flush does not wait for it), the third call still unfinished; both
 * arrive; the kick then finds nothing left to write. */
static void flush_reply_sends_what_is_queued(void **state)
{
    struct cu_fixture *f = *state;
    struct held_run hr;
    rpc_server_set_reply_batching(f->srv, true);
    start_three(f, &hr);
    reply_text(hr.h.calls[0], "r0");
    assert_int_equal(rpc_call_queued_bytes(hr.h.calls[2]), 24 + 4);
    rpc_call_flush_reply(hr.h.calls[1]);
    reply_text(hr.h.calls[1], "r1");
    assert_int_equal(rpc_call_queued_bytes(hr.h.calls[2]), 0);
    assert_true(rpcutil_loop_until_count(f->base, &hr.done, 2));
    check_replies(&hr, 2);
    assert_int_equal(hr.r[2].calls, 0);
    reply_text(hr.h.calls[2], "r2");
    assert_true(rpcutil_loop_until_count(f->base, &hr.done, 3));
    check_replies(&hr, 3);
    rpc_call_flush_reply(NULL); /* a no-op */
    rpc_client_destroy(hr.c);
}

/* Off (the default): each reply is in the kernel when rpc_call_reply
 * returns, other calls unfinished or not. */
static void off_writes_each(void **state)
{
    struct cu_fixture *f = *state;
    struct held_run hr;
    start_three(f, &hr);
    reply_text(hr.h.calls[0], "r0");
    assert_int_equal(rpc_call_queued_bytes(hr.h.calls[2]), 0);
    reply_text(hr.h.calls[1], "r1");
    assert_int_equal(rpc_call_queued_bytes(hr.h.calls[2]), 0);
    reply_text(hr.h.calls[2], "r2");
    assert_true(rpcutil_loop_until_count(f->base, &hr.done, 3));
    check_replies(&hr, 3);
    rpc_client_destroy(hr.c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(last_reply_takes_all, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(loop_turn_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(flush_reply_sends_what_is_queued,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(off_writes_each, setup, teardown),
    };
    return cmocka_run_group_tests_name("librpc/batchreply", tests, NULL,
                                       NULL);
}

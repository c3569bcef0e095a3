/* test_writenow.c: a reply (or a call) made outside the connection's own
 * callbacks leaves at once when nothing waits before it; frames made while
 * a read is parsed, and stream messages, still leave together at the end
 * of the callback / loop iteration (DESIGN.md "Connections").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* Two held calls on one connection: the reply to the first, made from the
 * test (no callback of the connection on the stack), is in the kernel
 * when rpc_call_reply returns; a stream message on the second waits for
 * the loop. */
static void reply_leaves_at_once(void **state)
{
    struct cu_fixture *f = *state;
    struct cu_held h = {0};
    cu_register_held(f, HELD, &h);
    struct rpc_client *c = cu_client(f, 30000);
    struct cu_result r1 = {0}, r2 = {0};
    assert_int_equal(cu_start(c, HELD, "one", 0, 0, &r1, false, NULL), 0);
    assert_int_equal(cu_start(c, HELD, "two", 0, 0, &r2, true, NULL), 0);
    assert_true(rpcutil_loop_until_count(f->base, &h.n, 2));
    assert_int_equal(rpc_call_queued_bytes(h.calls[1]), 0);
    struct {
        pb_size_t size;
        pb_byte_t bytes[3];
    } one = {3, {'o', 'n', 'e'}};
    rpc_EchoResponse m = {.payload = (pb_bytes_array_t *)&one};
    assert_int_equal(rpc_call_reply(h.calls[0], &m), 0);
    assert_int_equal(rpc_call_queued_bytes(h.calls[1]), 0); /* written */
    rpc_EchoResponse s = {.seq = 1};
    assert_int_equal(rpc_call_stream_send(h.calls[1], &s), 0);
    assert_int_equal(rpc_call_queued_bytes(h.calls[1]), 24 + 2);
    assert_true(rpcutil_loop_until_count(f->base, &r1.calls, 1));
    assert_int_equal(r1.rc, 0);
    assert_string_equal(r1.text, "one");
    assert_true(rpcutil_loop_until_count(f->base, &r2.msgs, 1));
    assert_int_equal(rpc_call_queued_bytes(h.calls[1]), 0);
    assert_int_equal(rpc_call_stream_end(h.calls[1], 0), 0);
    assert_true(rpcutil_loop_until_count(f->base, &r2.calls, 1));
    assert_int_equal(r2.rc, 0);
    rpc_client_destroy(c);
}

/* 64 calls started together from the test get 64 echoes: the immediate
 * writes do not reorder or lose frames, and replies made inside the parse
 * of one read still go out (at its end). */
static void many_calls_at_once(void **state)
{
    struct cu_fixture *f = *state;
    struct rpc_client *c = cu_client(f, 30000);
    struct cu_result r[64];
    memset(r, 0, sizeof r);
    int done = 0;
    for (int i = 0; i < 64; i++) {
        char t[16];
        snprintf(t, sizeof t, "e%d", i);
        r[i].counter = &done;
        assert_int_equal(
            cu_start(c, RPC_METHOD_ECHO, t, 0, 0, &r[i], false, NULL), 0);
    }
    assert_true(rpcutil_loop_until_count(f->base, &done, 64));
    for (int i = 0; i < 64; i++) {
        char t[16];
        snprintf(t, sizeof t, "e%d", i);
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].rc, 0);
        assert_string_equal(r[i].text, t);
    }
    rpc_client_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reply_leaves_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(many_calls_at_once, setup, teardown),
    };
    return cmocka_run_group_tests_name("librpc/writenow", tests, NULL, NULL);
}

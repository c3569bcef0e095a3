/* test_heap.c: librpc's allocator hook: every librpc allocation goes
 * through it and is freed, and failing the i-th allocation for every i
 * (SQLite's faultsim) gives clean errors, never a crash or a leak (the
 * sanitizer build checks the leaks).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc_echo.pb.h"
#include "rpcutil.h"

static long allocs;  /* successful allocations */
static long frees;   /* frees of non-NULL pointers */
static long fail_at; /* fail the allocation with this index; -1 never */
static long seen;    /* allocation attempts */

static void *counting_malloc(size_t n)
{
    if (seen++ == fail_at)
        return NULL;
    void *p = malloc(n);
    if (p != NULL)
        allocs++;
    return p;
}

static void *counting_realloc(void *p, size_t n)
{
    return realloc(p, n);
}

static void counting_free(void *p)
{
    frees++;
    free(p);
}

static void reset(long fail)
{
    allocs = frees = seen = 0;
    fail_at = fail;
}

struct outcome
{
    int calls; /* done count */
    int rc;    /* its code */
};

static void done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct outcome *o = ud;
    (void)resp;
    (void)errmsg;
    o->calls++;
    o->rc = rc;
}

static void on_msg(const void *msg, void *ud)
{
    (void)msg;
    (void)ud;
}

/* Server, client, one echo and one stream call, teardown. Returns how the
 * first failing step failed (0: everything worked). */
static int scenario(void)
{
    signal(SIGPIPE, SIG_IGN); /* as a daemon using librpc must */
    struct event_base *base = event_base_new();
    struct rpc_server_options so = {.host = "127.0.0.1"};
    struct rpc_server *srv = NULL;
    struct rpc_client *cli = NULL;
    char err[256];
    int rc = rpc_server_create(base, &so, &srv, err, sizeof err);
    if (rc != 0)
        goto out;
    rc = rpc_server_add_echo(srv);
    if (rc != 0)
        goto out;
    rc = rpc_server_add_status(srv, "test", "0", NULL, NULL);
    if (rc != 0)
        goto out;
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = rpc_server_port(srv),
                                    .default_deadline_ms = 30000};
    rc = rpc_client_create(base, &co, &cli);
    if (rc != 0)
        goto out;
    rpc_EchoRequest req = {.count = 3};
    struct outcome o1 = {0}, o2 = {0};
    struct rpc_call_spec cs = {
        .method = RPC_METHOD_ECHO,
        .req_fields = rpc_EchoRequest_fields,
        .req = &req,
        .resp_fields = rpc_EchoResponse_fields,
        .resp_size = sizeof(rpc_EchoResponse),
        .done = done,
        .ud = &o1,
    };
    rc = rpc_client_call(cli, &cs, NULL);
    if (rc != 0)
        goto out;
    cs.method = RPC_METHOD_ECHO_STREAM;
    cs.on_msg = on_msg;
    cs.ud = &o2;
    rc = rpc_client_call(cli, &cs, NULL);
    if (rc != 0) {
        rpcutil_loop_until_count(base, &o1.calls, 1);
        goto out;
    }
    rpcutil_loop_until_count(base, &o1.calls, 1);
    rpcutil_loop_until_count(base, &o2.calls, 1);
    assert_int_equal(o1.calls, 1);
    assert_int_equal(o2.calls, 1);
    rc = o1.rc != 0 ? o1.rc : o2.rc;
out:
    rpc_client_destroy(cli);
    rpc_server_destroy(srv);
    event_base_free(base);
    return rc;
}

static void hook_sees_every_allocation(void **state)
{
    (void)state;
    rpc_heap_set(counting_malloc, counting_realloc, counting_free);
    reset(-1);
    assert_int_equal(scenario(), 0);
    assert_true(allocs > 5);
    assert_int_equal(frees, allocs);
    rpc_heap_set(NULL, NULL, NULL);
}

static void every_allocation_may_fail(void **state)
{
    (void)state;
    rpc_heap_set(counting_malloc, counting_realloc, counting_free);
    reset(-1);
    assert_int_equal(scenario(), 0);
    long total = seen;
    for (long i = 0; i < total; i++) {
        reset(i);
        int rc = scenario();
        /* A failed step says so with a code; a call that failed on the
         * server's side lost its connection. */
        assert_true(rc == 0 || rc == -ENOMEM || rc == RPC_ECONNLOST ||
                    rc == RPC_ECONNECT);
        assert_int_equal(frees, allocs);
    }
    rpc_heap_set(NULL, NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hook_sees_every_allocation),
        cmocka_unit_test(every_allocation_may_fail),
    };
    return cmocka_run_group_tests_name("librpc/heap", tests, NULL, NULL);
}

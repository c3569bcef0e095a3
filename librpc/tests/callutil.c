/* callutil.c: the one-loop fixture of librpc's call-level suites (see
 * callutil.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callutil.h"

struct cu_fixture *cu_setup(uint16_t port)
{
    signal(SIGPIPE, SIG_IGN); /* as a daemon using librpc must */
    struct cu_fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        abort();
    rpcutil_log_init(&f->log);
    rpcutil_log_init(&f->clog);
    f->base = event_base_new();
    f->port = port;
    cu_server_up(f);
    return f;
}

void cu_server_up(struct cu_fixture *f)
{
    struct rpc_server_options o = {.host = "127.0.0.1",
                                   .port = f->port,
                                   .log = rpcutil_log_fn,
                                   .log_ud = &f->log,
                                   .log_level = RPC_LOG_DEBUG};
    char err[256];
    if (rpc_server_create(f->base, &o, &f->srv, err, sizeof err) != 0) {
        fprintf(stderr, "rpc_server_create: %s\n", err);
        abort();
    }
    if (rpc_server_add_echo(f->srv) != 0)
        abort();
    f->port = rpc_server_port(f->srv);
}

void cu_server_down(struct cu_fixture *f)
{
    rpc_server_destroy(f->srv);
    f->srv = NULL;
}

void cu_teardown(struct cu_fixture *f)
{
    rpc_server_destroy(f->srv);
    event_base_free(f->base);
    rpcutil_log_destroy(&f->log);
    rpcutil_log_destroy(&f->clog);
    free(f);
}

struct rpc_client *cu_client(struct cu_fixture *f, int deadline_ms)
{
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = f->port,
                                    .default_deadline_ms = deadline_ms,
                                    .log = rpcutil_log_fn,
                                    .log_ud = &f->clog,
                                    .log_level = RPC_LOG_DEBUG};
    struct rpc_client *c = NULL;
    if (rpc_client_create(f->base, &co, &c) != 0)
        abort();
    return c;
}

static void held_cancel(struct rpc_call *call, void *ud)
{
    struct cu_held *h = ud;
    (void)call;
    h->canceled++;
}

static void held_handler(struct rpc_call *call, const void *req, void *ud)
{
    struct cu_held *h = ud;
    (void)req;
    rpc_call_on_cancel(call, held_cancel, h);
    if (h->n < 256)
        h->calls[h->n] = call;
    h->n++;
}

void cu_register_held(struct cu_fixture *f, uint32_t id, struct cu_held *h)
{
    struct rpc_method m = {
        .id = id,
        .name = "held",
        .req_fields = rpc_EchoRequest_fields,
        .req_size = sizeof(rpc_EchoRequest),
        .resp_fields = rpc_EchoResponse_fields,
        .handler = held_handler,
        .ud = h,
    };
    if (rpc_server_register(f->srv, &m) != 0)
        abort();
}

static void on_done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct cu_result *r = ud;
    r->calls++;
    r->rc = rc;
    snprintf(r->err, sizeof r->err, "%s", errmsg);
    const rpc_EchoResponse *m = resp;
    if (rc == 0 && m != NULL && m->payload != NULL)
        snprintf(r->text, sizeof r->text, "%.*s", (int)m->payload->size,
                 (const char *)m->payload->bytes);
    if (r->counter != NULL)
        (*r->counter)++;
    if (r->destroy != NULL)
        rpc_client_destroy(r->destroy);
}

static void on_msg(const void *msg, void *ud)
{
    struct cu_result *r = ud;
    (void)msg;
    r->msgs++;
}

int cu_start(struct rpc_client *c,
             uint32_t method,
             const char *text,
             uint32_t count,
             int deadline_ms,
             struct cu_result *r,
             bool stream,
             uint64_t *id)
{
    size_t n = strlen(text);
    pb_bytes_array_t *b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(n));
    if (b == NULL)
        abort();
    b->size = (pb_size_t)n;
    memcpy(b->bytes, text, n);
    rpc_EchoRequest req = {.payload = b, .count = count};
    struct rpc_call_spec cs = {
        .method = method,
        .req_fields = rpc_EchoRequest_fields,
        .req = &req,
        .resp_fields = rpc_EchoResponse_fields,
        .resp_size = sizeof(rpc_EchoResponse),
        .deadline_ms = deadline_ms,
        .done = on_done,
        .on_msg = stream ? on_msg : NULL,
        .ud = r,
    };
    int rc = rpc_client_call(c, &cs, id);
    free(b);
    return rc;
}

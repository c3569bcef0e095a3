/* bench_call_cost.c: the CPU work of one small unary call, both ends, in
 * one process and one loop over loopback: 64 calls in flight on one
 * connection, each a BlobMsg with a 16-byte FT_POINTER field and a
 * 100-byte blob (the shape of kv.RawRequest's key and value), answered
 * with the same fields. Made to be counted, not timed:
 * `scripts/instr-per-op.sh bench_call_cost` runs it under callgrind with
 * N and 3N calls and divides the difference by 2N (librpc/DESIGN.md
 * "Performance"). Usage: bench_call_cost [calls] (20000).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "rpc_test.pb.h"
#include "rpcutil.h"

#define M_ECHO 0x00ff0001u /* as in test_blob.c */

struct bench {
    struct rpc_client *cli; /* the connection */
    long total;             /* calls to make */
    long issued;            /* calls made */
    long done;              /* answered 0 */
    long errors;            /* answered an error */
    pb_bytes_array_t *small; /* the 16-byte field */
    uint8_t blob[100];      /* the blob field */
};

static void echo(struct rpc_call *call, const void *req, void *ud)
{
    const rpc_BlobMsg *in = req;
    (void)ud;
    rpc_BlobMsg out = {.seq = in->seq, .blob = in->blob, .small = in->small};
    rpc_call_reply(call, &out);
}

static void issue(struct bench *b);

static void on_done(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct bench *b = ud;
    (void)errmsg;
    const rpc_BlobMsg *r = resp;
    if (rc != 0 || r->blob.len != sizeof b->blob || r->small == NULL ||
        r->small->size != 16)
        b->errors++;
    else
        b->done++;
    if (b->issued < b->total)
        issue(b);
}

static void issue(struct bench *b)
{
    rpc_BlobMsg req = {.seq = (uint32_t)b->issued,
                       .blob = {b->blob, sizeof b->blob},
                       .small = b->small};
    struct rpc_call_spec cs = {.method = M_ECHO,
                               .req_fields = rpc_BlobMsg_fields,
                               .req = &req,
                               .resp_fields = rpc_BlobMsg_fields,
                               .resp_size = sizeof(rpc_BlobMsg),
                               .deadline_ms = 60000,
                               .done = on_done,
                               .ud = b};
    b->issued++;
    if (rpc_client_call(b->cli, &cs, NULL) != 0)
        b->errors++;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    struct bench b = {0};
    b.total = argc > 1 ? atol(argv[1]) : 20000;
    if (b.total <= 0) {
        fprintf(stderr, "usage: bench_call_cost [calls]\n");
        return 2;
    }
    struct event_base *base = event_base_new();
    struct rpc_server_options so = {.host = "127.0.0.1"};
    struct rpc_server *srv;
    char err[256];
    if (base == NULL || rpc_server_create(base, &so, &srv, err, sizeof err))
        return 1;
    struct rpc_method m = {.id = M_ECHO, .name = "bench.CallCost",
                           .req_fields = rpc_BlobMsg_fields,
                           .req_size = sizeof(rpc_BlobMsg),
                           .resp_fields = rpc_BlobMsg_fields,
                           .handler = echo};
    if (rpc_server_register(srv, &m) != 0)
        return 1;
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = rpc_server_port(srv)};
    if (rpc_client_create(base, &co, &b.cli) != 0)
        return 1;
    b.small = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(16));
    if (b.small == NULL)
        return 1;
    b.small->size = 16;
    memset(b.small->bytes, 'k', 16);
    memset(b.blob, 'v', sizeof b.blob);
    for (int i = 0; i < 64 && b.issued < b.total; i++)
        issue(&b);
    while (b.done + b.errors < b.total)
        if (event_base_loop(base, EVLOOP_ONCE) != 0)
            break;
    printf("INFO call_cost calls=%ld errors=%ld\n", b.done, b.errors);
    rpc_client_destroy(b.cli);
    rpc_server_destroy(srv);
    event_base_free(base);
    free(b.small);
    return b.errors == 0 && b.done == b.total ? 0 : 1;
}

/* bench_blob.c: large payloads on loopback (one loop runs server and
 * client): MB/s of 1 MiB and 8 MiB blob echoes (struct rpc_blob fields),
 * against moving the same bytes as 64 KiB-1 chunks through the FT_POINTER
 * echo (the pre-blob way). Prints BENCH lines; each case runs
 * BENCH_SECONDS (2). MB/s counts the payload once per round trip.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>

#include "rpc_echo.pb.h"
#include "rpc_test.pb.h"
#include "rpcutil.h"

#define M_ECHO 0x00ff0001u /* as in test_blob.c */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void blob_echo(struct rpc_call *call, const void *req, void *ud)
{
    const rpc_BlobMsg *in = req;
    (void)ud;
    rpc_BlobMsg out = {.seq = in->seq, .blob = in->blob};
    rpc_call_reply(call, &out);
}

struct wait
{
    bool done; /* done fired */
    int rc;    /* its code */
    size_t n;  /* bytes in the reply */
};

static void on_blob(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct wait *w = ud;
    (void)errmsg;
    w->done = true;
    w->rc = rc;
    if (rc == 0)
        w->n = ((const rpc_BlobMsg *)resp)->blob.len;
}

static void on_echo(int rc, const void *resp, const char *errmsg, void *ud)
{
    struct wait *w = ud;
    (void)errmsg;
    w->done = true;
    w->rc = rc;
    const rpc_EchoResponse *r = resp;
    if (rc == 0 && r->payload != NULL)
        w->n = r->payload->size;
}

/* One round trip of len bytes: one blob call, or chunked echo calls. */
static int round_trip(struct event_base *base,
                      struct rpc_client *cli,
                      uint8_t *data,
                      size_t len,
                      bool chunked,
                      pb_bytes_array_t *chunk)
{
    if (!chunked) {
        rpc_BlobMsg req = {.blob = {data, len}};
        struct wait w = {0};
        struct rpc_call_spec cs = {
            .method = M_ECHO, .req_fields = rpc_BlobMsg_fields, .req = &req,
            .resp_fields = rpc_BlobMsg_fields,
            .resp_size = sizeof(rpc_BlobMsg), .deadline_ms = 60000,
            .done = on_blob, .ud = &w};
        if (rpc_client_call(cli, &cs, NULL) != 0 ||
            !rpcutil_loop_until(base, &w.done) || w.rc != 0 || w.n != len)
            return -1;
        return 0;
    }
    for (size_t off = 0; off < len; off += 65535) {
        size_t n = len - off < 65535 ? len - off : 65535;
        chunk->size = (pb_size_t)n;
        memcpy(chunk->bytes, data + off, n);
        rpc_EchoRequest req = {.payload = chunk};
        struct wait w = {0};
        struct rpc_call_spec cs = {
            .method = RPC_METHOD_ECHO, .req_fields = rpc_EchoRequest_fields,
            .req = &req, .resp_fields = rpc_EchoResponse_fields,
            .resp_size = sizeof(rpc_EchoResponse), .deadline_ms = 60000,
            .done = on_echo, .ud = &w};
        if (rpc_client_call(cli, &cs, NULL) != 0 ||
            !rpcutil_loop_until(base, &w.done) || w.rc != 0 || w.n != n)
            return -1;
    }
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    double seconds = 2.0;
    const char *env = getenv("BENCH_SECONDS");
    if (env != NULL && atof(env) > 0)
        seconds = atof(env);
    struct event_base *base = event_base_new();
    struct rpc_server_options so = {.host = "127.0.0.1",
                                    .max_frame = 32u << 20,
                                    .max_out_buffered = 64u << 20};
    struct rpc_server *srv;
    char err[256];
    if (base == NULL || rpc_server_create(base, &so, &srv, err, sizeof err))
        return 1;
    struct rpc_method m = {.id = M_ECHO, .name = "bench.BlobEcho",
                           .req_fields = rpc_BlobMsg_fields,
                           .req_size = sizeof(rpc_BlobMsg),
                           .resp_fields = rpc_BlobMsg_fields,
                           .handler = blob_echo};
    if (rpc_server_register(srv, &m) != 0 || rpc_server_add_echo(srv) != 0)
        return 1;
    struct rpc_client_options co = {.host = "127.0.0.1",
                                    .port = rpc_server_port(srv),
                                    .max_frame = 32u << 20};
    struct rpc_client *cli;
    if (rpc_client_create(base, &co, &cli) != 0)
        return 1;
    static const size_t sizes[] = {1u << 20, 8u << 20};
    static const char *const tags[] = {"1m", "8m"};
    pb_bytes_array_t *chunk = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(65535));
    uint8_t *data = malloc(8u << 20);
    if (chunk == NULL || data == NULL)
        return 1;
    for (size_t i = 0; i < (8u << 20); i++)
        data[i] = (uint8_t)(i * 7);
    int rc = 0;
    for (size_t s = 0; s < 2; s++) {
        double mbs[2];
        for (int chunked = 0; chunked < 2; chunked++) {
            long n = 0;
            double t0 = now_s(), c0 = cpu_s();
            while (now_s() - t0 < seconds || n == 0) {
                if (round_trip(base, cli, data, sizes[s], chunked, chunk)) {
                    fprintf(stderr, "bench_blob: call failed\n");
                    rc = 1;
                    goto out;
                }
                n++;
            }
            double dt = now_s() - t0, dc = cpu_s() - c0;
            mbs[chunked] = (double)n * (double)sizes[s] / dt / 1e6;
            printf("BENCH %s_echo_%s %.1f MB/s\n",
                   chunked ? "chunked" : "blob", tags[s], mbs[chunked]);
            printf("BENCH %s_echo_%s_cpu %.2f ms\n",
                   chunked ? "chunked" : "blob", tags[s], dc / (double)n * 1e3);
        }
        printf("BENCH blob_echo_%s_vs_chunked %.2f x\n", tags[s],
               mbs[0] / mbs[1]);
    }
out:
    free(chunk);
    free(data);
    rpc_client_destroy(cli);
    rpc_server_destroy(srv);
    event_base_free(base);
    return rc;
}

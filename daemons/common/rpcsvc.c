/* rpcsvc.c: wires librpc into a daemon: the listener, echo, and the status
 * probe answered from the runtime (docs/daemons.md, "RPC").
 */
#include "rpcsvc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rpc.h>

#include "rpc_echo.pb.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void dmn_rpc_log(void *ud, int level, const char *msg)
{
    (void)ud;
    static const enum dmn_log_level map[] = {DMN_LOG_ERROR, DMN_LOG_WARN,
                                             DMN_LOG_INFO, DMN_LOG_DEBUG};
    enum dmn_log_level l =
        level >= 0 && level <= 3 ? map[level] : DMN_LOG_DEBUG;
    dmn_log(l, "rpc: %s", msg);
}

static void on_status(struct rpc_call *call, const void *req, void *ud)
{
    struct dmn_runtime *rt = ud;
    (void)req;
    char detail[4200];
    uint64_t uptime = now_ms() - rt->started_ms;
    /* data_dir is a path the operator chose: quote the characters JSON
     * needs quoted. */
    char dir[4096];
    size_t k = 0;
    for (const char *p = rt->data_dir; *p && k + 2 < sizeof(dir); p++) {
        if (*p == '"' || *p == '\\')
            dir[k++] = '\\';
        dir[k++] = (unsigned char)*p < 0x20 ? '?' : *p;
    }
    dir[k] = '\0';
    snprintf(detail, sizeof(detail), "{\"data_dir\": \"%s\", \"pid\": %ld}",
             dir, (long)rt->pid);
    rpc_StatusResponse resp = {
        .role = (char *)(uintptr_t)rt->program,
        .version = (char *)(uintptr_t)DMN_VERSION_STRING,
        .uptime_ms = &uptime,
        .detail = detail,
    };
    rpc_call_reply(call, &resp);
}

int dmn_rpc_start(struct dmn_runtime *rt, const char *listen,
                  struct rpc_server **out)
{
    char host[256];
    uint16_t port;
    char err[256];
    if (dmn_cfg_split_addr(listen, host, sizeof(host), &port) != 0) {
        dmn_error("listen: bad address '%s'", listen);
        return -1;
    }
    struct rpc_server_options so = {
        .host = host,
        .port = port,
        .log = dmn_rpc_log,
        .log_level = dmn_log_enabled(DMN_LOG_DEBUG) ? RPC_LOG_DEBUG
                                                    : RPC_LOG_INFO,
    };
    struct rpc_server *srv;
    if (rpc_server_create(rt->base, &so, &srv, err, sizeof(err)) != 0) {
        dmn_error("cannot serve RPC on %s: %s", listen, err);
        return -1;
    }
    struct rpc_method status = {
        .id = RPC_METHOD_STATUS,
        .name = "Status",
        .req_fields = &rpc_StatusRequest_msg,
        .req_size = sizeof(rpc_StatusRequest),
        .resp_fields = &rpc_StatusResponse_msg,
        .handler = on_status,
        .ud = rt,
    };
    int rc = rpc_server_add_echo(srv);
    if (rc == 0)
        rc = rpc_server_register(srv, &status);
    if (rc != 0) {
        dmn_error("cannot register RPC methods: %s", rpc_strerror(rc));
        rpc_server_destroy(srv);
        return -1;
    }
    dmn_info("serving RPC on %s:%u", host, (unsigned)rpc_server_port(srv));
    *out = srv;
    return 0;
}

void dmn_rpc_stop(struct rpc_server *srv)
{
    rpc_server_destroy(srv);
}

/* rpcsvc.c: wires librpc into a daemon: the listener, echo, and librpc's
 * status probe with the daemon's role, version and data-dir (docs/daemons.md, "RPC").
 */
#include "rpcsvc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpc.h>

#include "cluster_tls.h"

void dmn_rpc_log(void *ud, int level, const char *msg)
{
    (void)ud;
    static const enum dmn_log_level map[] = {DMN_LOG_ERROR, DMN_LOG_WARN,
                                             DMN_LOG_INFO, DMN_LOG_DEBUG};
    enum dmn_log_level l =
        level >= 0 && level <= 3 ? map[level] : DMN_LOG_DEBUG;
    /* A peer refused by cluster TLS (no certificate, another CA, not TLS
     * at all) is worth an operator's attention, not just a closed
     * connection among many. */
    if (l == DMN_LOG_INFO && dmn_cluster_tls_server() &&
        (strstr(msg, "TLS") || strstr(msg, "certificate")))
        l = DMN_LOG_WARN;
    dmn_log(l, "rpc: %s", msg);
}

/* The status probe's detail: {"data_dir": ..., "pid": ...}, built once at
 * start (the data directory never changes while we run). */
static const char *status_detail(void *ud)
{
    return ud;
}

static char *make_detail(const struct dmn_runtime *rt)
{
    /* data_dir is a path the operator chose: quote what JSON needs. */
    char dir[4096];
    size_t k = 0;
    for (const char *p = rt->data_dir; *p && k + 2 < sizeof(dir); p++) {
        if (*p == '"' || *p == '\\')
            dir[k++] = '\\';
        dir[k++] = (unsigned char)*p < 0x20 ? '?' : *p;
    }
    dir[k] = '\0';
    char *out = NULL;
    if (asprintf(&out, "{\"data_dir\": \"%s\", \"pid\": %ld}", dir,
                 rt->pid) < 0)
        return NULL;
    return out;
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
        .tls = dmn_cluster_tls_server(),
        .log = dmn_rpc_log,
        .log_level = dmn_log_enabled(DMN_LOG_DEBUG) ? RPC_LOG_DEBUG
                                                    : RPC_LOG_INFO,
    };
    struct rpc_server *srv;
    if (rpc_server_create(rt->base, &so, &srv, err, sizeof(err)) != 0) {
        dmn_error("cannot serve RPC on %s: %s", listen, err);
        return -1;
    }
    free(rt->status_detail);
    rt->status_detail = make_detail(rt);
    int rc = rt->status_detail ? rpc_server_add_echo(srv) : -ENOMEM;
    if (rc == 0)
        rc = rpc_server_add_status(srv, rt->program, DMN_VERSION_STRING,
                                   status_detail, rt->status_detail);
    if (rc != 0) {
        dmn_error("cannot register RPC methods: %s", rpc_strerror(rc));
        rpc_server_destroy(srv);
        return -1;
    }
    dmn_info("serving RPC on %s:%u%s", host, (unsigned)rpc_server_port(srv),
             dmn_cluster_tls_server() ? " (mutual TLS: peers need a "
                                        "certificate from cluster-ssl-ca)"
                                      : "");
    *out = srv;
    return 0;
}

void dmn_rpc_stop(struct rpc_server *srv)
{
    rpc_server_destroy(srv);
}

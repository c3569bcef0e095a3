/* main.c: kvd, the storage node: regions replicated by Raft on RocksDB
 * (../shared/DESIGN.md). For now it runs the shared daemon plumbing: its
 * settings, log, locked data directory, an RPC endpoint with echo and
 * status, and graceful stop.
 */
#include <stddef.h>
#include <stdint.h>

#include "rpcsvc.h"
#include "runtime.h"

struct kvd_settings
{
    struct dmn_common common; /* data-dir, log.* */
    char *listen;             /* listen: host:port for RPC */
};

static const struct dmn_cfg_key kvd_keys[] = {
    DMN_COMMON_KEYS(struct kvd_settings, common, "./data/kvd"),
    {"listen", DMN_CFG_ADDR, offsetof(struct kvd_settings, listen),
     "127.0.0.1:20160", 0, 0, NULL, "address to serve RPC on"},
};

static const struct dmn_cfg_schema kvd_schema = {
    "kvd", kvd_keys, sizeof(kvd_keys) / sizeof(kvd_keys[0])};

int main(int argc, char **argv)
{
    struct kvd_settings s = {0};
    struct dmn_runtime rt;
    int rc = dmn_start(&rt, &kvd_schema, &s, &s.common, argc, argv);
    if (rc != DMN_CONTINUE)
        return rc;
    struct rpc_server *rpc = NULL;
    if (dmn_rpc_start(&rt, s.listen, &rpc) != 0) {
        dmn_finish(&rt, &kvd_schema, &s);
        return DMN_EXIT_FAIL;
    }
    rc = dmn_run(&rt);
    if (rc != 0)
        dmn_error("event loop failed");
    dmn_rpc_stop(rpc);
    dmn_finish(&rt, &kvd_schema, &s);
    return rc == 0 ? DMN_EXIT_OK : DMN_EXIT_FAIL;
}

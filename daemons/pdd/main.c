/* main.c: pdd, the placement driver: TSO, IDs, cluster map, scheduling
 * (../shared/DESIGN.md). For now it runs the shared daemon plumbing: its
 * settings, log, locked data directory, an RPC endpoint with echo and
 * status, and graceful stop.
 */
#include <stddef.h>
#include <stdint.h>

#include "rpcsvc.h"
#include "runtime.h"

struct pdd_settings
{
    struct dmn_common common; /* data-dir, log.* */
    char *listen;             /* listen: host:port for RPC */
};

static const struct dmn_cfg_key pdd_keys[] = {
    DMN_COMMON_KEYS(struct pdd_settings, common, "./data/pdd"),
    {"listen", DMN_CFG_ADDR, offsetof(struct pdd_settings, listen),
     "127.0.0.1:2379", 0, 0, NULL, "address to serve RPC on"},
};

static const struct dmn_cfg_schema pdd_schema = {
    "pdd", pdd_keys, sizeof(pdd_keys) / sizeof(pdd_keys[0])};

int main(int argc, char **argv)
{
    struct pdd_settings s = {0};
    struct dmn_runtime rt;
    int rc = dmn_start(&rt, &pdd_schema, &s, &s.common, argc, argv);
    if (rc != DMN_CONTINUE)
        return rc;
    struct rpc_server *rpc = NULL;
    if (dmn_rpc_start(&rt, s.listen, &rpc) != 0) {
        dmn_finish(&rt, &pdd_schema, &s);
        return DMN_EXIT_FAIL;
    }
    rc = dmn_run(&rt);
    if (rc != 0)
        dmn_error("event loop failed");
    dmn_rpc_stop(rpc);
    dmn_finish(&rt, &pdd_schema, &s);
    return rc == 0 ? DMN_EXIT_OK : DMN_EXIT_FAIL;
}

/* main.c: sqld, the stateless MySQL-compatible SQL front end
 * (../shared/DESIGN.md). Its settings and plumbing are in place; the SQL
 * layer (libsql) is not built yet, so it says so and exits.
 */
#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

struct sqld_settings
{
    struct dmn_common common; /* data-dir, log.* */
    char *listen;             /* listen: host:port for MySQL clients */
    char *store;              /* store: local or cluster */
};

static const char *const store_kinds[] = {"local", "cluster", NULL};

static const struct dmn_cfg_key sqld_keys[] = {
    DMN_COMMON_KEYS(struct sqld_settings, common, "./data/sqld"),
    {"listen", DMN_CFG_ADDR, offsetof(struct sqld_settings, listen),
     "127.0.0.1:4000", 0, 0, NULL, "address to serve MySQL clients on"},
    {"store", DMN_CFG_ENUM, offsetof(struct sqld_settings, store), "local", 0,
     0, store_kinds, "local (embedded) or cluster (kvd and pdd)"},
};

static const struct dmn_cfg_schema sqld_schema = {
    "sqld", sqld_keys, sizeof(sqld_keys) / sizeof(sqld_keys[0])};

int main(int argc, char **argv)
{
    struct sqld_settings s = {0};
    struct dmn_runtime rt;
    int rc = dmn_start(&rt, &sqld_schema, &s, &s.common, argc, argv);
    if (rc != DMN_CONTINUE)
        return rc;
    dmn_error("the SQL layer (libsql) is not built yet, so sqld cannot serve "
              "%s; see README.md for what runs today",
              s.listen);
    dmn_finish(&rt, &sqld_schema, &s);
    return DMN_EXIT_FAIL;
}

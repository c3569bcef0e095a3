/* fuzz_config.c: arbitrary bytes as a daemon's YAML config file must give
 * settings or a clean error, never a crash or a leak.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

struct fz
{
    char *name;        /* name */
    int64_t n;         /* a.n */
    int64_t d;         /* a.d */
    int64_t sz;        /* a.b.size */
    bool flag;         /* a.b.flag */
    char *pick;        /* pick */
    char *addr;        /* addr */
    char **list;       /* list */
    char *secret;      /* secret */
};

static const char *const picks[] = {"x", "y", NULL};
static const struct dmn_cfg_key keys[] = {
    {"name", DMN_CFG_STRING, offsetof(struct fz, name), "n", 0, 0, NULL, ""},
    {"a.n", DMN_CFG_INT, offsetof(struct fz, n), "1", -5, 5, NULL, ""},
    {"a.d", DMN_CFG_DURATION, offsetof(struct fz, d), "1s", 0, INT64_MAX,
     NULL, ""},
    {"a.b.size", DMN_CFG_SIZE, offsetof(struct fz, sz), "1KiB", 0, INT64_MAX,
     NULL, ""},
    {"a.b.flag", DMN_CFG_BOOL, offsetof(struct fz, flag), "no", 0, 0, NULL,
     ""},
    {"pick", DMN_CFG_ENUM, offsetof(struct fz, pick), "x", 0, 0, picks, ""},
    {"addr", DMN_CFG_ADDR, offsetof(struct fz, addr), "h:1", 0, 0, NULL, ""},
    {"list", DMN_CFG_LIST, offsetof(struct fz, list), "a,b", 0, 0, NULL, ""},
    {"secret", DMN_CFG_SECRET, offsetof(struct fz, secret), NULL, 0, 0, NULL,
     ""},
};
static const struct dmn_cfg_schema schema = {"fuzz", keys,
                                             sizeof(keys) / sizeof(keys[0])};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz s;
    char err[512];
    memset(&s, 0, sizeof(s));
    int rc = dmn_cfg_load_yaml(&schema, &s, (const char *)data, size,
                               "fuzz.yaml", err, sizeof(err));
    if (rc != 0 && err[0] == '\0')
        __builtin_trap(); /* every error must say what is wrong */
    dmn_cfg_free(&schema, &s);
    return 0;
}

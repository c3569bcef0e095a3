/* version.c: librpc's version number and result-code messages.
 * The codes are listed once, in RPC_ERROR_TABLE in include/rpc.h.
 */
#include <string.h>

#include "rpc.h"

int rpc_version_number(void)
{
    return RPC_VERSION_NUMBER;
}

const char *rpc_strerror(int rc)
{
    if (rc == 0)
        return "success";
    if (rc < 0 && rc > -6000)
        return strerror(-rc);
    switch (rc) {
#define RPC__ERROR_CASE(name, value, text) \
    case (value):                           \
        return (text);
        RPC_ERROR_TABLE(RPC__ERROR_CASE)
#undef RPC__ERROR_CASE
    default:
        return "unknown librpc result code";
    }
}

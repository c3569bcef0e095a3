/* version.c: libraft's version number and result-code messages.
 * The codes are listed once, in RAFT_ERROR_TABLE in include/raft.h.
 */
#include <string.h>

#include "raft.h"

int raft_version_number(void)
{
    return RAFT_VERSION_NUMBER;
}

const char *raft_strerror(int rc)
{
    if (rc == 0)
        return "success";
    if (rc < 0 && rc > -1000)
        return strerror(-rc);
    switch (rc) {
#define RAFT__ERROR_CASE(name, value, text) \
    case (value):                           \
        return (text);
        RAFT_ERROR_TABLE(RAFT__ERROR_CASE)
#undef RAFT__ERROR_CASE
    default:
        return "unknown libraft result code";
    }
}

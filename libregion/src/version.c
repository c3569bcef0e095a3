/* version.c: libregion's version number and result-code messages.
 * The codes are listed once, in REGION_ERROR_TABLE in include/region.h;
 * libraft's and libmvcc's, which cross into libregion's results
 * untranslated, are named by their own libraries.
 */
#include <string.h>

#include "mvcc.h"
#include "raft.h"
#include "region.h"

int region_version_number(void)
{
    return REGION_VERSION_NUMBER;
}

const char *region_strerror(int rc)
{
    if (rc == 0)
        return "success";
    if (rc < 0 && rc > -1000)
        return strerror(-rc);
    if (rc <= -1000 && rc > -2000)
        return raft_strerror(rc);
    if (rc <= -2000 && rc > -3000)
        return mvcc_strerror(rc);
    switch (rc) {
#define REGION__ERROR_CASE(name, value, text) \
    case (value):                           \
        return (text);
        REGION_ERROR_TABLE(REGION__ERROR_CASE)
#undef REGION__ERROR_CASE
    default:
        return "unknown libregion result code";
    }
}

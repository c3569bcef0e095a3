/* version.c: libmvcc's version number and result-code messages.
 * The codes are listed once, in MVCC_ERROR_TABLE in include/mvcc.h.
 */
#include <string.h>

#include "mvcc.h"

int mvcc_version_number(void)
{
    return MVCC_VERSION_NUMBER;
}

const char *mvcc_strerror(int rc)
{
    if (rc == 0)
        return "success";
    if (rc < 0 && rc > -1000)
        return strerror(-rc);
    switch (rc) {
#define MVCC__ERROR_CASE(name, value, text) \
    case (value):                           \
        return (text);
        MVCC_ERROR_TABLE(MVCC__ERROR_CASE)
#undef MVCC__ERROR_CASE
    default:
        return "unknown libmvcc result code";
    }
}

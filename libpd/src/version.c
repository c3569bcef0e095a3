/* version.c: libpd's version number and result-code messages.
 * The codes are listed once, in PD_ERROR_TABLE in include/pd.h.
 */
#include <string.h>

#include "pd.h"

int pd_version_number(void)
{
    return PD_VERSION_NUMBER;
}

const char *pd_strerror(int rc)
{
    if (rc == 0)
        return "success";
    if (rc < 0 && rc > -1000)
        return strerror(-rc);
    switch (rc) {
#define PD__ERROR_CASE(name, value, text) \
    case (value):                           \
        return (text);
        PD_ERROR_TABLE(PD__ERROR_CASE)
#undef PD__ERROR_CASE
    default:
        return "unknown libpd result code";
    }
}

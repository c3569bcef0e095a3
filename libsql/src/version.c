/* version.c: libsql's version number and result-code messages.
 * The codes are listed once, in SQL_ERROR_TABLE in include/sql.h.
 */
#include <string.h>

#include "sql.h"

int sql_version_number(void)
{
    return SQL_VERSION_NUMBER;
}

const char *sql_strerror(int rc)
{
    if (rc == 0)
        return "success";
    if (rc < 0 && rc > -1000)
        return strerror(-rc);
    switch (rc) {
#define SQL__ERROR_CASE(name, value, text) \
    case (value):                           \
        return (text);
        SQL_ERROR_TABLE(SQL__ERROR_CASE)
#undef SQL__ERROR_CASE
    default:
        return "unknown libsql result code";
    }
}

/* sql.h: the one public header of libsql, the SQL layer: MySQL protocol, parser, planner, executor, codec, catalog.
 * What is not declared here is not API. See libsql/DESIGN.md.
 */
#ifndef SQL_H
#define SQL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to libsql/VERSION (the build checks it). */
#define SQL_VERSION_MAJOR 0
#define SQL_VERSION_MINOR 1
#define SQL_VERSION_PATCH 0
#define SQL_VERSION_NUMBER \
    (SQL_VERSION_MAJOR * 1000000 + SQL_VERSION_MINOR * 1000 + SQL_VERSION_PATCH)

/* The SQL_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int sql_version_number(void);

/* Result codes. 0 is success; -1..-999 are negative errno values; libsql's
 * own codes are -5000..-5999. X(name, value, message). */
#define SQL_ERROR_TABLE(X)                                                 \
    X(SQL_EINTERNAL, -5000, "internal error in libsql")                    \
    X(SQL_ESYNTAX, -5001, "SQL syntax error")                              \
    X(SQL_ETOO_DEEP, -5002, "statement nests deeper than the parser allows") \
    X(SQL_EPROTO, -5003, "malformed MySQL protocol packet")                \
    X(SQL_EPACKET_TOO_LARGE, -5004, "packet larger than max_allowed_packet") \
    X(SQL_EAUTH, -5005, "authentication failed")

enum sql_error {
#define SQL__ERROR_ENUM(name, value, text) name = (value),
    SQL_ERROR_TABLE(SQL__ERROR_ENUM)
#undef SQL__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *sql_strerror(int rc);

#ifdef __cplusplus
}
#endif

#endif /* SQL_H */

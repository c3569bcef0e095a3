/* mvcc.h: the one public header of libmvcc, Percolator transactions (snapshot isolation) over a pluggable key-value engine.
 * What is not declared here is not API. See libmvcc/DESIGN.md.
 */
#ifndef MVCC_H
#define MVCC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to libmvcc/VERSION (the build checks it). */
#define MVCC_VERSION_MAJOR 0
#define MVCC_VERSION_MINOR 1
#define MVCC_VERSION_PATCH 0
#define MVCC_VERSION_NUMBER \
    (MVCC_VERSION_MAJOR * 1000000 + MVCC_VERSION_MINOR * 1000 + MVCC_VERSION_PATCH)

/* The MVCC_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int mvcc_version_number(void);

/* Result codes. 0 is success; -1..-999 are negative errno values; libmvcc's
 * own codes are -2000..-2999. X(name, value, message). */
#define MVCC_ERROR_TABLE(X) \
    X(MVCC_EINTERNAL, -2000, "internal error in libmvcc")

enum mvcc_error {
#define MVCC__ERROR_ENUM(name, value, text) name = (value),
    MVCC_ERROR_TABLE(MVCC__ERROR_ENUM)
#undef MVCC__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *mvcc_strerror(int rc);

#ifdef __cplusplus
}
#endif

#endif /* MVCC_H */

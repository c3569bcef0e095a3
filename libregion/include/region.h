/* region.h: the one public header of libregion, a multi-Raft store: regions, Raft log on RocksDB, apply, split/merge, snapshots.
 * What is not declared here is not API. See libregion/DESIGN.md.
 */
#ifndef REGION_H
#define REGION_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to libregion/VERSION (the build checks it). */
#define REGION_VERSION_MAJOR 0
#define REGION_VERSION_MINOR 1
#define REGION_VERSION_PATCH 0
#define REGION_VERSION_NUMBER \
    (REGION_VERSION_MAJOR * 1000000 + REGION_VERSION_MINOR * 1000 + REGION_VERSION_PATCH)

/* The REGION_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int region_version_number(void);

/* Result codes. 0 is success; -1..-999 are negative errno values; libregion's
 * own codes are -3000..-3999. X(name, value, message). */
#define REGION_ERROR_TABLE(X) \
    X(REGION_EINTERNAL, -3000, "internal error in libregion")

enum region_error {
#define REGION__ERROR_ENUM(name, value, text) name = (value),
    REGION_ERROR_TABLE(REGION__ERROR_ENUM)
#undef REGION__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *region_strerror(int rc);

#ifdef __cplusplus
}
#endif

#endif /* REGION_H */

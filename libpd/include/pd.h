/* pd.h: the one public header of libpd, the placement driver's logic (TSO, IDs, cluster map, schedulers) and its client.
 * What is not declared here is not API. See libpd/DESIGN.md.
 */
#ifndef PD_H
#define PD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to libpd/VERSION (the build checks it). */
#define PD_VERSION_MAJOR 0
#define PD_VERSION_MINOR 1
#define PD_VERSION_PATCH 0
#define PD_VERSION_NUMBER \
    (PD_VERSION_MAJOR * 1000000 + PD_VERSION_MINOR * 1000 + PD_VERSION_PATCH)

/* The PD_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int pd_version_number(void);

/* Result codes. 0 is success; -1..-999 are negative errno values; libpd's
 * own codes are -4000..-4999. X(name, value, message). */
#define PD_ERROR_TABLE(X) \
    X(PD_EINTERNAL, -4000, "internal error in libpd")

enum pd_error {
#define PD__ERROR_ENUM(name, value, text) name = (value),
    PD_ERROR_TABLE(PD__ERROR_ENUM)
#undef PD__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *pd_strerror(int rc);

#ifdef __cplusplus
}
#endif

#endif /* PD_H */

/* rpc.h: the one public header of librpc, length-prefixed nanopb RPC over libevent, with TLS by mbedtls.
 * What is not declared here is not API. See librpc/DESIGN.md.
 */
#ifndef RPC_H
#define RPC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to librpc/VERSION (the build checks it). */
#define RPC_VERSION_MAJOR 0
#define RPC_VERSION_MINOR 1
#define RPC_VERSION_PATCH 0
#define RPC_VERSION_NUMBER \
    (RPC_VERSION_MAJOR * 1000000 + RPC_VERSION_MINOR * 1000 + RPC_VERSION_PATCH)

/* The RPC_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int rpc_version_number(void);

/* Result codes. 0 is success; -1..-999 are negative errno values; librpc's
 * own codes are -6000..-6999. X(name, value, message). */
#define RPC_ERROR_TABLE(X) \
    X(RPC_EINTERNAL, -6000, "internal error in librpc")

enum rpc_error {
#define RPC__ERROR_ENUM(name, value, text) name = (value),
    RPC_ERROR_TABLE(RPC__ERROR_ENUM)
#undef RPC__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *rpc_strerror(int rc);

#ifdef __cplusplus
}
#endif

#endif /* RPC_H */

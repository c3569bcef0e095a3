/* raft.h: the one public header of libraft, an I/O-free Raft consensus core (elections, replication, reads, snapshots, membership).
 * What is not declared here is not API. See libraft/DESIGN.md.
 */
#ifndef RAFT_H
#define RAFT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to libraft/VERSION (the build checks it). */
#define RAFT_VERSION_MAJOR 0
#define RAFT_VERSION_MINOR 1
#define RAFT_VERSION_PATCH 0
#define RAFT_VERSION_NUMBER \
    (RAFT_VERSION_MAJOR * 1000000 + RAFT_VERSION_MINOR * 1000 + RAFT_VERSION_PATCH)

/* The RAFT_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int raft_version_number(void);

/* Result codes. 0 is success; -1..-999 are negative errno values; libraft's
 * own codes are -1000..-1999. X(name, value, message). */
#define RAFT_ERROR_TABLE(X) \
    X(RAFT_EINTERNAL, -1000, "internal error in libraft")

enum raft_error {
#define RAFT__ERROR_ENUM(name, value, text) name = (value),
    RAFT_ERROR_TABLE(RAFT__ERROR_ENUM)
#undef RAFT__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *raft_strerror(int rc);

#ifdef __cplusplus
}
#endif

#endif /* RAFT_H */

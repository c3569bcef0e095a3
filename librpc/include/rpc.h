/* rpc.h: the one public header of librpc, length-prefixed nanopb RPC over libevent, with TLS by mbedtls.
 * What is not declared here is not API. See librpc/DESIGN.md.
 */
#ifndef RPC_H
#define RPC_H

#include <stdbool.h>
#include <stddef.h>
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
#define RPC_ERROR_TABLE(X)                                                   \
    X(RPC_EINTERNAL, -6000, "internal error in librpc")                      \
    X(RPC_EPROTO, -6001, "protocol error: malformed frame from the peer")   \
    X(RPC_EFRAME_TOO_LARGE, -6002, "frame larger than the size limit")      \
    X(RPC_EBAD_MAGIC, -6003, "bad frame magic: the peer does not speak librpc") \
    X(RPC_EVERSION, -6004, "unsupported librpc protocol version")           \
    X(RPC_EUNKNOWN_METHOD, -6005, "unknown method id")                      \
    X(RPC_EDECODE, -6006, "payload does not decode as the method's message") \
    X(RPC_EENCODE, -6007, "message could not be encoded")                   \
    X(RPC_EDEADLINE, -6008, "deadline exceeded")                            \
    X(RPC_ECANCELED, -6009, "call canceled")                                \
    X(RPC_ECONNLOST, -6010, "connection lost before the reply")             \
    X(RPC_ECONNECT, -6011, "could not connect")                             \
    X(RPC_EBUSY, -6012, "too many calls in flight")                         \
    X(RPC_ECLOSED, -6013, "client or server is shut down")                  \
    X(RPC_ETLS, -6014, "TLS handshake or record failure")                   \
    X(RPC_ETLS_VERIFY, -6015, "peer certificate rejected")                  \
    X(RPC_ESTALLED, -6016, "peer stalled in the middle of a frame")         \
    X(RPC_EFLOOD, -6017, "peer sent faster than it read its replies")       \
    X(RPC_ECONFIG, -6018, "invalid librpc configuration")

enum rpc_error {
#define RPC__ERROR_ENUM(name, value, text) name = (value),
    RPC_ERROR_TABLE(RPC__ERROR_ENUM)
#undef RPC__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *rpc_strerror(int rc);

/* ---- TLS (mbedtls) ------------------------------------------------------
 * A TLS configuration is immutable once created and may be shared by any
 * number of servers, clients and connections; it must outlive all of them.
 * Each PEM input comes either from a file (*_file) or from memory (*_pem,
 * a NUL-terminated string, copied); memory wins when both are set.
 *
 * Server TLS: cert + key; clients may verify it with ca.
 * Mutual TLS (between components): both sides set ca, cert and key; the
 * server sets require_peer_cert; either side may restrict the peer to the
 * common names in allowed_cn.
 */
struct rpc_tls_config; /* opaque */

struct rpc_tls_options
{
    bool is_server;                /* role of the endpoints using it */
    const char *ca_file;           /* PEM CA bundle that signs peers */
    const char *ca_pem;            /* same, in memory */
    const char *cert_file;         /* PEM certificate (chain) we present */
    const char *cert_pem;          /* same, in memory */
    const char *key_file;          /* PEM private key of that certificate */
    const char *key_pem;           /* same, in memory */
    bool require_peer_cert;        /* server: demand a client certificate */
    const char *const *allowed_cn; /* NULL-terminated common names the
                                      peer must carry; NULL: any name the
                                      CA signed */
    const char *server_name;       /* client: name the server certificate
                                      must carry (CN or SAN); NULL: none */
};

/* Loads and checks the options. On failure returns RPC_ECONFIG or
 * RPC_ETLS with the reason (file name and mbedtls' message) in errbuf, and
 * *out is untouched. */
int rpc_tls_config_create(const struct rpc_tls_options *opts,
                          struct rpc_tls_config **out,
                          char *errbuf,
                          size_t errlen);
void rpc_tls_config_destroy(struct rpc_tls_config *cfg);

#ifdef __cplusplus
}
#endif

#endif /* RPC_H */

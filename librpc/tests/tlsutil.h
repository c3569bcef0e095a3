/* tlsutil.h: test PKI for librpc's TLS suites, generated in memory with
 * mbedtls on first use: a CA, certificates it signs for any common name, and
 * a second, unrelated CA. Linked into every librpc test binary.
 */
#ifndef RPC_TESTS_TLSUTIL_H
#define RPC_TESTS_TLSUTIL_H

#include <stddef.h>

/* Which CA signs a leaf certificate. */
enum tlsutil_ca {
    TLSUTIL_CA_MAIN = 0,  /* "librpc test CA": the one peers trust */
    TLSUTIL_CA_OTHER = 1, /* "unrelated test CA": trusted by nobody */
};

/* PEM of a CA's self-signed certificate (static, valid until exit). */
const char *tlsutil_ca_pem(enum tlsutil_ca ca);

/* PEM certificate and private key for common name cn signed by ca; the
 * same (cn, ca) pair always yields the same strings (static, valid until
 * exit). At most 16 distinct pairs per process. Aborts if mbedtls fails:
 * a test without its certificates cannot run. */
void tlsutil_leaf(const char *cn, enum tlsutil_ca ca, const char **cert_pem,
                  const char **key_pem);

/* Same, valid only from not_before to not_after ("YYYYMMDDhhmmss", UTC),
 * for certificates that are expired or not yet valid. */
void tlsutil_leaf_dated(const char *cn, enum tlsutil_ca ca,
                        const char *not_before, const char *not_after,
                        const char **cert_pem, const char **key_pem);

/* Same, with a subjectAltName holding one DNS name. */
void tlsutil_leaf_san(const char *cn, enum tlsutil_ca ca, const char *dns,
                      const char **cert_pem, const char **key_pem);

/* Writes text to a new temporary file; its path goes to path (at least
 * 64 bytes). Returns 0 or -1. The caller unlinks it. */
int tlsutil_write_temp(const char *text, char *path, size_t pathlen);

#endif /* RPC_TESTS_TLSUTIL_H */

/* tls.h: the seam between a librpc connection and mbedtls (librpc/DESIGN.md,
 * "TLS"). A connection with TLS keeps ciphertext in the socket's evbuffers
 * and plaintext in its own; these calls move bytes between the two through
 * mbedtls' BIO callbacks. Nothing here touches a socket or the event loop.
 */
#ifndef RPC_TLS_H
#define RPC_TLS_H

#include <stdbool.h>

#include <event2/buffer.h>

#include "rpc.h"

struct rpc__tls; /* one TLS session: one per connection */

/* A new session in the role of cfg (server or client). Returns 0, -ENOMEM
 * or RPC_ETLS. */
int rpc__tls_new(const struct rpc_tls_config *cfg, struct rpc__tls **out);
void rpc__tls_free(struct rpc__tls *t);

/* Starts the handshake; a client's ClientHello goes to raw_out. */
int rpc__tls_start(struct rpc__tls *t, struct evbuffer *raw_out);

/* Ciphertext arrived: consumes what it can of raw_in, appends decrypted
 * plaintext to plain_in and anything TLS must send (handshake records,
 * alerts) to raw_out. Returns 0, or RPC_ETLS / RPC_ETLS_VERIFY with the
 * reason in rpc__tls_errmsg(): the connection must then close. */
int rpc__tls_on_read(struct rpc__tls *t,
                     struct evbuffer *raw_in,
                     struct evbuffer *plain_in,
                     struct evbuffer *raw_out);

/* Encrypts all of plain_out into records appended to raw_out. Before the
 * handshake completes the plaintext stays in plain_out; call again after a
 * read establishes the session. Returns 0 or RPC_ETLS. */
int rpc__tls_on_write(struct rpc__tls *t,
                      struct evbuffer *plain_out,
                      struct evbuffer *raw_out);

bool rpc__tls_established(const struct rpc__tls *t);
const char *rpc__tls_errmsg(const struct rpc__tls *t);
/* The peer certificate's common name once established, or "" (borrowed
 * until rpc__tls_free). */
const char *rpc__tls_peer_cn(const struct rpc__tls *t);
/* The negotiated version and suite (copied to out) once established:
 * true; else false and out untouched. t may be NULL (false). */
bool rpc__tls_info(const struct rpc__tls *t, struct rpc_tls_info *out);

#endif /* RPC_TLS_H */

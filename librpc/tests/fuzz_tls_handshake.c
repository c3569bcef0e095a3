/* fuzz_tls_handshake.c: libFuzzer target for the TLS seam's decoder of
 * untrusted bytes (rpc__tls_on_read): input is fed, in chunks, to a fresh
 * server session (mTLS, so client certificates are parsed) or, after its
 * ClientHello, to a client session; either raw or wrapped in handshake
 * record headers so mutations reach the message parsers. Never crash or
 * leak. Inputs that form a valid flight cost a handshake's public-key
 * operations, so we feed no real flights in: the corpus stays cheap.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "rpc.h"
#include "tls.h"

/* The fuzz build links no test helpers: take the PKI generator whole. */
#include "tlsutil.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rpc_tls_config *server_cfg, *client_cfg;

static void make_configs(void)
{
    static const char *const allowed[] = {"sqld", NULL};
    struct rpc_tls_options so = {.is_server = true};
    struct rpc_tls_options co = {.is_server = false};

    tlsutil_leaf("kvd-1", TLSUTIL_CA_MAIN, &so.cert_pem, &so.key_pem);
    so.ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN);
    so.require_peer_cert = true;
    so.allowed_cn = allowed;
    tlsutil_leaf("sqld", TLSUTIL_CA_MAIN, &co.cert_pem, &co.key_pem);
    co.ca_pem = so.ca_pem;
    co.server_name = "kvd-1";
    if (rpc_tls_config_create(&so, &server_cfg, NULL, 0) != 0 ||
        rpc_tls_config_create(&co, &client_cfg, NULL, 0) != 0)
        abort();
}

/* Input: byte 0 picks the role (bit 0), raw or framed (bit 1) and the
 * chunk size (bits 2-7; 0 means everything at once). Raw: the rest is what
 * the peer "sent", cut into chunks. Framed: each chunk becomes the body of
 * one TLS 1.2 handshake record. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rpc__tls *t = NULL;
    struct evbuffer *raw_in, *raw_out, *plain_in, *plain_out;
    size_t chunk, off;
    bool server, framed;
    int rc;

    if (server_cfg == NULL)
        make_configs();
    if (size < 1)
        return 0;
    server = (data[0] & 1) == 0;
    chunk = (size_t)(data[0] >> 2);
    framed = (data[0] & 2) != 0;
    data++;
    size--;
    if (chunk == 0)
        chunk = size > 0 ? size : 1;
    raw_in = evbuffer_new();
    raw_out = evbuffer_new();
    plain_in = evbuffer_new();
    plain_out = evbuffer_new();
    if (raw_in == NULL || raw_out == NULL || plain_in == NULL ||
        plain_out == NULL)
        abort();
    if (rpc__tls_new(server ? server_cfg : client_cfg, &t) != 0)
        abort();
    rc = rpc__tls_start(t, raw_out);
    for (off = 0; rc == 0 && off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (framed) {
            unsigned char hdr[5] = {22, 3, 3, (unsigned char)(n >> 8),
                                    (unsigned char)n};
            evbuffer_add(raw_in, hdr, sizeof hdr);
        }
        evbuffer_add(raw_in, data + off, n);
        rc = rpc__tls_on_read(t, raw_in, plain_in, raw_out);
        evbuffer_drain(raw_out, evbuffer_get_length(raw_out));
        if (rc == 0) {
            evbuffer_add(plain_out, "x", 1);
            rc = rpc__tls_on_write(t, plain_out, raw_out);
        }
    }
    /* A session that failed reports a code and a message, and stays so. */
    if (rc != 0 && (rc != RPC_ETLS && rc != RPC_ETLS_VERIFY))
        abort();
    if (rc != 0 && rpc__tls_errmsg(t)[0] == '\0')
        abort();
    if (rc != 0 && rpc__tls_on_read(t, raw_in, plain_in, raw_out) != rc)
        abort();
    rpc__tls_free(t);
    evbuffer_free(raw_in);
    evbuffer_free(raw_out);
    evbuffer_free(plain_in);
    evbuffer_free(plain_out);
    return 0;
}

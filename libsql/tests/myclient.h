/* myclient.h: a small MySQL client-side encoder/decoder for the protocol
 * tests, written independently of src/ so the engine is checked against a
 * second reading of the protocol pages, not against itself.
 */
#ifndef SQL_TESTS_MYCLIENT_H
#define SQL_TESTS_MYCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mc_buf {
    uint8_t *p; /* bytes (malloc'd) */
    size_t len; /* in use */
    size_t cap; /* allocated */
};

void mc_free(struct mc_buf *b);
void mc_put(struct mc_buf *b, const void *p, size_t n);
void mc_u8(struct mc_buf *b, uint8_t v);
void mc_u16(struct mc_buf *b, uint16_t v);
void mc_u32(struct mc_buf *b, uint32_t v);
void mc_u64(struct mc_buf *b, uint64_t v);
void mc_lenenc(struct mc_buf *b, uint64_t v);
void mc_lenenc_str(struct mc_buf *b, const char *s);
void mc_cstr(struct mc_buf *b, const char *s);

/* Append payload framed as packets starting at *seq (split at 0xFFFFFF,
 * with an empty last packet after an exact multiple). */
void mc_frame(struct mc_buf *out, const void *payload, size_t len,
              uint8_t *seq);

/* One packet of server output (not joined), pointing into the bytes. */
struct mc_pkt {
    uint8_t seq;        /* sequence id */
    const uint8_t *p;   /* payload */
    size_t len;         /* payload length */
};

/* Cut bytes into packets; returns the count (at most max), or -1 if the
 * bytes do not end on a packet boundary. */
int mc_split(const uint8_t *bytes, size_t len, struct mc_pkt *pkts,
             size_t max);

/* Read a length-encoded integer at *off in p (len bytes); false if
 * truncated. */
bool mc_read_lenenc(const uint8_t *p, size_t len, size_t *off, uint64_t *v);

/* Auth tokens, as a client computes them. */
void mc_native_token(const char *password, const uint8_t scramble[20],
                     uint8_t out[20]);
void mc_sha2_token(const char *password, const uint8_t scramble[20],
                   uint8_t out[32]);

/* HandshakeResponse41 payload. */
struct mc_login {
    uint32_t caps;        /* client capability flags */
    const char *user;     /* user name */
    const uint8_t *auth;  /* auth response */
    size_t auth_len;      /* its length */
    const char *db;       /* with CLIENT_CONNECT_WITH_DB */
    const char *plugin;   /* with CLIENT_PLUGIN_AUTH */
    bool attrs;           /* with CLIENT_CONNECT_ATTRS: two pairs */
};
void mc_login_payload(struct mc_buf *out, const struct mc_login *l);

/* A 4.1 client: LONG_PASSWORD, LONG_FLAG, PROTOCOL_41, TRANSACTIONS,
 * SECURE_CONNECTION, MULTI_STATEMENTS, MULTI_RESULTS, PS_MULTI_RESULTS,
 * PLUGIN_AUTH_LENENC_CLIENT_DATA; no DEPRECATE_EOF (tests add it). */
#define MC_CAPS_BASE 0x0027A205u

#endif /* SQL_TESTS_MYCLIENT_H */

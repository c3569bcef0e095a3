/* rpc_int.h: librpc's private declarations shared by its source files: the
 * allocator hook, logging, the frame codec (frame.c) and the connection
 * layer (conn.c) that servers and clients sit on. See librpc/DESIGN.md.
 */
#ifndef RPC_INT_H
#define RPC_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "rpc.h"

/* ---- socket reads (util.c) ---- */
/* Reads what socket fd holds into buf, as frame and stream connections
 * read their sockets themselves (the bufferevent only writes): libevent
 * 2.1's read asks the kernel how much is waiting (ioctl FIONREAD) before
 * every read, a system call per request on a connection carrying one at
 * a time, and reads at most 4 KiB per callback. Reads in 64 KiB readv
 * calls until the socket is empty or 1 MiB was taken (fairness: the
 * event fires again). Returns 0, 1 at end of file, or -1 on an error
 * (errno kept in *err). */
int rpc__sock_pull(struct evbuffer *buf, evutil_socket_t fd, int *err);
/* What rpc__sock_pull's end (1 end of file, -1 error with err) means to
 * a connection, once the bytes read before it were handled: reading stops
 * (rd_ev deleted; NULL: none) and cb, the connection's bufferevent event
 * callback, gets BEV_EVENT_READING with EOF or ERROR (errno = err), as
 * libevent's own reader would have told it. */
void rpc__sock_end(struct event *rd_ev, bufferevent_event_cb cb,
                   struct bufferevent *bev, void *arg, int end, int err);
/* A connected socket's options, the same for frame and stream
 * connections: no Nagle delay (frames are flushed deliberately, see
 * conn.c's flush_out), and TCP keepalive so a peer whose host died or got
 * cut off is noticed after about 90 s of silence (60 s idle, then 3
 * probes 10 s apart) even when no call is waiting on it. Failures (e.g. a
 * Unix socket) are harmless. */
void rpc__tune_socket(evutil_socket_t fd);

/* ---- heap (util.c) ---- */
void *rpc__malloc(size_t n);
void *rpc__calloc(size_t n, size_t size);
void rpc__free(void *p);
char *rpc__strdup(const char *s);

/* ---- logging (util.c) ---- */
struct rpc__log
{
    rpc_log_fn fn; /* NULL: silent */
    void *ud;      /* passed to fn */
    int level;     /* highest level passed */
};
void rpc__logf(const struct rpc__log *log, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- frame codec (frame.c) ----
 * Header, 24 bytes, every integer big-endian (byte table in DESIGN.md):
 *   0  u32 magic        RPC_MAGIC ("LRPC")
 *   4  u8  version      RPC_PROTO_VERSION
 *   5  u8  flags        RPC_F_*
 *   6  u16 reserved     0
 *   8  u32 method       method id (0 in connection-level frames)
 *  12  u32 request id   chosen by the client, echoed in every reply frame
 *  16  u32 length       payload bytes that follow
 *  20  i32 aux          request: deadline budget in ms (0 none);
 *                       reply/end/error: status (0 or a negative code)
 */
#define RPC_MAGIC 0x4C525043u /* "LRPC" */
#define RPC_PROTO_VERSION 1
#define RPC_HEADER_SIZE 24
#define RPC_DEFAULT_MAX_FRAME (16u << 20)

/* Flags: a frame is one of these kinds (any other value is malformed). */
#define RPC_F_REQUEST 0x00u /* client -> server: a call */
#define RPC_F_CANCEL 0x01u  /* client -> server: stop request id */
#define RPC_F_REPLY 0x02u   /* server -> client: unary reply or failure */
#define RPC_F_STREAM 0x04u  /* server -> client: one stream message */
#define RPC_F_END 0x08u     /* server -> client: stream ended, status */
/* either way: connection error, then close; payload is the reason text */
#define RPC_F_GOAWAY 0x10u
/* Bidirectional streams (DESIGN.md "Bidirectional streams"): */
#define RPC_F_SEND 0x20u      /* client -> server: one more stream message */
#define RPC_F_CLOSE_SEND 0x21u /* client -> server: no more messages (len 0) */
#define RPC_F_WINDOW 0x22u    /* server -> client: aux more messages may be
                                 sent (len 0, aux > 0) */

struct rpc__frame
{
    uint8_t flags;   /* RPC_F_* */
    uint32_t method; /* method id */
    uint32_t id;     /* request id */
    uint32_t length; /* payload length */
    int32_t aux;     /* deadline budget or status */
};

/* Decodes a header from the first len bytes of buf. Returns 0 with *out
 * filled, 1 when fewer than RPC_HEADER_SIZE bytes are present, or
 * RPC_EBAD_MAGIC, RPC_EVERSION, RPC_EPROTO (bad flags or reserved bits, a
 * negative deadline, a CANCEL, CLOSE_SEND or WINDOW with payload, a SEND or
 * CLOSE_SEND with a non-zero aux, a WINDOW granting nothing), RPC_EFRAME_TOO_LARGE (length
 * over max_payload; *out is filled then too, so the caller can blame the
 * frame's request). Pure: no state, no allocation. */
int rpc__frame_decode(const uint8_t *buf,
                      size_t len,
                      uint32_t max_payload,
                      struct rpc__frame *out);

/* Writes the 24-byte header of f into buf. */
void rpc__frame_encode(const struct rpc__frame *f,
                       uint8_t buf[RPC_HEADER_SIZE]);

/* Encodes msg (fields) as the payload of a frame with header f (its length
 * is filled in) and appends header and payload to out. msg NULL: empty
 * payload. A payload over max bytes is not appended. Returns 0,
 * RPC_EENCODE, RPC_EFRAME_TOO_LARGE (over max) or -ENOMEM. */
int rpc__frame_append(struct evbuffer *out,
                      struct rpc__frame *f,
                      const struct pb_msgdesc_s *fields,
                      const void *msg,
                      uint32_t max);

/* Same with raw payload bytes (error text). */
int rpc__frame_append_raw(struct evbuffer *out,
                          struct rpc__frame *f,
                          const void *payload,
                          size_t len);

/* Decodes payload as fields into msg (zeroed first). Returns 0,
 * RPC_EDECODE, or -ENOMEM when a blob could not be allocated; on failure
 * msg holds nothing to release. */
int rpc__payload_decode(const uint8_t *payload,
                        size_t len,
                        const struct pb_msgdesc_s *fields,
                        void *msg);
/* The same for a message of size bytes (its C struct): when zero bytes
 * are its defaults, a memset replaces nanopb's initialization. */
int rpc__payload_decode_sized(const uint8_t *payload,
                              size_t len,
                              const struct pb_msgdesc_s *fields,
                              void *msg,
                              size_t size);
void rpc__payload_release(const struct pb_msgdesc_s *fields, void *msg);

/* ---- large payloads (blob.c) ----
 * Blob fields (struct rpc_blob, rpc_blob_field_cb) are not touched by
 * pb_decode's defaults or pb_release: rpc__payload_decode zeroes them
 * first and rpc__payload_release frees them. */
extern const char rpc__blob_enomem[];
void rpc__blob_zero_all(const struct pb_msgdesc_s *fields, void *msg);
void rpc__blob_free_all(const struct pb_msgdesc_s *fields, void *msg);
/* Whether all-zero bytes are a message of this type in its default
 * state (no default values in it or its by-value submessages). */
bool rpc__msg_zero_default(const struct pb_msgdesc_s *fields, void *msg);

/* ---- intrusive doubly linked list (util.c) ---- */
struct rpc__list
{
    struct rpc__list *prev; /* previous node, or the head's last */
    struct rpc__list *next; /* next node, or the head's first */
};
void rpc__list_init(struct rpc__list *head);
bool rpc__list_empty(const struct rpc__list *head);
void rpc__list_push(struct rpc__list *head, struct rpc__list *node); /* tail */
void rpc__list_remove(struct rpc__list *node); /* leaves node self-linked */
/* A listening socket shared by the frame server and the byte-stream server:
 * binds host:port (host NULL: 0.0.0.0; port 0: any) and accepts into
 * cb(arg). When accept fails (out of descriptors) the pending connection
 * would fire the listener again at once, so it logs the failure, naming
 * `what`, and pauses accepting for 100 ms instead of spinning. log (and
 * what) are borrowed for the listener's life. Returns 0 with *out and the
 * port actually bound in *bound, or RPC_ECONFIG (host does not resolve),
 * -ENOMEM or -errno, with the reason in errbuf. */
struct evconnlistener;
struct rpc__listener;
int rpc__listen(struct event_base *base, const char *host, uint16_t port,
                void (*cb)(struct evconnlistener *, evutil_socket_t,
                           struct sockaddr *, int, void *),
                void *arg, const struct rpc__log *log, const char *what,
                struct rpc__listener **out, uint16_t *bound, char *errbuf,
                size_t errlen);
/* Closes the listening socket. NULL is a no-op. */
void rpc__listener_free(struct rpc__listener *l);

#define RPC__CONTAINER(ptr, type, member) \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* ---- connection (conn.c) ----
 * One socket, its bufferevent and its plaintext buffers, TLS or not. The
 * owner (a server connection or a client) gets whole frames and one close
 * notice. States: CONNECTING -> (HANDSHAKE) -> OPEN -> CLOSING (a GOAWAY is
 * being flushed; the owner is already detached) -> freed.
 */
struct rpc__conn;

struct rpc__conn_ops
{
    /* A whole frame; payload holds f->length bytes, borrowed for the call.
     * Returns 0, or a negative code to close the connection with a GOAWAY
     * naming it (the owner wrote the reason with rpc__conn_set_reason). */
    int (*on_frame)(void *owner,
                    const struct rpc__frame *f,
                    const uint8_t *payload);
    /* The connection is usable (TCP connected, TLS established). */
    void (*on_open)(void *owner);
    /* The connection failed or was closed (not by the owner's own
     * rpc__conn_close): fires once; the conn is gone afterwards. blamed_id
     * is the request whose frame caused it (0: none). */
    void (*on_close)(void *owner,
                     int rc,
                     const char *reason,
                     uint32_t blamed_id);
    /* Reply bytes drained below half the limit (reading resumed). */
    void (*on_drain)(void *owner);
};

struct rpc__conn_params
{
    struct event_base *base;          /* loop */
    const struct rpc_tls_config *tls; /* NULL: plaintext */
    bool is_server;                   /* role */
    uint32_t max_frame;               /* payload limit */
    int stall_timeout_ms;             /* mid-frame silence, flood hold */
    size_t max_out;                   /* 0: no output limit */
    const struct rpc__log *log;       /* owner's logger (outlives conn) */
    const struct rpc__conn_ops *ops;  /* owner callbacks */
    void *owner;                      /* passed to ops */
    struct rpc__list *lingering;      /* where CLOSING conns wait */
};

/* Wraps an accepted socket (server) or starts connecting to addr (client,
 * with timeout). Returns 0 or a negative code with *out NULL. */
int rpc__conn_accept(const struct rpc__conn_params *p,
                     evutil_socket_t fd,
                     const char *peer,
                     struct rpc__conn **out);
int rpc__conn_connect(const struct rpc__conn_params *p,
                      const struct sockaddr *addr,
                      int addrlen,
                      const char *peer,
                      int timeout_ms,
                      struct rpc__conn **out);

/* The plaintext output buffer: append frames, then rpc__conn_flush. */
struct evbuffer *rpc__conn_out(struct rpc__conn *c);
/* Bytes appended and not yet handed to the kernel. */
size_t rpc__conn_queued(const struct rpc__conn *c);
/* Schedules the output to be sent (coalesced per loop iteration) and
 * applies the output limit: over it, reading stops until it drains. */
void rpc__conn_flush(struct rpc__conn *c);
/* The same for a reply or a call: outside this connection's parse, on a
 * plaintext connection with nothing waiting, written at once. */
void rpc__conn_flush_now(struct rpc__conn *c);
/* The same, also when a kick is pending (rpc_call_flush_reply): what is
 * queued goes to the kernel now; in a parse or with TLS, at the kick. */
void rpc__conn_flush_force(struct rpc__conn *c);

/* Stops/resumes reading frames (the owner's in-flight bound). */
void rpc__conn_pause(struct rpc__conn *c, bool pause);

/* Detaches the owner and closes: goaway sends a GOAWAY(rc, reason, id)
 * first and lingers until it is written (bounded by the stall timeout).
 * The owner gets no on_close. Safe inside an ops callback. */
void rpc__conn_close(struct rpc__conn *c,
                     int rc,
                     const char *reason,
                     uint32_t id,
                     bool goaway);

/* Frees every conn lingering on list (owner destroy). */
void rpc__conn_free_lingering(struct rpc__list *lingering);

/* Sets the reason an on_frame error will be closed with. */
void rpc__conn_set_reason(struct rpc__conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

const char *rpc__conn_peer(const struct rpc__conn *c);
const char *rpc__conn_peer_cn(const struct rpc__conn *c);

/* ---- server (server.c) ---- */
/* Serves an already connected stream socket as if accepted (the listener
 * uses it; so does tests/fuzz_conn.c with a socketpair). On failure fd is
 * closed. Returns 0, -ENOMEM or RPC_ECONFIG. */
int rpc__server_adopt(struct rpc_server *srv,
                      evutil_socket_t fd,
                      const char *peer);

/* ---- status service (echo.c) ---- */
struct rpc__status;
void rpc__status_free(struct rpc__status *st);
/* Hands st to srv, which frees it (and any earlier one) when destroyed. */
void rpc__server_set_status(struct rpc_server *srv, struct rpc__status *st);

#endif /* RPC_INT_H */

/* rpc.h: the one public header of librpc, length-prefixed nanopb RPC over libevent, with TLS by mbedtls.
 * What is not declared here is not API. See librpc/DESIGN.md.
 */
#ifndef RPC_H
#define RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base; /* libevent 2.1: <event2/event.h> */

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to librpc/VERSION (the build checks it). */
#define RPC_VERSION_MAJOR 0
#define RPC_VERSION_MINOR 11
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

/* ---- Overview ------------------------------------------------------------
 * One TCP connection carries many calls; each frame is a 24-byte header and
 * a nanopb-encoded message (byte table in librpc/DESIGN.md). The caller owns
 * the libevent event_base; every function below that takes a server, client
 * or call must run on the thread that runs that base ("loop thread"), except
 * where a comment says otherwise. Callbacks run on the loop thread.
 *
 * Messages are nanopb structs: pass the generated descriptor
 * (`rpc_EchoRequest_fields`, i.e. `&rpc_EchoRequest_msg`) and a pointer to
 * the struct. Generated headers for the librpc/proto files are built into
 * build/<variant>/librpc/gen and installed next to rpc.h (rpc_echo.pb.h).
 *
 * A server in a few lines (echo service, ephemeral port):
 *
 *   struct rpc_server_options so = {.host = "127.0.0.1", .port = 0};
 *   struct rpc_server *srv;
 *   char err[256];
 *   if (rpc_server_create(base, &so, &srv, err, sizeof err) != 0) ...;
 *   rpc_server_add_echo(srv);               // RPC_METHOD_ECHO{,_STREAM}
 *   rpc_server_register(srv, &my_method);   // your own handlers
 *   printf("port %u\n", rpc_server_port(srv));
 *   event_base_dispatch(base);
 *
 * A method (the handler may also keep `call` and finish it later, on the
 * loop thread):
 *
 *   static void get(struct rpc_call *call, const void *req, void *ud)
 *   {
 *       const kv_GetRequest *in = req;        // valid until finished
 *       kv_GetResponse out = {...};
 *       rpc_call_reply(call, &out);           // or rpc_call_fail(call,
 *   }                                         //   code, "why")
 *   static const struct rpc_method my_method = {
 *       .id = 0x00020001u, .name = "kv.Get",
 *       .req_fields = kv_GetRequest_fields,
 *       .req_size = sizeof(kv_GetRequest),
 *       .resp_fields = kv_GetResponse_fields, .handler = get};
 *
 * A client call (asynchronous; done fires exactly once):
 *
 *   struct rpc_client_options co = {.host = "127.0.0.1", .port = port};
 *   struct rpc_client *cli;
 *   rpc_client_create(base, &co, &cli);
 *   rpc_EchoRequest req = {.payload = bytes};
 *   struct rpc_call_spec cs = {
 *       .method = RPC_METHOD_ECHO,
 *       .req_fields = rpc_EchoRequest_fields, .req = &req,
 *       .resp_fields = rpc_EchoResponse_fields,
 *       .resp_size = sizeof(rpc_EchoResponse),
 *       .deadline_ms = 1000, .done = on_done, .ud = me};
 *   rpc_client_call(cli, &cs, NULL);
 *
 * or, blocking on a private loop (CLIs, tests): rpc_call_blocking().
 *
 * The process must ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)): libevent
 * writes sockets with writev, which raises it when a peer has gone.
 * librpc changes no signal disposition itself.
 */

/* nanopb's message descriptor (pb_msgdesc_t in <pb.h>). */
struct pb_msgdesc_s;

/* Method ids: service << 16 | method. Service 1 is librpc's own echo and
 * status service (proto/rpc_echo.proto); later services take 2, 3, ...
 * (the registry is in librpc/DESIGN.md). */
#define RPC_METHOD_ECHO 0x00010001u        /* EchoRequest -> EchoResponse */
#define RPC_METHOD_ECHO_STREAM 0x00010002u /* EchoRequest -> stream of
                                              `count` EchoResponse */
#define RPC_METHOD_STATUS 0x00010003u      /* StatusRequest -> StatusResponse
                                              (rpc_server_add_status) */
#define RPC_METHOD_ECHO_BIDI 0x00010004u   /* bidirectional: each EchoRequest
                                              comes back as one EchoResponse
                                              (seq 0, 1, ...); the client's
                                              close ends the stream */

/* ---- Memory and logging ------------------------------------------------ */

/* Replaces the allocator librpc uses for its own objects (nanopb's decoder
 * and libevent keep theirs). Call before creating anything; not
 * thread-safe. NULL functions restore malloc/realloc/free. */
void rpc_heap_set(void *(*malloc_fn)(size_t),
                  void *(*realloc_fn)(void *, size_t),
                  void (*free_fn)(void *));

enum rpc_log_level {
    RPC_LOG_ERROR = 0, /* a connection was closed for a protocol fault */
    RPC_LOG_WARN = 1,  /* a peer misbehaved or a connect failed */
    RPC_LOG_INFO = 2,  /* connections opened and closed */
    RPC_LOG_DEBUG = 3, /* every ignored frame (late replies) */
};

/* A logger: msg is a NUL-terminated line without newline, borrowed for the
 * call. librpc never prints; with no logger it stays silent. */
typedef void (*rpc_log_fn)(void *ud, int level, const char *msg);

/* ---- Large payloads -----------------------------------------------------
 * Debian's nanopb runtime caps a generated `bytes` field at 65,535 bytes.
 * A field of any length (up to the frame limit) is declared FT_CALLBACK and
 * stored as a struct rpc_blob in the message struct, with the message's
 * callback function set to rpc_blob_field_cb, in the .options file:
 *
 *   my.proto include:"rpc.h"
 *   pkg.Msg callback_function:"rpc_blob_field_cb"
 *   pkg.Msg.value type:FT_CALLBACK callback_datatype:"struct rpc_blob"
 *
 * (every FT_CALLBACK field of such a message must be a blob; blob fields
 * must be top-level fields of the message librpc decodes, not inside a
 * submessage). No per-message setup is needed: a zeroed struct is ready.
 * To send, point data/len at the bytes (borrowed until encoded). librpc
 * decodes requests, replies and stream messages with the blobs allocated
 * through rpc_heap_set's allocator, and frees them with the message when
 * the handler's call is finished or the done/on_msg callback returns. A
 * decode that runs out of memory fails with -ENOMEM. See DESIGN.md, "Large
 * payloads". */
struct rpc_blob
{
    uint8_t *data; /* len bytes; NULL when len is 0 */
    size_t len;    /* any size_t; on the wire bounded by max_frame */
};

/* nanopb's message-level field callback (pb_field_iter_t is nanopb's
 * pb_field_t): encodes a non-empty blob as one length-delimited field,
 * decodes one into a fresh allocation (replacing an earlier occurrence). */
struct pb_istream_s;
struct pb_ostream_s;
struct pb_field_iter_s;
bool rpc_blob_field_cb(struct pb_istream_s *istream,
                       struct pb_ostream_s *ostream,
                       const struct pb_field_iter_s *field);

/* Frees a decoded blob's bytes and zeroes it. NULL is a no-op. */
void rpc_blob_free(struct rpc_blob *b);

/* pb_release(fields, msg) plus rpc_blob_free of every blob field: use it
 * instead of pb_release for messages with blobs that the caller decoded
 * itself or got from rpc_call_blocking. */
void rpc_msg_release(const struct pb_msgdesc_s *fields, void *msg);

/* Decodes len bytes of payload as fields into msg, blobs included, as
 * librpc decodes a reply (for the bytes a done_raw callback got and did
 * not read itself). Returns 0 (release msg with rpc_msg_release),
 * RPC_EDECODE or -ENOMEM (msg then holds nothing to release). */
int rpc_msg_decode(const struct pb_msgdesc_s *fields, const uint8_t *payload,
                   size_t len, void *msg);

/* ---- Server ------------------------------------------------------------ */

struct rpc_server; /* opaque */
struct rpc_call;   /* one request being served; opaque */

struct rpc_server_options
{
    const char *host;            /* address to bind, e.g. "127.0.0.1";
                                    NULL: 0.0.0.0 */
    uint16_t port;               /* 0: an ephemeral port (rpc_server_port) */
    const struct rpc_tls_config *tls; /* NULL: plaintext; else borrowed,
                                         must outlive the server */
    size_t max_frame;            /* payload limit in bytes; 0: 16 MiB */
    unsigned max_in_flight;      /* unanswered calls per connection before
                                    the server stops reading it; 0: 1024 */
    size_t max_out_buffered;     /* unsent reply bytes per connection above
                                    which it stops reading; 0: 8 MiB */
    int stall_timeout_ms;        /* a peer silent mid-frame, or not reading
                                    while replies are held back, for this
                                    long is closed; 0: 10000 */
    rpc_log_fn log;              /* NULL: no logging */
    void *log_ud;                /* passed to log */
    int log_level;               /* highest rpc_log_level passed to log */
};

/* Binds and listens; accepting starts when the caller runs base. Returns 0,
 * RPC_ECONFIG (bad options) or a negative errno (bind), with the reason in
 * errbuf; *out is set only on success. */
int rpc_server_create(struct event_base *base,
                      const struct rpc_server_options *opts,
                      struct rpc_server **out,
                      char *errbuf,
                      size_t errlen);

/* Closes every connection (their calls are freed: a handler holding a call
 * must not touch it afterwards) and the listener. NULL is a no-op. */
void rpc_server_destroy(struct rpc_server *srv);

/* The bound port (useful with port 0). */
uint16_t rpc_server_port(const struct rpc_server *srv);

/* Number of open connections. */
unsigned rpc_server_connection_count(const struct rpc_server *srv);

/* Reply batching (off by default). Off, a reply made outside the
 * connection's own callbacks (a handler that answered later, e.g. when a
 * Raft entry applied) is written at once when nothing waits before it.
 * On, such a reply is written at once only when it finishes the last
 * unfinished unary call of its connection; otherwise it waits for the end
 * of the current loop iteration's callbacks, so that the replies one
 * callback makes for many calls of a connection leave in one writev
 * (a client with many calls in flight on one connection). Replies made
 * while a read is parsed leave together at its end either way. */
void rpc_server_set_reply_batching(struct rpc_server *srv, bool on);

/* A handler receives the decoded request (borrowed until the call is
 * finished) and must finish the call exactly once, now or later on the
 * loop thread, with rpc_call_reply, rpc_call_fail or (stream methods)
 * rpc_call_stream_end. */
typedef void (*rpc_handler_fn)(struct rpc_call *call,
                               const void *req,
                               void *ud);

struct rpc_method
{
    uint32_t id;                          /* method id on the wire */
    const char *name;                     /* for logs; borrowed, static */
    const struct pb_msgdesc_s *req_fields;  /* request message */
    size_t req_size;                      /* sizeof the request struct */
    const struct pb_msgdesc_s *resp_fields; /* reply / stream message */
    rpc_handler_fn handler;               /* called per request */
    void *ud;                             /* passed to handler */
};

/* A unary method's peek (rpc_server_set_peek) sees a request's payload,
 * the protobuf bytes (borrowed for the call), before nanopb decodes it,
 * with the call set up. Returning true, it took the call: it finished it
 * (with rpc_call_reply_encoded, rpc_call_reply or rpc_call_fail) or keeps
 * it to finish later on the loop thread, as a handler may (the request is
 * never decoded: copy what is needed from payload); false leaves the call
 * untouched, and the request is
 * decoded and handed to the method's handler as usual (a payload that
 * does not decode then closes the connection, as without a peek). For a
 * hot request whose common shape a handler parses cheaper than nanopb
 * (kvd's RawGet); ud is the method's. */
typedef bool (*rpc_peek_fn)(struct rpc_call *call, const uint8_t *payload,
                            size_t len, void *ud);

/* Sets (NULL: clears) the peek of registered unary method id. Returns 0,
 * or RPC_ECONFIG for no such method or a stream method. Registering the
 * method again clears it. */
int rpc_server_set_peek(struct rpc_server *srv, uint32_t method,
                        rpc_peek_fn peek);

/* ---- Bidirectional streams ---------------------------------------------
 * A method registered with rpc_server_register_bidi is a bidirectional
 * stream: the client opens it
 * with a call whose request (the first message) goes to handler as usual,
 * then sends any number of further messages of the same type
 * (rpc_client_stream_send), each handed to on_recv (decoded, borrowed for
 * the callback), and finally closes its side (on_recv with msg NULL). The
 * server answers with rpc_call_stream_send as often as it likes (a reply
 * per message, or pushes) and finishes with rpc_call_stream_end, or
 * rpc_call_fail (code and text to the client). Messages of one stream are
 * delivered in the order sent, both ways.
 *
 * Flow control is by message credit: a client may have RPC_BIDI_WINDOW
 * messages beyond the opening one unacknowledged; the server grants more
 * as on_recv consumes them (in batches of half a window), and
 * rpc_client_stream_send answers RPC_EBUSY when none are left (the spec's
 * on_window fires when credit arrives). A client that sends beyond its
 * credit is a protocol error (RPC_EPROTO, the connection is closed). A
 * handler that queues work instead of finishing it in on_recv can hold
 * the credit back (rpc_call_recv_hold) and so bound its queue. Cancel,
 * deadline and connection loss work as for any call. DESIGN.md,
 * "Bidirectional streams". */
#define RPC_BIDI_WINDOW 64u

/* A client message on a bidirectional stream (borrowed for the call), or
 * NULL once the client closed its sending side. */
typedef void (*rpc_recv_fn)(struct rpc_call *call, const void *msg, void *ud);

/* Registers m as a bidirectional stream method whose later messages go to
 * on_recv(call, msg, m->ud). Returns as rpc_server_register. */
int rpc_server_register_bidi(struct rpc_server *srv,
                             const struct rpc_method *m,
                             rpc_recv_fn on_recv);

/* hold true: messages consumed from now on return no credit to the
 * client until hold is set false again (which grants what was held). */
void rpc_call_recv_hold(struct rpc_call *call, bool hold);

/* Marks call so that its reply (or failure), when made, goes to the
 * kernel at once together with every reply queued before it on the
 * connection, even under reply batching and with other calls unfinished:
 * a server answering a long batch of one connection's calls in parts
 * lets the client go on with the first part while it works on the rest.
 * Outside the connection's own callbacks on a plaintext connection; in a
 * parse or with TLS the reply leaves at the loop turn's end as before. */
void rpc_call_flush_reply(struct rpc_call *call);

/* A pointer of the handler's, kept with the call (NULL until set). */
void rpc_call_set_ud(struct rpc_call *call, void *ud);
void *rpc_call_get_ud(const struct rpc_call *call);

/* Registers (copies) a method; registering an id again replaces it.
 * Returns 0, RPC_ECONFIG or -ENOMEM. */
int rpc_server_register(struct rpc_server *srv, const struct rpc_method *m);

/* Registers RPC_METHOD_ECHO (replies with the request's payload),
 * RPC_METHOD_ECHO_BIDI and RPC_METHOD_ECHO_STREAM (sends `count` messages with seq 0..count-1 and
 * the payload, then ends; more than 10000 messages or 4 MiB in all fails
 * with -E2BIG). */
int rpc_server_add_echo(struct rpc_server *srv);

/* Registers RPC_METHOD_STATUS answering role, version (both copied),
 * uptime since this call, and detail_fn(ud)'s text (borrowed until the
 * reply is encoded; NULL fn or result: ""), e.g. a JSON summary. */
int rpc_server_add_status(struct rpc_server *srv,
                          const char *role,
                          const char *version,
                          const char *(*detail_fn)(void *ud),
                          void *ud);

/* Replies to a unary call with resp (encoded now, so resp may be freed on
 * return) and finishes it. Returns 0, RPC_EENCODE or RPC_EFRAME_TOO_LARGE
 * (over the server's max_frame: not sent; the call is then failed with
 * that code and a text saying why) or RPC_ECONNLOST / RPC_ECANCELED when
 * nobody waits any more (the call is finished anyway). */
int rpc_call_reply(struct rpc_call *call, const void *resp);

/* rpc_call_reply with the reply already encoded: payload (len bytes,
 * copied; NULL with len 0 is the empty message, every field at its
 * default) is taken as the protobuf encoding of the method's reply type
 * and sent as it is, without nanopb. For a hot path whose reply is a
 * field or two the handler can write itself (kvd's RawGet); the caller
 * answers for the encoding: the client decodes it as the reply type and
 * fails the call (RPC_EDECODE) if it does not parse. Same returns. */
int rpc_call_reply_encoded(struct rpc_call *call, const void *payload,
                           size_t len);

/* Finishes a call with an error code (negative) and a message for the
 * caller (may be NULL). Same returns as rpc_call_reply. */
int rpc_call_fail(struct rpc_call *call, int code, const char *msg);

/* Stream: sends one message without finishing the call. Returns 0, or
 * RPC_ECONNLOST / RPC_ECANCELED when the caller is gone (stop sending and
 * end the call), RPC_EENCODE, or RPC_EFRAME_TOO_LARGE (over the server's
 * max_frame: not sent). */
int rpc_call_stream_send(struct rpc_call *call, const void *msg);

/* Stream: ends it with status (0 or a negative code) and finishes the
 * call. */
int rpc_call_stream_end(struct rpc_call *call, int status);

/* Whether the caller still waits: false once it canceled, its deadline
 * passed or its connection closed. */
bool rpc_call_alive(const struct rpc_call *call);

/* Called once when the call stops being alive before it is finished (the
 * handler must still finish it). Set it from the handler. */
void rpc_call_on_cancel(struct rpc_call *call,
                        void (*fn)(struct rpc_call *call, void *ud),
                        void *ud);

/* Bytes queued on the call's connection and not yet taken by the kernel
 * (0 once the connection is gone). A long stream paces itself with it:
 * past the connection's max_out_buffered the server stops reading the
 * peer, and closes it if the backlog does not drain (DESIGN.md). */
size_t rpc_call_queued_bytes(const struct rpc_call *call);

/* The caller's remaining deadline when the request arrived, in ms (0: the
 * caller sent none), the method id, and the peer's TLS common name ("" if
 * none; borrowed until the call is finished). */
uint32_t rpc_call_deadline_ms(const struct rpc_call *call);
uint32_t rpc_call_method(const struct rpc_call *call);
const char *rpc_call_peer_cn(const struct rpc_call *call);

/* ---- Client ------------------------------------------------------------ */

struct rpc_client; /* opaque: one connection to one server, reconnected on
                      demand */

struct rpc_client_options
{
    const char *host;            /* server address (numeric or a name) */
    uint16_t port;               /* server port */
    const struct rpc_tls_config *tls; /* NULL: plaintext; borrowed */
    int connect_timeout_ms;      /* connect (and TLS handshake); 0: 3000 */
    unsigned max_in_flight;      /* calls started and not done; beyond it
                                    rpc_client_call returns RPC_EBUSY;
                                    0: 1024 */
    size_t max_frame;            /* payload limit of replies received and of
                                    requests sent (a larger one is refused
                                    before it is sent); 0: 16 MiB */
    int stall_timeout_ms;        /* server silent mid-frame; 0: 10000 */
    int default_deadline_ms;     /* used when a call gives 0; 0: 10000 */
    rpc_log_fn log;              /* NULL: no logging */
    void *log_ud;                /* passed to log */
    int log_level;               /* highest rpc_log_level passed to log */
};

/* Creates a client (copies opts and host). It connects on the first call,
 * and again on the next call after the connection is lost. Returns 0,
 * RPC_ECONFIG or -ENOMEM. */
int rpc_client_create(struct event_base *base,
                      const struct rpc_client_options *opts,
                      struct rpc_client **out);

/* Fails every pending call with RPC_ECLOSED (their done callbacks run
 * inside this call) and frees the client. NULL is a no-op. */
void rpc_client_destroy(struct rpc_client *cli);

/* The reason for the last connection failure or refused oversized
 * request, or "" (borrowed until the next call into the client). */
const char *rpc_client_errmsg(const struct rpc_client *cli);

/* Completion: fires exactly once per started call. rc is 0 with the
 * decoded reply in resp (borrowed for the callback; stream calls get NULL
 * resp), or a negative code: the server's own failure code, RPC_EDEADLINE,
 * RPC_ECANCELED, RPC_ECONNECT, RPC_ECONNLOST, RPC_ECLOSED, RPC_EDECODE...
 * errmsg is never NULL (borrowed for the callback). */
typedef void (*rpc_done_fn)(int rc, const void *resp, const char *errmsg,
                            void *ud);

/* Stream message: msg is decoded, borrowed for the callback. */
typedef void (*rpc_stream_fn)(const void *msg, void *ud);

/* rpc_done_fn with the reply undecoded: rc 0 with the reply's payload
 * (len bytes, the protobuf encoding of the reply type; borrowed for the
 * callback), else payload NULL, len 0 and the failure as rpc_done_fn's. */
typedef void (*rpc_done_raw_fn)(int rc, const uint8_t *payload, size_t len,
                                const char *errmsg, void *ud);

struct rpc_call_spec
{
    uint32_t method;                        /* method id */
    const struct pb_msgdesc_s *req_fields;  /* request message */
    const void *req;                        /* request (encoded at once) */
    const struct pb_msgdesc_s *resp_fields; /* reply / stream message */
    size_t resp_size;                       /* sizeof the reply struct */
    int deadline_ms;                        /* from now; 0: the client's
                                               default */
    rpc_done_fn done;                       /* required */
    rpc_stream_fn on_msg;                   /* non-NULL: a stream call */
    void *ud;                               /* passed to done and on_msg */
    bool bidi;                              /* a bidirectional stream (needs
                                               on_msg; deadline_ms 0 means
                                               none: it lives until ended,
                                               canceled or lost) */
    void (*on_window)(void *ud);            /* bidi: credit arrived (may be
                                               NULL) */
    /* The hot-path pair of rpc_call_reply_encoded and the server's peek,
     * for a unary call whose request and reply are a field or two the
     * caller writes and reads itself (kvbench's RawGet): */
    const void *req_encoded;                /* non-NULL: the request's
                                               protobuf bytes, sent as they
                                               are (req and req_fields
                                               unused, may be NULL) */
    size_t req_len;                         /* bytes of req_encoded */
    rpc_done_raw_fn done_raw;               /* non-NULL: called instead of
                                               done (then NULL) with the
                                               reply undecoded; resp_fields
                                               may be NULL; not for
                                               streams */
};

/* Starts a call; the request is encoded (or req_encoded copied) before
 * it returns. On success *id_out (if not NULL) names the call for
 * rpc_client_cancel. Fails without ever calling done (or done_raw):
 * RPC_EBUSY (max_in_flight calls pending),
 * RPC_EENCODE, RPC_EFRAME_TOO_LARGE (the request is over the client's
 * max_frame: not sent, the connection and its other calls untouched;
 * rpc_client_errmsg says so), RPC_ECONFIG (no done or fields), -ENOMEM. */
int rpc_client_call(struct rpc_client *cli,
                    const struct rpc_call_spec *spec,
                    uint64_t *id_out);

/* Cancels a pending call: its done fires with RPC_ECANCELED inside this
 * function, and the server is told to stop. Returns 0, or RPC_EINTERNAL
 * when no such call is pending (it already completed). */
int rpc_client_cancel(struct rpc_client *cli, uint64_t id);

/* Calls started and not yet done. */
unsigned rpc_client_in_flight(const struct rpc_client *cli);

/* Bidirectional stream id (from rpc_client_call with spec.bidi): sends one
 * more message of the spec's req_fields (encoded before it returns).
 * Returns 0, RPC_EBUSY (no credit left: wait for on_window), RPC_ECLOSED
 * (no such stream: it ended, or the sending side was closed),
 * RPC_EENCODE or -ENOMEM. */
int rpc_client_stream_send(struct rpc_client *cli, uint64_t id,
                           const void *msg);
/* Closes the sending side; the server sees on_recv(NULL) and ends the
 * stream when it is done (done fires then). Returns 0 or RPC_ECLOSED. */
int rpc_client_stream_close_send(struct rpc_client *cli, uint64_t id);
/* Messages the stream may still send before it needs more credit (0 for
 * no such stream). */
unsigned rpc_client_stream_credit(const struct rpc_client *cli, uint64_t id);

/* ---- Blocking connections (sync.c) --------------------------------------
 * One connection (plaintext or TLS) used by one thread at a time (callers
 * pool them): rpc_sync_call writes the request and reads its reply on the
 * calling thread, with no event loop and no hand-off to one. For latency
 * on a few hot unary calls; everything else should use rpc_client. */
struct rpc_sync;
/* Connects with an rpc_client's options: host, port, tls (NULL:
 * plaintext; borrowed, must outlive the connection), connect_timeout_ms
 * (for the connect and the TLS handshake together; 0: 3000) and
 * max_frame (0: 16 MiB); the rest are ignored. Returns 0, RPC_ECONFIG,
 * RPC_ECONNECT, RPC_ETLS, RPC_ETLS_VERIFY, RPC_EDEADLINE (handshake not
 * done in time), RPC_ECONNLOST (the server hung up during the handshake)
 * or -ENOMEM, with the reason in err. */
int rpc_sync_open(const struct rpc_client_options *opts,
                  struct rpc_sync **out, char *err, size_t errlen);
struct rpc_tls_info; /* see "TLS" below */
/* The negotiated TLS version and suite: true and out filled, or false
 * (a plaintext connection). */
bool rpc_sync_tls_info(const struct rpc_sync *s, struct rpc_tls_info *out);
/* Plaintext rpc_sync_open: connects within timeout_ms. 0, RPC_ECONNECT
 * (reason in err), -ENOMEM. */
int rpc_sync_connect(const char *host, uint16_t port, int timeout_ms,
                     struct rpc_sync **out, char *err, size_t errlen);
/* One unary call (spec: method, req_fields and req, or req_encoded and
 * req_len, resp_fields, deadline_ms; done unused). resp (zeroed by the caller, a struct
 * of resp_fields) gets the reply: release it with rpc_msg_release. With
 * spec->done_raw set, the reply is not decoded: done_raw(0, payload, len,
 * "", spec->ud) is called with its bytes (borrowed for the callback)
 * before the call returns 0, and resp may be NULL; it is called for a
 * reply only (a failure is the return code and err). Returns
 * 0, the server's code (text in err; the connection stays usable), or
 * RPC_EDEADLINE, RPC_ECONNLOST, RPC_EPROTO, RPC_EDECODE, RPC_ETLS,
 * -ENOMEM: after those the connection must be closed. */
int rpc_sync_call(struct rpc_sync *s, const struct rpc_call_spec *spec,
                  void *resp, char *err, size_t errlen);
/* Closes; NULL is a no-op. */
void rpc_sync_close(struct rpc_sync *s);
/* The connection's socket, for a caller that watches it, e.g. with
 * poll's POLLRDHUP to see that the server hung up on a connection it
 * keeps idle. Read or write it only through the calls above. */
int rpc_sync_fd(const struct rpc_sync *s);

/* Blocking helper, callable from any thread that runs no loop: connects,
 * makes one unary call on a private event_base and returns when it
 * completes. resp (a struct of resp_fields, zeroed by the caller) receives
 * the reply; release it with rpc_msg_release(resp_fields, resp). The error
 * message, if any, goes to errbuf. Returns 0 or the call's code. */
int rpc_call_blocking(const struct rpc_client_options *opts,
                      uint32_t method,
                      const struct pb_msgdesc_s *req_fields,
                      const void *req,
                      const struct pb_msgdesc_s *resp_fields,
                      void *resp,
                      size_t resp_size,
                      int deadline_ms,
                      char *errbuf,
                      size_t errlen);

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
                                      must carry: one of its DNS
                                      subjectAltNames if it has any, else
                                      its CN; NULL: none */
};

/* Loads and checks the options. On failure returns RPC_ECONFIG or
 * RPC_ETLS with the reason (file name and mbedtls' message) in errbuf, or
 * -ENOMEM, and *out is untouched. */
int rpc_tls_config_create(const struct rpc_tls_options *opts,
                          struct rpc_tls_config **out,
                          char *errbuf,
                          size_t errlen);
void rpc_tls_config_destroy(struct rpc_tls_config *cfg);

/* What a TLS session negotiated, for display (sqld's Ssl_version and
 * Ssl_cipher) and checks; copied out of the session. */
struct rpc_tls_info
{
    char version[16];  /* protocol as OpenSSL spells it: "TLSv1.2" */
    char suite[64];    /* cipher suite, IANA name:
                          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" */
    uint16_t suite_id; /* its IANA number, e.g. 0xC02B; 0 if unknown */
};

/* ---- Byte streams ---------------------------------------------------------
 * A raw byte-stream server for protocols that are not librpc frames (sqld's
 * MySQL protocol): bytes in, bytes out, an optional mid-stream TLS upgrade
 * (librpc/DESIGN.md, "Byte streams"). Same loop-thread rule as above.
 *
 * Callbacks: on_open once per accepted connection; on_data with every byte
 * not yet consumed (borrowed for the call), returning how many of them it
 * consumed: the rest stay buffered and come again, with anything newer, on
 * the next delivery; returning 0 waits for more bytes. on_close exactly
 * once per connection that saw on_open, whatever closed it (the peer, a
 * fault, rpc_stream_close, rpc_stream_server_destroy); it is the last
 * callback and the connection is freed after it returns. Any rpc_stream_*
 * call on the connection is allowed inside its callbacks.
 */
struct rpc_stream_server; /* opaque */
struct rpc_stream_conn;   /* one accepted connection; opaque */

struct rpc_stream_callbacks
{
    void (*on_open)(struct rpc_stream_conn *conn, void *ud); /* may be NULL */
    size_t (*on_data)(struct rpc_stream_conn *conn,
                      const uint8_t *data,
                      size_t len,
                      void *ud); /* required; returns bytes consumed <= len */
    void (*on_close)(struct rpc_stream_conn *conn,
                     int rc,
                     const char *reason,
                     void *ud); /* may be NULL; rc 0: closed by
                                   rpc_stream_close after the flush */
    void (*on_drain)(struct rpc_stream_conn *conn,
                     void *ud); /* may be NULL; queued output fell to half
                                   of out_high_water after a write had
                                   taken it above (from the loop) */
};

struct rpc_stream_server_options
{
    const char *host;                 /* address to bind; NULL: 0.0.0.0 */
    uint16_t port;                    /* 0: ephemeral (rpc_stream_server_port) */
    const struct rpc_tls_config *tls; /* server config for
                                         rpc_stream_start_tls; NULL: no
                                         upgrade; borrowed, must outlive */
    unsigned max_connections;         /* more are accepted and closed at
                                         once (after refuse_data); 0: 1024 */
    const uint8_t *refuse_data;       /* bytes written (best effort) to a
                                         refused connection; copied; NULL */
    size_t refuse_len;                /* length of refuse_data */
    size_t max_unconsumed;            /* input bytes on_data leaves
                                         unconsumed above which the
                                         connection is closed
                                         (RPC_EFLOOD); 0: 64 MiB */
    size_t out_high_water;            /* queued output above which
                                         rpc_stream_write returns 1 and
                                         on_drain follows; 0: 1 MiB */
    int handshake_timeout_ms;         /* TLS handshake, and the flush of
                                         rpc_stream_close, must finish in
                                         this long; 0: 10000 */
    struct rpc_stream_callbacks cb;   /* see above */
    void *ud;                         /* passed to the callbacks */
    rpc_log_fn log;                   /* NULL: no logging */
    void *log_ud;                     /* passed to log */
    int log_level;                    /* highest rpc_log_level passed */
};

/* Binds and listens (accepting starts when the caller runs base). Returns
 * 0, RPC_ECONFIG or a negative errno with the reason in errbuf. */
int rpc_stream_server_create(struct event_base *base,
                             const struct rpc_stream_server_options *opts,
                             struct rpc_stream_server **out,
                             char *errbuf,
                             size_t errlen);
/* Closes the listener and every connection (each gets on_close with
 * RPC_ECLOSED, unflushed output is dropped). NULL is a no-op. May be
 * called inside a callback of one of its connections. */
void rpc_stream_server_destroy(struct rpc_stream_server *srv);
/* Stops accepting: the listening socket closes, so a new connection is
 * refused by the kernel (ECONNREFUSED: a client tries its next server at
 * once), while the open ones go on until closed or until destroy. For a
 * server that stops gracefully (sqld's drain on SIGTERM). Idempotent;
 * rpc_stream_server_port still answers the port it had. */
void rpc_stream_server_stop_listening(struct rpc_stream_server *srv);
uint16_t rpc_stream_server_port(const struct rpc_stream_server *srv);
/* Connections that saw on_open and not yet on_close. */
unsigned rpc_stream_server_connection_count(const struct rpc_stream_server *srv);

/* Queues len bytes for the peer (encrypted once TLS is started; bytes
 * written during the handshake wait for it, and are dropped if the
 * connection closes first). Returns 0, 1 (queued, but the output is now
 * above out_high_water: stop producing until on_drain), RPC_ECLOSED
 * (closing or closed: dropped) or -ENOMEM. */
int rpc_stream_write(struct rpc_stream_conn *conn,
                     const void *data,
                     size_t len);
/* Output bytes not yet handed to the kernel. */
size_t rpc_stream_queued(const struct rpc_stream_conn *conn);
/* pause true: no on_data and no socket reads until resumed (buffered bytes
 * are delivered on resume, from the loop). */
void rpc_stream_pause_reading(struct rpc_stream_conn *conn, bool pause);
/* Server-side TLS from the next unconsumed input byte on: the bytes after
 * those on_data consumed so far are the client's handshake. Output queued
 * before the call leaves in plaintext. After the handshake, on_data gets
 * decrypted bytes. Returns 0, RPC_ECONFIG (no tls in the options, or TLS
 * already started) or RPC_ETLS / -ENOMEM. */
int rpc_stream_start_tls(struct rpc_stream_conn *conn);
/* True once rpc_stream_start_tls was called (handshake done or not). */
bool rpc_stream_is_tls(const struct rpc_stream_conn *conn);
/* The client certificate's common name once the handshake is done (the
 * tls config may require one), else "" (valid until on_close returns). */
const char *rpc_stream_peer_cn(const struct rpc_stream_conn *conn);
/* Once the TLS handshake is done: fills out with the negotiated version
 * and suite and returns true; else (plaintext, or handshake still
 * running) false with out untouched. */
bool rpc_stream_tls_info(const struct rpc_stream_conn *conn,
                         struct rpc_tls_info *out);
/* Stops reading, flushes queued output (bounded by handshake_timeout_ms),
 * then closes; on_close follows with rc 0. Idempotent. */
void rpc_stream_close(struct rpc_stream_conn *conn);
/* "ip:port" of the peer (valid until on_close returns). */
const char *rpc_stream_peer(const struct rpc_stream_conn *conn);
void rpc_stream_set_ud(struct rpc_stream_conn *conn, void *ud);
/* The per-connection pointer (NULL until set). */
void *rpc_stream_get_ud(const struct rpc_stream_conn *conn);

#ifdef __cplusplus
}
#endif

#endif /* RPC_H */

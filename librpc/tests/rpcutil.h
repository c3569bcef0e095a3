/* rpcutil.h: helpers for librpc's suites: a server running on its own
 * thread, a log collector tests can wait on, raw-socket frame I/O and a
 * loop runner for the client side. Linked into every librpc test binary.
 */
#ifndef RPC_TESTS_RPCUTIL_H
#define RPC_TESTS_RPCUTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "rpc.h"

/* A log collector: keeps every line, thread-safe; tests wait for lines. */
struct rpcutil_log
{
    pthread_mutex_t mu;   /* guards lines */
    pthread_cond_t cv;    /* signaled per line */
    char lines[256][256]; /* the first 256 lines */
    int n;                /* lines kept */
};
void rpcutil_log_init(struct rpcutil_log *l);
void rpcutil_log_destroy(struct rpcutil_log *l);
/* An rpc_log_fn; ud is a struct rpcutil_log. */
void rpcutil_log_fn(void *ud, int level, const char *msg);
/* Waits (up to 30 s) until a line containing needle was logged. */
bool rpcutil_log_wait(struct rpcutil_log *l, const char *needle);
bool rpcutil_log_has(struct rpcutil_log *l, const char *needle);

/* A server on its own thread and event_base. */
struct rpcutil_server
{
    struct event_base *base; /* the server thread's loop */
    struct rpc_server *srv;  /* the server */
    pthread_t thread;        /* runs base */
    int pipefd[2];           /* a byte here stops the thread */
    struct event *stop_ev;   /* reads pipefd[0] */
    uint16_t port;           /* bound port */
    struct rpcutil_log log;  /* server log lines */
};
/* Creates base and server (opts may be NULL: defaults on 127.0.0.1:0, the
 * log collector wired in), adds echo; the caller may register more methods,
 * then rpcutil_server_run starts the thread. */
void rpcutil_server_init(struct rpcutil_server *s,
                         const struct rpc_server_options *opts);
void rpcutil_server_run(struct rpcutil_server *s);
/* Destroys the server on its thread, joins, frees the base. */
void rpcutil_server_stop(struct rpcutil_server *s);

/* Runs base until *flag is true (or 30 s pass: returns false). */
bool rpcutil_loop_until(struct event_base *base, const bool *flag);
/* Runs base until *count >= want (or 30 s pass: returns false). */
bool rpcutil_loop_until_count(struct event_base *base,
                              const int *count,
                              int want);

/* Raw socket: a blocking TCP connection to 127.0.0.1:port. */
int rpcutil_raw_connect(uint16_t port);
/* Builds a frame header (any field values) into buf (24 bytes). */
void rpcutil_header(uint8_t *buf,
                    uint32_t magic,
                    uint8_t version,
                    uint8_t flags,
                    uint32_t method,
                    uint32_t id,
                    uint32_t length,
                    int32_t aux);
/* Writes all of buf; returns 0 or -1. */
int rpcutil_write_all(int fd, const void *buf, size_t len);
/* Reads one frame (30 s limit): fills the header fields and up to cap
 * payload bytes into payload (NUL-terminated if room). Returns 0, or -1 on
 * EOF / error / timeout before a whole frame. */
int rpcutil_read_frame(int fd,
                       uint8_t *flags,
                       uint32_t *id,
                       int32_t *aux,
                       char *payload,
                       size_t cap);
/* Reads one frame from fd (30 s limit) while running base, whose client
 * still has to write it; payloads up to 200 bytes. Returns 0 or -1. */
int rpcutil_pump_frame(struct event_base *base,
                       int fd,
                       uint8_t *flags,
                       uint32_t *id,
                       int32_t *aux);
/* A listening socket on 127.0.0.1 (port in *port) for fake servers. */
int rpcutil_listen(uint16_t *port);

/* Waits until the peer closes fd (read returns 0 or an error), discarding
 * data. Returns true if it closed within 30 s. */
bool rpcutil_wait_closed(int fd);

/* Echo through the blocking helper: returns its code; on success checks
 * the reply carries text. */
int rpcutil_echo_blocking(uint16_t port, const char *text);

#endif /* RPC_TESTS_RPCUTIL_H */

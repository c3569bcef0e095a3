/* callutil.h: one-loop fixture shared by librpc's call-level suites: a
 * server and clients on one event_base in the test thread, call outcome
 * recording and a handler that holds calls to answer later.
 */
#ifndef RPC_TESTS_CALLUTIL_H
#define RPC_TESTS_CALLUTIL_H

#include "rpc_echo.pb.h"
#include "rpcutil.h"

struct cu_fixture
{
    struct event_base *base; /* one loop for server and clients */
    struct rpc_server *srv;  /* server on 127.0.0.1 */
    uint16_t port;           /* its port */
    struct rpcutil_log log;  /* server log */
    struct rpcutil_log clog; /* client log */
};

/* One call's outcome. */
struct cu_result
{
    int calls;                  /* times done fired */
    int rc;                     /* its code */
    char text[64];              /* reply payload as text */
    char err[256];              /* its errmsg */
    int msgs;                   /* stream messages seen */
    int *counter;               /* bumped on done, if set */
    struct rpc_client *destroy; /* destroyed from done, if set */
};

/* A handler that holds calls until the test answers them. */
struct cu_held
{
    struct rpc_call *calls[256]; /* held calls */
    int n;                       /* held */
    int canceled;                /* cancel callbacks seen */
};

/* Creates the fixture (port 0: ephemeral) with echo registered. */
struct cu_fixture *cu_setup(uint16_t port);
/* Recreates the server on f->port (after cu_server_down). */
void cu_server_up(struct cu_fixture *f);
void cu_server_down(struct cu_fixture *f);
void cu_teardown(struct cu_fixture *f);

struct rpc_client *cu_client(struct cu_fixture *f, int deadline_ms);

/* Registers a holding method id (unary or stream). */
void cu_register_held(struct cu_fixture *f, uint32_t id, struct cu_held *h);

/* Starts an echo-typed call; stream when on_msg is wanted. */
int cu_start(struct rpc_client *c,
             uint32_t method,
             const char *text,
             uint32_t count,
             int deadline_ms,
             struct cu_result *r,
             bool stream,
             uint64_t *id);

#endif /* RPC_TESTS_CALLUTIL_H */

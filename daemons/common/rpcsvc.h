/* rpcsvc.h: a daemon's RPC endpoint: a librpc server on the daemon's loop
 * with librpc's echo methods and a status probe (role, version, uptime,
 * data-dir), and librpc's log sent to the daemon's log (docs/daemons.md).
 */
#ifndef DMN_RPCSVC_H
#define DMN_RPCSVC_H

#include "runtime.h"

struct rpc_server;

/* Serves on listen ("host:port"; port 0 picks one, then logged). Returns
 * 0, or -1 with the reason logged (address in use, bad address). */
int dmn_rpc_start(struct dmn_runtime *rt,
                  const char *listen,
                  struct rpc_server **out);

/* Closes the listener and every connection. NULL is a no-op. */
void dmn_rpc_stop(struct rpc_server *srv);

/* librpc's log callback, forwarding to the daemon's log. */
void dmn_rpc_log(void *ud, int level, const char *msg);

#endif /* DMN_RPCSVC_H */

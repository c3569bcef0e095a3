/* http.c: the status port's server (http.h): reads a request until its
 * blank line, answers GET through the daemon's page function and closes;
 * anything else gets 400/405. Runs on librpc's byte-stream server on the
 * daemon's loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rpc.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "rpcsvc.h"

#define MAX_REQUEST 8192

struct dmn_http
{
    struct rpc_stream_server *srv; /* the listener */
    dmn_http_page_fn page;         /* the daemon's pages */
    void *ud;                      /* their context */
};

static void respond(struct rpc_stream_conn *conn, int code, const char *type,
                    const char *body, size_t len)
{
    const char *reason = code == 200   ? "OK"
                         : code == 404 ? "Not Found"
                         : code == 405 ? "Method Not Allowed"
                         : code == 500 ? "Internal Server Error"
                                       : "Bad Request";
    char head[256];
    int h = snprintf(head, sizeof(head),
                     "HTTP/1.0 %d %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     code, reason, type, len);
    rpc_stream_write(conn, head, (size_t)h);
    if (len)
        rpc_stream_write(conn, body, len);
    rpc_stream_close(conn);
}

static void respond_text(struct rpc_stream_conn *conn, int code,
                         const char *msg)
{
    respond(conn, code, "text/plain", msg, strlen(msg));
}

static size_t on_data(struct rpc_stream_conn *conn, const uint8_t *data,
                      size_t len, void *ud)
{
    struct dmn_http *h = ud;
    if (rpc_stream_get_ud(conn))
        return len; /* answered: ignore the rest */
    char method[16], path[256];
    int prc = dmn_http_parse(data, len, method, sizeof(method), path,
                             sizeof(path));
    if (prc == 1) {
        if (len <= MAX_REQUEST)
            return 0; /* wait for the rest of the header */
        rpc_stream_set_ud(conn, conn);
        respond_text(conn, 400, "request too large\n");
        return len;
    }
    rpc_stream_set_ud(conn, conn);
    if (prc != 0) {
        respond_text(conn, 400, "bad request line\n");
        return len;
    }
    if (strcmp(method, "GET") != 0) {
        respond_text(conn, 405, "only GET\n");
        return len;
    }
    char *body = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&body, &blen);
    if (!f) {
        respond_text(conn, 500, "out of memory\n");
        return len;
    }
    const char *type = "application/json";
    int code = h->page(h->ud, path, f, &type);
    if (fclose(f) != 0)
        respond_text(conn, 500, "out of memory\n");
    else
        respond(conn, code, type, body, blen);
    free(body);
    return len;
}

int dmn_http_start(struct event_base *base, const char *listen,
                   dmn_http_page_fn page, void *ud, struct dmn_http **out)
{
    char host[256], err[256];
    uint16_t port;
    if (dmn_cfg_split_addr(listen, host, sizeof(host), &port) != 0) {
        dmn_error("status-listen: bad address '%s'", listen);
        return -1;
    }
    struct dmn_http *h = calloc(1, sizeof(*h));
    if (!h) {
        dmn_error("status-listen: out of memory");
        return -1;
    }
    h->page = page;
    h->ud = ud;
    struct rpc_stream_server_options so = {
        .host = host,
        .port = port,
        .max_connections = 64,
        .cb = {.on_data = on_data},
        .ud = h,
        .log = dmn_rpc_log,
        .log_level = RPC_LOG_WARN,
    };
    if (rpc_stream_server_create(base, &so, &h->srv, err, sizeof(err)) != 0) {
        dmn_error("cannot serve HTTP on %s: %s", listen, err);
        free(h);
        return -1;
    }
    dmn_info("serving HTTP status on %s:%u", host,
             (unsigned)rpc_stream_server_port(h->srv));
    *out = h;
    return 0;
}

void dmn_http_stop(struct dmn_http *h)
{
    if (!h)
        return;
    rpc_stream_server_destroy(h->srv);
    free(h);
}

uint16_t dmn_http_port(const struct dmn_http *h)
{
    return rpc_stream_server_port(h->srv);
}

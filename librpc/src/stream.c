/* stream.c: the raw byte-stream server (rpc.h, "Byte streams"): a listener,
 * connections that hand unframed bytes to the caller and queue its output,
 * read pausing, close-after-flush and a server-side TLS upgrade in the
 * middle of the stream through the TLS seam (tls.h). librpc/DESIGN.md,
 * "Byte streams".
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/listener.h>

#include "rpc_int.h"
#include "tls.h"

#define DEFAULT_MAX_CONNS 1024u
#define DEFAULT_MAX_UNCONSUMED ((size_t)64 << 20)
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_HIGH_WATER ((size_t)1 << 20)
#define MAX_SINGLE_IO (256 * 1024)

enum st_state {
    ST_PLAIN,     /* plaintext both ways */
    ST_HANDSHAKE, /* rpc_stream_start_tls called; handshake running */
    ST_TLS,       /* established: records both ways */
    ST_CLOSING,   /* rpc_stream_close: flushing, then on_close */
    ST_DONE,      /* on_close fired; freed when our frames unwind */
};

struct rpc_stream_server
{
    struct event_base *base;          /* caller's loop */
    struct rpc__listener *lev;        /* listening socket (pauses
                                         on accept failures) */
    uint16_t port;                    /* bound port */
    const struct rpc_tls_config *tls; /* borrowed; NULL: no upgrade */
    unsigned max_conns;               /* open connections allowed */
    uint8_t *refuse;                  /* copy of refuse_data, or NULL */
    size_t refuse_len;                /* its length */
    size_t max_unconsumed;            /* flood limit on unconsumed input */
    int timeout_ms;                   /* handshake and close flush bound */
    size_t high_water;                /* output level that asks on_drain */
    struct rpc_stream_callbacks cb;   /* caller's callbacks */
    void *ud;                         /* passed to cb */
    struct rpc__log log;              /* caller's logger */
    struct rpc__list conns;           /* rpc_stream_conn.link */
    unsigned n_conns;                 /* length of conns */
};

struct rpc_stream_conn
{
    struct rpc_stream_server *srv; /* owner; NULL once ST_DONE */
    enum st_state state;           /* see enum */
    struct bufferevent *bev;       /* the socket: raw bytes out */
    struct event *rd_ev;           /* the socket readable (we read it) */
    struct evbuffer *rx;           /* raw bytes read (ciphertext in TLS) */
    struct evbuffer *in;           /* plaintext not yet consumed */
    struct evbuffer *out;          /* plaintext waiting for TLS records */
    struct rpc__tls *tls;          /* NULL until rpc_stream_start_tls */
    struct event *timer;           /* handshake / close-flush bound */
    struct event *kick_ev;         /* deferred work, see kick_cb */
    bool kicked;                   /* kick_ev is active */
    bool paused;                   /* caller paused reading */
    bool delivering;               /* inside on_data */
    bool upgrade_pending;          /* start_tls inside on_data */
    bool tls_pending;              /* rx holds ciphertext to process */
    bool deliver_pending;          /* in may hold deliverable bytes */
    bool flush_pending;            /* out holds plaintext to encrypt */
    bool want_drain;               /* output went above high_water */
    int busy;                      /* depth of our frames on the stack */
    bool dead;                     /* free when busy drops to 0 */
    void *ud;                      /* rpc_stream_set_ud */
    struct rpc__list link;         /* node in srv->conns */
    char peer[80];                 /* "ip:port" */
};

static void conn_free(struct rpc_stream_conn *c)
{
    if (c->rd_ev != NULL) /* before the bufferevent closes the socket */
        event_free(c->rd_ev);
    if (c->timer != NULL)
        event_free(c->timer);
    if (c->kick_ev != NULL)
        event_free(c->kick_ev);
    if (c->bev != NULL)
        bufferevent_free(c->bev);
    if (c->rx != NULL)
        evbuffer_free(c->rx);
    if (c->in != NULL)
        evbuffer_free(c->in);
    if (c->out != NULL)
        evbuffer_free(c->out);
    rpc__tls_free(c->tls);
    rpc__free(c);
}

static void enter(struct rpc_stream_conn *c)
{
    c->busy++;
}

static void leave(struct rpc_stream_conn *c)
{
    if (--c->busy == 0 && c->dead)
        conn_free(c);
}

static void kick(struct rpc_stream_conn *c)
{
    if (!c->kicked && c->state != ST_DONE) {
        c->kicked = true;
        event_active(c->kick_ev, EV_TIMEOUT, 0);
    }
}

static void arm_timer(struct rpc_stream_conn *c)
{
    int ms = c->srv->timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

/* The end of a connection: detaches it from the server, tells the caller
 * once, and frees it (now or when our frames unwind). */
static void finish(struct rpc_stream_conn *c, int rc, const char *reason)
{
    if (c->state == ST_DONE)
        return;
    struct rpc_stream_server *srv = c->srv;
    c->state = ST_DONE;
    bool routine = rc == 0 || rc == RPC_ECONNLOST || rc == RPC_ECLOSED;
    rpc__logf(&srv->log, routine ? RPC_LOG_INFO : RPC_LOG_WARN,
              "librpc: stream %s closed: %s%s%s", c->peer, reason,
              rc != 0 ? " - " : "", rc != 0 ? rpc_strerror(rc) : "");
    bufferevent_disable(c->bev, EV_WRITE); /* it never reads */
    event_del(c->rd_ev);
    evtimer_del(c->timer);
    event_del(c->kick_ev);
    rpc__list_remove(&c->link);
    srv->n_conns--;
    c->srv = NULL;
    enter(c);
    if (srv->cb.on_close != NULL)
        srv->cb.on_close(c, rc, reason, srv->ud);
    c->dead = true;
    leave(c);
}

static size_t out_len(const struct rpc_stream_conn *c)
{
    return evbuffer_get_length(c->out) +
           evbuffer_get_length(bufferevent_get_output(c->bev));
}

/* Encrypts c->out once established. Returns false after a failure closed
 * the connection. */
static bool flush_tls(struct rpc_stream_conn *c)
{
    c->flush_pending = false;
    if (c->tls == NULL || !rpc__tls_established(c->tls) ||
        evbuffer_get_length(c->out) == 0)
        return true;
    if (rpc__tls_on_write(c->tls, c->out, bufferevent_get_output(c->bev)) <
        0) {
        char why[600];
        snprintf(why, sizeof why, "TLS write failed: %s",
                 rpc__tls_errmsg(c->tls));
        finish(c, RPC_ETLS, why);
        return false;
    }
    return true;
}

static void tls_read(struct rpc_stream_conn *c);

/* Hands c->in to on_data until it consumes nothing, the caller pauses,
 * closes or upgrades, or nothing is left. */
static void deliver(struct rpc_stream_conn *c)
{
    c->deliver_pending = false;
    while ((c->state == ST_PLAIN || c->state == ST_TLS) && !c->paused) {
        size_t len = evbuffer_get_length(c->in);
        if (len == 0)
            break;
        const uint8_t *p = evbuffer_pullup(c->in, -1);
        if (p == NULL) {
            finish(c, -ENOMEM, "out of memory buffering input");
            return;
        }
        c->delivering = true;
        size_t n = c->srv->cb.on_data(c, p, len, c->srv->ud);
        c->delivering = false;
        if (c->state == ST_DONE)
            return;
        if (n > len)
            n = len; /* a caller bug: take it as "all" */
        evbuffer_drain(c->in, n);
        if (c->upgrade_pending) {
            /* What on_data left is the client's first TLS bytes. */
            c->upgrade_pending = false;
            evbuffer_prepend_buffer(c->rx, c->in);
            tls_read(c);
            return;
        }
        if (n == 0)
            break;
    }
    if (c->state != ST_DONE && c->state != ST_CLOSING && !c->paused &&
        evbuffer_get_length(c->in) > c->srv->max_unconsumed) {
        char why[160];
        snprintf(why, sizeof why,
                 "peer sent %zu bytes the application did not consume",
                 evbuffer_get_length(c->in));
        finish(c, RPC_EFLOOD, why);
    }
}

/* Runs the seam over c->rx: handshake records, then decrypted bytes. */
static void tls_read(struct rpc_stream_conn *c)
{
    c->tls_pending = false;
    int rc = rpc__tls_on_read(c->tls, c->rx, c->in,
                              bufferevent_get_output(c->bev));
    if (rc < 0) {
        char why[600];
        snprintf(why, sizeof why, "TLS %s failed: %s",
                 c->state == ST_HANDSHAKE ? "handshake" : "record",
                 rpc__tls_errmsg(c->tls));
        finish(c, rc, why);
        return;
    }
    if (c->state == ST_HANDSHAKE && rpc__tls_established(c->tls)) {
        c->state = ST_TLS;
        evtimer_del(c->timer);
        rpc__logf(&c->srv->log, RPC_LOG_INFO,
                  "librpc: stream %s: TLS established", c->peer);
        if (!flush_tls(c))
            return;
    }
    deliver(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg);

static void sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rpc_stream_conn *c = arg;
    (void)what;
    enter(c);
    int err = 0;
    int end = rpc__sock_pull(c->rx, fd, &err); /* util.c */
    if (c->state == ST_PLAIN) {
        evbuffer_add_buffer(c->in, c->rx);
        deliver(c);
    } else if (c->state == ST_HANDSHAKE || c->state == ST_TLS) {
        tls_read(c);
    } else {
        evbuffer_drain(c->rx, evbuffer_get_length(c->rx));
    }
    /* What was read before the end of file or the error is handled
     * first, as the bufferevent's reader did. A connection the caller
     * closed meanwhile stopped reading: its flush goes on (bounded by the
     * timer), as before. */
    if (end != 0 && c->state != ST_DONE && c->state != ST_CLOSING)
        rpc__sock_end(c->rd_ev, event_cb, c->bev, c, end, err); /* util.c */
    leave(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct rpc_stream_conn *c = arg;
    (void)bev;
    if (c->state == ST_CLOSING && out_len(c) == 0) {
        finish(c, 0, "closed by the server");
        return;
    }
    if (c->want_drain && c->state != ST_DONE && c->state != ST_CLOSING &&
        out_len(c) <= c->srv->high_water / 2) {
        c->want_drain = false;
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
        if (c->srv->cb.on_drain != NULL) {
            enter(c);
            c->srv->cb.on_drain(c, c->srv->ud);
            leave(c);
        }
    }
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct rpc_stream_conn *c = arg;
    (void)bev;
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) || c->state == ST_DONE)
        return;
    char why[200];
    int rc = RPC_ECONNLOST;
    int err = EVUTIL_SOCKET_ERROR();
    if (c->state == ST_CLOSING) {
        snprintf(why, sizeof why, "peer left before the last %zu bytes",
                 out_len(c));
        rc = out_len(c) == 0 ? 0 : RPC_ECONNLOST;
    } else if (what & BEV_EVENT_EOF) {
        size_t left = evbuffer_get_length(c->in) + evbuffer_get_length(c->rx);
        snprintf(why, sizeof why, "peer closed the connection%s (%zu bytes "
                 "unconsumed)",
                 c->state == ST_HANDSHAKE ? " during the TLS handshake" : "",
                 left);
    } else {
        snprintf(why, sizeof why, "connection failed: %s",
                 evutil_socket_error_to_string(err));
    }
    finish(c, rc, why);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rpc_stream_conn *c = arg;
    (void)fd;
    (void)what;
    if (c->state == ST_HANDSHAKE)
        finish(c, RPC_ESTALLED, "peer stalled during the TLS handshake");
    else if (c->state == ST_CLOSING)
        finish(c, RPC_ESTALLED, "peer did not read the last output");
}

/* Work deferred out of the caller's own calls: closing with nothing left
 * to send, an upgrade outside on_data, TLS output, delivery on resume. */
static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rpc_stream_conn *c = arg;
    (void)fd;
    (void)what;
    c->kicked = false;
    enter(c);
    if (c->state == ST_CLOSING) {
        if (out_len(c) == 0)
            finish(c, 0, "closed by the server");
    } else {
        if (c->tls_pending && c->state != ST_DONE)
            tls_read(c);
        if (c->flush_pending && c->state == ST_TLS)
            flush_tls(c);
        if (c->deliver_pending && c->state != ST_DONE)
            deliver(c);
    }
    leave(c);
}

static void peer_text(const struct sockaddr *sa, int salen, char *buf,
                      size_t len)
{
    char host[64] = "?";
    uint16_t port = 0;
    if (sa->sa_family == AF_INET && salen >= (int)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    snprintf(buf, len, sa->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
             port);
}

static void accept_cb(struct evconnlistener *lev,
                      evutil_socket_t fd,
                      struct sockaddr *sa,
                      int salen,
                      void *arg)
{
    struct rpc_stream_server *srv = arg;
    (void)lev;
    char peer[80];
    peer_text(sa, salen, peer, sizeof peer);
    if (srv->n_conns >= srv->max_conns) {
        if (srv->refuse_len > 0)
            (void)send(fd, srv->refuse, srv->refuse_len,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
        evutil_closesocket(fd);
        rpc__logf(&srv->log, RPC_LOG_WARN,
                  "librpc: stream %s refused: %u connections open", peer,
                  srv->n_conns);
        return;
    }
    struct rpc_stream_conn *c = rpc__calloc(1, sizeof *c);
    if (c == NULL)
        goto oom_fd;
    c->srv = srv;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->timer = evtimer_new(srv->base, timer_cb, c);
    c->kick_ev = event_new(srv->base, -1, 0, kick_cb, c);
    c->rx = evbuffer_new();
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    if (c->timer == NULL || c->kick_ev == NULL || c->rx == NULL ||
        c->in == NULL || c->out == NULL)
        goto oom_conn;
    evutil_make_socket_nonblocking(fd);
    rpc__tune_socket(fd);
    c->rd_ev = event_new(srv->base, fd, EV_READ | EV_PERSIST, sock_read_cb,
                         c);
    if (c->rd_ev == NULL)
        goto oom_conn;
    c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL)
        goto oom_conn;
    bufferevent_setcb(c->bev, NULL, write_cb, event_cb, c);
    bufferevent_set_max_single_write(c->bev, MAX_SINGLE_IO);
    bufferevent_enable(c->bev, EV_WRITE);
    event_add(c->rd_ev, NULL);
    rpc__list_push(&srv->conns, &c->link);
    srv->n_conns++;
    rpc__logf(&srv->log, RPC_LOG_INFO, "librpc: stream %s accepted", peer);
    if (srv->cb.on_open != NULL) {
        enter(c);
        srv->cb.on_open(c, srv->ud);
        leave(c);
    }
    return;
oom_conn:
    conn_free(c); /* no bufferevent yet: fd is still ours */
oom_fd:
    evutil_closesocket(fd);
    rpc__logf(&srv->log, RPC_LOG_ERROR,
              "librpc: stream %s: out of memory accepting", peer);
}

int rpc_stream_server_create(struct event_base *base,
                             const struct rpc_stream_server_options *opts,
                             struct rpc_stream_server **out,
                             char *errbuf,
                             size_t errlen)
{
    int rc;
    if (errlen > 0)
        errbuf[0] = '\0';
    if (base == NULL || opts == NULL || out == NULL ||
        opts->cb.on_data == NULL) {
        snprintf(errbuf, errlen, "base, opts, out and cb.on_data are required");
        return RPC_ECONFIG;
    }
    if (opts->handshake_timeout_ms < 0 ||
        (opts->refuse_len > 0 && opts->refuse_data == NULL)) {
        snprintf(errbuf, errlen,
                 "handshake_timeout_ms or refuse_data invalid");
        return RPC_ECONFIG;
    }
    struct rpc_stream_server *srv = rpc__calloc(1, sizeof *srv);
    if (srv == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    srv->base = base;
    srv->tls = opts->tls;
    srv->max_conns =
        opts->max_connections != 0 ? opts->max_connections : DEFAULT_MAX_CONNS;
    srv->max_unconsumed = opts->max_unconsumed != 0 ? opts->max_unconsumed
                                                    : DEFAULT_MAX_UNCONSUMED;
    srv->timeout_ms = opts->handshake_timeout_ms != 0
                          ? opts->handshake_timeout_ms
                          : DEFAULT_TIMEOUT_MS;
    srv->high_water = opts->out_high_water != 0 ? opts->out_high_water
                                                : DEFAULT_HIGH_WATER;
    srv->cb = opts->cb;
    srv->ud = opts->ud;
    srv->log.fn = opts->log;
    srv->log.ud = opts->log_ud;
    srv->log.level = opts->log_level;
    rpc__list_init(&srv->conns);
    if (opts->refuse_len > 0) {
        srv->refuse = rpc__malloc(opts->refuse_len);
        if (srv->refuse == NULL) {
            snprintf(errbuf, errlen, "out of memory");
            rc = -ENOMEM;
            goto err_srv;
        }
        memcpy(srv->refuse, opts->refuse_data, opts->refuse_len);
        srv->refuse_len = opts->refuse_len;
    }

    rc = rpc__listen(base, opts->host, opts->port, accept_cb, srv, &srv->log,
                     "stream accept", &srv->lev, &srv->port, errbuf, errlen);
    if (rc != 0)
        goto err_srv;
    *out = srv;
    return 0;

err_srv:
    rpc__free(srv->refuse);
    rpc__free(srv);
    return rc;
}

void rpc_stream_server_destroy(struct rpc_stream_server *srv)
{
    if (srv == NULL)
        return;
    rpc__listener_free(srv->lev);
    while (!rpc__list_empty(&srv->conns))
        finish(RPC__CONTAINER(srv->conns.next, struct rpc_stream_conn, link),
               RPC_ECLOSED, "server shutting down");
    rpc__free(srv->refuse);
    rpc__free(srv);
}

void rpc_stream_server_stop_listening(struct rpc_stream_server *srv)
{
    rpc__listener_free(srv->lev);
    srv->lev = NULL;
}

uint16_t rpc_stream_server_port(const struct rpc_stream_server *srv)
{
    return srv->port;
}

unsigned rpc_stream_server_connection_count(const struct rpc_stream_server *srv)
{
    return srv->n_conns;
}

int rpc_stream_write(struct rpc_stream_conn *conn,
                     const void *data,
                     size_t len)
{
    if (conn->state == ST_CLOSING || conn->state == ST_DONE)
        return RPC_ECLOSED;
    if (len == 0)
        return 0;
    if (conn->state == ST_PLAIN) {
        struct evbuffer *bout = bufferevent_get_output(conn->bev);
        if (evbuffer_get_length(bout) == 0 && len <= (64u << 10)) {
            /* Nothing queued, a reply-sized write: send now, no poll
             * round for writability (epoll_ctl, epoll_wait, then the
             * write). Larger writes keep the queue (and its high-water
             * answer) as before. What the socket
             * does not take, or an error, is left to the bufferevent,
             * which reports errors on its next write. */
            ssize_t r = send(bufferevent_getfd(conn->bev), data, len,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (r > 0) {
                data = (const uint8_t *)data + r;
                len -= (size_t)r;
            }
            if (len == 0)
                return 0;
        }
        if (evbuffer_add(bout, data, len) != 0)
            return -ENOMEM;
    } else {
        if (evbuffer_add(conn->out, data, len) != 0)
            return -ENOMEM;
        /* Records are cut once per loop iteration: writes made together
         * leave together. */
        conn->flush_pending = true;
        kick(conn);
    }
    if (out_len(conn) <= conn->srv->high_water)
        return 0;
    if (!conn->want_drain) {
        /* write_cb fires once the socket's share falls to half. */
        conn->want_drain = true;
        bufferevent_setwatermark(conn->bev, EV_WRITE,
                                 conn->srv->high_water / 2, 0);
    }
    return 1;
}

size_t rpc_stream_queued(const struct rpc_stream_conn *conn)
{
    return out_len(conn);
}

void rpc_stream_pause_reading(struct rpc_stream_conn *conn, bool pause)
{
    if (conn->state == ST_DONE || conn->state == ST_CLOSING ||
        conn->paused == pause)
        return;
    conn->paused = pause;
    if (pause) {
        event_del(conn->rd_ev);
    } else {
        event_add(conn->rd_ev, NULL);
        conn->deliver_pending = true;
        kick(conn);
    }
}

int rpc_stream_start_tls(struct rpc_stream_conn *conn)
{
    if (conn->state == ST_CLOSING || conn->state == ST_DONE)
        return RPC_ECLOSED;
    if (conn->state != ST_PLAIN || conn->srv->tls == NULL)
        return RPC_ECONFIG;
    int rc = rpc__tls_new(conn->srv->tls, &conn->tls);
    if (rc != 0)
        return rc;
    conn->state = ST_HANDSHAKE;
    arm_timer(conn);
    rpc__logf(&conn->srv->log, RPC_LOG_INFO,
              "librpc: stream %s: TLS upgrade", conn->peer);
    if (conn->delivering) {
        conn->upgrade_pending = true; /* deliver moves the rest */
    } else {
        evbuffer_prepend_buffer(conn->rx, conn->in);
        conn->tls_pending = true;
        kick(conn);
    }
    return 0;
}

bool rpc_stream_is_tls(const struct rpc_stream_conn *conn)
{
    return conn->tls != NULL;
}

const char *rpc_stream_peer_cn(const struct rpc_stream_conn *conn)
{
    if (conn->tls == NULL || !rpc__tls_established(conn->tls))
        return "";
    return rpc__tls_peer_cn(conn->tls);
}

bool rpc_stream_tls_info(const struct rpc_stream_conn *conn,
                         struct rpc_tls_info *out)
{
    return rpc__tls_info(conn->tls, out);
}

void rpc_stream_close(struct rpc_stream_conn *conn)
{
    if (conn->state == ST_CLOSING || conn->state == ST_DONE)
        return;
    if (conn->state == ST_TLS)
        flush_tls(conn);
    if (conn->state == ST_DONE)
        return;
    evbuffer_drain(conn->out, evbuffer_get_length(conn->out)); /* no TLS */
    conn->state = ST_CLOSING;
    conn->upgrade_pending = false;
    conn->want_drain = false;
    event_del(conn->rd_ev);
    bufferevent_setwatermark(conn->bev, EV_WRITE, 0, 0);
    bufferevent_enable(conn->bev, EV_WRITE);
    arm_timer(conn);
    kick(conn); /* on_close from the loop, never inside the caller */
}

const char *rpc_stream_peer(const struct rpc_stream_conn *conn)
{
    return conn->peer;
}

void rpc_stream_set_ud(struct rpc_stream_conn *conn, void *ud)
{
    conn->ud = ud;
}

void *rpc_stream_get_ud(const struct rpc_stream_conn *conn)
{
    return conn->ud;
}

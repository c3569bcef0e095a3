/* conn.c: one librpc connection: a socket bufferevent holding ciphertext
 * (or plaintext without TLS), plaintext evbuffers frames are parsed from
 * and appended to, the TLS seam (tls.h), the stall and flood guards and the
 * GOAWAY-then-close path. librpc/DESIGN.md, "Connections".
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "rpc_int.h"
#include "tls.h"

enum conn_state {
    CONN_CONNECTING, /* client: TCP connect in progress */
    CONN_HANDSHAKE,  /* TLS handshake in progress */
    CONN_OPEN,       /* frames flow */
    CONN_CLOSING,    /* owner detached; flushing a GOAWAY, then freed */
};

#define MAX_SINGLE_IO (256 * 1024)

struct rpc__conn
{
    enum conn_state state;   /* see enum */
    struct event_base *base; /* loop */
    struct bufferevent *bev; /* the socket; raw bytes */
    struct evbuffer *rx;     /* raw bytes read (ciphertext with TLS) */
    struct evbuffer *in;     /* plaintext in (rx without TLS) */
    struct evbuffer *out;    /* plaintext out, ours; flush_out moves
                                it to the socket */
    struct rpc__tls *tls; /* NULL: plaintext */
    bool use_tls;                    /* in/out are our own buffers */
    bool is_server;                  /* accepted, not connected */
    struct event *stall_ev;          /* mid-frame silence / flood hold */
    struct event *kick_ev;           /* deferred parse and TLS flush */
    struct event *connect_ev;        /* client connect timeout */
    struct event *rd_ev;             /* the socket readable (we read it
                                        ourselves: see sock_read_cb) */
    const struct rpc__conn_ops *ops; /* owner callbacks; NULL once
                                        detached */
    void *owner;                     /* passed to ops */
    const struct rpc__log *log;      /* owner's logger (not for CLOSING) */
    struct rpc__log own_log;         /* copy used while CLOSING */
    struct rpc__list *lingering;     /* list CLOSING conns wait on */
    struct rpc__list link;           /* node in lingering */
    uint32_t max_frame;              /* payload limit */
    int stall_timeout_ms;            /* guard timeout */
    size_t max_out;                  /* output limit, 0 none */
    bool paused_owner;               /* owner asked to stop reading */
    bool paused_out;                 /* output over the limit */
    bool flush_pending;              /* kick_ev should flush out */
    bool parse_pending;              /* kick_ev should parse input */
    bool kicked;                     /* kick_ev is active */
    bool in_parse;                   /* read_cb or kick_cb is parsing: it
                                        flushes what the frames produced
                                        when it ends */
    int busy;                        /* depth of our own callbacks */
    bool dead;                       /* free when busy drops to 0 */
    char peer[64];                   /* "ip:port" for logs */
    char reason[256];                /* on_frame error text */
};

static void conn_free(struct rpc__conn *c)
{
    if (c->stall_ev != NULL)
        event_free(c->stall_ev);
    if (c->kick_ev != NULL)
        event_free(c->kick_ev);
    if (c->connect_ev != NULL)
        event_free(c->connect_ev);
    if (c->rd_ev != NULL)
        event_free(c->rd_ev);
    if (c->bev != NULL)
        bufferevent_free(c->bev);
    if (c->use_tls && c->in != NULL)
        evbuffer_free(c->in);
    if (c->out != NULL)
        evbuffer_free(c->out);
    if (c->rx != NULL)
        evbuffer_free(c->rx);
    rpc__tls_free(c->tls);
    if (c->link.next != NULL)
        rpc__list_remove(&c->link);
    rpc__free(c);
}

/* Frees now, or once our callbacks on the stack unwind. */
static void conn_release(struct rpc__conn *c)
{
    if (c->busy > 0)
        c->dead = true;
    else
        conn_free(c);
}

static const struct rpc__log *conn_log(const struct rpc__conn *c)
{
    return c->ops != NULL ? c->log : &c->own_log;
}

static void update_read(struct rpc__conn *c)
{
    if (c->state == CONN_CLOSING || c->state == CONN_CONNECTING ||
        c->rd_ev == NULL)
        return;
    if (c->paused_owner || c->paused_out)
        event_del(c->rd_ev);
    else
        event_add(c->rd_ev, NULL);
}

static void kick(struct rpc__conn *c)
{
    if (!c->kicked) {
        c->kicked = true;
        event_active(c->kick_ev, EV_TIMEOUT, 0);
    }
}

/* Closes because of a fault: tells the owner (once), then either lingers
 * to flush a GOAWAY or frees. */
static void conn_fail(struct rpc__conn *c,
                      int rc,
                      const char *reason,
                      uint32_t id,
                      bool goaway)
{
    if (c->state == CONN_CLOSING)
        return;
    const struct rpc__conn_ops *ops = c->ops;
    void *owner = c->owner;
    rpc__logf(conn_log(c), goaway ? RPC_LOG_ERROR : RPC_LOG_INFO,
              "librpc: closing connection %s: %s (%s)", c->peer, reason,
              rpc_strerror(rc));
    c->busy++;
    rpc__conn_close(c, rc, reason, id, goaway);
    if (ops != NULL && ops->on_close != NULL)
        ops->on_close(owner, rc, reason, id);
    c->busy--;
    if (c->dead && c->busy == 0)
        conn_free(c);
}

static void stall_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rpc__conn *c = arg;
    (void)fd;
    (void)what;
    if (c->state == CONN_CLOSING) {
        rpc__logf(&c->own_log, RPC_LOG_INFO,
                  "librpc: %s did not read its GOAWAY; dropped", c->peer);
        conn_release(c);
        return;
    }
    if (c->state == CONN_HANDSHAKE)
        conn_fail(c, RPC_ESTALLED, "peer stalled during the TLS handshake", 0,
                  false);
    else if (c->paused_out)
        conn_fail(c, RPC_EFLOOD,
                  "peer sent requests without reading the replies", 0, true);
    else
        conn_fail(c, RPC_ESTALLED, "peer stalled in the middle of a frame", 0,
                  true);
}

/* Re-arms or clears the stall guard after input or output changed. */
static void update_stall(struct rpc__conn *c)
{
    if (c->state == CONN_CLOSING || c->stall_timeout_ms <= 0)
        return;
    bool arm;
    if (c->state == CONN_HANDSHAKE) {
        /* The whole handshake must fit in one stall timeout. */
        if (event_pending(c->stall_ev, EV_TIMEOUT, NULL))
            return;
        arm = c->is_server; /* a client is bounded by its connect timer */
    } else if (c->paused_out)
        arm = true; /* the peer must read within the timeout */
    else if (c->paused_owner)
        arm = false; /* we hold the peer back: not its fault */
    else
        arm = evbuffer_get_length(c->in) > 0 || evbuffer_get_length(c->rx) > 0;
    if (arm) {
        if (c->paused_out && event_pending(c->stall_ev, EV_TIMEOUT, NULL))
            return; /* the flood clock keeps running */
        struct timeval tv = {c->stall_timeout_ms / 1000,
                             (c->stall_timeout_ms % 1000) * 1000};
        evtimer_add(c->stall_ev, &tv);
    } else {
        evtimer_del(c->stall_ev);
    }
}

/* Parses every whole frame in c->in and hands it to the owner. */
static void parse(struct rpc__conn *c)
{
    while (c->state == CONN_OPEN && c->ops != NULL && !c->paused_owner &&
           !c->paused_out) {
        size_t avail = evbuffer_get_length(c->in);
        uint8_t hdr[RPC_HEADER_SIZE];
        if (avail < RPC_HEADER_SIZE)
            break;
        evbuffer_copyout(c->in, hdr, sizeof hdr);
        struct rpc__frame f;
        int rc = rpc__frame_decode(hdr, sizeof hdr, c->max_frame, &f);
        if (rc < 0) {
            char why[128];
            snprintf(why, sizeof why, "bad frame header: %s", rpc_strerror(rc));
            conn_fail(c, rc, why, rc == RPC_EFRAME_TOO_LARGE ? f.id : 0, true);
            return;
        }
        size_t total = RPC_HEADER_SIZE + (size_t)f.length;
        if (avail < total)
            break;
        const uint8_t *p = evbuffer_pullup(c->in, (ev_ssize_t)total);
        if (p == NULL) {
            conn_fail(c, -ENOMEM, "out of memory reading a frame", 0, false);
            return;
        }
        c->reason[0] = '\0';
        rc = c->ops->on_frame(c->owner, &f, p + RPC_HEADER_SIZE);
        if (c->state == CONN_CLOSING)
            return; /* the owner closed us */
        evbuffer_drain(c->in, total);
        if (rc < 0) {
            conn_fail(c, rc,
                      c->reason[0] != '\0' ? c->reason : rpc_strerror(rc), f.id,
                      true);
            return;
        }
    }
    update_stall(c);
}

/* One sendmsg of c->out's first chains. MSG_NOSIGNAL: a peer gone does
 * not raise SIGPIPE here (libevent's own writev can: see DESIGN.md). An
 * error leaves the bytes for the bufferevent, which reports it. */
static void write_direct(struct rpc__conn *c)
{
    enum { NVEC = 64 };
    struct evbuffer_iovec v[NVEC];
    struct iovec iov[NVEC];
    int n = evbuffer_peek(c->out, -1, NULL, v, NVEC);
    if (n > NVEC)
        n = NVEC;
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = v[i].iov_base;
        iov[i].iov_len = v[i].iov_len;
    }
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    ssize_t r = sendmsg(bufferevent_getfd(c->bev), &mh, MSG_NOSIGNAL);
    if (r > 0)
        evbuffer_drain(c->out, (size_t)r);
}

static const char *tls_errmsg(const struct rpc__conn *c)
{
    if (c->tls != NULL)
        return rpc__tls_errmsg(c->tls);
    return "TLS failure";
}

/* Unsent output fell to half the limit: read again. */
static void drained(struct rpc__conn *c)
{
    if (!c->paused_out)
        return;
    c->paused_out = false;
    evtimer_del(c->stall_ev);
    update_read(c);
    c->parse_pending = true;
    kick(c);
    if (c->ops != NULL && c->ops->on_drain != NULL)
        c->ops->on_drain(c->owner);
}

/* Moves c->out toward the peer. Without TLS, when nothing is queued in
 * the socket bufferevent, it is written now in one writev (no poll round
 * trip, no epoll_ctl); what the socket does not take, and everything while
 * data is still queued, goes behind the bufferevent's queue. With TLS it is
 * encrypted into the bufferevent's output. Returns 0 or RPC_ETLS. */
static int flush_out(struct rpc__conn *c)
{
    if (c->state != CONN_OPEN || evbuffer_get_length(c->out) == 0)
        return 0;
    struct evbuffer *raw = bufferevent_get_output(c->bev);
    if (c->tls != NULL)
        return rpc__tls_on_write(c->tls, c->out, raw);
    if (evbuffer_get_length(raw) == 0) {
        write_direct(c);
        /* The bufferevent's write callback will not see these bytes go. */
        if (evbuffer_get_length(c->out) <= c->max_out / 2)
            drained(c);
    }
    if (evbuffer_get_length(c->out) > 0)
        evbuffer_add_buffer(raw, c->out);
    return 0;
}

static void set_open(struct rpc__conn *c)
{
    c->state = CONN_OPEN;
    if (c->connect_ev != NULL)
        evtimer_del(c->connect_ev);
    update_read(c);
    c->flush_pending = true; /* requests queued while connecting */
    kick(c);
    if (c->ops != NULL && c->ops->on_open != NULL)
        c->ops->on_open(c->owner);
}

static void event_cb(struct bufferevent *bev, short what, void *arg);

static void sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rpc__conn *c = arg;
    (void)what;
    if (c->state == CONN_CLOSING || c->state == CONN_CONNECTING)
        return; /* not reading (rd_ev is deleted in CLOSING) */
    c->busy++;
    int err = 0;
    int end = rpc__sock_pull(c->rx, fd, &err); /* util.c */
    if (c->tls != NULL) {
        int rc = rpc__tls_on_read(c->tls, c->rx, c->in,
                                  bufferevent_get_output(c->bev));
        if (rc < 0) {
            conn_fail(c, rc, rpc__tls_errmsg(c->tls), 0, false);
            goto out;
        }
        if (c->state == CONN_HANDSHAKE && rpc__tls_established(c->tls)) {
            set_open(c);
            if (c->state != CONN_OPEN)
                goto out;
            if (flush_out(c) < 0) {
                conn_fail(c, RPC_ETLS, rpc__tls_errmsg(c->tls), 0, false);
                goto out;
            }
        }
    }
    c->in_parse = true;
    parse(c);
    c->in_parse = false;
    /* Replies (or calls) the frames just parsed produced leave together,
     * now: no loop turn in between (DESIGN.md "Connections"). */
    if (c->flush_pending && c->state == CONN_OPEN) {
        c->flush_pending = false;
        if (flush_out(c) < 0)
            conn_fail(c, RPC_ETLS, tls_errmsg(c), 0, false);
    }
out:
    /* What was read before the end of file or the error is handled
     * first, as the bufferevent's reader did. */
    if (end != 0 && c->state != CONN_CLOSING)
        rpc__sock_end(c->rd_ev, event_cb, c->bev, c, end, err); /* util.c */
    c->busy--;
    if (c->dead && c->busy == 0)
        conn_free(c);
}

/* The read event on the connection's socket, added by update_read. */
static int start_reading(struct rpc__conn *c)
{
    c->rd_ev = event_new(c->base, bufferevent_getfd(c->bev),
                         EV_READ | EV_PERSIST, sock_read_cb, c);
    return c->rd_ev == NULL ? -ENOMEM : 0;
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct rpc__conn *c = arg;
    (void)bev;
    if (c->state == CONN_CLOSING) {
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
            conn_release(c);
        return;
    }
    drained(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct rpc__conn *c = arg;
    (void)bev;
    if (c->state == CONN_CLOSING) {
        if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
            conn_release(c);
        return;
    }
    if (what & BEV_EVENT_CONNECTED) {
        rpc__tune_socket(bufferevent_getfd(c->bev));
        if (start_reading(c) != 0) {
            conn_fail(c, -ENOMEM, "out of memory for a read event", 0,
                      false);
            return;
        }
        if (c->tls != NULL) {
            c->state = CONN_HANDSHAKE;
            event_add(c->rd_ev, NULL);
            if (rpc__tls_start(c->tls, bufferevent_get_output(c->bev)) < 0)
                conn_fail(c, RPC_ETLS, rpc__tls_errmsg(c->tls), 0, false);
            return;
        }
        set_open(c);
        return;
    }
    char why[160];
    int rc;
    if (c->state == CONN_CONNECTING) {
        int err = EVUTIL_SOCKET_ERROR();
        snprintf(why, sizeof why, "connect to %s failed: %s", c->peer,
                 evutil_socket_error_to_string(err));
        rc = RPC_ECONNECT;
    } else if (what & BEV_EVENT_EOF) {
        snprintf(
            why, sizeof why, "peer %s closed the connection%s", c->peer,
            evbuffer_get_length(c->in) > 0 ? " in the middle of a frame" : "");
        rc = RPC_ECONNLOST;
    } else {
        int err = EVUTIL_SOCKET_ERROR();
        snprintf(why, sizeof why, "connection to %s failed: %s", c->peer,
                 evutil_socket_error_to_string(err));
        rc = RPC_ECONNLOST;
    }
    if (c->state == CONN_HANDSHAKE)
        rc = c->use_tls ? RPC_ETLS : rc;
    conn_fail(c, rc, why, 0, false);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rpc__conn *c = arg;
    (void)fd;
    (void)what;
    c->kicked = false;
    if (c->state == CONN_CLOSING)
        return;
    c->busy++;
    if (c->parse_pending) {
        c->parse_pending = false;
        c->in_parse = true;
        parse(c);
        c->in_parse = false;
    }
    /* After parsing: replies to what was just parsed leave together. */
    if (c->flush_pending && c->state == CONN_OPEN) {
        c->flush_pending = false;
        if (flush_out(c) < 0)
            conn_fail(c, RPC_ETLS, tls_errmsg(c), 0, false);
    }
    c->busy--;
    if (c->dead && c->busy == 0)
        conn_free(c);
}

static void connect_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rpc__conn *c = arg;
    (void)fd;
    (void)what;
    char why[128];
    snprintf(why, sizeof why, "connect to %s timed out", c->peer);
    conn_fail(c, RPC_ECONNECT, why, 0, false);
}

static int conn_new(const struct rpc__conn_params *p,
                    const char *peer,
                    struct rpc__conn **out)
{
    struct rpc__conn *c = rpc__calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->base = p->base;
    c->ops = p->ops;
    c->owner = p->owner;
    c->log = p->log;
    c->own_log = *p->log;
    c->lingering = p->lingering;
    c->max_frame = p->max_frame;
    c->stall_timeout_ms = p->stall_timeout_ms;
    c->max_out = p->max_out;
    c->is_server = p->is_server;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    c->stall_ev = evtimer_new(p->base, stall_cb, c);
    c->kick_ev = event_new(p->base, -1, 0, kick_cb, c);
    c->rx = evbuffer_new();
    c->out = evbuffer_new();
    if (c->stall_ev == NULL || c->kick_ev == NULL || c->rx == NULL ||
        c->out == NULL)
        goto err;
    if (p->tls != NULL) {
        c->use_tls = true;
        c->in = evbuffer_new();
        if (c->in == NULL)
            goto err;
        int rc = rpc__tls_new(p->tls, &c->tls);
        if (rc != 0) {
            conn_free(c);
            return rc; /* -ENOMEM or RPC_ETLS */
        }
    }
    *out = c;
    return 0;
err:
    conn_free(c);
    return -ENOMEM;
}

static void conn_setup_bev(struct rpc__conn *c)
{
    bufferevent_setcb(c->bev, NULL, write_cb, event_cb, c);
    if (!c->use_tls)
        c->in = c->rx;
    bufferevent_set_max_single_read(c->bev, MAX_SINGLE_IO);
    bufferevent_set_max_single_write(c->bev, MAX_SINGLE_IO);
    /* write_cb fires when output drains to half the limit (flood guard)
     * or, while CLOSING, to empty. */
    bufferevent_setwatermark(c->bev, EV_WRITE, c->max_out / 2, 0);
}

int rpc__conn_accept(const struct rpc__conn_params *p,
                     evutil_socket_t fd,
                     const char *peer,
                     struct rpc__conn **out)
{
    struct rpc__conn *c;
    int rc = conn_new(p, peer, &c);
    if (rc != 0)
        return rc;
    evutil_make_socket_nonblocking(fd);
    rpc__tune_socket(fd);
    c->bev = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        conn_free(c);
        return -ENOMEM;
    }
    conn_setup_bev(c);
    if (start_reading(c) != 0) {
        conn_free(c);
        return -ENOMEM;
    }
    c->state = CONN_OPEN;
    if (c->tls != NULL)
        c->state = CONN_HANDSHAKE; /* the client speaks first */
    bufferevent_enable(c->bev, EV_WRITE);
    event_add(c->rd_ev, NULL);
    update_stall(c);
    *out = c;
    return 0;
}

int rpc__conn_connect(const struct rpc__conn_params *p,
                      const struct sockaddr *addr,
                      int addrlen,
                      const char *peer,
                      int timeout_ms,
                      struct rpc__conn **out)
{
    struct rpc__conn *c;
    int rc = conn_new(p, peer, &c);
    if (rc != 0)
        return rc;
    c->state = CONN_CONNECTING;
    c->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
    c->connect_ev = evtimer_new(p->base, connect_timeout_cb, c);
    if (c->bev == NULL || c->connect_ev == NULL) {
        conn_free(c);
        return -ENOMEM;
    }
    conn_setup_bev(c);
    /* Writes before the connect completes wait in the output buffer. */
    bufferevent_enable(c->bev, EV_WRITE);
    if (bufferevent_socket_connect(c->bev, addr, addrlen) != 0) {
        conn_free(c);
        return RPC_ECONNECT;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(c->connect_ev, &tv);
    *out = c;
    return 0;
}

enum flush_when { FLUSH_TURN, FLUSH_NOW, FLUSH_FORCE };
static void conn_flush(struct rpc__conn *c, enum flush_when when);

size_t rpc__conn_queued(const struct rpc__conn *c)
{
    return evbuffer_get_length(c->out) +
           evbuffer_get_length(bufferevent_get_output(c->bev));
}

struct evbuffer *rpc__conn_out(struct rpc__conn *c)
{
    return c->out;
}

void rpc__conn_flush(struct rpc__conn *c)
{
    conn_flush(c, FLUSH_TURN);
}

void rpc__conn_flush_now(struct rpc__conn *c)
{
    conn_flush(c, FLUSH_NOW);
}

void rpc__conn_flush_force(struct rpc__conn *c)
{
    conn_flush(c, FLUSH_FORCE);
}

static void conn_flush(struct rpc__conn *c, enum flush_when when)
{
    if (c->state == CONN_CLOSING)
        return;
    /* Frames appended while a read is parsed leave together when the
     * parse ends (read_cb, kick_cb). Otherwise a reply or a call (now)
     * on a plaintext connection is written at once when nothing waits
     * before it (no loop turn), and forced even with a kick pending
     * (the kick then finds nothing to flush); else the kick runs after
     * the current callbacks of this loop iteration, so frames appended
     * together leave in one write (or TLS record). */
    c->flush_pending = true;
    if (c->in_parse) {
        /* flushed by the callback on the stack */
    } else if (when != FLUSH_TURN && c->busy == 0 &&
               (when == FLUSH_FORCE || !c->kicked) && c->tls == NULL &&
               c->state == CONN_OPEN) {
        c->flush_pending = false;
        (void)flush_out(c); /* plaintext: cannot fail */
    } else {
        kick(c);
    }
    if (c->max_out > 0 && !c->paused_out) {
        size_t queued = evbuffer_get_length(bufferevent_get_output(c->bev)) +
                        evbuffer_get_length(c->out);
        if (queued > c->max_out) {
            rpc__logf(conn_log(c), RPC_LOG_WARN,
                      "librpc: %s is not reading its replies (%zu bytes "
                      "queued): reading paused",
                      c->peer, queued);
            c->paused_out = true;
            update_read(c);
            update_stall(c);
        }
    }
}

void rpc__conn_pause(struct rpc__conn *c, bool pause)
{
    if (c->paused_owner == pause)
        return;
    c->paused_owner = pause;
    update_read(c);
    if (!pause) {
        c->parse_pending = true;
        kick(c);
    }
    update_stall(c);
}

void rpc__conn_close(struct rpc__conn *c,
                     int rc,
                     const char *reason,
                     uint32_t id,
                     bool goaway)
{
    if (c->state == CONN_CLOSING)
        return;
    bool can_send = goaway && c->state == CONN_OPEN;
    /* A TLS failure may have left an alert for the peer in the socket's
     * output: it lingers too, so the peer learns why. */
    bool alert = c->use_tls && c->state != CONN_CONNECTING &&
                 evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;
    c->ops = NULL;
    c->owner = NULL;
    c->state = CONN_CLOSING;
    evtimer_del(c->stall_ev);
    if (c->connect_ev != NULL)
        evtimer_del(c->connect_ev);
    if ((!can_send && !alert) || c->lingering == NULL) {
        conn_release(c);
        return;
    }
    if (can_send) {
        /* Replies already queued go first, then the GOAWAY. */
        struct rpc__frame f = {.flags = RPC_F_GOAWAY, .id = id, .aux = rc};
        const char *text = reason != NULL ? reason : "";
        rpc__frame_append_raw(c->out, &f, text, strlen(text));
        c->state = CONN_OPEN; /* flush_out's precondition, for this call */
        int frc = flush_out(c);
        c->state = CONN_CLOSING;
        if (frc < 0) {
            conn_release(c);
            return;
        }
    }
    if (c->rd_ev != NULL)
        event_del(c->rd_ev);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    bufferevent_enable(c->bev, EV_WRITE);
    rpc__list_push(c->lingering, &c->link);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        conn_release(c);
        return;
    }
    /* A peer that reads nothing must not keep the socket forever. */
    int ms = c->stall_timeout_ms > 0 ? c->stall_timeout_ms : 1000;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->stall_ev, &tv);
}

void rpc__conn_free_lingering(struct rpc__list *lingering)
{
    while (!rpc__list_empty(lingering)) {
        struct rpc__conn *c =
            RPC__CONTAINER(lingering->next, struct rpc__conn, link);
        rpc__list_remove(&c->link);
        c->link.next = NULL;
        conn_release(c); /* later if our callbacks are on the stack */
    }
}

void rpc__conn_set_reason(struct rpc__conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
}

const char *rpc__conn_peer(const struct rpc__conn *c)
{
    return c->peer;
}

const char *rpc__conn_peer_cn(const struct rpc__conn *c)
{
    if (c->tls != NULL)
        return rpc__tls_peer_cn(c->tls);
    return "";
}

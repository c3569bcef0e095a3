/* util.c: librpc's allocator hook and logging helper (librpc/DESIGN.md,
 * "Conventions"), and what frame and stream connections share of their
 * sockets: options, reads, the end of the stream. Libraries never print:
 * lines go to the caller's logger.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/listener.h>

#include "rpc_int.h"

#define PULL_CHUNK (64 * 1024) /* one readv of rpc__sock_pull */
#define MAX_PULL (1024 * 1024) /* per call, for fairness */

void rpc__tune_socket(evutil_socket_t fd)
{
    int one = 1, idle = 60, intvl = 10, cnt = 3;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

void rpc__sock_end(struct event *rd_ev, bufferevent_event_cb cb,
                   struct bufferevent *bev, void *arg, int end, int err)
{
    if (rd_ev != NULL)
        event_del(rd_ev);
    errno = err;
    cb(bev,
       (short)(BEV_EVENT_READING | (end > 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR)),
       arg);
}

int rpc__sock_pull(struct evbuffer *buf, evutil_socket_t fd, int *err)
{
    size_t total = 0;
    while (total < MAX_PULL) {
        struct evbuffer_iovec v[2];
        int n = evbuffer_reserve_space(buf, PULL_CHUNK, v, 2);
        if (n <= 0) {
            *err = ENOMEM;
            return -1;
        }
        struct iovec iov[2];
        size_t want = 0;
        for (int i = 0; i < n; i++) {
            iov[i].iov_base = v[i].iov_base;
            iov[i].iov_len = v[i].iov_len;
            want += v[i].iov_len;
        }
        ssize_t r = readv(fd, iov, n);
        if (r == 0)
            return 1;
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0; /* nothing committed: the reservation lapses */
            *err = errno;
            return -1;
        }
        size_t left = (size_t)r;
        int used = 0;
        for (int i = 0; i < n && left > 0; i++, used++) {
            if (v[i].iov_len > left)
                v[i].iov_len = left;
            left -= v[i].iov_len;
        }
        evbuffer_commit_space(buf, v, used);
        total += (size_t)r;
        if ((size_t)r < want)
            return 0; /* drained */
    }
    return 0;
}

static void *(*heap_malloc)(size_t) = malloc;
static void *(*heap_realloc)(void *, size_t) = realloc;
static void (*heap_free)(void *) = free;

void rpc_heap_set(void *(*malloc_fn)(size_t),
                  void *(*realloc_fn)(void *, size_t),
                  void (*free_fn)(void *))
{
    heap_malloc = malloc_fn != NULL ? malloc_fn : malloc;
    heap_realloc = realloc_fn != NULL ? realloc_fn : realloc;
    heap_free = free_fn != NULL ? free_fn : free;
}

void *rpc__malloc(size_t n)
{
    return heap_malloc(n == 0 ? 1 : n);
}

void *rpc__calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = rpc__malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void rpc__free(void *p)
{
    if (p != NULL)
        heap_free(p);
}

char *rpc__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = rpc__malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

void rpc__logf(const struct rpc__log *log, int level, const char *fmt, ...)
{
    if (log->fn == NULL || level > log->level)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log->fn(log->ud, level, line);
}

void rpc__list_init(struct rpc__list *head)
{
    head->prev = head;
    head->next = head;
}

bool rpc__list_empty(const struct rpc__list *head)
{
    return head->next == head;
}

void rpc__list_push(struct rpc__list *head, struct rpc__list *node)
{
    node->prev = head->prev;
    node->next = head;
    head->prev->next = node;
    head->prev = node;
}

void rpc__list_remove(struct rpc__list *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node;
    node->next = node;
}

struct rpc__listener
{
    struct evconnlistener *lev; /* the listening socket */
    struct event *retry;        /* re-enables accepting after a failure */
    const struct rpc__log *log; /* the owning server's log */
    const char *what;           /* "accept", "stream accept": for the log */
    void (*cb)(struct evconnlistener *, evutil_socket_t, struct sockaddr *,
               int, void *);    /* the server's accept callback */
    void *arg;                  /* its argument */
};

/* libevent passes one argument to both the accept and the error callback,
 * so the listener is that argument and forwards accepts to the server. */
static void listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
                               struct sockaddr *sa, int len, void *arg)
{
    struct rpc__listener *l = arg;
    l->cb(lev, fd, sa, len, l->arg);
}

static void listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rpc__listener *l = arg;
    (void)fd;
    (void)what;
    evconnlistener_enable(l->lev);
}

static void listener_error_cb(struct evconnlistener *lev, void *arg)
{
    struct rpc__listener *l = arg;
    int err = EVUTIL_SOCKET_ERROR();
    rpc__logf(l->log, RPC_LOG_ERROR,
              "librpc: %s failed: %s; retrying in 100 ms", l->what,
              evutil_socket_error_to_string(err));
    evconnlistener_disable(lev);
    struct timeval tv = {0, 100000};
    evtimer_add(l->retry, &tv);
}

int rpc__listen(struct event_base *base, const char *host, uint16_t port,
                void (*cb)(struct evconnlistener *, evutil_socket_t,
                           struct sockaddr *, int, void *),
                void *arg, const struct rpc__log *log, const char *what,
                struct rpc__listener **out, uint16_t *bound, char *errbuf,
                size_t errlen)
{
    struct evutil_addrinfo *ai = NULL;
    char portstr[8];
    int rc;
    if (host == NULL)
        host = "0.0.0.0";
    snprintf(portstr, sizeof portstr, "%u", port);
    struct rpc__listener *l = rpc__malloc(sizeof *l);
    if (l == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    l->log = log;
    l->what = what;
    l->cb = cb;
    l->arg = arg;
    l->retry = evtimer_new(base, listener_retry_cb, l);
    if (l->retry == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        rc = -ENOMEM;
        goto err_l;
    }
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC,
                                    .ai_socktype = SOCK_STREAM,
                                    .ai_flags = EVUTIL_AI_PASSIVE};
    int gai = evutil_getaddrinfo(host, portstr, &hints, &ai);
    if (gai != 0) {
        snprintf(errbuf, errlen, "cannot resolve %s: %s", host,
                 evutil_gai_strerror(gai));
        rc = RPC_ECONFIG;
        goto err_retry;
    }
    errno = 0;
    l->lev = evconnlistener_new_bind(base, listener_accept_cb, l,
                                     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                     128, ai->ai_addr, (int)ai->ai_addrlen);
    if (l->lev == NULL) {
        int err = errno != 0 ? errno : EADDRINUSE;
        snprintf(errbuf, errlen, "cannot listen on %s:%s: %s", host, portstr,
                 strerror(err));
        rc = -err;
        goto err_ai;
    }
    evutil_freeaddrinfo(ai);
    evconnlistener_set_error_cb(l->lev, listener_error_cb);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    *bound = port;
    if (getsockname(evconnlistener_get_fd(l->lev), (struct sockaddr *)&ss,
                    &sl) == 0) {
        if (ss.ss_family == AF_INET)
            *bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            *bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    *out = l;
    return 0;

err_ai:
    evutil_freeaddrinfo(ai);
err_retry:
    event_free(l->retry);
err_l:
    rpc__free(l);
    return rc;
}

void rpc__listener_free(struct rpc__listener *l)
{
    if (l == NULL)
        return;
    evconnlistener_free(l->lev);
    event_free(l->retry);
    rpc__free(l);
}

/* util.c: librpc's allocator hook and logging helper (librpc/DESIGN.md,
 * "Conventions"). Libraries never print: lines go to the caller's logger.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/listener.h>

#include "rpc_int.h"

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

int rpc__listen(struct event_base *base, const char *host, uint16_t port,
                void (*cb)(struct evconnlistener *, evutil_socket_t,
                           struct sockaddr *, int, void *),
                void *arg, struct evconnlistener **lev, uint16_t *bound,
                char *errbuf, size_t errlen)
{
    struct evutil_addrinfo *ai = NULL;
    char portstr[8];
    if (host == NULL)
        host = "0.0.0.0";
    snprintf(portstr, sizeof portstr, "%u", port);
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC,
                                    .ai_socktype = SOCK_STREAM,
                                    .ai_flags = EVUTIL_AI_PASSIVE};
    int gai = evutil_getaddrinfo(host, portstr, &hints, &ai);
    if (gai != 0) {
        snprintf(errbuf, errlen, "cannot resolve %s: %s", host,
                 evutil_gai_strerror(gai));
        return RPC_ECONFIG;
    }
    errno = 0;
    *lev = evconnlistener_new_bind(base, cb, arg,
                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                   128, ai->ai_addr, (int)ai->ai_addrlen);
    if (*lev == NULL) {
        int err = errno != 0 ? errno : EADDRINUSE;
        snprintf(errbuf, errlen, "cannot listen on %s:%s: %s", host, portstr,
                 strerror(err));
        evutil_freeaddrinfo(ai);
        return -err;
    }
    evutil_freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    *bound = port;
    if (getsockname(evconnlistener_get_fd(*lev), (struct sockaddr *)&ss,
                    &sl) == 0) {
        if (ss.ss_family == AF_INET)
            *bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            *bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return 0;
}

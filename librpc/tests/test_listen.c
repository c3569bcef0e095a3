/* test_listen.c: the listener both servers share (rpc__listen): when
 * accept fails for lack of descriptors it logs the failure, pauses instead
 * of spinning, and accepts the waiting client once descriptors are free.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "rpc.h"

static char logged[4096]; /* every log line, concatenated */

static void capture(void *ud, int level, const char *msg)
{
    (void)ud;
    (void)level;
    strncat(logged, msg, sizeof(logged) - strlen(logged) - 2);
    strcat(logged, "\n");
}

static size_t stream_data(struct rpc_stream_conn *c, const uint8_t *d,
                          size_t n, void *ud)
{
    (void)c;
    (void)d;
    (void)ud;
    return n;
}

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* The kernel completes the handshake from the backlog: no accept
     * needed for connect to return. */
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Runs the loop until count() says n connections (or 20 s pass). */
static unsigned run_until(struct event_base *base, unsigned (*count)(void *),
                          void *srv, unsigned n)
{
    for (int i = 0; i < 2000 && count(srv) != n; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    return count(srv);
}

static unsigned frame_count(void *srv)
{
    return rpc_server_connection_count(srv);
}

static unsigned stream_count(void *srv)
{
    return rpc_stream_server_connection_count(srv);
}

/* Takes every free descriptor below a lowered soft limit; returns how many
 * it took (in fds[]) and leaves the old limit in *old. */
static int exhaust_fds(int *fds, int max, struct rlimit *old)
{
    assert_int_equal(getrlimit(RLIMIT_NOFILE, old), 0);
    struct rlimit low = *old;
    low.rlim_cur = 256;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int n = 0;
    while (n < max) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd < 0) {
            assert_int_equal(errno, EMFILE);
            break;
        }
        fds[n++] = fd;
    }
    return n;
}

static void release_fds(int *fds, int n, const struct rlimit *old)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, old), 0);
}

static void check_pause_and_resume(bool stream)
{
    struct event_base *base = event_base_new();
    assert_non_null(base);
    char err[256];
    void *srv;
    unsigned (*count)(void *);
    logged[0] = '\0';
    uint16_t port;
    if (stream) {
        struct rpc_stream_server_options so = {
            .host = "127.0.0.1",
            .cb = {.on_data = stream_data},
            .log = capture,
            .log_level = RPC_LOG_ERROR,
        };
        struct rpc_stream_server *s;
        assert_int_equal(rpc_stream_server_create(base, &so, &s, err,
                                                  sizeof(err)),
                         0);
        srv = s;
        port = rpc_stream_server_port(s);
        count = stream_count;
    } else {
        struct rpc_server_options so = {.host = "127.0.0.1",
                                        .log = capture,
                                        .log_level = RPC_LOG_ERROR};
        struct rpc_server *s;
        assert_int_equal(rpc_server_create(base, &so, &s, err, sizeof(err)),
                         0);
        srv = s;
        port = rpc_server_port(s);
        count = frame_count;
    }
    assert_int_not_equal(port, 0);

    int client = connect_to(port);
    int fds[300];
    struct rlimit old;
    int n = exhaust_fds(fds, 300, &old);
    /* accept fails with EMFILE: logged once per try, the client waits. */
    for (int i = 0; i < 2000 && strstr(logged, "failed") == NULL; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    char want[128];
    snprintf(want, sizeof(want), "librpc: %s failed: Too many open files; "
             "retrying in 100 ms",
             stream ? "stream accept" : "accept");
    assert_non_null(strstr(logged, want));
    assert_int_equal(count(srv), 0);

    /* Descriptors free again: the paused listener resumes and accepts. */
    release_fds(fds, n, &old);
    assert_int_equal(run_until(base, count, srv, 1), 1);

    close(client);
    if (stream)
        rpc_stream_server_destroy(srv);
    else
        rpc_server_destroy(srv);
    event_base_free(base);
}

static void frame_server_pauses_on_emfile(void **state)
{
    (void)state;
    check_pause_and_resume(false);
}

static void stream_server_pauses_on_emfile(void **state)
{
    (void)state;
    check_pause_and_resume(true);
}

static void listen_errors(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    char err[256];
    struct rpc_stream_server_options so = {
        .host = "no-such-host.invalid",
        .cb = {.on_data = stream_data},
    };
    struct rpc_stream_server *s = NULL;
    assert_int_equal(rpc_stream_server_create(base, &so, &s, err,
                                              sizeof(err)),
                     RPC_ECONFIG);
    assert_null(s);
    assert_non_null(strstr(err, "cannot resolve no-such-host.invalid"));
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_server_pauses_on_emfile),
        cmocka_unit_test(stream_server_pauses_on_emfile),
        cmocka_unit_test(listen_errors),
    };
    return cmocka_run_group_tests_name("librpc/listen", tests, NULL, NULL);
}

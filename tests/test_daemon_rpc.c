/* test_daemon_rpc.c: real kvd and pdd processes serve RPC on loopback:
 * status and echo answer through librpc's client, garbage on the socket
 * closes only that connection, and SIGTERM stops the daemon cleanly.
 * BUILD_DIR (set by the top Makefile) says where the daemons are.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <pb_decode.h>
#include <rpc.h>

#include "rpc_echo.pb.h"

struct daemon
{
    pid_t pid;       /* the child process */
    uint16_t port;   /* RPC port it logged */
    char dir[128];   /* its data-dir */
    char log[160];   /* its log file */
};

static char tmpdir[64];
static pid_t started[16]; /* every daemon started, killed in teardown */
static int nstarted;

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls the daemon's log for "serving RPC on host:PORT" (60 s at most). */
static uint16_t wait_for_port(const char *log)
{
    for (int i = 0; i < 600; i++) {
        FILE *f = fopen(log, "r");
        if (f) {
            char line[512];
            while (fgets(line, sizeof(line), f)) {
                char *p = strstr(line, "serving RPC on 127.0.0.1:");
                if (p) {
                    fclose(f);
                    return (uint16_t)atoi(p + strlen("serving RPC on "
                                                     "127.0.0.1:"));
                }
            }
            fclose(f);
        }
        sleep_ms(100);
    }
    return 0;
}

static void start_daemon(struct daemon *d, const char *prog)
{
    const char *build = getenv("BUILD_DIR");
    char bin[512];
    snprintf(bin, sizeof(bin), "%s/daemons/bin/%s",
             build ? build : "build/default", prog);
    /* Fresh names each time: a leftover daemon's log never answers. */
    snprintf(d->dir, sizeof(d->dir), "%s/%s-%d", tmpdir, prog, nstarted);
    snprintf(d->log, sizeof(d->log), "%s/%s-%d.log", tmpdir, prog,
             nstarted);
    char a_dir[200], a_log[200];
    snprintf(a_dir, sizeof(a_dir), "--data-dir=%s", d->dir);
    snprintf(a_log, sizeof(a_log), "--log.file=%s", d->log);
    d->pid = fork();
    assert_true(d->pid >= 0);
    if (d->pid == 0) {
        execl(bin, prog, a_dir, a_log, "--listen=127.0.0.1:0",
              "--log.level=debug", (char *)NULL);
        _exit(127);
    }
    if (nstarted < 16)
        started[nstarted++] = d->pid;
    d->port = wait_for_port(d->log);
    assert_int_not_equal(d->port, 0);
}

/* SIGTERM, then the exit status (or -1 if it did not stop in 60 s). */
static int stop_daemon(struct daemon *d)
{
    kill(d->pid, SIGTERM);
    for (int i = 0; i < 600; i++) {
        int st;
        pid_t r = waitpid(d->pid, &st, WNOHANG);
        if (r == d->pid) {
            for (int k = 0; k < nstarted; k++)
                if (started[k] == d->pid)
                    started[k] = 0; /* reaped: never signal it again */
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        sleep_ms(100);
    }
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    return -1;
}

static int call_status(uint16_t port, rpc_StatusResponse *resp, char *err,
                       size_t errlen)
{
    struct rpc_client_options co = {.host = "127.0.0.1", .port = port};
    rpc_StatusRequest req = rpc_StatusRequest_init_zero;
    memset(resp, 0, sizeof(*resp));
    return rpc_call_blocking(&co, RPC_METHOD_STATUS, &rpc_StatusRequest_msg,
                             &req, &rpc_StatusResponse_msg, resp,
                             sizeof(*resp), 30000, err, errlen);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/dsql-rpc-it-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < nstarted; i++) {
        if (started[i] == 0)
            continue;
        kill(started[i], SIGKILL);
        waitpid(started[i], NULL, 0);
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void status_and_echo(void **state)
{
    (void)state;
    const char *progs[] = {"kvd", "pdd"};
    for (int i = 0; i < 2; i++) {
        struct daemon d;
        start_daemon(&d, progs[i]);

        rpc_StatusResponse st;
        char err[256] = "";
        assert_int_equal(call_status(d.port, &st, err, sizeof(err)), 0);
        assert_string_equal(st.role, progs[i]);
        assert_string_equal(st.version, "0.1.0");
        assert_true(st.uptime_ms < 3600u * 1000u); /* since start */
        char want[300];
        snprintf(want, sizeof(want), "{\"data_dir\": \"%s\", \"pid\": %ld}",
                 d.dir, (long)d.pid);
        assert_string_equal(st.detail, want);
        pb_release(&rpc_StatusResponse_msg, &st);

        /* A payload as large as a nanopb bytes field holds (its size is a
         * pb_size_t, 16 bits in Debian's runtime) comes back intact. */
        size_t n = 65535;
        pb_bytes_array_t *pl = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(n));
        assert_non_null(pl);
        pl->size = (pb_size_t)n;
        for (size_t k = 0; k < n; k++)
            pl->bytes[k] = (uint8_t)(k * 7 + 3);
        rpc_EchoRequest req = {.payload = pl};
        rpc_EchoResponse resp;
        memset(&resp, 0, sizeof(resp));
        struct rpc_client_options co = {.host = "127.0.0.1", .port = d.port};
        assert_int_equal(rpc_call_blocking(&co, RPC_METHOD_ECHO,
                                           &rpc_EchoRequest_msg, &req,
                                           &rpc_EchoResponse_msg, &resp,
                                           sizeof(resp), 30000, err,
                                           sizeof(err)),
                         0);
        assert_non_null(resp.payload);
        assert_int_equal(resp.payload->size, n);
        assert_memory_equal(resp.payload->bytes, pl->bytes, n);
        pb_release(&rpc_EchoResponse_msg, &resp);
        free(pl);

        assert_int_equal(stop_daemon(&d), 0);
    }
}

static void garbage_closes_only_that_connection(void **state)
{
    (void)state;
    struct daemon d;
    start_daemon(&d, "kvd");

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(d.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    const char http[] = "GET /status HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(fd, http, sizeof(http) - 1),
                     (ssize_t)(sizeof(http) - 1));
    /* The daemon closes the connection: read reaches EOF (or a reset). */
    char buf[256];
    ssize_t r;
    struct timeval tv = {60, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    do {
        r = read(fd, buf, sizeof(buf));
    } while (r > 0);
    assert_true(r == 0 || (r < 0 && errno == ECONNRESET));
    close(fd);

    /* ... and keeps serving everyone else. */
    rpc_StatusResponse st;
    char err[256] = "";
    assert_int_equal(call_status(d.port, &st, err, sizeof(err)), 0);
    assert_string_equal(st.role, "kvd");
    pb_release(&rpc_StatusResponse_msg, &st);

    /* The reason is in the daemon's log. */
    FILE *f = fopen(d.log, "r");
    assert_non_null(f);
    char line[512];
    int found = 0;
    while (fgets(line, sizeof(line), f))
        found |= strstr(line, "rpc: ") != NULL &&
                 strstr(line, "magic") != NULL;
    fclose(f);
    assert_true(found);

    assert_int_equal(stop_daemon(&d), 0);

    /* Once stopped, a call fails to connect instead of hanging. */
    assert_int_equal(call_status(d.port, &st, err, sizeof(err)),
                     RPC_ECONNECT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_and_echo),
        cmocka_unit_test(garbage_closes_only_that_connection),
    };
    return cmocka_run_group_tests_name("tests/daemon_rpc", tests, setup,
                                       teardown);
}

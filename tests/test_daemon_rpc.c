/* test_daemon_rpc.c: real kvd and pdd processes serve RPC on loopback:
 * status and echo answer through librpc's client, garbage on the socket
 * closes only that connection, and SIGTERM stops the daemon cleanly;
 * kvd's kv.Forward refuses what it cannot pass on and answers NotLeader
 * when the store it should pass to cannot be reached.
 * BUILD_DIR (set by the top Makefile) says where the daemons are.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* Starts prog listening on listen ("host:port"), with one more flag
 * (NULL: none). */
static void start_daemon_with(struct daemon *d, const char *prog,
                              const char *listen, const char *extra)
{
    const char *build = getenv("BUILD_DIR");
    char bin[512];
    snprintf(bin, sizeof(bin), "%s/daemons/bin/%s",
             build ? build : "build/default", prog);
    /* Fresh names each time: a leftover daemon's log never answers. */
    snprintf(d->dir, sizeof(d->dir), "%s/%s-%d", tmpdir, prog, nstarted);
    snprintf(d->log, sizeof(d->log), "%s/%s-%d.log", tmpdir, prog,
             nstarted);
    char a_dir[200], a_log[200], a_listen[64];
    snprintf(a_dir, sizeof(a_dir), "--data-dir=%s", d->dir);
    snprintf(a_log, sizeof(a_log), "--log.file=%s", d->log);
    snprintf(a_listen, sizeof(a_listen), "--listen=%s", listen);
    d->pid = fork();
    assert_true(d->pid >= 0);
    if (d->pid == 0) {
        execl(bin, prog, a_dir, a_log, a_listen, "--log.level=debug", extra,
              (char *)NULL);
        _exit(127);
    }
    if (nstarted < 16)
        started[nstarted++] = d->pid;
    d->port = wait_for_port(d->log);
    assert_int_not_equal(d->port, 0);
}

static void start_daemon(struct daemon *d, const char *prog)
{
    start_daemon_with(d, prog, "127.0.0.1:0", NULL);
}

/* A loopback port nothing listens on (free when this returns). */
static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
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

/* kv.Forward (libregion DESIGN.md "Forwarding"): its id and a few codes,
 * written here by hand (this suite links librpc only). */
#define METHOD_FORWARD 0x00020024u
#define METHOD_TXN_GET 0x00020010u
#define METHOD_RAW_PUT 0x00020003u

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* A ForwardRequest: store, method, request. */
static size_t forward_req(uint8_t *p, uint64_t store, uint32_t method,
                          const char *req)
{
    size_t n = 0, rl = strlen(req);
    p[n++] = 0x08;
    n += put_varint(p + n, store);
    p[n++] = 0x10;
    n += put_varint(p + n, method);
    p[n++] = 0x1a;
    n += put_varint(p + n, rl);
    memcpy(p + n, req, rl);
    return n + rl;
}

struct raw_reply
{
    uint8_t buf[512]; /* the reply's bytes */
    size_t len;       /* their count */
};

static void on_raw(int rc, const uint8_t *payload, size_t len,
                   const char *errmsg, void *ud)
{
    (void)rc;
    (void)errmsg;
    struct raw_reply *r = ud;
    r->len = len < sizeof r->buf ? len : sizeof r->buf;
    memcpy(r->buf, payload, r->len);
}

/* One kv.Forward call with bytes req: the call's code, the reply's bytes
 * in *r, the failure's text in err. */
static int forward_call(struct rpc_sync *s, const uint8_t *req, size_t len,
                        struct raw_reply *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    err[0] = 0;
    struct rpc_call_spec cs = {.method = METHOD_FORWARD,
                               .req_encoded = req,
                               .req_len = len,
                               .deadline_ms = 30000,
                               .done_raw = on_raw,
                               .ud = r};
    return rpc_sync_call(s, &cs, NULL, err, errlen);
}

static bool has(const struct raw_reply *r, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= r->len; i++)
        if (memcmp(r->buf + i, text, n) == 0)
            return true;
    return false;
}

/* Forwards a kv.Txn get to store `to` through s and checks the answer is
 * NotLeader (leader unknown); the reply is left in r. */
static void forward_not_leader(struct rpc_sync *s, uint64_t to,
                               struct raw_reply *r)
{
    uint8_t req[128];
    char err[256] = "";
    size_t n = forward_req(req, to, METHOD_TXN_GET, "");
    assert_int_equal(forward_call(s, req, n, r, err, sizeof err), 0);
    assert_true(r->len > 3);
    assert_int_equal(r->buf[0], 0x0a); /* TxnResponse.region_error, */
    assert_int_equal(r->buf[2], 0x08); /* its code (NotLeader) first */
}

/* A real kvd (store 1, alone) refuses what it cannot pass on: bytes that
 * are no ForwardRequest, a method other than kv.Txn's, itself as the
 * target; and answers NotLeader (leader unknown) for a store it has no
 * address for, saying why. The connection serves on after each. */
static void forward_refuses_what_it_cannot_pass_on(void **state)
{
    (void)state;
    struct daemon d;
    start_daemon(&d, "kvd");
    struct rpc_client_options co = {.host = "127.0.0.1", .port = d.port};
    struct rpc_sync *s = NULL;
    char err[256] = "";
    assert_int_equal(rpc_sync_open(&co, &s, err, sizeof err), 0);
    struct raw_reply r;
    uint8_t req[128];
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    assert_int_not_equal(forward_call(s, junk, sizeof junk, &r, err,
                                      sizeof err),
                         0);
    assert_non_null(strstr(err, "malformed forward request"));
    size_t n = forward_req(req, 2, METHOD_RAW_PUT, "");
    assert_int_not_equal(forward_call(s, req, n, &r, err, sizeof err), 0);
    assert_non_null(strstr(err, "malformed forward request"));
    n = forward_req(req, 1, METHOD_TXN_GET, "");
    assert_int_not_equal(forward_call(s, req, n, &r, err, sizeof err), 0);
    assert_non_null(strstr(err, "forward request names this store"));
    forward_not_leader(s, 99, &r);
    assert_true(has(&r, "store 1 cannot forward to store 99: no address "
                        "for it yet"));
    rpc_sync_close(s);
    assert_int_equal(stop_daemon(&d), 0);
}

/* A kvd whose peer store 2 has an address where nothing listens: a
 * forward to store 2 is tried (store 2 was never heard from, so it is not
 * taken for silent), the connection is refused, and the caller gets
 * NotLeader (leader unknown) saying so, as it would for a leader that
 * went down after the last heartbeat. */
static void forward_to_an_unreachable_store_is_not_leader(void **state)
{
    (void)state;
    uint16_t mine = free_port(), dead = free_port();
    char listen[32], peers[96];
    snprintf(listen, sizeof listen, "127.0.0.1:%u", mine);
    snprintf(peers, sizeof peers, "--peers=1@127.0.0.1:%u,2@127.0.0.1:%u",
             mine, dead);
    struct daemon d;
    start_daemon_with(&d, "kvd", listen, peers);
    struct rpc_client_options co = {.host = "127.0.0.1", .port = d.port};
    struct rpc_sync *s = NULL;
    char err[256] = "";
    assert_int_equal(rpc_sync_open(&co, &s, err, sizeof err), 0);
    struct raw_reply r;
    forward_not_leader(s, 2, &r);
    assert_true(has(&r, "store 1 cannot forward to store 2: connect to "
                        "127.0.0.1:"));
    assert_true(has(&r, "Connection refused"));
    assert_false(has(&r, "no address for it yet"));
    assert_false(has(&r, "not heard from lately"));
    rpc_sync_close(s);
    assert_int_equal(stop_daemon(&d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_and_echo),
        cmocka_unit_test(garbage_closes_only_that_connection),
        cmocka_unit_test(forward_refuses_what_it_cannot_pass_on),
        cmocka_unit_test(forward_to_an_unreachable_store_is_not_leader),
    };
    return cmocka_run_group_tests_name("tests/daemon_rpc", tests, setup,
                                       teardown);
}

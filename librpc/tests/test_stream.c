/* test_stream.c: the byte-stream server (rpc.h, "Byte streams") over real
 * sockets on 127.0.0.1: echo, partial consumption, many connections,
 * pausing, close after flush, disconnects, the connection limit, the TLS
 * upgrade in mid-stream (client side through the TLS seam) and destroy.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "rpc.h"
#include "rpcutil.h"
#include "tls.h"
#include "tlsutil.h"

/* ---- fixture: one server on the test thread's loop -------------------- */

enum mode {
    M_ECHO,     /* echo everything */
    M_LINES,    /* echo whole lines only; the rest stays buffered */
    M_PAUSE,    /* like M_LINES, and pause after each line */
    M_BYE,      /* "bye": write big_len bytes, then close */
    M_STARTTLS, /* "STARTTLS\n": reply GO\n (if go), upgrade; then echo */
    M_DIE,      /* destroy the server from on_data */
    M_PRODUCE,  /* write 64 KiB chunks until told to stop; END on drain */
};

struct fx
{
    struct event_base *base;        /* loop */
    struct rpc_stream_server *srv;  /* server */
    struct rpc_tls_config *srv_tls; /* server TLS config */
    struct rpc_tls_config *cli_tls; /* client TLS config */
    struct rpcutil_log log;         /* server log */
    enum mode mode;                 /* what on_data does */
    bool go;                        /* M_STARTTLS: say GO first */
    size_t big_len;                 /* M_BYE output */
    int opens;                      /* on_open calls */
    int closes;                     /* on_close calls */
    int data_calls;                 /* on_data calls */
    int last_rc;                    /* last on_close rc */
    char last_reason[512];          /* last on_close reason */
    int tls_rc;                     /* rpc_stream_start_tls result */
    struct rpc_stream_conn *last;   /* last opened connection */
    char seen[256];                 /* plaintext on_data saw in TLS */
    size_t seen_len;                /* used bytes of seen */
    bool tls_on_open;               /* upgrade in on_open (implicit TLS) */
    size_t max_unconsumed;          /* server option */
    int hs_timeout_ms;              /* server option */
    bool defer_tls;                 /* M_STARTTLS: pause; the test upgrades */
    size_t produced;                /* M_PRODUCE: bytes written */
    int drains;                     /* on_drain calls */
};

static void on_open(struct rpc_stream_conn *c, void *ud)
{
    struct fx *f = ud;
    f->opens++;
    f->last = c;
    rpc_stream_set_ud(c, f);
    if (f->tls_on_open)
        f->tls_rc = rpc_stream_start_tls(c);
}

static size_t lines(struct rpc_stream_conn *c, const uint8_t *d, size_t len,
                    bool pause)
{
    size_t used = 0;
    while (used < len) {
        const uint8_t *nl = memchr(d + used, '\n', len - used);
        if (nl == NULL)
            break;
        size_t n = (size_t)(nl - (d + used)) + 1;
        assert_int_equal(rpc_stream_write(c, d + used, n), 0);
        used += n;
        if (pause) {
            rpc_stream_pause_reading(c, true);
            break;
        }
    }
    return used;
}

static size_t on_data(struct rpc_stream_conn *c, const uint8_t *d, size_t len,
                      void *ud)
{
    struct fx *f = ud;
    assert_ptr_equal(rpc_stream_get_ud(c), f);
    f->data_calls++;
    switch (f->mode) {
    case M_ECHO:
        assert_int_equal(rpc_stream_write(c, d, len), 0);
        return len;
    case M_LINES:
        return lines(c, d, len, false);
    case M_PAUSE:
        return lines(c, d, len, true);
    case M_BYE: {
        if (len < 3)
            return 0;
        assert_memory_equal(d, "bye", 3);
        uint8_t *big = malloc(f->big_len);
        assert_non_null(big);
        for (size_t i = 0; i < f->big_len; i++)
            big[i] = (uint8_t)(i * 7);
        /* Above the high-water mark: 1, and the bytes are queued. */
        assert_int_equal(rpc_stream_write(c, big, f->big_len), 1);
        free(big);
        rpc_stream_close(c);
        rpc_stream_close(c); /* idempotent */
        assert_int_equal(rpc_stream_write(c, "x", 1), RPC_ECLOSED);
        return 3;
    }
    case M_STARTTLS:
        if (!rpc_stream_is_tls(c)) {
            if (len < 9)
                return 0;
            assert_memory_equal(d, "STARTTLS\n", 9);
            if (f->go)
                assert_int_equal(rpc_stream_write(c, "GO\n", 3), 0);
            if (f->defer_tls)
                rpc_stream_pause_reading(c, true);
            else
                f->tls_rc = rpc_stream_start_tls(c);
            return 9;
        }
        if (f->seen_len + len <= sizeof f->seen) {
            memcpy(f->seen + f->seen_len, d, len);
            f->seen_len += len;
        }
        assert_int_equal(rpc_stream_write(c, d, len), 0);
        return len;
    case M_PRODUCE: {
        static uint8_t chunk[64 * 1024];
        memset(chunk, 'p', sizeof chunk);
        int rc;
        do {
            rc = rpc_stream_write(c, chunk, sizeof chunk);
            assert_true(rc >= 0);
            f->produced += sizeof chunk;
        } while (rc == 0);
        return len;
    }
    case M_DIE:
        rpc_stream_server_destroy(f->srv);
        f->srv = NULL;
        return len;
    }
    return 0;
}

static void on_close(struct rpc_stream_conn *c, int rc, const char *reason,
                     void *ud)
{
    struct fx *f = ud;
    (void)c;
    f->closes++;
    f->last_rc = rc;
    snprintf(f->last_reason, sizeof f->last_reason, "%s", reason);
}

static void on_drain(struct rpc_stream_conn *c, void *ud)
{
    struct fx *f = ud;
    f->drains++;
    assert_int_equal(rpc_stream_write(c, "END", 3), 0);
}

static void fx_start(struct fx *f, unsigned max_conns, const char *refuse)
{
    struct rpc_stream_server_options o = {
        .host = "127.0.0.1",
        .tls = f->srv_tls,
        .max_connections = max_conns,
        .max_unconsumed = f->max_unconsumed,
        .handshake_timeout_ms = f->hs_timeout_ms,
        .refuse_data = (const uint8_t *)refuse,
        .refuse_len = refuse != NULL ? strlen(refuse) : 0,
        .cb = {.on_open = on_open, .on_data = on_data, .on_close = on_close,
               .on_drain = on_drain},
        .ud = f,
        .log = rpcutil_log_fn,
        .log_ud = &f->log,
        .log_level = RPC_LOG_DEBUG,
    };
    char err[256];
    assert_int_equal(rpc_stream_server_create(f->base, &o, &f->srv, err,
                                              sizeof err),
                     0);
    assert_true(rpc_stream_server_port(f->srv) != 0);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->base = event_base_new();
    assert_non_null(f->base);
    rpcutil_log_init(&f->log);
    *state = f;
    return 0;
}

static int setup_tls(void **state)
{
    setup(state);
    struct fx *f = *state;
    char err[256];
    struct rpc_tls_options so = {.is_server = true};
    tlsutil_leaf("sqld", TLSUTIL_CA_MAIN, &so.cert_pem, &so.key_pem);
    assert_int_equal(rpc_tls_config_create(&so, &f->srv_tls, err, sizeof err),
                     0);
    struct rpc_tls_options co = {.is_server = false,
                                 .ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN),
                                 .server_name = "sqld"};
    assert_int_equal(rpc_tls_config_create(&co, &f->cli_tls, err, sizeof err),
                     0);
    return 0;
}

/* Mutual TLS: the server demands a client certificate from the CA. */
static int setup_mtls(void **state)
{
    setup(state);
    struct fx *f = *state;
    char err[256];
    struct rpc_tls_options so = {.is_server = true,
                                 .ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN),
                                 .require_peer_cert = true};
    tlsutil_leaf("sqld", TLSUTIL_CA_MAIN, &so.cert_pem, &so.key_pem);
    assert_int_equal(rpc_tls_config_create(&so, &f->srv_tls, err, sizeof err),
                     0);
    struct rpc_tls_options co = {.is_server = false,
                                 .ca_pem = tlsutil_ca_pem(TLSUTIL_CA_MAIN),
                                 .server_name = "sqld"};
    tlsutil_leaf("app-7", TLSUTIL_CA_MAIN, &co.cert_pem, &co.key_pem);
    assert_int_equal(rpc_tls_config_create(&co, &f->cli_tls, err, sizeof err),
                     0);
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    rpc_stream_server_destroy(f->srv);
    rpc_tls_config_destroy(f->srv_tls);
    rpc_tls_config_destroy(f->cli_tls);
    event_base_free(f->base);
    rpcutil_log_destroy(&f->log);
    free(f);
    return 0;
}

/* ---- client side helpers ---------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One turn of the server loop, then a short wait for the client socket. */
static void turn(struct fx *f, int fd)
{
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    if (fd >= 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, 1);
    }
}

/* Runs the loop until *v >= want (30 s limit). */
static bool until(struct fx *f, const int *v, int want)
{
    double end = now_s() + 30;
    while (*v < want && now_s() < end)
        event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    return *v >= want;
}

/* Reads exactly want bytes into buf while running the loop. Returns the
 * count read: less than want on EOF or after 30 s. */
static size_t pump_read(struct fx *f, int fd, void *buf, size_t want)
{
    size_t got = 0;
    double end = now_s() + 30;
    while (got < want && now_s() < end) {
        turn(f, fd);
        ssize_t r = recv(fd, (char *)buf + got, want - got, MSG_DONTWAIT);
        if (r == 0)
            break;
        if (r > 0)
            got += (size_t)r;
    }
    return got;
}

/* Runs the loop until the server closes fd; returns the bytes read before
 * the EOF (into buf up to cap), or (size_t)-1 after 30 s. */
static size_t pump_eof(struct fx *f, int fd, void *buf, size_t cap)
{
    size_t got = 0;
    char scratch[4096];
    double end = now_s() + 30;
    while (now_s() < end) {
        turn(f, fd);
        char *dst = got < cap ? (char *)buf + got : scratch;
        size_t room = got < cap ? cap - got : sizeof scratch;
        ssize_t r = recv(fd, dst, room, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return got;
        if (r > 0)
            got += (size_t)r;
    }
    return (size_t)-1;
}

static int conn_to(struct fx *f)
{
    int fd = rpcutil_raw_connect(rpc_stream_server_port(f->srv));
    assert_true(fd >= 0);
    return fd;
}

static void send_str(int fd, const char *s)
{
    assert_int_equal(rpcutil_write_all(fd, s, strlen(s)), 0);
}

/* ---- tests --------------------------------------------------------------- */

static void echo(void **state)
{
    struct fx *f = *state;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    send_str(fd, "hello, stream");
    char buf[32] = {0};
    assert_int_equal(pump_read(f, fd, buf, 13), 13);
    assert_string_equal(buf, "hello, stream");
    assert_int_equal(f->opens, 1);
    assert_int_equal(rpc_stream_server_connection_count(f->srv), 1);
    assert_true(strncmp(rpc_stream_peer(f->last), "127.0.0.1:", 10) == 0);
    assert_false(rpc_stream_is_tls(f->last));
    /* No TLS configured: an upgrade is refused and nothing changes. */
    assert_int_equal(rpc_stream_start_tls(f->last), RPC_ECONFIG);
    send_str(fd, "again");
    assert_int_equal(pump_read(f, fd, buf, 5), 5);
    assert_memory_equal(buf, "again", 5);
    close(fd);
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->last_rc, RPC_ECONNLOST);
    assert_int_equal(rpc_stream_server_connection_count(f->srv), 0);
}

static void partial_consumption_keeps_the_rest(void **state)
{
    struct fx *f = *state;
    f->mode = M_LINES;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    send_str(fd, "ab");
    assert_true(until(f, &f->data_calls, 1));
    send_str(fd, "c\nde");
    char buf[16] = {0};
    assert_int_equal(pump_read(f, fd, buf, 4), 4);
    assert_string_equal(buf, "abc\n");
    send_str(fd, "f\ngh\n");
    assert_int_equal(pump_read(f, fd, buf, 6), 6);
    assert_memory_equal(buf, "def\ngh\n", 6);
    close(fd);
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->closes, 1);
}

#define MANY 40

static void many_connections(void **state)
{
    struct fx *f = *state;
    fx_start(f, 0, NULL);
    int fds[MANY];
    for (int i = 0; i < MANY; i++)
        fds[i] = conn_to(f);
    for (int i = 0; i < MANY; i++) {
        char msg[16];
        snprintf(msg, sizeof msg, "conn-%03d", i);
        send_str(fds[i], msg);
    }
    for (int i = 0; i < MANY; i++) {
        char want[16], buf[16] = {0};
        snprintf(want, sizeof want, "conn-%03d", i);
        assert_int_equal(pump_read(f, fds[i], buf, 8), 8);
        assert_string_equal(buf, want);
    }
    assert_int_equal(f->opens, MANY);
    assert_int_equal(rpc_stream_server_connection_count(f->srv), MANY);
    for (int i = 0; i < MANY; i++)
        close(fds[i]);
    assert_true(until(f, &f->closes, MANY));
    assert_int_equal(rpc_stream_server_connection_count(f->srv), 0);
}

static void pause_and_resume(void **state)
{
    struct fx *f = *state;
    f->mode = M_PAUSE;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    send_str(fd, "one\ntwo\n");
    char buf[16] = {0};
    assert_int_equal(pump_read(f, fd, buf, 4), 4);
    assert_memory_equal(buf, "one\n", 4);
    /* Paused: more input is neither read nor delivered. */
    int calls = f->data_calls;
    send_str(fd, "three\n");
    for (int i = 0; i < 50; i++)
        turn(f, -1);
    assert_int_equal(f->data_calls, calls);
    /* Resuming delivers the buffered line, then pauses again. */
    rpc_stream_pause_reading(f->last, false);
    assert_int_equal(pump_read(f, fd, buf, 4), 4);
    assert_memory_equal(buf, "two\n", 4);
    rpc_stream_pause_reading(f->last, false);
    assert_int_equal(pump_read(f, fd, buf, 6), 6);
    assert_memory_equal(buf, "three\n", 6);
    /* While paused the peer's EOF is not read either: resume to see it. */
    rpc_stream_pause_reading(f->last, false);
    close(fd);
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->last_rc, RPC_ECONNLOST);
}

static void close_after_flush(void **state)
{
    struct fx *f = *state;
    f->mode = M_BYE;
    f->big_len = 4u << 20; /* more than the socket buffers hold */
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    send_str(fd, "bye");
    uint8_t *buf = malloc(f->big_len + 16);
    assert_non_null(buf);
    size_t got = pump_eof(f, fd, buf, f->big_len + 16);
    assert_int_equal(got, f->big_len);
    for (size_t i = 0; i < got; i++)
        if (buf[i] != (uint8_t)(i * 7))
            fail_msg("byte %zu differs", i);
    free(buf);
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->last_rc, 0);
    assert_int_equal(f->closes, 1);
    assert_int_equal(rpc_stream_server_connection_count(f->srv), 0);
    close(fd);
}

/* A producer stops when write says the output is high and resumes on
 * on_drain, once, when the peer has read half of it. */
/* rpc_stream_close's flush is bounded: a peer that reads nothing is cut
 * off (32 MiB: more than loopback's socket buffers hold). */
static void close_flush_bounded(void **state)
{
    struct fx *f = *state;
    f->mode = M_BYE;
    f->big_len = 32u << 20;
    f->hs_timeout_ms = 100;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    send_str(fd, "bye");
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->last_rc, RPC_ESTALLED);
    assert_non_null(strstr(f->last_reason, "did not read"));
    assert_int_equal(rpc_stream_server_connection_count(f->srv), 0);
    close(fd);
}

static void drain_after_high_water(void **state)
{
    struct fx *f = *state;
    f->mode = M_PRODUCE;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    send_str(fd, "go");
    assert_true(until(f, &f->data_calls, 1));
    assert_true(f->produced > ((size_t)1 << 20));
    size_t want = f->produced + 3;
    char *buf = malloc(want);
    assert_non_null(buf);
    assert_int_equal(pump_read(f, fd, buf, want), want);
    assert_memory_equal(buf + f->produced, "END", 3);
    assert_int_equal(f->drains, 1);
    free(buf);
    close(fd);
    assert_true(until(f, &f->closes, 1));
}

static void peer_disconnect_closes_once(void **state)
{
    struct fx *f = *state;
    f->mode = M_LINES;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    send_str(fd, "no newline");
    assert_true(until(f, &f->data_calls, 1));
    close(fd);
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->last_rc, RPC_ECONNLOST);
    assert_non_null(strstr(f->last_reason, "peer closed the connection"));
    assert_non_null(strstr(f->last_reason, "10 bytes unconsumed"));
    for (int i = 0; i < 20; i++)
        turn(f, -1);
    assert_int_equal(f->closes, 1);
}

/* The peer sends 64 KiB and shuts its side at once: the connection reads
 * the socket itself (no FIONREAD), and whatever one readable event brings
 * (bytes and the end of file together, or apart) the bytes are delivered
 * first, then the connection closes once, nothing left unconsumed. */
static void bytes_before_eof_are_delivered(void **state)
{
    struct fx *f = *state;
    f->mode = M_ECHO;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    assert_true(until(f, &f->opens, 1));
    size_t n = 64 * 1024;
    uint8_t *big = malloc(n);
    uint8_t *back = malloc(n + 16);
    assert_non_null(big);
    assert_non_null(back);
    for (size_t i = 0; i < n; i++)
        big[i] = (uint8_t)(i * 13 + 1);
    assert_int_equal(rpcutil_write_all(fd, big, n), 0);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    assert_int_equal(pump_eof(f, fd, back, n + 16), n);
    assert_memory_equal(back, big, n);
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->last_rc, RPC_ECONNLOST);
    assert_non_null(strstr(f->last_reason, "(0 bytes unconsumed)"));
    close(fd);
    free(big);
    free(back);
}

static void max_connections_refuses(void **state)
{
    struct fx *f = *state;
    fx_start(f, 2, "full\n");
    int a = conn_to(f), b = conn_to(f);
    assert_true(until(f, &f->opens, 2));
    int c = conn_to(f);
    char buf[16] = {0};
    assert_int_equal(pump_eof(f, c, buf, sizeof buf), 5);
    assert_string_equal(buf, "full\n");
    close(c);
    assert_int_equal(f->opens, 2);
    assert_int_equal(rpc_stream_server_connection_count(f->srv), 2);
    assert_true(rpcutil_log_has(&f->log, "refused"));
    send_str(b, "still ok");
    assert_int_equal(pump_read(f, b, buf, 8), 8);
    assert_memory_equal(buf, "still ok", 8);
    /* A slot freed: the next connection is served. */
    close(a);
    assert_true(until(f, &f->closes, 1));
    int d = conn_to(f);
    send_str(d, "new");
    assert_int_equal(pump_read(f, d, buf, 3), 3);
    assert_memory_equal(buf, "new", 3);
    close(b);
    close(d);
    assert_true(until(f, &f->closes, 3));
}

/* A TLS client over a plain socket through the seam. */
struct tcli
{
    struct rpc__tls *t;         /* session */
    struct evbuffer *raw_in;    /* ciphertext received */
    struct evbuffer *raw_out;   /* ciphertext to send */
    struct evbuffer *plain_in;  /* decrypted */
    struct evbuffer *plain_out; /* to encrypt */
    struct evbuffer *wire;      /* every byte the server sent */
};

static void tcli_init(struct tcli *c, const struct rpc_tls_config *cfg)
{
    assert_int_equal(rpc__tls_new(cfg, &c->t), 0);
    c->raw_in = evbuffer_new();
    c->raw_out = evbuffer_new();
    c->plain_in = evbuffer_new();
    c->plain_out = evbuffer_new();
    c->wire = evbuffer_new();
}

static void tcli_free(struct tcli *c)
{
    rpc__tls_free(c->t);
    evbuffer_free(c->raw_in);
    evbuffer_free(c->raw_out);
    evbuffer_free(c->plain_in);
    evbuffer_free(c->plain_out);
    evbuffer_free(c->wire);
}

static void tcli_send_raw(struct tcli *c, int fd)
{
    size_t n = evbuffer_get_length(c->raw_out);
    if (n == 0)
        return;
    assert_int_equal(rpcutil_write_all(fd, evbuffer_pullup(c->raw_out, -1), n),
                     0);
    evbuffer_drain(c->raw_out, n);
}

/* Pumps until plain_in holds want bytes (or, want 0, until established). */
static bool tcli_pump(struct fx *f, struct tcli *c, int fd, size_t want)
{
    double end = now_s() + 30;
    while (now_s() < end) {
        assert_int_equal(rpc__tls_on_write(c->t, c->plain_out, c->raw_out), 0);
        tcli_send_raw(c, fd);
        if (want == 0 ? rpc__tls_established(c->t)
                      : evbuffer_get_length(c->plain_in) >= want)
            return true;
        turn(f, fd);
        char buf[4096];
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0)
            return false;
        if (r > 0) {
            evbuffer_add(c->raw_in, buf, (size_t)r);
            evbuffer_add(c->wire, buf, (size_t)r);
            assert_int_equal(
                rpc__tls_on_read(c->t, c->raw_in, c->plain_in, c->raw_out), 0);
        }
    }
    return false;
}

static void tls_exchange(struct fx *f, struct tcli *c, int fd)
{
    assert_true(tcli_pump(f, c, fd, 0));
    const char *secret = "select secret from vault\n";
    size_t n = strlen(secret);
    evbuffer_add(c->plain_out, secret, n);
    assert_true(tcli_pump(f, c, fd, n));
    char buf[64] = {0};
    evbuffer_remove(c->plain_in, buf, n);
    assert_string_equal(buf, secret);
    /* The server saw plaintext; the wire carried only ciphertext. */
    assert_int_equal(f->seen_len, n);
    assert_memory_equal(f->seen, secret, n);
    assert_null(memmem(evbuffer_pullup(c->wire, -1),
                       evbuffer_get_length(c->wire), "secret", 6));
    assert_true(rpc_stream_is_tls(f->last));
}

/* STARTTLS style: the server answers in plaintext, then the handshake. */
static void tls_upgrade_after_reply(void **state)
{
    struct fx *f = *state;
    f->mode = M_STARTTLS;
    f->go = true;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    send_str(fd, "STARTTLS\n");
    char buf[8] = {0};
    assert_int_equal(pump_read(f, fd, buf, 3), 3);
    assert_string_equal(buf, "GO\n");
    assert_int_equal(f->tls_rc, 0);
    struct tcli c = {0};
    tcli_init(&c, f->cli_tls);
    assert_int_equal(rpc__tls_start(c.t, c.raw_out), 0);
    tls_exchange(f, &c, fd);
    /* A second upgrade is refused. */
    assert_int_equal(rpc_stream_start_tls(f->last), RPC_ECONFIG);
    tcli_free(&c);
    close(fd);
    assert_true(until(f, &f->closes, 1));
}

/* MySQL style: the client's handshake follows its request at once, in the
 * same segment, before the server has answered anything. */
static void tls_upgrade_pipelined(void **state)
{
    struct fx *f = *state;
    f->mode = M_STARTTLS;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    struct tcli c = {0};
    tcli_init(&c, f->cli_tls);
    evbuffer_add(c.raw_out, "STARTTLS\n", 9);
    assert_int_equal(rpc__tls_start(c.t, c.raw_out), 0);
    tls_exchange(f, &c, fd);
    assert_true(rpcutil_log_has(&f->log, "TLS established"));
    assert_string_equal(rpc_stream_peer_cn(f->last), "");
    tcli_free(&c);
    close(fd);
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->last_rc, RPC_ECONNLOST);
}

static void tls_plaintext_after_upgrade_is_closed(void **state)
{
    struct fx *f = *state;
    f->mode = M_STARTTLS;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    send_str(fd, "STARTTLS\nGET / HTTP/1.0\r\n\r\n");
    assert_true(pump_eof(f, fd, NULL, 0) != (size_t)-1);
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->tls_rc, 0);
    assert_true(f->last_rc == RPC_ETLS);
    assert_non_null(strstr(f->last_reason, "TLS handshake failed"));
    assert_int_equal(f->seen_len, 0);
    close(fd);
}

/* The upgrade outside on_data (the engine was busy): the handshake bytes
 * that arrived meanwhile are buffered plaintext and become ciphertext. */
static void tls_upgrade_later(void **state)
{
    struct fx *f = *state;
    f->mode = M_STARTTLS;
    f->defer_tls = true;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    struct tcli c = {0};
    tcli_init(&c, f->cli_tls);
    evbuffer_add(c.raw_out, "STARTTLS\n", 9);
    assert_int_equal(rpc__tls_start(c.t, c.raw_out), 0);
    tcli_send_raw(&c, fd);
    assert_true(until(f, &f->data_calls, 1));
    assert_int_equal(rpc_stream_start_tls(f->last), 0);
    rpc_stream_pause_reading(f->last, false);
    tls_exchange(f, &c, fd);
    tcli_free(&c);
    close(fd);
    assert_true(until(f, &f->closes, 1));
}

static void tls_client_certificate(void **state)
{
    struct fx *f = *state;
    f->mode = M_STARTTLS;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    struct tcli c = {0};
    tcli_init(&c, f->cli_tls);
    evbuffer_add(c.raw_out, "STARTTLS\n", 9);
    assert_int_equal(rpc__tls_start(c.t, c.raw_out), 0);
    tls_exchange(f, &c, fd);
    assert_string_equal(rpc_stream_peer_cn(f->last), "app-7");
    tcli_free(&c);
    close(fd);
    assert_true(until(f, &f->closes, 1));
}

/* Implicit TLS: the upgrade before any byte, from on_open. */
static void tls_from_the_first_byte(void **state)
{
    struct fx *f = *state;
    f->mode = M_STARTTLS;
    f->tls_on_open = true;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    struct tcli c = {0};
    tcli_init(&c, f->cli_tls);
    assert_int_equal(rpc__tls_start(c.t, c.raw_out), 0);
    tls_exchange(f, &c, fd);
    assert_int_equal(f->tls_rc, 0);
    tcli_free(&c);
    close(fd);
    assert_true(until(f, &f->closes, 1));
}

/* A peer that asks for TLS and then says nothing is cut off. */
static void tls_handshake_stall(void **state)
{
    struct fx *f = *state;
    f->mode = M_STARTTLS;
    f->hs_timeout_ms = 100;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    send_str(fd, "STARTTLS\n");
    assert_true(pump_eof(f, fd, NULL, 0) != (size_t)-1);
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->last_rc, RPC_ESTALLED);
    assert_non_null(strstr(f->last_reason, "TLS handshake"));
    close(fd);
}

static void unconsumed_flood_closes(void **state)
{
    struct fx *f = *state;
    f->mode = M_LINES;
    f->max_unconsumed = 1000;
    fx_start(f, 0, NULL);
    int fd = conn_to(f);
    char junk[1500];
    memset(junk, 'x', sizeof junk);
    assert_int_equal(rpcutil_write_all(fd, junk, sizeof junk), 0);
    assert_true(pump_eof(f, fd, NULL, 0) != (size_t)-1);
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->last_rc, RPC_EFLOOD);
    assert_non_null(strstr(f->last_reason, "did not consume"));
    close(fd);
}

static void destroy_with_connections_open(void **state)
{
    struct fx *f = *state;
    f->mode = M_LINES;
    fx_start(f, 0, NULL);
    int fds[3];
    for (int i = 0; i < 3; i++)
        fds[i] = conn_to(f);
    send_str(fds[0], "partial");
    assert_true(until(f, &f->opens, 3));
    assert_true(until(f, &f->data_calls, 1));
    rpc_stream_server_destroy(f->srv);
    f->srv = NULL;
    assert_int_equal(f->closes, 3);
    assert_int_equal(f->last_rc, RPC_ECLOSED);
    /* libevent closes the sockets in its finalizers: run the loop. */
    for (int i = 0; i < 3; i++) {
        assert_true(pump_eof(f, fds[i], NULL, 0) != (size_t)-1);
        close(fds[i]);
    }
}

/* Stopping listening refuses new connections at once (the kernel's
 * ECONNREFUSED) while an open one goes on both ways. */
static void stop_listening_keeps_connections(void **state)
{
    struct fx *f = *state;
    fx_start(f, 0, NULL);
    uint16_t port = rpc_stream_server_port(f->srv);
    int fd = conn_to(f);
    send_str(fd, "before");
    char buf[16] = {0};
    assert_int_equal(pump_read(f, fd, buf, 6), 6);
    assert_memory_equal(buf, "before", 6);
    rpc_stream_server_stop_listening(f->srv);
    rpc_stream_server_stop_listening(f->srv); /* idempotent */
    assert_int_equal(rpc_stream_server_port(f->srv), port);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), -1);
    assert_int_equal(errno, ECONNREFUSED);
    close(s);
    send_str(fd, "after");
    assert_int_equal(pump_read(f, fd, buf, 5), 5);
    assert_memory_equal(buf, "after", 5);
    assert_int_equal(f->opens, 1);
    assert_int_equal(rpc_stream_server_connection_count(f->srv), 1);
    close(fd);
    assert_true(until(f, &f->closes, 1));
    assert_int_equal(f->last_rc, RPC_ECONNLOST);
}

static void destroy_inside_on_data(void **state)
{
    struct fx *f = *state;
    f->mode = M_DIE;
    fx_start(f, 0, NULL);
    int a = conn_to(f), b = conn_to(f);
    assert_true(until(f, &f->opens, 2));
    send_str(a, "die");
    assert_true(until(f, &f->closes, 2));
    assert_null(f->srv);
    assert_int_equal(f->last_rc, RPC_ECLOSED);
    assert_true(pump_eof(f, a, NULL, 0) != (size_t)-1);
    assert_true(pump_eof(f, b, NULL, 0) != (size_t)-1);
    close(a);
    close(b);
}

static void bad_options(void **state)
{
    struct fx *f = *state;
    struct rpc_stream_server_options o = {.host = "127.0.0.1"};
    struct rpc_stream_server *srv = NULL;
    char err[256];
    assert_int_equal(rpc_stream_server_create(f->base, &o, &srv, err,
                                              sizeof err),
                     RPC_ECONFIG);
    assert_non_null(strstr(err, "on_data"));
    assert_null(srv);
    o.cb.on_data = on_data;
    o.refuse_len = 3;
    assert_int_equal(rpc_stream_server_create(f->base, &o, &srv, err,
                                              sizeof err),
                     RPC_ECONFIG);
    o.refuse_len = 0;
    o.host = "not a host name.invalid";
    assert_int_equal(rpc_stream_server_create(f->base, &o, &srv, err,
                                              sizeof err),
                     RPC_ECONFIG);
    assert_null(srv);
    rpc_stream_server_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(echo, setup, teardown),
        cmocka_unit_test_setup_teardown(partial_consumption_keeps_the_rest,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(many_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(pause_and_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(close_after_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(close_flush_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(drain_after_high_water, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(peer_disconnect_closes_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bytes_before_eof_are_delivered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(max_connections_refuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(tls_upgrade_after_reply, setup_tls,
                                        teardown),
        cmocka_unit_test_setup_teardown(tls_upgrade_pipelined, setup_tls,
                                        teardown),
        cmocka_unit_test_setup_teardown(tls_plaintext_after_upgrade_is_closed,
                                        setup_tls, teardown),
        cmocka_unit_test_setup_teardown(tls_upgrade_later, setup_tls,
                                        teardown),
        cmocka_unit_test_setup_teardown(tls_client_certificate, setup_mtls,
                                        teardown),
        cmocka_unit_test_setup_teardown(tls_from_the_first_byte, setup_tls,
                                        teardown),
        cmocka_unit_test_setup_teardown(tls_handshake_stall, setup_tls,
                                        teardown),
        cmocka_unit_test_setup_teardown(unconsumed_flood_closes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stop_listening_keeps_connections,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(destroy_with_connections_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(destroy_inside_on_data, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_options, setup, teardown),
    };
    return cmocka_run_group_tests_name("librpc/stream", tests, NULL, NULL);
}

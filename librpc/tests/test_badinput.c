/* test_badinput.c: hostile peers on raw sockets against a server on its
 * own thread: oversized length, bad magic, bad version, unknown method,
 * garbage payload, a frame cut short then silence, replies never read.
 * Each closes that connection with a GOAWAY naming the reason (where the
 * peer can read it) and a log line, while the server keeps serving others.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc_echo.pb.h"
#include "rpcutil.h"

#define MAGIC 0x4C525043u
#define F_GOAWAY 0x10

static int setup(void **state)
{
    struct rpcutil_server *s = calloc(1, sizeof *s);
    /* Small limits so the tests are quick: 4 KiB frames, a 300 ms stall
     * timeout, 64 KiB of unread replies. */
    struct rpc_server_options o = {.host = "127.0.0.1",
                                   .max_frame = 4096,
                                   .stall_timeout_ms = 300,
                                   .max_out_buffered = 64 * 1024};
    rpcutil_server_init(s, &o);
    rpcutil_server_run(s);
    *state = s;
    return 0;
}

static int setup_small_out(void **state)
{
    struct rpcutil_server *s = calloc(1, sizeof *s);
    struct rpc_server_options o = {
        .host = "127.0.0.1", .stall_timeout_ms = 300, .max_out_buffered = 4096};
    rpcutil_server_init(s, &o);
    rpcutil_server_run(s);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct rpcutil_server *s = *state;
    rpcutil_server_stop(s);
    free(s);
    return 0;
}

/* Sends bytes on a fresh connection, expects a GOAWAY with code and a
 * reason containing why, then the close; and the server still serves. */
static void expect_goaway(struct rpcutil_server *s,
                          const void *bytes,
                          size_t len,
                          int code,
                          uint32_t id,
                          const char *why)
{
    int fd = rpcutil_raw_connect(s->port);
    assert_true(fd >= 0);
    assert_int_equal(rpcutil_write_all(fd, bytes, len), 0);
    uint8_t flags = 0;
    uint32_t rid = 0;
    int32_t aux = 0;
    char reason[256];
    assert_int_equal(
        rpcutil_read_frame(fd, &flags, &rid, &aux, reason, sizeof reason), 0);
    assert_int_equal(flags, F_GOAWAY);
    assert_int_equal(aux, code);
    assert_int_equal(rid, id);
    assert_non_null(strstr(reason, why));
    assert_true(rpcutil_wait_closed(fd));
    close(fd);
    assert_true(rpcutil_log_wait(&s->log, why));
    assert_int_equal(rpcutil_echo_blocking(s->port, "still here"), 0);
}

static void oversized_length(void **state)
{
    struct rpcutil_server *s = *state;
    uint8_t h[24];
    rpcutil_header(h, MAGIC, 1, 0, RPC_METHOD_ECHO, 1, 4097, 0);
    expect_goaway(s, h, sizeof h, RPC_EFRAME_TOO_LARGE, 1,
                  "frame larger than the size limit");
}

static void bad_magic(void **state)
{
    struct rpcutil_server *s = *state;
    const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    expect_goaway(s, http, sizeof http - 1, RPC_EBAD_MAGIC, 0,
                  "bad frame magic");
}

static void bad_version(void **state)
{
    struct rpcutil_server *s = *state;
    uint8_t h[24];
    rpcutil_header(h, MAGIC, 9, 0, RPC_METHOD_ECHO, 1, 0, 0);
    expect_goaway(s, h, sizeof h, RPC_EVERSION, 0,
                  "unsupported librpc protocol version");
}

static void bad_flags(void **state)
{
    struct rpcutil_server *s = *state;
    uint8_t h[24];
    rpcutil_header(h, MAGIC, 1, 0x40, RPC_METHOD_ECHO, 1, 0, 0);
    expect_goaway(s, h, sizeof h, RPC_EPROTO, 0, "protocol error");
}

static void unknown_method(void **state)
{
    struct rpcutil_server *s = *state;
    uint8_t h[24];
    rpcutil_header(h, MAGIC, 1, 0, 0x0bad0bad, 77, 0, 0);
    expect_goaway(s, h, sizeof h, RPC_EUNKNOWN_METHOD, 77,
                  "unknown method 0x0bad0bad");
}

static void garbage_payload(void **state)
{
    struct rpcutil_server *s = *state;
    uint8_t buf[24 + 4];
    rpcutil_header(buf, MAGIC, 1, 0, RPC_METHOD_ECHO, 78, 4, 0);
    /* Field 1 length-delimited claiming 100 bytes, 2 present. */
    memcpy(buf + 24, "\x0a\x64hi", 4);
    expect_goaway(s, buf, sizeof buf, RPC_EDECODE, 78,
                  "payload of method echo (0x00010001) does not decode");
}

/* A peek on echo (rpc_server_set_peek): answers an EchoRequest of exactly
 * payload "peek" from its bytes (the EchoResponse has the same encoding),
 * leaves every other request to nanopb and the handler. */
static int peeks_seen, peeks_taken;

static bool echo_peek(struct rpc_call *call, const uint8_t *payload,
                      size_t len, void *ud)
{
    (void)ud;
    __atomic_add_fetch(&peeks_seen, 1, __ATOMIC_SEQ_CST);
    if (len != 6 || memcmp(payload, "\x0a\x04peek", 6) != 0)
        return false;
    __atomic_add_fetch(&peeks_taken, 1, __ATOMIC_SEQ_CST);
    rpc_call_reply_encoded(call, payload, len);
    return true;
}

static int setup_peek(void **state)
{
    struct rpcutil_server *s = calloc(1, sizeof *s);
    struct rpc_server_options o = {.host = "127.0.0.1",
                                   .max_frame = 4096,
                                   .stall_timeout_ms = 300};
    rpcutil_server_init(s, &o);
    assert_int_equal(rpc_server_set_peek(s->srv, RPC_METHOD_ECHO, echo_peek),
                     0);
    assert_int_equal(rpc_server_set_peek(s->srv, 0x00ffffffu, echo_peek),
                     RPC_ECONFIG);
    __atomic_store_n(&peeks_seen, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&peeks_taken, 0, __ATOMIC_SEQ_CST);
    rpcutil_server_run(s);
    *state = s;
    return 0;
}

/* The peek answers what it takes; what it leaves is decoded and handled
 * as without it; a payload it leaves that does not decode closes the
 * connection with the same GOAWAY as without a peek (the call set up for
 * the peek is freed: ASan), and the server goes on. */
static void peek_answers_or_leaves(void **state)
{
    struct rpcutil_server *s = *state;
    assert_int_equal(rpcutil_echo_blocking(s->port, "peek"), 0);
    assert_int_equal(__atomic_load_n(&peeks_seen, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(__atomic_load_n(&peeks_taken, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(rpcutil_echo_blocking(s->port, "not a peek"), 0);
    assert_int_equal(__atomic_load_n(&peeks_seen, __ATOMIC_SEQ_CST), 2);
    assert_int_equal(__atomic_load_n(&peeks_taken, __ATOMIC_SEQ_CST), 1);
    uint8_t buf[24 + 4];
    rpcutil_header(buf, MAGIC, 1, 0, RPC_METHOD_ECHO, 79, 4, 0);
    memcpy(buf + 24, "\x0a\x64hi", 4);
    expect_goaway(s, buf, sizeof buf, RPC_EDECODE, 79,
                  "payload of method echo (0x00010001) does not decode");
    assert_int_equal(__atomic_load_n(&peeks_seen, __ATOMIC_SEQ_CST), 4);
    assert_int_equal(__atomic_load_n(&peeks_taken, __ATOMIC_SEQ_CST), 1);
}

static void reply_frame_from_client(void **state)
{
    struct rpcutil_server *s = *state;
    uint8_t h[24];
    rpcutil_header(h, MAGIC, 1, 0x02, RPC_METHOD_ECHO, 5, 0, 0);
    expect_goaway(s, h, sizeof h, RPC_EPROTO, 5, "a client sent a reply frame");
}

/* A client's GOAWAY: the server closes quietly (no GOAWAY back). */
static void client_goaway_closes(void **state)
{
    struct rpcutil_server *s = *state;
    int fd = rpcutil_raw_connect(s->port);
    uint8_t buf[24 + 3];
    rpcutil_header(buf, MAGIC, 1, F_GOAWAY, 0, 0, 3, RPC_ECLOSED);
    memcpy(buf + 24, "bye", 3);
    assert_int_equal(rpcutil_write_all(fd, buf, sizeof buf), 0);
    assert_true(rpcutil_wait_closed(fd));
    close(fd);
    assert_true(rpcutil_log_wait(&s->log, "went away: bye"));
    assert_int_equal(rpcutil_echo_blocking(s->port, "still here"), 0);
}

static void half_header_then_silence(void **state)
{
    struct rpcutil_server *s = *state;
    uint8_t h[24];
    rpcutil_header(h, MAGIC, 1, 0, RPC_METHOD_ECHO, 1, 10, 0);
    expect_goaway(s, h, 10, RPC_ESTALLED, 0,
                  "peer stalled in the middle of a frame");
}

static void half_payload_then_silence(void **state)
{
    struct rpcutil_server *s = *state;
    uint8_t buf[24 + 5];
    rpcutil_header(buf, MAGIC, 1, 0, RPC_METHOD_ECHO, 1, 10, 0);
    memset(buf + 24, 0, 5);
    expect_goaway(s, buf, sizeof buf, RPC_ESTALLED, 0,
                  "peer stalled in the middle of a frame");
}

/* A whole frame plus the start of the next: the first is answered, then
 * the stall closes the connection. */
static void answered_then_stalled(void **state)
{
    struct rpcutil_server *s = *state;
    int fd = rpcutil_raw_connect(s->port);
    uint8_t buf[24 + 30];
    rpcutil_header(buf, MAGIC, 1, 0, RPC_METHOD_ECHO, 9, 0, 0);
    memcpy(buf + 24, buf, 24); /* second header, cut after 6 more bytes */
    assert_int_equal(rpcutil_write_all(fd, buf, 30), 0);
    uint8_t flags;
    uint32_t id;
    int32_t aux;
    char p[64];
    assert_int_equal(rpcutil_read_frame(fd, &flags, &id, &aux, p, sizeof p), 0);
    assert_int_equal(flags, 0x02);
    assert_int_equal(id, 9);
    assert_int_equal(aux, 0);
    assert_int_equal(rpcutil_read_frame(fd, &flags, &id, &aux, p, sizeof p), 0);
    assert_int_equal(flags, F_GOAWAY);
    assert_int_equal(aux, RPC_ESTALLED);
    assert_true(rpcutil_wait_closed(fd));
    close(fd);
}

static void flood_without_reading(void **state)
{
    struct rpcutil_server *s = *state;
    int fd = rpcutil_raw_connect(s->port);
    assert_true(fd >= 0);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    /* Echo requests with a 1000-byte payload, written until the server
     * stops reading (its replies pile up unread). */
    uint8_t frame[24 + 1003];
    rpcutil_header(frame, MAGIC, 1, 0, RPC_METHOD_ECHO, 0, 1003, 0);
    frame[24] = 0x0a;
    frame[25] = 0xe8; /* varint 1000 */
    frame[26] = 0x07;
    memset(frame + 27, 'f', 1000);
    /* Keep writing whenever the socket takes more: the kernel's buffers
     * absorb a lot, and a flooder that stops early lets the server catch
     * up. Once reading is paused a neighbour must still be served; the
     * flooder must end up closed. */
    uint32_t id = 1;
    size_t off = 0;
    bool neighbour_served = false, flooded = false;
    for (int waits = 0; !flooded && waits < 600;) {
        if (off == 0) {
            frame[12] = (uint8_t)(id >> 24);
            frame[13] = (uint8_t)(id >> 16);
            frame[14] = (uint8_t)(id >> 8);
            frame[15] = (uint8_t)id;
            id++;
        }
        ssize_t n = send(fd, frame + off, sizeof frame - off, MSG_NOSIGNAL);
        if (n > 0) {
            off = (off + (size_t)n) % sizeof frame;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            break; /* the server closed us */
        if (!neighbour_served && rpcutil_log_has(&s->log, "reading paused")) {
            assert_int_equal(rpcutil_echo_blocking(s->port, "neighbour"), 0);
            neighbour_served = true;
        }
        flooded =
            rpcutil_log_has(&s->log, "peer sent requests without reading");
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        poll(&pfd, 1, 50);
        waits++;
    }
    assert_true(neighbour_served);
    assert_true(rpcutil_log_wait(&s->log,
                                 "peer sent requests without reading"));
    assert_true(rpcutil_wait_closed(fd));
    close(fd);
    assert_int_equal(rpcutil_echo_blocking(s->port, "after"), 0);
}

/* A burst whose replies overflow the output limit pauses reading; a peer
 * that reads them all is read from again (not taken for a flooder). */
static void burst_then_read_is_not_flood(void **state)
{
    struct rpcutil_server *s = *state;
    int fd = rpcutil_raw_connect(s->port);
    enum { N = 50, PAY = 200 };
    static uint8_t burst[N * (24 + 3 + PAY)];
    for (int round = 0; round < 3; round++) {
        size_t off = 0;
        for (int i = 0; i < N; i++) {
            uint8_t *f = burst + off;
            rpcutil_header(f, MAGIC, 1, 0, RPC_METHOD_ECHO,
                           (uint32_t)(round * N + i + 1), 3 + PAY, 0);
            f[24] = 0x0a;
            f[25] = (uint8_t)(0x80 | (PAY & 0x7f));
            f[26] = (uint8_t)(PAY >> 7);
            memset(f + 27, 'b', PAY);
            off += 24 + 3 + PAY;
        }
        assert_int_equal(rpcutil_write_all(fd, burst, off), 0);
        for (int i = 0; i < N; i++) {
            uint8_t flags;
            uint32_t id;
            int32_t aux;
            char p[16];
            assert_int_equal(
                rpcutil_read_frame(fd, &flags, &id, &aux, p, sizeof p), 0);
            assert_int_equal(flags, 0x02);
            assert_int_equal(aux, 0);
            assert_int_equal(id, (uint32_t)(round * N + i + 1));
        }
    }
    close(fd);
    assert_false(rpcutil_log_has(&s->log, "without reading"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(oversized_length, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_magic, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_version, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_method, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_payload, setup, teardown),
        cmocka_unit_test_setup_teardown(peek_answers_or_leaves, setup_peek,
                                        teardown),
        cmocka_unit_test_setup_teardown(reply_frame_from_client, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(client_goaway_closes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(half_header_then_silence, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(half_payload_then_silence, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(answered_then_stalled, setup, teardown),
        cmocka_unit_test_setup_teardown(flood_without_reading, setup, teardown),
        cmocka_unit_test_setup_teardown(burst_then_read_is_not_flood,
                                        setup_small_out, teardown),
    };
    return cmocka_run_group_tests_name("librpc/badinput", tests, NULL, NULL);
}

/* test_frame.c: the frame codec: header round trips for every kind, every
 * malformed header, and payload encode/decode (librpc/DESIGN.md, "Wire
 * format").
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpc_echo.pb.h"
#include "rpc_int.h"
#include "rpcutil.h"

static void header_round_trip_every_kind(void **state)
{
    (void)state;
    const uint8_t kinds[] = {RPC_F_REQUEST, RPC_F_CANCEL, RPC_F_REPLY,
                             RPC_F_STREAM,  RPC_F_END,    RPC_F_GOAWAY};
    for (size_t i = 0; i < sizeof kinds; i++) {
        struct rpc__frame f = {
            .flags = kinds[i],
            .method = 0x00010002u,
            .id = 0xfffffffeu - (uint32_t)i,
            .length = kinds[i] == RPC_F_CANCEL ? 0 : 77,
            .aux = kinds[i] == RPC_F_REQUEST ? 1500 : RPC_EDECODE};
        uint8_t buf[RPC_HEADER_SIZE];
        rpc__frame_encode(&f, buf);
        struct rpc__frame g;
        assert_int_equal(rpc__frame_decode(buf, sizeof buf, 1000, &g), 0);
        assert_int_equal(g.flags, f.flags);
        assert_int_equal(g.method, f.method);
        assert_int_equal(g.id, f.id);
        assert_int_equal(g.length, f.length);
        assert_int_equal(g.aux, f.aux);
    }
}

static void header_byte_layout(void **state)
{
    (void)state;
    struct rpc__frame f = {.flags = RPC_F_STREAM,
                           .method = 0x01020304u,
                           .id = 0x05060708u,
                           .length = 0x0000090au,
                           .aux = -6008};
    uint8_t buf[RPC_HEADER_SIZE];
    rpc__frame_encode(&f, buf);
    const uint8_t want[RPC_HEADER_SIZE] = {
        'L', 'R', 'P', 'C', 1, 0x04, 0, 0,  1,    2,    3,    4,
        5,   6,   7,   8,   0, 0,    9, 10, 0xff, 0xff, 0xe8, 0x88};
    assert_memory_equal(buf, want, sizeof want);
}

static void short_header_needs_more(void **state)
{
    (void)state;
    uint8_t buf[RPC_HEADER_SIZE];
    rpcutil_header(buf, RPC_MAGIC, 1, 0, 1, 1, 0, 0);
    struct rpc__frame g;
    for (size_t n = 0; n < RPC_HEADER_SIZE; n++)
        assert_int_equal(rpc__frame_decode(buf, n, 100, &g), 1);
    assert_int_equal(rpc__frame_decode(buf, sizeof buf, 100, &g), 0);
}

static int decode_hdr(uint32_t magic,
                      uint8_t version,
                      uint8_t flags,
                      uint32_t length,
                      int32_t aux)
{
    uint8_t buf[RPC_HEADER_SIZE];
    rpcutil_header(buf, magic, version, flags, 7, 9, length, aux);
    struct rpc__frame g;
    return rpc__frame_decode(buf, sizeof buf, 4096, &g);
}

static void malformed_headers(void **state)
{
    (void)state;
    assert_int_equal(decode_hdr(0x4C525044u, 1, 0, 0, 0), RPC_EBAD_MAGIC);
    assert_int_equal(decode_hdr(0, 1, 0, 0, 0), RPC_EBAD_MAGIC);
    assert_int_equal(decode_hdr(RPC_MAGIC, 0, 0, 0, 0), RPC_EVERSION);
    assert_int_equal(decode_hdr(RPC_MAGIC, 2, 0, 0, 0), RPC_EVERSION);
    assert_int_equal(decode_hdr(RPC_MAGIC, 1, 0x03, 0, 0), RPC_EPROTO);
    assert_int_equal(decode_hdr(RPC_MAGIC, 1, 0x23, 0, 0), RPC_EPROTO);
    assert_int_equal(decode_hdr(RPC_MAGIC, 1, 0xff, 0, 0), RPC_EPROTO);
    assert_int_equal(decode_hdr(RPC_MAGIC, 1, 0, 4097, 0),
                     RPC_EFRAME_TOO_LARGE);
    assert_int_equal(decode_hdr(RPC_MAGIC, 1, 0, 0xffffffffu, 0),
                     RPC_EFRAME_TOO_LARGE);
    assert_int_equal(decode_hdr(RPC_MAGIC, 1, 0, 4096, 0), 0);
    /* A request's deadline budget is never negative. */
    assert_int_equal(decode_hdr(RPC_MAGIC, 1, RPC_F_REQUEST, 0, -1),
                     RPC_EPROTO);
    /* A cancel carries no payload. */
    assert_int_equal(decode_hdr(RPC_MAGIC, 1, RPC_F_CANCEL, 1, 0), RPC_EPROTO);
    /* Reserved bytes must be zero. */
    uint8_t buf[RPC_HEADER_SIZE];
    struct rpc__frame g;
    rpcutil_header(buf, RPC_MAGIC, 1, 0, 7, 9, 0, 0);
    buf[6] = 1;
    assert_int_equal(rpc__frame_decode(buf, sizeof buf, 100, &g), RPC_EPROTO);
    buf[6] = 0;
    buf[7] = 0x80;
    assert_int_equal(rpc__frame_decode(buf, sizeof buf, 100, &g), RPC_EPROTO);
}

static pb_bytes_array_t *bytes_of(const char *s)
{
    size_t n = strlen(s);
    pb_bytes_array_t *b = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(n));
    b->size = (pb_size_t)n;
    memcpy(b->bytes, s, n);
    return b;
}

static void payload_round_trip(void **state)
{
    (void)state;
    struct evbuffer *out = evbuffer_new();
    pb_bytes_array_t *b = bytes_of("hello, frames");
    rpc_EchoRequest req = {.payload = b, .count = 3};
    struct rpc__frame f = {.flags = RPC_F_REQUEST,
                           .method = RPC_METHOD_ECHO,
                           .id = 42,
                           .aux = 250};
    assert_int_equal(
        rpc__frame_append(out, &f, rpc_EchoRequest_fields, &req, 1 << 20), 0);
    /* One byte over the limit: refused, nothing appended. */
    size_t before = evbuffer_get_length(out);
    struct rpc__frame over = f;
    assert_int_equal(rpc__frame_append(out, &over, rpc_EchoRequest_fields,
                                       &req, f.length - 1),
                     RPC_EFRAME_TOO_LARGE);
    assert_int_equal(evbuffer_get_length(out), before);
    /* An empty message is a valid zero-length payload. */
    rpc_EchoRequest empty = rpc_EchoRequest_init_zero;
    struct rpc__frame f2 = {.flags = RPC_F_REQUEST, .method = 5, .id = 43};
    assert_int_equal(
        rpc__frame_append(out, &f2, rpc_EchoRequest_fields, &empty, 0), 0);
    assert_int_equal(f2.length, 0);

    size_t total = evbuffer_get_length(out);
    assert_int_equal(total, 2 * RPC_HEADER_SIZE + f.length);
    const uint8_t *p = evbuffer_pullup(out, -1);
    struct rpc__frame g;
    assert_int_equal(rpc__frame_decode(p, total, 1 << 20, &g), 0);
    assert_int_equal(g.id, 42);
    assert_int_equal(g.aux, 250);
    assert_int_equal(g.length, f.length);
    rpc_EchoRequest back;
    assert_int_equal(rpc__payload_decode(p + RPC_HEADER_SIZE, g.length,
                                         rpc_EchoRequest_fields, &back),
                     0);
    assert_int_equal(back.count, 3);
    assert_int_equal(back.payload->size, b->size);
    assert_memory_equal(back.payload->bytes, "hello, frames", b->size);
    rpc__payload_release(rpc_EchoRequest_fields, &back);

    const uint8_t *q = p + RPC_HEADER_SIZE + g.length;
    assert_int_equal(rpc__frame_decode(q, RPC_HEADER_SIZE, 1 << 20, &g), 0);
    assert_int_equal(g.id, 43);
    assert_int_equal(g.length, 0);
    free(b);
    evbuffer_free(out);
}

static void garbage_payload_does_not_decode(void **state)
{
    (void)state;
    /* Field 1 as a length-delimited value claiming 100 bytes with 2. */
    const uint8_t bad1[] = {0x0a, 0x64, 'h', 'i'};
    /* A wire type 7 (invalid). */
    const uint8_t bad2[] = {0x0f, 0x01};
    /* A truncated varint. */
    const uint8_t bad3[] = {0x10, 0xff, 0xff};
    rpc_EchoRequest m;
    assert_int_equal(
        rpc__payload_decode(bad1, sizeof bad1, rpc_EchoRequest_fields, &m),
        RPC_EDECODE);
    assert_int_equal(
        rpc__payload_decode(bad2, sizeof bad2, rpc_EchoRequest_fields, &m),
        RPC_EDECODE);
    assert_int_equal(
        rpc__payload_decode(bad3, sizeof bad3, rpc_EchoRequest_fields, &m),
        RPC_EDECODE);
}

static void raw_payload_frame(void **state)
{
    (void)state;
    struct evbuffer *out = evbuffer_new();
    struct rpc__frame f = {.flags = RPC_F_GOAWAY, .id = 3, .aux = RPC_EFLOOD};
    assert_int_equal(rpc__frame_append_raw(out, &f, "why", 3), 0);
    assert_int_equal(evbuffer_get_length(out), RPC_HEADER_SIZE + 3);
    const uint8_t *p = evbuffer_pullup(out, -1);
    struct rpc__frame g;
    assert_int_equal(rpc__frame_decode(p, RPC_HEADER_SIZE + 3, 10, &g), 0);
    assert_int_equal(g.flags, RPC_F_GOAWAY);
    assert_int_equal(g.aux, RPC_EFLOOD);
    assert_memory_equal(p + RPC_HEADER_SIZE, "why", 3);
    evbuffer_free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_round_trip_every_kind),
        cmocka_unit_test(header_byte_layout),
        cmocka_unit_test(short_header_needs_more),
        cmocka_unit_test(malformed_headers),
        cmocka_unit_test(payload_round_trip),
        cmocka_unit_test(garbage_payload_does_not_decode),
        cmocka_unit_test(raw_payload_frame),
    };
    return cmocka_run_group_tests_name("librpc/frame", tests, NULL, NULL);
}

/* frame.c: the frame codec: the 24-byte header (byte table in rpc_int.h
 * and librpc/DESIGN.md, "Wire format") and nanopb payloads. The header
 * decoder is a pure function over bytes so tests/fuzz_frame.c can drive it.
 */
#include <errno.h>
#include <string.h>

#include <pb.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "rpc_int.h"

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static bool flags_valid(uint8_t flags)
{
    switch (flags) {
        case RPC_F_REQUEST:
        case RPC_F_CANCEL:
        case RPC_F_REPLY:
        case RPC_F_STREAM:
        case RPC_F_END:
        case RPC_F_GOAWAY:
        case RPC_F_SEND:
        case RPC_F_CLOSE_SEND:
        case RPC_F_WINDOW:
            return true;
        default:
            return false;
    }
}

int rpc__frame_decode(const uint8_t *buf,
                      size_t len,
                      uint32_t max_payload,
                      struct rpc__frame *out)
{
    if (len < RPC_HEADER_SIZE)
        return 1;
    if (get32(buf) != RPC_MAGIC)
        return RPC_EBAD_MAGIC;
    if (buf[4] != RPC_PROTO_VERSION)
        return RPC_EVERSION;
    if (!flags_valid(buf[5]) || buf[6] != 0 || buf[7] != 0)
        return RPC_EPROTO;
    out->flags = buf[5];
    out->method = get32(buf + 8);
    out->id = get32(buf + 12);
    out->length = get32(buf + 16);
    out->aux = (int32_t)get32(buf + 20);
    if (out->length > max_payload)
        return RPC_EFRAME_TOO_LARGE; /* *out names the request to blame */
    /* A request's aux is a deadline budget; a cancel carries no payload. */
    if (out->flags == RPC_F_REQUEST && out->aux < 0)
        return RPC_EPROTO;
    if (out->flags == RPC_F_CANCEL && out->length != 0)
        return RPC_EPROTO;
    /* Stream control frames carry no payload; a window grants >= 1. */
    if ((out->flags == RPC_F_CLOSE_SEND || out->flags == RPC_F_WINDOW) &&
        out->length != 0)
        return RPC_EPROTO;
    if ((out->flags == RPC_F_SEND || out->flags == RPC_F_CLOSE_SEND) &&
        out->aux != 0)
        return RPC_EPROTO;
    if (out->flags == RPC_F_WINDOW && out->aux <= 0)
        return RPC_EPROTO;
    return 0;
}

void rpc__frame_encode(const struct rpc__frame *f, uint8_t buf[RPC_HEADER_SIZE])
{
    put32(buf, RPC_MAGIC);
    buf[4] = RPC_PROTO_VERSION;
    buf[5] = f->flags;
    buf[6] = 0;
    buf[7] = 0;
    put32(buf + 8, f->method);
    put32(buf + 12, f->id);
    put32(buf + 16, f->length);
    put32(buf + 20, (uint32_t)f->aux);
}

int rpc__frame_append(struct evbuffer *out,
                      struct rpc__frame *f,
                      const struct pb_msgdesc_s *fields,
                      const void *msg,
                      uint32_t max)
{
    /* Small messages (most calls and replies) in one pass: encode into a
     * reservation of FAST_ENCODE bytes after the header, then write the
     * header with the length found. A message that does not fit there
     * (or fails) takes the two passes below, which size it first and
     * report a real encoding error. */
    enum { FAST_ENCODE = 480 };
    if (msg != NULL) {
        struct evbuffer_iovec fv;
        if (evbuffer_reserve_space(out, RPC_HEADER_SIZE + FAST_ENCODE, &fv,
                                   1) != 1)
            return -ENOMEM;
        uint8_t *fp = fv.iov_base;
        pb_ostream_t fs =
            pb_ostream_from_buffer(fp + RPC_HEADER_SIZE, FAST_ENCODE);
        if (pb_encode(&fs, fields, msg) && fs.bytes_written <= max) {
            f->length = (uint32_t)fs.bytes_written;
            rpc__frame_encode(f, fp);
            fv.iov_len = RPC_HEADER_SIZE + fs.bytes_written;
            return evbuffer_commit_space(out, &fv, 1) != 0 ? -ENOMEM : 0;
        }
    }
    size_t size = 0;
    if (msg != NULL && !pb_get_encoded_size(&size, fields, msg))
        return RPC_EENCODE;
    if (size > UINT32_MAX)
        return RPC_EENCODE;
    if (size > max) /* the receiver would close the connection on it */
        return RPC_EFRAME_TOO_LARGE;
    f->length = (uint32_t)size;
    /* Reserve header + payload in one contiguous extent and encode in
     * place: one copy of the message, no temporary buffer. */
    struct evbuffer_iovec v;
    size_t total = RPC_HEADER_SIZE + size;
    if (evbuffer_reserve_space(out, (ev_ssize_t)total, &v, 1) != 1)
        return -ENOMEM;
    uint8_t *p = v.iov_base;
    rpc__frame_encode(f, p);
    if (msg != NULL) {
        pb_ostream_t os = pb_ostream_from_buffer(p + RPC_HEADER_SIZE, size);
        if (!pb_encode(&os, fields, msg) || os.bytes_written != size)
            return RPC_EENCODE; /* reserved space is simply not committed */
    }
    v.iov_len = total;
    if (evbuffer_commit_space(out, &v, 1) != 0)
        return -ENOMEM;
    return 0;
}

int rpc__frame_append_raw(struct evbuffer *out,
                          struct rpc__frame *f,
                          const void *payload,
                          size_t len)
{
    /* A small frame (a get, its reply, an error's text) is built on the
     * stack and appended once: an evbuffer_add is ~120 instructions, and
     * kvd answers and kvbench asks ~100,000s of such frames a second. */
    enum { SMALL = 232 };
    uint8_t buf[RPC_HEADER_SIZE + SMALL];
    if (len > UINT32_MAX)
        return RPC_EENCODE;
    f->length = (uint32_t)len;
    rpc__frame_encode(f, buf);
    if (len <= SMALL) {
        if (len > 0)
            memcpy(buf + RPC_HEADER_SIZE, payload, len);
        return evbuffer_add(out, buf, RPC_HEADER_SIZE + len) != 0 ? -ENOMEM
                                                                  : 0;
    }
    if (evbuffer_add(out, buf, RPC_HEADER_SIZE) != 0)
        return -ENOMEM;
    if (evbuffer_add(out, payload, len) != 0)
        return -ENOMEM;
    return 0;
}

int rpc__payload_decode(const uint8_t *payload,
                        size_t len,
                        const struct pb_msgdesc_s *fields,
                        void *msg)
{
    pb_istream_t is = pb_istream_from_buffer(payload, len);
    /* pb_decode zeroes msg except callback fields, and frees what it
     * allocated on failure except blobs. */
    rpc__blob_zero_all(fields, msg);
    if (!pb_decode(&is, fields, msg)) {
        rpc__blob_free_all(fields, msg);
        return is.errmsg == rpc__blob_enomem ? -ENOMEM : RPC_EDECODE;
    }
    return 0;
}

int rpc__payload_decode_sized(const uint8_t *payload,
                              size_t len,
                              const struct pb_msgdesc_s *fields,
                              void *msg,
                              size_t size)
{
    if (size == 0 || !rpc__msg_zero_default(fields, msg))
        return rpc__payload_decode(payload, len, fields, msg);
    /* zero bytes are the defaults (blobs included): skip nanopb's
     * initializing walk */
    memset(msg, 0, size);
    pb_istream_t is = pb_istream_from_buffer(payload, len);
    if (!pb_decode_ex(&is, fields, msg, PB_DECODE_NOINIT)) {
        rpc__blob_free_all(fields, msg);
        return is.errmsg == rpc__blob_enomem ? -ENOMEM : RPC_EDECODE;
    }
    return 0;
}

int rpc_msg_decode(const struct pb_msgdesc_s *fields, const uint8_t *payload,
                   size_t len, void *msg)
{
    if (fields == NULL || msg == NULL || (payload == NULL && len != 0))
        return RPC_EDECODE;
    return rpc__payload_decode(payload != NULL ? payload : (const uint8_t *)"",
                               len, fields, msg);
}

void rpc__payload_release(const struct pb_msgdesc_s *fields, void *msg)
{
    rpc_msg_release(fields, msg);
}

#!/usr/bin/env python3
"""getbatch.py PORT LEADER_STORE: writes many kv.RawGet frames to one kvd in
one send, so that they arrive in one read and kvd answers them as one
batch (libregion/DESIGN.md "Gets of one read under one check"), and checks
every reply on its own: values and absent keys, a stale epoch
(EpochNotMatch) and an unknown region (RegionNotFound) among them, a get
of another shape (a value field: decoded by nanopb), and, sent to a store
that is not the leader, NotLeader naming LEADER_STORE for every get.
Prints "CASE <name> OK" or "CASE <name> FAILED: why" (t_cases_from)."""
import socket
import struct
import sys

MAGIC = 0x4C525043
RAW_GET = 0x00020001
EPOCH_NOT_MATCH, NOT_FOUND, NOT_LEADER = -3003, -3004, -3002


def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def get_frame(rid, ctx, key, extra=b""):
    c = b"".join(varint(n << 3) + varint(v) for n, v in zip((1, 2, 3), ctx))
    p = field(1, c) + field(2, key) + extra
    return struct.pack(">IBBHIIIi", MAGIC, 1, 0, 0, RAW_GET, rid, len(p),
                       10000) + p


def parse(buf):
    """A protobuf message's fields: {number: [value, ...]} (varints as
    ints, length-delimited as bytes)."""
    out, pos = {}, 0

    def rd():
        nonlocal pos
        v, shift = 0, 0
        while True:
            b = buf[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v
    while pos < len(buf):
        tag = rd()
        if tag & 7 == 0:
            val = rd()
        elif tag & 7 == 2:
            n = rd()
            val = buf[pos:pos + n]
            pos += n
        else:
            raise ValueError("wire type %d" % (tag & 7))
        out.setdefault(tag >> 3, []).append(val)
    return out


def signed32(v):
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >= 1 << 63 else v


def exchange(port, frames):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"".join(frames))
    replies, buf = {}, b""
    while len(replies) < len(frames):
        chunk = s.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed after %d replies"
                               % len(replies))
        buf += chunk
        while len(buf) >= 24:
            magic, _, flags, _, _, rid, length, aux = struct.unpack(
                ">IBBHIIIi", buf[:24])
            if magic != MAGIC or len(buf) < 24 + length:
                break
            replies[rid] = (flags, aux, buf[24:24 + length])
            buf = buf[24 + length:]
    s.close()
    return replies


def case(name, ok, why=""):
    print("CASE %s %s" % (name, "OK" if ok else "FAILED: " + why))


def region_error_code(msg):
    re = parse(msg[1][0]) if 1 in msg else {}
    return signed32(re[1][0]) if 1 in re else None, re


def main():
    port, leader = int(sys.argv[1]), int(sys.argv[2])
    follower_port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    zero, stale, unknown = (1, 0, 0), (1, 99, 99), (99, 0, 0)
    frames, want = [], {}
    rid = 1
    # 200 gets, well past a check's chunk of 32: a stale epoch, an unknown
    # region and a get of another shape spread among values and absent keys
    for i in range(200):
        if i % 50 == 7:
            frames.append(get_frame(rid, stale, b"a"))
            want[rid] = ("epoch", None)
        elif i % 50 == 19:
            frames.append(get_frame(rid, unknown, b"a"))
            want[rid] = ("region", None)
        elif i % 50 == 33:
            frames.append(get_frame(rid, zero, b"b", field(3, b"ignored")))
            want[rid] = ("value", b"vb")
        elif i % 3 == 0:
            frames.append(get_frame(rid, zero, b"absent%d" % i))
            want[rid] = ("absent", None)
        else:
            k = b"a" if i % 2 else b"b"
            frames.append(get_frame(rid, zero, k))
            want[rid] = ("value", b"v" + k)
        rid += 1
    got = exchange(port, frames)
    bad = []
    for r, (kind, v) in want.items():
        flags, aux, payload = got.get(r, (None, None, b""))
        if flags != 0x02 or aux != 0:
            bad.append("%d: frame flags %s status %s" % (r, flags, aux))
            continue
        msg = parse(payload)
        code, _ = region_error_code(msg)
        if kind == "value" and (msg.get(5, [b""])[0] != v or code is not None):
            bad.append("%d: wanted %r, got %r" % (r, v, msg))
        elif kind == "absent" and (msg.get(4) != [1] or code is not None):
            bad.append("%d: wanted not_found, got %r" % (r, msg))
        elif kind == "epoch" and code != EPOCH_NOT_MATCH:
            bad.append("%d: wanted EpochNotMatch, got %r" % (r, msg))
        elif kind == "region" and code != NOT_FOUND:
            bad.append("%d: wanted RegionNotFound, got %r" % (r, msg))
    case("200 gets in one send: each answered on its own", not bad,
         "; ".join(bad[:5]))
    if follower_port:
        frames = [get_frame(i + 1, zero, b"a") for i in range(100)]
        got = exchange(follower_port, frames)
        bad = []
        for r in range(1, 101):
            flags, aux, payload = got.get(r, (None, None, b""))
            msg = parse(payload) if flags == 0x02 and aux == 0 else {}
            code, re = region_error_code(msg)
            if code != NOT_LEADER or re.get(3) != [leader]:
                bad.append("%d: %r %r" % (r, flags, msg))
        case("100 gets to a follower: each NotLeader naming the leader",
             not bad, "; ".join(bad[:5]))


main()

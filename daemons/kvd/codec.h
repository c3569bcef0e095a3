/* codec.h: kvd's own byte formats (codec.c), without I/O: declared apart
 * from kvd.h so that kvbench, the client of the same RawGet bytes, and the
 * fuzz targets can use them without the rest of kvd.
 */
#ifndef KVD_CODEC_H
#define KVD_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "region.h"

/* codec.c: the bytes of kv.proto's RawGet and RawPut fast paths (no I/O;
 * fuzzed by fuzz/fuzz_rawget.c). kvd_raw_get_parse reads a kv.RawRequest
 * holding only ctx (region_id, conf_ver, version) and key, the shape every
 * RawGet kvbench, kvctl and libregion's client send: true with *ctx and
 * *key (pointing into p, at most 65,535 bytes, nanopb's cap); false for
 * anything else (another field, an unknown one, bad bytes), which nanopb
 * then decodes or refuses. Repeated fields: the last key wins and ctx's
 * merge, as in protobuf. */
bool kvd_raw_get_parse(const uint8_t *p, size_t len, struct region_ctx *ctx,
                       const uint8_t **key, size_t *kl);
/* The same for a RawPut: ctx, key and value only (no ttl, nothing else),
 * *val pointing into p (any length: the frame bounds it). */
bool kvd_raw_put_parse(const uint8_t *p, size_t len, struct region_ctx *ctx,
                       const uint8_t **key, size_t *kl, const uint8_t **val,
                       size_t *vl);
/* The kv.RawResponse of a RawGet that found v (vl bytes) or nothing, as
 * nanopb writes it (proto3 leaves defaults out: an empty value is the
 * empty message) into buf: true with *n bytes, false when cap is short
 * (vl + 11 bytes are enough). */
bool kvd_raw_get_reply(uint8_t *buf, size_t cap, bool found,
                       const uint8_t *v, size_t vl, size_t *n);
/* The client's side of the same two messages (kvbench): the RawGet
 * request kvd_raw_get_parse reads, written canonically into p (room for
 * kl + 48 bytes); its length. And a reply read: 1 with the value found
 * (*v pointing into p), 0 for not_found, -1 for any other shape (a region
 * error, an error code: decode it with nanopb). */
size_t kvd_raw_get_request(uint8_t *p, const struct region_ctx *ctx,
                           const uint8_t *key, size_t kl);
int kvd_raw_get_reply_parse(const uint8_t *p, size_t len, const uint8_t **v,
                            size_t *vl);
/* v as a protobuf varint at p (room for 10 bytes); its length. */
size_t kvd_put_varint(uint8_t *p, uint64_t v);
/* Makes err safe to copy out (service.c's fill_region_error): msg ends
 * within its array, and a region whose start_len or end_len is over
 * REGION_MAX_BOUND or whose n_stores is over REGION_MAX_PEERS is dropped
 * (has_region false) rather than read past its arrays. False when it
 * dropped one (fuzzed by fuzz/fuzz_regionerr.c). */
bool kvd_region_err_check(struct region_err *err);

/* A kv.DeadlockRequest's fields (deadlock.c). */
struct kvd_dl_msg {
    uint32_t op;       /* KVD_DL_DETECT or KVD_DL_CLEAN_UP */
    uint64_t waiter;   /* start_ts of the waiting txn */
    uint64_t holder;   /* start_ts of the txn it waits for */
    uint64_t key_hash; /* FNV-1a 64 of the key waited on */
};
/* Reads a kv.DeadlockRequest (fields 1-4, varints, any order, the last of
 * a repeated one wins): true with *m; false for another field or wire
 * type, an op over 32 bits, or bad bytes (nanopb then decodes or
 * refuses). Values are not checked here. */
bool kvd_dl_parse(const uint8_t *p, size_t len, struct kvd_dl_msg *m);
/* Writes the kv.DeadlockResponse {result, host} into buf (room for
 * KVD_DL_REPLY_MAX bytes) as nanopb would; its length (0 for 0, 0). */
#define KVD_DL_REPLY_MAX 17 /* two tags, a 32-bit and a 64-bit varint */
size_t kvd_dl_reply(uint8_t *buf, uint32_t result, uint64_t host);

#endif

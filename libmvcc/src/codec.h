/* codec.h: byte layouts of libmvcc's keys and records (DESIGN.md,
 * "Formats"). Integers are big-endian. Decoders check every bound and
 * return MVCC_CORRUPT; decoded pointers borrow the input buffer.
 *
 * User key in every CF: memcomparable groups of 8 bytes, each followed by a
 * marker byte 0xFF - (padding zeros in that group); the last group is padded
 * with zeros (an empty key is one all-zero group, marker 0xF7).
 *   CF lock:            enc(key)
 *   CF write, default:  enc(key) || ~ts (8 bytes, bit-inverted big-endian)
 *
 * Lock record (CF lock value):
 *   off  size  field
 *   0    1     format version (1)
 *   1    1     type: 'P' put, 'D' delete, 'L' lock, 'S' pessimistic
 *   2    8     start_ts
 *   10   8     ttl (milliseconds)
 *   18   8     for_update_ts (0 unless pessimistic)
 *   26   8     min_commit_ts
 *   34   8     txn_size (keys in the transaction, a hint)
 *   42   1     flags: 0x01 async commit, 0x02 short value present
 *   43   4     P = primary key length
 *   47   P     primary user key (raw, not encoded)
 *   ..   4+V   short value: length, bytes          (if flag 0x02)
 *   ..   4     N = secondaries                      (if flag 0x01)
 *   ..   N x (4+len) secondary user keys            (if flag 0x01)
 *
 * Write record (CF write value, key enc(key) || ~commit_ts):
 *   off  size  field
 *   0    1     format version (1)
 *   1    1     type: 'P' put, 'D' delete, 'L' lock, 'R' rollback
 *   2    8     start_ts of the transaction that wrote it
 *   10   1     flags: 0x01 short value present, 0x02 overlapped rollback
 *   11   4+V   short value: length, bytes           (if flag 0x01)
 *
 * A value of at most MVCC__SHORT_VALUE_MAX bytes lives inline in the lock
 * and then the write record; a longer one in CF default at
 * enc(key) || ~start_ts.
 */
#ifndef MVCC_CODEC_H
#define MVCC_CODEC_H

#include <endian.h>
#include <string.h>

#include "mvcc_int.h"

#define MVCC__FORMAT_VERSION 1
#define MVCC__SHORT_VALUE_MAX 255
#define MVCC__TS_LEN 8

enum {
    MVCC__LOCK_PUT = 'P',
    MVCC__LOCK_DELETE = 'D',
    MVCC__LOCK_LOCK = 'L',
    MVCC__LOCK_PESSIMISTIC = 'S',
};
enum {
    MVCC__WRITE_PUT = 'P',
    MVCC__WRITE_DELETE = 'D',
    MVCC__WRITE_LOCK = 'L',
    MVCC__WRITE_ROLLBACK = 'R',
};
#define MVCC__LOCKF_ASYNC 0x01
#define MVCC__LOCKF_SHORT 0x02
#define MVCC__WRITEF_SHORT 0x01
#define MVCC__WRITEF_OVERLAP 0x02

struct mvcc__lock
{
    int type;               /* MVCC__LOCK_* */
    mvcc_ts start_ts;       /* transaction's start timestamp */
    uint64_t ttl;           /* milliseconds after start_ts's physical time */
    mvcc_ts for_update_ts;  /* pessimistic lock's for_update_ts */
    mvcc_ts min_commit_ts;  /* commit_ts must be >= this */
    uint64_t txn_size;      /* keys in the transaction */
    bool async;             /* async commit: secondaries listed */
    bool has_value;         /* short value present */
    const uint8_t *primary; /* primary user key (borrowed) */
    size_t primary_len;     /* its length */
    const uint8_t *value;   /* short value (borrowed) */
    size_t value_len;       /* its length */
    const uint8_t *secs;    /* secondaries, encoded as in the table */
    size_t secs_len;        /* bytes of that region */
    size_t nsecs;           /* how many secondaries */
};

struct mvcc__write
{
    int type;             /* MVCC__WRITE_* */
    mvcc_ts start_ts;     /* writer's start timestamp */
    bool has_value;       /* short value present */
    bool overlap;         /* a rollback of the txn whose start_ts == commit_ts */
    const uint8_t *value; /* short value (borrowed) */
    size_t value_len;     /* its length */
};

/* Big-endian 64-bit fields; inline, since a scan reads a timestamp off
 * every key it steps over. */
static inline void mvcc__put_u64(uint8_t *p, uint64_t v)
{
    v = htobe64(v);
    memcpy(p, &v, sizeof v);
}
static inline uint64_t mvcc__get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return be64toh(v);
}

/* Appends enc(key) (and ~ts if with_ts) to b. */
int mvcc__key_append(struct mvcc__buf *b, const void *key, size_t len);
int mvcc__key_ts_append(struct mvcc__buf *b, const void *key, size_t len,
                        mvcc_ts ts);
/* The ts at the end of an encoded key of at least 8 bytes. */
static inline mvcc_ts mvcc__key_ts(const uint8_t *k, size_t len)
{
    return ~mvcc__get_u64(k + len - 8);
}

/* Encoders append to b; secs (secondaries) is an array of n user keys. */
int mvcc__lock_encode(struct mvcc__buf *b, const struct mvcc__lock *l,
                      const struct mvcc_key *secs, size_t nsecs);
int mvcc__lock_decode(const uint8_t *p, size_t n, struct mvcc__lock *l);
/* The i-th secondary of a decoded lock (i < nsecs). */
void mvcc__lock_secondary(const struct mvcc__lock *l, size_t i,
                          const uint8_t **key, size_t *len);
int mvcc__write_encode(struct mvcc__buf *b, const struct mvcc__write *w);
int mvcc__write_decode(const uint8_t *p, size_t n, struct mvcc__write *w);

#endif

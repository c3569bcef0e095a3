/* snapshot.c: Raft log GC and region snapshots, streamed both ways. A
 * leader reads a snapshot chunk by chunk from a RocksDB snapshot of the
 * region's ranges (libraft's snapshot_read, served from blocks the split
 * checker thread reads ahead), never holding it whole; a follower checks
 * each chunk as it arrives, stages its records under keys of its own
 * (written on that thread), and installs them in bounded batches behind
 * a marker that a restart completes (moved into place there too). DESIGN.md,
 * "Snapshots and log GC".
 *
 * Snapshot data (libraft's `total` bytes) is a run of blocks of the
 * sender's snap_chunk_bytes, the last one shorter; libraft's chunks are
 * these blocks:
 *   0   4    crc32c of index(8) term(8) total(8) offset(8), then payload
 *   4   ..   payload: the next bytes of the stream
 * The stream:
 *   0   1    format version (2)
 *   1   8    stream length L (this header included)
 *   9   4+D  region state (codec.c's region state record)
 *   ..       records until L: cf(1) 4+K engine key 4+V value
 * Kept by a receiver, CF default:
 *   01 'P' region(8) seq(8)   records of one received chunk, as above
 *   01 'N' region(8)          install under way: index(8) term(8) 4+D
 *                             region state
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include "region_int.h"

#define SNAP_VERSION 2
#define BLOCK_HDR 4      /* crc32c */
#define STREAM_HDR 13    /* version(1) L(8) desc length(4) */
#define REC_HDR 9        /* cf(1) key length(4) value length(4) */
#define TX_CKPTS 16      /* cursor positions kept for resends (twice
                            libraft's default window) */
#define KEY_STAGE_LEN REGION__KEY_LOG_LEN /* 01 'P' region(8) seq(8) */
/* A snapshot counted off the loop is kept this long for libraft to ask
 * for it again (at the follower's next contact), sent or not. */
#define SNAP_UNASKED_NS (10ull * 1000000000u)
/* Blocks a read job reads ahead off the loop (a batch; a sender holds at
 * most two, one of them being read). */
#define READ_BLOCKS 2

/* ---------------------------------------------------------------------
 * Memory the snapshot code holds (stats.snap_mem), and CRC-32C.
 */
static void held(struct region_store *s, size_t add, size_t sub)
{
    s->stats.snap_mem += add;
    assert(s->stats.snap_mem >= sub);
    s->stats.snap_mem -= sub;
    if (s->stats.snap_mem > s->stats.snap_mem_peak)
        s->stats.snap_mem_peak = s->stats.snap_mem;
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_hw; /* the CPU's own CRC-32C instruction (SSE 4.2) */

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as in iSCSI
 * (RFC 3720, appendix B.4) and RocksDB's block checksums. */
static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t region__crc32c_portable(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
/* The same with the instruction, 8 bytes at a time: about six times the
 * table's speed here (a 1 MiB chunk is checked on the receiver's loop). */
__attribute__((target("sse4.2"))) static uint32_t crc_add_hw(uint32_t crc,
                                                             const uint8_t *p,
                                                             size_t n)
{
    uint64_t c = crc;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
    }
    uint32_t c32 = (uint32_t)c;
    for (; n > 0; p++, n--)
        c32 = __builtin_ia32_crc32qi(c32, *p);
    return c32;
}
#endif

uint32_t region__crc32c(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
    if (crc_hw)
        return crc_add_hw(crc, data, n);
#endif
    return region__crc32c_portable(crc, data, n);
}

/* The checksum of a block: bound to its snapshot and position, so a
 * block of another snapshot or from elsewhere in this one fails it. */
uint32_t region__snap_block_crc(raft_index index, raft_term term,
                                uint64_t total, uint64_t offset,
                                const uint8_t *payload, size_t n)
{
    uint8_t pre[32];
    region__put_u64(pre, index);
    region__put_u64(pre + 8, term);
    region__put_u64(pre + 16, total);
    region__put_u64(pre + 24, offset);
    uint32_t crc = region__crc32c(0xffffffffu, pre, sizeof pre);
    return region__crc32c(crc, payload, n) ^ 0xffffffffu;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---------------------------------------------------------------------
 * The region's engine ranges.
 */
static uint8_t *bound(uint8_t prefix, const uint8_t *k, size_t len, bool enc,
                      bool upper, size_t *out_len)
{
    if (len == 0 && upper) { /* unbounded: the end of the prefix */
        uint8_t *b = region__malloc(1);
        if (b)
            b[0] = (uint8_t)(prefix + 1);
        *out_len = 1;
        return b;
    }
    if (len == 0) {
        uint8_t *b = region__malloc(1);
        if (b)
            b[0] = prefix;
        *out_len = 1;
        return b;
    }
    size_t n = enc ? mvcc_key_encoded_len(len) : len;
    uint8_t *b = region__malloc(n + 1);
    if (b == NULL)
        return NULL;
    b[0] = prefix;
    if (enc)
        mvcc_key_encode(k, len, b + 1);
    else
        memcpy(b + 1, k, len);
    *out_len = n + 1;
    return b;
}

int region__ranges(const struct region_desc *d,
                   struct region_range r[REGION__N_RANGES])
{
    memset(r, 0, sizeof(struct region_range) * REGION__N_RANGES);
    for (int i = 0; i < REGION__N_RANGES; i++) {
        bool raw = i == 0 || i == REGION__RANGE_TTL;
        uint8_t prefix = raw ? REGION__RAW : REGION__TXN;
        r[i].cf = i == REGION__RANGE_TTL ? MVCC_CF_LOCK
                  : raw                  ? MVCC_CF_DEFAULT
                                         : i - 1;
        r[i].lo = bound(prefix, d->start, d->start_len, !raw, false,
                        &r[i].lo_len);
        r[i].hi = bound(prefix, d->end, d->end_len, !raw, true, &r[i].hi_len);
        if (r[i].lo == NULL || r[i].hi == NULL) {
            region__ranges_free(r);
            return -ENOMEM;
        }
    }
    return 0;
}

void region__ranges_free(struct region_range r[REGION__N_RANGES])
{
    for (int i = 0; i < REGION__N_RANGES; i++) {
        region__free(r[i].lo);
        region__free(r[i].hi);
        r[i].lo = r[i].hi = NULL;
    }
}

/* One pass over d's engine ranges (region.h), stopping after cap engine
 * entries or once byte_cap bytes were counted (0: no cap; either sets
 * out->capped). A transactional user key is counted at its first write
 * record: CF write keys are 'z' enc(user key) ~commit_ts(8), versions of
 * one key adjacent. The engine is read without s->mu (it is
 * thread-safe). */
int region__size(struct region_store *s, const struct region_desc *d,
                 uint64_t cap, uint64_t byte_cap, struct region_size *out)
{
    struct region_range r[REGION__N_RANGES];
    memset(out, 0, sizeof *out);
    int rc = region__ranges(d, r);
    if (rc != 0)
        return rc;
    uint64_t seen = 0;
    for (int i = 0; rc == 0 && i < REGION__N_RANGES && !out->capped; i++) {
        bool raw = i == 0, write = i != 0 && r[i].cf == MVCC_CF_WRITE;
        struct mvcc_iter_opts io = {r[i].lo, r[i].lo_len, r[i].hi,
                                    r[i].hi_len};
        struct mvcc_iter *it = NULL;
        rc = mvcc_engine_iter(s->opts.engine, NULL, r[i].cf, &io, &it);
        if (rc != 0)
            break;
        uint8_t prev[REGION_MAX_BOUND + 64];
        size_t prev_len = SIZE_MAX; /* none yet */
        rc = it->ops->seek_to_first(it);
        while (rc == 0 && it->ops->valid(it)) {
            if ((cap != 0 && seen == cap) ||
                (byte_cap != 0 && out->bytes >= byte_cap)) {
                out->capped = true;
                break;
            }
            size_t kl, vl;
            const uint8_t *k = it->ops->key(it, &kl);
            it->ops->value(it, &vl);
            out->bytes += kl + vl;
            seen++;
            if (raw) {
                out->keys++;
            } else if (write && kl > 8) {
                size_t ul = kl - 8; /* without ~commit_ts */
                if (ul != prev_len || memcmp(prev, k, ul) != 0)
                    out->keys++;
                prev_len = ul <= sizeof prev ? ul : SIZE_MAX;
                if (ul <= sizeof prev)
                    memcpy(prev, k, ul);
            }
            rc = it->ops->next(it);
        }
        mvcc_iter_destroy(it);
    }
    region__ranges_free(r);
    return rc;
}

/* The range is the one applied when the pass began. */
int region_store_region_size(struct region_store *s, uint64_t region_id,
                             uint64_t cap, struct region_size *out)
{
    struct region_desc d;
    memset(out, 0, sizeof *out);
    int rc = region_store_region(s, region_id, &d, NULL);
    return rc != 0 ? rc : region__size(s, &d, cap, 0, out);
}

void region__size_keep(struct region_peer *p,
                       const struct region_size *sz,
                       uint64_t ver,
                       uint64_t gen,
                       uint64_t applied)
{
    if (p->desc.version != ver || p->data_gen != gen)
        return; /* counted data that is not there any more */
    p->size = *sz;
    p->size_kept = true;
    p->size_ver = ver;
    p->size_gen = gen;
    p->size_applied = applied;
}

int region_store_region_size_kept(struct region_store *s,
                                  uint64_t region_id,
                                  uint64_t cap,
                                  struct region_size *out,
                                  bool *counted)
{
    memset(out, 0, sizeof *out);
    if (counted)
        *counted = false;
    pthread_mutex_lock(&s->mu);
    struct region_peer *p = region__find_peer(s, region_id);
    if (p == NULL) {
        pthread_mutex_unlock(&s->mu);
        return REGION_ENOT_FOUND;
    }
    /* a small region is counted again after any write (its keys exact:
     * counting it is cheap); a big one after a quarter of it */
    uint64_t since = p->applied_bytes - p->size_applied;
    bool fresh = since == 0 || (p->size.bytes >= REGION_SIZE_KEEP_MIN &&
                                since <= p->size.bytes / 4);
    if (p->size_kept && p->size_ver == p->desc.version &&
        p->size_gen == p->data_gen && fresh) {
        *out = p->size;
        out->bytes += since;
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    struct region_desc d = p->desc;
    uint64_t gen = p->data_gen, applied = p->applied_bytes;
    pthread_mutex_unlock(&s->mu);
    int rc = region__size(s, &d, cap, 0, out); /* not under mu */
    if (rc != 0)
        return rc;
    if (counted)
        *counted = true;
    pthread_mutex_lock(&s->mu);
    p = region__find_peer(s, region_id);
    if (p) /* the peer seen first may be gone: found again */
        region__size_keep(p, out, d.version, gen, applied);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

int region_store_split_key(struct region_store *s, uint64_t region_id,
                           uint8_t *key, size_t *key_len)
{
    struct region_desc d;
    *key_len = 0;
    int rc = region_store_region(s, region_id, &d, NULL);
    return rc != 0 ? rc : region__split_point(s, &d, key, key_len);
}

/* Whether engine key k of CF cf lies in one of ranges r. */
static bool in_ranges(const struct region_range r[REGION__N_RANGES], int cf,
                      const uint8_t *k, size_t kl)
{
    for (int i = 0; i < REGION__N_RANGES; i++)
        if (r[i].cf == cf &&
            region__cmp_bytes(k, kl, r[i].lo, r[i].lo_len) >= 0 &&
            region__cmp_bytes(k, kl, r[i].hi, r[i].hi_len) < 0)
            return true;
    return false;
}

static int delete_ranges(struct mvcc_wbatch *b,
                         const struct region_range r[REGION__N_RANGES])
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < REGION__N_RANGES; i++)
        rc = mvcc_wbatch_delete_range(b, r[i].cf, r[i].lo, r[i].lo_len,
                                      r[i].hi, r[i].hi_len);
    return rc;
}

/* ---------------------------------------------------------------------
 * Sending: a snapshot read from an engine snapshot through a cursor.
 */
struct tx_ckpt {
    bool set;         /* the slot holds a position */
    uint64_t pos;     /* stream offset of the position */
    int ri;           /* range (-1: header, REGION__N_RANGES: the end) */
    uint8_t *key;     /* engine key of the record at pos (owned) */
    size_t key_len;   /* its length */
    uint64_t rec_off; /* bytes of that record (or the header) before pos */
};

/* Blocks read off the loop, ready to hand to libraft. */
struct snap_batch
{
    uint8_t *data;  /* NULL: none */
    uint64_t off;   /* snapshot offset of its first block */
    uint64_t len;   /* bytes (whole blocks) */
    uint64_t stamp; /* tx->served when last read from */
};

struct region_snap_tx {
    struct raft_snapshot snap;     /* meta and total, no data: what
                                      st_snapshot hands libraft */
    uint64_t region_id;            /* whose (a read job's finish) */
    struct mvcc_snapshot *es;      /* the engine snapshot read */
    struct region_range r[REGION__N_RANGES]; /* the region's ranges */
    struct region_buf head;        /* stream header: version, L, desc */
    uint64_t len;                  /* stream length L */
    uint32_t block;                /* block bytes (the last is shorter) */
    uint64_t pos;                  /* cursor: stream offset */
    int ri;                        /* cursor: range (-1 header, N end) */
    struct mvcc_iter *it;          /* cursor: on the record at pos */
    uint64_t rec_off;              /* cursor: bytes of it before pos */
    struct tx_ckpt ck[TX_CKPTS];   /* positions at recent block starts */
    uint32_t ck_next;              /* slot the next one takes */
    size_t mem;                    /* bytes counted in snap_mem */
    size_t want;                   /* bytes held now (mem once the loop
                                      counts them: tx_account) */
    struct snap_batch bat[2];      /* blocks read ahead (loop's) */
    uint64_t served;               /* reads served from batches */
    bool reading;                  /* a read job is out: the cursor and
                                      its checkpoints are the job's */
    bool orphan;                   /* dropped while reading: the job's
                                      finish frees it */
    int read_rc;                   /* a read job failed: the next read
                                      drops the snapshot */
    uint64_t count_ns;             /* how long counting len took */
    uint64_t done_ns;              /* mono ns it was counted */
    bool asked;                    /* libraft took it (snapshot()) */
};

static void tx_free(struct region_store *s, struct region_snap_tx *tx)
{
    if (tx == NULL)
        return;
    mvcc_iter_destroy(tx->it);
    if (tx->es)
        mvcc_engine_snapshot_release(s->opts.engine, tx->es);
    region__ranges_free(tx->r);
    region__buf_free(&tx->head);
    for (int i = 0; i < TX_CKPTS; i++)
        region__free(tx->ck[i].key);
    for (int i = 0; i < 2; i++)
        region__free(tx->bat[i].data);
    held(s, 0, tx->mem);
    region__free(tx);
}

/* Free tx, or, with a read job out on it, leave that to the job. */
static void tx_drop(struct region_store *s, struct region_snap_tx *tx)
{
    if (tx && tx->reading)
        tx->orphan = true;
    else
        tx_free(s, tx);
}

/* Count in snap_mem what tx holds now (under s->mu; the cursor's
 * checkpoints change on the checker thread too). */
static void tx_account(struct region_store *s, struct region_snap_tx *tx)
{
    held(s, tx->want, tx->mem);
    tx->mem = tx->want;
}

/* The cursor on the first record of range ri or a later one (ri =
 * REGION__N_RANGES past the last). */
static int tx_open(struct region_store *s, struct region_snap_tx *tx, int ri)
{
    mvcc_iter_destroy(tx->it);
    tx->it = NULL;
    tx->rec_off = 0;
    for (tx->ri = ri; tx->ri < REGION__N_RANGES; tx->ri++) {
        struct region_range *r = &tx->r[tx->ri];
        struct mvcc_iter_opts io = {r->lo, r->lo_len, r->hi, r->hi_len};
        int rc = mvcc_engine_iter(s->opts.engine, tx->es, r->cf, &io, &tx->it);
        if (rc != 0)
            return rc;
        rc = tx->it->ops->seek_to_first(tx->it);
        if (rc != 0)
            return rc;
        if (tx->it->ops->valid(tx->it))
            return 0;
        mvcc_iter_destroy(tx->it);
        tx->it = NULL;
    }
    return 0;
}

/* Copy n bytes of a record (cf, k, v) from byte from of its encoding. */
static void rec_copy(uint8_t cf, const uint8_t *k, size_t kl, const uint8_t *v,
                     size_t vl, uint64_t from, uint8_t *dst, size_t n)
{
    uint8_t h[REC_HDR];
    h[0] = cf;
    put_u32(h + 1, (uint32_t)kl);
    put_u32(h + 5, (uint32_t)vl);
    /* the encoding's pieces: cf and key length, key, value length, value */
    const uint8_t *piece[4] = {h, k, h + 5, v};
    size_t plen[4] = {5, kl, 4, vl};
    for (int i = 0; i < 4 && n > 0; i++) {
        if (from >= plen[i]) {
            from -= plen[i];
            continue;
        }
        size_t take = plen[i] - (size_t)from;
        if (take > n)
            take = n;
        memcpy(dst, piece[i] + from, take);
        dst += take;
        n -= take;
        from = 0;
    }
}

/* Move the cursor n bytes on, copying them to dst (NULL: skip). */
static int tx_advance(struct region_store *s, struct region_snap_tx *tx,
                      uint8_t *dst, uint64_t n)
{
    int rc = 0;
    while (rc == 0 && n > 0) {
        uint64_t size, take;
        if (tx->ri < 0) {
            size = tx->head.len;
            take = size - tx->rec_off < n ? size - tx->rec_off : n;
            if (dst)
                memcpy(dst, tx->head.data + tx->rec_off, (size_t)take);
        } else if (tx->ri < REGION__N_RANGES) {
            size_t kl, vl;
            const uint8_t *k = tx->it->ops->key(tx->it, &kl);
            const uint8_t *v = tx->it->ops->value(tx->it, &vl);
            size = REC_HDR + (uint64_t)kl + vl;
            take = size - tx->rec_off < n ? size - tx->rec_off : n;
            if (dst)
                rec_copy((uint8_t)tx->r[tx->ri].cf, k, kl, v, vl,
                         tx->rec_off, dst, (size_t)take);
        } else {
            return REGION_EINTERNAL; /* past the length counted */
        }
        tx->rec_off += take;
        tx->pos += take;
        n -= take;
        if (dst)
            dst += take;
        if (tx->rec_off < size)
            continue;
        if (tx->ri < 0) {
            rc = tx_open(s, tx, 0);
        } else {
            tx->rec_off = 0;
            rc = tx->it->ops->next(tx->it);
            if (rc == 0 && !tx->it->ops->valid(tx->it))
                rc = tx_open(s, tx, tx->ri + 1);
        }
    }
    return rc;
}

/* Remember the cursor (at a block start) for a resend from there. */
static int tx_mark(struct region_snap_tx *tx)
{
    for (int i = 0; i < TX_CKPTS; i++)
        if (tx->ck[i].set && tx->ck[i].pos == tx->pos)
            return 0;
    struct tx_ckpt *c = &tx->ck[tx->ck_next];
    size_t kl = 0;
    const uint8_t *k = NULL;
    if (tx->ri >= 0 && tx->ri < REGION__N_RANGES)
        k = tx->it->ops->key(tx->it, &kl);
    uint8_t *copy = NULL;
    if (kl > 0 && (copy = region__memdup(k, kl)) == NULL)
        return -ENOMEM;
    tx->want += kl; /* counted by the loop (tx_account): any thread */
    tx->want -= c->key_len;
    region__free(c->key);
    *c = (struct tx_ckpt){true, tx->pos, tx->ri, copy, kl, tx->rec_off};
    tx->ck_next = (tx->ck_next + 1) % TX_CKPTS;
    return 0;
}

/* Put the cursor at stream offset pos: from where it is, else from the
 * nearest remembered position before pos, else from the start. */
static int tx_seek(struct region_store *s, struct region_snap_tx *tx,
                   uint64_t pos)
{
    int rc = 0;
    if (tx->pos > pos) {
        const struct tx_ckpt *best = NULL;
        for (int i = 0; i < TX_CKPTS; i++) {
            const struct tx_ckpt *c = &tx->ck[i];
            if (c->set && c->pos <= pos && (best == NULL || c->pos > best->pos))
                best = c;
        }
        mvcc_iter_destroy(tx->it);
        tx->it = NULL;
        if (best == NULL || best->ri < 0) {
            tx->ri = -1;
            tx->pos = best ? best->pos : 0;
            tx->rec_off = best ? best->rec_off : 0;
        } else {
            rc = tx_open(s, tx, best->ri);
            if (rc == 0 && best->ri < REGION__N_RANGES) {
                rc = tx->it->ops->seek(tx->it, best->key, best->key_len);
                size_t kl = 0;
                const uint8_t *k = NULL;
                if (rc == 0 && tx->it->ops->valid(tx->it))
                    k = tx->it->ops->key(tx->it, &kl);
                if (rc == 0 && (k == NULL || kl != best->key_len ||
                                memcmp(k, best->key, kl) != 0))
                    rc = REGION_EINTERNAL; /* the engine snapshot moved */
            }
            tx->ri = best->ri;
            tx->pos = best->pos;
            tx->rec_off = best->rec_off;
        }
    }
    if (rc == 0 && pos > tx->pos)
        rc = tx_advance(s, tx, NULL, pos - tx->pos);
    return rc;
}

/* A snapshot of p at its applied index, under s->mu: its ranges, its
 * header and an engine snapshot; its length is counted after
 * (region__snap_count), and snap_finish makes it p's snapshot to send. */
static int snap_begin(struct region_store *s,
                      struct region_peer *p,
                      struct region_snap_tx **out)
{
    struct region_snap_tx *tx = region__calloc(1, sizeof *tx);
    if (tx == NULL)
        return -ENOMEM;
    struct region_buf d = {0};
    int rc = region__ranges(&p->desc, tx->r);
    if (rc == 0)
        rc = region__encode_desc(&d, &p->desc, 0);
    region__buf_u8(&tx->head, SNAP_VERSION);
    region__buf_u64(&tx->head, 0); /* L, at finish */
    region__buf_bytes(&tx->head, d.data, d.len);
    region__buf_free(&d);
    if (rc == 0 && tx->head.oom)
        rc = -ENOMEM;
    if (rc == 0)
        rc = mvcc_engine_snapshot(s->opts.engine, &tx->es);
    raft_term term = 0;
    if (rc == 0) {
        struct raft_storage *in = raft_memstore_storage(p->ms);
        rc = in->ops->term(in, p->applied, &term);
    }
    if (rc != 0) {
        tx_free(s, tx);
        return rc;
    }
    tx->snap.meta.index = p->applied;
    tx->snap.meta.term = term;
    region__conf_of(&p->desc, &tx->snap.meta.conf);
    *out = tx;
    return 0;
}

int region__snap_count(struct region_store *s, struct region_snap_tx *tx)
{
    uint64_t t0 = region__mono_ns();
    uint64_t len = tx->head.len;
    int rc = 0;
    for (int i = 0; rc == 0 && i < REGION__N_RANGES; i++) {
        struct region_range *r = &tx->r[i];
        struct mvcc_iter_opts io = {r->lo, r->lo_len, r->hi, r->hi_len};
        struct mvcc_iter *it = NULL;
        rc = mvcc_engine_iter(s->opts.engine, tx->es, r->cf, &io, &it);
        if (rc != 0)
            break;
        rc = it->ops->seek_to_first(it);
        while (rc == 0 && it->ops->valid(it)) {
            size_t kl, vl;
            (void)it->ops->key(it, &kl);
            (void)it->ops->value(it, &vl);
            len += REC_HDR + (uint64_t)kl + vl;
            rc = it->ops->next(it);
        }
        mvcc_iter_destroy(it);
    }
    tx->len = len;
    tx->done_ns = region__mono_ns();
    tx->count_ns = tx->done_ns - t0;
    return rc;
}

/* Under s->mu: the counted tx becomes p->tx[0]; the one before stays
 * readable as tx[1] for a transfer still sending it. */
static void snap_finish(struct region_store *s,
                        struct region_peer *p,
                        struct region_snap_tx *tx)
{
    region__put_u64(tx->head.data + 1, tx->len);
    tx->block = s->opts.snap_chunk_bytes;
    uint64_t per = tx->block - BLOCK_HDR;
    uint64_t blocks = (tx->len + per - 1) / per;
    tx->snap.total = tx->len + BLOCK_HDR * blocks;
    tx->ri = -1;
    tx->region_id = p->desc.id;
    tx->want = sizeof *tx + tx->head.cap;
    for (int i = 0; i < REGION__N_RANGES; i++)
        tx->want += tx->r[i].lo_len + tx->r[i].hi_len;
    tx_account(s, tx);
    tx_drop(s, p->tx[1]);
    p->tx[1] = p->tx[0];
    p->tx[0] = tx;
    s->stats.snaps_built++;
    region__log(s, REGION_LOG_INFO,
                "region %llu: snapshot at %llu taken (%llu bytes, %llu "
                "chunks, counted in %.1f ms)",
                (unsigned long long)p->desc.id,
                (unsigned long long)tx->snap.meta.index,
                (unsigned long long)tx->snap.total, (unsigned long long)blocks,
                (double)tx->count_ns / 1e6);
}

void region__snap_counted(struct region_store *s,
                          uint64_t region_id,
                          struct region_snap_tx *tx,
                          int rc)
{
    struct region_peer *p = region__find_peer(s, region_id);
    bool awaited = p != NULL && p->tx_counting == tx; /* else the peer is
                                       gone, or its range changed */
    if (awaited)
        p->tx_counting = NULL; /* a failed count: asked again, counted
                                  again */
    if (awaited && rc == 0) {
        snap_finish(s, p, tx);
        return;
    }
    if (awaited)
        region__log(s, REGION_LOG_WARN, "region %llu: counting a snapshot: %s",
                    (unsigned long long)region_id, region_strerror(rc));
    tx_free(s, tx);
}

void region__snap_tx_free(struct region_store *s, struct region_snap_tx *tx)
{
    tx_free(s, tx);
}

/* The snapshots kept for sending go (a transfer under way starts over). */
static void drop_kept(struct region_peer *p)
{
    for (int i = 0; i < 2; i++) {
        tx_drop(p->store, p->tx[i]);
        p->tx[i] = NULL;
    }
}

void region__snap_free(struct region_peer *p)
{
    p->tx_counting = NULL; /* its job frees it when done */
    drop_kept(p);
}

/* Whether [offset, offset + len) is a run of whole blocks of tx. */
static bool whole_blocks(const struct region_snap_tx *tx,
                         uint64_t offset,
                         uint64_t len)
{
    if (offset % tx->block != 0 || offset >= tx->snap.total ||
        len > tx->snap.total - offset)
        return false;
    uint64_t end = offset + len;
    return end == tx->snap.total || end % tx->block == 0;
}

/* Read the blocks [offset, offset + len) of tx (whole_blocks) into out:
 * the loop's (s->mu held), or a read job's on the checker thread, which
 * then owns the cursor (it reads tx's own engine snapshot only). */
static int read_blocks(struct region_store *s,
                       struct region_snap_tx *tx,
                       uint64_t offset,
                       uint8_t *out,
                       uint64_t len)
{
    uint64_t per = tx->block - BLOCK_HDR;
    while (len > 0) {
        uint64_t lpos = offset / tx->block * per;
        uint64_t n = tx->len - lpos < per ? tx->len - lpos : per;
        int rc = tx_seek(s, tx, lpos);
        if (rc == 0)
            rc = tx_mark(tx);
        if (rc == 0)
            rc = tx_advance(s, tx, out + BLOCK_HDR, n);
        if (rc != 0)
            return rc;
        put_u32(out, region__snap_block_crc(
                         tx->snap.meta.index, tx->snap.meta.term,
                         tx->snap.total, offset, out + BLOCK_HDR, (size_t)n));
        out += BLOCK_HDR + n;
        offset += BLOCK_HDR + n;
        len -= BLOCK_HDR + n;
    }
    return 0;
}

/* A read ahead off the loop: blocks of tx read by the checker thread
 * into buf, then put in batch slot of tx (region__snap_read_done). */
struct region_snap_read
{
    struct region_snap_tx *tx;
    uint64_t off, len;
    uint8_t *buf;
    int slot;
    int rc;
};

/* The batch of tx holding [offset, offset + len), or NULL. */
static struct snap_batch *batch_with(struct region_snap_tx *tx,
                                     uint64_t offset,
                                     uint64_t len)
{
    for (int i = 0; i < 2; i++) {
        struct snap_batch *b = &tx->bat[i];
        if (b->data && offset >= b->off && offset - b->off < b->len &&
            len <= b->len - (offset - b->off))
            return b;
    }
    return NULL;
}

/* Hand the reading of tx's blocks from offset (at least len bytes,
 * READ_BLOCKS blocks if more) to the checker thread, into the batch
 * slot read from longest ago, freed now. Nothing if memory is short:
 * libraft asks again at its next tick. */
static void read_start(struct region_store *s,
                       struct region_snap_tx *tx,
                       uint64_t offset,
                       uint64_t len)
{
    uint64_t want = (uint64_t)READ_BLOCKS * tx->block;
    if (want < len)
        want = len;
    if (want > tx->snap.total - offset)
        want = tx->snap.total - offset;
    int slot = tx->bat[0].data == NULL                ? 0
               : tx->bat[1].data == NULL              ? 1
               : tx->bat[0].stamp <= tx->bat[1].stamp ? 0
                                                      : 1;
    struct snap_batch *b = &tx->bat[slot];
    region__free(b->data);
    tx->want -= b->len;
    *b = (struct snap_batch){0};
    struct region_snap_read *rd = region__calloc(1, sizeof *rd);
    uint8_t *buf = want <= SIZE_MAX ? region__malloc((size_t)want) : NULL;
    if (rd == NULL || buf == NULL) {
        region__free(rd);
        region__free(buf);
        tx_account(s, tx);
        return;
    }
    *rd = (struct region_snap_read){tx, offset, want, buf, slot, 0};
    /* all set before the job can run: the cursor is its from then on */
    tx->reading = true;
    tx->want += want;
    tx_account(s, tx);
    if (region__check_snap_read(s, rd) != 0) {
        tx->reading = false;
        tx->want -= want;
        tx_account(s, tx);
        region__free(rd);
        region__free(buf);
    }
}

void region__snap_read_run(struct region_store *s, struct region_snap_read *rd)
{
    rd->rc = read_blocks(s, rd->tx, rd->off, rd->buf, rd->len);
}

/* The job is over: its tx back to the loop (freed if dropped meanwhile). */
static bool read_over(struct region_store *s, struct region_snap_read *rd)
{
    struct region_snap_tx *tx = rd->tx;
    tx->reading = false;
    if (!tx->orphan)
        return false;
    region__free(rd->buf);
    region__free(rd);
    tx_free(s, tx);
    return true;
}

void region__snap_read_done(struct region_store *s, struct region_snap_read *rd)
{
    struct region_snap_tx *tx = rd->tx;
    if (read_over(s, rd))
        return;
    if (rd->rc == 0) {
        tx->bat[rd->slot] = (struct snap_batch){rd->buf, rd->off, rd->len, 0};
    } else {
        region__free(rd->buf);
        tx->want -= rd->len;
        tx->read_rc = rd->rc; /* the next read drops the snapshot */
    }
    tx_account(s, tx);
    region__free(rd);
    /* not orphaned: still its peer's (every drop goes through tx_drop) */
    struct region_peer *p = region__find_peer(s, tx->region_id);
    if (p != NULL && p->node != NULL) {
        (void)raft_node_snapshot_resume(p->node); /* never fails */
        region__activate(s, p);
    }
}

void region__snap_read_free(struct region_store *s, struct region_snap_read *rd)
{
    struct region_snap_tx *tx = rd->tx;
    if (read_over(s, rd))
        return;
    region__free(rd->buf);
    tx->want -= rd->len;
    region__free(rd);
}

/* libraft's snapshot_read. With the checker thread, blocks come from the
 * batches it read ahead: one missing is RAFT_ESNAPTEMP and a job to read
 * it, whose finish resumes the transfer; a batch being read from starts
 * the next one. Without it, read here. */
static int st_read(struct raft_storage *st,
                   raft_index index,
                   uint64_t offset,
                   void *buf,
                   uint64_t len)
{
    struct region_peer *p = (struct region_peer *)st;
    struct region_store *s = p->store;
    struct region_snap_tx *tx = NULL;
    for (int i = 0; i < 2; i++)
        if (p->tx[i] && p->tx[i]->snap.meta.index == index)
            tx = p->tx[i];
    if (tx == NULL)
        return RAFT_ESNAPOLD;
    if (!whole_blocks(tx, offset, len))
        return RAFT_EINVAL; /* chunks are blocks (snapshot_chunk_bytes) */
    int rc = tx->read_rc;
    if (rc == 0 && !s->checker_on) {
        rc = read_blocks(s, tx, offset, buf, len);
        tx_account(s, tx);
    } else if (rc == 0) {
        struct snap_batch *b = batch_with(tx, offset, len);
        if (b == NULL) {
            if (!tx->reading)
                read_start(s, tx, offset, len);
            return RAFT_ESNAPTEMP;
        }
        memcpy(buf, b->data + (offset - b->off), (size_t)len);
        b->stamp = ++tx->served;
        uint64_t next = b->off + b->len;
        if (next < tx->snap.total && !tx->reading &&
            batch_with(tx, next, 1) == NULL)
            read_start(s, tx, next, 0);
    }
    if (rc != 0) {
        region__log(s, REGION_LOG_WARN,
                    "region %llu: snapshot read at %llu: %s",
                    (unsigned long long)p->desc.id, (unsigned long long)offset,
                    region_strerror(rc));
        /* its cursor is lost: the transfer starts over with a new one */
        region__snap_free(p);
        return RAFT_ESNAPOLD;
    }
    s->stats.snap_chunks_sent += (len + tx->block - 1) / tx->block;
    return 0;
}

/* ---------------------------------------------------------------------
 * The node's storage: the memstore's, with snapshots from the engine.
 */
static struct raft_storage *inner(struct raft_storage *st)
{
    struct region_peer *p = (struct region_peer *)st;
    return raft_memstore_storage(p->ms);
}

static int st_initial(struct raft_storage *st, struct raft_hard_state *hs,
                      struct raft_conf_state *cs)
{
    struct raft_storage *in = inner(st);
    return in->ops->initial_state(in, hs, cs);
}

static int st_entries(struct raft_storage *st, raft_index lo, raft_index hi,
                      uint64_t max_bytes, const struct raft_entry **ents,
                      size_t *n)
{
    struct raft_storage *in = inner(st);
    return in->ops->entries(in, lo, hi, max_bytes, ents, n);
}

static int st_term(struct raft_storage *st, raft_index i, raft_term *t)
{
    struct raft_storage *in = inner(st);
    return in->ops->term(in, i, t);
}

static int st_first(struct raft_storage *st, raft_index *i)
{
    struct raft_storage *in = inner(st);
    return in->ops->first_index(in, i);
}

static int st_last(struct raft_storage *st, raft_index *i)
{
    struct raft_storage *in = inner(st);
    return in->ops->last_index(in, i);
}

static int st_snapshot(struct raft_storage *st,
                       const struct raft_snapshot **snap)
{
    struct region_peer *p = (struct region_peer *)st;
    if (p->merge_target) /* the mark is not in a snapshot: none while */
        return RAFT_ESNAPTEMP; /* merging (DESIGN "Merge") */
    /* always one with data: the memstore's holds none (bootstrap or a
     * compaction point), and a peer created by a message has nothing */
    if (p->tx[0] == NULL || p->tx[0]->snap.meta.index < p->compacted) {
        /* Counting its length reads the whole region: on the checker
         * thread, not under the store's lock (DESIGN "Snapshots"); the
         * next contact with the follower asks again */
        if (p->tx_counting != NULL)
            return RAFT_ESNAPTEMP;
        struct region_store *s = p->store;
        struct region_snap_tx *tx = NULL;
        if (snap_begin(s, p, &tx) != 0)
            return RAFT_ESNAPTEMP; /* try again later */
        if (region__check_snap(s, p, tx) == 0) {
            p->tx_counting = tx;
            return RAFT_ESNAPTEMP;
        }
        if (region__snap_count(s, tx) != 0) { /* no thread: inline */
            tx_free(s, tx);
            return RAFT_ESNAPTEMP;
        }
        snap_finish(s, p, tx);
    }
    p->tx[0]->asked = true;
    *snap = &p->tx[0]->snap;
    return 0;
}

static const struct raft_storage_ops storage_ops = {
    .initial_state = st_initial,
    .entries = st_entries,
    .term = st_term,
    .first_index = st_first,
    .last_index = st_last,
    .snapshot = st_snapshot,
    .snapshot_read = st_read,
};

void region__storage_init(struct region_peer *p)
{
    p->stor.ops = &storage_ops;
}

/* ---------------------------------------------------------------------
 * Receiving: chunks checked on arrival, parsed and staged in order.
 */
struct region_snap_rx {
    raft_index index;         /* snapshot being received */
    raft_term term;           /* its term */
    uint64_t total;           /* its size */
    uint64_t got;             /* bytes of it taken, in order */
    uint64_t seq;             /* next staging key */
    bool bad;                 /* refused: it will not be installed */
    char why[96];             /* what was wrong */
    bool have_desc;           /* the header was read */
    struct region_desc desc;  /* the region it holds */
    struct region_range r[REGION__N_RANGES]; /* desc's ranges */
    uint64_t len;             /* stream length L (the header's) */
    uint64_t pos;             /* stream bytes parsed */
    struct region_buf carry;  /* a header or record cut by a chunk end */
    size_t mem;               /* bytes counted in snap_mem */
};

/* A log key's layout, of another kind. */
static void stage_key(uint8_t out[KEY_STAGE_LEN], uint64_t region,
                      uint64_t seq)
{
    region__key_log(out, region, seq);
    out[1] = 'P';
}

static void rx_free(struct region_store *s, struct region_snap_rx *rx)
{
    if (rx == NULL)
        return;
    region__ranges_free(rx->r);
    region__buf_free(&rx->carry);
    held(s, 0, rx->mem);
    region__free(rx);
}

void region__snap_destroy(struct region_peer *p)
{
    region__snap_free(p);
    rx_free(p->store, p->rx);
    rx_free(p->store, p->chk);
    p->rx = p->chk = NULL;
}

/* Add to b the deletion of region's staged chunks. */
static int unstage(struct mvcc_wbatch *b, uint64_t region)
{
    uint8_t lo[KEY_STAGE_LEN], hi[KEY_STAGE_LEN];
    stage_key(lo, region, 0);
    stage_key(hi, region + 1, 0);
    return mvcc_wbatch_delete_range(b, MVCC_CF_DEFAULT, lo, sizeof lo, hi,
                                    sizeof hi);
}

/* The region state in a first chunk's header (0), or REGION_EDECODE. */
static int head_desc(const uint8_t *p, size_t n, uint64_t *len,
                     struct region_desc *d)
{
    if (n < STREAM_HDR || p[0] != SNAP_VERSION)
        return REGION_EDECODE;
    uint32_t dl = get_u32(p + 9);
    uint8_t state;
    if (dl > n - STREAM_HDR ||
        region__decode_desc(p + STREAM_HDR, dl, d, &state) != 0 || state != 0)
        return REGION_EDECODE;
    *len = region__get_u64(p + 1);
    return *len < STREAM_HDR + (uint64_t)dl ? REGION_EDECODE : 0;
}

int region__snap_chunk_desc(const struct raft_snapshot *c,
                            struct region_desc *d)
{
    uint64_t len;
    if (c == NULL || c->offset != 0 || c->len <= BLOCK_HDR || c->data == NULL)
        return REGION_EDECODE;
    return head_desc((const uint8_t *)c->data + BLOCK_HDR,
                     (size_t)c->len - BLOCK_HDR, &len, d);
}

/* Whether chunk c (of region) holds what its checksum says; why gets
 * the reason when not. */
static bool chunk_sound(uint64_t region, const struct raft_snapshot *c,
                        const char **why)
{
    if (c->len <= BLOCK_HDR || c->data == NULL) {
        *why = "shorter than a block";
        return false;
    }
    const uint8_t *b = c->data;
    size_t n = (size_t)c->len - BLOCK_HDR;
    if (get_u32(b) != region__snap_block_crc(c->meta.index, c->meta.term,
                                             c->total, c->offset,
                                             b + BLOCK_HDR, n)) {
        *why = "checksum mismatch";
        return false;
    }
    if (c->offset == 0) {
        struct region_desc d;
        uint64_t len;
        if (head_desc(b + BLOCK_HDR, n, &len, &d) != 0) {
            *why = "malformed header";
            return false;
        }
        if (d.id != region || len > c->total) {
            *why = "header names another region or size";
            return false;
        }
    }
    return true;
}

bool region__snap_chunk_ok(struct region_store *s, uint64_t region_id,
                           const struct raft_message *m, uint64_t from)
{
    const char *why = NULL;
    if (m->snapshot == NULL || chunk_sound(region_id, m->snapshot, &why))
        return true;
    s->stats.snap_chunks_refused++;
    region__log(s, REGION_LOG_WARN,
                "region %llu: snapshot chunk at %llu of %llu (index %llu) "
                "from store %llu refused: %s",
                (unsigned long long)region_id,
                (unsigned long long)m->snapshot->offset,
                (unsigned long long)m->snapshot->total,
                (unsigned long long)m->snapshot->meta.index,
                (unsigned long long)from, why);
    return false;
}

static void rx_refuse(struct region_store *s, struct region_peer *p,
                      struct region_snap_rx *rx, const char *why)
{
    if (!rx->bad)
        region__log(s, REGION_LOG_ERROR,
                    "region %llu: snapshot at %llu refused: %s",
                    (unsigned long long)p->desc.id,
                    (unsigned long long)rx->index, why);
    rx->bad = true;
    snprintf(rx->why, sizeof rx->why, "%s", why);
}

/* Size of the unit (header or record) at p, of which have bytes are
 * known: 1 with *size its length, 0 with *size the bytes needed to tell
 * it, -1 when it cannot be (past the stream's end). */
static int unit_size(const struct region_snap_rx *rx, const uint8_t *p,
                     size_t have, uint64_t *size)
{
    if (!rx->have_desc) {
        if (have < STREAM_HDR) {
            *size = STREAM_HDR;
            return 0;
        }
        *size = STREAM_HDR + (uint64_t)get_u32(p + 9);
        return *size > rx->total ? -1 : 1;
    }
    if (have < 5) {
        *size = 5;
        return 0;
    }
    uint64_t kl = get_u32(p + 1);
    if (kl + REC_HDR > rx->len - rx->pos)
        return -1;
    if (have < REC_HDR + kl) {
        *size = REC_HDR + kl;
        return 0;
    }
    *size = REC_HDR + kl + get_u32(p + 5 + kl);
    return *size > rx->len - rx->pos ? -1 : 1;
}

/* One whole unit: the header read, or a record checked and added to out
 * (the records of this chunk; NULL: checked only). */
static const char *unit_take(struct region_snap_rx *rx, uint64_t region,
                             const uint8_t *p, size_t n,
                             struct region_buf *out)
{
    if (!rx->have_desc) {
        if (head_desc(p, n, &rx->len, &rx->desc) != 0)
            return "malformed header";
        if (rx->desc.id != region || rx->len > rx->total)
            return "header names another region or size";
        if (region__ranges(&rx->desc, rx->r) != 0)
            return "out of memory";
        rx->have_desc = true;
        rx->pos = n;
        return NULL;
    }
    size_t kl = get_u32(p + 1);
    if (p[0] >= MVCC_CF_COUNT || !in_ranges(rx->r, p[0], p + 5, kl))
        return "record outside the region";
    if (out)
        region__buf_put(out, p, n);
    rx->pos += n;
    return NULL;
}

/* Parse n stream bytes: whole records go to out, a cut one to carry. */
static const char *rx_feed(struct region_store *s, struct region_snap_rx *rx,
                           uint64_t region, const uint8_t *b, size_t n,
                           struct region_buf *out)
{
    const char *why = NULL;
    while (n > 0 && why == NULL) {
        uint64_t size = 0;
        int k;
        if (rx->carry.len == 0) {
            k = unit_size(rx, b, n, &size);
            if (k == 1 && size <= n) {
                why = unit_take(rx, region, b, (size_t)size, out);
                b += size;
                n -= (size_t)size;
                continue;
            }
        } else {
            k = unit_size(rx, rx->carry.data, rx->carry.len, &size);
        }
        if (k < 0)
            return "record past the end of the stream";
        /* cut by the chunk's end: carried until whole (size is more than
         * the carry holds: the unit's length, or what tells it) */
        size_t take = n;
        if (rx->carry.len > 0 && size - rx->carry.len < n)
            take = (size_t)(size - rx->carry.len);
        size_t cap0 = rx->carry.cap;
        region__buf_put(&rx->carry, b, take);
        if (rx->carry.oom)
            return "out of memory";
        held(s, rx->carry.cap - cap0, 0);
        rx->mem += rx->carry.cap - cap0;
        b += take;
        n -= take;
        k = unit_size(rx, rx->carry.data, rx->carry.len, &size);
        if (k < 0)
            return "record past the end of the stream";
        if (k == 1 && size == rx->carry.len) {
            why = unit_take(rx, region, rx->carry.data, rx->carry.len, out);
            held(s, 0, rx->carry.cap);
            rx->mem -= rx->carry.cap;
            region__buf_free(&rx->carry);
        }
    }
    return why;
}

static struct region_snap_rx *rx_new(struct region_store *s,
                                     const struct raft_snapshot *c)
{
    struct region_snap_rx *rx = region__calloc(1, sizeof *rx);
    if (rx == NULL)
        return NULL;
    rx->index = c->meta.index;
    rx->term = c->meta.term;
    rx->total = c->total;
    rx->mem = sizeof *rx;
    held(s, rx->mem, 0);
    return rx;
}

/* Whether a stream checked up to got of total ends where its header
 * says. */
static bool rx_ends_right(const struct region_snap_rx *rx)
{
    return rx->got < rx->total ||
           (rx->have_desc && rx->pos == rx->len && rx->carry.len == 0);
}

bool region__snap_chunk_in_order(struct region_store *s,
                                 struct region_peer *p,
                                 const struct raft_message *m, uint64_t from)
{
    const struct raft_snapshot *c = m->snapshot;
    struct region_snap_rx *k = p->chk;
    if (c == NULL || (p->initialized && c->meta.index <= p->applied))
        return true; /* libraft refuses it, or ignores it (applied) */
    bool same = k != NULL && k->index == c->meta.index &&
                k->term == c->meta.term && k->total == c->total;
    if (!same && c->offset != 0)
        return false; /* a transfer met in its middle (a restart): the
                         leader gives up on it and starts over */
    if (!same && p->snap_whole)
        return false; /* one received whole waits for its ready (libraft
                         would not take this one's chunks meanwhile) */
    if (!same) {
        rx_free(s, k);
        p->chk = k = rx_new(s, c);
        if (k == NULL)
            return false;
    }
    if (c->offset < k->got)
        return true; /* checked already: the same bytes again */
    if (c->offset > k->got || k->bad)
        return false; /* early (sent again in order), or refused */
    const char *why =
        rx_feed(s, k, p->desc.id, (const uint8_t *)c->data + BLOCK_HDR,
                (size_t)c->len - BLOCK_HDR, NULL);
    k->got += c->len;
    if (why == NULL && !rx_ends_right(k))
        why = "stream length does not match its header";
    if (why == NULL) {
        if (k->got == k->total)
            p->snap_whole = true; /* its range is claimed from now on */
        return true;
    }
    k->bad = true; /* for good: this snapshot's bytes are what they are */
    s->stats.snap_chunks_refused++;
    region__log(s, REGION_LOG_WARN,
                "region %llu: snapshot chunk at %llu of %llu (index %llu) "
                "from store %llu refused: %s",
                (unsigned long long)p->desc.id,
                (unsigned long long)c->offset, (unsigned long long)c->total,
                (unsigned long long)c->meta.index, (unsigned long long)from,
                why);
    return false;
}

bool region__snap_chunk_last(const struct region_peer *p,
                             const struct raft_snapshot *c,
                             struct region_desc *d)
{
    const struct region_snap_rx *k = p->chk;
    if (c == NULL || k == NULL || k->bad || !k->have_desc || c->offset == 0 ||
        k->index != c->meta.index || k->term != c->meta.term ||
        k->total != c->total || c->offset != k->got ||
        c->len != k->total - k->got)
        return false;
    *d = k->desc;
    return true;
}

const char *region__snap_stream_check(struct region_store *s,
                                      uint64_t region,
                                      const uint8_t *b,
                                      size_t n,
                                      size_t cut)
{
    if (cut == 0)
        return "no chunk size";
    uint64_t blocks = n == 0 ? 1 : (n + cut - 1) / cut;
    struct raft_snapshot c = {.total = n + BLOCK_HDR * blocks};
    struct region_snap_rx *rx = rx_new(s, &c);
    if (rx == NULL)
        return "out of memory";
    const char *why = NULL;
    for (size_t off = 0; off < n && why == NULL;) {
        size_t piece = n - off < cut ? n - off : cut;
        why = rx_feed(s, rx, region, b + off, piece, NULL);
        rx->got += BLOCK_HDR + piece;
        off += piece;
    }
    if (n == 0)
        rx->got = rx->total;
    if (why == NULL && !rx_ends_right(rx))
        why = "stream length does not match its header";
    rx_free(s, rx);
    return why;
}

/* Write *b (region id's staged chunks and their deletions, holding
 * bytes counted in snap_mem) on the checker thread, or here without one
 * (DESIGN "Staging off the loop"). *b is then empty, or a new batch
 * (NULL: -ENOMEM). */
static int stage_write(struct region_store *s,
                       uint64_t id,
                       struct mvcc_wbatch **b,
                       size_t bytes)
{
    if (mvcc_wbatch_count(*b) == 0)
        return 0;
    if (region__check_stage(s, id, *b, bytes) == 0) {
        *b = NULL;
        return mvcc_wbatch_create(b);
    }
    int rc = mvcc_engine_write(s->opts.engine, *b, false);
    mvcc_wbatch_clear(*b);
    held(s, 0, bytes);
    return rc;
}

void region__snap_staged(struct region_store *s,
                         uint64_t region_id,
                         size_t bytes,
                         int rc)
{
    held(s, 0, bytes);
    if (rc != 0)
        region__log(s, REGION_LOG_ERROR,
                    "region %llu: staging snapshot chunks failed: %s",
                    (unsigned long long)region_id, region_strerror(rc));
}

int region__snapshot_chunks(struct region_store *s, struct region_peer *p,
                            const struct raft_ready *rd)
{
    if (rd->n_snapshot_chunks == 0)
        return 0;
    uint64_t id = p->desc.id;
    struct mvcc_wbatch *b = NULL;
    int rc = mvcc_wbatch_create(&b);
    for (size_t i = 0; rc == 0 && i < rd->n_snapshot_chunks; i++) {
        const struct raft_snapshot *c = &rd->snapshot_chunks[i];
        struct region_snap_rx *rx = p->rx;
        bool was_bad = rx != NULL && rx->bad;
        if (c->offset == 0 || rx == NULL) { /* a new one: the last goes */
            rx_free(s, rx);
            p->rx = rx = rx_new(s, c);
            if (rx == NULL) {
                rc = -ENOMEM;
                break;
            }
            rc = unstage(b, id);
            was_bad = false;
            if (c->offset != 0) /* libraft hands chunks in order */
                rx_refuse(s, p, rx, "chunks out of order");
        } else if (rx->index != c->meta.index || rx->term != c->meta.term ||
                   rx->total != c->total || rx->got != c->offset) {
            rx_refuse(s, p, rx, "chunks out of order");
        }
        const char *why = NULL;
        size_t staged = 0;
        struct region_buf out = {0};
        if (rc == 0 && !rx->bad && !chunk_sound(id, c, &why))
            rx_refuse(s, p, rx, why);
        if (rc == 0 && !rx->bad) {
            /* room for every whole record this chunk can make, at once:
             * its payload and what the carry holds */
            out.cap = (size_t)c->len + rx->carry.len;
            out.data = region__malloc(out.cap);
            out.oom = out.data == NULL;
            why = rx_feed(s, rx, id, (const uint8_t *)c->data + BLOCK_HDR,
                          (size_t)c->len - BLOCK_HDR, &out);
            held(s, out.cap, 0);
            if (why == NULL && out.oom)
                why = "out of memory";
            if (why != NULL) {
                rx_refuse(s, p, rx, why);
            } else if (out.len > 0) {
                uint8_t k[KEY_STAGE_LEN];
                stage_key(k, id, rx->seq++);
                rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, sizeof k, out.data,
                                     out.len);
                staged = out.len; /* the batch's copy */
                held(s, staged, 0);
            }
            held(s, 0, out.cap);
            region__buf_free(&out);
        }
        rx->got += c->len;
        s->stats.snap_chunks_received++;
        if (rc == 0 && !rx->bad && !rx_ends_right(rx))
            rx_refuse(s, p, rx, "stream length does not match its header");
        if (rc == 0 && rx->bad && !was_bad)
            rc = unstage(b, id); /* it will not be installed */
        /* one chunk at a time, so a few chunks are held at most */
        if (rc == 0)
            rc = stage_write(s, id, &b, staged);
        else
            held(s, 0, staged);
    }
    /* complete, yet no snapshot in the ready: libraft did not restore it
     * (its log already had the index, or it was committed meanwhile) */
    if (rc == 0 && p->rx && p->rx->got == p->rx->total && !rd->snapshot) {
        rc = unstage(b, id);
        if (rc == 0)
            rc = stage_write(s, id, &b, 0);
        rx_free(s, p->rx);
        rx_free(s, p->chk);
        p->rx = p->chk = NULL;
    }
    mvcc_wbatch_destroy(b);
    return rc;
}

/* ---------------------------------------------------------------------
 * Installing: the marker, the staged records in bounded batches, then
 * the Raft state. A restart between the marker and the end completes it
 * (region__snap_recover): old data or new, never a mix.
 */
static void marker_key(uint8_t out[REGION__KEY_META_LEN], uint64_t region)
{
    region__key_meta(out, 'N', region);
}

/* Move region's staged records into place, one staged chunk per engine
 * write (each also deletes what it moved, so a restart goes on from
 * where it stopped). b is empty and left so. */
static int unstage_into_place(struct region_store *s,
                              struct mvcc_wbatch *b,
                              uint64_t region,
                              size_t *most)
{
    uint8_t lo[KEY_STAGE_LEN], hi[KEY_STAGE_LEN];
    stage_key(lo, region, 0);
    stage_key(hi, region + 1, 0);
    struct mvcc_iter_opts io = {lo, sizeof lo, hi, sizeof hi};
    struct mvcc_iter *it = NULL;
    int rc = mvcc_engine_iter(s->opts.engine, NULL, MVCC_CF_DEFAULT, &io, &it);
    if (rc == 0)
        rc = it->ops->seek_to_first(it);
    while (rc == 0 && it->ops->valid(it)) {
        size_t kl, vl;
        const uint8_t *k = it->ops->key(it, &kl);
        const uint8_t *v = it->ops->value(it, &vl);
        struct region_rd rd = {v, vl, false};
        while (rc == 0 && rd.left > 0) {
            uint8_t cf = region__rd_u8(&rd);
            size_t rkl, rvl;
            const uint8_t *rk = region__rd_bytes(&rd, &rkl);
            const uint8_t *rv = region__rd_bytes(&rd, &rvl);
            if (rd.bad || cf >= MVCC_CF_COUNT)
                rc = REGION_EDECODE; /* checked when staged: the disk's */
            else
                rc = mvcc_wbatch_put(b, cf, rk, rkl, rv, rvl);
        }
        if (rc == 0)
            rc = mvcc_wbatch_delete(b, MVCC_CF_DEFAULT, k, kl);
        if (vl > *most)
            *most = vl; /* held while its batch is written */
        if (rc == 0)
            rc = mvcc_engine_write(s->opts.engine, b, false);
        mvcc_wbatch_clear(b);
        if (rc == 0)
            rc = it->ops->next(it);
    }
    mvcc_iter_destroy(it);
    return rc;
}

/* Add to b the end of an install: the log dropped, region, apply and
 * snapshot states, the marker gone. */
static int install_tail(struct mvcc_wbatch *b, const struct region_desc *d,
                        raft_index index, raft_term term)
{
    uint8_t lo[REGION__KEY_LOG_LEN], hi[REGION__KEY_LOG_LEN];
    region__key_log(lo, d->id, 0);
    region__key_log(hi, d->id + 1, 0);
    int rc = mvcc_wbatch_delete_range(b, REGION__CF_LOG, lo, sizeof lo, hi,
                                      sizeof hi);
    uint8_t k[REGION__KEY_META_LEN], v[16];
    if (rc == 0)
        rc = region__put_region_state(b, d);
    region__key_meta(k, 'A', d->id);
    region__put_u64(v, index);
    if (rc == 0)
        rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, sizeof k, v, 8);
    region__key_meta(k, 'S', d->id);
    region__put_u64(v + 8, term);
    if (rc == 0)
        rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, sizeof k, v, 16);
    marker_key(k, d->id);
    if (rc == 0)
        rc = mvcc_wbatch_delete(b, MVCC_CF_DEFAULT, k, sizeof k);
    return rc;
}

/* An install, from its start on the loop to its end there; the engine
 * writes between (steps 1 and 2) on any thread (region__snap_move). */
struct region_snap_inst
{
    uint64_t region_id;
    struct region_desc desc; /* the snapshot's region */
    raft_index index;        /* the snapshot's */
    raft_term term;
    struct region_range old[REGION__N_RANGES]; /* the region's, before */
    struct region_range nw[REGION__N_RANGES];  /* the snapshot's */
    struct region_buf marker;                  /* its value */
    size_t most;                               /* largest staged value */
    uint64_t ns;                               /* how long the move took */
    int rc;                                    /* how it went */
};

const char *region__snap_claim(const struct region_peer *q,
                               struct region_desc *d)
{
    if (q->inst != NULL) {
        *d = q->inst->desc;
        return "being installed";
    }
    if (q->snap_whole && q->chk != NULL && q->chk->have_desc) {
        *d = q->chk->desc;
        return "received whole";
    }
    return NULL;
}

void region__snap_inst_free(struct region_snap_inst *in)
{
    if (in == NULL)
        return;
    region__ranges_free(in->old);
    region__ranges_free(in->nw);
    region__buf_free(&in->marker);
    region__free(in);
}

int region__snap_install_begin(struct region_store *s,
                               struct region_peer *p,
                               const struct raft_snapshot *snap,
                               struct region_snap_inst **out)
{
    struct region_snap_rx *rx = p->rx;
    const char *why = NULL;
    if (rx == NULL)
        why = "no chunk of it was received";
    else if (rx->bad)
        why = rx->why;
    else if (rx->index != snap->meta.index || rx->term != snap->meta.term ||
             rx->total != snap->total || rx->got != rx->total)
        why = "the chunks received are of another snapshot";
    if (why != NULL) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "region %llu: snapshot at %llu not installed: %s",
                 (unsigned long long)p->desc.id,
                 (unsigned long long)snap->meta.index, why);
        region__log(s, REGION_LOG_ERROR, "%s", s->errmsg);
        return REGION_EDECODE;
    }
    struct region_snap_inst *in = region__calloc(1, sizeof *in);
    if (in == NULL)
        return -ENOMEM;
    in->region_id = rx->desc.id;
    in->desc = rx->desc;
    in->index = snap->meta.index;
    in->term = snap->meta.term;
    /* an uninitialized peer has no range yet: nothing of its own to drop */
    int rc = region__ranges(p->initialized ? &p->desc : &rx->desc, in->old);
    if (rc == 0)
        rc = region__ranges(&rx->desc, in->nw);
    region__buf_u64(&in->marker, in->index);
    region__buf_u64(&in->marker, in->term);
    if (rc == 0)
        rc = region__encode_desc(&in->marker, &in->desc, 0);
    if (rc == 0 && in->marker.oom)
        rc = -ENOMEM;
    if (rc != 0) {
        region__snap_inst_free(in);
        return rc;
    }
    *out = in;
    return 0;
}

void region__snap_install_move(struct region_store *s,
                               struct region_snap_inst *in)
{
    /* staged chunks lost before it (a failed staging write): moving the
     * rest would install part of the snapshot, so not even the marker */
    if ((in->rc = region__check_stage_failed(s)) != 0)
        return;
    uint64_t t0 = region__mono_ns();
    struct mvcc_wbatch *b = NULL;
    int rc = mvcc_wbatch_create(&b);
    /* 1: the marker, and what the region held goes, on both its old and
     * new bounds */
    uint8_t k[REGION__KEY_META_LEN];
    marker_key(k, in->region_id);
    if (rc == 0)
        rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, sizeof k, in->marker.data,
                             in->marker.len);
    if (rc == 0)
        rc = delete_ranges(b, in->old);
    if (rc == 0)
        rc = delete_ranges(b, in->nw);
    if (rc == 0)
        rc = mvcc_engine_write(s->opts.engine, b, false);
    if (b)
        mvcc_wbatch_clear(b);
    /* 2: the records, a staged chunk per write */
    if (rc == 0)
        rc = unstage_into_place(s, b, in->region_id, &in->most);
    mvcc_wbatch_destroy(b);
    in->rc = rc;
    in->ns = region__mono_ns() - t0;
}

int region__snap_install_end(struct region_store *s,
                             struct region_peer *p,
                             struct region_snap_inst *in,
                             struct region_desc *d)
{
    int rc = in->rc;
    if (rc != 0)
        snprintf(s->errmsg, sizeof s->errmsg,
                 "region %llu: moving snapshot at %llu into place: %s",
                 (unsigned long long)in->region_id,
                 (unsigned long long)in->index, region_strerror(rc));
    held(s, in->most, 0); /* the peak: a staged chunk being moved */
    held(s, 0, in->most);
    s->stats.snap_install_ns += in->ns;
    if (in->ns > s->stats.snap_install_ns_max)
        s->stats.snap_install_ns_max = in->ns;
    *d = in->desc;
    /* 3: the Raft state, with the ready's in the loop's synced batch */
    if (rc == 0)
        rc = install_tail(s->wb, d, in->index, in->term);
    /* the lock table follows the records replaced behind libmvcc */
    if (rc == 0)
        rc = region__reload_locks(s, in->old);
    if (rc == 0)
        rc = region__reload_locks(s, in->nw);
    /* the records came from another store, swept or not: MVCC GC sweeps
     * the range again, and a sweep listed before this does not count */
    p->gc_swept = 0;
    p->gc_installs++;
    p->data_gen++; /* a kept size counted other data */
    if (rc == 0) {
        rx_free(s, p->rx);
        rx_free(s, p->chk);
        p->rx = p->chk = NULL;
    }
    region__snap_inst_free(in);
    return rc;
}

/* Complete the install a marker (value v) says was under way. */
static int recover_one(struct region_store *s, const uint8_t *v, size_t vl)
{
    struct region_rd rd = {v, vl, false};
    raft_index index = region__rd_u64(&rd);
    raft_term term = region__rd_u64(&rd);
    struct region_desc d;
    uint8_t state;
    if (rd.bad || region__decode_desc(rd.p, rd.left, &d, &state) != 0) {
        snprintf(s->errmsg, sizeof s->errmsg,
                 "malformed snapshot install marker");
        return REGION_EDECODE;
    }
    struct mvcc_wbatch *b = NULL;
    size_t most = 0;
    int rc = mvcc_wbatch_create(&b);
    if (rc == 0)
        rc = unstage_into_place(s, b, d.id, &most);
    if (rc == 0)
        rc = install_tail(b, &d, index, term);
    /* the hard state follows the snapshot: its ready's write was lost */
    uint8_t k[REGION__KEY_META_LEN], h[24];
    uint8_t *old = NULL;
    size_t ol = 0;
    region__key_meta(k, 'H', d.id);
    int g = rc == 0 ? mvcc_engine_get(s->opts.engine, NULL, REGION__CF_LOG, k,
                                      sizeof k, &old, &ol)
                    : 0;
    if (rc == 0 && g != 0 && g != MVCC_NOTFOUND)
        rc = g;
    if (rc == 0) {
        uint64_t t = 0, vote = 0, commit = 0;
        if (g == 0 && ol == 24) {
            t = region__get_u64(old);
            vote = region__get_u64(old + 8);
            commit = region__get_u64(old + 16);
        }
        if (t < term) { /* a newer term: no vote in it */
            t = term;
            vote = 0;
        }
        region__put_u64(h, t);
        region__put_u64(h + 8, vote);
        region__put_u64(h + 16, commit > index ? commit : index);
        rc = mvcc_wbatch_put(b, REGION__CF_LOG, k, sizeof k, h, sizeof h);
    }
    mvcc_free(old);
    if (rc == 0)
        rc = mvcc_engine_write(s->opts.engine, b, !s->opts.no_sync);
    mvcc_wbatch_destroy(b);
    if (rc == 0) {
        s->stats.snap_installs_resumed++;
        region__log(s, REGION_LOG_INFO,
                    "region %llu: snapshot at %llu installed (resumed after "
                    "a restart)",
                    (unsigned long long)d.id, (unsigned long long)index);
    }
    return rc;
}

/* The first key of CF default in [lo, hi), copied into out (cap bytes);
 * 0 with *n 0 when there is none. */
static int first_key(struct region_store *s, const uint8_t *lo, size_t lo_len,
                     const uint8_t *hi, size_t hi_len, uint8_t *out,
                     size_t cap, size_t *n, uint8_t **val, size_t *val_len)
{
    struct mvcc_iter_opts io = {lo, lo_len, hi, hi_len};
    struct mvcc_iter *it = NULL;
    *n = 0;
    int rc = mvcc_engine_iter(s->opts.engine, NULL, MVCC_CF_DEFAULT, &io, &it);
    if (rc == 0)
        rc = it->ops->seek_to_first(it);
    if (rc == 0 && it->ops->valid(it)) {
        size_t kl, vl;
        const uint8_t *k = it->ops->key(it, &kl);
        const uint8_t *v = it->ops->value(it, &vl);
        if (kl > cap) {
            rc = REGION_EDECODE;
        } else {
            memcpy(out, k, kl);
            *n = kl;
            if (val && (*val = region__memdup(v, vl)) == NULL)
                rc = -ENOMEM;
            if (val_len)
                *val_len = vl;
        }
    }
    mvcc_iter_destroy(it);
    return rc;
}

int region__snap_recover(struct region_store *s)
{
    int rc = 0;
    uint8_t lo[KEY_STAGE_LEN] = {REGION__LOCAL, 'N'};
    uint8_t hi[KEY_STAGE_LEN] = {REGION__LOCAL, 'N' + 1};
    uint8_t k[KEY_STAGE_LEN];
    size_t kl = 0;
    /* installs a restart interrupted: completed (each drops its marker) */
    for (;;) {
        uint8_t *v = NULL;
        size_t vl = 0;
        rc = first_key(s, lo, 2, hi, 2, k, sizeof k, &kl, &v, &vl);
        if (rc == 0 && kl > 0)
            rc = recover_one(s, v, vl);
        region__free(v);
        if (rc != 0 || kl == 0)
            break;
    }
    /* chunks of transfers a restart cut short: libraft starts over */
    lo[1] = 'P';
    hi[1] = 'P' + 1;
    size_t lo_len = 2;
    struct mvcc_wbatch *b = NULL;
    if (rc == 0)
        rc = mvcc_wbatch_create(&b);
    while (rc == 0) {
        rc = first_key(s, lo, lo_len, hi, 2, k, sizeof k, &kl, NULL, NULL);
        if (rc != 0 || kl == 0)
            break;
        if (kl != KEY_STAGE_LEN) {
            rc = REGION_EDECODE;
            break;
        }
        uint64_t region = region__get_u64(k + 2);
        rc = unstage(b, region);
        if (rc == 0)
            rc = mvcc_engine_write(s->opts.engine, b, false);
        mvcc_wbatch_clear(b);
        region__log(s, REGION_LOG_INFO,
                    "region %llu: chunks of an unfinished snapshot dropped",
                    (unsigned long long)region);
        stage_key(lo, region + 1, 0);
        lo_len = KEY_STAGE_LEN;
    }
    mvcc_wbatch_destroy(b);
    if (rc != 0 && s->errmsg[0] == 0)
        snprintf(s->errmsg, sizeof s->errmsg,
                 "snapshot recovery failed: %s", region_strerror(rc));
    return rc;
}

/* ---------------------------------------------------------------------
 * Log GC.
 */
int region__log_gc(struct region_store *s, struct region_peer *p)
{
    if (p->tx[0] || p->tx[1]) {
        /* the engine snapshot pins old data: let it go once no follower
         * is being sent one */
        struct raft_status st;
        raft_node_status(p->node, &st);
        bool sending = false;
        for (uint32_t i = 0; st.role == RAFT_LEADER && i < st.n_peers; i++)
            sending |= st.peers[i].state == RAFT_PROGRESS_SNAPSHOT;
        /* nor one counted off the loop that libraft did not ask for
         * again yet (it asks at the follower's next contact) */
        const struct region_snap_tx *t = p->tx[0];
        if (t && !t->asked && region__mono_ns() - t->done_ns < SNAP_UNASKED_NS)
            sending = true;
        if (!sending)
            drop_kept(p); /* one being counted stays */
    }
    raft_index keep = s->opts.log_keep_entries;
    if (p->applied <= p->compacted + 2 * keep)
        return 0;
    raft_index to = p->applied - keep;
    raft_term term = 0;
    struct raft_storage *in = raft_memstore_storage(p->ms);
    int rc = in->ops->term(in, to, &term);
    if (rc != 0)
        return rc;
    struct mvcc_wbatch *b = NULL;
    rc = mvcc_wbatch_create(&b);
    if (rc != 0)
        return rc;
    uint8_t lo[REGION__KEY_LOG_LEN], hi[REGION__KEY_LOG_LEN];
    uint8_t k[REGION__KEY_META_LEN], v[16];
    region__key_log(lo, p->desc.id, 0);
    region__key_log(hi, p->desc.id, to + 1);
    rc = mvcc_wbatch_delete_range(b, REGION__CF_LOG, lo, sizeof lo, hi,
                                  sizeof hi);
    region__key_meta(k, 'S', p->desc.id);
    region__put_u64(v, to);
    region__put_u64(v + 8, term);
    if (rc == 0)
        rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, k, sizeof k, v, 16);
    /* no sync: if lost, the entries are simply still there */
    if (rc == 0)
        rc = mvcc_engine_write(s->opts.engine, b, false);
    mvcc_wbatch_destroy(b);
    if (rc == 0)
        rc = raft_memstore_compact(p->ms, to);
    if (rc == 0) {
        p->compacted = to;
        s->stats.log_gcs++;
        region__log(s, REGION_LOG_DEBUG, "region %llu: log compacted to %llu",
                    (unsigned long long)p->desc.id, (unsigned long long)to);
    }
    return rc;
}

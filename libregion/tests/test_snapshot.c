/* test_snapshot.c: streamed snapshots over the in-process cluster: a
 * 20 MiB region reaches a new replica with the snapshot code holding a few
 * chunks at most (stats.snap_mem_peak); a store closed while receiving
 * restarts with its old state and catches up; a crash in the middle of an
 * install is completed at open (old state or new, never a mix); a chunk
 * corrupted in transit is refused and sent again. DESIGN.md, "Snapshots
 * and log GC".
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "region_int.h"

/* ---- data (cluster.h's bulk keys) on region 1 */
static void load(struct cluster *c, int at, const struct cl_bulk *d, int from,
                 int to)
{
    assert_int_equal(cl_bulk_load(c, at, 1, d, from, to), 0);
}

static bool holds(struct cluster *c, int i, const struct cl_bulk *d, int from,
                  int to)
{
    return cl_bulk_holds(c, i, 1, d, from, to);
}

static bool absent(struct cluster *c, int i, int from, int to)
{
    for (int k = from; k < to; k++) {
        char key[16];
        cl_bulk_key(k, key, sizeof key);
        struct region_ctx ctx = {1, 0, 0};
        uint8_t *v = NULL;
        size_t vl = 0;
        int rc = region_raw_get(c->st[i].s, &ctx, key, strlen(key), &v, &vl,
                                NULL);
        region_free(v);
        if (rc != MVCC_NOTFOUND)
            return false;
    }
    return true;
}

/* Tick until store i holds keys [from, to) of d; the ticks it took. */
static int catch_up(struct cluster *c, int i, const struct cl_bulk *d, int from,
                    int to)
{
    int t;
    for (t = 0; t < 3000; t++) {
        if (holds(c, i, d, to - 1, to) && holds(c, i, d, from, to))
            break;
        cl_tick(c);
    }
    assert_true(t < 3000);
    return t;
}

static struct region_store_stats stats(struct cluster *c, int i)
{
    struct region_store_stats st;
    region_store_stats(c->st[i].s, &st);
    return st;
}

/* Keys of CF default under 01 kind on store i's engine. */
static size_t local_keys(struct cluster *c, int i, char kind)
{
    uint8_t lo[2] = {REGION__LOCAL, (uint8_t)kind};
    uint8_t hi[2] = {REGION__LOCAL, (uint8_t)(kind + 1)};
    struct mvcc_iter_opts io = {lo, 2, hi, 2};
    struct mvcc_iter *it = NULL;
    assert_int_equal(mvcc_engine_iter(c->st[i].eng, NULL, MVCC_CF_DEFAULT, &io,
                                      &it),
                     0);
    size_t n = 0;
    assert_int_equal(it->ops->seek_to_first(it), 0);
    while (it->ops->valid(it)) {
        n++;
        assert_int_equal(it->ops->next(it), 0);
    }
    mvcc_iter_destroy(it);
    return n;
}

/* The bytes of the snapshot stream of region 1 = [nil, nil) on stores
 * 1..n_stores holding keys [0, n) of d (snapshot.c's format): header,
 * then a record per raw key. */
static uint64_t stream_len(const struct cl_bulk *d, int n_stores,
                           uint32_t learners, uint64_t conf_ver)
{
    struct region_desc r;
    memset(&r, 0, sizeof r);
    r.id = 1;
    r.conf_ver = conf_ver;
    r.version = 1;
    r.n_stores = (uint32_t)n_stores;
    for (int i = 0; i < n_stores; i++)
        r.stores[i] = (uint64_t)i + 1;
    r.learners = learners;
    struct region_buf b = {0};
    assert_int_equal(region__encode_desc(&b, &r, 0), 0);
    uint64_t len = 1 + 8 + 4 + b.len;
    region__buf_free(&b);
    uint8_t *v = malloc(cl_bulk_cap(d));
    for (int i = 0; i < d->n; i++)
        len += 9 + 8 /* 'r' k000000 */ + cl_bulk_value(d, i, v);
    free(v);
    return len;
}

/* ---- logs: the warnings and errors stores print, kept for asserts */
static char logged[64][256];
static int n_logged;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void keep_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    if (level < REGION_LOG_WARN)
        return;
    pthread_mutex_lock(&log_mu);
    if (n_logged < 64)
        snprintf(logged[n_logged++], sizeof logged[0], "%s", msg);
    pthread_mutex_unlock(&log_mu);
}

static int logged_with(const char *what)
{
    int n = 0;
    pthread_mutex_lock(&log_mu);
    for (int i = 0; i < n_logged; i++)
        n += strstr(logged[i], what) != NULL;
    pthread_mutex_unlock(&log_mu);
    return n;
}

/* Two stores, region 1 on store 1 alone (chunk bytes and log GC as
 * given, 0: defaults) holding keys d. */
static void solo_region(struct cluster *c, uint32_t chunk, uint32_t keep,
                        const struct cl_bulk *d)
{
    c->snap_chunk_bytes = chunk;
    c->log_keep_entries = keep;
    cl_init(c, 2, false);
    cl_bootstrap_on(c, 1, NULL, NULL, 1);
    assert_int_equal(cl_wait_leader(c, 1), 1);
    load(c, 1, d, 0, d->n);
}

/* A 20 MiB region goes to a new learner in 1 MiB chunks: every chunk is
 * read, staged and installed once, and neither side's snapshot code holds
 * more than a few chunks (the old code built it whole: 20 MiB). */
static void big_region_bounded_memory(void **state)
{
    (void)state;
    struct cluster c = {0};
    struct cl_bulk d = {.n = 5000, .gen = 1};
    solo_region(&c, 0, 16, &d);
    uint64_t len = stream_len(&d, 2, 1u << 1, 2);
    assert_true(len > 20u << 20);
    assert_int_equal(cl_change_member(&c, 1, 1, REGION_CHANGE_ADD_LEARNER, 2,
                                      NULL),
                     0);
    catch_up(&c, 2, &d, 0, d.n);
    for (int t = 0; t < 20; t++) /* the leader sees it replicate */
        cl_tick(&c);
    struct region_store_stats l = stats(&c, 1), f = stats(&c, 2);
    uint64_t chunk = 1u << 20, per = chunk - 4;
    uint64_t chunks = (len + per - 1) / per;
    fprintf(stderr,
            "# 20 MiB region: stream %llu bytes, %llu chunks; sent %llu, "
            "received %llu; snap_mem_peak leader %llu follower %llu\n",
            (unsigned long long)len, (unsigned long long)chunks,
            (unsigned long long)l.snap_chunks_sent,
            (unsigned long long)f.snap_chunks_received,
            (unsigned long long)l.snap_mem_peak,
            (unsigned long long)f.snap_mem_peak);
    assert_int_equal(f.snaps_applied, 1);
    assert_int_equal(f.snap_chunks_received, chunks);
    assert_true(l.snap_chunks_sent >= chunks);
    assert_int_equal(l.snaps_built, 1);
    assert_int_equal(f.snap_chunks_refused, 0);
    /* the follower: a chunk's records and the batch staging them, and
     * four more batches handed to the checker thread to write, or one
     * staged chunk moving into place; the leader: its cursor, and two
     * batches of two chunks read ahead off the loop (one being read) */
    assert_true(f.snap_mem_peak > chunk);
    assert_true(f.snap_mem_peak <= 6 * chunk + (64u << 10));
    assert_true(l.snap_mem_peak > 3 * chunk);
    assert_true(l.snap_mem_peak < 4 * chunk + (16u << 10));
    /* nothing stays: the leader let the engine snapshot go */
    assert_int_equal(f.snap_mem, 0);
    assert_int_equal(l.snap_mem, 0);
    assert_int_equal(local_keys(&c, 2, 'P'), 0);
    assert_int_equal(local_keys(&c, 2, 'N'), 0);
    cl_destroy(&c);
}

/* Three stores; store 3 is stopped, the region moves on (keys rewritten,
 * keys added, some spanning several 64 KiB chunks) and its log is
 * compacted, so store 3 needs a snapshot when it comes back. */
static const struct cl_bulk old_data = {.n = 200, .gen = 1};
static const struct cl_bulk new_data = {.n = 600, .gen = 2, .big_every = 50,
                                     .big = 200u << 10};

static int behind_by_snapshot(struct cluster *c, uint32_t chunk)
{
    c->log_keep_entries = 2;
    c->snap_chunk_bytes = chunk;
    c->log = keep_log;
    c->log_level = REGION_LOG_WARN;
    cl_init(c, 3, false);
    cl_bootstrap(c, 1, NULL, NULL);
    int l = (int)cl_wait_leader(c, 1);
    if (l == 3) {
        assert_int_equal(region_store_transfer_leader(c->st[3].s, 1, 1), 0);
        for (int t = 0; t < 200 && !region_store_is_leader(c->st[1].s, 1); t++)
            cl_tick(c);
        l = (int)cl_wait_leader(c, 1);
    }
    assert_int_not_equal(l, 3);
    load(c, l, &old_data, 0, old_data.n);
    catch_up(c, 3, &old_data, 0, old_data.n);
    cl_stop(c, 3);
    load(c, l, &new_data, 0, new_data.n);
    cl_start(c, 3);
    return l;
}

/* The state store 3 had before it stopped, exactly: the old values,
 * none of the new keys. */
static void expect_old_state(struct cluster *c)
{
    assert_true(holds(c, 3, &old_data, 0, old_data.n));
    assert_true(absent(c, 3, old_data.n, new_data.n));
}

/* Store 3 closed part-way through receiving: it restarts with the old
 * state (the staged chunks dropped), then catches up fully. */
static void restart_mid_receive(void **state)
{
    (void)state;
    struct cluster c = {0};
    behind_by_snapshot(&c, 64u << 10);
    int t;
    for (t = 0; t < 2000; t++) {
        cl_pump(&c, 1);
        if (stats(&c, 3).snap_chunks_received >= 3)
            break;
        if (t % 4 == 3)
            cl_tick(&c);
    }
    assert_true(t < 2000);
    assert_int_equal(stats(&c, 3).snaps_applied, 0);
    assert_true(local_keys(&c, 3, 'P') > 0);
    expect_old_state(&c);
    cl_stop(&c, 3);
    cl_start(&c, 3);
    expect_old_state(&c);
    assert_int_equal(local_keys(&c, 3, 'P'), 0);
    assert_int_equal(local_keys(&c, 3, 'N'), 0);
    assert_int_equal(stats(&c, 3).snap_installs_resumed, 0);
    catch_up(&c, 3, &new_data, 0, new_data.n);
    struct region_store_stats st = stats(&c, 3);
    assert_int_equal(st.snaps_applied, 1);
    assert_int_equal(st.snap_mem, 0);
    assert_int_equal(local_keys(&c, 3, 'P'), 0);
    assert_int_equal(local_keys(&c, 3, 'N'), 0);
    cl_destroy(&c);
}

/* ---- an engine over a store's RocksDB that stops writing (a crash) a
 * given number of writes after the one holding an install's marker */
struct cut_engine {
    struct cl_engine e;        /* over the store's RocksDB */
    pthread_mutex_t mu;        /* guards below (the writer thread writes) */
    bool armed;                /* watching for a marker */
    int pass;                  /* writes let through after the marker's */
    int left;                  /* writes still let through after it (-1:
                                  no marker seen yet) */
    bool cut;                  /* writes are dropped: the crash */
};
static struct cut_engine cutter;

/* Whether b puts a local key of this kind and length (CF default). */
static bool puts_local(const struct mvcc_wbatch *b, char kind, size_t len)
{
    for (size_t i = 0; i < mvcc_wbatch_count(b); i++) {
        struct mvcc_wop op;
        mvcc_wbatch_op(b, i, &op);
        if (op.type == MVCC_WOP_PUT && op.cf == MVCC_CF_DEFAULT &&
            op.key_len == len && op.key[0] == REGION__LOCAL &&
            op.key[1] == (uint8_t)kind)
            return true;
    }
    return false;
}

static bool has_marker(const struct mvcc_wbatch *b)
{
    return puts_local(b, 'N', REGION__KEY_META_LEN);
}

static int cut_write(void *ctx, struct mvcc_engine *inner,
                     const struct mvcc_wbatch *b, bool sync)
{
    struct cut_engine *ce = ctx;
    pthread_mutex_lock(&ce->mu);
    bool drop = ce->cut;
    if (!drop && ce->armed) {
        if (ce->left >= 0 && ce->left-- == 0)
            drop = ce->cut = true;
        else if (ce->left < 0 && has_marker(b))
            ce->left = ce->pass;
    }
    pthread_mutex_unlock(&ce->mu);
    if (drop)
        return 0; /* lost: the process died before it */
    return mvcc_engine_write(inner, b, sync);
}

static struct mvcc_engine *wrap_store3(void *ctx, int store,
                                       struct mvcc_engine *eng)
{
    struct cut_engine *ce = ctx;
    if (store != 3)
        return eng;
    pthread_mutex_lock(&ce->mu);
    struct mvcc_engine *w = cl_engine_over(&ce->e, eng, cut_write, ce);
    pthread_mutex_unlock(&ce->mu);
    return w;
}

/* Store 3 crashes after the install's marker and `after` more writes
 * (the old data gone, part of the new moved into place): at open the
 * install completes, and store 3 holds the new state before any message. */
static void crash_mid_install(int after)
{
    struct cluster c = {0};
    pthread_mutex_init(&cutter.mu, NULL);
    cutter.armed = false;
    cutter.cut = false;
    cutter.left = -1;
    c.wrap = wrap_store3;
    c.wrap_ctx = &cutter;
    behind_by_snapshot(&c, 64u << 10);
    pthread_mutex_lock(&cutter.mu);
    cutter.armed = true;
    cutter.pass = after;
    pthread_mutex_unlock(&cutter.mu);
    int t;
    for (t = 0; t < 4000; t++) {
        cl_pump(&c, 1);
        pthread_mutex_lock(&cutter.mu);
        bool cut = cutter.cut;
        pthread_mutex_unlock(&cutter.mu);
        if (cut)
            break;
        if (t % 4 == 3)
            cl_tick(&c);
    }
    assert_true(t < 4000);
    cl_stop(&c, 3); /* what it wrote after the cut never reached disk */
    pthread_mutex_lock(&cutter.mu);
    cutter.armed = false;
    cutter.cut = false;
    cutter.left = -1;
    pthread_mutex_unlock(&cutter.mu);
    cl_isolate(&c, 3, true); /* nothing heard: the state is the disk's */
    cl_start(&c, 3);
    struct region_store_stats st = stats(&c, 3);
    assert_int_equal(st.snap_installs_resumed, 1);
    assert_true(holds(&c, 3, &new_data, 0, new_data.n));
    assert_int_equal(local_keys(&c, 3, 'P'), 0);
    assert_int_equal(local_keys(&c, 3, 'N'), 0);
    /* and it follows the log from there */
    cl_isolate(&c, 3, false);
    struct cl_bulk more = {.n = new_data.n + 20, .gen = 2};
    uint64_t region = 0;
    int l = cl_leader_for(&c, "k", &region);
    assert_int_not_equal(l, 0);
    load(&c, l, &more, new_data.n, more.n);
    catch_up(&c, 3, &more, new_data.n, more.n);
    assert_int_equal(stats(&c, 3).snaps_applied, 0); /* by log */
    cl_destroy(&c);
    pthread_mutex_destroy(&cutter.mu);
}

static void crash_after_marker(void **state)
{
    (void)state;
    crash_mid_install(0);
}

static void crash_after_some_records(void **state)
{
    (void)state;
    crash_mid_install(3);
}

/* ---- chunks corrupted in transit: a bit flipped in the data of the
 * first `left` snapshot chunks sent to store 2 */
struct corrupter {
    int left;      /* chunks still to corrupt */
    int corrupted; /* chunks corrupted */
    bool header;   /* instead: first chunks name region 9 in their header,
                      under a checksum made anew (a broken sender) */
    bool shorten;  /* instead: first chunks say the stream is 100,000
                      bytes shorter, checksum made anew */
};

/* Put a checksum made anew on chunk c (a sender that means it). */
static void reseal(struct raft_snapshot *c)
{
    uint8_t *b = c->data;
    uint32_t crc = region__snap_block_crc(c->meta.index, c->meta.term,
                                          c->total, c->offset, b + 4,
                                          (size_t)c->len - 4);
    b[0] = (uint8_t)(crc >> 24);
    b[1] = (uint8_t)(crc >> 16);
    b[2] = (uint8_t)(crc >> 8);
    b[3] = (uint8_t)crc;
}

/* Make first chunk c say its stream is 100,000 bytes shorter. */
static bool shorten(struct raft_snapshot *c)
{
    uint8_t *b = c->data;
    if (c->offset != 0 || c->len < 4 + 13)
        return false;
    region__put_u64(b + 5, region__get_u64(b + 5) - 100000);
    reseal(c);
    return true;
}

/* Make chunk c's header name region 9, its checksum still right. */
static bool rename_region(struct raft_snapshot *c)
{
    uint8_t *b = c->data;
    if (c->offset != 0 || c->len < 4 + 13 + 10)
        return false;
    /* block crc(4), version(1) L(8) 4+D: the region state's id at 2 */
    region__put_u64(b + 4 + 13 + 2, 9);
    reseal(c);
    return true;
}

/* cm carries out, a batch of n messages, instead (out freed). */
static void set_batch(struct cl_msg *cm, struct region_buf *out, size_t n)
{
    region__msgs_finish(out, (uint32_t)n);
    assert_false(out->oom);
    free(cm->buf);
    cm->buf = malloc(out->len);
    memcpy(cm->buf, out->data, out->len);
    cm->len = out->len;
    region__buf_free(out);
}

static void corrupt(void *ctx, struct cl_msg *cm)
{
    struct corrupter *k = ctx;
    if (k->left == 0 || cm->to != 2)
        return;
    struct region_buf out = {0};
    size_t off = 0, n = 0;
    struct region_wire_msg wm;
    uint64_t from = 0;
    size_t count = 0;
    if (region_msgs_check(cm->buf, cm->len, &from, &count) != 0)
        return;
    region__msgs_begin(&out, cm->from);
    while (region__msgs_next(cm->buf, cm->len, &off, &wm) == 0) {
        struct raft_message *m = NULL;
        if (wm.raft_len > 0)
            assert_int_equal(raft_msg_decode(wm.raft, wm.raft_len, &m), 0);
        if (m && m->type == RAFT_MSG_SNAPSHOT && m->snapshot->len > 8 &&
            k->left > 0 && (!k->header || rename_region(m->snapshot)) &&
            (!k->shorten || shorten(m->snapshot))) {
            uint8_t *data = m->snapshot->data;
            if (!k->header && !k->shorten)
                data[m->snapshot->len / 2] ^= 0x10;
            k->left--;
            k->corrupted++;
        }
        region__msgs_add(&out, &wm, m);
        raft_msg_free(m);
        n++;
    }
    set_batch(cm, &out, n);
}

/* Region 1 on store 1 with keys d, in 64 KiB chunks, log GC past keep
 * entries; store 2 added as a learner, the snapshot's messages to it
 * going through corrupter k. */
static void add_learner_through(struct cluster *c, const struct cl_bulk *d,
                                struct corrupter *k, uint32_t keep)
{
    n_logged = 0;
    c->log = keep_log;
    c->log_level = REGION_LOG_WARN;
    solo_region(c, 64u << 10, keep, d);
    c->filter = corrupt;
    c->filter_ctx = k;
    assert_int_equal(cl_change_member(c, 1, 1, REGION_CHANGE_ADD_LEARNER, 2,
                                      NULL),
                     0);
}

/* Three chunks damaged in transit (or three first chunks whose header
 * names another region, checksum right): each is refused on arrival,
 * logged, sent again, and the snapshot lands whole. */
static void corrupt_chunks(bool header, const char *why)
{
    struct cluster c = {0};
    struct corrupter k = {.left = 3, .header = header};
    struct cl_bulk d = {.n = 300, .gen = 1};
    add_learner_through(&c, &d, &k, 8);
    catch_up(&c, 2, &d, 0, d.n);
    struct region_store_stats st = stats(&c, 2);
    assert_int_equal(k.corrupted, 3);
    assert_int_equal(st.snap_chunks_refused, 3);
    assert_int_equal(logged_with(why), 3);
    assert_int_equal(st.snaps_applied, 1);
    assert_int_equal(local_keys(&c, 2, 'P'), 0);
    cl_destroy(&c);
}

static void corrupt_chunk_refused(void **state)
{
    (void)state;
    corrupt_chunks(false, "refused: checksum mismatch");
}

static void foreign_header_refused(void **state)
{
    (void)state;
    corrupt_chunks(true, "refused: header names another region or size");
}

/* A sender that means what it sends, wrongly: the first chunk says the
 * stream is shorter than it is (checksum right). The chunk whose records
 * run past that end is refused on arrival, for good (the bytes of that
 * snapshot stay what they are): nothing is installed and nothing fails.
 * Once the leader's log moves on, a new snapshot lands. */
static void short_stream_refused(void **state)
{
    (void)state;
    struct cluster c = {0};
    struct corrupter k = {.left = 1, .shorten = true};
    struct cl_bulk d = {.n = 300, .gen = 1};
    add_learner_through(&c, &d, &k, 4);
    int t;
    for (t = 0; t < 500 && stats(&c, 2).snap_chunks_refused == 0; t++)
        cl_tick(&c);
    assert_true(t < 500);
    for (t = 0; t < 100; t++) /* resends: refused again, or dropped */
        cl_tick(&c);
    struct region_store_stats st = stats(&c, 2);
    assert_int_equal(k.corrupted, 1);
    assert_int_equal(st.snaps_applied, 0);
    assert_true(logged_with("refused: record past the end of the stream") >=
                1);
    assert_int_equal(logged_with("not installed"), 0);
    struct region_desc rd;
    assert_int_equal(region_store_region(c.st[2].s, 1, &rd, NULL),
                     REGION_ENOT_FOUND); /* nothing installed */
    assert_int_equal(local_keys(&c, 2, 'N'), 0);
    struct cl_bulk more = {.n = 340, .gen = 1};
    load(&c, 1, &more, d.n, more.n); /* compacts: a new snapshot */
    catch_up(&c, 2, &more, 0, more.n);
    assert_int_equal(stats(&c, 2).snaps_applied, 1);
    cl_destroy(&c);
}

/* The leader's storage reads any block in any order (go-back-N resends,
 * a transfer started over) as it reads them in sequence: byte for byte,
 * each with its checksum right. 4 KiB chunks, so most positions are past
 * the 16 the cursor remembers. */
/* CRC-32C: RFC 3720's test vectors (appendix B.4) and the string
 * everyone checks, both ways; the CPU's instruction and the table agree
 * on every length and alignment, whole or continued. */
static void crc32c_known_answers(void **state)
{
    (void)state;
    uint8_t buf[300];
    memset(buf, 0, 32);
    assert_int_equal(region__crc32c(~0u, buf, 32) ^ ~0u, 0x8A9136AAu);
    memset(buf, 0xff, 32);
    assert_int_equal(region__crc32c(~0u, buf, 32) ^ ~0u, 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(region__crc32c(~0u, buf, 32) ^ ~0u, 0x46DD794Eu);
    assert_int_equal(region__crc32c_portable(~0u, buf, 32) ^ ~0u, 0x46DD794Eu);
    assert_int_equal(region__crc32c(~0u, "123456789", 9) ^ ~0u, 0xE3069283u);
    assert_int_equal(region__crc32c_portable(~0u, "123456789", 9) ^ ~0u,
                     0xE3069283u);
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= sizeof buf; n += 7) {
            uint32_t a = region__crc32c(~0u, buf + off, n);
            assert_int_equal(a, region__crc32c_portable(~0u, buf + off, n));
            size_t h = n / 3;
            assert_int_equal(region__crc32c(region__crc32c(~0u, buf + off, h),
                                            buf + off + h, n - h),
                             a);
        }
}

/* Block off of p's snapshot at index into buf. Blocks are read on the
 * checker thread: "not yet" until that read is in, then served (true),
 * or served at once, read ahead before (false). A read ahead of other
 * blocks still out is waited for first (the snapshot has one out). */
static bool read_block(struct cluster *c,
                       struct region_peer *p,
                       uint64_t index,
                       uint64_t off,
                       uint8_t *buf,
                       uint64_t n)
{
    for (int i = 0; i < 3; i++) {
        int rc = p->stor.ops->snapshot_read(&p->stor, index, off, buf, n);
        if (rc == 0)
            return i > 0;
        assert_int_equal(rc, RAFT_ESNAPTEMP);
        assert_int_equal(
            p->stor.ops->snapshot_read(&p->stor, index, off, buf, n),
            RAFT_ESNAPTEMP); /* until the loop takes the read */
        region__snap_jobs_wait(c->st[1].s);
    }
    fail_msg("block at %llu never read", (unsigned long long)off);
    return false;
}

static void reads_in_any_order(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.snap_chunk_bytes = 4096;
    cl_init(&c, 1, false);
    cl_bootstrap(&c, 1, NULL, NULL);
    assert_int_equal(cl_wait_leader(&c, 1), 1);
    struct cl_bulk d = {.n = 150, .gen = 3, .big_every = 40,
                        .big = 20000};
    load(&c, 1, &d, 0, d.n);
    struct region_peer *p = region__find_peer(c.st[1].s, 1);
    assert_non_null(p);
    const struct raft_snapshot *sn = NULL;
    /* counted on the checker thread: "not yet" until the loop takes the
     * count (DESIGN "Counting off the loop") */
    assert_int_equal(p->stor.ops->snapshot(&p->stor, &sn), RAFT_ESNAPTEMP);
    assert_int_equal(p->stor.ops->snapshot(&p->stor, &sn), RAFT_ESNAPTEMP);
    region_store_split_checks_wait(c.st[1].s);
    assert_int_equal(p->stor.ops->snapshot(&p->stor, &sn), 0);
    uint64_t total = sn->total, index = sn->meta.index;
    uint64_t blocks = (total + 4095) / 4096;
    assert_int_equal(blocks, 182);
    uint8_t *seq = malloc(total), *any = calloc(1, total);
    struct region_store *s = c.st[1].s;
    struct region_store_stats st;
    for (uint64_t b = 0; b < blocks; b++) {
        uint64_t off = b * 4096, n = total - off < 4096 ? total - off : 4096;
        /* in order, the loop running between reads (as between a
         * follower's acknowledgements): only the first waits, the rest
         * was read ahead, two blocks at a time */
        assert_int_equal(read_block(&c, p, index, off, seq + off, n), b == 0);
        region__snap_jobs_wait(s);
        region_store_stats(s, &st);
        /* the batch served from and the one before or after it (the
         * last block is shorter), and the cursor */
        assert_true(st.snap_mem > 3 * 4096u);
        assert_true(st.snap_mem < 4 * 4096u + 4096);
        uint32_t crc = region__snap_block_crc(index, sn->meta.term, total,
                                              off, seq + off + 4,
                                              (size_t)n - 4);
        assert_int_equal(crc, (uint32_t)seq[off] << 24 |
                                  (uint32_t)seq[off + 1] << 16 |
                                  (uint32_t)seq[off + 2] << 8 | seq[off + 3]);
    }
    /* backwards, then a stride through the middle, then a window again */
    for (uint64_t i = 0; i < blocks; i++) {
        uint64_t b = i < blocks / 2 ? blocks - 1 - i
                                    : (i * 7) % blocks;
        uint64_t off = b * 4096, n = total - off < 4096 ? total - off : 4096;
        read_block(&c, p, index, off, any + off, n);
        assert_memory_equal(any + off, seq + off, n);
    }
    for (uint64_t b = 10; b < 30; b++) /* a window resent twice */
        for (int again = 0; again < 2; again++) {
            uint64_t off = b * 4096;
            read_block(&c, p, index, off, any + off, 4096);
            assert_memory_equal(any + off, seq + off, 4096);
        }
    /* another index is no longer the storage's */
    assert_int_equal(p->stor.ops->snapshot_read(&p->stor, index + 1, 0, any,
                                                4096),
                     RAFT_ESNAPOLD);
    free(seq);
    free(any);
    cl_destroy(&c);
}

/* Store 1's iterators made off the test's thread (the checker's counts
 * and reads) fail with -EIO while fail_counts is set; those made on it
 * (the loop's) over an engine snapshot are counted. */
static struct {
    pthread_t main;
    bool fail_counts;
    uint64_t loop_snap_iters;
    struct cl_engine e;
} counting;

static int counting_iter(void *ctx, struct mvcc_engine *inner,
                         const struct mvcc_snapshot *snap, int cf,
                         const struct mvcc_iter_opts *opts,
                         struct mvcc_iter **out)
{
    (void)ctx;
    bool loop = pthread_equal(pthread_self(), counting.main);
    if (!loop && __atomic_load_n(&counting.fail_counts, __ATOMIC_SEQ_CST))
        return -EIO;
    if (loop && snap != NULL)
        counting.loop_snap_iters++;
    return mvcc_engine_iter(inner, snap, cf, opts, out);
}

static struct mvcc_engine *wrap_counting(void *ctx, int store,
                                         struct mvcc_engine *eng)
{
    if (store != 1)
        return eng;
    struct mvcc_engine *e = cl_engine_over(&counting.e, eng, NULL, ctx);
    counting.e.iter = counting_iter;
    return e;
}

/* One store leading region 1 with 100 keys: its peer. */
static struct region_peer *one_loaded_store(struct cluster *c)
{
    cl_init(c, 1, false);
    cl_bootstrap(c, 1, NULL, NULL);
    assert_int_equal(cl_wait_leader(c, 1), 1);
    struct cl_bulk d = {.n = 100, .gen = 1};
    load(c, 1, &d, 0, d.n);
    struct region_peer *p = region__find_peer(c->st[1].s, 1);
    assert_non_null(p);
    return p;
}

/* A snapshot's length is counted on the checker thread, the store's lock
 * not held: its storage answers "not yet" meanwhile; a count that ends
 * after the region's snapshots were dropped (a split or merge changed its
 * range) is thrown away, not sent, as is one that failed (logged), and
 * the next ask counts again. */
static void counted_off_the_loop(void **state)
{
    (void)state;
    struct cluster c = {0};
    memset(&counting, 0, sizeof counting);
    counting.main = pthread_self();
    c.wrap = wrap_counting;
    struct region_peer *p = one_loaded_store(&c);
    struct region_store *s = c.st[1].s;
    const struct raft_snapshot *sn = NULL;
    struct region_store_stats st;
    assert_int_equal(p->stor.ops->snapshot(&p->stor, &sn), RAFT_ESNAPTEMP);
    region__snap_free(p); /* as a split applied meanwhile does */
    region_store_split_checks_wait(s);
    __atomic_store_n(&counting.fail_counts, true, __ATOMIC_SEQ_CST);
    assert_int_equal(p->stor.ops->snapshot(&p->stor, &sn), RAFT_ESNAPTEMP);
    region_store_split_checks_wait(s); /* the count fails */
    __atomic_store_n(&counting.fail_counts, false, __ATOMIC_SEQ_CST);
    region_store_stats(s, &st);
    assert_int_equal(st.snaps_built, 0);
    assert_int_equal(st.snap_mem, 0);
    assert_null(p->tx[0]);
    assert_null(p->tx_counting);
    assert_int_equal(p->stor.ops->snapshot(&p->stor, &sn), RAFT_ESNAPTEMP);
    region_store_split_checks_wait(s);
    assert_int_equal(p->stor.ops->snapshot(&p->stor, &sn), 0);
    region_store_stats(s, &st);
    assert_int_equal(st.snaps_built, 1);
    assert_true(sn->total > 100 * 512);
    cl_destroy(&c);
}

/* A transfer's chunks are read on the checker thread: the leader's loop
 * (the test's thread) opens no iterator over the engine snapshot, to
 * count or to read, and the learner gets every key (DESIGN "Reading off
 * the loop"). */
static void read_off_the_loop(void **state)
{
    (void)state;
    struct cluster c = {0};
    memset(&counting, 0, sizeof counting);
    counting.main = pthread_self();
    c.wrap = wrap_counting;
    struct cl_bulk d = {.n = 300, .gen = 2, .big_every = 10, .big = 20000};
    solo_region(&c, 4096, 16, &d);
    assert_int_equal(
        cl_change_member(&c, 1, 1, REGION_CHANGE_ADD_LEARNER, 2, NULL), 0);
    catch_up(&c, 2, &d, 0, d.n);
    struct region_store_stats l = stats(&c, 1), f = stats(&c, 2);
    assert_int_equal(f.snaps_applied, 1);
    assert_int_equal(l.snaps_built, 1);
    assert_true(l.snap_chunks_sent >= f.snap_chunks_received);
    assert_true(f.snap_chunks_received > 150); /* 4 KiB each: 600 KB */
    assert_int_equal(f.snap_chunks_refused, 0);
    assert_int_equal(counting.loop_snap_iters, 0);
    cl_destroy(&c);
}

/* Store 2's iterators opened off the test's thread (its checker's: an
 * install's move) wait while the gate is shut. */
static struct cl_gate gate;

/* Stores 1 and 2: region 1 = [, m) on store 1 alone holding d, region
 * 2 = [m, ) on both; store 2's checker thread behind the gate, shut.
 * Store 2 is added to region 1 as a learner, and the test returns once
 * the install of region 1's snapshot waits at the gate there. */
static void install_held(struct cluster *c, const struct cl_bulk *d)
{
    cl_gate_init(&gate, c, 2, false, false);
    c->snap_chunk_bytes = 4096;
    c->log_keep_entries = 16;
    cl_init(c, 2, false);
    c->snap_jobs_free = true;
    cl_bootstrap_on(c, 1, NULL, "m", 1);
    cl_bootstrap_on(c, 2, "m", NULL, 2);
    assert_int_equal(cl_wait_leader(c, 1), 1);
    assert_true(cl_wait_leader(c, 2) > 0);
    load(c, 1, d, 0, d->n);
    assert_int_equal(
        cl_change_member(c, 1, 1, REGION_CHANGE_ADD_LEARNER, 2, NULL), 0);
    /* store 1's counts and reads done before time moves on, as cl_drain
     * does without snap_jobs_free (else the transfer can stall for two
     * election timeouts of ticks while they run, and start over) */
    for (int t = 0; t < 3000 && cl_gate_held(&gate) == 0; t++) {
        region__snap_jobs_wait(c->st[1].s);
        cl_tick(c);
    }
    assert_int_equal(cl_gate_held(&gate), 1);
}

/* Let the move go; cl_drain waits for snapshot jobs again. */
static void install_go(struct cluster *c)
{
    cl_gate_set(&gate, true, false);
    c->snap_jobs_free = false;
}

/* A snapshot's records move into place on the receiver's checker thread
 * (DESIGN "Installing off the loop"): while that move is held up, the
 * receiving store's loop serves its other region (puts through region 2
 * need store 2's log), the installing peer has nothing installed and
 * takes no other ready; let go, the install ends and every key is there. */
static void installed_off_the_loop(void **state)
{
    (void)state;
    struct cluster c = {0};
    struct cl_bulk d = {.n = 300, .gen = 2, .big_every = 10, .big = 20000};
    install_held(&c, &d);
    struct region_store *s2 = c.st[2].s;
    struct region_peer *p = region__find_peer(s2, 1);
    assert_null(p); /* uninitialized: not a region of store 2 yet */
    for (int i = 0; i < 20; i++) {
        char k[16];
        snprintf(k, sizeof k, "n%02d", i);
        assert_int_equal(cl_put(&c, 1, 2, k, "v", NULL), 0);
    }
    for (int t = 0; t < 20; t++)
        cl_tick(&c);
    struct region_store_stats st = stats(&c, 2);
    assert_int_equal(st.snaps_applied, 0);
    assert_true(st.applied >= 20);         /* region 2's puts, applied there */
    assert_null(region__find_peer(s2, 1)); /* still */
    /* mid-way: the marker written, the staged chunks not moved yet */
    assert_int_equal(local_keys(&c, 2, 'N'), 1);
    assert_true(local_keys(&c, 2, 'P') > 0);
    assert_int_equal(cl_gate_held(&gate), 1); /* one move, not asked twice */
    install_go(&c);
    catch_up(&c, 2, &d, 0, d.n);
    st = stats(&c, 2);
    assert_int_equal(st.snaps_applied, 1);
    assert_true(st.snap_install_ns > 0);
    assert_true(st.snap_install_ns_max <= st.snap_install_ns);
    assert_int_equal(local_keys(&c, 2, 'P'), 0);
    assert_int_equal(local_keys(&c, 2, 'N'), 0);
    char *v = NULL;
    assert_int_equal(cl_get(&c, 1, 2, "n19", &v, NULL), 0);
    assert_string_equal(v, "v");
    free(v);
    cl_destroy(&c);
    cl_gate_destroy(&gate);
}

/* Store 2's uninitialized peer of region 1 with its install out. */
static struct region_peer *installing_peer(struct region_store *s)
{
    for (size_t i = 0; i < s->n_uninit; i++)
        if (s->uninit[i]->desc.id == 1)
            return s->uninit[i];
    return NULL;
}

/* An uninitialized peer whose install is out stays while its records
 * move: a removal notice for it and longer silence than drops idle
 * ones (REGION__UNINIT_IDLE_ELECTIONS) leave it, and it ends the
 * install once let go (freed meanwhile, the move would write for a peer
 * that is gone into memory that is). */
static void install_outlives_drops(void **state)
{
    (void)state;
    struct cluster c = {0};
    struct cl_bulk d = {.n = 100, .gen = 3, .big_every = 10, .big = 20000};
    install_held(&c, &d);
    struct region_store *s2 = c.st[2].s;
    struct region_peer *p = installing_peer(s2);
    assert_non_null(p);
    assert_non_null(p->inst);
    struct region_buf b = {0};
    region__msgs_begin(&b, 1);
    struct region_wire_msg wm = {1, 100, 1, NULL, 0}; /* removed at 100 */
    region__msgs_add(&b, &wm, NULL);
    region__msgs_finish(&b, 1);
    assert_false(b.oom);
    assert_int_equal(region_store_receive(s2, b.data, b.len), 0);
    region__buf_free(&b);
    int idle = REGION__UNINIT_IDLE_ELECTIONS * 10 + 20; /* election_tick */
    c.cut[1][2] = true; /* nothing heard from the leader */
    for (int t = 0; t < idle; t++)
        cl_tick(&c);
    c.cut[1][2] = false;
    assert_true(p->idle_ticks > idle - 20);
    assert_true(installing_peer(s2) == p);
    assert_non_null(p->inst);
    assert_int_equal(stats(&c, 2).uninit_dropped, 0);
    install_go(&c);
    catch_up(&c, 2, &d, 0, d.n);
    assert_int_equal(stats(&c, 2).snaps_applied, 1);
    assert_true(region__find_peer(s2, 1) == p);
    cl_destroy(&c);
    cl_gate_destroy(&gate);
}

/* A snapshot stream of region 1 = [a, m) on store 1: header, then a raw
 * key, its TTL record and, when txn, a libmvcc write record of "c"; a
 * raw record of key raw_key (NULL: none) last. Its length. */
static size_t stream_of(uint8_t *out, bool txn, const char *raw_key)
{
    struct region_desc d;
    memset(&d, 0, sizeof d);
    d.id = 1;
    d.conf_ver = d.version = 1;
    d.start[0] = 'a';
    d.start_len = 1;
    d.end[0] = 'm';
    d.end_len = 1;
    d.n_stores = 1;
    d.stores[0] = 1;
    struct region_buf b = {0}, desc = {0};
    assert_int_equal(region__encode_desc(&desc, &d, 0), 0);
    region__buf_u8(&b, 2);
    region__buf_u64(&b, 0); /* L, below */
    region__buf_bytes(&b, desc.data, desc.len);
    struct
    {
        uint8_t cf;
        const char *k;
        const char *v;
    } recs[] = {{MVCC_CF_DEFAULT, "rb", "value"},
                {MVCC_CF_LOCK, "rb", "\xff\xff\xff\xff\xff\xff\xff\xff"},
                {0, NULL, NULL}};
    for (int i = 0; recs[i].k; i++) {
        region__buf_u8(&b, recs[i].cf);
        region__buf_bytes(&b, recs[i].k, strlen(recs[i].k));
        region__buf_bytes(&b, recs[i].v, strlen(recs[i].v));
    }
    if (txn) { /* 'z' + enc("c") + a commit ts, CF write */
        uint8_t k[64];
        k[0] = 'z';
        mvcc_key_encode("c", 1, k + 1);
        size_t kl = 1 + mvcc_key_encoded_len(1);
        memset(k + kl, 0xee, 8);
        region__buf_u8(&b, MVCC_CF_WRITE);
        region__buf_bytes(&b, k, kl + 8);
        region__buf_bytes(&b, "P", 1);
    }
    if (raw_key) {
        char k[32];
        snprintf(k, sizeof k, "r%s", raw_key);
        region__buf_u8(&b, MVCC_CF_DEFAULT);
        region__buf_bytes(&b, k, strlen(k));
        region__buf_bytes(&b, "x", 1);
    }
    assert_false(b.oom);
    region__put_u64(b.data + 1, b.len);
    memcpy(out, b.data, b.len);
    size_t n = b.len;
    region__buf_free(&b);
    region__buf_free(&desc);
    return n;
}

/* Tick until store 2 holds region 1 = [, k000050) and region 3 =
 * [k000050, m), every key of d in the region holding it. */
static void split_settles(struct cluster *c, const struct cl_bulk *d)
{
    struct region_store *s2 = c->st[2].s;
    struct region_desc a, b;
    int t;
    for (t = 0; t < 3000; t++) {
        if (region_store_region(s2, 1, &a, NULL) == 0 &&
            region_store_region(s2, 3, &b, NULL) == 0 && a.end_len == 7 &&
            b.end_len == 1)
            break;
        cl_tick(c);
    }
    assert_true(t < 3000);
    assert_memory_equal(a.end, "k000050", 7);
    assert_memory_equal(b.start, "k000050", 7);
    assert_memory_equal(b.end, "m", 1);
    for (t = 0; t < 3000; t++) { /* every key, in the region holding it */
        if (cl_bulk_holds(c, 2, 1, d, 0, 50) &&
            cl_bulk_holds(c, 2, 3, d, 50, d->n))
            break;
        cl_tick(c);
    }
    assert_true(t < 3000);
}

/* A region born of a split while its parent's snapshot (from before the
 * split) is being installed on store 2 sends its own snapshot there: its
 * range overlaps the parent's being installed, so it waits, as it waits
 * for an initialized parent to learn of the split. Taken in meanwhile, it
 * would be a region here when the parent applies the split, which then
 * gets EEXISTS: the parent would keep the child's range too. */
static void split_child_waits_for_parent_install(void **state)
{
    (void)state;
    struct cluster c = {0};
    struct cl_bulk d = {.n = 100, .gen = 4, .big_every = 10, .big = 20000};
    install_held(&c, &d); /* region 1 = [, m) into store 2, held */
    assert_int_equal(cl_split(&c, 1, 1, "k000050", 3, NULL), 0);
    for (int t = 0; t < 200; t++) {
        region__snap_jobs_wait(c.st[1].s);
        cl_tick(&c);
    }
    struct region_store *s2 = c.st[2].s;
    assert_true(stats(&c, 2).snaps_dropped_overlap >= 1);
    assert_null(region__find_peer(s2, 3));
    install_go(&c);
    split_settles(&c, &d);
    cl_destroy(&c);
    cl_gate_destroy(&gate);
}

/* What holdback keeps from store 2: for region 1 and region 3 (by id),
 * while hold[id] is set, the first last chunk of a snapshot goes to
 * stash[id] (a batch of its own, for the test to send later: a message
 * late on its way) and the next ones are dropped; region 1's appends are
 * dropped while appends1 is set. */
static struct
{
    bool hold[4];
    bool appends1;
    struct region_buf stash[4];
    uint64_t stash_from[4];
} hb;

static void holdback(void *ctx, struct cl_msg *cm)
{
    (void)ctx;
    size_t off = 0, n = 0, count = 0;
    uint64_t from = 0;
    if (cm->to != 2 || region_msgs_check(cm->buf, cm->len, &from, &count) != 0)
        return;
    struct region_buf out = {0};
    struct region_wire_msg wm;
    region__msgs_begin(&out, cm->from);
    while (region__msgs_next(cm->buf, cm->len, &off, &wm) == 0) {
        struct raft_message *m = NULL;
        if (wm.raft_len > 0)
            assert_int_equal(raft_msg_decode(wm.raft, wm.raft_len, &m), 0);
        uint64_t r = wm.region_id < 4 ? wm.region_id : 0;
        bool drop = false;
        if (m && m->type == RAFT_MSG_SNAPSHOT && r != 0 && hb.hold[r] &&
            m->snapshot->offset + m->snapshot->len == m->snapshot->total) {
            drop = true;
            if (hb.stash[r].len == 0) {
                region__msgs_begin(&hb.stash[r], cm->from);
                region__msgs_add(&hb.stash[r], &wm, m);
                region__msgs_finish(&hb.stash[r], 1);
                assert_false(hb.stash[r].oom);
                hb.stash_from[r] = cm->from;
            }
        }
        if (m && m->type == RAFT_MSG_APPEND && r == 1 && hb.appends1)
            drop = true;
        if (!drop) {
            region__msgs_add(&out, &wm, m);
            n++;
        }
        raft_msg_free(m);
    }
    set_batch(cm, &out, n);
}

/* Send store 2 region r's stashed last chunk. */
static void stash_send(struct cluster *c, int r)
{
    cl_send(c, hb.stash_from[r], 2, hb.stash[r].data, hb.stash[r].len);
    region__buf_free(&hb.stash[r]);
}

/* Two snapshots staged side by side on store 2 whose ranges overlap:
 * region 1's [, m), sent before its split, and its child's, region 3 =
 * [k000050, m). Neither is a region there while they stage, so the first
 * chunk of each passes; the last chunk of each claims its range. Region
 * 1's last chunk, late, arrives just before region 3's, with no iteration
 * between: region 3's is dropped, region 1's snapshot, received whole,
 * waiting for the iteration that installs it. Once region 1 is installed
 * at its old range, region 3's last chunk overlaps a region of store 2
 * and waits until region 1 applies its split. Taken in either time, both
 * snapshots would be installed, and region 1 would keep the child's range
 * too (its split gets EEXISTS). */
static void staged_snapshots_claim_their_ranges(void **state)
{
    (void)state;
    struct cluster c = {0};
    struct cl_bulk d = {.n = 100, .gen = 6, .big_every = 10, .big = 20000};
    memset(&hb, 0, sizeof hb);
    c.snap_chunk_bytes = 4096;
    c.log_keep_entries = 16;
    cl_init(&c, 2, false);
    cl_bootstrap_on(&c, 1, NULL, "m", 1);
    assert_int_equal(cl_wait_leader(&c, 1), 1);
    load(&c, 1, &d, 0, d.n);
    c.filter = holdback;
    hb.hold[1] = hb.hold[3] = true;
    assert_int_equal(
        cl_change_member(&c, 1, 1, REGION_CHANGE_ADD_LEARNER, 2, NULL), 0);
    int t;
    for (t = 0; t < 3000 && hb.stash[1].len == 0; t++) {
        region__snap_jobs_wait(c.st[1].s);
        cl_tick(&c);
    }
    assert_true(hb.stash[1].len > 0);
    hb.appends1 = true; /* region 1 here stays where its snapshot puts it */
    assert_int_equal(cl_split(&c, 1, 1, "k000050", 3, NULL), 0);
    for (t = 0; t < 3000 && hb.stash[3].len == 0; t++) {
        region__snap_jobs_wait(c.st[1].s);
        cl_tick(&c);
    }
    assert_true(hb.stash[3].len > 0);
    struct region_store *s2 = c.st[2].s;
    struct region_desc a, b;
    assert_int_equal(region_store_region(s2, 1, &a, NULL), REGION_ENOT_FOUND);
    assert_int_equal(region_store_region(s2, 3, &b, NULL), REGION_ENOT_FOUND);
    hb.hold[1] = hb.hold[3] = false;
    uint64_t dropped = stats(&c, 2).snaps_dropped_overlap;
    stash_send(&c, 1);
    stash_send(&c, 3);
    cl_pump(&c, 1); /* both received, then one iteration */
    assert_int_equal(stats(&c, 2).snaps_dropped_overlap, dropped + 1);
    for (t = 0; t < 200; t++) { /* region 1 installed, region 3 waits */
        assert_int_equal(region_store_region(s2, 3, &b, NULL),
                         REGION_ENOT_FOUND);
        cl_tick(&c);
    }
    assert_true(stats(&c, 2).snaps_dropped_overlap > dropped + 1);
    assert_int_equal(region_store_region(s2, 1, &a, NULL), 0);
    assert_int_equal(a.end_len, 1);
    assert_memory_equal(a.end, "m", 1);
    hb.appends1 = false;
    split_settles(&c, &d);
    cl_destroy(&c);
}

/* Store 2's writes of staged chunks (the 'P' keys), by thread: made on
 * the test's (the loop's), or off it (the checker thread's), which fail
 * with -EIO while fail is set, and wait while hold is (held counts
 * them). */
static struct
{
    pthread_t main;
    bool fail, hold;
    int on_loop, off_loop, failed, held;
    struct cl_engine e;
} staging;

static int staging_write(void *ctx,
                         struct mvcc_engine *inner,
                         const struct mvcc_wbatch *b,
                         bool sync)
{
    (void)ctx;
    if (puts_local(b, 'P', REGION__KEY_LOG_LEN)) {
        if (pthread_equal(pthread_self(), staging.main)) {
            __atomic_add_fetch(&staging.on_loop, 1, __ATOMIC_SEQ_CST);
        } else if (__atomic_load_n(&staging.fail, __ATOMIC_SEQ_CST)) {
            __atomic_add_fetch(&staging.failed, 1, __ATOMIC_SEQ_CST);
            return -EIO;
        } else {
            if (__atomic_load_n(&staging.hold, __ATOMIC_SEQ_CST))
                __atomic_add_fetch(&staging.held, 1, __ATOMIC_SEQ_CST);
            while (__atomic_load_n(&staging.hold, __ATOMIC_SEQ_CST))
                usleep(1000);
            __atomic_add_fetch(&staging.off_loop, 1, __ATOMIC_SEQ_CST);
        }
    }
    return mvcc_engine_write(inner, b, sync);
}

static struct mvcc_engine *wrap_staging(void *ctx,
                                        int store,
                                        struct mvcc_engine *eng)
{
    if (store != 2)
        return eng;
    return cl_engine_over(&staging.e, eng, staging_write, ctx);
}

/* Region 1 on store 1 holding d in chunks of chunk bytes (0: the
 * default), store 2's engine watched (staging); store 2 added as a
 * learner. */
static void stage_to_learner(struct cluster *c,
                             const struct cl_bulk *d,
                             uint32_t chunk,
                             bool fail)
{
    memset(&staging, 0, sizeof staging);
    staging.main = pthread_self();
    staging.fail = fail;
    c->wrap = wrap_staging;
    solo_region(c, chunk, 16, d);
    assert_int_equal(
        cl_change_member(c, 1, 1, REGION_CHANGE_ADD_LEARNER, 2, NULL), 0);
}

/* A received snapshot's chunks are staged on the checker thread (DESIGN
 * "Staging off the loop"): not one staged chunk is written on the loop's
 * thread, and the learner ends with every key and nothing staged. */
static void staged_off_the_loop(void **state)
{
    (void)state;
    struct cluster c = {0};
    struct cl_bulk d = {.n = 600, .gen = 7, .big_every = 50, .big = 20000};
    stage_to_learner(&c, &d, 4096, false);
    catch_up(&c, 2, &d, 0, d.n);
    struct region_store_stats f = stats(&c, 2);
    assert_int_equal(f.snaps_applied, 1);
    assert_true(f.snap_chunks_received > 150);
    assert_int_equal(staging.on_loop, 0);
    /* every chunk holding a whole record; the 22 values of 20,000 bytes
     * take 5 chunks each, the first 4 of which end none */
    assert_true(staging.off_loop > 150 - 4 * 22);
    assert_int_equal(local_keys(&c, 2, 'P'), 0);
    assert_int_equal(f.snap_mem, 0);
    cl_destroy(&c);
}

/* Let the held staging writes go 300 ms after the first one waits (or
 * after 30 s without one). */
static void *let_go(void *arg)
{
    (void)arg;
    for (int ms = 0;
         ms < 30000 && __atomic_load_n(&staging.held, __ATOMIC_SEQ_CST) == 0;
         ms++)
        usleep(1000);
    usleep(300 * 1000);
    __atomic_store_n(&staging.hold, false, __ATOMIC_SEQ_CST);
    return NULL;
}

/* While the checker thread writes no staged chunk, the loop hands over
 * four and then waits (REGION__STAGE_OUT_CHUNKS): counted with its time
 * in snap_stage_waits and snap_stage_wait_ns; let go, the transfer ends
 * with every key. Without the cap the loop hands over every chunk and
 * never waits. */
static void staging_waits_past_four_out(void **state)
{
    (void)state;
    struct cluster c = {0};
    struct cl_bulk d = {.n = 600, .gen = 9, .big_every = 50, .big = 20000};
    memset(&staging, 0, sizeof staging);
    staging.main = pthread_self();
    staging.hold = true;
    c.wrap = wrap_staging;
    solo_region(&c, 4096, 16, &d);
    c.snap_jobs_free = true; /* a held write keeps a job out */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, let_go, NULL), 0);
    assert_int_equal(
        cl_change_member(&c, 1, 1, REGION_CHANGE_ADD_LEARNER, 2, NULL), 0);
    for (int i = 0; i < 3000 && stats(&c, 2).snap_stage_waits == 0; i++)
        cl_tick(&c);
    assert_int_equal(pthread_join(t, NULL), 0);
    struct region_store_stats f = stats(&c, 2);
    assert_true(f.snap_stage_waits >= 1);
    assert_true(f.snap_stage_wait_ns > 0);
    c.snap_jobs_free = false;
    catch_up(&c, 2, &d, 0, d.n);
    assert_int_equal(staging.on_loop, 0);
    assert_int_equal(stats(&c, 2).snaps_applied, 1);
    cl_destroy(&c);
}

/* A staging write that fails on the checker thread (-EIO) fails the
 * receiver's next iteration and every one after, saying why; the
 * snapshot is not installed. It fits one chunk, so its ready also begins
 * the install: the move, queued behind the failed write, is refused (it
 * would install part of the snapshot: no marker is written). */
static void failed_stage_fails_the_store(void **state)
{
    (void)state;
    struct cluster c = {0};
    struct cl_bulk d = {.n = 100, .gen = 8};
    stage_to_learner(&c, &d, 0, true);
    struct region_store *s2 = c.st[2].s;
    int t;
    for (t = 0; t < 3000 && staging.failed == 0; t++)
        cl_tick(&c); /* cl_drain waits for the checker's jobs */
    assert_true(staging.failed > 0);
    for (int i = 0; i < 3; i++) {
        assert_int_not_equal(region_store_process(s2), 0);
        assert_non_null(strstr(region_store_errmsg(s2),
                               "staging a received snapshot's chunks "
                               "failed: Input/output error"));
    }
    for (t = 0; t < 200; t++)
        cl_tick(&c);
    assert_int_equal(region_store_region(s2, 1, NULL, NULL), REGION_ENOT_FOUND);
    assert_int_equal(local_keys(&c, 2, 'N'), 0); /* no install begun */
    assert_int_equal(staging.on_loop, 0);
    cl_destroy(&c);
}
/* The receiver's check of a stream on arrival, exactly, whatever the
 * chunks' size: a sound stream passes; one naming another region, one
 * with a record outside the region or in no CF, one cut short or longer
 * than its header says is refused, each with its reason; nothing stays
 * held (the fuzzer's 'S' case holds it to the same, on any bytes). */
static void stream_checked_in_any_chunks(void **state)
{
    (void)state;
    static struct region_store s;
    uint8_t b[1024];
    size_t n = stream_of(b, true, "k");
    for (size_t cut = 1; cut <= n; cut++)
        assert_null(region__snap_stream_check(&s, 1, b, n, cut));
    size_t cuts[] = {1, 3, 7, 64, n};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        size_t cut = cuts[i];
        assert_string_equal(region__snap_stream_check(&s, 2, b, n, cut),
                            "header names another region or size");
        n = stream_of(b, true, "z"); /* past the region's end, m */
        assert_string_equal(region__snap_stream_check(&s, 1, b, n, cut),
                            "record outside the region");
        n = stream_of(b, false, NULL);
        b[n - 19] = MVCC_CF_COUNT; /* the TTL record's CF (1+4+2+4+8) */
        assert_string_equal(region__snap_stream_check(&s, 1, b, n, cut),
                            "record outside the region");
        n = stream_of(b, true, "k");
        assert_string_equal(region__snap_stream_check(&s, 1, b, n - 1, cut),
                            "stream length does not match its header");
        b[n] = 0; /* one byte more than the header says */
        assert_non_null(region__snap_stream_check(&s, 1, b, n + 1, cut));
    }
    assert_int_equal(s.stats.snap_mem, 0);
}

/* A read ahead that fails on the checker thread (-EIO) drops the
 * snapshot at libraft's next read: RAFT_ESNAPOLD, so the transfer starts
 * over with a new one; nothing stays held. */
static void failed_read_starts_over(void **state)
{
    (void)state;
    struct cluster c = {0};
    memset(&counting, 0, sizeof counting);
    counting.main = pthread_self();
    c.wrap = wrap_counting;
    c.snap_chunk_bytes = 4096;
    struct region_peer *p = one_loaded_store(&c);
    struct region_store *s = c.st[1].s;
    const struct raft_snapshot *sn = NULL;
    assert_int_equal(p->stor.ops->snapshot(&p->stor, &sn), RAFT_ESNAPTEMP);
    region_store_split_checks_wait(s);
    assert_int_equal(p->stor.ops->snapshot(&p->stor, &sn), 0);
    uint64_t index = sn->meta.index;
    uint64_t n = sn->total < 4096 ? sn->total : 4096;
    uint8_t buf[4096];
    __atomic_store_n(&counting.fail_counts, true, __ATOMIC_SEQ_CST);
    assert_int_equal(p->stor.ops->snapshot_read(&p->stor, index, 0, buf, n),
                     RAFT_ESNAPTEMP);
    region__snap_jobs_wait(s); /* the read failed */
    __atomic_store_n(&counting.fail_counts, false, __ATOMIC_SEQ_CST);
    assert_non_null(p->tx[0]); /* kept until libraft reads again */
    assert_int_equal(p->stor.ops->snapshot_read(&p->stor, index, 0, buf, n),
                     RAFT_ESNAPOLD);
    assert_null(p->tx[0]);
    struct region_store_stats st;
    region_store_stats(s, &st);
    assert_int_equal(st.snap_mem, 0);
    assert_int_equal(p->stor.ops->snapshot(&p->stor, &sn), RAFT_ESNAPTEMP);
    cl_destroy(&c);
}

/* A move into place that fails on the checker thread (-EIO) fails the
 * receiver's next iteration, as a failed write of the loop's does, and
 * says which snapshot. */
static void failed_move_fails_the_store(void **state)
{
    (void)state;
    struct cluster c = {0};
    struct cl_bulk d = {.n = 100, .gen = 5, .big_every = 10, .big = 20000};
    install_held(&c, &d);
    struct region_store *s2 = c.st[2].s;
    struct region_peer *p = installing_peer(s2);
    assert_non_null(p);
    cl_gate_set(&gate, true, true); /* the move's iterator fails */
    region__snap_jobs_wait(s2);
    assert_true(p->inst_done);
    assert_int_not_equal(region_store_process(s2), 0);
    assert_non_null(
        strstr(region_store_errmsg(s2), "region 1: moving snapshot at "));
    assert_non_null(strstr(region_store_errmsg(s2), "Input/output error"));
    assert_null(p->inst); /* ended, the ready dropped with the iteration */
    assert_int_equal(stats(&c, 2).snaps_applied, 0);
    cl_destroy(&c);
    cl_gate_destroy(&gate);
}

/* Without threads (log_on_loop) the count is inline: a snapshot at once. */
static void counted_inline_without_threads(void **state)
{
    (void)state;
    struct cluster c = {0};
    c.log_on_loop = true;
    struct region_peer *p = one_loaded_store(&c);
    const struct raft_snapshot *sn = NULL;
    assert_int_equal(p->stor.ops->snapshot(&p->stor, &sn), 0);
    struct region_store_stats st;
    region_store_stats(c.st[1].s, &st);
    assert_int_equal(st.snaps_built, 1);
    cl_destroy(&c);
}

/* Put n records straight into every range of region 1 = [nil, nil) on
 * store i's engine (raw, TTL records, libmvcc's three CFs): what a
 * snapshot must carry whatever wrote it. */
static void fill_ranges(struct cluster *c, int i, int n)
{
    struct region_desc d;
    memset(&d, 0, sizeof d);
    d.id = 1;
    struct region_range r[REGION__N_RANGES];
    assert_int_equal(region__ranges(&d, r), 0);
    for (int j = 0; j < REGION__N_RANGES; j++)
        for (int k = 0; k < n; k++) {
            uint8_t key[32], val[64];
            memcpy(key, r[j].lo, r[j].lo_len);
            int kl = snprintf((char *)key + r[j].lo_len, 16, "~%d.%04d", j, k);
            memset(val, 'a' + j, sizeof val);
            region__put_u64(val, UINT64_MAX - (uint64_t)k); /* TTLs: far */
            size_t vl = j == REGION__RANGE_TTL ? 8 : 17 + (size_t)k % 40;
            assert_int_equal(mvcc_engine_put(c->st[i].eng, r[j].cf, key,
                                             r[j].lo_len + (size_t)kl, val,
                                             vl),
                             0);
        }
    region__ranges_free(r);
}

/* Whether stores a and b hold the same records in every range of region
 * 1 = [nil, nil); *n gets how many. */
static bool same_ranges(struct cluster *c, int a, int b, size_t *n)
{
    struct region_desc d;
    memset(&d, 0, sizeof d);
    d.id = 1;
    struct region_range r[REGION__N_RANGES];
    assert_int_equal(region__ranges(&d, r), 0);
    bool same = true;
    *n = 0;
    for (int j = 0; same && j < REGION__N_RANGES; j++) {
        struct mvcc_iter_opts io = {r[j].lo, r[j].lo_len, r[j].hi,
                                    r[j].hi_len};
        struct mvcc_iter *x = NULL, *y = NULL;
        assert_int_equal(mvcc_engine_iter(c->st[a].eng, NULL, r[j].cf, &io,
                                          &x),
                         0);
        assert_int_equal(mvcc_engine_iter(c->st[b].eng, NULL, r[j].cf, &io,
                                          &y),
                         0);
        assert_int_equal(x->ops->seek_to_first(x), 0);
        assert_int_equal(y->ops->seek_to_first(y), 0);
        while (same && x->ops->valid(x)) {
            size_t xk, xv, yk, yv;
            same = y->ops->valid(y);
            if (!same)
                break;
            const uint8_t *kx = x->ops->key(x, &xk);
            const uint8_t *vx = x->ops->value(x, &xv);
            const uint8_t *ky = y->ops->key(y, &yk);
            const uint8_t *vy = y->ops->value(y, &yv);
            same = xk == yk && xv == yv && memcmp(kx, ky, xk) == 0 &&
                   memcmp(vx, vy, xv) == 0;
            (*n)++;
            assert_int_equal(x->ops->next(x), 0);
            assert_int_equal(y->ops->next(y), 0);
        }
        same = same && !y->ops->valid(y);
        mvcc_iter_destroy(x);
        mvcc_iter_destroy(y);
    }
    region__ranges_free(r);
    return same;
}

/* Every range travels: raw keys, TTL records and libmvcc's three CFs, in
 * chunks that end inside records of every range. */
static void every_range_travels(void **state)
{
    (void)state;
    struct cluster c = {0};
    struct cl_bulk d = {.n = 40, .gen = 4};
    solo_region(&c, 4096, 4, &d);
    fill_ranges(&c, 1, 200);
    assert_int_equal(cl_change_member(&c, 1, 1, REGION_CHANGE_ADD_LEARNER, 2,
                                      NULL),
                     0);
    catch_up(&c, 2, &d, 0, d.n);
    size_t n = 0;
    assert_true(same_ranges(&c, 1, 2, &n));
    assert_int_equal(n, 40 + 5 * 200);
    assert_int_equal(stats(&c, 2).snaps_applied, 1);
    cl_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(big_region_bounded_memory),
        cmocka_unit_test(restart_mid_receive),
        cmocka_unit_test(crash_after_marker),
        cmocka_unit_test(crash_after_some_records),
        cmocka_unit_test(corrupt_chunk_refused),
        cmocka_unit_test(foreign_header_refused),
        cmocka_unit_test(short_stream_refused),
        cmocka_unit_test(reads_in_any_order),
        cmocka_unit_test(counted_off_the_loop),
        cmocka_unit_test(counted_inline_without_threads),
        cmocka_unit_test(read_off_the_loop),
        cmocka_unit_test(crc32c_known_answers),
        cmocka_unit_test(installed_off_the_loop),
        cmocka_unit_test(install_outlives_drops),
        cmocka_unit_test(failed_read_starts_over),
        cmocka_unit_test(failed_move_fails_the_store),
        cmocka_unit_test(split_child_waits_for_parent_install),
        cmocka_unit_test(staged_snapshots_claim_their_ranges),
        cmocka_unit_test(staged_off_the_loop),
        cmocka_unit_test(failed_stage_fails_the_store),
        cmocka_unit_test(staging_waits_past_four_out),
        cmocka_unit_test(stream_checked_in_any_chunks),
        cmocka_unit_test(every_range_travels),
    };
    return cmocka_run_group_tests_name("libregion/snapshot", tests, NULL, NULL);
}

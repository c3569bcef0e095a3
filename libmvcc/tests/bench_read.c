/* bench_read.c: the storage read path (Scan forward and reverse, Get,
 * BatchGet) over the RocksDB engine, side by side with the same reads done
 * directly on RocksDB (one version per key, no MVCC) in the same run
 * (DESIGN.md, "Benchmark: reads"). Prints BENCH lines; BENCH_SECONDS
 * (default 0.5) per run, BENCH_ROUNDS (3) alternating runs, the median of
 * each side kept.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rocksdb/c.h>

#include "testutil.h"

#define VAL_LEN 180  /* a sysbench row: c (120) + pad (60), inline */
#define SCAN_ROWS 100
#define BGET_KEYS 10

struct bench
{
    size_t rows;                /* user keys */
    int versions;               /* committed versions per key */
    mvcc_ts read_ts;            /* above every commit */
    struct mvcc_store *store;   /* libmvcc side */
    struct mvcc_client *client; /* over it (in-process transport) */
    rocksdb_t *db;              /* RocksDB side */
    rocksdb_readoptions_t *ro;  /* its read options */
    unsigned seed;              /* key picker */
    uint64_t sink;              /* bytes seen (keeps loops honest) */
};

static size_t key_of(char *buf, size_t i)
{
    return (size_t)snprintf(buf, 32, "t0001_r%012zu", i);
}

static void fail(const char *what, int rc)
{
    fprintf(stderr, "bench_read: %s: %s\n", what, mvcc_strerror(rc));
    exit(1);
}

/* Every key gets `versions` commits by 1PC prewrites of 100 keys. */
static void load(struct bench *b)
{
    char keys[100][32];
    uint8_t val[VAL_LEN];
    struct mvcc_mutation m[100];
    struct mvcc_result res;
    mvcc_result_init(&res);
    mvcc_ts ts = TU_TS(1000, 0);
    for (int v = 0; v < b->versions; v++) {
        for (size_t i = 0; i < b->rows; i += 100) {
            size_t n = b->rows - i < 100 ? b->rows - i : 100;
            for (size_t j = 0; j < n; j++) {
                memset(val, 'a' + (int)((i + j + (size_t)v) % 26), sizeof val);
                m[j] = (struct mvcc_mutation){MVCC_OP_PUT, keys[j],
                                              key_of(keys[j], i + j), val,
                                              sizeof val, false};
            }
            struct mvcc_prewrite_req req;
            memset(&req, 0, sizeof req);
            req.mutations = m;
            req.n = n;
            req.primary = keys[0];
            req.primary_len = strlen(keys[0]);
            req.start_ts = ts;
            req.lock_ttl = 3000;
            req.txn_size = n;
            req.try_one_pc = true;
            int rc = mvcc_prewrite(b->store, &req, &res);
            if (rc != 0)
                fail("load", rc);
            ts = res.commit_ts + 1;
            for (size_t j = 0; j < n && v == 0; j++) {
                char *err = NULL;
                rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
                rocksdb_put(b->db, wo, keys[j], strlen(keys[j]),
                            (const char *)val, sizeof val, &err);
                rocksdb_writeoptions_destroy(wo);
                if (err) {
                    fprintf(stderr, "bench_read: %s\n", err);
                    exit(1);
                }
            }
        }
    }
    b->read_ts = ts + 10;
    mvcc_result_reset(&res);
}

/* Store commands, then the same through a client transaction (what
 * sqld's local mode calls: the in-process transport, results moved up). */
enum op {
    OP_SCAN, OP_RSCAN, OP_KSCAN, OP_GET, OP_BGET, OP_TSCAN, OP_TGET,
    OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
    "scan100", "rscan100", "kscan100", "get", "bget10", "txn_scan100",
    "txn_get"};

static void mvcc_op(struct bench *b, int op, struct mvcc_result *res)
{
    size_t i = tu_rand(&b->seed) % (b->rows - SCAN_ROWS);
    char lo[32], hi[32];
    size_t ll = key_of(lo, i), hl = key_of(hi, i + SCAN_ROWS);
    struct mvcc_read_opts ro;
    memset(&ro, 0, sizeof ro);
    int rc;
    size_t want = SCAN_ROWS;
    switch (op) {
    case OP_TSCAN:
    case OP_TGET: {
        struct mvcc_txn *t;
        if ((rc = mvcc_txn_begin(b->client, &t)) != 0)
            fail("begin", rc);
        if (op == OP_TSCAN) {
            rc = mvcc_txn_scan(t, lo, ll, hi, hl, 0, res);
        } else {
            uint8_t *v = NULL;
            size_t vl = 0;
            rc = mvcc_txn_get(t, lo, ll, &v, &vl);
            b->sink += vl;
            mvcc_free(v);
        }
        mvcc_txn_rollback(t);
        if (op == OP_TGET) {
            if (rc != 0)
                fail(op_names[op], rc);
            return;
        }
        break;
    }
    case OP_GET:
        rc = mvcc_get(b->store, &ro, lo, ll, b->read_ts, res);
        want = 1;
        break;
    case OP_BGET: {
        char k[BGET_KEYS][32];
        struct mvcc_key keys[BGET_KEYS];
        for (size_t j = 0; j < BGET_KEYS; j++) {
            keys[j].data = k[j];
            keys[j].len = key_of(k[j], tu_rand(&b->seed) % b->rows);
        }
        rc = mvcc_batch_get(b->store, &ro, keys, BGET_KEYS, b->read_ts, res);
        want = BGET_KEYS; /* every key exists */
        break;
    }
    default:
        ro.reverse = op == OP_RSCAN;
        ro.key_only = op == OP_KSCAN;
        rc = mvcc_scan(b->store, &ro, lo, ll, hi, hl, b->read_ts, res);
        break;
    }
    if (rc != 0 || res->npairs != want)
        fail(op_names[op], rc ? rc : MVCC_EINTERNAL);
    b->sink += res->pairs[0].key_len + res->pairs[0].value_len;
}

/* The same answer straight from RocksDB: bounded iterator, or point get,
 * each key and value copied out as libmvcc's result does. */
static void rocks_op(struct bench *b, int op)
{
    size_t i = tu_rand(&b->seed) % (b->rows - SCAN_ROWS);
    char lo[32], hi[32];
    size_t ll = key_of(lo, i), hl = key_of(hi, i + SCAN_ROWS);
    char *err = NULL;
    if (op == OP_TSCAN)
        op = OP_SCAN;
    if (op == OP_GET || op == OP_BGET || op == OP_TGET) {
        size_t n = op == OP_BGET ? BGET_KEYS : 1;
        for (size_t j = 0; j < n; j++) {
            if (op == OP_BGET)
                ll = key_of(lo, tu_rand(&b->seed) % b->rows);
            rocksdb_pinnableslice_t *ps =
                rocksdb_get_pinned(b->db, b->ro, lo, ll, &err);
            if (err || ps == NULL)
                fail("rocksdb get", MVCC_EENGINE);
            size_t vl;
            const char *v = rocksdb_pinnableslice_value(ps, &vl);
            char *kc = malloc(ll), *vc = malloc(vl);
            memcpy(kc, lo, ll);
            memcpy(vc, v, vl);
            b->sink += vl + (uint8_t)vc[0];
            free(kc);
            free(vc);
            rocksdb_pinnableslice_destroy(ps);
        }
        return;
    }
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_iterate_lower_bound(ro, lo, ll);
    rocksdb_readoptions_set_iterate_upper_bound(ro, hi, hl);
    rocksdb_iterator_t *it = rocksdb_create_iterator(b->db, ro);
    char *kc[SCAN_ROWS], *vc[SCAN_ROWS];
    size_t n = 0;
    if (op == OP_RSCAN)
        rocksdb_iter_seek_to_last(it);
    else
        rocksdb_iter_seek_to_first(it);
    while (rocksdb_iter_valid(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        kc[n] = malloc(kl);
        memcpy(kc[n], k, kl);
        vc[n] = NULL;
        if (op != OP_KSCAN) {
            const char *v = rocksdb_iter_value(it, &vl);
            vc[n] = malloc(vl);
            memcpy(vc[n], v, vl);
        }
        n++;
        if (op == OP_RSCAN)
            rocksdb_iter_prev(it);
        else
            rocksdb_iter_next(it);
    }
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    if (n != SCAN_ROWS)
        fail("rocksdb scan", MVCC_EINTERNAL);
    for (size_t j = 0; j < n; j++) {
        b->sink += (uint8_t)kc[j][0];
        free(kc[j]);
        free(vc[j]);
    }
}

/* Operations per second of one side for `seconds`, or exactly `fixed`
 * operations (callgrind: --toggle-collect=run counts just these; never
 * inlined so that the name stays). */
__attribute__((noinline)) static double run(struct bench *b, int op,
                                            bool rocks, double seconds,
                                            long fixed)
{
    struct mvcc_result res;
    mvcc_result_init(&res);
    long done = 0;
    double t0 = tu_now_s(), el = 0;
    for (;;) {
        for (int j = 0; j < 16 && (!fixed || done < fixed); j++, done++) {
            if (rocks)
                rocks_op(b, op);
            else
                mvcc_op(b, op, &res);
        }
        el = tu_now_s() - t0;
        if (fixed ? done >= fixed : el >= seconds)
            break;
    }
    mvcc_result_reset(&res);
    return (double)done / el;
}

/* tu_bench_alternate's sides: libmvcc (0), then RocksDB (1). */
struct side_ctx
{
    struct bench *b; /* the loaded databases */
    int op;          /* enum op */
    double seconds;  /* run length */
};

static double run_side(void *ctx, int side)
{
    struct side_ctx *sc = ctx;
    return run(sc->b, sc->op, side == 1, sc->seconds, 0);
}

int main(void)
{
    double seconds;
    int rounds;
    tu_bench_env(&seconds, &rounds, 3);
    const char *vs = getenv("BENCH_VERSIONS");
    /* BENCH_PROFILE=<op> (libmvcc) or rocks_<op>: BENCH_OPS operations of
     * that one side (10x for gets), or "all" (for valgrind
     * --tool=callgrind, which repeats; see DESIGN "Benchmark: reads"). */
    const char *prof = getenv("BENCH_PROFILE");
    const char *ops = getenv("BENCH_OPS");

    struct bench b;
    memset(&b, 0, sizeof b);
    b.rows = 20000;
    b.versions = vs ? atoi(vs) : 3;
    if (b.versions < 1)
        b.versions = 1;
    b.seed = 42;
    /* libmvcc as sqld runs it: RocksDB with a write-only lock CF, a store
     * with a lock table. */
    char dir[] = "/tmp/mvcc-bench-read-XXXXXX";
    char rdir[] = "/tmp/mvcc-bench-rraw-XXXXXX";
    if (mkdtemp(dir) == NULL || mkdtemp(rdir) == NULL)
        return 1;
    struct mvcc_rocks_opts ropts;
    memset(&ropts, 0, sizeof ropts);
    ropts.path = dir;
    ropts.lock_cf_write_only = true;
    struct mvcc_engine *eng;
    char err[256];
    if (mvcc_rocksengine_open(&ropts, &eng, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct mvcc_store_opts so;
    memset(&so, 0, sizeof so);
    so.lock_table = true;
    int rc = mvcc_store_open(eng, &so, &b.store);
    if (rc != 0)
        fail("store open", rc);
    rocksdb_options_t *opt = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(opt, 1);
    char *e = NULL;
    b.db = rocksdb_open(opt, rdir, &e);
    if (e) {
        fprintf(stderr, "%s\n", e);
        return 1;
    }
    b.ro = rocksdb_readoptions_create();
    load(&b);
    struct mvcc_transport tr;
    struct mvcc_local_tso tso = {0};
    struct mvcc_client_opts co;
    memset(&co, 0, sizeof co);
    if ((rc = mvcc_local_transport_init(&tr, &b.store, 1, NULL)) != 0)
        fail("transport", rc);
    co.transport = tr;
    co.tso = mvcc_local_tso_next;
    co.tso_ctx = &tso;
    co.one_pc = true;
    if ((rc = mvcc_client_create(&co, &b.client)) != 0)
        fail("client", rc);

    if (prof) {
        /* "all": every op, libmvcc then RocksDB, in op_names order;
         * with valgrind --dump-after=run each run is a profile. */
        bool all = strcmp(prof, "all") == 0;
        bool rocks = strncmp(prof, "rocks_", 6) == 0;
        const char *name = rocks ? prof + 6 : prof;
        long n = ops ? atol(ops) : 1000;
        for (int op = 0; op < OP_COUNT; op++) {
            /* gets are cheap: ten times as many */
            long nop = op == OP_GET || op == OP_TGET ? 10 * n : n;
            if (all || strcmp(name, op_names[op]) == 0)
                run(&b, op, rocks, 0, nop);
            if (all)
                run(&b, op, true, 0, nop);
        }
        rounds = 0;
    }
    for (int op = 0; op < OP_COUNT && rounds > 0; op++) {
        struct side_ctx sc = {&b, op, seconds};
        double med[2];
        tu_bench_alternate(op_names[op], 2, rounds, run_side, &sc, med);
        double m = med[0], r = med[1];
        printf("BENCH mvcc_%s %.0f ops/s\n", op_names[op], m);
        printf("BENCH rocksdb_%s %.0f ops/s\n", op_names[op], r);
        printf("BENCH mvcc_%s_vs_rocksdb %.2f x\n", op_names[op], m / r);
        fflush(stdout);
    }

    mvcc_client_destroy(b.client);
    mvcc_local_transport_free(&tr);
    rocksdb_readoptions_destroy(b.ro);
    rocksdb_close(b.db);
    rocksdb_options_destroy(opt);
    mvcc_store_close(b.store);
    mvcc_engine_destroy(eng);
    tu_rmtree(dir);
    tu_rmtree(rdir);
    return b.sink == 0; /* never: every op saw bytes */
}

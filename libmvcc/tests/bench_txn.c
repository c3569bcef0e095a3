/* bench_txn.c: transactions per second of 1-key and 10-key read-write
 * transactions at 1 and 8 threads, libmvcc's client (1PC and 2PC) over the
 * RocksDB engine side by side with RocksDB's own optimistic transactions on
 * the same workload, in the same run (DESIGN.md, "Benchmark").
 * Prints BENCH lines; BENCH_SECONDS (default 0.5) sets each run's length,
 * BENCH_ROUNDS (default 5) how many alternating runs (OCC, 2PC, 1PC, OCC,
 * ...) each side's median is of.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <rocksdb/c.h>

#include "testutil.h"

#define KEYSPACE 100000

struct run
{
    int nkeys;                       /* keys per transaction */
    double seconds;                  /* run length */
    volatile int stop;               /* set when time is up */
    struct mvcc_client *client;      /* libmvcc side, or NULL */
    rocksdb_optimistictransactiondb_t *odb; /* RocksDB side, or NULL */
    rocksdb_writeoptions_t *wo;      /* RocksDB write options */
    rocksdb_readoptions_t *ro;       /* RocksDB read options */
    rocksdb_optimistictransaction_options_t *oo; /* txn options */
    uint64_t committed[8];           /* per-thread commits */
    uint64_t aborted[8];             /* per-thread conflicts */
    long fixed;                      /* txns per thread instead of time */
    long waits[8];                   /* per-thread voluntary context
                                        switches: blocking waits */
};

/* A thread's voluntary context switches so far: each is a wait that
 * blocked (a mutex, condition variable or RocksDB's write group, or I/O),
 * so it counts contention where wall-clock time on a shared machine
 * cannot. */
static long blocking_waits(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nvcsw : 0;
}

struct worker
{
    struct run *run; /* shared */
    int id;          /* thread index */
};

/* Distinct sorted keys for one transaction. */
static void pick(unsigned *seed, int n, char keys[][16])
{
    unsigned ids[16];
    for (int i = 0; i < n; i++) {
    again:
        ids[i] = tu_rand(seed) % KEYSPACE;
        for (int j = 0; j < i; j++)
            if (ids[j] == ids[i])
                goto again;
    }
    for (int i = 0; i < n; i++)
        snprintf(keys[i], 16, "k%06u", ids[i]);
}

static void *mvcc_worker(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    unsigned seed = 17u + (unsigned)w->id * 7919u;
    char keys[16][16];
    long waits0 = blocking_waits();
    for (long done = 0; !r->stop && (!r->fixed || done < r->fixed); done++) {
        pick(&seed, r->nkeys, keys);
        struct mvcc_txn *t;
        if (mvcc_txn_begin(r->client, &t) != 0)
            abort();
        int rc = 0;
        for (int i = 0; i < r->nkeys && rc == 0; i++) {
            uint8_t *v = NULL;
            size_t vl = 0;
            uint64_t n = 0;
            rc = mvcc_txn_get(t, keys[i], strlen(keys[i]), &v, &vl);
            if (rc == 0 && vl == sizeof n)
                memcpy(&n, v, sizeof n);
            mvcc_free(v);
            if (rc == MVCC_NOTFOUND)
                rc = 0;
            n++;
            if (rc == 0)
                rc = mvcc_txn_set(t, keys[i], strlen(keys[i]), &n, sizeof n);
        }
        if (rc != 0) {
            mvcc_txn_rollback(t);
        } else {
            rc = mvcc_txn_commit(t, NULL);
        }
        if (rc == 0)
            r->committed[w->id]++;
        else if (rc == MVCC_CONFLICT || rc == MVCC_LOCKED)
            r->aborted[w->id]++;
        else {
            fprintf(stderr, "mvcc txn: %s\n", mvcc_strerror(rc));
            abort();
        }
    }
    r->waits[w->id] = blocking_waits() - waits0;
    return NULL;
}

static void *rocks_worker(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    unsigned seed = 17u + (unsigned)w->id * 7919u;
    char keys[16][16];
    rocksdb_transaction_t *t = NULL;
    long waits0 = blocking_waits();
    for (long done = 0; !r->stop && (!r->fixed || done < r->fixed); done++) {
        pick(&seed, r->nkeys, keys);
        t = rocksdb_optimistictransaction_begin(r->odb, r->wo, r->oo, t);
        char *err = NULL;
        for (int i = 0; i < r->nkeys && err == NULL; i++) {
            size_t vl = 0;
            uint64_t n = 0;
            char *v = rocksdb_transaction_get_for_update(
                t, r->ro, keys[i], strlen(keys[i]), &vl, 1, &err);
            if (v && vl == sizeof n)
                memcpy(&n, v, sizeof n);
            rocksdb_free(v);
            n++;
            if (err == NULL)
                rocksdb_transaction_put(t, keys[i], strlen(keys[i]),
                                        (const char *)&n, sizeof n, &err);
        }
        if (err == NULL)
            rocksdb_transaction_commit(t, &err);
        if (err == NULL) {
            r->committed[w->id]++;
        } else {
            r->aborted[w->id]++;
            rocksdb_free(err);
            char *e2 = NULL;
            rocksdb_transaction_rollback(t, &e2);
            rocksdb_free(e2);
        }
    }
    if (t != NULL) /* NULL if the run ended before this thread began */
        rocksdb_transaction_destroy(t);
    r->waits[w->id] = blocking_waits() - waits0;
    return NULL;
}

static double run_threads(struct run *r, int threads, void *(*fn)(void *))
{
    pthread_t th[8];
    struct worker w[8];
    memset(r->committed, 0, sizeof r->committed);
    memset(r->aborted, 0, sizeof r->aborted);
    r->stop = 0;
    double t0 = tu_now_s();
    for (int i = 0; i < threads; i++) {
        w[i].run = r;
        w[i].id = i;
        pthread_create(&th[i], NULL, fn, &w[i]);
    }
    struct timespec d = {(time_t)r->seconds,
                         (long)((r->seconds - (double)(time_t)r->seconds) *
                                1e9)};
    if (!r->fixed) {
        nanosleep(&d, NULL);
        r->stop = 1;
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double el = tu_now_s() - t0;
    uint64_t c = 0;
    for (int i = 0; i < threads; i++)
        c += r->committed[i];
    return (double)c / el;
}

/* One cell's sides for tu_bench_alternate, in the order they run. */
enum { SIDE_OCC, SIDE_2PC, SIDE_1PC, NSIDES };
struct cell
{
    struct run *r;            /* shared run state */
    int threads;              /* threads per run */
    struct mvcc_client *c2pc; /* libmvcc without 1PC */
    struct mvcc_client *c1pc; /* and with it */
};

static double run_side(void *ctx, int side)
{
    struct cell *cl = ctx;
    if (side == SIDE_OCC)
        return run_threads(cl->r, cl->threads, rocks_worker);
    cl->r->client = side == SIDE_2PC ? cl->c2pc : cl->c1pc;
    return run_threads(cl->r, cl->threads, mvcc_worker);
}

int main(void)
{
    double seconds;
    int rounds;
    tu_bench_env(&seconds, &rounds, 5);
    /* BENCH_PROFILE=mvcc|mvcc2pc|occ: one side only (mvcc = 1PC),
     * BENCH_TXNS transactions of BENCH_KEYS keys (default 10) on each of
     * BENCH_THREADS threads (default 1; for valgrind --tool=callgrind
     * comparisons, which repeat exactly, and for counting lock waits and
     * context switches at 8 threads). */
    const char *prof = getenv("BENCH_PROFILE");
    const char *ft = getenv("BENCH_TXNS");

    /* libmvcc: RocksDB engine with its WAL (not synced), one shard, a
     * database per client so that each system's memtables hold only its
     * own writes. The store is the only writer of its engine, so it
     * keeps its locks in a lock table (DESIGN "Lock table");
     * BENCH_LOCK_TABLE=0 turns that off. */
    const char *ltenv = getenv("BENCH_LOCK_TABLE");
    bool lock_table = ltenv == NULL || strcmp(ltenv, "0") != 0;
    char dir[2][32] = {"/tmp/mvcc-bench-XXXXXX", "/tmp/mvcc-bench-XXXXXX"};
    char odir[] = "/tmp/mvcc-bench-occ-XXXXXX";
    if (mkdtemp(dir[0]) == NULL || mkdtemp(dir[1]) == NULL ||
        mkdtemp(odir) == NULL)
        return 1;
    struct mvcc_engine *eng[2];
    struct mvcc_store *store[2];
    struct mvcc_transport tr[2];
    struct mvcc_local_tso tso = {0};
    struct mvcc_client *cl[2];
    for (int i = 0; i < 2; i++) {
        struct mvcc_rocks_opts ropts;
        memset(&ropts, 0, sizeof ropts);
        ropts.path = dir[i];
        ropts.lock_cf_write_only = lock_table;
        char err[256];
        if (mvcc_rocksengine_open(&ropts, &eng[i], err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        struct mvcc_store_opts so;
        memset(&so, 0, sizeof so);
        so.lock_table = lock_table;
        if (mvcc_store_open(eng[i], &so, &store[i]) != 0)
            return 1;
        if (mvcc_local_transport_init(&tr[i], &store[i], 1, NULL) != 0)
            return 1;
        struct mvcc_client_opts co;
        memset(&co, 0, sizeof co);
        co.transport = tr[i];
        co.tso = mvcc_local_tso_next;
        co.tso_ctx = &tso;
        co.one_pc = i == 0;
        if (mvcc_client_create(&co, &cl[i]) != 0)
            return 1;
    }
    struct mvcc_client *c1pc = cl[0], *c2pc = cl[1];

    /* RocksDB optimistic transactions: same defaults, WAL on, no sync. */
    rocksdb_options_t *opt = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(opt, 1);
    char *e = NULL;
    rocksdb_optimistictransactiondb_t *odb =
        rocksdb_optimistictransactiondb_open(opt, odir, &e);
    if (e) {
        fprintf(stderr, "%s\n", e);
        return 1;
    }

    struct run r;
    memset(&r, 0, sizeof r);
    r.seconds = seconds;
    r.odb = odb;
    r.wo = rocksdb_writeoptions_create();
    r.ro = rocksdb_readoptions_create();
    r.oo = rocksdb_optimistictransaction_options_create();
    rocksdb_optimistictransaction_options_set_set_snapshot(r.oo, 1);

    if (prof) {
        r.fixed = ft ? atol(ft) : 1000;
        const char *nk = getenv("BENCH_KEYS");
        r.nkeys = nk ? atoi(nk) : 10;
        if (r.nkeys < 1 || r.nkeys > 16)
            r.nkeys = 10;
        r.client = strcmp(prof, "mvcc2pc") == 0 ? c2pc : c1pc;
        const char *nt = getenv("BENCH_THREADS");
        int pt = nt ? atoi(nt) : 1;
        pt = pt >= 1 && pt <= 8 ? pt : 1;
        run_threads(&r, pt, strcmp(prof, "occ") == 0 ? rocks_worker
                                                     : mvcc_worker);
        long waits = 0, done = 0;
        for (int i = 0; i < pt; i++) {
            waits += r.waits[i];
            done += (long)(r.committed[i] + r.aborted[i]);
        }
        printf("BENCH profile_%s_waits_per_txn %.3f waits\n", prof,
               done ? (double)waits / (double)done : 0.0);
        rounds = 0;
    }
    int sizes[] = {1, 10}, threads[] = {1, 8};
    for (int si = 0; si < 2 && rounds > 0; si++)
        for (int ti = 0; ti < 2; ti++) {
            r.nkeys = sizes[si];
            char name[64];
            snprintf(name, sizeof name, "%dkey_%dt", sizes[si], threads[ti]);
            /* The machine is shared: the three systems take turns and
             * each one's median counts. */
            struct cell cell = {&r, threads[ti], c2pc, c1pc};
            double med[NSIDES];
            tu_bench_alternate(name, NSIDES, rounds, run_side, &cell, med);
            double o = med[SIDE_OCC], m2 = med[SIDE_2PC], m1 = med[SIDE_1PC];
            printf("BENCH mvcc_1pc_%s %.0f txn/s\n", name, m1);
            printf("BENCH mvcc_2pc_%s %.0f txn/s\n", name, m2);
            printf("BENCH rocksdb_occ_%s %.0f txn/s\n", name, o);
            printf("BENCH mvcc_1pc_%s_vs_rocksdb_occ %.2f x\n", name, m1 / o);
            printf("BENCH mvcc_2pc_%s_vs_rocksdb_occ %.2f x\n", name, m2 / o);
            fflush(stdout);
        }

    rocksdb_optimistictransaction_options_destroy(r.oo);
    rocksdb_readoptions_destroy(r.ro);
    rocksdb_writeoptions_destroy(r.wo);
    rocksdb_optimistictransactiondb_close(odb);
    rocksdb_options_destroy(opt);
    for (int i = 0; i < 2; i++) {
        mvcc_client_destroy(cl[i]);
        mvcc_local_transport_free(&tr[i]);
        mvcc_store_close(store[i]);
        mvcc_engine_destroy(eng[i]);
        tu_rmtree(dir[i]);
    }
    tu_rmtree(odir);
    return 0;
}

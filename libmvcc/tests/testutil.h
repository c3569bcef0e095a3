/* testutil.h: helpers shared by libmvcc's test binaries: engine fixtures
 * (every engine test runs on the memory engine and on RocksDB in a
 * temporary directory), and small key/value helpers.
 */
#ifndef MVCC_TESTUTIL_H
#define MVCC_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mvcc.h"

/* Engine kinds; the _LT kinds open stores with a lock table (and the
 * RocksDB one a write-only lock CF), DESIGN "Lock table". */
enum tu_kind { TU_MEM = 0, TU_ROCKS = 1, TU_MEM_LT = 2, TU_ROCKS_LT = 3 };

struct tu_fix
{
    int kind;                /* enum tu_kind */
    struct mvcc_engine *eng; /* the engine under test */
    char dir[64];            /* RocksDB temporary directory, "" for memory */
};

/* Creates an engine of the kind (RocksDB under a fresh mkdtemp directory). */
int tu_fix_open(struct tu_fix *f, int kind);
/* Destroys the engine and removes the directory. */
void tu_fix_close(struct tu_fix *f);
/* Removes a directory tree. */
void tu_rmtree(const char *dir);

/* cmocka group/setup helpers: state is a struct tu_fix whose kind was set by
 * the prestate (&tu_kind_mem or &tu_kind_rocks). */
extern int tu_kind_mem;
extern int tu_kind_rocks;
extern int tu_kind_mem_lt;
extern int tu_kind_rocks_lt;
/* Store options for a fixture kind (lock_table for the _LT kinds). */
void tu_store_opts(int kind, struct mvcc_store_opts *o);
int tu_setup(void **state);
int tu_teardown(void **state);

/* A store over a fixture engine. */
struct tu_store
{
    struct tu_fix f;       /* engine */
    struct mvcc_store *s;  /* store over it */
    struct mvcc_result r;  /* a result to reuse */
};
int tu_store_setup(void **state);
int tu_store_teardown(void **state);

/* Seconds on the monotonic clock (benchmarks). */
double tu_now_s(void);
/* A small deterministic generator: the next of *seed, 24 bits. */
unsigned tu_rand(unsigned *seed);

/* Benchmarks on a shared machine. BENCH_SECONDS (default 0.5) into
 * *seconds and BENCH_ROUNDS (default def_rounds) into *rounds. */
void tu_bench_env(double *seconds, int *rounds, int def_rounds);
/* Runs `rounds` rounds of run(ctx, side) for side 0..nsides-1 in turn
 * (0, 1, 2, 0, 1, 2, ...), so that load which comes and goes falls on
 * every side alike, and stores each side's median rate in med[side]
 * (rounds >= 1, nsides <= 8); each round's rates go to stderr as a
 * "# <label> round r: a b c" line. */
void tu_bench_alternate(const char *label, int nsides, int rounds,
                        double (*run)(void *ctx, int side), void *ctx,
                        double *med);

/* A timestamp from physical milliseconds and a logical part. */
#define TU_TS(ms, logical) (((mvcc_ts)(ms) << 18) | (mvcc_ts)(logical))

/* Three stores over one fixture engine (shards split at "g" and "p"), an
 * in-process transport and a client over them. */
struct tu_cluster
{
    struct tu_fix f;                 /* engine */
    struct mvcc_store *s[3];         /* shards */
    struct mvcc_transport tr;        /* in-process transport */
    struct mvcc_local_tso tso;       /* oracle */
    struct mvcc_client *c;           /* client with default options */
};
int tu_cluster_open(struct tu_cluster *k, int kind,
                    const struct mvcc_client_opts *copts);
void tu_cluster_close(struct tu_cluster *k);
int tu_cluster_setup(void **state);
int tu_cluster_teardown(void **state);
#define TU_BOTH_CLUSTER(fn)                                                  \
    {"mem/" #fn, fn, tu_cluster_setup, tu_cluster_teardown, &tu_kind_mem},   \
    {"rocks/" #fn, fn, tu_cluster_setup, tu_cluster_teardown,                \
     &tu_kind_rocks},                                                        \
    {"memlt/" #fn, fn, tu_cluster_setup, tu_cluster_teardown,                \
     &tu_kind_mem_lt},                                                       \
    {                                                                        \
        "rockslt/" #fn, fn, tu_cluster_setup, tu_cluster_teardown,           \
            &tu_kind_rocks_lt                                                \
    }

/* Four cmocka entries for one store test: each engine, without and with
 * a lock table. */
#define TU_BOTH_STORE(fn)                                                    \
    {"mem/" #fn, fn, tu_store_setup, tu_store_teardown, &tu_kind_mem},       \
    {"rocks/" #fn, fn, tu_store_setup, tu_store_teardown, &tu_kind_rocks},   \
    {"memlt/" #fn, fn, tu_store_setup, tu_store_teardown, &tu_kind_mem_lt},  \
    {                                                                        \
        "rockslt/" #fn, fn, tu_store_setup, tu_store_teardown,               \
            &tu_kind_rocks_lt                                                \
    }

/* Two cmocka entries for one test: "mem/<fn>" and "rocks/<fn>". */
#define TU_BOTH(fn)                                                     \
    {"mem/" #fn, fn, tu_setup, tu_teardown, &tu_kind_mem},              \
    {                                                                   \
        "rocks/" #fn, fn, tu_setup, tu_teardown, &tu_kind_rocks         \
    }

/* Two entries whose state is just the kind (tests that build their own). */
#define TU_BOTH_KIND(fn)                                                \
    {"mem/" #fn, fn, NULL, NULL, &tu_kind_mem},                         \
    {                                                                   \
        "rocks/" #fn, fn, NULL, NULL, &tu_kind_rocks                    \
    }

/* Four entries whose state is just the kind: each engine, without and
 * with a lock table (tests that build their own stores). */
#define TU_FOUR_KIND(fn)                                                \
    {"mem/" #fn, fn, NULL, NULL, &tu_kind_mem},                         \
    {"rocks/" #fn, fn, NULL, NULL, &tu_kind_rocks},                     \
    {"memlt/" #fn, fn, NULL, NULL, &tu_kind_mem_lt},                    \
    {                                                                   \
        "rockslt/" #fn, fn, NULL, NULL, &tu_kind_rocks_lt               \
    }

/* Prewrites key k (a put of "v") for start_ts with k as its own primary
 * and a 3000 ms TTL: mvcc_prewrite's code, the result in r. */
int tu_prewrite_put(struct mvcc_store *s, const char *k, mvcc_ts start_ts,
                    struct mvcc_result *r);
/* The same, converting our pessimistic lock (for_update_ts = start_ts)
 * and/or as 1PC. */
int tu_prewrite_put_ex(struct mvcc_store *s, const char *k, mvcc_ts start_ts,
                       bool pessimistic, bool one_pc, struct mvcc_result *r);
/* Prewrites mutations m[0..n) of one transaction whose primary is
 * primary (3000 ms TTL, txn_size n). */
int tu_prewrite_muts(struct mvcc_store *s, const struct mvcc_mutation *m,
                     size_t n, const char *primary, mvcc_ts start_ts,
                     struct mvcc_result *r);
/* The same with the lock's TTL in ms. */
int tu_prewrite_ttl(struct mvcc_store *s, const struct mvcc_mutation *m,
                    size_t n, const char *primary, mvcc_ts start_ts,
                    uint64_t ttl_ms, struct mvcc_result *r);
/* The same with value v (NULL: a delete): the one-key prewrite every
 * suite shares. */
int tu_prewrite_kv(struct mvcc_store *s, const char *k, const char *v,
                   mvcc_ts start_ts, bool pessimistic, bool one_pc,
                   struct mvcc_result *r);
/* The same with the txn's for_update_ts (0: optimistic) and k marked as
 * holding our pessimistic lock or not (locked). */
int tu_prewrite_fut(struct mvcc_store *s, const char *k, const char *v,
                    mvcc_ts start_ts, mvcc_ts for_update_ts, bool locked,
                    bool one_pc, struct mvcc_result *r);

/* The store of t reads string k at ts as want (NULL: not found). */
void tu_get_is(struct tu_store *t, const char *k, mvcc_ts ts,
               const char *want);
/* The same for store s, the answer in r. */
void tu_store_get_is(struct mvcc_store *s, struct mvcc_result *r,
                     const char *k, mvcc_ts ts, const char *want);
/* Client-side assertions: buffer a write of string k = v; t reads k as
 * want (NULL: not found); a fresh transaction of c reads k as want. */
void tu_txn_set(struct mvcc_txn *t, const char *k, const char *v);
void tu_txn_get_is(struct mvcc_txn *t, const char *k, const char *want);
void tu_client_get_is(struct mvcc_client *c, const char *k,
                      const char *want);

#endif

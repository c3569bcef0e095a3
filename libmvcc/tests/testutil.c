/* testutil.c: engine fixtures for libmvcc's tests (see testutil.h). */
#include <ftw.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "testutil.h"

int tu_kind_mem = TU_MEM;
int tu_kind_rocks = TU_ROCKS;
int tu_kind_mem_lt = TU_MEM_LT;
int tu_kind_rocks_lt = TU_ROCKS_LT;

void tu_store_opts(int kind, struct mvcc_store_opts *o)
{
    memset(o, 0, sizeof *o);
    o->lock_table = kind == TU_MEM_LT || kind == TU_ROCKS_LT;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int tu_fix_open(struct tu_fix *f, int kind)
{
    memset(f, 0, sizeof *f);
    f->kind = kind;
    if (kind == TU_MEM || kind == TU_MEM_LT)
        return mvcc_memengine_create(&f->eng);
    snprintf(f->dir, sizeof f->dir, "/tmp/mvcc-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    struct mvcc_rocks_opts o;
    memset(&o, 0, sizeof o);
    o.path = f->dir;
    o.block_cache_bytes = (size_t)8 << 20;
    o.disable_wal = true;
    o.lock_cf_write_only = kind == TU_ROCKS_LT;
    char err[256];
    int rc = mvcc_rocksengine_open(&o, &f->eng, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err);
        tu_rmtree(f->dir);
    }
    return rc;
}

void tu_fix_close(struct tu_fix *f)
{
    mvcc_engine_destroy(f->eng);
    f->eng = NULL;
    if (f->dir[0])
        tu_rmtree(f->dir);
}

int tu_setup(void **state)
{
    int kind = *(int *)*state;
    struct tu_fix *f = malloc(sizeof *f);
    if (f == NULL || tu_fix_open(f, kind) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int tu_teardown(void **state)
{
    struct tu_fix *f = *state;
    tu_fix_close(f);
    free(f);
    return 0;
}

int tu_store_setup(void **state)
{
    int kind = *(int *)*state;
    struct tu_store *t = calloc(1, sizeof *t);
    if (t == NULL || tu_fix_open(&t->f, kind) != 0) {
        free(t);
        return -1;
    }
    struct mvcc_store_opts so;
    tu_store_opts(kind, &so);
    if (mvcc_store_open(t->f.eng, &so, &t->s) != 0) {
        tu_fix_close(&t->f);
        free(t);
        return -1;
    }
    mvcc_result_init(&t->r);
    *state = t;
    return 0;
}

int tu_store_teardown(void **state)
{
    struct tu_store *t = *state;
    mvcc_result_reset(&t->r);
    mvcc_store_close(t->s);
    tu_fix_close(&t->f);
    free(t);
    return 0;
}

int tu_cluster_open(struct tu_cluster *k, int kind,
                    const struct mvcc_client_opts *copts)
{
    memset(k, 0, sizeof *k);
    if (tu_fix_open(&k->f, kind) != 0)
        return -1;
    /* With lock tables each store sees only the locks it wrote: fine, as
     * every key belongs to one shard. */
    struct mvcc_store_opts so;
    tu_store_opts(kind, &so);
    for (int i = 0; i < 3; i++)
        if (mvcc_store_open(k->f.eng, &so, &k->s[i]) != 0)
            goto fail;
    struct mvcc_key splits[] = {{"g", 1}, {"p", 1}};
    if (mvcc_local_transport_init(&k->tr, k->s, 3, splits) != 0)
        goto fail;
    struct mvcc_client_opts o;
    if (copts)
        o = *copts;
    else
        memset(&o, 0, sizeof o);
    o.transport = k->tr;
    o.tso = mvcc_local_tso_next;
    o.tso_ctx = &k->tso;
    if (mvcc_client_create(&o, &k->c) != 0)
        goto fail;
    return 0;
fail:
    tu_cluster_close(k);
    return -1;
}

void tu_cluster_close(struct tu_cluster *k)
{
    mvcc_client_destroy(k->c);
    mvcc_local_transport_free(&k->tr);
    for (int i = 0; i < 3; i++)
        mvcc_store_close(k->s[i]);
    if (k->f.eng)
        tu_fix_close(&k->f);
    memset(k, 0, sizeof *k);
}

int tu_cluster_setup(void **state)
{
    int kind = *(int *)*state;
    struct tu_cluster *k = malloc(sizeof *k);
    if (k == NULL || tu_cluster_open(k, kind, NULL) != 0) {
        free(k);
        return -1;
    }
    *state = k;
    return 0;
}

int tu_cluster_teardown(void **state)
{
    struct tu_cluster *k = *state;
    tu_cluster_close(k);
    free(k);
    return 0;
}

double tu_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

unsigned tu_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 8;
}

void tu_bench_env(double *seconds, int *rounds, int def_rounds)
{
    const char *sec = getenv("BENCH_SECONDS");
    const char *rs = getenv("BENCH_ROUNDS");
    *seconds = sec ? atof(sec) : 0.5;
    *rounds = rs ? atoi(rs) : def_rounds;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void tu_bench_alternate(const char *label, int nsides, int rounds,
                        double (*run)(void *ctx, int side), void *ctx,
                        double *med)
{
    enum { MAX_SIDES = 8 };
    size_t n = rounds > 0 ? (size_t)rounds : 0;
    double *rate[MAX_SIDES] = {NULL};
    for (int side = 0; side < nsides && side < MAX_SIDES; side++) {
        med[side] = 0;
        if (n && (rate[side] = calloc(n, sizeof(double))) == NULL)
            abort();
    }
    for (size_t r = 0; r < n; r++) {
        fprintf(stderr, "# %s round %zu:", label, r + 1);
        for (int side = 0; side < nsides && side < MAX_SIDES; side++) {
            rate[side][r] = run(ctx, side);
            fprintf(stderr, " %.0f", rate[side][r]);
        }
        fputc('\n', stderr);
    }
    for (int side = 0; side < nsides && side < MAX_SIDES && n; side++) {
        qsort(rate[side], n, sizeof(double), cmp_double);
        med[side] = n % 2 ? rate[side][n / 2]
                          : (rate[side][n / 2 - 1] + rate[side][n / 2]) / 2;
        free(rate[side]);
    }
}

void tu_txn_set(struct mvcc_txn *t, const char *k, const char *v)
{
    assert_int_equal(mvcc_txn_set(t, k, strlen(k), v, strlen(v)), 0);
}

void tu_txn_get_is(struct mvcc_txn *t, const char *k, const char *want)
{
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = mvcc_txn_get(t, k, strlen(k), &v, &vl);
    if (want == NULL) {
        assert_int_equal(rc, MVCC_NOTFOUND);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(vl, strlen(want));
    assert_memory_equal(v, want, vl);
    mvcc_free(v);
}

void tu_client_get_is(struct mvcc_client *c, const char *k, const char *want)
{
    struct mvcc_txn *t;
    assert_int_equal(mvcc_txn_begin(c, &t), 0);
    tu_txn_get_is(t, k, want);
    mvcc_txn_rollback(t);
}

void tu_get_is(struct tu_store *t, const char *k, mvcc_ts ts,
               const char *want)
{
    tu_store_get_is(t->s, &t->r, k, ts, want);
}

void tu_store_get_is(struct mvcc_store *s, struct mvcc_result *r,
                     const char *k, mvcc_ts ts, const char *want)
{
    int rc = mvcc_get(s, NULL, k, strlen(k), ts, r);
    if (want == NULL) {
        assert_int_equal(rc, MVCC_NOTFOUND);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(r->npairs, 1);
    assert_int_equal(r->pairs[0].value_len, strlen(want));
    assert_memory_equal(r->pairs[0].value, want, strlen(want));
}

int tu_prewrite_fut(struct mvcc_store *s, const char *k, const char *v,
                    mvcc_ts start_ts, mvcc_ts for_update_ts, bool locked,
                    bool one_pc, struct mvcc_result *r)
{
    struct mvcc_mutation m = {v ? MVCC_OP_PUT : MVCC_OP_DELETE, k, strlen(k),
                              v, v ? strlen(v) : 0, locked};
    struct mvcc_prewrite_req req;
    memset(&req, 0, sizeof req);
    req.mutations = &m;
    req.n = 1;
    req.primary = k;
    req.primary_len = strlen(k);
    req.start_ts = start_ts;
    req.for_update_ts = for_update_ts;
    req.lock_ttl = 3000;
    req.try_one_pc = one_pc;
    return mvcc_prewrite(s, &req, r);
}

int tu_prewrite_kv(struct mvcc_store *s, const char *k, const char *v,
                   mvcc_ts start_ts, bool pessimistic, bool one_pc,
                   struct mvcc_result *r)
{
    return tu_prewrite_fut(s, k, v, start_ts, pessimistic ? start_ts : 0,
                           pessimistic, one_pc, r);
}

int tu_prewrite_ttl(struct mvcc_store *s, const struct mvcc_mutation *m,
                    size_t n, const char *primary, mvcc_ts start_ts,
                    uint64_t ttl_ms, struct mvcc_result *r)
{
    struct mvcc_prewrite_req req;
    memset(&req, 0, sizeof req);
    req.mutations = m;
    req.n = n;
    req.primary = primary;
    req.primary_len = strlen(primary);
    req.start_ts = start_ts;
    req.lock_ttl = ttl_ms;
    req.txn_size = n;
    return mvcc_prewrite(s, &req, r);
}

int tu_prewrite_muts(struct mvcc_store *s, const struct mvcc_mutation *m,
                     size_t n, const char *primary, mvcc_ts start_ts,
                     struct mvcc_result *r)
{
    return tu_prewrite_ttl(s, m, n, primary, start_ts, 3000, r);
}

int tu_prewrite_put_ex(struct mvcc_store *s, const char *k, mvcc_ts start_ts,
                       bool pessimistic, bool one_pc, struct mvcc_result *r)
{
    return tu_prewrite_kv(s, k, "v", start_ts, pessimistic, one_pc, r);
}

int tu_prewrite_put(struct mvcc_store *s, const char *k, mvcc_ts start_ts,
                    struct mvcc_result *r)
{
    return tu_prewrite_put_ex(s, k, start_ts, false, false, r);
}

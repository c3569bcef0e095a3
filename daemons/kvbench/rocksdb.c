/* rocksdb.c: kvbench's RocksDB baseline: the engine kvd itself runs on
 * (libmvcc's RocksDB engine, default column family, same block cache
 * default), written once without sync, then point gets from every client
 * thread on the shared handle (the engine is thread-safe); puts, when
 * asked for, are single-op batches written with sync.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvbench.h"
#include "mvcc.h"

struct kvb_conn {
    struct mvcc_engine *eng;  /* shared, owned by main */
    struct mvcc_wbatch *b;    /* this client's put batch */
};

int kvb_rocksdb_load(const char *dir, uint64_t n, size_t key_size,
                     size_t value_size, struct mvcc_engine **out, char *err,
                     size_t errlen)
{
    struct mvcc_rocks_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.path = dir;
    struct mvcc_engine *e = NULL;
    struct mvcc_wbatch *b = NULL;
    uint8_t *key = NULL, *val = NULL;
    int rc = mvcc_rocksengine_open(&ro, &e, err, errlen);
    if (rc != 0)
        goto err;
    rc = mvcc_wbatch_create(&b);
    key = malloc(key_size);
    val = malloc(value_size);
    if (rc != 0 || key == NULL || val == NULL) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
        goto err_engine;
    }
    for (size_t i = 0; i < value_size; i++)
        val[i] = (uint8_t)('a' + i % 26);
    for (uint64_t i = 0; i < n; i++) {
        kvb_key(i, key, key_size);
        rc = mvcc_wbatch_put(b, MVCC_CF_DEFAULT, key, key_size, val,
                             value_size);
        if (rc == 0 && (mvcc_wbatch_count(b) == 1000 || i + 1 == n)) {
            rc = mvcc_engine_write(e, b, false);
            mvcc_wbatch_clear(b);
        }
        if (rc != 0) {
            snprintf(err, errlen, "load: %s", mvcc_engine_errmsg(e));
            goto err_engine;
        }
    }
    free(key);
    free(val);
    mvcc_wbatch_destroy(b);
    *out = e;
    return 0;
err_engine:
    free(key);
    free(val);
    mvcc_wbatch_destroy(b);
    mvcc_engine_destroy(e);
err:
    return -1;
}

static int rdb_open(const struct kvb_opts *o, int idx, struct kvb_conn **out,
                    char *err, size_t errlen)
{
    (void)idx;
    struct kvb_conn *c = calloc(1, sizeof *c);
    if (c == NULL || mvcc_wbatch_create(&c->b) != 0) {
        free(c);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->eng = o->eng;
    *out = c;
    return 0;
}

static int rdb_put(struct kvb_conn *c, const uint8_t *k, size_t kl,
                   const uint8_t *v, size_t vl, char *err, size_t errlen)
{
    mvcc_wbatch_clear(c->b);
    int rc = mvcc_wbatch_put(c->b, MVCC_CF_DEFAULT, k, kl, v, vl);
    if (rc == 0)
        rc = mvcc_engine_write(c->eng, c->b, true);
    if (rc != 0) {
        snprintf(err, errlen, "%s", mvcc_engine_errmsg(c->eng));
        return -1;
    }
    return 0;
}

static int rdb_get(struct kvb_conn *c, const uint8_t *k, size_t kl,
                   size_t *vl_out, char *err, size_t errlen)
{
    uint8_t *v = NULL;
    size_t vl = 0;
    int rc = mvcc_engine_get(c->eng, NULL, MVCC_CF_DEFAULT, k, kl, &v, &vl);
    if (rc == MVCC_NOTFOUND)
        return 1;
    if (rc != 0) {
        snprintf(err, errlen, "%s", mvcc_engine_errmsg(c->eng));
        return -1;
    }
    mvcc_free(v);
    *vl_out = vl;
    return 0;
}

static void rdb_close(struct kvb_conn *c)
{
    if (c == NULL)
        return;
    mvcc_wbatch_destroy(c->b);
    free(c);
}

const struct kvb_target kvb_rocksdb_target = {
    "rocksdb", rdb_open, rdb_put, rdb_get, rdb_close, NULL, NULL};

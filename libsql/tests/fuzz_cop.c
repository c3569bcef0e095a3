/* fuzz_cop.c: libFuzzer target for the coprocessor's decoders (cop.c),
 * which kvd runs on bytes from the network: any input must decode or
 * answer SQL_EPROTO without reading out of bounds; a request that decodes
 * encodes again and decodes to the same fields (version 2's mode, group
 * and sort keys, aggregate calls; version 3's flags and projection); and
 * sql_cop_run itself (request, table record, expression texts through the
 * parser) answers a code on a store of a few keys, ascending and
 * descending, bounded or not, never a crash. DESIGN.md, "Coprocessor".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mvcc.h>
#include <sql.h>

#include "cop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mvcc_store *store(void)
{
    static struct mvcc_store *s;
    if (s == NULL) {
        struct mvcc_engine *e;
        if (mvcc_memengine_create(&e) != 0)
            abort();
        struct mvcc_store_opts o = {.lock_table = false};
        if (mvcc_store_open(e, &o, &s) != 0)
            abort();
        /* a few committed keys in [t, u): not rows of any table, so
         * every answer stays empty, but pages are read both ways */
        static const char *const keys[] = {"t", "t1", "t2", "tz"};
        for (size_t i = 0; i < 4; i++) {
            struct mvcc_mutation m = {.op = MVCC_OP_PUT,
                                      .key = keys[i],
                                      .key_len = strlen(keys[i]),
                                      .value = "v",
                                      .value_len = 1};
            struct mvcc_prewrite_req pw = {.mutations = &m,
                                           .n = 1,
                                           .primary = keys[i],
                                           .primary_len = strlen(keys[i]),
                                           .start_ts = 10,
                                           .lock_ttl = 1000};
            struct mvcc_result r;
            mvcc_result_init(&r);
            struct mvcc_key k = {keys[i], strlen(keys[i])};
            if (mvcc_prewrite(s, &pw, &r) != 0 ||
                mvcc_commit(s, &k, 1, 10, 11, &r) != 0)
                abort();
            mvcc_result_reset(&r);
        }
    }
    return s;
}

static void check_req(const uint8_t *data, size_t size)
{
    struct sql_arena *a = sql__arena_create(0);
    if (a == NULL)
        return;
    struct sql_cop_req q, q2;
    struct sql__buf b = {0};
    if (sql__cop_req_decode(data, size, a, &q) == 0 &&
        sql__cop_req_encode(&q, &b) == 0) {
        if (sql__cop_req_decode(b.p, b.len, a, &q2) != 0 ||
            q2.sql_mode != q.sql_mode || q2.tz_offset_s != q.tz_offset_s ||
            q2.max_rows != q.max_rows || q2.nconds != q.nconds ||
            q2.table_len != q.table_len ||
            memcmp(q2.table, q.table, q.table_len) != 0)
            abort();
        for (size_t i = 0; i < q.nconds; i++)
            if (q2.cond_lens[i] != q.cond_lens[i] ||
                memcmp(q2.conds[i], q.conds[i], q.cond_lens[i]) != 0)
                abort();
        /* version 2: the mode and its expressions (AGG, TOPN) */
        if (q2.mode != q.mode || q2.nkeys != q.nkeys || q2.naggs != q.naggs ||
            q2.index != q.index || q2.flags != q.flags ||
            q2.nproj != q.nproj)
            abort();
        for (size_t i = 0; i < q.nproj; i++)
            if (q2.proj[i] != q.proj[i])
                abort();
        for (size_t i = 0; q.mode != SQL_COP_ROWS && i < q.nkeys + q.naggs;
             i++)
            if (q2.expr_lens[i] != q.expr_lens[i] ||
                memcmp(q2.exprs[i], q.exprs[i], q.expr_lens[i]) != 0 ||
                q2.desc[i] != q.desc[i])
                abort();
    }
    sql__buf_free(&b);
    sql__arena_destroy(a);
}

static void check_resp(const uint8_t *data, size_t size)
{
    struct sql_cop_resp r;
    if (sql__cop_resp_decode(data, size, &r) != 0)
        return;
    size_t off = 0, kl, vl, n = 0;
    const uint8_t *k, *v;
    while (sql__cop_resp_row(&r, &off, &k, &kl, &v, &vl) == 1)
        n++;
    if (n != r.nrows)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_req(data, size);
    check_resp(data, size);
    /* [t, u), then unbounded above (a descending read starts at the top) */
    for (int pass = 0; pass < 2; pass++) {
        struct mvcc_result res;
        mvcc_result_init(&res);
        uint8_t *resp = NULL;
        size_t resp_len = 0;
        if (sql_cop_run(NULL, store(), "t", 1, pass ? NULL : "u",
                        pass ? 0 : 1, 100, data, size, &resp, &resp_len,
                        &res) == 0) {
            struct sql_cop_resp r;
            if (sql__cop_resp_decode(resp, resp_len, &r) != 0 ||
                r.nrows != 0)
                abort();
        }
        mvcc_free(resp);
        mvcc_result_reset(&res);
    }
    return 0;
}

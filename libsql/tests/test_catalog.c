/* test_catalog.c: catalog records (a table with every kind of field round
 * trips; truncated or corrupted records are SQL_EPROTO, never a crash),
 * the cache loaded from the store, meta counters, and AUTO_INCREMENT
 * ranges (batches, rebase, no reuse after a reload).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "catalog.h"
#include "tablecodec.h"

static struct sql_tableinfo *sample(void)
{
    struct sql_tableinfo *t = sql__tableinfo_new();
    assert_non_null(t);
    struct sql_arena *a = t->arena;
    t->id = 42;
    t->db_id = 7;
    t->name = "orders";
    t->comment = "the orders";
    t->charset = "utf8mb4";
    t->collate = "utf8mb4_bin";
    t->auto_inc_start = 100;
    t->ncols = 3;
    t->next_col_id = 5;
    t->cols = sql__arena_zalloc(a, sizeof(*t->cols) * 3);
    t->cols[0] = (struct sql_colinfo){.id = 1, .name = "id",
                                      .type_sql = "bigint",
                                      .not_null = true, .auto_inc = true};
    t->cols[0].type.tp = 8;
    t->cols[1] = (struct sql_colinfo){.id = 3, .name = "state",
                                      .type_sql = "enum('a','b')",
                                      .has_default = true,
                                      .default_sql = "'a'",
                                      .comment = "its state"};
    static const char *const el[] = {"a", "b"};
    t->cols[1].type.tp = 247;
    t->cols[1].type.elems = el;
    t->cols[1].type.nelems = 2;
    t->cols[1].type.coll = 45;
    t->cols[2] = (struct sql_colinfo){.id = 4, .name = "note",
                                      .type_sql = "varchar(10)",
                                      .has_default = true};
    t->cols[2].type.tp = 253;
    t->cols[2].type.len = 10;
    t->cols[2].type.dec = -1;
    t->nidx = 2;
    t->idx = sql__arena_zalloc(a, sizeof(*t->idx) * 2);
    static uint32_t c0[] = {0}, c1[] = {1, 2};
    static int32_t p0[] = {-1}, p1[] = {-1, 4};
    t->idx[0] = (struct sql_idxinfo){.id = 43, .name = "PRIMARY",
                                     .primary = true, .unique = true,
                                     .ncols = 1, .cols = c0, .prefix = p0};
    t->idx[1] = (struct sql_idxinfo){.id = 44, .name = "sn", .ncols = 2,
                                     .cols = c1, .prefix = p1,
                                     .comment = "c"};
    t->handle_col = 0;
    t->pk_handle_idx = 0;
    return t;
}

static void table_record_round_trips(void **state)
{
    (void)state;
    struct sql_tableinfo *t = sample();
    struct sql__buf b = {0};
    assert_int_equal(sql__table_encode(t, &b), 0);
    struct sql_tableinfo *u = NULL;
    assert_int_equal(sql__table_decode(b.p, b.len, &u), 0);
    assert_int_equal(u->id, 42);
    assert_int_equal(u->db_id, 7);
    assert_string_equal(u->name, "orders");
    assert_string_equal(u->comment, "the orders");
    assert_string_equal(u->collate, "utf8mb4_bin");
    assert_int_equal(u->auto_inc_start, 100);
    assert_int_equal(u->next_col_id, 5);
    assert_int_equal(u->ncols, 3);
    assert_true(u->cols[0].auto_inc && u->cols[0].not_null);
    assert_string_equal(u->cols[1].default_sql, "'a'");
    assert_string_equal(u->cols[1].comment, "its state");
    assert_int_equal(u->cols[1].type.nelems, 2);
    assert_string_equal(u->cols[1].type.elems[1], "b");
    assert_true(u->cols[2].has_default);
    assert_null(u->cols[2].default_sql); /* DEFAULT NULL */
    assert_int_equal(u->cols[2].type.dec, -1);
    assert_int_equal(u->nidx, 2);
    assert_int_equal(u->idx[1].cols[1], 2);
    assert_int_equal(u->idx[1].prefix[1], 4);
    assert_string_equal(u->idx[1].comment, "c");
    assert_int_equal(u->handle_col, 0);
    assert_int_equal(u->pk_handle_idx, 0);
    /* A copy is deep. */
    struct sql_tableinfo *cp = sql__tableinfo_copy(u);
    assert_non_null(cp);
    assert_ptr_not_equal(cp->cols, u->cols);
    assert_string_equal(cp->idx[1].name, "sn");
    sql__tableinfo_free(cp);
    sql__tableinfo_free(u);
    /* Every truncation, and a byte flipped at every position, is either
     * a clean SQL_EPROTO or a record that decodes; never a crash. */
    for (size_t n = 0; n < b.len; n++) {
        u = NULL;
        assert_int_equal(sql__table_decode(b.p, n, &u), SQL_EPROTO);
    }
    for (size_t i = 0; i < b.len; i++) {
        uint8_t save = b.p[i];
        b.p[i] ^= 0x5A;
        u = NULL;
        int rc = sql__table_decode(b.p, b.len, &u);
        assert_true(rc == 0 || rc == SQL_EPROTO);
        sql__tableinfo_free(u);
        b.p[i] = save;
    }
    sql__buf_free(&b);
    sql__tableinfo_free(t);
}

static void cache_from_store_and_autoids(void **state)
{
    (void)state;
    struct sql_kv_local_opts o = {0};
    struct sql_kv *kv;
    assert_int_equal(sql__kv_local_open(&o, &kv, NULL, 0), 0);
    struct sql_kvtxn *t;
    assert_int_equal(sql__kv_begin(kv, &t), 0);
    int64_t id1, id2;
    uint64_t ver;
    assert_int_equal(sql__meta_next_id(t, &id1), 0);
    assert_int_equal(sql__meta_next_id(t, &id2), 0);
    assert_int_equal(id1, 1);
    assert_int_equal(id2, 2);
    assert_int_equal(sql__meta_bump_version(t, &ver), 0);
    assert_int_equal(ver, 1);
    struct sql_dbinfo *d = sql__dbinfo_new();
    d->id = 7;
    d->name = "shop";
    d->charset = "utf8mb4";
    d->collate = "utf8mb4_general_ci";
    assert_int_equal(sql__meta_put_db(t, d), 0);
    struct sql_tableinfo *ti = sample();
    assert_int_equal(sql__meta_put_table(t, ti), 0);
    assert_int_equal(sql__kvtxn_commit(t), 0);
    sql__dbinfo_free(d);
    sql__tableinfo_free(ti);

    struct sql_catalog *c;
    assert_int_equal(sql__catalog_load(kv, &c, NULL, 0), 0);
    assert_int_equal(c->version, 1);
    assert_int_equal(c->ndbs, 1);
    assert_non_null(sql__catalog_db(c, "shop"));
    assert_null(sql__catalog_db(c, "SHOP")); /* names compare exactly */
    struct sql_tableinfo *got = sql__catalog_table(c, 7, "orders");
    assert_non_null(got);
    assert_int_equal(sql__table_col(got, "NOTE"), 2); /* columns ignore case */
    assert_int_equal(sql__table_index(got, "Sn"), 1);

    /* Ranges of 1000; a rebase above the range takes a new one. */
    uint64_t first;
    assert_int_equal(sql__autoid_alloc(kv, c, 42, 1, &first), 0);
    assert_int_equal(first, 1);
    assert_int_equal(sql__autoid_alloc(kv, c, 42, 3, &first), 0);
    assert_int_equal(first, 2);
    assert_int_equal(sql__autoid_rebase(kv, c, 42, 10), 0);
    assert_int_equal(sql__autoid_alloc(kv, c, 42, 1, &first), 0);
    assert_int_equal(first, 11);
    assert_int_equal(sql__autoid_rebase(kv, c, 42, 5000), 0);
    assert_int_equal(sql__autoid_alloc(kv, c, 42, 1, &first), 0);
    assert_int_equal(first, 5001);
    sql__catalog_drop_table(c, 42);
    assert_null(sql__catalog_table(c, 7, "orders"));
    sql__catalog_free(c);
    /* A fresh cache never hands out an id of an earlier range. */
    assert_int_equal(sql__catalog_load(kv, &c, NULL, 0), 0);
    assert_int_equal(sql__autoid_alloc(kv, c, 42, 1, &first), 0);
    assert_int_equal(first, 6001);
    sql__catalog_free(c);
    sql__kv_close(kv);
}

static void keys_sort_as_numbers(void **state)
{
    (void)state;
    uint8_t a[SQL_TC_ROW_KEY_LEN], b[SQL_TC_ROW_KEY_LEN];
    int64_t vals[] = {INT64_MIN, -2, -1, 0, 1, 255, 256, INT64_MAX};
    for (size_t i = 0; i + 1 < sizeof(vals) / sizeof(vals[0]); i++) {
        sql__tc_row_key(a, 5, vals[i]);
        sql__tc_row_key(b, 5, vals[i + 1]);
        assert_true(memcmp(a, b, sizeof(a)) < 0);
        int64_t h;
        assert_true(sql__tc_row_handle(a, sizeof(a), 5, &h));
        assert_int_equal(h, vals[i]);
        assert_false(sql__tc_row_handle(a, sizeof(a), 6, &h));
    }
    uint8_t p[3] = {1, 0xFF, 0xFF}, q[3];
    assert_true(sql__tc_prefix_next(p, 3, q));
    assert_memory_equal(q, "\x02\x00\x00", 3);
    uint8_t all[2] = {0xFF, 0xFF};
    assert_false(sql__tc_prefix_next(all, 2, q));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_record_round_trips),
        cmocka_unit_test(cache_from_store_and_autoids),
        cmocka_unit_test(keys_sort_as_numbers),
    };
    return cmocka_run_group_tests_name("libsql/catalog", tests, NULL, NULL);
}

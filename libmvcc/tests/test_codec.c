/* test_codec.c: memcomparable keys keep byte order, timestamps sort newest
 * first, lock and write records round-trip, and every truncation or bad
 * byte decodes as MVCC_CORRUPT (DESIGN.md, "Formats").
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"

static void key_bytes_are_exact(void **state)
{
    (void)state;
    uint8_t out[32];
    assert_int_equal(mvcc_key_encode("", 0, out), 9);
    const uint8_t empty[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0xF7};
    assert_memory_equal(out, empty, 9);
    assert_int_equal(mvcc_key_encode("abc", 3, out), 9);
    const uint8_t abc[9] = {'a', 'b', 'c', 0, 0, 0, 0, 0, 0xFA};
    assert_memory_equal(out, abc, 9);
    assert_int_equal(mvcc_key_encode("12345678", 8, out), 18);
    assert_int_equal(out[8], 0xFF);
    assert_int_equal(out[17], 0xF7);
    assert_int_equal(mvcc_key_encoded_len(8), 18);
    assert_int_equal(mvcc_key_encoded_len(7), 9);
}

static int cmpraw(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return al < bl ? -1 : al > bl;
}

static void encoding_preserves_order_and_round_trips(void **state)
{
    (void)state;
    unsigned seed = 7;
    for (int i = 0; i < 20000; i++) {
        uint8_t a[20], b[20], ea[40], eb[40], d[40];
        size_t al, bl;
        seed = seed * 1103515245u + 12345u;
        al = (seed >> 8) % 20;
        seed = seed * 1103515245u + 12345u;
        bl = (seed >> 8) % 20;
        for (size_t j = 0; j < 20; j++) {
            seed = seed * 1103515245u + 12345u;
            a[j] = (uint8_t)((seed >> 16) % 3); /* zeros are the hard case */
            b[j] = j < al ? a[j] : (uint8_t)((seed >> 20) % 3);
        }
        size_t eal = mvcc_key_encode(a, al, ea);
        size_t ebl = mvcc_key_encode(b, bl, eb);
        assert_int_equal(cmpraw(a, al, b, bl), cmpraw(ea, eal, eb, ebl));
        size_t dl, used;
        assert_int_equal(mvcc_key_decode(ea, eal, d, &dl, &used), 0);
        assert_int_equal(dl, al);
        assert_int_equal(used, eal);
        if (al)
            assert_memory_equal(d, a, al);
    }
    /* malformed: bad marker, nonzero padding, truncation */
    uint8_t bad[9] = {'a', 0, 0, 0, 0, 0, 0, 1, 0xF8};
    uint8_t d[16];
    size_t dl, used;
    assert_int_equal(mvcc_key_decode(bad, 9, d, &dl, &used), MVCC_CORRUPT);
    bad[7] = 0;
    bad[8] = 0x10;
    assert_int_equal(mvcc_key_decode(bad, 9, d, &dl, &used), MVCC_CORRUPT);
    assert_int_equal(mvcc_key_decode(bad, 8, d, &dl, &used), MVCC_CORRUPT);
}

static void timestamps_sort_newest_first(void **state)
{
    (void)state;
    struct mvcc__buf a = {0}, b = {0};
    assert_int_equal(mvcc__key_ts_append(&a, "k", 1, 100), 0);
    assert_int_equal(mvcc__key_ts_append(&b, "k", 1, 200), 0);
    assert_true(memcmp(b.data, a.data, a.len) < 0);
    assert_int_equal(mvcc__key_ts(a.data, a.len), 100);
    mvcc__buf_free(&a);
    mvcc__buf_free(&b);
}

static void lock_round_trips_and_rejects_truncation(void **state)
{
    (void)state;
    struct mvcc__lock l, d;
    memset(&l, 0, sizeof l);
    l.type = MVCC__LOCK_PUT;
    l.start_ts = 42;
    l.ttl = 3000;
    l.for_update_ts = 43;
    l.min_commit_ts = 44;
    l.txn_size = 3;
    l.async = true;
    l.has_value = true;
    l.primary = (const uint8_t *)"pk";
    l.primary_len = 2;
    l.value = (const uint8_t *)"val";
    l.value_len = 3;
    struct mvcc_key secs[] = {{"s1", 2}, {"s22", 3}};
    struct mvcc__buf b = {0};
    assert_int_equal(mvcc__lock_encode(&b, &l, secs, 2), 0);
    assert_int_equal(b.len, 47 + 2 + 4 + 3 + 4 + 6 + 7);
    assert_int_equal(b.data[0], 1);
    assert_int_equal(b.data[1], 'P');
    assert_int_equal(b.data[42], 3);
    assert_int_equal(mvcc__lock_decode(b.data, b.len, &d), 0);
    assert_int_equal(d.start_ts, 42);
    assert_int_equal(d.ttl, 3000);
    assert_int_equal(d.for_update_ts, 43);
    assert_int_equal(d.min_commit_ts, 44);
    assert_int_equal(d.txn_size, 3);
    assert_int_equal(d.nsecs, 2);
    const uint8_t *k;
    size_t kl;
    mvcc__lock_secondary(&d, 1, &k, &kl);
    assert_int_equal(kl, 3);
    assert_memory_equal(k, "s22", 3);
    assert_memory_equal(d.value, "val", 3);
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(mvcc__lock_decode(b.data, n, &d), MVCC_CORRUPT);
    b.data[1] = 'X';
    assert_int_equal(mvcc__lock_decode(b.data, b.len, &d), MVCC_CORRUPT);
    b.data[1] = 'P';
    b.data[42] = 0x80;
    assert_int_equal(mvcc__lock_decode(b.data, b.len, &d), MVCC_CORRUPT);
    mvcc__buf_free(&b);
}

static void write_round_trips_and_rejects_truncation(void **state)
{
    (void)state;
    struct mvcc__write w, d;
    memset(&w, 0, sizeof w);
    w.type = MVCC__WRITE_PUT;
    w.start_ts = 9;
    w.has_value = true;
    w.overlap = true;
    w.value = (const uint8_t *)"hello";
    w.value_len = 5;
    struct mvcc__buf b = {0};
    assert_int_equal(mvcc__write_encode(&b, &w), 0);
    assert_int_equal(b.len, 11 + 4 + 5);
    assert_int_equal(mvcc__write_decode(b.data, b.len, &d), 0);
    assert_int_equal(d.type, 'P');
    assert_int_equal(d.start_ts, 9);
    assert_true(d.overlap);
    assert_memory_equal(d.value, "hello", 5);
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(mvcc__write_decode(b.data, n, &d), MVCC_CORRUPT);
    b.data[0] = 2;
    assert_int_equal(mvcc__write_decode(b.data, b.len, &d), MVCC_CORRUPT);
    mvcc__buf_free(&b);
}

static void wbatch_round_trips_and_rejects_truncation(void **state)
{
    (void)state;
    struct mvcc_wbatch *b, *d;
    assert_int_equal(mvcc_wbatch_create(&b), 0);
    assert_int_equal(mvcc_wbatch_create(&d), 0);
    assert_int_equal(mvcc_wbatch_put(b, MVCC_CF_LOCK, "k", 1, "val", 3), 0);
    assert_int_equal(mvcc_wbatch_delete(b, MVCC_CF_WRITE, "kk", 2), 0);
    assert_int_equal(
        mvcc_wbatch_delete_range(b, MVCC_CF_DEFAULT, "a", 1, "z", 1), 0);
    uint8_t *enc;
    size_t n;
    assert_int_equal(mvcc_wbatch_encode(b, &enc, &n), 0);
    assert_int_equal(n, 5 + (10 + 1 + 3) + (10 + 2) + (10 + 1 + 1));
    assert_int_equal(enc[0], 1);
    assert_int_equal(enc[4], 3);
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(mvcc_wbatch_decode(d, enc, cut), MVCC_CORRUPT);
    assert_int_equal(mvcc_wbatch_count(d), 0);
    assert_int_equal(mvcc_wbatch_decode(d, enc, n), 0);
    assert_int_equal(mvcc_wbatch_count(d), 3);
    struct mvcc_wop op;
    mvcc_wbatch_op(d, 0, &op);
    assert_int_equal(op.type, MVCC_WOP_PUT);
    assert_int_equal(op.cf, MVCC_CF_LOCK);
    assert_memory_equal(op.value, "val", 3);
    mvcc_wbatch_op(d, 2, &op);
    assert_int_equal(op.type, MVCC_WOP_DELETE_RANGE);
    assert_memory_equal(op.value, "z", 1);
    enc[5] = 9; /* bad type */
    assert_int_equal(mvcc_wbatch_decode(d, enc, n), MVCC_CORRUPT);
    assert_int_equal(mvcc_wbatch_count(d), 3);
    mvcc_free(enc);
    mvcc_wbatch_destroy(b);
    mvcc_wbatch_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_bytes_are_exact),
        cmocka_unit_test(encoding_preserves_order_and_round_trips),
        cmocka_unit_test(timestamps_sort_newest_first),
        cmocka_unit_test(lock_round_trips_and_rejects_truncation),
        cmocka_unit_test(write_round_trips_and_rejects_truncation),
        cmocka_unit_test(wbatch_round_trips_and_rejects_truncation),
    };
    return cmocka_run_group_tests_name("libmvcc/codec", tests, NULL, NULL);
}

/* test_codec.c: the key form (memcomparable: byte order equals value
 * order for every class, case-insensitive strings equal, NULL first,
 * round trips) and the row form (round trips, missing columns, malformed
 * input answers SQL_EPROTO). See DESIGN.md, "Storage mapping: codecs".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "datetime.h"
#include "decimal.h"

static struct sql_ftype ftype(uint8_t tp, uint16_t flags, uint16_t coll,
                              int8_t dec)
{
    struct sql_ftype t;
    memset(&t, 0, sizeof t);
    t.tp = tp;
    t.flags = flags;
    t.coll = coll;
    t.dec = dec;
    return t;
}

static struct sql_datum dec(const char *s)
{
    struct sql_datum d;
    memset(&d, 0, sizeof d);
    d.vt = SQL_VT_DECIMAL;
    assert_int_equal(sql__dec_parse(s, strlen(s), &d.v.dec, NULL), 0);
    return d;
}

static struct sql_datum str(const char *s, uint16_t coll)
{
    struct sql_datum d;
    sql__datum_str(&d, s, strlen(s), coll);
    return d;
}

static struct sql_datum dt(int vt, const char *s)
{
    struct sql_datum d;
    memset(&d, 0, sizeof d);
    d.vt = (uint8_t)vt;
    int rc = vt == SQL_VT_TIME
                 ? sql__time_parse_time(s, strlen(s), &d.v.t, NULL)
                 : sql__time_parse_datetime(s, strlen(s), &d.v.t, NULL);
    assert_int_equal(rc, 0);
    return d;
}

/* Key of d under t, into a fresh buffer. */
static struct sql__buf key(const struct sql_datum *d,
                           const struct sql_ftype *t)
{
    struct sql__buf b = {0};
    assert_int_equal(sql__key_append(&b, d, t), 0);
    return b;
}

static int keycmp(const struct sql__buf *a, const struct sql__buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->p, b->p, n);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* vals[] are in strictly increasing order: their keys must be too. */
static void check_order(const struct sql_datum *vals, size_t n,
                        const struct sql_ftype *t)
{
    for (size_t i = 0; i + 1 < n; i++) {
        struct sql__buf a = key(&vals[i], t), b = key(&vals[i + 1], t);
        if (keycmp(&a, &b) >= 0) {
            print_error("key %zu not below key %zu\n", i, i + 1);
            fail();
        }
        sql__buf_free(&a);
        sql__buf_free(&b);
    }
}

static void check_roundtrip(const struct sql_datum *d,
                            const struct sql_ftype *t)
{
    struct sql_arena *a = sql__arena_create(0);
    struct sql__buf b = key(d, t);
    sql__buf_u8(&b, 0x42); /* something after it */
    size_t off = 0;
    struct sql_datum out;
    assert_int_equal(sql__key_decode(b.p, b.len, &off, t, a, &out), 0);
    assert_int_equal(off, b.len - 1);
    int c;
    assert_int_equal(out.vt, d->vt);
    assert_int_equal(sql__datum_cmp(&out, d, SQL_COLL_BINARY, &c, NULL), 0);
    assert_int_equal(c, 0);
    /* Every strict prefix is malformed. */
    for (size_t n = 0; n + 1 < b.len; n++) {
        off = 0;
        assert_int_equal(sql__key_decode(b.p, n, &off, t, a, &out),
                         SQL_EPROTO);
    }
    sql__buf_free(&b);
    sql__arena_destroy(a);
}

static void test_key_int(void **state)
{
    (void)state;
    struct sql_ftype t = ftype(SQL_TYPE_LONGLONG, 0, SQL_COLL_BINARY, 0);
    struct sql_datum v[6];
    int64_t xs[6] = {INT64_MIN, -256, -1, 0, 1, INT64_MAX};
    for (int i = 0; i < 6; i++)
        sql__datum_int(&v[i], xs[i]);
    struct sql_datum null;
    sql__datum_null(&null);
    struct sql__buf kn = key(&null, &t), k0 = key(&v[0], &t);
    assert_int_equal(keycmp(&kn, &k0), -1);
    assert_int_equal(kn.len, 1);
    assert_int_equal(k0.len, 9);
    sql__buf_free(&kn);
    sql__buf_free(&k0);
    check_order(v, 6, &t);
    for (int i = 0; i < 6; i++)
        check_roundtrip(&v[i], &t);
    struct sql_ftype u = ftype(SQL_TYPE_LONGLONG, SQL_COLFLAG_UNSIGNED,
                               SQL_COLL_BINARY, 0);
    struct sql_datum w[3];
    sql__datum_uint(&w[0], 0);
    sql__datum_uint(&w[1], (uint64_t)INT64_MAX + 1);
    sql__datum_uint(&w[2], UINT64_MAX);
    check_order(w, 3, &u);
    check_roundtrip(&w[2], &u);
    /* A signed literal against an unsigned column converts. */
    struct sql_datum five;
    sql__datum_int(&five, 5);
    struct sql__buf a = key(&five, &u);
    sql__datum_uint(&five, 5);
    struct sql__buf b = key(&five, &u);
    assert_int_equal(keycmp(&a, &b), 0);
    sql__buf_free(&a);
    sql__buf_free(&b);
}

static void test_key_double_decimal(void **state)
{
    (void)state;
    struct sql_ftype t = ftype(SQL_TYPE_DOUBLE, 0, SQL_COLL_BINARY, -1);
    double xs[] = {-1e300, -2.5, -1e-300, 0, 1e-300, 1, 2.5, 1e300};
    struct sql_datum v[8];
    for (int i = 0; i < 8; i++)
        sql__datum_double(&v[i], xs[i]);
    check_order(v, 8, &t);
    for (int i = 0; i < 8; i++)
        check_roundtrip(&v[i], &t);

    struct sql_ftype dt_ = ftype(SQL_TYPE_NEWDECIMAL, 0, SQL_COLL_BINARY, 3);
    dt_.len = 20;
    const char *ds[] = {"-100", "-10", "-9.5", "-9.25", "-1", "-0.001",
                        "0", "0.001", "0.01", "1", "1.5", "1.55", "10",
                        "100.25"};
    struct sql_datum d[14];
    for (int i = 0; i < 14; i++)
        d[i] = dec(ds[i]);
    check_order(d, 14, &dt_);
    /* 1.5 and 1.500 are one key; decoding gives the column's scale. */
    struct sql_datum x = dec("1.5"), y = dec("1.500");
    struct sql__buf a = key(&x, &dt_), b = key(&y, &dt_);
    assert_int_equal(keycmp(&a, &b), 0);
    struct sql_arena *ar = sql__arena_create(0);
    size_t off = 0;
    struct sql_datum out;
    assert_int_equal(sql__key_decode(a.p, a.len, &off, &dt_, ar, &out), 0);
    char buf[SQL_DEC_STR_MAX];
    sql__dec_print(&out.v.dec, buf);
    assert_string_equal(buf, "1.500");
    off = 0;
    struct sql_datum m = dec("-9.25");
    struct sql__buf c = key(&m, &dt_);
    assert_int_equal(sql__key_decode(c.p, c.len, &off, &dt_, ar, &out), 0);
    sql__dec_print(&out.v.dec, buf);
    assert_string_equal(buf, "-9.250");
    sql__buf_free(&a);
    sql__buf_free(&b);
    sql__buf_free(&c);
    sql__arena_destroy(ar);
}

static void test_key_strings(void **state)
{
    (void)state;
    struct sql_ftype bin = ftype(SQL_TYPE_VARCHAR, 0, SQL_COLL_UTF8MB4_BIN, 0);
    struct sql_ftype ci = ftype(SQL_TYPE_VARCHAR, 0,
                                SQL_COLL_UTF8MB4_GENERAL_CI, 0);
    struct sql_ftype raw = ftype(SQL_TYPE_BLOB, SQL_COLFLAG_BINARY,
                                 SQL_COLL_BINARY, 0);
    struct sql_datum v[6] = {
        str("", SQL_COLL_UTF8MB4_BIN),
        str("A", SQL_COLL_UTF8MB4_BIN),
        str("a", SQL_COLL_UTF8MB4_BIN),
        str("abcdefgh", SQL_COLL_UTF8MB4_BIN),
        str("abcdefghi", SQL_COLL_UTF8MB4_BIN),
        str("b", SQL_COLL_UTF8MB4_BIN),
    };
    check_order(v, 6, &bin);
    for (int i = 0; i < 6; i++)
        check_roundtrip(&v[i], &bin);
    /* Binary: zero bytes and trailing spaces are significant. */
    struct sql_datum r[4];
    sql__datum_str(&r[0], "a", 1, SQL_COLL_BINARY);
    sql__datum_str(&r[1], "a\0", 2, SQL_COLL_BINARY);
    sql__datum_str(&r[2], "a ", 2, SQL_COLL_BINARY);
    sql__datum_str(&r[3], "a\xff", 2, SQL_COLL_BINARY);
    check_order(r, 4, &raw);
    for (int i = 0; i < 4; i++)
        check_roundtrip(&r[i], &raw);
    /* ci: case and accents fold; PAD SPACE. */
    const char *same[][2] = {{"abc", "ABC"}, {"abc", "abc  "},
                             {"Été", "ete"}};
    for (int i = 0; i < 3; i++) {
        struct sql_datum x = str(same[i][0], SQL_COLL_UTF8MB4_GENERAL_CI);
        struct sql_datum y = str(same[i][1], SQL_COLL_UTF8MB4_GENERAL_CI);
        struct sql__buf a = key(&x, &ci), b = key(&y, &ci);
        assert_int_equal(keycmp(&a, &b), 0);
        sql__buf_free(&a);
        sql__buf_free(&b);
    }
    struct sql_datum w[4] = {
        str("a", SQL_COLL_UTF8MB4_GENERAL_CI),
        str("B", SQL_COLL_UTF8MB4_GENERAL_CI),
        str("c", SQL_COLL_UTF8MB4_GENERAL_CI),
        str("Z", SQL_COLL_UTF8MB4_GENERAL_CI),
    };
    check_order(w, 4, &ci);
    /* bin: trailing spaces do not count either (PAD SPACE). */
    struct sql_datum p1 = str("x", SQL_COLL_UTF8MB4_BIN);
    struct sql_datum p2 = str("x  ", SQL_COLL_UTF8MB4_BIN);
    struct sql__buf a = key(&p1, &bin), b = key(&p2, &bin);
    assert_int_equal(keycmp(&a, &b), 0);
    sql__buf_free(&a);
    sql__buf_free(&b);
    /* A ci key decodes to the weights (upper case). */
    struct sql_arena *ar = sql__arena_create(0);
    struct sql_datum m = str("mixed Case", SQL_COLL_UTF8MB4_GENERAL_CI);
    struct sql__buf k = key(&m, &ci);
    size_t off = 0;
    struct sql_datum out;
    assert_int_equal(sql__key_decode(k.p, k.len, &off, &ci, ar, &out), 0);
    assert_int_equal(out.v.s.n, 10);
    assert_memory_equal(out.v.s.p, "MIXED CASE", 10);
    sql__buf_free(&k);
    sql__arena_destroy(ar);
}

static void test_key_temporal(void **state)
{
    (void)state;
    struct sql_ftype t = ftype(SQL_TYPE_DATETIME, 0, SQL_COLL_BINARY, 6);
    struct sql_datum v[5] = {
        dt(SQL_VT_DATETIME, "0000-00-00 00:00:00"),
        dt(SQL_VT_DATETIME, "1000-01-01 00:00:00"),
        dt(SQL_VT_DATETIME, "2024-02-29 23:59:59.999999"),
        dt(SQL_VT_DATETIME, "2024-03-01 00:00:00"),
        dt(SQL_VT_DATETIME, "9999-12-31 23:59:59.999999"),
    };
    check_order(v, 5, &t);
    for (int i = 0; i < 5; i++)
        check_roundtrip(&v[i], &t);
    struct sql_ftype d = ftype(SQL_TYPE_DATE, 0, SQL_COLL_BINARY, 0);
    struct sql_datum dd[2] = {dt(SQL_VT_DATE, "2023-12-31"),
                              dt(SQL_VT_DATE, "2024-01-01")};
    check_order(dd, 2, &d);
    check_roundtrip(&dd[1], &d);
    struct sql_ftype tt = ftype(SQL_TYPE_TIME, 0, SQL_COLL_BINARY, 0);
    struct sql_datum ts[4] = {
        dt(SQL_VT_TIME, "-838:59:59"), dt(SQL_VT_TIME, "-00:00:01"),
        dt(SQL_VT_TIME, "00:00:00"), dt(SQL_VT_TIME, "838:59:59")};
    check_order(ts, 4, &tt);
    for (int i = 0; i < 4; i++)
        check_roundtrip(&ts[i], &tt);
}

static void test_key_malformed(void **state)
{
    (void)state;
    struct sql_arena *a = sql__arena_create(0);
    struct sql_ftype t = ftype(SQL_TYPE_VARCHAR, 0, SQL_COLL_UTF8MB4_BIN, 0);
    struct sql_datum out;
    size_t off = 0;
    const uint8_t bad_flag[] = {0x55};
    assert_int_equal(sql__key_decode(bad_flag, 1, &off, &t, a, &out),
                     SQL_EPROTO);
    /* A group marker claiming more than 8 bytes. */
    const uint8_t bad_marker[] = {0x07, 'a', 0, 0, 0, 0, 0, 0, 0, 0x10};
    off = 0;
    assert_int_equal(sql__key_decode(bad_marker, sizeof bad_marker, &off, &t,
                                     a, &out),
                     SQL_EPROTO);
    /* Padding that is not zero. */
    const uint8_t bad_pad[] = {0x07, 'a', 1, 0, 0, 0, 0, 0, 0, 0xF8};
    off = 0;
    assert_int_equal(sql__key_decode(bad_pad, sizeof bad_pad, &off, &t, a,
                                     &out),
                     SQL_EPROTO);
    off = 0;
    assert_int_equal(sql__key_decode(bad_pad, 0, &off, &t, a, &out),
                     SQL_EPROTO);
    sql__arena_destroy(a);
}

static void test_row_roundtrip(void **state)
{
    (void)state;
    struct sql_rowcol cols[9];
    memset(cols, 0, sizeof cols);
    for (uint32_t i = 0; i < 9; i++)
        cols[i].id = i * 3 + 1;
    sql__datum_int(&cols[0].d, INT64_MIN);
    sql__datum_uint(&cols[1].d, UINT64_MAX);
    sql__datum_double(&cols[2].d, -0.125);
    cols[3].d = dec("-123456789012345678901234567890.123456789");
    cols[4].d = str("héllo", SQL_COLL_UTF8MB4_GENERAL_CI);
    cols[5].d = dt(SQL_VT_DATE, "2024-02-29");
    cols[6].d = dt(SQL_VT_DATETIME, "2024-02-29 01:02:03.456");
    cols[6].d.fsp = 3;
    cols[7].d = dt(SQL_VT_TIME, "-838:00:01");
    sql__datum_null(&cols[8].d);
    struct sql__buf b = {0};
    assert_int_equal(sql__row_encode(&b, cols, 9), 0);
    /* Ask in another order, with one id the row does not have. */
    uint32_t ids[11];
    for (int i = 0; i < 9; i++)
        ids[i] = cols[8 - i].id;
    ids[9] = 1000;
    ids[10] = cols[4].id;
    struct sql_datum out[11];
    bool found[11];
    assert_int_equal(sql__row_decode(b.p, b.len, ids, 11, out, found, NULL),
                     0);
    for (int i = 0; i < 9; i++) {
        const struct sql_datum *want = &cols[8 - i].d;
        assert_true(found[i]);
        assert_int_equal(out[i].vt, want->vt);
        assert_int_equal(out[i].fsp, want->fsp);
        if (want->vt == SQL_VT_NULL)
            continue;
        int c;
        assert_int_equal(sql__datum_cmp(&out[i], want, SQL_COLL_BINARY, &c,
                                        NULL),
                         0);
        assert_int_equal(c, 0);
    }
    assert_false(found[9]);
    assert_int_equal(out[9].vt, SQL_VT_NULL);
    assert_true(found[10]);
    assert_int_equal(out[10].coll, SQL_COLL_UTF8MB4_GENERAL_CI);
    /* Every truncation and every single-byte corruption of the header
     * either decodes or answers SQL_EPROTO (never reads out of bounds:
     * the sanitizer build checks). */
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(sql__row_decode(b.p, n, ids, 11, out, found, NULL),
                         SQL_EPROTO);
    for (size_t i = 0; i < b.len; i++) {
        uint8_t save = b.p[i];
        b.p[i] ^= 0xFF;
        int rc = sql__row_decode(b.p, b.len, ids, 11, out, found, NULL);
        assert_true(rc == 0 || rc == SQL_EPROTO);
        b.p[i] = save;
    }
    sql__buf_free(&b);
}

static void test_row_empty(void **state)
{
    (void)state;
    struct sql__buf b = {0};
    assert_int_equal(sql__row_encode(&b, NULL, 0), 0);
    assert_int_equal(b.len, 2);
    uint32_t id = 5;
    struct sql_datum out;
    bool found = true;
    assert_int_equal(sql__row_decode(b.p, b.len, &id, 1, &out, &found, NULL),
                     0);
    assert_false(found);
    const uint8_t bad[] = {0x81, 0};
    assert_int_equal(sql__row_decode(bad, 2, &id, 1, &out, &found, NULL),
                     SQL_EPROTO);
    sql__buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_int),
        cmocka_unit_test(test_key_double_decimal),
        cmocka_unit_test(test_key_strings),
        cmocka_unit_test(test_key_temporal),
        cmocka_unit_test(test_key_malformed),
        cmocka_unit_test(test_row_roundtrip),
        cmocka_unit_test(test_row_empty),
    };
    return cmocka_run_group_tests_name("libsql/codec", tests, NULL, NULL);
}

/* test_wire.c: length-encoded integers and strings at every size boundary,
 * the bounds-checked reader, and packet framing around 16 MiB
 * (src/wire.c; DESIGN.md "MySQL protocol", "Packets").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "myclient.h"
#include "wire.h"

struct lenenc_case {
    uint64_t v;         /* value */
    uint8_t bytes[9];   /* its encoding */
    size_t n;           /* encoding length */
};

static const struct lenenc_case lenenc_cases[] = {
    {0, {0x00}, 1},
    {250, {0xFA}, 1},
    {251, {0xFC, 0xFB, 0x00}, 3},
    {0xFFFF, {0xFC, 0xFF, 0xFF}, 3},
    {0x10000, {0xFD, 0x00, 0x00, 0x01}, 4},
    {0xFFFFFF, {0xFD, 0xFF, 0xFF, 0xFF}, 4},
    {0x1000000, {0xFE, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0}, 9},
    {UINT64_MAX, {0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, 9},
};

static void lenenc_boundaries(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof lenenc_cases / sizeof lenenc_cases[0];
         i++) {
        const struct lenenc_case *lc = &lenenc_cases[i];
        struct sql__buf b = {0};
        assert_int_equal(sql__buf_lenenc(&b, lc->v), 0);
        assert_int_equal(b.len, lc->n);
        assert_int_equal(sql__lenenc_size(lc->v), lc->n);
        assert_memory_equal(b.p, lc->bytes, lc->n);
        /* Reads back; every shorter prefix is bad. */
        struct sql__rd r;
        sql__rd_init(&r, b.p, b.len);
        assert_true(sql__rd_lenenc(&r, NULL) == lc->v);
        assert_false(r.bad);
        assert_int_equal(sql__rd_left(&r), 0);
        for (size_t cut = 0; cut < lc->n; cut++) {
            sql__rd_init(&r, b.p, cut);
            (void)sql__rd_lenenc(&r, NULL);
            assert_true(r.bad);
        }
        /* The tests' own encoder agrees. */
        struct mc_buf m = {0};
        mc_lenenc(&m, lc->v);
        assert_int_equal(m.len, lc->n);
        assert_memory_equal(m.p, lc->bytes, lc->n);
        mc_free(&m);
        sql__buf_free(&b);
    }
}

static void lenenc_null_and_ff(void **state)
{
    (void)state;
    const uint8_t fb = 0xFB, ff = 0xFF;
    struct sql__rd r;
    bool is_null = false;
    sql__rd_init(&r, &fb, 1);
    assert_int_equal(sql__rd_lenenc(&r, &is_null), 0);
    assert_true(is_null);
    assert_false(r.bad);
    sql__rd_init(&r, &fb, 1);
    (void)sql__rd_lenenc(&r, NULL); /* NULL not allowed here */
    assert_true(r.bad);
    sql__rd_init(&r, &ff, 1);
    (void)sql__rd_lenenc(&r, &is_null);
    assert_true(r.bad);
}

static void lenenc_strings(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 250, 251, 0xFFFF, 0x10000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        char *s = malloc(n + 1);
        assert_non_null(s);
        memset(s, 'x', n);
        struct sql__buf b = {0};
        assert_int_equal(sql__buf_lenenc_str(&b, s, n), 0);
        assert_int_equal(b.len, sql__lenenc_size(n) + n);
        struct sql__rd r;
        size_t got = 99;
        sql__rd_init(&r, b.p, b.len);
        const uint8_t *p = sql__rd_lenenc_str(&r, &got);
        assert_false(r.bad);
        assert_int_equal(got, n);
        assert_true(n == 0 || memcmp(p, s, n) == 0);
        /* One byte short: bad, not a read past the end. */
        sql__rd_init(&r, b.p, b.len - 1);
        assert_null(sql__rd_lenenc_str(&r, &got));
        assert_true(r.bad);
        sql__buf_free(&b);
        free(s);
    }
}

static void reader_bounds(void **state)
{
    (void)state;
    const uint8_t data[] = {'a', 'b', 0, 1, 2, 3};
    struct sql__rd r;
    size_t n;
    sql__rd_init(&r, data, sizeof data);
    assert_string_equal(sql__rd_cstr(&r, &n), "ab");
    assert_int_equal(n, 2);
    assert_int_equal(sql__rd_u24(&r), 0x030201);
    assert_false(r.bad);
    assert_int_equal(sql__rd_u8(&r), 0);
    assert_true(r.bad);
    /* A string without its NUL is bad. */
    sql__rd_init(&r, data, 2);
    assert_null(sql__rd_cstr(&r, &n));
    assert_true(r.bad);
    /* Once bad, stays bad. */
    sql__rd_init(&r, data, 0);
    (void)sql__rd_u32(&r);
    assert_true(r.bad);
    sql__rd_init(&r, NULL, 0);
    assert_null(sql__rd_cstr(&r, &n));
    assert_null(sql__rd_bytes(&r, 1));
}

/* Frame a payload of n bytes and check the headers and the joined bytes. */
static void check_frame(size_t n)
{
    struct sql__buf b = {0};
    uint8_t zero[4] = {0};
    assert_int_equal(sql__buf_put(&b, "pre", 3), 0);
    size_t start = b.len;
    assert_int_equal(sql__buf_put(&b, zero, 4), 0);
    assert_int_equal(sql__buf_reserve(&b, n), 0);
    for (size_t i = 0; i < n; i++)
        b.p[b.len + i] = (uint8_t)(i * 7 + i / 251);
    b.len += n;
    uint8_t seq = 250;
    assert_int_equal(sql__buf_frame(&b, start, &seq), 0);
    size_t npkt = n / 0xFFFFFF + 1;
    assert_int_equal(seq, (uint8_t)(250 + npkt));
    assert_int_equal(b.len, 3 + 4 * npkt + n);
    struct mc_pkt pk[8];
    int got = mc_split(b.p + 3, b.len - 3, pk, 8);
    assert_int_equal(got, (int)npkt);
    size_t off = 0;
    for (int i = 0; i < got; i++) {
        assert_int_equal(pk[i].seq, (uint8_t)(250 + i));
        size_t want = (size_t)i + 1 < npkt ? 0xFFFFFF : n - off;
        assert_int_equal(pk[i].len, want);
        for (size_t k = 0; k < pk[i].len; k += 4099) {
            size_t j = off + k;
            assert_int_equal(pk[i].p[k], (uint8_t)(j * 7 + j / 251));
        }
        if (pk[i].len > 0) {
            size_t j = off + pk[i].len - 1;
            assert_int_equal(pk[i].p[pk[i].len - 1],
                             (uint8_t)(j * 7 + j / 251));
        }
        off += pk[i].len;
    }
    assert_int_equal(off, n);
    sql__buf_free(&b);
}

static void frame_small(void **state)
{
    (void)state;
    check_frame(0);
    check_frame(1);
    check_frame(1000);
}

static void frame_at_16mib(void **state)
{
    (void)state;
    check_frame(0xFFFFFE);
    check_frame(0xFFFFFF);     /* full packet + empty one */
    check_frame(0xFFFFFF + 1); /* full packet + 1 byte */
    check_frame(2 * 0xFFFFFF); /* two full + empty */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lenenc_boundaries),
        cmocka_unit_test(lenenc_null_and_ff),
        cmocka_unit_test(lenenc_strings),
        cmocka_unit_test(reader_bounds),
        cmocka_unit_test(frame_small),
        cmocka_unit_test(frame_at_16mib),
    };
    return cmocka_run_group_tests_name("libsql/wire", tests, NULL, NULL);
}

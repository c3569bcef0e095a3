/* test_hotpath.c: the shortcuts taken on the statement hot paths (issue
 * 7's benchmark work) give exactly what the plain code gives: the
 * case-insensitive key form against a character-by-character reference,
 * and DISTINCT / GROUP BY over many groups (the group table's hash) against
 * known answers. See DESIGN.md, "Measured".
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
#include "value.h"
#include "sqlfx.h"

/* The ci key as the codec defines it, one code point at a time: KF_STRING
 * (0x07), then the two-byte weights in groups of 8, each followed by 0xFF
 * minus its padding. */
static size_t ref_ci_key(const char *s, size_t n, uint16_t coll, uint8_t *out)
{
    uint8_t w[512];
    size_t wl = 0, i = 0, o = 0;
    while (n > 0 && s[n - 1] == ' ')
        n--;
    while (i < n) {
        uint32_t cp;
        i += sql__utf8_decode(s + i, n - i, &cp);
        uint32_t wt = sql__coll_weight(coll, cp);
        if (wt > 0xFFFF)
            wt = 0xFFFD;
        w[wl++] = (uint8_t)(wt >> 8);
        w[wl++] = (uint8_t)wt;
    }
    out[o++] = 0x07;
    for (size_t g = 0;; g += 8) {
        size_t take = wl - g < 8 ? wl - g : 8;
        memset(out + o, 0, 8);
        memcpy(out + o, w + g, take);
        out[o + 8] = (uint8_t)(0xFF - (8 - take));
        o += 9;
        if (take < 8)
            break;
    }
    return o;
}

static void check_ci(const char *s, size_t n, uint16_t coll)
{
    struct sql_ftype t;
    memset(&t, 0, sizeof t);
    t.tp = SQL_TYPE_VARCHAR;
    t.coll = coll;
    struct sql_datum d;
    sql__datum_str(&d, s, n, coll);
    struct sql__buf b = {0};
    assert_int_equal(sql__key_append(&b, &d, &t), 0);
    uint8_t want[1200];
    size_t wl = ref_ci_key(s, n, coll, want);
    assert_int_equal(b.len, wl);
    assert_memory_equal(b.p, want, wl);
    sql__buf_free(&b);
}

/* Every ASCII byte (NUL too) from every offset, mixed with multi-byte
 * characters, a malformed sequence, trailing spaces, at every length
 * across group boundaries. */
static void test_ci_key_matches_reference(void **state)
{
    (void)state;
    char all[128];
    for (int i = 0; i < 128; i++)
        all[i] = (char)i;
    for (uint16_t coll = SQL_COLL_UTF8MB4_GENERAL_CI;;
         coll = SQL_COLL_UTF8MB4_0900_AI_CI) {
        for (size_t off = 0; off < 8; off++)
            for (size_t n = 0; n + off <= 128; n++)
                check_ci(all + off, n, coll);
        const char *mixed[] = {
            "",       "a",         "Z",       "zZ9-",       "héllo wörld",
            "ÀÉÎÕÜ",  "ßæðþ",      "ĀāĹĺ",    "αβγΩ",       "日本語 text  ",
            "\xf0\x9f\x98\x80!", "\xc3", "ab\xe2\x82", "12345678", "123456789",
            "83868641912-28773972837-60736120486-75162659906-27563526494"};
        for (size_t i = 0; i < sizeof(mixed) / sizeof(mixed[0]); i++)
            for (size_t n = 0; n <= strlen(mixed[i]); n++)
                check_ci(mixed[i], n, coll);
        if (coll == SQL_COLL_UTF8MB4_0900_AI_CI)
            break;
    }
}

/* DISTINCT and GROUP BY over more groups than the table's first slots
 * (it grows several times), case-folded strings included. */
static void test_many_groups(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open(&f, false);
    sqlfx_connect(&f, &c, 1);
    sqlfx_q(&c, "CREATE DATABASE d");
    sqlfx_q(&c, "USE d");
    assert_string_equal(
        sqlfx_q(&c, "CREATE TABLE g (id INT PRIMARY KEY, s VARCHAR(40), "
                    "n INT)"),
        "OK 0 0 0");
    char sql[256];
    for (int i = 0; i < 600; i++) {
        /* 300 distinct strings, each twice in different case */
        snprintf(sql, sizeof sql,
                 "INSERT INTO g VALUES (%d, '%s-%03d-xxxxxxxxxxxx', %d)", i,
                 i % 2 ? "abc" : "ABC", (i / 2) % 300, i % 7);
        assert_string_equal(sqlfx_q(&c, sql), "OK 1 0 0");
    }
    assert_string_equal(
        sqlfx_q(&c, "SELECT COUNT(*) FROM (SELECT DISTINCT s FROM g) t"),
        "300");
    assert_string_equal(
        sqlfx_q(&c, "SELECT COUNT(DISTINCT s), COUNT(DISTINCT n) FROM g"),
        "300|7");
    assert_string_equal(sqlfx_q(&c, "SELECT n, COUNT(*) FROM g GROUP BY n "
                                    "ORDER BY n"),
                        "0|86\n1|86\n2|86\n3|86\n4|86\n5|85\n6|85");
    assert_string_equal(
        sqlfx_q(&c, "SELECT DISTINCT UPPER(s) FROM g WHERE id BETWEEN 10 "
                    "AND 15 ORDER BY 1"),
        "ABC-005-XXXXXXXXXXXX\nABC-006-XXXXXXXXXXXX\nABC-007-XXXXXXXXXXXX");
    assert_string_equal(
        sqlfx_q(&c, "SELECT s, COUNT(*) FROM g GROUP BY s HAVING "
                    "COUNT(*) <> 2"),
        "");
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ci_key_matches_reference),
        cmocka_unit_test(test_many_groups),
    };
    return cmocka_run_group_tests_name("libsql/hotpath", tests, NULL, NULL);
}

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

/* The collation compare's ASCII prefix against a character-by-character
 * reference (decode, weigh, PAD SPACE), for pairs of ASCII, mixed and
 * malformed strings under every collation. */
static int ref_cmp(uint16_t coll, const char *a, size_t an, const char *b,
                   size_t bn)
{
    while (an > 0 && a[an - 1] == ' ')
        an--;
    while (bn > 0 && b[bn - 1] == ' ')
        bn--;
    size_t i = 0, j = 0;
    for (;;) {
        uint32_t ca = ' ', cb = ' ';
        if (i >= an && j >= bn)
            return 0;
        if (i < an)
            i += sql__utf8_decode(a + i, an - i, &ca);
        if (j < bn)
            j += sql__utf8_decode(b + j, bn - j, &cb);
        uint32_t wa = sql__coll_weight(coll, ca);
        uint32_t wb = sql__coll_weight(coll, cb);
        if (wa != wb)
            return wa < wb ? -1 : 1;
    }
}

static void test_coll_cmp_matches_reference(void **state)
{
    (void)state;
    const char *v[] = {"",       " ",        "a",        "A",     "ab",
                       "aB ",    "ab\t",     "abc",      "abd",   "ABD",
                       "a\x01",  "zZ9-",     "héllo",    "HELLO", "hello",
                       "Hèllo",  "ÀÉ",       "ae",       "ß",     "ss",
                       "\xc3",   "ab\xe2\x82", "日本",     "日本 ", "~",
                       "\x7f",   "83868641912-28773972837",
                       "83868641912-28773972838"};
    const uint16_t colls[] = {SQL_COLL_UTF8MB4_GENERAL_CI,
                              SQL_COLL_UTF8MB4_0900_AI_CI,
                              SQL_COLL_UTF8MB4_BIN};
    size_t nv = sizeof(v) / sizeof(v[0]);
    for (size_t c = 0; c < 3; c++)
        for (size_t i = 0; i < nv; i++)
            for (size_t j = 0; j < nv; j++) {
                int got = sql__coll_cmp(colls[c], v[i], strlen(v[i]), v[j],
                                        strlen(v[j]));
                int want = ref_cmp(colls[c], v[i], strlen(v[i]), v[j],
                                   strlen(v[j]));
                if (got != want)
                    fail_msg("coll %u: '%s' vs '%s': %d, want %d",
                             colls[c], v[i], v[j], got, want);
            }
}

/* ORDER BY on strings (the sort's direct string and integer compares)
 * and handle ranges whose filter is left out when the range says it all
 * (plan_phys.c handle_exact), with the forms that must keep it. */
static void test_sort_and_handle_ranges(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    assert_string_equal(
        sqlfx_q(&c, "CREATE TABLE s (id INT PRIMARY KEY, c CHAR(10), "
                    "b VARBINARY(10), e ENUM('z','a'), n INT)"),
        "OK 0 0 0");
    assert_string_equal(
        sqlfx_q(&c, "INSERT INTO s VALUES (1,'b','b','a',3),"
                    "(2,'A','A','z',-1),(3,'a ','a','a',NULL),"
                    "(4,'B','B','z',2),(5,'é','é','a',7),(6,NULL,NULL,NULL,0)"),
        "OK 6 0 0");
    assert_string_equal(sqlfx_q(&c, "SELECT id FROM s ORDER BY c, id"),
                        "6\n2\n3\n1\n4\n5");
    assert_string_equal(sqlfx_q(&c, "SELECT id FROM s ORDER BY c DESC, id"),
                        "5\n1\n4\n2\n3\n6");
    assert_string_equal(sqlfx_q(&c, "SELECT id FROM s ORDER BY b, id"),
                        "6\n2\n4\n3\n1\n5");
    assert_string_equal(sqlfx_q(&c, "SELECT id FROM s ORDER BY e, id"),
                        "6\n2\n4\n1\n3\n5");
    assert_string_equal(sqlfx_q(&c, "SELECT id FROM s ORDER BY n, id"),
                        "3\n2\n6\n4\n1\n5");
    assert_string_equal(
        sqlfx_q(&c, "SELECT id FROM s WHERE id BETWEEN 2 AND 4"),
        "2\n3\n4");
    assert_string_equal(
        sqlfx_q(&c, "SELECT id FROM s WHERE id BETWEEN 4 AND 2"), "");
    assert_string_equal(
        sqlfx_q(&c, "SELECT id FROM s WHERE id >= 2 AND id < 5"),
        "2\n3\n4");
    assert_string_equal(
        sqlfx_q(&c, "SELECT id FROM s WHERE 3 < id"), "4\n5\n6");
    /* two bounds on one side: the range holds one, the filter the other */
    assert_string_equal(
        sqlfx_q(&c, "SELECT id FROM s WHERE id BETWEEN 1 AND 5 AND id > 3"),
        "4\n5");
    assert_string_equal(
        sqlfx_q(&c, "SELECT id FROM s WHERE id >= 1 AND id >= 4"), "4\n5\n6");
    /* not integer literals: converted, so filtered */
    assert_string_equal(
        sqlfx_q(&c, "SELECT id FROM s WHERE id BETWEEN 1.5 AND 3.5"),
        "2\n3");
    assert_string_equal(
        sqlfx_q(&c, "SELECT id FROM s WHERE id BETWEEN '2' AND -(-3)"),
        "2\n3");
    assert_string_equal(sqlfx_q(&c, "SELECT id FROM s WHERE id = 3"), "3");
    assert_string_equal(
        sqlfx_q(&c, "SELECT id FROM s WHERE id = 3 AND n = 1"), "");
    assert_string_equal(
        sqlfx_q(&c, "SELECT id FROM s WHERE id BETWEEN 1 AND 6 AND n > 2"),
        "1\n5");
    assert_string_equal(
        sqlfx_q(&c, "SELECT COUNT(*) FROM s WHERE id > 9223372036854775807"),
        "0");
    assert_string_equal(sqlfx_q(&c, "UPDATE s SET n = 9 WHERE id BETWEEN 2 "
                                    "AND 3"),
                        "OK 2 0 0");
    assert_string_equal(
        sqlfx_q(&c, "SELECT id FROM s WHERE n = 9"), "2\n3");
    sqlfx_close_db(&f, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ci_key_matches_reference),
        cmocka_unit_test(test_many_groups),
        cmocka_unit_test(test_coll_cmp_matches_reference),
        cmocka_unit_test(test_sort_and_handle_ranges),
    };
    return cmocka_run_group_tests_name("libsql/hotpath", tests, NULL, NULL);
}

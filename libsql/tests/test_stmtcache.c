/* test_stmtcache.c: the statement cache (stmtcache.c, DESIGN.md
 * "Statement cache"): which texts share a shape, that a hit's tree is
 * the tree a fresh parse gives (printed back as SQL), exact hit, miss,
 * eviction and flush counts, and through a server: results as without
 * the cache with other constants, DDL and SET between two texts of one
 * shape.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"
#include "session.h"
#include "sqlfx.h"
#include "stmtcache.h"

struct fx
{
    struct sql_stmtcache *c;  /* the cache */
    struct sql_arena *a;      /* the caller's arena (reset per text) */
    struct sql_arena *fresh;  /* a plain parse's */
    uint64_t epoch, sgen;     /* passed to each call */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->c = sql__stmtcache_create();
    f->a = sql__arena_create(0);
    f->fresh = sql__arena_create(0);
    assert_non_null(f->c);
    assert_non_null(f->a);
    assert_non_null(f->fresh);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    sql__stmtcache_destroy(f->c);
    sql__arena_destroy(f->a);
    sql__arena_destroy(f->fresh);
    free(f);
    return 0;
}

/* Parses n bytes of sql through the cache and plainly; when the cache
 * took it, the two trees must print the same. Returns the cache's
 * answer (1 taken, 0 not). */
static int parse_n(struct fx *f, const char *sql, size_t n)
{
    sql__arena_reset(f->a);
    sql__arena_reset(f->fresh);
    struct sql_parse_result r1, r2;
    int rc = sql__stmtcache_parse(f->c, f->epoch, f->sgen, f->a, sql, n, &r1);
    assert_true(rc == 0 || rc == 1);
    int prc = sql__parse_one(f->fresh, sql, n, &r2);
    if (rc == 1) {
        assert_int_equal(prc, 0);
        assert_non_null(r1.stmt);
        char *p1 = sql__ast_print(f->a, r1.stmt);
        char *p2 = sql__ast_print(f->fresh, r2.stmt);
        assert_non_null(p1);
        assert_non_null(p2);
        if (strcmp(p1, p2) != 0)
            fail_msg("cached tree %s\nfresh tree  %s", p1, p2);
        assert_int_equal(r1.stmt_end, r2.stmt_end);
        assert_int_equal(r1.next, r2.next);
    }
    return rc;
}

static int parse(struct fx *f, const char *sql)
{
    return parse_n(f, sql, strlen(sql));
}

/* "hits misses evictions flushes refused" */
static const char *stats(struct fx *f)
{
    static char buf[96];
    struct sql_stmtcache_stats st;
    sql__stmtcache_stats(f->c, &st);
    snprintf(buf, sizeof(buf), "%llu %llu %llu %llu %llu",
             (unsigned long long)st.hits, (unsigned long long)st.misses,
             (unsigned long long)st.evictions, (unsigned long long)st.flushes,
             (unsigned long long)st.refused);
    return buf;
}

static void test_hits_and_misses(void **state)
{
    struct fx *f = *state;
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 5"), 1);
    assert_string_equal(stats(f), "0 1 0 0 0");
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 7"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 5"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 123456789"), 1);
    assert_string_equal(stats(f), "3 1 0 0 0");
    /* other bytes outside the holes: another shape */
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id =  5"), 1);
    assert_int_equal(parse(f, "select c FROM t WHERE id = 5"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 5;"), 1);
    assert_string_equal(stats(f), "3 4 0 0 0");
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 9;"), 1);
    /* BETWEEN, IN lists, AND/OR, arithmetic, several holes */
    assert_int_equal(parse(f, "SELECT SUM(k) FROM t WHERE id BETWEEN 1 AND "
                              "100 AND c IN ('a', 'b') OR k * 2 > 10"), 1);
    assert_int_equal(parse(f, "SELECT SUM(k) FROM t WHERE id BETWEEN 50 AND "
                              "149 AND c IN ('x', '') OR k * 3 > 0"), 1);
    assert_string_equal(stats(f), "5 5 0 0 0");
    /* UPDATE and DELETE; the SET's constants are part of the shape */
    assert_int_equal(parse(f, "UPDATE t SET k = k + 1 WHERE id = 3"), 1);
    assert_int_equal(parse(f, "UPDATE t SET k = k + 1 WHERE id = 4"), 1);
    assert_int_equal(parse(f, "UPDATE t SET k = k + 2 WHERE id = 4"), 1);
    assert_int_equal(parse(f, "DELETE FROM t WHERE id = 3"), 1);
    assert_int_equal(parse(f, "DELETE FROM t WHERE id = 8"), 1);
    assert_string_equal(stats(f), "7 8 0 0 0");
    /* ORDER BY and LIMIT end the WHERE clause: their numbers are shape */
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id > 1 ORDER BY 1 "
                              "LIMIT 10"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id > 2 ORDER BY 1 "
                              "LIMIT 10"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id > 2 ORDER BY 2 "
                              "LIMIT 10"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id > 2 ORDER BY 2 "
                              "LIMIT 11"), 1);
    assert_string_equal(stats(f), "8 11 0 0 0");
}

/* Texts the cache leaves to the caller: counted nowhere. */
static void test_not_taken(void **state)
{
    struct fx *f = *state;
    const char *texts[] = {
        "INSERT INTO t VALUES (1, 'a')",
        "SELECT 1",
        "SELECT c FROM t",
        "SELECT c FROM t WHERE id = c",
        "SELECT c FROM t WHERE id = 1; SELECT 2",
        "SELECT c FROM t WHERE id IN (SELECT 1)",
        "SELECT c FROM t WHERE id = 1 UNION SELECT 2",
        "(SELECT c FROM t WHERE id = 1)",
        "WITH x AS (SELECT 1) SELECT c FROM t WHERE id = 1",
        "SELECT c FROM t WHERE id = 1.5",
        "SELECT c FROM t WHERE id = -5",
        "SELECT c FROM t WHERE id = + 5",
        "SELECT c FROM t WHERE d = DATE '2020-01-01'",
        "SELECT c FROM t WHERE c = _utf8mb4'a'",
        "SELECT c FROM t WHERE c = N'a'",
        "SELECT c FROM t WHERE c = 'a' 'b'",
        "SELECT c FROM t WHERE c = 'a' COLLATE utf8mb4_bin",
        "SELECT c FROM t WHERE c LIKE 'a%'",
        "SELECT c FROM t WHERE CAST(c AS CHAR(10)) = c",
        "SELECT c FROM t WHERE d > NOW() - INTERVAL 5 DAY",
        "SELECT c FROM t WHERE id = 'unterminated",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (parse(f, texts[i]) != 0)
            fail_msg("taken: %s", texts[i]);
    assert_string_equal(stats(f), "0 0 0 0 0");
    /* a syntax error with holes: parsed, not kept, left to the caller
     * (who reports the error) */
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 1 AND"), 0);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 1 AND"), 0);
    assert_string_equal(stats(f), "0 0 0 0 0");
}

/* Negative numbers, 1+2 forms, strings with quotes and escapes, NUL
 * bytes, the largest unsigned integer: each hit prints as a fresh
 * parse (parse() checks), and what is not a hole stays shape. */
static void test_constant_forms(void **state)
{
    struct fx *f = *state;
    /* -5 is one literal (folded by the parser): part of the shape */
    assert_int_equal(parse(f, "SELECT c FROM t WHERE k = 1 AND id = -5"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE k = 2 AND id = -5"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE k = 2 AND id = -6"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE k = 3 AND id = - 6"), 1);
    assert_string_equal(stats(f), "1 3 0 0 0");
    /* 1+2: the first operand is a hole, the second (after +) shape */
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 1+2"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 40+2"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 1+3"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 2 - 1"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 7 - 1"), 1);
    assert_string_equal(stats(f), "3 6 0 0 0");
    /* strings: quotes doubled and escaped, empty, backslashes */
    assert_int_equal(parse(f, "SELECT id FROM t WHERE c = 'it''s'"), 1);
    assert_int_equal(parse(f, "SELECT id FROM t WHERE c = 'a\\'b\\\\c'"), 1);
    assert_int_equal(parse(f, "SELECT id FROM t WHERE c = ''"), 1);
    assert_int_equal(parse(f, "SELECT id FROM t WHERE c = '\\n\\t\\0%_'"), 1);
    /* the other quote: another shape */
    assert_int_equal(parse(f, "SELECT id FROM t WHERE c = \"it's\""), 1);
    assert_int_equal(parse(f, "SELECT id FROM t WHERE c = \"x\"\"y\""), 1);
    assert_string_equal(stats(f), "7 8 0 0 0");
    /* a NUL byte in the text (inside a string) and the marker bytes */
    static const char n1[] = "SELECT id FROM t WHERE c = 'a\0b' AND k = 1";
    static const char n2[] = "SELECT id FROM t WHERE c = 'x\0\0' AND k = 2";
    assert_int_equal(parse_n(f, n1, sizeof(n1) - 1), 1);
    assert_int_equal(parse_n(f, n2, sizeof(n2) - 1), 1);
    assert_string_equal(stats(f), "8 9 0 0 0");
    /* integers beyond BIGINT: unsigned, and back */
    assert_int_equal(
        parse(f, "SELECT c FROM t WHERE id = 18446744073709551615"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 0"), 1);
    assert_int_equal(
        parse(f, "SELECT c FROM t WHERE id = 9223372036854775808"), 1);
    assert_int_equal(
        parse(f, "SELECT c FROM t WHERE id = 9223372036854775807"), 1);
    assert_string_equal(stats(f), "11 10 0 0 0");
    /* too big for 64 bits: a DECIMAL token, shape */
    assert_int_equal(
        parse(f, "SELECT c FROM t WHERE id = 18446744073709551616"), 0);
}

/* 16 entries, least recently used out first. */
static void test_lru(void **state)
{
    struct fx *f = *state;
    char sql[64];
    for (int i = 0; i < SQL_STMTCACHE_ENTRIES; i++) {
        snprintf(sql, sizeof(sql), "SELECT c FROM t%d WHERE id = %d", i, i);
        assert_int_equal(parse(f, sql), 1);
    }
    assert_string_equal(stats(f), "0 16 0 0 0");
    assert_int_equal(parse(f, "SELECT c FROM t0 WHERE id = 99"), 1);
    assert_string_equal(stats(f), "1 16 0 0 0");
    /* t1 is now the oldest */
    assert_int_equal(parse(f, "SELECT c FROM t16 WHERE id = 1"), 1);
    assert_string_equal(stats(f), "1 17 1 0 0");
    assert_int_equal(parse(f, "SELECT c FROM t0 WHERE id = 3"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t2 WHERE id = 3"), 1);
    assert_string_equal(stats(f), "3 17 1 0 0");
    assert_int_equal(parse(f, "SELECT c FROM t1 WHERE id = 3"), 1);
    assert_string_equal(stats(f), "3 18 2 0 0"); /* t3 went */
    assert_int_equal(parse(f, "SELECT c FROM t16 WHERE id = 4"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t3 WHERE id = 4"), 1);
    assert_string_equal(stats(f), "4 19 3 0 0");
}

/* A new epoch or session generation empties the cache. */
static void test_generations(void **state)
{
    struct fx *f = *state;
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 5"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 6"), 1);
    assert_string_equal(stats(f), "1 1 0 0 0");
    f->epoch++;
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 7"), 1);
    assert_string_equal(stats(f), "1 2 0 1 0");
    f->sgen++;
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 8"), 1);
    assert_int_equal(parse(f, "SELECT c FROM t WHERE id = 9"), 1);
    assert_string_equal(stats(f), "2 3 0 2 0");
}

/* ---- through a server ---- */

static const char *sstats(struct sqlfx_conn *c)
{
    static char buf[96];
    struct sql_stmtcache_stats st;
    assert_non_null(c->s->stc);
    sql__stmtcache_stats(c->s->stc, &st);
    snprintf(buf, sizeof(buf), "%llu %llu %llu %llu",
             (unsigned long long)st.hits, (unsigned long long)st.misses,
             (unsigned long long)st.evictions, (unsigned long long)st.flushes);
    return buf;
}

#define Q(c, sql, want) assert_string_equal(sqlfx_q((c), (sql)), (want))

static void test_server_results(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, k INT, c VARCHAR(20))",
      "OK 0 0 0");
    Q(&c, "INSERT INTO t VALUES (1, 10, 'one'), (2, 20, 'it''s'), "
          "(3, 30, 'a\\\\b'), (-4, 40, ''), (5, 50, 'five')",
      "OK 5 0 0");
    Q(&c, "SELECT c FROM t WHERE id = 1", "one");
    assert_string_equal(sstats(&c), "0 1 0 0");
    Q(&c, "SELECT c FROM t WHERE id = 2", "it's");
    Q(&c, "SELECT c FROM t WHERE id = 3", "a\\b");
    Q(&c, "SELECT c FROM t WHERE id = 6", "");
    Q(&c, "SELECT c FROM t WHERE id = 1", "one");
    assert_string_equal(sstats(&c), "4 1 0 0");
    Q(&c, "SELECT id FROM t WHERE c = 'it''s'", "2");
    Q(&c, "SELECT id FROM t WHERE c = 'a\\\\b'", "3");
    Q(&c, "SELECT id FROM t WHERE c = ''", "-4");
    Q(&c, "SELECT id FROM t WHERE c = 'ONE'", "1");
    assert_string_equal(sstats(&c), "7 2 0 0");
    Q(&c, "SELECT id FROM t WHERE id = -4", "-4");
    Q(&c, "SELECT id FROM t WHERE id = -5", "");
    Q(&c, "SELECT id FROM t WHERE id = 1+2", "3");
    Q(&c, "SELECT id FROM t WHERE id = 4+1", "5");
    Q(&c, "SELECT SUM(k) FROM t WHERE id BETWEEN 1 AND 3", "60");
    Q(&c, "SELECT SUM(k) FROM t WHERE id BETWEEN 2 AND 5", "100");
    Q(&c, "SELECT SUM(k) FROM t WHERE id BETWEEN 5 AND 2", "NULL");
    Q(&c, "SELECT id FROM t WHERE id IN (1, 5) ORDER BY id", "1\n5");
    Q(&c, "SELECT id FROM t WHERE id IN (2, 3) ORDER BY id", "2\n3");
    /* a value of another type in the same hole: planned afresh */
    Q(&c, "SELECT c FROM t WHERE id = '5'", "five");
    Q(&c, "SELECT c FROM t WHERE id = 'x'", "");
    Q(&c, "SELECT c FROM t WHERE id = 18446744073709551615", "");
    /* writes */
    Q(&c, "UPDATE t SET k = k + 1 WHERE id = 1", "OK 1 0 0");
    Q(&c, "UPDATE t SET k = k + 1 WHERE id = 2", "OK 1 0 0");
    Q(&c, "UPDATE t SET k = k + 1 WHERE id = 9", "OK 0 0 0");
    Q(&c, "DELETE FROM t WHERE id = 5", "OK 1 0 0");
    Q(&c, "DELETE FROM t WHERE id = 1", "OK 1 0 0");
    Q(&c, "SELECT id, k FROM t WHERE id > -10 ORDER BY id",
      "-4|40\n2|21\n3|30");
    /* errors with the holes filled: the message names this constant */
    Q(&c, "SELECT c FROM t WHERE nosuch = 1",
      "ERR 1054 Unknown column 'nosuch' in 'where clause'");
    Q(&c, "SELECT c FROM t WHERE id = 1 AND", "ERR 1064 You have an error "
      "in your SQL syntax; check the manual that corresponds to your "
      "MySQL server version for the right syntax to use near '' at "
      "line 1");
    sqlfx_close_db(&f, &c);
}

/* DDL between two texts of one shape: the second sees the new schema
 * (the epoch moved: the cache was emptied); SET of a variable and USE
 * empty it too; another session's cache is its own. */
static void test_server_ddl_and_settings(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c, c2;
    sqlfx_open_db(&f, &c);
    sqlfx_connect(&f, &c2, 2);
    Q(&c2, "USE d", "OK 0 0 0");
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, k INT)", "OK 0 0 0");
    Q(&c, "INSERT INTO t VALUES (1, 10), (2, 20)", "OK 2 0 0");
    Q(&c, "SELECT * FROM t WHERE id = 1", "1|10");
    Q(&c2, "SELECT * FROM t WHERE id = 2", "2|20");
    Q(&c, "ALTER TABLE t ADD COLUMN z INT DEFAULT 7", "OK 0 0 0");
    Q(&c, "SELECT * FROM t WHERE id = 2", "2|20|7");
    Q(&c2, "SELECT * FROM t WHERE id = 1", "1|10|7");
    assert_string_equal(sstats(&c), "0 2 0 1");
    assert_string_equal(sstats(&c2), "0 2 0 1");
    Q(&c, "SELECT * FROM t WHERE id = 1", "1|10|7");
    assert_string_equal(sstats(&c), "1 2 0 1");
    Q(&c2, "DROP TABLE t", "OK 0 0 0");
    Q(&c, "SELECT * FROM t WHERE id = 1",
      "ERR 1146 Table 'd.t' doesn't exist");
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(5))", "OK 0 0 0");
    Q(&c, "INSERT INTO t VALUES (1, 'x')", "OK 1 0 0");
    Q(&c, "SELECT * FROM t WHERE id = 1", "1|x");
    Q(&c, "SELECT * FROM t WHERE id = 2", "");
    assert_string_equal(sstats(&c), "2 4 0 3");
    /* session settings: SET and USE */
    Q(&c, "SET sql_mode = 'ANSI_QUOTES'", "OK 0 0 0");
    Q(&c, "SELECT * FROM t WHERE id = 1", "1|x");
    assert_string_equal(sstats(&c), "2 5 0 4");
    Q(&c, "SELECT * FROM t WHERE id = 1", "1|x");
    Q(&c, "CREATE DATABASE e", "OK 1 0 0");
    Q(&c, "USE e", "OK 0 0 0");
    Q(&c, "SELECT * FROM t WHERE id = 1",
      "ERR 1146 Table 'e.t' doesn't exist");
    Q(&c, "SELECT * FROM d.t WHERE id = 1", "1|x");
    sqlfx_disconnect(&c2);
    sqlfx_close_db(&f, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hits_and_misses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_not_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constant_forms, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lru, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generations, setup, teardown),
        cmocka_unit_test(test_server_results),
        cmocka_unit_test(test_server_ddl_and_settings),
    };
    return cmocka_run_group_tests_name("libsql/stmtcache", tests, NULL, NULL);
}

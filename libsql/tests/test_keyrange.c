/* test_keyrange.c: how much an index range reads, counted at the store's
 * transport (a server on the in-process store whose batch gets and scans
 * count the keys they ask for): a DATE or DATETIME key compared with a string
 * constant reads only the rows in the range (it read the whole index and
 * every row before), a bound the key cannot hold exactly takes the whole
 * key value in, and every answer equals the answer without the index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <mvcc.h>

#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)

static struct sqlfx_two w;
static struct mvcc_transport real;
static size_t keys_got;  /* keys asked by batch gets */

static int count_batch_get(void *ctx, uint64_t shard,
                           const struct mvcc_read_opts *ro,
                           const struct mvcc_key *keys, size_t n, mvcc_ts ts,
                           struct mvcc_result *res)
{
    keys_got += n;
    return real.batch_get(ctx, shard, ro, keys, n, ts, res);
}

static int setup(void **state)
{
    (void)state;
    sqlfx_two_store(&w);
    real = w.tr;
    w.co.transport.batch_get = count_batch_get;
    /* the default schema lease: a lapsed one makes a statement read the
     * schema version first, keys this test would count (it failed once
     * with a 50 ms lease on a loaded machine, 13 keys for 11) */
    sqlfx_two_server(&w, &w.a, 0);
    sqlfx_connect(&w.a, &w.ca, 1);
    Q(&w.ca, "CREATE DATABASE d", "OK 1 0 0");
    Q(&w.ca, "USE d", "OK 0 0 0");
    Q(&w.ca,
      "CREATE TABLE ev (id INT PRIMARY KEY, d DATE, dt DATETIME, v INT, "
      "KEY kd (d), KEY kdt (dt))",
      "OK 0 0 0");
    /* day i of 2024 (i = 1..60) at 12:00:i, v = i */
    char sql[8192];
    size_t n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO ev VALUES ");
    for (int i = 1; i <= 60; i++)
        n += (size_t)snprintf(sql + n, sizeof(sql) - n,
                              "%s(%d, '2024-01-01' + INTERVAL %d DAY, "
                              "'2024-01-01 12:00:00' + INTERVAL %d DAY + "
                              "INTERVAL %d SECOND, %d)",
                              i > 1 ? ", " : "", i, i - 1, i - 1, i, i);
    Q(&w.ca, sql, "OK 60 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_disconnect(&w.ca);
    sql_server_close(w.a.srv);
    sqlfx_two_store_close(&w);
    return 0;
}

/* Runs SELECT SUM(v), COUNT(*) ... WHERE cond through index idx, checks
 * the answer is want and equal to the one without the index, and returns
 * the keys the indexed run fetched by handle. */
static size_t run(const char *idx, const char *cond, const char *want)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*), SUM(v) FROM ev FORCE INDEX (%s) WHERE %s", idx,
             cond);
    keys_got = 0;
    Q(&w.ca, sql, want);
    size_t got = keys_got;
    snprintf(sql, sizeof(sql),
             "SELECT COUNT(*), SUM(v) FROM ev IGNORE INDEX (kd, kdt) WHERE %s",
             cond);
    Q(&w.ca, sql, want);
    return got;
}

static void date_ranges_read_the_range(void **state)
{
    (void)state;
    /* days 11..20 */
    assert_int_equal(
        run("kd", "d >= '2024-01-11' AND d < '2024-01-21'", "10|155"), 10);
    assert_int_equal(run("kd", "d BETWEEN '2024-01-11' AND '2024-01-20'",
                         "10|155"),
                     10);
    assert_int_equal(run("kd", "d > '2024-01-10' AND d <= '2024-01-20'",
                         "10|155"),
                     10);
    /* one day, by equality */
    assert_int_equal(run("kd", "d = '2024-01-15'", "1|15"), 1);
    /* open above, open below */
    assert_int_equal(run("kd", "d >= '2024-02-25'", "5|290"), 5);
    assert_int_equal(run("kd", "d < '2024-01-04'", "3|6"), 3);
}

static void inexact_bounds_take_the_whole_value(void **state)
{
    (void)state;
    /* A time of day against a DATE: compared as DATETIME, so 01-10 (its
     * midnight) is below 01-10 10:00 and 01-20 is below 01-20 10:00; the
     * key range takes both whole days in (12 keys), the condition
     * decides (days 11..20). */
    assert_int_equal(run("kd",
                         "d > '2024-01-10 10:00:00' AND d < '2024-01-20 "
                         "10:00:00'",
                         "10|155"),
                     11);
    assert_int_equal(run("kd", "d >= '2024-01-10 10:00:00' AND d <= "
                               "'2024-01-20 10:00:00'",
                         "10|155"),
                     11);
    /* day 15 is 12:00:15; a fraction the DATETIME(0) key does not keep */
    assert_int_equal(run("kdt",
                         "dt <= '2024-01-15 12:00:15.5' AND dt > "
                         "'2024-01-14 12:00:14.5'",
                         "1|15"),
                     1);
    assert_int_equal(run("kdt",
                         "dt >= '2024-01-15 12:00:15' AND dt < "
                         "'2024-01-17 12:00:17'",
                         "2|31"),
                     2);
    /* what is no datetime bounds nothing: the comparison reads it as
     * the zero date (with a warning), below every day */
    assert_int_equal(run("kd", "d >= 'someday' AND v <= 3", "3|6"), 60);
    run("kd", "d = '2024-01-15 10:00:00'", "0|NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(date_ranges_read_the_range),
        cmocka_unit_test(inexact_bounds_take_the_whole_value),
    };
    return cmocka_run_group_tests_name("libsql/keyrange", tests, setup,
                                       teardown);
}

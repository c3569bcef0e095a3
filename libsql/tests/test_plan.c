/* test_plan.c: the planner's choices, read back through EXPLAIN: point
 * get, batch point get, handle ranges, unique-index point, index ranges,
 * full scans, index hints, TopN and a Sort the handle order makes
 * unnecessary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q(c, sql), want)

static struct sqlfx f;
static struct sqlfx_conn c;

static int setup(void **state)
{
    (void)state;
    sqlfx_open_db(&f, &c);
    Q(&c,
      "CREATE TABLE t (id INT PRIMARY KEY, u VARCHAR(10), k INT, j INT, "
      "UNIQUE KEY uu (u), KEY kj (k, j))",
      "OK 0 0 0");
    Q(&c, "CREATE TABLE h (a INT, b INT, KEY (b))", "OK 0 0 0");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sqlfx_close_db(&f, &c);
    return 0;
}

/* The access line of EXPLAIN (the last row) for a query on t. */
static const char *access_of(const char *sql)
{
    const char *out = sqlfx_q(&c, sql);
    const char *last = strrchr(out, '\n');
    last = last ? last + 1 : out;
    while (*last == ' ')
        last++;
    if (strncmp(last, "\xe2\x94\x94\xe2\x94\x80", 6) == 0) /* the tree */
        last += 6;
    return last;
}

static void point_and_batch_point_get(void **state)
{
    (void)state;
    assert_string_equal(access_of("EXPLAIN SELECT * FROM t WHERE id = 5"),
                        "Point_Get_2|root|table:t|handle: 1 key; "
                        "filter:(id = 5)");
    assert_string_equal(
        access_of("EXPLAIN SELECT * FROM t WHERE id IN (1, 2, 3)"),
        "Batch_Point_Get_2|root|table:t|handle: 3 keys; filter:(id IN (1, 2, "
        "3))");
    assert_string_equal(
        access_of("EXPLAIN SELECT u FROM t WHERE u = 'x'"),
        "Point_Get_2|root|table:t, index:uu(u)|range: 1 key; filter:(u = "
        "'x')");
    /* A parameter is a constant too (prepared statements). */
    assert_string_equal(access_of("EXPLAIN SELECT * FROM t WHERE 7 = id"),
                        "Point_Get_2|root|table:t|handle: 1 key; "
                        "filter:(7 = id)");
}

static void ranges(void **state)
{
    (void)state;
    assert_string_equal(
        access_of("EXPLAIN SELECT * FROM t WHERE id BETWEEN 10 AND 20"),
        "TableRangeScan_2|root|table:t|range: 1 key; filter:(id BETWEEN 10 "
        "AND 20)");
    assert_string_equal(
        access_of("EXPLAIN SELECT * FROM t WHERE k = 1 AND j > 5"),
        "IndexRangeScan_2|root|table:t, index:kj(k, j)|range: 1 key; "
        "filter:((k = 1) AND (j > 5))");
    assert_string_equal(
        access_of("EXPLAIN SELECT * FROM t WHERE k IN (1, 2) AND j = 3"),
        "IndexRangeScan_2|root|table:t, index:kj(k, j)|range: 2 keys; "
        "filter:((k IN (1, 2)) AND (j = 3))");
    /* IS NULL and <=> look up the index too (NULL keys sort first). */
    assert_string_equal(
        access_of("EXPLAIN SELECT * FROM t WHERE k IS NULL"),
        "IndexRangeScan_2|root|table:t, index:kj(k, j)|range: 1 key; "
        "filter:(k IS NULL)");
    assert_string_equal(
        access_of("EXPLAIN SELECT * FROM t WHERE u <=> 'x'"),
        "IndexRangeScan_2|root|table:t, index:uu(u)|range: 1 key; "
        "filter:(u <=> 'x')");
    /* An equality on the index beats a range on the handle. */
    assert_string_equal(
        access_of("EXPLAIN SELECT * FROM t WHERE id > 3 AND k = 1"),
        "IndexRangeScan_2|root|table:t, index:kj(k, j)|range: 1 key; "
        "filter:((id > 3) AND (k = 1))");
}

static void full_scans_and_hints(void **state)
{
    (void)state;
    assert_string_equal(access_of("EXPLAIN SELECT * FROM t WHERE j = 1"),
                        "TableFullScan_2|root|table:t|keep order:false; "
                        "filter:(j = 1)");
    assert_string_equal(access_of("EXPLAIN SELECT * FROM t WHERE k + 1 = 2"),
                        "TableFullScan_2|root|table:t|keep order:false; "
                        "filter:((k + 1) = 2)");
    assert_string_equal(
        access_of("EXPLAIN SELECT * FROM t IGNORE INDEX (kj) WHERE k = 1"),
        "TableFullScan_2|root|table:t|keep order:false; filter:(k = 1)");
    assert_string_equal(
        access_of("EXPLAIN SELECT * FROM t USE INDEX (uu) WHERE k = 1 AND "
                  "u = 'a'"),
        "Point_Get_2|root|table:t, index:uu(u)|range: 1 key; filter:((k = "
        "1) AND (u = 'a'))");
    /* A table without a primary key reads by its hidden row id. */
    assert_string_equal(access_of("EXPLAIN SELECT * FROM h WHERE b = 2"),
                        "IndexRangeScan_2|root|table:h, index:b(b)|range: 1 "
                        "key; filter:(b = 2)");
    assert_string_equal(access_of("EXPLAIN SELECT * FROM h WHERE a = 2"),
                        "TableFullScan_2|root|table:h|keep order:false; "
                        "filter:(a = 2)");
}

static void order_and_limit(void **state)
{
    (void)state;
    Q(&c, "EXPLAIN SELECT id FROM t ORDER BY id DESC LIMIT 3",
      "Projection_1|root||id\n"
      "\xe2\x94\x94\xe2\x94\x80Limit_2|root||count\n"
      "  \xe2\x94\x94\xe2\x94\x80TableFullScan_3|root|table:t|keep "
      "order:true, desc");
    Q(&c, "EXPLAIN SELECT id FROM t ORDER BY k LIMIT 2, 3",
      "TopN_1|root||k, offset, count\n"
      "\xe2\x94\x94\xe2\x94\x80Projection_2|root||id\n"
      "  \xe2\x94\x94\xe2\x94\x80TableFullScan_3|root|table:t|keep "
      "order:false");
    Q(&c, "EXPLAIN DELETE FROM t WHERE id = 1",
      "Point_Get_1|root|table:t|handle: 1 key; filter:(id = 1)");
    Q(&c, "EXPLAIN UPDATE t SET k = 1 WHERE u = 'a' ORDER BY id LIMIT 1",
      "TopN_1|root||id, count\n"
      "\xe2\x94\x94\xe2\x94\x80Projection_2|root||\n"
      "  \xe2\x94\x94\xe2\x94\x80Point_Get_3|root|table:t, index:uu(u)|"
      "range: 1 key; filter:(u = 'a')");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(point_and_batch_point_get),
        cmocka_unit_test(ranges),
        cmocka_unit_test(full_scans_and_hints),
        cmocka_unit_test(order_and_limit),
    };
    return cmocka_run_group_tests_name("libsql/plan", tests, setup, teardown);
}

/* test_parse_fault.c: the arena, and allocation failure while parsing and
 * printing: failing the i-th heap allocation, for every i, gives a clean
 * -ENOMEM (MySQL error 1037) and leaks nothing (SQLite's faultsim idea).
 * See DESIGN.md, "Parser".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "faultheap.h"

#include "sql.h"
#include "parse.h"

static int setup(void **state)
{
    (void)state;
    struct sql__heap h = {NULL, fh_malloc, fh_realloc, fh_free};
    sql__heap_set(&h);
    fh_fail_at = -1;
    fh_calls = 0;
    fh_live = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sql__heap_set(NULL);
    return 0;
}

static void arena_basics(void **state)
{
    (void)state;
    struct sql_arena *a = sql__arena_create(128);
    assert_non_null(a);
    assert_int_equal(fh_live, 1); /* nothing until the first allocation */
    char *p = sql__arena_alloc(a, 1);
    char *q = sql__arena_alloc(a, 3);
    assert_non_null(p);
    assert_non_null(q);
    assert_true((uintptr_t)q % _Alignof(max_align_t) == 0);
    assert_int_equal(fh_live, 2);
    /* A big request gets its own block and later small ones still fit in
     * the current block. */
    char *big = sql__arena_alloc(a, 10000);
    assert_non_null(big);
    memset(big, 1, 10000);
    assert_int_equal(fh_live, 3);
    char *r = sql__arena_alloc(a, 8);
    assert_true(r > q && r < q + 128);
    assert_int_equal(fh_live, 3);
    char *z = sql__arena_zalloc(a, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(z[i], 0);
    assert_string_equal(sql__arena_strndup(a, "hello", 4), "hell");
    for (int i = 0; i < 100; i++)
        assert_non_null(sql__arena_alloc(a, 64));
    assert_true(fh_live > 10);
    sql__arena_reset(a);
    assert_int_equal(fh_live, 2); /* the arena and one block */
    assert_non_null(sql__arena_alloc(a, 16));
    assert_int_equal(fh_live, 2);
    sql__arena_destroy(a);
    assert_int_equal(fh_live, 0);
    sql__arena_destroy(NULL);
    /* Failures are NULL, never a crash. */
    fh_fail_at = fh_calls;
    assert_null(sql__arena_create(0));
    a = sql__arena_create(0);
    fh_fail_at = fh_calls;
    assert_null(sql__arena_alloc(a, 10));
    fh_fail_at = fh_calls;
    assert_null(sql__arena_strndup(a, "x", 1));
    fh_fail_at = fh_calls;
    assert_null(sql__arena_zalloc(a, 1));
    sql__arena_destroy(a);
    assert_int_equal(fh_live, 0);
}

static const char *const stmts[] = {
    "select a + b * 2, 'x' 'y', `q``q`, count(distinct c) from db.t as x "
    "left join u using (id) where x.id in (1, 2, 3) and c like 'a\\%' "
    "group by a having count(*) > 1 order by 1 desc limit 10, 5 for update",
    "insert into t (a, b) values (1, 'it''s'), (2, default) on duplicate key "
    "update b = values(b)",
    "update t set a = a + 1 where id = ? order by b limit 3",
    "create table t (id bigint unsigned not null auto_increment, v "
    "varchar(20) character set utf8mb4 default 'x' comment 'c', e "
    "enum('a','b'), primary key (id), unique key u (v(4)), constraint f "
    "foreign key (id) references p (id) on delete cascade) engine=InnoDB "
    "default charset=utf8mb4",
    "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */",
    "grant select, insert (a) on d.* to 'u'@'%' identified by 'p'",
    "select (select max(x) from (select 1 x union all select 2) d), case when "
    "a then b else c end, cast(d as decimal(10,2)), trim(leading 'x' from e)",
};

/* Fail each allocation in turn until the statement goes through. */
static void fail_every_allocation(void **state)
{
    (void)state;
    for (size_t s = 0; s < sizeof stmts / sizeof stmts[0]; s++) {
        const char *sql = stmts[s];
        int failures = 0;
        for (long i = 0;; i++) {
            fh_calls = 0;
            fh_fail_at = i;
            /* Tiny blocks: many allocations, each a chance to fail. */
            struct sql_arena *a = sql__arena_create(64);
            if (a == NULL) {
                assert_int_equal(i, 0);
                failures++;
                continue;
            }
            struct sql_parse_result r;
            int rc = sql__parse_one(a, sql, strlen(sql), &r);
            char *printed = NULL;
            if (rc == 0) {
                assert_non_null(r.stmt);
                printed = sql__ast_print(a, r.stmt);
            } else {
                assert_int_equal(rc, -ENOMEM);
                assert_int_equal(r.errcode, SQL_ER_OUTOFMEMORY);
                assert_null(r.stmt);
            }
            bool hit = fh_calls > i;
            sql__arena_destroy(a);
            assert_int_equal(fh_live, 0);
            if (!hit) {
                assert_int_equal(rc, 0);
                assert_non_null(printed);
                break;
            }
            failures++;
            assert_true(rc != 0 || printed == NULL);
        }
        assert_true(failures > 5);
    }
    fh_fail_at = -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(arena_basics, setup, teardown),
        cmocka_unit_test_setup_teardown(fail_every_allocation, setup, teardown),
    };
    return cmocka_run_group_tests_name("libsql/parse_fault", tests, NULL, NULL);
}

/* test_acct_fault.c: the account and privilege statements, and opening a
 * server (root's bootstrap), with the i-th libsql allocation failing, for
 * every i: a clean answer or error, no crash, no leaked block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "faultheap.h"

#include "sqlfx.h"

static const struct sql_heap heap = {NULL, fh_malloc, fh_realloc, fh_free};

static const char *const setup_sql[] = {
    "CREATE DATABASE d",
    "CREATE TABLE d.t (id INT PRIMARY KEY)",
    "CREATE USER u IDENTIFIED BY 'p', w",
    "GRANT SELECT ON d.* TO u",
    "GRANT INSERT ON d.t TO u",
};

static const char *const work[] = {
    "CREATE USER a IDENTIFIED BY 'x', b IDENTIFIED WITH "
    "caching_sha2_password BY 'y'",
    "CREATE USER IF NOT EXISTS u, c",
    "ALTER USER u IDENTIFIED WITH caching_sha2_password BY 'q'",
    "SET PASSWORD FOR u = 'z'",
    "DROP USER u, w",
    "GRANT INSERT, UPDATE ON d.t TO u, w WITH GRANT OPTION",
    "GRANT ALL ON *.* TO w",
    "REVOKE SELECT ON d.* FROM u",
    "REVOKE ALL PRIVILEGES, GRANT OPTION FROM u",
    "SHOW GRANTS FOR u",
    "SHOW CREATE USER u",
    "SHOW DATABASES",
    "SELECT COUNT(*) FROM information_schema.tables",
    "KILL QUERY 1",
    "FLUSH PRIVILEGES",
    "SELECT * FROM information_schema.TABLE_PRIVILEGES",
};

static void statements(void **state)
{
    (void)state;
    for (size_t w = 0; w < sizeof(work) / sizeof(work[0]); w++) {
        for (long i = 0;; i++) {
            fh_fail_at = -1;
            fh_calls = 0;
            fh_live = 0;
            sql_heap_set(&heap);
            struct sqlfx f;
            struct sqlfx_conn c;
            sqlfx_open(&f, false);
            sqlfx_connect(&f, &c, 1);
            for (size_t k = 0; k < sizeof(setup_sql) / sizeof(setup_sql[0]);
                 k++)
                sqlfx_q(&c, setup_sql[k]);
            fh_fail_at = i;
            fh_calls = 0;
            const char *out = sqlfx_q(&c, work[w]);
            bool failed = fh_calls > i;
            fh_fail_at = -1;
            sqlfx_q(&c, "SELECT 1");
            if (strcmp(c.out, "1") != 0)
                fail_msg("after failing alloc %ld of '%s' (answer '%s'): "
                         "SELECT 1 gave '%s'",
                         i, work[w], out, c.out);
            sqlfx_disconnect(&c);
            sqlfx_close(&f);
            sql_heap_set(NULL);
            if (fh_live != 0)
                fail_msg("leak: %ld blocks after failing alloc %ld of '%s'",
                         fh_live, i, work[w]);
            if (!failed) {
                printf("# %-60.60s %ld allocations swept\n", work[w], i);
                break;
            }
        }
    }
}

/* Opening a new store creates root: every failure is a clean error. */
static void open_with_bootstrap(void **state)
{
    (void)state;
    for (long i = 0;; i++) {
        fh_calls = 0;
        fh_live = 0;
        fh_fail_at = i;
        sql_heap_set(&heap);
        struct sql_server_options o = {.root_password = "pw"};
        struct sql_server *srv = NULL;
        char err[256];
        int rc = sql_server_open(&o, &srv, err, sizeof(err));
        bool failed = fh_calls > i;
        fh_fail_at = -1;
        if (failed)
            assert_int_not_equal(rc, 0);
        else
            assert_int_equal(rc, 0);
        sql_server_close(srv);
        sql_heap_set(NULL);
        if (fh_live != 0)
            fail_msg("leak: %ld blocks after failing alloc %ld of open", fh_live,
                     i);
        if (!failed) {
            printf("# open %ld allocations swept\n", i);
            break;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statements),
        cmocka_unit_test(open_with_bootstrap),
    };
    return cmocka_run_group_tests_name("libsql/acct_fault", tests, NULL,
                                       NULL);
}

/* test_version.c: the header and the archive agree on the version, and
 * every result code has its message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "sql.h"

static void version_matches_header(void **state)
{
    (void)state;
    assert_int_equal(sql_version_number(), SQL_VERSION_NUMBER);
    assert_int_equal(SQL_VERSION_NUMBER,
                     SQL_VERSION_MAJOR * 1000000 + SQL_VERSION_MINOR * 1000 +
                         SQL_VERSION_PATCH);
}

static void strerror_covers_every_range(void **state)
{
    (void)state;
    assert_string_equal(sql_strerror(0), "success");
    assert_string_equal(sql_strerror(-ENOMEM), strerror(ENOMEM));
    assert_string_equal(sql_strerror(SQL_EINTERNAL),
                        "internal error in libsql");
    assert_string_equal(sql_strerror(-5999),
                        "unknown libsql result code");
    assert_string_equal(sql_strerror(7), "unknown libsql result code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_matches_header),
        cmocka_unit_test(strerror_covers_every_range),
    };
    return cmocka_run_group_tests_name("libsql/version", tests, NULL, NULL);
}

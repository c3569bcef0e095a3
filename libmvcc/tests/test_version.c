/* test_version.c: the header and the archive agree on the version, and
 * every result code has its message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "mvcc.h"

static void version_matches_header(void **state)
{
    (void)state;
    assert_int_equal(mvcc_version_number(), MVCC_VERSION_NUMBER);
    assert_int_equal(MVCC_VERSION_NUMBER,
                     MVCC_VERSION_MAJOR * 1000000 + MVCC_VERSION_MINOR * 1000 +
                         MVCC_VERSION_PATCH);
}

static void strerror_covers_every_range(void **state)
{
    (void)state;
    assert_string_equal(mvcc_strerror(0), "success");
    assert_string_equal(mvcc_strerror(-ENOMEM), strerror(ENOMEM));
    assert_string_equal(mvcc_strerror(MVCC_EINTERNAL),
                        "internal error in libmvcc");
    assert_string_equal(mvcc_strerror(MVCC_LOCKED),
                        "key is locked by another transaction");
    assert_string_equal(mvcc_strerror(MVCC_LOCK_NOT_FOUND),
                        "expected lock is missing");
    assert_string_equal(mvcc_strerror(-2999),
                        "unknown libmvcc result code");
    assert_string_equal(mvcc_strerror(7), "unknown libmvcc result code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_matches_header),
        cmocka_unit_test(strerror_covers_every_range),
    };
    return cmocka_run_group_tests_name("libmvcc/version", tests, NULL, NULL);
}

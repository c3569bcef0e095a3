/* test_version.c: the header and the archive agree on the version, and
 * every result code has its message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "pd.h"

static void version_matches_header(void **state)
{
    (void)state;
    assert_int_equal(pd_version_number(), PD_VERSION_NUMBER);
    assert_int_equal(PD_VERSION_NUMBER,
                     PD_VERSION_MAJOR * 1000000 + PD_VERSION_MINOR * 1000 +
                         PD_VERSION_PATCH);
}

static void strerror_covers_every_range(void **state)
{
    (void)state;
    assert_string_equal(pd_strerror(0), "success");
    assert_string_equal(pd_strerror(-ENOMEM), strerror(ENOMEM));
    assert_string_equal(pd_strerror(PD_EINTERNAL),
                        "internal error in libpd");
    assert_string_equal(pd_strerror(-4999),
                        "unknown libpd result code");
    assert_string_equal(pd_strerror(7), "unknown libpd result code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_matches_header),
        cmocka_unit_test(strerror_covers_every_range),
    };
    return cmocka_run_group_tests_name("libpd/version", tests, NULL, NULL);
}

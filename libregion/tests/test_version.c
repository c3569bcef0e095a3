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
#include "raft.h"
#include "region.h"

static void version_matches_header(void **state)
{
    (void)state;
    assert_int_equal(region_version_number(), REGION_VERSION_NUMBER);
    assert_int_equal(REGION_VERSION_NUMBER,
                     REGION_VERSION_MAJOR * 1000000 + REGION_VERSION_MINOR * 1000 +
                         REGION_VERSION_PATCH);
}

static void strerror_covers_every_range(void **state)
{
    (void)state;
    assert_string_equal(region_strerror(0), "success");
    assert_string_equal(region_strerror(-ENOMEM), strerror(ENOMEM));
    assert_string_equal(region_strerror(REGION_EINTERNAL),
                        "internal error in libregion");
    assert_string_equal(region_strerror(REGION_ENOT_LEADER), "not leader");
    assert_string_equal(region_strerror(REGION_ESTALE_COMMAND),
                        "stale command");
    assert_string_equal(region_strerror(REGION_EGC_TOO_EARLY),
                        "read below the GC safe point");
    /* libraft's and libmvcc's codes pass through libregion untranslated
     * (a store that would not open said "unknown libregion result code"
     * for libraft's RAFT_EINVAL) */
    assert_string_equal(region_strerror(RAFT_EINVAL), "invalid argument");
    assert_string_equal(region_strerror(MVCC_NOTFOUND), "key not found");
    assert_string_equal(region_strerror(-1999),
                        "unknown libraft result code");
    assert_string_equal(region_strerror(-3999),
                        "unknown libregion result code");
    assert_string_equal(region_strerror(7), "unknown libregion result code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_matches_header),
        cmocka_unit_test(strerror_covers_every_range),
    };
    return cmocka_run_group_tests_name("libregion/version", tests, NULL, NULL);
}

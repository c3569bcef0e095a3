/* test_version.c: the header and the archive agree on the version, and
 * every result code has its message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "raft.h"

static void version_matches_header(void **state)
{
    (void)state;
    assert_int_equal(raft_version_number(), RAFT_VERSION_NUMBER);
    assert_int_equal(RAFT_VERSION_NUMBER,
                     RAFT_VERSION_MAJOR * 1000000 + RAFT_VERSION_MINOR * 1000 +
                         RAFT_VERSION_PATCH);
}

static void strerror_covers_every_range(void **state)
{
    (void)state;
    assert_string_equal(raft_strerror(0), "success");
    assert_string_equal(raft_strerror(-ENOMEM), strerror(ENOMEM));
    assert_string_equal(raft_strerror(RAFT_EINTERNAL),
                        "internal error in libraft");
    assert_string_equal(raft_strerror(-1999),
                        "unknown libraft result code");
    assert_string_equal(raft_strerror(7), "unknown libraft result code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_matches_header),
        cmocka_unit_test(strerror_covers_every_range),
    };
    return cmocka_run_group_tests_name("libraft/version", tests, NULL, NULL);
}

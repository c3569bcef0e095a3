/* test_version.c: the header and the archive agree on the version, and
 * every result code has its message.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "rpc.h"

static void version_matches_header(void **state)
{
    (void)state;
    assert_int_equal(rpc_version_number(), RPC_VERSION_NUMBER);
    assert_int_equal(RPC_VERSION_NUMBER,
                     RPC_VERSION_MAJOR * 1000000 + RPC_VERSION_MINOR * 1000 +
                         RPC_VERSION_PATCH);
}

static void strerror_covers_every_range(void **state)
{
    (void)state;
    assert_string_equal(rpc_strerror(0), "success");
    assert_string_equal(rpc_strerror(-ENOMEM), strerror(ENOMEM));
    assert_string_equal(rpc_strerror(RPC_EINTERNAL),
                        "internal error in librpc");
    assert_string_equal(rpc_strerror(-6999),
                        "unknown librpc result code");
    assert_string_equal(rpc_strerror(7), "unknown librpc result code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_matches_header),
        cmocka_unit_test(strerror_covers_every_range),
    };
    return cmocka_run_group_tests_name("librpc/version", tests, NULL, NULL);
}

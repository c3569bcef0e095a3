/* test_kverr.c: the MySQL error a store result code becomes
 * (sql__kverr): libmvcc's codes their own errors or messages, and codes
 * from below a cluster store (PD, regions, RPC: not libmvcc's) the
 * server's kv_strerror hook's message, with the number either way, never
 * "unknown libmvcc result code"; error 1105 unless the kv_errno hook
 * names another (sqld's 9006 for a read below the GC safe point).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "session.h"
#include "sql_int.h"
#include "sqlfx.h"

static const char *hook(int rc)
{
    return rc == -4001   ? "this replica is not the pd leader"
           : rc == -3015 ? "GC life time is shorter than transaction duration"
                         : NULL;
}

static int errno_hook(int rc)
{
    return rc == -3015 ? 9006 : 0;
}

static void codes_become_errors(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    struct sql_session *s = c.s;
    assert_int_equal(sql__kverr(s, MVCC_DEADLOCK), SQL_EQUERY);
    assert_int_equal(s->err.code, 1213);
    assert_int_equal(sql__kverr(s, MVCC_LOCK_WAIT_TIMEOUT), SQL_EQUERY);
    assert_int_equal(s->err.code, 1205);
    assert_int_equal(sql__kverr(s, MVCC_EENGINE), SQL_EQUERY);
    assert_int_equal(s->err.code, 1105);
    assert_string_equal(s->err.msg, "storage error: storage engine error "
                                    "(-2008)");
    assert_int_equal(sql__kverr(s, -EIO), SQL_EQUERY);
    assert_string_equal(s->err.msg, "storage error: Input/output error (-5)");
    /* no hook: the number alone */
    assert_int_equal(sql__kverr(s, -4001), SQL_EQUERY);
    assert_int_equal(s->err.code, 1105);
    assert_string_equal(s->err.msg,
                        "storage error: unknown result code (-4001)");
    /* the hook names what it knows */
    f.srv->kv_strerror = hook;
    assert_int_equal(sql__kverr(s, -4001), SQL_EQUERY);
    assert_string_equal(
        s->err.msg, "storage error: this replica is not the pd leader (-4001)");
    assert_int_equal(sql__kverr(s, -3002), SQL_EQUERY);
    assert_string_equal(s->err.msg,
                        "storage error: unknown result code (-3002)");
    /* the errno hook picks the error for the codes it knows: 1105 else */
    f.srv->kv_errno = errno_hook;
    assert_int_equal(sql__kverr(s, -3015), SQL_EQUERY);
    assert_int_equal(s->err.code, 9006);
    assert_string_equal(s->err.state, "HY000");
    assert_string_equal(s->err.msg, "GC life time is shorter than "
                                    "transaction duration (-3015)");
    assert_int_equal(sql__kverr(s, -4001), SQL_EQUERY);
    assert_int_equal(s->err.code, 1105);
    assert_string_equal(
        s->err.msg, "storage error: this replica is not the pd leader (-4001)");
    assert_int_equal(sql__kverr(s, MVCC_DEADLOCK), SQL_EQUERY);
    assert_int_equal(s->err.code, 1213);
    /* libsql's own codes keep their messages */
    assert_int_equal(sql__kverr(s, SQL_EINTERNAL), SQL_EQUERY);
    assert_string_equal(s->err.msg,
                        "storage error: internal error in libsql (-5000)");
    sqlfx_close_db(&f, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codes_become_errors),
    };
    return cmocka_run_group_tests_name("libsql/kverr", tests, NULL, NULL);
}

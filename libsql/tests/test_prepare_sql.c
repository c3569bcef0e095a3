/* test_prepare_sql.c: SQL-level PREPARE / EXECUTE / DEALLOCATE PREPARE
 * through a real server and session (DESIGN.md "SQL PREPARE"): text and
 * @var sources, parameters from user variables, errors 1243, 1210, 1295,
 * 1064, re-preparing a name, and independence from the binary protocol's
 * statements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sqlfx.h"

#define Q(c, sql, want) assert_string_equal(sqlfx_q((c), (sql)), (want))

static void test_prepare_execute(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open_db(&f, &c);
    Q(&c, "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))",
      "OK 0 0 0");
    Q(&c, "PREPARE ins FROM 'INSERT INTO t VALUES (?, ?)'", "OK 0 0 0");
    Q(&c, "SET @i = 1, @n = 'one'", "OK 0 0 0");
    Q(&c, "EXECUTE ins USING @i, @n", "OK 1 0 0");
    Q(&c, "SET @i = 2, @n = 'two'", "OK 0 0 0");
    Q(&c, "EXECUTE ins USING @i, @n", "OK 1 0 0");
    Q(&c, "EXECUTE ins USING @i, @n",
      "ERR 1062 Duplicate entry '2' for key 't.PRIMARY'");
    Q(&c, "EXECUTE ins USING @i", "ERR 1210 Incorrect arguments to EXECUTE");
    Q(&c, "EXECUTE ins", "ERR 1210 Incorrect arguments to EXECUTE");
    /* From a variable; no parameters. */
    Q(&c, "SET @q = 'SELECT name FROM t ORDER BY id'", "OK 0 0 0");
    Q(&c, "PREPARE sel FROM @q", "OK 0 0 0");
    Q(&c, "EXECUTE sel", "one\ntwo");
    Q(&c, "EXECUTE sel USING @i", "ERR 1210 Incorrect arguments to EXECUTE");
    /* Names ignore case; preparing a name again replaces it. */
    Q(&c, "PREPARE SEL FROM 'SELECT ? * 2'", "OK 0 0 0");
    Q(&c, "EXECUTE sel USING @i", "4");
    /* An unset variable is NULL. */
    Q(&c, "EXECUTE sel USING @unset", "NULL");
    Q(&c, "DEALLOCATE PREPARE sel", "OK 0 0 0");
    Q(&c, "EXECUTE sel USING @i",
      "ERR 1243 Unknown prepared statement handler (sel) given to EXECUTE");
    Q(&c, "DROP PREPARE ins", "OK 0 0 0");
    Q(&c, "DROP PREPARE ins",
      "ERR 1243 Unknown prepared statement handler (ins) given to "
      "DEALLOCATE PREPARE");
    Q(&c, "SELECT COUNT(*) FROM t", "2");
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

static void test_prepare_errors(void **state)
{
    (void)state;
    struct sqlfx f;
    struct sqlfx_conn c;
    sqlfx_open(&f, false);
    sqlfx_connect(&f, &c, 1);
    Q(&c, "PREPARE p FROM 'SELECT 1'", "OK 0 0 0");
    /* A failed PREPARE still drops the old statement of that name. */
    Q(&c, "PREPARE p FROM 'SELEC 1'",
      "ERR 1064 You have an error in your SQL syntax; check the manual "
      "that corresponds to your MySQL server version for the right syntax "
      "to use near 'SELEC 1' at line 1");
    Q(&c, "EXECUTE p",
      "ERR 1243 Unknown prepared statement handler (p) given to EXECUTE");
    Q(&c, "PREPARE p FROM 'SELECT 1; SELECT 2'",
      "ERR 1064 You have an error in your SQL syntax; check the manual "
      "that corresponds to your MySQL server version for the right syntax "
      "to use near 'SELECT 2' at line 1");
    Q(&c, "PREPARE p FROM 'PREPARE q FROM ''SELECT 1'''",
      "ERR 1295 This command is not supported in the prepared statement "
      "protocol yet");
    Q(&c, "PREPARE p FROM ''", "ERR 1065 Query was empty");
    Q(&c, "PREPARE p FROM @nothing",
      "ERR 1064 You have an error in your SQL syntax; check the manual "
      "that corresponds to your MySQL server version for the right syntax "
      "to use near 'NULL' at line 1");
    /* A missing table shows at EXECUTE, as the statement runs. */
    Q(&c, "PREPARE p FROM 'SELECT * FROM nodb.t'", "OK 0 0 0");
    Q(&c, "EXECUTE p", "ERR 1146 Table 'nodb.t' doesn't exist");
    /* The binary protocol's statements are a separate namespace. */
    unsigned np, nc;
    int id = sqlfx_prepare(&c, "SELECT ?", &np, &nc);
    assert_true(id > 0);
    Q(&c, "PREPARE b FROM 'SELECT 7'", "OK 0 0 0");
    const char *args[] = {"5"};
    assert_string_equal(sqlfx_execute(&c, id, 1, args), "5");
    sqlfx_close_stmt(&c, id);
    Q(&c, "EXECUTE b", "7");
    sqlfx_disconnect(&c);
    sqlfx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare_execute),
        cmocka_unit_test(test_prepare_errors),
    };
    return cmocka_run_group_tests_name("libsql/prepare_sql", tests, NULL,
                                       NULL);
}

/* exec.c: queries (SELECT, INSERT, UPDATE, DELETE, EXPLAIN, DO) through
 * the planner and the executor (DESIGN.md "Planner", "Executor"). Not
 * built yet: each answers that it is not supported.
 */
#include "session.h"

int sql__query_run(struct sql_session *s, const struct ast_stmt *st)
{
    (void)st;
    return sql__serr(s, 1235, "42000",
                     "This version of sqld doesn't yet support 'executing statements' (the SQL executor is not built yet)");
}

int sql__prepare_run(struct sql_session *s, struct sql_prepared *p)
{
    (void)p;
    return sql__serr(s, 1235, "42000",
                     "This version of sqld doesn't yet support 'prepared "
                     "statements'");
}

int sql__field_list(struct sql_session *s, const struct sql_command *cmd)
{
    (void)cmd;
    return sql_reply_error(s->conn, 1235, "42000",
                           "This version of sqld doesn't yet support "
                           "'COM_FIELD_LIST'");
}

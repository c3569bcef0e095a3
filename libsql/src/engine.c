/* engine.c: the SQL engine behind sqld's protocol engine: it receives each
 * command (struct sql_executor), parses it and answers. Planning and
 * execution are not built yet (libsql/DESIGN.md, "Engine"), so a statement
 * that parses is answered with MySQL's 1235 "not supported yet" error and
 * a syntax error with MySQL's exact 1064.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "parse.h"
#include "sql.h"
#include "sql_int.h"

struct sql_engine
{
    struct sql_arena *arena; /* parse trees of the command being answered */
};

int sql_engine_create(struct sql_engine **out)
{
    struct sql_engine *e = sql__malloc(sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->arena = sql__arena_create(0);
    if (!e->arena) {
        sql__free(e);
        return -ENOMEM;
    }
    *out = e;
    return 0;
}

void sql_engine_destroy(struct sql_engine *e)
{
    if (!e)
        return;
    sql__arena_destroy(e->arena);
    sql__free(e);
}

#define NOT_YET                                                           \
    "This version of sqld doesn't yet support 'executing statements' (the " \
    "SQL executor is not built yet)"

/* Parses the first statement of text and answers: 1064 (or the parser's
 * other error), 1065 for an empty query, else 1235. Every answer here is
 * an error, which also ends a multi-statement query (as MySQL does after a
 * failing statement). */
static int answer_statement(struct sql_engine *e, struct sql_proto_conn *c,
                            const char *text, size_t len)
{
    struct sql_parse_result res;
    sql__arena_reset(e->arena);
    int rc = sql__parse_one(e->arena, text, len, &res);
    if (rc == -ENOMEM)
        return sql_reply_error(c, 1037, "HY001", "Out of memory");
    if (rc != 0)
        return sql_reply_error(c, (uint16_t)res.errcode, "42000",
                               res.errmsg);
    if (!res.stmt)
        return sql_reply_error(c, 1065, "42000", "Query was empty");
    return sql_reply_error(c, 1235, "42000", NOT_YET);
}

static int execute(void *ctx, struct sql_proto_conn *c,
                   const struct sql_command *cmd)
{
    struct sql_engine *e = ctx;
    char msg[320];
    switch (cmd->kind) {
    case SQL_CMD_QUERY:
    case SQL_CMD_STMT_PREPARE:
        return answer_statement(e, c, cmd->text, cmd->text_len);
    case SQL_CMD_INIT_DB:
        /* No catalog yet, so no database exists. */
        snprintf(msg, sizeof(msg), "Unknown database '%.*s'",
                 (int)(cmd->text_len > 64 ? 64 : cmd->text_len), cmd->text);
        return sql_reply_error(c, 1049, "42000", msg);
    case SQL_CMD_RESET_CONNECTION: {
        struct sql_ok ok = {.status = SQL_SERVER_STATUS_AUTOCOMMIT};
        return sql_reply_ok(c, &ok);
    }
    case SQL_CMD_STMT_EXECUTE:
        snprintf(msg, sizeof(msg),
                 "Unknown prepared statement handler (%u) given to "
                 "mysqld_stmt_execute",
                 (unsigned)cmd->stmt_id);
        return sql_reply_error(c, 1243, "HY000", msg);
    case SQL_CMD_STMT_CLOSE:
        return 0;
    default: /* FIELD_LIST, STATISTICS, PROCESS_KILL */
        return sql_reply_error(c, 1235, "42000", NOT_YET);
    }
}

struct sql_executor sql_engine_executor(struct sql_engine *e)
{
    struct sql_executor x = {e, execute};
    return x;
}

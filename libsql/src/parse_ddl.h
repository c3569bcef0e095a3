/* parse_ddl.h: the DDL and administrative statements (parse_ddl.c). See
 * DESIGN.md, "Parser".
 */
#ifndef SQL_PARSE_DDL_H
#define SQL_PARSE_DDL_H

#include "parse_int.h"

/* Every statement that is not a query or DML, from its first word; a
 * 1064 error when the word starts no statement. */
struct ast_stmt *sql__p_admin(struct parser *p);

#endif /* SQL_PARSE_DDL_H */

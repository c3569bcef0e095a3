/* lex.h: the MySQL-dialect lexer: tokens, the keyword table and the
 * lexer state the parser pulls tokens from (DESIGN.md, "Parser").
 */
#ifndef SQL_LEX_H
#define SQL_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* Keywords, sorted by name (for the reader; a test checks the order; the
 * lexer finds them through a hash). X(name, class): 0 non-reserved (usable as an identifier),
 * 1 reserved, 2 reserved but also a function name before '('. */
#define SQL_KEYWORD_TABLE(X) \
    X(ACTION, 0) \
    X(ADD, 1) \
    X(AFTER, 0) \
    X(ALL, 1) \
    X(ALTER, 1) \
    X(ANALYZE, 1) \
    X(AND, 1) \
    X(ANY, 0) \
    X(AS, 1) \
    X(ASC, 1) \
    X(AUTO_INCREMENT, 0) \
    X(AVG_ROW_LENGTH, 0) \
    X(BEGIN, 0) \
    X(BETWEEN, 1) \
    X(BIGINT, 1) \
    X(BINARY, 1) \
    X(BIT, 0) \
    X(BLOB, 1) \
    X(BOOL, 0) \
    X(BOOLEAN, 0) \
    X(BOTH, 1) \
    X(BTREE, 0) \
    X(BY, 1) \
    X(CASCADE, 1) \
    X(CASE, 1) \
    X(CHANGE, 1) \
    X(CHAR, 2) \
    X(CHARACTER, 1) \
    X(CHARSET, 0) \
    X(CHECK, 1) \
    X(CHECKSUM, 0) \
    X(COLLATE, 1) \
    X(COLLATION, 0) \
    X(COLUMN, 1) \
    X(COLUMNS, 0) \
    X(COMMENT, 0) \
    X(COMMIT, 0) \
    X(COMMITTED, 0) \
    X(CONNECTION, 0) \
    X(CONSISTENT, 0) \
    X(CONSTRAINT, 1) \
    X(CONVERT, 2) \
    X(CREATE, 1) \
    X(CROSS, 1) \
    X(CURRENT, 0) \
    X(CURRENT_DATE, 2) \
    X(CURRENT_TIME, 2) \
    X(CURRENT_TIMESTAMP, 2) \
    X(CURRENT_USER, 2) \
    X(DATA, 0) \
    X(DATABASE, 2) \
    X(DATABASES, 1) \
    X(DATE, 0) \
    X(DATETIME, 0) \
    X(DAY, 0) \
    X(DAY_HOUR, 1) \
    X(DAY_MICROSECOND, 1) \
    X(DAY_MINUTE, 1) \
    X(DAY_SECOND, 1) \
    X(DEALLOCATE, 0) \
    X(DEC, 1) \
    X(DECIMAL, 1) \
    X(DEFAULT, 2) \
    X(DELAYED, 1) \
    X(DELETE, 1) \
    X(DESC, 1) \
    X(DESCRIBE, 1) \
    X(DISABLE, 0) \
    X(DISTINCT, 1) \
    X(DISTINCTROW, 1) \
    X(DIV, 1) \
    X(DO, 0) \
    X(DOUBLE, 1) \
    X(DROP, 1) \
    X(DUAL, 1) \
    X(DUPLICATE, 0) \
    X(DYNAMIC, 0) \
    X(ELSE, 1) \
    X(ENABLE, 0) \
    X(ENCRYPTION, 0) \
    X(END, 0) \
    X(ENGINE, 0) \
    X(ENGINES, 0) \
    X(ENUM, 0) \
    X(ERRORS, 0) \
    X(ESCAPE, 0) \
    X(EXCEPT, 1) \
    X(EXECUTE, 0) \
    X(EXISTS, 1) \
    X(EXPLAIN, 1) \
    X(EXTRACT, 2) \
    X(FALSE, 1) \
    X(FIELDS, 0) \
    X(FIRST, 0) \
    X(FIXED, 0) \
    X(FLOAT, 1) \
    X(FLOAT4, 1) \
    X(FLOAT8, 1) \
    X(FLUSH, 0) \
    X(FOLLOWING, 0) \
    X(FOR, 1) \
    X(FORCE, 1) \
    X(FOREIGN, 1) \
    X(FROM, 1) \
    X(FULL, 0) \
    X(FULLTEXT, 1) \
    X(GLOBAL, 0) \
    X(GRANT, 1) \
    X(GRANTS, 0) \
    X(GROUP, 1) \
    X(GROUP_CONCAT, 0) \
    X(HASH, 0) \
    X(HAVING, 1) \
    X(HIGH_PRIORITY, 1) \
    X(HOUR, 0) \
    X(HOUR_MICROSECOND, 1) \
    X(HOUR_MINUTE, 1) \
    X(HOUR_SECOND, 1) \
    X(IDENTIFIED, 0) \
    X(IF, 2) \
    X(IGNORE, 1) \
    X(IN, 1) \
    X(INDEX, 1) \
    X(INDEXES, 0) \
    X(INNER, 1) \
    X(INSERT, 2) \
    X(INT, 1) \
    X(INT1, 1) \
    X(INT2, 1) \
    X(INT3, 1) \
    X(INT4, 1) \
    X(INT8, 1) \
    X(INTEGER, 1) \
    X(INTERSECT, 1) \
    X(INTERVAL, 1) \
    X(INTO, 1) \
    X(IS, 1) \
    X(ISOLATION, 0) \
    X(JOIN, 1) \
    X(JSON, 0) \
    X(KEY, 1) \
    X(KEYS, 1) \
    X(KEY_BLOCK_SIZE, 0) \
    X(KILL, 1) \
    X(LAST, 0) \
    X(LEADING, 1) \
    X(LEFT, 2) \
    X(LEVEL, 0) \
    X(LIKE, 1) \
    X(LIMIT, 1) \
    X(LOCAL, 0) \
    X(LOCALTIME, 2) \
    X(LOCALTIMESTAMP, 2) \
    X(LOCK, 1) \
    X(LOGS, 0) \
    X(LONG, 1) \
    X(LONGBLOB, 1) \
    X(LONGTEXT, 1) \
    X(LOW_PRIORITY, 1) \
    X(MATCH, 1) \
    X(MEDIUMBLOB, 1) \
    X(MEDIUMINT, 1) \
    X(MEDIUMTEXT, 1) \
    X(MICROSECOND, 0) \
    X(MIDDLEINT, 1) \
    X(MINUTE, 0) \
    X(MINUTE_MICROSECOND, 1) \
    X(MINUTE_SECOND, 1) \
    X(MOD, 2) \
    X(MODE, 0) \
    X(MODIFY, 0) \
    X(MONTH, 0) \
    X(NAMES, 0) \
    X(NATIONAL, 0) \
    X(NATURAL, 1) \
    X(NCHAR, 0) \
    X(NO, 0) \
    X(NOT, 1) \
    X(NO_WRITE_TO_BINLOG, 1) \
    X(NULL, 1) \
    X(NUMERIC, 1) \
    X(NVARCHAR, 0) \
    X(OFFSET, 0) \
    X(ON, 1) \
    X(ONLY, 0) \
    X(OPTIMIZE, 1) \
    X(OPTION, 1) \
    X(OR, 1) \
    X(ORDER, 1) \
    X(OUTER, 1) \
    X(OVER, 1) \
    X(PARTITION, 0) \
    X(PASSWORD, 0) \
    X(PRECEDING, 0) \
    X(PRECISION, 1) \
    X(PREPARE, 0) \
    X(PRIMARY, 1) \
    X(PRIVILEGES, 0) \
    X(PROCESSLIST, 0) \
    X(QUARTER, 0) \
    X(QUERY, 0) \
    X(QUICK, 0) \
    X(RANGE, 0) \
    X(READ, 1) \
    X(REAL, 1) \
    X(REFERENCES, 1) \
    X(REGEXP, 1) \
    X(RENAME, 1) \
    X(REPEATABLE, 0) \
    X(REPLACE, 2) \
    X(RESTRICT, 1) \
    X(REVOKE, 1) \
    X(RIGHT, 2) \
    X(RLIKE, 1) \
    X(ROLLBACK, 0) \
    X(ROLLUP, 0) \
    X(ROWS, 0) \
    X(ROW_FORMAT, 0) \
    X(SCHEMA, 2) \
    X(SCHEMAS, 1) \
    X(SECOND, 0) \
    X(SECOND_MICROSECOND, 1) \
    X(SELECT, 1) \
    X(SEPARATOR, 1) \
    X(SERIAL, 0) \
    X(SERIALIZABLE, 0) \
    X(SESSION, 0) \
    X(SET, 1) \
    X(SHARE, 0) \
    X(SHOW, 1) \
    X(SIGNED, 0) \
    X(SMALLINT, 1) \
    X(SNAPSHOT, 0) \
    X(SPATIAL, 1) \
    X(SQL_BIG_RESULT, 1) \
    X(SQL_BUFFER_RESULT, 0) \
    X(SQL_CACHE, 0) \
    X(SQL_CALC_FOUND_ROWS, 1) \
    X(SQL_NO_CACHE, 0) \
    X(SQL_SMALL_RESULT, 1) \
    X(START, 0) \
    X(STATUS, 0) \
    X(STRAIGHT_JOIN, 1) \
    X(TABLE, 1) \
    X(TABLES, 0) \
    X(TEMPORARY, 0) \
    X(TEXT, 0) \
    X(THEN, 1) \
    X(TIME, 0) \
    X(TIMESTAMP, 0) \
    X(TIMESTAMPADD, 0) \
    X(TIMESTAMPDIFF, 0) \
    X(TINYBLOB, 1) \
    X(TINYINT, 1) \
    X(TINYTEXT, 1) \
    X(TO, 1) \
    X(TRAILING, 1) \
    X(TRANSACTION, 0) \
    X(TRIGGERS, 0) \
    X(TRUE, 1) \
    X(TRUNCATE, 0) \
    X(TYPE, 0) \
    X(UNBOUNDED, 0) \
    X(UNCOMMITTED, 0) \
    X(UNION, 1) \
    X(UNIQUE, 1) \
    X(UNKNOWN, 0) \
    X(UNLOCK, 1) \
    X(UNSIGNED, 1) \
    X(UPDATE, 1) \
    X(USAGE, 1) \
    X(USE, 1) \
    X(USER, 0) \
    X(USING, 1) \
    X(UTC_DATE, 2) \
    X(UTC_TIME, 2) \
    X(UTC_TIMESTAMP, 2) \
    X(VALUE, 0) \
    X(VALUES, 2) \
    X(VARBINARY, 1) \
    X(VARCHAR, 1) \
    X(VARCHARACTER, 1) \
    X(VARIABLES, 0) \
    X(WARNINGS, 0) \
    X(WEEK, 0) \
    X(WHEN, 1) \
    X(WHERE, 1) \
    X(WINDOW, 1) \
    X(WITH, 1) \
    X(WORK, 0) \
    X(WRITE, 1) \
    X(XOR, 1) \
    X(YEAR, 0) \
    X(YEAR_MONTH, 1) \
    X(ZEROFILL, 1) \

enum sql_kw
{
    KW_NONE = 0,
#define SQL__KW_ENUM(name, cls) KW_##name,
    SQL_KEYWORD_TABLE(SQL__KW_ENUM)
#undef SQL__KW_ENUM
    KW__COUNT
};

enum sql_tok
{
    TK_EOF = 0,  /* end of input */
    TK_ERROR,    /* bad token: unterminated quote or comment, or no memory */
    TK_IDENT,    /* bare word: identifier or keyword (kw says which) */
    TK_QIDENT,   /* `backquoted` identifier (never a keyword) */
    TK_STRING,   /* '...' or "..." (str is the decoded bytes) */
    TK_NSTRING,  /* N'...' national string */
    TK_INT,      /* integer fitting 64 bits unsigned (ival) */
    TK_DECIMAL,  /* exact number: 1.5, or an integer too big for 64 bits */
    TK_FLOAT,    /* approximate number: 1e3, 1.5E-2 */
    TK_HEX,      /* X'0A' or 0x0A (str is the decoded bytes) */
    TK_BIT,      /* b'01' or 0b01 (str is the digits) */
    TK_PARAM,    /* ? */
    TK_USERVAR,  /* @name, @'name', @`name` (str is the name) */
    TK_SYSVAR,   /* @@name, @@session.name, @@global.name (str, ival=scope) */
    TK_EQ,       /* = */
    TK_NULLEQ,   /* <=> */
    TK_NE,       /* <> or != */
    TK_LT,       /* < */
    TK_LE,       /* <= */
    TK_GT,       /* > */
    TK_GE,       /* >= */
    TK_PLUS,     /* + */
    TK_MINUS,    /* - */
    TK_STAR,     /* * */
    TK_SLASH,    /* / */
    TK_PERCENT,  /* % */
    TK_CARET,    /* ^ */
    TK_AMP,      /* & */
    TK_PIPE,     /* | */
    TK_TILDE,    /* ~ */
    TK_BANG,     /* ! */
    TK_SHL,      /* << */
    TK_SHR,      /* >> */
    TK_ANDAND,   /* && */
    TK_OROR,     /* || */
    TK_LPAREN,   /* ( */
    TK_RPAREN,   /* ) */
    TK_COMMA,    /* , */
    TK_DOT,      /* . */
    TK_SEMI,     /* ; */
    TK_ASSIGN,   /* := */
    TK_AT,       /* lone @ */
    TK_LBRACE,   /* { */
    TK_RBRACE,   /* } */
    TK_ARROW,    /* -> (JSON path) */
    TK_ARROW2,   /* ->> (JSON path, unquoted) */
};

/* Scope of a @@variable (ival of a TK_SYSVAR token). */
enum sql_var_scope
{
    SQL_SCOPE_NONE = 0, /* not given */
    SQL_SCOPE_SESSION,  /* @@session. / SESSION / LOCAL */
    SQL_SCOPE_GLOBAL,   /* @@global. / GLOBAL */
};

struct sql_token
{
    int type;        /* enum sql_tok */
    int kw;          /* enum sql_kw for a TK_IDENT that is a keyword, else 0 */
    size_t start;    /* offset of the first byte in the input */
    size_t end;      /* offset one past the last byte */
    int line;        /* 1-based line of the first byte */
    bool space_before; /* whitespace or a comment precedes it */
    const char *str; /* decoded text (identifier, string, hex bytes, digits) */
    size_t len;      /* bytes in str */
    uint64_t ival;   /* TK_INT value; TK_SYSVAR scope */
};

struct sql_lexer
{
    const char *src;     /* input (borrowed for the lexer's life) */
    size_t len;          /* bytes of input */
    size_t pos;          /* next byte to read */
    int line;            /* 1-based line of pos */
    bool in_exec;        /* inside an executable comment (slash-star-bang) */
    bool oom;            /* an allocation failed (the token is TK_ERROR) */
    struct sql_arena *arena; /* decoded strings go here */
};

/* Executable comments (slash-star-bang NNNNN) run when NNNNN is at most
 * this; a later version's comment is an ordinary comment. */
#define SQL_LEX_SERVER_VERSION 80099

void sql__lex_init(struct sql_lexer *lx, struct sql_arena *arena,
                   const char *src, size_t len);
/* The next token; TK_EOF at the end (again and again). */
void sql__lex_next(struct sql_lexer *lx, struct sql_token *tok);
/* The keyword a word names (case-insensitive), or KW_NONE. */
int sql__keyword(const char *s, size_t n);
/* The upper-case name of a keyword and its class (0, 1, 2). */
const char *sql__keyword_name(int kw);
int sql__keyword_class(int kw);

#endif /* SQL_LEX_H */

/* ast.h: the parse tree of one statement. Every node and string lives in
 * the statement's arena (arena.h); lists are singly linked through `next`.
 * sql__ast_print turns a tree back into canonical SQL (DESIGN.md, "Parser").
 */
#ifndef SQL_AST_H
#define SQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* A byte string (not necessarily NUL-terminated for literals). */
struct ast_str
{
    const char *s; /* bytes (NUL-terminated when it names something) */
    size_t n;      /* length */
};

enum ast_expr_kind
{
    AST_E_NULL,      /* NULL */
    AST_E_BOOL,      /* TRUE / FALSE (ival 1 / 0) */
    AST_E_INT,       /* integer: ival, or uval when is_unsigned */
    AST_E_DECIMAL,   /* exact number, text in str */
    AST_E_FLOAT,     /* approximate number, text in str */
    AST_E_STRING,    /* string literal: str, charset (introducer) or NULL */
    AST_E_HEX,       /* X'..' / 0x..: str holds the bytes */
    AST_E_BIT,       /* b'..' / 0b..: str holds the digits */
    AST_E_PARAM,     /* ? (ival: 0-based position in the statement) */
    AST_E_COLUMN,    /* [db.][tbl.]col, or [db.]tbl.* when star */
    AST_E_STAR,      /* bare * in a select list or COUNT(*) */
    AST_E_USERVAR,   /* @name (name) */
    AST_E_SYSVAR,    /* @@[scope.]name (name, scope) */
    AST_E_UNARY,     /* op a */
    AST_E_BINARY,    /* a op b (arithmetic, bit, comparison) */
    AST_E_LOGIC,     /* args joined by op: AND / OR / XOR, two or more
                        (a chain a OR b OR c is one node) */
    AST_E_IS,        /* a IS [NOT] NULL/TRUE/FALSE/UNKNOWN (op, neg) */
    AST_E_LIKE,      /* a [NOT] LIKE b [ESCAPE c] */
    AST_E_REGEXP,    /* a [NOT] REGEXP b */
    AST_E_BETWEEN,   /* a [NOT] BETWEEN b AND c */
    AST_E_IN,        /* a [NOT] IN (list) or IN (subquery) */
    AST_E_CMP_SUBQ,  /* a op ANY/ALL (subquery): op, quant */
    AST_E_EXISTS,    /* EXISTS (subquery) */
    AST_E_SUBQUERY,  /* (subquery) as a value */
    AST_E_ROW,       /* (a, b, ...) or ROW(a, b) */
    AST_E_FUNC,      /* name(args): aggregates, CAST, CONVERT, ... too */
    AST_E_CASE,      /* CASE [a] WHEN .. THEN .. [ELSE c] END */
    AST_E_INTERVAL,  /* INTERVAL a unit */
    AST_E_COLLATE,   /* a COLLATE name */
    AST_E_DEFAULT,   /* DEFAULT (in VALUES / SET), or DEFAULT(col) */
    AST_E_ASSIGN,    /* @name := a (name: the user variable) */
};

/* Operators of AST_E_UNARY / AST_E_BINARY / AST_E_CMP_SUBQ. */
enum ast_op
{
    AST_OP_NONE = 0,
    AST_OP_OR, AST_OP_XOR, AST_OP_AND, AST_OP_NOT,
    AST_OP_EQ, AST_OP_NULLEQ, AST_OP_NE, AST_OP_LT, AST_OP_LE, AST_OP_GT,
    AST_OP_GE,
    AST_OP_BITOR, AST_OP_BITAND, AST_OP_SHL, AST_OP_SHR,
    AST_OP_ADD, AST_OP_SUB, AST_OP_MUL, AST_OP_DIV, AST_OP_INTDIV,
    AST_OP_MOD, AST_OP_BITXOR,
    AST_OP_NEG, AST_OP_BITNOT, AST_OP_BINARY, /* unary: - ~ BINARY */
    AST_OP_ISNULL, AST_OP_ISTRUE, AST_OP_ISFALSE, AST_OP_ISUNKNOWN,
    AST_OP_ANY, AST_OP_ALL, /* quantifiers of AST_E_CMP_SUBQ */
};

/* A CAST/CONVERT target or a column type. */
struct ast_type
{
    const char *name;      /* canonical upper-case name: INT, VARCHAR, ... */
    int64_t len;           /* length / precision / fsp, -1 when absent */
    int64_t scale;         /* scale of DECIMAL/FLOAT/DOUBLE, -1 when absent */
    bool is_unsigned;      /* UNSIGNED */
    bool zerofill;         /* ZEROFILL */
    const char *charset;   /* CHARACTER SET name, or NULL */
    const char *collate;   /* COLLATE name, or NULL */
    struct ast_expr *values; /* ENUM/SET members (string literals) */
};

struct ast_when
{
    struct ast_expr *cond;  /* WHEN */
    struct ast_expr *then;  /* THEN */
    struct ast_when *next;  /* next WHEN */
};

struct ast_select;
struct ast_order;
struct ast_window;

struct ast_expr
{
    int kind;                /* enum ast_expr_kind */
    int op;                  /* enum ast_op where the kind has one */
    bool neg;                /* NOT form of IS/LIKE/REGEXP/BETWEEN/IN */
    bool is_unsigned;        /* AST_E_INT: value is uval (> INT64_MAX) */
    bool distinct;           /* AST_E_FUNC: agg(DISTINCT ...) */
    bool noparen;            /* AST_E_FUNC: CURRENT_TIMESTAMP written bare */
    int scope;               /* AST_E_SYSVAR: enum sql_var_scope */
    int height;              /* longest path to a leaf, this node included
                                (the parser bounds it, so walkers may
                                recurse) */
    int64_t ival;            /* AST_E_INT/BOOL/PARAM value */
    uint64_t uval;           /* AST_E_INT when is_unsigned */
    struct ast_str str;      /* literal text/bytes */
    const char *charset;     /* AST_E_STRING introducer (_utf8mb4), or NULL */
    const char *db;          /* AST_E_COLUMN qualifiers, or NULL */
    const char *table;       /* AST_E_COLUMN qualifier, or NULL */
    const char *name;        /* column/variable/function/collation name;
                                AST_E_INTERVAL: the unit (DAY, ...);
                                AST_E_STRING: DATE/TIME/TIMESTAMP of a
                                typed literal, else NULL */
    const char *unit;        /* AST_E_FUNC: the unit of EXTRACT and
                                TIMESTAMPDIFF/ADD, the charset of CONVERT
                                and CHAR .. USING, TRIM's BOTH/LEADING/
                                TRAILING (args: string, then remstr) */
    struct ast_expr *a;      /* first operand; CASE's operand; CAST and
                                CONVERT's value; DEFAULT(col)'s column */
    struct ast_expr *b;      /* second operand; GROUP_CONCAT SEPARATOR */
    struct ast_expr *c;      /* third operand (BETWEEN upper, LIKE's
                                ESCAPE, CASE's ELSE) */
    struct ast_expr *args;   /* AST_E_FUNC arguments / AST_E_IN and ROW list */
    struct ast_when *whens;  /* AST_E_CASE branches */
    struct ast_select *sub;  /* subquery */
    struct ast_order *order; /* GROUP_CONCAT ORDER BY */
    struct ast_type *type;   /* CAST / CONVERT target */
    struct ast_window *over; /* AST_E_FUNC: OVER (...) / OVER name: a
                                window function call; NULL otherwise */
    struct ast_expr *next;   /* next in a list */
};

struct ast_order
{
    struct ast_expr *expr; /* sort key */
    bool desc;             /* DESC */
    struct ast_order *next; /* next key */
};

/* A window frame's unit and bounds (DESIGN.md "Window functions"). */
enum ast_frame_unit
{
    AST_FRAME_NONE,  /* no frame clause: the default frame */
    AST_FRAME_ROWS,  /* ROWS */
    AST_FRAME_RANGE, /* RANGE */
};

enum ast_bound_kind
{
    AST_B_UNBOUNDED_PRECEDING, /* UNBOUNDED PRECEDING */
    AST_B_PRECEDING,           /* n PRECEDING */
    AST_B_CURRENT,             /* CURRENT ROW */
    AST_B_FOLLOWING,           /* n FOLLOWING */
    AST_B_UNBOUNDED_FOLLOWING, /* UNBOUNDED FOLLOWING */
};

struct ast_bound
{
    int kind;            /* enum ast_bound_kind */
    struct ast_expr *n;  /* the offset of n PRECEDING/FOLLOWING (RANGE:
                            may be an INTERVAL), else NULL */
};

/* A window specification: OVER (...), or WINDOW name AS (...). */
struct ast_window
{
    const char *name;            /* WINDOW clause: the name it defines;
                                    OVER name (no parentheses): NULL */
    const char *ref;             /* the named window it builds on
                                    (OVER w, OVER (w ORDER BY ..)), or NULL */
    bool bare;                   /* OVER w, written without parentheses */
    struct ast_order *partition; /* PARTITION BY keys, or NULL */
    struct ast_order *order;     /* ORDER BY keys, or NULL */
    int unit;                    /* enum ast_frame_unit */
    struct ast_bound start;      /* frame start (unit != NONE) */
    struct ast_bound end;        /* frame end (BETWEEN's second bound, or
                                    CURRENT ROW for a one-bound frame) */
    struct ast_window *next;     /* next in a WINDOW clause */
};

/* An identifier list (column names, USING, ...). */
struct ast_name
{
    const char *name;      /* the name */
    struct ast_name *next; /* next */
};

enum ast_table_kind
{
    AST_T_TABLE,   /* [db.]name [AS alias] */
    AST_T_DERIVED, /* (select) [AS] alias */
    AST_T_JOIN,    /* left JOIN right */
    AST_T_JSON_TABLE, /* JSON_TABLE(...) [AS] alias (json_table.h) */
};

enum ast_join_kind
{
    AST_J_COMMA,    /* a, b */
    AST_J_INNER,    /* [INNER] JOIN / CROSS JOIN */
    AST_J_LEFT,     /* LEFT [OUTER] JOIN */
    AST_J_RIGHT,    /* RIGHT [OUTER] JOIN */
    AST_J_STRAIGHT, /* STRAIGHT_JOIN */
};

enum ast_hint_kind
{
    AST_HINT_USE, AST_HINT_FORCE, AST_HINT_IGNORE, /* ... INDEX (list) */
};

struct ast_index_hint
{
    int kind;                   /* enum ast_hint_kind */
    struct ast_name *indexes;   /* index names (may be empty for USE) */
    struct ast_index_hint *next; /* next hint */
};

struct ast_json_table;
struct ast_table_ref
{
    int kind;                   /* enum ast_table_kind */
    const char *db;             /* AST_T_TABLE: database, or NULL */
    const char *name;           /* AST_T_TABLE: table */
    const char *alias;          /* alias, or NULL */
    struct ast_index_hint *hints; /* AST_T_TABLE: USE/FORCE/IGNORE INDEX */
    struct ast_select *sub;     /* AST_T_DERIVED */
    int join;                   /* AST_T_JOIN: enum ast_join_kind */
    bool natural;               /* NATURAL join */
    bool cross;                 /* written CROSS JOIN */
    struct ast_table_ref *left; /* AST_T_JOIN left side */
    struct ast_table_ref *right; /* AST_T_JOIN right side */
    struct ast_expr *on;        /* ON condition, or NULL */
    struct ast_name *using_cols; /* USING (cols), or NULL */
    struct ast_table_ref *next; /* next in a plain table list */
    struct ast_json_table *jt;  /* AST_T_JSON_TABLE (json_table.h) */
};

struct ast_item
{
    struct ast_expr *expr; /* value (AST_E_STAR / tbl.* for stars) */
    const char *alias;     /* AS alias, or NULL */
    const char *text;      /* the item as written (into the statement's
                              text): MySQL names an unaliased column so */
    size_t text_len;       /* bytes of text */
    struct ast_item *next; /* next select item */
};

enum ast_lock_kind
{
    AST_LOCK_NONE, AST_LOCK_UPDATE, AST_LOCK_SHARE, /* FOR UPDATE / SHARE */
};

enum ast_lock_wait
{
    AST_LOCK_WAIT = 0,        /* wait for conflicting locks (the timeout) */
    AST_LOCK_NOWAIT,          /* NOWAIT: fail at once */
    AST_LOCK_SKIP_LOCKED,     /* SKIP LOCKED: leave locked rows out */
};

/* WITH name [(cols)] AS (query): a common table expression. */
struct ast_cte
{
    const char *name;        /* the name queries refer to */
    struct ast_name *columns; /* (cols), or NULL */
    struct ast_select *query; /* its definition */
    struct ast_cte *next;    /* next in the WITH list */
};

enum ast_select_kind
{
    AST_SEL_SIMPLE, /* SELECT ... */
    AST_SEL_UNION,  /* left UNION [ALL|DISTINCT] right (or the set
                       operation `setop` names) */
};

/* The set operation of an AST_SEL_UNION node (setop.c). */
enum ast_setop
{
    AST_SETOP_UNION = 0, /* UNION */
    AST_SETOP_INTERSECT, /* INTERSECT: binds tighter than the others */
    AST_SETOP_EXCEPT,    /* EXCEPT */
};

struct ast_select
{
    int kind;                  /* enum ast_select_kind */
    bool distinct;             /* SELECT DISTINCT */
    bool calc_found_rows;      /* SQL_CALC_FOUND_ROWS */
    struct ast_item *items;    /* select list */
    struct ast_table_ref *from; /* FROM (one tree), or NULL */
    struct ast_expr *where;    /* WHERE, or NULL */
    struct ast_order *group;   /* GROUP BY keys (desc kept when written) */
    struct ast_expr *having;   /* HAVING, or NULL */
    struct ast_window *windows; /* WINDOW clause definitions, or NULL */
    bool union_all;            /* AST_SEL_UNION: ALL */
    int setop;                 /* AST_SEL_UNION: enum ast_setop */
    struct ast_select *left;   /* AST_SEL_UNION left */
    struct ast_select *right;  /* AST_SEL_UNION right */
    struct ast_order *order;   /* ORDER BY, or NULL */
    struct ast_expr *limit;    /* LIMIT count, or NULL */
    struct ast_expr *offset;   /* OFFSET, or NULL */
    int lock;                  /* enum ast_lock_kind */
    int lock_wait;             /* enum ast_lock_wait: NOWAIT, SKIP LOCKED */
    bool parens;               /* written in parentheses (keeps order/limit
                                  of a union member its own) */
    int height;                /* greatest height of an expression in it */
    struct ast_cte *with;      /* WITH list preceding this query, or NULL */
    bool recursive;            /* WITH RECURSIVE */
};

struct ast_assign
{
    struct ast_expr *col;     /* target column (AST_E_COLUMN) */
    struct ast_expr *value;   /* new value (AST_E_DEFAULT for DEFAULT) */
    struct ast_assign *next;  /* next */
};

struct ast_row
{
    struct ast_expr *values; /* one VALUES tuple */
    struct ast_row *next;    /* next tuple */
};

struct ast_insert
{
    bool replace;              /* REPLACE instead of INSERT */
    bool ignore;               /* IGNORE */
    int priority;              /* 0, KW_LOW_PRIORITY, KW_DELAYED, KW_HIGH_PRIORITY */
    const char *db;            /* database, or NULL */
    const char *table;         /* table */
    struct ast_name *columns;  /* (cols), or NULL */
    struct ast_row *rows;      /* VALUES rows, or NULL */
    struct ast_select *select; /* INSERT ... SELECT, or NULL */
    struct ast_assign *set;    /* INSERT ... SET, or NULL */
    struct ast_assign *on_dup; /* ON DUPLICATE KEY UPDATE, or NULL */
    const char *row_alias;     /* VALUES (..) AS alias: the new row's name
                                  in on_dup (MySQL 8.0.19), or NULL */
    struct ast_name *row_alias_cols; /* AS alias (cols), or NULL */
};

struct ast_update
{
    bool ignore;               /* IGNORE */
    bool low_priority;         /* LOW_PRIORITY */
    struct ast_table_ref *table; /* the table (a join tree for multi-table) */
    struct ast_assign *set;    /* SET list */
    struct ast_expr *where;    /* WHERE, or NULL */
    struct ast_order *order;   /* ORDER BY, or NULL */
    struct ast_expr *limit;    /* LIMIT, or NULL */
};

struct ast_delete
{
    bool ignore;               /* IGNORE */
    bool quick;                /* QUICK */
    bool low_priority;         /* LOW_PRIORITY */
    struct ast_table_ref *table; /* FROM table; multi-table: the join tree */
    struct ast_tname *targets; /* multi-table: tables (or aliases) whose
                                  rows go, else NULL */
    struct ast_expr *where;    /* WHERE, or NULL */
    struct ast_order *order;   /* ORDER BY, or NULL (single table only) */
    struct ast_expr *limit;    /* LIMIT, or NULL (single table only) */
};

struct ast_coldef
{
    const char *name;           /* column name */
    struct ast_type type;       /* its type */
    int nullable;               /* 0 unspecified, 1 NULL, 2 NOT NULL */
    struct ast_expr *def;       /* DEFAULT, or NULL */
    struct ast_expr *on_update; /* ON UPDATE (CURRENT_TIMESTAMP), or NULL */
    bool auto_increment;        /* AUTO_INCREMENT */
    bool primary;               /* PRIMARY KEY on the column */
    bool unique;                /* UNIQUE [KEY] on the column */
    const char *comment;        /* COMMENT text, or NULL */
    size_t comment_len;         /* bytes of comment */
    struct ast_coldef *next;    /* next column */
};

enum ast_index_kind
{
    AST_IDX_PRIMARY, AST_IDX_UNIQUE, AST_IDX_INDEX, AST_IDX_FULLTEXT,
    AST_IDX_SPATIAL, AST_IDX_FOREIGN,
};

struct ast_index_col
{
    const char *name;            /* column */
    int64_t prefix;              /* prefix length, -1 for the whole value */
    bool desc;                   /* DESC */
    struct ast_index_col *next;  /* next */
};

struct ast_indexdef
{
    int kind;                     /* enum ast_index_kind */
    const char *constraint;       /* CONSTRAINT name, or NULL */
    const char *name;             /* index name, or NULL */
    const char *using_;           /* BTREE / HASH, or NULL */
    struct ast_index_col *cols;   /* key columns */
    const char *comment;          /* COMMENT, or NULL */
    size_t comment_len;           /* bytes of comment */
    const char *ref_db;           /* FOREIGN KEY: REFERENCES db, or NULL */
    const char *ref_table;        /* FOREIGN KEY: REFERENCES table */
    struct ast_name *ref_cols;    /* FOREIGN KEY: referenced columns */
    const char *on_delete;        /* CASCADE / SET NULL / ..., or NULL */
    const char *on_update;        /* same, or NULL */
    struct ast_indexdef *next;    /* next */
};

/* A table option (ENGINE=InnoDB) or a SET/SHOW-style name = value pair. */
struct ast_option
{
    const char *name;          /* canonical upper-case option name */
    struct ast_expr *value;    /* value (string, number or identifier-as-string) */
    bool ident;                /* value was written as a bare word */
    struct ast_option *next;   /* next */
};

struct ast_create_table
{
    bool if_not_exists;          /* IF NOT EXISTS */
    bool temporary;              /* TEMPORARY */
    const char *db;              /* database, or NULL */
    const char *table;           /* table */
    struct ast_coldef *columns;  /* columns */
    struct ast_indexdef *indexes; /* table constraints */
    struct ast_option *options;  /* table options */
    const char *like_db;         /* CREATE TABLE ... LIKE db.tbl */
    const char *like_table;      /* ... or NULL */
};

/* A qualified table name in a list (DROP TABLE a, b; RENAME, LOCK). */
struct ast_tname
{
    const char *db;            /* database, or NULL */
    const char *name;          /* table */
    const char *to_db;         /* RENAME target database, or NULL */
    const char *to_name;       /* RENAME target / LOCK alias */
    int lock;                  /* LOCK TABLES: KW_READ or KW_WRITE */
    struct ast_tname *next;    /* next */
};

enum ast_alter_kind
{
    AST_ALTER_ADD_COLUMN, AST_ALTER_DROP_COLUMN, AST_ALTER_MODIFY_COLUMN,
    AST_ALTER_CHANGE_COLUMN, AST_ALTER_ADD_INDEX, AST_ALTER_DROP_INDEX,
    AST_ALTER_DROP_PRIMARY, AST_ALTER_DROP_FOREIGN, AST_ALTER_RENAME,
    AST_ALTER_RENAME_COLUMN, AST_ALTER_RENAME_INDEX, AST_ALTER_OPTIONS,
    AST_ALTER_SET_DEFAULT, AST_ALTER_DROP_DEFAULT, AST_ALTER_DISABLE_KEYS,
    AST_ALTER_ENABLE_KEYS,
};

struct ast_alter
{
    int kind;                  /* enum ast_alter_kind */
    struct ast_coldef *col;    /* ADD/MODIFY/CHANGE column definition */
    struct ast_indexdef *index; /* ADD INDEX/KEY/CONSTRAINT */
    const char *name;          /* DROP/CHANGE/RENAME/SET DEFAULT: old name */
    const char *new_db;        /* RENAME TO db.tbl: database, or NULL */
    const char *new_name;      /* RENAME target */
    bool first;                /* FIRST */
    const char *after;         /* AFTER col, or NULL */
    struct ast_expr *def;      /* SET DEFAULT value */
    struct ast_option *options; /* table options */
    struct ast_alter *next;    /* next specification */
};

enum ast_show_kind
{
    AST_SHOW_DATABASES, AST_SHOW_TABLES, AST_SHOW_TABLE_STATUS,
    AST_SHOW_COLUMNS, AST_SHOW_CREATE_TABLE, AST_SHOW_CREATE_DATABASE,
    AST_SHOW_INDEX, AST_SHOW_VARIABLES, AST_SHOW_STATUS, AST_SHOW_WARNINGS,
    AST_SHOW_ERRORS, AST_SHOW_PROCESSLIST, AST_SHOW_GRANTS, AST_SHOW_ENGINES,
    AST_SHOW_CHARSET, AST_SHOW_COLLATION, AST_SHOW_TRIGGERS,
    AST_SHOW_CREATE_USER,
    /* What GUI clients and dump tools ask; the executor may answer empty. */
    AST_SHOW_FUNCTION_STATUS, AST_SHOW_PROCEDURE_STATUS, AST_SHOW_EVENTS,
    AST_SHOW_PLUGINS, AST_SHOW_MASTER_STATUS, AST_SHOW_BINARY_LOGS,
    AST_SHOW_OPEN_TABLES, AST_SHOW_PRIVILEGES,
    AST_SHOW_TABLE_REGIONS, /* SHOW TABLE t [INDEX i] REGIONS (TiDB) */
    AST_SHOW_CREATE_VIEW,   /* SHOW CREATE VIEW db.table (view.c) */
    AST_SHOW_STATS_META,    /* SHOW STATS_META [LIKE] (TiDB; analyze.c) */
    AST_SHOW_STATS_HISTOGRAMS, /* SHOW STATS_HISTOGRAMS [LIKE] */
    AST_SHOW_STATS_BUCKETS, /* SHOW STATS_BUCKETS [LIKE] */
    AST_SHOW_STATS_TOPN,    /* SHOW STATS_TOPN [LIKE] */
};

struct ast_show
{
    int kind;                 /* enum ast_show_kind */
    bool full;                /* FULL */
    int scope;                /* GLOBAL / SESSION (enum sql_var_scope) */
    const char *db;           /* FROM db / db of the table, or NULL */
    const char *table;        /* table, or NULL */
    struct ast_expr *like;    /* LIKE pattern, or NULL */
    struct ast_expr *where;   /* WHERE, or NULL */
    struct ast_user *user;    /* GRANTS FOR / CREATE USER, or NULL */
    bool count;               /* SHOW COUNT(*) WARNINGS/ERRORS */
    struct ast_expr *limit;   /* LIMIT of WARNINGS/ERRORS, or NULL */
    struct ast_expr *offset;  /* its offset, or NULL */
    const char *index;        /* TABLE_REGIONS: INDEX name, or NULL */
};

enum ast_set_kind
{
    AST_SET_VAR,        /* [scope] name = value or @user = value */
    AST_SET_NAMES,      /* NAMES charset [COLLATE c] (value NULL: DEFAULT) */
    AST_SET_CHARSET,    /* CHARACTER SET charset */
    AST_SET_ISOLATION,  /* TRANSACTION ISOLATION LEVEL (name) */
    AST_SET_TX_ACCESS,  /* TRANSACTION READ ONLY / READ WRITE (ival 1 ro) */
};

struct ast_setvar
{
    int kind;               /* enum ast_set_kind */
    int scope;              /* enum sql_var_scope (SESSION/GLOBAL) */
    bool user;              /* @user variable */
    bool sys;               /* written @@... */
    const char *name;       /* variable, charset or isolation level */
    const char *collate;    /* SET NAMES ... COLLATE, or NULL */
    struct ast_expr *value; /* value (ON/OFF etc. become strings) */
    bool read_only;         /* AST_SET_TX_ACCESS */
    struct ast_setvar *next; /* next assignment */
};

struct ast_user
{
    const char *name;        /* user */
    const char *host;        /* host, or NULL (means '%') */
    bool has_password;       /* IDENTIFIED BY given */
    struct ast_str password; /* the password */
    const char *plugin;      /* IDENTIFIED WITH plugin, or NULL */
    struct ast_user *next;   /* next */
};

struct ast_priv
{
    const char *name;         /* upper-case: SELECT, ALL, CREATE USER, ... */
    struct ast_name *columns; /* column list, or NULL */
    struct ast_priv *next;    /* next */
};

enum ast_stmt_kind
{
    AST_SELECT, AST_INSERT, AST_UPDATE, AST_DELETE,
    AST_CREATE_DATABASE, AST_DROP_DATABASE, AST_CREATE_TABLE, AST_DROP_TABLE,
    AST_CREATE_INDEX, AST_DROP_INDEX, AST_ALTER_TABLE, AST_TRUNCATE,
    AST_RENAME_TABLE, AST_USE, AST_SHOW, AST_DESCRIBE, AST_EXPLAIN, AST_SET,
    AST_BEGIN, AST_COMMIT, AST_ROLLBACK, AST_CREATE_USER, AST_DROP_USER,
    AST_ALTER_USER, AST_GRANT, AST_REVOKE, AST_KILL, AST_LOCK_TABLES,
    AST_UNLOCK_TABLES, AST_DO,
    AST_TABLE_MAINT,  /* ANALYZE/OPTIMIZE/CHECK TABLE tables (name: which) */
    AST_FLUSH,        /* FLUSH name [tables] (flag: WITH READ LOCK) */
    AST_PREPARE,      /* PREPARE name FROM expr (string or @var) */
    AST_EXECUTE,      /* EXECUTE name [USING @a, ...] (expr list) */
    AST_DEALLOCATE,   /* DEALLOCATE|DROP PREPARE name */
    AST_SAVEPOINT,    /* SAVEPOINT name; flag: RELEASE SAVEPOINT name
                         (ROLLBACK TO name is AST_ROLLBACK with a name) */
    AST_CREATE_VIEW,  /* CREATE [OR REPLACE] VIEW db.name [(view_cols)] AS
                         select (flag: OR REPLACE; flag2: ALTER VIEW) */
    AST_DROP_VIEW,    /* DROP VIEW [IF EXISTS] tables */
};

struct ast_stmt
{
    int kind;                 /* enum ast_stmt_kind */
    int nparams;              /* ? placeholders in the statement */
    bool if_exists;           /* DROP ... IF EXISTS / CREATE ... IF NOT EXISTS */
    bool flag;                /* per kind: DROP TEMPORARY, UNIQUE index,
                                 KILL QUERY, START TRANSACTION READ ONLY,
                                 GRANT WITH GRANT OPTION, EXPLAIN ANALYZE */
    bool flag2;               /* START TRANSACTION WITH CONSISTENT SNAPSHOT;
                                 START TRANSACTION written (not BEGIN) */
    const char *db;           /* database of the statement's object, or NULL */
    const char *name;         /* its name: database, table, index, ... */
    const char *column;       /* DESCRIBE tbl col, or NULL */
    const char *charset;      /* CREATE DATABASE charset, or NULL */
    const char *collate;      /* CREATE DATABASE collation, or NULL */
    struct ast_select *select; /* AST_SELECT */
    struct ast_insert *insert; /* AST_INSERT */
    struct ast_update *update; /* AST_UPDATE */
    struct ast_delete *del;    /* AST_DELETE */
    struct ast_create_table *create; /* AST_CREATE_TABLE */
    struct ast_indexdef *index; /* AST_CREATE_INDEX */
    struct ast_alter *alter;   /* AST_ALTER_TABLE specifications */
    struct ast_tname *tables;  /* DROP TABLE / RENAME / LOCK / TRUNCATE */
    struct ast_show *show;     /* AST_SHOW */
    struct ast_stmt *explain;  /* AST_EXPLAIN: the explained statement */
    const char *explain_format; /* EXPLAIN FORMAT=..., or NULL */
    struct ast_setvar *set;    /* AST_SET */
    struct ast_user *users;    /* user statements, GRANT/REVOKE grantees */
    struct ast_priv *privs;    /* GRANT/REVOKE privileges */
    const char *priv_db;       /* GRANT ON db.tbl: db ("*" for any), or NULL */
    const char *priv_table;    /* table ("*" for any) */
    struct ast_expr *expr;     /* KILL id; DO expressions */
    struct ast_name *view_cols; /* CREATE/ALTER VIEW v (cols), or NULL */
};

/* Canonical SQL for a statement, NUL-terminated in the arena; NULL when
 * the arena's heap fails. Keywords upper case, binary operators in
 * parentheses, identifiers back-quoted when they need it. */
char *sql__ast_print(struct sql_arena *a, const struct ast_stmt *st);
/* The same for one expression. */
char *sql__ast_print_expr(struct sql_arena *a, const struct ast_expr *e);

#endif /* SQL_AST_H */

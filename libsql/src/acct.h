/* acct.h: user accounts and privileges (DESIGN.md "Accounts and
 * privileges"): the records stored under the meta prefix, the cache the
 * server keeps of them, the login lookup with MySQL's host matching, the
 * account statements (acct.c), GRANT/REVOKE, SHOW GRANTS and the checks
 * every statement passes (priv.c), KILL (kill.c).
 *
 * Meta keys:
 *   "mAcct" user NUL host        one account: password and privileges
 *   "mPrivVer"                   bumped (u64 LE) by every account change,
 *                                so two changes at once conflict
 * Account record (version 1):
 *   u8 1 | u8 plugin | u8 has_password | u8 hash length (0, 20, 32) |
 *   hash | u32 LE global privileges | u32 LE grant count |
 *   per grant: lenenc db | lenenc table ("" = the whole database) |
 *   u32 LE privileges
 */
#ifndef SQL_ACCT_H
#define SQL_ACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"
#include "sql.h"

struct sql_server;
struct sql_session;
struct sql__buf;
struct sql_kvtxn;

/* Privilege bits, in the order SHOW GRANTS lists them (MySQL's). */
#define SQL_PRIV_SELECT (1u << 0)
#define SQL_PRIV_INSERT (1u << 1)
#define SQL_PRIV_UPDATE (1u << 2)
#define SQL_PRIV_DELETE (1u << 3)
#define SQL_PRIV_CREATE (1u << 4)
#define SQL_PRIV_DROP (1u << 5)
#define SQL_PRIV_PROCESS (1u << 6)        /* global only */
#define SQL_PRIV_INDEX (1u << 7)
#define SQL_PRIV_ALTER (1u << 8)
#define SQL_PRIV_SHOW_DB (1u << 9)        /* SHOW DATABASES, global only */
#define SQL_PRIV_SUPER (1u << 10)         /* global only */
#define SQL_PRIV_CREATE_USER (1u << 11)   /* global only */
#define SQL_PRIV_GRANT (1u << 12)         /* GRANT OPTION */
#define SQL_PRIV_NCOUNT 13

/* What a database or table grant may hold; ALL at that level. */
#define SQL_PRIV_OBJECT                                                   \
    (SQL_PRIV_SELECT | SQL_PRIV_INSERT | SQL_PRIV_UPDATE | SQL_PRIV_DELETE | \
     SQL_PRIV_CREATE | SQL_PRIV_DROP | SQL_PRIV_INDEX | SQL_PRIV_ALTER)
/* ALL on *.* (GRANT OPTION is never part of ALL). */
#define SQL_PRIV_ALL_GLOBAL                                               \
    (SQL_PRIV_OBJECT | SQL_PRIV_PROCESS | SQL_PRIV_SHOW_DB |              \
     SQL_PRIV_SUPER | SQL_PRIV_CREATE_USER)

/* The name SHOW GRANTS prints for bit i (0..SQL_PRIV_NCOUNT-1). */
const char *sql__priv_name(unsigned i);

/* A database (table NULL) or table grant of an account. */
struct sql_grant
{
    char *db;        /* database name (exact case) */
    char *table;     /* table name, NULL for db.* */
    uint32_t privs;  /* SQL_PRIV_* */
};

struct sql_acct
{
    char *user;              /* user name ("" = anonymous) */
    char *host;              /* host or pattern, lower case */
    int plugin;              /* enum sql_auth_plugin */
    bool has_password;       /* false: empty password */
    uint8_t hash[32];        /* native: 20 bytes SHA1(SHA1(pw)); sha2:
                                32 bytes SHA256(SHA256(pw)) */
    bool sha2_cached;        /* caching_sha2: a full authentication
                                since load or the last password change
                                (not stored; sql_server_options
                                sha2_cache) */
    uint32_t global;         /* privileges on *.* */
    struct sql_grant *grants; /* database and table grants */
    size_t ngrants;          /* their count */
};

/* Every account, as committed. Changed only under the server mutex and
 * acct_mu together; read under either (login lookups take acct_mu only,
 * so they never wait for a running statement). */
struct sql_accts
{
    struct sql_acct **a; /* accounts in creation order */
    size_t n;            /* their count */
};

/* Read the accounts; with none stored (a new store) create 'root'@'%'
 * with every privilege and root_password (NULL or "": none), in a
 * transaction of its own. errmsg says why on failure. */
int sql__acct_load(struct sql_server *srv, const char *root_password,
                   char *errmsg, size_t errmsg_len);
void sql__acct_free_all(struct sql_accts *as);
void sql__acct_free(struct sql_acct *a); /* NULL: no-op */
struct sql_acct *sql__acct_copy(const struct sql_acct *a);

/* Record form (above). */
int sql__acct_encode(const struct sql_acct *a, struct sql__buf *b);
int sql__acct_decode(const char *user, size_t ulen, const char *host,
                     size_t hlen, const uint8_t *p, size_t n,
                     struct sql_acct **out);

/* Whether a client host matches an account's host pattern ('%' and '_'
 * wildcards, case-insensitive; 'localhost' also matches the loopback
 * addresses, as every client here comes over TCP). */
bool sql__acct_host_match(const char *pattern, const char *host);
/* The account a login as user from host uses: among those whose user is
 * user or '' and whose host pattern matches, the most specific host
 * first (literal, then patterns by their literal prefix, '%' last),
 * then a named user before the anonymous one (MySQL's order). */
struct sql_acct *sql__acct_match(const struct sql_accts *as,
                                 const char *user, const char *host);
/* o (another session, maybe still logging in) runs as the same user name
 * as s: KILL's owner rule and PROCESSLIST. Reads o under acct_mu. */
bool sql__sess_same_user(struct sql_session *s, struct sql_session *o);
/* The account user@host exactly (host compared case-insensitively). */
struct sql_acct *sql__acct_find(const struct sql_accts *as, const char *user,
                                const char *host);

/* The session's account: the one its login matched, found again by name
 * for every statement (so grants and revokes apply at once and a dropped
 * account has no privileges). NULL when it is gone. */
struct sql_acct *sql__sess_acct(struct sql_session *s);

/* Account statements: CREATE/DROP/ALTER USER, SET PASSWORD (parsed as
 * ALTER USER with flag2), GRANT, REVOKE. Each commits the open
 * transaction first (MySQL's implicit commit) and runs in its own. */
int sql__acct_run(struct sql_session *s, const struct ast_stmt *st);
int sql__grant_run(struct sql_session *s, const struct ast_stmt *st,
                   struct sql_kvtxn **t);
/* SHOW GRANTS [FOR u] and SHOW CREATE USER u. */
int sql__show_grants(struct sql_session *s, const struct ast_show *sh);
int sql__show_create_user(struct sql_session *s, const struct ast_show *sh);
/* SHOW PRIVILEGES: the privileges sqld knows, with their levels. */
int sql__show_privileges(struct sql_session *s);
/* The transaction an account statement runs in: the cache is read again
 * from its snapshot when "mPrivVer" moved since this server last saw it
 * (another server's change) or when force (FLUSH PRIVILEGES). */
int sql__acct_begin(struct sql_session *s, bool force,
                    struct sql_kvtxn **out);
/* Commit in *t (taken: *t becomes NULL) new versions of accounts (NULL
 * entries skipped) and the removal of the accounts drop names, bumping
 * "mPrivVer"; then change the cache. Takes the accounts in put, freed on
 * failure. 0, SQL_EQUERY (s->err) or -ENOMEM. */
int sql__acct_commit(struct sql_session *s, struct sql_kvtxn **t,
                     struct sql_acct **put, size_t nput,
                     const struct ast_user *drop);
/* One zeroed slot per account a statement names (*n of them), for
 * sql__acct_commit's put; NULL when out of memory. */
struct sql_acct **sql__acct_slots(const struct ast_user *users, size_t *n);
/* FLUSH PRIVILEGES: read every account again (SUPER, else 1227). */
int sql__acct_flush(struct sql_session *s);

/* Privilege checks (priv.c). Each returns 0, or SQL_EQUERY with MySQL's
 * error in s->err. */
/* Every table and database the statement touches, with the privilege
 * its kind needs (1142 tables, 1044 databases, 1227 administration). */
int sql__priv_check(struct sql_session *s, const struct ast_stmt *st);
/* Privileges priv on db.table (db NULL: the current one): 0 or 1142. */
int sql__priv_check_table(struct sql_session *s, const char *db,
                          const char *table, uint32_t priv);
/* DESCRIBE and COM_FIELD_LIST: some privilege on the table (db NULL: the
 * current database), else 1142. */
int sql__priv_check_columns(struct sql_session *s, const char *db,
                            const char *table);
/* USE db / COM_INIT_DB: some privilege in db (1044). */
int sql__priv_check_db(struct sql_session *s, const char *db);
/* The privileges the session holds on db.table (table NULL: on db.*,
 * counting table grants in db when any is true). */
uint32_t sql__priv_of(struct sql_session *s, const char *db,
                      const char *table, bool any_table);
/* What SHOW DATABASES, SHOW TABLES and information_schema show. */
bool sql__priv_db_visible(struct sql_session *s, const char *db);
bool sql__priv_table_visible(struct sql_session *s, const char *db,
                             const char *table);
/* The session holds a global privilege (SUPER, PROCESS, ...). */
bool sql__priv_global(struct sql_session *s, uint32_t priv);

/* KILL [QUERY | CONNECTION] id and COM_PROCESS_KILL (kill.c). Only the
 * owner (the same user name) or SUPER may kill: 1095 otherwise; 1094 for
 * an unknown id. */
int sql__kill_run(struct sql_session *s, uint64_t id, bool query_only);
/* A KILL reached the running statement: it stops with 1317. Safe to call
 * without the server mutex (lock waits poll it). */
bool sql__sess_interrupted(const struct sql_session *s);
/* s->err = 1317 "Query execution was interrupted"; SQL_EQUERY. */
int sql__sess_interrupt_err(struct sql_session *s);

#endif /* SQL_ACCT_H */

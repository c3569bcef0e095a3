/* session.h: the server (process-wide: store, catalog cache, global
 * variables, sessions) and the session (one per connection: current
 * database, transaction, variables, warnings, prepared statements) that
 * engine.c, ddl.c, dml.c, show.c and the executor share. DESIGN.md
 * "Engine".
 */
#ifndef SQL_SESSION_H
#define SQL_SESSION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "ast.h"
#include "catalog.h"
#include "kv.h"
#include "memtrack.h"
#include "schema_sync.h"
#include "sql.h"
#include "sysvar.h"
#include "value.h"
#include "wire.h"

struct sql_server
{
    struct sql_kv *kv;             /* the store */
    struct sql_catalog *cat;       /* schema cache */
    struct sysvar_val *globals;    /* global variable values (lk;
                                      changed under sess_mu too) */
    struct sql_session *sessions;  /* every open session (sess_mu) */
    char version[64];              /* @@version */
    uint64_t queries;              /* statements run (SHOW STATUS;
                                      atomic) */
    int64_t started_us;            /* open time (Uptime) */
    bool concurrent;               /* sessions on several threads */
    pthread_rwlock_t lk;           /* concurrent: the statement lock. A
                                      command holds it shared; DDL,
                                      account changes and SET GLOBAL
                                      hold it alone (DESIGN.md
                                      "Concurrency") */
    pthread_mutex_t sess_mu;       /* sessions, lock_waiters and the
                                      fields other sessions read
                                      (PROCESSLIST, KILL) */
    pthread_cond_t no_waiters;     /* lock_waiters fell to 0 (sess_mu) */
    unsigned lock_waiters;         /* sessions in a lock wait, which
                                      let lk go (sess_mu; DDL waits for
                                      none: they hold catalog
                                      pointers) */
    struct sql_accts *accts;       /* user accounts (acct.h) */
    uint64_t priv_ver;             /* "mPrivVer" accts reflects */
    pthread_mutex_t acct_mu;       /* guards accts for login lookups */
    void (*begin_hook)(void *ctx, struct sql_session *s); /* tests: run
                                      as a statement begins its
                                      transaction (a store call), the
                                      statement lock held; NULL none */
    void *begin_hook_ctx;          /* its ctx */
    void (*commit_hook)(void *ctx, struct sql_session *s); /* tests: run
                                      once a commit passed its schema
                                      check, before it is sent; NULL
                                      none */
    void *commit_hook_ctx;         /* its ctx */
    void (*on_kill)(void *ctx, uint32_t conn_id); /* KILL CONNECTION hook */
    void *kill_ctx;                /* its ctx */
    bool sha2_cache;               /* caching_sha2 fast path only after a
                                      full authentication (tls.c) */
    const char *(*kv_strerror)(int rc); /* sql_server_options' */
    int (*kv_errno)(int rc);            /* sql_server_options' */
    struct sql_cluster_info cluster_info; /* PD's view (show_cluster.c);
                                      calls NULL: none */
    bool cluster_store;            /* stores on a cluster (opts.cluster):
                                      stores of other builds may take part */
    bool prewrite_checked;         /* every store checks a pessimistic
                                      txn's unlocked key: no index lock
                                      at COMMIT (engine.c; atomic, only
                                      becomes true) */
    uint64_t index_lock_commits;   /* sql_server_counters (atomic) */
    uint64_t index_keys_locked;    /* sql_server_counters (atomic) */
    struct sql_sync *sync;         /* schema sync with other servers on
                                      the store (schema_sync.h); NULL:
                                      alone on it */
    uint64_t plan_epoch;           /* bumped by every statement that held
                                      lk alone (excl_end): cached plans of
                                      an older epoch are stale
                                      (plancache.c; atomic) */
    uint64_t plan_hits;            /* executions that reused a cached
                                      plan (atomic) */
    uint64_t plan_misses;          /* executions that planned (atomic) */
};

struct sql_warning
{
    char level[8];  /* "Warning", "Note", "Error" */
    uint16_t code;  /* MySQL error number */
    char msg[256];  /* text */
};

#define SQL_MAX_WARNINGS 64

/* A prepared statement (COM_STMT_PREPARE or PREPARE name FROM). */
struct sql_prepared
{
    uint32_t id;                /* protocol id (0 for SQL PREPARE) */
    char *name;                 /* SQL PREPARE name, or NULL */
    char *text;                 /* the statement text (owned) */
    size_t len;                 /* its length */
    struct sql_arena *arena;    /* the parse tree */
    struct ast_stmt *stmt;      /* parsed once */
    struct sql_plancache *pc;   /* its cached plan (plancache.c), or
                                   NULL */
    struct sql_prepared *next;  /* next in the session */
};

/* A write staged by the running statement: applied to the transaction
 * only when the statement succeeds, so a failing statement leaves the
 * transaction as it was (MySQL's statement atomicity). */
struct sql_staged
{
    uint8_t *key;    /* key (owned by the stage) */
    size_t klen;     /* its length */
    uint8_t *val;    /* value, NULL for a delete */
    size_t vlen;     /* its length */
};

struct sql_stage
{
    struct sql_staged *w; /* writes in order */
    size_t n, cap;        /* count and allocation */
    uint32_t *slots;      /* hash: index+1 into w, 0 empty */
    size_t nslots;        /* power of two */
};

/* A savepoint of the open transaction (savepoint.c). */
struct sql_savepoint
{
    char *name;                 /* as given (compared case-insensitively) */
    size_t mark;                /* the transaction's write-buffer mark */
    struct sql_savepoint *next; /* the next newer one */
};

struct sql_uservar
{
    char *name;              /* lower-cased name */
    struct sql_datum d;      /* value (string bytes owned in buf) */
    char *buf;               /* string bytes */
    struct sql_uservar *next; /* next */
};

struct sql_session
{
    struct sql_server *srv;        /* the server */
    uint32_t conn_id;              /* CONNECTION_ID() */
    struct sql_proto_conn *conn;   /* connection being answered */
    struct sql_arena *arena;       /* per-statement memory */
    struct sql_memtrack qmem;      /* the running query's memory: arena
                                      and every operator (memtrack.c) */
    char *db;                      /* current database, or NULL
                                      (changed under sess_mu) */
    char user[96];                 /* user@host (set under sess_mu) */
    struct sql_kvtxn *txn;         /* open transaction, or NULL */
    bool explicit_txn;             /* BEGIN was run (not autocommit) */
    bool point_latest;             /* the running statement reads one row
                                      key in autocommit: a transaction it
                                      begins reads the latest versions, no
                                      TSO (pointread.c) */
    struct sql_stage stage;        /* the running statement's writes */
    struct sysvar_val *vars;       /* session variable values */
    struct sql_warning warns[SQL_MAX_WARNINGS]; /* last statement's */
    size_t nwarns;                 /* kept */
    size_t nwarns_total;           /* counted (may exceed kept) */
    size_t nerrors;                /* errors of the last statement */
    uint64_t last_insert_id;       /* LAST_INSERT_ID() */
    uint64_t found_rows;           /* FOUND_ROWS() */
    int64_t row_count;             /* ROW_COUNT() */
    struct sql_uservar *uservars;  /* @variables */
    struct sql_prepared *prepared; /* prepared statements */
    struct sql_savepoint *savepoints; /* of txn, oldest first */
    struct sql_err err;            /* the failing statement's error */
    bool more;                     /* another result follows this one */
    bool binary;                   /* answering COM_STMT_EXECUTE */
    const struct sql_datum *params; /* its parameters */
    size_t nparams;                /* their count */
    const char *info;              /* OK info of the current statement */
    char infobuf[128];             /* its storage */
    int64_t stmt_start_us;         /* statement start (NOW(); set
                                      under sess_mu) */
    int64_t conn_start_us;         /* connect time (PROCESSLIST) */
    const char *cur_text;          /* running statement (PROCESSLIST;
                                      set under sess_mu) */
    size_t cur_len;                /* its length (sess_mu) */
    bool lock_waiting;             /* in a row-lock wait (PROCESSLIST;
                                      sess_mu) */
    bool killed;                   /* KILL reached the running command
                                      (read atomically: lock waits poll
                                      it without the server lock) */
    bool excl;                     /* holds the statement lock alone
                                      (its own thread reads it) */
    bool in_cmd;                   /* a command is running (KILL QUERY
                                      of an idle session does nothing;
                                      sess_mu) */
    bool kill_conn;                /* KILL CONNECTION: every command
                                      answers 1317; the caller closes */
    char host[64];                 /* client host the login came from
                                      ("" unknown: localhost) */
    char acct_user[40];            /* the account the login matched */
    char acct_host[264];           /* its host pattern */
    bool acct_bound;               /* acct_user/acct_host are set */
    char account[310];             /* "acct_user@acct_host" (CURRENT_USER) */
    const struct ast_expr *rs_where; /* SHOW ... WHERE: rows the result
                                      writer keeps (set by show.c) */
    struct sql_expr *rs_cond;      /* it, compiled against the columns */
    const struct sql_rscol *rs_cols; /* the result's columns */
    size_t rs_ncols;               /* their count */
    int pend;                      /* final packet waiting: none, OK, END */
    uint64_t pend_affected;        /* its affected rows (OK) */
    uint64_t pend_last_id;         /* its last insert id (OK) */
    struct sql_txn_schema tsc;     /* the open transaction's schema
                                      version and tables (commit check,
                                      schema_sync.h) */
    struct sql__buf lazy;          /* pessimistic: index keys the open
                                      transaction wrote, locked at COMMIT
                                      (u32 length, bytes each; engine.c
                                      lock_index_keys) */
    size_t lazy_n;                 /* how many keys lazy holds */
    struct sql_prepared *cur_prep; /* the prepared statement being
                                      executed, or NULL (plancache.c) */
    uint64_t plan_gen;             /* bumped when a setting plans read
                                      changes (SET of a system variable,
                                      USE, COM_RESET_CONNECTION) */
    bool plan_ran;                 /* planning ran a query and kept its
                                      rows (subquery_rows): not cached */
    bool plan_cached;              /* this statement's plan came from
                                      the cache */
    bool plan_last_cached;         /* the previous statement's did
                                      (@@last_plan_from_cache) */
    uint64_t plan_hits;            /* this session's plan cache hits */
    uint64_t plan_misses;          /* and misses */
    const struct ast_select *quick_sel; /* sql_session_try_quick: the
                                      SELECT it planned already ... */
    struct plan *quick_plan;       /* ... and that plan (run_select) */
    uint64_t quick_no[64];         /* shapes of query texts found not
                                      quick (a direct-mapped set) */
    uint64_t quick_epoch;          /* srv->plan_epoch quick_no is of
                                      (DDL may make a shape quick) */
    struct sql_stmtcache *stc;     /* parses of query texts by shape
                                      (stmtcache.c), or NULL until the
                                      first COM_QUERY */
    const struct ast_stmt *pr_st;  /* sql_session_point_read: the query
                                      text's statement waiting for its
                                      row (NULL: none) ... */
    const struct ast_select *pr_sel; /* ... its SELECT and plan, in the */
    struct plan *pr_plan;          /* arena until the next command */
    size_t pr_len;                 /* the statement's length */
    uint64_t pr_epoch;             /* srv->plan_epoch when planned */
    bool plan_text;                /* planning for EXPLAIN: plan nodes
                                      keep their operator text (plan.c;
                                      other plans skip making it) */
    struct sql_cte_scope *ctes;    /* WITH lists in scope while the
                                      statement is planned (cte.c) */
    const struct ast_expr *view_where; /* the WHERE of a block whose FROM
                                      is one name, while it is resolved:
                                      view.c pushes it into a view */
    struct sql_session *next;      /* next in the server */
};

/* The session-list lock (sess_mu) of a concurrent server: around
 * changes of the fields other sessions read and walks of the list. */
void sql__sess_list_lock(struct sql_server *srv);
void sql__sess_list_unlock(struct sql_server *srv);

/* Schema sync (schema_sync.c): take the statement lock alone for one
 * step of a statement that holds no catalog pointer (waits for row-lock
 * waiters as DDL does), and give it back shared; let it go entirely for a
 * wait and take it back shared. No-ops on a server that is not
 * concurrent. */
void sql__sess_excl_begin(struct sql_session *s);
void sql__sess_excl_end(struct sql_session *s);
void sql__sess_unlock_wait(struct sql_session *s);
void sql__sess_relock_wait(struct sql_session *s);

/* Fill s->err and return SQL_EQUERY. */
int sql__serr(struct sql_session *s, uint16_t code, const char *state,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A 1054 from compiling an expression of clause (e.g. "where clause")
 * names that clause as MySQL does (the compiler says 'field list'). */
void sql__err_clause(struct sql_err *e, const char *clause);
/* Record a warning for SHOW WARNINGS. */
void sql__swarn(struct sql_session *s, const char *level, uint16_t code,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A KV result code as the client sees it (1213, 1205, 1105 ...). */
int sql__kverr(struct sql_session *s, int rc);

/* The transaction statements run in, begun on first use. */
int sql__sess_txn(struct sql_session *s, struct sql_kvtxn **out);
/* Reads that see the statement's staged writes first. */
int sql__sess_get(struct sql_session *s, const void *key, size_t klen,
                  uint8_t **val, size_t *vlen, bool *owned);
/* The same as a pessimistic current read (locks the key). */
int sql__sess_get_current(struct sql_session *s, const void *key,
                          size_t klen, uint8_t **val, size_t *vlen,
                          bool *owned);
/* Lock keys of t for s (FOR UPDATE): on a concurrent server a held lock
 * is waited for up to innodb_lock_wait_timeout seconds, with the server
 * lock released; else MVCC_LOCKED at once. */
int sql__sess_lock(struct sql_session *s, struct sql_kvtxn *t,
                   const struct mvcc_key *keys, size_t n);
/* txn_mode = PESSIMISTIC. */
bool sql__sess_pessimistic(const struct sql_session *s);
int sql__sess_set(struct sql_session *s, const void *key, size_t klen,
                  const void *val, size_t vlen);
int sql__sess_del(struct sql_session *s, const void *key, size_t klen);

/* Session variable value (i from sql__sysvar_find). */
const struct sysvar_val *sql__sess_var(const struct sql_session *s, int i);
bool sql__sess_autocommit(const struct sql_session *s);
uint32_t sql__sess_sql_mode(const struct sql_session *s);
/* Current status flags (AUTOCOMMIT, IN_TRANS, MORE_RESULTS). */
uint16_t sql__sess_status(const struct sql_session *s);

/* Answers: an OK, and result sets. */
int sql__sess_ok(struct sql_session *s, uint64_t affected, uint64_t last_id);
struct sql_rscol
{
    const char *name;  /* column name */
    uint8_t type;      /* SQL_TYPE_*: VAR_STRING or LONGLONG here */
};
int sql__rs_begin(struct sql_session *s, const struct sql_rscol *cols,
                  size_t n);
int sql__rs_row(struct sql_session *s, const struct sql_value *v, size_t n);
int sql__rs_end(struct sql_session *s);
/* A text value / integer / NULL for sql__rs_row. */
struct sql_value sql__v_str(const char *s);
struct sql_value sql__v_int(int64_t i);
struct sql_value sql__v_null(void);

/* The database a statement names, or the current one; 1046 if none, 1049
 * if unknown. */
int sql__sess_db(struct sql_session *s, const char *name,
                 struct sql_dbinfo **out);
/* The table [db.]name; 1146 if unknown. */
int sql__sess_table(struct sql_session *s, const char *db, const char *name,
                    struct sql_tableinfo **out);

/* Statement families (ddl.c, show.c, dml.c, exec*.c). Each answers the
 * client itself and returns 0, SQL_EQUERY (s->err) or -ENOMEM. */
int sql__ddl_run(struct sql_session *s, const struct ast_stmt *st);
int sql__show_run(struct sql_session *s, const struct ast_stmt *st);
/* SELECT, INSERT, UPDATE, DELETE, EXPLAIN, DO (exec.c). */
int sql__query_run(struct sql_session *s, const struct ast_stmt *st);
/* COM_STMT_PREPARE: check p->stmt, answer with sql_reply_prepared and the
 * definitions; 0, SQL_EQUERY (nothing answered) or -ENOMEM. */
int sql__prepare_run(struct sql_session *s, struct sql_prepared *p);
/* COM_FIELD_LIST: answers itself. */
int sql__field_list(struct sql_session *s, const struct sql_command *cmd);
/* @name's value (NULL datum when unset); bytes owned by the session. */
int sql__uservar_get(struct sql_session *s, const char *name,
                     struct sql_datum *out);
/* @name := d (copied). */
int sql__uservar_set(struct sql_session *s, const char *name,
                     const struct sql_datum *d);
int64_t sql__now_us(void);
/* Evaluate an expression without columns (SET, DO): *out, and its text
 * into text[0..len) when text is not NULL (bytes in the statement arena
 * otherwise). 0, SQL_EQUERY (s->err) or -ENOMEM. */
int sql__eval_const(struct sql_session *s, const struct ast_expr *e,
                    struct sql_datum *out, char *text, size_t len);

/* PREPARE, EXECUTE, DEALLOCATE PREPARE (prepare_sql.c): answers itself;
 * EXECUTE runs the prepared statement through run (the engine's
 * dispatch) with its parameters bound. 0, SQL_EQUERY or -ENOMEM. */
int sql__sqlprep_run(struct sql_session *s, const struct ast_stmt *st,
                     int (*run)(struct sql_session *s,
                                const struct ast_stmt *st));
/* Free a prepared statement (engine.c; off any list). */
void sql__prepared_free(struct sql_prepared *p);

/* SAVEPOINT, RELEASE SAVEPOINT, ROLLBACK TO (savepoint.c): answers
 * itself; 0, SQL_EQUERY or -ENOMEM. _clear: the transaction ended. */
int sql__savepoint_run(struct sql_session *s, const struct ast_stmt *st);
void sql__savepoints_clear(struct sql_session *s);

/* TLS (tls.c): @@have_ssl, require_secure_transport and sha2_cache from
 * the options at open; the global require_secure_transport now; the
 * connection's Ssl_version and Ssl_cipher ("" without TLS). */
int sql__tls_server_init(struct sql_server *srv,
                         const struct sql_server_options *o);
bool sql__require_secure_transport(struct sql_server *srv);
void sql__tls_status(const struct sql_session *s, const char **version,
                     const char **cipher);

#endif /* SQL_SESSION_H */

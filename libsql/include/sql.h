/* sql.h: the one public header of libsql, the SQL layer: MySQL protocol, parser, planner, executor, codec, catalog.
 * What is not declared here is not API. See libsql/DESIGN.md.
 */
#ifndef SQL_H
#define SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version: kept equal to libsql/VERSION (the build checks it). */
#define SQL_VERSION_MAJOR 0
#define SQL_VERSION_MINOR 14
#define SQL_VERSION_PATCH 0
#define SQL_VERSION_NUMBER \
    (SQL_VERSION_MAJOR * 1000000 + SQL_VERSION_MINOR * 1000 + SQL_VERSION_PATCH)

/* The SQL_VERSION_NUMBER the library was built with: compare it with the
 * macro to catch a header/archive mismatch. */
int sql_version_number(void);

/* Result codes. 0 is success; -1..-999 are negative errno values; libsql's
 * own codes are -5000..-5999. X(name, value, message). */
#define SQL_ERROR_TABLE(X)                                                 \
    X(SQL_EINTERNAL, -5000, "internal error in libsql")                    \
    X(SQL_ESYNTAX, -5001, "SQL syntax error")                              \
    X(SQL_ETOO_DEEP, -5002, "statement nests deeper than the parser allows") \
    X(SQL_EPROTO, -5003, "malformed MySQL protocol packet")                \
    X(SQL_EPACKET_TOO_LARGE, -5004, "packet larger than max_allowed_packet") \
    X(SQL_EAUTH, -5005, "authentication failed")                          \
    X(SQL_ENOTFOUND, -5006, "not found")                                  \
    X(SQL_ESTATE, -5007, "call not valid in the connection's state")      \
    X(SQL_ETYPE, -5008, "value does not fit the column's type")          \
    X(SQL_EQUERY, -5009, "statement failed (MySQL error in the error record)")

enum sql_error {
#define SQL__ERROR_ENUM(name, value, text) name = (value),
    SQL_ERROR_TABLE(SQL__ERROR_ENUM)
#undef SQL__ERROR_ENUM
};

/* A static, human-readable message for any result code (never NULL). */
const char *sql_strerror(int rc);

/* ---------------------------------------------------------------------
 * Allocator hook. Every allocation libsql makes goes through it.
 */
struct sql_heap {
    void *ctx;                                         /* passed to each call */
    void *(*malloc)(void *ctx, size_t size);           /* NULL on failure */
    void *(*realloc)(void *ctx, void *p, size_t size); /* NULL on failure */
    void (*free)(void *ctx, void *p);                  /* p may be NULL */
};

/* Replace the allocator (copied); NULL restores libc's. Call it only while
 * no libsql object exists. Not thread-safe. */
void sql_heap_set(const struct sql_heap *heap);

/* =====================================================================
 * MySQL client/server protocol engine (DESIGN.md "MySQL protocol").
 *
 * One struct sql_proto_conn per client connection: bytes in, bytes out,
 * no sockets, threads or clocks. The caller (sqld) owns the socket and TLS:
 *
 *   c = sql_proto_conn_create(&opts);        // opts copied
 *   sql_proto_conn_start(c);                 // Handshake v10 -> output
 *   loop:
 *     write sql_proto_conn_output(c, &n) to the socket, then
 *     sql_proto_conn_consume(c, n_written);
 *     if sql_proto_conn_want_close(c) and no output is left: close, done
 *     if sql_proto_conn_want_tls(c): run the TLS server handshake on the
 *       socket (the bytes feed left unconsumed are the first TLS bytes),
 *       call sql_proto_conn_tls_started(c), and feed decrypted bytes
 *       from now on
 *     read bytes b; sql_proto_conn_feed(c, b, len, &used); keep b[used..]
 *       (unconsumed only right after an SSL request) for the TLS layer
 *   when an asynchronous executor completes a command (its last reply
 *   call), call sql_proto_conn_feed(c, NULL, 0, NULL) to run the commands
 *   that arrived meanwhile; while sql_proto_conn_busy(c) the caller may
 *   stop reading the socket (back-pressure).
 *   sql_proto_conn_destroy(c);
 *
 * The executor (struct sql_executor) receives each command and answers
 * it with the sql_reply_* calls below, during the call or later.
 * =====================================================================
 */

/* Capability flags (Protocol::CapabilityFlags). */
#define SQL_CLIENT_LONG_PASSWORD (1u << 0)
#define SQL_CLIENT_FOUND_ROWS (1u << 1)
#define SQL_CLIENT_LONG_FLAG (1u << 2)
#define SQL_CLIENT_CONNECT_WITH_DB (1u << 3)
#define SQL_CLIENT_NO_SCHEMA (1u << 4)
#define SQL_CLIENT_COMPRESS (1u << 5)
#define SQL_CLIENT_ODBC (1u << 6)
#define SQL_CLIENT_LOCAL_FILES (1u << 7)
#define SQL_CLIENT_IGNORE_SPACE (1u << 8)
#define SQL_CLIENT_PROTOCOL_41 (1u << 9)
#define SQL_CLIENT_INTERACTIVE (1u << 10)
#define SQL_CLIENT_SSL (1u << 11)
#define SQL_CLIENT_IGNORE_SIGPIPE (1u << 12)
#define SQL_CLIENT_TRANSACTIONS (1u << 13)
#define SQL_CLIENT_RESERVED (1u << 14)
#define SQL_CLIENT_SECURE_CONNECTION (1u << 15)
#define SQL_CLIENT_MULTI_STATEMENTS (1u << 16)
#define SQL_CLIENT_MULTI_RESULTS (1u << 17)
#define SQL_CLIENT_PS_MULTI_RESULTS (1u << 18)
#define SQL_CLIENT_PLUGIN_AUTH (1u << 19)
#define SQL_CLIENT_CONNECT_ATTRS (1u << 20)
#define SQL_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA (1u << 21)
#define SQL_CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS (1u << 22)
#define SQL_CLIENT_SESSION_TRACK (1u << 23)
#define SQL_CLIENT_DEPRECATE_EOF (1u << 24)

/* What the engine offers when the options leave capabilities 0:
 * everything above except COMPRESS, ODBC, LOCAL_FILES, SESSION_TRACK and
 * (unless opts.tls_available) SSL. The engine never offers more than this. */
#define SQL_PROTO_DEFAULT_CAPS                                              \
    (SQL_CLIENT_LONG_PASSWORD | SQL_CLIENT_FOUND_ROWS | SQL_CLIENT_LONG_FLAG | \
     SQL_CLIENT_CONNECT_WITH_DB | SQL_CLIENT_NO_SCHEMA |                      \
     SQL_CLIENT_IGNORE_SPACE | SQL_CLIENT_PROTOCOL_41 |                       \
     SQL_CLIENT_INTERACTIVE | SQL_CLIENT_SSL | SQL_CLIENT_IGNORE_SIGPIPE |    \
     SQL_CLIENT_TRANSACTIONS | SQL_CLIENT_RESERVED |                          \
     SQL_CLIENT_SECURE_CONNECTION | SQL_CLIENT_MULTI_STATEMENTS |             \
     SQL_CLIENT_MULTI_RESULTS | SQL_CLIENT_PS_MULTI_RESULTS |                 \
     SQL_CLIENT_PLUGIN_AUTH | SQL_CLIENT_CONNECT_ATTRS |                      \
     SQL_CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA |                              \
     SQL_CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS | SQL_CLIENT_DEPRECATE_EOF)

/* Server status flags (OK and EOF packets). */
#define SQL_SERVER_STATUS_IN_TRANS 0x0001
#define SQL_SERVER_STATUS_AUTOCOMMIT 0x0002
#define SQL_SERVER_MORE_RESULTS_EXISTS 0x0008
#define SQL_SERVER_QUERY_NO_GOOD_INDEX_USED 0x0010
#define SQL_SERVER_QUERY_NO_INDEX_USED 0x0020
#define SQL_SERVER_STATUS_CURSOR_EXISTS 0x0040
#define SQL_SERVER_STATUS_LAST_ROW_SENT 0x0080
#define SQL_SERVER_STATUS_DB_DROPPED 0x0100
#define SQL_SERVER_STATUS_NO_BACKSLASH_ESCAPES 0x0200
#define SQL_SERVER_QUERY_WAS_SLOW 0x0800
#define SQL_SERVER_STATUS_IN_TRANS_READONLY 0x2000

/* Column types (enum_field_types), as on the wire. */
enum sql_mysql_type {
    SQL_TYPE_DECIMAL = 0,
    SQL_TYPE_TINY = 1,
    SQL_TYPE_SHORT = 2,
    SQL_TYPE_LONG = 3,
    SQL_TYPE_FLOAT = 4,
    SQL_TYPE_DOUBLE = 5,
    SQL_TYPE_NULL = 6,
    SQL_TYPE_TIMESTAMP = 7,
    SQL_TYPE_LONGLONG = 8,
    SQL_TYPE_INT24 = 9,
    SQL_TYPE_DATE = 10,
    SQL_TYPE_TIME = 11,
    SQL_TYPE_DATETIME = 12,
    SQL_TYPE_YEAR = 13,
    SQL_TYPE_NEWDATE = 14,
    SQL_TYPE_VARCHAR = 15,
    SQL_TYPE_BIT = 16,
    SQL_TYPE_JSON = 245,
    SQL_TYPE_NEWDECIMAL = 246,
    SQL_TYPE_ENUM = 247,
    SQL_TYPE_SET = 248,
    SQL_TYPE_TINY_BLOB = 249,
    SQL_TYPE_MEDIUM_BLOB = 250,
    SQL_TYPE_LONG_BLOB = 251,
    SQL_TYPE_BLOB = 252,
    SQL_TYPE_VAR_STRING = 253,
    SQL_TYPE_STRING = 254,
    SQL_TYPE_GEOMETRY = 255
};

/* Column definition flags. */
#define SQL_COLFLAG_NOT_NULL 0x0001
#define SQL_COLFLAG_PRI_KEY 0x0002
#define SQL_COLFLAG_UNIQUE_KEY 0x0004
#define SQL_COLFLAG_MULTIPLE_KEY 0x0008
#define SQL_COLFLAG_BLOB 0x0010
#define SQL_COLFLAG_UNSIGNED 0x0020
#define SQL_COLFLAG_ZEROFILL 0x0040
#define SQL_COLFLAG_BINARY 0x0080
#define SQL_COLFLAG_ENUM 0x0100
#define SQL_COLFLAG_AUTO_INCREMENT 0x0200
#define SQL_COLFLAG_TIMESTAMP 0x0400
#define SQL_COLFLAG_SET 0x0800
#define SQL_COLFLAG_NO_DEFAULT_VALUE 0x1000
#define SQL_COLFLAG_ON_UPDATE_NOW 0x2000
#define SQL_COLFLAG_NUM 0x8000

/* Collation ids used on the wire. */
#define SQL_CHARSET_UTF8MB4_GENERAL_CI 45
#define SQL_CHARSET_BINARY 63
#define SQL_CHARSET_UTF8MB4_0900_AI_CI 255

/* A column definition (Protocol::ColumnDefinition41). Strings are
 * NUL-terminated and borrowed for the call; NULL means "". */
struct sql_column {
    const char *db;            /* schema name */
    const char *table;         /* table alias */
    const char *org_table;     /* physical table name */
    const char *name;          /* column alias */
    const char *org_name;      /* physical column name */
    uint16_t charset;          /* collation id (SQL_CHARSET_*) */
    uint32_t length;           /* maximum display length */
    uint8_t type;              /* enum sql_mysql_type */
    uint16_t flags;            /* SQL_COLFLAG_* */
    uint8_t decimals;          /* fractional digits; 31 = not fixed */
    const char *default_value; /* COM_FIELD_LIST only: default, NULL none */
};

/* A date, datetime or time. For DATE/DATETIME/TIMESTAMP hour < 24 and
 * negative is false; for TIME, year/month/day are 0 and hour may be up to
 * 838 (days*24+hours). */
struct sql_time {
    bool negative;   /* TIME only: a negative interval */
    uint16_t year;   /* 0..9999 */
    uint8_t month;   /* 0..12 */
    uint8_t day;     /* 0..31 */
    uint32_t hour;   /* 0..23, or total hours for TIME */
    uint8_t minute;  /* 0..59 */
    uint8_t second;  /* 0..59 */
    uint32_t micro;  /* 0..999999 */
};

enum sql_value_kind {
    SQL_VALUE_NULL = 0, /* SQL NULL */
    SQL_VALUE_INT,      /* v.i */
    SQL_VALUE_UINT,     /* v.u */
    SQL_VALUE_DOUBLE,   /* v.d */
    SQL_VALUE_BYTES,    /* v.s: text, decimal digits, blob bytes */
    SQL_VALUE_DATETIME, /* v.t: DATE, DATETIME, TIMESTAMP */
    SQL_VALUE_TIME      /* v.t: TIME */
};

/* One value of a row or of a bound parameter. */
struct sql_value {
    int kind; /* enum sql_value_kind */
    union {
        int64_t i;         /* SQL_VALUE_INT */
        uint64_t u;        /* SQL_VALUE_UINT */
        double d;          /* SQL_VALUE_DOUBLE */
        struct sql_time t; /* SQL_VALUE_DATETIME, SQL_VALUE_TIME */
        struct {
            const char *p; /* bytes, not NUL-terminated */
            size_t len;    /* their count */
        } s;               /* SQL_VALUE_BYTES */
    } v;                   /* the value, by kind */
};

/* A parameter bound by COM_STMT_EXECUTE, decoded from the binary protocol:
 * integer types give INT (UINT when unsigned), FLOAT/DOUBLE give DOUBLE,
 * DATE/DATETIME/TIMESTAMP give DATETIME, TIME gives TIME, every other type
 * (strings, DECIMAL, blobs, JSON, BIT, ...) and COM_STMT_SEND_LONG_DATA
 * data give BYTES. */
struct sql_param {
    uint8_t type;           /* enum sql_mysql_type the client sent */
    bool is_unsigned;       /* the client's unsigned flag */
    struct sql_value value; /* decoded; SQL_VALUE_NULL for NULL */
};

/* The end of a statement's answer: an OK packet, or the end of a result
 * set (EOF, or OK with 0xFE header under CLIENT_DEPRECATE_EOF). */
struct sql_ok {
    uint64_t affected_rows;  /* OK only */
    uint64_t last_insert_id; /* OK only */
    uint16_t status;         /* SQL_SERVER_STATUS_*; MORE_RESULTS_EXISTS
                                says another result follows */
    uint16_t warnings;       /* warning count */
    const char *info;        /* OK only: human-readable info, NULL none */
};

enum sql_command_kind {
    SQL_CMD_QUERY = 1,            /* COM_QUERY: text */
    SQL_CMD_INIT_DB,              /* COM_INIT_DB or the handshake's db: text */
    SQL_CMD_FIELD_LIST,           /* COM_FIELD_LIST: text = table, wildcard */
    SQL_CMD_STATISTICS,           /* COM_STATISTICS: answer sql_reply_text */
    SQL_CMD_PROCESS_KILL,         /* COM_PROCESS_KILL: kill_id */
    SQL_CMD_RESET_CONNECTION,     /* COM_RESET_CONNECTION */
    SQL_CMD_STMT_PREPARE,         /* COM_STMT_PREPARE: text, stmt_id */
    SQL_CMD_STMT_EXECUTE,         /* COM_STMT_EXECUTE: stmt_id, params */
    SQL_CMD_STMT_CLOSE            /* notification only: never answered */
};

/* A command for the executor. Every pointer is valid until the command's
 * answer is complete (for STMT_CLOSE: until execute returns). */
struct sql_command {
    int kind;                       /* enum sql_command_kind */
    const char *text;               /* query, db, table or statement text */
    size_t text_len;                /* its length (not NUL-terminated) */
    const char *wildcard;           /* FIELD_LIST: column wildcard */
    size_t wildcard_len;            /* its length */
    uint32_t stmt_id;               /* STMT_*: the engine-assigned id */
    const struct sql_param *params; /* STMT_EXECUTE: bound parameters */
    size_t nparams;                 /* their count */
    uint8_t cursor_flags;           /* STMT_EXECUTE: the client's flags */
    uint32_t kill_id;               /* PROCESS_KILL: the connection id */
    bool multi_statements;          /* QUERY: several statements allowed */
    const char *user;               /* the authenticated user */
};

struct sql_proto_conn;

/* The executor: sqld's SQL engine, a test double in the tests.
 *
 * execute() receives each command and answers it through sql_reply_*() on
 * the same connection, during the call or later (asynchronously: the engine
 * queues further input until the answer is complete). An answer is
 * complete at: sql_reply_error(); sql_reply_ok() or sql_reply_end()
 * without SQL_SERVER_MORE_RESULTS_EXISTS; the last column of a
 * sql_reply_prepared(); sql_reply_text(). Shapes per command:
 *   QUERY, STMT_EXECUTE: { ok(MORE) | columns(n), column x n, row*,
 *       end(MORE) }* then ok | end | error (an error ends a multi-result)
 *   INIT_DB, PROCESS_KILL, RESET_CONNECTION: ok | error
 *   FIELD_LIST: column* (with default_value) then end, or error
 *   STATISTICS: text | error
 *   STMT_PREPARE: prepared(p, c), column x (p + c) (params first) | error
 *   STMT_CLOSE: nothing (the statement is gone; free what it held)
 * sql_reply_error() may come at any point of an answer (clients check
 * every packet for the ERR header) and ends it. A non-zero return from
 * execute() with the answer incomplete makes the engine end it with ERR
 * 1105 itself. execute() must not call sql_proto_conn_feed. */
struct sql_executor {
    void *ctx; /* passed to execute */
    int (*execute)(void *ctx, struct sql_proto_conn *c,
                   const struct sql_command *cmd); /* see above */
};

enum sql_auth_plugin {
    SQL_AUTH_NATIVE = 1,       /* mysql_native_password */
    SQL_AUTH_CACHING_SHA2 = 2  /* caching_sha2_password */
};

/* What the server stores for an account. */
struct sql_account {
    int plugin;              /* enum sql_auth_plugin the account uses */
    bool has_password;       /* false: empty password, empty response */
    uint8_t native_hash[20]; /* NATIVE: SHA1(SHA1(password)) */
    uint8_t sha2_hash[32];   /* CACHING_SHA2: SHA256(SHA256(password)) */
    bool sha2_cached;        /* CACHING_SHA2: fast path allowed; false
                                forces full authentication (TLS only) */
};

/* The auth provider: lookup() fills *out for user@host and returns 0, or
 * returns SQL_ENOTFOUND (then authentication fails with ERR 1045). */
struct sql_auth_provider {
    void *ctx; /* passed to lookup */
    int (*lookup)(void *ctx, const char *user, const char *host,
                  struct sql_account *out); /* see above */
    /* NULL, or asked at each handshake response: true refuses a login
     * without TLS with 3159 (require_secure_transport, which SET GLOBAL
     * may change while the server runs). */
    bool (*require_tls)(void *ctx);
    /* NULL, or told once a login succeeded; full: the password was
     * checked in clear (caching_sha2 full authentication), which makes
     * the account's fast path valid (its cache entry). */
    void (*authenticated)(void *ctx, bool full);
};

struct sql_proto_options {
    const char *server_version;  /* e.g. "8.0.11-sqld"; copied */
    uint32_t connection_id;      /* sent in the handshake, KILL target */
    uint32_t capabilities;       /* offered; 0 = SQL_PROTO_DEFAULT_CAPS */
    bool tls_available;          /* offer CLIENT_SSL (caller can do TLS) */
    bool require_tls;            /* refuse logins without TLS (3159), as
                                    require_secure_transport=ON does */
    uint8_t charset;             /* server collation id; 0 = 45 */
    uint32_t max_allowed_packet; /* bytes per command; 0 = 64 MiB */
    uint8_t scramble[20];        /* random bytes from the caller; the
                                    engine maps them to 1..127 minus '$'
                                    as MySQL's nonce is */
    int default_plugin;          /* enum sql_auth_plugin; 0 = NATIVE */
    const char *client_host;     /* peer host for messages; copied */
    struct sql_auth_provider auth; /* account lookup */
    struct sql_executor exec;      /* command execution */
    /* NULL, or the negotiated TLS protocol and cipher suite of this
     * connection once TLS is up (Ssl_version, Ssl_cipher); either may be
     * set to NULL (shown as ""). Strings borrowed until the connection is
     * destroyed. Called on the thread running the command. */
    void (*tls_info)(void *ctx, const char **version, const char **cipher);
    void *tls_info_ctx;            /* passed to tls_info */
    /* caching_sha2 full authentication without TLS, MySQL's RSA key
     * exchange: the PEM public key sent when the client asks (0x02;
     * borrowed until the connection is destroyed), and rsa_decrypt, which
     * turns the client's RSA-OAEP (SHA-1) ciphertext into at most
     * *out_len bytes at out (*out_len set): 0, or non-zero when it cannot.
     * NULL: no exchange (a plain full authentication is refused, 1251). */
    const char *rsa_public_pem;
    int (*rsa_decrypt)(void *ctx, const uint8_t *in, size_t len,
                       uint8_t *out, size_t *out_len);
    void *rsa_ctx;                 /* passed to rsa_decrypt */
};

/* Create a connection engine (options copied). NULL when out of memory or
 * the options are invalid (no lookup or execute callback). */
struct sql_proto_conn *sql_proto_conn_create(
    const struct sql_proto_options *opts);
void sql_proto_conn_destroy(struct sql_proto_conn *c); /* NULL: no-op */

/* Queue the Handshake v10 packet. Once. */
int sql_proto_conn_start(struct sql_proto_conn *c);

/* Consume client bytes (copied). *consumed says how many were taken: all
 * of them, except that input stops right after an SSL request packet
 * (sql_proto_conn_want_tls() then turns true; until tls_started nothing is
 * taken). consumed may be NULL only when tls_available is false. Bytes
 * are buffered whatever the state; pipelined commands run one after the
 * other as answers complete. Protocol errors are not
 * failures: the engine queues an ERR packet and sets want_close. Returns
 * 0, -ENOMEM (the connection is then unusable: close it) or SQL_ESTATE
 * (before start). With len 0, runs commands queued behind a completed
 * asynchronous answer. */
int sql_proto_conn_feed(struct sql_proto_conn *c, const void *data,
                        size_t len, size_t *consumed);

/* Bytes to send (borrowed until the next call on c) and how many. */
const uint8_t *sql_proto_conn_output(const struct sql_proto_conn *c,
                                     size_t *len);
/* Drop the first n bytes of the output (n <= what output() gave). */
void sql_proto_conn_consume(struct sql_proto_conn *c, size_t n);

/* Close the connection once the output is written. */
bool sql_proto_conn_want_close(const struct sql_proto_conn *c);
/* An SSL request arrived: start TLS, then call tls_started. */
bool sql_proto_conn_want_tls(const struct sql_proto_conn *c);
int sql_proto_conn_tls_started(struct sql_proto_conn *c);
/* A command is in flight (its answer is not complete). */
bool sql_proto_conn_busy(const struct sql_proto_conn *c);
/* Authentication finished and the command phase runs. */
bool sql_proto_conn_authenticated(const struct sql_proto_conn *c);
/* The authenticated user ("" before) and current database (NULL none). */
const char *sql_proto_conn_user(const struct sql_proto_conn *c);
const char *sql_proto_conn_db(const struct sql_proto_conn *c);
/* The capabilities both sides agreed on (0 before the response). */
uint32_t sql_proto_conn_capabilities(const struct sql_proto_conn *c);
/* The collation id the client's handshake response named (0 before): the
 * executor sets character_set_client/connection/results from it. */
uint8_t sql_proto_conn_client_charset(const struct sql_proto_conn *c);
/* Detail of the last protocol error ("" if none). */
const char *sql_proto_conn_errmsg(const struct sql_proto_conn *c);

/* Reject a connection before any handshake (e.g. ERR 1040 "Too many
 * connections"): queues one ERR packet with sequence id 0 and sets
 * want_close. Instead of start. */
int sql_proto_conn_reject(struct sql_proto_conn *c, uint16_t code,
                          const char *sqlstate, const char *msg);

/* --- Result writer: the executor's answer (see struct sql_executor). ---
 * Each returns 0, SQL_ESTATE when the call does not fit the answer's
 * shape so far (nothing written), SQL_ETYPE when a row value cannot be
 * encoded as its column's type (nothing written), or -ENOMEM. */
int sql_reply_ok(struct sql_proto_conn *c, const struct sql_ok *ok);
int sql_reply_error(struct sql_proto_conn *c, uint16_t code,
                    const char *sqlstate, const char *msg);
int sql_reply_columns(struct sql_proto_conn *c, size_t ncolumns);
int sql_reply_column(struct sql_proto_conn *c, const struct sql_column *col);
int sql_reply_row(struct sql_proto_conn *c, const struct sql_value *values,
                  size_t n);
int sql_reply_end(struct sql_proto_conn *c, const struct sql_ok *ok);
int sql_reply_prepared(struct sql_proto_conn *c, uint16_t nparams,
                       uint16_t ncolumns, uint16_t warnings);
int sql_reply_text(struct sql_proto_conn *c, const char *text, size_t len);

/* Stored password hashes for struct sql_account, from a cleartext
 * password: SHA1(SHA1(pw)) and SHA256(SHA256(pw)). */
void sql_auth_native_hash(const char *password, size_t len, uint8_t out[20]);
void sql_auth_sha2_hash(const char *password, size_t len, uint8_t out[32]);

/* =====================================================================
 * The SQL engine (DESIGN.md "Engine"): what answers the protocol engine's
 * commands. One server per process holds the store (libmvcc on RocksDB in
 * data_dir, or in memory), the catalog cache and the global variables;
 * one session per connection runs its statements:
 *
 *   struct sql_server *srv;
 *   sql_server_open(&(struct sql_server_options){.data_dir = dir}, &srv,
 *                   err, sizeof(err));
 *   per connection:
 *     struct sql_session *s;
 *     sql_session_create(srv, connection_id, &s);
 *     opts.exec = sql_session_executor(s);
 *     ... sql_session_destroy(s) after sql_proto_conn_destroy
 *   sql_server_close(srv);          // after every session is destroyed
 *
 * A session answers during the execute() call. Server and sessions are
 * used from one thread (sqld's event loop), or, with opts.concurrent,
 * from any threads as long as each session runs one call at a time
 * (sql_session_create, its execute(), sql_session_destroy).
 * ===================================================================== */
struct sql_server;  /* opaque */
struct sql_session; /* opaque */
struct mvcc_client_opts; /* libmvcc's 2PC client options (<mvcc.h>) */

/* What the placement driver knows of the cluster, for
 * information_schema.TIKV_STORE_STATUS, TIKV_REGION_STATUS,
 * TIKV_REGION_PEERS and SHOW TABLE t REGIONS (DESIGN.md "Cluster
 * tables"). The embedding program (sqld on a cluster) supplies the calls;
 * libsql copies what it is handed during each emit and never keeps the
 * pointers. Calls run on the session's thread, the statement lock held
 * shared. */
struct sql_cluster_store {
    uint64_t id;              /* store id */
    const char *address;      /* host:port */
    const char *state;        /* "Up", "Offline", "Tombstone", "Down" */
    uint64_t leader_count;    /* regions it leads (PD's map) */
    uint64_t region_count;    /* regions with a peer on it (PD's map) */
    uint64_t capacity;        /* bytes of its disk; 0 unknown */
    uint64_t available;       /* bytes free; 0 unknown */
    uint64_t region_size;     /* sum of its regions' approximate bytes */
    int64_t heartbeat_age_ms; /* since its last heartbeat; -1 unknown */
};
struct sql_cluster_peer {
    uint64_t id;       /* peer id */
    uint64_t store_id; /* the store holding it */
    bool learner;      /* a non-voting learner */
    bool leader;       /* the region's leader */
    bool down;         /* the leader reports it down */
};
struct sql_cluster_region {
    uint64_t id;                          /* region id */
    const uint8_t *start_key;             /* first key ("" = -inf) */
    size_t start_len;                     /* its bytes */
    const uint8_t *end_key;               /* end, exclusive ("" = +inf) */
    size_t end_len;                       /* its bytes */
    uint64_t conf_ver;                    /* epoch: membership changes */
    uint64_t version;                     /* epoch: splits and merges */
    uint64_t approx_size;                 /* bytes, approximate */
    uint64_t approx_keys;                 /* keys, approximate */
    uint32_t n_peers;                     /* entries of peers */
    const struct sql_cluster_peer *peers; /* its replicas */
};
/* emit returns 0 to go on, or a negative code (stop, return it). */
typedef int (*sql_cluster_store_fn)(void *arg,
                                    const struct sql_cluster_store *st);
typedef int (*sql_cluster_region_fn)(void *arg,
                                     const struct sql_cluster_region *r);
struct sql_cluster_info {
    void *ctx; /* passed to each call */
    /* Every store, in id order. 0 or a negative code with err filled. */
    int (*stores)(void *ctx, sql_cluster_store_fn emit, void *arg,
                  char *err, size_t errlen);
    /* The regions meeting [start, end) in key order (end_len 0: to the
     * end of the key space). 0 or a negative code with err filled. */
    int (*regions)(void *ctx, const uint8_t *start, size_t start_len,
                   const uint8_t *end, size_t end_len,
                   sql_cluster_region_fn emit, void *arg, char *err,
                   size_t errlen);
    /* The cluster version: the lowest libmvcc version of the stores
     * (MVCC_VERSION_NUMBER) as pdd keeps it, which only rises (libpd
     * DESIGN "Store versions"); 0 unknown. Asked by a pessimistic
     * transaction writing an index key until it answers
     * MVCC_VERSION_PREWRITE_CHECK or more, then never again: keep it
     * cheap (cache it, ask pdd now and then). NULL: unknown, and the
     * index keys are locked at COMMIT (DESIGN.md "When it is skipped"). */
    uint32_t (*cluster_version)(void *ctx);
};

struct sql_server_options {
    const char *data_dir; /* RocksDB directory (created if missing); NULL:
                             in memory, gone at close. Unused with
                             cluster. */
    bool sync;            /* fsync every commit */
    const char *version;  /* @@version (copied); NULL: "8.0.11-dsql" */
    /* Sessions run on several threads (one command per session at a
     * time), their statements at the same time: each holds the statement
     * lock shared, DDL, account changes and SET GLOBAL hold it alone
     * (DESIGN.md "Concurrency"). false: every session on one thread,
     * nothing locks. */
    bool concurrent;
    /* Store through this 2PC client configuration instead of a local
     * store: a transport to the cluster and its TSO (libregion's cluster
     * transport and PD in sqld). Copied; the transport's and TSO's
     * contexts are borrowed until sql_server_close (async commit and 1PC
     * as it says). NULL: the local store in data_dir. */
    const struct mvcc_client_opts *cluster;
    /* With cluster (other servers may share the store): how long a
     * server trusts its catalog cache before it reads the schema version
     * again (at a statement's start), and the unit DDL waits in for the
     * other servers (DESIGN.md "Schema changes across servers"). 0: 1000
     * ms. */
    uint32_t schema_lease_ms;
    /* With cluster: the cluster's GC safe points (sqld: PD's), which
     * sql_server_gc holds back and moves (DESIGN.md "GC"). Copied; ctx
     * borrowed until sql_server_close. NULL: sql_server_gc answers
     * -ENOTSUP on the cluster. */
    const struct sql_gc_cluster *gc_cluster;
    /* A new store (no accounts yet) gets 'root'@'%' with every privilege
     * and this password (copied); NULL or "": no password. Ignored once
     * accounts exist. */
    const char *root_password;
    /* KILL CONNECTION n: called with n (on the killing session's thread,
     * holding the statement lock shared) so the caller closes that connection
     * (see sql_session_killed); NULL: the caller polls. */
    void (*on_kill)(void *ctx, uint32_t connection_id);
    void *kill_ctx; /* passed to on_kill */
    /* The caller serves TLS (@@have_ssl YES, else DISABLED). */
    bool have_ssl;
    /* The initial @@global.require_secure_transport. */
    bool require_secure_transport;
    /* MySQL's caching_sha2_password cache: an account's fast path opens
     * only after a full authentication (the password in clear, over TLS)
     * since the server started or the password changed. false: the
     * stored verifier always allows the fast path (no full auth). */
    bool sha2_cache;
    /* The cluster's stores and regions (copied; ctx borrowed until
     * sql_server_close). NULL: the cluster tables are empty and SHOW
     * TABLE t REGIONS answers error 1105. */
    const struct sql_cluster_info *cluster_info;
    /* The initial @@global.tidb_mem_quota_query: bytes one statement's
     * operators may hold (DESIGN.md "Memory limits"). 0: 1 GiB;
     * UINT64_MAX: no limit. */
    uint64_t mem_quota_query;
    /* The initial @@global.txn_mode (TiDB's tidb_txn_mode): "OPTIMISTIC"
     * or "PESSIMISTIC", any case; NULL: OPTIMISTIC. A value not one of
     * them fails the open. */
    const char *txn_mode;
    /* The message for a result code the store answered that is neither
     * libmvcc's nor libsql's nor an errno (a cluster's PD, region or RPC
     * codes); NULL, or a NULL answer: the number alone. Error 1105's text
     * is "storage error: <message> (<code>)". */
    const char *(*kv_strerror)(int rc);
    /* The MySQL error number for such a code, or 0 for 1105 (sqld: a
     * read kvd refused as below the GC safe point is TiDB's 9006); NULL:
     * 1105 for all. The text is kv_strerror's, as for 1105. */
    int (*kv_errno)(int rc);
};

/* Counters since sql_server_open (atomic reads; for a status page). */
struct sql_server_counters {
    uint64_t index_lock_commits; /* pessimistic commits that locked the
                                    index keys they wrote (a store might
                                    lack the prewrite check: DESIGN.md
                                    "When it is skipped") */
    uint64_t index_keys_locked;  /* the keys those commits locked */
};
void sql_server_counters(struct sql_server *srv,
                         struct sql_server_counters *out);

/* One round of MVCC garbage collection (DESIGN.md "GC"), safe to run on
 * any thread beside sessions: the safe point is life_ms before now, or
 * the oldest open transaction's start if older, and never goes down;
 * locks of transactions below it are resolved, then the versions no read
 * at or above it can see are removed: by this call on the store in this
 * process; on a cluster by the stores, once the round publishes the safe
 * point through gc_cluster (below). 0 with *out; SQL_GC_LIVE_LOCK
 * (nothing removed or published: a live transaction holds a lock below
 * the safe point; try again next round); -ENOTSUP on a cluster without
 * gc_cluster; another error (the hooks' own codes pass through). */
struct sql_gc_stats {
    uint64_t safe_point;       /* a TSO timestamp: no read below it */
    uint64_t locks_resolved;   /* locks met below it this round */
    uint64_t versions_removed; /* version records removed this round (0
                                  on a cluster: the stores count theirs) */
};
/* A cluster's safe points, for sql_server_gc: both return 0 or an error
 * code of the caller's (see sql_server_options.kv_strerror). */
struct sql_gc_cluster {
    void *ctx; /* passed to each call */
    /* Hold the versions this server's transactions read: register floor
     * (no open snapshot of this server is below it) for a while, raised
     * to the cluster's GC safe point if below it; *min receives the
     * lowest such floor of every server and service, *current the
     * cluster's GC safe point now. */
    int (*hold)(void *ctx, uint64_t floor, uint64_t *min, uint64_t *current);
    /* Publish sp as the cluster's GC safe point (its locks below are
     * resolved); *published receives the one in force after (the
     * cluster may keep it lower for a service that registered since). */
    int (*publish)(void *ctx, uint64_t sp, uint64_t *published);
};
#define SQL_GC_LIVE_LOCK 1
int sql_server_gc(struct sql_server *srv, uint64_t life_ms,
                  struct sql_gc_stats *out);

/* Open the store and read the catalog. 0, -ENOMEM, or another error with
 * errmsg (if not NULL) saying why. */
int sql_server_open(const struct sql_server_options *opts,
                    struct sql_server **out, char *errmsg, size_t errmsg_len);
void sql_server_close(struct sql_server *srv); /* NULL: no-op */

/* A session for one connection (connection_id as in the handshake).
 * Returns 0 or -ENOMEM. Destroying it rolls back its open transaction. */
int sql_session_create(struct sql_server *srv, uint32_t connection_id,
                       struct sql_session **out);
void sql_session_destroy(struct sql_session *s); /* NULL: no-op */

/* The executor to put in sql_proto_options.exec (s is borrowed: it must
 * outlive the protocol connection). */
struct sql_executor sql_session_executor(struct sql_session *s);

/* Runs cmd now, on the calling thread, when it is a short read that
 * cannot wait for another session: a SELECT (COM_QUERY of one statement,
 * or COM_STMT_EXECUTE) whose plan reads points without a lock, on the
 * store in this process, with the statement lock free to take at once.
 * 1: it ran and answered into c, as the executor would have; 0: nothing
 * was done (run cmd through the executor); negative: as the executor's
 * execute. For an embedding program whose executor hands commands to
 * other threads (sqld): a quick command skips the hand-off. */
int sql_session_try_quick(struct sql_session *s, struct sql_proto_conn *c,
                          const struct sql_command *cmd);

/* A point read whose row the caller reads itself, so that its thread
 * need not wait for a store across the network (sqld's loop thread on
 * the cluster): in autocommit, or inside an open transaction that has
 * written and locked nothing yet. Call with given false: 2 when cmd is a
 * quick SELECT (as for sql_session_try_quick, the statement lock aside)
 * that reads exactly one row key, key and key_len naming it and ts the
 * version: MVCC_TS_MAX, the latest committed (read it linearizably: a
 * leader under its lease), or the open transaction's start_ts (read the
 * newest version at or below it, as any transactional read: a lock in
 * the way is no answer); nothing answered; the caller reads it and calls
 * again with given true, value/value_len and found (false: no such key)
 * filled, key, key_len and ts unchanged, before any other call on s.
 * 1: cmd ran and was answered into c (it read nothing); 0: nothing was
 * done (run cmd through the executor, as also after a second call
 * answering 0: a plan or the schema changed in between, or the statement
 * read otherwise); negative: as the executor's execute. A transaction
 * stays open across both calls. */
struct sql_point_read
{
    uint8_t key[64];      /* out: the row key to read */
    size_t key_len;       /* its length */
    uint64_t ts;          /* out: the version to read it at */
    bool given;           /* in: the second call: the fields below */
    bool found;           /* in: the key has a value */
    const uint8_t *value; /* in: that value, borrowed for the call */
    size_t value_len;     /* its length */
};
int sql_session_point_read(struct sql_session *s, struct sql_proto_conn *c,
                           const struct sql_command *cmd,
                           struct sql_point_read *pr);

/* The auth provider to put in sql_proto_options.auth: the server's
 * accounts, matched as MySQL does (most specific host first), and the
 * account found is the one the session's privileges come from. s is
 * borrowed like the executor's. Thread-safe against running statements
 * (it takes only the account lock). */
struct sql_auth_provider sql_session_auth(struct sql_session *s);

/* KILL CONNECTION reached s: close its connection once the current
 * answer is written (later commands only answer 1317). */
bool sql_session_killed(const struct sql_session *s);

/* =====================================================================
 * The coprocessor's side next to the data (DESIGN.md "Coprocessor"): kvd
 * (or any store holder) answers sqld's pushed-down table scans with it.
 * It has the shape of libmvcc's mvcc_cop_handler, so it can be given to
 * mvcc_local_transport_set_cop as it is. It decodes the request req
 * (bytes from the network: a malformed one is SQL_EPROTO, never a
 * crash), reads the table's rows in [start, end) (end NULL: unbounded)
 * at ts from s, keeps those the request's conditions accept and answers
 * them in *resp (mvcc_malloc'd; the caller mvcc_frees it). 0, MVCC_LOCKED
 * (res->locks: a lock at or below ts in the range), SQL_EPROTO, -ENOMEM
 * or another libmvcc code (res->errmsg). ctx is unused. Thread-safe.
 * ===================================================================== */
struct mvcc_store;  /* <mvcc.h> */
struct mvcc_result; /* <mvcc.h> */
int sql_cop_run(void *ctx, struct mvcc_store *s, const void *start,
                size_t start_len, const void *end, size_t end_len,
                uint64_t ts, const void *req, size_t req_len, uint8_t **resp,
                size_t *resp_len, struct mvcc_result *res);
/* What a sql_cop_run answer says of its work: keys it read and rows (or
 * partial groups) it carries, for a store's statistics. 0 or SQL_EPROTO. */
int sql_cop_answer_counts(const uint8_t *resp, size_t resp_len,
                          uint64_t *nread, uint64_t *nrows);

#ifdef __cplusplus
}
#endif

#endif /* SQL_H */

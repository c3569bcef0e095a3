/* proto_int.h: the MySQL protocol engine's private state, shared by
 * proto.c (framing, handshake, authentication, command dispatch) and
 * reply.c (the result writer). DESIGN.md "MySQL protocol" explains it.
 */
#ifndef SQL_PROTO_INT_H
#define SQL_PROTO_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sql_int.h"
#include "wire.h"

/* Packets before authentication completes are at most this big: an
 * unauthenticated peer must not make us buffer max_allowed_packet. */
#define SQL__PREAUTH_MAX 65536u
/* Prepared statements one connection may hold (MySQL's default
 * max_prepared_stmt_count is server-wide; this bounds one client). */
#define SQL__MAX_STMTS 16382u

/* Connection states (DESIGN.md has the diagram). */
enum {
    SQL__ST_NEW = 0,     /* created, start() not called */
    SQL__ST_GREETED,     /* handshake sent: expect a response / SSL req */
    SQL__ST_TLS_WAIT,    /* SSL request seen: caller upgrades to TLS */
    SQL__ST_AUTH_SWITCH, /* auth switch request sent: expect its answer */
    SQL__ST_SHA2_FULL,   /* caching_sha2 full auth: expect cleartext */
    SQL__ST_AUTH_DB,     /* authenticated; the handshake's db in flight */
    SQL__ST_IDLE,        /* command phase: expect a command */
    SQL__ST_BUSY,        /* a command's answer is not complete */
    SQL__ST_CLOSED       /* want_close: no more input is read */
};

/* What the answer to the command in flight expects next. */
enum {
    SQL__R_NONE = 0, /* no command in flight */
    SQL__R_START,    /* the first packet of a (next) result */
    SQL__R_COLDEFS,  /* column definitions of a result set */
    SQL__R_ROWS,     /* rows, or the end of the result set */
    SQL__R_PREPDEFS  /* parameter then column definitions of a prepare */
};

/* What a row encoder needs of a column. */
struct sql__colinfo {
    uint8_t type;     /* enum sql_mysql_type */
    uint8_t decimals; /* fractional digits; 31 = not fixed */
    uint16_t flags;   /* SQL_COLFLAG_* */
};

/* A prepared statement as the engine knows it. */
struct sql__stmt {
    uint32_t id;              /* the id the client uses; 0 = free slot */
    uint16_t nparams;         /* parameters the executor declared */
    uint16_t ncolumns;        /* result columns the executor declared */
    uint8_t *types;           /* 2 bytes per parameter, last bound */
    bool types_bound;         /* a COM_STMT_EXECUTE has sent types */
    struct sql__buf *longs;   /* per parameter: SEND_LONG_DATA bytes */
    bool *has_long;           /* per parameter: long data was sent */
    bool long_error;          /* SEND_LONG_DATA named a bad parameter */
};

struct sql_proto_conn {
    struct sql_proto_options opts; /* copied; strings point at ours */
    char *server_version;          /* our copy */
    char *client_host;             /* our copy */
    uint8_t scramble[20];          /* the nonce sent, bytes 1..127 */
    uint32_t server_caps;          /* capabilities offered */
    uint32_t caps;                 /* agreed with the client */
    uint8_t client_charset;        /* collation id the client asked for */
    int state;                     /* SQL__ST_* */
    bool tls;                      /* the transport is TLS now */
    bool full_auth;                /* the password was checked in clear
                                      (caching_sha2 full authentication) */
    bool want_close;               /* close after the output drains */

    struct sql__buf in;  /* client bytes not yet parsed */
    size_t in_off;       /* parse position in in */
    struct sql__buf pkt; /* the current command's joined payload */
    bool joining;        /* pkt holds the first parts of a split packet */
    uint8_t seq;         /* sequence id expected of the next packet */
    struct sql__buf out; /* bytes for the client */
    size_t out_off;      /* first byte not yet consumed */
    uint8_t out_seq;     /* sequence id of the next packet we send */

    char *user;               /* user named in the handshake response */
    char *db;                 /* current database, NULL none */
    char *pending_db;         /* INIT_DB in flight: db if it succeeds */
    struct sql_account acct;  /* the account being authenticated */
    bool acct_found;          /* lookup found it */
    int plugin;               /* plugin in use (enum sql_auth_plugin) */
    bool multi_statements;    /* COM_QUERY may hold several statements */
    uint16_t status;          /* last server status reported */

    int reply;                    /* SQL__R_* */
    int cmd_kind;                 /* enum sql_command_kind in flight */
    bool binary_rows;             /* the result uses the binary protocol */
    size_t ncols;                 /* columns of the current result */
    size_t cols_seen;             /* definitions written so far */
    struct sql__colinfo *cols;    /* per column, for the row encoder */
    size_t cols_cap;              /* entries allocated in cols */
    uint16_t prep_params;         /* PREPARE: parameters declared */
    uint32_t prep_id;             /* PREPARE/EXECUTE: statement id */

    struct sql__stmt *stmts;      /* prepared statements */
    size_t nstmts;                /* slots in stmts */
    uint32_t next_stmt_id;        /* id of the next prepare */
    struct sql_param *params;     /* EXECUTE: decoded parameters */
    size_t params_cap;            /* entries allocated in params */

    char errmsg[256];             /* detail of the last protocol error */
};

/* proto.c */
struct sql__stmt *sql__stmt_find(struct sql_proto_conn *c, uint32_t id);
int sql__stmt_add(struct sql_proto_conn *c, uint32_t id, uint16_t nparams,
                  uint16_t ncolumns);
/* Drop a statement the client never fully learnt (no notification). */
void sql__stmt_forget(struct sql_proto_conn *c, uint32_t id);
/* The answer in flight is complete. */
void sql__reply_done(struct sql_proto_conn *c, bool ok);

/* reply.c: packet writers shared with proto.c. */
int sql__send_ok(struct sql_proto_conn *c, uint8_t header,
                 const struct sql_ok *ok);
int sql__send_err(struct sql_proto_conn *c, uint16_t code,
                  const char *sqlstate, const char *msg);
int sql__send_eof(struct sql_proto_conn *c, uint16_t warnings,
                  uint16_t status);
/* The end marker of a result: EOF, or OK with header 0xFE when the client
 * set CLIENT_DEPRECATE_EOF. */
int sql__send_end(struct sql_proto_conn *c, const struct sql_ok *ok);
/* Start a packet in c->out (reserve the header); finish it (frame). */
int sql__pkt_begin(struct sql_proto_conn *c, size_t *start);
int sql__pkt_end(struct sql_proto_conn *c, size_t start);

/* auth.c */
bool sql__auth_native_check(const uint8_t scramble[20],
                            const uint8_t stored[20], const uint8_t *token,
                            size_t len);
bool sql__auth_sha2_check(const uint8_t scramble[20],
                          const uint8_t stored[32], const uint8_t *token,
                          size_t len);
bool sql__auth_sha2_check_clear(const uint8_t stored[32],
                                const char *password, size_t len);

#endif /* SQL_PROTO_INT_H */

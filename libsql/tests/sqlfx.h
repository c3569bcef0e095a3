/* sqlfx.h: a test fixture that runs SQL through a real server and session
 * over the protocol engine (in memory, no sockets) and renders each answer
 * as text the suites compare exactly:
 *   "OK <affected> <last_insert_id> <warnings>"
 *   "ERR <code> <message>"
 *   rows: cells joined by '|', rows by '\n', NULL as "NULL"
 * (the column names first, when sqlfx.headers is set).
 */
#ifndef SQL_TESTS_SQLFX_H
#define SQL_TESTS_SQLFX_H

#include <stdbool.h>
#include <stddef.h>

#include <mvcc.h>

#include "sql.h"

struct sqlfx
{
    struct sql_server *srv;       /* shared by the connections */
    char dir[64];                 /* RocksDB dir, "" for memory */
    bool quick;                   /* connections made after it is set try
                                     sql_session_try_quick first, as sqld
                                     does (counted in nquick) */
    bool point_reads;             /* ... try sql_session_point_read first,
                                     reading the row between its halves
                                     as sqld's loop does on the cluster
                                     (counted in npoint, nhalves) */
    bool point_wrong_key;         /* ... and give the wrong key's row */
};

struct sqlfx_conn
{
    struct sqlfx *fx;             /* the server */
    struct sql_session *s;        /* the session */
    struct sql_proto_conn *c;     /* the protocol engine */
    bool headers;                 /* print column names first */
    char out[65536];              /* the last answer */
    void *pk;                     /* sqlfx_q's packet index (per
                                     connection: test_concurrent runs
                                     connections on threads) */
    unsigned nquick;              /* commands sql_session_try_quick ran
                                     (fx->quick) */
    unsigned npoint;              /* commands sql_session_point_read
                                     answered (fx->point_reads) */
    unsigned nhalves;             /* of which in two halves */
};

/* Open a server (dir NULL: in memory; else a fresh temporary directory
 * that sqlfx_close removes unless keep). */
void sqlfx_open(struct sqlfx *f, bool rocks);
void sqlfx_reopen(struct sqlfx *f); /* close and open the same dir */
void sqlfx_close(struct sqlfx *f);
void sqlfx_connect(struct sqlfx *f, struct sqlfx_conn *c, unsigned id);
void sqlfx_disconnect(struct sqlfx_conn *c);
/* What most suites' set-up is: an in-memory server, connection 1 on it,
 * and database `d` created and in use (each step asserted). close_db
 * undoes it. */
void sqlfx_open_db(struct sqlfx *f, struct sqlfx_conn *c);
void sqlfx_close_db(struct sqlfx *f, struct sqlfx_conn *c);

/* Two servers on one in-memory store, as two sqld on a cluster are
 * (schema_sync.c keeps their catalogs in step, with a short lease so DDL
 * waits stay short): a session on each (ids 1 and 2), database `d`
 * created through a and in use on both. */
struct sqlfx_two
{
    struct mvcc_engine *eng;      /* memory engine */
    struct mvcc_store *store;     /* Percolator over it */
    struct mvcc_transport tr;     /* in-process transport */
    struct mvcc_local_tso tso;    /* shared timestamps */
    struct mvcc_client_opts co;   /* the "cluster" both servers use */
    struct sqlfx a, b;            /* the two servers */
    struct sqlfx_conn ca, cb;     /* a session on each */
};
void sqlfx_two_open(struct sqlfx_two *w, unsigned lease_ms);
/* The store and w->co alone, no server yet (a test may replace calls of
 * w->co.transport first); sqlfx_two_store_close frees what it made. */
void sqlfx_two_store(struct sqlfx_two *w);
void sqlfx_two_store_close(struct sqlfx_two *w);
/* One server on w's store (w->co set): what sqlfx_two_open does twice. */
void sqlfx_two_server(struct sqlfx_two *w, struct sqlfx *f,
                      unsigned lease_ms);
void sqlfx_two_close(struct sqlfx_two *w);
/* Run one COM_QUERY and return the rendered answer (c->out). */
const char *sqlfx_q(struct sqlfx_conn *c, const char *sql);

/* COM_STMT_PREPARE: the statement id and its parameter and column
 * counts, or -1 with c->out holding "ERR code message". */
int sqlfx_prepare(struct sqlfx_conn *c, const char *sql, unsigned *nparams,
                  unsigned *ncols);
/* COM_STMT_EXECUTE with text parameters (digits go as BIGINT, "NULL" as
 * NULL, the rest as strings); the answer rendered as sqlfx_q does. */
const char *sqlfx_execute(struct sqlfx_conn *c, int id, unsigned nparams,
                          const char *const *params);
void sqlfx_close_stmt(struct sqlfx_conn *c, int id);

#endif /* SQL_TESTS_SQLFX_H */

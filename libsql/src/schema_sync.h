/* schema_sync.h: several SQL servers on one store keep their catalog
 * caches in step (schema lease, per-server version registry, the
 * cluster-wide DDL lock, the commit-time schema check) and run ADD/DROP
 * INDEX through the F1 online states (ddl_online.c). DESIGN.md "Schema
 * changes across servers" has the protocol and why it is safe.
 *
 * Meta keys (beside catalog.h's):
 *   "mDDLOwner"             DDL lock: server id(8 LE), connection id(4 LE),
 *                           lease end in wall-clock ms(8 LE)
 *   "mSchemaSrv" id(8 BE)   a server's registry entry: loaded schema
 *                           version(8 LE), lease end in wall-clock ms(8 LE)
 */
#ifndef SQL_SCHEMA_SYNC_H
#define SQL_SCHEMA_SYNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sql_server;
struct sql_session;
struct sql_server_options;
struct ast_stmt;
struct ast_indexdef;
struct sql_tableinfo;
struct sql_idxinfo;
struct sql_datum;
struct sql__buf;
struct sql_kvtxn;

#define SQL_SCHEMA_LEASE_MS 1000 /* default schema lease */
#define SQL_TXN_TABLES 16        /* table ids a transaction remembers */
#define SQL_SYNC_TRIES 8         /* validations made while they conflict,
                                    reloads while the version moves */

/* Per server; NULL on a server alone on its store. */
struct sql_sync
{
    uint64_t id;             /* this server's registry id (random) */
    int64_t lease_ms;        /* the schema lease */
    int64_t checked_ms;      /* wall ms before the version read that last
                                validated the cache (atomic) */
    pthread_mutex_t mu;      /* one validation at a time */
    void (*validate_hook)(void *ctx, uint64_t ver); /* tests: run by a
                                validation between its version read (ver,
                                the cache's) and its commit; NULL none */
    void *validate_hook_ctx; /* its ctx */
};

/* Per session: what the open transaction's commit check needs. */
struct sql_txn_schema
{
    uint64_t ver;                    /* catalog version when the
                                        transaction began */
    int64_t tables[SQL_TXN_TABLES];  /* tables it wrote */
    unsigned n;                      /* their count */
    bool many;                       /* more than SQL_TXN_TABLES */
};

/* Server open/close: with opts->cluster, register this server (the
 * catalog is loaded). */
int sql__sync_open(struct sql_server *srv, const struct sql_server_options *o,
                   char *errmsg, size_t errmsg_len);
void sql__sync_close(struct sql_server *srv);

/* Statement start: validate the cache if the lease ran out, reloading
 * the catalog when another server changed it. The statement holds no
 * catalog pointer yet. 0 or an answered error (SQL_EQUERY). */
int sql__sync_stmt_begin(struct sql_session *s);
/* A transaction begins / a statement's writes join it (key by key). */
void sql__sync_txn_begin(struct sql_session *s);
void sql__sync_note_key(struct sql_session *s, const uint8_t *key,
                        size_t klen);
/* Before committing t, a transaction with writes: 8028 if a table it
 * wrote changed since it began; else t's commit is bounded by the schema
 * lease (a later commit_ts only if the stored version is still the
 * cache's: DESIGN.md "Why a commit never writes an old layout"). */
int sql__sync_commit_check(struct sql_session *s, struct sql_kvtxn *t);
/* The 8028 answer: a table the transaction wrote changed under it. */
int sql__sync_changed(struct sql_session *s);

/* DDL: take the cluster-wide DDL lock (waiting for another server's
 * DDL) and bring the cache up to date; release it. No-ops alone. */
int sql__sync_ddl_begin(struct sql_session *s);
void sql__sync_ddl_end(struct sql_session *s);
/* Extend the DDL lock's lease: SQL_EQUERY (8214-like) if it was lost. */
int sql__sync_ddl_renew(struct sql_session *s);
/* Wait until every live server has loaded version ver (or its lease
 * ran out), the statement lock let go meanwhile. */
int sql__sync_wait(struct sql_session *s, uint64_t ver);
/* Reload the catalog now (the statement lock taken alone inside). */
int sql__sync_refresh(struct sql_session *s, bool force);

/* Online index DDL (ddl_online.c): true if st is one it runs (CREATE /
 * DROP INDEX, ALTER TABLE with one ADD/DROP INDEX) and the server syncs
 * with others; run it (the DDL lock and statement lock handled inside). */
bool sql__ddl_online_takes(const struct sql_session *s,
                           const struct ast_stmt *st);
int sql__ddl_online_run(struct sql_session *s, const struct ast_stmt *st);
/* ADMIN CHECK TABLE (OK, or 8003 on the first mismatch) and CHECK TABLE
 * (MySQL's result set): every row has each index entry and each entry
 * its row, with the same values (ddl_online.c). */
int sql__admin_check_tables(struct sql_session *s, const struct ast_stmt *st);

/* ddl.c's index definition steps, for ddl_online.c: add ix to t (id
 * given; its state is the caller's to set), and remove index x of t
 * (column key flags cleared). */
int sql__ddl_add_index(struct sql_session *s, struct sql_tableinfo *t,
                       const struct ast_indexdef *ix, int64_t id);
void sql__ddl_drop_index(struct sql_tableinfo *t, uint32_t x);
/* dml.c: the key of index ix's entry for row (handle h) of t into kb;
 * *unique_key: the key holds no handle (its value is the handle). */
int sql__index_entry_key(const struct sql_tableinfo *t,
                         const struct sql_idxinfo *ix,
                         const struct sql_datum *row, int64_t h,
                         struct sql__buf *kb, bool *unique_key);
/* The values of ix in row as MySQL's 1062 message shows them. */
void sql__index_dup_text(struct sql_session *s, const struct sql_tableinfo *t,
                         const struct sql_idxinfo *ix,
                         const struct sql_datum *row, char *out, size_t len);

#endif /* SQL_SCHEMA_SYNC_H */

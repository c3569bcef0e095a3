/* catalog.h: databases, tables, columns and indexes, as stored under the
 * meta prefix of the key space and cached in the server (DESIGN.md
 * "Storage mapping"). Every change is a key-value transaction that also
 * bumps the schema version, so concurrent DDL conflicts instead of
 * interleaving; the cache is changed only after that commit.
 *
 * Meta keys (all start with 'm'):
 *   "mNextID"                     next id for databases, tables, indexes
 *   "mSchemaVer"                  schema version (u64 LE)
 *   "mDB" dbID(8)                 a database record
 *   "mTbl" dbID(8) tableID(8)     a table record (columns and indexes)
 *   "mAutoID" tableID(8)          last AUTO_INCREMENT / row id handed out
 * IDs are tablecodec's sign-flipped big-endian; counters are u64 LE.
 */
#ifndef SQL_CATALOG_H
#define SQL_CATALOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "kv.h"
#include "value.h"
#include "wire.h"

struct sql_tstats;

struct sql_colinfo
{
    uint32_t id;             /* stable id (row form), never reused */
    const char *name;        /* column name */
    struct sql_ftype type;   /* static type (NOT_NULL etc. in flags) */
    const char *type_sql;    /* type as SHOW prints it: "int", "varchar(20)" */
    bool not_null;           /* NOT NULL (PRIMARY KEY implies it) */
    bool auto_inc;           /* AUTO_INCREMENT */
    bool has_default;        /* a DEFAULT clause was given */
    const char *default_sql; /* DEFAULT expression as canonical SQL;
                                NULL with has_default: DEFAULT NULL */
    bool on_update_now;      /* ON UPDATE CURRENT_TIMESTAMP */
    const char *comment;     /* COMMENT, or NULL */
};

struct sql_idxinfo
{
    int64_t id;              /* index id (in index keys) */
    const char *name;        /* "PRIMARY" for the primary key */
    bool primary;            /* PRIMARY KEY (stored as an index unless it
                                is the integer handle) */
    bool unique;             /* UNIQUE or PRIMARY */
    uint32_t ncols;          /* key columns */
    uint32_t *cols;          /* their positions in the table's columns */
    int32_t *prefix;         /* prefix lengths, -1 for whole values */
    const char *comment;     /* COMMENT, or NULL */
    uint8_t state;           /* SQL_IDX_PUBLIC, or an online schema-change
                                state (schema_sync.h; DESIGN.md "Schema
                                changes across servers") */
};

/* Index states of the online schema change (F1): DML maintains the
 * entries of a delete-only index on deletes only, of a write-only or
 * write-reorganization index on every write; only public indexes are
 * read (planner) or shown. Stored in the index's flag byte. */
enum sql_idx_state
{
    SQL_IDX_PUBLIC = 0,
    SQL_IDX_DELETE_ONLY = 1,
    SQL_IDX_WRITE_ONLY = 2,
    SQL_IDX_WRITE_REORG = 3,
};

struct sql_tableinfo
{
    int64_t id;               /* table id (in row and index keys) */
    int64_t db_id;            /* its database */
    const char *name;         /* table name */
    struct sql_colinfo *cols; /* columns in order */
    uint32_t ncols;           /* their count */
    struct sql_idxinfo *idx;  /* indexes (the PK first when stored) */
    uint32_t nidx;            /* their count */
    int32_t handle_col;       /* column whose value is the row handle (an
                                 integer PRIMARY KEY), -1: hidden row id */
    int32_t pk_handle_idx;    /* PRIMARY KEY entry in idx that is the
                                 handle (not stored as index keys), or -1 */
    uint32_t next_col_id;     /* next column id */
    uint64_t auto_inc_start;  /* AUTO_INCREMENT= table option (0 none) */
    const char *comment;      /* table COMMENT, or NULL */
    const char *charset;      /* DEFAULT CHARSET */
    const char *collate;      /* COLLATE */
    uint64_t ver;             /* schema version at which this table's
                                 record last changed as this cache saw
                                 it (not stored): a transaction that
                                 wrote the table under an older version
                                 fails its commit (schema_sync.c) */
    const char *view_sql;     /* a view (view.c): its SELECT as canonical
                                 SQL, tables qualified; NULL for a table */
    struct sql_tstats *stats; /* ANALYZE's statistics (stats.h), owned, or
                                 NULL; a copy has none */
    struct sql_arena *arena;  /* owns this struct and everything above */
};

struct sql_dbinfo
{
    int64_t id;              /* database id */
    const char *name;        /* its name */
    const char *charset;     /* DEFAULT CHARACTER SET */
    const char *collate;     /* DEFAULT COLLATE */
    struct sql_arena *arena; /* owns this struct and its strings */
};

/* Cached AUTO_INCREMENT / row id range of a table: next <= end are ours. */
struct sql_autoid
{
    int64_t table_id; /* the table */
    uint64_t next;    /* next id to hand out */
    uint64_t end;     /* last id of the allocated range (next > end: none) */
};

struct sql_catalog
{
    uint64_t version;               /* schema version the cache reflects */
    uint64_t ddl_ver;               /* the version the running DDL's
                                       transaction bumped to (lk alone) */
    struct sql_dbinfo **dbs;        /* databases, by creation */
    size_t ndbs;                    /* their count */
    struct sql_tableinfo **tables;  /* tables of every database */
    size_t ntables;                 /* their count */
    struct sql_autoid *autoids;     /* cached id ranges (autoid_mu) */
    size_t nautoids;                /* their count (autoid_mu) */
    pthread_mutex_t autoid_mu;      /* autoids: INSERTs of sessions that
                                       share the catalog allocate at once
                                       (DESIGN.md "Concurrency") */
};

/* Read every meta record in one snapshot into a new cache. */
int sql__catalog_load(struct sql_kv *kv, struct sql_catalog **out,
                      char *errmsg, size_t errmsg_len);
void sql__catalog_free(struct sql_catalog *c); /* NULL: no-op */

/* Lookups: NULL when absent. Database and table names compare exactly
 * (lower_case_table_names=0); column and index names ignore case. */
struct sql_dbinfo *sql__catalog_db(const struct sql_catalog *c,
                                   const char *name);
struct sql_tableinfo *sql__catalog_table(const struct sql_catalog *c,
                                         int64_t db_id, const char *name);
struct sql_tableinfo *sql__catalog_table_by_id(const struct sql_catalog *c,
                                              int64_t id);
int sql__table_col(const struct sql_tableinfo *t, const char *name);
int sql__table_index(const struct sql_tableinfo *t, const char *name);

/* Cache changes after a commit: add/replace takes ownership. */
int sql__catalog_put_db(struct sql_catalog *c, struct sql_dbinfo *d);
int sql__catalog_put_table(struct sql_catalog *c, struct sql_tableinfo *t);
void sql__catalog_drop_table(struct sql_catalog *c, int64_t table_id);
void sql__catalog_drop_db(struct sql_catalog *c, int64_t db_id);
/* The next id the cached range of a table hands out, 0 if none is
 * cached (SHOW CREATE TABLE, information_schema.TABLES). */
uint64_t sql__autoid_next(struct sql_catalog *c, int64_t table_id);

/* New empty objects, each with its own arena. */
struct sql_dbinfo *sql__dbinfo_new(void);
struct sql_tableinfo *sql__tableinfo_new(void);
void sql__dbinfo_free(struct sql_dbinfo *d);
void sql__tableinfo_free(struct sql_tableinfo *t);
/* A deep copy (for ALTER TABLE). */
struct sql_tableinfo *sql__tableinfo_copy(const struct sql_tableinfo *t);

/* Record forms (DESIGN.md "Storage mapping", catalog records). */
int sql__table_encode(const struct sql_tableinfo *t, struct sql__buf *b);
int sql__table_decode(const uint8_t *p, size_t n, struct sql_tableinfo **out);
int sql__db_encode(const struct sql_dbinfo *d, struct sql__buf *b);
int sql__db_decode(const uint8_t *p, size_t n, struct sql_dbinfo **out);

/* Transactional meta writes (inside a DDL transaction). */
int sql__meta_next_id(struct sql_kvtxn *t, int64_t *out);
int sql__meta_bump_version(struct sql_kvtxn *t, uint64_t *version);
/* The stored schema version as t reads it (0 when none). */
int sql__meta_version(struct sql_kvtxn *t, uint64_t *version);
int sql__meta_put_db(struct sql_kvtxn *t, const struct sql_dbinfo *d);
int sql__meta_del_db(struct sql_kvtxn *t, int64_t db_id);
int sql__meta_put_table(struct sql_kvtxn *t, const struct sql_tableinfo *ti);
int sql__meta_del_table(struct sql_kvtxn *t, int64_t db_id, int64_t table_id);

/* Hand out ids for a table's AUTO_INCREMENT column or hidden row id:
 * *first..*first+n-1, all above min_base, from the cached range or a new
 * range taken in a transaction of its own (batch ids at a time, so
 * concurrent inserters do not conflict on the counter). */
int sql__autoid_alloc(struct sql_kv *kv, struct sql_catalog *c,
                      int64_t table_id, uint64_t n, uint64_t *first);
/* An explicit value v was inserted: later ids go above it. */
int sql__autoid_rebase(struct sql_kv *kv, struct sql_catalog *c,
                       int64_t table_id, uint64_t v);
/* Forget a table's counter (TRUNCATE, DROP). */
int sql__meta_del_autoid(struct sql_kvtxn *t, int64_t table_id);

#endif /* SQL_CATALOG_H */

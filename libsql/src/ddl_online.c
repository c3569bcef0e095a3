/* ddl_online.c: ADD INDEX and DROP INDEX through the F1 online states
 * while other servers keep writing (each state a schema version every
 * server has loaded before the next), the backfill in batches of their
 * own, and ADMIN CHECK TABLE / CHECK TABLE (schema_sync.h; DESIGN.md
 * "Schema changes across servers").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acct.h"
#include "exec.h"
#include "session.h"
#include "sql_int.h"
#include "tablecodec.h"

#define BACKFILL_BATCH 256     /* rows per backfill transaction */
#define BACKFILL_RETRIES 1000  /* a batch retried on write conflicts */
#define STEP_RETRIES 100       /* a state change retried on them */
#define DELETE_BATCH 1024      /* index entries deleted per transaction */
#define CHECK_BATCH 256        /* rows per ADMIN CHECK batch get */

enum step_op
{
    OP_ADD,    /* define the index, delete-only */
    OP_STATE,  /* move it to another state */
    OP_REMOVE, /* take it out of the table */
};

static int index_by_id(const struct sql_tableinfo *t, int64_t id)
{
    for (uint32_t i = 0; i < t->nidx; i++)
        if (t->idx[i].id == id)
            return (int)i;
    return -1;
}

static int gone(struct sql_session *s)
{
    return sql__serr(s, 8028, "HY000",
                     "Information schema is changed: the table or index of "
                     "this DDL went away while it ran");
}

/* One schema version: change the table's record (a copy of the cached
 * one) in a transaction that bumps the version, put it in the cache,
 * then wait until every server has loaded it. A write conflict at commit
 * comes back as MVCC_CONFLICT, unconverted: step runs it again. */
static int step_once(struct sql_session *s, int64_t table_id,
                     int64_t *index_id, enum step_op op,
                     const struct ast_indexdef *def, uint8_t state)
{
    int rc = sql__sync_ddl_renew(s);
    if (rc != 0)
        return rc;
    sql__sess_excl_begin(s);
    struct sql_catalog *c = s->srv->cat;
    struct sql_tableinfo *t = NULL;
    struct sql_kvtxn *txn = NULL;
    const struct sql_tableinfo *old = sql__catalog_table_by_id(c, table_id);
    if (!old) {
        rc = gone(s);
        goto out;
    }
    if (!(t = sql__tableinfo_copy(old))) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = sql__kv_begin(s->srv->kv, &txn)) != 0 ||
        (rc = sql__meta_bump_version(txn, &c->ddl_ver)) != 0) {
        rc = sql__kverr(s, rc);
        goto out;
    }
    if (op == OP_ADD) {
        if ((rc = sql__meta_next_id(txn, index_id)) != 0) {
            rc = sql__kverr(s, rc);
            goto out;
        }
        if ((rc = sql__ddl_add_index(s, t, def, *index_id)) != 0)
            goto out;
    }
    int x = index_by_id(t, *index_id);
    if (x < 0) {
        rc = gone(s);
        goto out;
    }
    if (op == OP_REMOVE)
        sql__ddl_drop_index(t, (uint32_t)x);
    else
        t->idx[x].state = op == OP_ADD ? SQL_IDX_DELETE_ONLY : state;
    if ((rc = sql__meta_put_table(txn, t)) != 0) {
        rc = sql__kverr(s, rc);
        goto out;
    }
    rc = sql__kvtxn_commit(txn);
    txn = NULL; /* commit frees it either way */
    if (rc != 0) {
        if (rc != MVCC_CONFLICT)
            rc = sql__kverr(s, rc);
        goto out;
    }
    c->version = c->ddl_ver;
    if ((rc = sql__catalog_put_table(c, t)) != 0)
        goto out;
    t = NULL;
out:
    sql__kvtxn_rollback(txn);
    sql__tableinfo_free(t);
    uint64_t ver = s->srv->cat->version;
    sql__sess_excl_end(s);
    return rc ? rc : sql__sync_wait(s, ver);
}

/* step, run again while its commit meets a write conflict (the version
 * key or the table's record written meanwhile: the state change is made
 * afresh on the newer catalog each time). */
static int step(struct sql_session *s, int64_t table_id, int64_t *index_id,
                enum step_op op, const struct ast_indexdef *def,
                uint8_t state)
{
    for (int tries = 0;; tries++) {
        int rc = step_once(s, table_id, index_id, op, def, state);
        if (rc != MVCC_CONFLICT)
            return rc;
        if (tries >= STEP_RETRIES)
            return sql__kverr(s, rc);
    }
}

/* Delete every entry of an index no server maintains any more, a batch
 * per transaction. */
static int delete_entries(struct sql_session *s, int64_t table_id,
                          int64_t index_id)
{
    uint8_t start[SQL_TC_INDEX_PREFIX_LEN], end[SQL_TC_INDEX_PREFIX_LEN];
    sql__tc_index_prefix(start, table_id, index_id);
    sql__tc_prefix_next(start, sizeof(start), end);
    struct sql_kvres res;
    sql__kvres_init(&res);
    int rc = 0;
    for (int conflicts = 0; conflicts < BACKFILL_RETRIES;) {
        struct sql_kvtxn *t;
        if ((rc = sql__kv_begin(s->srv->kv, &t)) != 0)
            break;
        rc = sql__kvtxn_scan(t, start, sizeof(start), end, sizeof(end),
                             DELETE_BATCH, false, &res);
        size_t n = rc == 0 ? res.r.npairs : 0;
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = sql__kvtxn_delete(t, res.r.pairs[i].key,
                                   res.r.pairs[i].key_len);
        if (rc != 0 || n == 0) {
            sql__kvtxn_rollback(t);
            break;
        }
        rc = sql__kvtxn_commit(t);
        if (rc == MVCC_CONFLICT)
            conflicts++;
        else if (rc != 0)
            break;
    }
    sql__kvres_reset(&res);
    return rc ? sql__kverr(s, rc) : 0;
}

/* One backfill batch: the index entries of up to batch rows from
 * *cur on, in a transaction of its own. A concurrent write of the same
 * entry (DML maintains write-only indexes) makes one of the two fail at
 * commit: the batch is then run again on a new snapshot. *done at the
 * end; a unique clash answers 1062 (SQL_EQUERY); store failures return
 * the store's code (MVCC_CONFLICT, MVCC_LOCKED: the caller retries). */
static int backfill_batch(struct sql_session *s, struct sql_xctx *x,
                          int64_t table_id, int64_t index_id,
                          struct sql__buf *cur, const uint8_t *end,
                          struct sql__buf *kb, size_t batch, bool *done)
{
    const struct sql_tableinfo *t =
        sql__catalog_table_by_id(s->srv->cat, table_id);
    int xi = t ? index_by_id(t, index_id) : -1;
    if (xi < 0)
        return gone(s);
    const struct sql_idxinfo *ix = &t->idx[xi];
    struct sql_kvtxn *txn;
    int rc = sql__kv_begin(s->srv->kv, &txn);
    if (rc != 0)
        return sql__kverr(s, rc);
    struct sql_kvres res;
    sql__kvres_init(&res);
    struct sql_arena *ra = sql__arena_create(0);
    struct sql_datum *row =
        ra ? sql__arena_alloc(ra, sizeof(*row) * (t->ncols + 1)) : NULL;
    if (!row) {
        rc = -ENOMEM;
        goto out;
    }
    x->txn = txn;
    x->ev.arena = ra;
    rc = sql__kvtxn_scan(txn, cur->p, cur->len, end, SQL_TC_PREFIX_LEN,
                         batch, false, &res);
    if (rc != 0)
        goto out; /* the store's code: the caller retries or reports */
    *done = res.r.npairs == 0;
    for (size_t i = 0; rc == 0 && i < res.r.npairs; i++) {
        const struct mvcc_kvpair *p = &res.r.pairs[i];
        int64_t h;
        if (!sql__tc_row_handle(p->key, p->key_len, table_id, &h))
            continue;
        rc = sql__exec_decode_row(x, t, h, p->value, p->value_len, row, ra);
        bool uk;
        if (rc == 0)
            rc = sql__index_entry_key(t, ix, row, h, kb, &uk);
        if (rc != 0)
            break;
        uint8_t hv[8];
        sql__tc_put_i64(hv, h);
        if (uk) {
            uint8_t *v;
            size_t vl;
            int g = sql__kvtxn_get(txn, kb->p, kb->len, &v, &vl);
            if (g == 0) {
                bool same = vl == 8 && memcmp(v, hv, 8) == 0;
                sql__kv_free(v);
                if (!same) {
                    char text[256];
                    sql__index_dup_text(s, t, ix, row, text, sizeof(text));
                    rc = sql__serr(s, 1062, "23000",
                                   "Duplicate entry '%s' for key '%s.%s'",
                                   text, t->name, ix->name);
                    break;
                }
                continue; /* DML wrote it already */
            }
            if (g != MVCC_NOTFOUND) {
                rc = g;
                break;
            }
        }
        rc = uk ? sql__kvtxn_set(txn, kb->p, kb->len, hv, 8)
                : sql__kvtxn_set(txn, kb->p, kb->len, "0", 1);
    }
    if (rc != 0 || *done)
        goto out;
    const struct mvcc_kvpair *last = &res.r.pairs[res.r.npairs - 1];
    rc = sql__kvtxn_commit(txn);
    txn = NULL;
    if (rc == 0) {
        cur->len = 0;
        rc = sql__buf_put(cur, last->key, last->key_len);
        rc = rc ? rc : sql__buf_u8(cur, 0); /* just past it */
    }
out:
    x->txn = NULL;
    sql__kvtxn_rollback(txn);
    sql__kvres_reset(&res);
    sql__arena_destroy(ra);
    return rc;
}

/* Build the entries of every row that existed before the index became
 * write-only (rows written since have theirs from DML). */
static int backfill(struct sql_session *s, int64_t table_id,
                    int64_t index_id)
{
    uint8_t start[SQL_TC_PREFIX_LEN], end[SQL_TC_PREFIX_LEN];
    sql__tc_prefix(start, table_id, 'r');
    sql__tc_prefix_next(start, sizeof(start), end);
    struct sql__buf cur = {0}, kb = {0};
    struct sql_xctx x;
    int rc = sql__xctx_init(&x, s, true);
    rc = rc ? rc : sql__buf_put(&cur, start, sizeof(start));
    /* Conflicts in a row: a batch that commits resets them. Each one
     * halves the batch (a writer busy in the range makes a big batch
     * fail again and again); a commit doubles it back towards
     * BACKFILL_BATCH. */
    int conflicts = 0;
    size_t batch = BACKFILL_BATCH;
    int64_t renewed = sql__now_us();
    bool done = false;
    while (rc == 0 && !done) {
        if (sql__sess_interrupted(s)) {
            rc = sql__sess_interrupt_err(s);
            break;
        }
        rc = backfill_batch(s, &x, table_id, index_id, &cur, end, &kb, batch,
                            &done);
        if (rc == MVCC_CONFLICT || rc == MVCC_LOCKED) {
            if (++conflicts > BACKFILL_RETRIES) {
                rc = sql__kverr(s, rc);
                break;
            }
            batch = batch > 1 ? batch / 2 : 1;
            rc = 0;
        } else if (rc == 0) {
            conflicts = 0;
            batch = batch < BACKFILL_BATCH ? batch * 2 : BACKFILL_BATCH;
        } else if (rc != SQL_EQUERY && rc != -ENOMEM) {
            rc = sql__kverr(s, rc);
            break;
        }
        /* Let the statement lock go between batches (another session
         * may need it alone) and keep the DDL lock's lease. */
        sql__sess_unlock_wait(s);
        sql__sess_relock_wait(s);
        if (rc == 0 && sql__now_us() - renewed > 1000000) {
            rc = sql__sync_ddl_renew(s);
            renewed = sql__now_us();
        }
    }
    sql__buf_free(&cur);
    sql__buf_free(&kb);
    return rc;
}

/* Undo an index that may hold entries: back to delete-only (no server
 * writes entries), out of the table, then its entries deleted. The
 * statement's error (s->err) is kept. */
static void abandon(struct sql_session *s, int64_t table_id,
                    int64_t index_id, bool written)
{
    struct sql_err keep = s->err;
    int rc = 0;
    if (written)
        rc = step(s, table_id, &index_id, OP_STATE, NULL,
                  SQL_IDX_DELETE_ONLY);
    if (rc == 0)
        rc = step(s, table_id, &index_id, OP_REMOVE, NULL, 0);
    if (rc == 0)
        (void)delete_entries(s, table_id, index_id);
    s->err = keep;
}

static int add_online(struct sql_session *s, const char *db, const char *name,
                      const struct ast_indexdef *def)
{
    struct sql_tableinfo *t;
    int rc = sql__sess_table(s, db, name, &t);
    if (rc != 0)
        return rc;
    int64_t table_id = t->id, index_id = 0;
    if ((rc = step(s, table_id, &index_id, OP_ADD, def, 0)) != 0) {
        /* Committed but the wait failed: take it out again. */
        const struct sql_tableinfo *now =
            sql__catalog_table_by_id(s->srv->cat, table_id);
        if (index_id != 0 && now && index_by_id(now, index_id) >= 0)
            abandon(s, table_id, index_id, false);
        return rc;
    }
    rc = step(s, table_id, &index_id, OP_STATE, NULL, SQL_IDX_WRITE_ONLY);
    if (rc == 0)
        rc = step(s, table_id, &index_id, OP_STATE, NULL,
                  SQL_IDX_WRITE_REORG);
    if (rc == 0)
        rc = backfill(s, table_id, index_id);
    if (rc == 0)
        rc = step(s, table_id, &index_id, OP_STATE, NULL, SQL_IDX_PUBLIC);
    if (rc != 0)
        abandon(s, table_id, index_id, true);
    return rc;
}

static int drop_online(struct sql_session *s, const char *db,
                       const char *name, const char *index)
{
    struct sql_tableinfo *t;
    int rc = sql__sess_table(s, db, name, &t);
    if (rc != 0)
        return rc;
    int x = sql__table_index(t, index);
    if (x < 0)
        return sql__serr(s, 1091, "42000",
                         "Can't DROP '%.64s'; check that column/key exists",
                         index);
    int64_t table_id = t->id, index_id = t->idx[x].id;
    if (t->idx[x].state == SQL_IDX_PUBLIC)
        rc = step(s, table_id, &index_id, OP_STATE, NULL,
                  SQL_IDX_WRITE_ONLY);
    if (rc == 0)
        rc = step(s, table_id, &index_id, OP_STATE, NULL,
                  SQL_IDX_DELETE_ONLY);
    if (rc == 0)
        rc = step(s, table_id, &index_id, OP_REMOVE, NULL, 0);
    if (rc == 0)
        rc = delete_entries(s, table_id, index_id);
    return rc;
}

static bool online_index(const struct ast_indexdef *ix)
{
    return ix->kind != AST_IDX_PRIMARY && ix->kind != AST_IDX_FOREIGN &&
           ix->kind != AST_IDX_FULLTEXT && ix->kind != AST_IDX_SPATIAL;
}

bool sql__ddl_online_takes(const struct sql_session *s,
                           const struct ast_stmt *st)
{
    if (!s->srv->sync)
        return false;
    switch (st->kind) {
    case AST_CREATE_INDEX:
        return online_index(st->index);
    case AST_DROP_INDEX:
        return strcasecmp(st->column, "PRIMARY") != 0;
    case AST_ALTER_TABLE: {
        const struct ast_alter *al = st->alter;
        if (!al || al->next)
            return false;
        return (al->kind == AST_ALTER_ADD_INDEX && online_index(al->index)) ||
               (al->kind == AST_ALTER_DROP_INDEX &&
                strcasecmp(al->name, "PRIMARY") != 0);
    }
    default:
        return false;
    }
}

int sql__ddl_online_run(struct sql_session *s, const struct ast_stmt *st)
{
    int rc = sql__sync_ddl_begin(s);
    if (rc != 0)
        return rc;
    const struct ast_alter *al = st->alter;
    if (st->kind == AST_CREATE_INDEX)
        rc = add_online(s, st->db, st->name, st->index);
    else if (st->kind == AST_DROP_INDEX)
        rc = drop_online(s, st->db, st->name, st->column);
    else if (al->kind == AST_ALTER_ADD_INDEX)
        rc = add_online(s, st->db, st->name, al->index);
    else
        rc = drop_online(s, st->db, st->name, al->name);
    sql__sync_ddl_end(s);
    return rc ? rc : sql__sess_ok(s, 0, 0);
}

/* ---- ADMIN CHECK TABLE ------------------------------------------------- */

/* Check index ix of t in snapshot txn: every row's entry is there (with
 * the row's handle for a unique key), and the index holds no more
 * entries than rows. 0, or an error in msg (1), or a store error. */
static int check_index(struct sql_kvtxn *txn, struct sql_xctx *x,
                       const struct sql_tableinfo *t,
                       const struct sql_idxinfo *ix, char *msg, size_t len)
{
    uint8_t start[SQL_TC_PREFIX_LEN], end[SQL_TC_PREFIX_LEN];
    sql__tc_prefix(start, t->id, 'r');
    sql__tc_prefix_next(start, sizeof(start), end);
    struct sql__buf cur = {0}, keys = {0};
    struct sql_kvres res, got;
    sql__kvres_init(&res);
    sql__kvres_init(&got);
    struct sql_arena *ra = sql__arena_create(0);
    struct mvcc_key mk[CHECK_BATCH];
    size_t off[CHECK_BATCH];
    int64_t hs[CHECK_BATCH];
    uint64_t rows = 0, entries = 0;
    int rc = ra ? sql__buf_put(&cur, start, sizeof(start)) : -ENOMEM;
    x->txn = txn;
    while (rc == 0) {
        sql__arena_reset(ra);
        x->ev.arena = ra;
        rc = sql__kvtxn_scan(txn, cur.p, cur.len, end, sizeof(end),
                             CHECK_BATCH, false, &res);
        if (rc != 0 || res.r.npairs == 0)
            break;
        struct sql_datum *row =
            sql__arena_alloc(ra, sizeof(*row) * (t->ncols + 1));
        if (!row) {
            rc = -ENOMEM;
            break;
        }
        size_t n = 0;
        keys.len = 0;
        for (size_t i = 0; rc == 0 && i < res.r.npairs; i++) {
            const struct mvcc_kvpair *p = &res.r.pairs[i];
            struct sql__buf kb = {0};
            bool uk;
            if (!sql__tc_row_handle(p->key, p->key_len, t->id, &hs[n]))
                continue;
            rc = sql__exec_decode_row(x, t, hs[n], p->value, p->value_len,
                                      row, ra);
            rc = rc ? rc : sql__index_entry_key(t, ix, row, hs[n], &kb, &uk);
            off[n] = keys.len;
            rc = rc ? rc : sql__buf_put(&keys, kb.p, kb.len);
            mk[n].len = kb.len;
            sql__buf_free(&kb);
            n++;
        }
        for (size_t i = 0; i < n; i++)
            mk[i].data = keys.p + off[i];
        rows += n;
        rc = rc ? rc : sql__kvtxn_batch_get(txn, mk, n, &got);
        if (rc != 0)
            break;
        /* Each row's key must come back (unique: holding its handle). */
        for (size_t i = 0; i < n && rc == 0; i++) {
            bool found = false;
            for (size_t j = 0; j < got.r.npairs && !found; j++) {
                const struct mvcc_kvpair *g = &got.r.pairs[j];
                if (g->key_len != mk[i].len ||
                    memcmp(g->key, mk[i].data, mk[i].len) != 0)
                    continue;
                uint8_t hv[8];
                sql__tc_put_i64(hv, hs[i]);
                found = g->value_len != 8 || memcmp(g->value, hv, 8) == 0;
            }
            if (!found) {
                snprintf(msg, len,
                         "data inconsistency in table: %s, index: %s, "
                         "handle: %lld has no index entry",
                         t->name, ix->name, (long long)hs[i]);
                rc = 1;
            }
        }
        const struct mvcc_kvpair *last = &res.r.pairs[res.r.npairs - 1];
        cur.len = 0;
        if (rc == 0)
            rc = sql__buf_put(&cur, last->key, last->key_len);
        rc = rc ? rc : sql__buf_u8(&cur, 0);
    }
    /* Count the entries: as many as rows, since each row has its own. */
    uint8_t ip[SQL_TC_INDEX_PREFIX_LEN], ie[SQL_TC_INDEX_PREFIX_LEN];
    sql__tc_index_prefix(ip, t->id, ix->id);
    sql__tc_prefix_next(ip, sizeof(ip), ie);
    cur.len = 0;
    if (rc == 0)
        rc = sql__buf_put(&cur, ip, sizeof(ip));
    while (rc == 0) {
        rc = sql__kvtxn_scan(txn, cur.p, cur.len, ie, sizeof(ie), 1024,
                             false, &res);
        if (rc != 0 || res.r.npairs == 0)
            break;
        entries += res.r.npairs;
        const struct mvcc_kvpair *last = &res.r.pairs[res.r.npairs - 1];
        cur.len = 0;
        rc = sql__buf_put(&cur, last->key, last->key_len);
        rc = rc ? rc : sql__buf_u8(&cur, 0);
    }
    if (rc == 0 && entries != rows) {
        snprintf(msg, len,
                 "table count %llu != index(%s) count %llu in table %s",
                 (unsigned long long)rows, ix->name,
                 (unsigned long long)entries, t->name);
        rc = 1;
    }
    x->txn = NULL;
    sql__kvres_reset(&res);
    sql__kvres_reset(&got);
    sql__buf_free(&cur);
    sql__buf_free(&keys);
    sql__arena_destroy(ra);
    return rc;
}

/* Check every public index of t: 0 fine, 1 with msg, or an error. */
static int check_table(struct sql_session *s, const struct sql_tableinfo *t,
                       char *msg, size_t len)
{
    struct sql_kvtxn *txn;
    struct sql_xctx x;
    int rc = sql__xctx_init(&x, s, false);
    if (rc != 0)
        return rc;
    if ((rc = sql__kv_begin(s->srv->kv, &txn)) != 0)
        return sql__kverr(s, rc);
    for (uint32_t i = 0; rc == 0 && i < t->nidx; i++)
        if ((int32_t)i != t->pk_handle_idx &&
            t->idx[i].state == SQL_IDX_PUBLIC)
            rc = check_index(txn, &x, t, &t->idx[i], msg, len);
    sql__kvtxn_rollback(txn);
    if (rc < 0 && rc != SQL_EQUERY && rc != -ENOMEM)
        rc = sql__kverr(s, rc);
    return rc;
}

int sql__admin_check_tables(struct sql_session *s, const struct ast_stmt *st)
{
    bool admin = strcmp(st->name, "ADMIN CHECK") == 0;
    static const struct sql_rscol cols[] = {
        {"Table", SQL_TYPE_VAR_STRING},
        {"Op", SQL_TYPE_VAR_STRING},
        {"Msg_type", SQL_TYPE_VAR_STRING},
        {"Msg_text", SQL_TYPE_VAR_STRING},
    };
    int rc = 0;
    /* Every name resolves (1146 otherwise) before any answer starts. */
    for (const struct ast_tname *tn = st->tables; tn; tn = tn->next) {
        struct sql_tableinfo *t;
        if ((rc = sql__sess_table(s, tn->db, tn->name, &t)) != 0)
            return rc;
    }
    if (!admin && (rc = sql__rs_begin(s, cols, 4)) != 0)
        return rc;
    for (const struct ast_tname *tn = st->tables; rc == 0 && tn;
         tn = tn->next) {
        struct sql_tableinfo *t;
        if ((rc = sql__sess_table(s, tn->db, tn->name, &t)) != 0)
            break;
        char msg[512] = "";
        rc = check_table(s, t, msg, sizeof(msg));
        if (admin && rc == 1)
            rc = sql__serr(s, 8003, "HY000", "%s", msg);
        if (admin || rc < 0)
            continue;
        char full[200];
        snprintf(full, sizeof(full), "%s.%s", tn->db ? tn->db : s->db,
                 t->name);
        struct sql_value v[4] = {sql__v_str(full), sql__v_str("check"),
                                 sql__v_str(rc == 1 ? "error" : "status"),
                                 sql__v_str(rc == 1 ? msg : "OK")};
        rc = sql__rs_row(s, v, 4);
    }
    if (rc != 0)
        return rc;
    return admin ? sql__sess_ok(s, 0, 0) : sql__rs_end(s);
}

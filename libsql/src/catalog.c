/* catalog.c: the schema records under the meta prefix, their cache, and
 * AUTO_INCREMENT / row id allocation (catalog.h; DESIGN.md "Storage
 * mapping").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"
#include "sql_int.h"
#include "stats.h"
#include "tablecodec.h"

#define AUTOID_BATCH 1000 /* ids taken per allocation transaction */
#define REC_VERSION 1     /* first byte of every record */

static const char K_NEXT_ID[] = "mNextID";
static const char K_VERSION[] = "mSchemaVer";

/* ---- objects --------------------------------------------------------- */

struct sql_dbinfo *sql__dbinfo_new(void)
{
    struct sql_arena *a = sql__arena_create(512);
    if (!a)
        return NULL;
    struct sql_dbinfo *d = sql__arena_zalloc(a, sizeof(*d));
    if (!d) {
        sql__arena_destroy(a);
        return NULL;
    }
    d->arena = a;
    return d;
}

struct sql_tableinfo *sql__tableinfo_new(void)
{
    struct sql_arena *a = sql__arena_create(4096);
    if (!a)
        return NULL;
    struct sql_tableinfo *t = sql__arena_zalloc(a, sizeof(*t));
    if (!t) {
        sql__arena_destroy(a);
        return NULL;
    }
    t->arena = a;
    t->handle_col = -1;
    t->pk_handle_idx = -1;
    return t;
}

void sql__dbinfo_free(struct sql_dbinfo *d)
{
    if (d)
        sql__arena_destroy(d->arena);
}

void sql__tableinfo_free(struct sql_tableinfo *t)
{
    if (t) {
        sql__stats_free(t->stats);
        sql__arena_destroy(t->arena);
    }
}

struct sql_tableinfo *sql__tableinfo_copy(const struct sql_tableinfo *t)
{
    struct sql__buf b = {0};
    struct sql_tableinfo *out = NULL;
    if (sql__table_encode(t, &b) == 0)
        (void)sql__table_decode(b.p, b.len, &out);
    sql__buf_free(&b);
    return out;
}

/* ---- records ----------------------------------------------------------
 * A record is REC_VERSION then fields: integers little-endian of fixed
 * width, strings length-encoded (0xFB for a NULL string), as wire.h
 * writes them. */

static int put_str(struct sql__buf *b, const char *s)
{
    if (!s)
        return sql__buf_u8(b, 0xFB);
    return sql__buf_lenenc_str(b, s, strlen(s));
}

static const char *get_str(struct sql__rd *r, struct sql_arena *a)
{
    if (sql__rd_left(r) > 0 && r->p[r->off] == 0xFB) {
        r->off++;
        return NULL;
    }
    size_t n = 0;
    const uint8_t *p = sql__rd_lenenc_str(r, &n);
    if (!p)
        return NULL;
    char *s = sql__arena_strndup(a, (const char *)p, n);
    if (!s)
        r->bad = true;
    return s;
}

int sql__db_encode(const struct sql_dbinfo *d, struct sql__buf *b)
{
    int rc = sql__buf_u8(b, REC_VERSION);
    rc = rc ? rc : sql__buf_u64(b, (uint64_t)d->id);
    rc = rc ? rc : put_str(b, d->name);
    rc = rc ? rc : put_str(b, d->charset);
    rc = rc ? rc : put_str(b, d->collate);
    return rc;
}

int sql__db_decode(const uint8_t *p, size_t n, struct sql_dbinfo **out)
{
    struct sql_dbinfo *d = sql__dbinfo_new();
    if (!d)
        return -ENOMEM;
    struct sql__rd r;
    sql__rd_init(&r, p, n);
    if (sql__rd_u8(&r) != REC_VERSION)
        goto bad;
    d->id = (int64_t)sql__rd_u64(&r);
    d->name = get_str(&r, d->arena);
    d->charset = get_str(&r, d->arena);
    d->collate = get_str(&r, d->arena);
    if (r.bad || !d->name)
        goto bad;
    *out = d;
    return 0;
bad:
    sql__dbinfo_free(d);
    return SQL_EPROTO;
}

int sql__table_encode(const struct sql_tableinfo *t, struct sql__buf *b)
{
    int rc = sql__buf_u8(b, REC_VERSION);
    rc = rc ? rc : sql__buf_u64(b, (uint64_t)t->id);
    rc = rc ? rc : sql__buf_u64(b, (uint64_t)t->db_id);
    rc = rc ? rc : put_str(b, t->name);
    rc = rc ? rc : put_str(b, t->comment);
    rc = rc ? rc : put_str(b, t->charset);
    rc = rc ? rc : put_str(b, t->collate);
    rc = rc ? rc : sql__buf_u64(b, t->auto_inc_start);
    rc = rc ? rc : sql__buf_u32(b, t->next_col_id);
    rc = rc ? rc : sql__buf_u32(b, (uint32_t)(t->handle_col + 1));
    rc = rc ? rc : sql__buf_u32(b, (uint32_t)(t->pk_handle_idx + 1));
    rc = rc ? rc : sql__buf_u32(b, t->ncols);
    for (uint32_t i = 0; rc == 0 && i < t->ncols; i++) {
        const struct sql_colinfo *c = &t->cols[i];
        rc = sql__buf_u32(b, c->id);
        rc = rc ? rc : put_str(b, c->name);
        rc = rc ? rc : sql__buf_u8(b, c->type.tp);
        rc = rc ? rc : sql__buf_u16(b, c->type.flags);
        rc = rc ? rc : sql__buf_u32(b, c->type.len);
        rc = rc ? rc : sql__buf_u8(b, (uint8_t)c->type.dec);
        rc = rc ? rc : sql__buf_u16(b, c->type.coll);
        rc = rc ? rc : sql__buf_u16(b, c->type.nelems);
        for (uint16_t e = 0; rc == 0 && e < c->type.nelems; e++)
            rc = put_str(b, c->type.elems[e]);
        rc = rc ? rc : put_str(b, c->type_sql);
        uint8_t bits = (uint8_t)((c->not_null ? 1 : 0) |
                                 (c->auto_inc ? 2 : 0) |
                                 (c->has_default ? 4 : 0) |
                                 (c->on_update_now ? 8 : 0));
        rc = rc ? rc : sql__buf_u8(b, bits);
        rc = rc ? rc : put_str(b, c->default_sql);
        rc = rc ? rc : put_str(b, c->comment);
    }
    rc = rc ? rc : sql__buf_u32(b, t->nidx);
    for (uint32_t i = 0; rc == 0 && i < t->nidx; i++) {
        const struct sql_idxinfo *x = &t->idx[i];
        rc = sql__buf_u64(b, (uint64_t)x->id);
        rc = rc ? rc : put_str(b, x->name);
        rc = rc ? rc : sql__buf_u8(b, (uint8_t)((x->primary ? 1 : 0) |
                                                (x->unique ? 2 : 0) |
                                                ((x->state & 3) << 2)));
        rc = rc ? rc : put_str(b, x->comment);
        rc = rc ? rc : sql__buf_u32(b, x->ncols);
        for (uint32_t k = 0; rc == 0 && k < x->ncols; k++) {
            rc = sql__buf_u32(b, x->cols[k]);
            rc = rc ? rc : sql__buf_u32(b, (uint32_t)x->prefix[k]);
        }
    }
    if (rc == 0 && t->view_sql) { /* a view: 'V' and its SELECT (view.c) */
        rc = sql__buf_u8(b, 'V');
        rc = rc ? rc : put_str(b, t->view_sql);
    }
    return rc;
}

int sql__table_decode(const uint8_t *p, size_t n, struct sql_tableinfo **out)
{
    struct sql_tableinfo *t = sql__tableinfo_new();
    if (!t)
        return -ENOMEM;
    struct sql_arena *a = t->arena;
    struct sql__rd r;
    sql__rd_init(&r, p, n);
    if (sql__rd_u8(&r) != REC_VERSION)
        goto bad;
    t->id = (int64_t)sql__rd_u64(&r);
    t->db_id = (int64_t)sql__rd_u64(&r);
    t->name = get_str(&r, a);
    t->comment = get_str(&r, a);
    t->charset = get_str(&r, a);
    t->collate = get_str(&r, a);
    t->auto_inc_start = sql__rd_u64(&r);
    t->next_col_id = sql__rd_u32(&r);
    /* Stored plus one (0: none); checked against the counts below. */
    uint32_t handle1 = sql__rd_u32(&r), pk1 = sql__rd_u32(&r);
    t->ncols = sql__rd_u32(&r);
    if (r.bad || !t->name || t->ncols > 4096 || handle1 > 4096 ||
        pk1 > 4096)
        goto bad;
    t->handle_col = (int32_t)handle1 - 1;
    t->pk_handle_idx = (int32_t)pk1 - 1;
    t->cols = sql__arena_zalloc(a, sizeof(*t->cols) * (t->ncols + 1));
    if (!t->cols)
        goto nomem;
    for (uint32_t i = 0; i < t->ncols && !r.bad; i++) {
        struct sql_colinfo *c = &t->cols[i];
        c->id = sql__rd_u32(&r);
        c->name = get_str(&r, a);
        c->type.tp = sql__rd_u8(&r);
        c->type.flags = sql__rd_u16(&r);
        c->type.len = sql__rd_u32(&r);
        c->type.dec = (int8_t)sql__rd_u8(&r);
        c->type.coll = sql__rd_u16(&r);
        c->type.nelems = sql__rd_u16(&r);
        if (c->type.nelems > 0) {
            const char **el =
                sql__arena_zalloc(a, sizeof(char *) * c->type.nelems);
            if (!el)
                goto nomem;
            for (uint16_t e = 0; e < c->type.nelems; e++)
                el[e] = get_str(&r, a);
            c->type.elems = el;
        }
        c->type_sql = get_str(&r, a);
        uint8_t bits = sql__rd_u8(&r);
        c->not_null = bits & 1;
        c->auto_inc = bits & 2;
        c->has_default = bits & 4;
        c->on_update_now = bits & 8;
        c->default_sql = get_str(&r, a);
        c->comment = get_str(&r, a);
        if (!c->name || !c->type_sql)
            r.bad = true;
    }
    t->nidx = sql__rd_u32(&r);
    if (r.bad || t->nidx > 1024)
        goto bad;
    t->idx = sql__arena_zalloc(a, sizeof(*t->idx) * (t->nidx + 1));
    if (!t->idx)
        goto nomem;
    for (uint32_t i = 0; i < t->nidx && !r.bad; i++) {
        struct sql_idxinfo *x = &t->idx[i];
        x->id = (int64_t)sql__rd_u64(&r);
        x->name = get_str(&r, a);
        uint8_t bits = sql__rd_u8(&r);
        x->primary = bits & 1;
        x->unique = bits & 2;
        x->state = (uint8_t)((bits >> 2) & 3);
        x->comment = get_str(&r, a);
        x->ncols = sql__rd_u32(&r);
        if (r.bad || !x->name || x->ncols > 64 || x->ncols == 0)
            goto bad;
        x->cols = sql__arena_alloc(a, sizeof(uint32_t) * x->ncols);
        x->prefix = sql__arena_alloc(a, sizeof(int32_t) * x->ncols);
        if (!x->cols || !x->prefix)
            goto nomem;
        for (uint32_t k = 0; k < x->ncols; k++) {
            x->cols[k] = sql__rd_u32(&r);
            x->prefix[k] = (int32_t)sql__rd_u32(&r);
            if (x->cols[k] >= t->ncols)
                r.bad = true;
        }
    }
    if (!r.bad && sql__rd_left(&r) > 0 && r.p[r.off] == 'V') {
        r.off++;
        if (!(t->view_sql = get_str(&r, a)))
            r.bad = true;
    }
    if (r.bad || sql__rd_left(&r) != 0 || t->handle_col >= (int32_t)t->ncols ||
        t->pk_handle_idx >= (int32_t)t->nidx)
        goto bad;
    *out = t;
    return 0;
nomem:
    sql__tableinfo_free(t);
    return -ENOMEM;
bad:
    sql__tableinfo_free(t);
    return SQL_EPROTO;
}

/* ---- meta keys -------------------------------------------------------- */

static size_t db_key(uint8_t *k, int64_t db_id)
{
    memcpy(k, "mDB", 3);
    sql__tc_put_i64(k + 3, db_id);
    return 11;
}

static size_t table_key(uint8_t *k, int64_t db_id, int64_t table_id)
{
    memcpy(k, "mTbl", 4);
    sql__tc_put_i64(k + 4, db_id);
    sql__tc_put_i64(k + 12, table_id);
    return 20;
}

static size_t autoid_key(uint8_t *k, int64_t table_id)
{
    memcpy(k, "mAutoID", 7);
    sql__tc_put_i64(k + 7, table_id);
    return 15;
}

static uint64_t le64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8 && i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int get_counter(struct sql_kvtxn *t, const char *key, size_t klen,
                       uint64_t *out)
{
    uint8_t *v = NULL;
    size_t n = 0;
    int rc = sql__kvtxn_get(t, key, klen, &v, &n);
    if (rc == MVCC_NOTFOUND) {
        *out = 0;
        return 0;
    }
    if (rc != 0)
        return rc;
    *out = le64(v, n);
    sql__kv_free(v);
    return 0;
}

static int put_counter(struct sql_kvtxn *t, const char *key, size_t klen,
                       uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return sql__kvtxn_set(t, key, klen, b, 8);
}

int sql__meta_next_id(struct sql_kvtxn *t, int64_t *out)
{
    uint64_t v;
    int rc = get_counter(t, K_NEXT_ID, sizeof(K_NEXT_ID) - 1, &v);
    if (rc != 0)
        return rc;
    v++;
    *out = (int64_t)v;
    return put_counter(t, K_NEXT_ID, sizeof(K_NEXT_ID) - 1, v);
}

int sql__meta_bump_version(struct sql_kvtxn *t, uint64_t *version)
{
    uint64_t v;
    int rc = get_counter(t, K_VERSION, sizeof(K_VERSION) - 1, &v);
    if (rc != 0)
        return rc;
    v++;
    if (version)
        *version = v;
    return put_counter(t, K_VERSION, sizeof(K_VERSION) - 1, v);
}

int sql__meta_version(struct sql_kvtxn *t, uint64_t *version)
{
    return get_counter(t, K_VERSION, sizeof(K_VERSION) - 1, version);
}

int sql__meta_put_db(struct sql_kvtxn *t, const struct sql_dbinfo *d)
{
    struct sql__buf b = {0};
    uint8_t k[16];
    size_t kn = db_key(k, d->id);
    int rc = sql__db_encode(d, &b);
    rc = rc ? rc : sql__kvtxn_set(t, k, kn, b.p, b.len);
    sql__buf_free(&b);
    return rc;
}

int sql__meta_del_db(struct sql_kvtxn *t, int64_t db_id)
{
    uint8_t k[16];
    size_t kn = db_key(k, db_id);
    return sql__kvtxn_delete(t, k, kn);
}

int sql__meta_put_table(struct sql_kvtxn *t, const struct sql_tableinfo *ti)
{
    struct sql__buf b = {0};
    uint8_t k[24];
    size_t kn = table_key(k, ti->db_id, ti->id);
    int rc = sql__table_encode(ti, &b);
    rc = rc ? rc : sql__kvtxn_set(t, k, kn, b.p, b.len);
    sql__buf_free(&b);
    /* A changed table's statistics describe the old layout: dropped
     * (ANALYZE again; DESIGN.md "Statistics"). */
    return rc ? rc : sql__meta_del_stats(t, ti->id);
}

int sql__meta_del_table(struct sql_kvtxn *t, int64_t db_id, int64_t table_id)
{
    uint8_t k[24];
    size_t kn = table_key(k, db_id, table_id);
    int rc = sql__kvtxn_delete(t, k, kn);
    return rc ? rc : sql__meta_del_stats(t, table_id);
}

int sql__meta_del_autoid(struct sql_kvtxn *t, int64_t table_id)
{
    uint8_t k[16];
    size_t kn = autoid_key(k, table_id);
    return sql__kvtxn_delete(t, k, kn);
}

/* ---- the cache -------------------------------------------------------- */

static int scan_prefix(struct sql_kvtxn *t, const char *prefix,
                       struct sql_kvres *res)
{
    size_t n = strlen(prefix);
    uint8_t end[16];
    sql__tc_prefix_next((const uint8_t *)prefix, n, end);
    return sql__kvtxn_scan(t, prefix, n, end, n, 0, false, res);
}

int sql__catalog_load(struct sql_kv *kv, struct sql_catalog **out,
                      char *errmsg, size_t errmsg_len)
{
    struct sql_catalog *c = sql__calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    if (pthread_mutex_init(&c->autoid_mu, NULL) != 0) {
        sql__free(c);
        return -ENOMEM;
    }
    struct sql_kvtxn *t = NULL;
    struct sql_kvres res;
    sql__kvres_init(&res);
    int rc = sql__kv_begin(kv, &t);
    if (rc != 0)
        goto fail;
    rc = get_counter(t, K_VERSION, sizeof(K_VERSION) - 1, &c->version);
    if (rc != 0)
        goto fail;
    rc = scan_prefix(t, "mDB", &res);
    for (size_t i = 0; rc == 0 && i < res.r.npairs; i++) {
        struct sql_dbinfo *d;
        rc = sql__db_decode(res.r.pairs[i].value, res.r.pairs[i].value_len,
                            &d);
        if (rc == 0 && (rc = sql__catalog_put_db(c, d)) != 0)
            sql__dbinfo_free(d);
    }
    if (rc != 0)
        goto fail;
    rc = scan_prefix(t, "mTbl", &res);
    for (size_t i = 0; rc == 0 && i < res.r.npairs; i++) {
        struct sql_tableinfo *ti;
        rc = sql__table_decode(res.r.pairs[i].value,
                               res.r.pairs[i].value_len, &ti);
        if (rc == 0 && (rc = sql__catalog_put_table(c, ti)) != 0)
            sql__tableinfo_free(ti);
    }
    if (rc != 0)
        goto fail;
    /* Statistics: a record that does not decode is skipped (the planner
     * falls back to its constants), never a failed load. */
    rc = scan_prefix(t, sql__stats_prefix, &res);
    for (size_t i = 0; rc == 0 && i < res.r.npairs; i++) {
        struct sql_tstats *st;
        struct sql_tableinfo *ti;
        if (sql__stats_decode(res.r.pairs[i].value, res.r.pairs[i].value_len,
                              &st) != 0)
            continue;
        if ((ti = sql__catalog_table_by_id(c, st->table_id)) != NULL &&
            !ti->stats)
            ti->stats = st;
        else
            sql__stats_free(st);
    }
    if (rc != 0)
        goto fail;
    sql__kvres_reset(&res);
    sql__kvtxn_rollback(t);
    *out = c;
    return 0;
fail:
    if (errmsg && errmsg_len)
        snprintf(errmsg, errmsg_len, "cannot read the catalog: %s",
                 rc == SQL_EPROTO ? "a record is malformed"
                                  : mvcc_strerror(rc));
    sql__kvres_reset(&res);
    sql__kvtxn_rollback(t);
    sql__catalog_free(c);
    return rc;
}

void sql__catalog_free(struct sql_catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ndbs; i++)
        sql__dbinfo_free(c->dbs[i]);
    for (size_t i = 0; i < c->ntables; i++)
        sql__tableinfo_free(c->tables[i]);
    sql__free(c->dbs);
    sql__free(c->tables);
    sql__free(c->autoids);
    pthread_mutex_destroy(&c->autoid_mu);
    sql__free(c);
}

struct sql_dbinfo *sql__catalog_db(const struct sql_catalog *c,
                                   const char *name)
{
    for (size_t i = 0; i < c->ndbs; i++)
        if (strcmp(c->dbs[i]->name, name) == 0)
            return c->dbs[i];
    return NULL;
}

struct sql_tableinfo *sql__catalog_table(const struct sql_catalog *c,
                                         int64_t db_id, const char *name)
{
    for (size_t i = 0; i < c->ntables; i++)
        if (c->tables[i]->db_id == db_id &&
            strcmp(c->tables[i]->name, name) == 0)
            return c->tables[i];
    return NULL;
}

struct sql_tableinfo *sql__catalog_table_by_id(const struct sql_catalog *c,
                                              int64_t id)
{
    for (size_t i = 0; i < c->ntables; i++)
        if (c->tables[i]->id == id)
            return c->tables[i];
    return NULL;
}

int sql__table_col(const struct sql_tableinfo *t, const char *name)
{
    for (uint32_t i = 0; i < t->ncols; i++)
        if (strcasecmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

int sql__table_index(const struct sql_tableinfo *t, const char *name)
{
    for (uint32_t i = 0; i < t->nidx; i++)
        if (strcasecmp(t->idx[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int grow(void **arr, size_t n, size_t size)
{
    void *p = sql__realloc(*arr, (n + 1) * size);
    if (!p)
        return -ENOMEM;
    *arr = p;
    return 0;
}

int sql__catalog_put_db(struct sql_catalog *c, struct sql_dbinfo *d)
{
    for (size_t i = 0; i < c->ndbs; i++)
        if (c->dbs[i]->id == d->id) {
            sql__dbinfo_free(c->dbs[i]);
            c->dbs[i] = d;
            return 0;
        }
    if (grow((void **)&c->dbs, c->ndbs, sizeof(*c->dbs)) != 0)
        return -ENOMEM;
    c->dbs[c->ndbs++] = d;
    return 0;
}

int sql__catalog_put_table(struct sql_catalog *c, struct sql_tableinfo *t)
{
    t->ver = c->version; /* after the DDL's commit set it */
    for (size_t i = 0; i < c->ntables; i++)
        if (c->tables[i]->id == t->id) {
            sql__tableinfo_free(c->tables[i]);
            c->tables[i] = t;
            return 0;
        }
    if (grow((void **)&c->tables, c->ntables, sizeof(*c->tables)) != 0)
        return -ENOMEM;
    c->tables[c->ntables++] = t;
    return 0;
}

void sql__catalog_drop_table(struct sql_catalog *c, int64_t table_id)
{
    for (size_t i = 0; i < c->ntables; i++)
        if (c->tables[i]->id == table_id) {
            sql__tableinfo_free(c->tables[i]);
            memmove(&c->tables[i], &c->tables[i + 1],
                    (c->ntables - i - 1) * sizeof(*c->tables));
            c->ntables--;
            break;
        }
    pthread_mutex_lock(&c->autoid_mu);
    for (size_t i = 0; i < c->nautoids; i++)
        if (c->autoids[i].table_id == table_id) {
            c->autoids[i] = c->autoids[--c->nautoids];
            break;
        }
    pthread_mutex_unlock(&c->autoid_mu);
}

void sql__catalog_drop_db(struct sql_catalog *c, int64_t db_id)
{
    for (size_t i = c->ntables; i > 0; i--)
        if (c->tables[i - 1]->db_id == db_id)
            sql__catalog_drop_table(c, c->tables[i - 1]->id);
    for (size_t i = 0; i < c->ndbs; i++)
        if (c->dbs[i]->id == db_id) {
            sql__dbinfo_free(c->dbs[i]);
            memmove(&c->dbs[i], &c->dbs[i + 1],
                    (c->ndbs - i - 1) * sizeof(*c->dbs));
            c->ndbs--;
            break;
        }
}

/* The cached range slot of a table (created empty), under autoid_mu.
 * NULL: no memory. */
static struct sql_autoid *autoid_slot(struct sql_catalog *c,
                                      int64_t table_id)
{
    for (size_t i = 0; i < c->nautoids; i++)
        if (c->autoids[i].table_id == table_id)
            return &c->autoids[i];
    if (grow((void **)&c->autoids, c->nautoids, sizeof(*c->autoids)) != 0)
        return NULL;
    struct sql_autoid *a = &c->autoids[c->nautoids++];
    a->table_id = table_id;
    a->next = 1;
    a->end = 0;
    return a;
}

/* Take ids (base, base+want] above min_base in a transaction of its own;
 * a conflict (another allocator) re-reads and tries again, which is safe:
 * nothing but the counter is written. */
static int take_range(struct sql_kv *kv, int64_t table_id, uint64_t want,
                      uint64_t min_base, uint64_t *first, uint64_t *last)
{
    uint8_t k[16];
    size_t kn = autoid_key(k, table_id);
    int rc = MVCC_CONFLICT;
    for (int attempt = 0; attempt < 20 && rc == MVCC_CONFLICT; attempt++) {
        struct sql_kvtxn *t;
        rc = sql__kv_begin(kv, &t);
        if (rc != 0)
            return rc;
        uint64_t base;
        rc = get_counter(t, (const char *)k, kn, &base);
        if (rc != 0) {
            sql__kvtxn_rollback(t);
            return rc;
        }
        if (base < min_base)
            base = min_base;
        if (base > UINT64_MAX - want) {
            sql__kvtxn_rollback(t);
            return SQL_ETYPE; /* the counter ran out */
        }
        rc = put_counter(t, (const char *)k, kn, base + want);
        if (rc != 0) {
            sql__kvtxn_rollback(t);
            return rc;
        }
        rc = sql__kvtxn_commit(t);
        if (rc == 0) {
            *first = base + 1;
            *last = base + want;
        }
    }
    return rc;
}

uint64_t sql__autoid_next(struct sql_catalog *c, int64_t table_id)
{
    uint64_t next = 0;
    pthread_mutex_lock(&c->autoid_mu);
    for (size_t i = 0; i < c->nautoids; i++)
        if (c->autoids[i].table_id == table_id &&
            c->autoids[i].next <= c->autoids[i].end)
            next = c->autoids[i].next;
    pthread_mutex_unlock(&c->autoid_mu);
    return next;
}

/* Allocation holds autoid_mu across take_range (a store round trip): a
 * range is taken once per AUTOID_BATCH ids, and holding it keeps two
 * sessions from both taking one for the same table. */
static int alloc_locked(struct sql_kv *kv, struct sql_catalog *c,
                        int64_t table_id, uint64_t n, uint64_t *first)
{
    struct sql_autoid *a = autoid_slot(c, table_id);
    if (!a)
        return -ENOMEM;
    if (a->next > a->end || a->end - a->next + 1 < n) {
        uint64_t lo, hi;
        int rc = take_range(kv, table_id, n > AUTOID_BATCH ? n : AUTOID_BATCH,
                            0, &lo, &hi);
        if (rc != 0)
            return rc;
        a->next = lo;
        a->end = hi;
    }
    *first = a->next;
    a->next += n;
    return 0;
}

int sql__autoid_alloc(struct sql_kv *kv, struct sql_catalog *c,
                      int64_t table_id, uint64_t n, uint64_t *first)
{
    pthread_mutex_lock(&c->autoid_mu);
    int rc = alloc_locked(kv, c, table_id, n, first);
    pthread_mutex_unlock(&c->autoid_mu);
    return rc;
}

static int rebase_locked(struct sql_kv *kv, struct sql_catalog *c,
                         int64_t table_id, uint64_t v)
{
    struct sql_autoid *a = autoid_slot(c, table_id);
    if (!a)
        return -ENOMEM;
    if (v < a->next && a->next <= a->end)
        return 0; /* below what we hand out next */
    if (v < a->end) {
        a->next = v + 1;
        return 0;
    }
    if (v == UINT64_MAX) {
        a->next = 1;
        a->end = 0;
        return 0;
    }
    uint64_t lo, hi;
    int rc = take_range(kv, table_id, AUTOID_BATCH, v, &lo, &hi);
    if (rc != 0)
        return rc;
    a->next = lo;
    a->end = hi;
    return 0;
}

int sql__autoid_rebase(struct sql_kv *kv, struct sql_catalog *c,
                       int64_t table_id, uint64_t v)
{
    pthread_mutex_lock(&c->autoid_mu);
    int rc = rebase_locked(kv, c, table_id, v);
    pthread_mutex_unlock(&c->autoid_mu);
    return rc;
}

/* show_cluster.c: the cluster as the placement driver sees it, through the
 * server's struct sql_cluster_info: information_schema.TIKV_STORE_STATUS,
 * TIKV_REGION_STATUS and TIKV_REGION_PEERS (TiDB's names and columns), and
 * SHOW TABLE t [INDEX i] REGIONS. Key ranges are mapped back to tables and
 * indexes with the catalog (DESIGN.md "Cluster tables").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "exec.h"
#include "session.h"
#include "sql_int.h"
#include "tablecodec.h"

enum cl_table
{
    CL_STORE_STATUS,
    CL_REGION_STATUS,
    CL_REGION_PEERS,
    CL_COUNT,
};

/* Virtual table ids of these tables: below show_is.c's range. */
#define CL_ID_BASE (-1100)

struct cl_col
{
    const char *name; /* column name */
    bool num;         /* BIGINT UNSIGNED, else VARCHAR */
};

static const struct cl_col c_store[] = {
    {"STORE_ID", true},        {"ADDRESS", false},
    {"STORE_STATE", true},     {"STORE_STATE_NAME", false},
    {"LABEL", false},          {"VERSION", false},
    {"CAPACITY", false},       {"AVAILABLE", false},
    {"LEADER_COUNT", true},    {"REGION_COUNT", true},
    {"REGION_SIZE", true},     {"LAST_HEARTBEAT_TS", false}};
static const struct cl_col c_region[] = {
    {"REGION_ID", true},        {"START_KEY", false},
    {"END_KEY", false},         {"TABLE_ID", true},
    {"DB_NAME", false},         {"TABLE_NAME", false},
    {"IS_INDEX", true},         {"INDEX_ID", true},
    {"INDEX_NAME", false},      {"EPOCH_CONF_VER", true},
    {"EPOCH_VERSION", true},    {"WRITTEN_BYTES", true},
    {"READ_BYTES", true},       {"APPROXIMATE_SIZE", true},
    {"APPROXIMATE_KEYS", true}};
static const struct cl_col c_peers[] = {
    {"REGION_ID", true}, {"PEER_ID", true},   {"STORE_ID", true},
    {"IS_LEARNER", true}, {"IS_LEADER", true}, {"STATUS", false},
    {"DOWN_SECONDS", true}};

static const struct
{
    const char *name;           /* table name */
    const struct cl_col *cols;  /* its columns */
    size_t ncols;               /* their count */
} cl_tables[CL_COUNT] = {
    {"TIKV_STORE_STATUS", c_store, sizeof(c_store) / sizeof(c_store[0])},
    {"TIKV_REGION_STATUS", c_region, sizeof(c_region) / sizeof(c_region[0])},
    {"TIKV_REGION_PEERS", c_peers, sizeof(c_peers) / sizeof(c_peers[0])},
};

bool sql__cluster_is_id(int64_t id)
{
    return id <= CL_ID_BASE && id > CL_ID_BASE - CL_COUNT;
}

struct sql_tableinfo *sql__cluster_is_table(struct sql_session *s,
                                            const char *name)
{
    int which = -1;
    for (int i = 0; i < CL_COUNT; i++)
        if (strcasecmp(name, cl_tables[i].name) == 0)
            which = i;
    if (which < 0)
        return NULL;
    struct sql_tableinfo *t = sql__is_vtable(s, CL_ID_BASE - which,
                                             cl_tables[which].name,
                                             cl_tables[which].ncols);
    if (!t)
        return NULL;
    for (uint32_t i = 0; i < t->ncols; i++) {
        t->cols[i].id = i + 1;
        t->cols[i].name = cl_tables[which].cols[i].name;
        sql__is_col_type(&t->cols[i], cl_tables[which].cols[i].num);
    }
    return t;
}

/* ---- keys ---------------------------------------------------------------- */

/* Room for a key's text: two hex digits per byte of the longest key PD
 * keeps (4096 bytes), and the readable prefix. */
#define KEY_TEXT (2 * 4096 + 64)

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = an && bn ? memcmp(a, b, an < bn ? an : bn) : 0;
    return c ? c : (an > bn) - (an < bn);
}

/* A key as TiDB's SHOW TABLE REGIONS prints it: t_<id>, t_<id>_r,
 * t_<id>_r_<handle>, t_<id>_i_<index>[_<hex of the values>], and any
 * other key (the catalog's, or a tail past those shapes) in upper-case
 * hex; "" for the open ends. Into buf (always NUL-terminated). */
static void key_text(const uint8_t *k, size_t n, char *buf, size_t len)
{
    size_t o = 0, i = 0;
    buf[0] = '\0';
    if (n >= 9 && k[0] == 't') {
        o += (size_t)snprintf(buf, len, "t_%" PRId64, sql__tc_get_i64(k + 1));
        i = 9;
        if (n >= 11 && k[9] == '_' && (k[10] == 'r' || k[10] == 'i')) {
            o += (size_t)snprintf(buf + o, len - o, "_%c", (char)k[10]);
            i = 11;
            if (n >= 19) {
                o += (size_t)snprintf(buf + o, len - o, "_%" PRId64,
                                      sql__tc_get_i64(k + 11));
                i = 19;
            }
        }
        if (i < n && o + 1 < len)
            o += (size_t)snprintf(buf + o, len - o, "_");
    }
    for (; i < n && o + 3 <= len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%02X", k[i]);
}

/* [as, ae) and [bs, be) meet; an empty end is +inf. */
static bool ranges_meet(const uint8_t *as, size_t asn, const uint8_t *ae,
                        size_t aen, const uint8_t *bs, size_t bsn,
                        const uint8_t *be, size_t ben)
{
    if (aen > 0 && key_cmp(bs, bsn, ae, aen) >= 0)
        return false;
    if (ben > 0 && key_cmp(as, asn, be, ben) >= 0)
        return false;
    return true;
}

/* ---- collecting rows ----------------------------------------------------- */

struct cl_rows
{
    struct sql_session *s;   /* for the catalog */
    struct sql_arena *a;     /* rows and their strings */
    int which;               /* enum cl_table */
    size_t ncols;            /* width */
    struct sql_datum *d;     /* rows, row-major */
    size_t n, cap;           /* rows, room */
    size_t col;              /* next cell of row n - 1 */
};

static struct sql_datum *next_cell(struct cl_rows *r)
{
    return &r->d[(r->n - 1) * r->ncols + r->col++];
}

static int row_add(struct cl_rows *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct sql_datum *d = sql__arena_zalloc(r->a, sizeof(*d) * cap *
                                                          r->ncols);
        if (!d)
            return -ENOMEM;
        if (r->n)
            memcpy(d, r->d, sizeof(*d) * r->n * r->ncols);
        r->d = d;
        r->cap = cap;
    }
    r->n++;
    r->col = 0;
    return 0;
}

static void put_num(struct cl_rows *r, uint64_t v)
{
    struct sql_datum *d = next_cell(r);
    d->vt = SQL_VT_UINT;
    d->v.u = v;
}

static void put_null(struct cl_rows *r)
{
    next_cell(r)->vt = SQL_VT_NULL;
}

/* A copy of str (NULL: SQL NULL); false when out of memory. */
static bool put_str(struct cl_rows *r, const char *str)
{
    struct sql_datum *d = next_cell(r);
    if (!str) {
        d->vt = SQL_VT_NULL;
        return true;
    }
    size_t n = strlen(str);
    d->vt = SQL_VT_STRING;
    d->coll = SQL_COLL_UTF8MB4_GENERAL_CI;
    d->v.s.p = sql__arena_strndup(r->a, str, n);
    d->v.s.n = n;
    return d->v.s.p != NULL;
}

/* "12.50GiB" as TiDB prints sizes; NULL when unknown (0). */
static const char *size_text(uint64_t bytes, char *buf, size_t len)
{
    if (bytes == 0)
        return NULL;
    snprintf(buf, len, "%.2fGiB", (double)bytes / (1024.0 * 1024 * 1024));
    return buf;
}

/* Whole MiB, rounded up, as PD reports region sizes. */
static uint64_t mib(uint64_t bytes)
{
    return (bytes + (1u << 20) - 1) >> 20;
}

static int store_row(void *arg, const struct sql_cluster_store *st)
{
    struct cl_rows *r = arg;
    char cap[32], avail[32];
    if (row_add(r) != 0)
        return -ENOMEM;
    const char *state = st->state ? st->state : "Up";
    uint64_t code = strcmp(state, "Offline") == 0     ? 1
                    : strcmp(state, "Tombstone") == 0 ? 2
                                                      : 0;
    put_num(r, st->id);
    bool ok = put_str(r, st->address);
    put_num(r, code);
    ok = ok && put_str(r, state);
    put_null(r); /* LABEL */
    ok = ok && put_str(r, r->s->srv->version);
    ok = ok && put_str(r, size_text(st->capacity, cap, sizeof(cap)));
    ok = ok && put_str(r, size_text(st->available, avail, sizeof(avail)));
    put_num(r, st->leader_count);
    put_num(r, st->region_count);
    put_num(r, mib(st->region_size));
    put_null(r); /* LAST_HEARTBEAT_TS: PD's clock is not ours */
    if (st->heartbeat_age_ms >= 0) {
        char age[48];
        snprintf(age, sizeof(age), "%" PRId64 " ms ago", st->heartbeat_age_ms);
        r->col--;
        ok = ok && put_str(r, age);
    }
    return ok ? 0 : -ENOMEM;
}

static const char *db_of(struct sql_session *s, int64_t id)
{
    for (size_t i = 0; i < s->srv->cat->ndbs; i++)
        if (s->srv->cat->dbs[i]->id == id)
            return s->srv->cat->dbs[i]->name;
    return "";
}

/* One TIKV_REGION_STATUS row: region g, and the table/index it belongs to
 * (t NULL: none; x NULL: the table's rows). */
static int region_row(struct cl_rows *r, const struct sql_cluster_region *g,
                      const struct sql_tableinfo *t,
                      const struct sql_idxinfo *x)
{
    char sk[KEY_TEXT], ek[KEY_TEXT];
    if (row_add(r) != 0)
        return -ENOMEM;
    key_text(g->start_key, g->start_len, sk, sizeof(sk));
    key_text(g->end_key, g->end_len, ek, sizeof(ek));
    put_num(r, g->id);
    bool ok = put_str(r, sk) && put_str(r, ek);
    if (t) {
        put_num(r, (uint64_t)t->id);
        ok = ok && put_str(r, db_of(r->s, t->db_id)) && put_str(r, t->name);
        put_num(r, x ? 1 : 0);
        if (x) {
            put_num(r, (uint64_t)x->id);
            ok = ok && put_str(r, x->name);
        } else {
            put_null(r);
            put_null(r);
        }
    } else {
        for (int i = 0; i < 6; i++)
            put_null(r);
    }
    put_num(r, g->conf_ver);
    put_num(r, g->version);
    put_num(r, 0); /* WRITTEN_BYTES: not measured */
    put_num(r, 0); /* READ_BYTES */
    put_num(r, mib(g->approx_size));
    put_num(r, g->approx_keys);
    return ok ? 0 : -ENOMEM;
}

/* Whether index x of t has keys of its own (not the integer handle). */
static bool stored_index(const struct sql_tableinfo *t, uint32_t i)
{
    return t->pk_handle_idx < 0 || (uint32_t)t->pk_handle_idx != i;
}

static int region_status_rows(void *arg, const struct sql_cluster_region *g)
{
    struct cl_rows *r = arg;
    const struct sql_catalog *cat = r->s->srv->cat;
    size_t before = r->n;
    for (size_t i = 0; i < cat->ntables; i++) {
        const struct sql_tableinfo *t = cat->tables[i];
        uint8_t lo[SQL_TC_INDEX_PREFIX_LEN], hi[SQL_TC_INDEX_PREFIX_LEN];
        sql__tc_prefix(lo, t->id, 'r');
        if (sql__tc_prefix_next(lo, SQL_TC_PREFIX_LEN, hi) &&
            ranges_meet(g->start_key, g->start_len, g->end_key, g->end_len,
                        lo, SQL_TC_PREFIX_LEN, hi, SQL_TC_PREFIX_LEN)) {
            int rc = region_row(r, g, t, NULL);
            if (rc != 0)
                return rc;
        }
        for (uint32_t k = 0; k < t->nidx; k++) {
            if (!stored_index(t, k))
                continue;
            sql__tc_index_prefix(lo, t->id, t->idx[k].id);
            if (!sql__tc_prefix_next(lo, sizeof(lo), hi) ||
                !ranges_meet(g->start_key, g->start_len, g->end_key,
                             g->end_len, lo, sizeof(lo), hi, sizeof(hi)))
                continue;
            int rc = region_row(r, g, t, &t->idx[k]);
            if (rc != 0)
                return rc;
        }
    }
    return r->n == before ? region_row(r, g, NULL, NULL) : 0;
}

static int region_peer_rows(void *arg, const struct sql_cluster_region *g)
{
    struct cl_rows *r = arg;
    for (uint32_t i = 0; i < g->n_peers; i++) {
        const struct sql_cluster_peer *p = &g->peers[i];
        if (row_add(r) != 0)
            return -ENOMEM;
        put_num(r, g->id);
        put_num(r, p->id);
        put_num(r, p->store_id);
        put_num(r, p->learner ? 1 : 0);
        put_num(r, p->leader ? 1 : 0);
        if (!put_str(r, p->down ? "DOWN" : "NORMAL"))
            return -ENOMEM;
        put_null(r); /* DOWN_SECONDS */
    }
    return 0;
}

/* A failed callback as the client sees it. */
static int cluster_err(struct sql_session *s, int rc, const char *err)
{
    if (rc == -ENOMEM)
        return rc;
    return sql__serr(s, 1105, "HY000", "cluster info: %s (%d)",
                     err[0] ? err : "failed", rc);
}

int sql__cluster_is_rows(struct sql_xctx *x, const struct sql_tableinfo *vt,
                         struct sql_arena *a, struct sql_datum **out,
                         size_t *n)
{
    struct sql_session *s = x->s;
    const struct sql_cluster_info *ci = &s->srv->cluster_info;
    int which = (int)(CL_ID_BASE - vt->id);
    struct cl_rows r = {.s = s, .a = a, .which = which, .ncols = vt->ncols};
    char err[256] = "";
    int rc = 0;
    *out = NULL;
    *n = 0;
    if (which == CL_STORE_STATUS && ci->stores)
        rc = ci->stores(ci->ctx, store_row, &r, err, sizeof(err));
    else if (which != CL_STORE_STATUS && ci->regions)
        rc = ci->regions(ci->ctx, NULL, 0, NULL, 0,
                         which == CL_REGION_STATUS ? region_status_rows
                                                   : region_peer_rows,
                         &r, err, sizeof(err));
    if (rc != 0)
        return cluster_err(s, rc, err);
    *out = r.d;
    *n = r.n;
    return 0;
}

/* ---- SHOW TABLE t [INDEX i] REGIONS -------------------------------------- */

/* One region of the answer, copied (strings in the statement's arena). */
struct show_row
{
    uint64_t id, leader, leader_store, size, keys; /* the numbers */
    const char *start, *end, *peers;             /* the texts */
};

struct show_ctx
{
    struct sql_session *s; /* answering */
    struct show_row *rows; /* collected (arena) */
    size_t n, cap;         /* used, room */
};

static int show_collect(void *arg, const struct sql_cluster_region *g)
{
    struct show_ctx *c = arg;
    char sk[KEY_TEXT], ek[KEY_TEXT], peers[512];
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct show_row *rows = sql__arena_alloc(c->s->arena,
                                                 sizeof(*rows) * cap);
        if (!rows)
            return -ENOMEM;
        if (c->n)
            memcpy(rows, c->rows, sizeof(*rows) * c->n);
        c->rows = rows;
        c->cap = cap;
    }
    struct show_row *r = &c->rows[c->n++];
    memset(r, 0, sizeof(*r));
    size_t o = 0;
    peers[0] = '\0';
    for (uint32_t i = 0; i < g->n_peers; i++) {
        const struct sql_cluster_peer *p = &g->peers[i];
        if (p->leader) {
            r->leader = p->id;
            r->leader_store = p->store_id;
        }
        if (o + 24 < sizeof(peers))
            o += (size_t)snprintf(peers + o, sizeof(peers) - o, "%s%" PRIu64,
                                  i ? ", " : "", p->id);
    }
    key_text(g->start_key, g->start_len, sk, sizeof(sk));
    key_text(g->end_key, g->end_len, ek, sizeof(ek));
    r->id = g->id;
    r->size = mib(g->approx_size);
    r->keys = g->approx_keys;
    r->start = sql__arena_strndup(c->s->arena, sk, strlen(sk));
    r->end = sql__arena_strndup(c->s->arena, ek, strlen(ek));
    r->peers = sql__arena_strndup(c->s->arena, peers, strlen(peers));
    return r->start && r->end && r->peers ? 0 : -ENOMEM;
}

int sql__show_table_regions(struct sql_session *s, const struct ast_show *sh)
{
    struct sql_tableinfo *t;
    int rc = sql__sess_table(s, sh->db, sh->table, &t);
    if (rc != 0)
        return rc;
    uint8_t lo[SQL_TC_INDEX_PREFIX_LEN], hi[SQL_TC_INDEX_PREFIX_LEN];
    size_t len = 9; /* 't' tableID: every row and index entry */
    sql__tc_prefix(lo, t->id, 'r');
    if (sh->index) {
        const struct sql_idxinfo *x = NULL;
        for (uint32_t k = 0; k < t->nidx; k++)
            if (strcasecmp(t->idx[k].name, sh->index) == 0 &&
                stored_index(t, k))
                x = &t->idx[k];
        if (!x)
            return sql__serr(s, 1176, "42000",
                             "Key '%.64s' doesn't exist in table '%.64s'",
                             sh->index, t->name);
        sql__tc_index_prefix(lo, t->id, x->id);
        len = sizeof(lo);
    }
    if (!sql__tc_prefix_next(lo, len, hi))
        return sql__serr(s, 1105, "HY000", "table id out of range");
    const struct sql_cluster_info *ci = &s->srv->cluster_info;
    if (!ci->regions)
        return sql__serr(s, 1105, "HY000",
                         "SHOW TABLE ... REGIONS needs a cluster store "
                         "(sqld --store=cluster); this server's store is "
                         "embedded in one process");
    /* Ask first, answer after: a failure must not leave half a result
     * set on the wire. */
    struct show_ctx c = {s, NULL, 0, 0};
    char err[256] = "";
    rc = ci->regions(ci->ctx, lo, len, hi, len, show_collect, &c, err,
                     sizeof(err));
    if (rc != 0)
        return cluster_err(s, rc, err);
    static const struct sql_rscol cols[] = {
        {"REGION_ID", SQL_TYPE_LONGLONG},
        {"START_KEY", SQL_TYPE_VAR_STRING},
        {"END_KEY", SQL_TYPE_VAR_STRING},
        {"LEADER_ID", SQL_TYPE_LONGLONG},
        {"LEADER_STORE_ID", SQL_TYPE_LONGLONG},
        {"PEERS", SQL_TYPE_VAR_STRING},
        {"SCATTERING", SQL_TYPE_LONGLONG},
        {"WRITTEN_BYTES", SQL_TYPE_LONGLONG},
        {"READ_BYTES", SQL_TYPE_LONGLONG},
        {"APPROXIMATE_SIZE(MB)", SQL_TYPE_LONGLONG},
        {"APPROXIMATE_KEYS", SQL_TYPE_LONGLONG}};
    rc = sql__rs_begin(s, cols, 11);
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        const struct show_row *r = &c.rows[i];
        struct sql_value v[11] = {
            sql__v_int((int64_t)r->id),
            sql__v_str(r->start),
            sql__v_str(r->end),
            r->leader ? sql__v_int((int64_t)r->leader) : sql__v_null(),
            r->leader ? sql__v_int((int64_t)r->leader_store) : sql__v_null(),
            sql__v_str(r->peers),
            sql__v_int(0),
            sql__v_int(0),
            sql__v_int(0),
            sql__v_int((int64_t)r->size),
            sql__v_int((int64_t)r->keys)};
        rc = sql__rs_row(s, v, 11);
    }
    return rc ? rc : sql__rs_end(s);
}

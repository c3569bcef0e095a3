/* sqlfx.c: the SQL test fixture (sqlfx.h): server + session + protocol
 * engine in memory, the client side decoded with myclient.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kv.h"
#include "myclient.h"
#include "session.h"
#include "sqlfx.h"

static int lookup(void *ctx, const char *user, const char *host,
                  struct sql_account *out)
{
    (void)ctx;
    (void)user;
    (void)host;
    memset(out, 0, sizeof(*out));
    out->plugin = SQL_AUTH_NATIVE;
    return 0;
}

void sqlfx_open(struct sqlfx *f, bool rocks)
{
    memset(f, 0, sizeof(*f));
    if (rocks) {
        snprintf(f->dir, sizeof(f->dir), "/tmp/sqlfx.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
    }
    struct sql_server_options o = {.data_dir = rocks ? f->dir : NULL};
    char err[256] = "";
    int rc = sql_server_open(&o, &f->srv, err, sizeof(err));
    if (rc != 0)
        fail_msg("sql_server_open: %d %s", rc, err);
}

void sqlfx_reopen(struct sqlfx *f)
{
    sql_server_close(f->srv);
    struct sql_server_options o = {.data_dir = f->dir};
    char err[256] = "";
    int rc = sql_server_open(&o, &f->srv, err, sizeof(err));
    if (rc != 0)
        fail_msg("sql_server_open: %d %s", rc, err);
}

void sqlfx_close(struct sqlfx *f)
{
    sql_server_close(f->srv);
    if (f->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
        assert_int_equal(system(cmd), 0);
    }
}

static void drain(struct sqlfx_conn *c, struct mc_buf *into)
{
    size_t n;
    const uint8_t *p = sql_proto_conn_output(c->c, &n);
    if (into)
        mc_put(into, p, n);
    sql_proto_conn_consume(c->c, n);
}

/* fx->point_reads: sql_session_point_read's halves around a read of the
 * row at the version asked (sqld's loop thread reads it from kvd; the
 * latest, or an open transaction's start_ts): 1 answered
 * (counted), 0 not, negative as execute. */
static int point_read(struct sqlfx_conn *c, struct sql_proto_conn *pc,
                      const struct sql_command *cmd)
{
    struct sql_point_read pr;
    memset(&pr, 0, sizeof(pr));
    int q = sql_session_point_read(c->s, pc, cmd, &pr);
    if (q == 2) {
        c->nhalves++;
        struct sql_kvtxn *t;
        uint8_t *v = NULL;
        size_t vl = 0;
        assert_int_equal(sql__kv_begin_at(c->fx->srv->kv, pr.ts, &t), 0);
        int rc = sql__kvtxn_get(t, pr.key, pr.key_len, &v, &vl);
        sql__kvtxn_rollback(t);
        assert_true(rc == 0 || rc == MVCC_NOTFOUND);
        if (c->fx->point_wrong_key)
            pr.key[pr.key_len - 1] ^= 1;
        pr.given = true;
        pr.found = rc == 0;
        pr.value = v;
        pr.value_len = vl;
        q = sql_session_point_read(c->s, pc, cmd, &pr);
        sql__kv_free(v);
    }
    if (q == 1)
        c->npoint++;
    return q < 0 ? q : q == 1;
}

/* fx->quick: sql_session_try_quick, then the executor (as sqld);
 * fx->point_reads: sql_session_point_read, then the executor. */
static int quick_execute(void *ctx, struct sql_proto_conn *pc,
                         const struct sql_command *cmd)
{
    struct sqlfx_conn *c = ctx;
    int q = 0;
    if (c->fx->point_reads)
        q = point_read(c, pc, cmd);
    else if ((q = sql_session_try_quick(c->s, pc, cmd)) > 0)
        c->nquick++;
    if (q != 0)
        return q < 0 ? q : 0;
    struct sql_executor x = sql_session_executor(c->s);
    return x.execute(x.ctx, pc, cmd);
}

void sqlfx_connect(struct sqlfx *f, struct sqlfx_conn *c, unsigned id)
{
    memset(c, 0, sizeof(*c));
    c->fx = f;
    assert_int_equal(sql_session_create(f->srv, id, &c->s), 0);
    struct sql_proto_options o = {
        .server_version = "8.0.11-test",
        .connection_id = id,
        .client_host = "127.0.0.1",
        .auth = {NULL, lookup},
        .exec = sql_session_executor(c->s),
    };
    if (f->quick || f->point_reads)
        o.exec = (struct sql_executor){c, quick_execute};
    c->c = sql_proto_conn_create(&o);
    assert_non_null(c->c);
    assert_int_equal(sql_proto_conn_start(c->c), 0);
    drain(c, NULL);
    struct mc_buf pl = {0}, fr = {0};
    struct mc_login l = {.caps = MC_CAPS_BASE, .user = "root"};
    mc_login_payload(&pl, &l);
    uint8_t seq = 1;
    mc_frame(&fr, pl.p, pl.len, &seq);
    size_t used;
    assert_int_equal(sql_proto_conn_feed(c->c, fr.p, fr.len, &used), 0);
    mc_free(&pl);
    mc_free(&fr);
    struct mc_buf out = {0};
    drain(c, &out);
    assert_true(sql_proto_conn_authenticated(c->c));
    mc_free(&out);
}

void sqlfx_disconnect(struct sqlfx_conn *c)
{
    sql_proto_conn_destroy(c->c);
    sql_session_destroy(c->s);
    free(c->pk);
    c->pk = NULL;
}

void sqlfx_open_db(struct sqlfx *f, struct sqlfx_conn *c)
{
    sqlfx_open(f, false);
    sqlfx_connect(f, c, 1);
    assert_string_equal(sqlfx_q(c, "CREATE DATABASE d"), "OK 1 0 0");
    assert_string_equal(sqlfx_q(c, "USE d"), "OK 0 0 0");
}

void sqlfx_close_db(struct sqlfx *f, struct sqlfx_conn *c)
{
    sqlfx_disconnect(c);
    sqlfx_close(f);
}

void sqlfx_two_server(struct sqlfx_two *w, struct sqlfx *f,
                      unsigned lease_ms)
{
    struct sql_server_options o = {.cluster = &w->co,
                                   .schema_lease_ms = lease_ms};
    char err[256] = "";
    memset(f, 0, sizeof(*f));
    int rc = sql_server_open(&o, &f->srv, err, sizeof(err));
    if (rc != 0)
        fail_msg("sql_server_open: %d %s", rc, err);
}

void sqlfx_two_store(struct sqlfx_two *w)
{
    memset(w, 0, sizeof(*w));
    assert_int_equal(mvcc_memengine_create(&w->eng), 0);
    struct mvcc_store_opts so = {.lock_table = true};
    assert_int_equal(mvcc_store_open(w->eng, &so, &w->store), 0);
    assert_int_equal(mvcc_local_transport_init(&w->tr, &w->store, 1, NULL),
                     0);
    w->co = (struct mvcc_client_opts){.transport = w->tr,
                                      .tso = mvcc_local_tso_next,
                                      .tso_ctx = &w->tso,
                                      .one_pc = true,
                                      .resolve_budget_ms = 100};
}

void sqlfx_two_store_close(struct sqlfx_two *w)
{
    mvcc_local_transport_free(&w->tr);
    mvcc_store_close(w->store);
    mvcc_engine_destroy(w->eng);
}

void sqlfx_two_open(struct sqlfx_two *w, unsigned lease_ms)
{
    sqlfx_two_store(w);
    sqlfx_two_server(w, &w->a, lease_ms);
    sqlfx_two_server(w, &w->b, lease_ms);
    sqlfx_connect(&w->a, &w->ca, 1);
    sqlfx_connect(&w->b, &w->cb, 2);
    assert_string_equal(sqlfx_q(&w->ca, "CREATE DATABASE d"), "OK 1 0 0");
    assert_string_equal(sqlfx_q(&w->ca, "USE d"), "OK 0 0 0");
    assert_string_equal(sqlfx_q(&w->cb, "USE d"), "OK 0 0 0");
}

void sqlfx_two_close(struct sqlfx_two *w)
{
    sqlfx_disconnect(&w->ca);
    sqlfx_disconnect(&w->cb);
    sql_server_close(w->a.srv);
    sql_server_close(w->b.srv);
    sqlfx_two_store_close(w);
}

static void emit(struct sqlfx_conn *c, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(c->out + *n, sizeof(c->out) - *n, fmt, ap);
    va_end(ap);
    if (w > 0)
        *n += (size_t)w;
    if (*n >= sizeof(c->out))
        *n = sizeof(c->out) - 1;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

const char *sqlfx_q(struct sqlfx_conn *c, const char *sql)
{
    struct mc_buf pl = {0}, fr = {0}, out = {0};
    mc_u8(&pl, 0x03);
    mc_put(&pl, sql, strlen(sql));
    uint8_t seq = 0;
    mc_frame(&fr, pl.p, pl.len, &seq);
    assert_int_equal(sql_proto_conn_feed(c->c, fr.p, fr.len, NULL), 0);
    drain(c, &out);
    enum { MAXPK = 200000 };
    if (!c->pk)
        c->pk = malloc(MAXPK * sizeof(struct mc_pkt));
    assert_non_null(c->pk);
    struct mc_pkt *pk = c->pk;
    int np = mc_split(out.p, out.len, pk, MAXPK);
    assert_true(np > 0);
    size_t n = 0;
    c->out[0] = '\0';
    int i = 0;
    while (i < np) {
        const uint8_t *p = pk[i].p;
        size_t len = pk[i].len;
        uint16_t status = 0;
        if (p[0] == 0x00) {
            size_t off = 1;
            uint64_t aff = 0, last = 0;
            mc_read_lenenc(p, len, &off, &aff);
            mc_read_lenenc(p, len, &off, &last);
            status = le16(p + off);
            emit(c, &n, "OK %llu %llu %u", (unsigned long long)aff,
                 (unsigned long long)last, (unsigned)le16(p + off + 2));
            i++;
        } else if (p[0] == 0xFF) {
            emit(c, &n, "ERR %u %.*s", (unsigned)le16(p + 1), (int)(len - 9),
                 (const char *)p + 9);
            i++;
        } else {
            size_t off = 0;
            uint64_t ncols = 0;
            mc_read_lenenc(p, len, &off, &ncols);
            i++;
            for (uint64_t k = 0; k < ncols; k++, i++) {
                if (!c->headers)
                    continue;
                /* def, schema, table, org_table, name */
                size_t o = 0;
                uint64_t sl = 0;
                for (int f = 0; f < 4; f++) {
                    mc_read_lenenc(pk[i].p, pk[i].len, &o, &sl);
                    o += sl;
                }
                mc_read_lenenc(pk[i].p, pk[i].len, &o, &sl);
                emit(c, &n, "%s%.*s", k ? "|" : "", (int)sl,
                     (const char *)pk[i].p + o);
            }
            if (c->headers)
                emit(c, &n, "\n");
            i++; /* EOF after the definitions */
            bool first = true;
            while (i < np && !(pk[i].p[0] == 0xFE && pk[i].len < 9)) {
                if (pk[i].p[0] == 0xFF)
                    break;
                emit(c, &n, "%s", first ? "" : "\n");
                first = false;
                size_t o = 0;
                for (uint64_t k = 0; k < ncols; k++) {
                    if (pk[i].p[o] == 0xFB) {
                        emit(c, &n, "%sNULL", k ? "|" : "");
                        o++;
                        continue;
                    }
                    uint64_t sl = 0;
                    mc_read_lenenc(pk[i].p, pk[i].len, &o, &sl);
                    emit(c, &n, "%s%.*s", k ? "|" : "", (int)sl,
                         (const char *)pk[i].p + o);
                    o += sl;
                }
                i++;
            }
            if (i < np && pk[i].p[0] == 0xFF)
                continue; /* the error is rendered next */
            if (i < np)
                status = le16(pk[i].p + 3);
            i++;
        }
        if (i < np) {
            emit(c, &n, "\n--\n");
            (void)status;
        }
    }
    mc_free(&pl);
    mc_free(&fr);
    mc_free(&out);
    return c->out;
}

/* ---- prepared statements (binary protocol) ------------------------------ */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static int exchange(struct sqlfx_conn *c, const struct mc_buf *pl,
                    struct mc_buf *out, struct mc_pkt *pk, size_t max)
{
    struct mc_buf fr = {0};
    uint8_t seq = 0;
    mc_frame(&fr, pl->p, pl->len, &seq);
    assert_int_equal(sql_proto_conn_feed(c->c, fr.p, fr.len, NULL), 0);
    mc_free(&fr);
    drain(c, out);
    int np = mc_split(out->p, out->len, pk, max);
    assert_true(np > 0);
    return np;
}

int sqlfx_prepare(struct sqlfx_conn *c, const char *sql, unsigned *nparams,
                  unsigned *ncols)
{
    struct mc_buf pl = {0}, out = {0};
    mc_u8(&pl, 0x16);
    mc_put(&pl, sql, strlen(sql));
    struct mc_pkt pk[64];
    exchange(c, &pl, &out, pk, 64);
    int id = -1;
    c->out[0] = '\0';
    if (pk[0].p[0] == 0x00) {
        id = (int)le32(pk[0].p + 1);
        *ncols = le16(pk[0].p + 5);
        *nparams = le16(pk[0].p + 7);
    } else
        snprintf(c->out, sizeof(c->out), "ERR %u %.*s",
                 (unsigned)le16(pk[0].p + 1), (int)(pk[0].len - 9),
                 (const char *)pk[0].p + 9);
    mc_free(&pl);
    mc_free(&out);
    return id;
}

/* Execute with parameters given as text ("NULL" for NULL; an all-digit
 * text goes as a LONGLONG, anything else as VAR_STRING); result values
 * of LONGLONG/LONG columns and strings are rendered like sqlfx_q's. */
const char *sqlfx_execute(struct sqlfx_conn *c, int id, unsigned nparams,
                          const char *const *params)
{
    struct mc_buf pl = {0}, out = {0};
    mc_u8(&pl, 0x17);
    mc_u32(&pl, (uint32_t)id);
    mc_u8(&pl, 0);
    mc_u32(&pl, 1);
    if (nparams) {
        uint8_t nb[32] = {0};
        for (unsigned i = 0; i < nparams; i++)
            if (strcmp(params[i], "NULL") == 0)
                nb[i / 8] |= (uint8_t)(1u << (i % 8));
        mc_put(&pl, nb, (nparams + 7) / 8);
        mc_u8(&pl, 1);
        for (unsigned i = 0; i < nparams; i++) {
            bool num = params[i][0] && strspn(params[i], "0123456789") ==
                                           strlen(params[i]);
            mc_u16(&pl, num ? 8 : 253);
        }
        for (unsigned i = 0; i < nparams; i++) {
            if (strcmp(params[i], "NULL") == 0)
                continue;
            bool num = params[i][0] && strspn(params[i], "0123456789") ==
                                           strlen(params[i]);
            if (num)
                mc_u64(&pl, strtoull(params[i], NULL, 10));
            else
                mc_lenenc_str(&pl, params[i]);
        }
    }
    static struct mc_pkt pk[4096];
    int np = exchange(c, &pl, &out, pk, 4096);
    size_t n = 0;
    c->out[0] = '\0';
    const uint8_t *p = pk[0].p;
    if (p[0] == 0x00 && np == 1) {
        size_t off = 1;
        uint64_t aff = 0, last = 0;
        mc_read_lenenc(p, pk[0].len, &off, &aff);
        mc_read_lenenc(p, pk[0].len, &off, &last);
        emit(c, &n, "OK %llu %llu", (unsigned long long)aff,
             (unsigned long long)last);
    } else if (p[0] == 0xFF) {
        emit(c, &n, "ERR %u %.*s", (unsigned)le16(p + 1), (int)(pk[0].len - 9),
             (const char *)p + 9);
    } else {
        size_t off = 0;
        uint64_t ncols = 0;
        mc_read_lenenc(p, pk[0].len, &off, &ncols);
        uint8_t types[64];
        for (uint64_t k = 0; k < ncols && k < 64; k++) {
            /* The type byte sits after the six strings and 0x0C,
             * charset(2), length(4). */
            const struct mc_pkt *cd = &pk[1 + k];
            size_t o = 0;
            uint64_t sl;
            for (int f = 0; f < 6; f++) {
                mc_read_lenenc(cd->p, cd->len, &o, &sl);
                o += sl;
            }
            types[k] = cd->p[o + 7];
        }
        int i = 1 + (int)ncols + 1; /* definitions, EOF */
        bool first = true;
        for (; i < np && pk[i].p[0] == 0x00; i++) {
            emit(c, &n, "%s", first ? "" : "\n");
            first = false;
            const uint8_t *r = pk[i].p;
            size_t o = 1 + (ncols + 9) / 8;
            for (uint64_t k = 0; k < ncols; k++) {
                bool null = r[1 + (k + 2) / 8] & (1u << ((k + 2) % 8));
                if (null) {
                    emit(c, &n, "%sNULL", k ? "|" : "");
                    continue;
                }
                if (types[k] == 8) {
                    uint64_t v = 0;
                    for (int b = 7; b >= 0; b--)
                        v = v << 8 | r[o + (size_t)b];
                    emit(c, &n, "%s%lld", k ? "|" : "", (long long)v);
                    o += 8;
                } else if (types[k] == 3) {
                    emit(c, &n, "%s%d", k ? "|" : "", (int32_t)le32(r + o));
                    o += 4;
                } else {
                    uint64_t sl = 0;
                    mc_read_lenenc(r, pk[i].len, &o, &sl);
                    emit(c, &n, "%s%.*s", k ? "|" : "", (int)sl,
                         (const char *)r + o);
                    o += sl;
                }
            }
        }
        if (i < np && pk[i].p[0] == 0xFF)
            emit(c, &n, "%sERR %u", first ? "" : "\n",
                 (unsigned)le16(pk[i].p + 1));
    }
    mc_free(&pl);
    mc_free(&out);
    return c->out;
}

void sqlfx_close_stmt(struct sqlfx_conn *c, int id)
{
    struct mc_buf pl = {0}, fr = {0};
    mc_u8(&pl, 0x19);
    mc_u32(&pl, (uint32_t)id);
    uint8_t seq = 0;
    mc_frame(&fr, pl.p, pl.len, &seq);
    assert_int_equal(sql_proto_conn_feed(c->c, fr.p, fr.len, NULL), 0);
    drain(c, NULL);
    mc_free(&pl);
    mc_free(&fr);
}

/* acct.c: user accounts (DESIGN.md "Accounts and privileges"): their
 * records under the meta prefix, the server's cache of them, root's
 * creation in a new store, the login lookup with MySQL's host matching,
 * and CREATE USER, DROP USER, ALTER USER and SET PASSWORD.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acct.h"
#include "session.h"
#include "sql_int.h"
#include "tablecodec.h"

#define ACCT_REC_VERSION 1
#define MAX_USER 32  /* MySQL's user name limit */
#define MAX_HOST 255 /* and host name limit */

static const char K_ACCT[] = "mAcct";
static const char K_PRIV_VER[] = "mPrivVer";

/* ---- objects ----------------------------------------------------------- */

static char *xstrndup(const char *s, size_t n)
{
    char *p = sql__malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static char *xstrdup(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

void sql__acct_free(struct sql_acct *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->ngrants; i++) {
        sql__free(a->grants[i].db);
        sql__free(a->grants[i].table);
    }
    sql__free(a->grants);
    sql__free(a->user);
    sql__free(a->host);
    sql__free(a);
}

void sql__acct_free_all(struct sql_accts *as)
{
    if (!as)
        return;
    for (size_t i = 0; i < as->n; i++)
        sql__acct_free(as->a[i]);
    sql__free(as->a);
    sql__free(as);
}

/* A new account user@host (host lower-cased), no password or privileges. */
static struct sql_acct *acct_new(const char *user, size_t ulen,
                                 const char *host, size_t hlen)
{
    struct sql_acct *a = sql__calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->user = xstrndup(user, ulen);
    a->host = xstrndup(host, hlen);
    a->plugin = SQL_AUTH_NATIVE;
    if (!a->user || !a->host) {
        sql__acct_free(a);
        return NULL;
    }
    for (char *p = a->host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return a;
}

struct sql_acct *sql__acct_copy(const struct sql_acct *src)
{
    struct sql_acct *a = acct_new(src->user, strlen(src->user), src->host,
                                  strlen(src->host));
    if (!a)
        return NULL;
    a->plugin = src->plugin;
    a->has_password = src->has_password;
    memcpy(a->hash, src->hash, sizeof(a->hash));
    a->global = src->global;
    if (src->ngrants) {
        a->grants = sql__calloc(src->ngrants, sizeof(*a->grants));
        if (!a->grants)
            goto nomem;
        for (size_t i = 0; i < src->ngrants; i++) {
            struct sql_grant *g = &a->grants[i];
            a->ngrants++;
            g->privs = src->grants[i].privs;
            g->db = xstrdup(src->grants[i].db);
            g->table = xstrdup(src->grants[i].table);
            if (!g->db || (src->grants[i].table && !g->table))
                goto nomem;
        }
    }
    return a;
nomem:
    sql__acct_free(a);
    return NULL;
}

/* ---- records ------------------------------------------------------------ */

static size_t hash_len(int plugin, bool has_password)
{
    if (!has_password)
        return 0;
    return plugin == SQL_AUTH_CACHING_SHA2 ? 32 : 20;
}

int sql__acct_encode(const struct sql_acct *a, struct sql__buf *b)
{
    size_t hl = hash_len(a->plugin, a->has_password);
    int rc = sql__buf_u8(b, ACCT_REC_VERSION);
    rc = rc ? rc : sql__buf_u8(b, (uint8_t)a->plugin);
    rc = rc ? rc : sql__buf_u8(b, a->has_password ? 1 : 0);
    rc = rc ? rc : sql__buf_u8(b, (uint8_t)hl);
    rc = rc ? rc : sql__buf_put(b, a->hash, hl);
    rc = rc ? rc : sql__buf_u32(b, a->global);
    rc = rc ? rc : sql__buf_u32(b, (uint32_t)a->ngrants);
    for (size_t i = 0; rc == 0 && i < a->ngrants; i++) {
        const struct sql_grant *g = &a->grants[i];
        const char *t = g->table ? g->table : "";
        rc = sql__buf_lenenc_str(b, g->db, strlen(g->db));
        rc = rc ? rc : sql__buf_lenenc_str(b, t, strlen(t));
        rc = rc ? rc : sql__buf_u32(b, g->privs);
    }
    return rc;
}

/* A name as the encoder writes it: the shortest length prefix, no NUL
 * (names are C strings once decoded). Sets r->bad otherwise. */
static const uint8_t *name_str(struct sql__rd *r, size_t *len)
{
    size_t start = r->off;
    const uint8_t *p = sql__rd_lenenc_str(r, len);
    if (p && (r->off - start != sql__lenenc_size(*len) + *len ||
              memchr(p, 0, *len))) {
        r->bad = true;
        return NULL;
    }
    return p;
}

int sql__acct_decode(const char *user, size_t ulen, const char *host,
                     size_t hlen, const uint8_t *p, size_t n,
                     struct sql_acct **out)
{
    struct sql_acct *a = acct_new(user, ulen, host, hlen);
    if (!a)
        return -ENOMEM;
    struct sql__rd r;
    sql__rd_init(&r, p, n);
    int rc = SQL_EPROTO;
    if (sql__rd_u8(&r) != ACCT_REC_VERSION)
        goto err;
    a->plugin = sql__rd_u8(&r);
    uint8_t hp = sql__rd_u8(&r);
    a->has_password = hp == 1;
    size_t hl = sql__rd_u8(&r);
    if (r.bad || hp > 1 || (a->plugin != SQL_AUTH_NATIVE &&
                  a->plugin != SQL_AUTH_CACHING_SHA2) ||
        hl != hash_len(a->plugin, a->has_password))
        goto err;
    const uint8_t *h = sql__rd_bytes(&r, hl);
    if (hl && h)
        memcpy(a->hash, h, hl);
    a->global = sql__rd_u32(&r);
    uint32_t ng = sql__rd_u32(&r);
    if (r.bad || ng > sql__rd_left(&r) / 6)
        goto err;
    if (ng) {
        rc = -ENOMEM;
        if (!(a->grants = sql__calloc(ng, sizeof(*a->grants))))
            goto err;
        rc = SQL_EPROTO;
    }
    for (uint32_t i = 0; i < ng; i++) {
        size_t dl = 0, tl = 0;
        const uint8_t *d = name_str(&r, &dl);
        const uint8_t *t = name_str(&r, &tl);
        uint32_t privs = sql__rd_u32(&r);
        if (r.bad || dl == 0)
            goto err;
        struct sql_grant *g = &a->grants[a->ngrants++];
        g->privs = privs;
        g->db = xstrndup((const char *)d, dl);
        g->table = tl ? xstrndup((const char *)t, tl) : NULL;
        if (!g->db || (tl && !g->table)) {
            rc = -ENOMEM;
            goto err;
        }
    }
    if (sql__rd_left(&r) != 0)
        goto err;
    *out = a;
    return 0;
err:
    sql__acct_free(a);
    return rc;
}

/* "mAcct" user NUL host */
static int acct_key(struct sql__buf *k, const char *user, const char *host)
{
    int rc = sql__buf_put(k, K_ACCT, sizeof(K_ACCT) - 1);
    rc = rc ? rc : sql__buf_put(k, user, strlen(user));
    rc = rc ? rc : sql__buf_u8(k, 0);
    return rc ? rc : sql__buf_put(k, host, strlen(host));
}

static int acct_store(struct sql_kvtxn *t, const struct sql_acct *a)
{
    struct sql__buf k = {0}, v = {0};
    int rc = acct_key(&k, a->user, a->host);
    rc = rc ? rc : sql__acct_encode(a, &v);
    rc = rc ? rc : sql__kvtxn_set(t, k.p, k.len, v.p, v.len);
    sql__buf_free(&k);
    sql__buf_free(&v);
    return rc;
}

static int acct_unstore(struct sql_kvtxn *t, const char *user,
                        const char *host)
{
    struct sql__buf k = {0};
    int rc = acct_key(&k, user, host);
    rc = rc ? rc : sql__kvtxn_delete(t, k.p, k.len);
    sql__buf_free(&k);
    return rc;
}

static int priv_ver(struct sql_kvtxn *t, uint64_t *out)
{
    uint8_t *v = NULL;
    size_t n = 0;
    *out = 0;
    int rc = sql__kvtxn_get(t, K_PRIV_VER, sizeof(K_PRIV_VER) - 1, &v, &n);
    if (rc == MVCC_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < 8 && i < n; i++)
        *out |= (uint64_t)v[i] << (8 * i);
    sql__kv_free(v);
    return 0;
}

/* mPrivVer + 1 in t; *out (may be NULL) the new version. */
static int acct_bump(struct sql_kvtxn *t, uint64_t *out)
{
    uint64_t ver;
    int rc = priv_ver(t, &ver);
    if (rc != 0)
        return rc;
    ver++;
    if (out)
        *out = ver;
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(ver >> (8 * i));
    return sql__kvtxn_set(t, K_PRIV_VER, sizeof(K_PRIV_VER) - 1, b, 8);
}

/* ---- the cache ----------------------------------------------------------- */

static int accts_add(struct sql_accts *as, struct sql_acct *a)
{
    void *p = sql__realloc(as->a, (as->n + 1) * sizeof(*as->a));
    if (!p)
        return -ENOMEM;
    as->a = p;
    as->a[as->n++] = a;
    return 0;
}

struct sql_acct *sql__acct_find(const struct sql_accts *as, const char *user,
                                const char *host)
{
    for (size_t i = 0; as && i < as->n; i++)
        if (strcmp(as->a[i]->user, user) == 0 &&
            strcasecmp(as->a[i]->host, host) == 0)
            return as->a[i];
    return NULL;
}

static void acct_lock(struct sql_server *srv)
{
    pthread_mutex_lock(&srv->acct_mu);
}

static void acct_unlock(struct sql_server *srv)
{
    pthread_mutex_unlock(&srv->acct_mu);
}

static int cache_put(struct sql_server *srv, struct sql_acct *a)
{
    int rc = 0;
    acct_lock(srv);
    size_t i;
    for (i = 0; i < srv->accts->n; i++)
        if (strcmp(srv->accts->a[i]->user, a->user) == 0 &&
            strcmp(srv->accts->a[i]->host, a->host) == 0)
            break;
    if (i < srv->accts->n) {
        /* caching_sha2's cache entry outlives a GRANT, not a new
         * password (MySQL's: ALTER USER ... IDENTIFIED BY clears it). */
        const struct sql_acct *old = srv->accts->a[i];
        a->sha2_cached = old->sha2_cached && old->plugin == a->plugin &&
                         old->has_password == a->has_password &&
                         memcmp(old->hash, a->hash, sizeof(a->hash)) == 0;
        sql__acct_free(srv->accts->a[i]);
        srv->accts->a[i] = a;
    } else if ((rc = accts_add(srv->accts, a)) != 0) {
        sql__acct_free(a);
    }
    acct_unlock(srv);
    return rc;
}

static void cache_drop(struct sql_server *srv, const char *user,
                       const char *host)
{
    acct_lock(srv);
    struct sql_accts *as = srv->accts;
    for (size_t i = 0; i < as->n; i++)
        if (strcmp(as->a[i]->user, user) == 0 &&
            strcasecmp(as->a[i]->host, host) == 0) {
            sql__acct_free(as->a[i]);
            memmove(&as->a[i], &as->a[i + 1],
                    (as->n - i - 1) * sizeof(*as->a));
            as->n--;
            break;
        }
    acct_unlock(srv);
}

static void set_password(struct sql_acct *a, const char *pw, size_t n)
{
    memset(a->hash, 0, sizeof(a->hash));
    a->has_password = n > 0;
    if (n == 0)
        return;
    if (a->plugin == SQL_AUTH_CACHING_SHA2)
        sql_auth_sha2_hash(pw, n, a->hash);
    else
        sql_auth_native_hash(pw, n, a->hash);
}

/* Reads of the accounts after losing the race to create root. */
#define ROOT_RACE_TRIES 8

/* A new store: 'root'@'%' with everything, written and committed by t
 * (which read no account: a server bootstrapping at the same time makes
 * one of the two commits conflict). */
static int bootstrap_root(struct sql_server *srv, struct sql_kvtxn *t,
                          const char *pw)
{
    struct sql_acct *a = acct_new("root", 4, "%", 1);
    if (!a) {
        sql__kvtxn_rollback(t);
        return -ENOMEM;
    }
    a->global = SQL_PRIV_ALL_GLOBAL | SQL_PRIV_GRANT;
    set_password(a, pw ? pw : "", pw ? strlen(pw) : 0);
    int rc = acct_bump(t, &srv->priv_ver);
    rc = rc ? rc : acct_store(t, a);
    if (rc == 0) {
        rc = sql__kvtxn_commit(t);
        t = NULL;
    }
    sql__kvtxn_rollback(t);
    if (rc == 0 && (rc = accts_add(srv->accts, a)) == 0)
        return 0;
    sql__acct_free(a);
    return rc;
}

/* Every account as t sees it, with the version, into a new cache. */
static int read_accts(struct sql_kvtxn *t, struct sql_accts **out,
                      uint64_t *ver)
{
    struct sql_accts *as = sql__calloc(1, sizeof(*as));
    if (!as)
        return -ENOMEM;
    struct sql_kvres res;
    sql__kvres_init(&res);
    uint8_t end[sizeof(K_ACCT)];
    sql__tc_prefix_next((const uint8_t *)K_ACCT, sizeof(K_ACCT) - 1, end);
    int rc = priv_ver(t, ver);
    if (rc == 0)
        rc = sql__kvtxn_scan(t, K_ACCT, sizeof(K_ACCT) - 1, end,
                             sizeof(K_ACCT) - 1, 0, false, &res);
    for (size_t i = 0; rc == 0 && i < res.r.npairs; i++) {
        const struct mvcc_kvpair *kv = &res.r.pairs[i];
        const char *u = (const char *)kv->key + sizeof(K_ACCT) - 1;
        size_t rest = kv->key_len - (sizeof(K_ACCT) - 1);
        const char *nul = memchr(u, 0, rest);
        if (!nul) {
            rc = SQL_EPROTO;
            break;
        }
        size_t ul = (size_t)(nul - u);
        struct sql_acct *a;
        rc = sql__acct_decode(u, ul, nul + 1, rest - ul - 1, kv->value,
                              kv->value_len, &a);
        if (rc == 0 && (rc = accts_add(as, a)) != 0)
            sql__acct_free(a);
    }
    sql__kvres_reset(&res);
    if (rc != 0) {
        sql__acct_free_all(as);
        return rc;
    }
    *out = as;
    return 0;
}

int sql__acct_load(struct sql_server *srv, const char *root_password,
                   char *errmsg, size_t errmsg_len)
{
    int rc;
    /* Several servers starting on one fresh cluster race to create root:
     * the losers' commits conflict, and they read again (finding it). */
    for (int attempt = 0;; attempt++) {
        struct sql_kvtxn *t = NULL;
        rc = sql__kv_begin(srv->kv, &t);
        if (rc == 0)
            rc = read_accts(t, &srv->accts, &srv->priv_ver);
        if (rc == 0 && srv->accts->n == 0) {
            rc = bootstrap_root(srv, t, root_password);
            t = NULL;
        }
        sql__kvtxn_rollback(t);
        if (rc != MVCC_CONFLICT || attempt == ROOT_RACE_TRIES)
            break;
        sql__acct_free_all(srv->accts);
        srv->accts = NULL;
    }
    if (rc != 0) {
        if (errmsg && errmsg_len)
            snprintf(errmsg, errmsg_len, "cannot read the accounts: %s",
                     rc == SQL_EPROTO ? "a record is malformed"
                                      : mvcc_strerror(rc));
        sql__acct_free_all(srv->accts);
        srv->accts = NULL;
    }
    return rc;
}

/* ---- matching ------------------------------------------------------------ */

static bool like_ci(const char *p, const char *s)
{
    for (; *p; p++, s++) {
        if (*p == '%') {
            for (const char *t = s;; t++) {
                if (like_ci(p + 1, t))
                    return true;
                if (!*t)
                    return false;
            }
        }
        if (!*s)
            return false;
        if (*p != '_' &&
            tolower((unsigned char)*p) != tolower((unsigned char)*s))
            return false;
    }
    return *s == '\0';
}

static bool is_loopback(const char *host)
{
    return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "::ffff:127.0.0.1") == 0 ||
           strcasecmp(host, "localhost") == 0;
}

bool sql__acct_host_match(const char *pattern, const char *host)
{
    if (pattern[0] == '\0')
        return true; /* '' is any host, as '%' */
    if (strcasecmp(pattern, "localhost") == 0 && is_loopback(host))
        return true;
    return like_ci(pattern, host);
}

/* Higher is more specific: a literal host beats every pattern; patterns
 * rank by the literal characters before their first wildcard; '' last. */
static size_t host_rank(const char *h)
{
    size_t n = strcspn(h, "%_");
    if (h[n] == '\0')
        return n == 0 ? 0 : 100000;
    return n + 1;
}

struct sql_acct *sql__acct_match(const struct sql_accts *as,
                                 const char *user, const char *host)
{
    struct sql_acct *best = NULL;
    size_t best_rank = 0;
    for (size_t i = 0; as && i < as->n; i++) {
        struct sql_acct *a = as->a[i];
        bool anon = a->user[0] == '\0';
        if ((!anon && strcmp(a->user, user) != 0) ||
            !sql__acct_host_match(a->host, host))
            continue;
        /* rank * 2 + named: host first, then a named user. */
        size_t rank = host_rank(a->host) * 2 + (anon ? 0 : 1);
        if (!best || rank > best_rank) {
            best = a;
            best_rank = rank;
        }
    }
    return best;
}

/* ---- the session's account ------------------------------------------ */

static void bind_acct(struct sql_session *s, const struct sql_acct *a)
{
    snprintf(s->acct_user, sizeof(s->acct_user), "%s", a->user);
    snprintf(s->acct_host, sizeof(s->acct_host), "%s", a->host);
    snprintf(s->account, sizeof(s->account), "%s@%s", a->user, a->host);
    s->acct_bound = true;
}

static int auth_lookup(void *ctx, const char *user, const char *host,
                       struct sql_account *out)
{
    struct sql_session *s = ctx;
    struct sql_server *srv = s->srv;
    int rc = SQL_ENOTFOUND;
    snprintf(s->host, sizeof(s->host), "%s", host ? host : "");
    size_t hl = strlen(s->host);
    if (hl >= 2 && s->host[0] == '[' && s->host[hl - 1] == ']') {
        /* "[::1]" as IPv6 peers are often written: the address. */
        memmove(s->host, s->host + 1, hl - 2);
        s->host[hl - 2] = '\0';
    }
    acct_lock(srv);
    struct sql_acct *a = sql__acct_match(srv->accts, user, s->host);
    if (a) {
        memset(out, 0, sizeof(*out));
        out->plugin = a->plugin;
        out->has_password = a->has_password;
        if (a->plugin == SQL_AUTH_CACHING_SHA2) {
            memcpy(out->sha2_hash, a->hash, 32);
            /* The verifier is stored, so the fast path may always be
             * open; with sha2_cache it opens as MySQL's cache does, after
             * a full authentication (DESIGN.md "TLS and full
             * authentication"). */
            out->sha2_cached = !srv->sha2_cache || a->sha2_cached;
        } else {
            memcpy(out->native_hash, a->hash, 20);
        }
        bind_acct(s, a);
        rc = 0;
    }
    acct_unlock(srv);
    return rc;
}

/* The login succeeded: a full caching_sha2 authentication fills the
 * account's cache entry (sha2_cache). */
static void auth_done(void *ctx, bool full)
{
    struct sql_session *s = ctx;
    if (!full || !s->acct_bound)
        return;
    acct_lock(s->srv);
    struct sql_acct *a =
        sql__acct_find(s->srv->accts, s->acct_user, s->acct_host);
    if (a && a->plugin == SQL_AUTH_CACHING_SHA2)
        a->sha2_cached = true;
    acct_unlock(s->srv);
}

static bool auth_require_tls(void *ctx)
{
    struct sql_session *s = ctx;
    return sql__require_secure_transport(s->srv);
}

struct sql_auth_provider sql_session_auth(struct sql_session *s)
{
    struct sql_auth_provider p = {s, auth_lookup, auth_require_tls,
                                  auth_done};
    return p;
}

struct sql_acct *sql__sess_acct(struct sql_session *s)
{
    struct sql_accts *as = s->srv->accts;
    if (!s->acct_bound) {
        /* Logged in through another provider (an embedding program's):
         * the account its user name matches from its host, once its
         * first command named the user. */
        char user[96];
        snprintf(user, sizeof(user), "%s", s->user);
        char *at = strrchr(user, '@');
        if (at)
            *at = '\0';
        if (!s->in_cmd || !user[0])
            return NULL;
        struct sql_acct *a =
            sql__acct_match(as, user, s->host[0] ? s->host : "localhost");
        if (!a)
            return NULL;
        acct_lock(s->srv);
        bind_acct(s, a);
        acct_unlock(s->srv);
        return a;
    }
    return sql__acct_find(as, s->acct_user, s->acct_host);
}

bool sql__sess_same_user(struct sql_session *s, struct sql_session *o)
{
    if (o == s)
        return true;
    sql__sess_acct(s);
    acct_lock(s->srv);
    bool same = s->acct_bound && o->acct_bound &&
                strcmp(o->acct_user, s->acct_user) == 0;
    acct_unlock(s->srv);
    return same;
}

/* ---- CREATE / DROP / ALTER USER, SET PASSWORD -------------------------- */

/* The account a statement names: CURRENT_USER is the session's. */
static void user_of(struct sql_session *s, const struct ast_user *u,
                    const char **user, const char **host)
{
    if (strcmp(u->name, "CURRENT_USER") == 0 && !u->host) {
        sql__sess_acct(s);
        *user = s->acct_user;
        *host = s->acct_host;
        return;
    }
    *user = u->name;
    *host = u->host ? u->host : "%";
}

static int check_names(struct sql_session *s, const char *user,
                       const char *host)
{
    if (strlen(user) > MAX_USER)
        return sql__serr(s, 1470, "HY000",
                         "String '%.64s' is too long for user name (should "
                         "be no longer than %d)",
                         user, MAX_USER);
    if (strlen(host) > MAX_HOST)
        return sql__serr(s, 1470, "HY000",
                         "String '%.64s' is too long for host name (should "
                         "be no longer than %d)",
                         host, MAX_HOST);
    return 0;
}

static int plugin_of(struct sql_session *s, const char *name, int *out)
{
    if (strcasecmp(name, "mysql_native_password") == 0)
        *out = SQL_AUTH_NATIVE;
    else if (strcasecmp(name, "caching_sha2_password") == 0)
        *out = SQL_AUTH_CACHING_SHA2;
    else
        return sql__serr(s, 1524, "HY000", "Plugin '%.64s' is not loaded",
                         name);
    return 0;
}

/* Append 'u'@'h' to a failure list as MySQL's 1396 names them. */
static void list_add(char *list, size_t cap, const char *user,
                     const char *host)
{
    size_t n = strlen(list);
    snprintf(list + n, cap - n, "%s'%s'@'%s'", n ? "," : "", user, host);
}

int sql__acct_begin(struct sql_session *s, bool force,
                    struct sql_kvtxn **out)
{
    struct sql_server *srv = s->srv;
    struct sql_kvtxn *t = NULL;
    uint64_t ver = 0;
    int rc = sql__kv_begin(srv->kv, &t);
    rc = rc ? rc : priv_ver(t, &ver);
    if (rc == 0 && (force || ver != srv->priv_ver)) {
        /* Changed by another server (or FLUSH PRIVILEGES): read them
         * again from this snapshot; a change after it conflicts with
         * this transaction's bump of mPrivVer. */
        struct sql_accts *as = NULL;
        rc = read_accts(t, &as, &ver);
        if (rc == 0) {
            acct_lock(srv);
            struct sql_accts *old = srv->accts;
            srv->accts = as;
            srv->priv_ver = ver;
            acct_unlock(srv);
            sql__acct_free_all(old);
        }
    }
    if (rc != 0) {
        sql__kvtxn_rollback(t);
        return rc == -ENOMEM || rc == SQL_EQUERY ? rc : sql__kverr(s, rc);
    }
    *out = t;
    return 0;
}

int sql__acct_commit(struct sql_session *s, struct sql_kvtxn **tp,
                     struct sql_acct **put, size_t nput,
                     const struct ast_user *drop)
{
    struct sql_kvtxn *t = *tp;
    uint64_t ver = 0;
    *tp = NULL;
    int rc = acct_bump(t, &ver);
    for (size_t i = 0; rc == 0 && i < nput; i++)
        if (put[i])
            rc = acct_store(t, put[i]);
    for (const struct ast_user *u = drop; rc == 0 && u; u = u->next) {
        const char *user, *host;
        user_of(s, u, &user, &host);
        const struct sql_acct *a = sql__acct_find(s->srv->accts, user, host);
        if (a)
            rc = acct_unstore(t, a->user, a->host);
    }
    if (rc == 0) {
        rc = sql__kvtxn_commit(t);
        t = NULL;
    }
    sql__kvtxn_rollback(t);
    if (rc != 0) {
        for (size_t i = 0; i < nput; i++)
            sql__acct_free(put[i]);
        return sql__kverr(s, rc);
    }
    s->srv->priv_ver = ver;
    for (const struct ast_user *u = drop; u; u = u->next) {
        const char *user, *host;
        user_of(s, u, &user, &host);
        cache_drop(s->srv, user, host);
    }
    for (size_t i = 0; i < nput; i++)
        if (put[i] && (rc = cache_put(s->srv, put[i])) != 0) {
            for (size_t j = i + 1; j < nput; j++)
                sql__acct_free(put[j]);
            return rc;
        }
    return 0;
}

static int set_auth(struct sql_session *s, struct sql_acct *a,
                    const struct ast_user *u)
{
    if (u->plugin) {
        int rc = plugin_of(s, u->plugin, &a->plugin);
        if (rc != 0)
            return rc;
        if (!u->has_password)
            set_password(a, "", 0);
    }
    if (u->has_password)
        set_password(a, u->password.s, u->password.n);
    return 0;
}

struct sql_acct **sql__acct_slots(const struct ast_user *users, size_t *n)
{
    *n = 0;
    for (const struct ast_user *u = users; u; u = u->next)
        (*n)++;
    return sql__calloc(*n ? *n : 1, sizeof(struct sql_acct *));
}

static int user_stmt(struct sql_session *s, const struct ast_stmt *st,
                     struct sql_kvtxn **t)
{
    size_t n;
    struct sql_acct **put = sql__acct_slots(st->users, &n);
    if (!put)
        return -ENOMEM;
    const char *op = st->kind == AST_CREATE_USER ? "CREATE USER"
                     : st->kind == AST_DROP_USER ? "DROP USER"
                                                 : "ALTER USER";
    char failed[512] = "";
    int rc = 0;
    size_t i = 0;
    for (const struct ast_user *u = st->users; rc == 0 && u; u = u->next, i++) {
        const char *user, *host;
        user_of(s, u, &user, &host);
        if ((rc = check_names(s, user, host)) != 0)
            break;
        struct sql_acct *cur = sql__acct_find(s->srv->accts, user, host);
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || (put[j] && strcmp(put[j]->user, user) == 0 &&
                          strcasecmp(put[j]->host, host) == 0);
        if (st->kind == AST_CREATE_USER ? (cur || dup) : !cur) {
            if (st->kind == AST_ALTER_USER && st->flag2) {
                rc = sql__serr(s, 1133, "42000",
                               "Can't find any matching row in the user "
                               "table");
                break;
            }
            if (st->if_exists)
                sql__swarn(s, "Note", cur ? 3163 : 3162,
                           "Authorization ID '%s'@'%s' %s.", user, host,
                           cur ? "already exists" : "does not exist");
            else
                list_add(failed, sizeof(failed), user, host);
            continue;
        }
        if (st->kind == AST_DROP_USER)
            continue;
        put[i] = cur ? sql__acct_copy(cur)
                     : acct_new(user, strlen(user), host, strlen(host));
        if (!put[i]) {
            rc = -ENOMEM;
            break;
        }
        rc = set_auth(s, put[i], u);
    }
    if (rc == 0 && failed[0])
        rc = sql__serr(s, 1396, "HY000", "Operation %s failed for %s",
                       st->flag2 ? "SET PASSWORD" : op, failed);
    if (rc != 0) {
        for (size_t j = 0; j < n; j++)
            sql__acct_free(put[j]);
        sql__free(put);
        return rc;
    }
    rc = sql__acct_commit(s, t, put, n,
                          st->kind == AST_DROP_USER ? st->users : NULL);
    sql__free(put);
    return rc ? rc : sql__sess_ok(s, 0, 0);
}

int sql__acct_run(struct sql_session *s, const struct ast_stmt *st)
{
    struct sql_kvtxn *t = NULL;
    int rc = sql__acct_begin(s, false, &t);
    if (rc != 0)
        return rc;
    switch (st->kind) {
    case AST_CREATE_USER:
    case AST_DROP_USER:
    case AST_ALTER_USER:
        rc = user_stmt(s, st, &t);
        break;
    default:
        rc = sql__grant_run(s, st, &t);
        break;
    }
    sql__kvtxn_rollback(t); /* not committed: an error came first */
    return rc;
}

int sql__acct_flush(struct sql_session *s)
{
    if (!sql__priv_global(s, SQL_PRIV_SUPER))
        return sql__serr(s, 1227, "42000",
                         "Access denied; you need (at least one of) the "
                         "RELOAD privilege(s) for this operation");
    struct sql_kvtxn *t = NULL;
    int rc = sql__acct_begin(s, true, &t);
    sql__kvtxn_rollback(t);
    return rc ? rc : sql__sess_ok(s, 0, 0);
}

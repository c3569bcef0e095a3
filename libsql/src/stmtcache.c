/* stmtcache.c: a session's parse trees of query texts by shape, reused
 * with the constants of the text at hand put in (DESIGN.md, "Statement
 * cache").
 *
 * A text's shape is its bytes with the holes taken out: the integer and
 * string literal tokens of its top-level WHERE clause that stand where
 * an operand of a comparison, BETWEEN, AND/OR, arithmetic (not a sign)
 * or an IN list stands, and are followed by what may follow an operand.
 * Two texts of one shape lex to the same tokens but for the holes' values
 * (the bytes around the holes are the same, and the real lexer found
 * the holes in both). An entry holds the parse of the first text of its
 * shape, made with the parser noting which node each literal token
 * became (sql__parse_one_rec); it is kept only when every hole became a
 * node of its own holding exactly the token's value (so no parse-time
 * use of the value, such as folding -5, hides in it). A hit writes the
 * new values into those nodes: the tree is then what parsing the new
 * text gives. Plans are made afresh by the caller every time.
 */
#include "stmtcache.h"

#include <errno.h>
#include <string.h>

#include "lex.h"

#define REC_CAP 256 /* literal nodes noted per parse */

struct hole
{
    struct ast_expr *node; /* the literal node the value goes into */
    int type;              /* TK_INT or TK_STRING */
    bool has_str;          /* an integer node keeps its digits too */
};

struct entry
{
    bool used;                 /* holds a shape */
    bool refused;              /* the shape is not cacheable: callers
                                  parse it themselves */
    uint64_t hash;             /* of key */
    uint8_t *key;              /* the shape (in arena) */
    size_t key_len;            /* its length */
    uint64_t last;             /* clock at the last use (LRU) */
    struct sql_arena *arena;   /* text copy, tree, key */
    struct ast_stmt *stmt;     /* the tree */
    struct hole holes[SQL_STMTCACHE_HOLES]; /* in text order */
    size_t nholes;             /* their count */
};

struct sql_stmtcache
{
    struct entry e[SQL_STMTCACHE_ENTRIES]; /* the entries */
    uint64_t clock;                        /* bumped per use */
    uint64_t epoch;                        /* what the entries are */
    uint64_t sgen;                         /* of (the caller's) */
    bool any_gen;                          /* epoch/sgen are set */
    struct sql_stmtcache_stats st;         /* counters */
};

/* One scan of a text: its shape and its holes. */
struct scan
{
    uint8_t *key;                            /* the shape */
    size_t key_len;                          /* its length */
    struct sql_token holes[SQL_STMTCACHE_HOLES]; /* the hole tokens */
    size_t nholes;                           /* their count */
    size_t stmt_end;                         /* end of the last token
                                                before ';' / the end */
};

struct sql_stmtcache *sql__stmtcache_create(void)
{
    struct sql_stmtcache *c = sql__malloc(sizeof(*c));
    if (c)
        memset(c, 0, sizeof(*c));
    return c;
}

void sql__stmtcache_destroy(struct sql_stmtcache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < SQL_STMTCACHE_ENTRIES; i++)
        sql__arena_destroy(c->e[i].arena);
    sql__free(c);
}

void sql__stmtcache_stats(const struct sql_stmtcache *c,
                          struct sql_stmtcache_stats *out)
{
    *out = c->st;
}

static bool is_kw(const struct sql_token *t, int kw)
{
    return t->type == TK_IDENT && t->kw == kw;
}

/* A comparison operator token. */
static bool is_cmp(const struct sql_token *t)
{
    switch (t->type) {
    case TK_EQ:
    case TK_NULLEQ:
    case TK_NE:
    case TK_LT:
    case TK_LE:
    case TK_GT:
    case TK_GE:
        return true;
    default:
        return false;
    }
}

/* What may precede a hole: an operator taking an operand on its right
 * (not a sign: -5 folds into the literal), BETWEEN/AND, OR. */
static bool before_ok(const struct sql_token *p)
{
    if (is_cmp(p))
        return true;
    switch (p->type) {
    case TK_STAR:
    case TK_SLASH:
    case TK_PERCENT:
        return true;
    case TK_IDENT:
        return p->kw == KW_BETWEEN || p->kw == KW_AND || p->kw == KW_OR;
    default:
        return false;
    }
}

/* What may follow a hole: the end, a closing or separating token, a
 * binary operator, a connective, or a clause after WHERE (not another
 * string: 'a' 'b' is one literal; not COLLATE). */
static bool after_ok(const struct sql_token *t)
{
    if (is_cmp(t))
        return true;
    switch (t->type) {
    case TK_EOF:
    case TK_SEMI:
    case TK_RPAREN:
    case TK_COMMA:
    case TK_PLUS:
    case TK_MINUS:
    case TK_STAR:
    case TK_SLASH:
    case TK_PERCENT:
        return true;
    case TK_IDENT:
        return t->kw == KW_AND || t->kw == KW_OR || t->kw == KW_XOR ||
               t->kw == KW_ORDER || t->kw == KW_GROUP ||
               t->kw == KW_HAVING || t->kw == KW_LIMIT || t->kw == KW_FOR ||
               t->kw == KW_LOCK || t->kw == KW_WINDOW;
    default:
        return false;
    }
}

/* Append n bytes of text to the key, a NUL as two (markers are a NUL and
 * a non-NUL byte, so the key says unambiguously where holes are). */
static void key_text(struct scan *sc, const char *p, size_t n)
{
    while (n > 0) {
        const char *z = memchr(p, '\0', n);
        size_t k = z ? (size_t)(z - p) + 1 : n;
        memcpy(sc->key + sc->key_len, p, k);
        sc->key_len += k;
        if (z)
            sc->key[sc->key_len++] = 0;
        p += k;
        n -= k;
    }
}

/* Lexes sql once: 1 with its shape and holes in sc, 0 when the cache
 * does not take it, -ENOMEM. */
static int scan_text(struct sql_arena *a, const char *sql, size_t len,
                     struct scan *sc)
{
    sc->key = sql__arena_alloc(a, 2 * len + 3 * SQL_STMTCACHE_HOLES + 1);
    if (!sc->key)
        return -ENOMEM;
    sc->key_len = 0;
    sc->nholes = 0;
    sc->stmt_end = 0;
    struct sql_lexer lx;
    sql__lex_init(&lx, a, sql, len);
    struct sql_token prev = {0}, t, cand;
    bool have_cand = false, in_where = false, where_seen = false;
    bool first = true, semi = false;
    int depth = 0, inlist = -1;
    size_t done = 0; /* text bytes already in the key */
    for (;;) {
        sql__lex_next(&lx, &t);
        if (t.type == TK_ERROR)
            return lx.oom ? -ENOMEM : 0;
        if (semi && t.type != TK_EOF)
            return 0; /* another statement follows */
        if (have_cand) {
            have_cand = false;
            if (after_ok(&t)) {
                if (sc->nholes == SQL_STMTCACHE_HOLES)
                    return 0;
                key_text(sc, sql + done, cand.start - done);
                sc->key[sc->key_len++] = 0;
                sc->key[sc->key_len++] = cand.type == TK_INT ? 'I' : 'S';
                sc->key[sc->key_len++] =
                    cand.type == TK_INT ? '0' : (uint8_t)sql[cand.start];
                done = cand.end;
                sc->holes[sc->nholes++] = cand;
            }
        }
        if (t.type == TK_EOF)
            break;
        if (t.type == TK_SEMI) {
            semi = true;
            continue;
        }
        if (first && !is_kw(&t, KW_SELECT) && !is_kw(&t, KW_UPDATE) &&
            !is_kw(&t, KW_DELETE))
            return 0;
        first = false;
        sc->stmt_end = t.end;
        if (t.type == TK_LPAREN) {
            depth++;
            if (is_kw(&prev, KW_IN))
                inlist = depth;
        } else if (t.type == TK_RPAREN) {
            if (depth == inlist)
                inlist = -1;
            depth--;
        } else if (t.type == TK_IDENT) {
            if (t.kw == KW_WHERE && depth == 0 && !where_seen) {
                where_seen = in_where = true;
            } else if (in_where &&
                       (t.kw == KW_SELECT || t.kw == KW_UNION ||
                        t.kw == KW_EXCEPT || t.kw == KW_INTERSECT)) {
                return 0; /* a subquery's or set operation's own names */
            } else if (in_where && depth == 0 &&
                       (t.kw == KW_ORDER || t.kw == KW_GROUP ||
                        t.kw == KW_HAVING || t.kw == KW_LIMIT ||
                        t.kw == KW_WINDOW || t.kw == KW_FOR ||
                        t.kw == KW_LOCK || t.kw == KW_INTO)) {
                in_where = false;
            }
        }
        if (in_where && (t.type == TK_INT || t.type == TK_STRING) &&
            (before_ok(&prev) ||
             ((prev.type == TK_LPAREN || prev.type == TK_COMMA) &&
              depth == inlist))) {
            cand = t;
            have_cand = true;
        }
        prev = t;
    }
    if (sc->nholes == 0)
        return 0;
    key_text(sc, sql + done, len - done);
    return 1;
}

/* FNV-1a's multiply over 8 bytes a step (the whole key is compared on
 * a match: the hash only picks candidates). */
static uint64_t hash_key(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037u ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211u;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

/* The value a hole's token gives its node, as the parser sets it. */
static void fill(const struct hole *h, const struct sql_token *t)
{
    struct ast_expr *e = h->node;
    if (h->type == TK_INT) {
        e->is_unsigned = t->ival > (uint64_t)INT64_MAX;
        e->ival = e->is_unsigned ? 0 : (int64_t)t->ival;
        e->uval = e->is_unsigned ? t->ival : 0;
        if (h->has_str) {
            e->str.s = t->str;
            e->str.n = t->len;
        }
    } else {
        e->str.s = t->str;
        e->str.n = t->len;
    }
}

/* Whether node e holds exactly what token t gives (kept as parsed). */
static bool holds(const struct ast_expr *e, const struct sql_token *t)
{
    if (t->type == TK_INT) {
        if (e->kind != AST_E_INT)
            return false;
        if (t->ival > (uint64_t)INT64_MAX)
            return e->is_unsigned && e->uval == t->ival;
        return !e->is_unsigned && e->ival == (int64_t)t->ival;
    }
    return e->kind == AST_E_STRING && e->charset == NULL &&
           e->name == NULL && e->str.n == t->len &&
           (t->len == 0 || memcmp(e->str.s, t->str, t->len) == 0);
}

static struct entry *find(struct sql_stmtcache *c, uint64_t h,
                          const struct scan *sc)
{
    for (size_t i = 0; i < SQL_STMTCACHE_ENTRIES; i++) {
        struct entry *e = &c->e[i];
        if (e->used && e->hash == h && e->key_len == sc->key_len &&
            memcmp(e->key, sc->key, sc->key_len) == 0)
            return e;
    }
    return NULL;
}

/* An unused entry, else the least recently used one (evicted). */
static struct entry *victim(struct sql_stmtcache *c)
{
    struct entry *v = NULL;
    for (size_t i = 0; i < SQL_STMTCACHE_ENTRIES; i++) {
        struct entry *e = &c->e[i];
        if (!e->used)
            return e;
        if (!v || e->last < v->last)
            v = e;
    }
    c->st.evictions++;
    v->used = false;
    return v;
}

/* Parses the text into a fresh entry e and decides whether to keep it.
 * 1 with res (kept or not: the tree lives in e's arena until the next
 * call), 0 on a syntax error (the caller parses again and reports it),
 * -ENOMEM. */
static int insert(struct sql_stmtcache *c, struct entry *e, uint64_t h,
                  const struct scan *sc, const char *sql, size_t len,
                  struct sql_parse_result *res)
{
    if (!e->arena && !(e->arena = sql__arena_create(0)))
        return -ENOMEM;
    sql__arena_reset(e->arena);
    struct sql_arena *a = e->arena;
    char *copy = sql__arena_strndup(a, sql, len);
    uint8_t *key = sql__arena_alloc(a, sc->key_len ? sc->key_len : 1);
    struct sql_parse_rec rec = {
        .starts = sql__arena_alloc(a, sizeof(size_t) * REC_CAP),
        .nodes = sql__arena_alloc(a, sizeof(struct ast_expr *) * REC_CAP),
        .cap = REC_CAP};
    if (!copy || !key || !rec.starts || !rec.nodes)
        return -ENOMEM;
    memcpy(key, sc->key, sc->key_len);
    int rc = sql__parse_one_rec(a, copy, len, res, &rec);
    if (rc == -ENOMEM)
        return -ENOMEM;
    if (rc != 0 || !res->stmt)
        return 0;
    e->used = true;
    e->hash = h;
    e->key = key;
    e->key_len = sc->key_len;
    e->last = ++c->clock;
    e->stmt = res->stmt;
    e->nholes = sc->nholes;
    int k = res->stmt->kind;
    bool ok = !rec.overflow && res->next == len &&
              (k == AST_SELECT || k == AST_UPDATE || k == AST_DELETE);
    for (size_t i = 0; ok && i < sc->nholes; i++) {
        const struct sql_token *t = &sc->holes[i];
        struct ast_expr *node = NULL;
        for (size_t j = 0; j < rec.n; j++)
            if (rec.starts[j] == t->start)
                node = rec.nodes[j];
        /* the scan's tokens decode the caller's text; the parse's the
         * copy: same bytes, same values */
        ok = node != NULL && holds(node, t);
        if (ok)
            e->holes[i] = (struct hole){node, t->type, node->str.s != NULL};
    }
    e->refused = !ok;
    if (ok)
        c->st.misses++;
    else
        c->st.refused++;
    return 1;
}

int sql__stmtcache_parse(struct sql_stmtcache *c, uint64_t epoch,
                         uint64_t sgen, struct sql_arena *a, const char *sql,
                         size_t len, struct sql_parse_result *res)
{
    if (!c->any_gen || c->epoch != epoch || c->sgen != sgen) {
        bool any = false;
        for (size_t i = 0; i < SQL_STMTCACHE_ENTRIES; i++) {
            any = any || c->e[i].used;
            c->e[i].used = false;
        }
        if (any)
            c->st.flushes++;
        c->epoch = epoch;
        c->sgen = sgen;
        c->any_gen = true;
    }
    struct scan sc;
    int rc = scan_text(a, sql, len, &sc);
    if (rc <= 0)
        return rc;
    uint64_t h = hash_key(sc.key, sc.key_len);
    struct entry *e = find(c, h, &sc);
    if (e && e->refused) {
        e->last = ++c->clock;
        return 0;
    }
    if (e) {
        e->last = ++c->clock;
        for (size_t i = 0; i < e->nholes; i++)
            fill(&e->holes[i], &sc.holes[i]);
        memset(res, 0, sizeof(*res));
        res->stmt = e->stmt;
        res->stmt_end = sc.stmt_end;
        res->next = len;
        c->st.hits++;
        return 1;
    }
    return insert(c, victim(c), h, &sc, sql, len, res);
}

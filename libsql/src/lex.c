/* lex.c: the hand-written MySQL-dialect lexer. Quoting, escapes, number
 * forms, variables and comments (including executable comments, whose
 * contents are lexed as SQL) follow the MySQL 8.0 reference manual,
 * "Language Structure". See DESIGN.md, "Parser".
 */
#include <pthread.h>
#include <string.h>

#include "lex.h"

struct kwent
{
    const char *name; /* upper case */
    int cls;          /* 0 non-reserved, 1 reserved, 2 reserved function */
};

static const struct kwent keywords[] = {
    {"", 0},
#define SQL__KW_ENT(name, cls) {#name, cls},
    SQL_KEYWORD_TABLE(SQL__KW_ENT)
#undef SQL__KW_ENT
};

/* Keyword lookup: an open-addressing hash of the upper-cased word, built
 * once (pthread_once) from the sorted table; a word costs one hash and at
 * most a few compares. */
#define KW_HASH_SIZE 1024 /* power of two, > 3 x the keywords */
#define KW_MAX_LEN 31

static unsigned short kw_hash[KW_HASH_SIZE]; /* keyword index, 0 = empty */
static pthread_once_t kw_once = PTHREAD_ONCE_INIT;

static uint32_t hash_upper(const char *up, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)up[i];
        h *= 16777619u;
    }
    return h;
}

static void kw_build(void)
{
    for (int k = 1; k < KW__COUNT; k++) {
        const char *name = keywords[k].name;
        uint32_t h = hash_upper(name, strlen(name)) & (KW_HASH_SIZE - 1);
        while (kw_hash[h] != 0)
            h = (h + 1) & (KW_HASH_SIZE - 1);
        kw_hash[h] = (unsigned short)k;
    }
}

int sql__keyword(const char *s, size_t n)
{
    char up[KW_MAX_LEN + 1];
    if (n == 0 || n > KW_MAX_LEN)
        return KW_NONE;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        up[i] = c;
    }
    up[n] = '\0';
    pthread_once(&kw_once, kw_build);
    uint32_t h = hash_upper(up, n) & (KW_HASH_SIZE - 1);
    for (;;) {
        int k = kw_hash[h];
        if (k == 0)
            return KW_NONE;
        if (strcmp(keywords[k].name, up) == 0)
            return k;
        h = (h + 1) & (KW_HASH_SIZE - 1);
    }
}

const char *sql__keyword_name(int kw)
{
    return (kw > 0 && kw < KW__COUNT) ? keywords[kw].name : "";
}

int sql__keyword_class(int kw)
{
    return (kw > 0 && kw < KW__COUNT) ? keywords[kw].cls : 0;
}

void sql__lex_init(struct sql_lexer *lx, struct sql_arena *arena,
                   const char *src, size_t len)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->len = len;
    lx->line = 1;
    lx->arena = arena;
}

static bool is_ident_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hexval(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

static int peekc(const struct sql_lexer *lx, size_t ahead)
{
    size_t p = lx->pos + ahead;
    return p < lx->len ? (unsigned char)lx->src[p] : -1;
}

/* Skip whitespace and comments; false when a comment is unterminated (pos
 * is then at its start). */
static bool skip_space(struct sql_lexer *lx, bool *saw)
{
    for (;;) {
        int c = peekc(lx, 0);
        if (c == '\n') {
            lx->line++;
            lx->pos++;
            *saw = true;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
                   c == '\v') {
            lx->pos++;
            *saw = true;
        } else if (c == '#' ||
                   (c == '-' && peekc(lx, 1) == '-' &&
                    (peekc(lx, 2) == -1 || peekc(lx, 2) <= ' '))) {
            /* "-- " needs a space or control character after the dashes. */
            while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
                lx->pos++;
            *saw = true;
        } else if (c == '*' && lx->in_exec && peekc(lx, 1) == '/') {
            lx->pos += 2; /* end of an executable comment */
            lx->in_exec = false;
            *saw = true;
        } else if (c == '/' && peekc(lx, 1) == '*') {
            size_t start = lx->pos;
            int startline = lx->line;
            if (peekc(lx, 2) == '!' && !lx->in_exec) {
                /* Executable comment: its body is SQL, unless it names a
                 * server version above ours. */
                size_t p = lx->pos + 3, nd = 0;
                unsigned long ver = 0;
                while (p < lx->len && nd < 6 && is_digit((unsigned char)lx->src[p])) {
                    ver = ver * 10 + (unsigned long)(lx->src[p] - '0');
                    p++;
                    nd++;
                }
                if (nd == 0 || (nd == 5 && ver <= SQL_LEX_SERVER_VERSION)) {
                    lx->pos = p;
                    lx->in_exec = true;
                    *saw = true;
                    continue;
                }
            }
            lx->pos += 2;
            for (;;) {
                if (lx->pos + 1 >= lx->len) {
                    lx->pos = start;
                    lx->line = startline;
                    return false;
                }
                if (lx->src[lx->pos] == '*' && lx->src[lx->pos + 1] == '/') {
                    lx->pos += 2;
                    break;
                }
                if (lx->src[lx->pos] == '\n')
                    lx->line++;
                lx->pos++;
            }
            *saw = true;
        } else {
            return true;
        }
    }
}

/* Decode a quoted string starting at pos (the quote); backslash escapes
 * and doubled quotes. false: unterminated or no memory. */
static bool lex_quoted(struct sql_lexer *lx, struct sql_token *t, bool esc)
{
    char q = lx->src[lx->pos];
    size_t p = lx->pos + 1;
    /* First pass: find the end and the decoded length. */
    size_t n = 0;
    bool plain = true;
    for (;;) {
        if (p >= lx->len)
            return false;
        char c = lx->src[p];
        if (c == q) {
            if (p + 1 < lx->len && lx->src[p + 1] == q) {
                plain = false;
                p += 2;
                n++;
                continue;
            }
            break;
        }
        if (c == '\\' && esc) {
            if (p + 1 >= lx->len)
                return false;
            plain = false;
            /* \% and \_ keep their backslash (LIKE patterns need it). */
            n += (lx->src[p + 1] == '%' || lx->src[p + 1] == '_') ? 2 : 1;
            p += 2;
            continue;
        }
        p++;
        n++;
    }
    size_t end = p + 1;
    if (plain || lx->arena == NULL) { /* no arena: the extent only */
        t->str = lx->src + lx->pos + 1;
        t->len = n;
    } else {
        char *out = sql__arena_alloc(lx->arena, n + 1);
        if (out == NULL) {
            lx->oom = true;
            return false;
        }
        size_t o = 0;
        for (p = lx->pos + 1; p < end - 1; p++) {
            char c = lx->src[p];
            if (c == q) {
                out[o++] = q;
                p++;
            } else if (c == '\\' && esc) {
                char e = lx->src[++p];
                switch (e) {
                case '0': out[o++] = '\0'; break;
                case 'b': out[o++] = '\b'; break;
                case 'n': out[o++] = '\n'; break;
                case 'r': out[o++] = '\r'; break;
                case 't': out[o++] = '\t'; break;
                case 'Z': out[o++] = '\032'; break;
                case '%':
                case '_':
                    out[o++] = '\\';
                    out[o++] = e;
                    break;
                default: out[o++] = e; break;
                }
            } else {
                out[o++] = c;
            }
        }
        out[o] = '\0';
        t->str = out;
        t->len = o;
    }
    for (p = lx->pos; p < end; p++)
        if (lx->src[p] == '\n')
            lx->line++;
    lx->pos = end;
    return true;
}

/* X'hex' (p at the first digit, q the closing quote expected). */
static bool lex_hexstr(struct sql_lexer *lx, struct sql_token *t, size_t p,
                       size_t n)
{
    /* Digits are at p..p+n; an odd count gets a leading zero. */
    size_t bytes = (n + 1) / 2;
    if (lx->arena == NULL) { /* no arena: the extent only */
        t->str = lx->src + p;
        t->len = n;
        return true;
    }
    char *out = sql__arena_alloc(lx->arena, bytes + 1);
    if (out == NULL) {
        lx->oom = true;
        return false;
    }
    size_t i = 0, o = 0;
    if (n % 2 == 1) {
        out[o++] = (char)hexval((unsigned char)lx->src[p]);
        i = 1;
    }
    for (; i < n; i += 2)
        out[o++] = (char)(hexval((unsigned char)lx->src[p + i]) * 16 +
                          hexval((unsigned char)lx->src[p + i + 1]));
    out[o] = '\0';
    t->str = out;
    t->len = bytes;
    return true;
}

static void lex_number(struct sql_lexer *lx, struct sql_token *t)
{
    size_t p = lx->pos;
    const char *s = lx->src;
    /* 0x... and 0b... when every following ident char is a digit of it. */
    if (s[p] == '0' && p + 1 < lx->len && (s[p + 1] == 'x' || s[p + 1] == 'b')) {
        bool hex = s[p + 1] == 'x';
        size_t q = p + 2;
        while (q < lx->len && (hex ? is_hex((unsigned char)s[q])
                                   : (s[q] == '0' || s[q] == '1')))
            q++;
        if (q > p + 2 && (q >= lx->len || !is_ident_char((unsigned char)s[q]))) {
            if (hex) {
                if (!lex_hexstr(lx, t, p + 2, q - p - 2)) {
                    t->type = TK_ERROR;
                    return;
                }
                t->type = TK_HEX;
            } else {
                t->type = TK_BIT;
                t->str = s + p + 2;
                t->len = q - p - 2;
            }
            lx->pos = q;
            return;
        }
    }
    size_t q = p;
    while (q < lx->len && is_digit((unsigned char)s[q]))
        q++;
    int type = TK_INT;
    if (q < lx->len && s[q] == '.') {
        type = TK_DECIMAL;
        q++;
        while (q < lx->len && is_digit((unsigned char)s[q]))
            q++;
    }
    if (q < lx->len && (s[q] == 'e' || s[q] == 'E')) {
        size_t r = q + 1;
        if (r < lx->len && (s[r] == '+' || s[r] == '-'))
            r++;
        if (r < lx->len && is_digit((unsigned char)s[r])) {
            while (r < lx->len && is_digit((unsigned char)s[r]))
                r++;
            type = TK_FLOAT;
            q = r;
        }
    }
    if (type == TK_INT && q < lx->len && is_ident_char((unsigned char)s[q])) {
        /* 1abc is an identifier in MySQL. */
        while (q < lx->len && is_ident_char((unsigned char)s[q]))
            q++;
        t->type = TK_IDENT;
        t->str = s + p;
        t->len = q - p;
        t->kw = KW_NONE;
        lx->pos = q;
        return;
    }
    t->type = type;
    t->str = s + p;
    t->len = q - p;
    if (type == TK_INT) {
        uint64_t v = 0;
        for (size_t i = p; i < q; i++) {
            uint64_t d = (uint64_t)(s[i] - '0');
            if (v > (UINT64_MAX - d) / 10) {
                t->type = TK_DECIMAL; /* too big for 64 bits */
                break;
            }
            v = v * 10 + d;
        }
        t->ival = v;
    }
    lx->pos = q;
}

void sql__lex_next(struct sql_lexer *lx, struct sql_token *t)
{
    memset(t, 0, sizeof *t);
    bool saw = false;
    bool ok = skip_space(lx, &saw);
    t->space_before = saw;
    t->start = lx->pos;
    t->line = lx->line;
    if (!ok) {
        t->type = TK_ERROR;
        t->end = lx->len;
        return;
    }
    if (lx->pos >= lx->len) {
        t->type = TK_EOF;
        t->end = lx->pos;
        return;
    }
    const char *s = lx->src;
    size_t p = lx->pos;
    unsigned char c = (unsigned char)s[p];
    int c1 = peekc(lx, 1);
    switch (c) {
    case '\'':
    case '"':
        t->type = TK_STRING;
        if (!lex_quoted(lx, t, true))
            t->type = TK_ERROR;
        break;
    case '`':
        t->type = TK_QIDENT;
        if (!lex_quoted(lx, t, false))
            t->type = TK_ERROR;
        break;
    case '?': t->type = TK_PARAM; lx->pos++; break;
    case '(': t->type = TK_LPAREN; lx->pos++; break;
    case ')': t->type = TK_RPAREN; lx->pos++; break;
    case ',': t->type = TK_COMMA; lx->pos++; break;
    case ';': t->type = TK_SEMI; lx->pos++; break;
    case '{': t->type = TK_LBRACE; lx->pos++; break;
    case '}': t->type = TK_RBRACE; lx->pos++; break;
    case '+': t->type = TK_PLUS; lx->pos++; break;
    case '-':
        if (c1 == '>') { /* col->'$.x', col->>'$.x' */
            bool two = peekc(lx, 2) == '>';
            t->type = two ? TK_ARROW2 : TK_ARROW;
            lx->pos += two ? 3 : 2;
        } else {
            t->type = TK_MINUS;
            lx->pos++;
        }
        break;
    case '*': t->type = TK_STAR; lx->pos++; break;
    case '/': t->type = TK_SLASH; lx->pos++; break;
    case '%': t->type = TK_PERCENT; lx->pos++; break;
    case '^': t->type = TK_CARET; lx->pos++; break;
    case '~': t->type = TK_TILDE; lx->pos++; break;
    case '=': t->type = TK_EQ; lx->pos++; break;
    case '&':
        t->type = c1 == '&' ? TK_ANDAND : TK_AMP;
        lx->pos += c1 == '&' ? 2 : 1;
        break;
    case '|':
        t->type = c1 == '|' ? TK_OROR : TK_PIPE;
        lx->pos += c1 == '|' ? 2 : 1;
        break;
    case '!':
        t->type = c1 == '=' ? TK_NE : TK_BANG;
        lx->pos += c1 == '=' ? 2 : 1;
        break;
    case ':':
        if (c1 == '=') {
            t->type = TK_ASSIGN;
            lx->pos += 2;
        } else {
            t->type = TK_ERROR;
        }
        break;
    case '<':
        if (c1 == '=' && peekc(lx, 2) == '>') {
            t->type = TK_NULLEQ;
            lx->pos += 3;
        } else if (c1 == '=') {
            t->type = TK_LE;
            lx->pos += 2;
        } else if (c1 == '>') {
            t->type = TK_NE;
            lx->pos += 2;
        } else if (c1 == '<') {
            t->type = TK_SHL;
            lx->pos += 2;
        } else {
            t->type = TK_LT;
            lx->pos++;
        }
        break;
    case '>':
        if (c1 == '=') {
            t->type = TK_GE;
            lx->pos += 2;
        } else if (c1 == '>') {
            t->type = TK_SHR;
            lx->pos += 2;
        } else {
            t->type = TK_GT;
            lx->pos++;
        }
        break;
    case '.':
        if (c1 >= 0 && is_digit((unsigned char)c1) &&
            !(p > 0 && is_ident_char((unsigned char)s[p - 1]))) {
            lex_number(lx, t);
        } else {
            t->type = TK_DOT;
            lx->pos++;
        }
        break;
    case '@':
        if (c1 == '@') {
            size_t q = p + 2;
            t->ival = SQL_SCOPE_NONE;
            size_t w = q;
            while (w < lx->len && is_ident_char((unsigned char)s[w]))
                w++;
            if (w < lx->len && s[w] == '.') {
                if (w - q == 7 && strncasecmp(s + q, "session", 7) == 0) {
                    t->ival = SQL_SCOPE_SESSION;
                    q = w + 1;
                } else if (w - q == 6 && strncasecmp(s + q, "global", 6) == 0) {
                    t->ival = SQL_SCOPE_GLOBAL;
                    q = w + 1;
                } else if (w - q == 5 && strncasecmp(s + q, "local", 5) == 0) {
                    t->ival = SQL_SCOPE_SESSION;
                    q = w + 1;
                }
            }
            if (q < lx->len && s[q] == '`') {
                lx->pos = q;
                t->type = TK_SYSVAR;
                if (!lex_quoted(lx, t, false))
                    t->type = TK_ERROR;
                break;
            }
            w = q;
            while (w < lx->len && (is_ident_char((unsigned char)s[w]) ||
                                   (s[w] == '.' && w > q)))
                w++;
            if (w == q) {
                t->type = TK_ERROR;
                break;
            }
            t->type = TK_SYSVAR;
            t->str = s + q;
            t->len = w - q;
            lx->pos = w;
        } else if (c1 == '\'' || c1 == '"' || c1 == '`') {
            lx->pos++;
            t->type = TK_USERVAR;
            if (!lex_quoted(lx, t, c1 != '`'))
                t->type = TK_ERROR;
        } else {
            size_t w = p + 1;
            while (w < lx->len && (is_ident_char((unsigned char)s[w]) ||
                                   s[w] == '.'))
                w++;
            if (w == p + 1) {
                t->type = TK_AT;
                lx->pos++;
                break;
            }
            t->type = TK_USERVAR;
            t->str = s + p + 1;
            t->len = w - p - 1;
            lx->pos = w;
        }
        break;
    default:
        if (is_digit(c)) {
            lex_number(lx, t);
            break;
        }
        if ((c == 'x' || c == 'X' || c == 'b' || c == 'B') && c1 == '\'') {
            bool hex = c == 'x' || c == 'X';
            size_t q = p + 2;
            while (q < lx->len && (hex ? is_hex((unsigned char)s[q])
                                       : (s[q] == '0' || s[q] == '1')))
                q++;
            if (q >= lx->len || s[q] != '\'' || (hex && (q - p - 2) % 2 == 1)) {
                t->type = TK_ERROR;
                break;
            }
            if (hex) {
                t->type = TK_HEX;
                if (!lex_hexstr(lx, t, p + 2, q - p - 2)) {
                    t->type = TK_ERROR;
                    break;
                }
            } else {
                t->type = TK_BIT;
                t->str = s + p + 2;
                t->len = q - p - 2;
            }
            lx->pos = q + 1;
            break;
        }
        if ((c == 'n' || c == 'N') && c1 == '\'') {
            lx->pos++;
            t->type = TK_NSTRING;
            if (!lex_quoted(lx, t, true))
                t->type = TK_ERROR;
            break;
        }
        if (is_ident_char(c)) {
            size_t q = p;
            while (q < lx->len && is_ident_char((unsigned char)s[q]))
                q++;
            t->type = TK_IDENT;
            t->str = s + p;
            t->len = q - p;
            t->kw = sql__keyword(t->str, t->len);
            lx->pos = q;
            break;
        }
        t->type = TK_ERROR;
        break;
    }
    if (t->type == TK_ERROR)
        lx->pos = t->start; /* the error is reported at the token */
    t->end = t->type == TK_ERROR ? lx->len : lx->pos;
}

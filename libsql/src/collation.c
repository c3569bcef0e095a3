/* collation.c: the three collations libsql knows (utf8mb4_bin,
 * utf8mb4_general_ci, binary): UTF-8 decoding, character counts, sort
 * weights and comparison with PAD SPACE. DESIGN.md, "Values and types".
 */
#include <string.h>
#include <strings.h>

#include "value.h"

size_t sql__utf8_decode(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        *cp = c;
        return 1;
    }
    if (len > n) {
        *cp = c;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *cp = c;
            return 1;
        }
        v = (v << 6) | (u[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF) {
        *cp = c;
        return 1;
    }
    *cp = v;
    return len;
}

size_t sql__utf8_encode(uint32_t cp, char *buf)
{
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        buf[0] = (char)(0xE0 | (cp >> 12));
        buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    buf[0] = (char)(0xF0 | (cp >> 18));
    buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Latin Extended-A: which member of a case pair is upper case. */
static bool exta_pair(uint32_t cp)
{
    return cp >= 0x100 && cp <= 0x17F && cp != 0x131 && cp != 0x138 &&
           cp != 0x149 && cp != 0x17F && cp != 0x130;
}

static bool exta_odd_upper(uint32_t cp)
{
    return (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
}

uint32_t sql__cp_upper(uint32_t cp)
{
    if (cp >= 'a' && cp <= 'z')
        return cp - 32;
    if (cp < 0x80)
        return cp;
    if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7)
        return cp - 0x20;
    if (cp == 0xFF)
        return 0x178;
    if (exta_pair(cp))
        return exta_odd_upper(cp) ? ((cp & 1) ? cp : cp - 1)
                                  : (cp & ~1u);
    if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2)
        return cp - 0x20;
    if (cp >= 0x430 && cp <= 0x44F)
        return cp - 0x20;
    if (cp >= 0x450 && cp <= 0x45F)
        return cp - 0x50;
    return cp;
}

uint32_t sql__cp_lower(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp < 0x80)
        return cp;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
        return cp + 0x20;
    if (cp == 0x178)
        return 0xFF;
    if (exta_pair(cp))
        return exta_odd_upper(cp) ? ((cp & 1) ? cp + 1 : cp) : (cp | 1u);
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
        return cp + 0x20;
    if (cp >= 0x410 && cp <= 0x42F)
        return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40F)
        return cp + 0x50;
    return cp;
}

size_t sql__str_charlen(uint16_t coll, const char *s, size_t n)
{
    if (coll == SQL_COLL_BINARY)
        return n;
    size_t count = 0, i = 0;
    uint32_t cp;
    while (i < n) {
        i += sql__utf8_decode(s + i, n - i, &cp);
        count++;
    }
    return count;
}

size_t sql__str_charpos(uint16_t coll, const char *s, size_t n, size_t k)
{
    if (coll == SQL_COLL_BINARY)
        return k < n ? k : n;
    size_t i = 0;
    uint32_t cp;
    while (i < n && k > 0) {
        i += sql__utf8_decode(s + i, n - i, &cp);
        k--;
    }
    return i;
}

bool sql__coll_is_ci(uint16_t coll)
{
    return coll == SQL_COLL_UTF8MB4_GENERAL_CI ||
           coll == SQL_COLL_UTF8MB4_0900_AI_CI;
}

/* Latin-1 supplement under general_ci: accents fold to the base letter,
 * as MySQL's plane-0 sort table does. */
static const char latin1_base[64] = {
    'A', 'A', 'A', 'A', 'A', 'A', 0,   'C', 'E', 'E', 'E', 'E', 'I',
    'I', 'I', 'I', 0,   'N', 'O', 'O', 'O', 'O', 'O', 0,   'O', 'U',
    'U', 'U', 'U', 'Y', 0,   'S', 'A', 'A', 'A', 'A', 'A', 'A', 0,
    'C', 'E', 'E', 'E', 'E', 'I', 'I', 'I', 'I', 0,   'N', 'O', 'O',
    'O', 'O', 'O', 0,   'O', 'U', 'U', 'U', 'U', 'Y', 0,   'Y'};

uint32_t sql__coll_weight(uint16_t coll, uint32_t cp)
{
    if (!sql__coll_is_ci(coll))
        return cp;
    if (cp >= 'a' && cp <= 'z')
        return cp - 32;
    if (cp < 0x80)
        return cp;
    if (cp >= 0xC0 && cp <= 0xFF) {
        char b = latin1_base[cp - 0xC0];
        if (b != 0)
            return (uint32_t)b;
        if (cp == 0xE6 || cp == 0xF0 || cp == 0xFE)
            return cp - 0x20; /* æ ð þ -> Æ Ð Þ */
        return cp;
    }
    if (cp >= 0x100 && cp <= 0x17F && cp != 0x131 && cp != 0x138 &&
        cp != 0x149 && cp != 0x17F) {
        /* Latin Extended-A: case pairs; odd/even alternate by block. */
        if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
            return (cp & 1) ? cp : cp - 1;
        return cp & ~1u;
    }
    if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2)
        return cp - 0x20; /* Greek */
    if (cp == 0x3C2)
        return 0x3A3;
    if (cp >= 0x430 && cp <= 0x44F)
        return cp - 0x20; /* Cyrillic */
    if (cp >= 0x450 && cp <= 0x45F)
        return cp - 0x50;
    if (cp > 0xFFFF)
        return 0xFFFD; /* general_ci: all supplementary characters equal */
    return cp;
}

static size_t trim_spaces(const char *s, size_t n)
{
    while (n > 0 && s[n - 1] == ' ')
        n--;
    return n;
}

int sql__coll_cmp(uint16_t coll, const char *a, size_t an, const char *b,
                  size_t bn)
{
    if (coll == SQL_COLL_BINARY) {
        size_t m = an < bn ? an : bn;
        int c = m ? memcmp(a, b, m) : 0;
        if (c != 0)
            return c < 0 ? -1 : 1;
        return an < bn ? -1 : an > bn ? 1 : 0;
    }
    an = trim_spaces(a, an);
    bn = trim_spaces(b, bn);
    size_t i = 0, j = 0;
    /* ASCII prefix first: one byte is one character, and its weight is
     * the byte (upper-cased under _ci), so no decoding and no call per
     * character (sorts compare strings n log n times). The first byte
     * at or above 0x80 on either side leaves the rest to the loop
     * below, from the same position on both sides. */
    bool ci = sql__coll_is_ci(coll);
    while (i < an && j < bn) {
        unsigned ua = (unsigned char)a[i], ub = (unsigned char)b[j];
        if ((ua | ub) >= 0x80)
            break;
        if (ua != ub) {
            if (ci) {
                ua = ua >= 'a' && ua <= 'z' ? ua - 32 : ua;
                ub = ub >= 'a' && ub <= 'z' ? ub - 32 : ub;
            }
            if (ua != ub)
                return ua < ub ? -1 : 1;
        }
        i++;
        j++;
    }
    while (i < an && j < bn) {
        uint32_t ca, cb;
        i += sql__utf8_decode(a + i, an - i, &ca);
        j += sql__utf8_decode(b + j, bn - j, &cb);
        uint32_t wa = sql__coll_weight(coll, ca);
        uint32_t wb = sql__coll_weight(coll, cb);
        if (wa != wb)
            return wa < wb ? -1 : 1;
    }
    /* PAD SPACE: the shorter string is compared as if padded with
     * spaces, so a remaining character below ' ' sorts first. */
    while (i < an) {
        uint32_t c;
        i += sql__utf8_decode(a + i, an - i, &c);
        uint32_t w = sql__coll_weight(coll, c);
        if (w != ' ')
            return w < ' ' ? -1 : 1;
    }
    while (j < bn) {
        uint32_t c;
        j += sql__utf8_decode(b + j, bn - j, &c);
        uint32_t w = sql__coll_weight(coll, c);
        if (w != ' ')
            return w < ' ' ? 1 : -1;
    }
    return 0;
}

static const struct
{
    const char *name; /* collation name as MySQL spells it */
    uint16_t id;      /* its id */
} colls[] = {
    {"utf8mb4_general_ci", SQL_COLL_UTF8MB4_GENERAL_CI},
    {"utf8mb4_bin", SQL_COLL_UTF8MB4_BIN},
    {"binary", SQL_COLL_BINARY},
    {"utf8mb4_0900_ai_ci", SQL_COLL_UTF8MB4_0900_AI_CI},
    {"utf8_general_ci", SQL_COLL_UTF8MB4_GENERAL_CI},
    {"utf8mb3_general_ci", SQL_COLL_UTF8MB4_GENERAL_CI},
    {"utf8_bin", SQL_COLL_UTF8MB4_BIN},
    {"utf8mb3_bin", SQL_COLL_UTF8MB4_BIN},
    {"utf8mb4_unicode_ci", SQL_COLL_UTF8MB4_GENERAL_CI},
    {"utf8mb4_0900_bin", SQL_COLL_UTF8MB4_BIN},
};

uint16_t sql__coll_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof colls / sizeof colls[0]; i++)
        if (strcasecmp(colls[i].name, name) == 0)
            return colls[i].id;
    return 0;
}

const char *sql__coll_name(uint16_t coll)
{
    for (size_t i = 0; i < sizeof colls / sizeof colls[0]; i++)
        if (colls[i].id == coll)
            return colls[i].name;
    return "binary";
}

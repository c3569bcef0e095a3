/* test_lex.c: the MySQL-dialect lexer: the keyword table, every token
 * form (quoting, escapes, numbers, variables) and every comment form,
 * executable comments included. See DESIGN.md, "Parser".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lex.h"

/* Lex all of src and describe each token as "TYPE:text" joined by ' '. */
static const char *tk_name(int type)
{
    static const char *const names[] = {
        "EOF", "ERROR", "IDENT", "QIDENT", "STRING", "NSTRING", "INT",
        "DECIMAL", "FLOAT", "HEX", "BIT", "PARAM", "USERVAR", "SYSVAR", "=",
        "<=>", "<>", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "^", "&",
        "|", "~", "!", "<<", ">>", "&&", "||", "(", ")", ",", ".", ";", ":=",
        "@", "{", "}", "->", "->>",
    };
    return names[type];
}

static char out[4096];

static const char *lex_all(const char *src)
{
    struct sql_arena *a = sql__arena_create(0);
    assert_non_null(a);
    struct sql_lexer lx;
    sql__lex_init(&lx, a, src, strlen(src));
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < 100; i++) {
        struct sql_token t;
        sql__lex_next(&lx, &t);
        if (t.type == TK_EOF)
            break;
        const char *name = tk_name(t.type);
        if (n > 0)
            out[n++] = ' ';
        n += (size_t)snprintf(out + n, sizeof out - n, "%s", name);
        if (t.type == TK_IDENT && t.kw != KW_NONE)
            n += (size_t)snprintf(out + n, sizeof out - n, "[%s]",
                                  sql__keyword_name(t.kw));
        if (t.str != NULL) {
            out[n++] = ':';
            for (size_t k = 0; k < t.len; k++) {
                unsigned char c = (unsigned char)t.str[k];
                if (c < 32 || c == 127)
                    n += (size_t)snprintf(out + n, sizeof out - n, "\\x%02x", c);
                else
                    out[n++] = (char)c;
            }
            out[n] = '\0';
        }
        if (t.type == TK_INT)
            n += (size_t)snprintf(out + n, sizeof out - n, "=%llu",
                                  (unsigned long long)t.ival);
        if (t.type == TK_SYSVAR)
            n += (size_t)snprintf(out + n, sizeof out - n, "/%d", (int)t.ival);
        if (t.type == TK_ERROR)
            break;
    }
    sql__arena_destroy(a);
    return out;
}

static void keyword_table_sorted(void **state)
{
    (void)state;
    for (int k = 2; k < KW__COUNT; k++)
        assert_true(strcmp(sql__keyword_name(k - 1), sql__keyword_name(k)) < 0);
    for (int k = 1; k < KW__COUNT; k++) {
        const char *name = sql__keyword_name(k);
        assert_int_equal(sql__keyword(name, strlen(name)), k);
    }
    assert_int_equal(sql__keyword("select", 6), KW_SELECT);
    assert_int_equal(sql__keyword("SeLeCt", 6), KW_SELECT);
    assert_int_equal(sql__keyword("selects", 7), KW_NONE);
    assert_int_equal(sql__keyword("", 0), KW_NONE);
    assert_int_equal(sql__keyword_class(KW_SELECT), 1);
    assert_int_equal(sql__keyword_class(KW_STATUS), 0);
    assert_int_equal(sql__keyword_class(KW_IF), 2);
}

static void words_and_identifiers(void **state)
{
    (void)state;
    assert_string_equal(lex_all("select a_1, $x, `we``ird`, 1abc, é"),
                        "IDENT[SELECT]:select IDENT:a_1 , IDENT:$x , "
                        "QIDENT:we`ird , IDENT:1abc , IDENT:\xc3\xa9");
    assert_string_equal(lex_all("t.col db.t.*"),
                        "IDENT:t . IDENT:col IDENT:db . IDENT:t . *");
    assert_string_equal(lex_all("``"), "QIDENT:");
    assert_string_equal(lex_all("`unterminated"), "ERROR");
}

static void strings(void **state)
{
    (void)state;
    assert_string_equal(lex_all("'a''b' \"c\"\"d\" 'e\\'f' \"g'h\""),
                        "STRING:a'b STRING:c\"d STRING:e'f STRING:g'h");
    assert_string_equal(lex_all("'\\0\\b\\n\\r\\t\\Z\\\\\\q\\%\\_'"),
                        "STRING:\\x00\\x08\\x0a\\x0d\\x09\\x1a\\q\\%\\_");
    assert_string_equal(lex_all("'' 'x'"), "STRING: STRING:x");
    assert_string_equal(lex_all("N'nat' n'x'"), "NSTRING:nat NSTRING:x");
    assert_string_equal(lex_all("'line1\nline2'"), "STRING:line1\\x0aline2");
    assert_string_equal(lex_all("'open"), "ERROR");
    assert_string_equal(lex_all("'open\\'"), "ERROR");
}

static void numbers(void **state)
{
    (void)state;
    assert_string_equal(lex_all("0 42 18446744073709551615"),
                        "INT:0=0 INT:42=42 "
                        "INT:18446744073709551615=18446744073709551615");
    assert_string_equal(lex_all("18446744073709551616 1.5 .5 3. 1e3 1.5E-2 2e+1"),
                        "DECIMAL:18446744073709551616 DECIMAL:1.5 DECIMAL:.5 "
                        "DECIMAL:3. FLOAT:1e3 FLOAT:1.5E-2 FLOAT:2e+1");
    assert_string_equal(lex_all("1e 1ea"), "IDENT:1e IDENT:1ea");
    assert_string_equal(lex_all("X'0a' x'FF' 0x0A1 0xg b'101' 0b01 B'2'"),
                        "HEX:\\x0a HEX:\xff HEX:\\x00\xa1 IDENT:0xg BIT:101 "
                        "BIT:01 ERROR");
    assert_string_equal(lex_all("X'abc'"), "ERROR"); /* odd digit count */
    assert_string_equal(lex_all("t.5"), "IDENT:t . INT:5=5");
}

static void operators_and_variables(void **state)
{
    (void)state;
    assert_string_equal(lex_all("= <=> <> != < <= > >= + - * / % ^ & | ~ ! << >> && || := ? ; ( ) { }"),
                        "= <=> <> <> < <= > >= + - * / % ^ & | ~ ! << >> && || := "
                        "PARAM ; ( ) { }");
    assert_string_equal(lex_all("@a @'b c' @`d` @@x @@session.y @@GLOBAL.z @@local.w @ :"),
                        "USERVAR:a USERVAR:b c USERVAR:d SYSVAR:x/0 SYSVAR:y/1 "
                        "SYSVAR:z/2 SYSVAR:w/1 @ ERROR");
    assert_string_equal(lex_all("c->'$.a' c->>'$.b' 1-->2"),
                        "IDENT:c -> STRING:$.a IDENT:c ->> STRING:$.b INT:1=1 - -> INT:2=2");
    assert_string_equal(lex_all("'u'@'h' u@h"),
                        "STRING:u USERVAR:h IDENT:u USERVAR:h");
}

static void comments(void **state)
{
    (void)state;
    assert_string_equal(lex_all("a # x\nb -- y\nc /* z\n */ d --e"),
                        "IDENT:a IDENT:b IDENT:c IDENT:d - - IDENT:e");
    assert_string_equal(lex_all("a--\tb"), "IDENT:a");
    assert_string_equal(lex_all("1--1"), "INT:1=1 - - INT:1=1");
    assert_string_equal(lex_all("a /* open"), "IDENT:a ERROR");
    assert_string_equal(lex_all("/*+ hint */ x"), "IDENT:x");
}

static void executable_comments(void **state)
{
    (void)state;
    assert_string_equal(lex_all("/*!40101 SET x=1 */;"),
                        "IDENT[SET]:SET IDENT:x = INT:1=1 ;");
    assert_string_equal(lex_all("/*! a */ b"), "IDENT:a IDENT:b");
    assert_string_equal(lex_all("CREATE DATABASE /*!32312 IF NOT EXISTS*/ d"),
                        "IDENT[CREATE]:CREATE IDENT[DATABASE]:DATABASE "
                        "IDENT[IF]:IF IDENT[NOT]:NOT IDENT[EXISTS]:EXISTS IDENT:d");
    /* A later server version's comment, and MariaDB's, are comments. */
    assert_string_equal(lex_all("/*!90000 skipped */ a /*M!100100 b */ c"),
                        "IDENT:a IDENT:c");
    assert_string_equal(lex_all("/*!50001 a /* inner */ b */ c"),
                        "IDENT:a IDENT:b IDENT:c");
    assert_string_equal(lex_all("x */"), "IDENT:x * /");
}

static void lines_and_offsets(void **state)
{
    (void)state;
    struct sql_arena *a = sql__arena_create(0);
    const char *src = "a\n  'x\ny' b\r\n/* c\n */ d";
    struct sql_lexer lx;
    sql__lex_init(&lx, a, src, strlen(src));
    struct sql_token t;
    int lines[4], starts[4];
    for (int i = 0; i < 4; i++) {
        sql__lex_next(&lx, &t);
        lines[i] = t.line;
        starts[i] = (int)t.start;
    }
    assert_int_equal(lines[0], 1);
    assert_int_equal(lines[1], 2);
    assert_int_equal(lines[2], 3);
    assert_int_equal(lines[3], 5);
    assert_int_equal(starts[1], 4);
    assert_int_equal(starts[3], (int)strlen(src) - 1);
    sql__lex_next(&lx, &t);
    assert_int_equal(t.type, TK_EOF);
    sql__lex_next(&lx, &t);
    assert_int_equal(t.type, TK_EOF);
    sql__arena_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keyword_table_sorted),
        cmocka_unit_test(words_and_identifiers),
        cmocka_unit_test(strings),
        cmocka_unit_test(numbers),
        cmocka_unit_test(operators_and_variables),
        cmocka_unit_test(comments),
        cmocka_unit_test(executable_comments),
        cmocka_unit_test(lines_and_offsets),
    };
    return cmocka_run_group_tests_name("libsql/lex", tests, NULL, NULL);
}

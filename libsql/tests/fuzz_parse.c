/* fuzz_parse.c: libFuzzer target for the SQL parser. Arbitrary bytes are
 * split and parsed statement by statement; every statement that parses is
 * printed, the print must parse again and print the same text. Crashes,
 * leaks (ASan) and unstable prints are findings. See DESIGN.md, "Parser".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *sql = (const char *)data;
    struct sql_span spans[16];
    (void)sql__split(sql, size, spans, 16);
    struct sql_arena *a = sql__arena_create(0);
    if (a == NULL)
        return 0;
    size_t pos = 0;
    while (pos < size) {
        struct sql_parse_result r;
        int rc = sql__parse_one(a, sql + pos, size - pos, &r);
        if (rc != 0)
            break;
        if (r.next == 0 || r.next > size - pos)
            abort(); /* no progress, or past the input */
        if (r.stmt != NULL) {
            char *p1 = sql__ast_print(a, r.stmt);
            if (p1 == NULL)
                abort();
            struct sql_parse_result r2;
            int rc2 = sql__parse_one(a, p1, strlen(p1), &r2);
            if (rc2 == SQL_ETOO_DEEP) {
                /* Known limit: the canonical form parenthesizes each
                 * operator, so a statement near the nesting limit can
                 * print deeper than it was written (DESIGN.md). */
                pos += r.next;
                sql__arena_reset(a);
                continue;
            }
            if (rc2 != 0 || r2.stmt == NULL)
                abort(); /* the canonical form must parse */
            char *p2 = sql__ast_print(a, r2.stmt);
            if (p2 == NULL || strcmp(p1, p2) != 0)
                abort(); /* and print the same */
        }
        pos += r.next;
        sql__arena_reset(a);
    }
    sql__arena_destroy(a);
    return 0;
}

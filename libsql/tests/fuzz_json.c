/* fuzz_json.c: libFuzzer target for JSON (json.c, json_path.c). The input
 * is tried three ways: as the binary form (the validator must refuse
 * anything the accessors could misread; what passes prints, compares
 * equal to itself and survives every path walk); as JSON text (what
 * parses encodes to a valid document whose printed text parses back to
 * the same bytes); and as a path expression. DESIGN.md, "JSON".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a valid encoded value must allow. */
static void use(const uint8_t *b, size_t n, struct sql_arena *a)
{
    const char *txt;
    size_t tn;
    if (!sql__json_valid_bin(b, n) || sql__json_bin_len(b) != n)
        abort();
    if (sql__json_bin_cmp(b, b) != 0)
        abort();
    if (sql__json_print(b, a, &txt, &tn) != 0)
        abort();
    /* The printed text reads back to the same document (doubles print
     * with the shortest digits that read back). */
    struct sql_json *j;
    struct sql_json_perr pe;
    const uint8_t *b2;
    size_t n2;
    if (sql__json_parse(txt, tn, a, &j, &pe) != 0 ||
        sql__json_encode(j, a, &b2, &n2) != 0)
        abort();
    if (sql__json_bin_cmp(b, b2) != 0)
        abort();
    struct sql_json_path p;
    struct sql_err err;
    static const char *const paths[] = {"$**.*", "$[*]", "$[last]",
                                        "$[1 to 3]", "$.a"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const uint8_t **f;
        size_t nf;
        if (sql__json_path_parse(paths[i], strlen(paths[i]), a, &p, &err) !=
                0 ||
            sql__json_path_find(b, &p, a, &f, &nf) != 0)
            abort();
        for (size_t k = 0; k < nf; k++)
            if (!sql__json_valid_bin(f[k], sql__json_bin_len(f[k])))
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sql_arena *a = sql__arena_create(0);
    if (a == NULL)
        return 0;
    if (sql__json_valid_bin(data, size))
        use(data, size, a);
    struct sql_json *j;
    struct sql_json_perr pe;
    if (sql__json_parse((const char *)data, size, a, &j, &pe) == 0) {
        const uint8_t *b;
        size_t n;
        if (sql__json_encode(j, a, &b, &n) != 0)
            abort();
        use(b, n, a);
    }
    struct sql_json_path p;
    struct sql_err err;
    (void)sql__json_path_parse((const char *)data, size, a, &p, &err);
    sql__arena_destroy(a);
    return 0;
}

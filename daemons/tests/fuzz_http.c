/* fuzz_http.c: arbitrary bytes as an HTTP request to a status port give a
 * request line, "need more" or "malformed", within the caller's buffers,
 * never a crash; and any bytes come out of the JSON writer as a valid
 * string literal (printable ASCII, quotes and backslashes escaped).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char method[16], path[256];
    int rc = dmn_http_parse(data, size, method, sizeof(method), path,
                            sizeof(path));
    if (rc == 0 && (strlen(method) >= sizeof(method) ||
                    strlen(path) >= sizeof(path) || strchr(path, '?') ||
                    !method[0] || path[0] != '/'))
        abort();
    if (rc != 0 && rc != 1 && rc != -1)
        abort();

    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return 0;
    dmn_json_str(f, data, size);
    fclose(f);
    if (len < 2 || out[0] != '"' || out[len - 1] != '"')
        abort();
    for (size_t i = 1; i + 1 < len; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c < 0x20 || c >= 0x7f)
            abort();
        if (c == '\\') {
            i++; /* the escaped character */
            continue;
        }
        if (c == '"')
            abort();
    }
    free(out);
    return 0;
}

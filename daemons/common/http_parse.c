/* http_parse.c: the pure parts of the status port (http.h): the request
 * line parser and the JSON string writer. No I/O of its own, so the fuzz
 * target (tests/fuzz_http.c) builds it alone.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

int dmn_http_parse(const uint8_t *data, size_t len, char *method,
                   size_t method_len, char *path, size_t path_len)
{
    if (!memmem(data, len, "\r\n\r\n", 4) && !memmem(data, len, "\n\n", 2))
        return 1;
    char line[512];
    size_t k = 0;
    while (k < len && k + 1 < sizeof(line) && data[k] != '\r' &&
           data[k] != '\n') {
        line[k] = data[k] ? (char)data[k] : ' ';
        k++;
    }
    line[k] = '\0';
    char m[16], p[256];
    /* the target must be a path (origin form), not "*" or a URL */
    if (sscanf(line, "%15s %255s", m, p) != 2 || p[0] != '/' ||
        method_len == 0 || path_len == 0)
        return -1;
    char *q = strchr(p, '?');
    if (q)
        *q = '\0';
    snprintf(method, method_len, "%s", m);
    snprintf(path, path_len, "%s", p);
    return 0;
}

void dmn_json_str(FILE *f, const uint8_t *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void dmn_json_cstr(FILE *f, const char *s)
{
    dmn_json_str(f, (const uint8_t *)s, s ? strlen(s) : 0);
}

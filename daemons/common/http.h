/* http.h: a daemon's HTTP status port (status-listen): GET requests, one
 * per connection (HTTP/1.0 style), answered on the daemon's loop thread by
 * the daemon's page function, served on librpc's byte-stream server; and
 * the request-line parser and JSON string writer the pages use
 * (docs/daemons.md, "Status port").
 */
#ifndef DMN_HTTP_H
#define DMN_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct event_base;
struct dmn_http;

/* Writes the page for path (query string stripped) into body and returns
 * the HTTP status (200, or 404 with a hint of the pages there are); *type
 * is the Content-Type, preset to "application/json". */
typedef int (*dmn_http_page_fn)(void *ud, const char *path, FILE *body,
                                const char **type);

/* Serves on listen ("host:port"; port 0 picks one, then logged). Returns
 * 0, or -1 with the reason logged (address in use, bad address). */
int dmn_http_start(struct event_base *base, const char *listen,
                   dmn_http_page_fn page, void *ud, struct dmn_http **out);
/* Closes the listener and every connection. NULL is a no-op. */
void dmn_http_stop(struct dmn_http *h);
uint16_t dmn_http_port(const struct dmn_http *h);

/* The request line of data[0..len): 0 with method and path (query
 * stripped; NUL-terminated, truncated to the buffers), 1 if the header is
 * not complete yet (no blank line), -1 if malformed (the target must be
 * a path, starting with '/'). Pure: fuzzed. */
int dmn_http_parse(const uint8_t *data, size_t len, char *method,
                   size_t method_len, char *path, size_t path_len);

/* A JSON string literal of s[0..n) (bytes outside printable ASCII escaped
 * as \u00XX); cstr: NUL-terminated, NULL as "". */
void dmn_json_str(FILE *f, const uint8_t *s, size_t n);
void dmn_json_cstr(FILE *f, const char *s);

#endif /* DMN_HTTP_H */

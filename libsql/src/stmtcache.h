/* stmtcache.h: a session's cache of parsed query texts by shape (the
 * text with the integer and string literals of its WHERE clause taken
 * out), so that a COM_QUERY differing from an earlier one only in those
 * constants reuses its parse tree with this query's constants put in.
 * Only the parse is reused, never a plan. DESIGN.md, "Statement cache".
 */
#ifndef SQL_STMTCACHE_H
#define SQL_STMTCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "parse.h"

#define SQL_STMTCACHE_ENTRIES 16 /* shapes kept per session (LRU) */
#define SQL_STMTCACHE_HOLES 32   /* constants a shape may take out */

struct sql_stmtcache;

/* A cache; NULL when the heap fails. destroy(NULL) is a no-op. */
struct sql_stmtcache *sql__stmtcache_create(void);
void sql__stmtcache_destroy(struct sql_stmtcache *c);

/* Parse sql[0..len), one statement, through the cache. epoch and sgen
 * name what a parse may depend on besides the text (the caller's schema
 * epoch and session settings): either unlike the last call's empties
 * the cache first. Returns 1 with res filled as sql__parse_one fills it
 * (rc 0; the tree, in the cache, is valid until the next call, and its
 * filled-in constants point into sql and arena a, so keep both as long
 * as the tree); 0 when the text is not one the cache takes (no constant
 * in a WHERE clause, not a SELECT, UPDATE or DELETE, more than one
 * statement, a syntax error): the caller parses it itself; -ENOMEM.
 * Decoded string constants go to a. */
int sql__stmtcache_parse(struct sql_stmtcache *c, uint64_t epoch,
                         uint64_t sgen, struct sql_arena *a, const char *sql,
                         size_t len, struct sql_parse_result *res);

/* Counters since create. */
struct sql_stmtcache_stats
{
    uint64_t hits;      /* texts answered from an entry */
    uint64_t misses;    /* texts of a shape not held, parsed and kept */
    uint64_t evictions; /* entries dropped to make room (LRU) */
    uint64_t flushes;   /* times gen changed with entries held */
    uint64_t refused;   /* shapes parsed but not kept (a constant the
                           parse does not keep as a node of its own) */
};
void sql__stmtcache_stats(const struct sql_stmtcache *c,
                          struct sql_stmtcache_stats *out);

#endif /* SQL_STMTCACHE_H */

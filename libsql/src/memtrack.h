/* memtrack.h: per-query memory accounting (DESIGN.md "Memory limits").
 * Arenas that hold a query's rows charge a tracker for every block they
 * take; an operator's tracker forwards to its query's, which refuses a
 * block past @@tidb_mem_quota_query while the statement runs.
 */
#ifndef SQL_MEMTRACK_H
#define SQL_MEMTRACK_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sql_memtrack
{
    struct sql_memtrack *parent; /* the query's tracker, or NULL (this is
                                    the query's) */
    uint64_t limit;              /* bytes the query may hold; 0: any
                                    (checked only while armed) */
    bool armed;                  /* a statement runs: limit applies */
    bool exceeded;               /* a charge was refused since armed */
    size_t used;                 /* bytes charged now */
    size_t peak;                 /* most bytes charged at once since the
                                    tracker was made or re-armed */
};

/* Charge n bytes to t and its parents: false (nothing charged, the root's
 * exceeded set) when the root is armed and would pass its limit. NULL t
 * always succeeds. Inline: arena.c uses them and must not pull the
 * engine into a program that links only the protocol engine. */
static inline bool sql__memtrack_charge(struct sql_memtrack *t, size_t n)
{
    if (t == NULL)
        return true;
    struct sql_memtrack *root = t;
    while (root->parent != NULL)
        root = root->parent;
    if (root->armed && root->limit != 0 &&
        (root->used > root->limit || n > root->limit - root->used)) {
        root->exceeded = true;
        return false;
    }
    for (; t != NULL; t = t->parent) {
        t->used += n;
        if (t->used > t->peak)
            t->peak = t->used;
    }
    return true;
}

/* Give back n bytes charged before. */
static inline void sql__memtrack_release(struct sql_memtrack *t, size_t n)
{
    for (; t != NULL; t = t->parent) {
        assert(t->used >= n);
        t->used -= n;
    }
}

struct sql_session;
struct sql_server;
struct sql_server_options;
/* Arm the session's query tracker for a statement (limit from
 * @@tidb_mem_quota_query); disarm after it. */
void sql__memtrack_begin(struct sql_session *s);
void sql__memtrack_end(struct sql_session *s);
/* Whether the running statement's -ENOMEM came from the limit; then the
 * session error becomes 8175 and SQL_EQUERY is returned. */
bool sql__memtrack_exceeded(const struct sql_session *s);
int sql__memtrack_err(struct sql_session *s);
/* @@global.tidb_mem_quota_query from the server options. */
int sql__memtrack_server_init(struct sql_server *srv,
                              const struct sql_server_options *o);

#endif /* SQL_MEMTRACK_H */

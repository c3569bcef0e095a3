/* memlog.c: an in-memory command log (pd_memlog): the storage for tests and
 * single-process use. Proposals append; pd_memlog_apply replays entries
 * into replicas, which lets tests simulate commit, loss and failover.
 */
#include <string.h>

#include "pd_int.h"

struct pd_memlog {
    uint8_t **cmds; /* owned copies of the entries */
    size_t *lens;   /* byte length of each entry */
    size_t n;       /* entries */
    size_t cap;     /* allocated slots */
};

int pd_memlog_create(struct pd_memlog **out)
{
    *out = pd__calloc(1, sizeof(**out));
    return *out == NULL ? -ENOMEM : 0;
}

void pd_memlog_destroy(struct pd_memlog *log)
{
    if (log == NULL)
        return;
    pd_memlog_truncate(log, 0);
    pd__free(log->cmds);
    pd__free(log->lens);
    pd__free(log);
}

static int memlog_propose(void *ctx, const uint8_t *cmd, size_t len)
{
    struct pd_memlog *log = ctx;
    if (log->n == log->cap) {
        size_t cap = log->cap == 0 ? 16 : log->cap * 2;
        uint8_t **cmds = pd__realloc(log->cmds, cap * sizeof(*cmds));
        if (cmds == NULL)
            return -ENOMEM;
        log->cmds = cmds;
        size_t *lens = pd__realloc(log->lens, cap * sizeof(*lens));
        if (lens == NULL)
            return -ENOMEM;
        log->lens = lens;
        log->cap = cap;
    }
    uint8_t *copy = pd__malloc(len);
    if (copy == NULL)
        return -ENOMEM;
    memcpy(copy, cmd, len);
    log->cmds[log->n] = copy;
    log->lens[log->n] = len;
    log->n++;
    return 0;
}

struct pd_storage pd_memlog_storage(struct pd_memlog *log)
{
    struct pd_storage s = {log, memlog_propose};
    return s;
}

size_t pd_memlog_count(const struct pd_memlog *log)
{
    return log->n;
}

int pd_memlog_entry(const struct pd_memlog *log, size_t i,
                    const uint8_t **cmd, size_t *len)
{
    if (i >= log->n)
        return PD_ENOTFOUND;
    *cmd = log->cmds[i];
    *len = log->lens[i];
    return 0;
}

void pd_memlog_truncate(struct pd_memlog *log, size_t n)
{
    while (log->n > n) {
        log->n--;
        pd__free(log->cmds[log->n]);
    }
}

int pd_memlog_apply(const struct pd_memlog *log, struct pd *pd, size_t *next)
{
    while (*next < log->n) {
        int rc = pd_apply(pd, log->cmds[*next], log->lens[*next]);
        if (rc == PD_EDECODE || rc == -ENOMEM)
            return rc;
        (*next)++;
    }
    return 0;
}

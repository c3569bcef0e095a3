/* codec.c: pdd's byte formats that need no I/O: the Raft-log records of
 * raftlog.c (snapshot header, entry), kept apart so that daemons/pdd/fuzz/
 * can drive them alone (libpd/DESIGN.md, "pdd").
 */
#include <stdio.h>
#include <string.h>

#include "pdd.h"

void pdd_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t pdd_rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int pdd_log_entry_decode(const uint8_t *key, size_t key_len,
                         const uint8_t *val, size_t val_len,
                         struct raft_entry *e)
{
    if (key_len != 9 || key[0] != 'e' || val_len < 12 ||
        val_len - 12 > UINT32_MAX)
        return -1;
    e->term = pdd_rd64(val);
    e->index = pdd_rd64(key + 1);
    e->type = (uint32_t)val[8] << 24 | (uint32_t)val[9] << 16 |
              (uint32_t)val[10] << 8 | val[11];
    e->len = (uint32_t)(val_len - 12);
    e->data = val_len > 12 ? (void *)(uintptr_t)(val + 12) : NULL;
    if (e->index == 0 || e->term == 0 || e->type > RAFT_ENTRY_CONF_CHANGE)
        return -1;
    return 0;
}

/* Encodes meta's index, term and conf into buf (room for
 * PDD_META_MAX bytes); returns the length. */
size_t pdd_log_meta_encode(const struct raft_snapshot_meta *m, uint8_t *buf)
{
    const struct raft_conf_state *c = &m->conf;
    size_t k = 0;
    pdd_be64(buf, m->index);
    pdd_be64(buf + 8, m->term);
    k = 16;
    buf[k++] = c->n_voters;
    buf[k++] = c->n_learners;
    buf[k++] = c->n_voters_outgoing;
    buf[k++] = c->n_learners_next;
    buf[k++] = c->auto_leave ? 1 : 0;
    for (size_t i = 0; i < c->n_voters; i++, k += 8)
        pdd_be64(buf + k, c->voters[i]);
    for (size_t i = 0; i < c->n_learners; i++, k += 8)
        pdd_be64(buf + k, c->learners[i]);
    for (size_t i = 0; i < c->n_voters_outgoing; i++, k += 8)
        pdd_be64(buf + k, c->voters_outgoing[i]);
    for (size_t i = 0; i < c->n_learners_next; i++, k += 8)
        pdd_be64(buf + k, c->learners_next[i]);
    return k;
}

int pdd_log_meta_decode(const uint8_t *buf, size_t len,
                        struct raft_snapshot_meta *m, size_t *used)
{
    memset(m, 0, sizeof(*m));
    if (len < 21)
        return -1;
    m->index = pdd_rd64(buf);
    m->term = pdd_rd64(buf + 8);
    struct raft_conf_state *c = &m->conf;
    c->n_voters = buf[16];
    c->n_learners = buf[17];
    c->n_voters_outgoing = buf[18];
    c->n_learners_next = buf[19];
    c->auto_leave = buf[20] != 0;
    if (c->n_voters > RAFT_MAX_MEMBERS || c->n_learners > RAFT_MAX_MEMBERS ||
        c->n_voters_outgoing > RAFT_MAX_MEMBERS ||
        c->n_learners_next > RAFT_MAX_MEMBERS)
        return -1;
    size_t n = (size_t)c->n_voters + c->n_learners + c->n_voters_outgoing +
               c->n_learners_next;
    if (len - 21 < n * 8)
        return -1;
    size_t k = 21;
    for (size_t i = 0; i < c->n_voters; i++, k += 8)
        c->voters[i] = pdd_rd64(buf + k);
    for (size_t i = 0; i < c->n_learners; i++, k += 8)
        c->learners[i] = pdd_rd64(buf + k);
    for (size_t i = 0; i < c->n_voters_outgoing; i++, k += 8)
        c->voters_outgoing[i] = pdd_rd64(buf + k);
    for (size_t i = 0; i < c->n_learners_next; i++, k += 8)
        c->learners_next[i] = pdd_rd64(buf + k);
    *used = k;
    return 0;
}

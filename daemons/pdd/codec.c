/* codec.c: pdd's byte formats that need no I/O: the Raft-log records of
 * raftlog.c (snapshot header, entry) and the member records (MEMBER_PUT,
 * the snapshot's member section), kept apart so that daemons/pdd/fuzz/
 * can drive them alone (libpd/DESIGN.md, "pdd").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- membership records (pdd.h) ------------------------------------------ */

static size_t put_uvarint(uint8_t *p, uint64_t v)
{
    size_t k = 0;
    while (v >= 0x80) {
        p[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[k++] = (uint8_t)v;
    return k;
}

/* Shortest-form LEB128 only (so decoding then encoding gives the bytes). */
static int get_uvarint(const uint8_t *p, size_t len, size_t *at, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0, i = 0; i < 10; i++, shift += 7) {
        if (*at >= len)
            return -1;
        uint8_t b = p[(*at)++];
        if (shift == 63 && b > 1)
            return -1;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return -1;
            *v = r;
            return 0;
        }
    }
    return -1;
}

static size_t put_str(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    size_t k = put_uvarint(p, n);
    memcpy(p + k, s, n);
    return k + n;
}

/* A string field of 1..cap-1 bytes without NUL into out[cap]. */
static int get_str(const uint8_t *p, size_t len, size_t *at, char *out,
                   size_t cap)
{
    uint64_t n;
    if (get_uvarint(p, len, at, &n) != 0 || n == 0 || n >= cap ||
        n > len - *at || memchr(p + *at, 0, (size_t)n))
        return -1;
    memcpy(out, p + *at, (size_t)n);
    out[n] = '\0';
    *at += (size_t)n;
    return 0;
}

static size_t member_fields_encode(const struct pdd_member *m, uint8_t *p)
{
    size_t k = put_uvarint(p, m->id);
    k += put_str(p + k, m->name);
    k += put_str(p + k, m->peer);
    k += put_str(p + k, m->address);
    return k;
}

static int member_fields_decode(const uint8_t *p, size_t len, size_t *at,
                                struct pdd_member *m)
{
    memset(m, 0, sizeof(*m));
    if (get_uvarint(p, len, at, &m->id) != 0 || m->id == 0 ||
        get_str(p, len, at, m->name, sizeof(m->name)) != 0 ||
        get_str(p, len, at, m->peer, sizeof(m->peer)) != 0 ||
        get_str(p, len, at, m->address, sizeof(m->address)) != 0)
        return -1;
    return 0;
}

size_t pdd_member_put_encode(const struct pdd_member *m, uint8_t *buf)
{
    buf[0] = PDD_CMD_MEMBER_PUT;
    return 1 + member_fields_encode(m, buf + 1);
}

int pdd_member_put_decode(const uint8_t *buf, size_t len,
                          struct pdd_member *m)
{
    size_t at = 1;
    if (len < 1 || buf[0] != PDD_CMD_MEMBER_PUT ||
        member_fields_decode(buf, len, &at, m) != 0 || at != len)
        return -1;
    return 0;
}

int pdd_members_encode(const struct pdd_members *t, uint8_t **out,
                       size_t *len)
{
    uint8_t *p = malloc(4 + 20 + t->n * PDD_MEMBER_MAX);
    if (!p)
        return -ENOMEM;
    memcpy(p, "PDM1", 4);
    size_t k = 4;
    k += put_uvarint(p + k, t->next_id);
    k += put_uvarint(p + k, t->n);
    for (size_t i = 0; i < t->n; i++)
        k += member_fields_encode(&t->m[i], p + k);
    *out = p;
    *len = k;
    return 0;
}

int pdd_members_decode(const uint8_t *buf, size_t len, struct pdd_members *t,
                       bool *has, size_t *used)
{
    memset(t, 0, sizeof(*t));
    *has = false;
    *used = 0;
    if (len < 4 || memcmp(buf, "PDM1", 4) != 0)
        return 0;
    size_t at = 4;
    uint64_t n;
    if (get_uvarint(buf, len, &at, &t->next_id) != 0 ||
        get_uvarint(buf, len, &at, &n) != 0 || n > PDD_MAX_MEMBERS)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct pdd_member *m = &t->m[i];
        if (member_fields_decode(buf, len, &at, m) != 0 ||
            m->id >= t->next_id)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (t->m[j].id == m->id || strcmp(t->m[j].name, m->name) == 0)
                return -1;
    }
    t->n = (size_t)n;
    *has = true;
    *used = at;
    return 0;
}

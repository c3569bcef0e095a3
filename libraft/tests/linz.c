/* linz.c: the linearizability checker declared in linz.h. The search is
 * Wing & Gong's (1993): walk the history's events in time order, try to
 * linearize an operation whose call has been seen (take it out of the
 * list with its return), backtrack when a return is reached whose call
 * is not yet linearized. Lowe ("Testing for linearizability", 2017) adds
 * the cache of (set of linearized operations, state) pairs already
 * explored, which makes it practical.
 */
#include <stdlib.h>
#include <string.h>

#include "linz.h"

struct ev {
    size_t op;        /* operation index */
    bool is_call;     /* call or return event */
    uint64_t t;       /* time */
    struct ev *match; /* the other event of the operation */
    struct ev *prev;  /* list links */
    struct ev *next;
};

struct cache {
    size_t words;     /* bitset words per entry */
    uint64_t *keys;   /* cap entries of words + 1 (state) */
    bool *used;       /* slot taken */
    size_t cap;       /* slots (power of two) */
    size_t n;         /* entries */
};

static uint64_t hash_key(const uint64_t *k, size_t words)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i <= words; i++) {
        h ^= k[i];
        h *= 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 29;
    }
    return h;
}

static bool cache_grow(struct cache *c)
{
    size_t cap = c->cap ? c->cap * 2 : 1024;
    size_t kw = c->words + 1;
    uint64_t *keys = calloc(cap, kw * sizeof(uint64_t));
    bool *used = calloc(cap, sizeof(bool));
    if (keys == NULL || used == NULL) {
        free(keys);
        free(used);
        return false;
    }
    for (size_t i = 0; i < c->cap; i++) {
        if (!c->used[i])
            continue;
        const uint64_t *k = &c->keys[i * kw];
        size_t j = (size_t)hash_key(k, c->words) & (cap - 1);
        while (used[j])
            j = (j + 1) & (cap - 1);
        used[j] = true;
        memcpy(&keys[j * kw], k, kw * sizeof(uint64_t));
    }
    free(c->keys);
    free(c->used);
    c->keys = keys;
    c->used = used;
    c->cap = cap;
    return true;
}

/* 1: added, 0: already there, -1: out of memory. */
static int cache_add(struct cache *c, const uint64_t *bits, uint64_t state)
{
    if ((c->n + 1) * 2 > c->cap && !cache_grow(c))
        return -1;
    size_t kw = c->words + 1;
    uint64_t key[kw];
    memcpy(key, bits, c->words * sizeof(uint64_t));
    key[c->words] = state;
    size_t j = (size_t)hash_key(key, c->words) & (c->cap - 1);
    while (c->used[j]) {
        if (memcmp(&c->keys[j * kw], key, kw * sizeof(uint64_t)) == 0)
            return 0;
        j = (j + 1) & (c->cap - 1);
    }
    c->used[j] = true;
    memcpy(&c->keys[j * kw], key, kw * sizeof(uint64_t));
    c->n++;
    return 1;
}

static int by_time(const void *a, const void *b)
{
    const struct ev *x = *(const struct ev *const *)a;
    const struct ev *y = *(const struct ev *const *)b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    /* Equal times happen only among pending returns: keep op order. */
    return x->op < y->op ? -1 : x->op > y->op;
}

static void lift(struct ev *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    struct ev *m = e->match;
    m->prev->next = m->next;
    if (m->next != NULL)
        m->next->prev = m->prev;
}

static void unlift(struct ev *e)
{
    struct ev *m = e->match;
    m->prev->next = m;
    if (m->next != NULL)
        m->next->prev = m;
    e->prev->next = e;
    e->next->prev = e;
}

int linz_check(const struct linz_model *m, const struct linz_op *ops,
               size_t n, uint64_t max_steps, uint64_t *steps)
{
    int result = LINZ_GAVE_UP;
    uint64_t taken = 0;
    struct ev *evs = calloc(2 * n + 1, sizeof(*evs));
    struct ev **order = calloc(2 * n + 1, sizeof(*order));
    struct ev **stack_e = calloc(n + 1, sizeof(*stack_e));
    uint64_t *stack_s = calloc(n + 1, sizeof(*stack_s));
    struct cache c;
    memset(&c, 0, sizeof(c));
    c.words = n / 64 + 1;
    uint64_t *bits = calloc(c.words, sizeof(uint64_t));
    if (evs == NULL || order == NULL || stack_e == NULL || stack_s == NULL ||
        bits == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct ev *call = &evs[2 * i], *ret = &evs[2 * i + 1];
        call->op = ret->op = i;
        call->is_call = true;
        call->t = ops[i].call;
        ret->t = ops[i].ret;
        call->match = ret;
        ret->match = call;
        order[2 * i] = call;
        order[2 * i + 1] = ret;
    }
    qsort(order, 2 * n, sizeof(*order), by_time);
    struct ev *head = &evs[2 * n]; /* sentinel */
    struct ev *prev = head;
    for (size_t i = 0; i < 2 * n; i++) {
        prev->next = order[i];
        order[i]->prev = prev;
        prev = order[i];
    }
    prev->next = NULL;
    uint64_t state = m->init;
    size_t sp = 0;
    struct ev *e = head->next;
    while (head->next != NULL) {
        if (++taken > max_steps)
            goto out;
        if (e->is_call) {
            uint64_t next;
            if (m->step(state, &ops[e->op], &next)) {
                bits[e->op / 64] |= 1ULL << (e->op % 64);
                int added = cache_add(&c, bits, next);
                if (added < 0)
                    goto out;
                if (added == 1) {
                    stack_e[sp] = e;
                    stack_s[sp] = state;
                    sp++;
                    state = next;
                    lift(e);
                    e = head->next;
                    continue;
                }
                bits[e->op / 64] &= ~(1ULL << (e->op % 64));
            }
            e = e->next;
        } else {
            /* A return whose call is still in the list: what was
             * linearized so far cannot be right. */
            if (sp == 0) {
                result = LINZ_VIOLATION;
                goto out;
            }
            sp--;
            e = stack_e[sp];
            state = stack_s[sp];
            bits[e->op / 64] &= ~(1ULL << (e->op % 64));
            unlift(e);
            e = e->next;
        }
    }
    result = LINZ_OK;
out:
    if (steps != NULL)
        *steps = taken;
    free(evs);
    free(order);
    free(stack_e);
    free(stack_s);
    free(bits);
    free(c.keys);
    free(c.used);
    return result;
}

static bool register_step(uint64_t state, const struct linz_op *op,
                          uint64_t *next)
{
    if (op->kind == LINZ_WRITE) {
        *next = op->arg;
        return true;
    }
    *next = state;
    return op->out == state;
}

static bool log_step(uint64_t state, const struct linz_op *op, uint64_t *next)
{
    if (op->kind == LINZ_WRITE) {
        *next = op->arg;
        return op->arg == state + 1;
    }
    *next = state;
    return op->out == state;
}

const struct linz_model linz_register = {0, register_step};
const struct linz_model linz_log = {0, log_step};

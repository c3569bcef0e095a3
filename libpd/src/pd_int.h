/* pd_int.h: libpd's private structures and internal (pd__) functions: the
 * heap hook, the byte codec, decoded commands and the pd replica itself.
 * DESIGN.md describes the states and invariants these fields hold.
 */
#ifndef PD_INT_H
#define PD_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pd.h"

/* heap.c */
void *pd__malloc(size_t size);
void *pd__calloc(size_t n, size_t size);
void *pd__realloc(void *p, size_t size);
void pd__free(void *p);
char *pd__strndup(const char *s, size_t n);

/* ---- codec.c: growable output buffer and bounded reader ---- */
struct pd__buf {
    uint8_t *p;   /* owned bytes (pd__malloc) */
    size_t n;     /* bytes written */
    size_t cap;   /* bytes allocated */
    int err;      /* first error (-ENOMEM), sticky */
};
void pd__buf_u8(struct pd__buf *b, uint8_t v);
void pd__buf_uvarint(struct pd__buf *b, uint64_t v);
void pd__buf_bytes(struct pd__buf *b, const void *p, size_t n);
void pd__buf_free(struct pd__buf *b);

struct pd__rd {
    const uint8_t *p; /* borrowed input */
    size_t n;         /* input length */
    size_t off;       /* next byte to read */
    bool bad;         /* set on any malformed field, sticky */
};
uint8_t pd__rd_u8(struct pd__rd *r);
uint64_t pd__rd_uvarint(struct pd__rd *r);
/* A length-prefixed byte string of at most max bytes, borrowed from input. */
const uint8_t *pd__rd_bytes(struct pd__rd *r, size_t max, size_t *len);

/* ---- cmd.c: the commands (formats in DESIGN.md "Commands") ---- */
enum pd__cmd_type {
    PD__CMD_TSO_SAVE = 1, /* u: new saved bound (physical ms) */
    PD__CMD_ID_SAVE = 2,  /* u: new saved id block end */
    PD__CMD_MAX = 2
};

struct pd__cmd {
    uint8_t type; /* enum pd__cmd_type */
    uint64_t u;   /* the single integer of TSO_SAVE / ID_SAVE */
};

/* Decode len bytes; fields borrow from cmd. PD_EDECODE when malformed
 * (unknown type, bad varint, overlong field, trailing bytes). */
int pd__cmd_decode(const uint8_t *cmd, size_t len, struct pd__cmd *out);
/* Encode into b (check b->err). */
void pd__cmd_encode(const struct pd__cmd *c, struct pd__buf *b);

/* ---- the replica ---- */
struct pd {
    struct pd_config cfg;      /* copied; location label strings owned */
    struct pd_storage storage; /* where commands are proposed */
    char errmsg[256];          /* detail of the last error */

    /* Replicated state: changed only by pd_apply. */
    uint64_t tso_saved;  /* highest saved TSO bound, physical ms */
    uint64_t id_saved;   /* highest saved id block end */

    /* Leader state: volatile, rebuilt by pd_become_leader. */
    bool leader;          /* serving as leader */
    uint64_t leader_mono; /* monotonic ms when leadership began */
    uint64_t tso_phys;    /* physical ms of the next timestamp */
    uint32_t tso_logical; /* next logical value in tso_phys */
    uint64_t tso_pending; /* bound proposed and not yet applied; 0 none */
    uint64_t id_next;     /* next id to hand out */
    uint64_t id_pending;  /* id block end proposed, not applied; 0 none */
};

/* Record detail for the caller (pd_errmsg); returns rc. */
int pd__err(struct pd *pd, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Encode c and hand it to storage.propose. */
int pd__propose(struct pd *pd, const struct pd__cmd *c);

/* tso.c / id.c: reactions to applied saves and to leadership. */
int pd__tso_start(struct pd *pd, uint64_t wall_ms);
int pd__id_start(struct pd *pd);

#endif /* PD_INT_H */

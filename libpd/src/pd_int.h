/* pd_int.h: libpd's private structures and internal (pd__) functions: the
 * heap hook, the byte codec, decoded commands and the pd replica itself.
 * DESIGN.md describes the states and invariants these fields hold.
 */
#ifndef PD_INT_H
#define PD_INT_H

#include <assert.h>
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
    PD__CMD_TSO_SAVE = 1,           /* u: new saved bound (physical ms) */
    PD__CMD_ID_SAVE = 2,            /* u: new saved id block end */
    PD__CMD_BOOTSTRAP = 3,          /* u: cluster id; store; region */
    PD__CMD_PUT_STORE = 4,          /* store */
    PD__CMD_PUT_REGION = 5,         /* region */
    PD__CMD_GC_SAFE_POINT = 6,      /* u: safe point; now */
    PD__CMD_SERVICE_SAFE_POINT = 7, /* service; u: safe point; expire; now */
    PD__CMD_CLUSTER = 8,            /* u: cluster id (snapshots only) */
    PD__CMD_CONFIG = 9,             /* cfg: the scheduling config */
    PD__CMD_CLUSTER_VERSION = 10,   /* u: cluster version (snapshots only) */
    PD__CMD_CLUSTER_REGION_VERSION = 11 /* u: the cluster's libregion
                                           version (snapshots only) */
};

/* A byte string borrowed from a command or a caller's struct. */
struct pd__str {
    const uint8_t *p; /* bytes (not NUL-terminated) */
    size_t n;         /* length */
};

/* The replicated part of struct pd_config, as a command carries it. */
struct pd__config_v {
    uint32_t max_replicas;          /* see struct pd_config */
    uint64_t max_store_down_ms;     /* ... */
    uint64_t operator_timeout_ms;   /* ... */
    uint32_t leader_tolerance;      /* ... */
    uint64_t region_tolerance;      /* ... */
    uint64_t region_max_size;       /* ... */
    uint64_t merge_max_size;        /* ... */
    uint64_t merge_max_keys;        /* ... */
    uint32_t low_space_percent;     /* ... */
    uint64_t split_merge_interval_ms; /* ... */
    uint32_t store_limit;           /* ... */
    uint32_t n_labels;              /* location label levels */
    uint32_t leader_schedule_limit; /* see struct pd_config */
    struct pd__str labels[PD_MAX_LOCATION_LABELS]; /* their names */
};
/* leader_schedule_limit's default, and what a CONFIG written before it
 * existed means (cmd.c: it is written only when it differs). */
#define PD_LEADER_SCHEDULE_LIMIT 16
#define PD_LEADER_SCHEDULE_LIMIT_MAX 1024
bool pd__config_valid(const struct pd__config_v *c, const char **why);
void pd__config_view(const struct pd_config *in, struct pd__config_v *out);

/* A store as a command carries it. */
struct pd__store_v {
    uint64_t id;                        /* store id */
    struct pd__str address;             /* address */
    uint8_t state;                      /* UP, OFFLINE or TOMBSTONE */
    uint32_t n_labels;                  /* used label slots */
    struct pd__str lkey[PD_MAX_LABELS]; /* label keys */
    struct pd__str lval[PD_MAX_LABELS]; /* label values */
    uint32_t version;                   /* libmvcc version; 0 unknown */
    uint32_t region_version;            /* libregion version; 0 unknown */
};

/* A region as a command carries it, with the leader's last report. */
struct pd__region_v {
    uint64_t id;                        /* region id */
    struct pd__str start;               /* start key */
    struct pd__str end;                 /* end key (empty: +inf) */
    uint64_t conf_ver;                  /* epoch conf_ver */
    uint64_t version;                   /* epoch version */
    uint32_t n_peers;                   /* used peer slots */
    struct pd_peer peers[PD_MAX_PEERS]; /* peers */
    uint64_t leader_peer;               /* leader peer id, 0 unknown */
    uint64_t size;                      /* approximate bytes */
    uint64_t keys;                      /* approximate keys */
};

struct pd__cmd {
    uint8_t type;              /* enum pd__cmd_type */
    uint64_t u;                /* TSO/ID save value, cluster id */
    struct pd__store_v store;  /* BOOTSTRAP, PUT_STORE */
    struct pd__region_v region; /* BOOTSTRAP, PUT_REGION */
    struct pd__str service;    /* SERVICE_SAFE_POINT: service id */
    uint64_t expire;           /* SERVICE_SAFE_POINT: wall ms; 0 removes */
    uint64_t now;              /* GC/SERVICE: proposer's wall ms */
    struct pd__config_v cfg;   /* CONFIG */
};

/* Validity rules shared by the decoder and the API (a message in why). */
bool pd__store_valid(const struct pd__store_v *s, const char **why);
bool pd__region_valid(const struct pd__region_v *r, const char **why);
/* Views of public structs (strings and keys borrowed). */
int pd__store_view(const struct pd_store *in, struct pd__store_v *out,
                   const char **why);
void pd__region_view(const struct pd_region_info *in,
                     struct pd__region_v *out);

/* Decode len bytes; fields borrow from cmd. PD_EDECODE when malformed
 * (unknown type, bad varint, overlong field, trailing bytes). */
int pd__cmd_decode(const uint8_t *cmd, size_t len, struct pd__cmd *out);
/* Encode into b (check b->err). */
void pd__cmd_encode(const struct pd__cmd *c, struct pd__buf *b);

/* ---- cluster.c / region.c: the map ---- */
struct pd__store {
    uint64_t id;                  /* store id */
    char *address;                /* owned, NUL-terminated */
    int state;                    /* persisted enum pd_store_state */
    uint32_t n_labels;            /* used label slots */
    char *lkey[PD_MAX_LABELS];    /* owned label keys */
    char *lval[PD_MAX_LABELS];    /* owned label values */
    uint32_t version;             /* libmvcc version; 0 unknown */
    uint32_t region_version;      /* libregion version; 0 unknown */
    bool has_hb;                  /* leader: heartbeat this leadership */
    uint64_t hb_mono;             /* leader: mono ms of the last one */
    uint64_t hb_gap;              /* leader: ms between the last two (0:
                                   * one heartbeat so far: taken as
                                   * PD__FIRST_HB_GAP_MS) */
    struct pd_store_stats stats;  /* leader: last reported (no labels) */
};

struct pd__region {
    uint64_t id;                        /* region id */
    uint8_t *start;                     /* owned start key (or NULL) */
    size_t start_len;                   /* bytes */
    uint8_t *end;                       /* owned end key (or NULL) */
    size_t end_len;                     /* bytes; 0 means +inf */
    uint64_t conf_ver;                  /* epoch */
    uint64_t version;                   /* epoch */
    uint32_t n_peers;                   /* used peer slots */
    struct pd_peer peers[PD_MAX_PEERS]; /* peers */
    uint64_t leader_peer;               /* last known leader peer id */
    uint64_t leader_term;               /* leader: its term as heartbeats
                                           said (0: none said one) */
    uint64_t size;                      /* approximate bytes */
    uint64_t keys;                      /* approximate keys */
    bool has_hb;                        /* leader: heartbeat this leadership */
    uint64_t hb_mono;                   /* leader: mono ms of the last one */
    uint32_t n_down;                    /* leader: used slots of down */
    bool reshaped;                      /* leader: split/merged lately */
    uint64_t reshaped_mono;             /* leader: mono ms it was seen */
    uint64_t down[PD_MAX_PEERS];        /* leader: peers reported down */
};

struct pd__store *pd__store_find(const struct pd *pd, uint64_t id);
/* Fallen silent (leader): heard from in this leadership, but not for
 * longer than three of its last gaps between heartbeats plus a second
 * (one heartbeat so far: the gap is taken as PD__FIRST_HB_GAP_MS). A
 * store killed a moment ago is still UP (DOWN takes max_store_down_ms).
 * NULL or not heard from yet: false (nothing to judge by). */
#define PD__FIRST_HB_GAP_MS 10000 /* kvd's pd.heartbeat-interval default */
bool pd__store_silent(const struct pd__store *s, uint64_t mono_ms);
/* The effective state: DOWN for an up store silent too long. */
int pd__store_state(const struct pd *pd, const struct pd__store *s,
                    uint64_t mono_ms);
/* The value of label key, NULL when the store has none. */
const char *pd__store_label(const struct pd__store *s, const char *key);
void pd__store_free(struct pd__store *s);
void pd__store_remove(struct pd *pd, uint64_t id);
int pd__apply_store(struct pd *pd, const struct pd__store_v *v);
/* The CLUSTER_VERSION command, or CLUSTER_REGION_VERSION when region
 * (snapshots): refused below the current one or above a live store's
 * version. */
int pd__apply_cluster_version(struct pd *pd, bool region, uint32_t version);

struct pd__region *pd__region_find(const struct pd *pd, uint64_t id);
/* Index in by_key of the region holding key, or -1. */
long pd__region_index(const struct pd *pd, const uint8_t *key, size_t len);
const struct pd_peer *pd__region_peer(const struct pd__region *r,
                                      uint64_t store_id);
void pd__region_info(const struct pd__region *r, struct pd_region_info *out);
void pd__region_free(struct pd__region *r);
int pd__apply_region(struct pd *pd, const struct pd__region_v *v);
/* PD_ESTALE when v is older than the map (by id or by an overlap). */
int pd__region_stale(const struct pd *pd, const struct pd__region_v *v);
void pd__regions_clear(struct pd *pd);
int pd__keycmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

/* ---- gc.c ---- */
struct pd__service {
    char *id;        /* owned service id */
    uint64_t sp;     /* its safe point */
    uint64_t expire; /* wall ms after which it no longer counts */
};
int pd__apply_gc(struct pd *pd, const struct pd__cmd *c);
int pd__apply_service(struct pd *pd, const struct pd__cmd *c);
void pd__services_clear(struct pd *pd);

/* ---- operator.c ---- */
/* Region id left the map, replaced by region by_id (merge, split). */
void pd__region_gone(struct pd *pd, uint64_t id, uint64_t by_id);
/* Advance region v's operator; *step (may be NULL) gets its next step. */
int pd__op_heartbeat(struct pd *pd, uint64_t mono_ms,
                     const struct pd__region_v *v, struct pd_step *step);
void pd__ops_clear(struct pd *pd);
/* Whether region id has an operator or is the target of a merge. */
bool pd__op_busy(const struct pd *pd, uint64_t id);
/* Add an operator after the checks of pd_operator_add. */
int pd__op_add(struct pd *pd, uint64_t mono_ms, const struct pd_operator *op);

/* ---- the replica ---- */
struct pd {
    struct pd_config cfg;      /* copied; location label strings owned */
    struct pd_storage storage; /* where commands are proposed */
    char errmsg[256];          /* detail of the last error */

    /* Replicated state: changed only by pd_apply. */
    uint64_t tso_saved;  /* highest saved TSO bound, physical ms */
    uint64_t id_saved;   /* highest saved id block end */
    uint64_t cluster_id; /* nonzero once bootstrapped */
    uint32_t cluster_version; /* lowest live store version; only rises */
    uint32_t cluster_region_version; /* the same of libregion versions */
    bool restoring;      /* pd_restore: the versions come as commands */
    bool cfg_set;        /* a CONFIG command applied (cfg replicated) */
    struct pd__store **stores;   /* owned, sorted by id */
    size_t n_stores;             /* used slots */
    size_t cap_stores;           /* allocated slots */
    struct pd__region **by_key;  /* owned regions, sorted by start key */
    struct pd__region **by_id;   /* the same regions, sorted by id */
    size_t n_regions;            /* used slots of both */
    size_t cap_regions;          /* allocated slots of both */
    uint64_t gc_safe_point;      /* never decreases */
    struct pd__service *svc;     /* service safe points (owned) */
    size_t n_svc;                /* used slots */
    size_t cap_svc;              /* allocated slots */

    /* Leader-only operator table (volatile). */
    struct pd_operator *ops;     /* running operators, oldest first */
    size_t n_ops;                /* used slots */
    size_t cap_ops;              /* allocated slots */
    struct pd_operator_stats op_stats; /* counters since create */

    /* Leader state: volatile, rebuilt by pd_become_leader. */
    bool leader;          /* serving as leader */
    uint64_t leader_mono; /* monotonic ms when leadership began */
    uint64_t now_mono;    /* latest mono ms a leader call passed in */
    uint64_t tso_phys;    /* physical ms of the next timestamp */
    uint32_t tso_logical; /* next logical value in tso_phys */
    uint64_t tso_pending; /* bound proposed and not yet applied; 0 none */
    uint64_t id_next;     /* next id to hand out */
    uint64_t id_pending;  /* id block end proposed, not applied; 0 none */
};

/* Record detail for the caller (pd_errmsg); returns rc. */
int pd__err(struct pd *pd, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Log at level (cheap when below cfg.log_level or no logger). */
void pd__log(struct pd *pd, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Encode c and hand it to storage.propose. */
int pd__propose(struct pd *pd, const struct pd__cmd *c);

int pd__apply_config(struct pd *pd, const struct pd__config_v *v);

/* tso.c / id.c: reactions to applied saves and to leadership. */
int pd__tso_start(struct pd *pd, uint64_t wall_ms);
int pd__id_start(struct pd *pd);

#endif /* PD_INT_H */

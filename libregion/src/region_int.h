/* region_int.h: libregion's private structures and helpers: the store, its
 * regions (peers), pending requests, the codecs' byte tables and the
 * prefixed engine view the libmvcc store runs on. See DESIGN.md.
 */
#ifndef REGION_INT_H
#define REGION_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mvcc.h"
#include "raft.h"
#include "region.h"

/* ---- heap and byte buffers (heap.c) ---- */
void *region__malloc(size_t n);
void *region__calloc(size_t n, size_t size);
void *region__realloc(void *p, size_t n);
/* An array a of *cap elements of elem bytes with room for need: a itself
 * if it has it, else a reallocated one of twice the room (first at least,
 * more while short) and *cap raised; NULL (a and *cap untouched) if that
 * fails. */
void *region__grow(void *a, size_t *cap, size_t need, size_t elem,
                   size_t first);
void region__free(void *p);
void *region__memdup(const void *p, size_t n);
/* Keys and bounds in byte order, a prefix first: <0, 0 or >0. */
int region__cmp_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);

struct region_buf {
    uint8_t *data; /* bytes */
    size_t len;    /* used */
    size_t cap;    /* allocated */
    bool oom;      /* an append failed: contents are incomplete */
};
/* Room for n more bytes (not counted in len), NULL on OOM. */
uint8_t *region__buf_reserve(struct region_buf *b, size_t n);
void region__buf_put(struct region_buf *b, const void *p, size_t n);
void region__buf_u8(struct region_buf *b, uint8_t v);
void region__buf_u32(struct region_buf *b, uint32_t v);
void region__buf_u64(struct region_buf *b, uint64_t v);
void region__buf_bytes(struct region_buf *b, const void *p, size_t n);
void region__buf_free(struct region_buf *b);

/* A bounds-checked reader. */
struct region_rd {
    const uint8_t *p; /* next byte */
    size_t left;      /* bytes left */
    bool bad;         /* a read ran past the end */
};
uint8_t region__rd_u8(struct region_rd *r);
uint32_t region__rd_u32(struct region_rd *r);
uint64_t region__rd_u64(struct region_rd *r);
const uint8_t *region__rd_bytes(struct region_rd *r, size_t *len);

void region__put_u64(uint8_t *p, uint64_t v);
uint64_t region__get_u64(const uint8_t *p);

/* ---- keys of the engine (codec.c; byte table in DESIGN "Persistence") ----
 * CF raft (REGION__CF_LOG) holds the Raft log and hard state only:
 *   0x01 'L' id(8) index(8)  Raft log entry
 *   0x01 'H' id(8)           hard state
 * CF default holds, by first byte:
 *   0x01 local: 0x01 'A' id(8)           apply state
 *               0x01 'R' id(8)           region state (and 'S', 'M', ...)
 *   'r' raw user key                     raw KV value
 *   'z' ...                              transactional data (every data CF)
 * Stores written before 0.13 kept 'L' and 'H' in CF default: open moves
 * them (migrate_log_cf, store.c).
 */
#define REGION__CF_LOG MVCC_CF_RAFT
#define REGION__LOCAL 0x01
#define REGION__RAW 'r'
#define REGION__TXN 'z'
#define REGION__KEY_LOG_LEN 18
#define REGION__KEY_META_LEN 10
void region__key_log(uint8_t out[REGION__KEY_LOG_LEN], uint64_t region,
                     uint64_t index);
void region__key_meta(uint8_t out[REGION__KEY_META_LEN], char kind,
                      uint64_t region);

/* Log entry value: term(8) type(1) data. Hard state: term vote commit (8
 * each). Apply state: applied(8). Region state: see codec.c. */
int region__encode_desc(struct region_buf *b, const struct region_desc *d,
                        uint8_t state);
int region__decode_desc(const void *p, size_t len, struct region_desc *d,
                        uint8_t *state);

/* Command entry (codec.c, byte table there). */
enum region_cmd_type {
    REGION_CMD_RAW = 1,  /* a write batch of raw ops (CF default, raw keys) */
    REGION_CMD_CAS = 2,  /* compare and swap */
    REGION_CMD_TXN = 3,  /* a libmvcc write batch (unprefixed keys) */
    REGION_CMD_SPLIT = 4, /* split at key into a new region */
    REGION_CMD_PREPARE_MERGE = 5,  /* source: stop, marked merging into new_id */
    REGION_CMD_COMMIT_MERGE = 6,   /* target: take source new_id in (merge.c) */
    REGION_CMD_ROLLBACK_MERGE = 7, /* source: merging mark dropped */
    REGION_CMD_REJECT_MERGE = 8,   /* target: no commit of new_id's prepare
                                      at merge_index may apply from now */
    REGION_CMD_TTL_GC = 12, /* delete expired raw keys whose TTL record
                               still holds the expiry named (ttl.c); body:
                               an mvcc_wbatch of CF_LOCK puts key ->
                               expire_ms(8) */
};
struct region_cmd {
    uint8_t type;         /* enum region_cmd_type */
    uint64_t region_id;   /* region it was proposed to */
    uint64_t version;     /* epoch version at proposal */
    uint64_t conf_ver;    /* epoch conf_ver at proposal */
    const uint8_t *body;  /* RAW/TXN: encoded mvcc_wbatch; borrowed */
    size_t body_len;      /* its length */
    bool expect_exists;   /* CAS */
    bool del;             /* CAS: delete instead of put */
    const uint8_t *key;   /* CAS key */
    size_t key_len;       /* its length */
    const uint8_t *expect; /* CAS expected value */
    size_t expect_len;    /* its length */
    const uint8_t *value; /* CAS new value */
    size_t value_len;     /* its length */
    uint64_t expire_ms;   /* CAS: the new value's TTL record (wall-clock
                             ms it expires at); 0 none */
    uint64_t new_id;      /* SPLIT: id of the right-hand region; merge
                             commands: the other region (target of a
                             prepare/rollback, source of a commit/reject) */
    uint64_t merge_index; /* merge commands: the prepare's log index
                             (0 in the prepare itself) */
    uint64_t merge_term;  /* ... and its term */
};
struct region_peer;
/* A command of p's region, stamped with its current epoch, carrying body
 * (borrowed; NULL, 0 for none); the type's other fields zero. */
struct region_cmd region__cmd_for(const struct region_peer *p, uint8_t type,
                                  const uint8_t *body, size_t body_len);
int region__cmd_encode(struct region_buf *b, const struct region_cmd *c);
int region__cmd_decode(const void *p, size_t len, struct region_cmd *c);

/* ---- the transactional engine view (zengine.c): every key gets the 'z'
 * prefix, so libmvcc's data and the store's own keys share one engine. */
int region__zengine_create(struct mvcc_engine *base, struct mvcc_engine **out);
/* Append b's ops to dst with prefix p on every key (range ends too; an
 * empty range end becomes the end of the prefix). */
int region__wbatch_prefixed(struct mvcc_wbatch *dst,
                            const struct mvcc_wbatch *b, uint8_t p);
/* The same, leaving out b's single-key deletes in CF lock (raw apply on a
 * store that holds no TTL record: they would delete nothing). */
int region__wbatch_prefixed_nolockdel(struct mvcc_wbatch *dst,
                                      const struct mvcc_wbatch *b, uint8_t p);

/* ---- the store (store.c) ---- */
/* A region this store left: messages from a membership at or below
 * conf_ver are stale (DESIGN "Membership", re-adding a store). */
struct region_tomb {
    uint64_t id;       /* region id */
    uint64_t conf_ver; /* this store is not a member at this conf_ver */
};

/* A store added to a region, as a peer saw the add applied. */
struct region_joined {
    uint64_t store;    /* the store added */
    uint64_t conf_ver; /* the region's conf_ver the add made */
};

/* A raw batch's entry timed from its proposal (monotonic ns; 0: that
 * stage not reached yet) to its apply: region_store_stats lat_*. */
struct region_timed {
    raft_index index; /* its log index */
    uint64_t prop;    /* proposed */
    uint64_t durable; /* the leader's own log write of it synced and
                         completed on the loop */
    uint64_t commit;  /* first seen committed in a ready */
};
/* Entries timed at once per peer (more are simply not timed). */
#define REGION__TIMED 16

struct region_pending {
    struct region_pending *next; /* list order: index ascending */
    raft_index index;            /* log index of the proposal */
    raft_term term;              /* term it was proposed in */
    uint64_t read_ctx;           /* reads: the read context */
    raft_index read_index;       /* reads: 0 until the index is known */
    int age;                     /* reads: ticks waited */
    region_done_fn done;         /* completion */
    void *ud;                    /* its argument */
};

struct region_peer {
    struct raft_storage stor;     /* must be first: the node's storage
                                     (the memstore's, with snapshots built
                                     from the engine; snapshot.c) */
    struct region_store *store;   /* the store it belongs to */
    struct region_desc desc;      /* range, epoch, peers */
    struct raft_memstore *ms;     /* the log cache (everything durable) */
    raft_index compacted;         /* last index dropped from the log (its
                                     term kept): snapshot index */
    struct region_snap_tx *tx[2]; /* snapshots being sent to followers,
                                     newest first (snapshot.c; NULL:
                                     none) */
    const struct region_snap_tx *tx_counting; /* the snapshot the checker
                                     thread counts for p (compared only:
                                     its job owns it; NULL: none) */
    struct region_snap_rx *rx;    /* a snapshot being received (NULL:
                                     none) */
    struct region_snap_rx *chk;   /* the one whose chunks are checked on
                                     arrival, in order (NULL: none) */
    struct region_snap_inst *inst; /* an install whose move is out on the
                                     checker thread (owned; NULL: none):
                                     inst_rd, the ready with its
                                     snapshot, waits for it */
    bool inst_done;                /* that move is over: the loop ends
                                      the install and goes on with the
                                      ready */
    struct raft_ready inst_rd;     /* the ready held meanwhile */
    struct raft_node *node;       /* the Raft group member */
    raft_index applied;           /* last applied index */
    raft_term applied_term;       /* its entry's term (0: not known since
                                     start: nothing applied since) */
    raft_index last_index;        /* last index written to the engine */
    raft_term term;               /* current term as last seen */
    raft_id leader;               /* known leader */
    int role;                     /* enum raft_role */
    struct region_pending *props; /* proposals waiting for apply */
    struct region_pending *props_tail; /* last of props */
    uint32_t n_props;             /* length of props */
    struct mvcc_wbatch *rb;       /* raw writes batched since the last
                                     iteration, proposed as one entry at
                                     the next (rawbatch.c); NULL: none */
    struct region_pending *rb_pds; /* their requests, in order */
    struct region_pending *rb_tail; /* last of rb_pds */
    uint32_t rb_n;                /* length of rb_pds */
    uint64_t rb_version;          /* the epoch rb's requests were checked
                                     against (rawbatch.c proposes rb with
                                     it, so a split applied before the
                                     flush fails the entry EpochNotMatch
                                     instead of writing keys the region
                                     gave away) */
    uint64_t rb_conf_ver;         /* ditto */
    size_t rb_bytes;              /* rb's encoded bytes less the fixed
                                     header (rawbatch.c) */
    struct region_pending *reads; /* reads waiting for index/apply */
    bool initialized;             /* range known (false: created by a
                                     leader's message, waits for a
                                     snapshot; kept in s->uninit) */
    bool removed;                 /* this store left the region: its data
                                     goes after this iteration */
    bool replaced;                /* an uninitialized peer a split's peer
                                     replaced: out of every list, on
                                     s->replaced, freed once the readies
                                     it may be among are done */
    struct region_peer *next_replaced; /* s->replaced's link */
    uint64_t split_from;               /* applied_bytes at the last split or
                                          size check asked: what was written
                                          since is the difference */
    uint64_t split_next;               /* bytes written since split_from that
                                          call for the next size check (0:
                                          split_size) */
    bool split_pending;           /* an automatic split is proposed */
    bool split_checking;          /* a size check of it is out
                                     (splitcheck.c) */
    uint64_t check_seq;           /* that check's number */
    uint64_t applied_bytes;       /* key and value bytes of every op
                                     applied to it (never reset) */
    uint64_t data_gen;            /* bumped when its data shrank or was
                                     replaced (snapshot installed, GC
                                     removal, raw delete, range delete):
                                     a kept size is stale */
    struct region_size size;      /* the last count kept for reports
                                     (region_store_region_size_kept) */
    bool size_kept;               /* size holds one */
    uint64_t size_ver;            /* desc.version it counted */
    uint64_t size_gen;            /* data_gen when it began */
    uint64_t size_applied;        /* applied_bytes when it began */
    uint32_t n_out;               /* readies in log writer jobs not yet
                                     completed */
    struct region_timed timed[REGION__TIMED]; /* raw batches proposed
                                     here, oldest first, timed through
                                     the pipeline (store stats lat_*) */
    uint32_t n_timed;             /* used */
    bool snap_seen;               /* a snapshot chunk was stepped since
                                     the last ready taken on the loop: the
                                     next ready may install it */
    bool snap_whole;              /* and it ended a snapshot (p->chk whole
                                     and sound): the range it names is
                                     claimed until that ready (DESIGN
                                     "Snapshots that overlap") */
    raft_term lead_term;          /* term of the leadership lead_gen
                                     stamps (0: none seen) */
    uint64_t lead_gen;            /* s->lead_gen when that leadership was
                                     first seen (DESIGN "max_ts") */
    uint64_t report_gen;          /* s->report_gen at its last change a
                                     PD heartbeat shows (DESIGN
                                     "Reporting changes") */
    uint64_t gone_conf_ver;       /* a removal notice said this store is
                                     not a member at this conf_ver (0:
                                     none); its tombstone records it */
    struct region_joined joined[REGION_MAX_PEERS]; /* stores added while
                                     this peer ran, with the conf_ver of
                                     the add (DESIGN "Membership") */
    uint32_t n_joined;            /* used entries of joined */
    int idle_ticks;               /* uninitialized: ticks since a message
                                     for it last arrived */
    uint64_t merge_target;        /* merging into this region (0: not
                                     merging; persisted as 01 'M' id) */
    raft_index merge_index;       /* log index of the applied prepare */
    raft_term merge_term;         /* its term */
    bool merged;                  /* taken into its target: unlinked, kept
                                     in s->merged until no ready is out */
    bool hib;                     /* hibernating: not ticked (hibernate.c) */
    int hib_idle;                 /* leader: ticks idle in a row */
    raft_index hib_seen;          /* leader: last index at the previous
                                     idle check */
    struct region_peer *born_next; /* made by a split this iteration:
                                     next in s->born */
    bool born_led;                /* ... of a region led here */
    bool act;                     /* on s->act (region__activate) */
    /* MVCC GC (mvccgc.c; DESIGN.md "GC"): a sweep skips the region while
     * no write record above the safe point of its last sweep is here */
    uint64_t gc_swept;            /* safe point of the last sweep of the
                                     region's range (0: none since the
                                     peer was made, opened or had a
                                     snapshot installed) */
    uint64_t gc_swept_ver;        /* desc.version that sweep swept */
    uint64_t gc_max_ts;           /* no write record here has a higher
                                     ts: the last sweep's newest, raised
                                     by every record applied */
    uint64_t gc_applied_ts;       /* the newest record applied since the
                                     running sweep listed the region */
    uint64_t gc_installs;         /* snapshots installed (a sweep listed
                                     before one does not count) */
};

/* A vote or pre-vote for a region this store does not have yet: its
 * candidate was born of a split this store has not applied. Held until
 * the split makes the peer here (DESIGN "Split"), else overwritten. */
struct region_held {
    uint64_t from;        /* the candidate's store (0: slot free) */
    uint64_t region_id;   /* the region */
    uint8_t *raft;        /* the encoded Raft message (owned) */
    size_t len;           /* its length */
};
#define REGION_HELD_MAX 32

/* An uninitialized peer that hears nothing for this many election
 * timeouts is dropped (its store was removed before the snapshot came,
 * and nobody will tell it: it never speaks first). */
#define REGION__UNINIT_IDLE_ELECTIONS 60

/* A log write handed to the writer thread: the Raft entries and hard
 * states of initialized peers' readies, written in submission order; completed
 * (memstore, after messages, apply, advance) by the loop once durable. */
struct region_wjob {
    struct region_wjob *next;   /* submission order */
    struct mvcc_wbatch *wb;     /* the write */
    bool sync;                  /* some ready must_sync */
    bool written;               /* the writer is done with it */
    bool synced;                /* it ended a synced engine write */
    uint64_t t_submit;          /* monotonic ns: submitted by the loop */
    uint64_t t_taken;           /* the writer took it */
    uint64_t t_written;         /* the writer wrote (and synced) it */
    int rc;                     /* the write's result */
    size_t n;                   /* readies */
    struct region_peer **ps;    /* their peers */
    struct raft_ready *rds;     /* the readies (owned by the nodes) */
};

/* Readies one peer may have in writer jobs at once. */
#define REGION__MAX_INFLIGHT 8

/* A completion to run once the store is unlocked. */
struct region_completion {
    region_done_fn done;   /* callback */
    void *ud;              /* its argument */
    int rc;                /* result */
    struct region_err err; /* detail */
    bool cas_ok;           /* CAS outcome */
    bool prev_exists;      /* CAS: previous value existed */
    uint8_t *prev;         /* CAS: previous value (owned) */
    size_t prev_len;       /* its length */
};

/* A message batch to one store is sent once it holds this many bytes and
 * a new one begun: kvd sends a batch as one RPC frame, and librpc's
 * receiver closes the connection over a frame of more than 16 MiB
 * (every message on it lost: a leader catching a follower up sent more
 * than that in one iteration again at every retry, cutting the two
 * stores apart for good in a CHAOS_MERGE run). One message past this
 * (an append of up to 1 MiB, an entry of up to max_entry_bytes, 8 MiB)
 * keeps a batch under the frame limit. */
#define REGION__BATCH_BYTES (4u << 20)
/* Received snapshot chunks handed to the checker thread to stage, not
 * yet taken back written: the loop waits for the thread rather than hold
 * more (a count, so that a smaller snap_chunk_bytes holds less; DESIGN
 * "Staging off the loop"). */
#define REGION__STAGE_OUT_CHUNKS 4

struct region_outbox {
    uint64_t store;        /* destination */
    struct region_buf buf; /* batch being built */
    uint32_t count;        /* messages in it */
};

struct region_store {
    struct region_store_opts opts;    /* copied options, defaults filled */
    pthread_mutex_t mu;               /* guards everything below */
    struct region_peer **peers;       /* regions, sorted by start key */
    size_t n_peers;                   /* used slots */
    size_t cap_peers;                 /* allocated slots */
    uint64_t *idx_keys;               /* region id -> peer: open
                                         addressing, 0 = empty slot */
    struct region_peer **idx_vals;    /* the peers of idx_keys */
    size_t idx_cap;                   /* slots (power of two) */
    size_t idx_n;                     /* used slots */
    struct region_peer **uninit;      /* peers waiting for a snapshot */
    size_t n_uninit;                  /* used slots */
    size_t cap_uninit;                /* allocated slots */
    struct region_peer **act;         /* peers that may have work for
                                         the loop: a ready, a raw batch,
                                         a removal to finish (DESIGN.md
                                         "The loop": the active list);
                                         a peer appears once (p->act) */
    size_t n_act;                     /* used */
    size_t cap_act;                   /* allocated: at least n_live */
    size_t n_live;                    /* peers allocated with a node */
    bool leaders_dirty;               /* a role changed: count
                                         stats.leaders again */
    struct region_peer *replaced;     /* peers replaced by a split in
                                         this iteration (freed at its end:
                                         one may hold a ready the same
                                         iteration still steps over) */
    struct mvcc_engine *zeng;         /* prefixed view for mvcc */
    struct mvcc_store *mvcc;          /* transactional commands */
    struct mvcc_wbatch *wb;           /* the loop's Raft batch */
    struct mvcc_wbatch *ab;           /* the loop's apply batch */
    struct mvcc_wbatch *alocks;       /* its txn lock-CF ops, unprefixed:
                                         the lock table's part of ab
                                         (DESIGN.md "Transactions") */
    struct region_outbox *out;        /* per-destination batches */
    size_t n_out;                     /* used */
    size_t cap_out;                   /* allocated */
    struct region_completion *done;   /* completions of this iteration */
    size_t n_done;                    /* used */
    size_t cap_done;                  /* allocated */
    uint64_t read_seq;                /* read contexts */
    bool closing;                     /* close in progress */
    uint64_t id_seq;                  /* last region id allocated */
    struct region_tomb *tombs;        /* regions this store left */
    size_t n_tombs;                   /* used */
    size_t cap_tombs;                 /* allocated */
    bool writer_on;                   /* the log writer thread runs */
    bool commit_via_writer;           /* tests only: a ready whose hard
                                         state changed only its commit
                                         index goes to the writer (so a
                                         test can hold a commit known and
                                         not applied) */
    pthread_t writer;                 /* the log writer thread */
    pthread_mutex_t wmu;              /* guards the job list (taken after
                                         mu when both are held) */
    pthread_cond_t wcv;               /* a job was submitted / stop */
    pthread_cond_t dcv;               /* a job was written */
    struct region_wjob *jobs;         /* jobs not completed, in order */
    struct region_wjob *jobs_tail;    /* last of jobs */
    struct region_wjob *wnext;        /* first job the writer has not
                                         taken */
    bool wstop;                       /* the writer is to exit */
    bool checker_on;                  /* the split checker thread runs
                                         (splitcheck.c) */
    pthread_t checker;                /* the split checker thread */
    pthread_mutex_t cmu;              /* guards the check lists (taken
                                         after mu when both are held) */
    pthread_cond_t ccv;               /* a check was asked / stop */
    pthread_cond_t cdcv;              /* a check was done */
    struct region_check *cjobs;       /* checks asked, oldest first */
    struct region_check *cdone;       /* checks done, not acted on */
    size_t c_out;                     /* checks asked and not done */
    size_t c_snaps_out;               /* of them, snapshot counts, reads,
                                         installs' moves and staging */
    size_t c_stage_todo;              /* of them, received chunks to
                                         stage */
    size_t c_stage_out;               /* staging jobs handed over and not
                                         taken back (done or not) */
    int c_stage_rc;                   /* a staging write failed: every
                                         install fails from then on (its
                                         staged chunks may be short) */
    bool cstop;                       /* the checker is to exit */
    uint64_t check_seq;               /* checks asked (under mu) */
    struct region_store_stats stats;  /* counters */
    uint64_t lead_gen;                /* leaderships seen begin on this
                                         store (atomic; written under mu) */
    uint64_t synced_gen;              /* max_ts was raised from a TSO
                                         asked after leadership this (atomic) */
    uint64_t report_gen;              /* changes to report: leaderships
                                         begun, epochs changed (atomic;
                                         written under mu) */
    void (*change_fn)(void *ctx);     /* region_store_on_change (under
                                       mu) */
    void *change_ctx;                 /* its argument */
    pthread_mutex_t gc_mu;            /* serialises region_store_gc
                                         (held for a whole sweep; never
                                         with mu) */
    uint64_t gc_done;                 /* safe point of the last sweep that
                                         succeeded (under gc_mu) */
    uint64_t gc_safe_point;           /* highest safe point a sweep
                                         started at (atomic) */
    struct region_peer **merged;      /* sources merged away, waiting
                                         for their readies (merge.c) */
    size_t n_merged;                  /* used */
    size_t cap_merged;                /* allocated */
    struct region_ttl *ttl;           /* raw TTL: expired keys to delete
                                         (ttl.c) */
    struct region_hib *hib;           /* hibernation's store liveness
                                         (hibernate.c; NULL until used) */
    struct region_peer *born;         /* peers splits made this
                                         iteration (linked by born_next):
                                         once the split is applied they
                                         take the votes held for them and,
                                         born of a region led here,
                                         campaign */
    struct region_held held[REGION_HELD_MAX]; /* votes for regions not
                                         here yet */
    uint32_t held_next;               /* slot the next one takes */
    char errmsg[256];                 /* detail of the last error */
};

/* The peer of ctx's region with its epoch checked (store.c's lookup, for
 * read.c). Under s->mu. */
int region__peer_lookup(struct region_store *s, const struct region_ctx *ctx,
                        struct region_peer **out, struct region_err *err);
/* The region_err for a key outside p's region (store.c). Under s->mu. */
int region__key_check(struct region_peer *p, const void *key, size_t len,
                      struct region_err *err);
/* A raw key's value from the engine (its TTL honoured), no region
 * checks: 0 with *value handed over (region_free), MVCC_NOTFOUND, or an
 * engine error (store.c, for region_raw_get and read.c). */
int region__raw_get_engine(struct region_store *s, uint64_t region_id,
                           const void *key, size_t key_len, uint8_t **value,
                           size_t *value_len);
void region__log(struct region_store *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether this thread runs s's MVCC GC (mvccgc.c): the batches its
 * libmvcc store writes then go straight to the engine, not through Raft
 * (txn_apply_hook; DESIGN.md "GC"). */
bool region__gc_on_thread(const struct region_store *s);
void region__set_err(struct region_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Queue a message without a Raft part for store to: a removal notice, or
 * with conf_ver 0 a hibernation notice (version = the leader's term).
 * Under s->mu; it leaves with the next flush of the outboxes. */
void region__queue_ctl(struct region_store *s, uint64_t to,
                       uint64_t region_id, uint64_t conf_ver,
                       uint64_t version);

/* Hibernation (hibernate.c, DESIGN "Hibernation"), all under s->mu. */
bool region__hib_enabled(const struct region_store *s);
/* p wakes (ticks again); no-op when awake. */
void region__hib_wake(struct region_store *s, struct region_peer *p);
/* Before p's tick: whether it sleeps now (an idle leader, notices
 * queued for its followers); false when it is to be ticked. */
bool region__hib_idle_check(struct region_store *s, struct region_peer *p);
/* After every peer's tick: store liveness (pings, down/up edges). */
void region__hib_tick(struct region_store *s);
/* A batch arrived from store from. */
void region__hib_heard(struct region_store *s, uint64_t from);
/* A hibernation notice from store from for region p, leader term term. */
void region__hib_notice(struct region_store *s, struct region_peer *p,
                        uint64_t from, uint64_t term);
/* Whether a Raft message of this type wakes a hibernating peer (late
 * responses do not: work they cause wakes it through its ready). */
bool region__hib_wakes(int msg_type);
uint64_t region__hib_count(const struct region_store *s, uint64_t *down);
void region__hib_free(struct region_store *s);

/* Propose cmd in p (store.c's propose): 0, or a region error with
 * done never called. Under s->mu. */
int region__propose(struct region_store *s, struct region_peer *p,
                    const struct region_buf *cmd, region_done_fn done,
                    void *ud, struct region_err *err);

/* rawbatch.c (DESIGN.md "Raw write batching"), all under mu. add: a
 * request of `bytes` encoded op bytes (REGION__RAW_OP_FIXED + key + value
 * per op) joins p's open batch: build(b, arg) appends its ops to the
 * batch's write batch b (in place: nothing is copied twice), and the
 * request is answered done(ud) once its entry applies; the caller checked
 * leadership and keys; 0, SERVER_BUSY (too many waiting), what build
 * returned, or -ENOMEM (build is not called on SERVER_BUSY or
 * ENTRY_TOO_LARGE). flush: proposes p's open batch (errors go to its
 * requests' callbacks). fail: answers the open batch's requests with rc
 * and drops it. add also refuses a request bigger than an entry may be
 * (ENTRY_TOO_LARGE). */
#define REGION__RAW_OP_FIXED 10u
typedef int (*region__rawbatch_build_fn)(struct mvcc_wbatch *b, void *arg);
int region__rawbatch_add(struct region_store *s, struct region_peer *p,
                         size_t bytes, region__rawbatch_build_fn build,
                         void *arg, region_done_fn done, void *ud,
                         struct region_err *err);
void region__rawbatch_flush(struct region_store *s, struct region_peer *p);
void region__rawbatch_fail(struct region_store *s, struct region_peer *p,
                           int rc, const struct region_err *err);

/* Raw TTL (ttl.c, DESIGN "Raw TTL"). The record of a raw key with a TTL
 * is CF lock 'r' user key -> expire_ms(8), beside its value (CF default
 * 'r' user key, unchanged format). */
#define REGION__TTL_LEN 8
int region__ttl_init(struct region_store *s);
void region__ttl_free(struct region_store *s);
uint64_t region__unix_ms(const struct region_store *s);
/* Some TTL record may exist on this store (reads look only then). */
void region__ttl_note(struct region_store *s);
/* Whether region__ttl_note was called or open found a record. */
bool region__ttl_maybe(const struct region_store *s);
uint64_t region__mono_ns(void);
void region__timed_prop(struct region_peer *p, raft_index index);
/* Whether the raw key (engine key 'r'+key) expired; queues it for
 * deletion when it did. No lock needed. */
bool region__ttl_expired(struct region_store *s, uint64_t region_id,
                         const uint8_t *ekey, size_t ekey_len);
/* When a raw key written now to live ttl seconds (ttl > 0) expires: this
 * store's wall-clock ms, now + ttl (saturating). */
uint64_t region__ttl_expiry(struct region_store *s, uint64_t ttl);
/* The TTL record of such a key: its expiry into out; returns its length,
 * REGION__TTL_LEN. */
size_t region__ttl_record(struct region_store *s, uint64_t ttl,
                          uint8_t out[REGION__TTL_LEN]);
uint64_t region__ttl_expired_reads(const struct region_store *s);
/* Under s->mu, from the tick: propose the queued deletions (leaders). */
void region__ttl_gc(struct region_store *s);
/* Under s->mu, before a CAS on raw key (of p, which this store leads) is
 * proposed: when the key expired by this store's clock, propose its
 * TTL_GC first, so the CAS applies to it absent, as reads see it. */
void region__ttl_before_cas(struct region_store *s,
                            struct region_peer *p,
                            const void *key,
                            size_t key_len);
/* Apply a TTL_GC command (after the apply batch was flushed): its deletes
 * go into s->ab. */
int region__ttl_apply_gc(struct region_store *s, const struct region_cmd *c,
                         struct mvcc_wbatch *tmp);

/* Snapshots and log GC (snapshot.c). */
/* The engine ranges holding a region's data: raw keys in CF default and
 * libmvcc's keys in every CF. Owned bytes: release with
 * region__ranges_free. */
struct region_range {
    int cf;           /* column family */
    uint8_t *lo;      /* first engine key */
    size_t lo_len;    /* its length */
    uint8_t *hi;      /* first engine key past the range */
    size_t hi_len;    /* its length */
};
#define REGION__N_RANGES 5
#define REGION__RANGE_TTL 4 /* raw TTL records, CF lock */
int region__ranges(const struct region_desc *d,
                   struct region_range r[REGION__N_RANGES]);
void region__ranges_free(struct region_range r[REGION__N_RANGES]);
/* After the txn lock records of ranges r changed in the engine other than
 * by applied commands (a snapshot installed, a removed peer's data
 * deleted): libmvcc's lock table takes the engine's there (store.c). */
int region__reload_locks(struct region_store *s,
                         const struct region_range r[REGION__N_RANGES]);
/* What d holds here (region_store_region_size's count), reading at most
 * cap engine entries and stopping once byte_cap bytes were counted (0:
 * no cap). Reads the engine: the caller may hold s->mu. */
int region__size(struct region_store *s, const struct region_desc *d,
                 uint64_t cap, uint64_t byte_cap, struct region_size *out);
/* Keep sz as p's count for reports if p is still as it was when the count
 * began (version ver, data_gen gen; applied_bytes then: applied). Under
 * s->mu (snapshot.c). */
void region__size_keep(struct region_peer *p,
                       const struct region_size *sz,
                       uint64_t ver,
                       uint64_t gen,
                       uint64_t applied);
/* Where a split of d's data goes (splitcheck.c): the middle of its raw keys
 * or of its committed transactional keys, whichever holds more bytes,
 * past d's start; 0 with best (REGION_MAX_BOUND bytes), REGION_ENOT_FOUND
 * when there is none. Reads the engine: the caller may hold s->mu. */
int region__split_point(struct region_store *s, const struct region_desc *d,
                        uint8_t *best, size_t *best_len);
/* Point p->stor at the memstore's storage with snapshot support. */
void region__storage_init(struct region_peer *p);
/* Drop the snapshots p keeps for sending (its range or epoch changed);
 * a transfer still sending one starts over with a new one. One being
 * counted is dropped when its count is done. */
void region__snap_free(struct region_peer *p);
/* A snapshot's length: one pass over its engine snapshot, on any thread
 * without s->mu (it reads tx's own engine snapshot only). */
int region__snap_count(struct region_store *s, struct region_snap_tx *tx);
/* Under s->mu: tx, counted (rc) for region_id, becomes its peer's
 * snapshot to send if that peer still waits for it; else it is freed. */
void region__snap_counted(struct region_store *s,
                          uint64_t region_id,
                          struct region_snap_tx *tx,
                          int rc);
/* Free a snapshot nobody sends (a count job left at close). */
void region__snap_tx_free(struct region_store *s, struct region_snap_tx *tx);
/* A read of a snapshot's blocks ahead of libraft's asking, off the loop
 * (snapshot.c): run on the checker thread, without s->mu; done: under
 * s->mu, its blocks become the snapshot's to serve and the transfer is
 * resumed; free: a job left at close, not run or not done. */
struct region_snap_read;
void region__snap_read_run(struct region_store *s, struct region_snap_read *rd);
void region__snap_read_done(struct region_store *s,
                            struct region_snap_read *rd);
void region__snap_read_free(struct region_store *s,
                            struct region_snap_read *rd);
/* Free everything of p's snapshots, the one being received too. */
void region__snap_destroy(struct region_peer *p);
/* Whether the SNAPSHOT message m, for region_id from store from, may be
 * stepped: false (counted, logged) when its chunk fails its checksum or
 * its header is malformed; the leader sends it again. */
bool region__snap_chunk_ok(struct region_store *s, uint64_t region_id,
                           const struct raft_message *m, uint64_t from);
/* Whether the SNAPSHOT message m for p may be stepped, its records
 * checked on arrival in order (a chunk past those checked waits for the
 * leader's resend; one met mid-transfer is dropped): false, counted and
 * logged, for a chunk whose records do not parse or lie outside the
 * region. The install can then only meet records checked already. */
bool region__snap_chunk_in_order(struct region_store *s,
                                 struct region_peer *p,
                                 const struct raft_message *m, uint64_t from);
/* Check snapshot stream bytes b (n, the header first) of region as the
 * receiver does on arrival, fed in pieces of cut bytes as chunks of cut
 * bytes of payload bring them: NULL when every record is whole, of a
 * known CF and inside the region and the stream ends where its header
 * says, else why not (the fuzzer's and tests' entry; s counts memory). */
const char *region__snap_stream_check(struct region_store *s,
                                      uint64_t region,
                                      const uint8_t *b,
                                      size_t n,
                                      size_t cut);
/* Whether q claims the range of a snapshot it is to install, whatever it
 * holds now: one being installed (its move out), or one received whole
 * whose ready the loop has not taken (snap_whole). NULL if not, else what
 * the snapshot is doing (for a log line); *d gets the region it holds. */
const char *region__snap_claim(const struct region_peer *q,
                               struct region_desc *d);
/* Whether c is the chunk that ends, in order, the snapshot p's arrival
 * check is reading (its first chunk aside): *d gets the region that
 * snapshot holds. */
bool region__snap_chunk_last(const struct region_peer *p,
                             const struct raft_snapshot *c,
                             struct region_desc *d);
/* The region a snapshot's first chunk names: 0, or REGION_EDECODE when c
 * is no first chunk or its header does not decode. */
int region__snap_chunk_desc(const struct raft_snapshot *c,
                            struct region_desc *d);
/* CRC-32C (Castagnoli) of n bytes continuing crc (neither inverted
 * here): the CPU's instruction where it has one, else a byte table
 * (_portable, which tests hold the other to). */
uint32_t region__crc32c(uint32_t crc, const void *data, size_t n);
uint32_t region__crc32c_portable(uint32_t crc, const void *data, size_t n);
/* The checksum that opens a snapshot block (region__crc32c). */
uint32_t region__snap_block_crc(raft_index index, raft_term term,
                                uint64_t total, uint64_t offset,
                                const uint8_t *payload, size_t n);
/* Stage the snapshot chunks of rd (written at once, unsynced: libraft
 * starts a transfer cut by a restart over); a chunk that does not parse
 * makes the snapshot refused (logged; its install then fails). */
int region__snapshot_chunks(struct region_store *s, struct region_peer *p,
                            const struct raft_ready *rd);
/* Install snap (received: rd.snapshot, its data staged by the chunks)
 * in three steps, so that the move can run off the loop. begin (under
 * s->mu): REGION_EDECODE, s->errmsg saying why, if it was refused; else
 * what the move needs, copied out. move (the engine only, any thread):
 * the marker, the region's old data dropped, the staged records moved
 * into place (engine writes of their own), or nothing once a staging
 * write failed (region__check_stage_failed); its outcome kept in in. end
 * (under s->mu): the move's error, else added to s->wb the log dropped
 * and the region/apply/snapshot states, and the lock table reloaded; *d
 * gets the snapshot's region; frees in. Between them nothing may take
 * p's next ready, write its range, or free it (p->inst: DESIGN
 * "Installing off the loop"). */
struct region_snap_inst;
int region__snap_install_begin(struct region_store *s,
                               struct region_peer *p,
                               const struct raft_snapshot *snap,
                               struct region_snap_inst **out);
void region__snap_install_move(struct region_store *s,
                               struct region_snap_inst *in);
int region__snap_install_end(struct region_store *s,
                             struct region_peer *p,
                             struct region_snap_inst *in,
                             struct region_desc *d);
void region__snap_inst_free(struct region_snap_inst *in);
/* At open, before regions load: complete installs a restart interrupted
 * and drop the chunks of unfinished transfers. */
int region__snap_recover(struct region_store *s);
/* Drop applied log entries past the keep limit (engine and memstore). */
int region__log_gc(struct region_store *s, struct region_peer *p);
/* Membership (member.c). Conf state of a region: its stores are voters,
 * or learners where the learner bit says so. */
void region__conf_of(const struct region_desc *d, struct raft_conf_state *cs);
/* Apply one libraft change (enum raft_change_type) to d's stores and
 * learner bits (conf_ver untouched); REGION_EINVAL when d is full. */
int region__desc_change(struct region_desc *d, uint32_t type,
                        uint64_t store_id);
/* conf_ver of store_id's latest add seen by p (0: none seen). */
uint64_t region__joined_at(const struct region_peer *p, uint64_t store_id);
void region__joined_note(struct region_peer *p, uint64_t store_id,
                         uint64_t conf_ver);
void region__joined_drop(struct region_peer *p, uint64_t store_id);
/* Whether the leader status st shows store_id's replica caught up: taking
 * appends (past any snapshot), recently heard from, holding the log from
 * compacted on. */
bool region__peer_caught_up(const struct raft_status *st, uint64_t store_id,
                            raft_index compacted);

/* Store internals merge.c and splitcheck.c use (store.c). */
struct region_peer *region__find_peer(struct region_store *s, uint64_t id);
/* Ask the embedder to run region_store_process (transport.notify). Any
 * thread, locked or not. */
void region__notify(struct region_store *s);
/* p changed in a way a PD heartbeat shows (its epoch, or its leadership
 * began): stamp it with the next report generation and call the
 * store's hook (DESIGN "Reporting changes"). Under mu. */
void region__note_change(struct region_store *s, struct region_peer *p);
/* Propose splitting p at key into a new region (an id allocated here);
 * done(NULL, reply) once it applies. Under s->mu. */
int region__propose_split(struct region_store *s,
                          struct region_peer *p,
                          const void *key,
                          size_t len,
                          region_done_fn done);

/* The automatic split's size checks (splitcheck.c, DESIGN.md "Split"),
 * and the counting of snapshots built to send (DESIGN "Snapshots").
 * start: the checker thread at open (none with log_on_loop: checks and
 * counts run inline); stop: at close, before the engine goes.
 * maybe_split: after p's ready, asks for a check once enough was written
 * to p (leader only). finish: what checks found goes to their peers (a
 * split proposed); wait: first wait for every check asked. ready: whether
 * a check is done and not finished. All but start and stop under s->mu. */
struct region_check;
int region__check_start(struct region_store *s);
void region__check_stop(struct region_store *s);
void region__maybe_split(struct region_store *s, struct region_peer *p);
/* Count snapshot tx of p on the checker thread (region__snap_count, then
 * region__snap_counted at finish): 0 queued, -1 no checker thread (the
 * caller counts inline). */
struct region_snap_tx;
int region__check_snap(struct region_store *s,
                       struct region_peer *p,
                       struct region_snap_tx *tx);
/* Read snapshot blocks rd on the checker thread (region__snap_read_run,
 * then region__snap_read_done at finish); only with the thread on. Reads
 * go ahead of the size checks waiting: a transfer waits for them. 0
 * queued, -ENOMEM. */
int region__check_snap_read(struct region_store *s,
                            struct region_snap_read *rd);
/* Write wb, staged chunks of a snapshot of region_id received (bytes
 * counted in snap_mem), on the checker thread, behind every job but
 * reads (region__snap_staged at finish): 0 queued (wb is the thread's),
 * -1 no checker thread or no memory (the caller writes it inline: what
 * was queued before is written by then). Waits while
 * REGION__STAGE_OUT_CHUNKS are handed over and not taken back. */
int region__check_stage(struct region_store *s,
                        uint64_t region_id,
                        struct mvcc_wbatch *wb,
                        size_t bytes);
/* A staging write of the checker thread failed: its code (0: none).
 * The store fails from then on. */
int region__check_stage_failed(struct region_store *s);
/* Under s->mu: a staging write of region_id's (bytes) is over, rc. */
void region__snap_staged(struct region_store *s,
                         uint64_t region_id,
                         size_t bytes,
                         int rc);
/* Move an install's records into place on the checker thread
 * (region__snap_install_move, then region__snap_install_moved at
 * finish): 0 queued, -1 no checker thread or no memory (the caller
 * moves them inline). Behind everything queued before it. */
int region__check_install(struct region_store *s,
                          uint64_t region_id,
                          struct region_snap_inst *in);
/* Under s->mu: the move of in, region_id's, is over; its peer's install
 * ends at the loop's next iteration. */
void region__snap_install_moved(struct region_store *s,
                                uint64_t region_id,
                                const struct region_snap_inst *in);
/* Wait until no snapshot count, read or move is out (not under s->mu). */
void region__check_snaps_out_wait(struct region_store *s);
/* Tests: region__check_snaps_out_wait, then act on what the checker did
 * (takes s->mu). */
void region__snap_jobs_wait(struct region_store *s);
void region__check_finish(struct region_store *s, bool wait);
bool region__check_ready(struct region_store *s);
/* p may have work for the loop now (a message stepped, a proposal, a
 * tick, a wake-up, a raw write batched, a removal): the next
 * region_store_process looks at it. Never fails (room is kept for every
 * live peer). Under s->mu. */
void region__activate(struct region_store *s, struct region_peer *p);
int region__add_tomb(struct region_store *s, uint64_t id, uint64_t conf_ver);
int region__put_region_state(struct mvcc_wbatch *b,
                             const struct region_desc *d);
int region__flush_apply(struct region_store *s);
/* Apply one committed entry of p into s->ab, its outcome dropped (no
 * proposal is answered): a source's catch-up at a merge. */
int region__apply_entry(struct region_store *s, struct region_peer *p,
                        const struct raft_entry *e, struct mvcc_wbatch *tmp);
void region__complete_pending(struct region_store *s,
                              struct region_pending *pd, int rc,
                              const struct region_err *err);
/* Take p out of the sorted regions and the id index / put it back. */
void region__peer_unlink(struct region_store *s, struct region_peer *p);
int region__peer_link(struct region_store *s, struct region_peer *p);
void region__peer_free(struct region_peer *p);

/* Merge (merge.c; DESIGN "Merge"). */
/* SERVER_BUSY (err filled) when p is a source marked merging: it serves
 * nothing until the merge commits or rolls back. */
int region__merge_refuse(const struct region_peer *p, struct region_err *err);
/* Apply a merge command c of p (entry e) into s->ab; the command's own
 * outcome goes to *orc / oerr; the return is an engine error. */
int region__merge_apply(struct region_store *s, struct region_peer *p,
                        const struct region_cmd *c, const struct raft_entry *e,
                        struct mvcc_wbatch *tmp, int *orc,
                        struct region_err *oerr);
/* A snapshot of region d arrived while q, a region of this store, lies
 * inside d's range at an older version: q was merged into d (its log
 * that said so is gone), or q is a region still alive elsewhere whose
 * range d's newer epoch covers here (a split child of q's range, say).
 * True when q was made a tombstone its living group may revive, and
 * unlinked (its data stays for the snapshot to replace). */
bool region__merge_swallowed(struct region_store *s, struct region_peer *q,
                             const struct region_desc *d);
/* Load p's persisted merging mark (open). */
int region__merge_load(struct region_store *s, struct region_peer *p);
/* The target p merges into once it applies its log to the end (its
 * mark, or a prepare above its applied index that would apply: its
 * epoch the one p reaches there, no rollback after it), else 0: for a
 * replica that logged the prepare but never learnt it was committed. */
uint64_t region__merge_logged_target(struct region_peer *p);
/* Destroy merged sources with no ready out: their log and Raft state
 * go (the data stays: it is the target's). */
void region__merge_reap(struct region_store *s, int *rc);
void region__merge_free_all(struct region_store *s);

/* Message batch codec (codec.c): header then messages. */
struct region_wire_msg {
    uint64_t region_id;   /* target region */
    uint64_t conf_ver;    /* sender's epoch */
    uint64_t version;     /* sender's epoch */
    const uint8_t *raft;  /* raft_msg_encode bytes, borrowed */
    size_t raft_len;      /* their length */
};
void region__msgs_begin(struct region_buf *b, uint64_t from);
/* rm NULL: a removal notice (no Raft message). */
void region__msgs_add(struct region_buf *b, const struct region_wire_msg *m,
                      const struct raft_message *rm);
void region__msgs_finish(struct region_buf *b, uint32_t count);
/* Iterate a checked batch: call with *off = 0 after region_msgs_check. */
int region__msgs_next(const void *buf, size_t len, size_t *off,
                      struct region_wire_msg *m);

#endif /* REGION_INT_H */

/* raft_int.h: libraft's private structures and internal (raft__) functions:
 * the heap hook, the log (storage + unstable tail), progress tracking and
 * the node itself. See DESIGN.md for the states and invariants.
 */
#ifndef RAFT_INT_H
#define RAFT_INT_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft.h"

/* heap.c */
void *raft__malloc(size_t size);
void *raft__calloc(size_t n, size_t size);
void *raft__realloc(void *p, size_t size);
void raft__free(void *p);

/* ---- log.c: the log as the node sees it (thesis 3.5) ---- */

/* Entries not yet acknowledged as persisted, and possibly a snapshot. */
struct raft__unstable {
    struct raft_snapshot *snap; /* pending snapshot (owned, whole) or NULL */
    struct raft_entry *ents;    /* owned entries; ents[i].index == offset+i */
    size_t n;                   /* used slots of ents */
    size_t cap;                 /* allocated slots of ents */
    raft_index offset;          /* index of ents[0] */
    raft_index hand;            /* first index not yet in a ready */
    bool snap_handed;           /* snap is already in a ready */
};

/* Data dropped while a ready may point at it, freed once every ready
 * handed out up to gen has been released. */
struct raft__garbage {
    void *p;      /* the block */
    uint64_t gen; /* newest ready sequence when it was dropped */
};

struct raft__log {
    struct raft_storage *storage; /* borrowed: the durable part */
    struct raft__unstable u;      /* the not-yet-durable tail */
    raft_index committed;         /* highest known committed */
    raft_index applied;           /* highest applied by the application */
    raft_index applying;          /* highest handed out to apply (>= applied) */
    raft_index cut;               /* lowest index replaced since the readies
                                   * were last told (0 none) */
    bool pinned;                  /* a ready may point at log data */
    uint64_t pin_newest;          /* sequence of the newest ready handed out */
    uint64_t pin_oldest;          /* ... of the oldest not yet released */
    struct raft__garbage *garbage; /* data dropped while pinned */
    size_t n_garbage;             /* used slots of garbage */
    size_t cap_garbage;           /* allocated slots of garbage */
};

int raft__log_init(struct raft__log *l, struct raft_storage *s);
void raft__log_close(struct raft__log *l);
raft_index raft__log_first(struct raft__log *l);
raft_index raft__log_last(struct raft__log *l);
/* Term of i, or 0 when unknown (compacted or past the end). */
raft_term raft__log_term0(struct raft__log *l, raft_index i);
int raft__log_term(struct raft__log *l, raft_index i, raft_term *t);
raft_term raft__log_last_term(struct raft__log *l);
bool raft__log_match_term(struct raft__log *l, raft_index i, raft_term t);
bool raft__log_up_to_date(struct raft__log *l, raft_index i, raft_term t);
/* Entries [lo, hi) into a new array (*out handed over, data borrowed). */
int raft__log_entries(struct raft__log *l, raft_index lo, raft_index hi,
                      uint64_t max_bytes, struct raft_entry **out, size_t *n);
/* Append copies of ents at the end (truncating a conflicting tail). */
int raft__log_append(struct raft__log *l, const struct raft_entry *ents,
                     size_t n);
/* Follower append (figure 2, AppendEntries steps 2-5). *lastnew is set and
 * *ok true when prev matched. */
int raft__log_maybe_append(struct raft__log *l, raft_index prev,
                           raft_term prev_term, raft_index commit,
                           const struct raft_entry *ents, size_t n,
                           raft_index *lastnew, bool *ok);
void raft__log_commit_to(struct raft__log *l, raft_index c);
bool raft__log_maybe_commit(struct raft__log *l, raft_index i, raft_term t);
void raft__log_stable_to(struct raft__log *l, raft_index i, raft_term t);
void raft__log_stable_snap_to(struct raft__log *l, raft_index i);
/* Install a whole snapshot (handed over) as the log's new base. */
void raft__log_restore(struct raft__log *l, struct raft_snapshot *snap);
/* Largest index <= i whose term is <= t, with that term (fast backtrack). */
raft_index raft__log_conflict_by_term(struct raft__log *l, raft_index i,
                                      raft_term t, raft_term *found);
void raft__log_free_garbage(struct raft__log *l);
/* Room to drop extra blocks while pinned (so dropping cannot fail). */
int raft__log_reserve_garbage(struct raft__log *l, size_t extra);

/* ---- progress.c: the leader's view of each member (thesis 3.5, 4.3) ---- */

struct raft__inflight {
    raft_index index; /* last index of the append */
    uint64_t bytes;   /* its payload */
};

struct raft__progress {
    raft_id id;             /* member */
    raft_index match;       /* highest index known replicated */
    raft_index next;        /* next index to send */
    int state;              /* enum raft_progress_state */
    raft_index pending_snapshot; /* index of the snapshot being sent */
    raft_term snap_term;    /* its term */
    struct raft_snapshot_meta snap_meta; /* its metadata (snapshot_read
                                          * storages keep sending it) */
    uint64_t snap_total;    /* its data size */
    uint64_t snap_sent;     /* bytes sent (next chunk's offset) */
    uint64_t snap_acked;    /* bytes the member acknowledged holding */
    bool snap_begun;        /* a chunk went out (size 0 needs one too) */
    bool recent_active;     /* heard from since the last quorum check */
    bool paused;            /* probe: an append is out; wait for a beat */
    bool learner;           /* non-voting */
    int snap_ticks;         /* ticks spent in the snapshot state */
    uint64_t lease_tick;    /* newest heartbeat acked: the leader's tick,
                               or its clock (ms) when it sent it if
                               cfg.now_ms is set */
    raft_index commit_known; /* commit index the member reported */
    struct raft__inflight *infl; /* ring of unacked appends (owned) */
    uint32_t infl_start;    /* ring head */
    uint32_t infl_count;    /* ring occupancy */
    uint64_t infl_bytes;    /* payload in the ring */
};

/* The membership as decision rules: incoming/outgoing majorities. */
struct raft__tracker {
    struct raft_conf_state conf;                /* current configuration */
    struct raft__progress prs[RAFT_MAX_MEMBERS]; /* one per member */
    uint32_t n;                                 /* used slots of prs */
};

bool raft__ids_has(const raft_id *ids, uint8_t n, raft_id id);
bool raft__conf_is_voter(const struct raft_conf_state *c, raft_id id);
bool raft__conf_is_member(const struct raft_conf_state *c, raft_id id);
bool raft__conf_joint(const struct raft_conf_state *c);
int raft__conf_validate(const struct raft_conf_state *c);
struct raft__progress *raft__tracker_get(struct raft__tracker *t, raft_id id);
enum { RAFT__VOTE_PENDING = 0, RAFT__VOTE_WON = 1, RAFT__VOTE_LOST = 2 };
/* Outcome of a tally: granted/rejected lists of ids. */
int raft__tally(const struct raft_conf_state *c, const raft_id *granted,
                size_t n_granted, const raft_id *rejected, size_t n_rejected);
/* Highest index replicated on a quorum (both majorities when joint). */
raft_index raft__tracker_committed(struct raft__tracker *t);
bool raft__tracker_quorum_active(struct raft__tracker *t, raft_id self);
void raft__progress_reset(struct raft__progress *p, raft_index next);
bool raft__progress_paused(const struct raft__progress *p,
                           uint64_t max_msgs, uint64_t max_bytes);
void raft__progress_become_probe(struct raft__progress *p);
void raft__progress_become_replicate(struct raft__progress *p,
                                     uint64_t max_msgs);
void raft__progress_become_snapshot(struct raft__progress *p,
                                    raft_index snap);
bool raft__progress_maybe_update(struct raft__progress *p, raft_index n);
bool raft__progress_maybe_decr(struct raft__progress *p, raft_index rejected,
                               raft_index hint);
void raft__progress_sent(struct raft__progress *p, uint32_t n_ents,
                         uint64_t bytes, uint64_t max_msgs);
void raft__progress_free_first(struct raft__progress *p, uint64_t max_msgs);
void raft__progress_free_le(struct raft__progress *p, raft_index i,
                            uint64_t max_msgs);
/* Rebuild t's progress for conf, keeping known members' state. */
int raft__tracker_set_conf(struct raft__tracker *t,
                           const struct raft_conf_state *conf,
                           raft_index next);
void raft__tracker_close(struct raft__tracker *t);

/* confchange.c */
int raft__conf_apply(const struct raft_conf_state *cur,
                     const struct raft_conf_change *cc,
                     struct raft_conf_state *out);

struct raft__msgvec {
    struct raft_message *v; /* messages (each owning its payload block) */
    size_t n;               /* used slots */
    size_t cap;             /* allocated slots */
};

/* ---- ready.c ---- */

/* A committed configuration change handed out in a ready, decoded when the
 * ready is built so that releasing it never reads entry data. */
struct raft__rd_cc {
    raft_index index;            /* its log index */
    bool bad;                    /* undecodable: skipped by everyone */
    struct raft_conf_change cc;  /* the change */
};

/* One ready handed out and not yet released (DESIGN.md "Pipelined
 * writes"). Released in sequence order once it and all before it are
 * acknowledged. */
struct raft__rd {
    uint64_t seq;                 /* sequence number, from 1 */
    bool acked;                   /* acknowledged, waiting for earlier ones */
    struct raft_entry *committed; /* committed array (owned) */
    raft_index applied_to;        /* last committed index in it, or 0 */
    uint64_t committed_bytes;     /* payload of the committed entries */
    struct raft__rd_cc *ccs;      /* conf changes among them (owned) */
    size_t n_ccs;                 /* used slots of ccs */
    struct raft_entry *ents;      /* entry header copies (owned) */
    raft_index last;              /* last entry it writes, or 0 */
    raft_term last_term;          /* its term */
    raft_index snap;              /* snapshot index it writes, or 0 */
    raft_term hs_term;            /* term of the hard state it writes */
    struct raft__msgvec msgs;     /* send at once */
    struct raft__msgvec after;    /* send once durable */
    struct raft_read_state *reads; /* read states (owned) */
    struct raft_snapshot *chunks; /* streamed snapshot chunks (owned, each
                                   * with its data) */
    size_t n_chunks;              /* used slots of chunks */
};

void raft__rd_free_all(struct raft_node *n);
void raft__chunks_free(struct raft_snapshot *c, size_t cnt);

/* ---- node.c ---- */

struct raft__read_req {
    uint64_t context;                /* caller's id */
    raft_id from;                    /* requester (self or a follower) */
    raft_index index;                /* commit index when it arrived */
    raft_id acks[RAFT_MAX_MEMBERS];  /* voters that confirmed it */
    uint32_t n_acks;                 /* used slots of acks */
};


/* A snapshot chunk that arrived ahead of its predecessors. */
struct raft__chunk {
    uint64_t offset; /* position in the snapshot data */
    uint64_t len;    /* bytes at data */
    void *data;      /* copy (owned) */
};
#define RAFT__MAX_EARLY_CHUNKS 16

struct raft_node {
    struct raft_config cfg;       /* copy of the creation config */
    raft_id id;                   /* this node */
    raft_term term;               /* current term */
    raft_id vote;                 /* vote in term */
    raft_id lead;                 /* known leader */
    int role;                     /* enum raft_role */
    struct raft__log log;         /* the log */
    struct raft__tracker trk;     /* membership and progress */
    raft_id granted[RAFT_MAX_MEMBERS];  /* votes for us this election */
    size_t n_granted;                   /* used slots of granted */
    raft_id rejected[RAFT_MAX_MEMBERS]; /* votes against */
    size_t n_rejected;                  /* used slots of rejected */
    int election_elapsed;         /* ticks since last reset */
    uint64_t ticks;               /* ticks since creation (from 1) */
    bool lease_hold;              /* fresh start: act as if a leader was
                                   * heard (lease mode, see DESIGN.md) */
    raft_index removed_at;        /* leader: index of its own removal */
    int heartbeat_elapsed;        /* leader: ticks since last beat */
    int randomized_timeout;       /* in [election, 2*election) */
    uint64_t rng;                 /* PRNG state from cfg.seed */
    raft_index pending_conf_index; /* leader: last conf change proposed */
    uint64_t uncommitted;         /* leader: uncommitted payload bytes */
    raft_id transferee;           /* leader: transfer target */
    bool bcast_due;               /* leader: proposals or a commit since
                                   * the last ready owe every follower an
                                   * append, built when the next ready is
                                   * (raft__flush_appends) */
    uint64_t lease_fence;         /* leader: the lease counts only acks of
                                   * heartbeats sent after this tick, or
                                   * this ms with cfg.now_ms (the last
                                   * TIMEOUT_NOW + an election timeout) */
    struct raft__read_req *reads_pending; /* leader: reads in flight */
    size_t n_reads_pending;               /* used slots */
    size_t cap_reads_pending;             /* allocated slots */
    struct raft__read_req *reads_wait;    /* held until a term commit */
    size_t n_reads_wait;                  /* used slots */
    size_t cap_reads_wait;                /* allocated slots */
    struct raft_read_state *reads_done;   /* for the next ready */
    size_t n_reads_done;                  /* used slots */
    size_t cap_reads_done;                /* allocated slots */
    struct raft__msgvec msgs;     /* send at once */
    struct raft__msgvec after;    /* send after persisting */
    struct raft_snapshot *snap_rx; /* follower: chunks being received */
    raft_term snap_rx_term;       /* term of the leader sending it */
    struct raft__chunk early[RAFT__MAX_EARLY_CHUNKS]; /* out of order */
    uint32_t n_early;             /* used slots of early */
    struct raft_snapshot *rx_chunks; /* stream_snapshots: in-order chunks
                                      * for the next ready (data owned) */
    size_t n_rx_chunks;           /* used slots of rx_chunks */
    size_t cap_rx_chunks;         /* allocated slots of rx_chunks */
    struct raft_hard_state prev_hs; /* last hard state handed out */
    int prev_role;                /* last role handed out */
    raft_id prev_lead;            /* last leader handed out */
    struct raft__rd *rds;         /* readies out, ring of
                                   * cfg.max_inflight_readies slots */
    uint64_t rd_first;            /* sequence of the oldest not released */
    uint64_t rd_next;             /* sequence of the next ready */
    raft_term term_durable;       /* highest term of a released ready's
                                   * hard state (or the storage's) */
    uint64_t dropped_msgs;        /* sends lost to allocation failure */
    char errmsg[256];             /* detail on the last error */
};

void raft__log_msg(struct raft_node *n, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int raft__err(struct raft_node *n, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Queue m (copied; entries and snapshot chunk deep-copied). */
void raft__send(struct raft_node *n, const struct raft_message *m);
void raft__msgvec_clear(struct raft__msgvec *v);
void raft__msgvec_free(struct raft__msgvec *v);
int raft__apply_conf_change(struct raft_node *n,
                            const struct raft_conf_change *cc);
void raft__bcast_append(struct raft_node *n);
/* Sends the appends owed since the last ready (bcast_due), if leader. */
void raft__flush_appends(struct raft_node *n);
int raft__maybe_commit(struct raft_node *n);

#endif /* RAFT_INT_H */

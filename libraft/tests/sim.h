/* sim.h: a deterministic simulator of a libraft cluster for the tests: an
 * in-memory network (partitions, loss, delay, reordering, duplication),
 * in-memory disks (raft_memstore), crashes that lose unsynced writes, and
 * restarts; plus safety checkers run as the cluster moves. DESIGN.md
 * "Testing".
 */
#ifndef RAFT_TEST_SIM_H
#define RAFT_TEST_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "linz.h"
#include "raft.h"

#define SIM_MAX 9

struct sim_opts {
    int n_voters;            /* nodes 1..n_voters vote */
    int n_learners;          /* then this many learners */
    int n_spare;             /* then nodes outside the configuration */
    uint64_t seed;           /* drives everything random */
    bool pre_vote;           /* raft_config.pre_vote */
    bool fresh;              /* raft_config.fresh on each node's first
                              * start (never on sim_restart) */
    bool check_quorum;       /* raft_config.check_quorum */
    int read_only;           /* raft_config.read_only */
    uint64_t (*now_ms)(void *ctx); /* raft_config.now_ms (NULL: none) */
    void *clock_ctx;         /* raft_config.clock_ctx */
    uint32_t tick_ms;        /* raft_config.tick_ms */
    int election_tick;       /* 0: 10 */
    int loss_pm;             /* per-mille of messages lost */
    int dup_pm;              /* per-mille duplicated */
    int max_delay;           /* delivery delay in rounds: 0..max_delay */
    uint64_t max_inflight;   /* raft_config.max_inflight_msgs */
    uint64_t max_size_per_msg; /* raft_config.max_size_per_msg */
    uint64_t max_uncommitted;  /* raft_config.max_uncommitted_bytes */
    uint64_t chunk;          /* raft_config.snapshot_chunk_bytes */
    int snap_every;          /* snapshot+compact every N applies (0 off) */
    bool disable_forwarding; /* raft_config.disable_proposal_forwarding */
    bool async;              /* writes may stay in flight across a round */
    bool stream;             /* cfg.stream_snapshots, and a storage that
                              * reads snapshot data with snapshot_read */
    uint32_t snap_window;    /* raft_config.snapshot_window */
    int snap_pad;            /* snapshot data bytes after the state (<= 256) */
    int reads_pm;            /* chaos: extra reads per mille of rounds */
    bool stale_reads;        /* broken on purpose: reads answered from the
                              * node's state at once, no ReadIndex */
    int write_delay;         /* pipeline: a write finishes exactly this
                              * many rounds after its ready (and is
                              * acknowledged at once); 0: random */
    int pipeline;            /* > 1: up to this many readies out per node
                              * (max_inflight_readies), writes finishing
                              * in order, acknowledgements in any order */
};

#define SIM_PIPE 8
#define SIM_SNAP_HDR 24 /* snapshot data: applied, hash, values (8 each) */

/* A storage with snapshot_read over a node's memstore (opts.stream). */
struct sim_store {
    struct raft_storage base;   /* first: the node's storage */
    struct raft_memstore *ms;   /* where everything is */
    struct raft_snapshot meta;  /* the memstore's snapshot, no data */
    uint64_t reads;             /* snapshot_read calls */
    int fail_reads;             /* fail this many snapshot_read calls */
    bool hold_reads;            /* snapshot_read answers RAFT_ESNAPTEMP */
    uint64_t held_reads;        /* how many times it did */
    raft_index kept_index;      /* a snapshot kept for transfers under way
                                 * after a newer one was made (0 none) */
    uint8_t kept[SIM_SNAP_HDR + 256]; /* its data */
    uint64_t kept_len;          /* its size */
};

struct sim_node {
    raft_id id;                /* 1-based */
    struct raft_node *node;    /* NULL while crashed */
    struct raft_memstore *ms;  /* the disk: survives crashes */
    raft_index applied;        /* state machine: last applied */
    uint64_t hash;             /* state machine: hash chain of entries */
    struct raft_conf_state conf; /* conf as of applied (from entries) */
    bool crash_in_ready;       /* crash during the next ready */
    bool has_pending;          /* a ready whose write is in flight */
    struct raft_ready pending; /* ... that ready */
    uint64_t n_applied;        /* entries applied since start */
    struct raft_ready wq[SIM_PIPE]; /* pipeline: handed out, not written */
    uint64_t wq_at[SIM_PIPE];  /* round each was handed out */
    int n_wq;                  /* used slots of wq */
    struct raft_ready aq[SIM_PIPE]; /* pipeline: written, not acked */
    int n_aq;                  /* used slots of aq */
    int max_out;               /* most readies out at once seen */
    uint64_t n_values;         /* state machine: non-empty normal entries */
    struct sim_store store;    /* opts.stream: the node's storage */
    uint8_t stage[SIM_SNAP_HDR + 256]; /* streamed snapshot being stored */
    uint64_t stage_len;        /* bytes in stage */
    struct raft_snapshot_meta stage_meta; /* what stage holds */
    bool staging;              /* a chunk at offset 0 was stored */
    uint64_t chunks_in;        /* streamed chunks stored */
};

struct sim_read {
    raft_id node;       /* where the read was asked */
    uint64_t ctx;       /* its context */
    raft_index min;     /* highest commit anywhere when asked */
    bool done;          /* read state received */
    raft_index index;   /* the index it got */
    size_t op;          /* its operation in the history */
    bool waiting;       /* index known, node not applied that far yet */
};

#define SIM_MAX_READS 1024

struct sim {
    struct sim_opts o;            /* options */
    int n;                        /* nodes */
    struct sim_node nodes[SIM_MAX]; /* by id - 1 */
    uint64_t rng;                 /* PRNG state */
    uint64_t now;                 /* round */
    bool cut[SIM_MAX][SIM_MAX];   /* cut[a][b]: a cannot reach b */
    struct sim_msg *net;          /* messages in flight */
    size_t n_net, cap_net;        /* used/allocated */
    raft_term *ents_term;         /* applied entry term by index */
    raft_term *ents_known;        /* highest term anywhere when first
                                   * applied: committed by then */
    uint64_t *ents_hash;          /* hash chain value by index */
    raft_index n_ents;            /* highest index applied anywhere */
    size_t cap_ents;              /* allocated */
    raft_id leader_of[4096];      /* leader seen per term (term < 4096) */
    struct sim_read reads[SIM_MAX_READS]; /* reads asked */
    int n_reads;                  /* used slots */
    uint64_t next_ctx;            /* read contexts */
    uint64_t next_val;            /* proposal payloads */
    char failure[256];            /* first safety violation, "" if none */
    uint64_t delivered, dropped;  /* network counters */
    uint64_t sent[SIM_MAX + 1][RAFT_MSG_TYPE_MAX + 1]; /* by dest, type */
    uint64_t sent_ents[SIM_MAX + 1]; /* non-empty APPENDs by dest */
    uint64_t rejects;             /* rejecting APPEND_RESPs delivered */
    bool draining;                /* settle: finish every write and ack */
    struct linz_op *hist;         /* history: appends (position) and reads
                                   * (length) of the values log */
    size_t n_hist, cap_hist;      /* used/allocated */
    uint64_t clock;               /* history time */
    size_t *write_op;             /* hist index + 1 by proposal value */
    size_t cap_vals;              /* allocated slots of write_op */
    bool hist_incomplete;         /* a value applied that no sim_propose
                                   * recorded: no check */
    int n_waiting;                /* reads with waiting set */
    uint64_t linz_ops;            /* operations checked so far */
    uint64_t *prop_round;         /* round of each value's proposal */
    uint64_t lat_sum, lat_n;      /* rounds from proposal to first apply */
};

struct sim_msg {
    raft_id from, to;   /* endpoints */
    uint64_t at;        /* round to deliver in */
    uint8_t *buf;       /* encoded message */
    size_t len;         /* its size */
};

void sim_init(struct sim *s, const struct sim_opts *o);
void sim_close(struct sim *s);
struct raft_node *sim_node(struct sim *s, raft_id id);
/* One round: deliver due messages, process readies, tick every node. */
void sim_round(struct sim *s);
/* Process readies and deliver every queued message (ignoring delays)
 * until quiet, without ticking. */
void sim_settle(struct sim *s);
void sim_process_ready(struct sim *s, raft_id id);
void sim_tick(struct sim *s, raft_id id);
/* The single leader of the highest term among live nodes, or 0. */
raft_id sim_leader(struct sim *s);
/* Run rounds until some node leads (at most max rounds); 0 on timeout. */
raft_id sim_wait_leader(struct sim *s, int max);
int sim_propose(struct sim *s, raft_id id, uint64_t value);
void sim_isolate(struct sim *s, raft_id id);
void sim_cut(struct sim *s, raft_id a, raft_id b);
void sim_heal(struct sim *s);
void sim_crash(struct sim *s, raft_id id);
void sim_restart(struct sim *s, raft_id id);
/* Ask a linearizable read at id; returns its slot or -1. */
int sim_read(struct sim *s, raft_id id);
/* Check the history of sim_propose/sim_read for linearizability against
 * a log of values (appends at positions, reads of the length), recording
 * a failure if it is not. Returns the number of operations checked. */
size_t sim_check_linearizable(struct sim *s);
/* Check log matching and leader completeness over all disks. */
void sim_check_logs(struct sim *s);
/* Deliver every queued message once (ignoring delays). */
void sim_deliver_all(struct sim *s);
/* Drop all queued messages. */
void sim_drop_all(struct sim *s);
uint64_t sim_rand(struct sim *s);

#endif

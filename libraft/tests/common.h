/* common.h: small helpers shared by the libraft test suites: make a
 * standalone node on a memory store, collect its ready, build messages.
 */
#ifndef RAFT_TEST_COMMON_H
#define RAFT_TEST_COMMON_H

#include "raft.h"

struct tnode {
    struct raft_memstore *ms; /* its disk */
    struct raft_node *n;      /* the node */
    struct raft_message out[64]; /* messages of the last drain (copied
                                  * headers, no payload) */
    size_t n_out;             /* used slots */
    raft_index applied;       /* last applied */
};

/* A node `id` in a group of voters 1..n_voters, with given options. */
void tnode_init(struct tnode *t, raft_id id, int n_voters, bool pre_vote,
                bool check_quorum);
void tnode_close(struct tnode *t);
/* Process one ready (persist, apply) and keep its messages' headers. */
void tnode_drain(struct tnode *t);
/* The last drained message of type, or NULL. */
const struct raft_message *tnode_find(struct tnode *t, uint32_t type);
/* Append entries of the given terms at indices 2.. to the disk. */
void tnode_seed_log(struct tnode *t, const raft_term *terms, size_t n,
                    raft_term hs_term);
struct raft_message tmsg(uint32_t type, raft_id from, raft_id to,
                         raft_term term);

#endif

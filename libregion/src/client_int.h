/* client_int.h: the cluster transport's codec, between libmvcc's command
 * arguments and results and kvd's kv.TxnRequest / kv.TxnResponse
 * (txncodec.c), exposed to the unit tests and the fuzz target.
 * DESIGN.md, "Cluster transport".
 */
#ifndef REGION_CLIENT_INT_H
#define REGION_CLIENT_INT_H

#include <mvcc.h>

#include "kv.pb.h"
#include "region_int.h"

/* nanopb's cap on one bytes field (16-bit pb_size_t): longer values go to
 * the message's spill blob (kv.proto), longer keys are refused. */
#define REGION_BYTES_MAX 65535u
/* What one Txn request may carry in keys and values: kvd's and librpc's
 * 16 MiB frame limit less room for tags, lengths and the other fields. */
#define REGION_TXN_MAX_BYTES ((16u << 20) - (64u << 10))

/* Everything one Txn command sends; unused fields stay zero. Borrowed. */
struct region__txn_args {
    uint32_t method;                   /* REGION_METHOD_TXN_* */
    struct region_ctx ctx;             /* region and epoch */
    const void *key;                   /* Get, CheckTxnStatus, HeartBeat */
    size_t key_len;                    /* its length */
    const struct mvcc_key *keys;       /* BatchGet, Commit, Rollback, ... */
    size_t nkeys;                      /* how many */
    const void *start;                 /* Scan, ResolveLock, ScanLock:
                                          range start */
    size_t start_len;                  /* its length */
    const void *end;                   /* range end (NULL: region end) */
    size_t end_len;                    /* its length */
    uint32_t limit;                    /* Scan, ScanLock (0: no limit) */
    uint64_t version;                  /* read ts / start_ts */
    uint64_t commit_version;           /* Commit, ResolveLock */
    uint64_t current_ts;               /* CheckTxnStatus */
    uint64_t caller_start_ts;          /* CheckTxnStatus */
    uint64_t max_ts;                   /* ScanLock: locks with start_ts at
                                          or below it */
    bool rollback_if_not_exist;        /* CheckTxnStatus */
    const struct mvcc_mutation *muts;  /* Prewrite */
    size_t nmuts;                      /* how many */
    const void *primary;               /* Prewrite, PessimisticLock */
    size_t primary_len;                /* its length */
    uint64_t lock_ttl;                 /* Prewrite, HeartBeat, Lock */
    uint64_t txn_size;                 /* Prewrite */
    uint64_t min_commit_ts;            /* Prewrite */
    uint64_t deadline_ms;              /* Prewrite, 1PC/async: deadline */
    uint64_t for_update_ts;            /* Prewrite, Pessimistic* */
    int64_t wait_timeout_ms;           /* PessimisticLock */
    bool return_values;                /* PessimisticLock */
    bool try_one_pc;                   /* Prewrite: 1PC */
    bool use_async_commit;             /* Prewrite: async commit */
    const struct mvcc_key *secondaries; /* Prewrite, async: other keys */
    size_t nsecondaries;               /* how many */
    const void *cop;                   /* Coprocessor: the request */
    size_t cop_len;                    /* its length */
};

/* Fills *out (zeroed first) from a; every byte string is copied into
 * allocations released by region__txnreq_free. A mutation value over
 * REGION_BYTES_MAX is copied into out->spill (Mutation.value_spill says
 * its length). -E2BIG when a key exceeds REGION_BYTES_MAX or a list
 * 65,535 entries (nanopb's limits), RPC_EFRAME_TOO_LARGE when the keys
 * and values exceed REGION_TXN_MAX_BYTES, -ENOMEM. On failure nothing
 * stays allocated. */
int region__txnreq_build(kv_TxnRequest *out, const struct region__txn_args *a);
void region__txnreq_free(kv_TxnRequest *r);

/* The protobuf bytes of the kv.TxnRequest region__txnreq_build makes of
 * a (with bypass as its resolved_locks), written straight from a into a
 * region__malloc'ed *out of *len bytes: 0; 1, nothing made, for
 * anything past nanopb's limits or over 1 MiB of keys and values (build
 * it instead: it says which); -ENOMEM. */
int region__txnreq_encode(const struct region__txn_args *a,
                          const uint64_t *bypass, size_t nbypass,
                          uint8_t **out, size_t *len);

/* Converts kvd's answer to the code and result the local transport
 * gives: res is reset first and then filled (allocated through
 * mvcc_malloc, released by mvcc_result_reset), err gets the region
 * error's detail. Returns the reply's code: 0, a libmvcc code, or a
 * REGION_E* code (region errors keep libregion's codes here; see
 * region__client_code). Pair values with value_spill come out of
 * r->spill in order; a spill the pairs do not use up exactly is
 * REGION_EDECODE. -ENOMEM and REGION_EDECODE leave res reset. */
int region__txnresp_result(const kv_TxnResponse *r, struct mvcc_result *res,
                           struct region_err *err);

/* The same for the reply's protobuf bytes, read by hand (txncodec.c),
 * with *more its `more`: 1, res reset, for a reply it leaves to nanopb
 * (a region error, locks, an error text, a key, spilled values, an
 * unknown field, anything malformed or past nanopb's limits): decode it
 * with rpc_msg_decode and convert it with region__txnresp_result. Else
 * exactly what those two give for the same bytes (fuzz_txnfast). */
int region__txnresp_decode(const uint8_t *buf, size_t len,
                           struct mvcc_result *res, struct region_err *err,
                           bool *more);

/* kv.Locate: the request for key (copied; -E2BIG past 65,535 bytes), and
 * the region and leader a store answered (0, the store's code, or
 * REGION_ENOT_FOUND without a region). */
int region__locreq_build(kv_LocateRequest *out, const void *key, size_t len);
void region__locreq_free(kv_LocateRequest *r);
int region__locresp_result(const kv_LocateResponse *r, struct region_desc *d,
                           uint64_t *leader);

/* The code the transport returns for what a call ended with: region
 * errors and lost or refused connections become libmvcc's region codes
 * (MVCC_NOT_LEADER .. MVCC_STORE_UNREACHABLE), a command over the Raft
 * entry or frame limit -EMSGSIZE, other codes pass. */
int region__client_code(int rc);

/* A read answered forward (kvd scans ascend) made into what libmvcc's
 * scan options ask: values dropped for key_only, order reversed and cut
 * to limit for reverse. */
void region__scan_adjust(struct mvcc_result *res, bool key_only,
                         bool reverse, size_t limit);

#endif /* REGION_CLIENT_INT_H */

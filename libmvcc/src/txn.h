/* txn.h: helpers shared by the storage commands (read.c, write.c,
 * pessimistic.c, gc.c): loading locks, finding a transaction's commit or
 * rollback record, reading the value visible at a ts, result building.
 * See DESIGN.md, "Commands".
 */
#ifndef MVCC_TXN_H
#define MVCC_TXN_H

#include "codec.h"
#include "mvcc_int.h"

/* Per-command scratch: the batch being built and reusable buffers. */
struct mvcc__cmd
{
    struct mvcc_store *s;             /* the store */
    const struct mvcc_snapshot *snap; /* read view; NULL = latest (writers) */
    struct mvcc_wbatch wb;            /* what the command writes */
    struct mvcc_iter *wit;            /* write CF iterator, made on demand */
    struct mvcc__buf kb;              /* key scratch */
    struct mvcc__buf vb;              /* value scratch */
    struct mvcc__buf lockraw;         /* raw bytes of the last loaded lock */
    struct mvcc__scratch *sc;         /* the store's spare these buffers
                                         came in, or NULL */
};

void mvcc__cmd_init(struct mvcc__cmd *c, struct mvcc_store *s,
                    const struct mvcc_snapshot *snap);
void mvcc__cmd_free(struct mvcc__cmd *c);
/* Writes the batch (with the store's sync option). */
int mvcc__cmd_write(struct mvcc__cmd *c);

/* Loads the lock of ukey into *l (borrowing c->lockraw): 0 or
 * MVCC_NOTFOUND. */
int mvcc__load_lock(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                    struct mvcc__lock *l);

enum { MVCC__REC_NONE = 0, MVCC__REC_COMMITTED = 1, MVCC__REC_ROLLED_BACK = 2 };
/* Looks for start_ts's commit or rollback record on ukey: *kind and, when
 * committed, *commit_ts. */
int mvcc__find_txn_record(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                          mvcc_ts start_ts, int *kind, mvcc_ts *commit_ts);
/* One pass over ukey's records with commit_ts >= start_ts: *rolled_back
 * if start_ts's rollback is there, *committed if its commit is (at
 * *own_commit), and the newest other txn's commit above start_ts (a Put,
 * Delete or Lock record; with data_only, a Put or Delete: a Lock record
 * changes no value; another txn's Rollback record never counts, it only
 * fences that txn's late prewrite) in *other_start and *other_commit (0
 * if none); *newest is the ts of ukey's newest record (0 if it has
 * none). */
int mvcc__scan_versions(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                        mvcc_ts start_ts, bool data_only, bool *rolled_back,
                        bool *committed, mvcc_ts *own_commit,
                        mvcc_ts *other_start, mvcc_ts *other_commit,
                        mvcc_ts *newest);
/* The newest committed write record of ukey with commit_ts > after (any
 * type): 0 with *commit_ts and *w (borrowing c->vb), or MVCC_NOTFOUND. */
int mvcc__newest_write(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                       mvcc_ts *commit_ts, struct mvcc__write *w);
/* The value of ukey visible at ts: 0 with *val (handed over, may be NULL if
 * want_value is false), MVCC_NOTFOUND, or an error. */
int mvcc__read_value(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                     mvcc_ts ts, bool want_value, uint8_t **val,
                     size_t *vlen);

/* Reads (read.c): an iterator over the write CF is stepped with next()
 * or prev() over one key's versions at most this many times before a
 * seek is used instead (RocksDB's max_sequential_skip_in_iterations). */
#define MVCC__SEEK_BOUND 8
/* it is on (or before, within) the versions of the user key encoded in
 * ek's first el bytes (ek's later bytes are scratch). Moves it to the
 * newest Put or Delete with commit_ts <= ts, looking through Lock and
 * Rollback records: 1 with *w decoded (borrowing the iterator until it
 * moves) for a Put, 0 for a Delete or nothing, or an error. */
int mvcc__visible(struct mvcc_store *s, struct mvcc_iter *it,
                  struct mvcc__buf *ek, size_t el, mvcc_ts ts,
                  struct mvcc__write *w);
/* The value of Put record w of the user key encoded in ek[0..el): its
 * short value copied, or read from CF default on c->snap (ek's scratch
 * bytes used for the key). Handed over in *val. */
int mvcc__put_value(struct mvcc__cmd *c, struct mvcc__buf *ek, size_t el,
                    const struct mvcc__write *w, uint8_t **val, size_t *vlen);

/* Adds to the batch a rollback of ukey for start_ts: the lock l (ours, or
 * NULL) and its default-CF value removed, and a rollback record written
 * (or the overlap flag set on a commit record at that ts), a pessimistic
 * lock's too: a prewrite may land where one was lost (DESIGN "Pessimistic
 * locks"), so the rollback must stay (TiKV's rollback_lock). */
int mvcc__rollback_key(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                       const struct mvcc__lock *l, mvcc_ts start_ts);
/* Adds to the batch the commit of lock l on ukey at commit_ts, and the
 * lock's removal if del_lock (1PC writes no lock unless one was there). */
int mvcc__commit_key(struct mvcc__cmd *c, const void *ukey, size_t ulen,
                     const struct mvcc__lock *l, mvcc_ts commit_ts,
                     bool del_lock);

/* Whether a lock's TTL has passed at current_ts (physical ms compared). */
bool mvcc__lock_expired(const struct mvcc__lock *l, mvcc_ts current_ts);

/* Result building; each copies. */
void mvcc__res_clear(struct mvcc_result *r);
int mvcc__res_add_pair(struct mvcc_result *r, const void *k, size_t kl,
                       uint8_t *val_handed_over, size_t vl);
/* Appends a pair whose key and value are handed over (freed on error). */
int mvcc__res_push_pair(struct mvcc_result *r, uint8_t *key, size_t kl,
                        uint8_t *val_handed_over, size_t vl);
int mvcc__res_add_lock(struct mvcc_result *r, const void *k, size_t kl,
                       const struct mvcc__lock *l);
int mvcc__res_set_key(struct mvcc_result *r, const void *k, size_t kl);

#endif

/* splitcheck.c: the automatic split (DESIGN.md "Split"). Once enough was
 * written to a region led here, what it holds is measured and, when it
 * holds split_size bytes, the key cutting it in halves is found; then the
 * loop proposes the split. Measuring reads up to split_size bytes and the
 * key search the region twice more: on the loop that would hold up every
 * region of the store for as long (96 MiB: a third of a second), so it
 * runs on the split checker thread, which reads the engine only, and
 * hands each result back to the loop (region__check_finish). Without
 * threads (log_on_loop) the check runs inline, as before 0.25.
 * The same thread counts the length of a snapshot built to send
 * (snapshot.c), a pass over the whole region too, reads its blocks ahead
 * of libraft's asking, writes a received one's chunks as the loop stages
 * them, and moves its records into place.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "region_int.h"

/* A check: the region as it was when asked, and what was found. */
struct region_check
{
    struct region_check *next;
    uint64_t seq;                  /* the peer's check_seq when asked */
    uint64_t gen;                  /* its data_gen then */
    uint64_t applied;              /* its applied_bytes then */
    struct region_desc desc;       /* the region measured (copy) */
    int rc;                        /* 0, or why it could not be measured */
    struct region_size size;       /* what it held (stops at split_size) */
    int key_rc;                    /* split key search: 0 (key set),
                                      REGION_ENOT_FOUND, or an error; -1:
                                      not searched (short of the size) */
    uint8_t key[REGION_MAX_BOUND]; /* where to cut */
    size_t key_len;                /* its length */
    uint64_t ns;                   /* time the reading took */
    struct region_snap_tx *tx;     /* a snapshot to count for desc.id
                                      instead (owned; NULL: a size
                                      check) */
    struct region_snap_read *rd;   /* or snapshot blocks to read (owned) */
    struct region_snap_inst *inst; /* or an install's records to move
                                      for desc.id (its peer's) */
    struct mvcc_wbatch *wb;        /* or a received snapshot's chunks to
                                      stage for desc.id (owned) */
    size_t wb_bytes;               /* what wb holds, counted in snap_mem */
};

/* The key splitting [lo, hi) of cf in two halves by bytes (user key:
 * txn keys are decoded). 0 with key set, or REGION_ENOT_FOUND. */
static int middle_key(struct region_store *s,
                      const struct region_range *r,
                      bool txn,
                      uint8_t *key,
                      size_t *key_len,
                      uint64_t *total)
{
    struct mvcc_iter_opts io = {r->lo, r->lo_len, r->hi, r->hi_len};
    uint64_t sum = 0, half = 0;
    int rc = 0;
    *total = 0;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        struct mvcc_iter *it = NULL;
        rc = mvcc_engine_iter(s->opts.engine, NULL, r->cf, &io, &it);
        if (rc != 0)
            return rc;
        sum = 0;
        rc = it->ops->seek_to_first(it);
        while (rc == 0 && it->ops->valid(it)) {
            size_t kl, vl;
            const uint8_t *k = it->ops->key(it, &kl);
            it->ops->value(it, &vl);
            sum += kl + vl;
            if (pass == 1 && sum >= half) {
                size_t used = 0, ul = 0;
                uint8_t buf[4096];
                if (!txn) {
                    ul = kl - 1;
                    if (ul <= REGION_MAX_BOUND)
                        memcpy(buf, k + 1, ul);
                } else if (kl - 1 > sizeof buf ||
                           mvcc_key_decode(k + 1, kl - 1, buf, &ul, &used) !=
                               0) {
                    ul = REGION_MAX_BOUND + 1; /* unusable: skip */
                }
                if (ul > 0 && ul <= REGION_MAX_BOUND) {
                    memcpy(key, buf, ul);
                    *key_len = ul;
                    mvcc_iter_destroy(it);
                    return 0;
                }
            }
            rc = it->ops->next(it);
        }
        mvcc_iter_destroy(it);
        half = sum / 2;
        *total = sum;
    }
    return rc != 0 ? rc : REGION_ENOT_FOUND;
}

int region__split_point(struct region_store *s,
                        const struct region_desc *d,
                        uint8_t *best,
                        size_t *best_len)
{
    struct region_range r[REGION__N_RANGES];
    int rc = region__ranges(d, r);
    if (rc != 0)
        return rc;
    uint8_t key[REGION_MAX_BOUND];
    size_t kl = 0;
    uint64_t best_total = 0, total = 0;
    *best_len = 0;
    /* raw keys (CF default) and committed txn versions (CF write) */
    for (int i = 0; i < REGION__N_RANGES; i++) {
        if (i != 0 && r[i].cf != MVCC_CF_WRITE)
            continue;
        if (middle_key(s, &r[i], i != 0, key, &kl, &total) == 0 &&
            total > best_total &&
            region__cmp_bytes(key, kl, d->start, d->start_len) > 0) {
            memcpy(best, key, kl);
            *best_len = kl;
            best_total = total;
        }
    }
    region__ranges_free(r);
    return *best_len ? 0 : REGION_ENOT_FOUND;
}

/* The reading part of a check: engine only, any thread. */
static void check_run(struct region_store *s, struct region_check *c)
{
    if (c->wb) {
        c->rc = mvcc_engine_write(s->opts.engine, c->wb, false);
        return;
    }
    if (c->rd) {
        region__snap_read_run(s, c->rd);
        return;
    }
    if (c->inst) {
        region__snap_install_move(s, c->inst);
        return;
    }
    if (c->tx) {
        c->rc = region__snap_count(s, c->tx);
        return;
    }
    uint64_t t0 = region__mono_ns();
    c->key_rc = -1;
    c->rc = region__size(s, &c->desc, 0, s->opts.split_size, &c->size);
    if (c->rc == 0 && c->size.bytes >= s->opts.split_size)
        c->key_rc = region__split_point(s, &c->desc, c->key, &c->key_len);
    c->ns = region__mono_ns() - t0;
}

static void auto_split_done(void *ud, const struct region_reply *r)
{
    (void)ud;
    (void)r; /* the outcome is logged at apply; a lost one is retried */
}

/* The loop's part: what the check found decides p's next check, and a
 * split if it holds split_size. Under s->mu. */
static void check_apply(struct region_store *s, struct region_check *c)
{
    if (c->wb) {
        region__snap_staged(s, c->desc.id, c->wb_bytes, c->rc);
        return;
    }
    if (c->rd) {
        region__snap_read_done(s, c->rd);
        c->rd = NULL;
        return;
    }
    if (c->inst) {
        region__snap_install_moved(s, c->desc.id, c->inst);
        return;
    }
    if (c->tx) {
        region__snap_counted(s, c->desc.id, c->tx, c->rc);
        c->tx = NULL;
        return;
    }
    struct region_peer *p = region__find_peer(s, c->desc.id);
    if (p == NULL || !p->split_checking || p->check_seq != c->seq)
        return; /* gone, or a new peer of the region */
    p->split_checking = false;
    s->stats.split_checks++;
    s->stats.split_check_ns += c->ns;
    if (c->desc.version != p->desc.version)
        return; /* split or merged meanwhile: apply reset its count */
    if (c->rc != 0) {
        region__log(s, REGION_LOG_WARN, "region %llu: size check failed: %s",
                    (unsigned long long)c->desc.id, region_strerror(c->rc));
        p->split_next = s->opts.split_size / 4; /* not at every write */
        return;
    }
    /* the heartbeats' count too */
    region__size_keep(p, &c->size, c->desc.version, c->gen, c->applied);
    if (c->size.bytes < s->opts.split_size) {
        /* Checked again once it could have grown to split_size, but not
         * before a quarter of it: a region just below the size and
         * written over reads itself at most four times per split_size
         * written. */
        uint64_t lack = s->opts.split_size - c->size.bytes; /* > 0 */
        p->split_next =
            lack > s->opts.split_size / 4 ? lack : s->opts.split_size / 4;
        return;
    }
    p->split_next = 0;
    if (c->key_rc != 0) /* memory, or no key to cut at: split_size more */
        return;
    if (p->role != RAFT_LEADER || p->split_pending || p->merge_target)
        return; /* the next leader measures it again */
    if (region__propose_split(s, p, c->key, c->key_len, auto_split_done) == 0)
        p->split_pending = true;
}

static void check_free(struct region_store *s, struct region_check *c)
{
    while (c) {
        struct region_check *n = c->next;
        region__snap_tx_free(s, c->tx);
        mvcc_wbatch_destroy(c->wb);
        if (c->rd)
            region__snap_read_free(s, c->rd);
        region__free(c);
        c = n;
    }
}

static void *checker_main(void *arg)
{
    struct region_store *s = arg;
    (void)pthread_setname_np(pthread_self(), "region-split");
    pthread_mutex_lock(&s->cmu);
    for (;;) {
        while (s->cjobs == NULL && !s->cstop)
            pthread_cond_wait(&s->ccv, &s->cmu);
        if (s->cstop)
            break;
        struct region_check *c = s->cjobs;
        s->cjobs = c->next;
        pthread_mutex_unlock(&s->cmu);
        check_run(s, c);
        pthread_mutex_lock(&s->cmu);
        c->next = s->cdone;
        s->cdone = c;
        s->c_out--;
        if (c->tx || c->rd || c->inst || c->wb)
            s->c_snaps_out--;
        if (c->wb) {
            s->c_stage_todo--;
            if (c->rc != 0 && s->c_stage_rc == 0)
                s->c_stage_rc = c->rc; /* for good: the store fails */
        }
        pthread_cond_broadcast(&s->cdcv);
        pthread_mutex_unlock(&s->cmu);
        region__notify(s);
        pthread_mutex_lock(&s->cmu);
    }
    pthread_mutex_unlock(&s->cmu);
    return NULL;
}

int region__check_start(struct region_store *s)
{
    if (s->opts.log_on_loop)
        return 0; /* checks and counts run inline */
    int rc = -pthread_create(&s->checker, NULL, checker_main, s);
    s->checker_on = rc == 0;
    return rc;
}

void region__check_stop(struct region_store *s)
{
    if (s->checker_on) {
        pthread_mutex_lock(&s->cmu);
        s->cstop = true;
        pthread_cond_signal(&s->ccv);
        pthread_mutex_unlock(&s->cmu);
        pthread_join(s->checker, NULL);
        s->checker_on = false;
    }
    check_free(s, s->cjobs);
    check_free(s, s->cdone);
    s->cjobs = s->cdone = NULL;
}

/* Hands c to the checker thread: last in line, or a read last among the
 * reads, ahead of everything else. */
static void enqueue(struct region_store *s, struct region_check *c)
{
    pthread_mutex_lock(&s->cmu);
    struct region_check **tail = &s->cjobs;
    while (*tail && (c->rd == NULL || (*tail)->rd != NULL))
        tail = &(*tail)->next;
    c->next = *tail;
    *tail = c;
    s->c_out++;
    if (c->tx || c->rd || c->inst || c->wb)
        s->c_snaps_out++;
    if (c->wb) {
        s->c_stage_todo++;
        s->c_stage_out++;
    }
    pthread_cond_signal(&s->ccv);
    pthread_mutex_unlock(&s->cmu);
}

/* Leader only: once enough went into p since its last check (split_size
 * at first), measure it. Writes are not size: a small table updated over
 * and over writes its size many times while GC keeps it small, and
 * cutting it would turn its one-region transactions into two-region ones
 * (DESIGN.md "Split"). */
void region__maybe_split(struct region_store *s, struct region_peer *p)
{
    uint64_t next = p->split_next ? p->split_next : s->opts.split_size;
    if (s->opts.split_size == 0 || p->applied_bytes - p->split_from < next ||
        p->role != RAFT_LEADER || p->split_pending || p->merge_target ||
        p->split_checking)
        return;
    struct region_check *c = region__calloc(1, sizeof *c);
    if (c == NULL)
        return; /* tried again at the next write */
    p->split_from = p->applied_bytes; /* written from here on */
    p->split_checking = true;
    p->check_seq = ++s->check_seq;
    c->desc = p->desc;
    c->gen = p->data_gen;
    c->applied = p->split_from;
    c->seq = p->check_seq;
    if (!s->checker_on) {
        check_run(s, c);
        check_apply(s, c);
        region__free(c);
        return;
    }
    enqueue(s, c);
}

int region__check_snap(struct region_store *s,
                       struct region_peer *p,
                       struct region_snap_tx *tx)
{
    if (!s->checker_on)
        return -1;
    struct region_check *c = region__calloc(1, sizeof *c);
    if (c == NULL)
        return -1; /* counted inline */
    c->desc.id = p->desc.id;
    c->tx = tx;
    enqueue(s, c);
    return 0;
}

/* Under cmu: wait until the checker thread has written every staged
 * chunk handed to it (s->mu may be held: the thread never takes it). */
static void stage_drained(struct region_store *s)
{
    while (s->c_stage_todo > 0)
        pthread_cond_wait(&s->cdcv, &s->cmu);
}

/* Under cmu: take the staging jobs done off s->cdone (their batches are
 * held until then) onto *list, no longer counted out. */
static void stage_reap(struct region_store *s, struct region_check **list)
{
    for (struct region_check **pc = &s->cdone; *pc;) {
        struct region_check *c = *pc;
        if (c->wb == NULL) {
            pc = &c->next;
            continue;
        }
        *pc = c->next;
        s->c_stage_out--;
        c->next = *list;
        *list = c;
    }
}

int region__check_stage(struct region_store *s,
                        uint64_t region_id,
                        struct mvcc_wbatch *wb,
                        size_t bytes)
{
    if (!s->checker_on)
        return -1;
    struct region_check *c = region__calloc(1, sizeof *c);
    pthread_mutex_lock(&s->cmu);
    if (c == NULL) { /* written inline, after what was handed over */
        stage_drained(s);
        pthread_mutex_unlock(&s->cmu);
        return -1;
    }
    /* past REGION__STAGE_OUT_CHUNKS the loop waits for the thread */
    struct region_check *done = NULL;
    uint64_t t0 = 0;
    for (;;) {
        stage_reap(s, &done);
        if (s->c_stage_out < REGION__STAGE_OUT_CHUNKS)
            break;
        if (t0 == 0) { /* stats: s->mu is held */
            t0 = region__mono_ns();
            s->stats.snap_stage_waits++;
        }
        pthread_cond_wait(&s->cdcv, &s->cmu);
    }
    pthread_mutex_unlock(&s->cmu);
    if (t0 != 0)
        s->stats.snap_stage_wait_ns += region__mono_ns() - t0;
    for (struct region_check *d = done; d; d = d->next)
        check_apply(s, d);
    check_free(s, done);
    c->desc.id = region_id;
    c->wb = wb;
    c->wb_bytes = bytes;
    enqueue(s, c);
    return 0;
}

int region__check_stage_failed(struct region_store *s)
{
    if (!s->checker_on)
        return 0;
    pthread_mutex_lock(&s->cmu);
    int rc = s->c_stage_rc;
    pthread_mutex_unlock(&s->cmu);
    return rc;
}

int region__check_install(struct region_store *s,
                          uint64_t region_id,
                          struct region_snap_inst *in)
{
    if (!s->checker_on)
        return -1;
    struct region_check *c = region__calloc(1, sizeof *c);
    if (c == NULL) { /* moved inline: after the chunks staged before */
        pthread_mutex_lock(&s->cmu);
        stage_drained(s);
        pthread_mutex_unlock(&s->cmu);
        return -1;
    }
    c->desc.id = region_id;
    c->inst = in;
    enqueue(s, c);
    return 0;
}

int region__check_snap_read(struct region_store *s, struct region_snap_read *rd)
{
    struct region_check *c = region__calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->rd = rd;
    enqueue(s, c);
    return 0;
}

void region__check_snaps_out_wait(struct region_store *s)
{
    if (!s->checker_on)
        return;
    pthread_mutex_lock(&s->cmu);
    while (s->c_snaps_out > 0)
        pthread_cond_wait(&s->cdcv, &s->cmu);
    pthread_mutex_unlock(&s->cmu);
}

void region__check_finish(struct region_store *s, bool wait)
{
    if (!s->checker_on)
        return;
    pthread_mutex_lock(&s->cmu);
    while (wait && s->c_out > 0)
        pthread_cond_wait(&s->cdcv, &s->cmu);
    struct region_check *done = NULL;
    stage_reap(s, &done);
    struct region_check **tail = &done;
    while (*tail)
        tail = &(*tail)->next;
    *tail = s->cdone;
    s->cdone = NULL;
    pthread_mutex_unlock(&s->cmu);
    /* in any order: a peer has at most one check, one count and one
     * install out, a snapshot one read */
    for (struct region_check *c = done; c; c = c->next)
        check_apply(s, c);
    check_free(s, done);
}

bool region__check_ready(struct region_store *s)
{
    if (!s->checker_on)
        return false;
    pthread_mutex_lock(&s->cmu);
    bool any = s->cdone != NULL;
    pthread_mutex_unlock(&s->cmu);
    return any;
}

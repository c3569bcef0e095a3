/* pd.c: the replica: create/destroy, the one apply function through which
 * every committed command changes the replicated state, and leadership
 * changes (DESIGN.md "Replicated and leader state").
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pd_int.h"

void pd_config_default(struct pd_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->tso_save_window_ms = 3000;
    cfg->id_block = 1000;
    cfg->max_replicas = 3;
    cfg->max_store_down_ms = 30 * 60 * 1000;
    cfg->operator_timeout_ms = 10 * 60 * 1000;
    cfg->leader_tolerance = 1;
    cfg->region_tolerance = 0;
    cfg->region_max_size = (uint64_t)144 << 20;
    /* Merge on, at PD's thresholds (DESIGN "Merge checker"): kvd carries
     * a merge out or rolls it back under kill -9 (libregion DESIGN
     * "Merge"); split_merge_interval_ms keeps it from undoing splits. */
    cfg->merge_max_size = (uint64_t)20 << 20;
    cfg->merge_max_keys = 200000;
    cfg->low_space_percent = 20;
    cfg->split_merge_interval_ms = 3600 * 1000;
    cfg->store_limit = 8;
    cfg->leader_schedule_limit = PD_LEADER_SCHEDULE_LIMIT;
    cfg->log_level = PD_LOG_INFO;
}

void pd__log(struct pd *pd, int level, const char *fmt, ...)
{
    if (pd->cfg.logger == NULL || level < pd->cfg.log_level)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pd->cfg.logger(pd->cfg.logger_ctx, level, msg);
}

int pd__err(struct pd *pd, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pd->errmsg, sizeof(pd->errmsg), fmt, ap);
    va_end(ap);
    return rc;
}

const char *pd_errmsg(const struct pd *pd)
{
    return pd->errmsg;
}

static void free_config(struct pd_config *cfg)
{
    for (uint32_t i = 0; i < cfg->n_location_labels; i++)
        pd__free((void *)(uintptr_t)cfg->location_labels[i]);
    cfg->n_location_labels = 0;
}

int pd_create(const struct pd_config *cfg, const struct pd_storage *storage,
              struct pd **out)
{
    struct pd_config def;
    *out = NULL;
    if (storage == NULL || storage->propose == NULL)
        return -EINVAL;
    if (cfg == NULL) {
        pd_config_default(&def);
        cfg = &def;
    }
    if (cfg->n_location_labels > PD_MAX_LOCATION_LABELS ||
        cfg->tso_save_window_ms < 2 ||
        cfg->tso_save_window_ms > 24 * 3600 * 1000 || cfg->id_block < 2 ||
        cfg->id_block > UINT32_MAX ||
        cfg->max_replicas == 0 || cfg->max_replicas > PD_MAX_PEERS)
        return -EINVAL;
    for (uint32_t i = 0; i < cfg->n_location_labels; i++)
        if (cfg->location_labels[i] == NULL ||
            strlen(cfg->location_labels[i]) > PD_MAX_STR)
            return -EINVAL;
    struct pd *pd = pd__calloc(1, sizeof(*pd));
    if (pd == NULL)
        return -ENOMEM;
    pd->cfg = *cfg;
    pd->cfg.n_location_labels = 0;
    for (uint32_t i = 0; i < cfg->n_location_labels; i++) {
        const char *s = cfg->location_labels[i];
        pd->cfg.location_labels[i] = pd__strndup(s, strlen(s));
        if (pd->cfg.location_labels[i] == NULL)
            goto err_labels;
        pd->cfg.n_location_labels++;
    }
    pd->storage = *storage;
    *out = pd;
    return 0;

err_labels:
    free_config(&pd->cfg);
    pd__free(pd);
    return -ENOMEM;
}

void pd_destroy(struct pd *pd)
{
    if (pd == NULL)
        return;
    pd__ops_clear(pd);
    pd__regions_clear(pd);
    pd__services_clear(pd);
    for (size_t i = 0; i < pd->n_stores; i++)
        pd__store_free(pd->stores[i]);
    pd__free(pd->stores);
    free_config(&pd->cfg);
    pd__free(pd);
}

int pd__apply_config(struct pd *pd, const struct pd__config_v *v)
{
    /* Copy the new label names first: on -ENOMEM nothing changes. */
    const char *labels[PD_MAX_LOCATION_LABELS] = {NULL};
    for (uint32_t i = 0; i < v->n_labels; i++) {
        labels[i] = pd__strndup((const char *)v->labels[i].p, v->labels[i].n);
        if (labels[i] == NULL) {
            for (uint32_t k = 0; k < i; k++)
                pd__free((void *)(uintptr_t)labels[k]);
            return -ENOMEM;
        }
    }
    free_config(&pd->cfg);
    struct pd_config *c = &pd->cfg;
    c->max_replicas = v->max_replicas;
    c->max_store_down_ms = v->max_store_down_ms;
    c->operator_timeout_ms = v->operator_timeout_ms;
    c->leader_tolerance = v->leader_tolerance;
    c->region_tolerance = v->region_tolerance;
    c->region_max_size = v->region_max_size;
    c->merge_max_size = v->merge_max_size;
    c->merge_max_keys = v->merge_max_keys;
    c->low_space_percent = v->low_space_percent;
    c->split_merge_interval_ms = v->split_merge_interval_ms;
    c->store_limit = v->store_limit;
    c->leader_schedule_limit = v->leader_schedule_limit;
    for (uint32_t i = 0; i < v->n_labels; i++)
        c->location_labels[i] = labels[i];
    c->n_location_labels = v->n_labels;
    pd->cfg_set = true;
    return 0;
}

int pd_config_set(struct pd *pd, const struct pd_config *cfg)
{
    const char *why = NULL;
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "config set on a follower");
    if (cfg == NULL)
        return pd__err(pd, -EINVAL, "config set: NULL");
    struct pd__cmd c;
    memset(&c, 0, sizeof(c));
    pd__config_view(cfg, &c.cfg);
    for (uint32_t i = 0;
         i < cfg->n_location_labels && i < PD_MAX_LOCATION_LABELS; i++)
        if (cfg->location_labels[i] == NULL)
            return pd__err(pd, -EINVAL, "config set: NULL location label");
    if (!pd__config_valid(&c.cfg, &why))
        return pd__err(pd, -EINVAL, "config set: %s", why);
    c.type = PD__CMD_CONFIG;
    return pd__propose(pd, &c);
}

void pd_config_get(const struct pd *pd, struct pd_config *out)
{
    *out = pd->cfg;
}

int pd__propose(struct pd *pd, const struct pd__cmd *c)
{
    struct pd__buf b = {0};
    pd__cmd_encode(c, &b);
    int rc = b.err;
    if (rc == 0)
        rc = pd->storage.propose(pd->storage.ctx, b.p, b.n);
    pd__buf_free(&b);
    if (rc != 0) {
        pd__log(pd, PD_LOG_ERROR, "propose command %u: %s", c->type,
                pd_strerror(rc));
        return pd__err(pd, rc, "propose command %u: %s", c->type,
                       pd_strerror(rc));
    }
    return 0;
}

static int apply(struct pd *pd, const uint8_t *cmd, size_t len);

int pd_apply(struct pd *pd, const uint8_t *cmd, size_t len)
{
    int rc = apply(pd, cmd, len);
    if (rc != 0)
        pd__log(pd, PD_LOG_DEBUG, "apply refused: %s", pd->errmsg);
    return rc;
}

static int apply(struct pd *pd, const uint8_t *cmd, size_t len)
{
    struct pd__cmd c;
    uint32_t old_version, old_region_version;
    int rc = pd__cmd_decode(cmd, len, &c);
    if (rc != 0)
        return pd__err(pd, rc, "apply: malformed command (%zu bytes)", len);
    switch (c.type) {
    case PD__CMD_TSO_SAVE:
        /* The bound never goes back: a late, smaller save changes nothing. */
        if (c.u <= pd->tso_saved)
            return pd__err(pd, PD_ESTATE, "tso save %llu <= saved %llu",
                           (unsigned long long)c.u,
                           (unsigned long long)pd->tso_saved);
        pd->tso_saved = c.u;
        if (pd->tso_pending != 0 && pd->tso_pending <= c.u)
            pd->tso_pending = 0;
        return 0;
    case PD__CMD_ID_SAVE:
        if (c.u <= pd->id_saved)
            return pd__err(pd, PD_ESTATE, "id save %llu <= saved %llu",
                           (unsigned long long)c.u,
                           (unsigned long long)pd->id_saved);
        pd->id_saved = c.u;
        if (pd->id_pending != 0 && pd->id_pending <= c.u)
            pd->id_pending = 0;
        return 0;
    case PD__CMD_BOOTSTRAP:
        if (pd->cluster_id != 0)
            return pd__err(pd, PD_EBOOTSTRAPPED, "cluster %llu exists",
                           (unsigned long long)pd->cluster_id);
        old_version = pd->cluster_version;
        old_region_version = pd->cluster_region_version;
        rc = pd__apply_store(pd, &c.store);
        if (rc != 0)
            return rc;
        rc = pd__apply_region(pd, &c.region);
        if (rc != 0) {
            pd__store_remove(pd, c.store.id);
            pd->cluster_version = old_version;
            pd->cluster_region_version = old_region_version;
            return rc;
        }
        pd->cluster_id = c.u;
        return 0;
    case PD__CMD_PUT_STORE:
        if (pd->cluster_id == 0)
            return pd__err(pd, PD_ENOTBOOTSTRAPPED, "put store");
        return pd__apply_store(pd, &c.store);
    case PD__CMD_PUT_REGION:
        if (pd->cluster_id == 0)
            return pd__err(pd, PD_ENOTBOOTSTRAPPED, "put region");
        return pd__apply_region(pd, &c.region);
    case PD__CMD_CLUSTER:
        if (pd->cluster_id != 0)
            return pd__err(pd, PD_EBOOTSTRAPPED, "cluster %llu exists",
                           (unsigned long long)pd->cluster_id);
        pd->cluster_id = c.u;
        return 0;
    case PD__CMD_CLUSTER_VERSION:
        return pd__apply_cluster_version(pd, false, (uint32_t)c.u);
    case PD__CMD_CLUSTER_REGION_VERSION:
        return pd__apply_cluster_version(pd, true, (uint32_t)c.u);
    case PD__CMD_GC_SAFE_POINT:
        return pd__apply_gc(pd, &c);
    case PD__CMD_CONFIG:
        return pd__apply_config(pd, &c.cfg);
    case PD__CMD_SERVICE_SAFE_POINT:
        return pd__apply_service(pd, &c);
    default:
        return pd__err(pd, PD_EINTERNAL, "apply: type %u", c.type);
    }
}

int pd_become_leader(struct pd *pd, uint64_t wall_ms, uint64_t mono_ms)
{
    pd->leader = true;
    pd->leader_mono = mono_ms;
    pd->now_mono = mono_ms;
    pd__ops_clear(pd);
    /* A fresh view: nobody has been heard from in this leadership. */
    for (size_t i = 0; i < pd->n_stores; i++)
        pd->stores[i]->has_hb = false;
    for (size_t i = 0; i < pd->n_regions; i++)
        pd->by_key[i]->has_hb = false;
    int rc = pd__tso_start(pd, wall_ms);
    if (rc == 0)
        rc = pd__id_start(pd);
    if (rc != 0) {
        pd_become_follower(pd);
        return rc;
    }
    pd__log(pd, PD_LOG_INFO, "leader: tso resumes above %llu, ids above %llu",
            (unsigned long long)pd->tso_saved,
            (unsigned long long)pd->id_saved);
    return 0;
}

void pd_become_follower(struct pd *pd)
{
    if (pd->leader)
        pd__log(pd, PD_LOG_INFO, "follower: %zu operators dropped",
                pd->n_ops);
    pd->leader = false;
    pd__ops_clear(pd);
    pd->tso_phys = 0;
    pd->tso_logical = 0;
    pd->tso_pending = 0;
    pd->id_next = 0;
    pd->id_pending = 0;
}

bool pd_is_leader(const struct pd *pd)
{
    return pd->leader;
}

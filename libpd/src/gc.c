/* gc.c: the GC safe point and service safe points (DESIGN.md "Safe
 * points"). Both only move forward; TTLs are wall-clock deadlines carried
 * in the commands so every replica expires the same entries.
 */
#include <string.h>

#include "pd_int.h"

static bool alive(const struct pd__service *s, uint64_t now)
{
    return s->expire > now;
}

uint64_t pd_service_safe_point_min(const struct pd *pd, uint64_t wall_ms,
                                   const char **service)
{
    uint64_t min = UINT64_MAX;
    if (service != NULL)
        *service = NULL;
    for (size_t i = 0; i < pd->n_svc; i++)
        if (alive(&pd->svc[i], wall_ms) && pd->svc[i].sp < min) {
            min = pd->svc[i].sp;
            if (service != NULL)
                *service = pd->svc[i].id;
        }
    return min;
}

uint64_t pd_gc_safe_point(const struct pd *pd)
{
    return pd->gc_safe_point;
}

void pd__services_clear(struct pd *pd)
{
    for (size_t i = 0; i < pd->n_svc; i++)
        pd__free(pd->svc[i].id);
    pd__free(pd->svc);
    pd->svc = NULL;
    pd->n_svc = pd->cap_svc = 0;
}

static long find(const struct pd *pd, const uint8_t *id, size_t n)
{
    for (size_t i = 0; i < pd->n_svc; i++)
        if (strlen(pd->svc[i].id) == n && memcmp(pd->svc[i].id, id, n) == 0)
            return (long)i;
    return -1;
}

static void drop(struct pd *pd, size_t i)
{
    pd__free(pd->svc[i].id);
    pd->svc[i] = pd->svc[pd->n_svc - 1];
    pd->n_svc--;
}

int pd__apply_gc(struct pd *pd, const struct pd__cmd *c)
{
    /* A service may have registered a lower safe point since the
     * proposal: clamp again, at the proposer's clock, deterministically. */
    uint64_t sp = c->u;
    uint64_t min = pd_service_safe_point_min(pd, c->now, NULL);
    if (sp > min)
        sp = min;
    if (sp <= pd->gc_safe_point)
        return pd__err(pd, PD_ESAFEPOINT, "gc safe point %llu <= %llu",
                       (unsigned long long)sp,
                       (unsigned long long)pd->gc_safe_point);
    pd->gc_safe_point = sp;
    return 0;
}

int pd__apply_service(struct pd *pd, const struct pd__cmd *c)
{
    long i = find(pd, c->service.p, c->service.n);
    if (c->expire != 0) {
        if (c->u < pd->gc_safe_point)
            return pd__err(pd, PD_ESAFEPOINT,
                           "service safe point %llu < gc safe point %llu",
                           (unsigned long long)c->u,
                           (unsigned long long)pd->gc_safe_point);
        if (i >= 0 && alive(&pd->svc[i], c->now) && c->u < pd->svc[i].sp)
            return pd__err(pd, PD_ESAFEPOINT,
                           "service safe point %llu < its current %llu",
                           (unsigned long long)c->u,
                           (unsigned long long)pd->svc[i].sp);
        if (i < 0 && pd->n_svc == pd->cap_svc) {
            size_t cap = pd->cap_svc == 0 ? 4 : pd->cap_svc * 2;
            struct pd__service *a = pd__realloc(pd->svc, cap * sizeof(*a));
            if (a == NULL)
                return -ENOMEM;
            pd->svc = a;
            pd->cap_svc = cap;
        }
        if (i < 0) {
            char *id = pd__strndup((const char *)c->service.p, c->service.n);
            if (id == NULL)
                return -ENOMEM;
            i = (long)pd->n_svc++;
            pd->svc[i].id = id;
        }
        pd->svc[i].sp = c->u;
        pd->svc[i].expire = c->expire;
    } else if (i >= 0) {
        drop(pd, (size_t)i);
    }
    /* Forget the expired, as of the proposer's clock. */
    for (size_t k = pd->n_svc; k-- > 0;)
        if (!alive(&pd->svc[k], c->now))
            drop(pd, k);
    return 0;
}

int pd_gc_safe_point_update(struct pd *pd, uint64_t wall_ms, uint64_t sp,
                            uint64_t *result)
{
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "gc safe point on a follower");
    uint64_t min = pd_service_safe_point_min(pd, wall_ms, NULL);
    if (sp > min)
        sp = min;
    if (sp <= pd->gc_safe_point) {
        *result = pd->gc_safe_point;
        return 0;
    }
    struct pd__cmd c;
    memset(&c, 0, sizeof(c));
    c.type = PD__CMD_GC_SAFE_POINT;
    c.u = sp;
    c.now = wall_ms;
    int rc = pd__propose(pd, &c);
    if (rc == 0)
        *result = sp;
    return rc;
}

int pd_service_safe_point_update(struct pd *pd, uint64_t wall_ms,
                                 const char *service, uint64_t ttl_ms,
                                 uint64_t sp, uint64_t *min_out)
{
    if (!pd->leader)
        return pd__err(pd, PD_ENOTLEADER, "service safe point on a follower");
    if (service == NULL || service[0] == '\0' ||
        strnlen(service, PD_MAX_STR + 1) > PD_MAX_STR)
        return pd__err(pd, -EINVAL, "service safe point: bad service id");
    size_t n = strlen(service);
    long i = find(pd, (const uint8_t *)service, n);
    *min_out = pd_service_safe_point_min(pd, wall_ms, NULL);
    if (ttl_ms != 0) {
        if (sp < pd->gc_safe_point)
            return pd__err(pd, PD_ESAFEPOINT,
                           "service %s: %llu is below the gc safe point %llu",
                           service, (unsigned long long)sp,
                           (unsigned long long)pd->gc_safe_point);
        if (i >= 0 && alive(&pd->svc[i], wall_ms) && sp < pd->svc[i].sp)
            return pd__err(pd, PD_ESAFEPOINT,
                           "service %s: %llu is below its %llu", service,
                           (unsigned long long)sp,
                           (unsigned long long)pd->svc[i].sp);
    }
    struct pd__cmd c;
    memset(&c, 0, sizeof(c));
    c.type = PD__CMD_SERVICE_SAFE_POINT;
    c.service.p = (const uint8_t *)service;
    c.service.n = n;
    c.u = sp;
    c.expire = ttl_ms == 0 ? 0
               : ttl_ms > UINT64_MAX - wall_ms ? UINT64_MAX
                                                : wall_ms + ttl_ms;
    c.now = wall_ms;
    int rc = pd__propose(pd, &c);
    if (rc != 0)
        return rc;
    /* The minimum as it will be once this applies. */
    uint64_t min = ttl_ms != 0 ? sp : UINT64_MAX;
    for (size_t k = 0; k < pd->n_svc; k++)
        if ((long)k != i && alive(&pd->svc[k], wall_ms) && pd->svc[k].sp < min)
            min = pd->svc[k].sp;
    *min_out = min;
    return 0;
}

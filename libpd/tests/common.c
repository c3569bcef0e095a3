/* common.c: the shared test fixture (see common.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "pd_int.h"

void fx_init(struct fx *fx, int n, const struct pd_config *cfg)
{
    memset(fx, 0, sizeof(*fx));
    assert_int_equal(pd_memlog_create(&fx->log), 0);
    struct pd_storage s = pd_memlog_storage(fx->log);
    for (int i = 0; i < n; i++)
        assert_int_equal(pd_create(cfg, &s, &fx->pd[i]), 0);
}

void fx_fini(struct fx *fx)
{
    for (int i = 0; i < FX_REPLICAS; i++)
        pd_destroy(fx->pd[i]);
    pd_memlog_destroy(fx->log);
}

void fx_commit(struct fx *fx)
{
    for (int i = 0; i < FX_REPLICAS; i++)
        if (fx->pd[i] != NULL)
            assert_int_equal(
                pd_memlog_apply(fx->log, fx->pd[i], &fx->applied[i]), 0);
}

void fx_lead(struct fx *fx, int i, uint64_t wall_ms, uint64_t mono_ms)
{
    fx_commit(fx);
    assert_int_equal(pd_become_leader(fx->pd[i], wall_ms, mono_ms), 0);
    fx_commit(fx);
}

static void entry(struct fx *fx, size_t i, struct pd__cmd *c)
{
    const uint8_t *p;
    size_t n;
    assert_int_equal(pd_memlog_entry(fx->log, i, &p, &n), 0);
    assert_int_equal(pd__cmd_decode(p, n, c), 0);
}

int fx_entry_type(struct fx *fx, size_t i)
{
    struct pd__cmd c;
    entry(fx, i, &c);
    return c.type;
}

uint64_t fx_entry_u(struct fx *fx, size_t i)
{
    struct pd__cmd c;
    entry(fx, i, &c);
    return c.u;
}

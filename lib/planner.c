/*
 * Planning stored orders (see planner.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "notify.h"
#include "plan.h"
#include "planner.h"
#include "xalloc.h"

/*
 * A plan with nothing to do (every item noChange) completes its order as
 * soon as it is saved, in the same transaction, telling whoever
 * subscribes to the order's state.
 */
static int
complete_empty(store *st, cartridge *c, order_rec *o, const char *actor, int64_t now,
               osm_err *err)
{
    const char *to = NULL;
    int64_t mark = 0;
    int notify = notify_subscribes(c), rc = 0;

    if (notify)
        rc = notify_mark(st, &mark, err);
    if (rc == 0)
        rc = store_order_rollup(st, o->id, actor, now, &to, err);
    if (rc == 0 && notify)
        rc = notify_enqueue_order(st, mark, o->id, c, err);
    if (rc == 0 && to) {
        free(o->state);
        o->state = xstrdup(to);
    }
    return rc;
}

int
planner_plan(store *st, catalog *cat, int64_t id, int dry_run, const char *actor, jv *doc,
             osm_err *err)
{
    order_rec o;
    plan p;
    cartridge *c;
    int rc;

    *doc = jv_invalid();
    if ((rc = store_order_get(st, id, &o, err)) != 0)
        return rc;
    rc = store_plan_load(st, &o, &p, err);
    if (rc == 0)
        goto done;
    if (rc != OSM_ENOINPUT)
        goto out;
    if (strcmp(o.state, "not_started") != 0) {
        rc = osm_fail(err, OSM_NEGATIVE,
                      "order %lld: it is %s and has no plan: only a not_started order is planned",
                      (long long)id, o.state);
        goto out;
    }
    if ((rc = catalog_get(cat, o.cartridge, o.cartridge_version, &c, err)) != 0)
        goto out;
    int64_t now = clock_now();
    if ((rc = plan_build(c, &o, now, &p, err)) != 0) {
        osm_err_prefix(err, "order %lld", (long long)id);
        goto out;
    }
    if (!dry_run) {
        if ((rc = store_begin(st, err)) == 0) {
            rc = store_plan_save(st, id, &p, actor, now, err);
            if (rc == 0 && p.ntasks == 0)
                rc = complete_empty(st, c, &o, actor, now, err);
            if (rc == 0)
                rc = store_commit(st, err);
            else
                store_rollback(st);
        }
        if (rc != 0) {
            plan_free(&p);
            if (rc == OSM_NEGATIVE) {
                /* planned by another process meanwhile: that plan stands */
                order_rec_free(&o);
                return planner_plan(st, cat, id, 1, actor, doc, err);
            }
            goto out;
        }
    }
done:
    *doc = plan_document(&p, &o);
    plan_free(&p);
out:
    order_rec_free(&o);
    return rc;
}

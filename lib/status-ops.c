/*
 * The operations of osm-status that take more than one look at the store
 * (see status.h): listings through a --jq predicate, histories read page
 * by page, the event feed that polls for what is new, waiting for orders
 * to end, and purging ended orders batch by batch.  Documents go to a
 * sink the caller provides; nothing here prints.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "jqprog.h"
#include "status.h"
#include "xalloc.h"

#define EVENT_PAGE 500          /* events read at a time */
#define WAIT_FIRST_MS 50        /* --wait looks again after this, */
#define WAIT_MAX_MS 500         /* ... growing to this */
#define FOLLOW_WATCH_MS 10000   /* --follow on PostgreSQL: looks anyway after this */

/* ------------------------------------------------------------ predicates */

struct status_pred {
    jqprog *jq;
    int failed;             /* the worst status of a failed evaluation, or 0 */
};

int
status_pred_new(const char *expr, status_pred **out, osm_err *err)
{
    status_pred *p = xcalloc(1, sizeof *p);
    int rc;

    *out = NULL;
    p->jq = jqprog_new();
    jqprog_add(p->jq, "--jq", expr);
    if ((rc = jqprog_compile(p->jq, NULL, err)) != 0) {
        status_pred_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void
status_pred_free(status_pred *p)
{
    if (!p)
        return;
    jqprog_free(p->jq);
    free(p);
}

/*
 * Does p hold for input (consumed)?  1 or 0; an error is a "no", told to
 * the sink's warn as "WHAT ID: --jq: MESSAGE" and kept in p->failed.
 */
static int
holds(status_pred *p, jv input, int64_t now, const char *what, int64_t id,
      const status_sink *out)
{
    osm_err err = { 0, "" };
    char when[CLOCK_RFC3339_MAX];
    jv res;

    rfc3339_format(now, when);
    int rc = jqprog_first(p->jq, 0, input, JV_OBJECT(jv_string("now"), jv_string(when)), &res,
                          &err);
    int yes = rc == 1 && jqprog_truthy(res);
    jv_free(res);
    if (rc > 1)
        p->failed = osm_worst(p->failed, rc);
    if (rc > 1 && out->warn) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s %lld: %s", what, (long long)id, err.msg);
        out->warn(msg, out->ctx);
    }
    return yes;
}

static void
sleep_ms(int64_t ms, volatile sig_atomic_t *stop)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (!(stop && *stop) && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* rc of an operation, made the predicate's failure when it went well. */
static int
pred_status(const status_pred *p, int rc)
{
    return rc == 0 && p ? p->failed : rc;
}

/* ------------------------------------------------------------ listings */

typedef struct lister {
    status_ctx *c;
    status_pred *pred;
    int64_t now, skip, left;
    const status_sink *out;
    osm_err *err;
} lister;

#define STOP_LISTING (-1)

static int
list_row(store_status_order *o, void *ctx)
{
    lister *l = ctx;
    jv doc;

    if (l->pred) {
        jv body = o->body ? jv_parse(o->body) : jv_null();
        if (!jv_is_valid(body)) {
            jv_free(body);
            body = jv_null();
        }
        if (!holds(l->pred, body, l->now, "order", o->id, l->out))
            return 0;
        if (l->skip > 0) {
            l->skip--;
            return 0;
        }
        if (l->left == 0)
            return STOP_LISTING;
        if (l->left > 0)
            l->left--;
    }
    int rc = status_document_row(l->c, o, l->now, STATUS_BRIEF, &doc, l->err);
    return rc ? rc : l->out->doc(doc, l->out->ctx);
}

int
status_list(status_ctx *c, const store_status_filter *f, status_pred *pred, int64_t now,
            const status_sink *out, osm_err *err)
{
    store_status_filter sf = *f;
    lister l = { c, pred, now, 0, -1, out, err };

    if (pred) {
        /* offset and limit count the orders the predicate lets through */
        l.skip = f->offset;
        l.left = f->limit;
        sf.offset = 0;
        sf.limit = -1;
        sf.with_body = 1;
    }
    int rc = store_status_list(status_store(c), &sf, list_row, &l, err);
    return pred_status(pred, rc == STOP_LISTING ? 0 : rc);
}

/* ------------------------------------------------------------ events */

typedef struct eventer {
    status_pred *pred;
    int64_t now;
    const status_sink *out;
} eventer;

static int
event_row(const store_status_event *e, void *ctx)
{
    eventer *ev = ctx;
    jv doc = status_event_document(e);
    if (ev->pred && !holds(ev->pred, jv_copy(doc), ev->now, "event", e->id, ev->out)) {
        jv_free(doc);
        return 0;
    }
    return ev->out->doc(doc, ev->out->ctx);
}

int
status_history(status_ctx *c, int64_t id, int64_t after, status_pred *pred, int64_t now,
               const status_sink *out, osm_err *err)
{
    store_status_order o;
    eventer ev = { pred, now, out };
    int64_t last;
    int rc;

    if ((rc = store_status_order_get(status_store(c), id, &o, err)) != 0)
        return rc;
    store_status_order_free(&o);
    jv one = JV_ARRAY(jv_number((double)id));
    for (;;) {
        rc = store_status_events(status_store(c), one, NULL, after, EVENT_PAGE, event_row, &ev,
                                 &last, err);
        if (rc != 0 || last == after)
            break;
        after = last;
    }
    jv_free(one);
    return pred_status(pred, rc);
}

int
status_follow(status_ctx *c, jv orders, const char *cartridge_name, int64_t after,
              status_pred *pred, int poll_ms, volatile sig_atomic_t *stop,
              const status_sink *out, osm_err *err)
{
    eventer ev = { pred, 0, out };
    int64_t last;
    int rc = 0;

    if (after < 0 && (rc = store_status_last_event(status_store(c), &after, err)) != 0)
        return rc;
    /* PostgreSQL: wake when an event is recorded rather than every poll_ms */
    if ((rc = store_watch(status_store(c), err)) != 0)
        return rc;
    while (!*stop) {
        ev.now = clock_now();
        rc = store_status_events(status_store(c), orders, cartridge_name, after, EVENT_PAGE,
                                 event_row, &ev, &last, err);
        if (rc == OSM_ETEMPFAIL) {
            /* a busy store clears up: look again next time */
            osm_err_clear(err);
            rc = 0;
        } else if (rc != 0) {
            break;
        }
        /* PostgreSQL tells of each new event: look again after a while anyway */
        if (last == after && store_watch_wait(status_store(c), FOLLOW_WATCH_MS) < 0)
            sleep_ms(poll_ms, stop);
        after = last;
    }
    return pred_status(pred, rc);
}

/* ------------------------------------------------------------ wait */

int
status_has_ended(const char *state)
{
    return status_is_terminal(state) || strcmp(state, "failed") == 0 ||
           strcmp(state, "waiting_for_revision") == 0;
}

int
status_wait(status_ctx *c, jv ids, int64_t timeout_ms, volatile sig_atomic_t *stop,
            osm_err *err)
{
    int64_t started = clock_monotonic_ms(), pause = WAIT_FIRST_MS;
    int n = jv_array_length(jv_copy(ids));

    for (;;) {
        jv states;
        int ended = 0;
        /* store_order_states() leaves ids alone */
        int rc = store_order_states(status_store(c), ids, &states, err);
        if (rc == OSM_ETEMPFAIL) {
            osm_err_clear(err);
        } else if (rc != 0) {
            jv_free(states);
            return rc;
        } else {
            int seen = 0;
            jv_object_foreach(states, k, v) {
                ended += status_has_ended(jv_string_value(v));
                seen++;
                jv_free(k);
                jv_free(v);
            }
            ended += n - seen;      /* purged meanwhile: gone is over */
        }
        jv_free(states);
        if (ended == n)
            return 0;
        if (*stop)
            return 128 + (int)*stop;
        if (timeout_ms >= 0 && clock_monotonic_ms() - started >= timeout_ms)
            return osm_fail(err, OSM_ETEMPFAIL, "--timeout: the orders have not ended");
        sleep_ms(pause, stop);
        pause = pause * 3 / 2 > WAIT_MAX_MS ? WAIT_MAX_MS : pause * 3 / 2;
    }
}

/* ------------------------------------------------------------ purge */

int
status_purge(status_ctx *c, int64_t before, int batch, const char *actor,
             volatile sig_atomic_t *stop, void (*progress)(int64_t total, void *ctx), void *ctx,
             int64_t *deleted, osm_err *err)
{
    store *st = status_store(c);
    int64_t n;
    int rc;

    *deleted = 0;
    do {
        if ((rc = store_begin(st, err)) != 0)
            return rc;
        if ((rc = store_status_purge(st, before, batch, &n, err)) != 0) {
            store_rollback(st);
            return rc;
        }
        if ((rc = store_commit(st, err)) != 0)
            return rc;
        *deleted += n;
        if (progress)
            progress(*deleted, ctx);
    } while (n == batch && !(stop && *stop));
    if (*deleted == 0)
        return 0;
    char when[CLOCK_RFC3339_MAX];
    rfc3339_format(before, when);
    if ((rc = store_begin(st, err)) != 0)
        return rc;
    rc = store_event_add(st, 0, 0, "orders.purged", actor,
                         JV_OBJECT(jv_string("before"), jv_string(when), jv_string("deleted"),
                                   jv_number((double)*deleted)),
                         clock_now(), NULL, err);
    if (rc != 0) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st, err);
}

/*
 * Outcomes of tasks (DESIGN §8, §9): what a hook's run, a rule, a timer
 * or an answer means for its task — completed, retried later, waiting,
 * or fallout — and recording it.  The engine (lib/engine.c) chooses and
 * starts work and hands what finished to this module; asynchronous
 * answers (lib/respond.c) and operators (lib/taskops.c) use its response
 * mapping and fallout rules.  Recording calls the notification outbox
 * (lib/notify.c); nothing here calls back into the engine.
 *
 * Durability: an outcome is recorded inside the caller's transaction
 * (outcome_record), and is durable when that transaction commits; the
 * engine commits before it claims anything else and before it delivers
 * any notification, so no dependent task starts, and no notice leaves,
 * on an outcome that could still be lost.
 */
#ifndef OSM_OUTCOME_H
#define OSM_OUTCOME_H

#include <stdint.h>

#include <jv.h>

#include "cartridge.h"
#include "diag.h"
#include "hook.h"
#include "store.h"

typedef struct outcome {
    task_outcome t;         /* the task's new state and what goes with it */
    jv body;                /* the order's new data, or invalid: unchanged */
    jv hook_event;          /* "hook" event data, or invalid */
    char *hook_raw;         /* and its request and response as JSON text
                               members (see store_event_add_raw), or NULL */
    jv fallout;             /* fallout error, or invalid: none */
    jv response;            /* a completed answer still to be mapped into the
                               order (outcome_record maps it), or invalid */
    const char *function, *system;  /* whose response is to be mapped */
    const char *task_function;  /* set by the caller: the task's function */
    int task_attempts;          /* and its attempts as of this run */
    const char *fallout_function;
    const char *fallout_wg;
    char *owned[12];         /* strings t points into */
} outcome;

void outcome_init(outcome *oc);
void outcome_free(outcome *oc);

/* Keep text (malloc'ed) for as long as oc; returns it. */
const char *outcome_own(outcome *oc, char *text);

/*
 * A failed attempt (attempts: the attempts made, this one included):
 * pending again after the function's back-off, or fallout once its
 * retries are used up.  error is copied.
 */
void outcome_failure(outcome *oc, cartridge *c, const char *function, const char *system,
                     int64_t task_id, int attempts, const char *error);

/* A failure that retrying cannot mend: straight to fallout.  error is copied. */
void outcome_fallout(outcome *oc, cartridge *c, const char *function, const char *error);

/* The workgroup that gets function's fallout (static storage), or NULL. */
const char *outcome_fallout_workgroup(cartridge *c, const char *function);

/*
 * Merge a response into an order: function's response mapping over
 * {order, response, task, items} (order, response and task consumed;
 * items the data of the items task task_id covers, read from st only
 * when there is a mapping), else the response's data merged recursively
 * into the order.  0 with *body (the new order, or jv_invalid() when
 * unchanged), or OSM_EDATA (OSM_EIO and the like from the store).
 */
int outcome_map_response(store *st, cartridge *c, int64_t task_id, const char *function,
                         jv order, jv response, jv task, jv *body, osm_err *err);

/* What a hook run was, for interpreting its result. */
typedef struct hook_run_info {
    int64_t task_id, order_id;
    int attempts, temp_failures;
    int64_t timeout_ms;
    const char *function, *system, *mode;
    const char *request;    /* JSON text of the request */
    jv request_jv;          /* the same, parsed (not consumed by the outcome_of_* calls) */
    int persistent;         /* a persistent process answered (or failed) */
} hook_run_info;

/*
 * Interpret a finished one-shot hook (res) of run r into oc: the history
 * event, and completed (the response kept in oc->response to be mapped
 * when recorded), waiting (accepted), pending (retry) or failed
 * (fallout).
 */
void outcome_of_hook(outcome *oc, cartridge *c, const hook_run_info *r, const hook_result *res);

/*
 * The same for an answer line of a persistent process (line, or NULL
 * with error set when the process failed; duration_ms, stderr excerpt).
 */
void outcome_of_answer(outcome *oc, cartridge *c, const hook_run_info *r, const char *line,
                       size_t len, const char *error, const char *err_excerpt,
                       int64_t duration_ms);

/*
 * The order data that outcome_record() works on: the engine keeps orders
 * parsed between tasks; get gives the current body of order id (a copy,
 * the caller's to free) inside the recording transaction, put tells it
 * the body just written.  NULL: loaded from the store each time.
 */
typedef struct outcome_orders {
    int (*get)(void *ctx, int64_t order_id, jv *body, osm_err *err);
    void (*put)(void *ctx, int64_t order_id, jv body);
    void *ctx;
} outcome_orders;

/*
 * Record oc for task task_id of order_id, run under fencing, inside the
 * caller's transaction: the task's new state with its history, the
 * response mapped into the order (a mapping that fails is fallout),
 * fallout, the order's rolled-up state and its notifications.
 * OSM_NEGATIVE with nothing changed when the lease was lost (another
 * worker retook the task, or an operator changed it); other errors leave
 * the transaction to be rolled back.
 */
int outcome_record(store *st, const outcome_orders *orders, cartridge *c, int64_t order_id,
                   int64_t task_id, int64_t fencing, outcome *oc, const char *actor,
                   osm_err *err);

#endif

/*
 * Orchestration plans (DESIGN §7): an order's items decomposed into
 * components — one task per (function, system, group key) — with their
 * dependencies and waits, durations, critical path and schedule.
 *
 * plan_build() computes a plan from a stored (or dry-run) order and its
 * cartridge; the store saves and loads the same structure
 * (store_plan_save/store_plan_load), and plan_document() renders it as
 * the "plan" document (specs/plan.schema.json).  Times are int64 ms,
 * -1 for none.
 */
#ifndef OSM_PLAN_H
#define OSM_PLAN_H

#include <stdint.h>

#include <jv.h>

#include "cartridge.h"
#include "diag.h"
#include "order.h"

/* Why a dependency exists: the rule that made it. */
typedef struct plan_why {
    const char *rule;       /* "after" or "reliesOn"; NULL: not known (an older plan) */
    const char *scope;      /* "item" or "order" */
    char *item;             /* the item the rule applied to */
    char *relies_on;        /* reliesOn: the item relied on; else NULL */
    int targeted;           /* reliesOn: by the pattern's reliesOn map */
} plan_why;

typedef struct plan_dep {
    int task;               /* index of the task waited for */
    int64_t delay_ms;       /* hold this long after it completes (0: none) */
    char *until;            /* program key of an "until" wait, or NULL */
    char *condition;        /* program key of a "condition" wait, or NULL */
    plan_why why;           /* the first rule that made it */
} plan_dep;

/* The JSON text of why, {rule, scope, item[, reliesOn, targeted]}
 * (malloc'ed), or NULL when it is not known. */
char *plan_why_text(const plan_why *w);

/* Set w (empty) from text as plan_why_text() makes it; NULL or text
 * that is not one leaves it unknown. */
void plan_why_parse(plan_why *w, const char *text);

void plan_why_free(plan_why *w);

typedef struct plan_task {
    int64_t id;             /* task id once stored, else 0 */
    char *state;            /* once stored: its state; NULL: "pending" */
    char *function;
    char *kind;             /* automated, manual, timer, rule */
    char *system;           /* NULL for manual, timer and rule functions */
    char *group;            /* the group key */
    char *workgroup;        /* manual functions: who does the work */
    jv items;               /* array of the item ids covered */
    int64_t duration_ms;
    int64_t deadline;       /* earliest requested date of its items, or -1 */
    int64_t not_before;     /* latest requested start of its items (or the order's), or -1 */
    int64_t earliest_start; /* dependencies met, dates ignored */
    int64_t latest_start;   /* to make its deadline (and its successors'), or -1 */
    int64_t start, end;     /* the schedule: the latest of latest start, not
                               before and dependencies met */
    int critical;           /* on the critical path */
    plan_dep *deps;
    size_t ndeps;
} plan_task;

typedef struct plan {
    int64_t revision;       /* its plan revision once stored (0: a new plan, the first) */
    plan_task *tasks;       /* in dependency order: a task after those it waits for */
    size_t ntasks;
    int64_t planned_at;
    int64_t start;          /* the order's start date: earliest task start */
    int64_t end;            /* expected completion: latest task end */
    int64_t duration_ms;    /* length of the critical path */
    int64_t late_ms;        /* > 0: the largest overrun of a deadline */
    int *critical_path;     /* task indices, in order */
    size_t ncritical;
} plan;

/*
 * Decompose and schedule order o (its items and transformed body) with
 * cartridge c at the instant now.  Returns 0 with *out filled
 * (plan_free it), or OSM_EDATA with a message for an order that cannot
 * be planned: a cycle (named), a system selector naming no declared
 * system, a jq error.  On error *out is empty.
 */
int plan_build(cartridge *c, const order_rec *o, int64_t now, plan *out, osm_err *err);

/* The plan document of order o. */
jv plan_document(const plan *p, const order_rec *o);

/*
 * Rebuild p->critical_path from the tasks' critical flags and
 * dependencies, and p->start, p->end, p->duration_ms from their times:
 * what a plan loaded from the store needs.
 */
void plan_summarise(plan *p);

/*
 * The forward pass: each task's earliest start (dependencies, dates
 * ignored) and scheduled start and end (the later of its latest start and
 * its dependencies), the plan's start, end and lateness, from now.
 * Deadlines, not-befores and latest starts must be set.  Used when planning and when
 * a stored plan is loaded.
 */
void plan_forward(plan *p, int64_t now);

/*
 * Set each task's deadline and not-before from the requested dates and
 * requested start dates of o and its items.
 */
void plan_set_deadlines(plan *p, const order_rec *o);

void plan_init(plan *p);
void plan_free(plan *p);

#endif

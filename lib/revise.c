/*
 * Revisions and cancellation (see revise.h).  The comparison works on
 * components: a component of the current plan is matched with the one of
 * the new plan that has the same function, system and group key, and
 * their significant data are compared by digest.  Significant data is the
 * request the component would send, built from the order as the source
 * sent it (transformed, without what responses merged into it since) and
 * a task without the run's particulars (id, attempt), so that only what
 * the source changed tells components apart.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "clock.h"
#include "intake.h"
#include "json.h"
#include "notify.h"
#include "plan.h"
#include "revise.h"
#include "sha256.h"
#include "store-revise.h"
#include "xalloc.h"

#define OSM_ENDED OSM_ENDED_MEANWHILE

/* What a revision does with a component. */
typedef struct action {
    const char *what;       /* keep, replace, redo, undo, do, wait, cancel */
    const char *reason;
    int old;                /* index in the old plan, or -1 */
    int fresh;              /* index in the new plan, or -1 */
    const char *ponr;       /* "soft" when past a soft point of no return, or NULL */
} action;

typedef struct reviser {
    store *st;
    cartridge *c;
    const revise_opts *o;
    order_rec base, rev;
    jv base_items, rev_items;   /* item id -> data: as the source sent them */
    jv base_body;               /* the base order as transformed, before responses */
    jv rev_body;                /* the revision as transformed, before the merge */
    revise_old *old;
    size_t nold;
    int64_t plan_rev;
    plan np;
    action *acts;
    size_t nacts;
    int *old_undo;              /* per old task: index of its undo in the new tasks, or -1 */
    const char *reject;         /* why it is rejected, or NULL */
    char rejectbuf[512];
} reviser;

/* A member of obj (null when there is none): json_get's short name here. */
#define mget json_get

static jv
fn_field(cartridge *c, const char *function, const char *field)
{
    jv fns = mget(c->manifest, "functions");
    jv fn = mget(fns, function);
    jv v = mget(fn, field);
    jv_free(fns);
    jv_free(fn);
    return v;
}

static int
terminal(const char *state)
{
    return !strcmp(state, "completed") || !strcmp(state, "cancelled") ||
           !strcmp(state, "aborted");
}

static jv
items_by_id(const order_rec *o)
{
    jv m = jv_object();
    for (size_t i = 0; i < o->nitems; i++)
        m = jv_object_set(m, jv_string(o->items[i].item_id), jv_copy(o->items[i].data));
    return m;
}

static jv
items_of(jv byid, jv ids)
{
    jv out = jv_array();
    jv_array_foreach(ids, i, id) {
        jv it = jv_object_get(jv_copy(byid), id);
        if (jv_is_valid(it))
            out = jv_array_append(out, it);
        else
            jv_free(it);
    }
    return out;
}

/*
 * What a component would send: its request over the order body and the
 * items, with a task that says what it does but not which run.
 */
static jv
significant(cartridge *c, const char *kind, const char *function, const char *system,
            const char *group, jv ids, jv body, jv byid)
{
    char key[300];
    jv task = JV_OBJECT(jv_string("function"), jv_string(function), jv_string("system"),
                        system ? jv_string(system) : jv_null(), jv_string("group"),
                        jv_string(group), jv_string("items"), jv_copy(ids));
    jv items = items_of(byid, ids), sig;
    snprintf(key, sizeof key, "functions.%s.request", function);
    int idx = strcmp(kind, "automated") == 0 ? cartridge_prog(c, key) : -1;
    if (idx >= 0) {
        char now[CLOCK_RFC3339_MAX];
        rfc3339_format(clock_now(), now);
        jv input = JV_OBJECT(jv_string("order"), jv_copy(body), jv_string("items"), items,
                             jv_string("task"), jv_copy(task));
        jv env = JV_OBJECT(jv_string("now"), jv_string(now), jv_string("order"), jv_copy(body),
                           jv_string("task"), jv_copy(task));
        if (jqprog_run1(c->jq, idx, input, env, &sig, NULL) != 0) {
            jv_free(sig);
            sig = jv_string("(the request program fails)");
        }
    } else if (strcmp(kind, "automated") == 0) {
        sig = JV_OBJECT(jv_string("order"), jv_copy(body), jv_string("items"), items);
    } else {
        sig = JV_OBJECT(jv_string("items"), items);
    }
    jv_free(task);
    return sig;
}

/* Its digest: 64 hex digits into out. */
static void
digest(jv sig, char out[SHA256_HEX_SIZE])
{
    jv text = jv_dump_string(sig, JV_PRINT_SORTED);
    sha256_hex(jv_string_value(text), (size_t)jv_string_length_bytes(jv_copy(text)), out);
    jv_free(text);
}

static int
same_key(const revise_old *t, const plan_task *p)
{
    return strcmp(t->function, p->function) == 0 && strcmp(t->group, p->group) == 0 &&
           ((!t->system && !p->system) || (t->system && p->system && !strcmp(t->system, p->system)));
}

static void
add_action(reviser *r, const char *what, const char *reason, int old, int fresh)
{
    r->acts = xrealloc(r->acts, (r->nacts + 1) * sizeof *r->acts);
    r->acts[r->nacts++] = (action){ what, reason, old, fresh, NULL };
}

static int
done(const char *state)
{
    return !strcmp(state, "completed") || !strcmp(state, "skipped");
}

static int
active(const char *state)
{
    return !strcmp(state, "running") || !strcmp(state, "waiting") || !strcmp(state, "claimed");
}

/* onRevision of a done component whose data changed: redo, undoThenDo or ignore. */
static const char *
on_revision(reviser *r, const revise_old *t, const plan_task *p, jv newreq)
{
    jv v = fn_field(r->c, t->function, "onRevision");
    const char *how = "redo";
    if (jv_get_kind(v) == JV_KIND_STRING) {
        const char *s = jv_string_value(v);
        if (!strcmp(s, "redo") || !strcmp(s, "undoThenDo") || !strcmp(s, "ignore")) {
            how = !strcmp(s, "redo") ? "redo" : !strcmp(s, "ignore") ? "ignore" : "undoThenDo";
        } else {
            /* a jq choice over {old, new}: the requests before and after */
            char key[300];
            jv out;
            snprintf(key, sizeof key, "functions.%s.onRevision", t->function);
            jv old = t->request ? json_parse_str(t->request, NULL) : jv_null();
            if (!jv_is_valid(old)) {
                jv_free(old);
                old = jv_null();
            }
            jv task = JV_OBJECT(jv_string("function"), jv_string(p->function));
            jv input = JV_OBJECT(jv_string("old"), old, jv_string("new"), jv_copy(newreq),
                                 jv_string("task"), task);
            if (jqprog_first(r->c->jq, cartridge_prog(r->c, key), input,
                             JV_OBJECT(jv_string("order"), jv_copy(r->rev.body)), &out,
                             NULL) == 1 &&
                jv_get_kind(out) == JV_KIND_STRING) {
                const char *s2 = jv_string_value(out);
                how = !strcmp(s2, "ignore") ? "ignore" : !strcmp(s2, "undoThenDo") ? "undoThenDo" : "redo";
            }
            jv_free(out);
        }
    }
    jv_free(v);
    jv_free(newreq);
    return how;
}

/* Is the function of a done component past a point of no return?  "hard", "soft" or NULL. */
static const char *
point_of_no_return(cartridge *c, const char *function)
{
    jv v = fn_field(c, function, "pointOfNoReturn");
    const char *p = NULL;
    if (jv_get_kind(v) == JV_KIND_STRING)
        p = !strcmp(jv_string_value(v), "hard") ? "hard"
            : !strcmp(jv_string_value(v), "soft") ? "soft" : NULL;
    jv_free(v);
    return p;
}

/*
 * A done component kept as it is, that waits in the new plan for one that
 * is redone (or redone once it finishes), was done with what that one
 * gave before: it is compensated too, as its own onRevision says (ignore
 * keeps it), and so on down the plan.
 */
static void
propagate(reviser *r)
{
    int *act_of = xcalloc(r->np.ntasks + 1, sizeof *act_of);
    char *asked = xcalloc(r->nacts + 1, 1);
    int changed = 1;

    while (changed) {
        changed = 0;
        for (size_t k = 0; k < r->np.ntasks; k++)
            act_of[k] = -1;
        for (size_t a = 0; a < r->nacts; a++)
            if (r->acts[a].fresh >= 0)
                act_of[r->acts[a].fresh] = (int)a;
        for (size_t a = 0; a < r->nacts; a++) {
            action *ac = &r->acts[a];
            if (strcmp(ac->what, "keep") || ac->old < 0 || ac->fresh < 0 || asked[a] ||
                (!done(r->old[ac->old].state) && !active(r->old[ac->old].state)))
                continue;
            const plan_task *p = &r->np.tasks[ac->fresh];
            int moved = 0;
            for (size_t d = 0; d < p->ndeps && !moved; d++) {
                int b = act_of[p->deps[d].task];
                moved = b >= 0 && (!strcmp(r->acts[b].what, "redo") ||
                                   !strcmp(r->acts[b].what, "wait") ||
                                   (!strcmp(r->acts[b].what, "do") && r->acts[b].old < 0 &&
                                    strcmp(r->base.state, "not_started") != 0));
            }
            if (!moved)
                continue;
            asked[a] = 1;
            const revise_old *t = &r->old[ac->old];
            if (active(t->state)) {
                ac->what = "wait";
                ac->reason = "running, and a component it waits for is redone: redone once "
                             "it has finished";
                changed = 1;
                continue;
            }
            const char *ponr = point_of_no_return(r->c, t->function);
            const char *how = on_revision(r, t, p,
                                          significant(r->c, p->kind, p->function, p->system,
                                                      p->group, p->items, r->rev_body,
                                                      r->rev_items));
            if (!strcmp(how, "ignore"))
                continue;
            if (ponr && !strcmp(ponr, "hard") && !r->reject) {
                snprintf(r->rejectbuf, sizeof r->rejectbuf,
                         "%s (task %lld) is done and past its point of no return",
                         t->function, (long long)t->id);
                r->reject = r->rejectbuf;
            }
            ac->what = "redo";
            ac->reason = "a component it waits for is redone";
            ac->ponr = ponr;
            changed = 1;
        }
    }
    free(act_of);
    free(asked);
}

/* Match the plans and choose an action per component. */
static void
compare(reviser *r)
{
    char *matched = xcalloc(r->nold ? r->nold : 1, 1);
    char od[SHA256_HEX_SIZE], nd[SHA256_HEX_SIZE];
    int started = strcmp(r->base.state, "not_started") != 0;

    for (size_t k = 0; k < r->np.ntasks; k++) {
        plan_task *p = &r->np.tasks[k];
        int m = -1;
        for (size_t i = 0; i < r->nold; i++)
            if (!matched[i] && strcmp(r->old[i].mode, "undo") != 0 && same_key(&r->old[i], p)) {
                m = (int)i;
                break;
            }
        if (m < 0) {
            add_action(r, "do", started ? "new in this revision" : "in the new plan", -1, (int)k);
            continue;
        }
        matched[m] = 1;
        revise_old *t = &r->old[m];
        jv newsig = significant(r->c, p->kind, p->function, p->system, p->group, p->items,
                                r->rev_body, r->rev_items);
        digest(significant(r->c, t->kind, t->function, t->system, t->group, t->items,
                           r->base_body, r->base_items), od);
        digest(jv_copy(newsig), nd);
        if (strcmp(od, nd) == 0) {
            add_action(r, "keep", "its data did not change", m, (int)k);
        } else if (active(t->state)) {
            add_action(r, "wait", "running: redone with the new data once it has finished", m,
                       (int)k);
        } else if (!done(t->state)) {
            add_action(r, "replace", "not done yet: it runs with the new data", m, (int)k);
        } else {
            const char *ponr = point_of_no_return(r->c, t->function);
            if (ponr && !strcmp(ponr, "hard") && !r->reject) {
                snprintf(r->rejectbuf, sizeof r->rejectbuf,
                         "%s (task %lld) is done and past its point of no return",
                         t->function, (long long)t->id);
                r->reject = r->rejectbuf;
            }
            const char *how = on_revision(r, t, p, jv_copy(newsig));
            if (!strcmp(how, "ignore"))
                add_action(r, "keep", "its data changed; onRevision is ignore", m, (int)k);
            else if (!strcmp(how, "undoThenDo")) {
                add_action(r, "undo", "its data changed; onRevision is undoThenDo", m, -1);
                add_action(r, "do", "done again after its undo", -1, (int)k);
            } else {
                add_action(r, "redo", "its data changed", m, (int)k);
            }
            if (ponr)
                r->acts[r->nacts - 1].ponr = ponr;
        }
        jv_free(newsig);
    }
    propagate(r);
    for (size_t i = 0; i < r->nold; i++) {
        revise_old *t = &r->old[i];
        if (matched[i])
            continue;
        if (!strcmp(t->mode, "undo")) {
            if (!done(t->state) && strcmp(t->state, "cancelled"))
                add_action(r, "keep", "an undo still to do", (int)i, -1);
            continue;
        }
        if (done(t->state) && strcmp(t->state, "skipped")) {
            const char *ponr = point_of_no_return(r->c, t->function);
            if (ponr && !strcmp(ponr, "hard") && !r->reject) {
                snprintf(r->rejectbuf, sizeof r->rejectbuf,
                         "%s (task %lld) is done and past its point of no return: it cannot "
                         "be undone",
                         t->function, (long long)t->id);
                r->reject = r->rejectbuf;
            }
            add_action(r, "undo", r->o->cancel ? "the order is cancelled"
                                                : "no longer in the order",
                       (int)i, -1);
            r->acts[r->nacts - 1].ponr = ponr;
        } else if (active(t->state)) {
            add_action(r, "wait", "running: undone once it has finished", (int)i, -1);
        } else if (!strcmp(t->state, "pending") || !strcmp(t->state, "ready")) {
            add_action(r, "cancel", r->o->cancel ? "the order is cancelled"
                                                  : "no longer in the order",
                       (int)i, -1);
        }
    }
    free(matched);
}

static jv
action_doc(const reviser *r, const action *a, const revise_task *tasks, const int *row)
{
    const revise_old *t = a->old >= 0 ? &r->old[a->old] : NULL;
    const plan_task *p = a->fresh >= 0 ? &r->np.tasks[a->fresh] : NULL;
    jv d = JV_OBJECT(jv_string("action"), jv_string(a->what), jv_string("function"),
                     jv_string(t ? t->function : p->function), jv_string("system"),
                     (t ? t->system : p->system) ? jv_string(t ? t->system : p->system)
                                                 : jv_null(),
                     jv_string("group"), jv_string(t ? t->group : p->group), jv_string("items"),
                     jv_copy(p ? p->items : t->items));
    d = jv_object_set(d, jv_string("task"), t ? jv_number((double)t->id) : jv_null());
    if (t)
        d = jv_object_set(d, jv_string("taskState"), jv_string(t->state));
    if (tasks && row && row[a - r->acts] >= 0)
        d = jv_object_set(d, jv_string("newTask"),
                          jv_number((double)tasks[row[a - r->acts]].id));
    d = jv_object_set(d, jv_string("reason"), jv_string(a->reason));
    if (a->ponr)
        d = jv_object_set(d, jv_string("pointOfNoReturn"), jv_string(a->ponr));
    return d;
}

static jv
document(const reviser *r, const char *result, const char *state, const revise_task *tasks,
         const int *row)
{
    jv comps = jv_array();
    int soft = 0;
    for (size_t i = 0; i < r->nacts; i++) {
        comps = jv_array_append(comps, action_doc(r, &r->acts[i], tasks, row));
        soft |= r->acts[i].ponr && !strcmp(r->acts[i].ponr, "soft");
    }
    jv d = JV_OBJECT(jv_string("kind"), jv_string("revision"), jv_string("id"),
                     jv_number((double)r->base.id), jv_string("externalId"),
                     r->base.external_id ? jv_string(r->base.external_id) : jv_null(),
                     jv_string("cancel"), jv_bool(r->o->cancel), jv_string("result"),
                     jv_string(result));
    d = jv_object_set(d, jv_string("baseRevision"), jv_number((double)r->base.revision));
    d = jv_object_set(d, jv_string("revision"), jv_number((double)r->rev.revision));
    d = jv_object_set(d, jv_string("basePlanRevision"), jv_number((double)r->plan_rev));
    d = jv_object_set(d, jv_string("planRevision"),
                      jv_number((double)(r->plan_rev + (strcmp(result, "applied") ? 0 : 1))));
    d = jv_object_set(d, jv_string("state"), jv_string(state));
    if (r->reject)
        d = jv_object_set(d, jv_string("reason"), jv_string(r->reject));
    if (soft)
        d = jv_object_set(d, jv_string("pointOfNoReturn"), jv_string("soft"));
    return jv_object_set(d, jv_string("components"), comps);
}

/* The state the order takes, given what the revision does. */
static const char *
next_state(const reviser *r)
{
    int compensating = 0;
    for (size_t i = 0; i < r->nacts; i++) {
        const char *w = r->acts[i].what;
        if (!strcmp(w, "undo") || !strcmp(w, "redo") ||
            (!strcmp(w, "wait")) || (!strcmp(w, "keep") && r->acts[i].fresh < 0))
            compensating = 1;
    }
    if (r->o->cancel)
        return compensating ? "cancelling" : "cancelled";
    if (!strcmp(r->base.state, "not_started"))
        return "not_started";
    return compensating ? "amending" : "in_progress";
}

/* Build the new plan's tasks from the actions, and apply them. */
static int
apply(reviser *r, const char *state, jv *doc, osm_err *err)
{
    size_t cap = r->nacts + 1;
    revise_task *tasks = xcalloc(cap, sizeof *tasks);
    int *row = xcalloc(cap, sizeof *row);          /* per action: its task, or -1 */
    int *fresh_row = xcalloc(r->np.ntasks + 1, sizeof *fresh_row);  /* per new component */
    int *undo_row = xcalloc(r->nold + 1, sizeof *undo_row);         /* per old task */
    int64_t *cancel = xcalloc(r->nacts + 1, sizeof *cancel);
    size_t n = 0, ncancel = 0;
    int rc;

    for (size_t k = 0; k <= r->np.ntasks; k++)
        fresh_row[k] = -1;
    for (size_t i = 0; i <= r->nold; i++)
        undo_row[i] = -1;
    for (size_t a = 0; a < r->nacts; a++) {
        action *ac = &r->acts[a];
        revise_old *t = ac->old >= 0 ? &r->old[ac->old] : NULL;
        plan_task *p = ac->fresh >= 0 ? &r->np.tasks[ac->fresh] : NULL;
        revise_task *x = &tasks[n];
        row[a] = -1;
        if (!strcmp(ac->what, "cancel")) {
            cancel[ncancel++] = t->id;
            continue;
        }
        if (!strcmp(ac->what, "wait") && !p) {
            /* running, then undone: its undo waits for it */
        } else if (!strcmp(ac->what, "keep") || !strcmp(ac->what, "replace")) {
            x->move_id = t->id;
            row[a] = (int)n++;
            if (p)
                fresh_row[ac->fresh] = row[a];
            continue;
        }
        if (p) {
            x->function = p->function;
            x->kind = p->kind;
            x->system = p->system;
            x->group = p->group;
            x->workgroup = p->workgroup;
            x->items = p->items;
            x->expected_ms = p->duration_ms;
            x->earliest_start = p->earliest_start;
            x->latest_start = p->latest_start;
            x->critical = p->critical;
        } else {
            x->function = t->function;
            x->kind = t->kind;
            x->system = t->system;
            x->group = t->group;
            x->items = t->items;
        }
        /* a component done or redone waits for its items' requested start */
        x->not_before = p && (!strcmp(ac->what, "do") || !strcmp(ac->what, "redo") ||
                              !strcmp(ac->what, "wait")) ? p->not_before : -1;
        if (!p)
            x->earliest_start = x->latest_start = -1;
        if (!strcmp(ac->what, "do")) {
            x->mode = "do";
            x->amend = strcmp(r->base.state, "not_started") != 0;
        } else if (!strcmp(ac->what, "redo") || (!strcmp(ac->what, "wait") && p)) {
            x->mode = "redo";
            x->compensates = t->id;
            if (active(t->state)) {
                x->dep_ids = &t->id;
                x->ndep_ids = 1;
            }
        } else {
            /* undo, or wait then undo */
            x->mode = "undo";
            x->compensates = t->id;
            x->request = t->request;
            if (active(t->state)) {
                x->dep_ids = &t->id;
                x->ndep_ids = 1;
            }
            undo_row[ac->old] = (int)n;
        }
        row[a] = (int)n++;
        if (p)
            fresh_row[ac->fresh] = row[a];
    }
    /* dependencies: the new plan's, then undos in reverse dependency order */
    for (size_t k = 0; k < r->np.ntasks; k++) {
        int me = fresh_row[k];
        if (me < 0)
            continue;
        plan_task *p = &r->np.tasks[k];
        for (size_t d = 0; d < p->ndeps; d++) {
            int on = fresh_row[p->deps[d].task];
            if (on < 0)
                continue;
            revise_task *x = &tasks[me];
            x->deps = xrealloc(x->deps, (x->ndeps + 1) * sizeof *x->deps);
            x->waits = xrealloc((void *)x->waits, (x->ndeps + 1) * sizeof *x->waits);
            x->waits[x->ndeps] = &p->deps[d];
            x->deps[x->ndeps++] = on;
        }
    }
    for (size_t a = 0; a < r->nacts; a++) {
        /* undoThenDo: the do waits for the undo of its component */
        action *ac = &r->acts[a];
        if (!strcmp(ac->what, "undo") && ac->fresh < 0 && a + 1 < r->nacts &&
            r->acts[a + 1].fresh >= 0 && !strcmp(r->acts[a + 1].what, "do") &&
            r->acts[a + 1].old < 0 && row[a] >= 0 && row[a + 1] >= 0 &&
            !strcmp(r->acts[a + 1].reason, "done again after its undo")) {
            revise_task *x = &tasks[row[a + 1]];
            x->deps = xrealloc(x->deps, (x->ndeps + 1) * sizeof *x->deps);
            x->waits = xrealloc((void *)x->waits, (x->ndeps + 1) * sizeof *x->waits);
            x->waits[x->ndeps] = NULL;
            x->deps[x->ndeps++] = row[a];
        }
    }
    for (size_t i = 0; i < r->nold; i++) {
        /* B waited for A: undo A only after undo B */
        if (undo_row[i] < 0)
            continue;
        for (size_t j = 0; j < r->nold; j++) {
            if (undo_row[j] < 0)
                continue;
            for (size_t d = 0; d < r->old[j].ndeps; d++)
                if (r->old[j].deps[d] == r->old[i].id) {
                    revise_task *x = &tasks[undo_row[i]];
                    x->deps = xrealloc(x->deps, (x->ndeps + 1) * sizeof *x->deps);
                    x->waits = xrealloc((void *)x->waits, (x->ndeps + 1) * sizeof *x->waits);
                    x->waits[x->ndeps] = NULL;
                    x->deps[x->ndeps++] = undo_row[j];
                }
        }
    }

    plan op;
    jv old_plan = jv_null();
    if (store_plan_load(r->st, &r->base, &op, NULL) == 0) {
        old_plan = plan_document(&op, &r->base);
        plan_free(&op);
    }
    r->rev.id = r->base.id;
    revise_apply ap = { &r->rev, state, r->o->cancel ? "cancelled by the source" : "revision",
                        old_plan, tasks, n, cancel, ncancel, r->np.start, r->np.end,
                        r->np.late_ms, jv_null(), NULL };
    int64_t now = clock_now(), mark = 0;
    int notify = notify_subscribes(r->c);
    /* in the transaction revise_order() opened to read the plan compared */
    {
        rc = 0;
        if (notify)
            rc = notify_mark(r->st, &mark, err);
        /* the document names the new tasks: it is made once they exist */
        if (rc == 0)
            rc = store_revise_apply(r->st, &ap, r->o->actor, now, err);
        if (rc == 0) {
            *doc = document(r, "applied", state, tasks, row);
            rc = store_event_add(r->st, r->base.id, 0,
                                 r->o->cancel ? "cancellation.accepted" : "revision.applied",
                                 r->o->actor, jv_copy(*doc), now, NULL, err);
        }
        if (rc == 0)
            rc = store_order_rollup(r->st, r->base.id, r->o->actor, now, NULL, err);
        if (rc == 0 && notify)
            rc = notify_enqueue_order(r->st, mark, r->base.id, r->c, err);
        if (rc == 0)
            rc = store_commit(r->st, err);
        else
            store_rollback(r->st);
    }
    if (rc == 0) {
        char *cur = NULL;
        if (store_order_state(r->st, r->base.id, &cur, NULL) == 0)
            *doc = jv_object_set(*doc, jv_string("state"), jv_string(cur));
        free(cur);
    } else if (jv_is_valid(*doc)) {
        jv_free(*doc);
        *doc = jv_invalid();
    }
    jv_free(old_plan);
    for (size_t i = 0; i < n; i++) {
        free(tasks[i].deps);
        free((void *)tasks[i].waits);
    }
    free(tasks);
    free(row);
    free(fresh_row);
    free(undo_row);
    free(cancel);
    return rc;
}

static void
reviser_free(reviser *r)
{
    order_rec_free(&r->base);
    order_rec_free(&r->rev);
    jv_free(r->base_items);
    jv_free(r->rev_items);
    jv_free(r->base_body);
    jv_free(r->rev_body);
    revise_old_free(r->old, r->nold);
    plan_free(&r->np);
    free(r->acts);
}

/*
 * Record the rejection of version rejected (unless a dry run) and say why:
 * OSM_NEGATIVE with *doc, or a store status.
 */
static int
reject(reviser *r, const order_rec *rejected, jv *doc, osm_err *err)
{
    int rc = OSM_NEGATIVE;
    *doc = document(r, "rejected", r->base.state, NULL, NULL);
    if (!r->o->dry_run) {
        int r2 = store_begin(r->st, err);
        if (r2 == 0)
            r2 = store_revise_reject(r->st, r->base.id, rejected, r->reject, jv_copy(*doc),
                                     r->o->actor, clock_now(), err);
        if (r2 == 0)
            r2 = store_commit(r->st, err);
        else
            store_rollback(r->st);
        if (r2 != 0)
            rc = r2;
    }
    if (rc == OSM_NEGATIVE)
        osm_fail(err, OSM_NEGATIVE, "order %lld: the %s is rejected: %s",
                 (long long)r->base.id, r->o->cancel ? "cancellation" : "revision", r->reject);
    return rc;
}

/* Run order (consumed) through intake with the base order's cartridge. */
static int
take_in(catalog *cat, jv order, intake *in, osm_err *err)
{
    int rc = intake_recognise(cat, order, in, err);
    if (rc != 0) {
        jv_free(order);
        return rc;
    }
    return intake_run(in, order, clock_now(), err);
}

int
revise_order(store *st, int64_t base_id, jv order, const revise_opts *o, jv *doc, osm_err *err)
{
    reviser r;
    catalog *cat = NULL;
    intake in, pristine;
    char ref[512];
    int rc, in_tx = 0;

    memset(&r, 0, sizeof r);
    *doc = jv_null();
    r.st = st;
    r.o = o;
    order_rec_init(&r.base);
    order_rec_init(&r.rev);
    plan_init(&r.np);
    r.base_items = r.rev_items = r.base_body = r.rev_body = jv_null();
    intake_init(&in);
    intake_init(&pristine);
    if ((rc = store_order_get(st, base_id, &r.base, err)) != 0) {
        jv_free(order);
        goto out;
    }
    if (o->cancel && terminal(r.base.state)) {
        jv_free(order);
        rc = osm_fail(err, OSM_NEGATIVE, "order %lld is %s: an ended order cannot be cancelled",
                      (long long)base_id, r.base.state);
        goto out;
    }
    cat = catalog_new(st);
    snprintf(ref, sizeof ref, "%s@%s", r.base.cartridge, r.base.cartridge_version);
    if ((rc = catalog_use_ref(cat, ref, 0, err)) != 0 ||
        (rc = catalog_get(cat, r.base.cartridge, r.base.cartridge_version, &r.c, err)) != 0) {
        jv_free(order);
        goto out;
    }
    /* the base order as its source sent it, transformed again: what the
     * revision is compared with */
    if (take_in(cat, jv_copy(r.base.original), &pristine, NULL) == 0) {
        r.base_body = jv_copy(pristine.rec.body);
        r.base_items = items_by_id(&pristine.rec);
    } else {
        r.base_body = jv_copy(r.base.body);
        r.base_items = items_by_id(&r.base);
    }
    if (o->cancel) {
        jv_free(order);
        r.rev.id = r.base.id;
        r.rev.revision = r.base.revision;
        r.rev.original = jv_copy(r.base.original);
        r.rev.body = jv_copy(r.base.body);
        r.rev.priority = r.base.priority;
        r.rev.requested_at = r.base.requested_at;
        for (size_t i = 0; i < r.base.nitems; i++) {
            const order_item *it = &r.base.items[i];
            order_rec_add_item(&r.rev, it->item_id, it->action, it->spec, it->requested_at,
                               jv_copy(it->relies_on), jv_copy(it->data));
        }
        r.rev_items = items_by_id(&r.rev);
        jv_free(r.rev_body);
        r.rev_body = jv_copy(r.base_body);
    } else {
        rc = take_in(cat, order, &in, err);
        if (rc == OSM_NEGATIVE) {
            strbuf sb = STRBUF_INIT;
            jv_array_foreach(in.problems, i, pr) {
                jv path = mget(pr, "path"), msg = mget(pr, "message");
                sb_adds(&sb, i ? "; " : "");
                if (jv_get_kind(path) == JV_KIND_STRING) {
                    sb_adds(&sb, jv_string_value(path));
                    sb_adds(&sb, ": ");
                }
                sb_adds(&sb, jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "?");
                jv_free(path);
                jv_free(msg);
                jv_free(pr);
            }
            rc = osm_fail(err, OSM_NEGATIVE, "the revision of order %lld is invalid: %s",
                          (long long)base_id, sb.buf ? sb.buf : "");
            sb_free(&sb);
            goto out;
        }
        if (rc != 0)
            goto out;
        if ((in.rec.external_id || r.base.external_id) &&
            (!in.rec.external_id || !r.base.external_id ||
             strcmp(in.rec.external_id, r.base.external_id) != 0)) {
            rc = osm_fail(err, OSM_EDATA, "the revision's key \"%s\" is not order %lld's (\"%s\")",
                          in.rec.external_id ? in.rec.external_id : "", (long long)base_id,
                          r.base.external_id ? r.base.external_id : "");
            goto out;
        }
        if (in.rec.revision < r.base.revision) {
            *doc = JV_OBJECT(jv_string("kind"), jv_string("revision"), jv_string("id"),
                             jv_number((double)base_id), jv_string("result"),
                             jv_string("ignored"), jv_string("revision"),
                             jv_number((double)in.rec.revision), jv_string("reason"),
                             jv_string("older than the order's revision"));
            *doc = jv_object_set(*doc, jv_string("baseRevision"),
                                 jv_number((double)r.base.revision));
            rc = 0;
            goto out;
        }
        if (in.rec.revision == r.base.revision) {
            if (jv_equal(jv_copy(in.rec.original), jv_copy(r.base.original))) {
                r.rev.revision = r.base.revision;
                *doc = JV_OBJECT(jv_string("kind"), jv_string("revision"), jv_string("id"),
                                 jv_number((double)base_id), jv_string("result"),
                                 jv_string("unchanged"), jv_string("revision"),
                                 jv_number((double)in.rec.revision), jv_string("reason"),
                                 jv_string("this revision is already the order's"));
                rc = 0;
                goto out;
            }
            rc = osm_fail(err, OSM_EDATA,
                          "revision %lld of order %lld has other content than the stored "
                          "revision %lld: a changed order needs a higher revision number",
                          (long long)in.rec.revision, (long long)base_id,
                          (long long)r.base.revision);
            goto out;
        }
        if (terminal(r.base.state)) {
            /* too late: recorded as a rejected revision */
            snprintf(r.rejectbuf, sizeof r.rejectbuf,
                     "order %lld is %s: an ended order cannot be revised", (long long)base_id,
                     r.base.state);
            r.reject = r.rejectbuf;
            r.rev.revision = in.rec.revision;
            rc = reject(&r, &in.rec, doc, err);
            goto out;
        }
        r.rev = in.rec;
        order_rec_init(&in.rec);
        jv_free(r.rev_body);
        r.rev_body = jv_copy(r.rev.body);
        /* what responses merged into the order stays, unless the revision changes it */
        if (jv_get_kind(r.base.body) == JV_KIND_OBJECT && jv_get_kind(r.rev.body) == JV_KIND_OBJECT)
            r.rev.body = jv_object_merge_recursive(jv_copy(r.base.body), r.rev.body);
        r.rev_items = items_by_id(&r.rev);
    }
    r.rev.id = r.base.id;
    if (!o->cancel && (rc = plan_build(r.c, &r.rev, clock_now(), &r.np, err)) != 0)
        goto out;
    /*
     * The plan is read, compared and changed in one transaction, so that
     * no worker claims or finishes a task in between: what the comparison
     * saw is what the change applies to.
     */
    if ((rc = store_begin(st, err)) != 0)
        goto out;
    in_tx = 1;
    if ((rc = store_revise_current(st, base_id, &r.plan_rev, &r.old, &r.nold, err)) != 0)
        goto out;
    compare(&r);
    const char *state = next_state(&r);
    if (r.reject || o->dry_run) {
        store_rollback(st);
        in_tx = 0;
    }
    if (r.reject) {
        rc = reject(&r, &r.rev, doc, err);
        goto out;
    }
    if (o->dry_run) {
        *doc = document(&r, "dry-run", state, NULL, NULL);
        rc = 0;
        goto out;
    }
    in_tx = 0;      /* apply() commits or rolls back */
    rc = apply(&r, state, doc, err);
    if (rc == OSM_ENDED) {
        /* it ended between the comparison and the change: the end wins */
        snprintf(r.rejectbuf, sizeof r.rejectbuf,
                 "order %lld ended while the revision was worked out", (long long)base_id);
        r.reject = r.rejectbuf;
        jv_free(*doc);
        rc = reject(&r, &r.rev, doc, err);
    }
out:
    if (in_tx)
        store_rollback(st);
    intake_free(&in);
    intake_free(&pristine);
    reviser_free(&r);
    catalog_free(cat);
    return rc;
}

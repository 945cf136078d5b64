/*
 * Fulfillment states (DESIGN §5, §10; osm-cartridge(5) FULFILLMENT
 * STATES): a cartridge's ordered list of states, the mapping of each
 * system's external statuses onto them, and the composition rules that
 * derive an item's state from its components' and the order's from its
 * items'.  Pure computation over the manifest: no store, no jq, so that
 * the engine can use it to record states as well as osm-status to show
 * them, and so that the rules are unit-tested from data
 * (tests/fixtures/status/).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "xalloc.h"

typedef struct fulfil_rule {
    int state;
    int *cond[3];           /* any, all, none: state indices, or NULL when absent */
    size_t ncond[3];
} fulfil_rule;

enum { COND_ANY, COND_ALL, COND_NONE };

struct fulfil_model {
    char **states;
    int nstates;
    int initial, done, failure;     /* failure: the first failure state, or -1 */
    unsigned char *is_failure;
    jv statuses;                    /* {system: {external status: index}} */
    fulfil_rule *rules[2];          /* FULFIL_ITEM, FULFIL_ORDER */
    size_t nrules[2];
};

static jv
member(jv obj, const char *key)
{
    if (jv_get_kind(obj) != JV_KIND_OBJECT)
        return jv_invalid();
    return jv_object_get(jv_copy(obj), jv_string(key));
}

int
fulfil_state_index(const fulfil_model *m, const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < m->nstates; i++)
        if (strcmp(m->states[i], name) == 0)
            return i;
    return -1;
}

/* The states named in list (an array), unknown ones left out; NULL if absent. */
static int *
read_states(const fulfil_model *m, jv list, size_t *n)
{
    int *out;
    *n = 0;
    if (jv_get_kind(list) != JV_KIND_ARRAY) {
        jv_free(list);
        return NULL;
    }
    out = xcalloc((size_t)jv_array_length(jv_copy(list)) + 1, sizeof *out);
    jv_array_foreach(list, i, s) {
        int idx = jv_get_kind(s) == JV_KIND_STRING ? fulfil_state_index(m, jv_string_value(s)) : -1;
        if (idx >= 0)
            out[(*n)++] = idx;
        jv_free(s);
    }
    jv_free(list);
    return out;
}

static void
read_rules(fulfil_model *m, jv fs, const char *which, int level)
{
    static const char *const conds[] = { "any", "all", "none" };
    jv rules = member(fs, which);

    if (jv_get_kind(rules) == JV_KIND_ARRAY) {
        m->rules[level] = xcalloc((size_t)jv_array_length(jv_copy(rules)) + 1,
                                  sizeof *m->rules[level]);
        jv_array_foreach(rules, i, r) {
            jv st = member(r, "state");
            int idx = jv_get_kind(st) == JV_KIND_STRING ? fulfil_state_index(m, jv_string_value(st))
                                                        : -1;
            jv_free(st);
            if (idx >= 0) {
                fulfil_rule *fr = &m->rules[level][m->nrules[level]++];
                fr->state = idx;
                for (int k = 0; k < 3; k++)
                    fr->cond[k] = read_states(m, member(r, conds[k]), &fr->ncond[k]);
            }
            jv_free(r);
        }
    }
    jv_free(rules);
}

fulfil_model *
fulfil_model_new(jv manifest)
{
    fulfil_model *m = xcalloc(1, sizeof *m);
    jv fs = member(manifest, "fulfillmentStates");
    jv states = member(fs, "states");

    m->initial = m->done = m->failure = -1;
    m->statuses = jv_object();
    if (jv_get_kind(states) == JV_KIND_ARRAY) {
        int n = jv_array_length(jv_copy(states));
        m->states = xcalloc((size_t)n + 1, sizeof *m->states);
        m->is_failure = xcalloc((size_t)n + 1, 1);
        jv_array_foreach(states, i, s) {
            if (jv_get_kind(s) == JV_KIND_STRING && fulfil_state_index(m, jv_string_value(s)) < 0) {
                int k = m->nstates++;
                m->states[k] = xstrdup(jv_string_value(s));
                m->is_failure[k] = strcasestr(m->states[k], "fail") != NULL;
                if (m->is_failure[k] && m->failure < 0)
                    m->failure = k;
            }
            jv_free(s);
        }
    }
    jv_free(states);
    if (m->nstates > 0) {
        jv init = member(fs, "initial");
        m->initial = jv_get_kind(init) == JV_KIND_STRING
                         ? fulfil_state_index(m, jv_string_value(init)) : -1;
        if (m->initial < 0)
            m->initial = 0;
        jv_free(init);
        for (int i = m->nstates - 1; i >= 0 && m->done < 0; i--)
            if (!m->is_failure[i])
                m->done = i;
        if (m->done < 0)
            m->done = m->nstates - 1;
        read_rules(m, fs, "item", FULFIL_ITEM);
        read_rules(m, fs, "order", FULFIL_ORDER);

        jv systems = member(manifest, "systems");
        if (jv_get_kind(systems) == JV_KIND_OBJECT) {
            jv_object_foreach(systems, name, sys) {
                jv map = member(sys, "statuses");
                jv out = jv_object();
                if (jv_get_kind(map) == JV_KIND_OBJECT) {
                    jv_object_foreach(map, ext, st) {
                        int idx = jv_get_kind(st) == JV_KIND_STRING
                                      ? fulfil_state_index(m, jv_string_value(st)) : -1;
                        if (idx >= 0)
                            out = jv_object_set(out, jv_copy(ext), jv_number(idx));
                        jv_free(ext);
                        jv_free(st);
                    }
                }
                jv_free(map);
                jv_free(sys);
                m->statuses = jv_object_set(m->statuses, name, out);
            }
        }
        jv_free(systems);
    }
    jv_free(fs);
    return m;
}

void
fulfil_model_free(fulfil_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nstates; i++)
        free(m->states[i]);
    free(m->states);
    free(m->is_failure);
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < m->nrules[l]; i++)
            for (int k = 0; k < 3; k++)
                free(m->rules[l][i].cond[k]);
        free(m->rules[l]);
    }
    jv_free(m->statuses);
    free(m);
}

int
fulfil_nstates(const fulfil_model *m)
{
    return m->nstates;
}

const char *
fulfil_state_name(const fulfil_model *m, int idx)
{
    return idx >= 0 && idx < m->nstates ? m->states[idx] : NULL;
}

int
fulfil_is_failure(const fulfil_model *m, int idx)
{
    return idx >= 0 && idx < m->nstates && m->is_failure[idx];
}

int
fulfil_initial(const fulfil_model *m)
{
    return m->initial;
}

int
fulfil_done(const fulfil_model *m)
{
    return m->done;
}

int
fulfil_component(const fulfil_model *m, const char *system, const char *external_status,
                 const char *task_state)
{
    if (m->nstates == 0)
        return -1;
    if (system && external_status) {
        jv map = jv_object_get(jv_copy(m->statuses), jv_string(system));
        if (jv_get_kind(map) == JV_KIND_OBJECT) {
            jv idx = jv_object_get(map, jv_string(external_status));
            if (jv_get_kind(idx) == JV_KIND_NUMBER) {
                int i = (int)jv_number_value(idx);
                jv_free(idx);
                return i;
            }
            jv_free(idx);
        } else {
            jv_free(map);
        }
    }
    if (task_state && (strcmp(task_state, "completed") == 0 || strcmp(task_state, "skipped") == 0))
        return m->done;
    if (task_state && strcmp(task_state, "failed") == 0)
        return m->failure >= 0 ? m->failure : m->initial;
    return m->initial;
}

static int
listed(const int *list, size_t n, int state)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == state)
            return 1;
    return 0;
}

static int
rule_holds(const fulfil_rule *r, const int *states, size_t n)
{
    if (r->cond[COND_ANY]) {
        int any = 0;
        for (size_t i = 0; i < n && !any; i++)
            any = listed(r->cond[COND_ANY], r->ncond[COND_ANY], states[i]);
        if (!any)
            return 0;
    }
    if (r->cond[COND_ALL])
        for (size_t i = 0; i < n; i++)
            if (!listed(r->cond[COND_ALL], r->ncond[COND_ALL], states[i]))
                return 0;
    if (r->cond[COND_NONE])
        for (size_t i = 0; i < n; i++)
            if (listed(r->cond[COND_NONE], r->ncond[COND_NONE], states[i]))
                return 0;
    return 1;
}

int
fulfil_compose(const fulfil_model *m, int level, const int *states, size_t n)
{
    int least = -1, least_failure = -1;

    if (m->nstates == 0)
        return -1;
    if (n == 0)
        return m->initial;
    if (level == FULFIL_ITEM || level == FULFIL_ORDER)
        for (size_t i = 0; i < m->nrules[level]; i++)
            if (rule_holds(&m->rules[level][i], states, n))
                return m->rules[level][i].state;
    for (size_t i = 0; i < n; i++) {
        int s = states[i] >= 0 && states[i] < m->nstates ? states[i] : m->initial;
        if (least < 0 || s < least)
            least = s;
        if (m->is_failure[s] && (least_failure < 0 || s < least_failure))
            least_failure = s;
    }
    return least_failure >= 0 ? least_failure : least;
}

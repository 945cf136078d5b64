/*
 * libFuzzer harness for the hook response parser (lib/outcome.c): the
 * input is what a hook printed, read as a one-shot hook's standard output
 * (exit 0) by outcome_of_hook() and as a persistent process's answer line
 * by outcome_of_answer(), for a task of the runner test cartridge.  Each
 * must give a known task state and never crash or leak.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cartridge.h"
#include "outcome.h"
#include "xalloc.h"

#ifndef FUZZ_CARTRIDGE
#error "FUZZ_CARTRIDGE: the path of tests/fixtures/cartridges/runner"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cartridge *cart;

static void
check(const outcome *oc)
{
    static const char *const states[] = { "completed", "waiting", "pending", "failed", NULL };
    if (!oc->t.state)
        abort();
    for (int i = 0; states[i]; i++)
        if (strcmp(oc->t.state, states[i]) == 0)
            return;
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cart) {
        osm_err err = { 0, "" };
        if (cartridge_open_path(FUZZ_CARTRIDGE, NULL, &cart, &err) != 0)
            abort();
    }
    hook_run_info r = { 0 };
    r.task_id = 7;
    r.order_id = 3;
    r.attempts = 1;
    r.timeout_ms = 30000;
    r.function = "one";
    r.system = "alpha";
    r.request = "{\"ref\":\"K-1\"}";
    r.request_jv = jv_null();

    char *out = xmalloc(size + 1);
    memcpy(out, data, size);
    out[size] = '\0';
    hook_result res = { 0 };
    res.exited = 1;
    res.out = out;
    res.out_len = size;
    res.err = (char *)"";
    outcome oc;
    outcome_init(&oc);
    outcome_of_hook(&oc, cart, &r, &res);
    check(&oc);
    outcome_free(&oc);

    r.persistent = 1;
    outcome_init(&oc);
    outcome_of_answer(&oc, cart, &r, out, size, NULL, NULL, 5);
    check(&oc);
    outcome_free(&oc);
    free(out);
    return 0;
}

/*
 * Compile-once jq programs.
 *
 * A jq 1.6 compile costs about 18 ms (it recompiles its builtins every
 * time) and a run about a microsecond, so all the small programs of a
 * cartridge version -- recognition rules, validations, transformations,
 * request builders -- are added to one jqprog, compiled once per process
 * as one combined program, and each run picks its program by the index
 * jqprog_add() returned.  jq 1.6 binds named arguments at compile time,
 * so the per-call values travel in the input: every run takes an input
 * (the program's ".") and an environment object whose members every
 * program sees as variables:
 *
 *   $now     env.now, the current instant (RFC 3339 string; OSM_NOW)
 *   $order   env.order
 *   $item    env.item
 *   $task    env.task
 *   $old     env.old     (revisions: the old value)
 *   $new     env.new     (revisions: the new value)
 *   $env     the whole environment object
 *
 * A member the caller leaves out is null.  ($env is not jq's $ENV, the
 * process environment, which programs can also read.)
 *
 * What a program cannot do: import or include modules (a syntax error,
 * since each program is wrapped in parentheses); read inputs ("input"
 * fails with "No more inputs", "inputs" is empty); print anything
 * ("debug" and "stderr" pass their input through silently).  The user's
 * ~/.jq is never loaded.  jq's "now" is the real clock: programs that
 * must be testable use $now.  A run may use JQPROG_BUDGET_MS of CPU
 * time, or what OSM_JQ_BUDGET says (a duration: "500ms", "PT30S"; "0s"
 * for no budget); past it the run fails, and its outputs are capped.
 *
 * The combined program is not a sandbox between the programs of one
 * cartridge: they share an author.  Not thread-safe: a compile unsets
 * HOME for its duration.  Ownership follows jv.h: arguments documented
 * as consumed are freed by the call whatever it returns.
 */
#ifndef OSM_JQPROG_H
#define OSM_JQPROG_H

#include <jv.h>

#include "diag.h"
#include "xalloc.h"

/* A run that yields more outputs than this fails (runaway programs). */
#define JQPROG_MAX_OUTPUTS 100000

/* The CPU time a run may take when OSM_JQ_BUDGET does not say. */
#define JQPROG_BUDGET_MS 10000

typedef struct jqprog jqprog;

/* An empty set of programs.  Never returns NULL. */
jqprog *jqprog_new(void);

void jqprog_free(jqprog *p);

/*
 * Add a program; name is used in messages (e.g. "cartridge.json:
 * functions.bill.request" or "validate.jq").  Both strings are copied.
 * Returns the program's index, counting from 0, or -1 once the set has
 * been compiled (a set is compiled once and then fixed).
 */
int jqprog_add(jqprog *p, const char *name, const char *src);

int jqprog_count(const jqprog *p);

/* The name given to program idx, or NULL when there is no such program. */
const char *jqprog_name(const jqprog *p, int idx);

/* The text of program idx, or NULL when there is no such program. */
const char *jqprog_source(const jqprog *p, int idx);

/*
 * Compile every program added, as one jq program.  Returns 0, or
 * OSM_ECONFIG when some do not compile or OSM_JQ_BUDGET is not a duration (OSM_ESOFTWARE when jq cannot be
 * initialised).  When problems is non-NULL it is set, whatever the
 * result, to an array (the caller's) of {"name": NAME, "message": MSG}
 * objects, one per faulty program, MSG being jq's own compile error on
 * one line ("syntax error, unexpected ')' at line 3", "f/0 is not
 * defined").  err->msg is "NAME: MSG" for a single faulty program, "N jq
 * programs do not compile" for several.  Compiling again is a no-op.
 */
int jqprog_compile(jqprog *p, jv *problems, osm_err *err);

/*
 * Compile one program alone, in the same surroundings (its variables
 * defined), to check it.  Returns 0, or OSM_ECONFIG with err->msg
 * "NAME: MSG".
 */
int jqprog_check(const char *name, const char *src, osm_err *err);

/*
 * Run program idx over input with environment env (an object or null;
 * both consumed).  All of them return OSM_EDATA with err->msg
 * "NAME: MESSAGE" on a jq error (error(V) with a non-string V gives V
 * as JSON), on halt_error with a non-zero status, past
 * JQPROG_MAX_OUTPUTS outputs, or past the budget ("NAME: stopped after
 * its budget of PT10S of CPU time (OSM_JQ_BUDGET)"); and OSM_ESOFTWARE for an index out of
 * range, a set not compiled, or an env that is not an object.  *out is
 * always set, to jv_null() on failure, so freeing it is always safe.
 * halt, and halt_error with status 0, end the outputs normally.
 *
 * jqprog_run:   0 with *out an array of every output.
 * jqprog_run1:  0 with *out the first output (the run stops there);
 *               OSM_EDATA "NAME: produced no output" when there is none.
 * jqprog_first: 1 with *out the first output, or 0 when the program
 *               produced none (*out null): for programs whose "empty" is
 *               a valid answer.  Other returns are statuses, as above.
 */
int jqprog_run(jqprog *p, int idx, jv input, jv env, jv *out, osm_err *err);
int jqprog_run1(jqprog *p, int idx, jv input, jv env, jv *out, osm_err *err);
int jqprog_first(jqprog *p, int idx, jv input, jv env, jv *out,
                 osm_err *err);

/*
 * Programs running programs: append to sb the jq expression that, in the
 * text of a program added after program idx, runs program idx over "."
 * with the environment env: pairs of a member's name and a jq expression
 * for its value, NULL-terminated, in the order $env is to list them.
 * Program idx sees them as its variables, as with jqprog_run()'s env.
 * One run can so do the work of several, saving the fixed cost of each
 * (a few microseconds, more than a small program's own work).  An error
 * in program idx is an error of the program that runs it.  Returns 0, or
 * -1 (sb unchanged) when idx is not a program or the set is compiled.
 * Example:
 *   const char *env[] = { "now", "$now", "order", ".", NULL };
 *   jqprog_call(p, &sb, k, env);
 */
int jqprog_call(jqprog *p, strbuf *sb, int idx, const char *const *env);

/* jq truthiness: 0 for false and null, 1 otherwise.  v is not consumed. */
int jqprog_truthy(jv v);

/*
 * Set the CPU time each run may take from now on, in milliseconds (0 for
 * no budget), instead of OSM_JQ_BUDGET's or the default.
 */
void jqprog_set_budget(int64_t ms);

/* How many jq compiles this process has made (for tests and -v). */
unsigned long jqprog_compile_count(void);

#endif

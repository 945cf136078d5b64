/*
 * Compile-once jq programs: many small programs compiled as one jq
 * program, each run selecting its own by index.
 *
 * The combined program is
 *
 *   PRELUDE def f0: BIND0 (\nPROG0\n);\ndef f1: BIND1 (\nPROG1\n);\n...
 *   $__in | if $__k < 2 then (if $__k < 1 then f0 else f1 end) else ...
 *
 * where PRELUDE (one line) silences the builtins that would print or read
 * our stdin and binds the input [$__k, $__env, $__in]; BINDi binds those
 * variables of jqprog.h that PROGi names ("($__env.now) as $now | ");
 * and the dispatch is a balanced tree of comparisons (index N, one past
 * the last program, is a bare "halt": see scrub_halt()).  The newline
 * before each ")" keeps a trailing "# comment" from eating it.  jq only
 * checks a function that is called, and every fN is.
 *
 * A program that another runs (jqprog_call()) takes the variables it
 * names as arguments instead, "def fI(__v_now; __v_order): __v_now as
 * $now | __v_order as $order | (\nPROGI\n);" ($env last), and the
 * dispatch calls it as "fI($__env.now; $__env.order)"; one that names
 * none is a bare "def fI: (\nPROGI\n);".  (Not "def fI($now)", which
 * would also define now/0 in PROGI, hiding jq's builtin; so would $env
 * hide env.)  Only those: in jq 1.6 an argument costs some 2,000
 * instructions a call, and a program run from C needs none.
 *
 * When the combined program does not compile, each program is compiled
 * alone (the same prelude, a stub "def fJ(...): empty; " for each
 * program J before it that is run by others, then "def fI: BIND
 * (\nPROG\n);\n$__in | fI", so PROG's line N is jq's line N + 1) to pin
 * each message on its program.
 *
 * libjq 1.6 facts this relies on: jq_compile() imports ~/.jq from $HOME
 * in the library itself (a broken ~/.jq breaks every compile), so HOME
 * is unset around each compile; the "stderr" builtin writes to our
 * stderr directly, so the prelude redefines it; "debug" goes through the
 * debug callback; compile errors go through the error callback as
 * "jq: error: MSG at <top-level>, line N:\nSOURCE LINE" followed by
 * "jq: N compile error"; jq_start() resets a previous, unfinished or
 * halted run, so one jq_state serves every run -- except that it frees
 * a halt's message twice over two runs (scrub_halt() works around it);
 * jq_next() tests the state's "halted" flag before every instruction, and
 * jq_halt() with values that own no memory only stores them and the flag
 * (which is what lets the budget below stop a run from a signal handler).
 *
 * The budget.  A run may use JQPROG_BUDGET_MS of CPU time (OSM_JQ_BUDGET
 * sets another, "0s" none).  A process CPU-time interval timer
 * (ITIMER_VIRTUAL: user time, which a jq run is) is armed at the first
 * run and ticks every BUDGET_TICKS-th of the budget; its handler counts
 * the ticks of the run under way and halts it at the BUDGET_TICKS-th, so
 * a run is stopped after between 7/8 of its budget and all of it.  The
 * run then ends as a halt does, with its own error; the state is reset
 * by the next jq_start() as after any halt.  One builtin call (a sort, a
 * regular expression) is one instruction and ends before the halt is
 * seen.  The timer counts only user time, when the process is not in a
 * system call, so its signal interrupts none.
 */
#include "config.h"

#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <jq.h>
#include <jv.h>

#include "clock.h"
#include "diag.h"
#include "jqprog.h"
#include "xalloc.h"

#define PRELUDE \
    "def stderr: .; def input: error(\"No more inputs\"); " \
    "def inputs: empty; . as [$__k, $__env, $__in] | "

/*
 * The variables of jqprog.h.  Each program binds only those its text
 * names: binding all seven costs more than the rest of a typical run.
 * Last, and not a member of the environment: $env, the whole of it.
 */
static const char *const variables[] = {
    "now", "order", "item", "task", "old", "new", "env", NULL
};
#define VAR_ENV (1u << 6)

/* Keep at most this many compile messages per compile. */
#define MAX_MESSAGES 64

struct jqprog {
    int n, cap;
    char **names;
    char **srcs;
    unsigned char *called;  /* run by another program (jqprog_call()) */
    unsigned char *uses;    /* the variables each names, a bit per variables[] */
    int compiled;
    jq_state *jq;       /* the combined program, once compiled */
    jv msgs;            /* error callback messages of the last compile */
};

static unsigned long compile_count;

#define BUDGET_TICKS 8

static int64_t budget_ms = -1;          /* -1: OSM_JQ_BUDGET not read yet */
static int budget_armed;                /* the timer and its handler are set */
static jq_state *volatile budget_jq;    /* the run being watched, or NULL */
static volatile sig_atomic_t budget_ticks, budget_hit;

static void
budget_tick(int sig)
{
    jq_state *jq = budget_jq;

    (void)sig;
    if (!jq || ++budget_ticks < BUDGET_TICKS || jq_halted(jq))
        return;
    budget_hit = 1;
    jq_halt(jq, jv_number(1), jv_null());
}

/* Read OSM_JQ_BUDGET once.  Returns 0, or OSM_ECONFIG when it is not a duration. */
static int
budget_load(osm_err *err)
{
    const char *v;
    osm_err e = { 0, "" };

    if (budget_ms >= 0)
        return 0;
    budget_ms = JQPROG_BUDGET_MS;
    v = secure_getenv("OSM_JQ_BUDGET");
    if (v && *v && duration_parse_arg(v, &budget_ms, &e) != 0) {
        budget_ms = JQPROG_BUDGET_MS;
        return osm_fail(err, OSM_ECONFIG, "OSM_JQ_BUDGET: %s", e.msg);
    }
    return 0;
}

/* Set the timer ticking for budget_ms (stopped when there is none). */
static void
budget_timer(void)
{
    struct itimerval it;
    int64_t tick = budget_ms > 0 ? budget_ms / BUDGET_TICKS : 0;

    if (budget_ms > 0 && tick < 1)
        tick = 1;
    it.it_interval.tv_sec = (time_t)(tick / 1000);
    it.it_interval.tv_usec = (suseconds_t)(tick % 1000 * 1000);
    it.it_value = it.it_interval;
    setitimer(ITIMER_VIRTUAL, &it, NULL);
}

/*
 * Stop the timer at exit: LeakSanitizer's check at exit stops the process
 * under ptrace, and a timer still ticking keeps it from ever finishing.
 */
static void
budget_stop(void)
{
    budget_ms = 0;
    budget_timer();
}

/* Arm the timer, once, when there is a budget. */
static void
budget_arm(void)
{
    struct sigaction sa;

    if (budget_armed || budget_ms <= 0)
        return;
    budget_armed = 1;
    atexit(budget_stop);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = budget_tick;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGVTALRM, &sa, NULL) == 0)
        budget_timer();
}

void
jqprog_set_budget(int64_t ms)
{
    budget_ms = ms > 0 ? ms : 0;
    if (budget_armed)
        budget_timer();
}


/* Whether src names the variable $name (or something longer: harmless). */
static int
uses_variable(const char *src, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = src; (p = strchr(p, '$')) != NULL; p++)
        if (strncmp(p + 1, name, n) == 0)
            return 1;
    return 0;
}

/* The variables src names, a bit per variables[]. */
static unsigned
variables_used(const char *src)
{
    unsigned set = 0;

    for (int v = 0; variables[v]; v++)
        if (uses_variable(src, variables[v]))
            set |= 1u << v;
    return set;
}

unsigned long
jqprog_compile_count(void)
{
    return compile_count;
}

jqprog *
jqprog_new(void)
{
    jqprog *p = xcalloc(1, sizeof *p);
    p->msgs = jv_array();
    return p;
}

void
jqprog_free(jqprog *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++) {
        free(p->names[i]);
        free(p->srcs[i]);
    }
    free(p->names);
    free(p->srcs);
    free(p->called);
    free(p->uses);
    if (p->jq)
        jq_teardown(&p->jq);
    jv_free(p->msgs);
    free(p);
}

int
jqprog_add(jqprog *p, const char *name, const char *src)
{
    if (p->compiled)
        return -1;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->names = xrealloc(p->names, (size_t)p->cap * sizeof *p->names);
        p->srcs = xrealloc(p->srcs, (size_t)p->cap * sizeof *p->srcs);
        p->called = xrealloc(p->called, (size_t)p->cap * sizeof *p->called);
        p->uses = xrealloc(p->uses, (size_t)p->cap * sizeof *p->uses);
    }
    p->names[p->n] = xstrdup(name);
    p->srcs[p->n] = xstrdup(src);
    p->called[p->n] = 0;
    p->uses[p->n] = (unsigned char)variables_used(src);
    return p->n++;
}

int
jqprog_count(const jqprog *p)
{
    return p->n;
}

const char *
jqprog_name(const jqprog *p, int idx)
{
    return idx >= 0 && idx < p->n ? p->names[idx] : NULL;
}

const char *
jqprog_source(const jqprog *p, int idx)
{
    return idx >= 0 && idx < p->n ? p->srcs[idx] : NULL;
}

int
jqprog_truthy(jv v)
{
    jv_kind k = jv_get_kind(v);
    return k != JV_KIND_NULL && k != JV_KIND_FALSE;
}

/* ------------------------------------------------------------ callbacks */

/* Error callback: keep the message (compile errors) in a jv array. */
static void
collect_error(void *data, jv msg)
{
    jv *msgs = data;

    if (jv_array_length(jv_copy(*msgs)) < MAX_MESSAGES)
        *msgs = jv_array_append(*msgs, msg);
    else
        jv_free(msg);
}

/* Debug callback: "debug" prints nothing. */
static void
ignore_debug(void *data, jv msg)
{
    (void)data;
    jv_free(msg);
}

/* Input callback: there are never inputs. */
static jv
no_input(jq_state *jq, void *data)
{
    (void)jq;
    (void)data;
    return jv_invalid();
}

static _Noreturn void
jq_out_of_memory(void *data)
{
    (void)data;
    diag_die(OSM_ESOFTWARE, "out of memory");
}

/* A jq_state with our callbacks, messages going to *msgs; NULL on failure. */
static jq_state *
jq_new(jv *msgs)
{
    jq_state *jq = jq_init();

    if (!jq)
        return NULL;
    jq_set_error_cb(jq, collect_error, msgs);
    jq_set_debug_cb(jq, ignore_debug, NULL);
    jq_set_input_cb(jq, no_input, NULL);
    jq_set_nomem_handler(jq, jq_out_of_memory, NULL);
    return jq;
}

/*
 * jq_compile() with $HOME out of the way, so that libjq does not import
 * the user's ~/.jq.  Returns jq_compile()'s result (non-zero on success).
 */
static int
compile_src(jq_state *jq, const char *src)
{
    const char *h = getenv("HOME");
    char *home = h ? xstrdup(h) : NULL;
    int ok;

    if (home)
        unsetenv("HOME");
    ok = jq_compile(jq, src);
    if (home) {
        setenv("HOME", home, 1);
        free(home);
    }
    compile_count++;
    return ok;
}

/* ------------------------------------------------------------- messages */

static int
count_lines(const char *s)
{
    int n = 1;
    for (; *s; s++)
        if (*s == '\n')
            n++;
    return n;
}

/* Drop every occurrence of what from the string in sb. */
static void
sb_remove(strbuf *sb, const char *what)
{
    size_t n = strlen(what);
    char *p;

    while ((p = strstr(sb->buf, what)) != NULL) {
        memmove(p, p + n, strlen(p + n) + 1);
        sb->len -= n;
    }
}

/*
 * One compile message of jq, cleaned for people: the first line, without
 * "jq: error: " and the shell quoting hint, its line number made relative
 * to the program (nlines lines, starting at jq's line 2) or dropped for a
 * one-line program or when nlines is negative.  Appends to out; returns 0
 * for jq's "N compile errors" trailer, which says nothing new, and 1
 * otherwise.
 */
static int
clean_message(const char *m, int nlines, strbuf *out)
{
    strbuf sb = STRBUF_INIT;
    const char *nl = strchr(m, '\n');
    char *at;
    long line = 0;
    int used = 0;

    if (strncmp(m, "jq: ", 4) == 0 && isdigit((unsigned char)m[4]) &&
        strstr(m, " compile error"))
        return 0;
    if (strncmp(m, "jq: error: ", 11) == 0)
        m += 11;
    sb_add(&sb, m, nl ? (size_t)(nl - m) : strlen(m));
    sb_remove(&sb, " (Unix shell quoting issues?)");
    at = strstr(sb.buf, " at <top-level>, line ");
    if (at && sscanf(at, " at <top-level>, line %ld%n", &line, &used) == 1 &&
        (at[used] == '\0' || (at[used] == ':' && at[used + 1] == '\0'))) {
        *at = '\0';
        sb.len = (size_t)(at - sb.buf);
        line -= 1;
        if (nlines >= 0 && line > nlines) {
            /* the token jq stumbled on is our wrapper's, not the user's */
            static const char unexp[] = "syntax error, unexpected ";
            if (strncmp(sb.buf, unexp, sizeof unexp - 1) == 0) {
                strbuf fix = STRBUF_INIT;
                const char *rest = strchr(sb.buf + sizeof unexp - 1, ',');
                sb_adds(&fix, unexp);
                sb_adds(&fix, "end of program");
                if (rest)
                    sb_adds(&fix, rest);
                sb_free(&sb);
                sb = fix;
            } else {
                sb_adds(&sb, " at end of program");
            }
        } else if (nlines > 1 && line >= 1)
            sb_addf(&sb, " at line %ld", line);
    }
    /* one line, no trailing blanks */
    for (size_t i = 0; i < sb.len; i++)
        if (sb.buf[i] == '\r' || sb.buf[i] == '\t')
            sb.buf[i] = ' ';
    while (sb.len > 0 && sb.buf[sb.len - 1] == ' ')
        sb.buf[--sb.len] = '\0';
    if (out->len)
        sb_adds(out, "; ");
    sb_add(out, sb.buf, sb.len);
    sb_free(&sb);
    return 1;
}

/* The messages collected in msgs, cleaned and joined; malloc'ed. */
static char *
take_messages(jv *msgs, int nlines)
{
    strbuf out = STRBUF_INIT;
    jv list = *msgs;

    *msgs = jv_array();
    jv_array_foreach(list, i, m) {
        if (jv_get_kind(m) == JV_KIND_STRING)
            clean_message(jv_string_value(m), nlines, &out);
        jv_free(m);
    }
    jv_free(list);
    if (out.len == 0)
        sb_adds(&out, "does not compile");
    return sb_detach(&out, NULL);
}

/* ---------------------------------------------------------- compiling */

/* "fI" or, when uses is not empty, "fI(__v_now; __v_order)": a signature. */
static void
add_signature(strbuf *sb, int i, unsigned uses)
{
    const char *sep = "(";

    sb_addf(sb, "f%d", i);
    for (int v = 0; variables[v]; v++)
        if (uses & (1u << v)) {
            sb_addf(sb, "%s__v_%s", sep, variables[v]);
            sep = "; ";
        }
    if (uses)
        sb_adds(sb, ")");
}

/*
 * "def fI: BINDINGS (\nSRC\n);\n" -- SRC starts on a line of its own,
 * BINDINGS binds its variables from the environment $__env -- or, for a
 * program others run, "def fI(__v_now): __v_now as $now | (\nSRC\n);\n".
 */
static void
add_def(strbuf *sb, int i, int called, const char *src)
{
    unsigned uses = variables_used(src);

    sb_adds(sb, "def ");
    if (called) {
        add_signature(sb, i, uses);
        sb_adds(sb, ": ");
        for (int v = 0; variables[v]; v++)
            if (uses & (1u << v))
                sb_addf(sb, "__v_%s as $%s | ", variables[v], variables[v]);
    } else {
        sb_addf(sb, "f%d: ", i);
        if (uses & VAR_ENV)
            sb_adds(sb, "$__env as $env | ");
        for (int v = 0; variables[v]; v++)
            if ((uses & (1u << v)) && (1u << v) != VAR_ENV)
                sb_addf(sb, "($__env.%s) as $%s | ", variables[v], variables[v]);
    }
    sb_adds(sb, "(\n");
    sb_adds(sb, src);
    sb_adds(sb, "\n);\n");
}

/*
 * A call of program i, which names the variables uses: "fI", or "fI(A;
 * B)" with each argument the expression env gives for that variable
 * (pairs of name and expression, NULL-terminated; NULL env: the members
 * of $__env), null when it gives none, and for $env an object of them all.
 */
static void
add_call(strbuf *sb, int i, unsigned uses, const char *const *env)
{
    const char *sep = "(";

    sb_addf(sb, "f%d", i);
    for (int v = 0; variables[v]; v++) {
        if (!(uses & (1u << v)))
            continue;
        sb_adds(sb, sep);
        sep = "; ";
        if ((1u << v) == VAR_ENV) {
            if (!env) {
                sb_adds(sb, "$__env");
                continue;
            }
            sb_adds(sb, "{");
            for (int k = 0; env[k] && env[k + 1]; k += 2)
                sb_addf(sb, "%s%s: (%s)", k ? ", " : "", env[k], env[k + 1]);
            sb_adds(sb, "}");
            continue;
        }
        if (!env) {
            sb_addf(sb, "($__env.%s)", variables[v]);
            continue;
        }
        const char *expr = "null";
        for (int k = 0; env[k] && env[k + 1]; k += 2)
            if (strcmp(env[k], variables[v]) == 0)
                expr = env[k + 1];
        sb_addf(sb, "(%s)", expr);
    }
    if (uses)
        sb_adds(sb, ")");
}

/*
 * A balanced dispatch on $__k over programs [lo, hi) of p; index p->n
 * is the scrubber, a bare "halt" (see scrub_halt()).
 */
static void
add_dispatch(strbuf *sb, const jqprog *p, int lo, int hi)
{
    int mid;

    if (hi - lo == 1) {
        if (lo == p->n)
            sb_adds(sb, "halt");
        else if (p->called[lo])
            add_call(sb, lo, p->uses[lo], NULL);
        else
            sb_addf(sb, "f%d", lo);
        return;
    }
    mid = lo + (hi - lo) / 2;
    sb_addf(sb, "if $__k < %d then ", mid);
    add_dispatch(sb, p, lo, mid);
    sb_adds(sb, " else ");
    add_dispatch(sb, p, mid, hi);
    sb_adds(sb, " end");
}

/*
 * Compile program i of p alone in jq (wrapped), after stubs for the
 * programs before it that it may run; p NULL: src alone, as program 0.
 * Returns NULL when it compiles, else its cleaned message (malloc'ed).
 */
static char *
compile_alone(jq_state *jq, jv *msgs, const jqprog *p, int i, const char *src)
{
    strbuf sb = STRBUF_INIT;
    char *msg = NULL;

    sb_adds(&sb, PRELUDE);
    for (int j = 0; p && j < i; j++)
        if (p->called[j]) {
            sb_adds(&sb, "def ");
            add_signature(&sb, j, p->uses[j]);
            sb_adds(&sb, ": empty; ");
        }
    add_def(&sb, i, 0, src);
    sb_addf(&sb, "$__in | f%d", i);
    jv_free(*msgs);
    *msgs = jv_array();
    if (!compile_src(jq, sb.buf))
        msg = take_messages(msgs, count_lines(src));
    sb_free(&sb);
    return msg;
}

int
jqprog_check(const char *name, const char *src, osm_err *err)
{
    jv msgs = jv_array();
    jq_state *jq = jq_new(&msgs);
    char *msg;
    int rc = 0;

    if (!jq) {
        jv_free(msgs);
        return osm_fail(err, OSM_ESOFTWARE, "cannot initialise jq");
    }
    msg = compile_alone(jq, &msgs, NULL, 0, src);
    if (msg) {
        rc = osm_fail(err, OSM_ECONFIG, "%s: %s", name, msg);
        free(msg);
    }
    jq_teardown(&jq);
    jv_free(msgs);
    return rc;
}

/*
 * The combined program failed: compile each program alone to find the
 * faulty ones.  Fills *problems (when set) and err; returns OSM_ECONFIG.
 */
static int
attribute_errors(jqprog *p, jv *problems, osm_err *err)
{
    jv list = jv_array();
    char *combined = take_messages(&p->msgs, -1);
    int bad = 0, first = -1;
    char *first_msg = NULL;

    for (int i = 0; i < p->n; i++) {
        char *msg = compile_alone(p->jq, &p->msgs, p, i, p->srcs[i]);
        if (!msg)
            continue;
        list = jv_array_append(list, JV_OBJECT(
            jv_string("name"), jv_string(p->names[i]),
            jv_string("message"), jv_string(msg)));
        if (bad++ == 0) {
            first = i;
            first_msg = msg;
        } else {
            free(msg);
        }
    }
    if (bad == 0) {
        /* each compiles alone: something between them (should not be) */
        list = jv_array_append(list, JV_OBJECT(
            jv_string("name"), jv_string("(all programs)"),
            jv_string("message"), jv_string(combined)));
        osm_fail(err, OSM_ECONFIG, "jq programs do not compile together: %s",
                 combined);
    } else if (bad == 1) {
        osm_fail(err, OSM_ECONFIG, "%s: %s", p->names[first], first_msg);
    } else {
        osm_fail(err, OSM_ECONFIG, "%d jq programs do not compile", bad);
    }
    free(first_msg);
    free(combined);
    if (problems)
        *problems = list;
    else
        jv_free(list);
    return OSM_ECONFIG;
}

int
jqprog_compile(jqprog *p, jv *problems, osm_err *err)
{
    strbuf sb = STRBUF_INIT;
    int rc = 0;

    if (problems)
        *problems = jv_array();
    if (p->compiled)
        return 0;
    if (p->n == 0) {
        p->compiled = 1;
        return 0;
    }
    if ((rc = budget_load(err)) != 0)
        return rc;
    p->jq = jq_new(&p->msgs);
    if (!p->jq)
        return osm_fail(err, OSM_ESOFTWARE, "cannot initialise jq");

    sb_adds(&sb, PRELUDE);
    for (int i = 0; i < p->n; i++)
        add_def(&sb, i, p->called[i], p->srcs[i]);
    sb_adds(&sb, "$__in | ");
    add_dispatch(&sb, p, 0, p->n + 1);

    if (compile_src(p->jq, sb.buf)) {
        p->compiled = 1;
        jv_free(p->msgs);
        p->msgs = jv_array();
    } else {
        if (problems)
            jv_free(*problems);
        rc = attribute_errors(p, problems, err);
        jq_teardown(&p->jq);
    }
    sb_free(&sb);
    return rc;
}

int
jqprog_call(jqprog *p, strbuf *sb, int idx, const char *const *env)
{
    if (p->compiled || idx < 0 || idx >= p->n)
        return -1;
    p->called[idx] = 1;
    add_call(sb, idx, p->uses[idx], env);
    return 0;
}

/* -------------------------------------------------------------- running */

/* A jq error value as one line of text: strings as they are, else JSON. */
static void
render_error(jv msg, strbuf *out)
{
    size_t start = out->len;

    if (jv_get_kind(msg) == JV_KIND_STRING) {
        sb_add(out, jv_string_value(msg),
               (size_t)jv_string_length_bytes(jv_copy(msg)));
    } else {
        jv s = jv_dump_string(jv_copy(msg), 0);
        sb_adds(out, jv_string_value(s));
        jv_free(s);
    }
    jv_free(msg);
    for (size_t i = start; i < out->len; i++)
        if (out->buf[i] == '\n' || out->buf[i] == '\r' ||
            out->buf[i] == '\0' || out->buf[i] == '\t')
            out->buf[i] = ' ';
    while (out->len > start && out->buf[out->len - 1] == ' ')
        out->buf[--out->len] = '\0';
}

static int
fail_with(jqprog *p, int idx, jv msg, osm_err *err)
{
    strbuf sb = STRBUF_INIT;
    int rc;

    render_error(msg, &sb);
    rc = osm_fail(err, OSM_EDATA, "%s: %s", p->names[idx],
                  sb.len ? sb.buf : "error");
    sb_free(&sb);
    return rc;
}

/*
 * After jq_next() ended without an error message: a halt with a
 * non-zero status is an error (returns OSM_EDATA), anything else the
 * normal end of the outputs (returns 0).
 */
static int
check_halt(jqprog *p, int idx, osm_err *err)
{
    jv code, msg;
    double status;

    if (!jq_halted(p->jq))
        return 0;
    code = jq_get_exit_code(p->jq);
    msg = jq_get_error_message(p->jq);
    status = jv_get_kind(code) == JV_KIND_NUMBER ? jv_number_value(code) : 0;
    jv_free(code);
    if (!(status < 0 || status > 0)) {
        jv_free(msg);
        return 0;
    }
    if (!jv_is_valid(msg) || jv_get_kind(msg) == JV_KIND_NULL ||
        (jv_get_kind(msg) == JV_KIND_STRING &&
         jv_string_length_bytes(jv_copy(msg)) == 0)) {
        jv_free(msg);
        return osm_fail(err, OSM_EDATA, "%s: halted with status %g",
                        p->names[idx], status);
    }
    return fail_with(p, idx, msg, err);
}

/*
 * libjq 1.6 frees the value a halt leaves (halt_error's message) at the
 * next jq_start() without forgetting it, and frees it again at the one
 * after (jq issue #2358): heap corruption when the message is a string
 * or an object.  So after a halt, run the scrubber program, a bare
 * "halt": its jq_start() frees the message once, and its own halt
 * leaves nothing allocated to free again.
 */
static void
scrub_halt(jqprog *p)
{
    jq_start(p->jq, JV_ARRAY(jv_number(p->n), jv_object(), jv_null()), 0);
    jv_free(jq_next(p->jq));
}

/*
 * The common part of the run functions.  With first set, stops at the
 * first output and returns 1 with it, or 0 with none; otherwise returns
 * 0 with the array of every output.  Other returns are statuses.
 */
static int
run(jqprog *p, int idx, jv input, jv env, int first, jv *out, osm_err *err)
{
    jv outs = jv_array();
    int n = 0, rc;

    *out = jv_null();
    if (!p->compiled || idx < 0 || idx >= p->n || !p->jq) {
        jv_free(input);
        jv_free(env);
        jv_free(outs);
        if (!p->compiled)
            return osm_fail(err, OSM_ESOFTWARE, "jq programs not compiled");
        return osm_fail(err, OSM_ESOFTWARE, "no jq program %d", idx);
    }
    if (jv_get_kind(env) == JV_KIND_NULL) {
        jv_free(env);
        env = jv_object();
    } else if (jv_get_kind(env) != JV_KIND_OBJECT) {
        jv_free(input);
        jv_free(env);
        jv_free(outs);
        return osm_fail(err, OSM_ESOFTWARE,
                        "%s: environment is not an object", p->names[idx]);
    }

    jq_start(p->jq, JV_ARRAY(jv_number(idx), env, input), 0);
    budget_arm();
    budget_ticks = 0;
    budget_hit = 0;
    budget_jq = p->jq;      /* after jq_start(), which resets the halt */
    for (;;) {
        jv v = jq_next(p->jq);
        if (jv_is_valid(v)) {
            if (first) {
                budget_jq = NULL;
                jv_free(outs);
                *out = v;
                return 1;
            }
            if (++n > JQPROG_MAX_OUTPUTS) {
                budget_jq = NULL;
                jv_free(v);
                jv_free(outs);
                return osm_fail(err, OSM_EDATA, "%s: more than %d outputs",
                                p->names[idx], JQPROG_MAX_OUTPUTS);
            }
            outs = jv_array_append(outs, v);
            continue;
        }
        budget_jq = NULL;
        if (jv_invalid_has_msg(jv_copy(v))) {
            jv_free(outs);
            return fail_with(p, idx, jv_invalid_get_msg(v), err);
        }
        jv_free(v);
        break;
    }
    if (budget_hit) {
        char d[CLOCK_DURATION_MAX];
        duration_format(budget_ms, d);
        rc = osm_fail(err, OSM_EDATA, "%s: stopped after its budget of %s of CPU time "
                      "(OSM_JQ_BUDGET)", p->names[idx], d);
    } else {
        rc = check_halt(p, idx, err);
    }
    if (jq_halted(p->jq))
        scrub_halt(p);
    if (rc != 0 || first) {
        jv_free(outs);
        return rc;
    }
    *out = outs;
    return 0;
}

int
jqprog_run(jqprog *p, int idx, jv input, jv env, jv *out, osm_err *err)
{
    return run(p, idx, input, env, 0, out, err);
}

int
jqprog_first(jqprog *p, int idx, jv input, jv env, jv *out, osm_err *err)
{
    return run(p, idx, input, env, 1, out, err);
}

int
jqprog_run1(jqprog *p, int idx, jv input, jv env, jv *out, osm_err *err)
{
    int rc = run(p, idx, input, env, 1, out, err);

    if (rc == 1)
        return 0;
    if (rc == 0)
        return osm_fail(err, OSM_EDATA, "%s: produced no output",
                        p->names[idx]);
    return rc;
}

/*
 * Hooks: running an external system's command (DESIGN §8, §14).
 *
 * A hook is a command line run in its own process group, with the
 * request on its stdin and the order's identifiers in its environment;
 * order data never reaches the command line.  Its stdout is captured up
 * to a cap, its stderr as a bounded excerpt (head and tail), and a time
 * limit ends the whole process group, TERM first and KILL after a grace
 * period, grandchildren included.
 *
 * Direct exec or sh: a command without shell syntax (hook_needs_shell())
 * is split into words on spaces and tabs and executed directly, its
 * program found as sh would find it: along PATH (the hook's own, after
 * spec.env) when the first word has no '/', else as a path, relative to
 * the hook's directory.  Any other command runs as "/bin/sh -c COMMAND".
 * The caller sees no difference but one process less: a program that
 * cannot be found exits 127 and one that cannot be executed 126, with
 * "NAME: not found" (or the reason) on its stderr, as with sh; a file
 * without "#!" is run by /bin/sh.  When the command is executed directly
 * the hook's process is the program itself.
 *
 * osm-run drives many hooks from one thread, so the interface is
 * asynchronous: hook_start() several, hook_poll() them until some have
 * finished, hook_collect() those.  hook_run() does all three for one.
 *
 * Every child is reaped: by hook_poll() when it ends, by hook_collect()
 * or hook_abort() otherwise.  No descriptor of ours leaks into a hook
 * (every fd above 2 is closed in the child) and none of a hook's pipes
 * outlives its hook.
 *
 * SIGPIPE: the process-wide disposition is never changed.  Writes to a
 * hook's stdin are made with SIGPIPE blocked (sigprocmask), and a SIGPIPE
 * they raise is consumed before the mask is restored, so a hook that does
 * not read its input costs an EPIPE, which is not an error.  Single
 * threaded callers only (sigprocmask).
 *
 * Children: hooks are reaped by pid, never with waitpid(-1).  A caller
 * must not reap them itself nor set SIGCHLD to SIG_IGN (which makes the
 * kernel reap them): the exit status would be lost, and the hook would
 * report neither an exit nor a signal.
 *
 * Ownership: hook_start() copies what it needs from the spec (the input
 * included); the spec may be freed once it returns.  A hook_result owns
 * its strings; hook_result_free() releases them.
 */
#ifndef OSM_HOOK_H
#define OSM_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define HOOK_GRACE_MS_DEFAULT   2000
#define HOOK_MAX_STDOUT_DEFAULT (1024UL * 1024)
#define HOOK_MAX_STDERR_DEFAULT (8UL * 1024)

typedef struct hook_spec {
    const char *command;    /* executed directly, or as /bin/sh -c COMMAND
                               (see the top) */
    const char *cwd;        /* directory to run in, or NULL: ours */
    char *const *env;       /* "NAME=value" entries added to (overriding)
                               the inherited environment, NULL-terminated,
                               or NULL; a bare "NAME" removes NAME */
    const void *input;      /* written to the hook's stdin, then closed */
    size_t input_len;
    int64_t timeout_ms;     /* run time limit; 0 (or less): none */
    int64_t grace_ms;       /* TERM to KILL; 0 (or less): 2000 */
    size_t max_stdout;      /* stdout cap in bytes; 0: 1 MiB */
    size_t max_stderr;      /* stderr kept; 0: 8 KiB */
} hook_spec;

typedef struct hook_result {
    int exited;             /* 1: exited normally, exit_status valid */
    int exit_status;
    int signal;             /* the signal that ended it, or 0 */
    int timed_out;          /* killed for running past timeout_ms */
    int stdout_overflow;    /* printed more than max_stdout: killed, out
                               holds the first max_stdout bytes */
    char *out;              /* stdout, NUL-terminated (may hold NULs) */
    size_t out_len;
    char *err;              /* stderr: all of it when it fits in
                               max_stderr, else the first half and the
                               last half with "\n[... N bytes cut ...]\n"
                               between; NUL-terminated */
    size_t err_len;
    int64_t duration_ms;    /* start to finish, monotonic */
    char *spawn_error;      /* non-NULL: could not be started (cwd
                               missing, /bin/sh not executable); nothing
                               else is valid then.  A program that
                               cannot be found or executed is not a spawn
                               error but exit status 127 or 126 */
} hook_result;

typedef struct hook hook;

/*
 * Does command need /bin/sh?  1 when it holds any of
 *     | & ; < > ( ) $ ` \ " ' * ? [ ] # ~ { } ! newline
 * when its first word is an assignment (holds '='), a reserved word
 * (if, for, while, ...) or a builtin of sh (cd, exit, exec, echo, kill,
 * pwd, test, true, ...), or when it is empty or blank; else 0 and it is
 * split on spaces and tabs and executed directly.
 */
int hook_needs_shell(const char *command);

/*
 * Start spec's command.  Returns 0 and sets *out to the running hook, or
 * OSM_EIO (pipes) / OSM_ESOFTWARE (fork) with err filled in and *out
 * untouched.  A command that cannot be started once forked (cwd missing,
 * exec of /bin/sh failed) is not an error here: the hook comes back
 * already finished with result.spawn_error set.  A program that cannot
 * be found is exit status 127 (126: found, not executable), not a spawn
 * error, whether sh or the direct exec looked for it.
 */
int hook_start(const hook_spec *spec, hook **out, osm_err *err);

/*
 * Service hooks[0..n-1] (NULL entries are skipped): write input without
 * blocking, read output, reap children, enforce time limits and caps.
 * Returns as soon as at least one of them has finished (already finished
 * ones count) or after timeout_ms (-1: no limit; 0: one pass without
 * waiting), with the number finished.  n == 0 returns 0 at once.  Never
 * blocks much longer than timeout_ms.  The same as
 * hook_poll_all(hooks, n, NULL, 0, timeout_ms) (see hookproc.h).
 */
int hook_poll(hook **hooks, size_t n, int64_t timeout_ms);

int hook_finished(const hook *h);

/*
 * Fill res with h's outcome and free h.  h should be finished; if it is
 * not, its process group is killed (KILL at once) and reaped first, and
 * res describes that.
 */
void hook_collect(hook *h, hook_result *res);

/*
 * Stop a hook for shutdown: TERM its process group, wait up to the grace
 * for the child to end, KILL the group, reap the child, free h.  The
 * outcome is discarded.  h may be finished; NULL is a no-op.
 */
void hook_abort(hook *h);

/* Free res's strings and zero it. */
void hook_result_free(hook_result *res);

/* hook_start(), hook_poll() until finished, hook_collect(). */
int hook_run(const hook_spec *spec, hook_result *res, osm_err *err);

#endif

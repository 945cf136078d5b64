/*
 * Persistent hook processes: one long-lived process serving many tasks
 * of a system declared "mode": "persistent" (DESIGN §8), after git's
 * long-running filter process.
 *
 * Protocol: osm writes one request per line on the process's stdin
 * (compact JSON, newline-terminated); the process answers each with one
 * line on its stdout, a JSON object.  An answer with "task": N (an
 * integer) belongs to the request in flight sent with tag N (the oldest
 * of them if the caller reused a tag); an answer without "task" (or with
 * "task": null) to the oldest request in flight.  Several requests may be
 * in flight at once; answers may come in any order.
 *
 * The process is started lazily by hookproc_send(), with the same rules
 * as a one-shot hook (hook.h: direct exec or /bin/sh -c, own process
 * group, environment, directory, signals reset, no descriptor of ours).
 * Requests are buffered and written without blocking; stdout and stderr
 * are read as they come, by hook_poll_all() and hookproc_send(), so a
 * process that writes much stderr is never blocked while the caller
 * polls.  The last 8 KiB of stderr are kept for failures.
 *
 * Failures.  Each ends the process and fails every request in flight on
 * it (only those), with error set:
 *   - the process exits or closes its stdout: "persistent hook exited
 *     with status N" / "persistent hook killed by signal N" (answers it
 *     wrote before are delivered first);
 *   - a request's timeout passes without its answer: "persistent hook
 *     timed out (limit PT30S)" (timed_out set on the requests whose own
 *     limit passed; the others in flight fail with the same text);
 *   - a line that is not a JSON object, or whose "task" is not an integer
 *     or names no request in flight, or any line with nothing in flight:
 *     "persistent hook sent a malformed answer: WHY";
 *   - a line longer than max_line bytes: "persistent hook sent a line
 *     longer than N bytes".
 * Ending it means TERM to its process group, KILL after grace_ms; the
 * failures are ready to take once the process is reaped, with how it
 * ended (exited, exit_status, signal) and the stderr excerpt.
 *
 * Restarts: the next hookproc_send() after a failure starts a new
 * process, but not before a back-off has passed: 100 ms after the first
 * failure, doubling with each failure after it up to 30 s, back to none
 * after an answer arrives.  A process that exits with status 0 while no
 * request is in flight is not a failure (no back-off).
 *
 * Children and SIGPIPE: as in hook.h (reaped by pid only; the process-wide
 * SIGPIPE disposition is never changed; single-threaded callers).
 *
 * Ownership: hookproc_new() copies the spec; hookproc_send() copies the
 * line.  An answer taken with hookproc_take() owns its strings;
 * hookproc_answer_free() releases them.
 */
#ifndef OSM_HOOKPROC_H
#define OSM_HOOKPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "hook.h"

#define HOOKPROC_MAX_LINE_DEFAULT (1024UL * 1024)
#define HOOKPROC_STDERR_KEPT (8UL * 1024)
#define HOOKPROC_BACKOFF_FIRST_MS 100
#define HOOKPROC_BACKOFF_MAX_MS 30000

typedef struct hookproc_spec {
    const char *command;    /* as hook_spec.command: direct exec or sh */
    const char *cwd;        /* directory to run in, or NULL: ours */
    char *const *env;       /* as hook_spec.env */
    size_t max_line;        /* longest answer line in bytes; 0: 1 MiB */
    int64_t grace_ms;       /* TERM to KILL; 0 (or less): 2000 */
} hookproc_spec;

typedef struct hookproc hookproc;

typedef struct hookproc_answer {
    int64_t tag;            /* the tag given to hookproc_send() */
    char *line;             /* the answer line, NUL-terminated, without
                               its newline; NULL on failure */
    size_t line_len;
    char *error;            /* the failure, or NULL */
    char *err_excerpt;      /* on failure: the last stderr of the process
                               (up to 8 KiB), or NULL when it wrote none */
    int64_t duration_ms;    /* from send to answer or failure, monotonic */
    int exited;             /* on failure, how the process ended: */
    int exit_status;        /*   exited normally, with this status, */
    int signal;             /*   or the signal that ended it */
    int timed_out;          /* this request's own time limit passed */
} hookproc_answer;

/*
 * A persistent hook for spec, not started yet.  Returns 0 and sets *out,
 * or OSM_ESOFTWARE with err filled in when spec has no command.
 */
int hookproc_new(const hookproc_spec *spec, hookproc **out, osm_err *err);

/*
 * Queue line (len bytes, without the newline, which is added) as the
 * request tagged tag, to be answered within timeout_ms (0 or less: no
 * limit), starting the process if none is running.  Returns:
 *   0              queued (and written as far as the pipe takes it);
 *   OSM_ETEMPFAIL  not queued: the last process is being stopped, or the
 *                  restart back-off runs; *retry_at (monotonic ms, see
 *                  clock_monotonic_ms()) says when to try again;
 *   OSM_EDATA      not queued: line holds a newline;
 *   OSM_EUNAVAILABLE, OSM_EIO, OSM_ESOFTWARE
 *                  not queued: the process could not be started (its
 *                  directory is missing, /bin/sh cannot run, pipe or
 *                  fork failed); err says why, and the back-off runs.
 * A program that cannot be found is not a start failure: it is a process
 * that exits 127 at once, failing the request.
 */
int hookproc_send(hookproc *p, int64_t tag, const char *line, size_t len,
                  int64_t timeout_ms, int64_t *retry_at, osm_err *err);

/* Requests sent and neither answered nor failed yet. */
size_t hookproc_inflight(const hookproc *p);

/*
 * Take the oldest finished request (answered or failed): returns 1 with
 * *a filled (the caller's; hookproc_answer_free()), or 0 with *a zeroed
 * when none is ready.
 */
int hookproc_take(hookproc *p, hookproc_answer *a);

/* Free a's strings and zero it. */
void hookproc_answer_free(hookproc_answer *a);

/*
 * Stop and free p: close the process's stdin, TERM its group, wait up to
 * the grace for it to end, KILL the group, reap it.  Requests in flight
 * and answers not taken are dropped.  NULL is a no-op.
 */
void hookproc_free(hookproc *p);

/* The process's pid (also while it is being stopped), 0 when none. */
pid_t hookproc_pid(const hookproc *p);

/*
 * One poll(2) over one-shot hooks and persistent processes (NULL entries
 * skipped): writes, reads, reaps and time limits for both.  Returns as
 * soon as at least one hook has finished or one process has an answer or
 * failure to take (those already so count), or after timeout_ms (-1: no
 * limit; 0: one pass without waiting), with how many are ready (hooks
 * finished plus processes with something to take).  When nothing could
 * become ready (no hook, and no process with requests in flight or being
 * stopped) it makes one pass without waiting, reading what idle
 * processes wrote, and returns 0.
 */
int hook_poll_all(hook **hooks, size_t nh, hookproc **procs, size_t np,
                  int64_t timeout_ms);

#endif
